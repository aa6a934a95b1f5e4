/*
 * sched_op_sql.c — the `sql` operator (Airflow's SQLExecuteQueryOperator):
 * runs one or more statements on PostgreSQL or SQLite.
 *
 *   key    default                          meaning
 *   sql    (required)                       statements, ';'-separated, rendered
 *   conn   env postgres, else env sqlite    a postgres:// URL, "sqlite:PATH"
 *                                           or a SQLite file path (rendered)
 *
 * PostgreSQL gets the whole text in one simple-query round trip (libpq
 * PQexec), which runs it as one implicit transaction: either every
 * statement takes effect or none. SQLite runs the statements one by one
 * inside BEGIN ... COMMIT for the same all-or-nothing result. The log
 * shows, per statement, the rows changed or the first rows returned
 * (SQL_SHOW_ROWS of them), so a task's log answers "what did it do".
 */
#include "sched_op_int.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define SQL_SHOW_ROWS 20

static const char *const sql_keys[] = {"sql", "conn", NULL};

static void sql_check(const spate_conf_t *c, const spate_conf_node_t *task,
                      spate_stream_diag_t *d) {
    spate_sched_op_check_scalar(c, task, "sql", true, d);
    spate_sched_op_check_scalar(c, task, "conn", false, d);
}

/* Logs one row as "a | b | c" (NULL as "NULL"). */
static void log_row(const char *const *v, int n) {
    spate_buf_t b = SPATE_BUF_INIT;
    for (int i = 0; i < n; i++) {
        if (i) spate_buf_puts(&b, " | ");
        spate_buf_puts(&b, v[i] ? v[i] : "NULL");
    }
    spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "  %s", b.data ? b.data : "");
    spate_buf_free(&b);
}

static int run_pg(const char *conn, const char *sql) {
    PGconn *pq = PQconnectdb(conn);
    int rc = 1;
    if (PQstatus(pq) != CONNECTION_OK) {
        spate_log(SPATE_LOG_ERROR, SPATE_OP_LOG, "sql: postgres: %s", PQerrorMessage(pq));
        PQfinish(pq);
        return 1;
    }
    spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "sql: connected to PostgreSQL %s:%s db %s", PQhost(pq),
              PQport(pq), PQdb(pq));
    /* PQsendQuery + PQgetResult: one result per statement. */
    if (!PQsendQuery(pq, sql)) {
        spate_log(SPATE_LOG_ERROR, SPATE_OP_LOG, "sql: %s", PQerrorMessage(pq));
        PQfinish(pq);
        return 1;
    }
    rc = 0;
    int nstmt = 0;
    PGresult *r;
    while ((r = PQgetResult(pq)) != NULL) {
        ExecStatusType rs = PQresultStatus(r);
        nstmt++;
        if (rs == PGRES_TUPLES_OK) {
            int nt = PQntuples(r), nf = PQnfields(r);
            spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "sql: statement %d: %d row(s)", nstmt, nt);
            const char *v[64];
            if (nf > 64) nf = 64;
            for (int i = 0; i < nt && i < SQL_SHOW_ROWS; i++) {
                for (int j = 0; j < nf; j++)
                    v[j] = PQgetisnull(r, i, j) ? NULL : PQgetvalue(r, i, j);
                log_row(v, nf);
            }
        } else if (rs == PGRES_COMMAND_OK) {
            const char *t = PQcmdTuples(r);
            spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "sql: statement %d: %s%s%s%s", nstmt,
                      PQcmdStatus(r), t && *t ? " (" : "", t && *t ? t : "",
                      t && *t ? " row(s))" : "");
        } else if (rs != PGRES_EMPTY_QUERY) {
            spate_log(SPATE_LOG_ERROR, SPATE_OP_LOG, "sql: statement %d failed: %s", nstmt,
                      PQresultErrorMessage(r));
            rc = 1;
        }
        PQclear(r);
    }
    PQfinish(pq);
    return rc;
}

static int run_sqlite(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    int rc = 1;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        spate_log(SPATE_LOG_ERROR, SPATE_OP_LOG, "sql: sqlite %s: %s", path,
                  db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return 1;
    }
    sqlite3_busy_timeout(db, 10000);
    spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "sql: opened SQLite %s", path);
    char *msg = NULL;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) {
        spate_log(SPATE_LOG_ERROR, SPATE_OP_LOG, "sql: begin: %s", msg ? msg : "");
        sqlite3_free(msg);
        sqlite3_close(db);
        return 1;
    }
    const char *p = sql;
    int nstmt = 0;
    rc = 0;
    while (*p) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        if (sqlite3_prepare_v2(db, p, -1, &st, &tail) != SQLITE_OK) {
            spate_log(SPATE_LOG_ERROR, SPATE_OP_LOG, "sql: statement %d: %s", nstmt + 1,
                      sqlite3_errmsg(db));
            rc = 1;
            break;
        }
        p = tail;
        if (st == NULL) continue; /* whitespace or a comment */
        nstmt++;
        int nf = sqlite3_column_count(st), nrows = 0, s;
        /* The first rows are kept to be logged after the count, as for
         * PostgreSQL (which knows the count first). */
        char *shown[SQL_SHOW_ROWS];
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            if (nrows < SQL_SHOW_ROWS) {
                spate_buf_t b = SPATE_BUF_INIT;
                for (int j = 0; j < nf; j++) {
                    const char *t = (const char *)sqlite3_column_text(st, j);
                    if (j) spate_buf_puts(&b, " | ");
                    spate_buf_puts(&b, t ? t : "NULL");
                }
                shown[nrows] = spate_buf_detach(&b, NULL);
            }
            nrows++;
        }
        if (s != SQLITE_DONE) {
            spate_log(SPATE_LOG_ERROR, SPATE_OP_LOG, "sql: statement %d failed: %s", nstmt,
                      sqlite3_errmsg(db));
            for (int i = 0; i < nrows && i < SQL_SHOW_ROWS; i++) free(shown[i]);
            sqlite3_finalize(st);
            rc = 1;
            break;
        }
        if (nf > 0) {
            spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "sql: statement %d: %d row(s)", nstmt, nrows);
            for (int i = 0; i < nrows && i < SQL_SHOW_ROWS; i++) {
                spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "  %s", shown[i]);
            }
        } else {
            spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "sql: statement %d: %d row(s) changed", nstmt,
                      sqlite3_changes(db));
        }
        for (int i = 0; i < nrows && i < SQL_SHOW_ROWS; i++) free(shown[i]);
        sqlite3_finalize(st);
    }
    if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
        spate_log(SPATE_LOG_ERROR, SPATE_OP_LOG, "sql: commit: %s", msg ? msg : "");
        sqlite3_free(msg);
        rc = 1;
    }
    if (rc != 0) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static int sql_run(const spate_sched_ti_ctx_t *ctx) {
    char err[512] = "";
    spate_buf_t sql = SPATE_BUF_INIT;
    char *conn = NULL;
    int rc = 1;
    spate_status_t st = spate_sched_op_arg(ctx, "sql", &sql, err, sizeof err);
    if (st == SPATE_ENOENT) snprintf(err, sizeof err, "key 'sql' is required");
    if (st != SPATE_OK) goto fail;
    char *def = spate_sched_op_default_db(ctx->env);
    st = spate_sched_op_arg_or(ctx, "conn", def, &conn, err, sizeof err);
    free(def);
    if (st != SPATE_OK) goto fail;
    if (conn == NULL) {
        snprintf(err, sizeof err, "no 'conn' and no postgres/sqlite connection configured");
        goto fail;
    }
    int64_t t0 = spate_mono_ms();
    if (spate_stage_is_postgres(conn)) {
        rc = run_pg(conn, sql.data);
    } else {
        rc = run_sqlite(strncmp(conn, "sqlite:", 7) == 0 ? conn + 7 : conn, sql.data);
    }
    spate_log(rc == 0 ? SPATE_LOG_INFO : SPATE_LOG_ERROR, SPATE_OP_LOG, "sql: %s after %lld ms",
              rc == 0 ? "done" : "failed", (long long)(spate_mono_ms() - t0));
    goto out;
fail:
    spate_log(SPATE_LOG_ERROR, SPATE_OP_LOG, "sql: %s", err);
out:
    spate_buf_free(&sql);
    free(conn);
    return rc;
}

const spate_sched_op_t spate_sched_op_sql = {
    .name = "sql",
    .keys = sql_keys,
    .check = sql_check,
    .run = sql_run,
};
