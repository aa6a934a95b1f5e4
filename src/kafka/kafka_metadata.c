/*
 * kafka_metadata.c — Metadata v1-8: brokers, cluster id, topics.
 *
 *   request   topics [name] (null = all topics; empty = none),
 *             allow_auto_topic_creation bool (v4+),
 *             include_cluster/topic_authorized_operations bool (v8+)
 *   response  throttle_time_ms (v3+), brokers [node_id, host, port, rack],
 *             cluster_id (v2+), controller_id, topics [error_code, name,
 *             is_internal, partitions [error_code, index, leader,
 *             leader_epoch (v7+), replicas, isr, offline_replicas (v5+)],
 *             topic_authorized_operations (v8+)],
 *             cluster_authorized_operations (v8+)
 *
 * Auto-creation follows Kafka: a named, unknown topic is created when the
 * broker allows it and the request does (v4+; always before v4), and that
 * first answer says LEADER_NOT_AVAILABLE, as Kafka's asynchronous creation
 * does; clients retry and then see the topic. A request for all topics
 * never creates one.
 */
#include "kafka_int.h"

#include <string.h>

#define AUTHORIZED_OPS_OMITTED INT32_MIN /* -2147483648: "not requested" */

static void write_topic(kafka_broker_t *b, const kafka_req_t *req, spate_buf_t *out, int16_t err,
                        const char *name, size_t nlen, const kafka_topic_t *t) {
    int16_t v = req->api_version;
    spate_wr_i16(out, err);
    spate_wr_str16(out, name, nlen);
    spate_wr_u8(out, 0); /* is_internal */
    if (!t || err) {
        spate_wr_i32(out, 0);
    } else {
        spate_wr_i32(out, t->nparts);
        for (int32_t i = 0; i < t->nparts; i++) {
            spate_wr_i16(out, KERR_NONE);
            spate_wr_i32(out, i);
            spate_wr_i32(out, b->conf.node_id);
            if (v >= 7) spate_wr_i32(out, t->parts[i].leader_epoch);
            spate_wr_i32(out, 1); /* replicas */
            spate_wr_i32(out, b->conf.node_id);
            spate_wr_i32(out, 1); /* isr */
            spate_wr_i32(out, b->conf.node_id);
            if (v >= 5) spate_wr_i32(out, 0); /* offline replicas */
        }
    }
    if (v >= 8) spate_wr_i32(out, AUTHORIZED_OPS_OMITTED);
}

kafka_result_t kafka_handle_metadata(kafka_broker_t *b, kafka_conn_t *c, const kafka_req_t *req,
                                     spate_rd_t *body, spate_buf_t *out) {
    SPATE_UNUSED(c);
    int16_t v = req->api_version;
    int32_t ntopics;
    if (kafka_rd_array(body, false, 2, &ntopics) != SPATE_OK) return KAFKA_CLOSE;
    size_t topics_at = body->off;
    for (int32_t i = 0; i < ntopics; i++) {
        spate_slice_t name;
        if (spate_rd_str16(body, &name) != SPATE_OK || !name.p) return KAFKA_CLOSE;
    }
    uint8_t allow = 1;
    if (v >= 4 && spate_rd_u8(body, &allow) != SPATE_OK) return KAFKA_CLOSE;
    if (v >= 8) {
        uint8_t x;
        if (spate_rd_u8(body, &x) != SPATE_OK || spate_rd_u8(body, &x) != SPATE_OK)
            return KAFKA_CLOSE;
    }

    if (v >= 3) spate_wr_i32(out, 0); /* throttle_time_ms */
    spate_wr_i32(out, 1);             /* brokers: this one */
    spate_wr_i32(out, b->conf.node_id);
    spate_wr_str16(out, b->conf.advertise_host, strlen(b->conf.advertise_host));
    spate_wr_i32(out, b->conf.advertise_port);
    spate_wr_str16(out, NULL, 0); /* rack */
    if (v >= 2) spate_wr_str16(out, b->conf.cluster_id, strlen(b->conf.cluster_id));
    spate_wr_i32(out, b->conf.node_id); /* controller */

    if (ntopics < 0) { /* all topics */
        int32_t n = 0;
        for (kafka_topic_t *t = b->topics; t; t = t->next) n++;
        spate_wr_i32(out, n);
        for (kafka_topic_t *t = b->topics; t; t = t->next)
            write_topic(b, req, out, KERR_NONE, t->name, strlen(t->name), t);
    } else {
        spate_wr_i32(out, ntopics);
        spate_rd_t r;
        spate_rd_init(&r, body->p, body->len);
        r.off = topics_at;
        for (int32_t i = 0; i < ntopics; i++) {
            spate_slice_t name;
            spate_rd_str16(&r, &name);
            size_t nlen = (size_t)name.len;
            kafka_topic_t *t = kafka_topic_find(b, name.p, nlen);
            int16_t err = KERR_NONE;
            if (!t) {
                if (!kafka_topic_name_valid(name.p, nlen)) {
                    err = KERR_INVALID_TOPIC_EXCEPTION;
                } else if (b->conf.auto_create_topics && allow) {
                    err =
                        kafka_topic_create(b, name.p, nlen, b->conf.default_partitions, NULL, NULL);
                    if (err == KERR_NONE) err = KERR_LEADER_NOT_AVAILABLE;
                } else {
                    err = KERR_UNKNOWN_TOPIC_OR_PARTITION;
                }
            }
            write_topic(b, req, out, err, name.p, nlen, t);
        }
    }
    if (v >= 8) spate_wr_i32(out, AUTHORIZED_OPS_OMITTED);
    return KAFKA_DONE;
}
