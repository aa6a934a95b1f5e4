/*
 * kafka_codec.h — RecordBatch v2 compression codecs and the Record v2
 * iterator (private to src/kafka).
 *
 * The broker stores batches as produced and never needs the records on
 * the hot path; log compaction does: it decompresses a batch's records
 * section, walks the records to read their keys, and recompresses the
 * survivors with the batch's own codec. This header is that toolbox:
 *
 *   Attributes & 7   codec    what the records section holds
 *   0                none     the records, back to back
 *   1                gzip     gzip members (RFC 1952), one or more
 *   2                snappy   xerial snappy-java framing, or one raw block
 *   3                lz4      LZ4 frames (correct header checksum, KIP-57)
 *   4                zstd     zstd frames, one or more
 *
 * Decompressed, the section is RecordsCount records:
 *
 *   Record v2 (all varints zig-zag)
 *   +-----------+-------+----------+-----------+--------+-----+--------+-----+---------+
 *   |Length     |Attrs  |TsDelta   |OffDelta   |KeyLen  |Key  |ValLen  |Value|Headers  |
 *   |varint     |int8   |varlong   |varint     |varint  |     |varint  |     |         |
 *   +-----------+-------+----------+-----------+--------+-----+--------+-----+---------+
 *   Length counts the bytes after itself; KeyLen/ValLen -1 = null.
 *   Headers = Count varint, then Count x [KeyLen varint (>= 0), Key,
 *                                         ValLen varint (-1 = null), Value]
 *
 * Everything here is pure (no I/O, no shared state, so safe from any
 * thread) and bounded: decompression never produces more than the
 * caller's max_out, and the iterator never reads outside the section it
 * was given.
 */
#ifndef SPATE_KAFKA_CODEC_H
#define SPATE_KAFKA_CODEC_H

#include "base.h"

/* Compression ids, as in Attributes bits 0-2 (Kafka's CompressionType). */
enum {
    SPATE_KAFKA_CODEC_NONE = 0,
    SPATE_KAFKA_CODEC_GZIP = 1,
    SPATE_KAFKA_CODEC_SNAPPY = 2,
    SPATE_KAFKA_CODEC_LZ4 = 3,
    SPATE_KAFKA_CODEC_ZSTD = 4
};
#define SPATE_KAFKA_CODEC_MASK 7 /* Attributes & MASK = codec id */

/* The codec's name as Kafka's compression.type spells it ("none",
 * "gzip", "snappy", "lz4", "zstd"); "unknown" for any other id. */
const char *spate_kafka_codec_name(int codec);

/* Decompresses in[0..len) written with `codec` and appends the result to
 * out. At most max_out bytes are appended: a stream that would produce
 * more is refused with SPATE_ERANGE as soon as it passes the bound, so
 * memory stays within about twice max_out whatever the input claims
 * (plus the library's own state: zlib 32 KiB, LZ4 at most ~8 MiB for
 * 4 MiB blocks, zstd a window of at most max(8 MiB, max_out rounded up to
 * a power of two) and never over zstd's default 128 MiB; a zstd frame
 * asking for a larger window is refused with SPATE_ERANGE too).
 *
 * Concatenated gzip members, LZ4 frames, zstd frames and xerial streams
 * are decoded one after the other; bytes after the last one that do not
 * start another are an error. codec NONE copies (still bounded).
 *
 * Returns SPATE_OK; SPATE_EINVAL for an unknown codec or truncated,
 * corrupt or trailing input; SPATE_ERANGE past max_out; SPATE_ENOMEM.
 * On any failure out->len is back to what it was (its memory may have
 * grown). Ownership: in is borrowed; out stays the caller's to free. */
spate_status_t spate_kafka_codec_decompress(int codec, const uint8_t *in, size_t len,
                                            size_t max_out, spate_buf_t *out);

/* Compresses in[0..len) with `codec` and appends the result to out, in
 * the form Kafka clients read:
 *   gzip    one gzip member, default level
 *   snappy  xerial framing (what the Java client writes, which
 *           librdkafka, kafkajs and Java all read), 32 KiB blocks, and
 *           always at least one block, even for empty input
 *   lz4     one LZ4 frame, independent 64 KiB blocks (Kafka's Java
 *           reader decodes blocks one by one), no content size, no
 *           checksums beyond the header's
 *   zstd    one zstd frame, level 3, with its content size
 *   none    a copy
 * Returns SPATE_OK, SPATE_EINVAL for an unknown codec, SPATE_ENOMEM, or
 * SPATE_ERR if a library fails unexpectedly. On failure out->len is back
 * to what it was. Ownership as for decompress. */
spate_status_t spate_kafka_codec_compress(int codec, const uint8_t *in, size_t len,
                                          spate_buf_t *out);

/* ---- Record v2 iterator ---- */

/* One record, every pointer borrowed from the section being walked. */
typedef struct {
    int8_t attributes; /* unused by Kafka so far; passed through */
    int64_t timestamp_delta;
    int32_t offset_delta;
    spate_slice_t key;   /* key.p == NULL (len -1): null key */
    spate_slice_t value; /* value.p == NULL: null value (a tombstone) */
    int32_t headers_count;
    const uint8_t *headers; /* the headers after their count, already */
    size_t headers_len;     /* checked: walk with spate_kafka_header_next */
    const uint8_t *raw;     /* the whole record, Length varint included: */
    size_t raw_len;         /* copy it verbatim to keep the record */
} spate_kafka_record_t;

typedef struct {
    spate_rd_t rd;
    int32_t count;  /* RecordsCount from the batch header */
    int32_t index;  /* records returned so far */
    bool failed;    /* an error was returned: every next call repeats it */
    size_t err_off; /* on SPATE_EINVAL: offset in the section of the bad
                     * field (for trailing bytes, where they start) */
} spate_kafka_record_iter_t;

/* Starts a walk over a decompressed records section p[0..len) that the
 * batch header says holds `count` records. p is borrowed for the walk. */
void spate_kafka_record_iter_init(spate_kafka_record_iter_t *it, const uint8_t *p, size_t len,
                                  int32_t count);

/* Fills rec with the next record and returns SPATE_OK; SPATE_ENOENT once
 * `count` records were read and nothing trails; SPATE_EINVAL (err_off
 * set, the iterator stays failed) for a negative count, a record that is
 * short, over-long for its Length or not exactly filled by its fields, a
 * key/value length below -1, a negative header count or header key
 * length, fewer records than count, or bytes after the last record.
 * The iterator does not judge the deltas: that is the caller's policy. */
spate_status_t spate_kafka_record_iter_next(spate_kafka_record_iter_t *it,
                                            spate_kafka_record_t *rec);

/* Reads one header from a cursor over rec->headers: key (never null)
 * and value (value.p == NULL: null). SPATE_OK, or SPATE_EINVAL when the
 * cursor is at the end or the header is malformed (cursor not moved). */
spate_status_t spate_kafka_header_next(spate_rd_t *r, spate_slice_t *key, spate_slice_t *value);

#endif /* SPATE_KAFKA_CODEC_H */
