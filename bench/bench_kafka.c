/*
 * bench_kafka.c — produce/consume throughput and produce latency against
 * any Kafka-protocol broker, with librdkafka as the client (the client the
 * pipeline itself uses).
 *
 *   bench_kafka BROKER TOPIC produce  SIZE COUNT [ACKS]   msgs/s, MB/s
 *   bench_kafka BROKER TOPIC consume  COUNT               msgs/s, MB/s (from offset 0)
 *   bench_kafka BROKER TOPIC latency  SIZE RATE SECONDS   p50/p99 produce->ack ms
 *                                                         (acks=all, linger.ms=0)
 *
 * The topic should exist with one partition (bench/run_kafka.sh makes it).
 * One line of key=value results on stdout.
 */
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long delivered, failed;
static double *lat; /* latency mode: seconds per message */
static long nlat;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->err) {
        failed++;
        return;
    }
    delivered++;
    if (lat && m->_private) {
        double sent = *(double *)m->_private;
        lat[nlat++] = now_s() - sent;
        free(m->_private);
    }
}

static rd_kafka_t *make(rd_kafka_type_t type, const char *broker, const char *acks,
                        const char *linger_ms) {
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", broker, err, sizeof err);
    rd_kafka_conf_set(c, "broker.address.family", "v4", err, sizeof err);
    if (type == RD_KAFKA_PRODUCER) {
        rd_kafka_conf_set(c, "acks", acks, err, sizeof err);
        rd_kafka_conf_set(c, "linger.ms", linger_ms, err, sizeof err);
        rd_kafka_conf_set(c, "batch.num.messages", "10000", err, sizeof err);
        rd_kafka_conf_set(c, "queue.buffering.max.messages", "1000000", err, sizeof err);
        rd_kafka_conf_set(c, "queue.buffering.max.kbytes", "1048576", err, sizeof err);
        rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
    } else {
        rd_kafka_conf_set(c, "group.id", "bench", err, sizeof err);
        rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof err);
        rd_kafka_conf_set(c, "fetch.max.bytes", "52428800", err, sizeof err);
        rd_kafka_conf_set(c, "queued.min.messages", "1000000", err, sizeof err);
    }
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "bench_kafka: %s\n", err);
        exit(1);
    }
    return rk;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: bench_kafka BROKER TOPIC produce|consume|latency ...\n");
        return 2;
    }
    const char *broker = argv[1], *topic = argv[2], *mode = argv[3];
    if (strcmp(mode, "produce") == 0 && argc >= 6) {
        size_t size = (size_t)atol(argv[4]);
        long count = atol(argv[5]);
        const char *acks = argc > 6 ? argv[6] : "1";
        rd_kafka_t *rk = make(RD_KAFKA_PRODUCER, broker, acks, "5");
        char *payload = malloc(size);
        memset(payload, 'x', size);
        double t0 = now_s();
        for (long i = 0; i < count;) {
            rd_kafka_resp_err_t e =
                rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                  RD_KAFKA_V_VALUE(payload, size), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(rk, 1);
                continue;
            }
            if (e) {
                fprintf(stderr, "bench_kafka: produce: %s\n", rd_kafka_err2str(e));
                return 1;
            }
            i++;
            if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
        }
        rd_kafka_flush(rk, 60000);
        double el = now_s() - t0;
        printf("produce size=%zu count=%ld acks=%s delivered=%ld failed=%ld seconds=%.3f "
               "msgs_per_s=%.0f "
               "MB_per_s=%.1f\n",
               size, count, acks, delivered, failed, el, delivered / el,
               delivered * (double)size / el / 1e6);
        rd_kafka_destroy(rk);
        free(payload);
        return failed ? 1 : 0;
    }
    if (strcmp(mode, "consume") == 0 && argc >= 5) {
        long count = atol(argv[4]);
        rd_kafka_t *rk = make(RD_KAFKA_CONSUMER, broker, NULL, NULL);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_assign(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        long got = 0;
        double bytes = 0, t0 = 0;
        while (got < count) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 5000);
            if (!m) {
                fprintf(stderr, "bench_kafka: consume: timed out after %ld messages\n", got);
                return 1;
            }
            if (!m->err) {
                if (!got) t0 = now_s(); /* from the first message: excludes connection set-up */
                got++;
                bytes += (double)m->len;
            }
            rd_kafka_message_destroy(m);
        }
        double el = now_s() - t0;
        printf("consume count=%ld seconds=%.3f msgs_per_s=%.0f MB_per_s=%.1f\n", got, el, got / el,
               bytes / el / 1e6);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return 0;
    }
    if (strcmp(mode, "latency") == 0 && argc >= 7) {
        size_t size = (size_t)atol(argv[4]);
        double rate = atof(argv[5]), secs = atof(argv[6]);
        /* linger.ms=0: each record is sent when due, so this measures the
         * broker's ack (fsync) latency, not the client's batching delay
         * (the peers' clients send at once too). */
        rd_kafka_t *rk = make(RD_KAFKA_PRODUCER, broker, "all", "0");
        long total = (long)(rate * secs);
        lat = malloc(sizeof *lat * (size_t)(total + 1));
        char *payload = malloc(size);
        memset(payload, 'y', size);
        double t0 = now_s();
        for (long i = 0; i < total; i++) {
            double due = t0 + (double)i / rate;
            while (now_s() < due) rd_kafka_poll(rk, 0);
            double *sent = malloc(sizeof *sent);
            *sent = now_s();
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                              RD_KAFKA_V_VALUE(payload, size), RD_KAFKA_V_OPAQUE(sent),
                              RD_KAFKA_V_END);
            rd_kafka_poll(rk, 0);
        }
        rd_kafka_flush(rk, 60000);
        qsort(lat, (size_t)nlat, sizeof *lat, cmp_double);
        printf("latency size=%zu rate=%.0f acks=all linger_ms=0 count=%ld p50_ms=%.2f p99_ms=%.2f "
               "max_ms=%.2f\n",
               size, rate, nlat, nlat ? lat[nlat / 2] * 1e3 : -1,
               nlat ? lat[nlat * 99 / 100] * 1e3 : -1, nlat ? lat[nlat - 1] * 1e3 : -1);
        rd_kafka_destroy(rk);
        return 0;
    }
    fprintf(stderr, "bench_kafka: bad arguments\n");
    return 2;
}
