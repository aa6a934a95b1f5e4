/*
 * kafka_server.c — the broker's connections, framing and request loop.
 *
 * Wire framing (both directions): int32 size, then that many bytes.
 *
 *   request   int16 api_key, int16 api_version, int32 correlation_id,
 *             int16-length client_id (nullable), [tagged fields if the
 *             version is flexible], body
 *   response  int32 correlation_id, [tagged fields if flexible — never
 *             for ApiVersions, whose response header is always v0], body
 *
 * Deferred requests (kafka_int.h): Fetches waiting for data re-run after
 * each loop turn that appended data, or answer at their max_wait timer.
 * Durable answers (acks=all Produce, OffsetCommit) do not hold their
 * connection: the response goes to the connection's `held` buffer (with
 * every later response, to keep order) and the connection goes on; the
 * loop's before-sleep hook then does the group commit — one flush of every
 * dirty log and of the committed-offsets file — and releases all held
 * responses. A client pipelining acks=all produces thus pays one fsync per
 * loop turn, not one per request. JoinGroup/SyncGroup wait on a list until
 * the group coordinator (kafka_group.c) answers them through
 * kafka_waiter_answer; their connections resume in the same hook, so the
 * coordinator never re-enters itself through a resumed connection.
 *
 * Limits on outside input: a request frame over 100 MiB (Kafka's
 * socket.request.max.bytes) or under the header size, an unknown API key,
 * or an unsupported version closes the connection (as Kafka does); other
 * connections are not affected.
 */
#include "kafka_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_REQUEST (100 * 1024 * 1024)
#define READ_CHUNK (64 * 1024)
#define READ_BUDGET (4 * 1024 * 1024) /* unprocessed input read per turn */

#define conn_close kafka_conn_close
static bool conn_process(kafka_conn_t *c);

/* ---- output ---- */

static void conn_on_event(spate_loop_t *l, int fd, unsigned ev, void *ctx);

bool kafka_refs_add(kafka_refs_t *r, size_t at, int fd, int64_t pos, size_t len) {
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (d < 0) return false;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 8;
        r->v = spate_xrealloc(r->v, r->cap * sizeof *r->v);
    }
    r->v[r->n++] = (kafka_fileref_t){.at = at, .fd = d, .pos = pos, .len = len};
    return true;
}

void kafka_refs_clear(kafka_refs_t *r) {
    for (size_t i = 0; i < r->n; i++) close(r->v[i].fd);
    r->n = r->done = r->done_part = 0;
}

/* Moves every range of src to dst, shifted by `shift` bytes. */
static void refs_move(kafka_refs_t *dst, kafka_refs_t *src, size_t shift) {
    for (size_t i = 0; i < src->n; i++) {
        if (dst->n == dst->cap) {
            dst->cap = dst->cap ? dst->cap * 2 : 8;
            dst->v = spate_xrealloc(dst->v, dst->cap * sizeof *dst->v);
        }
        dst->v[dst->n] = src->v[i];
        dst->v[dst->n++].at += shift;
    }
    src->n = src->done = src->done_part = 0;
}

/* Writes as much of c->out, with its file ranges, as the socket takes;
 * watches for writability when some is left. Returns false when the
 * connection was closed. */
static bool conn_flush_out(kafka_conn_t *c) {
    kafka_refs_t *r = &c->out_refs;
    for (;;) {
        /* Bytes up to the next file range (or the end). */
        size_t stop = r->done < r->n ? r->v[r->done].at : c->out.len;
        while (c->out_off < stop) {
            int more = r->done < r->n ? MSG_MORE : 0; /* the file range follows */
            ssize_t w =
                send(c->fd, c->out.data + c->out_off, stop - c->out_off, MSG_NOSIGNAL | more);
            if (w < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) goto blocked;
                conn_close(c);
                return false;
            }
            c->out_off += (size_t)w;
        }
        if (r->done == r->n) break;
        kafka_fileref_t *f = &r->v[r->done];
        while (r->done_part < f->len) {
            off_t pos = (off_t)(f->pos + (int64_t)r->done_part);
            ssize_t w = sendfile(c->fd, f->fd, &pos, f->len - r->done_part);
            if (w < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) goto blocked;
            }
            if (w <= 0) { /* an error, or the file is shorter than it was */
                spate_log(SPATE_LOG_ERROR, "kafka", "%s: sendfile: %s; closing", c->peer,
                          w < 0 ? strerror(errno) : "file truncated");
                conn_close(c);
                return false;
            }
            r->done_part += (size_t)w;
        }
        close(f->fd);
        f->fd = -1;
        r->done++;
        r->done_part = 0;
    }
blocked:
    if (c->out_off == c->out.len && r->done == r->n) {
        r->n = r->done = r->done_part = 0; /* their fds are closed */
        spate_buf_reset(&c->out);
        c->out_off = 0;
        if (c->closing) {
            conn_close(c);
            return false;
        }
    }
    /* While a request is deferred and a whole further request is already
     * buffered, stop watching for input: epoll is level-triggered, and a
     * readable socket we do not read would wake the loop forever. Reading
     * resumes with the connection (kafka_conn_resume). */
    bool full = c->busy && c->in.len - c->in_off > MAX_REQUEST;
    /* Output is pending while bytes or file ranges are left (a sendfile
     * that stopped at EAGAIN may have left only a range). */
    bool pending = c->out_off < c->out.len || r->done < r->n;
    unsigned want = (full ? 0 : SPATE_EV_READ) | (pending ? SPATE_EV_WRITE : 0);
    spate_loop_watch(c->b->loop, c->fd, want, conn_on_event, c);
    return true;
}

/* Frames body (and the file ranges in c->body_refs, which it takes) onto
 * the end of dst / dst_refs. The frame's size counts the file bytes. */
static void frame_into(kafka_conn_t *c, spate_buf_t *dst, kafka_refs_t *dst_refs,
                       const kafka_req_t *req, const spate_buf_t *body) {
    size_t start = dst->len, file_bytes = 0;
    bool tags = req->flexible && req->api_key != KAPI_API_VERSIONS;
    if (spate_wr_u32(dst, 0) != SPATE_OK || spate_wr_i32(dst, req->correlation_id) ||
        (tags && spate_wr_u8(dst, 0)) || spate_buf_append(dst, body->data, body->len)) {
        spate_log(SPATE_LOG_ERROR, "kafka", "%s: out of memory for a response", c->peer);
        dst->len = start;
        kafka_refs_clear(&c->body_refs);
        c->closing = true;
        return;
    }
    for (size_t i = 0; i < c->body_refs.n; i++) file_bytes += c->body_refs.v[i].len;
    refs_move(dst_refs, &c->body_refs, dst->len - body->len);
    spate_wr_patch_u32(dst, start, (uint32_t)(dst->len + file_bytes - start - 4));
}

void kafka_conn_respond(kafka_conn_t *c, const kafka_req_t *req, const spate_buf_t *body) {
    /* Behind held responses, to keep request order. */
    if (c->held.len)
        frame_into(c, &c->held, &c->held_refs, req, body);
    else
        frame_into(c, &c->out, &c->out_refs, req, body);
}

void kafka_conn_respond_durable(kafka_conn_t *c, const kafka_req_t *req, const spate_buf_t *body) {
    frame_into(c, &c->held, &c->held_refs, req, body);
    c->b->held = true;
}

/* ---- requests ---- */

static const char *api_name(int16_t key) {
    const kafka_api_t *a = kafka_api_find(key);
    return a ? a->name : "unknown";
}

/* ApiVersions at a version above ours: Kafka answers in v0 layout with
 * UNSUPPORTED_VERSION and its own ApiVersions range, so the client retries
 * with a version both know (KIP-511). */
static void api_versions_unsupported(kafka_conn_t *c, const kafka_req_t *req) {
    const kafka_api_t *a = kafka_api_find(KAPI_API_VERSIONS);
    spate_buf_t body = SPATE_BUF_INIT;
    spate_wr_i16(&body, KERR_UNSUPPORTED_VERSION);
    spate_wr_i32(&body, 1);
    spate_wr_i16(&body, KAPI_API_VERSIONS);
    spate_wr_i16(&body, a->min);
    spate_wr_i16(&body, a->max);
    kafka_req_t v0 = *req;
    v0.flexible = false;
    kafka_conn_respond(c, &v0, &body);
    spate_buf_free(&body);
}

/* Handles one complete frame; false when the connection must close. */
static bool conn_request(kafka_conn_t *c, const uint8_t *p, size_t n) {
    spate_rd_t r;
    spate_rd_init(&r, p, n);
    kafka_req_t req = {0};
    if (spate_rd_i16(&r, &req.api_key) || spate_rd_i16(&r, &req.api_version) ||
        spate_rd_i32(&r, &req.correlation_id) || spate_rd_str16(&r, &req.client_id)) {
        spate_log(SPATE_LOG_WARN, "kafka", "%s: malformed request header; closing", c->peer);
        return false;
    }
    const kafka_api_t *api = kafka_api_find(req.api_key);
    if (!api) {
        spate_log(SPATE_LOG_WARN, "kafka", "%s: unknown API key %d; closing", c->peer, req.api_key);
        return false;
    }
    if (req.api_version < api->min || req.api_version > api->max) {
        if (req.api_key == KAPI_API_VERSIONS && req.api_version > api->max) {
            api_versions_unsupported(c, &req);
            return true;
        }
        spate_log(SPATE_LOG_WARN, "kafka", "%s: %s v%d is not supported (v%d-%d); closing", c->peer,
                  api->name, req.api_version, api->min, api->max);
        return false;
    }
    req.flexible = req.api_version >= api->first_flexible;
    if (req.flexible && kafka_rd_tags(&r) != SPATE_OK) {
        spate_log(SPATE_LOG_WARN, "kafka", "%s: malformed request header tags; closing", c->peer);
        return false;
    }
    spate_buf_t out = SPATE_BUF_INIT;
    kafka_result_t res = api->fn(c->b, c, &req, &r, &out);
    bool keep = true;
    switch (res) {
    case KAFKA_DONE: kafka_conn_respond(c, &req, &out); break;
    case KAFKA_NO_REPLY: break;
    case KAFKA_DEFERRED:
        /* A group request may be answered before its handler returns (the
         * last member to rejoin completes the rebalance): then it is done. */
        if (c->wake)
            c->wake = false;
        else
            c->busy = true;
        break;
    case KAFKA_CLOSE:
        spate_log(SPATE_LOG_WARN, "kafka", "%s: malformed %s v%d request; closing", c->peer,
                  api_name(req.api_key), req.api_version);
        keep = false;
        break;
    }
    kafka_refs_clear(&c->body_refs); /* a handler that did not answer */
    spate_buf_free(&out);
    return keep;
}

/* Runs every complete request in c->in, stopping at a deferred one;
 * false when the connection was closed (c is then freed). */
static bool conn_process(kafka_conn_t *c) {
    while (!c->busy && !c->closing) {
        size_t avail = c->in.len - c->in_off;
        if (avail < 4) break;
        const uint8_t *p = (const uint8_t *)c->in.data + c->in_off;
        int32_t size =
            (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
        if (size < 8 || size > MAX_REQUEST) {
            spate_log(SPATE_LOG_WARN, "kafka", "%s: request size %d out of bounds; closing",
                      c->peer, size);
            conn_close(c);
            return false;
        }
        if (avail < (size_t)size + 4) break;
        c->in_off += (size_t)size + 4;
        if (!conn_request(c, p + 4, (size_t)size)) {
            conn_close(c);
            return false;
        }
    }
    /* Drop consumed bytes. */
    if (c->in_off == c->in.len) {
        spate_buf_reset(&c->in);
        c->in_off = 0;
    } else if (c->in_off > (1 << 20)) {
        memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
        c->in.len -= c->in_off;
        c->in_off = 0;
    }
    return conn_flush_out(c);
}

void kafka_conn_resume(kafka_conn_t *c) {
    c->busy = false;
    conn_process(c);
}

static void conn_on_event(spate_loop_t *l, int fd, unsigned ev, void *ctx) {
    SPATE_UNUSED(l);
    SPATE_UNUSED(fd);
    kafka_conn_t *c = ctx;
    if (ev & SPATE_EV_WRITE) {
        if (!conn_flush_out(c)) return;
    }
    if (!(ev & SPATE_EV_READ)) return;
    for (;;) {
        /* While a request is deferred, keep reading but only up to one
         * more maximal request, so a client cannot pile up memory. Input
         * is then no longer watched; a hang-up still wakes us: peek to
         * tell the peer's end from data that has to wait. */
        if (c->busy && c->in.len - c->in_off > MAX_REQUEST) {
            char one;
            ssize_t p = recv(c->fd, &one, 1, MSG_PEEK);
            if (p == 0 || (p < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                conn_close(c);
                return;
            }
            break;
        }
        if (spate_buf_reserve(&c->in, READ_CHUNK) != SPATE_OK) {
            conn_close(c);
            return;
        }
        ssize_t n = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1, 0);
        if (n > 0) {
            c->in.len += (size_t)n;
            /* Stop at a short read, and after READ_BUDGET unprocessed
             * bytes: a producer faster than the log would otherwise
             * grow c->in for as long as the socket stays readable
             * (epoll is level-triggered: the rest is read next turn). */
            if ((size_t)n < READ_CHUNK || c->in.len - c->in_off >= READ_BUDGET) break;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        conn_close(c); /* EOF or error */
        return;
    }
    conn_process(c);
}

/* ---- connections ---- */

static void waiters_drop_conn(kafka_broker_t *b, kafka_waiter_t **list, kafka_conn_t *c) {
    for (kafka_waiter_t *w = *list, *n; w; w = n) {
        n = w->next;
        if (w->conn == c) kafka_waiter_free(b, w);
    }
}

void kafka_conn_close(kafka_conn_t *c) {
    kafka_broker_t *b = c->b;
    waiters_drop_conn(b, &b->fetch_waiters, c);
    waiters_drop_conn(b, &b->group_waiters, c);
    spate_loop_unwatch(b->loop, c->fd);
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        b->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    spate_log(SPATE_LOG_DEBUG, "kafka", "%s: closed", c->peer);
    spate_buf_free(&c->in);
    spate_buf_free(&c->out);
    spate_buf_free(&c->held);
    kafka_refs_t *lists[] = {&c->out_refs, &c->held_refs, &c->body_refs};
    for (size_t k = 0; k < SPATE_ARRAY_LEN(lists); k++) {
        for (size_t i = lists[k]->done; i < lists[k]->n; i++) close(lists[k]->v[i].fd);
        free(lists[k]->v);
    }
    /* The loop may still have an event for this fd in the current batch:
     * it is unwatched, so the loop skips it; free is safe. */
    free(c);
}

kafka_conn_t *kafka_conn_open(kafka_broker_t *b, int fd, const char *peer) {
    kafka_conn_t *c = spate_xcalloc(1, sizeof *c);
    c->b = b;
    c->fd = fd;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    c->sendfile = b->conf.fetch_sendfile == SPATE_KAFKA_SENDFILE_ALWAYS;
    if (b->conf.fetch_sendfile == SPATE_KAFKA_SENDFILE_AUTO) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        bool loopback = false;
        if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
            if (ss.ss_family == AF_INET)
                loopback = (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
            else if (ss.ss_family == AF_INET6)
                loopback = IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
            else
                loopback = ss.ss_family == AF_UNIX; /* local too (the fuzzer's socketpair) */
        }
        c->sendfile = !loopback;
    }
    c->next = b->conns;
    if (b->conns) b->conns->prev = c;
    b->conns = c;
    if (spate_loop_watch(b->loop, fd, SPATE_EV_READ, conn_on_event, c) != SPATE_OK) {
        conn_close(c);
        return NULL;
    }
    return c;
}

bool kafka_conn_input(kafka_conn_t *c, const void *p, size_t n) {
    if (spate_buf_append(&c->in, p, n) != SPATE_OK) {
        conn_close(c);
        return false;
    }
    return conn_process(c);
}

static void on_conn(void *ctx, int cfd, const char *peer) {
    kafka_conn_t *c = kafka_conn_open(ctx, cfd, peer);
    if (c) spate_log(SPATE_LOG_DEBUG, "kafka", "%s: connected", c->peer);
}

/* ---- deferred requests ---- */

static void fetch_timer_fired(spate_loop_t *l, void *ctx) {
    SPATE_UNUSED(l);
    kafka_waiter_t *w = ctx;
    w->timer = NULL;
    kafka_broker_t *b = w->conn->b;
    kafka_conn_t *c = w->conn;
    if (kafka_fetch_retry(b, w, true)) {
        kafka_waiter_free(b, w);
        kafka_conn_resume(c);
    }
}

kafka_waiter_t *kafka_defer(kafka_broker_t *b, kafka_conn_t *c, const kafka_req_t *req,
                            spate_rd_t *body, int64_t wait_ms) {
    kafka_waiter_t *w = spate_xcalloc(1, sizeof *w);
    w->conn = c;
    w->req = *req;
    w->req.client_id = (spate_slice_t){NULL, -1}; /* points into c->in: not kept */
    if (body) spate_buf_append(&w->body, body->p + body->off, spate_rd_left(body));
    w->kind = KAFKA_WAIT_FETCH;
    w->next = b->fetch_waiters;
    if (b->fetch_waiters) b->fetch_waiters->prev = w;
    b->fetch_waiters = w;
    w->deadline = spate_loop_now(b->loop) + wait_ms;
    w->timer = spate_loop_timer(b->loop, wait_ms, fetch_timer_fired, w);
    return w;
}

kafka_waiter_t *kafka_defer_group(kafka_broker_t *b, kafka_conn_t *c, const kafka_req_t *req,
                                  kafka_waiter_t **owner) {
    kafka_waiter_t *w = spate_xcalloc(1, sizeof *w);
    w->conn = c;
    w->req = *req;
    w->req.client_id = (spate_slice_t){NULL, -1};
    w->kind = KAFKA_WAIT_GROUP;
    w->owner = owner;
    *owner = w;
    w->next = b->group_waiters;
    if (b->group_waiters) b->group_waiters->prev = w;
    b->group_waiters = w;
    return w;
}

void kafka_waiter_answer(kafka_broker_t *b, kafka_waiter_t *w, const spate_buf_t *body) {
    kafka_conn_t *c = w->conn;
    kafka_conn_respond(c, &w->req, body);
    kafka_waiter_free(b, w);
    c->wake = true;
}

void kafka_waiter_free(kafka_broker_t *b, kafka_waiter_t *w) {
    kafka_waiter_t **list = w->kind == KAFKA_WAIT_GROUP ? &b->group_waiters : &b->fetch_waiters;
    if (w->owner && *w->owner == w) *w->owner = NULL;
    if (w->prev)
        w->prev->next = w->next;
    else
        *list = w->next;
    if (w->next) w->next->prev = w->prev;
    if (w->timer) spate_loop_timer_cancel(b->loop, w->timer);
    spate_buf_free(&w->body);
    free(w);
}

/* ---- flushing ----
 *
 * A partition's log is fsynced
 *   - with every other dirty log, at the end of a loop turn in which a
 *     durable answer (acks=all, OffsetCommit) is held: group commit;
 *   - at the end of the loop turn in which it reached flush.messages
 *     unsynced records;
 *   - by the flush timer, once its oldest unsynced record is flush.ms old.
 * The timer is re-armed for the earliest such deadline (at most
 * flush_interval_ms away), and pulled in when an append to a topic with a
 * shorter flush.ms needs it sooner. */

static bool partition_flush(const kafka_topic_t *t, int32_t i, const char *why) {
    kafka_partition_t *p = &t->parts[i];
    bool ok = true;
    if (p->log && spate_klog_dirty(p->log)) {
        ok = spate_klog_flush(p->log) == SPATE_OK;
        if (SPATE_LOG_DEBUG_ON())
            spate_log(SPATE_LOG_DEBUG, "kafka", "%s-%d: fsynced %lld records (%s)", t->name, i,
                      (long long)p->unsynced_records, why);
    }
    p->unsynced_records = 0;
    p->unsynced_since = 0;
    return ok;
}

static bool flush_all(kafka_broker_t *b) {
    bool ok = kafka_groups_flush(b);
    for (kafka_topic_t *t = b->topics; t; t = t->next)
        for (int32_t i = 0; i < t->nparts; i++)
            if (!partition_flush(t, i, "group commit")) ok = false;
    return ok;
}

static void flush_timer_fired(spate_loop_t *l, void *ctx);

/* When a partition dirty since `since` must be flushed (flush.ms may be
 * as large as 2^63-1: saturate). */
static int64_t flush_deadline(int64_t since, int64_t flush_ms) {
    return flush_ms > INT64_MAX - since ? INT64_MAX : since + flush_ms;
}

static void flush_timer_arm(kafka_broker_t *b, int64_t due) {
    int64_t now = spate_loop_now(b->loop);
    if (b->flush_timer) spate_loop_timer_cancel(b->loop, b->flush_timer);
    b->flush_timer_due = SPATE_MAX(due, now + 1);
    b->flush_timer = spate_loop_timer(b->loop, b->flush_timer_due - now, flush_timer_fired, b);
}

static void flush_timer_fired(spate_loop_t *l, void *ctx) {
    kafka_broker_t *b = ctx;
    int64_t now = spate_loop_now(l);
    int64_t next = now + b->conf.flush_interval_ms;
    b->flush_timer = NULL;
    kafka_groups_flush(b);
    for (kafka_topic_t *t = b->topics; t; t = t->next)
        for (int32_t i = 0; i < t->nparts; i++) {
            kafka_partition_t *p = &t->parts[i];
            if (!p->unsynced_since) continue;
            if (now - p->unsynced_since >= t->flush_ms)
                partition_flush(t, i, "flush.ms");
            else
                next = SPATE_MIN(next, flush_deadline(p->unsynced_since, t->flush_ms));
        }
    flush_timer_arm(b, next);
}

void kafka_partition_appended(kafka_broker_t *b, kafka_topic_t *t, kafka_partition_t *p,
                              int64_t n) {
    if (!p->unsynced_since) {
        p->unsynced_since = spate_loop_now(b->loop);
        int64_t due = flush_deadline(p->unsynced_since, t->flush_ms);
        if (due < b->flush_timer_due) flush_timer_arm(b, due);
    }
    p->unsynced_records += n;
    if (p->unsynced_records >= t->flush_messages) b->flush_due = true;
}

/* Once per loop turn: group commit, then waiting fetches see new data. */
static void before_sleep(spate_loop_t *l, void *ctx) {
    SPATE_UNUSED(l);
    kafka_broker_t *b = ctx;
    /* Connections whose group request was answered (kafka_waiter_answer)
     * go on with their next request; that may answer others: repeat. */
    for (bool again = true; again;) {
        again = false;
        for (kafka_conn_t *c = b->conns; c; c = c->next)
            if (c->wake) {
                c->wake = false;
                kafka_conn_resume(c);
                again = true;
                break; /* c may be gone: start over */
            }
    }
    if (b->data_appended) {
        b->data_appended = false;
        for (kafka_waiter_t *w = b->fetch_waiters, *n; w; w = n) {
            n = w->next;
            kafka_conn_t *c = w->conn;
            if (kafka_fetch_retry(b, w, false)) {
                kafka_waiter_free(b, w);
                kafka_conn_resume(c);
                n = b->fetch_waiters; /* the list may have changed: start over */
            }
        }
    }
    /* Group commit, last: one fsync for everything appended this turn,
     * then every held response goes out. If the fsync failed, the data's
     * durability is unknown: those connections are closed so the clients
     * retry rather than trust an answer. */
    if (b->flush_due && !b->held) {
        b->flush_due = false;
        for (kafka_topic_t *t = b->topics; t; t = t->next)
            for (int32_t i = 0; i < t->nparts; i++)
                if (t->parts[i].unsynced_records >= t->flush_messages)
                    partition_flush(t, i, "flush.messages");
    }
    if (b->held) {
        b->held = false;
        b->flush_due = false;
        bool ok = flush_all(b);
        if (!ok)
            spate_log(SPATE_LOG_ERROR, "kafka",
                      "fsync failed: closing connections waiting for durable answers");
        for (kafka_conn_t *c = b->conns, *n; c; c = n) {
            n = c->next;
            if (!c->held.len) continue;
            if (!ok) {
                conn_close(c);
                continue;
            }
            size_t shift = c->out.len;
            if (spate_buf_append(&c->out, c->held.data, c->held.len) != SPATE_OK) {
                conn_close(c);
                continue;
            }
            refs_move(&c->out_refs, &c->held_refs, shift);
            spate_buf_reset(&c->held);
            conn_flush_out(c);
        }
    }
}

static void retention_timer_fired(spate_loop_t *l, void *ctx) {
    kafka_broker_t *b = ctx;
    int64_t now = spate_wall_ms();
    for (kafka_topic_t *t = b->topics; t; t = t->next)
        for (int32_t i = 0; i < t->nparts; i++) {
            int n = spate_klog_enforce_retention(t->parts[i].log, now);
            if (n > 0)
                spate_log(SPATE_LOG_INFO, "kafka", "%s-%d: retention deleted %d segment(s)",
                          t->name, i, n);
        }
    b->retention_timer = spate_loop_timer(l, 60000, retention_timer_fired, b);
}

/* Compacted topics: a pass over each partition that rolled a segment
 * since its last pass (kafka_compact.c). */
static void cleaner_timer_fired(spate_loop_t *l, void *ctx) {
    kafka_broker_t *b = ctx;
    int64_t now = spate_wall_ms();
    for (kafka_topic_t *t = b->topics; t; t = t->next) {
        if (!(t->cleanup & KAFKA_CLEANUP_COMPACT)) continue;
        for (int32_t i = 0; i < t->nparts; i++) {
            kafka_partition_t *p = &t->parts[i];
            size_t nseg = spate_klog_segment_count(p->log);
            int64_t active, end, size;
            spate_klog_segment_info(p->log, nseg - 1, &active, &end, &size);
            /* (retention may delete segments meanwhile: the active one's
             * base, not the count, tells that one has rolled) */
            if (nseg < 2 || active == p->compacted_active_base) continue;
            if (kafka_compact_partition(b, t, i, now) >= 0) p->compacted_active_base = active;
        }
    }
    b->cleaner_timer = spate_loop_timer(l, b->conf.compaction_interval_ms, cleaner_timer_fired, b);
}

/* ---- the broker ---- */

spate_status_t kafka_topics_load(kafka_broker_t *b, char *err, size_t errlen);
void kafka_topics_close(kafka_broker_t *b);
spate_status_t kafka_meta_load(kafka_broker_t *b, char *err, size_t errlen);

void spate_kafka_conf_default(spate_kafka_conf_t *c) {
    memset(c, 0, sizeof *c);
    char err[128];
    spate_net_addr_parse("127.0.0.1:9092", &c->listen, err, sizeof err);
    snprintf(c->data_dir, sizeof c->data_dir, "spate-data/broker");
    c->node_id = 1;
    c->auto_create_topics = true;
    c->default_partitions = 1;
    c->max_partitions = 1000;
    c->max_message_bytes = 1048588;
    c->segment_bytes = 1LL << 30;
    c->retention_ms = 7LL * 24 * 3600 * 1000;
    c->retention_bytes = -1;
    c->durable = true;
    c->flush_interval_ms = 1000;
    c->flush_messages = INT64_MAX;
    c->compaction_interval_ms = 15000;
}

spate_status_t spate_kafka_broker_start(spate_kafka_broker_t **out, const spate_kafka_conf_t *c,
                                        char *err, size_t errlen) {
    kafka_broker_t *b = spate_xcalloc(1, sizeof *b);
    b->conf = *c;
    b->listen_fd = -1;
    b->offsets_fd = -1;
    b->loop = spate_loop_new();
    if (!b->loop) {
        snprintf(err, errlen, "cannot create the event loop");
        goto err;
    }
    if (kafka_meta_load(b, err, errlen) != SPATE_OK) goto err;
    if (kafka_topics_load(b, err, errlen) != SPATE_OK) goto err;
    if (kafka_groups_load(b, err, errlen) != SPATE_OK) goto err;
    if (kafka_producers_load(b, err, errlen) != SPATE_OK) goto err;
    b->listen_fd = spate_net_listen(&c->listen);
    if (b->listen_fd < 0) {
        char a[80];
        spate_net_addr_format(&c->listen, a, sizeof a);
        snprintf(err, errlen, "cannot listen on %s: %s", a, strerror(errno));
        goto err;
    }
    spate_net_addr_t bound = {.len = sizeof bound.ss};
    getsockname(b->listen_fd, (struct sockaddr *)&bound.ss, &bound.len);
    b->port = spate_net_addr_port(&bound);
    if (!b->conf.advertise_port) b->conf.advertise_port = b->port;
    if (!b->conf.advertise_host[0]) {
        char a[80];
        spate_net_addr_format(&c->listen, a, sizeof a);
        char *colon = strrchr(a, ':');
        if (colon) *colon = '\0';
        const char *h = a[0] == '[' ? a + 1 : a;
        snprintf(b->conf.advertise_host, sizeof b->conf.advertise_host, "%s", h);
        size_t hl = strlen(b->conf.advertise_host);
        if (hl && b->conf.advertise_host[hl - 1] == ']') b->conf.advertise_host[hl - 1] = '\0';
    }
    if (spate_net_acceptor_start(&b->acceptor, b->loop, b->listen_fd, "kafka", on_conn, b) !=
        SPATE_OK) {
        snprintf(err, errlen, "cannot watch the listening socket: %s", strerror(errno));
        goto err;
    }
    spate_loop_before_sleep(b->loop, before_sleep, b);
    flush_timer_arm(b, spate_loop_now(b->loop) + b->conf.flush_interval_ms);
    b->retention_timer = spate_loop_timer(b->loop, 60000, retention_timer_fired, b);
    b->cleaner_timer =
        spate_loop_timer(b->loop, b->conf.compaction_interval_ms, cleaner_timer_fired, b);
    *out = b;
    return SPATE_OK;
err:
    spate_kafka_broker_free(b);
    return SPATE_EIO;
}

int spate_kafka_broker_port(const spate_kafka_broker_t *b) { return b->port; }

spate_status_t spate_kafka_broker_run(spate_kafka_broker_t *b) { return spate_loop_run(b->loop); }

void spate_kafka_broker_stop(spate_kafka_broker_t *b) {
    if (b && b->loop) spate_loop_stop(b->loop);
}

/* Flushes every log and closes everything; tolerates a half-started broker. */
void spate_kafka_broker_free(spate_kafka_broker_t *b) {
    if (!b) return;
    /* Answer producers waiting for a flush: the flush happens below, but
     * their connections close now; they will retry (and idempotent
     * producers' retries are deduplicated, kafka_producer.c). */
    while (b->conns) conn_close(b->conns);
    while (b->fetch_waiters) kafka_waiter_free(b, b->fetch_waiters);
    while (b->group_waiters) kafka_waiter_free(b, b->group_waiters);
    kafka_groups_close(b);
    kafka_producers_close(b);
    kafka_topics_close(b);
    if (b->listen_fd >= 0) close(b->listen_fd);
    spate_loop_free(b->loop); /* frees the remaining timers */
    free(b);
}
