/*
 * kafka_compact.c — log compaction (cleanup.policy=compact).
 *
 * A compacted topic keeps, for every key, at least the last record written
 * with it; a record whose key was written again later may be removed, and
 * a tombstone (a null value) is removed once it is delete.retention.ms
 * old. Offsets never change: consumers see gaps.
 *
 * One pass over a partition (kafka_compact_partition):
 *
 *   1. map    every batch of every segment, the active one included, is
 *             read (decompressed when it is gzip/snappy/lz4/zstd) and each
 *             keyed record sets map[MD5(key)] = its offset, so the map ends
 *             holding the last offset of every key. (Kafka's cleaner also
 *             keys by a 16-byte digest.)
 *   2. clean  every older segment whose records are all older than
 *             min.compaction.lag.ms is rewritten keeping the records that
 *             are the last of their key (and are not expired tombstones):
 *
 *             a batch keeping every record   is copied as it is
 *             a batch keeping none           is dropped
 *             a batch keeping some           is rebuilt: the same header
 *                 (BaseOffset, LastOffsetDelta, BaseTimestamp, producer
 *                 fields), the kept records copied verbatim and compressed
 *                 again with the batch's codec, RecordsCount, Length,
 *                 MaxTimestamp (CreateTime batches) and the CRC recomputed
 *
 *             and swapped in by spate_klog_rewrite_* (crash-safe rename).
 *
 * The active segment is never rewritten, as in Kafka. A pass runs when a
 * segment has rolled since the last one (kafka_server.c's cleaner timer);
 * it runs on the loop thread, so its cost is a pause for every client
 * (see the broker issue's notes: a cleaner thread is the next step).
 *
 * Produce to a compacted topic refuses records without a key
 * (INVALID_RECORD, as Kafka does): kafka_compact_check_keys.
 */
#include "kafka_codec.h"
#include "kafka_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Largest decompressed records section handled (a batch is at most
 * max.message.bytes compressed; this bounds what it may expand to). */
#define COMPACT_MAX_RECORDS (64 << 20)
#define COMPACT_WRITE_CHUNK (1 << 20)

enum {
    B_LENGTH = 8,
    B_CRC = 17,
    B_ATTRIBUTES = 21,
    B_BASE_TIMESTAMP = 27,
    B_MAX_TIMESTAMP = 35,
    B_RECORDS_COUNT = 57,
    B_RECORDS = 61
};
#define ATTR_LOG_APPEND_TIME 0x08
#define ATTR_CONTROL 0x20

static uint64_t rd_be(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

static void wr_be(uint8_t *p, uint64_t v, int n) {
    for (int i = n - 1; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

/* ---- the key map: MD5(key) → last offset, open addressing ---- */

typedef struct {
    uint8_t digest[16];
    int64_t offset; /* -1: empty slot */
} kmap_ent_t;

typedef struct {
    kmap_ent_t *v;
    size_t cap, n; /* cap a power of two */
} kmap_t;

static size_t kmap_slot(const kmap_t *m, const uint8_t d[16]) {
    uint64_t h;
    memcpy(&h, d, sizeof h);
    size_t i = (size_t)h & (m->cap - 1);
    while (m->v[i].offset >= 0 && memcmp(m->v[i].digest, d, 16) != 0) i = (i + 1) & (m->cap - 1);
    return i;
}

static void kmap_grow(kmap_t *m) {
    kmap_t g = {.cap = m->cap ? m->cap * 2 : 1024};
    g.v = spate_xmalloc(g.cap * sizeof *g.v);
    for (size_t i = 0; i < g.cap; i++) g.v[i].offset = -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->v[i].offset >= 0) g.v[kmap_slot(&g, m->v[i].digest)] = m->v[i];
    g.n = m->n;
    free(m->v);
    *m = g;
}

static void kmap_put(kmap_t *m, const uint8_t d[16], int64_t offset) {
    if ((m->n + 1) * 4 > m->cap * 3) kmap_grow(m);
    size_t i = kmap_slot(m, d);
    if (m->v[i].offset < 0) {
        memcpy(m->v[i].digest, d, 16);
        m->n++;
    }
    m->v[i].offset = offset;
}

static int64_t kmap_get(const kmap_t *m, const uint8_t d[16]) {
    return m->cap ? m->v[kmap_slot(m, d)].offset : -1;
}

/* ---- walking a batch's records ---- */

typedef struct {
    const kafka_topic_t *t;
    int32_t part;
    kmap_t map;
    spate_buf_t plain;   /* a decompressed records section */
    spate_buf_t kept;    /* the kept records of one batch */
    spate_buf_t rebuilt; /* a rebuilt batch */
    spate_buf_t out;     /* rewritten segment bytes not yet written */
    spate_klog_rewrite_t rw;
    int64_t now_ms, delete_retention_ms;
    int64_t records_in, records_kept;
} compact_t;

/* The batch's records, decompressed into c->plain when compressed. */
static spate_status_t batch_records(compact_t *c, const uint8_t *batch, size_t len,
                                    const uint8_t **p, size_t *n) {
    int codec = (int)(rd_be(batch + B_ATTRIBUTES, 2) & SPATE_KAFKA_CODEC_MASK);
    if (codec == SPATE_KAFKA_CODEC_NONE) {
        *p = batch + B_RECORDS;
        *n = len - B_RECORDS;
        return SPATE_OK;
    }
    spate_buf_reset(&c->plain);
    spate_status_t st = spate_kafka_codec_decompress(codec, batch + B_RECORDS, len - B_RECORDS,
                                                     COMPACT_MAX_RECORDS, &c->plain);
    *p = (const uint8_t *)c->plain.data;
    *n = c->plain.len;
    return st;
}

static spate_status_t batch_bad(const compact_t *c, const uint8_t *batch, const char *why,
                                spate_status_t st) {
    spate_log(SPATE_LOG_ERROR, "kafka", "%s-%d: compaction: batch at offset %" PRId64 ": %s (%s)",
              c->t->name, c->part, (int64_t)rd_be(batch, 8), why, spate_status_str(st));
    return SPATE_EIO;
}

/* Pass 1: every keyed record sets its key's last offset. */
static spate_status_t map_batch(void *ctx, const uint8_t *batch, size_t len) {
    compact_t *c = ctx;
    if (rd_be(batch + B_ATTRIBUTES, 2) & ATTR_CONTROL) return SPATE_OK;
    const uint8_t *p;
    size_t n;
    spate_status_t st = batch_records(c, batch, len, &p, &n);
    if (st != SPATE_OK) return batch_bad(c, batch, "cannot decompress", st);
    int64_t base = (int64_t)rd_be(batch, 8);
    spate_kafka_record_iter_t it;
    spate_kafka_record_t r;
    spate_kafka_record_iter_init(&it, p, n, (int32_t)rd_be(batch + B_RECORDS_COUNT, 4));
    while ((st = spate_kafka_record_iter_next(&it, &r)) == SPATE_OK) {
        if (!r.key.p) continue;
        uint8_t d[16];
        spate_hash_raw(SPATE_HASH_MD5, r.key.p, (size_t)r.key.len, d);
        kmap_put(&c->map, d, base + r.offset_delta);
    }
    return st == SPATE_ENOENT ? SPATE_OK : batch_bad(c, batch, "malformed records", st);
}

static spate_status_t out_put(compact_t *c, const void *p, size_t n) {
    spate_status_t st = spate_buf_append(&c->out, p, n);
    if (st == SPATE_OK && c->out.len >= COMPACT_WRITE_CHUNK) {
        st = spate_klog_rewrite_write(&c->rw, c->out.data, c->out.len);
        spate_buf_reset(&c->out);
    }
    return st;
}

/* Pass 2: one batch of a segment being rewritten. */
static spate_status_t clean_batch(void *ctx, const uint8_t *batch, size_t len) {
    compact_t *c = ctx;
    uint16_t attrs = (uint16_t)rd_be(batch + B_ATTRIBUTES, 2);
    if (attrs & ATTR_CONTROL) return out_put(c, batch, len);
    const uint8_t *p;
    size_t n;
    spate_status_t st = batch_records(c, batch, len, &p, &n);
    if (st != SPATE_OK) return batch_bad(c, batch, "cannot decompress", st);
    int64_t base = (int64_t)rd_be(batch, 8);
    int64_t base_ts = (int64_t)rd_be(batch + B_BASE_TIMESTAMP, 8);
    int64_t batch_max_ts = (int64_t)rd_be(batch + B_MAX_TIMESTAMP, 8);
    int32_t count = (int32_t)rd_be(batch + B_RECORDS_COUNT, 4), kept = 0;
    int64_t max_ts = INT64_MIN;
    spate_buf_reset(&c->kept);
    spate_kafka_record_iter_t it;
    spate_kafka_record_t r;
    spate_kafka_record_iter_init(&it, p, n, count);
    while ((st = spate_kafka_record_iter_next(&it, &r)) == SPATE_OK) {
        bool keep = true;
        int64_t ts = attrs & ATTR_LOG_APPEND_TIME ? batch_max_ts : base_ts + r.timestamp_delta;
        if (r.key.p) {
            uint8_t d[16];
            spate_hash_raw(SPATE_HASH_MD5, r.key.p, (size_t)r.key.len, d);
            keep = kmap_get(&c->map, d) == base + r.offset_delta;
            /* The last record of its key, but a tombstone past its time. */
            if (keep && !r.value.p && ts < c->now_ms - c->delete_retention_ms) keep = false;
        }
        if (!keep) continue;
        if ((st = spate_buf_append(&c->kept, r.raw, r.raw_len)) != SPATE_OK) return st;
        kept++;
        max_ts = SPATE_MAX(max_ts, ts);
    }
    if (st != SPATE_ENOENT) return batch_bad(c, batch, "malformed records", st);
    c->records_in += count;
    c->records_kept += kept;
    if (kept == count) return out_put(c, batch, len);
    if (kept == 0) return SPATE_OK;
    /* Rebuild: same header, the kept records (compressed again). */
    spate_buf_reset(&c->rebuilt);
    if ((st = spate_buf_append(&c->rebuilt, batch, B_RECORDS)) != SPATE_OK) return st;
    int codec = attrs & SPATE_KAFKA_CODEC_MASK;
    if (codec == SPATE_KAFKA_CODEC_NONE)
        st = spate_buf_append(&c->rebuilt, c->kept.data, c->kept.len);
    else
        st = spate_kafka_codec_compress(codec, (const uint8_t *)c->kept.data, c->kept.len,
                                        &c->rebuilt);
    if (st != SPATE_OK) return batch_bad(c, batch, "cannot compress", st);
    uint8_t *h = (uint8_t *)c->rebuilt.data;
    wr_be(h + B_LENGTH, (uint64_t)(c->rebuilt.len - 12), 4);
    if (!(attrs & ATTR_LOG_APPEND_TIME)) wr_be(h + B_MAX_TIMESTAMP, (uint64_t)max_ts, 8);
    wr_be(h + B_RECORDS_COUNT, (uint64_t)kept, 4);
    wr_be(h + B_CRC, spate_crc32c(0, h + B_ATTRIBUTES, c->rebuilt.len - B_ATTRIBUTES), 4);
    return out_put(c, c->rebuilt.data, c->rebuilt.len);
}

int kafka_compact_partition(kafka_broker_t *b, kafka_topic_t *t, int32_t idx, int64_t now_ms) {
    SPATE_UNUSED(b);
    spate_klog_t *log = t->parts[idx].log;
    size_t nseg = spate_klog_segment_count(log);
    if (nseg < 2) return 0;
    compact_t c = {.t = t, .part = idx, .now_ms = now_ms};
    c.delete_retention_ms = kafka_topic_conf_value(b, &t->conf, KTC_DELETE_RETENTION_MS);
    int64_t lag = kafka_topic_conf_value(b, &t->conf, KTC_MIN_COMPACTION_LAG_MS);
    int rewritten = 0;
    spate_status_t st = SPATE_OK;
    for (size_t i = 0; i < nseg && st == SPATE_OK; i++)
        st = spate_klog_segment_batches(log, i, map_batch, &c);
    for (size_t i = 0; i + 1 < nseg && st == SPATE_OK; i++) {
        int64_t base, end, size, max_ts;
        spate_klog_segment_info(log, i, &base, &end, &size);
        max_ts = spate_klog_segment_max_ts(log, i);
        if (size == 0 || (lag > 0 && max_ts > now_ms - lag)) continue;
        int64_t in0 = c.records_in, kept0 = c.records_kept;
        if ((st = spate_klog_rewrite_begin(log, i, &c.rw)) != SPATE_OK) break;
        spate_buf_reset(&c.out);
        st = spate_klog_segment_batches(log, i, clean_batch, &c);
        if (st == SPATE_OK && c.records_kept - kept0 == c.records_in - in0) {
            spate_klog_rewrite_abort(&c.rw); /* nothing to remove here */
            continue;
        }
        if (st == SPATE_OK && c.out.len)
            st = spate_klog_rewrite_write(&c.rw, c.out.data, c.out.len);
        if (st != SPATE_OK) {
            spate_klog_rewrite_abort(&c.rw);
            break;
        }
        if ((st = spate_klog_rewrite_commit(&c.rw)) != SPATE_OK) break;
        int64_t nb, ne, nsize;
        spate_klog_segment_info(log, i, &nb, &ne, &nsize);
        spate_log(SPATE_LOG_INFO, "kafka",
                  "%s-%d: compacted segment %020" PRId64 ": kept %" PRId64 " of %" PRId64
                  " records, %" PRId64 " -> %" PRId64 " bytes",
                  t->name, idx, base, c.records_kept - kept0, c.records_in - in0, size, nsize);
        rewritten++;
    }
    if (st != SPATE_OK)
        spate_log(SPATE_LOG_ERROR, "kafka", "%s-%d: compaction stopped: %s", t->name, idx,
                  spate_status_str(st));
    free(c.map.v);
    spate_buf_free(&c.plain);
    spate_buf_free(&c.kept);
    spate_buf_free(&c.rebuilt);
    spate_buf_free(&c.out);
    return st == SPATE_OK ? rewritten : -1;
}

int16_t kafka_compact_check_keys(const uint8_t *batch, size_t len) {
    if (len < B_RECORDS) return KERR_CORRUPT_MESSAGE;
    uint16_t attrs = (uint16_t)rd_be(batch + B_ATTRIBUTES, 2);
    int codec = attrs & SPATE_KAFKA_CODEC_MASK;
    spate_buf_t plain = SPATE_BUF_INIT;
    const uint8_t *p = batch + B_RECORDS;
    size_t n = len - B_RECORDS;
    int16_t err = KERR_NONE;
    if (codec != SPATE_KAFKA_CODEC_NONE) {
        if (spate_kafka_codec_decompress(codec, p, n, COMPACT_MAX_RECORDS, &plain) != SPATE_OK) {
            err = KERR_CORRUPT_MESSAGE;
            goto out;
        }
        p = (const uint8_t *)plain.data;
        n = plain.len;
    }
    spate_kafka_record_iter_t it;
    spate_kafka_record_t r;
    spate_status_t st;
    spate_kafka_record_iter_init(&it, p, n, (int32_t)rd_be(batch + B_RECORDS_COUNT, 4));
    while ((st = spate_kafka_record_iter_next(&it, &r)) == SPATE_OK)
        if (!r.key.p) {
            err = KERR_INVALID_RECORD;
            goto out;
        }
    if (st != SPATE_ENOENT) err = KERR_CORRUPT_MESSAGE;
out:
    spate_buf_free(&plain);
    return err;
}
