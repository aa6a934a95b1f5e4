/*
 * bench_cql.c — the CQL store benchmark client: upserts of created_users
 * rows and point reads by id, against spate cql (through spate's own CQL
 * client library, cql.h) or, for comparison, PostgreSQL (libpq, pipeline
 * mode over several connections).
 *
 *   bench_cql cql HOST:PORT      TEST COUNT [key=value...]
 *   bench_cql pg  CONNINFO       TEST COUNT [key=value...]
 *
 *   TEST     what it does                                  result
 *   setup    keyspace/table (CQL), table (SQL)             -
 *   upsert   COUNT prepared upserts, ids first..first+COUNT-1, as fast
 *            as `window` requests in flight allow           ops/s, p50/p99
 *   read     COUNT point reads of random ids in 0..keys-1  ops/s, p50/p99,
 *                                                           misses
 *   rate     COUNT upserts at a fixed `rate` per second;    p50/p99/max,
 *            latency from each request's scheduled send     achieved rate
 *            time (no coordinated omission)
 *
 *   options  window=256 (requests in flight, all connections together)
 *            conns=4 (pg: connections, each pipelining window/conns)
 *            batch=1 (cql upsert: rows per request; K > 1 sends unlogged
 *            BATCHes of K rows of distinct partitions, to weigh per-
 *            request costs against per-row ones)
 *            first=0 keys=COUNT rate=20000 seed=1
 *
 * The row (the seed's table): id uuid PRIMARY KEY and ten text columns
 * with lengths like randomuser.me's (first_name ... picture, ~230 bytes),
 * made deterministically from the row number, so both systems store the
 * same data. CQL: INSERT (an upsert); SQL: INSERT ... ON CONFLICT (id) DO
 * UPDATE SET every column. Each SQL upsert is its own transaction (a
 * pipeline sync after each), as each CQL write is acknowledged alone.
 *
 * One line of key=value results on stdout, e.g.
 *   spate upsert rows=300000 secs=2.9 ops_per_s=103448 p50_ms=2.1 p99_ms=4.0 errors=0
 */
#include "cql.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COLS 11

/* ---- options and results ---- */

typedef struct {
    const char *sys, *target, *test;
    long count;
    long window, conns, first, keys, rate, batch;
    unsigned seed;
} opts_t;

typedef struct {
    int64_t *start; /* [count] scheduled/submit time, ns */
    int32_t *lat;   /* [count] µs */
    long count;
    long done, errors, misses;
    char first_error[256];
} run_t;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void finish(run_t *r, long i) {
    int64_t d = (now_ns() - r->start[i]) / 1000;
    r->lat[r->done++] = (int32_t)(d > INT32_MAX ? INT32_MAX : d);
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

static void report(const opts_t *o, run_t *r, double secs) {
    qsort(r->lat, (size_t)r->done, sizeof *r->lat, cmp_i32);
    double p50 = r->done ? r->lat[r->done / 2] / 1000.0 : 0;
    double p99 = r->done ? r->lat[(long)((double)r->done * 0.99)] / 1000.0 : 0;
    double max = r->done ? r->lat[r->done - 1] / 1000.0 : 0;
    printf("%s %s rows=%ld secs=%.2f ops_per_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.1f "
           "errors=%ld",
           strcmp(o->sys, "cql") == 0 ? "spate" : "postgres", o->test, r->done, secs,
           (double)r->done / secs, p50, p99, max, r->errors);
    if (strcmp(o->test, "read") == 0) printf(" misses=%ld", r->misses);
    if (strcmp(o->test, "rate") == 0) printf(" target_per_s=%ld", o->rate);
    printf("\n");
    if (r->first_error[0]) fprintf(stderr, "bench_cql: first error: %s\n", r->first_error);
}

/* ---- the data ---- */

static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static void row_id(long i, uint8_t u[16]) {
    uint64_t a = mix((uint64_t)i * 2 + 1), b = mix((uint64_t)i * 2 + 2);
    for (int k = 0; k < 8; k++) {
        u[k] = (uint8_t)(a >> (8 * k));
        u[8 + k] = (uint8_t)(b >> (8 * k));
    }
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
}

static void uuid_text(const uint8_t u[16], char out[37]) {
    static const char hex[] = "0123456789abcdef";
    int o = 0;
    for (int k = 0; k < 16; k++) {
        if (k == 4 || k == 6 || k == 8 || k == 10) out[o++] = '-';
        out[o++] = hex[u[k] >> 4];
        out[o++] = hex[u[k] & 15];
    }
    out[o] = '\0';
}

typedef struct {
    char v[COLS - 1][96];
    size_t n[COLS - 1];
} row_t;

/* Ten text columns of row i (version v changes them, so an upsert of an
 * existing row writes new values). */
static void make_row(long i, long v, row_t *r) {
    static const char *const first[] = {"Emma",  "Liam",  "Olivia", "Noah",  "Ava",    "Lucas",
                                        "Sofia", "Mateo", "Mia",    "Elias", "Aurora", "Hugo"};
    static const char *const last[] = {"Martin",   "Garcia",  "Johnson", "Novak",  "Silva",
                                       "Kowalski", "Nielsen", "Fischer", "Moreau", "Rossi"};
    static const char *const street[] = {"Main Street",  "Oak Avenue",  "Rue de la Paix",
                                         "Hauptstrasse", "Calle Mayor", "Station Road"};
    static const char *const city[] = {"Springfield", "Lyon",    "Leipzig", "Valencia",
                                       "Aarhus",      "Bristol", "Porto"};
    uint64_t h = mix((uint64_t)i * 7919 + (uint64_t)v);
    const char *f = first[h % 12], *l = last[(h >> 8) % 10];
    int k = 0;
#define COL(...) r->n[k] = (size_t)snprintf(r->v[k], sizeof r->v[k], __VA_ARGS__), k++
    COL("%s", f);
    COL("%s", l);
    COL("%s", (h >> 12) & 1 ? "female" : "male");
    COL("%u %s, %s, %s", (unsigned)(h >> 16) % 9999 + 1, street[(h >> 20) % 6], city[(h >> 24) % 7],
        "United Kingdom");
    COL("%05u", (unsigned)(h >> 28) % 100000);
    COL("%s.%s%u@example.com", f, l, (unsigned)(h >> 36) % 100);
    COL("%s%s%u", (h >> 40) & 1 ? "happy" : "silver", (h >> 41) & 1 ? "tiger" : "goose",
        (unsigned)(h >> 42) % 1000);
    COL("20%02u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)(h >> 44) % 20 + 2,
        (unsigned)(h >> 48) % 12 + 1, (unsigned)(h >> 52) % 28 + 1, (unsigned)(h >> 20) % 24,
        (unsigned)(h >> 26) % 60, (unsigned)(h >> 32) % 60, (unsigned)(h >> 38) % 1000);
    COL("(%03u) %03u-%04u", (unsigned)(h >> 10) % 1000, (unsigned)(h >> 30) % 1000,
        (unsigned)(h >> 50) % 10000);
    COL("https://randomuser.me/api/portraits/%s/%u.jpg", (h >> 12) & 1 ? "women" : "men",
        (unsigned)(h >> 54) % 100);
#undef COL
}

/* ---- spate cql ---- */

static run_t *cql_run;
static bool cql_reading;

static long cql_batch = 1; /* rows per request (upsert batch=K) */

static void cql_done(void *ctx, spate_status_t st, spate_cql_answer_t *a) {
    long i = (long)(intptr_t)ctx; /* the request's (first) row */
    run_t *r = cql_run;
    if (st != SPATE_OK || spate_cql_answer_kind(a) == SPATE_CQL_ANSWER_ERROR) {
        r->errors++;
        if (!r->first_error[0]) {
            if (a)
                spate_cql_answer_error_text(a, r->first_error, sizeof r->first_error);
            else
                snprintf(r->first_error, sizeof r->first_error, "%s", spate_status_str(st));
        }
    } else if (cql_reading && spate_cql_answer_rows(a) != 1) {
        r->misses++;
    }
    for (long k = 0; k < cql_batch && i + k < r->count; k++) finish(r, i + k);
    spate_cql_answer_free(a);
}

static void cql_bind_upsert(spate_cql_query_t *q, long id, long version) {
    uint8_t u[16];
    row_t row;
    row_id(id, u);
    make_row(id, version, &row);
    spate_cql_query_clear(q);
    spate_cql_query_bind_uuid(q, 0, u);
    for (int k = 0; k < COLS - 1; k++) spate_cql_query_bind_text(q, k + 1, row.v[k], row.n[k]);
}

static int run_cql(const opts_t *o, run_t *r) {
    spate_cql_client_conf_t conf;
    spate_cql_client_conf_default(&conf);
    conf.contact_points = o->target;
    conf.max_in_flight = (int)o->window;
    conf.request_timeout_ms = 60000;
    spate_cql_client_t *c;
    char err[512];
    if (spate_cql_client_connect(&c, &conf, err, sizeof err) != SPATE_OK) {
        fprintf(stderr, "bench_cql: %s\n", err);
        return 1;
    }
    if (strcmp(o->test, "setup") == 0) {
        const char *ddl[] = {
            "DROP KEYSPACE IF EXISTS bench",
            "CREATE KEYSPACE bench WITH replication = {'class': 'SimpleStrategy', "
            "'replication_factor': 1}",
            "CREATE TABLE bench.created_users (id uuid PRIMARY KEY, first_name text, last_name "
            "text, gender text, address text, post_code text, email text, username text, "
            "registered_date text, phone text, picture text)"};
        for (size_t k = 0; k < sizeof ddl / sizeof *ddl; k++)
            if (spate_cql_client_query(c, ddl[k], NULL) != SPATE_OK) {
                fprintf(stderr, "bench_cql: %s: %s\n", ddl[k], spate_cql_client_error(c));
                spate_cql_client_free(c);
                return 1;
            }
        spate_cql_client_free(c);
        return 0;
    }
    bool read = strcmp(o->test, "read") == 0;
    const char *cql = read ? "SELECT * FROM bench.created_users WHERE id = ?"
                           : "INSERT INTO bench.created_users (id, first_name, last_name, gender, "
                             "address, post_code, email, username, registered_date, phone, "
                             "picture) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    spate_cql_prepared_t *p;
    if (spate_cql_client_prepare(c, cql, &p) != SPATE_OK) {
        fprintf(stderr, "bench_cql: prepare: %s\n", spate_cql_client_error(c));
        spate_cql_client_free(c);
        return 1;
    }
    spate_cql_query_t *q = spate_cql_query_new_prepared(p);
    spate_cql_query_t *bq = spate_cql_batch_new(SPATE_CQL_BATCH_TYPE_UNLOGGED);
    cql_batch = read || strcmp(o->test, "upsert") != 0 ? 1 : o->batch;
    r->count = o->count;
    cql_run = r;
    cql_reading = read;
    srand(o->seed);
    bool paced = strcmp(o->test, "rate") == 0;
    int64_t t0 = now_ns(), gap = paced ? 1000000000 / o->rate : 0;
    for (long i = 0; i < o->count; i++) {
        int64_t when = t0 + i * gap;
        while (paced) { /* wait for i's turn, answering what comes meanwhile */
            int64_t left = when - now_ns();
            if (left <= 0) break;
            if (left > 1500000) {
                spate_cql_client_poll(c, 1);
            } else {
                spate_cql_client_poll(c, 0);
                struct timespec ts = {0, left > 100000 ? 100000 : left};
                nanosleep(&ts, NULL);
            }
        }
        if (read) {
            uint8_t u[16];
            row_id(rand() % o->keys, u);
            spate_cql_query_clear(q);
            spate_cql_query_bind_uuid(q, 0, u);
        } else {
            cql_bind_upsert(q, o->first + i, o->seed);
        }
        r->start[i] = paced ? when : now_ns();
        const spate_cql_query_t *send = q;
        long first = i;
        if (cql_batch > 1) { /* rows first.. (distinct partitions): one request */
            spate_cql_query_clear(bq);
            spate_cql_batch_add(bq, q);
            while (i + 1 < o->count && i + 1 - first < cql_batch) {
                i++;
                cql_bind_upsert(q, o->first + i, o->seed);
                r->start[i] = r->start[first];
                spate_cql_batch_add(bq, q);
            }
            send = bq;
        }
        if (spate_cql_client_submit(c, send, cql_done, (void *)(intptr_t)first) != SPATE_OK) {
            fprintf(stderr, "bench_cql: submit: %s\n", spate_cql_client_error(c));
            break;
        }
        if (paced) spate_cql_client_poll(c, 0);
    }
    spate_cql_client_drain(c);
    report(o, r, (double)(now_ns() - t0) / 1e9);
    spate_cql_query_free(bq);
    spate_cql_query_free(q);
    spate_cql_client_free(c);
    return r->errors ? 1 : 0;
}

/* ---- PostgreSQL ---- */

typedef struct {
    PGconn *pg;
    long *fifo; /* request numbers in flight, in order */
    long head, tail, cap;
} pgc_t;

static int pg_exec(PGconn *pg, const char *sql) {
    PGresult *res = PQexec(pg, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok) fprintf(stderr, "bench_cql: %s: %s", sql, PQerrorMessage(pg));
    PQclear(res);
    return ok ? 0 : 1;
}

/* Reads what has arrived on one connection; each request ends with its
 * pipeline sync. */
static int pg_collect(const opts_t *o, run_t *r, pgc_t *k) {
    if (!PQconsumeInput(k->pg)) {
        fprintf(stderr, "bench_cql: %s", PQerrorMessage(k->pg));
        return 1;
    }
    while (k->head < k->tail && !PQisBusy(k->pg)) {
        PGresult *res = PQgetResult(k->pg);
        if (!res) continue; /* the end of one query's results */
        ExecStatusType s = PQresultStatus(res);
        if (s == PGRES_PIPELINE_SYNC) {
            finish(r, k->fifo[k->head++ % k->cap]);
        } else if (s == PGRES_TUPLES_OK) {
            if (PQntuples(res) != 1) r->misses++;
        } else if (s != PGRES_COMMAND_OK) {
            r->errors++;
            if (!r->first_error[0])
                snprintf(r->first_error, sizeof r->first_error, "%s", PQresultErrorMessage(res));
        }
        PQclear(res);
    }
    (void)o;
    return 0;
}

/* Waits up to timeout_ms for any connection to be readable (or writable
 * with output pending) and collects. */
static int pg_poll(const opts_t *o, run_t *r, pgc_t *k, int n, int timeout_ms) {
    struct pollfd pf[64];
    for (int j = 0; j < n; j++) {
        int f = PQflush(k[j].pg);
        if (f < 0) return 1;
        pf[j] = (struct pollfd){.fd = PQsocket(k[j].pg), .events = POLLIN | (f ? POLLOUT : 0)};
    }
    if (poll(pf, (nfds_t)n, timeout_ms) < 0) return 1;
    for (int j = 0; j < n; j++)
        if (pf[j].revents && pg_collect(o, r, &k[j])) return 1;
    return 0;
}

static int run_pg(const opts_t *o, run_t *r) {
    int n = (int)(strcmp(o->test, "setup") == 0 ? 1 : o->conns);
    if (n < 1 || n > 64) n = 4;
    pgc_t *k = calloc((size_t)n, sizeof *k);
    long per = o->window / n > 0 ? o->window / n : 1;
    int rc = 1;
    for (int j = 0; j < n; j++) {
        k[j].pg = PQconnectdb(o->target);
        if (PQstatus(k[j].pg) != CONNECTION_OK) {
            fprintf(stderr, "bench_cql: %s", PQerrorMessage(k[j].pg));
            goto out;
        }
        k[j].cap = per + 1;
        k[j].fifo = calloc((size_t)k[j].cap, sizeof *k[j].fifo);
    }
    if (strcmp(o->test, "setup") == 0) {
        rc = pg_exec(k[0].pg, "DROP TABLE IF EXISTS created_users") ||
             pg_exec(k[0].pg, "CREATE TABLE created_users (id uuid PRIMARY KEY, first_name text, "
                              "last_name text, gender text, address text, post_code text, email "
                              "text, username text, registered_date text, phone text, picture "
                              "text)");
        goto out;
    }
    bool read = strcmp(o->test, "read") == 0;
    const char *sql = read ? "SELECT * FROM created_users WHERE id = $1"
                           : "INSERT INTO created_users (id, first_name, last_name, gender, "
                             "address, post_code, email, username, registered_date, phone, "
                             "picture) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON "
                             "CONFLICT (id) DO UPDATE SET first_name = EXCLUDED.first_name, "
                             "last_name = EXCLUDED.last_name, gender = EXCLUDED.gender, address "
                             "= EXCLUDED.address, post_code = EXCLUDED.post_code, email = "
                             "EXCLUDED.email, username = EXCLUDED.username, registered_date = "
                             "EXCLUDED.registered_date, phone = EXCLUDED.phone, picture = "
                             "EXCLUDED.picture";
    for (int j = 0; j < n; j++) {
        PGresult *res = PQprepare(k[j].pg, "q", sql, read ? 1 : COLS, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            fprintf(stderr, "bench_cql: prepare: %s", PQerrorMessage(k[j].pg));
            PQclear(res);
            goto out;
        }
        PQclear(res);
        if (PQsetnonblocking(k[j].pg, 1) != 0 || PQenterPipelineMode(k[j].pg) != 1) {
            fprintf(stderr, "bench_cql: pipeline mode: %s", PQerrorMessage(k[j].pg));
            goto out;
        }
    }
    srand(o->seed);
    bool paced = strcmp(o->test, "rate") == 0;
    int64_t t0 = now_ns(), gap = paced ? 1000000000 / o->rate : 0;
    long i = 0;
    int next = 0;
    while (r->done < o->count) {
        /* send what the windows and the schedule allow */
        while (i < o->count) {
            int64_t when = t0 + i * gap;
            if (paced && now_ns() < when) break;
            pgc_t *c = NULL;
            for (int t = 0; t < n && !c; t++) {
                pgc_t *cand = &k[(next + t) % n];
                if (cand->tail - cand->head < per) c = cand;
            }
            if (!c) break;
            next = (int)((c - k) + 1) % n;
            char idt[37];
            uint8_t u[16];
            row_t row;
            const char *vals[COLS];
            int lens[COLS], fmts[COLS] = {0};
            row_id(read ? rand() % o->keys : o->first + i, u);
            uuid_text(u, idt);
            vals[0] = idt;
            lens[0] = 36;
            if (!read) {
                make_row(o->first + i, o->seed, &row);
                for (int t = 0; t < COLS - 1; t++) {
                    vals[t + 1] = row.v[t];
                    lens[t + 1] = (int)row.n[t];
                }
            }
            if (!PQsendQueryPrepared(c->pg, "q", read ? 1 : COLS, vals, lens, fmts, 0) ||
                !PQpipelineSync(c->pg)) {
                fprintf(stderr, "bench_cql: send: %s", PQerrorMessage(c->pg));
                goto out;
            }
            r->start[i] = paced ? when : now_ns();
            c->fifo[c->tail++ % c->cap] = i;
            i++;
        }
        int64_t left = paced && i < o->count ? t0 + i * gap - now_ns() : INT64_MAX;
        if (pg_poll(o, r, k, n, left > 1500000 ? 1 : 0)) {
            fprintf(stderr, "bench_cql: poll failed\n");
            goto out;
        }
        if (left > 0 && left <= 1500000) {
            struct timespec ts = {0, left > 100000 ? 100000 : left};
            nanosleep(&ts, NULL);
        }
    }
    report(o, r, (double)(now_ns() - t0) / 1e9);
    rc = r->errors ? 1 : 0;
out:
    for (int j = 0; j < n; j++) {
        if (k[j].pg) PQfinish(k[j].pg);
        free(k[j].fifo);
    }
    free(k);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 4 || (strcmp(argv[1], "cql") != 0 && strcmp(argv[1], "pg") != 0)) {
        fprintf(stderr, "usage: bench_cql cql HOST:PORT|pg CONNINFO setup|upsert|read|rate COUNT "
                        "[window=N] [conns=N] [first=N] [keys=N] [rate=N] [seed=N] [batch=N]\n");
        return 2;
    }
    opts_t o = {.sys = argv[1],
                .target = argv[2],
                .test = argv[3],
                .count = argc > 4 ? atol(argv[4]) : 0,
                .window = 256,
                .conns = 4,
                .rate = 20000,
                .seed = 1};
    o.keys = o.count;
    for (int a = 5; a < argc; a++) {
        const char *eq = strchr(argv[a], '=');
        long v = eq ? atol(eq + 1) : 0;
        if (!eq) continue;
        if (strncmp(argv[a], "window=", 7) == 0) o.window = v;
        if (strncmp(argv[a], "conns=", 6) == 0) o.conns = v;
        if (strncmp(argv[a], "first=", 6) == 0) o.first = v;
        if (strncmp(argv[a], "keys=", 5) == 0) o.keys = v;
        if (strncmp(argv[a], "rate=", 5) == 0) o.rate = v;
        if (strncmp(argv[a], "seed=", 5) == 0) o.seed = (unsigned)v;
        if (strncmp(argv[a], "batch=", 6) == 0) o.batch = v;
    }
    if (o.window < 1) o.window = 1;
    if (o.batch < 1) o.batch = 1;
    if (o.keys < 1) o.keys = 1;
    if (o.rate < 1) o.rate = 1;
    if (strcmp(o.test, "setup") != 0 && o.count < 1) {
        fprintf(stderr, "bench_cql: COUNT must be positive\n");
        return 2;
    }
    spate_log_set_level(SPATE_LOG_ERROR);
    run_t r = {0};
    r.start = calloc((size_t)o.count + 1, sizeof *r.start);
    r.lat = calloc((size_t)o.count + 1, sizeof *r.lat);
    int rc = strcmp(o.sys, "cql") == 0 ? run_cql(&o, &r) : run_pg(&o, &r);
    free(r.start);
    free(r.lat);
    return rc;
}
