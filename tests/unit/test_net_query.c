/*
 * test_net_query.c — unit tests of the pure parsers in src/net: the
 * query-string iterator spate_query_next (net_query.c) and listen
 * addresses spate_net_addr_parse / spate_net_addr_format (net_addr.c).
 * Query strings are whatever a client sent, so besides the ordinary
 * splitting and decoding ('+' is a space, %XX a byte, %00 included) these
 * tests pin down the hostile cases: malformed escapes ("%zz", "%4", a
 * trailing "%") are kept literally as browsers do, empty pairs are
 * skipped, a key without '=' has an empty value, reads stop at the given
 * length even without a NUL, and output truncated to buffers of 1, 2 and 3
 * bytes is always NUL-terminated and never written past (heap buffers of
 * the exact size, so ASan and valgrind see any overflow). Addresses are
 * checked for IPv4, bracketed IPv6, the ":PORT" loopback shorthand, the
 * exact error messages for bad, out-of-range and missing ports, and a
 * parse → format → parse round trip. No name needs DNS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

/* ---- query strings ---- */

typedef struct {
    char key[64];
    char val[64];
} pair_t;

/* Splits q (length-bounded) into at most max pairs; returns the count and
 * checks that the end stays the end. */
static size_t split(const char *q, size_t len, pair_t *out, size_t max) {
    spate_query_iter_t it;
    spate_query_iter_init(&it, q, len);
    size_t n = 0;
    while (n < max) {
        spate_status_t st =
            spate_query_next(&it, out[n].key, sizeof out[n].key, out[n].val, sizeof out[n].val);
        if (st == SPATE_ENOENT) break;
        assert_int_equal(st, SPATE_OK);
        n++;
    }
    char k[8], v[8];
    assert_int_equal(spate_query_next(&it, k, sizeof k, v, sizeof v), SPATE_ENOENT);
    assert_int_equal(spate_query_next(&it, k, sizeof k, v, sizeof v), SPATE_ENOENT);
    return n;
}

static size_t split_str(const char *q, pair_t *out, size_t max) {
    return split(q, strlen(q), out, max);
}

/* Exactly one pair key=val. */
static void expect_one(const char *q, const char *key, const char *val) {
    pair_t p[4];
    assert_int_equal(split_str(q, p, 4), 1);
    assert_string_equal(p[0].key, key);
    assert_string_equal(p[0].val, val);
}

static void test_query_split(void **state) {
    (void)state;
    pair_t p[8];
    assert_int_equal(split_str("a=1&b=2&c=three", p, 8), 3);
    assert_string_equal(p[0].key, "a");
    assert_string_equal(p[0].val, "1");
    assert_string_equal(p[1].key, "b");
    assert_string_equal(p[1].val, "2");
    assert_string_equal(p[2].key, "c");
    assert_string_equal(p[2].val, "three");
    assert_int_equal(split_str("", p, 8), 0);
    expect_one("a=b=c", "a", "b=c"); /* only the first '=' splits */
    expect_one("=x", "", "x");
    expect_one("k=", "k", "");
    expect_one("=", "", "");
}

static void test_query_decoding(void **state) {
    (void)state;
    expect_one("q=hello+world", "q", "hello world");
    expect_one("a+b=c+d", "a b", "c d");
    expect_one("q=%41%62%63", "q", "Abc");
    expect_one("q=%4a%4A", "q", "JJ"); /* either case of hex */
    expect_one("q=%2B", "q", "+");     /* an encoded plus stays a plus */
    expect_one("q=caf%C3%A9", "q", "caf\xc3\xa9");
    /* '&' and '=' decoded from escapes do not split. */
    expect_one("k%3Dx=v%26w", "k=x", "v&w");
    expect_one("%3D=%3D", "=", "=");
}

static void test_query_nul_escape(void **state) {
    (void)state;
    /* %00 decodes to a NUL byte; the text after it is still written. */
    spate_query_iter_t it;
    const char *q = "x%00y=1%002";
    spate_query_iter_init(&it, q, strlen(q));
    char k[8], v[8];
    memset(k, '#', sizeof k);
    memset(v, '#', sizeof v);
    assert_int_equal(spate_query_next(&it, k, sizeof k, v, sizeof v), SPATE_OK);
    assert_memory_equal(k, "x\0y\0", 4);
    assert_memory_equal(v,
                        "1\0"
                        "2\0",
                        4);
    assert_string_equal(k, "x"); /* as a C string it ends at the NUL */
}

static void test_query_invalid_escapes(void **state) {
    (void)state;
    expect_one("q=%zz", "q", "%zz");
    expect_one("q=%4", "q", "%4");
    expect_one("q=%", "q", "%");
    expect_one("q=100%", "q", "100%");
    expect_one("q=%4g", "q", "%4g");
    expect_one("q=%g4", "q", "%g4");
    expect_one("q=%%41", "q", "%A");
    expect_one("q=%+41", "q", "% 41");
    expect_one("%=%", "%", "%");
    /* A short escape at the end of a pair does not borrow from the next. */
    pair_t p[4];
    assert_int_equal(split_str("a=%4&b=1", p, 4), 2);
    assert_string_equal(p[0].val, "%4");
    assert_string_equal(p[1].key, "b");
    assert_int_equal(split_str("a=%&41", p, 4), 2);
    assert_string_equal(p[0].val, "%");
    assert_string_equal(p[1].key, "41");
}

static void test_query_empty_pairs(void **state) {
    (void)state;
    pair_t p[8];
    assert_int_equal(split_str("&&a=1&&&b=2&", p, 8), 2);
    assert_string_equal(p[0].key, "a");
    assert_string_equal(p[1].key, "b");
    assert_int_equal(split_str("&", p, 8), 0);
    assert_int_equal(split_str("&&&&", p, 8), 0);
}

static void test_query_key_without_value(void **state) {
    (void)state;
    /* The value buffer is cleared even if it held an earlier value. */
    spate_query_iter_t it;
    const char *q = "a=1&noinfo&b";
    spate_query_iter_init(&it, q, strlen(q));
    char k[16], v[16];
    assert_int_equal(spate_query_next(&it, k, sizeof k, v, sizeof v), SPATE_OK);
    assert_string_equal(v, "1");
    assert_int_equal(spate_query_next(&it, k, sizeof k, v, sizeof v), SPATE_OK);
    assert_string_equal(k, "noinfo");
    assert_string_equal(v, "");
    assert_int_equal(spate_query_next(&it, k, sizeof k, v, sizeof v), SPATE_OK);
    assert_string_equal(k, "b");
    assert_string_equal(v, "");
    assert_int_equal(spate_query_next(&it, k, sizeof k, v, sizeof v), SPATE_ENOENT);
}

static void test_query_length_bounded(void **state) {
    (void)state;
    /* The input has no NUL: a heap copy of exactly len bytes, so any read
     * past the end is caught by ASan/valgrind. */
    static const char src[] = "a=1&b=%4";
    pair_t p[4];
    for (size_t len = 0; len <= sizeof src - 1; len++) {
        char *q = malloc(len ? len : 1);
        assert_non_null(q);
        memcpy(q, src, len);
        size_t n = split(q, len, p, 4);
        free(q);
        if (len == 0) assert_int_equal(n, 0);
        if (len == 3) {
            assert_int_equal(n, 1);
            assert_string_equal(p[0].val, "1");
        }
        if (len == 7) {
            assert_int_equal(n, 2);
            assert_string_equal(p[1].val, "%"); /* "%" then end: literal */
        }
        if (len == 8) assert_string_equal(p[1].val, "%4");
    }
    /* A length shorter than the string is honoured. */
    assert_int_equal(split("a=1&b=2", 3, p, 4), 1);
}

/* Decodes the single pair q into heap buffers of exactly klen/vlen bytes
 * and compares with the expected (already truncated) texts. */
static void check_trunc(const char *q, size_t klen, size_t vlen, const char *wk, const char *wv) {
    char *k = malloc(klen ? klen : 1), *v = malloc(vlen ? vlen : 1);
    assert_non_null(k);
    assert_non_null(v);
    memset(k, '#', klen ? klen : 1);
    memset(v, '#', vlen ? vlen : 1);
    spate_query_iter_t it;
    spate_query_iter_init(&it, q, strlen(q));
    assert_int_equal(spate_query_next(&it, k, klen, v, vlen), SPATE_OK);
    if (klen) {
        assert_true(memchr(k, '\0', klen) != NULL);
        assert_string_equal(k, wk);
    } else {
        assert_int_equal(k[0], '#'); /* a zero-size buffer is not touched */
    }
    if (vlen) {
        assert_true(memchr(v, '\0', vlen) != NULL);
        assert_string_equal(v, wv);
    } else {
        assert_int_equal(v[0], '#');
    }
    free(k);
    free(v);
}

static void test_query_truncation(void **state) {
    (void)state;
    const char *q = "abcdef=%41%42%43%44";
    check_trunc(q, 1, 1, "", "");
    check_trunc(q, 2, 2, "a", "A");
    check_trunc(q, 3, 3, "ab", "AB");
    check_trunc(q, 3, 5, "ab", "ABCD");
    check_trunc(q, 7, 64, "abcdef", "ABCD");
    check_trunc(q, 0, 3, "", "AB");
    check_trunc(q, 3, 0, "ab", "");
    check_trunc("k", 1, 1, "", "");
    check_trunc("k", 2, 0, "k", "");
    check_trunc("a+b=c+d", 2, 2, "a", "c");
    check_trunc("%zz=%4", 3, 3, "%z", "%4");
    check_trunc("%zz=%4", 2, 2, "%", "%");

    /* After a truncated pair the iterator goes on with the next one. */
    spate_query_iter_t it;
    const char *q2 = "longkey=longvalue&x=y";
    spate_query_iter_init(&it, q2, strlen(q2));
    char k[2], v[3];
    assert_int_equal(spate_query_next(&it, k, sizeof k, v, sizeof v), SPATE_OK);
    assert_string_equal(k, "l");
    assert_string_equal(v, "lo");
    assert_int_equal(spate_query_next(&it, k, sizeof k, v, sizeof v), SPATE_OK);
    assert_string_equal(k, "x");
    assert_string_equal(v, "y");
    assert_int_equal(spate_query_next(&it, k, sizeof k, v, sizeof v), SPATE_ENOENT);
}

/* ---- addresses ---- */

static void test_addr_ipv4(void **state) {
    (void)state;
    spate_net_addr_t a;
    char err[256] = "";
    char out[64];
    assert_int_equal(spate_net_addr_parse("127.0.0.1:8088", &a, err, sizeof err), SPATE_OK);
    assert_int_equal(a.ss.ss_family, AF_INET);
    assert_int_equal(a.len, sizeof(struct sockaddr_in));
    assert_int_equal(spate_net_addr_port(&a), 8088);
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&a.ss;
    assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7F000001);
    spate_net_addr_format(&a, out, sizeof out);
    assert_string_equal(out, "127.0.0.1:8088");

    assert_int_equal(spate_net_addr_parse("0.0.0.0:0", &a, err, sizeof err), SPATE_OK);
    assert_int_equal(spate_net_addr_port(&a), 0);
    spate_net_addr_format(&a, out, sizeof out);
    assert_string_equal(out, "0.0.0.0:0");

    assert_int_equal(spate_net_addr_parse("10.1.2.3:65535", &a, err, sizeof err), SPATE_OK);
    assert_int_equal(spate_net_addr_port(&a), 65535);
}

static void test_addr_ipv6(void **state) {
    (void)state;
    spate_net_addr_t a;
    char err[256] = "";
    char out[64];
    assert_int_equal(spate_net_addr_parse("[::1]:9", &a, err, sizeof err), SPATE_OK);
    assert_int_equal(a.ss.ss_family, AF_INET6);
    assert_int_equal(a.len, sizeof(struct sockaddr_in6));
    assert_int_equal(spate_net_addr_port(&a), 9);
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a.ss;
    assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
    spate_net_addr_format(&a, out, sizeof out);
    assert_string_equal(out, "[::1]:9");

    assert_int_equal(spate_net_addr_parse("[::]:8088", &a, err, sizeof err), SPATE_OK);
    spate_net_addr_format(&a, out, sizeof out);
    assert_string_equal(out, "[::]:8088");
}

static void test_addr_default_host(void **state) {
    (void)state;
    spate_net_addr_t a;
    char err[256] = "";
    char out[64];
    assert_int_equal(spate_net_addr_parse(":80", &a, err, sizeof err), SPATE_OK);
    assert_int_equal(a.ss.ss_family, AF_INET);
    spate_net_addr_format(&a, out, sizeof out);
    assert_string_equal(out, "127.0.0.1:80"); /* loopback, never all interfaces */
}

static void expect_addr_error(const char *text, const char *msg) {
    spate_net_addr_t a;
    char err[256] = "";
    assert_int_equal(spate_net_addr_parse(text, &a, err, sizeof err), SPATE_EINVAL);
    assert_string_equal(err, msg);
}

static void test_addr_errors(void **state) {
    (void)state;
    expect_addr_error("127.0.0.1:x", "'127.0.0.1:x': the port must be a number from 0 to 65535");
    expect_addr_error("127.0.0.1:65536",
                      "'127.0.0.1:65536': the port must be a number from 0 to 65535");
    expect_addr_error("127.0.0.1:-1", "'127.0.0.1:-1': the port must be a number from 0 to 65535");
    expect_addr_error("127.0.0.1:", "'127.0.0.1:': the port must be a number from 0 to 65535");
    expect_addr_error("127.0.0.1: 80",
                      "'127.0.0.1: 80': the port must be a number from 0 to 65535");
    expect_addr_error("127.0.0.1:80x",
                      "'127.0.0.1:80x': the port must be a number from 0 to 65535");
    expect_addr_error("[::1]:99999", "'[::1]:99999': the port must be a number from 0 to 65535");
    const char *hostport = "expected HOST:PORT (for example 127.0.0.1:8088 or [::1]:8088)";
    char want[256];
    static const char *const shape[] = {"127.0.0.1", "", "[::1]", "[::1]80", "[::1:80", "::1:80"};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(shape); i++) {
        snprintf(want, sizeof want, "'%s': %s", shape[i], hostport);
        expect_addr_error(shape[i], want);
    }
    /* A host longer than any name is refused before resolving. */
    char longhost[400];
    memset(longhost, 'h', 300);
    strcpy(longhost + 300, ":80");
    spate_net_addr_t a;
    char err[600];
    assert_int_equal(spate_net_addr_parse(longhost, &a, err, sizeof err), SPATE_EINVAL);
    assert_non_null(strstr(err, "expected HOST:PORT"));
    /* A small error buffer is truncated, still NUL-terminated. */
    char small[8];
    assert_int_equal(spate_net_addr_parse("127.0.0.1:x", &a, small, sizeof small), SPATE_EINVAL);
    assert_string_equal(small, "'127.0.");
}

static void test_addr_round_trip(void **state) {
    (void)state;
    static const char *const texts[] = {"127.0.0.1:8088",     "192.168.10.20:1",       "[::1]:9",
                                        "[2001:db8::42]:443", "[fe80::1:2:3:4]:65535", "0.0.0.0:0"};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(texts); i++) {
        spate_net_addr_t a, b;
        char err[256], out[64], out2[64];
        assert_int_equal(spate_net_addr_parse(texts[i], &a, err, sizeof err), SPATE_OK);
        spate_net_addr_format(&a, out, sizeof out);
        assert_string_equal(out, texts[i]);
        assert_int_equal(spate_net_addr_parse(out, &b, err, sizeof err), SPATE_OK);
        assert_int_equal(a.len, b.len);
        assert_int_equal(a.ss.ss_family, b.ss.ss_family);
        assert_int_equal(spate_net_addr_port(&a), spate_net_addr_port(&b));
        spate_net_addr_format(&b, out2, sizeof out2);
        assert_string_equal(out, out2);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_split),
        cmocka_unit_test(test_query_decoding),
        cmocka_unit_test(test_query_nul_escape),
        cmocka_unit_test(test_query_invalid_escapes),
        cmocka_unit_test(test_query_empty_pairs),
        cmocka_unit_test(test_query_key_without_value),
        cmocka_unit_test(test_query_length_bounded),
        cmocka_unit_test(test_query_truncation),
        cmocka_unit_test(test_addr_ipv4),
        cmocka_unit_test(test_addr_ipv6),
        cmocka_unit_test(test_addr_default_host),
        cmocka_unit_test(test_addr_errors),
        cmocka_unit_test(test_addr_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
