/*
 * fuzz_kafka_request.c — libFuzzer target for the broker's request path:
 * framing, request headers, and every handler's decoding, through the same
 * entry point the socket reader uses (kafka_conn_input).
 *
 * One broker is started per process on a temporary data directory with
 * auto-creation off and one topic "t" (2 partitions). Each input is fed to
 * a fresh connection over a socketpair; responses go into the socket and
 * are discarded. Topics an input creates are deleted again (and "t"
 * recreated) so a long run does not fill the disk. The directory is
 * removed at exit.
 */
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kafka_int.h"

static kafka_broker_t *broker;
static char dir[] = "/tmp/spate-fuzz-kafka-XXXXXX";

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void cleanup(void) {
    if (broker) spate_kafka_broker_free(broker);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void) {
    spate_log_set_level(SPATE_LOG_OFF);
    if (!mkdtemp(dir)) abort();
    spate_kafka_conf_t c;
    spate_kafka_conf_default(&c);
    char err[256];
    spate_net_addr_parse("127.0.0.1:0", &c.listen, err, sizeof err);
    snprintf(c.data_dir, sizeof c.data_dir, "%s", dir);
    c.auto_create_topics = false;
    c.durable = false;
    c.segment_bytes = 1 << 20;
    c.max_partitions = 8; /* topic creation is file work: keep inputs fast */
    if (spate_kafka_broker_start(&broker, &c, err, sizeof err) != SPATE_OK) abort();
    atexit(cleanup);
}

static void reset_topics(void) {
    for (kafka_topic_t *t = broker->topics, *n; t; t = n) {
        n = t->next;
        /* "t" is kept unless an input changed it (CreatePartitions). */
        if (strcmp(t->name, "t") != 0 || t->nparts != 2)
            kafka_topic_delete(broker, t->name, strlen(t->name));
    }
    if (!kafka_topic_find(broker, "t", 1)) kafka_topic_create(broker, "t", 1, 2, NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!broker) setup();
    reset_topics();
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return 0;
    kafka_conn_t *c = kafka_conn_open(broker, sv[0], "fuzz");
    if (c && kafka_conn_input(c, data, size)) kafka_conn_close(c);
    close(sv[1]);
    /* Deferred requests died with their connection; nothing else waits. */
    while (broker->fetch_waiters) kafka_waiter_free(broker, broker->fetch_waiters);
    /* Groups outlive connections (members expire by timer, which never
     * runs here): drop them so a long run does not accumulate members. */
    kafka_groups_clear(broker);
    return 0;
}
