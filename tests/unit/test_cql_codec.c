/*
 * test_cql_codec.c — unit tests of the CQL native protocol v4 codec
 * (src/cql/cql_frame.c) and of typed values (src/cql/cql_value.c).
 *
 * Every request and response kind is checked both ways against byte
 * vectors written by hand from native_protocol_v4.spec: the hand-written
 * body decodes to the expected fields, the decoded struct written back as
 * a frame gives exactly the 9-byte header plus the same body, and every
 * strict prefix of the body is rejected (EINVAL) without leaking. The
 * cursor readers get the same prefix loop with the AGAIN contract (short
 * input → AGAIN, cursor unmoved). Values are checked for Cassandra's
 * validation messages, cqlsh-style text, and the parsing of literal text,
 * with the edge values the spec lists (varint 128 = 00 80, -129 = FF 7F,
 * date epoch 2^31, INT_MIN, negative timestamps).
 *
 * Byte vectors are written with X("0005 '3.0.0'"): hex bytes grouped by
 * field as the spec draws them, text in quotes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "cql_codec.h"

/* Test vectors are written as the spec draws them: hex bytes (spaces are
 * only for the eye) and 'quoted text' ('' is a quote). They live in one
 * static pool for the whole run, so slices decoded from them stay valid. */
typedef struct {
    const uint8_t *p;
    size_t n;
} bytes_t;

static uint8_t pool[1 << 16];
static size_t pool_used;

static int hexdig(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static bytes_t X(const char *spec) {
    uint8_t *out = pool + pool_used;
    size_t n = 0;
    for (const char *s = spec; *s;) {
        if (*s == ' ') {
            s++;
        } else if (*s == '\'') {
            for (s++; *s && !(s[0] == '\'' && s[1] != '\''); s++) {
                if (s[0] == '\'' && s[1] == '\'') s++;
                out[n++] = (uint8_t)*s;
            }
            assert_true(*s == '\'');
            s++;
        } else {
            int hi = hexdig(s[0]), lo = hi < 0 ? -1 : hexdig(s[1]);
            assert_true(hi >= 0 && lo >= 0);
            out[n++] = (uint8_t)(hi << 4 | lo);
            s += 2;
        }
        assert_true(pool_used + n < sizeof pool);
    }
    pool_used += n;
    return (bytes_t){out, n};
}

static void assert_buf(const spate_buf_t *b, size_t off, bytes_t v) {
    assert_int_equal(b->len, off + v.n);
    assert_memory_equal(b->data + off, v.p, v.n);
}

static spate_status_t req_dec(const spate_cql_header_t *h, bytes_t v, spate_cql_request_t *q) {
    return spate_cql_request_decode(h, v.p, v.n, q);
}

static spate_status_t resp_dec(const spate_cql_header_t *h, bytes_t v, spate_cql_response_t *r) {
    return spate_cql_response_decode(h, v.p, v.n, r);
}

static spate_cql_header_t hdr(uint8_t op, uint8_t flags) {
    return (spate_cql_header_t){.version = 4, .flags = flags, .opcode = op};
}

static spate_slice_t S(const char *s) { return (spate_slice_t){s, (int32_t)strlen(s)}; }

static void assert_slice(spate_slice_t s, const char *want) {
    assert_non_null(s.p);
    assert_int_equal(s.len, strlen(want));
    assert_memory_equal(s.p, want, strlen(want));
}

static void assert_slice_bytes(spate_slice_t s, const void *want, size_t n) {
    assert_non_null(s.p);
    assert_int_equal(s.len, n);
    if (n) assert_memory_equal(s.p, want, n);
}

/* The frame b must be exactly header(version|dir, flags, stream, op, len) + body. */
static void assert_frame(const spate_buf_t *b, uint8_t ver, uint8_t flags, int16_t stream,
                         uint8_t op, const uint8_t *body, size_t len) {
    assert_int_equal(b->len, 9 + len);
    const uint8_t *p = (const uint8_t *)b->data;
    uint8_t want[9] = {ver,
                       flags,
                       (uint8_t)((uint16_t)stream >> 8),
                       (uint8_t)stream,
                       op,
                       (uint8_t)(len >> 24),
                       (uint8_t)(len >> 16),
                       (uint8_t)(len >> 8),
                       (uint8_t)len};
    assert_memory_equal(p, want, 9);
    if (len) assert_memory_equal(p + 9, body, len);
}

/* Decodes body as a request (must succeed), writes it back (must give the
 * same bytes), and checks that every strict prefix is EINVAL. */
static void req_check(uint8_t op, uint8_t flags, bytes_t v, spate_cql_request_t *req) {
    const uint8_t *body = v.p;
    size_t len = v.n;
    spate_cql_header_t h = hdr(op, flags);
    for (size_t i = 0; i < len; i++) {
        spate_cql_request_t tmp;
        assert_int_equal(spate_cql_request_decode(&h, body, i, &tmp), SPATE_EINVAL);
    }
    assert_int_equal(spate_cql_request_decode(&h, body, len, req), SPATE_OK);
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_cql_request_write(&b, 4, 7, req), SPATE_OK);
    assert_frame(&b, 0x04, flags, 7, op, body, len);
    spate_buf_free(&b);
}

static void resp_check(uint8_t op, uint8_t flags, bytes_t v, spate_cql_response_t *resp) {
    const uint8_t *body = v.p;
    size_t len = v.n;
    spate_cql_header_t h = hdr(op, flags);
    h.response = true;
    for (size_t i = 0; i < len; i++) {
        spate_cql_response_t tmp;
        assert_int_equal(spate_cql_response_decode(&h, body, i, &tmp), SPATE_EINVAL);
    }
    assert_int_equal(spate_cql_response_decode(&h, body, len, resp), SPATE_OK);
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_cql_response_write(&b, 4, -1, resp), SPATE_OK);
    assert_frame(&b, 0x84, flags, -1, op, body, len);
    spate_buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Frame header                                                        */
/* ------------------------------------------------------------------ */

static void test_header_parse(void **state) {
    (void)state;
    spate_cql_header_t h;
    const uint8_t req[] = {0x04, 0x02, 0x00, 0x2a, 0x07, 0x00, 0x00, 0x01, 0x00, 0xEE};
    assert_int_equal(spate_cql_header_parse(req, sizeof req, 1 << 20, &h), SPATE_OK);
    assert_int_equal(h.version, 4);
    assert_false(h.response);
    assert_int_equal(h.flags, SPATE_CQL_FLAG_TRACING);
    assert_int_equal(h.stream, 42);
    assert_int_equal(h.opcode, SPATE_CQL_OP_QUERY);
    assert_int_equal(h.length, 256);
    for (size_t i = 0; i < 9; i++)
        assert_int_equal(spate_cql_header_parse(req, i, 1 << 20, &h), SPATE_AGAIN);

    /* Response to python's first probe: version byte 0x84, stream -1. */
    const uint8_t ev[] = {0x84, 0x00, 0xFF, 0xFF, 0x0C, 0x00, 0x00, 0x00, 0x00};
    assert_int_equal(spate_cql_header_parse(ev, 9, 0, &h), SPATE_OK);
    assert_int_equal(h.version, 4);
    assert_true(h.response);
    assert_int_equal(h.stream, -1);
    assert_int_equal(h.opcode, SPATE_CQL_OP_EVENT);

    /* Unknown versions parse (the server answers them); sizes do not. */
    const uint8_t v42[] = {0x42, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00};
    assert_int_equal(spate_cql_header_parse(v42, 9, 0, &h), SPATE_OK);
    assert_int_equal(h.version, 0x42);
    const uint8_t big[] = {0x04, 0x00, 0x00, 0x00, 0x07, 0x00, 0x10, 0x00, 0x01};
    assert_int_equal(spate_cql_header_parse(big, 9, 0x100000, &h), SPATE_EINVAL);
    assert_int_equal(spate_cql_header_parse(big, 9, 0x100001, &h), SPATE_OK);
    const uint8_t neg[] = {0x04, 0x00, 0x00, 0x00, 0x07, 0x80, 0x00, 0x00, 0x00};
    assert_int_equal(spate_cql_header_parse(neg, 9, SIZE_MAX, &h), SPATE_EINVAL);
}

static void test_frame_writer(void **state) {
    (void)state;
    spate_buf_t b = SPATE_BUF_INIT;
    spate_buf_append(&b, "xy", 2); /* frames start at their mark, not at 0 */
    spate_cql_header_t h = {.version = 4, .response = true, .flags = 8, .stream = -1, .opcode = 2};
    size_t mark;
    assert_int_equal(spate_cql_frame_begin(&b, &h, &mark), SPATE_OK);
    assert_int_equal(mark, 2);
    spate_buf_append(&b, "abc", 3);
    assert_int_equal(spate_cql_frame_end(&b, mark), SPATE_OK);
    assert_int_equal(b.len, 2 + 9 + 3);
    assert_buf(&b, 0, X("'xy' 84 08 ffff 02 00000003 'abc'"));
    spate_buf_free(&b);
    assert_string_equal(spate_cql_opcode_name(SPATE_CQL_OP_AUTH_SUCCESS), "AUTH_SUCCESS");
    assert_null(spate_cql_opcode_name(4));
    assert_null(spate_cql_opcode_name(0x11));
    assert_string_equal(spate_cql_consistency_name(SPATE_CQL_CL_LOCAL_ONE), "LOCAL_ONE");
    assert_null(spate_cql_consistency_name(11));
}

/* ------------------------------------------------------------------ */
/* Notation readers and writers                                        */
/* ------------------------------------------------------------------ */

/* Every strict prefix of p is AGAIN with the cursor left at 0 (`call` reads
 * through the cursor pointer pr). */
#define ASSERT_PREFIXES_AGAIN(call, p, n)                                                          \
    do {                                                                                           \
        for (size_t i_ = 0; i_ < (n); i_++) {                                                      \
            spate_rd_t r_;                                                                         \
            spate_rd_init(&r_, (p), i_);                                                           \
            spate_rd_t *pr = &r_;                                                                  \
            assert_int_equal((call), SPATE_AGAIN);                                                 \
            assert_int_equal(r_.off, 0);                                                           \
        }                                                                                          \
    } while (0)

static void test_notation_scalars(void **state) {
    (void)state;
    spate_rd_t r;
    spate_slice_t s;

    /* [string]: the length is an unsigned short (65535 is not -1). */
    static uint8_t long_str[2 + 65535];
    long_str[0] = 0xFF, long_str[1] = 0xFF;
    spate_rd_init(&r, long_str, sizeof long_str);
    assert_int_equal(spate_cql_rd_string(&r, &s), SPATE_OK);
    assert_int_equal(s.len, 65535);
    assert_int_equal(r.off, sizeof long_str);

    const uint8_t str[] = {0x00, 0x03, 'a', 'b', 'c', 'z'};
    spate_rd_init(&r, str, sizeof str);
    assert_int_equal(spate_cql_rd_string(&r, &s), SPATE_OK);
    assert_slice(s, "abc");
    assert_int_equal(r.off, 5);
    ASSERT_PREFIXES_AGAIN(spate_cql_rd_string(pr, &s), str, 5);

    /* [long string]: negative is malformed. */
    const uint8_t ls[] = {0x00, 0x00, 0x00, 0x02, 'h', 'i'};
    spate_rd_init(&r, ls, sizeof ls);
    assert_int_equal(spate_cql_rd_long_string(&r, &s), SPATE_OK);
    assert_slice(s, "hi");
    ASSERT_PREFIXES_AGAIN(spate_cql_rd_long_string(pr, &s), ls, sizeof ls);
    const uint8_t ls_neg[] = {0xFF, 0xFF, 0xFF, 0xFF};
    spate_rd_init(&r, ls_neg, 4);
    assert_int_equal(spate_cql_rd_long_string(&r, &s), SPATE_EINVAL);
    assert_int_equal(r.off, 0);

    /* [bytes]: any negative is null. */
    const uint8_t by_null[] = {0xFF, 0xFF, 0xFF, 0xF0};
    spate_rd_init(&r, by_null, 4);
    assert_int_equal(spate_cql_rd_bytes(&r, &s), SPATE_OK);
    assert_null(s.p);
    assert_int_equal(s.len, SPATE_CQL_NULL);
    assert_int_equal(r.off, 4);
    const uint8_t by_empty[] = {0x00, 0x00, 0x00, 0x00};
    spate_rd_init(&r, by_empty, 4);
    assert_int_equal(spate_cql_rd_bytes(&r, &s), SPATE_OK);
    assert_non_null(s.p); /* empty is not null */
    assert_int_equal(s.len, 0);

    /* [value]: -1 null, -2 unset, -3 malformed. */
    const uint8_t v1[] = {0xFF, 0xFF, 0xFF, 0xFF}, v2[] = {0xFF, 0xFF, 0xFF, 0xFE},
                  v3[] = {0xFF, 0xFF, 0xFF, 0xFD};
    spate_rd_init(&r, v1, 4);
    assert_int_equal(spate_cql_rd_value(&r, &s), SPATE_OK);
    assert_int_equal(s.len, SPATE_CQL_NULL);
    spate_rd_init(&r, v2, 4);
    assert_int_equal(spate_cql_rd_value(&r, &s), SPATE_OK);
    assert_int_equal(s.len, SPATE_CQL_UNSET);
    assert_null(s.p);
    spate_rd_init(&r, v3, 4);
    assert_int_equal(spate_cql_rd_value(&r, &s), SPATE_EINVAL);
    assert_int_equal(r.off, 0);
    const uint8_t v5[] = {0x00, 0x00, 0x00, 0x01, 0x2a};
    ASSERT_PREFIXES_AGAIN(spate_cql_rd_value(pr, &s), v5, sizeof v5);

    /* [inet] */
    const uint8_t in4[] = {0x04, 127, 0, 0, 1, 0x00, 0x00, 0x23, 0x52};
    spate_cql_inet_t a;
    spate_rd_init(&r, in4, sizeof in4);
    assert_int_equal(spate_cql_rd_inet(&r, &a), SPATE_OK);
    assert_int_equal(a.len, 4);
    assert_memory_equal(a.addr, "\x7f\x00\x00\x01", 4);
    assert_int_equal(a.port, 9042);
    ASSERT_PREFIXES_AGAIN(spate_cql_rd_inet(pr, &a), in4, sizeof in4);
    const uint8_t in5[] = {0x05, 1, 2, 3, 4, 5, 0, 0, 0, 0};
    spate_rd_init(&r, in5, sizeof in5);
    assert_int_equal(spate_cql_rd_inet(&r, &a), SPATE_EINVAL);
    assert_int_equal(r.off, 0);

    /* [consistency] */
    uint16_t cl;
    const uint8_t cl10[] = {0x00, 0x0A}, cl11[] = {0x00, 0x0B};
    spate_rd_init(&r, cl10, 2);
    assert_int_equal(spate_cql_rd_consistency(&r, &cl), SPATE_OK);
    assert_int_equal(cl, SPATE_CQL_CL_LOCAL_ONE);
    spate_rd_init(&r, cl11, 2);
    assert_int_equal(spate_cql_rd_consistency(&r, &cl), SPATE_EINVAL);
    assert_int_equal(r.off, 0);

    /* [uuid], [long], [int], [short], [byte] */
    uint8_t u[16];
    const uint8_t uu[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    ASSERT_PREFIXES_AGAIN(spate_cql_rd_uuid(pr, u), uu, 16);
    spate_rd_init(&r, uu, 16);
    assert_int_equal(spate_cql_rd_uuid(&r, u), SPATE_OK);
    assert_memory_equal(u, uu, 16);
    int64_t l;
    spate_rd_init(&r, uu, 16);
    assert_int_equal(spate_cql_rd_long(&r, &l), SPATE_OK);
    assert_int_equal(l, 0x0102030405060708LL);

    /* Writers */
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_cql_wr_string(&b, "abc", 3), SPATE_OK);
    assert_int_equal(spate_cql_wr_bytes(&b, NULL, 0), SPATE_OK);
    assert_int_equal(spate_cql_wr_value(&b, (spate_slice_t){NULL, SPATE_CQL_UNSET}), SPATE_OK);
    assert_int_equal(spate_cql_wr_value(&b, (spate_slice_t){NULL, -3}), SPATE_EINVAL);
    assert_int_equal(spate_cql_wr_short_bytes(&b, "\xab", 1), SPATE_OK);
    assert_int_equal(spate_cql_wr_inet(&b, &a), SPATE_OK);
    assert_buf(&b, 0, X("0003 'abc' ffffffff fffffffe 0001 ab 04 7f000001 00002352"));
    assert_int_equal(b.len, 25);
    static char big[65536];
    assert_int_equal(spate_cql_wr_string(&b, big, sizeof big), SPATE_ERANGE);
    assert_int_equal(b.len, 25);
    size_t mark;
    assert_int_equal(spate_cql_wr_bytes_begin(&b, &mark), SPATE_OK);
    spate_buf_append(&b, "xyz", 3);
    assert_int_equal(spate_cql_wr_bytes_end(&b, mark), SPATE_OK);
    assert_buf(&b, 25, X("00000003 'xyz'"));
    spate_buf_free(&b);
}

static void test_notation_lists_maps(void **state) {
    (void)state;
    spate_rd_t r;
    bytes_t sl = X("0002 0001 'a' 0000");
    spate_cql_strlist_t l;
    ASSERT_PREFIXES_AGAIN(spate_cql_rd_string_list(pr, &l), sl.p, sl.n);
    spate_rd_init(&r, sl.p, sl.n);
    assert_int_equal(spate_cql_rd_string_list(&r, &l), SPATE_OK);
    assert_int_equal(l.n, 2);
    assert_slice(l.v[0], "a");
    assert_slice(l.v[1], "");
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_cql_wr_string_list(&b, &l), SPATE_OK);
    assert_int_equal(b.len, sl.n);
    assert_memory_equal(b.data, sl.p, sl.n);
    spate_cql_strlist_free(&l);
    spate_buf_reset(&b);

    /* A count far larger than the input allocates nothing and is AGAIN. */
    const uint8_t huge[] = {0xFF, 0xFF, 0x00, 0x01, 'a'};
    spate_rd_init(&r, huge, sizeof huge);
    assert_int_equal(spate_cql_rd_string_list(&r, &l), SPATE_AGAIN);
    assert_int_equal(r.off, 0);

    bytes_t bm = X("0002 0001 'k' 00000001 'v' 0001 'n' ffffffff");
    spate_cql_strmap_t m;
    ASSERT_PREFIXES_AGAIN(spate_cql_rd_bytes_map(pr, &m), bm.p, bm.n);
    spate_rd_init(&r, bm.p, bm.n);
    assert_int_equal(spate_cql_rd_bytes_map(&r, &m), SPATE_OK);
    assert_int_equal(m.n, 2);
    spate_slice_t v;
    assert_true(spate_cql_strmap_get(&m, "k", &v));
    assert_slice(v, "v");
    assert_true(spate_cql_strmap_get(&m, "n", &v));
    assert_null(v.p);
    assert_false(spate_cql_strmap_get(&m, "K", &v));
    assert_int_equal(spate_cql_wr_bytes_map(&b, &m), SPATE_OK);
    assert_memory_equal(b.data, bm.p, bm.n);
    spate_cql_strmap_free(&m);
    spate_buf_reset(&b);

    bytes_t mm = X("0002 0001 'A' 0002 0001 'x' 0001 'y' 0001 'B' 0000");
    spate_cql_multimap_t mu;
    ASSERT_PREFIXES_AGAIN(spate_cql_rd_string_multimap(pr, &mu), mm.p, mm.n);
    spate_rd_init(&r, mm.p, mm.n);
    assert_int_equal(spate_cql_rd_string_multimap(&r, &mu), SPATE_OK);
    assert_int_equal(r.off, mm.n);
    const spate_cql_mmentry_t *e = spate_cql_multimap_get(&mu, "A");
    assert_non_null(e);
    assert_int_equal(e->n, 2);
    assert_slice(e->values[1], "y");
    assert_int_equal(spate_cql_multimap_get(&mu, "B")->n, 0);
    assert_null(spate_cql_multimap_get(&mu, "C"));
    assert_int_equal(spate_cql_wr_string_multimap(&b, &mu), SPATE_OK);
    assert_memory_equal(b.data, mm.p, mm.n);
    spate_cql_multimap_free(&mu);
    spate_buf_free(&b);
}

static void test_notation_option(void **state) {
    (void)state;
    spate_rd_t r;
    spate_cql_datatype_t t;
    /* map<text, list<frozen<tuple<int, udt ks.u {a: uuid}>>>> and a custom */
    bytes_t opt = X("0021 000d 0020 0031 0002 0009 0030 0002 'ks' 0001 'u' 0001 0001 'a' 000c");
    ASSERT_PREFIXES_AGAIN(spate_cql_rd_option(pr, &t), opt.p, opt.n);
    spate_rd_init(&r, opt.p, opt.n);
    assert_int_equal(spate_cql_rd_option(&r, &t), SPATE_OK);
    assert_int_equal(r.off, opt.n);
    assert_int_equal(t.id, SPATE_CQL_MAP);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.sub[0].id, SPATE_CQL_VARCHAR);
    assert_int_equal(t.sub[1].id, SPATE_CQL_LIST);
    const spate_cql_datatype_t *tu = &t.sub[1].sub[0];
    assert_int_equal(tu->id, SPATE_CQL_TUPLE);
    assert_int_equal(tu->n, 2);
    assert_int_equal(tu->sub[0].id, SPATE_CQL_INT);
    const spate_cql_datatype_t *udt = &tu->sub[1];
    assert_int_equal(udt->id, SPATE_CQL_UDT);
    assert_slice(udt->keyspace, "ks");
    assert_slice(udt->name, "u");
    assert_int_equal(udt->n, 1);
    assert_slice(udt->fields[0], "a");
    assert_int_equal(udt->sub[0].id, SPATE_CQL_UUID);
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_cql_wr_option(&b, &t), SPATE_OK);
    assert_int_equal(b.len, opt.n);
    assert_memory_equal(b.data, opt.p, opt.n);
    spate_cql_datatype_free(&t);
    spate_buf_reset(&b);

    bytes_t custom = X("0000 0003 'a.B'");
    spate_rd_init(&r, custom.p, custom.n);
    assert_int_equal(spate_cql_rd_option(&r, &t), SPATE_OK);
    assert_int_equal(t.id, SPATE_CQL_CUSTOM);
    assert_slice(t.name, "a.B");

    /* The old text id 0x000A reads as varchar; unknown ids are EINVAL. */
    const uint8_t old_text[] = {0x00, 0x0A}, unknown[] = {0x00, 0x16};
    spate_rd_init(&r, old_text, 2);
    assert_int_equal(spate_cql_rd_option(&r, &t), SPATE_OK);
    assert_int_equal(t.id, SPATE_CQL_VARCHAR);
    spate_rd_init(&r, unknown, 2);
    assert_int_equal(spate_cql_rd_option(&r, &t), SPATE_EINVAL);
    assert_int_equal(r.off, 0);

    /* Depth: 16 levels (15 nested lists around an int) read; 17 do not. */
    uint8_t deep[2 * 17];
    for (int i = 0; i < 16; i++) deep[2 * i] = 0, deep[2 * i + 1] = 0x20;
    deep[32] = 0, deep[33] = 0x09;
    spate_rd_init(&r, deep + 2, 32);
    assert_int_equal(spate_cql_rd_option(&r, &t), SPATE_OK);
    assert_int_equal(spate_cql_wr_option(&b, &t), SPATE_OK);
    assert_int_equal(b.len, 32);
    spate_cql_datatype_t wrap;
    assert_int_equal(spate_cql_datatype_make(&wrap, SPATE_CQL_LIST, 1), SPATE_OK);
    wrap.sub[0] = t; /* wrap takes t's children */
    spate_buf_reset(&b);
    assert_int_equal(spate_cql_wr_option(&b, &wrap), SPATE_EINVAL);
    assert_int_equal(b.len, 0);
    spate_cql_datatype_free(&wrap);
    spate_rd_init(&r, deep, 34);
    assert_int_equal(spate_cql_rd_option(&r, &t), SPATE_EINVAL);
    assert_int_equal(r.off, 0);
    spate_buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

static void test_req_startup_options(void **state) {
    (void)state;
    spate_cql_request_t q;
    req_check(SPATE_CQL_OP_STARTUP, 0, X("0001 000b 'CQL_VERSION' 0005 '3.0.0'"), &q);
    spate_slice_t v;
    assert_true(spate_cql_strmap_get(&q.options, "CQL_VERSION", &v));
    assert_slice(v, "3.0.0");
    assert_false(spate_cql_strmap_get(&q.options, "COMPRESSION", &v));
    spate_cql_request_free(&q);

    req_check(SPATE_CQL_OP_OPTIONS, 0, X(""), &q);
    spate_cql_request_free(&q);

    req_check(SPATE_CQL_OP_PREPARE, 0, X("0000000f 'SELECT * FROM t'"), &q);
    assert_slice(q.query, "SELECT * FROM t");
    spate_cql_request_free(&q);

    req_check(SPATE_CQL_OP_REGISTER, 0,
              X("0003 000f 'TOPOLOGY_CHANGE' 000d 'STATUS_CHANGE' 000d 'SCHEMA_CHANGE'"), &q);
    assert_int_equal(q.events.n, 3);
    assert_slice(q.events.v[2], "SCHEMA_CHANGE");
    spate_cql_request_free(&q);

    req_check(SPATE_CQL_OP_AUTH_RESPONSE, 0, X("00000014 00 'cassandra' 00 'cassandra'"), &q);
    assert_slice_bytes(q.token, "\0cassandra\0cassandra", 20);
    spate_cql_request_free(&q);

    /* Response opcodes and unknown ones are not requests. */
    spate_cql_header_t h = hdr(SPATE_CQL_OP_READY, 0);
    assert_int_equal(req_dec(&h, X(""), &q), SPATE_EINVAL);
    h.opcode = 0x04;
    assert_int_equal(req_dec(&h, X(""), &q), SPATE_EINVAL);
    spate_buf_t b = SPATE_BUF_INIT;
    q.opcode = SPATE_CQL_OP_RESULT;
    assert_int_equal(spate_cql_request_write(&b, 4, 0, &q), SPATE_EINVAL);
    assert_int_equal(b.len, 0);
    spate_buf_free(&b);
}

static void test_req_query(void **state) {
    (void)state;
    spate_cql_request_t q;
    /* Every flag: names, values (int 42, null), page size, paging state,
     * serial consistency, default timestamp, skip metadata. */
    req_check(SPATE_CQL_OP_QUERY, 0,
              X("0000000f 'SELECT * FROM t' 000a 7f 0002 0001 'a' 00000004 0000002a 0001 'b' "
                "ffffffff 00001388 00000002cafe 0009 0001020304050607"),
              &q);
    assert_slice(q.query, "SELECT * FROM t");
    const spate_cql_params_t *p = &q.params;
    assert_int_equal(p->consistency, SPATE_CQL_CL_LOCAL_ONE);
    assert_int_equal(p->flags, 0x7f);
    assert_int_equal(p->nvalues, 2);
    assert_slice(p->names[0], "a");
    assert_slice_bytes(p->values[0], "\x00\x00\x00\x2a", 4);
    assert_slice(p->names[1], "b");
    assert_null(p->values[1].p);
    assert_int_equal(p->values[1].len, SPATE_CQL_NULL);
    assert_int_equal(p->page_size, 5000);
    assert_slice_bytes(p->paging_state, "\xca\xfe", 2);
    assert_int_equal(p->serial_consistency, SPATE_CQL_CL_LOCAL_SERIAL);
    assert_int_equal(p->timestamp, 0x0001020304050607LL);
    spate_cql_request_free(&q);

    /* What python and node send: flags 0x24, defaults for the rest. */
    req_check(SPATE_CQL_OP_QUERY, 0, X("00000008 'SELECT 1' 000a 24 00001388 0005f00000000001"),
              &q);
    assert_int_equal(q.params.nvalues, 0);
    assert_null(q.params.values);
    assert_null(q.params.names);
    assert_null(q.params.paging_state.p);
    assert_int_equal(q.params.serial_consistency, SPATE_CQL_CL_SERIAL);
    assert_int_equal(q.params.timestamp, 0x0005f00000000001LL);
    spate_cql_request_free(&q);

    /* A custom payload comes before the body. */
    req_check(SPATE_CQL_OP_QUERY, SPATE_CQL_FLAG_CUSTOM_PAYLOAD,
              X("0001 0001 'k' 00000001 'v' 00000008 'SELECT 1' 0001 00"), &q);
    spate_slice_t v;
    assert_true(spate_cql_strmap_get(&q.custom_payload, "k", &v));
    assert_slice(v, "v");
    assert_int_equal(q.params.page_size, -1);
    assert_int_equal(q.params.timestamp, INT64_MIN);
    spate_cql_request_free(&q);

    /* Unknown flag bit, bad consistency, bad [value] length. */
    spate_cql_header_t h = hdr(SPATE_CQL_OP_QUERY, 0);
    assert_int_equal(req_dec(&h, X("00000001 'x' 0001 80"), &q), SPATE_EINVAL);
    assert_int_equal(req_dec(&h, X("00000001 'x' 000b 00"), &q), SPATE_EINVAL);
    assert_int_equal(req_dec(&h, X("00000001 'x' 0001 01 0001 fffffffd"), &q), SPATE_EINVAL);
    /* Trailing bytes are ignored. */
    assert_int_equal(req_dec(&h, X("00000001 'x' 0001 00 'junk'"), &q), SPATE_OK);
    spate_cql_request_free(&q);

    /* Writer checks flags against fields. */
    spate_cql_request_t w = {.opcode = SPATE_CQL_OP_QUERY, .query = S("x")};
    w.params.flags = SPATE_CQL_QF_VALUES;
    w.params.nvalues = 1;
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_cql_request_write(&b, 4, 0, &w), SPATE_EINVAL);
    assert_int_equal(b.len, 0);
    spate_buf_free(&b);
}

static void test_req_execute_batch(void **state) {
    (void)state;
    spate_cql_request_t q;
    req_check(SPATE_CQL_OP_EXECUTE, 0,
              X("0002 abcd 0006 25 0003 00000001 'x' ffffffff fffffffe 00001388 0005f00000000002"),
              &q);
    assert_slice_bytes(q.id, "\xab\xcd", 2);
    assert_int_equal(q.params.consistency, SPATE_CQL_CL_LOCAL_QUORUM);
    assert_int_equal(q.params.nvalues, 3);
    assert_slice(q.params.values[0], "x");
    assert_int_equal(q.params.values[1].len, SPATE_CQL_NULL);
    assert_int_equal(q.params.values[2].len, SPATE_CQL_UNSET);
    assert_null(q.params.names);
    spate_cql_request_free(&q);

    /* UNLOGGED batch: a query string with no values, then a prepared id
     * with one value; serial consistency and timestamp. */
    req_check(SPATE_CQL_OP_BATCH, 0,
              X("01 0002 00 00000008 'UPDATE t' 0000 01 0002 abcd 0001 00000001 07 0006 30 0008 "
                "000000000000002a"),
              &q);
    const spate_cql_batch_t *bt = &q.batch;
    assert_int_equal(bt->type, SPATE_CQL_BATCH_UNLOGGED);
    assert_int_equal(bt->n, 2);
    assert_int_equal(bt->stmts[0].kind, 0);
    assert_slice(bt->stmts[0].query, "UPDATE t");
    assert_int_equal(bt->stmts[0].nvalues, 0);
    assert_int_equal(bt->stmts[1].kind, 1);
    assert_slice_bytes(bt->stmts[1].query, "\xab\xcd", 2);
    assert_int_equal(bt->stmts[1].nvalues, 1);
    assert_slice_bytes(bt->stmts[1].values[0], "\x07", 1);
    assert_int_equal(bt->consistency, SPATE_CQL_CL_LOCAL_QUORUM);
    assert_int_equal(bt->serial_consistency, SPATE_CQL_CL_SERIAL);
    assert_int_equal(bt->timestamp, 42);
    spate_cql_request_free(&q);

    /* Bad type, bad kind, names-for-values, a low flag bit. */
    spate_cql_header_t h = hdr(SPATE_CQL_OP_BATCH, 0);
    assert_int_equal(req_dec(&h, X("030000000100"), &q), SPATE_EINVAL);
    assert_int_equal(req_dec(&h, X("000001 020000000000 000100"), &q), SPATE_EINVAL);
    assert_int_equal(req_dec(&h, X("000000000140"), &q), SPATE_EINVAL);
    assert_int_equal(req_dec(&h, X("000000000101"), &q), SPATE_EINVAL);
    assert_int_equal(req_dec(&h, X("000000000100"), &q), SPATE_OK);
    assert_int_equal(q.batch.n, 0);
    spate_cql_request_free(&q);

    /* A client builds a batch by hand and the server reads it back. */
    spate_slice_t vals[2] = {S("ab"), {NULL, SPATE_CQL_NULL}};
    spate_cql_batch_stmt_t st[1] = {{.kind = 1, .query = S("ID"), .nvalues = 2, .values = vals}};
    spate_cql_request_t w = {.opcode = SPATE_CQL_OP_BATCH};
    w.batch = (spate_cql_batch_t){
        .type = SPATE_CQL_BATCH_LOGGED, .n = 1, .stmts = st, .consistency = SPATE_CQL_CL_ONE};
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_cql_request_write(&b, 4, 3, &w), SPATE_OK);
    bytes_t want = X("00 0001 01 0002 'ID' 0002 00000002 'ab' ffffffff 0001 00");
    assert_frame(&b, 0x04, 0, 3, SPATE_CQL_OP_BATCH, want.p, want.n);
    spate_buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Responses                                                           */
/* ------------------------------------------------------------------ */

static void test_resp_errors(void **state) {
    (void)state;
    spate_cql_response_t r;
    resp_check(SPATE_CQL_OP_ERROR, 0, X("00001000 0004 'oops' 0002 00000002 00000001"), &r);
    assert_int_equal(r.error.code, SPATE_CQL_ERR_UNAVAILABLE);
    assert_slice(r.error.message, "oops");
    assert_int_equal(r.error.consistency, SPATE_CQL_CL_TWO);
    assert_int_equal(r.error.required, 2);
    assert_int_equal(r.error.alive, 1);
    spate_cql_response_free(&r);

    resp_check(SPATE_CQL_OP_ERROR, 0, X("00001100 0002 'wt' 0004 00000001 00000002 0006 'SIMPLE'"),
               &r);
    assert_int_equal(r.error.received, 1);
    assert_int_equal(r.error.blockfor, 2);
    assert_slice(r.error.write_type, "SIMPLE");
    spate_cql_response_free(&r);

    resp_check(SPATE_CQL_OP_ERROR, 0, X("00001200 0002 'rt' 0001 00000000 00000001 01"), &r);
    assert_int_equal(r.error.code, SPATE_CQL_ERR_READ_TIMEOUT);
    assert_int_equal(r.error.blockfor, 1);
    assert_int_equal(r.error.data_present, 1);
    spate_cql_response_free(&r);

    resp_check(SPATE_CQL_OP_ERROR, 0, X("00001300 0002 'rf' 0005 00000001 00000002 00000001 00"),
               &r);
    assert_int_equal(r.error.numfailures, 1);
    spate_cql_response_free(&r);

    resp_check(SPATE_CQL_OP_ERROR, 0,
               X("00001500 0002 'wf' 0005 00000000 00000001 00000001 0005 'BATCH'"), &r);
    assert_slice(r.error.write_type, "BATCH");
    spate_cql_response_free(&r);

    resp_check(SPATE_CQL_OP_ERROR, 0, X("00001400 0002 'ff' 0002 'ks' 0002 'fn' 0001 0003 'int'"),
               &r);
    assert_slice(r.error.function, "fn");
    assert_slice(r.error.arg_types.v[0], "int");
    spate_cql_response_free(&r);

    resp_check(SPATE_CQL_OP_ERROR, 0, X("00002400 0003 'dup' 0002 'ks' 0000"), &r);
    assert_int_equal(r.error.code, SPATE_CQL_ERR_ALREADY_EXISTS);
    assert_slice(r.error.keyspace, "ks");
    assert_slice(r.error.table, ""); /* a keyspace */
    spate_cql_response_free(&r);

    resp_check(SPATE_CQL_OP_ERROR, 0, X("00002500 0002 'up' 0002 abcd"), &r);
    assert_slice_bytes(r.error.id, "\xab\xcd", 2);
    spate_cql_response_free(&r);

    /* The answer to python's 0x42 probe, sent by the server as a whole frame. */
    const char *msg = "Invalid or unsupported protocol version (66); supported versions are "
                      "(3/v3, 4/v4)";
    spate_cql_response_t e = {.opcode = SPATE_CQL_OP_ERROR};
    e.error.code = SPATE_CQL_ERR_PROTOCOL;
    e.error.message = S(msg);
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_cql_response_write(&b, 4, 0, &e), SPATE_OK);
    spate_buf_t want = SPATE_BUF_INIT;
    spate_buf_append(&want, "\x00\x00\x00\x0a\x00", 5);
    spate_buf_putc(&want, (char)strlen(msg));
    spate_buf_puts(&want, msg);
    assert_frame(&b, 0x84, 0, 0, SPATE_CQL_OP_ERROR, (const uint8_t *)want.data, want.len);
    spate_buf_free(&b);
    spate_buf_free(&want);
}

static void test_resp_simple(void **state) {
    (void)state;
    spate_cql_response_t r;
    resp_check(SPATE_CQL_OP_READY, 0, X(""), &r);
    spate_cql_response_free(&r);

    resp_check(SPATE_CQL_OP_AUTHENTICATE, 0,
               X("002f 'org.apache.cassandra.auth.PasswordAuthenticator'"), &r);
    assert_slice(r.authenticator, "org.apache.cassandra.auth.PasswordAuthenticator");
    spate_cql_response_free(&r);

    resp_check(SPATE_CQL_OP_SUPPORTED, 0,
               X("0002 000b 'CQL_VERSION' 0001 0005 '3.4.5' 000b 'COMPRESSION' 0000"), &r);
    const spate_cql_mmentry_t *e = spate_cql_multimap_get(&r.supported, "CQL_VERSION");
    assert_non_null(e);
    assert_slice(e->values[0], "3.4.5");
    assert_int_equal(spate_cql_multimap_get(&r.supported, "COMPRESSION")->n, 0);
    spate_cql_response_free(&r);

    resp_check(SPATE_CQL_OP_AUTH_SUCCESS, 0, X("ffffffff"), &r);
    assert_null(r.token.p);
    spate_cql_response_free(&r);
    resp_check(SPATE_CQL_OP_AUTH_CHALLENGE, 0, X("00000002 'hi'"), &r);
    assert_slice(r.token, "hi");
    spate_cql_response_free(&r);

    /* Prefix order: tracing id, warnings, custom payload. */
    resp_check(SPATE_CQL_OP_READY,
               SPATE_CQL_FLAG_TRACING | SPATE_CQL_FLAG_WARNING | SPATE_CQL_FLAG_CUSTOM_PAYLOAD,
               X("0102030405060708090a0b0c0d0e0f10 0001 0004 'warn' 0001 0001 'k' 00000001 'v'"),
               &r);
    assert_true(r.has_tracing_id);
    assert_int_equal(r.tracing_id[15], 0x10);
    assert_int_equal(r.warnings.n, 1);
    assert_slice(r.warnings.v[0], "warn");
    assert_int_equal(r.custom_payload.n, 1);
    spate_cql_response_free(&r);

    /* Request opcodes are not responses. */
    spate_cql_header_t h = hdr(SPATE_CQL_OP_QUERY, 0);
    assert_int_equal(resp_dec(&h, X(""), &r), SPATE_EINVAL);
}

static void test_resp_results(void **state) {
    (void)state;
    spate_cql_response_t r;
    resp_check(SPATE_CQL_OP_RESULT, 0, X("00000001"), &r);
    assert_int_equal(r.result.kind, SPATE_CQL_RESULT_VOID);
    spate_cql_response_free(&r);

    /* Rows, global table spec: (id uuid, v list<text>), two rows. */
    resp_check(SPATE_CQL_OP_RESULT, 0,
               X("00000002 00000001 00000002 0002 'ks' 0001 't' 0002 'id' 000c 0001 'v' 0020 000d "
                 "00000002 00000010 '0123456789abcdef' 0000000d 00000001 00000005 'hello' 00000010 "
                 "'fedcba9876543210' ffffffff"),
               &r);
    const spate_cql_result_t *res = &r.result;
    assert_int_equal(res->kind, SPATE_CQL_RESULT_ROWS);
    assert_int_equal(res->metadata.columns_count, 2);
    assert_slice(res->metadata.columns[1].keyspace, "ks"); /* copied from the global spec */
    assert_slice(res->metadata.columns[1].table, "t");
    assert_slice(res->metadata.columns[1].name, "v");
    assert_int_equal(res->metadata.columns[1].type.id, SPATE_CQL_LIST);
    assert_int_equal(res->metadata.columns[1].type.sub[0].id, SPATE_CQL_VARCHAR);
    assert_int_equal(res->rows_count, 2);
    assert_slice(res->cells[2], "fedcba9876543210");
    assert_null(res->cells[3].p);
    spate_cql_response_free(&r);

    /* Rows with a paging state and no metadata. */
    resp_check(SPATE_CQL_OP_RESULT, 0,
               X("00000002 00000006 00000001 00000002 cafe 00000001 00000001 2a"), &r);
    assert_slice_bytes(r.result.metadata.paging_state, "\xca\xfe", 2);
    assert_null(r.result.metadata.columns);
    assert_int_equal(r.result.rows_count, 1);
    assert_slice_bytes(r.result.cells[0], "\x2a", 1);
    spate_cql_response_free(&r);

    /* Rows with per-column table specs and no rows. */
    resp_check(SPATE_CQL_OP_RESULT, 0,
               X("00000002 00000000 00000001 0002 'ks' 0001 't' 0001 'n' 0009 00000000"), &r);
    assert_slice(r.result.metadata.columns[0].table, "t");
    assert_int_equal(r.result.rows_count, 0);
    spate_cql_response_free(&r);

    resp_check(SPATE_CQL_OP_RESULT, 0, X("00000003 0002 'ks'"), &r);
    assert_slice(r.result.keyspace, "ks");
    spate_cql_response_free(&r);

    /* Prepared: id, bind metadata with pk index 0, result metadata empty. */
    resp_check(SPATE_CQL_OP_RESULT, 0,
               X("00000004 0002 abcd 00000001 00000002 00000001 0000 0002 'ks' 0001 't' 0002 'id' "
                 "000c 0001 'v' 000d 00000004 00000000"),
               &r);
    assert_slice_bytes(r.result.id, "\xab\xcd", 2);
    assert_int_equal(r.result.metadata.pk_count, 1);
    assert_int_equal(r.result.metadata.pk_index[0], 0);
    assert_slice(r.result.metadata.columns[0].name, "id");
    assert_int_equal(r.result.result_metadata.flags, SPATE_CQL_MD_NO_METADATA);
    spate_cql_response_free(&r);

    resp_check(SPATE_CQL_OP_RESULT, 0, X("00000005 0007 'CREATED' 0005 'TABLE' 0002 'ks' 0001 't'"),
               &r);
    assert_slice(r.result.change.target, "TABLE");
    assert_slice(r.result.change.name, "t");
    spate_cql_response_free(&r);
    resp_check(SPATE_CQL_OP_RESULT, 0, X("00000005 0007 'DROPPED' 0008 'KEYSPACE' 0002 'ks'"), &r);
    assert_null(r.result.change.name.p);
    spate_cql_response_free(&r);
    resp_check(
        SPATE_CQL_OP_RESULT, 0,
        X("00000005 0007 'UPDATED' 0008 'FUNCTION' 0002 'ks' 0001 'f' 0002 0003 'int' 0004 'text'"),
        &r);
    assert_int_equal(r.result.change.arg_types.n, 2);
    spate_cql_response_free(&r);

    /* Unknown kinds, metadata flags (v5's METADATA_CHANGED) and targets. */
    spate_cql_header_t h = hdr(SPATE_CQL_OP_RESULT, 0);
    h.response = true;
    assert_int_equal(resp_dec(&h, X("00000006"), &r), SPATE_EINVAL);
    assert_int_equal(resp_dec(&h, X("00000002 00000008 00000000"), &r), SPATE_EINVAL);
    assert_int_equal(resp_dec(&h, X("00000005 0001 'C' 0001 'X' 0001 'k'"), &r), SPATE_EINVAL);
    /* A row count far beyond the input allocates nothing. */
    assert_int_equal(resp_dec(&h, X("00000002 00000004 7fffffff 7fffffff"), &r), SPATE_EINVAL);
}

static void test_resp_events(void **state) {
    (void)state;
    spate_cql_response_t r;
    resp_check(SPATE_CQL_OP_EVENT, 0, X("000d 'STATUS_CHANGE' 0002 'UP' 047f00000100002352"), &r);
    assert_slice(r.event.change, "UP");
    assert_int_equal(r.event.node.len, 4);
    assert_int_equal(r.event.node.port, 9042);
    spate_cql_response_free(&r);

    resp_check(
        SPATE_CQL_OP_EVENT, 0,
        X("000f 'TOPOLOGY_CHANGE' 0008 'NEW_NODE' 1000000000000000000000000000000001 00002352"),
        &r);
    assert_int_equal(r.event.node.len, 16);
    assert_int_equal(r.event.node.addr[15], 1);
    spate_cql_response_free(&r);

    resp_check(SPATE_CQL_OP_EVENT, 0,
               X("000d 'SCHEMA_CHANGE' 0007 'CREATED' 0008 'KEYSPACE' 0002 'ks'"), &r);
    assert_slice(r.event.schema.keyspace, "ks");
    spate_cql_response_free(&r);

    spate_cql_header_t h = hdr(SPATE_CQL_OP_EVENT, 0);
    assert_int_equal(resp_dec(&h, X("0003 'FOO'"), &r), SPATE_EINVAL);
}

static void test_rows_writer(void **state) {
    (void)state;
    spate_cql_colspec_t cols[2] = {{.name = S("a"), .type = {.id = SPATE_CQL_INT}},
                                   {.name = S("b"), .type = {.id = SPATE_CQL_INT}}};
    spate_cql_metadata_t md = {.flags = SPATE_CQL_MD_GLOBAL_TABLES_SPEC,
                               .columns_count = 2,
                               .global_keyspace = S("ks"),
                               .global_table = S("t"),
                               .columns = cols};
    bytes_t want =
        X("00000002 00000003 00000002 00000002 cafe 0002 'ks' 0001 't' 0001 'a' 0009 0001 'b' 0009 "
          "00000002 0000000400000001 0000000400000002 ffffffff 0000000400000003");

    /* The server's way: open a frame, stream cells, decide paging at the end. */
    spate_buf_t b = SPATE_BUF_INIT;
    spate_cql_header_t h = {
        .version = 4, .response = true, .stream = 9, .opcode = SPATE_CQL_OP_RESULT};
    size_t mark;
    assert_int_equal(spate_cql_frame_begin(&b, &h, &mark), SPATE_OK);
    spate_cql_rows_t w;
    assert_int_equal(spate_cql_rows_begin(&w, &b, &md), SPATE_OK);
    assert_int_equal(spate_cql_rows_cell(&w, "\x00\x00\x00\x01", 4), SPATE_OK);
    assert_int_equal(spate_cql_rows_cell(&w, "\x00\x00\x00\x02", 4), SPATE_OK);
    assert_int_equal(spate_cql_rows_cell(&w, NULL, 0), SPATE_OK);
    assert_int_equal(spate_cql_rows_end(&w, NULL), SPATE_EINVAL); /* half a row */
    assert_int_equal(spate_cql_rows_cell_begin(&w), SPATE_OK);
    assert_int_equal(spate_cql_rows_cell(&w, "x", 1), SPATE_EINVAL); /* cell open */
    assert_int_equal(spate_cql_value_put_i32(&b, 3), SPATE_OK);
    assert_int_equal(spate_cql_rows_cell_end(&w), SPATE_OK);
    spate_slice_t ps = {"\xca\xfe", 2};
    assert_int_equal(spate_cql_rows_end(&w, &ps), SPATE_OK);
    assert_int_equal(spate_cql_frame_end(&b, mark), SPATE_OK);
    assert_frame(&b, 0x84, 0, 9, SPATE_CQL_OP_RESULT, want.p, want.n);

    /* The same through response_write with the paging state in md. */
    spate_slice_t cells[4] = {{"\x00\x00\x00\x01", 4},
                              {"\x00\x00\x00\x02", 4},
                              {NULL, SPATE_CQL_NULL},
                              {"\x00\x00\x00\x03", 4}};
    spate_cql_response_t resp = {.opcode = SPATE_CQL_OP_RESULT};
    resp.result.kind = SPATE_CQL_RESULT_ROWS;
    resp.result.metadata = md;
    resp.result.metadata.flags |= SPATE_CQL_MD_HAS_MORE_PAGES;
    resp.result.metadata.paging_state = ps;
    resp.result.rows_count = 2;
    resp.result.cells = cells;
    spate_buf_reset(&b);
    assert_int_equal(spate_cql_response_write(&b, 4, 9, &resp), SPATE_OK);
    assert_frame(&b, 0x84, 0, 9, SPATE_CQL_OP_RESULT, want.p, want.n);

    /* And a warning prefix on the response. */
    spate_slice_t warn[1] = {S("w")};
    resp.warnings = (spate_cql_strlist_t){1, warn};
    resp.result.kind = SPATE_CQL_RESULT_VOID;
    spate_buf_reset(&b);
    assert_int_equal(spate_cql_response_write(&b, 4, 1, &resp), SPATE_OK);
    bytes_t warned = X("0001 0001 'w' 00000001");
    assert_frame(&b, 0x84, SPATE_CQL_FLAG_WARNING, 1, SPATE_CQL_OP_RESULT, warned.p, warned.n);
    spate_buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

static spate_cql_datatype_t T(spate_cql_type_t id) { return (spate_cql_datatype_t){.id = id}; }

static void assert_valid(spate_cql_datatype_t t, bytes_t v) {
    const uint8_t *p = v.p;
    size_t n = v.n;
    char err[200];
    assert_int_equal(spate_cql_value_validate(&t, p, n, err, sizeof err), SPATE_OK);
}

static void assert_invalid(const spate_cql_datatype_t *t, bytes_t v, const char *msg) {
    const uint8_t *p = v.p;
    size_t n = v.n;
    char err[200];
    assert_int_equal(spate_cql_value_validate(t, p, n, err, sizeof err), SPATE_EINVAL);
    assert_string_equal(err, msg);
}

static void assert_text(const spate_cql_datatype_t *t, bytes_t v, const char *want) {
    const uint8_t *p = v.p;
    size_t n = v.n;
    spate_buf_t b = SPATE_BUF_INIT;
    spate_status_t st = spate_cql_value_to_text(t, p, n, &b);
    if (st != SPATE_OK) print_error("to_text failed for %s\n", want);
    assert_int_equal(st, SPATE_OK);
    assert_string_equal(b.data ? b.data : "", want);
    spate_buf_free(&b);
}

static void assert_parse(spate_cql_type_t id, const char *text, bytes_t v) {
    const uint8_t *want = v.p;
    size_t n = v.n;
    spate_cql_datatype_t t = T(id);
    spate_buf_t b = SPATE_BUF_INIT;
    char err[200];
    assert_int_equal(spate_cql_value_from_text(&t, text, strlen(text), &b, err, sizeof err),
                     SPATE_OK);
    assert_int_equal(b.len, n);
    assert_memory_equal(b.data, want, n);
    spate_buf_free(&b);
}

static void assert_parse_fails(spate_cql_type_t id, const char *text, const char *msg) {
    spate_cql_datatype_t t = T(id);
    spate_buf_t b = SPATE_BUF_INIT;
    spate_buf_puts(&b, "keep");
    char err[200];
    assert_int_equal(spate_cql_value_from_text(&t, text, strlen(text), &b, err, sizeof err),
                     SPATE_EINVAL);
    assert_int_equal(b.len, 4);
    assert_string_equal(err, msg);
    spate_buf_free(&b);
}

/* from_text then to_text gives back the text. */
static void assert_text_roundtrip(spate_cql_type_t id, const char *text) {
    spate_cql_datatype_t t = T(id);
    spate_buf_t v = SPATE_BUF_INIT, s = SPATE_BUF_INIT;
    assert_int_equal(spate_cql_value_from_text(&t, text, strlen(text), &v, NULL, 0), SPATE_OK);
    assert_int_equal(spate_cql_value_to_text(&t, v.data, v.len, &s), SPATE_OK);
    assert_string_equal(s.data, text);
    spate_buf_free(&v);
    spate_buf_free(&s);
}

static void test_value_validate(void **state) {
    (void)state;
    spate_cql_datatype_t t = T(SPATE_CQL_INT);
    assert_invalid(&t, X("010203"), "Expected 4 or 0 byte int (3)");
    assert_valid(t, X(""));
    assert_valid(t, X("00000001"));
    t = T(SPATE_CQL_BIGINT);
    assert_invalid(&t, X("01"), "Expected 8 or 0 byte long (1)");
    t = T(SPATE_CQL_SMALLINT);
    assert_invalid(&t, X(""), "Expected 2 bytes for a smallint (0)");
    t = T(SPATE_CQL_TINYINT);
    assert_invalid(&t, X("0102"), "Expected 1 byte for a tinyint (2)");
    t = T(SPATE_CQL_BOOLEAN);
    assert_invalid(&t, X("0102"), "Expected 1 or 0 byte value (2)");
    t = T(SPATE_CQL_DOUBLE);
    assert_invalid(&t, X("01020304"), "Expected 8 or 0 byte value for a double (4)");
    t = T(SPATE_CQL_FLOAT);
    assert_invalid(&t, X("01"), "Expected 4 or 0 byte value for a float (1)");
    t = T(SPATE_CQL_UUID);
    assert_invalid(&t, X("01"), "UUID should be 16 or 0 bytes (1)");
    t = T(SPATE_CQL_TIMEUUID);
    assert_invalid(&t, X("'0123456789abcdef'"),
                   "Invalid version for TimeUUID type (3, expected 1)");
    assert_valid(t, X("c9a6f2a04a0e11eebe560242ac120002"));
    t = T(SPATE_CQL_DATE);
    assert_invalid(&t, X(""), "Expected 4 byte long for date (0)");
    t = T(SPATE_CQL_TIME);
    assert_invalid(&t, X("00004e94914f0000"),
                   "Time value out of range (86400000000000 ns; expected 0 to 86399999999999)");
    t = T(SPATE_CQL_INET);
    assert_invalid(&t, X("0102030405"), "Expected 4 or 16 byte inetaddress (5)");
    t = T(SPATE_CQL_DECIMAL);
    assert_invalid(&t, X("00000001"), "Expected 0 or at least 5 bytes for a decimal (4)");
    assert_valid(t, X(""));

    t = T(SPATE_CQL_VARCHAR);
    assert_valid(t, X("68c3a96c6c6f20e282ac20f09f9880"));
    assert_invalid(&t, X("c080"), "String didn't validate: invalid UTF-8 at byte 0");
    assert_invalid(&t, X("6162eda080"), "String didn't validate: invalid UTF-8 at byte 2");
    assert_invalid(&t, X("616263e282"), "String didn't validate: invalid UTF-8 at byte 3");
    assert_invalid(&t, X("f4908080"), "String didn't validate: invalid UTF-8 at byte 0");
    assert_invalid(&t, X("6180"), "String didn't validate: invalid UTF-8 at byte 1");
    /* past and inside the eight-byte ASCII runs */
    assert_valid(t, X("6162636465666768 696a6b6c6d6e6f70 c3a9 7172737475767778 e282ac"));
    assert_invalid(&t, X("6162636465666768 696a6b6c6d6e6f70 71 c3"),
                   "String didn't validate: invalid UTF-8 at byte 17");
    assert_invalid(&t, X("6162636465666768 696a6b6c6d6e 80 70"),
                   "String didn't validate: invalid UTF-8 at byte 14");
    /* the all-ASCII check's last, overlapping word: 9 and 17 bytes, and
     * fewer than 8; then all-ASCII strings of those lengths */
    assert_invalid(&t, X("6162636465666768 ff"), "String didn't validate: invalid UTF-8 at byte 8");
    assert_invalid(&t, X("6162636465666768 696a6b6c6d6e6f70 80"),
                   "String didn't validate: invalid UTF-8 at byte 16");
    assert_invalid(&t, X("616263 fe"), "String didn't validate: invalid UTF-8 at byte 3");
    assert_valid(t, X("6162636465666768 69"));
    assert_valid(t, X("6162636465666768 696a6b6c6d6e6f70 71"));
    assert_valid(t, X("61626364656667"));
    t = T(SPATE_CQL_ASCII);
    assert_invalid(&t, X("6180"), "Invalid byte for ascii: 128 at byte 1");

    spate_cql_datatype_t l;
    spate_cql_datatype_make(&l, SPATE_CQL_LIST, 1);
    l.sub[0].id = SPATE_CQL_INT;
    assert_valid(l, X("00000001 00000004 00000007"));
    assert_invalid(&l, X("00000001 ffffffff"), "null is not supported inside collections");
    assert_invalid(&l, X("00000001 00000003010203"), "Expected 4 or 0 byte int (3)");
    assert_invalid(&l, X("00000000 00"), "Unexpected extraneous bytes after list value");
    assert_invalid(&l, X("00000002 00000000"), "Not enough bytes to read element 1 of a list");
    assert_invalid(&l, X("ffffffff"), "Negative element count in a list (-1)");
    assert_invalid(&l, X("00"), "Not enough bytes to read a list");
    spate_cql_datatype_free(&l);

    spate_cql_datatype_t m;
    spate_cql_datatype_make(&m, SPATE_CQL_MAP, 2);
    m.sub[0].id = SPATE_CQL_VARCHAR;
    m.sub[1].id = SPATE_CQL_INT;
    assert_valid(m, X("00000001 00000001 'k' 00000004 00000001"));
    assert_invalid(&m, X("00000001 00000001 ff 00000000"),
                   "String didn't validate: invalid UTF-8 at byte 0");
    assert_invalid(&m, X("00000001 00000001 'k'"), "Not enough bytes to read element 0 of a map");
    spate_cql_datatype_free(&m);

    spate_cql_datatype_t tu;
    spate_cql_datatype_make(&tu, SPATE_CQL_TUPLE, 2);
    tu.sub[0].id = SPATE_CQL_INT;
    tu.sub[1].id = SPATE_CQL_VARCHAR;
    assert_valid(tu, X("00000004 00000001"));     /* fewer */
    assert_valid(tu, X("ffffffff 00000001 'x'")); /* null */
    assert_valid(tu, X(""));
    assert_invalid(&tu, X("ffffffffffffffffffffffff"),
                   "Invalid remaining data after end of tuple value");
    assert_invalid(&tu, X("0000000500"), "Not enough bytes to read component 0 of a tuple");
    spate_cql_datatype_free(&tu);

    t = T(SPATE_CQL_DURATION);
    assert_valid(t, X("020406"));
    assert_invalid(&t, X("020306"),
                   "The duration months, days and nanoseconds must be all of the same sign");
    assert_invalid(&t, X("0204"), "Expected at least 3 bytes for a duration (2)");
    assert_invalid(&t, X("0204c0"), "Not enough bytes to read a duration");
}

static void test_value_to_text(void **state) {
    (void)state;
    spate_cql_datatype_t t = T(SPATE_CQL_INT);
    assert_text(&t, X("80000000"), "-2147483648");
    assert_text(&t, X("7fffffff"), "2147483647");
    assert_text(&t, X(""), "");
    t = T(SPATE_CQL_BIGINT);
    assert_text(&t, X("8000000000000000"), "-9223372036854775808");
    t = T(SPATE_CQL_SMALLINT);
    assert_text(&t, X("fffe"), "-2");
    t = T(SPATE_CQL_TINYINT);
    assert_text(&t, X("80"), "-128");
    t = T(SPATE_CQL_BOOLEAN);
    assert_text(&t, X("01"), "True");
    assert_text(&t, X("00"), "False");
    t = T(SPATE_CQL_VARINT);
    assert_text(&t, X("0080"), "128");
    assert_text(&t, X("ff7f"), "-129");
    assert_text(&t, X("80"), "-128");
    assert_text(&t, X("00"), "0");
    assert_text(&t, X("8000000000000000"), "-9223372036854775808");
    assert_text(&t, X("010000000000000000"), "18446744073709551616");
    assert_text(&t, X("0100000000000000000000000000000000"),
                "340282366920938463463374607431768211456");
    assert_text(&t, X("ff00000000000000000000000000000000"),
                "-340282366920938463463374607431768211456");
    assert_text(&t, X("00000000000000000001"), "1"); /* not minimal */
    t = T(SPATE_CQL_DECIMAL);
    assert_text(&t, X("000000020096"), "1.50");
    assert_text(&t, X("fffffffd01"), "1E+3");
    assert_text(&t, X("0000000701"), "1E-7");
    assert_text(&t, X("0000000601"), "0.000001");
    assert_text(&t, X("00000001fb"), "-0.5");
    assert_text(&t, X("000000033039"), "12.345");
    assert_text(&t, X("0000000000"), "0");
    assert_text(&t, X("0000000a00"), "0E-10");
    assert_text(&t, X("fffffffe3039"), "1.2345E+6");
    t = T(SPATE_CQL_DOUBLE);
    assert_text(&t, X("3fb999999999999a"), "0.1");
    assert_text(&t, X("7ff8000000000000"), "NaN");
    assert_text(&t, X("fff0000000000000"), "-Infinity");
    assert_text(&t, X("3ff8000000000000"), "1.5");
    t = T(SPATE_CQL_FLOAT);
    assert_text(&t, X("3dcccccd"), "0.1");
    assert_text(&t, X("7f800000"), "Infinity");
    t = T(SPATE_CQL_TIMESTAMP);
    assert_text(&t, X("0000018cc820db2e"), "2024-01-02 03:04:05.678000+0000");
    assert_text(&t, X("ffffffffffffffff"), "1969-12-31 23:59:59.999000+0000");
    assert_text(&t, X("0000e677d21fdc00"), "253402300800000"); /* year 10000 */
    assert_text(&t, X("8000000000000000"), "-9223372036854775808");
    assert_text(&t, X("7fffffffffffffff"), "9223372036854775807");
    t = T(SPATE_CQL_DATE);
    assert_text(&t, X("80000000"), "1970-01-01");
    assert_text(&t, X("80004d0c"), "2024-01-02");
    assert_text(&t, X("7fffffff"), "1969-12-31");
    assert_text(&t, X("00000000"), "-2147483648");
    t = T(SPATE_CQL_TIME);
    assert_text(&t, X("00000a0ba4a8ff15"), "03:04:05.123456789");
    t = T(SPATE_CQL_UUID);
    assert_text(&t, X("550e8400e29b41d4a716446655440000"), "550e8400-e29b-41d4-a716-446655440000");
    t = T(SPATE_CQL_BLOB);
    assert_text(&t, X("cafe"), "0xcafe");
    assert_text(&t, X(""), "0x");
    t = T(SPATE_CQL_INET);
    assert_text(&t, X("7f000001"), "127.0.0.1");
    assert_text(&t, X("20010db8000000000000000000000001"), "2001:db8::1");
    t = T(SPATE_CQL_VARCHAR);
    assert_text(&t, X("'it''s'"), "it's");
    t = T(SPATE_CQL_DURATION);
    assert_text(&t, X("020406"), "1mo2d3ns");
    assert_text(&t, X("010305"), "-1mo2d3ns");
    /* Invalid values are refused, nothing appended. */
    t = T(SPATE_CQL_INT);
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_cql_value_to_text(&t, "\x01", 1, &b), SPATE_EINVAL);
    assert_int_equal(b.len, 0);
    spate_buf_free(&b);

    /* Collections: text quoted inside, '' doubled; timestamps quoted too. */
    spate_cql_datatype_t l;
    spate_cql_datatype_make(&l, SPATE_CQL_LIST, 1);
    l.sub[0].id = SPATE_CQL_VARCHAR;
    assert_text(&l, X("00000002 00000001 'a' 00000004 'it''s'"), "['a', 'it''s']");
    l.sub[0].id = SPATE_CQL_TIMESTAMP;
    assert_text(&l, X("00000001 000000080000000000000000"), "['1970-01-01 00:00:00.000000+0000']");
    l.id = SPATE_CQL_SET;
    l.sub[0].id = SPATE_CQL_INT;
    assert_text(&l, X("00000002 00000004 00000001 00000004 00000002"), "{1, 2}");
    assert_text(&l, X("00000000"), "{}");
    spate_cql_datatype_free(&l);

    spate_cql_datatype_t m;
    spate_cql_datatype_make(&m, SPATE_CQL_MAP, 2);
    m.sub[0].id = SPATE_CQL_VARCHAR;
    spate_cql_datatype_make(&m.sub[1], SPATE_CQL_LIST, 1);
    m.sub[1].sub[0].id = SPATE_CQL_BOOLEAN;
    assert_text(&m, X("00000001 00000001 'k' 00000009 00000001 00000001 01"), "{'k': [True]}");
    spate_cql_datatype_free(&m);

    spate_cql_datatype_t tu;
    spate_cql_datatype_make(&tu, SPATE_CQL_TUPLE, 2);
    tu.sub[0].id = SPATE_CQL_INT;
    tu.sub[1].id = SPATE_CQL_VARCHAR;
    assert_text(&tu, X("00000004 00000001"), "(1, null)");
    spate_cql_datatype_free(&tu);

    spate_cql_datatype_t u;
    spate_cql_datatype_make(&u, SPATE_CQL_UDT, 2);
    u.fields[0] = S("street");
    u.fields[1] = S("num");
    u.sub[0].id = SPATE_CQL_VARCHAR;
    u.sub[1].id = SPATE_CQL_INT;
    assert_text(&u, X("00000003 'abc'"), "{street: 'abc', num: null}");
    spate_cql_datatype_free(&u);
}

static void test_value_from_text(void **state) {
    (void)state;
    assert_parse(SPATE_CQL_INT, "-2147483648", X("80000000"));
    assert_parse(SPATE_CQL_INT, "+42", X("0000002a"));
    assert_parse_fails(SPATE_CQL_INT, "2147483648",
                       "Value '2147483648' out of range for int (-2147483648 to 2147483647)");
    assert_parse_fails(SPATE_CQL_INT, "12a", "Unable to make int from '12a'");
    assert_parse_fails(SPATE_CQL_INT, "", "Unable to make int from ''");
    assert_parse_fails(SPATE_CQL_INT, "-", "Unable to make int from '-'");
    assert_parse(SPATE_CQL_TINYINT, "-128", X("80"));
    assert_parse_fails(SPATE_CQL_TINYINT, "128",
                       "Value '128' out of range for tinyint (-128 to 127)");
    assert_parse(SPATE_CQL_SMALLINT, "-2", X("fffe"));
    assert_parse(SPATE_CQL_BIGINT, "-9223372036854775808", X("8000000000000000"));
    assert_parse_fails(SPATE_CQL_BIGINT, "9223372036854775808",
                       "Value '9223372036854775808' out of range for bigint "
                       "(-9223372036854775808 to 9223372036854775807)");
    assert_parse_fails(SPATE_CQL_BIGINT, "99999999999999999999999",
                       "Value '99999999999999999999999' out of range for bigint "
                       "(-9223372036854775808 to 9223372036854775807)");

    assert_parse(SPATE_CQL_VARINT, "128", X("0080"));
    assert_parse(SPATE_CQL_VARINT, "-129", X("ff7f"));
    assert_parse(SPATE_CQL_VARINT, "-128", X("80"));
    assert_parse(SPATE_CQL_VARINT, "127", X("7f"));
    assert_parse(SPATE_CQL_VARINT, "0", X("00"));
    assert_parse(SPATE_CQL_VARINT, "-0", X("00"));
    assert_parse(SPATE_CQL_VARINT, "000255", X("00ff"));
    assert_parse(SPATE_CQL_VARINT, "-1", X("ff"));
    assert_parse(SPATE_CQL_VARINT, "340282366920938463463374607431768211456",
                 X("0100000000000000000000000000000000"));
    assert_parse(SPATE_CQL_VARINT, "-340282366920938463463374607431768211456",
                 X("ff00000000000000000000000000000000"));
    assert_parse_fails(SPATE_CQL_VARINT, "1.5", "Unable to make varint from '1.5'");

    assert_parse(SPATE_CQL_DECIMAL, "1.50", X("000000020096"));
    assert_parse(SPATE_CQL_DECIMAL, "1E+3", X("fffffffd01"));
    assert_parse(SPATE_CQL_DECIMAL, "-0.5", X("00000001fb"));
    assert_parse(SPATE_CQL_DECIMAL, "12.345", X("000000033039"));
    assert_parse(SPATE_CQL_DECIMAL, ".5", X("0000000105"));
    assert_parse_fails(SPATE_CQL_DECIMAL, "1e99999999999999",
                       "decimal scale out of range in '1e99999999999999'");
    assert_parse_fails(SPATE_CQL_DECIMAL, "NaN", "Unable to make decimal from 'NaN'");

    assert_parse(SPATE_CQL_DOUBLE, "0.1", X("3fb999999999999a"));
    assert_parse(SPATE_CQL_DOUBLE, "-Infinity", X("fff0000000000000"));
    assert_parse(SPATE_CQL_DOUBLE, "1e0", X("3ff0000000000000"));
    assert_parse(SPATE_CQL_FLOAT, "0.1", X("3dcccccd"));
    assert_parse(SPATE_CQL_FLOAT, "infinity", X("7f800000"));
    assert_parse_fails(SPATE_CQL_DOUBLE, "0x1p3", "Unable to make double from '0x1p3'");
    assert_parse_fails(SPATE_CQL_DOUBLE, "inf", "Unable to make double from 'inf'");
    {
        spate_cql_datatype_t t = T(SPATE_CQL_DOUBLE);
        spate_buf_t b = SPATE_BUF_INIT;
        assert_int_equal(spate_cql_value_from_text(&t, "NaN", 3, &b, NULL, 0), SPATE_OK);
        uint64_t u = 0;
        for (int i = 0; i < 8; i++) u = u << 8 | (uint8_t)b.data[i];
        double d;
        memcpy(&d, &u, 8);
        assert_true(isnan(d));
        spate_buf_free(&b);
    }

    assert_parse(SPATE_CQL_BOOLEAN, "TRUE", X("01"));
    assert_parse(SPATE_CQL_BOOLEAN, "false", X("00"));
    assert_parse_fails(SPATE_CQL_BOOLEAN, "yes", "Unable to make boolean from 'yes'");
    assert_parse(SPATE_CQL_UUID, "550E8400-e29b-41d4-a716-446655440000",
                 X("550e8400e29b41d4a716446655440000"));
    assert_parse_fails(SPATE_CQL_TIMEUUID, "550e8400-e29b-41d4-a716-446655440000",
                       "Unknown timeuuid representation: 550e8400-e29b-41d4-a716-446655440000 "
                       "(not a version 1 UUID)");
    assert_parse(SPATE_CQL_BLOB, "0xCAfe", X("cafe"));
    assert_parse(SPATE_CQL_BLOB, "0x", X(""));
    assert_parse_fails(SPATE_CQL_BLOB, "0xabc", "cannot parse '0xabc' as hex bytes");
    assert_parse_fails(SPATE_CQL_BLOB, "0xzz", "cannot parse '0xzz' as hex bytes");
    assert_parse(SPATE_CQL_VARCHAR, "h\xc3\xa9", X("68c3a9"));
    assert_parse_fails(SPATE_CQL_VARCHAR, "\xff",
                       "String didn't validate: invalid UTF-8 at byte 0");
    assert_parse_fails(SPATE_CQL_ASCII, "\xc3\xa9", "Invalid byte for ascii: 195 at byte 0");

    /* Timestamps: 2024-01-02 is 1704153600000 ms. */
    assert_parse(SPATE_CQL_TIMESTAMP, "2024-01-02", X("0000018cc7785000"));
    assert_parse(SPATE_CQL_TIMESTAMP, "2024-01-02 03:04:05", X("0000018cc820d888"));
    assert_parse(SPATE_CQL_TIMESTAMP, "2024-01-02T03:04:05.678Z", X("0000018cc820db2e"));
    assert_parse(SPATE_CQL_TIMESTAMP, "2024-01-02 03:04:05.678+0000", X("0000018cc820db2e"));
    assert_parse(SPATE_CQL_TIMESTAMP, "2024-01-02 04:04:05.678+01:00", X("0000018cc820db2e"));
    assert_parse(SPATE_CQL_TIMESTAMP, "2024-01-02 03:04:05.6789 UTC", X("0000018cc820db2e"));
    assert_parse(SPATE_CQL_TIMESTAMP, "2024-01-02 03:04", X("0000018cc820c500"));
    assert_parse(SPATE_CQL_TIMESTAMP, "2024-01-01T21:04:05-06", X("0000018cc820d888"));
    assert_parse(SPATE_CQL_TIMESTAMP, "-1", X("ffffffffffffffff"));
    assert_parse(SPATE_CQL_TIMESTAMP, "1969-12-31 23:59:59.999", X("ffffffffffffffff"));
    assert_parse_fails(SPATE_CQL_TIMESTAMP, "2024-02-30",
                       "Unable to coerce '2024-02-30' to a formatted date (long)");
    assert_parse_fails(SPATE_CQL_TIMESTAMP, "2024-01-02 24:00",
                       "Unable to coerce '2024-01-02 24:00' to a formatted date (long)");
    assert_parse_fails(SPATE_CQL_TIMESTAMP, "2024-01-02 03:04:05 +25",
                       "Unable to coerce '2024-01-02 03:04:05 +25' to a formatted date (long)");
    assert_parse_fails(SPATE_CQL_TIMESTAMP, "999999999-01-01",
                       "Unable to coerce '999999999-01-01' to a formatted date (long)");

    /* Dates: the epoch is 2^31; a bare number is the raw unsigned value. */
    assert_parse(SPATE_CQL_DATE, "1970-01-01", X("80000000"));
    assert_parse(SPATE_CQL_DATE, "2024-01-02", X("80004d0c"));
    assert_parse(SPATE_CQL_DATE, "2024-2-29", X("80004d46"));
    assert_parse(SPATE_CQL_DATE, "0", X("00000000"));
    assert_parse(SPATE_CQL_DATE, "4294967295", X("ffffffff"));
    assert_parse(SPATE_CQL_DATE, "-5877641-06-23", X("00000000"));
    assert_parse_fails(SPATE_CQL_DATE, "4294967296",
                       "Input date 4294967296 is out of range of supported date. Valid range: "
                       "[0, 2^32-1]");
    assert_parse_fails(SPATE_CQL_DATE, "2023-02-29",
                       "Unable to coerce '2023-02-29' to a formatted date (long)");

    assert_parse(SPATE_CQL_TIME, "03:04:05.123456789", X("00000a0ba4a8ff15"));
    assert_parse(SPATE_CQL_TIME, "00:00:00.5", X("000000001dcd6500"));
    assert_parse(SPATE_CQL_TIME, "0", X("0000000000000000"));
    assert_parse_fails(SPATE_CQL_TIME, "24:00:00",
                       "Timestamp format must be hh:mm:ss[.fffffffff] ('24:00:00')");
    assert_parse_fails(SPATE_CQL_TIME, "03:04",
                       "Timestamp format must be hh:mm:ss[.fffffffff] ('03:04')");
    assert_parse_fails(SPATE_CQL_TIME, "86400000000000",
                       "Input long out of bounds: 86400000000000");

    assert_parse(SPATE_CQL_INET, "127.0.0.1", X("7f000001"));
    assert_parse(SPATE_CQL_INET, "::1", X("00000000000000000000000000000001"));
    assert_parse_fails(SPATE_CQL_INET, "localhost", "Unable to make inet address from 'localhost'");
    assert_parse_fails(SPATE_CQL_LIST, "[1]", "cannot parse a list value from text here");

    /* Round trips through the text form. */
    assert_text_roundtrip(SPATE_CQL_VARINT, "-123456789012345678901234567890");
    assert_text_roundtrip(SPATE_CQL_DECIMAL, "-1234567890.0987654321");
    assert_text_roundtrip(SPATE_CQL_DECIMAL, "1.2345E+6");
    assert_text_roundtrip(SPATE_CQL_DOUBLE, "3.141592653589793");
    assert_text_roundtrip(SPATE_CQL_DOUBLE, "1e+300");
    assert_text_roundtrip(SPATE_CQL_FLOAT, "3.1415927");
    assert_text_roundtrip(SPATE_CQL_TIME, "23:59:59.999999999");
    assert_text_roundtrip(SPATE_CQL_DATE, "0001-01-01");
    assert_text_roundtrip(SPATE_CQL_INET, "2001:db8::ff00:42:8329");
}

static void test_value_put(void **state) {
    (void)state;
    spate_buf_t b = SPATE_BUF_INIT;
    spate_cql_value_put_varint(&b, 128);
    spate_cql_value_put_varint(&b, -129);
    spate_cql_value_put_varint(&b, 0);
    spate_cql_value_put_varint(&b, -1);
    spate_cql_value_put_varint(&b, INT64_MIN);
    assert_int_equal(b.len, 2 + 2 + 1 + 1 + 8);
    assert_buf(&b, 0, X("0080 ff7f 00 ff 8000000000000000"));
    spate_buf_reset(&b);
    spate_cql_value_put_date(&b, 0);
    spate_cql_value_put_date(&b, -1);
    spate_cql_value_put_i32(&b, INT32_MIN);
    spate_cql_value_put_i16(&b, -2);
    spate_cql_value_put_i8(&b, -1);
    spate_cql_value_put_bool(&b, true);
    spate_cql_value_put_double(&b, 1.5);
    spate_cql_value_put_float(&b, 0.1f);
    spate_cql_value_put_i64(&b, -1);
    assert_buf(
        &b, 0,
        X("80000000 7fffffff 80000000 fffe ff 01 3ff8000000000000 3dcccccd ffffffffffffffff"));
    spate_buf_reset(&b);

    spate_slice_t el[2] = {S("k"), {"\x00\x00\x00\x01", 4}};
    assert_int_equal(spate_cql_value_put_collection(&b, SPATE_CQL_MAP, el, 2), SPATE_OK);
    assert_buf(&b, 0, X("00000001 00000001 'k' 00000004 00000001"));
    assert_int_equal(b.len, 17);
    spate_buf_reset(&b);
    spate_slice_t tup[2] = {{NULL, SPATE_CQL_NULL}, S("x")};
    assert_int_equal(spate_cql_value_put_collection(&b, SPATE_CQL_TUPLE, tup, 2), SPATE_OK);
    assert_buf(&b, 0, X("ffffffff 00000001 'x'"));
    assert_int_equal(b.len, 9);
    spate_buf_reset(&b);
    assert_int_equal(spate_cql_value_put_collection(&b, SPATE_CQL_LIST, tup, 2), SPATE_EINVAL);
    assert_int_equal(spate_cql_value_put_collection(&b, SPATE_CQL_MAP, el, 1), SPATE_EINVAL);
    assert_int_equal(spate_cql_value_put_collection(&b, SPATE_CQL_INT, el, 1), SPATE_EINVAL);
    assert_int_equal(b.len, 0);
    assert_int_equal(spate_cql_value_put_collection(&b, SPATE_CQL_SET, el, 0), SPATE_OK);
    assert_buf(&b, 0, X("00000000"));

    /* A list built by put_collection validates and prints. */
    spate_buf_reset(&b);
    spate_buf_t e1 = SPATE_BUF_INIT, e2 = SPATE_BUF_INIT;
    spate_cql_value_put_i32(&e1, 7);
    spate_cql_value_put_i32(&e2, -7);
    spate_slice_t li[2] = {{e1.data, (int32_t)e1.len}, {e2.data, (int32_t)e2.len}};
    assert_int_equal(spate_cql_value_put_collection(&b, SPATE_CQL_LIST, li, 2), SPATE_OK);
    spate_cql_datatype_t l;
    spate_cql_datatype_make(&l, SPATE_CQL_LIST, 1);
    l.sub[0].id = SPATE_CQL_INT;
    assert_text(&l, (bytes_t){(const uint8_t *)b.data, b.len}, "[7, -7]");
    spate_cql_datatype_free(&l);
    spate_buf_free(&e1);
    spate_buf_free(&e2);
    spate_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_parse),     cmocka_unit_test(test_frame_writer),
        cmocka_unit_test(test_notation_scalars), cmocka_unit_test(test_notation_lists_maps),
        cmocka_unit_test(test_notation_option),  cmocka_unit_test(test_req_startup_options),
        cmocka_unit_test(test_req_query),        cmocka_unit_test(test_req_execute_batch),
        cmocka_unit_test(test_resp_errors),      cmocka_unit_test(test_resp_simple),
        cmocka_unit_test(test_resp_results),     cmocka_unit_test(test_resp_events),
        cmocka_unit_test(test_rows_writer),      cmocka_unit_test(test_value_validate),
        cmocka_unit_test(test_value_to_text),    cmocka_unit_test(test_value_from_text),
        cmocka_unit_test(test_value_put),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
