/*
 * kafka_client.c — the admin client behind `spate topics` and `spate groups`.
 *
 * Built on librdkafka (not on spate's own codec) on purpose: the same code
 * must work against spate broker and a real Kafka cluster, and librdkafka
 * is the client both are tested against.
 *
 *   what                 librdkafka call                 Kafka API
 *   topics list          rd_kafka_metadata (all topics)  Metadata
 *   topics create        rd_kafka_CreateTopics           CreateTopics
 *   topics describe      rd_kafka_metadata +             Metadata,
 *                        rd_kafka_query_watermark_offsets ListOffsets
 *   topics delete        rd_kafka_DeleteTopics           DeleteTopics
 *   groups list          rd_kafka_list_groups            ListGroups + DescribeGroups
 *   groups describe      rd_kafka_list_groups(group),    DescribeGroups,
 *                        rd_kafka_committed              OffsetFetch
 *
 * Every operation first fetches metadata, so an unreachable cluster is
 * reported the same way (SPATE_ETIMEDOUT) by all of them, within the
 * timeout. Metadata is always asked for all topics: asking for one by name
 * can auto-create it on brokers that allow that.
 *
 * librdkafka 2.0.2 has no ListConsumerGroupOffsets admin API, so committed
 * offsets are read with a consumer handle carrying the group's group.id
 * that never subscribes (so never joins the group): rd_kafka_committed()
 * on every partition of every non-internal topic, keeping those with an
 * offset.
 *
 * One collector per kind of question, shared by everything that asks it:
 *
 *   topics_collect    Metadata + ListOffsets per partition
 *                     → spate_kafka_topic_info_t[]
 *                     used by: topics describe (text), topics_collect
 *                     (--json), topic_offsets (spate up: "in Kafka")
 *   offsets_collect   OffsetFetch + ListOffsets per partition
 *                     → spate_kafka_offset_info_t[]
 *                     used by: group_collect (describe text, --json),
 *                     group_lag (spate up: "lag")
 *
 * so the text of the describe commands is only ever output: nothing reads
 * it back.
 *
 * librdkafka's own log lines (connection refused, ...) go to spate's log at
 * debug level: the caller reports the outcome in one clear message.
 */
#include "kafka.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

static const char *const COMP = "kafka-client";

static void client_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    SPATE_UNUSED(rk);
    SPATE_UNUSED(level);
    spate_log(SPATE_LOG_DEBUG, COMP, "librdkafka %s: %s", fac, buf);
}

/* A handle on the cluster: a producer, or with `group` a consumer with that
 * group.id (never subscribed). NULL after setting err. */
static rd_kafka_t *client_new(const spate_kafka_client_opts_t *o, const char *group, char *err,
                              size_t errlen) {
    char e[512], tmo[32];
    snprintf(tmo, sizeof tmo, "%d", o->timeout_ms < 10 ? 10 : o->timeout_ms);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[][2] = {
        {"bootstrap.servers", o->bootstrap},
        {"client.id", "spate-cli"},
        {"socket.timeout.ms", tmo},
        {"log.connection.close", "false"},
        {group ? "group.id" : NULL, group},
        {group ? "enable.auto.commit" : NULL, "false"},
        {group ? "enable.auto.offset.store" : NULL, "false"},
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(kv); i++) {
        if (!kv[i][0]) continue;
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], e, sizeof e) != RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "%s", e);
            goto err;
        }
    }
    rd_kafka_conf_set_log_cb(conf, client_log);
    rd_kafka_t *rk = rd_kafka_new(group ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, conf, e, sizeof e);
    if (!rk) {
        snprintf(err, errlen, "cannot create a Kafka client: %s", e);
        goto err;
    }
    return rk; /* conf is now owned by rk */
err:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

static void client_free(rd_kafka_t *rk, bool consumer) {
    if (!rk) return;
    if (consumer) rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

static spate_status_t map_err(rd_kafka_resp_err_t e) {
    switch (e) {
    case RD_KAFKA_RESP_ERR_NO_ERROR: return SPATE_OK;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE: return SPATE_ETIMEDOUT;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND: return SPATE_ENOENT;
    default: return SPATE_ERR;
    }
}

/* Metadata for all topics; the first contact with the cluster. */
static spate_status_t client_metadata(rd_kafka_t *rk, const spate_kafka_client_opts_t *o,
                                      const rd_kafka_metadata_t **md, char *err, size_t errlen) {
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, md, o->timeout_ms);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return SPATE_OK;
    *md = NULL;
    spate_status_t st = map_err(e);
    if (st == SPATE_ETIMEDOUT || st == SPATE_ENOENT)
        snprintf(err, errlen, "cannot reach Kafka at %s within %d ms: %s", o->bootstrap,
                 o->timeout_ms, rd_kafka_err2str(e));
    else
        snprintf(err, errlen, "metadata request to %s failed: %s", o->bootstrap,
                 rd_kafka_err2str(e));
    return st == SPATE_ENOENT ? SPATE_ETIMEDOUT : st;
}

static bool is_internal(const char *topic) { return strncmp(topic, "__", 2) == 0; }

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_part(const void *a, const void *b) {
    const rd_kafka_metadata_partition_t *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static const rd_kafka_metadata_topic_t *md_topic(const rd_kafka_metadata_t *md, const char *name) {
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, name) == 0) return &md->topics[i];
    return NULL;
}

spate_status_t spate_kafka_topics_list(const spate_kafka_client_opts_t *o, bool internal,
                                       spate_buf_t *out, char *err, size_t errlen) {
    const rd_kafka_metadata_t *md = NULL;
    const char **names = NULL;
    rd_kafka_t *rk = client_new(o, NULL, err, errlen);
    if (!rk) return SPATE_ERR;
    spate_status_t st = client_metadata(rk, o, &md, err, errlen);
    if (st != SPATE_OK) goto out;
    names = spate_xcalloc((size_t)md->topic_cnt + 1, sizeof *names);
    size_t n = 0;
    for (int i = 0; i < md->topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *t = &md->topics[i];
        if (t->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
        if (!internal && is_internal(t->topic)) continue;
        names[n++] = t->topic;
    }
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) spate_buf_printf(out, "%s\n", names[i]);
out:
    free(names);
    if (md) rd_kafka_metadata_destroy(md);
    client_free(rk, false);
    return st;
}

/* Runs one admin request already sent to q and returns its result event
 * (NULL after setting err). The caller destroys the event. */
static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *q, const spate_kafka_client_opts_t *o,
                                    const char *what, char *err, size_t errlen) {
    /* The request times out on its own after timeout_ms; the margin lets
     * that answer arrive instead of a bare local timeout. */
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, o->timeout_ms + 2000);
    if (!ev) {
        snprintf(err, errlen, "%s: no answer from %s within %d ms", what, o->bootstrap,
                 o->timeout_ms);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        snprintf(err, errlen, "%s: %s", what, rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

static rd_kafka_AdminOptions_t *admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op,
                                              const spate_kafka_client_opts_t *o) {
    char e[256];
    rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, op);
    /* Both only fail for out-of-range values, which the timeout is not. */
    rd_kafka_AdminOptions_set_request_timeout(ao, o->timeout_ms, e, sizeof e);
    rd_kafka_AdminOptions_set_operation_timeout(ao, o->timeout_ms, e, sizeof e);
    return ao;
}

spate_status_t spate_kafka_topic_create(const spate_kafka_client_opts_t *o, const char *name,
                                        int32_t partitions, int32_t replication_factor,
                                        const char *const *configs, size_t nconfigs, char *err,
                                        size_t errlen) {
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_NewTopic_t *nt = NULL;
    rd_kafka_AdminOptions_t *ao = NULL;
    rd_kafka_queue_t *q = NULL;
    rd_kafka_event_t *ev = NULL;
    char e[512];
    rd_kafka_t *rk = client_new(o, NULL, err, errlen);
    if (!rk) return SPATE_ERR;
    spate_status_t st = client_metadata(rk, o, &md, err, errlen);
    if (st != SPATE_OK) goto out;
    st = SPATE_ERR;
    nt = rd_kafka_NewTopic_new(name, partitions, replication_factor, e, sizeof e);
    if (!nt) {
        snprintf(err, errlen, "cannot create topic '%s': %s", name, e);
        goto out;
    }
    for (size_t i = 0; i < nconfigs; i++) {
        const char *eq = strchr(configs[i], '=');
        if (!eq || eq == configs[i]) {
            snprintf(err, errlen, "config '%s' is not key=value", configs[i]);
            goto out;
        }
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(eq - configs[i]), configs[i]);
        if (rd_kafka_NewTopic_set_config(nt, key, eq + 1)) {
            snprintf(err, errlen, "config '%s' is not valid", configs[i]);
            goto out;
        }
    }
    ao = admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, o);
    q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
    char what[300];
    snprintf(what, sizeof what, "cannot create topic '%s'", name);
    ev = admin_wait(q, o, what, err, errlen);
    if (!ev) goto out;
    size_t n;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    if (n != 1) {
        snprintf(err, errlen, "%s: the broker answered for %zu topics", what, n);
        goto out;
    }
    rd_kafka_resp_err_t te = rd_kafka_topic_result_error(res[0]);
    if (te) {
        const char *msg = rd_kafka_topic_result_error_string(res[0]);
        snprintf(err, errlen, "%s: %s", what, msg && *msg ? msg : rd_kafka_err2str(te));
        goto out;
    }
    st = SPATE_OK;
out:
    if (ev) rd_kafka_event_destroy(ev);
    if (q) rd_kafka_queue_destroy(q);
    if (ao) rd_kafka_AdminOptions_destroy(ao);
    if (nt) rd_kafka_NewTopic_destroy(nt);
    if (md) rd_kafka_metadata_destroy(md);
    client_free(rk, false);
    return st;
}

static void put_ids(spate_buf_t *out, const int32_t *ids, int n) {
    for (int i = 0; i < n; i++) spate_buf_printf(out, "%s%d", i ? "," : "", (int)ids[i]);
    if (n == 0) spate_buf_puts(out, "-");
}

static char *dup_str(const char *s) { return spate_xstrdup(s ? s : ""); }

static int32_t *dup_ids(const int32_t *ids, int n) {
    int32_t *c = spate_xcalloc((size_t)SPATE_MAX(n, 0) + 1, sizeof *c);
    if (n > 0) memcpy(c, ids, (size_t)n * sizeof *c);
    return c;
}

/* ListOffsets for one partition into *low / *high; on failure both are
 * -1 and wm_err (128 bytes) says why. */
static rd_kafka_resp_err_t watermarks(rd_kafka_t *rk, const spate_kafka_client_opts_t *o,
                                      const char *topic, int32_t part, int64_t *low, int64_t *high,
                                      char *wm_err, size_t wm_errlen) {
    int64_t lo = -1, hi = -1;
    rd_kafka_resp_err_t e =
        rd_kafka_query_watermark_offsets(rk, topic, part, &lo, &hi, o->timeout_ms);
    if (e) {
        lo = hi = -1;
        snprintf(wm_err, wm_errlen, "%s", rd_kafka_err2str(e));
    }
    *low = lo;
    *high = hi;
    return e;
}

void spate_kafka_topic_infos_free(spate_kafka_topic_info_t *t, size_t n) {
    if (!t) return;
    for (size_t i = 0; i < n; i++) {
        for (int p = 0; p < t[i].nparts; p++) {
            free(t[i].parts[p].replicas);
            free(t[i].parts[p].isr);
        }
        free(t[i].parts);
        free(t[i].name);
    }
    free(t);
}

/* The topic collector on an open handle and its metadata: every name is
 * checked first, so an unknown one costs no ListOffsets. *out is the
 * caller's (spate_kafka_topic_infos_free) on SPATE_OK, NULL otherwise. */
static spate_status_t topics_collect(rd_kafka_t *rk, const spate_kafka_client_opts_t *o,
                                     const rd_kafka_metadata_t *md, const char *const *names,
                                     size_t n, spate_kafka_topic_info_t **out, char *err,
                                     size_t errlen) {
    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_metadata_topic_t *t = md_topic(md, names[i]);
        if (!t || t->err) {
            snprintf(err, errlen, "unknown topic '%s'%s%s", names[i], t ? ": " : "",
                     t ? rd_kafka_err2str(t->err) : "");
            return t ? map_err(t->err) : SPATE_ENOENT;
        }
    }
    spate_kafka_topic_info_t *ti = spate_xcalloc(n + 1, sizeof *ti);
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_metadata_topic_t *t = md_topic(md, names[i]);
        int np = t->partition_cnt;
        rd_kafka_metadata_partition_t *mps = spate_xcalloc((size_t)np + 1, sizeof *mps);
        memcpy(mps, t->partitions, (size_t)np * sizeof *mps);
        qsort(mps, (size_t)np, sizeof *mps, cmp_part);
        ti[i].name = dup_str(t->topic);
        ti[i].replication_factor = np ? mps[0].replica_cnt : 0;
        ti[i].parts = spate_xcalloc((size_t)np + 1, sizeof *ti[i].parts);
        ti[i].nparts = np;
        for (int p = 0; p < np; p++) {
            spate_kafka_part_info_t *pi = &ti[i].parts[p];
            pi->id = mps[p].id;
            pi->leader = mps[p].leader;
            pi->replicas = dup_ids(mps[p].replicas, mps[p].replica_cnt);
            pi->nreplicas = mps[p].replica_cnt;
            pi->isr = dup_ids(mps[p].isrs, mps[p].isr_cnt);
            pi->nisr = mps[p].isr_cnt;
            watermarks(rk, o, t->topic, pi->id, &pi->low, &pi->high, pi->wm_err, sizeof pi->wm_err);
        }
        free(mps);
    }
    *out = ti;
    return SPATE_OK;
}

spate_status_t spate_kafka_topics_collect(const spate_kafka_client_opts_t *o,
                                          const char *const *names, size_t n,
                                          spate_kafka_topic_info_t **out, char *err,
                                          size_t errlen) {
    const rd_kafka_metadata_t *md = NULL;
    *out = NULL;
    rd_kafka_t *rk = client_new(o, NULL, err, errlen);
    if (!rk) return SPATE_ERR;
    spate_status_t st = client_metadata(rk, o, &md, err, errlen);
    if (st == SPATE_OK) st = topics_collect(rk, o, md, names, n, out, err, errlen);
    if (md) rd_kafka_metadata_destroy(md);
    client_free(rk, false);
    return st;
}

spate_status_t spate_kafka_topics_describe(const spate_kafka_client_opts_t *o,
                                           const char *const *names, size_t n, spate_buf_t *out,
                                           char *err, size_t errlen) {
    spate_kafka_topic_info_t *ti;
    spate_status_t st = spate_kafka_topics_collect(o, names, n, &ti, err, errlen);
    if (st != SPATE_OK) return st;
    for (size_t i = 0; i < n; i++) {
        const spate_kafka_topic_info_t *t = &ti[i];
        spate_buf_printf(out, "Topic: %s\tPartitionCount: %d\tReplicationFactor: %d\n", t->name,
                         t->nparts, (int)t->replication_factor);
        for (int p = 0; p < t->nparts; p++) {
            const spate_kafka_part_info_t *pi = &t->parts[p];
            spate_buf_printf(out, "\tTopic: %s\tPartition: %d\tLeader: %d\tReplicas: ", t->name,
                             (int)pi->id, (int)pi->leader);
            put_ids(out, pi->replicas, pi->nreplicas);
            spate_buf_puts(out, "\tIsr: ");
            put_ids(out, pi->isr, pi->nisr);
            if (pi->high < 0)
                spate_buf_printf(out, "\tLow: ?\tHigh: ?\t(%s)\n", pi->wm_err);
            else
                spate_buf_printf(out, "\tLow: %lld\tHigh: %lld\n", (long long)pi->low,
                                 (long long)pi->high);
        }
    }
    spate_kafka_topic_infos_free(ti, n);
    return SPATE_OK;
}

spate_status_t spate_kafka_topic_offsets(const spate_kafka_client_opts_t *o, const char *topic,
                                         int64_t *high_sum, int32_t *partitions, char *err,
                                         size_t errlen) {
    spate_kafka_topic_info_t *ti;
    spate_status_t st = spate_kafka_topics_collect(o, &topic, 1, &ti, err, errlen);
    if (st != SPATE_OK) return st;
    int64_t sum = 0;
    for (int p = 0; p < ti->nparts && st == SPATE_OK; p++) {
        if (ti->parts[p].high >= 0) {
            sum += ti->parts[p].high;
            continue;
        }
        snprintf(err, errlen, "cannot read the offsets of %s [%d]: %s", topic, (int)ti->parts[p].id,
                 ti->parts[p].wm_err);
        st = SPATE_ERR;
    }
    if (st == SPATE_OK) {
        if (high_sum) *high_sum = sum;
        if (partitions) *partitions = ti->nparts;
    }
    spate_kafka_topic_infos_free(ti, 1);
    return st;
}

spate_status_t spate_kafka_topics_delete(const spate_kafka_client_opts_t *o,
                                         const char *const *names, size_t n, spate_buf_t *out,
                                         char *err, size_t errlen) {
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_DeleteTopic_t **dt = spate_xcalloc(n + 1, sizeof *dt);
    rd_kafka_AdminOptions_t *ao = NULL;
    rd_kafka_queue_t *q = NULL;
    rd_kafka_event_t *ev = NULL;
    rd_kafka_t *rk = client_new(o, NULL, err, errlen);
    spate_status_t st = SPATE_ERR;
    if (!rk) goto out;
    st = client_metadata(rk, o, &md, err, errlen);
    if (st != SPATE_OK) goto out;
    st = SPATE_ERR;
    for (size_t i = 0; i < n; i++) dt[i] = rd_kafka_DeleteTopic_new(names[i]);
    ao = admin_options(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS, o);
    q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteTopics(rk, dt, n, ao, q);
    ev = admin_wait(q, o, "cannot delete topics", err, errlen);
    if (!ev) goto out;
    size_t nr;
    const rd_kafka_topic_result_t **res =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &nr);
    st = SPATE_OK;
    for (size_t i = 0; i < nr; i++) {
        const char *name = rd_kafka_topic_result_name(res[i]);
        rd_kafka_resp_err_t te = rd_kafka_topic_result_error(res[i]);
        if (!te) {
            spate_buf_printf(out, "Deleted topic %s.\n", name);
            continue;
        }
        if (st == SPATE_OK) {
            const char *msg = rd_kafka_topic_result_error_string(res[i]);
            snprintf(err, errlen, "cannot delete topic '%s': %s", name,
                     msg && *msg ? msg : rd_kafka_err2str(te));
            st = map_err(te) == SPATE_ENOENT ? SPATE_ENOENT : SPATE_ERR;
        }
    }
out:
    if (ev) rd_kafka_event_destroy(ev);
    if (q) rd_kafka_queue_destroy(q);
    if (ao) rd_kafka_AdminOptions_destroy(ao);
    for (size_t i = 0; i < n; i++)
        if (dt[i]) rd_kafka_DeleteTopic_destroy(dt[i]);
    free(dt);
    if (md) rd_kafka_metadata_destroy(md);
    client_free(rk, false);
    return st;
}

static int cmp_group(const void *a, const void *b) {
    const struct rd_kafka_group_info *x = *(const struct rd_kafka_group_info *const *)a;
    const struct rd_kafka_group_info *y = *(const struct rd_kafka_group_info *const *)b;
    return strcmp(x->group, y->group);
}

spate_status_t spate_kafka_groups_list(const spate_kafka_client_opts_t *o, spate_buf_t *out,
                                       char *err, size_t errlen) {
    const rd_kafka_metadata_t *md = NULL;
    const struct rd_kafka_group_list *gl = NULL;
    const struct rd_kafka_group_info **gs = NULL;
    rd_kafka_t *rk = client_new(o, NULL, err, errlen);
    if (!rk) return SPATE_ERR;
    spate_status_t st = client_metadata(rk, o, &md, err, errlen);
    if (st != SPATE_OK) goto out;
    rd_kafka_resp_err_t e = rd_kafka_list_groups(rk, NULL, &gl, o->timeout_ms);
    if (e) {
        snprintf(err, errlen, "cannot list groups: %s", rd_kafka_err2str(e));
        st = map_err(e) == SPATE_ETIMEDOUT ? SPATE_ETIMEDOUT : SPATE_ERR;
        goto out;
    }
    gs = spate_xcalloc((size_t)gl->group_cnt + 1, sizeof *gs);
    for (int i = 0; i < gl->group_cnt; i++) gs[i] = &gl->groups[i];
    qsort(gs, (size_t)gl->group_cnt, sizeof *gs, cmp_group);
    for (int i = 0; i < gl->group_cnt; i++)
        spate_buf_printf(out, "%s\t%s\n", gs[i]->group,
                         gs[i]->state && *gs[i]->state ? gs[i]->state : "Unknown");
out:
    free(gs);
    if (gl) rd_kafka_group_list_destroy(gl);
    if (md) rd_kafka_metadata_destroy(md);
    client_free(rk, false);
    return st;
}

spate_status_t spate_kafka_assignment_format(const void *p, size_t len, spate_buf_t *out) {
    spate_rd_t r;
    spate_buf_t tmp = SPATE_BUF_INIT;
    int16_t version;
    int32_t ntopics;
    spate_rd_init(&r, p, len);
    if (len == 0) return spate_buf_puts(out, "-");
    if (spate_rd_i16(&r, &version) != SPATE_OK || version < 0) goto bad;
    if (spate_rd_i32(&r, &ntopics) != SPATE_OK || ntopics < 0) goto bad;
    for (int32_t t = 0; t < ntopics; t++) {
        spate_slice_t name;
        int32_t nparts;
        if (spate_rd_str16(&r, &name) != SPATE_OK || !name.p) goto bad;
        if (spate_rd_i32(&r, &nparts) != SPATE_OK || nparts < 0) goto bad;
        spate_buf_printf(&tmp, "%s%.*s:", tmp.len ? " " : "", (int)name.len, name.p);
        for (int32_t i = 0; i < nparts; i++) {
            int32_t part;
            if (spate_rd_i32(&r, &part) != SPATE_OK) goto bad;
            spate_buf_printf(&tmp, "%s%d", i ? "," : "", (int)part);
        }
    }
    /* user_data (nullable bytes) follows; some clients leave it off. */
    if (spate_rd_left(&r) > 0) {
        spate_slice_t ud;
        if (spate_rd_str32(&r, &ud) != SPATE_OK) goto bad;
    }
    spate_status_t st =
        tmp.len ? spate_buf_append(out, tmp.data, tmp.len) : spate_buf_puts(out, "-");
    spate_buf_free(&tmp);
    return st;
bad:
    spate_buf_free(&tmp);
    return SPATE_EINVAL;
}

/* Every partition of every non-internal topic (or of `topic` only),
 * sorted: the partitions a group may have committed offsets for. */
static rd_kafka_topic_partition_list_t *all_partitions(const rd_kafka_metadata_t *md,
                                                       const char *topic) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (int i = 0; i < md->topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *t = &md->topics[i];
        if (t->err || (topic ? strcmp(t->topic, topic) != 0 : is_internal(t->topic))) continue;
        for (int p = 0; p < t->partition_cnt; p++)
            rd_kafka_topic_partition_list_add(l, t->topic, t->partitions[p].id);
    }
    rd_kafka_topic_partition_list_sort(l, NULL, NULL);
    return l;
}

/* The offsets collector, on a consumer handle carrying the group's
 * group.id: OffsetFetch (rd_kafka_committed) for the partitions of
 * `topic` (NULL: of every non-internal topic), then ListOffsets for those
 * kept: all of them with `uncommitted`, else only those with a committed
 * offset. *out (*n entries, sorted) is the caller's, also on failure;
 * free each topic and the array. */
static spate_status_t offsets_collect(rd_kafka_t *rk, const spate_kafka_client_opts_t *o,
                                      const rd_kafka_metadata_t *md, const char *group,
                                      const char *topic, bool uncommitted,
                                      spate_kafka_offset_info_t **out, int *n, char *err,
                                      size_t errlen) {
    spate_status_t st = SPATE_OK;
    rd_kafka_topic_partition_list_t *parts = all_partitions(md, topic);
    *out = spate_xcalloc((size_t)parts->cnt + 1, sizeof **out);
    *n = 0;
    if (parts->cnt > 0) {
        rd_kafka_resp_err_t e = rd_kafka_committed(rk, parts, o->timeout_ms);
        if (e) {
            snprintf(err, errlen, "cannot fetch the committed offsets of '%s': %s", group,
                     rd_kafka_err2str(e));
            st = map_err(e) == SPATE_ETIMEDOUT ? SPATE_ETIMEDOUT : SPATE_ERR;
            goto out;
        }
    }
    for (int i = 0; i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &parts->elems[i];
        bool has = !tp->err && tp->offset >= 0;
        if (!has && !uncommitted) continue;
        spate_kafka_offset_info_t *oi = &(*out)[(*n)++];
        oi->topic = dup_str(tp->topic);
        oi->partition = tp->partition;
        oi->committed = has ? tp->offset : -1;
        oi->lag = -1;
        if (watermarks(rk, o, tp->topic, tp->partition, &oi->low, &oi->high, oi->wm_err,
                       sizeof oi->wm_err) == RD_KAFKA_RESP_ERR_NO_ERROR)
            oi->lag = has ? SPATE_MAX(oi->high - oi->committed, 0) : oi->high - oi->low;
    }
out:
    rd_kafka_topic_partition_list_destroy(parts);
    return st;
}

static void offsets_free(spate_kafka_offset_info_t *oi, int n) {
    for (int i = 0; i < n; i++) free(oi[i].topic);
    free(oi);
}

void spate_kafka_group_info_free(spate_kafka_group_info_t *g) {
    if (!g) return;
    free(g->group);
    free(g->state);
    free(g->protocol_type);
    free(g->protocol);
    free(g->coordinator_host);
    for (int i = 0; i < g->nmembers; i++) {
        free(g->members[i].member_id);
        free(g->members[i].client_id);
        free(g->members[i].host);
        free(g->members[i].assignment);
    }
    free(g->members);
    offsets_free(g->offsets, g->noffsets);
    memset(g, 0, sizeof *g);
}

spate_status_t spate_kafka_group_collect(const spate_kafka_client_opts_t *o, const char *group,
                                         spate_kafka_group_info_t *g, char *err, size_t errlen) {
    const rd_kafka_metadata_t *md = NULL;
    const struct rd_kafka_group_list *gl = NULL;
    memset(g, 0, sizeof *g);
    rd_kafka_t *rk = client_new(o, group, err, errlen);
    if (!rk) return SPATE_ERR;
    spate_status_t st = client_metadata(rk, o, &md, err, errlen);
    if (st != SPATE_OK) goto out;
    rd_kafka_resp_err_t e = rd_kafka_list_groups(rk, group, &gl, o->timeout_ms);
    if (!e && gl->group_cnt != 1) e = RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND;
    if (!e) e = gl->groups[0].err;
    if (e) {
        st = map_err(e);
        snprintf(err, errlen, "%s group '%s': %s",
                 st == SPATE_ENOENT ? "unknown" : "cannot describe", group, rd_kafka_err2str(e));
        goto out;
    }
    const struct rd_kafka_group_info *gi = &gl->groups[0];
    if (strcmp(gi->state, "Dead") == 0) {
        snprintf(err, errlen, "unknown group '%s'", group);
        st = SPATE_ENOENT;
        goto out;
    }
    g->group = dup_str(gi->group);
    g->state = dup_str(gi->state);
    g->protocol_type = dup_str(gi->protocol_type);
    g->protocol = dup_str(gi->protocol);
    g->coordinator_id = gi->broker.id;
    g->coordinator_host = dup_str(gi->broker.host);
    g->coordinator_port = gi->broker.port;
    g->members = spate_xcalloc((size_t)SPATE_MAX(gi->member_cnt, 0) + 1, sizeof *g->members);
    for (int i = 0; i < gi->member_cnt; i++) {
        const struct rd_kafka_group_member_info *m = &gi->members[i];
        spate_kafka_member_info_t *mi = &g->members[g->nmembers++];
        mi->member_id = dup_str(m->member_id);
        mi->client_id = dup_str(m->client_id);
        mi->host = dup_str(m->client_host);
        mi->assignment_len = (size_t)SPATE_MAX(m->member_assignment_size, 0);
        mi->assignment = spate_xmalloc(mi->assignment_len + 1);
        if (mi->assignment_len) memcpy(mi->assignment, m->member_assignment, mi->assignment_len);
    }
    st = offsets_collect(rk, o, md, group, NULL, false, &g->offsets, &g->noffsets, err, errlen);
out:
    if (gl) rd_kafka_group_list_destroy(gl);
    if (md) rd_kafka_metadata_destroy(md);
    client_free(rk, true);
    return st;
}

static void describe_members(const spate_kafka_group_info_t *g, spate_buf_t *out) {
    if (g->nmembers == 0) return;
    spate_buf_printf(out, "\n%-40s %-20s %-20s %s\n", "MEMBER-ID", "CLIENT-ID", "HOST",
                     "ASSIGNMENT");
    for (int i = 0; i < g->nmembers; i++) {
        const spate_kafka_member_info_t *m = &g->members[i];
        spate_buf_printf(out, "%-40s %-20s %-20s ", m->member_id, m->client_id, m->host);
        if (spate_kafka_assignment_format(m->assignment, m->assignment_len, out) != SPATE_OK)
            spate_buf_printf(out, "(%zu bytes, not the consumer protocol)", m->assignment_len);
        spate_buf_putc(out, '\n');
    }
}

spate_status_t spate_kafka_group_describe(const spate_kafka_client_opts_t *o, const char *group,
                                          spate_buf_t *out, char *err, size_t errlen) {
    spate_kafka_group_info_t g;
    spate_status_t st = spate_kafka_group_collect(o, group, &g, err, errlen);
    if (st != SPATE_OK && !g.group) goto out; /* nothing to show */
    spate_buf_printf(out, "Group: %s\nState: %s\nProtocol: %s/%s\nCoordinator: %d (%s:%d)\n",
                     g.group, g.state, *g.protocol_type ? g.protocol_type : "-",
                     *g.protocol ? g.protocol : "-", (int)g.coordinator_id,
                     *g.coordinator_host ? g.coordinator_host : "?", g.coordinator_port);
    spate_buf_printf(out, "Members: %d\n", g.nmembers);
    describe_members(&g, out);
    if (st != SPATE_OK) goto out; /* the committed offsets could not be read */
    for (int i = 0; i < g.noffsets; i++) {
        const spate_kafka_offset_info_t *oi = &g.offsets[i];
        if (i == 0)
            spate_buf_printf(out, "\n%-30s %-10s %-15s %-15s %s\n", "TOPIC", "PARTITION",
                             "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG");
        spate_buf_printf(out, "%-30s %-10d %-15lld ", oi->topic, (int)oi->partition,
                         (long long)oi->committed);
        if (oi->high >= 0)
            spate_buf_printf(out, "%-15lld %lld\n", (long long)oi->high, (long long)oi->lag);
        else
            spate_buf_printf(out, "%-15s %s\n", "?", "?");
    }
    if (g.noffsets == 0) spate_buf_puts(out, "\n(no committed offsets)\n");
out:
    spate_kafka_group_info_free(&g);
    return st;
}

spate_status_t spate_kafka_group_lag(const spate_kafka_client_opts_t *o, const char *group,
                                     const char *topic, int64_t *lag, char *err, size_t errlen) {
    const rd_kafka_metadata_t *md = NULL;
    spate_kafka_offset_info_t *oi = NULL;
    int n = 0;
    rd_kafka_t *rk = client_new(o, group, err, errlen);
    if (!rk) return SPATE_ERR;
    spate_status_t st = client_metadata(rk, o, &md, err, errlen);
    if (st != SPATE_OK) goto out;
    const rd_kafka_metadata_topic_t *t = md_topic(md, topic);
    if (!t || t->err) {
        snprintf(err, errlen, "unknown topic '%s'%s%s", topic, t ? ": " : "",
                 t ? rd_kafka_err2str(t->err) : "");
        st = t ? map_err(t->err) : SPATE_ENOENT;
        goto out;
    }
    st = offsets_collect(rk, o, md, group, topic, true, &oi, &n, err, errlen);
    int64_t sum = 0;
    for (int i = 0; i < n && st == SPATE_OK; i++) {
        if (oi[i].lag >= 0) {
            sum += oi[i].lag;
            continue;
        }
        snprintf(err, errlen, "cannot read the offsets of %s [%d]: %s", topic, (int)oi[i].partition,
                 oi[i].wm_err);
        st = SPATE_ERR;
    }
    if (st == SPATE_OK) *lag = sum;
out:
    offsets_free(oi, n);
    if (md) rd_kafka_metadata_destroy(md);
    client_free(rk, true);
    return st;
}
