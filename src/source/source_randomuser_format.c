/*
 * source_randomuser_format.c — randomuser responses in JSON, pretty JSON,
 * CSV, YAML and XML.
 *
 * One walk over a user's fields (walk_user) drives five writers through a
 * tiny emitter (obj_begin / obj_end / str / num / null). The writers are a
 * switch, not function pointers, so the compact-JSON hot path stays cheap:
 *
 *   json    {"results":[{...}],"info":{"seed":..,"results":..,"page":..,"version":"1.4"}}
 *   pretty  the same with 2-space indentation
 *   csv     a header of dotted paths (name.first, location.street.number,
 *           ...), then one row per user; the info block is not included
 *   yaml    results: as a list of mappings, info: as a mapping
 *   xml     <user><results>...</results>...<info>...</info></user>
 *
 * inc/exc only hide fields; the users drawn are the same.
 */
#include "source_int.h"

#include <string.h>

typedef struct {
    spate_buf_t *b;
    spate_ru_format_t fmt;
    int depth;
    bool first[8]; /* no member written yet at this depth (JSON commas) */
    /* CSV: the path of keys to the current value */
    const char *path[8];
    int npath;
    bool header;    /* CSV: writing the header line, not values */
    bool first_col; /* CSV: nothing written yet on this line */
    bool oom;
} emit_t;

/* Appends n bytes. The output was reserved for the whole response up
 * front, so this is nearly always a plain copy; the buffer functions are
 * the slow path. */
static inline void put(emit_t *e, const char *s, size_t n) {
    spate_buf_t *b = e->b;
    if (b->cap - b->len <= n && spate_buf_reserve(b, n) != SPATE_OK) {
        e->oom = true;
        return;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}
/* strlen, not sizeof: some callers pass a conditional of two literals. */
#define PUTS(e, s) put((e), (s), strlen(s))

/* A JSON string: plain bytes are copied in runs, and only the rare byte
 * that needs escaping goes through spate_json_put_str. */
static void put_jstr(emit_t *e, const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\') break;
        i++;
    }
    if (i == n) {
        put(e, "\"", 1);
        put(e, s, n);
        put(e, "\"", 1);
    } else if (spate_json_put_str(e->b, s, n) != SPATE_OK) {
        e->oom = true;
    }
}

/* Decimal text of v into tmp (at least 24 bytes); returns the length. */
static size_t fmt_i64(char *tmp, int64_t v) {
    char rev[24];
    size_t n = 0, k = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        rev[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) tmp[k++] = '-';
    while (n) tmp[k++] = rev[--n];
    tmp[k] = '\0';
    return k;
}

static void indent(emit_t *e, int depth) {
    static const char sp[] = "                                ";
    put(e, sp, SPATE_MIN((size_t)depth * 2, sizeof sp - 1));
}

static void xml_text(emit_t *e, const char *s, size_t n) {
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        }
        if (rep) {
            put(e, s + start, i - start);
            put(e, rep, strlen(rep));
            start = i + 1;
        }
    }
    put(e, s + start, n - start);
}

static void csv_field(emit_t *e, const char *s, size_t n) {
    bool quote = false;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        put(e, s, n);
        return;
    }
    PUTS(e, "\"");
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') {
            put(e, s + start, i + 1 - start);
            PUTS(e, "\"");
            start = i + 1;
        }
    }
    put(e, s + start, n - start);
    PUTS(e, "\"");
}

/* Writes the key part of a member at the current depth. */
static void member(emit_t *e, const char *key) {
    switch (e->fmt) {
    case SPATE_RU_FMT_JSON:
        if (!e->first[e->depth]) put(e, ",", 1);
        e->first[e->depth] = false;
        /* keys are our own identifiers: nothing to escape */
        put(e, "\"", 1);
        PUTS(e, key);
        put(e, "\":", 2);
        break;
    case SPATE_RU_FMT_PRETTY:
        PUTS(e, e->first[e->depth] ? "\n" : ",\n");
        e->first[e->depth] = false;
        indent(e, e->depth);
        if (spate_json_put_str(e->b, key, strlen(key)) != SPATE_OK) e->oom = true;
        PUTS(e, ": ");
        break;
    case SPATE_RU_FMT_YAML:
        /* The first member of a list item follows its "- " on the same line. */
        if (!e->first[e->depth]) indent(e, e->depth);
        e->first[e->depth] = false;
        put(e, key, strlen(key));
        PUTS(e, ":");
        break;
    case SPATE_RU_FMT_XML:
        indent(e, e->depth);
        PUTS(e, "<");
        put(e, key, strlen(key));
        PUTS(e, ">");
        break;
    case SPATE_RU_FMT_CSV: break;
    }
}

static void obj_begin(emit_t *e, const char *key) {
    if (e->fmt == SPATE_RU_FMT_CSV) {
        e->path[e->npath++] = key;
        return;
    }
    member(e, key);
    switch (e->fmt) {
    case SPATE_RU_FMT_JSON:
    case SPATE_RU_FMT_PRETTY: PUTS(e, "{"); break;
    case SPATE_RU_FMT_YAML:
    case SPATE_RU_FMT_XML: PUTS(e, "\n"); break;
    case SPATE_RU_FMT_CSV: break;
    }
    e->depth++;
    /* YAML indents every member of a nested mapping; only a list item's
     * first member shares the "- " line (set by the caller). */
    e->first[e->depth] = e->fmt != SPATE_RU_FMT_YAML;
}

static void obj_end(emit_t *e, const char *key) {
    if (e->fmt == SPATE_RU_FMT_CSV) {
        e->npath--;
        return;
    }
    e->depth--;
    switch (e->fmt) {
    case SPATE_RU_FMT_JSON: PUTS(e, "}"); break;
    case SPATE_RU_FMT_PRETTY:
        PUTS(e, "\n");
        indent(e, e->depth);
        PUTS(e, "}");
        break;
    case SPATE_RU_FMT_XML:
        indent(e, e->depth);
        PUTS(e, "</");
        put(e, key, strlen(key));
        PUTS(e, ">\n");
        break;
    case SPATE_RU_FMT_YAML:
    case SPATE_RU_FMT_CSV: break;
    }
}

static void csv_cell(emit_t *e, const char *key, const char *s, size_t n) {
    if (!e->first_col) PUTS(e, ",");
    e->first_col = false;
    if (e->header) {
        for (int i = 0; i < e->npath; i++) {
            put(e, e->path[i], strlen(e->path[i]));
            PUTS(e, ".");
        }
        put(e, key, strlen(key));
    } else {
        csv_field(e, s, n);
    }
}

static void xml_close(emit_t *e, const char *key) {
    PUTS(e, "</");
    put(e, key, strlen(key));
    PUTS(e, ">\n");
}

static void str(emit_t *e, const char *key, ru_str_t v) {
    if (e->fmt == SPATE_RU_FMT_CSV) {
        csv_cell(e, key, v.p, v.n);
        return;
    }
    member(e, key);
    switch (e->fmt) {
    case SPATE_RU_FMT_JSON:
    case SPATE_RU_FMT_PRETTY: put_jstr(e, v.p, v.n); break;
    case SPATE_RU_FMT_YAML:
        /* Double-quoted YAML accepts JSON string escapes. */
        PUTS(e, " ");
        if (spate_json_put_str(e->b, v.p, v.n) != SPATE_OK) e->oom = true;
        PUTS(e, "\n");
        break;
    case SPATE_RU_FMT_XML:
        xml_text(e, v.p, v.n);
        xml_close(e, key);
        break;
    case SPATE_RU_FMT_CSV: break;
    }
}

static void num(emit_t *e, const char *key, int64_t v) {
    char tmp[24];
    size_t n = fmt_i64(tmp, v);
    if (e->fmt == SPATE_RU_FMT_CSV) {
        csv_cell(e, key, tmp, n);
        return;
    }
    member(e, key);
    if (e->fmt == SPATE_RU_FMT_YAML) PUTS(e, " ");
    put(e, tmp, n);
    if (e->fmt == SPATE_RU_FMT_YAML) PUTS(e, "\n");
    if (e->fmt == SPATE_RU_FMT_XML) xml_close(e, key);
}

static void null(emit_t *e, const char *key) {
    if (e->fmt == SPATE_RU_FMT_CSV) {
        csv_cell(e, key, "", 0);
        return;
    }
    member(e, key);
    switch (e->fmt) {
    case SPATE_RU_FMT_JSON: PUTS(e, "null"); break;
    case SPATE_RU_FMT_PRETTY: PUTS(e, "null"); break;
    case SPATE_RU_FMT_YAML: PUTS(e, " null\n"); break;
    case SPATE_RU_FMT_XML: xml_close(e, key); break;
    case SPATE_RU_FMT_CSV: break;
    }
}

static ru_str_t S(const char *s) { return (ru_str_t){s, (uint32_t)strlen(s)}; }

/* The user's fields in the API's order, filtered by the inc/exc mask. */
static void walk_user(emit_t *e, const ru_user_t *u, uint32_t f) {
    if (f & SPATE_RU_F_GENDER) str(e, "gender", S(u->female ? "female" : "male"));
    if (f & SPATE_RU_F_NAME) {
        obj_begin(e, "name");
        str(e, "title", u->title);
        str(e, "first", u->first);
        str(e, "last", u->last);
        obj_end(e, "name");
    }
    if (f & SPATE_RU_F_LOCATION) {
        obj_begin(e, "location");
        obj_begin(e, "street");
        num(e, "number", u->street_number);
        str(e, "name", u->street);
        obj_end(e, "street");
        str(e, "city", u->city);
        str(e, "state", u->state);
        str(e, "country", u->country);
        if (u->postcode_is_str)
            str(e, "postcode", u->postcode);
        else
            num(e, "postcode", u->postcode_int);
        obj_begin(e, "coordinates");
        str(e, "latitude", u->lat);
        str(e, "longitude", u->lon);
        obj_end(e, "coordinates");
        obj_begin(e, "timezone");
        str(e, "offset", u->tz_offset);
        str(e, "description", u->tz_desc);
        obj_end(e, "timezone");
        obj_end(e, "location");
    }
    if (f & SPATE_RU_F_EMAIL) str(e, "email", u->email);
    if (f & SPATE_RU_F_LOGIN) {
        obj_begin(e, "login");
        str(e, "uuid", u->uuid);
        str(e, "username", u->username);
        str(e, "password", u->password);
        str(e, "salt", u->salt);
        str(e, "md5", u->md5);
        str(e, "sha1", u->sha1);
        str(e, "sha256", u->sha256);
        obj_end(e, "login");
    }
    if (f & SPATE_RU_F_DOB) {
        obj_begin(e, "dob");
        str(e, "date", u->dob);
        num(e, "age", u->dob_age);
        obj_end(e, "dob");
    }
    if (f & SPATE_RU_F_REGISTERED) {
        obj_begin(e, "registered");
        str(e, "date", u->registered);
        num(e, "age", u->registered_age);
        obj_end(e, "registered");
    }
    if (f & SPATE_RU_F_PHONE) str(e, "phone", u->phone);
    if (f & SPATE_RU_F_CELL) str(e, "cell", u->cell);
    if (f & SPATE_RU_F_ID) {
        obj_begin(e, "id");
        str(e, "name", u->id_name);
        if (u->id_null)
            null(e, "value");
        else
            str(e, "value", u->id_value);
        obj_end(e, "id");
    }
    if (f & SPATE_RU_F_PICTURE) {
        /* https://randomuser.me/api/portraits/[med/|thumb/]men/75.jpg */
        static const char base[] = "https://randomuser.me/api/portraits/";
        const char *sex = u->female ? "women/" : "men/";
        static const char *const size[3] = {"", "med/", "thumb/"};
        char tmp[3][96], num[24];
        size_t nn = fmt_i64(num, u->picture);
        uint32_t len[3];
        for (int k = 0; k < 3; k++) {
            char *o = tmp[k];
            size_t a = sizeof base - 1, b = strlen(size[k]), c = strlen(sex);
            memcpy(o, base, a);
            memcpy(o + a, size[k], b);
            memcpy(o + a + b, sex, c);
            memcpy(o + a + b + c, num, nn);
            memcpy(o + a + b + c + nn, ".jpg", 4);
            len[k] = (uint32_t)(a + b + c + nn + 4);
        }
        obj_begin(e, "picture");
        str(e, "large", (ru_str_t){tmp[0], len[0]});
        str(e, "medium", (ru_str_t){tmp[1], len[1]});
        str(e, "thumbnail", (ru_str_t){tmp[2], len[2]});
        obj_end(e, "picture");
    }
    if (f & SPATE_RU_F_NAT) str(e, "nat", u->nat_code);
}

/* ---- the compact-JSON fast path ----
 *
 * Compact JSON is what every client of /api/ asks for and what the
 * pipeline moves, so it gets a writer of its own: keys and punctuation are
 * compile-time literals (copied with constant-size memcpy, which the
 * compiler inlines), and values are copied without an escape scan because
 * every field is known to be escape-free — list entries are checked by
 * test_ru_data, generated fields are digits, hex, letters and fixed
 * punctuation — except the password, which may contain '"' or '\\' when
 * the password parameter asks for special characters. test_formats checks
 * this writer against the generic one (pretty JSON parses to the same
 * document). Each field is written with a leading ','; the first one's is
 * turned into the object's '{'. */

#define LIT(o, s) (memcpy((o), (s), sizeof(s) - 1), (o) += sizeof(s) - 1)

static inline char *cpy(char *o, ru_str_t v) { return ru_copy(o, v.p, v.n); }

static char *cpy_escaped(char *o, ru_str_t v) {
    static const char hx[] = "0123456789abcdef";
    for (uint32_t i = 0; i < v.n; i++) {
        unsigned char c = (unsigned char)v.p[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c < 0x20) {
            LIT(o, "\\u00");
            *o++ = hx[c >> 4];
            *o++ = hx[c & 15];
        } else {
            *o++ = (char)c;
        }
    }
    return o;
}

static inline char *num_json(char *o, int64_t v) { return o + fmt_i64(o, v); }

/* Writes one user; the caller has reserved JSON_USER_MAX bytes. */
#define JSON_USER_MAX 4096
static char *json_user(char *o, const ru_user_t *u, uint32_t f, bool escape_pw) {
    char *start = o;
    if (f & SPATE_RU_F_GENDER)
        o = u->female ? (LIT(o, ",\"gender\":\"female\""), o) : (LIT(o, ",\"gender\":\"male\""), o);
    if (f & SPATE_RU_F_NAME) {
        LIT(o, ",\"name\":{\"title\":\"");
        o = cpy(o, u->title);
        LIT(o, "\",\"first\":\"");
        o = cpy(o, u->first);
        LIT(o, "\",\"last\":\"");
        o = cpy(o, u->last);
        LIT(o, "\"}");
    }
    if (f & SPATE_RU_F_LOCATION) {
        LIT(o, ",\"location\":{\"street\":{\"number\":");
        o = num_json(o, u->street_number);
        LIT(o, ",\"name\":\"");
        o = cpy(o, u->street);
        LIT(o, "\"},\"city\":\"");
        o = cpy(o, u->city);
        LIT(o, "\",\"state\":\"");
        o = cpy(o, u->state);
        LIT(o, "\",\"country\":\"");
        o = cpy(o, u->country);
        LIT(o, "\",\"postcode\":");
        if (u->postcode_is_str) {
            *o++ = '"';
            o = cpy(o, u->postcode);
            *o++ = '"';
        } else {
            o = num_json(o, u->postcode_int);
        }
        LIT(o, ",\"coordinates\":{\"latitude\":\"");
        o = cpy(o, u->lat);
        LIT(o, "\",\"longitude\":\"");
        o = cpy(o, u->lon);
        LIT(o, "\"},\"timezone\":{\"offset\":\"");
        o = cpy(o, u->tz_offset);
        LIT(o, "\",\"description\":\"");
        o = cpy(o, u->tz_desc);
        LIT(o, "\"}}");
    }
    if (f & SPATE_RU_F_EMAIL) {
        LIT(o, ",\"email\":\"");
        o = cpy(o, u->email);
        *o++ = '"';
    }
    if (f & SPATE_RU_F_LOGIN) {
        LIT(o, ",\"login\":{\"uuid\":\"");
        o = cpy(o, u->uuid);
        LIT(o, "\",\"username\":\"");
        o = cpy(o, u->username);
        LIT(o, "\",\"password\":\"");
        o = escape_pw ? cpy_escaped(o, u->password) : cpy(o, u->password);
        LIT(o, "\",\"salt\":\"");
        o = cpy(o, u->salt);
        LIT(o, "\",\"md5\":\"");
        o = cpy(o, u->md5);
        LIT(o, "\",\"sha1\":\"");
        o = cpy(o, u->sha1);
        LIT(o, "\",\"sha256\":\"");
        o = cpy(o, u->sha256);
        LIT(o, "\"}");
    }
    if (f & SPATE_RU_F_DOB) {
        LIT(o, ",\"dob\":{\"date\":\"");
        o = cpy(o, u->dob);
        LIT(o, "\",\"age\":");
        o = num_json(o, u->dob_age);
        *o++ = '}';
    }
    if (f & SPATE_RU_F_REGISTERED) {
        LIT(o, ",\"registered\":{\"date\":\"");
        o = cpy(o, u->registered);
        LIT(o, "\",\"age\":");
        o = num_json(o, u->registered_age);
        *o++ = '}';
    }
    if (f & SPATE_RU_F_PHONE) {
        LIT(o, ",\"phone\":\"");
        o = cpy(o, u->phone);
        *o++ = '"';
    }
    if (f & SPATE_RU_F_CELL) {
        LIT(o, ",\"cell\":\"");
        o = cpy(o, u->cell);
        *o++ = '"';
    }
    if (f & SPATE_RU_F_ID) {
        LIT(o, ",\"id\":{\"name\":\"");
        o = cpy(o, u->id_name);
        if (u->id_null) {
            LIT(o, "\",\"value\":null}");
        } else {
            LIT(o, "\",\"value\":\"");
            o = cpy(o, u->id_value);
            LIT(o, "\"}");
        }
    }
    if (f & SPATE_RU_F_PICTURE) {
        char num[24];
        size_t nn = fmt_i64(num, u->picture);
        const char *sex = u->female ? "women/" : "men/";
        size_t sn = u->female ? 6 : 4;
        LIT(o, ",\"picture\":{\"large\":\"https://randomuser.me/api/portraits/");
        o = ru_copy(o, sex, sn);
        o = ru_copy(o, num, nn);
        LIT(o, ".jpg\",\"medium\":\"https://randomuser.me/api/portraits/med/");
        o = ru_copy(o, sex, sn);
        o = ru_copy(o, num, nn);
        LIT(o, ".jpg\",\"thumbnail\":\"https://randomuser.me/api/portraits/thumb/");
        o = ru_copy(o, sex, sn);
        o = ru_copy(o, num, nn);
        LIT(o, ".jpg\"}");
    }
    if (f & SPATE_RU_F_NAT) {
        LIT(o, ",\"nat\":\"");
        o = cpy(o, u->nat_code);
        *o++ = '"';
    }
    if (o == start) {
        LIT(o, "{}");
        return o;
    }
    *start = '{';
    *o++ = '}';
    return o;
}

static void walk_info(emit_t *e, const spate_ru_params_t *p, const char *seed) {
    obj_begin(e, "info");
    str(e, "seed", S(seed));
    num(e, "results", p->results);
    num(e, "page", p->page);
    str(e, "version", S(SPATE_RU_VERSION));
    obj_end(e, "info");
}

const char *spate_ru_content_type(spate_ru_format_t f) {
    switch (f) {
    case SPATE_RU_FMT_CSV: return "text/csv; charset=utf-8";
    case SPATE_RU_FMT_YAML: return "text/yaml; charset=utf-8";
    case SPATE_RU_FMT_XML: return "application/xml; charset=utf-8";
    default: return "application/json; charset=utf-8";
    }
}

/* ---- the response as a stream: prefix, one user at a time, suffix ---- */

void spate_ru_stream_init(spate_ru_stream_t *st, const spate_ru_params_t *p, const char *seed,
                          int64_t now_ms, bool empty) {
    memset(st, 0, sizeof *st);
    st->p = *p;
    snprintf(st->seed, sizeof st->seed, "%s", seed);
    st->now_ms = now_ms;
    st->n = empty ? 0 : p->results;
    spate_mt_seed(&st->mt, spate_ru_seed_to_mt(seed, p->page));
}

static void next_user(spate_ru_stream_t *st) {
    spate_ru_user_make(&st->u, &st->mt, &st->p, st->now_ms);
}

static void write_prefix(spate_ru_stream_t *st, emit_t *e) {
    const spate_ru_params_t *p = &st->p;
    switch (p->format) {
    case SPATE_RU_FMT_JSON:
        if (p->callback[0]) {
            PUTS(e, p->callback);
            PUTS(e, "(");
        }
        PUTS(e, "{\"results\":[");
        break;
    case SPATE_RU_FMT_PRETTY:
        PUTS(e, "{");
        e->depth = 1;
        e->first[1] = true;
        member(e, "results");
        PUTS(e, "[");
        break;
    case SPATE_RU_FMT_CSV:
        /* The header is the shape of any user under the field mask: the
         * first user gives it and is then written as the first row. */
        if (st->n) {
            next_user(st);
            st->have_user = true;
            e->header = true;
            e->first_col = true;
            walk_user(e, &st->u, p->fields);
            PUTS(e, "\n");
            e->header = false;
        }
        break;
    case SPATE_RU_FMT_YAML: PUTS(e, st->n ? "results:\n" : "results: []\n"); break;
    case SPATE_RU_FMT_XML: PUTS(e, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<user>\n"); break;
    }
}

static void write_user(spate_ru_stream_t *st, emit_t *e, int i) {
    const spate_ru_params_t *p = &st->p;
    if (!st->have_user) next_user(st);
    st->have_user = false;
    const ru_user_t *u = &st->u;
    switch (p->format) {
    case SPATE_RU_FMT_JSON: {
        spate_buf_t *out = e->b;
        if (out->cap - out->len < JSON_USER_MAX + 2 &&
            spate_buf_reserve(out, JSON_USER_MAX + 2) != SPATE_OK) {
            e->oom = true;
            return;
        }
        char *o = out->data + out->len;
        if (i) *o++ = ',';
        o = json_user(o, u, p->fields, (p->pw_charsets & SPATE_RU_PW_SPECIAL) != 0);
        out->len = (size_t)(o - out->data);
        out->data[out->len] = '\0';
        break;
    }
    case SPATE_RU_FMT_PRETTY:
        PUTS(e, i ? ",\n" : "\n");
        indent(e, 2);
        PUTS(e, "{");
        e->depth = 3;
        e->first[3] = true;
        walk_user(e, u, p->fields);
        PUTS(e, "\n");
        indent(e, 2);
        PUTS(e, "}");
        break;
    case SPATE_RU_FMT_CSV:
        e->first_col = true;
        walk_user(e, u, p->fields);
        PUTS(e, "\n");
        break;
    case SPATE_RU_FMT_YAML:
        indent(e, 1);
        PUTS(e, "- ");
        e->depth = 2;
        e->first[2] = true;
        walk_user(e, u, p->fields);
        break;
    case SPATE_RU_FMT_XML:
        e->depth = 1;
        obj_begin(e, "results");
        walk_user(e, u, p->fields);
        obj_end(e, "results");
        break;
    }
}

static void write_suffix(spate_ru_stream_t *st, emit_t *e) {
    const spate_ru_params_t *p = &st->p;
    switch (p->format) {
    case SPATE_RU_FMT_JSON:
        e->depth = 1;
        e->first[1] = false;
        PUTS(e, "]");
        if (!p->noinfo) walk_info(e, p, st->seed);
        PUTS(e, p->callback[0] ? "})" : "}");
        break;
    case SPATE_RU_FMT_PRETTY:
        e->depth = 1;
        e->first[1] = false;
        if (st->n) {
            PUTS(e, "\n");
            indent(e, 1);
        }
        PUTS(e, "]");
        if (!p->noinfo) walk_info(e, p, st->seed);
        PUTS(e, "\n}\n");
        break;
    case SPATE_RU_FMT_CSV: break;
    case SPATE_RU_FMT_YAML:
        e->depth = 0;
        e->first[0] = false;
        if (!p->noinfo) walk_info(e, p, st->seed);
        break;
    case SPATE_RU_FMT_XML:
        e->depth = 1;
        if (!p->noinfo) walk_info(e, p, st->seed);
        PUTS(e, "</user>\n");
        break;
    }
}

spate_status_t spate_ru_stream_fill(spate_ru_stream_t *st, spate_buf_t *out, size_t want,
                                    bool *done) {
    emit_t e = {.b = out, .fmt = st->p.format};
    size_t goal = out->len + SPATE_MIN(want, SIZE_MAX - out->len);
    if (st->stage == RU_STAGE_PREFIX) {
        write_prefix(st, &e);
        st->stage = RU_STAGE_USERS;
    }
    while (st->stage == RU_STAGE_USERS && out->len < goal && !e.oom) {
        if (st->i == st->n) {
            st->stage = RU_STAGE_SUFFIX;
            break;
        }
        write_user(st, &e, st->i++);
    }
    if (st->stage == RU_STAGE_SUFFIX && out->len < goal && !e.oom) {
        write_suffix(st, &e);
        st->stage = RU_STAGE_DONE;
    }
    *done = st->stage == RU_STAGE_DONE;
    return e.oom ? SPATE_ENOMEM : SPATE_OK;
}
