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
 *   params.NAME[.NAME...]              a scalar under the DAG's params map,
 *                                      or under the run's conf when its
 *                                      top-level key NAME is there
 *   dag_run.conf.NAME[.NAME...]        a scalar of the run's conf
 *   dag_run.conf                       the whole conf, compact JSON
 *
 * The run's conf (Airflow's dag_run.conf) is a JSON object given when the
 * run was triggered; ctx->conf_json holds it as text. Like Airflow with
 * dag_run_conf_overrides_params (its default), a top-level conf key
 * replaces the DAG's param of that name whole, and a conf key the DAG has
 * no param for is a param too:
 *
 *   params (YAML)  {count: 1000, topic: users}
 *   conf           {"count": 300, "extra": {"a": 1}}
 *   {{ params.count }} → 300   {{ params.topic }} → users
 *   {{ params.extra.a }} → 1   {{ dag_run.conf.count }} → 300
 *
 * Conf values print as Airflow's Jinja prints Python values: strings as
 * they are, numbers as JSON writes them, true/false/null as True/False/
 * None; an object or array is "not a single value" (an error), as a
 * params map is.
 *
 * Times with a millisecond part print it as Python's isoformat does
 * (".123000"). There is no expression language: a placeholder is one name
 * with optional spaces around it. Text outside placeholders is copied as
 * is, including a lone "}}". No side effects besides `out` (the conf is
 * parsed with jansson per placeholder that reads it, and freed).
 */
#include "sched.h"
#include "source.h" /* spate_json_dumps */

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONF_MAX_DEPTH 32 /* nesting a run's conf may have */

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

/* ------------------------------------------------------------------ */
/* The run's conf                                                      */
/* ------------------------------------------------------------------ */

/* Objects and arrays nest at most CONF_MAX_DEPTH deep (the outer object
 * is level 1; scalars add none). */
static bool depth_ok(const json_t *v, int depth) {
    if (!json_is_object(v) && !json_is_array(v)) return true;
    if (depth > CONF_MAX_DEPTH) return false;
    if (json_is_object(v)) {
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            if (!depth_ok(x, depth + 1)) return false;
        }
    } else if (json_is_array(v)) {
        size_t i;
        const json_t *x;
        json_array_foreach(v, i, x) {
            if (!depth_ok(x, depth + 1)) return false;
        }
    }
    return true;
}

spate_status_t spate_sched_run_conf_parse(const char *text, size_t len, char *out, size_t cap,
                                          char *err, size_t errlen) {
    char dummy[8];
    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    if (cap < 3) {
        snprintf(err, errlen, "conf: no room");
        return SPATE_EINVAL;
    }
    if (text == NULL || len == 0) {
        memcpy(out, "{}", 3);
        return SPATE_OK;
    }
    json_error_t je;
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (v == NULL) {
        snprintf(err, errlen, "conf is not valid JSON: %s (at offset %d)", je.text, je.position);
        return SPATE_EINVAL;
    }
    spate_status_t st = SPATE_EINVAL;
    char *dump = NULL;
    if (!json_is_object(v)) {
        snprintf(err, errlen, "conf must be a JSON object ({\"name\": value, ...})");
    } else if (!depth_ok(v, 1)) {
        snprintf(err, errlen, "conf is nested more than %d levels deep", CONF_MAX_DEPTH);
    } else if ((dump = spate_json_dumps(v, JSON_COMPACT)) == NULL) {
        snprintf(err, errlen, "conf: cannot encode");
        st = SPATE_ENOMEM;
    } else if (strlen(dump) >= cap) {
        snprintf(err, errlen, "conf is %zu bytes as compact JSON; at most %zu", strlen(dump),
                 cap - 1);
    } else {
        memcpy(out, dump, strlen(dump) + 1);
        st = SPATE_OK;
    }
    free(dump);
    json_decref(v);
    return st;
}

/* Appends the conf value at dotted path (below the object) to out. what
 * names the variable in messages ("dag_run.conf." or "params."). */
static spate_status_t conf_value(const json_t *conf, const char *path, const char *what,
                                 spate_buf_t *out, char *err, size_t errlen) {
    const json_t *v = conf;
    const char *p = path;
    while (v != NULL) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (!json_is_object(v) || len == 0) {
            v = NULL;
            break;
        }
        const json_t *hit = json_object_getn(v, p, len);
        v = hit;
        if (v == NULL || dot == NULL) break;
        p = dot + 1;
    }
    if (v == NULL) {
        snprintf(err, errlen, "unknown template variable '%s%s' (not in the run's conf)", what,
                 path);
        return SPATE_EINVAL;
    }
    spate_status_t st = SPATE_OK;
    if (json_is_string(v)) {
        st = spate_buf_append(out, json_string_value(v), json_string_length(v));
    } else if (json_is_true(v)) {
        st = spate_buf_puts(out, "True");
    } else if (json_is_false(v)) {
        st = spate_buf_puts(out, "False");
    } else if (json_is_null(v)) {
        st = spate_buf_puts(out, "None");
    } else if (json_is_number(v)) {
        char *t = spate_json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
        st = t ? spate_buf_puts(out, t) : SPATE_ENOMEM;
        free(t);
    } else {
        snprintf(err, errlen, "template variable '%s%s' is not a single value", what, path);
        return SPATE_EINVAL;
    }
    return st == SPATE_OK ? SPATE_OK : SPATE_ENOMEM;
}

/* The run's conf parsed, or NULL with err set (an empty conf is {}).
 * The caller json_decref()s it. */
static json_t *conf_load(const spate_sched_ti_ctx_t *ctx, char *err, size_t errlen) {
    const char *t = ctx->conf_json && ctx->conf_json[0] ? ctx->conf_json : "{}";
    json_t *v = json_loads(t, 0, NULL);
    if (!json_is_object(v)) {
        json_decref(v);
        snprintf(err, errlen, "the run's conf is not a JSON object");
        return NULL;
    }
    return v;
}

/* params.PATH: from the conf when it has PATH's first name, else from
 * the DAG's params. */
static spate_status_t put_param(const spate_sched_ti_ctx_t *ctx, const char *path, spate_buf_t *out,
                                char *err, size_t errlen) {
    if (ctx->conf_json && ctx->conf_json[0] && strcmp(ctx->conf_json, "{}") != 0) {
        json_t *conf = conf_load(ctx, err, errlen);
        if (conf == NULL) return SPATE_EINVAL;
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        spate_status_t st = SPATE_ENOENT;
        if (json_object_getn(conf, path, len) != NULL)
            st = conf_value(conf, path, "params.", out, err, errlen);
        json_decref(conf);
        if (st != SPATE_ENOENT) return st;
    }
    const char *s = param_value(ctx, path, err, errlen);
    if (s == NULL) return SPATE_EINVAL;
    return spate_buf_puts(out, s) == SPATE_OK ? SPATE_OK : SPATE_ENOMEM;
}

static spate_status_t put_conf(const spate_sched_ti_ctx_t *ctx, const char *path, spate_buf_t *out,
                               char *err, size_t errlen) {
    if (path == NULL) /* the whole object, as stored (compact) */
        return spate_buf_puts(out, ctx->conf_json && ctx->conf_json[0] ? ctx->conf_json : "{}");
    json_t *conf = conf_load(ctx, err, errlen);
    if (conf == NULL) return SPATE_EINVAL;
    spate_status_t st = conf_value(conf, path, "dag_run.conf.", out, err, errlen);
    json_decref(conf);
    return st;
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
        return put_param(ctx, name + 7, out, err, errlen);
    } else if (strcmp(name, "dag_run.conf") == 0) {
        return put_conf(ctx, NULL, out, err, errlen);
    } else if (strncmp(name, "dag_run.conf.", 13) == 0 && name[13] != '\0') {
        return put_conf(ctx, name + 13, out, err, errlen);
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
