/*
 * sched_op_stage.c — the staging table behind randomuser_to_postgres and
 * postgres_to_kafka, on PostgreSQL (libpq) or SQLite, with one set of
 * statements whose only difference is the parameter marker ($1 / ?).
 *
 * Table layout: see sched_op_int.h. Statements (T = the table name,
 * checked by spate_stage_table_ok, never quoted from user text):
 *
 *   create   CREATE TABLE IF NOT EXISTS T (id TEXT PRIMARY KEY, ...)
 *   insert   INSERT INTO T (...) VALUES (...) ON CONFLICT (id) DO NOTHING
 *   pending  SELECT id, formatted FROM T WHERE published_at IS NULL
 *            ORDER BY fetched_at, id LIMIT n
 *   mark     UPDATE T SET published_at, kafka_topic, kafka_partition,
 *            kafka_offset WHERE id = ? AND published_at IS NULL
 *
 * DO NOTHING keeps the first staging of a user and, with it, its
 * published state: a refetch never makes a user unpublished again.
 * Invariant: every call leaves no statement open (SQLite statements are
 * finalized, PostgreSQL results cleared) except inside begin/commit.
 */
#include "sched_op_int.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

struct spate_stage {
    bool pg;
    PGconn *pq;
    sqlite3 *lite;
    char table[128];
    char *sql_insert, *sql_pending, *sql_mark;
};

bool spate_stage_is_postgres(const char *conn) {
    if (conn == NULL) return false;
    if (strncmp(conn, "postgres://", 11) == 0 || strncmp(conn, "postgresql://", 13) == 0) {
        return true;
    }
    /* libpq keyword form: "host=... dbname=..." */
    return strchr(conn, '=') != NULL && strncmp(conn, "sqlite:", 7) != 0 &&
           strchr(conn, '/') == NULL;
}

static bool ident_ok(const char *s, size_t n) {
    if (n == 0 || n > 63) return false;
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_')) return false;
    for (size_t i = 1; i < n; i++) {
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_')) return false;
    }
    return true;
}

bool spate_stage_table_ok(const char *table) {
    if (table == NULL) return false;
    const char *dot = strchr(table, '.');
    if (dot == NULL) return ident_ok(table, strlen(table));
    return ident_ok(table, (size_t)(dot - table)) && ident_ok(dot + 1, strlen(dot + 1));
}

spate_status_t spate_stage_sql_create(const char *table, spate_buf_t *out) {
    if (!spate_stage_table_ok(table)) return SPATE_EINVAL;
    return spate_buf_printf(out,
                            "CREATE TABLE IF NOT EXISTS %s ("
                            "id TEXT PRIMARY KEY, "
                            "raw TEXT NOT NULL, "
                            "formatted TEXT NOT NULL, "
                            "fetched_at TEXT NOT NULL, "
                            "run_id TEXT, "
                            "published_at TEXT, "
                            "kafka_topic TEXT, "
                            "kafka_partition INTEGER, "
                            "kafka_offset BIGINT)",
                            table);
}

/* Appends marker number i (1-based) for the database. */
static const char *mark(bool pg, int i, char buf[8]) {
    if (!pg) return "?";
    snprintf(buf, 8, "$%d", i % 100);
    return buf;
}

spate_status_t spate_stage_sql_insert(const char *table, bool pg, spate_buf_t *out) {
    if (!spate_stage_table_ok(table)) return SPATE_EINVAL;
    char m[5][8];
    return spate_buf_printf(out,
                            "INSERT INTO %s (id, raw, formatted, fetched_at, run_id) "
                            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                            table, mark(pg, 1, m[0]), mark(pg, 2, m[1]), mark(pg, 3, m[2]),
                            mark(pg, 4, m[3]), mark(pg, 5, m[4]));
}

spate_status_t spate_stage_sql_pending(const char *table, bool pg, spate_buf_t *out) {
    if (!spate_stage_table_ok(table)) return SPATE_EINVAL;
    char m[8];
    return spate_buf_printf(out,
                            "SELECT id, formatted FROM %s WHERE published_at IS NULL "
                            "ORDER BY fetched_at, id LIMIT %s",
                            table, mark(pg, 1, m));
}

spate_status_t spate_stage_sql_mark(const char *table, bool pg, spate_buf_t *out) {
    if (!spate_stage_table_ok(table)) return SPATE_EINVAL;
    char m[5][8];
    return spate_buf_printf(out,
                            "UPDATE %s SET published_at = %s, kafka_topic = %s, "
                            "kafka_partition = %s, kafka_offset = %s "
                            "WHERE id = %s AND published_at IS NULL",
                            table, mark(pg, 1, m[0]), mark(pg, 2, m[1]), mark(pg, 3, m[2]),
                            mark(pg, 4, m[3]), mark(pg, 5, m[4]));
}

/* ------------------------------------------------------------------ */
/* Plumbing                                                            */
/* ------------------------------------------------------------------ */

/* Runs parameterless SQL. */
static spate_status_t exec_plain(spate_stage_t *s, const char *sql, char *err, size_t errlen) {
    if (s->pg) {
        PGresult *r = PQexec(s->pq, sql);
        ExecStatusType rs = PQresultStatus(r);
        spate_status_t st = SPATE_OK;
        if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
            snprintf(err, errlen, "postgres: %s", PQerrorMessage(s->pq));
            st = SPATE_ERR;
        }
        PQclear(r);
        return st;
    }
    char *msg = NULL;
    if (sqlite3_exec(s->lite, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "sqlite: %s", msg ? msg : sqlite3_errmsg(s->lite));
        sqlite3_free(msg);
        return SPATE_ERR;
    }
    return SPATE_OK;
}

spate_status_t spate_stage_open(spate_stage_t **out, const char *conn, const char *table, char *err,
                                size_t errlen) {
    *out = NULL;
    if (!spate_stage_table_ok(table)) {
        snprintf(err, errlen, "table '%s': expected a plain name like staged_users", table);
        return SPATE_EINVAL;
    }
    spate_stage_t *s = spate_xcalloc(1, sizeof *s);
    spate_buf_t b = SPATE_BUF_INIT;
    snprintf(s->table, sizeof s->table, "%s", table);
    s->pg = spate_stage_is_postgres(conn);
    if (s->pg) {
        s->pq = PQconnectdb(conn);
        if (PQstatus(s->pq) != CONNECTION_OK) {
            snprintf(err, errlen, "postgres: %s", PQerrorMessage(s->pq));
            goto err;
        }
        /* Quiet "relation already exists, skipping" notices. */
        PQclear(PQexec(s->pq, "SET client_min_messages = warning"));
    } else {
        const char *path = strncmp(conn, "sqlite:", 7) == 0 ? conn + 7 : conn;
        if (sqlite3_open(path, &s->lite) != SQLITE_OK) {
            snprintf(err, errlen, "sqlite %s: %s", path,
                     s->lite ? sqlite3_errmsg(s->lite) : "cannot open");
            goto err;
        }
        sqlite3_busy_timeout(s->lite, 10000);
        if (exec_plain(s, "PRAGMA journal_mode=WAL", err, errlen) != SPATE_OK) goto err;
    }
    if (spate_stage_sql_create(table, &b) != SPATE_OK) goto oom;
    if (exec_plain(s, b.data, err, errlen) != SPATE_OK) goto err;
    spate_buf_reset(&b);
    if (spate_stage_sql_insert(table, s->pg, &b) != SPATE_OK) goto oom;
    s->sql_insert = spate_buf_detach(&b, NULL);
    if (spate_stage_sql_pending(table, s->pg, &b) != SPATE_OK) goto oom;
    s->sql_pending = spate_buf_detach(&b, NULL);
    if (spate_stage_sql_mark(table, s->pg, &b) != SPATE_OK) goto oom;
    s->sql_mark = spate_buf_detach(&b, NULL);
    *out = s;
    return SPATE_OK;
oom:
    snprintf(err, errlen, "out of memory");
err:
    spate_buf_free(&b);
    spate_stage_close(s);
    return SPATE_ERR;
}

void spate_stage_close(spate_stage_t *s) {
    if (s == NULL) return;
    if (s->pq) PQfinish(s->pq);
    if (s->lite) sqlite3_close(s->lite);
    free(s->sql_insert);
    free(s->sql_pending);
    free(s->sql_mark);
    free(s);
}

spate_status_t spate_stage_begin(spate_stage_t *s, char *err, size_t errlen) {
    return exec_plain(s, s->pg ? "BEGIN" : "BEGIN IMMEDIATE", err, errlen);
}

spate_status_t spate_stage_commit(spate_stage_t *s, char *err, size_t errlen) {
    return exec_plain(s, "COMMIT", err, errlen);
}

void spate_stage_rollback(spate_stage_t *s) {
    char err[256];
    (void)exec_plain(s, "ROLLBACK", err, sizeof err);
}

/* Runs one statement with text parameters (NULL = SQL NULL). For a
 * query, rows go to cb (values borrowed during the call). *changes gets
 * the rows changed by a DML statement. */
typedef spate_status_t (*row_cb)(void *ctx, const char *const *vals, int n);

static spate_status_t exec_params(spate_stage_t *s, const char *sql, int n,
                                  const char *const *params, row_cb cb, void *ctx, int64_t *changes,
                                  char *err, size_t errlen) {
    spate_status_t st = SPATE_OK;
    if (s->pg) {
        PGresult *r = PQexecParams(s->pq, sql, n, NULL, params, NULL, NULL, 0);
        ExecStatusType rs = PQresultStatus(r);
        if (rs == PGRES_TUPLES_OK) {
            int nf = PQnfields(r);
            const char *vals[16];
            if (nf > 16) nf = 16;
            for (int i = 0; i < PQntuples(r) && st == SPATE_OK; i++) {
                for (int j = 0; j < nf; j++) {
                    vals[j] = PQgetisnull(r, i, j) ? NULL : PQgetvalue(r, i, j);
                }
                if (cb) st = cb(ctx, vals, nf);
            }
        } else if (rs == PGRES_COMMAND_OK) {
            const char *t = PQcmdTuples(r);
            if (changes) *changes = (t && *t) ? strtoll(t, NULL, 10) : 0;
        } else {
            snprintf(err, errlen, "postgres: %s", PQerrorMessage(s->pq));
            st = SPATE_ERR;
        }
        PQclear(r);
        return st;
    }
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(s->lite, sql, -1, &stmt, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(s->lite));
        return SPATE_ERR;
    }
    for (int i = 0; i < n; i++) {
        if (params[i] == NULL) {
            sqlite3_bind_null(stmt, i + 1);
        } else {
            sqlite3_bind_text(stmt, i + 1, params[i], -1, SQLITE_STATIC);
        }
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && st == SPATE_OK) {
        int nf = sqlite3_column_count(stmt);
        const char *vals[16];
        if (nf > 16) nf = 16;
        for (int j = 0; j < nf; j++) vals[j] = (const char *)sqlite3_column_text(stmt, j);
        if (cb) st = cb(ctx, vals, nf);
    }
    if (st == SPATE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(s->lite));
        st = SPATE_ERR;
    }
    if (changes) *changes = sqlite3_changes(s->lite);
    sqlite3_finalize(stmt);
    return st;
}

spate_status_t spate_stage_insert(spate_stage_t *s, const spate_stage_row_t *r, bool *inserted,
                                  char *err, size_t errlen) {
    const char *p[5] = {r->id, r->raw, r->formatted, r->fetched_at, r->run_id};
    int64_t ch = 0;
    spate_status_t st = exec_params(s, s->sql_insert, 5, p, NULL, NULL, &ch, err, errlen);
    if (inserted) *inserted = ch > 0;
    return st;
}

typedef struct {
    spate_stage_pending_t *rows;
    size_t n, cap;
} pending_acc_t;

static spate_status_t pending_row(void *ctx, const char *const *vals, int n) {
    pending_acc_t *a = ctx;
    if (n < 2 || vals[0] == NULL || vals[1] == NULL) return SPATE_OK;
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->rows = spate_xrealloc(a->rows, a->cap * sizeof *a->rows);
    }
    spate_stage_pending_t *p = &a->rows[a->n++];
    p->id = spate_xstrdup(vals[0]);
    p->formatted = spate_xstrdup(vals[1]);
    p->partition = -1;
    p->offset = -1;
    return SPATE_OK;
}

spate_status_t spate_stage_pending(spate_stage_t *s, size_t limit, spate_stage_pending_t **rows,
                                   size_t *n, char *err, size_t errlen) {
    char lim[32];
    snprintf(lim, sizeof lim, "%zu", limit);
    const char *p[1] = {lim};
    pending_acc_t a = {0};
    spate_status_t st = exec_params(s, s->sql_pending, 1, p, pending_row, &a, NULL, err, errlen);
    if (st != SPATE_OK) {
        spate_stage_pending_free(a.rows, a.n);
        *rows = NULL;
        *n = 0;
        return st;
    }
    *rows = a.rows;
    *n = a.n;
    return SPATE_OK;
}

void spate_stage_pending_free(spate_stage_pending_t *rows, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(rows[i].id);
        free(rows[i].formatted);
    }
    free(rows);
}

spate_status_t spate_stage_mark(spate_stage_t *s, const char *id, const char *published_at,
                                const char *topic, int32_t partition, int64_t offset, char *err,
                                size_t errlen) {
    char part[16], off[32];
    snprintf(part, sizeof part, "%d", (int)partition);
    snprintf(off, sizeof off, "%lld", (long long)offset);
    const char *p[5] = {published_at, topic, part, off, id};
    return exec_params(s, s->sql_mark, 5, p, NULL, NULL, NULL, err, errlen);
}

static spate_status_t count_row(void *ctx, const char *const *vals, int n) {
    int64_t *out = ctx;
    out[0] = (n > 0 && vals[0]) ? strtoll(vals[0], NULL, 10) : 0;
    out[1] = (n > 1 && vals[1]) ? strtoll(vals[1], NULL, 10) : 0;
    return SPATE_OK;
}

spate_status_t spate_stage_count(spate_stage_t *s, int64_t *total, int64_t *unpublished, char *err,
                                 size_t errlen) {
    spate_buf_t b = SPATE_BUF_INIT;
    int64_t v[2] = {0, 0};
    if (spate_buf_printf(&b, "SELECT COUNT(*), COUNT(*) - COUNT(published_at) FROM %s", s->table) !=
        SPATE_OK) {
        spate_buf_free(&b);
        return SPATE_ENOMEM;
    }
    spate_status_t st = exec_params(s, b.data, 0, NULL, count_row, v, NULL, err, errlen);
    spate_buf_free(&b);
    if (total) *total = v[0];
    if (unpublished) *unpublished = v[1];
    return st;
}
