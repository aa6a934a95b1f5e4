/*
 * base_time.c — clocks and calendar arithmetic.
 *
 * Monotonic time measures intervals (timeouts, rates); wall time stamps
 * data and log lines. Calendar conversion is done here (days-from-civil)
 * rather than with gmtime_r so that it is exact for dates before 1970 and
 * costs no locale or time-zone lookups on the generator's hot path.
 */
#include "base.h"

#include <errno.h>
#include <time.h>

int64_t spate_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t spate_mono_ms(void) { return spate_mono_ns() / 1000000; }

int64_t spate_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t spate_wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void spate_sleep_ms(int64_t ms) {
    if (ms <= 0) return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Floor division that rounds toward minus infinity. */
static int64_t fdiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

/* Civil date of a day number (days since 1970-01-01); H. Hinnant's
 * algorithm, valid for the proleptic Gregorian calendar. */
static void civil_from_days(int64_t z, int *y, int *m, int *d) {
    z += 719468;
    int64_t era = fdiv(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

static void put2(char *p, int v) {
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

void spate_time_civil(int64_t ms, spate_civil_t *c) {
    int64_t days = fdiv(ms, 86400000);
    c->ms_of_day = (int)(ms - days * 86400000);
    civil_from_days(days, &c->year, &c->month, &c->day);
}

void spate_time_civil_iso8601(const spate_civil_t *c, char out[25]) {
    int rem = c->ms_of_day;
    int hh = rem / 3600000, mi = rem / 60000 % 60, ss = rem / 1000 % 60, frac = rem % 1000;
    int y = c->year;
    if (y < 0 || y > 9999) y = y < 0 ? 0 : 9999; /* outside ISO's 4 digits: clamp */
    put2(out, y / 100);
    put2(out + 2, y % 100);
    out[4] = '-';
    put2(out + 5, c->month);
    out[7] = '-';
    put2(out + 8, c->day);
    out[10] = 'T';
    put2(out + 11, hh);
    out[13] = ':';
    put2(out + 14, mi);
    out[16] = ':';
    put2(out + 17, ss);
    out[19] = '.';
    out[20] = (char)('0' + frac / 100);
    put2(out + 21, frac % 100);
    out[23] = 'Z';
    out[24] = '\0';
}

void spate_time_iso8601(int64_t ms, char out[25]) {
    spate_civil_t c;
    spate_time_civil(ms, &c);
    spate_time_civil_iso8601(&c, out);
}

int spate_time_civil_years(const spate_civil_t *a, const spate_civil_t *b) {
    int years = b->year - a->year;
    /* Not yet reached the anniversary this year. */
    if (b->month < a->month ||
        (b->month == a->month &&
         (b->day < a->day || (b->day == a->day && b->ms_of_day < a->ms_of_day))))
        years--;
    return years;
}

int spate_time_years_between(int64_t from_ms, int64_t to_ms) {
    spate_civil_t a, b;
    spate_time_civil(from_ms, &a);
    spate_time_civil(to_ms, &b);
    return spate_time_civil_years(&a, &b);
}
