/*
 * bench_nats.c — the broker benchmark's loads against NATS JetStream, for
 * comparison with bench_kafka (same modes, same key=value output). A
 * minimal client of the NATS text protocol written for this benchmark
 * (CONNECT, SUB, PUB with a reply inbox, MSG), no library.
 *
 *   bench_nats HOST:PORT STREAM produce SIZE COUNT     msgs/s, MB/s
 *   bench_nats HOST:PORT STREAM consume COUNT          msgs/s, MB/s (from seq 1)
 *   bench_nats HOST:PORT STREAM latency SIZE RATE SECONDS   p50/p99 publish->ack ms
 *
 * produce and latency (re)create STREAM (file storage, one replica,
 * subject = STREAM) and publish to it with a reply inbox: JetStream's ack,
 * {"stream":..,"seq":..}, arrives there once the message is stored. At
 * most WINDOW publishes are unacknowledged. consume creates a durable pull
 * consumer (ack_policy none, deliver_policy all) and asks for BATCH
 * messages a request on $JS.API.CONSUMER.MSG.NEXT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WINDOW 1000 /* unacknowledged publishes */
#define BATCH 10000 /* messages per pull request */

static int fd;
static char rbuf[1 << 22];
static size_t rlen, rpos;
static char *wbuf;
static size_t wlen, wcap;

/* The last MSG read: its subject and body (pointers into rbuf). */
static const char *msg_subj, *msg_body;
static size_t msg_len;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what) {
    fprintf(stderr, "bench_nats: %s\n", what);
    exit(1);
}

static void out(const void *p, size_t n) {
    if (wlen + n > wcap) {
        wcap = (wlen + n) * 2;
        wbuf = realloc(wbuf, wcap);
        if (!wbuf) die("out of memory");
    }
    memcpy(wbuf + wlen, p, n);
    wlen += n;
}

static void outf(const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    out(line, (size_t)n);
}

static void flush_out(void) {
    size_t off = 0;
    while (off < wlen) {
        ssize_t n = write(fd, wbuf + off, wlen - off);
        if (n <= 0) die("write failed");
        off += (size_t)n;
    }
    wlen = 0;
}

static void publish(const char *subj, const char *reply, const void *body, size_t n) {
    outf("PUB %s %s %zu\r\n", subj, reply, n);
    out(body, n);
    out("\r\n", 2);
}

/* Reads more from the socket; returns 0 on timeout (timeout_ms >= 0). */
static int fill(int timeout_ms) {
    if (rpos > 0) {
        memmove(rbuf, rbuf + rpos, rlen - rpos);
        rlen -= rpos;
        rpos = 0;
    }
    if (rlen == sizeof rbuf) die("protocol line too long");
    if (timeout_ms >= 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) <= 0) return 0;
    }
    ssize_t n = read(fd, rbuf + rlen, sizeof rbuf - rlen);
    if (n <= 0) die("connection closed");
    rlen += (size_t)n;
    return 1;
}

/* Parses one protocol message from the buffer if a whole one is there:
 * returns 1 for MSG (msg_subj/msg_body set), 2 for anything else handled
 * (PING answered, PONG, +OK, INFO), 0 when more input is needed. */
static int parse_one(void) {
    char *line = rbuf + rpos;
    char *eol = memmem(line, rlen - rpos, "\r\n", 2);
    if (!eol) return 0;
    size_t ll = (size_t)(eol - line);
    if (ll >= 4 && memcmp(line, "MSG ", 4) == 0) {
        /* MSG <subject> <sid> [reply-to] <#bytes> */
        char *last = eol;
        while (last > line && last[-1] != ' ') last--;
        size_t n = strtoul(last, NULL, 10);
        size_t need = ll + 2 + n + 2;
        if (rlen - rpos < need) return 0;
        msg_subj = line + 4;
        msg_body = eol + 2;
        msg_len = n;
        rpos += need;
        return 1;
    }
    if (ll >= 4 && memcmp(line, "-ERR", 4) == 0) {
        fprintf(stderr, "bench_nats: server: %.*s\n", (int)ll, line);
        exit(1);
    }
    if (ll == 4 && memcmp(line, "PING", 4) == 0) {
        out("PONG\r\n", 6);
        flush_out();
    }
    rpos += ll + 2;
    return 2;
}

/* Blocks until the next MSG. */
static void next_msg(void) {
    for (;;) {
        int r = parse_one();
        if (r == 1) return;
        if (r == 0) fill(-1);
    }
}

/* A JetStream API request: returns the response body (NUL-terminated copy). */
static char *request(const char *subj, const char *body) {
    publish(subj, "_INBOX.api", body, strlen(body));
    flush_out();
    next_msg();
    char *resp = strndup(msg_body, msg_len);
    if (strstr(resp, "\"error\"")) {
        fprintf(stderr, "bench_nats: %s: %s\n", subj, resp);
        exit(1);
    }
    return resp;
}

static void connect_to(const char *addr) {
    char host[256];
    snprintf(host, sizeof host, "%s", addr);
    char *colon = strrchr(host, ':');
    if (!colon) die("address must be HOST:PORT");
    *colon = 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) die("address must be an IPv4 address");
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) die("connect failed");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* headers:false: no HMSG, so every delivery is a plain MSG. */
    outf("CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":false,\"name\":\"bench\"}\r\n");
    outf("SUB _INBOX.api 1\r\nSUB _INBOX.ack 2\r\nSUB _INBOX.pull 3\r\nPING\r\n");
    flush_out();
    for (;;) { /* INFO, then PONG */
        char *eol = memmem(rbuf + rpos, rlen - rpos, "\r\n", 2);
        if (!eol) {
            fill(-1);
            continue;
        }
        int pong = strncmp(rbuf + rpos, "PONG", 4) == 0;
        parse_one();
        if (pong) break;
    }
}

static void make_stream(const char *stream) {
    char subj[256], body[512];
    snprintf(subj, sizeof subj, "$JS.API.STREAM.DELETE.%s", stream);
    publish(subj, "_INBOX.api", "", 0); /* an error (no such stream) is fine */
    flush_out();
    next_msg();
    snprintf(subj, sizeof subj, "$JS.API.STREAM.CREATE.%s", stream);
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"subjects\":[\"%s\"],\"storage\":\"file\",\"retention\":"
             "\"limits\",\"discard\":\"old\",\"num_replicas\":1}",
             stream, stream);
    free(request(subj, body));
}

/* Consumes one ack from the publish inbox (or an API response). */
static void take_ack(void) {
    next_msg();
    if (memmem(msg_body, msg_len, "\"error\"", 7)) {
        fprintf(stderr, "bench_nats: publish: %.*s\n", (int)msg_len, msg_body);
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: bench_nats HOST:PORT STREAM produce|consume|latency ...\n");
        return 2;
    }
    const char *stream = argv[2], *mode = argv[3];
    connect_to(argv[1]);
    if (strcmp(mode, "produce") == 0 && argc >= 6) {
        size_t size = (size_t)atol(argv[4]);
        long count = atol(argv[5]);
        char *payload = malloc(size);
        memset(payload, 'x', size);
        make_stream(stream);
        long sent = 0, acked = 0;
        double t0 = now_s();
        while (acked < count) {
            while (sent < count && sent - acked < WINDOW) {
                publish(stream, "_INBOX.ack", payload, size);
                sent++;
            }
            flush_out();
            /* Half the window back, then refill: keeps the pipe full. */
            long target = sent < count ? sent - WINDOW / 2 : sent;
            while (acked < target) {
                take_ack();
                acked++;
            }
        }
        double el = now_s() - t0;
        printf("produce size=%zu count=%ld delivered=%ld failed=0 seconds=%.3f msgs_per_s=%.0f "
               "MB_per_s=%.1f\n",
               size, count, acked, el, acked / el, acked * (double)size / el / 1e6);
        return 0;
    }
    if (strcmp(mode, "consume") == 0 && argc >= 5) {
        long count = atol(argv[4]);
        char subj[256], body[512];
        snprintf(subj, sizeof subj, "$JS.API.CONSUMER.DURABLE.CREATE.%s.bench", stream);
        snprintf(body, sizeof body,
                 "{\"stream_name\":\"%s\",\"config\":{\"durable_name\":\"bench\",\"ack_policy\":"
                 "\"none\",\"deliver_policy\":\"all\",\"max_request_batch\":%d}}",
                 stream, BATCH);
        free(request(subj, body));
        snprintf(subj, sizeof subj, "$JS.API.CONSUMER.MSG.NEXT.%s.bench", stream);
        long got = 0;
        double bytes = 0;
        double t0 = now_s();
        while (got < count) {
            long want = count - got < BATCH ? count - got : BATCH;
            snprintf(body, sizeof body, "{\"batch\":%ld}", want);
            publish(subj, "_INBOX.pull", body, strlen(body));
            flush_out();
            for (long i = 0; i < want; i++) {
                next_msg();
                bytes += (double)msg_len;
                got++;
            }
        }
        double el = now_s() - t0;
        printf("consume count=%ld seconds=%.3f msgs_per_s=%.0f MB_per_s=%.1f\n", got, el, got / el,
               bytes / el / 1e6);
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
        make_stream(stream);
        long sent = 0, nlat = 0;
        double t0 = now_s();
        /* Open loop: publish when due; acks of one stream come in order. */
        while (nlat < total) {
            while (sent < total && now_s() >= t0 + (double)sent / rate) {
                publish(stream, "_INBOX.ack", payload, size);
                sent_at[sent++] = now_s();
                flush_out();
            }
            int r;
            while ((r = parse_one()) != 0)
                if (r == 1) {
                    if (memmem(msg_body, msg_len, "\"error\"", 7)) die("publish error");
                    lat[nlat] = now_s() - sent_at[nlat];
                    nlat++;
                }
            int wait_ms = 100;
            if (sent < total) {
                double due = t0 + (double)sent / rate - now_s();
                wait_ms = due > 0 ? (int)(due * 1e3) : 0;
            }
            fill(wait_ms);
        }
        qsort(lat, (size_t)nlat, sizeof *lat, cmp_double);
        printf("latency size=%zu rate=%.0f count=%ld p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", size,
               rate, nlat, lat[nlat / 2] * 1e3, lat[nlat * 99 / 100] * 1e3, lat[nlat - 1] * 1e3);
        return 0;
    }
    fprintf(stderr, "bench_nats: bad arguments\n");
    return 2;
}
