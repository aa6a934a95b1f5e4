/*
 * kafka.h — the public interface of spate's Kafka-compatible broker.
 *
 * `spate broker` is a single-node broker that speaks the Kafka wire
 * protocol, so unmodified Kafka clients (librdkafka, kcat, kafkajs, the
 * Java client) work against it. Its log is Kafka's own layout: segments of
 * RecordBatch v2 stored as produced.
 *
 *   spate_kafka_broker_start   bind, open (and recover) every log
 *   spate_kafka_broker_run     serve until stopped (blocks)
 *   spate_kafka_broker_stop    async-signal-safe
 *   spate_kafka_broker_free    flush and close everything
 */
#ifndef SPATE_KAFKA_H
#define SPATE_KAFKA_H

#include "base.h"
#include "net.h"

typedef struct {
    spate_net_addr_t listen;
    char advertise_host[256]; /* "" = the listen host */
    int advertise_port;       /* 0 = the bound port */
    char data_dir[1024];
    int32_t node_id;            /* default 1, as the seed's KAFKA_BROKER_ID */
    char cluster_id[64];        /* default: made once and kept in data_dir */
    bool auto_create_topics;    /* default true, as Kafka */
    int32_t default_partitions; /* default 1 */
    /* Largest partition count a topic may have (default 1000): every
     * partition keeps its active segment's three files open. */
    int32_t max_partitions;
    int32_t max_message_bytes; /* largest batch accepted, default 1048588 */
    int64_t segment_bytes;     /* default 1 GiB */
    int64_t retention_ms;      /* default 7 days; -1 = keep */
    int64_t retention_bytes;   /* default -1 */
    /* Durability: with `durable`, a produce with acks=all is answered only
     * after its data is fsynced (group commit: one fsync per loop turn for
     * all of them); otherwise logs are flushed every flush_interval_ms. */
    bool durable;              /* default true */
    int64_t flush_interval_ms; /* default 1000 */
} spate_kafka_conf_t;

void spate_kafka_conf_default(spate_kafka_conf_t *c);

typedef struct spate_kafka_broker spate_kafka_broker_t;

spate_status_t spate_kafka_broker_start(spate_kafka_broker_t **out, const spate_kafka_conf_t *c,
                                        char *err, size_t errlen);
/* The port actually bound (when 0 was asked for). */
int spate_kafka_broker_port(const spate_kafka_broker_t *b);
spate_status_t spate_kafka_broker_run(spate_kafka_broker_t *b);
void spate_kafka_broker_stop(spate_kafka_broker_t *b);
void spate_kafka_broker_free(spate_kafka_broker_t *b);

#endif /* SPATE_KAFKA_H */
