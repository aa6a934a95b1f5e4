/*
 * kafka_config.c — per-topic configs and DescribeConfigs v0-2.
 *
 * A topic may override a few of the broker's log settings, given in
 * CreateTopics' configs array and kept in its .topic file after the
 * partition count (kafka_topic.c):
 *
 *   partitions=3
 *   retention.ms=60000
 *   max.message.bytes=2000
 *
 *   topic key            broker setting (default)   accepted values
 *   retention.ms         log.retention.ms           -1 (keep) or >= 0
 *   retention.bytes      log.retention.bytes        -1 (unlimited) or >= 0
 *   segment.bytes        log.segment.bytes          14 .. 2^31-1 (Kafka's range)
 *   max.message.bytes    message.max.bytes          0 .. 2^31-1
 *   cleanup.policy       log.cleanup.policy         delete, compact, or both
 *   delete.retention.ms  log.cleaner.delete.retention.ms  0 .. 2^63-1 (default 1 day)
 *   min.compaction.lag.ms log.cleaner.min.compaction.lag.ms 0 .. 2^63-1 (default 0)
 *   min.insync.replicas  min.insync.replicas        1 only (one node)
 *   flush.messages       log.flush.interval.messages  1 .. 2^63-1 (default: never)
 *   flush.ms             log.flush.interval.ms      0 .. 2^63-1 (default 1000)
 *
 * Anything else is INVALID_CONFIG naming the key: a typo or a setting
 * spate does not implement must not be accepted silently. Overrides are
 * fixed at creation (there is no AlterConfigs), so a topic's logs are
 * opened with them and never reconfigured.
 *
 * DescribeConfigs
 *   request   resources [resource_type int8, resource_name,
 *             configuration_keys (nullable: all) [string]],
 *             include_synonyms bool (v1+)
 *   response  throttle_time_ms, results [error_code, error_message
 *             (nullable), resource_type int8, resource_name, configs [name,
 *             value (nullable), read_only, is_default (v0), config_source
 *             int8 (v1+), is_sensitive, synonyms (v1+) [name, value
 *             (nullable), source int8]]]
 *
 * Resource type 2 (topic) lists every topic key above; type 4 (broker,
 * named by this node's id) the broker's settings. Config sources:
 * 1 DYNAMIC_TOPIC_CONFIG (a topic override), 4 STATIC_BROKER_CONFIG (the
 * broker's own settings), 5 DEFAULT_CONFIG (a topic key not overridden).
 * With include_synonyms one synonym is returned: the entry's own source.
 */
#include "kafka_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { SRC_DYNAMIC_TOPIC = 1, SRC_STATIC_BROKER = 4, SRC_DEFAULT = 5 };
enum { RES_TOPIC = 2, RES_BROKER = 4 };

typedef struct {
    const char *name;
    const char *broker_name;
    int64_t min, max;
} tconf_def_t;

static const tconf_def_t tconf_defs[KTC_COUNT] = {
    [KTC_RETENTION_MS] = {"retention.ms", "log.retention.ms", -1, INT64_MAX},
    [KTC_RETENTION_BYTES] = {"retention.bytes", "log.retention.bytes", -1, INT64_MAX},
    [KTC_SEGMENT_BYTES] = {"segment.bytes", "log.segment.bytes", 14, INT32_MAX},
    [KTC_MAX_MESSAGE_BYTES] = {"max.message.bytes", "message.max.bytes", 0, INT32_MAX},
    [KTC_CLEANUP_POLICY] = {"cleanup.policy", "log.cleanup.policy", 1, 3},
    [KTC_MIN_INSYNC_REPLICAS] = {"min.insync.replicas", "min.insync.replicas", 1, 1},
    [KTC_FLUSH_MESSAGES] = {"flush.messages", "log.flush.interval.messages", 1, INT64_MAX},
    [KTC_FLUSH_MS] = {"flush.ms", "log.flush.interval.ms", 0, INT64_MAX},
    [KTC_DELETE_RETENTION_MS] = {"delete.retention.ms", "log.cleaner.delete.retention.ms", 0,
                                 INT64_MAX},
    [KTC_MIN_COMPACTION_LAG_MS] = {"min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms", 0,
                                   INT64_MAX},
};

int16_t kafka_topic_conf_set(kafka_topic_conf_t *tc, const char *key, size_t klen, const char *val,
                             size_t vlen, char *msg, size_t msglen) {
    int id = -1;
    for (int i = 0; i < KTC_COUNT; i++)
        if (strlen(tconf_defs[i].name) == klen && memcmp(tconf_defs[i].name, key, klen) == 0)
            id = i;
    if (id < 0) {
        snprintf(msg, msglen, "unknown or unsupported topic config '%.*s'",
                 (int)SPATE_MIN(klen, 200), key);
        return KERR_INVALID_CONFIG;
    }
    const tconf_def_t *d = &tconf_defs[id];
    if (!val) {
        snprintf(msg, msglen, "config '%s' needs a value", d->name);
        return KERR_INVALID_CONFIG;
    }
    char text[64];
    if (vlen >= sizeof text) vlen = sizeof text - 1; /* too long for any valid value */
    memcpy(text, val, vlen);
    text[vlen] = '\0';
    int64_t v = 0;
    if (id == KTC_CLEANUP_POLICY) {
        /* A comma-separated list of "delete" and "compact" (Kafka's form;
         * spaces around items are allowed). */
        char *save = NULL;
        for (char *tok = strtok_r(text, ",", &save); tok && v >= 0;
             tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ') tok++;
            size_t tl = strlen(tok);
            while (tl && tok[tl - 1] == ' ') tok[--tl] = '\0';
            if (strcmp(tok, "delete") == 0)
                v |= KAFKA_CLEANUP_DELETE;
            else if (strcmp(tok, "compact") == 0)
                v |= KAFKA_CLEANUP_COMPACT;
            else
                v = -1;
        }
        if (v <= 0) {
            snprintf(msg, msglen,
                     "cleanup.policy: invalid value (expected delete, compact or "
                     "compact,delete)");
            return KERR_INVALID_CONFIG;
        }
    } else if (spate_parse_i64(text, d->min, d->max, &v) != SPATE_OK) {
        if (id == KTC_MIN_INSYNC_REPLICAS)
            snprintf(msg, msglen, "min.insync.replicas: spate broker is a single node: must be 1");
        else
            snprintf(msg, msglen,
                     "%s: invalid value '%s' (an integer from %" PRId64 " to %" PRId64 ")", d->name,
                     text, d->min, d->max);
        return KERR_INVALID_CONFIG;
    }
    tc->v[id] = v;
    tc->set |= 1u << id;
    return KERR_NONE;
}

int64_t kafka_topic_conf_value(const kafka_broker_t *b, const kafka_topic_conf_t *tc,
                               kafka_tconf_id_t id) {
    if (tc && (tc->set & (1u << id))) return tc->v[id];
    switch (id) {
    case KTC_RETENTION_MS: return b->conf.retention_ms;
    case KTC_RETENTION_BYTES: return b->conf.retention_bytes;
    case KTC_SEGMENT_BYTES: return b->conf.segment_bytes;
    case KTC_MAX_MESSAGE_BYTES: return b->conf.max_message_bytes;
    case KTC_CLEANUP_POLICY: return KAFKA_CLEANUP_DELETE;
    case KTC_DELETE_RETENTION_MS: return 86400000;
    case KTC_MIN_COMPACTION_LAG_MS: return 0;
    case KTC_MIN_INSYNC_REPLICAS: return 1;
    case KTC_FLUSH_MESSAGES: return b->conf.flush_messages;
    case KTC_FLUSH_MS: return b->conf.flush_interval_ms;
    default: return 0;
    }
}

static void value_text(kafka_tconf_id_t id, int64_t v, char *out, size_t n) {
    if (id == KTC_CLEANUP_POLICY)
        snprintf(out, n, "%s",
                 v == KAFKA_CLEANUP_COMPACT                            ? "compact"
                 : v == (KAFKA_CLEANUP_COMPACT | KAFKA_CLEANUP_DELETE) ? "compact,delete"
                                                                       : "delete");
    else
        snprintf(out, n, "%" PRId64, v);
}

void kafka_topic_conf_write(const kafka_topic_conf_t *tc, spate_buf_t *out) {
    for (int i = 0; i < KTC_COUNT; i++) {
        if (!(tc->set & (1u << i))) continue;
        char v[32];
        value_text((kafka_tconf_id_t)i, tc->v[i], v, sizeof v);
        spate_buf_printf(out, "%s=%s\n", tconf_defs[i].name, v);
    }
}

/* ---- DescribeConfigs ---- */

/* Whether name is asked for: keys_at is the configuration_keys array's
 * position in the request (nkeys < 0: all). */
static bool key_wanted(spate_rd_t *body, size_t keys_at, int32_t nkeys, const char *name) {
    if (nkeys < 0) return true;
    spate_rd_t r = *body;
    r.off = keys_at;
    for (int32_t i = 0; i < nkeys; i++) {
        spate_slice_t k;
        kafka_rd_string(&r, false, false, &k);
        if ((size_t)k.len == strlen(name) && memcmp(k.p, name, (size_t)k.len) == 0) return true;
    }
    return false;
}

static void wr_cstr(spate_buf_t *out, const char *s) { spate_wr_str16(out, s, strlen(s)); }

/* One configs[] entry. syn_name is the synonym reported (with the same
 * value and source) when synonyms are asked for. */
static void wr_entry(spate_buf_t *out, int16_t v, bool synonyms, const char *name,
                     const char *value, int8_t source, const char *syn_name) {
    wr_cstr(out, name);
    wr_cstr(out, value);
    spate_wr_u8(out, 0); /* read_only */
    if (v == 0) spate_wr_u8(out, source == SRC_DEFAULT);
    if (v >= 1) spate_wr_i8(out, source);
    spate_wr_u8(out, 0); /* is_sensitive */
    if (v >= 1) {
        spate_wr_i32(out, synonyms ? 1 : 0);
        if (synonyms) {
            wr_cstr(out, syn_name);
            wr_cstr(out, value);
            spate_wr_i8(out, source);
        }
    }
}

/* Writes the configs array of a topic; returns how many entries. */
static int32_t topic_configs(kafka_broker_t *b, const kafka_topic_t *t, spate_rd_t *body,
                             size_t keys_at, int32_t nkeys, int16_t v, bool synonyms,
                             spate_buf_t *out) {
    int32_t n = 0;
    for (int i = 0; i < KTC_COUNT; i++) {
        const tconf_def_t *d = &tconf_defs[i];
        if (!key_wanted(body, keys_at, nkeys, d->name)) continue;
        bool over = (t->conf.set & (1u << i)) != 0;
        char val[32];
        value_text((kafka_tconf_id_t)i, kafka_topic_conf_value(b, &t->conf, (kafka_tconf_id_t)i),
                   val, sizeof val);
        wr_entry(out, v, synonyms, d->name, val, over ? SRC_DYNAMIC_TOPIC : SRC_DEFAULT,
                 over ? d->name : d->broker_name);
        n++;
    }
    return n;
}

static int32_t broker_configs(kafka_broker_t *b, spate_rd_t *body, size_t keys_at, int32_t nkeys,
                              int16_t v, bool synonyms, spate_buf_t *out) {
    char vals[13][32];
    const char *names[13];
    int k = 0;
#define BCONF(nm, ...)                                                                             \
    do {                                                                                           \
        names[k] = nm;                                                                             \
        snprintf(vals[k], sizeof vals[k], __VA_ARGS__);                                            \
        k++;                                                                                       \
    } while (0)
    BCONF("broker.id", "%" PRId32, b->conf.node_id);
    BCONF("log.retention.ms", "%" PRId64, b->conf.retention_ms);
    BCONF("log.retention.bytes", "%" PRId64, b->conf.retention_bytes);
    BCONF("log.segment.bytes", "%" PRId64, b->conf.segment_bytes);
    BCONF("message.max.bytes", "%" PRId32, b->conf.max_message_bytes);
    BCONF("log.cleanup.policy", "delete");
    BCONF("num.partitions", "%" PRId32, b->conf.default_partitions);
    BCONF("auto.create.topics.enable", "%s", b->conf.auto_create_topics ? "true" : "false");
    BCONF("default.replication.factor", "1");
    BCONF("min.insync.replicas", "1");
    BCONF("log.flush.interval.ms", "%" PRId64, b->conf.flush_interval_ms);
    BCONF("log.flush.interval.messages", "%" PRId64, b->conf.flush_messages);
#undef BCONF
    int32_t n = 0;
    for (int i = 0; i < k; i++) {
        if (!key_wanted(body, keys_at, nkeys, names[i])) continue;
        wr_entry(out, v, synonyms, names[i], vals[i], SRC_STATIC_BROKER, names[i]);
        n++;
    }
    return n;
}

kafka_result_t kafka_handle_describe_configs(kafka_broker_t *b, kafka_conn_t *c,
                                             const kafka_req_t *req, spate_rd_t *body,
                                             spate_buf_t *out) {
    SPATE_UNUSED(c);
    int16_t v = req->api_version;
    int32_t n;
    if (kafka_rd_array(body, false, 7, &n) || n < 0) return KAFKA_CLOSE;
    size_t at = body->off;
    for (int32_t i = 0; i < n; i++) {
        int8_t type;
        spate_slice_t name, key;
        int32_t nkeys;
        if (spate_rd_i8(body, &type) || kafka_rd_string(body, false, false, &name) ||
            kafka_rd_array(body, false, 2, &nkeys))
            return KAFKA_CLOSE;
        for (int32_t k = 0; k < nkeys; k++)
            if (kafka_rd_string(body, false, false, &key)) return KAFKA_CLOSE;
    }
    uint8_t synonyms = 0;
    if (v >= 1 && spate_rd_u8(body, &synonyms)) return KAFKA_CLOSE;

    spate_wr_i32(out, 0); /* throttle_time_ms */
    spate_wr_i32(out, n);
    body->off = at;
    for (int32_t i = 0; i < n; i++) {
        int8_t type;
        spate_slice_t name, key;
        int32_t nkeys;
        spate_rd_i8(body, &type);
        kafka_rd_string(body, false, false, &name);
        kafka_rd_array(body, false, 2, &nkeys);
        size_t keys_at = body->off;
        for (int32_t k = 0; k < nkeys; k++) kafka_rd_string(body, false, false, &key);

        char node[16], msg[128] = "";
        snprintf(node, sizeof node, "%" PRId32, b->conf.node_id);
        kafka_topic_t *t = NULL;
        int16_t err = KERR_NONE;
        if (type == RES_TOPIC) {
            t = kafka_topic_find(b, name.p, (size_t)name.len);
            if (!t) {
                err = KERR_UNKNOWN_TOPIC_OR_PARTITION;
                snprintf(msg, sizeof msg, "topic '%.*s' does not exist",
                         (int)SPATE_MIN(name.len, 64), name.p);
            }
        } else if (type == RES_BROKER) {
            if ((size_t)name.len != strlen(node) || memcmp(name.p, node, (size_t)name.len) != 0) {
                err = KERR_INVALID_REQUEST;
                snprintf(msg, sizeof msg, "unexpected broker id '%.*s': this is broker %s",
                         (int)SPATE_MIN(name.len, 32), name.p, node);
            }
        } else {
            err = KERR_INVALID_REQUEST;
            snprintf(msg, sizeof msg,
                     "resource type %d is not supported (only topics (2) and brokers (4))", type);
        }
        spate_wr_i16(out, err);
        if (err)
            wr_cstr(out, msg);
        else
            spate_wr_str16(out, NULL, 0); /* null */
        spate_wr_i8(out, type);
        spate_wr_str16(out, name.p, (size_t)name.len);
        size_t count_at = out->len;
        spate_wr_i32(out, 0);
        int32_t nc = 0;
        if (!err && t) nc = topic_configs(b, t, body, keys_at, nkeys, v, synonyms, out);
        if (!err && type == RES_BROKER)
            nc = broker_configs(b, body, keys_at, nkeys, v, synonyms, out);
        spate_wr_patch_u32(out, count_at, (uint32_t)nc);
    }
    return KAFKA_DONE;
}
