/*
 * source_json.c — spate_json_loadb: JSON text → a jansson tree, for the
 * hot paths (every message of a stream job, every fetched API response).
 *
 * Why not json_loadb: jansson's reader takes every byte through a stream
 * callback, a UTF-8 decoder and a save buffer; on a 450-byte user record
 * it spent ~9 µs where building the same tree takes ~1.2 µs, and it was
 * half of the stream processor's CPU (bench/RESULTS.md). This reader makes
 * the same jansson values (so everything after it is unchanged) straight
 * from the bytes: strings without escapes are copied once, keys are set
 * with json_object_setn_new_nocheck.
 *
 * It accepts exactly what json_loadb(buf, len, JSON_DECODE_ANY, …) accepts
 * and builds an equal tree (fuzz/fuzz_json.c checks both against each
 * other): RFC 8259 JSON, any value at the top, surrounding whitespace
 * (space, tab, CR, LF) only; strings must be valid UTF-8 (no overlong
 * forms, surrogates or code points past U+10FFFF) and \u0000 is refused
 * (jansson's default without JSON_ALLOW_NUL); \u escapes pair surrogates;
 * a number without fraction or exponent is an integer and must fit in
 * json_int_t; other numbers are reals (strtod, "C" locale: spate never
 * calls setlocale), refused on overflow; a repeated key keeps the last
 * value; nesting deeper than 2048 values is refused. Errors give the
 * 1-based line and column (counted in bytes) and a reason.
 *
 * spate_json_flat_scan reads the common stream record — an object of
 * plain strings — without building anything, and says no to the rest
 * (source.h); fuzz_json checks it against the reader.
 */
#include "source.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 2048 /* as jansson's JSON_PARSER_MAX_DEPTH */

typedef struct {
    const unsigned char *p, *end, *start;
    int depth;
    spate_json_error_t *err;
    spate_buf_t scratch; /* unescaped strings */
} rd_t;

static json_t *fail(rd_t *r, const unsigned char *at, const char *fmt, ...) SPATE_PRINTF(3, 4);

static json_t *fail(rd_t *r, const unsigned char *at, const char *fmt, ...) {
    spate_json_error_t *e = r->err;
    if (!e || e->text[0]) return NULL; /* the first error stands */
    e->position = (size_t)(at - r->start);
    e->line = 1;
    const unsigned char *ls = r->start;
    for (const unsigned char *q = r->start; q < at; q++)
        if (*q == '\n') {
            e->line++;
            ls = q + 1;
        }
    e->column = (int)(at - ls) + 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof e->text, fmt, ap);
    va_end(ap);
    if (at >= r->end) {
        size_t n = strlen(e->text);
        snprintf(e->text + n, sizeof e->text - n, " near end of input");
    }
    return NULL;
}

/* The first byte at or after p that is not JSON whitespace (space, tab,
 * CR, LF), or end. */
static inline const unsigned char *ws_end(const unsigned char *p, const unsigned char *end) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

static void skip_ws(rd_t *r) { r->p = ws_end(r->p, r->end); }

/* Length of the valid UTF-8 sequence at p (1..4), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0; /* continuation byte or overlong 2-byte lead */
    if (c < 0xE0) {
        n = 2;
        cp = c & 0x1F;
    } else if (c < 0xF0) {
        n = 3;
        cp = c & 0x0F;
    } else if (c < 0xF5) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static int hex4(const unsigned char *p) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static void put_utf8(spate_buf_t *b, uint32_t cp) {
    char o[4];
    size_t n;
    if (cp < 0x80) {
        o[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        o[0] = (char)(0xF0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    spate_buf_append(b, o, n);
}

/* The bytes of the 8 at q that end a plain run ('"', '\\', a control
 * character or a byte >= 0x80), as their high bits; 0 when none does.
 * Each term is the classic "some byte is zero / below n" word test: a
 * borrow can flag a byte only above one that is truly flagged, so the
 * lowest flagged byte is exact (in memory order on a little-endian
 * machine, where the lowest byte of x is q[0]). */
static inline uint64_t special8(const unsigned char *q) {
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t x, quote, bs;
    memcpy(&x, q, 8);
    quote = x ^ (ones * '"');
    bs = x ^ (ones * '\\');
    uint64_t t = ((quote - ones) & ~quote) | ((bs - ones) & ~bs) | ((x - ones * 0x20) & ~x) | x;
    return t & highs;
}

/* The first byte at or after q that ends a plain run, or end. */
static inline const unsigned char *plain_run_end(const unsigned char *q, const unsigned char *end) {
    while (end - q >= 8) {
        uint64_t m = special8(q);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (m) return q + (__builtin_ctzll(m) >> 3);
#else
        if (m) break;
#endif
        q += 8;
    }
    while (q < end && *q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\') q++;
    return q;
}

/* A string whose opening quote is just behind *pp, with no escape: its
 * bytes up to the closing quote (*pp moves past it); false if it has an
 * escape, a control character or invalid UTF-8, or does not end. */
static bool flat_string(const unsigned char **pp, const unsigned char *end, const unsigned char **s,
                        size_t *n) {
    const unsigned char *q = *pp;
    *s = q;
    for (;;) {
        q = plain_run_end(q, end);
        if (q >= end) return false;
        if (*q == '"') break;
        if (*q < 0x80) return false; /* a backslash or a control character */
        size_t k = utf8_len(q, end);
        if (!k) return false;
        q += k;
    }
    *n = (size_t)(q - *s);
    *pp = q + 1;
    return true;
}

bool spate_json_flat_scan(const char *buf, size_t len, spate_json_field_t *f, size_t cap,
                          size_t *n) {
    const unsigned char *p = (const unsigned char *)buf, *end = p + len;
    *n = 0;
    p = ws_end(p, end);
    if (p >= end || *p++ != '{') return false;
    p = ws_end(p, end);
    if (p < end && *p == '}') {
        p++;
    } else {
        for (;;) {
            const unsigned char *k, *v;
            size_t kn, vn;
            if (p >= end || *p++ != '"' || !flat_string(&p, end, &k, &kn)) return false;
            p = ws_end(p, end);
            if (p >= end || *p++ != ':') return false;
            p = ws_end(p, end);
            if (p >= end || *p++ != '"' || !flat_string(&p, end, &v, &vn)) return false;
            if (*n == cap || kn > UINT32_MAX || vn > UINT32_MAX) return false;
            for (size_t i = 0; i < *n; i++) /* a repeated key: the general path */
                if (f[i].kn == kn && memcmp(f[i].k, k, kn) == 0) return false;
            f[*n] =
                (spate_json_field_t){(const char *)k, (const char *)v, (uint32_t)kn, (uint32_t)vn};
            (*n)++;
            p = ws_end(p, end);
            if (p >= end) return false;
            if (*p == '}') {
                p++;
                break;
            }
            if (*p++ != ',') return false;
            p = ws_end(p, end);
        }
    }
    return ws_end(p, end) == end;
}

/* A string at r->p (just past the opening quote). On success *s and *n are
 * the bytes (in the input when there was no escape, else in r->scratch)
 * and r->p is past the closing quote. */
static bool read_string(rd_t *r, const char **s, size_t *n) {
    const unsigned char *open = r->p - 1, *run = r->p;
    bool escaped = false;
    spate_buf_reset(&r->scratch);
    for (;;) {
        const unsigned char *q = plain_run_end(r->p, r->end);
        r->p = q;
        if (q >= r->end) {
            fail(r, open, "unterminated string");
            return false;
        }
        unsigned c = *q;
        if (c == '"') {
            if (escaped) {
                spate_buf_append(&r->scratch, run, (size_t)(q - run));
                *s = r->scratch.data ? r->scratch.data : "";
                *n = r->scratch.len;
            } else {
                *s = (const char *)run;
                *n = (size_t)(q - run);
            }
            r->p = q + 1;
            return true;
        }
        if (c < 0x20) {
            fail(r, q, "control character 0x%x in a string", c);
            return false;
        }
        if (c >= 0x80) {
            size_t k = utf8_len(q, r->end);
            if (!k) {
                fail(r, q, "invalid UTF-8 byte 0x%x", c);
                return false;
            }
            r->p = q + k;
            continue;
        }
        /* a backslash: copy the run before it, then what it means */
        escaped = true;
        spate_buf_append(&r->scratch, run, (size_t)(q - run));
        if (r->end - q < 2) {
            fail(r, q, "unterminated string");
            return false;
        }
        char e = (char)q[1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (simple && e) {
            static const char out[] = "\"\\/\b\f\n\r\t";
            spate_buf_append(&r->scratch, &out[simple - "\"\\/bfnrt"], 1);
            r->p = q + 2;
        } else if (e == 'u') {
            int hi = r->end - q >= 6 ? hex4(q + 2) : -1;
            if (hi < 0) {
                fail(r, q, "invalid \\u escape");
                return false;
            }
            uint32_t cp = (uint32_t)hi;
            r->p = q + 6;
            if (hi >= 0xDC00 && hi <= 0xDFFF) {
                fail(r, q, "invalid Unicode '\\u%04X'", (unsigned)hi);
                return false;
            }
            if (hi >= 0xD800 && hi <= 0xDBFF) {
                int lo =
                    r->end - r->p >= 6 && r->p[0] == '\\' && r->p[1] == 'u' ? hex4(r->p + 2) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    fail(r, q, "invalid Unicode '\\u%04X' (a lone surrogate)", (unsigned)hi);
                    return false;
                }
                cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
                r->p += 6;
            }
            if (cp == 0) {
                fail(r, q, "\\u0000 is not allowed");
                return false;
            }
            put_utf8(&r->scratch, cp);
        } else {
            fail(r, q, "invalid escape '\\%c'", e >= 0x20 && e < 0x7f ? e : '?');
            return false;
        }
        run = r->p;
    }
}

static json_t *read_number(rd_t *r) {
    const unsigned char *s = r->p, *q = r->p;
    bool neg = false;
    if (*q == '-') {
        neg = true;
        q++;
    }
    if (q >= r->end || *q < '0' || *q > '9') return fail(r, s, "invalid token");
    if (*q == '0') {
        q++;
        if (q < r->end && *q >= '0' && *q <= '9')
            return fail(r, s, "invalid token (a leading zero)");
    } else {
        while (q < r->end && *q >= '0' && *q <= '9') q++;
    }
    bool real = false;
    if (q < r->end && *q == '.') {
        q++;
        if (q >= r->end || *q < '0' || *q > '9') return fail(r, s, "invalid token");
        while (q < r->end && *q >= '0' && *q <= '9') q++;
        real = true;
    }
    if (q < r->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < r->end && (*q == '+' || *q == '-')) q++;
        if (q >= r->end || *q < '0' || *q > '9') return fail(r, s, "invalid token");
        while (q < r->end && *q >= '0' && *q <= '9') q++;
        real = true;
    }
    r->p = q;
    if (!real) {
        /* Accumulate negatively: -INT64_MIN does not fit. */
        json_int_t v = 0;
        const json_int_t min = (json_int_t)(-9223372036854775807LL - 1);
        for (const unsigned char *d = s + neg; d < q; d++) {
            int digit = *d - '0';
            if (v < (min + digit) / 10)
                return fail(r, s, neg ? "too big negative integer" : "too big integer");
            v = v * 10 - digit;
        }
        if (!neg) {
            if (v == min) return fail(r, s, "too big integer");
            v = -v;
        }
        return json_integer(v);
    }
    char small[64], *txt = small;
    size_t n = (size_t)(q - s);
    if (n >= sizeof small) txt = spate_xmalloc(n + 1);
    memcpy(txt, s, n);
    txt[n] = '\0';
    errno = 0;
    double d = strtod(txt, NULL);
    bool overflow = errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL);
    if (txt != small) free(txt);
    if (overflow) return fail(r, s, "real number overflow");
    return json_real(d);
}

static bool lit(rd_t *r, const char *w, size_t n) {
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0) return false;
    r->p += n;
    return true;
}

/* Steps over ch if it is next. */
static bool take(rd_t *r, unsigned char ch) {
    if (r->p >= r->end || *r->p != ch) return false;
    r->p++;
    return true;
}

static json_t *read_value(rd_t *r);

static json_t *read_object(rd_t *r) {
    json_t *o = json_object();
    if (!o) return fail(r, r->p, "out of memory");
    skip_ws(r);
    if (take(r, '}')) return o;
    for (;;) {
        skip_ws(r);
        if (!take(r, '"')) {
            fail(r, r->p, "string or '}' expected");
            break;
        }
        const char *k;
        size_t kn;
        if (!read_string(r, &k, &kn)) break;
        /* The key may sit in r->scratch, which the value reuses. */
        char small[64], *key = small;
        if (kn >= sizeof small) key = spate_xmalloc(kn + 1);
        memcpy(key, k, kn);
        key[kn] = '\0';
        skip_ws(r);
        json_t *v = take(r, ':') ? read_value(r) : fail(r, r->p, "':' expected");
        int rc = v ? json_object_setn_new_nocheck(o, key, kn, v) : -1;
        if (key != small) free(key);
        if (rc != 0) {
            if (v) fail(r, r->p, "out of memory");
            break;
        }
        skip_ws(r);
        if (take(r, ',')) continue;
        if (take(r, '}')) return o;
        fail(r, r->p, "',' or '}' expected");
        break;
    }
    json_decref(o);
    return NULL;
}

static json_t *read_array(rd_t *r) {
    json_t *a = json_array();
    if (!a) return fail(r, r->p, "out of memory");
    skip_ws(r);
    if (take(r, ']')) return a;
    for (;;) {
        json_t *v = read_value(r);
        if (!v) break;
        if (json_array_append_new(a, v) != 0) {
            fail(r, r->p, "out of memory");
            break;
        }
        skip_ws(r);
        if (take(r, ',')) continue;
        if (take(r, ']')) return a;
        fail(r, r->p, "',' or ']' expected");
        break;
    }
    json_decref(a);
    return NULL;
}

static json_t *read_value(rd_t *r) {
    skip_ws(r);
    if (r->p >= r->end) return fail(r, r->p, "a value expected");
    if (++r->depth > MAX_DEPTH) return fail(r, r->p, "maximum parsing depth reached");
    json_t *v;
    unsigned c = *r->p;
    switch (c) {
    case '{':
        r->p++;
        v = read_object(r);
        break;
    case '[':
        r->p++;
        v = read_array(r);
        break;
    case '"': {
        r->p++;
        const char *s;
        size_t n;
        v = read_string(r, &s, &n) ? json_stringn_nocheck(s, n) : NULL;
        break;
    }
    case 't': v = lit(r, "true", 4) ? json_true() : fail(r, r->p, "invalid token"); break;
    case 'f': v = lit(r, "false", 5) ? json_false() : fail(r, r->p, "invalid token"); break;
    case 'n': v = lit(r, "null", 4) ? json_null() : fail(r, r->p, "invalid token"); break;
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            v = read_number(r);
        else if (c >= 0x80 && !utf8_len(r->p, r->end))
            v = fail(r, r->p, "invalid UTF-8 byte 0x%x", c);
        else
            v = fail(r, r->p, "invalid token");
        break;
    }
    r->depth--;
    return v;
}

json_t *spate_json_loadb(const char *buf, size_t len, spate_json_error_t *err) {
    if (err) memset(err, 0, sizeof *err);
    rd_t r = {.p = (const unsigned char *)buf,
              .end = (const unsigned char *)buf + len,
              .start = (const unsigned char *)buf,
              .err = err,
              .scratch = SPATE_BUF_INIT};
    if (!buf) r.p = r.end = r.start = (const unsigned char *)"";
    json_t *v = read_value(&r);
    if (v) {
        skip_ws(&r);
        if (r.p < r.end) {
            fail(&r, r.p, "end of input expected");
            json_decref(v);
            v = NULL;
        }
    }
    spate_buf_free(&r.scratch);
    return v;
}
