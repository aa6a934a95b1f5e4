/*
 * test_sched_cron.c — schedules, next/prev fire times, time and duration
 * text (src/sched/sched_cron.c).
 *
 * Every expected value below was worked out by hand from a calendar, not
 * by running the code. The facts used:
 *   - 2026-01-01 is a Thursday; 2026-01-01T00:00Z = 1767225600 s
 *     (56 years since 1970 with 14 leap days: 56*365+14 = 20454 days).
 *   - 2026-11-01 is day 20454 + 304 (Jan..Oct) = 20758 → 1793491200 s;
 *     304 = 43*7 + 3, so it is Thursday + 3 = a Sunday. Mondays of Nov
 *     2026: 2, 9, 16, 23, 30; Fridays: 6, 13, 20, 27; Dec 1 is a Tuesday,
 *     Dec Mondays 7, 14, 21, 28; Oct 1 is a Thursday, Oct Mondays 5, 12,
 *     19, 26.
 *   - 2027 is not a leap year; 2028 and 2024 are; 2000 was.
 * Results are compared as ISO text so a failure shows the wrong date.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sched.h"

static int64_t T(const char *s) {
    int64_t ms = 0;
    assert_int_equal(spate_sched_parse_time(s, &ms), SPATE_OK);
    return ms;
}

static const char *iso(int64_t ms, char buf[32]) {
    if (ms == INT64_MAX) return "MAX";
    if (ms == INT64_MIN) return "MIN";
    spate_time_iso8601(ms, buf);
    return buf;
}

static spate_sched_schedule_t parse_ok(const char *text) {
    spate_sched_schedule_t s;
    char err[256];
    spate_status_t st = spate_sched_schedule_parse(text, &s, err, sizeof err);
    if (st != SPATE_OK) fail_msg("parse '%s': %s", text, err);
    return s;
}

typedef struct {
    const char *expr, *from, *want; /* want: ISO time, "MAX" or "MIN" */
} ka_t;

static void check_table(const ka_t *t, size_t n, bool next) {
    for (size_t i = 0; i < n; i++) {
        spate_sched_schedule_t s = parse_ok(t[i].expr);
        int64_t from = T(t[i].from);
        int64_t got =
            next ? spate_sched_schedule_next(&s, 0, from) : spate_sched_schedule_prev(&s, 0, from);
        char a[32], b[32];
        const char *want = t[i].want;
        if (strcmp(want, "MAX") != 0 && strcmp(want, "MIN") != 0) want = iso(T(want), b);
        if (strcmp(iso(got, a), want) != 0)
            fail_msg("%s('%s', %s) = %s, want %s", next ? "next" : "prev", t[i].expr, t[i].from, a,
                     want);
    }
}

/* next(): strictly after `from`. */
static void test_next_known_answers(void **state) {
    (void)state;
    static const ka_t t[] = {
        /* steps: */
        {"*/15 * * * *", "2026-11-01T00:00:00", "2026-11-01T00:15:00"}, /* strictly after */
        {"*/15 * * * *", "2026-11-01T00:14:59", "2026-11-01T00:15:00"},
        {"*/15 * * * *", "2026-11-01T23:45:00", "2026-11-02T00:00:00"}, /* day wrap */
        {"10-50/10 * * * *", "2026-11-01T00:10:00", "2026-11-01T00:20:00"},
        {"10-50/10 * * * *", "2026-11-01T00:50:00", "2026-11-01T01:10:00"}, /* 60 not in range */
        {"5/20 * * * *", "2026-11-01T00:45:00", "2026-11-01T01:05:00"},     /* 5,25,45 */
        {"0 9-17/4 * * mon-fri", "2026-11-01T00:00:00", "2026-11-02T09:00:00"}, /* Sun → Mon */
        {"0 9-17/4 * * mon-fri", "2026-11-02T17:00:00", "2026-11-03T09:00:00"}, /* 9,13,17 */
        {"5 4 * * *", "2026-11-01T04:05:00", "2026-11-02T04:05:00"},
        /* presets: */
        {"@hourly", "2026-11-01T10:30:00", "2026-11-01T11:00:00"},
        {"@daily", "2026-11-01T00:00:00", "2026-11-02T00:00:00"},
        {"@midnight", "2026-11-01T12:00:00", "2026-11-02T00:00:00"},
        {"@weekly", "2026-11-01T00:00:00", "2026-11-08T00:00:00"}, /* Sunday → next Sunday */
        {"@weekly", "2026-11-04T09:00:00", "2026-11-08T00:00:00"}, /* from a Wednesday */
        {"@monthly", "2026-11-15T00:00:00", "2026-12-01T00:00:00"},
        {"@yearly", "2026-06-01T00:00:00", "2027-01-01T00:00:00"},
        {"@ANNUALLY", "2026-06-01T00:00:00", "2027-01-01T00:00:00"},
        /* year wrap: */
        {"@daily", "2026-12-31T23:59:59", "2027-01-01T00:00:00"},
        {"@monthly", "2026-12-15T00:00:00", "2027-01-01T00:00:00"},
        {"0 0 1 1 *", "2026-12-31T23:59:59.999", "2027-01-01T00:00:00"},
        {"59 23 31 12 *", "2026-01-01T00:00:00", "2026-12-31T23:59:00"},
        /* month ends: the 31st is skipped in 30-day months (and Feb) */
        {"0 0 31 * *", "2026-04-01T00:00:00", "2026-05-31T00:00:00"},
        {"0 0 31 * *", "2026-05-31T00:00:00", "2026-07-31T00:00:00"}, /* June has 30 */
        {"0 0 31 * *", "2026-07-31T00:00:00", "2026-08-31T00:00:00"}, /* Jul, Aug both 31 */
        {"0 0 31 * *", "2026-08-31T00:00:00", "2026-10-31T00:00:00"}, /* Sep has 30 */
        {"0 12 * * *", "2026-02-28T12:00:00", "2026-03-01T12:00:00"}, /* 2026: Feb has 28 */
        /* leap days: */
        {"0 12 * * *", "2028-02-28T12:00:00", "2028-02-29T12:00:00"},
        {"0 0 29 2 *", "2026-01-01T00:00:00", "2028-02-29T00:00:00"}, /* 2027 not leap */
        {"0 0 29 2 *", "2028-02-29T00:00:00", "2032-02-29T00:00:00"},
        /* impossible: bounded search */
        {"0 0 30 2 *", "2026-01-01T00:00:00", "MAX"},
        {"0 0 31 4,6,9,11 *", "2026-01-01T00:00:00", "MAX"},
        {"0 0 * * *", "9999-12-31T23:59:00", "MAX"}, /* past the year 9999 */
        /* DOW/DOM: both restricted → either matches */
        {"0 0 1 * 1", "2026-11-01T00:00:00", "2026-11-02T00:00:00"},  /* Monday, not the 1st */
        {"0 0 13 * 5", "2026-11-02T00:00:00", "2026-11-06T00:00:00"}, /* Friday 6th < 13th */
        {"0 0 13 * 5", "2026-11-06T00:00:00", "2026-11-13T00:00:00"},
        /* DOM '*' → only DOW counts; DOM "*\/10" counts as '*' (Vixie):
         * 1,11,21,31 AND Monday: none in Nov, Dec 21 is a Monday */
        {"0 0 * * 5", "2026-11-06T00:00:00", "2026-11-13T00:00:00"},
        {"0 0 */10 * 1", "2026-11-01T00:00:00", "2026-12-21T00:00:00"},
        /* names, 7 = Sunday */
        {"0 0 * * 7", "2026-11-01T00:00:00", "2026-11-08T00:00:00"},
        {"0 0 * * SUN", "2026-11-01T00:00:00", "2026-11-08T00:00:00"},
        {"0 0 1 JAN,jul *", "2026-01-01T00:00:00", "2026-07-01T00:00:00"},
        {"30 2 * * 6", "2026-11-01T00:00:00", "2026-11-07T02:30:00"},  /* Saturday the 7th */
        {"0 0 * * 5-7", "2026-11-01T00:00:00", "2026-11-06T00:00:00"}, /* Fri, Sat, Sun */
    };
    check_table(t, SPATE_ARRAY_LEN(t), true);
}

/* prev(): latest fire <= at. */
static void test_prev_known_answers(void **state) {
    (void)state;
    static const ka_t t[] = {
        {"*/15 * * * *", "2026-11-01T00:14:00", "2026-11-01T00:00:00"},
        {"*/15 * * * *", "2026-11-01T00:15:00", "2026-11-01T00:15:00"}, /* <= */
        {"*/15 * * * *", "2026-11-01T00:15:30", "2026-11-01T00:15:00"},
        {"@daily", "2026-11-01T00:00:00", "2026-11-01T00:00:00"},
        {"@daily", "2026-11-01T23:59:00", "2026-11-01T00:00:00"},
        {"@daily", "2027-01-01T00:00:00", "2027-01-01T00:00:00"},
        {"@monthly", "2026-12-31T23:59:00", "2026-12-01T00:00:00"},
        {"@monthly", "2027-01-01T00:00:00", "2027-01-01T00:00:00"},
        {"@weekly", "2026-11-07T12:00:00", "2026-11-01T00:00:00"},    /* Saturday → Sunday */
        {"0 0 31 * *", "2026-07-15T00:00:00", "2026-05-31T00:00:00"}, /* skips June */
        {"0 0 29 2 *", "2027-06-01T00:00:00", "2024-02-29T00:00:00"}, /* leap day back */
        {"0 0 1 * 1", "2026-10-31T12:00:00", "2026-10-26T00:00:00"},  /* Monday 26th */
        {"0 0 1 * 1", "2026-11-01T12:00:00", "2026-11-01T00:00:00"},  /* the 1st */
        {"0 0 30 2 *", "2026-01-01T00:00:00", "MIN"},
        {"59 23 31 12 *", "2026-06-01T00:00:00", "2025-12-31T23:59:00"}, /* year wrap */
    };
    check_table(t, SPATE_ARRAY_LEN(t), false);
}

/* EVERY fires at anchor + k*every; ONCE at the anchor; NONE never. */
static void test_every_once_none(void **state) {
    (void)state;
    int64_t a = T("2026-11-01T00:00:00");
    spate_sched_schedule_t s = parse_ok("every 30 seconds");
    assert_int_equal(s.kind, SPATE_SCHED_EVERY);
    assert_int_equal(s.every_ms, 30000);
    assert_int_equal(spate_sched_schedule_next(&s, a, a - 1), a);
    assert_int_equal(spate_sched_schedule_next(&s, a, a), a + 30000);
    assert_int_equal(spate_sched_schedule_next(&s, a, T("2026-11-01T00:01:10")),
                     T("2026-11-01T00:01:30"));
    assert_int_equal(spate_sched_schedule_prev(&s, a, T("2026-11-01T00:01:10")),
                     T("2026-11-01T00:01:00"));
    assert_int_equal(spate_sched_schedule_prev(&s, a, a), a);
    assert_int_equal(spate_sched_schedule_prev(&s, a, a - 1), INT64_MIN);
    /* aligned to the anchor, not to the clock: 06:30 + k hours */
    s = parse_ok("every 1 hour");
    int64_t a2 = T("2026-11-01T06:30:00");
    assert_int_equal(spate_sched_schedule_next(&s, a2, T("2026-11-02T00:00:00")),
                     T("2026-11-02T00:30:00"));
    s = parse_ok("every 2 days");
    assert_int_equal(s.every_ms, 2 * 86400000LL);
    assert_int_equal(spate_sched_schedule_next(&s, a, T("2026-11-04T00:00:00")),
                     T("2026-11-05T00:00:00"));
    assert_int_equal(parse_ok("every 30s").every_ms, 30000);
    assert_int_equal(parse_ok("every 5 minutes").every_ms, 300000);
    assert_int_equal(parse_ok("Every 1 Minute").every_ms, 60000);
    assert_int_equal(parse_ok("every 1h30m").every_ms, 5400000);
    /* far anchor: no overflow */
    assert_int_equal(spate_sched_schedule_next(&s, INT64_MIN / 2, INT64_MAX - 5), INT64_MAX);

    s = parse_ok("@once");
    assert_int_equal(s.kind, SPATE_SCHED_ONCE);
    assert_int_equal(spate_sched_schedule_next(&s, a, a - 1), a);
    assert_int_equal(spate_sched_schedule_next(&s, a, a), INT64_MAX);
    assert_int_equal(spate_sched_schedule_prev(&s, a, a), a);
    assert_int_equal(spate_sched_schedule_prev(&s, a, a - 1), INT64_MIN);

    const char *nones[] = {"none", "None", "null", "~", " none "};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(nones); i++) {
        s = parse_ok(nones[i]);
        assert_int_equal(s.kind, SPATE_SCHED_NONE);
        assert_int_equal(spate_sched_schedule_next(&s, a, a), INT64_MAX);
        assert_int_equal(spate_sched_schedule_prev(&s, a, a), INT64_MIN);
    }
}

/* The bitsets and flags a parse leaves. */
static void test_fields(void **state) {
    (void)state;
    spate_sched_schedule_t s = parse_ok("10-50/10 0,12 1-3 JAN,jul mon-fri");
    assert_int_equal(s.kind, SPATE_SCHED_CRON);
    assert_true(s.minutes ==
                ((1ULL << 10) | (1ULL << 20) | (1ULL << 30) | (1ULL << 40) | (1ULL << 50)));
    assert_int_equal(s.hours, (1u << 0) | (1u << 12));
    assert_int_equal(s.mdays, (1u << 1) | (1u << 2) | (1u << 3));
    assert_int_equal(s.months, (1u << 1) | (1u << 7));
    assert_int_equal(s.wdays, 0x3e); /* Mon..Fri */
    assert_false(s.mday_star);
    assert_false(s.wday_star);
    assert_string_equal(s.text, "10-50/10 0,12 1-3 JAN,jul mon-fri");
    s = parse_ok("* * * * 5-7"); /* 7 is Sunday */
    assert_int_equal(s.wdays, (1u << 5) | (1u << 6) | 1u);
    assert_true(s.mday_star);
    assert_false(s.wday_star);
    assert_true(s.minutes == (1ULL << 60) - 1);
    s = parse_ok("5-5/2 * * * *"); /* a range of one stays one value */
    assert_true(s.minutes == (1ULL << 5));
    s = parse_ok("@weekly");
    assert_int_equal(s.wdays, 1);
    assert_true(s.minutes == 1);
    assert_string_equal(s.text, "@weekly");
}

static void test_parse_errors(void **state) {
    (void)state;
    static const struct {
        const char *text, *msg;
    } t[] = {
        {"61 * * * *", "minute 61 out of range 0-59"},
        {"* 24 * * *", "hour 24 out of range 0-23"},
        {"* * 0 * *", "day-of-month 0 out of range 1-31"},
        {"* * 32 * *", "day-of-month 32 out of range 1-31"},
        {"* * * 13 *", "month 13 out of range 1-12"},
        {"* * * * 8", "day-of-week 8 out of range 0-7"},
        {"* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"},
        {"* * * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 6"},
        {"", "expected 5 fields (minute hour day-of-month month day-of-week), got 0"},
        {"50-10 * * * *", "minute range 50-10 is backwards"},
        {"*/0 * * * *", "minute step 0 out of range 1-59"},
        {"*/ * * * *", "minute: expected a step number after '/'"},
        {"* * * foo *", "month: unknown name 'foo'"},
        {"* * * * funday", "day-of-week: unknown name 'funday'"},
        {"1,,2 * * * *", "minute: expected a number near ',2'"},
        {"mon * * * *", "minute: expected a number near 'mon'"},
        {"1x * * * *", "minute: unexpected 'x'"},
        {"every 0 seconds", "every: the interval must be at least 1 second"},
        {"every 5 fortnights", "expected 'every N seconds|minutes|hours|days' (or 'every 30s'), "
                               "got 'every 5 fortnights'"},
        {"every", "expected 'every N seconds|minutes|hours|days' (or 'every 30s'), got 'every '"},
        {"@sometimes", "unknown preset '@sometimes' (expected @hourly, @daily, @midnight, "
                       "@weekly, @monthly, @yearly, @annually or @once)"},
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(t); i++) {
        spate_sched_schedule_t s;
        char err[256] = "";
        assert_int_equal(spate_sched_schedule_parse(t[i].text, &s, err, sizeof err), SPATE_EINVAL);
        if (strcmp(err, t[i].msg) != 0) fail_msg("'%s': got '%s'", t[i].text, err);
    }
    /* NULL err is allowed */
    spate_sched_schedule_t s;
    assert_int_equal(spate_sched_schedule_parse("99 * * * *", &s, NULL, 0), SPATE_EINVAL);
}

static void test_parse_time(void **state) {
    (void)state;
    static const struct {
        const char *text;
        int64_t ms;
    } ok[] = {
        {"1970-01-01", 0},
        {"2026-01-01", 1767225600000LL},          /* 20454 days */
        {"2026-11-01", 1793491200000LL},          /* 20758 days */
        {"2026-11-01T06:30:00", 1793514600000LL}, /* + 6.5 h */
        {"2026-11-01T06:30:00Z", 1793514600000LL},
        {"2026-11-01 06:30:00", 1793514600000LL},
        {"2026-11-01T06:30", 1793514600000LL},
        {"2026-11-01T06:30:00+00:00", 1793514600000LL},
        {"2026-11-01T06:30:00.5", 1793514600500LL},
        {"2026-11-01T06:30:00.123456Z", 1793514600123LL},
        /* 2000-01-01 = 10957 days; +59 days to Feb 29; 12:34:56 = 45296 s */
        {"2000-02-29T12:34:56.789Z", 951827696789LL},
        {"1969-12-31T23:59:59", -1000},
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(ok); i++) {
        int64_t ms = 0;
        if (spate_sched_parse_time(ok[i].text, &ms) != SPATE_OK) fail_msg("'%s'", ok[i].text);
        assert_int_equal(ms, ok[i].ms);
    }
    static const char *const bad[] = {
        "",
        "2026-02-29",
        "2026-13-01",
        "2026-00-10",
        "26-11-01",
        "2026/11/01",
        "2026-11-01x",
        "2026-11-01T",
        "2026-04-31",
        "2026-11-01T24:00:00",
        "2026-11-01T06:60:00",
        "2026-11-01T06:30:60",
        "2026-11-01T06:30:00.",
        "2026-11-01T06:30:00+01:00",
        "2026-11-01T06:30:00 UTC",
        "now",
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(bad); i++) {
        int64_t ms = 42;
        if (spate_sched_parse_time(bad[i], &ms) != SPATE_EINVAL) fail_msg("accepted '%s'", bad[i]);
        assert_int_equal(ms, 42);
    }
    assert_int_equal(spate_sched_parse_time(NULL, &(int64_t){0}), SPATE_EINVAL);
}

static void test_parse_duration(void **state) {
    (void)state;
    static const struct {
        const char *text;
        int64_t ms;
    } ok[] = {
        {"30s", 30000},       {"5m", 300000},     {"2h", 7200000},  {"1d", 86400000},
        {"250ms", 250},       {"300", 300000},    {"0", 0},         {"00:05:00", 300000},
        {"1:00:00", 3600000}, {"1h30m", 5400000}, {" 10s ", 10000}, {"1m30s500ms", 90500},
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(ok); i++) {
        int64_t ms = -1;
        if (spate_sched_parse_duration(ok[i].text, &ms) != SPATE_OK) fail_msg("'%s'", ok[i].text);
        assert_int_equal(ms, ok[i].ms);
    }
    static const char *const bad[] = {"",
                                      "s",
                                      "5x",
                                      "-5s",
                                      "1.5s",
                                      "00:60:00",
                                      "5 m",
                                      "12:00",
                                      "m5",
                                      "1h-1m",
                                      "30 seconds",
                                      "99999999999999999999",
                                      "9999999999999d"};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(bad); i++) {
        int64_t ms = 42;
        if (spate_sched_parse_duration(bad[i], &ms) != SPATE_EINVAL)
            fail_msg("accepted '%s'", bad[i]);
        assert_int_equal(ms, 42);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_known_answers), cmocka_unit_test(test_prev_known_answers),
        cmocka_unit_test(test_every_once_none),    cmocka_unit_test(test_fields),
        cmocka_unit_test(test_parse_errors),       cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_parse_duration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
