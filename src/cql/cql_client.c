/*
 * cql_client.c — the CQL client: one connection, many requests in flight.
 *
 * The design is in cql_client.h. Inside:
 *
 *   slots[stream]   one per stream id 0..MAX_STREAMS-1: the completion of
 *                   the request in flight on it. A request that timed out
 *                   keeps its slot (done = NULL, "abandoned") until its
 *                   late answer arrives, so a stream id is never reused
 *                   while the server may still answer on it.
 *   out, in         bytes to write / bytes read and not yet framed
 *
 * Connection states: fd < 0 (down; the next send connects) or up with a
 * version. Connecting is blocking with conf.connect_timeout_ms per
 * contact point; everything after is non-blocking, driven by poll(2) in
 * spate_cql_client_poll.
 *
 * Handshake (per the protocol spec and what the drivers do): OPTIONS,
 * then STARTUP {CQL_VERSION: 3.0.0}; a server that refuses protocol v4
 * (ERROR 0x000A) gets a new connection speaking v3. AUTHENTICATE is not
 * supported (the error says so).
 */
#include "cql_client.h"

#include "net.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_STREAMS 32768
#define MAX_BODY (256u << 20)

typedef struct {
    bool used;
    spate_cql_done_fn done; /* NULL: abandoned (timed out), answer dropped */
    void *ctx;
    int64_t deadline; /* monotonic ms */
} slot_t;

typedef struct {
    spate_buf_t id;
    char *query;
} prepared_t;

struct spate_cql_client {
    spate_cql_client_conf_t conf;
    char *contact_points, *keyspace;
    int fd;
    int version;
    char peer[80];
    size_t next_contact;
    spate_buf_t out, in;
    size_t out_off;
    slot_t *slots;
    int in_flight; /* slots used, abandoned ones included */
    int next_stream;
    prepared_t *prepared;
    size_t nprepared;
};

void spate_cql_client_conf_default(spate_cql_client_conf_t *c) {
    memset(c, 0, sizeof *c);
    c->contact_points = "127.0.0.1:9042";
    c->connect_timeout_ms = 5000;
    c->request_timeout_ms = 12000;
    c->max_in_flight = 256;
    c->consistency = SPATE_CQL_CL_LOCAL_ONE;
}

void spate_cql_exec_opts_default(spate_cql_exec_opts_t *o) {
    memset(o, 0, sizeof *o);
    o->timestamp = INT64_MIN;
}

void spate_cql_answer_free(spate_cql_answer_t *a) {
    if (!a) return;
    spate_cql_response_free(&a->resp);
    spate_buf_free(&a->body);
    free(a);
}

void spate_cql_answer_error(const spate_cql_answer_t *a, char *err, size_t errlen) {
    if (a->resp.opcode != SPATE_CQL_OP_ERROR) {
        snprintf(err, errlen, "unexpected %s answer", spate_cql_opcode_name(a->resp.opcode));
        return;
    }
    static const struct {
        int32_t code;
        const char *name;
    } names[] = {{SPATE_CQL_ERR_SERVER, "Server error"},
                 {SPATE_CQL_ERR_PROTOCOL, "Protocol error"},
                 {SPATE_CQL_ERR_BAD_CREDENTIALS, "Bad credentials"},
                 {SPATE_CQL_ERR_UNAVAILABLE, "Unavailable"},
                 {SPATE_CQL_ERR_OVERLOADED, "Overloaded"},
                 {SPATE_CQL_ERR_WRITE_TIMEOUT, "Write timeout"},
                 {SPATE_CQL_ERR_READ_TIMEOUT, "Read timeout"},
                 {SPATE_CQL_ERR_SYNTAX, "SyntaxException"},
                 {SPATE_CQL_ERR_UNAUTHORIZED, "Unauthorized"},
                 {SPATE_CQL_ERR_INVALID, "InvalidRequest"},
                 {SPATE_CQL_ERR_CONFIG, "ConfigurationException"},
                 {SPATE_CQL_ERR_ALREADY_EXISTS, "AlreadyExists"},
                 {SPATE_CQL_ERR_UNPREPARED, "Unprepared"}};
    const char *name = "Error";
    for (size_t i = 0; i < SPATE_ARRAY_LEN(names); i++)
        if (names[i].code == a->resp.error.code) name = names[i].name;
    snprintf(err, errlen, "%s (0x%04x): %.*s", name, (unsigned)a->resp.error.code,
             (int)a->resp.error.message.len, a->resp.error.message.p);
}

/* ---- the connection ---- */

/* Fails every request in flight with st and closes the socket. */
static void conn_down(spate_cql_client_t *c, spate_status_t st) {
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    spate_buf_reset(&c->out);
    spate_buf_reset(&c->in);
    c->out_off = 0;
    for (int i = 0; i < MAX_STREAMS && c->in_flight > 0; i++) {
        slot_t *s = &c->slots[i];
        if (!s->used) continue;
        s->used = false;
        c->in_flight--;
        if (s->done) s->done(s->ctx, st, NULL);
    }
}

/* Writes what the socket takes; false when the connection broke. */
static bool flush_out(spate_cql_client_t *c) {
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true;
        } else {
            return false;
        }
    }
    spate_buf_reset(&c->out);
    c->out_off = 0;
    return true;
}

/* Hands every whole frame in c->in to its slot; false on a framing error
 * (the connection is then unusable). */
static bool dispatch_frames(spate_cql_client_t *c) {
    size_t off = 0;
    for (;;) {
        spate_cql_header_t h;
        spate_status_t st = spate_cql_header_parse(c->in.data + off, c->in.len - off, MAX_BODY, &h);
        if (st == SPATE_AGAIN) break;
        if (st != SPATE_OK || !h.response) return false;
        size_t whole = SPATE_CQL_HEADER_LEN + h.length;
        if (c->in.len - off < whole) break;
        const char *body = c->in.data + off + SPATE_CQL_HEADER_LEN;
        off += whole;
        if (h.stream < 0) continue; /* a server-pushed EVENT: not subscribed to here */
        slot_t *s = &c->slots[h.stream];
        if (!s->used) continue; /* nothing asked on this stream: ignore */
        spate_cql_answer_t *a = NULL;
        if (s->done) {
            a = spate_xcalloc(1, sizeof *a);
            if (spate_buf_append(&a->body, body, h.length) != SPATE_OK ||
                spate_cql_response_decode(&h, a->body.data, h.length, &a->resp) != SPATE_OK) {
                spate_buf_free(&a->body);
                free(a);
                return false; /* the server sent something we cannot read */
            }
        }
        s->used = false;
        c->in_flight--;
        if (s->done) s->done(s->ctx, SPATE_OK, a);
        if (c->fd < 0) return true; /* the completion closed the client's connection */
    }
    if (off == c->in.len) {
        spate_buf_reset(&c->in);
    } else if (off) {
        memmove(c->in.data, c->in.data + off, c->in.len - off);
        c->in.len -= off;
    }
    return true;
}

static void expire(spate_cql_client_t *c, int64_t now) {
    for (int i = 0; i < MAX_STREAMS && c->in_flight > 0; i++) {
        slot_t *s = &c->slots[i];
        if (s->used && s->done && now >= s->deadline) {
            spate_cql_done_fn done = s->done;
            s->done = NULL; /* abandoned: keeps the stream until the answer comes */
            done(s->ctx, SPATE_ETIMEDOUT, NULL);
        }
    }
}

int spate_cql_client_poll(spate_cql_client_t *c, int timeout_ms) {
    if (c->fd < 0) return -1;
    if (!flush_out(c)) goto broken;
    struct pollfd p = {.fd = c->fd, .events = POLLIN | (c->out.len ? POLLOUT : 0)};
    int n = poll(&p, 1, timeout_ms);
    if (n < 0 && errno != EINTR) goto broken;
    if (n > 0 && (p.revents & POLLOUT) && !flush_out(c)) goto broken;
    if (n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
        for (;;) {
            if (spate_buf_reserve(&c->in, 64 << 10) != SPATE_OK) goto broken;
            ssize_t r = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1, 0);
            if (r > 0) {
                c->in.len += (size_t)r;
                continue;
            }
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            goto broken; /* EOF or error */
        }
        if (!dispatch_frames(c)) goto broken;
    }
    if (c->fd < 0) return -1;
    expire(c, spate_mono_ms());
    return c->in_flight;
broken:
    conn_down(c, SPATE_EIO);
    return -1;
}

static int16_t take_stream(spate_cql_client_t *c) {
    for (int k = 0; k < MAX_STREAMS; k++) {
        int i = (c->next_stream + k) % MAX_STREAMS;
        if (!c->slots[i].used) {
            c->next_stream = (i + 1) % MAX_STREAMS;
            return (int16_t)i;
        }
    }
    return -1;
}

/* Queues one request on the connection as it is (no reconnect). */
static spate_status_t queue(spate_cql_client_t *c, const spate_cql_request_t *req,
                            spate_cql_done_fn done, void *ctx) {
    int16_t stream = take_stream(c);
    if (stream < 0) return SPATE_AGAIN;
    spate_status_t st = spate_cql_request_write(&c->out, (uint8_t)c->version, stream, req);
    if (st != SPATE_OK) return st;
    c->slots[stream] =
        (slot_t){true, done, ctx, spate_mono_ms() + SPATE_MAX(c->conf.request_timeout_ms, 1)};
    c->in_flight++;
    if (!flush_out(c)) {
        conn_down(c, SPATE_EIO);
        return SPATE_OK; /* its completion has been called with EIO */
    }
    return SPATE_OK;
}

/* ---- synchronous requests ---- */

typedef struct {
    bool done;
    spate_status_t st;
    spate_cql_answer_t *a;
} waiter_t;

static void wake(void *ctx, spate_status_t st, spate_cql_answer_t *a) {
    waiter_t *w = ctx;
    w->done = true;
    w->st = st;
    w->a = a;
}

/* Sends req on the current connection and waits for its answer. */
static spate_status_t roundtrip(spate_cql_client_t *c, const spate_cql_request_t *req,
                                spate_cql_answer_t **out) {
    waiter_t w = {0};
    spate_status_t st = queue(c, req, wake, &w);
    if (st != SPATE_OK) return st;
    while (!w.done && c->fd >= 0) spate_cql_client_poll(c, 100);
    if (!w.done) return SPATE_EIO; /* cannot happen: conn_down completes it */
    *out = w.a;
    return w.st;
}

/* ---- connecting ---- */

static spate_status_t connect_one(spate_cql_client_t *c, const spate_net_addr_t *addr, int version,
                                  char *err, size_t errlen) {
    char text[80];
    spate_net_addr_format(addr, text, sizeof text);
    int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "%s: socket: %s", text, strerror(errno));
        return SPATE_EIO;
    }
    if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0 && errno != EINPROGRESS) {
        snprintf(err, errlen, "%s: connect: %s", text, strerror(errno));
        close(fd);
        return SPATE_EIO;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (poll(&p, 1, c->conf.connect_timeout_ms) <= 0 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
        snprintf(err, errlen, "%s: connect: %s", text,
                 soerr ? strerror(soerr) : "no answer within the connect timeout");
        close(fd);
        return soerr ? SPATE_EIO : SPATE_ETIMEDOUT;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->version = version;
    snprintf(c->peer, sizeof c->peer, "%s", text);

    spate_cql_request_t req = {.opcode = SPATE_CQL_OP_OPTIONS};
    spate_cql_answer_t *a = NULL;
    spate_status_t st = roundtrip(c, &req, &a);
    if (st == SPATE_OK && a->resp.opcode == SPATE_CQL_OP_SUPPORTED) {
        spate_cql_answer_free(a);
        a = NULL;
        spate_cql_pair_t opt = {.key = {"CQL_VERSION", 11}, .value = {"3.0.0", 5}};
        req = (spate_cql_request_t){.opcode = SPATE_CQL_OP_STARTUP, .options = {.n = 1, .e = &opt}};
        st = roundtrip(c, &req, &a);
    }
    if (st != SPATE_OK) {
        snprintf(err, errlen, "%s: connection lost during the handshake", text);
        conn_down(c, SPATE_EIO);
        return st;
    }
    if (a->resp.opcode == SPATE_CQL_OP_READY) {
        spate_cql_answer_free(a);
        return SPATE_OK;
    }
    bool bad_version =
        a->resp.opcode == SPATE_CQL_OP_ERROR && a->resp.error.code == SPATE_CQL_ERR_PROTOCOL;
    if (a->resp.opcode == SPATE_CQL_OP_AUTHENTICATE)
        snprintf(err, errlen, "%s: the server asks for authentication (%.*s), not supported", text,
                 (int)a->resp.authenticator.len, a->resp.authenticator.p);
    else
        spate_cql_answer_error(a, err, errlen);
    spate_cql_answer_free(a);
    conn_down(c, SPATE_EIO);
    return bad_version ? SPATE_ERANGE : SPATE_ERR;
}

/* Connects to the contact points in turn, from the one after the last
 * used; v4 first, v3 if the server refuses v4. */
static spate_status_t reconnect(spate_cql_client_t *c, char *err, size_t errlen) {
    char *list = spate_xstrdup(c->contact_points), *save = NULL;
    size_t n = 0;
    spate_net_addr_t addrs[16];
    for (char *tok = strtok_r(list, ",", &save); tok && n < SPATE_ARRAY_LEN(addrs);
         tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        char with_port[300];
        /* host without a port: CQL's 9042 */
        bool has_port = strrchr(tok, ':') && (tok[0] != '[' || strstr(tok, "]:"));
        snprintf(with_port, sizeof with_port, has_port ? "%s" : "%s:9042", tok);
        if (spate_net_addr_parse(with_port, &addrs[n], err, errlen) == SPATE_OK) n++;
    }
    free(list);
    if (n == 0) {
        if (!err[0]) snprintf(err, errlen, "no contact point in '%s'", c->contact_points);
        return SPATE_EINVAL;
    }
    spate_status_t st = SPATE_EIO;
    for (size_t k = 0; k < n; k++) {
        const spate_net_addr_t *a = &addrs[(c->next_contact + k) % n];
        st = connect_one(c, a, 4, err, errlen);
        if (st == SPATE_ERANGE) st = connect_one(c, a, 3, err, errlen);
        if (st == SPATE_OK) {
            c->next_contact = (c->next_contact + k + 1) % n;
            break;
        }
    }
    if (st != SPATE_OK) return st;
    if (c->keyspace) {
        spate_buf_t q = SPATE_BUF_INIT;
        spate_buf_puts(&q, "USE \"");
        for (const char *p = c->keyspace; *p; p++) {
            if (*p == '"') spate_buf_putc(&q, '"');
            spate_buf_putc(&q, *p);
        }
        spate_buf_putc(&q, '"');
        spate_cql_exec_opts_t o;
        spate_cql_exec_opts_default(&o);
        spate_cql_answer_t *a = NULL;
        st = spate_cql_query(c, q.data, &o, &a, err, errlen);
        spate_cql_answer_free(a);
        spate_buf_free(&q);
        if (st != SPATE_OK) conn_down(c, SPATE_EIO);
    }
    return st;
}

spate_status_t spate_cql_client_connect(spate_cql_client_t **out,
                                        const spate_cql_client_conf_t *conf, char *err,
                                        size_t errlen) {
    spate_cql_client_t *c = spate_xcalloc(1, sizeof *c);
    c->conf = *conf;
    c->contact_points = spate_xstrdup(conf->contact_points ? conf->contact_points : "127.0.0.1");
    c->keyspace = conf->keyspace ? spate_xstrdup(conf->keyspace) : NULL;
    if (c->conf.max_in_flight <= 0 || c->conf.max_in_flight > MAX_STREAMS)
        c->conf.max_in_flight = 256;
    if (c->conf.connect_timeout_ms <= 0) c->conf.connect_timeout_ms = 5000;
    if (c->conf.request_timeout_ms <= 0) c->conf.request_timeout_ms = 12000;
    c->fd = -1;
    c->slots = spate_xcalloc(MAX_STREAMS, sizeof *c->slots);
    err[0] = '\0';
    spate_status_t st = reconnect(c, err, errlen);
    if (st != SPATE_OK) {
        spate_cql_client_free(c);
        *out = NULL;
        return st;
    }
    *out = c;
    return SPATE_OK;
}

void spate_cql_client_free(spate_cql_client_t *c) {
    if (!c) return;
    conn_down(c, SPATE_EIO);
    for (size_t i = 0; i < c->nprepared; i++) {
        spate_buf_free(&c->prepared[i].id);
        free(c->prepared[i].query);
    }
    free(c->prepared);
    spate_buf_free(&c->out);
    spate_buf_free(&c->in);
    free(c->slots);
    free(c->contact_points);
    free(c->keyspace);
    free(c);
}

int spate_cql_client_version(const spate_cql_client_t *c) { return c->version; }
const char *spate_cql_client_peer(const spate_cql_client_t *c) { return c->peer; }

spate_status_t spate_cql_client_send(spate_cql_client_t *c, const spate_cql_request_t *req,
                                     spate_cql_done_fn done, void *ctx) {
    if (c->fd < 0) {
        char err[256] = "";
        spate_status_t st = reconnect(c, err, sizeof err);
        if (st != SPATE_OK) {
            spate_log(SPATE_LOG_WARN, "cql", "reconnect failed: %s", err);
            return st;
        }
    }
    while (c->in_flight >= c->conf.max_in_flight)
        if (spate_cql_client_poll(c, 100) < 0) return SPATE_EIO;
    spate_status_t st = queue(c, req, done, ctx);
    return st == SPATE_AGAIN ? SPATE_EIO : st;
}

spate_status_t spate_cql_client_drain(spate_cql_client_t *c) {
    int64_t deadline = spate_mono_ms() + c->conf.request_timeout_ms + 1000;
    while (c->in_flight > 0) {
        if (spate_mono_ms() > deadline) return SPATE_ETIMEDOUT;
        if (spate_cql_client_poll(c, 100) < 0) return SPATE_EIO;
    }
    return SPATE_OK;
}

/* ---- synchronous calls ---- */

static spate_status_t sync_call(spate_cql_client_t *c, const spate_cql_request_t *req,
                                spate_cql_answer_t **out, char *err, size_t errlen) {
    waiter_t w = {0};
    spate_status_t st = spate_cql_client_send(c, req, wake, &w);
    if (st != SPATE_OK) {
        snprintf(err, errlen, "%s: cannot send: %s", c->peer, spate_status_str(st));
        return st;
    }
    while (!w.done) spate_cql_client_poll(c, 100);
    if (w.st != SPATE_OK) {
        snprintf(err, errlen, "%s: %s", c->peer,
                 w.st == SPATE_ETIMEDOUT ? "no answer within the request timeout"
                                         : "connection lost");
        return w.st;
    }
    if (out) *out = w.a;
    if (w.a->resp.opcode == SPATE_CQL_OP_ERROR) {
        spate_cql_answer_error(w.a, err, errlen);
        if (!out) spate_cql_answer_free(w.a);
        return SPATE_ERR;
    }
    if (!out) spate_cql_answer_free(w.a);
    return SPATE_OK;
}

static void fill_params(spate_cql_client_t *c, const spate_cql_exec_opts_t *o,
                        spate_cql_params_t *p) {
    memset(p, 0, sizeof *p);
    p->consistency = c->conf.consistency;
    p->page_size = -1;
    p->timestamp = INT64_MIN;
    if (!o) return;
    if (o->nvalues) {
        p->flags |= SPATE_CQL_QF_VALUES;
        p->nvalues = o->nvalues;
        p->values = (spate_slice_t *)o->values;
    }
    if (o->page_size > 0) {
        p->flags |= SPATE_CQL_QF_PAGE_SIZE;
        p->page_size = o->page_size;
    }
    if (o->paging_state.p) {
        p->flags |= SPATE_CQL_QF_PAGING_STATE;
        p->paging_state = o->paging_state;
    }
    if (o->timestamp != INT64_MIN) {
        p->flags |= SPATE_CQL_QF_DEFAULT_TIMESTAMP;
        p->timestamp = o->timestamp;
    }
}

spate_status_t spate_cql_query(spate_cql_client_t *c, const char *cql,
                               const spate_cql_exec_opts_t *o, spate_cql_answer_t **out, char *err,
                               size_t errlen) {
    spate_cql_request_t req = {.opcode = SPATE_CQL_OP_QUERY, .query = {cql, (int32_t)strlen(cql)}};
    fill_params(c, o, &req.params);
    return sync_call(c, &req, out, err, errlen);
}

static void remember(spate_cql_client_t *c, spate_slice_t id, const char *cql) {
    for (size_t i = 0; i < c->nprepared; i++)
        if (c->prepared[i].id.len == (size_t)id.len &&
            memcmp(c->prepared[i].id.data, id.p, (size_t)id.len) == 0)
            return;
    c->prepared = spate_xrealloc(c->prepared, (c->nprepared + 1) * sizeof *c->prepared);
    prepared_t *p = &c->prepared[c->nprepared++];
    memset(p, 0, sizeof *p);
    spate_buf_append(&p->id, id.p, (size_t)id.len);
    p->query = spate_xstrdup(cql);
}

spate_status_t spate_cql_prepare(spate_cql_client_t *c, const char *cql, spate_cql_answer_t **out,
                                 char *err, size_t errlen) {
    spate_cql_request_t req = {.opcode = SPATE_CQL_OP_PREPARE,
                               .query = {cql, (int32_t)strlen(cql)}};
    spate_cql_answer_t *a = NULL;
    spate_status_t st = sync_call(c, &req, &a, err, errlen);
    if (st == SPATE_OK && (a->resp.opcode != SPATE_CQL_OP_RESULT ||
                           a->resp.result.kind != SPATE_CQL_RESULT_PREPARED)) {
        snprintf(err, errlen, "%s: PREPARE answered with something else than Prepared", c->peer);
        st = SPATE_ERR;
    }
    if (st == SPATE_OK) remember(c, a->resp.result.id, cql);
    if (out)
        *out = a;
    else
        spate_cql_answer_free(a);
    return st;
}

spate_status_t spate_cql_execute(spate_cql_client_t *c, spate_slice_t id,
                                 const spate_cql_exec_opts_t *o, spate_cql_answer_t **out,
                                 char *err, size_t errlen) {
    for (int attempt = 0;; attempt++) {
        spate_cql_request_t req = {.opcode = SPATE_CQL_OP_EXECUTE, .id = id};
        fill_params(c, o, &req.params);
        spate_cql_answer_t *a = NULL;
        spate_status_t st = sync_call(c, &req, &a, err, errlen);
        bool unprepared = st == SPATE_ERR && a && a->resp.error.code == SPATE_CQL_ERR_UNPREPARED;
        const char *query = NULL;
        for (size_t i = 0; unprepared && i < c->nprepared; i++)
            if (c->prepared[i].id.len == (size_t)id.len &&
                memcmp(c->prepared[i].id.data, id.p, (size_t)id.len) == 0)
                query = c->prepared[i].query;
        if (attempt == 0 && query) {
            /* The server forgot it (a restart): prepare the same text again;
             * the id is the server's hash of it, so it comes back the same. */
            spate_cql_answer_free(a);
            if ((st = spate_cql_prepare(c, query, NULL, err, errlen)) != SPATE_OK) return st;
            continue;
        }
        if (out)
            *out = a;
        else
            spate_cql_answer_free(a);
        return st;
    }
}
