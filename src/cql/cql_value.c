/*
 * cql_value.c — CQL values in their serialized form (the payload of a
 * [bytes] or [value]): validation, text rendering, parsing of scalar
 * literal text, and encoders for C values and collections.
 *
 * Layouts (spec §6, big-endian; table also in cql_codec.h):
 *
 *   int 4 | bigint, counter, timestamp (ms), time (ns of day) 8
 *   smallint 2 | tinyint 1 | boolean 1 (0 false, else true)
 *   float 4, double 8 IEEE 754 | uuid, timeuuid 16 | inet 4 or 16
 *   date 4: uint32 days, 1970-01-01 = 2^31 | text UTF-8 | ascii < 0x80
 *   varint: minimal two's complement (128 = 00 80, -129 = FF 7F)
 *   decimal: [int] scale + varint unscaled; value = unscaled * 10^-scale
 *   list, set: [int] n + n x [bytes] | map: [int] n + n x ([bytes] [bytes])
 *   tuple, udt: [bytes] per component, null allowed, may stop early
 *   duration: 3 zig-zag "vints" (Cassandra's: the count of leading 1 bits
 *             of the first byte is the number of extra bytes)
 *
 * Rules kept here:
 *   - validate is the single judge of well-formedness; to_text runs it
 *     first, so it renders only values validate accepts.
 *   - Big numbers (varint, decimal) are converted with 32-bit limbs in
 *     O(n^2); sizes are capped (16 KiB of varint to render, 10000 digits
 *     to parse) so hostile input costs milliseconds, not minutes.
 *   - Calendar arithmetic is proleptic Gregorian on int64 days
 *     (days_from_civil / civil_from_days), exact over the whole range of
 *     the date type (about -5.8 to +5.8 million years).
 *   - Everything is pure: no locale-dependent calls other than strtod on
 *     text this file has checked to be plain decimal (the C locale is
 *     what spate runs in).
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cql_codec.h"

#define TRY(x)                                                                                     \
    do {                                                                                           \
        spate_status_t st_ = (x);                                                                  \
        if (st_ != SPATE_OK) return st_;                                                           \
    } while (0)

#define MAX_VARINT_TEXT_BYTES 16384 /* to_text of a varint / decimal unscaled part */
#define MAX_NUMBER_DIGITS 10000     /* from_text of varint / decimal */
#define DATE_EPOCH 2147483648LL     /* 2^31: the date type's 1970-01-01 */
#define NANOS_PER_DAY 86400000000000LL
#define MS_PER_DAY 86400000LL

static spate_status_t fail(char *err, size_t errlen, const char *fmt, ...) SPATE_PRINTF(3, 4);
static spate_status_t fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return SPATE_EINVAL;
}

static void buf_cut(spate_buf_t *b, size_t len) {
    b->len = len;
    if (b->data) b->data[len] = '\0';
}

static uint64_t be_u(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

static int32_t be_i32(const uint8_t *p) { return (int32_t)(uint32_t)be_u(p, 4); }
static int64_t be_i64(const uint8_t *p) { return (int64_t)be_u(p, 8); }

static const char *tname(const spate_cql_datatype_t *t) {
    const char *n = spate_cql_type_name(t->id);
    return n ? n : "custom";
}

/* ------------------------------------------------------------------ */
/* Small decoders shared by validate and to_text                       */
/* ------------------------------------------------------------------ */

/* Index of the first byte that is not part of valid UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or SIZE_MAX. */
static size_t utf8_bad(const uint8_t *p, size_t n) {
    /* all ASCII (most text): words, the last one overlapping, then done */
    uint64_t v, any = 0;
    if (n == 0) return SIZE_MAX;
    if (n >= 8) {
        for (size_t j = 0; j + 8 <= n; j += 8) {
            memcpy(&v, p + j, 8);
            any |= v;
        }
        memcpy(&v, p + n - 8, 8);
        any |= v;
    } else {
        memcpy(&any, p, n);
    }
    if ((any & 0x8080808080808080ull) == 0) return SIZE_MAX;
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            /* ASCII runs (most text) eight bytes at a time */
            uint64_t w;
            while (n - i >= 8 && (memcpy(&w, p + i, 8), (w & 0x8080808080808080ull) == 0)) i += 8;
            continue;
        }
        size_t k;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) {
            k = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return i;
        }
        if (n - i <= k) return i;
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xC0) != 0x80) return i;
            cp = cp << 6 | (p[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += k + 1;
    }
    return SIZE_MAX;
}

/* One of Cassandra's vints (duration fields): the number of leading 1 bits
 * in the first byte is the number of bytes that follow; zig-zag signed. */
static bool rd_vint(const uint8_t *p, size_t len, size_t *off, int64_t *v) {
    if (*off >= len) return false;
    uint8_t first = p[(*off)++];
    int extra = 0;
    while (extra < 8 && (first & (0x80 >> extra))) extra++;
    if ((size_t)extra > len - *off) return false;
    uint64_t u = extra == 8 ? 0 : (uint64_t)(first & (0xFF >> extra));
    for (int i = 0; i < extra; i++) u = u << 8 | p[(*off)++];
    *v = (int64_t)((u >> 1) ^ (~(u & 1) + 1));
    return true;
}

/* A [bytes] element inside a collection value. */
typedef struct {
    const uint8_t *p;
    size_t len, off;
} vcur_t;

/* 1: got an element (len < 0 is null), 0: not enough bytes. */
static int vcur_elem(vcur_t *c, const uint8_t **ep, int32_t *elen) {
    if (c->len - c->off < 4) return 0;
    int32_t n = be_i32(c->p + c->off);
    if (n >= 0 && (size_t)n > c->len - c->off - 4) return 0;
    c->off += 4;
    *elen = n;
    *ep = c->p + c->off;
    if (n > 0) c->off += (size_t)n;
    return 1;
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

static spate_status_t validate(const spate_cql_datatype_t *t, const uint8_t *p, size_t len,
                               char *err, size_t el, int depth);

static spate_status_t validate_collection(const spate_cql_datatype_t *t, const uint8_t *p,
                                          size_t len, char *err, size_t el, int depth) {
    const char *what = tname(t);
    bool map = t->id == SPATE_CQL_MAP;
    if (!t->sub || t->n != (map ? 2 : 1)) return fail(err, el, "malformed %s type", what);
    if (len < 4) return fail(err, el, "Not enough bytes to read a %s", what);
    int32_t count = be_i32(p);
    if (count < 0) return fail(err, el, "Negative element count in a %s (%d)", what, count);
    vcur_t c = {p, len, 4};
    for (int32_t i = 0; i < count; i++) {
        for (int k = 0; k < (map ? 2 : 1); k++) {
            const uint8_t *ep;
            int32_t n;
            if (!vcur_elem(&c, &ep, &n))
                return fail(err, el, "Not enough bytes to read element %d of a %s", i, what);
            if (n < 0) return fail(err, el, "null is not supported inside collections");
            TRY(validate(&t->sub[k], ep, (size_t)n, err, el, depth + 1));
        }
    }
    if (c.off != len) return fail(err, el, "Unexpected extraneous bytes after %s value", what);
    return SPATE_OK;
}

static spate_status_t validate_tuple(const spate_cql_datatype_t *t, const uint8_t *p, size_t len,
                                     char *err, size_t el, int depth) {
    const char *what = t->id == SPATE_CQL_UDT ? "UDT" : "tuple";
    if (t->n && !t->sub) return fail(err, el, "malformed %s type", what);
    vcur_t c = {p, len, 0};
    for (uint16_t i = 0; c.off < len; i++) {
        if (i >= t->n) return fail(err, el, "Invalid remaining data after end of %s value", what);
        const uint8_t *ep;
        int32_t n;
        if (!vcur_elem(&c, &ep, &n))
            return fail(err, el, "Not enough bytes to read component %u of a %s", i, what);
        if (n >= 0) TRY(validate(&t->sub[i], ep, (size_t)n, err, el, depth + 1));
    }
    return SPATE_OK;
}

static spate_status_t validate(const spate_cql_datatype_t *t, const uint8_t *p, size_t len,
                               char *err, size_t el, int depth) {
    if (depth > SPATE_CQL_MAX_TYPE_DEPTH) return fail(err, el, "type nesting too deep");
    switch (t->id) {
    case SPATE_CQL_INT:
        if (len != 0 && len != 4) return fail(err, el, "Expected 4 or 0 byte int (%zu)", len);
        return SPATE_OK;
    case SPATE_CQL_BIGINT:
    case SPATE_CQL_COUNTER:
        if (len != 0 && len != 8) return fail(err, el, "Expected 8 or 0 byte long (%zu)", len);
        return SPATE_OK;
    case SPATE_CQL_TIMESTAMP:
        if (len != 0 && len != 8)
            return fail(err, el, "Expected 8 or 0 byte long for date (%zu)", len);
        return SPATE_OK;
    case SPATE_CQL_SMALLINT:
        if (len != 2) return fail(err, el, "Expected 2 bytes for a smallint (%zu)", len);
        return SPATE_OK;
    case SPATE_CQL_TINYINT:
        if (len != 1) return fail(err, el, "Expected 1 byte for a tinyint (%zu)", len);
        return SPATE_OK;
    case SPATE_CQL_BOOLEAN:
        if (len > 1) return fail(err, el, "Expected 1 or 0 byte value (%zu)", len);
        return SPATE_OK;
    case SPATE_CQL_DOUBLE:
        if (len != 0 && len != 8)
            return fail(err, el, "Expected 8 or 0 byte value for a double (%zu)", len);
        return SPATE_OK;
    case SPATE_CQL_FLOAT:
        if (len != 0 && len != 4)
            return fail(err, el, "Expected 4 or 0 byte value for a float (%zu)", len);
        return SPATE_OK;
    case SPATE_CQL_UUID:
        if (len != 0 && len != 16) return fail(err, el, "UUID should be 16 or 0 bytes (%zu)", len);
        return SPATE_OK;
    case SPATE_CQL_TIMEUUID:
        if (len != 0 && len != 16)
            return fail(err, el, "TimeUUID should be 16 or 0 bytes (%zu)", len);
        if (len == 16 && (p[6] & 0xF0) != 0x10)
            return fail(err, el, "Invalid version for TimeUUID type (%d, expected 1)", p[6] >> 4);
        return SPATE_OK;
    case SPATE_CQL_DATE:
        if (len != 4) return fail(err, el, "Expected 4 byte long for date (%zu)", len);
        return SPATE_OK;
    case SPATE_CQL_TIME: {
        if (len != 8) return fail(err, el, "Expected 8 byte long for time (%zu)", len);
        int64_t ns = be_i64(p);
        if (ns < 0 || ns >= NANOS_PER_DAY)
            return fail(err, el, "Time value out of range (%lld ns; expected 0 to %lld)",
                        (long long)ns, (long long)NANOS_PER_DAY - 1);
        return SPATE_OK;
    }
    case SPATE_CQL_INET:
        if (len != 0 && len != 4 && len != 16)
            return fail(err, el, "Expected 4 or 16 byte inetaddress (%zu)", len);
        return SPATE_OK;
    case SPATE_CQL_VARCHAR: {
        size_t bad = utf8_bad(p, len);
        if (bad != SIZE_MAX)
            return fail(err, el, "String didn't validate: invalid UTF-8 at byte %zu", bad);
        return SPATE_OK;
    }
    case SPATE_CQL_ASCII:
        for (size_t i = 0; i < len; i++)
            if (p[i] >= 0x80)
                return fail(err, el, "Invalid byte for ascii: %d at byte %zu", p[i], i);
        return SPATE_OK;
    case SPATE_CQL_BLOB:
    case SPATE_CQL_CUSTOM:
    case SPATE_CQL_VARINT: return SPATE_OK;
    case SPATE_CQL_DECIMAL:
        if (len != 0 && len < 5)
            return fail(err, el, "Expected 0 or at least 5 bytes for a decimal (%zu)", len);
        return SPATE_OK;
    case SPATE_CQL_DURATION: {
        if (len < 3) return fail(err, el, "Expected at least 3 bytes for a duration (%zu)", len);
        size_t off = 0;
        int64_t m, d, ns;
        if (!rd_vint(p, len, &off, &m) || !rd_vint(p, len, &off, &d) || !rd_vint(p, len, &off, &ns))
            return fail(err, el, "Not enough bytes to read a duration");
        if (off != len) return fail(err, el, "Unexpected extraneous bytes after duration value");
        if (m < INT32_MIN || m > INT32_MAX || d < INT32_MIN || d > INT32_MAX)
            return fail(err, el, "duration months or days out of range");
        if ((m > 0 || d > 0 || ns > 0) && (m < 0 || d < 0 || ns < 0))
            return fail(err, el,
                        "The duration months, days and nanoseconds must be all of the same sign");
        return SPATE_OK;
    }
    case SPATE_CQL_LIST:
    case SPATE_CQL_SET:
    case SPATE_CQL_MAP: return validate_collection(t, p, len, err, el, depth);
    case SPATE_CQL_TUPLE:
    case SPATE_CQL_UDT: return validate_tuple(t, p, len, err, el, depth);
    default: return fail(err, el, "unknown type id 0x%04x", (unsigned)t->id);
    }
}

spate_status_t spate_cql_value_validate(const spate_cql_datatype_t *t, const void *p, size_t len,
                                        char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    return validate(t, p, len, err, errlen, 0);
}

/* ------------------------------------------------------------------ */
/* Big numbers                                                         */
/* ------------------------------------------------------------------ */

/* Appends the decimal digits of |v| for the two's complement varint p
 * (len >= 1) and sets *neg. */
static spate_status_t varint_digits(const uint8_t *p, size_t len, spate_buf_t *b, bool *neg) {
    *neg = p[0] & 0x80;
    if (len <= 8) {
        uint64_t u = be_u(p, len);
        if (*neg && len < 8) u |= ~(uint64_t)0 << (8 * len); /* sign-extend */
        if (*neg) u = ~u + 1;                                /* |v|, INT64_MIN included */
        return spate_buf_printf(b, "%llu", (unsigned long long)u);
    }
    if (len > MAX_VARINT_TEXT_BYTES) return SPATE_ERANGE;
    /* Little-endian 32-bit limbs of the magnitude. */
    size_t nl = (len + 3) / 4;
    uint32_t *mag = malloc(nl * sizeof *mag);
    uint32_t *chunks = malloc((len * 3 / 9 + 2) * sizeof *chunks); /* 10^9 per chunk */
    if (!mag || !chunks) {
        free(mag);
        free(chunks);
        return SPATE_ENOMEM;
    }
    for (size_t i = 0; i < nl; i++) {
        uint32_t w = 0;
        for (int k = 3; k >= 0; k--) {
            size_t byte = i * 4 + (size_t)k; /* from the least significant end */
            uint8_t v = byte < len ? p[len - 1 - byte] : (*neg ? 0xFF : 0x00);
            w = w << 8 | v;
        }
        mag[i] = w;
    }
    if (*neg) {
        uint64_t carry = 1;
        for (size_t i = 0; i < nl; i++) {
            uint64_t s = (uint64_t)(uint32_t)~mag[i] + carry;
            mag[i] = (uint32_t)s;
            carry = s >> 32;
        }
    }
    size_t top = nl, nc = 0;
    while (top > 0 && mag[top - 1] == 0) top--;
    while (top > 0) {
        uint64_t rem = 0;
        for (size_t i = top; i-- > 0;) {
            uint64_t cur = rem << 32 | mag[i];
            mag[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        chunks[nc++] = (uint32_t)rem;
        while (top > 0 && mag[top - 1] == 0) top--;
    }
    spate_status_t st = SPATE_OK;
    if (nc == 0) st = spate_buf_putc(b, '0');
    for (size_t i = nc; i-- > 0 && st == SPATE_OK;)
        st = spate_buf_printf(b, i == nc - 1 ? "%u" : "%09u", chunks[i]);
    free(mag);
    free(chunks);
    return st;
}

/* Appends the minimal two's complement varint of sign and the decimal
 * digits d[0..n) (n <= MAX_NUMBER_DIGITS, all '0'..'9'). */
static spate_status_t varint_from_digits(const char *d, size_t n, bool neg, spate_buf_t *b) {
    size_t nl = n / 9 + 2, used = 0;
    uint32_t *mag = calloc(nl, sizeof *mag);
    if (!mag) return SPATE_ENOMEM;
    for (size_t i = 0; i < n;) {
        size_t k = SPATE_MIN(9, n - i);
        uint32_t chunk = 0, mul = 1;
        for (size_t j = 0; j < k; j++, i++) {
            chunk = chunk * 10 + (uint32_t)(d[i] - '0');
            mul *= 10;
        }
        uint64_t carry = chunk;
        for (size_t j = 0; j < used; j++) {
            uint64_t v = (uint64_t)mag[j] * mul + carry;
            mag[j] = (uint32_t)v;
            carry = v >> 32;
        }
        if (carry) mag[used++] = (uint32_t)carry;
    }
    /* Big-endian bytes with one spare leading byte for the sign. */
    size_t w = used * 4 + 1;
    uint8_t *out = malloc(w);
    if (!out) {
        free(mag);
        return SPATE_ENOMEM;
    }
    out[0] = 0;
    for (size_t j = 0; j < used; j++)
        for (int k = 0; k < 4; k++) out[w - 1 - j * 4 - (size_t)k] = (uint8_t)(mag[j] >> (8 * k));
    if (neg) {
        unsigned carry = 1;
        for (size_t i = w; i-- > 0;) {
            unsigned v = (uint8_t)~out[i] + carry;
            out[i] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    size_t s = 0;
    while (w - s > 1 &&
           ((out[s] == 0x00 && !(out[s + 1] & 0x80)) || (out[s] == 0xFF && (out[s + 1] & 0x80))))
        s++;
    spate_status_t st = spate_buf_append(b, out + s, w - s);
    free(out);
    free(mag);
    return st;
}

/* Java BigDecimal.toString / Python str(Decimal): plain when the scale is
 * not negative and the adjusted exponent is >= -6, else d.dddE±n. */
static spate_status_t decimal_text(const uint8_t *p, size_t len, spate_buf_t *b) {
    int64_t scale = be_i32(p);
    spate_buf_t d = SPATE_BUF_INIT;
    bool neg;
    spate_status_t st = varint_digits(p + 4, len - 4, &d, &neg);
    if (st != SPATE_OK) {
        spate_buf_free(&d);
        return st;
    }
    int64_t nd = (int64_t)d.len, adjusted = -scale + (nd - 1);
    if (neg) st = spate_buf_putc(b, '-');
    if (st == SPATE_OK && scale >= 0 && adjusted >= -6) {
        if (scale == 0) {
            st = spate_buf_append(b, d.data, d.len);
        } else if (nd > scale) {
            size_t ip = (size_t)(nd - scale);
            st = spate_buf_append(b, d.data, ip);
            if (st == SPATE_OK) st = spate_buf_putc(b, '.');
            if (st == SPATE_OK) st = spate_buf_append(b, d.data + ip, (size_t)scale);
        } else {
            st = spate_buf_puts(b, "0.");
            for (int64_t i = 0; i < scale - nd && st == SPATE_OK; i++) st = spate_buf_putc(b, '0');
            if (st == SPATE_OK) st = spate_buf_append(b, d.data, d.len);
        }
    } else if (st == SPATE_OK) {
        st = spate_buf_putc(b, d.data[0]);
        if (st == SPATE_OK && nd > 1) st = spate_buf_putc(b, '.');
        if (st == SPATE_OK && nd > 1) st = spate_buf_append(b, d.data + 1, d.len - 1);
        if (st == SPATE_OK)
            st = spate_buf_printf(b, "E%s%lld", adjusted >= 0 ? "+" : "", (long long)adjusted);
    }
    spate_buf_free(&d);
    return st;
}

/* ------------------------------------------------------------------ */
/* Calendar                                                            */
/* ------------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m) {
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

/* ------------------------------------------------------------------ */
/* to_text                                                             */
/* ------------------------------------------------------------------ */

static spate_status_t put_double(spate_buf_t *b, double v, bool is_float) {
    if (isnan(v)) return spate_buf_puts(b, "NaN");
    if (isinf(v)) return spate_buf_puts(b, v > 0 ? "Infinity" : "-Infinity");
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (is_float ? strtof(tmp, NULL) == (float)v : strtod(tmp, NULL) == v) break;
    }
    return spate_buf_puts(b, tmp);
}

static spate_status_t put_quoted(spate_buf_t *b, const uint8_t *p, size_t len) {
    TRY(spate_buf_putc(b, '\''));
    size_t from = 0;
    for (size_t i = 0; i < len; i++)
        if (p[i] == '\'') {
            TRY(spate_buf_append(b, p + from, i + 1 - from));
            TRY(spate_buf_putc(b, '\''));
            from = i + 1;
        }
    TRY(spate_buf_append(b, p + from, len - from));
    return spate_buf_putc(b, '\'');
}

static spate_status_t put_timestamp(spate_buf_t *b, int64_t ms, bool nested) {
    /* Split without forming days * MS_PER_DAY, which overflows near INT64_MIN. */
    int64_t days = ms / MS_PER_DAY, rem = ms % MS_PER_DAY, y;
    if (rem < 0) rem += MS_PER_DAY, days--;
    int mo, d;
    civil_from_days(days, &y, &mo, &d);
    if (y < 1 || y > 9999) return spate_buf_printf(b, "%lld", (long long)ms);
    return spate_buf_printf(b, "%s%04d-%02d-%02d %02d:%02d:%02d.%03d000+0000%s", nested ? "'" : "",
                            (int)y, mo, d, (int)(rem / 3600000), (int)(rem / 60000 % 60),
                            (int)(rem / 1000 % 60), (int)(rem % 1000), nested ? "'" : "");
}

static spate_status_t to_text(const spate_cql_datatype_t *t, const uint8_t *p, size_t len,
                              spate_buf_t *b, bool nested);

static spate_status_t put_elem(const spate_cql_datatype_t *t, const uint8_t *p, int32_t n,
                               spate_buf_t *b) {
    if (n < 0) return spate_buf_puts(b, "null");
    return to_text(t, p, (size_t)n, b, true);
}

static spate_status_t collection_text(const spate_cql_datatype_t *t, const uint8_t *p, size_t len,
                                      spate_buf_t *b) {
    bool map = t->id == SPATE_CQL_MAP;
    int32_t count = be_i32(p);
    vcur_t c = {p, len, 4};
    TRY(spate_buf_putc(b, t->id == SPATE_CQL_LIST ? '[' : '{'));
    for (int32_t i = 0; i < count; i++) {
        const uint8_t *ep;
        int32_t n;
        if (i) TRY(spate_buf_puts(b, ", "));
        if (!vcur_elem(&c, &ep, &n)) return SPATE_EINVAL;
        TRY(put_elem(&t->sub[0], ep, n, b));
        if (map) {
            TRY(spate_buf_puts(b, ": "));
            if (!vcur_elem(&c, &ep, &n)) return SPATE_EINVAL;
            TRY(put_elem(&t->sub[1], ep, n, b));
        }
    }
    return spate_buf_putc(b, t->id == SPATE_CQL_LIST ? ']' : '}');
}

/* Tuples print (a, b); UDTs {name: a, ...}. Components the value stops
 * short of print as null, as the python driver pads them. */
static spate_status_t tuple_text(const spate_cql_datatype_t *t, const uint8_t *p, size_t len,
                                 spate_buf_t *b) {
    bool udt = t->id == SPATE_CQL_UDT;
    vcur_t c = {p, len, 0};
    TRY(spate_buf_putc(b, udt ? '{' : '('));
    for (uint16_t i = 0; i < t->n; i++) {
        if (i) TRY(spate_buf_puts(b, ", "));
        if (udt) {
            if (t->fields && t->fields[i].p && t->fields[i].len > 0)
                TRY(spate_buf_append(b, t->fields[i].p, (size_t)t->fields[i].len));
            else
                TRY(spate_buf_printf(b, "field%u", i));
            TRY(spate_buf_puts(b, ": "));
        }
        const uint8_t *ep = NULL;
        int32_t n = SPATE_CQL_NULL;
        if (c.off < len && !vcur_elem(&c, &ep, &n)) return SPATE_EINVAL;
        TRY(put_elem(&t->sub[i], ep, n, b));
    }
    return spate_buf_putc(b, udt ? '}' : ')');
}

static spate_status_t to_text(const spate_cql_datatype_t *t, const uint8_t *p, size_t len,
                              spate_buf_t *b, bool nested) {
    bool stringy = t->id == SPATE_CQL_VARCHAR || t->id == SPATE_CQL_ASCII ||
                   t->id == SPATE_CQL_BLOB || t->id == SPATE_CQL_CUSTOM;
    if (len == 0 && !stringy) return SPATE_OK; /* the legacy empty value */
    char tmp[64];
    switch (t->id) {
    case SPATE_CQL_INT: return spate_buf_printf(b, "%d", be_i32(p));
    case SPATE_CQL_BIGINT:
    case SPATE_CQL_COUNTER: return spate_buf_printf(b, "%lld", (long long)be_i64(p));
    case SPATE_CQL_SMALLINT: return spate_buf_printf(b, "%d", (int16_t)be_u(p, 2));
    case SPATE_CQL_TINYINT: return spate_buf_printf(b, "%d", (int8_t)p[0]);
    case SPATE_CQL_BOOLEAN: return spate_buf_puts(b, p[0] ? "True" : "False");
    case SPATE_CQL_DOUBLE: {
        double v;
        uint64_t u = be_u(p, 8);
        memcpy(&v, &u, 8);
        return put_double(b, v, false);
    }
    case SPATE_CQL_FLOAT: {
        float v;
        uint32_t u = (uint32_t)be_u(p, 4);
        memcpy(&v, &u, 4);
        return put_double(b, v, true);
    }
    case SPATE_CQL_VARCHAR:
    case SPATE_CQL_ASCII:
        if (nested) return put_quoted(b, p, len);
        return spate_buf_append(b, p, len);
    case SPATE_CQL_BLOB:
    case SPATE_CQL_CUSTOM:
        TRY(spate_buf_reserve(b, 2 + 2 * len));
        TRY(spate_buf_puts(b, "0x"));
        for (size_t i = 0; i < len; i++) {
            static const char hex[] = "0123456789abcdef";
            char h[2] = {hex[p[i] >> 4], hex[p[i] & 15]};
            spate_buf_put_fast(b, h, 2);
        }
        return SPATE_OK;
    case SPATE_CQL_UUID:
    case SPATE_CQL_TIMEUUID: spate_uuid_format(p, tmp); return spate_buf_puts(b, tmp);
    case SPATE_CQL_TIMESTAMP: return put_timestamp(b, be_i64(p), nested);
    case SPATE_CQL_DATE: {
        int64_t days = (int64_t)be_u(p, 4) - DATE_EPOCH, y;
        int m, d;
        civil_from_days(days, &y, &m, &d);
        if (y < 1 || y > 9999) return spate_buf_printf(b, "%lld", (long long)days);
        return spate_buf_printf(b, "%04d-%02d-%02d", (int)y, m, d);
    }
    case SPATE_CQL_TIME: {
        int64_t ns = be_i64(p);
        int64_t s = ns / 1000000000;
        return spate_buf_printf(b, "%02d:%02d:%02d.%09d", (int)(s / 3600), (int)(s / 60 % 60),
                                (int)(s % 60), (int)(ns % 1000000000));
    }
    case SPATE_CQL_INET:
        if (!inet_ntop(len == 4 ? AF_INET : AF_INET6, p, tmp, sizeof tmp)) return SPATE_EINVAL;
        return spate_buf_puts(b, tmp);
    case SPATE_CQL_VARINT: {
        bool neg;
        if (p[0] & 0x80) TRY(spate_buf_putc(b, '-'));
        return varint_digits(p, len, b, &neg);
    }
    case SPATE_CQL_DECIMAL: return decimal_text(p, len, b);
    case SPATE_CQL_DURATION: {
        size_t off = 0;
        int64_t m = 0, d = 0, ns = 0;
        rd_vint(p, len, &off, &m);
        rd_vint(p, len, &off, &d);
        rd_vint(p, len, &off, &ns);
        bool neg = m < 0 || d < 0 || ns < 0;
        /* |INT64_MIN| does not fit: print it through unsigned. */
        uint64_t un = ns < 0 ? ~(uint64_t)ns + 1 : (uint64_t)ns;
        return spate_buf_printf(b, "%s%lldmo%lldd%lluns", neg ? "-" : "", (long long)llabs(m),
                                (long long)llabs(d), (unsigned long long)un);
    }
    case SPATE_CQL_LIST:
    case SPATE_CQL_SET:
    case SPATE_CQL_MAP: return collection_text(t, p, len, b);
    case SPATE_CQL_TUPLE:
    case SPATE_CQL_UDT: return tuple_text(t, p, len, b);
    default: return SPATE_EINVAL;
    }
}

spate_status_t spate_cql_value_to_text(const spate_cql_datatype_t *t, const void *p, size_t len,
                                       spate_buf_t *b) {
    TRY(spate_cql_value_validate(t, p, len, NULL, 0));
    size_t start = b->len;
    spate_status_t st = to_text(t, p, len, b, false);
    if (st != SPATE_OK) buf_cut(b, start);
    return st;
}

/* ------------------------------------------------------------------ */
/* from_text                                                           */
/* ------------------------------------------------------------------ */

/* Reads 1..maxd decimal digits at s[*i]; false if there are none (or more
 * than maxd). */
static bool digits(const char *s, size_t n, size_t *i, size_t maxd, int64_t *v) {
    size_t start = *i;
    int64_t x = 0;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
        if (*i - start >= maxd) return false;
        x = x * 10 + (s[*i] - '0');
        (*i)++;
    }
    *v = x;
    return *i > start;
}

/* Whole text as a decimal integer in [min, max] (optional sign).
 * 1 = ok, 0 = not an integer, -1 = out of range. */
static int parse_int(const char *s, size_t n, int64_t min, int64_t max, int64_t *out) {
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
    if (i == n) return 0;
    uint64_t lim = neg ? (uint64_t)0 - (uint64_t)min : (uint64_t)max, v = 0;
    bool over = false;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        unsigned dgt = (unsigned)(s[i] - '0');
        if (v > (lim - dgt) / 10) over = true;
        if (!over) v = v * 10 + dgt;
    }
    if (over || v > lim) return -1;
    *out = neg ? (int64_t)((uint64_t)0 - v) : (int64_t)v;
    return 1;
}

static bool all_int_syntax(const char *s, size_t n) {
    size_t i = (n && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    if (i == n) return false;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

static spate_status_t put_be(spate_buf_t *b, uint64_t v, size_t n) {
    uint8_t tmp[8];
    for (size_t i = 0; i < n; i++) tmp[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return spate_buf_append(b, tmp, n);
}

/* Plain decimal number syntax: [sign] digits [. digits] [e [sign] digits],
 * with at least one mantissa digit. Fills the parts for decimal. */
typedef struct {
    bool neg;
    const char *ip, *fp; /* integer and fraction digits */
    size_t in, fn;
    bool has_exp;
    int64_t exp;
    bool exp_over;
} num_t;

static bool parse_num(const char *s, size_t n, num_t *x) {
    memset(x, 0, sizeof *x);
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) x->neg = s[i++] == '-';
    x->ip = s + i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++, x->in++;
    if (i < n && s[i] == '.') {
        i++;
        x->fp = s + i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++, x->fn++;
    }
    if (x->in + x->fn == 0) return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (s[i] == '-' || s[i] == '+')) eneg = s[i++] == '-';
        if (i == n) return false;
        x->has_exp = true;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            if (x->exp > 100000000000LL)
                x->exp_over = true;
            else
                x->exp = x->exp * 10 + (s[i] - '0');
        }
        if (eneg) x->exp = -x->exp;
    }
    return i == n;
}

static spate_status_t float_from_text(const spate_cql_datatype_t *t, const char *s, size_t n,
                                      spate_buf_t *b, char *err, size_t el) {
    bool is_float = t->id == SPATE_CQL_FLOAT;
    double v;
    if (n == 3 && strncasecmp(s, "nan", 3) == 0) {
        v = NAN;
    } else if ((n == 8 && strncasecmp(s, "infinity", 8) == 0) ||
               (n == 9 && strncasecmp(s, "+infinity", 9) == 0)) {
        v = INFINITY;
    } else if (n == 9 && strncasecmp(s, "-infinity", 9) == 0) {
        v = -INFINITY;
    } else {
        num_t x;
        if (n > 1000 || !parse_num(s, n, &x))
            return fail(err, el, "Unable to make %s from '%.*s'", tname(t), (int)SPATE_MIN(n, 64),
                        s);
        char tmp[1001];
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        v = is_float ? (double)strtof(tmp, NULL) : strtod(tmp, NULL);
    }
    if (is_float) {
        float f = (float)v;
        uint32_t u;
        memcpy(&u, &f, 4);
        return put_be(b, u, 4);
    }
    uint64_t u;
    memcpy(&u, &v, 8);
    return put_be(b, u, 8);
}

static spate_status_t varint_from_text(const char *s, size_t n, spate_buf_t *b, char *err,
                                       size_t el) {
    if (!all_int_syntax(s, n))
        return fail(err, el, "Unable to make varint from '%.*s'", (int)SPATE_MIN(n, 64), s);
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-' || s[0] == '+') neg = s[i++] == '-';
    while (i < n - 1 && s[i] == '0') i++;
    if (n - i > MAX_NUMBER_DIGITS)
        return fail(err, el, "varint literal too long (%zu digits, at most %d)", n - i,
                    MAX_NUMBER_DIGITS);
    return varint_from_digits(s + i, n - i, neg, b);
}

static spate_status_t decimal_from_text(const char *s, size_t n, spate_buf_t *b, char *err,
                                        size_t el) {
    num_t x;
    if (!parse_num(s, n, &x))
        return fail(err, el, "Unable to make decimal from '%.*s'", (int)SPATE_MIN(n, 64), s);
    int64_t scale = (int64_t)x.fn - x.exp;
    if (x.exp_over || scale < INT32_MIN || scale > INT32_MAX)
        return fail(err, el, "decimal scale out of range in '%.*s'", (int)SPATE_MIN(n, 64), s);
    if (x.in + x.fn > MAX_NUMBER_DIGITS)
        return fail(err, el, "decimal literal too long (%zu digits, at most %d)", x.in + x.fn,
                    MAX_NUMBER_DIGITS);
    char *d = malloc(x.in + x.fn + 1);
    if (!d) return SPATE_ENOMEM;
    if (x.in) memcpy(d, x.ip, x.in);
    if (x.fn) memcpy(d + x.in, x.fp, x.fn);
    size_t nd = x.in + x.fn, lead = 0;
    while (lead < nd - 1 && d[lead] == '0') lead++;
    spate_status_t st = put_be(b, (uint32_t)(int32_t)scale, 4);
    if (st == SPATE_OK) st = varint_from_digits(d + lead, nd - lead, x.neg, b);
    free(d);
    return st;
}

/* yyyy-mm-dd at s[*i] (year 1..9 digits, optional '-' before it when
 * allow_neg); days since 1970-01-01. */
static bool parse_ymd(const char *s, size_t n, size_t *i, bool allow_neg, int64_t *days) {
    bool neg = false;
    if (allow_neg && *i < n && s[*i] == '-') neg = true, (*i)++;
    int64_t y, m, d;
    if (!digits(s, n, i, 9, &y) || *i >= n || s[(*i)++] != '-') return false;
    if (!digits(s, n, i, 2, &m) || *i >= n || s[(*i)++] != '-') return false;
    if (!digits(s, n, i, 2, &d)) return false;
    if (neg) y = -y;
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, (int)m)) return false;
    *days = days_from_civil(y, (int)m, (int)d);
    return true;
}

/* hh:mm[:ss[.f...]] at s[*i] as nanoseconds of the day; need_seconds for
 * the time type. */
static bool parse_hms(const char *s, size_t n, size_t *i, bool need_seconds, int64_t *ns) {
    int64_t h, m, sec = 0, frac = 0;
    if (!digits(s, n, i, 2, &h) || *i >= n || s[(*i)++] != ':') return false;
    if (!digits(s, n, i, 2, &m)) return false;
    if (*i < n && s[*i] == ':') {
        (*i)++;
        if (!digits(s, n, i, 2, &sec)) return false;
        if (*i < n && s[*i] == '.') {
            (*i)++;
            size_t start = *i;
            if (!digits(s, n, i, 9, &frac)) return false;
            for (size_t k = *i - start; k < 9; k++) frac *= 10;
        }
    } else if (need_seconds) {
        return false;
    }
    if (h > 23 || m > 59 || sec > 59) return false;
    *ns = ((h * 60 + m) * 60 + sec) * 1000000000 + frac;
    return true;
}

/* Zone suffix at s[*i]: Z, UTC, GMT, [+-]hh, [+-]hhmm, [+-]hh:mm, with an
 * optional space before it. Offset in minutes east of UTC. */
static bool parse_zone(const char *s, size_t n, size_t *i, int64_t *minutes) {
    *minutes = 0;
    if (*i < n && s[*i] == ' ') (*i)++;
    if (*i < n && (s[*i] == 'Z' || s[*i] == 'z')) {
        (*i)++;
        return true;
    }
    if (n - *i >= 3 && (strncasecmp(s + *i, "UTC", 3) == 0 || strncasecmp(s + *i, "GMT", 3) == 0)) {
        *i += 3;
        if (*i == n) return true;
    }
    if (*i >= n || (s[*i] != '+' && s[*i] != '-')) return false;
    bool neg = s[(*i)++] == '-';
    int64_t h, m = 0;
    size_t start = *i;
    if (!digits(s, n, i, 4, &h)) return false;
    if (*i - start == 4) {
        m = h % 100;
        h /= 100;
    } else if (*i - start != 2) {
        return false;
    } else if (*i < n && s[*i] == ':') {
        (*i)++;
        start = *i;
        if (!digits(s, n, i, 2, &m) || *i - start != 2) return false;
    }
    if (h > 23 || m > 59) return false;
    *minutes = (neg ? -1 : 1) * (h * 60 + m);
    return true;
}

static spate_status_t timestamp_from_text(const char *s, size_t n, spate_buf_t *b, char *err,
                                          size_t el) {
    int64_t ms;
    if (all_int_syntax(s, n)) {
        if (parse_int(s, n, INT64_MIN, INT64_MAX, &ms) != 1)
            return fail(err, el, "timestamp out of range: '%.*s'", (int)SPATE_MIN(n, 64), s);
        return put_be(b, (uint64_t)ms, 8);
    }
    size_t i = 0;
    int64_t days, ns = 0, zone = 0;
    bool ok = parse_ymd(s, n, &i, false, &days);
    if (ok && i < n && (s[i] == ' ' || s[i] == 'T') && i + 1 < n && s[i + 1] >= '0' &&
        s[i + 1] <= '9') {
        i++;
        ok = parse_hms(s, n, &i, false, &ns);
    }
    if (ok && i < n) ok = parse_zone(s, n, &i, &zone) && i == n;
    int64_t t;
    if (!ok || __builtin_mul_overflow(days, MS_PER_DAY, &t) ||
        __builtin_add_overflow(t, ns / 1000000 - zone * 60000, &ms))
        return fail(err, el, "Unable to coerce '%.*s' to a formatted date (long)",
                    (int)SPATE_MIN(n, 64), s);
    return put_be(b, (uint64_t)ms, 8);
}

static spate_status_t date_from_text(const char *s, size_t n, spate_buf_t *b, char *err,
                                     size_t el) {
    int64_t v;
    if (all_int_syntax(s, n)) {
        /* Cassandra reads a bare number as the raw unsigned day count. */
        if (parse_int(s, n, 0, UINT32_MAX, &v) != 1)
            return fail(err, el,
                        "Input date %.*s is out of range of supported date. Valid range: [0, "
                        "2^32-1]",
                        (int)SPATE_MIN(n, 64), s);
        return put_be(b, (uint64_t)v, 4);
    }
    size_t i = 0;
    int64_t days;
    if (!parse_ymd(s, n, &i, true, &days) || i != n)
        return fail(err, el, "Unable to coerce '%.*s' to a formatted date (long)",
                    (int)SPATE_MIN(n, 64), s);
    if (days < INT32_MIN || days > INT32_MAX)
        return fail(err, el, "Input date %.*s is out of range of supported date",
                    (int)SPATE_MIN(n, 64), s);
    return put_be(b, (uint64_t)(days + DATE_EPOCH), 4);
}

static spate_status_t time_from_text(const char *s, size_t n, spate_buf_t *b, char *err,
                                     size_t el) {
    int64_t ns;
    if (all_int_syntax(s, n)) {
        if (parse_int(s, n, 0, NANOS_PER_DAY - 1, &ns) != 1)
            return fail(err, el, "Input long out of bounds: %.*s", (int)SPATE_MIN(n, 64), s);
        return put_be(b, (uint64_t)ns, 8);
    }
    size_t i = 0;
    if (!parse_hms(s, n, &i, true, &ns) || i != n)
        return fail(err, el, "Timestamp format must be hh:mm:ss[.fffffffff] ('%.*s')",
                    (int)SPATE_MIN(n, 64), s);
    return put_be(b, (uint64_t)ns, 8);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static spate_status_t blob_from_text(const char *s, size_t n, spate_buf_t *b, char *err,
                                     size_t el) {
    if (n < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || n % 2)
        return fail(err, el, "cannot parse '%.*s' as hex bytes", (int)SPATE_MIN(n, 64), s);
    TRY(spate_buf_reserve(b, (n - 2) / 2));
    for (size_t i = 2; i < n; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return fail(err, el, "cannot parse '%.*s' as hex bytes", (int)SPATE_MIN(n, 64), s);
    }
    for (size_t i = 2; i < n; i += 2) {
        uint8_t v = (uint8_t)(hexval(s[i]) << 4 | hexval(s[i + 1]));
        spate_buf_put_fast(b, &v, 1);
    }
    return SPATE_OK;
}

static spate_status_t from_text(const spate_cql_datatype_t *t, const char *s, size_t n,
                                spate_buf_t *b, char *err, size_t el) {
    int64_t v;
    int r;
    switch (t->id) {
    case SPATE_CQL_TINYINT:
    case SPATE_CQL_SMALLINT:
    case SPATE_CQL_INT:
    case SPATE_CQL_BIGINT:
    case SPATE_CQL_COUNTER: {
        size_t w = t->id == SPATE_CQL_TINYINT    ? 1
                   : t->id == SPATE_CQL_SMALLINT ? 2
                   : t->id == SPATE_CQL_INT      ? 4
                                                 : 8;
        int64_t max = w == 8 ? INT64_MAX : (int64_t)((UINT64_C(1) << (8 * w - 1)) - 1);
        r = parse_int(s, n, -max - 1, max, &v);
        if (r == 0)
            return fail(err, el, "Unable to make %s from '%.*s'", tname(t), (int)SPATE_MIN(n, 64),
                        s);
        if (r < 0)
            return fail(err, el, "Value '%.*s' out of range for %s (%lld to %lld)",
                        (int)SPATE_MIN(n, 64), s, tname(t), (long long)(-max - 1), (long long)max);
        return put_be(b, (uint64_t)v, w);
    }
    case SPATE_CQL_VARINT: return varint_from_text(s, n, b, err, el);
    case SPATE_CQL_DECIMAL: return decimal_from_text(s, n, b, err, el);
    case SPATE_CQL_FLOAT:
    case SPATE_CQL_DOUBLE: return float_from_text(t, s, n, b, err, el);
    case SPATE_CQL_BOOLEAN:
        if (n == 4 && strncasecmp(s, "true", 4) == 0) return spate_buf_putc(b, 1);
        if (n == 5 && strncasecmp(s, "false", 5) == 0) return spate_buf_putc(b, 0);
        return fail(err, el, "Unable to make boolean from '%.*s'", (int)SPATE_MIN(n, 64), s);
    case SPATE_CQL_UUID:
    case SPATE_CQL_TIMEUUID: {
        uint8_t u[16];
        if (spate_uuid_parse(s, n, u) != SPATE_OK)
            return fail(err, el, "Unable to make UUID from '%.*s'", (int)SPATE_MIN(n, 64), s);
        if (t->id == SPATE_CQL_TIMEUUID && (u[6] & 0xF0) != 0x10)
            return fail(err, el, "Unknown timeuuid representation: %.*s (not a version 1 UUID)",
                        (int)n, s);
        return spate_buf_append(b, u, 16);
    }
    case SPATE_CQL_BLOB: return blob_from_text(s, n, b, err, el);
    case SPATE_CQL_VARCHAR:
    case SPATE_CQL_ASCII:
        TRY(validate(t, (const uint8_t *)s, n, err, el, 0));
        return spate_buf_append(b, s, n);
    case SPATE_CQL_TIMESTAMP: return timestamp_from_text(s, n, b, err, el);
    case SPATE_CQL_DATE: return date_from_text(s, n, b, err, el);
    case SPATE_CQL_TIME: return time_from_text(s, n, b, err, el);
    case SPATE_CQL_INET: {
        char tmp[64];
        uint8_t a[16];
        if (n < sizeof tmp) {
            memcpy(tmp, s, n);
            tmp[n] = '\0';
            if (inet_pton(AF_INET, tmp, a) == 1) return spate_buf_append(b, a, 4);
            if (inet_pton(AF_INET6, tmp, a) == 1) return spate_buf_append(b, a, 16);
        }
        return fail(err, el, "Unable to make inet address from '%.*s'", (int)SPATE_MIN(n, 64), s);
    }
    default: return fail(err, el, "cannot parse a %s value from text here", tname(t));
    }
}

spate_status_t spate_cql_value_from_text(const spate_cql_datatype_t *t, const char *text,
                                         size_t len, spate_buf_t *b, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    size_t start = b->len;
    spate_status_t st = from_text(t, text, len, b, err, errlen);
    if (st != SPATE_OK) buf_cut(b, start);
    return st;
}

/* ------------------------------------------------------------------ */
/* Encoders of C values                                                */
/* ------------------------------------------------------------------ */

spate_status_t spate_cql_value_put_bool(spate_buf_t *b, bool v) {
    return spate_wr_u8(b, v ? 1 : 0);
}
spate_status_t spate_cql_value_put_i8(spate_buf_t *b, int8_t v) {
    return spate_wr_u8(b, (uint8_t)v);
}
spate_status_t spate_cql_value_put_i16(spate_buf_t *b, int16_t v) {
    return spate_wr_u16(b, (uint16_t)v);
}
spate_status_t spate_cql_value_put_i32(spate_buf_t *b, int32_t v) {
    return spate_wr_u32(b, (uint32_t)v);
}
spate_status_t spate_cql_value_put_i64(spate_buf_t *b, int64_t v) {
    return spate_wr_u64(b, (uint64_t)v);
}

spate_status_t spate_cql_value_put_float(spate_buf_t *b, float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    return spate_wr_u32(b, u);
}

spate_status_t spate_cql_value_put_double(spate_buf_t *b, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    return spate_wr_u64(b, u);
}

spate_status_t spate_cql_value_put_text(spate_buf_t *b, const char *p, size_t n) {
    return spate_buf_append(b, p, n);
}

spate_status_t spate_cql_value_put_uuid(spate_buf_t *b, const uint8_t u[16]) {
    return spate_buf_append(b, u, 16);
}

spate_status_t spate_cql_value_put_date(spate_buf_t *b, int32_t days_since_epoch) {
    return spate_wr_u32(b, (uint32_t)((int64_t)days_since_epoch + DATE_EPOCH));
}

spate_status_t spate_cql_value_put_varint(spate_buf_t *b, int64_t v) {
    uint8_t tmp[8];
    for (int i = 0; i < 8; i++) tmp[i] = (uint8_t)((uint64_t)v >> (8 * (7 - i)));
    size_t s = 0;
    while (s < 7 &&
           ((tmp[s] == 0x00 && !(tmp[s + 1] & 0x80)) || (tmp[s] == 0xFF && (tmp[s + 1] & 0x80))))
        s++;
    return spate_buf_append(b, tmp + s, 8 - s);
}

spate_status_t spate_cql_value_put_collection(spate_buf_t *b, spate_cql_type_t kind,
                                              const spate_slice_t *elems, size_t n) {
    bool tuple = kind == SPATE_CQL_TUPLE || kind == SPATE_CQL_UDT;
    if (!tuple && kind != SPATE_CQL_LIST && kind != SPATE_CQL_SET && kind != SPATE_CQL_MAP)
        return SPATE_EINVAL;
    if (kind == SPATE_CQL_MAP && n % 2) return SPATE_EINVAL;
    size_t count = kind == SPATE_CQL_MAP ? n / 2 : n, need = tuple ? 0 : 4;
    if (count > INT32_MAX) return SPATE_ERANGE;
    for (size_t i = 0; i < n; i++) {
        bool null = !elems[i].p || elems[i].len < 0;
        if (null && !tuple) return SPATE_EINVAL;
        need += 4 + (null ? 0 : (size_t)elems[i].len);
    }
    TRY(spate_buf_reserve(b, need));
    if (!tuple) spate_wr_u32(b, (uint32_t)count);
    for (size_t i = 0; i < n; i++) {
        if (!elems[i].p || elems[i].len < 0) {
            spate_wr_i32(b, SPATE_CQL_NULL);
        } else {
            spate_wr_u32(b, (uint32_t)elems[i].len);
            spate_buf_put_fast(b, elems[i].p, (size_t)elems[i].len);
        }
    }
    return SPATE_OK;
}
