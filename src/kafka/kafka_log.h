/*
 * kafka_log.h — a partition's log on disk, and RecordBatch v2 checks
 * (private to src/kafka).
 *
 * One directory per partition, Kafka's layout: segments named by their
 * base offset, 20 digits zero-padded:
 *
 *   <dir>/00000000000000000000.log        RecordBatch v2 bytes, as produced
 *   <dir>/00000000000000000000.index      sparse offset index
 *   <dir>/00000000000000000000.timeindex  sparse time index
 *
 *   .index entry      (8 bytes)   uint32 relative offset, uint32 file position
 *   .timeindex entry  (12 bytes)  int64 max timestamp so far, uint32 relative offset
 *   (big-endian, as Kafka writes them; an entry is added every
 *    index_interval_bytes of log)
 *
 * Invariants: batches in a segment are contiguous and in offset order; a
 * segment's base offset is the BaseOffset of its first batch; the log's end
 * offset is LastOffset+1 of the last batch. Only BaseOffset and
 * PartitionLeaderEpoch of a produced batch are changed on append (both are
 * outside the CRC). Indexes are caches: they are rebuilt from the .log when
 * missing or inconsistent.
 *
 * Recovery (spate_klog_open): the last segment is scanned batch by batch;
 * the first batch that is short, has a bad length, magic or CRC, or an
 * offset that does not follow, ends the log: the file is truncated there
 * and a log line says how many bytes were cut and from which offset.
 *
 * Not thread-safe: one owner (the broker's event loop) per log.
 */
#ifndef SPATE_KAFKA_LOG_H
#define SPATE_KAFKA_LOG_H

#include "base.h"

/* ---- RecordBatch v2 ---- */

#define SPATE_KBATCH_HEADER 61 /* bytes before the records */

/* The header fields of one RecordBatch v2 (big-endian on the wire):
 *
 *   off size field                 off size field
 *   0   8    BaseOffset            35  8    MaxTimestamp
 *   8   4    Length (= total - 12) 43  8    ProducerId
 *   12  4    PartitionLeaderEpoch  51  2    ProducerEpoch
 *   16  1    Magic (2)             53  4    BaseSequence
 *   17  4    CRC-32C of [21, end)  57  4    RecordsCount
 *   21  2    Attributes            61  ...  Records
 *   23  4    LastOffsetDelta
 *   27  8    BaseTimestamp
 */
typedef struct {
    int64_t base_offset;
    int32_t length; /* total bytes of the batch = length field + 12 */
    int32_t leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp, max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t records_count;
} spate_kbatch_t;

typedef enum {
    SPATE_KBATCH_OK = 0,
    SPATE_KBATCH_SHORT,      /* fewer bytes than the header or its Length say */
    SPATE_KBATCH_BAD_LENGTH, /* Length < 49 or over the limit given */
    SPATE_KBATCH_BAD_MAGIC,  /* magic != 2 */
    SPATE_KBATCH_BAD_CRC,    /* CRC-32C mismatch */
    SPATE_KBATCH_BAD_COUNT,  /* RecordsCount <= 0 or != LastOffsetDelta + 1 */
    SPATE_KBATCH_BAD_ATTRS   /* compression id > 4 */
} spate_kbatch_check_t;

/* Parses and checks the batch at p[0..len) (p may hold more after it);
 * max_len bounds the batch's total size. Pure: no I/O. */
spate_kbatch_check_t spate_kbatch_parse(const uint8_t *p, size_t len, size_t max_len,
                                        spate_kbatch_t *b);
const char *spate_kbatch_check_str(spate_kbatch_check_t c);

/* ---- the partition log ---- */

typedef struct {
    int64_t segment_bytes;        /* roll a new segment past this size (default 1 GiB) */
    int64_t retention_ms;         /* delete segments older than this; -1 = keep */
    int64_t retention_bytes;      /* keep at most this many bytes; -1 = unlimited */
    int32_t index_interval_bytes; /* default 4096 */
} spate_klog_conf_t;

void spate_klog_conf_default(spate_klog_conf_t *c);

typedef struct spate_klog spate_klog_t;

/* Opens (creating `dir` if needed) and recovers the log. On failure returns
 * SPATE_EIO/SPATE_EINVAL with a message in err. */
spate_status_t spate_klog_open(spate_klog_t **out, const char *dir, const spate_klog_conf_t *c,
                               char *err, size_t errlen);
/* Flushes and closes; frees l. */
void spate_klog_close(spate_klog_t *l);

int64_t spate_klog_start_offset(const spate_klog_t *l); /* first offset kept */
int64_t spate_klog_end_offset(const spate_klog_t *l);   /* next offset to assign */
int64_t spate_klog_size_bytes(const spate_klog_t *l);   /* all segments */

/* Appends one batch that spate_kbatch_parse accepted: rewrites its
 * BaseOffset (to the end offset) and PartitionLeaderEpoch in `batch` (the
 * caller's buffer) and writes it. *base_offset receives the offset given.
 * Rolls a segment first when the active one would pass segment_bytes.
 * The data is in the page cache afterwards, durable only after
 * spate_klog_flush. */
spate_status_t spate_klog_append(spate_klog_t *l, uint8_t *batch, size_t len, int32_t leader_epoch,
                                 int64_t *base_offset);
/* fsyncs everything appended so far (data, then indexes). */
spate_status_t spate_klog_flush(spate_klog_t *l);
/* True when there is appended data not yet flushed. */
bool spate_klog_dirty(const spate_klog_t *l);

/* Appends to out whole batches starting with the one that contains
 * `offset`, until adding the next would pass max_bytes — but always at
 * least one batch when offset < end offset (Kafka's KIP-74). Returns
 * SPATE_ERANGE when offset is outside [start, end] (end itself gives
 * nothing and SPATE_OK). */
spate_status_t spate_klog_read(spate_klog_t *l, int64_t offset, size_t max_bytes, spate_buf_t *out);

/* Where spate_klog_read's bytes are, without reading them (for sendfile):
 * up to nmax file ranges, in order (a read crossing a segment boundary
 * gives one range per segment); *total is their byte sum. Only batch
 * headers are read. The fds are the log's own: valid until the log next
 * rolls, deletes or closes a segment, so a caller that keeps a range past
 * the current call dup()s the fd. Same SPATE_ERANGE rule as
 * spate_klog_read; on failure *n is 0. */
typedef struct {
    int fd;
    int64_t pos;
    size_t len;
} spate_klog_range_t;
spate_status_t spate_klog_locate(spate_klog_t *l, int64_t offset, size_t max_bytes,
                                 spate_klog_range_t *ranges, size_t nmax, size_t *n, size_t *total);
/* Appends a located range's bytes to out (a pread). */
spate_status_t spate_klog_range_read(const spate_klog_range_t *r, spate_buf_t *out);

/* The offset of the first batch whose MaxTimestamp >= ts (that batch's
 * BaseOffset), or the end offset when there is none. */
int64_t spate_klog_offset_for_time(spate_klog_t *l, int64_t ts);

/* Deletes whole segments (never the active one) past retention_ms (by the
 * segment's largest timestamp) or retention_bytes; returns how many. */
int spate_klog_enforce_retention(spate_klog_t *l, int64_t now_ms);

/* ---- compaction support (the cleaner is kafka_compact.c) ----
 *
 * Segments are numbered 0 .. count-1 in offset order; the last is the
 * active one, which is never rewritten. */
size_t spate_klog_segment_count(const spate_klog_t *l);
void spate_klog_segment_info(const spate_klog_t *l, size_t i, int64_t *base, int64_t *end,
                             int64_t *size);
/* The largest MaxTimestamp in segment i (INT64_MIN when it is empty). */
int64_t spate_klog_segment_max_ts(const spate_klog_t *l, size_t i);
/* Calls fn with every whole batch of segment i, in order (the bytes are
 * borrowed for the call). Stops at the first status fn returns other than
 * SPATE_OK and returns it. */
typedef spate_status_t (*spate_klog_batch_fn)(void *ctx, const uint8_t *batch, size_t len);
spate_status_t spate_klog_segment_batches(spate_klog_t *l, size_t i, spate_klog_batch_fn fn,
                                          void *ctx);
/* Rewrites segment i (not the active one): begin, write whole batches in
 * offset order, each within the segment's old offsets (gaps are allowed),
 * then commit — or abort, which leaves the segment as it was. The bytes go
 * to <base>.log.cleaned, which commit fsyncs and renames over the .log and
 * whose indexes it rebuilds; crash-safe: one file or the other is whole
 * (a leftover .cleaned is removed at open). */
typedef struct {
    spate_klog_t *l;
    size_t i;
    int fd;
    int64_t len;
    char tmp[4096 + 16];
} spate_klog_rewrite_t;
spate_status_t spate_klog_rewrite_begin(spate_klog_t *l, size_t i, spate_klog_rewrite_t *rw);
spate_status_t spate_klog_rewrite_write(spate_klog_rewrite_t *rw, const void *p, size_t n);
spate_status_t spate_klog_rewrite_commit(spate_klog_rewrite_t *rw);
void spate_klog_rewrite_abort(spate_klog_rewrite_t *rw);

/* Closes the log and removes its directory and files. */
spate_status_t spate_klog_destroy(spate_klog_t *l);

#endif /* SPATE_KAFKA_LOG_H */
