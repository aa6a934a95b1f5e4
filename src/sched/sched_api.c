/*
 * sched_api.c — the scheduler's REST API, in the shapes of Airflow's
 * stable REST API (/api/v1), served by spate_http_server (libmicrohttpd
 * threads) when conf->api_listen is set.
 *
 *   GET   /api/v1/health  503 (with "detail") when the metadata does not
 *         answer SELECT 1 or the last tick's commit failed
 *   GET   /api/v1/dags                                   {"dags": [...], "total_entries"}
 *   GET   /api/v1/dags/{dag_id}
 *   PATCH /api/v1/dags/{dag_id}  {"is_paused": bool}
 *   GET   /api/v1/dags/{dag_id}/dagRuns[?limit=N]        {"dag_runs": [...], "total_entries"}
 *   POST  /api/v1/dags/{dag_id}/dagRuns  {"dag_run_id"?, "logical_date"?, "conf"?}
 *         → a manual run; conf (a JSON object, stored with the run) is
 *         dag_run.conf to its tasks' templates and overrides their params
 *   GET   /api/v1/dags/{dag_id}/dagRuns/{run_id}
 *   GET   .../dagRuns/{run_id}/taskInstances             {"task_instances": [...], ...}
 *   GET   .../dagRuns/{run_id}/taskInstances/{task_id}/logs/{try}
 *         {"content": "...", "continuation_token": null}; text/plain when
 *         the Accept header asks for it
 *
 * Errors are Airflow's problem objects: {"detail", "status", "title",
 * "type"}. PATCH and POST read their fields from a JSON object body as
 * Airflow does; without a body, from the query string under the same
 * names (handy with `curl -X PATCH ...?is_paused=false`; a query-string
 * conf is the object's JSON text). Every run answers with its "conf"
 * ({} when triggered without one).
 *
 * Every handler holds s->mu for the whole request: the DagBag and the db
 * handle are the loop's, and a tick never runs in the middle of one.
 */
#include "sched_core_int.h"
#include "source.h" /* spate_json_dumps */
#include "net.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG "scheduler"

static json_t *iso(int64_t ms) {
    if (ms == 0 || ms == INT64_MIN || ms == INT64_MAX) return json_null();
    char t[25], out[48];
    spate_time_iso8601(ms, t); /* 2026-11-01T00:00:00.000Z */
    t[19] = '\0';
    int frac = (int)(((ms % 1000) + 1000) % 1000);
    if (frac)
        snprintf(out, sizeof out, "%s.%06d+00:00", t, frac * 1000);
    else
        snprintf(out, sizeof out, "%s+00:00", t);
    return json_string(out);
}

static void reply(spate_http_resp_t *resp, int status, json_t *body) {
    resp->status = status;
    char *text = spate_json_dumps(body, JSON_COMPACT);
    if (text) {
        spate_buf_puts(&resp->body, text);
        free(text);
    }
    json_decref(body);
}

static void problem(spate_http_resp_t *resp, int status, const char *title, const char *detail) {
    resp->content_type = "application/problem+json";
    reply(resp, status,
          json_pack("{s:s, s:i, s:s, s:s}", "detail", detail, "status", status, "title", title,
                    "type", "about:blank"));
}

static json_t *dag_json(spate_scheduler_t *s, const spate_sched_dag_t *d) {
    bool paused = false;
    spate_sched_db_dag_paused(s->db, d->dag_id, &paused);
    json_t *sched = json_null();
    if (d->schedule.kind != SPATE_SCHED_NONE)
        sched = json_pack("{s:s, s:s}", "__type",
                          d->schedule.kind == SPATE_SCHED_EVERY ? "TimeDelta" : "CronExpression",
                          "value", d->schedule.text);
    return json_pack("{s:s, s:s, s:b, s:b, s:s, s:o, s:o, s:b, s:i, s:i, s:[], s:[]}", "dag_id",
                     d->dag_id, "description", d->description ? d->description : "", "is_paused",
                     paused, "is_active", 1, "fileloc", d->file ? d->file : "", "schedule_interval",
                     sched, "start_date", iso(d->start_date_ms), "catchup", d->catchup,
                     "max_active_runs", d->max_active_runs, "max_active_tasks", d->max_active_tasks,
                     "tags", "owners");
}

static json_t *run_json(const spate_sched_run_t *r) {
    json_t *conf = json_loads(r->conf[0] ? r->conf : "{}", 0, NULL);
    if (!json_is_object(conf)) { /* stored by spate as an object; never fail the listing */
        json_decref(conf);
        conf = json_object();
    }
    return json_pack(
        "{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:s, s:b, s:o}", "dag_run_id",
        r->run_id, "dag_id", r->dag_id, "logical_date", iso(r->logical_date_ms), "execution_date",
        iso(r->logical_date_ms), "data_interval_start", iso(r->data_interval_start_ms),
        "data_interval_end", iso(r->data_interval_end_ms), "queued_at", iso(r->queued_ms),
        "start_date", iso(r->start_ms), "end_date", iso(r->end_ms), "state",
        spate_sched_run_state_name(r->state), "run_type", spate_sched_run_type_name(r->type),
        "external_trigger", r->type == SPATE_RUN_MANUAL, "conf", conf);
}

static bool query_get(const char *q, const char *name, char *val, size_t vallen);

/* The POST body's "conf" (or ?conf=JSON without a body) → compact JSON
 * text in out; absent or null is {}. False with a message in err for
 * anything but an object that fits. */
static bool req_conf(const spate_http_req_t *req, char *out, size_t cap, char *err, size_t errlen) {
    if (!req->body_len) {
        char q[SPATE_SCHED_RUN_CONF_MAX * 2];
        if (!query_get(req->query, "conf", q, sizeof q)) q[0] = '\0';
        return spate_sched_run_conf_parse(q, strlen(q), out, cap, err, errlen) == SPATE_OK;
    }
    json_t *o = json_loadb(req->body, req->body_len, 0, NULL);
    json_t *v = json_is_object(o) ? json_object_get(o, "conf") : NULL;
    bool ok = false;
    if (!v || json_is_null(v)) {
        ok = spate_sched_run_conf_parse(NULL, 0, out, cap, err, errlen) == SPATE_OK;
    } else if (!json_is_object(v)) {
        snprintf(err, errlen, "conf must be a JSON object");
    } else {
        char *text = spate_json_dumps(v, JSON_COMPACT);
        ok = text &&
             spate_sched_run_conf_parse(text, strlen(text), out, cap, err, errlen) == SPATE_OK;
        if (!text) snprintf(err, errlen, "conf: cannot encode");
        free(text);
    }
    json_decref(o);
    return ok;
}

typedef struct {
    spate_scheduler_t *s;
    json_t *arr;
    const spate_sched_dag_t *d;
} list_ctx_t;

static bool run_add(void *ctx, const spate_sched_run_t *r) {
    json_array_append_new(((list_ctx_t *)ctx)->arr, run_json(r));
    return true;
}

static bool ti_add(void *ctx, const spate_sched_ti_t *ti) {
    list_ctx_t *lc = ctx;
    const spate_sched_task_t *t = lc->d ? spate_sched_dag_task(lc->d, ti->task_id) : NULL;
    json_t *dur = json_null();
    if (ti->start_ms && ti->end_ms) dur = json_real((double)(ti->end_ms - ti->start_ms) / 1000.0);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:i, s:i, s:s, s:s, s:i, s:s, s:o}", "task_id",
        ti->task_id, "dag_id", ti->dag_id, "dag_run_id", ti->run_id, "state",
        ti->state == SPATE_TI_NONE ? "none" : spate_sched_ti_state_name(ti->state), "start_date",
        iso(ti->start_ms), "end_date", iso(ti->end_ms), "queued_when", iso(ti->queued_ms),
        "duration", dur, "try_number", ti->try_number, "max_tries", ti->max_tries, "hostname",
        ti->hostname, "pool", ti->pool, "pool_slots", t ? t->pool_slots : 1, "operator",
        t ? t->type : "", "pid", ti->pid ? json_integer(ti->pid) : json_null());
    if (ti->state == SPATE_TI_NONE) json_object_set_new(o, "state", json_null());
    json_array_append_new(lc->arr, o);
    return true;
}

static bool query_get(const char *q, const char *name, char *val, size_t vallen) {
    spate_query_iter_t it;
    char key[64];
    spate_query_iter_init(&it, q, strlen(q));
    while (spate_query_next(&it, key, sizeof key, val, vallen) == SPATE_OK)
        if (!strcmp(key, name)) return true;
    return false;
}

/* A request field: from the JSON object body when there is a body, else
 * from the query string. Strings are copied as they are, booleans as
 * "true"/"false"; FIELD_BAD_BODY for a body that is not a JSON object or
 * a field of another type. */
typedef enum { FIELD_ABSENT, FIELD_OK, FIELD_BAD_BODY } field_t;

static field_t req_field(const spate_http_req_t *req, const char *name, char *val, size_t vallen) {
    if (!req->body_len) return query_get(req->query, name, val, vallen) ? FIELD_OK : FIELD_ABSENT;
    json_error_t je;
    json_t *o = json_loadb(req->body, req->body_len, 0, &je);
    field_t r = FIELD_OK;
    json_t *v = json_is_object(o) ? json_object_get(o, name) : NULL;
    if (!json_is_object(o))
        r = FIELD_BAD_BODY;
    else if (!v || json_is_null(v))
        r = FIELD_ABSENT;
    else if (json_is_string(v))
        snprintf(val, vallen, "%s", json_string_value(v));
    else if (json_is_boolean(v))
        snprintf(val, vallen, "%s", json_is_true(v) ? "true" : "false");
    else
        r = FIELD_BAD_BODY;
    json_decref(o);
    return r;
}

/* /api/v1/dags/{id}/dagRuns/{run}/taskInstances/{task}/logs/{try} */
static void get_log(spate_scheduler_t *s, const spate_http_req_t *req, spate_http_resp_t *resp,
                    const char *dag, const char *run, const char *task, const char *try_s) {
    int64_t tn = 0;
    spate_sched_ti_t ti;
    if (spate_sched_db_ti_get(s->db, dag, run, task, &ti) != SPATE_OK) {
        problem(resp, 404, "Task instance not found", spate_sched_db_error(s->db));
        return;
    }
    if (spate_parse_i64(try_s, 1, 1000000, &tn) != SPATE_OK) {
        problem(resp, 400, "Bad request", "try number must be a positive integer");
        return;
    }
    char path[1024];
    spate_sched_log_path(s->data_dir, dag, run, task, (int)tn, path, sizeof path);
    spate_buf_t text = SPATE_BUF_INIT;
    FILE *f = fopen(path, "rb");
    if (!f) {
        problem(resp, 404, "Log not found", "no log for that try (not started yet?)");
        return;
    }
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) spate_buf_append(&text, chunk, n);
    fclose(f);
    const char *accept = spate_http_req_header(req, "Accept");
    if (accept && strstr(accept, "text/plain")) {
        resp->content_type = "text/plain; charset=utf-8";
        spate_buf_append(&resp->body, text.data ? text.data : "", text.len);
    } else {
        json_t *c = json_stringn_nocheck(text.data ? text.data : "", text.len);
        reply(resp, 200, json_pack("{s:o, s:n}", "content", c, "continuation_token"));
    }
    spate_buf_free(&text);
}

static void handle(spate_scheduler_t *s, const spate_http_req_t *req, spate_http_resp_t *resp) {
    const char *m = req->method;
    const char *p = req->path;
    const char *prefix = "/api/v1/";
    if (strncmp(p, prefix, strlen(prefix)) != 0) {
        problem(resp, 404, "Not found", "unknown path");
        return;
    }
    /* split the rest on '/' */
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", p + strlen(prefix));
    char *seg[10];
    int n = 0;
    for (char *tok = strtok(buf, "/"); tok && n < 10; tok = strtok(NULL, "/")) seg[n++] = tok;
    bool get = !strcmp(m, "GET");

    if (n == 1 && !strcmp(seg[0], "health") && get) {
        /* metadatabase: a trivial query now; scheduler: whether the last
         * tick's writes were committed. Either unhealthy → 503. */
        bool db_ok = spate_sched_db_ping(s->db) == SPATE_OK;
        json_t *mdb = json_pack("{s:s}", "status", db_ok ? "healthy" : "unhealthy");
        if (!db_ok) json_object_set_new(mdb, "detail", json_string(spate_sched_db_error(s->db)));
        bool tick_ok = s->last_commit == SPATE_OK;
        json_t *sch = json_pack("{s:s, s:o}", "status",
                                !tick_ok    ? "unhealthy"
                                : s->loaded ? "healthy"
                                            : "starting",
                                "latest_scheduler_heartbeat", iso(s->last_tick_ms));
        if (!tick_ok)
            json_object_set_new(sch, "detail",
                                json_string(s->last_commit_err[0]
                                                ? s->last_commit_err
                                                : "the last tick did not commit"));
        reply(resp, db_ok && tick_ok ? 200 : 503,
              json_pack("{s:o, s:o}", "metadatabase", mdb, "scheduler", sch));
        return;
    }
    if (n < 1 || strcmp(seg[0], "dags") != 0) {
        problem(resp, 404, "Not found", "unknown path");
        return;
    }
    if (n == 1) {
        if (!get) goto bad_method;
        json_t *arr = json_array();
        size_t cnt = spate_sched_dagbag_count(s->bag);
        for (size_t i = 0; i < cnt; i++)
            json_array_append_new(arr, dag_json(s, spate_sched_dagbag_at(s->bag, i)));
        json_t *errs = json_array();
        const spate_stream_diag_t *e = spate_sched_dagbag_errors(s->bag);
        for (size_t i = 0; e && i < e->n; i++) json_array_append_new(errs, json_string(e->msgs[i]));
        reply(resp, 200,
              json_pack("{s:o, s:i, s:o}", "dags", arr, "total_entries", (json_int_t)cnt,
                        "import_errors", errs));
        return;
    }
    const spate_sched_dag_t *d = spate_sched_dagbag_get(s->bag, seg[1]);
    if (!d) {
        char msg[512];
        snprintf(msg, sizeof msg, "DAG with dag_id: '%s' not found", seg[1]);
        problem(resp, 404, "DAG not found", msg);
        return;
    }
    if (n == 2) {
        if (!strcmp(m, "PATCH")) {
            char v[16];
            if (req_field(req, "is_paused", v, sizeof v) != FIELD_OK ||
                (strcmp(v, "true") && strcmp(v, "false"))) {
                problem(resp, 400, "Bad request",
                        "is_paused (true or false) is required: a JSON body {\"is_paused\": "
                        "false} or ?is_paused=false");
                return;
            }
            if (spate_sched_db_dag_set_paused(s->db, d->dag_id, !strcmp(v, "true")) != SPATE_OK) {
                problem(resp, 500, "Metadata error", spate_sched_db_error(s->db));
                return;
            }
            spate_log(SPATE_LOG_INFO, LOG, "api: %s %s", v[0] == 't' ? "paused" : "unpaused",
                      d->dag_id);
        } else if (!get) {
            goto bad_method;
        }
        reply(resp, 200, dag_json(s, d));
        return;
    }
    if (strcmp(seg[2], "dagRuns") != 0) {
        problem(resp, 404, "Not found", "unknown path");
        return;
    }
    if (n == 3) {
        if (!strcmp(m, "POST")) {
            char rid[256] = "", ld[64] = "";
            int64_t logical = INT64_MIN;
            field_t fr = req_field(req, "dag_run_id", rid, sizeof rid);
            field_t fl = req_field(req, "logical_date", ld, sizeof ld);
            if (fr == FIELD_BAD_BODY || fl == FIELD_BAD_BODY) {
                problem(resp, 400, "Bad request",
                        "the body must be a JSON object with string dag_run_id / logical_date");
                return;
            }
            if (fl == FIELD_OK && ld[0]) {
                size_t l = strlen(ld);
                if (l > 6 && !strcmp(ld + l - 6, "+00:00")) ld[l - 6] = '\0';
                if (spate_sched_parse_time(ld, &logical) != SPATE_OK) {
                    problem(resp, 400, "Bad request", "logical_date: expected an ISO 8601 time");
                    return;
                }
            }
            char conf[SPATE_SCHED_RUN_CONF_MAX], cerr[256];
            if (!req_conf(req, conf, sizeof conf, cerr, sizeof cerr)) {
                problem(resp, 400, "Bad request", cerr);
                return;
            }
            spate_sched_run_t r;
            spate_status_t st = spate_sched_manual_run_conf(s->db, d, rid[0] ? rid : NULL, logical,
                                                            spate_wall_ms(), conf, &r);
            if (st == SPATE_EEXIST) {
                problem(resp, 409, "Conflict", spate_sched_db_error(s->db));
                return;
            }
            if (st == SPATE_EINVAL) { /* an invalid run id, a conf too big */
                problem(resp, 400, "Bad request", spate_sched_db_error(s->db));
                return;
            }
            if (st != SPATE_OK) {
                problem(resp, 500, "Metadata error", spate_sched_db_error(s->db));
                return;
            }
            spate_log(SPATE_LOG_INFO, LOG, "api: triggered %s run %s", d->dag_id, r.run_id);
            reply(resp, 200, run_json(&r));
            return;
        }
        if (!get) goto bad_method;
        char lim[32];
        int64_t limit = 100;
        if (query_get(req->query, "limit", lim, sizeof lim) &&
            spate_parse_i64(lim, 1, 100000, &limit) != SPATE_OK) {
            problem(resp, 400, "Bad request", "limit must be 1..100000");
            return;
        }
        list_ctx_t lc = {.s = s, .arr = json_array(), .d = d};
        spate_sched_db_runs(s->db, d->dag_id, 0, (size_t)limit, run_add, &lc);
        reply(resp, 200,
              json_pack("{s:o, s:i}", "dag_runs", lc.arr, "total_entries",
                        (json_int_t)json_array_size(lc.arr)));
        return;
    }
    if (!get) goto bad_method;
    spate_sched_run_t r;
    if (spate_sched_db_run_get(s->db, d->dag_id, seg[3], &r) != SPATE_OK) {
        problem(resp, 404, "DAGRun not found", spate_sched_db_error(s->db));
        return;
    }
    if (n == 4) {
        reply(resp, 200, run_json(&r));
        return;
    }
    if (strcmp(seg[4], "taskInstances") != 0) {
        problem(resp, 404, "Not found", "unknown path");
        return;
    }
    if (n == 5) {
        list_ctx_t lc = {.s = s, .arr = json_array(), .d = d};
        spate_sched_db_tis(s->db, d->dag_id, r.run_id, 0, ti_add, &lc);
        reply(resp, 200,
              json_pack("{s:o, s:i}", "task_instances", lc.arr, "total_entries",
                        (json_int_t)json_array_size(lc.arr)));
        return;
    }
    if (n == 6) {
        spate_sched_ti_t ti;
        if (spate_sched_db_ti_get(s->db, d->dag_id, r.run_id, seg[5], &ti) != SPATE_OK) {
            problem(resp, 404, "Task instance not found", spate_sched_db_error(s->db));
            return;
        }
        list_ctx_t lc = {.s = s, .arr = json_array(), .d = d};
        ti_add(&lc, &ti);
        json_t *o = json_incref(json_array_get(lc.arr, 0));
        json_decref(lc.arr);
        reply(resp, 200, o);
        return;
    }
    if (n == 8 && !strcmp(seg[6], "logs")) {
        get_log(s, req, resp, d->dag_id, r.run_id, seg[5], seg[7]);
        return;
    }
    problem(resp, 404, "Not found", "unknown path");
    return;
bad_method:
    problem(resp, 405, "Method not allowed", "method not allowed on this path");
}

static void api_handler(void *ctx, const spate_http_req_t *req, spate_http_resp_t *resp) {
    spate_scheduler_t *s = ctx;
    mtx_lock(&s->mu);
    handle(s, req, resp);
    mtx_unlock(&s->mu);
    /* a new run or an unpaused DAG is acted on now, not at the next idle wake-up */
    if (strcmp(req->method, "GET") != 0 && resp->status < 300) {
        ssize_t r = write(s->pipe_wr, "a", 1);
        SPATE_UNUSED(r);
    }
}

spate_status_t spate_sched_api_start(spate_scheduler_t *s, char *err, size_t errlen) {
    spate_net_addr_t addr;
    if (spate_net_addr_parse(s->conf.api_listen, &addr, err, errlen) != SPATE_OK)
        return SPATE_EINVAL;
    spate_http_server_t *h = NULL;
    if (spate_http_server_start(&h, &addr, 2, api_handler, s) != SPATE_OK) {
        snprintf(err, errlen, "REST API: cannot listen on %s", s->conf.api_listen);
        return SPATE_EIO;
    }
    s->http = (struct spate_http_server *)h;
    s->api_port = spate_http_server_port(h);
    spate_log(SPATE_LOG_INFO, LOG, "api listening on http://127.0.0.1:%d", s->api_port);
    return SPATE_OK;
}

void spate_sched_api_stop(spate_scheduler_t *s) {
    if (!s->http) return;
    spate_http_server_stop((spate_http_server_t *)s->http);
    s->http = NULL;
}
