/*
 * sched_op.c — the operator registry (task `type:` → spate_sched_op_t)
 * and the argument helpers every operator shares.
 *
 *   type                    file                      what one try does
 *   shell                   sched_op_shell.c          /bin/sh -c command
 *   http                    sched_op_http.c           one request, status checked
 *   sql                     sched_op_sql.c            statements on PostgreSQL/SQLite
 *   cql                     sched_op_cql.c            statements on a CQL server
 *   randomuser_to_kafka     sched_op_users.c          fetch users → Kafka topic
 *   randomuser_to_postgres  sched_op_users.c          fetch users → staging table
 *   postgres_to_kafka       sched_op_users.c          staging table → Kafka topic
 *
 * Shared by the last three: sched_op_stage.c (the staging table on
 * SQLite or PostgreSQL) and sched_op_kafka.c (the idempotent producer).
 *
 * The table is static and ordered by name as users see it in docs and
 * messages; lookups are a linear scan (seven entries).
 *
 * Arguments: a task's keys are read from its map at run time and every
 * scalar is rendered (spate_sched_render) first, so a key may be a
 * template ("{{ params.count }}"). Load-time checks only look at shapes
 * and at values that contain no template.
 */
#include "sched_op_int.h"

#include <stdlib.h>
#include <string.h>

static const spate_sched_op_t *const ops[] = {
    &spate_sched_op_shell,
    &spate_sched_op_http,
    &spate_sched_op_sql,
    &spate_sched_op_cql,
    &spate_sched_op_randomuser_to_kafka,
    &spate_sched_op_randomuser_to_postgres,
    &spate_sched_op_postgres_to_kafka,
    &spate_sched_op_empty,
    NULL,
};

const spate_sched_op_t *spate_sched_op_find(const char *type) {
    if (type == NULL) return NULL;
    for (size_t i = 0; ops[i] != NULL; i++) {
        if (strcmp(ops[i]->name, type) == 0) return ops[i];
    }
    return NULL;
}

const spate_sched_op_t *const *spate_sched_ops(void) { return ops; }

/* ------------------------------------------------------------------ */
/* Run-time arguments                                                  */
/* ------------------------------------------------------------------ */

bool spate_sched_op_is_null(const spate_conf_node_t *n) {
    if (n == NULL) return true;
    if (n->kind != SPATE_CONF_SCALAR || n->quoted) return false;
    const char *v = n->value ? n->value : "";
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

char *spate_sched_op_default_db(const spate_sched_env_t *env) {
    if (env == NULL) return NULL;
    if (env->postgres) return spate_xstrdup(env->postgres);
    if (env->sqlite) return spate_xstrdup(env->sqlite);
    if (env->data_dir == NULL) return NULL;
    spate_buf_t b = SPATE_BUF_INIT;
    if (spate_buf_printf(&b, "%s/staging.db", env->data_dir) != SPATE_OK) {
        spate_buf_free(&b);
        return NULL;
    }
    return spate_buf_detach(&b, NULL);
}

bool spate_sched_op_has(const spate_conf_node_t *task, const char *key) {
    const spate_conf_node_t *n = task ? spate_conf_get(task, key) : NULL;
    return n != NULL && !spate_sched_op_is_null(n);
}

spate_status_t spate_sched_op_render(const spate_sched_ti_ctx_t *ctx, const char *tmpl,
                                     spate_buf_t *out, char *err, size_t errlen) {
    spate_buf_reset(out);
    /* Plain text needs no renderer: keeps tmpl-free arguments working
     * even where no run context exists. */
    if (strstr(tmpl, "{{") == NULL) {
        if (spate_buf_puts(out, tmpl) != SPATE_OK) {
            snprintf(err, errlen, "out of memory");
            return SPATE_ENOMEM;
        }
        return SPATE_OK;
    }
    char rerr[256] = "";
    spate_status_t st = spate_sched_render(tmpl, ctx, out, rerr, sizeof rerr);
    if (st != SPATE_OK) snprintf(err, errlen, "template '%s': %s", tmpl, rerr);
    return st;
}

spate_status_t spate_sched_op_arg(const spate_sched_ti_ctx_t *ctx, const char *key,
                                  spate_buf_t *out, char *err, size_t errlen) {
    spate_buf_reset(out);
    const spate_conf_node_t *n = ctx->task->node ? spate_conf_get(ctx->task->node, key) : NULL;
    if (spate_sched_op_is_null(n)) return SPATE_ENOENT;
    if (n->kind != SPATE_CONF_SCALAR) {
        snprintf(err, errlen, "key '%s': expected a scalar", key);
        return SPATE_EINVAL;
    }
    spate_status_t st = spate_sched_op_render(ctx, n->value, out, err, errlen);
    if (st != SPATE_OK) {
        char tmp[512];
        snprintf(tmp, sizeof tmp, "key '%s': %s", key, err);
        snprintf(err, errlen, "%s", tmp);
    }
    return st;
}

spate_status_t spate_sched_op_arg_or(const spate_sched_ti_ctx_t *ctx, const char *key,
                                     const char *def, char **out, char *err, size_t errlen) {
    spate_buf_t b = SPATE_BUF_INIT;
    *out = NULL;
    spate_status_t st = spate_sched_op_arg(ctx, key, &b, err, errlen);
    if (st == SPATE_ENOENT) {
        spate_buf_free(&b);
        if (def != NULL) *out = spate_xstrdup(def);
        return SPATE_OK;
    }
    if (st != SPATE_OK) {
        spate_buf_free(&b);
        return st;
    }
    *out = spate_buf_detach(&b, NULL);
    return SPATE_OK;
}

spate_status_t spate_sched_op_arg_i64(const spate_sched_ti_ctx_t *ctx, const char *key, int64_t min,
                                      int64_t max, int64_t *v, char *err, size_t errlen) {
    spate_buf_t b = SPATE_BUF_INIT;
    spate_status_t st = spate_sched_op_arg(ctx, key, &b, err, errlen);
    if (st == SPATE_OK && spate_parse_i64(b.data, min, max, v) != SPATE_OK) {
        snprintf(err, errlen, "key '%s': expected an integer in [%lld, %lld], got '%s'", key,
                 (long long)min, (long long)max, b.data);
        st = SPATE_EINVAL;
    }
    spate_buf_free(&b);
    return st;
}

spate_status_t spate_sched_op_arg_dur(const spate_sched_ti_ctx_t *ctx, const char *key, int64_t *ms,
                                      char *err, size_t errlen) {
    spate_buf_t b = SPATE_BUF_INIT;
    spate_status_t st = spate_sched_op_arg(ctx, key, &b, err, errlen);
    if (st == SPATE_OK) {
        int64_t v = 0;
        if (spate_sched_parse_duration(b.data, &v) != SPATE_OK || v <= 0) {
            snprintf(err, errlen, "key '%s': expected a duration (30s, 5m, 2h), got '%s'", key,
                     b.data);
            st = SPATE_EINVAL;
        } else {
            *ms = v;
        }
    }
    spate_buf_free(&b);
    return st;
}

/* ------------------------------------------------------------------ */
/* Load-time checks                                                    */
/* ------------------------------------------------------------------ */

static const spate_conf_node_t *scalar_at(const spate_conf_t *c, const spate_conf_node_t *task,
                                          const char *key, bool required, spate_stream_diag_t *d) {
    const spate_conf_node_t *n = spate_conf_get(task, key);
    if (spate_sched_op_is_null(n)) {
        if (required) {
            const spate_conf_node_t *id = spate_conf_get(task, "task_id");
            spate_stream_diag_at(d, c, task, "task '%s' needs key '%s'",
                                 id && id->value ? id->value : "?", key);
        }
        return NULL;
    }
    if (n->kind != SPATE_CONF_SCALAR) {
        spate_stream_diag_at(d, c, n, "expected a scalar");
        return NULL;
    }
    return n;
}

void spate_sched_op_check_scalar(const spate_conf_t *c, const spate_conf_node_t *task,
                                 const char *key, bool required, spate_stream_diag_t *d) {
    (void)scalar_at(c, task, key, required, d);
}

void spate_sched_op_check_int(const spate_conf_t *c, const spate_conf_node_t *task, const char *key,
                              int64_t min, int64_t max, spate_stream_diag_t *d) {
    const spate_conf_node_t *n = scalar_at(c, task, key, false, d);
    if (n == NULL || strstr(n->value, "{{") != NULL) return;
    int64_t v;
    if (spate_parse_i64(n->value, min, max, &v) != SPATE_OK) {
        spate_stream_diag_at(d, c, n, "expected an integer in [%lld, %lld], got '%s'",
                             (long long)min, (long long)max, n->value);
    }
}

void spate_sched_op_check_dur(const spate_conf_t *c, const spate_conf_node_t *task, const char *key,
                              spate_stream_diag_t *d) {
    const spate_conf_node_t *n = scalar_at(c, task, key, false, d);
    if (n == NULL || strstr(n->value, "{{") != NULL) return;
    int64_t v = 0;
    if (spate_sched_parse_duration(n->value, &v) != SPATE_OK || v <= 0) {
        spate_stream_diag_at(d, c, n, "expected a duration (30s, 5m, 2h), got '%s'", n->value);
    }
}

void spate_sched_op_check_map(const spate_conf_t *c, const spate_conf_node_t *task, const char *key,
                              spate_stream_diag_t *d) {
    const spate_conf_node_t *n = spate_conf_get(task, key);
    if (spate_sched_op_is_null(n)) return;
    if (n->kind != SPATE_CONF_MAP) {
        spate_stream_diag_at(d, c, n, "expected a map");
        return;
    }
    for (const spate_conf_node_t *e = n->child; e != NULL; e = e->next) {
        if (e->kind != SPATE_CONF_SCALAR) {
            spate_stream_diag_at(d, c, e, "expected a scalar value");
        }
    }
}
