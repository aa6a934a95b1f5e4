/*
 * fuzz_cql_key.c — libFuzzer target for the CQL storage encoding
 * (src/cql/cql_key.c, src/cql/cql_token.c).
 *
 * Input: byte 0 picks the mode, byte 1 a schema or type (bit 7: DESC),
 * the rest is the data (a heap copy of exactly its length).
 *
 *   mode 0  key decode against one of four fixed schemas; a decoded key
 *           must re-encode from its parts to the same bytes, and its
 *           element sub-key, when it decodes as one of a few types, too
 *   mode 1  cell value decode; must re-encode to the same bytes;
 *           reconcile / is_live run on it
 *   mode 2  value encode of the data as a serialized value of a type:
 *           decode(encode(v)) re-encodes to the same bytes, equals v
 *           exactly when the type has no canonicalized forms, and DESC is
 *           the bitwise inverse of ASC
 *   mode 3  two values (the data split at byte 2's position) of one type:
 *           DESC order is the reverse of ASC order, and equal encodings
 *           mean equal canonical values
 *   mode 4  value decode of arbitrary bytes: what decodes re-encodes to
 *           exactly the bytes consumed
 *   mode 5  range tombstone / deletion value decode against a schema
 *   mode 6  row values (both forms): the data, and its two halves split at
 *           byte sel's position, as merge operands; what reads whole
 *           merges, the merge of a value that reads is a value that reads
 *           with the same entries (the winners), merging in the other
 *           order gives the same bytes, and a merge result merges with
 *           itself to itself
 *
 * Any violated invariant aborts. ASan reports leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cql_key.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const spate_cql_ktype_t T_INT = {SPATE_CQL_INT, 0, NULL};
static const spate_cql_ktype_t T_TEXT = {SPATE_CQL_VARCHAR, 0, NULL};
static const spate_cql_ktype_t T_BLOB = {SPATE_CQL_BLOB, 0, NULL};
static const spate_cql_ktype_t T_UUID = {SPATE_CQL_UUID, 0, NULL};
static const spate_cql_ktype_t T_TIMEUUID = {SPATE_CQL_TIMEUUID, 0, NULL};
static const spate_cql_ktype_t T_DECIMAL = {SPATE_CQL_DECIMAL, 0, NULL};
static const spate_cql_ktype_t T_VARINT = {SPATE_CQL_VARINT, 0, NULL};
static const spate_cql_ktype_t T_DOUBLE = {SPATE_CQL_DOUBLE, 0, NULL};
static const spate_cql_ktype_t T_INET = {SPATE_CQL_INET, 0, NULL};
static const spate_cql_ktype_t T_BOOLEAN = {SPATE_CQL_BOOLEAN, 0, NULL};
static const spate_cql_ktype_t T_FLOAT = {SPATE_CQL_FLOAT, 0, NULL};
static const spate_cql_ktype_t T_LIST_VARINT = {SPATE_CQL_LIST, 1, &T_VARINT};
static const spate_cql_ktype_t TUP_SUB[2] = {{SPATE_CQL_INT, 0, NULL},
                                             {SPATE_CQL_LIST, 1, &T_VARINT}};
static const spate_cql_ktype_t T_TUPLE = {SPATE_CQL_TUPLE, 2, TUP_SUB};
static const spate_cql_ktype_t MAP_SUB[2] = {{SPATE_CQL_VARCHAR, 0, NULL},
                                             {SPATE_CQL_DOUBLE, 0, NULL}};
static const spate_cql_ktype_t T_MAP = {SPATE_CQL_MAP, 2, MAP_SUB};
static const spate_cql_ktype_t TUP3_SUB[3] = {
    {SPATE_CQL_TIMEUUID, 0, NULL}, {SPATE_CQL_BLOB, 0, NULL}, {SPATE_CQL_SET, 1, &T_TEXT}};
static const spate_cql_ktype_t T_TUPLE3 = {SPATE_CQL_TUPLE, 3, TUP3_SUB};
static const spate_cql_ktype_t T_LIST_TUPLE3 = {SPATE_CQL_LIST, 1, &T_TUPLE3};

static const spate_cql_kcol_t S0_PK[1] = {{&T_INT, false}};
static const spate_cql_kcol_t S0_CK[2] = {{&T_INT, false}, {&T_TEXT, true}};
static const spate_cql_kcol_t S1_PK[2] = {{&T_TEXT, false}, {&T_UUID, false}};
static const spate_cql_kcol_t S1_CK[3] = {
    {&T_DECIMAL, true}, {&T_TUPLE, false}, {&T_TIMEUUID, false}};
static const spate_cql_kcol_t S2_PK[1] = {{&T_BLOB, false}};
static const spate_cql_kcol_t S3_CK[4] = {
    {&T_MAP, true}, {&T_INET, false}, {&T_BOOLEAN, true}, {&T_FLOAT, false}};

static const spate_cql_key_schema_t schemas[4] = {
    {1, 1, S0_PK, 2, S0_CK},
    {2, 2, S1_PK, 3, S1_CK},
    {3, 1, S2_PK, 0, NULL},
    {4, 1, S0_PK, 4, S3_CK},
};

static const spate_cql_ktype_t *const types[] = {
    &T_INT,    &T_TEXT,   &T_BLOB,   &T_UUID,        &T_TIMEUUID, &T_DECIMAL,
    &T_VARINT, &T_DOUBLE, &T_INET,   &T_BOOLEAN,     &T_FLOAT,    &T_LIST_VARINT,
    &T_TUPLE,  &T_MAP,    &T_TUPLE3, &T_LIST_TUPLE3,
};

/* Types whose encoding canonicalizes some serialized forms. */
static bool canonicalizes(const spate_cql_ktype_t *t) {
    switch (t->id) {
    case SPATE_CQL_BOOLEAN:
    case SPATE_CQL_FLOAT:
    case SPATE_CQL_DOUBLE:
    case SPATE_CQL_VARINT:
    case SPATE_CQL_DECIMAL: return true;
    default:
        for (uint16_t i = 0; i < t->n; i++)
            if (canonicalizes(&t->sub[i])) return true;
        return false;
    }
}

static bool same(const spate_buf_t *a, const void *p, size_t n) {
    return a->len == n && (n == 0 || memcmp(a->data, p, n) == 0);
}

static spate_slice_t sl(const void *p, size_t n) {
    return (spate_slice_t){(const char *)p, (int32_t)n};
}

static void fuzz_key(const spate_cql_key_schema_t *s, const uint8_t *p, size_t n) {
    spate_cql_key_t k;
    spate_status_t st = spate_cql_key_decode(s, p, n, &k);
    CHECK(st == SPATE_OK || st == SPATE_EINVAL);
    if (st != SPATE_OK) {
        spate_cql_key_free(&k);
        return;
    }
    spate_buf_t b = SPATE_BUF_INIT;
    CHECK(spate_cql_key_partition(&b, s, k.pk, NULL) == SPATE_OK);
    switch (k.kind) {
    case SPATE_CQL_KIND_PARTITION_DELETION:
        CHECK(spate_cql_key_put_kind(&b, k.kind) == SPATE_OK);
        break;
    case SPATE_CQL_KIND_RANGE_TOMBSTONE:
        CHECK(spate_cql_key_put_kind(&b, k.kind) == SPATE_OK);
        CHECK(spate_cql_key_bound(&b, s, k.ck, k.nck, k.bound) == SPATE_OK);
        break;
    case SPATE_CQL_KIND_ROW_DELETION:
    case SPATE_CQL_KIND_ROW_MARKER:
        CHECK(k.nck == s->nck);
        CHECK(spate_cql_key_clustering(&b, s, k.ck, k.nck) == SPATE_OK);
        CHECK(spate_cql_key_put_kind(&b, k.kind) == SPATE_OK);
        break;
    case SPATE_CQL_KIND_CELL:
        CHECK(spate_cql_key_clustering(&b, s, k.ck, k.nck) == SPATE_OK);
        /* fall through */
    case SPATE_CQL_KIND_STATIC_CELL:
        CHECK(spate_cql_key_put_cell(&b, k.kind, k.column, NULL, sl("", 0)) == SPATE_OK);
        CHECK(spate_buf_append(&b, k.elem.p, (size_t)k.elem.len) == SPATE_OK);
        break;
    }
    CHECK(same(&b, p, n));
    if (k.kind == SPATE_CQL_KIND_ROW_MARKER || k.kind == SPATE_CQL_KIND_CELL) {
        /* The row sits strictly between BEFORE and AFTER bounds on its
         * own clustering. */
        spate_buf_t lo = SPATE_BUF_INIT, hi = SPATE_BUF_INIT;
        CHECK(spate_cql_key_bound(&lo, s, k.ck, k.nck, SPATE_CQL_BOUND_BEFORE) == SPATE_OK);
        CHECK(spate_cql_key_bound(&hi, s, k.ck, k.nck, SPATE_CQL_BOUND_AFTER) == SPATE_OK);
        CHECK(spate_cql_key_bound_cmp(k.clustering.p, (size_t)k.clustering.len, lo.data, lo.len) >
              0);
        CHECK(spate_cql_key_bound_cmp(k.clustering.p, (size_t)k.clustering.len, hi.data, hi.len) <
              0);
        spate_buf_free(&lo);
        spate_buf_free(&hi);
    }
    if (k.has_elem) {
        for (size_t i = 0; i < 4; i++) {
            const spate_cql_ktype_t *t = types[i * 4 % (sizeof types / sizeof types[0])];
            spate_buf_t el = SPATE_BUF_INIT, again = SPATE_BUF_INIT;
            if (spate_cql_key_elem_decode(t, k.elem, &el) == SPATE_OK) {
                CHECK(spate_cql_key_value_encode(&again, t, sl(el.data ? el.data : "", el.len),
                                                 false) == SPATE_OK);
                CHECK(same(&again, k.elem.p, (size_t)k.elem.len));
            }
            spate_buf_free(&el);
            spate_buf_free(&again);
        }
    }
    spate_buf_free(&b);
    spate_cql_key_free(&k);
}

static void fuzz_cell(const uint8_t *p, size_t n) {
    spate_cql_cell_t c;
    if (spate_cql_cell_decode(p, n, &c) != SPATE_OK) return;
    spate_buf_t b = SPATE_BUF_INIT;
    CHECK(spate_cql_cell_encode(&b, &c) == SPATE_OK);
    CHECK(same(&b, p, n));
    spate_cql_cell_t other = {SPATE_CQL_CELL_LIVE, c.timestamp, 0, 0, sl("m", 1)};
    const spate_cql_cell_t *w1 = spate_cql_cell_reconcile(&c, &other);
    const spate_cql_cell_t *w2 = spate_cql_cell_reconcile(&other, &c);
    CHECK(w1 == w2 || (w1->kind == w2->kind && w1->value.len == w2->value.len));
    (void)spate_cql_cell_is_live(&c, 1700000000);
    spate_buf_free(&b);
}

/* Encodes v both ways; returns false if it is not a valid value. */
static bool encode_both(const spate_cql_ktype_t *t, const uint8_t *v, size_t n, spate_buf_t *asc,
                        spate_buf_t *desc) {
    spate_status_t st = spate_cql_key_value_encode(asc, t, sl(v, n), false);
    CHECK(st == SPATE_OK || st == SPATE_EINVAL || st == SPATE_ERANGE);
    spate_status_t st2 = spate_cql_key_value_encode(desc, t, sl(v, n), true);
    CHECK(st == st2);
    if (st != SPATE_OK) return false;
    CHECK(asc->len == desc->len);
    for (size_t i = 0; i < asc->len; i++) CHECK((uint8_t)asc->data[i] == (uint8_t)~desc->data[i]);
    return true;
}

static void fuzz_value(const spate_cql_ktype_t *t, bool desc, const uint8_t *p, size_t n) {
    spate_buf_t asc = SPATE_BUF_INIT, dsc = SPATE_BUF_INIT, dec = SPATE_BUF_INIT,
                again = SPATE_BUF_INIT;
    if (encode_both(t, p, n, &asc, &dsc)) {
        const spate_buf_t *e = desc ? &dsc : &asc;
        spate_rd_t r;
        spate_rd_init(&r, e->data, e->len);
        CHECK(spate_cql_key_value_decode(&r, t, desc, &dec) == SPATE_OK);
        CHECK(r.off == e->len);
        if (!canonicalizes(t)) CHECK(same(&dec, p, n));
        CHECK(spate_cql_key_value_encode(&again, t, sl(dec.data ? dec.data : "", dec.len), desc) ==
              SPATE_OK);
        CHECK(same(&again, e->data, e->len));
    }
    spate_buf_free(&asc);
    spate_buf_free(&dsc);
    spate_buf_free(&dec);
    spate_buf_free(&again);
}

static int sgn(int v) { return (v > 0) - (v < 0); }

static int cmp_len(const spate_buf_t *a, const spate_buf_t *b) {
    size_t m = a->len < b->len ? a->len : b->len;
    int c = m ? memcmp(a->data, b->data, m) : 0;
    return c ? sgn(c) : (a->len > b->len) - (a->len < b->len);
}

static void fuzz_pair(const spate_cql_ktype_t *t, const uint8_t *p, size_t n, size_t cut) {
    if (cut > n) cut = n;
    spate_buf_t a = SPATE_BUF_INIT, ad = SPATE_BUF_INIT, b = SPATE_BUF_INIT, bd = SPATE_BUF_INIT;
    if (encode_both(t, p, cut, &a, &ad) && encode_both(t, p + cut, n - cut, &b, &bd)) {
        int asc = cmp_len(&a, &b), desc = cmp_len(&ad, &bd);
        CHECK(asc == -desc);
        if (asc == 0 && !canonicalizes(t)) CHECK(cut == n - cut && memcmp(p, p + cut, cut) == 0);
    }
    spate_buf_free(&a);
    spate_buf_free(&ad);
    spate_buf_free(&b);
    spate_buf_free(&bd);
}

static void fuzz_decode_value(const spate_cql_ktype_t *t, bool desc, const uint8_t *p, size_t n) {
    spate_rd_t r;
    spate_rd_init(&r, p, n);
    spate_buf_t out = SPATE_BUF_INIT, again = SPATE_BUF_INIT;
    spate_status_t st = spate_cql_key_value_decode(&r, t, desc, &out);
    CHECK(st == SPATE_OK || st == SPATE_EINVAL);
    if (st == SPATE_OK) {
        CHECK(out.len <= SPATE_CQL_KEY_MAX_VALUE);
        CHECK(spate_cql_key_value_encode(&again, t, sl(out.data ? out.data : "", out.len), desc) ==
              SPATE_OK);
        CHECK(same(&again, p, r.off));
    } else {
        CHECK(r.off == 0 && out.len == 0);
    }
    spate_buf_free(&out);
    spate_buf_free(&again);
}

static void fuzz_tombstone(const spate_cql_key_schema_t *s, const uint8_t *p, size_t n) {
    spate_cql_deletion_t d;
    spate_slice_t end;
    if (spate_cql_range_tombstone_decode(s, p, n, &d, &end) == SPATE_OK) {
        CHECK(end.p == (const char *)p + 12 && (size_t)end.len == n - 12);
        spate_buf_t b = SPATE_BUF_INIT;
        CHECK(spate_cql_deletion_encode(&b, &d) == SPATE_OK);
        CHECK(b.len == 12 && memcmp(b.data, p, 12) == 0);
        spate_buf_free(&b);
    }
    if (spate_cql_deletion_decode(p, n, &d) == SPATE_OK) CHECK(n == 12);
}

/* "kind:column:cell-kind:ts:ttl:ldt:len|" per entry, for comparisons. */
static void row_entries(const void *p, size_t n, spate_buf_t *out) {
    spate_cql_row_reader_t rr;
    spate_cql_key_kind_t k;
    uint16_t col;
    spate_cql_cell_t c;
    CHECK(spate_cql_row_reader_init(&rr, p, n) == SPATE_OK);
    spate_status_t st;
    while ((st = spate_cql_row_reader_next(&rr, &k, &col, &c)) == SPATE_OK) {
        char h[160];
        int hn = snprintf(h, sizeof h, "%d:%u:%d:%lld:%d:%d:%d|", (int)k, col, (int)c.kind,
                          (long long)c.timestamp, c.ttl, c.local_deletion_time, (int)c.value.len);
        spate_buf_append(out, h, (size_t)hn);
        if (c.value.len > 0) spate_buf_append(out, c.value.p, (size_t)c.value.len);
    }
    CHECK(st == SPATE_ENOENT);
}

static void fuzz_row(const uint8_t *p, size_t n, uint8_t cut) {
    bool whole = spate_cql_row_value_check(p, n) == SPATE_OK;
    spate_buf_t m1 = SPATE_BUF_INIT, m2 = SPATE_BUF_INIT, again = SPATE_BUF_INIT;
    spate_buf_t e1 = SPATE_BUF_INIT, e2 = SPATE_BUF_INIT;
    spate_slice_t one = {(const char *)p, (int32_t)n};
    spate_status_t st = spate_cql_row_value_merge(&m1, &one, 1);
    if (whole) {
        CHECK(st == SPATE_OK);
        CHECK(spate_cql_row_value_check(m1.data, m1.len) == SPATE_OK);
        /* one operand: the same entries (each id once: the reader
         * enforces strict order), whichever form the merge chose */
        row_entries(p, n, &e1);
        row_entries(m1.data, m1.len, &e2);
        CHECK(e1.len == e2.len && memcmp(e1.data, e2.data, e1.len) == 0);
        /* idempotent */
        spate_slice_t mm[2] = {{m1.data, (int32_t)m1.len}, {m1.data, (int32_t)m1.len}};
        CHECK(spate_cql_row_value_merge(&again, mm, 2) == SPATE_OK);
        CHECK(again.len == m1.len && memcmp(again.data, m1.data, m1.len) == 0);
    }
    /* two operands, both orders: the same bytes */
    size_t k = n ? cut % (n + 1) : 0;
    spate_slice_t a = {(const char *)p, (int32_t)k}, b = {(const char *)p + k, (int32_t)(n - k)};
    spate_slice_t ab[2] = {a, b}, ba[2] = {b, a};
    spate_buf_reset(&m1);
    spate_status_t s1 = spate_cql_row_value_merge(&m1, ab, 2);
    spate_status_t s2 = spate_cql_row_value_merge(&m2, ba, 2);
    CHECK(s1 == s2);
    if (s1 == SPATE_OK) {
        CHECK(m1.len == m2.len && memcmp(m1.data, m2.data, m1.len) == 0);
        CHECK(spate_cql_row_value_check(m1.data, m1.len) == SPATE_OK);
    }
    spate_buf_free(&m1);
    spate_buf_free(&m2);
    spate_buf_free(&again);
    spate_buf_free(&e1);
    spate_buf_free(&e2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    uint8_t mode = data[0] % 7, sel = data[1];
    size_t n = size - 2;
    uint8_t *p = malloc(n ? n : 1);
    if (p == NULL) return 0;
    memcpy(p, data + 2, n);
    const spate_cql_key_schema_t *s = &schemas[sel % 4];
    const spate_cql_ktype_t *t = types[(sel & 0x7F) % (sizeof types / sizeof types[0])];
    bool desc = sel & 0x80;

    (void)spate_cql_murmur3_token(p, n);
    switch (mode) {
    case 0: fuzz_key(s, p, n); break;
    case 1: fuzz_cell(p, n); break;
    case 2: fuzz_value(t, desc, p, n); break;
    case 3:
        if (n > 0) fuzz_pair(t, p + 1, n - 1, p[0]);
        break;
    case 4: fuzz_decode_value(t, desc, p, n); break;
    case 5: fuzz_tombstone(s, p, n); break;
    case 6: fuzz_row(p, n, sel); break;
    }
    free(p);
    return 0;
}
