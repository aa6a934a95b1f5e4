/*
 * up_ingest.c — `spate up --once` when this binary has no scheduler yet:
 * the DAG's work done in-process, so the pipeline can be proven end to
 * end with the components that exist.
 *
 *   fetch (spate_fetch_run, from the source) → spate_format_user
 *     → produce to the topic (librdkafka: enable.idempotence, acks=all),
 *       key = the record id, flushed before success
 *
 * The number of distinct users is counted from login.uuid (what the
 * staging table keys on), so the caller can wait for exactly that many
 * rows in the store (the store upserts by id).
 */
#include "up_int.h"

#include "source.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    rd_kafka_t *rk;
    const char *topic;
    spate_buf_t rec;
    char **ids;
    size_t nids, capids;
    int64_t failed;
    char err[256];
} ingest_t;

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    SPATE_UNUSED(rk);
    ingest_t *in = opaque;
    if (m->err) {
        if (!in->failed)
            snprintf(in->err, sizeof in->err, "delivery failed: %s", rd_kafka_err2str(m->err));
        in->failed++;
    }
}

static spate_status_t on_user(void *ctx, const json_t *result) {
    ingest_t *in = ctx;
    char err[256];
    spate_buf_reset(&in->rec);
    if (spate_format_user(result, &in->rec, err, sizeof err) != SPATE_OK) {
        snprintf(in->err, sizeof in->err, "format_user: %.200s", err);
        return SPATE_EINVAL;
    }
    const char *uuid = json_string_value(json_object_get(json_object_get(result, "login"), "uuid"));
    if (uuid) {
        if (in->nids == in->capids) {
            in->capids = in->capids ? in->capids * 2 : 1024;
            in->ids = spate_xrealloc(in->ids, in->capids * sizeof *in->ids);
        }
        in->ids[in->nids++] = spate_xstrdup(uuid);
    }
    /* The record's id is its first field: {"id":"<36 chars>",... */
    const char *key = NULL;
    size_t klen = 0;
    if (in->rec.len > 44 && !strncmp(in->rec.data, "{\"id\":\"", 7)) {
        key = in->rec.data + 7;
        klen = 36;
    }
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            in->rk, RD_KAFKA_V_TOPIC(in->topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE(in->rec.data, in->rec.len), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            snprintf(in->err, sizeof in->err, "produce: %s", rd_kafka_err2str(e));
            return SPATE_ERR;
        }
        rd_kafka_poll(in->rk, 100);
    }
    rd_kafka_poll(in->rk, 0);
    return SPATE_OK;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

spate_status_t up_ingest(up_t *u, int64_t count, int64_t *fetched, int64_t *distinct, char *err,
                         size_t errlen) {
    ingest_t in = {0};
    in.topic = u->c->topic;
    char errstr[256];
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    const char *kv[][2] = {{"bootstrap.servers", u->kafka},
                           {"enable.idempotence", "true"},
                           {"acks", "all"},
                           {"linger.ms", "5"},
                           {"client.id", "spate-up"}};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(kv); i++) {
        if (rd_kafka_conf_set(kc, kv[i][0], kv[i][1], errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "kafka config %s: %s", kv[i][0], errstr);
            rd_kafka_conf_destroy(kc);
            return SPATE_EINVAL;
        }
    }
    rd_kafka_conf_set_dr_msg_cb(kc, on_dr);
    rd_kafka_conf_set_opaque(kc, &in);
    in.rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, errstr, sizeof errstr);
    if (!in.rk) {
        snprintf(err, errlen, "kafka producer: %s", errstr);
        rd_kafka_conf_destroy(kc);
        return SPATE_ERR;
    }
    char url[600];
    if (u->c->randomuser_url[0])
        snprintf(url, sizeof url, "%s", u->c->randomuser_url);
    else
        snprintf(url, sizeof url, "http://%s/api/", u->c->comp[SPATE_UP_RANDOMUSER].addr);
    spate_fetch_conf_t fc;
    spate_fetch_conf_default(&fc);
    fc.url = url;
    fc.count = count;
    fc.batch = (int)SPATE_MIN(count, 1000);
    spate_fetch_stats_t fs = {0};
    char ferr[256] = "";
    spate_status_t st = spate_fetch_run(&fc, on_user, &in, &fs, ferr, sizeof ferr);
    if (st != SPATE_OK) snprintf(err, errlen, "fetch from %s: %s", url, in.err[0] ? in.err : ferr);
    rd_kafka_resp_err_t fe = rd_kafka_flush(in.rk, 30000);
    if (st == SPATE_OK && fe != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "flush: %s", rd_kafka_err2str(fe));
        st = SPATE_ETIMEDOUT;
    }
    if (st == SPATE_OK && in.failed) {
        snprintf(err, errlen, "%lld of %lld messages not delivered: %s", (long long)in.failed,
                 (long long)fs.users, in.err);
        st = SPATE_ERR;
    }
    qsort(in.ids, in.nids, sizeof *in.ids, cmp_str);
    int64_t d = 0;
    for (size_t i = 0; i < in.nids; i++)
        if (i == 0 || strcmp(in.ids[i], in.ids[i - 1]) != 0) d++;
    *fetched = fs.users;
    *distinct = d;
    for (size_t i = 0; i < in.nids; i++) free(in.ids[i]);
    free(in.ids);
    spate_buf_free(&in.rec);
    rd_kafka_destroy(in.rk);
    return st;
}
