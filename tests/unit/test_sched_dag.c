/*
 * test_sched_dag.c — DAG files and the DagBag (src/sched/sched_dag.c).
 *
 * What a user relies on: the documented example loads with every key
 * read and default_args applied under each task's own keys; every default
 * is the documented one; every mistake is reported as exactly
 * "file:line: message" — all of them in one load — for DAG keys, default
 * args, task keys (common keys merged with the operator's own), operator
 * types, trigger rules, upstream ids, duplicates and cycles (named by
 * their task ids); a broken file contributes no DAG and does not stop
 * the others; a folder reload reparses only changed files, drops removed
 * ones and keeps unchanged DAGs at the same address.
 *
 * Tasks use the real registry's `shell` operator (sched_op_shell.c: keys
 * command, env, cwd; command required).
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
#include <unistd.h>

#include "sched.h"

typedef struct {
    spate_conf_t conf;
    spate_sched_dagbag_t *bag;
} fx_t;

static void fx_load(fx_t *f, const char *yaml) {
    spate_conf_err_t err;
    memset(f, 0, sizeof *f);
    if (spate_conf_load_string(&f->conf, "d.yaml", yaml, strlen(yaml), &err) != SPATE_OK)
        fail_msg("yaml: %s", err.msg);
    f->bag = spate_sched_dagbag_new();
    assert_non_null(f->bag);
    spate_sched_dagbag_add_node(f->bag, &f->conf, f->conf.root);
}

static void fx_free(fx_t *f) {
    spate_sched_dagbag_free(f->bag);
    spate_conf_free(&f->conf);
}

static void dump(const spate_stream_diag_t *d) {
    for (size_t i = 0; i < d->n; i++) fprintf(stderr, "  [%zu] %s\n", i, d->msgs[i]);
}

/* Loads yaml and checks the exact messages (a trailing '*' in a wanted
 * message means "starts with"). */
static void expect_errors(const char *yaml, const char *const *want, size_t nwant) {
    fx_t f;
    fx_load(&f, yaml);
    const spate_stream_diag_t *d = spate_sched_dagbag_errors(f.bag);
    if (d->n != nwant) {
        dump(d);
        fail_msg("%zu messages, want %zu", d->n, nwant);
    }
    for (size_t i = 0; i < nwant; i++) {
        size_t n = strlen(want[i]);
        bool prefix = n > 0 && want[i][n - 1] == '*';
        if (prefix ? strncmp(d->msgs[i], want[i], n - 1) != 0 : strcmp(d->msgs[i], want[i]) != 0) {
            dump(d);
            fail_msg("message %zu:\n  got  %s\n  want %s", i, d->msgs[i], want[i]);
        }
    }
    assert_int_equal(spate_sched_dagbag_count(f.bag), 0); /* a broken source adds nothing */
    fx_free(&f);
}

static const char example[] = "dags:\n"                                        /* 1 */
                              "  - dag_id: user_automation\n"                  /* 2 */
                              "    description: fetch users and publish\n"     /* 3 */
                              "    schedule: \"@daily\"\n"                     /* 4 */
                              "    start_date: 2026-11-01\n"                   /* 5 */
                              "    end_date: 2026-12-31T12:00:00Z\n"           /* 6 */
                              "    catchup: false\n"                           /* 7 */
                              "    max_active_runs: 1\n"                       /* 8 */
                              "    max_active_tasks: 4\n"                      /* 9 */
                              "    is_paused_upon_creation: true\n"            /* 10 */
                              "    params: {count: 100}\n"                     /* 11 */
                              "    default_args:\n"                            /* 12 */
                              "      retries: 1\n"                             /* 13 */
                              "      retry_delay: 5s\n"                        /* 14 */
                              "      retry_exponential_backoff: true\n"        /* 15 */
                              "      max_retry_delay: 1m\n"                    /* 16 */
                              "      execution_timeout: 10m\n"                 /* 17 */
                              "      pool: default_pool\n"                     /* 18 */
                              "      trigger_rule: all_success\n"              /* 19 */
                              "    tasks:\n"                                   /* 20 */
                              "      - task_id: publish\n"                     /* 21 */
                              "        type: shell\n"                          /* 22 */
                              "        command: echo publish\n"                /* 23 */
                              "        upstream: [stage_users, check]\n"       /* 24 */
                              "        trigger_rule: none_failed\n"            /* 25 */
                              "        retries: 3\n"                           /* 26 */
                              "        pool: kafka\n"                          /* 27 */
                              "        pool_slots: 2\n"                        /* 28 */
                              "        retry_exponential_backoff: false\n"     /* 29 */
                              "      - task_id: stage_users\n"                 /* 30 */
                              "        type: shell\n"                          /* 31 */
                              "        command: \"echo {{ params.count }}\"\n" /* 32 */
                              "      - task_id: check\n"                       /* 33 */
                              "        type: shell\n"                          /* 34 */
                              "        command: true\n"                        /* 35 */
                              "        upstream: stage_users\n"                /* 36 */
                              "  - dag_id: second\n"                           /* 37 */
                              "    schedule: every 30 seconds\n"               /* 38 */
                              "    start_date: 2026-11-01T06:30:00\n"          /* 39 */
                              "    tasks: []\n";                               /* 40 */

static void test_example(void **state) {
    (void)state;
    fx_t f;
    fx_load(&f, example);
    const spate_stream_diag_t *errs = spate_sched_dagbag_errors(f.bag);
    if (errs->n) dump(errs);
    assert_int_equal(errs->n, 0);
    assert_int_equal(spate_sched_dagbag_count(f.bag), 2);
    const spate_sched_dag_t *d = spate_sched_dagbag_at(f.bag, 0);
    assert_ptr_equal(spate_sched_dagbag_get(f.bag, "user_automation"), d);
    assert_null(spate_sched_dagbag_get(f.bag, "nope"));
    assert_string_equal(d->dag_id, "user_automation");
    assert_string_equal(d->file, "d.yaml");
    assert_int_equal(d->line, 2);
    assert_string_equal(d->description, "fetch users and publish");
    assert_int_equal(d->schedule.kind, SPATE_SCHED_CRON);
    assert_string_equal(d->schedule.text, "@daily");
    assert_int_equal(d->start_date_ms, 1793491200000LL); /* 2026-11-01 */
    assert_int_equal(d->end_date_ms, 1798718400000LL);   /* 2026-12-31 12:00 */
    assert_false(d->catchup);
    assert_int_equal(d->max_active_runs, 1);
    assert_int_equal(d->max_active_tasks, 4);
    assert_true(d->is_paused_upon_creation);
    assert_non_null(d->params);
    assert_string_equal(spate_conf_get(d->params, "count")->value, "100");
    assert_ptr_equal(d->conf, &f.conf);
    assert_int_equal(d->ntasks, 3);

    const spate_sched_task_t *p = spate_sched_dag_task(d, "publish");
    assert_ptr_equal(p, &d->tasks[0]);
    assert_string_equal(p->type, "shell");
    assert_int_equal(p->line, 21);
    assert_string_equal(spate_conf_get(p->node, "command")->value, "echo publish");
    assert_int_equal(p->nupstream, 2);
    assert_string_equal(p->upstream[0], "stage_users");
    assert_string_equal(p->upstream[1], "check");
    assert_int_equal(p->up[0], 1);
    assert_int_equal(p->up[1], 2);
    assert_int_equal(p->trigger, SPATE_TRIGGER_NONE_FAILED);
    assert_int_equal(p->retry.retries, 3);                   /* own */
    assert_int_equal(p->retry.retry_delay_ms, 5000);         /* default_args */
    assert_false(p->retry.retry_exponential_backoff);        /* own overrides */
    assert_int_equal(p->retry.max_retry_delay_ms, 60000);    /* default_args */
    assert_int_equal(p->retry.execution_timeout_ms, 600000); /* default_args */
    assert_string_equal(p->pool, "kafka");
    assert_int_equal(p->pool_slots, 2);

    const spate_sched_task_t *s = spate_sched_dag_task(d, "stage_users");
    assert_int_equal(s->nupstream, 0);
    assert_int_equal(s->retry.retries, 1);
    assert_true(s->retry.retry_exponential_backoff);
    assert_string_equal(s->pool, "default_pool");
    assert_int_equal(s->pool_slots, 1);
    assert_int_equal(s->trigger, SPATE_TRIGGER_ALL_SUCCESS);
    const spate_sched_task_t *c = spate_sched_dag_task(d, "check");
    assert_int_equal(c->nupstream, 1); /* a single string */
    assert_int_equal(c->up[0], 1);
    assert_null(spate_sched_dag_task(d, "nope"));
    /* upstream first: stage_users, check, publish */
    assert_int_equal(d->topo[0], 1);
    assert_int_equal(d->topo[1], 2);
    assert_int_equal(d->topo[2], 0);

    const spate_sched_dag_t *d2 = spate_sched_dagbag_at(f.bag, 1);
    assert_string_equal(d2->dag_id, "second");
    assert_int_equal(d2->line, 37);
    assert_int_equal(d2->schedule.kind, SPATE_SCHED_EVERY);
    assert_int_equal(d2->schedule.every_ms, 30000);
    assert_int_equal(d2->start_date_ms, 1793491200000LL + 23400000LL);
    assert_int_equal(d2->ntasks, 0);
    assert_null(spate_sched_dagbag_at(f.bag, 2));
    fx_free(&f);
}

/* A file that is one DAG (no `dags:`), with every default. */
static void test_defaults(void **state) {
    (void)state;
    fx_t f;
    fx_load(&f, "dag_id: minimal\n"
                "start_date: 2026-11-01\n"
                "tasks:\n"
                "  - {task_id: only, type: shell, command: 'true'}\n");
    assert_int_equal(spate_sched_dagbag_errors(f.bag)->n, 0);
    assert_int_equal(spate_sched_dagbag_count(f.bag), 1);
    const spate_sched_dag_t *d = spate_sched_dagbag_at(f.bag, 0);
    assert_string_equal(d->description, "");
    assert_int_equal(d->schedule.kind, SPATE_SCHED_CRON); /* Airflow 2: daily */
    assert_string_equal(d->schedule.text, "@daily");
    assert_int_equal(d->end_date_ms, INT64_MAX);
    assert_true(d->catchup);
    assert_int_equal(d->max_active_runs, 16);
    assert_int_equal(d->max_active_tasks, 16);
    assert_false(d->is_paused_upon_creation);
    assert_null(d->params);
    const spate_sched_task_t *t = &d->tasks[0];
    assert_int_equal(t->retry.retries, 0);
    assert_int_equal(t->retry.retry_delay_ms, 300000);
    assert_false(t->retry.retry_exponential_backoff);
    assert_int_equal(t->retry.max_retry_delay_ms, 0);
    assert_int_equal(t->retry.execution_timeout_ms, 0);
    assert_string_equal(t->pool, "default_pool");
    assert_int_equal(t->pool_slots, 1);
    assert_int_equal(t->trigger, SPATE_TRIGGER_ALL_SUCCESS);
    assert_int_equal(t->nupstream, 0);
    assert_null(t->up);
    assert_int_equal(d->topo[0], 0);
    fx_free(&f);

    /* schedule none (or null) needs no start date; @once does */
    fx_load(&f, "dags:\n"
                "  - {dag_id: m1, schedule: none, tasks: []}\n"
                "  - {dag_id: m2, schedule: null, tasks: []}\n"
                "  - {dag_id: m3, schedule: '@once', start_date: 2026-11-01, tasks: []}\n");
    assert_int_equal(spate_sched_dagbag_errors(f.bag)->n, 0);
    assert_int_equal(spate_sched_dagbag_count(f.bag), 3);
    assert_int_equal(spate_sched_dagbag_get(f.bag, "m1")->schedule.kind, SPATE_SCHED_NONE);
    assert_int_equal(spate_sched_dagbag_get(f.bag, "m2")->schedule.kind, SPATE_SCHED_NONE);
    assert_int_equal(spate_sched_dagbag_get(f.bag, "m3")->schedule.kind, SPATE_SCHED_ONCE);
    /* the same node added again replaces, not duplicates */
    spate_sched_dagbag_add_node(f.bag, &f.conf, f.conf.root);
    assert_int_equal(spate_sched_dagbag_count(f.bag), 3);
    assert_int_equal(spate_sched_dagbag_errors(f.bag)->n, 0);
    fx_free(&f);

    /* a bare list of DAGs (a pipeline file's scheduler.dags node) */
    fx_load(&f, "- {dag_id: l1, schedule: none, tasks: []}\n"
                "- {dag_id: l2, schedule: none, tasks: []}\n");
    assert_int_equal(spate_sched_dagbag_count(f.bag), 2);
    assert_string_equal(spate_sched_dagbag_at(f.bag, 1)->dag_id, "l2");
    fx_free(&f);
}

static void test_dag_key_errors(void **state) {
    (void)state;
    static const char *const want[] = {
        "d.yaml:3: key 'schedul': unknown setting (expected dag_id, description, schedule, "
        "start_date, end_date, catchup, max_active_runs, max_active_tasks, "
        "is_paused_upon_creation, params, default_args, tasks)",
        "d.yaml:4: key 'start_date': expected a UTC date or time like 2026-11-01 or "
        "2026-11-01T06:30:00, got '2026-13-01'",
        "d.yaml:5: key 'catchup': expected true or false, got 'maybe'",
        "d.yaml:6: key 'max_active_runs': 0 is out of range [1, 100000]",
        "d.yaml:7: key 'params': expected a mapping of params, got a list",
        "d.yaml:11: key 'owner': unknown setting (expected trigger_rule, retries, retry_delay, "
        "retry_exponential_backoff, max_retry_delay, execution_timeout, pool, pool_slots)",
        "d.yaml:9: key 'retries': -1 is out of range [0, 1000]",
        "d.yaml:10: key 'retry_delay': expected a duration like 30s, 5m, 2h, 1d, 250ms, 300 or "
        "00:05:00, got 'soon'",
        "d.yaml:12: key 'tasks': expected a list of tasks, got a mapping",
    };
    expect_errors("dags:\n"                      /* 1 */
                  "  - dag_id: a\n"              /* 2 */
                  "    schedul: \"@daily\"\n"    /* 3 */
                  "    start_date: 2026-13-01\n" /* 4 */
                  "    catchup: maybe\n"         /* 5 */
                  "    max_active_runs: 0\n"     /* 6 */
                  "    params: [1]\n"            /* 7 */
                  "    default_args:\n"          /* 8 */
                  "      retries: -1\n"          /* 9 */
                  "      retry_delay: soon\n"    /* 10 */
                  "      owner: me\n"            /* 11 */
                  "    tasks: {a: 1}\n",         /* 12 */
                  want, SPATE_ARRAY_LEN(want));

    static const char *const want2[] = {
        "d.yaml:2: 'dag_id' is required",
        "d.yaml:2: 'tasks' is required (a list of tasks)",
        "d.yaml:3: key 'dag_id': expected a DAG id of 1 to 250 characters [A-Za-z0-9_.-]",
        "d.yaml:4: key 'schedule': minute 61 out of range 0-59",
        "d.yaml:6: key 'end_date': end_date is before start_date",
        "d.yaml:7: 'start_date' is required unless schedule is none",
        "d.yaml:8: expected a DAG (a mapping with dag_id), got a value",
        "d.yaml:11: expected a task (a mapping), got a value",
        "d.yaml:13: key 'dag_id': dag_id 'dup' is used twice (first at line 12)",
    };
    expect_errors("dags:\n"                                              /* 1 */
                  "  - {schedule: none}\n"                               /* 2 */
                  "  - {dag_id: 'a b', schedule: none, tasks: []}\n"     /* 3 */
                  "  - {dag_id: s, schedule: '61 * * * *', tasks: [],\n" /* 4 */
                  "     start_date: 2026-11-01}\n"                       /* 5 */
                  "  - {dag_id: e, start_date: 2026-11-02, end_date: 2026-11-01, tasks: []}\n"
                  "  - {dag_id: nostart, schedule: '@once', tasks: []}\n" /* 7 */
                  "  - just a string\n"                                   /* 8 */
                  "  - dag_id: t\n"                                       /* 9 */
                  "    schedule: none\n"                                  /* 10 */
                  "    tasks: [oops]\n"                                   /* 11 */
                  "  - {dag_id: dup, schedule: none, tasks: []}\n"        /* 12 */
                  "  - {dag_id: dup, schedule: none, tasks: []}\n",       /* 13 */
                  want2, SPATE_ARRAY_LEN(want2));

    static const char *const want3[] = {
        "d.yaml:1: expected 'dags:' (a list of DAGs) or one DAG (a mapping with dag_id)"};
    expect_errors("hello\n", want3, 1);
    expect_errors("stream: {}\n", want3, 1);
    static const char *const want4[] = {
        "d.yaml:2: key 'extra': unknown setting (expected dags)",
    };
    expect_errors("dags: []\nextra: 1\n", want4, 1);
    static const char *const want5[] = {
        "d.yaml:1: key 'dags': expected a list of DAGs, got a value"};
    expect_errors("dags: x\n", want5, 1);
}

static void test_task_errors(void **state) {
    (void)state;
    static const char *const want[] = {
        "d.yaml:9: key 'colour': unknown setting (expected task_id, type, upstream, "
        "trigger_rule, retries, retry_delay, retry_exponential_backoff, max_retry_delay, "
        "execution_timeout, pool, pool_slots, command, env, cwd)",
        "d.yaml:8: key 'trigger_rule': unknown trigger rule 'all_good' (expected all_success, "
        "all_done, all_failed, one_success, one_failed or none_failed)",
        "d.yaml:11: key 'type': unknown operator 'nosuch' (expected shell*",
        "d.yaml:13: key 'task_id': expected a task id of 1 to 250 characters [A-Za-z0-9_.-]",
        "d.yaml:16: 'task_id' is required",
        "d.yaml:18: 'type' is required (the operator)",
        "d.yaml:24: key 'upstream': expected a task id or a list of task ids",
        "d.yaml:23: key 'pool_slots': 0 is out of range [1, 1000000]",
        "d.yaml:20: key 'task_id': task id 't1' is used twice in DAG 'b' (first at line 5)",
        "d.yaml:12: key 'upstream': upstream task 't9' does not exist in DAG 'b'",
    };
    expect_errors("dags:\n"                          /* 1 */
                  "  - dag_id: b\n"                  /* 2 */
                  "    schedule: none\n"             /* 3 */
                  "    tasks:\n"                     /* 4 */
                  "      - task_id: t1\n"            /* 5 */
                  "        type: shell\n"            /* 6 */
                  "        command: echo\n"          /* 7 */
                  "        trigger_rule: all_good\n" /* 8 */
                  "        colour: red\n"            /* 9 */
                  "      - task_id: t2\n"            /* 10 */
                  "        type: nosuch\n"           /* 11 */
                  "        upstream: [t9]\n"         /* 12 */
                  "      - task_id: bad id\n"        /* 13 */
                  "        type: shell\n"            /* 14 */
                  "        command: x\n"             /* 15 */
                  "      - type: shell\n"            /* 16 */
                  "        command: x\n"             /* 17 */
                  "      - task_id: t3\n"            /* 18 */
                  "        command: x\n"             /* 19 */
                  "      - task_id: t1\n"            /* 20 */
                  "        type: shell\n"            /* 21 */
                  "        command: y\n"             /* 22 */
                  "        pool_slots: 0\n"          /* 23 */
                  "        upstream: {a: b}\n",      /* 24 */
                  want, SPATE_ARRAY_LEN(want));
}

static void test_cycles(void **state) {
    (void)state;
    /* a → b → c → a (d is fine); the walk starts at the first task not
     * ordered (a) and goes upstream: a ← c ← b ← a, reported downstream-ward
     * at the last task of the walk (b, line 8). */
    static const char *const want[] = {"d.yaml:8: DAG 'c' has a cycle: b -> c -> a -> b"};
    expect_errors("dag_id: c\n"         /* 1 */
                  "schedule: none\n"    /* 2 */
                  "tasks:\n"            /* 3 */
                  "  - task_id: a\n"    /* 4 */
                  "    type: shell\n"   /* 5 */
                  "    command: x\n"    /* 6 */
                  "    upstream: c\n"   /* 7 */
                  "  - task_id: b\n"    /* 8 */
                  "    type: shell\n"   /* 9 */
                  "    command: x\n"    /* 10 */
                  "    upstream: [a]\n" /* 11 */
                  "  - task_id: c\n"    /* 12 */
                  "    type: shell\n"   /* 13 */
                  "    command: x\n"    /* 14 */
                  "    upstream: [b]\n" /* 15 */
                  "  - task_id: d\n"    /* 16 */
                  "    type: shell\n"   /* 17 */
                  "    command: x\n",   /* 18 */
                  want, SPATE_ARRAY_LEN(want));
    static const char *const want2[] = {"d.yaml:3: DAG 's' has a cycle: x -> x"};
    expect_errors("dag_id: s\n"
                  "tasks:\n"
                  "  - {task_id: x, type: shell, command: y, upstream: [x]}\n"
                  "schedule: none\n",
                  want2, 1);
    static const char *const want3[] = {
        "d.yaml:4: key 'upstream': upstream task 'x' is listed twice"};
    expect_errors("dag_id: s\n"
                  "schedule: none\n"
                  "tasks:\n"
                  "  - {task_id: y, type: shell, command: y, upstream: [x, x]}\n"
                  "  - {task_id: x, type: shell, command: y}\n",
                  want3, 1);
}

static char tmpdir[64];

static void put_file(const char *name, const char *text) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *msg_at(const spate_sched_dagbag_t *b, size_t i) {
    const spate_stream_diag_t *d = spate_sched_dagbag_errors(b);
    return i < d->n ? d->msgs[i] : "";
}

static void test_folder(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_sched_dag.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    char sub[128], want[512];
    snprintf(sub, sizeof sub, "%s/sub", tmpdir);
    assert_int_equal(mkdir(sub, 0700), 0);
    put_file("a.yaml", "dag_id: a1\nschedule: none\ntasks: []\n");
    put_file("b.yml", "dags:\n  - {dag_id: b1, schedule: none, tasks: []}\n"
                      "  - {dag_id: a1, schedule: none, tasks: []}\n");
    put_file("c.txt", "not: yaml: at all: [\n");
    put_file(".hidden.yaml", "dag_id: hidden\nschedule: none\ntasks: []\n");
    put_file("sub/d.yaml", "dag_id: d1\nschedule: none\ntasks: []\n");
    put_file("broken.yaml", "dag_id: br\nschedule: none\ntasks: []\ncolor: x\n");

    spate_sched_dagbag_t *b = spate_sched_dagbag_new();
    bool changed = false;
    assert_int_equal(spate_sched_dagbag_load(b, tmpdir, &changed), SPATE_OK);
    assert_true(changed);
    /* files in name order: a.yaml, b.yml, broken.yaml; b.yml's a1 is a
     * duplicate of a.yaml's (dropped alone); broken.yaml adds nothing */
    assert_int_equal(spate_sched_dagbag_count(b), 2);
    const spate_sched_dag_t *a1 = spate_sched_dagbag_at(b, 0);
    assert_string_equal(a1->dag_id, "a1");
    assert_string_equal(spate_sched_dagbag_at(b, 1)->dag_id, "b1");
    assert_int_equal(spate_sched_dagbag_errors(b)->n, 2);
    snprintf(want, sizeof want, "%s/b.yml:3: dag_id 'a1' is already defined at %s/a.yaml:1", tmpdir,
             tmpdir);
    assert_string_equal(msg_at(b, 0), want);
    snprintf(want, sizeof want,
             "%s/broken.yaml:4: key 'color': unknown setting (expected dag_id, description, "
             "schedule, start_date, end_date, catchup, max_active_runs, max_active_tasks, "
             "is_paused_upon_creation, params, default_args, tasks)",
             tmpdir);
    assert_string_equal(msg_at(b, 1), want);
    char a1_path[256];
    snprintf(a1_path, sizeof a1_path, "%s/a.yaml", tmpdir);
    assert_string_equal(a1->file, a1_path);

    /* nothing changed: same DAGs at the same addresses */
    assert_int_equal(spate_sched_dagbag_load(b, tmpdir, &changed), SPATE_OK);
    assert_false(changed);
    assert_ptr_equal(spate_sched_dagbag_get(b, "a1"), a1);
    assert_int_equal(spate_sched_dagbag_errors(b)->n, 2);

    /* b.yml changes (size differs): reparsed, a.yaml kept */
    put_file("b.yml", "dags:\n  - {dag_id: b2, schedule: none, tasks: []}\n");
    put_file("broken.yaml", "dag_id: br\nschedule: none\ntasks: []\n");
    assert_int_equal(spate_sched_dagbag_load(b, tmpdir, &changed), SPATE_OK);
    assert_true(changed);
    assert_ptr_equal(spate_sched_dagbag_get(b, "a1"), a1);
    assert_null(spate_sched_dagbag_get(b, "b1"));
    assert_non_null(spate_sched_dagbag_get(b, "b2"));
    assert_non_null(spate_sched_dagbag_get(b, "br"));
    assert_int_equal(spate_sched_dagbag_count(b), 3);
    assert_int_equal(spate_sched_dagbag_errors(b)->n, 0);

    /* removed file: its DAG goes; a YAML syntax error is file:line */
    assert_int_equal(unlink(a1_path), 0);
    put_file("z.yaml", "dag_id: [\n");
    assert_int_equal(spate_sched_dagbag_load(b, tmpdir, &changed), SPATE_OK);
    assert_true(changed);
    assert_null(spate_sched_dagbag_get(b, "a1"));
    assert_int_equal(spate_sched_dagbag_count(b), 2);
    assert_int_equal(spate_sched_dagbag_errors(b)->n, 1);
    snprintf(want, sizeof want, "%s/z.yaml:", tmpdir);
    assert_memory_equal(msg_at(b, 0), want, strlen(want));

    /* one file as the path; then a path that does not exist */
    char one[256];
    snprintf(one, sizeof one, "%s/sub/d.yaml", tmpdir);
    assert_int_equal(spate_sched_dagbag_load(b, one, &changed), SPATE_OK);
    assert_true(changed);
    assert_int_equal(spate_sched_dagbag_count(b), 1);
    assert_string_equal(spate_sched_dagbag_at(b, 0)->dag_id, "d1");
    assert_int_equal(spate_sched_dagbag_errors(b)->n, 0);
    snprintf(one, sizeof one, "%s/nope", tmpdir);
    assert_int_equal(spate_sched_dagbag_load(b, one, &changed), SPATE_EIO);
    assert_false(changed);
    assert_int_equal(spate_sched_dagbag_count(b), 1); /* kept as it was */

    /* inline DAGs come before files and stay across loads */
    spate_conf_t c;
    spate_conf_err_t err;
    const char *y = "scheduler:\n  dags:\n    - {dag_id: inl, schedule: none, tasks: []}\n";
    assert_int_equal(spate_conf_load_string(&c, "p.yaml", y, strlen(y), &err), SPATE_OK);
    spate_sched_dagbag_add_node(b, &c, spate_conf_get(spate_conf_get(c.root, "scheduler"), "dags"));
    assert_int_equal(spate_sched_dagbag_load(b, tmpdir, &changed), SPATE_OK);
    assert_string_equal(spate_sched_dagbag_at(b, 0)->dag_id, "inl");
    assert_string_equal(spate_sched_dagbag_at(b, 0)->file, "p.yaml");
    assert_int_equal(spate_sched_dagbag_count(b), 3); /* inl, b2, br */
    spate_sched_dagbag_free(b);
    spate_conf_free(&c);

    const char *names[] = {"b.yml", "c.txt", ".hidden.yaml", "sub/d.yaml", "broken.yaml", "z.yaml"};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(names); i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]);
        unlink(p);
    }
    rmdir(sub);
    rmdir(tmpdir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example),        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_dag_key_errors), cmocka_unit_test(test_task_errors),
        cmocka_unit_test(test_cycles),         cmocka_unit_test(test_folder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
