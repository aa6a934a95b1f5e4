/*
 * test_cql_select.c — SELECT on user tables (src/cql/cql_select.c),
 * through the server's request path: the server runs in-process on a
 * temporary data directory, tables are created with CREATE TABLE over a
 * socketpair connection (cql_conn_input), rows are written with the
 * store's mutation API (INSERT belongs to the write path), and every
 * SELECT goes in as a QUERY / EXECUTE frame and comes back as a decoded
 * response.
 *
 * check() runs a query unpaged and compares the rows (rendered with
 * spate_cql_value_to_text: "1,a,null|2,b,null") with what is expected,
 * then runs it again with every page size from 1 to rows + 1 and checks
 * that the pages, concatenated, are exactly the unpaged answer: no row
 * lost or repeated, each page full but the last, Has_more_pages only
 * when rows follow.
 *
 *   basics       = / IN / slices on clustering, IN on the partition key
 *                (key order, duplicates dropped), bind markers, aliases,
 *                LIMIT, PER PARTITION LIMIT, ORDER BY (reverse reads)
 *   scans        token order over many partitions, token() ranges and the
 *                token() selector, count(*), DISTINCT
 *   statics      static values on every row, static-only partitions as one
 *                row, DISTINCT with statics, filters on static columns
 *   collections  list / set / map assembled from element cells, frozen
 *                values, CONTAINS / CONTAINS KEY
 *   ttl          expired cells and rows gone at `now`, TTL() and
 *                WRITETIME()
 *   filtering    ALLOW FILTERING on regular / partition / clustering
 *                columns with = < <= > >= != IN
 *   multi        (c, d) tuple relations, DESC clustering columns
 *   errors       Cassandra's codes and messages
 *   paging       malformed states, EXECUTE with skip_metadata
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cql_exec.h"

#define ALLOW_FILTERING_MSG                                                                        \
    "Cannot execute this query as it might involve data filtering and thus may have "              \
    "unpredictable performance. If you want to execute this query despite the performance "        \
    "unpredictability, use ALLOW FILTERING"

/* ------------------------------------------------------------------ */
/* The server and one connection                                       */
/* ------------------------------------------------------------------ */

static struct {
    char dir[64];
    spate_cql_server_t *srv;
    cql_conn_t *conn;
    int fds[2];
    int16_t stream;
    spate_cql_mutation_t *m;
    const cql_tview_t *v; /* the table being written */
    int64_t ts;
} F;

typedef struct {
    spate_buf_t raw;
    spate_cql_response_t r;
} resp_t;

static void resp_free(resp_t *x) {
    spate_cql_response_free(&x->r);
    spate_buf_free(&x->raw);
}

static void read_full(void *p, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(F.fds[1], (char *)p + got, n - got);
        assert_true(r > 0);
        got += (size_t)r;
    }
}

/* Sends one request frame and decodes its response. */
static void roundtrip(const spate_cql_request_t *req, resp_t *x) {
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_cql_request_write(&b, 4, ++F.stream, req), SPATE_OK);
    assert_true(cql_conn_input(F.conn, b.data, b.len));
    spate_buf_free(&b);
    memset(x, 0, sizeof *x);
    uint8_t h[SPATE_CQL_HEADER_LEN];
    read_full(h, sizeof h);
    spate_cql_header_t hd;
    assert_int_equal(spate_cql_header_parse(h, sizeof h, SPATE_CQL_MAX_BODY, &hd), SPATE_OK);
    assert_int_equal(hd.stream, F.stream);
    assert_int_equal(spate_buf_reserve(&x->raw, hd.length + 1), SPATE_OK);
    read_full(x->raw.data, hd.length);
    x->raw.len = hd.length;
    assert_int_equal(spate_cql_response_decode(&hd, x->raw.data, x->raw.len, &x->r), SPATE_OK);
}

typedef struct {
    int32_t page_size;
    spate_slice_t paging;
    const spate_slice_t *values;
    uint16_t nvalues;
} opts_t;

static void query(const char *cql, const opts_t *o, resp_t *x) {
    spate_cql_request_t req = {.opcode = SPATE_CQL_OP_QUERY};
    req.query = (spate_slice_t){cql, (int32_t)strlen(cql)};
    req.params.consistency = SPATE_CQL_CL_ONE;
    req.params.page_size = -1;
    req.params.timestamp = INT64_MIN;
    if (o && o->nvalues) {
        req.params.flags |= SPATE_CQL_QF_VALUES;
        req.params.values = (spate_slice_t *)o->values;
        req.params.nvalues = o->nvalues;
    }
    if (o && o->page_size > 0) {
        req.params.flags |= SPATE_CQL_QF_PAGE_SIZE;
        req.params.page_size = o->page_size;
    }
    if (o && o->paging.p) {
        req.params.flags |= SPATE_CQL_QF_PAGING_STATE;
        req.params.paging_state = o->paging;
    }
    roundtrip(&req, x);
}

static void show_error(const resp_t *x) {
    if (x->r.opcode == SPATE_CQL_OP_ERROR)
        fprintf(stderr, "ERROR 0x%04x %.*s\n", x->r.error.code, (int)x->r.error.message.len,
                x->r.error.message.p);
}

/* A statement that must succeed (DDL). */
static void ok(const char *cql) {
    resp_t x;
    query(cql, NULL, &x);
    show_error(&x);
    assert_int_equal(x.r.opcode, SPATE_CQL_OP_RESULT);
    resp_free(&x);
}

static void expect_error(const char *cql, const opts_t *o, int32_t code, const char *msg) {
    resp_t x;
    query(cql, o, &x);
    if (x.r.opcode != SPATE_CQL_OP_ERROR) fprintf(stderr, "no error for: %s\n", cql);
    assert_int_equal(x.r.opcode, SPATE_CQL_OP_ERROR);
    if (x.r.error.code != code || strlen(msg) != (size_t)x.r.error.message.len ||
        memcmp(msg, x.r.error.message.p, strlen(msg)) != 0) {
        fprintf(stderr, "query:    %s\nexpected: 0x%04x %s\n", cql, code, msg);
        show_error(&x);
    }
    assert_int_equal(x.r.error.code, code);
    assert_int_equal(x.r.error.message.len, strlen(msg));
    assert_memory_equal(x.r.error.message.p, msg, strlen(msg));
    resp_free(&x);
}

/* The rows as text: cells joined by ',', rows by '|'. */
static void rows_text(const resp_t *x, spate_buf_t *out) {
    const spate_cql_result_t *res = &x->r.result;
    int32_t nc = res->metadata.columns_count;
    for (int32_t i = 0; i < res->rows_count; i++) {
        if (out->len) spate_buf_putc(out, '|');
        for (int32_t c = 0; c < nc; c++) {
            if (c) spate_buf_putc(out, ',');
            spate_slice_t v = res->cells[(size_t)i * (size_t)nc + (size_t)c];
            if (!v.p)
                spate_buf_puts(out, "null");
            else
                assert_int_equal(spate_cql_value_to_text(&res->metadata.columns[c].type, v.p,
                                                         (size_t)v.len, out),
                                 SPATE_OK);
        }
    }
}

static void expect_rows_resp(const char *cql, const resp_t *x, const char *want) {
    show_error(x);
    assert_int_equal(x->r.opcode, SPATE_CQL_OP_RESULT);
    assert_int_equal(x->r.result.kind, SPATE_CQL_RESULT_ROWS);
    spate_buf_t got = SPATE_BUF_INIT;
    rows_text(x, &got);
    if (strcmp(got.data ? got.data : "", want) != 0)
        fprintf(stderr, "query: %s\nwant:  %s\ngot:   %s\n", cql, want, got.data ? got.data : "");
    assert_string_equal(got.data ? got.data : "", want);
    spate_buf_free(&got);
}

/* Every page size from 1 to rows + 1: the pages add up to want. */
static void check_paged(const char *cql, const opts_t *o, const char *want, int nrows) {
    for (int page = 1; page <= nrows + 1; page++) {
        spate_buf_t all = SPATE_BUF_INIT, state = SPATE_BUF_INIT;
        int pages = 0, total = 0;
        for (;;) {
            opts_t po = o ? *o : (opts_t){0};
            po.page_size = page;
            po.paging = state.len ? (spate_slice_t){state.data, (int32_t)state.len}
                                  : (spate_slice_t){NULL, -1};
            resp_t x;
            query(cql, &po, &x);
            show_error(&x);
            assert_int_equal(x.r.opcode, SPATE_CQL_OP_RESULT);
            const spate_cql_metadata_t *md = &x.r.result.metadata;
            int32_t n = x.r.result.rows_count;
            assert_true(n <= page);
            rows_text(&x, &all);
            total += n;
            pages++;
            bool more = md->flags & SPATE_CQL_MD_HAS_MORE_PAGES;
            spate_buf_reset(&state);
            if (more) {
                assert_int_equal(n, page); /* only a full page has a successor */
                assert_non_null(md->paging_state.p);
                assert_true(md->paging_state.len > 0);
                spate_buf_append(&state, md->paging_state.p, (size_t)md->paging_state.len);
            }
            resp_free(&x);
            if (!more) break;
            assert_true(pages < 10000);
        }
        if (strcmp(all.data ? all.data : "", want) != 0)
            fprintf(stderr, "query: %s (page size %d)\nwant:  %s\ngot:   %s\n", cql, page, want,
                    all.data ? all.data : "");
        assert_string_equal(all.data ? all.data : "", want);
        assert_int_equal(total, nrows);
        assert_int_equal(pages, nrows ? (nrows + page - 1) / page : 1);
        spate_buf_free(&all);
        spate_buf_free(&state);
    }
}

static int count_rows(const char *want) {
    if (!*want) return 0;
    int n = 1;
    for (const char *p = want; *p; p++) n += *p == '|';
    return n;
}

/* Unpaged, then paged with every page size. */
static void check_v(const char *cql, const opts_t *o, const char *want) {
    resp_t x;
    query(cql, o, &x);
    expect_rows_resp(cql, &x, want);
    assert_false(x.r.result.metadata.flags & SPATE_CQL_MD_HAS_MORE_PAGES);
    resp_free(&x);
    check_paged(cql, o, want, count_rows(want));
}

static void check(const char *cql, const char *want) { check_v(cql, NULL, want); }

static void check_unpaged(const char *cql, const char *want) {
    resp_t x;
    query(cql, NULL, &x);
    expect_rows_resp(cql, &x, want);
    resp_free(&x);
}

/* ------------------------------------------------------------------ */
/* Writing rows with the store's mutation API                          */
/* ------------------------------------------------------------------ */

static char vbuf[256][8];
static int vbuf_i;

static spate_slice_t I(int32_t v) {
    char *p = vbuf[vbuf_i++ % 256];
    p[0] = (char)((uint32_t)v >> 24);
    p[1] = (char)((uint32_t)v >> 16);
    p[2] = (char)((uint32_t)v >> 8);
    p[3] = (char)v;
    return (spate_slice_t){p, 4};
}

static spate_slice_t S(const char *s) { return (spate_slice_t){s, (int32_t)strlen(s)}; }

static const cql_table_t *table(const char *name) {
    const cql_table_t *t = cql_schema_table(F.srv->schema, "ks", name);
    assert_non_null(t);
    return t;
}

static uint32_t col_idx(const char *col) {
    for (uint32_t i = 0; i < F.v->table->ncols; i++)
        if (strcmp(F.v->table->cols[i].name, col) == 0) return i;
    fail_msg("no column %s", col);
    return 0;
}

static uint16_t col_id(const char *col) { return F.v->table->cols[col_idx(col)].id; }

/* Starts writes to table name at the next timestamp (ttl 0: none). */
static void w_begin(const char *name, int32_t ttl, int64_t now) {
    F.v = cql_tview(F.srv, table(name));
    assert_non_null(F.v);
    spate_cql_mutation_clear(F.m);
    assert_int_equal(spate_cql_mutation_time(F.m, ++F.ts, ttl, now), SPATE_OK);
}

static void w_row(const spate_slice_t *pk, const spate_slice_t *ck) {
    assert_int_equal(spate_cql_mutation_row(F.m, &F.v->key, pk, ck), SPATE_OK);
    assert_int_equal(spate_cql_mutation_marker(F.m), SPATE_OK);
}

static void w_cell(const char *col, spate_slice_t v) {
    assert_int_equal(spate_cql_mutation_cell(F.m, col_id(col), v), SPATE_OK);
}

static void w_static(const spate_slice_t *pk, const char *col, spate_slice_t v) {
    assert_int_equal(spate_cql_mutation_partition(F.m, &F.v->key, pk), SPATE_OK);
    assert_int_equal(spate_cql_mutation_static_cell(F.m, col_id(col), v), SPATE_OK);
}

static void w_elem(const char *col, spate_slice_t elem, spate_slice_t v) {
    uint32_t i = col_idx(col);
    assert_non_null(F.v->elem[i]);
    assert_int_equal(spate_cql_mutation_elem(F.m, F.v->table->cols[i].id, F.v->elem[i], elem, v),
                     SPATE_OK);
}

static void w_apply(void) {
    assert_int_equal(spate_cql_store_apply(F.srv->store, F.m), SPATE_OK);
    spate_cql_mutation_clear(F.m);
}

/* One row of a (pk int, ck int, v text) table. */
static void put3(const char *name, int32_t pk, int32_t ck, const char *v) {
    w_begin(name, 0, (int64_t)time(NULL));
    spate_slice_t p = I(pk), c = I(ck);
    w_row(&p, &c);
    if (v) w_cell("v", S(v));
    w_apply();
}

static int64_t token_of_int(int32_t pk) {
    spate_slice_t p = I(pk);
    int64_t t;
    assert_int_equal(spate_cql_partition_token(&p, 1, &t), SPATE_OK);
    return t;
}

/* int keys sorted by token (the order of a scan) */
static int by_token(const void *a, const void *b) {
    int64_t ta = token_of_int(*(const int32_t *)a), tb = token_of_int(*(const int32_t *)b);
    return ta < tb ? -1 : ta > tb;
}
static void sort_by_token(int32_t *keys, size_t n) { qsort(keys, n, sizeof *keys, by_token); }

/* ------------------------------------------------------------------ */
/* Fixture                                                             */
/* ------------------------------------------------------------------ */

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static int setup(void **state) {
    (void)state;
    memset(&F, 0, sizeof F);
    strcpy(F.dir, "/tmp/spate-cqlsel-XXXXXX");
    if (!mkdtemp(F.dir)) return -1;
    spate_cql_conf_t c;
    spate_cql_conf_default(&c);
    char err[256];
    if (spate_net_addr_parse("127.0.0.1:0", &c.listen, err, sizeof err) != SPATE_OK) return -1;
    snprintf(c.data_dir, sizeof c.data_dir, "%s", F.dir);
    c.fsync = false;
    spate_log_set_level(SPATE_LOG_WARN);
    if (spate_cql_server_start(&F.srv, &c, err, sizeof err) != SPATE_OK) {
        fprintf(stderr, "start: %s\n", err);
        return -1;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, F.fds) != 0) return -1;
    int big = 4 << 20;
    setsockopt(F.fds[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(F.fds[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    fcntl(F.fds[0], F_SETFL, fcntl(F.fds[0], F_GETFL) | O_NONBLOCK);
    struct timeval tv = {5, 0};
    setsockopt(F.fds[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    F.conn = cql_conn_open(F.srv, F.fds[0], "test");
    if (!F.conn) return -1;
    F.m = spate_cql_mutation_new(F.srv->store);
    F.ts = 1000;

    spate_cql_request_t req = {.opcode = SPATE_CQL_OP_STARTUP};
    spate_cql_pair_t opt = {{"CQL_VERSION", 11}, {"3.0.0", 5}};
    req.options = (spate_cql_strmap_t){1, &opt};
    resp_t x;
    roundtrip(&req, &x);
    if (x.r.opcode != SPATE_CQL_OP_READY) return -1;
    resp_free(&x);
    ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
       "'replication_factor': 1}");
    return 0;
}

static int teardown(void **state) {
    (void)state;
    spate_cql_mutation_free(F.m);
    spate_cql_server_free(F.srv); /* closes the connection (fds[0]) */
    close(F.fds[1]);
    nftw(F.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void test_basics(void **state) {
    (void)state;
    ok("CREATE TABLE ks.t (pk int, ck int, v text, PRIMARY KEY (pk, ck))");
    for (int p = 1; p <= 3; p++)
        for (int c = 1; c <= 3; c++) {
            char v[32];
            snprintf(v, sizeof v, "v%d%d", p, c);
            put3("t", p, c, v);
        }
    put3("t", 4, 1, NULL); /* a row with only its marker */

    check("SELECT * FROM ks.t WHERE pk = 2", "2,1,v21|2,2,v22|2,3,v23");
    check("SELECT v FROM ks.t WHERE pk = 2 AND ck = 2", "v22");
    check("SELECT * FROM ks.t WHERE pk = 4", "4,1,null");
    check("SELECT v FROM ks.t WHERE pk = 9", "");
    check("SELECT ck FROM ks.t WHERE pk = 1 AND ck > 1", "2|3");
    check("SELECT ck FROM ks.t WHERE pk = 1 AND ck >= 2 AND ck < 3", "2");
    check("SELECT ck FROM ks.t WHERE pk = 1 AND ck <= 2", "1|2");
    check("SELECT ck FROM ks.t WHERE pk = 1 AND ck > 3", "");
    check("SELECT ck FROM ks.t WHERE pk = 1 AND ck > 2 AND ck < 2", "");
    /* IN: clustering values in clustering order, partitions in key order */
    check("SELECT ck, v FROM ks.t WHERE pk = 3 AND ck IN (3, 1, 3)", "1,v31|3,v33");
    check("SELECT pk, ck FROM ks.t WHERE pk IN (3, 1, 3, 7)", "1,1|1,2|1,3|3,1|3,2|3,3");
    check("SELECT pk, ck FROM ks.t WHERE pk IN (3, 1) AND ck IN (2, 3)", "1,2|1,3|3,2|3,3");
    check("SELECT pk, ck FROM ks.t WHERE pk IN (2, 1) AND ck > 2", "1,3|2,3");
    check("SELECT pk, ck FROM ks.t WHERE pk IN ()", "");
    check("SELECT ck FROM ks.t WHERE pk = 1 AND ck IN ()", "");
    /* ORDER BY reads backwards */
    check("SELECT ck FROM ks.t WHERE pk = 2 ORDER BY ck DESC", "3|2|1");
    check("SELECT ck FROM ks.t WHERE pk = 2 ORDER BY ck ASC", "1|2|3");
    check("SELECT ck FROM ks.t WHERE pk = 2 AND ck < 3 ORDER BY ck DESC", "2|1");
    check("SELECT ck FROM ks.t WHERE pk = 2 AND ck IN (1, 3) ORDER BY ck DESC", "3|1");
    /* LIMIT / PER PARTITION LIMIT */
    check("SELECT ck FROM ks.t WHERE pk = 2 LIMIT 2", "1|2");
    check("SELECT ck FROM ks.t WHERE pk = 2 ORDER BY ck DESC LIMIT 1", "3");
    check("SELECT pk, ck FROM ks.t WHERE pk IN (1, 2) LIMIT 4", "1,1|1,2|1,3|2,1");
    check("SELECT pk, ck FROM ks.t WHERE pk IN (1, 2) PER PARTITION LIMIT 2", "1,1|1,2|2,1|2,2");
    check("SELECT pk, ck FROM ks.t WHERE pk IN (1, 2, 3) PER PARTITION LIMIT 2 LIMIT 3",
          "1,1|1,2|2,1");
    /* bind markers, aliases */
    spate_slice_t vals[3] = {I(1), {NULL, 0}, I(2)};
    spate_buf_t list = SPATE_BUF_INIT;
    int32_t two[] = {3, 1};
    spate_wr_i32(&list, 2);
    for (int i = 0; i < 2; i++) spate_wr_str32(&list, I(two[i]).p, 4);
    vals[1] = (spate_slice_t){list.data, (int32_t)list.len};
    opts_t o = {.values = vals, .nvalues = 3};
    check_v("SELECT ck FROM ks.t WHERE pk = ? AND ck IN ? LIMIT ?", &o, "1|3");
    spate_buf_free(&list);
    resp_t x;
    query("SELECT v AS value, ck FROM ks.t WHERE pk = 1 AND ck = 1", NULL, &x);
    expect_rows_resp("alias", &x, "v11,1");
    assert_int_equal(x.r.result.metadata.columns[0].name.len, 5);
    assert_memory_equal(x.r.result.metadata.columns[0].name.p, "value", 5);
    assert_int_equal(x.r.result.metadata.columns[0].type.id, SPATE_CQL_VARCHAR);
    resp_free(&x);
    /* count(*) is one row, never paged */
    check_unpaged("SELECT count(*) FROM ks.t", "10");
    check_unpaged("SELECT count(*) FROM ks.t WHERE pk = 2", "3");
    check_unpaged("SELECT count(*), v FROM ks.t WHERE pk = 2 AND ck > 1", "2,v22");
    check_unpaged("SELECT COUNT(1) FROM ks.t WHERE pk = 9", "0");
    check_unpaged("SELECT count(*) FROM ks.t LIMIT 1", "10");
    opts_t paged = {.page_size = 2};
    query("SELECT count(*) FROM ks.t", &paged, &x);
    expect_rows_resp("count paged", &x, "10");
    assert_false(x.r.result.metadata.flags & SPATE_CQL_MD_HAS_MORE_PAGES);
    resp_free(&x);
    /* IN on the partition key with ORDER BY: sorted in memory, unpaged */
    check_unpaged("SELECT pk, ck FROM ks.t WHERE pk IN (1, 2) ORDER BY ck DESC",
                  "1,3|2,3|1,2|2,2|1,1|2,1");
    check_unpaged("SELECT pk, ck FROM ks.t WHERE pk IN (1, 2) ORDER BY ck DESC LIMIT 3",
                  "1,3|2,3|1,2");
    expect_error("SELECT pk, ck FROM ks.t WHERE pk IN (1, 2) ORDER BY ck DESC", &paged,
                 SPATE_CQL_ERR_INVALID,
                 "Cannot page queries with both ORDER BY and a IN restriction on the partition "
                 "key; you must either remove the ORDER BY or the IN and sort client side, or "
                 "disable paging for this query");
}

static void test_scan(void **state) {
    (void)state;
    ok("CREATE TABLE ks.big (pk int, ck int, v int, PRIMARY KEY (pk, ck))");
    int32_t keys[40];
    int n = 0;
    for (int32_t p = 0; p < 40; p++) {
        keys[n++] = p;
        int rows = p % 4; /* 0..3 rows; p % 4 == 0: no rows at all */
        for (int c = 0; c < rows; c++) {
            w_begin("big", 0, (int64_t)time(NULL));
            spate_slice_t pk = I(p), ck = I(c);
            w_row(&pk, &ck);
            w_cell("v", I(p * 10 + c));
            w_apply();
        }
    }
    sort_by_token(keys, (size_t)n);
    spate_buf_t want = SPATE_BUF_INIT, wantd = SPATE_BUF_INIT, wantpp = SPATE_BUF_INIT,
                wantpp2 = SPATE_BUF_INIT, wantt = SPATE_BUF_INIT;
    int rows = 0, parts = 0;
    int64_t mid = token_of_int(keys[20]);
    for (int i = 0; i < n; i++) {
        int32_t p = keys[i];
        if (p % 4 == 0) continue;
        if (wantd.len) spate_buf_putc(&wantd, '|');
        spate_buf_printf(&wantd, "%d", p);
        parts++;
        for (int c = 0; c < p % 4; c++) {
            if (want.len) spate_buf_putc(&want, '|');
            spate_buf_printf(&want, "%d,%d,%d", p, c, p * 10 + c);
            rows++;
            if (c == 0) {
                if (wantpp.len) spate_buf_putc(&wantpp, '|');
                spate_buf_printf(&wantpp, "%d,%d", p, c);
            }
            if (c < 2) {
                if (wantpp2.len) spate_buf_putc(&wantpp2, '|');
                spate_buf_printf(&wantpp2, "%d,%d", p, c);
            }
            if (token_of_int(p) > mid) {
                if (wantt.len) spate_buf_putc(&wantt, '|');
                spate_buf_printf(&wantt, "%d,%d", p, c);
            }
        }
    }
    check("SELECT * FROM ks.big", want.data);
    check("SELECT DISTINCT pk FROM ks.big", wantd.data);
    check("SELECT pk, ck FROM ks.big PER PARTITION LIMIT 1", wantpp.data);
    check("SELECT pk, ck FROM ks.big PER PARTITION LIMIT 2", wantpp2.data);
    char tk[64];
    snprintf(tk, sizeof tk, "%lld", (long long)token_of_int(5));
    check("SELECT DISTINCT token(pk) FROM ks.big WHERE pk IN (5, 5, 8)", tk);
    check_unpaged("SELECT count(*) FROM ks.big WHERE pk = blobAsInt(0x00000007)", "3");
    char q[256], cnt[32];
    snprintf(cnt, sizeof cnt, "%d", rows);
    check_unpaged("SELECT count(*) FROM ks.big", cnt);
    expect_error("SELECT DISTINCT count(*) FROM ks.big", NULL, SPATE_CQL_ERR_INVALID,
                 "SELECT DISTINCT queries must request all the partition key columns (missing "
                 "pk)");
    assert_int_equal(parts, 30); /* 40 partitions, every fourth without rows */
    check_unpaged("SELECT DISTINCT count(*) FROM ks.big WHERE pk IN (1, 2, 4, 5)", "3");
    snprintf(q, sizeof q, "SELECT pk, ck FROM ks.big WHERE token(pk) > %lld", (long long)mid);
    check(q, wantt.data);
    /* the same with a bound bigint, and an empty range */
    uint8_t tb[8];
    for (int i = 0; i < 8; i++) tb[i] = (uint8_t)((uint64_t)mid >> (56 - 8 * i));
    spate_slice_t tv = {(const char *)tb, 8};
    opts_t o = {.values = &tv, .nvalues = 1};
    check_v("SELECT pk, ck FROM ks.big WHERE token(pk) > ?", &o, wantt.data);
    snprintf(q, sizeof q, "SELECT pk FROM ks.big WHERE token(pk) > %lld AND token(pk) <= %lld",
             (long long)mid, (long long)mid);
    check(q, "");
    check("SELECT pk FROM ks.big WHERE token(pk) > 9223372036854775807", "");
    /* token() as a selector */
    resp_t x;
    query("SELECT token(pk), pk FROM ks.big WHERE pk = 5 LIMIT 1", NULL, &x);
    snprintf(q, sizeof q, "%lld,5", (long long)token_of_int(5));
    expect_rows_resp("token", &x, q);
    assert_int_equal(x.r.result.metadata.columns[0].type.id, SPATE_CQL_BIGINT);
    assert_int_equal(x.r.result.metadata.columns[0].name.len, strlen("system.token(pk)"));
    assert_memory_equal(x.r.result.metadata.columns[0].name.p, "system.token(pk)", 16);
    resp_free(&x);
    /* LIMIT across partitions of a scan, paged */
    spate_buf_t lim = SPATE_BUF_INIT;
    const char *p = want.data;
    for (int i = 0; i < 7; i++) {
        const char *e = strchr(p, '|');
        spate_buf_append(&lim, p, (size_t)(e - p) + (i < 6 ? 1 : 0));
        p = e + 1;
    }
    check("SELECT * FROM ks.big LIMIT 7", lim.data);
    spate_buf_free(&lim);
    spate_buf_free(&want);
    spate_buf_free(&wantd);
    spate_buf_free(&wantpp);
    spate_buf_free(&wantpp2);
    spate_buf_free(&wantt);
}

static void test_statics(void **state) {
    (void)state;
    ok("CREATE TABLE ks.s (pk int, ck int, s text static, v int, PRIMARY KEY (pk, ck))");
    int64_t now = (int64_t)time(NULL);
    spate_slice_t p1 = I(1), p2 = I(2), p3 = I(3);
    w_begin("s", 0, now);
    w_static(&p1, "s", S("s1"));
    for (int c = 1; c <= 3; c++) {
        spate_slice_t ck = I(c);
        w_row(&p1, &ck);
        w_cell("v", I(c));
    }
    w_static(&p2, "s", S("s2")); /* only static */
    spate_slice_t ck = I(1);
    w_row(&p3, &ck); /* rows, no static */
    w_cell("v", I(31));
    w_apply();

    check("SELECT * FROM ks.s WHERE pk = 1", "1,1,s1,1|1,2,s1,2|1,3,s1,3");
    check("SELECT * FROM ks.s WHERE pk = 2", "2,null,s2,null");
    check("SELECT pk, s FROM ks.s WHERE pk IN (1, 2, 3)", "1,s1|1,s1|1,s1|2,s2|3,null");
    check("SELECT * FROM ks.s WHERE pk = 1 ORDER BY ck DESC", "1,3,s1,3|1,2,s1,2|1,1,s1,1");
    check("SELECT * FROM ks.s WHERE pk = 2 ORDER BY ck DESC", "2,null,s2,null");
    check("SELECT s FROM ks.s WHERE pk IN (1, 2) PER PARTITION LIMIT 2", "s1|s1|s2");
    /* restricting clustering columns: no static-only row */
    check("SELECT * FROM ks.s WHERE pk = 2 AND ck > 0", "");
    check("SELECT * FROM ks.s WHERE pk = 1 AND ck >= 2", "1,2,s1,2|1,3,s1,3");
    check("SELECT DISTINCT pk, s FROM ks.s WHERE pk IN (1, 2, 3)", "1,s1|2,s2|3,null");
    check_unpaged("SELECT count(*) FROM ks.s", "5");
    int32_t keys[] = {1, 2, 3};
    sort_by_token(keys, 3);
    spate_buf_t want = SPATE_BUF_INIT, wantd = SPATE_BUF_INIT;
    for (int i = 0; i < 3; i++) {
        const char *rows = keys[i] == 1   ? "1,1,s1,1|1,2,s1,2|1,3,s1,3"
                           : keys[i] == 2 ? "2,null,s2,null"
                                          : "3,1,null,31";
        if (want.len) spate_buf_putc(&want, '|');
        spate_buf_puts(&want, rows);
        if (wantd.len) spate_buf_putc(&wantd, '|');
        spate_buf_printf(&wantd, "%d,%s", keys[i],
                         keys[i] == 3   ? "null"
                         : keys[i] == 1 ? "s1"
                                        : "s2");
    }
    check("SELECT * FROM ks.s", want.data);
    check("SELECT DISTINCT pk, s FROM ks.s", wantd.data);
    /* a filter on a static column keeps or drops whole partitions */
    check("SELECT pk, ck FROM ks.s WHERE s = 's1' ALLOW FILTERING", "1,1|1,2|1,3");
    check("SELECT pk, ck FROM ks.s WHERE s = 's2' ALLOW FILTERING", "2,null");
    spate_buf_free(&want);
    spate_buf_free(&wantd);
}

/* A version-1 UUID whose 60-bit time is t. */
static spate_slice_t timeuuid(uint64_t t) {
    static char keep[64][16];
    static int ki;
    char *u = keep[ki++ % 64];
    uint32_t lo = (uint32_t)t;
    u[0] = (char)(lo >> 24), u[1] = (char)(lo >> 16), u[2] = (char)(lo >> 8), u[3] = (char)lo;
    u[4] = (char)(t >> 40), u[5] = (char)(t >> 32);
    u[6] = (char)(0x10 | ((t >> 56) & 0x0F)), u[7] = (char)(t >> 48);
    u[8] = (char)0x80, u[9] = 0x01;
    for (int i = 10; i < 16; i++) u[i] = 0x11;
    return (spate_slice_t){u, 16};
}

static void test_collections(void **state) {
    (void)state;
    ok("CREATE TABLE ks.c (pk int PRIMARY KEY, l list<int>, st set<text>, mp map<text, int>, "
       "fl frozen<list<int>>)");
    w_begin("c", 0, (int64_t)time(NULL));
    spate_slice_t pk = I(1);
    w_row(&pk, NULL);
    w_elem("l", timeuuid(30), I(3));
    w_elem("l", timeuuid(10), I(1));
    w_elem("l", timeuuid(20), I(2));
    w_elem("st", S("b"), (spate_slice_t){"", 0});
    w_elem("st", S("a"), (spate_slice_t){"", 0});
    w_elem("mp", S("y"), I(25));
    w_elem("mp", S("x"), I(24));
    spate_buf_t fl = SPATE_BUF_INIT;
    spate_slice_t el[2] = {I(7), I(8)};
    spate_cql_value_put_collection(&fl, SPATE_CQL_LIST, el, 2);
    w_cell("fl", (spate_slice_t){fl.data, (int32_t)fl.len});
    w_apply();
    spate_buf_free(&fl);
    spate_slice_t pk2 = I(2);
    w_begin("c", 0, (int64_t)time(NULL));
    w_row(&pk2, NULL);
    w_elem("st", S("c"), (spate_slice_t){"", 0});
    w_apply();

    check("SELECT l, st, mp, fl FROM ks.c WHERE pk = 1",
          "[1, 2, 3],{'a', 'b'},{'x': 24, 'y': 25},[7, 8]");
    check("SELECT l, mp FROM ks.c WHERE pk = 2", "null,null");
    check("SELECT pk FROM ks.c WHERE st CONTAINS 'b' ALLOW FILTERING", "1");
    check("SELECT pk FROM ks.c WHERE l CONTAINS 2 ALLOW FILTERING", "1");
    check("SELECT pk FROM ks.c WHERE mp CONTAINS KEY 'x' ALLOW FILTERING", "1");
    check("SELECT pk FROM ks.c WHERE mp CONTAINS 25 AND st CONTAINS 'a' ALLOW FILTERING", "1");
    check("SELECT pk FROM ks.c WHERE mp CONTAINS 26 ALLOW FILTERING", "");
    check("SELECT pk FROM ks.c WHERE fl CONTAINS 8 ALLOW FILTERING", "1");
    check("SELECT pk FROM ks.c WHERE fl = [7, 8] ALLOW FILTERING", "1");
    check("SELECT pk FROM ks.c WHERE fl > [7] ALLOW FILTERING", "1");
    check("SELECT pk FROM ks.c WHERE fl < [7] ALLOW FILTERING", "");
    check("SELECT pk FROM ks.c WHERE st CONTAINS 'c' ALLOW FILTERING", "2");
    expect_error("SELECT pk FROM ks.c WHERE st CONTAINS 'b'", NULL, SPATE_CQL_ERR_INVALID,
                 ALLOW_FILTERING_MSG);
    expect_error("SELECT pk FROM ks.c WHERE l = [1] ALLOW FILTERING", NULL, SPATE_CQL_ERR_INVALID,
                 "Collection column 'l' (list<int>) cannot be restricted by a '=' relation");
    expect_error("SELECT pk FROM ks.c WHERE pk CONTAINS 1 ALLOW FILTERING", NULL,
                 SPATE_CQL_ERR_INVALID, "Cannot use CONTAINS on non-collection column pk");
    expect_error("SELECT pk FROM ks.c WHERE st CONTAINS KEY 'a' ALLOW FILTERING", NULL,
                 SPATE_CQL_ERR_INVALID, "Cannot use CONTAINS KEY on non-map column st");
    expect_error("SELECT pk FROM ks.c WHERE mp CONTAINS 'a' ALLOW FILTERING", NULL,
                 SPATE_CQL_ERR_INVALID,
                 "Invalid STRING constant (a) for \"value(mp)\" of type int");
    expect_error("SELECT writetime(st) FROM ks.c WHERE pk = 1", NULL, SPATE_CQL_ERR_INVALID,
                 "Cannot use selection function writeTime on non-frozen collection st");
}

static void test_ttl(void **state) {
    (void)state;
    ok("CREATE TABLE ks.e (pk int, ck int, v text, w text, PRIMARY KEY (pk, ck))");
    int64_t now = (int64_t)time(NULL);
    spate_slice_t pk = I(1), c1 = I(1), c2 = I(2), c3 = I(3);
    /* expired 50 seconds ago: the row (marker and cells) is gone */
    w_begin("e", 50, now - 100);
    w_row(&pk, &c1);
    w_cell("v", S("old"));
    w_apply();
    /* live row, one cell expired */
    w_begin("e", 0, now);
    w_row(&pk, &c2);
    w_cell("v", S("keep"));
    w_apply();
    w_begin("e", 10, now - 100);
    assert_int_equal(spate_cql_mutation_row(F.m, &F.v->key, &pk, &c2), SPATE_OK);
    w_cell("w", S("gone"));
    w_apply();
    /* a cell with 1000 s left */
    w_begin("e", 1000, now);
    w_row(&pk, &c3);
    w_cell("v", S("ttl"));
    w_apply();
    int64_t ts3 = F.ts;

    check("SELECT ck, v, w FROM ks.e WHERE pk = 1", "2,keep,null|3,ttl,null");
    resp_t x;
    query("SELECT ttl(v), writetime(v), ttl(w) FROM ks.e WHERE pk = 1 AND ck = 3", NULL, &x);
    assert_int_equal(x.r.opcode, SPATE_CQL_OP_RESULT);
    assert_int_equal(x.r.result.rows_count, 1);
    spate_slice_t *cells = x.r.result.cells;
    assert_int_equal(cells[0].len, 4);
    const uint8_t *t = (const uint8_t *)cells[0].p;
    int32_t left = (int32_t)((uint32_t)t[0] << 24 | t[1] << 16 | t[2] << 8 | t[3]);
    assert_true(left > 990 && left <= 1000);
    assert_int_equal(cells[1].len, 8);
    int64_t wt = 0;
    for (int i = 0; i < 8; i++) wt = wt << 8 | (uint8_t)cells[1].p[i];
    assert_int_equal(wt, ts3);
    assert_null(cells[2].p);
    assert_int_equal(x.r.result.metadata.columns[0].type.id, SPATE_CQL_INT);
    assert_int_equal(x.r.result.metadata.columns[1].type.id, SPATE_CQL_BIGINT);
    resp_free(&x);
    check("SELECT ttl(v) FROM ks.e WHERE pk = 1 AND ck = 2", "null");
    expect_error("SELECT ttl(ck) FROM ks.e", NULL, SPATE_CQL_ERR_INVALID,
                 "Cannot use selection function ttl on PRIMARY KEY part ck");
}

static void test_filtering(void **state) {
    (void)state;
    ok("CREATE TABLE ks.f (a int, b int, c int, d int, v int, PRIMARY KEY ((a, b), c, d))");
    for (int a = 1; a <= 2; a++)
        for (int b = 1; b <= 2; b++)
            for (int c = 1; c <= 2; c++)
                for (int d = 1; d <= 2; d++) {
                    w_begin("f", 0, (int64_t)time(NULL));
                    spate_slice_t pk[2] = {I(a), I(b)}, ck[2] = {I(c), I(d)};
                    w_row(pk, ck);
                    w_cell("v", I(a * 1000 + b * 100 + c * 10 + d));
                    w_apply();
                }
    check("SELECT v FROM ks.f WHERE a = 1 AND b = 2 AND c = 2", "1221|1222");
    check("SELECT v FROM ks.f WHERE a = 1 AND b IN (2, 1) AND c = 2 AND d = 1", "1121|1221");
    check("SELECT v FROM ks.f WHERE a IN (2, 1) AND b = 1 AND c = 1 AND d IN (2, 1)",
          "1111|1112|2111|2112");
    check("SELECT v FROM ks.f WHERE a = 1 AND b = 1 AND c IN (1, 2) AND d > 1", "1112|1122");
    check("SELECT v FROM ks.f WHERE a = 1 AND b = 1 AND v > 1112 ALLOW FILTERING", "1121|1122");
    check("SELECT v FROM ks.f WHERE a = 1 AND b = 1 AND v != 1112 AND v <= 1121 ALLOW "
          "FILTERING",
          "1111|1121");
    check("SELECT v FROM ks.f WHERE a = 1 AND b = 1 AND v IN (1122, 1111) ALLOW FILTERING",
          "1111|1122");
    check("SELECT v FROM ks.f WHERE a = 1 AND b = 1 AND d = 2 ALLOW FILTERING", "1112|1122");
    check("SELECT v FROM ks.f WHERE a = 1 AND b = 1 AND c > 1 AND d = 2 ALLOW FILTERING", "1122");
    check("SELECT v FROM ks.f WHERE a = 1 AND b = 1 AND c != 1 ALLOW FILTERING", "1121|1122");
    /* partial partition key and key ranges: scans with filters */
    int32_t ks[4][2] = {{1, 1}, {1, 2}, {2, 1}, {2, 2}};
    int64_t toks[4];
    for (int i = 0; i < 4; i++) {
        spate_slice_t pk[2] = {I(ks[i][0]), I(ks[i][1])};
        assert_int_equal(spate_cql_partition_token(pk, 2, &toks[i]), SPATE_OK);
    }
    int order[4] = {0, 1, 2, 3};
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            if (toks[order[j]] < toks[order[i]]) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    spate_buf_t want = SPATE_BUF_INIT, want2 = SPATE_BUF_INIT;
    for (int i = 0; i < 4; i++) {
        int a = ks[order[i]][0], b = ks[order[i]][1];
        if (a == 2) {
            if (want.len) spate_buf_putc(&want, '|');
            spate_buf_printf(&want, "%d", a * 1000 + b * 100 + 21);
        }
        if (want2.len) spate_buf_putc(&want2, '|');
        spate_buf_printf(&want2, "%d", a * 1000 + b * 100 + 12);
    }
    check("SELECT v FROM ks.f WHERE a = 2 AND c = 2 AND d = 1 ALLOW FILTERING", want.data);
    check("SELECT v FROM ks.f WHERE c = 1 AND d = 2 ALLOW FILTERING", want2.data);
    check("SELECT v FROM ks.f WHERE a > 1 AND v = 2221 ALLOW FILTERING", "2221");
    spate_buf_free(&want);
    spate_buf_free(&want2);

    /* without ALLOW FILTERING */
    expect_error("SELECT v FROM ks.f WHERE a = 1", NULL, SPATE_CQL_ERR_INVALID,
                 ALLOW_FILTERING_MSG);
    expect_error("SELECT v FROM ks.f WHERE a > 1 AND b = 1", NULL, SPATE_CQL_ERR_INVALID,
                 ALLOW_FILTERING_MSG);
    expect_error("SELECT v FROM ks.f WHERE a = 1 AND b = 1 AND v = 1", NULL, SPATE_CQL_ERR_INVALID,
                 ALLOW_FILTERING_MSG);
    expect_error("SELECT v FROM ks.f WHERE c = 1", NULL, SPATE_CQL_ERR_INVALID,
                 ALLOW_FILTERING_MSG);
    expect_error("SELECT v FROM ks.f WHERE a = 1 AND b = 1 AND d = 1", NULL, SPATE_CQL_ERR_INVALID,
                 "PRIMARY KEY column \"d\" cannot be restricted as preceding column \"c\" is not "
                 "restricted");
    expect_error("SELECT v FROM ks.f WHERE a = 1 AND b = 1 AND c > 1 AND d = 1", NULL,
                 SPATE_CQL_ERR_INVALID,
                 "Clustering column \"d\" cannot be restricted (preceding column \"c\" is "
                 "restricted by a non-EQ relation)");
    expect_error("SELECT v FROM ks.f WHERE a = 1 AND b = 1 AND c != 1", NULL, SPATE_CQL_ERR_INVALID,
                 ALLOW_FILTERING_MSG);
}

static void test_multi(void **state) {
    (void)state;
    ok("CREATE TABLE ks.d (pk int, c int, d int, v text, PRIMARY KEY (pk, c, d)) WITH "
       "CLUSTERING ORDER BY (c ASC, d DESC)");
    for (int c = 1; c <= 3; c++)
        for (int d = 1; d <= 3; d++) {
            w_begin("d", 0, (int64_t)time(NULL));
            spate_slice_t pk = I(1), ck[2] = {I(c), I(d)};
            w_row(&pk, ck);
            w_apply();
        }
    const char *all = "1,3|1,2|1,1|2,3|2,2|2,1|3,3|3,2|3,1";
    check("SELECT c, d FROM ks.d WHERE pk = 1", all);
    check("SELECT c, d FROM ks.d WHERE pk = 1 ORDER BY c DESC, d ASC",
          "3,1|3,2|3,3|2,1|2,2|2,3|1,1|1,2|1,3");
    check("SELECT c, d FROM ks.d WHERE pk = 1 AND c = 2 AND d > 1", "2,3|2,2");
    check("SELECT c, d FROM ks.d WHERE pk = 1 AND c = 2 AND d > 1 ORDER BY c DESC", "2,2|2,3");
    check("SELECT c, d FROM ks.d WHERE pk = 1 AND c = 2 ORDER BY d ASC", "2,1|2,2|2,3");
    check("SELECT c, d FROM ks.d WHERE pk = 1 AND c = 2 AND d IN (1, 3)", "2,3|2,1");
    check("SELECT c, d FROM ks.d WHERE pk = 1 AND (c, d) > (2, 2)", "2,3|3,3|3,2|3,1");
    check("SELECT c, d FROM ks.d WHERE pk = 1 AND (c, d) >= (2, 2) AND (c) < (3)", "2,3|2,2");
    check("SELECT c, d FROM ks.d WHERE pk = 1 AND (c, d) <= (1, 2)", "1,2|1,1");
    check("SELECT c, d FROM ks.d WHERE pk = 1 AND (c, d) = (3, 1)", "3,1");
    check("SELECT c, d FROM ks.d WHERE pk = 1 AND (c, d) IN ((3, 1), (1, 1), (1, 2))",
          "1,2|1,1|3,1");
    check("SELECT c, d FROM ks.d WHERE pk = 1 AND (c, d) > (2, 2) ORDER BY c DESC",
          "3,1|3,2|3,3|2,3");
    expect_error("SELECT c FROM ks.d WHERE pk = 1 AND (d, c) > (1, 1)", NULL, SPATE_CQL_ERR_INVALID,
                 "PRIMARY KEY column \"d\" cannot be restricted as preceding column \"c\" is not "
                 "restricted");
    expect_error("SELECT c FROM ks.d WHERE pk = 1 AND (c, d) > (1, 1) AND c < 3", NULL,
                 SPATE_CQL_ERR_INVALID,
                 "Mixing single column relations and multi column relations on clustering "
                 "columns is not allowed");
}

static void test_errors(void **state) {
    (void)state;
    ok("CREATE TABLE ks.x (pk int, ck int, v int, PRIMARY KEY (pk, ck))");
    const int32_t I_ = SPATE_CQL_ERR_INVALID;
    expect_error("SELECT nope FROM ks.x", NULL, I_, "Undefined column name nope");
    expect_error("SELECT * FROM ks.x WHERE nope = 1", NULL, I_, "Undefined column name nope");
    expect_error("SELECT * FROM ks.x WHERE pk = 1 ORDER BY nope", NULL, I_,
                 "Undefined column name nope");
    expect_error("SELECT * FROM ks.x WHERE pk = 1 ORDER BY v", NULL, I_,
                 "Order by is currently only supported on the clustered columns of the PRIMARY "
                 "KEY, got v");
    expect_error("SELECT * FROM ks.x ORDER BY ck", NULL, I_,
                 "ORDER BY is only supported when the partition key is restricted by an EQ or an "
                 "IN.");
    expect_error("SELECT * FROM ks.x WHERE pk = 'a'", NULL, I_,
                 "Invalid STRING constant (a) for \"pk\" of type int");
    expect_error("SELECT * FROM ks.x WHERE pk = 1 AND pk = 2", NULL, I_,
                 "pk cannot be restricted by more than one relation if it includes an Equal");
    expect_error("SELECT * FROM ks.x WHERE pk = 1 AND ck > 1 AND ck > 2", NULL, I_,
                 "More than one restriction was found for the start bound on ck");
    expect_error("SELECT * FROM ks.x WHERE pk = 1 LIMIT 0", NULL, I_,
                 "LIMIT must be strictly positive");
    expect_error("SELECT * FROM ks.x WHERE pk = 1 PER PARTITION LIMIT 0", NULL, I_,
                 "PER PARTITION LIMIT must be strictly positive");
    expect_error("SELECT DISTINCT ck FROM ks.x", NULL, I_,
                 "SELECT DISTINCT queries must only request partition key columns and/or static "
                 "columns (not ck)");
    expect_error("SELECT DISTINCT pk FROM ks.x WHERE pk = 1 AND ck = 1", NULL, I_,
                 "SELECT DISTINCT with WHERE clause only supports restriction by partition key "
                 "and/or static columns.");
    expect_error("SELECT count(*) FROM ks.x PER PARTITION LIMIT 1", NULL, I_,
                 "PER PARTITION LIMIT is not allowed with aggregate queries.");
    expect_error("SELECT * FROM ks.x WHERE token(ck) > 0", NULL, I_,
                 "The token() function must be applied to all partition key components or none "
                 "of them");
    expect_error("SELECT * FROM ks.x WHERE pk = ''", NULL, I_,
                 "Invalid STRING constant () for \"pk\" of type int");
    expect_error("SELECT * FROM ks.x WHERE pk = null", NULL, I_,
                 "Invalid null value in condition for column pk");
    ok("CREATE TABLE ks.y (k text PRIMARY KEY, v int)");
    expect_error("SELECT * FROM ks.y WHERE k = ''", NULL, I_, "Key may not be empty");
    ok("CREATE TABLE ks.z (a int, b int, c int, PRIMARY KEY (a, b, c))");
    expect_error("SELECT * FROM ks.z WHERE a = 1 ORDER BY c", NULL, I_,
                 "Order by currently only supports the ordering of columns following their "
                 "declared order in the PRIMARY KEY");
    expect_error("SELECT * FROM ks.z WHERE a = 1 ORDER BY b ASC, c DESC", NULL, I_,
                 "Unsupported order by relation");
    check("SELECT * FROM ks.z WHERE a = 1 AND b = 2 ORDER BY c DESC", "");
}

static void test_paging_state(void **state) {
    (void)state;
    ok("CREATE TABLE ks.p (pk int, ck int, v text, PRIMARY KEY (pk, ck))");
    for (int c = 0; c < 5; c++) put3("p", 1, c, "x");
    ok("CREATE TABLE ks.p2 (pk int, ck int, v text, PRIMARY KEY (pk, ck))");
    put3("p2", 1, 0, "y");
    opts_t o = {.page_size = 2};
    resp_t x;
    query("SELECT ck FROM ks.p WHERE pk = 1", &o, &x);
    expect_rows_resp("page 1", &x, "0|1");
    assert_true(x.r.result.metadata.flags & SPATE_CQL_MD_HAS_MORE_PAGES);
    spate_buf_t st = SPATE_BUF_INIT;
    spate_buf_append(&st, x.r.result.metadata.paging_state.p,
                     (size_t)x.r.result.metadata.paging_state.len);
    resp_free(&x);
    const char *bad = "Invalid value for the paging state";
    /* every truncation, garbage, another table's state */
    for (size_t n = 0; n < st.len; n++) {
        o.paging = (spate_slice_t){st.data, (int32_t)n};
        expect_error("SELECT ck FROM ks.p WHERE pk = 1", &o, SPATE_CQL_ERR_PROTOCOL, bad);
    }
    o.paging = (spate_slice_t){st.data, (int32_t)st.len};
    expect_error("SELECT ck FROM ks.p2 WHERE pk = 1", &o, SPATE_CQL_ERR_PROTOCOL, bad);
    srand(7);
    for (int i = 0; i < 2000; i++) {
        spate_buf_t g = SPATE_BUF_INIT;
        spate_buf_append(&g, st.data, st.len);
        int flips = 1 + rand() % 4;
        for (int k = 0; k < flips; k++) g.data[rand() % (int)g.len] = (char)rand();
        o.paging = (spate_slice_t){g.data, (int32_t)g.len};
        query("SELECT ck FROM ks.p WHERE pk = 1", &o, &x);
        assert_true(x.r.opcode == SPATE_CQL_OP_ERROR || x.r.opcode == SPATE_CQL_OP_RESULT);
        resp_free(&x);
        query("SELECT * FROM ks.p", &o, &x);
        assert_true(x.r.opcode == SPATE_CQL_OP_ERROR || x.r.opcode == SPATE_CQL_OP_RESULT);
        resp_free(&x);
        spate_buf_free(&g);
    }
    /* the real state still works */
    o.paging = (spate_slice_t){st.data, (int32_t)st.len};
    query("SELECT ck FROM ks.p WHERE pk = 1", &o, &x);
    expect_rows_resp("page 2", &x, "2|3");
    resp_free(&x);
    spate_buf_free(&st);

    /* EXECUTE with skip_metadata: Rows with No_metadata, same cells */
    spate_cql_request_t req = {.opcode = SPATE_CQL_OP_PREPARE};
    const char *text = "SELECT ck, v FROM ks.p WHERE pk = ? AND ck = ?";
    req.query = (spate_slice_t){text, (int32_t)strlen(text)};
    roundtrip(&req, &x);
    assert_int_equal(x.r.opcode, SPATE_CQL_OP_RESULT);
    uint8_t id[16];
    assert_int_equal(x.r.result.id.len, 16);
    memcpy(id, x.r.result.id.p, 16);
    resp_free(&x);
    spate_cql_request_t ex = {.opcode = SPATE_CQL_OP_EXECUTE};
    ex.id = (spate_slice_t){(const char *)id, 16};
    spate_slice_t vals[2] = {I(1), I(3)};
    ex.params.consistency = SPATE_CQL_CL_ONE;
    ex.params.flags = SPATE_CQL_QF_VALUES | SPATE_CQL_QF_SKIP_METADATA;
    ex.params.values = vals;
    ex.params.nvalues = 2;
    ex.params.page_size = -1;
    ex.params.timestamp = INT64_MIN;
    roundtrip(&ex, &x);
    assert_int_equal(x.r.opcode, SPATE_CQL_OP_RESULT);
    assert_int_equal(x.r.result.metadata.flags & SPATE_CQL_MD_NO_METADATA,
                     SPATE_CQL_MD_NO_METADATA);
    assert_int_equal(x.r.result.metadata.columns_count, 2);
    assert_int_equal(x.r.result.rows_count, 1);
    assert_int_equal(x.r.result.cells[0].len, 4);
    assert_memory_equal(x.r.result.cells[0].p, "\0\0\0\3", 4);
    assert_int_equal(x.r.result.cells[1].len, 1);
    assert_memory_equal(x.r.result.cells[1].p, "x", 1);
    resp_free(&x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basics),       cmocka_unit_test(test_scan),
        cmocka_unit_test(test_statics),      cmocka_unit_test(test_collections),
        cmocka_unit_test(test_ttl),          cmocka_unit_test(test_filtering),
        cmocka_unit_test(test_multi),        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_paging_state),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
