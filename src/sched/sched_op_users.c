/*
 * sched_op_users.c — the seed pipeline's task types: users from a
 * randomuser API to Kafka, directly or through a staging table.
 *
 *   randomuser_to_kafka      fetch ─► format_user ─► produce (key = id)
 *   randomuser_to_postgres   fetch ─► stage (raw + formatted, by uuid)
 *   postgres_to_kafka        staged, unpublished ─► produce ─► mark
 *
 *   key        r_to_kafka      r_to_postgres    pg_to_kafka
 *   url        env randomuser  env randomuser   -
 *   count      one of count/   one of count/    -
 *   duration   duration        duration         -
 *   topic      users_created   -                users_created
 *   bootstrap  env kafka       -                env kafka
 *   conn       -               env postgres, else env sqlite (both)
 *   table      -               staged_users     staged_users
 *   batch      users/request   rows/transaction rows/round (1000)
 *
 * Delivery: every produced message has its delivery report before the
 * task succeeds (flush); one failed report fails the task. In
 * postgres_to_kafka the rows of a round are marked published (with the
 * partition and offset of their reports) in ONE transaction only after
 * every report of the round arrived: a crash in between republishes the
 * round (at least once; the stream job's upsert by id makes that
 * harmless). The Kafka key is the record's id (UUIDv5 of login.uuid), so
 * a user always lands in the same partition.
 */
#include "sched_op_int.h"

#include "source.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TOPIC "users_created"
#define DEFAULT_TABLE "staged_users"
#define FLUSH_TIMEOUT_MS 120000

static const char *const r2k_keys[] = {"url",   "count",     "duration", "topic",
                                       "batch", "bootstrap", NULL};
static const char *const r2p_keys[] = {"url", "count", "duration", "conn", "table", "batch", NULL};
static const char *const p2k_keys[] = {"conn", "table", "topic", "bootstrap", "batch", NULL};

static const char *task_name(const spate_conf_node_t *task) {
    const spate_conf_node_t *n = spate_conf_get(task, "task_id");
    return n && n->value ? n->value : "?";
}

static void check_amount(const spate_conf_t *c, const spate_conf_node_t *task,
                         spate_stream_diag_t *d) {
    bool hc = spate_sched_op_has(task, "count"), hd = spate_sched_op_has(task, "duration");
    if (hc && hd) {
        spate_stream_diag_at(d, c, spate_conf_get(task, "duration"),
                             "give count or duration, not both");
    } else if (!hc && !hd) {
        spate_stream_diag_at(d, c, task, "task '%s' needs key 'count' or 'duration'",
                             task_name(task));
    }
    spate_sched_op_check_int(c, task, "count", 1, INT64_C(1000000000), d);
    spate_sched_op_check_dur(c, task, "duration", d);
}

static void r2k_check(const spate_conf_t *c, const spate_conf_node_t *task,
                      spate_stream_diag_t *d) {
    check_amount(c, task, d);
    spate_sched_op_check_scalar(c, task, "url", false, d);
    spate_sched_op_check_scalar(c, task, "topic", false, d);
    spate_sched_op_check_scalar(c, task, "bootstrap", false, d);
    spate_sched_op_check_int(c, task, "batch", 1, SPATE_RU_MAX_RESULTS, d);
}

static void r2p_check(const spate_conf_t *c, const spate_conf_node_t *task,
                      spate_stream_diag_t *d) {
    check_amount(c, task, d);
    spate_sched_op_check_scalar(c, task, "url", false, d);
    spate_sched_op_check_scalar(c, task, "conn", false, d);
    spate_sched_op_check_scalar(c, task, "table", false, d);
    const spate_conf_node_t *t = spate_conf_get(task, "table");
    if (t && t->kind == SPATE_CONF_SCALAR && t->value && !strstr(t->value, "{{") &&
        !spate_stage_table_ok(t->value)) {
        spate_stream_diag_at(d, c, t, "expected a plain table name, got '%s'", t->value);
    }
    spate_sched_op_check_int(c, task, "batch", 1, SPATE_RU_MAX_RESULTS, d);
}

static void p2k_check(const spate_conf_t *c, const spate_conf_node_t *task,
                      spate_stream_diag_t *d) {
    spate_sched_op_check_scalar(c, task, "conn", false, d);
    spate_sched_op_check_scalar(c, task, "table", false, d);
    const spate_conf_node_t *t = spate_conf_get(task, "table");
    if (t && t->kind == SPATE_CONF_SCALAR && t->value && !strstr(t->value, "{{") &&
        !spate_stage_table_ok(t->value)) {
        spate_stream_diag_at(d, c, t, "expected a plain table name, got '%s'", t->value);
    }
    spate_sched_op_check_scalar(c, task, "topic", false, d);
    spate_sched_op_check_scalar(c, task, "bootstrap", false, d);
    spate_sched_op_check_int(c, task, "batch", 1, 1000000, d);
}

/* ------------------------------------------------------------------ */
/* Shared argument reading                                             */
/* ------------------------------------------------------------------ */

typedef struct {
    char *url, *topic, *bootstrap, *conn, *table;
    int64_t count;       /* 0 with duration */
    int64_t duration_ms; /* 0 with count */
    int64_t batch;
} args_t;

static void args_free(args_t *a) {
    free(a->url);
    free(a->topic);
    free(a->bootstrap);
    free(a->conn);
    free(a->table);
}

static int fail(const char *what, const char *err) {
    spate_log(SPATE_LOG_ERROR, SPATE_OP_LOG, "%s: %s", what, err);
    return 1;
}

/* The staging connection: the task's conn, else env postgres, else the
 * env SQLite file (else DATA_DIR/staging.db). */
static spate_status_t read_conn(const spate_sched_ti_ctx_t *ctx, args_t *a, char *err,
                                size_t errlen) {
    char *def = spate_sched_op_default_db(ctx->env);
    spate_status_t st = spate_sched_op_arg_or(ctx, "conn", def, &a->conn, err, errlen);
    free(def);
    if (st == SPATE_OK && a->conn == NULL) {
        snprintf(err, errlen, "no 'conn' and no postgres/sqlite connection configured");
        st = SPATE_EINVAL;
    }
    if (st == SPATE_OK) {
        st = spate_sched_op_arg_or(ctx, "table", DEFAULT_TABLE, &a->table, err, errlen);
    }
    return st;
}

static spate_status_t read_kafka(const spate_sched_ti_ctx_t *ctx, args_t *a, char *err,
                                 size_t errlen) {
    spate_status_t st = spate_sched_op_arg_or(ctx, "topic", DEFAULT_TOPIC, &a->topic, err, errlen);
    if (st != SPATE_OK) return st;
    st = spate_sched_op_arg_or(ctx, "bootstrap", ctx->env ? ctx->env->kafka : NULL, &a->bootstrap,
                               err, errlen);
    if (st == SPATE_OK && a->bootstrap == NULL) {
        snprintf(err, errlen, "no 'bootstrap' and no kafka connection configured");
        st = SPATE_EINVAL;
    }
    return st;
}

static spate_status_t read_fetch(const spate_sched_ti_ctx_t *ctx, args_t *a, char *err,
                                 size_t errlen) {
    spate_status_t st = spate_sched_op_arg_or(ctx, "url", ctx->env ? ctx->env->randomuser : NULL,
                                              &a->url, err, errlen);
    if (st != SPATE_OK) return st;
    if (a->url == NULL) {
        snprintf(err, errlen, "no 'url' and no randomuser connection configured");
        return SPATE_EINVAL;
    }
    st = spate_sched_op_arg_i64(ctx, "count", 1, INT64_C(1000000000), &a->count, err, errlen);
    if (st == SPATE_ENOENT) {
        st = spate_sched_op_arg_dur(ctx, "duration", &a->duration_ms, err, errlen);
        if (st == SPATE_ENOENT) {
            snprintf(err, errlen, "needs key 'count' or 'duration'");
            return SPATE_EINVAL;
        }
    }
    if (st != SPATE_OK) return st;
    st = spate_sched_op_arg_i64(ctx, "batch", 1, SPATE_RU_MAX_RESULTS, &a->batch, err, errlen);
    return st == SPATE_ENOENT ? SPATE_OK : st;
}

/* Fetch settings for count or duration: a duration fetches "forever" and
 * the callback stops at the deadline. */
static void fetch_conf(const args_t *a, spate_fetch_conf_t *fc) {
    spate_fetch_conf_default(fc);
    fc->url = a->url;
    if (a->count > 0) {
        fc->count = a->count;
        fc->batch = (int)SPATE_MIN(a->batch > 0 ? a->batch : SPATE_RU_MAX_RESULTS, a->count);
    } else {
        fc->count = INT64_MAX / 2;
        fc->batch = (int)(a->batch > 0 ? a->batch : 100);
    }
}

/* The record's "id" from format_user's JSON (malloc'd), or NULL. */
static char *record_id(const char *json, size_t len) {
    json_t *o = json_loadb(json, len, 0, NULL);
    const char *id = json_string_value(json_object_get(o, "id"));
    char *out = id ? spate_xstrdup(id) : NULL;
    json_decref(o);
    return out;
}

/* ------------------------------------------------------------------ */
/* randomuser_to_kafka                                                 */
/* ------------------------------------------------------------------ */

typedef struct {
    spate_op_producer_t *prod;
    spate_buf_t rec;
    int64_t deadline_ms; /* mono; 0 = count mode */
    bool timed_out;
    int64_t produced, skipped;
    char err[512];
} r2k_t;

static spate_status_t r2k_user(void *vctx, const json_t *result) {
    r2k_t *k = vctx;
    if (k->deadline_ms && spate_mono_ms() >= k->deadline_ms) {
        k->timed_out = true;
        return SPATE_ETIMEDOUT;
    }
    char why[256];
    spate_buf_reset(&k->rec);
    if (spate_format_user(result, &k->rec, why, sizeof why) != SPATE_OK) {
        k->skipped++;
        spate_log(SPATE_LOG_WARN, SPATE_OP_LOG, "skipping a user: %s", why);
        return SPATE_OK;
    }
    char *id = record_id(k->rec.data, k->rec.len);
    spate_status_t st = spate_op_producer_send(k->prod, id, id ? strlen(id) : 0, k->rec.data,
                                               k->rec.len, NULL, k->err, sizeof k->err);
    free(id);
    if (st != SPATE_OK) return st;
    k->produced++;
    return SPATE_OK;
}

static int r2k_run(const spate_sched_ti_ctx_t *ctx) {
    args_t a = {0};
    char err[512] = "";
    r2k_t k = {0};
    int rc = 1;
    if (read_fetch(ctx, &a, err, sizeof err) != SPATE_OK ||
        read_kafka(ctx, &a, err, sizeof err) != SPATE_OK) {
        rc = fail("randomuser_to_kafka", err);
        goto out;
    }
    if (spate_op_producer_new(&k.prod, a.bootstrap, a.topic, 0, err, sizeof err) != SPATE_OK) {
        rc = fail("randomuser_to_kafka", err);
        goto out;
    }
    if (a.count > 0) {
        spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "fetching %lld users from %s to topic %s at %s",
                  (long long)a.count, a.url, a.topic, a.bootstrap);
    } else {
        spate_log(SPATE_LOG_INFO, SPATE_OP_LOG,
                  "fetching users for %lld ms from %s to topic %s at %s", (long long)a.duration_ms,
                  a.url, a.topic, a.bootstrap);
        k.deadline_ms = spate_mono_ms() + a.duration_ms;
    }
    spate_fetch_conf_t fc;
    fetch_conf(&a, &fc);
    spate_fetch_stats_t fs;
    spate_status_t st = spate_fetch_run(&fc, r2k_user, &k, &fs, err, sizeof err);
    if (st != SPATE_OK && !k.timed_out) {
        if (k.err[0]) snprintf(err, sizeof err, "%s", k.err);
        /* Deliver what was produced before failing: the log then says
         * how far it got. */
        char ferr[256];
        (void)spate_op_producer_flush(k.prod, FLUSH_TIMEOUT_MS, ferr, sizeof ferr);
        spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "users fetched %lld, produced %lld",
                  (long long)fs.users, (long long)k.produced);
        rc = fail("randomuser_to_kafka: fetch", err);
        goto out;
    }
    if (spate_op_producer_flush(k.prod, FLUSH_TIMEOUT_MS, err, sizeof err) != SPATE_OK) {
        rc = fail("randomuser_to_kafka: produce", err);
        goto out;
    }
    spate_log(SPATE_LOG_INFO, SPATE_OP_LOG,
              "users fetched %lld, produced %lld (skipped %lld), %lld requests (%lld retries) "
              "in %lld ms",
              (long long)fs.users, (long long)k.produced, (long long)k.skipped,
              (long long)fs.requests, (long long)fs.retries, (long long)fs.elapsed_ms);
    rc = 0;
out:
    spate_op_producer_free(k.prod);
    spate_buf_free(&k.rec);
    args_free(&a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* randomuser_to_postgres                                              */
/* ------------------------------------------------------------------ */

typedef struct {
    spate_stage_t *stage;
    const char *run_id;
    int64_t batch;
    int64_t in_txn; /* rows in the open transaction */
    bool open;      /* a transaction is open */
    int64_t deadline_ms;
    bool timed_out;
    int64_t inserted, existing, skipped;
    spate_buf_t rec;
    char err[512];
} r2p_t;

static spate_status_t r2p_user(void *vctx, const json_t *result) {
    r2p_t *p = vctx;
    if (p->deadline_ms && spate_mono_ms() >= p->deadline_ms) {
        p->timed_out = true;
        return SPATE_ETIMEDOUT;
    }
    char why[256];
    const char *uuid = json_string_value(json_object_get(json_object_get(result, "login"), "uuid"));
    spate_buf_reset(&p->rec);
    if (uuid == NULL || spate_format_user(result, &p->rec, why, sizeof why) != SPATE_OK) {
        p->skipped++;
        spate_log(SPATE_LOG_WARN, SPATE_OP_LOG, "skipping a user: %s",
                  uuid ? why : "no login.uuid");
        return SPATE_OK;
    }
    char *raw = spate_json_dumps(result, JSON_COMPACT);
    if (raw == NULL) return SPATE_ENOMEM;
    char now[25];
    spate_time_iso8601(spate_wall_ms(), now);
    spate_status_t st = SPATE_OK;
    if (!p->open) {
        st = spate_stage_begin(p->stage, p->err, sizeof p->err);
        p->open = st == SPATE_OK;
    }
    if (st == SPATE_OK) {
        spate_stage_row_t row = {uuid, raw, p->rec.data, now, p->run_id};
        bool ins = false;
        st = spate_stage_insert(p->stage, &row, &ins, p->err, sizeof p->err);
        if (st == SPATE_OK) {
            if (ins) {
                p->inserted++;
            } else {
                p->existing++;
            }
            if (++p->in_txn >= p->batch) {
                st = spate_stage_commit(p->stage, p->err, sizeof p->err);
                p->open = false;
                p->in_txn = 0;
            }
        }
    }
    free(raw);
    return st;
}

static int r2p_run(const spate_sched_ti_ctx_t *ctx) {
    args_t a = {0};
    char err[512] = "";
    r2p_t p = {0};
    int rc = 1;
    if (read_fetch(ctx, &a, err, sizeof err) != SPATE_OK ||
        read_conn(ctx, &a, err, sizeof err) != SPATE_OK) {
        rc = fail("randomuser_to_postgres", err);
        goto out;
    }
    bool pg = spate_stage_is_postgres(a.conn);
    if (spate_stage_open(&p.stage, a.conn, a.table, err, sizeof err) != SPATE_OK) {
        rc = fail("randomuser_to_postgres", err);
        goto out;
    }
    p.run_id = ctx->run_id;
    p.batch = a.batch > 0 ? a.batch : 1000;
    if (a.count > 0) {
        spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "fetching %lld users from %s into %s table %s",
                  (long long)a.count, a.url, pg ? "PostgreSQL" : "SQLite", a.table);
    } else {
        spate_log(SPATE_LOG_INFO, SPATE_OP_LOG,
                  "fetching users for %lld ms from %s into %s table %s", (long long)a.duration_ms,
                  a.url, pg ? "PostgreSQL" : "SQLite", a.table);
        p.deadline_ms = spate_mono_ms() + a.duration_ms;
    }
    spate_fetch_conf_t fc;
    fetch_conf(&a, &fc);
    spate_fetch_stats_t fs;
    spate_status_t st = spate_fetch_run(&fc, r2p_user, &p, &fs, err, sizeof err);
    if (st != SPATE_OK && !p.timed_out) {
        if (p.err[0]) snprintf(err, sizeof err, "%s", p.err);
        if (p.open) spate_stage_rollback(p.stage);
        spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "users fetched %lld, staged %lld before failing",
                  (long long)fs.users, (long long)(p.inserted + p.existing));
        rc = fail("randomuser_to_postgres", err);
        goto out;
    }
    if (p.open && spate_stage_commit(p.stage, err, sizeof err) != SPATE_OK) {
        spate_stage_rollback(p.stage);
        rc = fail("randomuser_to_postgres: commit", err);
        goto out;
    }
    int64_t total = 0, unpub = 0;
    (void)spate_stage_count(p.stage, &total, &unpub, err, sizeof err);
    spate_log(SPATE_LOG_INFO, SPATE_OP_LOG,
              "users fetched %lld: %lld new, %lld already staged, %lld skipped; table %s has "
              "%lld rows (%lld unpublished); %lld requests in %lld ms",
              (long long)fs.users, (long long)p.inserted, (long long)p.existing,
              (long long)p.skipped, a.table, (long long)total, (long long)unpub,
              (long long)fs.requests, (long long)fs.elapsed_ms);
    rc = 0;
out:
    spate_stage_close(p.stage);
    spate_buf_free(&p.rec);
    args_free(&a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* postgres_to_kafka                                                   */
/* ------------------------------------------------------------------ */

static int p2k_run(const spate_sched_ti_ctx_t *ctx) {
    args_t a = {0};
    char err[512] = "";
    spate_stage_t *stage = NULL;
    spate_op_producer_t *prod = NULL;
    spate_stage_pending_t *rows = NULL;
    size_t n = 0;
    int rc = 1;
    if (read_conn(ctx, &a, err, sizeof err) != SPATE_OK ||
        read_kafka(ctx, &a, err, sizeof err) != SPATE_OK) {
        rc = fail("postgres_to_kafka", err);
        goto out;
    }
    spate_status_t st = spate_sched_op_arg_i64(ctx, "batch", 1, 1000000, &a.batch, err, sizeof err);
    if (st == SPATE_ENOENT) a.batch = 1000;
    if (st != SPATE_OK && st != SPATE_ENOENT) {
        rc = fail("postgres_to_kafka", err);
        goto out;
    }
    if (spate_stage_open(&stage, a.conn, a.table, err, sizeof err) != SPATE_OK ||
        spate_op_producer_new(&prod, a.bootstrap, a.topic, 0, err, sizeof err) != SPATE_OK) {
        rc = fail("postgres_to_kafka", err);
        goto out;
    }
    spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "publishing unpublished rows of %s (%s) to %s at %s",
              a.table, spate_stage_is_postgres(a.conn) ? "PostgreSQL" : "SQLite", a.topic,
              a.bootstrap);
    int64_t t0 = spate_mono_ms(), published = 0, rounds = 0;
    for (;;) {
        if (spate_stage_pending(stage, (size_t)a.batch, &rows, &n, err, sizeof err) != SPATE_OK) {
            rc = fail("postgres_to_kafka: select", err);
            goto out;
        }
        if (n == 0) break;
        rounds++;
        spate_op_producer_reset(prod);
        for (size_t i = 0; i < n; i++) {
            size_t flen = strlen(rows[i].formatted);
            char *id = record_id(rows[i].formatted, flen);
            const char *key = id ? id : rows[i].id;
            st = spate_op_producer_send(prod, key, strlen(key), rows[i].formatted, flen, NULL, err,
                                        sizeof err);
            free(id);
            if (st != SPATE_OK) {
                rc = fail("postgres_to_kafka: produce", err);
                goto out;
            }
        }
        if (spate_op_producer_flush(prod, FLUSH_TIMEOUT_MS, err, sizeof err) != SPATE_OK) {
            rc = fail("postgres_to_kafka: delivery (rows left unpublished)", err);
            goto out;
        }
        char now[25];
        spate_time_iso8601(spate_wall_ms(), now);
        if (spate_stage_begin(stage, err, sizeof err) != SPATE_OK) {
            rc = fail("postgres_to_kafka: begin", err);
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            const spate_op_dr_t *dr = spate_op_producer_dr(prod, i);
            if (spate_stage_mark(stage, rows[i].id, now, a.topic, dr->partition, dr->offset, err,
                                 sizeof err) != SPATE_OK) {
                spate_stage_rollback(stage);
                rc = fail("postgres_to_kafka: mark", err);
                goto out;
            }
        }
        if (spate_stage_commit(stage, err, sizeof err) != SPATE_OK) {
            spate_stage_rollback(stage);
            rc = fail("postgres_to_kafka: commit", err);
            goto out;
        }
        published += (int64_t)n;
        spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "round %lld: %zu rows produced and marked",
                  (long long)rounds, n);
        spate_stage_pending_free(rows, n);
        rows = NULL;
        n = 0;
    }
    spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "published %lld rows in %lld round(s), %lld ms",
              (long long)published, (long long)rounds, (long long)(spate_mono_ms() - t0));
    rc = 0;
out:
    spate_stage_pending_free(rows, n);
    spate_op_producer_free(prod);
    spate_stage_close(stage);
    args_free(&a);
    return rc;
}

const spate_sched_op_t spate_sched_op_randomuser_to_kafka = {
    .name = "randomuser_to_kafka",
    .keys = r2k_keys,
    .check = r2k_check,
    .run = r2k_run,
};

const spate_sched_op_t spate_sched_op_randomuser_to_postgres = {
    .name = "randomuser_to_postgres",
    .keys = r2p_keys,
    .check = r2p_check,
    .run = r2p_run,
};

const spate_sched_op_t spate_sched_op_postgres_to_kafka = {
    .name = "postgres_to_kafka",
    .keys = p2k_keys,
    .check = p2k_check,
    .run = p2k_run,
};
