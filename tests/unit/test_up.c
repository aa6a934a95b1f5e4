/*
 * test_up.c — unit tests of the pure pieces of `spate up` (src/up/):
 *
 *   lines     a child's output cut into lines: split reads, a last line
 *             without '\n', over-long lines emitted in pieces
 *   prefix    "broker     | " with and without colour
 *   crashes   the crash budget: counts within the window only; backoff
 *             250 ms doubled up to 8 s
 *   status    the status line with known and unknown numbers
 *   config    defaults; the `up:` section over them (external services,
 *             contact point lists, derived data dirs); what is taken from
 *             `scheduler:`; errors with file:line and the key
 *   numbers   up_stats_refresh against a spate broker run in this process
 *             (port 0, temp dir): "kafka" is the topic's high watermarks
 *             summed; "lag" counts a partition without a committed offset
 *             whole, then follows the offsets a librdkafka consumer commits;
 *             an unknown topic is "-" for both (spate_kafka_topic_offsets,
 *             spate_kafka_group_lag: SPATE_ENOENT)
 *   --once    the scheduler REST conversation against a fake API (a
 *             spate_http_server on port 0): the exact requests (unpause,
 *             trigger, poll with the run id percent-encoded), success after
 *             "running"; a failed run and a refused trigger fail with the
 *             reason
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <ftw.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <unistd.h>

#include "kafka.h"
#include "net.h"
#include "up_int.h"

/* ---- lines ---- */

typedef struct {
    char out[8192];
    size_t len;
    int calls;
} sink_t;

static void collect(void *ctx, const char *line, size_t n) {
    sink_t *s = ctx;
    memcpy(s->out + s->len, line, n);
    s->len += n;
    s->out[s->len++] = '|';
    s->out[s->len] = '\0';
    s->calls++;
}

static void test_lines_split(void **state) {
    (void)state;
    spate_up_lines_t l = {.len = 0};
    sink_t s = {.len = 0};
    spate_up_lines_feed(&l, "one\ntw", 6, collect, &s);
    assert_string_equal(s.out, "one|");
    spate_up_lines_feed(&l, "o\n\nthree", 8, collect, &s);
    assert_string_equal(s.out, "one|two||");
    spate_up_lines_flush(&l, collect, &s);
    assert_string_equal(s.out, "one|two||three|");
    assert_int_equal(s.calls, 4);
    spate_up_lines_flush(&l, collect, &s); /* nothing left: no empty line */
    assert_int_equal(s.calls, 4);
}

static void test_lines_long(void **state) {
    (void)state;
    static spate_up_lines_t l;
    static sink_t s;
    char big[SPATE_UP_LINE_MAX + 10];
    memset(big, 'x', sizeof big);
    big[sizeof big - 1] = '\n';
    spate_up_lines_feed(&l, big, sizeof big, collect, &s);
    assert_int_equal(s.calls, 2);
    /* SPATE_UP_LINE_MAX bytes, '|', then the 9 that were left */
    assert_int_equal(s.len, SPATE_UP_LINE_MAX + 1 + 9 + 1);
    assert_int_equal(s.out[SPATE_UP_LINE_MAX], '|');
}

/* ---- prefix ---- */

static void test_prefix(void **state) {
    (void)state;
    char p[64];
    spate_up_prefix(SPATE_UP_BROKER, false, p, sizeof p);
    assert_string_equal(p, "broker     | ");
    spate_up_prefix(SPATE_UP_RANDOMUSER, false, p, sizeof p);
    assert_string_equal(p, "randomuser | ");
    spate_up_prefix(SPATE_UP_NCOMP, false, p, sizeof p);
    assert_string_equal(p, "up         | ");
    spate_up_prefix(SPATE_UP_STREAM, true, p, sizeof p);
    assert_string_equal(p, "\033[32mstream     \033[0m| ");
    assert_string_equal(spate_up_comp_name(SPATE_UP_SCHEDULER), "scheduler");
    assert_string_equal(spate_up_comp_name(SPATE_UP_NCOMP), "?");
}

/* ---- crash budget ---- */

static void test_crashes(void **state) {
    (void)state;
    spate_up_crashes_t r = {.n = 0};
    assert_int_equal(spate_up_crashes_record(&r, 1000, 60000), 1);
    assert_int_equal(spate_up_crashes_record(&r, 2000, 60000), 2);
    assert_int_equal(spate_up_crashes_record(&r, 30000, 60000), 3);
    /* 1000 and 2000 are more than a minute before 62000 */
    assert_int_equal(spate_up_crashes_record(&r, 62000, 60000), 2);
    assert_int_equal(spate_up_crashes_record(&r, 62001, 60000), 3);
    /* the ring keeps the last 16: 20 crashes at once count 16 */
    spate_up_crashes_t q = {.n = 0};
    int k = 0;
    for (int i = 0; i < 20; i++) k = spate_up_crashes_record(&q, 5000 + i, 60000);
    assert_int_equal(k, SPATE_UP_CRASH_RING);
}

static void test_backoff(void **state) {
    (void)state;
    assert_int_equal(spate_up_backoff_ms(1), 250);
    assert_int_equal(spate_up_backoff_ms(2), 500);
    assert_int_equal(spate_up_backoff_ms(3), 1000);
    assert_int_equal(spate_up_backoff_ms(6), 8000);
    assert_int_equal(spate_up_backoff_ms(100), 8000);
}

static void test_stats_format(void **state) {
    (void)state;
    spate_buf_t b = SPATE_BUF_INIT;
    spate_up_stats_t s = {1000, 990, 990, 985, 5, 0};
    spate_up_stats_format(&s, &b);
    assert_string_equal(b.data, "staged 1000 (published 990) · kafka 990 · stored 985 · lag 5");
    spate_buf_reset(&b);
    spate_up_stats_t u = {-1, -1, 12, -1, -1, 2};
    spate_up_stats_format(&u, &b);
    assert_string_equal(b.data, "staged - · kafka 12 · stored - · lag - · restarts 2");
    spate_buf_free(&b);
}

/* ---- numbers, against a spate broker in this process ---- */

static void *broker_main(void *b) {
    spate_kafka_broker_run(b);
    return NULL;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* acks=all produce of n messages to partition part, waited for. */
static void produce_n(const char *bootstrap, const char *topic, int32_t part, int n) {
    char e[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, e, sizeof e), 0);
    assert_int_equal(rd_kafka_conf_set(conf, "acks", "all", e, sizeof e), 0);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
    assert_non_null(rk);
    for (int i = 0; i < n; i++)
        assert_int_equal(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
                                           RD_KAFKA_V_VALUE("m", 1),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                           RD_KAFKA_V_END),
                         0);
    assert_int_equal(rd_kafka_flush(rk, 10000), 0);
    assert_int_equal(rd_kafka_outq_len(rk), 0);
    rd_kafka_destroy(rk);
}

/* Commits offset `off` of topic [part] for group, without joining it. */
static void commit_offset(const char *bootstrap, const char *group, const char *topic, int32_t part,
                          int64_t off) {
    char e[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, e, sizeof e), 0);
    assert_int_equal(rd_kafka_conf_set(conf, "group.id", group, e, sizeof e), 0);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
    assert_non_null(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, part)->offset = off;
    assert_int_equal(rd_kafka_commit(rk, l, 0), 0);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

static void test_stats_kafka(void **state) {
    (void)state;
    char dir[] = "/tmp/spate_test_up_XXXXXX", err[256];
    assert_non_null(mkdtemp(dir));
    static spate_kafka_conf_t kc;
    spate_kafka_conf_default(&kc);
    assert_int_equal(spate_net_addr_parse("127.0.0.1:0", &kc.listen, err, sizeof err), SPATE_OK);
    snprintf(kc.data_dir, sizeof kc.data_dir, "%s", dir);
    kc.auto_create_topics = false;
    spate_kafka_broker_t *b = NULL;
    assert_int_equal(spate_kafka_broker_start(&b, &kc, err, sizeof err), SPATE_OK);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, broker_main, b), 0);

    static spate_up_conf_t c;
    static up_t u;
    static spate_up_opts_t o;
    volatile int stop = 0;
    spate_up_conf_default(&c);
    c.staging[0] = '\0'; /* no staging database: "staged -" */
    c.partitions = 3;
    snprintf(c.topic, sizeof c.topic, "up_t");
    snprintf(c.group, sizeof c.group, "up_g");
    o = (spate_up_opts_t){.exe = "/bin/false", .stop_flag = &stop};
    memset(&u, 0, sizeof u);
    u.c = &c;
    u.o = &o;
    for (int i = 0; i < SPATE_UP_NCOMP; i++) u.ch[i].fd = -1;
    snprintf(u.kafka, sizeof u.kafka, "127.0.0.1:%d", spate_kafka_broker_port(b));
    snprintf(u.contact, sizeof u.contact, "127.0.0.1:1"); /* no store: "stored -" */

    /* No topic yet: both numbers unknown. */
    up_stats_refresh(&u);
    assert_int_equal(u.stats.in_kafka, -1);
    assert_int_equal(u.stats.lag, -1);
    spate_kafka_client_opts_t ko = {u.kafka, 5000};
    int64_t v = -7;
    assert_int_equal(spate_kafka_group_lag(&ko, "up_g", "up_t", &v, err, sizeof err), SPATE_ENOENT);
    assert_string_equal(err, "unknown topic 'up_t'");
    assert_int_equal(v, -7);

    assert_int_equal(up_topic_ensure(&u, err, sizeof err), SPATE_OK); /* creates it */
    assert_int_equal(up_topic_ensure(&u, err, sizeof err), SPATE_OK); /* finds it */
    produce_n(u.kafka, "up_t", 0, 5);
    produce_n(u.kafka, "up_t", 1, 3);
    produce_n(u.kafka, "up_t", 2, 2);
    int32_t np = 0;
    assert_int_equal(spate_kafka_topic_offsets(&ko, "up_t", &v, &np, err, sizeof err), SPATE_OK);
    assert_int_equal(v, 10);
    assert_int_equal(np, 3);

    /* The group has committed nothing: it lags by the whole topic. */
    up_stats_refresh(&u);
    assert_int_equal(u.stats.in_kafka, 10);
    assert_int_equal(u.stats.lag, 10);
    assert_int_equal(u.stats.staged, -1);
    assert_int_equal(u.stats.stored, -1);

    /* 2 of 5 on partition 0, all 3 of partition 1, nothing on 2. */
    commit_offset(u.kafka, "up_g", "up_t", 0, 2);
    commit_offset(u.kafka, "up_g", "up_t", 1, 3);
    up_stats_refresh(&u);
    assert_int_equal(u.stats.in_kafka, 10);
    assert_int_equal(u.stats.lag, 3 + 0 + 2);
    /* Another group's commits are not ours. */
    commit_offset(u.kafka, "other", "up_t", 2, 2);
    produce_n(u.kafka, "up_t", 1, 4);
    up_stats_refresh(&u);
    assert_int_equal(u.stats.in_kafka, 14);
    assert_int_equal(u.stats.lag, 3 + 4 + 2);
    assert_int_equal(spate_kafka_group_lag(&ko, "other", "up_t", &v, err, sizeof err), SPATE_OK);
    assert_int_equal(v, 5 + 7 + 0);

    up_probe_free(&u);
    spate_kafka_broker_stop(b);
    assert_int_equal(pthread_join(th, NULL), 0);
    spate_kafka_broker_free(b);
    assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* ---- config ---- */

static void test_conf_default(void **state) {
    (void)state;
    spate_up_conf_t c;
    spate_up_conf_default(&c);
    assert_true(c.comp[SPATE_UP_BROKER].enabled);
    assert_string_equal(c.comp[SPATE_UP_RANDOMUSER].addr, "127.0.0.1:8088");
    assert_string_equal(c.comp[SPATE_UP_BROKER].addr, "127.0.0.1:9092");
    assert_string_equal(c.comp[SPATE_UP_CQL].addr, "127.0.0.1:9042");
    assert_string_equal(c.comp[SPATE_UP_STREAM].addr, "127.0.0.1:9108");
    assert_string_equal(c.comp[SPATE_UP_SCHEDULER].addr, "127.0.0.1:8793");
    assert_string_equal(c.comp[SPATE_UP_BROKER].data_dir, "./spate-data/broker");
    assert_string_equal(c.comp[SPATE_UP_CQL].data_dir, "./spate-data/cql");
    assert_string_equal(c.staging, "./spate-data/scheduler/staging.db");
    assert_string_equal(c.topic, "users_created");
    assert_string_equal(c.table, "spark_streams.created_users");
    assert_int_equal(c.max_crashes, 5);
    assert_int_equal(c.crash_window_ms, 60000);
    assert_int_equal(c.stop_timeout_ms, 10000);
}

static void test_conf_load(void **state) {
    (void)state;
    spate_up_conf_t c;
    spate_up_conf_default(&c);
    spate_conf_err_t err = {{0}};
    const char *y = "stream: {jobs: []}\n"
                    "scheduler:\n"
                    "  data_dir: /s\n"
                    "  api: {listen: 127.0.0.1:18793}\n"
                    "up:\n"
                    "  data_dir: /d\n"
                    "  broker: {enabled: false, bootstrap: 'k1:9092,k2:9092'}\n"
                    "  cql: {enabled: false, contact_points: [c1:9042, c2]}\n"
                    "  randomuser: {enabled: false, url: 'https://randomuser.me/api/'}\n"
                    "  topic: t\n"
                    "  partitions: 6\n"
                    "  start_timeout_ms: 500\n";
    assert_int_equal(spate_up_conf_load_string(&c, "p.yaml", y, &err), SPATE_OK);
    assert_false(c.comp[SPATE_UP_BROKER].enabled);
    assert_string_equal(c.comp[SPATE_UP_BROKER].addr, "k1:9092,k2:9092");
    assert_string_equal(c.comp[SPATE_UP_CQL].addr, "c1:9042,c2");
    assert_string_equal(c.randomuser_url, "https://randomuser.me/api/");
    assert_string_equal(c.comp[SPATE_UP_SCHEDULER].addr, "127.0.0.1:18793");
    assert_string_equal(c.comp[SPATE_UP_BROKER].data_dir, "/d/broker");
    assert_string_equal(c.staging, "/s/staging.db");
    assert_string_equal(c.topic, "t");
    assert_int_equal(c.partitions, 6);
    assert_int_equal(c.start_timeout_ms, 500);
    assert_true(c.comp[SPATE_UP_STREAM].enabled);

    /* staging from the scheduler's connections: postgres first */
    spate_up_conf_default(&c);
    const char *pg = "scheduler:\n  connections:\n    sqlite: /x.db\n"
                     "    postgres: postgresql://u@h/db\n";
    assert_int_equal(spate_up_conf_load_string(&c, "p.yaml", pg, &err), SPATE_OK);
    assert_string_equal(c.staging, "postgresql://u@h/db");
    /* up.staging wins over both */
    spate_up_conf_default(&c);
    const char *own = "scheduler:\n  connections: {sqlite: /x.db}\nup: {staging: /mine.db}\n";
    assert_int_equal(spate_up_conf_load_string(&c, "p.yaml", own, &err), SPATE_OK);
    assert_string_equal(c.staging, "/mine.db");
}

static void expect_error(const char *y, const char *msg) {
    spate_up_conf_t c;
    spate_up_conf_default(&c);
    spate_conf_err_t err = {{0}};
    assert_int_not_equal(spate_up_conf_load_string(&c, "p.yaml", y, &err), SPATE_OK);
    if (strcmp(err.msg, msg) != 0) print_message("got: %s\n", err.msg);
    assert_string_equal(err.msg, msg);
}

static void test_conf_errors(void **state) {
    (void)state;
    expect_error("up:\n  brokr: {}\n", "p.yaml:2: key 'brokr': unknown setting");
    expect_error("up:\n  broker: {enabled: maybe}\n",
                 "p.yaml:2: key 'enabled': expected true or false, got 'maybe'");
    expect_error("up:\n  cql: {contact_points: [a, {b: c}]}\n",
                 "p.yaml:2: key 'contact_points': expected a list of strings");
    expect_error("up:\n  stream: [1]\n",
                 "p.yaml:2: key 'stream': expected a map (enabled, listen, ...)");
    expect_error("up:\n  partitions: 0\n",
                 "p.yaml:2: key 'partitions': 0 is out of range [1, 10000]");
    expect_error("up:\n  table: nodot\n",
                 "p.yaml:2: key 'table': expected keyspace.table, got 'nodot'");
    expect_error("up:\n  topic: ''\n", "p.yaml:2: key 'topic': must not be empty");
    expect_error("up: 3\n", "p.yaml:1: key 'up': expected a map");
}

/* ---- --once against a fake scheduler API ---- */

/* Written by the server's one thread only, read after the server is
 * stopped (which joins it), so no lock is needed. */
typedef struct {
    char log[2048]; /* "METHOD PATH\n" per request */
    int polls;
    const char *final_state; /* after one "running" */
    int trigger_status;
    int health_polls; /* the first /health answers "starting", then "healthy" */
    char post_body[256];
} fake_api_t;

static void fake_handler(void *ctx, const spate_http_req_t *req, spate_http_resp_t *resp) {
    fake_api_t *f = ctx;
    size_t n = strlen(f->log);
    snprintf(f->log + n, sizeof f->log - n, "%s %s\n", req->method, req->path);
    const char *base = "/api/v1/dags/user_automation";
    if (!strcmp(req->method, "GET") && !strcmp(req->path, "/api/v1/health")) {
        spate_buf_printf(&resp->body, "{\"scheduler\":{\"status\":\"%s\"}}",
                         f->health_polls++ == 0 ? "starting" : "healthy");
    } else if (!strcmp(req->method, "POST") &&
               !strcmp(req->path, "/api/v1/dags/user_automation/dagRuns")) {
        snprintf(f->post_body, sizeof f->post_body, "%s", req->body);
        resp->status = f->trigger_status;
        spate_buf_puts(&resp->body, f->trigger_status == 200
                                        ? "{\"dag_run_id\":\"manual__2026-11-24T10:00:00+00:00\","
                                          "\"state\":\"queued\"}"
                                        : "{\"title\":\"DAG not found\"}");
    } else if (!strcmp(req->method, "GET") && !strncmp(req->path, base, strlen(base))) {
        spate_buf_printf(&resp->body, "{\"state\":\"%s\"}",
                         f->polls++ == 0 ? "running" : f->final_state);
    } else if (!strcmp(req->method, "PATCH")) {
        spate_buf_puts(&resp->body, "{\"is_paused\":false}");
    } else {
        resp->status = 404;
        spate_buf_puts(&resp->body, "{}");
    }
}

static spate_status_t run_fake(fake_api_t *f, up_t *u, spate_up_conf_t *c, volatile int *stop) {
    spate_net_addr_t a;
    char err[128];
    assert_int_equal(spate_net_addr_parse("127.0.0.1:0", &a, err, sizeof err), SPATE_OK);
    spate_http_server_t *srv = NULL;
    assert_int_equal(spate_http_server_start(&srv, &a, 1, fake_handler, f), SPATE_OK);
    spate_up_conf_default(c);
    snprintf(c->comp[SPATE_UP_SCHEDULER].addr, sizeof c->comp[SPATE_UP_SCHEDULER].addr,
             "127.0.0.1:%d", spate_http_server_port(srv));
    static spate_up_opts_t o;
    o = (spate_up_opts_t){.exe = "/bin/false", .stop_flag = stop};
    memset(u, 0, sizeof *u);
    u->c = c;
    u->o = &o;
    for (int i = 0; i < SPATE_UP_NCOMP; i++) u->ch[i].fd = -1;
    spate_status_t st = up_once_dag(u, 25, spate_mono_ms() + 10000);
    spate_http_server_stop(srv);
    return st;
}

static void test_once_dag_success(void **state) {
    (void)state;
    static fake_api_t f = {.final_state = "success", .trigger_status = 200};
    static up_t u;
    static spate_up_conf_t c;
    volatile int stop = 0;
    assert_int_equal(run_fake(&f, &u, &c, &stop), SPATE_OK);
    assert_false(u.failed);
    /* waits for the scheduler to say healthy (its DAGs loaded), unpauses,
     * triggers with the count as the run's conf, then polls the run */
    assert_string_equal(f.post_body, "{\"conf\":{\"count\":25}}");
    assert_string_equal(
        f.log, "GET /api/v1/health\n"
               "GET /api/v1/health\n"
               "PATCH /api/v1/dags/user_automation\n"
               "POST /api/v1/dags/user_automation/dagRuns\n"
               "GET /api/v1/dags/user_automation/dagRuns/manual__2026-11-24T10:00:00+00:00\n"
               "GET /api/v1/dags/user_automation/dagRuns/manual__2026-11-24T10:00:00+00:00\n");
}

static void test_once_dag_failed(void **state) {
    (void)state;
    static fake_api_t f = {.final_state = "failed", .trigger_status = 200};
    static up_t u;
    static spate_up_conf_t c;
    volatile int stop = 0;
    assert_int_equal(run_fake(&f, &u, &c, &stop), SPATE_ERR);
    assert_true(u.failed);
    assert_string_equal(
        u.reason, "--once: run manual__2026-11-24T10:00:00+00:00 failed (see spate tasks logs)");

    static fake_api_t g = {.final_state = "success", .trigger_status = 404};
    assert_int_not_equal(run_fake(&g, &u, &c, &stop), SPATE_OK);
    assert_true(u.failed);
    assert_non_null(strstr(u.reason, "--once: cannot trigger user_automation: POST http://"));
    assert_non_null(strstr(u.reason, "/api/v1/dags/user_automation/dagRuns: HTTP 404"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_split),      cmocka_unit_test(test_lines_long),
        cmocka_unit_test(test_prefix),           cmocka_unit_test(test_crashes),
        cmocka_unit_test(test_backoff),          cmocka_unit_test(test_stats_format),
        cmocka_unit_test(test_stats_kafka),      cmocka_unit_test(test_conf_default),
        cmocka_unit_test(test_conf_load),        cmocka_unit_test(test_conf_errors),
        cmocka_unit_test(test_once_dag_success), cmocka_unit_test(test_once_dag_failed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
