/*
 * kafka_admin.c — CreateTopics v0-4, DeleteTopics v0-3, CreatePartitions v0-1.
 *
 * CreateTopics
 *   request   topics [name, num_partitions, replication_factor,
 *             assignments [index, broker_ids [int32]],
 *             configs [name, value (nullable)]], timeout_ms,
 *             validate_only (v1+)
 *   response  throttle_time_ms (v2+), topics [name, error_code,
 *             error_message (v1+)]
 *
 * One node holds one copy: a replication factor above 1 is refused with
 * INVALID_REPLICATION_FACTOR, as a one-broker Kafka cluster does; -1 (v4,
 * "the default") means 1, and num_partitions -1 the broker default.
 * Explicit replica assignments are accepted when they only name this node.
 * Per-topic configs are checked (kafka_config.c: unknown keys, bad values
 * and unimplemented settings are INVALID_CONFIG) — also for validate_only
 * — and kept in the topic's .topic file.
 *
 * DeleteTopics
 *   request   topic_names [string], timeout_ms
 *   response  throttle_time_ms (v1+), responses [name, error_code]
 *
 * CreatePartitions
 *   request   topics [name, count, assignments (nullable) [broker_ids
 *             [int32]]], timeout_ms, validate_only
 *   response  throttle_time_ms, results [name, error_code, error_message
 *             (nullable)]
 *
 * Partitions are only ever added (Kafka cannot remove them either); an
 * assignment, one per new partition, may only name this node.
 */
#include "kafka_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    spate_slice_t name;
    int32_t nparts;
    int16_t rf;
    bool assign_ok;
    kafka_topic_conf_t conf;
    int16_t conf_err; /* the first config refused (INVALID_CONFIG), with conf_msg */
    char conf_msg[256];
} create_item_t;

kafka_result_t kafka_handle_create_topics(kafka_broker_t *b, kafka_conn_t *c,
                                          const kafka_req_t *req, spate_rd_t *body,
                                          spate_buf_t *out) {
    SPATE_UNUSED(c);
    int16_t v = req->api_version;
    int32_t n;
    if (kafka_rd_array(body, false, 12, &n) != SPATE_OK || n < 0) return KAFKA_CLOSE;
    /* n is bounded by the request size (kafka_rd_array), so this is too. */
    create_item_t *items = spate_xcalloc((size_t)n + 1, sizeof *items);
    spate_status_t st = SPATE_OK;
    for (int32_t i = 0; i < n && st == SPATE_OK; i++) {
        create_item_t *it = &items[i];
        int32_t nassign = 0, nconf = 0;
        it->assign_ok = true;
        if ((st = kafka_rd_string(body, false, false, &it->name)) ||
            (st = spate_rd_i32(body, &it->nparts)) || (st = spate_rd_i16(body, &it->rf)) ||
            (st = kafka_rd_array(body, false, 8, &nassign)))
            break;
        for (int32_t k = 0; k < nassign && st == SPATE_OK; k++) {
            int32_t idx, nb;
            if ((st = spate_rd_i32(body, &idx)) || (st = kafka_rd_array(body, false, 4, &nb)))
                break;
            if (nb != 1) it->assign_ok = false;
            for (int32_t j = 0; j < nb && st == SPATE_OK; j++) {
                int32_t id;
                if ((st = spate_rd_i32(body, &id)) == SPATE_OK && id != b->conf.node_id)
                    it->assign_ok = false;
            }
        }
        if (st == SPATE_OK && nassign > 0) it->nparts = nassign;
        if (st == SPATE_OK) st = kafka_rd_array(body, false, 4, &nconf);
        for (int32_t k = 0; k < nconf && st == SPATE_OK; k++) {
            spate_slice_t cn, cv;
            if ((st = kafka_rd_string(body, false, false, &cn)) == SPATE_OK)
                st = kafka_rd_string(body, false, true, &cv);
            if (st == SPATE_OK && !it->conf_err)
                it->conf_err = kafka_topic_conf_set(&it->conf, cn.p, (size_t)cn.len, cv.p,
                                                    cv.p ? (size_t)cv.len : 0, it->conf_msg,
                                                    sizeof it->conf_msg);
        }
    }
    int32_t timeout;
    uint8_t validate_only = 0;
    if (st == SPATE_OK) st = spate_rd_i32(body, &timeout);
    if (st == SPATE_OK && v >= 1) st = spate_rd_u8(body, &validate_only);
    if (st != SPATE_OK) {
        free(items);
        return KAFKA_CLOSE;
    }

    if (v >= 2) spate_wr_i32(out, 0); /* throttle_time_ms */
    spate_wr_i32(out, n);
    for (int32_t i = 0; i < n; i++) {
        create_item_t *it = &items[i];
        size_t nlen = (size_t)it->name.len;
        int32_t nparts = it->nparts == -1 ? b->conf.default_partitions : it->nparts;
        int16_t err = KERR_NONE;
        const char *msg = NULL;
        bool dup = false;
        for (int32_t k = 0; k < n && !dup; k++)
            dup = k != i && items[k].name.len == it->name.len &&
                  memcmp(items[k].name.p, it->name.p, nlen) == 0;
        if (dup) {
            err = KERR_INVALID_REQUEST;
            msg = "the topic is named more than once in the request";
        } else if (!kafka_topic_name_valid(it->name.p, nlen)) {
            err = KERR_INVALID_TOPIC_EXCEPTION;
            msg = "topic names are 1-249 characters of [a-zA-Z0-9._-]";
        } else if (kafka_topic_find(b, it->name.p, nlen)) {
            err = KERR_TOPIC_ALREADY_EXISTS;
            msg = "the topic already exists";
        } else if (it->rf != 1 && it->rf != -1) {
            err = KERR_INVALID_REPLICATION_FACTOR;
            msg = "spate broker is a single node: the replication factor must be 1";
        } else if (!it->assign_ok) {
            err = KERR_INVALID_REQUEST;
            msg = "replica assignments may only name this broker, once per partition";
        } else if (nparts < 1 || nparts > b->conf.max_partitions) {
            err = KERR_INVALID_PARTITIONS;
            msg = "the number of partitions must be from 1 to the broker's max_partitions";
        } else if (it->conf_err) {
            err = it->conf_err;
            msg = it->conf_msg;
        } else if (!validate_only) {
            err = kafka_topic_create(b, it->name.p, nlen, nparts, &it->conf, NULL);
            if (err) msg = "the topic could not be created (see the broker's log)";
        }
        spate_wr_str16(out, it->name.p, nlen);
        spate_wr_i16(out, err);
        if (v >= 1) spate_wr_str16(out, msg, msg ? strlen(msg) : 0);
    }
    free(items);
    return KAFKA_DONE;
}

kafka_result_t kafka_handle_delete_topics(kafka_broker_t *b, kafka_conn_t *c,
                                          const kafka_req_t *req, spate_rd_t *body,
                                          spate_buf_t *out) {
    SPATE_UNUSED(c);
    int32_t n, timeout;
    if (kafka_rd_array(body, false, 2, &n) != SPATE_OK || n < 0) return KAFKA_CLOSE;
    size_t names_at = body->off;
    for (int32_t i = 0; i < n; i++) {
        spate_slice_t name;
        if (kafka_rd_string(body, false, false, &name) != SPATE_OK) return KAFKA_CLOSE;
    }
    if (spate_rd_i32(body, &timeout) != SPATE_OK) return KAFKA_CLOSE;
    if (req->api_version >= 1) spate_wr_i32(out, 0);
    spate_wr_i32(out, n);
    body->off = names_at;
    for (int32_t i = 0; i < n; i++) {
        spate_slice_t name;
        kafka_rd_string(body, false, false, &name);
        spate_wr_str16(out, name.p, (size_t)name.len);
        spate_wr_i16(out, kafka_topic_delete(b, name.p, (size_t)name.len));
    }
    return KAFKA_DONE;
}

kafka_result_t kafka_handle_create_partitions(kafka_broker_t *b, kafka_conn_t *c,
                                              const kafka_req_t *req, spate_rd_t *body,
                                              spate_buf_t *out) {
    SPATE_UNUSED(c);
    SPATE_UNUSED(req);
    int32_t n, timeout;
    uint8_t validate_only;
    if (kafka_rd_array(body, false, 10, &n) || n < 0) return KAFKA_CLOSE;
    size_t at = body->off;
    /* n is bounded by the request size (kafka_rd_array), so this is too. */
    spate_slice_t *names = spate_xcalloc((size_t)n + 1, sizeof *names);
    spate_status_t st = SPATE_OK;
    for (int32_t i = 0; i < n && st == SPATE_OK; i++) {
        int32_t count, na = 0, nb, id;
        if ((st = kafka_rd_string(body, false, false, &names[i])) ||
            (st = spate_rd_i32(body, &count)) || (st = kafka_rd_array(body, false, 4, &na)))
            break;
        for (int32_t k = 0; k < na && st == SPATE_OK; k++) {
            if ((st = kafka_rd_array(body, false, 4, &nb)) == SPATE_OK && nb < 0) st = SPATE_EINVAL;
            for (int32_t j = 0; j < nb && st == SPATE_OK; j++) st = spate_rd_i32(body, &id);
        }
    }
    if (st == SPATE_OK) st = spate_rd_i32(body, &timeout);
    if (st == SPATE_OK) st = spate_rd_u8(body, &validate_only);
    if (st != SPATE_OK) {
        free(names);
        return KAFKA_CLOSE;
    }

    spate_wr_i32(out, 0); /* throttle_time_ms */
    spate_wr_i32(out, n);
    body->off = at;
    for (int32_t i = 0; i < n; i++) {
        spate_slice_t name;
        int32_t count, na, nb, id;
        kafka_rd_string(body, false, false, &name);
        spate_rd_i32(body, &count);
        kafka_rd_array(body, false, 4, &na);
        bool assign_ok = true;
        for (int32_t k = 0; k < na; k++) {
            kafka_rd_array(body, false, 4, &nb);
            if (nb != 1) assign_ok = false;
            for (int32_t j = 0; j < nb; j++)
                if (spate_rd_i32(body, &id) == SPATE_OK && id != b->conf.node_id) assign_ok = false;
        }
        size_t nlen = (size_t)name.len;
        bool dup = false;
        for (int32_t k = 0; k < i && !dup; k++)
            dup = names[k].len == name.len && memcmp(names[k].p, name.p, nlen) == 0;
        kafka_topic_t *t = kafka_topic_find(b, name.p, nlen);
        int16_t err = KERR_NONE;
        char msg[160] = "";
        if (dup) {
            err = KERR_INVALID_REQUEST;
            snprintf(msg, sizeof msg, "the topic is named more than once in the request");
        } else if (!t) {
            err = KERR_UNKNOWN_TOPIC_OR_PARTITION;
            snprintf(msg, sizeof msg, "the topic does not exist");
        } else if (count < t->nparts) {
            err = KERR_INVALID_PARTITIONS;
            snprintf(msg, sizeof msg,
                     "Topic currently has %d partitions, which is higher than the requested %d.",
                     t->nparts, count);
        } else if (count == t->nparts) {
            err = KERR_INVALID_PARTITIONS;
            snprintf(msg, sizeof msg, "Topic already has %d partitions.", t->nparts);
        } else if (count > b->conf.max_partitions) {
            err = KERR_INVALID_PARTITIONS;
            snprintf(msg, sizeof msg, "the broker's max_partitions is %d", b->conf.max_partitions);
        } else if (!assign_ok || (na >= 0 && na != count - t->nparts)) {
            err = KERR_INVALID_REPLICA_ASSIGNMENT;
            snprintf(msg, sizeof msg,
                     "assignments must name only this broker (%d), once for each new partition",
                     b->conf.node_id);
        } else if (!validate_only) {
            err = kafka_topic_add_partitions(b, t, count);
            if (err)
                snprintf(msg, sizeof msg,
                         "the partitions could not be added (see the broker's log)");
        }
        spate_wr_str16(out, name.p, nlen);
        spate_wr_i16(out, err);
        spate_wr_str16(out, err ? msg : NULL, err ? strlen(msg) : 0);
    }
    free(names);
    return KAFKA_DONE;
}
