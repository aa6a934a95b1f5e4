/*
 * test_base_misc.c — unit tests of the smaller pieces of src/base:
 * CRC-32C (base_crc32c.c: the standard check value, the RFC 3720 test
 * vectors, incremental use, and the SSE4.2 and table paths agreeing on
 * random buffers of many lengths and alignments), digests and UUIDs
 * (base_hash.c: md5/sha1/sha256 of "abc", UUID text round trips and
 * rejection of malformed text, version-5 UUIDs equal to Python's
 * uuid.uuid5), calendar time (base_time.c: ISO-8601 formatting before and
 * after 1970 and on leap days, whole years between two instants), JSON
 * string escaping (base_json.c), logging (base_log.c: level names, lines
 * written to a file carry level, component and message, lines below the
 * level are dropped) and the strict number parsers spate_parse_i64 and
 * spate_parse_double (base_conf.c). Expected values were computed outside
 * spate (Python 3, published test vectors), never by the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base.h"

/* The table-driven path, exported by base_crc32c.c for this test. */
uint32_t spate_crc32c_sw(uint32_t crc, const void *p, size_t n);

/* Deterministic pseudo-random bytes (xorshift64*), so failures repeat. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint8_t rng_byte(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint8_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 56);
}

/* ------------------------------------------------------------------ */
/* CRC-32C                                                             */
/* ------------------------------------------------------------------ */

static void test_crc32c_check_value(void **state) {
    (void)state;
    assert_int_equal(spate_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(spate_crc32c_sw(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(spate_crc32c(0, "", 0), 0);
    assert_int_equal(spate_crc32c_sw(0, "", 0), 0);
    /* Zero bytes continue a CRC unchanged. */
    assert_int_equal(spate_crc32c(0xE3069283u, "", 0), 0xE3069283u);
}

static void test_crc32c_rfc3720(void **state) {
    (void)state;
    /* RFC 3720 appendix B.4 (iSCSI), the reference CRC-32C vectors. */
    uint8_t buf[32];
    memset(buf, 0x00, sizeof buf);
    assert_int_equal(spate_crc32c(0, buf, 32), 0x8A9136AAu);
    assert_int_equal(spate_crc32c_sw(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xFF, sizeof buf);
    assert_int_equal(spate_crc32c(0, buf, 32), 0x62A8AB43u);
    assert_int_equal(spate_crc32c_sw(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++) buf[i] = (uint8_t)i;
    assert_int_equal(spate_crc32c(0, buf, 32), 0x46DD794Eu);
    assert_int_equal(spate_crc32c_sw(0, buf, 32), 0x46DD794Eu);
}

static void test_crc32c_incremental(void **state) {
    (void)state;
    /* Split at every offset, for data long enough to take the 8-byte
     * loops on both sides of the split, at every start alignment. */
    uint8_t raw[200 + 8];
    for (size_t i = 0; i < sizeof raw; i++) raw[i] = rng_byte();
    for (size_t align = 0; align < 8; align++) {
        const uint8_t *p = raw + align;
        size_t n = 200;
        uint32_t whole = spate_crc32c(0, p, n);
        assert_int_equal(whole, spate_crc32c_sw(0, p, n));
        for (size_t cut = 0; cut <= n; cut++) {
            assert_int_equal(spate_crc32c(spate_crc32c(0, p, cut), p + cut, n - cut), whole);
            assert_int_equal(spate_crc32c_sw(spate_crc32c_sw(0, p, cut), p + cut, n - cut), whole);
        }
    }
    /* Byte by byte. */
    uint32_t c = 0;
    for (int i = 0; i < 9; i++) c = spate_crc32c(c, "123456789" + i, 1);
    assert_int_equal(c, 0xE3069283u);
}

static void test_crc32c_hw_matches_sw(void **state) {
    (void)state;
    enum { MAXN = 4200 };
    uint8_t *raw = malloc(MAXN + 16);
    assert_non_null(raw);
    for (size_t i = 0; i < MAXN + 16; i++) raw[i] = rng_byte();
    size_t lens[] = {0,   1,   2,    3,    4,    5,    6,    7,    8,    9,   15,
                     16,  17,  31,   32,   33,   63,   64,   65,   127,  128, 129,
                     255, 256, 1000, 1023, 1024, 1025, 4095, 4096, 4097, MAXN};
    for (size_t li = 0; li < SPATE_ARRAY_LEN(lens); li++) {
        for (size_t align = 0; align < 16; align++) {
            const uint8_t *p = raw + align;
            size_t n = lens[li];
            assert_int_equal(spate_crc32c(0, p, n), spate_crc32c_sw(0, p, n));
            /* A non-zero running CRC too. */
            assert_int_equal(spate_crc32c(0x12345678u, p, n), spate_crc32c_sw(0x12345678u, p, n));
        }
    }
    /* And a few hundred random lengths and offsets. */
    for (int k = 0; k < 500; k++) {
        size_t off = rng_byte() % 16;
        size_t n = ((size_t)rng_byte() << 8 | rng_byte()) % MAXN;
        uint32_t seed = (uint32_t)rng_byte() << 24 | rng_byte();
        assert_int_equal(spate_crc32c(seed, raw + off, n), spate_crc32c_sw(seed, raw + off, n));
    }
    free(raw);
}

/* ------------------------------------------------------------------ */
/* Hashes and UUIDs                                                    */
/* ------------------------------------------------------------------ */

static void test_hash_abc(void **state) {
    (void)state;
    char out[65];
    assert_int_equal(spate_hash_hex(SPATE_HASH_MD5, "abc", 3, out), 32);
    assert_string_equal(out, "900150983cd24fb0d6963f7d28e17f72");
    assert_int_equal(spate_hash_hex(SPATE_HASH_SHA1, "abc", 3, out), 40);
    assert_string_equal(out, "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_int_equal(spate_hash_hex(SPATE_HASH_SHA256, "abc", 3, out), 64);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* The empty message. */
    assert_int_equal(spate_hash_hex(SPATE_HASH_MD5, "", 0, out), 32);
    assert_string_equal(out, "d41d8cd98f00b204e9800998ecf8427e");

    uint8_t raw[32];
    spate_hash_raw(SPATE_HASH_SHA1, "abc", 3, raw);
    static const uint8_t sha1_abc[20] = {0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81,
                                         0x6a, 0xba, 0x3e, 0x25, 0x71, 0x78, 0x50,
                                         0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d};
    assert_memory_equal(raw, sha1_abc, 20);
    /* Reusing the per-thread context does not leak state between calls. */
    spate_hash_hex(SPATE_HASH_SHA256, "something else entirely", 23, out);
    spate_hash_hex(SPATE_HASH_MD5, "abc", 3, out);
    assert_string_equal(out, "900150983cd24fb0d6963f7d28e17f72");
}

static const uint8_t ns_dns[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                                   0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

static void test_uuid_format_parse(void **state) {
    (void)state;
    char text[37];
    spate_uuid_format(ns_dns, text);
    assert_string_equal(text, "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
    uint8_t u[16];
    assert_int_equal(spate_uuid_parse(text, 36, u), SPATE_OK);
    assert_memory_equal(u, ns_dns, 16);
    /* Any case is accepted; output is always lower case. */
    assert_int_equal(spate_uuid_parse("6BA7B810-9DAD-11D1-80B4-00C04FD430C8", 36, u), SPATE_OK);
    assert_memory_equal(u, ns_dns, 16);
    /* Random round trips. */
    for (int k = 0; k < 100; k++) {
        uint8_t a[16], b[16];
        for (int i = 0; i < 16; i++) a[i] = rng_byte();
        spate_uuid_format(a, text);
        assert_int_equal(strlen(text), 36);
        assert_int_equal(spate_uuid_parse(text, 36, b), SPATE_OK);
        assert_memory_equal(a, b, 16);
    }
}

static void test_uuid_parse_rejects(void **state) {
    (void)state;
    static const char *const bad[] = {
        "6ba7b810-9dad-11d1-80b4-00c04fd430c",   /* 35 chars */
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8a", /* 37 chars */
        "6ba7b8109dad-11d1-80b4-00c04fd430c8a",  /* first dash missing (still 36) */
        "6ba7b810-9dad-11d1-80b4000c04fd430c8",  /* last dash replaced by a digit */
        "6ba7b810-9dad-11d1-80b4-00c04fd430cg",  /* non-hex */
        "6ba7b810-9dad-11d1-80b4-00c04fd430 8",  /* space */
        "6ba7b810-9dad-11d1-80b4--0c04fd430c8",  /* dash in a hex position */
        "{ba7b810-9dad-11d1-80b4-00c04fd430c}",  /* braces */
        "6ba7b810:9dad:11d1:80b4:00c04fd430c8",  /* wrong separator */
        "",
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(bad); i++) {
        uint8_t u[16];
        assert_int_equal(spate_uuid_parse(bad[i], strlen(bad[i]), u), SPATE_EINVAL);
    }
    /* The length is the one given, not strlen: a NUL inside is non-hex. */
    uint8_t u[16];
    assert_int_equal(spate_uuid_parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8", 35, u), SPATE_EINVAL);
    assert_int_equal(spate_uuid_parse("6ba7b810-9dad-11d1-80b4-00c04fd430\0"
                                      "8",
                                      36, u),
                     SPATE_EINVAL);
}

static void test_uuid_v5(void **state) {
    (void)state;
    /* Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org") */
    uint8_t u[16];
    char text[37];
    spate_uuid_v5(ns_dns, "python.org", 10, u);
    spate_uuid_format(u, text);
    assert_string_equal(text, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
    assert_int_equal(u[6] >> 4, 5);      /* version */
    assert_int_equal(u[8] & 0xC0, 0x80); /* RFC 4122 variant */
    /* Deterministic, and different names give different ids. */
    uint8_t u2[16];
    spate_uuid_v5(ns_dns, "python.org", 10, u2);
    assert_memory_equal(u, u2, 16);
    spate_uuid_v5(ns_dns, "python.orh", 10, u2);
    assert_memory_not_equal(u, u2, 16);
}

/* ------------------------------------------------------------------ */
/* Time                                                                */
/* ------------------------------------------------------------------ */

static void check_iso(int64_t ms, const char *want) {
    char out[25];
    memset(out, 'X', sizeof out);
    spate_time_iso8601(ms, out);
    assert_string_equal(out, want);
}

static void test_time_iso8601(void **state) {
    (void)state;
    /* Expected values from Python's datetime (UTC). */
    check_iso(0, "1970-01-01T00:00:00.000Z");
    check_iso(1, "1970-01-01T00:00:00.001Z");
    check_iso(-1, "1969-12-31T23:59:59.999Z");
    check_iso(-800000000000LL, "1944-08-25T17:46:40.000Z");
    check_iso(1653344189000LL, "2022-05-23T22:16:29.000Z");
    check_iso(951827696789LL, "2000-02-29T12:34:56.789Z"); /* leap day, century rule */
    check_iso(1709164800000LL, "2024-02-29T00:00:00.000Z");
    check_iso(-11670998400000LL, "1600-02-29T00:00:00.000Z");
    check_iso(-11670912000000LL + 12345, "1600-03-01T00:00:12.345Z");
    check_iso(-2208988800001LL, "1899-12-31T23:59:59.999Z");
    check_iso(253402300799000LL + 999, "9999-12-31T23:59:59.999Z");
}

static void test_time_years_between(void **state) {
    (void)state;
    const int64_t born = 642902400000LL;        /* 1990-05-17T00:00:00Z */
    const int64_t day_before = 1589587200000LL; /* 2020-05-16T00:00:00Z */
    const int64_t birthday = 1589673600000LL;   /* 2020-05-17T00:00:00Z */
    assert_int_equal(spate_time_years_between(born, day_before), 29);
    assert_int_equal(spate_time_years_between(born, birthday - 1), 29);
    assert_int_equal(spate_time_years_between(born, birthday), 30);
    assert_int_equal(spate_time_years_between(born, born), 0);

    /* Dates before 1970, on both sides of the epoch. */
    const int64_t b1950 = -626054400000LL;                               /* 1950-03-01 */
    assert_int_equal(spate_time_years_between(b1950, -86400000LL), 19);  /* 1969-12-31 */
    assert_int_equal(spate_time_years_between(b1950, 5011200000LL), 19); /* 1970-02-28 */
    assert_int_equal(spate_time_years_between(b1950, 5097600000LL), 20); /* 1970-03-01 */
    assert_int_equal(spate_time_years_between(-2208988800000LL, 0), 70); /* 1900 → 1970 */
    assert_int_equal(spate_time_years_between(-2208988801000LL, -2208988800000LL), 0);
}

static void test_time_clocks(void **state) {
    (void)state;
    int64_t w = spate_wall_ms();
    assert_true(w > 1577836800000LL); /* after 2020-01-01: the clock is in ms */
    int64_t a = spate_mono_ns();
    spate_sleep_ms(2);
    int64_t b = spate_mono_ns();
    assert_true(b - a >= 2000000); /* slept at least as asked */
    assert_true(spate_mono_ms() >= b / 1000000);
    spate_sleep_ms(0);
    spate_sleep_ms(-5); /* no-ops */
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */
/* ------------------------------------------------------------------ */

static void check_json(const char *in, size_t n, const char *want) {
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_buf_puts(&b, "x:"), SPATE_OK);
    assert_int_equal(spate_json_put_str(&b, in, n), SPATE_OK);
    assert_int_equal(b.len, 2 + strlen(want));
    assert_string_equal(b.data + 2, want);
    spate_buf_free(&b);
}

static void test_json_put_str(void **state) {
    (void)state;
    check_json("", 0, "\"\"");
    check_json("plain", 5, "\"plain\"");
    check_json("a\"b", 3, "\"a\\\"b\"");
    check_json("a\\b", 3, "\"a\\\\b\"");
    check_json("l1\nl2\tx\r", 8, "\"l1\\nl2\\tx\\r\"");
    check_json("\b\f", 2, "\"\\b\\f\"");
    check_json("\x01", 1, "\"\\u0001\"");
    check_json("\x1f\x0b", 2, "\"\\u001f\\u000b\"");
    check_json("/", 1, "\"/\"");       /* no need to escape the solidus */
    check_json("\x7f", 1, "\"\x7f\""); /* DEL is allowed raw in JSON */
    /* UTF-8 passes through byte for byte. */
    static const char utf8[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    check_json(utf8, sizeof utf8 - 1, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    /* An embedded NUL with an explicit length is escaped, not a stop. */
    check_json("a\0b", 3, "\"a\\u0000b\"");
}

static void test_json_every_control_byte(void **state) {
    (void)state;
    /* Every byte below 0x20 must come out escaped (never raw). */
    for (int c = 0; c < 0x20; c++) {
        char in = (char)c;
        spate_buf_t b = SPATE_BUF_INIT;
        assert_int_equal(spate_json_put_str(&b, &in, 1), SPATE_OK);
        assert_true(b.len == 4 || b.len == 8); /* "\n" or "\u00XX" quoted */
        assert_int_equal(b.data[1], '\\');
        for (size_t i = 0; i < b.len; i++) assert_true((unsigned char)b.data[i] >= 0x20);
        spate_buf_free(&b);
    }
    /* Long input: worst-case growth. */
    char big[5000];
    memset(big, 1, sizeof big);
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_json_put_str(&b, big, sizeof big), SPATE_OK);
    assert_int_equal(b.len, 2 + 6 * sizeof big);
    assert_int_equal(b.data[b.len], '\0');
    spate_buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Logging                                                             */
/* ------------------------------------------------------------------ */

static void test_log_level_parse(void **state) {
    (void)state;
    static const struct {
        const char *name;
        spate_log_level_t lvl;
    } ok[] = {{"debug", SPATE_LOG_DEBUG},
              {"info", SPATE_LOG_INFO},
              {"warn", SPATE_LOG_WARN},
              {"error", SPATE_LOG_ERROR},
              {"off", SPATE_LOG_OFF}};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(ok); i++) {
        spate_log_level_t l = (spate_log_level_t)-1;
        assert_int_equal(spate_log_level_parse(ok[i].name, &l), SPATE_OK);
        assert_int_equal(l, ok[i].lvl);
    }
    static const char *const bad[] = {"", "verbose", "inf", "infos", "warning", " info"};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(bad); i++) {
        spate_log_level_t l = SPATE_LOG_ERROR;
        assert_int_equal(spate_log_level_parse(bad[i], &l), SPATE_EINVAL);
        assert_int_equal(l, SPATE_LOG_ERROR); /* untouched */
    }
}

/* Reads a whole small file into a malloc'd NUL-terminated string. */
static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *s = malloc(65536);
    assert_non_null(s);
    size_t n = fread(s, 1, 65535, f);
    fclose(f);
    s[n] = '\0';
    if (len) *len = n;
    return s;
}

static size_t count_lines(const char *s) {
    size_t n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static void test_log_to_file(void **state) {
    (void)state;
    char path[] = "/tmp/spate_test_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    spate_log_level_t saved = spate_log_get_level();

    assert_int_equal(spate_log_set_file(path), SPATE_OK);
    spate_log_set_level(SPATE_LOG_WARN);
    assert_int_equal(spate_log_get_level(), SPATE_LOG_WARN);
    assert_false(SPATE_LOG_DEBUG_ON());
    spate_log(SPATE_LOG_DEBUG, "unit", "debug line %d", 1);
    spate_log(SPATE_LOG_INFO, "unit", "info line %d", 2);
    spate_log(SPATE_LOG_WARN, "unit", "warn line %d", 3);
    spate_log(SPATE_LOG_ERROR, "other", "error line %s", "four");
    spate_log(SPATE_LOG_OFF, "unit", "never written");
    spate_log(SPATE_LOG_ERROR, NULL, "no component");

    size_t len;
    char *s = slurp(path, &len);
    assert_int_equal(count_lines(s), 3);
    assert_null(strstr(s, "debug line"));
    assert_null(strstr(s, "info line"));
    assert_null(strstr(s, "never written"));
    /* "2026-11-24T07:01:02.345Z WARN  unit: warn line 3" */
    char *l1 = s;
    assert_int_equal(l1[4], '-');
    assert_int_equal(l1[10], 'T');
    assert_int_equal(l1[23], 'Z');
    assert_int_equal(l1[24], ' ');
    assert_memory_equal(l1 + 25, "WARN  unit: warn line 3\n", 24);
    char *l2 = strchr(l1, '\n') + 1;
    assert_memory_equal(l2 + 25, "ERROR other: error line four\n", 29);
    char *l3 = strchr(l2, '\n') + 1;
    assert_memory_equal(l3 + 25, "ERROR spate: no component\n", 26);
    free(s);

    /* Appends; debug turns on at debug level. */
    spate_log_set_level(SPATE_LOG_DEBUG);
    assert_true(SPATE_LOG_DEBUG_ON());
    spate_log(SPATE_LOG_DEBUG, "unit", "now visible");
    /* A message longer than a line is cut and marked, still one line. */
    char longmsg[5000];
    memset(longmsg, 'm', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = '\0';
    spate_log(SPATE_LOG_INFO, "unit", "%s", longmsg);
    s = slurp(path, &len);
    assert_int_equal(count_lines(s), 5);
    char *l4 = strstr(s, "DEBUG unit: now visible\n");
    assert_non_null(l4);
    char *l5 = strchr(l4, '\n') + 1;
    size_t l5len = strlen(l5);
    assert_true(l5len <= 2048);
    assert_memory_equal(l5 + l5len - 4, "...\n", 4);
    free(s);

    /* Back to stderr: the file is closed and gets nothing more. */
    assert_int_equal(spate_log_set_file(NULL), SPATE_OK);
    spate_log_set_level(SPATE_LOG_OFF);
    spate_log(SPATE_LOG_ERROR, "unit", "to nowhere");
    s = slurp(path, &len);
    assert_int_equal(count_lines(s), 5);
    free(s);

    assert_int_equal(spate_log_set_file("/nonexistent-dir/spate/x.log"), SPATE_EIO);
    spate_log_set_level(saved);
    unlink(path);
}

static void test_log_long_component(void **state) {
    (void)state;
    /* base_log.c spate_vlog: when the prefix alone (timestamp, level,
     * component) is longer than the 2048-byte line buffer, `sizeof line -
     * len` wraps around and vsnprintf writes past the stack buffer (ASan:
     * stack-buffer-overflow for components of ~2020 bytes and more). */
    static const size_t lens[] = {2000, 2020, 2047, 2048, 2049, 2100, 2500, 3000};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(lens); i++) {
        char path[] = "/tmp/spate_test_log_XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        spate_log_level_t saved = spate_log_get_level();
        assert_int_equal(spate_log_set_file(path), SPATE_OK);
        spate_log_set_level(SPATE_LOG_INFO);
        char *comp = malloc(lens[i] + 1);
        assert_non_null(comp);
        memset(comp, 'c', lens[i]);
        comp[lens[i]] = '\0';
        spate_log(SPATE_LOG_WARN, comp, "message %d", 42);
        free(comp);
        assert_int_equal(spate_log_set_file(NULL), SPATE_OK);
        spate_log_set_level(saved);
        /* Still exactly one line, no longer than the line buffer. */
        char *s = slurp(path, NULL);
        assert_int_equal(count_lines(s), 1);
        assert_true(strlen(s) <= 2048);
        assert_int_equal(s[strlen(s) - 1], '\n');
        free(s);
        unlink(path);
    }
}

/* ------------------------------------------------------------------ */
/* Number parsing                                                      */
/* ------------------------------------------------------------------ */

static void test_parse_i64(void **state) {
    (void)state;
    int64_t v = 0;
    assert_int_equal(spate_parse_i64("42", 0, 100, &v), SPATE_OK);
    assert_int_equal(v, 42);
    assert_int_equal(spate_parse_i64("-42", -100, 100, &v), SPATE_OK);
    assert_int_equal(v, -42);
    assert_int_equal(spate_parse_i64("0", 0, 0, &v), SPATE_OK);
    assert_int_equal(v, 0);
    assert_int_equal(spate_parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &v), SPATE_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(spate_parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), SPATE_OK);
    assert_true(v == INT64_MIN);
    assert_int_equal(spate_parse_i64("100", 0, 100, &v), SPATE_OK); /* bounds inclusive */

    v = 7;
    static const char *const bad[] = {"",     "abc",  "42x", "4 2", "42 ", " 42",
                                      "\t42", "0x10", "1.5", "-",   "+",   "1e3"};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(bad); i++)
        assert_int_equal(spate_parse_i64(bad[i], INT64_MIN, INT64_MAX, &v), SPATE_EINVAL);
    assert_int_equal(spate_parse_i64(NULL, 0, 1, &v), SPATE_EINVAL);
    assert_int_equal(spate_parse_i64("101", 0, 100, &v), SPATE_ERANGE);
    assert_int_equal(spate_parse_i64("-1", 0, 100, &v), SPATE_ERANGE);
    assert_int_equal(spate_parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &v),
                     SPATE_ERANGE);
    assert_int_equal(spate_parse_i64("-9223372036854775809", INT64_MIN, INT64_MAX, &v),
                     SPATE_ERANGE);
    assert_int_equal(spate_parse_i64("99999999999999999999999", 0, 10, &v), SPATE_ERANGE);
    assert_int_equal(v, 7); /* untouched by every failure */
}

static void test_parse_i64_other_leading_space(void **state) {
    (void)state;
    /* base_conf.c spate_parse_i64 rejects a leading ' ' or '\t' but lets
     * strtoll skip the other isspace() bytes, so "\n42" parses as 42
     * (query "results=%0A5" → 5, while "results=%205" → 1). */
    int64_t v = 7;
    double d = 7;
    static const char *const bad[] = {"\n42", "\r42", "\v42", "\f42"};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(bad); i++) {
        assert_int_equal(spate_parse_i64(bad[i], 0, 100, &v), SPATE_EINVAL);
        assert_int_equal(spate_parse_double(bad[i], &d), SPATE_EINVAL);
    }
}

static void test_parse_double(void **state) {
    (void)state;
    double d = 0;
    assert_int_equal(spate_parse_double("1.5", &d), SPATE_OK);
    assert_true(d == 1.5);
    assert_int_equal(spate_parse_double("-2e3", &d), SPATE_OK);
    assert_true(d == -2000.0);
    assert_int_equal(spate_parse_double("0", &d), SPATE_OK);
    assert_true(d == 0.0);
    assert_int_equal(spate_parse_double(".25", &d), SPATE_OK);
    assert_true(d == 0.25);
    assert_int_equal(spate_parse_double("7", &d), SPATE_OK);
    assert_true(d == 7.0);

    d = 3.0;
    static const char *const bad[] = {"",       "abc", "1.5x", " 1.5", "\t1.5",    "1.5 ", "1e999",
                                      "-1e999", "nan", "inf",  "-inf", "Infinity", "1,5",  "e5"};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(bad); i++)
        assert_int_equal(spate_parse_double(bad[i], &d), SPATE_EINVAL);
    assert_int_equal(spate_parse_double(NULL, &d), SPATE_EINVAL);
    assert_true(d == 3.0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_check_value),
        cmocka_unit_test(test_crc32c_rfc3720),
        cmocka_unit_test(test_crc32c_incremental),
        cmocka_unit_test(test_crc32c_hw_matches_sw),
        cmocka_unit_test(test_hash_abc),
        cmocka_unit_test(test_uuid_format_parse),
        cmocka_unit_test(test_uuid_parse_rejects),
        cmocka_unit_test(test_uuid_v5),
        cmocka_unit_test(test_time_iso8601),
        cmocka_unit_test(test_time_years_between),
        cmocka_unit_test(test_time_clocks),
        cmocka_unit_test(test_json_put_str),
        cmocka_unit_test(test_json_every_control_byte),
        cmocka_unit_test(test_log_level_parse),
        cmocka_unit_test(test_log_to_file),
        cmocka_unit_test(test_log_long_component),
        cmocka_unit_test(test_parse_i64),
        cmocka_unit_test(test_parse_i64_other_leading_space),
        cmocka_unit_test(test_parse_double),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
