/*
 * test_cql_exec.c — unit tests of the write path of `spate cql`
 * (src/cql/cql_exec.c), driven through the real request path: an
 * in-process server on a temporary data directory, one connection over a
 * socketpair, requests framed by the codec and fed to cql_conn_input,
 * responses read back from the other end and decoded. What the writes did
 * is checked by reading the store directly (spate_cql_store_iter_*), so
 * these tests do not depend on SELECT.
 *
 *   lww          upserts ordered by timestamp (USING TIMESTAMP, the
 *                client's default timestamp), the row marker of INSERT
 *   ttl          USING TTL, default_time_to_live, TTL 0, expiry at a
 *                later `now`, TTL bounds
 *   nulls        null writes a tombstone, unset writes nothing; UPDATE
 *                writes no marker (the row disappears with its cells)
 *   collections  set add / remove, map put / remove, list append /
 *                prepend / set and delete by index / remove by value,
 *                overwrite, frozen sets sorted and deduplicated
 *   deletes      columns, elements, rows, partitions, clustering ranges
 *   statics      static columns with and without clustering
 *   counters     increments, decrements, a batch summing one counter,
 *                the refusals
 *   lwt          IF NOT EXISTS / IF EXISTS / IF c = v, both outcomes,
 *                the [applied] rows, conditional batches
 *   batch        atomicity (a failing statement writes nothing), the
 *                BATCH message with markers, counter batch rules
 *   functions    now(), uuid(), toTimestamp(now()), blob conversions
 *   truncate     TRUNCATE empties the table
 *   errors       codes and Cassandra's exact messages
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cql_exec.h"

/* ------------------------------------------------------------------ */
/* The harness                                                         */
/* ------------------------------------------------------------------ */

typedef struct {
    spate_cql_server_t *srv;
    cql_conn_t *conn;
    int peer; /* our end of the socketpair */
    char dir[64];
    int16_t stream;
} harness_t;

/* A decoded response and the frame it borrows from. */
typedef struct {
    spate_buf_t frame;
    spate_cql_response_t r;
} resp_t;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static harness_t *h_new(void) {
    harness_t *h = calloc(1, sizeof *h);
    assert_non_null(h);
    snprintf(h->dir, sizeof h->dir, "/tmp/spate-test-exec-XXXXXX");
    assert_non_null(mkdtemp(h->dir));
    spate_cql_conf_t conf;
    spate_cql_conf_default(&conf);
    char err[256];
    assert_int_equal(spate_net_addr_parse("127.0.0.1:0", &conf.listen, err, sizeof err), SPATE_OK);
    snprintf(conf.data_dir, sizeof conf.data_dir, "%s", h->dir);
    conf.fsync = false;
    assert_int_equal(spate_cql_server_start(&h->srv, &conf, err, sizeof err), SPATE_OK);
    int fds[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    h->conn = cql_conn_open(h->srv, fds[0], "test");
    assert_non_null(h->conn);
    h->peer = fds[1];
    return h;
}

static void h_free(harness_t *h) {
    spate_cql_server_free(h->srv); /* closes the connection */
    close(h->peer);
    nftw(h->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(h);
}

static void resp_free(resp_t *r) {
    spate_cql_response_free(&r->r);
    spate_buf_free(&r->frame);
}

/* Sends one request and reads its response. */
static void roundtrip(harness_t *h, const spate_cql_request_t *req, resp_t *out) {
    spate_buf_t b = SPATE_BUF_INIT;
    int16_t stream = ++h->stream;
    assert_int_equal(spate_cql_request_write(&b, 4, stream, req), SPATE_OK);
    assert_true(cql_conn_input(h->conn, b.data, b.len));
    spate_buf_free(&b);
    memset(out, 0, sizeof *out);
    spate_cql_header_t hd;
    for (;;) {
        if (out->frame.len >= SPATE_CQL_HEADER_LEN &&
            spate_cql_header_parse(out->frame.data, out->frame.len, SPATE_CQL_MAX_BODY, &hd) ==
                SPATE_OK &&
            out->frame.len >= SPATE_CQL_HEADER_LEN + hd.length)
            break;
        struct pollfd pfd = {h->peer, POLLIN, 0};
        assert_int_equal(poll(&pfd, 1, 5000), 1);
        char tmp[65536];
        ssize_t n = read(h->peer, tmp, sizeof tmp);
        assert_true(n > 0);
        assert_int_equal(spate_buf_append(&out->frame, tmp, (size_t)n), SPATE_OK);
    }
    assert_int_equal(hd.stream, stream);
    assert_int_equal(out->frame.len, SPATE_CQL_HEADER_LEN + hd.length);
    assert_int_equal(
        spate_cql_response_decode(&hd, out->frame.data + SPATE_CQL_HEADER_LEN, hd.length, &out->r),
        SPATE_OK);
}

static spate_slice_t sl(const char *s) { return (spate_slice_t){s, (int32_t)strlen(s)}; }

/* QUERY with optional values and client timestamp (INT64_MIN: none). */
static void query_full(harness_t *h, const char *cql, const spate_slice_t *values, uint16_t n,
                       int64_t ts, uint16_t consistency, resp_t *out) {
    spate_cql_request_t req;
    memset(&req, 0, sizeof req);
    req.opcode = SPATE_CQL_OP_QUERY;
    req.query = sl(cql);
    req.params.consistency = consistency;
    if (n) {
        req.params.flags |= SPATE_CQL_QF_VALUES;
        req.params.nvalues = n;
        req.params.values = (spate_slice_t *)values;
    }
    if (ts != INT64_MIN) {
        req.params.flags |= SPATE_CQL_QF_DEFAULT_TIMESTAMP;
        req.params.timestamp = ts;
    }
    roundtrip(h, &req, out);
}

static void query(harness_t *h, const char *cql, resp_t *out) {
    query_full(h, cql, NULL, 0, INT64_MIN, SPATE_CQL_CL_ONE, out);
}

static void ok_msg(const resp_t *r, const char *cql) {
    if (r->r.opcode == SPATE_CQL_OP_ERROR)
        fail_msg("%s -> ERROR 0x%04x %.*s", cql, (unsigned)r->r.error.code,
                 (int)r->r.error.message.len, r->r.error.message.p);
}

/* Runs statements that must succeed (Void, Rows or Schema_change). */
static void run(harness_t *h, const char *cql) {
    resp_t r;
    query(h, cql, &r);
    ok_msg(&r, cql);
    assert_int_equal(r.r.opcode, SPATE_CQL_OP_RESULT);
    resp_free(&r);
}

static void run_v(harness_t *h, const char *cql, const spate_slice_t *v, uint16_t n) {
    resp_t r;
    query_full(h, cql, v, n, INT64_MIN, SPATE_CQL_CL_ONE, &r);
    ok_msg(&r, cql);
    assert_int_equal(r.r.opcode, SPATE_CQL_OP_RESULT);
    assert_int_equal(r.r.result.kind, SPATE_CQL_RESULT_VOID);
    resp_free(&r);
}

static void check_error(const resp_t *r, const char *cql, int32_t code, const char *msg) {
    if (r->r.opcode != SPATE_CQL_OP_ERROR) fail_msg("%s: expected an ERROR", cql);
    if (r->r.error.code != code || (size_t)r->r.error.message.len != strlen(msg) ||
        memcmp(r->r.error.message.p, msg, strlen(msg)) != 0)
        fail_msg("%s:\n  got  0x%04x %.*s\n  want 0x%04x %s", cql, (unsigned)r->r.error.code,
                 (int)r->r.error.message.len, r->r.error.message.p, (unsigned)code, msg);
}

static void expect_error(harness_t *h, const char *cql, int32_t code, const char *msg) {
    resp_t r;
    query(h, cql, &r);
    check_error(&r, cql, code, msg);
    resp_free(&r);
}

static void expect_error_v(harness_t *h, const char *cql, const spate_slice_t *v, uint16_t n,
                           int32_t code, const char *msg) {
    resp_t r;
    query_full(h, cql, v, n, INT64_MIN, SPATE_CQL_CL_ONE, &r);
    check_error(&r, cql, code, msg);
    resp_free(&r);
}

static void setup_ks(harness_t *h) {
    spate_cql_request_t req;
    memset(&req, 0, sizeof req);
    req.opcode = SPATE_CQL_OP_STARTUP;
    spate_cql_pair_t opt = {sl("CQL_VERSION"), sl("3.0.0")};
    req.options.n = 1;
    req.options.e = &opt;
    resp_t r;
    roundtrip(h, &req, &r);
    assert_int_equal(r.r.opcode, SPATE_CQL_OP_READY);
    resp_free(&r);
    run(h, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
           "'replication_factor': 1}");
    run(h, "USE ks");
}

/* ---- values ---- */

static char intbuf[64][4];
static int intnext;
static spate_slice_t iv(int32_t v) { /* a serialized int (a small ring of buffers) */
    char *b = intbuf[intnext++ % 64];
    for (int i = 0; i < 4; i++) b[i] = (char)((uint32_t)v >> (24 - 8 * i));
    return (spate_slice_t){b, 4};
}
static int32_t int_of(spate_slice_t v) {
    assert_int_equal(v.len, 4);
    const uint8_t *p = (const uint8_t *)v.p;
    return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}
static int64_t long_of(spate_slice_t v) {
    assert_int_equal(v.len, 8);
    uint64_t x = 0;
    for (int i = 0; i < 8; i++) x = x << 8 | (uint8_t)v.p[i];
    return (int64_t)x;
}
static const spate_slice_t NULLV = {NULL, SPATE_CQL_NULL};
static const spate_slice_t UNSETV = {NULL, SPATE_CQL_UNSET};

/* ------------------------------------------------------------------ */
/* Reading the store directly                                          */
/* ------------------------------------------------------------------ */

typedef struct {
    bool found, is_static, has_marker;
    int64_t marker_writetime;
    size_t ncells;
    struct {
        uint16_t column;
        bool has_elem;
        spate_buf_t elem, value;
        int64_t writetime;
        int32_t ttl;
    } cells[64];
} row_t;

static void row_free(row_t *r) {
    for (size_t i = 0; i < r->ncells; i++) {
        spate_buf_free(&r->cells[i].elem);
        spate_buf_free(&r->cells[i].value);
    }
    memset(r, 0, sizeof *r);
}

static const cql_tview_t *view(harness_t *h, const char *table) {
    const cql_table_t *t = cql_schema_table(h->srv->schema, "ks", table);
    assert_non_null(t);
    const cql_tview_t *v = cql_tview(h->srv, t);
    assert_non_null(v);
    return v;
}

static uint16_t col_id(harness_t *h, const char *table, const char *col) {
    const cql_column_t *c = cql_table_column(cql_schema_table(h->srv->schema, "ks", table), col);
    assert_non_null(c);
    return c->id;
}

/* The rows of partition pk (ck NULL: all of them, else that one row),
 * live at `now`, static row first when asked; returns how many were
 * stored into rows[0..max). */
static size_t read_rows(harness_t *h, const char *table, const spate_slice_t *pk,
                        const spate_slice_t *ck, bool statics, int64_t now, row_t *rows,
                        size_t max) {
    const cql_tview_t *v = view(h, table);
    spate_cql_store_query_t q = {
        .schema = &v->key,
        .now = now ? now : (int64_t)time(NULL),
        .include_static = statics,
        .pk = pk,
        .elem_types = v->elem_by_id,
        .nelem_types = v->nid,
    };
    if (ck) {
        q.ck = ck;
        q.neq = v->key.nck;
    }
    spate_cql_store_iter_t *it;
    assert_int_equal(spate_cql_store_iter_open(h->srv->store, &q, &it), SPATE_OK);
    const spate_cql_store_row_t *r;
    size_t n = 0;
    spate_status_t rc;
    while ((rc = spate_cql_store_iter_next(it, &r)) == SPATE_OK) {
        assert_true(n < max);
        row_t *o = &rows[n++];
        memset(o, 0, sizeof *o);
        o->found = true;
        o->is_static = r->is_static;
        o->has_marker = r->has_marker;
        o->marker_writetime = r->marker_writetime;
        assert_true(r->ncells <= 64);
        for (size_t i = 0; i < r->ncells; i++) {
            const spate_cql_store_cell_t *c = &r->cells[i];
            o->cells[i].column = c->column;
            o->cells[i].has_elem = c->has_elem;
            if (c->elem.p) spate_buf_append(&o->cells[i].elem, c->elem.p, (size_t)c->elem.len);
            spate_buf_append(&o->cells[i].value, c->value.p ? c->value.p : "",
                             (size_t)c->value.len);
            o->cells[i].writetime = c->writetime;
            o->cells[i].ttl = c->ttl;
        }
        o->ncells = r->ncells;
    }
    assert_int_equal(rc, SPATE_ENOENT);
    spate_cql_store_iter_free(it);
    return n;
}

/* One row by int key (k) and optional int clustering (c). */
static void get_row(harness_t *h, const char *table, int32_t k, const int32_t *c, row_t *out) {
    spate_slice_t pk = iv(k), ck = c ? iv(*c) : (spate_slice_t){0};
    memset(out, 0, sizeof *out);
    row_t rows[2];
    size_t n = read_rows(h, table, &pk, c ? &ck : NULL, false, 0, rows, 2);
    assert_true(n <= 1);
    if (n) *out = rows[0];
}

/* The index of column col's (first) cell in r, or -1. */
static int cell_of(harness_t *h, const row_t *r, const char *table, const char *col) {
    uint16_t id = col_id(h, table, col);
    for (size_t i = 0; i < r->ncells; i++)
        if (r->cells[i].column == id) return (int)i;
    return -1;
}

static int cells_of(harness_t *h, const row_t *r, const char *table, const char *col) {
    uint16_t id = col_id(h, table, col);
    int n = 0;
    for (size_t i = 0; i < r->ncells; i++) n += r->cells[i].column == id;
    return n;
}

static void assert_text(const spate_buf_t *b, const char *s) {
    if (b->len != strlen(s) || memcmp(b->data, s, b->len))
        fail_msg("got '%.*s', want '%s'", (int)b->len, b->data ? (const char *)b->data : "", s);
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void test_lww(void **state) {
    (void)state;
    harness_t *h = h_new();
    setup_ks(h);
    run(h, "CREATE TABLE t (k int PRIMARY KEY, v text)");
    run(h, "INSERT INTO t (k, v) VALUES (1, 'a') USING TIMESTAMP 100");
    run(h, "INSERT INTO t (k, v) VALUES (1, 'b') USING TIMESTAMP 50"); /* older: loses */
    row_t r;
    get_row(h, "t", 1, NULL, &r);
    assert_true(r.found && r.has_marker);
    assert_int_equal(r.marker_writetime, 100);
    int v = cell_of(h, &r, "t", "v");
    assert_true(v >= 0);
    assert_text(&r.cells[v].value, "a");
    assert_int_equal(r.cells[v].writetime, 100);
    row_free(&r);
    run(h, "UPDATE t USING TIMESTAMP 200 SET v = 'c' WHERE k = 1");
    get_row(h, "t", 1, NULL, &r);
    assert_text(&r.cells[cell_of(h, &r, "t", "v")].value, "c");
    assert_int_equal(r.marker_writetime, 100); /* UPDATE wrote no marker */
    row_free(&r);

    /* The client's default timestamp is the write time. */
    resp_t resp;
    query_full(h, "INSERT INTO t (k, v) VALUES (2, 'x')", NULL, 0, 1234567, SPATE_CQL_CL_ONE,
               &resp);
    assert_int_equal(resp.r.opcode, SPATE_CQL_OP_RESULT);
    assert_int_equal(resp.r.result.kind, SPATE_CQL_RESULT_VOID);
    resp_free(&resp);
    get_row(h, "t", 2, NULL, &r);
    assert_int_equal(r.cells[cell_of(h, &r, "t", "v")].writetime, 1234567);
    row_free(&r);
    query_full(h, "INSERT INTO t (k, v) VALUES (2, 'y')", NULL, 0, 1234000, SPATE_CQL_CL_ONE,
               &resp);
    resp_free(&resp);
    get_row(h, "t", 2, NULL, &r);
    assert_text(&r.cells[cell_of(h, &r, "t", "v")].value, "x");
    row_free(&r);

    /* Server timestamps increase strictly. */
    int64_t a = cql_exec_timestamp(h->srv), b = cql_exec_timestamp(h->srv);
    assert_true(b > a);
    run(h, "INSERT INTO t (k, v) VALUES (3, 'now')");
    get_row(h, "t", 3, NULL, &r);
    assert_true(r.cells[0].writetime > b);
    row_free(&r);
    h_free(h);
}

static void test_ttl(void **state) {
    (void)state;
    harness_t *h = h_new();
    setup_ks(h);
    run(h, "CREATE TABLE t (k int PRIMARY KEY, v text, w int)");
    run(h, "INSERT INTO t (k, v) VALUES (1, 'a') USING TTL 100");
    int64_t now = (int64_t)time(NULL);
    row_t r;
    get_row(h, "t", 1, NULL, &r);
    assert_true(r.found);
    int v = cell_of(h, &r, "t", "v");
    assert_true(r.cells[v].ttl > 95 && r.cells[v].ttl <= 100);
    row_free(&r);
    /* 200 s later the cell and the marker have expired: no row. */
    spate_slice_t pk = iv(1);
    row_t rows[2];
    assert_int_equal(read_rows(h, "t", &pk, NULL, false, now + 200, rows, 2), 0);

    /* Markers: TTL on a bind marker, TTL 0 = none. */
    spate_slice_t vals[2] = {iv(50), iv(0)};
    run_v(h, "INSERT INTO t (k, w) VALUES (2, 7) USING TTL ?", vals, 1);
    get_row(h, "t", 2, NULL, &r);
    assert_true(r.cells[0].ttl > 45 && r.cells[0].ttl <= 50);
    row_free(&r);
    run_v(h, "INSERT INTO t (k, w) VALUES (2, 8) USING TTL ?", vals + 1, 1);
    get_row(h, "t", 2, NULL, &r);
    assert_int_equal(r.cells[0].ttl, 0);
    row_free(&r);

    /* The table's default_time_to_live; USING TTL 0 overrides it. */
    run(h, "CREATE TABLE d (k int PRIMARY KEY, v int) WITH default_time_to_live = 60");
    run(h, "INSERT INTO d (k, v) VALUES (1, 1)");
    get_row(h, "d", 1, NULL, &r);
    assert_true(r.cells[0].ttl > 55 && r.cells[0].ttl <= 60);
    row_free(&r);
    run(h, "UPDATE d USING TTL 0 SET v = 2 WHERE k = 1");
    get_row(h, "d", 1, NULL, &r);
    assert_int_equal(r.cells[0].ttl, 0);
    row_free(&r);

    expect_error(h, "INSERT INTO t (k, v) VALUES (3, 'a') USING TTL -1", SPATE_CQL_ERR_INVALID,
                 "A TTL must be greater or equal to 0, but was -1");
    expect_error(h, "INSERT INTO t (k, v) VALUES (3, 'a') USING TTL 630720001",
                 SPATE_CQL_ERR_INVALID,
                 "ttl is too large. requested (630720001) maximum (630720000)");
    /* 20 years from now is past 2038: Cassandra 3.11's REJECT policy. */
    expect_error(h, "INSERT INTO t (k, v) VALUES (3, 'a') USING TTL 630720000",
                 SPATE_CQL_ERR_INVALID,
                 "Request on table ks.t with ttl of 630720000 seconds exceeds maximum supported "
                 "expiration date of 2038-01-19T03:14:06+00:00. In order to avoid this use a "
                 "lower TTL, change the expiration date overflow policy or upgrade to a version "
                 "where this limitation is fixed. See CASSANDRA-14092 for more details.");
    spate_slice_t nul = NULLV;
    expect_error_v(h, "INSERT INTO t (k, v) VALUES (3, 'a') USING TTL ?", &nul, 1,
                   SPATE_CQL_ERR_INVALID, "Invalid null value of TTL");
    expect_error_v(h, "INSERT INTO t (k, v) VALUES (3, 'a') USING TIMESTAMP ?", &nul, 1,
                   SPATE_CQL_ERR_INVALID, "Invalid null value of timestamp");
    h_free(h);
}

static void test_nulls(void **state) {
    (void)state;
    harness_t *h = h_new();
    setup_ks(h);
    run(h, "CREATE TABLE t (k int PRIMARY KEY, v int, w int)");
    run(h, "INSERT INTO t (k, v, w) VALUES (1, 1, 2)");
    spate_slice_t vals[3] = {iv(1), NULLV, UNSETV};
    run_v(h, "INSERT INTO t (k, v, w) VALUES (?, ?, ?)", vals, 3);
    row_t r;
    get_row(h, "t", 1, NULL, &r);
    assert_true(r.found && r.has_marker);
    assert_int_equal(cell_of(h, &r, "t", "v"), -1); /* tombstoned */
    int w = cell_of(h, &r, "t", "w");
    assert_true(w >= 0); /* unset: untouched */
    assert_int_equal(int_of((spate_slice_t){(const char *)r.cells[w].value.data, 4}), 2);
    row_free(&r);

    /* INSERT keeps a row alive without cells; UPDATE does not. */
    run(h, "INSERT INTO t (k, v) VALUES (2, null)");
    get_row(h, "t", 2, NULL, &r);
    assert_true(r.found && r.has_marker && r.ncells == 0);
    row_free(&r);
    run(h, "UPDATE t SET v = 5 WHERE k = 3");
    get_row(h, "t", 3, NULL, &r);
    assert_true(r.found && !r.has_marker);
    row_free(&r);
    run(h, "DELETE v FROM t WHERE k = 3");
    get_row(h, "t", 3, NULL, &r);
    assert_false(r.found);

    /* Key values. */
    spate_slice_t kn[2] = {NULLV, iv(1)};
    expect_error_v(h, "INSERT INTO t (k, v) VALUES (?, ?)", kn, 2, SPATE_CQL_ERR_INVALID,
                   "Invalid null value in condition for column k");
    spate_slice_t ku[2] = {UNSETV, iv(1)};
    expect_error_v(h, "INSERT INTO t (k, v) VALUES (?, ?)", ku, 2, SPATE_CQL_ERR_INVALID,
                   "Invalid unset value for column k");
    run(h, "CREATE TABLE s (k text PRIMARY KEY, v int)");
    expect_error(h, "INSERT INTO s (k, v) VALUES ('', 1)", SPATE_CQL_ERR_INVALID,
                 "Key may not be empty");
    h_free(h);
}

/* The elements of collection column col in r as text, in stored order:
 * set elements "a,b" (ELEMS), map entries "k=v" (ENTRIES) or list values
 * (VALUES). */
enum { ELEMS, ENTRIES, VALUES };
static void elems_text(harness_t *h, const row_t *r, const char *table, const char *col, int mode,
                       char *out, size_t outlen) {
    uint16_t id = col_id(h, table, col);
    size_t n = 0;
    out[0] = 0;
    for (size_t i = 0; i < r->ncells; i++) {
        if (r->cells[i].column != id || !r->cells[i].has_elem) continue;
        const spate_buf_t *e = &r->cells[i].elem, *v = &r->cells[i].value;
        n += (size_t)snprintf(out + n, outlen - n, "%s", n ? "," : "");
        if (mode == ENTRIES)
            n += (size_t)snprintf(out + n, outlen - n, "%.*s=%.*s", (int)e->len, e->data,
                                  (int)v->len, v->data);
        else if (mode == VALUES)
            n += (size_t)snprintf(out + n, outlen - n, "%.*s", (int)v->len, v->data);
        else
            n += (size_t)snprintf(out + n, outlen - n, "%.*s", (int)e->len, e->data);
    }
}

static void test_collections(void **state) {
    (void)state;
    harness_t *h = h_new();
    setup_ks(h);
    run(h, "CREATE TABLE t (k int PRIMARY KEY, s set<text>, m map<text, text>, l list<text>, "
           "f frozen<set<text>>)");
    char buf[512];
    row_t r;
    run(h, "INSERT INTO t (k, s, m, l) VALUES (1, {'b', 'a', 'b'}, {'x': '1', 'y': '2'}, "
           "['p', 'q'])");
    run(h, "UPDATE t SET s = s + {'c'}, m['z'] = '3', l = l + ['r'] WHERE k = 1");
    run(h, "UPDATE t SET s = s - {'a'}, m = m - {'x'}, l = ['o'] + l WHERE k = 1");
    get_row(h, "t", 1, NULL, &r);
    elems_text(h, &r, "t", "s", ELEMS, buf, sizeof buf);
    assert_string_equal(buf, "b,c");
    elems_text(h, &r, "t", "m", ENTRIES, buf, sizeof buf);
    assert_string_equal(buf, "y=2,z=3");
    elems_text(h, &r, "t", "l", VALUES, buf, sizeof buf);
    assert_string_equal(buf, "o,p,q,r");
    row_free(&r);

    /* Operations that combine on one column. */
    run(h, "UPDATE t SET l = l + ['s'], l = ['n'] + l WHERE k = 1");
    get_row(h, "t", 1, NULL, &r);
    elems_text(h, &r, "t", "l", VALUES, buf, sizeof buf);
    assert_string_equal(buf, "n,o,p,q,r,s");
    row_free(&r);
    run(h, "UPDATE t SET l = l - ['n', 's'] WHERE k = 1");

    /* List by index and by value; map element set to null. */
    run(h, "UPDATE t SET l[1] = 'P' WHERE k = 1");
    run(h, "DELETE l[0] FROM t WHERE k = 1");
    run(h, "UPDATE t SET l = l - ['r'], m['y'] = null WHERE k = 1");
    get_row(h, "t", 1, NULL, &r);
    elems_text(h, &r, "t", "l", VALUES, buf, sizeof buf);
    assert_string_equal(buf, "P,q");
    elems_text(h, &r, "t", "m", ENTRIES, buf, sizeof buf);
    assert_string_equal(buf, "z=3");
    row_free(&r);
    expect_error(h, "UPDATE t SET l[5] = 'x' WHERE k = 1", SPATE_CQL_ERR_INVALID,
                 "List index 5 out of bound, list has size 2");
    expect_error(h, "UPDATE t SET l[0] = 'x' WHERE k = 2", SPATE_CQL_ERR_INVALID,
                 "Attempted to set an element on a list which is null");

    /* Overwrite replaces every element; a marker value works too. */
    run(h, "UPDATE t SET s = {'only'} WHERE k = 1");
    spate_buf_t sv = SPATE_BUF_INIT;
    spate_slice_t el[2] = {sl("z2"), sl("z1")};
    assert_int_equal(spate_cql_value_put_collection(&sv, SPATE_CQL_SET, el, 2), SPATE_OK);
    spate_slice_t mv = {(const char *)sv.data, (int32_t)sv.len};
    resp_t resp;
    query_full(h, "UPDATE t SET f = ? WHERE k = 1", &mv, 1, INT64_MIN, SPATE_CQL_CL_ONE, &resp);
    ok_msg(&resp, "UPDATE t SET f = ?");
    resp_free(&resp);
    get_row(h, "t", 1, NULL, &r);
    elems_text(h, &r, "t", "s", ELEMS, buf, sizeof buf);
    assert_string_equal(buf, "only");
    /* The frozen set came in as {z2, z1}: stored sorted, as Cassandra does. */
    int f = cell_of(h, &r, "t", "f");
    assert_true(f >= 0);
    spate_buf_t want = SPATE_BUF_INIT;
    spate_slice_t sorted[2] = {sl("z1"), sl("z2")};
    spate_cql_value_put_collection(&want, SPATE_CQL_SET, sorted, 2);
    assert_int_equal(r.cells[f].value.len, want.len);
    assert_memory_equal(r.cells[f].value.data, want.data, want.len);
    spate_buf_free(&want);
    spate_buf_free(&sv);
    row_free(&r);

    /* Null deletes the whole collection. */
    run(h, "UPDATE t SET s = null, m = {} WHERE k = 1");
    get_row(h, "t", 1, NULL, &r);
    assert_int_equal(cells_of(h, &r, "t", "s"), 0);
    assert_int_equal(cells_of(h, &r, "t", "m"), 0);
    row_free(&r);
    h_free(h);
}

static void test_deletes(void **state) {
    (void)state;
    harness_t *h = h_new();
    setup_ks(h);
    run(h, "CREATE TABLE t (k int, c int, v int, w int, m map<int, int>, PRIMARY KEY (k, c))");
    for (int c = 0; c < 10; c++) {
        char q[160];
        snprintf(q, sizeof q, "INSERT INTO t (k, c, v, w, m) VALUES (1, %d, %d, 1, {1: 1, 2: 2})",
                 c, c);
        run(h, q);
    }
    run(h, "INSERT INTO t (k, c, v) VALUES (2, 0, 0)");
    run(h, "DELETE v, m[1] FROM t WHERE k = 1 AND c = 0");
    row_t r;
    int32_t c0 = 0;
    get_row(h, "t", 1, &c0, &r);
    assert_true(r.found);
    assert_int_equal(cell_of(h, &r, "t", "v"), -1);
    assert_true(cell_of(h, &r, "t", "w") >= 0);
    assert_int_equal(cells_of(h, &r, "t", "m"), 1);
    row_free(&r);
    run(h, "DELETE FROM t WHERE k = 1 AND c = 1");            /* a row */
    run(h, "DELETE FROM t WHERE k = 1 AND c > 7");            /* 8, 9 */
    run(h, "DELETE FROM t WHERE k = 1 AND c >= 3 AND c < 5"); /* 3, 4 */
    run(h, "DELETE FROM t WHERE k = 1 AND c IN (5, 6)");
    spate_slice_t pk = iv(1);
    row_t rows[16];
    size_t n = read_rows(h, "t", &pk, NULL, false, 0, rows, 16);
    assert_int_equal(n, 3); /* 0, 2, 7 */
    for (size_t i = 0; i < n; i++) {
        assert_true(cell_of(h, &rows[i], "t", "w") >= 0);
        row_free(&rows[i]);
    }
    int32_t c2 = 2, c7 = 7, c3 = 3;
    get_row(h, "t", 1, &c2, &r);
    assert_true(r.found);
    row_free(&r);
    get_row(h, "t", 1, &c7, &r);
    assert_true(r.found);
    row_free(&r);
    get_row(h, "t", 1, &c3, &r);
    assert_false(r.found);
    /* The whole partition; the other one stays. */
    run(h, "DELETE FROM t WHERE k = 1");
    assert_int_equal(read_rows(h, "t", &pk, NULL, false, 0, rows, 16), 0);
    get_row(h, "t", 2, &c0, &r);
    assert_true(r.found);
    row_free(&r);
    /* A later write with an older timestamp stays deleted. */
    run(h, "DELETE FROM t USING TIMESTAMP 1000 WHERE k = 3");
    run(h, "INSERT INTO t (k, c, v) VALUES (3, 1, 1) USING TIMESTAMP 999");
    int32_t c1 = 1;
    get_row(h, "t", 3, &c1, &r);
    assert_false(r.found);
    run(h, "INSERT INTO t (k, c, v) VALUES (3, 1, 1) USING TIMESTAMP 1001");
    get_row(h, "t", 3, &c1, &r);
    assert_true(r.found);
    row_free(&r);

    expect_error(h, "DELETE v FROM t WHERE k = 1", SPATE_CQL_ERR_INVALID,
                 "DELETE statements must restrict all PRIMARY KEY columns with equality "
                 "relations in order to delete non static columns");
    expect_error(h, "DELETE v FROM t WHERE k = 1 AND c > 1", SPATE_CQL_ERR_INVALID,
                 "Range deletions are not supported for specific columns");
    expect_error(h, "DELETE k FROM t WHERE k = 1 AND c = 1", SPATE_CQL_ERR_INVALID,
                 "Invalid identifier k for deletion (should not be a PRIMARY KEY part)");
    expect_error(h, "DELETE v[1] FROM t WHERE k = 1 AND c = 1", SPATE_CQL_ERR_INVALID,
                 "Invalid deletion operation for non collection column v");
    expect_error(h, "DELETE FROM t WHERE c = 1", SPATE_CQL_ERR_INVALID,
                 "Some partition key parts are missing: k");
    expect_error(h, "DELETE FROM t WHERE k > 1", SPATE_CQL_ERR_INVALID,
                 "Only EQ and IN relation are supported on the partition key (unless you use the "
                 "token() function) for DELETE statements");
    expect_error(h, "DELETE FROM t WHERE k = 1 AND v = 1", SPATE_CQL_ERR_INVALID,
                 "Non PRIMARY KEY columns found in where clause: v ");
    expect_error(h, "DELETE FROM t WHERE k = 1 AND c > 1 AND c > 2", SPATE_CQL_ERR_INVALID,
                 "More than one restriction was found for the start bound on c");
    h_free(h);
}

static void test_range_multi(void **state) {
    (void)state;
    harness_t *h = h_new();
    setup_ks(h);
    run(h, "CREATE TABLE t (k int, a int, b int, v int, PRIMARY KEY (k, a, b)) WITH CLUSTERING "
           "ORDER BY (a ASC, b DESC)");
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            char q[128];
            snprintf(q, sizeof q, "INSERT INTO t (k, a, b, v) VALUES (1, %d, %d, 0)", a, b);
            run(h, q);
        }
    run(h, "DELETE FROM t WHERE k = 1 AND a = 1");            /* a prefix */
    run(h, "DELETE FROM t WHERE k = 1 AND a = 2 AND b <= 1"); /* DESC column slice */
    spate_slice_t pk = iv(1);
    row_t rows[16];
    size_t n = read_rows(h, "t", &pk, NULL, false, 0, rows, 16);
    assert_int_equal(n, 4); /* (0,2) (0,1) (0,0) (2,2) */
    for (size_t i = 0; i < n; i++) row_free(&rows[i]);
    expect_error(h, "DELETE FROM t WHERE k = 1 AND b = 1", SPATE_CQL_ERR_INVALID,
                 "PRIMARY KEY column \"b\" cannot be restricted as preceding column \"a\" is not "
                 "restricted");
    expect_error(h, "DELETE FROM t WHERE k = 1 AND a > 1 AND b = 1", SPATE_CQL_ERR_INVALID,
                 "Clustering column \"b\" cannot be restricted (preceding column \"a\" is "
                 "restricted by a non-EQ relation)");
    expect_error(h, "UPDATE t SET v = 1 WHERE k = 1 AND a = 1", SPATE_CQL_ERR_INVALID,
                 "Some clustering keys are missing: b");
    expect_error(h, "UPDATE t SET v = 1 WHERE k = 1 AND a = 1 AND b > 1", SPATE_CQL_ERR_INVALID,
                 "Slice restrictions are not supported on the clustering columns in UPDATE "
                 "statements");
    /* UPDATE with IN writes every combination. */
    run(h, "UPDATE t SET v = 9 WHERE k IN (5, 6) AND a = 0 AND b IN (1, 2)");
    spate_slice_t pk6 = iv(6);
    n = read_rows(h, "t", &pk6, NULL, false, 0, rows, 16);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) row_free(&rows[i]);
    h_free(h);
}

static void test_statics(void **state) {
    (void)state;
    harness_t *h = h_new();
    setup_ks(h);
    run(h, "CREATE TABLE t (k int, c int, s int static, v int, PRIMARY KEY (k, c))");
    run(h, "UPDATE t SET s = 1 WHERE k = 1"); /* no clustering needed */
    spate_slice_t pk = iv(1);
    row_t rows[4];
    size_t n = read_rows(h, "t", &pk, NULL, true, 0, rows, 4);
    assert_int_equal(n, 1);
    assert_true(rows[0].is_static);
    assert_int_equal(int_of((spate_slice_t){(const char *)rows[0].cells[0].value.data, 4}), 1);
    row_free(&rows[0]);
    run(h, "INSERT INTO t (k, c, s, v) VALUES (1, 1, 2, 3)");
    run(h, "INSERT INTO t (k, s) VALUES (2, 7)"); /* static only: no row */
    n = read_rows(h, "t", &pk, NULL, true, 0, rows, 4);
    assert_int_equal(n, 2);
    assert_true(rows[0].is_static && !rows[1].is_static && rows[1].has_marker);
    assert_int_equal(int_of((spate_slice_t){(const char *)rows[0].cells[0].value.data, 4}), 2);
    row_free(&rows[0]);
    row_free(&rows[1]);
    spate_slice_t pk2 = iv(2);
    n = read_rows(h, "t", &pk2, NULL, true, 0, rows, 4);
    assert_int_equal(n, 1);
    assert_true(rows[0].is_static);
    row_free(&rows[0]);
    run(h, "DELETE s FROM t WHERE k = 2");
    assert_int_equal(read_rows(h, "t", &pk2, NULL, true, 0, rows, 4), 0);
    expect_error(h, "UPDATE t SET s = 1 WHERE k = 1 AND c = 1", SPATE_CQL_ERR_INVALID,
                 "Invalid restrictions on clustering columns since the UPDATE statement modifies "
                 "only static columns");
    expect_error(h, "DELETE s FROM t WHERE k = 1 AND c = 1", SPATE_CQL_ERR_INVALID,
                 "Invalid restrictions on clustering columns since the DELETE statement modifies "
                 "only static columns");
    expect_error(h, "INSERT INTO t (k, v) VALUES (3, 1)", SPATE_CQL_ERR_INVALID,
                 "Some clustering keys are missing: c");
    h_free(h);
}

static int64_t counter_value(harness_t *h, const char *table, int32_t k, const char *col) {
    row_t r;
    get_row(h, table, k, NULL, &r);
    int i = cell_of(h, &r, table, col);
    int64_t v = i < 0 ? INT64_MIN
                      : long_of((spate_slice_t){(const char *)r.cells[i].value.data,
                                                (int32_t)r.cells[i].value.len});
    row_free(&r);
    return v;
}

static void test_counters(void **state) {
    (void)state;
    harness_t *h = h_new();
    setup_ks(h);
    run(h, "CREATE TABLE c (k int PRIMARY KEY, n counter, m counter)");
    run(h, "UPDATE c SET n = n + 5 WHERE k = 1");
    run(h, "UPDATE c SET n = n - 2, m = m + 1 WHERE k = 1");
    assert_int_equal(counter_value(h, "c", 1, "n"), 3);
    assert_int_equal(counter_value(h, "c", 1, "m"), 1);
    run(h, "BEGIN COUNTER BATCH UPDATE c SET n = n + 10 WHERE k = 1; UPDATE c SET n = n + 100 "
           "WHERE k = 1; UPDATE c SET n = n + 1 WHERE k = 2; APPLY BATCH");
    assert_int_equal(counter_value(h, "c", 1, "n"), 113);
    assert_int_equal(counter_value(h, "c", 2, "n"), 1);
    spate_slice_t d = {"\0\0\0\0\0\0\0\x07", 8};
    run_v(h, "UPDATE c SET n = n + ? WHERE k = 2", &d, 1);
    assert_int_equal(counter_value(h, "c", 2, "n"), 8);

    expect_error(h, "INSERT INTO c (k, n) VALUES (1, 1)", SPATE_CQL_ERR_INVALID,
                 "INSERT statements are not allowed on counter tables, use UPDATE instead");
    expect_error(h, "UPDATE c SET n = 1 WHERE k = 1", SPATE_CQL_ERR_INVALID,
                 "Cannot set the value of counter column n (counters can only be "
                 "incremented/decremented, not set)");
    expect_error(h, "UPDATE c USING TIMESTAMP 5 SET n = n + 1 WHERE k = 1", SPATE_CQL_ERR_INVALID,
                 "Cannot provide custom timestamp for counter updates");
    expect_error(h, "UPDATE c USING TTL 5 SET n = n + 1 WHERE k = 1", SPATE_CQL_ERR_INVALID,
                 "Cannot provide custom TTL for counter updates");
    expect_error(h, "UPDATE c SET n = n + 1 WHERE k = 1 IF EXISTS", SPATE_CQL_ERR_INVALID,
                 "Conditional updates are not supported on counter tables");
    run(h, "CREATE TABLE t (k int PRIMARY KEY, v int)");
    expect_error(h, "UPDATE t SET v = v + 1 WHERE k = 1", SPATE_CQL_ERR_INVALID,
                 "Invalid operation (v = v + 1) for non counter column v");
    expect_error(h, "BEGIN BATCH UPDATE c SET n = n + 1 WHERE k = 1; APPLY BATCH",
                 SPATE_CQL_ERR_INVALID, "Cannot include a counter statement in a logged batch");
    expect_error(h, "BEGIN COUNTER BATCH UPDATE t SET v = 1 WHERE k = 1; APPLY BATCH",
                 SPATE_CQL_ERR_INVALID, "Cannot include non-counter statement in a counter batch");
    expect_error(h,
                 "BEGIN UNLOGGED BATCH UPDATE t SET v = 1 WHERE k = 1; UPDATE c SET n = n + 1 "
                 "WHERE k = 1; APPLY BATCH",
                 SPATE_CQL_ERR_INVALID,
                 "Counter and non-counter mutations cannot exist in the same batch");
    assert_int_equal(counter_value(h, "c", 1, "n"), 113); /* nothing of the refused batches */
    h_free(h);
}

/* Checks a Rows [applied] answer: applied, and when not, its columns'
 * names (comma-separated) and its number of rows. */
static void expect_applied(harness_t *h, const char *cql, bool applied, const char *cols, int nrows,
                           resp_t *keep) {
    resp_t r;
    query(h, cql, &r);
    ok_msg(&r, cql);
    assert_int_equal(r.r.result.kind, SPATE_CQL_RESULT_ROWS);
    const spate_cql_metadata_t *md = &r.r.result.metadata;
    assert_true(md->columns_count >= 1);
    assert_int_equal(md->columns[0].name.len, 9);
    assert_memory_equal(md->columns[0].name.p, "[applied]", 9);
    assert_int_equal(md->columns[0].type.id, SPATE_CQL_BOOLEAN);
    assert_int_equal(md->global_keyspace.len, 2);
    assert_memory_equal(md->global_keyspace.p, "ks", 2);
    char names[256] = "";
    size_t n = 0;
    for (int32_t i = 1; i < md->columns_count; i++)
        n += (size_t)snprintf(names + n, sizeof names - n, "%s%.*s", i > 1 ? "," : "",
                              (int)md->columns[i].name.len, md->columns[i].name.p);
    assert_string_equal(names, cols);
    assert_int_equal(r.r.result.rows_count, applied ? 1 : (nrows ? nrows : 1));
    assert_int_equal(r.r.result.cells[0].len, 1);
    assert_int_equal(r.r.result.cells[0].p[0], applied ? 1 : 0);
    if (keep)
        *keep = r;
    else
        resp_free(&r);
}

static void test_lwt(void **state) {
    (void)state;
    harness_t *h = h_new();
    setup_ks(h);
    run(h, "CREATE TABLE t (k int, c int, s int static, v text, PRIMARY KEY (k, c))");
    expect_applied(h, "INSERT INTO t (k, c, v) VALUES (1, 1, 'a') IF NOT EXISTS", true, "", 0,
                   NULL);
    resp_t r;
    expect_applied(h, "INSERT INTO t (k, c, v) VALUES (1, 1, 'b') IF NOT EXISTS", false, "k,c,s,v",
                   1, &r);
    /* The existing row: k=1, c=1, s=null, v='a'. */
    assert_int_equal(int_of(r.r.result.cells[1]), 1);
    assert_int_equal(int_of(r.r.result.cells[2]), 1);
    assert_null(r.r.result.cells[3].p);
    assert_int_equal(r.r.result.cells[4].len, 1);
    assert_memory_equal(r.r.result.cells[4].p, "a", 1);
    resp_free(&r);
    row_t row;
    int32_t c1 = 1;
    get_row(h, "t", 1, &c1, &row);
    assert_text(&row.cells[cell_of(h, &row, "t", "v")].value, "a");
    row_free(&row);

    expect_applied(h, "UPDATE t SET v = 'c' WHERE k = 1 AND c = 1 IF v = 'x'", false, "v", 1, &r);
    assert_memory_equal(r.r.result.cells[1].p, "a", 1);
    resp_free(&r);
    expect_applied(h, "UPDATE t SET v = 'c' WHERE k = 1 AND c = 1 IF v = 'a'", true, "", 0, NULL);
    expect_applied(h, "UPDATE t SET v = 'd' WHERE k = 1 AND c = 1 IF v IN ('x', 'c')", true, "", 0,
                   NULL);
    expect_applied(h, "UPDATE t SET v = 'e' WHERE k = 1 AND c = 1 IF v > 'z'", false, "v", 1, NULL);
    expect_applied(h, "UPDATE t SET v = 'e' WHERE k = 1 AND c = 2 IF EXISTS", false, "", 0, NULL);
    get_row(h, "t", 1, (int32_t[]){2}, &row);
    assert_false(row.found);
    expect_applied(h, "UPDATE t SET v = 'e' WHERE k = 1 AND c = 1 IF EXISTS", true, "", 0, NULL);
    /* A condition on a missing row: null. */
    expect_applied(h, "UPDATE t SET v = 'n' WHERE k = 1 AND c = 3 IF v = null", true, "", 0, NULL);
    get_row(h, "t", 1, (int32_t[]){3}, &row);
    assert_true(row.found && !row.has_marker);
    row_free(&row);
    expect_applied(h, "DELETE FROM t WHERE k = 1 AND c = 1 IF v = 'e'", true, "", 0, NULL);
    get_row(h, "t", 1, &c1, &row);
    assert_false(row.found);
    expect_applied(h, "DELETE FROM t WHERE k = 1 AND c = 1 IF EXISTS", false, "", 0, NULL);
    /* Static conditions. */
    expect_applied(h, "UPDATE t SET s = 1 WHERE k = 1 IF s = null", true, "", 0, NULL);
    expect_applied(h, "UPDATE t SET s = 2 WHERE k = 1 IF s = 5", false, "s", 1, NULL);

    /* A conditional batch on one partition: all or nothing. */
    expect_applied(h,
                   "BEGIN BATCH INSERT INTO t (k, c, v) VALUES (1, 5, 'x') IF NOT EXISTS; "
                   "UPDATE t SET s = 9 WHERE k = 1 IF s = 1; APPLY BATCH",
                   true, "", 0, NULL);
    expect_applied(h,
                   "BEGIN BATCH INSERT INTO t (k, c, v) VALUES (1, 6, 'x') IF NOT EXISTS; "
                   "UPDATE t SET s = 10 WHERE k = 1 IF s = 1; APPLY BATCH",
                   false, "k,c,s,v", 1, NULL);
    get_row(h, "t", 1, (int32_t[]){6}, &row);
    assert_false(row.found); /* the other statement was not applied either */

    expect_error(h, "UPDATE t USING TIMESTAMP 5 SET v = 'a' WHERE k = 1 AND c = 1 IF EXISTS",
                 SPATE_CQL_ERR_INVALID, "Cannot provide custom timestamp for conditional updates");
    expect_error(h, "UPDATE t SET v = 'a' WHERE k IN (1, 2) AND c = 1 IF EXISTS",
                 SPATE_CQL_ERR_INVALID,
                 "IN on the partition key is not supported with conditional updates");
    expect_error(h, "DELETE FROM t WHERE k = 1 IF EXISTS", SPATE_CQL_ERR_INVALID,
                 "DELETE statements must restrict all PRIMARY KEY columns with equality "
                 "relations in order to use IF conditions");
    expect_error(h, "UPDATE t SET v = 'a' WHERE k = 1 AND c = 1 IF c = 1", SPATE_CQL_ERR_INVALID,
                 "PRIMARY KEY column 'c' cannot have IF conditions");
    expect_error(h, "UPDATE t SET v = 'a' WHERE k = 1 AND c = 1 IF v < null", SPATE_CQL_ERR_INVALID,
                 "Invalid comparison with null for operator \"<\"");
    expect_error(h,
                 "BEGIN BATCH INSERT INTO t (k, c) VALUES (1, 1) IF NOT EXISTS; INSERT INTO t (k, "
                 "c) VALUES (2, 1); APPLY BATCH",
                 SPATE_CQL_ERR_INVALID, "Batch with conditions cannot span multiple partitions");
    h_free(h);
}

static void test_batch(void **state) {
    (void)state;
    harness_t *h = h_new();
    setup_ks(h);
    run(h, "CREATE TABLE t (k int PRIMARY KEY, v int)");
    run(h, "CREATE TABLE u (k int, c int, v int, PRIMARY KEY (k, c))");
    /* A failing statement anywhere: nothing is written. */
    expect_error(h,
                 "BEGIN BATCH INSERT INTO t (k, v) VALUES (1, 1); INSERT INTO u (k, v) VALUES "
                 "(1, 1); APPLY BATCH",
                 SPATE_CQL_ERR_INVALID, "Some clustering keys are missing: c");
    row_t r;
    get_row(h, "t", 1, NULL, &r);
    assert_false(r.found);
    run(h, "BEGIN UNLOGGED BATCH INSERT INTO t (k, v) VALUES (1, 1); INSERT INTO u (k, c, v) "
           "VALUES (1, 2, 3); DELETE FROM t WHERE k = 2; APPLY BATCH");
    get_row(h, "t", 1, NULL, &r);
    assert_true(r.found);
    row_free(&r);
    get_row(h, "u", 1, (int32_t[]){2}, &r);
    assert_true(r.found);
    row_free(&r);

    /* Markers are numbered across a BEGIN BATCH. */
    spate_slice_t vals[4] = {iv(7), iv(70), iv(8), iv(80)};
    run_v(h,
          "BEGIN BATCH INSERT INTO t (k, v) VALUES (?, ?); INSERT INTO t (k, v) VALUES (?, ?) "
          "APPLY BATCH",
          vals, 4);
    get_row(h, "t", 8, NULL, &r);
    assert_int_equal(int_of((spate_slice_t){(const char *)r.cells[0].value.data, 4}), 80);
    row_free(&r);

    /* The BATCH message: statements with their own values, one client
     * timestamp for all of them. */
    spate_cql_request_t req;
    memset(&req, 0, sizeof req);
    req.opcode = SPATE_CQL_OP_BATCH;
    spate_cql_batch_stmt_t bs[2];
    memset(bs, 0, sizeof bs);
    spate_slice_t v1[2] = {iv(20), iv(200)}, v2[1] = {iv(21)};
    bs[0].query = sl("INSERT INTO t (k, v) VALUES (?, ?)");
    bs[0].nvalues = 2;
    bs[0].values = v1;
    bs[1].query = sl("UPDATE t SET v = 5 WHERE k = ?");
    bs[1].nvalues = 1;
    bs[1].values = v2;
    req.batch.type = SPATE_CQL_BATCH_LOGGED;
    req.batch.n = 2;
    req.batch.stmts = bs;
    req.batch.consistency = SPATE_CQL_CL_ONE;
    req.batch.flags = SPATE_CQL_QF_DEFAULT_TIMESTAMP;
    req.batch.timestamp = 424242;
    resp_t resp;
    roundtrip(h, &req, &resp);
    ok_msg(&resp, "BATCH");
    assert_int_equal(resp.r.result.kind, SPATE_CQL_RESULT_VOID);
    resp_free(&resp);
    get_row(h, "t", 20, NULL, &r);
    assert_int_equal(r.cells[0].writetime, 424242);
    assert_int_equal(int_of((spate_slice_t){(const char *)r.cells[0].value.data, 4}), 200);
    row_free(&r);
    get_row(h, "t", 21, NULL, &r);
    assert_true(r.found && !r.has_marker);
    assert_int_equal(r.cells[0].writetime, 424242);
    row_free(&r);

    /* One batch, one timestamp: a delete after an insert of the same row
     * wins (a tombstone beats a live cell on a tie). */
    run(h, "BEGIN BATCH INSERT INTO t (k, v) VALUES (30, 1); DELETE FROM t WHERE k = 30; APPLY "
           "BATCH");
    get_row(h, "t", 30, NULL, &r);
    assert_false(r.found);
    h_free(h);
}

static void test_functions(void **state) {
    (void)state;
    harness_t *h = h_new();
    setup_ks(h);
    run(h, "CREATE TABLE t (k int PRIMARY KEY, id uuid, tu timeuuid, ts timestamp, d date, b "
           "blob, l list<timeuuid>)");
    /* time() reads the coarse clock, up to a tick behind the one now()
     * reads: a second of slack on both sides */
    int64_t before = ((int64_t)time(NULL) - 1) * 1000;
    run(h, "INSERT INTO t (k, id, tu, ts, d, b, l) VALUES (1, uuid(), now(), toTimestamp(now()), "
           "currentDate(), textAsBlob('hi'), [now(), now()])");
    int64_t after = ((int64_t)time(NULL) + 2) * 1000;
    row_t r;
    get_row(h, "t", 1, NULL, &r);
    int i = cell_of(h, &r, "t", "id");
    assert_int_equal(r.cells[i].value.len, 16);
    assert_int_equal(r.cells[i].value.data[6] >> 4, 4); /* version 4 */
    i = cell_of(h, &r, "t", "tu");
    assert_int_equal(r.cells[i].value.data[6] >> 4, 1); /* version 1 */
    i = cell_of(h, &r, "t", "ts");
    int64_t ms = long_of((spate_slice_t){(const char *)r.cells[i].value.data, 8});
    assert_true(ms >= before && ms <= after);
    i = cell_of(h, &r, "t", "b");
    assert_text(&r.cells[i].value, "hi");
    assert_int_equal(cells_of(h, &r, "t", "l"), 2);
    row_free(&r);
    expect_error(h, "INSERT INTO t (k, ts) VALUES (2, now())", SPATE_CQL_ERR_INVALID,
                 "Type error: cannot assign result of function system.now (type timeuuid) to ts "
                 "(type timestamp)");
    expect_error(h, "INSERT INTO t (k, ts) VALUES (2, nosuch())", SPATE_CQL_ERR_INVALID,
                 "Unknown function nosuch called");
    h_free(h);
}

static void test_truncate(void **state) {
    (void)state;
    harness_t *h = h_new();
    setup_ks(h);
    run(h, "CREATE TABLE t (k int PRIMARY KEY, v int)");
    run(h, "CREATE TABLE o (k int PRIMARY KEY, v int)");
    run(h, "INSERT INTO t (k, v) VALUES (1, 1)");
    run(h, "INSERT INTO o (k, v) VALUES (1, 1)");
    run(h, "TRUNCATE t");
    row_t r;
    get_row(h, "t", 1, NULL, &r);
    assert_false(r.found);
    get_row(h, "o", 1, NULL, &r);
    assert_true(r.found);
    row_free(&r);
    /* Writes after a truncate are seen whatever their timestamp. */
    run(h, "INSERT INTO t (k, v) VALUES (1, 2) USING TIMESTAMP 1");
    get_row(h, "t", 1, NULL, &r);
    assert_true(r.found);
    row_free(&r);
    h_free(h);
}

static void test_errors(void **state) {
    (void)state;
    harness_t *h = h_new();
    setup_ks(h);
    run(h, "CREATE TABLE t (k int, c int, v int, l list<int>, f frozen<list<int>>, PRIMARY KEY "
           "(k, c))");
    run(h, "CREATE TABLE p (a int, b int, v int, PRIMARY KEY ((a, b)))");
    static const struct {
        const char *cql;
        const char *msg;
    } cases[] = {
        {"INSERT INTO t (k, v) VALUES (1, 1)", "Some clustering keys are missing: c"},
        {"INSERT INTO t (c, v) VALUES (1, 1)", "Some partition key parts are missing: k"},
        {"INSERT INTO p (a, v) VALUES (1, 1)", "Some partition key parts are missing: b"},
        {"UPDATE p SET v = 1 WHERE v = 1", "Some partition key parts are missing: a, b"},
        {"INSERT INTO t (k, c, x) VALUES (1, 1, 1)", "Undefined column name x"},
        {"UPDATE t SET x = 1 WHERE k = 1 AND c = 1", "Undefined column name x"},
        {"UPDATE t SET k = 1 WHERE k = 1 AND c = 1", "PRIMARY KEY part k found in SET part"},
        {"UPDATE t SET v = 1 WHERE k = 1 AND c = 1 AND v = 1",
         "Non PRIMARY KEY columns found in where clause: v "},
        {"UPDATE t SET v = 1 WHERE token(k) = 1 AND c = 1",
         "The token function cannot be used in WHERE clauses for UPDATE statements"},
        {"UPDATE t SET v = 1 WHERE k = 1 AND k = 2 AND c = 1",
         "k cannot be restricted by more than one relation if it includes an Equal"},
        {"INSERT INTO t (k, c, v) VALUES (1, 1, 'x')",
         "Invalid STRING constant (x) for \"v\" of type int"},
        {"INSERT INTO t (k, c, l) VALUES (1, 1, {1, 2})",
         "Invalid set literal for l of type list<int>"},
        {"INSERT INTO t (k, c, l) VALUES (1, 1, [1, null])",
         "null is not supported inside collections"},
        {"UPDATE t SET f = f + [1] WHERE k = 1 AND c = 1",
         "Invalid operation (f = f + [1]) for frozen collection column f"},
        {"UPDATE t SET v = [1] + v WHERE k = 1 AND c = 1",
         "Invalid operation (v = [1] + v) for non list column v"},
        {"UPDATE t SET v[0] = 1 WHERE k = 1 AND c = 1",
         "Invalid operation (v[0] = 1) for non collection column v"},
        {"INSERT INTO t (k, c) VALUES (1, 1) USING TTL 1 AND TIMESTAMP 1 IF NOT EXISTS",
         "Cannot provide custom timestamp for conditional updates"},
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(cases); i++)
        expect_error(h, cases[i].cql, SPATE_CQL_ERR_INVALID, cases[i].msg);
    expect_error(h, "UPDATE t SET v = 1, v = 2 WHERE k = 1 AND c = 1", SPATE_CQL_ERR_SYNTAX,
                 "Multiple incompatible setting of column v");
    expect_error(h, "UPDATE t SET l = [1], l = l + [2] WHERE k = 1 AND c = 1", SPATE_CQL_ERR_SYNTAX,
                 "Multiple incompatible setting of column l");
    /* A bound value of the wrong size. */
    spate_slice_t bad[3] = {iv(1), iv(1), {"abc", 3}};
    expect_error_v(h, "INSERT INTO t (k, c, v) VALUES (?, ?, ?)", bad, 3, SPATE_CQL_ERR_INVALID,
                   "Expected 4 or 0 byte int (3)");
    /* Serializable writes need conditions. */
    resp_t r;
    query_full(h, "INSERT INTO t (k, c) VALUES (1, 1)", NULL, 0, INT64_MIN, SPATE_CQL_CL_SERIAL,
               &r);
    check_error(&r, "SERIAL", SPATE_CQL_ERR_INVALID,
                "You must use conditional updates for serializable writes");
    resp_free(&r);
    /* Nothing above was written. */
    spate_slice_t pk = iv(1);
    row_t rows[4];
    assert_int_equal(read_rows(h, "t", &pk, NULL, true, 0, rows, 4), 0);
    h_free(h);
}

static void test_views(void **state) {
    (void)state;
    harness_t *h = h_new();
    setup_ks(h);
    run(h,
        "CREATE TABLE c (k int, a text, b bigint, s set<int>, l list<text>, m map<text, int>, "
        "f frozen<list<int>>, PRIMARY KEY ((k), a, b)) WITH CLUSTERING ORDER BY (a DESC, b ASC)");
    const cql_tview_t *v = view(h, "c");
    assert_ptr_equal(v, view(h, "c")); /* cached */
    assert_int_equal(v->key.npk, 1);
    assert_int_equal(v->key.nck, 2);
    assert_int_equal(v->key.pk[0].type->id, SPATE_CQL_INT);
    assert_int_equal(v->key.ck[0].type->id, SPATE_CQL_VARCHAR);
    assert_true(v->key.ck[0].desc);
    assert_false(v->key.ck[1].desc);
    const cql_table_t *t = v->table;
    for (uint32_t i = 0; i < t->ncols; i++) {
        const cql_column_t *col = &t->cols[i];
        assert_int_equal(v->ktype[i]->id, col->type.id);
        assert_int_equal(v->index_by_id[col->id], (int32_t)i);
        assert_ptr_equal(v->elem_by_id[col->id], v->elem[i]);
        if (!strcmp(col->name, "s") || !strcmp(col->name, "m"))
            assert_int_equal(v->elem[i]->id,
                             !strcmp(col->name, "s") ? SPATE_CQL_INT : SPATE_CQL_VARCHAR);
        else if (!strcmp(col->name, "l"))
            assert_int_equal(v->elem[i]->id, SPATE_CQL_TIMEUUID);
        else
            assert_null(v->elem[i]); /* scalars and the frozen list */
    }
    /* Many tables (the cache grows), then a DDL: views are rebuilt. */
    for (int i = 0; i < 40; i++) {
        char q[128];
        snprintf(q, sizeof q, "CREATE TABLE t%d (k int PRIMARY KEY, v int)", i);
        run(h, q);
        snprintf(q, sizeof q, "INSERT INTO t%d (k, v) VALUES (%d, %d)", i, i, i);
        run(h, q);
    }
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%d", i);
        assert_int_equal(view(h, name)->key.table_id,
                         cql_schema_table(h->srv->schema, "ks", name)->id);
        row_t r;
        get_row(h, name, i, NULL, &r);
        assert_true(r.found);
        row_free(&r);
    }
    run(h, "ALTER TABLE t3 ADD w int");
    run(h, "INSERT INTO t3 (k, w) VALUES (3, 33)");
    row_t r;
    get_row(h, "t3", 3, NULL, &r);
    int w = cell_of(h, &r, "t3", "w");
    assert_true(w >= 0);
    assert_int_equal(int_of((spate_slice_t){(const char *)r.cells[w].value.data, 4}), 33);
    row_free(&r);
    assert_int_equal(view(h, "t3")->nid, 3);
    /* A dropped and re-created table starts empty (new id). */
    run(h, "DROP TABLE t5");
    run(h, "CREATE TABLE t5 (k int PRIMARY KEY, v int)");
    get_row(h, "t5", 5, NULL, &r);
    assert_false(r.found);
    h_free(h);
}

int main(void) {
    spate_log_set_level(SPATE_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lww),       cmocka_unit_test(test_ttl),
        cmocka_unit_test(test_nulls),     cmocka_unit_test(test_collections),
        cmocka_unit_test(test_deletes),   cmocka_unit_test(test_range_multi),
        cmocka_unit_test(test_statics),   cmocka_unit_test(test_counters),
        cmocka_unit_test(test_lwt),       cmocka_unit_test(test_batch),
        cmocka_unit_test(test_functions), cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_errors),    cmocka_unit_test(test_views),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
