/*
 * cql_client_check.c — spate's CQL client library (the public API in
 * src/cql/cql.h, nothing else) against a running `spate cql`, driven by
 * tests/client/test_cql_client.sh:
 *
 *   cql_client_check CONTACT_POINTS
 *
 * CONTACT_POINTS starts with a dead address, so connecting has to move on
 * to the next one. Each check prints "ok - ..." or "FAIL - ..."; the exit
 * status is 1 if any failed. The stages, in order:
 *
 *   connect    dead contact point skipped, protocol v4, USE keyspace
 *   ddl        keyspace and tables, schema-change answers
 *   prepare    marker count, types and names; typed binds refuse wrong
 *              types (EINVAL) and indexes (ERANGE)
 *   async      10 000 prepared inserts, window of 64, each answered Void,
 *              never more than 64 in flight
 *   read       point reads by prepared SELECT: every typed getter, null
 *   paging     SELECT with page size 100: every row exactly once, no page
 *              over 100 rows
 *   batch      logged batch of prepared and simple statements (with
 *              values), unlogged batch, client timestamp
 *   unprepared the server (max_prepared: 2) drops statements; EXECUTEs
 *              answered Unprepared are prepared again and resent, sync and
 *              async
 *   errors     server errors with code and message, sync and async
 *   v3         an in-process fake server that refuses v4: the client
 *              falls back to v3, decodes a v3 Prepared, refuses unset
 *              values in v3, and times a silent request out
 *   reconnect  prints PAUSE and waits for a line on stdin (the script
 *              restarts the server meanwhile); requests queued before
 *              fail with EIO, the next request reconnects, prepared
 *              statements are prepared again transparently and the data
 *              is still there
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "cql.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ROWS 10000
#define WINDOW 64

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            printf("ok - ");                                                                       \
        } else {                                                                                   \
            printf("FAIL - ");                                                                     \
            failures++;                                                                            \
        }                                                                                          \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        fflush(stdout);                                                                            \
    } while (0)

static spate_cql_client_t *cl;

/* " (reason)" after a failed call, "" after a good one. */
static const char *why(spate_status_t st, const char *reason) {
    static char buf[600];
    if (st == SPATE_OK) return "";
    snprintf(buf, sizeof buf, " (%s)", reason);
    return buf;
}

/* Runs cql; on failure prints why. */
static bool run(const char *cql) {
    spate_cql_answer_t *a = NULL;
    spate_status_t st = spate_cql_client_query(cl, cql, &a);
    if (st != SPATE_OK) printf("# %s -> %s\n", cql, spate_cql_client_error(cl));
    spate_cql_answer_free(a);
    return st == SPATE_OK;
}

static void row_uuid(int i, uint8_t u[16]) {
    static const uint8_t base[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x41, 0xd1,
                                     0x80, 0xb4, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x00};
    memcpy(u, base, 16);
    u[12] = (uint8_t)(i >> 24);
    u[13] = (uint8_t)(i >> 16);
    u[14] = (uint8_t)(i >> 8);
    u[15] = (uint8_t)i;
}

/* ---- async inserts ---- */

typedef struct {
    int answered, voids, errors, io_errors, max_in_flight;
    char first_error[300];
} tally_t;

static void on_insert(void *ctx, spate_status_t st, spate_cql_answer_t *a) {
    tally_t *t = ctx;
    t->answered++;
    if (st != SPATE_OK) {
        t->io_errors++;
    } else if (spate_cql_answer_kind(a) == SPATE_CQL_ANSWER_VOID) {
        t->voids++;
    } else {
        t->errors++;
        if (!t->first_error[0])
            spate_cql_answer_error_text(a, t->first_error, sizeof t->first_error);
    }
    spate_cql_answer_free(a);
}

static void bind_row(spate_cql_query_t *q, int i) {
    uint8_t u[16];
    char name[32];
    static const uint8_t blob[4] = {0xde, 0xad, 0xbe, 0xef};
    row_uuid(i, u);
    snprintf(name, sizeof name, "user-%05d", i);
    spate_cql_query_clear(q);
    spate_cql_query_bind_uuid(q, 0, u);
    spate_cql_query_bind_int(q, 1, i);
    if (i == 7)
        spate_cql_query_bind_null(q, 2);
    else
        spate_cql_query_bind_text(q, 2, name, strlen(name));
    spate_cql_query_bind_double(q, 3, i * 0.5);
    spate_cql_query_bind_bool(q, 4, i % 2 == 1);
    spate_cql_query_bind_timestamp(q, 5, 1700000000000LL + i);
    spate_cql_query_bind_bigint(q, 6, (int64_t)i * 1000000000LL);
    spate_cql_query_bind_blob(q, 7, blob, sizeof blob);
}

static const char INSERT[] =
    "INSERT INTO users (id, n, name, score, ok, ts, big, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
static const char SELECT_ONE[] =
    "SELECT id, n, name, score, ok, ts, big, data FROM users WHERE id = ?";

static void stage_prepare_and_async(void) {
    spate_cql_prepared_t *ins = NULL;
    spate_status_t st = spate_cql_client_prepare(cl, INSERT, &ins);
    CHECK(st == SPATE_OK, "prepare INSERT%s", why(st, spate_cql_client_error(cl)));
    if (st != SPATE_OK) return;
    spate_cql_prepared_t *again = NULL;
    spate_cql_client_prepare(cl, INSERT, &again);
    CHECK(again == ins, "the same text prepared twice gives the same handle");
    CHECK(spate_cql_prepared_params(ins) == 8, "8 markers (%d)", spate_cql_prepared_params(ins));
    CHECK(spate_cql_prepared_param_type(ins, 0) == SPATE_CQL_UUID &&
              spate_cql_prepared_param_type(ins, 1) == SPATE_CQL_INT &&
              spate_cql_prepared_param_type(ins, 2) == SPATE_CQL_VARCHAR &&
              spate_cql_prepared_param_type(ins, 5) == SPATE_CQL_TIMESTAMP &&
              spate_cql_prepared_param_type(ins, 7) == SPATE_CQL_BLOB,
          "marker types uuid, int, text, ..., timestamp, blob");
    CHECK(spate_cql_prepared_param_index(ins, "score") == 3 &&
              strcmp(spate_cql_prepared_param_name(ins, 4), "ok") == 0,
          "marker names");
    spate_cql_query_t *q = spate_cql_query_new_prepared(ins);
    CHECK(spate_cql_query_bind_int(q, 0, 1) == SPATE_EINVAL, "bind_int on a uuid marker: EINVAL");
    CHECK(spate_cql_query_bind_text(q, 1, "x", 1) == SPATE_EINVAL,
          "bind_text on an int marker: EINVAL");
    CHECK(spate_cql_query_bind_int(q, 8, 1) == SPATE_ERANGE, "marker 8 of 8: ERANGE");

    CHECK(spate_cql_query_nvalues(q) == 0, "a fresh query has no values");

    /* Odd rows go through a copy of the bound values (spate_cql_query_value
     * read back, bound raw into a second query): stage_read then checks
     * rows 7 (null text) and 4321 as the server stored them. */
    spate_cql_query_t *q2 = spate_cql_query_new_prepared(ins);
    tally_t t = {0};
    int submitted = 0, copies_ok = 0;
    for (int i = 0; i < ROWS; i++) {
        bind_row(q, i);
        spate_cql_query_t *send = q;
        if (i % 2 == 1) {
            spate_cql_query_clear(q2);
            bool ok = spate_cql_query_nvalues(q) == 8;
            for (int k = 0; ok && k < 8; k++) {
                const void *p;
                int32_t len;
                ok = spate_cql_query_value(q, k, &p, &len) == SPATE_OK &&
                     (i != 7 || k != 2 || len == -1) &&
                     spate_cql_query_bind(q2, k, p, len) == SPATE_OK;
            }
            const void *p;
            int32_t len;
            ok = ok && spate_cql_query_value(q, 8, &p, &len) == SPATE_ERANGE;
            copies_ok += ok;
            send = q2;
        }
        if (spate_cql_client_submit(cl, send, on_insert, &t) != SPATE_OK) {
            printf("# submit %d: %s\n", i, spate_cql_client_error(cl));
            break;
        }
        submitted++;
        int n = spate_cql_client_in_flight(cl);
        if (n > t.max_in_flight) t.max_in_flight = n;
    }
    spate_cql_client_drain(cl);
    CHECK(submitted == ROWS && t.answered == ROWS, "%d inserts submitted, %d answered", submitted,
          t.answered);
    CHECK(t.max_in_flight == WINDOW, "in flight at most the window of %d (peak %d)", WINDOW,
          t.max_in_flight);
    CHECK(t.voids == ROWS, "every insert answered Void (%d void, %d errors%s%s, %d I/O)", t.voids,
          t.errors, t.errors ? ": " : "", t.first_error, t.io_errors);
    CHECK(copies_ok == ROWS / 2, "values read back and bound into a copy (%d of %d)", copies_ok,
          ROWS / 2);
    spate_cql_query_free(q2);
    spate_cql_query_free(q);
}

/* ---- reads ---- */

static void stage_read(void) {
    spate_cql_prepared_t *sel = NULL;
    spate_status_t st = spate_cql_client_prepare(cl, SELECT_ONE, &sel);
    CHECK(st == SPATE_OK, "prepare SELECT by id%s", why(st, spate_cql_client_error(cl)));
    if (st != SPATE_OK) return;
    CHECK(spate_cql_prepared_columns(sel) == 8, "prepared SELECT has 8 result columns (%d)",
          spate_cql_prepared_columns(sel));
    spate_cql_query_t *q = spate_cql_query_new_prepared(sel);
    uint8_t u[16], got[16];
    row_uuid(4321, u);
    spate_cql_query_bind_uuid(q, 0, u);
    spate_cql_answer_t *a = NULL;
    st = spate_cql_client_execute(cl, q, &a);
    CHECK(st == SPATE_OK && spate_cql_answer_kind(a) == SPATE_CQL_ANSWER_ROWS &&
              spate_cql_answer_rows(a) == 1,
          "point read of row 4321%s", why(st, spate_cql_client_error(cl)));
    if (st == SPATE_OK && spate_cql_answer_rows(a) == 1) {
        int32_t n = 0;
        int64_t ts = 0, big = 0;
        double score = 0;
        bool ok = false;
        const char *p = NULL;
        size_t len = 0;
        CHECK(spate_cql_answer_columns(a) == 8 && spate_cql_answer_column_index(a, "score") == 3 &&
                  spate_cql_answer_column_type(a, 5) == SPATE_CQL_TIMESTAMP,
              "columns: 8, names and types");
        CHECK(spate_cql_answer_get_uuid(a, 0, 0, got) == SPATE_OK && memcmp(got, u, 16) == 0,
              "uuid");
        CHECK(spate_cql_answer_get_int(a, 0, 1, &n) == SPATE_OK && n == 4321, "int %d", n);
        CHECK(spate_cql_answer_get_text(a, 0, 2, &p, &len) == SPATE_OK && len == 10 &&
                  memcmp(p, "user-04321", 10) == 0,
              "text");
        CHECK(spate_cql_answer_get_double(a, 0, 3, &score) == SPATE_OK && score == 2160.5,
              "double %g", score);
        CHECK(spate_cql_answer_get_bool(a, 0, 4, &ok) == SPATE_OK && ok, "boolean");
        CHECK(spate_cql_answer_get_bigint(a, 0, 5, &ts) == SPATE_OK && ts == 1700000004321LL,
              "timestamp %lld", (long long)ts);
        CHECK(spate_cql_answer_get_bigint(a, 0, 6, &big) == SPATE_OK &&
                  big == 4321LL * 1000000000LL,
              "bigint");
        int32_t blen;
        const char *b = spate_cql_answer_cell(a, 0, 7, &blen);
        CHECK(b && blen == 4 && memcmp(b, "\xde\xad\xbe\xef", 4) == 0, "blob");
        CHECK(spate_cql_answer_get_int(a, 0, 2, &n) == SPATE_EINVAL, "get_int of text: EINVAL");
        CHECK(spate_cql_answer_get_int(a, 1, 1, &n) == SPATE_ERANGE, "row 1 of 1: ERANGE");
        spate_buf_t txt = SPATE_BUF_INIT;
        spate_cql_answer_cell_text(a, 0, 5, &txt);
        CHECK(txt.data && strcmp(txt.data, "2023-11-14 22:13:24.321000+0000") == 0,
              "timestamp as cqlsh prints it (%s)", txt.data ? txt.data : "");
        spate_buf_free(&txt);
    }
    spate_cql_answer_free(a);
    /* the null name of row 7 */
    row_uuid(7, u);
    spate_cql_query_clear(q);
    spate_cql_query_bind_uuid(q, 0, u);
    st = spate_cql_client_execute(cl, q, &a);
    if (st == SPATE_OK && spate_cql_answer_rows(a) == 1) {
        const char *p;
        size_t len;
        int32_t clen;
        CHECK(spate_cql_answer_get_text(a, 0, 2, &p, &len) == SPATE_ENOENT &&
                  spate_cql_answer_cell(a, 0, 2, &clen) == NULL && clen == -1,
              "a null cell");
    } else {
        CHECK(false, "point read of row 7 (%s)", spate_cql_client_error(cl));
    }
    spate_cql_answer_free(a);
    spate_cql_query_free(q);
}

static void stage_paging(void) {
    spate_cql_query_t *q = spate_cql_query_new("SELECT n FROM users");
    spate_cql_query_set_page_size(q, 100);
    unsigned char *seen = calloc(ROWS, 1);
    int pages = 0, rows = 0, dup = 0, big_page = 0;
    spate_status_t st = SPATE_OK;
    for (;;) {
        spate_cql_answer_t *a = NULL;
        if ((st = spate_cql_client_execute(cl, q, &a)) != SPATE_OK) {
            printf("# page %d: %s\n", pages, spate_cql_client_error(cl));
            spate_cql_answer_free(a);
            break;
        }
        pages++;
        int32_t nrows = spate_cql_answer_rows(a);
        if (nrows > 100) big_page++;
        for (int32_t r = 0; r < nrows; r++) {
            int32_t n = -1;
            if (spate_cql_answer_get_int(a, r, 0, &n) == SPATE_OK && n >= 0 && n < ROWS) {
                if (seen[n]++) dup++;
                rows++;
            }
        }
        bool more = spate_cql_query_next_page(q, a);
        spate_cql_answer_free(a);
        if (!more || pages > 2 * ROWS) break;
    }
    int missing = 0;
    for (int i = 0; i < ROWS; i++) missing += !seen[i];
    CHECK(st == SPATE_OK && rows == ROWS && dup == 0 && missing == 0,
          "paging with page size 100: %d rows in %d pages, %d duplicates, %d missing", rows, pages,
          dup, missing);
    CHECK(st == SPATE_OK && big_page == 0 && pages >= ROWS / 100,
          "no page over 100 rows, at least %d pages", ROWS / 100);
    free(seen);
    spate_cql_query_free(q);
}

static void stage_batch(void) {
    spate_cql_prepared_t *ins = NULL;
    spate_status_t st =
        spate_cql_client_prepare(cl, "INSERT INTO pairs (k, c, v) VALUES (?, ?, ?)", &ins);
    CHECK(st == SPATE_OK, "prepare INSERT INTO pairs%s", why(st, spate_cql_client_error(cl)));
    if (st != SPATE_OK) return;
    spate_cql_query_t *b = spate_cql_batch_new(SPATE_CQL_BATCH_TYPE_LOGGED);
    spate_cql_query_t *q = spate_cql_query_new_prepared(ins);
    for (int c = 0; c < 3; c++) {
        char v[32];
        snprintf(v, sizeof v, "v%d", c);
        spate_cql_query_clear(q);
        spate_cql_query_bind_int(q, 0, 1);
        spate_cql_query_bind_int(q, 1, c);
        spate_cql_query_bind_text(q, 2, v, strlen(v));
        spate_cql_batch_add(b, q);
    }
    spate_cql_query_t *text = spate_cql_query_new("INSERT INTO pairs (k, c, v) VALUES (1, ?, ?)");
    spate_cql_query_bind_int(text, 0, 3);
    spate_cql_query_bind_text(text, 1, "simple", 6);
    CHECK(spate_cql_batch_add(b, text) == SPATE_OK, "simple statement with values added");
    CHECK(spate_cql_batch_add(b, b) == SPATE_EINVAL, "a batch in a batch: EINVAL");
    spate_cql_query_set_timestamp(b, 1700000000000000LL);
    spate_cql_answer_t *a = NULL;
    st = spate_cql_client_execute(cl, b, &a);
    CHECK(st == SPATE_OK && spate_cql_answer_kind(a) == SPATE_CQL_ANSWER_VOID,
          "logged batch of 3 prepared + 1 simple statement%s", why(st, spate_cql_client_error(cl)));
    spate_cql_answer_free(a);
    spate_cql_query_t *u = spate_cql_batch_new(SPATE_CQL_BATCH_TYPE_UNLOGGED);
    for (int c = 0; c < 2; c++) {
        spate_cql_query_clear(q);
        spate_cql_query_bind_int(q, 0, 2);
        spate_cql_query_bind_int(q, 1, c);
        spate_cql_query_bind_text(q, 2, "u", 1);
        spate_cql_batch_add(u, q);
    }
    st = spate_cql_client_execute(cl, u, NULL);
    CHECK(st == SPATE_OK, "unlogged batch%s", why(st, spate_cql_client_error(cl)));
    st = spate_cql_client_query(cl, "SELECT c, v FROM pairs WHERE k = 1", &a);
    bool good = st == SPATE_OK && spate_cql_answer_rows(a) == 4;
    for (int32_t r = 0; good && r < 4; r++) {
        int32_t c = -1;
        const char *p;
        size_t n;
        good = spate_cql_answer_get_int(a, r, 0, &c) == SPATE_OK && c == r &&
               spate_cql_answer_get_text(a, r, 1, &p, &n) == SPATE_OK &&
               (r < 3 ? n == 2 && p[1] == '0' + r : n == 6 && memcmp(p, "simple", 6) == 0);
    }
    CHECK(good, "the batch's 4 rows read back in clustering order%s",
          why(st, spate_cql_client_error(cl)));
    spate_cql_answer_free(a);
    st = spate_cql_client_query(cl, "SELECT writetime(v) FROM pairs WHERE k = 1 AND c = 0", &a);
    int64_t wt = 0;
    CHECK(st == SPATE_OK && spate_cql_answer_get_bigint(a, 0, 0, &wt) == SPATE_OK &&
              wt == 1700000000000000LL,
          "the batch's client timestamp is the write time (%lld)", (long long)wt);
    spate_cql_answer_free(a);
    spate_cql_query_free(b);
    spate_cql_query_free(u);
    spate_cql_query_free(q);
    spate_cql_query_free(text);
}

/* ---- Unprepared: the server keeps 2 prepared statements (the script
 * starts it with max_prepared: 2), so preparing a third drops the first ---- */

static void on_rows(void *ctx, spate_status_t st, spate_cql_answer_t *a) {
    int *good = ctx;
    if (st == SPATE_OK && spate_cql_answer_kind(a) == SPATE_CQL_ANSWER_ROWS) (*good)++;
    spate_cql_answer_free(a);
}

static void stage_unprepared(void) {
    static const char *const text[3] = {"SELECT n FROM users WHERE id = ?",
                                        "SELECT name FROM users WHERE id = ?",
                                        "SELECT score FROM users WHERE id = ?"};
    spate_cql_prepared_t *p[3];
    for (int k = 0; k < 3; k++)
        if (spate_cql_client_prepare(cl, text[k], &p[k]) != SPATE_OK) {
            CHECK(false, "prepare %s (%s)", text[k], spate_cql_client_error(cl));
            return;
        }
    uint8_t u[16];
    row_uuid(1, u);
    int good = 0;
    for (int round = 0; round < 2; round++)
        for (int k = 0; k < 3; k++) { /* each one was dropped by the two before it */
            spate_cql_query_t *q = spate_cql_query_new_prepared(p[k]);
            spate_cql_query_bind_uuid(q, 0, u);
            spate_cql_answer_t *a = NULL;
            if (spate_cql_client_execute(cl, q, &a) == SPATE_OK &&
                spate_cql_answer_kind(a) == SPATE_CQL_ANSWER_ROWS)
                good++;
            else
                printf("# execute %s: %s\n", text[k], spate_cql_client_error(cl));
            spate_cql_answer_free(a);
            spate_cql_query_free(q);
        }
    CHECK(good == 6, "statements the server dropped are prepared again transparently (%d of 6)",
          good);
    /* p[0] is dropped again by these two; then 20 of it in flight at once */
    spate_cql_client_prepare(cl, text[1], &p[1]);
    spate_cql_client_prepare(cl, text[2], &p[2]);
    spate_cql_query_t *q = spate_cql_query_new_prepared(p[0]);
    spate_cql_query_bind_uuid(q, 0, u);
    good = 0;
    for (int i = 0; i < 20; i++) spate_cql_client_submit(cl, q, on_rows, &good);
    spate_cql_client_drain(cl);
    CHECK(good == 20, "async: 20 EXECUTEs answered Unprepared are resent after a new PREPARE (%d)",
          good);
    spate_cql_query_free(q);
}

/* ---- errors ---- */

static void on_error_answer(void *ctx, spate_status_t st, spate_cql_answer_t *a) {
    int32_t *code = ctx;
    *code = st == SPATE_OK ? spate_cql_answer_error_code(a) : -2;
    spate_cql_answer_free(a);
}

static void stage_errors(void) {
    spate_cql_answer_t *a = NULL;
    spate_status_t st = spate_cql_client_query(cl, "SELECT * FROM nosuch", &a);
    size_t n = 0;
    const char *msg = a ? spate_cql_answer_error_message(a, &n) : "";
    CHECK(st == SPATE_ERR && a && spate_cql_answer_kind(a) == SPATE_CQL_ANSWER_ERROR &&
              spate_cql_answer_error_code(a) == 0x2200 && n == 25 &&
              memcmp(msg, "unconfigured table nosuch", 25) == 0,
          "unknown table: ERR, code 0x2200, message '%.*s'", (int)n, msg);
    CHECK(strcmp(spate_cql_client_error(cl),
                 "InvalidRequest (0x2200): unconfigured table nosuch") == 0,
          "client error text '%s'", spate_cql_client_error(cl));
    spate_cql_answer_free(a);
    st = spate_cql_client_query(cl, "SELEC 1", &a);
    CHECK(st == SPATE_ERR && spate_cql_answer_error_code(a) == 0x2000, "syntax error: code 0x2000");
    spate_cql_answer_free(a);
    int32_t code = -1;
    spate_cql_query_t *q = spate_cql_query_new("INSERT INTO nosuch (a) VALUES (?)");
    spate_cql_query_bind_int(q, 0, 1);
    st = spate_cql_client_submit(cl, q, on_error_answer, &code);
    spate_cql_query_free(q); /* the client has its own copy */
    spate_cql_client_drain(cl);
    CHECK(st == SPATE_OK && code == 0x2200, "async: an ERROR answer reaches the completion (0x%x)",
          (unsigned)code);
    spate_cql_prepared_t *p = NULL;
    st = spate_cql_client_prepare(cl, "SELECT * FROM nosuch WHERE id = ?", &p);
    CHECK(st == SPATE_ERR && !p, "prepare of an unknown table: ERR (%s)",
          spate_cql_client_error(cl));
    CHECK(spate_cql_client_use(cl, "nosuchks") == SPATE_ERR &&
              strcmp(spate_cql_client_keyspace(cl), "cc") == 0,
          "USE of a missing keyspace fails and keeps the keyspace");
}

/* ---- v3 negotiation and timeouts, against a fake server ---- */

typedef struct {
    int lfd, port;
    int refused_v4;
} fake_t;

static bool read_full(int fd, void *p, size_t n) {
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, (char *)p + got, n - got);
        if (r <= 0) return false;
        got += (size_t)r;
    }
    return true;
}

static void answer(int fd, uint8_t version, const uint8_t *hdr, uint8_t opcode, const void *body,
                   size_t n) {
    uint8_t h[9] = {(uint8_t)(0x80 | version),
                    0,
                    hdr[2],
                    hdr[3],
                    opcode,
                    (uint8_t)(n >> 24),
                    (uint8_t)(n >> 16),
                    (uint8_t)(n >> 8),
                    (uint8_t)n};
    if (write(fd, h, 9) != 9 || (n && write(fd, body, n) != (ssize_t)n)) return;
}

/* A v3-only server: a v4 frame gets a Protocol error in a v3 frame and
 * the connection is closed; v3 OPTIONS, STARTUP, QUERY (one containing
 * "silent" is never answered), PREPARE (one int marker, v3 metadata: no pk
 * indexes) and EXECUTE are answered. */
static void *fake_server(void *arg) {
    fake_t *f = arg;
    for (;;) {
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0) return NULL;
        uint8_t h[9];
        while (read_full(fd, h, 9)) {
            uint32_t len = (uint32_t)h[5] << 24 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 8 | h[8];
            char *body = malloc(len + 1);
            if (!read_full(fd, body, len)) {
                free(body);
                break;
            }
            bool close_it = false;
            if ((h[0] & 0x7f) != 3) {
                static const char m[] =
                    "Invalid or unsupported protocol version (4); supported versions are (3/v3)";
                uint8_t e[128] = {0, 0, 0, 0x0a, 0, (uint8_t)(sizeof m - 1)};
                memcpy(e + 6, m, sizeof m - 1);
                answer(fd, 3, h, 0x00, e, 6 + sizeof m - 1);
                f->refused_v4++;
                close_it = true;
            } else if (h[4] == 0x05) { /* OPTIONS → SUPPORTED, empty multimap */
                static const uint8_t s[2] = {0, 0};
                answer(fd, 3, h, 0x06, s, 2);
            } else if (h[4] == 0x01) { /* STARTUP → READY */
                answer(fd, 3, h, 0x02, NULL, 0);
            } else if (h[4] == 0x07 && memmem(body, len, "silent", 6)) {
                /* no answer */
            } else if (h[4] == 0x07 || h[4] == 0x0A) { /* QUERY, EXECUTE → Void */
                static const uint8_t v[4] = {0, 0, 0, 1};
                answer(fd, 3, h, 0x08, v, 4);
            } else if (h[4] == 0x09) { /* PREPARE → Prepared, 1 int marker "a" in ks.t */
                static const uint8_t p[] = {
                    0, 0, 0,    4,                  /* kind Prepared */
                    0, 2, 0xab, 0xcd,               /* id */
                    0, 0, 0,    1,    0, 0, 0,   1, /* bind metadata: GLOBAL_TABLES_SPEC, 1 column
                                                     */
                    0, 2, 'k',  's',  0, 1, 't', 0, 1, 'a', 0, 0x09, /* ks.t, "a" int */
                    0, 0, 0,    4,    0, 0, 0,   0}; /* result metadata: NO_METADATA, 0 columns */
                answer(fd, 3, h, 0x08, p, sizeof p);
            }
            free(body);
            if (close_it) break;
        }
        close(fd);
    }
}

static void stage_v3(void) {
    fake_t f = {0};
    f.lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (bind(f.lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(f.lfd, 8) != 0 ||
        getsockname(f.lfd, (struct sockaddr *)&sa, &sl) != 0) {
        CHECK(false, "fake server: %s", strerror(errno));
        return;
    }
    pthread_t th;
    pthread_create(&th, NULL, fake_server, &f);
    pthread_detach(th);
    char cp[64], err[512];
    snprintf(cp, sizeof cp, "127.0.0.1:%d", ntohs(sa.sin_port));
    spate_cql_client_conf_t conf;
    spate_cql_client_conf_default(&conf);
    conf.contact_points = cp;
    conf.request_timeout_ms = 5000;
    spate_cql_client_t *c3 = NULL;
    spate_status_t st = spate_cql_client_connect(&c3, &conf, err, sizeof err);
    CHECK(st == SPATE_OK && spate_cql_client_version(c3) == 3 && f.refused_v4 == 1,
          "v4 refused with a Protocol error: connected in v3%s", why(st, err));
    if (st != SPATE_OK) return;
    spate_cql_prepared_t *p = NULL;
    st = spate_cql_client_prepare(c3, "INSERT INTO ks.t (a) VALUES (?)", &p);
    CHECK(st == SPATE_OK && spate_cql_prepared_params(p) == 1 &&
              spate_cql_prepared_param_type(p, 0) == SPATE_CQL_INT &&
              strcmp(spate_cql_prepared_param_name(p, 0), "a") == 0,
          "a v3 Prepared (no pk indexes) decodes%s", why(st, spate_cql_client_error(c3)));
    if (st == SPATE_OK) {
        spate_cql_query_t *q = spate_cql_query_new_prepared(p);
        CHECK(spate_cql_client_execute(c3, q, NULL) == SPATE_EINVAL,
              "v3: a marker without a value is refused (%s)", spate_cql_client_error(c3));
        spate_cql_query_bind_int(q, 0, 5);
        CHECK(spate_cql_client_execute(c3, q, NULL) == SPATE_OK, "v3: EXECUTE with its value");
        spate_cql_query_free(q);
    }
    spate_cql_query_t *silent = spate_cql_query_new("SELECT silent FROM t");
    spate_cql_query_set_timeout(silent, 300);
    int64_t t0 = spate_mono_ms();
    st = spate_cql_client_execute(c3, silent, NULL);
    int64_t took = spate_mono_ms() - t0;
    CHECK(st == SPATE_ETIMEDOUT && took >= 290 && took < 3000,
          "a request without an answer times out after its 300 ms (%lld ms, %s)", (long long)took,
          spate_cql_client_error(c3));
    CHECK(spate_cql_client_query(c3, "SELECT 1 FROM t", NULL) == SPATE_OK,
          "the connection still works after a timeout");
    spate_cql_query_free(silent);
    spate_cql_client_free(c3);
    conf.protocol_version = 4;
    st = spate_cql_client_connect(&c3, &conf, err, sizeof err);
    CHECK(st != SPATE_OK && !c3 && strstr(err, "ProtocolError (0x000a)"),
          "protocol_version 4 forced: no fallback (%s)", err);
    shutdown(f.lfd, SHUT_RDWR);
}

/* ---- reconnect ---- */

static void on_lost(void *ctx, spate_status_t st, spate_cql_answer_t *a) {
    int *eio = ctx;
    if (st == SPATE_EIO) (*eio)++;
    spate_cql_answer_free(a);
}

static void stage_reconnect(void) {
    spate_cql_prepared_t *sel = NULL;
    if (spate_cql_client_prepare(cl, SELECT_ONE, &sel) != SPATE_OK) {
        CHECK(false, "prepare before the restart (%s)", spate_cql_client_error(cl));
        return;
    }
    printf("PAUSE\n");
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof line, stdin)) {
        CHECK(false, "no go-ahead on stdin");
        return;
    }
    /* Queued, not yet written: they go out on the dead connection. */
    int eio = 0;
    spate_cql_query_t *q = spate_cql_query_new("SELECT n FROM users LIMIT 1");
    for (int i = 0; i < 3; i++) spate_cql_client_submit(cl, q, on_lost, &eio);
    spate_cql_client_drain(cl);
    CHECK(eio == 3 && !spate_cql_client_connected(cl),
          "requests on the dead connection fail with EIO (%d of 3)", eio);
    spate_cql_query_free(q);
    spate_cql_query_t *pq = spate_cql_query_new_prepared(sel);
    uint8_t u[16];
    row_uuid(9999, u);
    spate_cql_query_bind_uuid(pq, 0, u);
    spate_cql_answer_t *a = NULL;
    spate_status_t st = spate_cql_client_execute(cl, pq, &a);
    int32_t n = -1;
    CHECK(st == SPATE_OK && spate_cql_client_connections(cl) == 2,
          "the next request reconnects (connection %llu) and runs the prepared statement%s",
          (unsigned long long)spate_cql_client_connections(cl),
          why(st, spate_cql_client_error(cl)));
    CHECK(st == SPATE_OK && spate_cql_answer_get_int(a, 0, 1, &n) == SPATE_OK && n == 9999,
          "row 9999 survived the restart");
    CHECK(strcmp(spate_cql_client_keyspace(cl), "cc") == 0 &&
              spate_cql_client_query(cl, "SELECT c FROM pairs WHERE k = 2", NULL) == SPATE_OK,
          "the keyspace is USE'd again on the new connection");
    spate_cql_answer_free(a);
    spate_cql_query_free(pq);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: cql_client_check DEAD_HOST:PORT,HOST:PORT\n");
        return 2;
    }
    spate_log_set_level(SPATE_LOG_ERROR);
    spate_cql_client_conf_t conf;
    spate_cql_client_conf_default(&conf);
    conf.contact_points = argv[1];
    conf.max_in_flight = WINDOW;
    conf.connect_timeout_ms = 2000;
    char err[512];
    spate_status_t st = spate_cql_client_connect(&cl, &conf, err, sizeof err);
    CHECK(st == SPATE_OK, "connect past a dead contact point%s", why(st, err));
    if (st != SPATE_OK) return 1;
    const char *live = strchr(argv[1], ',') + 1;
    CHECK(strcmp(spate_cql_client_peer(cl), live) == 0 && spate_cql_client_version(cl) == 4 &&
              spate_cql_client_connections(cl) == 1,
          "connected to %s in v%d", spate_cql_client_peer(cl), spate_cql_client_version(cl));

    CHECK(run("CREATE KEYSPACE IF NOT EXISTS cc WITH replication = "
              "{'class': 'SimpleStrategy', 'replication_factor': 1}"),
          "CREATE KEYSPACE");
    CHECK(spate_cql_client_use(cl, "cc") == SPATE_OK &&
              strcmp(spate_cql_client_keyspace(cl), "cc") == 0,
          "USE cc");
    spate_cql_answer_t *a = NULL;
    st = spate_cql_client_query(cl,
                                "CREATE TABLE users (id uuid PRIMARY KEY, n int, name text, "
                                "score double, ok boolean, ts timestamp, big bigint, data blob)",
                                &a);
    size_t kn = 0;
    const char *ks = a ? spate_cql_answer_keyspace(a, &kn) : NULL;
    CHECK(st == SPATE_OK && spate_cql_answer_kind(a) == SPATE_CQL_ANSWER_SCHEMA_CHANGE && kn == 2 &&
              memcmp(ks, "cc", 2) == 0,
          "CREATE TABLE answers Schema_change in cc%s", why(st, spate_cql_client_error(cl)));
    spate_cql_answer_free(a);
    CHECK(run("CREATE TABLE pairs (k int, c int, v text, PRIMARY KEY (k, c))"),
          "CREATE TABLE pairs");

    stage_prepare_and_async();
    stage_read();
    stage_paging();
    stage_batch();
    stage_unprepared();
    stage_errors();
    stage_v3();
    stage_reconnect();
    spate_cql_client_free(cl);
    printf("%d failed\n", failures);
    return failures ? 1 : 0;
}
