/*
 * up_probe.c — what `spate up` asks the components: are you healthy, and
 * how many users have you got.
 *
 *   question              how
 *   randomuser healthy    GET http://ADDR/health (libcurl)
 *   broker healthy        spate_kafka_probe (ApiVersions v0)
 *   cql healthy           spate_cql_probe (OPTIONS → SUPPORTED)
 *   stream healthy        GET http://METRICS/metrics
 *   scheduler healthy     GET http://API/api/v1/health
 *   staged / published    SELECT count(*), count(published_at) FROM the
 *                         staging table (SQLite read-only, or libpq)
 *   in Kafka              spate_kafka_topic_offsets: the topic's high
 *                         watermarks summed
 *   lag                   spate_kafka_group_lag: the group's committed
 *                         offsets against them (a partition without one
 *                         lags by all it holds)
 *   stored                SELECT count(*) FROM keyspace.table (CQL client)
 *
 * The Kafka numbers come as numbers from the admin client's collectors
 * (kafka_client.c), never from the text `spate topics describe` prints.
 */
#include "up_int.h"

#include "cql.h"
#include "kafka.h"
#include "net.h"

#include <curl/curl.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Status line                                                         */
/* ------------------------------------------------------------------ */

void spate_up_stats_format(const spate_up_stats_t *s, spate_buf_t *out) {
    struct {
        const char *name;
        int64_t v;
    } f[] = {{"staged", s->staged}, {"kafka", s->in_kafka}, {"stored", s->stored}, {"lag", s->lag}};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(f); i++) {
        if (i) spate_buf_puts(out, " · ");
        spate_buf_printf(out, "%s ", f[i].name);
        if (f[i].v < 0)
            spate_buf_putc(out, '-');
        else
            spate_buf_put_i64(out, f[i].v);
        if (i == 0 && s->staged >= 0 && s->published >= 0)
            spate_buf_printf(out, " (published %lld)", (long long)s->published);
    }
    if (s->restarts > 0) spate_buf_printf(out, " · restarts %d", s->restarts);
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */
/* ------------------------------------------------------------------ */

static size_t on_body(char *p, size_t size, size_t nmemb, void *ctx) {
    spate_buf_t *b = ctx;
    if (b && spate_buf_append(b, p, size * nmemb) != SPATE_OK) return 0;
    return size * nmemb;
}

spate_status_t up_http(const char *method, const char *url, const char *json_body, int timeout_ms,
                       spate_buf_t *body, long *status, char *err, size_t errlen) {
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(err, errlen, "curl_easy_init failed");
        return SPATE_ENOMEM;
    }
    char cerr[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdr = NULL;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    if (json_body) {
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json_body);
    }
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    spate_status_t st = SPATE_OK;
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s %s: %s", method, url, cerr[0] ? cerr : curl_easy_strerror(rc));
        st = rc == CURLE_OPERATION_TIMEDOUT ? SPATE_ETIMEDOUT : SPATE_EIO;
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (code < 200 || code > 299) {
            snprintf(err, errlen, "%s %s: HTTP %ld", method, url, code);
            st = SPATE_ERR;
        }
    }
    if (status) *status = code;
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return st;
}

/* ------------------------------------------------------------------ */
/* Health                                                              */
/* ------------------------------------------------------------------ */

static spate_status_t get_ok(const char *addr, const char *path, char *err, size_t errlen) {
    char url[512];
    snprintf(url, sizeof url, "http://%s%s", addr, path);
    return up_http("GET", url, NULL, 1000, NULL, NULL, err, errlen);
}

/* The first of a comma-separated list. */
static spate_status_t first_addr(const char *list, spate_net_addr_t *a, char *err, size_t errlen) {
    char one[256];
    size_t n = strcspn(list, ",");
    if (n >= sizeof one) n = sizeof one - 1;
    memcpy(one, list, n);
    one[n] = '\0';
    return spate_net_addr_parse(one, a, err, errlen);
}

spate_status_t up_health(up_t *u, spate_up_comp_t c, char *err, size_t errlen) {
    const spate_up_conf_t *cf = u->c;
    spate_net_addr_t a;
    spate_status_t st;
    switch (c) {
    case SPATE_UP_RANDOMUSER:
        if (cf->randomuser_url[0]) return SPATE_OK; /* external: the fetch retries */
        return get_ok(cf->comp[c].addr, "/health", err, errlen);
    case SPATE_UP_BROKER:
        if ((st = first_addr(u->kafka, &a, err, errlen)) != SPATE_OK) return st;
        return spate_kafka_probe(&a, 1000, NULL, err, errlen);
    case SPATE_UP_CQL:
        if ((st = first_addr(u->contact, &a, err, errlen)) != SPATE_OK) return st;
        return spate_cql_probe(&a, 1000, NULL, 0, err, errlen);
    case SPATE_UP_STREAM: return get_ok(cf->comp[c].addr, "/metrics", err, errlen);
    case SPATE_UP_SCHEDULER: return get_ok(cf->comp[c].addr, "/api/v1/health", err, errlen);
    default: break;
    }
    snprintf(err, errlen, "unknown component");
    return SPATE_EINVAL;
}

spate_status_t up_topic_ensure(up_t *u, char *err, size_t errlen) {
    spate_kafka_client_opts_t o = {u->kafka, 5000};
    const char *names[] = {u->c->topic};
    spate_kafka_topic_info_t *ti = NULL;
    spate_status_t st = spate_kafka_topics_collect(&o, names, 1, &ti, err, errlen);
    spate_kafka_topic_infos_free(ti, 1);
    if (st == SPATE_OK) {
        up_say(u, "topic %s exists", u->c->topic);
        return SPATE_OK;
    }
    if (st != SPATE_ENOENT) return st;
    st = spate_kafka_topic_create(&o, u->c->topic, u->c->partitions, -1, NULL, 0, err, errlen);
    if (st == SPATE_OK)
        up_say(u, "created topic %s (%d partition%s)", u->c->topic, u->c->partitions,
               u->c->partitions == 1 ? "" : "s");
    return st;
}

/* ------------------------------------------------------------------ */
/* Numbers                                                             */
/* ------------------------------------------------------------------ */

static bool is_pg(const char *s) {
    return !strncmp(s, "postgres://", 11) || !strncmp(s, "postgresql://", 13) ||
           (strchr(s, '=') && !strchr(s, '/'));
}

spate_status_t up_staged_count(const spate_up_conf_t *c, int64_t *total, int64_t *published,
                               char *err, size_t errlen) {
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*), count(published_at) FROM %s", c->staging_table);
    if (!c->staging[0]) {
        snprintf(err, errlen, "no staging database");
        return SPATE_ENOENT;
    }
    if (is_pg(c->staging)) {
        /* dbname expanded (a URL or key=value string), then a short
         * connect_timeout unless the string sets its own. */
        const char *keys[] = {"dbname", "connect_timeout", NULL};
        const char *vals[] = {c->staging, "2", NULL};
        PGconn *pg = PQconnectdbParams(keys, vals, 1);
        spate_status_t st = SPATE_OK;
        if (PQstatus(pg) != CONNECTION_OK) {
            snprintf(err, errlen, "%s", PQerrorMessage(pg));
            st = SPATE_EIO;
        } else {
            PGresult *r = PQexec(pg, sql);
            if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
                *total = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
                *published = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
            } else {
                snprintf(err, errlen, "%s", PQresultErrorMessage(r));
                st = SPATE_ENOENT;
            }
            PQclear(r);
        }
        PQfinish(pg);
        return st;
    }
    const char *path = c->staging;
    if (!strncmp(path, "sqlite:", 7)) path += 7;
    sqlite3 *db = NULL;
    spate_status_t st = SPATE_OK;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return SPATE_ENOENT;
    }
    sqlite3_busy_timeout(db, 500);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
        st = SPATE_ENOENT;
    } else {
        *total = sqlite3_column_int64(q, 0);
        *published = sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return st;
}

spate_status_t up_stored_count(up_t *u, int64_t *n) {
    char err[256];
    if (!u->cql) {
        spate_cql_client_conf_t cc;
        spate_cql_client_conf_default(&cc);
        cc.contact_points = u->contact;
        cc.connect_timeout_ms = 1000;
        cc.request_timeout_ms = 5000;
        if (spate_cql_client_connect(&u->cql, &cc, err, sizeof err) != SPATE_OK) return SPATE_EIO;
    }
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", u->c->table);
    spate_cql_answer_t *a = NULL;
    spate_status_t st = spate_cql_client_query(u->cql, sql, &a);
    if (st == SPATE_OK && spate_cql_answer_kind(a) == SPATE_CQL_ANSWER_ROWS &&
        spate_cql_answer_rows(a) == 1) {
        int32_t len;
        const char *cell = spate_cql_answer_cell(a, 0, 0, &len);
        if (cell && len == 8) {
            uint64_t v = 0;
            for (int i = 0; i < 8; i++) v = v << 8 | (uint8_t)cell[i];
            *n = (int64_t)v;
        } else {
            st = SPATE_ERR;
        }
    } else if (st == SPATE_OK) {
        st = SPATE_ERR;
    }
    spate_cql_answer_free(a);
    return st;
}

void up_stats_refresh(up_t *u) {
    char err[256];
    spate_up_stats_t *s = &u->stats;
    int64_t t, p;
    if (up_staged_count(u->c, &t, &p, err, sizeof err) == SPATE_OK) {
        s->staged = t;
        s->published = p;
    } else {
        s->staged = s->published = -1;
    }
    spate_kafka_client_opts_t o = {u->kafka, 1000};
    int64_t v;
    if (spate_kafka_topic_offsets(&o, u->c->topic, &v, NULL, err, sizeof err) == SPATE_OK)
        s->in_kafka = v;
    else
        s->in_kafka = -1;
    if (spate_kafka_group_lag(&o, u->c->group, u->c->topic, &v, err, sizeof err) == SPATE_OK)
        s->lag = v;
    else
        s->lag = -1;
    if (up_stored_count(u, &v) == SPATE_OK)
        s->stored = v;
    else
        s->stored = -1;
}

void up_probe_free(up_t *u) {
    spate_cql_client_free(u->cql);
    u->cql = NULL;
}
