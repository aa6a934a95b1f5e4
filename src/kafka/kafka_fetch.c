/*
 * kafka_fetch.c — Fetch v4-11 (with long polling) and ListOffsets v1-4.
 *
 * Fetch
 *   request   replica_id, max_wait_ms, min_bytes, max_bytes,
 *             isolation_level int8, session_id (v7+), session_epoch (v7+),
 *             topics [topic, partitions [partition, current_leader_epoch
 *             (v9+), fetch_offset int64, log_start_offset int64 (v5+),
 *             partition_max_bytes]], forgotten_topics_data (v7+)
 *             [topic, partitions [int32]], rack_id (v11+)
 *   response  throttle_time_ms, error_code (v7+), session_id (v7+),
 *             responses [topic, partitions [partition_index, error_code,
 *             high_watermark, last_stable_offset, log_start_offset (v5+),
 *             aborted_transactions (nullable array), preferred_read_replica
 *             (v11+), records bytes]]
 *
 * What clients rely on (kafka-broker.md §6): records is an empty byte
 * string, never null; at least one whole batch is returned even when it is
 * larger than max_bytes (KIP-74); preferred_read_replica is -1; without
 * transactions the last stable offset is the high watermark. Fetch
 * sessions are not kept: session_id 0 tells the client to send full
 * requests. When less than min_bytes is available the request waits (the
 * connection's next request with it) until data arrives or max_wait_ms
 * passes; it is re-run from its saved body each time data is appended.
 *
 * ListOffsets
 *   request   replica_id, isolation_level (v2+), topics [name, partitions
 *             [partition_index, current_leader_epoch (v4+), timestamp]]
 *   response  throttle_time_ms (v2+), topics [name, partitions
 *             [partition_index, error_code, timestamp, offset,
 *             leader_epoch (v4+)]]
 *   timestamp -1 = latest (the end offset), -2 = earliest, otherwise the
 *   first batch whose max timestamp is at or after it; the timestamp
 *   returned is -1 (the offset is what clients use).
 */
#include "kafka_int.h"

#include <unistd.h>

#define MAX_WAIT_CAP_MS 60000
/* Records sent by sendfile from this size on (below: copied). */
#define FETCH_SENDFILE_MIN (16 << 10)
/* Segments one partition's read may span in one response. */
#define FETCH_MAX_RANGES 8

typedef struct {
    int32_t max_wait, min_bytes, max_bytes;
} fetch_args_t;

/* Writes a partition's records field: the located ranges as one byte
 * string. With refs (a connection that uses sendfile), big ones are
 * spliced into the response as file ranges (no copy through user space);
 * small ones, all of them without refs, and all of them when the fds
 * cannot be duplicated, are read into the body (a few KiB cost less than
 * the extra system calls). */
static spate_status_t fetch_records(kafka_refs_t *refs, spate_buf_t *out,
                                    const spate_klog_range_t *r, size_t n, size_t total) {
    spate_wr_i32(out, (int32_t)total);
    if (refs && total >= FETCH_SENDFILE_MIN) {
        size_t i = 0;
        while (i < n && kafka_refs_add(refs, out->len, r[i].fd, r[i].pos, r[i].len)) i++;
        if (i == n) return SPATE_OK;
        while (i > 0) close(refs->v[--refs->n].fd); /* undo, then copy */
    }
    for (size_t i = 0; i < n; i++) {
        spate_status_t st = spate_klog_range_read(&r[i], out);
        if (st != SPATE_OK) {
            spate_log(SPATE_LOG_ERROR, "kafka", "fetch: read failed: %s", spate_status_str(st));
            return st;
        }
    }
    return SPATE_OK;
}

/* Builds the Fetch response for the request in `body` into out, with
 * file ranges in refs; returns the number of record bytes in it, or -1
 * for a malformed request. */
static int64_t fetch_build(kafka_broker_t *b, const kafka_req_t *req, spate_rd_t *body,
                           fetch_args_t *a, spate_buf_t *out, kafka_refs_t *refs) {
    int16_t v = req->api_version;
    int32_t replica, session_id = 0, session_epoch = -1, ntopics;
    int8_t isolation;
    if (spate_rd_i32(body, &replica) || spate_rd_i32(body, &a->max_wait) ||
        spate_rd_i32(body, &a->min_bytes) || spate_rd_i32(body, &a->max_bytes) ||
        spate_rd_i8(body, &isolation))
        return -1;
    if (v >= 7 && (spate_rd_i32(body, &session_id) || spate_rd_i32(body, &session_epoch)))
        return -1;
    if (kafka_rd_array(body, false, 6, &ntopics) || ntopics < 0) return -1;
    spate_wr_i32(out, 0); /* throttle_time_ms */
    if (v >= 7) {
        spate_wr_i16(out, KERR_NONE);
        spate_wr_i32(out, 0); /* no fetch session */
    }
    spate_wr_i32(out, ntopics);
    int64_t total = 0;
    size_t budget = a->max_bytes > 0 ? (size_t)a->max_bytes : 0;
    for (int32_t i = 0; i < ntopics; i++) {
        spate_slice_t name;
        int32_t nparts;
        if (kafka_rd_string(body, false, false, &name) ||
            kafka_rd_array(body, false, 16, &nparts) || nparts < 0)
            return -1;
        kafka_topic_t *t = kafka_topic_find(b, name.p, (size_t)name.len);
        spate_wr_str16(out, name.p, (size_t)name.len);
        spate_wr_i32(out, nparts);
        for (int32_t k = 0; k < nparts; k++) {
            int32_t idx, epoch = -1, pmax;
            int64_t offset, log_start = -1;
            if (spate_rd_i32(body, &idx)) return -1;
            if (v >= 9 && spate_rd_i32(body, &epoch)) return -1;
            if (spate_rd_i64(body, &offset)) return -1;
            if (v >= 5 && spate_rd_i64(body, &log_start)) return -1;
            if (spate_rd_i32(body, &pmax)) return -1;
            int16_t err = KERR_NONE;
            int64_t hwm = -1, lso = -1, start = -1;
            spate_klog_range_t ranges[FETCH_MAX_RANGES];
            size_t nranges = 0, got = 0;
            spate_klog_t *log = NULL;
            if (!t || idx < 0 || idx >= t->nparts) {
                err = KERR_UNKNOWN_TOPIC_OR_PARTITION;
            } else {
                log = t->parts[idx].log;
                hwm = lso = spate_klog_end_offset(log);
                start = spate_klog_start_offset(log);
                /* KIP-74: the first partition with data gets at least one
                 * whole batch, whatever the byte limits say; later ones
                 * only what fits in what is left of max_bytes. */
                size_t limit = SPATE_MIN(pmax > 0 ? (size_t)pmax : 0, budget);
                spate_status_t st = SPATE_OK;
                if (total == 0 || budget > 0)
                    st = spate_klog_locate(log, offset, limit, ranges, FETCH_MAX_RANGES, &nranges,
                                           &got);
                if (st == SPATE_ERANGE)
                    err = KERR_OFFSET_OUT_OF_RANGE;
                else if (st != SPATE_OK)
                    err = KERR_KAFKA_STORAGE_ERROR;
                if (total > 0 && got > budget) nranges = got = 0;
                budget -= SPATE_MIN(got, budget);
                total += (int64_t)got;
            }
            spate_wr_i32(out, idx);
            spate_wr_i16(out, err);
            spate_wr_i64(out, hwm);
            spate_wr_i64(out, lso);
            if (v >= 5) spate_wr_i64(out, start);
            spate_wr_i32(out, 0);               /* aborted_transactions: none */
            if (v >= 11) spate_wr_i32(out, -1); /* preferred_read_replica */
            /* A read failing here cannot be reported as an ErrorCode any
             * more (the partition's header is written): close. */
            if (fetch_records(refs, out, ranges, nranges, got) != SPATE_OK) return -1;
        }
    }
    if (v >= 7) {
        int32_t nforgot;
        if (kafka_rd_array(body, false, 6, &nforgot)) return -1;
        for (int32_t i = 0; i < nforgot; i++) {
            spate_slice_t name;
            int32_t np, idx;
            if (kafka_rd_string(body, false, false, &name) || kafka_rd_array(body, false, 4, &np))
                return -1;
            for (int32_t k = 0; k < np; k++)
                if (spate_rd_i32(body, &idx)) return -1;
        }
    }
    if (v >= 11) {
        spate_slice_t rack;
        if (kafka_rd_string(body, false, true, &rack)) return -1;
    }
    return total;
}

kafka_result_t kafka_handle_fetch(kafka_broker_t *b, kafka_conn_t *c, const kafka_req_t *req,
                                  spate_rd_t *body, spate_buf_t *out) {
    size_t body_at = body->off;
    fetch_args_t a;
    int64_t got = fetch_build(b, req, body, &a, out, c->sendfile ? &c->body_refs : NULL);
    if (got < 0) return KAFKA_CLOSE;
    if (got >= a.min_bytes || a.max_wait <= 0) return KAFKA_DONE;
    kafka_refs_clear(&c->body_refs); /* built again when it is answered */
    body->off = body_at;
    kafka_defer(b, c, req, body, SPATE_MIN(a.max_wait, MAX_WAIT_CAP_MS));
    return KAFKA_DEFERRED;
}

bool kafka_fetch_retry(kafka_broker_t *b, kafka_waiter_t *w, bool timed_out) {
    spate_rd_t r;
    spate_rd_init(&r, w->body.data, w->body.len);
    spate_buf_t out = SPATE_BUF_INIT;
    fetch_args_t a;
    int64_t got =
        fetch_build(b, &w->req, &r, &a, &out, w->conn->sendfile ? &w->conn->body_refs : NULL);
    bool answer = timed_out || got < 0 || got >= a.min_bytes;
    if (answer) {
        if (got < 0)
            w->conn->closing = true; /* cannot happen: parsed once already */
        else
            kafka_conn_respond(w->conn, &w->req, &out);
    }
    kafka_refs_clear(&w->conn->body_refs); /* (taken by the answer, if any) */
    spate_buf_free(&out);
    return answer;
}

kafka_result_t kafka_handle_list_offsets(kafka_broker_t *b, kafka_conn_t *c, const kafka_req_t *req,
                                         spate_rd_t *body, spate_buf_t *out) {
    SPATE_UNUSED(c);
    int16_t v = req->api_version;
    int32_t replica, ntopics;
    int8_t isolation = 0;
    if (spate_rd_i32(body, &replica)) return KAFKA_CLOSE;
    if (v >= 2 && spate_rd_i8(body, &isolation)) return KAFKA_CLOSE;
    if (kafka_rd_array(body, false, 6, &ntopics) || ntopics < 0) return KAFKA_CLOSE;
    if (v >= 2) spate_wr_i32(out, 0);
    spate_wr_i32(out, ntopics);
    for (int32_t i = 0; i < ntopics; i++) {
        spate_slice_t name;
        int32_t nparts;
        if (kafka_rd_string(body, false, false, &name) ||
            kafka_rd_array(body, false, 12, &nparts) || nparts < 0)
            return KAFKA_CLOSE;
        kafka_topic_t *t = kafka_topic_find(b, name.p, (size_t)name.len);
        spate_wr_str16(out, name.p, (size_t)name.len);
        spate_wr_i32(out, nparts);
        for (int32_t k = 0; k < nparts; k++) {
            int32_t idx, epoch = -1;
            int64_t ts;
            if (spate_rd_i32(body, &idx)) return KAFKA_CLOSE;
            if (v >= 4 && spate_rd_i32(body, &epoch)) return KAFKA_CLOSE;
            if (spate_rd_i64(body, &ts)) return KAFKA_CLOSE;
            int16_t err = KERR_NONE;
            int64_t off = -1;
            int32_t lepoch = -1;
            if (!t || idx < 0 || idx >= t->nparts) {
                err = KERR_UNKNOWN_TOPIC_OR_PARTITION;
            } else {
                spate_klog_t *log = t->parts[idx].log;
                lepoch = t->parts[idx].leader_epoch;
                if (ts == -1)
                    off = spate_klog_end_offset(log);
                else if (ts == -2)
                    off = spate_klog_start_offset(log);
                else
                    off = spate_klog_offset_for_time(log, ts);
            }
            spate_wr_i32(out, idx);
            spate_wr_i16(out, err);
            spate_wr_i64(out, -1);
            spate_wr_i64(out, off);
            if (v >= 4) spate_wr_i32(out, lepoch);
        }
    }
    return KAFKA_DONE;
}
