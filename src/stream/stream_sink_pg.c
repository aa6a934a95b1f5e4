/*
 * stream_sink_pg.c — the PostgreSQL sink: records upserted by key through
 * libpq, or bulk-loaded with COPY.
 *
 * A record's keys are its column names (identifiers, not quoted, so
 * PostgreSQL folds them to lower case). Values go as text parameters:
 * strings as they are, JSON null as SQL NULL, true/false, numbers and
 * nested values as compact JSON text; the server casts them to the
 * column types (uuid, int, jsonb, timestamptz...). The table must exist
 * (the sink creates nothing).
 *
 * Rows wait in a FIFO (`pending`) and leave it in batches of up to BATCH
 * rows of one connection:
 *
 *   mode upsert (pipeline mode, up to WINDOW batches in flight):
 *     [Parse "sN" (first use of a column list on this connection)]
 *     Execute sN(row 1) ... Execute sN(row k)      one implicit transaction
 *     Sync ───────────────────────────────────────▶ PGRES_PIPELINE_SYNC:
 *                                                   committed, ack the k rows
 *     sN = INSERT INTO t (cols) VALUES ($1..) ON CONFLICT (key)
 *          DO UPDATE SET c = EXCLUDED.c, ...        (DO NOTHING: only keys)
 *
 *   mode copy (COPY cannot be pipelined: one batch at a time):
 *     step 1  [ROLLBACK;] BEGIN; CREATE TEMP TABLE IF NOT EXISTS
 *             spate_copy_stage (LIKE t INCLUDING DEFAULTS, spate_seq bigint)
 *             ON COMMIT DELETE ROWS; COPY spate_copy_stage (cols, spate_seq)
 *             FROM STDIN        ──▶ COPY_IN: the rows as COPY text, end
 *     step 2  INSERT INTO t (cols) SELECT DISTINCT ON (key) cols FROM stage
 *             ORDER BY key, spate_seq DESC ON CONFLICT (key) DO UPDATE ...;
 *             COMMIT            ──▶ ack the batch
 *     Without `key`: BEGIN; COPY t (cols) FROM STDIN, then COMMIT — plain
 *     appends, so a replay after a crash may duplicate rows unless the
 *     table has a unique key (then the replayed batch fails: see below).
 *     A copy batch holds one column list (a new list starts a new batch).
 *
 * Failures of a batch (the whole transaction was rolled back):
 *   - SQLSTATE class 22 (data exception), 23 (integrity), 42703 (no such
 *     column), 42804 (datatype mismatch) and 22P02 etc. name the row's own
 *     fault. When the failing row is known (its Execute in upsert mode,
 *     "line N" in a COPY's context) it goes to the dead-letter path with
 *     "postgres sink: SQLSTATE xxxxx: message" and the other rows are
 *     queued again at the front; when it is not known, every row of the
 *     batch is queued again as a batch of its own (`solo`) to find it.
 *   - anything else (a missing table, a shutdown, serialization...) puts
 *     the batch back and waits backoff_ms (doubled up to backoff_max_ms).
 *   - a lost connection puts back every batch in flight, in order; the
 *     sink reconnects after the backoff and sends them again (at-least-
 *     once; upserts by key make the replay leave the table as it was).
 * delivery.retries does not apply: rows are retried until they succeed or
 * fail for their own reason (an operator fixes the database meanwhile).
 *
 * Order: rows of one key must reach the table in offset order (the last
 * write wins). When an upsert batch fails, later batches may already be
 * in flight, and may commit: so from a failure on, sending stops, the
 * failed batch's rows and every later batch's rows (committed or not)
 * gather in `redo`, in order, and when nothing is in flight any more they
 * go back to the front of the queue in that order. A committed row is
 * written twice then, which an upsert makes harmless.
 *
 * Invariants: a row is in exactly one place (pending, redo, or one
 * in-flight batch) until it is settled; in-flight batches are in send
 * order, which is the order results arrive in; redo rows are older than
 * every in-flight and pending row.
 */
#include "stream_run_int.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define LOGC "stream"
#define BATCH 500     /* rows per transaction */
#define WINDOW 8      /* upsert batches in flight */
#define MAX_STMTS 64  /* distinct column lists kept */
#define MAX_COLS 1600 /* PostgreSQL's own limit */

typedef struct prow {
    struct prow *next;
    srun_token_t tok;
    json_t *value; /* a reference */
    char *key, *val;
    size_t klen, vlen;
    int64_t start_ns;
    bool solo; /* redo alone: an unattributed row error hit its batch */
} prow_t;

typedef struct {
    char *sig;    /* "c1,c2,..." */
    char *insert; /* upsert mode: the INSERT ... ON CONFLICT text */
    int ncols;
    bool prepared; /* on the current connection, as "s<gen>" */
    unsigned gen;  /* its server-side name: never reused on a connection */
} pstmt_t;

/* What a pipelined query's result answers. */
typedef struct {
    int stmt; /* index in stmts */
    int row;  /* index in the batch; -1: the statement's Parse */
} pslot_t;

typedef struct pbatch {
    struct pbatch *next;
    prow_t **rows;
    int n;
    pslot_t *slots;
    int nslots, cur; /* cur: the slot whose results are being read */
    bool cur_seen;   /* a result of slot cur arrived */
    int err_slot;    /* first failed slot, -1 */
    PGresult *err;   /* its result */
    int phase;       /* copy mode: 1 step 1, 2 step 2 */
    bool copy_sent;
} pbatch_t;

typedef struct {
    srun_job_t *j;
    const spate_stream_sink_conf_t *sc;
    bool copy;
    PGconn *conn;
    int64_t backoff_ms, next_try_ms;
    bool need_rollback;  /* copy mode: a failed transaction block is open */
    bool want_write;     /* PQflush said more to send */
    prow_t *head, *tail; /* pending */
    int64_t npending;
    pbatch_t *bhead, *btail; /* in flight */
    int nbatches;
    prow_t **redo; /* upsert mode: rows to send again once none is in flight */
    int nredo, capredo;
    bool redoing; /* a batch failed: send nothing until the in-flight end */
    pstmt_t stmts[MAX_STMTS];
    int nstmts;
    unsigned gen; /* the last statement name handed out */
    spate_buf_t sig, text;
} psink_t;

/* ------------------------------------------------------------------ */
/* Rows and the pending FIFO                                           */
/* ------------------------------------------------------------------ */

static void row_free(prow_t *r) {
    json_decref(r->value);
    free(r->key);
    free(r->val);
    free(r);
}

static void row_fail(psink_t *s, prow_t *r, const char *reason) {
    srun_fail(s->j, r->tok, reason, r->key, r->klen, r->val, r->vlen);
    row_free(r);
}

static void row_ack(psink_t *s, prow_t *r, int64_t now) {
    s->j->c.out++;
    srun_ack(s->j, r->tok, now - r->start_ns);
    row_free(r);
}

static void push_back(psink_t *s, prow_t *r) {
    r->next = NULL;
    if (s->tail)
        s->tail->next = r;
    else
        s->head = r;
    s->tail = r;
    s->npending++;
}

/* Puts rows[0..n) (those not NULL) back at the front, in order. */
static void push_front(psink_t *s, prow_t **rows, int n, bool solo) {
    for (int i = n - 1; i >= 0; i--) {
        prow_t *r = rows[i];
        if (!r) continue;
        r->solo = r->solo || solo;
        r->next = s->head;
        s->head = r;
        if (!s->tail) s->tail = r;
        s->npending++;
    }
}

/* Puts the rows of a failed (or, while redoing, any) batch back: in
 * copy mode at the front (one batch in flight), in upsert mode into redo
 * (rows[i] NULL are skipped). */
static void requeue(psink_t *s, prow_t **rows, int n, bool solo) {
    if (s->copy) {
        push_front(s, rows, n, solo);
        return;
    }
    s->redoing = true;
    for (int i = 0; i < n; i++) {
        if (!rows[i]) continue;
        rows[i]->solo = rows[i]->solo || solo;
        if (s->nredo == s->capredo) {
            s->capredo = s->capredo ? 2 * s->capredo : 1024;
            s->redo = spate_xrealloc(s->redo, (size_t)s->capredo * sizeof *s->redo);
        }
        s->redo[s->nredo++] = rows[i];
    }
}

/* Ends redoing: the redo rows go to the front, in order. */
static void redo_flush(psink_t *s) {
    push_front(s, s->redo, s->nredo, false);
    s->nredo = 0;
    s->redoing = false;
}

static prow_t *pop_front(psink_t *s) {
    prow_t *r = s->head;
    if (!r) return NULL;
    s->head = r->next;
    if (!s->head) s->tail = NULL;
    r->next = NULL;
    s->npending--;
    return r;
}

static void batch_free(pbatch_t *b) {
    if (b->err) PQclear(b->err);
    free(b->rows);
    free(b->slots);
    free(b);
}

static int64_t rows_in_flight(const psink_t *s) {
    int64_t n = 0;
    for (const pbatch_t *b = s->bhead; b; b = b->next) n += b->n;
    return n;
}

/* ------------------------------------------------------------------ */
/* Statements                                                          */
/* ------------------------------------------------------------------ */

static bool is_ident(const char *s) {
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) return false;
    size_t n = 0;
    for (; *s; s++, n++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return n <= 63;
}

static bool is_key(const psink_t *s, const char *col) {
    for (size_t i = 0; i < s->sc->pg.nkey; i++)
        if (!strcasecmp(s->sc->pg.key[i], col)) return true;
    return false;
}

/* "ON CONFLICT (k1, k2) DO UPDATE SET c = EXCLUDED.c, ..." for the
 * columns of v (DO NOTHING when every column is a key). */
static void on_conflict(psink_t *s, spate_buf_t *b, json_t *v) {
    spate_buf_puts(b, " ON CONFLICT (");
    for (size_t i = 0; i < s->sc->pg.nkey; i++)
        spate_buf_printf(b, "%s%s", i ? ", " : "", s->sc->pg.key[i]);
    spate_buf_puts(b, ")");
    bool any = false;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        if (is_key(s, k)) continue;
        spate_buf_printf(b, "%s%s = EXCLUDED.%s", any ? ", " : " DO UPDATE SET ", k, k);
        any = true;
    }
    if (!any) spate_buf_puts(b, " DO NOTHING");
}

/* The statement for v's column list (made on first use), or -1 with the
 * record's fault in reason. */
static int stmt_for(psink_t *s, json_t *v, char *reason, size_t rlen) {
    spate_buf_reset(&s->sig);
    const char *k;
    json_t *x;
    int n = 0;
    json_object_foreach(v, k, x) {
        if (!is_ident(k)) {
            snprintf(reason, rlen, "postgres sink: field '%.64s' is not a column name", k);
            return -1;
        }
        spate_buf_printf(&s->sig, "%s%s", s->sig.len ? "," : "", k);
        n++;
    }
    if (!n || n > MAX_COLS) {
        snprintf(reason, rlen, "postgres sink: the record has %s fields", n ? "too many" : "no");
        return -1;
    }
    for (int i = 0; i < s->nstmts; i++)
        if (!strcmp(s->stmts[i].sig, s->sig.data)) return i;
    if (s->nstmts == MAX_STMTS) {
        snprintf(reason, rlen, "postgres sink: more than %d distinct column lists", MAX_STMTS);
        return -1;
    }
    pstmt_t *t = &s->stmts[s->nstmts];
    t->sig = spate_xstrdup(s->sig.data);
    t->ncols = n;
    if (!s->copy) {
        spate_buf_t q = SPATE_BUF_INIT;
        spate_buf_printf(&q, "INSERT INTO %s (%s) VALUES (", s->sc->pg.table, t->sig);
        for (int i = 1; i <= n; i++) spate_buf_printf(&q, "%s$%d", i > 1 ? ", " : "", i);
        spate_buf_puts(&q, ")");
        if (s->sc->pg.nkey) on_conflict(s, &q, v);
        t->insert = q.data; /* owned */
    }
    return s->nstmts++;
}

/* A JSON value as a text parameter: NULL for null; *tofree is set when
 * the text was allocated (free it after sending). */
static const char *param_text(json_t *x, char **tofree) {
    *tofree = NULL;
    if (json_is_null(x)) return NULL;
    if (json_is_string(x)) return json_string_value(x);
    if (json_is_true(x)) return "true";
    if (json_is_false(x)) return "false";
    *tofree = json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    return *tofree ? *tofree : "";
}

/* ------------------------------------------------------------------ */
/* Connection                                                          */
/* ------------------------------------------------------------------ */

/* libpq's message as one log line: runs of white space (its messages
 * span lines, with tabs) become one space; out is always terminated. */
static void one_line(const char *msg, char *out, size_t n) {
    size_t o = 0;
    bool space = false;
    for (; msg && *msg && o + 1 < n; msg++) {
        if (*msg == '\n' || *msg == '\t' || *msg == '\r' || *msg == ' ') {
            space = o > 0;
            continue;
        }
        if (space && o + 2 < n) out[o++] = ' ';
        space = false;
        out[o++] = *msg;
    }
    out[o] = '\0';
}

/* Drops the connection: every batch in flight goes back to the front of
 * the queue (in order) and the next connect waits the backoff. */
static void conn_drop(psink_t *s, const char *why) {
    const spate_stream_delivery_t *d = &s->j->conf->delivery;
    char msg[512];
    one_line(why, msg, sizeof msg);
    spate_log(SPATE_LOG_WARN, LOGC,
              "job %s: PostgreSQL: %s; %lld rows in flight to send again (%lld waiting), "
              "reconnecting in %lld ms",
              s->j->conf->name, msg, (long long)rows_in_flight(s), (long long)s->npending,
              (long long)s->backoff_ms);
    /* Back to front in reverse, so the oldest batch ends up first. */
    pbatch_t *rev = NULL;
    while (s->bhead) {
        pbatch_t *b = s->bhead;
        s->bhead = b->next;
        b->next = rev;
        rev = b;
    }
    s->btail = NULL;
    s->nbatches = 0;
    while (rev) {
        pbatch_t *b = rev;
        rev = b->next;
        push_front(s, b->rows, b->n, false);
        batch_free(b);
    }
    redo_flush(s); /* older than what was in flight */
    if (s->conn) PQfinish(s->conn);
    s->conn = NULL;
    s->want_write = false;
    s->need_rollback = false;
    s->next_try_ms = spate_mono_ms() + s->backoff_ms;
    s->backoff_ms = SPATE_MIN(s->backoff_ms * 2, d->backoff_max_ms);
}

static void notice_quiet(void *arg, const PGresult *res) {
    SPATE_UNUSED(arg);
    SPATE_UNUSED(res);
}

/* Connects (blocking, at most connect_timeout = 5 s unless the URL says
 * otherwise). False with the reason in err. */
static bool conn_open(psink_t *s, char *err, size_t errlen) {
    const char *const kw[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const val[] = {"5", "spate-stream", s->sc->pg.url, NULL};
    PGconn *c = PQconnectdbParams(kw, val, 1);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        one_line(c ? PQerrorMessage(c) : "out of memory", err, errlen);
        if (c) PQfinish(c);
        return false;
    }
    PQsetNoticeReceiver(c, notice_quiet, NULL);
    if (PQsetnonblocking(c, 1) != 0 || (!s->copy && PQenterPipelineMode(c) != 1)) {
        char msg[400];
        one_line(PQerrorMessage(c), msg, sizeof msg);
        snprintf(err, errlen, "cannot enter non-blocking pipeline mode: %s", msg);
        PQfinish(c);
        return false;
    }
    s->conn = c;
    for (int i = 0; i < s->nstmts; i++) s->stmts[i].prepared = false;
    s->need_rollback = false;
    s->backoff_ms = s->j->conf->delivery.backoff_ms;
    return true;
}

/* Sends what libpq buffered; false when the connection broke. */
static bool conn_flush(psink_t *s) {
    int r = PQflush(s->conn);
    s->want_write = r == 1;
    return r >= 0;
}

/* ------------------------------------------------------------------ */
/* Results: settling a finished batch                                  */
/* ------------------------------------------------------------------ */

static bool row_fault(const char *st) {
    if (!st || strlen(st) != 5) return false;
    return !strncmp(st, "22", 2) || !strncmp(st, "23", 2) || !strcmp(st, "42703") ||
           !strcmp(st, "42804") || !strcmp(st, "21000");
}

static void reason_of(const PGresult *res, char *out, size_t n) {
    const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *det = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    snprintf(out, n, "postgres sink: SQLSTATE %s: %s%s%s", st ? st : "?????",
             msg ? msg : PQresultErrorMessage(res), det ? " — " : "", det ? det : "");
}

/* Retry later: the batch goes back to the front and sending pauses. */
static void batch_retry(psink_t *s, pbatch_t *b, const char *reason) {
    const spate_stream_delivery_t *d = &s->j->conf->delivery;
    spate_log(SPATE_LOG_WARN, LOGC,
              "job %s: PostgreSQL batch of %d rows failed (%s); again in %lld ms", s->j->conf->name,
              b->n, reason, (long long)s->backoff_ms);
    requeue(s, b->rows, b->n, false);
    s->next_try_ms = spate_mono_ms() + s->backoff_ms;
    s->backoff_ms = SPATE_MIN(s->backoff_ms * 2, d->backoff_max_ms);
}

/* The COPY line number in a COPY error's context ("COPY x, line 3..."),
 * 0 when there is none. */
static int copy_line(const PGresult *res) {
    const char *ctx = PQresultErrorField(res, PG_DIAG_CONTEXT);
    const char *p = ctx ? strstr(ctx, ", line ") : NULL;
    if (!p) return 0;
    long v = strtol(p + 7, NULL, 10);
    return v > 0 && v < 1000000 ? (int)v : 0;
}

/* Settles a batch whose transaction ended (committed unless b->err),
 * already out of the in-flight list; frees it. */
static void batch_settle(psink_t *s, pbatch_t *b) {
    if (!b->err && s->redoing) {
        requeue(s, b->rows, b->n, false); /* after an older failed batch */
        batch_free(b);
        return;
    }
    if (!b->err) {
        int64_t now = spate_mono_ns();
        for (int i = 0; i < b->n; i++) row_ack(s, b->rows[i], now);
        s->backoff_ms = s->j->conf->delivery.backoff_ms;
        batch_free(b);
        return;
    }
    char reason[512];
    reason_of(b->err, reason, sizeof reason);
    const char *st = PQresultErrorField(b->err, PG_DIAG_SQLSTATE);
    /* Parses at or after the failure did not happen (an aborted pipeline
     * skips them); prepared statements survive a rollback otherwise. */
    for (int i = b->err_slot >= 0 ? b->err_slot : 0; !s->copy && i < b->nslots; i++)
        if (b->slots[i].row < 0) s->stmts[b->slots[i].stmt].prepared = false;
    if (st && !strcmp(st, "26000")) {
        /* The Parse of an earlier batch failed or was skipped: prepare
         * again (under a new name, so a Parse still in flight cannot
         * collide with it). */
        if (b->err_slot >= 0)
            s->stmts[b->slots[b->err_slot].stmt].prepared = false;
        else
            for (int i = 0; i < s->nstmts; i++) s->stmts[i].prepared = false;
        requeue(s, b->rows, b->n, false);
        batch_free(b);
        return;
    }
    if (!row_fault(st)) {
        batch_retry(s, b, reason);
        batch_free(b);
        return;
    }
    int bad = -1; /* the row at fault, when known */
    bool all = false;
    if (s->copy) {
        int line = copy_line(b->err);
        if (b->phase == 1 && line >= 1 && line <= b->n) bad = line - 1;
        if (st && !strcmp(st, "42703")) all = true; /* one column list per batch */
    } else if (b->err_slot >= 0) {
        pslot_t *sl = &b->slots[b->err_slot];
        if (sl->row >= 0) {
            bad = sl->row;
        } else {
            all = true; /* the Parse: every row of that column list */
        }
    }
    if (b->n == 1) bad = 0;
    if (all) {
        const char *sig = NULL;
        if (!s->copy && b->err_slot >= 0) sig = s->stmts[b->slots[b->err_slot].stmt].sig;
        for (int i = 0; i < b->n; i++) {
            if (sig) {
                char r2[16];
                int k = stmt_for(s, b->rows[i]->value, r2, sizeof r2);
                if (k < 0 || strcmp(s->stmts[k].sig, sig) != 0) continue;
            }
            row_fail(s, b->rows[i], reason);
            b->rows[i] = NULL;
        }
        requeue(s, b->rows, b->n, false);
    } else if (bad >= 0) {
        row_fail(s, b->rows[bad], reason);
        b->rows[bad] = NULL;
        requeue(s, b->rows, b->n, false);
    } else {
        /* The fault is some row's, which one is not known: redo them one
         * per transaction. */
        requeue(s, b->rows, b->n, true);
    }
    batch_free(b);
}

/* A batch's transaction ended: takes it out of the in-flight list and
 * settles it; the last one in flight ends redoing. */
static void batch_done(psink_t *s, pbatch_t *b) {
    s->bhead = b->next;
    if (!s->bhead) s->btail = NULL;
    s->nbatches--;
    batch_settle(s, b);
    if (s->redoing && s->nbatches == 0) redo_flush(s);
}

/* ------------------------------------------------------------------ */
/* Upsert mode: pipelined batches                                      */
/* ------------------------------------------------------------------ */

static void slot_add(pbatch_t *b, int stmt, int row, int cap) {
    if (b->nslots == cap) return; /* cannot happen: cap = 2 * rows */
    b->slots[b->nslots].stmt = stmt;
    b->slots[b->nslots].row = row;
    b->nslots++;
}

/* Sends one batch from the front of the queue. False when the connection
 * broke (the caller drops it). */
static bool upsert_send(psink_t *s) {
    int want = s->head && s->head->solo ? 1 : (int)SPATE_MIN(s->npending, BATCH);
    pbatch_t *b = spate_xcalloc(1, sizeof *b);
    b->rows = spate_xcalloc((size_t)want, sizeof *b->rows);
    int cap = 2 * want;
    b->slots = spate_xcalloc((size_t)cap, sizeof *b->slots);
    b->err_slot = -1;
    const char *vals[MAX_COLS];
    char *frees[MAX_COLS];
    bool ok = true;
    while (b->n < want && s->head && ok) {
        prow_t *r = s->head;
        if (r->solo && b->n > 0) break;
        pop_front(s);
        char reason[300];
        int k = stmt_for(s, r->value, reason, sizeof reason);
        if (k < 0) {
            row_fail(s, r, reason);
            continue;
        }
        pstmt_t *t = &s->stmts[k];
        char name[16];
        if (!t->prepared) t->gen = ++s->gen;
        snprintf(name, sizeof name, "s%u", t->gen);
        if (!t->prepared) {
            if (!PQsendPrepare(s->conn, name, t->insert, t->ncols, NULL)) ok = false;
            t->prepared = true;
            slot_add(b, k, -1, cap);
        }
        int c = 0;
        const char *key;
        json_t *x;
        json_object_foreach(r->value, key, x) {
            vals[c] = param_text(x, &frees[c]);
            c++;
        }
        if (ok && !PQsendQueryPrepared(s->conn, name, c, vals, NULL, NULL, 0)) ok = false;
        for (int i = 0; i < c; i++) free(frees[i]);
        b->rows[b->n] = r;
        slot_add(b, k, b->n, cap);
        b->n++;
    }
    if (ok && b->n > 0 && PQpipelineSync(s->conn) != 1) ok = false;
    if (b->n == 0 && b->nslots == 0) {
        batch_free(b);
        return ok;
    }
    /* In flight even when sending failed: conn_drop puts it back. */
    if (s->btail)
        s->btail->next = b;
    else
        s->bhead = b;
    s->btail = b;
    s->nbatches++;
    return ok && conn_flush(s);
}

/* Reads every result that arrived. False when the connection broke. */
static bool upsert_read(psink_t *s) {
    while (s->bhead && !PQisBusy(s->conn)) {
        pbatch_t *b = s->bhead;
        PGresult *res = PQgetResult(s->conn);
        if (!res) {
            /* the end of slot cur's results */
            if (b->cur_seen) {
                b->cur++;
                b->cur_seen = false;
            } else if (PQstatus(s->conn) == CONNECTION_BAD) {
                return false;
            } else {
                return true; /* nothing more yet */
            }
            continue;
        }
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            batch_done(s, b);
            continue;
        }
        b->cur_seen = true;
        if (st == PGRES_FATAL_ERROR && !b->err) {
            b->err = res;
            b->err_slot = b->cur < b->nslots ? b->cur : -1;
            if (!PQresultErrorField(res, PG_DIAG_SQLSTATE) && PQstatus(s->conn) == CONNECTION_BAD)
                return false;
            continue;
        }
        PQclear(res);
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Copy mode: one batch at a time                                      */
/* ------------------------------------------------------------------ */

/* Appends x as a COPY text field. */
static void copy_field(spate_buf_t *b, json_t *x) {
    char *tofree;
    const char *t = param_text(x, &tofree);
    if (!t) {
        spate_buf_puts(b, "\\N");
        return;
    }
    size_t n = json_is_string(x) ? json_string_length(x) : strlen(t);
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        switch (c) {
        case '\\': spate_buf_puts(b, "\\\\"); break;
        case '\t': spate_buf_puts(b, "\\t"); break;
        case '\n': spate_buf_puts(b, "\\n"); break;
        case '\r': spate_buf_puts(b, "\\r"); break;
        case '\0': spate_buf_puts(b, "\\0"); break; /* refused by the server: the row's fault */
        default: spate_buf_putc(b, c);
        }
    }
    free(tofree);
}

static const char STAGE[] = "spate_copy_stage";

/* Starts the next copy batch (step 1). False when the connection broke. */
static bool copy_send(psink_t *s) {
    int want = s->head && s->head->solo ? 1 : (int)SPATE_MIN(s->npending, BATCH);
    pbatch_t *b = spate_xcalloc(1, sizeof *b);
    b->rows = spate_xcalloc((size_t)want, sizeof *b->rows);
    b->err_slot = -1;
    b->phase = 1;
    int k = -1;
    while (b->n < want && s->head) {
        prow_t *r = s->head;
        if (r->solo && b->n > 0) break;
        char reason[300];
        int rk = stmt_for(s, r->value, reason, sizeof reason);
        if (rk < 0) {
            pop_front(s);
            row_fail(s, r, reason);
            continue;
        }
        if (k >= 0 && rk != k) break; /* one column list per COPY */
        k = rk;
        pop_front(s);
        b->rows[b->n++] = r;
    }
    if (b->n == 0) {
        batch_free(b);
        return true;
    }
    b->slots = spate_xcalloc(1, sizeof *b->slots);
    b->slots[0].stmt = k;
    b->nslots = 1;
    spate_buf_t *q = &s->text;
    spate_buf_reset(q);
    if (s->need_rollback) spate_buf_puts(q, "ROLLBACK; ");
    spate_buf_puts(q, "BEGIN; ");
    if (s->sc->pg.nkey) {
        spate_buf_printf(q,
                         "CREATE TEMP TABLE IF NOT EXISTS %s (LIKE %s INCLUDING DEFAULTS, "
                         "spate_seq bigint) ON COMMIT DELETE ROWS; COPY %s (%s, spate_seq)",
                         STAGE, s->sc->pg.table, STAGE, s->stmts[k].sig);
    } else {
        spate_buf_printf(q, "COPY %s (%s)", s->sc->pg.table, s->stmts[k].sig);
    }
    spate_buf_puts(q, " FROM STDIN");
    s->need_rollback = false;
    s->bhead = s->btail = b;
    s->nbatches = 1;
    return PQsendQuery(s->conn, q->data) == 1 && conn_flush(s);
}

/* COPY_IN: sends the batch's rows and ends the copy. */
static bool copy_data(psink_t *s, pbatch_t *b) {
    spate_buf_t *d = &s->text;
    spate_buf_reset(d);
    for (int i = 0; i < b->n; i++) {
        const char *key;
        json_t *x;
        bool first = true;
        json_object_foreach(b->rows[i]->value, key, x) {
            if (!first) spate_buf_putc(d, '\t');
            first = false;
            copy_field(d, x);
        }
        if (s->sc->pg.nkey) spate_buf_printf(d, "\t%d", i);
        spate_buf_putc(d, '\n');
    }
    b->copy_sent = true;
    if (PQputCopyData(s->conn, d->data, (int)d->len) != 1) return false;
    if (PQputCopyEnd(s->conn, NULL) != 1) return false;
    return conn_flush(s);
}

/* Step 2: moves the staged rows into the table and commits. */
static bool copy_commit(psink_t *s, pbatch_t *b) {
    b->phase = 2;
    spate_buf_t *q = &s->text;
    spate_buf_reset(q);
    if (s->sc->pg.nkey) {
        const char *sig = s->stmts[b->slots[0].stmt].sig;
        spate_buf_printf(q, "INSERT INTO %s (%s) SELECT DISTINCT ON (", s->sc->pg.table, sig);
        for (size_t i = 0; i < s->sc->pg.nkey; i++)
            spate_buf_printf(q, "%s%s", i ? ", " : "", s->sc->pg.key[i]);
        spate_buf_printf(q, ") %s FROM %s ORDER BY ", sig, STAGE);
        for (size_t i = 0; i < s->sc->pg.nkey; i++) spate_buf_printf(q, "%s, ", s->sc->pg.key[i]);
        spate_buf_puts(q, "spate_seq DESC");
        on_conflict(s, q, b->rows[0]->value);
        spate_buf_puts(q, "; ");
    }
    spate_buf_puts(q, "COMMIT");
    return PQsendQuery(s->conn, q->data) == 1 && conn_flush(s);
}

static bool copy_read(psink_t *s) {
    while (s->bhead && !PQisBusy(s->conn)) {
        pbatch_t *b = s->bhead;
        PGresult *res = PQgetResult(s->conn);
        if (!res) {
            if (PQstatus(s->conn) == CONNECTION_BAD) return false;
            /* the end of a step's query string */
            if (b->err) {
                s->need_rollback = true;
                batch_done(s, b);
            } else if (b->phase == 1) {
                if (!b->copy_sent) return false; /* no COPY_IN: protocol confusion */
                if (!copy_commit(s, b)) return false;
            } else {
                batch_done(s, b);
            }
            continue;
        }
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_COPY_IN) {
            PQclear(res);
            if (!copy_data(s, b)) return false;
            continue;
        }
        if (st == PGRES_FATAL_ERROR && !b->err) {
            if (!PQresultErrorField(res, PG_DIAG_SQLSTATE) && PQstatus(s->conn) == CONNECTION_BAD) {
                PQclear(res);
                return false;
            }
            b->err = res;
            continue;
        }
        PQclear(res);
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* The sink interface                                                  */
/* ------------------------------------------------------------------ */

static spate_status_t psink_open(srun_job_t *j, void **state, char *err, size_t errlen) {
    psink_t *s = spate_xcalloc(1, sizeof *s);
    s->j = j;
    s->sc = &j->conf->sink;
    s->copy = s->sc->pg.mode == SPATE_STREAM_PG_COPY;
    s->backoff_ms = j->conf->delivery.backoff_ms;
    /* The database may still be starting: keep trying until stopped. */
    for (;;) {
        char e[512];
        if (conn_open(s, e, sizeof e)) break;
        if (*j->stop) {
            snprintf(err, errlen, "connect: %s", e);
            free(s);
            return SPATE_ERR;
        }
        spate_log(SPATE_LOG_WARN, LOGC, "job %s: PostgreSQL connect: %s; again in %lld ms",
                  j->conf->name, e, (long long)s->backoff_ms);
        spate_sleep_ms(s->backoff_ms);
        s->backoff_ms = SPATE_MIN(s->backoff_ms * 2, j->conf->delivery.backoff_max_ms);
    }
    spate_log(SPATE_LOG_INFO, LOGC, "job %s: PostgreSQL sink %s (%s) on %s:%s", j->conf->name,
              s->sc->pg.table, s->copy ? "copy" : "upsert", PQhost(s->conn), PQport(s->conn));
    *state = s;
    return SPATE_OK;
}

static void psink_write(void *state, json_t *value, const rd_kafka_message_t *m, srun_token_t tok) {
    psink_t *s = state;
    prow_t *r = spate_xcalloc(1, sizeof *r);
    r->tok = tok;
    r->value = json_incref(value);
    if (m->key) {
        r->key = spate_xmalloc(m->key_len ? m->key_len : 1);
        memcpy(r->key, m->key, m->key_len);
        r->klen = m->key_len;
    }
    if (m->payload) {
        r->val = spate_xmalloc(m->len ? m->len : 1);
        memcpy(r->val, m->payload, m->len);
        r->vlen = m->len;
    }
    r->start_ns = spate_mono_ns();
    push_back(s, r);
}

/* Sends what the window allows. False when the connection broke. */
static bool send_more(psink_t *s) {
    if (spate_mono_ms() < s->next_try_ms) return true;
    while (s->head) {
        if (s->copy) {
            if (s->nbatches) break;
            if (!copy_send(s)) return false;
        } else {
            if (s->nbatches >= WINDOW || s->want_write || s->redoing) break;
            if (!upsert_send(s)) return false;
        }
    }
    return true;
}

static void psink_poll(void *state, int timeout_ms) {
    psink_t *s = state;
    if (!s->conn) {
        if (!s->head || spate_mono_ms() < s->next_try_ms) {
            if (timeout_ms > 0 && s->head) spate_sleep_ms(SPATE_MIN(timeout_ms, 5));
            return;
        }
        char e[512];
        if (!conn_open(s, e, sizeof e)) {
            s->conn = NULL;
            conn_drop(s, e);
            return;
        }
        spate_log(SPATE_LOG_INFO, LOGC, "job %s: PostgreSQL reconnected", s->j->conf->name);
    }
    bool ok = send_more(s);
    if (ok && s->want_write) ok = conn_flush(s);
    for (int round = 0; ok && round < 2; round++) {
        if (s->nbatches && timeout_ms > 0 && PQisBusy(s->conn)) {
            struct pollfd pfd = {.fd = PQsocket(s->conn),
                                 .events = (short)(POLLIN | (s->want_write ? POLLOUT : 0))};
            (void)poll(&pfd, 1, round ? 0 : timeout_ms);
        } else if (!s->nbatches && s->head && timeout_ms > 0) {
            spate_sleep_ms(SPATE_MIN(timeout_ms, 5)); /* backoff before a retry */
        }
        if (s->want_write && !conn_flush(s)) ok = false;
        if (ok && !PQconsumeInput(s->conn)) ok = false;
        if (ok) ok = s->copy ? copy_read(s) : upsert_read(s);
        if (ok) ok = send_more(s);
        if (!s->nbatches) break;
    }
    if (!ok) conn_drop(s, s->conn ? PQerrorMessage(s->conn) : "connection lost");
}

static void psink_close(void *state) {
    psink_t *s = state;
    while (s->bhead) {
        pbatch_t *b = s->bhead;
        s->bhead = b->next;
        for (int i = 0; i < b->n; i++)
            if (b->rows[i]) row_free(b->rows[i]); /* unsettled: not committed past */
        batch_free(b);
    }
    while (s->head) row_free(pop_front(s));
    for (int i = 0; i < s->nredo; i++) row_free(s->redo[i]);
    free(s->redo);
    if (s->conn) PQfinish(s->conn);
    for (int i = 0; i < s->nstmts; i++) {
        free(s->stmts[i].sig);
        free(s->stmts[i].insert);
    }
    spate_buf_free(&s->sig);
    spate_buf_free(&s->text);
    free(s);
}

const srun_sink_ops_t srun_sink_pg = {
    .name = "postgres",
    .open = psink_open,
    .write = psink_write,
    .poll = psink_poll,
    .flush = NULL,
    .close = psink_close,
};
