/*
 * source_format_user.c — one randomuser result → the pipeline's user record.
 *
 * This is the seed DAG's format_data() (seed-reference §2) with its three
 * bugs fixed (§5):
 *
 *   seed                                 here
 *   ----------------------------------   ------------------------------------
 *   id = uuid.uuid4(), not a str, so     id = UUIDv5(NAMESPACE_URL,
 *   json.dumps raised and nothing was         "urn:spate:user:" + login.uuid),
 *   ever sent                                 a string, and deterministic:
 *                                             refetching a user gives the same
 *                                             id, so downstream upserts dedup
 *   post_code int or string by nat       post_code always a string (an
 *                                             integer becomes its decimal text)
 *   a missing field raised KeyError,     a missing or wrong-typed field is
 *   swallowed by a bare except                SPATE_EINVAL with its path named
 *
 * The id is checkable from any language; in Python:
 *
 *   uuid.uuid5(uuid.NAMESPACE_URL, "urn:spate:user:" + result["login"]["uuid"])
 *
 * Output, one compact JSON object, keys always in this order:
 *
 *   id first_name last_name gender address post_code email username dob
 *   registered_date phone picture
 *
 * with address = "<street.number> <street.name>, <city>, <state>, <country>".
 *
 * Invariants: every field is looked up and type-checked before a byte is
 * written, and on any failure out->len is restored, so a caller appending
 * many records to one buffer never sees half of one. Input strings are
 * copied through spate_json_put_str (escaping ", \ and control bytes; UTF-8
 * untouched). The input json_t is borrowed and never modified.
 */
#include "source.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* RFC 4122 NAMESPACE_URL, 6ba7b811-9dad-11d1-80b4-00c04fd430c8. */
const uint8_t spate_user_id_namespace[16] = {0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
                                             0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

#define USER_ID_PREFIX "urn:spate:user:"

static const char *json_type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "unknown";
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) SPATE_PRINTF(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Walks a dotted path ("location.street.number") from an object. Every
 * step but the last must be an object. Returns the value, or NULL after
 * writing "missing <path>" or "<prefix>: expected an object, got ..." to
 * err. */
static const json_t *lookup(const json_t *root, const char *path, char *err, size_t errlen) {
    const json_t *cur = root;
    const char *p = path;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        const json_t *next = json_object_getn((json_t *)cur, p, n);
        if (!next) {
            set_err(err, errlen, "missing %s", path);
            return NULL;
        }
        if (!dot) return next;
        if (!json_is_object(next)) {
            set_err(err, errlen, "%.*s: expected an object, got %s", (int)(dot - path), path,
                    json_type_name(next));
            return NULL;
        }
        cur = next;
        p = dot + 1;
    }
}

/* A borrowed piece of text: either a JSON string's bytes or the decimal
 * form of an integer, held in num. */
typedef struct {
    const char *p;
    size_t n;
    char num[24];
} text_t;

/* Looks up a string field. */
static bool get_str(const json_t *root, const char *path, text_t *t, char *err, size_t errlen) {
    const json_t *v = lookup(root, path, err, errlen);
    if (!v) return false;
    if (!json_is_string(v)) {
        set_err(err, errlen, "%s: expected a string, got %s", path, json_type_name(v));
        return false;
    }
    t->p = json_string_value(v);
    t->n = json_string_length(v);
    return true;
}

/* Looks up a field the API sends as an integer or a string (street.number,
 * postcode: which one depends on the nationality) and yields its text. */
static bool get_str_or_int(const json_t *root, const char *path, text_t *t, char *err,
                           size_t errlen) {
    const json_t *v = lookup(root, path, err, errlen);
    if (!v) return false;
    if (json_is_integer(v)) {
        int len = snprintf(t->num, sizeof t->num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        t->p = t->num;
        t->n = (size_t)len;
        return true;
    }
    if (!json_is_string(v)) {
        set_err(err, errlen, "%s: expected a string or an integer, got %s", path,
                json_type_name(v));
        return false;
    }
    t->p = json_string_value(v);
    t->n = json_string_length(v);
    return true;
}

/* Appends s escaped for JSON but without the surrounding quotes, to build
 * one string value from several pieces. */
static spate_status_t put_escaped(spate_buf_t *b, const char *s, size_t n) {
    size_t at = b->len;
    spate_status_t st = spate_json_put_str(b, s, n);
    if (st != SPATE_OK) return st;
    size_t inner = b->len - at - 2;
    memmove(b->data + at, b->data + at + 1, inner);
    b->len = at + inner;
    b->data[b->len] = '\0';
    return SPATE_OK;
}

/* The fields of the record, in output order, and the input path of each
 * field that is a plain string copy. */
enum {
    F_UUID,
    F_FIRST,
    F_LAST,
    F_GENDER,
    F_STREET_NUMBER,
    F_STREET_NAME,
    F_CITY,
    F_STATE,
    F_COUNTRY,
    F_POSTCODE,
    F_EMAIL,
    F_USERNAME,
    F_DOB,
    F_REGISTERED,
    F_PHONE,
    F_PICTURE,
    F_COUNT
};

static const struct {
    const char *path;
    bool int_ok; /* may also be an integer */
} fields[F_COUNT] = {
    [F_UUID] = {"login.uuid", false},
    [F_FIRST] = {"name.first", false},
    [F_LAST] = {"name.last", false},
    [F_GENDER] = {"gender", false},
    [F_STREET_NUMBER] = {"location.street.number", true},
    [F_STREET_NAME] = {"location.street.name", false},
    [F_CITY] = {"location.city", false},
    [F_STATE] = {"location.state", false},
    [F_COUNTRY] = {"location.country", false},
    [F_POSTCODE] = {"location.postcode", true},
    [F_EMAIL] = {"email", false},
    [F_USERNAME] = {"login.username", false},
    [F_DOB] = {"dob.date", false},
    [F_REGISTERED] = {"registered.date", false},
    [F_PHONE] = {"phone", false},
    [F_PICTURE] = {"picture.medium", false},
};

/* Computes the record id into out (37 bytes). */
static void user_id(const text_t *uuid, char out[37]) {
    char stackbuf[128];
    size_t plen = sizeof USER_ID_PREFIX - 1;
    size_t n = plen + uuid->n;
    /* login.uuid is 36 characters from the API; anything longer (any
     * string is accepted) goes through the heap. */
    char *name = n <= sizeof stackbuf ? stackbuf : spate_xmalloc(n);
    memcpy(name, USER_ID_PREFIX, plen);
    memcpy(name + plen, uuid->p, uuid->n);
    uint8_t u[16];
    spate_uuid_v5(spate_user_id_namespace, name, n, u);
    spate_uuid_format(u, out);
    if (name != stackbuf) free(name);
}

spate_status_t spate_format_user(const json_t *result, spate_buf_t *out, char *err, size_t errlen) {
    if (!result || !json_is_object(result)) {
        set_err(err, errlen, "result: expected an object, got %s",
                result ? json_type_name(result) : "nothing");
        return SPATE_EINVAL;
    }
    text_t f[F_COUNT];
    for (int i = 0; i < F_COUNT; i++) {
        bool ok = fields[i].int_ok ? get_str_or_int(result, fields[i].path, &f[i], err, errlen)
                                   : get_str(result, fields[i].path, &f[i], err, errlen);
        if (!ok) return SPATE_EINVAL;
    }
    char id[37];
    user_id(&f[F_UUID], id);

    size_t start = out->len;
    spate_status_t st = SPATE_OK;
#define PUT(call)                                                                                  \
    do {                                                                                           \
        if ((st = (call)) != SPATE_OK) goto err;                                                   \
    } while (0)
#define PUT_FIELD(key, i)                                                                          \
    do {                                                                                           \
        PUT(spate_buf_puts(out, key));                                                             \
        PUT(spate_json_put_str(out, f[i].p, f[i].n));                                              \
    } while (0)

    PUT(spate_buf_puts(out, "{\"id\":"));
    PUT(spate_json_put_str(out, id, 36));
    PUT_FIELD(",\"first_name\":", F_FIRST);
    PUT_FIELD(",\"last_name\":", F_LAST);
    PUT_FIELD(",\"gender\":", F_GENDER);
    PUT(spate_buf_puts(out, ",\"address\":\""));
    PUT(put_escaped(out, f[F_STREET_NUMBER].p, f[F_STREET_NUMBER].n));
    PUT(spate_buf_putc(out, ' '));
    PUT(put_escaped(out, f[F_STREET_NAME].p, f[F_STREET_NAME].n));
    PUT(spate_buf_puts(out, ", "));
    PUT(put_escaped(out, f[F_CITY].p, f[F_CITY].n));
    PUT(spate_buf_puts(out, ", "));
    PUT(put_escaped(out, f[F_STATE].p, f[F_STATE].n));
    PUT(spate_buf_puts(out, ", "));
    PUT(put_escaped(out, f[F_COUNTRY].p, f[F_COUNTRY].n));
    PUT(spate_buf_putc(out, '"'));
    PUT_FIELD(",\"post_code\":", F_POSTCODE);
    PUT_FIELD(",\"email\":", F_EMAIL);
    PUT_FIELD(",\"username\":", F_USERNAME);
    PUT_FIELD(",\"dob\":", F_DOB);
    PUT_FIELD(",\"registered_date\":", F_REGISTERED);
    PUT_FIELD(",\"phone\":", F_PHONE);
    PUT_FIELD(",\"picture\":", F_PICTURE);
    PUT(spate_buf_putc(out, '}'));
#undef PUT_FIELD
#undef PUT
    return SPATE_OK;

err:
    out->len = start;
    if (out->data) out->data[start] = '\0';
    set_err(err, errlen, "out of memory");
    return st;
}

spate_status_t spate_format_user_text(const char *json, size_t len, spate_buf_t *out, char *err,
                                      size_t errlen) {
    spate_json_error_t jerr;
    /* Any value, so that "42" is reported as "expected an object, got an
     * integer" rather than as a parse error. */
    json_t *root = spate_json_loadb(json, len, &jerr);
    if (!root) {
        set_err(err, errlen, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                jerr.text);
        return SPATE_EINVAL;
    }
    spate_status_t st = spate_format_user(root, out, err, errlen);
    json_decref(root);
    return st;
}
