/*
 * test_base_buf.c — unit tests of spate_buf_* and spate_status_str
 * (src/base/base_buf.c). A spate_buf_t promises that after every
 * operation data[len] is a NUL (so built text is a C string), that growth
 * keeps earlier bytes, that reset keeps the allocation, and that detach
 * hands over the memory (an allocated "" for a buffer that never grew).
 * These tests check each promise on the paths that differ inside the
 * implementation: printf output shorter and longer than its 256-byte
 * stack scratch, put_i64 at both ends of int64, and growth across many
 * doublings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"

/* The buffer invariant every operation must keep. */
static void assert_buf_ok(const spate_buf_t *b) {
    if (b->data == NULL) {
        assert_int_equal(b->len, 0);
        assert_int_equal(b->cap, 0);
        return;
    }
    assert_true(b->len < b->cap);
    assert_int_equal(b->data[b->len], '\0');
}

static void test_status_str(void **state) {
    (void)state;
    static const struct {
        spate_status_t st;
        const char *name;
    } cases[] = {{SPATE_OK, "OK"},         {SPATE_ERR, "ERR"},       {SPATE_AGAIN, "AGAIN"},
                 {SPATE_ENOMEM, "ENOMEM"}, {SPATE_EINVAL, "EINVAL"}, {SPATE_ENOENT, "ENOENT"},
                 {SPATE_ERANGE, "ERANGE"}, {SPATE_EIO, "EIO"},       {SPATE_ETIMEDOUT, "ETIMEDOUT"},
                 {SPATE_EEXIST, "EEXIST"}};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(cases); i++)
        assert_string_equal(spate_status_str(cases[i].st), cases[i].name);
    /* A value outside the enum (a corrupted status) still gives a string. */
    assert_string_equal(spate_status_str((spate_status_t)42), "UNKNOWN");
}

static void test_zero_init_is_empty(void **state) {
    (void)state;
    spate_buf_t b = SPATE_BUF_INIT;
    assert_buf_ok(&b);
    spate_buf_reset(&b); /* must not touch a NULL data pointer */
    assert_buf_ok(&b);
    spate_buf_free(&b);
    assert_null(b.data);
}

static void test_append_and_puts(void **state) {
    (void)state;
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_buf_append(&b, "abc", 3), SPATE_OK);
    assert_buf_ok(&b);
    assert_string_equal(b.data, "abc");
    assert_int_equal(spate_buf_append(&b, NULL, 0), SPATE_OK);
    assert_buf_ok(&b);
    assert_int_equal(b.len, 3);
    assert_int_equal(spate_buf_puts(&b, "def"), SPATE_OK);
    assert_buf_ok(&b);
    assert_int_equal(spate_buf_putc(&b, 'g'), SPATE_OK);
    assert_buf_ok(&b);
    assert_string_equal(b.data, "abcdefg");
    assert_int_equal(b.len, 7);
    /* Binary data with embedded NULs is kept byte for byte. */
    assert_int_equal(spate_buf_append(&b, "\0x\0", 3), SPATE_OK);
    assert_buf_ok(&b);
    assert_int_equal(b.len, 10);
    assert_memory_equal(b.data, "abcdefg\0x\0", 11);
    spate_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
}

static void test_append_empty_allocates_terminator(void **state) {
    (void)state;
    /* Appending nothing to a fresh buffer still yields a usable C string. */
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_buf_append(&b, "", 0), SPATE_OK);
    assert_non_null(b.data);
    assert_buf_ok(&b);
    assert_string_equal(b.data, "");
    spate_buf_free(&b);
}

static void test_growth_keeps_content(void **state) {
    (void)state;
    spate_buf_t b = SPATE_BUF_INIT;
    /* 100000 single bytes cross many doublings; each step keeps the NUL. */
    for (int i = 0; i < 100000; i++) {
        assert_int_equal(spate_buf_putc(&b, (char)('a' + i % 26)), SPATE_OK);
        assert_buf_ok(&b);
    }
    assert_int_equal(b.len, 100000);
    for (int i = 0; i < 100000; i++) assert_int_equal(b.data[i], 'a' + i % 26);
    spate_buf_free(&b);
}

static void test_reserve_and_put_fast(void **state) {
    (void)state;
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_buf_reserve(&b, 1000), SPATE_OK);
    assert_true(b.cap >= 1001); /* room for the bytes and the NUL */
    size_t cap = b.cap;
    char *data = b.data;
    for (int i = 0; i < 1000; i++) spate_buf_put_fast(&b, "z", 1);
    assert_int_equal(b.len, 1000);
    assert_int_equal(b.cap, cap);
    assert_ptr_equal(b.data, data); /* no reallocation behind the caller's back */
    /* put_fast is unchecked and does not write the NUL itself; the room
     * for it is there, so the next checked append restores it. */
    assert_int_equal(spate_buf_putc(&b, '!'), SPATE_OK);
    assert_buf_ok(&b);
    assert_int_equal(b.data[999], 'z');
    assert_int_equal(b.data[1000], '!');
    /* An impossible reservation is refused, not wrapped around. */
    assert_int_equal(spate_buf_reserve(&b, SIZE_MAX), SPATE_ENOMEM);
    assert_int_equal(spate_buf_reserve(&b, SIZE_MAX - b.len), SPATE_ENOMEM);
    assert_int_equal(b.len, 1001);
    assert_buf_ok(&b);
    spate_buf_free(&b);
}

static void test_printf_short(void **state) {
    (void)state;
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_buf_printf(&b, "%s=%d", "x", 42), SPATE_OK);
    assert_buf_ok(&b);
    assert_string_equal(b.data, "x=42");
    assert_int_equal(spate_buf_printf(&b, "%s", ""), SPATE_OK);
    assert_buf_ok(&b);
    assert_int_equal(b.len, 4);
    assert_int_equal(spate_buf_printf(&b, ",%05.1f", 2.25), SPATE_OK);
    assert_buf_ok(&b);
    assert_string_equal(b.data, "x=42,002.2");
    spate_buf_free(&b);
}

/* Output of exactly n bytes, around the 256-byte scratch buffer inside
 * spate_buf_vprintf, appended after an existing prefix. */
static void check_printf_len(size_t n) {
    spate_buf_t b = SPATE_BUF_INIT;
    char *s = malloc(n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++) s[i] = (char)('A' + i % 23);
    s[n] = '\0';
    assert_int_equal(spate_buf_puts(&b, "pre:"), SPATE_OK);
    assert_int_equal(spate_buf_printf(&b, "%s|%d", s, 7), SPATE_OK);
    assert_buf_ok(&b);
    assert_int_equal(b.len, 4 + n + 2);
    assert_memory_equal(b.data, "pre:", 4);
    assert_memory_equal(b.data + 4, s, n);
    assert_string_equal(b.data + 4 + n, "|7");
    free(s);
    spate_buf_free(&b);
}

static void test_printf_long(void **state) {
    (void)state;
    static const size_t lens[] = {0, 1, 252, 253, 254, 255, 256, 257, 300, 1000, 5000, 70000};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(lens); i++) check_printf_len(lens[i]);
}

static spate_status_t call_vprintf(spate_buf_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    spate_status_t st = spate_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return st;
}

static void test_vprintf_long(void **state) {
    (void)state;
    /* The long path formats twice from one va_list (copy then original). */
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(call_vprintf(&b, "%0300d%s", 5, "end"), SPATE_OK);
    assert_buf_ok(&b);
    assert_int_equal(b.len, 303);
    assert_int_equal(b.data[0], '0');
    assert_string_equal(b.data + 299, "5end");
    spate_buf_free(&b);
}

static void check_i64(int64_t v, const char *want) {
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_buf_putc(&b, '['), SPATE_OK);
    assert_int_equal(spate_buf_put_i64(&b, v), SPATE_OK);
    assert_int_equal(spate_buf_putc(&b, ']'), SPATE_OK);
    assert_buf_ok(&b);
    char expect[32];
    snprintf(expect, sizeof expect, "[%s]", want);
    assert_string_equal(b.data, expect);
    spate_buf_free(&b);
}

static void test_put_i64(void **state) {
    (void)state;
    check_i64(0, "0");
    check_i64(1, "1");
    check_i64(-1, "-1");
    check_i64(9, "9");
    check_i64(10, "10");
    check_i64(-10, "-10");
    check_i64(1234567890123LL, "1234567890123");
    check_i64(INT32_MIN, "-2147483648");
    check_i64(INT64_MAX, "9223372036854775807");
    check_i64(INT64_MIN, "-9223372036854775808");
    check_i64(INT64_MIN + 1, "-9223372036854775807");
    /* Agrees with printf on a spread of values. */
    for (int64_t v = -1000003; v <= 1000003; v += 7919) {
        char want[32];
        snprintf(want, sizeof want, "%" PRId64, v);
        check_i64(v, want);
    }
}

static void test_reset_keeps_memory(void **state) {
    (void)state;
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_buf_puts(&b, "some text to hold"), SPATE_OK);
    char *data = b.data;
    size_t cap = b.cap;
    spate_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.cap, cap);
    assert_buf_ok(&b);
    assert_string_equal(b.data, "");
    assert_int_equal(spate_buf_puts(&b, "new"), SPATE_OK);
    assert_ptr_equal(b.data, data);
    assert_string_equal(b.data, "new");
    spate_buf_free(&b);
}

static void test_detach(void **state) {
    (void)state;
    /* A buffer that never allocated hands back an allocated "". */
    spate_buf_t b = SPATE_BUF_INIT;
    size_t len = 99;
    char *s = spate_buf_detach(&b, &len);
    assert_non_null(s);
    assert_int_equal(len, 0);
    assert_string_equal(s, "");
    free(s);
    s = spate_buf_detach(&b, NULL); /* len may be NULL */
    assert_non_null(s);
    free(s);

    /* A filled buffer hands over its own memory and is left empty. */
    assert_int_equal(spate_buf_puts(&b, "hello"), SPATE_OK);
    char *data = b.data;
    s = spate_buf_detach(&b, &len);
    assert_ptr_equal(s, data);
    assert_int_equal(len, 5);
    assert_string_equal(s, "hello");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    free(s);

    /* Reset then detach: allocated memory holding "". */
    assert_int_equal(spate_buf_puts(&b, "x"), SPATE_OK);
    spate_buf_reset(&b);
    s = spate_buf_detach(&b, &len);
    assert_int_equal(len, 0);
    assert_string_equal(s, "");
    free(s);

    /* The detached buffer can be reused from scratch. */
    assert_int_equal(spate_buf_puts(&b, "again"), SPATE_OK);
    assert_buf_ok(&b);
    assert_string_equal(b.data, "again");
    spate_buf_free(&b);
}

static void test_xalloc(void **state) {
    (void)state;
    char *p = spate_xmalloc(0); /* size 0 still gives a freeable pointer */
    assert_non_null(p);
    free(p);
    int *z = spate_xcalloc(16, sizeof(int));
    for (int i = 0; i < 16; i++) assert_int_equal(z[i], 0);
    z = spate_xrealloc(z, 64 * sizeof(int));
    assert_int_equal(z[15], 0);
    free(z);
    char *d = spate_xstrdup("dup me");
    assert_string_equal(d, "dup me");
    free(d);
}

/* A fixed buffer writes into the caller's memory, refuses to grow, and is
 * left unchanged by an append that does not fit. */
static void test_fixed(void **state) {
    (void)state;
    char mem[8];
    memset(mem, 'x', sizeof mem);
    spate_buf_t b;
    spate_buf_init_fixed(&b, mem, sizeof mem);
    assert_true(b.fixed);
    assert_int_equal(b.len, 0);
    assert_int_equal(spate_buf_puts(&b, "abcd"), SPATE_OK);
    assert_ptr_equal(b.data, mem);
    assert_string_equal(mem, "abcd");
    assert_int_equal(spate_buf_puts(&b, "efg"), SPATE_OK); /* 7 bytes + NUL: full */
    assert_string_equal(mem, "abcdefg");
    assert_int_equal(spate_buf_putc(&b, 'h'), SPATE_ENOMEM);
    assert_int_equal(b.len, 7);
    assert_string_equal(mem, "abcdefg");
    assert_int_equal(spate_buf_printf(&b, "%s", "a long text that cannot fit"), SPATE_ENOMEM);
    assert_int_equal(b.len, 7);
    /* detach hands over a heap copy; free never frees the caller's memory */
    size_t len = 0;
    char *d = spate_buf_detach(&b, &len);
    assert_ptr_not_equal(d, mem);
    assert_int_equal(len, 7);
    assert_string_equal(d, "abcdefg");
    free(d);
    assert_null(b.data);
    assert_false(b.fixed);
    spate_buf_init_fixed(&b, mem, sizeof mem);
    spate_buf_free(&b); /* must not free stack memory (ASan/valgrind would say) */
    assert_null(b.data);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_str),
        cmocka_unit_test(test_zero_init_is_empty),
        cmocka_unit_test(test_append_and_puts),
        cmocka_unit_test(test_append_empty_allocates_terminator),
        cmocka_unit_test(test_growth_keeps_content),
        cmocka_unit_test(test_reserve_and_put_fast),
        cmocka_unit_test(test_printf_short),
        cmocka_unit_test(test_printf_long),
        cmocka_unit_test(test_vprintf_long),
        cmocka_unit_test(test_put_i64),
        cmocka_unit_test(test_reset_keeps_memory),
        cmocka_unit_test(test_detach),
        cmocka_unit_test(test_xalloc),
        cmocka_unit_test(test_fixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
