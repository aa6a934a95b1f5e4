/*
 * cql_key.c — the storage encoding of `spate cql`: order-preserving value
 * encodings, RocksDB keys, iterator bounds, cell and deletion values and
 * Cassandra's reconciliation rules. The layouts are in cql_key.h; this
 * note covers how the code is organised and the invariants it keeps.
 *
 *   enc_*   append an encoding to a spate_buf_t
 *   dec_*   read through a dec_t, a cursor that xors every byte it reads
 *           with a mask (0x00 for ASC, 0xFF for a DESC component), so one
 *           decoder serves both orders; they append serialized bytes to
 *           the dec_t's output buffer
 *
 * Invariants:
 *   - every encoded value is prefix-free (fixed width, terminated, or
 *     length-prefixed), so inverting a whole component reverses its order
 *     and concatenated components sort lexicographically;
 *   - decoders accept exactly the image of the encoders: non-canonical
 *     bytes (a bad escape, a non-minimal varint, a NaN other than Java's,
 *     a decimal with a trailing zero digit) are EINVAL, so decode then
 *     encode reproduces the key byte for byte (the fuzz target checks it);
 *   - work is bounded by SPATE_CQL_KEY_MAX_VALUE per top-level value: the
 *     encoder refuses longer values and the decoder stops a value whose
 *     serialized form would exceed it before building it (a decimal's
 *     exponent could otherwise ask for millions of digits).
 *
 * varint and decimal need arbitrary-precision arithmetic only to convert a
 * decimal's unscaled integer between binary and base 10 (the key orders
 * decimals by their decimal digits): schoolbook division / multiply-add by
 * 10^9 on 32-bit limbs, quadratic in the length, which the 64 KiB limit
 * keeps to well under a second.
 */
#include <stdlib.h>
#include <string.h>

#include "cql_key.h"

/* Value headers (see cql_key.h). */
enum { H_END = 0x3E, H_NULL = 0x3F, H_EMPTY = 0x40, H_VALUE = 0x41 };

/* Byte after a partition key when a slice has no lower bound: above the
 * partition-level kinds (01..03), below rows (components >= 0x40, row
 * kinds >= 0x10). */
#define KEY_ROWS_START 0x04

#define SIGN64 0x8000000000000000ULL
#define SIGN32 0x80000000U

/* Most decimal digits an unscaled integer of SPATE_CQL_KEY_MAX_VALUE bytes
 * can have (65535 * log10(256) < 157827). */
#define MAX_DIGITS 157900

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static inline uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }
static inline void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void put_be64(uint8_t *p, uint64_t v) {
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

static void invert(spate_buf_t *out, size_t from) {
    for (size_t i = from; i < out->len; i++) out->data[i] = (char)~out->data[i];
}

static bool ktype_ok(const spate_cql_ktype_t *t) {
    if (t == NULL) return false;
    switch (t->id) {
    case SPATE_CQL_LIST:
    case SPATE_CQL_SET: return t->n >= 1 && t->sub != NULL;
    case SPATE_CQL_MAP: return t->n >= 2 && t->sub != NULL;
    case SPATE_CQL_TUPLE:
    case SPATE_CQL_UDT: return t->n == 0 || t->sub != NULL;
    case SPATE_CQL_ASCII:
    case SPATE_CQL_BIGINT:
    case SPATE_CQL_BLOB:
    case SPATE_CQL_BOOLEAN:
    case SPATE_CQL_DECIMAL:
    case SPATE_CQL_DOUBLE:
    case SPATE_CQL_FLOAT:
    case SPATE_CQL_INT:
    case SPATE_CQL_TIMESTAMP:
    case SPATE_CQL_UUID:
    case SPATE_CQL_VARCHAR:
    case SPATE_CQL_VARINT:
    case SPATE_CQL_TIMEUUID:
    case SPATE_CQL_INET:
    case SPATE_CQL_DATE:
    case SPATE_CQL_TIME:
    case SPATE_CQL_SMALLINT:
    case SPATE_CQL_TINYINT: return true;
    default: return false; /* counter, duration, custom: never in a key */
    }
}

/* ------------------------------------------------------------------ */
/* Arbitrary-precision magnitudes (little-endian 32-bit limbs)         */
/* ------------------------------------------------------------------ */

typedef struct {
    uint32_t *w;
    size_t n; /* limbs in use; no leading zero limbs; 0 is the number 0 */
} big_t;

static void big_trim(big_t *b) {
    while (b->n > 0 && b->w[b->n - 1] == 0) b->n--;
}

/* b = the big-endian magnitude p[0..len); b->w holds (len + 3) / 4. */
static void big_from_be(big_t *b, const uint8_t *p, size_t len) {
    size_t nl = (len + 3) / 4;
    for (size_t i = 0; i < nl; i++) {
        uint32_t v = 0;
        for (size_t j = 4; j-- > 0;) {
            size_t back = 4 * i + j; /* position counted from the last byte */
            v = (v << 8) | (back < len ? p[len - 1 - back] : 0);
        }
        b->w[i] = v;
    }
    b->n = nl;
    big_trim(b);
}

/* b /= 10^9; returns the remainder. The constant divisor lets the
 * compiler divide by multiplying, several times faster than a divide
 * instruction in this, the hottest loop of a long decimal. */
static uint32_t big_divmod_1e9(big_t *b) {
    const uint64_t d = 1000000000U;
    uint64_t r = 0;
    for (size_t i = b->n; i-- > 0;) {
        uint64_t cur = (r << 32) | b->w[i];
        uint64_t q = cur / d;
        b->w[i] = (uint32_t)q;
        r = cur - q * d;
    }
    big_trim(b);
    return (uint32_t)r;
}

/* b = b * m + a; b->w must have room for one more limb. */
static void big_muladd(big_t *b, uint32_t m, uint32_t a) {
    uint64_t carry = a;
    for (size_t i = 0; i < b->n; i++) {
        uint64_t cur = (uint64_t)b->w[i] * m + carry;
        b->w[i] = (uint32_t)cur;
        carry = cur >> 32;
    }
    if (carry) b->w[b->n++] = (uint32_t)carry;
}

/* Minimal big-endian bytes of b into out (room for 4 * b->n); returns
 * the length (0 for zero). */
static size_t big_to_be(const big_t *b, uint8_t *out) {
    size_t len = 0;
    bool started = false;
    for (size_t i = b->n; i-- > 0;) {
        for (int j = 3; j >= 0; j--) {
            uint8_t v = (uint8_t)(b->w[i] >> (8 * j));
            if (!started && v == 0) continue;
            started = true;
            out[len++] = v;
        }
    }
    return len;
}

static const uint32_t pow10_u32[10] = {1,      10,      100,      1000,      10000,
                                       100000, 1000000, 10000000, 100000000, 1000000000};

/* The magnitude of a two's complement number t[0..n) (n >= 1) as minimal
 * big-endian bytes in mag (room for n); returns its length (0 for zero). */
static size_t twos_to_magnitude(const uint8_t *t, size_t n, uint8_t *mag, bool *neg) {
    *neg = (t[0] & 0x80) != 0;
    if (*neg) {
        unsigned carry = 1;
        for (size_t i = n; i-- > 0;) {
            unsigned v = (uint8_t)~t[i] + carry;
            mag[i] = (uint8_t)v;
            carry = v >> 8;
        }
    } else {
        memcpy(mag, t, n);
    }
    size_t skip = 0;
    while (skip < n && mag[skip] == 0) skip++;
    memmove(mag, mag + skip, n - skip);
    return n - skip;
}

/* Appends the minimal two's complement of +/- mag[0..n) (n >= 1, mag[0]
 * != 0; mag is clobbered). */
static spate_status_t put_twos(spate_buf_t *out, uint8_t *mag, size_t n, bool neg) {
    if (!neg) {
        if ((mag[0] & 0x80) && spate_buf_putc(out, 0) != SPATE_OK) return SPATE_ENOMEM;
        return spate_buf_append(out, mag, n);
    }
    unsigned carry = 1;
    for (size_t i = n; i-- > 0;) {
        unsigned v = (uint8_t)~mag[i] + carry;
        mag[i] = (uint8_t)v;
        carry = v >> 8;
    }
    size_t skip = 0;
    while (n - skip > 1 && mag[skip] == 0xFF && (mag[skip + 1] & 0x80)) skip++;
    if (!(mag[skip] & 0x80) && spate_buf_putc(out, (char)0xFF) != SPATE_OK) return SPATE_ENOMEM;
    return spate_buf_append(out, mag + skip, n - skip);
}

/* ------------------------------------------------------------------ */
/* Encoders                                                            */
/* ------------------------------------------------------------------ */

static spate_status_t enc_value(spate_buf_t *out, const spate_cql_ktype_t *t, const uint8_t *p,
                                size_t len, int depth, bool bound_form);

/* Integers: big-endian with the sign bit flipped. */
static spate_status_t enc_signed(spate_buf_t *out, const uint8_t *p, size_t len, size_t want) {
    if (len != want) return SPATE_EINVAL;
    spate_status_t st = spate_buf_putc(out, (char)(p[0] ^ 0x80));
    return st == SPATE_OK ? spate_buf_append(out, p + 1, len - 1) : st;
}

static spate_status_t enc_raw(spate_buf_t *out, const uint8_t *p, size_t len, size_t want) {
    return len == want ? spate_buf_append(out, p, len) : SPATE_EINVAL;
}

/* 00 -> 00 FF, then 00 01. */
static spate_status_t enc_escaped(spate_buf_t *out, const uint8_t *p, size_t len) {
    if (spate_buf_reserve(out, 2 * len + 2) != SPATE_OK) return SPATE_ENOMEM;
    uint8_t *w = (uint8_t *)out->data + out->len;
    for (size_t i = 0; i < len; i++) {
        *w++ = p[i];
        if (p[i] == 0) *w++ = 0xFF;
    }
    *w++ = 0x00;
    *w++ = 0x01;
    out->len = (size_t)((char *)w - out->data);
    out->data[out->len] = '\0';
    return SPATE_OK;
}

static spate_status_t enc_float(spate_buf_t *out, const uint8_t *p, size_t len) {
    if (len != 4) return SPATE_EINVAL;
    uint32_t bits = be32(p);
    if ((bits & 0x7F800000U) == 0x7F800000U && (bits & 0x007FFFFFU)) bits = 0x7FC00000U;
    bits = (bits & SIGN32) ? ~bits : bits ^ SIGN32;
    uint8_t b[4];
    put_be32(b, bits);
    return spate_buf_append(out, b, 4);
}

static spate_status_t enc_double(spate_buf_t *out, const uint8_t *p, size_t len) {
    if (len != 8) return SPATE_EINVAL;
    uint64_t bits = be64(p);
    if ((bits & 0x7FF0000000000000ULL) == 0x7FF0000000000000ULL && (bits & 0x000FFFFFFFFFFFFFULL))
        bits = 0x7FF8000000000000ULL;
    bits = (bits & SIGN64) ? ~bits : bits ^ SIGN64;
    uint8_t b[8];
    put_be64(b, bits);
    return spate_buf_append(out, b, 8);
}

/* A v1 UUID's time fields, most significant first: time_hi_and_version
 * (bytes 6-7, version nibble on top), time_mid (4-5), time_low (0-3). */
static uint64_t reorder_time(uint64_t msb) {
    return (msb << 48) | ((msb << 16) & 0xFFFF00000000ULL) | (msb >> 32);
}
static uint64_t unreorder_time(uint64_t r) {
    return (r >> 48) | ((r >> 16) & 0xFFFF0000ULL) | (r << 32);
}

static spate_status_t enc_uuid(spate_buf_t *out, const uint8_t *p, size_t len) {
    if (len != 16) return SPATE_EINVAL;
    uint64_t msb = be64(p);
    uint64_t version = (msb >> 12) & 0xF;
    uint64_t hi = version == 1
                      ? reorder_time(msb)
                      : (version << 60) | ((msb >> 4) & 0x0FFFFFFFFFFFF000ULL) | (msb & 0xFFFULL);
    uint8_t b[16];
    put_be64(b, hi);
    memcpy(b + 8, p + 8, 8);
    return spate_buf_append(out, b, 16);
}

static spate_status_t enc_timeuuid(spate_buf_t *out, const uint8_t *p, size_t len) {
    if (len != 16 || (p[6] & 0xF0) != 0x10) return SPATE_EINVAL;
    uint8_t b[16];
    put_be64(b, reorder_time(be64(p)));
    for (int i = 8; i < 16; i++) b[i] = p[i] ^ 0x80;
    return spate_buf_append(out, b, 16);
}

static spate_status_t enc_inet(spate_buf_t *out, const uint8_t *p, size_t len) {
    if (len != 4 && len != 16) return SPATE_EINVAL;
    spate_status_t st = spate_buf_append(out, p, 4);
    if (st == SPATE_OK) st = spate_buf_putc(out, len == 4 ? 0 : 1);
    if (st == SPATE_OK && len == 16) st = spate_buf_append(out, p + 4, 12);
    return st;
}

/* Drops redundant sign-extension bytes of a two's complement number. */
static size_t twos_minimal_skip(const uint8_t *t, size_t n) {
    size_t skip = 0;
    while (n - skip > 1 && ((t[skip] == 0x00 && !(t[skip + 1] & 0x80)) ||
                            (t[skip] == 0xFF && (t[skip + 1] & 0x80))))
        skip++;
    return skip;
}

static spate_status_t enc_varint(spate_buf_t *out, const uint8_t *p, size_t len) {
    size_t skip = twos_minimal_skip(p, len);
    p += skip;
    len -= skip;
    if (len == 1 && p[0] == 0) return spate_buf_putc(out, (char)0x80);
    if (len > 0xFFFF) return SPATE_ERANGE;
    bool neg = (p[0] & 0x80) != 0;
    uint16_t n = neg ? (uint16_t)~len : (uint16_t)len;
    uint8_t h[3] = {neg ? 0x7F : 0x81, (uint8_t)(n >> 8), (uint8_t)n};
    spate_status_t st = spate_buf_append(out, h, 3);
    return st == SPATE_OK ? spate_buf_append(out, p, len) : st;
}

/* Base-10 digits (values 0..9, most significant first) of a nonzero
 * magnitude; returns how many, into a malloc'd *digits. */
static spate_status_t magnitude_digits(const uint8_t *mag, size_t n, uint8_t **digits,
                                       size_t *ndigits) {
    big_t b = {malloc(sizeof(uint32_t) * ((n + 3) / 4)), 0};
    size_t maxchunks = n * 8 / 29 + 2; /* 10^9 > 2^29 */
    uint32_t *chunks = malloc(sizeof(uint32_t) * maxchunks);
    uint8_t *d = malloc(maxchunks * 9);
    if (b.w == NULL || chunks == NULL || d == NULL) {
        free(b.w);
        free(chunks);
        free(d);
        return SPATE_ENOMEM;
    }
    big_from_be(&b, mag, n);
    size_t nc = 0;
    while (b.n > 0) chunks[nc++] = big_divmod_1e9(&b);
    size_t k = 0;
    for (size_t c = nc; c-- > 0;) {
        uint32_t v = chunks[c];
        uint8_t tmp[9];
        for (int i = 8; i >= 0; i--) {
            tmp[i] = (uint8_t)(v % 10);
            v /= 10;
        }
        int from = 0;
        if (c == nc - 1)
            while (from < 8 && tmp[from] == 0) from++;
        for (int i = from; i < 9; i++) d[k++] = tmp[i];
    }
    free(b.w);
    free(chunks);
    *digits = d;
    *ndigits = k;
    return SPATE_OK;
}

static spate_status_t enc_decimal(spate_buf_t *out, const uint8_t *p, size_t len, bool bound_form) {
    if (len < 5) return SPATE_EINVAL; /* [int] scale + a varint of at least one byte */
    int32_t scale = (int32_t)be32(p);
    uint8_t sb[4];
    put_be32(sb, (uint32_t)scale ^ SIGN32);
    size_t ulen = len - 4;
    uint8_t *mag = malloc(ulen);
    if (mag == NULL) return SPATE_ENOMEM;
    bool neg;
    size_t mlen = twos_to_magnitude(p + 4, ulen, mag, &neg);
    spate_status_t st;
    if (mlen == 0) {
        free(mag);
        st = spate_buf_putc(out, (char)0x80);
        if (st == SPATE_OK && !bound_form) st = spate_buf_append(out, sb, 4);
        return st;
    }
    uint8_t *d;
    size_t k0;
    st = magnitude_digits(mag, mlen, &d, &k0);
    free(mag);
    if (st != SPATE_OK) return st;
    size_t k = k0;
    while (d[k - 1] == 0) k--; /* d[0] != 0, so this stops */
    int64_t e = (int64_t)k0 - scale;
    uint8_t x = neg ? 0xFF : 0x00;
    st = spate_buf_reserve(out, 1 + 8 + (k + 1) / 2 + 1 + 4);
    if (st == SPATE_OK) {
        uint8_t *w = (uint8_t *)out->data + out->len;
        *w++ = neg ? 0x7F : 0x81;
        put_be64(w, (uint64_t)e ^ SIGN64);
        for (int i = 0; i < 8; i++) w[i] ^= x;
        w += 8;
        for (size_t i = 0; i < k; i += 2)
            *w++ = (uint8_t)((2 + d[i] * 10 + (i + 1 < k ? d[i + 1] : 0)) ^ x);
        *w++ = x;
        if (!bound_form) {
            memcpy(w, sb, 4);
            w += 4;
        }
        out->len = (size_t)((char *)w - out->data);
        out->data[out->len] = '\0';
    }
    free(d);
    return st;
}

/* Frozen list / set / map: [int n] then n (or 2n) [bytes]; each element
 * as header + body, then END. */
static spate_status_t enc_collection(spate_buf_t *out, const spate_cql_ktype_t *t, const uint8_t *p,
                                     size_t len, int depth) {
    spate_rd_t r;
    spate_rd_init(&r, p, len);
    int32_t n;
    if (spate_rd_i32(&r, &n) != SPATE_OK || n < 0) return SPATE_EINVAL;
    bool map = t->id == SPATE_CQL_MAP;
    for (int64_t i = 0; i < (int64_t)n * (map ? 2 : 1); i++) {
        spate_slice_t e;
        if (spate_rd_str32(&r, &e) != SPATE_OK || e.p == NULL) return SPATE_EINVAL;
        const spate_cql_ktype_t *et = map ? &t->sub[i & 1] : &t->sub[0];
        spate_status_t st =
            enc_value(out, et, (const uint8_t *)e.p, (size_t)e.len, depth + 1, false);
        if (st != SPATE_OK) return st;
    }
    if (spate_rd_left(&r) != 0) return SPATE_EINVAL;
    return spate_buf_putc(out, H_END);
}

/* Tuple / UDT: [bytes] per present field, -1 for null. */
static spate_status_t enc_tuple(spate_buf_t *out, const spate_cql_ktype_t *t, const uint8_t *p,
                                size_t len, int depth) {
    spate_rd_t r;
    spate_rd_init(&r, p, len);
    for (uint16_t i = 0; spate_rd_left(&r) > 0; i++) {
        int32_t flen;
        if (i >= t->n || spate_rd_i32(&r, &flen) != SPATE_OK || flen < -1) return SPATE_EINVAL;
        spate_status_t st;
        if (flen == -1) {
            st = spate_buf_putc(out, H_NULL);
        } else {
            const uint8_t *f;
            if (spate_rd_bytes(&r, (size_t)flen, &f) != SPATE_OK) return SPATE_EINVAL;
            st = enc_value(out, &t->sub[i], f, (size_t)flen, depth + 1, false);
        }
        if (st != SPATE_OK) return st;
    }
    return spate_buf_putc(out, H_END);
}

static spate_status_t enc_body(spate_buf_t *out, const spate_cql_ktype_t *t, const uint8_t *p,
                               size_t len, int depth, bool bound_form) {
    switch (t->id) {
    case SPATE_CQL_INT: return enc_signed(out, p, len, 4);
    case SPATE_CQL_BIGINT:
    case SPATE_CQL_TIMESTAMP: return enc_signed(out, p, len, 8);
    case SPATE_CQL_SMALLINT: return enc_signed(out, p, len, 2);
    case SPATE_CQL_TINYINT: return enc_signed(out, p, len, 1);
    case SPATE_CQL_DATE: return enc_raw(out, p, len, 4);
    case SPATE_CQL_TIME: return enc_raw(out, p, len, 8);
    case SPATE_CQL_BOOLEAN:
        if (len != 1) return SPATE_EINVAL;
        return spate_buf_putc(out, p[0] ? 1 : 0);
    case SPATE_CQL_FLOAT: return enc_float(out, p, len);
    case SPATE_CQL_DOUBLE: return enc_double(out, p, len);
    case SPATE_CQL_ASCII:
    case SPATE_CQL_VARCHAR:
    case SPATE_CQL_BLOB: return enc_escaped(out, p, len);
    case SPATE_CQL_UUID: return enc_uuid(out, p, len);
    case SPATE_CQL_TIMEUUID: return enc_timeuuid(out, p, len);
    case SPATE_CQL_INET: return enc_inet(out, p, len);
    case SPATE_CQL_VARINT: return enc_varint(out, p, len);
    case SPATE_CQL_DECIMAL: return enc_decimal(out, p, len, bound_form);
    case SPATE_CQL_LIST:
    case SPATE_CQL_SET:
    case SPATE_CQL_MAP: return enc_collection(out, t, p, len, depth);
    case SPATE_CQL_TUPLE:
    case SPATE_CQL_UDT: return enc_tuple(out, t, p, len, depth);
    default: return SPATE_EINVAL; /* counter, duration, custom */
    }
}

/* Header + body. bound_form leaves a top-level decimal's scale out (slice
 * bounds); nested values always carry everything. */
static spate_status_t enc_value(spate_buf_t *out, const spate_cql_ktype_t *t, const uint8_t *p,
                                size_t len, int depth, bool bound_form) {
    if (depth > SPATE_CQL_KEY_MAX_DEPTH || !ktype_ok(t)) return SPATE_EINVAL;
    if (len == 0) return spate_buf_putc(out, H_EMPTY);
    spate_status_t st = spate_buf_putc(out, H_VALUE);
    return st == SPATE_OK ? enc_body(out, t, p, len, depth, bound_form) : st;
}

/* A top-level component: checks null and size, inverts for DESC. */
static spate_status_t enc_component(spate_buf_t *out, const spate_cql_ktype_t *t, spate_slice_t v,
                                    bool desc, bool bound_form) {
    if (v.p == NULL || v.len < 0) return SPATE_EINVAL;
    if (v.len > SPATE_CQL_KEY_MAX_VALUE) return SPATE_ERANGE;
    size_t from = out->len;
    spate_status_t st = enc_value(out, t, (const uint8_t *)v.p, (size_t)v.len, 0, bound_form);
    if (st == SPATE_OK && desc) invert(out, from);
    return st;
}

spate_status_t spate_cql_key_value_encode(spate_buf_t *out, const spate_cql_ktype_t *t,
                                          spate_slice_t v, bool desc) {
    return enc_component(out, t, v, desc, false);
}

/* ------------------------------------------------------------------ */
/* Decoders                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
    const uint8_t *p;
    size_t len, off;
    uint8_t x;        /* xor mask: 0xFF inside a DESC component */
    spate_buf_t *out; /* serialized bytes go here */
    size_t top;       /* out->len where the current top-level value began */
} dec_t;

static inline spate_status_t dec_u8(dec_t *d, uint8_t *b) {
    if (d->off >= d->len) return SPATE_EINVAL;
    *b = d->p[d->off++] ^ d->x;
    return SPATE_OK;
}

static inline spate_status_t dec_peek(const dec_t *d, uint8_t *b) {
    if (d->off >= d->len) return SPATE_EINVAL;
    *b = d->p[d->off] ^ d->x;
    return SPATE_OK;
}

/* n bytes, unmasked, into dst. */
static spate_status_t dec_take(dec_t *d, size_t n, uint8_t *dst) {
    if (d->len - d->off < n) return SPATE_EINVAL;
    for (size_t i = 0; i < n; i++) dst[i] = d->p[d->off + i] ^ d->x;
    d->off += n;
    return SPATE_OK;
}

/* Keeps one top-level value within SPATE_CQL_KEY_MAX_VALUE serialized
 * bytes, counting `more` about to be appended. */
static inline spate_status_t dec_room(const dec_t *d, size_t more) {
    size_t used = d->out->len - d->top;
    if (used > SPATE_CQL_KEY_MAX_VALUE) return SPATE_EINVAL;
    return more <= SPATE_CQL_KEY_MAX_VALUE - used ? SPATE_OK : SPATE_EINVAL;
}

static spate_status_t dec_append(dec_t *d, const void *p, size_t n) {
    if (dec_room(d, n) != SPATE_OK) return SPATE_EINVAL;
    return spate_buf_append(d->out, p, n);
}

static spate_status_t dec_body(dec_t *d, const spate_cql_ktype_t *t, int depth);

static spate_status_t dec_signed(dec_t *d, size_t n) {
    uint8_t b[8];
    if (dec_take(d, n, b) != SPATE_OK) return SPATE_EINVAL;
    b[0] ^= 0x80;
    return dec_append(d, b, n);
}

static spate_status_t dec_raw(dec_t *d, size_t n) {
    uint8_t b[8];
    if (dec_take(d, n, b) != SPATE_OK) return SPATE_EINVAL;
    return dec_append(d, b, n);
}

static spate_status_t dec_escaped(dec_t *d) {
    size_t left = d->len - d->off;
    if (spate_buf_reserve(d->out, left) != SPATE_OK) return SPATE_ENOMEM;
    uint8_t *w = (uint8_t *)d->out->data + d->out->len;
    size_t n = 0;
    for (;;) {
        uint8_t b, c;
        if (dec_u8(d, &b) != SPATE_OK) return SPATE_EINVAL;
        if (b == 0) {
            if (dec_u8(d, &c) != SPATE_OK) return SPATE_EINVAL;
            if (c == 0x01) break;
            if (c != 0xFF) return SPATE_EINVAL;
        }
        w[n++] = b;
    }
    if (dec_room(d, n) != SPATE_OK) return SPATE_EINVAL;
    d->out->len += n;
    d->out->data[d->out->len] = '\0';
    return SPATE_OK;
}

static spate_status_t dec_float(dec_t *d) {
    uint8_t b[4];
    if (dec_take(d, 4, b) != SPATE_OK) return SPATE_EINVAL;
    uint32_t bits = be32(b);
    bits = (bits & SIGN32) ? bits ^ SIGN32 : ~bits;
    if ((bits & 0x7F800000U) == 0x7F800000U && (bits & 0x007FFFFFU) && bits != 0x7FC00000U)
        return SPATE_EINVAL;
    put_be32(b, bits);
    return dec_append(d, b, 4);
}

static spate_status_t dec_double(dec_t *d) {
    uint8_t b[8];
    if (dec_take(d, 8, b) != SPATE_OK) return SPATE_EINVAL;
    uint64_t bits = be64(b);
    bits = (bits & SIGN64) ? bits ^ SIGN64 : ~bits;
    if ((bits & 0x7FF0000000000000ULL) == 0x7FF0000000000000ULL && (bits & 0x000FFFFFFFFFFFFFULL) &&
        bits != 0x7FF8000000000000ULL)
        return SPATE_EINVAL;
    put_be64(b, bits);
    return dec_append(d, b, 8);
}

static spate_status_t dec_uuid(dec_t *d) {
    uint8_t b[16];
    if (dec_take(d, 16, b) != SPATE_OK) return SPATE_EINVAL;
    uint64_t hi = be64(b), version = hi >> 60, msb;
    if (version == 1)
        msb = unreorder_time(hi);
    else
        msb = ((hi << 4) & 0xFFFFFFFFFFFF0000ULL) | (version << 12) | (hi & 0xFFFULL);
    put_be64(b, msb);
    return dec_append(d, b, 16);
}

static spate_status_t dec_timeuuid(dec_t *d) {
    uint8_t b[16];
    if (dec_take(d, 16, b) != SPATE_OK || (b[0] >> 4) != 1) return SPATE_EINVAL;
    put_be64(b, unreorder_time(be64(b)));
    for (int i = 8; i < 16; i++) b[i] ^= 0x80;
    return dec_append(d, b, 16);
}

static spate_status_t dec_inet(dec_t *d) {
    uint8_t b[17];
    if (dec_take(d, 5, b) != SPATE_OK || b[4] > 1) return SPATE_EINVAL;
    if (b[4] == 0) return dec_append(d, b, 4);
    if (dec_take(d, 12, b + 4) != SPATE_OK) return SPATE_EINVAL;
    return dec_append(d, b, 16);
}

static spate_status_t dec_varint(dec_t *d) {
    uint8_t sign, lb[2];
    if (dec_u8(d, &sign) != SPATE_OK) return SPATE_EINVAL;
    if (sign == 0x80) return dec_append(d, "\0", 1);
    if (sign != 0x7F && sign != 0x81) return SPATE_EINVAL;
    bool neg = sign == 0x7F;
    if (dec_take(d, 2, lb) != SPATE_OK) return SPATE_EINVAL;
    size_t n = (size_t)(uint16_t)(neg ? ~(lb[0] << 8 | lb[1]) : (lb[0] << 8 | lb[1]));
    if (n == 0 || d->len - d->off < n || dec_room(d, n) != SPATE_OK) return SPATE_EINVAL;
    size_t at = d->out->len;
    if (spate_buf_reserve(d->out, n) != SPATE_OK) return SPATE_ENOMEM;
    if (dec_take(d, n, (uint8_t *)d->out->data + at) != SPATE_OK) return SPATE_EINVAL;
    const uint8_t *t = (const uint8_t *)d->out->data + at;
    /* The sign must match and the form be minimal (and not zero). */
    if (((t[0] & 0x80) != 0) != neg || twos_minimal_skip(t, n) != 0 || (n == 1 && t[0] == 0))
        return SPATE_EINVAL;
    d->out->len += n;
    d->out->data[d->out->len] = '\0';
    return SPATE_OK;
}

static spate_status_t dec_decimal(dec_t *d) {
    uint8_t sign, b[8];
    if (dec_u8(d, &sign) != SPATE_OK) return SPATE_EINVAL;
    if (sign == 0x80) {
        if (dec_take(d, 4, b) != SPATE_OK) return SPATE_EINVAL;
        put_be32(b, be32(b) ^ SIGN32);
        b[4] = 0;
        return dec_append(d, b, 5);
    }
    if (sign != 0x7F && sign != 0x81) return SPATE_EINVAL;
    bool neg = sign == 0x7F;
    uint8_t x = neg ? 0xFF : 0x00;
    if (dec_take(d, 8, b) != SPATE_OK) return SPATE_EINVAL;
    for (int i = 0; i < 8; i++) b[i] ^= x;
    int64_t e = (int64_t)(be64(b) ^ SIGN64);
    /* E = digits - scale: a scale is an int32, so anything far outside
     * +/- 2^32 is malformed (and would overflow below). */
    if (e > ((int64_t)1 << 33) || e < -((int64_t)1 << 33)) return SPATE_EINVAL;

    /* The digit pairs, up to the terminator. */
    size_t start = d->off, npairs = 0;
    for (;;) {
        uint8_t c;
        if (dec_u8(d, &c) != SPATE_OK) return SPATE_EINVAL;
        c ^= x;
        if (c == 0) break;
        if (c < 2 || c > 101 || npairs >= MAX_DIGITS / 2) return SPATE_EINVAL;
        npairs++;
    }
    if (npairs == 0) return SPATE_EINVAL;
    uint8_t first = (d->p[start] ^ d->x ^ x) - 2, last = (d->p[start + npairs - 1] ^ d->x ^ x) - 2;
    if (first < 10 || last == 0) return SPATE_EINVAL; /* leading zero digit, or "00" */
    size_t k = 2 * npairs - (last % 10 == 0 ? 1 : 0);

    if (dec_take(d, 4, b) != SPATE_OK) return SPATE_EINVAL;
    int32_t scale = (int32_t)(be32(b) ^ SIGN32);
    /* unscaled = digits x 10^z */
    int64_t z = e - (int64_t)k + scale;
    if (z < 0 || z > MAX_DIGITS || (int64_t)k + z > MAX_DIGITS) return SPATE_EINVAL;
    size_t total = k + (size_t)z;
    /* Refuse before building what cannot fit: 10^(total-1) needs more than
     * (total - 1) * log256(10) > (total - 1) * 0.415 bytes. */
    if (dec_room(d, 4 + (total - 1) * 415 / 1000) != SPATE_OK) return SPATE_EINVAL;

    big_t m = {malloc(sizeof(uint32_t) * (total / 9 + 3)), 0};
    if (m.w == NULL) return SPATE_ENOMEM;
    size_t di = 0, chunk = 0, clen = 0;
    for (size_t i = 0; i < npairs; i++) {
        uint8_t pair = (uint8_t)((d->p[start + i] ^ d->x ^ x) - 2);
        uint8_t two[2] = {(uint8_t)(pair / 10), (uint8_t)(pair % 10)};
        for (int j = 0; j < 2 && di < k; j++, di++) {
            chunk = chunk * 10 + two[j];
            if (++clen == 9) {
                big_muladd(&m, pow10_u32[9], (uint32_t)chunk);
                chunk = clen = 0;
            }
        }
    }
    if (clen) big_muladd(&m, pow10_u32[clen], (uint32_t)chunk);
    for (int64_t r = z; r > 0; r -= 9) big_muladd(&m, pow10_u32[r >= 9 ? 9 : r], 0);

    uint8_t *mag = malloc(4 * m.n + 1);
    spate_status_t st = SPATE_ENOMEM;
    if (mag != NULL) {
        size_t mlen = big_to_be(&m, mag);
        put_be32(b, (uint32_t)scale);
        /* put_twos may add a sign byte: the exact size is checked after. */
        st = dec_room(d, 4 + mlen);
        if (st == SPATE_OK) st = spate_buf_append(d->out, b, 4);
        if (st == SPATE_OK) st = put_twos(d->out, mag, mlen, neg);
        if (st == SPATE_OK) st = dec_room(d, 0);
    }
    free(mag);
    free(m.w);
    return st;
}

/* One nested element: header, then its [bytes] form. *end is set (and
 * nothing appended) at END. allow_null for tuple fields. */
static spate_status_t dec_element(dec_t *d, const spate_cql_ktype_t *t, int depth, bool allow_null,
                                  bool *end) {
    uint8_t h;
    *end = false;
    if (dec_u8(d, &h) != SPATE_OK) return SPATE_EINVAL;
    uint8_t len[4];
    switch (h) {
    case H_END: *end = true; return SPATE_OK;
    case H_NULL:
        if (!allow_null) return SPATE_EINVAL;
        put_be32(len, 0xFFFFFFFFU);
        return dec_append(d, len, 4);
    case H_EMPTY: put_be32(len, 0); return dec_append(d, len, 4);
    case H_VALUE: {
        size_t mark = d->out->len;
        if (dec_append(d, "\0\0\0\0", 4) != SPATE_OK) return SPATE_EINVAL;
        spate_status_t st = dec_body(d, t, depth + 1);
        if (st != SPATE_OK) return st;
        size_t n = d->out->len - mark - 4;
        if (n == 0) return SPATE_EINVAL; /* an empty value has its own header */
        spate_wr_patch_u32(d->out, mark, (uint32_t)n);
        return SPATE_OK;
    }
    default: return SPATE_EINVAL;
    }
}

static spate_status_t dec_collection(dec_t *d, const spate_cql_ktype_t *t, int depth) {
    size_t mark = d->out->len;
    if (dec_append(d, "\0\0\0\0", 4) != SPATE_OK) return SPATE_EINVAL;
    bool map = t->id == SPATE_CQL_MAP;
    uint32_t n = 0;
    for (;;) {
        bool end;
        spate_status_t st = dec_element(d, &t->sub[0], depth, false, &end);
        if (st != SPATE_OK) return st;
        if (end) break;
        if (map) {
            st = dec_element(d, &t->sub[1], depth, false, &end);
            if (st != SPATE_OK) return st;
            if (end) return SPATE_EINVAL; /* a key without its value */
        }
        n++;
    }
    spate_wr_patch_u32(d->out, mark, n);
    return SPATE_OK;
}

static spate_status_t dec_tuple(dec_t *d, const spate_cql_ktype_t *t, int depth) {
    for (uint32_t i = 0;; i++) {
        bool end;
        uint8_t h;
        if (dec_peek(d, &h) != SPATE_OK) return SPATE_EINVAL;
        if (h != H_END && i >= t->n) return SPATE_EINVAL;
        spate_status_t st = dec_element(d, h == H_END ? t : &t->sub[i], depth, true, &end);
        if (st != SPATE_OK) return st;
        if (end) return SPATE_OK;
    }
}

static spate_status_t dec_body(dec_t *d, const spate_cql_ktype_t *t, int depth) {
    if (depth > SPATE_CQL_KEY_MAX_DEPTH || !ktype_ok(t)) return SPATE_EINVAL;
    switch (t->id) {
    case SPATE_CQL_INT: return dec_signed(d, 4);
    case SPATE_CQL_BIGINT:
    case SPATE_CQL_TIMESTAMP: return dec_signed(d, 8);
    case SPATE_CQL_SMALLINT: return dec_signed(d, 2);
    case SPATE_CQL_TINYINT: return dec_signed(d, 1);
    case SPATE_CQL_DATE: return dec_raw(d, 4);
    case SPATE_CQL_TIME: return dec_raw(d, 8);
    case SPATE_CQL_BOOLEAN: {
        uint8_t b;
        if (dec_u8(d, &b) != SPATE_OK || b > 1) return SPATE_EINVAL;
        return dec_append(d, &b, 1);
    }
    case SPATE_CQL_FLOAT: return dec_float(d);
    case SPATE_CQL_DOUBLE: return dec_double(d);
    case SPATE_CQL_ASCII:
    case SPATE_CQL_VARCHAR:
    case SPATE_CQL_BLOB: return dec_escaped(d);
    case SPATE_CQL_UUID: return dec_uuid(d);
    case SPATE_CQL_TIMEUUID: return dec_timeuuid(d);
    case SPATE_CQL_INET: return dec_inet(d);
    case SPATE_CQL_VARINT: return dec_varint(d);
    case SPATE_CQL_DECIMAL: return dec_decimal(d);
    case SPATE_CQL_LIST:
    case SPATE_CQL_SET:
    case SPATE_CQL_MAP: return dec_collection(d, t, depth);
    case SPATE_CQL_TUPLE:
    case SPATE_CQL_UDT: return dec_tuple(d, t, depth);
    default: return SPATE_EINVAL;
    }
}

/* A top-level value (header EMPTY or VALUE) with mask x. */
static spate_status_t dec_component(dec_t *d, const spate_cql_ktype_t *t, uint8_t x) {
    d->x = x;
    d->top = d->out->len;
    uint8_t h;
    spate_status_t st = dec_u8(d, &h);
    if (st == SPATE_OK) {
        if (h == H_VALUE) {
            st = dec_body(d, t, 0);
            if (st == SPATE_OK && d->out->len == d->top) st = SPATE_EINVAL;
        } else if (h != H_EMPTY) {
            st = SPATE_EINVAL;
        } else if (!ktype_ok(t)) {
            st = SPATE_EINVAL;
        }
    }
    d->x = 0;
    return st;
}

spate_status_t spate_cql_key_value_decode(spate_rd_t *r, const spate_cql_ktype_t *t, bool desc,
                                          spate_buf_t *out) {
    size_t saved = out->len;
    dec_t d = {r->p + r->off, spate_rd_left(r), 0, 0, out, saved};
    spate_status_t st = dec_component(&d, t, desc ? 0xFF : 0x00);
    if (st != SPATE_OK) {
        out->len = saved;
        if (out->data) out->data[saved] = '\0';
        return st;
    }
    r->off += d.off;
    return SPATE_OK;
}

spate_status_t spate_cql_key_elem_decode(const spate_cql_ktype_t *t, spate_slice_t elem,
                                         spate_buf_t *out) {
    if (elem.p == NULL || elem.len < 0) return SPATE_EINVAL;
    spate_rd_t r;
    spate_rd_init(&r, elem.p, (size_t)elem.len);
    size_t saved = out->len;
    spate_status_t st = spate_cql_key_value_decode(&r, t, false, out);
    if (st == SPATE_OK && spate_rd_left(&r) != 0) {
        out->len = saved;
        if (out->data) out->data[saved] = '\0';
        st = SPATE_EINVAL;
    }
    return st;
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */
/* ------------------------------------------------------------------ */

static bool schema_ok(const spate_cql_key_schema_t *s) {
    if (s == NULL || s->table_id == 0xFFFFFFFFU || s->npk == 0 || s->pk == NULL ||
        (s->nck > 0 && s->ck == NULL))
        return false;
    return true;
}

spate_status_t spate_cql_key_token_prefix(spate_buf_t *out, uint32_t table_id, int64_t token) {
    uint8_t b[12];
    put_be32(b, table_id);
    put_be64(b + 4, (uint64_t)token ^ SIGN64);
    return spate_buf_append(out, b, 12);
}

spate_status_t spate_cql_key_partition(spate_buf_t *out, const spate_cql_key_schema_t *s,
                                       const spate_slice_t *pk, int64_t *token) {
    if (!schema_ok(s)) return SPATE_EINVAL;
    for (uint16_t i = 0; i < s->npk; i++) {
        if (pk[i].p == NULL || pk[i].len < 0) return SPATE_EINVAL;
        if (pk[i].len > SPATE_CQL_KEY_MAX_VALUE) return SPATE_ERANGE;
    }
    if (s->npk == 1 && pk[0].len == 0) return SPATE_EINVAL;
    int64_t tok;
    spate_status_t st = spate_cql_partition_token(pk, s->npk, &tok);
    if (st == SPATE_OK) st = spate_cql_key_token_prefix(out, s->table_id, tok);
    for (uint16_t i = 0; i < s->npk && st == SPATE_OK; i++)
        st = enc_escaped(out, (const uint8_t *)pk[i].p, (size_t)pk[i].len);
    if (st == SPATE_OK && token != NULL) *token = tok;
    return st;
}

spate_status_t spate_cql_key_clustering(spate_buf_t *out, const spate_cql_key_schema_t *s,
                                        const spate_slice_t *ck, uint16_t n) {
    if (!schema_ok(s) || n > s->nck) return SPATE_EINVAL;
    for (uint16_t i = 0; i < n; i++) {
        spate_status_t st = enc_component(out, s->ck[i].type, ck[i], s->ck[i].desc, false);
        if (st != SPATE_OK) return st;
    }
    return SPATE_OK;
}

spate_status_t spate_cql_key_row(spate_buf_t *out, const spate_cql_key_schema_t *s,
                                 const spate_slice_t *pk, const spate_slice_t *ck) {
    spate_status_t st = spate_cql_key_partition(out, s, pk, NULL);
    return st == SPATE_OK ? spate_cql_key_clustering(out, s, ck, s->nck) : st;
}

static bool kind_ok(unsigned k) {
    switch (k) {
    case SPATE_CQL_KIND_PARTITION_DELETION:
    case SPATE_CQL_KIND_RANGE_TOMBSTONE:
    case SPATE_CQL_KIND_STATIC_CELL:
    case SPATE_CQL_KIND_ROW_DELETION:
    case SPATE_CQL_KIND_ROW_MARKER:
    case SPATE_CQL_KIND_CELL: return true;
    default: return false;
    }
}

spate_status_t spate_cql_key_put_kind(spate_buf_t *out, spate_cql_key_kind_t kind) {
    return kind_ok(kind) ? spate_buf_putc(out, (char)kind) : SPATE_EINVAL;
}

spate_status_t spate_cql_key_put_cell(spate_buf_t *out, spate_cql_key_kind_t kind, uint16_t column,
                                      const spate_cql_ktype_t *elem_type, spate_slice_t elem) {
    if (kind != SPATE_CQL_KIND_CELL && kind != SPATE_CQL_KIND_STATIC_CELL) return SPATE_EINVAL;
    uint8_t b[3] = {(uint8_t)kind, (uint8_t)(column >> 8), (uint8_t)column};
    spate_status_t st = spate_buf_append(out, b, 3);
    if (st == SPATE_OK && elem_type != NULL) st = enc_component(out, elem_type, elem, false, false);
    return st;
}

spate_status_t spate_cql_key_row_marker(spate_buf_t *out, const spate_cql_key_schema_t *s,
                                        const spate_slice_t *pk, const spate_slice_t *ck) {
    spate_status_t st = spate_cql_key_row(out, s, pk, ck);
    return st == SPATE_OK ? spate_cql_key_put_kind(out, SPATE_CQL_KIND_ROW_MARKER) : st;
}

spate_status_t spate_cql_key_cell(spate_buf_t *out, const spate_cql_key_schema_t *s,
                                  const spate_slice_t *pk, const spate_slice_t *ck, uint16_t column,
                                  const spate_cql_ktype_t *elem_type, spate_slice_t elem) {
    spate_status_t st = spate_cql_key_row(out, s, pk, ck);
    return st == SPATE_OK
               ? spate_cql_key_put_cell(out, SPATE_CQL_KIND_CELL, column, elem_type, elem)
               : st;
}

spate_status_t spate_cql_key_bound(spate_buf_t *out, const spate_cql_key_schema_t *s,
                                   const spate_slice_t *ck, uint16_t n, spate_cql_bound_t b) {
    if (b != SPATE_CQL_BOUND_BEFORE && b != SPATE_CQL_BOUND_AFTER) return SPATE_EINVAL;
    spate_status_t st = spate_cql_key_clustering(out, s, ck, n);
    return st == SPATE_OK ? spate_buf_putc(out, (char)b) : st;
}

int spate_cql_key_bound_cmp(const void *row_ck, size_t row_len, const void *bound,
                            size_t bound_len) {
    /* The row is compared as its clustering followed by a byte between
     * BEFORE and AFTER (where its kind byte sits). */
    size_t m = row_len < bound_len ? row_len : bound_len;
    int c = m ? memcmp(row_ck, bound, m) : 0;
    if (c != 0) return c < 0 ? -1 : 1;
    if (row_len < bound_len) return 0x80 < ((const uint8_t *)bound)[row_len] ? -1 : 1;
    return 1;
}

/* Reads one component per column until a byte that is not the header of
 * the next column's component (or all nck are read); *n gets the count. */
static spate_status_t dec_clustering(dec_t *d, const spate_cql_key_schema_t *s, uint16_t max,
                                     size_t *offs, uint16_t *n) {
    uint16_t i = 0;
    for (; i < max; i++) {
        uint8_t x = s->ck[i].desc ? 0xFF : 0x00, h;
        if (dec_peek(d, &h) != SPATE_OK) return SPATE_EINVAL;
        h ^= x;
        if (h != H_EMPTY && h != H_VALUE) break;
        offs[2 * i] = d->out->len;
        spate_status_t st = dec_component(d, s->ck[i].type, x);
        if (st != SPATE_OK) return st;
        offs[2 * i + 1] = d->out->len - offs[2 * i];
    }
    *n = i;
    return SPATE_OK;
}

/* Column id and optional element sub-key: the rest of the key. */
static spate_status_t dec_cell_suffix(dec_t *d, spate_cql_key_t *k) {
    uint8_t b[2];
    if (dec_take(d, 2, b) != SPATE_OK) return SPATE_EINVAL;
    k->column = (uint16_t)(b[0] << 8 | b[1]);
    k->has_elem = d->off < d->len;
    k->elem.p = (const char *)d->p + d->off;
    k->elem.len = (int32_t)(d->len - d->off);
    if (d->len - d->off > INT32_MAX) return SPATE_EINVAL;
    d->off = d->len;
    return SPATE_OK;
}

void spate_cql_key_free(spate_cql_key_t *k) {
    if (k == NULL) return;
    spate_buf_free(&k->mem);
    free(k->arr);
    memset(k, 0, sizeof *k);
}

spate_status_t spate_cql_key_decode(const spate_cql_key_schema_t *s, const void *key, size_t len,
                                    spate_cql_key_t *k) {
    memset(k, 0, sizeof *k);
    if (!schema_ok(s) || key == NULL) return SPATE_EINVAL;
    size_t ncomp = (size_t)s->npk + s->nck;
    k->arr = calloc(ncomp, sizeof(spate_slice_t));
    size_t *offs = calloc(2 * ncomp, sizeof(size_t));
    if (k->arr == NULL || offs == NULL || spate_buf_reserve(&k->mem, 1) != SPATE_OK) {
        free(offs);
        return SPATE_ENOMEM;
    }
    dec_t d = {key, len, 0, 0, &k->mem, 0};
    spate_status_t st = SPATE_EINVAL;
    uint8_t b[12], kind;

    if (dec_take(&d, 12, b) != SPATE_OK || be32(b) != s->table_id) goto out;
    k->table_id = be32(b);
    k->token = (int64_t)(be64(b + 4) ^ SIGN64);
    for (uint16_t i = 0; i < s->npk; i++) {
        d.top = k->mem.len;
        offs[2 * i] = k->mem.len;
        if ((st = dec_escaped(&d)) != SPATE_OK) goto out;
        offs[2 * i + 1] = k->mem.len - offs[2 * i];
        st = SPATE_EINVAL;
    }
    k->npk = s->npk;
    k->pk = k->arr;
    k->ck = k->arr + s->npk;
    for (uint16_t i = 0; i < s->npk; i++)
        k->pk[i] = (spate_slice_t){k->mem.data + offs[2 * i], (int32_t)offs[2 * i + 1]};
    {
        int64_t tok;
        if (s->npk == 1 && k->pk[0].len == 0) goto out;
        if ((st = spate_cql_partition_token(k->pk, s->npk, &tok)) != SPATE_OK) goto out;
        st = SPATE_EINVAL;
        if (tok != k->token) goto out;
    }

    size_t ck_start = d.off;
    if (dec_peek(&d, &kind) != SPATE_OK) goto out;
    uint16_t n = 0;
    size_t *ckoffs = offs + 2 * s->npk;
    if (kind == SPATE_CQL_KIND_PARTITION_DELETION || kind == SPATE_CQL_KIND_STATIC_CELL) {
        d.off++;
        k->kind = kind;
        if (kind == SPATE_CQL_KIND_STATIC_CELL && (st = dec_cell_suffix(&d, k)) != SPATE_OK)
            goto out;
    } else if (kind == SPATE_CQL_KIND_RANGE_TOMBSTONE) {
        d.off++;
        k->kind = kind;
        size_t bstart = d.off;
        if ((st = dec_clustering(&d, s, s->nck, ckoffs, &n)) != SPATE_OK) goto out;
        st = SPATE_EINVAL;
        uint8_t bb;
        if (dec_u8(&d, &bb) != SPATE_OK) goto out;
        if (bb != SPATE_CQL_BOUND_BEFORE && bb != SPATE_CQL_BOUND_AFTER) goto out;
        k->bound = (spate_cql_bound_t)bb;
        k->clustering = (spate_slice_t){(const char *)key + bstart, (int32_t)(d.off - bstart)};
    } else {
        if ((st = dec_clustering(&d, s, s->nck, ckoffs, &n)) != SPATE_OK) goto out;
        st = SPATE_EINVAL;
        if (n != s->nck) goto out;
        k->clustering = (spate_slice_t){(const char *)key + ck_start, (int32_t)(d.off - ck_start)};
        if (dec_u8(&d, &kind) != SPATE_OK) goto out;
        if (kind != SPATE_CQL_KIND_ROW_DELETION && kind != SPATE_CQL_KIND_ROW_MARKER &&
            kind != SPATE_CQL_KIND_CELL)
            goto out;
        k->kind = kind;
        if (kind == SPATE_CQL_KIND_CELL && (st = dec_cell_suffix(&d, k)) != SPATE_OK) goto out;
    }
    st = SPATE_EINVAL;
    if (d.off != len || len > INT32_MAX) goto out;
    k->nck = n;
    for (uint16_t i = 0; i < s->npk; i++)
        k->pk[i] = (spate_slice_t){k->mem.data + offs[2 * i], (int32_t)offs[2 * i + 1]};
    for (uint16_t i = 0; i < n; i++)
        k->ck[i] = (spate_slice_t){k->mem.data + ckoffs[2 * i], (int32_t)ckoffs[2 * i + 1]};
    st = SPATE_OK;
out:
    free(offs);
    return st;
}

/* ------------------------------------------------------------------ */
/* Iterator bounds                                                     */
/* ------------------------------------------------------------------ */

spate_status_t spate_cql_key_prefix_end(spate_buf_t *out, const void *p, size_t n) {
    const uint8_t *b = (const uint8_t *)p;
    while (n > 0 && b[n - 1] == 0xFF) n--;
    if (n == 0) return SPATE_ERANGE;
    spate_status_t st = spate_buf_append(out, b, n - 1);
    return st == SPATE_OK ? spate_buf_putc(out, (char)(b[n - 1] + 1)) : st;
}

spate_status_t spate_cql_key_slice(spate_buf_t *lo, spate_buf_t *hi,
                                   const spate_cql_key_schema_t *s, const spate_slice_t *pk,
                                   const spate_slice_t *ck, uint16_t neq,
                                   const spate_cql_kslice_t *start, const spate_cql_kslice_t *end) {
    if (!schema_ok(s) || neq > s->nck || (neq == s->nck && (start || end))) return SPATE_EINVAL;
    spate_buf_t base = SPATE_BUF_INIT, e = SPATE_BUF_INIT;
    size_t lo_from = lo->len, hi_from = hi->len;
    spate_status_t st = spate_cql_key_partition(&base, s, pk, NULL);
    if (st == SPATE_OK) st = spate_cql_key_clustering(&base, s, ck, neq);
    if (st != SPATE_OK) goto out;

    /* Lower and upper keys as (bytes, successor?) before writing them. */
    bool desc = neq < s->nck && s->ck[neq].desc;
    const spate_cql_kslice_t *lower = desc ? end : start, *upper = desc ? start : end;

    if (lower == NULL) {
        st = spate_buf_append(lo, base.data, base.len);
        if (st == SPATE_OK && neq == 0) st = spate_buf_putc(lo, KEY_ROWS_START);
    } else {
        spate_buf_reset(&e);
        st = spate_buf_append(&e, base.data, base.len);
        if (st == SPATE_OK) st = enc_component(&e, s->ck[neq].type, lower->value, desc, true);
        /* In key order the lower bound is inclusive for >= (ASC) or <=
         * (DESC), and for > / < starts after every key extending it. */
        if (st == SPATE_OK)
            st = lower->inclusive ? spate_buf_append(lo, e.data, e.len)
                                  : spate_cql_key_prefix_end(lo, e.data, e.len);
    }
    if (st != SPATE_OK) goto out;

    if (upper == NULL) {
        st = spate_cql_key_prefix_end(hi, base.data, base.len);
    } else {
        spate_buf_reset(&e);
        st = spate_buf_append(&e, base.data, base.len);
        if (st == SPATE_OK) st = enc_component(&e, s->ck[neq].type, upper->value, desc, true);
        if (st == SPATE_OK)
            st = upper->inclusive ? spate_cql_key_prefix_end(hi, e.data, e.len)
                                  : spate_buf_append(hi, e.data, e.len);
    }
out:
    if (st != SPATE_OK) {
        lo->len = lo_from;
        hi->len = hi_from;
        if (lo->data) lo->data[lo->len] = '\0';
        if (hi->data) hi->data[hi->len] = '\0';
    }
    spate_buf_free(&base);
    spate_buf_free(&e);
    return st;
}

/* ------------------------------------------------------------------ */
/* Cells, deletions, reconciliation                                    */
/* ------------------------------------------------------------------ */

spate_status_t spate_cql_cell_encode(spate_buf_t *out, const spate_cql_cell_t *c) {
    uint8_t h[17];
    size_t n = 9;
    h[0] = (uint8_t)c->kind;
    put_be64(h + 1, (uint64_t)c->timestamp);
    switch (c->kind) {
    case SPATE_CQL_CELL_LIVE: break;
    case SPATE_CQL_CELL_TOMBSTONE:
        put_be32(h + 9, (uint32_t)c->local_deletion_time);
        return spate_buf_append(out, h, 13);
    case SPATE_CQL_CELL_EXPIRING:
        if (c->ttl <= 0) return SPATE_EINVAL;
        put_be32(h + 9, (uint32_t)c->ttl);
        put_be32(h + 13, (uint32_t)c->local_deletion_time);
        n = 17;
        break;
    default: return SPATE_EINVAL;
    }
    if (c->value.p == NULL || c->value.len < 0) return SPATE_EINVAL;
    spate_status_t st = spate_buf_append(out, h, n);
    return st == SPATE_OK ? spate_buf_append(out, c->value.p, (size_t)c->value.len) : st;
}

spate_status_t spate_cql_cell_decode(const void *p, size_t n, spate_cql_cell_t *c) {
    const uint8_t *b = (const uint8_t *)p;
    if (p == NULL || n < 9 || n - 9 > INT32_MAX) return SPATE_EINVAL;
    memset(c, 0, sizeof *c);
    c->timestamp = (int64_t)be64(b + 1);
    size_t off = 9;
    switch (b[0]) {
    case SPATE_CQL_CELL_LIVE: break;
    case SPATE_CQL_CELL_TOMBSTONE:
        if (n != 13) return SPATE_EINVAL;
        c->local_deletion_time = (int32_t)be32(b + 9);
        off = 13;
        break;
    case SPATE_CQL_CELL_EXPIRING:
        if (n < 17) return SPATE_EINVAL;
        c->ttl = (int32_t)be32(b + 9);
        c->local_deletion_time = (int32_t)be32(b + 13);
        if (c->ttl <= 0) return SPATE_EINVAL;
        off = 17;
        break;
    default: return SPATE_EINVAL;
    }
    c->kind = (spate_cql_cell_kind_t)b[0];
    c->value = (spate_slice_t){(const char *)b + off, (int32_t)(n - off)};
    return SPATE_OK;
}

const spate_cql_cell_t *spate_cql_cell_reconcile(const spate_cql_cell_t *a,
                                                 const spate_cql_cell_t *b) {
    if (a->timestamp != b->timestamp) return a->timestamp > b->timestamp ? a : b;
    bool a_del = a->kind != SPATE_CQL_CELL_LIVE, b_del = b->kind != SPATE_CQL_CELL_LIVE;
    if (a_del || b_del) {
        /* CASSANDRA-14592: expiring cells count as deletions, whatever the
         * clock says, so the outcome never depends on when it is asked. */
        if (a_del != b_del) return a_del ? a : b;
        bool a_tomb = a->kind == SPATE_CQL_CELL_TOMBSTONE,
             b_tomb = b->kind == SPATE_CQL_CELL_TOMBSTONE;
        if (a_tomb != b_tomb) return a_tomb ? a : b;
        if (a->local_deletion_time != b->local_deletion_time)
            return a->local_deletion_time > b->local_deletion_time ? a : b;
    }
    size_t la = a->value.len > 0 ? (size_t)a->value.len : 0;
    size_t lb = b->value.len > 0 ? (size_t)b->value.len : 0;
    size_t m = la < lb ? la : lb;
    int c = m ? memcmp(a->value.p, b->value.p, m) : 0;
    if (c == 0) c = la < lb ? -1 : la > lb ? 1 : 0;
    return c >= 0 ? a : b;
}

bool spate_cql_cell_is_live(const spate_cql_cell_t *c, int64_t now) {
    switch (c->kind) {
    case SPATE_CQL_CELL_LIVE: return true;
    case SPATE_CQL_CELL_EXPIRING: return now < c->local_deletion_time;
    default: return false;
    }
}

spate_status_t spate_cql_deletion_encode(spate_buf_t *out, const spate_cql_deletion_t *d) {
    uint8_t b[12];
    put_be64(b, (uint64_t)d->timestamp);
    put_be32(b + 8, (uint32_t)d->local_deletion_time);
    return spate_buf_append(out, b, 12);
}

spate_status_t spate_cql_deletion_decode(const void *p, size_t n, spate_cql_deletion_t *d) {
    if (p == NULL || n != 12) return SPATE_EINVAL;
    d->timestamp = (int64_t)be64(p);
    d->local_deletion_time = (int32_t)be32((const uint8_t *)p + 8);
    return SPATE_OK;
}

bool spate_cql_deletion_deletes(const spate_cql_deletion_t *d, int64_t ts) {
    return ts <= d->timestamp;
}

bool spate_cql_deletion_supersedes(const spate_cql_deletion_t *a, const spate_cql_deletion_t *b) {
    return a->timestamp > b->timestamp ||
           (a->timestamp == b->timestamp && a->local_deletion_time > b->local_deletion_time);
}

/* ------------------------------------------------------------------ */
/* Row values                                                          */
/* ------------------------------------------------------------------ */

bool spate_cql_row_value_is(const void *p, size_t n) {
    if (p == NULL || n == 0) return false;
    uint8_t b = *(const uint8_t *)p;
    return b == SPATE_CQL_ROW_VALUE || b == SPATE_CQL_ROW_VALUE_SHARED;
}

spate_status_t spate_cql_row_value_begin(spate_buf_t *out) {
    return spate_buf_putc(out, (char)SPATE_CQL_ROW_VALUE);
}

spate_status_t spate_cql_row_value_put(spate_buf_t *out, spate_cql_key_kind_t kind, uint16_t column,
                                       spate_slice_t cell) {
    uint8_t h[7];
    size_t hn = 0;
    if ((kind != SPATE_CQL_KIND_ROW_MARKER && kind != SPATE_CQL_KIND_CELL) || cell.p == NULL ||
        cell.len < 0)
        return SPATE_EINVAL;
    h[hn++] = (uint8_t)kind;
    if (kind == SPATE_CQL_KIND_CELL) {
        h[hn++] = (uint8_t)(column >> 8);
        h[hn++] = (uint8_t)column;
    }
    put_be32(h + hn, (uint32_t)cell.len);
    hn += 4;
    spate_status_t st = spate_buf_append(out, h, hn);
    return st == SPATE_OK ? spate_buf_append(out, cell.p, (size_t)cell.len) : st;
}

/* Whether entries e[0..n) can share one cell header: all live, or all
 * expiring with one TTL and expiry, all at one timestamp. */
static bool row_shared(const spate_cql_row_entry_t *e, size_t n) {
    const spate_cql_cell_t *c0 = &e[0].cell;
    if (c0->kind != SPATE_CQL_CELL_LIVE && c0->kind != SPATE_CQL_CELL_EXPIRING) return false;
    for (size_t i = 1; i < n; i++) {
        const spate_cql_cell_t *c = &e[i].cell;
        if (c->kind != c0->kind || c->timestamp != c0->timestamp ||
            (c0->kind == SPATE_CQL_CELL_EXPIRING &&
             (c->ttl != c0->ttl || c->local_deletion_time != c0->local_deletion_time)))
            return false;
    }
    return true;
}

spate_status_t spate_cql_row_value_encode(spate_buf_t *out, const spate_cql_row_entry_t *e,
                                          size_t n) {
    if (n == 0) return SPATE_EINVAL;
    for (size_t i = 0; i < n; i++) {
        const spate_cql_row_entry_t *x = &e[i];
        if ((x->kind != SPATE_CQL_KIND_ROW_MARKER && x->kind != SPATE_CQL_KIND_CELL) ||
            (x->kind == SPATE_CQL_KIND_ROW_MARKER && x->cell.value.len > 0) ||
            (x->cell.kind != SPATE_CQL_CELL_TOMBSTONE &&
             (x->cell.value.p == NULL || x->cell.value.len < 0)) ||
            (i > 0 &&
             ((int)x->kind << 16 | x->column) <= ((int)e[i - 1].kind << 16 | e[i - 1].column)))
            return SPATE_EINVAL;
    }
    size_t from = out->len;
    spate_status_t st = SPATE_OK;
    if (!row_shared(e, n)) {
        spate_buf_t cell = SPATE_BUF_INIT;
        st = spate_cql_row_value_begin(out);
        for (size_t i = 0; i < n && st == SPATE_OK; i++) {
            spate_buf_reset(&cell);
            st = spate_cql_cell_encode(&cell, &e[i].cell);
            if (st == SPATE_OK)
                st = spate_cql_row_value_put(
                    out, e[i].kind, e[i].column,
                    (spate_slice_t){cell.data ? cell.data : "", (int32_t)cell.len});
        }
        spate_buf_free(&cell);
    } else {
        const spate_cql_cell_t *c0 = &e[0].cell;
        uint8_t h[18];
        size_t hn = 0;
        h[hn++] = SPATE_CQL_ROW_VALUE_SHARED;
        h[hn++] = (uint8_t)c0->kind;
        put_be64(h + hn, (uint64_t)c0->timestamp);
        hn += 8;
        if (c0->kind == SPATE_CQL_CELL_EXPIRING) {
            if (c0->ttl <= 0) return SPATE_EINVAL;
            put_be32(h + hn, (uint32_t)c0->ttl);
            put_be32(h + hn + 4, (uint32_t)c0->local_deletion_time);
            hn += 8;
        }
        /* the room for it all first (an entry's head is at most 8 bytes),
         * then plain stores: a row of a dozen cells, once per upsert */
        size_t room = hn;
        for (size_t i = 0; i < n; i++)
            room += 8 + (e[i].kind == SPATE_CQL_KIND_CELL ? (size_t)e[i].cell.value.len : 0);
        st = spate_buf_reserve(out, room);
        if (st == SPATE_OK) {
            uint8_t *o = (uint8_t *)out->data + out->len;
            memcpy(o, h, hn);
            o += hn;
            for (size_t i = 0; i < n; i++) {
                *o++ = (uint8_t)e[i].kind;
                if (e[i].kind != SPATE_CQL_KIND_CELL) continue;
                *o++ = (uint8_t)(e[i].column >> 8);
                *o++ = (uint8_t)e[i].column;
                uint32_t len = (uint32_t)e[i].cell.value.len;
                do {
                    *o++ = (uint8_t)((len & 0x7f) | (len > 0x7f ? 0x80 : 0));
                    len >>= 7;
                } while (len);
                memcpy(o, e[i].cell.value.p, (size_t)e[i].cell.value.len);
                o += e[i].cell.value.len;
            }
            out->len = (size_t)((char *)o - out->data);
            out->data[out->len] = '\0';
        }
    }
    if (st != SPATE_OK && out->data != NULL) {
        out->len = from;
        out->data[from] = '\0';
    }
    return st;
}

spate_status_t spate_cql_row_reader_init(spate_cql_row_reader_t *rr, const void *p, size_t n) {
    if (!spate_cql_row_value_is(p, n)) return SPATE_EINVAL;
    memset(rr, 0, sizeof *rr);
    spate_rd_init(&rr->r, (const uint8_t *)p + 1, n - 1);
    rr->last = -1;
    rr->shared = *(const uint8_t *)p == SPATE_CQL_ROW_VALUE_SHARED;
    if (!rr->shared) return SPATE_OK;
    /* the shared cell header, checked here and again by next (which
     * answers EINVAL for a row value whose header did not read) */
    uint8_t kind = 0;
    uint64_t ts = 0;
    uint32_t ttl = 0, ldt = 0;
    rr->bad = spate_rd_u8(&rr->r, &kind) != SPATE_OK || spate_rd_u64(&rr->r, &ts) != SPATE_OK ||
              (kind != SPATE_CQL_CELL_LIVE && kind != SPATE_CQL_CELL_EXPIRING) ||
              (kind == SPATE_CQL_CELL_EXPIRING &&
               (spate_rd_u32(&rr->r, &ttl) != SPATE_OK || spate_rd_u32(&rr->r, &ldt) != SPATE_OK ||
                (int32_t)ttl <= 0));
    rr->head = (spate_cql_cell_t){.kind = (spate_cql_cell_kind_t)kind,
                                  .timestamp = (int64_t)ts,
                                  .ttl = (int32_t)ttl,
                                  .local_deletion_time = (int32_t)ldt};
    return SPATE_OK;
}

/* A LEB128 u32 (at most 5 bytes, no bits above 32). */
static spate_status_t rd_varint32(spate_rd_t *r, uint32_t *v) {
    uint64_t x = 0;
    for (int i = 0; i < 5; i++) {
        uint8_t b;
        if (spate_rd_u8(r, &b) != SPATE_OK) return SPATE_EINVAL;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (x > UINT32_MAX) return SPATE_EINVAL;
            *v = (uint32_t)x;
            return SPATE_OK;
        }
    }
    return SPATE_EINVAL;
}

spate_status_t spate_cql_row_reader_next(spate_cql_row_reader_t *rr, spate_cql_key_kind_t *kind,
                                         uint16_t *column, spate_cql_cell_t *cell) {
    if (rr->bad) return SPATE_EINVAL;
    if (spate_rd_left(&rr->r) == 0) return rr->last < 0 ? SPATE_EINVAL : SPATE_ENOENT;
    uint8_t k;
    uint16_t col = 0;
    uint32_t n = 0;
    const uint8_t *p;
    if (spate_rd_u8(&rr->r, &k) != SPATE_OK) return SPATE_EINVAL;
    if (k != SPATE_CQL_KIND_ROW_MARKER && k != SPATE_CQL_KIND_CELL) return SPATE_EINVAL;
    if (k == SPATE_CQL_KIND_CELL && spate_rd_u16(&rr->r, &col) != SPATE_OK) return SPATE_EINVAL;
    int id = (int)k << 16 | col;
    if (id <= rr->last) return SPATE_EINVAL;
    if (rr->shared) {
        if (k == SPATE_CQL_KIND_CELL && (rd_varint32(&rr->r, &n) != SPATE_OK || n > INT32_MAX ||
                                         spate_rd_bytes(&rr->r, n, &p) != SPATE_OK))
            return SPATE_EINVAL;
        *cell = rr->head;
        cell->value = (spate_slice_t){n ? (const char *)p : "", (int32_t)n};
    } else {
        if (spate_rd_u32(&rr->r, &n) != SPATE_OK || spate_rd_bytes(&rr->r, n, &p) != SPATE_OK)
            return SPATE_EINVAL;
        if (spate_cql_cell_decode(p, n, cell) != SPATE_OK) return SPATE_EINVAL;
        if (k == SPATE_CQL_KIND_ROW_MARKER && cell->value.len > 0) return SPATE_EINVAL;
    }
    rr->last = id;
    *kind = (spate_cql_key_kind_t)k;
    *column = col;
    return SPATE_OK;
}

spate_status_t spate_cql_row_value_check(const void *p, size_t n) {
    spate_cql_row_reader_t rr;
    spate_status_t st = spate_cql_row_reader_init(&rr, p, n);
    spate_cql_key_kind_t k;
    uint16_t col;
    spate_cql_cell_t c;
    while (st == SPATE_OK) st = spate_cql_row_reader_next(&rr, &k, &col, &c);
    return st == SPATE_ENOENT ? SPATE_OK : SPATE_EINVAL;
}

static int row_ent_cmp(const void *a, const void *b) {
    const spate_cql_row_entry_t *x = a, *y = b;
    int i = (int)x->kind << 16 | x->column, j = (int)y->kind << 16 | y->column;
    return i < j ? -1 : i > j;
}

typedef struct {
    spate_cql_row_entry_t *v;
    size_t n, cap;
} row_ents_t;

static bool row_ent_push(row_ents_t *a, spate_cql_key_kind_t k, uint16_t col,
                         const spate_cql_cell_t *c) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 16;
        spate_cql_row_entry_t *v = realloc(a->v, cap * sizeof *v);
        if (v == NULL) return false;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = (spate_cql_row_entry_t){k, col, *c};
    return true;
}

/* Appends the entries of operand v (a row value or a marker cell): all of
 * them, or none when it does not read whole. */
static void row_operand(row_ents_t *a, spate_slice_t v) {
    size_t from = a->n;
    spate_cql_cell_t c;
    if (v.p == NULL || v.len <= 0) return;
    if (!spate_cql_row_value_is(v.p, (size_t)v.len)) {
        if (spate_cql_cell_decode(v.p, (size_t)v.len, &c) == SPATE_OK && c.value.len == 0)
            row_ent_push(a, SPATE_CQL_KIND_ROW_MARKER, 0, &c);
        return;
    }
    spate_cql_row_reader_t rr;
    spate_cql_key_kind_t k;
    uint16_t col;
    spate_status_t st = spate_cql_row_reader_init(&rr, v.p, (size_t)v.len);
    while (st == SPATE_OK && (st = spate_cql_row_reader_next(&rr, &k, &col, &c)) == SPATE_OK)
        if (!row_ent_push(a, k, col, &c)) st = SPATE_ENOMEM;
    if (st != SPATE_ENOENT) a->n = from;
}

/* Whether a wins over b: the reconcile winner; between cells equal but
 * for their TTL, the longer TTL. */
static bool row_beats(const spate_cql_cell_t *a, const spate_cql_cell_t *b) {
    if (a->kind == b->kind && a->timestamp == b->timestamp &&
        a->local_deletion_time == b->local_deletion_time && a->ttl != b->ttl &&
        a->value.len == b->value.len &&
        (a->value.len <= 0 || memcmp(a->value.p, b->value.p, (size_t)a->value.len) == 0))
        return a->ttl > b->ttl;
    return spate_cql_cell_reconcile(a, b) == a && spate_cql_cell_reconcile(b, a) == a;
}

spate_status_t spate_cql_row_value_merge(spate_buf_t *out, const spate_slice_t *v, size_t n) {
    row_ents_t a = {0};
    for (size_t i = 0; i < n; i++) row_operand(&a, v[i]);
    if (a.n == 0) {
        free(a.v);
        return SPATE_ENOENT;
    }
    spate_cql_row_entry_t *e = a.v;
    /* the winner must not depend on operand order: reconcile decides all
     * but expiring cells equal in everything but their TTL (Cassandra
     * keeps whichever came first), which row_beats settles by the TTL */
    qsort(e, a.n, sizeof *e, row_ent_cmp);
    size_t w = 0;
    for (size_t i = 0; i < a.n;) {
        /* equal ids: the run's winner, whatever order it came in */
        size_t best = i, j = i + 1;
        for (; j < a.n && e[j].kind == e[i].kind && e[j].column == e[i].column; j++)
            if (row_beats(&e[j].cell, &e[best].cell)) best = j;
        e[w++] = e[best];
        i = j;
    }
    spate_status_t st = spate_cql_row_value_encode(out, e, w);
    free(e);
    return st;
}

spate_status_t spate_cql_range_tombstone_encode(spate_buf_t *out, const spate_cql_key_schema_t *s,
                                                const spate_cql_deletion_t *d,
                                                const spate_slice_t *ck, uint16_t n,
                                                spate_cql_bound_t b) {
    spate_status_t st = spate_cql_deletion_encode(out, d);
    return st == SPATE_OK ? spate_cql_key_bound(out, s, ck, n, b) : st;
}

spate_status_t spate_cql_range_tombstone_decode(const spate_cql_key_schema_t *s, const void *p,
                                                size_t n, spate_cql_deletion_t *d,
                                                spate_slice_t *end) {
    if (!schema_ok(s) || p == NULL || n < 13 || n > INT32_MAX) return SPATE_EINVAL;
    spate_buf_t scratch = SPATE_BUF_INIT;
    size_t *offs = calloc(2 * (size_t)s->nck + 1, sizeof(size_t));
    spate_status_t st = offs == NULL ? SPATE_ENOMEM : SPATE_OK;
    dec_t dd = {(const uint8_t *)p + 12, n - 12, 0, 0, &scratch, 0};
    uint16_t nb;
    uint8_t bb;
    if (st == SPATE_OK) st = dec_clustering(&dd, s, s->nck, offs, &nb);
    if (st == SPATE_OK &&
        (dec_u8(&dd, &bb) != SPATE_OK ||
         (bb != SPATE_CQL_BOUND_BEFORE && bb != SPATE_CQL_BOUND_AFTER) || dd.off != dd.len))
        st = SPATE_EINVAL;
    if (st == SPATE_OK) {
        spate_cql_deletion_decode(p, 12, d);
        *end = (spate_slice_t){(const char *)p + 12, (int32_t)(n - 12)};
    }
    free(offs);
    spate_buf_free(&scratch);
    return st;
}
