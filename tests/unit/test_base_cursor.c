/*
 * test_base_cursor.c — unit tests of the wire-format cursors in
 * src/base/base_cursor.c: every spate_rd_* reader and spate_wr_* writer
 * declared in base.h. Values are checked against encodings computed
 * independently (Kafka's zig-zag varint of 1 is 0x02, of -1 is 0x01; the
 * uvarint of 300 is AC 02), round-tripped over the boundary values of each
 * width, and every reader is fed every strict prefix of a valid encoding
 * to prove the parser contract Kafka and CQL decoding relies on: a short
 * input gives SPATE_AGAIN and leaves the cursor exactly where it was
 * (including strings whose length prefix is complete but whose body is
 * not), while input that can never become valid (an over-long varint, a
 * negative length other than the null marker) gives SPATE_EINVAL. The
 * encoded-size helpers are checked against the bytes the writers emit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "base.h"

/* ---- helpers ---- */

/* Writes with one of the writers and compares to the expected bytes. */
#define ASSERT_WRITES(call, ...)                                                                   \
    do {                                                                                           \
        static const uint8_t want_[] = {__VA_ARGS__};                                              \
        spate_buf_t b_ = SPATE_BUF_INIT;                                                           \
        spate_buf_t *b = &b_;                                                                      \
        assert_int_equal((call), SPATE_OK);                                                        \
        assert_int_equal(b_.len, sizeof want_);                                                    \
        assert_memory_equal(b_.data, want_, sizeof want_);                                         \
        spate_buf_free(&b_);                                                                       \
    } while (0)

/* A reader under test, wrapped to a common shape (the decoded value is
 * dropped: these wrappers only exercise lengths and cursor movement). */
typedef spate_status_t (*rd_fn)(spate_rd_t *r);

static spate_status_t rd_u8_any(spate_rd_t *r) {
    uint8_t v;
    return spate_rd_u8(r, &v);
}
static spate_status_t rd_i8_any(spate_rd_t *r) {
    int8_t v;
    return spate_rd_i8(r, &v);
}
static spate_status_t rd_u16_any(spate_rd_t *r) {
    uint16_t v;
    return spate_rd_u16(r, &v);
}
static spate_status_t rd_i16_any(spate_rd_t *r) {
    int16_t v;
    return spate_rd_i16(r, &v);
}
static spate_status_t rd_u32_any(spate_rd_t *r) {
    uint32_t v;
    return spate_rd_u32(r, &v);
}
static spate_status_t rd_i32_any(spate_rd_t *r) {
    int32_t v;
    return spate_rd_i32(r, &v);
}
static spate_status_t rd_u64_any(spate_rd_t *r) {
    uint64_t v;
    return spate_rd_u64(r, &v);
}
static spate_status_t rd_i64_any(spate_rd_t *r) {
    int64_t v;
    return spate_rd_i64(r, &v);
}
static spate_status_t rd_uvarint_any(spate_rd_t *r) {
    uint32_t v;
    return spate_rd_uvarint(r, &v);
}
static spate_status_t rd_varint_any(spate_rd_t *r) {
    int32_t v;
    return spate_rd_varint(r, &v);
}
static spate_status_t rd_varlong_any(spate_rd_t *r) {
    int64_t v;
    return spate_rd_varlong(r, &v);
}
static spate_status_t rd_bytes5_any(spate_rd_t *r) {
    const uint8_t *p;
    return spate_rd_bytes(r, 5, &p);
}
static spate_status_t rd_skip5_any(spate_rd_t *r) { return spate_rd_skip(r, 5); }
static spate_status_t rd_str16_any(spate_rd_t *r) {
    spate_slice_t s;
    return spate_rd_str16(r, &s);
}
static spate_status_t rd_str32_any(spate_rd_t *r) {
    spate_slice_t s;
    return spate_rd_str32(r, &s);
}
static spate_status_t rd_compact_any(spate_rd_t *r) {
    spate_slice_t s;
    return spate_rd_compact_str(r, &s);
}
static spate_status_t rd_varbytes_any(spate_rd_t *r) {
    spate_slice_t s;
    return spate_rd_varint_bytes(r, &s);
}

/* enc[0..n) is one complete encoding for f. With a one-byte prefix
 * already consumed (so "did not move" is tested at a non-zero offset),
 * every strict prefix of enc must give AGAIN with the cursor unmoved, and
 * the whole of enc (followed by a trailing byte) must read exactly n
 * bytes. */
static void check_truncations(rd_fn f, const uint8_t *enc, size_t n) {
    uint8_t buf[64];
    assert_true(n + 2 <= sizeof buf);
    buf[0] = 0xEE;
    memcpy(buf + 1, enc, n);
    buf[1 + n] = 0xEE;
    for (size_t cut = 0; cut < n; cut++) {
        spate_rd_t r;
        spate_rd_init(&r, buf, 1 + cut);
        r.off = 1;
        assert_int_equal(f(&r), SPATE_AGAIN);
        assert_int_equal(r.off, 1);
    }
    spate_rd_t r;
    spate_rd_init(&r, buf, n + 2);
    r.off = 1;
    assert_int_equal(f(&r), SPATE_OK);
    assert_int_equal(r.off, 1 + n);
}

/* enc is hostile: f must answer EINVAL and leave the cursor unmoved. */
static void check_einval(rd_fn f, const uint8_t *enc, size_t n) {
    uint8_t buf[64];
    assert_true(n + 1 <= sizeof buf);
    buf[0] = 0xEE;
    memcpy(buf + 1, enc, n);
    spate_rd_t r;
    spate_rd_init(&r, buf, n + 1);
    r.off = 1;
    assert_int_equal(f(&r), SPATE_EINVAL);
    assert_int_equal(r.off, 1);
}

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

/* ---- fixed-width integers ---- */

static void test_fixed_width_encodings(void **state) {
    (void)state;
    ASSERT_WRITES(spate_wr_u8(b, 0xAB), 0xAB);
    ASSERT_WRITES(spate_wr_i8(b, -2), 0xFE);
    ASSERT_WRITES(spate_wr_u16(b, 0x0102), 0x01, 0x02);
    ASSERT_WRITES(spate_wr_i16(b, -2), 0xFF, 0xFE);
    ASSERT_WRITES(spate_wr_u32(b, 0x01020304), 0x01, 0x02, 0x03, 0x04);
    ASSERT_WRITES(spate_wr_i32(b, INT32_MIN), 0x80, 0x00, 0x00, 0x00);
    ASSERT_WRITES(spate_wr_u64(b, 0x0102030405060708ULL), 1, 2, 3, 4, 5, 6, 7, 8);
    ASSERT_WRITES(spate_wr_i64(b, -1), 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF);
    ASSERT_WRITES(spate_wr_i64(b, INT64_MIN), 0x80, 0, 0, 0, 0, 0, 0, 0);
}

static void test_fixed_width_reads(void **state) {
    (void)state;
    static const uint8_t in[] = {0x80, 0xFF, 0xFE, 0x80, 0x00, 0x00, 0x00, 0x7F,
                                 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x80,
                                 0,    0,    0,    0,    0,    0,    0};
    spate_rd_t r;
    spate_rd_init(&r, in, sizeof in);
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    assert_int_equal(spate_rd_i8(&r, &i8), SPATE_OK);
    assert_int_equal(i8, -128);
    assert_int_equal(spate_rd_i16(&r, &i16), SPATE_OK);
    assert_int_equal(i16, -2);
    assert_int_equal(spate_rd_i32(&r, &i32), SPATE_OK);
    assert_int_equal(i32, INT32_MIN);
    assert_int_equal(spate_rd_i64(&r, &i64), SPATE_OK);
    assert_true(i64 == INT64_MAX);
    assert_int_equal(spate_rd_left(&r), 8);
    uint64_t u64;
    spate_rd_t r2 = r;
    assert_int_equal(spate_rd_u64(&r2, &u64), SPATE_OK);
    assert_true(u64 == 0x8000000000000000ULL);
    assert_int_equal(spate_rd_i64(&r, &i64), SPATE_OK);
    assert_true(i64 == INT64_MIN);
    assert_int_equal(spate_rd_left(&r), 0);
    uint8_t u8 = 7;
    assert_int_equal(spate_rd_u8(&r, &u8), SPATE_AGAIN);
    assert_int_equal(u8, 7); /* untouched on failure */
}

static void test_fixed_width_round_trip(void **state) {
    (void)state;
    static const int64_t vals[] = {0,     1,         -1,        127,          128,       -128,
                                   255,   256,       16383,     16384,        32767,     -32768,
                                   65535, INT32_MAX, INT32_MIN, 4294967295LL, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(vals); i++) {
        int64_t v = vals[i];
        spate_buf_t b = SPATE_BUF_INIT;
        assert_int_equal(spate_wr_u8(&b, (uint8_t)v), SPATE_OK);
        assert_int_equal(spate_wr_u16(&b, (uint16_t)v), SPATE_OK);
        assert_int_equal(spate_wr_u32(&b, (uint32_t)v), SPATE_OK);
        assert_int_equal(spate_wr_u64(&b, (uint64_t)v), SPATE_OK);
        assert_int_equal(b.len, 1 + 2 + 4 + 8);
        spate_rd_t r;
        spate_rd_init(&r, b.data, b.len);
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
        assert_int_equal(spate_rd_u8(&r, &u8), SPATE_OK);
        assert_int_equal(u8, (uint8_t)v);
        assert_int_equal(spate_rd_u16(&r, &u16), SPATE_OK);
        assert_int_equal(u16, (uint16_t)v);
        assert_int_equal(spate_rd_u32(&r, &u32), SPATE_OK);
        assert_int_equal(u32, (uint32_t)v);
        assert_int_equal(spate_rd_u64(&r, &u64), SPATE_OK);
        assert_true(u64 == (uint64_t)v);
        assert_int_equal(spate_rd_left(&r), 0);
        spate_buf_free(&b);
    }
}

static void test_fixed_width_short(void **state) {
    (void)state;
    check_truncations(rd_u8_any, BYTES(0x01));
    check_truncations(rd_i8_any, BYTES(0xFF));
    check_truncations(rd_u16_any, BYTES(0x01, 0x02));
    check_truncations(rd_i16_any, BYTES(0xFF, 0xFE));
    check_truncations(rd_u32_any, BYTES(1, 2, 3, 4));
    check_truncations(rd_i32_any, BYTES(0x80, 0, 0, 0));
    check_truncations(rd_u64_any, BYTES(1, 2, 3, 4, 5, 6, 7, 8));
    check_truncations(rd_i64_any, BYTES(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF));
}

/* ---- raw bytes ---- */

static void test_bytes_and_skip(void **state) {
    (void)state;
    static const uint8_t in[] = {'h', 'e', 'l', 'l', 'o', '!', '?'};
    spate_rd_t r;
    spate_rd_init(&r, in, sizeof in);
    const uint8_t *p = NULL;
    assert_int_equal(spate_rd_bytes(&r, 0, &p), SPATE_OK);
    assert_int_equal(r.off, 0);
    assert_int_equal(spate_rd_bytes(&r, 5, &p), SPATE_OK);
    assert_ptr_equal(p, in); /* borrowed, not copied */
    assert_int_equal(spate_rd_skip(&r, 1), SPATE_OK);
    assert_int_equal(r.off, 6);
    assert_int_equal(spate_rd_skip(&r, 2), SPATE_AGAIN);
    assert_int_equal(spate_rd_bytes(&r, 2, &p), SPATE_AGAIN);
    /* A huge length (from a hostile prefix) must not wrap the check. */
    assert_int_equal(spate_rd_bytes(&r, SIZE_MAX, &p), SPATE_AGAIN);
    assert_int_equal(spate_rd_skip(&r, SIZE_MAX), SPATE_AGAIN);
    assert_int_equal(r.off, 6);
    assert_int_equal(spate_rd_skip(&r, 1), SPATE_OK);
    assert_int_equal(spate_rd_left(&r), 0);
    assert_int_equal(spate_rd_skip(&r, 0), SPATE_OK);

    check_truncations(rd_bytes5_any, BYTES('a', 'b', 'c', 'd', 'e'));
    check_truncations(rd_skip5_any, BYTES('a', 'b', 'c', 'd', 'e'));
}

/* ---- varints ---- */

typedef struct {
    int64_t v;
    uint8_t enc[10];
    size_t n;
} venc_t;

/* Kafka VARINT (zig-zag 32). Encodings computed with Python. */
static const venc_t varint_cases[] = {
    {0, {0x00}, 1},
    {1, {0x02}, 1},
    {-1, {0x01}, 1},
    {63, {0x7E}, 1},
    {-64, {0x7F}, 1},
    {64, {0x80, 0x01}, 2},
    {127, {0xFE, 0x01}, 2},
    {128, {0x80, 0x02}, 2},
    {16383, {0xFE, 0xFF, 0x01}, 3},
    {16384, {0x80, 0x80, 0x02}, 3},
    {-16384, {0xFF, 0xFF, 0x01}, 3},
    {INT32_MAX, {0xFE, 0xFF, 0xFF, 0xFF, 0x0F}, 5},
    {INT32_MIN, {0xFF, 0xFF, 0xFF, 0xFF, 0x0F}, 5},
};

/* UNSIGNED_VARINT (LEB128). */
static const venc_t uvarint_cases[] = {
    {0, {0x00}, 1},
    {1, {0x01}, 1},
    {127, {0x7F}, 1},
    {128, {0x80, 0x01}, 2},
    {300, {0xAC, 0x02}, 2},
    {16383, {0xFF, 0x7F}, 2},
    {16384, {0x80, 0x80, 0x01}, 3},
    {2097151, {0xFF, 0xFF, 0x7F}, 3},
    {2097152, {0x80, 0x80, 0x80, 0x01}, 4},
    {INT32_MAX, {0xFF, 0xFF, 0xFF, 0xFF, 0x07}, 5},
    {UINT32_MAX, {0xFF, 0xFF, 0xFF, 0xFF, 0x0F}, 5},
};

/* Kafka VARLONG (zig-zag 64). */
static const venc_t varlong_cases[] = {
    {0, {0x00}, 1},
    {1, {0x02}, 1},
    {-1, {0x01}, 1},
    {127, {0xFE, 0x01}, 2},
    {128, {0x80, 0x02}, 2},
    {16383, {0xFE, 0xFF, 0x01}, 3},
    {16384, {0x80, 0x80, 0x02}, 3},
    {INT32_MAX, {0xFE, 0xFF, 0xFF, 0xFF, 0x0F}, 5},
    {INT32_MIN, {0xFF, 0xFF, 0xFF, 0xFF, 0x0F}, 5},
    {34359738368LL, {0x80, 0x80, 0x80, 0x80, 0x80, 0x02}, 6},
    {INT64_MAX, {0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}, 10},
    {INT64_MIN, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}, 10},
};

static void test_varint_known(void **state) {
    (void)state;
    for (size_t i = 0; i < SPATE_ARRAY_LEN(varint_cases); i++) {
        const venc_t *c = &varint_cases[i];
        spate_buf_t b = SPATE_BUF_INIT;
        assert_int_equal(spate_wr_varint(&b, (int32_t)c->v), SPATE_OK);
        assert_int_equal(b.len, c->n);
        assert_memory_equal(b.data, c->enc, c->n);
        assert_int_equal(spate_varlong_size(c->v), c->n); /* same size as varint in range */
        spate_rd_t r;
        spate_rd_init(&r, c->enc, c->n);
        int32_t v = 0;
        assert_int_equal(spate_rd_varint(&r, &v), SPATE_OK);
        assert_int_equal(v, (int32_t)c->v);
        assert_int_equal(r.off, c->n);
        check_truncations(rd_varint_any, c->enc, c->n);
        spate_buf_free(&b);
    }
}

static void test_uvarint_known(void **state) {
    (void)state;
    for (size_t i = 0; i < SPATE_ARRAY_LEN(uvarint_cases); i++) {
        const venc_t *c = &uvarint_cases[i];
        spate_buf_t b = SPATE_BUF_INIT;
        assert_int_equal(spate_wr_uvarint(&b, (uint32_t)c->v), SPATE_OK);
        assert_int_equal(b.len, c->n);
        assert_memory_equal(b.data, c->enc, c->n);
        assert_int_equal(spate_uvarint_size((uint32_t)c->v), c->n);
        spate_rd_t r;
        spate_rd_init(&r, c->enc, c->n);
        uint32_t v = 0;
        assert_int_equal(spate_rd_uvarint(&r, &v), SPATE_OK);
        assert_int_equal(v, (uint32_t)c->v);
        assert_int_equal(r.off, c->n);
        check_truncations(rd_uvarint_any, c->enc, c->n);
        spate_buf_free(&b);
    }
}

static void test_varlong_known(void **state) {
    (void)state;
    for (size_t i = 0; i < SPATE_ARRAY_LEN(varlong_cases); i++) {
        const venc_t *c = &varlong_cases[i];
        spate_buf_t b = SPATE_BUF_INIT;
        assert_int_equal(spate_wr_varlong(&b, c->v), SPATE_OK);
        assert_int_equal(b.len, c->n);
        assert_memory_equal(b.data, c->enc, c->n);
        assert_int_equal(spate_varlong_size(c->v), c->n);
        spate_rd_t r;
        spate_rd_init(&r, c->enc, c->n);
        int64_t v = 0;
        assert_int_equal(spate_rd_varlong(&r, &v), SPATE_OK);
        assert_true(v == c->v);
        assert_int_equal(r.off, c->n);
        check_truncations(rd_varlong_any, c->enc, c->n);
        spate_buf_free(&b);
    }
}

/* Writes then reads back a sweep of values, several in one buffer, and
 * checks the size helpers against what was written. */
static void test_varint_round_trip_sweep(void **state) {
    (void)state;
    spate_buf_t b = SPATE_BUF_INIT;
    size_t expect_len = 0;
    int64_t vals[200];
    size_t nv = 0;
    for (int s = 0; s < 63 && nv + 3 <= SPATE_ARRAY_LEN(vals); s += 1) {
        int64_t p = (int64_t)1 << s;
        vals[nv++] = p;
        vals[nv++] = -p;
        vals[nv++] = p - 1;
    }
    vals[nv++] = INT64_MAX;
    vals[nv++] = INT64_MIN;
    for (size_t i = 0; i < nv; i++) {
        size_t before = b.len;
        assert_int_equal(spate_wr_varlong(&b, vals[i]), SPATE_OK);
        assert_int_equal(b.len - before, spate_varlong_size(vals[i]));
        expect_len += spate_varlong_size(vals[i]);
        if (vals[i] >= INT32_MIN && vals[i] <= INT32_MAX) {
            before = b.len;
            assert_int_equal(spate_wr_varint(&b, (int32_t)vals[i]), SPATE_OK);
            assert_int_equal(b.len - before, spate_varlong_size(vals[i]));
            expect_len += b.len - before;
        }
        if (vals[i] >= 0 && vals[i] <= UINT32_MAX) {
            before = b.len;
            assert_int_equal(spate_wr_uvarint(&b, (uint32_t)vals[i]), SPATE_OK);
            assert_int_equal(b.len - before, spate_uvarint_size((uint32_t)vals[i]));
            expect_len += b.len - before;
        }
    }
    assert_int_equal(b.len, expect_len);
    spate_rd_t r;
    spate_rd_init(&r, b.data, b.len);
    for (size_t i = 0; i < nv; i++) {
        int64_t l;
        assert_int_equal(spate_rd_varlong(&r, &l), SPATE_OK);
        assert_true(l == vals[i]);
        if (vals[i] >= INT32_MIN && vals[i] <= INT32_MAX) {
            int32_t v;
            assert_int_equal(spate_rd_varint(&r, &v), SPATE_OK);
            assert_int_equal(v, (int32_t)vals[i]);
        }
        if (vals[i] >= 0 && vals[i] <= UINT32_MAX) {
            uint32_t u;
            assert_int_equal(spate_rd_uvarint(&r, &u), SPATE_OK);
            assert_int_equal(u, (uint32_t)vals[i]);
        }
    }
    assert_int_equal(spate_rd_left(&r), 0);
    spate_buf_free(&b);
}

static void test_varint_overlong(void **state) {
    (void)state;
    /* Five continuation bytes: no uvarint/varint can be this long. */
    check_einval(rd_uvarint_any, BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x00));
    check_einval(rd_varint_any, BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x00));
    /* Exactly five bytes, all with the continuation bit: already invalid,
     * more input cannot help, so EINVAL rather than AGAIN. */
    check_einval(rd_uvarint_any, BYTES(0xFF, 0xFF, 0xFF, 0xFF, 0xFF));
    /* Five bytes whose value needs more than 32 bits. */
    check_einval(rd_uvarint_any, BYTES(0xFF, 0xFF, 0xFF, 0xFF, 0x1F));
    check_einval(rd_uvarint_any, BYTES(0x80, 0x80, 0x80, 0x80, 0x10));
    check_einval(rd_varint_any, BYTES(0xFF, 0xFF, 0xFF, 0xFF, 0x1F));
    /* Ten continuation bytes for a varlong. */
    check_einval(rd_varlong_any,
                 BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00));
    /* Four continuation bytes and then the input ends: might still be
     * valid, so AGAIN. */
    check_truncations(rd_uvarint_any, BYTES(0x80, 0x80, 0x80, 0x80, 0x00));
    /* A redundant (non-minimal) encoding within the length limit is
     * accepted, as Kafka's Java reader does. */
    spate_rd_t r;
    spate_rd_init(&r, BYTES(0x81, 0x80, 0x80, 0x00));
    uint32_t u;
    assert_int_equal(spate_rd_uvarint(&r, &u), SPATE_OK);
    assert_int_equal(u, 1);
    assert_int_equal(r.off, 4);
}

/* ---- strings ---- */

static void assert_slice(const spate_slice_t *s, const char *want) {
    if (!want) {
        assert_null(s->p);
        assert_int_equal(s->len, -1);
        return;
    }
    assert_non_null(s->p);
    assert_int_equal(s->len, (int32_t)strlen(want));
    assert_memory_equal(s->p, want, strlen(want));
}

static void test_str16(void **state) {
    (void)state;
    ASSERT_WRITES(spate_wr_str16(b, "abc", 3), 0x00, 0x03, 'a', 'b', 'c');
    ASSERT_WRITES(spate_wr_str16(b, "", 0), 0x00, 0x00);
    ASSERT_WRITES(spate_wr_str16(b, NULL, 0), 0xFF, 0xFF);

    spate_rd_t r;
    spate_slice_t s;
    spate_rd_init(&r, BYTES(0x00, 0x03, 'a', 'b', 'c', 0xFF, 0xFF, 0x00, 0x00));
    assert_int_equal(spate_rd_str16(&r, &s), SPATE_OK);
    assert_slice(&s, "abc");
    assert_ptr_equal(s.p, r.p + 2); /* borrowed from the input */
    assert_int_equal(spate_rd_str16(&r, &s), SPATE_OK);
    assert_slice(&s, NULL);
    assert_int_equal(spate_rd_str16(&r, &s), SPATE_OK);
    assert_slice(&s, ""); /* empty is not null */
    assert_int_equal(spate_rd_left(&r), 0);

    /* Lengths below the null marker can never be valid. */
    check_einval(rd_str16_any, BYTES(0xFF, 0xFE, 'a', 'b'));
    check_einval(rd_str16_any, BYTES(0x80, 0x00));
    /* Prefix complete, body short: AGAIN, cursor back before the prefix. */
    check_truncations(rd_str16_any, BYTES(0x00, 0x05, 'h', 'e', 'l', 'l', 'o'));
    check_truncations(rd_str16_any, BYTES(0xFF, 0xFF));

    /* The longest length an int16 prefix can carry, and one more. */
    static char big[32768];
    memset(big, 'x', sizeof big);
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_wr_str16(&b, big, 32767), SPATE_OK);
    assert_int_equal(b.len, 2 + 32767);
    spate_rd_init(&r, b.data, b.len);
    assert_int_equal(spate_rd_str16(&r, &s), SPATE_OK);
    assert_int_equal(s.len, 32767);
    size_t len = b.len;
    assert_int_equal(spate_wr_str16(&b, big, 32768), SPATE_ERANGE);
    assert_int_equal(b.len, len); /* nothing half-written */
    spate_buf_free(&b);
}

static void test_str32(void **state) {
    (void)state;
    ASSERT_WRITES(spate_wr_str32(b, "ab", 2), 0, 0, 0, 2, 'a', 'b');
    ASSERT_WRITES(spate_wr_str32(b, "", 0), 0, 0, 0, 0);
    ASSERT_WRITES(spate_wr_str32(b, NULL, 0), 0xFF, 0xFF, 0xFF, 0xFF);

    spate_rd_t r;
    spate_slice_t s;
    /* Any negative length is null (CQL [bytes]). */
    static const uint8_t negs[][4] = {
        {0xFF, 0xFF, 0xFF, 0xFF}, {0xFF, 0xFF, 0xFF, 0xFE}, {0x80, 0x00, 0x00, 0x00}};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(negs); i++) {
        spate_rd_init(&r, negs[i], 4);
        s.p = "junk";
        s.len = 4;
        assert_int_equal(spate_rd_str32(&r, &s), SPATE_OK);
        assert_slice(&s, NULL);
        assert_int_equal(r.off, 4);
    }
    spate_rd_init(&r, BYTES(0, 0, 0, 3, 'x', 'y', 'z'));
    assert_int_equal(spate_rd_str32(&r, &s), SPATE_OK);
    assert_slice(&s, "xyz");
    spate_rd_init(&r, BYTES(0, 0, 0, 0));
    assert_int_equal(spate_rd_str32(&r, &s), SPATE_OK);
    assert_slice(&s, "");

    check_truncations(rd_str32_any, BYTES(0, 0, 0, 4, 'd', 'a', 't', 'a'));
    check_truncations(rd_str32_any, BYTES(0xFF, 0xFF, 0xFF, 0xFF));
}

static void test_str32_huge_prefix(void **state) {
    (void)state;
    /* A 2 GiB length against a few bytes of input: AGAIN, not a wild read. */
    spate_rd_t r;
    spate_slice_t s;
    spate_rd_init(&r, BYTES(0x7F, 0xFF, 0xFF, 0xFF, 'a'));
    assert_int_equal(spate_rd_str32(&r, &s), SPATE_AGAIN);
    assert_int_equal(r.off, 0);
}

static void test_compact_str(void **state) {
    (void)state;
    ASSERT_WRITES(spate_wr_compact_str(b, "abc", 3), 0x04, 'a', 'b', 'c');
    ASSERT_WRITES(spate_wr_compact_str(b, "", 0), 0x01);
    ASSERT_WRITES(spate_wr_compact_str(b, NULL, 0), 0x00);

    spate_rd_t r;
    spate_slice_t s;
    spate_rd_init(&r, BYTES(0x04, 'a', 'b', 'c', 0x00, 0x01));
    assert_int_equal(spate_rd_compact_str(&r, &s), SPATE_OK);
    assert_slice(&s, "abc");
    assert_int_equal(spate_rd_compact_str(&r, &s), SPATE_OK);
    assert_slice(&s, NULL);
    assert_int_equal(spate_rd_compact_str(&r, &s), SPATE_OK);
    assert_slice(&s, "");
    assert_int_equal(spate_rd_left(&r), 0);

    /* 200 bytes: the length prefix (201) takes two bytes. */
    char body[200];
    memset(body, 'q', sizeof body);
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_wr_compact_str(&b, body, sizeof body), SPATE_OK);
    assert_int_equal(b.len, 2 + 200);
    assert_int_equal((uint8_t)b.data[0], 0xC9);
    assert_int_equal((uint8_t)b.data[1], 0x01);
    spate_rd_init(&r, b.data, b.len);
    assert_int_equal(spate_rd_compact_str(&r, &s), SPATE_OK);
    assert_int_equal(s.len, 200);
    /* Every prefix of a two-byte length plus body is AGAIN. */
    for (size_t cut = 0; cut < b.len; cut++) {
        spate_rd_init(&r, b.data, cut);
        assert_int_equal(spate_rd_compact_str(&r, &s), SPATE_AGAIN);
        assert_int_equal(r.off, 0);
    }
    spate_buf_free(&b);

    check_truncations(rd_compact_any, BYTES(0x03, 'h', 'i'));
    check_truncations(rd_compact_any, BYTES(0x00));
    /* A length that does not fit an int32 slice is never valid. */
    check_einval(rd_compact_any, BYTES(0xFF, 0xFF, 0xFF, 0xFF, 0x0F));
    check_einval(rd_compact_any, BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x01));
}

static void test_varint_bytes(void **state) {
    (void)state;
    ASSERT_WRITES(spate_wr_varint_bytes(b, "abc", 3), 0x06, 'a', 'b', 'c');
    ASSERT_WRITES(spate_wr_varint_bytes(b, "", 0), 0x00);
    ASSERT_WRITES(spate_wr_varint_bytes(b, NULL, 0), 0x01);

    spate_rd_t r;
    spate_slice_t s;
    spate_rd_init(&r, BYTES(0x06, 'a', 'b', 'c', 0x01, 0x00));
    assert_int_equal(spate_rd_varint_bytes(&r, &s), SPATE_OK);
    assert_slice(&s, "abc");
    assert_int_equal(spate_rd_varint_bytes(&r, &s), SPATE_OK);
    assert_slice(&s, NULL);
    assert_int_equal(spate_rd_varint_bytes(&r, &s), SPATE_OK);
    assert_slice(&s, "");
    assert_int_equal(spate_rd_left(&r), 0);

    check_truncations(rd_varbytes_any, BYTES(0x08, 'a', 'b', 'c', 'd'));
    check_truncations(rd_varbytes_any, BYTES(0x01));
    /* -2 and INT32_MIN are neither a length nor the null marker. */
    check_einval(rd_varbytes_any, BYTES(0x03, 'a'));
    check_einval(rd_varbytes_any, BYTES(0xFF, 0xFF, 0xFF, 0xFF, 0x0F));
    check_einval(rd_varbytes_any, BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x00));
}

/* ---- patching and mixed use ---- */

static void test_patch_u32(void **state) {
    (void)state;
    /* The usual pattern: reserve a length, write the body, patch. */
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_wr_u8(&b, 0x11), SPATE_OK);
    size_t at = b.len;
    assert_int_equal(spate_wr_u32(&b, 0), SPATE_OK);
    assert_int_equal(spate_wr_str16(&b, "body", 4), SPATE_OK);
    assert_int_equal(spate_wr_u8(&b, 0x22), SPATE_OK);
    spate_wr_patch_u32(&b, at, (uint32_t)(b.len - at - 4));
    static const uint8_t want[] = {0x11, 0, 0, 0, 7, 0, 4, 'b', 'o', 'd', 'y', 0x22};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    spate_wr_patch_u32(&b, b.len - 4, 0xDEADBEEF); /* the very end */
    assert_memory_equal(b.data + b.len - 4, "\xDE\xAD\xBE\xEF", 4);
    assert_memory_equal(b.data, want, b.len - 4); /* nothing else moved */
    assert_int_equal(b.data[b.len], '\0');
    spate_rd_t r;
    spate_rd_init(&r, b.data, b.len);
    uint32_t v;
    assert_int_equal(spate_rd_skip(&r, b.len - 4), SPATE_OK);
    assert_int_equal(spate_rd_u32(&r, &v), SPATE_OK);
    assert_int_equal(v, 0xDEADBEEF);
    spate_buf_free(&b);
}

static void test_size_helpers(void **state) {
    (void)state;
    static const struct {
        uint32_t v;
        size_t n;
    } us[] = {{0, 1},       {127, 1},     {128, 2},       {16383, 2},     {16384, 3},
              {2097151, 3}, {2097152, 4}, {268435455, 4}, {268435456, 5}, {UINT32_MAX, 5}};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(us); i++) {
        assert_int_equal(spate_uvarint_size(us[i].v), us[i].n);
        spate_buf_t b = SPATE_BUF_INIT;
        assert_int_equal(spate_wr_uvarint(&b, us[i].v), SPATE_OK);
        assert_int_equal(b.len, us[i].n);
        spate_buf_free(&b);
    }
    static const struct {
        int64_t v;
        size_t n;
    } ls[] = {{0, 1},
              {-1, 1},
              {63, 1},
              {-64, 1},
              {64, 2},
              {-65, 2},
              {INT32_MAX, 5},
              {INT32_MIN, 5},
              {INT64_MAX, 10},
              {INT64_MIN, 10},
              {(int64_t)1 << 62, 10},
              {((int64_t)1 << 62) - 1, 9},
              {(int64_t)1 << 55, 9},
              {((int64_t)1 << 55) - 1, 8}};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(ls); i++) {
        assert_int_equal(spate_varlong_size(ls[i].v), ls[i].n);
        spate_buf_t b = SPATE_BUF_INIT;
        assert_int_equal(spate_wr_varlong(&b, ls[i].v), SPATE_OK);
        assert_int_equal(b.len, ls[i].n);
        spate_buf_free(&b);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_width_encodings),
        cmocka_unit_test(test_fixed_width_reads),
        cmocka_unit_test(test_fixed_width_round_trip),
        cmocka_unit_test(test_fixed_width_short),
        cmocka_unit_test(test_bytes_and_skip),
        cmocka_unit_test(test_varint_known),
        cmocka_unit_test(test_uvarint_known),
        cmocka_unit_test(test_varlong_known),
        cmocka_unit_test(test_varint_round_trip_sweep),
        cmocka_unit_test(test_varint_overlong),
        cmocka_unit_test(test_str16),
        cmocka_unit_test(test_str32),
        cmocka_unit_test(test_str32_huge_prefix),
        cmocka_unit_test(test_compact_str),
        cmocka_unit_test(test_varint_bytes),
        cmocka_unit_test(test_patch_u32),
        cmocka_unit_test(test_size_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
