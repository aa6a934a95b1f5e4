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
 * Threads: one thread is one MHD daemon with its own listening socket.
 * With more, MHD's thread pool lets whichever worker wakes first accept a
 * burst of connections, and kept-alive connections then stay on it (seen:
 * all 16 of wrk's connections on one of two workers in some runs). So
 * spate accepts itself, on one thread, and deals connections round-robin
 * to N single-threaded daemons (MHD_add_connection):
 *
 *   listen fd ─▶ accept thread ──round-robin──▶ worker daemon 0..N-1
 *
 * (SO_REUSEPORT would spread them too, but would also let a second server
 * silently share an occupied port instead of failing to start.)
 *
 * A request body is collected in the request context (refused with 413
 * past SPATE_HTTP_MAX_BODY) and handed to the handler whole.
 *
 * A response with a `read` callback is streamed (chunked encoding): MHD
 * pulls blocks of up to STREAM_BLOCK bytes through stream_read, which
 * first drains the handler's `body` and then calls `read`.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct spate_http_server {
    struct MHD_Daemon **d; /* ndaemons worker daemons */
    int ndaemons;
    int listen_fd; /* ours when ndaemons > 1, else -1 */
    pthread_t acceptor;
    bool acceptor_running;
    volatile int stopping;
    spate_http_handler_fn fn;
    void *ctx;
    int port;
};

typedef struct {
    char *uri;
    bool seen;        /* the access handler has been called once for this request */
    bool too_big;     /* the body passed SPATE_HTTP_MAX_BODY: answered 413 */
    spate_buf_t body; /* the request body so far */
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
    rc->too_big = false;
    rc->body = (spate_buf_t)SPATE_BUF_INIT;
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
        spate_buf_free(&rc->body);
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
        /* A declared body over the limit is refused before it is read
         * (the connection is closed after the answer, which is right for
         * a client still sending). */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        int64_t n;
        if (cl && spate_parse_i64(cl, 0, INT64_MAX, &n) == SPATE_OK && n > SPATE_HTTP_MAX_BODY) {
            static const char msg[] = "{\"error\":\"request body over 1048576 bytes\"}\n";
            _Static_assert(SPATE_HTTP_MAX_BODY == 1048576, "keep the message true");
            struct MHD_Response *r = MHD_create_response_from_buffer(sizeof msg - 1, (void *)msg,
                                                                     MHD_RESPMEM_PERSISTENT);
            if (!r) return MHD_NO;
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                    "application/json; charset=utf-8");
            enum MHD_Result ret = MHD_queue_response(conn, 413, r);
            MHD_destroy_response(r);
            return ret;
        }
        return MHD_YES;
    }
    /* The body comes in pieces; keep it (up to SPATE_HTTP_MAX_BODY) and
     * answer once the whole request has arrived. */
    if (*upload_data_size) {
        if (rc && !rc->too_big) {
            if (rc->body.len + *upload_data_size > SPATE_HTTP_MAX_BODY ||
                spate_buf_append(&rc->body, upload_data, *upload_data_size) != SPATE_OK) {
                rc->too_big = true;
                spate_buf_free(&rc->body);
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    spate_http_req_t req = {.method = method, .path = url, .query = "", .body = "", .conn = conn};
    if (rc && rc->uri) {
        char *q = strchr(rc->uri, '?');
        if (q) req.query = q + 1;
    }
    if (rc && rc->body.len) {
        req.body = rc->body.data; /* NUL-terminated by spate_buf_append */
        req.body_len = rc->body.len;
    }
    client_ip(conn, req.client_ip, sizeof req.client_ip);

    spate_http_resp_t resp = {.status = 200, .content_type = "application/json; charset=utf-8"};
    if (rc && rc->too_big) {
        resp.status = 413;
        spate_buf_printf(&resp.body, "{\"error\":\"request body over %d bytes\"}\n",
                         SPATE_HTTP_MAX_BODY);
    } else {
        s->fn(s->ctx, &req, &resp);
    }

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

static struct MHD_Daemon *daemon_start(spate_http_server_t *s, const spate_net_addr_t *addr,
                                       bool own_listener, unsigned conn_limit) {
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (addr->ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    if (!own_listener) flags |= MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
    /* The logger must come first to catch messages about the options
     * after it. */
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)uri_log_cb, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed_cb, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, conn_limit, NULL},
        /* A streamed block is written through the connection's memory
         * pool (32 KiB by default), which would cut it into small sends. */
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, STREAM_BLOCK + 64 * 1024, NULL},
        {own_listener ? MHD_OPTION_SOCK_ADDR : MHD_OPTION_END, 0, (void *)&addr->ss},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    return MHD_start_daemon(flags, 0, NULL, NULL, access_cb, s, MHD_OPTION_ARRAY, opts,
                            MHD_OPTION_END);
}

static void *acceptor_main(void *arg) {
    spate_http_server_t *s = arg;
    unsigned next = 0;
    while (!s->stopping) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        int fd = accept4(s->listen_fd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
        if (fd < 0) {
            if (s->stopping) break;
            if (errno == EINTR || errno == ECONNABORTED) continue;
            /* EMFILE/ENFILE/ENOBUFS: out of descriptors or memory; wait
             * for connections to close rather than spin. */
            spate_log(SPATE_LOG_WARN, "http", "accept: %s", strerror(errno));
            spate_sleep_ms(100);
            continue;
        }
        /* MHD takes the socket (and closes it on failure). */
        if (MHD_add_connection(s->d[next++ % (unsigned)s->ndaemons], fd, (struct sockaddr *)&peer,
                               plen) != MHD_YES)
            spate_log(SPATE_LOG_WARN, "http", "could not take a connection: %s", strerror(errno));
    }
    return NULL;
}

/* The acceptor blocks in accept(): a blocking listening socket. */
static int listen_on(const spate_net_addr_t *addr) {
    int fd = spate_net_listen(addr);
    if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

spate_status_t spate_http_server_start(spate_http_server_t **out, const spate_net_addr_t *addr,
                                       int threads, spate_http_handler_fn fn, void *ctx) {
    spate_http_server_t *s = spate_xcalloc(1, sizeof *s);
    s->fn = fn;
    s->ctx = ctx;
    s->listen_fd = -1;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    s->ndaemons = threads;
    s->d = spate_xcalloc((size_t)threads, sizeof *s->d);
    if (threads == 1) {
        s->d[0] = daemon_start(s, addr, true, 4096);
        if (!s->d[0]) goto err;
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d[0], MHD_DAEMON_INFO_BIND_PORT);
        s->port = di ? di->port : spate_net_addr_port(addr);
    } else {
        s->listen_fd = listen_on(addr);
        if (s->listen_fd < 0) goto err;
        spate_net_addr_t bound = {.len = sizeof bound.ss};
        if (getsockname(s->listen_fd, (struct sockaddr *)&bound.ss, &bound.len) != 0) goto err;
        s->port = spate_net_addr_port(&bound);
        for (int i = 0; i < threads; i++) {
            s->d[i] = daemon_start(s, addr, false, (unsigned)(4096 / threads + 1));
            if (!s->d[i]) goto err;
        }
        if (pthread_create(&s->acceptor, NULL, acceptor_main, s) != 0) goto err;
        s->acceptor_running = true;
    }
    *out = s;
    return SPATE_OK;
err:
    spate_http_server_stop(s);
    return SPATE_EIO;
}

int spate_http_server_port(const spate_http_server_t *s) { return s->port; }

/* Tolerates a half-started server (the goto err path above). */
void spate_http_server_stop(spate_http_server_t *s) {
    if (!s) return;
    s->stopping = 1;
    if (s->acceptor_running) {
        /* shutdown() wakes the blocked accept(); it then sees `stopping`. */
        shutdown(s->listen_fd, SHUT_RDWR);
        pthread_join(s->acceptor, NULL);
    }
    if (s->listen_fd >= 0) close(s->listen_fd);
    for (int i = 0; i < s->ndaemons; i++)
        if (s->d && s->d[i]) MHD_stop_daemon(s->d[i]);
    free(s->d);
    free(s);
}
