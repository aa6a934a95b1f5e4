/*
 * sched_db.c — the scheduler's metadata: DAG rows, DAG runs and task
 * instances, in SQLite (the default: one file shared by the scheduler and
 * the CLI) or PostgreSQL (several schedulers, or a database the operators
 * already run).
 *
 * Both back ends run the same SQL text. Parameters are written $1, $2 ...:
 * PostgreSQL reads them natively, SQLite reads "$1" as a named parameter
 * and binds are made by name, so a parameter may appear twice. Every
 * statement has a fixed slot (stmt_id_t) and is prepared once per handle,
 * on first use (sqlite3_prepare_v3 with SQLITE_PREPARE_PERSISTENT, or
 * PQprepare as "spate_sN").
 *
 * Schema (times are int64 milliseconds since the epoch, UTC; 0 = not yet):
 *
 *   schema_version  version                 one row: the last applied step
 *   dag             dag_id PK | is_paused | first_seen
 *   dag_run         dag_id, run_id PK | run_type | state | logical_date |
 *                   data_interval_start | data_interval_end | queued_at |
 *                   start_date | end_date | conf (v2: JSON object text,
 *                   default '{}')
 *                   UNIQUE (dag_id, logical_date) WHERE run_type <> 'manual'
 *   task_instance   dag_id, run_id, task_id PK | state | try_number |
 *                   max_tries | start_date | end_date | queued_at |
 *                   next_try | heartbeat | pid | hostname | pool | exit_code
 *                   FK (dag_id, run_id) → dag_run ON DELETE CASCADE
 *
 * States and run types are stored as Airflow's words ("up_for_retry",
 * "backfill") so the tables read well in sqlite3/psql. State masks are
 * applied in SQL by mapping the word back to its bit (a CASE expression).
 *
 * Migrations: `migrations[]` is an ordered list of steps; step i brings
 * the schema from version i to i + 1. Open applies the missing steps in one
 * transaction (SQLite BEGIN IMMEDIATE; PostgreSQL under an advisory lock),
 * so two processes opening a new database at once do not both migrate. A
 * future column is a new step appended to the list, never an edit of an
 * old one.
 *
 * Versions: 1 the tables above without dag_run.conf; 2 adds dag_run.conf
 * (ALTER TABLE ... ADD COLUMN with a default, so runs of version 1 read
 * "{}").
 *
 * A handle is used by one thread at a time (its statement cache is not
 * locked); threads that need the database open their own handle. A lost
 * PostgreSQL connection is reopened on the next call.
 */
#include "sched.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef enum { DB_SQLITE, DB_PG } db_kind_t;

/* ------------------------------------------------------------------ */
/* Statements                                                          */
/* ------------------------------------------------------------------ */

typedef enum {
    ST_DAG_ENSURE,
    ST_DAG_PAUSED,
    ST_DAG_SET_PAUSED,
    ST_RUN_CREATE,
    ST_RUN_GET,
    ST_RUN_UPDATE,
    ST_RUNS,
    ST_LAST_SCHED,
    ST_RUN_AT,
    ST_TI_PUT,
    ST_TI_GET,
    ST_TIS,
    ST_COUNT
} stmt_id_t;

#define RUN_COLS                                                                                   \
    "dag_id, run_id, run_type, state, logical_date, data_interval_start, data_interval_end, "      \
    "queued_at, start_date, end_date, conf"
#define TI_COLS                                                                                    \
    "dag_id, run_id, task_id, state, try_number, max_tries, start_date, end_date, queued_at, "     \
    "next_try, heartbeat, pid, hostname, pool, exit_code"

/* The bit of a state word, for masks (must match the enums' order). */
#define RUN_STATE_BIT                                                                              \
    "(CASE state WHEN 'queued' THEN 1 WHEN 'running' THEN 2 WHEN 'success' THEN 4 "                \
    "WHEN 'failed' THEN 8 ELSE 0 END)"
#define TI_STATE_BIT                                                                               \
    "(CASE state WHEN 'none' THEN 1 WHEN 'scheduled' THEN 2 WHEN 'queued' THEN 4 "                 \
    "WHEN 'running' THEN 8 WHEN 'success' THEN 16 WHEN 'failed' THEN 32 "                          \
    "WHEN 'up_for_retry' THEN 64 WHEN 'upstream_failed' THEN 128 WHEN 'skipped' THEN 256 "         \
    "ELSE 0 END)"

static const char *const stmt_sql[ST_COUNT] = {
    [ST_DAG_ENSURE] = "INSERT INTO dag (dag_id, is_paused, first_seen) VALUES ($1, $2, $3) "
                      "ON CONFLICT (dag_id) DO NOTHING",
    [ST_DAG_PAUSED] = "SELECT is_paused FROM dag WHERE dag_id = $1",
    [ST_DAG_SET_PAUSED] = "UPDATE dag SET is_paused = $2 WHERE dag_id = $1",
    /* DO NOTHING (no conflict target: the primary key or the logical-date
     * index): an expected duplicate is "0 rows", never an error, so it
     * does not abort a PostgreSQL transaction (SQLite >= 3.24). */
    [ST_RUN_CREATE] = "INSERT INTO dag_run (" RUN_COLS ") "
                      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
                      "ON CONFLICT DO NOTHING",
    [ST_RUN_GET] = "SELECT " RUN_COLS " FROM dag_run WHERE dag_id = $1 AND run_id = $2",
    [ST_RUN_UPDATE] = "UPDATE dag_run SET run_type = $3, state = $4, logical_date = $5, "
                      "data_interval_start = $6, data_interval_end = $7, queued_at = $8, "
                      "start_date = $9, end_date = $10 WHERE dag_id = $1 AND run_id = $2",
    [ST_RUNS] = "SELECT " RUN_COLS " FROM dag_run "
                "WHERE (CAST($1 AS TEXT) IS NULL OR dag_id = $1) "
                "AND (CAST($2 AS BIGINT) = 0 OR ($2 & " RUN_STATE_BIT ") <> 0) "
                "ORDER BY logical_date DESC, dag_id, run_id DESC LIMIT $3",
    [ST_LAST_SCHED] = "SELECT MAX(logical_date) FROM dag_run "
                      "WHERE dag_id = $1 AND run_type = 'scheduled'",
    [ST_RUN_AT] = "SELECT run_id FROM dag_run "
                  "WHERE dag_id = $1 AND logical_date = $2 AND run_type <> 'manual'",
    [ST_TI_PUT] = "INSERT INTO task_instance (" TI_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, "
                  "$8, $9, $10, $11, $12, $13, $14, $15) "
                  "ON CONFLICT (dag_id, run_id, task_id) DO UPDATE SET state = excluded.state, "
                  "try_number = excluded.try_number, max_tries = excluded.max_tries, "
                  "start_date = excluded.start_date, end_date = excluded.end_date, "
                  "queued_at = excluded.queued_at, next_try = excluded.next_try, "
                  "heartbeat = excluded.heartbeat, pid = excluded.pid, "
                  "hostname = excluded.hostname, pool = excluded.pool, "
                  "exit_code = excluded.exit_code",
    [ST_TI_GET] = "SELECT " TI_COLS " FROM task_instance "
                  "WHERE dag_id = $1 AND run_id = $2 AND task_id = $3",
    [ST_TIS] = "SELECT " TI_COLS " FROM task_instance "
               "WHERE (CAST($1 AS TEXT) IS NULL OR dag_id = $1) "
               "AND (CAST($2 AS TEXT) IS NULL OR run_id = $2) "
               "AND (CAST($3 AS BIGINT) = 0 OR ($3 & " TI_STATE_BIT ") <> 0) "
               "ORDER BY dag_id, run_id, start_date, task_id",
};

/* ------------------------------------------------------------------ */
/* Migrations                                                          */
/* ------------------------------------------------------------------ */

/* Step i (0-based) takes the schema from version i to i + 1. Append only. */
static const char *const migration_1[] = {
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
    NULL,
};

/* dag_run.conf (Airflow's dag_run.conf): rows of version 1 read "{}". */
static const char *const migration_2[] = {
    "ALTER TABLE dag_run ADD COLUMN conf TEXT NOT NULL DEFAULT '{}'",
    NULL,
};

static const char *const *const migrations[] = {migration_1, migration_2};

/* ------------------------------------------------------------------ */
/* The handle                                                          */
/* ------------------------------------------------------------------ */

struct spate_sched_db {
    db_kind_t kind;
    sqlite3 *lite;
    PGconn *pg;
    sqlite3_stmt *lite_stmt[ST_COUNT];
    bool pg_prepared[ST_COUNT];
    int version;
    char err[512];
};

/* A bound parameter: text (NULL = SQL NULL) or an integer. */
typedef struct {
    bool is_int;
    const char *text;
    int64_t i;
} param_t;

#define P_TEXT(s) ((param_t){false, (s), 0})
#define P_INT(v) ((param_t){true, NULL, (int64_t)(v)})

/* One result row, read column by column whatever the back end. */
typedef struct {
    spate_sched_db_t *db;
    sqlite3_stmt *st; /* SQLite: the stepped statement */
    PGresult *res;    /* PostgreSQL: the whole result */
    int row;
} row_t;

/* What a statement did: rows to read (through row_next), rows changed. */
typedef struct {
    row_t row;
    int64_t changes;
    bool started; /* SQLite: the first step was taken in exec */
    bool has_row; /* SQLite: that step gave a row */
} cursor_t;

static void db_seterr(spate_sched_db_t *db, const char *fmt, ...) SPATE_PRINTF(2, 3);
static void db_seterr(spate_sched_db_t *db, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(db->err, sizeof(db->err), fmt, ap);
    va_end(ap);
    /* libpq messages end with a newline: keep the text one line. */
    size_t n = strlen(db->err);
    while (n > 0 && (db->err[n - 1] == '\n' || db->err[n - 1] == ' ')) db->err[--n] = '\0';
}

static const char *row_text(const row_t *r, int col) {
    if (r->db->kind == DB_SQLITE) {
        const unsigned char *t = sqlite3_column_text(r->st, col);
        return t ? (const char *)t : "";
    }
    return PQgetvalue(r->res, r->row, col);
}

static bool row_null(const row_t *r, int col) {
    if (r->db->kind == DB_SQLITE) return sqlite3_column_type(r->st, col) == SQLITE_NULL;
    return PQgetisnull(r->res, r->row, col) != 0;
}

static int64_t row_int(const row_t *r, int col) {
    if (r->db->kind == DB_SQLITE) return sqlite3_column_int64(r->st, col);
    return strtoll(PQgetvalue(r->res, r->row, col), NULL, 10);
}

/* Maps a failed statement's error to a status: unique and primary-key
 * violations are EEXIST, a missing parent row (foreign key) is ENOENT. */
static spate_status_t lite_status(spate_sched_db_t *db, int rc) {
    db_seterr(db, "sqlite: %s", sqlite3_errmsg(db->lite));
    int ext = sqlite3_extended_errcode(db->lite);
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) return SPATE_EEXIST;
    if (ext == SQLITE_CONSTRAINT_FOREIGNKEY) return SPATE_ENOENT;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return SPATE_ETIMEDOUT;
    return SPATE_EIO;
}

static spate_status_t pg_status(spate_sched_db_t *db, PGresult *res) {
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    db_seterr(db, "postgres: %s", res ? PQresultErrorMessage(res) : PQerrorMessage(db->pg));
    if (state && strcmp(state, "23505") == 0) return SPATE_EEXIST;
    if (state && strcmp(state, "23503") == 0) return SPATE_ENOENT;
    return SPATE_EIO;
}

/* A PostgreSQL connection lost (server restart, failover) is reopened
 * before the next statement; the statements are prepared again on the
 * new session. The statement that saw the loss has already failed (EIO)
 * and its transaction, if any, is gone: the caller's error path handles
 * that as any other failure. */
static void pg_revive(spate_sched_db_t *db) {
    if (db->kind != DB_PG || PQstatus(db->pg) != CONNECTION_BAD) return;
    PQreset(db->pg);
    if (PQstatus(db->pg) != CONNECTION_OK) return;
    memset(db->pg_prepared, 0, sizeof(db->pg_prepared));
    PGresult *res = PQexec(db->pg, "SET client_min_messages = warning");
    PQclear(res);
}

/* Runs statement `id` with params. On success the cursor holds the first
 * row (if any) and the change count; the caller reads rows with row_next
 * and always ends with cursor_done. */
static spate_status_t stmt_exec(spate_sched_db_t *db, stmt_id_t id, const param_t *p, int np,
                                cursor_t *cur) {
    memset(cur, 0, sizeof(*cur));
    cur->row.db = db;
    if (db->kind == DB_SQLITE) {
        sqlite3_stmt *st = db->lite_stmt[id];
        if (!st) {
            int rc = sqlite3_prepare_v3(db->lite, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st,
                                        NULL);
            if (rc != SQLITE_OK) return lite_status(db, rc);
            db->lite_stmt[id] = st;
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        for (int i = 0; i < np; i++) {
            char name[16];
            snprintf(name, sizeof(name), "$%d", i + 1);
            int idx = sqlite3_bind_parameter_index(st, name);
            if (idx == 0) continue; /* not used by this statement */
            int rc;
            if (p[i].is_int)
                rc = sqlite3_bind_int64(st, idx, p[i].i);
            else if (p[i].text)
                rc = sqlite3_bind_text(st, idx, p[i].text, -1, SQLITE_STATIC);
            else
                rc = sqlite3_bind_null(st, idx);
            if (rc != SQLITE_OK) return lite_status(db, rc);
        }
        cur->row.st = st;
        int rc = sqlite3_step(st);
        cur->started = true;
        if (rc == SQLITE_ROW) {
            cur->has_row = true;
        } else if (rc == SQLITE_DONE) {
            cur->changes = sqlite3_changes(db->lite);
        } else {
            spate_status_t s = lite_status(db, rc);
            sqlite3_reset(st);
            return s;
        }
        return SPATE_OK;
    }
    pg_revive(db);
    char name[16];
    snprintf(name, sizeof(name), "spate_s%d", (int)id);
    if (!db->pg_prepared[id]) {
        PGresult *res = PQprepare(db->pg, name, stmt_sql[id], 0, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            spate_status_t s = pg_status(db, res);
            PQclear(res);
            return s;
        }
        PQclear(res);
        db->pg_prepared[id] = true;
    }
    char nums[16][24];
    const char *vals[16];
    if (np > 16) return SPATE_EINVAL;
    for (int i = 0; i < np; i++) {
        if (p[i].is_int) {
            snprintf(nums[i], sizeof(nums[i]), "%" PRId64, p[i].i);
            vals[i] = nums[i];
        } else {
            vals[i] = p[i].text;
        }
    }
    PGresult *res = PQexecPrepared(db->pg, name, np, vals, NULL, NULL, 0);
    ExecStatusType es = PQresultStatus(res);
    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
        spate_status_t s = pg_status(db, res);
        PQclear(res);
        return s;
    }
    cur->row.res = res;
    cur->row.row = -1;
    const char *ct = PQcmdTuples(res);
    cur->changes = ct && *ct ? strtoll(ct, NULL, 10) : 0;
    return SPATE_OK;
}

/* Advances to the next row: true when there is one. A SQLite step error
 * ends the rows and is reported through *st. */
static bool row_next(cursor_t *cur, spate_status_t *st) {
    row_t *r = &cur->row;
    if (r->db->kind == DB_SQLITE) {
        if (cur->started) {
            cur->started = false;
            return cur->has_row;
        }
        int rc = sqlite3_step(r->st);
        if (rc == SQLITE_ROW) return true;
        if (rc != SQLITE_DONE && st) *st = lite_status(r->db, rc);
        return false;
    }
    if (r->row + 1 >= PQntuples(r->res)) return false;
    r->row++;
    return true;
}

static void cursor_done(cursor_t *cur) {
    if (cur->row.st) sqlite3_reset(cur->row.st);
    if (cur->row.res) PQclear(cur->row.res);
    cur->row.st = NULL;
    cur->row.res = NULL;
}

/* Runs a statement that returns no rows; *changes (may be NULL) gets the
 * number of rows it changed. */
static spate_status_t stmt_run(spate_sched_db_t *db, stmt_id_t id, const param_t *p, int np,
                               int64_t *changes) {
    cursor_t cur;
    spate_status_t s = stmt_exec(db, id, p, np, &cur);
    if (s != SPATE_OK) return s;
    if (changes) *changes = cur.changes;
    cursor_done(&cur);
    return SPATE_OK;
}

/* Runs plain SQL text without parameters (DDL, BEGIN ...). */
static spate_status_t exec_sql(spate_sched_db_t *db, const char *sql) {
    if (db->kind == DB_SQLITE) {
        char *msg = NULL;
        int rc = sqlite3_exec(db->lite, sql, NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
            spate_status_t s = lite_status(db, rc);
            if (msg) db_seterr(db, "sqlite: %s (in: %.120s)", msg, sql);
            sqlite3_free(msg);
            return s;
        }
        return SPATE_OK;
    }
    pg_revive(db);
    PGresult *res = PQexec(db->pg, sql);
    ExecStatusType es = PQresultStatus(res);
    spate_status_t s = SPATE_OK;
    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) s = pg_status(db, res);
    PQclear(res);
    return s;
}

/* Reads one integer from a one-row query without parameters; *found says
 * whether there was a row. */
static spate_status_t query_int(spate_sched_db_t *db, const char *sql, int64_t *out, bool *found) {
    *found = false;
    if (db->kind == DB_SQLITE) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(db->lite, sql, -1, &st, NULL);
        if (rc != SQLITE_OK) return lite_status(db, rc);
        rc = sqlite3_step(st);
        spate_status_t s = SPATE_OK;
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            *found = true;
        } else if (rc != SQLITE_DONE) {
            s = lite_status(db, rc);
        }
        sqlite3_finalize(st);
        return s;
    }
    PGresult *res = PQexec(db->pg, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        spate_status_t s = pg_status(db, res);
        PQclear(res);
        return s;
    }
    if (PQntuples(res) > 0) {
        *out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        *found = true;
    }
    PQclear(res);
    return SPATE_OK;
}

/* ------------------------------------------------------------------ */
/* Open, migrate, close                                                */
/* ------------------------------------------------------------------ */

static void pg_quiet(void *arg, const char *msg) {
    SPATE_UNUSED(arg);
    SPATE_UNUSED(msg); /* NOTICEs ("already exists, skipping") are noise */
}

static spate_status_t migrate(spate_sched_db_t *db) {
    spate_status_t s = exec_sql(db, db->kind == DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN");
    if (s != SPATE_OK) return s;
    if (db->kind == DB_PG) {
        /* Serializes concurrent first opens; released at commit. */
        s = exec_sql(db, "SELECT pg_advisory_xact_lock(7336952)");
        if (s != SPATE_OK) goto err;
    }
    s = exec_sql(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    if (s != SPATE_OK) goto err;
    int64_t v = 0;
    bool found;
    s = query_int(db, "SELECT version FROM schema_version", &v, &found);
    if (s != SPATE_OK) goto err;
    if (!found) {
        s = exec_sql(db, "INSERT INTO schema_version (version) VALUES (0)");
        if (s != SPATE_OK) goto err;
        v = 0;
    }
    int64_t target = (int64_t)SPATE_ARRAY_LEN(migrations);
    if (v > target) {
        db_seterr(db, "metadata schema version %" PRId64 " is newer than this spate (%" PRId64 ")",
                  v, target);
        s = SPATE_EINVAL;
        goto err;
    }
    for (; v < target; v++) {
        for (const char *const *q = migrations[v]; *q; q++) {
            s = exec_sql(db, *q);
            if (s != SPATE_OK) goto err;
        }
        char sql[80];
        snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %" PRId64, v + 1);
        s = exec_sql(db, sql);
        if (s != SPATE_OK) goto err;
    }
    s = exec_sql(db, "COMMIT");
    if (s != SPATE_OK) goto err;
    db->version = (int)v;
    return SPATE_OK;
err:;
    char keep[sizeof(db->err)];
    memcpy(keep, db->err, sizeof(keep));
    exec_sql(db, "ROLLBACK");
    memcpy(db->err, keep, sizeof(keep));
    return s;
}

spate_status_t spate_sched_db_open(spate_sched_db_t **out, const char *url, char *err,
                                   size_t errlen) {
    *out = NULL;
    spate_sched_db_t *db = spate_xcalloc(1, sizeof(*db));
    spate_status_t s = SPATE_EIO;
    if (!url || !*url) {
        db_seterr(db, "no metadata database given");
        s = SPATE_EINVAL;
        goto err;
    }
    if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) {
        db->kind = DB_PG;
        db->pg = PQconnectdb(url);
        if (!db->pg || PQstatus(db->pg) != CONNECTION_OK) {
            db_seterr(db, "postgres: %s", db->pg ? PQerrorMessage(db->pg) : "out of memory");
            goto err;
        }
        PQsetNoticeProcessor(db->pg, pg_quiet, NULL);
        s = exec_sql(db, "SET client_min_messages = warning");
        if (s != SPATE_OK) goto err;
    } else {
        db->kind = DB_SQLITE;
        const char *path = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
        /* "sqlite:///abs/path" as SQLAlchemy writes it. */
        if (strncmp(path, "//", 2) == 0) path += 2;
        int rc =
            sqlite3_open_v2(path, &db->lite,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
            db_seterr(db, "sqlite: %s: %s", path,
                      db->lite ? sqlite3_errmsg(db->lite) : "out of memory");
            goto err;
        }
        sqlite3_busy_timeout(db->lite, 5000);
        s = exec_sql(db, "PRAGMA journal_mode = WAL");
        if (s == SPATE_OK) s = exec_sql(db, "PRAGMA foreign_keys = ON");
        if (s == SPATE_OK) s = exec_sql(db, "PRAGMA synchronous = NORMAL");
        if (s != SPATE_OK) goto err;
    }
    s = migrate(db);
    if (s != SPATE_OK) goto err;
    *out = db;
    return SPATE_OK;
err:
    if (err && errlen) snprintf(err, errlen, "%s", db->err);
    spate_sched_db_close(db);
    return s;
}

void spate_sched_db_close(spate_sched_db_t *db) {
    if (!db) return;
    for (int i = 0; i < ST_COUNT; i++)
        if (db->lite_stmt[i]) sqlite3_finalize(db->lite_stmt[i]);
    if (db->lite) sqlite3_close(db->lite);
    if (db->pg) PQfinish(db->pg);
    free(db);
}

const char *spate_sched_db_error(const spate_sched_db_t *db) { return db ? db->err : ""; }

int spate_sched_db_schema_version(spate_sched_db_t *db) { return db->version; }

spate_status_t spate_sched_db_begin(spate_sched_db_t *db) {
    /* IMMEDIATE takes the write lock now: a transaction that reads then
     * writes cannot fail half-way on a lock upgrade (busy_timeout waits). */
    return exec_sql(db, db->kind == DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN");
}

/* PostgreSQL answers COMMIT of a transaction that an earlier statement
 * aborted with ROLLBACK and no error: the command tag tells. Taking that
 * for success would silently drop every write of the transaction. */
spate_status_t spate_sched_db_commit(spate_sched_db_t *db) {
    if (db->kind == DB_SQLITE) return exec_sql(db, "COMMIT");
    pg_revive(db);
    PGresult *res = PQexec(db->pg, "COMMIT");
    spate_status_t s = SPATE_OK;
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        s = pg_status(db, res);
    } else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        db_seterr(db,
                  "postgres: COMMIT answered %s: the transaction was aborted by an earlier "
                  "statement and none of its writes were kept",
                  PQcmdStatus(res));
        s = SPATE_EIO;
    }
    PQclear(res);
    if (s != SPATE_OK) spate_log(SPATE_LOG_ERROR, "sched_db", "%s", db->err);
    return s;
}

spate_status_t spate_sched_db_ping(spate_sched_db_t *db) {
    int64_t one = 0;
    bool found = false;
    pg_revive(db);
    spate_status_t s = query_int(db, "SELECT 1", &one, &found);
    if (s == SPATE_OK && (!found || one != 1)) {
        db_seterr(db, "SELECT 1 did not answer 1");
        s = SPATE_EIO;
    }
    return s;
}

void spate_sched_db_rollback(spate_sched_db_t *db) {
    char keep[sizeof(db->err)];
    memcpy(keep, db->err, sizeof(keep));
    exec_sql(db, "ROLLBACK");
    memcpy(db->err, keep, sizeof(keep)); /* the interesting error is the earlier one */
}

/* ------------------------------------------------------------------ */
/* DAG rows                                                            */
/* ------------------------------------------------------------------ */

spate_status_t spate_sched_db_dag_ensure(spate_sched_db_t *db, const char *dag_id,
                                         bool initial_paused) {
    param_t p[] = {P_TEXT(dag_id), P_INT(initial_paused ? 1 : 0), P_INT(spate_wall_ms())};
    return stmt_run(db, ST_DAG_ENSURE, p, 3, NULL);
}

spate_status_t spate_sched_db_dag_paused(spate_sched_db_t *db, const char *dag_id, bool *paused) {
    param_t p[] = {P_TEXT(dag_id)};
    cursor_t cur;
    spate_status_t s = stmt_exec(db, ST_DAG_PAUSED, p, 1, &cur);
    if (s != SPATE_OK) return s;
    if (row_next(&cur, &s)) {
        *paused = row_int(&cur.row, 0) != 0;
    } else if (s == SPATE_OK) {
        db_seterr(db, "no DAG '%s' in the metadata", dag_id);
        s = SPATE_ENOENT;
    }
    cursor_done(&cur);
    return s;
}

spate_status_t spate_sched_db_dag_set_paused(spate_sched_db_t *db, const char *dag_id,
                                             bool paused) {
    param_t p[] = {P_TEXT(dag_id), P_INT(paused ? 1 : 0)};
    int64_t n = 0;
    spate_status_t s = stmt_run(db, ST_DAG_SET_PAUSED, p, 2, &n);
    if (s == SPATE_OK && n == 0) {
        db_seterr(db, "no DAG '%s' in the metadata", dag_id);
        return SPATE_ENOENT;
    }
    return s;
}

/* ------------------------------------------------------------------ */
/* Runs                                                                */
/* ------------------------------------------------------------------ */

static spate_status_t run_state_parse(const char *s, spate_sched_run_state_t *out) {
    for (int i = SPATE_RUN_QUEUED; i <= SPATE_RUN_FAILED; i++) {
        if (strcmp(s, spate_sched_run_state_name((spate_sched_run_state_t)i)) == 0) {
            *out = (spate_sched_run_state_t)i;
            return SPATE_OK;
        }
    }
    return SPATE_EINVAL;
}

static spate_status_t run_type_parse(const char *s, spate_sched_run_type_t *out) {
    for (int i = SPATE_RUN_SCHEDULED; i <= SPATE_RUN_BACKFILL; i++) {
        if (strcmp(s, spate_sched_run_type_name((spate_sched_run_type_t)i)) == 0) {
            *out = (spate_sched_run_type_t)i;
            return SPATE_OK;
        }
    }
    return SPATE_EINVAL;
}

static bool id_ok(spate_sched_db_t *db, const char *what, const char *id, size_t cap) {
    if (!id || !*id || strlen(id) >= cap) {
        db_seterr(db, "%s must be 1..%zu bytes", what, cap - 1);
        return false;
    }
    return true;
}

/* $11 (conf) is used by ST_RUN_CREATE only: a run's conf never changes. */
static void run_params(const spate_sched_run_t *r, param_t p[11]) {
    p[0] = P_TEXT(r->dag_id);
    p[1] = P_TEXT(r->run_id);
    p[2] = P_TEXT(spate_sched_run_type_name(r->type));
    p[3] = P_TEXT(spate_sched_run_state_name(r->state));
    p[4] = P_INT(r->logical_date_ms);
    p[5] = P_INT(r->data_interval_start_ms);
    p[6] = P_INT(r->data_interval_end_ms);
    p[7] = P_INT(r->queued_ms);
    p[8] = P_INT(r->start_ms);
    p[9] = P_INT(r->end_ms);
    p[10] = P_TEXT(r->conf[0] ? r->conf : "{}");
}

static spate_status_t run_read(spate_sched_db_t *db, const row_t *row, spate_sched_run_t *r) {
    memset(r, 0, sizeof(*r));
    snprintf(r->dag_id, sizeof(r->dag_id), "%s", row_text(row, 0));
    snprintf(r->run_id, sizeof(r->run_id), "%s", row_text(row, 1));
    if (run_type_parse(row_text(row, 2), &r->type) != SPATE_OK ||
        run_state_parse(row_text(row, 3), &r->state) != SPATE_OK) {
        db_seterr(db, "run %s/%s: unknown type '%s' or state '%s'", r->dag_id, r->run_id,
                  row_text(row, 2), row_text(row, 3));
        return SPATE_EINVAL;
    }
    r->logical_date_ms = row_int(row, 4);
    r->data_interval_start_ms = row_int(row, 5);
    r->data_interval_end_ms = row_int(row, 6);
    r->queued_ms = row_int(row, 7);
    r->start_ms = row_int(row, 8);
    r->end_ms = row_int(row, 9);
    const char *conf = row_null(row, 10) ? "" : row_text(row, 10);
    if (strlen(conf) >= sizeof(r->conf)) { /* written by something else than spate */
        db_seterr(db, "run %s/%s: conf longer than %zu bytes", r->dag_id, r->run_id,
                  sizeof(r->conf) - 1);
        return SPATE_EINVAL;
    }
    snprintf(r->conf, sizeof(r->conf), "%s", conf[0] ? conf : "{}");
    return SPATE_OK;
}

bool spate_sched_run_id_valid(const char *run_id) {
    if (!run_id || !*run_id) return false;
    if (strcmp(run_id, ".") == 0 || strcmp(run_id, "..") == 0) return false;
    size_t n = 0;
    for (const char *c = run_id; *c; c++, n++) {
        bool ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                  (*c >= '0' && *c <= '9') || strchr("_.~:+-", *c) != NULL;
        if (!ok) return false;
    }
    return n < sizeof(((spate_sched_run_t *)0)->run_id);
}

spate_status_t spate_sched_db_run_create(spate_sched_db_t *db, const spate_sched_run_t *r) {
    if (!id_ok(db, "dag_id", r->dag_id, sizeof(r->dag_id)) ||
        !id_ok(db, "run_id", r->run_id, sizeof(r->run_id)))
        return SPATE_EINVAL;
    /* the run id becomes a path (DATA_DIR/logs/DAG/RUN_ID/...) */
    if (!spate_sched_run_id_valid(r->run_id)) {
        db_seterr(db,
                  "run_id '%s' is not valid: it must match ^[A-Za-z0-9_.~:+-]+$ and not be "
                  "'.' or '..'",
                  r->run_id);
        return SPATE_EINVAL;
    }
    param_t p[11];
    run_params(r, p);
    int64_t n = 0;
    spate_status_t s = stmt_run(db, ST_RUN_CREATE, p, 11, &n);
    if (s == SPATE_OK && n == 0) s = SPATE_EEXIST;
    if (s == SPATE_EEXIST) {
        char when[25];
        spate_time_iso8601(r->logical_date_ms, when);
        db_seterr(db, "DAG '%s' already has run '%s' or a run at logical date %s", r->dag_id,
                  r->run_id, when);
    }
    return s;
}

spate_status_t spate_sched_db_run_get(spate_sched_db_t *db, const char *dag_id, const char *run_id,
                                      spate_sched_run_t *out) {
    param_t p[] = {P_TEXT(dag_id), P_TEXT(run_id)};
    cursor_t cur;
    spate_status_t s = stmt_exec(db, ST_RUN_GET, p, 2, &cur);
    if (s != SPATE_OK) return s;
    if (row_next(&cur, &s)) {
        s = run_read(db, &cur.row, out);
    } else if (s == SPATE_OK) {
        db_seterr(db, "DAG '%s' has no run '%s'", dag_id, run_id);
        s = SPATE_ENOENT;
    }
    cursor_done(&cur);
    return s;
}

spate_status_t spate_sched_db_run_update(spate_sched_db_t *db, const spate_sched_run_t *r) {
    param_t p[11];
    run_params(r, p);
    int64_t n = 0;
    /* 10: the update does not take $11; PostgreSQL counts parameters */
    spate_status_t s = stmt_run(db, ST_RUN_UPDATE, p, 10, &n);
    if (s == SPATE_OK && n == 0) {
        db_seterr(db, "DAG '%s' has no run '%s'", r->dag_id, r->run_id);
        return SPATE_ENOENT;
    }
    return s;
}

spate_status_t spate_sched_db_runs(spate_sched_db_t *db, const char *dag_id, unsigned state_mask,
                                   size_t limit, spate_sched_run_cb cb, void *ctx) {
    param_t p[] = {P_TEXT(dag_id), P_INT(state_mask),
                   P_INT(limit == 0 || limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit)};
    cursor_t cur;
    spate_status_t s = stmt_exec(db, ST_RUNS, p, 3, &cur);
    if (s != SPATE_OK) return s;
    /* Rows are read whole before the callbacks run, so a callback may use
     * the handle (even this same query) and sees no half-read statement. */
    spate_sched_run_t *rows = NULL;
    size_t n = 0, cap = 0;
    while (row_next(&cur, &s)) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            rows = spate_xrealloc(rows, cap * sizeof(*rows));
        }
        s = run_read(db, &cur.row, &rows[n]);
        if (s != SPATE_OK) break;
        n++;
    }
    cursor_done(&cur);
    for (size_t i = 0; s == SPATE_OK && i < n; i++)
        if (!cb(ctx, &rows[i])) break;
    free(rows);
    return s;
}

spate_status_t spate_sched_db_last_scheduled(spate_sched_db_t *db, const char *dag_id,
                                             int64_t *logical_ms) {
    param_t p[] = {P_TEXT(dag_id)};
    cursor_t cur;
    spate_status_t s = stmt_exec(db, ST_LAST_SCHED, p, 1, &cur);
    if (s != SPATE_OK) return s;
    *logical_ms = INT64_MIN;
    if (row_next(&cur, &s) && !row_null(&cur.row, 0)) *logical_ms = row_int(&cur.row, 0);
    cursor_done(&cur);
    return s;
}

spate_status_t spate_sched_db_run_at(spate_sched_db_t *db, const char *dag_id, int64_t logical_ms,
                                     char *run_id, size_t run_id_len) {
    param_t p[] = {P_TEXT(dag_id), P_INT(logical_ms)};
    cursor_t cur;
    spate_status_t s = stmt_exec(db, ST_RUN_AT, p, 2, &cur);
    if (s != SPATE_OK) return s;
    if (row_next(&cur, &s)) {
        if (run_id && run_id_len) snprintf(run_id, run_id_len, "%s", row_text(&cur.row, 0));
    } else if (s == SPATE_OK) {
        s = SPATE_ENOENT;
    }
    cursor_done(&cur);
    return s;
}

/* ------------------------------------------------------------------ */
/* Task instances                                                      */
/* ------------------------------------------------------------------ */

static spate_status_t ti_read(spate_sched_db_t *db, const row_t *row, spate_sched_ti_t *t) {
    memset(t, 0, sizeof(*t));
    snprintf(t->dag_id, sizeof(t->dag_id), "%s", row_text(row, 0));
    snprintf(t->run_id, sizeof(t->run_id), "%s", row_text(row, 1));
    snprintf(t->task_id, sizeof(t->task_id), "%s", row_text(row, 2));
    if (spate_sched_ti_state_parse(row_text(row, 3), &t->state) != SPATE_OK) {
        db_seterr(db, "task %s/%s/%s: unknown state '%s'", t->dag_id, t->run_id, t->task_id,
                  row_text(row, 3));
        return SPATE_EINVAL;
    }
    t->try_number = (int)row_int(row, 4);
    t->max_tries = (int)row_int(row, 5);
    t->start_ms = row_int(row, 6);
    t->end_ms = row_int(row, 7);
    t->queued_ms = row_int(row, 8);
    t->next_try_ms = row_int(row, 9);
    t->heartbeat_ms = row_int(row, 10);
    t->pid = (int)row_int(row, 11);
    snprintf(t->hostname, sizeof(t->hostname), "%s", row_text(row, 12));
    snprintf(t->pool, sizeof(t->pool), "%s", row_text(row, 13));
    t->exit_code = (int)row_int(row, 14);
    return SPATE_OK;
}

spate_status_t spate_sched_db_ti_put(spate_sched_db_t *db, const spate_sched_ti_t *ti) {
    if (!id_ok(db, "task_id", ti->task_id, sizeof(ti->task_id))) return SPATE_EINVAL;
    param_t p[] = {
        P_TEXT(ti->dag_id),      P_TEXT(ti->run_id),
        P_TEXT(ti->task_id),     P_TEXT(spate_sched_ti_state_name(ti->state)),
        P_INT(ti->try_number),   P_INT(ti->max_tries),
        P_INT(ti->start_ms),     P_INT(ti->end_ms),
        P_INT(ti->queued_ms),    P_INT(ti->next_try_ms),
        P_INT(ti->heartbeat_ms), P_INT(ti->pid),
        P_TEXT(ti->hostname),    P_TEXT(ti->pool[0] ? ti->pool : "default_pool"),
        P_INT(ti->exit_code),
    };
    spate_status_t s = stmt_run(db, ST_TI_PUT, p, (int)SPATE_ARRAY_LEN(p), NULL);
    if (s == SPATE_ENOENT)
        db_seterr(db, "DAG '%s' has no run '%s' (task '%s')", ti->dag_id, ti->run_id, ti->task_id);
    return s;
}

spate_status_t spate_sched_db_ti_get(spate_sched_db_t *db, const char *dag_id, const char *run_id,
                                     const char *task_id, spate_sched_ti_t *out) {
    param_t p[] = {P_TEXT(dag_id), P_TEXT(run_id), P_TEXT(task_id)};
    cursor_t cur;
    spate_status_t s = stmt_exec(db, ST_TI_GET, p, 3, &cur);
    if (s != SPATE_OK) return s;
    if (row_next(&cur, &s)) {
        s = ti_read(db, &cur.row, out);
    } else if (s == SPATE_OK) {
        db_seterr(db, "no task instance %s/%s/%s", dag_id, run_id, task_id);
        s = SPATE_ENOENT;
    }
    cursor_done(&cur);
    return s;
}

spate_status_t spate_sched_db_tis(spate_sched_db_t *db, const char *dag_id, const char *run_id,
                                  unsigned state_mask, spate_sched_ti_cb cb, void *ctx) {
    param_t p[] = {P_TEXT(dag_id), P_TEXT(run_id), P_INT(state_mask)};
    cursor_t cur;
    spate_status_t s = stmt_exec(db, ST_TIS, p, 3, &cur);
    if (s != SPATE_OK) return s;
    spate_sched_ti_t *rows = NULL; /* read whole first, as in _runs */
    size_t n = 0, cap = 0;
    while (row_next(&cur, &s)) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            rows = spate_xrealloc(rows, cap * sizeof(*rows));
        }
        s = ti_read(db, &cur.row, &rows[n]);
        if (s != SPATE_OK) break;
        n++;
    }
    cursor_done(&cur);
    for (size_t i = 0; s == SPATE_OK && i < n; i++)
        if (!cb(ctx, &rows[i])) break;
    free(rows);
    return s;
}
