/*
 * test_sched_ops.c — the scheduler's operators (src/sched/sched_op*.c)
 * without outside servers:
 *
 *   registry      every task type is found by name, unknown ones are not,
 *                 the list is NULL-terminated and complete
 *   checks        load-time problems with exact "file:line: ..." text
 *   cql split     statement boundaries around strings, $$, comments
 *   staging SQL   the exact statements for SQLite and PostgreSQL
 *   staging       on a temporary SQLite file: idempotent insert, pending
 *                 order, marking, counts, reopen
 *   shell         exit codes, a signal, env and cwd, SIGTERM passed on
 *   sql           statements on SQLite, all-or-nothing on a failure
 *   http          against an in-process randomuser server: status checks
 *   r→postgres    randomuser_to_postgres on SQLite from an in-process
 *                 randomuser server, twice with one seed: no duplicates
 *   producer      a message nobody acknowledges fails the flush
 *
 * Operators' run() is meant for a forked child; here it runs in the test
 * process (shell forks its own child and waits for it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched_op_int.h"
#include "source.h"

/* ---- fixtures ---- */

static char tmpdir[256];

static int setup_all(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_sched_ops.XXXXXX");
    if (mkdtemp(tmpdir) == NULL) return -1;
    spate_log_set_level(SPATE_LOG_WARN);
    return 0;
}

static int teardown_all(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* One task loaded from YAML text (a single task map) with a context. */
typedef struct {
    spate_conf_t conf;
    spate_sched_task_t task;
    spate_sched_dag_t dag;
    spate_sched_env_t env;
    spate_sched_ti_ctx_t ctx;
} task_fx_t;

static void fx_load(task_fx_t *f, const char *yaml) {
    memset(f, 0, sizeof *f);
    spate_conf_err_t err;
    assert_int_equal(spate_conf_load_string(&f->conf, "dag.yaml", yaml, strlen(yaml), &err),
                     SPATE_OK);
    const spate_conf_node_t *n = f->conf.root;
    assert_non_null(n);
    f->task.id = spate_conf_get(n, "task_id")->value;
    f->task.type = spate_conf_get(n, "type")->value;
    f->task.node = n;
    f->dag.dag_id = "d";
    f->dag.conf = &f->conf;
    f->ctx.dag = &f->dag;
    f->ctx.task = &f->task;
    f->ctx.run_id = "manual__2026-11-01T00:00:00+00:00";
    f->ctx.try_number = 1;
    f->ctx.env = &f->env;
}

static int fx_run(task_fx_t *f) {
    const spate_sched_op_t *op = spate_sched_op_find(f->task.type);
    assert_non_null(op);
    return op->run(&f->ctx);
}

static void fx_free(task_fx_t *f) { spate_conf_free(&f->conf); }

/* Runs the type's check on YAML and returns the diagnostics joined by
 * '\n' (static storage). */
static const char *check_text(const char *yaml) {
    static char out[2048];
    task_fx_t f;
    fx_load(&f, yaml);
    spate_stream_diag_t d = {0};
    const spate_sched_op_t *op = spate_sched_op_find(f.task.type);
    assert_non_null(op);
    op->check(&f.conf, f.task.node, &d);
    out[0] = '\0';
    for (size_t i = 0; i < d.n; i++) {
        if (i) strncat(out, "\n", sizeof out - strlen(out) - 1);
        strncat(out, d.msgs[i], sizeof out - strlen(out) - 1);
    }
    spate_stream_diag_free(&d);
    fx_free(&f);
    return out;
}

static char *slurp(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

/* ---- registry ---- */

static void test_registry(void **state) {
    (void)state;
    const char *names[] = {"shell",
                           "http",
                           "sql",
                           "cql",
                           "randomuser_to_kafka",
                           "randomuser_to_postgres",
                           "postgres_to_kafka",
                           "empty"};
    const spate_sched_op_t *const *all = spate_sched_ops();
    size_t n = 0;
    while (all[n] != NULL) n++;
    assert_int_equal(n, SPATE_ARRAY_LEN(names));
    for (size_t i = 0; i < SPATE_ARRAY_LEN(names); i++) {
        const spate_sched_op_t *op = spate_sched_op_find(names[i]);
        assert_non_null(op);
        assert_string_equal(op->name, names[i]);
        assert_ptr_equal(op, all[i]);
        assert_non_null(op->keys);
        /* every type has keys of its own except `empty` (does nothing) */
        if (strcmp(names[i], "empty") != 0) assert_non_null(op->keys[0]);
        assert_non_null(op->check);
        assert_non_null(op->run);
    }
    assert_null(spate_sched_op_find("bash"));
    assert_null(spate_sched_op_find("Shell"));
    assert_null(spate_sched_op_find(""));
    assert_null(spate_sched_op_find(NULL));
    /* Keys as documented. */
    const spate_sched_op_t *sh = spate_sched_op_find("shell");
    assert_string_equal(sh->keys[0], "command");
    assert_string_equal(sh->keys[1], "env");
    assert_string_equal(sh->keys[2], "cwd");
    assert_null(sh->keys[3]);
}

/* ---- load-time checks ---- */

static void test_checks(void **state) {
    (void)state;
    assert_string_equal(check_text("task_id: a\ntype: shell\ncommand: echo hi\n"), "");
    assert_string_equal(check_text("task_id: a\ntype: shell\n"),
                        "dag.yaml:1: task 'a' needs key 'command'");
    assert_string_equal(check_text("task_id: a\ntype: shell\ncommand: [a, b]\nenv: x\n"),
                        "dag.yaml:3: key 'command': expected a scalar\n"
                        "dag.yaml:4: key 'env': expected a map");
    assert_string_equal(check_text("task_id: a\ntype: shell\ncommand: x\nenv:\n  A: [1]\n"),
                        "dag.yaml:5: key 'A': expected a scalar value");
    assert_string_equal(check_text("task_id: h\ntype: http\nurl: http://x/\nmethod: get\n"
                                   "expect_status: [200, 700]\ntimeout: soon\n"),
                        "dag.yaml:4: key 'method': expected an HTTP method like GET or POST, "
                        "got 'get'\n"
                        "dag.yaml:6: key 'timeout': expected a duration (30s, 5m, 2h), got "
                        "'soon'\n"
                        "dag.yaml:5: expected an HTTP status 100..599");
    assert_string_equal(check_text("task_id: h\ntype: http\nurl: http://x/\nexpect_status: 204\n"
                                   "timeout: 5s\nheaders: {X-A: b}\n"),
                        "");
    assert_string_equal(check_text("task_id: u\ntype: randomuser_to_kafka\n"),
                        "dag.yaml:1: task 'u' needs key 'count' or 'duration'");
    assert_string_equal(check_text("task_id: u\ntype: randomuser_to_kafka\ncount: 5\n"
                                   "duration: 60s\n"),
                        "dag.yaml:4: key 'duration': give count or duration, not both");
    assert_string_equal(check_text("task_id: u\ntype: randomuser_to_kafka\ncount: 0\n"),
                        "dag.yaml:3: key 'count': expected an integer in [1, 1000000000], got '0'");
    /* A template is checked when rendered, not at load time. */
    assert_string_equal(
        check_text("task_id: u\ntype: randomuser_to_kafka\ncount: \"{{ params.count }}\"\n"), "");
    assert_string_equal(check_text("task_id: s\ntype: randomuser_to_postgres\ncount: 3\n"
                                   "table: \"users; drop table x\"\n"),
                        "dag.yaml:4: key 'table': expected a plain table name, got 'users; drop "
                        "table x'");
    assert_string_equal(check_text("task_id: p\ntype: postgres_to_kafka\nbatch: -1\n"),
                        "dag.yaml:3: key 'batch': expected an integer in [1, 1000000], got '-1'");
    assert_string_equal(check_text("task_id: q\ntype: sql\n"),
                        "dag.yaml:1: task 'q' needs key 'sql'");
    assert_string_equal(check_text("task_id: c\ntype: cql\ncql: \" ; ;\"\n"),
                        "dag.yaml:3: key 'cql': no statement in it");
}

/* ---- CQL splitting ---- */

static void test_cql_split(void **state) {
    (void)state;
    const char *s = "CREATE TABLE t (a int PRIMARY KEY, b text);\n"
                    "INSERT INTO t (a, b) VALUES (1, 'x;y''z');  -- a; comment\n"
                    "  ;; /* c; */ SELECT \"we;ird\" FROM t // tail;\n"
                    "; INSERT INTO t (a, b) VALUES (2, $$p;q$$)";
    spate_sched_op_span_t sp[8];
    size_t n = spate_sched_op_cql_split(s, strlen(s), sp, 8);
    assert_int_equal(n, 4);
    char buf[128];
    snprintf(buf, sizeof buf, "%.*s", (int)sp[0].len, s + sp[0].off);
    assert_string_equal(buf, "CREATE TABLE t (a int PRIMARY KEY, b text)");
    snprintf(buf, sizeof buf, "%.*s", (int)sp[1].len, s + sp[1].off);
    assert_string_equal(buf, "INSERT INTO t (a, b) VALUES (1, 'x;y''z')");
    /* Comment-only and empty statements are skipped; comments around a
     * statement are not part of it. */
    snprintf(buf, sizeof buf, "%.*s", (int)sp[2].len, s + sp[2].off);
    assert_string_equal(buf, "SELECT \"we;ird\" FROM t");
    snprintf(buf, sizeof buf, "%.*s", (int)sp[3].len, s + sp[3].off);
    assert_string_equal(buf, "INSERT INTO t (a, b) VALUES (2, $$p;q$$)");
    /* Counting without output, and degenerate inputs. */
    assert_int_equal(spate_sched_op_cql_split(s, strlen(s), NULL, 0), 4);
    assert_int_equal(spate_sched_op_cql_split("", 0, NULL, 0), 0);
    assert_int_equal(spate_sched_op_cql_split(" ;\n; ", 5, NULL, 0), 0);
    /* Unterminated string / comment: the rest is one statement. */
    assert_int_equal(spate_sched_op_cql_split("SELECT 'a;b", 11, sp, 8), 1);
    assert_int_equal(sp[0].len, 11);
    assert_int_equal(spate_sched_op_cql_split("a; /* b;", 8, sp, 8), 1);
    assert_int_equal(spate_sched_op_cql_split("a;b /* x; */ c ;", 16, sp, 8), 2);
    assert_int_equal(sp[1].off, 2);
    assert_int_equal(sp[1].len, 12); /* b, a comment, c */
    assert_int_equal(spate_sched_op_cql_split("-- only\n; // x\n", 15, sp, 8), 0);
}

/* ---- staging SQL text ---- */

static void test_stage_sql(void **state) {
    (void)state;
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_stage_sql_create("staged_users", &b), SPATE_OK);
    assert_string_equal(b.data, "CREATE TABLE IF NOT EXISTS staged_users (id TEXT PRIMARY KEY, "
                                "raw TEXT NOT NULL, formatted TEXT NOT NULL, fetched_at TEXT NOT "
                                "NULL, run_id TEXT, published_at TEXT, kafka_topic TEXT, "
                                "kafka_partition INTEGER, kafka_offset BIGINT)");
    spate_buf_reset(&b);
    assert_int_equal(spate_stage_sql_insert("s.t", true, &b), SPATE_OK);
    assert_string_equal(b.data, "INSERT INTO s.t (id, raw, formatted, fetched_at, run_id) VALUES "
                                "($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING");
    spate_buf_reset(&b);
    assert_int_equal(spate_stage_sql_insert("t", false, &b), SPATE_OK);
    assert_string_equal(b.data, "INSERT INTO t (id, raw, formatted, fetched_at, run_id) VALUES "
                                "(?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING");
    spate_buf_reset(&b);
    assert_int_equal(spate_stage_sql_pending("t", true, &b), SPATE_OK);
    assert_string_equal(b.data, "SELECT id, formatted FROM t WHERE published_at IS NULL ORDER BY "
                                "fetched_at, id LIMIT $1");
    spate_buf_reset(&b);
    assert_int_equal(spate_stage_sql_mark("t", false, &b), SPATE_OK);
    assert_string_equal(b.data, "UPDATE t SET published_at = ?, kafka_topic = ?, kafka_partition "
                                "= ?, kafka_offset = ? WHERE id = ? AND published_at IS NULL");
    spate_buf_reset(&b);
    assert_int_equal(spate_stage_sql_create("t; DROP TABLE x", &b), SPATE_EINVAL);
    assert_int_equal(b.len, 0);
    spate_buf_free(&b);

    assert_true(spate_stage_table_ok("staged_users"));
    assert_true(spate_stage_table_ok("public.staged_users"));
    assert_true(spate_stage_table_ok("_x9"));
    assert_false(spate_stage_table_ok(""));
    assert_false(spate_stage_table_ok("9x"));
    assert_false(spate_stage_table_ok("a.b.c"));
    assert_false(spate_stage_table_ok("a."));
    assert_false(spate_stage_table_ok("\"t\""));
    assert_false(
        spate_stage_table_ok("a234567890123456789012345678901234567890123456789012345678901234"));

    assert_true(spate_stage_is_postgres("postgresql://u@h:5/db"));
    assert_true(spate_stage_is_postgres("postgres://h/db"));
    assert_true(spate_stage_is_postgres("host=127.0.0.1 dbname=x"));
    assert_false(spate_stage_is_postgres("/tmp/staging.db"));
    assert_false(spate_stage_is_postgres("sqlite:/tmp/a=b.db"));
    assert_false(spate_stage_is_postgres(NULL));
}

/* ---- staging on SQLite ---- */

static void test_stage_sqlite(void **state) {
    (void)state;
    char path[300], err[256];
    snprintf(path, sizeof path, "%s/stage.db", tmpdir);
    spate_stage_t *s = NULL;
    assert_int_equal(spate_stage_open(&s, path, "bad name", err, sizeof err), SPATE_EINVAL);
    assert_null(s);
    assert_int_equal(spate_stage_open(&s, path, "staged_users", err, sizeof err), SPATE_OK);
    bool ins = false;
    spate_stage_row_t rows[] = {
        {"u2", "{\"r\":2}", "{\"id\":\"f2\"}", "2026-11-01T00:00:02.000Z", "run1"},
        {"u1", "{\"r\":1}", "{\"id\":\"f1\"}", "2026-11-01T00:00:01.000Z", "run1"},
        {"u3", "{\"r\":3}", "{\"id\":\"f3\"}", "2026-11-01T00:00:01.000Z", "run1"},
    };
    assert_int_equal(spate_stage_begin(s, err, sizeof err), SPATE_OK);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(spate_stage_insert(s, &rows[i], &ins, err, sizeof err), SPATE_OK);
        assert_true(ins);
    }
    assert_int_equal(spate_stage_commit(s, err, sizeof err), SPATE_OK);
    /* The same id again: kept as it was. */
    spate_stage_row_t again = {"u1", "{}", "{\"id\":\"new\"}", "2026-12-01T00:00:00.000Z", "run2"};
    assert_int_equal(spate_stage_insert(s, &again, &ins, err, sizeof err), SPATE_OK);
    assert_false(ins);
    int64_t total = 0, unpub = 0;
    assert_int_equal(spate_stage_count(s, &total, &unpub, err, sizeof err), SPATE_OK);
    assert_int_equal(total, 3);
    assert_int_equal(unpub, 3);

    /* Oldest first, ties by id; limit respected. */
    spate_stage_pending_t *p = NULL;
    size_t n = 0;
    assert_int_equal(spate_stage_pending(s, 2, &p, &n, err, sizeof err), SPATE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(p[0].id, "u1");
    assert_string_equal(p[0].formatted, "{\"id\":\"f1\"}");
    assert_string_equal(p[1].id, "u3");
    assert_int_equal(spate_stage_begin(s, err, sizeof err), SPATE_OK);
    assert_int_equal(
        spate_stage_mark(s, "u1", "2026-11-02T00:00:00.000Z", "users", 2, 41, err, sizeof err),
        SPATE_OK);
    assert_int_equal(
        spate_stage_mark(s, "u3", "2026-11-02T00:00:00.000Z", "users", 0, 7, err, sizeof err),
        SPATE_OK);
    assert_int_equal(spate_stage_commit(s, err, sizeof err), SPATE_OK);
    spate_stage_pending_free(p, n);
    /* A rolled-back mark leaves the row pending. */
    assert_int_equal(spate_stage_begin(s, err, sizeof err), SPATE_OK);
    assert_int_equal(spate_stage_mark(s, "u2", "x", "users", 1, 1, err, sizeof err), SPATE_OK);
    spate_stage_rollback(s);
    assert_int_equal(spate_stage_pending(s, 10, &p, &n, err, sizeof err), SPATE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(p[0].id, "u2");
    spate_stage_pending_free(p, n);
    assert_int_equal(spate_stage_count(s, &total, &unpub, err, sizeof err), SPATE_OK);
    assert_int_equal(total, 3);
    assert_int_equal(unpub, 1);
    /* A restaged, already published user stays published. */
    assert_int_equal(spate_stage_insert(s, &again, &ins, err, sizeof err), SPATE_OK);
    assert_false(ins);
    spate_stage_close(s);

    /* Reopen: the table is there with its rows; the stored values. */
    assert_int_equal(spate_stage_open(&s, path, "staged_users", err, sizeof err), SPATE_OK);
    assert_int_equal(spate_stage_count(s, &total, &unpub, err, sizeof err), SPATE_OK);
    assert_int_equal(total, 3);
    spate_stage_close(s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT formatted, run_id, kafka_topic, kafka_partition, "
                                        "kafka_offset FROM staged_users WHERE id = 'u1'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "{\"id\":\"f1\"}");
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "run1");
    assert_string_equal((const char *)sqlite3_column_text(st, 2), "users");
    assert_int_equal(sqlite3_column_int(st, 3), 2);
    assert_int_equal(sqlite3_column_int64(st, 4), 41);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* ---- shell ---- */

static void test_shell(void **state) {
    (void)state;
    task_fx_t f;
    fx_load(&f, "task_id: a\ntype: shell\ncommand: \"exit 3\"\n");
    assert_int_equal(fx_run(&f), 3);
    fx_free(&f);
    fx_load(&f, "task_id: a\ntype: shell\ncommand: \"true\"\n");
    assert_int_equal(fx_run(&f), 0);
    fx_free(&f);
    fx_load(&f, "task_id: a\ntype: shell\ncommand: \"kill -9 $$\"\n");
    assert_int_equal(fx_run(&f), 128 + 9);
    fx_free(&f);

    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "task_id: envtask\ntype: shell\ncwd: %s\n"
             "env: {GREETING: \"hi {{ task_id }}\", N: 7}\n"
             "command: 'printf \"%%s/%%s/%%s\" \"$GREETING\" \"$N\" \"$(pwd)\" > out.txt'\n",
             tmpdir);
    fx_load(&f, yaml);
    assert_int_equal(fx_run(&f), 0);
    fx_free(&f);
    char path[300], want[400];
    snprintf(path, sizeof path, "%s/out.txt", tmpdir);
    snprintf(want, sizeof want, "hi envtask/7/%s", tmpdir);
    assert_string_equal(slurp(path), want);
    unsetenv("GREETING");
    unsetenv("N");

    /* SIGTERM to the try's process alone reaches the whole command: the
     * try ends at once with the command's status (killed by SIGTERM:
     * 143). */
    char marker[300];
    snprintf(marker, sizeof marker, "%s/sleep_done", tmpdir);
    snprintf(yaml, sizeof yaml, "task_id: a\ntype: shell\ncommand: \"(sleep 2; touch %s); true\"\n",
             marker);
    fx_load(&f, yaml);
    int64_t t0 = spate_mono_ms();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0); /* a group leader, as the executor makes every try */
        _exit(fx_run(&f));
    }
    spate_sleep_ms(300);
    assert_int_equal(kill(pid, SIGTERM), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 128 + SIGTERM);
    int64_t took = spate_mono_ms() - t0;
    assert_true(took < 1900);
    fx_free(&f);
    /* The whole command was stopped, not just the shell: the subshell
     * (another process) did not go on to touch the marker. */
    spate_sleep_ms(2500 - took);
    assert_int_equal(access(marker, F_OK), -1);

    /* Template errors and a bad cwd fail before / instead of running. */
    fx_load(&f, "task_id: a\ntype: shell\ncommand: \"echo {{ nope }}\"\n");
    assert_int_equal(fx_run(&f), 1);
    fx_free(&f);
    fx_load(&f, "task_id: a\ntype: shell\ncommand: \"true\"\ncwd: /nonexistent/dir\n");
    assert_int_equal(fx_run(&f), 127);
    fx_free(&f);
    fx_load(&f, "task_id: a\ntype: shell\n");
    assert_int_equal(fx_run(&f), 1);
    fx_free(&f);
}

/* ---- sql on SQLite ---- */

static int64_t sqlite_scalar(const char *path, const char *sql) {
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_open(path, &db) != SQLITE_OK) return -2;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

static void test_sql_sqlite(void **state) {
    (void)state;
    char path[300], yaml[1024];
    snprintf(path, sizeof path, "%s/sql.db", tmpdir);
    task_fx_t f;
    snprintf(yaml, sizeof yaml,
             "task_id: q\ntype: sql\nconn: \"sqlite:%s\"\n"
             "sql: \"CREATE TABLE IF NOT EXISTS t (a INTEGER, r TEXT); "
             "INSERT INTO t VALUES (1, '{{ run_id }}'); INSERT INTO t VALUES (2, 'x'); "
             "SELECT * FROM t\"\n",
             path);
    fx_load(&f, yaml);
    assert_int_equal(fx_run(&f), 0);
    fx_free(&f);
    assert_int_equal(sqlite_scalar(path, "SELECT COUNT(*) FROM t"), 2);
    assert_int_equal(
        sqlite_scalar(path, "SELECT COUNT(*) FROM t WHERE r = 'manual__2026-11-01T00:00:00+00:00'"),
        1);

    /* A failing statement: nothing of the task stays (one transaction). */
    snprintf(yaml, sizeof yaml,
             "task_id: q\ntype: sql\n"
             "sql: \"INSERT INTO t VALUES (3, 'y'); INSERT INTO nosuch VALUES (1)\"\n");
    fx_load(&f, yaml);
    f.env.sqlite = path; /* the default connection */
    assert_int_equal(fx_run(&f), 1);
    fx_free(&f);
    assert_int_equal(sqlite_scalar(path, "SELECT COUNT(*) FROM t"), 2);

    /* Without conn/postgres/sqlite: DATA_DIR/staging.db. */
    fx_load(&f, "task_id: q\ntype: sql\nsql: CREATE TABLE dd (a INTEGER)\n");
    f.env.data_dir = tmpdir;
    assert_int_equal(fx_run(&f), 0);
    fx_free(&f);
    char dd[300];
    snprintf(dd, sizeof dd, "%s/staging.db", tmpdir);
    assert_int_equal(sqlite_scalar(dd, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'dd'"), 1);
    spate_sched_env_t env = {.postgres = "postgresql://h/db", .sqlite = "/x.db", .data_dir = "/d"};
    char *db = spate_sched_op_default_db(&env);
    assert_string_equal(db, "postgresql://h/db");
    free(db);
    env.postgres = NULL;
    db = spate_sched_op_default_db(&env);
    assert_string_equal(db, "/x.db");
    free(db);
    env.sqlite = NULL;
    db = spate_sched_op_default_db(&env);
    assert_string_equal(db, "/d/staging.db");
    free(db);
    env.data_dir = NULL;
    assert_null(spate_sched_op_default_db(&env));

    /* No connection at all. */
    fx_load(&f, "task_id: q\ntype: sql\nsql: SELECT 1\n");
    assert_int_equal(fx_run(&f), 1);
    fx_free(&f);
}

/* ---- in-process randomuser server: http and randomuser_to_postgres ---- */

static spate_ru_server_t *ru_start(int *port) {
    spate_ru_server_conf_t c;
    spate_ru_server_conf_default(&c);
    char err[128];
    assert_int_equal(spate_net_addr_parse("127.0.0.1:0", &c.listen, err, sizeof err), SPATE_OK);
    c.threads = 1;
    spate_ru_server_t *s = NULL;
    assert_int_equal(spate_ru_server_start(&s, &c), SPATE_OK);
    *port = spate_ru_server_port(s);
    return s;
}

static void test_http(void **state) {
    (void)state;
    int port;
    spate_ru_server_t *s = ru_start(&port);
    char yaml[1024];
    task_fx_t f;
    snprintf(yaml, sizeof yaml, "task_id: h\ntype: http\nurl: http://127.0.0.1:%d/health\n", port);
    fx_load(&f, yaml);
    assert_int_equal(fx_run(&f), 0);
    fx_free(&f);
    /* 404 is not 2xx ... */
    snprintf(yaml, sizeof yaml, "task_id: h\ntype: http\nurl: http://127.0.0.1:%d/nope\n", port);
    fx_load(&f, yaml);
    assert_int_equal(fx_run(&f), 1);
    fx_free(&f);
    /* ... unless expected; a single code works too. */
    snprintf(yaml, sizeof yaml,
             "task_id: h\ntype: http\nurl: http://127.0.0.1:%d/nope\nexpect_status: [200, 404]\n"
             "headers: {X-Run: \"{{ run_id }}\"}\ntimeout: 5s\n",
             port);
    fx_load(&f, yaml);
    assert_int_equal(fx_run(&f), 0);
    fx_free(&f);
    snprintf(yaml, sizeof yaml,
             "task_id: h\ntype: http\nurl: http://127.0.0.1:%d/health\nexpect_status: 201\n", port);
    fx_load(&f, yaml);
    assert_int_equal(fx_run(&f), 1);
    fx_free(&f);
    spate_ru_server_stop(s);
    /* Nothing listening any more: a connection error fails the try. */
    snprintf(yaml, sizeof yaml,
             "task_id: h\ntype: http\nurl: http://127.0.0.1:%d/health\ntimeout: 2s\n", port);
    fx_load(&f, yaml);
    assert_int_equal(fx_run(&f), 1);
    fx_free(&f);
}

static void test_randomuser_to_sqlite(void **state) {
    (void)state;
    int port;
    spate_ru_server_t *s = ru_start(&port);
    char path[300], yaml[1024], url[128];
    snprintf(path, sizeof path, "%s/staging.db", tmpdir);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/?seed=ops", port);
    task_fx_t f;
    /* conn from env->sqlite; 25 users in batches of 10 (3 transactions). */
    snprintf(yaml, sizeof yaml,
             "task_id: stage\ntype: randomuser_to_postgres\ncount: 25\n"
             "batch: 10\n");
    for (int round = 0; round < 2; round++) {
        fx_load(&f, yaml);
        f.env.sqlite = path;
        f.env.randomuser = url;
        assert_int_equal(fx_run(&f), 0);
        fx_free(&f);
        assert_int_equal(sqlite_scalar(path, "SELECT COUNT(*) FROM staged_users"), 25);
        assert_int_equal(sqlite_scalar(path, "SELECT COUNT(DISTINCT id) FROM staged_users"), 25);
    }
    assert_int_equal(sqlite_scalar(path, "SELECT COUNT(*) FROM staged_users WHERE published_at "
                                         "IS NULL AND kafka_offset IS NULL AND run_id = "
                                         "'manual__2026-11-01T00:00:00+00:00'"),
                     25);
    /* raw is the API's object; formatted is format_user of it. */
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT id, raw, formatted FROM staged_users", -1, &st, NULL),
        SQLITE_OK);
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *raw = (const char *)sqlite3_column_text(st, 1);
        const char *fmt = (const char *)sqlite3_column_text(st, 2);
        json_t *r = json_loads(raw, 0, NULL);
        assert_non_null(r);
        assert_string_equal(json_string_value(json_object_get(json_object_get(r, "login"), "uuid")),
                            id);
        spate_buf_t b = SPATE_BUF_INIT;
        char why[128];
        assert_int_equal(spate_format_user(r, &b, why, sizeof why), SPATE_OK);
        assert_string_equal(b.data, fmt);
        spate_buf_free(&b);
        json_decref(r);
        rows++;
    }
    assert_int_equal(rows, 25);
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* A different seed adds new users. */
    snprintf(yaml, sizeof yaml,
             "task_id: stage\ntype: randomuser_to_postgres\ncount: 5\nconn: %s\n"
             "url: http://127.0.0.1:%d/api/?seed=other\n",
             path, port);
    fx_load(&f, yaml);
    assert_int_equal(fx_run(&f), 0);
    fx_free(&f);
    assert_int_equal(sqlite_scalar(path, "SELECT COUNT(*) FROM staged_users"), 30);

    /* duration mode stops by itself. */
    snprintf(yaml, sizeof yaml,
             "task_id: stage\ntype: randomuser_to_postgres\nduration: 300ms\nbatch: 5\n"
             "table: timed\nconn: %s\nurl: http://127.0.0.1:%d/api/\n",
             path, port);
    fx_load(&f, yaml);
    int64_t t0 = spate_mono_ms();
    assert_int_equal(fx_run(&f), 0);
    assert_true(spate_mono_ms() - t0 < 10000);
    fx_free(&f);
    assert_true(sqlite_scalar(path, "SELECT COUNT(*) FROM timed") > 0);
    spate_ru_server_stop(s);
}

/* ---- the producer: a delivery failure is an error ---- */

static void test_producer_failure(void **state) {
    (void)state;
    spate_op_producer_t *p = NULL;
    char err[512] = "";
    /* Nothing listens on port 1: the message times out undelivered. */
    assert_int_equal(spate_op_producer_new(&p, "127.0.0.1:1", "t", 300, err, sizeof err), SPATE_OK);
    size_t seq = 99;
    assert_int_equal(spate_op_producer_send(p, "k", 1, "v", 1, &seq, err, sizeof err), SPATE_OK);
    assert_int_equal(seq, 0);
    assert_int_equal(spate_op_producer_flush(p, 10000, err, sizeof err), SPATE_ERR);
    assert_non_null(strstr(err, "1 message(s) failed; first: delivery failed: "));
    const spate_op_dr_t *dr = spate_op_producer_dr(p, 0);
    assert_non_null(dr);
    assert_int_not_equal(dr->err, 0);
    assert_null(spate_op_producer_dr(p, 1));
    spate_op_producer_reset(p);
    assert_null(spate_op_producer_dr(p, 0));
    spate_op_producer_free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_cql_split),
        cmocka_unit_test(test_stage_sql),
        cmocka_unit_test(test_stage_sqlite),
        cmocka_unit_test(test_shell),
        cmocka_unit_test(test_sql_sqlite),
        cmocka_unit_test(test_http),
        cmocka_unit_test(test_randomuser_to_sqlite),
        cmocka_unit_test(test_producer_failure),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
