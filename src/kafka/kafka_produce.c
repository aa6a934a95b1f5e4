/*
 * kafka_produce.c — Produce v3-7.
 *
 *   request   transactional_id (nullable), acks int16, timeout_ms int32,
 *             topic_data [name, partition_data [index int32,
 *             records bytes (nullable)]]
 *   response  responses [name, partitions [index, error_code, base_offset
 *             int64, log_append_time_ms int64, log_start_offset int64
 *             (v5+)]], throttle_time_ms
 *
 * v3+ carries RecordBatch v2 only, one batch per partition. Each batch is
 * checked (kafka_batch.c: length, magic, CRC-32C, record count) before
 * anything is appended, and is then stored byte for byte with only its
 * BaseOffset and PartitionLeaderEpoch rewritten: no decompression.
 *
 * acks=0 gets no response at all (clients do not read one); acks=1 is
 * answered once the batch is in the log (page cache); acks=all on a
 * durable broker is answered after the group-commit fsync (kafka_server.c).
 * Produce never creates a topic: an unknown one is
 * UNKNOWN_TOPIC_OR_PARTITION, as in Kafka. Batches of idempotent producers
 * (producer_id >= 0) pass kafka_producer_check first: a duplicate of a
 * retained batch is not appended and is answered with its original base
 * offset; a sequence gap or a fenced epoch is refused (kafka_producer.c).
 */
#include "kafka_int.h"

static int16_t check_error(spate_kbatch_check_t ck) {
    switch (ck) {
    case SPATE_KBATCH_OK: return KERR_NONE;
    case SPATE_KBATCH_BAD_MAGIC: return KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
    case SPATE_KBATCH_BAD_ATTRS: return KERR_INVALID_RECORD;
    default: return KERR_CORRUPT_MESSAGE;
    }
}

/* Validates and appends one partition's records; returns an ErrorCode. */
static int16_t produce_partition(kafka_broker_t *b, kafka_topic_t *t, int32_t idx,
                                 const spate_slice_t *rec, int64_t *base, int64_t *start) {
    if (!t || idx < 0 || idx >= t->nparts) return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    kafka_partition_t *p = &t->parts[idx];
    *start = spate_klog_start_offset(p->log);
    if (!rec->p || rec->len == 0) return KERR_CORRUPT_MESSAGE;
    if (rec->len > t->max_message_bytes) return KERR_MESSAGE_TOO_LARGE;
    spate_kbatch_t bt;
    spate_kbatch_check_t ck =
        spate_kbatch_parse((const uint8_t *)rec->p, (size_t)rec->len, (size_t)rec->len, &bt);
    if (ck != SPATE_KBATCH_OK) {
        spate_log(SPATE_LOG_WARN, "kafka", "%s-%d: batch refused: %s", t->name, idx,
                  spate_kbatch_check_str(ck));
        return check_error(ck);
    }
    if (bt.length != rec->len) return KERR_CORRUPT_MESSAGE; /* one batch per partition */
    if (bt.attributes & 0x20) return KERR_INVALID_RECORD;   /* control batches are the broker's */
    if (t->cleanup & KAFKA_CLEANUP_COMPACT) {
        /* Compaction keeps the last record per key: a record without one
         * has no place in such a topic (Kafka refuses it the same way). */
        int16_t kerr = kafka_compact_check_keys((const uint8_t *)rec->p, (size_t)rec->len);
        if (kerr) {
            spate_log(SPATE_LOG_DEBUG, "kafka", "%s-%d: batch refused: %s", t->name, idx,
                      kerr == KERR_INVALID_RECORD ? "a record without a key in a compacted topic"
                                                  : "records cannot be read");
            return kerr;
        }
    }
    /* Idempotent producers (kafka_producer.c): sequence and epoch checks;
     * a retried batch already in the log gets its original offset. */
    int64_t dup;
    int16_t perr = kafka_producer_check(b, t, idx, &bt, &dup);
    if (perr) {
        spate_log(SPATE_LOG_DEBUG, "kafka",
                  "%s-%d: producer %lld epoch %d sequence %d refused: error %d", t->name, idx,
                  (long long)bt.producer_id, bt.producer_epoch, bt.base_sequence, perr);
        return perr;
    }
    if (dup >= 0) {
        *base = dup;
        return KERR_NONE;
    }
    /* The request buffer is ours: the batch's BaseOffset and leader epoch
     * are rewritten in place on their way to disk. */
    if (spate_klog_append(p->log, (uint8_t *)rec->p, (size_t)rec->len, p->leader_epoch, base) !=
        SPATE_OK)
        return KERR_KAFKA_STORAGE_ERROR;
    kafka_producer_appended(b, t, idx, &bt, *base);
    kafka_partition_appended(b, t, p, bt.records_count);
    b->data_appended = true;
    return KERR_NONE;
}

/* Produce v0-2 carry MessageSets (magic 0/1), which this broker does not
 * store: every partition is answered UNSUPPORTED_VERSION, in the layout of
 * the request's version (v0: no throttle time; v2: log_append_time). The
 * versions are advertised only for librdkafka's sake (kafka_api.c). */
static kafka_result_t produce_old_version(const kafka_req_t *req, spate_rd_t *body,
                                          spate_buf_t *out) {
    int16_t v = req->api_version, acks;
    int32_t timeout, ntopics;
    if (spate_rd_i16(body, &acks) || spate_rd_i32(body, &timeout) ||
        kafka_rd_array(body, false, 6, &ntopics) || ntopics < 0)
        return KAFKA_CLOSE;
    spate_wr_i32(out, ntopics);
    for (int32_t i = 0; i < ntopics; i++) {
        spate_slice_t name;
        int32_t nparts;
        if (kafka_rd_string(body, false, false, &name) || kafka_rd_array(body, false, 8, &nparts) ||
            nparts < 0)
            return KAFKA_CLOSE;
        spate_wr_str16(out, name.p, (size_t)name.len);
        spate_wr_i32(out, nparts);
        for (int32_t k = 0; k < nparts; k++) {
            int32_t idx;
            spate_slice_t rec;
            if (spate_rd_i32(body, &idx) || spate_rd_str32(body, &rec)) return KAFKA_CLOSE;
            spate_wr_i32(out, idx);
            spate_wr_i16(out, KERR_UNSUPPORTED_VERSION);
            spate_wr_i64(out, -1);
            if (v >= 2) spate_wr_i64(out, -1);
        }
    }
    if (v >= 1) spate_wr_i32(out, 0);
    return acks == 0 ? KAFKA_NO_REPLY : KAFKA_DONE;
}

kafka_result_t kafka_handle_produce(kafka_broker_t *b, kafka_conn_t *c, const kafka_req_t *req,
                                    spate_rd_t *body, spate_buf_t *out) {
    int16_t v = req->api_version;
    if (v < 3) return produce_old_version(req, body, out);
    spate_slice_t txn;
    int16_t acks;
    int32_t timeout, ntopics;
    if (spate_rd_str16(body, &txn) || spate_rd_i16(body, &acks) || spate_rd_i32(body, &timeout) ||
        kafka_rd_array(body, false, 6, &ntopics) || ntopics < 0)
        return KAFKA_CLOSE;
    bool acks_ok = acks == 0 || acks == 1 || acks == -1;
    spate_wr_i32(out, ntopics);
    for (int32_t i = 0; i < ntopics; i++) {
        spate_slice_t name;
        int32_t nparts;
        if (kafka_rd_string(body, false, false, &name) || kafka_rd_array(body, false, 8, &nparts) ||
            nparts < 0)
            return KAFKA_CLOSE;
        kafka_topic_t *t = kafka_topic_find(b, name.p, (size_t)name.len);
        spate_wr_str16(out, name.p, (size_t)name.len);
        spate_wr_i32(out, nparts);
        for (int32_t k = 0; k < nparts; k++) {
            int32_t idx;
            spate_slice_t rec;
            if (spate_rd_i32(body, &idx) || spate_rd_str32(body, &rec)) return KAFKA_CLOSE;
            int64_t base = -1, start = -1;
            int16_t err = acks_ok ? produce_partition(b, t, idx, &rec, &base, &start)
                                  : KERR_INVALID_REQUIRED_ACKS;
            spate_wr_i32(out, idx);
            spate_wr_i16(out, err);
            spate_wr_i64(out, err ? -1 : base);
            spate_wr_i64(out, -1); /* log_append_time: CreateTime topics */
            if (v >= 5) spate_wr_i64(out, start);
        }
    }
    spate_wr_i32(out, 0); /* throttle_time_ms */
    if (acks == 0) return KAFKA_NO_REPLY;
    if (acks == -1 && b->conf.durable) {
        /* Answered after this loop turn's fsync (group commit). */
        kafka_conn_respond_durable(c, req, out);
        return KAFKA_NO_REPLY;
    }
    return KAFKA_DONE;
}
