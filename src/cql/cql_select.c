/*
 * cql_select.c — the read path of `spate cql`: SELECT on user tables,
 * answered from the store's snapshot iterators (cql_store.h) with
 * Cassandra's semantics and messages.
 *
 *   statement ─▶ selection (cql_select_resolve + token())
 *             ─▶ WHERE, per column and tuple ─▶ plan:
 *                  partitions  point: the pk values (= / IN, cartesian
 *                              product, sorted by key order, distinct)
 *                              scan: the whole table in token order,
 *                              within token(pk) bounds
 *                  rows        clustering prefixes (= / IN, product,
 *                              sorted in read order, distinct), then one
 *                              slice on the next column; reverse for ORDER BY
 *                  filters     what the store cannot restrict (ALLOW
 *                              FILTERING), checked per partition (partition
 *                              key, static columns) or per row
 *             ─▶ rows streamed into the Rows writer, a page at a time
 *
 * A point query runs one store iterator per (partition, clustering
 * prefix) pair, in order; a scan runs one iterator over the table (a new
 * one after a partition is skipped: PER PARTITION LIMIT, DISTINCT, a
 * failed partition filter). Each partition goes through the same steps:
 *
 *   begin ─▶ static row (kept: its values go on every row) ─▶ partition
 *   filters ─▶ rows (row filters, emitted) ─▶ end: a partition with a
 *   live static row and no rows is one row with null clustering and
 *   regular columns, when the query does not restrict clustering or
 *   regular columns (Cassandra's rule)
 *
 * Paging: a page ends when page_size rows were emitted and another one
 * would be (so Has_more_pages is never set on a last, empty page). The
 * state is the position of the last row emitted:
 *
 *   off size  field
 *   0   4     'S' 'E' 'L' 1
 *   4   4     table id
 *   8   1     mode: 0 start of (pi, cj); 1 after pos, inside partition pk;
 *             2 after pos, which ends a partition (scans)
 *   9   4     pi   point queries: the partition (index in the sorted pks)
 *   13  4     cj   the clustering prefix (index in read order)
 *   17  8     rows left of the LIMIT (INT64_MAX: none)
 *   25  8     rows already returned from the partition (mode 1)
 *   33  2     npk (mode 1), then npk [bytes] partition key values
 *   ..  4+n   [bytes] the store position (modes 1 and 2)
 *
 * Anything malformed, or not matching the query, is refused before a
 * byte of the answer is written (Protocol error "Invalid value for the
 * paging state", as Cassandra); a position only moves where the store
 * starts reading, so a forged one cannot reach another table.
 *
 * Order: partitions of an IN in the partition key's order, duplicates
 * dropped (Cassandra 2.2+), clustering IN values in clustering order. An
 * IN on the partition key with ORDER BY is sorted in memory, unpaged only
 * (as Cassandra). COUNT(*) reads everything and is one row, never paged.
 *
 * Values in WHERE go through cql_exec_term (constants, markers, literals,
 * functions), compared as the key encoding orders them (cql_key.h), so a
 * filter orders values as the type's comparator does.
 *
 * Not done: GROUP BY, aggregates other than COUNT(*), restrictions on map
 * elements (m['k'] = v) and UDT fields, LIKE (needs an index), JSON.
 */
#include "cql_exec.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ALLOW_FILTERING_MSG                                                                        \
    "Cannot execute this query as it might involve data filtering and thus may have "              \
    "unpredictable performance. If you want to execute this query despite the performance "        \
    "unpredictability, use ALLOW FILTERING"

#define MAX_COMBOS 65536 /* partition keys / clustering prefixes an IN product may give */

static const char PAGING_MAGIC[4] = {'S', 'E', 'L', 1};

static const spate_cql_ktype_t KT_BIGINT = {SPATE_CQL_BIGINT, 0, NULL};
static const spate_cql_datatype_t TYPE_BIGINT = {.id = SPATE_CQL_BIGINT};

enum { OUT_COLUMN, OUT_COUNT, OUT_WRITETIME, OUT_TTL, OUT_TOKEN };

/* Loop verdicts. */
enum { GO = 0, STOP = 1, FAIL = -1 };

/* Everything the WHERE clause says about one column. */
typedef struct {
    uint32_t nrel;
    bool eq, in; /* = / IN: the candidates */
    spate_slice_t *cands;
    uint32_t ncands;
    bool has_lo, has_hi;
    spate_cql_kslice_t lo, hi; /* > >= / < <= */
    spate_slice_t *ne, *contains, *ckey;
    uint32_t nne, ncontains, nckey;
    bool filter; /* checked on each partition / row */
} colres_t;

/* Multi-column relations on the clustering columns (a, b) op (...). */
typedef struct {
    bool any;
    bool eq; /* = or IN: tuples of eq_n values */
    uint32_t eq_n, ntuples;
    spate_slice_t *tuples;
    bool has_lo, lo_incl, has_hi, hi_incl;
    uint32_t nlo, nhi;
    spate_slice_t *lo, *hi;
    bool filter_eq; /* tuples checked per row (scans) */
} tuplres_t;

/* The paging state, decoded. */
typedef struct {
    uint8_t mode;
    uint32_t pi, cj;
    int64_t remaining, part_rows;
    spate_slice_t *pk;
    spate_slice_t pos;
} pstate_t;

/* A row being looked at. ck NULL: a partition's static-only row. */
typedef struct {
    const spate_slice_t *pk;
    const spate_slice_t *ck;
    const spate_cql_store_cell_t *cells;
    size_t ncells;
    int64_t token;
} rowref_t;

typedef struct {
    size_t key_off, key_len, row_off, row_len;
    uint32_t seq;
} sorted_t;

typedef struct {
    /* the request */
    cql_reply_t *rp;
    spate_cql_arena_t *a;
    const spate_cql_stmt_select_t *s;
    const cql_table_t *t;
    const cql_tview_t *v;
    spate_cql_store_t *st;
    const spate_slice_t *values;
    uint32_t nvalues;
    int64_t now;
    int32_t code; /* an ERROR to answer, with msg */
    char msg[1024];
    spate_status_t err; /* ENOMEM / EIO / EINVAL met while reading */

    /* selection */
    cql_selection_t sel;
    uint8_t *okind; /* OUT_* per result column */
    bool agg, distinct;

    /* plan */
    colres_t *res; /* [ncols] */
    tuplres_t tup;
    bool allow_filtering;
    bool point;
    spate_slice_t *pks; /* npks x npk */
    uint32_t npks;
    bool key_in;
    bool has_tok_lo, has_tok_hi, tok_empty, has_tok;
    int64_t tok_lo, tok_hi;
    uint16_t neq;       /* clustering prefix fixed by = / IN */
    spate_slice_t *cks; /* ncks x neq, in read order */
    uint32_t ncks;
    bool has_start, has_end;
    spate_cql_kslice_t start, end; /* on clustering column neq */
    bool reverse, ordered;
    bool has_part_filter, has_row_filter, has_ck_restr, has_reg_restr;
    bool full_partition, need_static, has_statics;
    int64_t limit, ppl;
    bool sorted; /* IN + ORDER BY, unpaged: rows sorted in memory */

    /* execution */
    int64_t page, page_n, remaining;
    bool more;
    uint64_t count;
    spate_cql_rows_t w;
    spate_buf_t tmp, ea, eb;
    /* the current partition */
    bool in_part, part_done, part_checked, had_rows, has_static;
    int64_t part_rows;
    spate_buf_t pkmem;
    spate_slice_t *cur_pk;
    int64_t cur_token;
    spate_buf_t smem; /* its static row */
    spate_cql_store_cell_t *scells;
    size_t nscells, cscells;
    uint32_t pi, cj;
    spate_cql_store_iter_t *it; /* the iterator the current row came from */
    /* the last row emitted: the paging state */
    bool have_last;
    uint8_t last_mode;
    uint32_t last_pi, last_cj;
    int64_t last_part_rows;
    spate_buf_t last_pos, last_pk;
    /* capture: aggregates keep the first row, sorted mode every row */
    bool capture;
    spate_buf_t cap, keys;
    sorted_t *rows;
    size_t nrows, crows;
} q_t;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static int fail(q_t *q, int32_t code, const char *fmt, ...) SPATE_PRINTF(3, 4);
static int fail(q_t *q, int32_t code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q->msg, sizeof q->msg, fmt, ap);
    va_end(ap);
    q->code = code;
    return FAIL;
}

static int nomem(q_t *q) { return fail(q, SPATE_CQL_ERR_SERVER, "out of memory"); }

static int col_index(const cql_table_t *t, const char *name) {
    for (uint32_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0) return (int)i;
    return -1;
}

/* The column at clustering / partition key position p. */
static uint32_t key_col(const cql_table_t *t, cql_col_kind_t kind, uint32_t p) {
    for (uint32_t i = 0; i < t->ncols; i++)
        if (t->cols[i].kind == kind && t->cols[i].position == (int32_t)p) return i;
    return 0;
}

static bool multicell(const q_t *q, uint32_t i) { return q->v->elem[i] != NULL; }

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v) {
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

static int64_t get_be64(const char *s) {
    const uint8_t *p = (const uint8_t *)s;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return (int64_t)v;
}

static void *alloc(q_t *q, size_t n) { return spate_cql_arena_alloc(q->a, n ? n : 1); }

/* Orders two values of type t as Cassandra's comparator does (their
 * order-preserving encodings, ascending); raw bytes for what cannot be
 * encoded (durations). */
static int vcmp(q_t *q, const spate_cql_ktype_t *t, spate_slice_t a, spate_slice_t b) {
    if (t->id == SPATE_CQL_COUNTER) t = &KT_BIGINT;
    spate_buf_reset(&q->ea);
    spate_buf_reset(&q->eb);
    const char *pa = a.p, *pb = b.p;
    size_t na = (size_t)SPATE_MAX(a.len, 0), nb = (size_t)SPATE_MAX(b.len, 0);
    if (t->id != SPATE_CQL_DURATION && t->id != SPATE_CQL_CUSTOM &&
        spate_cql_key_value_encode(&q->ea, t, (spate_slice_t){a.p ? a.p : "", (int32_t)na},
                                   false) == SPATE_OK &&
        spate_cql_key_value_encode(&q->eb, t, (spate_slice_t){b.p ? b.p : "", (int32_t)nb},
                                   false) == SPATE_OK) {
        pa = q->ea.data, na = q->ea.len;
        pb = q->eb.data, nb = q->eb.len;
    }
    int c = memcmp(pa ? pa : "", pb ? pb : "", SPATE_MIN(na, nb));
    if (c) return c < 0 ? -1 : 1;
    return na < nb ? -1 : na > nb;
}

/* The element types of a collection's text ("list<int>" → "int";
 * "map<text, int>" → "text" / "int"), for messages. In the arena. */
static const char *sub_type_text(q_t *q, const char *tt, int which) {
    if (strncmp(tt, "frozen<", 7) == 0) tt += 7;
    const char *lt = strchr(tt, '<');
    if (!lt) return tt;
    const char *p = lt + 1, *from = p;
    int depth = 0, idx = 0;
    for (; *p; p++) {
        if (*p == '<')
            depth++;
        else if (*p == '>' && depth-- == 0)
            break;
        else if (*p == ',' && depth == 0) {
            if (idx == which) break;
            idx++;
            from = p + 1;
            while (*from == ' ') from++;
        }
    }
    const char *r = spate_cql_arena_strndup(q->a, from, (size_t)(p - from));
    return r ? r : "?";
}

/* ------------------------------------------------------------------ */
/* Terms                                                               */
/* ------------------------------------------------------------------ */

/* A column standing for an element (CONTAINS: "value(c)", CONTAINS KEY:
 * "key(c)"), for the checks and messages of cql_exec_term. */
static const cql_column_t *elem_column(q_t *q, const cql_column_t *c, bool key) {
    cql_column_t *e = alloc(q, sizeof *e);
    if (!e) return NULL;
    *e = *c;
    uint16_t which = c->type.id == SPATE_CQL_MAP && !key ? 1 : 0;
    if (c->type.n <= which || !c->type.sub) return NULL;
    e->type = c->type.sub[which];
    size_t n = strlen(c->name) + 8;
    char *name = alloc(q, n);
    if (!name) return NULL;
    snprintf(name, n, "%s(%s)", key ? "key" : "value", c->name);
    e->name = name;
    e->type_text = (char *)sub_type_text(q, c->type_text, which);
    return e;
}

/* A WHERE value for column c (constants, bind markers, literals of
 * collections and tuples, functions: cql_exec_term); null and unset are
 * refused as Cassandra does in a condition. */
static int term(q_t *q, const cql_column_t *c, const spate_cql_term_t *tm, spate_slice_t *out) {
    int32_t code =
        cql_exec_term(q->rp->srv, q->a, c, tm, q->values, q->nvalues, out, q->msg, sizeof q->msg);
    if (code) {
        q->code = code;
        return FAIL;
    }
    if (out->len == SPATE_CQL_UNSET)
        return fail(q, SPATE_CQL_ERR_INVALID, "Invalid unset value for column %s", c->name);
    if (!out->p || out->len < 0)
        return fail(q, SPATE_CQL_ERR_INVALID, "Invalid null value in condition for column %s",
                    c->name);
    return GO;
}

/* The candidates of `c IN (...)` or `c IN ?` (a list<type> value). */
static int in_values(q_t *q, const cql_column_t *c, const spate_cql_relation_t *r,
                     spate_slice_t **out, uint32_t *n) {
    if (r->in_list) {
        *out = alloc(q, r->nin * sizeof **out);
        if (!*out) return nomem(q);
        for (uint32_t i = 0; i < r->nin; i++)
            if (term(q, c, r->in[i], &(*out)[i]) != GO) return FAIL;
        *n = r->nin;
        return GO;
    }
    if (!r->value || r->value->kind != SPATE_CQL_TERM_BIND || r->value->bind.index >= q->nvalues)
        return fail(q, SPATE_CQL_ERR_INVALID, "Invalid IN restriction on column %s", c->name);
    spate_slice_t v = q->values[r->value->bind.index];
    if (v.len == SPATE_CQL_UNSET)
        return fail(q, SPATE_CQL_ERR_INVALID, "Invalid unset value for column %s", c->name);
    if (v.len < 0 || !v.p)
        return fail(q, SPATE_CQL_ERR_INVALID, "Invalid null value for IN restriction on column %s",
                    c->name);
    spate_rd_t rd;
    spate_rd_init(&rd, v.p, (size_t)v.len);
    int32_t cnt;
    if (spate_rd_i32(&rd, &cnt) != SPATE_OK || cnt < 0 || (size_t)cnt > spate_rd_left(&rd) / 4)
        return fail(q, SPATE_CQL_ERR_INVALID, "Invalid list value for IN restriction on column %s",
                    c->name);
    *out = alloc(q, (size_t)cnt * sizeof **out);
    if (!*out) return nomem(q);
    for (int32_t i = 0; i < cnt; i++) {
        spate_slice_t e;
        if (spate_rd_str32(&rd, &e) != SPATE_OK || !e.p)
            return fail(q, SPATE_CQL_ERR_INVALID,
                        "Invalid list value for IN restriction on column %s", c->name);
        char err[256];
        if (spate_cql_value_validate(&c->type, e.p, (size_t)e.len, err, sizeof err) != SPATE_OK)
            return fail(q, SPATE_CQL_ERR_INVALID, "%s", err);
        (*out)[i] = e;
    }
    *n = (uint32_t)cnt;
    return GO;
}

/* A tuple of n clustering values: a (..) literal or a bound tuple. */
static int tuple_value(q_t *q, const spate_cql_term_t *tm, uint32_t n, spate_slice_t *out) {
    const cql_table_t *t = q->t;
    if (tm->kind == SPATE_CQL_TERM_TUPLE) {
        if (tm->items.n != n)
            return fail(q, SPATE_CQL_ERR_INVALID, "Expected %u elements in value tuple, but got %u",
                        n, tm->items.n);
        for (uint32_t i = 0; i < n; i++)
            if (term(q, &t->cols[key_col(t, CQL_KIND_CLUSTERING, i)], tm->items.v[i], &out[i]) !=
                GO)
                return FAIL;
        return GO;
    }
    if (tm->kind != SPATE_CQL_TERM_BIND || tm->bind.index >= q->nvalues)
        return fail(q, SPATE_CQL_ERR_INVALID, "Invalid tuple value in multi-column relation");
    spate_slice_t v = q->values[tm->bind.index];
    if (v.len < 0 || !v.p)
        return fail(q, SPATE_CQL_ERR_INVALID, "Invalid null value in condition for columns");
    spate_rd_t rd;
    spate_rd_init(&rd, v.p, (size_t)v.len);
    for (uint32_t i = 0; i < n; i++) {
        const cql_column_t *c = &t->cols[key_col(t, CQL_KIND_CLUSTERING, i)];
        char err[256];
        if (spate_rd_str32(&rd, &out[i]) != SPATE_OK)
            return fail(q, SPATE_CQL_ERR_INVALID, "Invalid tuple value in multi-column relation");
        if (!out[i].p)
            return fail(q, SPATE_CQL_ERR_INVALID, "Invalid null value in condition for column %s",
                        c->name);
        if (spate_cql_value_validate(&c->type, out[i].p, (size_t)out[i].len, err, sizeof err) !=
            SPATE_OK)
            return fail(q, SPATE_CQL_ERR_INVALID, "%s", err);
    }
    return GO;
}

/* LIMIT / PER PARTITION LIMIT: a positive int (constant or bound). */
static int limit_value(q_t *q, const spate_cql_term_t *tm, const char *what, int64_t *out) {
    *out = 0;
    if (!tm) return GO;
    int64_t v = 0;
    if (tm->kind == SPATE_CQL_TERM_CONST && tm->lit.kind == SPATE_CQL_LIT_INTEGER) {
        if (spate_parse_i64(tm->lit.text, INT32_MIN, INT32_MAX, &v) != SPATE_OK)
            return fail(q, SPATE_CQL_ERR_INVALID,
                        "Invalid INTEGER constant (%s) for \"[%s]\" of "
                        "type int",
                        tm->lit.text, strcmp(what, "LIMIT") ? "per_partition_limit" : "limit");
    } else if (tm->kind == SPATE_CQL_TERM_BIND && tm->bind.index < q->nvalues) {
        spate_slice_t s = q->values[tm->bind.index];
        if (s.len == SPATE_CQL_UNSET) return GO;
        if (!s.p || s.len < 0)
            return fail(q, SPATE_CQL_ERR_INVALID, "Invalid null value of %s",
                        strcmp(what, "LIMIT") ? "per partition limit" : "limit");
        if (s.len != 4)
            return fail(q, SPATE_CQL_ERR_INVALID, "Expected 4 or 0 byte int (%d)", (int)s.len);
        const uint8_t *p = (const uint8_t *)s.p;
        v = (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
    } else {
        return fail(q, SPATE_CQL_ERR_INVALID, "Invalid %s", what);
    }
    if (v <= 0) return fail(q, SPATE_CQL_ERR_INVALID, "%s must be strictly positive", what);
    *out = v;
    return GO;
}

/* ------------------------------------------------------------------ */
/* Selection                                                           */
/* ------------------------------------------------------------------ */

static bool is_token_selector(const spate_cql_selector_t *s) {
    return s->kind == SPATE_CQL_SEL_FUNC && strcmp(s->name, "token") == 0 &&
           (!s->ks || strcmp(s->ks, "system") == 0);
}

int32_t cql_select_columns(spate_cql_arena_t *a, const cql_table_t *t,
                           const spate_cql_stmt_select_t *s, cql_selection_t *out, char *msg,
                           size_t msglen) {
    bool tok = false;
    for (uint32_t i = 0; i < s->nsel; i++) tok |= is_token_selector(s->sel[i]);
    if (!tok) return cql_select_resolve(a, t, s, out, msg, msglen);
    /* one selector at a time, so that token() is ours */
    memset(out, 0, sizeof *out);
    out->n = s->nsel;
    out->cols = spate_cql_arena_alloc(a, s->nsel * sizeof *out->cols);
    if (!out->cols) {
        snprintf(msg, msglen, "out of memory");
        return SPATE_CQL_ERR_SERVER;
    }
    for (uint32_t i = 0; i < s->nsel; i++) {
        const spate_cql_selector_t *x = s->sel[i];
        cql_selcol_t *c = &out->cols[i];
        if (is_token_selector(x)) {
            c->name = spate_cql_selector_name(a, x);
            if (!c->name) {
                snprintf(msg, msglen, "out of memory");
                return SPATE_CQL_ERR_SERVER;
            }
            c->kind = CQL_SEL_COLUMN;
            c->col = NULL;
            c->type = &TYPE_BIGINT;
            bool ok = x->nargs == t->npk;
            for (uint32_t k = 0; ok && k < x->nargs; k++) {
                const spate_cql_selector_t *arg = x->args[k];
                int ci = arg->kind == SPATE_CQL_SEL_COLUMN ? col_index(t, arg->name) : -1;
                if (arg->kind == SPATE_CQL_SEL_COLUMN && ci < 0) {
                    snprintf(msg, msglen, "Undefined column name %s", arg->name);
                    return SPATE_CQL_ERR_INVALID;
                }
                ok = ci >= 0 && t->cols[ci].kind == CQL_KIND_PARTITION_KEY &&
                     t->cols[ci].position == (int32_t)k;
            }
            if (!ok) {
                snprintf(msg, msglen,
                         "Type error: %s cannot be passed as argument of function system.token: "
                         "the arguments must be the partition key columns in order",
                         c->name);
                return SPATE_CQL_ERR_INVALID;
            }
            continue;
        }
        spate_cql_stmt_select_t one = *s;
        one.sel = (spate_cql_selector_t **)&s->sel[i];
        one.nsel = 1;
        cql_selection_t r;
        int32_t code = cql_select_resolve(a, t, &one, &r, msg, msglen);
        if (code) return code;
        *c = r.cols[0];
        out->aggregate |= r.aggregate;
    }
    return 0;
}

/* The selection, and what each result column is made of. */
static int resolve_selection(q_t *q) {
    int32_t code = cql_select_columns(q->a, q->t, q->s, &q->sel, q->msg, sizeof q->msg);
    if (code) {
        q->code = code;
        return FAIL;
    }
    q->okind = alloc(q, q->sel.n);
    if (!q->okind) return nomem(q);
    for (uint32_t i = 0; i < q->sel.n; i++) {
        const cql_selcol_t *c = &q->sel.cols[i];
        switch (c->kind) {
        case CQL_SEL_COUNT: q->okind[i] = OUT_COUNT; break;
        case CQL_SEL_WRITETIME:
        case CQL_SEL_TTL:
            if (multicell(q, c->col_index))
                return fail(q, SPATE_CQL_ERR_INVALID,
                            "Cannot use selection function %s on non-frozen collection %s",
                            c->kind == CQL_SEL_WRITETIME ? "writeTime" : "ttl", c->col->name);
            q->okind[i] = c->kind == CQL_SEL_WRITETIME ? OUT_WRITETIME : OUT_TTL;
            break;
        default: q->okind[i] = c->col ? OUT_COLUMN : OUT_TOKEN; break;
        }
    }
    q->agg = q->sel.aggregate;
    return GO;
}

/* ------------------------------------------------------------------ */
/* WHERE                                                               */
/* ------------------------------------------------------------------ */

static const char *op_text(spate_cql_rel_op_t op) {
    switch (op) {
    case SPATE_CQL_REL_EQ: return "=";
    case SPATE_CQL_REL_LT: return "<";
    case SPATE_CQL_REL_LE: return "<=";
    case SPATE_CQL_REL_GT: return ">";
    case SPATE_CQL_REL_GE: return ">=";
    case SPATE_CQL_REL_NE: return "!=";
    case SPATE_CQL_REL_IN: return "IN";
    case SPATE_CQL_REL_CONTAINS: return "CONTAINS";
    case SPATE_CQL_REL_CONTAINS_KEY: return "CONTAINS KEY";
    case SPATE_CQL_REL_LIKE: return "LIKE";
    case SPATE_CQL_REL_IS_NOT_NULL: return "IS NOT";
    }
    return "?";
}

static bool is_slice(spate_cql_rel_op_t op) {
    return op == SPATE_CQL_REL_LT || op == SPATE_CQL_REL_LE || op == SPATE_CQL_REL_GT ||
           op == SPATE_CQL_REL_GE;
}

static spate_slice_t *list_slot(q_t *q, spate_slice_t **arr, uint32_t *n) {
    if (!*arr && !(*arr = alloc(q, q->s->nwhere * sizeof **arr))) return NULL;
    return &(*arr)[(*n)++];
}

static int column_relation(q_t *q, const spate_cql_relation_t *r) {
    const cql_table_t *t = q->t;
    int k = col_index(t, r->cols[0]);
    if (k < 0) return fail(q, SPATE_CQL_ERR_INVALID, "Undefined column name %s", r->cols[0]);
    const cql_column_t *c = &t->cols[k];
    colres_t *x = &q->res[k];
    spate_cql_rel_op_t op = r->op;
    bool mc = multicell(q, (uint32_t)k);
    if (op == SPATE_CQL_REL_LIKE)
        return fail(q, SPATE_CQL_ERR_INVALID,
                    "LIKE restriction is only supported on properly indexed columns. %s LIKE ... "
                    "is not valid.",
                    c->name);
    if (op == SPATE_CQL_REL_IS_NOT_NULL)
        return fail(q, SPATE_CQL_ERR_INVALID, "Unsupported restriction: %s IS NOT NULL", c->name);
    if (mc && op != SPATE_CQL_REL_CONTAINS && op != SPATE_CQL_REL_CONTAINS_KEY)
        return fail(q, SPATE_CQL_ERR_INVALID,
                    "Collection column '%s' (%s) cannot be restricted by a '%s' relation", c->name,
                    c->type_text, op_text(op));
    if (op == SPATE_CQL_REL_CONTAINS && c->type.id != SPATE_CQL_LIST &&
        c->type.id != SPATE_CQL_SET && c->type.id != SPATE_CQL_MAP)
        return fail(q, SPATE_CQL_ERR_INVALID, "Cannot use CONTAINS on non-collection column %s",
                    c->name);
    if (op == SPATE_CQL_REL_CONTAINS_KEY && c->type.id != SPATE_CQL_MAP)
        return fail(q, SPATE_CQL_ERR_INVALID, "Cannot use CONTAINS KEY on non-map column %s",
                    c->name);
    if (is_slice(op) && c->type.id == SPATE_CQL_DURATION)
        return fail(q, SPATE_CQL_ERR_INVALID,
                    "Slice restrictions are not supported on duration columns");
    /* Cassandra's merge rules: = and IN exclude anything else */
    if (x->nrel && (x->eq || op == SPATE_CQL_REL_EQ))
        return fail(q, SPATE_CQL_ERR_INVALID,
                    "%s cannot be restricted by more than one relation if it includes an Equal",
                    c->name);
    if (x->nrel && (x->in || op == SPATE_CQL_REL_IN))
        return fail(q, SPATE_CQL_ERR_INVALID,
                    "%s cannot be restricted by more than one relation if it includes a IN",
                    c->name);
    x->nrel++;
    switch (op) {
    case SPATE_CQL_REL_EQ:
        x->eq = true;
        x->cands = alloc(q, sizeof *x->cands);
        if (!x->cands) return nomem(q);
        x->ncands = 1;
        return term(q, c, r->value, &x->cands[0]);
    case SPATE_CQL_REL_IN: x->in = true; return in_values(q, c, r, &x->cands, &x->ncands);
    case SPATE_CQL_REL_GT:
    case SPATE_CQL_REL_GE:
        if (x->has_lo)
            return fail(q, SPATE_CQL_ERR_INVALID,
                        "More than one restriction was found for the start bound on %s", c->name);
        x->has_lo = true;
        x->lo.inclusive = op == SPATE_CQL_REL_GE;
        return term(q, c, r->value, &x->lo.value);
    case SPATE_CQL_REL_LT:
    case SPATE_CQL_REL_LE:
        if (x->has_hi)
            return fail(q, SPATE_CQL_ERR_INVALID,
                        "More than one restriction was found for the end bound on %s", c->name);
        x->has_hi = true;
        x->hi.inclusive = op == SPATE_CQL_REL_LE;
        return term(q, c, r->value, &x->hi.value);
    case SPATE_CQL_REL_NE: {
        spate_slice_t *v = list_slot(q, &x->ne, &x->nne);
        return v ? term(q, c, r->value, v) : nomem(q);
    }
    case SPATE_CQL_REL_CONTAINS:
    case SPATE_CQL_REL_CONTAINS_KEY: {
        bool key = op == SPATE_CQL_REL_CONTAINS_KEY;
        const cql_column_t *e = elem_column(q, c, key);
        if (!e) return nomem(q);
        spate_slice_t *v =
            key ? list_slot(q, &x->ckey, &x->nckey) : list_slot(q, &x->contains, &x->ncontains);
        return v ? term(q, e, r->value, v) : nomem(q);
    }
    default: break;
    }
    return fail(q, SPATE_CQL_ERR_INVALID, "Unsupported \"%s\" relation on %s", op_text(op),
                c->name);
}

static int token_relation(q_t *q, const spate_cql_relation_t *r) {
    const cql_table_t *t = q->t;
    bool all = r->ncols == t->npk, ordered = true;
    for (uint32_t i = 0; i < r->ncols; i++) {
        int k = col_index(t, r->cols[i]);
        if (k < 0) return fail(q, SPATE_CQL_ERR_INVALID, "Undefined column name %s", r->cols[i]);
        if (t->cols[k].kind != CQL_KIND_PARTITION_KEY)
            all = false;
        else if (t->cols[k].position != (int32_t)i)
            ordered = false;
    }
    if (!all)
        return fail(q, SPATE_CQL_ERR_INVALID,
                    "The token() function must be applied to all partition key components or "
                    "none of them");
    if (!ordered) {
        char names[512] = "";
        size_t n = 0;
        for (uint32_t i = 0; i < t->npk && n < sizeof names; i++)
            n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "",
                                  t->cols[key_col(t, CQL_KIND_PARTITION_KEY, i)].name);
        return fail(q, SPATE_CQL_ERR_INVALID,
                    "The token function arguments must be in the partition key order: %s", names);
    }
    if (r->op != SPATE_CQL_REL_EQ && !is_slice(r->op))
        return fail(q, SPATE_CQL_ERR_INVALID, "%s cannot be used with the token function",
                    op_text(r->op));
    cql_column_t tc = {.name = (char *)"partition key token",
                       .type_text = (char *)"bigint",
                       .type = {.id = SPATE_CQL_BIGINT}};
    spate_slice_t v;
    if (term(q, &tc, r->value, &v) != GO) return FAIL;
    if (v.len != 8) return fail(q, SPATE_CQL_ERR_INVALID, "Invalid token value");
    int64_t x = get_be64(v.p);
    bool lo = r->op == SPATE_CQL_REL_GT || r->op == SPATE_CQL_REL_GE || r->op == SPATE_CQL_REL_EQ;
    bool hi = r->op == SPATE_CQL_REL_LT || r->op == SPATE_CQL_REL_LE || r->op == SPATE_CQL_REL_EQ;
    if ((lo && q->has_tok_lo && r->op != SPATE_CQL_REL_EQ) ||
        (hi && q->has_tok_hi && r->op != SPATE_CQL_REL_EQ) ||
        (q->has_tok && (r->op == SPATE_CQL_REL_EQ)))
        return fail(q, SPATE_CQL_ERR_INVALID,
                    "More than one restriction was found for the %s bound on %s",
                    lo ? "start" : "end", "token");
    q->has_tok = true;
    if (lo) {
        int64_t b = x;
        if (r->op == SPATE_CQL_REL_GT) {
            if (x == INT64_MAX)
                q->tok_empty = true;
            else
                b = x + 1;
        }
        if (!q->has_tok_lo || b > q->tok_lo) q->tok_lo = b;
        q->has_tok_lo = true;
    }
    if (hi) {
        int64_t b = x;
        if (r->op == SPATE_CQL_REL_LT) {
            if (x == INT64_MIN)
                q->tok_empty = true;
            else
                b = x - 1;
        }
        if (!q->has_tok_hi || b < q->tok_hi) q->tok_hi = b;
        q->has_tok_hi = true;
    }
    if (q->has_tok_lo && q->has_tok_hi && q->tok_lo > q->tok_hi) q->tok_empty = true;
    return GO;
}

static int tuple_relation(q_t *q, const spate_cql_relation_t *r) {
    const cql_table_t *t = q->t;
    tuplres_t *x = &q->tup;
    char names[512] = "";
    size_t nn = 0;
    for (uint32_t i = 0; i < r->ncols && nn < sizeof names; i++)
        nn += (size_t)snprintf(names + nn, sizeof names - nn, "%s%s", i ? ", " : "", r->cols[i]);
    for (uint32_t i = 0; i < r->ncols; i++) {
        int k = col_index(t, r->cols[i]);
        if (k < 0) return fail(q, SPATE_CQL_ERR_INVALID, "Undefined column name %s", r->cols[i]);
        if (t->cols[k].kind != CQL_KIND_CLUSTERING)
            return fail(q, SPATE_CQL_ERR_INVALID,
                        "Multi-column relations can only be applied to clustering columns but was "
                        "applied to: %s",
                        t->cols[k].name);
        if (t->cols[k].position != (int32_t)i) {
            if (i == 0)
                return fail(q, SPATE_CQL_ERR_INVALID,
                            "PRIMARY KEY column \"%s\" cannot be restricted as preceding column "
                            "\"%s\" is not restricted",
                            t->cols[k].name, t->cols[key_col(t, CQL_KIND_CLUSTERING, 0)].name);
            return fail(q, SPATE_CQL_ERR_INVALID,
                        "Clustering columns must appear in the PRIMARY KEY order in multi-column "
                        "relations: (%s)",
                        names);
        }
    }
    uint32_t n = r->ncols;
    x->any = true;
    switch (r->op) {
    case SPATE_CQL_REL_EQ:
    case SPATE_CQL_REL_IN: {
        if (x->eq || x->has_lo || x->has_hi)
            return fail(q, SPATE_CQL_ERR_INVALID,
                        "Column \"%s\" cannot be restricted by more than one relation if it "
                        "includes an Equal",
                        r->cols[0]);
        x->eq = true;
        x->eq_n = n;
        if (r->op == SPATE_CQL_REL_EQ || r->in_list) {
            uint32_t cnt = r->op == SPATE_CQL_REL_EQ ? 1 : r->nin;
            x->tuples = alloc(q, (size_t)cnt * n * sizeof *x->tuples);
            if (!x->tuples) return nomem(q);
            for (uint32_t i = 0; i < cnt; i++)
                if (tuple_value(q, r->op == SPATE_CQL_REL_EQ ? r->value : r->in[i], n,
                                &x->tuples[i * n]) != GO)
                    return FAIL;
            x->ntuples = cnt;
            return GO;
        }
        /* (a, b) IN ?: a list of tuples */
        if (!r->value || r->value->kind != SPATE_CQL_TERM_BIND ||
            r->value->bind.index >= q->nvalues)
            return fail(q, SPATE_CQL_ERR_INVALID, "Invalid IN restriction on columns (%s)", names);
        spate_slice_t v = q->values[r->value->bind.index];
        if (v.len < 0 || !v.p)
            return fail(q, SPATE_CQL_ERR_INVALID, "Invalid null value for IN restriction");
        spate_rd_t rd;
        spate_rd_init(&rd, v.p, (size_t)v.len);
        int32_t cnt;
        if (spate_rd_i32(&rd, &cnt) != SPATE_OK || cnt < 0 || (size_t)cnt > spate_rd_left(&rd) / 4)
            return fail(q, SPATE_CQL_ERR_INVALID, "Invalid list value for IN restriction");
        x->tuples = alloc(q, (size_t)cnt * n * sizeof *x->tuples);
        if (!x->tuples) return nomem(q);
        for (int32_t i = 0; i < cnt; i++) {
            spate_slice_t e;
            if (spate_rd_str32(&rd, &e) != SPATE_OK || !e.p)
                return fail(q, SPATE_CQL_ERR_INVALID, "Invalid list value for IN restriction");
            spate_cql_term_t bt = {.kind = SPATE_CQL_TERM_BIND};
            const spate_slice_t *saved = q->values;
            uint32_t savedn = q->nvalues;
            q->values = &e;
            q->nvalues = 1;
            bt.bind.index = 0;
            int rc = tuple_value(q, &bt, n, &x->tuples[(size_t)i * n]);
            q->values = saved;
            q->nvalues = savedn;
            if (rc != GO) return FAIL;
        }
        x->ntuples = (uint32_t)cnt;
        return GO;
    }
    case SPATE_CQL_REL_GT:
    case SPATE_CQL_REL_GE:
    case SPATE_CQL_REL_LT:
    case SPATE_CQL_REL_LE: {
        bool lo = r->op == SPATE_CQL_REL_GT || r->op == SPATE_CQL_REL_GE;
        if (x->eq)
            return fail(q, SPATE_CQL_ERR_INVALID,
                        "Column \"%s\" cannot be restricted by both an equality and an inequality "
                        "relation",
                        r->cols[0]);
        if (lo ? x->has_lo : x->has_hi)
            return fail(q, SPATE_CQL_ERR_INVALID,
                        "More than one restriction was found for the %s bound on %s",
                        lo ? "start" : "end", r->cols[0]);
        spate_slice_t *vals = alloc(q, n * sizeof *vals);
        if (!vals) return nomem(q);
        if (tuple_value(q, r->value, n, vals) != GO) return FAIL;
        if (lo) {
            x->has_lo = true;
            x->lo_incl = r->op == SPATE_CQL_REL_GE;
            x->nlo = n;
            x->lo = vals;
        } else {
            x->has_hi = true;
            x->hi_incl = r->op == SPATE_CQL_REL_LE;
            x->nhi = n;
            x->hi = vals;
        }
        return GO;
    }
    default:
        return fail(q, SPATE_CQL_ERR_INVALID, "Unsupported \"%s\" relation on (%s)", op_text(r->op),
                    names);
    }
}

typedef struct {
    const char *key;
    size_t klen;
    uint32_t idx;
} keyed_t;

static int keyed_cmp(const void *pa, const void *pb) {
    const keyed_t *a = pa, *b = pb;
    int c = memcmp(a->key, b->key, SPATE_MIN(a->klen, b->klen));
    if (c) return c;
    if (a->klen != b->klen) return a->klen < b->klen ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* The cartesian product of n columns' candidates (cands[i], ncand[i]),
 * sorted by the order-preserving encoding enc gives each combination,
 * duplicates dropped; reversed when rev. */
static int product(q_t *q, uint32_t n, spate_slice_t *const *cands, const uint32_t *ncand,
                   spate_slice_t *const tuples, uint32_t ntuples_in, bool clustering, bool rev,
                   spate_slice_t **out, uint32_t *nout) {
    uint64_t total = 1;
    if (tuples) {
        total = ntuples_in;
    } else {
        for (uint32_t i = 0; i < n; i++) {
            total *= ncand[i];
            if (total > MAX_COMBOS)
                return fail(q, SPATE_CQL_ERR_INVALID,
                            "IN restrictions give more than %u %s combinations", MAX_COMBOS,
                            clustering ? "clustering" : "partition key");
        }
    }
    spate_slice_t *all = alloc(q, (size_t)total * n * sizeof *all);
    keyed_t *ks = alloc(q, (size_t)total * sizeof *ks);
    if (!all || !ks) return nomem(q);
    spate_buf_t b = SPATE_BUF_INIT;
    size_t *offs = spate_xcalloc((size_t)total + 1, sizeof *offs);
    for (uint64_t c = 0; c < total; c++) {
        spate_slice_t *row = &all[c * n];
        if (tuples) {
            memcpy(row, &tuples[c * n], n * sizeof *row);
        } else {
            uint64_t rest = c;
            for (uint32_t i = n; i-- > 0;) {
                row[i] = cands[i][rest % ncand[i]];
                rest /= ncand[i];
            }
        }
        offs[c] = b.len;
        spate_status_t st = SPATE_OK;
        if (clustering) {
            st = spate_cql_key_clustering(&b, &q->v->key, row, (uint16_t)n);
        } else {
            for (uint32_t i = 0; i < n && st == SPATE_OK; i++) {
                if (n == 1 && row[i].len == 0) {
                    spate_buf_free(&b);
                    free(offs);
                    return fail(q, SPATE_CQL_ERR_INVALID, "Key may not be empty");
                }
                if (row[i].len > SPATE_CQL_KEY_MAX_VALUE) {
                    spate_buf_free(&b);
                    free(offs);
                    return fail(q, SPATE_CQL_ERR_INVALID,
                                "Key length of %d is longer than maximum of %d", (int)row[i].len,
                                SPATE_CQL_KEY_MAX_VALUE);
                }
                st = spate_cql_key_value_encode(&b, q->v->key.pk[i].type, row[i], false);
            }
        }
        if (st != SPATE_OK) {
            spate_buf_free(&b);
            free(offs);
            if (st == SPATE_ENOMEM) return nomem(q);
            return fail(q, SPATE_CQL_ERR_INVALID, "Invalid %s value",
                        clustering ? "clustering key" : "partition key");
        }
        ks[c].idx = (uint32_t)c;
    }
    offs[total] = b.len;
    for (uint64_t c = 0; c < total; c++) {
        ks[c].key = b.data ? b.data + offs[c] : "";
        ks[c].klen = offs[c + 1] - offs[c];
    }
    qsort(ks, (size_t)total, sizeof *ks, keyed_cmp);
    spate_slice_t *res = alloc(q, (size_t)total * n * sizeof *res);
    if (!res) {
        spate_buf_free(&b);
        free(offs);
        return nomem(q);
    }
    uint32_t m = 0;
    for (uint64_t c = 0; c < total; c++) {
        if (c > 0 && ks[c].klen == ks[c - 1].klen &&
            memcmp(ks[c].key, ks[c - 1].key, ks[c].klen) == 0)
            continue;
        memcpy(&res[(size_t)m * n], &all[(size_t)ks[c].idx * n], n * sizeof *res);
        m++;
    }
    if (rev)
        for (uint32_t i = 0, j = m; i + 1 < j; i++, j--)
            for (uint32_t k = 0; k < n; k++) {
                spate_slice_t tmp = res[(size_t)i * n + k];
                res[(size_t)i * n + k] = res[(size_t)(j - 1) * n + k];
                res[(size_t)(j - 1) * n + k] = tmp;
            }
    spate_buf_free(&b);
    free(offs);
    *out = res;
    *nout = m;
    return GO;
}

/* ORDER BY: sets q->reverse (after the WHERE analysis: EQ columns). */
static int order_by(q_t *q) {
    const spate_cql_stmt_select_t *s = q->s;
    const cql_table_t *t = q->t;
    if (!s->norder) return GO;
    for (uint32_t i = 0; i < s->norder; i++)
        if (col_index(t, s->order[i].col) < 0)
            return fail(q, SPATE_CQL_ERR_INVALID, "Undefined column name %s", s->order[i].col);
    if (!q->point)
        return fail(q, SPATE_CQL_ERR_INVALID,
                    "ORDER BY is only supported when the partition key is restricted by an EQ or "
                    "an IN.");
    int rev = -1;
    uint32_t next = 0;
    for (uint32_t i = 0; i < s->norder; i++) {
        const cql_column_t *c = &t->cols[col_index(t, s->order[i].col)];
        bool dup = false;
        for (uint32_t j = 0; j < i; j++) dup |= strcmp(s->order[j].col, s->order[i].col) == 0;
        if (dup) continue;
        if (c->kind != CQL_KIND_CLUSTERING)
            return fail(q, SPATE_CQL_ERR_INVALID,
                        "Order by is currently only supported on the clustered columns of the "
                        "PRIMARY KEY, got %s",
                        c->name);
        while (next != (uint32_t)c->position) {
            uint32_t k = key_col(t, CQL_KIND_CLUSTERING, next++);
            bool eq = q->res[k].eq || (q->tup.eq && q->tup.ntuples == 1 && next <= q->tup.eq_n);
            if (!eq)
                return fail(q, SPATE_CQL_ERR_INVALID,
                            "Order by currently only supports the ordering of columns following "
                            "their declared order in the PRIMARY KEY");
        }
        next++;
        int r = s->order[i].desc != c->desc;
        if (rev >= 0 && r != rev)
            return fail(q, SPATE_CQL_ERR_INVALID, "Unsupported order by relation");
        rev = r;
    }
    q->reverse = rev == 1;
    q->ordered = true;
    return GO;
}

static bool has_restriction(const colres_t *x) { return x->nrel > 0; }

/* Builds the plan from the WHERE clause; checks what needs ALLOW
 * FILTERING, in Cassandra's order. */
static int plan(q_t *q) {
    const spate_cql_stmt_select_t *s = q->s;
    const cql_table_t *t = q->t;
    q->res = alloc(q, t->ncols * sizeof *q->res);
    if (!q->res) return nomem(q);
    for (uint32_t i = 0; i < s->nwhere; i++) {
        const spate_cql_relation_t *r = &s->where[i];
        int rc;
        switch (r->lhs) {
        case SPATE_CQL_LHS_COLUMN: rc = column_relation(q, r); break;
        case SPATE_CQL_LHS_TOKEN: rc = token_relation(q, r); break;
        case SPATE_CQL_LHS_TUPLE: rc = tuple_relation(q, r); break;
        default:
            rc = fail(q, SPATE_CQL_ERR_INVALID,
                      "Restrictions on collection elements and fields are not supported yet by "
                      "spate cql");
            break;
        }
        if (rc != GO) return rc;
    }
    q->allow_filtering = s->allow_filtering;
    for (uint32_t i = 0; i < t->ncols; i++) q->has_statics |= t->cols[i].kind == CQL_KIND_STATIC;

    /* partitions */
    bool pk_any = false, pk_all = true;
    for (uint32_t p = 0; p < t->npk; p++) {
        const colres_t *x = &q->res[key_col(t, CQL_KIND_PARTITION_KEY, p)];
        pk_any |= has_restriction(x);
        pk_all &= x->eq || x->in;
        q->key_in |= x->in;
    }
    if (pk_all) {
        q->point = true;
        spate_slice_t *cands[64];
        uint32_t ncand[64];
        if (t->npk > 64) return fail(q, SPATE_CQL_ERR_INVALID, "Too many partition key columns");
        for (uint32_t p = 0; p < t->npk; p++) {
            const colres_t *x = &q->res[key_col(t, CQL_KIND_PARTITION_KEY, p)];
            cands[p] = x->cands;
            ncand[p] = x->ncands;
        }
        if (product(q, t->npk, cands, ncand, NULL, 0, false, false, &q->pks, &q->npks) != GO)
            return FAIL;
    } else if (pk_any) {
        if (!q->allow_filtering) return fail(q, SPATE_CQL_ERR_INVALID, ALLOW_FILTERING_MSG);
        q->key_in = false;
        for (uint32_t p = 0; p < t->npk; p++) {
            colres_t *x = &q->res[key_col(t, CQL_KIND_PARTITION_KEY, p)];
            if (has_restriction(x)) x->filter = q->has_part_filter = true;
        }
    }

    /* rows */
    bool ck_single = false;
    for (uint32_t c = 0; c < t->nck; c++)
        ck_single |= has_restriction(&q->res[key_col(t, CQL_KIND_CLUSTERING, c)]);
    q->has_ck_restr = ck_single || q->tup.any;
    bool only_static = false;
    if (q->has_statics && s->nsel) {
        bool st = false, other = false;
        for (uint32_t i = 0; i < q->sel.n; i++) {
            const cql_column_t *c = q->sel.cols[i].col;
            if (!c) continue;
            st |= c->kind == CQL_KIND_STATIC;
            other |= c->kind != CQL_KIND_STATIC && c->kind != CQL_KIND_PARTITION_KEY;
        }
        only_static = st && !other;
    }
    if (only_static && q->has_ck_restr)
        return fail(q, SPATE_CQL_ERR_INVALID,
                    "Cannot restrict clustering columns when selecting only static columns");
    if (q->tup.any && ck_single)
        return fail(q, SPATE_CQL_ERR_INVALID,
                    "Mixing single column relations and multi column relations on clustering "
                    "columns is not allowed");
    if (q->tup.any) {
        tuplres_t *x = &q->tup;
        if (x->eq && (x->has_lo || x->has_hi))
            return fail(q, SPATE_CQL_ERR_INVALID,
                        "Column \"%s\" cannot be restricted by both an equality and an inequality "
                        "relation",
                        t->cols[key_col(t, CQL_KIND_CLUSTERING, 0)].name);
        if (q->point && x->eq) {
            q->neq = (uint16_t)x->eq_n;
            if (product(q, x->eq_n, NULL, NULL, x->tuples, x->ntuples, true, false, &q->cks,
                        &q->ncks) != GO)
                return FAIL;
        } else if (q->point) {
            /* (a, b) > (1, 2): a >= 1 from the store, the rest per row */
            if (x->has_lo) {
                q->has_start = true;
                q->start.inclusive = x->nlo > 1 || x->lo_incl;
                q->start.value = x->lo[0];
            }
            if (x->has_hi) {
                q->has_end = true;
                q->end.inclusive = x->nhi > 1 || x->hi_incl;
                q->end.value = x->hi[0];
            }
            q->has_row_filter |= (x->has_lo && x->nlo > 1) || (x->has_hi && x->nhi > 1);
        } else {
            x->filter_eq = x->eq;
            q->has_row_filter = true;
        }
    } else if (ck_single) {
        /* = / IN prefix, one slice, then what only filtering can do */
        uint32_t c = 0;
        while (c < t->nck) {
            const colres_t *x = &q->res[key_col(t, CQL_KIND_CLUSTERING, c)];
            if (!(x->eq || x->in)) break;
            c++;
        }
        uint32_t neq = c;
        bool sliced = false;
        if (c < t->nck) {
            const colres_t *x = &q->res[key_col(t, CQL_KIND_CLUSTERING, c)];
            sliced = x->has_lo || x->has_hi;
        }
        int32_t gap = -1; /* the first unrestricted clustering column */
        for (uint32_t p = 0; p < t->nck; p++) {
            uint32_t k = key_col(t, CQL_KIND_CLUSTERING, p);
            colres_t *x = &q->res[k];
            if (!has_restriction(x)) {
                if (gap < 0) gap = (int32_t)p;
                continue;
            }
            bool consumed =
                p < neq || (p == neq && sliced && !x->nne && !x->ncontains && !x->nckey);
            if (consumed && q->point) continue;
            x->filter = true;
            q->has_row_filter = true;
            if (q->allow_filtering) continue;
            if (x->ncontains || x->nckey)
                return fail(q, SPATE_CQL_ERR_INVALID,
                            "Cannot restrict clustering columns by a CONTAINS relation without a "
                            "secondary index");
            if (gap >= 0 && (uint32_t)gap < p)
                return fail(q, SPATE_CQL_ERR_INVALID,
                            "PRIMARY KEY column \"%s\" cannot be restricted as preceding column "
                            "\"%s\" is not restricted",
                            t->cols[k].name,
                            t->cols[key_col(t, CQL_KIND_CLUSTERING, (uint32_t)gap)].name);
            if (sliced && p > neq)
                return fail(q, SPATE_CQL_ERR_INVALID,
                            "Clustering column \"%s\" cannot be restricted (preceding column "
                            "\"%s\" is restricted by a non-EQ relation)",
                            t->cols[k].name, t->cols[key_col(t, CQL_KIND_CLUSTERING, neq)].name);
            if (q->point) return fail(q, SPATE_CQL_ERR_INVALID, ALLOW_FILTERING_MSG);
        }
        if (q->point) {
            spate_slice_t *cands[64];
            uint32_t ncand[64];
            if (neq > 64) return fail(q, SPATE_CQL_ERR_INVALID, "Too many clustering columns");
            for (uint32_t p = 0; p < neq; p++) {
                const colres_t *x = &q->res[key_col(t, CQL_KIND_CLUSTERING, p)];
                cands[p] = x->cands;
                ncand[p] = x->ncands;
            }
            q->neq = (uint16_t)neq;
            if (neq && product(q, neq, cands, ncand, NULL, 0, true, false, &q->cks, &q->ncks) != GO)
                return FAIL;
            if (sliced) {
                const colres_t *x = &q->res[key_col(t, CQL_KIND_CLUSTERING, neq)];
                q->has_start = x->has_lo;
                q->start = x->lo;
                q->has_end = x->has_hi;
                q->end = x->hi;
            }
        }
    }

    /* static and regular columns */
    for (uint32_t i = 0; i < t->ncols; i++) {
        colres_t *x = &q->res[i];
        cql_col_kind_t k = t->cols[i].kind;
        if (!has_restriction(x) || k == CQL_KIND_PARTITION_KEY || k == CQL_KIND_CLUSTERING)
            continue;
        if (!q->allow_filtering) return fail(q, SPATE_CQL_ERR_INVALID, ALLOW_FILTERING_MSG);
        x->filter = true;
        if (k == CQL_KIND_STATIC)
            q->has_part_filter = true;
        else
            q->has_row_filter = q->has_reg_restr = true;
    }
    q->full_partition = !q->has_ck_restr && !q->has_reg_restr;

    /* DISTINCT */
    if (s->distinct) {
        q->distinct = true;
        if (s->per_partition_limit)
            return fail(q, SPATE_CQL_ERR_INVALID,
                        "PER PARTITION LIMIT is not allowed with SELECT DISTINCT queries");
        if (q->has_ck_restr || q->has_reg_restr)
            return fail(q, SPATE_CQL_ERR_INVALID,
                        "SELECT DISTINCT with WHERE clause only supports restriction by partition "
                        "key and/or static columns.");
        for (uint32_t i = 0; i < q->sel.n; i++) {
            const cql_column_t *c = q->sel.cols[i].col;
            if (c && c->kind != CQL_KIND_PARTITION_KEY && c->kind != CQL_KIND_STATIC)
                return fail(q, SPATE_CQL_ERR_INVALID,
                            "SELECT DISTINCT queries must only request partition key columns "
                            "and/or static columns (not %s)",
                            c->name);
        }
        if (!q->point)
            for (uint32_t p = 0; p < t->npk; p++) {
                uint32_t k = key_col(t, CQL_KIND_PARTITION_KEY, p);
                bool found = false; /* token(pk...) names them all */
                for (uint32_t i = 0; i < q->sel.n; i++)
                    found |= q->okind[i] == OUT_TOKEN ||
                             (q->okind[i] == OUT_COLUMN && q->sel.cols[i].col_index == k);
                if (!found)
                    return fail(q, SPATE_CQL_ERR_INVALID,
                                "SELECT DISTINCT queries must request all the partition key "
                                "columns (missing %s)",
                                t->cols[k].name);
            }
    }
    if (q->agg && s->per_partition_limit)
        return fail(q, SPATE_CQL_ERR_INVALID,
                    "PER PARTITION LIMIT is not allowed with aggregate queries.");
    if (s->ngroup_by)
        return fail(q, SPATE_CQL_ERR_INVALID, "GROUP BY is not supported yet by spate cql");

    /* ORDER BY, then the clustering prefixes in read order */
    if (order_by(q) != GO) return FAIL;
    if (q->reverse && q->ncks > 1)
        for (uint32_t i = 0, j = q->ncks; i + 1 < j; i++, j--)
            for (uint32_t k = 0; k < q->neq; k++) {
                spate_slice_t tmp = q->cks[(size_t)i * q->neq + k];
                q->cks[(size_t)i * q->neq + k] = q->cks[(size_t)(j - 1) * q->neq + k];
                q->cks[(size_t)(j - 1) * q->neq + k] = tmp;
            }
    if (!q->neq) q->ncks = 1;

    /* a key range restricting clustering columns filters */
    if (!q->point && q->has_ck_restr && !q->allow_filtering)
        return fail(q, SPATE_CQL_ERR_INVALID, ALLOW_FILTERING_MSG);

    /* what each partition needs */
    bool static_used = false;
    for (uint32_t i = 0; i < q->sel.n; i++) {
        const cql_column_t *c = q->sel.cols[i].col;
        static_used |= c && c->kind == CQL_KIND_STATIC;
    }
    for (uint32_t i = 0; i < t->ncols; i++)
        static_used |= q->res[i].filter && t->cols[i].kind == CQL_KIND_STATIC;
    q->need_static = q->has_statics && (q->full_partition || static_used || q->distinct);

    if (limit_value(q, s->limit, "LIMIT", &q->limit) != GO) return FAIL;
    if (limit_value(q, s->per_partition_limit, "PER PARTITION LIMIT", &q->ppl) != GO) return FAIL;
    if (q->agg) q->limit = 0; /* applies to the one result row */
    return GO;
}

/* ------------------------------------------------------------------ */
/* Paging state                                                        */
/* ------------------------------------------------------------------ */

static spate_status_t state_encode(q_t *q, spate_buf_t *b) {
    uint8_t h[33];
    memcpy(h, PAGING_MAGIC, 4);
    put_be32(h + 4, q->t->id);
    h[8] = q->last_mode;
    put_be32(h + 9, q->last_pi);
    put_be32(h + 13, q->last_cj);
    int64_t left = q->limit ? q->remaining : INT64_MAX;
    put_be64(h + 17, (uint64_t)left);
    put_be64(h + 25, (uint64_t)q->last_part_rows);
    spate_status_t st = spate_buf_append(b, h, sizeof h);
    if (st == SPATE_OK) st = spate_wr_u16(b, q->last_mode == 1 ? (uint16_t)q->t->npk : 0);
    if (st == SPATE_OK && q->last_mode == 1)
        st = spate_buf_append(b, q->last_pk.data, q->last_pk.len);
    if (st == SPATE_OK && q->last_mode != 0)
        st = spate_wr_str32(b, q->last_pos.data ? q->last_pos.data : "", q->last_pos.len);
    return st;
}

static int state_decode(q_t *q, spate_slice_t in, pstate_t *ps) {
    spate_rd_t rd;
    spate_rd_init(&rd, in.p, (size_t)in.len);
    const uint8_t *magic;
    uint32_t table;
    uint8_t mode;
    uint16_t npk;
    int64_t left, prow;
    memset(ps, 0, sizeof *ps);
    if (spate_rd_bytes(&rd, 4, &magic) != SPATE_OK || memcmp(magic, PAGING_MAGIC, 4) != 0 ||
        spate_rd_u32(&rd, &table) != SPATE_OK || table != q->t->id ||
        spate_rd_u8(&rd, &mode) != SPATE_OK || mode > 2 || spate_rd_u32(&rd, &ps->pi) != SPATE_OK ||
        spate_rd_u32(&rd, &ps->cj) != SPATE_OK || spate_rd_i64(&rd, &left) != SPATE_OK ||
        left < 0 || spate_rd_i64(&rd, &prow) != SPATE_OK || prow < 0 ||
        spate_rd_u16(&rd, &npk) != SPATE_OK || npk != (mode == 1 ? q->t->npk : 0))
        goto bad;
    ps->mode = mode;
    ps->remaining = left;
    ps->part_rows = prow;
    if (npk) {
        ps->pk = alloc(q, npk * sizeof *ps->pk);
        if (!ps->pk) return nomem(q);
        for (uint16_t i = 0; i < npk; i++) {
            const cql_column_t *c = &q->t->cols[key_col(q->t, CQL_KIND_PARTITION_KEY, i)];
            char err[128];
            if (spate_rd_str32(&rd, &ps->pk[i]) != SPATE_OK || !ps->pk[i].p ||
                (npk == 1 && ps->pk[i].len == 0) || ps->pk[i].len > SPATE_CQL_KEY_MAX_VALUE ||
                spate_cql_value_validate(&c->type, ps->pk[i].p, (size_t)ps->pk[i].len, err,
                                         sizeof err) != SPATE_OK)
                goto bad;
        }
    }
    if (mode) {
        if (spate_rd_str32(&rd, &ps->pos) != SPATE_OK || !ps->pos.p || ps->pos.len < 4) goto bad;
        uint8_t tid[4];
        put_be32(tid, q->t->id);
        if (memcmp(ps->pos.p, tid, 4) != 0) goto bad;
    }
    if (spate_rd_left(&rd) != 0) goto bad;
    if (q->point ? (ps->pi >= q->npks || ps->cj >= q->ncks || mode == 2)
                 : (ps->pi != 0 || ps->cj != 0))
        goto bad;
    return GO;
bad:
    return fail(q, SPATE_CQL_ERR_PROTOCOL, "Invalid value for the paging state");
}

/* ------------------------------------------------------------------ */
/* Row values and filters                                              */
/* ------------------------------------------------------------------ */

/* The cells of column id in cells[0, n) (sorted by column). */
static size_t cells_of(const spate_cql_store_cell_t *c, size_t n, uint16_t col, size_t *count) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (c[m].column < col)
            lo = m + 1;
        else
            hi = m;
    }
    size_t e = lo;
    while (e < n && c[e].column == col) e++;
    *count = e - lo;
    return lo;
}

/* The cells column i has in row r (static ones from the kept static row). */
static const spate_cql_store_cell_t *col_cells(const q_t *q, const rowref_t *r, uint32_t i,
                                               size_t *n) {
    const cql_column_t *c = &q->t->cols[i];
    const spate_cql_store_cell_t *cells;
    size_t ncells;
    if (c->kind == CQL_KIND_STATIC) {
        cells = q->has_static ? q->scells : NULL;
        ncells = q->has_static ? q->nscells : 0;
    } else {
        cells = r->cells;
        ncells = r->ncells;
    }
    size_t k = cells_of(cells, ncells, c->id, n);
    return *n ? &cells[k] : NULL;
}

/* A non-frozen collection from its element cells, in the protocol's
 * collection format. */
static spate_status_t assemble(spate_buf_t *b, spate_cql_type_t kind,
                               const spate_cql_store_cell_t *c, size_t n) {
    spate_status_t st = spate_wr_i32(b, (int32_t)n);
    for (size_t i = 0; i < n && st == SPATE_OK; i++) {
        if (!c[i].has_elem || (kind != SPATE_CQL_LIST && !c[i].elem.p)) return SPATE_EINVAL;
        if (kind != SPATE_CQL_LIST) st = spate_wr_str32(b, c[i].elem.p, (size_t)c[i].elem.len);
        if (st == SPATE_OK && kind != SPATE_CQL_SET)
            st = spate_wr_str32(b, c[i].value.p ? c[i].value.p : "", (size_t)c[i].value.len);
    }
    return st;
}

/* The value of column i in row r into *out (p NULL: null); collections
 * are assembled into b. */
static spate_status_t col_value(q_t *q, const rowref_t *r, uint32_t i, spate_buf_t *b,
                                spate_slice_t *out) {
    const cql_column_t *c = &q->t->cols[i];
    *out = (spate_slice_t){NULL, -1};
    if (c->kind == CQL_KIND_PARTITION_KEY) {
        *out = r->pk[c->position];
        return SPATE_OK;
    }
    if (c->kind == CQL_KIND_CLUSTERING) {
        if (r->ck) *out = r->ck[c->position];
        return SPATE_OK;
    }
    size_t n;
    const spate_cql_store_cell_t *cells = col_cells(q, r, i, &n);
    if (!n) return SPATE_OK;
    if (!multicell(q, i)) {
        *out = cells[0].value;
        if (!out->p) *out = (spate_slice_t){"", 0};
        return SPATE_OK;
    }
    spate_buf_reset(b);
    spate_status_t st = assemble(b, c->type.id, cells, n);
    if (st == SPATE_OK) *out = (spate_slice_t){b->data, (int32_t)b->len};
    return st;
}

/* Walks a serialized list / set / map: calls back for each element
 * (maps: key and value). false when malformed. */
static bool coll_has(q_t *q, spate_slice_t v, spate_cql_type_t kind, const spate_cql_ktype_t *kt,
                     bool want_key, spate_slice_t target) {
    spate_rd_t rd;
    spate_rd_init(&rd, v.p, (size_t)v.len);
    int32_t n;
    if (spate_rd_i32(&rd, &n) != SPATE_OK || n < 0) return false;
    const spate_cql_ktype_t *et = kt->n > 0 ? &kt->sub[0] : kt;
    const spate_cql_ktype_t *vt = kt->n > 1 ? &kt->sub[1] : et;
    for (int32_t i = 0; i < n; i++) {
        spate_slice_t a, b = {NULL, -1};
        if (spate_rd_str32(&rd, &a) != SPATE_OK) return false;
        if (kind == SPATE_CQL_MAP && spate_rd_str32(&rd, &b) != SPATE_OK) return false;
        if (kind != SPATE_CQL_MAP || want_key) {
            if (a.p && vcmp(q, et, a, target) == 0) return true;
        } else if (b.p && vcmp(q, vt, b, target) == 0) {
            return true;
        }
    }
    return false;
}

/* Whether value v (p NULL: null) of column i passes its restrictions. */
static bool col_passes(q_t *q, uint32_t i, spate_slice_t v) {
    const colres_t *x = &q->res[i];
    const cql_column_t *c = &q->t->cols[i];
    const spate_cql_ktype_t *kt = q->v->ktype[i];
    if (!v.p) return false;
    if (x->eq || x->in) {
        bool any = false;
        for (uint32_t k = 0; k < x->ncands && !any; k++) any = vcmp(q, kt, v, x->cands[k]) == 0;
        if (!any) return false;
    }
    if (x->has_lo) {
        int cmp = vcmp(q, kt, v, x->lo.value);
        if (cmp < 0 || (cmp == 0 && !x->lo.inclusive)) return false;
    }
    if (x->has_hi) {
        int cmp = vcmp(q, kt, v, x->hi.value);
        if (cmp > 0 || (cmp == 0 && !x->hi.inclusive)) return false;
    }
    for (uint32_t k = 0; k < x->nne; k++)
        if (vcmp(q, kt, v, x->ne[k]) == 0) return false;
    for (uint32_t k = 0; k < x->ncontains; k++)
        if (!coll_has(q, v, c->type.id, kt, false, x->contains[k])) return false;
    for (uint32_t k = 0; k < x->nckey; k++)
        if (!coll_has(q, v, c->type.id, kt, true, x->ckey[k])) return false;
    return true;
}

/* Partition filters (partition key and static columns) or row filters
 * (clustering and regular columns, tuple bounds). 1 pass, 0 not, FAIL. */
static int passes(q_t *q, const rowref_t *r, bool partition_level) {
    const cql_table_t *t = q->t;
    for (uint32_t i = 0; i < t->ncols; i++) {
        if (!q->res[i].filter) continue;
        cql_col_kind_t k = t->cols[i].kind;
        bool pl = k == CQL_KIND_PARTITION_KEY || k == CQL_KIND_STATIC;
        if (pl != partition_level) continue;
        spate_slice_t v;
        spate_status_t st = col_value(q, r, i, &q->tmp, &v);
        if (st != SPATE_OK) {
            q->err = st;
            return FAIL;
        }
        if (!col_passes(q, i, v)) return 0;
    }
    if (partition_level) return 1;
    const tuplres_t *x = &q->tup;
    if (!x->any) return 1;
    if (!r->ck) return 0;
    if (x->filter_eq) {
        bool any = false;
        for (uint32_t k = 0; k < x->ntuples && !any; k++) {
            bool eq = true;
            for (uint32_t c = 0; c < x->eq_n && eq; c++)
                eq = vcmp(q, q->v->key.ck[c].type, r->ck[c], x->tuples[(size_t)k * x->eq_n + c]) ==
                     0;
            any = eq;
        }
        if (!any) return 0;
    }
    for (int side = 0; side < 2; side++) {
        bool has = side ? x->has_hi : x->has_lo;
        if (!has) continue;
        uint32_t n = side ? x->nhi : x->nlo;
        const spate_slice_t *b = side ? x->hi : x->lo;
        int cmp = 0;
        for (uint32_t c = 0; c < n && cmp == 0; c++)
            cmp = vcmp(q, q->v->key.ck[c].type, r->ck[c], b[c]);
        bool incl = side ? x->hi_incl : x->lo_incl;
        if (side ? (cmp > 0 || (cmp == 0 && !incl)) : (cmp < 0 || (cmp == 0 && !incl))) return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

static spate_status_t out_cell(q_t *q, const void *p, int32_t len) {
    if (!q->capture) return spate_cql_rows_cell(&q->w, p, p ? len : -1);
    return spate_wr_str32(&q->cap, p, p ? (size_t)len : 0);
}

static spate_status_t put_row(q_t *q, const rowref_t *r) {
    spate_status_t st = SPATE_OK;
    for (uint32_t k = 0; k < q->sel.n && st == SPATE_OK; k++) {
        const cql_selcol_t *c = &q->sel.cols[k];
        uint8_t buf[8];
        switch (q->okind[k]) {
        case OUT_COLUMN: {
            spate_slice_t v;
            st = col_value(q, r, c->col_index, &q->tmp, &v);
            if (st == SPATE_OK) st = out_cell(q, v.p, v.len);
            break;
        }
        case OUT_WRITETIME:
        case OUT_TTL: {
            size_t n;
            const spate_cql_store_cell_t *cell = col_cells(q, r, c->col_index, &n);
            if (!n || (q->okind[k] == OUT_TTL && cell->ttl <= 0)) {
                st = out_cell(q, NULL, -1);
            } else if (q->okind[k] == OUT_WRITETIME) {
                put_be64(buf, (uint64_t)cell->writetime);
                st = out_cell(q, buf, 8);
            } else {
                put_be32(buf, (uint32_t)cell->ttl);
                st = out_cell(q, buf, 4);
            }
            break;
        }
        case OUT_TOKEN:
            put_be64(buf, (uint64_t)r->token);
            st = out_cell(q, buf, 8);
            break;
        default: st = out_cell(q, NULL, -1); break; /* COUNT: filled in at the end */
        }
    }
    return st;
}

/* Remembers the last row emitted (the paging state if the page ends). */
static int note_last(q_t *q, bool partition_done) {
    spate_status_t st = SPATE_OK;
    q->have_last = true;
    q->last_pi = q->pi;
    q->last_cj = q->cj;
    q->last_part_rows = q->part_rows;
    spate_buf_reset(&q->last_pos);
    spate_buf_reset(&q->last_pk);
    if (partition_done) {
        if (q->point) {
            q->last_mode = 0;
            q->last_pi = q->pi + 1;
            q->last_cj = 0;
        } else {
            q->last_mode = 2;
            st = spate_cql_store_position(&q->last_pos, &q->v->key, q->cur_pk, NULL);
        }
    } else {
        q->last_mode = 1;
        st = spate_cql_store_iter_position(q->it, &q->last_pos);
        for (uint32_t i = 0; i < q->t->npk && st == SPATE_OK; i++)
            st = spate_wr_str32(&q->last_pk, q->cur_pk[i].p, (size_t)q->cur_pk[i].len);
    }
    if (st != SPATE_OK) {
        q->err = st;
        return FAIL;
    }
    return GO;
}

/* Emits row r (ck NULL: the partition's static-only row, or DISTINCT's
 * row). GO, STOP (page full or LIMIT reached) or FAIL. */
static int emit(q_t *q, const rowref_t *r) {
    if (q->agg) {
        q->count++;
        q->part_rows++;
        if (q->distinct) q->part_done = true;
        if (q->count > 1) return GO;
        q->capture = true;
        spate_status_t st = put_row(q, r);
        q->capture = false;
        if (st != SPATE_OK) {
            q->err = st;
            return FAIL;
        }
        return GO;
    }
    if (!q->sorted) {
        if (q->limit && q->remaining <= 0) return STOP;
        if (q->page > 0 && q->page_n >= q->page) {
            q->more = true;
            return STOP;
        }
    }
    spate_status_t st;
    if (q->sorted) {
        if (q->nrows == q->crows) {
            q->crows = q->crows ? 2 * q->crows : 64;
            q->rows = spate_xrealloc(q->rows, q->crows * sizeof *q->rows);
        }
        sorted_t *e = &q->rows[q->nrows];
        e->seq = (uint32_t)q->nrows;
        e->key_off = q->keys.len;
        st =
            r->ck ? spate_cql_key_clustering(&q->keys, &q->v->key, r->ck, q->v->key.nck) : SPATE_OK;
        e->key_len = q->keys.len - e->key_off;
        e->row_off = q->cap.len;
        q->capture = true;
        if (st == SPATE_OK) st = put_row(q, r);
        q->capture = false;
        e->row_len = q->cap.len - e->row_off;
        q->nrows++;
    } else {
        st = put_row(q, r);
    }
    if (st != SPATE_OK) {
        q->err = st;
        return FAIL;
    }
    q->page_n++;
    q->remaining--;
    q->part_rows++;
    bool done = !r->ck || q->distinct || (q->ppl && q->part_rows >= q->ppl);
    if (done) q->part_done = true;
    if (!q->sorted && note_last(q, done) != GO) return FAIL;
    if (!q->sorted && q->limit && q->remaining <= 0) return STOP;
    return GO;
}

/* ------------------------------------------------------------------ */
/* Partitions                                                          */
/* ------------------------------------------------------------------ */

static int part_begin(q_t *q, const spate_slice_t *pk, int64_t token) {
    spate_buf_reset(&q->pkmem);
    size_t offs[64];
    for (uint32_t i = 0; i < q->t->npk && i < 64; i++) {
        offs[i] = q->pkmem.len;
        if (spate_buf_append(&q->pkmem, pk[i].p, (size_t)pk[i].len) != SPATE_OK) {
            q->err = SPATE_ENOMEM;
            return FAIL;
        }
    }
    for (uint32_t i = 0; i < q->t->npk && i < 64; i++)
        q->cur_pk[i] = (spate_slice_t){q->pkmem.data ? q->pkmem.data + offs[i] : "", pk[i].len};
    q->cur_token = token;
    q->in_part = true;
    q->part_done = q->part_checked = q->had_rows = q->has_static = false;
    q->part_rows = 0;
    return GO;
}

static bool same_pk(const q_t *q, const spate_slice_t *pk) {
    for (uint32_t i = 0; i < q->t->npk; i++)
        if (pk[i].len != q->cur_pk[i].len ||
            (pk[i].len > 0 && memcmp(pk[i].p, q->cur_pk[i].p, (size_t)pk[i].len) != 0))
            return false;
    return true;
}

/* Checks the partition filters once per partition. */
static int part_check(q_t *q) {
    if (q->part_checked) return GO;
    q->part_checked = true;
    if (!q->has_part_filter) return GO;
    rowref_t r = {.pk = q->cur_pk, .token = q->cur_token};
    int p = passes(q, &r, true);
    if (p == FAIL) return FAIL;
    if (!p) q->part_done = true;
    return GO;
}

static int on_static(q_t *q, const spate_cql_store_row_t *row) {
    spate_buf_reset(&q->smem);
    if (q->cscells < row->ncells) {
        q->cscells = row->ncells;
        q->scells = spate_xrealloc(q->scells, q->cscells * sizeof *q->scells);
    }
    size_t *offs = row->ncells ? spate_xcalloc(2 * row->ncells, sizeof *offs) : NULL;
    spate_status_t st = SPATE_OK;
    for (size_t i = 0; i < row->ncells && st == SPATE_OK; i++) {
        const spate_cql_store_cell_t *c = &row->cells[i];
        q->scells[i] = *c;
        offs[2 * i] = q->smem.len;
        if (c->elem.p) st = spate_buf_append(&q->smem, c->elem.p, (size_t)c->elem.len);
        offs[2 * i + 1] = q->smem.len;
        if (st == SPATE_OK && c->value.p)
            st = spate_buf_append(&q->smem, c->value.p, (size_t)c->value.len);
    }
    for (size_t i = 0; i < row->ncells && st == SPATE_OK; i++) {
        spate_cql_store_cell_t *c = &q->scells[i];
        const char *base = q->smem.data ? q->smem.data : "";
        c->elem_key = (spate_slice_t){NULL, -1};
        if (c->elem.p) c->elem.p = base + offs[2 * i];
        if (c->value.p) c->value.p = base + offs[2 * i + 1];
    }
    free(offs);
    if (st != SPATE_OK) {
        q->err = st;
        return FAIL;
    }
    q->nscells = row->ncells;
    q->has_static = true;
    if (part_check(q) != GO) return FAIL;
    if (q->part_done || !q->distinct) return GO;
    rowref_t r = {.pk = q->cur_pk, .token = row->token};
    return emit(q, &r);
}

static int on_row(q_t *q, const spate_cql_store_row_t *row) {
    if (part_check(q) != GO) return FAIL;
    if (q->part_done) return GO;
    q->had_rows = true;
    if (q->ppl && q->part_rows >= q->ppl) {
        q->part_done = true;
        return GO;
    }
    rowref_t r = {row->pk, row->ck, row->cells, row->ncells, row->token};
    if (q->distinct) {
        r.ck = NULL;
        return emit(q, &r);
    }
    if (q->has_row_filter) {
        int p = passes(q, &r, false);
        if (p != 1) return p;
    }
    return emit(q, &r);
}

/* The end of a partition: a live static row and no rows is one row. */
static int part_end(q_t *q) {
    if (!q->in_part) return GO;
    q->in_part = false;
    if (q->part_done || q->had_rows || !q->has_static || !q->full_partition) return GO;
    if (part_check(q) != GO) return FAIL;
    if (q->part_done) return GO;
    rowref_t r = {.pk = q->cur_pk, .token = q->cur_token};
    return emit(q, &r);
}

static void query_init(q_t *q, spate_cql_store_query_t *sq) {
    memset(sq, 0, sizeof *sq);
    sq->schema = &q->v->key;
    sq->now = q->now;
    sq->after = (spate_slice_t){NULL, -1};
    sq->elem_types = q->v->elem_by_id;
    sq->nelem_types = q->v->nid;
}

static int store_fail(q_t *q, spate_status_t st) {
    q->err = st;
    return FAIL;
}

/* Opens an iterator; a key the store cannot encode (a value over 64 KiB)
 * is the client's error. */
static int open_iter(q_t *q, const spate_cql_store_query_t *sq, spate_cql_store_iter_t **it) {
    spate_status_t st = spate_cql_store_iter_open(q->st, sq, it);
    if (st == SPATE_OK) return GO;
    *it = NULL;
    if (st == SPATE_ERANGE || st == SPATE_EINVAL)
        return fail(q, SPATE_CQL_ERR_INVALID,
                    "Invalid key value in the WHERE clause (a key component is limited to %d "
                    "bytes)",
                    SPATE_CQL_KEY_MAX_VALUE);
    return store_fail(q, st);
}

/* Reads the static row of partition pk (an empty clustering slice). */
static int fetch_static(q_t *q, const spate_slice_t *pk) {
    if (!q->need_static || !q->t->nck) return GO;
    spate_cql_store_query_t sq;
    query_init(q, &sq);
    sq.include_static = true;
    sq.pk = pk;
    spate_cql_kslice_t none = {false, {"", 0}};
    sq.start = &none;
    sq.end = &none;
    spate_cql_store_iter_t *it;
    if (open_iter(q, &sq, &it) != GO) return FAIL;
    const spate_cql_store_row_t *row;
    spate_status_t st = spate_cql_store_iter_next(it, &row);
    int rc = GO;
    if (st == SPATE_OK && row->is_static) {
        q->it = it;
        q->cur_token = row->token;
        rc = on_static(q, row);
    } else if (st != SPATE_OK && st != SPATE_ENOENT) {
        rc = store_fail(q, st);
    }
    spate_cql_store_iter_free(it);
    q->it = NULL;
    return rc;
}

/* Point queries: each partition, each clustering prefix. */
static int run_point(q_t *q, const pstate_t *ps) {
    const uint32_t npk = q->t->npk;
    uint32_t i0 = ps ? ps->pi : 0, j0 = ps ? ps->cj : 0;
    for (uint32_t i = i0; i < q->npks; i++) {
        const spate_slice_t *pk = &q->pks[(size_t)i * npk];
        bool resumed = ps && i == i0 && ps->mode == 1;
        uint32_t jstart = i == i0 ? j0 : 0;
        q->pi = i;
        int64_t token = 0;
        if (spate_cql_partition_token(pk, npk, &token) != SPATE_OK)
            return fail(q, SPATE_CQL_ERR_INVALID, "Invalid partition key");
        if (q->has_tok && (q->tok_empty || (q->has_tok_lo && token < q->tok_lo) ||
                           (q->has_tok_hi && token > q->tok_hi)))
            continue;
        if (part_begin(q, pk, token) != GO) return FAIL;
        if (resumed) {
            q->had_rows = true;
            q->part_rows = ps->part_rows;
        } else if (jstart > 0) {
            q->had_rows = true;
        }
        q->cj = jstart;
        int rc = fetch_static(q, pk);
        if (rc != GO) return rc;
        if (part_check(q) != GO) return FAIL;
        for (uint32_t j = jstart; j < q->ncks && !q->part_done; j++) {
            q->cj = j;
            spate_cql_store_query_t sq;
            query_init(q, &sq);
            sq.pk = pk;
            sq.ck = q->neq ? &q->cks[(size_t)j * q->neq] : NULL;
            sq.neq = q->neq;
            sq.start = q->has_start ? &q->start : NULL;
            sq.end = q->has_end ? &q->end : NULL;
            sq.reverse = q->reverse;
            if (resumed && j == jstart) sq.after = ps->pos;
            if (open_iter(q, &sq, &q->it) != GO) return FAIL;
            spate_status_t st = SPATE_OK;
            const spate_cql_store_row_t *row;
            while (rc == GO && !q->part_done &&
                   (st = spate_cql_store_iter_next(q->it, &row)) == SPATE_OK)
                rc = row->is_static ? GO : on_row(q, row);
            spate_cql_store_iter_free(q->it);
            q->it = NULL;
            if (rc != GO) return rc;
            if (st != SPATE_OK && st != SPATE_ENOENT && !q->part_done) return store_fail(q, st);
        }
        if ((rc = part_end(q)) != GO) return rc;
    }
    return GO;
}

/* Scans: the table (or a token range) in token order. */
static int run_scan(q_t *q, const pstate_t *ps) {
    spate_buf_t after = SPATE_BUF_INIT;
    int rc = GO;
    q->pi = q->cj = 0;
    if (q->tok_empty) return GO;
    if (ps && ps->mode) {
        if (spate_buf_append(&after, ps->pos.p, (size_t)ps->pos.len) != SPATE_OK)
            return store_fail(q, SPATE_ENOMEM);
    }
    if (ps && ps->mode == 1) {
        int64_t token = 0;
        if (spate_cql_partition_token(ps->pk, q->t->npk, &token) != SPATE_OK ||
            part_begin(q, ps->pk, token) != GO) {
            spate_buf_free(&after);
            return fail(q, SPATE_CQL_ERR_PROTOCOL, "Invalid value for the paging state");
        }
        q->had_rows = true;
        q->part_rows = ps->part_rows;
        if ((rc = fetch_static(q, ps->pk)) == GO) rc = part_check(q);
        if (rc == GO && q->part_done) {
            spate_buf_reset(&after);
            if (spate_cql_store_position(&after, &q->v->key, q->cur_pk, NULL) != SPATE_OK)
                rc = store_fail(q, SPATE_EINVAL);
        }
    }
    while (rc == GO) {
        spate_cql_store_query_t sq;
        query_init(q, &sq);
        sq.include_static = q->need_static;
        sq.has_token_start = q->has_tok_lo;
        sq.token_start = q->tok_lo;
        sq.has_token_end = q->has_tok_hi;
        sq.token_end = q->tok_hi;
        if (after.len) sq.after = (spate_slice_t){after.data, (int32_t)after.len};
        if ((rc = open_iter(q, &sq, &q->it)) != GO) break;
        spate_status_t st = SPATE_OK;
        const spate_cql_store_row_t *row;
        bool reopen = false;
        while (rc == GO && (st = spate_cql_store_iter_next(q->it, &row)) == SPATE_OK) {
            if (!q->in_part || !same_pk(q, row->pk)) {
                if ((rc = part_end(q)) != GO) break;
                if ((rc = part_begin(q, row->pk, row->token)) != GO) break;
            }
            rc = row->is_static ? on_static(q, row) : on_row(q, row);
            if (rc == GO && q->part_done) {
                /* the rest of the partition is of no use: skip it */
                spate_buf_reset(&after);
                if (spate_cql_store_position(&after, &q->v->key, q->cur_pk, NULL) != SPATE_OK) {
                    rc = store_fail(q, SPATE_EINVAL);
                    break;
                }
                reopen = true;
                break;
            }
        }
        spate_cql_store_iter_free(q->it);
        q->it = NULL;
        if (rc != GO || reopen) continue;
        if (st != SPATE_ENOENT) {
            rc = store_fail(q, st);
            break;
        }
        rc = part_end(q);
        break;
    }
    spate_buf_free(&after);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The answer                                                          */
/* ------------------------------------------------------------------ */

static int sorted_cmp(const void *pa, const void *pb, void *ctx) {
    const q_t *q = ctx;
    const sorted_t *a = pa, *b = pb;
    const char *k = q->keys.data ? q->keys.data : "";
    int c = memcmp(k + a->key_off, k + b->key_off, SPATE_MIN(a->key_len, b->key_len));
    if (!c && a->key_len != b->key_len) c = a->key_len < b->key_len ? -1 : 1;
    if (c && q->reverse) c = -c;
    if (c) return c;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Writes captured rows ([bytes] cells) through the Rows writer. */
static spate_status_t replay(q_t *q, const char *p, size_t n) {
    spate_rd_t rd;
    spate_rd_init(&rd, p, n);
    while (spate_rd_left(&rd)) {
        spate_slice_t c;
        if (spate_rd_str32(&rd, &c) != SPATE_OK) return SPATE_EINVAL;
        spate_status_t st = spate_cql_rows_cell(&q->w, c.p, c.p ? c.len : -1);
        if (st != SPATE_OK) return st;
    }
    return SPATE_OK;
}

static spate_status_t finish_rows(q_t *q) {
    spate_status_t st = SPATE_OK;
    if (q->agg) {
        spate_rd_t rd;
        spate_rd_init(&rd, q->cap.data, q->cap.len);
        for (uint32_t k = 0; k < q->sel.n && st == SPATE_OK; k++) {
            spate_slice_t c = {NULL, -1};
            if (q->count > 0 && spate_rd_str32(&rd, &c) != SPATE_OK) return SPATE_EINVAL;
            if (q->okind[k] == OUT_COUNT) {
                uint8_t b[8];
                put_be64(b, q->count);
                st = spate_cql_rows_cell(&q->w, b, 8);
            } else {
                st = spate_cql_rows_cell(&q->w, c.p, c.p ? c.len : -1);
            }
        }
        return st;
    }
    if (q->sorted) {
        qsort_r(q->rows, q->nrows, sizeof *q->rows, sorted_cmp, q);
        size_t n = q->limit ? (size_t)SPATE_MIN((int64_t)q->nrows, q->limit) : q->nrows;
        for (size_t i = 0; i < n && st == SPATE_OK; i++)
            st = replay(q, q->cap.data + q->rows[i].row_off, q->rows[i].row_len);
    }
    return st;
}

static void q_free(q_t *q) {
    spate_cql_store_iter_free(q->it);
    spate_buf_free(&q->tmp);
    spate_buf_free(&q->ea);
    spate_buf_free(&q->eb);
    spate_buf_free(&q->pkmem);
    spate_buf_free(&q->smem);
    free(q->scells);
    spate_buf_free(&q->last_pos);
    spate_buf_free(&q->last_pk);
    spate_buf_free(&q->cap);
    spate_buf_free(&q->keys);
    free(q->rows);
}

void cql_select_run(cql_reply_t *rp, const cql_dml_t *d) {
    const cql_bound_t *b = &d->stmts[0];
    q_t q;
    memset(&q, 0, sizeof q);
    q.rp = rp;
    q.a = d->arena;
    q.s = &b->stmt->select;
    q.t = b->table;
    q.values = b->values;
    q.nvalues = b->stmt->nbind;
    q.st = rp->srv->store;
    q.now = (int64_t)time(NULL);
    q.v = cql_tview(rp->srv, q.t);
    if (!q.v) {
        cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "out of memory");
        return;
    }
    q.cur_pk = alloc(&q, q.t->npk * sizeof *q.cur_pk);
    if (!q.cur_pk || q.t->npk > 64) {
        cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "out of memory");
        return;
    }

    pstate_t ps;
    bool resume = false;
    if (resolve_selection(&q) != GO || plan(&q) != GO) goto refuse;
    q.page = d->page_size > 0 && !q.agg ? d->page_size : 0;
    if (q.key_in && q.ordered) {
        if (d->page_size > 0)
            fail(&q, SPATE_CQL_ERR_INVALID,
                 "Cannot page queries with both ORDER BY and a IN restriction on the partition "
                 "key; you must either remove the ORDER BY or the IN and sort client side, or "
                 "disable paging for this query");
        if (q.code) goto refuse;
        q.sorted = q.npks > 1 && !q.agg;
    }
    q.remaining = q.limit ? q.limit : INT64_MAX;
    if (q.page && d->paging_state.p && d->paging_state.len >= 0) {
        if (state_decode(&q, d->paging_state, &ps) != GO) goto refuse;
        resume = true;
        if (q.limit) q.remaining = SPATE_MIN(q.remaining, ps.remaining);
    }

    spate_cql_metadata_t md;
    if (cql_select_metadata(q.a, q.t, &q.sel, &md) != SPATE_OK) {
        cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "out of memory");
        return;
    }
    if (d->skip_metadata) md.flags = SPATE_CQL_MD_NO_METADATA;
    size_t mark;
    spate_status_t st = cql_reply_begin(rp, SPATE_CQL_OP_RESULT, &mark);
    if (st == SPATE_OK) st = spate_cql_rows_begin(&q.w, rp->out, &md);
    if (st == SPATE_OK && q.remaining > 0) {
        int rc = q.point ? run_point(&q, resume ? &ps : NULL) : run_scan(&q, resume ? &ps : NULL);
        if (rc == FAIL) {
            if (q.code) {
                rp->out->len = mark;
                if (rp->out->data) rp->out->data[mark] = '\0';
                q_free(&q);
                cql_reply_error(rp, q.code, "%s", q.msg);
                return;
            }
            st = q.err ? q.err : SPATE_ERR;
        }
    }
    if (st == SPATE_OK) st = finish_rows(&q);
    spate_buf_t state = SPATE_BUF_INIT;
    if (st == SPATE_OK && q.more && q.have_last) st = state_encode(&q, &state);
    if (st == SPATE_OK) {
        spate_slice_t ps_out = {state.data, (int32_t)state.len};
        st = spate_cql_rows_end(&q.w, q.more && q.have_last ? &ps_out : NULL);
    }
    spate_buf_free(&state);
    if (st == SPATE_EIO || st == SPATE_EINVAL) {
        rp->out->len = mark;
        if (rp->out->data) rp->out->data[mark] = '\0';
        q_free(&q);
        cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "read failed (%s)", spate_status_str(st));
        return;
    }
    cql_reply_end(rp, mark, st);
    q_free(&q);
    return;
refuse:
    q_free(&q);
    cql_reply_error(rp, q.code, "%s", q.msg);
}
