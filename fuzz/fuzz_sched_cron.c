/*
 * fuzz_sched_cron.c — libFuzzer target for schedules, times and durations
 * (src/sched/sched_cron.c).
 *
 * Input: the first 8 bytes (if any) are a time, the rest is text. The
 * text goes to spate_sched_schedule_parse, spate_sched_parse_time and
 * spate_sched_parse_duration. For a schedule that parses: next(t) > t or
 * INT64_MAX, prev(t) <= t or INT64_MIN, a fire found by next is its own
 * prev, and the fire before a prev'd fire leads back to it (next(p-1) =
 * p); a failed parse leaves a message. A time that parses lies in years
 * 1..9999; a duration is >= 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int64_t t = 1793491200000LL; /* 2026-11-01 */
    if (size >= 8) {
        uint64_t u;
        memcpy(&u, data, 8);
        /* keep within +-400 years of 1970 so fires exist on both sides */
        t = (int64_t)(u % (800ULL * 366 * 86400000ULL)) - 400LL * 366 * 86400000LL;
        data += 8;
        size -= 8;
    }
    if (size > 512) return 0;
    char *text = malloc(size + 1);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    spate_sched_schedule_t s;
    char err[256];
    err[0] = '\0';
    if (spate_sched_schedule_parse(text, &s, err, sizeof err) == SPATE_OK) {
        int64_t anchor = t - 12345678;
        int64_t n = spate_sched_schedule_next(&s, anchor, t);
        CHECK(n == INT64_MAX || n > t);
        int64_t p = spate_sched_schedule_prev(&s, anchor, t);
        CHECK(p == INT64_MIN || p <= t);
        if (n != INT64_MAX) CHECK(spate_sched_schedule_prev(&s, anchor, n) == n);
        if (p != INT64_MIN && p > anchor) CHECK(spate_sched_schedule_next(&s, anchor, p - 1) == p);
        if (s.kind == SPATE_SCHED_CRON && n != INT64_MAX) CHECK(n % 60000 == 0);
    } else {
        CHECK(err[0] != '\0');
    }
    int64_t ms;
    if (spate_sched_parse_time(text, &ms) == SPATE_OK)
        CHECK(ms >= -62135596800000LL && ms < 253402300800000LL);
    if (spate_sched_parse_duration(text, &ms) == SPATE_OK) CHECK(ms >= 0);
    free(text);
    return 0;
}
