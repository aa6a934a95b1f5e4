/*
 * test_ru_params.c — unit tests of spate_ru_params_parse_query
 * (src/source/source_randomuser_params.c), which must read query strings
 * the way randomuser.me 1.4 does: a bad value never fails the request but
 * quietly becomes the default. Covered: results (1..5000) and page
 * (1..10000) with every kind of invalid value falling back to 1; nat lists
 * (case-insensitive codes, one unknown code meaning "all nationalities");
 * gender, which a seed overrides; inc/exc field lists alone and together;
 * format and its alias fmt; noinfo and dl; the password parameter (charset
 * names, "MIN-MAX" and "MAX" lengths, the 8-64 default, out-of-range
 * lengths keeping the default, no charset meaning the common-password
 * list); JSONP callbacks restricted to identifiers; and over-long values
 * (a 300-character seed, an over-long key) truncated safely.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "source.h"

static spate_ru_params_t parse(const char *q) {
    spate_ru_params_t p;
    memset(&p, 0xA5, sizeof p); /* parse_query must set every field */
    spate_ru_params_parse_query(&p, q, strlen(q));
    return p;
}

static uint32_t nat_bit(const char *code) {
    int i = spate_ru_nat_index(code, strlen(code));
    assert_true(i >= 0);
    return 1u << i;
}

static void test_defaults(void **state) {
    (void)state;
    spate_ru_params_t p = parse("");
    assert_int_equal(p.results, 1);
    assert_int_equal(p.page, 1);
    assert_string_equal(p.seed, "");
    assert_int_equal(p.nat_mask, 0);
    assert_int_equal(p.gender, 0);
    assert_int_equal(p.fields, SPATE_RU_F_ALL);
    assert_int_equal(p.format, SPATE_RU_FMT_JSON);
    assert_false(p.noinfo);
    assert_false(p.download);
    assert_int_equal(p.pw_charsets, 0);
    assert_string_equal(p.callback, "");
    /* Unknown keys are ignored. */
    spate_ru_params_t q = parse("foo=bar&x&=1");
    assert_memory_equal(&p, &q, sizeof p);
}

static void test_nat_table(void **state) {
    (void)state;
    assert_int_equal(spate_ru_nat_count(), 21);
    assert_string_equal(spate_ru_nat_code(0), "AU");
    assert_string_equal(spate_ru_nat_code(20), "US");
    for (int i = 0; i < spate_ru_nat_count(); i++) {
        const char *c = spate_ru_nat_code(i);
        assert_int_equal(spate_ru_nat_index(c, 2), i);
        char lower[3] = {(char)(c[0] | 0x20), (char)(c[1] | 0x20), 0};
        assert_int_equal(spate_ru_nat_index(lower, 2), i);
        if (i) assert_true(strcmp(spate_ru_nat_code(i - 1), c) < 0); /* alphabetical */
    }
    assert_int_equal(spate_ru_nat_index("XX", 2), -1);
    assert_int_equal(spate_ru_nat_index("USA", 3), -1);
    assert_int_equal(spate_ru_nat_index("U", 1), -1);
    assert_int_equal(spate_ru_nat_index("USx", 2), spate_ru_nat_index("US", 2)); /* length wins */
}

static void test_results(void **state) {
    (void)state;
    assert_int_equal(parse("results=1").results, 1);
    assert_int_equal(parse("results=10").results, 10);
    assert_int_equal(parse("results=5000").results, 5000);
    static const char *const bad[] = {"results=0",
                                      "results=-1",
                                      "results=5001",
                                      "results=abc",
                                      "results=2.5",
                                      "results=",
                                      "results",
                                      "results=1e3",
                                      "results=10abc",
                                      "results=+5000+",
                                      "results=99999999999999999999"};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(bad); i++) assert_int_equal(parse(bad[i]).results, 1);
    /* The last occurrence wins, as with Express. */
    assert_int_equal(parse("results=10&results=20").results, 20);
    assert_int_equal(parse("results=10&results=abc").results, 1);
    assert_int_equal(parse("results=%35%30").results, 50);
}

static void test_page(void **state) {
    (void)state;
    assert_int_equal(parse("page=1").page, 1);
    assert_int_equal(parse("page=3").page, 3);
    assert_int_equal(parse("page=10000").page, 10000);
    static const char *const bad[] = {"page=0",   "page=-1", "page=10001", "page=abc",
                                      "page=2.5", "page=",   "page"};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(bad); i++) assert_int_equal(parse(bad[i]).page, 1);
    spate_ru_params_t p = parse("page=7&results=30");
    assert_int_equal(p.page, 7);
    assert_int_equal(p.results, 30);
}

static void test_nat(void **state) {
    (void)state;
    assert_int_equal(parse("nat=us,GB").nat_mask, nat_bit("US") | nat_bit("GB"));
    assert_int_equal(parse("nat=US").nat_mask, nat_bit("US"));
    assert_int_equal(parse("nat=us").nat_mask, nat_bit("US"));
    assert_int_equal(parse("nat=Fr").nat_mask, nat_bit("FR"));
    assert_int_equal(parse("nationality=de").nat_mask, nat_bit("DE"));
    /* Spaces around items are trimmed, empty items skipped. */
    assert_int_equal(parse("nat=us,+gb").nat_mask, nat_bit("US") | nat_bit("GB"));
    assert_int_equal(parse("nat=us%2C%20gb").nat_mask, nat_bit("US") | nat_bit("GB"));
    assert_int_equal(parse("nat=,us,,").nat_mask, nat_bit("US"));
    /* One invalid code: all nationalities. */
    assert_int_equal(parse("nat=us,xx").nat_mask, 0);
    assert_int_equal(parse("nat=xx").nat_mask, 0);
    assert_int_equal(parse("nat=usa").nat_mask, 0);
    assert_int_equal(parse("nat=").nat_mask, 0);
    /* All 21 codes. */
    char q[128] = "nat=";
    for (int i = 0; i < spate_ru_nat_count(); i++) {
        if (i) strcat(q, ",");
        strcat(q, spate_ru_nat_code(i));
    }
    assert_int_equal(parse(q).nat_mask, (1u << spate_ru_nat_count()) - 1);
}

static void test_gender(void **state) {
    (void)state;
    assert_int_equal(parse("gender=male").gender, 1);
    assert_int_equal(parse("gender=female").gender, 2);
    assert_int_equal(parse("gender=FEMALE").gender, 2);
    assert_int_equal(parse("gender=other").gender, 0);
    assert_int_equal(parse("gender=").gender, 0);
    assert_int_equal(parse("gender=males").gender, 0);
    /* A seed makes gender ignored, whichever comes first. */
    spate_ru_params_t p = parse("gender=female&seed=abc");
    assert_int_equal(p.gender, 0);
    assert_string_equal(p.seed, "abc");
    assert_int_equal(parse("seed=abc&gender=male").gender, 0);
    /* An empty seed is no seed. */
    assert_int_equal(parse("seed=&gender=male").gender, 1);
}

static void test_inc_exc(void **state) {
    (void)state;
    assert_int_equal(parse("inc=name,email").fields, SPATE_RU_F_NAME | SPATE_RU_F_EMAIL);
    assert_int_equal(parse("inc=NAME,Email").fields, SPATE_RU_F_NAME | SPATE_RU_F_EMAIL);
    assert_int_equal(parse("inc=gender,name,location,email,login,dob,registered,phone,cell,id,"
                           "picture,nat")
                         .fields,
                     SPATE_RU_F_ALL);
    assert_int_equal(parse("exc=login").fields, SPATE_RU_F_ALL & ~SPATE_RU_F_LOGIN);
    assert_int_equal(parse("exc=login,id,picture").fields,
                     SPATE_RU_F_ALL & ~(SPATE_RU_F_LOGIN | SPATE_RU_F_ID | SPATE_RU_F_PICTURE));
    /* inc and exc together, in either order. */
    assert_int_equal(parse("inc=name,email,login&exc=login").fields,
                     SPATE_RU_F_NAME | SPATE_RU_F_EMAIL);
    assert_int_equal(parse("exc=login&inc=name,email,login").fields,
                     SPATE_RU_F_NAME | SPATE_RU_F_EMAIL);
    /* Unknown names are ignored; an inc with none known keeps everything. */
    assert_int_equal(parse("inc=name,bogus").fields, SPATE_RU_F_NAME);
    assert_int_equal(parse("inc=bogus").fields, SPATE_RU_F_ALL);
    assert_int_equal(parse("inc=").fields, SPATE_RU_F_ALL);
    assert_int_equal(parse("exc=bogus").fields, SPATE_RU_F_ALL);
    assert_int_equal(parse("inc=nam").fields, SPATE_RU_F_ALL); /* no prefix matching */
}

static void test_format(void **state) {
    (void)state;
    static const struct {
        const char *q;
        spate_ru_format_t f;
    } cases[] = {{"format=json", SPATE_RU_FMT_JSON},
                 {"format=pretty", SPATE_RU_FMT_PRETTY},
                 {"format=prettyjson", SPATE_RU_FMT_PRETTY},
                 {"format=csv", SPATE_RU_FMT_CSV},
                 {"format=yaml", SPATE_RU_FMT_YAML},
                 {"format=xml", SPATE_RU_FMT_XML},
                 {"format=XML", SPATE_RU_FMT_XML},
                 {"format=unknown", SPATE_RU_FMT_JSON},
                 {"format=", SPATE_RU_FMT_JSON},
                 {"fmt=csv", SPATE_RU_FMT_CSV},
                 {"fmt=pretty", SPATE_RU_FMT_PRETTY},
                 {"format=csv&fmt=yaml", SPATE_RU_FMT_YAML},
                 {"format=xml&format=bogus", SPATE_RU_FMT_JSON}};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(cases); i++)
        assert_int_equal(parse(cases[i].q).format, cases[i].f);
}

static void test_flags(void **state) {
    (void)state;
    assert_true(parse("noinfo").noinfo);
    assert_true(parse("noinfo=").noinfo);
    assert_true(parse("noinfo=1").noinfo);
    assert_false(parse("noinf").noinfo);
    assert_true(parse("dl").download);
    assert_true(parse("download=1").download);
    assert_false(parse("noinfo").download);
}

static void check_pw(const char *q, unsigned sets, int min, int max) {
    spate_ru_params_t p = parse(q);
    assert_int_equal(p.pw_charsets, sets);
    if (sets) {
        assert_int_equal(p.pw_min, min);
        assert_int_equal(p.pw_max, max);
    }
}

static void test_password(void **state) {
    (void)state;
    check_pw("password=upper,lower,1-16", SPATE_RU_PW_UPPER | SPATE_RU_PW_LOWER, 1, 16);
    check_pw("password=number,8", SPATE_RU_PW_NUMBER, 8, 8);
    check_pw("password=special", SPATE_RU_PW_SPECIAL, 8, 64);
    check_pw("password=special,upper,lower,number",
             SPATE_RU_PW_SPECIAL | SPATE_RU_PW_UPPER | SPATE_RU_PW_LOWER | SPATE_RU_PW_NUMBER, 8,
             64);
    check_pw("password=UPPER,64", SPATE_RU_PW_UPPER, 64, 64);
    check_pw("password=lower,5-5", SPATE_RU_PW_LOWER, 5, 5);
    /* No charset named: the common-password list. */
    check_pw("password=bogus", 0, 0, 0);
    check_pw("password=1-16", 0, 0, 0);
    check_pw("password=", 0, 0, 0);
    /* Invalid lengths keep the 8-64 default. */
    check_pw("password=upper,0-99", SPATE_RU_PW_UPPER, 8, 64);
    check_pw("password=upper,0-10", SPATE_RU_PW_UPPER, 8, 64);
    check_pw("password=upper,10-65", SPATE_RU_PW_UPPER, 8, 64);
    check_pw("password=upper,16-1", SPATE_RU_PW_UPPER, 8, 64); /* min > max */
    check_pw("password=upper,65", SPATE_RU_PW_UPPER, 8, 64);
    check_pw("password=upper,0", SPATE_RU_PW_UPPER, 8, 64);
    check_pw("password=upper,-5", SPATE_RU_PW_UPPER, 8, 64);
    check_pw("password=upper,a-b", SPATE_RU_PW_UPPER, 8, 64);
    check_pw("password=upper,1-", SPATE_RU_PW_UPPER, 8, 64);
    check_pw("password=upper,bogus", SPATE_RU_PW_UPPER, 8, 64);
    /* An over-long item is skipped without overflowing anything. */
    check_pw("password=upper,xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx,4-6",
             SPATE_RU_PW_UPPER, 4, 6);
    spate_ru_params_t p = parse("password=number,1-16");
    assert_true(p.pw_min <= p.pw_max);
}

static void test_callback(void **state) {
    (void)state;
    assert_string_equal(parse("callback=myFn").callback, "myFn");
    assert_string_equal(parse("callback=jQuery1234_5678").callback, "jQuery1234_5678");
    assert_string_equal(parse("callback=$.cb").callback, "$.cb");
    assert_string_equal(parse("callback=ns.obj.fn").callback, "ns.obj.fn");
    static const char *const bad[] = {"callback=alert(1)", "callback=a+b", "callback=a%3Bb",
                                      "callback=",         "callback=a-b", "callback=%3Cscript",
                                      "callback=f%0A"};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(bad); i++)
        assert_string_equal(parse(bad[i]).callback, "");
    /* A name that would not fit is refused rather than cut. */
    char q[128] = "callback=";
    memset(q + 9, 'f', 63);
    q[9 + 63] = '\0';
    assert_int_equal(strlen(parse(q).callback), 63);
    strcat(q, "g");
    assert_string_equal(parse(q).callback, "");
}

static void test_long_values(void **state) {
    (void)state;
    /* A 300-character seed: cut to the seed buffer, NUL-terminated. */
    char q[400] = "seed=";
    for (int i = 0; i < 300; i++) q[5 + i] = (char)('a' + i % 26);
    q[305] = '\0';
    spate_ru_params_t p = parse(q);
    assert_int_equal(strlen(p.seed), sizeof p.seed - 1);
    assert_memory_equal(p.seed, q + 5, sizeof p.seed - 1);
    /* A seed made of escapes decodes before being cut. */
    p = parse("seed=%41%42%43");
    assert_string_equal(p.seed, "ABC");
    /* An over-long key never matches a real one by truncation. */
    char k[200];
    memset(k, 'r', 100);
    strcpy(k + 100, "=5&results=3");
    assert_int_equal(parse(k).results, 3);
    /* Keys are exact and case-sensitive, as Express sees them. */
    assert_int_equal(parse("Results=10").results, 1);
    assert_int_equal(parse("results%3D10").results, 1);
}

static void test_params_set_direct(void **state) {
    (void)state;
    spate_ru_params_t p;
    spate_ru_params_default(&p);
    spate_ru_params_set(&p, "results", "42");
    spate_ru_params_set(&p, "gender", "male");
    spate_ru_params_set(&p, "unknown", "x");
    assert_int_equal(p.results, 42);
    assert_int_equal(p.gender, 1); /* set() alone does not apply the seed rule */
    spate_ru_params_set(&p, "results", "nope");
    assert_int_equal(p.results, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_nat_table),
        cmocka_unit_test(test_results),
        cmocka_unit_test(test_page),
        cmocka_unit_test(test_nat),
        cmocka_unit_test(test_gender),
        cmocka_unit_test(test_inc_exc),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_password),
        cmocka_unit_test(test_callback),
        cmocka_unit_test(test_long_values),
        cmocka_unit_test(test_params_set_direct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
