/*
 * stream_util.c — small pieces the rest of the stream subsystem shares:
 *
 *   arena        bump allocation for compiled programs and pipelines
 *   diagnostics  the list of "file:line: message" problems a load found
 *   time         RFC 3339 timestamps and durations ("30s") → milliseconds
 *   text         integers and reals as text, without printf on hot paths
 *   constants    YAML nodes → jansson values (default:, set: value:)
 *
 * Arena layout: a singly linked list of blocks, newest first; each
 * allocation is rounded up to max_align_t and zeroed.
 *
 *   head ─▶ [next | used | cap | data ...] ─▶ [next | ...] ─▶ NULL
 *
 * The time parser is pure and checks every field (month 1..12, the day
 * against the month, leap years), so "2023-02-29" is refused rather than
 * rolled over.
 */
#include "stream_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Arena                                                               */
/* ------------------------------------------------------------------ */

struct stream_arena_block {
    stream_arena_block_t *next;
    size_t used, cap;
    max_align_t data[];
};

#define ARENA_BLOCK 4096

void *stream_arena_alloc(stream_arena_t *a, size_t n) {
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (n == 0) n = sizeof(max_align_t);
    stream_arena_block_t *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        stream_arena_block_t *nb = spate_xmalloc(sizeof *nb + cap);
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        a->head = b = nb;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *stream_arena_strndup(stream_arena_t *a, const char *s, size_t n) {
    char *d = stream_arena_alloc(a, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void stream_arena_free(stream_arena_t *a) {
    stream_arena_block_t *b = a->head;
    while (b) {
        stream_arena_block_t *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

/* ------------------------------------------------------------------ */
/* Diagnostics                                                         */
/* ------------------------------------------------------------------ */

void spate_stream_diag_add(spate_stream_diag_t *d, const char *msg) {
    if (!d) return;
    if (d->n >= SPATE_STREAM_DIAG_MAX) {
        d->dropped++;
        return;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->msgs = spate_xrealloc(d->msgs, d->cap * sizeof *d->msgs);
    }
    d->msgs[d->n++] = spate_xstrdup(msg);
}

void spate_stream_diag_at(spate_stream_diag_t *d, const spate_conf_t *c, const spate_conf_node_t *n,
                          const char *fmt, ...) {
    if (!d) return;
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    spate_conf_err_t err;
    spate_conf_errorf(c, n, &err, "%s", what);
    spate_stream_diag_add(d, err.msg);
}

size_t spate_stream_diag_count(const spate_stream_diag_t *d) { return d ? d->n + d->dropped : 0; }

void spate_stream_diag_free(spate_stream_diag_t *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) free(d->msgs[i]);
    free(d->msgs);
    memset(d, 0, sizeof *d);
}

/* ------------------------------------------------------------------ */
/* Time                                                                */
/* ------------------------------------------------------------------ */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m) {
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return dm[m - 1];
}

/* Reads exactly k digits at s[*i]. */
static bool digits(const char *s, size_t n, size_t *i, int k, int *out) {
    if (*i + (size_t)k > n) return false;
    int v = 0;
    for (int j = 0; j < k; j++) {
        char c = s[*i + j];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)k;
    *out = v;
    return true;
}

static bool expect(const char *s, size_t n, size_t *i, char c) {
    if (*i >= n || s[*i] != c) return false;
    (*i)++;
    return true;
}

spate_status_t spate_stream_parse_time(const char *s, size_t n, int64_t *ms) {
    size_t i = 0;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, frac_ms = 0, off_min = 0;
    if (!digits(s, n, &i, 4, &y) || !expect(s, n, &i, '-') || !digits(s, n, &i, 2, &mo) ||
        !expect(s, n, &i, '-') || !digits(s, n, &i, 2, &d))
        return SPATE_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return SPATE_EINVAL;
    if (i < n) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return SPATE_EINVAL;
        i++;
        if (!digits(s, n, &i, 2, &h) || !expect(s, n, &i, ':') || !digits(s, n, &i, 2, &mi) ||
            !expect(s, n, &i, ':') || !digits(s, n, &i, 2, &sec))
            return SPATE_EINVAL;
        if (h > 23 || mi > 59 || sec > 60) return SPATE_EINVAL; /* 60: a leap second */
        if (i < n && s[i] == '.') {
            i++;
            size_t start = i;
            int scale = 100;
            while (i < n && s[i] >= '0' && s[i] <= '9') {
                frac_ms += (s[i] - '0') * scale;
                scale /= 10;
                i++;
            }
            if (i == start) return SPATE_EINVAL;
        }
        if (i >= n) {
            /* no offset: UTC */
        } else if (s[i] == 'Z' || s[i] == 'z') {
            i++;
        } else if (s[i] == '+' || s[i] == '-') {
            int sign = s[i] == '-' ? -1 : 1, oh, om;
            i++;
            if (!digits(s, n, &i, 2, &oh)) return SPATE_EINVAL;
            if (i < n && s[i] == ':') i++;
            if (!digits(s, n, &i, 2, &om)) return SPATE_EINVAL;
            if (oh > 23 || om > 59) return SPATE_EINVAL;
            off_min = sign * (oh * 60 + om);
        } else {
            return SPATE_EINVAL;
        }
        if (i != n) return SPATE_EINVAL;
    }
    int64_t days = days_from_civil(y, mo, d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - (int64_t)off_min * 60;
    *ms = secs * 1000 + frac_ms;
    return SPATE_OK;
}

spate_status_t spate_stream_parse_duration(const char *s, int64_t *ms) {
    if (!s || *s < '0' || *s > '9') return SPATE_EINVAL;
    int64_t v = 0;
    const char *p = s;
    while (*p >= '0' && *p <= '9') {
        if (v > (INT64_MAX - (*p - '0')) / 10) return SPATE_ERANGE;
        v = v * 10 + (*p - '0');
        p++;
    }
    int64_t mul;
    if (*p == '\0' || strcmp(p, "ms") == 0)
        mul = 1;
    else if (strcmp(p, "s") == 0)
        mul = 1000;
    else if (strcmp(p, "m") == 0)
        mul = 60000;
    else if (strcmp(p, "h") == 0)
        mul = 3600000;
    else if (strcmp(p, "d") == 0)
        mul = 86400000;
    else
        return SPATE_EINVAL;
    if (v > INT64_MAX / mul) return SPATE_ERANGE;
    *ms = v * mul;
    return SPATE_OK;
}

/* ------------------------------------------------------------------ */
/* Numbers as text                                                     */
/* ------------------------------------------------------------------ */

spate_status_t stream_put_i64(spate_buf_t *b, int64_t v) {
    char tmp[24];
    size_t i = sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) tmp[--i] = '-';
    return spate_buf_append(b, tmp + i, sizeof tmp - i);
}

size_t stream_fmt_double(double d, char out[32]) {
    int len = 0;
    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(out, 32, "%.*g", prec, d);
        if (strtod(out, NULL) == d) break;
    }
    /* Keep it visibly a real, as jansson prints them: 1 → "1.0". */
    if (isfinite(d) && !strpbrk(out, ".eE") && len + 2 < 32) {
        out[len++] = '.';
        out[len++] = '0';
        out[len] = '\0';
    }
    return (size_t)len;
}

/* ------------------------------------------------------------------ */
/* YAML → JSON constants                                               */
/* ------------------------------------------------------------------ */

/* YAML 1.2 core-schema plain scalars: [-+]?[0-9]+ integers,
 * [-+]?(.[0-9]+|[0-9]+(.[0-9]*)?)([eE][-+]?[0-9]+)? reals. */
static bool is_yaml_int(const char *s) {
    if (*s == '-' || *s == '+') s++;
    if (!*s) return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return false;
    return true;
}

static bool is_yaml_real(const char *s) {
    if (*s == '-' || *s == '+') s++;
    size_t nd = 0;
    while (*s >= '0' && *s <= '9') s++, nd++;
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9') s++, nd++;
    }
    if (nd == 0) return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+') s++;
        if (*s < '0' || *s > '9') return false;
        while (*s >= '0' && *s <= '9') s++;
    }
    return *s == '\0';
}

static json_t *scalar_to_json(const spate_conf_node_t *n) {
    const char *v = n->value;
    if (!n->quoted) {
        if (!*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
            strcmp(v, "NULL") == 0)
            return json_null();
        if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0)
            return json_true();
        if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0 || strcmp(v, "FALSE") == 0)
            return json_false();
        int64_t i;
        if (is_yaml_int(v) &&
            spate_parse_i64(*v == '+' ? v + 1 : v, INT64_MIN, INT64_MAX, &i) == SPATE_OK)
            return json_integer(i);
        double d;
        if (is_yaml_real(v) && spate_parse_double(v, &d) == SPATE_OK) return json_real(d);
    }
    return json_string(v);
}

#define CONST_MAX_DEPTH 64

static json_t *to_json(const spate_conf_node_t *n, int depth) {
    if (depth > CONST_MAX_DEPTH) return NULL;
    if (n->kind == SPATE_CONF_SCALAR) return scalar_to_json(n);
    json_t *out = n->kind == SPATE_CONF_MAP ? json_object() : json_array();
    if (!out) return NULL;
    for (const spate_conf_node_t *c = n->child; c; c = c->next) {
        json_t *v = to_json(c, depth + 1);
        int rc = !v                          ? -1
                 : n->kind == SPATE_CONF_MAP ? json_object_set_new(out, c->key, v)
                                             : json_array_append_new(out, v);
        if (rc != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

json_t *stream_conf_to_json(const spate_conf_node_t *n) { return to_json(n, 0); }
