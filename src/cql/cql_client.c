/*
 * cql_client.c — spate's CQL client: one connection, many requests in
 * flight. The API and its promises are in cql.h ("The client library");
 * the handles' insides in cql_client.h.
 *
 * Inside a client:
 *
 *   slots[stream]   one per stream id: the completion of the request in
 *                   flight on it, its deadline, and (for EXECUTE and
 *                   BATCH) a copy of its frame, to send again after an
 *                   Unprepared answer. A request that timed out keeps its
 *                   slot (done = NULL, "abandoned") until its late answer
 *                   arrives, so a stream id is never reused while the
 *                   server may still answer on it.
 *   free_ids        the free stream ids, a stack: ids are reused at once,
 *                   so only about a window's worth of slots (and of frame
 *                   copies) is ever touched
 *   out             frames not yet written; in / in_off bytes read and not
 *                   yet dispatched
 *   prepared        every statement prepared on this client (a list)
 *
 * Connection states:
 *
 *        connect ok                   EOF, error, bad frame
 *   DOWN ───────────▶ UP ──────────────────────────────▶ BROKEN
 *    ▲  (fd < 0)        │  (fd >= 0)   a failed write in    │ (fd open, nothing
 *    │                  │              submit               │  completed yet)
 *    └──────────────────┴──── conn_down: close, fail ◀──────┘
 *                             every request in flight (EIO)
 *
 * conn_down is the one function that leaves UP/BROKEN. BROKEN exists so
 * that a failed write inside submit never runs that submit's own
 * completion: the next poll does the failing.
 *
 * Re-entrancy: completions run from poll and may submit, make synchronous
 * calls (which poll again) or reconnect. So dispatch takes one frame at a
 * time off `in` (in_off moves before the completion runs), conn_down
 * empties the slots before it runs any completion, and nothing holds a
 * pointer into `in`, `out` or `slots` across a completion.
 *
 * Handshake (the spec and what the drivers do): OPTIONS, then STARTUP
 * {CQL_VERSION: 3.0.0}; an ERROR 0x000A to the first v4 frame means "no
 * v4 here": a new connection speaks v3. Differences handled for v3: no
 * unset values, and Prepared bind metadata without pk indexes (the codec
 * reads and writes those by the frame's version).
 */
#include "cql_client.h"

#include "net.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_STREAMS 32768
#define FLUSH_AT (64u << 10) /* submit writes at once past this much pending output */
#define READ_CHUNK (64u << 10)
#define MAX_RETRIES 3 /* Unprepared answers re-prepared per request */
#define MAX_CONTACTS 64

typedef struct {
    bool used;
    bool keep; /* frame holds a copy of the request frame */
    uint8_t retries;
    spate_cql_done_fn done; /* NULL: abandoned (timed out); the answer is dropped */
    void *ctx;
    int64_t deadline; /* monotonic ms */
    spate_buf_t frame;
} slot_t;

struct spate_cql_client {
    spate_cql_client_conf_t conf;
    char *contact_points;
    char *username, *password; /* copies of the conf's (password wiped at free) */
    char keyspace[256];
    char err[512];
    int fd;
    bool broken;
    int version;
    char peer[80];
    size_t last_contact;
    uint64_t connections;
    spate_buf_t out, in;
    size_t in_off;
    slot_t *slots;
    int16_t *free_ids;
    int nfree;
    int hw;        /* slots[0..hw) have been used */
    int in_flight; /* slots used, abandoned included */
    int abandoned; /* of those, timed out */
    int64_t next_expiry;
    spate_cql_prepared_t *prepared;
    spate_slice_t *scratch_v; /* values of the request being encoded */
    size_t scratch_vcap;
    spate_cql_batch_stmt_t *scratch_b;
    size_t scratch_bcap;
};

static void set_err(spate_cql_client_t *c, const char *fmt, ...) SPATE_PRINTF(2, 3);
static void set_err(spate_cql_client_t *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
}

void spate_cql_client_conf_default(spate_cql_client_conf_t *c) {
    memset(c, 0, sizeof *c);
    c->contact_points = "127.0.0.1:9042";
    c->connect_timeout_ms = 5000;
    c->request_timeout_ms = 12000;
    c->max_in_flight = 256;
    c->consistency = SPATE_CQL_CONSISTENCY_LOCAL_ONE;
}

/* ------------------------------------------------------------------ */
/* Answers                                                             */
/* ------------------------------------------------------------------ */

void spate_cql_answer_free(spate_cql_answer_t *a) {
    if (!a) return;
    spate_cql_response_free(&a->resp);
    spate_buf_free(&a->body);
    free(a);
}

spate_cql_answer_kind_t spate_cql_answer_kind(const spate_cql_answer_t *a) {
    if (a->resp.opcode == SPATE_CQL_OP_ERROR) return SPATE_CQL_ANSWER_ERROR;
    if (a->resp.opcode == SPATE_CQL_OP_RESULT) return (spate_cql_answer_kind_t)a->resp.result.kind;
    return SPATE_CQL_ANSWER_VOID; /* READY, SUPPORTED: the handshake's, never a user's */
}

int32_t spate_cql_answer_error_code(const spate_cql_answer_t *a) {
    return a->resp.opcode == SPATE_CQL_OP_ERROR ? a->resp.error.code : -1;
}

const char *spate_cql_answer_error_message(const spate_cql_answer_t *a, size_t *n) {
    if (a->resp.opcode != SPATE_CQL_OP_ERROR) {
        *n = 0;
        return "";
    }
    *n = (size_t)a->resp.error.message.len;
    return a->resp.error.message.p ? a->resp.error.message.p : "";
}

const char *spate_cql_error_code_name(int32_t code) {
    static const struct {
        int32_t code;
        const char *name;
    } names[] = {{SPATE_CQL_ERR_SERVER, "ServerError"},
                 {SPATE_CQL_ERR_PROTOCOL, "ProtocolError"},
                 {SPATE_CQL_ERR_BAD_CREDENTIALS, "BadCredentials"},
                 {SPATE_CQL_ERR_UNAVAILABLE, "Unavailable"},
                 {SPATE_CQL_ERR_OVERLOADED, "Overloaded"},
                 {SPATE_CQL_ERR_IS_BOOTSTRAPPING, "IsBootstrapping"},
                 {SPATE_CQL_ERR_TRUNCATE, "TruncateError"},
                 {SPATE_CQL_ERR_WRITE_TIMEOUT, "WriteTimeout"},
                 {SPATE_CQL_ERR_READ_TIMEOUT, "ReadTimeout"},
                 {SPATE_CQL_ERR_READ_FAILURE, "ReadFailure"},
                 {SPATE_CQL_ERR_FUNCTION_FAILURE, "FunctionFailure"},
                 {SPATE_CQL_ERR_WRITE_FAILURE, "WriteFailure"},
                 {SPATE_CQL_ERR_SYNTAX, "SyntaxException"},
                 {SPATE_CQL_ERR_UNAUTHORIZED, "Unauthorized"},
                 {SPATE_CQL_ERR_INVALID, "InvalidRequest"},
                 {SPATE_CQL_ERR_CONFIG, "ConfigurationException"},
                 {SPATE_CQL_ERR_ALREADY_EXISTS, "AlreadyExists"},
                 {SPATE_CQL_ERR_UNPREPARED, "Unprepared"}};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(names); i++)
        if (names[i].code == code) return names[i].name;
    return "Error";
}

void spate_cql_answer_error_text(const spate_cql_answer_t *a, char *out, size_t outlen) {
    if (a->resp.opcode != SPATE_CQL_OP_ERROR) {
        const char *op = spate_cql_opcode_name(a->resp.opcode);
        snprintf(out, outlen, "not an error (%s)", op ? op : "?");
        return;
    }
    const spate_cql_error_t *e = &a->resp.error;
    snprintf(out, outlen, "%s (0x%04x): %.*s", spate_cql_error_code_name(e->code),
             (unsigned)e->code, (int)e->message.len, e->message.p ? e->message.p : "");
}

static const spate_cql_metadata_t *rows_md(const spate_cql_answer_t *a) {
    if (a->resp.opcode != SPATE_CQL_OP_RESULT || a->resp.result.kind != SPATE_CQL_RESULT_ROWS)
        return NULL;
    return &a->resp.result.metadata;
}

int spate_cql_answer_columns(const spate_cql_answer_t *a) {
    const spate_cql_metadata_t *md = rows_md(a);
    return md ? md->columns_count : 0;
}

const char *spate_cql_answer_column_name(const spate_cql_answer_t *a, int col, size_t *n) {
    const spate_cql_metadata_t *md = rows_md(a);
    if (!md || !md->columns || col < 0 || col >= md->columns_count) {
        *n = 0;
        return "";
    }
    *n = (size_t)md->columns[col].name.len;
    return md->columns[col].name.p;
}

spate_cql_type_t spate_cql_answer_column_type(const spate_cql_answer_t *a, int col) {
    const spate_cql_metadata_t *md = rows_md(a);
    if (!md || !md->columns || col < 0 || col >= md->columns_count) return SPATE_CQL_CUSTOM;
    return md->columns[col].type.id;
}

int spate_cql_answer_column_index(const spate_cql_answer_t *a, const char *name) {
    const spate_cql_metadata_t *md = rows_md(a);
    size_t n = strlen(name);
    for (int i = 0; md && md->columns && i < md->columns_count; i++)
        if ((size_t)md->columns[i].name.len == n && memcmp(md->columns[i].name.p, name, n) == 0)
            return i;
    return -1;
}

int32_t spate_cql_answer_rows(const spate_cql_answer_t *a) {
    return rows_md(a) ? a->resp.result.rows_count : 0;
}

/* The cell's slice, or NULL out of range. */
static const spate_slice_t *cell(const spate_cql_answer_t *a, int32_t row, int col) {
    const spate_cql_metadata_t *md = rows_md(a);
    if (!md || row < 0 || row >= a->resp.result.rows_count || col < 0 || col >= md->columns_count)
        return NULL;
    return &a->resp.result.cells[(size_t)row * (size_t)md->columns_count + (size_t)col];
}

const char *spate_cql_answer_cell(const spate_cql_answer_t *a, int32_t row, int col, int32_t *len) {
    const spate_slice_t *s = cell(a, row, col);
    if (!s || !s->p) {
        *len = SPATE_CQL_NULL;
        return NULL;
    }
    *len = s->len;
    return s->p;
}

/* A cell of one of the given types and of size `size` (0: any). */
static spate_status_t typed_cell(const spate_cql_answer_t *a, int32_t row, int col,
                                 const spate_cql_type_t *types, size_t ntypes, int32_t size,
                                 const spate_slice_t **out) {
    const spate_slice_t *s = cell(a, row, col);
    if (!s) return SPATE_ERANGE;
    spate_cql_type_t t = spate_cql_answer_column_type(a, col);
    bool fits = false;
    for (size_t i = 0; i < ntypes; i++) fits |= types[i] == t;
    if (!fits) return SPATE_EINVAL;
    if (!s->p) return SPATE_ENOENT;
    if (size && s->len != size) return SPATE_EINVAL;
    *out = s;
    return SPATE_OK;
}

static uint64_t be64(const char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | (uint8_t)p[i];
    return v;
}

spate_status_t spate_cql_answer_get_int(const spate_cql_answer_t *a, int32_t row, int col,
                                        int32_t *v) {
    static const spate_cql_type_t ok[] = {SPATE_CQL_INT};
    const spate_slice_t *s;
    spate_status_t st = typed_cell(a, row, col, ok, 1, 4, &s);
    if (st == SPATE_OK)
        *v = (int32_t)((uint32_t)(uint8_t)s->p[0] << 24 | (uint32_t)(uint8_t)s->p[1] << 16 |
                       (uint32_t)(uint8_t)s->p[2] << 8 | (uint32_t)(uint8_t)s->p[3]);
    return st;
}

spate_status_t spate_cql_answer_get_bigint(const spate_cql_answer_t *a, int32_t row, int col,
                                           int64_t *v) {
    static const spate_cql_type_t ok[] = {SPATE_CQL_BIGINT, SPATE_CQL_COUNTER, SPATE_CQL_TIMESTAMP,
                                          SPATE_CQL_TIME};
    const spate_slice_t *s;
    spate_status_t st = typed_cell(a, row, col, ok, SPATE_ARRAY_LEN(ok), 8, &s);
    if (st == SPATE_OK) *v = (int64_t)be64(s->p);
    return st;
}

spate_status_t spate_cql_answer_get_bool(const spate_cql_answer_t *a, int32_t row, int col,
                                         bool *v) {
    static const spate_cql_type_t ok[] = {SPATE_CQL_BOOLEAN};
    const spate_slice_t *s;
    spate_status_t st = typed_cell(a, row, col, ok, 1, 1, &s);
    if (st == SPATE_OK) *v = s->p[0] != 0;
    return st;
}

spate_status_t spate_cql_answer_get_double(const spate_cql_answer_t *a, int32_t row, int col,
                                           double *v) {
    static const spate_cql_type_t ok[] = {SPATE_CQL_DOUBLE};
    const spate_slice_t *s;
    spate_status_t st = typed_cell(a, row, col, ok, 1, 8, &s);
    if (st == SPATE_OK) {
        uint64_t bits = be64(s->p);
        memcpy(v, &bits, sizeof *v);
    }
    return st;
}

spate_status_t spate_cql_answer_get_uuid(const spate_cql_answer_t *a, int32_t row, int col,
                                         uint8_t u[16]) {
    static const spate_cql_type_t ok[] = {SPATE_CQL_UUID, SPATE_CQL_TIMEUUID};
    const spate_slice_t *s;
    spate_status_t st = typed_cell(a, row, col, ok, 2, 16, &s);
    if (st == SPATE_OK) memcpy(u, s->p, 16);
    return st;
}

spate_status_t spate_cql_answer_get_text(const spate_cql_answer_t *a, int32_t row, int col,
                                         const char **p, size_t *n) {
    static const spate_cql_type_t ok[] = {SPATE_CQL_VARCHAR, SPATE_CQL_ASCII, SPATE_CQL_BLOB};
    const spate_slice_t *s;
    spate_status_t st = typed_cell(a, row, col, ok, SPATE_ARRAY_LEN(ok), 0, &s);
    if (st == SPATE_OK) {
        *p = s->p;
        *n = (size_t)s->len;
    }
    return st;
}

spate_status_t spate_cql_answer_cell_text(const spate_cql_answer_t *a, int32_t row, int col,
                                          spate_buf_t *out) {
    const spate_slice_t *s = cell(a, row, col);
    if (!s) return SPATE_ERANGE;
    if (!s->p) return spate_buf_puts(out, "null");
    const spate_cql_metadata_t *md = rows_md(a);
    if (!md->columns) return SPATE_EINVAL;
    return spate_cql_value_to_text(&md->columns[col].type, s->p, (size_t)s->len, out);
}

bool spate_cql_answer_has_more(const spate_cql_answer_t *a) {
    const spate_cql_metadata_t *md = rows_md(a);
    return md && (md->flags & SPATE_CQL_MD_HAS_MORE_PAGES) && md->paging_state.p;
}

const void *spate_cql_answer_paging_state(const spate_cql_answer_t *a, size_t *n) {
    if (!spate_cql_answer_has_more(a)) {
        *n = 0;
        return NULL;
    }
    *n = (size_t)a->resp.result.metadata.paging_state.len;
    return a->resp.result.metadata.paging_state.p;
}

const char *spate_cql_answer_keyspace(const spate_cql_answer_t *a, size_t *n) {
    const spate_slice_t *s = NULL;
    if (a->resp.opcode == SPATE_CQL_OP_RESULT &&
        a->resp.result.kind == SPATE_CQL_RESULT_SET_KEYSPACE)
        s = &a->resp.result.keyspace;
    else if (a->resp.opcode == SPATE_CQL_OP_RESULT &&
             a->resp.result.kind == SPATE_CQL_RESULT_SCHEMA_CHANGE)
        s = &a->resp.result.change.keyspace;
    if (!s || !s->p) {
        *n = 0;
        return NULL;
    }
    *n = (size_t)s->len;
    return s->p;
}

int spate_cql_answer_warnings(const spate_cql_answer_t *a) { return a->resp.warnings.n; }

const char *spate_cql_answer_warning(const spate_cql_answer_t *a, int i, size_t *n) {
    if (i < 0 || i >= a->resp.warnings.n) {
        *n = 0;
        return NULL;
    }
    *n = (size_t)a->resp.warnings.v[i].len;
    return a->resp.warnings.v[i].p;
}

/* ------------------------------------------------------------------ */
/* Queries                                                             */
/* ------------------------------------------------------------------ */

static spate_cql_query_t *query_alloc(int kind) {
    spate_cql_query_t *q = spate_xcalloc(1, sizeof *q);
    q->kind = kind;
    q->consistency = SPATE_CQL_CONSISTENCY_DEFAULT;
    q->timestamp = INT64_MIN;
    return q;
}

spate_cql_query_t *spate_cql_query_new(const char *cql) {
    spate_cql_query_t *q = query_alloc(CQL_Q_TEXT);
    q->cql = spate_xstrdup(cql);
    q->cql_len = strlen(cql);
    return q;
}

spate_cql_query_t *spate_cql_query_new_prepared(const spate_cql_prepared_t *p) {
    spate_cql_query_t *q = query_alloc(CQL_Q_PREPARED);
    q->prepared = p;
    return q;
}

spate_cql_query_t *spate_cql_batch_new(spate_cql_batch_type_t type) {
    spate_cql_query_t *q = query_alloc(CQL_Q_BATCH);
    q->batch_type = (uint8_t)type;
    return q;
}

void spate_cql_query_free(spate_cql_query_t *q) {
    if (!q) return;
    for (uint32_t i = 0; i < q->nkids; i++) spate_cql_query_free(q->kids[i]);
    free(q->kids);
    free(q->cql);
    spate_buf_free(&q->vals);
    spate_buf_free(&q->paging);
    free(q->v);
    free(q);
}

void spate_cql_query_clear(spate_cql_query_t *q) {
    spate_buf_reset(&q->vals);
    q->nv = 0;
    q->has_paging = false;
    spate_buf_reset(&q->paging);
    for (uint32_t i = 0; i < q->nkids; i++) spate_cql_query_free(q->kids[i]);
    q->nkids = 0;
}

spate_status_t spate_cql_batch_add(spate_cql_query_t *batch, const spate_cql_query_t *q) {
    if (batch->kind != CQL_Q_BATCH || q->kind == CQL_Q_BATCH) return SPATE_EINVAL;
    if (batch->nkids >= UINT16_MAX) return SPATE_ERANGE;
    spate_cql_query_t *k = query_alloc(q->kind);
    if (q->cql) {
        k->cql = spate_xstrdup(q->cql);
        k->cql_len = q->cql_len;
    }
    k->prepared = q->prepared;
    if (q->vals.len && spate_buf_append(&k->vals, q->vals.data, q->vals.len) != SPATE_OK) {
        spate_cql_query_free(k);
        return SPATE_ENOMEM;
    }
    if (q->nv) {
        k->v = spate_xmalloc(q->nv * sizeof *k->v);
        memcpy(k->v, q->v, q->nv * sizeof *k->v);
        k->nv = k->capv = q->nv;
    }
    if (batch->nkids == batch->capkids) {
        batch->capkids = batch->capkids ? batch->capkids * 2 : 8;
        batch->kids = spate_xrealloc(batch->kids, batch->capkids * sizeof *batch->kids);
    }
    batch->kids[batch->nkids++] = k;
    return SPATE_OK;
}

/* Whether marker i of q may take a value of one of `types` (always, for
 * CQL text); ERANGE for an index past the markers. */
static spate_status_t bind_check(const spate_cql_query_t *q, int i, const spate_cql_type_t *types,
                                 size_t ntypes) {
    if (q->kind == CQL_Q_BATCH) return SPATE_EINVAL;
    if (i < 0 || i >= UINT16_MAX) return SPATE_ERANGE;
    if (q->kind != CQL_Q_PREPARED) return SPATE_OK;
    if (i >= q->prepared->nparams) return SPATE_ERANGE;
    if (!types) return SPATE_OK;
    for (size_t k = 0; k < ntypes; k++)
        if (q->prepared->ptypes[i] == types[k]) return SPATE_OK;
    return SPATE_EINVAL;
}

/* Stores value i (len as cql_qval_t.len) without checks. */
static spate_status_t bind_store(spate_cql_query_t *q, int i, const void *p, int32_t len) {
    uint32_t idx = (uint32_t)i;
    if (idx >= q->capv) {
        uint32_t cap = SPATE_MAX(idx + 1, q->capv ? q->capv * 2 : 16);
        q->v = spate_xrealloc(q->v, cap * sizeof *q->v);
        q->capv = cap;
    }
    for (; q->nv <= idx; q->nv++) q->v[q->nv] = (cql_qval_t){0, SPATE_CQL_UNSET};
    cql_qval_t *v = &q->v[idx];
    if (len < 0) {
        *v = (cql_qval_t){0, len};
        return SPATE_OK;
    }
    if (v->len >= len) { /* rebinding: reuse the old bytes' room */
        if (len) memcpy(q->vals.data + v->off, p, (size_t)len);
        v->len = len;
        return SPATE_OK;
    }
    if (q->vals.len + (size_t)len > INT32_MAX) return SPATE_ERANGE;
    uint32_t off = (uint32_t)q->vals.len;
    if (spate_buf_append(&q->vals, p, (size_t)len) != SPATE_OK) return SPATE_ENOMEM;
    *v = (cql_qval_t){off, len};
    return SPATE_OK;
}

spate_status_t spate_cql_query_bind(spate_cql_query_t *q, int i, const void *p, int32_t len) {
    spate_status_t st = bind_check(q, i, NULL, 0);
    if (st != SPATE_OK) return st;
    if (len < SPATE_CQL_UNSET || (len > 0 && !p)) return SPATE_EINVAL;
    return bind_store(q, i, p, len);
}

spate_status_t spate_cql_query_value(const spate_cql_query_t *q, int i, const void **p,
                                     int32_t *len) {
    if (q->kind == CQL_Q_BATCH || i < 0 || (uint32_t)i >= q->nv) return SPATE_ERANGE;
    const cql_qval_t *v = &q->v[i];
    *p = v->len > 0 ? q->vals.data + v->off : NULL;
    *len = v->len;
    return SPATE_OK;
}

int spate_cql_query_nvalues(const spate_cql_query_t *q) {
    return q->kind == CQL_Q_BATCH ? 0 : (int)q->nv;
}

spate_status_t spate_cql_query_bind_null(spate_cql_query_t *q, int i) {
    return spate_cql_query_bind(q, i, NULL, SPATE_CQL_NULL);
}

static void put_be(uint8_t *b, uint64_t v, int n) {
    for (int k = n - 1; k >= 0; k--, v >>= 8) b[k] = (uint8_t)v;
}

#define BIND_TYPED(q, i, types, bytes, n)                                                          \
    do {                                                                                           \
        spate_status_t st_ = bind_check((q), (i), (types), SPATE_ARRAY_LEN(types));                \
        if (st_ != SPATE_OK) return st_;                                                           \
        return bind_store((q), (i), (bytes), (int32_t)(n));                                        \
    } while (0)

spate_status_t spate_cql_query_bind_int(spate_cql_query_t *q, int i, int32_t v) {
    static const spate_cql_type_t t[] = {SPATE_CQL_INT};
    uint8_t b[4];
    put_be(b, (uint32_t)v, 4);
    BIND_TYPED(q, i, t, b, 4);
}

spate_status_t spate_cql_query_bind_bigint(spate_cql_query_t *q, int i, int64_t v) {
    static const spate_cql_type_t t[] = {SPATE_CQL_BIGINT, SPATE_CQL_COUNTER};
    uint8_t b[8];
    put_be(b, (uint64_t)v, 8);
    BIND_TYPED(q, i, t, b, 8);
}

spate_status_t spate_cql_query_bind_timestamp(spate_cql_query_t *q, int i, int64_t ms) {
    static const spate_cql_type_t t[] = {SPATE_CQL_TIMESTAMP};
    uint8_t b[8];
    put_be(b, (uint64_t)ms, 8);
    BIND_TYPED(q, i, t, b, 8);
}

spate_status_t spate_cql_query_bind_bool(spate_cql_query_t *q, int i, bool v) {
    static const spate_cql_type_t t[] = {SPATE_CQL_BOOLEAN};
    uint8_t b = v ? 1 : 0;
    BIND_TYPED(q, i, t, &b, 1);
}

spate_status_t spate_cql_query_bind_double(spate_cql_query_t *q, int i, double v) {
    static const spate_cql_type_t t[] = {SPATE_CQL_DOUBLE};
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint8_t b[8];
    put_be(b, bits, 8);
    BIND_TYPED(q, i, t, b, 8);
}

spate_status_t spate_cql_query_bind_float(spate_cql_query_t *q, int i, float v) {
    static const spate_cql_type_t t[] = {SPATE_CQL_FLOAT};
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint8_t b[4];
    put_be(b, bits, 4);
    BIND_TYPED(q, i, t, b, 4);
}

spate_status_t spate_cql_query_bind_text(spate_cql_query_t *q, int i, const char *s, size_t n) {
    static const spate_cql_type_t t[] = {SPATE_CQL_VARCHAR, SPATE_CQL_ASCII};
    if (n > INT32_MAX) return SPATE_ERANGE;
    BIND_TYPED(q, i, t, s, n);
}

spate_status_t spate_cql_query_bind_uuid(spate_cql_query_t *q, int i, const uint8_t u[16]) {
    static const spate_cql_type_t t[] = {SPATE_CQL_UUID, SPATE_CQL_TIMEUUID};
    BIND_TYPED(q, i, t, u, 16);
}

spate_status_t spate_cql_query_bind_blob(spate_cql_query_t *q, int i, const void *p, size_t n) {
    static const spate_cql_type_t t[] = {SPATE_CQL_BLOB, SPATE_CQL_CUSTOM};
    if (n > INT32_MAX) return SPATE_ERANGE;
    BIND_TYPED(q, i, t, p, n);
}

void spate_cql_query_set_page_size(spate_cql_query_t *q, int32_t page_size) {
    q->page_size = page_size;
}

void spate_cql_query_set_paging_state(spate_cql_query_t *q, const void *p, size_t n) {
    spate_buf_reset(&q->paging);
    q->has_paging = p != NULL && spate_buf_append(&q->paging, p, n) == SPATE_OK;
}

void spate_cql_query_set_consistency(spate_cql_query_t *q, spate_cql_consistency_t cl) {
    q->consistency = cl;
}

void spate_cql_query_set_timestamp(spate_cql_query_t *q, int64_t us) { q->timestamp = us; }
void spate_cql_query_set_timeout(spate_cql_query_t *q, int timeout_ms) {
    q->timeout_ms = timeout_ms;
}

bool spate_cql_query_next_page(spate_cql_query_t *q, const spate_cql_answer_t *a) {
    size_t n;
    const void *p = a ? spate_cql_answer_paging_state(a, &n) : NULL;
    spate_cql_query_set_paging_state(q, p, p ? n : 0);
    return q->has_paging;
}

/* ------------------------------------------------------------------ */
/* Prepared statements                                                 */
/* ------------------------------------------------------------------ */

int spate_cql_prepared_params(const spate_cql_prepared_t *p) { return p->nparams; }

spate_cql_type_t spate_cql_prepared_param_type(const spate_cql_prepared_t *p, int i) {
    return i >= 0 && i < p->nparams ? p->ptypes[i] : SPATE_CQL_CUSTOM;
}

const char *spate_cql_prepared_param_name(const spate_cql_prepared_t *p, int i) {
    return i >= 0 && i < p->nparams ? p->pnames[i] : "";
}

int spate_cql_prepared_param_index(const spate_cql_prepared_t *p, const char *name) {
    for (int i = 0; i < p->nparams; i++)
        if (strcmp(p->pnames[i], name) == 0) return i;
    return -1;
}

int spate_cql_prepared_columns(const spate_cql_prepared_t *p) { return p->ncols; }

static void prepared_free(spate_cql_prepared_t *p) {
    for (int i = 0; i < p->nparams; i++) free(p->pnames[i]);
    free(p->pnames);
    free(p->ptypes);
    spate_buf_free(&p->id);
    free(p->cql);
    free(p->keyspace);
    free(p);
}

/* Takes id and markers from a PREPARED answer into p. */
static void prepared_update(spate_cql_prepared_t *p, const spate_cql_answer_t *a) {
    const spate_cql_result_t *r = &a->resp.result;
    spate_buf_reset(&p->id);
    spate_buf_append(&p->id, r->id.p, (size_t)r->id.len);
    for (int i = 0; i < p->nparams; i++) free(p->pnames[i]);
    int n = r->metadata.columns ? r->metadata.columns_count : 0;
    p->pnames = spate_xrealloc(p->pnames, (size_t)SPATE_MAX(n, 1) * sizeof *p->pnames);
    p->ptypes = spate_xrealloc(p->ptypes, (size_t)SPATE_MAX(n, 1) * sizeof *p->ptypes);
    for (int i = 0; i < n; i++) {
        const spate_cql_colspec_t *cs = &r->metadata.columns[i];
        p->pnames[i] = spate_xmalloc((size_t)cs->name.len + 1);
        memcpy(p->pnames[i], cs->name.p, (size_t)cs->name.len);
        p->pnames[i][cs->name.len] = '\0';
        p->ptypes[i] = cs->type.id;
    }
    p->nparams = n;
    p->ncols = r->result_metadata.columns_count;
}

static spate_cql_prepared_t *prepared_by_id(spate_cql_client_t *c, spate_slice_t id) {
    for (spate_cql_prepared_t *p = c->prepared; p; p = p->next)
        if (p->id.len == (size_t)id.len && memcmp(p->id.data, id.p, (size_t)id.len) == 0) return p;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The connection                                                      */
/* ------------------------------------------------------------------ */

static void slot_release(spate_cql_client_t *c, int stream) {
    slot_t *s = &c->slots[stream];
    s->used = false;
    s->done = NULL;
    s->keep = false;
    spate_buf_reset(&s->frame);
    c->free_ids[c->nfree++] = (int16_t)stream;
    c->in_flight--;
}

static void reset_free_ids(spate_cql_client_t *c) {
    c->nfree = 0;
    for (int i = MAX_STREAMS - 1; i >= 0; i--) c->free_ids[c->nfree++] = (int16_t)i;
}

typedef struct {
    spate_cql_done_fn done;
    void *ctx;
} pending_t;

/* Closes the connection and fails every request in flight with st (after
 * the client is consistent again: completions may reconnect). */
static void conn_down(spate_cql_client_t *c, spate_status_t st) {
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    c->broken = false;
    c->version = 0;
    spate_buf_reset(&c->out);
    spate_buf_reset(&c->in);
    c->in_off = 0;
    pending_t *fail = c->in_flight ? spate_xmalloc((size_t)c->in_flight * sizeof *fail) : NULL;
    size_t nfail = 0;
    for (int i = 0; i < c->hw; i++) {
        slot_t *s = &c->slots[i];
        if (!s->used) continue;
        if (s->done) fail[nfail++] = (pending_t){s->done, s->ctx};
        s->used = false;
        s->done = NULL;
        s->keep = false;
        spate_buf_free(&s->frame);
    }
    c->in_flight = 0;
    c->abandoned = 0;
    c->hw = 0;
    reset_free_ids(c);
    for (size_t i = 0; i < nfail; i++) fail[i].done(fail[i].ctx, st, NULL);
    free(fail);
}

/* Writes what the socket takes; false when the connection broke. */
static bool flush_out(spate_cql_client_t *c) {
    size_t off = 0;
    while (off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + off, c->out.len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            return false;
        }
    }
    if (off == c->out.len) {
        spate_buf_reset(&c->out);
    } else if (off) {
        memmove(c->out.data, c->out.data + off, c->out.len - off);
        c->out.len -= off;
    }
    return true;
}

/* Queues an encoded frame: takes a stream id, patches it (and the version)
 * into the header, appends to out. NULL when no stream id is free. */
static slot_t *queue_frame(spate_cql_client_t *c, const char *frame, size_t len, bool keep,
                           spate_cql_done_fn done, void *ctx, int64_t deadline) {
    if (c->nfree == 0) return NULL;
    int stream = c->free_ids[--c->nfree];
    slot_t *s = &c->slots[stream];
    size_t mark = c->out.len;
    if (spate_buf_append(&c->out, frame, len) != SPATE_OK) {
        c->free_ids[c->nfree++] = (int16_t)stream;
        return NULL;
    }
    c->out.data[mark] = (char)c->version;
    c->out.data[mark + 2] = (char)(stream >> 8);
    c->out.data[mark + 3] = (char)stream;
    s->used = true;
    s->keep = keep;
    s->retries = 0;
    s->done = done;
    s->ctx = ctx;
    s->deadline = deadline;
    spate_buf_reset(&s->frame);
    if (keep) spate_buf_append(&s->frame, c->out.data + mark, len);
    c->in_flight++;
    if (stream >= c->hw) c->hw = stream + 1;
    if (deadline < c->next_expiry) c->next_expiry = deadline;
    return s;
}

/* Encodes req straight into out on a free stream. */
static spate_status_t queue_req(spate_cql_client_t *c, const spate_cql_request_t *req, bool keep,
                                spate_cql_done_fn done, void *ctx, int64_t deadline) {
    if (c->nfree == 0) return SPATE_AGAIN;
    int stream = c->free_ids[c->nfree - 1];
    size_t mark = c->out.len;
    spate_status_t st = spate_cql_request_write(&c->out, (uint8_t)c->version, (int16_t)stream, req);
    if (st != SPATE_OK) return st;
    c->nfree--;
    slot_t *s = &c->slots[stream];
    s->used = true;
    s->keep = keep;
    s->retries = 0;
    s->done = done;
    s->ctx = ctx;
    s->deadline = deadline;
    spate_buf_reset(&s->frame);
    if (keep) spate_buf_append(&s->frame, c->out.data + mark, c->out.len - mark);
    c->in_flight++;
    if (stream >= c->hw) c->hw = stream + 1;
    if (deadline < c->next_expiry) c->next_expiry = deadline;
    return SPATE_OK;
}

/* ---- re-preparing after Unprepared ---- */

typedef struct {
    spate_cql_client_t *c;
    spate_cql_prepared_t *p;
    spate_buf_t old_id;
    spate_buf_t frame;
    uint8_t retries;
    spate_cql_done_fn done;
    void *ctx;
    int64_t deadline;
} retry_t;

static void retry_free(retry_t *r) {
    spate_buf_free(&r->old_id);
    spate_buf_free(&r->frame);
    free(r);
}

/* The frame of r with every use of the old id replaced by p's new one. */
static spate_status_t rebuild_frame(spate_cql_client_t *c, retry_t *r, spate_buf_t *out) {
    spate_cql_header_t h;
    spate_status_t st = spate_cql_header_parse(r->frame.data, r->frame.len, SPATE_CQL_MAX_BODY, &h);
    if (st != SPATE_OK) return st;
    spate_cql_request_t req;
    st = spate_cql_request_decode(&h, r->frame.data + SPATE_CQL_HEADER_LEN, h.length, &req);
    if (st != SPATE_OK) return st;
    spate_slice_t old = {r->old_id.data, (int32_t)r->old_id.len};
    spate_slice_t neu = {r->p->id.data, (int32_t)r->p->id.len};
#define SAME_ID(s) ((s).len == old.len && memcmp((s).p, old.p, (size_t)old.len) == 0)
    if (req.opcode == SPATE_CQL_OP_EXECUTE && SAME_ID(req.id)) req.id = neu;
    for (uint16_t i = 0; req.opcode == SPATE_CQL_OP_BATCH && i < req.batch.n; i++)
        if (req.batch.stmts[i].kind == 1 && SAME_ID(req.batch.stmts[i].query))
            req.batch.stmts[i].query = neu;
#undef SAME_ID
    st = spate_cql_request_write(out, (uint8_t)c->version, 0, &req);
    spate_cql_request_free(&req);
    return st;
}

static void on_reprepared(void *ctx, spate_status_t st, spate_cql_answer_t *a) {
    retry_t *r = ctx;
    spate_cql_client_t *c = r->c;
    if (st != SPATE_OK || a->resp.opcode != SPATE_CQL_OP_RESULT ||
        a->resp.result.kind != SPATE_CQL_RESULT_PREPARED) {
        /* the statement cannot be prepared any more (a dropped table...):
         * that answer is the request's */
        r->done(r->ctx, st, a);
        retry_free(r);
        return;
    }
    prepared_update(r->p, a);
    spate_cql_answer_free(a);
    spate_buf_t rebuilt = SPATE_BUF_INIT;
    const spate_buf_t *f = &r->frame;
    if (r->old_id.len != r->p->id.len || memcmp(r->old_id.data, r->p->id.data, r->p->id.len)) {
        if (rebuild_frame(c, r, &rebuilt) != SPATE_OK) {
            spate_buf_free(&rebuilt);
            r->done(r->ctx, SPATE_EIO, NULL);
            retry_free(r);
            return;
        }
        f = &rebuilt;
    }
    slot_t *s = queue_frame(c, f->data, f->len, true, r->done, r->ctx, r->deadline);
    spate_buf_free(&rebuilt);
    if (!s) {
        r->done(r->ctx, SPATE_EIO, NULL);
    } else {
        s->retries = r->retries;
    }
    retry_free(r);
}

/* An Unprepared answer to the request in slot s: prepares the statement
 * again and resends the request when that is done. False when it cannot
 * (unknown id, retries used up): the answer goes to the caller. */
static bool start_reprepare(spate_cql_client_t *c, slot_t *s, const spate_cql_answer_t *a) {
    if (!s->keep || s->retries >= MAX_RETRIES) return false;
    spate_cql_prepared_t *p = prepared_by_id(c, a->resp.error.id);
    if (!p) return false;
    retry_t *r = spate_xcalloc(1, sizeof *r);
    r->c = c;
    r->p = p;
    spate_buf_append(&r->old_id, p->id.data, p->id.len);
    spate_buf_append(&r->frame, s->frame.data, s->frame.len);
    r->retries = (uint8_t)(s->retries + 1);
    r->done = s->done;
    r->ctx = s->ctx;
    r->deadline = s->deadline;
    spate_cql_request_t req = {.opcode = SPATE_CQL_OP_PREPARE,
                               .query = {p->cql, (int32_t)strlen(p->cql)}};
    if (queue_req(c, &req, false, on_reprepared, r, s->deadline) != SPATE_OK) {
        retry_free(r);
        return false;
    }
    return true;
}

/* ---- reading ---- */

static void remember_keyspace(spate_cql_client_t *c, const spate_cql_answer_t *a) {
    const spate_slice_t *k = &a->resp.result.keyspace;
    snprintf(c->keyspace, sizeof c->keyspace, "%.*s", (int)k->len, k->p ? k->p : "");
}

/* Hands every whole frame in `in` to its slot, one at a time (see the
 * note on re-entrancy). False when the connection is unusable: a framing
 * error, or an answer that cannot be decoded. */
static bool dispatch_frames(spate_cql_client_t *c) {
    while (c->fd >= 0 && c->in_off < c->in.len) {
        const char *at = c->in.data + c->in_off;
        size_t avail = c->in.len - c->in_off;
        spate_cql_header_t h;
        spate_status_t st = spate_cql_header_parse(at, avail, SPATE_CQL_MAX_BODY, &h);
        if (st == SPATE_AGAIN) break;
        if (st != SPATE_OK || !h.response) {
            set_err(c, "%s: malformed frame from the server", c->peer);
            return false;
        }
        size_t whole = SPATE_CQL_HEADER_LEN + h.length;
        if (avail < whole) break;
        const char *body = at + SPATE_CQL_HEADER_LEN;
        if (h.stream < 0 || h.stream >= c->hw || !c->slots[h.stream].used) {
            c->in_off += whole; /* an EVENT (not subscribed), or nothing asked on it */
            continue;
        }
        slot_t *s = &c->slots[h.stream];
        if (!s->done) { /* abandoned: its answer came too late */
            c->in_off += whole;
            c->abandoned--;
            slot_release(c, h.stream);
            continue;
        }
        spate_cql_answer_t *a = spate_xcalloc(1, sizeof *a);
        st = spate_buf_append(&a->body, body, h.length);
        if (st != SPATE_OK ||
            spate_cql_response_decode(&h, a->body.data, a->body.len, &a->resp) != SPATE_OK) {
            spate_buf_free(&a->body);
            free(a);
            set_err(c, "%s: undecodable %s answer", c->peer,
                    spate_cql_opcode_name(h.opcode) ? spate_cql_opcode_name(h.opcode) : "?");
            return false;
        }
        c->in_off += whole;
        if (a->resp.opcode == SPATE_CQL_OP_ERROR &&
            a->resp.error.code == SPATE_CQL_ERR_UNPREPARED && start_reprepare(c, s, a)) {
            spate_cql_answer_free(a);
            slot_release(c, h.stream);
            continue;
        }
        if (a->resp.opcode == SPATE_CQL_OP_RESULT &&
            a->resp.result.kind == SPATE_CQL_RESULT_SET_KEYSPACE)
            remember_keyspace(c, a);
        spate_cql_done_fn done = s->done;
        void *ctx = s->ctx;
        slot_release(c, h.stream);
        done(ctx, SPATE_OK, a);
    }
    return true;
}

/* Fails the requests whose deadline passed; closes a connection whose
 * whole window is timed-out requests. */
static void expire(spate_cql_client_t *c) {
    int64_t now = spate_mono_ms();
    if (now < c->next_expiry) return;
    c->next_expiry = INT64_MAX; /* lowered again by every slot still waiting */
    for (int i = 0; i < c->hw; i++) {
        slot_t *s = &c->slots[i];
        if (!s->used || !s->done) continue;
        if (now < s->deadline) {
            c->next_expiry = SPATE_MIN(c->next_expiry, s->deadline);
            continue;
        }
        spate_cql_done_fn done = s->done;
        s->done = NULL; /* keeps its stream until the late answer */
        c->abandoned++;
        done(s->ctx, SPATE_ETIMEDOUT, NULL);
    }
    if (c->fd >= 0 && c->abandoned >= c->conf.max_in_flight) {
        set_err(c, "%s: %d requests without an answer, connection closed", c->peer, c->abandoned);
        conn_down(c, SPATE_ETIMEDOUT);
    }
}

int spate_cql_client_poll(spate_cql_client_t *c, int timeout_ms) {
    if (c->broken) conn_down(c, SPATE_EIO);
    if (c->fd < 0) return c->in_flight;
    if (!flush_out(c)) {
        set_err(c, "%s: connection lost (%s)", c->peer, strerror(errno));
        conn_down(c, SPATE_EIO);
        return c->in_flight;
    }
    int wait = timeout_ms < 0 ? 0 : timeout_ms;
    if (c->in_flight > c->abandoned && c->next_expiry != INT64_MAX) {
        int64_t left = c->next_expiry - spate_mono_ms();
        wait = (int)SPATE_MAX(0, SPATE_MIN((int64_t)wait, left));
    }
    struct pollfd p = {.fd = c->fd, .events = POLLIN | (c->out.len ? POLLOUT : 0)};
    int n = poll(&p, 1, wait);
    if (n < 0 && errno != EINTR) {
        set_err(c, "%s: poll: %s", c->peer, strerror(errno));
        conn_down(c, SPATE_EIO);
        return c->in_flight;
    }
    if (n > 0 && (p.revents & POLLOUT) && !flush_out(c)) {
        set_err(c, "%s: connection lost (%s)", c->peer, strerror(errno));
        conn_down(c, SPATE_EIO);
        return c->in_flight;
    }
    if (n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
        if (c->in_off == c->in.len) {
            spate_buf_reset(&c->in);
            c->in_off = 0;
        } else if (c->in_off) {
            memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
            c->in.len -= c->in_off;
            c->in_off = 0;
        }
        bool gone = false;
        uint64_t gen = c->connections; /* a completion may reconnect meanwhile */
        for (size_t got = 0; got < (4u << 20);) {
            if (spate_buf_reserve(&c->in, READ_CHUNK) != SPATE_OK) {
                gone = true;
                break;
            }
            ssize_t r = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1, 0);
            if (r > 0) {
                c->in.len += (size_t)r;
                got += (size_t)r;
                continue;
            }
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            set_err(c, "%s: connection lost (%s)", c->peer,
                    r == 0 ? "closed by the server" : strerror(errno));
            gone = true; /* the frames read before EOF are answered first */
            break;
        }
        if (!dispatch_frames(c)) gone = true;
        if (gone && c->fd >= 0 && c->connections == gen) conn_down(c, SPATE_EIO);
    }
    expire(c);
    return c->in_flight;
}

int spate_cql_client_in_flight(const spate_cql_client_t *c) { return c->in_flight; }

void spate_cql_client_drain(spate_cql_client_t *c) {
    while (c->in_flight > c->abandoned) spate_cql_client_poll(c, 100);
}

/* ---- synchronous plumbing ---- */

typedef struct {
    bool done;
    spate_status_t st;
    spate_cql_answer_t *a;
} waiter_t;

static void wake(void *ctx, spate_status_t st, spate_cql_answer_t *a) {
    waiter_t *w = ctx;
    w->done = true;
    w->st = st;
    w->a = a;
}

static void wait_for(spate_cql_client_t *c, waiter_t *w) {
    while (!w->done) spate_cql_client_poll(c, 100);
}

/* Sends req on the current connection (no reconnect, no window) and waits
 * for its answer. */
static spate_status_t roundtrip(spate_cql_client_t *c, const spate_cql_request_t *req,
                                int timeout_ms, spate_cql_answer_t **out) {
    waiter_t w = {0};
    spate_status_t st = queue_req(c, req, false, wake, &w, spate_mono_ms() + timeout_ms);
    if (st != SPATE_OK) return st;
    wait_for(c, &w);
    *out = w.a;
    return w.st;
}

/* ---- connecting ---- */

/* "USE "ks"" with the name quoted as an identifier. */
static void use_text(spate_buf_t *q, const char *ks) {
    spate_buf_puts(q, "USE \"");
    for (const char *p = ks; *p; p++) {
        if (*p == '"') spate_buf_putc(q, '"');
        spate_buf_putc(q, *p);
    }
    spate_buf_putc(q, '"');
}

/* One connection: TCP, OPTIONS, STARTUP. ERANGE when the server refused
 * this protocol version (try a lower one). Error text appended to errb. */
static spate_status_t connect_one(spate_cql_client_t *c, const spate_net_addr_t *addr, int version,
                                  spate_buf_t *errb) {
    char text[80];
    spate_net_addr_format(addr, text, sizeof text);
    if (errb->len) spate_buf_puts(errb, "; ");
    int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        spate_buf_printf(errb, "%s: socket: %s", text, strerror(errno));
        return SPATE_EIO;
    }
    if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0 && errno != EINPROGRESS) {
        spate_buf_printf(errb, "%s: connect: %s", text, strerror(errno));
        close(fd);
        return SPATE_EIO;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    int n = poll(&p, 1, c->conf.connect_timeout_ms);
    if (n <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
        spate_buf_printf(errb, "%s: connect: %s", text,
                         soerr ? strerror(soerr) : "no answer within the connect timeout");
        close(fd);
        return soerr ? SPATE_EIO : SPATE_ETIMEDOUT;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->version = version;
    snprintf(c->peer, sizeof c->peer, "%s", text);

    spate_cql_request_t req = {.opcode = SPATE_CQL_OP_OPTIONS};
    spate_cql_answer_t *a = NULL;
    spate_status_t st = roundtrip(c, &req, c->conf.connect_timeout_ms, &a);
    if (st == SPATE_OK && a->resp.opcode == SPATE_CQL_OP_SUPPORTED) {
        spate_cql_answer_free(a);
        a = NULL;
        spate_cql_pair_t opt = {.key = {"CQL_VERSION", 11}, .value = {"3.0.0", 5}};
        req = (spate_cql_request_t){.opcode = SPATE_CQL_OP_STARTUP, .options = {.n = 1, .e = &opt}};
        st = roundtrip(c, &req, c->conf.connect_timeout_ms, &a);
    }
    if (st != SPATE_OK) {
        spate_buf_printf(errb, "%s: %s during the handshake", text,
                         st == SPATE_ETIMEDOUT ? "no answer" : "connection lost");
        if (c->fd >= 0) conn_down(c, SPATE_EIO);
        return st;
    }
    if (a->resp.opcode == SPATE_CQL_OP_AUTHENTICATE && c->conf.username) {
        /* SASL PLAIN: NUL user NUL password, in one AUTH_RESPONSE. */
        spate_cql_answer_free(a);
        a = NULL;
        spate_buf_t tok = SPATE_BUF_INIT;
        spate_buf_putc(&tok, '\0');
        spate_buf_puts(&tok, c->conf.username);
        spate_buf_putc(&tok, '\0');
        spate_buf_puts(&tok, c->conf.password ? c->conf.password : "");
        req = (spate_cql_request_t){.opcode = SPATE_CQL_OP_AUTH_RESPONSE};
        req.token = (spate_slice_t){tok.data, (int32_t)tok.len};
        st = roundtrip(c, &req, c->conf.connect_timeout_ms, &a);
        spate_buf_free(&tok);
        if (st != SPATE_OK) {
            spate_buf_printf(errb, "%s: %s during authentication", text,
                             st == SPATE_ETIMEDOUT ? "no answer" : "connection lost");
            if (c->fd >= 0) conn_down(c, SPATE_EIO);
            return st;
        }
        if (a->resp.opcode == SPATE_CQL_OP_AUTH_SUCCESS) {
            spate_cql_answer_free(a);
            return SPATE_OK;
        }
    }
    if (a->resp.opcode == SPATE_CQL_OP_READY) {
        spate_cql_answer_free(a);
        return SPATE_OK;
    }
    bool bad_version =
        a->resp.opcode == SPATE_CQL_OP_ERROR && a->resp.error.code == SPATE_CQL_ERR_PROTOCOL;
    char why[300];
    if (a->resp.opcode == SPATE_CQL_OP_AUTHENTICATE)
        snprintf(why, sizeof why,
                 "the server asks for authentication (%.*s): give a username and password",
                 (int)a->resp.authenticator.len, a->resp.authenticator.p);
    else
        spate_cql_answer_error_text(a, why, sizeof why);
    spate_buf_printf(errb, "%s: v%d: %s", text, version, why);
    spate_cql_answer_free(a);
    conn_down(c, SPATE_EIO);
    return bad_version ? SPATE_ERANGE : SPATE_ERR;
}

static void on_eager(void *ctx, spate_status_t st, spate_cql_answer_t *a) {
    spate_cql_prepared_t *p = ctx;
    if (st == SPATE_OK && a->resp.opcode == SPATE_CQL_OP_RESULT &&
        a->resp.result.kind == SPATE_CQL_RESULT_PREPARED)
        prepared_update(p, a);
    /* a failure is left for the statement's next EXECUTE to report */
    spate_cql_answer_free(a);
}

/* After a reconnect: USE the keyspace, prepare every known statement. */
static spate_status_t restore_session(spate_cql_client_t *c, spate_buf_t *errb) {
    if (c->keyspace[0]) {
        spate_buf_t q = SPATE_BUF_INIT;
        use_text(&q, c->keyspace);
        spate_cql_request_t req = {.opcode = SPATE_CQL_OP_QUERY,
                                   .query = {q.data, (int32_t)q.len},
                                   .params = {.consistency = (uint16_t)c->conf.consistency}};
        spate_cql_answer_t *a = NULL;
        spate_status_t st = roundtrip(c, &req, c->conf.connect_timeout_ms, &a);
        spate_buf_free(&q);
        if (st == SPATE_OK && a->resp.opcode == SPATE_CQL_OP_ERROR) {
            char why[300];
            spate_cql_answer_error_text(a, why, sizeof why);
            spate_buf_printf(errb, "%s%s: USE %s: %s", errb->len ? "; " : "", c->peer, c->keyspace,
                             why);
            st = SPATE_ERR;
        }
        spate_cql_answer_free(a);
        if (st != SPATE_OK) {
            if (c->fd >= 0) conn_down(c, SPATE_EIO);
            return st;
        }
    }
    int64_t deadline = spate_mono_ms() + c->conf.request_timeout_ms;
    for (spate_cql_prepared_t *p = c->prepared; p && c->fd >= 0; p = p->next) {
        spate_cql_request_t req = {.opcode = SPATE_CQL_OP_PREPARE,
                                   .query = {p->cql, (int32_t)strlen(p->cql)}};
        if (queue_req(c, &req, false, on_eager, p, deadline) != SPATE_OK) break;
    }
    while (c->fd >= 0 && c->in_flight > c->abandoned) spate_cql_client_poll(c, 100);
    return c->fd >= 0 ? SPATE_OK : SPATE_EIO;
}

/* Connects to the contact points in turn, from the one that worked last;
 * v4 first, v3 if the server refuses v4 (unless a version is forced). */
static spate_status_t reconnect(spate_cql_client_t *c) {
    spate_buf_t errb = SPATE_BUF_INIT;
    char *list = spate_xstrdup(c->contact_points), *save = NULL;
    size_t n = 0;
    spate_net_addr_t *addrs = spate_xcalloc(MAX_CONTACTS, sizeof *addrs);
    for (char *tok = strtok_r(list, ",", &save); tok && n < MAX_CONTACTS;
         tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        char with_port[300], aerr[256];
        /* a host without a port: CQL's 9042 ("[::1]" or "::1" alone too) */
        const char *colon = strrchr(tok, ':');
        bool has_port =
            colon && (tok[0] == '[' ? strstr(tok, "]:") != NULL : colon == strchr(tok, ':'));
        snprintf(with_port, sizeof with_port, has_port ? "%s" : "%s:9042", tok);
        if (spate_net_addr_parse(with_port, &addrs[n], aerr, sizeof aerr) == SPATE_OK)
            n++;
        else
            spate_buf_printf(&errb, "%s%s", errb.len ? "; " : "", aerr);
    }
    free(list);
    spate_status_t st = SPATE_EINVAL;
    if (n == 0 && !errb.len) spate_buf_printf(&errb, "no contact point in '%s'", c->contact_points);
    for (size_t k = 0; k < n; k++) {
        size_t i = (c->last_contact + k) % n;
        int v = c->conf.protocol_version == 3 ? 3 : 4;
        st = connect_one(c, &addrs[i], v, &errb);
        if (st == SPATE_ERANGE && c->conf.protocol_version == 0)
            st = connect_one(c, &addrs[i], 3, &errb);
        if (st == SPATE_ERANGE) st = SPATE_ERR;
        if (st == SPATE_OK) st = restore_session(c, &errb);
        if (st == SPATE_OK) {
            c->last_contact = i;
            c->connections++;
            c->next_expiry = INT64_MAX;
            break;
        }
    }
    free(addrs);
    if (st != SPATE_OK) set_err(c, "%s", errb.data ? errb.data : "cannot connect");
    spate_buf_free(&errb);
    return st;
}

spate_status_t spate_cql_client_connect(spate_cql_client_t **out,
                                        const spate_cql_client_conf_t *conf, char *err,
                                        size_t errlen) {
    spate_cql_client_t *c = spate_xcalloc(1, sizeof *c);
    c->conf = *conf;
    c->contact_points = spate_xstrdup(conf->contact_points ? conf->contact_points : "127.0.0.1");
    if (conf->keyspace) snprintf(c->keyspace, sizeof c->keyspace, "%s", conf->keyspace);
    c->conf.contact_points = c->contact_points;
    c->conf.keyspace = NULL;
    c->username = conf->username ? spate_xstrdup(conf->username) : NULL;
    c->password = conf->password ? spate_xstrdup(conf->password) : NULL;
    c->conf.username = c->username;
    c->conf.password = c->password;
    if (c->conf.max_in_flight <= 0 || c->conf.max_in_flight >= MAX_STREAMS)
        c->conf.max_in_flight = c->conf.max_in_flight <= 0 ? 256 : MAX_STREAMS - 1;
    if (c->conf.connect_timeout_ms <= 0) c->conf.connect_timeout_ms = 5000;
    if (c->conf.request_timeout_ms <= 0) c->conf.request_timeout_ms = 12000;
    if (c->conf.consistency < 0 || c->conf.consistency > SPATE_CQL_CONSISTENCY_LOCAL_ONE)
        c->conf.consistency = SPATE_CQL_CONSISTENCY_LOCAL_ONE;
    if (c->conf.protocol_version != 3 && c->conf.protocol_version != 4)
        c->conf.protocol_version = 0;
    c->fd = -1;
    c->next_expiry = INT64_MAX;
    c->slots = spate_xcalloc(MAX_STREAMS, sizeof *c->slots);
    c->free_ids = spate_xmalloc(MAX_STREAMS * sizeof *c->free_ids);
    reset_free_ids(c);
    spate_status_t st = reconnect(c);
    if (st != SPATE_OK) {
        snprintf(err, errlen, "%s", c->err);
        spate_cql_client_free(c);
        *out = NULL;
        return st;
    }
    *out = c;
    return SPATE_OK;
}

void spate_cql_client_free(spate_cql_client_t *c) {
    if (!c) return;
    conn_down(c, SPATE_EIO);
    while (c->prepared) {
        spate_cql_prepared_t *p = c->prepared;
        c->prepared = p->next;
        prepared_free(p);
    }
    for (int i = 0; i < MAX_STREAMS; i++) spate_buf_free(&c->slots[i].frame);
    spate_buf_free(&c->out);
    spate_buf_free(&c->in);
    free(c->slots);
    free(c->free_ids);
    free(c->scratch_v);
    free(c->scratch_b);
    free(c->contact_points);
    free(c->username);
    if (c->password) explicit_bzero(c->password, strlen(c->password));
    free(c->password);
    free(c);
}

int spate_cql_client_version(const spate_cql_client_t *c) { return c->fd >= 0 ? c->version : 0; }
const char *spate_cql_client_peer(const spate_cql_client_t *c) { return c->peer; }
const char *spate_cql_client_keyspace(const spate_cql_client_t *c) { return c->keyspace; }
bool spate_cql_client_connected(const spate_cql_client_t *c) { return c->fd >= 0 && !c->broken; }
uint64_t spate_cql_client_connections(const spate_cql_client_t *c) { return c->connections; }
const char *spate_cql_client_error(const spate_cql_client_t *c) { return c->err; }

/* ------------------------------------------------------------------ */
/* Submitting                                                          */
/* ------------------------------------------------------------------ */

static spate_slice_t *scratch_values(spate_cql_client_t *c, size_t n) {
    if (n > c->scratch_vcap) {
        c->scratch_vcap = SPATE_MAX(n, c->scratch_vcap * 2);
        c->scratch_v = spate_xrealloc(c->scratch_v, c->scratch_vcap * sizeof *c->scratch_v);
    }
    return c->scratch_v;
}

/* The values of a text or prepared query as slices into q (never-bound
 * markers as unset); EINVAL for an unset value in v3. */
static spate_status_t fill_values(const spate_cql_client_t *c, const spate_cql_query_t *q,
                                  spate_slice_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        cql_qval_t v = i < q->nv ? q->v[i] : (cql_qval_t){0, SPATE_CQL_UNSET};
        if (v.len == SPATE_CQL_UNSET && c->version < 4) return SPATE_EINVAL;
        dst[i] = v.len >= 0 ? (spate_slice_t){q->vals.data ? q->vals.data + v.off : "", v.len}
                            : (spate_slice_t){NULL, v.len};
    }
    return SPATE_OK;
}

static size_t nvalues(const spate_cql_query_t *q) {
    if (q->kind == CQL_Q_PREPARED) return SPATE_MAX(q->nv, (uint32_t)q->prepared->nparams);
    return q->nv;
}

/* Encodes q into out with stream id `stream`. */
static spate_status_t encode(spate_cql_client_t *c, const spate_cql_query_t *q, int16_t stream,
                             bool *keep) {
    spate_cql_request_t req = {0};
    uint16_t cl = (uint16_t)(q->consistency >= 0 ? q->consistency : c->conf.consistency);
    *keep = false;
    if (q->kind == CQL_Q_BATCH) {
        if (q->nkids == 0) {
            set_err(c, "an empty batch");
            return SPATE_EINVAL;
        }
        size_t total = 0;
        for (uint32_t i = 0; i < q->nkids; i++) total += nvalues(q->kids[i]);
        spate_slice_t *vals = scratch_values(c, SPATE_MAX(total, 1));
        if (q->nkids > c->scratch_bcap) {
            c->scratch_bcap = SPATE_MAX(q->nkids, c->scratch_bcap * 2);
            c->scratch_b = spate_xrealloc(c->scratch_b, c->scratch_bcap * sizeof *c->scratch_b);
        }
        size_t at = 0;
        for (uint32_t i = 0; i < q->nkids; i++) {
            const spate_cql_query_t *k = q->kids[i];
            spate_cql_batch_stmt_t *s = &c->scratch_b[i];
            size_t nv = nvalues(k);
            if (nv > UINT16_MAX || fill_values(c, k, vals + at, nv) != SPATE_OK) {
                set_err(c, "batch statement %u: a marker without a value (protocol v3)", i);
                return SPATE_EINVAL;
            }
            *s = (spate_cql_batch_stmt_t){.nvalues = (uint16_t)nv, .values = vals + at};
            if (k->kind == CQL_Q_PREPARED) {
                s->kind = 1;
                s->query = (spate_slice_t){k->prepared->id.data, (int32_t)k->prepared->id.len};
                *keep = true;
            } else {
                s->query = (spate_slice_t){k->cql, (int32_t)k->cql_len};
            }
            at += nv;
        }
        req.opcode = SPATE_CQL_OP_BATCH;
        req.batch = (spate_cql_batch_t){.type = q->batch_type,
                                        .n = (uint16_t)q->nkids,
                                        .stmts = c->scratch_b,
                                        .consistency = cl,
                                        .timestamp = q->timestamp};
        if (q->timestamp != INT64_MIN) req.batch.flags |= SPATE_CQL_QF_DEFAULT_TIMESTAMP;
    } else {
        size_t nv = nvalues(q);
        if (nv > UINT16_MAX) return SPATE_EINVAL;
        spate_slice_t *vals = scratch_values(c, SPATE_MAX(nv, 1));
        if (fill_values(c, q, vals, nv) != SPATE_OK) {
            set_err(c, "a marker without a value (protocol v3 has no unset)");
            return SPATE_EINVAL;
        }
        spate_cql_params_t *p = &req.params;
        p->consistency = cl;
        if (nv) {
            p->flags |= SPATE_CQL_QF_VALUES;
            p->nvalues = (uint16_t)nv;
            p->values = vals;
        }
        if (q->page_size > 0) {
            p->flags |= SPATE_CQL_QF_PAGE_SIZE;
            p->page_size = q->page_size;
        }
        if (q->has_paging) {
            p->flags |= SPATE_CQL_QF_PAGING_STATE;
            p->paging_state =
                (spate_slice_t){q->paging.data ? q->paging.data : "", (int32_t)q->paging.len};
        }
        if (q->timestamp != INT64_MIN) {
            p->flags |= SPATE_CQL_QF_DEFAULT_TIMESTAMP;
            p->timestamp = q->timestamp;
        }
        if (q->kind == CQL_Q_PREPARED) {
            req.opcode = SPATE_CQL_OP_EXECUTE;
            req.id = (spate_slice_t){q->prepared->id.data, (int32_t)q->prepared->id.len};
            *keep = true;
        } else {
            req.opcode = SPATE_CQL_OP_QUERY;
            req.query = (spate_slice_t){q->cql, (int32_t)q->cql_len};
        }
    }
    spate_status_t st = spate_cql_request_write(&c->out, (uint8_t)c->version, stream, &req);
    if (st != SPATE_OK) set_err(c, "the query cannot be encoded (%s)", spate_status_str(st));
    return st == SPATE_ENOMEM ? st : (st == SPATE_OK ? SPATE_OK : SPATE_EINVAL);
}

/* Reconnects if needed and waits for room in the window. */
static spate_status_t ready_to_send(spate_cql_client_t *c, int timeout_ms) {
    int64_t deadline = -1; /* read the clock only when the window is full */
    for (;;) {
        if (c->broken) conn_down(c, SPATE_EIO);
        if (c->fd < 0) {
            spate_status_t st = reconnect(c);
            if (st != SPATE_OK) return st;
        }
        if (c->in_flight < c->conf.max_in_flight && c->nfree > 0) return SPATE_OK;
        if (deadline < 0) deadline = spate_mono_ms() + timeout_ms;
        if (spate_mono_ms() >= deadline) {
            set_err(c, "%s: the window stayed full for %d ms", c->peer, timeout_ms);
            return SPATE_ETIMEDOUT;
        }
        spate_cql_client_poll(c, 100);
    }
}

spate_status_t spate_cql_client_submit(spate_cql_client_t *c, const spate_cql_query_t *q,
                                       spate_cql_done_fn done, void *ctx) {
    c->err[0] = '\0';
    if (q->kind == CQL_Q_BATCH && q->nkids == 0) {
        set_err(c, "an empty batch");
        return SPATE_EINVAL;
    }
    int timeout = q->timeout_ms > 0 ? q->timeout_ms : c->conf.request_timeout_ms;
    spate_status_t st = ready_to_send(c, timeout);
    if (st != SPATE_OK) return st;
    int stream = c->free_ids[c->nfree - 1];
    size_t mark = c->out.len;
    bool keep;
    if ((st = encode(c, q, (int16_t)stream, &keep)) != SPATE_OK) return st;
    c->nfree--;
    slot_t *s = &c->slots[stream];
    s->used = true;
    s->keep = keep;
    s->retries = 0;
    s->done = done;
    s->ctx = ctx;
    s->deadline = spate_mono_ms() + timeout;
    spate_buf_reset(&s->frame);
    if (keep) spate_buf_append(&s->frame, c->out.data + mark, c->out.len - mark);
    c->in_flight++;
    if (stream >= c->hw) c->hw = stream + 1;
    if (s->deadline < c->next_expiry) c->next_expiry = s->deadline;
    if (c->out.len >= FLUSH_AT && !flush_out(c)) {
        set_err(c, "%s: connection lost (%s)", c->peer, strerror(errno));
        c->broken = true; /* the next poll fails what is in flight, this one included */
    }
    return SPATE_OK;
}

/* ------------------------------------------------------------------ */
/* Synchronous calls                                                   */
/* ------------------------------------------------------------------ */

spate_status_t spate_cql_client_execute(spate_cql_client_t *c, const spate_cql_query_t *q,
                                        spate_cql_answer_t **out) {
    if (out) *out = NULL;
    waiter_t w = {0};
    spate_status_t st = spate_cql_client_submit(c, q, wake, &w);
    if (st != SPATE_OK) return st;
    wait_for(c, &w);
    if (w.st != SPATE_OK) {
        if (!c->err[0] || w.st == SPATE_ETIMEDOUT)
            set_err(c, "%s: %s", c->peer,
                    w.st == SPATE_ETIMEDOUT ? "no answer within the request timeout"
                                            : "connection lost");
        return w.st;
    }
    st = SPATE_OK;
    if (w.a->resp.opcode == SPATE_CQL_OP_ERROR) {
        spate_cql_answer_error_text(w.a, c->err, sizeof c->err);
        st = SPATE_ERR;
    }
    if (out)
        *out = w.a;
    else
        spate_cql_answer_free(w.a);
    return st;
}

spate_status_t spate_cql_client_query(spate_cql_client_t *c, const char *cql,
                                      spate_cql_answer_t **out) {
    spate_cql_query_t q = {.kind = CQL_Q_TEXT,
                           .cql = (char *)cql,
                           .cql_len = strlen(cql),
                           .consistency = SPATE_CQL_CONSISTENCY_DEFAULT,
                           .timestamp = INT64_MIN};
    return spate_cql_client_execute(c, &q, out);
}

spate_status_t spate_cql_client_use(spate_cql_client_t *c, const char *keyspace) {
    spate_buf_t q = SPATE_BUF_INIT;
    use_text(&q, keyspace);
    spate_status_t st = spate_cql_client_query(c, q.data, NULL);
    spate_buf_free(&q);
    return st;
}

spate_status_t spate_cql_client_prepare(spate_cql_client_t *c, const char *cql,
                                        spate_cql_prepared_t **out) {
    *out = NULL;
    c->err[0] = '\0';
    spate_status_t st = ready_to_send(c, c->conf.request_timeout_ms);
    if (st != SPATE_OK) return st;
    spate_cql_request_t req = {.opcode = SPATE_CQL_OP_PREPARE,
                               .query = {cql, (int32_t)strlen(cql)}};
    waiter_t w = {0};
    if ((st = queue_req(c, &req, false, wake, &w, spate_mono_ms() + c->conf.request_timeout_ms)) !=
        SPATE_OK) {
        set_err(c, "the statement cannot be encoded (%s)", spate_status_str(st));
        return SPATE_EINVAL;
    }
    wait_for(c, &w);
    if (w.st != SPATE_OK) {
        if (!c->err[0] || w.st == SPATE_ETIMEDOUT)
            set_err(c, "%s: %s", c->peer,
                    w.st == SPATE_ETIMEDOUT ? "no answer within the request timeout"
                                            : "connection lost");
        return w.st;
    }
    spate_cql_answer_t *a = w.a;
    if (a->resp.opcode == SPATE_CQL_OP_ERROR) {
        spate_cql_answer_error_text(a, c->err, sizeof c->err);
        spate_cql_answer_free(a);
        return SPATE_ERR;
    }
    if (a->resp.opcode != SPATE_CQL_OP_RESULT || a->resp.result.kind != SPATE_CQL_RESULT_PREPARED) {
        set_err(c, "%s: PREPARE answered with something else than Prepared", c->peer);
        spate_cql_answer_free(a);
        return SPATE_ERR;
    }
    spate_cql_prepared_t *p = c->prepared;
    for (; p; p = p->next)
        if (strcmp(p->cql, cql) == 0 && strcmp(p->keyspace, c->keyspace) == 0) break;
    if (!p) {
        p = spate_xcalloc(1, sizeof *p);
        p->cql = spate_xstrdup(cql);
        p->keyspace = spate_xstrdup(c->keyspace);
        p->next = c->prepared;
        c->prepared = p;
    }
    prepared_update(p, a);
    spate_cql_answer_free(a);
    *out = p;
    return SPATE_OK;
}
