/*
 * stream_run.c — `spate stream` at run time: the job loop, the Kafka
 * source (a librdkafka consumer group), the dead-letter producer, offset
 * commits and backpressure.
 *
 * Threads: one per job. Jobs share nothing but the stop flag and the
 * metrics server, and every client they use (consumer, producer, CQL
 * client) is driven by exactly one thread, so a job needs no locks except
 * around its rendered metrics text. A single loop multiplexing all jobs
 * would have to poll several librdkafka queues and CQL sockets together
 * for no gain: pipelines hold a handful of jobs.
 *
 * One turn of a job's loop:
 *
 *   sink poll (answers → srun_ack / retries / srun_fail)
 *   DLQ producer poll (delivery reports → srun_ack)
 *   consumer poll: up to BATCH messages ─▶ program ─┬─ PASS ─▶ sink write
 *                                                   ├─ DROP ─▶ srun_ack
 *                                                   └─ FAIL ─▶ srun_fail
 *   backpressure: inflight >= max_in_flight → pause; < half → resume
 *   every commit_interval_ms (and when caught up, see job_loop): sink
 *   flush, then commit every partition's commit point
 *   (stream_run_int.h) that moved
 *   every second: metrics text; every 10 s: a log line
 *
 * Offsets: enable.auto.commit and enable.auto.offset.store are off; the
 * job commits explicit offsets, each the oldest unsettled record of its
 * partition, so a crash replays at most what was in flight (at-least-once;
 * the CQL sink's INSERTs are upserts by key, so the table ends the same).
 *
 * Rebalances (eager or cooperative, as partition.assignment.strategy
 * says): on revoke the job drains the revoked partitions (polls the sink
 * and the producer until every record of theirs is settled), commits them
 * synchronously, and only then lets them go. On assign with start: TIME,
 * partitions without a committed offset are positioned with
 * offsets_for_times (the end when no message is that recent).
 *
 * Stop: consuming stops, every in-flight record is settled (at most
 * DRAIN_MS), offsets are committed synchronously, the consumer closes
 * (leaving the group) and the dead-letter producer is flushed.
 */
#include "net.h"
#include "stream_run_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LOGC "stream"
#define BATCH 2000     /* messages taken per loop turn at most */
#define DRAIN_MS 30000 /* stop: how long in-flight records may take */
#define METRICS_LOG_MS 10000

/* ------------------------------------------------------------------ */
/* Partitions and their in-flight rings                                */
/* ------------------------------------------------------------------ */

static srun_part_t *part_get(srun_job_t *j, const char *topic, int32_t partition) {
    for (size_t i = 0; i < j->nparts; i++) {
        srun_part_t *p = j->parts[i];
        if (p->partition == partition && strcmp(p->topic, topic) == 0) return p;
    }
    if (j->nparts == j->capparts) {
        j->capparts = j->capparts ? j->capparts * 2 : 16;
        j->parts = spate_xrealloc(j->parts, j->capparts * sizeof *j->parts);
    }
    srun_part_t *p = spate_xcalloc(1, sizeof *p);
    p->topic = spate_xstrdup(topic);
    p->partition = partition;
    p->next_offset = -1;
    p->committed = -1;
    p->lag = -1;
    p->cap = 64;
    p->offs = spate_xcalloc(p->cap, sizeof *p->offs);
    p->left = spate_xcalloc(p->cap, 1);
    j->parts[j->nparts++] = p;
    return p;
}

static void part_free(srun_part_t *p) {
    free(p->topic);
    free(p->offs);
    free(p->left);
    free(p);
}

static srun_token_t part_push(srun_job_t *j, srun_part_t *p, int64_t offset) {
    if (p->tail - p->head == p->cap) { /* grow: re-place every live slot by seq */
        uint64_t ncap = p->cap * 2;
        int64_t *offs = spate_xcalloc(ncap, sizeof *offs);
        uint8_t *left = spate_xcalloc(ncap, 1);
        for (uint64_t s = p->head; s < p->tail; s++) {
            offs[s & (ncap - 1)] = p->offs[s & (p->cap - 1)];
            left[s & (ncap - 1)] = p->left[s & (p->cap - 1)];
        }
        free(p->offs);
        free(p->left);
        p->offs = offs;
        p->left = left;
        p->cap = ncap;
    }
    uint64_t seq = p->tail++;
    p->offs[seq & (p->cap - 1)] = offset;
    p->left[seq & (p->cap - 1)] = 1;
    p->next_offset = offset + 1;
    j->inflight++;
    return (srun_token_t){p, seq, 1};
}

/* The offset to commit: the oldest unsettled record, or one past the last
 * seen; -1 when nothing was seen. */
static int64_t part_commit_point(const srun_part_t *p) {
    if (p->head < p->tail) return p->offs[p->head & (p->cap - 1)];
    return p->next_offset;
}

void srun_ack(srun_job_t *j, srun_token_t tok, int64_t latency_ns) {
    srun_part_t *p = tok.part;
    uint8_t *l = &p->left[tok.seq & (p->cap - 1)];
    if (tok.seq < p->head || tok.seq >= p->tail || !(*l & tok.side)) {
        spate_log(SPATE_LOG_ERROR, LOGC, "job %s: record settled twice (%s/%d seq %llu)",
                  j->conf->name, p->topic, p->partition, (unsigned long long)tok.seq);
        return;
    }
    if (latency_ns >= 0) srun_hist_add(&j->c, latency_ns);
    *l &= (uint8_t)~tok.side;
    if (*l) return; /* held: another side has yet to settle it */
    while (p->head < p->tail && p->left[p->head & (p->cap - 1)] == 0) p->head++;
    j->inflight--;
}

srun_token_t srun_hold(srun_job_t *j, srun_token_t tok) {
    srun_part_t *p = tok.part;
    uint8_t *l = &p->left[tok.seq & (p->cap - 1)];
    uint8_t side = (uint8_t)(*l ? (*l | (*l - 1)) + 1 : 0); /* the lowest free bit above */
    if (tok.seq < p->head || tok.seq >= p->tail || *l == 0 || side == 0) {
        spate_log(SPATE_LOG_ERROR, LOGC, "job %s: cannot hold a settled record (%s/%d seq %llu)",
                  j->conf->name, p->topic, p->partition, (unsigned long long)tok.seq);
        return (srun_token_t){p, tok.seq, 0};
    }
    *l |= side;
    return (srun_token_t){p, tok.seq, side};
}

void srun_fatal(srun_job_t *j, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    spate_log(SPATE_LOG_ERROR, LOGC, "job %s: %s", j->conf->name, msg);
    j->fatal = true;
}

void srun_backoff(srun_job_t *j, int64_t *backoff_ms, const char *fmt, ...) {
    char what[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    spate_log(SPATE_LOG_WARN, LOGC, "job %s: %s; again in %lld ms", j->conf->name, what,
              (long long)*backoff_ms);
    spate_sleep_ms(*backoff_ms);
    *backoff_ms = SPATE_MIN(*backoff_ms * 2, j->conf->delivery.backoff_max_ms);
}

/* ------------------------------------------------------------------ */
/* Dead letters                                                        */
/* ------------------------------------------------------------------ */

typedef struct {
    srun_job_t *j;
    srun_token_t tok;
} dlq_ctx_t;

static void dlq_produce(srun_job_t *j, dlq_ctx_t *ctx, const void *key, size_t klen,
                        const void *val, size_t vlen, rd_kafka_headers_t *hdrs) {
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            j->dlq, RD_KAFKA_V_TOPIC(j->conf->dead_letter_topic),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY((void *)key, klen),
            RD_KAFKA_V_VALUE((void *)val, vlen), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(ctx),
            RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return; /* hdrs now owned by the message */
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(j->dlq, 10);
            continue;
        }
        /* Cannot happen with a valid configuration; the record stays
         * unsettled, so its offset is never committed past. */
        srun_fatal(j, "dead-letter produce to %s: %s", j->conf->dead_letter_topic,
                   rd_kafka_err2str(e));
        rd_kafka_headers_destroy(hdrs);
        free(ctx);
        return;
    }
}

static char *dup_bytes(const void *p, size_t n) {
    char *d = spate_xmalloc(n ? n : 1);
    memcpy(d, p, n);
    return d;
}

void srun_orig_keep(srun_orig_t *o, const rd_kafka_message_t *m) {
    *o = (srun_orig_t){0};
    if (m->key) o->key = dup_bytes(m->key, o->klen = m->key_len);
    if (m->payload) o->val = dup_bytes(m->payload, o->vlen = m->len);
}

void srun_orig_free(srun_orig_t *o) {
    free(o->key);
    free(o->val);
    *o = (srun_orig_t){0};
}

void srun_fail(srun_job_t *j, srun_token_t tok, const char *reason, const void *key, size_t klen,
               const void *val, size_t vlen) {
    j->c.failed++;
    if (!j->dlq) {
        spate_log(SPATE_LOG_WARN, LOGC, "job %s: %s/%d@%lld failed (no dead_letter topic): %s",
                  j->conf->name, tok.part->topic, tok.part->partition,
                  (long long)tok.part->offs[tok.seq & (tok.part->cap - 1)], reason);
        srun_ack(j, tok, -1);
        return;
    }
    char num[32];
    rd_kafka_headers_t *h = rd_kafka_headers_new(5);
    rd_kafka_header_add(h, "spate.error", -1, reason, -1);
    rd_kafka_header_add(h, "spate.topic", -1, tok.part->topic, -1);
    snprintf(num, sizeof num, "%d", tok.part->partition);
    rd_kafka_header_add(h, "spate.partition", -1, num, -1);
    snprintf(num, sizeof num, "%lld", (long long)tok.part->offs[tok.seq & (tok.part->cap - 1)]);
    rd_kafka_header_add(h, "spate.offset", -1, num, -1);
    rd_kafka_header_add(h, "spate.job", -1, j->conf->name, -1);
    dlq_ctx_t *ctx = spate_xcalloc(1, sizeof *ctx);
    ctx->j = j;
    ctx->tok = tok;
    j->dlq_pending++;
    dlq_produce(j, ctx, key, klen, val, vlen, h);
}

/* Delivery report (from rd_kafka_poll on the job thread). A failed
 * delivery is produced again: the record stays unsettled until a copy of
 * it is in the dead-letter topic. */
static void dlq_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    SPATE_UNUSED(rk);
    SPATE_UNUSED(opaque);
    dlq_ctx_t *ctx = m->_private;
    srun_job_t *j = ctx->j;
    if (m->err) {
        spate_log(SPATE_LOG_WARN, LOGC, "job %s: dead-letter delivery failed (%s); producing again",
                  j->conf->name, rd_kafka_err2str(m->err));
        rd_kafka_headers_t *h = NULL, *copy = NULL;
        if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR)
            copy = rd_kafka_headers_copy(h);
        dlq_produce(j, ctx, m->key, m->key_len, m->payload, m->len, copy);
        return;
    }
    j->dlq_pending--;
    j->c.dead_lettered++;
    srun_ack(j, ctx->tok, -1);
    free(ctx);
}

static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    SPATE_UNUSED(rk);
    spate_log(level <= 3   ? SPATE_LOG_ERROR
              : level <= 5 ? SPATE_LOG_WARN
                           : SPATE_LOG_DEBUG,
              "rdkafka", "%s: %s", fac, buf);
}

static bool conf_set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err,
                     size_t errlen) {
    char e[256];
    if (rd_kafka_conf_set(conf, k, v, e, sizeof e) == RD_KAFKA_CONF_OK) return true;
    snprintf(err, errlen, "librdkafka property %s=%s: %s", k, v, e);
    return false;
}

static rd_kafka_t *dlq_new(srun_job_t *j, char *err, size_t errlen) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const spate_stream_source_conf_t *s = &j->conf->source;
    if (!conf_set(conf, "bootstrap.servers", s->bootstrap, err, errlen) ||
        !conf_set(conf, "enable.idempotence", "true", err, errlen) ||
        !conf_set(conf, "acks", "all", err, errlen) ||
        !conf_set(conf, "message.timeout.ms", "0", err, errlen) || /* never give up */
        !conf_set(conf, "linger.ms", "5", err, errlen) ||
        !conf_set(conf, "broker.address.family", "v4", err, errlen)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
    rd_kafka_conf_set_dr_msg_cb(conf, dlq_dr_cb);
    char e[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
    if (!rk) {
        snprintf(err, errlen, "dead-letter producer: %.300s", e);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

/* ------------------------------------------------------------------ */
/* Commits, draining and rebalances                                    */
/* ------------------------------------------------------------------ */

/* A commit of `asked` failed: forget what was asked for, so the next
 * commit asks again (not before the interval: job_loop's commits when
 * caught up wait for it). */
static void commit_forget(srun_job_t *j, const rd_kafka_topic_partition_list_t *asked) {
    j->commit_failed_ms = spate_mono_ms();
    for (int i = 0; asked && i < asked->cnt; i++)
        for (size_t k = 0; k < j->nparts; k++)
            if (j->parts[k]->partition == asked->elems[i].partition &&
                !strcmp(j->parts[k]->topic, asked->elems[i].topic))
                j->parts[k]->committed = -1;
}

/* Commits the commit point of every partition in `only` (NULL: every
 * assigned one) that moved since the last commit. */
static void commit(srun_job_t *j, const rd_kafka_topic_partition_list_t *only, bool sync) {
    if (j->sink->flush) j->sink->flush(j->sink_state);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; i < j->nparts; i++) {
        srun_part_t *p = j->parts[i];
        if (only) {
            if (!rd_kafka_topic_partition_list_find(only, p->topic, p->partition)) continue;
        } else if (!p->assigned) {
            continue;
        }
        int64_t cp = part_commit_point(p);
        if (cp < 0 || cp == p->committed) continue;
        rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = cp;
        p->committed = cp;
    }
    if (l->cnt > 0) {
        rd_kafka_resp_err_t e = rd_kafka_commit(j->rk, l, sync ? 0 : 1);
        if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
            spate_log(SPATE_LOG_WARN, LOGC, "job %s: commit: %s", j->conf->name,
                      rd_kafka_err2str(e));
            commit_forget(j, l); /* refused at once; offset_commit_cb: later */
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* Whether commit would ask for anything (without flushing the sink). */
static bool commit_due(const srun_job_t *j) {
    for (size_t i = 0; i < j->nparts; i++) {
        const srun_part_t *p = j->parts[i];
        int64_t cp = part_commit_point(p);
        if (p->assigned && cp >= 0 && cp != p->committed) return true;
    }
    return false;
}

static void offset_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                             rd_kafka_topic_partition_list_t *offsets, void *opaque) {
    SPATE_UNUSED(rk);
    srun_job_t *j = opaque;
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        spate_log(SPATE_LOG_WARN, LOGC, "job %s: offset commit failed: %s", j->conf->name,
                  rd_kafka_err2str(e));
        commit_forget(j, offsets);
    }
}

static int64_t inflight_of(srun_job_t *j, const rd_kafka_topic_partition_list_t *only) {
    int64_t n = 0;
    for (size_t i = 0; i < j->nparts; i++) {
        srun_part_t *p = j->parts[i];
        if (only && !rd_kafka_topic_partition_list_find(only, p->topic, p->partition)) continue;
        n += (int64_t)(p->tail - p->head);
    }
    return n;
}

/* Polls the sink and the producer until the records of `only` (NULL: all)
 * are settled or timeout_ms passed (-1: no limit). True when settled. */
static bool drain(srun_job_t *j, const rd_kafka_topic_partition_list_t *only, int64_t timeout_ms) {
    int64_t deadline = spate_mono_ms() + timeout_ms;
    for (;;) {
        if (j->sink->flush) j->sink->flush(j->sink_state);
        if (inflight_of(j, only) == 0) return true;
        if (j->fatal || (timeout_ms >= 0 && spate_mono_ms() >= deadline)) return false;
        j->sink->poll(j->sink_state, 5);
        if (j->dlq) rd_kafka_poll(j->dlq, j->dlq_pending ? 5 : 0);
    }
}

static void set_paused(srun_job_t *j, bool pause) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; i < j->nparts; i++) {
        srun_part_t *p = j->parts[i];
        if (!p->assigned || p->paused == pause) continue;
        rd_kafka_topic_partition_list_add(l, p->topic, p->partition);
        p->paused = pause;
    }
    if (l->cnt) {
        if (pause)
            rd_kafka_pause_partitions(j->rk, l);
        else
            rd_kafka_resume_partitions(j->rk, l);
    }
    rd_kafka_topic_partition_list_destroy(l);
    j->paused = pause;
}

/* start: TIME — partitions the group has no offset for start at the first
 * message at or after start_ms. */
static void seek_by_time(srun_job_t *j, rd_kafka_topic_partition_list_t *parts) {
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_resp_err_t e = rd_kafka_committed(j->rk, c, 10000);
    if (e) {
        spate_log(SPATE_LOG_WARN, LOGC, "job %s: committed offsets: %s", j->conf->name,
                  rd_kafka_err2str(e));
        rd_kafka_topic_partition_list_destroy(c);
        return;
    }
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(c->cnt);
    for (int i = 0; i < c->cnt; i++)
        if (c->elems[i].offset < 0)
            rd_kafka_topic_partition_list_add(t, c->elems[i].topic, c->elems[i].partition)->offset =
                j->conf->source.start_ms;
    if (t->cnt) {
        e = rd_kafka_offsets_for_times(j->rk, t, 10000);
        if (e) {
            spate_log(SPATE_LOG_WARN, LOGC, "job %s: offsets for start time: %s", j->conf->name,
                      rd_kafka_err2str(e));
        } else {
            for (int i = 0; i < t->cnt; i++) {
                rd_kafka_topic_partition_t *x = rd_kafka_topic_partition_list_find(
                    parts, t->elems[i].topic, t->elems[i].partition);
                if (x)
                    x->offset = t->elems[i].offset >= 0 ? t->elems[i].offset : RD_KAFKA_OFFSET_END;
            }
        }
    }
    rd_kafka_topic_partition_list_destroy(t);
    rd_kafka_topic_partition_list_destroy(c);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    srun_job_t *j = opaque;
    bool coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (j->conf->source.start == SPATE_STREAM_START_TIME) seek_by_time(j, parts);
        for (int i = 0; i < parts->cnt; i++) {
            srun_part_t *p = part_get(j, parts->elems[i].topic, parts->elems[i].partition);
            p->assigned = true;
            p->paused = false;
            p->at_end = false;
            p->next_offset = -1;
            p->committed = -1;
            p->lag = -1;
        }
        spate_log(SPATE_LOG_INFO, LOGC, "job %s: assigned %d partition%s (%s)", j->conf->name,
                  parts->cnt, parts->cnt == 1 ? "" : "s", coop ? "cooperative" : "eager");
        rd_kafka_error_t *e = NULL;
        if (coop)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
        if (e) {
            spate_log(SPATE_LOG_ERROR, LOGC, "job %s: assign: %s", j->conf->name,
                      rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
        if (j->paused) { /* newly assigned partitions wait with the rest */
            j->paused = false;
            set_paused(j, true);
        }
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        bool lost = rd_kafka_assignment_lost(rk);
        /* Let the sink settle what it has of these partitions, then
         * commit them, then let them go. */
        bool ok = drain(j, parts, -1);
        if (!lost && ok) commit(j, parts, true);
        if (j->sink->release) j->sink->release(j->sink_state, parts);
        for (int i = 0; i < parts->cnt; i++) {
            srun_part_t *p = part_get(j, parts->elems[i].topic, parts->elems[i].partition);
            p->assigned = false;
            p->paused = false;
        }
        spate_log(SPATE_LOG_INFO, LOGC, "job %s: revoked %d partition%s%s", j->conf->name,
                  parts->cnt, parts->cnt == 1 ? "" : "s", lost ? " (lost)" : "");
        if (coop) {
            rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
            if (e) rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(rk, NULL);
        }
        return;
    }
    spate_log(SPATE_LOG_ERROR, LOGC, "job %s: rebalance: %s", j->conf->name, rd_kafka_err2str(err));
    if (j->sink->release) j->sink->release(j->sink_state, parts);
    if (coop) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
        if (e) rd_kafka_error_destroy(e);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

static rd_kafka_t *consumer_new(srun_job_t *j, char *err, size_t errlen) {
    const spate_stream_source_conf_t *s = &j->conf->source;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* Defaults a property of the file may override, then the file's,
     * then what spate manages (the loader refuses those in the file). */
    const char *defaults[][2] = {
        {"broker.address.family", "v4"},
        /* Prefetch bound. librdkafka < 2.4 refills a full queue only
         * when its broker thread wakes, so the job nudges it
         * (stream_fetch.c); with that, a small queue keeps up. */
        {"queued.max.messages.kbytes", "1024"},
        {"client.id", "spate-stream"},
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(defaults); i++)
        if (!conf_set(conf, defaults[i][0], defaults[i][1], err, errlen)) goto fail;
    /* librdkafka >= 2.4 refills a drained queue after this long by
     * itself; older ones need the nudger (stream_fetch.c). */
    if (!srun_fetch_needs_nudger() && !conf_set(conf, "fetch.queue.backoff.ms", "10", err, errlen))
        goto fail;
    for (size_t i = 0; i < s->nprops; i++)
        if (!conf_set(conf, s->props[i].key, s->props[i].value, err, errlen)) goto fail;
    if (!conf_set(conf, "bootstrap.servers", s->bootstrap, err, errlen) ||
        !conf_set(conf, "group.id", s->group, err, errlen) ||
        !conf_set(conf, "enable.auto.commit", "false", err, errlen) ||
        !conf_set(conf, "enable.auto.offset.store", "false", err, errlen) ||
        /* EOF events tell maybe_nudge which partitions are at their end */
        !conf_set(conf, "enable.partition.eof", "true", err, errlen) ||
        !conf_set(conf, "auto.offset.reset",
                  s->start == SPATE_STREAM_START_EARLIEST ? "earliest" : "latest", err, errlen))
        goto fail;
    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_offset_commit_cb(conf, offset_commit_cb);
    rd_kafka_conf_set_opaque(conf, j);
    char e[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
    if (!rk) {
        snprintf(err, errlen, "consumer: %.300s", e);
        goto fail;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new((int)s->ntopics);
    for (size_t i = 0; i < s->ntopics; i++)
        rd_kafka_topic_partition_list_add(t, s->topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t se = rd_kafka_subscribe(rk, t);
    rd_kafka_topic_partition_list_destroy(t);
    if (se) {
        snprintf(err, errlen, "subscribe: %s", rd_kafka_err2str(se));
        rd_kafka_destroy(rk);
        return NULL;
    }
    return rk;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The job loop                                                        */
/* ------------------------------------------------------------------ */

static void handle(srun_job_t *j, rd_kafka_message_t *m) {
    if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && m->rkt)
            part_get(j, rd_kafka_topic_name(m->rkt), m->partition)->at_end = true;
        else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            spate_log(SPATE_LOG_WARN, LOGC, "job %s: consumer: %s", j->conf->name,
                      rd_kafka_message_errstr(m));
        return;
    }
    srun_part_t *p = part_get(j, rd_kafka_topic_name(m->rkt), m->partition);
    p->at_end = false;
    srun_token_t tok = part_push(j, p, m->offset);
    j->c.in++;
    size_t nf;
    if (j->flat &&
        spate_stream_prog_run_flat(j->conf->prog, m->payload, m->payload ? m->len : 0, j->flat_f,
                                   &nf) &&
        j->sink->write_flat(j->sink_state, j->flat_f, nf, m, tok)) {
        j->c.flat++;
        return;
    }
    spate_stream_record_set(&j->rec, m->payload ? m->payload : "", m->payload ? m->len : 0);
    switch (spate_stream_prog_run(j->conf->prog, &j->rec, &j->runner)) {
    case SPATE_STREAM_PASS: j->sink->write(j->sink_state, j->rec.value, m, tok); break;
    case SPATE_STREAM_DROP:
        j->c.dropped++;
        srun_ack(j, tok, -1);
        break;
    case SPATE_STREAM_FAIL:
        srun_fail(j, tok, j->runner.reason, m->key, m->key_len, m->payload, m->len);
        break;
    }
    spate_stream_record_clear(&j->rec);
}

/* While the job has a backlog, asks the nudger (stream_fetch.c) to wake
 * the fetchers of the lagging partitions: soon when the consumer queue ran
 * dry (starved), now and then while it still has records. A partition
 * lags when its high watermark is past its position or, before its first
 * record (no position yet), when it holds records (a known high watermark
 * past its low one) and the consumer has not reported its end: skipping
 * those left a job whose other partitions were done idle for librdkafka's
 * one-second wake-up, one run in three of the stream benchmark. */
#define IDLE_COMMIT_MS 100 /* job_loop: commits of a caught-up job, at most this often */
#define NUDGE_STARVED_MS 2
#define NUDGE_LAGGING_MS 20
static void maybe_nudge(srun_job_t *j, bool starved, int64_t now) {
    if (!j->nudger || j->paused) return;
    if (now - j->last_nudge_ms < (starved ? NUDGE_STARVED_MS : NUDGE_LAGGING_MS)) return;
    j->last_nudge_ms = now;
    rd_kafka_topic_partition_list_t *pos = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; i < j->nparts; i++)
        if (j->parts[i]->assigned)
            rd_kafka_topic_partition_list_add(pos, j->parts[i]->topic, j->parts[i]->partition);
    rd_kafka_topic_partition_list_t *lagging = rd_kafka_topic_partition_list_new(pos->cnt);
    if (pos->cnt && rd_kafka_position(j->rk, pos) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < pos->cnt; i++) {
            int64_t lo, hi;
            const rd_kafka_topic_partition_t *t = &pos->elems[i];
            if (rd_kafka_get_watermark_offsets(j->rk, t->topic, t->partition, &lo, &hi)) continue;
            if (t->offset < 0) { /* no record yet: lags while it has any and no EOF came */
                if (hi < 0 || hi <= lo || part_get(j, t->topic, t->partition)->at_end) continue;
            } else if (hi <= t->offset) {
                continue;
            }
            rd_kafka_topic_partition_list_add(lagging, t->topic, t->partition);
        }
    }
    rd_kafka_topic_partition_list_destroy(pos);
    if (lagging->cnt)
        srun_nudger_kick(j->nudger, lagging); /* takes it */
    else
        rd_kafka_topic_partition_list_destroy(lagging);
}

static void job_loop(srun_job_t *j) {
    const spate_stream_delivery_t *d = &j->conf->delivery;
    int64_t last_commit = spate_mono_ms(), last_render = 0;
    j->last_log_ms = spate_mono_ms();
    while (!*j->stop && !j->fatal) {
        bool dry = false; /* the consumer queue ran empty */
        j->sink->poll(j->sink_state, 0);
        if (j->dlq) rd_kafka_poll(j->dlq, 0);
        /* Wait on the consumer only when the sink has nothing to answer. */
        int wait = j->inflight > 0 ? 1 : 100;
        if (j->paused) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(j->rk, 0); /* rebalances */
            if (m) {
                handle(j, m);
                rd_kafka_message_destroy(m);
            }
            j->sink->poll(j->sink_state, 5);
        } else {
            for (int n = 0; n < BATCH && !j->fatal && !*j->stop; n++) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(j->rk, n == 0 ? wait : 0);
                if (!m) {
                    dry = true;
                    break;
                }
                handle(j, m);
                rd_kafka_message_destroy(m);
                if (j->inflight >= d->max_in_flight) break;
            }
            maybe_nudge(j, dry, spate_mono_ms());
        }
        if (!j->paused && j->inflight >= d->max_in_flight)
            set_paused(j, true);
        else if (j->paused && j->inflight < d->max_in_flight / 2)
            set_paused(j, false);
        int64_t now = spate_mono_ms();
        /* A job that caught up (nothing more to take, nothing in flight)
         * commits at once, so its lag reads 0 without waiting out the
         * interval: at most every tenth of the interval (IDLE_COMMIT_MS at
         * least), and not within an interval of a failed commit. */
        bool idle =
            dry && j->inflight == 0 &&
            now - last_commit >= SPATE_MAX(IDLE_COMMIT_MS, d->commit_interval_ms / 10) &&
            (j->commit_failed_ms == 0 || now - j->commit_failed_ms >= d->commit_interval_ms);
        if (now - last_commit >= d->commit_interval_ms || (idle && commit_due(j))) {
            commit(j, NULL, false);
            last_commit = now;
        }
        if (now - last_render >= 1000) {
            if (j->want_prom) srun_metrics_render(j);
            last_render = now;
        }
        if (now - j->last_log_ms >= METRICS_LOG_MS) srun_metrics_log(j, now);
    }
}

/* Gives the partitions back before rd_kafka_consumer_close: unsubscribes
 * and serves the revoke here, on the job thread, so the close has nothing
 * to revoke. librdkafka 2.0 can hang for good in rd_kafka_assign when it
 * is called from the rebalance callback that rd_kafka_consumer_close
 * serves (librdkafka issues #4884, #4527; seen once in test_stream_e2e's
 * test_8: a processor never exited after "revoked 3 partitions").
 * Records that still arrive are dropped unread: nothing past the last
 * commit is settled, so the next owner reads them. */
#define LEAVE_MS 10000
static void leave_group(srun_job_t *j) {
    if (rd_kafka_unsubscribe(j->rk) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    int64_t deadline = spate_mono_ms() + LEAVE_MS;
    while (spate_mono_ms() < deadline) {
        rd_kafka_topic_partition_list_t *a = NULL;
        bool none =
            rd_kafka_assignment(j->rk, &a) == RD_KAFKA_RESP_ERR_NO_ERROR && a && a->cnt == 0;
        if (a) rd_kafka_topic_partition_list_destroy(a);
        if (none) return;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(j->rk, 50); /* serves the revoke */
        if (m) rd_kafka_message_destroy(m);
    }
    spate_log(SPATE_LOG_WARN, LOGC, "job %s: partitions still assigned %d ms after unsubscribing",
              j->conf->name, LEAVE_MS);
}

static void *job_thread(void *arg) {
    srun_job_t *j = arg;
    spate_log(SPATE_LOG_INFO, LOGC, "job %s: consuming %s (group %s) into %s", j->conf->name,
              j->conf->source.topics[0], j->conf->source.group, j->sink->name);
    job_loop(j);
    /* Stop: nothing more is consumed; settle, commit, leave the group. */
    bool settled = j->fatal ? false : drain(j, NULL, DRAIN_MS);
    if (!settled && !j->fatal)
        srun_fatal(j, "%lld records still unsettled after %d ms; their offsets stay uncommitted",
                   (long long)j->inflight, DRAIN_MS);
    commit(j, NULL, true);
    if (j->nudger) j->nudges = srun_nudger_sent(j->nudger);
    srun_nudger_free(j->nudger);
    j->nudger = NULL;
    leave_group(j);
    rd_kafka_consumer_close(j->rk); /* nothing assigned any more: leaves the group */
    if (j->dlq) {
        if (rd_kafka_flush(j->dlq, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
            srun_fatal(j, "dead-letter topic: records still undelivered at exit");
    }
    srun_metrics_log(j, spate_mono_ms());
    if (j->want_prom) srun_metrics_render(j);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Metrics server                                                      */
/* ------------------------------------------------------------------ */

typedef struct {
    srun_job_t **jobs;
    size_t n;
} prom_ctx_t;

static void prom_handler(void *ctx, const spate_http_req_t *req, spate_http_resp_t *resp) {
    prom_ctx_t *pc = ctx;
    if (strcmp(req->path, "/metrics") != 0) {
        resp->status = 404;
        resp->content_type = "text/plain; charset=utf-8";
        spate_buf_puts(&resp->body, "not found; try /metrics\n");
        return;
    }
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    srun_metrics_text(pc->jobs, pc->n, &resp->body);
}

/* ------------------------------------------------------------------ */
/* Starting and ending                                                 */
/* ------------------------------------------------------------------ */

const srun_sink_ops_t *srun_sink_own(const spate_stream_job_t *jc) {
    switch (jc->sink.kind) {
    case SPATE_STREAM_SINK_CQL: return &srun_sink_cql;
    case SPATE_STREAM_SINK_FILE: return &srun_sink_file;
    case SPATE_STREAM_SINK_STDOUT: return &srun_sink_stdout;
    case SPATE_STREAM_SINK_POSTGRES: return &srun_sink_pg;
    case SPATE_STREAM_SINK_NONE: break;
    }
    return NULL;
}

static const srun_sink_ops_t *sink_for(const spate_stream_job_t *jc, char *err, size_t errlen) {
    if (jc->window.enabled) return srun_window_sink_for(jc, err, errlen); /* stream_window.c */
    const srun_sink_ops_t *own = srun_sink_own(jc);
    if (own == NULL) snprintf(err, errlen, "job %s: no sink", jc->name);
    return own;
}

static void job_free(srun_job_t *j) {
    if (!j) return;
    if (j->sink_state) j->sink->close(j->sink_state);
    srun_nudger_free(j->nudger); /* before its consumer */
    /* A job that ran was closed by job_thread. One that never ran (another
     * job or the metrics server failed to start) must not be closed here:
     * rd_kafka_consumer_close would serve a pending assignment to
     * rebalance_cb, whose rd_kafka_assign then never returns while the
     * group handler terminates (a hang seen in test_up's crash test). */
    if (j->rk) rd_kafka_destroy_flags(j->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    if (j->dlq) rd_kafka_destroy(j->dlq);
    for (size_t i = 0; i < j->nparts; i++) part_free(j->parts[i]);
    free(j->parts);
    spate_stream_record_clear(&j->rec);
    spate_stream_runner_free(&j->runner);
    pthread_mutex_destroy(&j->mu);
    for (int f = 0; f < SRUN_PROM_FAMILIES; f++) spate_buf_free(&j->prom[f]);
    free(j);
}

spate_status_t spate_stream_run(const spate_stream_pipeline_t *p, const spate_stream_run_opts_t *o,
                                char *err, size_t errlen) {
    if (errlen) err[0] = 0;
    size_t njobs = spate_stream_pipeline_njobs(p);
    const spate_stream_job_t **confs = spate_xcalloc(njobs ? njobs : 1, sizeof *confs);
    size_t n = 0;
    if (o->job) {
        confs[0] = spate_stream_pipeline_find(p, o->job);
        if (!confs[0]) {
            snprintf(err, errlen, "no job named '%s'", o->job);
            free(confs);
            return SPATE_EINVAL;
        }
        n = 1;
    } else {
        for (size_t i = 0; i < njobs; i++) confs[n++] = spate_stream_pipeline_job(p, i);
    }
    /* Refuse what cannot run before starting anything. */
    for (size_t i = 0; i < n; i++) {
        if (!sink_for(confs[i], err, errlen)) {
            free(confs);
            return SPATE_EINVAL;
        }
    }
    spate_status_t st = SPATE_OK;
    srun_job_t **jobs = spate_xcalloc(n, sizeof *jobs);
    pthread_t *th = spate_xcalloc(n, sizeof *th);
    size_t started = 0;
    spate_http_server_t *http = NULL;
    prom_ctx_t pc = {jobs, n};
    for (size_t i = 0; i < n; i++) {
        srun_job_t *j = spate_xcalloc(1, sizeof *j);
        jobs[i] = j;
        j->conf = confs[i];
        j->stop = o->stop;
        j->sink = sink_for(confs[i], err, errlen);
        const char *flat = getenv("SPATE_STREAM_FLAT");
        j->flat = j->sink->write_flat && spate_stream_prog_flat(j->conf->prog) &&
                  !(flat && !strcmp(flat, "0"));
        j->want_prom = o->metrics_addr != NULL;
        pthread_mutex_init(&j->mu, NULL);
        spate_stream_runner_init(&j->runner);
        char e[400];
        if (j->conf->dead_letter_topic && !(j->dlq = dlq_new(j, e, sizeof e))) {
            snprintf(err, errlen, "job %s: %s", j->conf->name, e);
            st = SPATE_ERR;
            goto out;
        }
        if (j->sink->open(j, &j->sink_state, e, sizeof e) != SPATE_OK) {
            snprintf(err, errlen, "job %s: %s sink: %s", j->conf->name, j->sink->name, e);
            st = SPATE_ERR;
            goto out;
        }
        if (*o->stop) goto out;
        if (!(j->rk = consumer_new(j, e, sizeof e))) {
            snprintf(err, errlen, "job %s: %s", j->conf->name, e);
            st = SPATE_ERR;
            goto out;
        }
        if (srun_fetch_needs_nudger() && !(j->nudger = srun_nudger_new(j->rk)))
            spate_log(SPATE_LOG_WARN, LOGC,
                      "job %s: no fetch nudger thread; consuming at librdkafka's pace",
                      j->conf->name);
        if (j->want_prom) srun_metrics_render(j);
    }
    if (o->metrics_addr) {
        spate_net_addr_t addr;
        char e[256];
        if (spate_net_addr_parse(o->metrics_addr, &addr, e, sizeof e) != SPATE_OK ||
            spate_http_server_start(&http, &addr, 1, prom_handler, &pc) != SPATE_OK) {
            snprintf(err, errlen, "--metrics %s: %s", o->metrics_addr,
                     http ? "" : (e[0] ? e : "cannot listen"));
            st = SPATE_ERR;
            goto out;
        }
        spate_log(SPATE_LOG_INFO, LOGC, "metrics on http://%s/metrics", o->metrics_addr);
    }
    for (; started < n; started++) {
        if (pthread_create(&th[started], NULL, job_thread, jobs[started]) != 0) {
            snprintf(err, errlen, "cannot start a thread: %s", strerror(errno));
            st = SPATE_ERR;
            *o->stop = 1;
            break;
        }
    }
    for (size_t i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        if (jobs[i]->fatal) st = SPATE_ERR;
    }
    if (st == SPATE_ERR && !err[0]) snprintf(err, errlen, "a job failed (see the log)");
out:
    if (http) spate_http_server_stop(http);
    for (size_t i = 0; i < n; i++) job_free(jobs[i]);
    free(jobs);
    free(th);
    free(confs);
    return st;
}
