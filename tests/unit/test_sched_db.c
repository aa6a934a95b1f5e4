/*
 * test_sched_db.c — the scheduler's metadata (src/sched/sched_db.c) and
 * the `scheduler:` config section (src/sched/sched_config.c).
 *
 * The metadata tests are one body run against a temporary SQLite file and,
 * when SPATE_TEST_PG_URL names a PostgreSQL database (an empty one:
 * tests/client/test_sched_db_pg.py makes a fresh one), against that too;
 * without it the PostgreSQL part prints that it was skipped. The body
 * checks what the scheduler and the CLI rely on: the schema is created
 * once and reopening is a no-op; every field survives a round trip; a
 * second run with the same run_id, or a second scheduled/backfill run at
 * the same logical date, is EEXIST while a manual one is not; unknown
 * rows are ENOENT; state masks, newest-first order and limits; task
 * instances replace by key and need their run; rollback undoes; callbacks
 * may use the handle. A run's conf (schema version 2) round-trips, is
 * "{}" when none was given, and is not changed by an update; a file made
 * by the version-1 schema (its SQL is kept here, as it was shipped) gains
 * the conf column on open, and its runs read conf "{}".
 * Transactions: a duplicate run inside one is EEXIST without aborting it
 * (PostgreSQL), run_at finds the automated run of a date, and a COMMIT that
 * PostgreSQL answers with ROLLBACK (a failed statement before) is EIO with
 * nothing kept. Run ids: Airflow's ^[A-Za-z0-9_.~:+-]+$, not "." or "..",
 * EINVAL before SQL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched.h"

#define T0 1793491200000LL /* 2026-11-01T00:00:00Z */
#define DAY 86400000LL

static char tmpdir[256];
static char sqlite_url[300];
static const char *current_url; /* the back end the body runs against */

static spate_sched_db_t *open_ok(const char *url) {
    spate_sched_db_t *db = NULL;
    char err[512] = "";
    spate_status_t s = spate_sched_db_open(&db, url, err, sizeof err);
    if (s != SPATE_OK) fail_msg("open %s: %s: %s", url, spate_status_str(s), err);
    return db;
}

static spate_sched_run_t mkrun(const char *dag, const char *run_id, spate_sched_run_type_t t,
                               int64_t logical) {
    spate_sched_run_t r;
    memset(&r, 0, sizeof r);
    snprintf(r.dag_id, sizeof r.dag_id, "%s", dag);
    snprintf(r.run_id, sizeof r.run_id, "%s", run_id);
    r.type = t;
    r.state = SPATE_RUN_QUEUED;
    r.logical_date_ms = logical;
    r.data_interval_start_ms = logical;
    r.data_interval_end_ms = logical + DAY;
    r.queued_ms = logical + DAY + 5;
    return r;
}

static spate_sched_ti_t mkti(const char *dag, const char *run, const char *task) {
    spate_sched_ti_t t;
    memset(&t, 0, sizeof t);
    snprintf(t.dag_id, sizeof t.dag_id, "%s", dag);
    snprintf(t.run_id, sizeof t.run_id, "%s", run);
    snprintf(t.task_id, sizeof t.task_id, "%s", task);
    t.state = SPATE_TI_NONE;
    t.max_tries = 1;
    t.exit_code = -1;
    return t;
}

/* Collects run ids "a,b,c" in callback order. */
typedef struct {
    char ids[4096];
    size_t n;
    size_t stop_after; /* 0 = never */
} collect_t;

static bool collect_run(void *ctx, const spate_sched_run_t *r) {
    collect_t *c = ctx;
    size_t len = strlen(c->ids);
    snprintf(c->ids + len, sizeof c->ids - len, "%s%s", len ? "," : "", r->run_id);
    c->n++;
    return c->stop_after == 0 || c->n < c->stop_after;
}

static bool collect_ti(void *ctx, const spate_sched_ti_t *t) {
    collect_t *c = ctx;
    size_t len = strlen(c->ids);
    snprintf(c->ids + len, sizeof c->ids - len, "%s%s/%s", len ? "," : "", t->run_id, t->task_id);
    c->n++;
    return c->stop_after == 0 || c->n < c->stop_after;
}

static const char *runs_of(spate_sched_db_t *db, const char *dag, unsigned mask, size_t limit,
                           collect_t *c) {
    memset(c, 0, sizeof *c);
    assert_int_equal(spate_sched_db_runs(db, dag, mask, limit, collect_run, c), SPATE_OK);
    return c->ids;
}

static const char *tis_of(spate_sched_db_t *db, const char *dag, const char *run, unsigned mask,
                          collect_t *c) {
    memset(c, 0, sizeof *c);
    assert_int_equal(spate_sched_db_tis(db, dag, run, mask, collect_ti, c), SPATE_OK);
    return c->ids;
}

/* ------------------------------------------------------------------ */
/* The body, run per back end                                          */
/* ------------------------------------------------------------------ */

static void body_migrations(void) {
    spate_sched_db_t *db = open_ok(current_url);
    assert_int_equal(spate_sched_db_schema_version(db), 2);
    assert_int_equal(spate_sched_db_dag_ensure(db, "mig", false), SPATE_OK);
    spate_sched_db_close(db);
    /* Reopening applies nothing and keeps the data. */
    db = open_ok(current_url);
    assert_int_equal(spate_sched_db_schema_version(db), 2);
    bool paused = true;
    assert_int_equal(spate_sched_db_dag_paused(db, "mig", &paused), SPATE_OK);
    assert_false(paused);
    spate_sched_db_close(db);
}

static void body_dags(void) {
    spate_sched_db_t *db = open_ok(current_url);
    bool paused = false;
    assert_int_equal(spate_sched_db_dag_paused(db, "d1", &paused), SPATE_ENOENT);
    assert_non_null(strstr(spate_sched_db_error(db), "d1"));
    assert_int_equal(spate_sched_db_dag_set_paused(db, "d1", true), SPATE_ENOENT);

    assert_int_equal(spate_sched_db_dag_ensure(db, "d1", true), SPATE_OK);
    assert_int_equal(spate_sched_db_dag_paused(db, "d1", &paused), SPATE_OK);
    assert_true(paused);
    /* A second ensure leaves the flag the user set alone. */
    assert_int_equal(spate_sched_db_dag_ensure(db, "d1", false), SPATE_OK);
    assert_int_equal(spate_sched_db_dag_paused(db, "d1", &paused), SPATE_OK);
    assert_true(paused);
    assert_int_equal(spate_sched_db_dag_set_paused(db, "d1", false), SPATE_OK);
    assert_int_equal(spate_sched_db_dag_paused(db, "d1", &paused), SPATE_OK);
    assert_false(paused);
    assert_int_equal(spate_sched_db_dag_ensure(db, "d1", true), SPATE_OK);
    assert_int_equal(spate_sched_db_dag_paused(db, "d1", &paused), SPATE_OK);
    assert_false(paused);
    spate_sched_db_close(db);
}

static void body_runs(void) {
    spate_sched_db_t *db = open_ok(current_url);
    spate_sched_run_t r =
        mkrun("r1", "scheduled__2026-11-01T00:00:00+00:00", SPATE_RUN_SCHEDULED, T0);
    r.start_ms = T0 + DAY + 10;
    r.end_ms = 0;
    assert_int_equal(spate_sched_db_run_create(db, &r), SPATE_OK);

    spate_sched_run_t g;
    assert_int_equal(spate_sched_db_run_get(db, "r1", r.run_id, &g), SPATE_OK);
    assert_string_equal(g.dag_id, "r1");
    assert_string_equal(g.run_id, "scheduled__2026-11-01T00:00:00+00:00");
    assert_int_equal(g.type, SPATE_RUN_SCHEDULED);
    assert_int_equal(g.state, SPATE_RUN_QUEUED);
    assert_int_equal(g.logical_date_ms, T0);
    assert_int_equal(g.data_interval_start_ms, T0);
    assert_int_equal(g.data_interval_end_ms, T0 + DAY);
    assert_int_equal(g.queued_ms, T0 + DAY + 5);
    assert_int_equal(g.start_ms, T0 + DAY + 10);
    assert_int_equal(g.end_ms, 0);

    /* Same run id: EEXIST, whatever the date. */
    spate_sched_run_t dup = mkrun("r1", r.run_id, SPATE_RUN_MANUAL, T0 + 7 * DAY);
    assert_int_equal(spate_sched_db_run_create(db, &dup), SPATE_EEXIST);
    assert_non_null(strstr(spate_sched_db_error(db), "r1"));
    /* Same logical date: EEXIST for scheduled and backfill runs ... */
    dup = mkrun("r1", "scheduled__other", SPATE_RUN_SCHEDULED, T0);
    assert_int_equal(spate_sched_db_run_create(db, &dup), SPATE_EEXIST);
    dup = mkrun("r1", "backfill__2026-11-01T00:00:00+00:00", SPATE_RUN_BACKFILL, T0);
    assert_int_equal(spate_sched_db_run_create(db, &dup), SPATE_EEXIST);
    /* ... but manual runs may share it (Airflow: trigger any time). */
    dup = mkrun("r1", "manual__2026-11-01T00:00:00+00:00", SPATE_RUN_MANUAL, T0);
    assert_int_equal(spate_sched_db_run_create(db, &dup), SPATE_OK);
    dup = mkrun("r1", "manual__2", SPATE_RUN_MANUAL, T0);
    assert_int_equal(spate_sched_db_run_create(db, &dup), SPATE_OK);
    /* Another DAG may use the same run id and date. */
    dup = mkrun("r2", r.run_id, SPATE_RUN_SCHEDULED, T0);
    assert_int_equal(spate_sched_db_run_create(db, &dup), SPATE_OK);
    /* Empty ids are refused before SQL. */
    dup = mkrun("r1", "", SPATE_RUN_MANUAL, T0);
    assert_int_equal(spate_sched_db_run_create(db, &dup), SPATE_EINVAL);

    assert_int_equal(spate_sched_db_run_get(db, "r1", "nope", &g), SPATE_ENOENT);
    assert_int_equal(spate_sched_db_run_get(db, "nope", r.run_id, &g), SPATE_ENOENT);

    /* Update every mutable field. */
    r.state = SPATE_RUN_SUCCESS;
    r.start_ms = T0 + DAY + 11;
    r.end_ms = T0 + DAY + 99;
    r.queued_ms = T0 + DAY + 6;
    assert_int_equal(spate_sched_db_run_update(db, &r), SPATE_OK);
    assert_int_equal(spate_sched_db_run_get(db, "r1", r.run_id, &g), SPATE_OK);
    assert_int_equal(g.state, SPATE_RUN_SUCCESS);
    assert_int_equal(g.start_ms, T0 + DAY + 11);
    assert_int_equal(g.end_ms, T0 + DAY + 99);
    assert_int_equal(g.queued_ms, T0 + DAY + 6);
    spate_sched_run_t ghost = mkrun("r1", "ghost", SPATE_RUN_MANUAL, T0);
    assert_int_equal(spate_sched_db_run_update(db, &ghost), SPATE_ENOENT);
    /* No conf given: "{}". */
    assert_string_equal(g.conf, "{}");
    spate_sched_db_close(db);
}

static bool collect_conf(void *ctx, const spate_sched_run_t *r) {
    collect_t *c = ctx;
    size_t len = strlen(c->ids);
    snprintf(c->ids + len, sizeof c->ids - len, "%s%s=%s", len ? ";" : "", r->run_id, r->conf);
    c->n++;
    return true;
}

static void body_run_conf(void) {
    spate_sched_db_t *db = open_ok(current_url);
    spate_sched_run_t r = mkrun("cf", "manual__c1", SPATE_RUN_MANUAL, T0);
    snprintf(r.conf, sizeof r.conf, "%s", "{\"count\":300,\"s\":\"a'b\\\"c\"}");
    assert_int_equal(spate_sched_db_run_create(db, &r), SPATE_OK);
    spate_sched_run_t g;
    assert_int_equal(spate_sched_db_run_get(db, "cf", "manual__c1", &g), SPATE_OK);
    assert_string_equal(g.conf, "{\"count\":300,\"s\":\"a'b\\\"c\"}");
    /* The longest conf that fits survives whole. */
    spate_sched_run_t big = mkrun("cf", "manual__big", SPATE_RUN_MANUAL, T0 + DAY);
    memset(big.conf, 'x', sizeof big.conf - 1);
    big.conf[0] = '{';
    big.conf[1] = '"';
    big.conf[sizeof big.conf - 4] = '"';
    big.conf[sizeof big.conf - 3] = ':';
    big.conf[sizeof big.conf - 2] = '1';
    /* (not an object's full text; the db stores text, the API checks it) */
    big.conf[sizeof big.conf - 1] = '\0';
    assert_int_equal(spate_sched_db_run_create(db, &big), SPATE_OK);
    spate_sched_run_t gb;
    assert_int_equal(spate_sched_db_run_get(db, "cf", "manual__big", &gb), SPATE_OK);
    assert_int_equal(strlen(gb.conf), sizeof gb.conf - 1);
    assert_memory_equal(gb.conf, big.conf, sizeof gb.conf);
    /* An update keeps the conf it was created with. */
    g.state = SPATE_RUN_RUNNING;
    snprintf(g.conf, sizeof g.conf, "{\"count\":1}");
    assert_int_equal(spate_sched_db_run_update(db, &g), SPATE_OK);
    assert_int_equal(spate_sched_db_run_get(db, "cf", "manual__c1", &g), SPATE_OK);
    assert_int_equal(g.state, SPATE_RUN_RUNNING);
    assert_string_equal(g.conf, "{\"count\":300,\"s\":\"a'b\\\"c\"}");
    /* Listings carry it too; an empty conf field is stored as "{}". */
    spate_sched_run_t e = mkrun("cf", "manual__e", SPATE_RUN_MANUAL, T0 - DAY);
    assert_int_equal(spate_sched_db_run_create(db, &e), SPATE_OK);
    collect_t c;
    memset(&c, 0, sizeof c);
    assert_int_equal(spate_sched_db_runs(db, "cf", 0, 0, collect_conf, &c), SPATE_OK);
    assert_int_equal(c.n, 3);
    assert_non_null(strstr(c.ids, "manual__c1={\"count\":300,\"s\":\"a'b\\\"c\"};manual__e={}"));
    spate_sched_db_close(db);
}

static void body_run_queries(void) {
    spate_sched_db_t *db = open_ok(current_url);
    /* q1: scheduled at T0..T0+3d, states q r s f; a manual later one. */
    const spate_sched_run_state_t states[] = {SPATE_RUN_QUEUED, SPATE_RUN_RUNNING,
                                              SPATE_RUN_SUCCESS, SPATE_RUN_FAILED};
    for (int i = 0; i < 4; i++) {
        char id[64];
        snprintf(id, sizeof id, "s%d", i);
        spate_sched_run_t r = mkrun("q1", id, SPATE_RUN_SCHEDULED, T0 + i * DAY);
        r.state = states[i];
        assert_int_equal(spate_sched_db_run_create(db, &r), SPATE_OK);
    }
    spate_sched_run_t m = mkrun("q1", "m9", SPATE_RUN_MANUAL, T0 + 9 * DAY);
    assert_int_equal(spate_sched_db_run_create(db, &m), SPATE_OK);
    spate_sched_run_t b = mkrun("q1", "b5", SPATE_RUN_BACKFILL, T0 + 5 * DAY);
    assert_int_equal(spate_sched_db_run_create(db, &b), SPATE_OK);
    spate_sched_run_t o = mkrun("q2", "o1", SPATE_RUN_SCHEDULED, T0 + 4 * DAY);
    assert_int_equal(spate_sched_db_run_create(db, &o), SPATE_OK);

    collect_t c;
    assert_string_equal(runs_of(db, "q1", 0, 0, &c), "m9,b5,s3,s2,s1,s0");
    assert_string_equal(runs_of(db, "q1", 0, 2, &c), "m9,b5");
    assert_string_equal(runs_of(db, "q1", 1u << SPATE_RUN_QUEUED, 0, &c), "m9,b5,s0");
    assert_string_equal(
        runs_of(db, "q1", (1u << SPATE_RUN_RUNNING) | (1u << SPATE_RUN_FAILED), 0, &c), "s3,s1");
    assert_string_equal(runs_of(db, "q1", 1u << SPATE_RUN_SUCCESS, 1, &c), "s2");
    assert_string_equal(runs_of(db, "q2", 0, 0, &c), "o1");
    assert_string_equal(runs_of(db, "none", 0, 0, &c), "");
    /* NULL: every DAG, still newest first. */
    assert_string_equal(runs_of(db, NULL, 0, 3, &c), "m9,b5,o1");
    /* The callback stops the walk. */
    memset(&c, 0, sizeof c);
    c.stop_after = 2;
    assert_int_equal(spate_sched_db_runs(db, "q1", 0, 0, collect_run, &c), SPATE_OK);
    assert_string_equal(c.ids, "m9,b5");

    int64_t last = 0;
    assert_int_equal(spate_sched_db_last_scheduled(db, "q1", &last), SPATE_OK);
    assert_int_equal(last, T0 + 3 * DAY); /* manual and backfill runs do not count */
    assert_int_equal(spate_sched_db_last_scheduled(db, "none", &last), SPATE_OK);
    assert_true(last == INT64_MIN);
    spate_sched_db_close(db);
}

static void body_tis(void) {
    spate_sched_db_t *db = open_ok(current_url);
    spate_sched_run_t r1 = mkrun("t1", "run_a", SPATE_RUN_MANUAL, T0);
    spate_sched_run_t r2 = mkrun("t1", "run_b", SPATE_RUN_MANUAL, T0 + DAY);
    spate_sched_run_t r3 = mkrun("t2", "run_a", SPATE_RUN_MANUAL, T0);
    assert_int_equal(spate_sched_db_run_create(db, &r1), SPATE_OK);
    assert_int_equal(spate_sched_db_run_create(db, &r2), SPATE_OK);
    assert_int_equal(spate_sched_db_run_create(db, &r3), SPATE_OK);

    spate_sched_ti_t t = mkti("t1", "run_a", "extract");
    t.state = SPATE_TI_RUNNING;
    t.try_number = 2;
    t.max_tries = 4;
    t.start_ms = T0 + 1;
    t.end_ms = T0 + 2;
    t.queued_ms = T0 + 3;
    t.next_try_ms = T0 + 4;
    t.heartbeat_ms = T0 + 5;
    t.pid = 4242;
    snprintf(t.hostname, sizeof t.hostname, "worker-1");
    snprintf(t.pool, sizeof t.pool, "kafka");
    t.exit_code = 3;
    assert_int_equal(spate_sched_db_ti_put(db, &t), SPATE_OK);
    spate_sched_ti_t g;
    assert_int_equal(spate_sched_db_ti_get(db, "t1", "run_a", "extract", &g), SPATE_OK);
    assert_string_equal(g.dag_id, "t1");
    assert_string_equal(g.run_id, "run_a");
    assert_string_equal(g.task_id, "extract");
    assert_int_equal(g.state, SPATE_TI_RUNNING);
    assert_int_equal(g.try_number, 2);
    assert_int_equal(g.max_tries, 4);
    assert_int_equal(g.start_ms, T0 + 1);
    assert_int_equal(g.end_ms, T0 + 2);
    assert_int_equal(g.queued_ms, T0 + 3);
    assert_int_equal(g.next_try_ms, T0 + 4);
    assert_int_equal(g.heartbeat_ms, T0 + 5);
    assert_int_equal(g.pid, 4242);
    assert_string_equal(g.hostname, "worker-1");
    assert_string_equal(g.pool, "kafka");
    assert_int_equal(g.exit_code, 3);

    /* put replaces by key. */
    t.state = SPATE_TI_UP_FOR_RETRY;
    t.pid = 0;
    t.exit_code = 1;
    snprintf(t.pool, sizeof t.pool, "%s", "");
    assert_int_equal(spate_sched_db_ti_put(db, &t), SPATE_OK);
    assert_int_equal(spate_sched_db_ti_get(db, "t1", "run_a", "extract", &g), SPATE_OK);
    assert_int_equal(g.state, SPATE_TI_UP_FOR_RETRY);
    assert_int_equal(g.pid, 0);
    assert_int_equal(g.exit_code, 1);
    assert_string_equal(g.pool, "default_pool"); /* empty pool means the default */

    assert_int_equal(spate_sched_db_ti_get(db, "t1", "run_a", "nope", &g), SPATE_ENOENT);
    /* A task instance needs its run. */
    spate_sched_ti_t orphan = mkti("t1", "no_such_run", "x");
    assert_int_equal(spate_sched_db_ti_put(db, &orphan), SPATE_ENOENT);
    assert_non_null(strstr(spate_sched_db_error(db), "no_such_run"));

    /* Every state once, for the masks. */
    static const char *const names[] = {"n", "sc", "q", "ru", "su", "f", "ufr", "uf", "sk"};
    for (int s = SPATE_TI_NONE; s <= SPATE_TI_SKIPPED; s++) {
        spate_sched_ti_t x = mkti("t1", "run_b", names[s]);
        x.state = (spate_sched_ti_state_t)s;
        x.start_ms = 100 - s; /* order within a run is by start time */
        assert_int_equal(spate_sched_db_ti_put(db, &x), SPATE_OK);
    }
    spate_sched_ti_t other = mkti("t2", "run_a", "load");
    other.state = SPATE_TI_SUCCESS;
    assert_int_equal(spate_sched_db_ti_put(db, &other), SPATE_OK);

    collect_t c;
    assert_string_equal(tis_of(db, "t1", "run_a", 0, &c), "run_a/extract");
    assert_string_equal(tis_of(db, "t1", "run_b", 0, &c),
                        "run_b/sk,run_b/uf,run_b/ufr,run_b/f,run_b/su,run_b/ru,run_b/q,run_b/sc,"
                        "run_b/n");
    for (int s = SPATE_TI_NONE; s <= SPATE_TI_SKIPPED; s++) {
        char want[64];
        snprintf(want, sizeof want, "run_b/%s", names[s]);
        assert_string_equal(tis_of(db, "t1", "run_b", 1u << s, &c), want);
    }
    assert_string_equal(
        tis_of(db, "t1", NULL, (1u << SPATE_TI_UP_FOR_RETRY) | (1u << SPATE_TI_SUCCESS), &c),
        "run_a/extract,run_b/ufr,run_b/su");
    assert_string_equal(tis_of(db, NULL, NULL, 1u << SPATE_TI_SUCCESS, &c), "run_b/su,run_a/load");
    assert_string_equal(tis_of(db, NULL, "run_a", 0, &c), "run_a/extract,run_a/load");
    memset(&c, 0, sizeof c);
    c.stop_after = 1;
    assert_int_equal(spate_sched_db_tis(db, "t1", "run_b", 0, collect_ti, &c), SPATE_OK);
    assert_string_equal(c.ids, "run_b/sk");
    spate_sched_db_close(db);
}

static void body_transactions(void) {
    spate_sched_db_t *db = open_ok(current_url);
    spate_sched_run_t r = mkrun("x1", "rolled", SPATE_RUN_MANUAL, T0);
    assert_int_equal(spate_sched_db_begin(db), SPATE_OK);
    assert_int_equal(spate_sched_db_run_create(db, &r), SPATE_OK);
    spate_sched_ti_t t = mkti("x1", "rolled", "a");
    assert_int_equal(spate_sched_db_ti_put(db, &t), SPATE_OK);
    spate_sched_db_rollback(db);
    spate_sched_run_t g;
    assert_int_equal(spate_sched_db_run_get(db, "x1", "rolled", &g), SPATE_ENOENT);
    spate_sched_ti_t gt;
    assert_int_equal(spate_sched_db_ti_get(db, "x1", "rolled", "a", &gt), SPATE_ENOENT);

    snprintf(r.run_id, sizeof r.run_id, "kept");
    snprintf(t.run_id, sizeof t.run_id, "kept");
    assert_int_equal(spate_sched_db_begin(db), SPATE_OK);
    assert_int_equal(spate_sched_db_run_create(db, &r), SPATE_OK);
    assert_int_equal(spate_sched_db_ti_put(db, &t), SPATE_OK);
    assert_int_equal(spate_sched_db_commit(db), SPATE_OK);
    spate_sched_db_close(db);
    /* Visible from another handle. */
    db = open_ok(current_url);
    assert_int_equal(spate_sched_db_run_get(db, "x1", "kept", &g), SPATE_OK);
    assert_int_equal(spate_sched_db_ti_get(db, "x1", "kept", "a", &gt), SPATE_OK);
    /* An error inside a transaction leaves the handle usable after rollback. */
    assert_int_equal(spate_sched_db_begin(db), SPATE_OK);
    assert_int_equal(spate_sched_db_run_create(db, &r), SPATE_EEXIST);
    spate_sched_db_rollback(db);
    assert_int_equal(spate_sched_db_run_get(db, "x1", "kept", &g), SPATE_OK);
    spate_sched_db_close(db);
}

/* Regression (PostgreSQL): an expected duplicate run must not abort the
 * transaction around it, and a COMMIT that PostgreSQL answers with
 * ROLLBACK (an earlier statement failed) must not report success. */
static void body_txn_errors(void) {
    bool pg = strncmp(current_url, "postgres", 8) == 0;
    spate_sched_db_t *db = open_ok(current_url);
    spate_sched_run_t a = mkrun("x2", "backfill__a", SPATE_RUN_BACKFILL, T0);
    assert_int_equal(spate_sched_db_run_create(db, &a), SPATE_OK);
    assert_int_equal(spate_sched_db_begin(db), SPATE_OK);
    spate_sched_run_t dup = mkrun("x2", "scheduled__a", SPATE_RUN_SCHEDULED, T0);
    assert_int_equal(spate_sched_db_run_create(db, &dup), SPATE_EEXIST);
    dup = mkrun("x2", "backfill__a", SPATE_RUN_MANUAL, T0 + DAY);
    assert_int_equal(spate_sched_db_run_create(db, &dup), SPATE_EEXIST);
    spate_sched_run_t b = mkrun("x2", "scheduled__b", SPATE_RUN_SCHEDULED, T0 + DAY);
    assert_int_equal(spate_sched_db_run_create(db, &b), SPATE_OK);
    assert_int_equal(spate_sched_db_commit(db), SPATE_OK);
    spate_sched_run_t g;
    assert_int_equal(spate_sched_db_run_get(db, "x2", "scheduled__b", &g), SPATE_OK);
    assert_int_equal(spate_sched_db_run_get(db, "x2", "scheduled__a", &g), SPATE_ENOENT);

    /* run_at: the automated run of a logical date, never a manual one */
    char id[256] = "";
    assert_int_equal(spate_sched_db_run_at(db, "x2", T0, id, sizeof id), SPATE_OK);
    assert_string_equal(id, "backfill__a");
    assert_int_equal(spate_sched_db_run_at(db, "x2", T0 + DAY, id, sizeof id), SPATE_OK);
    assert_string_equal(id, "scheduled__b");
    spate_sched_run_t m = mkrun("x2", "manual__c", SPATE_RUN_MANUAL, T0 + 2 * DAY);
    assert_int_equal(spate_sched_db_run_create(db, &m), SPATE_OK);
    assert_int_equal(spate_sched_db_run_at(db, "x2", T0 + 2 * DAY, id, sizeof id), SPATE_ENOENT);

    /* A failed statement inside a transaction: PostgreSQL aborts the
     * transaction and COMMIT must say so (EIO); SQLite only fails the
     * statement and keeps the rest. */
    assert_int_equal(spate_sched_db_begin(db), SPATE_OK);
    spate_sched_run_t lost = mkrun("x2", "manual__lost", SPATE_RUN_MANUAL, T0);
    assert_int_equal(spate_sched_db_run_create(db, &lost), SPATE_OK);
    spate_sched_ti_t orphan = mkti("x2", "no_such_run", "a"); /* foreign key */
    assert_int_equal(spate_sched_db_ti_put(db, &orphan), SPATE_ENOENT);
    if (pg) {
        assert_int_equal(spate_sched_db_commit(db), SPATE_EIO);
        assert_non_null(strstr(spate_sched_db_error(db), "ROLLBACK"));
        assert_int_equal(spate_sched_db_run_get(db, "x2", "manual__lost", &g), SPATE_ENOENT);
    } else {
        assert_int_equal(spate_sched_db_commit(db), SPATE_OK);
        assert_int_equal(spate_sched_db_run_get(db, "x2", "manual__lost", &g), SPATE_OK);
    }
    /* the handle works on */
    assert_int_equal(spate_sched_db_begin(db), SPATE_OK);
    assert_int_equal(spate_sched_db_run_get(db, "x2", "backfill__a", &g), SPATE_OK);
    assert_int_equal(spate_sched_db_commit(db), SPATE_OK);
    spate_sched_db_close(db);
}

/* Run ids become folders of DATA_DIR/logs/DAG/: Airflow's pattern. */
static void body_run_id_validation(void) {
    static const char *const bad[] = {
        "../../../../tmp/x", "..", ".", "a/b", "a b", "a\\b", "x\n", "caf\xc3\xa9", "$(id)", ""};
    static const char *const good[] = {"manual__2026-11-01T00:00:00.123000+00:00", "A~z:9+_.-",
                                       "...", "..x", "x"};
    spate_sched_db_t *db = open_ok(current_url);
    for (size_t i = 0; i < SPATE_ARRAY_LEN(bad); i++) {
        assert_false(spate_sched_run_id_valid(bad[i]));
        spate_sched_run_t r = mkrun("v1", bad[i], SPATE_RUN_MANUAL, T0);
        assert_int_equal(spate_sched_db_run_create(db, &r), SPATE_EINVAL);
    }
    for (size_t i = 0; i < SPATE_ARRAY_LEN(good); i++) {
        assert_true(spate_sched_run_id_valid(good[i]));
        spate_sched_run_t r = mkrun("v1", good[i], SPATE_RUN_MANUAL, T0);
        assert_int_equal(spate_sched_db_run_create(db, &r), SPATE_OK);
    }
    spate_sched_run_t r = mkrun("v1", "../../x", SPATE_RUN_MANUAL, T0);
    assert_int_equal(spate_sched_db_run_create(db, &r), SPATE_EINVAL);
    assert_non_null(strstr(spate_sched_db_error(db), "^[A-Za-z0-9_.~:+-]+$"));
    char longid[300];
    memset(longid, 'a', sizeof longid);
    longid[256] = '\0'; /* 256 characters: does not fit run_id[256] */
    assert_false(spate_sched_run_id_valid(longid));
    longid[255] = '\0';
    assert_true(spate_sched_run_id_valid(longid));
    assert_false(spate_sched_run_id_valid(NULL));
    spate_sched_db_close(db);
}

/* A callback that writes through the same handle (the scheduler walks
 * runs and updates them as it goes). */
typedef struct {
    spate_sched_db_t *db;
    int seen;
} reenter_t;

static bool reenter_ti(void *ctx, const spate_sched_ti_t *ti) {
    reenter_t *re = ctx;
    spate_sched_ti_t t = *ti;
    t.state = SPATE_TI_SCHEDULED;
    assert_int_equal(spate_sched_db_ti_put(re->db, &t), SPATE_OK);
    collect_t inner;
    tis_of(re->db, ti->dag_id, ti->run_id, 0, &inner); /* the same query, nested */
    assert_int_equal(inner.n, 3);
    re->seen++;
    return true;
}

static bool reenter_run(void *ctx, const spate_sched_run_t *r) {
    reenter_t *re = ctx;
    spate_sched_run_t u = *r;
    u.state = SPATE_RUN_RUNNING;
    assert_int_equal(spate_sched_db_run_update(re->db, &u), SPATE_OK);
    return spate_sched_db_tis(re->db, r->dag_id, r->run_id, 1u << SPATE_TI_NONE, reenter_ti, re) ==
           SPATE_OK;
}

static void body_reentrant(void) {
    spate_sched_db_t *db = open_ok(current_url);
    for (int i = 0; i < 2; i++) {
        char id[32];
        snprintf(id, sizeof id, "re%d", i);
        spate_sched_run_t r = mkrun("re", id, SPATE_RUN_SCHEDULED, T0 + i * DAY);
        assert_int_equal(spate_sched_db_run_create(db, &r), SPATE_OK);
        for (int k = 0; k < 3; k++) {
            char task[16];
            snprintf(task, sizeof task, "k%d", k);
            spate_sched_ti_t t = mkti("re", id, task);
            assert_int_equal(spate_sched_db_ti_put(db, &t), SPATE_OK);
        }
    }
    reenter_t re = {db, 0};
    assert_int_equal(spate_sched_db_runs(db, "re", 1u << SPATE_RUN_QUEUED, 0, reenter_run, &re),
                     SPATE_OK);
    assert_int_equal(re.seen, 6);
    collect_t c;
    assert_string_equal(runs_of(db, "re", 1u << SPATE_RUN_RUNNING, 0, &c), "re1,re0");
    assert_int_equal(tis_of(db, "re", NULL, 1u << SPATE_TI_SCHEDULED, &c)[0] != '\0', 1);
    assert_int_equal(c.n, 6);
    spate_sched_db_close(db);
}

static void run_body(void **state) {
    SPATE_UNUSED(state);
    body_migrations();
    body_dags();
    body_runs();
    body_run_conf();
    body_run_queries();
    body_tis();
    body_transactions();
    body_txn_errors();
    body_run_id_validation();
    body_reentrant();
}

static void test_sqlite(void **state) {
    current_url = sqlite_url;
    run_body(state);
}

static void test_postgres(void **state) {
    const char *url = getenv("SPATE_TEST_PG_URL");
    if (!url || !*url) {
        printf("test_sched_db: PostgreSQL part skipped (SPATE_TEST_PG_URL not set)\n");
        skip();
    }
    current_url = url;
    run_body(state);
}

/* ------------------------------------------------------------------ */
/* SQLite specifics                                                    */
/* ------------------------------------------------------------------ */

static void test_sqlite_forms(void **state) {
    SPATE_UNUSED(state);
    char path[300], url[320];
    snprintf(path, sizeof path, "%s/bare.db", tmpdir);
    spate_sched_db_t *db = open_ok(path); /* a bare path */
    assert_int_equal(spate_sched_db_dag_ensure(db, "b", false), SPATE_OK);
    spate_sched_db_close(db);
    snprintf(url, sizeof url, "sqlite:%s", path);
    db = open_ok(url);
    bool paused = true;
    assert_int_equal(spate_sched_db_dag_paused(db, "b", &paused), SPATE_OK);
    spate_sched_db_close(db);
    snprintf(url, sizeof url, "sqlite://%s", path); /* sqlite:///abs as SQLAlchemy */
    db = open_ok(url);
    assert_int_equal(spate_sched_db_dag_paused(db, "b", &paused), SPATE_OK);
    spate_sched_db_close(db);

    /* WAL mode and the schema as the sqlite3 tool sees them. */
    sqlite3 *raw = NULL;
    assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(raw, "SELECT version FROM schema_version", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 2);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE); /* exactly one row */
    sqlite3_finalize(st);
    /* A schema newer than this program is refused, not downgraded. */
    assert_int_equal(sqlite3_exec(raw, "UPDATE schema_version SET version = 99", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(raw);
    char err[512] = "";
    db = NULL;
    assert_int_equal(spate_sched_db_open(&db, path, err, sizeof err), SPATE_EINVAL);
    assert_null(db);
    assert_string_equal(err, "metadata schema version 99 is newer than this spate (2)");
}

/* The schema as version 1 shipped it (sched_db.c's migration_1), kept
 * here so the step to version 2 is tested on a real old file. */
static const char *const schema_v1[] = {
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "INSERT INTO schema_version (version) VALUES (1)",
    "CREATE TABLE dag (dag_id TEXT PRIMARY KEY, is_paused INTEGER NOT NULL DEFAULT 0, "
    "first_seen BIGINT NOT NULL DEFAULT 0)",
    "CREATE TABLE dag_run (dag_id TEXT NOT NULL, run_id TEXT NOT NULL, run_type TEXT NOT NULL, "
    "state TEXT NOT NULL, logical_date BIGINT NOT NULL, data_interval_start BIGINT NOT NULL, "
    "data_interval_end BIGINT NOT NULL, queued_at BIGINT NOT NULL DEFAULT 0, "
    "start_date BIGINT NOT NULL DEFAULT 0, end_date BIGINT NOT NULL DEFAULT 0, "
    "PRIMARY KEY (dag_id, run_id))",
    "CREATE UNIQUE INDEX dag_run_logical_date ON dag_run (dag_id, logical_date) "
    "WHERE run_type <> 'manual'",
    "CREATE INDEX dag_run_state ON dag_run (state)",
    "CREATE TABLE task_instance (dag_id TEXT NOT NULL, run_id TEXT NOT NULL, "
    "task_id TEXT NOT NULL, state TEXT NOT NULL, try_number INTEGER NOT NULL DEFAULT 0, "
    "max_tries INTEGER NOT NULL DEFAULT 1, start_date BIGINT NOT NULL DEFAULT 0, "
    "end_date BIGINT NOT NULL DEFAULT 0, queued_at BIGINT NOT NULL DEFAULT 0, "
    "next_try BIGINT NOT NULL DEFAULT 0, heartbeat BIGINT NOT NULL DEFAULT 0, "
    "pid INTEGER NOT NULL DEFAULT 0, hostname TEXT NOT NULL DEFAULT '', "
    "pool TEXT NOT NULL DEFAULT 'default_pool', exit_code INTEGER NOT NULL DEFAULT -1, "
    "PRIMARY KEY (dag_id, run_id, task_id), "
    "FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE)",
    "CREATE INDEX task_instance_state ON task_instance (state)",
    /* rows a version-1 scheduler wrote */
    "INSERT INTO dag (dag_id, is_paused, first_seen) VALUES ('old', 1, 5)",
    "INSERT INTO dag_run VALUES ('old', 'scheduled__2026-11-01T00:00:00+00:00', 'scheduled', "
    "'success', 1793491200000, 1793491200000, 1793577600000, 1, 2, 3)",
    "INSERT INTO dag_run VALUES ('old', 'manual__x', 'manual', 'queued', 1793491200000, "
    "1793491200000, 1793491200000, 4, 0, 0)",
    "INSERT INTO task_instance (dag_id, run_id, task_id, state, try_number) VALUES ('old', "
    "'scheduled__2026-11-01T00:00:00+00:00', 't', 'success', 1)",
    NULL,
};

/* What spate sees in a database schema_v1 made, once it opened it. */
static void check_migrated_v1(const char *path) {
    spate_sched_db_t *db = open_ok(path);
    assert_int_equal(spate_sched_db_schema_version(db), 2);
    /* Old rows: every field as written, conf "{}". */
    spate_sched_run_t g;
    assert_int_equal(spate_sched_db_run_get(db, "old", "scheduled__2026-11-01T00:00:00+00:00", &g),
                     SPATE_OK);
    assert_int_equal(g.type, SPATE_RUN_SCHEDULED);
    assert_int_equal(g.state, SPATE_RUN_SUCCESS);
    assert_int_equal(g.logical_date_ms, T0);
    assert_int_equal(g.data_interval_end_ms, T0 + DAY);
    assert_int_equal(g.queued_ms, 1);
    assert_int_equal(g.start_ms, 2);
    assert_int_equal(g.end_ms, 3);
    assert_string_equal(g.conf, "{}");
    assert_int_equal(spate_sched_db_run_get(db, "old", "manual__x", &g), SPATE_OK);
    assert_string_equal(g.conf, "{}");
    assert_int_equal(g.queued_ms, 4);
    spate_sched_ti_t ti;
    assert_int_equal(
        spate_sched_db_ti_get(db, "old", "scheduled__2026-11-01T00:00:00+00:00", "t", &ti),
        SPATE_OK);
    assert_int_equal(ti.state, SPATE_TI_SUCCESS);
    bool paused = false;
    assert_int_equal(spate_sched_db_dag_paused(db, "old", &paused), SPATE_OK);
    assert_true(paused);
    /* New runs store a conf; the old unique index still holds. */
    spate_sched_run_t r = mkrun("old", "manual__new", SPATE_RUN_MANUAL, T0);
    snprintf(r.conf, sizeof r.conf, "{\"count\":300}");
    assert_int_equal(spate_sched_db_run_create(db, &r), SPATE_OK);
    assert_int_equal(spate_sched_db_run_get(db, "old", "manual__new", &g), SPATE_OK);
    assert_string_equal(g.conf, "{\"count\":300}");
    r = mkrun("old", "scheduled__dup", SPATE_RUN_SCHEDULED, T0);
    assert_int_equal(spate_sched_db_run_create(db, &r), SPATE_EEXIST);
    spate_sched_db_close(db);
    /* reopening applies nothing and keeps the new run */
    db = open_ok(path);
    assert_int_equal(spate_sched_db_schema_version(db), 2);
    assert_int_equal(spate_sched_db_run_get(db, "old", "manual__new", &g), SPATE_OK);
    assert_string_equal(g.conf, "{\"count\":300}");
    spate_sched_db_close(db);
}

static void test_sqlite_migrate_v1(void **state) {
    SPATE_UNUSED(state);
    char path[300];
    snprintf(path, sizeof path, "%s/v1.db", tmpdir);
    sqlite3 *raw = NULL;
    assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
    for (const char *const *q = schema_v1; *q; q++) {
        char *msg = NULL;
        if (sqlite3_exec(raw, *q, NULL, NULL, &msg) != SQLITE_OK) fail_msg("%s: %s", *q, msg);
    }
    sqlite3_close(raw);
    check_migrated_v1(path);

    /* The column as the sqlite3 tool sees it. */
    assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(raw,
                                        "SELECT type, \"notnull\", dflt_value FROM "
                                        "pragma_table_info('dag_run') WHERE name = 'conf'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "TEXT");
    assert_int_equal(sqlite3_column_int(st, 1), 1);
    assert_string_equal((const char *)sqlite3_column_text(st, 2), "'{}'");
    sqlite3_finalize(st);
    sqlite3_close(raw);
}

/* The same on PostgreSQL (SPATE_TEST_PG_URL): the version-1 tables are
 * made in a schema of their own, v1mig, which spate then opens through
 * libpq's options=-csearch_path=v1mig. */
static void pg_exec(PGconn *c, const char *sql) {
    PGresult *res = PQexec(c, sql);
    ExecStatusType es = PQresultStatus(res);
    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
}

static void test_postgres_migrate_v1(void **state) {
    SPATE_UNUSED(state);
    const char *url = getenv("SPATE_TEST_PG_URL");
    if (!url || !*url) skip();
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) fail_msg("%s: %s", url, PQerrorMessage(c));
    pg_exec(c, "SET client_min_messages = warning");
    pg_exec(c, "DROP SCHEMA IF EXISTS v1mig CASCADE");
    pg_exec(c, "CREATE SCHEMA v1mig");
    pg_exec(c, "SET search_path = v1mig");
    for (const char *const *q = schema_v1; *q; q++) pg_exec(c, *q);
    char v1url[1024];
    snprintf(v1url, sizeof v1url, "%s%soptions=-csearch_path%%3Dv1mig", url,
             strchr(url, '?') ? "&" : "?");
    check_migrated_v1(v1url);
    PGresult *res = PQexec(c, "SELECT data_type, is_nullable, column_default FROM "
                              "information_schema.columns WHERE table_schema = 'v1mig' AND "
                              "table_name = 'dag_run' AND column_name = 'conf'");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(res), 1);
    assert_string_equal(PQgetvalue(res, 0, 0), "text");
    assert_string_equal(PQgetvalue(res, 0, 1), "NO");
    assert_string_equal(PQgetvalue(res, 0, 2), "'{}'::text");
    PQclear(res);
    pg_exec(c, "DROP SCHEMA v1mig CASCADE");
    PQfinish(c);
}

static void test_open_errors(void **state) {
    SPATE_UNUSED(state);
    char err[512] = "";
    spate_sched_db_t *db = (spate_sched_db_t *)1;
    assert_int_equal(spate_sched_db_open(&db, "/nonexistent-dir/x/y.db", err, sizeof err),
                     SPATE_EIO);
    assert_null(db);
    assert_non_null(strstr(err, "/nonexistent-dir/x/y.db"));
    assert_int_equal(spate_sched_db_open(&db, "", err, sizeof err), SPATE_EINVAL);
    assert_string_equal(err, "no metadata database given");
    /* Nothing listens on port 1. */
    assert_int_equal(
        spate_sched_db_open(&db, "postgresql://127.0.0.1:1/x?connect_timeout=2", err, sizeof err),
        SPATE_EIO);
    assert_non_null(strstr(err, "postgres: "));
}

/* Two handles on one file: a reader is not blocked by a writer's open
 * transaction (WAL), and a second writer waits (busy timeout) rather than
 * failing at once. */
static void test_sqlite_two_handles(void **state) {
    SPATE_UNUSED(state);
    char path[300];
    snprintf(path, sizeof path, "%s/two.db", tmpdir);
    spate_sched_db_t *a = open_ok(path);
    spate_sched_db_t *b = open_ok(path);
    spate_sched_run_t r = mkrun("w", "r1", SPATE_RUN_MANUAL, T0);
    assert_int_equal(spate_sched_db_run_create(a, &r), SPATE_OK);
    assert_int_equal(spate_sched_db_begin(a), SPATE_OK);
    r.state = SPATE_RUN_RUNNING;
    assert_int_equal(spate_sched_db_run_update(a, &r), SPATE_OK);
    spate_sched_run_t g;
    assert_int_equal(spate_sched_db_run_get(b, "w", "r1", &g), SPATE_OK);
    assert_int_equal(g.state, SPATE_RUN_QUEUED); /* b sees the committed state */
    assert_int_equal(spate_sched_db_commit(a), SPATE_OK);
    assert_int_equal(spate_sched_db_run_get(b, "w", "r1", &g), SPATE_OK);
    assert_int_equal(g.state, SPATE_RUN_RUNNING);
    spate_sched_db_close(a);
    spate_sched_db_close(b);
}

/* ------------------------------------------------------------------ */
/* The scheduler: section (sched_config.c)                             */
/* ------------------------------------------------------------------ */

static spate_status_t conf_from(const char *name, const char *yaml, spate_conf_t *c,
                                spate_sched_conf_t *sc, spate_stream_diag_t *d) {
    spate_conf_err_t ce;
    memset(c, 0, sizeof *c);
    assert_int_equal(spate_conf_load_string(c, name, yaml, strlen(yaml), &ce), SPATE_OK);
    memset(sc, 0, sizeof *sc);
    sc->workers = 8;
    return spate_sched_conf_load(sc, c, d);
}

static void test_conf_full(void **state) {
    SPATE_UNUSED(state);
    const char *yaml = "stream: {}\n"
                       "scheduler:\n"
                       "  dags_folder: dags\n"
                       "  metadata: sqlite:/tmp/m.db\n"
                       "  data_dir: /var/spate\n"
                       "  workers: 3\n"
                       "  api: 127.0.0.1:0\n"
                       "  pools:\n"
                       "    kafka: 2\n"
                       "    pg: 5\n"
                       "  connections:\n"
                       "    postgres: postgresql://u@h/db\n"
                       "    sqlite: /tmp/s.db\n"
                       "    kafka: 127.0.0.1:9092\n"
                       "    cql: 127.0.0.1:9042\n"
                       "    randomuser: http://127.0.0.1:8088/api/\n"
                       "  zookeeper: 127.0.0.1:2181\n"
                       "  zk_path: /spate/s\n"
                       "  dags:\n"
                       "    - dag_id: inline\n";
    spate_conf_t c;
    spate_sched_conf_t sc;
    spate_stream_diag_t d = {0};
    assert_int_equal(conf_from("/etc/spate/pipeline.yaml", yaml, &c, &sc, &d), SPATE_OK);
    assert_int_equal(spate_stream_diag_count(&d), 0);
    assert_string_equal(sc.dags_path, "/etc/spate/dags");
    assert_string_equal(sc.metadata, "sqlite:/tmp/m.db");
    assert_string_equal(sc.data_dir, "/var/spate");
    assert_string_equal(sc.env.data_dir, "/var/spate");
    assert_int_equal(sc.workers, 3);
    assert_string_equal(sc.api_listen, "127.0.0.1:0");
    assert_int_equal(sc.npools, 2);
    assert_string_equal(sc.pool_names[0], "kafka");
    assert_int_equal(sc.pool_slots[0], 2);
    assert_string_equal(sc.pool_names[1], "pg");
    assert_int_equal(sc.pool_slots[1], 5);
    assert_string_equal(sc.env.postgres, "postgresql://u@h/db");
    assert_string_equal(sc.env.sqlite, "/tmp/s.db");
    assert_string_equal(sc.env.kafka, "127.0.0.1:9092");
    assert_string_equal(sc.env.cql, "127.0.0.1:9042");
    assert_string_equal(sc.env.randomuser, "http://127.0.0.1:8088/api/");
    assert_string_equal(sc.zookeeper, "127.0.0.1:2181");
    assert_string_equal(sc.zk_path, "/spate/s");
    assert_ptr_equal(sc.inline_conf, &c);
    assert_non_null(sc.inline_dags);
    assert_int_equal(sc.inline_dags->nchild, 1);
    spate_sched_conf_release(&sc);
    assert_null(sc.pool_names);
    assert_null(sc.dags_path); /* it lived in the released block */
    spate_conf_free(&c);
}

static void test_conf_defaults(void **state) {
    SPATE_UNUSED(state);
    spate_conf_t c;
    spate_sched_conf_t sc;
    spate_stream_diag_t d = {0};
    /* No section: defaults only; a top-level dags: list is the inline bag. */
    assert_int_equal(conf_from("p.yaml", "stream: {}\ndags:\n  - dag_id: a\n", &c, &sc, &d),
                     SPATE_OK);
    assert_null(sc.dags_path);
    assert_null(sc.metadata);
    assert_string_equal(sc.data_dir, "./spate-data/scheduler");
    assert_int_equal(sc.workers, 8);
    assert_int_equal(sc.npools, 0);
    assert_non_null(sc.inline_dags);
    spate_sched_conf_release(&sc);
    spate_conf_free(&c);
    /* An absolute folder and a folder next to a file without a directory
     * are borrowed as written. */
    assert_int_equal(conf_from("p.yaml", "scheduler:\n  dags_folder: /srv/dags\n", &c, &sc, &d),
                     SPATE_OK);
    assert_string_equal(sc.dags_path, "/srv/dags");
    spate_sched_conf_release(&sc);
    spate_conf_free(&c);
    assert_int_equal(conf_from("p.yaml", "scheduler:\n  dags_folder: dags\n", &c, &sc, &d),
                     SPATE_OK);
    assert_string_equal(sc.dags_path, "dags");
    spate_sched_conf_release(&sc);
    spate_conf_free(&c);
    assert_int_equal(spate_stream_diag_count(&d), 0);
}

static void test_conf_errors(void **state) {
    SPATE_UNUSED(state);
    const char *yaml = "scheduler:\n"      /* 1 */
                       "  dag_folder: x\n" /* 2 */
                       "  workers: 0\n"    /* 3 */
                       "  pools:\n"        /* 4 */
                       "    kafka: two\n"  /* 5 */
                       "  connections:\n"  /* 6 */
                       "    mysql: x\n"    /* 7 */
                       "    kafka: [a]\n"  /* 8 */
                       "  dags: {a: 1}\n"; /* 9 */
    spate_conf_t c;
    spate_sched_conf_t sc;
    spate_stream_diag_t d = {0};
    assert_int_equal(conf_from("p.yaml", yaml, &c, &sc, &d), SPATE_EINVAL);
    assert_int_equal(spate_stream_diag_count(&d), 6);
    assert_string_equal(d.msgs[0], "p.yaml:2: key 'dag_folder': unknown setting (expected "
                                   "dags_folder, dags, metadata, data_dir, workers, api, pools, "
                                   "connections, zookeeper, zk_path)");
    assert_non_null(strstr(d.msgs[1], "p.yaml:3: key 'workers'"));
    assert_string_equal(d.msgs[2], "p.yaml:7: key 'mysql': unknown setting (expected postgres, "
                                   "sqlite, kafka, cql, randomuser)");
    assert_string_equal(d.msgs[3], "p.yaml:8: key 'kafka': expected a non-empty string");
    assert_string_equal(d.msgs[4], "p.yaml:9: key 'dags': expected a list of DAGs");
    assert_string_equal(d.msgs[5],
                        "p.yaml:5: key 'kafka': expected a number of slots (1..1000000)");
    assert_null(sc.pool_names); /* released on error */
    spate_stream_diag_free(&d);
    spate_conf_free(&c);

    assert_int_equal(conf_from("p.yaml", "scheduler: 3\n", &c, &sc, &d), SPATE_EINVAL);
    assert_string_equal(d.msgs[0], "p.yaml:1: key 'scheduler': expected a mapping");
    spate_stream_diag_free(&d);
    spate_conf_free(&c);
}

static int setup(void **state) {
    SPATE_UNUSED(state);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_sched_db.XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    snprintf(sqlite_url, sizeof sqlite_url, "sqlite:%s/meta.db", tmpdir);
    return 0;
}

static int teardown(void **state) {
    SPATE_UNUSED(state);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
    /* `--open-only URL`: open (migrating), print the version, exit; the
     * PostgreSQL client test races several of these on an empty database. */
    if (argc == 3 && strcmp(argv[1], "--open-only") == 0) {
        spate_sched_db_t *db = NULL;
        char err[512] = "";
        if (spate_sched_db_open(&db, argv[2], err, sizeof err) != SPATE_OK) {
            printf("open failed: %s\n", err);
            return 1;
        }
        printf("schema_version %d\n", spate_sched_db_schema_version(db));
        spate_sched_db_close(db);
        return 0;
    }
    /* `--reconnect URL`: one handle across a server restart. Prints
     * "ready", waits for a line on stdin (the restart happens then), and
     * prints the status of three reads: the first may fail, the later
     * ones must succeed on the reopened connection. */
    if (argc == 3 && strcmp(argv[1], "--reconnect") == 0) {
        spate_sched_db_t *db = NULL;
        char err[512] = "";
        bool paused;
        if (spate_sched_db_open(&db, argv[2], err, sizeof err) != SPATE_OK ||
            spate_sched_db_dag_ensure(db, "rc", true) != SPATE_OK) {
            printf("open failed: %s\n", err);
            return 1;
        }
        printf("ready\n");
        fflush(stdout);
        char line[16];
        if (!fgets(line, sizeof line, stdin)) return 1;
        for (int i = 0; i < 3; i++)
            printf("%s\n", spate_status_str(spate_sched_db_dag_paused(db, "rc", &paused)));
        spate_sched_db_close(db);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlite),
        cmocka_unit_test(test_postgres),
        cmocka_unit_test(test_sqlite_forms),
        cmocka_unit_test(test_sqlite_migrate_v1),
        cmocka_unit_test(test_postgres_migrate_v1),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_sqlite_two_handles),
        cmocka_unit_test(test_conf_full),
        cmocka_unit_test(test_conf_defaults),
        cmocka_unit_test(test_conf_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
