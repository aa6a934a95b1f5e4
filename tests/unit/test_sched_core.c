/*
 * test_sched_core.c — the scheduler loop and executor (src/sched/
 * sched_core.c, sched_exec.c), driven by spate_scheduler_tick with a
 * fake clock against a temporary SQLite metadata file and DAG files
 * written from YAML strings, with real `shell` tries (`exit 1`, `sleep`).
 *
 * Covered: the trigger-rule table (each rule against upstream outcomes,
 * as a pure function and end to end in one run), retry delays and the
 * exact next_try of retries with exponential backoff, execution_timeout
 * (SIGTERM to the try's group, the log line, the try failed), catchup
 * producing exactly the expected run ids (and catchup false only the
 * latest; end_date), max_active_runs leaving runs QUEUED, backfill
 * counts with and without reset, manual runs, and dead-task detection
 * (a RUNNING try of a vanished scheduler is retried). A run's conf
 * reaching its try (a shell task's log shows {{ dag_run.conf.x }} and
 * params overridden by it; a run without conf sees the DAG's params), and
 * no_scheduled_runs (a catchup DAG gets no runs; manual and backfill runs
 * still run).
 * Review fixes: a run's state from its leaves (all_done cleanup after a
 * failed stage → SUCCESS); a try's row is committed QUEUED before its
 * fork (seen by a reader at the fork) and stale QUEUED rows without pid
 * are re-queued with the same try number; a clean stop re-schedules the
 * interrupted try without using a try; dead-try cleanup never kills our
 * own try nor a process whose /proc start time is not the try's (and the
 * pure /proc/PID/stat parser); "." / ".." ids and bad run ids refused; no
 * scheduled run at a backfilled logical date.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <signal.h>

#include "sched_core_int.h"

#include <sqlite3.h>

#define T0 1793491200000LL /* 2026-11-01T00:00:00Z */
#define DAY 86400000LL
#define HOUR 3600000LL

static char tmpdir[256];

static int setup(void **state) {
    SPATE_UNUSED(state);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_sched_core.XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    char p[512];
    snprintf(p, sizeof p, "%s/dags", tmpdir);
    mkdir(p, 0755);
    spate_log_set_level(SPATE_LOG_ERROR);
    return 0;
}

static int teardown(void **state) {
    SPATE_UNUSED(state);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Settings the next start() applies (reset after it). */
static int next_workers;
static const char *next_pool;
static int next_pool_slots;
static bool next_no_scheduled;

/* A fresh scheduler over one DAG file (the previous test's files and
 * database are removed first). */
static spate_scheduler_t *start(const char *yaml) {
    char cmd[1024], path[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'/dags/* '%s'/data '%s'/meta.db*", tmpdir, tmpdir, tmpdir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/dags/dag.yaml", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(yaml, f);
    fclose(f);
    static char dags[512], data[512], meta[512];
    snprintf(dags, sizeof dags, "%s/dags", tmpdir);
    snprintf(data, sizeof data, "%s/data", tmpdir);
    snprintf(meta, sizeof meta, "%s/meta.db", tmpdir);
    spate_sched_conf_t c;
    spate_sched_conf_default(&c);
    c.dags_path = dags;
    c.data_dir = data;
    c.metadata = meta;
    if (next_workers) c.workers = next_workers;
    static const char *pool_names[1];
    static int pool_slots[1];
    pool_names[0] = next_pool;
    pool_slots[0] = next_pool_slots;
    if (next_pool) {
        c.pool_names = pool_names;
        c.pool_slots = pool_slots;
        c.npools = 1;
    }
    c.no_scheduled_runs = next_no_scheduled;
    next_workers = 0;
    next_pool = NULL;
    next_no_scheduled = false;
    spate_scheduler_t *s = NULL;
    char err[512] = "";
    spate_status_t st = spate_scheduler_new(&s, &c, err, sizeof err);
    if (st != SPATE_OK) fail_msg("scheduler_new: %s", err);
    return s;
}

static spate_sched_run_t get_run(spate_scheduler_t *s, const char *dag, const char *run_id) {
    spate_sched_run_t r;
    spate_status_t st = spate_sched_db_run_get(s->db, dag, run_id, &r);
    if (st != SPATE_OK) fail_msg("run %s/%s: %s", dag, run_id, spate_sched_db_error(s->db));
    return r;
}

static spate_sched_ti_t get_ti(spate_scheduler_t *s, const char *dag, const char *run_id,
                               const char *task) {
    spate_sched_ti_t t;
    spate_status_t st = spate_sched_db_ti_get(s->db, dag, run_id, task, &t);
    if (st != SPATE_OK) fail_msg("ti %s: %s", task, spate_sched_db_error(s->db));
    return t;
}

/* Ticks (the fake clock advancing 1 ms per tick, real time 5 ms) until
 * the run is finished or no try is running and until_idle; at most 10 s. */
static void run_until_done(spate_scheduler_t *s, const char *dag, const char *run_id,
                           int64_t *now) {
    for (int i = 0; i < 2000; i++) {
        assert_int_equal(spate_scheduler_tick(s, *now), SPATE_OK);
        spate_sched_run_t r = get_run(s, dag, run_id);
        if (r.state == SPATE_RUN_SUCCESS || r.state == SPATE_RUN_FAILED) return;
        (*now)++;
        usleep(5000);
    }
    fail_msg("run %s/%s did not finish", dag, run_id);
}

/* Ticks until no try of this scheduler is running. */
static void until_idle(spate_scheduler_t *s, int64_t *now) {
    for (int i = 0; i < 2000 && s->nkids; i++) {
        usleep(5000);
        (*now)++;
        assert_int_equal(spate_scheduler_tick(s, *now), SPATE_OK);
    }
    assert_int_equal(s->nkids, 0);
}

typedef struct {
    char ids[64][256];
    spate_sched_run_state_t states[64];
    size_t n;
} runs_t;

static bool collect(void *ctx, const spate_sched_run_t *r) {
    runs_t *rs = ctx;
    if (rs->n < 64) {
        snprintf(rs->ids[rs->n], sizeof rs->ids[0], "%s", r->run_id);
        rs->states[rs->n] = r->state;
        rs->n++;
    }
    return true;
}

static runs_t list_runs(spate_scheduler_t *s, const char *dag) {
    runs_t rs;
    memset(&rs, 0, sizeof rs);
    assert_int_equal(spate_sched_db_runs(s->db, dag, 0, 0, collect, &rs), SPATE_OK);
    return rs;
}

/* ------------------------------------------------------------------ */

static void test_trigger_table(void **state) {
    SPATE_UNUSED(state);
    enum {
        N = SPATE_TI_NONE,
        S = SPATE_TI_SCHEDULED,
        UF = SPATE_TI_UPSTREAM_FAILED,
        SK = SPATE_TI_SKIPPED
    };
    /* upstream outcomes of 2 upstreams: s = success, f = failed, k =
     * skipped, u = upstream_failed, r = still running */
    static const struct {
        const char *ups;
        int want[6]; /* all_success all_done all_failed one_success one_failed none_failed */
    } cases[] = {
        {"ss", {S, S, SK, S, SK, S}},   {"sf", {UF, S, SK, S, S, UF}},
        {"ff", {UF, S, S, UF, S, UF}},  {"fu", {UF, S, S, UF, S, UF}},
        {"kk", {SK, S, SK, SK, SK, S}}, {"sk", {SK, S, SK, S, SK, S}},
        {"sr", {N, N, SK, S, N, N}},    {"fr", {UF, N, N, N, S, UF}},
        {"rr", {N, N, N, N, N, N}},     {"kr", {SK, N, SK, N, N, N}},
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(cases); i++) {
        spate_sched_up_counts_t c = {.total = 2};
        for (const char *p = cases[i].ups; *p; p++) {
            c.success += *p == 's';
            c.failed += *p == 'f';
            c.skipped += *p == 'k';
            c.upstream_failed += *p == 'u';
            c.done += *p != 'r';
        }
        for (int rule = 0; rule < 6; rule++) {
            spate_sched_ti_state_t got = spate_sched_trigger_eval((spate_sched_trigger_t)rule, &c);
            if ((int)got != cases[i].want[rule])
                fail_msg("%s with upstreams '%s': got %s, want %s",
                         spate_sched_trigger_name((spate_sched_trigger_t)rule), cases[i].ups,
                         spate_sched_ti_state_name(got),
                         spate_sched_ti_state_name((spate_sched_ti_state_t)cases[i].want[rule]));
        }
    }
    spate_sched_up_counts_t none = {0};
    for (int rule = 0; rule < 6; rule++)
        assert_int_equal(spate_sched_trigger_eval((spate_sched_trigger_t)rule, &none), S);
}

static void test_retry_delay(void **state) {
    SPATE_UNUSED(state);
    spate_sched_retry_t r = {.retries = 5, .retry_delay_ms = 10000};
    assert_int_equal(spate_sched_retry_delay(&r, 2), 10000);
    assert_int_equal(spate_sched_retry_delay(&r, 4), 10000);
    r.retry_exponential_backoff = true;
    assert_int_equal(spate_sched_retry_delay(&r, 2), 10000);
    assert_int_equal(spate_sched_retry_delay(&r, 3), 20000);
    assert_int_equal(spate_sched_retry_delay(&r, 5), 80000);
    r.max_retry_delay_ms = 30000;
    assert_int_equal(spate_sched_retry_delay(&r, 5), 30000);
    r.max_retry_delay_ms = 0;
    assert_int_equal(spate_sched_retry_delay(&r, 60), DAY); /* 24 h cap, no overflow */
}

static void test_run_ids(void **state) {
    SPATE_UNUSED(state);
    char id[128];
    spate_sched_run_id(SPATE_RUN_SCHEDULED, T0, id, sizeof id);
    assert_string_equal(id, "scheduled__2026-11-01T00:00:00+00:00");
    spate_sched_run_id(SPATE_RUN_BACKFILL, T0 + HOUR, id, sizeof id);
    assert_string_equal(id, "backfill__2026-11-01T01:00:00+00:00");
    spate_sched_run_id(SPATE_RUN_MANUAL, T0 + 1234, id, sizeof id);
    assert_string_equal(id, "manual__2026-11-01T00:00:01.234000+00:00");
}

/* ------------------------------------------------------------------ */

static void test_catchup(void **state) {
    SPATE_UNUSED(state);
    int64_t now = T0 + 4 * DAY + 12 * HOUR; /* 2026-11-05T12:00 */
    spate_scheduler_t *s = start("dag_id: c\nschedule: \"@daily\"\nstart_date: 2026-11-01\n"
                                 "is_paused_upon_creation: false\n"
                                 "tasks:\n  - {task_id: t, type: shell, command: \"exit 0\"}\n");
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    runs_t rs = list_runs(s, "c");
    assert_int_equal(rs.n, 4); /* newest first */
    assert_string_equal(rs.ids[0], "scheduled__2026-11-04T00:00:00+00:00");
    assert_string_equal(rs.ids[3], "scheduled__2026-11-01T00:00:00+00:00");
    spate_sched_run_t r = get_run(s, "c", "scheduled__2026-11-02T00:00:00+00:00");
    assert_int_equal(r.logical_date_ms, T0 + DAY);
    assert_int_equal(r.data_interval_start_ms, T0 + DAY);
    assert_int_equal(r.data_interval_end_ms, T0 + 2 * DAY);
    assert_int_equal(r.type, SPATE_RUN_SCHEDULED);
    /* a manual run: its own id, the last complete interval before it */
    spate_sched_run_t m;
    assert_int_equal(spate_sched_manual_run(s->db, spate_sched_dagbag_get(s->bag, "c"), NULL,
                                            T0 + 2 * DAY + 5 * HOUR + 7, now, &m),
                     SPATE_OK);
    assert_string_equal(m.run_id, "manual__2026-11-03T05:00:00.007000+00:00");
    m = get_run(s, "c", m.run_id);
    assert_int_equal(m.type, SPATE_RUN_MANUAL);
    assert_int_equal(m.data_interval_start_ms, T0 + DAY);
    assert_int_equal(m.data_interval_end_ms, T0 + 2 * DAY);
    assert_int_equal(m.logical_date_ms, T0 + 2 * DAY + 5 * HOUR + 7);
    spate_sched_run_t dup;
    assert_int_equal(spate_sched_manual_run(s->db, spate_sched_dagbag_get(s->bag, "c"), m.run_id,
                                            now, now, &dup),
                     SPATE_EEXIST);
    /* the same tick again creates nothing; the next day's end creates one */
    assert_int_equal(spate_scheduler_tick(s, now + 1), SPATE_OK);
    assert_int_equal(list_runs(s, "c").n, 5); /* 4 scheduled + the manual one */
    now = T0 + 5 * DAY;
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    rs = list_runs(s, "c");
    assert_int_equal(rs.n, 6);
    assert_string_equal(rs.ids[0], "scheduled__2026-11-05T00:00:00+00:00");
    until_idle(s, &now);
    spate_scheduler_free(s);
}

static void test_no_catchup_end_date(void **state) {
    SPATE_UNUSED(state);
    int64_t now = T0 + 4 * DAY + 12 * HOUR;
    spate_scheduler_t *s =
        start("dag_id: n\nschedule: \"@daily\"\nstart_date: 2026-11-01\ncatchup: false\n"
              "tasks:\n  - {task_id: t, type: shell, command: \"exit 0\"}\n");
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    runs_t rs = list_runs(s, "n");
    assert_int_equal(rs.n, 1);
    assert_string_equal(rs.ids[0], "scheduled__2026-11-04T00:00:00+00:00");
    until_idle(s, &now);
    spate_scheduler_free(s);

    now = T0 + 10 * DAY;
    s = start("dag_id: e\nschedule: \"@daily\"\nstart_date: 2026-11-01\nend_date: 2026-11-03\n"
              "tasks:\n  - {task_id: t, type: shell, command: \"exit 0\"}\n");
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    rs = list_runs(s, "e");
    assert_int_equal(rs.n, 3); /* 11-01, 11-02, 11-03: none after end_date */
    assert_string_equal(rs.ids[0], "scheduled__2026-11-03T00:00:00+00:00");
    until_idle(s, &now);
    spate_scheduler_free(s);
}

static void test_paused_and_max_active_runs(void **state) {
    SPATE_UNUSED(state);
    int64_t now = T0 + 4 * DAY + 12 * HOUR;
    spate_scheduler_t *s = start("dag_id: p\nschedule: \"@daily\"\nstart_date: 2026-11-01\n"
                                 "is_paused_upon_creation: true\n"
                                 "tasks:\n  - {task_id: t, type: shell, command: \"exit 0\"}\n");
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    assert_int_equal(list_runs(s, "p").n, 0); /* paused: no scheduled runs */
    spate_scheduler_free(s);

    s = start("dag_id: m\nschedule: \"@daily\"\nstart_date: 2026-11-01\nmax_active_runs: 1\n"
              "tasks:\n  - {task_id: t, type: shell, command: \"sleep 0.2\"}\n");
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    runs_t rs = list_runs(s, "m");
    assert_int_equal(rs.n, 4);
    /* oldest first: 11-01 runs, the others wait */
    assert_int_equal(rs.states[3], SPATE_RUN_RUNNING);
    assert_int_equal(rs.states[2], SPATE_RUN_QUEUED);
    assert_int_equal(rs.states[1], SPATE_RUN_QUEUED);
    assert_int_equal(rs.states[0], SPATE_RUN_QUEUED);
    run_until_done(s, "m", "scheduled__2026-11-01T00:00:00+00:00", &now);
    assert_int_equal(spate_scheduler_tick(s, ++now), SPATE_OK);
    rs = list_runs(s, "m");
    assert_int_equal(rs.states[3], SPATE_RUN_SUCCESS);
    assert_int_equal(rs.states[2], SPATE_RUN_RUNNING);
    assert_int_equal(rs.states[1], SPATE_RUN_QUEUED);
    until_idle(s, &now);
    spate_scheduler_free(s);
}

/* States of tasks a..e of run r as letters: N none, S scheduled, Q queued,
 * R running, D success, F failed, Y up_for_retry, U upstream_failed, K skipped. */
static void states(spate_scheduler_t *s, const char *dag, char out[6]) {
    static const char letter[] = "NSQRDFYUK"; /* by spate_sched_ti_state_t */
    for (int i = 0; i < 5; i++) {
        char task[2] = {(char)('a' + i), 0};
        out[i] = letter[get_ti(s, dag, "r", task).state];
    }
    out[5] = '\0';
}

static const char five[] = "tasks:\n"
                           "  - {task_id: a, type: shell, command: \"sleep 0.3\"%s}\n"
                           "  - {task_id: b, type: shell, command: \"sleep 0.3\"%s}\n"
                           "  - {task_id: c, type: shell, command: \"sleep 0.3\"%s}\n"
                           "  - {task_id: d, type: shell, command: \"sleep 0.3\"%s}\n"
                           "  - {task_id: e, type: shell, command: \"sleep 0.3\"%s}\n";

static void limits_case(const char *head, const char *extra, const char *want_first) {
    char yaml[2048];
    int n = snprintf(yaml, sizeof yaml, "%s", head);
    snprintf(yaml + n, sizeof yaml - (size_t)n, five, extra, extra, extra, extra, extra);
    int64_t now = T0;
    spate_scheduler_t *s = start(yaml);
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    spate_sched_run_t r;
    assert_int_equal(
        spate_sched_manual_run(s->db, spate_sched_dagbag_at(s->bag, 0), "r", now, now, &r),
        SPATE_OK);
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    char got[6];
    states(s, spate_sched_dagbag_at(s->bag, 0)->dag_id, got);
    assert_string_equal(got, want_first);
    run_until_done(s, spate_sched_dagbag_at(s->bag, 0)->dag_id, "r", &now);
    states(s, spate_sched_dagbag_at(s->bag, 0)->dag_id, got);
    assert_string_equal(got, "DDDDD");
    spate_scheduler_free(s);
}

static void test_limits(void **state) {
    SPATE_UNUSED(state);
    /* no limit in the way: all five start in the first tick */
    limits_case("dag_id: l0\nschedule: none\n", "", "RRRRR");
    /* workers */
    next_workers = 2;
    limits_case("dag_id: l1\nschedule: none\n", "", "RRSSS");
    /* the DAG's max_active_tasks */
    limits_case("dag_id: l2\nschedule: none\nmax_active_tasks: 3\n", "", "RRRSS");
    /* a pool of 3 slots; tasks taking 2 slots each → one at a time */
    next_pool = "p";
    next_pool_slots = 3;
    limits_case("dag_id: l3\nschedule: none\n", ", pool: p, pool_slots: 2", "RSSSS");
    next_pool = "p";
    next_pool_slots = 3;
    limits_case("dag_id: l4\nschedule: none\n", ", pool: p", "RRRSS");
}

static void test_trigger_rules_run(void **state) {
    SPATE_UNUSED(state);
    int64_t now = T0;
    spate_scheduler_t *s = start(
        "dag_id: tr\nschedule: none\ntasks:\n"
        "  - {task_id: a, type: shell, command: \"exit 1\"}\n"
        "  - {task_id: b, type: shell, command: \"exit 0\"}\n"
        "  - {task_id: c, type: shell, command: \"true\", upstream: a}\n"
        "  - {task_id: d, type: shell, command: \"true\", upstream: [a, b], "
        "trigger_rule: one_success}\n"
        "  - {task_id: e, type: shell, command: \"true\", upstream: a, trigger_rule: all_failed}\n"
        "  - {task_id: f, type: shell, command: \"true\", upstream: b, trigger_rule: all_failed}\n"
        "  - {task_id: g, type: shell, command: \"true\", upstream: a, trigger_rule: none_failed}\n"
        "  - {task_id: h, type: shell, command: \"true\", upstream: [a, b], "
        "trigger_rule: all_done}\n"
        "  - {task_id: i, type: shell, command: \"true\", upstream: a, trigger_rule: one_failed}\n"
        "  - {task_id: j, type: shell, command: \"true\", upstream: b, trigger_rule: one_failed}\n"
        "  - {task_id: k, type: shell, command: \"true\", upstream: c}\n"
        "  - {task_id: l, type: shell, command: \"true\", upstream: f, trigger_rule: "
        "none_failed}\n");
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    const spate_sched_dag_t *d = spate_sched_dagbag_get(s->bag, "tr");
    assert_non_null(d);
    spate_sched_run_t r;
    assert_int_equal(spate_sched_manual_run(s->db, d, "m1", INT64_MIN, now, &r), SPATE_OK);
    assert_string_equal(r.run_id, "m1");
    run_until_done(s, "tr", "m1", &now);
    static const struct {
        const char *task;
        spate_sched_ti_state_t want;
    } want[] = {
        {"a", SPATE_TI_FAILED},          {"b", SPATE_TI_SUCCESS},
        {"c", SPATE_TI_UPSTREAM_FAILED}, {"d", SPATE_TI_SUCCESS},
        {"e", SPATE_TI_SUCCESS},         {"f", SPATE_TI_SKIPPED},
        {"g", SPATE_TI_UPSTREAM_FAILED}, {"h", SPATE_TI_SUCCESS},
        {"i", SPATE_TI_SUCCESS},         {"j", SPATE_TI_SKIPPED},
        {"k", SPATE_TI_UPSTREAM_FAILED}, {"l", SPATE_TI_SUCCESS},
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(want); i++) {
        spate_sched_ti_t t = get_ti(s, "tr", "m1", want[i].task);
        if (t.state != want[i].want)
            fail_msg("task %s: %s, want %s", want[i].task, spate_sched_ti_state_name(t.state),
                     spate_sched_ti_state_name(want[i].want));
    }
    assert_int_equal(get_ti(s, "tr", "m1", "a").exit_code, 1);
    assert_int_equal(get_ti(s, "tr", "m1", "c").try_number, 0); /* never ran */
    assert_int_equal(get_run(s, "tr", "m1").state, SPATE_RUN_FAILED);
    /* the try's log exists where the docs say */
    char path[1024];
    snprintf(path, sizeof path, "%s/data/logs/tr/m1/a/1.log", tmpdir);
    assert_int_equal(access(path, R_OK), 0);
    spate_scheduler_free(s);
}

static void test_retries_backoff(void **state) {
    SPATE_UNUSED(state);
    int64_t now = T0;
    spate_scheduler_t *s =
        start("dag_id: rb\nschedule: none\ndefault_args:\n  retries: 2\n  retry_delay: 10s\n"
              "  retry_exponential_backoff: true\n"
              "tasks:\n  - {task_id: t, type: shell, command: \"exit 3\"}\n");
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    spate_sched_run_t r;
    assert_int_equal(
        spate_sched_manual_run(s->db, spate_sched_dagbag_get(s->bag, "rb"), "r", now, now, &r),
        SPATE_OK);
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    assert_int_equal(get_ti(s, "rb", "r", "t").state, SPATE_TI_RUNNING);
    until_idle(s, &now);
    spate_sched_ti_t t = get_ti(s, "rb", "r", "t");
    assert_int_equal(t.state, SPATE_TI_UP_FOR_RETRY);
    assert_int_equal(t.try_number, 1);
    assert_int_equal(t.max_tries, 3);
    assert_int_equal(t.exit_code, 3);
    assert_int_equal(t.next_try_ms, t.end_ms + 10000);
    int64_t due = t.next_try_ms;
    now = due - 1; /* not yet */
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    assert_int_equal(get_ti(s, "rb", "r", "t").state, SPATE_TI_UP_FOR_RETRY);
    now = due;
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    t = get_ti(s, "rb", "r", "t");
    assert_int_equal(t.state, SPATE_TI_RUNNING);
    assert_int_equal(t.try_number, 2);
    until_idle(s, &now);
    t = get_ti(s, "rb", "r", "t");
    assert_int_equal(t.state, SPATE_TI_UP_FOR_RETRY);
    assert_int_equal(t.next_try_ms, t.end_ms + 20000); /* 10 s * 2^(2-1) */
    now = t.next_try_ms;
    run_until_done(s, "rb", "r", &now);
    t = get_ti(s, "rb", "r", "t");
    assert_int_equal(t.state, SPATE_TI_FAILED);
    assert_int_equal(t.try_number, 3);
    assert_int_equal(get_run(s, "rb", "r").state, SPATE_RUN_FAILED);
    spate_scheduler_free(s);
}

static void test_timeout(void **state) {
    SPATE_UNUSED(state);
    int64_t now = T0;
    spate_scheduler_t *s = start("dag_id: to\nschedule: none\n"
                                 "tasks:\n  - {task_id: t, type: shell, command: \"sleep 30\", "
                                 "execution_timeout: 2s}\n");
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    spate_sched_run_t r;
    assert_int_equal(
        spate_sched_manual_run(s->db, spate_sched_dagbag_get(s->bag, "to"), "r", now, now, &r),
        SPATE_OK);
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    assert_int_equal(s->nkids, 1);
    assert_int_equal(spate_sched_exec_next_deadline(s), now + 2000);
    usleep(100000);
    assert_int_equal(spate_scheduler_tick(s, now + 1999), SPATE_OK);
    assert_int_equal(get_ti(s, "to", "r", "t").state, SPATE_TI_RUNNING);
    now += 2000;
    run_until_done(s, "to", "r", &now);
    spate_sched_ti_t t = get_ti(s, "to", "r", "t");
    assert_int_equal(t.state, SPATE_TI_FAILED);
    assert_int_not_equal(t.exit_code, 0);
    char path[1024], text[8192];
    snprintf(path, sizeof path, "%s/data/logs/to/r/t/1.log", tmpdir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_non_null(strstr(text, "timed out after 2 s"));
    spate_scheduler_free(s);
}

static void test_backfill(void **state) {
    SPATE_UNUSED(state);
    int64_t now = T0;
    spate_scheduler_t *s = start("dag_id: bf\nschedule: \"@daily\"\nstart_date: 2026-11-01\n"
                                 "is_paused_upon_creation: true\n"
                                 "tasks:\n  - {task_id: t, type: shell, command: \"exit 0\"}\n");
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    const spate_sched_dag_t *d = spate_sched_dagbag_get(s->bag, "bf");
    size_t n = 99;
    char err[256] = "";
    assert_int_equal(
        spate_scheduler_backfill(s->db, d, T0, T0 + 4 * DAY, false, &n, err, sizeof err), SPATE_OK);
    assert_int_equal(n, 5);
    runs_t rs = list_runs(s, "bf");
    assert_int_equal(rs.n, 5);
    assert_string_equal(rs.ids[0], "backfill__2026-11-05T00:00:00+00:00");
    spate_sched_run_t r = get_run(s, "bf", "backfill__2026-11-03T00:00:00+00:00");
    assert_int_equal(r.type, SPATE_RUN_BACKFILL);
    assert_int_equal(r.data_interval_end_ms, T0 + 3 * DAY);
    /* again: all exist */
    assert_int_equal(
        spate_scheduler_backfill(s->db, d, T0, T0 + 4 * DAY, false, &n, err, sizeof err), SPATE_OK);
    assert_int_equal(n, 0);
    /* a range starting mid-day begins at the next fire */
    assert_int_equal(spate_scheduler_backfill(s->db, d, T0 + 4 * DAY + 1, T0 + 6 * DAY, false, &n,
                                              err, sizeof err),
                     SPATE_OK);
    assert_int_equal(n, 2);
    /* reset: existing runs are queued again */
    r.state = SPATE_RUN_SUCCESS;
    assert_int_equal(spate_sched_db_run_update(s->db, &r), SPATE_OK);
    assert_int_equal(
        spate_scheduler_backfill(s->db, d, T0 + 2 * DAY, T0 + 2 * DAY, true, &n, err, sizeof err),
        SPATE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(get_run(s, "bf", r.run_id).state, SPATE_RUN_QUEUED);
    assert_int_equal(spate_scheduler_backfill(s->db, d, T0 + DAY, T0, false, &n, err, sizeof err),
                     SPATE_EINVAL);
    spate_scheduler_free(s);
}

/* The text of a try's log ("" when missing). */
static void read_log(const char *dag, const char *run, const char *task, int try_n, char *out,
                     size_t cap) {
    char path[1024];
    snprintf(path, sizeof path, "%s/data/logs/%s/%s/%s/%d.log", tmpdir, dag, run, task, try_n);
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    size_t n = fread(out, 1, cap - 1, f);
    fclose(f);
    out[n] = '\0';
}

static void test_run_conf(void **state) {
    SPATE_UNUSED(state);
    int64_t now = T0;
    spate_scheduler_t *s =
        start("dag_id: cf\nschedule: none\nparams: {count: 1000, topic: users}\n"
              "tasks:\n  - {task_id: t, type: shell, command: \"echo 'p={{ params.count }} "
              "t={{ params.topic }} all={{ dag_run.conf }}'\"}\n");
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    const spate_sched_dag_t *d = spate_sched_dagbag_get(s->bag, "cf");
    spate_sched_run_t r;
    assert_int_equal(spate_sched_manual_run_conf(s->db, d, "with", now, now, "{\"count\":300}", &r),
                     SPATE_OK);
    assert_string_equal(r.conf, "{\"count\":300}");
    assert_int_equal(spate_sched_manual_run(s->db, d, "without", now, now, &r), SPATE_OK);
    assert_string_equal(r.conf, "{}");
    /* a conf that does not fit the run is refused before the db */
    static char big[SPATE_SCHED_RUN_CONF_MAX + 1];
    memset(big, ' ', sizeof big - 1);
    assert_int_equal(spate_sched_manual_run_conf(s->db, d, "big", now, now, big, &r), SPATE_EINVAL);
    assert_int_equal(spate_sched_db_run_get(s->db, "cf", "big", &r), SPATE_ENOENT);

    run_until_done(s, "cf", "with", &now);
    run_until_done(s, "cf", "without", &now);
    assert_int_equal(get_run(s, "cf", "with").state, SPATE_RUN_SUCCESS);
    assert_string_equal(get_run(s, "cf", "with").conf, "{\"count\":300}");
    assert_int_equal(get_run(s, "cf", "without").state, SPATE_RUN_SUCCESS);
    char text[8192];
    read_log("cf", "with", "t", 1, text, sizeof text);
    assert_non_null(strstr(text, "\np=300 t=users all={\"count\":300}\n"));
    read_log("cf", "without", "t", 1, text, sizeof text);
    assert_non_null(strstr(text, "\np=1000 t=users all={}\n"));
    spate_scheduler_free(s);
}

static void test_no_scheduled_runs(void **state) {
    SPATE_UNUSED(state);
    int64_t now = T0 + 4 * DAY + 12 * HOUR; /* test_catchup: 4 runs without the flag */
    next_no_scheduled = true;
    spate_scheduler_t *s = start("dag_id: ns\nschedule: \"@daily\"\nstart_date: 2026-11-01\n"
                                 "catchup: true\nis_paused_upon_creation: false\n"
                                 "tasks:\n  - {task_id: t, type: shell, command: \"exit 0\"}\n");
    assert_true(s->conf.no_scheduled_runs);
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    assert_int_equal(spate_scheduler_tick(s, now + 10 * DAY), SPATE_OK);
    assert_int_equal(list_runs(s, "ns").n, 0);
    /* manual and backfill runs are created and run */
    const spate_sched_dag_t *d = spate_sched_dagbag_get(s->bag, "ns");
    spate_sched_run_t r;
    assert_int_equal(spate_sched_manual_run(s->db, d, "m", now, now, &r), SPATE_OK);
    size_t n = 0;
    char err[256] = "";
    assert_int_equal(spate_scheduler_backfill(s->db, d, T0, T0 + DAY, false, &n, err, sizeof err),
                     SPATE_OK);
    assert_int_equal(n, 2);
    run_until_done(s, "ns", "m", &now);
    run_until_done(s, "ns", "backfill__2026-11-01T00:00:00+00:00", &now);
    run_until_done(s, "ns", "backfill__2026-11-02T00:00:00+00:00", &now);
    runs_t rs = list_runs(s, "ns");
    assert_int_equal(rs.n, 3); /* and still no scheduled one */
    for (size_t i = 0; i < rs.n; i++) {
        assert_int_equal(rs.states[i], SPATE_RUN_SUCCESS);
        assert_null(strstr(rs.ids[i], "scheduled__"));
    }
    int64_t last = 0;
    assert_int_equal(spate_sched_db_last_scheduled(s->db, "ns", &last), SPATE_OK);
    assert_true(last == INT64_MIN);
    until_idle(s, &now);
    spate_scheduler_free(s);
}

static void test_dead_task(void **state) {
    SPATE_UNUSED(state);
    int64_t now = T0;
    spate_scheduler_t *s = start("dag_id: dd\nschedule: none\ndefault_args: {retries: 1, "
                                 "retry_delay: 1s}\n"
                                 "tasks:\n  - {task_id: t, type: shell, command: \"exit 0\"}\n");
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    spate_sched_run_t r;
    assert_int_equal(
        spate_sched_manual_run(s->db, spate_sched_dagbag_get(s->bag, "dd"), "r", now, now, &r),
        SPATE_OK);
    r.state = SPATE_RUN_RUNNING;
    assert_int_equal(spate_sched_db_run_update(s->db, &r), SPATE_OK);
    /* a try left RUNNING by a scheduler on another host that died */
    spate_sched_ti_t t;
    memset(&t, 0, sizeof t);
    snprintf(t.dag_id, sizeof t.dag_id, "dd");
    snprintf(t.run_id, sizeof t.run_id, "r");
    snprintf(t.task_id, sizeof t.task_id, "t");
    snprintf(t.hostname, sizeof t.hostname, "elsewhere.invalid");
    t.state = SPATE_TI_RUNNING;
    t.try_number = 1;
    t.max_tries = 2;
    t.heartbeat_ms = now;
    t.pid = 4242;
    t.exit_code = -1;
    assert_int_equal(spate_sched_db_ti_put(s->db, &t), SPATE_OK);
    now += 10000; /* younger than dead_after (30 s): left alone */
    s->last_heartbeat_ms = INT64_MIN;
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    assert_int_equal(get_ti(s, "dd", "r", "t").state, SPATE_TI_RUNNING);
    now += 30000;
    s->last_heartbeat_ms = INT64_MIN;
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    t = get_ti(s, "dd", "r", "t");
    assert_int_equal(t.state, SPATE_TI_UP_FOR_RETRY);
    assert_int_equal(t.next_try_ms, now + 1000);
    now += 1000;
    run_until_done(s, "dd", "r", &now);
    t = get_ti(s, "dd", "r", "t");
    assert_int_equal(t.state, SPATE_TI_SUCCESS);
    assert_int_equal(t.try_number, 2);
    assert_int_equal(get_run(s, "dd", "r").state, SPATE_RUN_SUCCESS);
    spate_scheduler_free(s);
}

/* A run's state from its leaves (Airflow's DagRun.update_state): stage
 * fails, cleanup (all_done, the only leaf) succeeds → run SUCCESS; with a
 * second leaf left upstream_failed → FAILED. */
static void test_leaf_state(void **state) {
    SPATE_UNUSED(state);
    int64_t now = T0;
    spate_scheduler_t *s =
        start("dag_id: lf\nschedule: none\ntasks:\n"
              "  - {task_id: stage, type: shell, command: \"exit 1\"}\n"
              "  - {task_id: cleanup, type: shell, command: \"true\", upstream: stage, "
              "trigger_rule: all_done}\n");
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    spate_sched_run_t r;
    assert_int_equal(
        spate_sched_manual_run(s->db, spate_sched_dagbag_get(s->bag, "lf"), "m", now, now, &r),
        SPATE_OK);
    run_until_done(s, "lf", "m", &now);
    assert_int_equal(get_ti(s, "lf", "m", "stage").state, SPATE_TI_FAILED);
    assert_int_equal(get_ti(s, "lf", "m", "cleanup").state, SPATE_TI_SUCCESS);
    assert_int_equal(get_run(s, "lf", "m").state, SPATE_RUN_SUCCESS);
    spate_scheduler_free(s);

    s = start("dag_id: lf\nschedule: none\ntasks:\n"
              "  - {task_id: stage, type: shell, command: \"exit 1\"}\n"
              "  - {task_id: load, type: shell, command: \"true\", upstream: stage}\n"
              "  - {task_id: cleanup, type: shell, command: \"true\", upstream: stage, "
              "trigger_rule: all_done}\n");
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    assert_int_equal(
        spate_sched_manual_run(s->db, spate_sched_dagbag_get(s->bag, "lf"), "m", now, now, &r),
        SPATE_OK);
    run_until_done(s, "lf", "m", &now);
    assert_int_equal(get_ti(s, "lf", "m", "load").state, SPATE_TI_UPSTREAM_FAILED);
    assert_int_equal(get_ti(s, "lf", "m", "cleanup").state, SPATE_TI_SUCCESS);
    assert_int_equal(get_run(s, "lf", "m").state, SPATE_RUN_FAILED);
    spate_scheduler_free(s);
}

/* What another process sees in the metadata at the moment a try has
 * just been forked (a scheduler killed right then leaves exactly this):
 * the row is committed as QUEUED without pid, never SCHEDULED or absent,
 * so the next scheduler re-queues it (never started) instead of forking a
 * second copy beside a running one. */
static char hook_seen[320];

static void look_after_fork(spate_scheduler_t *s, pid_t pid) {
    SPATE_UNUSED(s);
    SPATE_UNUSED(pid);
    /* a reader, as another process would be: the committed state only */
    char meta[600];
    snprintf(meta, sizeof meta, "%s/meta.db", tmpdir);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(hook_seen, sizeof hook_seen, "absent");
    if (sqlite3_open_v2(meta, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT state || ' ' || try_number || ' ' || pid FROM task_instance "
                           "WHERE dag_id = 'qf' AND run_id = 'm' AND task_id = 't'",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(hook_seen, sizeof hook_seen, "sqlite: %s", sqlite3_errmsg(db));
    } else if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(hook_seen, sizeof hook_seen, "%s", (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_queued_before_fork(void **state) {
    SPATE_UNUSED(state);
    int64_t now = T0;
    spate_scheduler_t *s = start("dag_id: qf\nschedule: none\ntasks:\n"
                                 "  - {task_id: t, type: shell, command: \"true\"}\n");
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    spate_sched_run_t r;
    assert_int_equal(
        spate_sched_manual_run(s->db, spate_sched_dagbag_get(s->bag, "qf"), "m", now, now, &r),
        SPATE_OK);
    hook_seen[0] = '\0';
    spate_sched_after_fork_hook = look_after_fork;
    assert_int_equal(spate_scheduler_tick(s, ++now), SPATE_OK);
    spate_sched_after_fork_hook = NULL;
    assert_string_equal(hook_seen, "queued 0 0");
    /* and right after the tick: RUNNING with its pid */
    spate_sched_ti_t t = get_ti(s, "qf", "m", "t");
    assert_int_equal(t.state, SPATE_TI_RUNNING);
    assert_int_equal(t.try_number, 1);
    assert_true(t.pid > 0);
    run_until_done(s, "qf", "m", &now);
    assert_int_equal(get_run(s, "qf", "m").state, SPATE_RUN_SUCCESS);
    spate_scheduler_free(s);
}

/* A QUEUED row without pid older than dead_after: its scheduler died
 * between the commit and the fork. It is scheduled again and runs as the
 * same try number; a young one is left alone. */
static void test_requeue_stale_queued(void **state) {
    SPATE_UNUSED(state);
    int64_t now = T0;
    spate_scheduler_t *s = start("dag_id: rq\nschedule: none\ntasks:\n"
                                 "  - {task_id: t, type: shell, command: \"exit 0\"}\n");
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    spate_sched_run_t r;
    assert_int_equal(
        spate_sched_manual_run(s->db, spate_sched_dagbag_get(s->bag, "rq"), "m", now, now, &r),
        SPATE_OK);
    r.state = SPATE_RUN_RUNNING;
    assert_int_equal(spate_sched_db_run_update(s->db, &r), SPATE_OK);
    spate_sched_ti_t t;
    memset(&t, 0, sizeof t);
    snprintf(t.dag_id, sizeof t.dag_id, "rq");
    snprintf(t.run_id, sizeof t.run_id, "m");
    snprintf(t.task_id, sizeof t.task_id, "t");
    t.state = SPATE_TI_QUEUED;
    t.max_tries = 1;
    t.queued_ms = now;
    t.exit_code = -1;
    assert_int_equal(spate_sched_db_ti_put(s->db, &t), SPATE_OK);
    now += 10000; /* younger than dead_after (30 s) */
    s->last_heartbeat_ms = INT64_MIN;
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    assert_int_equal(get_ti(s, "rq", "m", "t").state, SPATE_TI_QUEUED);
    assert_int_equal(s->nkids, 0);
    now += 25000;
    s->last_heartbeat_ms = INT64_MIN;
    run_until_done(s, "rq", "m", &now);
    t = get_ti(s, "rq", "m", "t");
    assert_int_equal(t.state, SPATE_TI_SUCCESS);
    assert_int_equal(t.try_number, 1); /* the first real try: nothing used up */
    spate_scheduler_free(s);
}

/* A clean stop (what SIGTERM/SIGINT of `spate scheduler` ends in) does not
 * fail the tries it interrupts: they go back to SCHEDULED with the same
 * try number and run again, here to success on its first counted try. */
static void test_clean_stop(void **state) {
    SPATE_UNUSED(state);
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "dag_id: cs\nschedule: none\ntasks:\n"
             "  - {task_id: t, type: shell, command: \"if [ -e %s/flag ]; then echo again; exit 0; "
             "fi; touch %s/flag; sleep 30\"}\n",
             tmpdir, tmpdir);
    char flag[600];
    snprintf(flag, sizeof flag, "%s/flag", tmpdir);
    unlink(flag);
    int64_t now = T0;
    spate_scheduler_t *s = start(yaml);
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    spate_sched_run_t r;
    assert_int_equal(
        spate_sched_manual_run(s->db, spate_sched_dagbag_get(s->bag, "cs"), "m", now, now, &r),
        SPATE_OK);
    for (int i = 0; i < 400 && access(flag, F_OK) != 0; i++) {
        assert_int_equal(spate_scheduler_tick(s, ++now), SPATE_OK);
        usleep(10000);
    }
    assert_int_equal(access(flag, F_OK), 0);
    assert_int_equal(s->nkids, 1);
    mtx_lock(&s->mu);
    spate_sched_exec_shutdown(s, 5000);
    mtx_unlock(&s->mu);
    assert_int_equal(s->nkids, 0);
    spate_sched_ti_t t = get_ti(s, "cs", "m", "t");
    assert_int_equal(t.state, SPATE_TI_SCHEDULED);
    assert_int_equal(t.try_number, 0);
    assert_int_equal(t.max_tries, 1);
    char log[4096];
    read_log("cs", "m", "t", 1, log, sizeof log);
    assert_non_null(strstr(log, "*** interrupted by the scheduler's stop"));
    /* the next scheduler (here: the same one ticking on) runs it again */
    run_until_done(s, "cs", "m", &now);
    t = get_ti(s, "cs", "m", "t");
    assert_int_equal(t.state, SPATE_TI_SUCCESS);
    assert_int_equal(t.try_number, 1);
    assert_int_equal(get_run(s, "cs", "m").state, SPATE_RUN_SUCCESS);
    read_log("cs", "m", "t", 1, log, sizeof log);
    assert_non_null(strstr(log, "again"));
    spate_scheduler_free(s);
}

/* Dead-try cleanup with pid reuse: a stale RUNNING row of this host whose
 * pid is now one of our own tries must not get that try killed. */
static void test_dead_try_pid_reuse(void **state) {
    SPATE_UNUSED(state);
    int64_t now = T0;
    spate_scheduler_t *s = start("dag_id: pr\nschedule: none\ntasks:\n"
                                 "  - {task_id: live, type: shell, command: \"sleep 2\"}\n");
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    const spate_sched_dag_t *d = spate_sched_dagbag_get(s->bag, "pr");
    spate_sched_run_t r;
    assert_int_equal(spate_sched_manual_run(s->db, d, "a", now, now, &r), SPATE_OK);
    for (int i = 0; i < 100 && !s->nkids; i++)
        assert_int_equal(spate_scheduler_tick(s, ++now), SPATE_OK);
    assert_int_equal(s->nkids, 1);
    pid_t ours = s->kids[0].pid;
    /* an old finished run holding the RUNNING row of a dead scheduler on
     * this host, whose pid is now our try's */
    assert_int_equal(spate_sched_manual_run(s->db, d, "z", now, now, &r), SPATE_OK);
    r.state = SPATE_RUN_SUCCESS;
    assert_int_equal(spate_sched_db_run_update(s->db, &r), SPATE_OK);
    spate_sched_ti_t t;
    memset(&t, 0, sizeof t);
    snprintf(t.dag_id, sizeof t.dag_id, "pr");
    snprintf(t.run_id, sizeof t.run_id, "z");
    snprintf(t.task_id, sizeof t.task_id, "ghost");
    snprintf(t.hostname, sizeof t.hostname, "%s", s->hostname);
    t.state = SPATE_TI_RUNNING;
    t.try_number = 1;
    t.max_tries = 1;
    t.pid = (int)ours;
    t.heartbeat_ms = now - 60000;
    t.exit_code = -1;
    assert_int_equal(spate_sched_db_ti_put(s->db, &t), SPATE_OK);
    s->last_heartbeat_ms = INT64_MIN;
    assert_int_equal(spate_scheduler_tick(s, ++now), SPATE_OK);
    assert_int_equal(get_ti(s, "pr", "z", "ghost").state, SPATE_TI_FAILED);
    /* our try lives on and ends on its own */
    assert_int_equal(kill(ours, 0), 0);
    run_until_done(s, "pr", "a", &now);
    spate_sched_ti_t l = get_ti(s, "pr", "a", "live");
    if (l.state != SPATE_TI_SUCCESS)
        fail_msg("live: %s (exit %d)", spate_sched_ti_state_name(l.state), l.exit_code);
    spate_scheduler_free(s);
}

/* Ids become folders of DATA_DIR/logs/: "." and ".." are no DAG or task
 * ids; a run id outside Airflow's pattern is refused before any path. */
static void test_path_ids(void **state) {
    SPATE_UNUSED(state);
    int64_t now = T0;
    spate_scheduler_t *s = start("dags:\n"
                                 "  - dag_id: ..\n    schedule: none\n    tasks:\n"
                                 "      - {task_id: t, type: shell, command: \"true\"}\n"
                                 "  - dag_id: ok\n    schedule: none\n    tasks:\n"
                                 "      - {task_id: \"..\", type: shell, command: \"true\"}\n");
    char path[600]; /* a good DAG in a file of its own: a broken file leaves its DAGs out */
    snprintf(path, sizeof path, "%s/dags/ok2.yaml", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("dag_id: ok2\nschedule: none\ntasks:\n  - {task_id: t, type: shell, command: true}\n", f);
    fclose(f);
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    assert_null(spate_sched_dagbag_get(s->bag, ".."));
    assert_null(spate_sched_dagbag_get(s->bag, "ok"));
    const spate_sched_dag_t *d = spate_sched_dagbag_get(s->bag, "ok2");
    assert_non_null(d);
    spate_sched_run_t r;
    assert_int_equal(spate_sched_manual_run(s->db, d, "../../../../tmp/x", now, now, &r),
                     SPATE_EINVAL);
    assert_int_equal(spate_sched_manual_run(s->db, d, "..", now, now, &r), SPATE_EINVAL);
    runs_t rs = list_runs(s, "ok2");
    assert_int_equal(rs.n, 0);
    spate_scheduler_free(s);
}

/* A backfill run at the logical date of the next scheduled run (catchup
 * false): the scheduler creates no scheduled run there and the tick
 * commits (on PostgreSQL the attempt used to abort the whole tick). */
static void test_backfill_then_schedule(void **state) {
    SPATE_UNUSED(state);
    int64_t now = T0 + 4 * DAY + 12 * HOUR;
    spate_scheduler_t *s = start("dag_id: bs\nschedule: \"@daily\"\nstart_date: 2026-11-01\n"
                                 "catchup: false\n"
                                 "tasks:\n  - {task_id: t, type: shell, command: \"exit 0\"}\n");
    assert_int_equal(spate_scheduler_tick(s, T0), SPATE_OK); /* before any interval ended */
    const spate_sched_dag_t *d = spate_sched_dagbag_get(s->bag, "bs");
    size_t n = 0;
    char err[256] = "";
    assert_int_equal(
        spate_scheduler_backfill(s->db, d, T0 + 3 * DAY, T0 + 3 * DAY, false, &n, err, sizeof err),
        SPATE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    runs_t rs = list_runs(s, "bs");
    assert_int_equal(rs.n, 1);
    assert_string_equal(rs.ids[0], "backfill__2026-11-04T00:00:00+00:00");
    assert_int_equal(s->last_commit, SPATE_OK);
    until_idle(s, &now);
    spate_scheduler_free(s);
}

/* /proc/PID/stat's start time (field 22), counted after the last ')' as
 * comm may hold anything; truncated or hostile text is refused. */
static void test_proc_stat_starttime(void **state) {
    SPATE_UNUSED(state);
    const char *ok = "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
                     "987654 1000 200\n";
    uint64_t t = 0;
    assert_true(spate_sched_proc_stat_starttime(ok, strlen(ok), &t));
    assert_int_equal(t, 987654);
    const char *last = "1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77";
    assert_true(spate_sched_proc_stat_starttime(last, strlen(last), &t));
    assert_int_equal(t, 77);
    static const char *const bad[] = {"",
                                      "4242 (a) S 1 2 3",
                                      "no parenthesis at all",
                                      "1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ",
                                      "1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12x",
                                      "1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
                                      "99999999999999999999999"};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(bad); i++)
        if (spate_sched_proc_stat_starttime(bad[i], strlen(bad[i]), &t))
            fail_msg("accepted '%s'", bad[i]);
    /* a prefix of a good line never reads past its length */
    for (size_t n = 0; n < strlen(ok) - 22; n++) {
        char *cut = malloc(n ? n : 1);
        memcpy(cut, ok, n);
        bool got = spate_sched_proc_stat_starttime(cut, n, &t);
        if (got && t != 987654 && t != 98765 && t != 9876 && t != 987 && t != 98 && t != 9)
            fail_msg("prefix %zu: %llu", n, (unsigned long long)t);
        free(cut);
    }
    char self[2048];
    FILE *f = fopen("/proc/self/stat", "r");
    assert_non_null(f);
    size_t n = fread(self, 1, sizeof self, f);
    fclose(f);
    assert_true(spate_sched_proc_stat_starttime(self, n, &t));
    assert_true(t > 0);
}

/* Dead-try cleanup with pid reuse by an unrelated process: the stale row
 * says its try started ten minutes ago, the live process with that pid
 * started now, so it is not killed; a process that did start when the
 * row says is (the orphan of a killed scheduler). */
static void test_dead_try_pid_start_time(void **state) {
    SPATE_UNUSED(state);
    int64_t now = T0;
    spate_scheduler_t *s = start("dag_id: ps\nschedule: none\ntasks:\n"
                                 "  - {task_id: t, type: shell, command: \"true\"}\n");
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    const spate_sched_dag_t *d = spate_sched_dagbag_get(s->bag, "ps");
    pid_t other[2];
    for (int i = 0; i < 2; i++) {
        other[i] = fork();
        assert_true(other[i] >= 0);
        if (other[i] == 0) {
            setsid(); /* its own group, as a try */
            for (;;) pause();
        }
    }
    usleep(50000);
    int64_t wall = spate_wall_ms();
    static const char *const runs[2] = {"reused", "orphan"};
    for (int i = 0; i < 2; i++) {
        spate_sched_run_t r;
        assert_int_equal(spate_sched_manual_run(s->db, d, runs[i], now, now, &r), SPATE_OK);
        r.state = SPATE_RUN_SUCCESS; /* not processed: only its stale row matters */
        assert_int_equal(spate_sched_db_run_update(s->db, &r), SPATE_OK);
        spate_sched_ti_t t;
        memset(&t, 0, sizeof t);
        snprintf(t.dag_id, sizeof t.dag_id, "ps");
        snprintf(t.run_id, sizeof t.run_id, "%s", runs[i]);
        snprintf(t.task_id, sizeof t.task_id, "t");
        snprintf(t.hostname, sizeof t.hostname, "%s", s->hostname);
        t.state = SPATE_TI_RUNNING;
        t.try_number = 1;
        t.max_tries = 1;
        t.pid = (int)other[i];
        t.start_ms = i == 0 ? wall - 600000 : wall;
        t.heartbeat_ms = now - 60000;
        t.exit_code = -1;
        assert_int_equal(spate_sched_db_ti_put(s->db, &t), SPATE_OK);
    }
    s->last_heartbeat_ms = INT64_MIN;
    assert_int_equal(spate_scheduler_tick(s, ++now), SPATE_OK);
    assert_int_equal(get_ti(s, "ps", "reused", "t").state, SPATE_TI_FAILED);
    assert_int_equal(get_ti(s, "ps", "orphan", "t").state, SPATE_TI_FAILED);
    int st = 0;
    usleep(20000);
    assert_int_equal(waitpid(other[0], &st, WNOHANG), 0); /* alive */
    assert_int_equal(waitpid(other[1], &st, 0), other[1]);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    kill(other[0], SIGKILL);
    waitpid(other[0], &st, 0);
    spate_scheduler_free(s);
}

/* ------------------------------------------------------------------ */
/* `empty` tasks settle in the tick (Airflow's EmptyOperator)          */
/* ------------------------------------------------------------------ */

static int forks_seen;

static void count_fork(spate_scheduler_t *s, pid_t pid) {
    SPATE_UNUSED(s);
    SPATE_UNUSED(pid);
    forks_seen++;
}

/* The entries of DATA/logs/DAG/RUN, sorted and joined by ' ' ("" when
 * the folder is missing). */
static void log_dirs(const char *dag, const char *run, char *out, size_t cap) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ls '%s/data/logs/%s/%s' 2>/dev/null | sort | tr '\\n' ' '", tmpdir,
             dag, run);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    pclose(p);
}

static void assert_empty_done(spate_scheduler_t *s, const char *run, const char *task, int64_t at) {
    spate_sched_ti_t t = get_ti(s, "em", run, task);
    if (t.state != SPATE_TI_SUCCESS)
        fail_msg("%s/%s: %s, want success", run, task, spate_sched_ti_state_name(t.state));
    assert_int_equal(t.try_number, 1);
    assert_int_equal(t.exit_code, 0);
    assert_int_equal(t.pid, 0);
    assert_true(t.start_ms == at && t.end_ms == at);
}

static void test_empty_in_scheduler(void **state) {
    SPATE_UNUSED(state);
    int64_t now = T0;
    /* One worker, max_active_tasks 1 and a pool of 1 slot, all taken by
     * `busy` from the first tick: none of it may hold back the empty
     * chain a → b → c, its fan-out f1..f4 (asking for 5 slots of the
     * 1-slot pool) and the join j. The shell task s after j waits for the
     * worker; the empty z after s settles the tick s is reaped. */
    next_workers = 1;
    next_pool = "p";
    next_pool_slots = 1;
    spate_scheduler_t *s =
        start("dag_id: em\nschedule: none\nmax_active_tasks: 1\ntasks:\n"
              "  - {task_id: busy, type: shell, command: \"sleep 0.3\", pool: p}\n"
              "  - {task_id: a, type: empty}\n"
              "  - {task_id: b, type: empty, upstream: a}\n"
              "  - {task_id: c, type: empty, upstream: b}\n"
              "  - {task_id: f1, type: empty, upstream: c, pool: p, pool_slots: 5}\n"
              "  - {task_id: f2, type: empty, upstream: c, pool: p, pool_slots: 5}\n"
              "  - {task_id: f3, type: empty, upstream: c, pool: p, pool_slots: 5}\n"
              "  - {task_id: f4, type: empty, upstream: c, pool: p, pool_slots: 5}\n"
              "  - {task_id: j, type: empty, upstream: [f1, f2, f3, f4]}\n"
              "  - {task_id: s, type: shell, command: \"echo ran-s\", upstream: j}\n"
              "  - {task_id: z, type: empty, upstream: s}\n");
    assert_int_equal(spate_scheduler_tick(s, now), SPATE_OK);
    spate_sched_run_t r;
    assert_int_equal(
        spate_sched_manual_run(s->db, spate_sched_dagbag_get(s->bag, "em"), "m", now, now, &r),
        SPATE_OK);
    forks_seen = 0;
    spate_sched_after_fork_hook = count_fork;
    assert_int_equal(spate_scheduler_tick(s, ++now), SPATE_OK);
    /* one tick: the whole empty part is done, only busy was forked */
    static const char *const empties[] = {"a", "b", "c", "f1", "f2", "f3", "f4", "j"};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(empties); i++)
        assert_empty_done(s, "m", empties[i], now);
    int64_t first = now;
    assert_int_equal(forks_seen, 1);
    assert_int_equal(s->nkids, 1);
    assert_int_equal(get_ti(s, "em", "m", "busy").state, SPATE_TI_RUNNING);
    assert_int_equal(get_ti(s, "em", "m", "s").state, SPATE_TI_SCHEDULED); /* the worker is taken */
    assert_int_equal(get_ti(s, "em", "m", "z").state, SPATE_TI_NONE);
    run_until_done(s, "em", "m", &now);
    spate_sched_after_fork_hook = NULL;
    assert_int_equal(get_run(s, "em", "m").state, SPATE_RUN_SUCCESS);
    assert_int_equal(forks_seen, 2); /* busy and s, nothing else */
    for (size_t i = 0; i < SPATE_ARRAY_LEN(empties); i++)
        assert_empty_done(s, "m", empties[i], first);
    spate_sched_ti_t st = get_ti(s, "em", "m", "s");
    assert_int_equal(st.state, SPATE_TI_SUCCESS);
    assert_int_equal(st.try_number, 1);
    spate_sched_ti_t z = get_ti(s, "em", "m", "z");
    assert_empty_done(s, "m", "z", z.start_ms);
    assert_true(z.start_ms >= st.end_ms);
    /* log files: the two shell tasks', none for an empty task */
    char dirs[256], log[256];
    log_dirs("em", "m", dirs, sizeof dirs);
    assert_string_equal(dirs, "busy s ");
    read_log("em", "m", "s", 1, log, sizeof log);
    assert_non_null(strstr(log, "ran-s\n"));

    /* A SCHEDULED row left from before (a re-queued try, an older
     * scheduler) is settled the same way, no fork either. */
    assert_int_equal(
        spate_sched_manual_run(s->db, spate_sched_dagbag_get(s->bag, "em"), "m2", now, now, &r),
        SPATE_OK);
    spate_sched_ti_t pre = {.state = SPATE_TI_SCHEDULED, .max_tries = 1, .exit_code = -1};
    snprintf(pre.dag_id, sizeof pre.dag_id, "em");
    snprintf(pre.run_id, sizeof pre.run_id, "m2");
    snprintf(pre.task_id, sizeof pre.task_id, "a");
    snprintf(pre.pool, sizeof pre.pool, "default_pool");
    assert_int_equal(spate_sched_db_ti_put(s->db, &pre), SPATE_OK);
    forks_seen = 0;
    spate_sched_after_fork_hook = count_fork;
    assert_int_equal(spate_scheduler_tick(s, ++now), SPATE_OK);
    assert_empty_done(s, "m2", "a", now);
    assert_empty_done(s, "m2", "j", now);
    assert_int_equal(forks_seen, 1); /* busy; s waits for the worker */
    run_until_done(s, "em", "m2", &now);
    spate_sched_after_fork_hook = NULL;
    assert_int_equal(forks_seen, 2); /* + s */
    assert_int_equal(get_run(s, "em", "m2").state, SPATE_RUN_SUCCESS);
    log_dirs("em", "m2", dirs, sizeof dirs);
    assert_string_equal(dirs, "busy s ");
    spate_scheduler_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trigger_table),
        cmocka_unit_test(test_retry_delay),
        cmocka_unit_test(test_run_ids),
        cmocka_unit_test(test_catchup),
        cmocka_unit_test(test_no_catchup_end_date),
        cmocka_unit_test(test_paused_and_max_active_runs),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_trigger_rules_run),
        cmocka_unit_test(test_retries_backoff),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_backfill),
        cmocka_unit_test(test_dead_task),
        cmocka_unit_test(test_run_conf),
        cmocka_unit_test(test_no_scheduled_runs),
        cmocka_unit_test(test_leaf_state),
        cmocka_unit_test(test_queued_before_fork),
        cmocka_unit_test(test_requeue_stale_queued),
        cmocka_unit_test(test_clean_stop),
        cmocka_unit_test(test_dead_try_pid_reuse),
        cmocka_unit_test(test_path_ids),
        cmocka_unit_test(test_backfill_then_schedule),
        cmocka_unit_test(test_proc_stat_starttime),
        cmocka_unit_test(test_dead_try_pid_start_time),
        cmocka_unit_test(test_empty_in_scheduler),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
