/*
 * sched_op_http.c — the `http` operator (Airflow's HttpOperator): one
 * HTTP request with libcurl; the task succeeds when the status is one the
 * task expects.
 *
 *   key            default   meaning
 *   url            required  http:// or https:// (rendered)
 *   method         GET       any token (GET, POST, PUT, DELETE, ...)
 *   body           none      request body (rendered)
 *   headers        none      map Name: value (values rendered)
 *   expect_status  2xx       a list of codes (or one code)
 *   timeout        30s       whole request (spate_sched_parse_duration)
 *
 * The log gets the request line, the status, the size, the time and the
 * first HTTP_SHOW_BYTES of the answer. No retries here: a failed try is
 * retried by the scheduler (retries / retry_delay).
 */
#include "sched_op_int.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_SHOW_BYTES 2048
#define HTTP_KEEP_BYTES (1 << 20)

static const char *const http_keys[] = {"url",           "method",  "body", "headers",
                                        "expect_status", "timeout", NULL};

static bool status_ok(const char *s) {
    int64_t v;
    return s && !strstr(s, "{{") ? spate_parse_i64(s, 100, 599, &v) == SPATE_OK : true;
}

static bool method_ok(const char *m) {
    if (m == NULL || *m == '\0' || strlen(m) > 16) return false;
    for (const char *p = m; *p; p++) {
        if (!isupper((unsigned char)*p)) return false;
    }
    return true;
}

static void http_check(const spate_conf_t *c, const spate_conf_node_t *task,
                       spate_stream_diag_t *d) {
    spate_sched_op_check_scalar(c, task, "url", true, d);
    spate_sched_op_check_scalar(c, task, "method", false, d);
    const spate_conf_node_t *m = spate_conf_get(task, "method");
    if (m && m->kind == SPATE_CONF_SCALAR && m->value && !strstr(m->value, "{{") &&
        !method_ok(m->value)) {
        spate_stream_diag_at(d, c, m, "expected an HTTP method like GET or POST, got '%s'",
                             m->value);
    }
    spate_sched_op_check_scalar(c, task, "body", false, d);
    spate_sched_op_check_map(c, task, "headers", d);
    spate_sched_op_check_dur(c, task, "timeout", d);
    const spate_conf_node_t *e = spate_conf_get(task, "expect_status");
    if (e == NULL || spate_sched_op_is_null(e)) return;
    if (e->kind == SPATE_CONF_MAP) {
        spate_stream_diag_at(d, c, e, "expected a status code or a list of them");
    } else if (e->kind == SPATE_CONF_SCALAR) {
        if (!status_ok(e->value)) {
            spate_stream_diag_at(d, c, e, "expected an HTTP status 100..599, got '%s'", e->value);
        }
    } else {
        for (const spate_conf_node_t *i = e->child; i; i = i->next) {
            if (i->kind != SPATE_CONF_SCALAR || !status_ok(i->value)) {
                spate_stream_diag_at(d, c, i, "expected an HTTP status 100..599");
            }
        }
    }
}

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
    spate_buf_t *b = ud;
    size_t len = size * n;
    if (b->len < HTTP_KEEP_BYTES) {
        (void)spate_buf_append(b, p, SPATE_MIN(len, HTTP_KEEP_BYTES - b->len));
    }
    return len;
}

/* Whether status is expected: the task's list, else any 2xx. */
static int status_expected(const spate_sched_ti_ctx_t *ctx, long status, bool *ok, char *err,
                           size_t errlen) {
    const spate_conf_node_t *e = spate_conf_get(ctx->task->node, "expect_status");
    *ok = false;
    if (spate_sched_op_is_null(e)) {
        *ok = status >= 200 && status <= 299;
        return 0;
    }
    const spate_conf_node_t *one = e->kind == SPATE_CONF_SCALAR ? e : e->child;
    spate_buf_t b = SPATE_BUF_INIT;
    int rc = 0;
    for (const spate_conf_node_t *i = one; i; i = e->kind == SPATE_CONF_SCALAR ? NULL : i->next) {
        int64_t v;
        if (i->kind != SPATE_CONF_SCALAR ||
            spate_sched_op_render(ctx, i->value, &b, err, errlen) != SPATE_OK ||
            spate_parse_i64(b.data, 100, 599, &v) != SPATE_OK) {
            if (!err[0]) snprintf(err, errlen, "expect_status: not a status code");
            rc = 1;
            break;
        }
        if (v == status) *ok = true;
    }
    spate_buf_free(&b);
    return rc;
}

static int http_run(const spate_sched_ti_ctx_t *ctx) {
    char err[512] = "";
    spate_buf_t url = SPATE_BUF_INIT, method = SPATE_BUF_INIT, body = SPATE_BUF_INIT,
                hv = SPATE_BUF_INIT, resp = SPATE_BUF_INIT;
    struct curl_slist *hdrs = NULL;
    CURL *h = NULL;
    int rc = 1;
    int64_t timeout_ms = 30000;
    spate_status_t st = spate_sched_op_arg(ctx, "url", &url, err, sizeof err);
    if (st == SPATE_ENOENT) snprintf(err, sizeof err, "key 'url' is required");
    if (st != SPATE_OK) goto fail;
    st = spate_sched_op_arg(ctx, "method", &method, err, sizeof err);
    if (st == SPATE_ENOENT) st = spate_buf_puts(&method, "GET");
    if (st != SPATE_OK) goto fail;
    if (!method_ok(method.data)) {
        snprintf(err, sizeof err, "method '%s': expected an HTTP method like GET", method.data);
        goto fail;
    }
    st = spate_sched_op_arg(ctx, "body", &body, err, sizeof err);
    if (st != SPATE_OK && st != SPATE_ENOENT) goto fail;
    bool has_body = st == SPATE_OK;
    st = spate_sched_op_arg_dur(ctx, "timeout", &timeout_ms, err, sizeof err);
    if (st != SPATE_OK && st != SPATE_ENOENT) goto fail;
    const spate_conf_node_t *hn = spate_conf_get(ctx->task->node, "headers");
    if (!spate_sched_op_is_null(hn) && hn->kind == SPATE_CONF_MAP) {
        for (const spate_conf_node_t *e = hn->child; e; e = e->next) {
            spate_buf_t line = SPATE_BUF_INIT;
            if (spate_sched_op_render(ctx, e->value ? e->value : "", &hv, err, sizeof err) !=
                SPATE_OK) {
                goto fail;
            }
            spate_buf_printf(&line, "%s: %s", e->key, hv.data);
            hdrs = curl_slist_append(hdrs, line.data);
            spate_buf_free(&line);
        }
    }

    h = curl_easy_init();
    if (h == NULL) {
        snprintf(err, sizeof err, "libcurl: cannot create a handle");
        goto fail;
    }
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url.data);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)SPATE_MIN(timeout_ms, 10000));
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "spate-scheduler");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
    if (strcmp(method.data, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method.data, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.data);
    }
    if (has_body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
        if (strcmp(method.data, "GET") == 0) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "GET");
    }
    if (hdrs) curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

    spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "http: %s %s%s", method.data, url.data,
              has_body ? " (with a body)" : "");
    int64_t t0 = spate_mono_ms();
    CURLcode cc = curl_easy_perform(h);
    int64_t took = spate_mono_ms() - t0;
    if (cc != CURLE_OK) {
        snprintf(err, sizeof err, "%s %s: %s", method.data, url.data,
                 cerr[0] ? cerr : curl_easy_strerror(cc));
        goto fail;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "http: status %ld, %zu byte(s) in %lld ms", status,
              resp.len, (long long)took);
    if (resp.len) {
        spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "http: body: %.*s%s",
                  (int)SPATE_MIN(resp.len, HTTP_SHOW_BYTES), resp.data,
                  resp.len > HTTP_SHOW_BYTES ? " ..." : "");
    }
    bool ok = false;
    if (status_expected(ctx, status, &ok, err, sizeof err) != 0) goto fail;
    if (!ok) {
        snprintf(err, sizeof err, "status %ld is not an expected one", status);
        goto fail;
    }
    rc = 0;
    goto out;
fail:
    spate_log(SPATE_LOG_ERROR, SPATE_OP_LOG, "http: %s", err);
out:
    if (h) curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    spate_buf_free(&url);
    spate_buf_free(&method);
    spate_buf_free(&body);
    spate_buf_free(&hv);
    spate_buf_free(&resp);
    return rc;
}

const spate_sched_op_t spate_sched_op_http = {
    .name = "http",
    .keys = http_keys,
    .check = http_check,
    .run = http_run,
};
