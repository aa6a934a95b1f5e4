/*
 * sched_op_int.h — private to the operators (sched_op*.c) and their unit
 * test: the operator tables and the helpers they share.
 *
 * Every operator reads its own keys from the task's map in the DAG file
 * (ctx->task->node). A string key is rendered with spate_sched_render
 * before use, so "{{ ds }}" works in every argument. Keys not given fall
 * back to the scheduler's connections (ctx->env).
 *
 *   helper                    what it gives back
 *   spate_sched_op_arg        a rendered scalar, or ENOENT when absent
 *   spate_sched_op_arg_i64    a rendered scalar parsed as an integer
 *   spate_sched_op_arg_dur    a rendered scalar parsed as a duration
 *   spate_sched_op_arg_or     a rendered scalar or a default, malloc'd
 *   spate_sched_op_check_*    load-time checks: problems go to the diag
 *                             as "file:line: key 'k': ..."
 *
 * Logs: run() is executed in the try's own process whose stdout/stderr
 * are the try's log file, so operators just log (spate_log, component
 * "task") and return an exit status: 0 success, 1 failure (shell: the
 * command's own status).
 */
#ifndef SPATE_SCHED_OP_INT_H
#define SPATE_SCHED_OP_INT_H

#include "sched.h"

#include <stdbool.h>
#include <stdint.h>

extern const spate_sched_op_t spate_sched_op_shell;
extern const spate_sched_op_t spate_sched_op_http;
extern const spate_sched_op_t spate_sched_op_sql;
extern const spate_sched_op_t spate_sched_op_cql;
extern const spate_sched_op_t spate_sched_op_randomuser_to_kafka;
extern const spate_sched_op_t spate_sched_op_randomuser_to_postgres;
extern const spate_sched_op_t spate_sched_op_postgres_to_kafka;
extern const spate_sched_op_t spate_sched_op_empty; /* sched_op_empty.c */

#define SPATE_OP_LOG "task"

/* ------------------------------------------------------------------ */
/* Reading arguments at run time (sched_op.c)                          */
/* ------------------------------------------------------------------ */

/* Renders the scalar under `key` of the task's map into out (reset
 * first). A missing key (or YAML null) returns SPATE_ENOENT with out
 * empty; a map/list, or a template error, returns SPATE_EINVAL with a
 * message in err. The caller owns out. */
spate_status_t spate_sched_op_arg(const spate_sched_ti_ctx_t *ctx, const char *key,
                                  spate_buf_t *out, char *err, size_t errlen);
/* Renders `tmpl` itself (a map value, a list item) into out (reset first). */
spate_status_t spate_sched_op_render(const spate_sched_ti_ctx_t *ctx, const char *tmpl,
                                     spate_buf_t *out, char *err, size_t errlen);
/* The rendered key parsed as an integer in [min, max]; a missing key
 * leaves *v untouched and returns SPATE_ENOENT. */
spate_status_t spate_sched_op_arg_i64(const spate_sched_ti_ctx_t *ctx, const char *key, int64_t min,
                                      int64_t max, int64_t *v, char *err, size_t errlen);
/* The rendered key parsed with spate_sched_parse_duration (> 0). */
spate_status_t spate_sched_op_arg_dur(const spate_sched_ti_ctx_t *ctx, const char *key, int64_t *ms,
                                      char *err, size_t errlen);
/* The string under key, else `def` (may be NULL): rendered, malloc'd
 * into *out (NULL when neither exists; the caller frees). */
spate_status_t spate_sched_op_arg_or(const spate_sched_ti_ctx_t *ctx, const char *key,
                                     const char *def, char **out, char *err, size_t errlen);

/* The default database of sql / staging tasks, malloc'd (NULL when none):
 * env postgres, else env sqlite, else DATA_DIR/staging.db. */
char *spate_sched_op_default_db(const spate_sched_env_t *env);

/* True for a YAML null scalar (~, null, empty, unquoted). */
bool spate_sched_op_is_null(const spate_conf_node_t *n);

/* ------------------------------------------------------------------ */
/* Load-time checks (sched_op.c)                                       */
/* ------------------------------------------------------------------ */

/* The key must be a (non-null) scalar when present; required: present. */
void spate_sched_op_check_scalar(const spate_conf_t *c, const spate_conf_node_t *task,
                                 const char *key, bool required, spate_stream_diag_t *d);
/* An integer in [min, max] unless the text is a template ("{{"). */
void spate_sched_op_check_int(const spate_conf_t *c, const spate_conf_node_t *task, const char *key,
                              int64_t min, int64_t max, spate_stream_diag_t *d);
/* A duration (spate_sched_parse_duration) unless it is a template. */
void spate_sched_op_check_dur(const spate_conf_t *c, const spate_conf_node_t *task, const char *key,
                              spate_stream_diag_t *d);
/* A map whose values are scalars. */
void spate_sched_op_check_map(const spate_conf_t *c, const spate_conf_node_t *task, const char *key,
                              spate_stream_diag_t *d);
/* The key is absent, or present with a value that is not null. Used for
 * "one of" keys: returns whether it is present. */
bool spate_sched_op_has(const spate_conf_node_t *task, const char *key);

/* ------------------------------------------------------------------ */
/* Staging (sched_op_stage.c): the staged_users table, SQLite or       */
/* PostgreSQL behind one small interface, testable on SQLite alone.    */
/* ------------------------------------------------------------------ */

/*
 * The staging table (same shape on both databases; timestamps are text
 * ISO 8601 UTC so both sort them the same way):
 *
 *   column            type     meaning
 *   id                TEXT PK  the user's login.uuid
 *   raw               TEXT     the API's result object (JSON)
 *   formatted         TEXT     spate_format_user's record (JSON)
 *   fetched_at        TEXT     when it was fetched
 *   run_id            TEXT     the DAG run that staged it
 *   published_at      TEXT     NULL until produced to Kafka
 *   kafka_topic       TEXT     \
 *   kafka_partition   INTEGER   } where it was produced (NULL before)
 *   kafka_offset      BIGINT   /
 *
 * Invariant: a row is inserted once (ON CONFLICT (id) DO NOTHING), so
 * restaging a user never clears its published state.
 */
typedef struct spate_stage spate_stage_t;

typedef struct {
    const char *id, *raw, *formatted, *fetched_at, *run_id;
} spate_stage_row_t;

typedef struct {
    char *id;        /* owned */
    char *formatted; /* owned */
    int32_t partition;
    int64_t offset;
} spate_stage_pending_t;

/* True when conn names PostgreSQL (postgres:// or postgresql:// or a
 * libpq "key=value" string). */
bool spate_stage_is_postgres(const char *conn);
/* A table name usable unquoted: [A-Za-z_][A-Za-z0-9_]{0,62}, optionally
 * "schema." before it. */
bool spate_stage_table_ok(const char *table);
/* The DDL (CREATE TABLE IF NOT EXISTS) and statements for `table`
 * appended to out; pure, for tests. */
spate_status_t spate_stage_sql_create(const char *table, spate_buf_t *out);
spate_status_t spate_stage_sql_insert(const char *table, bool pg, spate_buf_t *out);
spate_status_t spate_stage_sql_pending(const char *table, bool pg, spate_buf_t *out);
spate_status_t spate_stage_sql_mark(const char *table, bool pg, spate_buf_t *out);

/* Opens conn (SQLite path, "sqlite:PATH", or a PostgreSQL URL) and
 * creates the table if missing. The caller frees with _close. */
spate_status_t spate_stage_open(spate_stage_t **out, const char *conn, const char *table, char *err,
                                size_t errlen);
void spate_stage_close(spate_stage_t *s);
spate_status_t spate_stage_begin(spate_stage_t *s, char *err, size_t errlen);
spate_status_t spate_stage_commit(spate_stage_t *s, char *err, size_t errlen);
void spate_stage_rollback(spate_stage_t *s);
/* Inserts one row unless its id exists; *inserted says which. */
spate_status_t spate_stage_insert(spate_stage_t *s, const spate_stage_row_t *r, bool *inserted,
                                  char *err, size_t errlen);
/* Up to limit unpublished rows, oldest first (fetched_at, id); *n gets
 * the count. The caller frees rows with spate_stage_pending_free. */
spate_status_t spate_stage_pending(spate_stage_t *s, size_t limit, spate_stage_pending_t **rows,
                                   size_t *n, char *err, size_t errlen);
void spate_stage_pending_free(spate_stage_pending_t *rows, size_t n);
/* Marks one row published (call inside begin/commit). */
spate_status_t spate_stage_mark(spate_stage_t *s, const char *id, const char *published_at,
                                const char *topic, int32_t partition, int64_t offset, char *err,
                                size_t errlen);
/* Rows in the table, and of those unpublished (tests, logs). */
spate_status_t spate_stage_count(spate_stage_t *s, int64_t *total, int64_t *unpublished, char *err,
                                 size_t errlen);

/* ------------------------------------------------------------------ */
/* Kafka (sched_op_kafka.c): the idempotent producer both Kafka        */
/* operators use.                                                      */
/* ------------------------------------------------------------------ */

typedef struct spate_op_producer spate_op_producer_t;

/* Delivery report for message number `seq` (the order of _send). */
typedef struct {
    int32_t partition;
    int64_t offset;
    int err; /* rd_kafka_resp_err_t, 0 = delivered */
} spate_op_dr_t;

/* enable.idempotence=true, acks=all. A message not acknowledged within
 * msg_timeout_ms (0: 60 s) fails with a delivery report error. */
spate_status_t spate_op_producer_new(spate_op_producer_t **out, const char *bootstrap,
                                     const char *topic, int64_t msg_timeout_ms, char *err,
                                     size_t errlen);
/* Queues one message (copied); returns its sequence number in *seq. */
spate_status_t spate_op_producer_send(spate_op_producer_t *p, const char *key, size_t klen,
                                      const char *val, size_t vlen, size_t *seq, char *err,
                                      size_t errlen);
/* Waits until every queued message has its delivery report (or timeout):
 * SPATE_ERR when any failed (first reason in err). */
spate_status_t spate_op_producer_flush(spate_op_producer_t *p, int64_t timeout_ms, char *err,
                                       size_t errlen);
/* Report of message seq (valid after flush). */
const spate_op_dr_t *spate_op_producer_dr(const spate_op_producer_t *p, size_t seq);
/* Forgets the reports (sequence numbers start again at 0). */
void spate_op_producer_reset(spate_op_producer_t *p);
void spate_op_producer_free(spate_op_producer_t *p);

/* ------------------------------------------------------------------ */
/* CQL statement splitting (sched_op_cql.c)                            */
/* ------------------------------------------------------------------ */

typedef struct {
    size_t off, len; /* a trimmed, non-empty statement in the input */
} spate_sched_op_span_t;

/* Splits CQL text at ';' outside strings, quoted identifiers, $$ blocks
 * and comments; writes up to max spans (out may be NULL with max 0) and
 * returns how many statements there are. Pure. */
size_t spate_sched_op_cql_split(const char *s, size_t len, spate_sched_op_span_t *out, size_t max);

#endif /* SPATE_SCHED_OP_INT_H */
