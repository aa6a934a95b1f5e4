/*
 * stream_sink_pg.c — the PostgreSQL sink: records upserted by key through
 * libpq, or bulk-loaded with COPY.
 *
 * A record's keys are its column names: identifiers ([A-Za-z_]
 * [A-Za-z0-9_]*, at most 63 bytes), folded to lower case as PostgreSQL
 * folds unquoted names, then quoted ("user", "order", "end" are columns
 * like any other); the table name (validated as an identifier) stays
 * unquoted. Two keys that fold to one name ({"id": .., "ID": ..}) are the
 * record's fault (dead letter), as is a key that is no identifier. Values
 * go as text parameters: strings as they are, JSON null as SQL NULL,
 * true/false, numbers and nested values as compact JSON text; the server
 * casts them to the column types (uuid, int, jsonb, timestamptz...). The table must exist,
 * unless `create: true`: then, at start, before any row,
 *
 *   CREATE TABLE IF NOT EXISTS t ("c1" text, "k" uuid, ..., PRIMARY KEY ("k"...))
 *
 * with the columns of the job's final record shape: the `select` list of
 * its last step when that is a map with one (each path's first key, in
 * order), else the seed's record (id and the CQL sink's seed columns,
 * format_user's output). Every column is text except the key columns,
 * which are uuid when a map step casts that field to uuid, else text.
 * Each key column must be one of the columns (refused at start otherwise;
 * validation refuses create without key).
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
 *   Statements: one per distinct column list (its names in order), at
 *   most MAX_STMTS. A new list beyond that evicts the least recently used
 *   statement that has no row in flight: a "DEALLOCATE sN" goes in the
 *   next batch, ahead of the new Parse (a DEALLOCATE skipped by a failed
 *   batch is queued again). When every kept statement has rows in
 *   flight, the row waits at the front until a batch settles.
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
 *     fault. From the Parse of a column list (upsert) or the COPY naming
 *     it, 42601 (syntax), 42701 (a column twice), 42703 and 42804 are the
 *     fault of that list: every row of the batch with that list goes to
 *     the dead-letter path (never retried: it could not succeed). When the failing row is known
 * (its Execute in upsert mode, "line N" in a COPY's context) it goes to the dead-letter path with
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
#include "stream_int.h"
#include "source.h" /* spate_json_dumps */
#include "stream_run_int.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define LOGC "stream"
#define BATCH 500     /* rows per transaction */
#define WINDOW 8      /* upsert batches in flight */
#define MAX_STMTS 64  /* distinct column lists kept (then the LRU idle one goes) */
#define MAX_COLS 1600 /* PostgreSQL's own limit */

typedef struct prow {
    struct prow *next;
    srun_token_t tok;
    json_t *value;    /* a reference */
    srun_orig_t orig; /* for the dead letter */
    int64_t start_ns;
    bool solo; /* redo alone: an unattributed row error hit its batch */
} prow_t;

typedef struct {
    char *sig;    /* "c1,c2,...": the names folded to lower case */
    char *cols;   /* "\"c1\", \"c2\", ...": the quoted column list */
    char *insert; /* upsert mode: the INSERT ... ON CONFLICT text */
    int ncols;
    bool prepared; /* on the current connection, as "s<gen>" */
    unsigned gen;  /* its server-side name: never reused on a connection */
    int64_t rows;  /* its row slots in in-flight (or being built) batches */
    uint64_t used; /* s->tick at its last use: the LRU idle one is evicted */
} pstmt_t;

/* What a pipelined query's result answers. */
#define SLOT_PARSE (-1)   /* the Parse of stmt */
#define SLOT_DEALLOC (-2) /* DEALLOCATE "s<gen>" of an evicted statement */
typedef struct {
    int stmt;     /* index in stmts; -1 for SLOT_DEALLOC */
    int row;      /* index in the batch, or SLOT_PARSE / SLOT_DEALLOC */
    unsigned gen; /* SLOT_DEALLOC: the name deallocated */
} pslot_t;

typedef struct pbatch {
    struct pbatch *next;
    prow_t **rows;
    int n;
    pslot_t *slots;
    int nslots, capslots;
    int cur;       /* the slot whose results are being read */
    bool cur_seen; /* a result of slot cur arrived */
    int err_slot;  /* first failed slot, -1 */
    PGresult *err; /* its result */
    int phase;     /* copy mode: 1 step 1, 2 step 2 */
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
    uint64_t tick;     /* statement uses, for the LRU */
    unsigned gen;      /* the last statement name handed out */
    unsigned *dealloc; /* upsert: names of evicted statements still to DEALLOCATE */
    int ndealloc, capdealloc;
    bool stalled; /* upsert: a row waits for a statement slot to become idle */
    spate_buf_t sig, text;
    bool created;    /* create: the table was created (or existed) */
    bool ddl_failed; /* create: the database refused it: do not retry */
} psink_t;

/* ------------------------------------------------------------------ */
/* Rows and the pending FIFO                                           */
/* ------------------------------------------------------------------ */

static void row_free(prow_t *r) {
    json_decref(r->value);
    srun_orig_free(&r->orig);
    free(r);
}

static void row_fail(psink_t *s, prow_t *r, const char *reason) {
    srun_fail(s->j, r->tok, reason, r->orig.key, r->orig.klen, r->orig.val, r->orig.vlen);
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

/* Frees a batch that left the in-flight list (its rows are elsewhere by
 * now, or freed); its statements' rows in flight go down. */
static void batch_free(psink_t *s, pbatch_t *b) {
    for (int i = 0; i < b->nslots; i++)
        if (b->slots[i].row >= 0) s->stmts[b->slots[i].stmt].rows--;
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

/* Appends name (an is_ident() name) as a quoted identifier, folded to
 * lower case first as PostgreSQL folds an unquoted one: "user", "order"
 * or "end" are then column names like any other. */
static void put_ident(spate_buf_t *b, const char *name) {
    spate_buf_putc(b, '"');
    for (; *name; name++) {
        char c = *name;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c == '"') spate_buf_putc(b, '"'); /* not in an identifier; kept safe */
        spate_buf_putc(b, c);
    }
    spate_buf_putc(b, '"');
}

/* "ON CONFLICT ("k1", "k2") DO UPDATE SET "c" = EXCLUDED."c", ..." for
 * the columns of v (DO NOTHING when every column is a key). */
static void on_conflict(psink_t *s, spate_buf_t *b, json_t *v) {
    spate_buf_puts(b, " ON CONFLICT (");
    for (size_t i = 0; i < s->sc->pg.nkey; i++) {
        if (i) spate_buf_puts(b, ", ");
        put_ident(b, s->sc->pg.key[i]);
    }
    spate_buf_puts(b, ")");
    bool any = false;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        if (is_key(s, k)) continue;
        spate_buf_puts(b, any ? ", " : " DO UPDATE SET ");
        put_ident(b, k);
        spate_buf_puts(b, " = EXCLUDED.");
        put_ident(b, k);
        any = true;
    }
    if (!any) spate_buf_puts(b, " DO NOTHING");
}

/* The length of the name at sig[at] (up to ',' or the end). */
static size_t sig_name_len(const char *sig, size_t at) {
    const char *e = strchr(sig + at, ',');
    return e ? (size_t)(e - (sig + at)) : strlen(sig + at);
}

/* True when two of v's fields (n of them, folded in s->sig) are one
 * column once folded to lower case ({"id": .., "ID": ..}); the reason
 * names them. Quadratic, but run only for a column list not known yet. */
static bool dup_fields(psink_t *s, json_t *v, int n, char *reason, size_t rlen) {
    const char *sig = s->sig.data;
    size_t *at = spate_xmalloc((size_t)n * sizeof *at);
    for (size_t i = 0, o = 0; i < (size_t)n; i++) {
        at[i] = o;
        o += sig_name_len(sig, o) + 1;
    }
    int di = -1, dj = -1;
    for (int i = 0; i < n && di < 0; i++) {
        size_t li = sig_name_len(sig, at[i]);
        for (int j = i + 1; j < n; j++)
            if (sig_name_len(sig, at[j]) == li && !memcmp(sig + at[i], sig + at[j], li)) {
                di = i;
                dj = j;
                break;
            }
    }
    free(at);
    if (di < 0) return false;
    const char *ki = "", *kj = "", *k;
    json_t *x;
    int c = 0;
    json_object_foreach(v, k, x) {
        if (c == di) ki = k;
        if (c == dj) kj = k;
        c++;
    }
    snprintf(reason, rlen,
             "postgres sink: fields '%.64s' and '%.64s' are one column (names are folded to "
             "lower case)",
             ki, kj);
    return true;
}

static void dealloc_push(psink_t *s, unsigned gen);

/* Frees statement k to be reused; in upsert mode its server-side
 * statement, when there is one, is deallocated with the next batch. */
static void stmt_evict(psink_t *s, int k) {
    pstmt_t *t = &s->stmts[k];
    if (!s->copy && t->prepared && s->conn) dealloc_push(s, t->gen);
    free(t->sig);
    free(t->cols);
    free(t->insert);
    memset(t, 0, sizeof *t);
}

/* The statement for v's column list (made on first use; when MAX_STMTS
 * are kept, the least recently used one without rows in flight makes
 * room), -1 with the record's fault in reason, or -2 when every kept
 * statement has rows in flight (the row waits until one settles). */
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
        if (s->sig.len) spate_buf_putc(&s->sig, ',');
        for (const char *c = k; *c; c++)
            spate_buf_putc(&s->sig, *c >= 'A' && *c <= 'Z' ? (char)(*c - 'A' + 'a') : *c);
        n++;
    }
    if (!n || n > MAX_COLS) {
        snprintf(reason, rlen, "postgres sink: the record has %s fields", n ? "too many" : "no");
        return -1;
    }
    for (int i = 0; i < s->nstmts; i++)
        if (!strcmp(s->stmts[i].sig, s->sig.data)) {
            s->stmts[i].used = ++s->tick;
            return i;
        }
    if (dup_fields(s, v, n, reason, rlen)) return -1;
    int ki = s->nstmts;
    if (ki == MAX_STMTS) {
        ki = -1;
        for (int i = 0; i < s->nstmts; i++)
            if (!s->stmts[i].rows && (ki < 0 || s->stmts[i].used < s->stmts[ki].used)) ki = i;
        if (ki < 0) return -2;
        stmt_evict(s, ki);
    } else {
        s->nstmts++;
    }
    pstmt_t *t = &s->stmts[ki];
    t->sig = spate_xstrdup(s->sig.data);
    t->ncols = n;
    t->used = ++s->tick;
    spate_buf_t cols = SPATE_BUF_INIT;
    json_object_foreach(v, k, x) {
        if (cols.len) spate_buf_puts(&cols, ", ");
        put_ident(&cols, k);
    }
    t->cols = cols.data; /* owned */
    if (!s->copy) {
        spate_buf_t q = SPATE_BUF_INIT;
        spate_buf_printf(&q, "INSERT INTO %s (%s) VALUES (", s->sc->pg.table, t->cols);
        for (int i = 1; i <= n; i++) spate_buf_printf(&q, "%s$%d", i > 1 ? ", " : "", i);
        spate_buf_puts(&q, ")");
        if (s->sc->pg.nkey) on_conflict(s, &q, v);
        t->insert = q.data; /* owned */
    }
    return ki;
}

/* A JSON value as a text parameter: NULL for null; *tofree is set when
 * the text was allocated (free it after sending). */
static const char *param_text(json_t *x, char **tofree) {
    *tofree = NULL;
    if (json_is_null(x)) return NULL;
    if (json_is_string(x)) return json_string_value(x);
    if (json_is_true(x)) return "true";
    if (json_is_false(x)) return "false";
    *tofree = spate_json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
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
        batch_free(s, b);
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

/* ------------------------------------------------------------------ */
/* create: true                                                        */
/* ------------------------------------------------------------------ */

/* The seed's record (format_user's output): id, then the CQL sink's seed
 * columns (docs/stream.md). */
static const char *const seed_columns[] = {"id",      "first_name",      "last_name", "gender",
                                           "address", "post_code",       "email",     "username",
                                           "dob",     "registered_date", "phone",     "picture"};

/* True when the job's last cast of the top-level field col (in any map
 * step) is to uuid. */
static bool cast_to_uuid(const spate_stream_prog_t *prog, const char *col) {
    bool uuid = false;
    for (size_t i = 0; prog && i < prog->nsteps; i++) {
        const stream_step_t *st = &prog->steps[i];
        if (st->kind != STEP_MAP) continue;
        for (size_t c = 0; c < st->map.ncast; c++) {
            const spate_stream_path_t *p = st->map.cast[c].path;
            if (p->nsegs == 1 && p->segs[0].key && strlen(col) == p->segs[0].keylen &&
                !strncasecmp(p->segs[0].key, col, p->segs[0].keylen))
                uuid = st->map.cast[c].type == CAST_UUID;
        }
    }
    return uuid;
}

/* Appends the column name to cols (each NUL-terminated) unless it is
 * there already. */
static void column_add(spate_buf_t *cols, const char *name, size_t len) {
    for (size_t at = 0; at < cols->len; at += strlen(cols->data + at) + 1)
        if (strlen(cols->data + at) == len && !strncasecmp(cols->data + at, name, len)) return;
    spate_buf_append(cols, name, len);
    spate_buf_append(cols, "", 1);
}

/* The CREATE TABLE statement for the job (into q), or false with the
 * reason in err. */
static bool create_statement(const psink_t *s, spate_buf_t *q, char *err, size_t errlen) {
    const spate_stream_prog_t *prog = s->j->conf->prog;
    const stream_step_t *last = prog && prog->nsteps ? &prog->steps[prog->nsteps - 1] : NULL;
    spate_buf_t cols = SPATE_BUF_INIT;
    if (last && last->kind == STEP_MAP && last->map.nselect) {
        for (size_t i = 0; i < last->map.nselect; i++) {
            const spate_stream_path_t *p = last->map.select[i].path;
            if (p->segs[0].key) column_add(&cols, p->segs[0].key, p->segs[0].keylen);
        }
    } else {
        for (size_t i = 0; i < SPATE_ARRAY_LEN(seed_columns); i++)
            column_add(&cols, seed_columns[i], strlen(seed_columns[i]));
    }
    bool ok = true;
    for (size_t at = 0; ok && at < cols.len; at += strlen(cols.data + at) + 1) {
        if (!is_ident(cols.data + at)) {
            snprintf(err, errlen, "create: '%.64s' is not a column name", cols.data + at);
            ok = false;
        }
    }
    for (size_t k = 0; ok && k < s->sc->pg.nkey; k++) {
        bool found = false;
        for (size_t at = 0; !found && at < cols.len; at += strlen(cols.data + at) + 1)
            found = !strcasecmp(cols.data + at, s->sc->pg.key[k]);
        if (!found) {
            snprintf(err, errlen, "create: key column '%s' is not in the job's records (%s)",
                     s->sc->pg.key[k],
                     last && last->kind == STEP_MAP && last->map.nselect
                         ? "its last map step's select"
                         : "the seed's columns");
            ok = false;
        }
    }
    if (ok) {
        spate_buf_printf(q, "CREATE TABLE IF NOT EXISTS %s (", s->sc->pg.table);
        for (size_t at = 0; at < cols.len; at += strlen(cols.data + at) + 1) {
            const char *c = cols.data + at;
            bool uuid = is_key(s, c) && cast_to_uuid(prog, c);
            if (at) spate_buf_puts(q, ", ");
            put_ident(q, c);
            spate_buf_puts(q, uuid ? " uuid" : " text");
        }
        spate_buf_puts(q, ", PRIMARY KEY (");
        for (size_t k = 0; k < s->sc->pg.nkey; k++) {
            if (k) spate_buf_puts(q, ", ");
            put_ident(q, s->sc->pg.key[k]);
        }
        spate_buf_puts(q, "))");
    }
    spate_buf_free(&cols);
    return ok;
}

/* Runs CREATE TABLE IF NOT EXISTS on a fresh (blocking, not yet
 * pipelined) connection. False with the reason in err; s->ddl_failed when
 * the job cannot go on (the statement is wrong, not the connection). */
static bool create_table(psink_t *s, PGconn *c, char *err, size_t errlen) {
    spate_buf_t q = SPATE_BUF_INIT;
    if (!create_statement(s, &q, err, errlen)) {
        spate_buf_free(&q);
        s->ddl_failed = true;
        return false;
    }
    PGresult *res = PQexec(c, q.data);
    bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok) {
        char msg[400];
        one_line(res ? PQresultErrorMessage(res) : PQerrorMessage(c), msg, sizeof msg);
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        if (state)
            snprintf(err, errlen, "%s: SQLSTATE %s: %s", q.data, state, msg);
        else
            snprintf(err, errlen, "%s: %s", q.data, msg);
        s->ddl_failed = state != NULL && PQstatus(c) == CONNECTION_OK;
    } else {
        spate_log(SPATE_LOG_INFO, LOGC, "job %s: %s", s->j->conf->name, q.data);
        s->created = true;
    }
    if (res) PQclear(res);
    spate_buf_free(&q);
    return ok;
}

/* Connects (blocking, at most connect_timeout = 5 s unless the URL says
 * otherwise); with create, makes the table on the first connection. False
 * with the reason in err. */
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
    if (s->sc->pg.create && !s->created && !create_table(s, c, err, errlen)) {
        PQfinish(c);
        return false;
    }
    if (PQsetnonblocking(c, 1) != 0 || (!s->copy && PQenterPipelineMode(c) != 1)) {
        char msg[400];
        one_line(PQerrorMessage(c), msg, sizeof msg);
        snprintf(err, errlen, "cannot enter non-blocking pipeline mode: %s", msg);
        PQfinish(c);
        return false;
    }
    s->conn = c;
    for (int i = 0; i < s->nstmts; i++) s->stmts[i].prepared = false;
    s->ndealloc = 0; /* a new session has none of the old statements */
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

/* Errors that, from the Parse of a column list (or the COPY naming it),
 * are the fault of that list: a syntax error (42601), a column twice
 * (42701), no such column (42703), a datatype mismatch (42804). Retrying
 * them could never succeed. */
static bool list_fault(const char *st) {
    return st && (!strcmp(st, "42601") || !strcmp(st, "42701") || !strcmp(st, "42703") ||
                  !strcmp(st, "42804"));
}

/* Queues name gen to be deallocated with the next batch. */
static void dealloc_push(psink_t *s, unsigned gen) {
    if (s->ndealloc == s->capdealloc) {
        s->capdealloc = s->capdealloc ? 2 * s->capdealloc : 16;
        s->dealloc = spate_xrealloc(s->dealloc, (size_t)s->capdealloc * sizeof *s->dealloc);
    }
    s->dealloc[s->ndealloc++] = gen;
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
        batch_free(s, b);
        return;
    }
    if (!b->err) {
        int64_t now = spate_mono_ns();
        for (int i = 0; i < b->n; i++) row_ack(s, b->rows[i], now);
        s->backoff_ms = s->j->conf->delivery.backoff_ms;
        batch_free(s, b);
        return;
    }
    char reason[512];
    reason_of(b->err, reason, sizeof reason);
    const char *st = PQresultErrorField(b->err, PG_DIAG_SQLSTATE);
    /* Parses at or after the failure did not happen (an aborted pipeline
     * skips them); prepared statements survive a rollback otherwise.
     * DEALLOCATEs after it did not happen either: queued again (the one
     * that failed is dropped: its statement is not there). */
    for (int i = b->err_slot >= 0 ? b->err_slot : 0; !s->copy && i < b->nslots; i++) {
        if (b->slots[i].row == SLOT_PARSE) s->stmts[b->slots[i].stmt].prepared = false;
        if (b->slots[i].row == SLOT_DEALLOC && b->err_slot >= 0 && i > b->err_slot)
            dealloc_push(s, b->slots[i].gen);
    }
    if (st && !strcmp(st, "26000")) {
        /* The Parse of an earlier batch failed or was skipped: prepare
         * again (under a new name, so a Parse still in flight cannot
         * collide with it). */
        if (b->err_slot >= 0) {
            if (b->slots[b->err_slot].stmt >= 0)
                s->stmts[b->slots[b->err_slot].stmt].prepared = false;
        } else
            for (int i = 0; i < s->nstmts; i++) s->stmts[i].prepared = false;
        requeue(s, b->rows, b->n, false);
        batch_free(s, b);
        return;
    }
    /* The column list itself is refused: its Parse failed (upsert), or
     * the COPY naming it, before any line (copy: one list per batch). */
    bool list_err =
        list_fault(st) && (s->copy ? b->phase == 1 && copy_line(b->err) == 0
                                   : b->err_slot >= 0 && b->slots[b->err_slot].row == SLOT_PARSE);
    if (!row_fault(st) && !list_err) {
        batch_retry(s, b, reason);
        batch_free(s, b);
        return;
    }
    int bad = -1; /* the row at fault, when known */
    bool all = false;
    if (s->copy) {
        int line = copy_line(b->err);
        if (b->phase == 1 && line >= 1 && line <= b->n) bad = line - 1;
        if (list_fault(st)) all = true; /* one column list per batch */
    } else if (b->err_slot >= 0) {
        pslot_t *sl = &b->slots[b->err_slot];
        if (sl->row >= 0) {
            bad = sl->row;
        } else if (sl->row == SLOT_PARSE) {
            all = true; /* the Parse: every row of that column list */
        }
    }
    if (b->n == 1 && !all) bad = 0;
    if (all) {
        if (s->copy) {
            for (int i = 0; i < b->n; i++) {
                row_fail(s, b->rows[i], reason);
                b->rows[i] = NULL;
            }
        } else {
            int k = b->slots[b->err_slot].stmt;
            for (int i = 0; i < b->nslots; i++) {
                int r = b->slots[i].row;
                if (r < 0 || b->slots[i].stmt != k || !b->rows[r]) continue;
                row_fail(s, b->rows[r], reason);
                b->rows[r] = NULL;
            }
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
    batch_free(s, b);
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

/* Adds a result slot; a row's slot counts in its statement's rows in
 * flight (batch_free takes it off). */
static void slot_add(psink_t *s, pbatch_t *b, int stmt, int row, unsigned gen) {
    if (b->nslots == b->capslots) {
        b->capslots = b->capslots ? 2 * b->capslots : 16;
        b->slots = spate_xrealloc(b->slots, (size_t)b->capslots * sizeof *b->slots);
    }
    b->slots[b->nslots] = (pslot_t){.stmt = stmt, .row = row, .gen = gen};
    b->nslots++;
    if (row >= 0) s->stmts[stmt].rows++;
}

/* Sends one batch from the front of the queue. False when the connection
 * broke (the caller drops it). */
static bool upsert_send(psink_t *s) {
    int want = s->head && s->head->solo ? 1 : (int)SPATE_MIN(s->npending, BATCH);
    pbatch_t *b = spate_xcalloc(1, sizeof *b);
    b->rows = spate_xcalloc((size_t)want, sizeof *b->rows);
    b->err_slot = -1;
    const char *vals[MAX_COLS];
    char *frees[MAX_COLS];
    bool ok = true;
    s->stalled = false;
    while (b->n < want && s->head && ok) {
        prow_t *r = s->head;
        if (r->solo && b->n > 0) break;
        pop_front(s);
        char reason[300];
        int k = stmt_for(s, r->value, reason, sizeof reason);
        if (k == -2) {
            /* every statement has rows in flight: wait for one to settle */
            push_front(s, &r, 1, false);
            s->stalled = true;
            break;
        }
        if (k < 0) {
            row_fail(s, r, reason);
            continue;
        }
        char name[32];
        /* Evicted statements leave the server first (pipelined: a
         * DEALLOCATE is an ordinary statement of the batch). */
        for (int i = 0; i < s->ndealloc && ok; i++) {
            snprintf(name, sizeof name, "DEALLOCATE s%u", s->dealloc[i]);
            if (!PQsendQueryParams(s->conn, name, 0, NULL, NULL, NULL, NULL, 0)) ok = false;
            slot_add(s, b, -1, SLOT_DEALLOC, s->dealloc[i]);
        }
        s->ndealloc = 0;
        pstmt_t *t = &s->stmts[k];
        if (!t->prepared) t->gen = ++s->gen;
        snprintf(name, sizeof name, "s%u", t->gen);
        if (!t->prepared) {
            if (ok && !PQsendPrepare(s->conn, name, t->insert, t->ncols, NULL)) ok = false;
            t->prepared = true;
            slot_add(s, b, k, SLOT_PARSE, 0);
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
        slot_add(s, b, k, b->n, 0);
        b->n++;
    }
    if (ok && b->n > 0 && PQpipelineSync(s->conn) != 1) ok = false;
    if (b->n == 0 && b->nslots == 0) {
        batch_free(s, b);
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
        if (rk == -2) break; /* cannot be: only k has rows in flight */
        if (rk < 0) {
            pop_front(s);
            row_fail(s, r, reason);
            continue;
        }
        if (k >= 0 && rk != k) break;        /* one column list per COPY */
        if (k < 0) slot_add(s, b, rk, 0, 0); /* k in use: not evicted by the next rows */
        k = rk;
        pop_front(s);
        b->rows[b->n++] = r;
    }
    if (b->n == 0) {
        batch_free(s, b);
        return true;
    }
    spate_buf_t *q = &s->text;
    spate_buf_reset(q);
    if (s->need_rollback) spate_buf_puts(q, "ROLLBACK; ");
    spate_buf_puts(q, "BEGIN; ");
    if (s->sc->pg.nkey) {
        spate_buf_printf(q,
                         "CREATE TEMP TABLE IF NOT EXISTS %s (LIKE %s INCLUDING DEFAULTS, "
                         "spate_seq bigint) ON COMMIT DELETE ROWS; COPY %s (%s, spate_seq)",
                         STAGE, s->sc->pg.table, STAGE, s->stmts[k].cols);
    } else {
        spate_buf_printf(q, "COPY %s (%s)", s->sc->pg.table, s->stmts[k].cols);
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
        const char *cols = s->stmts[b->slots[0].stmt].cols;
        spate_buf_printf(q, "INSERT INTO %s (%s) SELECT DISTINCT ON (", s->sc->pg.table, cols);
        for (size_t i = 0; i < s->sc->pg.nkey; i++) {
            if (i) spate_buf_puts(q, ", ");
            put_ident(q, s->sc->pg.key[i]);
        }
        spate_buf_printf(q, ") %s FROM %s ORDER BY ", cols, STAGE);
        for (size_t i = 0; i < s->sc->pg.nkey; i++) {
            put_ident(q, s->sc->pg.key[i]);
            spate_buf_puts(q, ", ");
        }
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
        if (*j->stop || s->ddl_failed) {
            snprintf(err, errlen, "%s%s", s->ddl_failed ? "" : "connect: ", e);
            free(s);
            return SPATE_ERR;
        }
        srun_backoff(j, &s->backoff_ms, "PostgreSQL connect: %s", e);
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
    srun_orig_keep(&r->orig, m);
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
            if (s->stalled) break; /* until a batch settles */
        }
    }
    return true;
}

static void psink_poll(void *state, int timeout_ms) {
    psink_t *s = state;
    if (!s->conn) {
        /* Reconnect when the backoff is over, with rows waiting or not: a
         * sink that says "reconnecting" does so, and an idle job finds out
         * at once (not at its next record) whether the server is back. */
        if (spate_mono_ms() < s->next_try_ms) {
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
        batch_free(s, b);
    }
    while (s->head) row_free(pop_front(s));
    for (int i = 0; i < s->nredo; i++) row_free(s->redo[i]);
    free(s->redo);
    if (s->conn) PQfinish(s->conn);
    for (int i = 0; i < s->nstmts; i++) {
        free(s->stmts[i].sig);
        free(s->stmts[i].cols);
        free(s->stmts[i].insert);
    }
    free(s->dealloc);
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
