/*
 * sched_template.c — "{{ name }}" placeholders in task arguments, filled
 * from one task instance's context (spate_sched_ti_ctx_t), with the names
 * and spellings Airflow's templates use:
 *
 *   name                               example (logical date 2026-11-01 06:30)
 *   ds                                 2026-11-01
 *   ds_nodash                          20261101
 *   ts, logical_date                   2026-11-01T06:30:00+00:00
 *   data_interval_start / _end         (same form)
 *   ts_nodash                          20261101T063000
 *   run_id                             scheduled__2026-11-01T06:30:00+00:00
 *   dag_id, dag.dag_id                 user_automation
 *   task_id, task.task_id              stage_users
 *   try_number, ti.try_number          1
 *   params.NAME[.NAME...]              a scalar under the DAG's params map
 *
 * Times with a millisecond part print it as Python's isoformat does
 * (".123000"). There is no expression language: a placeholder is one name
 * with optional spaces around it. Text outside placeholders is copied as
 * is, including a lone "}}". Pure: no allocation besides `out`.
 */
#include "sched.h"

#include <stdio.h>
#include <string.h>

#define TPL_NAME_MAX 200

static bool fmt_ts(int64_t ms, bool nodash, spate_buf_t *out) {
    spate_civil_t c;
    spate_time_civil(ms, &c);
    int s = c.ms_of_day / 1000, frac = c.ms_of_day % 1000;
    spate_status_t st;
    if (nodash)
        st = spate_buf_printf(out, "%04d%02d%02dT%02d%02d%02d", c.year, c.month, c.day, s / 3600,
                              s / 60 % 60, s % 60);
    else if (frac)
        st = spate_buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03d000+00:00", c.year, c.month,
                              c.day, s / 3600, s / 60 % 60, s % 60, frac);
    else
        st = spate_buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d+00:00", c.year, c.month, c.day,
                              s / 3600, s / 60 % 60, s % 60);
    return st == SPATE_OK;
}

static bool fmt_ds(int64_t ms, bool nodash, spate_buf_t *out) {
    spate_civil_t c;
    spate_time_civil(ms, &c);
    return spate_buf_printf(out, nodash ? "%04d%02d%02d" : "%04d-%02d-%02d", c.year, c.month,
                            c.day) == SPATE_OK;
}

/* Looks up params.a.b... ; returns the scalar's text or NULL (err set). */
static const char *param_value(const spate_sched_ti_ctx_t *ctx, const char *path, char *err,
                               size_t errlen) {
    const spate_conf_node_t *n = ctx->dag ? ctx->dag->params : NULL;
    const char *p = path;
    while (n != NULL) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        const spate_conf_node_t *hit = NULL;
        if (n->kind != SPATE_CONF_MAP) { /* a name below a scalar or list */
            n = NULL;
            break;
        }
        for (const spate_conf_node_t *k = n->child; k; k = k->next)
            if (k->key && strlen(k->key) == len && memcmp(k->key, p, len) == 0) hit = k;
        n = hit;
        if (n == NULL || dot == NULL) break;
        p = dot + 1;
    }
    if (n == NULL) {
        snprintf(err, errlen, "unknown template variable 'params.%s' (no such param)", path);
        return NULL;
    }
    if (n->kind != SPATE_CONF_SCALAR) {
        snprintf(err, errlen, "template variable 'params.%s' is not a single value", path);
        return NULL;
    }
    return n->value ? n->value : "";
}

/* Appends the value of one name. */
static spate_status_t put_name(const char *name, const spate_sched_ti_ctx_t *ctx, spate_buf_t *out,
                               char *err, size_t errlen) {
    const char *s = NULL;
    bool ok = true, known = true;
    if (strcmp(name, "ds") == 0)
        ok = fmt_ds(ctx->logical_date_ms, false, out);
    else if (strcmp(name, "ds_nodash") == 0)
        ok = fmt_ds(ctx->logical_date_ms, true, out);
    else if (strcmp(name, "ts") == 0 || strcmp(name, "logical_date") == 0)
        ok = fmt_ts(ctx->logical_date_ms, false, out);
    else if (strcmp(name, "ts_nodash") == 0)
        ok = fmt_ts(ctx->logical_date_ms, true, out);
    else if (strcmp(name, "data_interval_start") == 0)
        ok = fmt_ts(ctx->data_interval_start_ms, false, out);
    else if (strcmp(name, "data_interval_end") == 0)
        ok = fmt_ts(ctx->data_interval_end_ms, false, out);
    else if (strcmp(name, "try_number") == 0 || strcmp(name, "ti.try_number") == 0)
        ok = spate_buf_printf(out, "%d", ctx->try_number) == SPATE_OK;
    else if (strcmp(name, "run_id") == 0) {
        s = ctx->run_id;
        if (s == NULL) goto missing;
    } else if (strcmp(name, "dag_id") == 0 || strcmp(name, "dag.dag_id") == 0) {
        if (ctx->dag == NULL) goto missing;
        s = ctx->dag->dag_id;
    } else if (strcmp(name, "task_id") == 0 || strcmp(name, "task.task_id") == 0) {
        if (ctx->task == NULL) goto missing;
        s = ctx->task->id;
    } else if (strncmp(name, "params.", 7) == 0 && name[7] != '\0') {
        s = param_value(ctx, name + 7, err, errlen);
        if (s == NULL) return SPATE_EINVAL;
    } else
        known = false;
    if (!known) {
        snprintf(err, errlen, "unknown template variable '%s'", name);
        return SPATE_EINVAL;
    }
    if (s != NULL) ok = spate_buf_puts(out, s) == SPATE_OK;
    return ok ? SPATE_OK : SPATE_ENOMEM;
missing:
    snprintf(err, errlen, "template variable '%s' is not available here", name);
    return SPATE_EINVAL;
}

spate_status_t spate_sched_render(const char *tmpl, const spate_sched_ti_ctx_t *ctx,
                                  spate_buf_t *out, char *err, size_t errlen) {
    char dummy[8];
    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    const char *p = tmpl ? tmpl : "";
    for (;;) {
        const char *open = strstr(p, "{{");
        if (open == NULL) return spate_buf_puts(out, p);
        if (spate_buf_append(out, p, (size_t)(open - p)) != SPATE_OK) return SPATE_ENOMEM;
        const char *b = open + 2;
        const char *close = strstr(b, "}}");
        if (close == NULL) {
            snprintf(err, errlen, "unclosed '{{' at offset %zu", (size_t)(open - tmpl));
            return SPATE_EINVAL;
        }
        while (b < close && (*b == ' ' || *b == '\t')) b++;
        const char *e = close;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t')) e--;
        size_t len = (size_t)(e - b);
        if (len == 0) {
            snprintf(err, errlen, "empty '{{ }}' at offset %zu", (size_t)(open - tmpl));
            return SPATE_EINVAL;
        }
        if (len > TPL_NAME_MAX) {
            snprintf(err, errlen, "template variable too long at offset %zu",
                     (size_t)(open - tmpl));
            return SPATE_EINVAL;
        }
        char name[TPL_NAME_MAX + 1];
        memcpy(name, b, len);
        name[len] = '\0';
        spate_status_t st = put_name(name, ctx, out, err, errlen);
        if (st != SPATE_OK) return st;
        p = close + 2;
    }
}
