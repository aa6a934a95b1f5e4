/*
 * stream_sink_cql.c — the CQL sink: records as prepared INSERTs through
 * spate's CQL client (spate cql, Cassandra, ScyllaDB).
 *
 * A record's keys are its column names. For every distinct column list
 * (in the record's key order) one statement
 *
 *   INSERT INTO ks.table (c1, c2, ...) VALUES (?, ?, ...)
 *
 * is prepared, once, and each record is bound by column: text columns
 * take strings as they are (other JSON values as compact JSON text), uuid
 * columns a UUID text (a bad one fails the record with the reason), int /
 * bigint / double / boolean / timestamp their JSON numbers, booleans and
 * (timestamps) RFC 3339 text. An INSERT is an upsert by primary key, so a
 * replayed record leaves the table as it was: that, plus offsets committed
 * only past settled records, is exactly-once in effect.
 *
 * Requests are submitted asynchronously within the client's window
 * (`concurrency`). A request's life:
 *
 *   write ─▶ submit ─▶ answer ─┬─ not ERROR ─────────────▶ srun_ack
 *     ▲                        ├─ Invalid (0x2200) ───────▶ srun_fail (DLQ)
 *     │                        └─ timeout, connection lost, Unavailable,
 *     │                           Overloaded, other server errors
 *     └── retry list (due = now + backoff, doubled per try up to
 *         backoff_max_ms; `retries` tries at most, -1 forever; past them
 *         the record fails with the last reason)
 *
 * The client reconnects by itself on the next submit (and prepares again).
 * A record is bound when it is written; its request keeps the bound
 * values and a copy of the message's key and value (for a dead letter),
 * in one allocation of ~2.4 KiB (more for a larger record), not the JSON
 * tree — so at most `concurrency` + retrying records are held, plus up to
 * MAX_SPARE freed requests kept for reuse. Only a record whose statement
 * could not be prepared yet (the store away) keeps a reference to its
 * JSON value until it is. A retry sends the bytes bound at the first try:
 * if the table's column types change meanwhile, the store refuses them
 * (Invalid: a dead letter) where a fresh bind would have named the type.
 *
 * Batches: batch_rows groups rows of one partition key only; the seed's
 * table has one row per partition (id), so rows are sent as single
 * prepared INSERTs (batching across partitions would only move the fan-out
 * to the coordinator).
 */
#include "stream_run_int.h"
#include "source.h" /* spate_json_dumps */

#include "cql.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define LOGC "stream"
#define MAX_STMTS 64 /* distinct column lists kept prepared */

/* The seed's spark_streams.created_users with dob added (docs/stream.md). */
static const char *const seed_columns[] = {"first_name",      "last_name", "gender",   "address",
                                           "post_code",       "email",     "username", "dob",
                                           "registered_date", "phone",     "picture"};

typedef struct creq {
    struct creq *next;
    struct csink *s;
    srun_token_t tok;
    /* What the next try binds: the statement stmts[stmt] and the values
     * in vals (per marker: i32 length as the client's raw bind takes it,
     * then the bytes), or — only while no statement could be prepared for
     * it yet — a reference to the record's JSON value. */
    json_t *value;
    int stmt;
    uint32_t nvals;
    const char *vals;
    srun_orig_t orig; /* for the dead letter; key and val point into mem */
    int64_t tries;
    int64_t start_ns;
    int64_t due_ms;
    char reason[256];
    size_t room; /* bytes of mem */
    char mem[];  /* vals, key, val */
} creq_t;

#define REQ_ROOM 2048  /* mem of a kept request; a larger one is not kept */
#define MAX_SPARE 1024 /* requests kept */

typedef struct {
    char *sig; /* "c1,c2,..." */
    spate_cql_prepared_t *p;
    spate_cql_query_t *q; /* scratch: bound, submitted (copied), cleared */
} cstmt_t;

typedef struct csink {
    srun_job_t *j;
    spate_cql_client_t *cl;
    cstmt_t stmts[MAX_STMTS];
    int nstmts;
    int last; /* the statement the last record took (stmt_for tries it first) */
    /* freed requests kept for the next records: each has room for
     * REQ_ROOM (or its own larger) bytes of values and message */
    creq_t *spare;
    int nspare;
    creq_t *retry_head; /* unordered; small */
    int nretry;
    int64_t warn_ms;    /* when the last "write failed" warning was logged */
    int64_t warn_quiet; /* failures not logged since (at most one line a second) */
    spate_buf_t sig, text;
} csink_t;

static bool is_ident(const char *s) {
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) return false;
    size_t n = 0;
    for (; *s; s++, n++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return n <= 48;
}

static spate_status_t ddl(csink_t *s, const char *cql, char *err, size_t errlen) {
    spate_status_t st = spate_cql_client_query(s->cl, cql, NULL);
    if (st != SPATE_OK) snprintf(err, errlen, "%s: %s", cql, spate_cql_client_error(s->cl));
    return st;
}

spate_status_t srun_cql_connect(srun_job_t *j, const spate_stream_sink_conf_t *sc,
                                spate_cql_consistency_t level, spate_cql_client_t **out, char *err,
                                size_t errlen) {
    spate_buf_t cp = {0};
    for (size_t i = 0; i < sc->cql.ncontact; i++)
        spate_buf_printf(&cp, "%s%s", i ? "," : "", sc->cql.contact_points[i]);
    spate_cql_client_conf_t conf;
    spate_cql_client_conf_default(&conf);
    conf.contact_points = cp.len ? cp.data : "127.0.0.1:9042";
    conf.max_in_flight =
        sc->cql.concurrency > 0 ? sc->cql.concurrency : SPATE_STREAM_CQL_CONCURRENCY;
    conf.consistency = level;
    /* The store may still be starting: keep trying until stopped. */
    int64_t backoff = j->conf->delivery.backoff_ms;
    spate_status_t st;
    for (;;) {
        char e[512];
        if ((st = spate_cql_client_connect(out, &conf, e, sizeof e)) == SPATE_OK) break;
        if (*j->stop) {
            snprintf(err, errlen, "connect: %s", e);
            st = SPATE_ERR;
            break;
        }
        srun_backoff(j, &backoff, "CQL connect: %s", e);
    }
    spate_buf_free(&cp);
    return st;
}

static spate_status_t csink_open(srun_job_t *j, void **state, char *err, size_t errlen) {
    const spate_stream_sink_conf_t *sc = &j->conf->sink;
    csink_t *s = spate_xcalloc(1, sizeof *s);
    s->j = j;
    if (srun_cql_connect(j, sc, (spate_cql_consistency_t)sc->cql.consistency, &s->cl, err,
                         errlen) != SPATE_OK)
        goto fail;
    if (sc->cql.create) {
        spate_buf_t q = {0};
        spate_buf_printf(&q,
                         "CREATE KEYSPACE IF NOT EXISTS %s WITH replication = "
                         "{'class': 'SimpleStrategy', 'replication_factor': '1'}",
                         sc->cql.keyspace);
        spate_status_t st = ddl(s, q.data, err, errlen);
        spate_buf_reset(&q);
        spate_buf_printf(&q, "CREATE TABLE IF NOT EXISTS %s.%s (id uuid PRIMARY KEY",
                         sc->cql.keyspace, sc->cql.table);
        for (size_t i = 0; i < SPATE_ARRAY_LEN(seed_columns); i++)
            spate_buf_printf(&q, ", %s text", seed_columns[i]);
        spate_buf_puts(&q, ")");
        if (st == SPATE_OK) st = ddl(s, q.data, err, errlen);
        spate_buf_free(&q);
        if (st != SPATE_OK) goto fail;
    }
    if (spate_cql_client_use(s->cl, sc->cql.keyspace) != SPATE_OK) {
        snprintf(err, errlen, "USE %s: %s", sc->cql.keyspace, spate_cql_client_error(s->cl));
        goto fail;
    }
    spate_log(SPATE_LOG_INFO, LOGC, "job %s: CQL sink %s.%s on %s", j->conf->name, sc->cql.keyspace,
              sc->cql.table, spate_cql_client_peer(s->cl));
    *state = s;
    return SPATE_OK;
fail:
    spate_cql_client_free(s->cl);
    free(s);
    return SPATE_ERR;
}

static void req_free(creq_t *r) {
    json_decref(r->value);
    csink_t *s = r->s;
    if (r->room == REQ_ROOM && s->nspare < MAX_SPARE) {
        r->next = s->spare;
        s->spare = r;
        s->nspare++;
        return;
    }
    free(r);
}

static void req_fail(creq_t *r, const char *reason) {
    srun_fail(r->s->j, r->tok, reason, r->orig.key, r->orig.klen, r->orig.val, r->orig.vlen);
    req_free(r);
}

/* Schedules another try, or fails the record past `retries`. */
static void req_retry(creq_t *r, const char *reason) {
    csink_t *s = r->s;
    const spate_stream_delivery_t *d = &s->j->conf->delivery;
    snprintf(r->reason, sizeof r->reason, "%s", reason);
    if (d->retries >= 0 && r->tries > d->retries) {
        char msg[400];
        snprintf(msg, sizeof msg, "cql sink: gave up after %lld retries: %s", (long long)d->retries,
                 reason);
        req_fail(r, msg);
        return;
    }
    int64_t delay = d->backoff_ms;
    for (int64_t i = 1; i < r->tries && delay < d->backoff_max_ms; i++) delay *= 2;
    delay = SPATE_MIN(delay, d->backoff_max_ms);
    /* A lost connection fails every request in flight at once: one line
     * a second says so, with how many were not logged separately. */
    int64_t now = spate_mono_ms();
    if (now - s->warn_ms >= 1000) {
        spate_log(SPATE_LOG_WARN, LOGC,
                  "job %s: CQL write failed (%s); retrying in %lld ms (%lld more failures since "
                  "the last such line)",
                  s->j->conf->name, reason, (long long)delay, (long long)s->warn_quiet);
        s->warn_ms = now;
        s->warn_quiet = 0;
    } else {
        s->warn_quiet++;
    }
    r->due_ms = spate_mono_ms() + delay;
    r->next = s->retry_head;
    s->retry_head = r;
    s->nretry++;
}

static bool retryable(int32_t code) {
    /* Invalid (0x2200) is the record's fault: it goes to the DLQ. The
     * rest — Unavailable, Overloaded, IsBootstrapping, timeouts, server
     * errors, and configuration problems an operator may fix — are
     * retried. */
    return code != 0x2200;
}

static void on_answer(void *ctx, spate_status_t st, spate_cql_answer_t *a) {
    creq_t *r = ctx;
    char reason[300];
    if (st != SPATE_OK) {
        snprintf(reason, sizeof reason, "%s",
                 st == SPATE_ETIMEDOUT ? "request timed out" : "connection lost");
        req_retry(r, reason);
        return;
    }
    if (spate_cql_answer_kind(a) == SPATE_CQL_ANSWER_ERROR) {
        int32_t code = spate_cql_answer_error_code(a);
        char text[256];
        spate_cql_answer_error_text(a, text, sizeof text);
        spate_cql_answer_free(a);
        snprintf(reason, sizeof reason, "cql sink: %s", text);
        if (retryable(code))
            req_retry(r, reason);
        else
            req_fail(r, reason);
        return;
    }
    spate_cql_answer_free(a);
    r->s->j->c.out++;
    srun_ack(r->s->j, r->tok, spate_mono_ns() - r->start_ns);
    req_free(r);
}

/* Whether v's keys, in their order, are the column list sig. */
static bool sig_matches(const char *sig, json_t *v) {
    const char *p = sig, *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        if (p != sig && *p++ != ',') return false;
        const char *c = k;
        for (; *c && *c != ',' && *c == *p; c++, p++) {
        }
        if (*c) return false; /* a difference, or a comma in the key */
    }
    return p != sig && *p == '\0';
}

/* The statement for v's column list (prepared on first use). NULL with
 * the reason, and *io set when it is worth a retry (the store could not
 * be asked) rather than the record's fault. */
static cstmt_t *stmt_for(csink_t *s, json_t *v, bool *io, char *reason, size_t rlen) {
    /* records of one shape: the last statement, without building the list */
    if (s->nstmts && sig_matches(s->stmts[s->last].sig, v)) return &s->stmts[s->last];
    spate_buf_reset(&s->sig);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        if (!is_ident(k)) {
            snprintf(reason, rlen, "cql sink: field '%.64s' is not a column name", k);
            return NULL;
        }
        if (s->sig.len) spate_buf_putc(&s->sig, ',');
        spate_buf_puts(&s->sig, k); /* per record: no printf */
    }
    if (!s->sig.len) {
        snprintf(reason, rlen, "cql sink: the record has no fields");
        return NULL;
    }
    for (int i = 0; i < s->nstmts; i++)
        if (!strcmp(s->stmts[i].sig, s->sig.data)) return &s->stmts[s->last = i];
    if (s->nstmts == MAX_STMTS) {
        snprintf(reason, rlen, "cql sink: more than %d distinct column lists", MAX_STMTS);
        return NULL;
    }
    const spate_stream_sink_conf_t *sc = &s->j->conf->sink;
    spate_buf_reset(&s->text);
    spate_buf_printf(&s->text, "INSERT INTO %s.%s (%s) VALUES (", sc->cql.keyspace, sc->cql.table,
                     s->sig.data);
    size_t n = json_object_size(v);
    for (size_t i = 0; i < n; i++) spate_buf_puts(&s->text, i ? ", ?" : "?");
    spate_buf_puts(&s->text, ")");
    spate_cql_prepared_t *p = NULL;
    spate_status_t st = spate_cql_client_prepare(s->cl, s->text.data, &p);
    if (st != SPATE_OK) {
        snprintf(reason, rlen, "cql sink: prepare: %s", spate_cql_client_error(s->cl));
        *io = st != SPATE_ERR; /* an ERROR answer (unknown column...) is the record's */
        return NULL;
    }
    s->last = s->nstmts;
    cstmt_t *t = &s->stmts[s->nstmts++];
    t->sig = spate_xstrdup(s->sig.data);
    t->p = p;
    t->q = spate_cql_query_new_prepared(p);
    if (s->j->conf->sink.cql.consistency >= 0)
        spate_cql_query_set_consistency(t->q,
                                        (spate_cql_consistency_t)s->j->conf->sink.cql.consistency);
    return t;
}

static bool bind_one(csink_t *s, cstmt_t *t, int i, const char *col, json_t *x, char *reason,
                     size_t rlen) {
    spate_cql_query_t *q = t->q;
    spate_cql_type_t ty = spate_cql_prepared_param_type(t->p, i);
    spate_status_t st = SPATE_OK;
    if (json_is_null(x)) return spate_cql_query_bind_null(q, i) == SPATE_OK;
    switch (ty) {
    case SPATE_CQL_ASCII:
    case SPATE_CQL_VARCHAR:
        if (json_is_string(x)) {
            st = spate_cql_query_bind_text(q, i, json_string_value(x), json_string_length(x));
        } else {
            spate_buf_reset(&s->text);
            char *txt =
                spate_json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
            st = spate_cql_query_bind_text(q, i, txt ? txt : "", txt ? strlen(txt) : 0);
            free(txt);
        }
        break;
    case SPATE_CQL_UUID:
    case SPATE_CQL_TIMEUUID: {
        uint8_t u[16];
        if (!json_is_string(x) ||
            spate_uuid_parse(json_string_value(x), json_string_length(x), u) != SPATE_OK) {
            snprintf(reason, rlen, "cql sink: column '%s': '%.64s' is not a UUID", col,
                     json_is_string(x) ? json_string_value(x) : "(not text)");
            return false;
        }
        st = spate_cql_query_bind_uuid(q, i, u);
        break;
    }
    case SPATE_CQL_INT:
        if (!json_is_integer(x) || json_integer_value(x) < INT32_MIN ||
            json_integer_value(x) > INT32_MAX) {
            snprintf(reason, rlen, "cql sink: column '%s': not a 32-bit integer", col);
            return false;
        }
        st = spate_cql_query_bind_int(q, i, (int32_t)json_integer_value(x));
        break;
    case SPATE_CQL_BIGINT:
    case SPATE_CQL_COUNTER:
        if (!json_is_integer(x)) {
            snprintf(reason, rlen, "cql sink: column '%s': not an integer", col);
            return false;
        }
        st = spate_cql_query_bind_bigint(q, i, json_integer_value(x));
        break;
    case SPATE_CQL_TIMESTAMP: {
        int64_t ms;
        if (json_is_integer(x)) {
            ms = json_integer_value(x);
        } else if (!json_is_string(x) ||
                   spate_stream_parse_time(json_string_value(x), json_string_length(x), &ms) !=
                       SPATE_OK) {
            snprintf(reason, rlen, "cql sink: column '%s': not a timestamp", col);
            return false;
        }
        st = spate_cql_query_bind_timestamp(q, i, ms);
        break;
    }
    case SPATE_CQL_DOUBLE:
    case SPATE_CQL_FLOAT:
        if (!json_is_number(x)) {
            snprintf(reason, rlen, "cql sink: column '%s': not a number", col);
            return false;
        }
        st = ty == SPATE_CQL_DOUBLE ? spate_cql_query_bind_double(q, i, json_number_value(x))
                                    : spate_cql_query_bind_float(q, i, (float)json_number_value(x));
        break;
    case SPATE_CQL_BOOLEAN:
        if (!json_is_boolean(x)) {
            snprintf(reason, rlen, "cql sink: column '%s': not a boolean", col);
            return false;
        }
        st = spate_cql_query_bind_bool(q, i, json_is_true(x));
        break;
    default:
        snprintf(reason, rlen, "cql sink: column '%s': type %s is not supported", col,
                 spate_cql_type_name(ty) ? spate_cql_type_name(ty) : "?");
        return false;
    }
    if (st != SPATE_OK) {
        snprintf(reason, rlen, "cql sink: column '%s': cannot bind (%s)", col,
                 spate_status_str(st));
        return false;
    }
    return true;
}

/* Binds v's fields to t's markers in t->q; false with the record's
 * fault in reason. */
static bool bind_json(csink_t *s, cstmt_t *t, json_t *v, char *reason, size_t rlen) {
    spate_cql_query_clear(t->q);
    const char *k;
    json_t *x;
    int i = 0;
    json_object_foreach(v, k, x) {
        if (!bind_one(s, t, i, k, x, reason, rlen)) {
            spate_cql_query_clear(t->q);
            return false;
        }
        i++;
    }
    return true;
}

/* Binds the values r kept back into its statement's query. */
static void bind_kept(creq_t *r, cstmt_t *t) {
    spate_cql_query_clear(t->q);
    const char *p = r->vals;
    for (uint32_t i = 0; i < r->nvals; i++) {
        int32_t len;
        memcpy(&len, p, sizeof len);
        p += sizeof len;
        (void)spate_cql_query_bind(t->q, (int)i, len > 0 ? p : NULL, len); /* bound before */
        if (len > 0) p += len;
    }
}

/* Submits t->q (bound) for r; settles or schedules r on failure. */
static void req_submit(creq_t *r, cstmt_t *t) {
    csink_t *s = r->s;
    char reason[300];
    r->tries++;
    spate_status_t st = spate_cql_client_submit(s->cl, t->q, on_answer, r);
    spate_cql_query_clear(t->q);
    if (st == SPATE_OK) return;
    snprintf(reason, sizeof reason, "cql sink: %s", spate_cql_client_error(s->cl));
    if (st == SPATE_EINVAL)
        req_fail(r, reason);
    else
        req_retry(r, reason);
}

/* Another try of r. */
static void req_send(creq_t *r) {
    csink_t *s = r->s;
    if (!r->value) {
        cstmt_t *t = &s->stmts[r->stmt];
        bind_kept(r, t);
        req_submit(r, t);
        return;
    }
    char reason[300];
    bool io = false;
    cstmt_t *t = stmt_for(s, r->value, &io, reason, sizeof reason);
    if (!t) {
        r->tries++;
        if (io)
            req_retry(r, reason);
        else
            req_fail(r, reason);
        return;
    }
    if (!bind_json(s, t, r->value, reason, sizeof reason)) {
        req_fail(r, reason);
        return;
    }
    req_submit(r, t);
}

/* A request for the record m, in one allocation with its bound values
 * (t's query, when t is not NULL) and m's key and value. */
static creq_t *req_new(csink_t *s, srun_token_t tok, const rd_kafka_message_t *m, cstmt_t *t) {
    int n = t ? spate_cql_query_nvalues(t->q) : 0;
    size_t vlen = 0;
    for (int i = 0; i < n; i++) {
        const void *p;
        int32_t len;
        (void)spate_cql_query_value(t->q, i, &p, &len);
        vlen += sizeof len + (len > 0 ? (size_t)len : 0);
    }
    size_t klen = m->key ? m->key_len : 0, plen = m->payload ? m->len : 0;
    size_t need = vlen + klen + plen;
    creq_t *r;
    if (need <= REQ_ROOM && s->spare) { /* glibc's thread cache stops at ~1 KiB */
        r = s->spare;
        s->spare = r->next;
        s->nspare--;
    } else {
        size_t room = need <= REQ_ROOM ? REQ_ROOM : need;
        r = spate_xmalloc(sizeof *r + room);
        r->room = room;
    }
    memset(r, 0, offsetof(creq_t, reason));
    r->reason[0] = '\0';
    r->s = s;
    r->tok = tok;
    r->stmt = t ? (int)(t - s->stmts) : -1;
    r->nvals = (uint32_t)n;
    char *o = r->mem;
    r->vals = o;
    for (int i = 0; i < n; i++) {
        const void *p;
        int32_t len;
        (void)spate_cql_query_value(t->q, i, &p, &len);
        memcpy(o, &len, sizeof len);
        o += sizeof len;
        if (len > 0) {
            memcpy(o, p, (size_t)len);
            o += len;
        }
    }
    if (m->key) {
        r->orig.key = memcpy(o, m->key, klen);
        r->orig.klen = klen;
        o += klen;
    }
    if (m->payload) {
        r->orig.val = memcpy(o, m->payload, plen);
        r->orig.vlen = plen;
    }
    r->start_ns = spate_mono_ns();
    return r;
}

/* Binds the record at once and keeps only its bound values (the JSON
 * tree is the caller's again as soon as this returns: with hundreds of
 * records in flight, keeping the trees made the job's memory outgrow the
 * CPU caches and cost more per record the larger the window). */
static void csink_write(void *state, json_t *value, const rd_kafka_message_t *m, srun_token_t tok) {
    csink_t *s = state;
    char reason[300];
    bool io = false;
    cstmt_t *t = stmt_for(s, value, &io, reason, sizeof reason);
    if ((!t && !io) || (t && !bind_json(s, t, value, reason, sizeof reason))) {
        srun_fail(s->j, tok, reason, m->key, m->key ? m->key_len : 0, m->payload,
                  m->payload ? m->len : 0);
        return;
    }
    creq_t *r = req_new(s, tok, m, t);
    if (!t) { /* no statement yet (the store is away): try again later */
        r->value = json_incref(value);
        r->tries++;
        req_retry(r, reason);
        return;
    }
    req_submit(r, t);
}

static void csink_poll(void *state, int timeout_ms) {
    csink_t *s = state;
    if (s->nretry) {
        int64_t now = spate_mono_ms();
        creq_t *due = NULL, **pp = &s->retry_head;
        while (*pp) {
            creq_t *r = *pp;
            if (r->due_ms <= now) {
                *pp = r->next;
                r->next = due;
                due = r;
                s->nretry--;
            } else {
                pp = &r->next;
            }
        }
        while (due) {
            creq_t *r = due;
            due = r->next;
            r->next = NULL;
            req_send(r);
        }
        if (s->nretry && timeout_ms > 0 && spate_cql_client_in_flight(s->cl) == 0) {
            spate_sleep_ms(SPATE_MIN(timeout_ms, 5));
            return;
        }
    }
    spate_cql_client_poll(s->cl, timeout_ms);
}

static void csink_close(void *state) {
    csink_t *s = state;
    spate_cql_client_free(s->cl); /* fails what is in flight: they go to the retry list */
    while (s->retry_head) {
        creq_t *r = s->retry_head;
        s->retry_head = r->next;
        req_free(r); /* unsettled: the offset was not committed past it */
    }
    for (int i = 0; i < s->nstmts; i++) {
        free(s->stmts[i].sig);
        spate_cql_query_free(s->stmts[i].q);
    }
    while (s->spare) {
        creq_t *r = s->spare;
        s->spare = r->next;
        free(r);
    }
    spate_buf_free(&s->sig);
    spate_buf_free(&s->text);
    free(s);
}

const srun_sink_ops_t srun_sink_cql = {
    .name = "cql",
    .open = csink_open,
    .write = csink_write,
    .poll = csink_poll,
    .flush = NULL,
    .close = csink_close,
};
