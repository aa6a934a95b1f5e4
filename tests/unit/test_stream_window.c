/*
 * test_stream_window.c — the window engine of spate stream
 * (src/stream/stream_window.c, swin_*): event-time tumbling and hopping
 * windows, watermark, allowed lateness, closing, the checkpoint bytes and
 * the small helpers the window sink uses.
 *
 * Covered: settings checks; which windows a record falls in (tumbling,
 * hopping, negative times); the watermark with a delay; closing exactly
 * at window end + lateness; late records (and hopping records that are
 * only partly late); rows ordered by (start, key) and removed from the
 * state; counts checked against counts computed independently over
 * thousands of out-of-order records, with and without checkpoint
 * round trips between them; the sink's exactly-once protocol replayed
 * with a simulated kill after every possible record (the "table" of
 * upserted rows must end equal to the independent counts); the
 * checkpoint's exact bytes, its determinism, and refusal of every
 * truncation, trailing bytes, other settings and each broken invariant;
 * source positions; group keys; event times, group-by texts and column
 * names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "stream_window.h"

/* ---- helpers ---- */

static swin_t *mk(int64_t size, int64_t hop, int64_t delay, int64_t late, uint32_t ngroup) {
    swin_conf_t c = {size, hop, delay, late, ngroup};
    swin_t *w = NULL;
    assert_int_equal(swin_new(&c, &w), SPATE_OK);
    assert_non_null(w);
    return w;
}

/* A one-field key "s" into b (reset first). */
static void key1(spate_buf_t *b, const char *s) {
    spate_buf_reset(b);
    swin_key_put(b, s, strlen(s));
}

static void key2(spate_buf_t *b, const char *a, const char *c) {
    spate_buf_reset(b);
    swin_key_put(b, a, strlen(a));
    swin_key_put(b, c, strlen(c));
}

static swin_verdict_t add(swin_t *w, int64_t t, const spate_buf_t *k) {
    swin_verdict_t v = (swin_verdict_t)-1;
    assert_int_equal(swin_add(w, t, k->data ? k->data : "", k->len, &v), SPATE_OK);
    return v;
}

static int64_t count(const swin_t *w, int64_t start, const spate_buf_t *k) {
    return swin_count(w, start, k->data ? k->data : "", k->len);
}

/* ---- settings ---- */

static void test_conf(void **st) {
    (void)st;
    swin_t *w = (swin_t *)1;
    swin_conf_t bad[] = {
        {0, 0, 0, 0, 0},                     /* size 0 */
        {-60000, -60000, 0, 0, 0},           /* negative */
        {60000, 0, 0, 0, 0},                 /* hop 0 */
        {60000, 120000, 0, 0, 0},            /* hop > size */
        {60000, 25000, 0, 0, 0},             /* size % hop */
        {60000, 60000, -1, 0, 0},            /* delay */
        {60000, 60000, 0, -1, 0},            /* lateness */
        {SWIN_DURATION_MAX + 1, 1, 0, 0, 0}, /* too long */
        {60000, 60000, SWIN_DURATION_MAX + 1, 0, 0},
        {60000, 60000, 0, 0, 1025}, /* group fields */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        w = (swin_t *)1;
        assert_int_equal(swin_new(&bad[i], &w), SPATE_EINVAL);
        assert_null(w);
    }
    w = mk(60000, 20000, 0, 0, 2);
    assert_int_equal(swin_watermark(w), INT64_MIN);
    assert_false(swin_is_closed(w, -1000000000));
    assert_int_equal(swin_cells(w), 0);
    swin_free(w);
    swin_free(NULL);
}

/* ---- windows a record falls in ---- */

static void test_tumbling(void **st) {
    (void)st;
    swin_t *w = mk(60000, 60000, 0, 0, 2);
    spate_buf_t fr = {0}, de = {0};
    key2(&fr, "FR", "female");
    key2(&de, "DE", "male");
    assert_int_equal(add(w, -1, &fr), SWIN_COUNTED); /* the window before */
    assert_int_equal(add(w, 0, &fr), SWIN_COUNTED);
    assert_int_equal(add(w, 59999, &fr), SWIN_COUNTED);
    assert_int_equal(add(w, 30000, &de), SWIN_COUNTED);
    assert_int_equal(add(w, 60000, &fr), SWIN_COUNTED); /* next window */
    assert_int_equal(count(w, 0, &fr), 2);
    assert_int_equal(count(w, 0, &de), 1);
    assert_int_equal(count(w, 60000, &fr), 1);
    assert_int_equal(count(w, -60000, &fr), 1);
    assert_int_equal(count(w, 60000, &de), 0);
    assert_int_equal(swin_cells(w), 4);
    assert_int_equal(swin_watermark(w), 60000);
    /* watermark 60000 >= 0 + 60000: window 0 (and -60000) closed */
    assert_true(swin_is_closed(w, 0));
    assert_true(swin_is_closed(w, -60000));
    assert_false(swin_is_closed(w, 60000));
    swin_row_t *rows;
    size_t n = swin_close(w, &rows);
    assert_int_equal(n, 3);
    /* ordered by (start, key): -60000 FR, 0 DE, 0 FR */
    assert_int_equal(rows[0].start, -60000);
    assert_int_equal(rows[0].end, 0);
    assert_int_equal(rows[0].count, 1);
    assert_int_equal(rows[1].start, 0);
    assert_int_equal(rows[1].end, 60000);
    assert_int_equal(rows[1].klen, de.len);
    assert_memory_equal(rows[1].key, de.data, de.len);
    assert_int_equal(rows[1].count, 1);
    assert_memory_equal(rows[2].key, fr.data, fr.len);
    assert_int_equal(rows[2].count, 2);
    swin_rows_free(rows, n);
    assert_int_equal(swin_cells(w), 1);
    assert_int_equal(count(w, 0, &fr), 0);
    assert_int_equal(count(w, 60000, &fr), 1);
    /* nothing more to close */
    assert_int_equal(swin_close(w, &rows), 0);
    assert_null(rows);
    /* a record for a closed window is late and counted nowhere */
    assert_int_equal(add(w, 12345, &de), SWIN_LATE);
    assert_int_equal(swin_cells(w), 1);
    assert_int_equal(count(w, 0, &de), 0);
    swin_free(w);
    spate_buf_free(&fr);
    spate_buf_free(&de);
}

static void test_hopping(void **st) {
    (void)st;
    swin_t *w = mk(60000, 20000, 0, 0, 1);
    spate_buf_t k = {0};
    key1(&k, "x");
    assert_int_equal(add(w, 50000, &k), SWIN_COUNTED);
    /* windows [0,60000) [20000,80000) [40000,100000) */
    assert_int_equal(swin_cells(w), 3);
    assert_int_equal(count(w, 0, &k), 1);
    assert_int_equal(count(w, 20000, &k), 1);
    assert_int_equal(count(w, 40000, &k), 1);
    assert_int_equal(count(w, 60000, &k), 0);
    assert_int_equal(count(w, -20000, &k), 0);
    /* a window start itself belongs to that window */
    assert_int_equal(add(w, 60000, &k), SWIN_COUNTED); /* 20000 40000 60000 */
    assert_int_equal(count(w, 0, &k), 1);
    assert_int_equal(count(w, 20000, &k), 2);
    assert_int_equal(count(w, 60000, &k), 1);
    /* watermark 70000: window 0 closed, 20000 open: partly late = counted */
    assert_int_equal(add(w, 70000, &k), SWIN_COUNTED);
    assert_true(swin_is_closed(w, 0));
    assert_false(swin_is_closed(w, 20000));
    assert_int_equal(add(w, 50000, &k), SWIN_COUNTED);
    assert_int_equal(count(w, 0, &k), 1); /* not counted in the closed one */
    assert_int_equal(count(w, 20000, &k), 4);
    assert_int_equal(count(w, 40000, &k), 4);
    /* every window of t = 10000 ([−40000..) [−20000..) [0..)) is closed */
    assert_int_equal(add(w, 10000, &k), SWIN_LATE);
    swin_row_t *rows;
    size_t n = swin_close(w, &rows);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].start, 0);
    assert_int_equal(rows[0].end, 60000);
    assert_int_equal(rows[0].count, 1);
    swin_rows_free(rows, n);
    swin_free(w);

    /* negative event times: floor, not truncation */
    w = mk(60000, 20000, 0, 0, 1);
    assert_int_equal(add(w, -1, &k), SWIN_COUNTED);
    assert_int_equal(count(w, -20000, &k), 1);
    assert_int_equal(count(w, -40000, &k), 1);
    assert_int_equal(count(w, -60000, &k), 1);
    assert_int_equal(count(w, 0, &k), 0);
    assert_int_equal(swin_cells(w), 3);
    swin_free(w);
    spate_buf_free(&k);
}

static void test_watermark_lateness(void **st) {
    (void)st;
    /* delay 5 s, lateness 10 s: window [0,60000) closes at watermark
     * 70000, i.e. max event time 75000 */
    swin_t *w = mk(60000, 60000, 5000, 10000, 0);
    spate_buf_t k = {0}; /* no group-by fields: the empty key */
    assert_int_equal(add(w, 1000, &k), SWIN_COUNTED);
    assert_int_equal(swin_watermark(w), -4000);
    assert_int_equal(add(w, 500, &k), SWIN_COUNTED); /* out of order: no step back */
    assert_int_equal(swin_watermark(w), -4000);
    assert_int_equal(add(w, 74999, &k), SWIN_COUNTED);
    assert_int_equal(swin_watermark(w), 69999);
    assert_false(swin_is_closed(w, 0));
    assert_int_equal(add(w, 59999, &k), SWIN_COUNTED); /* within the lateness */
    assert_int_equal(count(w, 0, &k), 3);
    assert_int_equal(add(w, 75000, &k), SWIN_COUNTED);
    assert_true(swin_is_closed(w, 0));
    assert_int_equal(add(w, 59999, &k), SWIN_LATE);
    assert_int_equal(add(w, 60000, &k), SWIN_COUNTED);
    assert_int_equal(count(w, 0, &k), 3);
    assert_int_equal(count(w, 60000, &k), 3);
    swin_free(w);
    spate_buf_free(&k);
}

static void test_add_errors(void **st) {
    (void)st;
    swin_t *w = mk(60000, 60000, 0, 0, 2);
    spate_buf_t k = {0};
    key2(&k, "a", "b");
    swin_verdict_t v = (swin_verdict_t)7;
    assert_int_equal(swin_add(w, SWIN_TIME_MAX + 1, k.data, k.len, &v), SPATE_EINVAL);
    assert_int_equal(swin_add(w, SWIN_TIME_MIN - 1, k.data, k.len, &v), SPATE_EINVAL);
    assert_int_equal(v, 7);
    /* one text where two are due, a length past the end, a trailing byte */
    spate_buf_t bad = {0};
    key1(&bad, "a");
    assert_int_equal(swin_add(w, 0, bad.data, bad.len, &v), SPATE_EINVAL);
    assert_int_equal(swin_add(w, 0, k.data, k.len - 1, &v), SPATE_EINVAL);
    spate_buf_append(&k, "z", 1);
    assert_int_equal(swin_add(w, 0, k.data, k.len, &v), SPATE_EINVAL);
    assert_int_equal(swin_cells(w), 0);
    assert_int_equal(swin_watermark(w), INT64_MIN); /* errors do not move it */
    /* the extremes are fine */
    key2(&k, "a", "b");
    assert_int_equal(swin_add(w, SWIN_TIME_MIN, k.data, k.len, &v), SPATE_OK);
    assert_int_equal(swin_add(w, SWIN_TIME_MAX, k.data, k.len, &v), SPATE_OK);
    assert_int_equal(v, SWIN_COUNTED);
    swin_row_t *rows;
    size_t n = swin_close(w, &rows);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].start, SWIN_TIME_MIN - (SWIN_TIME_MIN % 60000 + 60000) % 60000);
    swin_rows_free(rows, n);
    swin_free(w);
    /* keys up to SWIN_KEY_MAX (65535: a CQL key component holds no more) */
    w = mk(60000, 60000, 0, 0, 1);
    char *big = calloc(1, SWIN_KEY_MAX);
    assert_non_null(big);
    memset(big, 'x', SWIN_KEY_MAX);
    spate_buf_reset(&k);
    swin_key_put(&k, big, SWIN_KEY_MAX - 4);
    assert_int_equal(k.len, SWIN_KEY_MAX);
    assert_int_equal(swin_add(w, 0, k.data, k.len, &v), SPATE_OK);
    spate_buf_reset(&k);
    swin_key_put(&k, big, SWIN_KEY_MAX - 3);
    assert_int_equal(swin_add(w, 0, k.data, k.len, &v), SPATE_EINVAL);
    assert_int_equal(swin_cells(w), 1);
    free(big);
    swin_free(w);
    spate_buf_free(&k);
    spate_buf_free(&bad);
}

/* ---- counts against an independent computation ---- */

#define NREC 3000
#define NG 7

typedef struct {
    int64_t t;
    int g; /* group 0..NG-1 */
} rec_t;

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Out of order by less than the delay, so no record is late: t_i =
 * i*137 + jitter (0..4999), delay 5000. */
static void gen(rec_t *r, size_t n) {
    rng = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        r[i].t = (int64_t)i * 137 + (int64_t)(next_rand() % 5000) - 20000;
        r[i].g = (int)(next_rand() % NG);
    }
}

static const char *gname[NG] = {"AU", "BR", "CA", "", "DE", "FR", "NZ"};

static void gkey(spate_buf_t *b, int g) { key2(b, gname[g], g % 2 ? "male" : "female"); }

/* The "output table": rows upserted by (start, key). */
typedef struct {
    int64_t start, end, count;
    int g;
} trow_t;

typedef struct {
    trow_t *r;
    size_t n, cap;
} table_t;

static int key_group(const char *key, size_t klen) {
    spate_buf_t b = {0};
    for (int g = 0; g < NG; g++) {
        gkey(&b, g);
        if (b.len == klen && !memcmp(b.data, key, klen)) {
            spate_buf_free(&b);
            return g;
        }
    }
    spate_buf_free(&b);
    return -1;
}

static void upsert(table_t *t, const swin_row_t *row) {
    int g = key_group(row->key, row->klen);
    assert_true(g >= 0);
    for (size_t i = 0; i < t->n; i++)
        if (t->r[i].start == row->start && t->r[i].g == g) {
            t->r[i].count = row->count;
            assert_int_equal(t->r[i].end, row->end);
            return;
        }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->r = realloc(t->r, t->cap * sizeof *t->r);
    }
    t->r[t->n++] = (trow_t){row->start, row->end, row->count, g};
}

/* Closes and upserts every closed window of w into t. */
static void close_into(swin_t *w, table_t *t) {
    swin_row_t *rows;
    size_t n = swin_close(w, &rows);
    for (size_t i = 0; i < n; i++) upsert(t, &rows[i]);
    swin_rows_free(rows, n);
}

/* Brute force: for every window start and group, the records inside. */
static void expect_table(const rec_t *r, size_t n, int64_t size, int64_t hop, const table_t *t) {
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        lo = r[i].t < lo ? r[i].t : lo;
        hi = r[i].t > hi ? r[i].t : hi;
    }
    int64_t first = (lo - size) / hop * hop - hop;
    size_t nonzero = 0;
    int64_t total = 0;
    for (int64_t s = first; s <= hi; s += hop) {
        for (int g = 0; g < NG; g++) {
            int64_t c = 0;
            for (size_t i = 0; i < n; i++)
                if (r[i].g == g && r[i].t >= s && r[i].t < s + size) c++;
            int64_t got = 0;
            for (size_t i = 0; i < t->n; i++)
                if (t->r[i].start == s && t->r[i].g == g) {
                    got = t->r[i].count;
                    assert_int_equal(t->r[i].end, s + size);
                }
            if (got != c)
                fail_msg("window %lld group %d: %lld, expected %lld", (long long)s, g,
                         (long long)got, (long long)c);
            if (c) nonzero++;
            total += c;
        }
    }
    assert_int_equal(t->n, nonzero); /* nothing else in the table */
    assert_int_equal(total, (int64_t)n * (size / hop));
}

/* Runs the records through a fresh engine, closing every `every` records,
 * optionally through a checkpoint round trip each time, then flushes
 * everything with a record far in the future (not in the table). */
static void run_all(const rec_t *r, size_t n, int64_t size, int64_t hop, size_t every,
                    bool roundtrip, table_t *t) {
    swin_t *w = mk(size, hop, 5000, 0, 2);
    spate_buf_t k = {0}, blob = {0};
    for (size_t i = 0; i < n; i++) {
        gkey(&k, r[i].g);
        assert_int_equal(add(w, r[i].t, &k), SWIN_COUNTED);
        if ((i + 1) % every == 0) {
            close_into(w, t);
            if (roundtrip) {
                spate_buf_reset(&blob);
                swin_save(w, &blob);
                size_t cells = swin_cells(w);
                swin_free(w);
                w = mk(size, hop, 5000, 0, 2);
                char err[200];
                assert_int_equal(swin_load(w, blob.data, blob.len, err, sizeof err), SPATE_OK);
                assert_int_equal(swin_cells(w), cells);
            }
        }
    }
    spate_buf_reset(&k);
    swin_key_put(&k, "zz", 2);
    swin_key_put(&k, "zz", 2);
    assert_int_equal(add(w, r[n - 1].t + 100000000, &k), SWIN_COUNTED);
    close_into(w, t);
    assert_int_equal(swin_cells(w), size / hop); /* only the far record's windows */
    swin_free(w);
    spate_buf_free(&k);
    spate_buf_free(&blob);
}

static void test_independent_counts(void **st) {
    (void)st;
    rec_t *r = malloc(NREC * sizeof *r);
    gen(r, NREC);
    int64_t shapes[][2] = {{60000, 60000}, {60000, 20000}, {10000, 1000}, {7000, 7000}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int rt = 0; rt < 2; rt++) {
            table_t t = {0};
            run_all(r, NREC, shapes[s][0], shapes[s][1], rt ? 97 : 500, rt, &t);
            expect_table(r, NREC, shapes[s][0], shapes[s][1], &t);
            free(t.r);
        }
    }
    free(r);
}

/* ---- the sink's exactly-once protocol under kill -9 ----
 *
 * A model of the window sink (stream_window.c) around the engine: one
 * partition "users"/0 holding the records and then one far-future record;
 * durable things are the output table, the checkpoint bytes and the
 * committed offset. A checkpoint every `every` records: close and upsert
 * rows, store the state with next offset, then the commit may pass them
 * (committed only every second checkpoint, so restarts also meet records
 * between the commit and the checkpoint). The process is killed after
 * step `kill_at` (a record counted, rows written, state stored or offset
 * committed: every step boundary is tried), then restarted from the
 * durable things and run to the end. */

typedef struct {
    table_t t;
    spate_buf_t ckpt; /* empty: none */
    int64_t committed;
} durable_t;

/* Runs from the durable state; returns false when killed. */
static bool sim_run(durable_t *d, const rec_t *r, size_t n, size_t every, long kill_at,
                    long *steps) {
    swin_t *w = mk(60000, 20000, 5000, 0, 2);
    char err[200];
    if (d->ckpt.len) assert_int_equal(swin_load(w, d->ckpt.data, d->ckpt.len, err, sizeof err), 0);
    spate_buf_t k = {0};
    bool killed = false;
    size_t counted = 0, nckpt = 0;
#define STEP()                                                                                     \
    do {                                                                                           \
        if ((*steps)++ == kill_at) {                                                               \
            killed = true;                                                                         \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)
    for (int64_t off = d->committed; off <= (int64_t)n; off++) {
        if (off < swin_offset_get(w, "users", 0)) continue; /* already in the state */
        if (off < (int64_t)n) {
            gkey(&k, r[off].g);
            assert_int_equal(add(w, r[off].t, &k), SWIN_COUNTED);
        } else {
            spate_buf_reset(&k);
            swin_key_put(&k, "zz", 2);
            swin_key_put(&k, "zz", 2);
            assert_int_equal(add(w, r[n - 1].t + 100000000, &k), SWIN_COUNTED);
        }
        counted++;
        STEP();
        if (counted % every == 0 || off == (int64_t)n) {
            swin_row_t *rows;
            size_t nr = swin_close(w, &rows);
            for (size_t i = 0; i < nr; i++) {
                upsert(&d->t, &rows[i]);
                if (i == nr / 2 && (*steps)++ == kill_at) { /* killed halfway through */
                    swin_rows_free(rows, nr);
                    killed = true;
                    goto out;
                }
            }
            swin_rows_free(rows, nr);
            STEP();
            swin_offset_set(w, "users", 0, off + 1);
            spate_buf_reset(&d->ckpt);
            swin_save(w, &d->ckpt);
            STEP();
            if (++nckpt % 2 == 0 || off == (int64_t)n) {
                d->committed = off + 1;
                STEP();
            }
        }
    }
#undef STEP
out:
    swin_free(w);
    spate_buf_free(&k);
    return !killed;
}

static void test_kill_anywhere(void **st) {
    (void)st;
    enum { N = 260, EVERY = 23 };
    rec_t *r = malloc(N * sizeof *r);
    gen(r, N);
    /* the reference: no kill */
    durable_t ref = {0};
    long total = 0;
    assert_true(sim_run(&ref, r, N, EVERY, -1, &total));
    expect_table(r, N, 60000, 20000, &ref.t);
    assert_true(total > N);
    for (long kill_at = 0; kill_at < total; kill_at++) {
        durable_t d = {0};
        long steps = 0;
        assert_false(sim_run(&d, r, N, EVERY, kill_at, &steps));
        steps = 0;
        assert_true(sim_run(&d, r, N, EVERY, -1, &steps));
        expect_table(r, N, 60000, 20000, &d.t);
        free(d.t.r);
        spate_buf_free(&d.ckpt);
    }
    /* killed twice in a row */
    for (long kill_at = 0; kill_at < total; kill_at += 7) {
        durable_t d = {0};
        long steps = 0;
        assert_false(sim_run(&d, r, N, EVERY, kill_at, &steps));
        steps = 0;
        sim_run(&d, r, N, EVERY, kill_at / 2, &steps);
        steps = 0;
        assert_true(sim_run(&d, r, N, EVERY, -1, &steps));
        expect_table(r, N, 60000, 20000, &d.t);
        free(d.t.r);
        spate_buf_free(&d.ckpt);
    }
    free(ref.t.r);
    spate_buf_free(&ref.ckpt);
    free(r);
}

/* ---- checkpoint bytes ---- */

static const uint8_t empty_ckpt[] = {
    'S',  'W', 'N', '1',                   /* magic */
    0,    0,   0,   0,   0, 0, 0xea, 0x60, /* size 60000 */
    0,    0,   0,   0,   0, 0, 0x4e, 0x20, /* hop 20000 */
    0,    0,   0,   0,   0, 0, 0x03, 0xe8, /* delay 1000 */
    0,    0,   0,   0,   0, 0, 0,    0,    /* lateness 0 */
    0,    0,   0,   1,                     /* ngroup */
    0x80, 0,   0,   0,   0, 0, 0,    0,    /* no event yet */
    0,    0,   0,   0,                     /* positions */
    0,    0,   0,   0,                     /* cells */
};

static void test_checkpoint_bytes(void **st) {
    (void)st;
    swin_t *w = mk(60000, 20000, 1000, 0, 1);
    spate_buf_t b = {0}, k = {0};
    swin_save(w, &b);
    assert_int_equal(b.len, sizeof empty_ckpt);
    assert_memory_equal(b.data, empty_ckpt, sizeof empty_ckpt);
    /* one record at t = 41000, key "FR", position users/2 = 7 */
    key1(&k, "FR");
    assert_int_equal(add(w, 41000, &k), SWIN_COUNTED);
    swin_offset_set(w, "users", 2, 7);
    spate_buf_reset(&b);
    swin_save(w, &b);
    static const uint8_t tail[] = {
        0, 0, 0,   0,   0,   0,   0xa0, 0x28,                             /* max event 41000 */
        0, 0, 0,   1,                                                     /* 1 position */
        0, 5, 'u', 's', 'e', 'r', 's',  0,    0,   0,   2,                /* users/2 */
        0, 0, 0,   0,   0,   0,   0,    7,                                /* next 7 */
        0, 0, 0,   3,                                                     /* 3 cells */
        0, 0, 0,   0,   0,   0,   0,    0,    0,   0,   0, 0, 0, 0, 0, 1, /* start 0, count 1 */
        0, 0, 0,   6,   0,   0,   0,    2,    'F', 'R',                   /* key */
        0, 0, 0,   0,   0,   0,   0x4e, 0x20, 0,   0,   0, 0, 0, 0, 0, 1, /* start 20000 */
        0, 0, 0,   6,   0,   0,   0,    2,    'F', 'R',                   /* key */
        0, 0, 0,   0,   0,   0,   0x9c, 0x40, 0,   0,   0, 0, 0, 0, 0, 1, /* start 40000 */
        0, 0, 0,   6,   0,   0,   0,    2,    'F', 'R',                   /* key */
    };
    assert_int_equal(b.len, 40 + sizeof tail);
    assert_memory_equal(b.data, empty_ckpt, 40);
    assert_memory_equal(b.data + 40, tail, sizeof tail);
    swin_free(w);
    spate_buf_free(&b);
    spate_buf_free(&k);
}

/* The same state reached in another order gives the same bytes, and
 * load + save gives them back. */
static void test_checkpoint_deterministic(void **st) {
    (void)st;
    swin_t *a = mk(10000, 5000, 100000, 0, 2), *b = mk(10000, 5000, 100000, 0, 2);
    spate_buf_t k = {0}, ba = {0}, bb = {0}, bc = {0};
    rec_t r[200];
    gen(r, 200);
    for (int i = 0; i < 200; i++) {
        gkey(&k, r[i].g);
        add(a, r[i].t, &k);
        gkey(&k, r[199 - i].g);
        add(b, r[199 - i].t, &k);
    }
    swin_offset_set(a, "t2", 0, 5);
    swin_offset_set(a, "t1", 3, 9);
    swin_offset_set(a, "t1", 1, 4);
    swin_offset_set(b, "t1", 1, 4);
    swin_offset_set(b, "t1", 3, 2);
    swin_offset_set(b, "t1", 3, 9);
    swin_offset_set(b, "t2", 0, 5);
    swin_offset_set(b, "t2", 0, 3); /* keeps the larger */
    swin_save(a, &ba);
    swin_save(b, &bb);
    assert_int_equal(ba.len, bb.len);
    assert_memory_equal(ba.data, bb.data, ba.len);
    swin_t *c = mk(10000, 5000, 100000, 0, 2);
    char err[200];
    assert_int_equal(swin_load(c, ba.data, ba.len, err, sizeof err), SPATE_OK);
    assert_int_equal(swin_cells(c), swin_cells(a));
    assert_int_equal(swin_watermark(c), swin_watermark(a));
    assert_int_equal(swin_offset_get(c, "t1", 3), 9);
    assert_int_equal(swin_offset_get(c, "t1", 1), 4);
    assert_int_equal(swin_offset_get(c, "t2", 0), 5);
    assert_int_equal(swin_offset_get(c, "t2", 1), -1);
    assert_int_equal(swin_offset_get(c, "t3", 0), -1);
    gkey(&k, r[17].g);
    int64_t s0 = r[17].t - ((r[17].t % 5000) + 5000) % 5000;
    assert_true(count(c, s0, &k) > 0);
    assert_int_equal(count(c, s0, &k), count(a, s0, &k));
    swin_save(c, &bc);
    assert_int_equal(bc.len, ba.len);
    assert_memory_equal(bc.data, ba.data, ba.len);
    /* loading into a state that is not empty is refused, state untouched */
    assert_int_equal(swin_load(c, ba.data, ba.len, err, sizeof err), SPATE_EINVAL);
    assert_string_equal(err, "the state is not empty");
    assert_int_equal(swin_cells(c), swin_cells(a));
    swin_free(a);
    swin_free(b);
    swin_free(c);
    spate_buf_free(&k);
    spate_buf_free(&ba);
    spate_buf_free(&bb);
    spate_buf_free(&bc);
}

/* Loads p into a fresh (60000, 20000, 1000, 0, 1) engine: the status,
 * with err copied out; the engine must be empty after a failure. */
static spate_status_t load1(const void *p, size_t n, char *err, size_t errlen) {
    swin_t *w = mk(60000, 20000, 1000, 0, 1);
    spate_status_t st = swin_load(w, p, n, err, errlen);
    if (st != SPATE_OK) {
        assert_int_equal(swin_cells(w), 0);
        assert_int_equal(swin_watermark(w), INT64_MIN);
        assert_int_equal(swin_offset_get(w, "users", 2), -1);
        spate_buf_t b = {0};
        swin_save(w, &b);
        assert_int_equal(b.len, sizeof empty_ckpt);
        assert_memory_equal(b.data, empty_ckpt, b.len);
        spate_buf_free(&b);
    }
    swin_free(w);
    return st;
}

static void test_checkpoint_refused(void **st) {
    (void)st;
    swin_t *w = mk(60000, 20000, 1000, 0, 1);
    spate_buf_t b = {0}, k = {0};
    key1(&k, "FR");
    add(w, 41000, &k);
    key1(&k, "DE");
    add(w, 42000, &k);
    swin_offset_set(w, "users", 2, 7);
    swin_save(w, &b);
    swin_free(w);
    char err[300];
    assert_int_equal(load1(b.data, b.len, err, sizeof err), SPATE_OK);
    /* every truncation, and a byte more */
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(load1(b.data, n, err, sizeof err), SPATE_EINVAL);
    assert_int_equal(load1(b.data, 3, err, sizeof err), SPATE_EINVAL);
    assert_string_equal(err, "not a window checkpoint");
    assert_int_equal(load1(b.data, 20, err, sizeof err), SPATE_EINVAL);
    assert_string_equal(err, "checkpoint truncated in its header");
    spate_buf_append(&b, "", 1);
    assert_int_equal(load1(b.data, b.len, err, sizeof err), SPATE_EINVAL);
    assert_string_equal(err, "checkpoint: 1 bytes after the end");
    b.len--;
    /* other settings */
    w = mk(60000, 60000, 1000, 0, 1);
    assert_int_equal(swin_load(w, b.data, b.len, err, sizeof err), SPATE_EINVAL);
    assert_string_equal(err, "checkpoint taken with other window settings (size 60000ms, hop "
                             "20000ms, watermark_delay 1000ms, allowed_lateness 0ms, 1 group-by "
                             "fields)");
    swin_free(w);
    /* broken invariants, patched into a copy */
    size_t cell0 = 48 + 4 + 2 + 5 + 4 + 8 + 4; /* first cell: start 0, DE */
    struct {
        size_t at;
        uint8_t v;
        const char *err;
    } patches[] = {
        {0, 'X', "not a window checkpoint"},
        {40, 0x7f, "checkpoint: event time 9151314442816889872 out of range"},
        {48 + 3, 0, "no positions: cells misread"}, /* no positions → cells misread */
        {52 + 1, 0, "checkpoint: position 0: bad topic name"},
        {52 + 2 + 5, 0x80, "checkpoint: position 0: bad partition or offset"},
        {cell0 + 7, 0x01, "checkpoint: cell 0: bad window start 1"},
        {cell0 + 15, 0, "checkpoint: cell 0: count 0"},
        {cell0 + 8, 0x80, "checkpoint: cell 0: count -9223372036854775807"},
        {cell0 + 19, 7, "checkpoint: cell 0: malformed group key"},
    };
    for (size_t i = 0; i < sizeof patches / sizeof patches[0]; i++) {
        spate_buf_t c = {0};
        spate_buf_append(&c, b.data, b.len);
        ((uint8_t *)c.data)[patches[i].at] = patches[i].v;
        assert_int_equal(load1(c.data, c.len, err, sizeof err), SPATE_EINVAL);
        if (i != 2) assert_string_equal(err, patches[i].err);
        spate_buf_free(&c);
    }
    spate_buf_free(&b);

    /* a closed window, a duplicate cell, a duplicate position: built by
     * hand */
    spate_buf_t h = {0};
    spate_buf_append(&h, empty_ckpt, 40);
    spate_wr_u64(&h, 200000); /* max event: watermark 199000 */
    spate_wr_u32(&h, 2);
    spate_wr_str16(&h, "users", 5);
    spate_wr_u32(&h, 2);
    spate_wr_u64(&h, 7);
    spate_wr_str16(&h, "users", 5);
    spate_wr_u32(&h, 2);
    spate_wr_u64(&h, 9);
    spate_wr_u32(&h, 0);
    assert_int_equal(load1(h.data, h.len, err, sizeof err), SPATE_EINVAL);
    assert_string_equal(err, "checkpoint: users/2 twice");
    spate_buf_reset(&h);
    spate_buf_append(&h, empty_ckpt, 40);
    spate_wr_u64(&h, 200000);
    spate_wr_u32(&h, 0);
    spate_wr_u32(&h, 2);
    for (int i = 0; i < 2; i++) {
        spate_wr_u64(&h, 140000); /* ends at 200000 > 199000: open */
        spate_wr_u64(&h, 3);
        spate_wr_u32(&h, 6);
        swin_key_put(&h, "FR", 2);
    }
    assert_int_equal(load1(h.data, h.len, err, sizeof err), SPATE_EINVAL);
    assert_string_equal(err, "checkpoint: cell 1 twice");
    h.len -= 26;                         /* one cell */
    ((uint8_t *)h.data)[48 + 4 + 3] = 1; /* ncell 2 -> 1 */
    assert_int_equal(load1(h.data, h.len, err, sizeof err), SPATE_OK);
    ((uint8_t *)h.data)[56 + 7] = 0x20; /* start 0x22220 = 139808: misaligned */
    assert_int_equal(load1(h.data, h.len, err, sizeof err), SPATE_EINVAL);
    assert_string_equal(err, "checkpoint: cell 0: bad window start 139808");
    spate_buf_reset(&h);
    spate_buf_append(&h, empty_ckpt, 40);
    spate_wr_u64(&h, 200000);
    spate_wr_u32(&h, 0);
    spate_wr_u32(&h, 1);
    spate_wr_u64(&h, 120000); /* ends at 180000 <= 199000: closed */
    spate_wr_u64(&h, 3);
    spate_wr_u32(&h, 6);
    swin_key_put(&h, "FR", 2);
    assert_int_equal(load1(h.data, h.len, err, sizeof err), SPATE_EINVAL);
    assert_string_equal(err, "checkpoint: cell 0: window 120000 is closed");
    /* a huge cell count in few bytes */
    spate_buf_reset(&h);
    spate_buf_append(&h, empty_ckpt, sizeof empty_ckpt - 4);
    spate_wr_u32(&h, 0xffffffffu);
    assert_int_equal(load1(h.data, h.len, err, sizeof err), SPATE_EINVAL);
    assert_string_equal(err, "checkpoint: 4294967295 cells in 0 bytes");
    spate_buf_free(&h);
    spate_buf_free(&k);
}

/* ---- positions, keys, helpers ---- */

static void test_offsets(void **st) {
    (void)st;
    swin_t *w = mk(1000, 1000, 0, 0, 0);
    assert_int_equal(swin_offset_get(w, "a", 0), -1);
    swin_offset_set(w, "a", 0, 10);
    swin_offset_set(w, "a", 1, 3);
    swin_offset_set(w, "b", 0, 0);
    swin_offset_set(w, "a", 0, 4);
    assert_int_equal(swin_offset_get(w, "a", 0), 10);
    assert_int_equal(swin_offset_get(w, "a", 1), 3);
    assert_int_equal(swin_offset_get(w, "b", 0), 0);
    assert_int_equal(swin_offset_get(w, "b", 1), -1);
    for (int p = 0; p < 100; p++) swin_offset_set(w, "many", p, p * 2);
    for (int p = 0; p < 100; p++) assert_int_equal(swin_offset_get(w, "many", p), p * 2);
    swin_free(w);
}

static void test_keys(void **st) {
    (void)st;
    spate_buf_t k = {0};
    swin_key_put(&k, "FR", 2);
    swin_key_put(&k, "", 0);
    swin_key_put(&k, "a\0b", 3);
    assert_int_equal(k.len, 4 + 2 + 4 + 4 + 3);
    assert_memory_equal(k.data, "\0\0\0\2FR\0\0\0\0\0\0\0\3a\0b", k.len);
    const char *s;
    size_t n;
    assert_int_equal(swin_key_get(k.data, k.len, 0, &s, &n), SPATE_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(s, "FR", 2);
    assert_int_equal(swin_key_get(k.data, k.len, 1, &s, &n), SPATE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(swin_key_get(k.data, k.len, 2, &s, &n), SPATE_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(s, "a\0b", 3);
    assert_int_equal(swin_key_get(k.data, k.len, 3, &s, &n), SPATE_EINVAL);
    assert_int_equal(swin_key_get(k.data, k.len - 1, 2, &s, &n), SPATE_EINVAL);
    assert_int_equal(swin_key_get(k.data, 3, 0, &s, &n), SPATE_EINVAL);
    assert_int_equal(swin_key_get("", 0, 0, &s, &n), SPATE_EINVAL);
    spate_buf_free(&k);
}

static void test_event_time(void **st) {
    (void)st;
    struct {
        const char *json;
        spate_status_t st;
        int64_t ms;
    } cases[] = {
        {"1700000000123", SPATE_OK, 1700000000123LL},
        {"0", SPATE_OK, 0},
        {"-1", SPATE_OK, -1},
        {"1.9", SPATE_OK, 1},
        {"-1.5", SPATE_OK, -2},
        {"\"2024-05-01T12:00:00Z\"", SPATE_OK, 1714564800000LL},
        {"\"2024-05-01T12:00:00.250+02:00\"", SPATE_OK, 1714557600250LL},
        {"\"1970-01-01\"", SPATE_OK, 0},
        {"\"yesterday\"", SPATE_EINVAL, 0},
        {"\"\"", SPATE_EINVAL, 0},
        {"true", SPATE_EINVAL, 0},
        {"null", SPATE_EINVAL, 0},
        {"{}", SPATE_EINVAL, 0},
        {"253402300800000", SPATE_EINVAL, 0},
        {"-62167219200001", SPATE_EINVAL, 0},
        {"1e300", SPATE_EINVAL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        int64_t ms = 42;
        spate_status_t s = swin_event_time(v, &ms);
        if (s != cases[i].st) fail_msg("%s: status %d", cases[i].json, (int)s);
        assert_int_equal(ms, cases[i].st == SPATE_OK ? cases[i].ms : 42);
        json_decref(v);
    }
    int64_t ms = 42;
    assert_int_equal(swin_event_time(NULL, &ms), SPATE_EINVAL);
    assert_int_equal(ms, 42);
}

static void test_value_text(void **st) {
    (void)st;
    struct {
        const char *json, *text;
    } cases[] = {
        {"\"FR\"", "FR"},
        {"\"\"", ""},
        {"12", "12"},
        {"1.5", "1.5"},
        {"true", "true"},
        {"null", ""},
        {"[1,\"a\"]", "[1,\"a\"]"},
        {"{\"a\": 1}", "{\"a\":1}"},
    };
    spate_buf_t b = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        spate_buf_reset(&b);
        swin_value_text(v, &b);
        assert_int_equal(b.len, strlen(cases[i].text));
        if (b.len) assert_memory_equal(b.data, cases[i].text, b.len);
        json_decref(v);
    }
    spate_buf_reset(&b);
    swin_value_text(NULL, &b);
    assert_int_equal(b.len, 0);
    spate_buf_free(&b);
}

static void test_column_name(void **st) {
    (void)st;
    char out[49];
    assert_int_equal(swin_column_name("location.country", out, sizeof out), SPATE_OK);
    assert_string_equal(out, "location_country");
    assert_int_equal(swin_column_name("$.nat", out, sizeof out), SPATE_OK);
    assert_string_equal(out, "nat");
    assert_int_equal(swin_column_name("gender", out, sizeof out), SPATE_OK);
    assert_string_equal(out, "gender");
    assert_int_equal(swin_column_name("Nat_2", out, sizeof out), SPATE_OK);
    assert_string_equal(out, "Nat_2");
    const char *bad[] = {"",
                         "$",
                         "count",
                         "window_start",
                         "window_end",
                         "2nd",
                         "a-b",
                         "a[0]",
                         "a b",
                         "\"q\"",
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (swin_column_name(bad[i], out, sizeof out) != SPATE_EINVAL) fail_msg("%s", bad[i]);
    /* 48 bytes is the most */
    assert_int_equal(
        swin_column_name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", out, sizeof out),
        SPATE_OK);
    assert_int_equal(strlen(out), 48);
    assert_int_equal(swin_column_name("abcdef", out, 4), SPATE_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf),
        cmocka_unit_test(test_tumbling),
        cmocka_unit_test(test_hopping),
        cmocka_unit_test(test_watermark_lateness),
        cmocka_unit_test(test_add_errors),
        cmocka_unit_test(test_independent_counts),
        cmocka_unit_test(test_kill_anywhere),
        cmocka_unit_test(test_checkpoint_bytes),
        cmocka_unit_test(test_checkpoint_deterministic),
        cmocka_unit_test(test_checkpoint_refused),
        cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_event_time),
        cmocka_unit_test(test_value_text),
        cmocka_unit_test(test_column_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
