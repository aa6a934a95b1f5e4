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
 * write_flat (the flat path, stream.h) binds a record given as plain
 * string fields when they are the last statement's column list and its
 * columns are text or uuid — the same bytes bind_one would bind from the
 * tree; otherwise it declines and the job hands over the tree (write).
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
 * Batches (batch_rows > 1): the rows of one partition that arrive in one
 * turn of the job's loop go to the store as one unlogged BATCH — one
 * request, one mutation on the replica that owns the partition — as
 * Spark's Cassandra connector groups them. Rows of different partitions
 * are never batched together (that only moves the fan-out to the
 * coordinator). A record is bound at write and its request parked in its
 * partition's group; a group is sent when it has batch_rows rows, when
 * the next row would take it past batch_bytes of bound values, when a
 * row for a row key (partition + clustering columns) already in it comes
 * (the rows of a batch share one timestamp, so the later record must go
 * in a later request to win), and at the end of the turn (poll, flush). A
 * group of one row is a plain EXECUTE. The primary key comes from
 * system_schema.columns, asked with the first statement (again every
 * KEYS_AGAIN_MS while the store does not answer); while it is unknown, or
 * when the table has no clustering columns (a partition is one row, as in
 * the seed's table: nothing to batch), records are not parked at all but
 * sent as they are written — after the parked ones, which hold earlier
 * timestamps. A batch answered Invalid is split: each of its rows is sent
 * again alone at once (not counted as a try), so only a bad row is
 * dead-lettered; a batch that failed otherwise has its rows retried one
 * by one with backoff.
 *
 * Timestamps (client, the default): a request carries the time its
 * record was written to the sink (µs, strictly increasing in this sink),
 * a batch its latest row's, kept across retries; so the later record of a
 * row wins whatever order its writes land in. That needs every later
 * record of a row in a batch to be stamped after the batch: a same-row
 * record seals the batch, and an unparked record sends every batch first.
 */
#include "stream_run_int.h"
#include "source.h" /* spate_json_dumps */

#include "cql.h"

#include <ctype.h>
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
    struct creq *next; /* spare list, retry list, or its group / batch */
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
    /* batching: the partition key's bound values ([i32 len][bytes] per
     * column, gklen bytes) then the clustering columns' (up to rklen), in
     * mem; rklen 0 when the record is not batched */
    const char *gkey;
    uint32_t gklen, rklen;
    uint32_t vbytes; /* bound value bytes */
    int64_t ts_us;   /* the write's timestamp (client timestamps), else INT64_MIN */
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
    char *sig;    /* "c1,c2,..." */
    size_t *lens; /* the length of each name in sig */
    size_t ncols; /* names in sig */
    spate_cql_prepared_t *p;
    spate_cql_query_t *q; /* scratch: bound, submitted (copied), cleared */
    int *keym;            /* marker of each primary key column (csink_t.keys), or NULL:
                             records of this statement are not batched */
} cstmt_t;

/* A partition's group of parked requests (one turn); a slot is in use
 * while klen > 0, even with its group sent. */
typedef struct {
    uint64_t h;
    uint32_t koff, klen; /* the partition key, in csink_t.gkeys */
    creq_t *head, *tail;
    int n;
    size_t bytes;
} cgroup_t;

#define GROUP_SLOTS 4096 /* power of two; at most half used, then every group is sent */

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
    /* batching (batch_rows > 1): the table's primary key columns, partition
     * key first (npk of them), then clustering; keys_state 0 not asked yet,
     * 1 known, -1 unknown (no batches) */
    char **keys;
    int nkeys, npk, keys_state;
    int64_t keys_again_ms;    /* keys_state 0 after a failed read: not asked before this */
    spate_cql_query_t *batch; /* scratch */
    cgroup_t *groups;         /* [GROUP_SLOTS] */
    uint32_t *used;           /* slots in use, in the order they were taken */
    int nused;
    spate_buf_t gkeys, key; /* the turn's partition keys; a record's keys */
    int64_t last_ts;        /* the last write timestamp given (client timestamps) */
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
    if (sc->cql.batch_rows > 1) {
        s->batch = spate_cql_batch_new(SPATE_CQL_BATCH_TYPE_UNLOGGED);
        if (sc->cql.consistency >= 0)
            spate_cql_query_set_consistency(s->batch, (spate_cql_consistency_t)sc->cql.consistency);
        s->groups = spate_xcalloc(GROUP_SLOTS, sizeof *s->groups);
        s->used = spate_xmalloc(GROUP_SLOTS / 2 * sizeof *s->used);
    }
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

/* Puts r on the retry list, to be sent (alone) at due_ms. */
static void retry_push(creq_t *r, int64_t due_ms) {
    csink_t *s = r->s;
    r->due_ms = due_ms;
    r->next = s->retry_head;
    s->retry_head = r;
    s->nretry++;
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
    retry_push(r, spate_mono_ms() + delay);
}

typedef enum { ANS_STORED, ANS_RETRY, ANS_REFUSED } ans_t;

/* What an answer means for the rows of its request (reason set unless
 * stored); frees a. Invalid (0x2200) is the record's fault; the rest —
 * timeouts, lost connections, Unavailable, Overloaded, IsBootstrapping,
 * server errors, and configuration problems an operator may fix — are
 * worth another try. */
static ans_t answer_outcome(spate_status_t st, spate_cql_answer_t *a, char *reason, size_t rlen) {
    if (st != SPATE_OK) {
        snprintf(reason, rlen, "%s",
                 st == SPATE_ETIMEDOUT ? "request timed out" : "connection lost");
        return ANS_RETRY;
    }
    ans_t out = ANS_STORED;
    if (spate_cql_answer_kind(a) == SPATE_CQL_ANSWER_ERROR) {
        char text[256];
        spate_cql_answer_error_text(a, text, sizeof text);
        snprintf(reason, rlen, "cql sink: %s", text);
        out = spate_cql_answer_error_code(a) == 0x2200 ? ANS_REFUSED : ANS_RETRY;
    }
    spate_cql_answer_free(a);
    return out;
}

/* r stored: settled, its latency from its first write. */
static void req_stored(creq_t *r, int64_t now_ns) {
    r->s->j->c.out++;
    srun_ack(r->s->j, r->tok, now_ns - r->start_ns);
    req_free(r);
}

static void on_answer(void *ctx, spate_status_t st, spate_cql_answer_t *a) {
    creq_t *r = ctx;
    char reason[300];
    switch (answer_outcome(st, a, reason, sizeof reason)) {
    case ANS_STORED: req_stored(r, spate_mono_ns()); break;
    case ANS_RETRY: req_retry(r, reason); break;
    case ANS_REFUSED: req_fail(r, reason); break;
    }
}

/* The answer to a batch: every row of it (head and its next chain) is
 * settled, or tried again alone — a refusal (Invalid) may be one row's
 * fault, or the batch's size: each row alone finds out which. */
static void on_batch(void *ctx, spate_status_t st, spate_cql_answer_t *a) {
    creq_t *head = ctx;
    char reason[300] = "";
    ans_t out = answer_outcome(st, a, reason, sizeof reason);
    int64_t now_ns = spate_mono_ns(), now_ms = spate_mono_ms();
    for (creq_t *r = head, *next; r; r = next) {
        next = r->next;
        r->next = NULL;
        if (out == ANS_STORED) {
            req_stored(r, now_ns);
        } else if (out == ANS_REFUSED) {
            r->tries--; /* the split is not a try of the row */
            retry_push(r, now_ms);
        } else {
            req_retry(r, reason);
        }
    }
}

/* Whether k is t's column i, *p at that name in t->sig (moved past it
 * when so). Equal to a name of sig, which has no comma: no comma in k. */
static bool col_is(const cstmt_t *t, size_t i, const char **p, const char *k, size_t kn) {
    if (i >= t->ncols || kn != t->lens[i] || memcmp(*p, k, kn) != 0) return false;
    *p += kn + 1;
    return true;
}

/* Whether v's keys, in their order, are t's column list (sig). */
static bool sig_matches(const cstmt_t *t, json_t *v) {
    const char *p = t->sig;
    size_t i = 0;
    for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it), i++)
        if (!col_is(t, i, &p, json_object_iter_key(it), json_object_iter_key_len(it))) return false;
    return i == t->ncols;
}

/* Reads the table's primary key columns from system_schema.columns
 * (Cassandra's and spate cql's): partition key columns, then clustering
 * ones, each by position. keys_state -1 (no batches) when the store
 * answers but they cannot be had (no such table there, no clustering
 * columns); 0 again, to be asked KEYS_AGAIN_MS later, when it did not
 * answer. */
#define KEYS_AGAIN_MS 10000
static void load_keys(csink_t *s) {
    const spate_stream_sink_conf_t *sc = &s->j->conf->sink;
    s->keys_state = -1;
    spate_buf_reset(&s->text);
    /* unquoted in the INSERT, so folded to lower case by the store */
    spate_buf_puts(&s->text, "SELECT column_name, kind, position FROM system_schema.columns "
                             "WHERE keyspace_name = '");
    for (const char *c = sc->cql.keyspace; *c; c++) spate_buf_putc(&s->text, (char)tolower(*c));
    spate_buf_puts(&s->text, "' AND table_name = '");
    for (const char *c = sc->cql.table; *c; c++) spate_buf_putc(&s->text, (char)tolower(*c));
    spate_buf_puts(&s->text, "'");
    spate_cql_answer_t *a = NULL;
    spate_status_t st = spate_cql_client_query(s->cl, s->text.data, &a);
    if (st != SPATE_OK) {
        bool again = st != SPATE_ERR; /* no answer (an ERROR answer is for good) */
        spate_log(SPATE_LOG_WARN, LOGC,
                  "job %s: cannot read the primary key of %s.%s (%s): rows are sent one by "
                  "one%s",
                  s->j->conf->name, sc->cql.keyspace, sc->cql.table, spate_cql_client_error(s->cl),
                  again ? " until it can be read (asked again in 10 s)" : "");
        spate_cql_answer_free(a);
        if (again) {
            s->keys_state = 0;
            s->keys_again_ms = spate_mono_ms() + KEYS_AGAIN_MS;
        }
        return;
    }
    int32_t n = spate_cql_answer_rows(a);
    int cn = spate_cql_answer_column_index(a, "column_name"),
        ck = spate_cql_answer_column_index(a, "kind"),
        cp = spate_cql_answer_column_index(a, "position");
    char **keys = spate_xcalloc((size_t)SPATE_MAX(n, 1), sizeof *keys);
    int npk = 0, nck = 0;
    /* two passes: partition key columns at their position, then clustering
     * ones after them */
    for (int pass = 0; pass < 2; pass++) {
        const char *want = pass == 0 ? "partition_key" : "clustering";
        for (int32_t r = 0; r < n; r++) {
            const char *name, *kind;
            size_t nn, kn;
            int32_t pos;
            if (spate_cql_answer_get_text(a, r, cn, &name, &nn) != SPATE_OK ||
                spate_cql_answer_get_text(a, r, ck, &kind, &kn) != SPATE_OK ||
                spate_cql_answer_get_int(a, r, cp, &pos) != SPATE_OK)
                continue;
            if (kn != strlen(want) || memcmp(kind, want, kn) != 0) continue;
            int at = (pass == 0 ? 0 : npk) + pos;
            if (pos < 0 || at >= n || keys[at]) continue;
            keys[at] = spate_xmalloc(nn + 1);
            memcpy(keys[at], name, nn);
            keys[at][nn] = '\0';
            if (pass == 0)
                npk++;
            else
                nck++;
        }
    }
    spate_cql_answer_free(a);
    bool whole = npk > 0;
    for (int i = 0; i < npk + nck; i++) whole = whole && keys[i] != NULL;
    if (!whole) {
        spate_log(SPATE_LOG_WARN, LOGC,
                  "job %s: no primary key of %s.%s in system_schema.columns: rows are sent one "
                  "by one",
                  s->j->conf->name, sc->cql.keyspace, sc->cql.table);
        for (int32_t i = 0; i < n; i++) free(keys[i]);
        free(keys);
        return;
    }
    if (nck == 0) { /* a partition is one row: its records never share a batch */
        spate_log(SPATE_LOG_DEBUG, LOGC, "job %s: %s.%s has no clustering columns: no batches",
                  s->j->conf->name, sc->cql.keyspace, sc->cql.table);
        for (int i = 0; i < npk; i++) free(keys[i]);
        free(keys);
        return;
    }
    s->keys = keys;
    s->nkeys = npk + nck;
    s->npk = npk;
    s->keys_state = 1;
}

/* t's markers of the primary key columns, when it binds all of them (a
 * statement without one is refused by the store: its rows go alone). */
static void stmt_keys(csink_t *s, cstmt_t *t) {
    if (s->keys_state == 0 && spate_mono_ms() >= s->keys_again_ms) load_keys(s);
    if (s->keys_state <= 0) return;
    int *m = spate_xmalloc((size_t)s->nkeys * sizeof *m);
    for (int i = 0; i < s->nkeys; i++) {
        if ((m[i] = spate_cql_prepared_param_index(t->p, s->keys[i])) < 0) {
            free(m);
            return;
        }
    }
    t->keym = m;
}

/* The statement for v's column list (prepared on first use). NULL with
 * the reason, and *io set when it is worth a retry (the store could not
 * be asked) rather than the record's fault. */
static cstmt_t *stmt_for(csink_t *s, json_t *v, bool *io, char *reason, size_t rlen) {
    /* records of one shape: the last statement, without building the list */
    if (s->nstmts && sig_matches(&s->stmts[s->last], v)) return &s->stmts[s->last];
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
    t->ncols = 0;
    t->lens = spate_xmalloc(json_object_size(v) * sizeof *t->lens);
    for (const char *c = t->sig, *e; *c; c = *e ? e + 1 : e) {
        e = strchrnul(c, ',');
        t->lens[t->ncols++] = (size_t)(e - c);
    }
    t->p = p;
    t->q = spate_cql_query_new_prepared(p);
    t->keym = NULL;
    if (s->j->conf->sink.cql.consistency >= 0)
        spate_cql_query_set_consistency(t->q,
                                        (spate_cql_consistency_t)s->j->conf->sink.cql.consistency);
    if (s->batch) stmt_keys(s, t); /* may poll: t is complete by now */
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
    spate_cql_query_set_timestamp(t->q, r->ts_us);
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
 * (t's query, when t is not NULL), m's key and value, and its primary key
 * values for batching (keys: gklen bytes of partition key, then the
 * clustering columns'; NULL when not batched). */
static creq_t *req_new(csink_t *s, srun_token_t tok, const rd_kafka_message_t *m, cstmt_t *t,
                       const spate_buf_t *keys, uint32_t gklen) {
    int n = t ? spate_cql_query_nvalues(t->q) : 0;
    size_t vlen = 0;
    for (int i = 0; i < n; i++) {
        const void *p;
        int32_t len;
        (void)spate_cql_query_value(t->q, i, &p, &len);
        vlen += sizeof len + (len > 0 ? (size_t)len : 0);
    }
    size_t klen = m->key ? m->key_len : 0, plen = m->payload ? m->len : 0;
    size_t need = vlen + klen + plen + (keys ? keys->len : 0);
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
    r->vbytes = (uint32_t)vlen;
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
        o += plen;
    }
    if (keys) {
        r->gkey = memcpy(o, keys->data, keys->len);
        r->gklen = gklen;
        r->rklen = (uint32_t)keys->len;
    }
    r->start_ns = spate_mono_ns();
    r->ts_us = INT64_MIN; /* the store's clock */
    if (!s->j->conf->sink.cql.server_timestamps) {
        int64_t now = spate_wall_us();
        r->ts_us = s->last_ts = now > s->last_ts ? now : s->last_ts + 1;
    }
    return r;
}

/* ---- batches: a turn's rows grouped by partition ---- */

/* The bound values of t's primary key markers into s->key, partition key
 * first: its length in *gklen. */
static void record_keys(csink_t *s, const cstmt_t *t, uint32_t *gklen) {
    spate_buf_reset(&s->key);
    for (int i = 0; i < s->nkeys; i++) {
        if (i == s->npk) *gklen = (uint32_t)s->key.len;
        const void *p = NULL;
        int32_t len = -1;
        (void)spate_cql_query_value(t->q, t->keym[i], &p, &len); /* bound: all markers are */
        spate_buf_append(&s->key, &len, sizeof len);
        if (len > 0) spate_buf_append(&s->key, p, (size_t)len);
    }
    if (s->npk == s->nkeys) *gklen = (uint32_t)s->key.len;
}

static uint64_t fnv1a(const char *p, size_t n) {
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

/* r's partition's group (a new one if it has none this turn); NULL when
 * half the slots are taken. */
static cgroup_t *group_of(csink_t *s, const creq_t *r) {
    uint64_t h = fnv1a(r->gkey, r->gklen);
    for (uint32_t i = (uint32_t)h & (GROUP_SLOTS - 1);; i = (i + 1) & (GROUP_SLOTS - 1)) {
        cgroup_t *g = &s->groups[i];
        if (g->klen == 0) {
            if (s->nused == GROUP_SLOTS / 2) return NULL;
            g->h = h;
            g->koff = (uint32_t)s->gkeys.len;
            g->klen = r->gklen;
            spate_buf_append(&s->gkeys, r->gkey, r->gklen);
            s->used[s->nused++] = i;
            return g;
        }
        if (g->h == h && g->klen == r->gklen && !memcmp(s->gkeys.data + g->koff, r->gkey, g->klen))
            return g;
    }
}

/* Sends g's rows: one alone as a plain EXECUTE, more as one unlogged
 * batch. g is empty afterwards (its slot still the partition's). */
static void group_send(csink_t *s, cgroup_t *g) {
    creq_t *head = g->head;
    int n = g->n;
    g->head = g->tail = NULL;
    g->n = 0;
    g->bytes = 0;
    if (!head) return;
    if (n == 1) {
        cstmt_t *t = &s->stmts[head->stmt];
        bind_kept(head, t);
        req_submit(head, t);
        return;
    }
    spate_cql_query_clear(s->batch);
    int64_t ts = INT64_MIN; /* one for the batch: its latest row's */
    for (creq_t *r = head; r; r = r->next) {
        cstmt_t *t = &s->stmts[r->stmt];
        ts = SPATE_MAX(ts, r->ts_us);
        bind_kept(r, t);
        (void)spate_cql_batch_add(s->batch, t->q); /* at most batch_rows <= 65535 */
        spate_cql_query_clear(t->q);
        r->tries++;
    }
    spate_cql_query_set_timestamp(s->batch, ts);
    spate_status_t st = spate_cql_client_submit(s->cl, s->batch, on_batch, head);
    spate_cql_query_clear(s->batch);
    if (st == SPATE_OK) {
        s->j->c.batches++;
        s->j->c.batched_rows += (uint64_t)n;
        return;
    }
    /* not sent: each row alone, later (EINVAL: at once, to find the row
     * that cannot be sent) */
    char reason[300];
    snprintf(reason, sizeof reason, "cql sink: %s", spate_cql_client_error(s->cl));
    int64_t now = spate_mono_ms();
    for (creq_t *r = head, *next; r; r = next) {
        next = r->next;
        r->next = NULL;
        if (st == SPATE_EINVAL) {
            r->tries--;
            retry_push(r, now);
        } else {
            req_retry(r, reason);
        }
    }
}

/* Sends every group of the turn and forgets the turn's partitions. */
static void groups_send(csink_t *s) {
    if (!s->nused) return;
    /* group_send may poll (a full window) and run completions, which
     * never park rows: the slots stay as they are meanwhile */
    for (int i = 0; i < s->nused; i++) group_send(s, &s->groups[s->used[i]]);
    for (int i = 0; i < s->nused; i++) s->groups[s->used[i]].klen = 0;
    s->nused = 0;
    spate_buf_reset(&s->gkeys);
}

/* Parks r (bound values kept, its statement's query cleared) in its
 * partition's group, sending the group first when r cannot join it. */
static void group_add(csink_t *s, creq_t *r) {
    const spate_stream_sink_conf_t *sc = &s->j->conf->sink;
    cgroup_t *g = group_of(s, r);
    if (!g) {
        groups_send(s);
        g = group_of(s, r);
    }
    bool same_row = false;
    for (creq_t *m = g->head; m && !same_row; m = m->next)
        same_row = m->rklen == r->rklen && !memcmp(m->gkey, r->gkey, r->rklen);
    if (g->n && (same_row || g->bytes + r->vbytes > (size_t)sc->cql.batch_bytes)) group_send(s, g);
    if (g->tail)
        g->tail->next = r;
    else
        g->head = r;
    g->tail = r;
    r->next = NULL;
    g->n++;
    g->bytes += r->vbytes;
    if (g->n >= sc->cql.batch_rows) group_send(s, g);
}

/* Sends (or parks, batched) the record m whose values are bound in t->q. */
static void write_bound(csink_t *s, cstmt_t *t, bool batched, const rd_kafka_message_t *m,
                        srun_token_t tok) {
    uint32_t gklen = 0;
    if (batched) record_keys(s, t, &gklen);
    creq_t *r = req_new(s, tok, m, t, batched ? &s->key : NULL, gklen);
    if (batched) {
        spate_cql_query_clear(t->q);
        group_add(s, r);
        return;
    }
    req_submit(r, t);
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
    bool batched = t && t->keym;
    /* A record sent unparked (a statement without the key, none prepared
     * yet) takes a later timestamp than every parked one: they go first,
     * or a batch stamped later than it could hold an earlier record of its
     * row. Before the bind: sending binds the statements' queries. */
    if (!batched) groups_send(s);
    if ((!t && !io) || (t && !bind_json(s, t, value, reason, sizeof reason))) {
        srun_fail(s->j, tok, reason, m->key, m->key ? m->key_len : 0, m->payload,
                  m->payload ? m->len : 0);
        return;
    }
    if (!t) { /* no statement yet (the store is away): try again later */
        creq_t *r = req_new(s, tok, m, NULL, NULL, 0);
        r->value = json_incref(value);
        r->tries++;
        req_retry(r, reason);
        return;
    }
    write_bound(s, t, batched, m, tok);
}

/* The flat path: a record of the last statement's column list, each a
 * text column given a string or a uuid column given a UUID, is bound
 * straight from the message's bytes — what bind_one does with the tree of
 * the same record. Anything else (another column list, another column
 * type, a value bind_one would refuse) is left to csink_write, having
 * changed nothing csink_write would not change the same way (at most the
 * groups_send it does first too). */
static bool csink_write_flat(void *state, const spate_json_field_t *f, size_t n,
                             const rd_kafka_message_t *m, srun_token_t tok) {
    csink_t *s = state;
    if (!s->nstmts) return false;
    cstmt_t *t = &s->stmts[s->last];
    if (n != t->ncols) return false;
    const char *p = t->sig;
    uint8_t u[SPATE_STREAM_FLAT_MAX][16];
    for (size_t i = 0; i < n; i++) {
        if (!col_is(t, i, &p, f[i].k, f[i].kn)) return false;
        spate_cql_type_t ty = spate_cql_prepared_param_type(t->p, (int)i);
        if (ty == SPATE_CQL_UUID || ty == SPATE_CQL_TIMEUUID) {
            if (spate_uuid_parse(f[i].v, f[i].vn, u[i]) != SPATE_OK) return false;
        } else if (ty != SPATE_CQL_VARCHAR) {
            return false;
        }
    }
    bool batched = t->keym != NULL;
    if (!batched) groups_send(s); /* as csink_write, before the bind */
    spate_cql_query_clear(t->q);
    for (size_t i = 0; i < n; i++) {
        spate_cql_type_t ty = spate_cql_prepared_param_type(t->p, (int)i);
        spate_status_t st = ty == SPATE_CQL_VARCHAR
                                ? spate_cql_query_bind_text(t->q, (int)i, f[i].v, f[i].vn)
                                : spate_cql_query_bind_uuid(t->q, (int)i, u[i]);
        if (st != SPATE_OK) { /* csink_write binds again and says why */
            spate_cql_query_clear(t->q);
            return false;
        }
    }
    write_bound(s, t, batched, m, tok);
    return true;
}

static void csink_flush(void *state) { groups_send(state); }

static void csink_poll(void *state, int timeout_ms) {
    csink_t *s = state;
    groups_send(s); /* the turn's writes are over */
    if (s->batch && s->keys_state == 0 && s->nstmts && spate_mono_ms() >= s->keys_again_ms) {
        load_keys(s); /* the last read got no answer: the statements so far batch now */
        for (int i = 0; i < s->nstmts && s->keys_state > 0; i++)
            if (!s->stmts[i].keym) stmt_keys(s, &s->stmts[i]);
    }
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
    spate_cql_client_free(s->cl);        /* fails what is in flight: they go to the retry list */
    for (int i = 0; i < s->nused; i++) { /* parked rows (none after the job's final drain) */
        for (creq_t *r = s->groups[s->used[i]].head, *next; r; r = next) {
            next = r->next;
            req_free(r); /* unsettled: the offset was not committed past it */
        }
    }
    while (s->retry_head) {
        creq_t *r = s->retry_head;
        s->retry_head = r->next;
        req_free(r); /* unsettled: the offset was not committed past it */
    }
    for (int i = 0; i < s->nstmts; i++) {
        free(s->stmts[i].sig);
        free(s->stmts[i].lens);
        free(s->stmts[i].keym);
        spate_cql_query_free(s->stmts[i].q);
    }
    for (int i = 0; i < s->nkeys; i++) free(s->keys[i]);
    free(s->keys);
    free(s->groups);
    free(s->used);
    spate_cql_query_free(s->batch);
    spate_buf_free(&s->gkeys);
    spate_buf_free(&s->key);
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
    .write_flat = csink_write_flat,
    .poll = csink_poll,
    .flush = csink_flush,
    .close = csink_close,
};
