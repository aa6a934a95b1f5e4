/*
 * test_format_user.c — the randomuser result → pipeline record mapping.
 *
 * The expected ids were computed independently with Python:
 *   uuid.uuid5(uuid.NAMESPACE_URL, "urn:spate:user:" + login_uuid)
 * so these tests pin the id scheme that downstream stores dedup on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "source.h"

#include <stdio.h>
#include <string.h>

#define LOGIN_UUID "1f6a1e5c-7d3b-4a8e-9c2f-0b5d6e7f8a91"
/* uuid.uuid5(uuid.NAMESPACE_URL, "urn:spate:user:" LOGIN_UUID) */
#define EXPECTED_ID "35f27995-5ac0-5807-b8b6-0246c45d22bd"

/* A realistic v1.4 result; the %s holes are first name, street number,
 * postcode and the login.uuid member (with its trailing comma), as JSON. */
static const char user_tmpl[] =
    "{\"gender\":\"female\","
    "\"name\":{\"title\":\"Ms\",\"first\":%s,\"last\":\"Woods\"},"
    "\"location\":{\"street\":{\"number\":%s,\"name\":\"Henry Street\"},"
    "\"city\":\"Blessington\",\"state\":\"Wexford\",\"country\":\"Ireland\",\"postcode\":%s,"
    "\"coordinates\":{\"latitude\":\"-69.8246\",\"longitude\":\"134.8719\"},"
    "\"timezone\":{\"offset\":\"+9:30\",\"description\":\"Adelaide, Darwin\"}},"
    "\"email\":\"laura.woods@example.com\","
    "\"login\":{%s\"username\":\"angryostrich988\",\"password\":\"hello\",\"salt\":\"Ab3dEf9h\","
    "\"md5\":\"0c2a5a7e62d3c7c0b5d2e0b0c7b6a1f2\","
    "\"sha1\":\"5d41402abc4b2a76b9719d911017c592aaaaaaaa\","
    "\"sha256\":\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\"},"
    "\"dob\":{\"date\":\"1992-03-08T15:13:16.688Z\",\"age\":33},"
    "\"registered\":{\"date\":\"2007-07-09T05:51:59.390Z\",\"age\":18},"
    "\"phone\":\"071-123-4567\",\"cell\":\"081-765-4321\","
    "\"id\":{\"name\":\"PPS\",\"value\":\"1234567T\"},"
    "\"picture\":{\"large\":\"https://randomuser.me/api/portraits/women/75.jpg\","
    "\"medium\":\"https://randomuser.me/api/portraits/med/women/75.jpg\","
    "\"thumbnail\":\"https://randomuser.me/api/portraits/thumb/women/75.jpg\"},"
    "\"nat\":\"IE\"}";

#define UUID_MEMBER "\"uuid\":\"" LOGIN_UUID "\","

/* The expected record, with holes for first_name, the street number and
 * post_code (already JSON-escaped, without quotes). */
static const char expect_tmpl[] =
    "{\"id\":\"" EXPECTED_ID "\",\"first_name\":\"%s\",\"last_name\":\"Woods\","
    "\"gender\":\"female\",\"address\":\"%s Henry Street, Blessington, Wexford, Ireland\","
    "\"post_code\":\"%s\",\"email\":\"laura.woods@example.com\","
    "\"username\":\"angryostrich988\",\"dob\":\"1992-03-08T15:13:16.688Z\","
    "\"registered_date\":\"2007-07-09T05:51:59.390Z\",\"phone\":\"071-123-4567\","
    "\"picture\":\"https://randomuser.me/api/portraits/med/women/75.jpg\"}";

static char *user_json(const char *first, const char *number, const char *postcode,
                       const char *uuid_member) {
    static char buf[8192];
    snprintf(buf, sizeof buf, user_tmpl, first, number, postcode, uuid_member);
    return buf;
}

static char *expected(const char *first, const char *number, const char *postcode) {
    static char buf[8192];
    snprintf(buf, sizeof buf, expect_tmpl, first, number, postcode);
    return buf;
}

/* Formats text into a fresh buffer and checks the exact output. */
static void check_ok(const char *json, const char *want) {
    spate_buf_t b = SPATE_BUF_INIT;
    char err[256] = "";
    spate_status_t st = spate_format_user_text(json, strlen(json), &b, err, sizeof err);
    if (st != SPATE_OK) fail_msg("format failed: %s: %s", spate_status_str(st), err);
    assert_string_equal(b.data, want);
    assert_int_equal(b.len, strlen(want));
    spate_buf_free(&b);
}

/* Expects EINVAL with `reason` in err, and the buffer left untouched. */
static void check_rejected(const char *json, const char *reason) {
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_buf_puts(&b, "previous record\n"), SPATE_OK);
    char err[256] = "";
    spate_status_t st = spate_format_user_text(json, strlen(json), &b, err, sizeof err);
    assert_int_equal(st, SPATE_EINVAL);
    if (!strstr(err, reason)) fail_msg("error '%s' does not mention '%s'", err, reason);
    assert_int_equal(b.len, strlen("previous record\n"));
    assert_string_equal(b.data, "previous record\n");
    spate_buf_free(&b);
}

static void test_full_result(void **state) {
    (void)state;
    check_ok(user_json("\"Laura\"", "2479", "78276", UUID_MEMBER),
             expected("Laura", "2479", "78276"));
}

static void test_appends_after_existing_content(void **state) {
    (void)state;
    const char *json = user_json("\"Laura\"", "2479", "78276", UUID_MEMBER);
    spate_buf_t b = SPATE_BUF_INIT;
    char err[256];
    assert_int_equal(spate_buf_puts(&b, "["), SPATE_OK);
    assert_int_equal(spate_format_user_text(json, strlen(json), &b, err, sizeof err), SPATE_OK);
    assert_int_equal(spate_buf_putc(&b, ','), SPATE_OK);
    assert_int_equal(spate_format_user_text(json, strlen(json), &b, err, sizeof err), SPATE_OK);
    spate_buf_t want = SPATE_BUF_INIT;
    const char *one = expected("Laura", "2479", "78276");
    assert_int_equal(spate_buf_printf(&want, "[%s,%s", one, one), SPATE_OK);
    assert_string_equal(b.data, want.data);
    spate_buf_free(&want);
    spate_buf_free(&b);
}

static void test_id_is_uuid5_of_login_uuid(void **state) {
    (void)state;
    /* Another login.uuid gives another id; the id depends on nothing else. */
    check_ok(user_json("\"Laura\"", "2479", "78276", "\"uuid\":\"x\","),
             "{\"id\":\"29173d67-9d70-5694-b498-9fd47f04acaf\",\"first_name\":\"Laura\","
             "\"last_name\":\"Woods\",\"gender\":\"female\","
             "\"address\":\"2479 Henry Street, Blessington, Wexford, Ireland\","
             "\"post_code\":\"78276\",\"email\":\"laura.woods@example.com\","
             "\"username\":\"angryostrich988\",\"dob\":\"1992-03-08T15:13:16.688Z\","
             "\"registered_date\":\"2007-07-09T05:51:59.390Z\",\"phone\":\"071-123-4567\","
             "\"picture\":\"https://randomuser.me/api/portraits/med/women/75.jpg\"}");
    /* The namespace is RFC 4122 NAMESPACE_URL. */
    char ns[37];
    spate_uuid_format(spate_user_id_namespace, ns);
    assert_string_equal(ns, "6ba7b811-9dad-11d1-80b4-00c04fd430c8");
}

static void test_postcode_integer_becomes_string(void **state) {
    (void)state;
    check_ok(user_json("\"Laura\"", "2479", "200", UUID_MEMBER), expected("Laura", "2479", "200"));
    check_ok(user_json("\"Laura\"", "2479", "0", UUID_MEMBER), expected("Laura", "2479", "0"));
}

static void test_postcode_string_kept(void **state) {
    (void)state;
    check_ok(user_json("\"Laura\"", "2479", "\"K5 7JA\"", UUID_MEMBER),
             expected("Laura", "2479", "K5 7JA"));
    /* A leading zero survives only because a string stays a string. */
    check_ok(user_json("\"Laura\"", "2479", "\"0150\"", UUID_MEMBER),
             expected("Laura", "2479", "0150"));
}

static void test_postcode_other_types_rejected(void **state) {
    (void)state;
    check_rejected(user_json("\"Laura\"", "2479", "78276.5", UUID_MEMBER), "location.postcode");
    check_rejected(user_json("\"Laura\"", "2479", "null", UUID_MEMBER), "location.postcode");
    check_rejected(user_json("\"Laura\"", "2479", "[1]", UUID_MEMBER), "location.postcode");
}

static void test_street_number_as_string(void **state) {
    (void)state;
    check_ok(user_json("\"Laura\"", "\"12B\"", "78276", UUID_MEMBER),
             expected("Laura", "12B", "78276"));
    check_rejected(user_json("\"Laura\"", "true", "78276", UUID_MEMBER),
                   "location.street.number: expected a string or an integer");
}

static void test_missing_login_uuid(void **state) {
    (void)state;
    check_rejected(user_json("\"Laura\"", "2479", "78276", ""), "missing login.uuid");
    /* login.uuid must be a string, not a number or null */
    check_rejected(user_json("\"Laura\"", "2479", "78276", "\"uuid\":42,"),
                   "login.uuid: expected a string");
    check_rejected(user_json("\"Laura\"", "2479", "78276", "\"uuid\":null,"),
                   "login.uuid: expected a string, got null");
}

static void test_wrong_types(void **state) {
    (void)state;
    check_rejected(user_json("7", "2479", "78276", UUID_MEMBER),
                   "name.first: expected a string, got an integer");
    /* An intermediate object of the wrong type is named as such. With a
     * duplicate key jansson keeps the last value, so this replaces location
     * with a string. */
    const char *j = user_json("\"Laura\"", "2479", "78276", UUID_MEMBER);
    char buf[8192];
    snprintf(buf, sizeof buf, "%.*s,\"location\":\"nowhere\"}", (int)(strlen(j) - 1), j);
    check_rejected(buf, "location: expected an object, got a string");
}

/* Every field the record needs, removed one at a time, is named. */
static void test_each_required_field(void **state) {
    (void)state;
    static const char *const paths[][3] = {
        {"login", "uuid", NULL},
        {"name", "first", NULL},
        {"name", "last", NULL},
        {"gender", NULL, NULL},
        {"location", "street", "number"},
        {"location", "street", "name"},
        {"location", "city", NULL},
        {"location", "state", NULL},
        {"location", "country", NULL},
        {"location", "postcode", NULL},
        {"email", NULL, NULL},
        {"login", "username", NULL},
        {"dob", "date", NULL},
        {"registered", "date", NULL},
        {"phone", NULL, NULL},
        {"picture", "medium", NULL},
    };
    const char *text = user_json("\"Laura\"", "2479", "78276", UUID_MEMBER);
    for (size_t i = 0; i < SPATE_ARRAY_LEN(paths); i++) {
        json_error_t jerr;
        json_t *root = json_loads(text, 0, &jerr);
        assert_non_null(root);
        json_t *parent = root;
        const char *leaf = paths[i][0];
        char dotted[64];
        snprintf(dotted, sizeof dotted, "%s", paths[i][0]);
        for (int k = 1; k < 3 && paths[i][k]; k++) {
            parent = json_object_get(parent, leaf);
            leaf = paths[i][k];
            size_t dl = strlen(dotted);
            snprintf(dotted + dl, sizeof dotted - dl, ".%s", leaf);
        }
        assert_int_equal(json_object_del(parent, leaf), 0);

        spate_buf_t b = SPATE_BUF_INIT;
        char err[256] = "", want[96];
        assert_int_equal(spate_format_user(root, &b, err, sizeof err), SPATE_EINVAL);
        snprintf(want, sizeof want, "missing %s", dotted);
        if (strcmp(err, want) != 0) fail_msg("removing %s: got '%s'", dotted, err);
        assert_int_equal(b.len, 0);
        spate_buf_free(&b);
        json_decref(root);
    }
}

static void test_non_object_input(void **state) {
    (void)state;
    check_rejected("[]", "expected an object, got an array");
    check_rejected("42", "expected an object, got an integer");
    check_rejected("\"user\"", "expected an object, got a string");
    check_rejected("null", "expected an object, got null");
    check_rejected("{}", "missing login.uuid");
    check_rejected("{\"login\":", "invalid JSON");
    check_rejected("", "invalid JSON");

    spate_buf_t b = SPATE_BUF_INIT;
    char err[128];
    assert_int_equal(spate_format_user(NULL, &b, err, sizeof err), SPATE_EINVAL);
    json_t *arr = json_array();
    assert_int_equal(spate_format_user(arr, &b, err, sizeof err), SPATE_EINVAL);
    json_decref(arr);
    /* err may be NULL when the caller does not want a reason */
    assert_int_equal(spate_format_user_text("[]", 2, &b, NULL, 0), SPATE_EINVAL);
    assert_int_equal(b.len, 0);
    spate_buf_free(&b);
}

static void test_unicode_passes_through(void **state) {
    (void)state;
    /* Raw UTF-8 and \u escapes in the input both come out as raw UTF-8. */
    check_ok(user_json("\"Zoë Ørsted 佐藤\"", "2479", "78276", UUID_MEMBER),
             expected("Zoë Ørsted 佐藤", "2479", "78276"));
    check_ok(user_json("\"Zo\\u00eb \\ud83d\\ude00\"", "2479", "78276", UUID_MEMBER),
             expected("Zoë 😀", "2479", "78276"));
}

static void test_escapes(void **state) {
    (void)state;
    /* name.first = a"b\c<U+0001>d<newline>e */
    check_ok(user_json("\"a\\\"b\\\\c\\u0001d\\ne\"", "2479", "78276", UUID_MEMBER),
             expected("a\\\"b\\\\c\\u0001d\\ne", "2479", "78276"));
    /* Escapes inside the composed address too, and the output is JSON that
     * parses back to the original text. */
    const char *j = user_json("\"Laura\"", "\"1\\\"2\\t\"", "78276", UUID_MEMBER);
    spate_buf_t b = SPATE_BUF_INIT;
    char err[256];
    assert_int_equal(spate_format_user_text(j, strlen(j), &b, err, sizeof err), SPATE_OK);
    json_error_t jerr;
    json_t *rec = json_loads(b.data, 0, &jerr);
    if (!rec) fail_msg("output is not JSON: %s: %s", jerr.text, b.data);
    assert_string_equal(json_string_value(json_object_get(rec, "address")),
                        "1\"2\t Henry Street, Blessington, Wexford, Ireland");
    assert_int_equal(json_object_size(rec), 12);
    json_decref(rec);
    spate_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_result),
        cmocka_unit_test(test_appends_after_existing_content),
        cmocka_unit_test(test_id_is_uuid5_of_login_uuid),
        cmocka_unit_test(test_postcode_integer_becomes_string),
        cmocka_unit_test(test_postcode_string_kept),
        cmocka_unit_test(test_postcode_other_types_rejected),
        cmocka_unit_test(test_street_number_as_string),
        cmocka_unit_test(test_missing_login_uuid),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_each_required_field),
        cmocka_unit_test(test_non_object_input),
        cmocka_unit_test(test_unicode_passes_through),
        cmocka_unit_test(test_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
