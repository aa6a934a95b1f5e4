/*
 * kafka_producer.c — idempotent producers: InitProducerId v0-1 and the
 * sequence checks Produce runs before appending (Kafka's ProducerStateEntry
 * / ProducerAppendInfo).
 *
 * InitProducerId
 *   request   transactional_id (nullable string), transaction_timeout_ms int32
 *   response  throttle_time_ms int32, error_code int16, producer_id int64,
 *             producer_epoch int16
 * Every call gets a new producer id with epoch 0. Transactions are not
 * supported: a non-null transactional_id is answered
 * COORDINATOR_NOT_AVAILABLE (15) with producer_id -1 (there is no
 * transaction coordinator to find). v2+ (flexible) is not advertised.
 *
 * Producer ids are never handed out twice, even across restarts: the file
 * <data_dir>/producer_ids holds the end of the reserved block,
 *
 *   i64 next_block_end (big-endian) | u32 crc32c of those 8 bytes
 *
 * written atomically (temp file, fsync, rename, fsync dir) before any id of
 * a new block of 1000 is given out; at start the allocator resumes at that
 * end (ids of a block not used when the broker stopped are skipped). Ids
 * seen in the logs at start also push the allocator past them.
 *
 * Per (producer id, topic, partition) the broker keeps the producer epoch
 * and the last 5 batches (first_seq, last_seq, base_offset). A batch with
 * producer_id >= 0 is, in this order:
 *   - unknown producer: accepted when base_sequence is 0, otherwise
 *     OUT_OF_ORDER_SEQUENCE_NUMBER (45) (Kafka >= 2.5 would accept any
 *     sequence; we prefer refusing a gap we cannot check);
 *   - epoch lower than the known one: INVALID_PRODUCER_EPOCH (47);
 *   - epoch higher: must start at sequence 0 (else 45); the entry restarts;
 *   - same epoch and (first_seq, last_seq) equal to a retained batch: a
 *     duplicate — not appended, answered success with the original offset;
 *   - otherwise first_seq must follow the latest last_seq (INT32_MAX wraps
 *     to 0), else 45.
 * A batch with producer_id >= 0 but a negative epoch or sequence is
 * INVALID_RECORD. The state changes only once the batch is in the log.
 *
 * Restart (clean or kill -9): the state is rebuilt from the logs, which is
 * the only copy — so it can never disagree with what the log recovery kept.
 * kafka_producers_load reads, for every partition, the batches of the last
 * SCAN_OFFSETS offsets (from max(log start, end - SCAN_OFFSETS)) and
 * replays their headers (producer id, epoch, first/last sequence, offset).
 * A retry of a batch that is in the log is thus still recognised as a
 * duplicate after a restart. Limitation: a producer whose last batch on a
 * partition is older than that window is unknown after a restart (its next
 * batch, not at sequence 0, gets 45).
 *
 * Entries not written to for PRODUCER_EXPIRY_MS (Kafka's
 * producer.id.expiration.ms default, 1 day) are dropped by a sweep run at
 * most once a minute, from InitProducerId or when an entry is added.
 * Entries are keyed by topic name: a deleted and re-created topic keeps its
 * producers' entries until they expire (an entry whose offsets are past the
 * new log's end is dropped).
 */
#include "kafka_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PID_FILE "producer_ids"
#define PID_BLOCK 1000
#define RETAIN 5
#define SCAN_OFFSETS 1000000
#define SCAN_CHUNK (1 << 20)
#define PRODUCER_EXPIRY_MS (24LL * 3600 * 1000)
#define SWEEP_EVERY_MS 60000

typedef struct {
    int32_t first_seq, last_seq;
    int64_t base_offset;
} pbatch_t;

typedef struct pentry {
    int64_t pid;
    int32_t part;
    char *topic;
    int16_t epoch;
    int nbatches; /* retained, <= RETAIN */
    int head;     /* index of the latest */
    pbatch_t batches[RETAIN];
    int64_t touched_ms;
    struct pentry *next;
} pentry_t;

struct kafka_producers {
    int64_t next_pid;     /* the next id to hand out */
    int64_t reserved_end; /* ids below this are reserved on disk */
    pentry_t **buckets;
    size_t nbuckets, nentries;
    int64_t last_sweep_ms;
};

/* ---- the table ---- */

static uint64_t key_hash(int64_t pid, const char *topic, size_t tn, int32_t part) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < tn; i++) h = (h ^ (uint8_t)topic[i]) * 1099511628211ULL;
    h ^= (uint64_t)pid * 0x9E3779B97F4A7C15ULL;
    h ^= (uint64_t)(uint32_t)part * 0xC2B2AE3D27D4EB4FULL;
    return h ^ (h >> 29);
}

static pentry_t **entry_slot(struct kafka_producers *ps, int64_t pid, const char *topic, size_t tn,
                             int32_t part) {
    pentry_t **pp = &ps->buckets[key_hash(pid, topic, tn, part) & (ps->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->pid == pid && (*pp)->part == part && strlen((*pp)->topic) == tn &&
            memcmp((*pp)->topic, topic, tn) == 0)
            break;
    return pp;
}

static void table_grow(struct kafka_producers *ps) {
    size_t nb = ps->nbuckets * 2;
    pentry_t **nbk = spate_xcalloc(nb, sizeof *nbk);
    for (size_t i = 0; i < ps->nbuckets; i++)
        for (pentry_t *e = ps->buckets[i], *n; e; e = n) {
            n = e->next;
            size_t h = key_hash(e->pid, e->topic, strlen(e->topic), e->part) & (nb - 1);
            e->next = nbk[h];
            nbk[h] = e;
        }
    free(ps->buckets);
    ps->buckets = nbk;
    ps->nbuckets = nb;
}

static pentry_t *entry_add(struct kafka_producers *ps, int64_t pid, const char *topic, size_t tn,
                           int32_t part) {
    if (ps->nentries >= ps->nbuckets * 2) table_grow(ps);
    pentry_t *e = spate_xcalloc(1, sizeof *e);
    e->pid = pid;
    e->part = part;
    e->topic = spate_xmalloc(tn + 1);
    memcpy(e->topic, topic, tn);
    e->topic[tn] = '\0';
    pentry_t **pp = &ps->buckets[key_hash(pid, topic, tn, part) & (ps->nbuckets - 1)];
    e->next = *pp;
    *pp = e;
    ps->nentries++;
    return e;
}

static void entry_free(pentry_t *e) {
    free(e->topic);
    free(e);
}

static void sweep(struct kafka_producers *ps, int64_t now) {
    for (size_t i = 0; i < ps->nbuckets; i++)
        for (pentry_t **pp = &ps->buckets[i]; *pp;) {
            pentry_t *e = *pp;
            if (now - e->touched_ms > PRODUCER_EXPIRY_MS) {
                *pp = e->next;
                entry_free(e);
                ps->nentries--;
            } else {
                pp = &e->next;
            }
        }
}

/* Runs sweep at most once every SWEEP_EVERY_MS. */
static void maybe_sweep(struct kafka_producers *ps, int64_t now) {
    if (now - ps->last_sweep_ms <= SWEEP_EVERY_MS) return;
    ps->last_sweep_ms = now;
    sweep(ps, now);
}

/* Records an appended batch in e (epoch already checked). */
static void entry_record(pentry_t *e, int16_t epoch, int32_t first, int32_t last, int64_t base,
                         int64_t now) {
    if (epoch != e->epoch) {
        e->epoch = epoch;
        e->nbatches = 0;
    }
    e->head = e->nbatches ? (e->head + 1) % RETAIN : 0;
    e->batches[e->head] = (pbatch_t){first, last, base};
    if (e->nbatches < RETAIN) e->nbatches++;
    e->touched_ms = now;
}

/* Kafka's DefaultRecordBatch.incrementSequence: wraps past INT32_MAX to 0. */
static int32_t seq_add(int32_t seq, int32_t inc) {
    if (seq > INT32_MAX - inc) return inc - (INT32_MAX - seq) - 1;
    return seq + inc;
}

static int32_t batch_last_seq(const spate_kbatch_t *bt) {
    return seq_add(bt->base_sequence, bt->last_offset_delta);
}

/* ---- the producer id allocator ---- */

static void pid_path(const kafka_broker_t *b, char *path, size_t n, const char *suffix) {
    snprintf(path, n, "%s/%s%s", b->conf.data_dir, PID_FILE, suffix);
}

static spate_status_t pid_file_write(const kafka_broker_t *b, int64_t end) {
    char path[1400], tmp[1400];
    pid_path(b, path, sizeof path, "");
    pid_path(b, tmp, sizeof tmp, ".tmp");
    spate_buf_t o = SPATE_BUF_INIT;
    spate_wr_i64(&o, end);
    spate_wr_u32(&o, spate_crc32c(0, o.data, 8));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0;
    for (size_t off = 0; ok && off < o.len;) {
        ssize_t w = write(fd, o.data + off, o.len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            ok = false;
        else
            off += (size_t)w;
    }
    ok = ok && fsync(fd) == 0;
    if (fd >= 0) close(fd);
    spate_buf_free(&o);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return SPATE_EIO;
    }
    int dfd = open(b->conf.data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return SPATE_EIO;
    ok = fsync(dfd) == 0;
    close(dfd);
    return ok ? SPATE_OK : SPATE_EIO;
}

static spate_status_t pid_file_read(const kafka_broker_t *b, int64_t *end, char *err,
                                    size_t errlen) {
    char path[1400];
    pid_path(b, path, sizeof path, "");
    *end = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return SPATE_OK;
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return SPATE_EIO;
    }
    uint8_t buf[16];
    ssize_t n;
    do n = read(fd, buf, sizeof buf);
    while (n < 0 && errno == EINTR);
    close(fd);
    spate_rd_t r;
    spate_rd_init(&r, buf, n > 0 ? (size_t)n : 0);
    int64_t v;
    uint32_t crc;
    if (n != 12 || spate_rd_i64(&r, &v) || spate_rd_u32(&r, &crc) ||
        spate_crc32c(0, buf, 8) != crc || v < 0) {
        snprintf(err, errlen, "%s is corrupt: refusing to start (it could reuse producer ids)",
                 path);
        return SPATE_EINVAL;
    }
    *end = v;
    return SPATE_OK;
}

/* ---- rebuilding from the logs ---- */

static void scan_partition(kafka_broker_t *b, kafka_topic_t *t, int32_t idx, int64_t now,
                           size_t *nbatches) {
    struct kafka_producers *ps = b->producers;
    spate_klog_t *log = t->parts[idx].log;
    if (!log) return;
    int64_t end = spate_klog_end_offset(log), off = spate_klog_start_offset(log);
    if (end - off > SCAN_OFFSETS) off = end - SCAN_OFFSETS;
    size_t tn = strlen(t->name);
    spate_buf_t buf = SPATE_BUF_INIT;
    while (off < end) {
        spate_buf_reset(&buf);
        if (spate_klog_read(log, off, SCAN_CHUNK, &buf) != SPATE_OK || buf.len == 0) break;
        size_t pos = 0;
        int64_t next = off;
        while (pos < buf.len) {
            spate_kbatch_t bt;
            const uint8_t *p = (const uint8_t *)buf.data + pos;
            if (spate_kbatch_parse(p, buf.len - pos, buf.len - pos, &bt) != SPATE_KBATCH_OK) break;
            pos += (size_t)bt.length;
            next = bt.base_offset + bt.last_offset_delta + 1;
            if (bt.producer_id < 0 || bt.producer_epoch < 0 || bt.base_sequence < 0) continue;
            if (bt.producer_id >= ps->next_pid) ps->next_pid = bt.producer_id + 1;
            pentry_t **pp = entry_slot(ps, bt.producer_id, t->name, tn, idx);
            pentry_t *e = *pp ? *pp : entry_add(ps, bt.producer_id, t->name, tn, idx);
            if (bt.producer_epoch < e->epoch) continue;
            entry_record(e, bt.producer_epoch, bt.base_sequence, batch_last_seq(&bt),
                         bt.base_offset, now);
            (*nbatches)++;
        }
        if (next <= off) break; /* no progress: stop rather than loop */
        off = next;
    }
    spate_buf_free(&buf);
}

spate_status_t kafka_producers_load(kafka_broker_t *b, char *err, size_t errlen) {
    struct kafka_producers *ps = spate_xcalloc(1, sizeof *ps);
    ps->nbuckets = 1024;
    ps->buckets = spate_xcalloc(ps->nbuckets, sizeof *ps->buckets);
    b->producers = ps;
    int64_t end;
    spate_status_t st = pid_file_read(b, &end, err, errlen);
    if (st != SPATE_OK) return st;
    ps->next_pid = ps->reserved_end = end;
    int64_t now = spate_wall_ms();
    ps->last_sweep_ms = now;
    size_t nbatches = 0;
    for (kafka_topic_t *t = b->topics; t; t = t->next)
        for (int32_t i = 0; i < t->nparts; i++) scan_partition(b, t, i, now, &nbatches);
    /* Ids seen in a log but past the file (it was lost): the next block
     * starts after them. */
    if (ps->next_pid > ps->reserved_end) ps->reserved_end = ps->next_pid;
    if (ps->nentries)
        spate_log(SPATE_LOG_INFO, "kafka",
                  "rebuilt %zu idempotent producer state(s) from %zu batch(es)", ps->nentries,
                  nbatches);
    return SPATE_OK;
}

void kafka_producers_close(kafka_broker_t *b) {
    struct kafka_producers *ps = b->producers;
    if (!ps) return;
    for (size_t i = 0; i < ps->nbuckets; i++)
        for (pentry_t *e = ps->buckets[i], *n; e; e = n) {
            n = e->next;
            entry_free(e);
        }
    free(ps->buckets);
    free(ps);
    b->producers = NULL;
}

/* ---- Produce ---- */

int16_t kafka_producer_check(kafka_broker_t *b, const kafka_topic_t *t, int32_t idx,
                             const spate_kbatch_t *bt, int64_t *dup_offset) {
    struct kafka_producers *ps = b->producers;
    *dup_offset = -1;
    if (bt->producer_id < 0 || !ps) return KERR_NONE;
    if (bt->producer_epoch < 0 || bt->base_sequence < 0) return KERR_INVALID_RECORD;
    size_t tn = strlen(t->name);
    pentry_t **pp = entry_slot(ps, bt->producer_id, t->name, tn, idx);
    pentry_t *e = *pp;
    if (e && e->nbatches &&
        e->batches[e->head].base_offset >= spate_klog_end_offset(t->parts[idx].log)) {
        /* Offsets past the log's end: the topic was re-created. */
        *pp = e->next;
        entry_free(e);
        ps->nentries--;
        e = NULL;
    }
    if (!e || e->nbatches == 0)
        return bt->base_sequence == 0 ? KERR_NONE : KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    if (bt->producer_epoch < e->epoch) return KERR_INVALID_PRODUCER_EPOCH;
    if (bt->producer_epoch > e->epoch)
        return bt->base_sequence == 0 ? KERR_NONE : KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    int32_t last = batch_last_seq(bt);
    for (int i = 0; i < e->nbatches; i++)
        if (e->batches[i].first_seq == bt->base_sequence && e->batches[i].last_seq == last) {
            *dup_offset = e->batches[i].base_offset;
            return KERR_NONE;
        }
    if (bt->base_sequence != seq_add(e->batches[e->head].last_seq, 1))
        return KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    return KERR_NONE;
}

void kafka_producer_appended(kafka_broker_t *b, const kafka_topic_t *t, int32_t idx,
                             const spate_kbatch_t *bt, int64_t base_offset) {
    struct kafka_producers *ps = b->producers;
    if (bt->producer_id < 0 || !ps) return;
    size_t tn = strlen(t->name);
    int64_t now = spate_wall_ms();
    pentry_t **pp = entry_slot(ps, bt->producer_id, t->name, tn, idx);
    pentry_t *e = *pp;
    if (!e) {
        maybe_sweep(ps, now); /* before adding: the sweep may free *pp's chain */
        e = entry_add(ps, bt->producer_id, t->name, tn, idx);
    }
    entry_record(e, bt->producer_epoch, bt->base_sequence, batch_last_seq(bt), base_offset, now);
}

/* ---- InitProducerId ---- */

kafka_result_t kafka_handle_init_producer_id(kafka_broker_t *b, kafka_conn_t *c,
                                             const kafka_req_t *req, spate_rd_t *body,
                                             spate_buf_t *out) {
    SPATE_UNUSED(c);
    SPATE_UNUSED(req);
    spate_slice_t txn;
    int32_t txn_timeout;
    if (kafka_rd_string(body, false, true, &txn) || spate_rd_i32(body, &txn_timeout))
        return KAFKA_CLOSE;
    struct kafka_producers *ps = b->producers;
    int16_t err = KERR_NONE;
    int64_t pid = -1;
    if (txn.p) {
        err = KERR_COORDINATOR_NOT_AVAILABLE; /* no transactions here */
    } else if (!ps) {
        err = KERR_COORDINATOR_NOT_AVAILABLE;
    } else {
        maybe_sweep(ps, spate_wall_ms());
        if (ps->next_pid >= ps->reserved_end) {
            int64_t end = ps->next_pid + PID_BLOCK;
            if (pid_file_write(b, end) != SPATE_OK) {
                spate_log(SPATE_LOG_ERROR, "kafka", "cannot persist producer ids (%s/%s): %s",
                          b->conf.data_dir, PID_FILE, strerror(errno));
                err = KERR_KAFKA_STORAGE_ERROR;
            } else {
                ps->reserved_end = end;
            }
        }
        if (!err) pid = ps->next_pid++;
    }
    spate_wr_i32(out, 0); /* throttle_time_ms */
    spate_wr_i16(out, err);
    spate_wr_i64(out, pid);
    spate_wr_i16(out, err ? -1 : 0);
    return KAFKA_DONE;
}
