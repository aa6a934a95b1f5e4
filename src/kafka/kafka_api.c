/*
 * kafka_api.c — the dispatch table, ApiVersions, and decoding helpers.
 *
 * The table is the single statement of what the broker implements: the
 * request loop dispatches by it and ApiVersions reports it, so what is
 * advertised is exactly what is handled. Versions follow
 * shared/reference/kafka-broker.md §1.3: every client's newest version is
 * inside the range, and nothing but ApiVersions v3 is a flexible version.
 */
#include "kafka_int.h"

#define NOFLEX INT16_MAX

static const kafka_api_t apis[] = {
    /* Produce is advertised from v0 although v0-2 (the old MessageSet
     * formats) are refused: librdkafka up to 2.11 compresses with gzip,
     * snappy or lz4 only when the broker's Produce range includes v0, and
     * otherwise sends those batches uncompressed without saying so
     * (librdkafka#4956). Kafka 4 does the same (KAFKA-18659). */
    {KAPI_PRODUCE, "Produce", 0, 7, NOFLEX, kafka_handle_produce},
    {KAPI_FETCH, "Fetch", 4, 11, NOFLEX, kafka_handle_fetch},
    {KAPI_LIST_OFFSETS, "ListOffsets", 1, 4, NOFLEX, kafka_handle_list_offsets},
    {KAPI_METADATA, "Metadata", 1, 8, NOFLEX, kafka_handle_metadata},
    {KAPI_OFFSET_COMMIT, "OffsetCommit", 2, 7, NOFLEX, kafka_handle_offset_commit},
    {KAPI_OFFSET_FETCH, "OffsetFetch", 1, 5, NOFLEX, kafka_handle_offset_fetch},
    {KAPI_FIND_COORDINATOR, "FindCoordinator", 0, 2, NOFLEX, kafka_handle_find_coordinator},
    {KAPI_JOIN_GROUP, "JoinGroup", 0, 5, NOFLEX, kafka_handle_join_group},
    {KAPI_HEARTBEAT, "Heartbeat", 0, 3, NOFLEX, kafka_handle_heartbeat},
    {KAPI_LEAVE_GROUP, "LeaveGroup", 0, 3, NOFLEX, kafka_handle_leave_group},
    {KAPI_SYNC_GROUP, "SyncGroup", 0, 3, NOFLEX, kafka_handle_sync_group},
    {KAPI_DESCRIBE_GROUPS, "DescribeGroups", 0, 2, NOFLEX, kafka_handle_describe_groups},
    {KAPI_LIST_GROUPS, "ListGroups", 0, 2, NOFLEX, kafka_handle_list_groups},
    {KAPI_API_VERSIONS, "ApiVersions", 0, 3, 3, kafka_handle_api_versions},
    {KAPI_CREATE_TOPICS, "CreateTopics", 0, 4, NOFLEX, kafka_handle_create_topics},
    {KAPI_DELETE_TOPICS, "DeleteTopics", 0, 3, NOFLEX, kafka_handle_delete_topics},
    {KAPI_INIT_PRODUCER_ID, "InitProducerId", 0, 1, NOFLEX, kafka_handle_init_producer_id},
    {KAPI_DESCRIBE_CONFIGS, "DescribeConfigs", 0, 2, NOFLEX, kafka_handle_describe_configs},
    {KAPI_CREATE_PARTITIONS, "CreatePartitions", 0, 1, NOFLEX, kafka_handle_create_partitions},
    {KAPI_DELETE_GROUPS, "DeleteGroups", 0, 1, NOFLEX, kafka_handle_delete_groups},
};

const kafka_api_t *kafka_api_find(int16_t key) {
    for (size_t i = 0; i < SPATE_ARRAY_LEN(apis); i++)
        if (apis[i].key == key) return &apis[i];
    return NULL;
}

const kafka_api_t *kafka_api_table(size_t *n) {
    *n = SPATE_ARRAY_LEN(apis);
    return apis;
}

/* ApiVersions
 *   request  v0-2: empty; v3: client_software_name, client_software_version
 *            (compact strings), tags — read leniently: only the header matters
 *   response error_code int16, api_keys [key int16, min int16, max int16
 *            (+tags v3)], throttle_time_ms int32 (v1+), tags (v3) */
kafka_result_t kafka_handle_api_versions(kafka_broker_t *b, kafka_conn_t *c, const kafka_req_t *req,
                                         spate_rd_t *body, spate_buf_t *out) {
    SPATE_UNUSED(b);
    SPATE_UNUSED(c);
    SPATE_UNUSED(body);
    bool flex = req->api_version >= 3;
    spate_wr_i16(out, KERR_NONE);
    size_t n = SPATE_ARRAY_LEN(apis);
    if (flex)
        spate_wr_uvarint(out, (uint32_t)n + 1);
    else
        spate_wr_i32(out, (int32_t)n);
    for (size_t i = 0; i < n; i++) {
        spate_wr_i16(out, apis[i].key);
        spate_wr_i16(out, apis[i].min);
        spate_wr_i16(out, apis[i].max);
        if (flex) spate_wr_u8(out, 0);
    }
    if (req->api_version >= 1) spate_wr_i32(out, 0);
    /* Always an empty tag section: librdkafka before 2.2 mis-skips tags. */
    if (flex) spate_wr_u8(out, 0);
    return KAFKA_DONE;
}

/* ---- decoding helpers ---- */

spate_status_t kafka_rd_array(spate_rd_t *r, bool flexible, size_t min_elem, int32_t *n) {
    int32_t v;
    if (flexible) {
        uint32_t u;
        spate_status_t st = spate_rd_uvarint(r, &u);
        if (st != SPATE_OK) return st;
        if (u > (uint32_t)INT32_MAX) return SPATE_EINVAL;
        v = (int32_t)u - 1;
    } else {
        spate_status_t st = spate_rd_i32(r, &v);
        if (st != SPATE_OK) return st;
        if (v < -1) return SPATE_EINVAL;
    }
    /* A count the remaining bytes cannot hold is a lie: refuse it before
     * anyone loops over it. */
    if (v > 0 && (size_t)v > spate_rd_left(r) / (min_elem ? min_elem : 1)) return SPATE_EINVAL;
    *n = v;
    return SPATE_OK;
}

spate_status_t kafka_rd_tags(spate_rd_t *r) {
    uint32_t n;
    spate_status_t st = spate_rd_uvarint(r, &n);
    if (st != SPATE_OK) return st;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t tag, size;
        if ((st = spate_rd_uvarint(r, &tag)) != SPATE_OK) return st;
        if ((st = spate_rd_uvarint(r, &size)) != SPATE_OK) return st;
        if ((st = spate_rd_skip(r, size)) != SPATE_OK) return st;
    }
    return SPATE_OK;
}

spate_status_t kafka_rd_string(spate_rd_t *r, bool flexible, bool nullable, spate_slice_t *s) {
    spate_status_t st = flexible ? spate_rd_compact_str(r, s) : spate_rd_str16(r, s);
    if (st != SPATE_OK) return st;
    if (!s->p && !nullable) return SPATE_EINVAL;
    return SPATE_OK;
}
