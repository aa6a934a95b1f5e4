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
    int64_t flush_interval_ms; /* default 1000 (topics: flush.ms) */
    int64_t flush_messages;    /* fsync a partition after this many records;
                                  default INT64_MAX = never (topics: flush.messages) */
    /* Fetch answers send records with sendfile(2) (no copy through user
     * space) for remote clients; for loopback clients a copy is cheaper
     * (measured: the receiver's kernel work grows more than the copy
     * saves; bench/RESULTS.md). AUTO = sendfile unless the peer is on
     * loopback. */
    enum {
        SPATE_KAFKA_SENDFILE_AUTO,
        SPATE_KAFKA_SENDFILE_ALWAYS,
        SPATE_KAFKA_SENDFILE_NEVER
    } fetch_sendfile;
    int64_t compaction_interval_ms; /* how often compacted topics are looked at
                                       (default 15000, log.cleaner.backoff.ms) */
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

/* The health probe (kafka_probe.c): one ApiVersions v0 round trip on a
 * new connection to addr within timeout_ms. SPATE_OK when a Kafka broker
 * (spate's or Apache's) answered without error; *napis (may be NULL) gets
 * the number of APIs it listed. Otherwise a one-line reason in err. */
spate_status_t spate_kafka_probe(const spate_net_addr_t *addr, int timeout_ms, int *napis,
                                 char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* Admin client (kafka_client.c)                                       */
/* ------------------------------------------------------------------ */

/* What `spate topics` and `spate groups` do, built on librdkafka so it
 * works the same against spate broker and a real Kafka cluster.
 *
 * Every function opens its own client handle, does its work within about
 * `timeout_ms` per broker round trip, and closes the handle. Human-readable
 * results are appended to `out` (caller-owned; may be NULL where noted);
 * on failure a one-line message (no trailing newline) is left in `err`.
 * Status:
 *   SPATE_OK        done
 *   SPATE_ENOENT    the topic or group does not exist
 *   SPATE_ETIMEDOUT the cluster could not be reached within the timeout
 *   SPATE_ERR       the broker refused (its error is in err) or the client
 *                   failed */
typedef struct {
    const char *bootstrap; /* "host:port[,host:port...]" */
    int timeout_ms;
} spate_kafka_client_opts_t;

/* One topic name per line, sorted. Topics whose names begin with "__"
 * (__consumer_offsets, __transaction_state) are internal and listed only
 * with `internal`. */
spate_status_t spate_kafka_topics_list(const spate_kafka_client_opts_t *o, bool internal,
                                       spate_buf_t *out, char *err, size_t errlen);
/* CreateTopics for one topic. partitions and replication_factor -1 mean
 * the broker's defaults; configs are `nconfigs` "key=value" strings. */
spate_status_t spate_kafka_topic_create(const spate_kafka_client_opts_t *o, const char *name,
                                        int32_t partitions, int32_t replication_factor,
                                        const char *const *configs, size_t nconfigs, char *err,
                                        size_t errlen);
/* A kafka-topics --describe style block per topic, each partition line
 * with its low and high watermark offsets:
 *   Topic: t	PartitionCount: 3	ReplicationFactor: 1
 *   	Topic: t	Partition: 0	Leader: 1	Replicas: 1	Isr: 1	Low: 0	High: 4
 * SPATE_ENOENT (nothing printed) when any name is not a topic. */
spate_status_t spate_kafka_topics_describe(const spate_kafka_client_opts_t *o,
                                           const char *const *names, size_t n, spate_buf_t *out,
                                           char *err, size_t errlen);
/* DeleteTopics; "Deleted topic NAME." is appended to out for each topic
 * deleted. When some fail, err names the first failure and the status is
 * SPATE_ENOENT (unknown topic) or SPATE_ERR. */
spate_status_t spate_kafka_topics_delete(const spate_kafka_client_opts_t *o,
                                         const char *const *names, size_t n, spate_buf_t *out,
                                         char *err, size_t errlen);
/* ListGroups (with their states): "GROUP<TAB>STATE" per line, sorted. */
spate_status_t spate_kafka_groups_list(const spate_kafka_client_opts_t *o, spate_buf_t *out,
                                       char *err, size_t errlen);
/* DescribeGroups for one group (state, protocol, members with their
 * decoded assignments), then for every partition the group has a
 * committed offset for: the offset, the log end offset and the lag.
 * SPATE_ENOENT for a group the cluster does not know ("Dead"). */
spate_status_t spate_kafka_group_describe(const spate_kafka_client_opts_t *o, const char *group,
                                          spate_buf_t *out, char *err, size_t errlen);
/* ---- Structured results ------------------------------------------ */

/* What the describe functions above print, as data: the one collector
 * behind the text of `topics describe` / `groups describe`, their --json
 * output and the numbers `spate up` shows. Everything in a result is
 * owned by it (strings and arrays are copies, not pointers into
 * librdkafka's metadata) and released by its _free function.
 *
 *   spate_kafka_topic_info_t      one topic
 *     name, replication_factor
 *     parts[nparts] ─ id, leader, replicas[], isr[], low, high (sorted by id)
 *
 *   spate_kafka_group_info_t      one group
 *     group, state, protocol_type, protocol, coordinator
 *     members[nmembers] ─ member_id, client_id, host, assignment bytes
 *     offsets[noffsets] ─ topic, partition, committed, low, high, lag
 *                         (sorted by topic, partition)
 *
 * A watermark that could not be read is -1, with the reason in
 * wm_err; the lag of such a partition is -1 too. */
typedef struct {
    int32_t id;
    int32_t leader;
    int32_t *replicas;
    int nreplicas;
    int32_t *isr;
    int nisr;
    int64_t low, high; /* watermarks (ListOffsets); -1 = unknown */
    char wm_err[128];  /* why they are unknown ("" when known) */
} spate_kafka_part_info_t;

typedef struct {
    char *name;
    int32_t replication_factor; /* replicas of the first partition; 0 without partitions */
    spate_kafka_part_info_t *parts;
    int nparts;
} spate_kafka_topic_info_t;

/* Metadata + watermarks of `n` topics into *out (n entries, in the order
 * asked; free with spate_kafka_topic_infos_free(*out, n)). Statuses as
 * spate_kafka_topics_describe: SPATE_ENOENT (nothing returned, *out NULL)
 * when any name is not a topic. */
spate_status_t spate_kafka_topics_collect(const spate_kafka_client_opts_t *o,
                                          const char *const *names, size_t n,
                                          spate_kafka_topic_info_t **out, char *err, size_t errlen);
void spate_kafka_topic_infos_free(spate_kafka_topic_info_t *t, size_t n);

typedef struct {
    char *topic;
    int32_t partition;
    int64_t committed; /* the group's committed offset; -1 = none */
    int64_t low, high; /* watermarks; -1 = unknown (wm_err says why) */
    /* high - committed (at least 0); without a committed offset
     * high - low (what a consumer starting at the earliest offset has
     * left to read); -1 when the watermarks are unknown. */
    int64_t lag;
    char wm_err[128];
} spate_kafka_offset_info_t;

typedef struct {
    char *member_id, *client_id, *host;
    unsigned char *assignment; /* MemberAssignment bytes (spate_kafka_assignment_format) */
    size_t assignment_len;
} spate_kafka_member_info_t;

typedef struct {
    char *group, *state, *protocol_type, *protocol; /* "" when the broker sent none */
    int32_t coordinator_id;
    char *coordinator_host;
    int coordinator_port;
    spate_kafka_member_info_t *members;
    int nmembers;
    spate_kafka_offset_info_t *offsets; /* only partitions with a committed offset */
    int noffsets;
} spate_kafka_group_info_t;

/* DescribeGroups + the committed offsets of every partition of every
 * non-internal topic (those with one are kept) into *g (zeroed first;
 * free with spate_kafka_group_info_free, also after a failure). Statuses
 * as spate_kafka_group_describe. */
spate_status_t spate_kafka_group_collect(const spate_kafka_client_opts_t *o, const char *group,
                                         spate_kafka_group_info_t *g, char *err, size_t errlen);
void spate_kafka_group_info_free(spate_kafka_group_info_t *g);

/* The messages in a topic: the high watermarks of its partitions summed
 * into *high_sum, the partition count into *partitions (either may be
 * NULL). SPATE_ENOENT for an unknown topic; a watermark that cannot be
 * read fails the whole call (no partial sums: SPATE_ERR, the partition
 * and the reason in err). */
spate_status_t spate_kafka_topic_offsets(const spate_kafka_client_opts_t *o, const char *topic,
                                         int64_t *high_sum, int32_t *partitions, char *err,
                                         size_t errlen);
/* How far `group` is behind on `topic`: over the topic's partitions,
 * high watermark - committed offset (at least 0), and for a partition the
 * group has no committed offset for, high - low: everything a consumer
 * starting at the earliest offset (as spate stream does by default) has
 * still to read. So a group that does not exist yet (or never committed)
 * lags by the whole topic; that is not an error. SPATE_ENOENT only for an
 * unknown topic; an unreadable watermark fails the call as above. */
spate_status_t spate_kafka_group_lag(const spate_kafka_client_opts_t *o, const char *group,
                                     const char *topic, int64_t *lag, char *err, size_t errlen);

/* Decodes a consumer-protocol MemberAssignment
 *   version int16, topics [topic str16, partitions [int32]], user_data bytes
 * and appends it as "topic:0,1 other:2" ("-" when it assigns nothing).
 * Pure; SPATE_EINVAL (out unchanged) when the bytes are malformed. */
spate_status_t spate_kafka_assignment_format(const void *p, size_t len, spate_buf_t *out);

#endif /* SPATE_KAFKA_H */
