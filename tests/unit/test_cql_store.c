/*
 * test_cql_store.c — unit tests of the CQL storage engine
 * (src/cql/cql_store.c), each in a fresh temporary directory.
 *
 *   open         errors: a locked directory, a damaged one, a file, bad conf
 *   lww          out-of-order timestamps, Cassandra's tie rules, the same
 *                after flush + compaction (merges inside RocksDB)
 *   tombstones   null cells, rows kept alive by the marker or by cells
 *   ttl          expiry and ttl left at a fake `now`, TTL limits
 *   deletions    row / partition deletions against older and newer writes,
 *                superseding deletions arriving out of order
 *   ranges       range tombstones (inclusive, exclusive, DESC, two sharing
 *                a start bound), empty ranges, across compaction
 *   collections  set add / remove, map put / remove, list order by
 *                timeuuid, overwrite and deletion of a whole collection
 *   slices       ASC + DESC clustering, forward and reverse, paging with
 *                positions inside a partition
 *   scan         token order, paging by position, token ranges, count,
 *                static rows
 *   tables       truncate / drop leave other tables alone, meta namespace
 *   reopen       everything survives close + open
 *   sync         BATCH / PERIODIC bookkeeping (fsyncs counted)
 *   garbage      malformed stored bytes are EINVAL, merges skip them
 *   crash        a child (this program re-executed) writes rows in BATCH
 *                mode reporting each synced one on a pipe; SIGKILL at a
 *                random point; every reported row must be there
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <rocksdb/c.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cql_store.h"

/* ------------------------------------------------------------------ */
/* Schemas and values                                                  */
/* ------------------------------------------------------------------ */

static const spate_cql_ktype_t K_INT = {SPATE_CQL_INT, 0, NULL};
static const spate_cql_ktype_t K_TEXT = {SPATE_CQL_VARCHAR, 0, NULL};
static const spate_cql_ktype_t K_TIMEUUID = {SPATE_CQL_TIMEUUID, 0, NULL};
static const spate_cql_kcol_t C_INT = {&K_INT, false};
static const spate_cql_kcol_t T2_CK[] = {{&K_INT, false}, {&K_TEXT, true}};

/* t1 (pk int, ck int, c2 text, c3 text, s5 set<text>, m6 map<text,text>,
 *     l7 list<text>); t2 (pk int, c1 int, c2 text DESC, ...); t3 (pk int
 * PRIMARY KEY, ...); t4 (pk int, ck int, s9 text static, ...) */
static const spate_cql_key_schema_t T1 = {1, 1, &C_INT, 1, &C_INT};
static const spate_cql_key_schema_t T2 = {2, 1, &C_INT, 2, T2_CK};
static const spate_cql_key_schema_t T3 = {3, 1, &C_INT, 0, NULL};
static const spate_cql_key_schema_t T4 = {4, 1, &C_INT, 1, &C_INT};
static const spate_cql_ktype_t *const ELEM_TYPES[8] = {
    [5] = &K_TEXT, [6] = &K_TEXT, [7] = &K_TIMEUUID};

static char ibuf[32][4];
static int ibuf_i;
/* A serialized int (from a ring of buffers: fine for one expression). */
static spate_slice_t I(int32_t v) {
    char *p = ibuf[ibuf_i++ % 32];
    p[0] = (char)((uint32_t)v >> 24);
    p[1] = (char)((uint32_t)v >> 16);
    p[2] = (char)((uint32_t)v >> 8);
    p[3] = (char)v;
    return (spate_slice_t){p, 4};
}
static spate_slice_t S(const char *s) {
    return s ? (spate_slice_t){s, (int32_t)strlen(s)} : (spate_slice_t){NULL, -1};
}

/* A version-1 UUID whose 60-bit time is t. */
static void timeuuid(uint64_t t, uint8_t u[16]) {
    uint32_t lo = (uint32_t)t;
    u[0] = (uint8_t)(lo >> 24), u[1] = (uint8_t)(lo >> 16), u[2] = (uint8_t)(lo >> 8);
    u[3] = (uint8_t)lo;
    u[4] = (uint8_t)(t >> 40), u[5] = (uint8_t)(t >> 32);
    u[6] = (uint8_t)(0x10 | ((t >> 56) & 0x0F)), u[7] = (uint8_t)(t >> 48);
    u[8] = 0x80, u[9] = 0x01;
    for (int i = 10; i < 16; i++) u[i] = 0x11;
}

/* ------------------------------------------------------------------ */
/* Fixture                                                             */
/* ------------------------------------------------------------------ */

typedef struct {
    char dir[64];
    spate_cql_store_t *st;
    spate_cql_mutation_t *m;
} fx_t;

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void fx_open(fx_t *f, const spate_cql_store_conf_t *conf) {
    char err[512] = "";
    spate_status_t rc = spate_cql_store_open(f->dir, conf, &f->st, err, sizeof err);
    if (rc != SPATE_OK) fprintf(stderr, "open: %s\n", err);
    assert_int_equal(rc, SPATE_OK);
    f->m = spate_cql_mutation_new(f->st);
}

static void fx_close(fx_t *f) {
    spate_cql_mutation_free(f->m);
    spate_cql_store_close(f->st);
    f->m = NULL;
    f->st = NULL;
}

static int setup(void **state) {
    fx_t *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/spate-cqlstore-XXXXXX");
    if (mkdtemp(f->dir) == NULL) return -1;
    fx_open(f, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx_t *f = *state;
    fx_close(f);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void apply(fx_t *f) {
    assert_int_equal(spate_cql_store_apply(f->st, f->m), SPATE_OK);
    spate_cql_mutation_clear(f->m);
}

/* One write to row (pk, ck) of s: the marker when marker, and column col
 * (< 0: none) set to val (NULL: a tombstone). */
static void put(fx_t *f, const spate_cql_key_schema_t *s, int32_t pk, const spate_slice_t *ck,
                int64_t ts, int32_t ttl, int64_t now, bool marker, int col, const char *val) {
    spate_slice_t p = I(pk);
    assert_int_equal(spate_cql_mutation_time(f->m, ts, ttl, now), SPATE_OK);
    assert_int_equal(spate_cql_mutation_row(f->m, s, &p, ck), SPATE_OK);
    if (marker) assert_int_equal(spate_cql_mutation_marker(f->m), SPATE_OK);
    if (col >= 0) assert_int_equal(spate_cql_mutation_cell(f->m, (uint16_t)col, S(val)), SPATE_OK);
    apply(f);
}

static void put1(fx_t *f, int32_t pk, int32_t ck, int64_t ts, bool marker, int col,
                 const char *val) {
    spate_slice_t c = I(ck);
    put(f, &T1, pk, &c, ts, 0, 1000, marker, col, val);
}

/* ------------------------------------------------------------------ */
/* Rendering rows: "pk:ck[,ck] [S] [M@ts[~ttl]] cN=value@ts[~ttl] ..."  */
/* ------------------------------------------------------------------ */

static void render_value(spate_buf_t *b, const spate_cql_ktype_t *t, spate_slice_t v) {
    if (t != NULL && t->id == SPATE_CQL_INT && v.len == 4) {
        const uint8_t *p = (const uint8_t *)v.p;
        spate_buf_printf(b, "%d", (int32_t)((uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]));
    } else if (v.p != NULL) {
        spate_buf_append(b, v.p, (size_t)v.len);
    } else {
        spate_buf_puts(b, "null");
    }
}

static void render_row(spate_buf_t *b, const spate_cql_key_schema_t *s,
                       const spate_cql_store_row_t *r) {
    if (b->len) spate_buf_puts(b, " | ");
    render_value(b, s->pk[0].type, r->pk[0]);
    spate_buf_putc(b, ':');
    for (uint16_t i = 0; i < r->nck; i++) {
        if (i) spate_buf_putc(b, ',');
        render_value(b, s->ck[i].type, r->ck[i]);
    }
    if (r->is_static) spate_buf_puts(b, "S");
    if (r->has_marker) {
        spate_buf_printf(b, " M@%lld", (long long)r->marker_writetime);
        if (r->marker_ttl) spate_buf_printf(b, "~%d", r->marker_ttl);
    }
    for (size_t i = 0; i < r->ncells; i++) {
        const spate_cql_store_cell_t *c = &r->cells[i];
        spate_buf_printf(b, " c%u", c->column);
        if (c->has_elem && c->elem.p != NULL && c->column != 7) {
            spate_buf_putc(b, '{');
            render_value(b, NULL, c->elem);
            spate_buf_putc(b, '=');
            render_value(b, NULL, c->value);
            spate_buf_putc(b, '}');
        } else if (c->has_elem) {
            spate_buf_putc(b, '[');
            render_value(b, NULL, c->value);
            spate_buf_putc(b, ']');
        } else {
            spate_buf_putc(b, '=');
            render_value(b, NULL, c->value);
        }
        spate_buf_printf(b, "@%lld", (long long)c->writetime);
        if (c->ttl) spate_buf_printf(b, "~%d", c->ttl);
    }
}

static char dumped[8192];

/* Every row q yields (at most limit when > 0), rendered; the position of
 * the last one appended to pos when pos != NULL. */
static const char *dump_n(fx_t *f, const spate_cql_store_query_t *q, int limit, spate_buf_t *pos) {
    spate_cql_store_iter_t *it;
    assert_int_equal(spate_cql_store_iter_open(f->st, q, &it), SPATE_OK);
    spate_buf_t b = SPATE_BUF_INIT;
    const spate_cql_store_row_t *r;
    spate_status_t rc;
    int n = 0;
    while ((limit <= 0 || n < limit) && (rc = spate_cql_store_iter_next(it, &r)) == SPATE_OK) {
        render_row(&b, q->schema, r);
        n++;
    }
    if (limit <= 0 || n < limit) assert_int_equal(rc, SPATE_ENOENT);
    if (pos != NULL) {
        spate_buf_reset(pos);
        if (n > 0) assert_int_equal(spate_cql_store_iter_position(it, pos), SPATE_OK);
    }
    spate_cql_store_iter_free(it);
    snprintf(dumped, sizeof dumped, "%s", b.len ? b.data : "");
    spate_buf_free(&b);
    return dumped;
}

static const char *dump(fx_t *f, const spate_cql_store_query_t *q) { return dump_n(f, q, 0, NULL); }

static spate_slice_t qpk;
static spate_cql_store_query_t pq(const spate_cql_key_schema_t *s, int32_t pk, int64_t now) {
    qpk = I(pk);
    spate_cql_store_query_t q = {.schema = s, .now = now, .pk = &qpk};
    q.elem_types = ELEM_TYPES;
    q.nelem_types = 8;
    return q;
}

static const char *dump_part(fx_t *f, const spate_cql_key_schema_t *s, int32_t pk, int64_t now) {
    spate_cql_store_query_t q = pq(s, pk, now);
    return dump(f, &q);
}

/* ------------------------------------------------------------------ */
/* Open                                                                */
/* ------------------------------------------------------------------ */

static void test_open_errors(void **state) {
    fx_t *f = *state;
    char err[512] = "";
    spate_cql_store_t *st2 = (spate_cql_store_t *)1;

    /* the fixture holds the directory open */
    assert_int_equal(spate_cql_store_open(f->dir, NULL, &st2, err, sizeof err), SPATE_EIO);
    assert_null(st2);
    assert_non_null(strstr(err, f->dir));
    assert_non_null(strcasestr(err, "lock"));

    put1(f, 1, 1, 10, true, 2, "kept");
    fx_close(f);

    /* a damaged directory: CURRENT names no manifest */
    char p[128];
    snprintf(p, sizeof p, "%s/CURRENT", f->dir);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs("MANIFEST-999999\n", fp);
    fclose(fp);
    err[0] = '\0';
    assert_int_equal(spate_cql_store_open(f->dir, NULL, &st2, err, sizeof err), SPATE_EIO);
    assert_null(st2);
    assert_non_null(strstr(err, "cannot open"));
    assert_non_null(strstr(err, "MANIFEST-999999"));

    /* a regular file where the directory should be */
    snprintf(p, sizeof p, "%s/afile", f->dir);
    fp = fopen(p, "w");
    assert_non_null(fp);
    fclose(fp);
    err[0] = '\0';
    assert_int_equal(spate_cql_store_open(p, NULL, &st2, err, sizeof err), SPATE_EIO);
    assert_true(strlen(err) > strlen(p));

    spate_cql_store_conf_t bad = {.sync_mode = 7};
    assert_int_equal(spate_cql_store_open(f->dir, &bad, &st2, err, sizeof err), SPATE_EINVAL);
    assert_int_equal(spate_cql_store_open(NULL, NULL, &st2, NULL, 0), SPATE_EINVAL);

    /* start again in a clean directory for the teardown */
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    assert_int_equal(mkdir(f->dir, 0700), 0);
    fx_open(f, NULL);
    assert_string_equal(dump_part(f, &T1, 1, 1000), "");
}

/* ------------------------------------------------------------------ */
/* Last write wins                                                     */
/* ------------------------------------------------------------------ */

static void test_lww(void **state) {
    fx_t *f = *state;
    /* newer first, older later: the older is ignored */
    put1(f, 1, 1, 20, false, 2, "new");
    put1(f, 1, 1, 10, false, 2, "old");
    assert_string_equal(dump_part(f, &T1, 1, 1000), "1:1 c2=new@20");

    /* equal timestamps: the greater value bytes, whatever the order */
    put1(f, 2, 1, 30, false, 2, "aaa");
    put1(f, 2, 1, 30, false, 2, "bbb");
    put1(f, 2, 1, 30, false, 2, "abc");
    assert_string_equal(dump_part(f, &T1, 2, 1000), "2:1 c2=bbb@30");

    /* equal timestamps: a tombstone beats a live cell, in both orders */
    put1(f, 3, 1, 40, true, 2, "zzz");
    put1(f, 3, 1, 40, false, 2, NULL);
    put1(f, 3, 2, 40, true, 2, NULL);
    put1(f, 3, 2, 40, false, 2, "zzz");
    assert_string_equal(dump_part(f, &T1, 3, 1000), "3:1 M@40 | 3:2 M@40");

    /* equal timestamps: an expiring cell beats a live one */
    spate_slice_t c1 = I(1);
    put(f, &T1, 4, &c1, 50, 0, 1000, false, 2, "x");
    put(f, &T1, 4, &c1, 50, 100, 1000, false, 2, "x");
    put(f, &T1, 4, &c1, 50, 0, 1000, false, 2, "x");
    assert_string_equal(dump_part(f, &T1, 4, 1000), "4:1 c2=x@50~100");

    /* across SST files and compaction (full and partial merges there) */
    put1(f, 5, 1, 70, false, 2, "seventy");
    assert_int_equal(spate_cql_store_flush(f->st), SPATE_OK);
    put1(f, 5, 1, 60, false, 2, "sixty");
    put1(f, 5, 1, 65, false, 2, "sixty-five");
    assert_int_equal(spate_cql_store_flush(f->st), SPATE_OK);
    put1(f, 5, 1, 69, false, 2, "sixty-nine");
    assert_string_equal(dump_part(f, &T1, 5, 1000), "5:1 c2=seventy@70");
    assert_int_equal(spate_cql_store_compact(f->st), SPATE_OK);
    assert_string_equal(dump_part(f, &T1, 5, 1000), "5:1 c2=seventy@70");
    assert_string_equal(dump_part(f, &T1, 1, 1000), "1:1 c2=new@20");
    assert_string_equal(dump_part(f, &T1, 2, 1000), "2:1 c2=bbb@30");
    assert_string_equal(dump_part(f, &T1, 3, 1000), "3:1 M@40 | 3:2 M@40");
    put1(f, 5, 1, 71, false, 2, "seventy-one");
    assert_string_equal(dump_part(f, &T1, 5, 1000), "5:1 c2=seventy-one@71");

    /* a hot cell: hundreds of operands, some merged at write time */
    for (int i = 0; i < 300; i++) {
        char v[16];
        snprintf(v, sizeof v, "v%d", i);
        put1(f, 6, 1, i % 2 ? 1000 + i : 2000 - i, false, 2, v);
    }
    assert_string_equal(dump_part(f, &T1, 6, 1000), "6:1 c2=v0@2000");
}

static void test_tombstone_cells(void **state) {
    fx_t *f = *state;
    /* INSERT with a null column: the marker keeps the row */
    put1(f, 1, 1, 10, true, 2, NULL);
    assert_string_equal(dump_part(f, &T1, 1, 1000), "1:1 M@10");
    /* UPDATE-only row whose only cell is then nulled: the row is gone */
    put1(f, 2, 1, 10, false, 2, "a");
    put1(f, 2, 1, 10, false, 3, "b");
    assert_string_equal(dump_part(f, &T1, 2, 1000), "2:1 c2=a@10 c3=b@10");
    put1(f, 2, 1, 11, false, 2, NULL);
    assert_string_equal(dump_part(f, &T1, 2, 1000), "2:1 c3=b@10");
    put1(f, 2, 1, 11, false, 3, NULL);
    assert_string_equal(dump_part(f, &T1, 2, 1000), "");
    /* an empty value is a value, not a null */
    put1(f, 3, 1, 10, false, 2, "");
    assert_string_equal(dump_part(f, &T1, 3, 1000), "3:1 c2=@10");
}

static void test_ttl(void **state) {
    fx_t *f = *state;
    spate_slice_t c1 = I(1), c2 = I(2);
    /* INSERT ... USING TTL 10 at now=1000, then c3 without TTL */
    put(f, &T1, 1, &c1, 10, 10, 1000, true, 2, "short");
    put(f, &T1, 1, &c1, 10, 0, 1000, false, 3, "long");
    put(f, &T1, 1, &c2, 10, 10, 1000, true, 2, "gone");
    assert_string_equal(dump_part(f, &T1, 1, 1000),
                        "1:1 M@10~10 c2=short@10~10 c3=long@10 | 1:2 M@10~10 c2=gone@10~10");
    assert_string_equal(dump_part(f, &T1, 1, 1009),
                        "1:1 M@10~1 c2=short@10~1 c3=long@10 | 1:2 M@10~1 c2=gone@10~1");
    /* expired at exactly now + ttl; the row lives on through c3 */
    assert_string_equal(dump_part(f, &T1, 1, 1010), "1:1 c3=long@10");

    /* an expiring cell loses to a newer live write, not to an older one */
    put(f, &T1, 2, &c1, 20, 5, 1000, false, 2, "ttl");
    put(f, &T1, 2, &c1, 19, 0, 1000, false, 2, "older");
    assert_string_equal(dump_part(f, &T1, 2, 1006), "");
    put(f, &T1, 2, &c1, 21, 0, 1000, false, 2, "newer");
    assert_string_equal(dump_part(f, &T1, 2, 1006), "2:1 c2=newer@21");

    /* limits */
    assert_int_equal(spate_cql_mutation_time(f->m, 1, SPATE_CQL_STORE_MAX_TTL + 1, 1000),
                     SPATE_ERANGE);
    assert_int_equal(spate_cql_mutation_time(f->m, 1, -1, 1000), SPATE_ERANGE);
    assert_int_equal(spate_cql_mutation_time(f->m, 1, 100, INT32_MAX - 50), SPATE_ERANGE);
    assert_int_equal(spate_cql_mutation_time(f->m, 1, 100, -1), SPATE_ERANGE);
    assert_int_equal(spate_cql_mutation_time(f->m, INT64_MIN, 0, 1000), SPATE_EINVAL);
    assert_int_equal(spate_cql_mutation_time(f->m, 1, SPATE_CQL_STORE_MAX_TTL, 1000), SPATE_OK);
}

/* ------------------------------------------------------------------ */
/* Deletions                                                           */
/* ------------------------------------------------------------------ */

static void test_row_partition_deletion(void **state) {
    fx_t *f = *state;
    for (int i = 1; i <= 3; i++) put1(f, 1, i, 10, true, 2, "v");
    spate_slice_t pk = I(1), c2 = I(2);

    /* DELETE FROM t1 WHERE pk = 1 AND ck = 2 USING TIMESTAMP 20 */
    assert_int_equal(spate_cql_mutation_time(f->m, 20, 0, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_row(f->m, &T1, &pk, &c2), SPATE_OK);
    assert_int_equal(spate_cql_mutation_row_delete(f->m), SPATE_OK);
    apply(f);
    assert_string_equal(dump_part(f, &T1, 1, 1000), "1:1 M@10 c2=v@10 | 1:3 M@10 c2=v@10");
    /* an older marker stays dead, a newer cell brings the row back */
    put1(f, 1, 2, 15, true, -1, NULL);
    put1(f, 1, 2, 30, false, 3, "back");
    assert_string_equal(dump_part(f, &T1, 1, 1000),
                        "1:1 M@10 c2=v@10 | 1:2 c3=back@30 | 1:3 M@10 c2=v@10");

    /* partition deletions: a newer one arrives first */
    assert_int_equal(spate_cql_mutation_time(f->m, 45, 0, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_partition(f->m, &T1, &pk), SPATE_OK);
    assert_int_equal(spate_cql_mutation_partition_delete(f->m), SPATE_OK);
    apply(f);
    assert_int_equal(spate_cql_mutation_time(f->m, 35, 0, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_partition(f->m, &T1, &pk), SPATE_OK);
    assert_int_equal(spate_cql_mutation_partition_delete(f->m), SPATE_OK);
    apply(f);
    assert_string_equal(dump_part(f, &T1, 1, 1000), "");
    put1(f, 1, 1, 42, false, 2, "shadowed");
    put1(f, 1, 1, 45, false, 3, "tie-loses");
    put1(f, 1, 3, 50, false, 2, "after");
    assert_string_equal(dump_part(f, &T1, 1, 1000), "1:3 c2=after@50");
    assert_int_equal(spate_cql_store_flush(f->st), SPATE_OK);
    assert_int_equal(spate_cql_store_compact(f->st), SPATE_OK);
    assert_string_equal(dump_part(f, &T1, 1, 1000), "1:3 c2=after@50");

    /* row deletions arriving out of order keep the newest */
    put1(f, 2, 1, 10, true, -1, NULL);
    spate_slice_t p2 = I(2), c1 = I(1);
    int64_t order[] = {40, 20};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(spate_cql_mutation_time(f->m, order[i], 0, 1000), SPATE_OK);
        assert_int_equal(spate_cql_mutation_row(f->m, &T1, &p2, &c1), SPATE_OK);
        assert_int_equal(spate_cql_mutation_row_delete(f->m), SPATE_OK);
        apply(f);
    }
    put1(f, 2, 1, 30, true, -1, NULL);
    assert_string_equal(dump_part(f, &T1, 2, 1000), "");
    put1(f, 2, 1, 41, true, -1, NULL);
    assert_string_equal(dump_part(f, &T1, 2, 1000), "2:1 M@41");

    /* writes need a target and a time */
    spate_cql_mutation_clear(f->m);
    assert_int_equal(spate_cql_mutation_cell(f->m, 2, S("x")), SPATE_EINVAL);
    assert_int_equal(spate_cql_mutation_row(f->m, &T1, &p2, &c1), SPATE_OK);
    assert_int_equal(spate_cql_mutation_marker(f->m), SPATE_EINVAL);
    assert_int_equal(spate_cql_mutation_partition_delete(f->m), SPATE_EINVAL);
    spate_cql_key_schema_t meta = T1;
    meta.table_id = SPATE_CQL_STORE_META_TABLE;
    assert_int_equal(spate_cql_mutation_partition(f->m, &meta, &p2), SPATE_EINVAL);
    assert_int_equal(spate_cql_mutation_count(f->m), 0);
    assert_int_equal(spate_cql_store_apply(f->st, f->m), SPATE_OK); /* empty: a no-op */
}

static void range_delete(fx_t *f, const spate_cql_key_schema_t *s, int32_t pk, int64_t ts,
                         const spate_slice_t *ck, uint16_t neq, const spate_cql_kslice_t *start,
                         const spate_cql_kslice_t *end) {
    spate_slice_t p = I(pk);
    assert_int_equal(spate_cql_mutation_time(f->m, ts, 0, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_partition(f->m, s, &p), SPATE_OK);
    assert_int_equal(spate_cql_mutation_range_delete(f->m, ck, neq, start, end), SPATE_OK);
    apply(f);
}

static void test_range_tombstones(void **state) {
    fx_t *f = *state;
    for (int pk = 1; pk <= 3; pk++)
        for (int i = 1; i <= 6; i++) put1(f, pk, i, 5, true, -1, NULL);

    /* ck >= 2 AND ck < 4 */
    spate_cql_kslice_t ge2 = {true, I(2)}, lt4 = {false, I(4)};
    range_delete(f, &T1, 1, 10, NULL, 0, &ge2, &lt4);
    assert_string_equal(dump_part(f, &T1, 1, 1000), "1:1 M@5 | 1:4 M@5 | 1:5 M@5 | 1:6 M@5");

    /* two tombstones with one start bound: ck < 5 @10, ck < 3 @20 */
    spate_cql_kslice_t lt5 = {false, I(5)}, lt3 = {false, I(3)};
    range_delete(f, &T1, 2, 10, NULL, 0, NULL, &lt5);
    assert_int_equal(spate_cql_store_flush(f->st), SPATE_OK);
    range_delete(f, &T1, 2, 20, NULL, 0, NULL, &lt3);
    put1(f, 2, 2, 15, false, 2, "under-20");
    put1(f, 2, 4, 15, false, 2, "over-10");
    const char *want = "2:4 c2=over-10@15 | 2:5 M@5 | 2:6 M@5";
    assert_string_equal(dump_part(f, &T1, 2, 1000), want);
    /* the same tombstones again, older: nothing changes */
    range_delete(f, &T1, 2, 9, NULL, 0, NULL, &lt5);
    range_delete(f, &T1, 2, 19, NULL, 0, NULL, &lt3);
    assert_string_equal(dump_part(f, &T1, 2, 1000), want);
    assert_int_equal(spate_cql_store_compact(f->st), SPATE_OK);
    assert_string_equal(dump_part(f, &T1, 2, 1000), want);
    spate_cql_store_query_t q = pq(&T1, 2, 1000);
    q.reverse = true;
    assert_string_equal(dump(f, &q), "2:6 M@5 | 2:5 M@5 | 2:4 c2=over-10@15");

    /* ck > 5 (exclusive start), and an empty range, which writes nothing */
    spate_cql_kslice_t gt5 = {false, I(5)}, lt2 = {false, I(2)};
    range_delete(f, &T1, 3, 10, NULL, 0, &gt5, NULL);
    spate_slice_t p3 = I(3);
    assert_int_equal(spate_cql_mutation_time(f->m, 10, 0, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_partition(f->m, &T1, &p3), SPATE_OK);
    assert_int_equal(spate_cql_mutation_range_delete(f->m, NULL, 0, &gt5, &lt2), SPATE_OK);
    assert_int_equal(spate_cql_mutation_count(f->m), 0);
    assert_string_equal(dump_part(f, &T1, 3, 1000),
                        "3:1 M@5 | 3:2 M@5 | 3:3 M@5 | 3:4 M@5 | 3:5 M@5");

    /* DESC column: c1 = 1 AND c2 > 'b' deletes 'c' and 'd' only */
    const char *c2s[] = {"a", "b", "c", "d"};
    for (int c1 = 1; c1 <= 2; c1++)
        for (int i = 0; i < 4; i++) {
            spate_slice_t ck[2] = {I(c1), S(c2s[i])};
            put(f, &T2, 7, ck, 5, 0, 1000, true, -1, NULL);
        }
    spate_slice_t eq1 = I(1);
    spate_cql_kslice_t gtb = {false, S("b")};
    range_delete(f, &T2, 7, 10, &eq1, 1, &gtb, NULL);
    assert_string_equal(dump_part(f, &T2, 7, 1000),
                        "7:1,b M@5 | 7:1,a M@5 | 7:2,d M@5 | 7:2,c M@5 | 7:2,b M@5 | 7:2,a M@5");
    /* c1 = 2 AND c2 <= 'b' AND c2 >= 'b', and a whole-clustering range
     * (a row deletion) */
    spate_slice_t eq2 = I(2);
    spate_cql_kslice_t geb = {true, S("b")}, leb = {true, S("b")};
    range_delete(f, &T2, 7, 10, &eq2, 1, &geb, &leb);
    spate_slice_t full[2] = {I(2), S("d")};
    range_delete(f, &T2, 7, 10, full, 2, NULL, NULL);
    assert_string_equal(dump_part(f, &T2, 7, 1000),
                        "7:1,b M@5 | 7:1,a M@5 | 7:2,c M@5 | 7:2,a M@5");
}

/* ------------------------------------------------------------------ */
/* Collections                                                         */
/* ------------------------------------------------------------------ */

static void elem(fx_t *f, int32_t pk, int64_t ts, uint16_t col, const spate_cql_ktype_t *t,
                 spate_slice_t e, const char *val) {
    spate_slice_t p = I(pk), c = I(1);
    assert_int_equal(spate_cql_mutation_time(f->m, ts, 0, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_row(f->m, &T1, &p, &c), SPATE_OK);
    assert_int_equal(spate_cql_mutation_elem(f->m, col, t, e, S(val)), SPATE_OK);
    apply(f);
}

static void test_collections(void **state) {
    fx_t *f = *state;
    put1(f, 1, 1, 1, true, -1, NULL);
    /* set: s5 = s5 + {'b', 'a'}; - {'a'} newer; + {'a'} older than that */
    elem(f, 1, 10, 5, &K_TEXT, S("b"), "");
    elem(f, 1, 10, 5, &K_TEXT, S("a"), "");
    assert_string_equal(dump_part(f, &T1, 1, 1000), "1:1 M@1 c5{a=}@10 c5{b=}@10");
    elem(f, 1, 20, 5, &K_TEXT, S("a"), NULL);
    elem(f, 1, 15, 5, &K_TEXT, S("a"), "");
    assert_string_equal(dump_part(f, &T1, 1, 1000), "1:1 M@1 c5{b=}@10");

    /* map: put k1, k2; remove k1; overwrite k2 */
    elem(f, 1, 10, 6, &K_TEXT, S("k2"), "v2");
    elem(f, 1, 10, 6, &K_TEXT, S("k1"), "v1");
    elem(f, 1, 20, 6, &K_TEXT, S("k1"), NULL);
    elem(f, 1, 30, 6, &K_TEXT, S("k2"), "v3");
    assert_string_equal(dump_part(f, &T1, 1, 1000), "1:1 M@1 c5{b=}@10 c6{k2=v3}@30");

    /* list: appends order by their timeuuids, not by arrival */
    uint8_t u[3][16];
    const char *vals[] = {"x", "y", "z"};
    for (int i = 0; i < 3; i++) timeuuid(0x1E0000000000000ULL + (uint64_t)i * 1000, u[i]);
    for (int i = 2; i >= 0; i--)
        elem(f, 1, 10, 7, &K_TIMEUUID, (spate_slice_t){(const char *)u[i], 16}, vals[i]);
    assert_string_equal(dump_part(f, &T1, 1, 1000),
                        "1:1 M@1 c5{b=}@10 c6{k2=v3}@30 c7[x]@10 c7[y]@10 c7[z]@10");
    /* the decoded element is the timeuuid itself */
    spate_cql_store_query_t q = pq(&T1, 1, 1000);
    spate_cql_store_iter_t *it;
    const spate_cql_store_row_t *r;
    assert_int_equal(spate_cql_store_iter_open(f->st, &q, &it), SPATE_OK);
    assert_int_equal(spate_cql_store_iter_next(it, &r), SPATE_OK);
    assert_int_equal(r->ncells, 5);
    assert_int_equal(r->cells[2].elem.len, 16);
    assert_memory_equal(r->cells[2].elem.p, u[0], 16);
    assert_true(r->cells[2].elem_key.len > 16); /* the encoded form */
    assert_int_equal(spate_cql_store_iter_next(it, &r), SPATE_ENOENT);
    spate_cql_store_iter_free(it);
    /* without elem_types the element is left encoded */
    q.elem_types = NULL;
    assert_int_equal(spate_cql_store_iter_open(f->st, &q, &it), SPATE_OK);
    assert_int_equal(spate_cql_store_iter_next(it, &r), SPATE_OK);
    assert_null(r->cells[0].elem.p);
    assert_true(r->cells[0].has_elem && r->cells[0].elem_key.len > 0);
    spate_cql_store_iter_free(it);

    /* s5 = {'c'} at 40: tombstone at 39, then the element at 40 */
    spate_slice_t p = I(1), c = I(1);
    assert_int_equal(spate_cql_mutation_time(f->m, 40, 0, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_row(f->m, &T1, &p, &c), SPATE_OK);
    assert_int_equal(spate_cql_mutation_collection_delete(f->m, 5, true), SPATE_OK);
    assert_int_equal(spate_cql_mutation_elem(f->m, 5, &K_TEXT, S("c"), S("")), SPATE_OK);
    apply(f);
    /* an element written at 39 is covered by the overwrite's tombstone */
    elem(f, 1, 39, 5, &K_TEXT, S("d"), "");
    assert_string_equal(dump_part(f, &T1, 1, 1000),
                        "1:1 M@1 c5{c=}@40 c6{k2=v3}@30 c7[x]@10 c7[y]@10 c7[z]@10");

    /* DELETE m6, l7 at 50: gone, the row lives on through its marker */
    assert_int_equal(spate_cql_mutation_time(f->m, 50, 0, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_row(f->m, &T1, &p, &c), SPATE_OK);
    assert_int_equal(spate_cql_mutation_collection_delete(f->m, 6, false), SPATE_OK);
    assert_int_equal(spate_cql_mutation_collection_delete(f->m, 7, false), SPATE_OK);
    apply(f);
    assert_string_equal(dump_part(f, &T1, 1, 1000), "1:1 M@1 c5{c=}@40");
    elem(f, 1, 51, 6, &K_TEXT, S("k9"), "v9");
    q = pq(&T1, 1, 1000);
    q.reverse = true;
    assert_string_equal(dump(f, &q), "1:1 M@1 c5{c=}@40 c6{k9=v9}@51");
}

/* ------------------------------------------------------------------ */
/* Row units: a row's marker and plain cells as one stored value       */
/* ------------------------------------------------------------------ */

/* INSERT INTO t1 (pk, ck, c2, c3[, c4]) at ts: marker and cells in one
 * mutation (c4 skipped when NULL). */
static void insert_row(fx_t *f, int32_t pk, int32_t ck, int64_t ts, const char *c2, const char *c3,
                       const char *c4) {
    spate_slice_t p = I(pk), c = I(ck);
    assert_int_equal(spate_cql_mutation_time(f->m, ts, 0, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_row(f->m, &T1, &p, &c), SPATE_OK);
    assert_int_equal(spate_cql_mutation_marker(f->m), SPATE_OK);
    assert_int_equal(spate_cql_mutation_cell(f->m, 2, S(c2)), SPATE_OK);
    assert_int_equal(spate_cql_mutation_cell(f->m, 3, S(c3)), SPATE_OK);
    if (c4 != NULL) assert_int_equal(spate_cql_mutation_cell(f->m, 4, S(c4)), SPATE_OK);
    apply(f);
}

static void test_row_units(void **state) {
    fx_t *f = *state;
    spate_slice_t p = I(1), c1 = I(1), c2 = I(2);

    /* A whole INSERT is one write; its size is known before apply. */
    assert_int_equal(spate_cql_mutation_time(f->m, 10, 0, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_row(f->m, &T1, &p, &c1), SPATE_OK);
    assert_int_equal(spate_cql_mutation_marker(f->m), SPATE_OK);
    assert_int_equal(spate_cql_mutation_count(f->m), 1);
    size_t one = spate_cql_mutation_bytes(f->m);
    assert_int_equal(spate_cql_mutation_cell(f->m, 3, S("three")), SPATE_OK);
    assert_int_equal(spate_cql_mutation_cell(f->m, 2, S("two")), SPATE_OK); /* out of order */
    assert_int_equal(spate_cql_mutation_cell(f->m, 4, S(NULL)), SPATE_OK);
    assert_int_equal(spate_cql_mutation_count(f->m), 1);
    size_t before = spate_cql_mutation_bytes(f->m);
    assert_true(before > one + 3 * 9);
    assert_int_equal(spate_cql_store_apply(f->st, f->m), SPATE_OK);
    /* apply leaves the mutation as it was: same count, same bytes */
    assert_int_equal(spate_cql_mutation_count(f->m), 1);
    assert_int_equal(spate_cql_mutation_bytes(f->m), before);
    spate_cql_mutation_clear(f->m);
    assert_int_equal(spate_cql_mutation_count(f->m), 0);
    assert_int_equal(spate_cql_mutation_bytes(f->m), 12); /* an empty WriteBatch's header */
    assert_string_equal(dump_part(f, &T1, 1, 1000), "1:1 M@10 c2=two@10 c3=three@10");

    /* Cells written alone later (UPDATE) reconcile with the unit's, both
     * ways, forward and reverse, in memtables, SST files and after
     * compaction. */
    put1(f, 1, 1, 20, false, 3, "three-b"); /* newer: wins */
    put1(f, 1, 1, 5, false, 2, "two-old");  /* older: loses */
    put1(f, 1, 1, 15, false, 4, "four");    /* over the unit's tombstone at 10 */
    insert_row(f, 1, 2, 30, "x", "y", NULL);
    const char *want = "1:1 M@10 c2=two@10 c3=three-b@20 c4=four@15 | 1:2 M@30 c2=x@30 c3=y@30";
    const char *want_rev = "1:2 M@30 c2=x@30 c3=y@30 | 1:1 M@10 c2=two@10 c3=three-b@20 c4=four@15";
    spate_cql_store_query_t q = pq(&T1, 1, 1000);
    for (int round = 0; round < 3; round++) {
        q = pq(&T1, 1, 1000);
        assert_string_equal(dump(f, &q), want);
        q.reverse = true;
        assert_string_equal(dump(f, &q), want_rev);
        /* a slice of one row, both directions */
        q = pq(&T1, 1, 1000);
        q.ck = &c1;
        q.neq = 1;
        assert_string_equal(dump(f, &q), "1:1 M@10 c2=two@10 c3=three-b@20 c4=four@15");
        q.reverse = true;
        assert_string_equal(dump(f, &q), "1:1 M@10 c2=two@10 c3=three-b@20 c4=four@15");
        /* a scan */
        spate_cql_store_query_t sq = {.schema = &T1, .now = 1000};
        assert_string_equal(dump(f, &sq), want);
        assert_int_equal(round < 1 ? spate_cql_store_flush(f->st) : spate_cql_store_compact(f->st),
                         SPATE_OK);
    }
    /* A newer INSERT's unit wins over the lone cells. */
    insert_row(f, 1, 1, 40, "two-c", "three-c", NULL);
    assert_string_equal(dump_part(f, &T1, 1, 1000),
                        "1:1 M@40 c2=two-c@40 c3=three-c@40 c4=four@15 | 1:2 M@30 c2=x@30 c3=y@30");
    /* A row deletion covers the unit's cells at or below it. */
    assert_int_equal(spate_cql_mutation_time(f->m, 40, 0, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_row(f->m, &T1, &p, &c2), SPATE_OK);
    assert_int_equal(spate_cql_mutation_row_delete(f->m), SPATE_OK);
    apply(f);
    assert_string_equal(dump_part(f, &T1, 1, 1000),
                        "1:1 M@40 c2=two-c@40 c3=three-c@40 c4=four@15");
    /* the same through point reads (the row deletion looked up by Get) */
    q = pq(&T1, 1, 1000);
    q.ck = &c2;
    q.neq = 1;
    assert_string_equal(dump(f, &q), "");
    q.ck = &c1;
    q.reverse = true;
    assert_string_equal(dump(f, &q), "1:1 M@40 c2=two-c@40 c3=three-c@40 c4=four@15");
    /* a table without clustering columns: the row is the partition */
    /* (own bytes: I()'s buffers rotate under c1 and c2) */
    char pk9[2][4] = {{0, 0, 0, 9}, {0, 0, 0, 10}};
    for (int i = 0; i < 2; i++) {
        spate_slice_t p9 = {pk9[i], 4};
        assert_int_equal(spate_cql_mutation_time(f->m, 80, 0, 1000), SPATE_OK);
        assert_int_equal(spate_cql_mutation_row(f->m, &T3, &p9, NULL), SPATE_OK);
        assert_int_equal(spate_cql_mutation_marker(f->m), SPATE_OK);
        assert_int_equal(spate_cql_mutation_cell(f->m, 2, S("t3")), SPATE_OK);
        apply(f);
        assert_string_equal(dump_part(f, &T3, 9 + i, 1000),
                            i ? "10: M@80 c2=t3@80" : "9: M@80 c2=t3@80");
        assert_int_equal(spate_cql_mutation_time(f->m, 80, 0, 1000), SPATE_OK);
        assert_int_equal(spate_cql_mutation_row(f->m, &T3, &p9, NULL), SPATE_OK);
        assert_int_equal(spate_cql_mutation_row_delete(f->m), SPATE_OK);
        apply(f);
        assert_string_equal(dump_part(f, &T3, 9 + i, 1000), "");
        assert_int_equal(spate_cql_store_flush(f->st), SPATE_OK);
        assert_string_equal(dump_part(f, &T3, 9 + i, 1000), "");
    }
    c1 = I(1);
    c2 = I(2);

    /* One mutation, one column twice: the reconcile winner (ties: the
     * greater value, then a tombstone). */
    p = I(2);
    assert_int_equal(spate_cql_mutation_time(f->m, 50, 0, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_row(f->m, &T1, &p, &c1), SPATE_OK);
    assert_int_equal(spate_cql_mutation_marker(f->m), SPATE_OK);
    assert_int_equal(spate_cql_mutation_cell(f->m, 2, S("b")), SPATE_OK);
    assert_int_equal(spate_cql_mutation_cell(f->m, 2, S("a")), SPATE_OK);
    assert_int_equal(spate_cql_mutation_cell(f->m, 3, S("c")), SPATE_OK);
    assert_int_equal(spate_cql_mutation_cell(f->m, 3, S(NULL)), SPATE_OK);
    assert_int_equal(spate_cql_mutation_time(f->m, 49, 0, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_cell(f->m, 4, S("old")), SPATE_OK);
    assert_int_equal(spate_cql_mutation_time(f->m, 51, 0, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_cell(f->m, 4, S("new")), SPATE_OK);
    assert_int_equal(spate_cql_mutation_cell(f->m, 4, S("aaa")), SPATE_OK);
    assert_int_equal(spate_cql_mutation_count(f->m), 1);
    apply(f);
    assert_string_equal(dump_part(f, &T1, 2, 1000), "2:1 M@50 c2=b@50 c4=new@51");

    /* A batch over several rows: one write per row run; collection
     * elements and statics stay separate keys. The set overwrite's
     * tombstone (s5 at ts - 1) goes into the unit, the element does not. */
    p = I(3);
    assert_int_equal(spate_cql_mutation_time(f->m, 60, 0, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_row(f->m, &T1, &p, &c1), SPATE_OK);
    assert_int_equal(spate_cql_mutation_marker(f->m), SPATE_OK);
    assert_int_equal(spate_cql_mutation_cell(f->m, 2, S("r1")), SPATE_OK);
    assert_int_equal(spate_cql_mutation_row(f->m, &T1, &p, &c2), SPATE_OK);
    assert_int_equal(spate_cql_mutation_marker(f->m), SPATE_OK);
    assert_int_equal(spate_cql_mutation_cell(f->m, 2, S("r2")), SPATE_OK);
    assert_int_equal(spate_cql_mutation_row(f->m, &T1, &p, &c1), SPATE_OK);
    assert_int_equal(spate_cql_mutation_cell(f->m, 3, S("r1-c3")), SPATE_OK);
    assert_int_equal(spate_cql_mutation_collection_delete(f->m, 5, true), SPATE_OK);
    assert_int_equal(spate_cql_mutation_elem(f->m, 5, &K_TEXT, S("e"), S("")), SPATE_OK);
    /* row 1, row 2, the element, row 1's second run (pending) */
    assert_int_equal(spate_cql_mutation_count(f->m), 4);
    size_t pending = spate_cql_mutation_bytes(f->m);
    assert_int_equal(spate_cql_store_apply(f->st, f->m), SPATE_OK);
    assert_int_equal(spate_cql_mutation_count(f->m), 4);
    assert_int_equal(spate_cql_mutation_bytes(f->m), pending);
    spate_cql_mutation_clear(f->m);
    elem(f, 3, 59, 5, &K_TEXT, S("old"), ""); /* under the overwrite's tombstone */
    assert_string_equal(dump_part(f, &T1, 3, 1000),
                        "3:1 M@60 c2=r1@60 c3=r1-c3@60 c5{e=}@60 | 3:2 M@60 c2=r2@60");
    q = pq(&T1, 3, 1000);
    q.reverse = true;
    assert_string_equal(dump(f, &q), "3:2 M@60 c2=r2@60 | 3:1 M@60 c2=r1@60 c3=r1-c3@60 c5{e=}@60");

    /* A hot row: hundreds of whole-row writes, some merged at write time. */
    for (int i = 0; i < 300; i++) {
        char v[16];
        snprintf(v, sizeof v, "v%d", i);
        insert_row(f, 4, 1, i % 2 ? 1000 + i : 2000 - i, v, i % 3 ? "x" : "y", NULL);
    }
    assert_string_equal(dump_part(f, &T1, 4, 1000), "4:1 M@2000 c2=v0@2000 c3=y@2000");
    assert_int_equal(spate_cql_store_flush(f->st), SPATE_OK);
    assert_string_equal(dump_part(f, &T1, 4, 1000), "4:1 M@2000 c2=v0@2000 c3=y@2000");

    /* TTL on a unit: the row expires whole. */
    spate_slice_t p5 = I(5);
    assert_int_equal(spate_cql_mutation_time(f->m, 70, 100, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_row(f->m, &T1, &p5, &c1), SPATE_OK);
    assert_int_equal(spate_cql_mutation_marker(f->m), SPATE_OK);
    assert_int_equal(spate_cql_mutation_cell(f->m, 2, S("ttl")), SPATE_OK);
    apply(f);
    assert_string_equal(dump_part(f, &T1, 5, 1050), "5:1 M@70~50 c2=ttl@70~50");
    assert_string_equal(dump_part(f, &T1, 5, 1100), "");
}

/* ------------------------------------------------------------------ */
/* Slices                                                              */
/* ------------------------------------------------------------------ */

static void test_slices(void **state) {
    fx_t *f = *state;
    const char *c2s[] = {"a", "b", "c"};
    for (int c1 = 1; c1 <= 3; c1++)
        for (int i = 0; i < 3; i++) {
            spate_slice_t ck[2] = {I(c1), S(c2s[i])};
            put(f, &T2, 1, ck, c1 * 10 + i, 0, 1000, true, -1, NULL);
        }
    put(f, &T2, 2, (spate_slice_t[]){I(1), S("a")}, 1, 0, 1000, true, -1, NULL);

    const char *all = "1:1,c M@12 | 1:1,b M@11 | 1:1,a M@10 | 1:2,c M@22 | 1:2,b M@21 | "
                      "1:2,a M@20 | 1:3,c M@32 | 1:3,b M@31 | 1:3,a M@30";
    const char *all_rev = "1:3,a M@30 | 1:3,b M@31 | 1:3,c M@32 | 1:2,a M@20 | 1:2,b M@21 | "
                          "1:2,c M@22 | 1:1,a M@10 | 1:1,b M@11 | 1:1,c M@12";
    spate_cql_store_query_t q = pq(&T2, 1, 1000);
    assert_string_equal(dump(f, &q), all);
    q.reverse = true;
    assert_string_equal(dump(f, &q), all_rev);

    /* c1 = 2 AND c2 > 'a' (DESC column: a key-order upper bound) */
    spate_slice_t eq2 = I(2);
    spate_cql_kslice_t gta = {false, S("a")}, leb = {true, S("b")};
    q = pq(&T2, 1, 1000);
    q.ck = &eq2;
    q.neq = 1;
    q.start = &gta;
    assert_string_equal(dump(f, &q), "1:2,c M@22 | 1:2,b M@21");
    q.reverse = true;
    assert_string_equal(dump(f, &q), "1:2,b M@21 | 1:2,c M@22");
    /* c1 = 2 AND c2 <= 'b' */
    q = pq(&T2, 1, 1000);
    q.ck = &eq2;
    q.neq = 1;
    q.end = &leb;
    assert_string_equal(dump(f, &q), "1:2,b M@21 | 1:2,a M@20");

    /* c1 >= 2 AND c1 < 3; c1 > 1 */
    spate_cql_kslice_t ge2 = {true, I(2)}, lt3 = {false, I(3)}, gt1 = {false, I(1)};
    q = pq(&T2, 1, 1000);
    q.start = &ge2;
    q.end = &lt3;
    assert_string_equal(dump(f, &q), "1:2,c M@22 | 1:2,b M@21 | 1:2,a M@20");
    q = pq(&T2, 1, 1000);
    q.start = &gt1;
    q.reverse = true;
    assert_string_equal(dump(f, &q), "1:3,a M@30 | 1:3,b M@31 | 1:3,c M@32 | 1:2,a M@20 | "
                                     "1:2,b M@21 | 1:2,c M@22");

    /* one row by its full key; a missing one */
    spate_slice_t full[2] = {I(3), S("b")}, none[2] = {I(3), S("x")};
    q = pq(&T2, 1, 1000);
    q.ck = full;
    q.neq = 2;
    assert_string_equal(dump(f, &q), "1:3,b M@31");
    q.ck = none;
    assert_string_equal(dump(f, &q), "");

    /* paging inside the partition, both directions: 4 + 4 + 1 rows */
    for (int rev = 0; rev <= 1; rev++) {
        spate_buf_t pos = SPATE_BUF_INIT, acc = SPATE_BUF_INIT;
        for (int page = 0; page < 4; page++) {
            q = pq(&T2, 1, 1000);
            q.reverse = rev;
            spate_buf_t copy = SPATE_BUF_INIT;
            spate_buf_append(&copy, pos.data, pos.len);
            q.after = page > 0 ? (spate_slice_t){copy.data, (int32_t)copy.len} : S(NULL);
            const char *d = dump_n(f, &q, 4, &pos);
            if (*d) {
                if (acc.len) spate_buf_puts(&acc, " | ");
                spate_buf_puts(&acc, d);
            }
            spate_buf_free(&copy);
            if (page == 3) assert_string_equal(d, "");
        }
        assert_string_equal(acc.data, rev ? all_rev : all);
        spate_buf_free(&pos);
        spate_buf_free(&acc);
    }
}

/* ------------------------------------------------------------------ */
/* Table scans, static rows, count                                     */
/* ------------------------------------------------------------------ */

static void test_scan(void **state) {
    fx_t *f = *state;
    enum { N = 20 };
    for (int i = 0; i < N; i++) put(f, &T3, i, NULL, 100 + i, 0, 1000, true, 2, "v");
    put1(f, 1, 1, 1, true, -1, NULL); /* another table: never seen */

    /* all partitions, each once, in token order */
    spate_cql_store_query_t q = {.schema = &T3, .now = 1000};
    spate_cql_store_iter_t *it;
    const spate_cql_store_row_t *r;
    int64_t tokens[N];
    int32_t pks[N];
    int seen[N] = {0}, n = 0;
    assert_int_equal(spate_cql_store_iter_open(f->st, &q, &it), SPATE_OK);
    while (spate_cql_store_iter_next(it, &r) == SPATE_OK) {
        assert_true(n < N);
        int64_t tok;
        assert_int_equal(spate_cql_partition_token(r->pk, 1, &tok), SPATE_OK);
        assert_int_equal(tok, r->token);
        const uint8_t *p = (const uint8_t *)r->pk[0].p;
        pks[n] = (int32_t)((uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]);
        assert_in_range(pks[n], 0, N - 1);
        seen[pks[n]]++;
        tokens[n] = r->token;
        if (n > 0) assert_true(tokens[n - 1] < tokens[n]);
        n++;
    }
    spate_cql_store_iter_free(it);
    assert_int_equal(n, N);
    for (int i = 0; i < N; i++) assert_int_equal(seen[i], 1);
    const char *all = dump(f, &q);
    char all_copy[4096];
    snprintf(all_copy, sizeof all_copy, "%s", all);

    /* paging by position: pages of 3 give the same sequence */
    spate_buf_t pos = SPATE_BUF_INIT, after = SPATE_BUF_INIT, acc = SPATE_BUF_INIT;
    for (int page = 0;; page++) {
        assert_true(page <= 7); /* 7 pages of 3 rows, then an empty one */
        spate_buf_reset(&after);
        spate_buf_append(&after, pos.data, pos.len);
        q.after = page ? (spate_slice_t){after.data, (int32_t)after.len} : S(NULL);
        const char *d = dump_n(f, &q, 3, &pos);
        if (!*d) {
            assert_int_equal(page, 7);
            break;
        }
        if (acc.len) spate_buf_puts(&acc, " | ");
        spate_buf_puts(&acc, d);
    }
    assert_string_equal(acc.data, all_copy);
    /* a position built from values resumes after that partition */
    spate_buf_reset(&pos);
    spate_slice_t pk5 = I(pks[5]);
    assert_int_equal(spate_cql_store_position(&pos, &T3, &pk5, NULL), SPATE_OK);
    q.after = (spate_slice_t){pos.data, (int32_t)pos.len};
    uint64_t cnt;
    assert_int_equal(spate_cql_store_count(f->st, &q, 0, &cnt), SPATE_OK);
    assert_int_equal(cnt, N - 6);
    /* a position of another table is refused */
    spate_buf_reset(&pos);
    assert_int_equal(spate_cql_store_position(&pos, &T1, &pk5, NULL), SPATE_OK);
    q.after = (spate_slice_t){pos.data, (int32_t)pos.len};
    assert_int_equal(spate_cql_store_iter_open(f->st, &q, &it), SPATE_EINVAL);
    q.after = (spate_slice_t){"\0\0\0", 3};
    assert_int_equal(spate_cql_store_iter_open(f->st, &q, &it), SPATE_EINVAL);
    /* any bytes after the table id only move the start */
    for (int i = 0; i < 200; i++) {
        char junk[24] = {0, 0, 0, 3};
        size_t jn = 4 + (size_t)(rand() % 20);
        for (size_t j = 4; j < jn; j++) junk[j] = (char)(rand() % 4 == 0 ? 0xFF : rand());
        q.after = (spate_slice_t){junk, (int32_t)jn};
        assert_int_equal(spate_cql_store_count(f->st, &q, 0, &cnt), SPATE_OK);
        assert_true(cnt <= N);
        spate_cql_store_query_t p = pq(&T3, pks[i % N], 1000);
        p.after = q.after;
        p.reverse = i % 2;
        assert_int_equal(spate_cql_store_count(f->st, &p, 0, &cnt), SPATE_OK);
        assert_true(cnt <= 1);
    }
    q.after = S(NULL);

    /* token(pk) >= tokens[5] AND token(pk) <= tokens[10] */
    q.has_token_start = q.has_token_end = true;
    q.token_start = tokens[5];
    q.token_end = tokens[10];
    assert_int_equal(spate_cql_store_count(f->st, &q, 0, &cnt), SPATE_OK);
    assert_int_equal(cnt, 6);
    assert_int_equal(spate_cql_store_iter_open(f->st, &q, &it), SPATE_OK);
    assert_int_equal(spate_cql_store_iter_next(it, &r), SPATE_OK);
    assert_int_equal(r->token, tokens[5]);
    spate_cql_store_iter_free(it);
    q.token_start = tokens[10];
    q.token_end = tokens[5];
    assert_int_equal(spate_cql_store_count(f->st, &q, 0, &cnt), SPATE_OK);
    assert_int_equal(cnt, 0);
    q.has_token_start = q.has_token_end = false;

    assert_int_equal(spate_cql_store_count(f->st, &q, 0, &cnt), SPATE_OK);
    assert_int_equal(cnt, N);
    assert_int_equal(spate_cql_store_count(f->st, &q, 7, &cnt), SPATE_OK);
    assert_int_equal(cnt, 7);
    spate_buf_free(&pos);
    spate_buf_free(&after);
    spate_buf_free(&acc);
}

static void static_cell(fx_t *f, int32_t pk, int64_t ts, const char *val) {
    spate_slice_t p = I(pk);
    assert_int_equal(spate_cql_mutation_time(f->m, ts, 0, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_partition(f->m, &T4, &p), SPATE_OK);
    assert_int_equal(spate_cql_mutation_static_cell(f->m, 9, S(val)), SPATE_OK);
    apply(f);
}

static void test_static_rows(void **state) {
    fx_t *f = *state;
    /* partition 1: static + 2 rows; 2: static only; 3: rows only */
    static_cell(f, 1, 10, "s1");
    static_cell(f, 2, 10, "s2");
    for (int i = 1; i <= 2; i++) {
        spate_slice_t c = I(i);
        put(f, &T4, 1, &c, 10, 0, 1000, true, -1, NULL);
        put(f, &T4, 3, &c, 10, 0, 1000, true, -1, NULL);
    }
    spate_cql_store_query_t q = pq(&T4, 1, 1000);
    q.include_static = true;
    assert_string_equal(dump(f, &q), "1:S c9=s1@10 | 1:1 M@10 | 1:2 M@10");
    q.reverse = true;
    assert_string_equal(dump(f, &q), "1:S c9=s1@10 | 1:2 M@10 | 1:1 M@10");
    q.include_static = false;
    assert_string_equal(dump(f, &q), "1:2 M@10 | 1:1 M@10");

    /* scan: statics before their partition's rows; count as SELECT * */
    spate_cql_store_query_t s = {.schema = &T4, .now = 1000, .include_static = true};
    const char *d = dump(f, &s);
    assert_non_null(strstr(d, "1:S c9=s1@10 | 1:1 M@10 | 1:2 M@10"));
    assert_non_null(strstr(d, "2:S c9=s2@10"));
    assert_non_null(strstr(d, "3:1 M@10 | 3:2 M@10"));
    uint64_t cnt;
    assert_int_equal(spate_cql_store_count(f->st, &s, 0, &cnt), SPATE_OK);
    assert_int_equal(cnt, 5);
    s.include_static = false;
    assert_int_equal(spate_cql_store_count(f->st, &s, 0, &cnt), SPATE_OK);
    assert_int_equal(cnt, 4);

    /* paging one row at a time never repeats the static row */
    s.include_static = true;
    spate_buf_t pos = SPATE_BUF_INIT, after = SPATE_BUF_INIT, acc = SPATE_BUF_INIT;
    for (int page = 0;; page++) {
        assert_true(page <= 7); /* 6 pages of 1 row, then an empty one */
        spate_buf_reset(&after);
        spate_buf_append(&after, pos.data, pos.len);
        s.after = page ? (spate_slice_t){after.data, (int32_t)after.len} : S(NULL);
        const char *p = dump_n(f, &s, 1, &pos);
        if (!*p) {
            assert_int_equal(page, 6);
            break;
        }
        if (acc.len) spate_buf_puts(&acc, " | ");
        spate_buf_puts(&acc, p);
    }
    s.after = S(NULL);
    assert_string_equal(acc.data, dump(f, &s));
    spate_buf_free(&pos);
    spate_buf_free(&after);
    spate_buf_free(&acc);

    /* a partition deletion kills the static row too; a newer one is back */
    spate_slice_t p1 = I(1);
    assert_int_equal(spate_cql_mutation_time(f->m, 20, 0, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_partition(f->m, &T4, &p1), SPATE_OK);
    assert_int_equal(spate_cql_mutation_partition_delete(f->m), SPATE_OK);
    apply(f);
    q = pq(&T4, 1, 1000);
    q.include_static = true;
    assert_string_equal(dump(f, &q), "");
    static_cell(f, 1, 21, "s1b");
    assert_string_equal(dump(f, &q), "1:S c9=s1b@21");
}

/* ------------------------------------------------------------------ */
/* Tables, meta, reopen, sync                                          */
/* ------------------------------------------------------------------ */

static spate_status_t collect_meta(void *ctx, spate_slice_t name, spate_slice_t val) {
    spate_buf_t *b = ctx;
    spate_buf_append(b, name.p, (size_t)name.len);
    spate_buf_putc(b, '=');
    spate_buf_append(b, val.p, (size_t)val.len);
    spate_buf_putc(b, ';');
    return SPATE_OK;
}

static void test_tables_and_meta(void **state) {
    fx_t *f = *state;
    put1(f, 1, 1, 100, true, 2, "t1");
    put(f, &T3, 1, NULL, 100, 0, 1000, true, 2, "t3");
    assert_int_equal(spate_cql_store_truncate(f->st, 1), SPATE_OK);
    assert_string_equal(dump_part(f, &T1, 1, 1000), "");
    assert_string_equal(dump_part(f, &T3, 1, 1000), "1: M@100 c2=t3@100");
    /* TRUNCATE forgets timestamps: an older write is visible again */
    put1(f, 1, 1, 50, false, 2, "old");
    assert_string_equal(dump_part(f, &T1, 1, 1000), "1:1 c2=old@50");
    assert_int_equal(spate_cql_store_drop(f->st, 3), SPATE_OK);
    assert_string_equal(dump_part(f, &T3, 1, 1000), "");
    assert_string_equal(dump_part(f, &T1, 1, 1000), "1:1 c2=old@50");
    assert_int_equal(spate_cql_store_truncate(f->st, SPATE_CQL_STORE_META_TABLE), SPATE_EINVAL);
    assert_int_equal(spate_cql_store_drop(f->st, 0xFFFFFFFFu), SPATE_EINVAL);

    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_cql_store_meta_get(f->st, "schema", 6, &b), SPATE_ENOENT);
    assert_int_equal(spate_cql_store_meta_put(f->st, "schema", 6, "v1", 2), SPATE_OK);
    assert_int_equal(spate_cql_store_meta_put(f->st, "schema", 6, "v2", 2), SPATE_OK);
    assert_int_equal(spate_cql_store_meta_put(f->st, "sch", 3, "", 0), SPATE_OK);
    assert_int_equal(spate_cql_store_meta_put(f->st, "other", 5, "o", 1), SPATE_OK);
    assert_int_equal(spate_cql_store_meta_get(f->st, "schema", 6, &b), SPATE_OK);
    assert_int_equal(b.len, 2);
    assert_memory_equal(b.data, "v2", 2);
    spate_buf_reset(&b);
    assert_int_equal(spate_cql_store_meta_list(f->st, "sch", 3, collect_meta, &b), SPATE_OK);
    assert_string_equal(b.data, "sch=;schema=v2;");
    spate_buf_reset(&b);
    assert_int_equal(spate_cql_store_meta_delete(f->st, "schema", 6), SPATE_OK);
    assert_int_equal(spate_cql_store_meta_delete(f->st, "schema", 6), SPATE_OK);
    assert_int_equal(spate_cql_store_meta_list(f->st, "", 0, collect_meta, &b), SPATE_OK);
    assert_string_equal(b.data, "other=o;sch=;");
    /* the meta namespace is not a table */
    assert_int_equal(spate_cql_store_truncate(f->st, 1), SPATE_OK);
    spate_buf_reset(&b);
    assert_int_equal(spate_cql_store_meta_get(f->st, "other", 5, &b), SPATE_OK);
    spate_buf_free(&b);
}

static void test_reopen(void **state) {
    fx_t *f = *state;
    /* a bit of everything, in PERIODIC mode with no explicit sync */
    for (int i = 1; i <= 4; i++) put1(f, 1, i, 10, true, 2, "v");
    spate_slice_t c2 = I(2);
    spate_cql_kslice_t ge3 = {true, I(3)};
    range_delete(f, &T1, 1, 20, NULL, 0, &ge3, NULL);
    spate_slice_t p = I(1);
    assert_int_equal(spate_cql_mutation_time(f->m, 20, 0, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_row(f->m, &T1, &p, &c2), SPATE_OK);
    assert_int_equal(spate_cql_mutation_row_delete(f->m), SPATE_OK);
    apply(f);
    elem(f, 1, 30, 5, &K_TEXT, S("e"), "");
    spate_slice_t c1 = I(1);
    put(f, &T1, 1, &c1, 30, 100, 1000, false, 3, "ttl");
    static_cell(f, 9, 10, "st");
    assert_int_equal(spate_cql_store_meta_put(f->st, "k", 1, "v", 1), SPATE_OK);
    const char *want = "1:1 M@10 c2=v@10 c3=ttl@30~90 c5{e=}@30";
    assert_string_equal(dump_part(f, &T1, 1, 1010), want);

    fx_close(f);
    spate_cql_store_conf_t conf = {.sync_mode = SPATE_CQL_STORE_SYNC_BATCH};
    fx_open(f, &conf);
    assert_string_equal(dump_part(f, &T1, 1, 1010), want);
    spate_cql_store_query_t q = pq(&T4, 9, 1000);
    q.include_static = true;
    assert_string_equal(dump(f, &q), "9:S c9=st@10");
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_cql_store_meta_get(f->st, "k", 1, &b), SPATE_OK);
    assert_memory_equal(b.data, "v", 1);
    spate_buf_free(&b);
    /* and again after the data went to SST files */
    assert_int_equal(spate_cql_store_flush(f->st), SPATE_OK);
    fx_close(f);
    fx_open(f, NULL);
    assert_string_equal(dump_part(f, &T1, 1, 1010), want);
}

/* A key written again and again is folded every 64 writes (read back
 * merged, written as one value): reads and last-write-wins are as if it
 * had not been, before and after a flush and a reopen. */
static void test_hot_keys(void **state) {
    fx_t *f = *state;
    spate_cql_store_stats_t s0, s1;
    spate_cql_store_stats(f->st, &s0);
    put1(f, 9, 1, 5, true, -1, NULL);
    char v[32];
    for (int i = 1; i <= 200; i++) {
        snprintf(v, sizeof v, "v%d", i);
        put1(f, 9, 1, 100 + i * 10, false, 2, v);
        if (i == 100) put1(f, 9, 2, 7, true, 2, "other row");
    }
    spate_cql_store_stats(f->st, &s1);
    assert_int_equal(s1.folds, s0.folds); /* folded when the turn is written */
    assert_int_equal(spate_cql_store_flush_wal(f->st), SPATE_OK);
    spate_cql_store_stats(f->st, &s1);
    assert_in_range(s1.folds - s0.folds, 3, 4); /* 202 writes of (9,1): every 64th */
    assert_string_equal(dump_part(f, &T1, 9, 1000),
                        "9:1 M@5 c2=v200@2100 | 9:2 M@7 c2=other row@7");
    /* an older write still loses, a newer tombstone still wins */
    put1(f, 9, 1, 1000, false, 2, "old");
    assert_string_equal(dump_part(f, &T1, 9, 1000),
                        "9:1 M@5 c2=v200@2100 | 9:2 M@7 c2=other row@7");
    put1(f, 9, 1, 3000, false, 2, NULL);
    assert_string_equal(dump_part(f, &T1, 9, 1000), "9:1 M@5 | 9:2 M@7 c2=other row@7");
    assert_int_equal(spate_cql_store_flush(f->st), SPATE_OK);
    for (int i = 0; i < 70; i++) put1(f, 9, 1, 2000 + i, false, 2, "older than the tombstone");
    assert_string_equal(dump_part(f, &T1, 9, 1000), "9:1 M@5 | 9:2 M@7 c2=other row@7");
    fx_close(f);
    fx_open(f, NULL);
    assert_string_equal(dump_part(f, &T1, 9, 1000), "9:1 M@5 | 9:2 M@7 c2=other row@7");
}

static void test_sync_modes(void **state) {
    fx_t *f = *state;
    spate_cql_store_stats_t s;
    fx_close(f);
    spate_cql_store_conf_t batch = {.sync_mode = SPATE_CQL_STORE_SYNC_BATCH};
    fx_open(f, &batch);
    int64_t now = spate_mono_ms();
    assert_int_equal(spate_cql_store_sync_due(f->st, now), -1);
    assert_int_equal(spate_cql_store_sync(f->st), SPATE_OK);
    spate_cql_store_stats(f->st, &s);
    assert_int_equal(s.syncs, 0);
    /* three writes in one turn, one fsync */
    for (int i = 0; i < 3; i++) put1(f, 1, i, 10, true, -1, NULL);
    assert_int_equal(spate_cql_store_sync_due(f->st, now), 0);
    assert_int_equal(spate_cql_store_tick(f->st, now), SPATE_OK);
    assert_int_equal(spate_cql_store_sync(f->st), SPATE_OK);
    spate_cql_store_stats(f->st, &s);
    assert_int_equal(s.applies, 3);
    assert_int_equal(s.turn_writes, 1); /* the three as one WriteBatch */
    assert_int_equal(s.syncs, 1);
    assert_int_equal(spate_cql_store_sync_due(f->st, now), -1);

    fx_close(f);
    spate_cql_store_conf_t periodic = {.sync_mode = SPATE_CQL_STORE_SYNC_PERIODIC,
                                       .period_ms = 60000};
    fx_open(f, &periodic);
    assert_false(spate_cql_store_unflushed(f->st));
    put1(f, 1, 9, 10, true, -1, NULL);
    /* the WAL record waits in RocksDB's buffer until flush_wal: one
     * write(2) per loop turn */
    assert_true(spate_cql_store_unflushed(f->st));
    assert_int_equal(spate_cql_store_flush_wal(f->st), SPATE_OK);
    assert_false(spate_cql_store_unflushed(f->st));
    assert_int_equal(spate_cql_store_flush_wal(f->st), SPATE_OK); /* nothing: no call */
    spate_cql_store_stats(f->st, &s);
    assert_int_equal(s.wal_writes, 1);
    assert_int_equal(s.syncs, 0);
    now = spate_mono_ms(); /* after the write: due within the period */
    int64_t due = spate_cql_store_sync_due(f->st, now);
    assert_in_range(due, 59000, 60000);
    assert_int_equal(spate_cql_store_tick(f->st, now), SPATE_OK);
    spate_cql_store_stats(f->st, &s);
    assert_int_equal(s.syncs, 0);
    assert_int_equal(spate_cql_store_tick(f->st, now + 60000), SPATE_OK);
    spate_cql_store_stats(f->st, &s);
    assert_int_equal(s.syncs, 1);
    assert_int_equal(spate_cql_store_sync_due(f->st, now + 60000), -1);

    /* the three-step sync (the server's syncer thread in batch mode): a
     * write applied after sync_begin is not covered by that sync */
    fx_close(f);
    fx_open(f, &batch);
    put1(f, 1, 20, 10, true, -1, NULL);
    uint64_t gen;
    assert_int_equal(spate_cql_store_sync_begin(f->st, &gen), SPATE_OK);
    assert_false(spate_cql_store_unflushed(f->st)); /* in the OS */
    put1(f, 1, 21, 10, true, -1, NULL);             /* after the sync began */
    assert_int_equal(spate_cql_store_sync_wal(f->st), SPATE_OK);
    spate_cql_store_sync_end(f->st, gen, true);
    assert_int_equal(spate_cql_store_sync_due(f->st, spate_mono_ms()), 0); /* 21 is unsynced */
    assert_int_equal(spate_cql_store_sync_begin(f->st, &gen), SPATE_OK);
    spate_cql_store_sync_end(f->st, gen, false); /* a failed sync changes nothing */
    assert_int_equal(spate_cql_store_sync_due(f->st, spate_mono_ms()), 0);
    assert_int_equal(spate_cql_store_sync_wal(f->st), SPATE_OK);
    spate_cql_store_sync_end(f->st, gen, true);
    assert_int_equal(spate_cql_store_sync_due(f->st, spate_mono_ms()), -1);
    spate_cql_store_stats(f->st, &s);
    assert_int_equal(s.syncs, 2);
}

/* ------------------------------------------------------------------ */
/* Malformed stored bytes                                              */
/* ------------------------------------------------------------------ */

static void raw_put(const char *dir, const char *cf, const spate_buf_t *k, const char *v,
                    size_t vn) {
    const char *names[] = {"default", SPATE_CQL_STORE_CF_CELLS, SPATE_CQL_STORE_CF_DELETIONS,
                           SPATE_CQL_STORE_CF_RANGES};
    rocksdb_options_t *o = rocksdb_options_create();
    const rocksdb_options_t *opts[4] = {o, o, o, o};
    rocksdb_column_family_handle_t *h[4];
    char *err = NULL;
    rocksdb_t *db = rocksdb_open_column_families(o, dir, 4, names, opts, h, &err);
    assert_null(err);
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    int i = 0;
    while (strcmp(names[i], cf) != 0) i++;
    rocksdb_put_cf(db, wo, h[i], k->data, k->len, v, vn, &err);
    assert_null(err);
    rocksdb_writeoptions_destroy(wo);
    for (i = 0; i < 4; i++) rocksdb_column_family_handle_destroy(h[i]);
    rocksdb_close(db);
    rocksdb_options_destroy(o);
}

static void test_garbage(void **state) {
    fx_t *f = *state;
    fx_close(f); /* nothing written yet: the raw writer needs no operators */
    spate_buf_t k = SPATE_BUF_INIT;
    spate_slice_t p1 = I(1), p2 = I(2), p3 = I(3), c1 = I(1);
    /* t1 pk 1: a cell whose value is garbage */
    spate_cql_key_cell(&k, &T1, &p1, &c1, 2, NULL, S(NULL));
    raw_put(f->dir, SPATE_CQL_STORE_CF_CELLS, &k, "\x07junk", 5);
    /* t1 pk 2: a partition deletion of 3 bytes */
    spate_buf_reset(&k);
    spate_cql_key_partition(&k, &T1, &p2, NULL);
    spate_cql_key_put_kind(&k, SPATE_CQL_KIND_PARTITION_DELETION);
    raw_put(f->dir, SPATE_CQL_STORE_CF_DELETIONS, &k, "abc", 3);
    /* t1 pk 3: a range tombstone set whose entry length overruns */
    spate_buf_reset(&k);
    spate_cql_key_partition(&k, &T1, &p3, NULL);
    spate_cql_key_put_kind(&k, SPATE_CQL_KIND_RANGE_TOMBSTONE);
    spate_cql_key_bound(&k, &T1, NULL, 0, SPATE_CQL_BOUND_BEFORE);
    raw_put(f->dir, SPATE_CQL_STORE_CF_RANGES, &k, "\x00\x00\x00\x40xxxx", 8);
    /* t2: a key that is not a key of the table */
    spate_buf_reset(&k);
    spate_wr_u32(&k, 2);
    spate_buf_puts(&k, "not a key at all");
    raw_put(f->dir, SPATE_CQL_STORE_CF_CELLS, &k, "\x00\x00\x00\x00\x00\x00\x00\x00\x01", 9);
    spate_buf_free(&k);

    fx_open(f, NULL);
    for (int pk = 1; pk <= 3; pk++) {
        put1(f, pk, 2, 10, true, -1, NULL);
        spate_cql_store_query_t q = pq(&T1, pk, 1000);
        spate_cql_store_iter_t *it;
        const spate_cql_store_row_t *r;
        assert_int_equal(spate_cql_store_iter_open(f->st, &q, &it), SPATE_OK);
        assert_int_equal(spate_cql_store_iter_next(it, &r), SPATE_EINVAL);
        assert_null(r);
        assert_int_equal(spate_cql_store_iter_next(it, &r), SPATE_EINVAL); /* sticky */
        spate_cql_store_iter_free(it);
    }
    spate_cql_store_query_t s = {.schema = &T2, .now = 1000};
    uint64_t cnt;
    assert_int_equal(spate_cql_store_count(f->st, &s, 0, &cnt), SPATE_EINVAL);

    /* merges drop what does not decode: a valid write heals each key */
    put1(f, 1, 1, 5, false, 2, "healed");
    spate_slice_t p = I(2);
    assert_int_equal(spate_cql_mutation_time(f->m, 1, 0, 1000), SPATE_OK);
    assert_int_equal(spate_cql_mutation_partition(f->m, &T1, &p), SPATE_OK);
    assert_int_equal(spate_cql_mutation_partition_delete(f->m), SPATE_OK);
    apply(f);
    range_delete(f, &T1, 3, 1, NULL, 0, NULL, NULL);
    assert_string_equal(dump_part(f, &T1, 1, 1000), "1:1 c2=healed@5 | 1:2 M@10");
    assert_string_equal(dump_part(f, &T1, 2, 1000), "2:2 M@10");
    assert_string_equal(dump_part(f, &T1, 3, 1000), "3:2 M@10");
    assert_int_equal(spate_cql_store_compact(f->st), SPATE_OK);
    assert_string_equal(dump_part(f, &T1, 1, 1000), "1:1 c2=healed@5 | 1:2 M@10");
}

/* Random bytes under valid and invalid keys of t4, raw; then valid
 * writes merged onto some of them, a compaction, and every kind of read:
 * only OK / ENOENT / EINVAL may come back (and ASan watches). */
/* Row values damaged byte by byte (every byte flipped, every length cut)
 * stored under row marker keys: reads fail with EINVAL or succeed, never
 * crash; a whole-row write on top is merged with the damaged value, which
 * the operator leaves out, so the row reads again. */
static void test_garbage_row_values(void **state) {
    fx_t *f = *state;
    spate_buf_t good = SPATE_BUF_INIT, cell = SPATE_BUF_INIT, k = SPATE_BUF_INIT;
    spate_cql_cell_t c = {SPATE_CQL_CELL_LIVE, 7, 0, 0, S("")};
    assert_int_equal(spate_cql_row_value_begin(&good), SPATE_OK);
    assert_int_equal(spate_cql_cell_encode(&cell, &c), SPATE_OK);
    assert_int_equal(spate_cql_row_value_put(&good, SPATE_CQL_KIND_ROW_MARKER, 0,
                                             (spate_slice_t){cell.data, (int32_t)cell.len}),
                     SPATE_OK);
    spate_buf_reset(&cell);
    c.value = S("val");
    assert_int_equal(spate_cql_cell_encode(&cell, &c), SPATE_OK);
    assert_int_equal(spate_cql_row_value_put(&good, SPATE_CQL_KIND_CELL, 2,
                                             (spate_slice_t){cell.data, (int32_t)cell.len}),
                     SPATE_OK);
    const int n = (int)good.len * 2; /* flips, then cuts */
    fx_close(f);
    const char *names[] = {"default", SPATE_CQL_STORE_CF_CELLS, SPATE_CQL_STORE_CF_DELETIONS,
                           SPATE_CQL_STORE_CF_RANGES};
    rocksdb_options_t *o = rocksdb_options_create();
    const rocksdb_options_t *opts[4] = {o, o, o, o};
    rocksdb_column_family_handle_t *h[4];
    char *err = NULL;
    rocksdb_t *db = rocksdb_open_column_families(o, f->dir, 4, names, opts, h, &err);
    assert_null(err);
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    for (int i = 0; i < n; i++) {
        spate_slice_t pk = I(i), ck = I(1);
        spate_buf_reset(&k);
        assert_int_equal(spate_cql_key_row_marker(&k, &T1, &pk, &ck), SPATE_OK);
        char v[64];
        size_t vn = good.len;
        memcpy(v, good.data, good.len);
        if (i < (int)good.len)
            v[i] ^= (char)(0x01 << (i % 8)) | 0x10;
        else
            vn = (size_t)(i - (int)good.len);
        rocksdb_put_cf(db, wo, h[1], k.data, k.len, v, vn, &err);
        assert_null(err);
    }
    rocksdb_writeoptions_destroy(wo);
    for (int i = 0; i < 4; i++) rocksdb_column_family_handle_destroy(h[i]);
    rocksdb_close(db);
    rocksdb_options_destroy(o);
    spate_buf_free(&good);
    spate_buf_free(&cell);
    spate_buf_free(&k);

    fx_open(f, NULL);
    int outcome[2] = {0, 0};
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < n; i++) {
            spate_cql_store_query_t q = pq(&T1, i, 1000);
            spate_cql_store_iter_t *it;
            const spate_cql_store_row_t *r;
            assert_int_equal(spate_cql_store_iter_open(f->st, &q, &it), SPATE_OK);
            spate_status_t rc;
            while ((rc = spate_cql_store_iter_next(it, &r)) == SPATE_OK) {
            }
            spate_cql_store_iter_free(it);
            if (round == 0) {
                assert_true(rc == SPATE_ENOENT || rc == SPATE_EINVAL);
                outcome[rc == SPATE_EINVAL]++;
                insert_row(f, i, 1, 100, "new", "row", NULL);
            } else {
                assert_int_equal(rc, SPATE_ENOENT);
                char want[96];
                snprintf(want, sizeof want, "%d:1 M@100 c2=new@100 c3=row@100", i);
                const char *got = dump_part(f, &T1, i, 1000);
                /* a flip may have left a valid value, newer than the write */
                if (strcmp(got, want) != 0) assert_non_null(strstr(got, "c3=row@100"));
            }
        }
        if (round == 1) assert_int_equal(spate_cql_store_compact(f->st), SPATE_OK);
    }
    /* most damage is seen, and some damaged values still read */
    assert_true(outcome[1] > n / 2);
    assert_true(outcome[0] > 0);
}

static void test_garbage_random(void **state) {
    fx_t *f = *state;
    enum { NPK = 24 };
    int outcome[2] = {0, 0}; /* reads that ended / met garbage */
    fx_close(f);
    srand(12345);
    const char *names[] = {"default", SPATE_CQL_STORE_CF_CELLS, SPATE_CQL_STORE_CF_DELETIONS,
                           SPATE_CQL_STORE_CF_RANGES};
    rocksdb_options_t *o = rocksdb_options_create();
    const rocksdb_options_t *opts[4] = {o, o, o, o};
    rocksdb_column_family_handle_t *h[4];
    char *err = NULL;
    rocksdb_t *db = rocksdb_open_column_families(o, f->dir, 4, names, opts, h, &err);
    assert_null(err);
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    spate_buf_t k = SPATE_BUF_INIT;
    for (int i = 0; i < 40; i++) { /* sparse: most partitions stay readable */
        spate_slice_t pk = I(rand() % NPK), ck = I(rand() % 4);
        int kind = rand() % 6, cf = 1;
        spate_buf_reset(&k);
        switch (kind) {
        case 0: /* not a key of the table */
            spate_wr_u32(&k, 4);
            for (int j = rand() % 20; j > 0; j--) spate_buf_putc(&k, (char)rand());
            cf = 1 + rand() % 3;
            break;
        case 1: spate_cql_key_cell(&k, &T4, &pk, &ck, 2, NULL, S(NULL)); break;
        case 2: spate_cql_key_row_marker(&k, &T4, &pk, &ck); break;
        case 3:
            spate_cql_key_partition(&k, &T4, &pk, NULL);
            spate_cql_key_put_cell(&k, SPATE_CQL_KIND_STATIC_CELL, 9, NULL, S(NULL));
            break;
        case 4:
            cf = 2;
            if (rand() % 2) {
                spate_cql_key_partition(&k, &T4, &pk, NULL);
                spate_cql_key_put_kind(&k, SPATE_CQL_KIND_PARTITION_DELETION);
            } else {
                spate_cql_key_row(&k, &T4, &pk, &ck);
                spate_cql_key_put_kind(&k, SPATE_CQL_KIND_ROW_DELETION);
            }
            break;
        default:
            cf = 3;
            spate_cql_key_partition(&k, &T4, &pk, NULL);
            spate_cql_key_put_kind(&k, SPATE_CQL_KIND_RANGE_TOMBSTONE);
            spate_cql_key_bound(&k, &T4, &ck, (uint16_t)(rand() % 2), SPATE_CQL_BOUND_BEFORE);
            break;
        }
        /* values: random bytes, sometimes shaped like the real formats */
        uint8_t v[64];
        size_t vn = (size_t)(rand() % 40);
        for (size_t j = 0; j < vn; j++) v[j] = (uint8_t)rand();
        if (vn > 4 && rand() % 2) v[0] = (uint8_t)(rand() % 3); /* a cell flag */
        if (cf == 3 && vn > 4 && rand() % 2) {
            v[0] = v[1] = v[2] = 0;
            v[3] = (uint8_t)(vn - 4 - (size_t)(rand() % 3));
        }
        rocksdb_put_cf(db, wo, h[cf], k.data, k.len, (const char *)v, vn, &err);
        assert_null(err);
    }
    spate_buf_free(&k);
    rocksdb_writeoptions_destroy(wo);
    for (int i = 0; i < 4; i++) rocksdb_column_family_handle_destroy(h[i]);
    rocksdb_close(db);
    rocksdb_options_destroy(o);

    fx_open(f, NULL);
    for (int i = 0; i < 300; i++) {
        spate_slice_t pk = I(rand() % NPK), ck = I(rand() % 4);
        assert_int_equal(spate_cql_mutation_time(f->m, rand() % 50, rand() % 2 ? 0 : 5, 1000),
                         SPATE_OK);
        assert_int_equal(spate_cql_mutation_row(f->m, &T4, &pk, &ck), SPATE_OK);
        switch (rand() % 5) {
        case 0: assert_int_equal(spate_cql_mutation_marker(f->m), SPATE_OK); break;
        case 1: assert_int_equal(spate_cql_mutation_cell(f->m, 2, S("x")), SPATE_OK); break;
        case 2: assert_int_equal(spate_cql_mutation_static_cell(f->m, 9, S("s")), SPATE_OK); break;
        case 3: assert_int_equal(spate_cql_mutation_row_delete(f->m), SPATE_OK); break;
        default: {
            spate_cql_kslice_t lo = {true, I(rand() % 4)};
            assert_int_equal(spate_cql_mutation_range_delete(f->m, NULL, 0, &lo, NULL), SPATE_OK);
        }
        }
        apply(f);
    }
    int rows = 0;
    for (int round = 0; round < 2; round++) {
        if (round == 1) assert_int_equal(spate_cql_store_compact(f->st), SPATE_OK);
        for (int pk = -1; pk < NPK; pk++)
            for (int rev = 0; rev <= 1; rev++) {
                spate_cql_store_query_t q =
                    pk < 0 ? (spate_cql_store_query_t){.schema = &T4} : pq(&T4, pk, 1000);
                q.now = 1003;
                q.include_static = true;
                q.reverse = pk >= 0 && rev;
                spate_cql_store_iter_t *it;
                const spate_cql_store_row_t *r;
                spate_status_t rc;
                assert_int_equal(spate_cql_store_iter_open(f->st, &q, &it), SPATE_OK);
                int n = 0;
                while ((rc = spate_cql_store_iter_next(it, &r)) == SPATE_OK) n++;
                assert_true(rc == SPATE_ENOENT || rc == SPATE_EINVAL);
                outcome[rc == SPATE_EINVAL]++;
                rows += n;
                spate_cql_store_iter_free(it);
            }
    }
    /* both paths were taken */
    assert_true(outcome[0] > 10 && outcome[1] > 10 && rows > 20);
}

/* ------------------------------------------------------------------ */
/* Crash                                                               */
/* ------------------------------------------------------------------ */

static char self_exe[4096];

/* The child: opens dir in BATCH mode, writes rows base..base+n-1 of t3,
 * each synced, then reported on fd; then waits for its SIGKILL. */
static int crash_child(const char *dir, int base, int n, int fd) {
    spate_cql_store_conf_t conf = {.sync_mode = SPATE_CQL_STORE_SYNC_BATCH};
    spate_cql_store_t *st;
    char err[256];
    if (spate_cql_store_open(dir, &conf, &st, err, sizeof err) != SPATE_OK) {
        fprintf(stderr, "crash child: %s\n", err);
        return 2;
    }
    spate_cql_mutation_t *m = spate_cql_mutation_new(st);
    for (int32_t i = base; i < base + n; i++) {
        spate_slice_t pk = I(i);
        char val[32];
        snprintf(val, sizeof val, "row-%d", i);
        spate_cql_mutation_clear(m);
        if (spate_cql_mutation_time(m, 1000 + i, 0, 1000) != SPATE_OK ||
            spate_cql_mutation_row(m, &T3, &pk, NULL) != SPATE_OK ||
            spate_cql_mutation_marker(m) != SPATE_OK ||
            spate_cql_mutation_cell(m, 2, S(val)) != SPATE_OK ||
            spate_cql_store_apply(st, m) != SPATE_OK || spate_cql_store_sync(st) != SPATE_OK)
            return 3;
        if (write(fd, &i, sizeof i) != (ssize_t)sizeof i) return 4;
    }
    for (;;) pause();
}

static void test_crash(void **state) {
    fx_t *f = *state;
    fx_close(f);
    srand((unsigned)(time(NULL) ^ getpid()));
    enum { N = 150, ROUNDS = 3 };
    int last_reported[ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
        int base = round * 1000, fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            char b[16], nn[16], fd[16];
            snprintf(b, sizeof b, "%d", base);
            snprintf(nn, sizeof nn, "%d", N);
            snprintf(fd, sizeof fd, "%d", fds[1]);
            execl(self_exe, self_exe, "--crash-child", f->dir, b, nn, fd, (char *)NULL);
            _exit(127);
        }
        close(fds[1]);
        int kill_after = 1 + rand() % (N - 1), got = 0, last = -1;
        int32_t v;
        while (got < kill_after && read(fds[0], &v, sizeof v) == (ssize_t)sizeof v) {
            assert_int_equal(v, base + got);
            last = v;
            got++;
        }
        assert_int_equal(got, kill_after); /* the child did not die early */
        usleep((useconds_t)(rand() % 3000));
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v) {
            assert_int_equal(v, base + got);
            last = v;
            got++;
        }
        close(fds[0]);

        fx_open(f, NULL);
        last_reported[round] = last;
        for (int r = 0; r <= round; r++) {
            for (int i = r * 1000; i < r * 1000 + N; i++) {
                spate_cql_store_query_t q = pq(&T3, i, 1000);
                uint64_t cnt;
                assert_int_equal(spate_cql_store_count(f->st, &q, 0, &cnt), SPATE_OK);
                if (i <= last_reported[r]) {
                    if (cnt != 1) fprintf(stderr, "round %d: reported row %d lost\n", round, i);
                    assert_int_equal(cnt, 1);
                } else if (i > last_reported[r] + 1) {
                    assert_int_equal(cnt, 0); /* never written */
                } /* the one after the last reported may or may not be there */
            }
        }
        char want[64];
        snprintf(want, sizeof want, "%d: M@%d c2=row-%d@%d", last, 1000 + last, last, 1000 + last);
        assert_string_equal(dump_part(f, &T3, last, 1000), want);
        fx_close(f);
    }
    fx_open(f, NULL);
}

int main(int argc, char **argv) {
    if (argc == 6 && strcmp(argv[1], "--crash-child") == 0)
        return crash_child(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0)
        snprintf(self_exe, sizeof self_exe, "%s", argv[0]);
    else
        self_exe[n] = '\0';

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lww, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tombstone_cells, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ttl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_row_partition_deletion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_tombstones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_row_units, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_static_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tables_and_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hot_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_random, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_row_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
