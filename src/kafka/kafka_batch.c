/*
 * kafka_batch.c — checks of one RecordBatch v2 header (see kafka_log.h for
 * the field table).
 *
 * The broker never decodes the records of a batch: it stores and serves
 * the bytes as produced, changing only BaseOffset and PartitionLeaderEpoch,
 * which sit before the CRC'd range:
 *
 *   0        12                   21                            12+Length
 *   +--------+--------+-----+-----+------------------------------+
 *   |BaseOff |Length  |Epoch|Magic|CRC | Attributes ... Records  |
 *   +--------+--------+-----+-----+------------------------------+
 *   not under the CRC ------------>|<-- CRC-32C covers [21, end) -->|
 *
 * So a batch that passes these checks can be appended and re-served
 * without touching its payload. The checks run in a fixed order, so a
 * caller can rely on, e.g., SHORT meaning "more bytes may make it valid":
 *
 *   SHORT       len < 61, or len < 12 + Length
 *   BAD_LENGTH  Length < 49, or 12 + Length > max_len
 *   BAD_MAGIC   Magic != 2
 *   BAD_CRC     CRC-32C of [21, 12 + Length) != CRC
 *   BAD_COUNT   RecordsCount <= 0 or != LastOffsetDelta + 1
 *   BAD_ATTRS   compression id (Attributes & 7) > 4
 *
 * A Length so large that the input cannot hold it reports SHORT, not
 * BAD_LENGTH: a stream reader must bound Length itself before waiting for
 * more bytes. Pure: no I/O, no allocation, never reads past len.
 */
#include "kafka_log.h"

#define KBATCH_LENGTH_MIN (SPATE_KBATCH_HEADER - 12) /* 49: Length of an empty batch */
#define KBATCH_CRC_FROM 21                           /* first byte under the CRC */

spate_kbatch_check_t spate_kbatch_parse(const uint8_t *p, size_t len, size_t max_len,
                                        spate_kbatch_t *b) {
    spate_kbatch_t scratch;
    if (!b) b = &scratch;
    if (len < SPATE_KBATCH_HEADER) return SPATE_KBATCH_SHORT;

    /* The header is complete; read every field so the caller sees them
     * even when a later check fails (useful in error messages). */
    spate_rd_t r;
    spate_rd_init(&r, p, SPATE_KBATCH_HEADER);
    int32_t length;
    if (spate_rd_i64(&r, &b->base_offset) || spate_rd_i32(&r, &length) ||
        spate_rd_i32(&r, &b->leader_epoch) || spate_rd_i8(&r, &b->magic) ||
        spate_rd_u32(&r, &b->crc) || spate_rd_i16(&r, &b->attributes) ||
        spate_rd_i32(&r, &b->last_offset_delta) || spate_rd_i64(&r, &b->base_timestamp) ||
        spate_rd_i64(&r, &b->max_timestamp) || spate_rd_i64(&r, &b->producer_id) ||
        spate_rd_i16(&r, &b->producer_epoch) || spate_rd_i32(&r, &b->base_sequence) ||
        spate_rd_i32(&r, &b->records_count))
        return SPATE_KBATCH_SHORT; /* cannot happen: 61 bytes were there */

    /* total = 12 + Length, computed wide so a hostile Length cannot wrap. */
    int64_t total = (int64_t)length + 12;
    b->length = total <= INT32_MAX ? (int32_t)total : INT32_MAX;
    if (total > 0 && (uint64_t)total > len) return SPATE_KBATCH_SHORT;
    if (length < KBATCH_LENGTH_MIN || (uint64_t)total > max_len || total > INT32_MAX)
        return SPATE_KBATCH_BAD_LENGTH;
    if (b->magic != 2) return SPATE_KBATCH_BAD_MAGIC;
    if (spate_crc32c(0, p + KBATCH_CRC_FROM, (size_t)total - KBATCH_CRC_FROM) != b->crc)
        return SPATE_KBATCH_BAD_CRC;
    if (b->records_count <= 0 || (int64_t)b->records_count != (int64_t)b->last_offset_delta + 1)
        return SPATE_KBATCH_BAD_COUNT;
    if ((b->attributes & 7) > 4) return SPATE_KBATCH_BAD_ATTRS;
    return SPATE_KBATCH_OK;
}

const char *spate_kbatch_check_str(spate_kbatch_check_t c) {
    switch (c) {
    case SPATE_KBATCH_OK: return "ok";
    case SPATE_KBATCH_SHORT: return "short batch";
    case SPATE_KBATCH_BAD_LENGTH: return "bad length";
    case SPATE_KBATCH_BAD_MAGIC: return "bad magic";
    case SPATE_KBATCH_BAD_CRC: return "bad CRC";
    case SPATE_KBATCH_BAD_COUNT: return "bad records count";
    case SPATE_KBATCH_BAD_ATTRS: return "bad attributes";
    }
    return "unknown check";
}
