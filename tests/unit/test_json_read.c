/*
 * test_json_read.c — spate_json_loadb (source_json.c) against jansson's
 * json_loadb(…, JSON_DECODE_ANY, …) on inputs chosen at the edges of the
 * grammar: both must accept or refuse each, and build equal trees. Also
 * the values themselves for a few, and the error position. One known
 * difference: a raw NUL byte, which spate always refuses.
 * (fuzz/fuzz_json.c does the same on generated inputs.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "source.h"

#include <string.h>

static const struct {
    const char *text;
    size_t len; /* 0: strlen */
} cases[] = {
    {"{}", 0},
    {"[]", 0},
    {" \t\r\n{ } \n", 0},
    {"0", 0},
    {"-0", 0},
    {"-", 0},
    {"01", 0},
    {"1.", 0},
    {".5", 0},
    {"+1", 0},
    {"1e", 0},
    {"1e+", 0},
    {"1E-2", 0},
    {"1.25e3", 0},
    {"-1.5", 0},
    {"9223372036854775807", 0},
    {"-9223372036854775808", 0},
    {"9223372036854775808", 0},
    {"-9223372036854775809", 0},
    {"1e400", 0},
    {"-1e400", 0},
    {"1e-400", 0},
    {"123456789012345678901234567890.5", 0},
    {"0.1000000000000000055511151231257827021181583404541015625", 0},
    {"true", 0},
    {"tru", 0},
    {"false", 0},
    {"null", 0},
    {"nul", 0},
    {"True", 0},
    {"\"\"", 0},
    {"\"abc", 0},
    {"\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", 0},
    {"\"\\x\"", 0},
    {"\"\\u00e9\"", 0},
    {"\"\\u00E9\"", 0},
    {"\"\\u0000\"", 0},
    {"\"\\ud83d\\ude00\"", 0},
    {"\"\\ud83d\"", 0},
    {"\"\\ud83dx\"", 0},
    {"\"\\ud83d\\u0041\"", 0},
    {"\"\\ude00\"", 0},
    {"\"\\u12\"", 0},
    {"\"\\u12g4\"", 0},
    {"\"tab\there\"", 0},
    {"\"\xc3\xa9\"", 0},
    {"\"\xe2\x82\xac\"", 0},
    {"\"\xf0\x9f\x98\x80\"", 0},
    {"\"\xc0\xaf\"", 0},
    {"\"\xc3\"", 0},
    {"\"\xed\xa0\x80\"", 0},
    {"\"\xf4\x90\x80\x80\"", 0},
    {"\"\xe0\x80\xaf\"", 0},
    {"\"\xff\"", 0},
    {"\xc3\xa9", 0},
    {"\"a\0b\"", 5},
    {"1\0", 2},
    {"{\"a\":1,\"a\":2}", 0},
    {"{\"a\":1,}", 0},
    {"[1,]", 0},
    {"[1 2]", 0},
    {"{\"a\" 1}", 0},
    {"{1:2}", 0},
    {"{\"a\":}", 0},
    {"[", 0},
    {"{", 0},
    {"{\"a\"", 0},
    {"1 2", 0},
    {"", 0},
    {"   ", 0},
    {"[[[[]]]]", 0},
    {"{\"k\\u00e9y\":{\"n\":[1,{\"x\":null}]}}", 0},
    {"\"\\/\"", 0},
};

static void test_same_as_jansson(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = cases[i].len ? cases[i].len : strlen(cases[i].text);
        json_error_t je;
        json_t *want = json_loadb(cases[i].text, n, JSON_DECODE_ANY, &je);
        spate_json_error_t e;
        json_t *got = spate_json_loadb(cases[i].text, n, &e);
        if (memchr(cases[i].text, 0, n)) {
            /* A raw NUL is never valid JSON; jansson skips one that follows
             * a number or a literal (its reader takes a NUL for the end of
             * its look-ahead buffer), so "1\0" is accepted there. */
            assert_null(got);
            json_decref(want);
            continue;
        }
        if (!want != !got || (got && !json_equal(want, got)))
            fail_msg("case %zu (%s): jansson %s, spate %s (%s)", i, cases[i].text,
                     want ? "accepts" : "refuses", got ? "accepts" : "refuses", e.text);
        if (!got) assert_true(e.text[0] != '\0');
        json_decref(want);
        json_decref(got);
    }
}

/* 2048 nested values are allowed, 2049 are not (jansson's limit). */
static void test_depth(void **state) {
    (void)state;
    for (int depth = 2047; depth <= 2049; depth++) {
        char *t = malloc((size_t)depth * 2 + 1);
        for (int i = 0; i < depth; i++) t[i] = '[', t[depth + i] = ']';
        size_t n = (size_t)depth * 2;
        json_error_t je;
        json_t *want = json_loadb(t, n, JSON_DECODE_ANY, &je);
        json_t *got = spate_json_loadb(t, n, NULL);
        assert_int_equal(!want, !got);
        assert_int_equal(got != NULL, depth <= 2048);
        json_decref(want);
        json_decref(got);
        free(t);
    }
}

static void test_values(void **state) {
    (void)state;
    const char *t = "{\"s\":\"a\\u00e9\\ud83d\\ude00\",\"i\":-9223372036854775808,\"r\":2.5,"
                    "\"a\":[true,null],\"d\":1,\"d\":2}";
    json_t *v = spate_json_loadb(t, strlen(t), NULL);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "s")), "a\xc3\xa9\xf0\x9f\x98\x80");
    assert_true(json_is_integer(json_object_get(v, "i")));
    assert_true(json_integer_value(json_object_get(v, "i")) == INT64_MIN);
    assert_true(json_is_real(json_object_get(v, "r")));
    assert_true(json_real_value(json_object_get(v, "r")) == 2.5);
    assert_int_equal(json_array_size(json_object_get(v, "a")), 2);
    assert_int_equal(json_integer_value(json_object_get(v, "d")), 2); /* the last one wins */
    assert_int_equal(json_object_size(v), 5);
    json_decref(v);
}

static void test_error_position(void **state) {
    (void)state;
    const char *t = "{\"a\": 1,\n  \"b\": tru}";
    spate_json_error_t e;
    assert_null(spate_json_loadb(t, strlen(t), &e));
    assert_int_equal(e.line, 2);
    assert_int_equal(e.column, 8);
    assert_int_equal(e.position, 16);
    assert_string_equal(e.text, "invalid token");
    assert_null(spate_json_loadb("[1,", 3, &e));
    assert_non_null(strstr(e.text, "end of input"));
    assert_null(spate_json_loadb(NULL, 0, &e));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_jansson),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_error_position),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
