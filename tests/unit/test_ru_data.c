/*
 * test_ru_data.c — invariants of the randomuser word lists that the
 * generator relies on.
 *
 * The compact-JSON writer copies list entries without escaping them, and
 * the generator's scratch space is sized for short entries, so every entry
 * must be non-empty, short, valid UTF-8 and free of '"', '\' and control
 * characters; names in non-Latin scripts must carry an ASCII form after
 * '|' (e-mail addresses are made from it); the 21 nationalities must be in
 * the API's order with the postcode types it uses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "source_int.h"

static bool valid_utf8(const unsigned char *s, bool *non_latin) {
    while (*s) {
        unsigned c = *s, len = c < 0x80             ? 1
                               : (c & 0xe0) == 0xc0 ? 2
                               : (c & 0xf0) == 0xe0 ? 3
                               : (c & 0xf8) == 0xf0 ? 4
                                                    : 0;
        if (!len) return false;
        unsigned cp = len == 1 ? c : c & (0x7f >> len);
        for (unsigned i = 1; i < len; i++) {
            if ((s[i] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (s[i] & 0x3f);
        }
        if (cp >= 0x370 && cp != 0x219 && cp != 0x21b) *non_latin = true;
        s += len;
    }
    return true;
}

static void check_entry(const char *where, const char *e, bool is_name) {
    size_t n = strlen(e);
    if (n == 0 || n > 120) fail_msg("%s: entry '%s' is empty or too long", where, e);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)e[i];
        if (c < 0x20 || c == '"' || c == '\\')
            fail_msg("%s: entry '%s' has a character that would need JSON escaping", where, e);
    }
    bool non_latin = false;
    if (!valid_utf8((const unsigned char *)e, &non_latin))
        fail_msg("%s: entry '%s' is not valid UTF-8", where, e);
    const char *bar = strchr(e, '|');
    if (!is_name) {
        if (bar) fail_msg("%s: '%s': only names may carry '|'", where, e);
        return;
    }
    if (non_latin && !bar) fail_msg("%s: '%s' needs an ASCII form after '|'", where, e);
    if (bar) {
        for (const char *p = bar + 1; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == ' ' || *p == '-' ||
                  *p == '\''))
                fail_msg("%s: '%s': the part after '|' must be ASCII letters", where, e);
        if (bar[1] == '\0') fail_msg("%s: '%s': empty ASCII form", where, e);
    }
}

static void check_list(const char *nat, const char *what, const spate_ru_list_t *l, size_t min,
                       bool is_name) {
    char where[64];
    snprintf(where, sizeof where, "%s %s", nat, what);
    if (l->n < min) fail_msg("%s: %zu entries, want at least %zu", where, l->n, min);
    for (size_t i = 0; i < l->n; i++) {
        check_entry(where, l->v[i], is_name);
        for (size_t k = 0; k < i; k++)
            if (strcmp(l->v[i], l->v[k]) == 0) fail_msg("%s: '%s' twice", where, l->v[i]);
    }
}

static void test_nationalities(void **state) {
    (void)state;
    static const char *const order[] = {"AU", "BR", "CA", "CH", "DE", "DK", "ES",
                                        "FI", "FR", "GB", "IE", "IN", "IR", "MX",
                                        "NL", "NO", "NZ", "RS", "TR", "UA", "US"};
    for (int i = 0; i < SPATE_RU_NNATS; i++) {
        const spate_ru_nat_t *n = &spate_ru_nats[i];
        assert_string_equal(n->code, order[i]);
        check_entry(n->code, n->country, false);
        check_list(n->code, "male_first", &n->male_first, 40, true);
        check_list(n->code, "female_first", &n->female_first, 40, true);
        check_list(n->code, "last", &n->last, 40, true);
        check_list(n->code, "streets", &n->streets, 20, false);
        check_list(n->code, "cities", &n->cities, 20, false);
        check_list(n->code, "states", &n->states, 5, false);
        check_list(n->code, "male_titles", &n->male_titles, 0, false);
        check_list(n->code, "female_titles", &n->female_titles, 0, false);
        bool str_pc = !strcmp(n->code, "GB") || !strcmp(n->code, "CA") || !strcmp(n->code, "NO");
        assert_int_equal(n->postcode_pattern != NULL, str_pc);
        if (!str_pc) assert_true(n->postcode_min > 0 && n->postcode_min < n->postcode_max);
        assert_non_null(n->phone_pattern);
        assert_non_null(n->cell_pattern);
        assert_non_null(n->id_name);
        assert_int_equal(n->id_name[0] == '\0', n->id_pattern == NULL);
    }
}

static void test_shared_lists(void **state) {
    (void)state;
    check_list("common", "adjectives", &spate_ru_username_adjectives, 23, false);
    check_list("common", "animals", &spate_ru_username_animals, 26, false);
    check_list("common", "passwords", &spate_ru_passwords, 100, false);
    check_list("common", "female titles", &spate_ru_female_titles, 3, false);
    assert_true(spate_ru_ntimezones >= 25);
    for (size_t i = 0; i < spate_ru_ntimezones; i++) {
        check_entry("timezone offset", spate_ru_timezones[i].offset, false);
        check_entry("timezone description", spate_ru_timezones[i].description, false);
    }
}

/* MT19937's published check: seeded with 5489, the 10000th output is
 * 4123659995 (the C++ standard's check for std::mt19937). */
static void test_mt19937(void **state) {
    (void)state;
    spate_mt_t m;
    spate_mt_seed(&m, 5489);
    uint32_t v = 0;
    for (int i = 0; i < 10000; i++) v = spate_mt_u32(&m);
    assert_int_equal(v, 4123659995u);
    spate_mt_seed(&m, 5489);
    assert_int_equal(spate_mt_u32(&m), 3499211612u);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nationalities),
        cmocka_unit_test(test_shared_lists),
        cmocka_unit_test(test_mt19937),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
