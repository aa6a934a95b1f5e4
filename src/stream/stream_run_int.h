/*
 * stream_run_int.h — private interface of the stream runtime (spate
 * stream at run time): the job loop (stream_run.c), its sinks
 * (stream_sink_cql.c, stream_sink_file.c) and its metrics
 * (stream_metrics.c).
 *
 * A running job is one thread owning one librdkafka consumer, one
 * librdkafka producer for the dead-letter topic (when there is one) and
 * one sink. Every record taken from the consumer gets a token — its place
 * in its partition's in-flight ring — and is settled exactly once by
 * srun_ack (the sink stored it, a filter dropped it, or its dead letter
 * was delivered; a record given to two sinks is held with srun_hold and
 * settled by the second srun_ack). The commit point of a partition is the offset of its
 * oldest unsettled record, or one past the last record seen when none is
 * in flight:
 *
 *   ring of partition p      head                       tail
 *                             │                          │
 *   seq     ...  17    18    19    20    21    22    23   ▼
 *   offset       (settled,  105   106   107   108   109
 *                 popped)   done   -    done   -     -
 *                            ▲ commit point: 105 is settled, so the ring
 *                              pops it; 106 is not: commit 106
 *
 * Invariants: tokens are issued in offset order per partition; a ring
 * slot is reused only after its record was settled and popped; a
 * partition's state lives until the job ends (a revoked partition is
 * drained first, so no token outlives its partition's assignment).
 */
#ifndef SPATE_STREAM_RUN_INT_H
#define SPATE_STREAM_RUN_INT_H

#include "cql.h"
#include "stream.h"
#include "stream_fetch.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>

typedef struct srun_job srun_job_t;

typedef struct {
    char *topic; /* owned */
    int32_t partition;
    bool assigned;
    bool paused;
    bool at_end; /* the consumer reported its end (EOF event) and no record came since */
    /* The in-flight ring: slot seq & (cap - 1) for seq in [head, tail);
     * left: a bit per side that has yet to settle the record (bit 0 when
     * taken, one more per srun_hold; settled at 0) */
    int64_t *offs;
    uint8_t *left;
    uint64_t cap, head, tail;
    int64_t next_offset; /* one past the last record seen; -1: none yet */
    int64_t committed;   /* last offset committed (or asked to be); -1 */
    int64_t lag;         /* high watermark - commit point, -1 unknown */
} srun_part_t;

/* A record's place, and which side settles it (a bit of part->left):
 * settle it with srun_ack / srun_fail. */
typedef struct {
    srun_part_t *part;
    uint64_t seq;
    uint8_t side;
} srun_token_t;

/* Sink latency histogram: upper bounds in microseconds (the last bucket
 * is +Inf). */
#define SRUN_HIST_N 16
extern const int64_t srun_hist_bounds_us[SRUN_HIST_N - 1];

typedef struct {
    uint64_t in, out, dropped, failed, dead_lettered;
    uint64_t batches, batched_rows; /* CQL sink: unlogged batches sent, rows in them */
    uint64_t flat;                  /* records that took the flat path (stream.h) */
    uint64_t hist[SRUN_HIST_N];
    uint64_t hist_sum_us;
} srun_counters_t;

/* A sink: the job calls write for every record that passed, poll from its
 * loop (timeout_ms: how long it may wait for answers), flush at commit
 * points (make durable and settle what was written), release (optional)
 * when partitions were revoked or lost (after the drain, and the commit
 * unless lost: the sink forgets whatever state it keeps for them) and
 * close at the end (after a final drain). write must settle the token it was given exactly
 * once, now or later (srun_ack / srun_fail); a sink that hands the record
 * on to two (the window tee) takes a second token with srun_hold. */
typedef struct {
    const char *name;
    spate_status_t (*open)(srun_job_t *j, void **state, char *err, size_t errlen);
    void (*write)(void *state, json_t *value, const rd_kafka_message_t *m, srun_token_t tok);
    /* Optional: the record as flat string fields (stream.h, the flat
     * path). True when written (the token is the sink's, as in write);
     * false, having settled nothing, when the sink wants the record as a
     * tree after all: the job then runs the general path and calls write. */
    bool (*write_flat)(void *state, const spate_json_field_t *f, size_t n,
                       const rd_kafka_message_t *m, srun_token_t tok);
    void (*poll)(void *state, int timeout_ms);
    void (*flush)(void *state);
    void (*release)(void *state, const rd_kafka_topic_partition_list_t *parts);
    void (*close)(void *state);
} srun_sink_ops_t;

extern const srun_sink_ops_t srun_sink_cql, srun_sink_file, srun_sink_stdout, srun_sink_pg;
/* The job's own sink (its `sink:`), NULL when it has none. */
const srun_sink_ops_t *srun_sink_own(const spate_stream_job_t *jc);
/* A job with a window (stream_window.c): its counts are the sink, or,
 * when the job has a sink of its own too, a tee of both (every record
 * goes to each, and is settled once both settled it). NULL with the
 * reason in err for what windows cannot do. */
const srun_sink_ops_t *srun_window_sink_for(const spate_stream_job_t *jc, char *err, size_t errlen);

#define SRUN_PROM_FAMILIES 12 /* metric families of /metrics (stream_metrics.c) */

struct srun_job {
    const spate_stream_job_t *conf;
    volatile int *stop;
    rd_kafka_t *rk;  /* consumer */
    rd_kafka_t *dlq; /* producer, NULL without a dead-letter topic */
    const srun_sink_ops_t *sink;
    void *sink_state;
    srun_part_t **parts; /* every partition ever assigned; owned */
    size_t nparts, capparts;
    int64_t inflight;         /* unsettled records, all partitions */
    int64_t commit_failed_ms; /* when an offset commit last failed; 0 never */
    bool paused;              /* backpressure: every assigned partition paused */
    bool fatal;               /* a sink failed for good: stop the job, exit 1 */
    int64_t dlq_pending;
    srun_nudger_t *nudger; /* librdkafka < 2.4: see stream_fetch.c; else NULL */
    int64_t last_nudge_ms;
    uint64_t nudges; /* sent by the nudger, as of the last metrics render */
    spate_stream_runner_t runner;
    spate_stream_record_t rec;
    /* the flat path (stream.h): taken when the program and the sink allow
     * it (and SPATE_STREAM_FLAT is not 0); flat_f holds a record's fields */
    bool flat;
    spate_json_field_t flat_f[SPATE_STREAM_FLAT_MAX];
    srun_counters_t c;
    /* metrics: the job's samples for /metrics, one buffer per metric
     * family, refreshed by the job thread (stream_metrics.c) */
    pthread_mutex_t mu;
    spate_buf_t prom[SRUN_PROM_FAMILIES];
    bool want_prom;
    uint64_t last_in, last_out;
    int64_t last_log_ms;
};

/* Settles a record as done (stored, dropped or dead-lettered);
 * latency_ns >= 0 is recorded in the sink histogram. A record held with
 * srun_hold is settled by its last srun_ack. */
void srun_ack(srun_job_t *j, srun_token_t tok, int64_t latency_ns);
/* Hands the record to one more side (a record given to two sinks: a
 * window and the job's own): the token that side settles it with, once;
 * the record is settled when every side has. A side settling twice is
 * logged and ignored. */
srun_token_t srun_hold(srun_job_t *j, srun_token_t tok);
/* Fails a record: produced to the dead-letter topic with the original
 * key and value and the reason (settled once delivered), or, without a
 * dead-letter topic, logged, counted and settled. m may be NULL when the
 * caller passes the bytes instead. */
/* A message's original key and value, copied by a sink that settles the
 * record later, so that a failure can still dead-letter the bytes. */
typedef struct {
    char *key, *val; /* NULL when the message had none */
    size_t klen, vlen;
} srun_orig_t;
void srun_orig_keep(srun_orig_t *o, const rd_kafka_message_t *m);
void srun_orig_free(srun_orig_t *o);
void srun_fail(srun_job_t *j, srun_token_t tok, const char *reason, const void *key, size_t klen,
               const void *val, size_t vlen);
/* Marks the job failed for good (the sink cannot go on). */
void srun_fatal(srun_job_t *j, const char *fmt, ...) SPATE_PRINTF(2, 3);
/* One wait of a blocking retry (a connect, a checkpoint read): logs
 * "job J: <fmt>; again in N ms", sleeps *backoff_ms, then doubles it up
 * to the job's backoff_max_ms. Start *backoff_ms at its backoff_ms. */
void srun_backoff(srun_job_t *j, int64_t *backoff_ms, const char *fmt, ...) SPATE_PRINTF(3, 4);
/* A CQL client for a sink's cql settings (contact points, concurrency),
 * at consistency level (a sink's own: its configured one), connected or
 * retried with srun_backoff until the job stops (then SPATE_ERR with the
 * last reason in err). Used by the CQL sink and the window's. */
spate_status_t srun_cql_connect(srun_job_t *j, const spate_stream_sink_conf_t *sc,
                                spate_cql_consistency_t level, spate_cql_client_t **out, char *err,
                                size_t errlen);

/* Metrics (stream_metrics.c). */
void srun_hist_add(srun_counters_t *c, int64_t ns);
/* The latency below which share q (0..1) of the samples fall, in µs (the
 * bucket's upper bound; -1 when empty). */
int64_t srun_hist_quantile(const srun_counters_t *c, double q);
/* One log line about the job (every 10 s and at exit). */
void srun_metrics_log(srun_job_t *j, int64_t now_ms);
/* Re-renders the job's samples into j->prom (under j->mu). Called by the
 * job's own thread (the only reader of its counters). */
void srun_metrics_render(srun_job_t *j);
/* The whole Prometheus exposition of n jobs, appended to out: each metric
 * family once (HELP, TYPE), then every job's samples of it. Takes each
 * job's mu in turn; safe on the HTTP server's thread. */
void srun_metrics_text(srun_job_t *const *jobs, size_t n, spate_buf_t *out);

#endif /* SPATE_STREAM_RUN_INT_H */
