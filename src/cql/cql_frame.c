/*
 * cql_frame.c — the CQL native protocol v4 wire codec: frame header,
 * [notation] readers and writers, request and response bodies in both
 * directions, and the streaming Rows writer. Layouts and ownership rules
 * are in cql_codec.h; this note covers how the code is arranged.
 *
 * Decoding goes only through spate_rd_t cursors. Each notation reader
 * either succeeds or leaves the cursor where it was and nothing allocated.
 * A body decoder stops at its first failure and frees what it had built
 * with the same function that frees a complete result (every array it
 * owns starts NULL, so a half-built struct frees cleanly). Counts read from the
 * wire are checked against the bytes left (each element needs at least
 * its minimum encoded size) before anything is allocated, so a hostile
 * count costs no memory: the largest allocation is a small multiple of
 * the input size.
 *
 * Bodies that hold a list of lists (BATCH statements with their values,
 * the [string multimap]) are read in two passes: a counting walk that
 * checks the structure, then one allocation per array and a filling walk
 * that cannot fail. A decoded BATCH of 100 statements is two mallocs.
 *
 * Writers append to a spate_buf_t. The whole-message writers
 * (spate_cql_request_write, spate_cql_response_write) cut the buffer back
 * to where they started on any failure, so a caller never sends half a
 * frame.
 *
 * Type trees ([option]) recurse at most SPATE_CQL_MAX_TYPE_DEPTH deep in
 * both directions.
 */
#include <stdlib.h>
#include <string.h>

#include "cql_codec.h"

#define TRY(x)                                                                                     \
    do {                                                                                           \
        spate_status_t st_ = (x);                                                                  \
        if (st_ != SPATE_OK) return st_;                                                           \
    } while (0)

/* Drops everything appended after len (restoring the NUL). */
static void buf_cut(spate_buf_t *b, size_t len) {
    b->len = len;
    if (b->data) b->data[len] = '\0';
}

static bool slice_eq(spate_slice_t s, const char *lit) {
    size_t n = strlen(lit);
    return s.p && (size_t)s.len == n && memcmp(s.p, lit, n) == 0;
}

/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */

const char *spate_cql_opcode_name(int opcode) {
    static const char *const names[] = {
        "ERROR",     "STARTUP", "READY",          "AUTHENTICATE",  NULL,           "OPTIONS",
        "SUPPORTED", "QUERY",   "RESULT",         "PREPARE",       "EXECUTE",      "REGISTER",
        "EVENT",     "BATCH",   "AUTH_CHALLENGE", "AUTH_RESPONSE", "AUTH_SUCCESS",
    };
    if (opcode < 0 || (size_t)opcode >= SPATE_ARRAY_LEN(names)) return NULL;
    return names[opcode];
}

const char *spate_cql_consistency_name(int cl) {
    static const char *const names[] = {
        "ANY",          "ONE",         "TWO",    "THREE",        "QUORUM",    "ALL",
        "LOCAL_QUORUM", "EACH_QUORUM", "SERIAL", "LOCAL_SERIAL", "LOCAL_ONE",
    };
    if (cl < 0 || (size_t)cl >= SPATE_ARRAY_LEN(names)) return NULL;
    return names[cl];
}

/* ------------------------------------------------------------------ */
/* Frame header                                                        */
/* ------------------------------------------------------------------ */

spate_status_t spate_cql_header_parse(const void *buf, size_t len, size_t max_body,
                                      spate_cql_header_t *h) {
    if (len < SPATE_CQL_HEADER_LEN) return SPATE_AGAIN;
    spate_rd_t r;
    spate_rd_init(&r, buf, SPATE_CQL_HEADER_LEN);
    uint8_t ver, flags, op;
    int16_t stream;
    uint32_t length;
    /* Nine bytes are there: these reads cannot fail. */
    spate_rd_u8(&r, &ver);
    spate_rd_u8(&r, &flags);
    spate_rd_i16(&r, &stream);
    spate_rd_u8(&r, &op);
    spate_rd_u32(&r, &length);
    if (length > INT32_MAX || length > max_body) return SPATE_EINVAL;
    h->version = ver & 0x7f;
    h->response = (ver & 0x80) != 0;
    h->flags = flags;
    h->stream = stream;
    h->opcode = op;
    h->length = length;
    return SPATE_OK;
}

spate_status_t spate_cql_frame_begin(spate_buf_t *b, const spate_cql_header_t *h, size_t *mark) {
    uint8_t hdr[SPATE_CQL_HEADER_LEN] = {
        (uint8_t)((h->version & 0x7f) | (h->response ? 0x80 : 0)),
        h->flags,
        (uint8_t)((uint16_t)h->stream >> 8),
        (uint8_t)h->stream,
        h->opcode,
        0,
        0,
        0,
        0,
    };
    *mark = b->len;
    return spate_buf_append(b, hdr, sizeof hdr);
}

spate_status_t spate_cql_frame_end(spate_buf_t *b, size_t mark) {
    size_t body = b->len - mark - SPATE_CQL_HEADER_LEN;
    if (body > INT32_MAX) return SPATE_ERANGE;
    spate_wr_patch_u32(b, mark + 5, (uint32_t)body);
    return SPATE_OK;
}

/* ------------------------------------------------------------------ */
/* Primitive readers                                                   */
/* ------------------------------------------------------------------ */

spate_status_t spate_cql_rd_int(spate_rd_t *r, int32_t *v) { return spate_rd_i32(r, v); }
spate_status_t spate_cql_rd_long(spate_rd_t *r, int64_t *v) { return spate_rd_i64(r, v); }
spate_status_t spate_cql_rd_short(spate_rd_t *r, uint16_t *v) { return spate_rd_u16(r, v); }
spate_status_t spate_cql_rd_byte(spate_rd_t *r, uint8_t *v) { return spate_rd_u8(r, v); }

/* n bytes after a length prefix that started at save. */
static spate_status_t rd_body(spate_rd_t *r, size_t save, size_t n, spate_slice_t *s) {
    const uint8_t *p;
    spate_status_t st = spate_rd_bytes(r, n, &p);
    if (st != SPATE_OK) {
        r->off = save;
        return st;
    }
    s->p = (const char *)p;
    s->len = (int32_t)n;
    return SPATE_OK;
}

spate_status_t spate_cql_rd_string(spate_rd_t *r, spate_slice_t *s) {
    size_t save = r->off;
    uint16_t n;
    TRY(spate_rd_u16(r, &n));
    return rd_body(r, save, n, s);
}

spate_status_t spate_cql_rd_short_bytes(spate_rd_t *r, spate_slice_t *s) {
    return spate_cql_rd_string(r, s); /* the same layout: [short] n + n bytes */
}

spate_status_t spate_cql_rd_long_string(spate_rd_t *r, spate_slice_t *s) {
    size_t save = r->off;
    int32_t n;
    TRY(spate_rd_i32(r, &n));
    if (n < 0) {
        r->off = save;
        return SPATE_EINVAL;
    }
    return rd_body(r, save, (size_t)n, s);
}

spate_status_t spate_cql_rd_bytes(spate_rd_t *r, spate_slice_t *s) {
    size_t save = r->off;
    int32_t n;
    TRY(spate_rd_i32(r, &n));
    if (n < 0) {
        s->p = NULL;
        s->len = SPATE_CQL_NULL;
        return SPATE_OK;
    }
    return rd_body(r, save, (size_t)n, s);
}

spate_status_t spate_cql_rd_value(spate_rd_t *r, spate_slice_t *s) {
    size_t save = r->off;
    int32_t n;
    TRY(spate_rd_i32(r, &n));
    if (n == SPATE_CQL_NULL || n == SPATE_CQL_UNSET) {
        s->p = NULL;
        s->len = n;
        return SPATE_OK;
    }
    if (n < 0) {
        r->off = save;
        return SPATE_EINVAL;
    }
    return rd_body(r, save, (size_t)n, s);
}

spate_status_t spate_cql_rd_uuid(spate_rd_t *r, uint8_t u[16]) {
    const uint8_t *p;
    TRY(spate_rd_bytes(r, 16, &p));
    memcpy(u, p, 16);
    return SPATE_OK;
}

spate_status_t spate_cql_rd_inet(spate_rd_t *r, spate_cql_inet_t *a) {
    size_t save = r->off;
    uint8_t n;
    const uint8_t *p;
    int32_t port;
    spate_status_t st = spate_rd_u8(r, &n);
    if (st != SPATE_OK) return st;
    if (n != 4 && n != 16) {
        st = SPATE_EINVAL;
        goto fail;
    }
    if ((st = spate_rd_bytes(r, n, &p)) != SPATE_OK) goto fail;
    if ((st = spate_rd_i32(r, &port)) != SPATE_OK) goto fail;
    memset(a, 0, sizeof *a);
    a->len = n;
    memcpy(a->addr, p, n);
    a->port = port;
    return SPATE_OK;
fail:
    r->off = save;
    return st;
}

spate_status_t spate_cql_rd_consistency(spate_rd_t *r, uint16_t *cl) {
    uint16_t v;
    TRY(spate_rd_u16(r, &v));
    if (v > SPATE_CQL_CL_LOCAL_ONE) {
        r->off -= 2;
        return SPATE_EINVAL;
    }
    *cl = v;
    return SPATE_OK;
}

/* ------------------------------------------------------------------ */
/* Containers                                                          */
/* ------------------------------------------------------------------ */

void spate_cql_strlist_free(spate_cql_strlist_t *l) {
    if (!l) return;
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void spate_cql_strmap_free(spate_cql_strmap_t *m) {
    if (!m) return;
    free(m->e);
    m->e = NULL;
    m->n = 0;
}

void spate_cql_multimap_free(spate_cql_multimap_t *m) {
    if (!m) return;
    free(m->e);
    free(m->all);
    memset(m, 0, sizeof *m);
}

bool spate_cql_strmap_get(const spate_cql_strmap_t *m, const char *key, spate_slice_t *out) {
    for (uint16_t i = 0; i < m->n; i++)
        if (slice_eq(m->e[i].key, key)) {
            *out = m->e[i].value;
            return true;
        }
    return false;
}

const spate_cql_mmentry_t *spate_cql_multimap_get(const spate_cql_multimap_t *m, const char *key) {
    for (uint16_t i = 0; i < m->n; i++)
        if (slice_eq(m->e[i].key, key)) return &m->e[i];
    return NULL;
}

/* Reads a [short] count and checks that count elements of at least
 * min_size bytes each can fit in what is left (AGAIN otherwise: the input
 * is short, as far as this reader can tell). */
static spate_status_t rd_count(spate_rd_t *r, size_t min_size, uint16_t *n) {
    TRY(spate_rd_u16(r, n));
    if ((size_t)*n * min_size > spate_rd_left(r)) {
        r->off -= 2;
        return SPATE_AGAIN;
    }
    return SPATE_OK;
}

spate_status_t spate_cql_rd_string_list(spate_rd_t *r, spate_cql_strlist_t *out) {
    size_t save = r->off;
    uint16_t n;
    TRY(rd_count(r, 2, &n));
    spate_slice_t *v = NULL;
    if (n > 0 && !(v = malloc(n * sizeof *v))) {
        r->off = save;
        return SPATE_ENOMEM;
    }
    for (uint16_t i = 0; i < n; i++) {
        spate_status_t st = spate_cql_rd_string(r, &v[i]);
        if (st != SPATE_OK) {
            free(v);
            r->off = save;
            return st;
        }
    }
    out->n = n;
    out->v = v;
    return SPATE_OK;
}

/* [string map] (bytes_values false) and [bytes map] (true). */
static spate_status_t rd_map(spate_rd_t *r, bool bytes_values, spate_cql_strmap_t *out) {
    size_t save = r->off;
    uint16_t n;
    TRY(rd_count(r, bytes_values ? 6 : 4, &n));
    spate_cql_pair_t *e = NULL;
    if (n > 0 && !(e = malloc(n * sizeof *e))) {
        r->off = save;
        return SPATE_ENOMEM;
    }
    for (uint16_t i = 0; i < n; i++) {
        spate_status_t st = spate_cql_rd_string(r, &e[i].key);
        if (st == SPATE_OK)
            st = bytes_values ? spate_cql_rd_bytes(r, &e[i].value)
                              : spate_cql_rd_string(r, &e[i].value);
        if (st != SPATE_OK) {
            free(e);
            r->off = save;
            return st;
        }
    }
    out->n = n;
    out->e = e;
    return SPATE_OK;
}

spate_status_t spate_cql_rd_string_map(spate_rd_t *r, spate_cql_strmap_t *out) {
    return rd_map(r, false, out);
}

spate_status_t spate_cql_rd_bytes_map(spate_rd_t *r, spate_cql_strmap_t *out) {
    return rd_map(r, true, out);
}

spate_status_t spate_cql_rd_string_multimap(spate_rd_t *r, spate_cql_multimap_t *out) {
    size_t save = r->off;
    uint16_t n;
    TRY(rd_count(r, 4, &n));
    /* Pass 1: check the layout and count the values. */
    size_t total = 0;
    spate_slice_t s;
    spate_status_t st = SPATE_OK;
    for (uint16_t i = 0; i < n && st == SPATE_OK; i++) {
        uint16_t k = 0;
        if ((st = spate_cql_rd_string(r, &s)) == SPATE_OK && (st = rd_count(r, 2, &k)) == SPATE_OK)
            for (uint16_t j = 0; j < k && st == SPATE_OK; j++) st = spate_cql_rd_string(r, &s);
        total += k;
    }
    if (st != SPATE_OK) {
        r->off = save;
        return st;
    }
    size_t end = r->off;
    spate_cql_mmentry_t *e = n ? calloc(n, sizeof *e) : NULL;
    spate_slice_t *all = total ? malloc(total * sizeof *all) : NULL;
    if ((n && !e) || (total && !all)) {
        free(e);
        free(all);
        r->off = save;
        return SPATE_ENOMEM;
    }
    /* Pass 2: fill. */
    r->off = save + 2;
    size_t at = 0;
    for (uint16_t i = 0; i < n; i++) {
        spate_cql_rd_string(r, &e[i].key);
        spate_rd_u16(r, &e[i].n);
        e[i].values = all ? all + at : NULL;
        for (uint16_t j = 0; j < e[i].n; j++) spate_cql_rd_string(r, &all[at++]);
    }
    r->off = end;
    out->n = n;
    out->e = e;
    out->all = all;
    return SPATE_OK;
}

/* ---- writers ---- */

spate_status_t spate_cql_wr_int(spate_buf_t *b, int32_t v) { return spate_wr_i32(b, v); }
spate_status_t spate_cql_wr_long(spate_buf_t *b, int64_t v) { return spate_wr_i64(b, v); }
spate_status_t spate_cql_wr_short(spate_buf_t *b, uint16_t v) { return spate_wr_u16(b, v); }
spate_status_t spate_cql_wr_byte(spate_buf_t *b, uint8_t v) { return spate_wr_u8(b, v); }

spate_status_t spate_cql_wr_string(spate_buf_t *b, const char *p, size_t n) {
    if (n > UINT16_MAX) return SPATE_ERANGE;
    TRY(spate_buf_reserve(b, 2 + n));
    spate_wr_u16(b, (uint16_t)n);
    return n ? spate_buf_append(b, p, n) : SPATE_OK;
}

spate_status_t spate_cql_wr_short_bytes(spate_buf_t *b, const void *p, size_t n) {
    return spate_cql_wr_string(b, p, n);
}

spate_status_t spate_cql_wr_long_string(spate_buf_t *b, const char *p, size_t n) {
    if (n > INT32_MAX) return SPATE_ERANGE;
    TRY(spate_buf_reserve(b, 4 + n));
    spate_wr_u32(b, (uint32_t)n);
    return n ? spate_buf_append(b, p, n) : SPATE_OK;
}

spate_status_t spate_cql_wr_bytes(spate_buf_t *b, const void *p, size_t n) {
    if (!p) return spate_wr_i32(b, SPATE_CQL_NULL);
    return spate_cql_wr_long_string(b, p, n);
}

spate_status_t spate_cql_wr_value(spate_buf_t *b, spate_slice_t v) {
    if (v.len == SPATE_CQL_NULL || v.len == SPATE_CQL_UNSET) return spate_wr_i32(b, v.len);
    if (v.len < 0 || (!v.p && v.len > 0)) return SPATE_EINVAL;
    return spate_cql_wr_long_string(b, v.p, (size_t)v.len);
}

static spate_status_t wr_slice_string(spate_buf_t *b, spate_slice_t s) {
    if (s.len < 0 || (!s.p && s.len > 0)) return SPATE_EINVAL;
    return spate_cql_wr_string(b, s.p, (size_t)s.len);
}

static spate_status_t wr_slice_bytes(spate_buf_t *b, spate_slice_t s) {
    if (!s.p || s.len < 0) return spate_wr_i32(b, SPATE_CQL_NULL);
    return spate_cql_wr_long_string(b, s.p, (size_t)s.len);
}

spate_status_t spate_cql_wr_uuid(spate_buf_t *b, const uint8_t u[16]) {
    return spate_buf_append(b, u, 16);
}

spate_status_t spate_cql_wr_inet(spate_buf_t *b, const spate_cql_inet_t *a) {
    if (a->len != 4 && a->len != 16) return SPATE_EINVAL;
    TRY(spate_buf_reserve(b, 1u + a->len + 4));
    spate_wr_u8(b, a->len);
    spate_buf_append(b, a->addr, a->len);
    return spate_wr_i32(b, a->port);
}

spate_status_t spate_cql_wr_string_list(spate_buf_t *b, const spate_cql_strlist_t *l) {
    size_t start = b->len;
    spate_status_t st = spate_wr_u16(b, l->n);
    for (uint16_t i = 0; i < l->n && st == SPATE_OK; i++) st = wr_slice_string(b, l->v[i]);
    if (st != SPATE_OK) buf_cut(b, start);
    return st;
}

static spate_status_t wr_map(spate_buf_t *b, const spate_cql_strmap_t *m, bool bytes_values) {
    size_t start = b->len;
    spate_status_t st = spate_wr_u16(b, m->n);
    for (uint16_t i = 0; i < m->n && st == SPATE_OK; i++) {
        st = wr_slice_string(b, m->e[i].key);
        if (st == SPATE_OK)
            st =
                bytes_values ? wr_slice_bytes(b, m->e[i].value) : wr_slice_string(b, m->e[i].value);
    }
    if (st != SPATE_OK) buf_cut(b, start);
    return st;
}

spate_status_t spate_cql_wr_string_map(spate_buf_t *b, const spate_cql_strmap_t *m) {
    return wr_map(b, m, false);
}

spate_status_t spate_cql_wr_bytes_map(spate_buf_t *b, const spate_cql_strmap_t *m) {
    return wr_map(b, m, true);
}

spate_status_t spate_cql_wr_string_multimap(spate_buf_t *b, const spate_cql_multimap_t *m) {
    size_t start = b->len;
    spate_status_t st = spate_wr_u16(b, m->n);
    for (uint16_t i = 0; i < m->n && st == SPATE_OK; i++) {
        st = wr_slice_string(b, m->e[i].key);
        if (st == SPATE_OK) st = spate_wr_u16(b, m->e[i].n);
        for (uint16_t j = 0; j < m->e[i].n && st == SPATE_OK; j++)
            st = wr_slice_string(b, m->e[i].values[j]);
    }
    if (st != SPATE_OK) buf_cut(b, start);
    return st;
}

spate_status_t spate_cql_wr_bytes_begin(spate_buf_t *b, size_t *mark) {
    *mark = b->len;
    return spate_wr_u32(b, 0);
}

spate_status_t spate_cql_wr_bytes_end(spate_buf_t *b, size_t mark) {
    size_t n = b->len - mark - 4;
    if (n > INT32_MAX) return SPATE_ERANGE;
    spate_wr_patch_u32(b, mark, (uint32_t)n);
    return SPATE_OK;
}

/* ------------------------------------------------------------------ */
/* [option] type trees                                                 */
/* ------------------------------------------------------------------ */

spate_status_t spate_cql_datatype_make(spate_cql_datatype_t *t, spate_cql_type_t id, uint16_t n) {
    memset(t, 0, sizeof *t);
    t->id = id;
    if (n == 0) return SPATE_OK;
    t->sub = calloc(n, sizeof *t->sub);
    if (id == SPATE_CQL_UDT) t->fields = calloc(n, sizeof *t->fields);
    if (!t->sub || (id == SPATE_CQL_UDT && !t->fields)) {
        free(t->sub);
        free(t->fields);
        t->sub = NULL;
        t->fields = NULL;
        return SPATE_ENOMEM;
    }
    t->n = n;
    return SPATE_OK;
}

void spate_cql_datatype_free(spate_cql_datatype_t *t) {
    if (!t) return;
    if (t->sub)
        for (uint16_t i = 0; i < t->n; i++) spate_cql_datatype_free(&t->sub[i]);
    free(t->sub);
    free(t->fields);
    memset(t, 0, sizeof *t);
}

static bool is_simple_type(uint16_t id) {
    switch (id) {
    case SPATE_CQL_ASCII:
    case SPATE_CQL_BIGINT:
    case SPATE_CQL_BLOB:
    case SPATE_CQL_BOOLEAN:
    case SPATE_CQL_COUNTER:
    case SPATE_CQL_DECIMAL:
    case SPATE_CQL_DOUBLE:
    case SPATE_CQL_FLOAT:
    case SPATE_CQL_INT:
    case SPATE_CQL_TIMESTAMP:
    case SPATE_CQL_UUID:
    case SPATE_CQL_VARCHAR:
    case SPATE_CQL_VARINT:
    case SPATE_CQL_TIMEUUID:
    case SPATE_CQL_INET:
    case SPATE_CQL_DATE:
    case SPATE_CQL_TIME:
    case SPATE_CQL_SMALLINT:
    case SPATE_CQL_TINYINT:
    case SPATE_CQL_DURATION: return true;
    default: return false;
    }
}

static spate_status_t rd_option(spate_rd_t *r, spate_cql_datatype_t *t, int depth) {
    memset(t, 0, sizeof *t);
    if (depth >= SPATE_CQL_MAX_TYPE_DEPTH) return SPATE_EINVAL;
    size_t save = r->off;
    uint16_t id, n = 0;
    spate_status_t st;
    TRY(spate_rd_u16(r, &id));
    if (id == 0x000A) id = SPATE_CQL_VARCHAR; /* the old id of text */
    if (is_simple_type(id)) {
        t->id = (spate_cql_type_t)id;
        return SPATE_OK;
    }
    switch (id) {
    case SPATE_CQL_CUSTOM:
        t->id = SPATE_CQL_CUSTOM;
        if ((st = spate_cql_rd_string(r, &t->name)) != SPATE_OK) goto fail;
        return SPATE_OK;
    case SPATE_CQL_LIST:
    case SPATE_CQL_SET:
    case SPATE_CQL_MAP:
        n = id == SPATE_CQL_MAP ? 2 : 1;
        if ((st = spate_cql_datatype_make(t, (spate_cql_type_t)id, n)) != SPATE_OK) goto fail;
        break;
    case SPATE_CQL_TUPLE:
        if ((st = rd_count(r, 2, &n)) != SPATE_OK) goto fail;
        if ((st = spate_cql_datatype_make(t, SPATE_CQL_TUPLE, n)) != SPATE_OK) goto fail;
        break;
    case SPATE_CQL_UDT: {
        spate_slice_t ks, name;
        if ((st = spate_cql_rd_string(r, &ks)) != SPATE_OK ||
            (st = spate_cql_rd_string(r, &name)) != SPATE_OK ||
            (st = rd_count(r, 4, &n)) != SPATE_OK)
            goto fail;
        if ((st = spate_cql_datatype_make(t, SPATE_CQL_UDT, n)) != SPATE_OK) goto fail;
        t->keyspace = ks;
        t->name = name;
        break;
    }
    default: st = SPATE_EINVAL; goto fail;
    }
    for (uint16_t i = 0; i < n; i++) {
        if (t->id == SPATE_CQL_UDT && (st = spate_cql_rd_string(r, &t->fields[i])) != SPATE_OK)
            goto fail;
        if ((st = rd_option(r, &t->sub[i], depth + 1)) != SPATE_OK) goto fail;
    }
    return SPATE_OK;
fail:
    spate_cql_datatype_free(t);
    r->off = save;
    return st;
}

spate_status_t spate_cql_rd_option(spate_rd_t *r, spate_cql_datatype_t *out) {
    return rd_option(r, out, 0);
}

static spate_status_t wr_option(spate_buf_t *b, const spate_cql_datatype_t *t, int depth) {
    if (depth >= SPATE_CQL_MAX_TYPE_DEPTH) return SPATE_EINVAL;
    TRY(spate_wr_u16(b, (uint16_t)t->id));
    if (is_simple_type(t->id)) return SPATE_OK;
    switch (t->id) {
    case SPATE_CQL_CUSTOM: return wr_slice_string(b, t->name);
    case SPATE_CQL_LIST:
    case SPATE_CQL_SET:
        if (t->n != 1 || !t->sub) return SPATE_EINVAL;
        break;
    case SPATE_CQL_MAP:
        if (t->n != 2 || !t->sub) return SPATE_EINVAL;
        break;
    case SPATE_CQL_TUPLE:
        if (t->n && !t->sub) return SPATE_EINVAL;
        TRY(spate_wr_u16(b, t->n));
        break;
    case SPATE_CQL_UDT:
        if (t->n && (!t->sub || !t->fields)) return SPATE_EINVAL;
        TRY(wr_slice_string(b, t->keyspace));
        TRY(wr_slice_string(b, t->name));
        TRY(spate_wr_u16(b, t->n));
        break;
    default: return SPATE_EINVAL;
    }
    for (uint16_t i = 0; i < t->n; i++) {
        if (t->id == SPATE_CQL_UDT) TRY(wr_slice_string(b, t->fields[i]));
        TRY(wr_option(b, &t->sub[i], depth + 1));
    }
    return SPATE_OK;
}

spate_status_t spate_cql_wr_option(spate_buf_t *b, const spate_cql_datatype_t *t) {
    size_t start = b->len;
    spate_status_t st = wr_option(b, t, 0);
    if (st != SPATE_OK) buf_cut(b, start);
    return st;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

/* Inside a body, "short" can only mean truncated: report it as malformed. */
static spate_status_t body_status(spate_status_t st) {
    return st == SPATE_AGAIN ? SPATE_EINVAL : st;
}

static spate_status_t rd_params(spate_rd_t *r, spate_cql_params_t *p) {
    p->page_size = -1;
    p->serial_consistency = SPATE_CQL_CL_SERIAL;
    p->timestamp = INT64_MIN;
    p->paging_state = (spate_slice_t){NULL, SPATE_CQL_NULL};
    TRY(spate_cql_rd_consistency(r, &p->consistency));
    TRY(spate_rd_u8(r, &p->flags));
    if (p->flags & ~0x7f) return SPATE_EINVAL;
    if (p->flags & SPATE_CQL_QF_VALUES) {
        bool named = p->flags & SPATE_CQL_QF_NAMES_FOR_VALUES;
        uint16_t n;
        TRY(rd_count(r, named ? 6 : 4, &n));
        if (n > 0) {
            if (!(p->values = malloc(n * sizeof *p->values))) return SPATE_ENOMEM;
            if (named && !(p->names = malloc(n * sizeof *p->names))) return SPATE_ENOMEM;
        }
        for (uint16_t i = 0; i < n; i++) {
            if (named) TRY(spate_cql_rd_string(r, &p->names[i]));
            TRY(spate_cql_rd_value(r, &p->values[i]));
        }
        p->nvalues = n;
    }
    if (p->flags & SPATE_CQL_QF_PAGE_SIZE) TRY(spate_rd_i32(r, &p->page_size));
    if (p->flags & SPATE_CQL_QF_PAGING_STATE) TRY(spate_cql_rd_bytes(r, &p->paging_state));
    if (p->flags & SPATE_CQL_QF_SERIAL_CONSISTENCY)
        TRY(spate_cql_rd_consistency(r, &p->serial_consistency));
    if (p->flags & SPATE_CQL_QF_DEFAULT_TIMESTAMP) TRY(spate_rd_i64(r, &p->timestamp));
    return SPATE_OK;
}

/* One BATCH <query_i> without keeping it (pass 1); adds its value count. */
static spate_status_t rd_batch_stmt(spate_rd_t *r, spate_cql_batch_stmt_t *s) {
    TRY(spate_rd_u8(r, &s->kind));
    if (s->kind == 0)
        TRY(spate_cql_rd_long_string(r, &s->query));
    else if (s->kind == 1)
        TRY(spate_cql_rd_short_bytes(r, &s->query));
    else
        return SPATE_EINVAL;
    TRY(rd_count(r, 4, &s->nvalues));
    return SPATE_OK;
}

static spate_status_t rd_batch(spate_rd_t *r, spate_cql_batch_t *bt) {
    TRY(spate_rd_u8(r, &bt->type));
    if (bt->type > SPATE_CQL_BATCH_COUNTER) return SPATE_EINVAL;
    uint16_t n;
    TRY(rd_count(r, 5, &n)); /* kind + empty id + value count */
    /* Pass 1: structure and total value count. */
    size_t first = r->off, total = 0;
    spate_cql_batch_stmt_t s;
    spate_slice_t v;
    for (uint16_t i = 0; i < n; i++) {
        TRY(rd_batch_stmt(r, &s));
        total += s.nvalues;
        for (uint16_t j = 0; j < s.nvalues; j++) TRY(spate_cql_rd_value(r, &v));
    }
    TRY(spate_cql_rd_consistency(r, &bt->consistency));
    TRY(spate_rd_u8(r, &bt->flags));
    /* The low four bits make no sense for a batch, and names for values
     * cannot work (spec §4.1.7, CASSANDRA-10246): both are refused. */
    if (bt->flags & ~(SPATE_CQL_QF_SERIAL_CONSISTENCY | SPATE_CQL_QF_DEFAULT_TIMESTAMP))
        return SPATE_EINVAL;
    bt->serial_consistency = SPATE_CQL_CL_SERIAL;
    bt->timestamp = INT64_MIN;
    if (bt->flags & SPATE_CQL_QF_SERIAL_CONSISTENCY)
        TRY(spate_cql_rd_consistency(r, &bt->serial_consistency));
    if (bt->flags & SPATE_CQL_QF_DEFAULT_TIMESTAMP) TRY(spate_rd_i64(r, &bt->timestamp));
    size_t end = r->off;
    /* Pass 2: fill (cannot fail). */
    if (n && !(bt->stmts = calloc(n, sizeof *bt->stmts))) return SPATE_ENOMEM;
    if (total && !(bt->all_values = malloc(total * sizeof *bt->all_values))) return SPATE_ENOMEM;
    r->off = first;
    size_t at = 0;
    for (uint16_t i = 0; i < n; i++) {
        spate_cql_batch_stmt_t *st = &bt->stmts[i];
        rd_batch_stmt(r, st);
        st->values = bt->all_values ? bt->all_values + at : NULL;
        for (uint16_t j = 0; j < st->nvalues; j++) spate_cql_rd_value(r, &bt->all_values[at++]);
    }
    bt->n = n;
    r->off = end;
    return SPATE_OK;
}

static spate_status_t rd_request(spate_rd_t *r, spate_cql_request_t *req) {
    switch (req->opcode) {
    case SPATE_CQL_OP_STARTUP: return spate_cql_rd_string_map(r, &req->options);
    case SPATE_CQL_OP_OPTIONS: return SPATE_OK;
    case SPATE_CQL_OP_QUERY:
        TRY(spate_cql_rd_long_string(r, &req->query));
        return rd_params(r, &req->params);
    case SPATE_CQL_OP_PREPARE: return spate_cql_rd_long_string(r, &req->query);
    case SPATE_CQL_OP_EXECUTE:
        TRY(spate_cql_rd_short_bytes(r, &req->id));
        return rd_params(r, &req->params);
    case SPATE_CQL_OP_BATCH: return rd_batch(r, &req->batch);
    case SPATE_CQL_OP_REGISTER: return spate_cql_rd_string_list(r, &req->events);
    case SPATE_CQL_OP_AUTH_RESPONSE: return spate_cql_rd_bytes(r, &req->token);
    default: return SPATE_EINVAL;
    }
}

spate_status_t spate_cql_request_decode(const spate_cql_header_t *h, const void *body, size_t len,
                                        spate_cql_request_t *req) {
    memset(req, 0, sizeof *req);
    req->opcode = h->opcode;
    req->tracing = (h->flags & SPATE_CQL_FLAG_TRACING) != 0;
    spate_rd_t r;
    spate_rd_init(&r, body, len);
    spate_status_t st = SPATE_OK;
    if (h->flags & SPATE_CQL_FLAG_CUSTOM_PAYLOAD)
        st = spate_cql_rd_bytes_map(&r, &req->custom_payload);
    if (st == SPATE_OK) st = rd_request(&r, req);
    if (st != SPATE_OK) {
        spate_cql_request_free(req);
        return body_status(st);
    }
    return SPATE_OK;
}

void spate_cql_request_free(spate_cql_request_t *req) {
    if (!req) return;
    spate_cql_strmap_free(&req->custom_payload);
    spate_cql_strmap_free(&req->options);
    free(req->params.values);
    free(req->params.names);
    free(req->batch.stmts);
    free(req->batch.all_values);
    spate_cql_strlist_free(&req->events);
    uint8_t op = req->opcode;
    memset(req, 0, sizeof *req);
    req->opcode = op;
}

static spate_status_t wr_params(spate_buf_t *b, const spate_cql_params_t *p) {
    if (p->flags & ~0x7f) return SPATE_EINVAL;
    if (p->consistency > SPATE_CQL_CL_LOCAL_ONE) return SPATE_EINVAL;
    TRY(spate_wr_u16(b, p->consistency));
    TRY(spate_wr_u8(b, p->flags));
    if (p->flags & SPATE_CQL_QF_VALUES) {
        bool named = p->flags & SPATE_CQL_QF_NAMES_FOR_VALUES;
        if (p->nvalues && (!p->values || (named && !p->names))) return SPATE_EINVAL;
        TRY(spate_wr_u16(b, p->nvalues));
        for (uint16_t i = 0; i < p->nvalues; i++) {
            if (named) TRY(wr_slice_string(b, p->names[i]));
            TRY(spate_cql_wr_value(b, p->values[i]));
        }
    }
    if (p->flags & SPATE_CQL_QF_PAGE_SIZE) TRY(spate_wr_i32(b, p->page_size));
    if (p->flags & SPATE_CQL_QF_PAGING_STATE) TRY(wr_slice_bytes(b, p->paging_state));
    if (p->flags & SPATE_CQL_QF_SERIAL_CONSISTENCY) {
        if (p->serial_consistency > SPATE_CQL_CL_LOCAL_ONE) return SPATE_EINVAL;
        TRY(spate_wr_u16(b, p->serial_consistency));
    }
    if (p->flags & SPATE_CQL_QF_DEFAULT_TIMESTAMP) TRY(spate_wr_i64(b, p->timestamp));
    return SPATE_OK;
}

static spate_status_t wr_batch(spate_buf_t *b, const spate_cql_batch_t *bt) {
    if (bt->type > SPATE_CQL_BATCH_COUNTER || (bt->n && !bt->stmts) ||
        bt->consistency > SPATE_CQL_CL_LOCAL_ONE ||
        (bt->flags & ~(SPATE_CQL_QF_SERIAL_CONSISTENCY | SPATE_CQL_QF_DEFAULT_TIMESTAMP)))
        return SPATE_EINVAL;
    TRY(spate_wr_u8(b, bt->type));
    TRY(spate_wr_u16(b, bt->n));
    for (uint16_t i = 0; i < bt->n; i++) {
        const spate_cql_batch_stmt_t *s = &bt->stmts[i];
        if (s->query.len < 0 || (!s->query.p && s->query.len) || (s->nvalues && !s->values))
            return SPATE_EINVAL;
        TRY(spate_wr_u8(b, s->kind));
        if (s->kind == 0)
            TRY(spate_cql_wr_long_string(b, s->query.p, (size_t)s->query.len));
        else if (s->kind == 1)
            TRY(spate_cql_wr_short_bytes(b, s->query.p, (size_t)s->query.len));
        else
            return SPATE_EINVAL;
        TRY(spate_wr_u16(b, s->nvalues));
        for (uint16_t j = 0; j < s->nvalues; j++) TRY(spate_cql_wr_value(b, s->values[j]));
    }
    TRY(spate_wr_u16(b, bt->consistency));
    TRY(spate_wr_u8(b, bt->flags));
    if (bt->flags & SPATE_CQL_QF_SERIAL_CONSISTENCY) TRY(spate_wr_u16(b, bt->serial_consistency));
    if (bt->flags & SPATE_CQL_QF_DEFAULT_TIMESTAMP) TRY(spate_wr_i64(b, bt->timestamp));
    return SPATE_OK;
}

static spate_status_t wr_request_body(spate_buf_t *b, const spate_cql_request_t *req) {
    switch (req->opcode) {
    case SPATE_CQL_OP_STARTUP: return spate_cql_wr_string_map(b, &req->options);
    case SPATE_CQL_OP_OPTIONS: return SPATE_OK;
    case SPATE_CQL_OP_QUERY:
        if (req->query.len < 0 || (!req->query.p && req->query.len)) return SPATE_EINVAL;
        TRY(spate_cql_wr_long_string(b, req->query.p, (size_t)req->query.len));
        return wr_params(b, &req->params);
    case SPATE_CQL_OP_PREPARE:
        if (req->query.len < 0 || (!req->query.p && req->query.len)) return SPATE_EINVAL;
        return spate_cql_wr_long_string(b, req->query.p, (size_t)req->query.len);
    case SPATE_CQL_OP_EXECUTE: TRY(wr_slice_string(b, req->id)); return wr_params(b, &req->params);
    case SPATE_CQL_OP_BATCH: return wr_batch(b, &req->batch);
    case SPATE_CQL_OP_REGISTER: return spate_cql_wr_string_list(b, &req->events);
    case SPATE_CQL_OP_AUTH_RESPONSE: return wr_slice_bytes(b, req->token);
    default: return SPATE_EINVAL;
    }
}

spate_status_t spate_cql_request_write(spate_buf_t *b, uint8_t version, int16_t stream,
                                       const spate_cql_request_t *req) {
    spate_cql_header_t h = {
        .version = version,
        .response = false,
        .flags = (uint8_t)((req->tracing ? SPATE_CQL_FLAG_TRACING : 0) |
                           (req->custom_payload.n ? SPATE_CQL_FLAG_CUSTOM_PAYLOAD : 0)),
        .stream = stream,
        .opcode = req->opcode,
    };
    size_t mark;
    spate_status_t st = spate_cql_frame_begin(b, &h, &mark);
    if (st != SPATE_OK) return st;
    if (req->custom_payload.n) st = spate_cql_wr_bytes_map(b, &req->custom_payload);
    if (st == SPATE_OK) st = wr_request_body(b, req);
    if (st == SPATE_OK) st = spate_cql_frame_end(b, mark);
    if (st != SPATE_OK) buf_cut(b, mark);
    return st;
}

/* ------------------------------------------------------------------ */
/* Responses: decoding                                                 */
/* ------------------------------------------------------------------ */

static spate_status_t rd_error(spate_rd_t *r, spate_cql_error_t *e) {
    TRY(spate_rd_i32(r, &e->code));
    TRY(spate_cql_rd_string(r, &e->message));
    switch (e->code) {
    case SPATE_CQL_ERR_UNAVAILABLE:
        TRY(spate_cql_rd_consistency(r, &e->consistency));
        TRY(spate_rd_i32(r, &e->required));
        return spate_rd_i32(r, &e->alive);
    case SPATE_CQL_ERR_WRITE_TIMEOUT:
    case SPATE_CQL_ERR_READ_TIMEOUT:
    case SPATE_CQL_ERR_READ_FAILURE:
    case SPATE_CQL_ERR_WRITE_FAILURE:
        TRY(spate_cql_rd_consistency(r, &e->consistency));
        TRY(spate_rd_i32(r, &e->received));
        TRY(spate_rd_i32(r, &e->blockfor));
        if (e->code == SPATE_CQL_ERR_READ_FAILURE || e->code == SPATE_CQL_ERR_WRITE_FAILURE)
            TRY(spate_rd_i32(r, &e->numfailures));
        if (e->code == SPATE_CQL_ERR_WRITE_TIMEOUT || e->code == SPATE_CQL_ERR_WRITE_FAILURE)
            return spate_cql_rd_string(r, &e->write_type);
        return spate_rd_u8(r, &e->data_present);
    case SPATE_CQL_ERR_FUNCTION_FAILURE:
        TRY(spate_cql_rd_string(r, &e->keyspace));
        TRY(spate_cql_rd_string(r, &e->function));
        return spate_cql_rd_string_list(r, &e->arg_types);
    case SPATE_CQL_ERR_ALREADY_EXISTS:
        TRY(spate_cql_rd_string(r, &e->keyspace));
        return spate_cql_rd_string(r, &e->table);
    case SPATE_CQL_ERR_UNPREPARED: return spate_cql_rd_short_bytes(r, &e->id);
    default: return SPATE_OK;
    }
}

static void metadata_free(spate_cql_metadata_t *md) {
    if (md->columns)
        for (int32_t i = 0; i < md->columns_count; i++)
            spate_cql_datatype_free(&md->columns[i].type);
    free(md->columns);
    free(md->pk_index);
    md->columns = NULL;
    md->pk_index = NULL;
}

/* Rows metadata (bind false) or Prepared bind metadata (bind true). */
/* bind: a PREPARED answer's bind metadata, which carries the partition
 * key indexes from v4 on (pk: version >= 4). */
static spate_status_t rd_metadata(spate_rd_t *r, spate_cql_metadata_t *md, bool bind, bool pk) {
    int32_t allowed = bind ? SPATE_CQL_MD_GLOBAL_TABLES_SPEC
                           : SPATE_CQL_MD_GLOBAL_TABLES_SPEC | SPATE_CQL_MD_HAS_MORE_PAGES |
                                 SPATE_CQL_MD_NO_METADATA;
    md->paging_state = (spate_slice_t){NULL, SPATE_CQL_NULL};
    TRY(spate_rd_i32(r, &md->flags));
    if (md->flags & ~allowed) return SPATE_EINVAL;
    TRY(spate_rd_i32(r, &md->columns_count));
    if (md->columns_count < 0) return SPATE_EINVAL;
    if (bind && pk) {
        TRY(spate_rd_i32(r, &md->pk_count));
        if (md->pk_count < 0 || (size_t)md->pk_count * 2 > spate_rd_left(r)) return SPATE_EINVAL;
        if (md->pk_count && !(md->pk_index = malloc((size_t)md->pk_count * sizeof *md->pk_index)))
            return SPATE_ENOMEM;
        for (int32_t i = 0; i < md->pk_count; i++) TRY(spate_rd_u16(r, &md->pk_index[i]));
    }
    if (md->flags & SPATE_CQL_MD_HAS_MORE_PAGES) TRY(spate_cql_rd_bytes(r, &md->paging_state));
    if (md->flags & SPATE_CQL_MD_NO_METADATA) return SPATE_OK;
    bool global = md->flags & SPATE_CQL_MD_GLOBAL_TABLES_SPEC;
    if (global) {
        TRY(spate_cql_rd_string(r, &md->global_keyspace));
        TRY(spate_cql_rd_string(r, &md->global_table));
    }
    /* name + type id at least; more without the global spec */
    size_t min = global ? 4 : 8;
    if ((size_t)md->columns_count * min > spate_rd_left(r)) return SPATE_EINVAL;
    if (md->columns_count &&
        !(md->columns = calloc((size_t)md->columns_count, sizeof *md->columns)))
        return SPATE_ENOMEM;
    for (int32_t i = 0; i < md->columns_count; i++) {
        spate_cql_colspec_t *c = &md->columns[i];
        if (global) {
            c->keyspace = md->global_keyspace;
            c->table = md->global_table;
        } else {
            TRY(spate_cql_rd_string(r, &c->keyspace));
            TRY(spate_cql_rd_string(r, &c->table));
        }
        TRY(spate_cql_rd_string(r, &c->name));
        TRY(spate_cql_rd_option(r, &c->type));
    }
    return SPATE_OK;
}

static spate_status_t rd_schema_change(spate_rd_t *r, spate_cql_schema_change_t *c) {
    TRY(spate_cql_rd_string(r, &c->change_type));
    TRY(spate_cql_rd_string(r, &c->target));
    TRY(spate_cql_rd_string(r, &c->keyspace));
    if (slice_eq(c->target, "KEYSPACE")) return SPATE_OK;
    if (slice_eq(c->target, "TABLE") || slice_eq(c->target, "TYPE"))
        return spate_cql_rd_string(r, &c->name);
    if (slice_eq(c->target, "FUNCTION") || slice_eq(c->target, "AGGREGATE")) {
        TRY(spate_cql_rd_string(r, &c->name));
        return spate_cql_rd_string_list(r, &c->arg_types);
    }
    return SPATE_EINVAL;
}

static spate_status_t rd_result(spate_rd_t *r, spate_cql_result_t *res, uint8_t version) {
    TRY(spate_rd_i32(r, &res->kind));
    switch (res->kind) {
    case SPATE_CQL_RESULT_VOID: return SPATE_OK;
    case SPATE_CQL_RESULT_ROWS: {
        TRY(rd_metadata(r, &res->metadata, false, false));
        TRY(spate_rd_i32(r, &res->rows_count));
        if (res->rows_count < 0) return SPATE_EINVAL;
        uint64_t cells = (uint64_t)res->rows_count * (uint64_t)res->metadata.columns_count;
        if (cells > spate_rd_left(r) / 4) return SPATE_EINVAL;
        if (cells && !(res->cells = malloc((size_t)cells * sizeof *res->cells)))
            return SPATE_ENOMEM;
        for (uint64_t i = 0; i < cells; i++) TRY(spate_cql_rd_bytes(r, &res->cells[i]));
        return SPATE_OK;
    }
    case SPATE_CQL_RESULT_SET_KEYSPACE: return spate_cql_rd_string(r, &res->keyspace);
    case SPATE_CQL_RESULT_PREPARED:
        TRY(spate_cql_rd_short_bytes(r, &res->id));
        TRY(rd_metadata(r, &res->metadata, true, version >= 4));
        return rd_metadata(r, &res->result_metadata, false, false);
    case SPATE_CQL_RESULT_SCHEMA_CHANGE: return rd_schema_change(r, &res->change);
    default: return SPATE_EINVAL;
    }
}

static spate_status_t rd_event(spate_rd_t *r, spate_cql_event_t *ev) {
    TRY(spate_cql_rd_string(r, &ev->type));
    if (slice_eq(ev->type, "TOPOLOGY_CHANGE") || slice_eq(ev->type, "STATUS_CHANGE")) {
        TRY(spate_cql_rd_string(r, &ev->change));
        return spate_cql_rd_inet(r, &ev->node);
    }
    if (slice_eq(ev->type, "SCHEMA_CHANGE")) return rd_schema_change(r, &ev->schema);
    return SPATE_EINVAL;
}

static spate_status_t rd_response(spate_rd_t *r, uint8_t flags, uint8_t version,
                                  spate_cql_response_t *resp) {
    if (flags & SPATE_CQL_FLAG_TRACING) {
        TRY(spate_cql_rd_uuid(r, resp->tracing_id));
        resp->has_tracing_id = true;
    }
    if (flags & SPATE_CQL_FLAG_WARNING) TRY(spate_cql_rd_string_list(r, &resp->warnings));
    if (flags & SPATE_CQL_FLAG_CUSTOM_PAYLOAD)
        TRY(spate_cql_rd_bytes_map(r, &resp->custom_payload));
    switch (resp->opcode) {
    case SPATE_CQL_OP_ERROR: return rd_error(r, &resp->error);
    case SPATE_CQL_OP_READY: return SPATE_OK;
    case SPATE_CQL_OP_AUTHENTICATE: return spate_cql_rd_string(r, &resp->authenticator);
    case SPATE_CQL_OP_SUPPORTED: return spate_cql_rd_string_multimap(r, &resp->supported);
    case SPATE_CQL_OP_RESULT: return rd_result(r, &resp->result, version);
    case SPATE_CQL_OP_EVENT: return rd_event(r, &resp->event);
    case SPATE_CQL_OP_AUTH_CHALLENGE:
    case SPATE_CQL_OP_AUTH_SUCCESS: return spate_cql_rd_bytes(r, &resp->token);
    default: return SPATE_EINVAL;
    }
}

spate_status_t spate_cql_response_decode(const spate_cql_header_t *h, const void *body, size_t len,
                                         spate_cql_response_t *resp) {
    memset(resp, 0, sizeof *resp);
    resp->opcode = h->opcode;
    spate_rd_t r;
    spate_rd_init(&r, body, len);
    spate_status_t st = rd_response(&r, h->flags, h->version, resp);
    if (st != SPATE_OK) {
        spate_cql_response_free(resp);
        return body_status(st);
    }
    return SPATE_OK;
}

void spate_cql_response_free(spate_cql_response_t *resp) {
    if (!resp) return;
    spate_cql_strlist_free(&resp->warnings);
    spate_cql_strmap_free(&resp->custom_payload);
    spate_cql_strlist_free(&resp->error.arg_types);
    spate_cql_multimap_free(&resp->supported);
    metadata_free(&resp->result.metadata);
    metadata_free(&resp->result.result_metadata);
    free(resp->result.cells);
    spate_cql_strlist_free(&resp->result.change.arg_types);
    spate_cql_strlist_free(&resp->event.schema.arg_types);
    uint8_t op = resp->opcode;
    memset(resp, 0, sizeof *resp);
    resp->opcode = op;
}

/* ------------------------------------------------------------------ */
/* Responses: encoding                                                 */
/* ------------------------------------------------------------------ */

static spate_status_t wr_error(spate_buf_t *b, const spate_cql_error_t *e) {
    TRY(spate_wr_i32(b, e->code));
    TRY(wr_slice_string(b, e->message));
    switch (e->code) {
    case SPATE_CQL_ERR_UNAVAILABLE:
        TRY(spate_wr_u16(b, e->consistency));
        TRY(spate_wr_i32(b, e->required));
        return spate_wr_i32(b, e->alive);
    case SPATE_CQL_ERR_WRITE_TIMEOUT:
    case SPATE_CQL_ERR_READ_TIMEOUT:
    case SPATE_CQL_ERR_READ_FAILURE:
    case SPATE_CQL_ERR_WRITE_FAILURE:
        TRY(spate_wr_u16(b, e->consistency));
        TRY(spate_wr_i32(b, e->received));
        TRY(spate_wr_i32(b, e->blockfor));
        if (e->code == SPATE_CQL_ERR_READ_FAILURE || e->code == SPATE_CQL_ERR_WRITE_FAILURE)
            TRY(spate_wr_i32(b, e->numfailures));
        if (e->code == SPATE_CQL_ERR_WRITE_TIMEOUT || e->code == SPATE_CQL_ERR_WRITE_FAILURE)
            return wr_slice_string(b, e->write_type);
        return spate_wr_u8(b, e->data_present);
    case SPATE_CQL_ERR_FUNCTION_FAILURE:
        TRY(wr_slice_string(b, e->keyspace));
        TRY(wr_slice_string(b, e->function));
        return spate_cql_wr_string_list(b, &e->arg_types);
    case SPATE_CQL_ERR_ALREADY_EXISTS:
        TRY(wr_slice_string(b, e->keyspace));
        return wr_slice_string(b, e->table);
    case SPATE_CQL_ERR_UNPREPARED: return wr_slice_string(b, e->id);
    default: return SPATE_OK;
    }
}

static spate_status_t wr_metadata(spate_buf_t *b, const spate_cql_metadata_t *md, bool bind,
                                  bool pk) {
    int32_t allowed = bind ? SPATE_CQL_MD_GLOBAL_TABLES_SPEC
                           : SPATE_CQL_MD_GLOBAL_TABLES_SPEC | SPATE_CQL_MD_HAS_MORE_PAGES |
                                 SPATE_CQL_MD_NO_METADATA;
    if ((md->flags & ~allowed) || md->columns_count < 0) return SPATE_EINVAL;
    TRY(spate_wr_i32(b, md->flags));
    TRY(spate_wr_i32(b, md->columns_count));
    if (bind && pk) {
        if (md->pk_count < 0 || (md->pk_count && !md->pk_index)) return SPATE_EINVAL;
        TRY(spate_wr_i32(b, md->pk_count));
        for (int32_t i = 0; i < md->pk_count; i++) TRY(spate_wr_u16(b, md->pk_index[i]));
    }
    if (md->flags & SPATE_CQL_MD_HAS_MORE_PAGES) TRY(wr_slice_bytes(b, md->paging_state));
    if (md->flags & SPATE_CQL_MD_NO_METADATA) return SPATE_OK;
    bool global = md->flags & SPATE_CQL_MD_GLOBAL_TABLES_SPEC;
    if (global) {
        TRY(wr_slice_string(b, md->global_keyspace));
        TRY(wr_slice_string(b, md->global_table));
    }
    if (md->columns_count && !md->columns) return SPATE_EINVAL;
    for (int32_t i = 0; i < md->columns_count; i++) {
        const spate_cql_colspec_t *c = &md->columns[i];
        if (!global) {
            TRY(wr_slice_string(b, c->keyspace));
            TRY(wr_slice_string(b, c->table));
        }
        TRY(wr_slice_string(b, c->name));
        TRY(wr_option(b, &c->type, 0));
    }
    return SPATE_OK;
}

static spate_status_t wr_schema_change(spate_buf_t *b, const spate_cql_schema_change_t *c) {
    bool ks = slice_eq(c->target, "KEYSPACE");
    bool named = slice_eq(c->target, "TABLE") || slice_eq(c->target, "TYPE");
    bool fn = slice_eq(c->target, "FUNCTION") || slice_eq(c->target, "AGGREGATE");
    if (!ks && !named && !fn) return SPATE_EINVAL;
    TRY(wr_slice_string(b, c->change_type));
    TRY(wr_slice_string(b, c->target));
    TRY(wr_slice_string(b, c->keyspace));
    if (ks) return SPATE_OK;
    TRY(wr_slice_string(b, c->name));
    return fn ? spate_cql_wr_string_list(b, &c->arg_types) : SPATE_OK;
}

static spate_status_t wr_result(spate_buf_t *b, const spate_cql_result_t *res, uint8_t version) {
    switch (res->kind) {
    case SPATE_CQL_RESULT_VOID: return spate_wr_i32(b, res->kind);
    case SPATE_CQL_RESULT_ROWS: {
        if (res->rows_count < 0) return SPATE_EINVAL;
        uint64_t cells =
            (uint64_t)res->rows_count * (uint64_t)SPATE_MAX(res->metadata.columns_count, 0);
        if (cells && !res->cells) return SPATE_EINVAL;
        spate_cql_rows_t w;
        TRY(spate_cql_rows_begin(&w, b, &res->metadata));
        for (uint64_t i = 0; i < cells; i++)
            TRY(spate_cql_rows_cell(&w, res->cells[i].p, res->cells[i].len));
        TRY(spate_cql_rows_end(&w, NULL));
        /* With zero columns rows cannot be counted from cells. */
        if (w.ncols == 0) spate_wr_patch_u32(b, w.count_off, (uint32_t)res->rows_count);
        return SPATE_OK;
    }
    case SPATE_CQL_RESULT_SET_KEYSPACE:
        TRY(spate_wr_i32(b, res->kind));
        return wr_slice_string(b, res->keyspace);
    case SPATE_CQL_RESULT_PREPARED:
        TRY(spate_wr_i32(b, res->kind));
        TRY(wr_slice_string(b, res->id));
        TRY(wr_metadata(b, &res->metadata, true, version >= 4));
        return wr_metadata(b, &res->result_metadata, false, false);
    case SPATE_CQL_RESULT_SCHEMA_CHANGE:
        TRY(spate_wr_i32(b, res->kind));
        return wr_schema_change(b, &res->change);
    default: return SPATE_EINVAL;
    }
}

static spate_status_t wr_event(spate_buf_t *b, const spate_cql_event_t *ev) {
    if (slice_eq(ev->type, "TOPOLOGY_CHANGE") || slice_eq(ev->type, "STATUS_CHANGE")) {
        TRY(wr_slice_string(b, ev->type));
        TRY(wr_slice_string(b, ev->change));
        return spate_cql_wr_inet(b, &ev->node);
    }
    if (slice_eq(ev->type, "SCHEMA_CHANGE")) {
        TRY(wr_slice_string(b, ev->type));
        return wr_schema_change(b, &ev->schema);
    }
    return SPATE_EINVAL;
}

static spate_status_t wr_response_body(spate_buf_t *b, const spate_cql_response_t *resp,
                                       uint8_t version) {
    switch (resp->opcode) {
    case SPATE_CQL_OP_ERROR: return wr_error(b, &resp->error);
    case SPATE_CQL_OP_READY: return SPATE_OK;
    case SPATE_CQL_OP_AUTHENTICATE: return wr_slice_string(b, resp->authenticator);
    case SPATE_CQL_OP_SUPPORTED: return spate_cql_wr_string_multimap(b, &resp->supported);
    case SPATE_CQL_OP_RESULT: return wr_result(b, &resp->result, version);
    case SPATE_CQL_OP_EVENT: return wr_event(b, &resp->event);
    case SPATE_CQL_OP_AUTH_CHALLENGE:
    case SPATE_CQL_OP_AUTH_SUCCESS: return wr_slice_bytes(b, resp->token);
    default: return SPATE_EINVAL;
    }
}

spate_status_t spate_cql_response_write(spate_buf_t *b, uint8_t version, int16_t stream,
                                        const spate_cql_response_t *resp) {
    spate_cql_header_t h = {
        .version = version,
        .response = true,
        .flags = (uint8_t)((resp->has_tracing_id ? SPATE_CQL_FLAG_TRACING : 0) |
                           (resp->warnings.n ? SPATE_CQL_FLAG_WARNING : 0) |
                           (resp->custom_payload.n ? SPATE_CQL_FLAG_CUSTOM_PAYLOAD : 0)),
        .stream = stream,
        .opcode = resp->opcode,
    };
    size_t mark;
    spate_status_t st = spate_cql_frame_begin(b, &h, &mark);
    if (st != SPATE_OK) return st;
    if (resp->has_tracing_id) st = spate_cql_wr_uuid(b, resp->tracing_id);
    if (st == SPATE_OK && resp->warnings.n) st = spate_cql_wr_string_list(b, &resp->warnings);
    if (st == SPATE_OK && resp->custom_payload.n)
        st = spate_cql_wr_bytes_map(b, &resp->custom_payload);
    if (st == SPATE_OK) st = wr_response_body(b, resp, version);
    if (st == SPATE_OK) st = spate_cql_frame_end(b, mark);
    if (st != SPATE_OK) buf_cut(b, mark);
    return st;
}

/* ------------------------------------------------------------------ */
/* Streaming Rows writer                                               */
/* ------------------------------------------------------------------ */

spate_status_t spate_cql_rows_begin(spate_cql_rows_t *w, spate_buf_t *b,
                                    const spate_cql_metadata_t *md) {
    size_t start = b->len;
    memset(w, 0, sizeof *w);
    w->b = b;
    w->cell_off = SIZE_MAX;
    spate_status_t st = spate_wr_i32(b, SPATE_CQL_RESULT_ROWS);
    w->md_off = b->len;
    if (st == SPATE_OK) st = wr_metadata(b, md, false, false);
    w->count_off = b->len;
    if (st == SPATE_OK) st = spate_wr_i32(b, 0);
    if (st != SPATE_OK) {
        buf_cut(b, start);
        return st;
    }
    w->ncols = (uint32_t)md->columns_count;
    w->has_paging = md->flags & SPATE_CQL_MD_HAS_MORE_PAGES;
    return SPATE_OK;
}

spate_status_t spate_cql_rows_cell(spate_cql_rows_t *w, const void *p, int32_t len) {
    if (w->cell_off != SIZE_MAX) return SPATE_EINVAL;
    if (!p || len < 0)
        TRY(spate_wr_i32(w->b, SPATE_CQL_NULL));
    else
        TRY(spate_cql_wr_long_string(w->b, p, (size_t)len));
    w->ncells++;
    return SPATE_OK;
}

spate_status_t spate_cql_rows_cell_begin(spate_cql_rows_t *w) {
    if (w->cell_off != SIZE_MAX) return SPATE_EINVAL;
    return spate_cql_wr_bytes_begin(w->b, &w->cell_off);
}

spate_status_t spate_cql_rows_cell_end(spate_cql_rows_t *w) {
    if (w->cell_off == SIZE_MAX) return SPATE_EINVAL;
    TRY(spate_cql_wr_bytes_end(w->b, w->cell_off));
    w->cell_off = SIZE_MAX;
    w->ncells++;
    return SPATE_OK;
}

spate_status_t spate_cql_rows_end(spate_cql_rows_t *w, const spate_slice_t *paging_state) {
    if (w->cell_off != SIZE_MAX) return SPATE_EINVAL;
    if (w->ncols && w->ncells % w->ncols) return SPATE_EINVAL;
    uint64_t rows = w->ncols ? w->ncells / w->ncols : 0;
    if (rows > INT32_MAX) return SPATE_ERANGE;
    spate_buf_t *b = w->b;
    if (paging_state) {
        if (w->has_paging) return SPATE_EINVAL;
        /* Insert the [bytes] after <flags><columns_count>. */
        bool null = !paging_state->p || paging_state->len < 0;
        size_t n = null ? 0 : (size_t)paging_state->len, ins = 4 + n;
        TRY(spate_buf_reserve(b, ins));
        size_t at = w->md_off + 8;
        memmove(b->data + at + ins, b->data + at, b->len - at);
        b->len += ins;
        b->data[b->len] = '\0';
        spate_wr_patch_u32(b, at, null ? (uint32_t)SPATE_CQL_NULL : (uint32_t)n);
        if (n) memcpy(b->data + at + 4, paging_state->p, n);
        const uint8_t *f = (const uint8_t *)b->data + w->md_off;
        uint32_t flags = (uint32_t)f[0] << 24 | (uint32_t)f[1] << 16 | (uint32_t)f[2] << 8 | f[3];
        spate_wr_patch_u32(b, w->md_off, flags | SPATE_CQL_MD_HAS_MORE_PAGES);
        w->count_off += ins;
        w->has_paging = true;
    }
    spate_wr_patch_u32(b, w->count_off, (uint32_t)rows);
    return SPATE_OK;
}
