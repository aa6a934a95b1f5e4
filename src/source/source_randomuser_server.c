/*
 * source_randomuser_server.c — the randomuser.me-compatible HTTP API.
 *
 *   GET /api/  /api  /api/1.4/  /api/1.4   users (query as randomuser.me)
 *   GET /health                            {"status":"ok"} (readiness)
 *   anything else                          404 {"error": "..."}
 *   other methods on /api/                 405
 *
 * Fault injection (all off by default) lets clients be tested against the
 * failures the real service is known for (seed-reference.md §5): added
 * latency, 5xx answers, a per-client rate limit answered with 429 and
 * Retry-After exactly as randomuser.me counts it (users generated per
 * client IP per window), and the empty-results outage shape of 2026.
 * Faults are drawn from their own RNG (fault_seed) so a test can make
 * them reproducible.
 */
#include "source_int.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

struct spate_ru_server {
    spate_ru_server_conf_t conf;
    spate_http_server_t *http;
    pthread_mutex_t lock; /* guards everything below */
    uint64_t fault_rng;
    int64_t window_start_ms;
    /* users counted per client IP in this window: a small open table */
    struct rl_entry {
        char ip[64];
        int64_t users;
    } * rl;
    size_t rl_cap, rl_len;
};

void spate_ru_server_conf_default(spate_ru_server_conf_t *c) {
    memset(c, 0, sizeof *c);
    char err[128];
    spate_net_addr_parse("127.0.0.1:8088", &c->listen, err, sizeof err);
    c->error_status = 503;
    c->rate_window_s = 300;
}

static double fault_draw(spate_ru_server_t *s) {
    /* xorshift64*, under the lock */
    uint64_t x = s->fault_rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->fault_rng = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static void json_error(spate_http_resp_t *resp, int status, const char *msg) {
    resp->status = status;
    spate_buf_reset(&resp->body);
    spate_buf_puts(&resp->body, "{\"error\":");
    spate_json_put_str(&resp->body, msg, strlen(msg));
    spate_buf_puts(&resp->body, "}");
}

/* Adds `users` to the client's count; returns the seconds until the window
 * resets when the client was already at the limit, 0 when allowed. */
static int64_t rate_check(spate_ru_server_t *s, const char *ip, int64_t users, int64_t *count) {
    int64_t now = spate_mono_ms();
    int64_t win = (int64_t)s->conf.rate_window_s * 1000;
    if (now - s->window_start_ms >= win) {
        s->window_start_ms = now;
        s->rl_len = 0;
    }
    struct rl_entry *e = NULL;
    for (size_t i = 0; i < s->rl_len; i++)
        if (strcmp(s->rl[i].ip, ip) == 0) e = &s->rl[i];
    if (!e) {
        if (s->rl_len == s->rl_cap) {
            s->rl_cap = s->rl_cap ? s->rl_cap * 2 : 16;
            s->rl = spate_xrealloc(s->rl, s->rl_cap * sizeof *s->rl);
        }
        e = &s->rl[s->rl_len++];
        snprintf(e->ip, sizeof e->ip, "%s", ip);
        e->users = 0;
    }
    *count = e->users;
    /* As randomuser.me: refused once the count has reached the limit; the
     * request that crosses it is still served. */
    if (e->users >= s->conf.rate_limit) {
        int64_t left = (win - (now - s->window_start_ms) + 999) / 1000;
        return left > 0 ? left : 1;
    }
    e->users += users;
    return 0;
}

static bool path_is_api(const char *path) {
    static const char *const ok[] = {"/api", "/api/", "/api/1.4", "/api/1.4/"};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(ok); i++)
        if (strcmp(path, ok[i]) == 0) return true;
    return false;
}

/* A streamed response body: generator state and the bytes made but not
 * yet handed to the HTTP layer (a block ends on a user boundary, so each
 * fill makes a little more than asked). */
#define RU_FIRST_BLOCK (64 * 1024) /* a response up to this size is sent whole */
typedef struct {
    spate_ru_stream_t st;
    spate_buf_t pend;
    size_t off;
    bool done;
} ru_body_t;

static long ru_read(void *cls, char *buf, size_t max, bool *end) {
    ru_body_t *rb = cls;
    /* Compact JSON (the common case) is written straight into the HTTP
     * layer's block: a user is at most JSON_USER_MAX (4 KiB) bytes, so
     * stopping 8 KiB short of the end always leaves room for the last
     * user and the info block, and no copy is needed. */
    if (rb->off == rb->pend.len && !rb->done && rb->st.p.format == SPATE_RU_FMT_JSON &&
        max >= 4 * 8192) {
        spate_buf_t fb;
        spate_buf_init_fixed(&fb, buf, max);
        if (spate_ru_stream_fill(&rb->st, &fb, max - 8192, &rb->done) != SPATE_OK) return -1;
        *end = rb->done;
        return (long)fb.len;
    }
    if (rb->off == rb->pend.len) {
        spate_buf_reset(&rb->pend);
        rb->off = 0;
        /* A fill ends on a user boundary, at most one user past `max`:
         * reserve that once so the buffer never doubles. */
        if (!rb->done && (spate_buf_reserve(&rb->pend, max + 8192) != SPATE_OK ||
                          spate_ru_stream_fill(&rb->st, &rb->pend, max, &rb->done) != SPATE_OK))
            return -1;
    }
    size_t n = SPATE_MIN(max, rb->pend.len - rb->off);
    memcpy(buf, rb->pend.data + rb->off, n);
    rb->off += n;
    *end = rb->done && rb->off == rb->pend.len;
    return (long)n;
}

static void ru_done(void *cls) {
    ru_body_t *rb = cls;
    spate_buf_free(&rb->pend);
    free(rb);
}

void spate_ru_server_handle(spate_ru_server_t *s, const spate_http_req_t *req,
                            spate_http_resp_t *resp) {
    if (strcmp(req->path, "/health") == 0) {
        spate_buf_puts(&resp->body, "{\"status\":\"ok\"}");
        return;
    }
    if (!path_is_api(req->path)) {
        /* /api/<other version>/ is a version this server does not have. */
        json_error(
            resp, 404,
            strncmp(req->path, "/api/", 5) == 0
                ? "Unknown API version: spate randomuser serves version 1.4 (/api/ or /api/1.4/)"
                : "Not found: the API is at /api/");
        return;
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        json_error(resp, 405, "Method not allowed: use GET");
        spate_http_resp_header(resp, "Allow", "GET, HEAD");
        return;
    }
    spate_ru_params_t p;
    spate_ru_params_parse_query(&p, req->query, strlen(req->query));

    const spate_ru_server_conf_t *c = &s->conf;
    int latency = 0;
    bool fail = false, empty = false;
    int64_t retry_after = 0, count = 0;
    pthread_mutex_lock(&s->lock);
    if (c->latency_max_ms > 0)
        latency = c->latency_min_ms +
                  (int)(fault_draw(s) * (double)(c->latency_max_ms - c->latency_min_ms + 1));
    if (c->error_rate > 0 && fault_draw(s) < c->error_rate) fail = true;
    if (!fail && c->empty_rate > 0 && fault_draw(s) < c->empty_rate) empty = true;
    if (!fail && !empty && c->rate_limit > 0)
        retry_after = rate_check(s, req->client_ip, p.results, &count);
    pthread_mutex_unlock(&s->lock);

    if (latency > 0) spate_sleep_ms(latency);
    if (fail) {
        json_error(resp, c->error_status,
                   "Uh oh, something has gone wrong. Please tweet us @randomapi about the issue. "
                   "Thank you.");
        return;
    }
    if (retry_after > 0) {
        char msg[256], ra[24];
        snprintf(msg, sizeof msg,
                 "Whoa, ease up there cowboy. You've requested %lld users in the last minute. Help "
                 "us keep this service free and spare some bandwidth for other users please :)",
                 (long long)count);
        json_error(resp, 429, msg);
        snprintf(ra, sizeof ra, "%lld", (long long)retry_after);
        spate_http_resp_header(resp, "Retry-After", ra);
        return;
    }
    /* The first block is made here: a small response is sent whole, with
     * a Content-Length; a larger one streams the rest from ru_read, so a
     * 5000-user answer needs one block of memory, not 5 MB. */
    ru_body_t *rb = spate_xcalloc(1, sizeof *rb);
    char seed[64];
    spate_ru_pick_seed(&p, seed);
    spate_ru_stream_init(&rb->st, &p, seed, spate_wall_ms(), empty);
    bool done = false;
    if (spate_ru_stream_fill(&rb->st, &resp->body, RU_FIRST_BLOCK, &done) != SPATE_OK) {
        free(rb);
        json_error(resp, 500, "out of memory generating users");
        return;
    }
    if (done) {
        free(rb);
    } else {
        resp->read = ru_read;
        resp->done = ru_done;
        resp->cls = rb;
    }
    resp->content_type = spate_ru_content_type(p.format);
    if (p.callback[0] && p.format == SPATE_RU_FMT_JSON)
        resp->content_type = "application/javascript";
    if (p.download) {
        static const char *const ext[] = {"json", "json", "csv", "yaml", "xml"};
        char cd[64];
        snprintf(cd, sizeof cd, "attachment; filename=\"randomuser.%s\"", ext[p.format]);
        spate_http_resp_header(resp, "Content-Disposition", cd);
    }
    spate_http_resp_header(resp, "Access-Control-Allow-Origin", "*");
}

static void handle_cb(void *ctx, const spate_http_req_t *req, spate_http_resp_t *resp) {
    spate_ru_server_handle(ctx, req, resp);
}

static spate_ru_server_t *server_new(const spate_ru_server_conf_t *c) {
    spate_ru_server_t *s = spate_xcalloc(1, sizeof *s);
    s->conf = *c;
    if (s->conf.rate_window_s <= 0) s->conf.rate_window_s = 300;
    if (!s->conf.error_status) s->conf.error_status = 503;
    pthread_mutex_init(&s->lock, NULL);
    s->fault_rng = c->fault_seed;
    if (!s->fault_rng && getrandom(&s->fault_rng, sizeof s->fault_rng, 0) != sizeof s->fault_rng)
        s->fault_rng = (uint64_t)spate_mono_ns();
    s->fault_rng |= 1;
    s->window_start_ms = spate_mono_ms();
    return s;
}

static void server_free(spate_ru_server_t *s) {
    pthread_mutex_destroy(&s->lock);
    free(s->rl);
    free(s);
}

spate_status_t spate_ru_server_start(spate_ru_server_t **out, const spate_ru_server_conf_t *c) {
    spate_ru_server_t *s = server_new(c);
    spate_status_t st = spate_http_server_start(&s->http, &c->listen, c->threads, handle_cb, s);
    if (st != SPATE_OK) {
        server_free(s);
        return st;
    }
    *out = s;
    return SPATE_OK;
}

int spate_ru_server_port(const spate_ru_server_t *s) { return spate_http_server_port(s->http); }

void spate_ru_server_stop(spate_ru_server_t *s) {
    if (!s) return;
    if (s->http) spate_http_server_stop(s->http);
    server_free(s);
}
