/*
 * net_http.c — HTTP server glue over libmicrohttpd.
 *
 * libmicrohttpd parses HTTP and runs the connections (epoll, a thread
 * pool). This file adapts it to one simple handler signature and keeps
 * the raw request target: MHD decodes the query into its own table, but
 * spate parses query strings itself (net_query.c) so that the exact bytes
 * a client sent are what the parser and its fuzz target see. The raw
 * target is captured by the URI log callback, whose return value MHD
 * hands back as the per-request context, and freed when the request
 * completes.
 *
 *   URI log cb ──▶ req_ctx{raw uri} ──▶ access handler ──▶ user handler
 *                                              │
 *   completed cb ◀── free req_ctx ◀── response queued (body freed by MHD)
 *
 * A response with a `read` callback is streamed (chunked encoding): MHD
 * pulls blocks of up to STREAM_BLOCK bytes through stream_read, which
 * first drains the handler's `body` and then calls `read`.
 */
#include "net.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct spate_http_server {
    struct MHD_Daemon *d;
    spate_http_handler_fn fn;
    void *ctx;
    int port;
};

typedef struct {
    char *uri;
    bool seen; /* the access handler has been called once for this request */
} req_ctx_t;

#define STREAM_BLOCK (256 * 1024)

typedef struct {
    char *head; /* the handler's body, sent first */
    size_t head_len, head_off;
    bool end;
    long (*read)(void *cls, char *buf, size_t max, bool *end);
    void (*done)(void *cls);
    void *cls;
} stream_t;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    SPATE_UNUSED(pos);
    stream_t *st = cls;
    if (st->head_off < st->head_len) {
        size_t n = SPATE_MIN(max, st->head_len - st->head_off);
        memcpy(buf, st->head + st->head_off, n);
        st->head_off += n;
        if (st->head_off == st->head_len) { /* sent: give the memory back now */
            free(st->head);
            st->head = NULL;
            st->head_len = st->head_off = 0;
        }
        return (ssize_t)n;
    }
    if (st->end) return MHD_CONTENT_READER_END_OF_STREAM;
    long n = st->read(st->cls, buf, max, &st->end);
    if (n < 0) return MHD_CONTENT_READER_END_WITH_ERROR;
    if (n == 0 && st->end) return MHD_CONTENT_READER_END_OF_STREAM;
    return (ssize_t)n;
}

static void stream_free(void *cls) {
    stream_t *st = cls;
    if (st->done) st->done(st->cls);
    free(st->head);
    free(st);
}

static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *conn) {
    SPATE_UNUSED(cls);
    SPATE_UNUSED(conn);
    req_ctx_t *rc = malloc(sizeof *rc);
    if (!rc) return NULL;
    rc->seen = false;
    rc->uri = strdup(uri ? uri : "/");
    if (!rc->uri) {
        free(rc);
        return NULL;
    }
    return rc;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
    SPATE_UNUSED(cls);
    SPATE_UNUSED(conn);
    SPATE_UNUSED(toe);
    req_ctx_t *rc = *req_cls;
    if (rc) {
        free(rc->uri);
        free(rc);
        *req_cls = NULL;
    }
}

const char *spate_http_req_header(const spate_http_req_t *req, const char *name) {
    return MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_HEADER_KIND, name);
}

void spate_http_resp_header(spate_http_resp_t *resp, const char *name, const char *value) {
    if (resp->nheaders >= SPATE_HTTP_MAX_HEADERS) return;
    snprintf(resp->headers[resp->nheaders].name, sizeof resp->headers[0].name, "%s", name);
    snprintf(resp->headers[resp->nheaders].value, sizeof resp->headers[0].value, "%s", value);
    resp->nheaders++;
}

static void client_ip(struct MHD_Connection *conn, char *out, size_t outlen) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, outlen, "?");
    if (!ci || !ci->client_addr) return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outlen);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)outlen);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **req_cls) {
    SPATE_UNUSED(version);
    SPATE_UNUSED(upload_data);
    spate_http_server_t *s = cls;
    req_ctx_t *rc = *req_cls;
    /* MHD calls the handler first when the headers are in and again for
     * the body. A response queued on that first call makes MHD 0.9.75
     * close the connection afterwards ("Connection: close"), which would
     * cost every client a new connection per request: answer from the
     * second call on. (Without a context — allocation failed — answer at
     * once; the connection is then closed, which is fine.) */
    if (rc && !rc->seen) {
        rc->seen = true;
        return MHD_YES;
    }
    /* Request bodies are not used by any spate HTTP endpoint yet: skip
     * them, answering once the whole request has arrived. */
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    spate_http_req_t req = {.method = method, .path = url, .query = "", .conn = conn};
    if (rc && rc->uri) {
        char *q = strchr(rc->uri, '?');
        if (q) req.query = q + 1;
    }
    client_ip(conn, req.client_ip, sizeof req.client_ip);

    spate_http_resp_t resp = {.status = 200, .content_type = "application/json; charset=utf-8"};
    s->fn(s->ctx, &req, &resp);

    size_t len = 0;
    char *body = spate_buf_detach(&resp.body, &len);
    struct MHD_Response *r;
    if (resp.read) {
        stream_t *st = spate_xcalloc(1, sizeof *st);
        *st = (stream_t){
            .head = body, .head_len = len, .read = resp.read, .done = resp.done, .cls = resp.cls};
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, st,
                                              stream_free);
        if (!r) stream_free(st);
    } else {
        r = MHD_create_response_from_buffer_with_free_callback(len, body, free);
        if (!r) free(body);
    }
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp.content_type);
    for (int i = 0; i < resp.nheaders; i++)
        MHD_add_response_header(r, resp.headers[i].name, resp.headers[i].value);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp.status, r);
    MHD_destroy_response(r);
    return ret;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    SPATE_UNUSED(cls);
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = '\0';
    spate_log(SPATE_LOG_WARN, "http", "%s", msg);
}

spate_status_t spate_http_server_start(spate_http_server_t **out, const spate_net_addr_t *addr,
                                       int threads, spate_http_handler_fn fn, void *ctx) {
    spate_http_server_t *s = spate_xcalloc(1, sizeof *s);
    s->fn = fn;
    s->ctx = ctx;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (addr->ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    /* The logger must come first to catch messages about the options
     * after it; a pool of one thread is no pool. */
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, (void *)&addr->ss},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)uri_log_cb, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed_cb, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, 4096, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
        /* A streamed block is written through the connection's memory
         * pool (32 KiB by default), which would cut it into small sends. */
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, STREAM_BLOCK + 64 * 1024, NULL},
        {threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, s, MHD_OPTION_ARRAY, opts,
                            MHD_OPTION_END);
    if (!s->d) {
        free(s);
        return SPATE_EIO;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : spate_net_addr_port(addr);
    *out = s;
    return SPATE_OK;
}

int spate_http_server_port(const spate_http_server_t *s) { return s->port; }

void spate_http_server_stop(spate_http_server_t *s) {
    if (!s) return;
    MHD_stop_daemon(s->d);
    free(s);
}
