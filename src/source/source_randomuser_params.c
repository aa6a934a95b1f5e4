/*
 * source_randomuser_params.c — the randomuser.me query parameters.
 *
 * The real API never rejects a request for a bad parameter: an invalid
 * value quietly becomes the default (results=abc → 1, a nat list with one
 * unknown code → every nationality). This file does the same, so clients
 * written against randomuser.me behave identically here. Parsing is pure
 * and bounded (the query is hostile input); fuzz/fuzz_query.c drives it.
 *
 *   results   1..5000, else 1           seed      any text ("" = random)
 *   page      1..10000, else 1          nat       comma list of 21 codes
 *   gender    male|female, else any     inc/exc   comma lists of fields
 *   format    json|pretty|prettyjson|csv|yaml|xml (fmt too), else json
 *   noinfo    drop the info block       dl        send as an attachment
 *   password  CHARSETS,MIN-MAX | CHARSETS,MAX   (special,upper,lower,number)
 *   callback  JSONP wrapper (JSON only)
 */
#include "source_int.h"

#include <string.h>
#include <strings.h>

static const char *const field_names[] = {"gender", "name", "location",   "email",
                                          "login",  "dob",  "registered", "phone",
                                          "cell",   "id",   "picture",    "nat"};

int spate_ru_nat_count(void) { return SPATE_RU_NNATS; }
const char *spate_ru_nat_code(int i) { return spate_ru_nats[i].code; }

int spate_ru_nat_index(const char *code, size_t len) {
    if (len != 2) return -1;
    for (int i = 0; i < SPATE_RU_NNATS; i++)
        if (strncasecmp(spate_ru_nats[i].code, code, 2) == 0) return i;
    return -1;
}

void spate_ru_params_default(spate_ru_params_t *p) {
    memset(p, 0, sizeof *p);
    p->results = 1;
    p->page = 1;
    p->fields = SPATE_RU_F_ALL;
    p->format = SPATE_RU_FMT_JSON;
}

/* Calls fn for each non-empty, space-trimmed item of a comma list. */
static void each_item(const char *s, void (*fn)(void *, const char *, size_t), void *ctx) {
    while (*s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        const char *a = s;
        size_t m = n;
        while (m && *a == ' ') a++, m--;
        while (m && a[m - 1] == ' ') m--;
        if (m) fn(ctx, a, m);
        s += n + (e ? 1 : 0);
    }
}

typedef struct {
    uint32_t mask;
    bool bad;
} nat_acc_t;

static void nat_item(void *ctx, const char *s, size_t n) {
    nat_acc_t *a = ctx;
    int i = spate_ru_nat_index(s, n);
    if (i < 0)
        a->bad = true;
    else
        a->mask |= 1u << i;
}

static void field_item(void *ctx, const char *s, size_t n) {
    uint32_t *mask = ctx;
    for (size_t i = 0; i < SPATE_ARRAY_LEN(field_names); i++)
        if (strlen(field_names[i]) == n && strncasecmp(field_names[i], s, n) == 0) *mask |= 1u << i;
}

static unsigned charset_bit(const char *s, size_t n) {
    static const char *const names[] = {"special", "upper", "lower", "number"};
    for (unsigned i = 0; i < 4; i++)
        if (strlen(names[i]) == n && strncasecmp(names[i], s, n) == 0) return 1u << i;
    return 0;
}

/* password=CHARSETS[,MIN-MAX | ,MAX]: any comma item may be the length
 * spec; a length outside 1..64 (or MIN > MAX) is ignored and the default
 * 8..64 kept. */
static void parse_password(spate_ru_params_t *p, const char *v) {
    unsigned sets = 0;
    int min = 8, max = 64;
    const char *s = v;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        char item[32];
        if (n < sizeof item) {
            memcpy(item, s, n);
            item[n] = '\0';
            unsigned b = charset_bit(item, n);
            if (b) {
                sets |= b;
            } else {
                char *dash = strchr(item, '-');
                int64_t a = 0, z = 0;
                if (dash) {
                    *dash = '\0';
                    if (spate_parse_i64(item, 1, 64, &a) == SPATE_OK &&
                        spate_parse_i64(dash + 1, 1, 64, &z) == SPATE_OK && a <= z) {
                        min = (int)a;
                        max = (int)z;
                    }
                } else if (spate_parse_i64(item, 1, 64, &z) == SPATE_OK) {
                    min = (int)z;
                    max = (int)z;
                }
            }
        }
        s += n + (e ? 1 : 0);
    }
    if (!sets) return; /* no charset named: keep the common-password list */
    p->pw_charsets = sets;
    p->pw_min = min;
    p->pw_max = max;
}

static bool is_ident(const char *s) {
    if (!*s || strlen(s) >= 64) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '$' || *s == '.'))
            return false;
    return true;
}

void spate_ru_params_set(spate_ru_params_t *p, const char *key, const char *val) {
    int64_t n;
    if (strcmp(key, "results") == 0) {
        p->results = spate_parse_i64(val, 1, SPATE_RU_MAX_RESULTS, &n) == SPATE_OK ? (int)n : 1;
    } else if (strcmp(key, "page") == 0) {
        p->page = spate_parse_i64(val, 1, SPATE_RU_MAX_PAGE, &n) == SPATE_OK ? (int)n : 1;
    } else if (strcmp(key, "seed") == 0) {
        snprintf(p->seed, sizeof p->seed, "%s", val);
    } else if (strcmp(key, "nat") == 0 || strcmp(key, "nationality") == 0) {
        nat_acc_t a = {0, false};
        each_item(val, nat_item, &a);
        p->nat_mask = a.bad ? 0 : a.mask;
    } else if (strcmp(key, "gender") == 0) {
        p->gender = strcasecmp(val, "male") == 0 ? 1 : strcasecmp(val, "female") == 0 ? 2 : 0;
    } else if (strcmp(key, "inc") == 0) {
        uint32_t m = 0;
        each_item(val, field_item, &m);
        if (m) p->fields &= m;
    } else if (strcmp(key, "exc") == 0) {
        uint32_t m = 0;
        each_item(val, field_item, &m);
        p->fields &= ~m;
    } else if (strcmp(key, "format") == 0 || strcmp(key, "fmt") == 0) {
        if (strcasecmp(val, "pretty") == 0 || strcasecmp(val, "prettyjson") == 0)
            p->format = SPATE_RU_FMT_PRETTY;
        else if (strcasecmp(val, "csv") == 0)
            p->format = SPATE_RU_FMT_CSV;
        else if (strcasecmp(val, "yaml") == 0)
            p->format = SPATE_RU_FMT_YAML;
        else if (strcasecmp(val, "xml") == 0)
            p->format = SPATE_RU_FMT_XML;
        else
            p->format = SPATE_RU_FMT_JSON;
    } else if (strcmp(key, "noinfo") == 0) {
        p->noinfo = true;
    } else if (strcmp(key, "dl") == 0 || strcmp(key, "download") == 0) {
        p->download = true;
    } else if (strcmp(key, "password") == 0) {
        parse_password(p, val);
    } else if (strcmp(key, "callback") == 0) {
        if (is_ident(val)) snprintf(p->callback, sizeof p->callback, "%s", val);
    }
}

void spate_ru_params_parse_query(spate_ru_params_t *p, const char *query, size_t len) {
    spate_ru_params_default(p);
    spate_query_iter_t it;
    spate_query_iter_init(&it, query, len);
    char key[32], val[256];
    while (spate_query_next(&it, key, sizeof key, val, sizeof val) == SPATE_OK)
        spate_ru_params_set(p, key, val);
    /* The real API ignores gender whenever a seed is given. */
    if (p->seed[0]) p->gender = 0;
}
