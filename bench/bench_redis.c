/*
 * bench_redis.c — the broker benchmark's loads against Redis Streams, with
 * hiredis as the client, for comparison with bench_kafka (same modes, same
 * key=value output).
 *
 *   bench_redis HOST:PORT STREAM produce SIZE COUNT     pipelined XADD, msgs/s, MB/s
 *   bench_redis HOST:PORT STREAM consume COUNT          XRANGE in batches of 10000
 *   bench_redis HOST:PORT STREAM latency SIZE RATE SECONDS   p50/p99 XADD round trip ms
 *
 * produce deletes STREAM first. Each record is one field "v" of SIZE bytes.
 * Durability is the server's (appendonly/appendfsync): Redis replies to
 * XADD after the AOF write (and, with appendfsync always, its fsync).
 */
#include <hiredis/hiredis.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WINDOW 1000 /* produce: XADDs in flight */
#define BATCH 10000 /* consume: records per XRANGE */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static redisContext *connect_to(const char *addr) {
    char host[256];
    snprintf(host, sizeof host, "%s", addr);
    char *colon = strrchr(host, ':');
    if (!colon) {
        fprintf(stderr, "bench_redis: address must be HOST:PORT\n");
        exit(2);
    }
    *colon = 0;
    redisContext *c = redisConnect(host, atoi(colon + 1));
    if (!c || c->err) {
        fprintf(stderr, "bench_redis: connect %s: %s\n", addr, c ? c->errstr : "out of memory");
        exit(1);
    }
    return c;
}

/* Reads one pending reply; exits on a connection or command error. */
static void take_reply(redisContext *c) {
    redisReply *r;
    if (redisGetReply(c, (void **)&r) != REDIS_OK) {
        fprintf(stderr, "bench_redis: %s\n", c->errstr);
        exit(1);
    }
    if (r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "bench_redis: %s\n", r->str);
        exit(1);
    }
    freeReplyObject(r);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: bench_redis HOST:PORT STREAM produce|consume|latency ...\n");
        return 2;
    }
    const char *stream = argv[2], *mode = argv[3];
    redisContext *c = connect_to(argv[1]);
    if (strcmp(mode, "produce") == 0 && argc >= 6) {
        size_t size = (size_t)atol(argv[4]);
        long count = atol(argv[5]);
        char *payload = malloc(size);
        memset(payload, 'x', size);
        redisAppendCommand(c, "DEL %s", stream);
        take_reply(c);
        long sent = 0, acked = 0;
        double t0 = now_s();
        while (acked < count) {
            /* Queue up to WINDOW more, then read the replies beyond WINDOW in
             * flight: hiredis writes the queued commands before reading. */
            while (sent < count && sent - acked < 2 * WINDOW) {
                redisAppendCommand(c, "XADD %s * v %b", stream, payload, size);
                sent++;
            }
            long target = sent - acked > WINDOW && sent < count ? sent - WINDOW : sent;
            while (acked < target) {
                take_reply(c);
                acked++;
            }
        }
        double el = now_s() - t0;
        printf("produce size=%zu count=%ld delivered=%ld failed=0 seconds=%.3f msgs_per_s=%.0f "
               "MB_per_s=%.1f\n",
               size, count, acked, el, acked / el, acked * (double)size / el / 1e6);
        free(payload);
        redisFree(c);
        return 0;
    }
    if (strcmp(mode, "consume") == 0 && argc >= 5) {
        long count = atol(argv[4]);
        long got = 0;
        double bytes = 0;
        char start[64] = "-";
        double t0 = now_s();
        while (got < count) {
            redisReply *r = redisCommand(c, "XRANGE %s %s + COUNT %d", stream, start, BATCH);
            if (!r || r->type != REDIS_REPLY_ARRAY) {
                fprintf(stderr, "bench_redis: XRANGE: %s\n", r ? r->str : c->errstr);
                return 1;
            }
            if (r->elements == 0) {
                fprintf(stderr, "bench_redis: consume: stream ended after %ld records\n", got);
                return 1;
            }
            for (size_t i = 0; i < r->elements; i++) {
                redisReply *e = r->element[i];
                redisReply *fields = e->element[1];
                bytes += (double)fields->element[1]->len;
                got++;
                if (i + 1 == r->elements) /* exclusive start after the last id */
                    snprintf(start, sizeof start, "(%s", e->element[0]->str);
            }
            freeReplyObject(r);
        }
        double el = now_s() - t0;
        printf("consume count=%ld seconds=%.3f msgs_per_s=%.0f MB_per_s=%.1f\n", got, el, got / el,
               bytes / el / 1e6);
        redisFree(c);
        return 0;
    }
    if (strcmp(mode, "latency") == 0 && argc >= 7) {
        size_t size = (size_t)atol(argv[4]);
        double rate = atof(argv[5]), secs = atof(argv[6]);
        long total = (long)(rate * secs);
        double *sent_at = malloc(sizeof *sent_at * (size_t)(total + 1));
        double *lat = malloc(sizeof *lat * (size_t)(total + 1));
        char *payload = malloc(size);
        memset(payload, 'y', size);
        long sent = 0, nlat = 0;
        double t0 = now_s();
        /* Open loop: send each XADD when due, whatever is still in flight;
         * replies come back in order, so the i-th reply is the i-th XADD. */
        while (nlat < total) {
            double t = now_s();
            while (sent < total && t >= t0 + (double)sent / rate) {
                redisAppendCommand(c, "XADD %s * v %b", stream, payload, size);
                sent_at[sent++] = now_s();
                int done = 0;
                while (!done)
                    if (redisBufferWrite(c, &done) != REDIS_OK) {
                        fprintf(stderr, "bench_redis: %s\n", c->errstr);
                        return 1;
                    }
                t = now_s();
            }
            int wait_ms = 100;
            if (sent < total) {
                double due = t0 + (double)sent / rate - now_s();
                wait_ms = due > 0 ? (int)(due * 1e3) : 0;
            }
            struct pollfd p = {.fd = c->fd, .events = POLLIN};
            if (poll(&p, 1, wait_ms) > 0) {
                if (redisBufferRead(c) != REDIS_OK) {
                    fprintf(stderr, "bench_redis: %s\n", c->errstr);
                    return 1;
                }
                void *r;
                while (redisGetReplyFromReader(c, &r) == REDIS_OK && r) {
                    lat[nlat] = now_s() - sent_at[nlat];
                    nlat++;
                    freeReplyObject(r);
                }
            }
        }
        qsort(lat, (size_t)nlat, sizeof *lat, cmp_double);
        printf("latency size=%zu rate=%.0f count=%ld p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", size,
               rate, nlat, lat[nlat / 2] * 1e3, lat[nlat * 99 / 100] * 1e3, lat[nlat - 1] * 1e3);
        redisFree(c);
        return 0;
    }
    fprintf(stderr, "bench_redis: bad arguments\n");
    return 2;
}
