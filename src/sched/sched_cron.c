/*
 * sched_cron.c — schedules (cron, presets, "every N ...", @once, none),
 * their next/previous fire times, and the time and duration parsers the
 * DAG loader uses. Everything is UTC (no time zones, no DST), pure (no
 * syscalls) and bounded.
 *
 *   text                      kind   fields
 *   "*\/15 9-17 * * mon-fri"  CRON   minutes|hours|mdays|months|wdays bitsets
 *   "@daily" (= "0 0 * * *")  CRON   as the 5-field form it stands for
 *   "every 30 seconds"        EVERY  every_ms; fires at anchor + k*every_ms
 *   "@once"                   ONCE   fires once, at the anchor (start date)
 *   "none" / "null" / "~"     NONE   never fires
 *
 * Day matching follows cron: when both day-of-month and day-of-week are
 * restricted (neither field starts with '*'), a day matches if EITHER
 * matches; otherwise both must (a '*' field matches every day). As in
 * Vixie cron, a field such as "*\/2" counts as starting with '*'.
 *
 * next/prev skip whole units: a month that does not match is skipped to
 * its end (or start), then a day, an hour, a minute. Each step moves by at
 * least one minute and the search stops after SEARCH_YEARS years, so an
 * impossible expression ("0 0 30 2 *") returns INT64_MAX / INT64_MIN after
 * at most a few thousand steps.
 */
#include "sched.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MIN_MS INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
#define SEARCH_YEARS 8
/* Times outside years 1..9999 are not searched (keeps arithmetic far from
 * int64 overflow): -62135596800000 = 0001-01-01, 253402300800000 = 10000-01-01. */
#define CRON_MIN_MS INT64_C(-62135596800000)
#define CRON_MAX_MS INT64_C(253402300800000)

/* ------------------------------------------------------------------ */
/* Calendar arithmetic (proleptic Gregorian, days since 1970-01-01)     */
/* ------------------------------------------------------------------ */

static int64_t fdiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = fdiv(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(int64_t y, int m) {
    static const int md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : md[m - 1];
}

/* 0 = Sunday; 1970-01-01 was a Thursday. */
static int weekday(int64_t days) { return (int)(((days % 7) + 11) % 7); }

/* ------------------------------------------------------------------ */
/* Parsing cron fields                                                 */
/* ------------------------------------------------------------------ */

typedef struct {
    const char *name;
    int lo, hi;
    const char *const *names; /* 3-letter names, names[0] = value lo_name */
    int names_base;
} field_t;

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const wday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const field_t fields[5] = {
    {"minute", 0, 59, NULL, 0},           {"hour", 0, 23, NULL, 0},
    {"day-of-month", 1, 31, NULL, 0},     {"month", 1, 12, month_names, 1},
    {"day-of-week", 0, 7, wday_names, 0},
};

/* Reads one value (a number or a name) at *p; advances *p. */
static bool read_value(const field_t *f, const char **p, int *out, char *err, size_t errlen) {
    const char *s = *p;
    if (isdigit((unsigned char)*s)) {
        long v = 0;
        while (isdigit((unsigned char)*s)) {
            v = v * 10 + (*s - '0');
            if (v > 1000) v = 1000; /* clamp: reported as out of range */
            s++;
        }
        if (v < f->lo || v > f->hi) {
            snprintf(err, errlen, "%s %ld out of range %d-%d", f->name, v, f->lo, f->hi);
            return false;
        }
        *out = (int)v;
        *p = s;
        return true;
    }
    if (f->names && isalpha((unsigned char)s[0])) {
        size_t n = 0;
        while (isalpha((unsigned char)s[n])) n++;
        for (int i = 0; n == 3 && f->names[i]; i++) {
            if (strncasecmp(s, f->names[i], 3) == 0) {
                *out = i + f->names_base;
                *p = s + 3;
                return true;
            }
        }
        snprintf(err, errlen, "%s: unknown name '%.*s'", f->name, (int)(n > 16 ? 16 : n), s);
        return false;
    }
    snprintf(err, errlen, "%s: expected a number%s near '%.16s'", f->name,
             f->names ? " or a name" : "", s);
    return false;
}

/* Parses one field "a,b-c,*\/n,d-e/n" into bits (bit v for value v). */
static bool parse_field(const field_t *f, const char *s, size_t len, uint64_t *bits, bool *star,
                        char *err, size_t errlen) {
    char buf[128];
    if (len >= sizeof buf) {
        snprintf(err, errlen, "%s field too long", f->name);
        return false;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    *bits = 0;
    *star = buf[0] == '*';
    const char *p = buf;
    for (;;) {
        int lo, hi, step = 1;
        bool single = false; /* one value, no range: "5/15" means 5-max/15 */
        if (*p == '*') {
            lo = f->lo;
            hi = f->hi;
            p++;
        } else {
            if (!read_value(f, &p, &lo, err, errlen)) return false;
            hi = lo;
            single = *p != '-';
            if (*p == '-') {
                p++;
                if (!read_value(f, &p, &hi, err, errlen)) return false;
                if (hi < lo) {
                    snprintf(err, errlen, "%s range %d-%d is backwards", f->name, lo, hi);
                    return false;
                }
            }
        }
        if (*p == '/') {
            p++;
            if (!isdigit((unsigned char)*p)) {
                snprintf(err, errlen, "%s: expected a step number after '/'", f->name);
                return false;
            }
            long v = 0;
            while (isdigit((unsigned char)*p)) {
                v = v * 10 + (*p - '0');
                if (v > 1000) v = 1000;
                p++;
            }
            if (v < 1 || v > f->hi) {
                snprintf(err, errlen, "%s step %ld out of range 1-%d", f->name, v, f->hi);
                return false;
            }
            step = (int)v;
            if (single) hi = f->hi;
        }
        for (int v = lo; v <= hi; v += step) *bits |= UINT64_C(1) << v;
        if (*p == '\0') break;
        if (*p != ',') {
            snprintf(err, errlen, "%s: unexpected '%c'", f->name, *p);
            return false;
        }
        p++;
    }
    return true;
}

static bool parse_cron(const char *text, spate_sched_schedule_t *s, char *err, size_t errlen) {
    const char *p = text;
    const char *start[6];
    size_t len[6];
    int n = 0;
    while (*p) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        const char *b = p;
        while (*p && *p != ' ' && *p != '\t') p++;
        if (n < 6) {
            start[n] = b;
            len[n] = (size_t)(p - b);
        }
        n++;
    }
    if (n != 5) {
        snprintf(err, errlen,
                 "expected 5 fields (minute hour day-of-month month day-of-week), got %d", n);
        return false;
    }
    uint64_t bits[5];
    bool star[5];
    for (int i = 0; i < 5; i++)
        if (!parse_field(&fields[i], start[i], len[i], &bits[i], &star[i], err, errlen))
            return false;
    s->kind = SPATE_SCHED_CRON;
    s->minutes = bits[0];
    s->hours = (uint32_t)bits[1];
    s->mdays = (uint32_t)bits[2];
    s->months = (uint16_t)bits[3];
    s->wdays = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f); /* 7 → Sunday */
    s->mday_star = star[2];
    s->wday_star = star[4];
    return true;
}

/* "every 30 seconds", "every 1 minute", "every 30s", "every 1h30m". */
static bool parse_every(const char *rest, spate_sched_schedule_t *s, char *err, size_t errlen) {
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"second", 1000},     {"seconds", 1000},    {"sec", 1000},   {"secs", 1000},
                 {"minute", MIN_MS},   {"minutes", MIN_MS},  {"min", MIN_MS}, {"mins", MIN_MS},
                 {"hour", HOUR_MS},    {"hours", HOUR_MS},   {"day", DAY_MS}, {"days", DAY_MS},
                 {"week", 7 * DAY_MS}, {"weeks", 7 * DAY_MS}};
    while (*rest == ' ') rest++;
    int64_t ms = 0;
    const char *p = rest;
    if (isdigit((unsigned char)*p)) {
        int64_t v = 0;
        while (isdigit((unsigned char)*p)) {
            if (v > INT64_C(1000000000)) goto bad;
            v = v * 10 + (*p++ - '0');
        }
        if (*p == ' ') {
            while (*p == ' ') p++;
            const char *u = p;
            while (isalpha((unsigned char)*p)) p++;
            size_t ul = (size_t)(p - u);
            while (*p == ' ') p++;
            if (*p) goto bad;
            for (size_t i = 0; i < SPATE_ARRAY_LEN(units); i++) {
                if (strlen(units[i].unit) == ul && strncasecmp(u, units[i].unit, ul) == 0) {
                    ms = v * units[i].ms;
                    break;
                }
            }
            if (ms == 0 && v != 0) goto bad;
        } else if (spate_sched_parse_duration(rest, &ms) != SPATE_OK) {
            goto bad;
        }
    } else {
        goto bad;
    }
    if (ms < 1000) {
        snprintf(err, errlen, "every: the interval must be at least 1 second");
        return false;
    }
    s->kind = SPATE_SCHED_EVERY;
    s->every_ms = ms;
    return true;
bad:
    snprintf(err, errlen,
             "expected 'every N seconds|minutes|hours|days' (or 'every 30s'), got 'every %.32s'",
             rest);
    return false;
}

spate_status_t spate_sched_schedule_parse(const char *text, spate_sched_schedule_t *out, char *err,
                                          size_t errlen) {
    static const struct {
        const char *name, *cron;
    } presets[] = {
        {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
        {"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
        {"@annually", "0 0 1 1 *"},
    };
    char dummy[8];
    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    memset(out, 0, sizeof *out);
    if (text == NULL) text = "none";
    while (*text == ' ' || *text == '\t') text++;
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t')) n--;
    char t[256];
    if (n >= sizeof t) {
        snprintf(err, errlen, "schedule too long (%zu bytes)", n);
        return SPATE_EINVAL;
    }
    memcpy(t, text, n);
    t[n] = '\0';
    size_t keep = n < sizeof out->text - 1 ? n : sizeof out->text - 1; /* truncated */
    memcpy(out->text, t, keep);
    out->text[keep] = '\0';
    if (strcasecmp(t, "none") == 0 || strcasecmp(t, "null") == 0 || strcmp(t, "~") == 0) {
        out->kind = SPATE_SCHED_NONE;
        return SPATE_OK;
    }
    if (t[0] == '@') {
        if (strcasecmp(t, "@once") == 0) {
            out->kind = SPATE_SCHED_ONCE;
            return SPATE_OK;
        }
        for (size_t i = 0; i < SPATE_ARRAY_LEN(presets); i++)
            if (strcasecmp(t, presets[i].name) == 0) {
                bool ok = parse_cron(presets[i].cron, out, err, errlen);
                (void)ok; /* presets always parse */
                return SPATE_OK;
            }
        snprintf(err, errlen,
                 "unknown preset '%.32s' (expected @hourly, @daily, @midnight, @weekly, @monthly, "
                 "@yearly, @annually or @once)",
                 t);
        return SPATE_EINVAL;
    }
    if (strncasecmp(t, "every", 5) == 0 && (t[5] == ' ' || t[5] == '\0')) {
        if (!parse_every(t + 5, out, err, errlen)) goto fail;
        return SPATE_OK;
    }
    if (!parse_cron(t, out, err, errlen)) goto fail;
    return SPATE_OK;
fail:
    /* nothing but the text survives a failed parse */
    memset(out, 0, offsetof(spate_sched_schedule_t, text));
    return SPATE_EINVAL;
}

/* ------------------------------------------------------------------ */
/* Next / previous fire                                                */
/* ------------------------------------------------------------------ */

static bool day_matches(const spate_sched_schedule_t *s, int mday, int wday) {
    bool dm = (s->mdays >> mday) & 1, wm = (s->wdays >> wday) & 1;
    if (!s->mday_star && !s->wday_star) return dm || wm;
    return dm && wm;
}

/* Broken-down minute t: days since epoch and minute of day. */
typedef struct {
    int64_t days;
    int64_t y;
    int m, d, hour, minute;
} bt_t;

static void bt_of(int64_t ms, bt_t *b) {
    spate_civil_t c;
    spate_time_civil(ms, &c);
    b->days = fdiv(ms, DAY_MS);
    b->y = c.year;
    b->m = c.month;
    b->d = c.day;
    b->hour = c.ms_of_day / (int)HOUR_MS;
    b->minute = (c.ms_of_day / (int)MIN_MS) % 60;
}

static int64_t cron_next(const spate_sched_schedule_t *s, int64_t after) {
    if (after >= CRON_MAX_MS) return INT64_MAX;
    if (after < CRON_MIN_MS) after = CRON_MIN_MS;
    int64_t t = fdiv(after, MIN_MS) * MIN_MS + MIN_MS;
    bt_t b;
    bt_of(t, &b);
    int64_t limit_year = b.y + SEARCH_YEARS;
    for (;;) {
        bt_of(t, &b);
        if (b.y > limit_year || t >= CRON_MAX_MS) return INT64_MAX;
        if (!((s->months >> b.m) & 1)) { /* to the 1st of the next month */
            int64_t y = b.y + (b.m == 12), m = b.m == 12 ? 1 : b.m + 1;
            t = days_from_civil(y, (int)m, 1) * DAY_MS;
            continue;
        }
        if (!day_matches(s, b.d, weekday(b.days))) {
            t = (b.days + 1) * DAY_MS;
            continue;
        }
        if (!((s->hours >> b.hour) & 1)) {
            t = b.days * DAY_MS + (b.hour + 1) * HOUR_MS;
            continue;
        }
        if (!((s->minutes >> b.minute) & 1)) {
            t += MIN_MS;
            continue;
        }
        return t;
    }
}

static int64_t cron_prev(const spate_sched_schedule_t *s, int64_t at) {
    if (at < CRON_MIN_MS) return INT64_MIN;
    if (at >= CRON_MAX_MS) at = CRON_MAX_MS - 1;
    int64_t t = fdiv(at, MIN_MS) * MIN_MS;
    bt_t b;
    bt_of(t, &b);
    int64_t limit_year = b.y - SEARCH_YEARS;
    for (;;) {
        bt_of(t, &b);
        if (b.y < limit_year || t < CRON_MIN_MS) return INT64_MIN;
        if (!((s->months >> b.m) & 1)) { /* to 23:59 of the previous month's last day */
            t = days_from_civil(b.y, b.m, 1) * DAY_MS - MIN_MS;
            continue;
        }
        if (!day_matches(s, b.d, weekday(b.days))) {
            t = b.days * DAY_MS - MIN_MS;
            continue;
        }
        if (!((s->hours >> b.hour) & 1)) {
            t = b.days * DAY_MS + b.hour * HOUR_MS - MIN_MS;
            continue;
        }
        if (!((s->minutes >> b.minute) & 1)) {
            t -= MIN_MS;
            continue;
        }
        return t;
    }
}

int64_t spate_sched_schedule_next(const spate_sched_schedule_t *s, int64_t anchor_ms,
                                  int64_t after_ms) {
    switch (s->kind) {
    case SPATE_SCHED_CRON: return cron_next(s, after_ms);
    case SPATE_SCHED_ONCE: return anchor_ms > after_ms ? anchor_ms : INT64_MAX;
    case SPATE_SCHED_EVERY: {
        if (s->every_ms <= 0) return INT64_MAX;
        if (after_ms < anchor_ms) return anchor_ms;
        /* after - anchor may overflow when they are far apart: do it unsigned. */
        uint64_t diff = (uint64_t)after_ms - (uint64_t)anchor_ms;
        uint64_t k = diff / (uint64_t)s->every_ms + 1;
        uint64_t off;
        if (__builtin_mul_overflow(k, (uint64_t)s->every_ms, &off)) return INT64_MAX;
        int64_t r;
        if (off > (uint64_t)INT64_MAX || __builtin_add_overflow(anchor_ms, (int64_t)off, &r))
            return INT64_MAX;
        return r;
    }
    case SPATE_SCHED_NONE:
    default: return INT64_MAX;
    }
}

int64_t spate_sched_schedule_prev(const spate_sched_schedule_t *s, int64_t anchor_ms,
                                  int64_t at_ms) {
    switch (s->kind) {
    case SPATE_SCHED_CRON: return cron_prev(s, at_ms);
    case SPATE_SCHED_ONCE: return anchor_ms <= at_ms ? anchor_ms : INT64_MIN;
    case SPATE_SCHED_EVERY: {
        if (s->every_ms <= 0 || at_ms < anchor_ms) return INT64_MIN;
        uint64_t diff = (uint64_t)at_ms - (uint64_t)anchor_ms;
        uint64_t off = diff / (uint64_t)s->every_ms * (uint64_t)s->every_ms; /* <= diff */
        return (int64_t)((uint64_t)anchor_ms + off);
    }
    case SPATE_SCHED_NONE:
    default: return INT64_MIN;
    }
}

/* ------------------------------------------------------------------ */
/* Times and durations                                                 */
/* ------------------------------------------------------------------ */

/* Reads exactly n digits. */
static bool digits(const char **p, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

spate_status_t spate_sched_parse_time(const char *text, int64_t *out_ms) {
    if (text == NULL) return SPATE_EINVAL;
    const char *p = text;
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return SPATE_EINVAL;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo)) return SPATE_EINVAL;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi)) return SPATE_EINVAL;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &sec)) return SPATE_EINVAL;
            if (*p == '.') {
                p++;
                int nd = 0, scale = 100;
                while (isdigit((unsigned char)*p)) {
                    if (nd < 3) ms += (*p - '0') * scale;
                    scale /= 10;
                    nd++;
                    p++;
                }
                if (nd == 0 || nd > 9) return SPATE_EINVAL;
            }
        }
        if (h > 23 || mi > 59 || sec > 59) return SPATE_EINVAL;
        if (*p == 'Z' || *p == 'z')
            p++;
        else if (strcmp(p, "+00:00") == 0)
            p += 6;
    }
    if (*p != '\0') return SPATE_EINVAL;
    *out_ms = days_from_civil(y, mo, d) * DAY_MS + h * HOUR_MS + mi * MIN_MS + sec * 1000 + ms;
    return SPATE_OK;
}

spate_status_t spate_sched_parse_duration(const char *text, int64_t *out_ms) {
    if (text == NULL) return SPATE_EINVAL;
    const char *p = text;
    while (*p == ' ') p++;
    size_t n = strlen(p);
    while (n > 0 && p[n - 1] == ' ') n--;
    if (n == 0 || n > 64) return SPATE_EINVAL;
    char t[65];
    memcpy(t, p, n);
    t[n] = '\0';
    /* "HH:MM:SS" */
    if (strchr(t, ':')) {
        const char *q = t;
        int h, m, s;
        size_t hd = strspn(q, "0123456789");
        if (hd < 1 || hd > 4) return SPATE_EINVAL;
        if (!digits(&q, (int)hd, &h) || *q++ != ':' || !digits(&q, 2, &m) || *q++ != ':' ||
            !digits(&q, 2, &s) || *q != '\0' || m > 59 || s > 59)
            return SPATE_EINVAL;
        *out_ms = (int64_t)h * HOUR_MS + m * MIN_MS + s * 1000;
        return SPATE_OK;
    }
    /* a bare number of seconds */
    if (strspn(t, "0123456789") == n) {
        int64_t v;
        if (spate_parse_i64(t, 0, INT64_C(1000000000000), &v) != SPATE_OK) return SPATE_EINVAL;
        *out_ms = v * 1000;
        return SPATE_OK;
    }
    /* one or more NUMBER UNIT parts: "1h30m", "250ms" */
    const char *q = t;
    int64_t total = 0;
    while (*q) {
        if (!isdigit((unsigned char)*q)) return SPATE_EINVAL;
        int64_t v = 0;
        while (isdigit((unsigned char)*q)) {
            if (v > INT64_C(1000000000000)) return SPATE_EINVAL;
            v = v * 10 + (*q++ - '0');
        }
        int64_t unit;
        if (strncmp(q, "ms", 2) == 0) {
            unit = 1;
            q += 2;
        } else if (*q == 's') {
            unit = 1000;
            q++;
        } else if (*q == 'm') {
            unit = MIN_MS;
            q++;
        } else if (*q == 'h') {
            unit = HOUR_MS;
            q++;
        } else if (*q == 'd') {
            unit = DAY_MS;
            q++;
        } else {
            return SPATE_EINVAL;
        }
        int64_t part;
        if (__builtin_mul_overflow(v, unit, &part) || __builtin_add_overflow(total, part, &total))
            return SPATE_EINVAL;
    }
    if (total > INT64_C(1000000000000) * 1000) return SPATE_EINVAL;
    *out_ms = total;
    return SPATE_OK;
}
