/*
 * net.h — the public interface of spate's network layer.
 *
 *   addresses      "host:port" / "[v6]:port" parsed into sockaddrs
 *   query strings  a pure, bounds-checked iterator that splits and
 *                  percent-decodes "a=1&b=x%20y" (fuzzed)
 *   HTTP server    glue over libmicrohttpd: one handler function gets the
 *                  method, path, raw query and client address and fills a
 *                  response; a thread pool serves connections
 *
 *   event loop     epoll: fd events, timers, a before-sleep hook (Kafka, CQL)
 *   exchange       one blocking request/answer over TCP with a deadline
 *                  (health probes)
 */
#ifndef SPATE_NET_H
#define SPATE_NET_H

#include "base.h"

#include <netinet/in.h>
#include <sys/socket.h>

/* ---- addresses ---- */

typedef struct {
    struct sockaddr_storage ss;
    socklen_t len;
} spate_net_addr_t;

/* Parses "127.0.0.1:8088", "localhost:8088", "[::1]:8088" or ":8088"
 * (which means 127.0.0.1). Names are resolved with getaddrinfo. The port
 * may be 0 (any free port). Returns SPATE_EINVAL with a message in err
 * (errlen bytes) on failure. */
spate_status_t spate_net_addr_parse(const char *text, spate_net_addr_t *out, char *err,
                                    size_t errlen);
/* "127.0.0.1:8088" / "[::1]:8088" into out (at least 64 bytes). */
void spate_net_addr_format(const spate_net_addr_t *a, char *out, size_t outlen);
int spate_net_addr_port(const spate_net_addr_t *a);

/* ---- query strings ---- */

/* Iterates over "k1=v1&k2=v2" (no leading '?'). Each call decodes the
 * next pair into the caller's buffers (NUL-terminated, '+' → space,
 * %XX → byte, truncated to the buffer sizes) and returns SPATE_OK, or
 * SPATE_ENOENT at the end. A malformed escape is kept literally, as
 * browsers and Express do. Empty pairs ("a=1&&b=2") are skipped. */
typedef struct {
    const char *p;
    size_t len, off;
} spate_query_iter_t;

void spate_query_iter_init(spate_query_iter_t *it, const char *q, size_t len);
spate_status_t spate_query_next(spate_query_iter_t *it, char *key, size_t keylen, char *val,
                                size_t vallen);

/* ---- HTTP server ---- */

typedef struct {
    const char *method; /* "GET", ... */
    const char *path;   /* decoded path, without the query */
    const char *query;  /* raw query string after '?', "" when none */
    const char *body;   /* the request body, NUL-terminated ("" when none) */
    size_t body_len;    /* its length (it may hold NULs) */
    char client_ip[64]; /* peer address as text */
    /* private: */
    void *conn;
} spate_http_req_t;

/* Request bodies larger than this are refused with 413 before the
 * handler runs. */
#define SPATE_HTTP_MAX_BODY (1024 * 1024)

/* A request header, or NULL (case-insensitive name). */
const char *spate_http_req_header(const spate_http_req_t *req, const char *name);

#define SPATE_HTTP_MAX_HEADERS 4

typedef struct {
    int status;               /* default 200 */
    const char *content_type; /* default "application/json; charset=utf-8" */
    spate_buf_t body;         /* taken over by the server after the handler */
    struct {
        char name[32];
        char value[96];
    } headers[SPATE_HTTP_MAX_HEADERS];
    int nheaders;
    /* Optional streamed body, sent with chunked transfer encoding after
     * whatever `body` already holds: `read` fills buf with up to max bytes
     * and returns how many (0 is allowed only together with *end), setting
     * *end after the last byte; a negative return aborts the response.
     * `done` is called exactly once when the response is over, sent or
     * not, to free `cls`. Called on a server thread. */
    long (*read)(void *cls, char *buf, size_t max, bool *end);
    void (*done)(void *cls);
    void *cls;
} spate_http_resp_t;

/* Adds a header to a response (silently ignored past the limit). */
void spate_http_resp_header(spate_http_resp_t *resp, const char *name, const char *value);

/* Called on a server thread for every request; must be thread-safe. */
typedef void (*spate_http_handler_fn)(void *ctx, const spate_http_req_t *req,
                                      spate_http_resp_t *resp);

typedef struct spate_http_server spate_http_server_t;

/* Starts listening on addr with `threads` worker threads (0 = one per
 * core). The server owns nothing of ctx. */
spate_status_t spate_http_server_start(spate_http_server_t **out, const spate_net_addr_t *addr,
                                       int threads, spate_http_handler_fn fn, void *ctx);
/* The port actually bound (useful when 0 was asked for). */
int spate_http_server_port(const spate_http_server_t *s);
/* Stops accepting, finishes in-flight requests, frees the server. */
void spate_http_server_stop(spate_http_server_t *s);

/* ---- event loop ----
 *
 * A small, single-threaded loop in the manner of Redis's ae: file
 * descriptor events (epoll), one-shot timers, and a before-sleep hook
 * where batched work happens (the broker's group-commit fsync and response
 * flushing). Everything runs on the thread that calls spate_loop_run. */

typedef struct spate_loop spate_loop_t;
typedef struct spate_timer spate_timer_t;

enum { SPATE_EV_READ = 1, SPATE_EV_WRITE = 2 };

/* Called with the events that fired (SPATE_EV_*; errors and hang-ups
 * are reported as READ so the read path sees them). */
typedef void (*spate_loop_fd_fn)(spate_loop_t *l, int fd, unsigned events, void *ctx);
typedef void (*spate_loop_timer_fn)(spate_loop_t *l, void *ctx);
typedef void (*spate_loop_hook_fn)(spate_loop_t *l, void *ctx);

spate_loop_t *spate_loop_new(void);
/* Frees the loop and any timers left (their callbacks are not called). */
void spate_loop_free(spate_loop_t *l);
/* Watches fd for `events` (replacing what was watched); 0 stops watching
 * but keeps the registration. */
spate_status_t spate_loop_watch(spate_loop_t *l, int fd, unsigned events, spate_loop_fd_fn fn,
                                void *ctx);
void spate_loop_unwatch(spate_loop_t *l, int fd);
/* A one-shot timer after delay_ms; the handle is valid until it fires or
 * is cancelled. */
spate_timer_t *spate_loop_timer(spate_loop_t *l, int64_t delay_ms, spate_loop_timer_fn fn,
                                void *ctx);
void spate_loop_timer_cancel(spate_loop_t *l, spate_timer_t *t);
void spate_loop_before_sleep(spate_loop_t *l, spate_loop_hook_fn fn, void *ctx);
/* Runs until spate_loop_stop; returns SPATE_EIO if epoll fails. */
spate_status_t spate_loop_run(spate_loop_t *l);
/* Asks the loop to return. Async-signal-safe (it writes to an eventfd). */
void spate_loop_stop(spate_loop_t *l);
/* The loop's clock (monotonic ms), refreshed once per iteration. */
int64_t spate_loop_now(const spate_loop_t *l);

/* Listens on addr (non-blocking, SO_REUSEADDR, backlog 1024); returns the
 * fd or -1 with errno set. */
int spate_net_listen(const spate_net_addr_t *addr);
/* A server's listening socket, watched on its loop: every connection
 * waiting is accepted (non-blocking, close-on-exec) and handed to on_conn
 * with its peer's address as text ("127.0.0.1:50312"); on_conn owns the
 * fd. Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM: the
 * connection stays queued) the socket is unwatched for
 * SPATE_NET_ACCEPT_PAUSE_MS and tried again, with one warning (under
 * component) per SPATE_NET_ACCEPT_WARN_MS at most that counts the pauses:
 * watched all along, a readable socket that cannot be accepted from woke
 * the loop at once, every turn, with a warning each. Other accept errors
 * are logged (WARN) and the socket stays watched. The struct belongs to
 * the server (embedded: a pending resume timer is freed with the loop). */
#define SPATE_NET_ACCEPT_PAUSE_MS 100
#define SPATE_NET_ACCEPT_WARN_MS 10000
typedef struct {
    spate_loop_t *loop;
    int fd;
    const char *component;
    void (*on_conn)(void *ctx, int cfd, const char *peer);
    void *ctx;
    spate_timer_t *resume; /* while paused */
    int64_t warned_ms;     /* when the last warning was logged (0: never) */
    uint64_t pauses;       /* since that warning */
} spate_net_acceptor_t;

spate_status_t spate_net_acceptor_start(spate_net_acceptor_t *a, spate_loop_t *l, int fd,
                                        const char *component,
                                        void (*on_conn)(void *ctx, int cfd, const char *peer),
                                        void *ctx);

/* ---- one request/answer (net_client.c) ---- */

/* Connects to addr, sends req, and reads until frame_len(bytes so far)
 * returns a non-zero length that has been read in full; the answer is left
 * in resp (caller-owned; resp->len is that length or more). Everything
 * happens within timeout_ms. SPATE_ETIMEDOUT / SPATE_EIO / SPATE_ENOMEM
 * with a one-line reason ("connect: Connection refused") in err. */
spate_status_t spate_net_exchange(const spate_net_addr_t *addr, const void *req, size_t reqlen,
                                  size_t (*frame_len)(const uint8_t *p, size_t n),
                                  spate_buf_t *resp, int timeout_ms, char *err, size_t errlen);

#endif /* SPATE_NET_H */
