/*
 * sched_op_kafka.c — the producer the Kafka operators share: librdkafka
 * with enable.idempotence=true and acks=all, one topic, and a delivery
 * report kept per message so callers can record where each landed.
 *
 *   seq  0        1        2   ...   (the order of _send)
 *   dr   {p, o,   {p, o,   ...       filled by the delivery callback,
 *         err}     err}              which gets seq as the msg opaque
 *
 * Invariant: after a successful flush every message sent since the last
 * reset has a report (pending == 0); a report with err != 0 makes the
 * flush fail, so an operator never reports success for an undelivered
 * message.
 */
#include "sched_op_int.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

struct spate_op_producer {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    spate_op_dr_t *dr;
    size_t n, cap;
    size_t pending; /* sent, no report yet */
    size_t failed;
    char first_err[256];
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    spate_op_producer_t *p = opaque;
    size_t seq = (size_t)(uintptr_t)m->_private;
    if (seq >= p->n) return;
    spate_op_dr_t *d = &p->dr[seq];
    d->partition = m->partition;
    d->offset = m->offset;
    d->err = (int)m->err;
    if (m->err) {
        if (p->failed++ == 0) {
            snprintf(p->first_err, sizeof p->first_err, "delivery failed: %s",
                     rd_kafka_err2str(m->err));
        }
    }
    if (p->pending > 0) p->pending--;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    spate_log(level <= 3   ? SPATE_LOG_ERROR
              : level <= 4 ? SPATE_LOG_WARN
                           : SPATE_LOG_DEBUG,
              "rdkafka", "%s: %s", fac, buf);
}

spate_status_t spate_op_producer_new(spate_op_producer_t **out, const char *bootstrap,
                                     const char *topic, int64_t msg_timeout_ms, char *err,
                                     size_t errlen) {
    *out = NULL;
    spate_op_producer_t *p = spate_xcalloc(1, sizeof *p);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char e[256], tmo[32];
    snprintf(tmo, sizeof tmo, "%lld", (long long)(msg_timeout_ms > 0 ? msg_timeout_ms : 60000));
    const char *kv[][2] = {
        {"bootstrap.servers", bootstrap},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", "5"},
        {"message.timeout.ms", tmo},
        {"client.id", "spate-task"},
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(kv); i++) {
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], e, sizeof e) != RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "kafka %s: %s", kv[i][0], e);
            rd_kafka_conf_destroy(conf);
            free(p);
            return SPATE_EINVAL;
        }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_opaque(conf, p);
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
    if (p->rk == NULL) {
        snprintf(err, errlen, "kafka: %s", e);
        rd_kafka_conf_destroy(conf);
        free(p);
        return SPATE_ERR;
    }
    p->rkt = rd_kafka_topic_new(p->rk, topic, NULL);
    if (p->rkt == NULL) {
        snprintf(err, errlen, "kafka topic %s: %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
        rd_kafka_destroy(p->rk);
        free(p);
        return SPATE_ERR;
    }
    *out = p;
    return SPATE_OK;
}

spate_status_t spate_op_producer_send(spate_op_producer_t *p, const char *key, size_t klen,
                                      const char *val, size_t vlen, size_t *seq, char *err,
                                      size_t errlen) {
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 256;
        p->dr = spate_xrealloc(p->dr, p->cap * sizeof *p->dr);
    }
    size_t s = p->n;
    p->dr[s] = (spate_op_dr_t){.partition = -1, .offset = -1, .err = -1};
    p->n++;
    for (;;) {
        if (rd_kafka_produce(p->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)val, vlen,
                             key, klen, (void *)(uintptr_t)s) == 0) {
            break;
        }
        rd_kafka_resp_err_t e = rd_kafka_last_error();
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(p->rk, 100); /* let deliveries drain the queue */
            continue;
        }
        p->n--;
        snprintf(err, errlen, "produce: %s", rd_kafka_err2str(e));
        return SPATE_ERR;
    }
    p->pending++;
    if (seq) *seq = s;
    rd_kafka_poll(p->rk, 0);
    return SPATE_OK;
}

spate_status_t spate_op_producer_flush(spate_op_producer_t *p, int64_t timeout_ms, char *err,
                                       size_t errlen) {
    int64_t deadline = spate_mono_ms() + timeout_ms;
    while (p->pending > 0) {
        int64_t left = deadline - spate_mono_ms();
        if (left <= 0) {
            snprintf(err, errlen, "%zu message(s) not delivered within %lld ms", p->pending,
                     (long long)timeout_ms);
            return SPATE_ETIMEDOUT;
        }
        rd_kafka_flush(p->rk, (int)SPATE_MIN(left, 1000));
        rd_kafka_poll(p->rk, 0);
    }
    if (p->failed > 0) {
        snprintf(err, errlen, "%zu message(s) failed; first: %s", p->failed, p->first_err);
        return SPATE_ERR;
    }
    return SPATE_OK;
}

const spate_op_dr_t *spate_op_producer_dr(const spate_op_producer_t *p, size_t seq) {
    return seq < p->n ? &p->dr[seq] : NULL;
}

void spate_op_producer_reset(spate_op_producer_t *p) {
    p->n = 0;
    p->pending = 0;
    p->failed = 0;
    p->first_err[0] = '\0';
}

void spate_op_producer_free(spate_op_producer_t *p) {
    if (p == NULL) return;
    if (p->rkt) rd_kafka_topic_destroy(p->rkt);
    if (p->rk) {
        rd_kafka_flush(p->rk, 5000);
        rd_kafka_destroy(p->rk);
    }
    free(p->dr);
    free(p);
}
