/*
 * test_cql_shell.c — how `spate cqlsh` cuts a script into statements
 * (cql_shell_split in src/cql/cql_shell.c): a ';' ends a statement except
 * inside '..' strings (with '' escapes), ".." identifiers, $$..$$ strings
 * and --, // and block comments, and a BEGIN BATCH runs to "APPLY BATCH;";
 * text without a complete statement gives 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "cql_shell.h"

static size_t split(const char *s) { return cql_shell_split(s, strlen(s)); }

static void test_plain(void **state) {
    (void)state;
    assert_int_equal(split("SELECT * FROM t;"), 16);
    assert_int_equal(split("USE ks; SELECT 1;"), 7);
    assert_int_equal(split("SELECT * FROM t"), 0);
    assert_int_equal(split(""), 0);
}

static void test_batch(void **state) {
    (void)state;
    const char *b = "BEGIN BATCH INSERT INTO t (a) VALUES (1); UPDATE t SET b = 'apply batch;' "
                    "WHERE a = 2; APPLY BATCH; SELECT 1;";
    assert_int_equal(split(b), strlen(b) - strlen(" SELECT 1;"));
    const char *u = "  -- a comment; BEGIN\n begin unlogged batch using timestamp 5 "
                    "delete from t where a = 1;\napply   batch  ;x;";
    assert_int_equal(split(u), strlen(u) - strlen("x;"));
    /* Not a batch: BEGIN only as the first word counts. */
    assert_int_equal(split("SELECT begin FROM t; x;"), strlen("SELECT begin FROM t;"));
    /* An unfinished batch is no complete statement yet. */
    assert_int_equal(split("BEGIN BATCH INSERT INTO t (a) VALUES (1);"), 0);
}

static void test_quotes(void **state) {
    (void)state;
    const char *s = "INSERT INTO t (a) VALUES ('x;y''z;'); next;";
    assert_int_equal(split(s), strlen("INSERT INTO t (a) VALUES ('x;y''z;');"));
    s = "SELECT \"we;ird\"\"name\" FROM t; x;";
    assert_int_equal(split(s), strlen("SELECT \"we;ird\"\"name\" FROM t;"));
    s = "INSERT INTO t (a) VALUES ($$a;b$$); x;";
    assert_int_equal(split(s), strlen("INSERT INTO t (a) VALUES ($$a;b$$);"));
    assert_int_equal(split("SELECT 'unterminated;"), 0); /* still inside the string */
}

static void test_comments(void **state) {
    (void)state;
    const char *s = "-- a; comment\nSELECT 1; // also; here\n";
    assert_int_equal(split(s), strlen("-- a; comment\nSELECT 1;"));
    s = "/* a; b */ SELECT 2;";
    assert_int_equal(split(s), strlen(s));
    assert_int_equal(split("// only a comment;"), 0);
    assert_int_equal(split("/* unterminated; "), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_comments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
