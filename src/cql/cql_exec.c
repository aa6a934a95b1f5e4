/*
 * cql_exec.c — the write path of `spate cql`: INSERT, UPDATE, DELETE,
 * TRUNCATE and batches on user tables (SELECT goes to cql_select.c), the
 * storage views both paths share, and the term evaluator.
 *
 *   cql_exec_dml ─┬─ SELECT ─────────────▶ cql_select_run (cql_select.c)
 *                 ├─ TRUNCATE ───────────▶ spate_cql_store_truncate
 *                 └─ INSERT UPDATE DELETE, BATCH
 *                      │ compile: every statement to a plan (keys, ops,
 *                      │          conditions, timestamp, TTL), checked
 *                      │          with Cassandra's messages
 *                      │ conditions? read the rows (store iterator),
 *                      │          answer Rows [applied] (+ the row)
 *                      ▼ apply:   every plan into ONE mutation, counters
 *                                 read-modify-written, then
 *                                 spate_cql_store_apply: atomic
 *
 * One request, one mutation: a batch is atomic and isolated (the server
 * runs on one thread, so nothing can interleave between a read and the
 * write that depends on it: lightweight transactions, counters and list
 * index operations are plain read-modify-writes here, not Paxos rounds).
 *
 * Writes follow Cassandra's model (cql_store.h): INSERT writes a row
 * marker, UPDATE does not (a row whose cells all go away disappears); a
 * null value is a tombstone cell, an unset value writes nothing; a
 * non-frozen collection is written as elements (`c = {..}` first deletes
 * the old ones at timestamp - 1); list elements are keyed by version-1
 * timeuuids, increasing for appends and decreasing (before every earlier
 * one) for prepends, as Cassandra's Lists do.
 *
 * Timestamps: USING TIMESTAMP, else the client's timestamp of the request
 * (a batch's statements share it), else cql_exec_timestamp: strictly
 * increasing microseconds. TTL: USING TTL, else the table's
 * default_time_to_live; 0 means none.
 *
 * Views (cql_exec.h): per table, the key schema and key types built from
 * the catalog, cached in srv->exec_cache (a chained hash by table id, each
 * view in its own arena) until the next DDL.
 */
#include "cql_exec.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* 100 ns ticks from the Gregorian epoch (1582-10-15) to the Unix epoch. */
#define UUID_EPOCH_TICKS 0x01B21DD213814000LL
/* Lists prepend below this point in time (2010-01-01), mirrored: the
 * later the prepend, the smaller its timeuuid (Cassandra's Lists). */
#define LIST_REFERENCE_TICKS (1262304000000LL * 10000 + UUID_EPOCH_TICKS)
/* Cassandra's max_mutation_size: half a 32 MiB commit log segment. */
#define MAX_MUTATION_BYTES (16 << 20)
/* Keys written by one statement (IN lists multiply). */
#define MAX_KEYS 65536
#define MAX_DEPTH 32

/* ------------------------------------------------------------------ */
/* The cache: views, clocks, a reusable mutation                       */
/* ------------------------------------------------------------------ */

typedef struct view_entry {
    cql_tview_t v;
    spate_cql_arena_t *a;
    struct view_entry *next;
} view_entry_t;

typedef struct {
    view_entry_t **tab;
    size_t mask; /* buckets - 1 (0 with no table yet) */
    size_t n;
    int64_t last_ts;      /* the last write timestamp handed out (µs) */
    int64_t last_tick;    /* the last appended timeuuid's time (100 ns ticks) */
    int64_t last_prepend; /* the smallest prepended timeuuid's time, 0: none yet */
    uint8_t clock_node[8];
    spate_cql_mutation_t *m; /* kept between requests (cleared after each) */
} exec_cache_t;

static exec_cache_t *cache_of(spate_cql_server_t *srv) {
    if (!srv->exec_cache) {
        exec_cache_t *c = calloc(1, sizeof *c);
        if (!c) return NULL;
        /* The clock sequence and node of our timeuuids: random, with the
         * variant bits and the multicast bit (no real MAC) set. */
        if (getrandom(c->clock_node, sizeof c->clock_node, 0) != (ssize_t)sizeof c->clock_node) {
            int64_t t = spate_mono_ns();
            for (int i = 0; i < 8; i++) c->clock_node[i] = (uint8_t)(t >> (i * 8) ^ 0x5a);
        }
        c->clock_node[0] = (uint8_t)(0x80 | (c->clock_node[0] & 0x3F));
        c->clock_node[2] |= 0x01;
        srv->exec_cache = c;
    }
    return srv->exec_cache;
}

static void views_free(exec_cache_t *c) {
    for (size_t i = 0; c->tab && i <= c->mask; i++)
        for (view_entry_t *e = c->tab[i], *next; e; e = next) {
            next = e->next;
            spate_cql_arena_free(e->a);
        }
    free(c->tab);
    c->tab = NULL;
    c->mask = 0;
    c->n = 0;
}

void cql_exec_schema_changed(spate_cql_server_t *srv) {
    if (srv->exec_cache) views_free(srv->exec_cache);
}

void cql_exec_free(spate_cql_server_t *srv) {
    if (!srv || !srv->exec_cache) return;
    exec_cache_t *c = srv->exec_cache;
    views_free(c);
    spate_cql_mutation_free(c->m);
    free(c);
    srv->exec_cache = NULL;
}

static int64_t wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t cql_exec_timestamp(spate_cql_server_t *srv) {
    int64_t now = wall_us();
    exec_cache_t *c = cache_of(srv);
    if (!c) return now;
    if (now <= c->last_ts) now = c->last_ts + 1;
    c->last_ts = now;
    return now;
}

/* A version-1 uuid for a time in 100 ns ticks since 1582-10-15. */
static void timeuuid_make(uint8_t u[16], int64_t ticks, const uint8_t clock_node[8]) {
    uint64_t t = (uint64_t)ticks;
    uint32_t low = (uint32_t)t;
    u[0] = (uint8_t)(low >> 24);
    u[1] = (uint8_t)(low >> 16);
    u[2] = (uint8_t)(low >> 8);
    u[3] = (uint8_t)low;
    u[4] = (uint8_t)(t >> 40);
    u[5] = (uint8_t)(t >> 32);
    u[6] = (uint8_t)(0x10 | ((t >> 56) & 0x0F));
    u[7] = (uint8_t)(t >> 48);
    memcpy(u + 8, clock_node, 8);
}

static int64_t timeuuid_ticks(const uint8_t u[16]) {
    uint64_t t = (uint64_t)(u[6] & 0x0F) << 56 | (uint64_t)u[7] << 48 | (uint64_t)u[4] << 40 |
                 (uint64_t)u[5] << 32 | (uint64_t)u[0] << 24 | (uint64_t)u[1] << 16 |
                 (uint64_t)u[2] << 8 | u[3];
    return (int64_t)t;
}

/* n increasing ticks after every earlier one: the first is returned. */
static int64_t ticks_append(exec_cache_t *c, uint32_t n) {
    int64_t t = wall_us() * 10 + UUID_EPOCH_TICKS;
    if (t <= c->last_tick) t = c->last_tick + 1;
    c->last_tick = t + (n ? n - 1 : 0);
    return t;
}

/* n increasing ticks before every earlier prepend: the first is returned. */
static int64_t ticks_prepend(exec_cache_t *c, uint32_t n) {
    int64_t now = wall_us() * 10 + UUID_EPOCH_TICKS;
    int64_t t = LIST_REFERENCE_TICKS - (now - LIST_REFERENCE_TICKS) - n;
    if (c->last_prepend && t > c->last_prepend - (int64_t)n) t = c->last_prepend - n;
    c->last_prepend = t;
    return t;
}

/* ------------------------------------------------------------------ */
/* Table views                                                         */
/* ------------------------------------------------------------------ */

static const spate_cql_ktype_t KT_TIMEUUID = {SPATE_CQL_TIMEUUID, 0, NULL};

/* A key type tree for a wire type, in the arena; NULL when out of memory. */
static spate_cql_ktype_t *ktype_build(spate_cql_arena_t *a, const spate_cql_datatype_t *t,
                                      int depth) {
    spate_cql_ktype_t *k = spate_cql_arena_alloc(a, sizeof *k);
    if (!k) return NULL;
    k->id = t->id;
    if (depth >= SPATE_CQL_KEY_MAX_DEPTH || !t->n || !t->sub) return k;
    spate_cql_ktype_t *sub = spate_cql_arena_alloc(a, (size_t)t->n * sizeof *sub);
    if (!sub) return NULL;
    for (uint16_t i = 0; i < t->n; i++) {
        const spate_cql_ktype_t *s = ktype_build(a, &t->sub[i], depth + 1);
        if (!s) return NULL;
        sub[i] = *s;
    }
    k->n = t->n;
    k->sub = sub;
    return k;
}

/* A non-frozen collection column: its elements are cells of their own. */
static bool col_multicell(const cql_column_t *c) {
    return (c->type.id == SPATE_CQL_LIST || c->type.id == SPATE_CQL_SET ||
            c->type.id == SPATE_CQL_MAP) &&
           c->type.n >= 1 && strncmp(c->type_text, "frozen<", 7) != 0;
}

static view_entry_t *view_build(const cql_table_t *t) {
    spate_cql_arena_t *a = spate_cql_arena_new();
    if (!a) return NULL;
    view_entry_t *e = spate_cql_arena_alloc(a, sizeof *e);
    if (!e) goto err;
    e->a = a;
    cql_tview_t *v = &e->v;
    v->table = t;
    size_t ncols = t->ncols ? t->ncols : 1;
    const spate_cql_ktype_t **kt = spate_cql_arena_alloc(a, ncols * sizeof *kt);
    const spate_cql_ktype_t **el = spate_cql_arena_alloc(a, ncols * sizeof *el);
    v->nid = t->next_col_id;
    const spate_cql_ktype_t **by_id =
        spate_cql_arena_alloc(a, (v->nid ? v->nid : 1) * sizeof *by_id);
    int32_t *index = spate_cql_arena_alloc(a, (v->nid ? v->nid : 1) * sizeof *index);
    spate_cql_kcol_t *pk = spate_cql_arena_alloc(a, (t->npk ? t->npk : 1) * sizeof *pk);
    spate_cql_kcol_t *ck = spate_cql_arena_alloc(a, (t->nck ? t->nck : 1) * sizeof *ck);
    if (!kt || !el || !by_id || !index || !pk || !ck) goto err;
    for (uint16_t i = 0; i < v->nid; i++) index[i] = -1;
    for (uint32_t i = 0; i < t->ncols; i++) {
        const cql_column_t *c = &t->cols[i];
        if (!(kt[i] = ktype_build(a, &c->type, 0))) goto err;
        if (col_multicell(c)) el[i] = c->type.id == SPATE_CQL_LIST ? &KT_TIMEUUID : &kt[i]->sub[0];
        if (c->id < v->nid) {
            index[c->id] = (int32_t)i;
            by_id[c->id] = el[i];
        }
        if (c->kind == CQL_KIND_PARTITION_KEY && c->position >= 0 && (uint32_t)c->position < t->npk)
            pk[c->position] = (spate_cql_kcol_t){kt[i], false};
        else if (c->kind == CQL_KIND_CLUSTERING && c->position >= 0 &&
                 (uint32_t)c->position < t->nck)
            ck[c->position] = (spate_cql_kcol_t){kt[i], c->desc};
    }
    v->ktype = kt;
    v->elem = el;
    v->elem_by_id = by_id;
    v->index_by_id = index;
    v->key = (spate_cql_key_schema_t){
        .table_id = t->id, .npk = (uint16_t)t->npk, .pk = pk, .nck = (uint16_t)t->nck, .ck = ck};
    return e;
err:
    spate_cql_arena_free(a);
    return NULL;
}

const cql_tview_t *cql_tview(spate_cql_server_t *srv, const cql_table_t *t) {
    exec_cache_t *c = cache_of(srv);
    if (!c) return NULL;
    if (c->tab) {
        for (view_entry_t *e = c->tab[t->id & c->mask]; e; e = e->next)
            if (e->v.table == t && e->v.key.table_id == t->id) return &e->v;
    }
    if (!c->tab || c->n > c->mask) { /* grow: load factor at most 1 */
        size_t nb = c->tab ? (c->mask + 1) * 2 : 16;
        view_entry_t **tab = calloc(nb, sizeof *tab);
        if (!tab) return NULL;
        for (size_t i = 0; c->tab && i <= c->mask; i++)
            for (view_entry_t *e = c->tab[i], *next; e; e = next) {
                next = e->next;
                /* By the copied id: a view may outlive its table until the
                 * next cql_exec_schema_changed (ids are never reused). */
                e->next = tab[e->v.key.table_id & (nb - 1)];
                tab[e->v.key.table_id & (nb - 1)] = e;
            }
        free(c->tab);
        c->tab = tab;
        c->mask = nb - 1;
    }
    view_entry_t *e = view_build(t);
    if (!e) return NULL;
    e->next = c->tab[t->id & c->mask];
    c->tab[t->id & c->mask] = e;
    c->n++;
    return &e->v;
}

/* ------------------------------------------------------------------ */
/* Values: type names, collections, normalization                      */
/* ------------------------------------------------------------------ */

static const char DURATION_CLASS[] = "org.apache.cassandra.db.marshal.DurationType";

static bool is_duration(const spate_cql_datatype_t *t) {
    return t->id == SPATE_CQL_CUSTOM && t->name.p &&
           t->name.len == (int32_t)strlen(DURATION_CLASS) &&
           memcmp(t->name.p, DURATION_CLASS, strlen(DURATION_CLASS)) == 0;
}

/* Appends a type's CQL text; nested collections and tuples are frozen. */
static void type_text_put(spate_buf_t *b, const spate_cql_datatype_t *t, bool nested, int depth) {
    if (depth > MAX_DEPTH) {
        spate_buf_puts(b, "?");
        return;
    }
    bool frozen = nested && (t->id == SPATE_CQL_LIST || t->id == SPATE_CQL_SET ||
                             t->id == SPATE_CQL_MAP || t->id == SPATE_CQL_TUPLE);
    if (frozen || (!nested && t->id == SPATE_CQL_TUPLE)) spate_buf_puts(b, "frozen<");
    if (t->id == SPATE_CQL_CUSTOM) {
        if (is_duration(t))
            spate_buf_puts(b, "duration");
        else
            spate_buf_printf(b, "'%.*s'", t->name.p ? (int)t->name.len : 0,
                             t->name.p ? t->name.p : "");
    } else {
        const char *n = spate_cql_type_name(t->id);
        spate_buf_puts(b, n ? n : "?");
    }
    if (t->n && t->sub && t->id != SPATE_CQL_CUSTOM) {
        spate_buf_putc(b, '<');
        for (uint16_t i = 0; i < t->n; i++) {
            if (i) spate_buf_puts(b, ", ");
            type_text_put(b, &t->sub[i], true, depth + 1);
        }
        spate_buf_putc(b, '>');
    }
    if (frozen || (!nested && t->id == SPATE_CQL_TUPLE)) spate_buf_putc(b, '>');
}

static const char *type_text(spate_cql_arena_t *a, const spate_cql_datatype_t *t) {
    spate_buf_t b = SPATE_BUF_INIT;
    type_text_put(&b, t, false, 0);
    const char *s = spate_cql_arena_strndup(a, b.data ? (const char *)b.data : "", b.len);
    spate_buf_free(&b);
    return s ? s : "?";
}

/* Appends a term as CQL text, for messages ("l = l + [1, 2]"). */
static void term_text_put(spate_buf_t *b, const spate_cql_term_t *t, int depth) {
    if (!t || depth > MAX_DEPTH || b->len > 400) {
        spate_buf_puts(b, "...");
        return;
    }
    switch (t->kind) {
    case SPATE_CQL_TERM_CONST:
        if (t->lit.kind == SPATE_CQL_LIT_STRING) {
            spate_buf_putc(b, '\'');
            for (size_t i = 0; i < t->lit.len && i < 200; i++) {
                if (t->lit.text[i] == '\'') spate_buf_putc(b, '\'');
                spate_buf_putc(b, t->lit.text[i]);
            }
            spate_buf_putc(b, '\'');
        } else {
            spate_buf_append(b, t->lit.text, SPATE_MIN(t->lit.len, (size_t)200));
        }
        break;
    case SPATE_CQL_TERM_NULL: spate_buf_puts(b, "null"); break;
    case SPATE_CQL_TERM_BIND:
        if (t->bind.name)
            spate_buf_printf(b, ":%s", t->bind.name);
        else
            spate_buf_putc(b, '?');
        break;
    case SPATE_CQL_TERM_LIST:
    case SPATE_CQL_TERM_SET:
    case SPATE_CQL_TERM_TUPLE:
        spate_buf_putc(b, t->kind == SPATE_CQL_TERM_LIST  ? '['
                          : t->kind == SPATE_CQL_TERM_SET ? '{'
                                                          : '(');
        for (uint32_t i = 0; i < t->items.n; i++) {
            if (i) spate_buf_puts(b, ", ");
            term_text_put(b, t->items.v[i], depth + 1);
        }
        spate_buf_putc(b, t->kind == SPATE_CQL_TERM_LIST  ? ']'
                          : t->kind == SPATE_CQL_TERM_SET ? '}'
                                                          : ')');
        break;
    case SPATE_CQL_TERM_MAP:
        spate_buf_putc(b, '{');
        for (uint32_t i = 0; i < t->map.n; i++) {
            if (i) spate_buf_puts(b, ", ");
            term_text_put(b, t->map.keys[i], depth + 1);
            spate_buf_puts(b, ": ");
            term_text_put(b, t->map.vals[i], depth + 1);
        }
        spate_buf_putc(b, '}');
        break;
    case SPATE_CQL_TERM_FUNC:
        spate_buf_printf(b, "%s(", t->func.name);
        for (uint32_t i = 0; i < t->func.nargs; i++) {
            if (i) spate_buf_puts(b, ", ");
            term_text_put(b, t->func.args[i], depth + 1);
        }
        spate_buf_putc(b, ')');
        break;
    case SPATE_CQL_TERM_HINT:
        spate_buf_puts(b, "(...)");
        term_text_put(b, t->hint.term, depth + 1);
        break;
    default: spate_buf_puts(b, "..."); break;
    }
}

static const char *term_text(spate_cql_arena_t *a, const spate_cql_term_t *t) {
    spate_buf_t b = SPATE_BUF_INIT;
    term_text_put(&b, t, 0);
    const char *s = spate_cql_arena_strndup(a, b.data ? (const char *)b.data : "", b.len);
    spate_buf_free(&b);
    return s ? s : "...";
}

/* A copy of p[0, n) in the arena (p NULL gives NULL). */
static const char *arena_copy(spate_cql_arena_t *a, const void *p, size_t n) {
    if (!p) return NULL;
    char *d = spate_cql_arena_alloc(a, n + 1);
    if (d && n) memcpy(d, p, n);
    return d;
}

/* Parses a serialized list / set (entries n) or map (2n entries: key,
 * value, ...) into slices in the arena. False when malformed or out of
 * memory (callers validated the bytes, so that is memory). */
static bool coll_parse(spate_cql_arena_t *a, spate_slice_t v, bool map, spate_slice_t **items,
                       uint32_t *n) {
    spate_rd_t r;
    spate_rd_init(&r, v.p, v.len > 0 ? (size_t)v.len : 0);
    int32_t count;
    *items = NULL;
    *n = 0;
    if (v.len <= 0) return v.len == 0; /* an empty value: no elements */
    if (spate_rd_i32(&r, &count) != SPATE_OK || count < 0) return false;
    uint64_t total = (uint64_t)count * (map ? 2 : 1);
    if (total > spate_rd_left(&r) / 4) return false;
    spate_slice_t *it = spate_cql_arena_alloc(a, (total ? total : 1) * sizeof *it);
    if (!it) return false;
    for (uint64_t i = 0; i < total; i++) {
        int32_t len;
        const uint8_t *p;
        if (spate_rd_i32(&r, &len) != SPATE_OK) return false;
        if (len < 0) {
            it[i] = (spate_slice_t){NULL, SPATE_CQL_NULL};
            continue;
        }
        if (spate_rd_bytes(&r, (size_t)len, &p) != SPATE_OK) return false;
        it[i] = (spate_slice_t){(const char *)p, len};
    }
    *items = it;
    *n = (uint32_t)total;
    return true;
}

/* Serializes elements (put_collection) into the arena. */
static bool coll_build(spate_cql_arena_t *a, spate_cql_type_t kind, const spate_slice_t *items,
                       size_t n, spate_slice_t *out) {
    spate_buf_t b = SPATE_BUF_INIT;
    bool ok = spate_cql_value_put_collection(&b, kind, items, n) == SPATE_OK;
    if (ok) {
        const char *p = arena_copy(a, b.data ? (const char *)b.data : "", b.len);
        ok = p != NULL;
        *out = (spate_slice_t){p, (int32_t)b.len};
    }
    spate_buf_free(&b);
    return ok;
}

/* Whether a type holds a set or a map (whose serialized elements must be
 * put in Cassandra's order). */
static bool type_unordered(const spate_cql_datatype_t *t, int depth) {
    if (depth > MAX_DEPTH) return false;
    if (t->id == SPATE_CQL_SET || t->id == SPATE_CQL_MAP) return true;
    for (uint16_t i = 0; t->sub && i < t->n; i++)
        if (type_unordered(&t->sub[i], depth + 1)) return true;
    return false;
}

typedef struct {
    spate_slice_t enc; /* the key encoding of the element / map key */
    spate_slice_t k, v;
    uint32_t seq;
} sortent_t;

static int sortent_cmp(const void *pa, const void *pb) {
    const sortent_t *a = pa, *b = pb;
    size_t n = SPATE_MIN((size_t)a->enc.len, (size_t)b->enc.len);
    int c = n ? memcmp(a->enc.p, b->enc.p, n) : 0;
    if (c) return c;
    if (a->enc.len != b->enc.len) return a->enc.len < b->enc.len ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sorts set elements / map entries (items: n elements, or n/2 pairs) by
 * the element type's order and drops duplicates (a map keeps the last
 * value of a key, as a Java TreeMap does). *n is updated; false when out
 * of memory. */
static bool sort_dedupe(spate_cql_arena_t *a, const spate_cql_datatype_t *et, bool map,
                        spate_slice_t *items, uint32_t *n) {
    uint32_t cnt = map ? *n / 2 : *n;
    if (cnt < 2) return true;
    const spate_cql_ktype_t *kt = ktype_build(a, et, 0);
    sortent_t *e = spate_cql_arena_alloc(a, cnt * sizeof *e);
    if (!kt || !e) return false;
    spate_buf_t b = SPATE_BUF_INIT;
    for (uint32_t i = 0; i < cnt; i++) {
        e[i].k = items[map ? 2 * i : i];
        e[i].v = map ? items[2 * i + 1] : (spate_slice_t){NULL, 0};
        e[i].seq = i;
        spate_buf_reset(&b);
        if (e[i].k.p && spate_cql_key_value_encode(&b, kt, e[i].k, false) == SPATE_OK) {
            const char *p = arena_copy(a, b.data ? (const char *)b.data : "", b.len);
            if (!p) {
                spate_buf_free(&b);
                return false;
            }
            e[i].enc = (spate_slice_t){p, (int32_t)b.len};
        } else { /* not encodable (cannot happen for valid keys): raw bytes */
            e[i].enc = (spate_slice_t){e[i].k.p ? e[i].k.p : "", e[i].k.p ? e[i].k.len : 0};
        }
    }
    spate_buf_free(&b);
    qsort(e, cnt, sizeof *e, sortent_cmp);
    uint32_t out = 0;
    for (uint32_t i = 0; i < cnt; i++) {
        bool last = i + 1 == cnt || e[i].enc.len != e[i + 1].enc.len ||
                    (e[i].enc.len && memcmp(e[i].enc.p, e[i + 1].enc.p, (size_t)e[i].enc.len));
        if (!last) continue; /* a later duplicate follows: it wins */
        if (map) {
            items[2 * out] = e[i].k;
            items[2 * out + 1] = e[i].v;
        } else {
            items[out] = e[i].k;
        }
        out++;
    }
    *n = map ? 2 * out : out;
    return true;
}

/* Puts a validated value into Cassandra's canonical form: sets and maps
 * sorted and deduplicated, at every level. */
static bool normalize(spate_cql_arena_t *a, const spate_cql_datatype_t *t, spate_slice_t in,
                      spate_slice_t *out, int depth) {
    *out = in;
    if (!in.p || in.len <= 0 || depth > MAX_DEPTH || !type_unordered(t, 0)) return true;
    bool map = t->id == SPATE_CQL_MAP;
    if (t->id == SPATE_CQL_LIST || t->id == SPATE_CQL_SET || map) {
        spate_slice_t *it;
        uint32_t n;
        if (!coll_parse(a, in, map, &it, &n)) return false;
        for (uint32_t i = 0; i < n; i++) {
            const spate_cql_datatype_t *st = &t->sub[map ? i % 2 : 0];
            if (!normalize(a, st, it[i], &it[i], depth + 1)) return false;
        }
        if (t->id != SPATE_CQL_LIST && !sort_dedupe(a, &t->sub[0], map, it, &n)) return false;
        return coll_build(a, t->id, it, n, out);
    }
    if (t->id == SPATE_CQL_TUPLE || t->id == SPATE_CQL_UDT) {
        spate_slice_t *it = spate_cql_arena_alloc(a, (t->n ? t->n : 1) * sizeof *it);
        if (!it) return false;
        spate_rd_t r;
        spate_rd_init(&r, in.p, (size_t)in.len);
        uint16_t n = 0;
        while (n < t->n && spate_rd_left(&r) > 0) {
            int32_t len;
            const uint8_t *p;
            if (spate_rd_i32(&r, &len) != SPATE_OK) return true;
            if (len < 0) {
                it[n++] = (spate_slice_t){NULL, SPATE_CQL_NULL};
                continue;
            }
            if (spate_rd_bytes(&r, (size_t)len, &p) != SPATE_OK) return true;
            it[n] = (spate_slice_t){(const char *)p, len};
            if (!normalize(a, &t->sub[n], it[n], &it[n], depth + 1)) return false;
            n++;
        }
        return coll_build(a, SPATE_CQL_TUPLE, it, n, out);
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Terms                                                               */
/* ------------------------------------------------------------------ */

typedef struct {
    spate_cql_server_t *srv;
    spate_cql_arena_t *a;
    const spate_slice_t *values;
    uint32_t nvalues;
    char *msg;
    size_t msglen;
} ev_t;

static int32_t ev_fail(ev_t *e, int32_t code, const char *fmt, ...) SPATE_PRINTF(3, 4);
static int32_t ev_fail(ev_t *e, int32_t code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, e->msglen, fmt, ap);
    va_end(ap);
    return code;
}

static int32_t ev_nomem(ev_t *e) { return ev_fail(e, SPATE_CQL_ERR_SERVER, "out of memory"); }

static const spate_slice_t NULL_VALUE = {NULL, SPATE_CQL_NULL};
static const spate_slice_t UNSET_VALUE = {NULL, SPATE_CQL_UNSET};

static int32_t term_eval(ev_t *e, const char *name, const char *ttext,
                         const spate_cql_datatype_t *t, const spate_cql_term_t *term, int depth,
                         spate_slice_t *out);

/* Can a value of type `from` be stored in a receiver of type `to`? The
 * same type, or one with the same bytes Cassandra lets through (a
 * timeuuid into a uuid, ascii into text). */
static bool assignable(const spate_cql_datatype_t *from, const spate_cql_datatype_t *to,
                       int depth) {
    if (depth > MAX_DEPTH) return false;
    if (from->id != to->id) {
        return (to->id == SPATE_CQL_UUID && from->id == SPATE_CQL_TIMEUUID) ||
               (to->id == SPATE_CQL_VARCHAR && from->id == SPATE_CQL_ASCII) ||
               (to->id == SPATE_CQL_BLOB && from->id == SPATE_CQL_CUSTOM && !is_duration(from));
    }
    if (from->id == SPATE_CQL_CUSTOM) return is_duration(from) == is_duration(to);
    if (from->n != to->n) return false;
    for (uint16_t i = 0; i < from->n; i++)
        if (!assignable(&from->sub[i], &to->sub[i], depth + 1)) return false;
    return true;
}

static spate_slice_t arena_value(ev_t *e, const spate_buf_t *b) {
    const char *p = arena_copy(e->a, b->data ? (const char *)b->data : "", b->len);
    return p ? (spate_slice_t){p, (int32_t)b->len} : (spate_slice_t){NULL, SPATE_CQL_NULL};
}

static int64_t get_be(const char *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | (uint8_t)p[i];
    if (n < 8 && n > 0 && (v >> (n * 8 - 1)) & 1) v |= ~(uint64_t)0 << (n * 8); /* sign */
    return (int64_t)v;
}

#define DATE_EPOCH 2147483648LL /* day 0 of the date type: 1970-01-01 */
#define MS_PER_DAY 86400000LL

static int64_t floor_div(int64_t a, int64_t b) {
    return a / b - ((a % b) != 0 && ((a < 0) != (b < 0)));
}

/* The functions of statements. A function's value and its type. */
typedef struct {
    spate_slice_t v;
    spate_cql_datatype_t type; /* a scalar: no children */
} fval_t;

static int32_t func_eval(ev_t *e, const spate_cql_term_t *term, int depth, fval_t *out);

/* An argument of a time conversion: its value as milliseconds since the
 * epoch, from a timeuuid, a timestamp or a date (which the argument's own
 * type says: a function's result, a literal's kind or a marker's size). */
static int32_t time_arg(ev_t *e, const char *fname, const spate_cql_term_t *arg, int depth,
                        spate_cql_type_t want_lit, int64_t *ms, spate_cql_type_t *from) {
    spate_cql_datatype_t t = {.id = want_lit};
    spate_slice_t v;
    if (arg->kind == SPATE_CQL_TERM_FUNC) {
        fval_t f;
        int32_t code = func_eval(e, arg, depth + 1, &f);
        if (code) return code;
        t.id = f.type.id;
        v = f.v;
    } else {
        if (arg->kind == SPATE_CQL_TERM_CONST && arg->lit.kind == SPATE_CQL_LIT_UUID)
            t.id = SPATE_CQL_TIMEUUID;
        else if (arg->kind == SPATE_CQL_TERM_CONST && arg->lit.kind == SPATE_CQL_LIT_INTEGER)
            t.id = SPATE_CQL_TIMESTAMP;
        else if (arg->kind == SPATE_CQL_TERM_BIND && arg->bind.index < e->nvalues) {
            int32_t len = e->values[arg->bind.index].len;
            t.id = len == 16  ? SPATE_CQL_TIMEUUID
                   : len == 8 ? SPATE_CQL_TIMESTAMP
                   : len == 4 ? SPATE_CQL_DATE
                              : want_lit;
        }
        char name[64];
        snprintf(name, sizeof name, "arg0(system.%s)", fname);
        int32_t code = term_eval(e, name, NULL, &t, arg, depth + 1, &v);
        if (code) return code;
    }
    if (!v.p || v.len < 0)
        return ev_fail(e, SPATE_CQL_ERR_INVALID, "Invalid null argument to %s", fname);
    *from = t.id;
    switch (t.id) {
    case SPATE_CQL_TIMEUUID:
        if (v.len != 16) break;
        *ms = floor_div(timeuuid_ticks((const uint8_t *)v.p) - UUID_EPOCH_TICKS, 10000);
        return 0;
    case SPATE_CQL_TIMESTAMP:
        if (v.len != 8) break;
        *ms = get_be(v.p, 8);
        return 0;
    case SPATE_CQL_DATE:
        if (v.len != 4) break;
        *ms = ((int64_t)(uint32_t)get_be(v.p, 4) - DATE_EPOCH) * MS_PER_DAY;
        return 0;
    default: break;
    }
    return ev_fail(e, SPATE_CQL_ERR_INVALID, "Invalid argument to function system.%s", fname);
}

static int32_t func_eval(ev_t *e, const spate_cql_term_t *term, int depth, fval_t *out) {
    if (depth > MAX_DEPTH) return ev_fail(e, SPATE_CQL_ERR_INVALID, "Expression nested too deeply");
    const char *f = term->func.name;
    uint32_t nargs = term->func.nargs;
    if (term->func.ks && strcmp(term->func.ks, "system") != 0)
        return ev_fail(e, SPATE_CQL_ERR_INVALID, "Unknown function %s.%s called", term->func.ks, f);
    spate_buf_t b = SPATE_BUF_INIT;
    memset(out, 0, sizeof *out);
    exec_cache_t *c = cache_of(e->srv);
    if (!c) return ev_nomem(e);
    int32_t want = 0; /* arguments the function takes */
    int32_t code = 0;
    spate_cql_type_t conv = SPATE_CQL_TIMESTAMP; /* set by time_arg */
    if (!strcmp(f, "now") || !strcmp(f, "currenttimeuuid")) {
        uint8_t u[16];
        timeuuid_make(u, ticks_append(c, 1), c->clock_node);
        spate_buf_append(&b, u, 16);
        out->type.id = SPATE_CQL_TIMEUUID;
    } else if (!strcmp(f, "uuid")) {
        uint8_t u[16];
        if (getrandom(u, 16, 0) != 16) {
            int64_t t = spate_mono_ns() ^ wall_us();
            for (int i = 0; i < 16; i++) u[i] = (uint8_t)(t >> (i % 8 * 8) ^ i * 37);
        }
        u[6] = (uint8_t)(0x40 | (u[6] & 0x0F));
        u[8] = (uint8_t)(0x80 | (u[8] & 0x3F));
        spate_buf_append(&b, u, 16);
        out->type.id = SPATE_CQL_UUID;
    } else if (!strcmp(f, "currenttimestamp")) {
        spate_cql_value_put_i64(&b, floor_div(wall_us(), 1000));
        out->type.id = SPATE_CQL_TIMESTAMP;
    } else if (!strcmp(f, "currentdate")) {
        spate_cql_value_put_date(&b, (int32_t)floor_div(floor_div(wall_us(), 1000), MS_PER_DAY));
        out->type.id = SPATE_CQL_DATE;
    } else if (!strcmp(f, "currenttime")) {
        int64_t us = wall_us();
        spate_cql_value_put_i64(&b, (us - floor_div(us, 86400000000LL) * 86400000000LL) * 1000);
        out->type.id = SPATE_CQL_TIME;
    } else if (!strcmp(f, "totimestamp") || !strcmp(f, "dateof") || !strcmp(f, "todate") ||
               !strcmp(f, "tounixtimestamp") || !strcmp(f, "unixtimestampof") ||
               !strcmp(f, "mintimeuuid") || !strcmp(f, "maxtimeuuid")) {
        want = 1;
        if (nargs != 1) goto arity;
        int64_t ms = 0;
        bool mm = f[0] == 'm';
        spate_cql_type_t lit = mm || !strcmp(f, "todate") ? SPATE_CQL_TIMESTAMP : SPATE_CQL_DATE;
        if ((code = time_arg(e, f, term->func.args[0], depth, lit, &ms, &conv))) goto out;
        if (mm) {
            if (conv != SPATE_CQL_TIMESTAMP) goto badarg;
            uint8_t u[16];
            static const uint8_t lo[8] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80};
            static const uint8_t hi[8] = {0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f};
            bool max = f[1] == 'a';
            timeuuid_make(u, ms * 10000 + UUID_EPOCH_TICKS + (max ? 9999 : 0), max ? hi : lo);
            spate_buf_append(&b, u, 16);
            out->type.id = SPATE_CQL_TIMEUUID;
        } else if (!strcmp(f, "todate")) {
            if (conv == SPATE_CQL_DATE) goto badarg;
            spate_cql_value_put_date(&b, (int32_t)floor_div(ms, MS_PER_DAY));
            out->type.id = SPATE_CQL_DATE;
        } else if (f[0] == 't' && f[2] == 't') { /* totimestamp */
            if (conv == SPATE_CQL_TIMESTAMP) goto badarg;
            spate_cql_value_put_i64(&b, ms);
            out->type.id = SPATE_CQL_TIMESTAMP;
        } else if (!strcmp(f, "dateof")) {
            if (conv != SPATE_CQL_TIMEUUID) goto badarg;
            spate_cql_value_put_i64(&b, ms);
            out->type.id = SPATE_CQL_TIMESTAMP;
        } else { /* tounixtimestamp, unixtimestampof */
            if (f[0] == 'u' && conv != SPATE_CQL_TIMEUUID) goto badarg;
            spate_cql_value_put_i64(&b, ms);
            out->type.id = SPATE_CQL_BIGINT;
        }
    } else if (strlen(f) > 6 && !strcmp(f + strlen(f) - 6, "asblob")) {
        want = 1;
        spate_cql_datatype_t at = {0};
        if (spate_cql_type_by_name(f, strlen(f) - 6, &at.id) != SPATE_OK ||
            at.id == SPATE_CQL_LIST || at.id == SPATE_CQL_SET || at.id == SPATE_CQL_MAP ||
            at.id == SPATE_CQL_TUPLE || at.id == SPATE_CQL_COUNTER || at.id == SPATE_CQL_DURATION)
            goto unknown;
        if (nargs != 1) goto arity;
        spate_slice_t v;
        char name[64];
        snprintf(name, sizeof name, "arg0(system.%s)", f);
        if ((code = term_eval(e, name, NULL, &at, term->func.args[0], depth + 1, &v))) goto out;
        if (v.len == SPATE_CQL_UNSET) v = NULL_VALUE;
        out->v = v;
        out->type.id = SPATE_CQL_BLOB;
        goto out;
    } else if (strlen(f) > 6 && !strncmp(f, "blobas", 6)) {
        want = 1;
        spate_cql_datatype_t rt = {0};
        if (spate_cql_type_by_name(f + 6, strlen(f + 6), &rt.id) != SPATE_OK ||
            rt.id == SPATE_CQL_LIST || rt.id == SPATE_CQL_SET || rt.id == SPATE_CQL_MAP ||
            rt.id == SPATE_CQL_TUPLE || rt.id == SPATE_CQL_COUNTER || rt.id == SPATE_CQL_DURATION)
            goto unknown;
        if (nargs != 1) goto arity;
        spate_cql_datatype_t bt = {.id = SPATE_CQL_BLOB};
        spate_slice_t v;
        char name[64];
        snprintf(name, sizeof name, "arg0(system.%s)", f);
        if ((code = term_eval(e, name, NULL, &bt, term->func.args[0], depth + 1, &v))) goto out;
        if (v.len == SPATE_CQL_UNSET) v = NULL_VALUE;
        if (v.p && v.len >= 0) {
            char err[256];
            if (spate_cql_value_validate(&rt, v.p, (size_t)v.len, err, sizeof err) != SPATE_OK) {
                code = ev_fail(e, SPATE_CQL_ERR_INVALID,
                               "In call to function system.%s, value 0x... is not a valid binary "
                               "representation for type %s",
                               f, spate_cql_type_name(rt.id));
                goto out;
            }
        }
        out->v = v;
        out->type.id = rt.id;
        goto out;
    } else {
        goto unknown;
    }
    if (nargs != (uint32_t)want) goto arity;
    out->v = arena_value(e, &b);
    if (!out->v.p) code = ev_nomem(e);
out:
    spate_buf_free(&b);
    return code;
arity:
    code = ev_fail(e, SPATE_CQL_ERR_INVALID,
                   "Invalid number of arguments in call to function system.%s: %d required but %u "
                   "provided",
                   f, want, nargs);
    goto out;
badarg:
    code = ev_fail(e, SPATE_CQL_ERR_INVALID,
                   "Type error: argument 0 of function system.%s has the wrong type", f);
    goto out;
unknown:
    code = ev_fail(e, SPATE_CQL_ERR_INVALID, "Unknown function %s called", f);
    goto out;
}

/* A collection literal's element: null and unset are refused inside
 * collections (an unset element makes the whole value unset). */
static int32_t elem_eval(ev_t *e, const char *name, const spate_cql_datatype_t *t,
                         const spate_cql_term_t *term, int depth, spate_slice_t *out, bool *unset) {
    int32_t code = term_eval(e, name, NULL, t, term, depth + 1, out);
    if (code) return code;
    if (out->len == SPATE_CQL_UNSET) {
        *unset = true;
        return 0;
    }
    if (!out->p || out->len < 0)
        return ev_fail(e, SPATE_CQL_ERR_INVALID, "null is not supported inside collections");
    return 0;
}

static int32_t term_eval(ev_t *e, const char *name, const char *ttext,
                         const spate_cql_datatype_t *t, const spate_cql_term_t *term, int depth,
                         spate_slice_t *out) {
    if (depth > MAX_DEPTH) return ev_fail(e, SPATE_CQL_ERR_INVALID, "Expression nested too deeply");
    *out = NULL_VALUE;
    switch (term->kind) {
    case SPATE_CQL_TERM_NULL: return 0;
    case SPATE_CQL_TERM_CONST: {
        cql_column_t fc;
        memset(&fc, 0, sizeof fc);
        fc.name = (char *)name;
        fc.type_text = (char *)(ttext ? ttext : type_text(e->a, t));
        fc.type = *t;
        if (t->id == SPATE_CQL_COUNTER) fc.type.id = SPATE_CQL_BIGINT;
        return cql_term_value(e->a, &fc, term, NULL, 0, out, e->msg, e->msglen);
    }
    case SPATE_CQL_TERM_BIND: {
        if (term->bind.index >= e->nvalues)
            return ev_fail(e, SPATE_CQL_ERR_INVALID, "No value for bind marker %u",
                           term->bind.index);
        spate_slice_t v = e->values[term->bind.index];
        if (v.len == SPATE_CQL_UNSET) {
            *out = UNSET_VALUE;
            return 0;
        }
        if (!v.p || v.len < 0) return 0;
        char err[256];
        if (spate_cql_value_validate(t, v.p, (size_t)v.len, err, sizeof err) != SPATE_OK)
            return ev_fail(e, SPATE_CQL_ERR_INVALID, "%s", err);
        if (!normalize(e->a, t, v, out, 0)) return ev_nomem(e);
        return 0;
    }
    case SPATE_CQL_TERM_LIST:
    case SPATE_CQL_TERM_SET:
    case SPATE_CQL_TERM_MAP: {
        bool is_map = term->kind == SPATE_CQL_TERM_MAP;
        uint32_t n = is_map ? term->map.n : term->items.n;
        spate_cql_type_t want = term->kind == SPATE_CQL_TERM_LIST  ? SPATE_CQL_LIST
                                : term->kind == SPATE_CQL_TERM_SET ? SPATE_CQL_SET
                                                                   : SPATE_CQL_MAP;
        if (want == SPATE_CQL_SET && n == 0 && t->id == SPATE_CQL_MAP) want = SPATE_CQL_MAP;
        if (t->id != want || t->n < (want == SPATE_CQL_MAP ? 2 : 1))
            return ev_fail(e, SPATE_CQL_ERR_INVALID, "Invalid %s literal for %s of type %s",
                           term->kind == SPATE_CQL_TERM_LIST  ? "list"
                           : term->kind == SPATE_CQL_TERM_SET ? "set"
                                                              : "map",
                           name, ttext ? ttext : type_text(e->a, t));
        uint32_t nit = want == SPATE_CQL_MAP ? 2 * n : n;
        spate_slice_t *it = spate_cql_arena_alloc(e->a, (nit ? nit : 1) * sizeof *it);
        size_t nl = strlen(name) + 8;
        char *kname = spate_cql_arena_alloc(e->a, nl), *vname = spate_cql_arena_alloc(e->a, nl);
        if (!it || !kname || !vname) return ev_nomem(e);
        snprintf(kname, nl, "key(%s)", name);
        snprintf(vname, nl, "value(%s)", name);
        bool unset = false;
        for (uint32_t i = 0; i < n; i++) {
            int32_t code;
            if (is_map) {
                if ((code = elem_eval(e, kname, &t->sub[0], term->map.keys[i], depth, &it[2 * i],
                                      &unset)) ||
                    (code = elem_eval(e, vname, &t->sub[1], term->map.vals[i], depth,
                                      &it[2 * i + 1], &unset)))
                    return code;
            } else if ((code = elem_eval(e, vname, &t->sub[0], term->items.v[i], depth, &it[i],
                                         &unset))) {
                return code;
            }
        }
        if (unset) {
            *out = UNSET_VALUE;
            return 0;
        }
        if (want != SPATE_CQL_LIST &&
            !sort_dedupe(e->a, &t->sub[0], want == SPATE_CQL_MAP, it, &nit))
            return ev_nomem(e);
        if (!coll_build(e->a, want, it, nit, out)) return ev_nomem(e);
        return 0;
    }
    case SPATE_CQL_TERM_TUPLE: {
        if (t->id != SPATE_CQL_TUPLE)
            return ev_fail(e, SPATE_CQL_ERR_INVALID, "Invalid tuple literal for %s of type %s",
                           name, ttext ? ttext : type_text(e->a, t));
        if (term->items.n > t->n)
            return ev_fail(e, SPATE_CQL_ERR_INVALID,
                           "Invalid tuple literal for %s: too many elements. Type %s expects %u "
                           "but got %u",
                           name, ttext ? ttext : type_text(e->a, t), t->n, term->items.n);
        spate_slice_t *it =
            spate_cql_arena_alloc(e->a, (term->items.n ? term->items.n : 1) * sizeof *it);
        if (!it) return ev_nomem(e);
        for (uint32_t i = 0; i < term->items.n; i++) {
            char fname[32];
            snprintf(fname, sizeof fname, "component(%u)", i);
            int32_t code =
                term_eval(e, fname, NULL, &t->sub[i], term->items.v[i], depth + 1, &it[i]);
            if (code) return code;
            if (it[i].len == SPATE_CQL_UNSET)
                return ev_fail(e, SPATE_CQL_ERR_INVALID,
                               "Invalid unset value for tuple field number %u", i);
        }
        if (!coll_build(e->a, SPATE_CQL_TUPLE, it, term->items.n, out)) return ev_nomem(e);
        return 0;
    }
    case SPATE_CQL_TERM_UDT:
        return ev_fail(e, SPATE_CQL_ERR_INVALID, "Invalid user type literal for %s of type %s",
                       name, ttext ? ttext : type_text(e->a, t));
    case SPATE_CQL_TERM_HINT: {
        if (term->hint.cast)
            return ev_fail(e, SPATE_CQL_ERR_INVALID, "CAST is not supported in this context");
        spate_buf_t tb = SPATE_BUF_INIT;
        spate_cql_datatype_t ht;
        char err[256];
        memset(&ht, 0, sizeof ht);
        if (cql_type_from_ref(term->hint.type, &tb, &ht, err, sizeof err) != SPATE_OK) {
            spate_buf_free(&tb);
            spate_cql_datatype_free(&ht);
            return ev_fail(e, SPATE_CQL_ERR_INVALID, "%s", err);
        }
        int32_t code = 0;
        if (!assignable(&ht, t, 0))
            code = ev_fail(e, SPATE_CQL_ERR_INVALID,
                           "Type error: (%.*s)%s cannot be assigned to %s of type %s", (int)tb.len,
                           tb.data ? (const char *)tb.data : "", term_text(e->a, term->hint.term),
                           name, ttext ? ttext : type_text(e->a, t));
        else
            code = term_eval(e, name, NULL, &ht, term->hint.term, depth + 1, out);
        spate_buf_free(&tb);
        spate_cql_datatype_free(&ht);
        return code;
    }
    case SPATE_CQL_TERM_FUNC: {
        fval_t f;
        int32_t code = func_eval(e, term, depth, &f);
        if (code) return code;
        if (!assignable(&f.type, t, 0))
            return ev_fail(e, SPATE_CQL_ERR_INVALID,
                           "Type error: cannot assign result of function system.%s (type %s) to "
                           "%s (type %s)",
                           term->func.name, type_text(e->a, &f.type), name,
                           ttext ? ttext : type_text(e->a, t));
        *out = f.v;
        return 0;
    }
    }
    return ev_fail(e, SPATE_CQL_ERR_INVALID, "Unsupported term for %s", name);
}

int32_t cql_exec_term_as(spate_cql_server_t *srv, spate_cql_arena_t *a, const char *name,
                         const spate_cql_datatype_t *type, const spate_cql_term_t *term,
                         const spate_slice_t *values, uint32_t nvalues, spate_slice_t *out,
                         char *msg, size_t msglen) {
    ev_t e = {srv, a, values, nvalues, msg, msglen};
    return term_eval(&e, name, NULL, type, term, 0, out);
}

int32_t cql_exec_term(spate_cql_server_t *srv, spate_cql_arena_t *a, const cql_column_t *col,
                      const spate_cql_term_t *term, const spate_slice_t *values, uint32_t nvalues,
                      spate_slice_t *out, char *msg, size_t msglen) {
    ev_t e = {srv, a, values, nvalues, msg, msglen};
    return term_eval(&e, col->name, col->type_text, &col->type, term, 0, out);
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

/* A counter update waiting for its read-modify-write (all of a request's
 * increments of one cell are summed first). */
typedef struct {
    const cql_tview_t *v;
    const spate_slice_t *pk, *ck; /* ck NULL: a static counter */
    uint32_t ci;
    int64_t delta;
} ctr_t;

typedef struct {
    spate_cql_server_t *srv;
    exec_cache_t *c;
    const cql_dml_t *d;
    spate_cql_arena_t *a;
    spate_cql_mutation_t *m;
    int64_t now; /* seconds since the epoch: TTL expiry, deletion times */
    int64_t ts;  /* the request's write timestamp */
    ctr_t *ctr;
    uint32_t nctr, capctr;
    int32_t code;
    char msg[1024];
} ex_t;

static int32_t fail(ex_t *x, int32_t code, const char *fmt, ...) SPATE_PRINTF(3, 4);
static int32_t fail(ex_t *x, int32_t code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->msg, sizeof x->msg, fmt, ap);
    va_end(ap);
    x->code = code;
    return code;
}

static int32_t nomem(ex_t *x) { return fail(x, SPATE_CQL_ERR_SERVER, "out of memory"); }

static int32_t store_fail(ex_t *x, spate_status_t rc, const char *what) {
    return fail(x, SPATE_CQL_ERR_SERVER, "%s failed: %s", what, spate_status_str(rc));
}

/* ---- reading rows back (conditions, counters, list indexes) ---- */

typedef struct {
    bool live;
    spate_cql_store_cell_t *cells; /* copied into the arena */
    size_t ncells;
} srow_t;

typedef struct {
    srow_t st, row; /* the partition's static row; the regular row */
} snap_t;

static bool srow_copy(spate_cql_arena_t *a, const spate_cql_store_row_t *r, srow_t *out) {
    out->live = true;
    out->ncells = r->ncells;
    out->cells = spate_cql_arena_alloc(a, (r->ncells ? r->ncells : 1) * sizeof *out->cells);
    if (!out->cells) return false;
    for (size_t i = 0; i < r->ncells; i++) {
        spate_cql_store_cell_t *c = &out->cells[i];
        *c = r->cells[i];
        if (c->elem_key.p) c->elem_key.p = arena_copy(a, c->elem_key.p, (size_t)c->elem_key.len);
        if (c->elem.p) c->elem.p = arena_copy(a, c->elem.p, (size_t)c->elem.len);
        if (c->value.p) c->value.p = arena_copy(a, c->value.p, (size_t)c->value.len);
        if ((r->cells[i].elem_key.p && !c->elem_key.p) || (r->cells[i].elem.p && !c->elem.p) ||
            (r->cells[i].value.p && !c->value.p))
            return false;
    }
    return true;
}

/* Reads partition pk's static row and, when ck is given (or the table
 * has no clustering), the row (pk, ck), as live at x->now. */
static int32_t snap_read(ex_t *x, const cql_tview_t *v, const spate_slice_t *pk,
                         const spate_slice_t *ck, snap_t *out) {
    memset(out, 0, sizeof *out);
    bool want_row = ck != NULL || v->key.nck == 0;
    spate_cql_store_query_t q = {
        .schema = &v->key,
        .now = x->now,
        .include_static = true,
        .pk = pk,
        .elem_types = v->elem_by_id,
        .nelem_types = v->nid,
    };
    if (ck && v->key.nck) {
        q.ck = ck;
        q.neq = v->key.nck;
    }
    spate_cql_store_iter_t *it;
    spate_status_t rc = spate_cql_store_iter_open(x->srv->store, &q, &it);
    if (rc != SPATE_OK) return store_fail(x, rc, "read");
    const spate_cql_store_row_t *r;
    int32_t code = 0;
    while ((rc = spate_cql_store_iter_next(it, &r)) == SPATE_OK) {
        if (r->is_static) {
            if (!srow_copy(x->a, r, &out->st)) code = nomem(x);
            if (code) break;
            continue;
        }
        if (want_row && !srow_copy(x->a, r, &out->row)) code = nomem(x);
        break;
    }
    if (!code && rc != SPATE_OK && rc != SPATE_ENOENT) code = store_fail(x, rc, "read");
    spate_cql_store_iter_free(it);
    return code;
}

/* A column's current value in a row read back: the cell, or for a
 * non-frozen collection its elements serialized as one value; null
 * ({NULL, -1}) when absent. */
static int32_t srow_value(ex_t *x, const cql_tview_t *v, const srow_t *r, uint32_t ci,
                          spate_slice_t *out) {
    const cql_column_t *col = &v->table->cols[ci];
    *out = NULL_VALUE;
    size_t i = 0;
    while (i < r->ncells && r->cells[i].column != col->id) i++;
    if (i == r->ncells) return 0;
    if (!v->elem[ci]) {
        *out = r->cells[i].value;
        return 0;
    }
    bool map = col->type.id == SPATE_CQL_MAP, set = col->type.id == SPATE_CQL_SET;
    size_t n = 0;
    while (i + n < r->ncells && r->cells[i + n].column == col->id) n++;
    spate_slice_t *it = spate_cql_arena_alloc(x->a, (2 * n + 1) * sizeof *it);
    if (!it) return nomem(x);
    size_t k = 0;
    for (size_t j = i; j < i + n; j++) {
        const spate_cql_store_cell_t *c = &r->cells[j];
        if (!c->has_elem) continue;
        if ((map || set) && !c->elem.p) continue;
        if (map || set) it[k++] = c->elem;
        if (!set) it[k++] = c->value;
    }
    if (k == 0) return 0;
    if (!coll_build(x->a, col->type.id, it, k, out)) return nomem(x);
    return 0;
}

/* The elements of a non-frozen list column in a row read back: their
 * timeuuids (elems) and values, in list order. */
static int32_t srow_list(ex_t *x, const srow_t *r, uint16_t col_id, spate_slice_t **keys,
                         spate_slice_t **vals, uint32_t *n) {
    size_t cnt = 0;
    for (size_t i = 0; i < r->ncells; i++)
        if (r->cells[i].column == col_id && r->cells[i].has_elem && r->cells[i].elem.p) cnt++;
    *keys = spate_cql_arena_alloc(x->a, (cnt ? cnt : 1) * sizeof **keys);
    *vals = spate_cql_arena_alloc(x->a, (cnt ? cnt : 1) * sizeof **vals);
    if (!*keys || !*vals) return nomem(x);
    *n = 0;
    for (size_t i = 0; i < r->ncells; i++) {
        const spate_cql_store_cell_t *c = &r->cells[i];
        if (c->column != col_id || !c->has_elem || !c->elem.p) continue;
        (*keys)[*n] = c->elem;
        (*vals)[*n] = c->value;
        (*n)++;
    }
    return 0;
}

/* ---- plans: one statement, compiled ---- */

typedef enum {
    OP_SET,      /* c = v: the whole value (null deletes it) */
    OP_ADD,      /* c = c + v on a collection: append / add / put */
    OP_SUB,      /* c = c - v on a collection: remove elements / keys / values */
    OP_PREPEND,  /* l = v + l */
    OP_SET_ELEM, /* m[k] = v, l[i] = v */
    OP_DEL,      /* DELETE c */
    OP_DEL_ELEM, /* DELETE m[k], s[e], l[i] */
    OP_COUNTER,  /* c = c + n, c = c - n */
} op_kind_t;

typedef struct {
    op_kind_t kind;
    uint32_t ci; /* index in table->cols */
    spate_slice_t value;
    spate_slice_t key;
    int64_t delta;
} op_t;

typedef struct {
    uint32_t ci;
    bool elem;         /* c[key] op ... */
    spate_slice_t key; /* map key / list index (int) */
    spate_cql_rel_op_t op;
    spate_slice_t *vals; /* 1, or the IN candidates */
    uint32_t nvals;
    const spate_cql_datatype_t *vtype; /* the type of vals */
} cond_t;

typedef enum { P_INSERT, P_UPDATE, P_DELETE } pkind_t;

typedef struct {
    const cql_bound_t *b;
    const cql_table_t *t;
    const cql_tview_t *v;
    pkind_t kind;
    const char *kname; /* "INSERT", "UPDATE", "DELETE" */
    const spate_slice_t *values;
    uint32_t nvalues;
    op_t *ops;
    uint32_t nops;
    bool regular_ops, static_ops, counter_ops;
    /* Keys: the partition keys (npks x npk values), the clustering
     * prefixes (ncks x neq values) and an optional slice of clustering
     * column neq (DELETE ranges). */
    spate_slice_t *pks;
    uint32_t npks;
    spate_slice_t *cks;
    uint32_t ncks;
    uint16_t neq;
    bool has_start, has_end;
    spate_cql_kslice_t start, end;
    bool pk_in, ck_in;
    bool static_only; /* writes the static row only: no clustering given */
    bool row_level;   /* writes (or deletes) whole regular rows: clustering complete */
    int64_t ts;
    int32_t ttl;
    bool ts_set;
    bool if_exists, if_not_exists;
    cond_t *conds;
    uint32_t nconds;
    bool cond_regular, cond_static;
} plan_t;

/* Per key column (partition key by position, then clustering), the
 * values a WHERE clause (or an INSERT) gives it. */
typedef struct {
    spate_slice_t **cand;
    uint32_t *ncand;
    bool *eq;          /* restricted by = or IN */
    int32_t slice;     /* clustering position with a slice, -1: none */
    const char *nonpk; /* non-key columns restricted ("a, b"): refused after the key checks */
} kc_t;

static const char *col_kind_word(pkind_t k) {
    return k == P_INSERT ? "INSERT" : k == P_UPDATE ? "UPDATE" : "DELETE";
}

static int32_t col_index(const cql_table_t *t, const char *name) {
    /* the first byte first: every statement execution looks up each of its
     * columns, and most names differ there */
    for (uint32_t i = 0; i < t->ncols; i++)
        if (t->cols[i].name[0] == name[0] && !strcmp(t->cols[i].name, name)) return (int32_t)i;
    return -1;
}

static bool is_key(const cql_column_t *c) {
    return c->kind == CQL_KIND_PARTITION_KEY || c->kind == CQL_KIND_CLUSTERING;
}

/* Where a key column's candidates live in kc: pk by position, then ck. */
static uint32_t key_slot(const plan_t *p, const cql_column_t *c) {
    return c->kind == CQL_KIND_PARTITION_KEY ? (uint32_t)c->position
                                             : p->t->npk + (uint32_t)c->position;
}

/* The name of clustering column pos. */
static const char *ck_name(const cql_table_t *t, int32_t pos) {
    for (uint32_t i = 0; i < t->ncols; i++)
        if (t->cols[i].kind == CQL_KIND_CLUSTERING && t->cols[i].position == pos)
            return t->cols[i].name;
    return "?";
}

static ev_t plan_ev(ex_t *x, const plan_t *p) {
    return (ev_t){x->srv, x->a, p->values, p->nvalues, x->msg, sizeof x->msg};
}

/* Evaluates a term for column col; codes set x->code. */
static int32_t eval_col(ex_t *x, const plan_t *p, const cql_column_t *col,
                        const spate_cql_term_t *term, spate_slice_t *out) {
    ev_t e = plan_ev(x, p);
    int32_t code = term_eval(&e, col->name, col->type_text, &col->type, term, 0, out);
    if (code) x->code = code;
    return code;
}

static int32_t eval_as(ex_t *x, const plan_t *p, const char *name, const spate_cql_datatype_t *t,
                       const spate_cql_term_t *term, spate_slice_t *out) {
    ev_t e = plan_ev(x, p);
    int32_t code = term_eval(&e, name, NULL, t, term, 0, out);
    if (code) x->code = code;
    return code;
}

/* A key value: neither null nor unset, and within the key limits. */
static int32_t key_check(ex_t *x, const plan_t *p, const cql_column_t *col, spate_slice_t v) {
    if (v.len == SPATE_CQL_UNSET)
        return fail(x, SPATE_CQL_ERR_INVALID, "Invalid unset value for column %s", col->name);
    if (!v.p || v.len < 0)
        return fail(x, SPATE_CQL_ERR_INVALID, "Invalid null value in condition for column %s",
                    col->name);
    if (col->kind == CQL_KIND_PARTITION_KEY && p->t->npk == 1 && v.len == 0)
        return fail(x, SPATE_CQL_ERR_INVALID, "Key may not be empty");
    if (v.len > SPATE_CQL_KEY_MAX_VALUE)
        return fail(x, SPATE_CQL_ERR_INVALID, "Key length of %d is longer than maximum of %d",
                    v.len, SPATE_CQL_KEY_MAX_VALUE);
    return 0;
}

static int32_t kc_init(ex_t *x, const plan_t *p, kc_t *kc) {
    uint32_t n = p->t->npk + p->t->nck;
    kc->cand = spate_cql_arena_alloc(x->a, (n ? n : 1) * sizeof *kc->cand);
    kc->ncand = spate_cql_arena_alloc(x->a, (n ? n : 1) * sizeof *kc->ncand);
    kc->eq = spate_cql_arena_alloc(x->a, (n ? n : 1) * sizeof *kc->eq);
    kc->slice = -1;
    kc->nonpk = NULL;
    return kc->cand && kc->ncand && kc->eq ? 0 : nomem(x);
}

/* "a, b": the names of the key columns in [from, to) of kc that are not
 * restricted by equality. */
static const char *missing_names(ex_t *x, const plan_t *p, const kc_t *kc, bool clustering) {
    spate_buf_t b = SPATE_BUF_INIT;
    for (uint32_t i = 0; i < p->t->ncols; i++) {
        const cql_column_t *c = &p->t->cols[i];
        bool want = clustering ? c->kind == CQL_KIND_CLUSTERING : c->kind == CQL_KIND_PARTITION_KEY;
        if (!want || kc->eq[key_slot(p, c)]) continue;
        if (b.len) spate_buf_puts(&b, ", ");
        spate_buf_puts(&b, c->name);
    }
    const char *s = spate_cql_arena_strndup(x->a, b.data ? (const char *)b.data : "", b.len);
    spate_buf_free(&b);
    return s ? s : "";
}

/* The candidates of an IN ? marker: a list<type> value. */
static int32_t in_marker(ex_t *x, const plan_t *p, const cql_column_t *col,
                         const spate_cql_term_t *term, spate_slice_t **out, uint32_t *n) {
    spate_cql_datatype_t lt = {
        .id = SPATE_CQL_LIST, .n = 1, .sub = (spate_cql_datatype_t *)&col->type};
    char name[300];
    snprintf(name, sizeof name, "in(%s)", col->name);
    spate_slice_t v;
    if (eval_as(x, p, name, &lt, term, &v)) return x->code;
    if (v.len == SPATE_CQL_UNSET)
        return fail(x, SPATE_CQL_ERR_INVALID, "Invalid unset value for column %s", col->name);
    if (!v.p || v.len < 0)
        return fail(x, SPATE_CQL_ERR_INVALID, "Invalid null value for IN restriction on column %s",
                    col->name);
    if (!coll_parse(x->a, v, false, out, n)) return nomem(x);
    return 0;
}

/* Reads a WHERE clause of UPDATE / DELETE into kc, with Cassandra's
 * checks (all of them apply to writes). */
static int32_t where_read(ex_t *x, plan_t *p, const spate_cql_relation_t *rels, uint32_t n,
                          kc_t *kc) {
    const cql_table_t *t = p->t;
    spate_buf_t nonpk = SPATE_BUF_INIT;
    bool seen_start = false, seen_end = false;
    int32_t code = 0;
    for (uint32_t i = 0; i < n && !code; i++) {
        const spate_cql_relation_t *r = &rels[i];
        if (r->lhs == SPATE_CQL_LHS_TOKEN) {
            code = fail(x, SPATE_CQL_ERR_INVALID,
                        "The token function cannot be used in WHERE clauses for %s statements",
                        p->kname);
            break;
        }
        if (r->lhs == SPATE_CQL_LHS_TUPLE) {
            /* (a, b) = (x, y) | (a, b) = ?: one equality per column. */
            if (r->op != SPATE_CQL_REL_EQ) {
                code = fail(x, SPATE_CQL_ERR_INVALID,
                            "Multi-column slice and IN restrictions are not supported by spate "
                            "cql in %s statements",
                            p->kname);
                break;
            }
            spate_slice_t *comp = NULL;
            uint32_t ncomp = 0;
            if (r->value->kind == SPATE_CQL_TERM_TUPLE) {
                ncomp = r->value->items.n;
            } else {
                spate_cql_datatype_t *subs =
                    spate_cql_arena_alloc(x->a, (r->ncols ? r->ncols : 1) * sizeof *subs);
                if (!subs) {
                    code = nomem(x);
                    break;
                }
                for (uint32_t j = 0; j < r->ncols; j++) {
                    int32_t k = col_index(t, r->cols[j]);
                    if (k >= 0) subs[j] = t->cols[k].type;
                }
                spate_cql_datatype_t tt = {
                    .id = SPATE_CQL_TUPLE, .n = (uint16_t)r->ncols, .sub = subs};
                spate_slice_t v;
                if ((code = eval_as(x, p, "tuple", &tt, r->value, &v))) break;
                if (!v.p || v.len < 0) {
                    code =
                        fail(x, SPATE_CQL_ERR_INVALID, "Invalid null value for tuple restriction");
                    break;
                }
                comp = spate_cql_arena_alloc(x->a, (r->ncols ? r->ncols : 1) * sizeof *comp);
                if (!comp) {
                    code = nomem(x);
                    break;
                }
                spate_rd_t rd;
                spate_rd_init(&rd, v.p, (size_t)v.len);
                while (ncomp < r->ncols && spate_rd_left(&rd) > 0 &&
                       spate_rd_str32(&rd, &comp[ncomp]) == SPATE_OK)
                    ncomp++;
            }
            if (ncomp != r->ncols) {
                code = fail(x, SPATE_CQL_ERR_INVALID,
                            "Expected %u elements in value tuple, but got %u", r->ncols, ncomp);
                break;
            }
            for (uint32_t j = 0; j < r->ncols && !code; j++) {
                int32_t k = col_index(t, r->cols[j]);
                if (k < 0) {
                    code = fail(x, SPATE_CQL_ERR_INVALID, "Undefined column name %s", r->cols[j]);
                    break;
                }
                const cql_column_t *c = &t->cols[k];
                if (c->kind != CQL_KIND_CLUSTERING) {
                    code = fail(x, SPATE_CQL_ERR_INVALID,
                                "Multi-column relations can only be applied to clustering columns "
                                "but was applied to: %s",
                                c->name);
                    break;
                }
                uint32_t s = key_slot(p, c);
                if (kc->eq[s]) {
                    code = fail(x, SPATE_CQL_ERR_INVALID,
                                "%s cannot be restricted by more than one relation if it includes "
                                "an Equal",
                                c->name);
                    break;
                }
                spate_slice_t v;
                if (comp)
                    v = comp[j];
                else if ((code = eval_col(x, p, c, r->value->items.v[j], &v)))
                    break;
                if ((code = key_check(x, p, c, v))) break;
                spate_slice_t *one = spate_cql_arena_alloc(x->a, sizeof *one);
                if (!one) {
                    code = nomem(x);
                    break;
                }
                *one = v;
                kc->cand[s] = one;
                kc->ncand[s] = 1;
                kc->eq[s] = true;
            }
            continue;
        }
        const char *cname = r->cols[0];
        int32_t k = col_index(t, cname);
        if (k < 0) {
            code = fail(x, SPATE_CQL_ERR_INVALID, "Undefined column name %s", cname);
            break;
        }
        const cql_column_t *c = &t->cols[k];
        if (!is_key(c) || r->lhs != SPATE_CQL_LHS_COLUMN) {
            if (nonpk.len) spate_buf_puts(&nonpk, ", ");
            spate_buf_puts(&nonpk, c->name);
            continue;
        }
        uint32_t s = key_slot(p, c);
        switch (r->op) {
        case SPATE_CQL_REL_EQ:
        case SPATE_CQL_REL_IN: {
            if (kc->eq[s] || (c->kind == CQL_KIND_CLUSTERING && kc->slice == c->position)) {
                code = fail(x, SPATE_CQL_ERR_INVALID,
                            "%s cannot be restricted by more than one relation if it includes an "
                            "Equal",
                            c->name);
                break;
            }
            spate_slice_t *cand;
            uint32_t nc;
            if (r->op == SPATE_CQL_REL_EQ || r->in_list) {
                nc = r->op == SPATE_CQL_REL_EQ ? 1 : r->nin;
                cand = spate_cql_arena_alloc(x->a, (nc ? nc : 1) * sizeof *cand);
                if (!cand) {
                    code = nomem(x);
                    break;
                }
                for (uint32_t j = 0; j < nc && !code; j++)
                    code = eval_col(x, p, c, r->op == SPATE_CQL_REL_EQ ? r->value : r->in[j],
                                    &cand[j]);
                if (code) break;
            } else if ((code = in_marker(x, p, c, r->value, &cand, &nc))) {
                break;
            }
            for (uint32_t j = 0; j < nc && !code; j++) code = key_check(x, p, c, cand[j]);
            if (code) break;
            if (r->op == SPATE_CQL_REL_IN) {
                if (c->kind == CQL_KIND_PARTITION_KEY)
                    p->pk_in = true;
                else
                    p->ck_in = true;
            }
            kc->cand[s] = cand;
            kc->ncand[s] = nc;
            kc->eq[s] = true;
            break;
        }
        case SPATE_CQL_REL_LT:
        case SPATE_CQL_REL_LE:
        case SPATE_CQL_REL_GT:
        case SPATE_CQL_REL_GE: {
            if (c->kind == CQL_KIND_PARTITION_KEY) {
                code = fail(x, SPATE_CQL_ERR_INVALID,
                            "Only EQ and IN relation are supported on the partition key (unless "
                            "you use the token() function) for %s statements",
                            p->kname);
                break;
            }
            if (p->kind != P_DELETE) {
                code = fail(x, SPATE_CQL_ERR_INVALID,
                            "Slice restrictions are not supported on the clustering columns in %s "
                            "statements",
                            p->kname);
                break;
            }
            if (kc->eq[s]) {
                code = fail(x, SPATE_CQL_ERR_INVALID,
                            "%s cannot be restricted by more than one relation if it includes an "
                            "Equal",
                            c->name);
                break;
            }
            if (kc->slice >= 0 && kc->slice != c->position) {
                int32_t lo = SPATE_MIN(kc->slice, c->position);
                int32_t hi = SPATE_MAX(kc->slice, c->position);
                code = fail(x, SPATE_CQL_ERR_INVALID,
                            "Clustering column \"%s\" cannot be restricted (preceding column "
                            "\"%s\" is restricted by a non-EQ relation)",
                            ck_name(t, hi), ck_name(t, lo));
                break;
            }
            bool is_start = r->op == SPATE_CQL_REL_GT || r->op == SPATE_CQL_REL_GE;
            if ((is_start && seen_start) || (!is_start && seen_end)) {
                code = fail(x, SPATE_CQL_ERR_INVALID,
                            "More than one restriction was found for the %s bound on %s",
                            is_start ? "start" : "end", c->name);
                break;
            }
            spate_slice_t v;
            if ((code = eval_col(x, p, c, r->value, &v))) break;
            if (!v.p || v.len < 0) {
                code =
                    fail(x, SPATE_CQL_ERR_INVALID,
                         v.len == SPATE_CQL_UNSET ? "Invalid unset value for column %s"
                                                  : "Invalid null value in condition for column %s",
                         c->name);
                break;
            }
            spate_cql_kslice_t ks = {r->op == SPATE_CQL_REL_GE || r->op == SPATE_CQL_REL_LE, v};
            if (is_start) {
                p->start = ks;
                p->has_start = seen_start = true;
            } else {
                p->end = ks;
                p->has_end = seen_end = true;
            }
            kc->slice = c->position;
            break;
        }
        default:
            code = fail(x, SPATE_CQL_ERR_INVALID,
                        "Only EQ and IN relation are supported on the %s for %s statements",
                        c->kind == CQL_KIND_PARTITION_KEY ? "partition key" : "clustering columns",
                        p->kname);
            break;
        }
    }
    if (!code && nonpk.len) {
        kc->nonpk = spate_cql_arena_strndup(x->a, (const char *)nonpk.data, nonpk.len);
        if (!kc->nonpk) code = nomem(x);
    }
    spate_buf_free(&nonpk);
    return code;
}

/* The cartesian product of the candidates of key slots [from, from + n):
 * *nout tuples of n values each. */
static int32_t product(ex_t *x, const kc_t *kc, uint32_t from, uint32_t n, spate_slice_t **out,
                       uint32_t *nout) {
    uint64_t total = 1;
    for (uint32_t i = 0; i < n; i++) {
        total *= kc->ncand[from + i];
        if (total > MAX_KEYS)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "The cartesian product of the IN restrictions is greater than %d",
                        MAX_KEYS);
    }
    *nout = (uint32_t)total;
    *out = spate_cql_arena_alloc(x->a, (total * n > 0 ? total * n : 1) * sizeof **out);
    if (!*out) return nomem(x);
    for (uint64_t k = 0; k < total; k++) {
        uint64_t rest = k;
        for (uint32_t i = n; i-- > 0;) { /* the last column varies fastest */
            uint32_t m = kc->ncand[from + i];
            (*out)[k * n + i] = kc->cand[from + i][rest % m];
            rest /= m;
        }
    }
    return 0;
}

/* Checks what the key restrictions leave out and expands them into the
 * plan's partition keys and clustering prefixes. */
static int32_t keys_finish(ex_t *x, plan_t *p, kc_t *kc) {
    const cql_table_t *t = p->t;
    for (uint32_t i = 0; i < t->npk; i++)
        if (!kc->eq[i])
            return fail(x, SPATE_CQL_ERR_INVALID, "Some partition key parts are missing: %s",
                        missing_names(x, p, kc, false));
    uint32_t neq = 0;
    while (neq < t->nck && kc->eq[t->npk + neq]) neq++;
    for (uint32_t i = neq + 1; i < t->nck; i++) {
        if (!kc->eq[t->npk + i]) continue;
        if (kc->slice >= 0 && (uint32_t)kc->slice < i)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Clustering column \"%s\" cannot be restricted (preceding column \"%s\" "
                        "is restricted by a non-EQ relation)",
                        ck_name(t, (int32_t)i), ck_name(t, kc->slice));
        return fail(x, SPATE_CQL_ERR_INVALID,
                    "PRIMARY KEY column \"%s\" cannot be restricted as preceding column \"%s\" is "
                    "not restricted",
                    ck_name(t, (int32_t)i), ck_name(t, (int32_t)neq));
    }
    if (kc->slice >= 0 && (uint32_t)kc->slice != neq)
        return fail(x, SPATE_CQL_ERR_INVALID,
                    "PRIMARY KEY column \"%s\" cannot be restricted as preceding column \"%s\" is "
                    "not restricted",
                    ck_name(t, kc->slice), ck_name(t, (int32_t)neq));
    p->neq = (uint16_t)neq;
    if (product(x, kc, 0, t->npk, &p->pks, &p->npks)) return x->code;
    if (product(x, kc, t->npk, neq, &p->cks, &p->ncks)) return x->code;
    return 0;
}

static int32_t nonpk_check(ex_t *x, const kc_t *kc) {
    if (!kc->nonpk) return 0;
    return fail(x, SPATE_CQL_ERR_INVALID, "Non PRIMARY KEY columns found in where clause: %s ",
                kc->nonpk);
}

/* ---- USING TIMESTAMP / TTL ---- */

static int32_t using_value(ex_t *x, const plan_t *p, const spate_cql_term_t *term, bool ttl,
                           int64_t *out, bool *given) {
    *given = false;
    if (!term) return 0;
    spate_cql_datatype_t t = {.id = ttl ? SPATE_CQL_INT : SPATE_CQL_BIGINT};
    spate_slice_t v;
    if (eval_as(x, p, ttl ? "[ttl]" : "[timestamp]", &t, term, &v)) return x->code;
    if (v.len == SPATE_CQL_UNSET) return 0;
    if (!v.p || v.len < 0)
        return fail(x, SPATE_CQL_ERR_INVALID, "Invalid null value of %s",
                    ttl ? "TTL" : "timestamp");
    if (v.len != (ttl ? 4 : 8))
        return fail(x, SPATE_CQL_ERR_INVALID, "Invalid timestamp value: %d bytes", v.len);
    *out = get_be(v.p, v.len);
    *given = true;
    return 0;
}

/* The plan's timestamp (USING TIMESTAMP, else the request's) and TTL. */
static int32_t plan_time(ex_t *x, plan_t *p, const spate_cql_using_t *u) {
    int64_t ts, ttl;
    bool ts_given, ttl_given;
    if (using_value(x, p, u->timestamp, false, &ts, &ts_given)) return x->code;
    if (using_value(x, p, u->ttl, true, &ttl, &ttl_given)) return x->code;
    p->ts_set = ts_given;
    p->ts = ts_given ? ts : x->ts;
    if (ts_given && ts == INT64_MIN)
        return fail(x, SPATE_CQL_ERR_INVALID, "Invalid timestamp value: %" PRId64, ts);
    if (ttl_given) {
        if (ttl < 0)
            return fail(x, SPATE_CQL_ERR_INVALID, "A TTL must be greater or equal to 0, but was %d",
                        (int)ttl);
        if (ttl > SPATE_CQL_STORE_MAX_TTL)
            return fail(x, SPATE_CQL_ERR_INVALID, "ttl is too large. requested (%d) maximum (%d)",
                        (int)ttl, SPATE_CQL_STORE_MAX_TTL);
        p->ttl = (int32_t)ttl;
    } else if (p->kind != P_DELETE) {
        const cql_option_t *o = cql_table_option(p->t, "default_time_to_live");
        int64_t d = 0;
        if (o && o->text && spate_parse_i64(o->text, 0, SPATE_CQL_STORE_MAX_TTL, &d) == SPATE_OK)
            p->ttl = (int32_t)d;
    }
    if (p->t->counter && ts_given)
        return fail(x, SPATE_CQL_ERR_INVALID,
                    "Cannot provide custom timestamp for counter updates");
    if (p->t->counter && ttl_given)
        return fail(x, SPATE_CQL_ERR_INVALID, "Cannot provide custom TTL for counter updates");
    return 0;
}

/* ---- conditions (IF ...) ---- */

static int32_t conds_read(ex_t *x, plan_t *p, const spate_cql_relation_t *rels, uint32_t n) {
    const cql_table_t *t = p->t;
    if (!n) return 0;
    p->conds = spate_cql_arena_alloc(x->a, n * sizeof *p->conds);
    if (!p->conds) return nomem(x);
    for (uint32_t i = 0; i < n; i++) {
        const spate_cql_relation_t *r = &rels[i];
        cond_t *c = &p->conds[p->nconds++];
        int32_t k = r->ncols ? col_index(t, r->cols[0]) : -1;
        if (k < 0)
            return fail(x, SPATE_CQL_ERR_INVALID, "Undefined column name %s",
                        r->ncols ? r->cols[0] : "?");
        const cql_column_t *col = &t->cols[k];
        if (is_key(col))
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "PRIMARY KEY column '%s' cannot have IF conditions", col->name);
        if (r->lhs != SPATE_CQL_LHS_COLUMN && r->lhs != SPATE_CQL_LHS_ELEM)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Conditions on user type fields are not supported by spate cql");
        c->ci = (uint32_t)k;
        c->op = r->op;
        c->vtype = &col->type;
        const char *vname = col->name;
        if (r->lhs == SPATE_CQL_LHS_ELEM) {
            bool list = col->type.id == SPATE_CQL_LIST, map = col->type.id == SPATE_CQL_MAP;
            if (!list && !map)
                return fail(x, SPATE_CQL_ERR_INVALID,
                            "Invalid element access syntax for non-collection column %s",
                            col->name);
            static const spate_cql_datatype_t int_type = {.id = SPATE_CQL_INT};
            char kname[300];
            snprintf(kname, sizeof kname, "%s(%s)", list ? "idx" : "key", col->name);
            if (eval_as(x, p, kname, list ? &int_type : &col->type.sub[0], r->key, &c->key))
                return x->code;
            if (!c->key.p || c->key.len < 0)
                return fail(x, SPATE_CQL_ERR_INVALID,
                            c->key.len == SPATE_CQL_UNSET ? "Invalid unset value for %s"
                                                          : "Invalid null value for %s",
                            list ? "list index" : "map key");
            c->elem = true;
            c->vtype = &col->type.sub[list ? 0 : 1];
            char *vn = spate_cql_arena_alloc(x->a, strlen(col->name) + 8);
            if (!vn) return nomem(x);
            sprintf(vn, "value(%s)", col->name);
            vname = vn;
        }
        switch (r->op) {
        case SPATE_CQL_REL_EQ:
        case SPATE_CQL_REL_NE:
        case SPATE_CQL_REL_LT:
        case SPATE_CQL_REL_LE:
        case SPATE_CQL_REL_GT:
        case SPATE_CQL_REL_GE:
        case SPATE_CQL_REL_IN: break;
        default:
            return fail(x, SPATE_CQL_ERR_INVALID, "Unsupported operator in condition on column %s",
                        col->name);
        }
        if (r->op == SPATE_CQL_REL_IN && !r->in_list) {
            spate_cql_datatype_t lt = {
                .id = SPATE_CQL_LIST, .n = 1, .sub = (spate_cql_datatype_t *)c->vtype};
            spate_slice_t v;
            if (eval_as(x, p, vname, &lt, r->value, &v)) return x->code;
            if (v.len == SPATE_CQL_UNSET)
                return fail(x, SPATE_CQL_ERR_INVALID, "Invalid 'unset' value in condition");
            if (!v.p || v.len < 0)
                return fail(x, SPATE_CQL_ERR_INVALID, "Invalid null list in IN condition");
            if (!coll_parse(x->a, v, false, &c->vals, &c->nvals)) return nomem(x);
        } else {
            c->nvals = r->op == SPATE_CQL_REL_IN ? r->nin : 1;
            c->vals = spate_cql_arena_alloc(x->a, (c->nvals ? c->nvals : 1) * sizeof *c->vals);
            if (!c->vals) return nomem(x);
            for (uint32_t j = 0; j < c->nvals; j++) {
                const spate_cql_term_t *term = r->op == SPATE_CQL_REL_IN ? r->in[j] : r->value;
                if (eval_as(x, p, vname, c->vtype, term, &c->vals[j])) return x->code;
                if (c->vals[j].len == SPATE_CQL_UNSET)
                    return fail(x, SPATE_CQL_ERR_INVALID, "Invalid 'unset' value in condition");
            }
        }
        static const char *const opname[] = {[SPATE_CQL_REL_LT] = "<",
                                             [SPATE_CQL_REL_LE] = "<=",
                                             [SPATE_CQL_REL_GT] = ">",
                                             [SPATE_CQL_REL_GE] = ">="};
        if ((r->op == SPATE_CQL_REL_LT || r->op == SPATE_CQL_REL_LE || r->op == SPATE_CQL_REL_GT ||
             r->op == SPATE_CQL_REL_GE) &&
            !c->vals[0].p)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Invalid comparison with null for operator \"%s\"", opname[r->op]);
        if (col->kind == CQL_KIND_STATIC)
            p->cond_static = true;
        else
            p->cond_regular = true;
    }
    return 0;
}

/* Checks shared by conditional statements. */
static int32_t plan_lwt_checks(ex_t *x, plan_t *p) {
    if (!p->if_exists && !p->if_not_exists && !p->nconds) return 0;
    if (p->t->counter)
        return fail(x, SPATE_CQL_ERR_INVALID,
                    "Conditional updates are not supported on counter tables");
    if (p->ts_set)
        return fail(x, SPATE_CQL_ERR_INVALID,
                    "Cannot provide custom timestamp for conditional updates");
    const char *what = p->kind == P_DELETE ? "deletions" : "updates";
    if (p->pk_in)
        return fail(x, SPATE_CQL_ERR_INVALID,
                    "IN on the partition key is not supported with conditional %s", what);
    if (p->ck_in)
        return fail(x, SPATE_CQL_ERR_INVALID,
                    "IN on the clustering key columns is not supported with conditional %s", what);
    if (p->kind == P_DELETE && !p->static_only &&
        (p->neq < p->t->nck || p->has_start || p->has_end))
        return fail(x, SPATE_CQL_ERR_INVALID,
                    "DELETE statements must restrict all PRIMARY KEY columns with equality "
                    "relations in order to use IF conditions");
    return 0;
}

/* ---- INSERT ---- */

static op_t *op_add(ex_t *x, plan_t *p, uint32_t cap) {
    if (!p->ops) {
        p->ops = spate_cql_arena_alloc(x->a, (cap ? cap : 1) * sizeof *p->ops);
        if (!p->ops) return NULL;
    }
    op_t *o = &p->ops[p->nops++];
    memset(o, 0, sizeof *o);
    return o;
}

static void op_mark(plan_t *p, const cql_column_t *col) {
    if (col->kind == CQL_KIND_STATIC)
        p->static_ops = true;
    else
        p->regular_ops = true;
}

/* Which rows a write touches, once keys and ops are known (INSERT and
 * UPDATE): the static row only, or whole regular rows. */
static int32_t plan_rows(ex_t *x, plan_t *p, const kc_t *kc) {
    const cql_table_t *t = p->t;
    bool any_ck = false;
    for (uint32_t i = 0; i < t->nck; i++) any_ck |= kc->eq[t->npk + i];
    bool statics = !p->regular_ops && !p->cond_regular && (p->static_ops || p->cond_static);
    if (t->nck && statics && any_ck && p->kind != P_INSERT)
        return fail(x, SPATE_CQL_ERR_INVALID,
                    "Invalid restrictions on clustering columns since the %s statement modifies "
                    "only static columns",
                    p->kname);
    if (t->nck && statics && !any_ck) {
        p->static_only = true;
        return 0;
    }
    if (p->neq < t->nck)
        return fail(x, SPATE_CQL_ERR_INVALID, "Some clustering keys are missing: %s",
                    missing_names(x, p, kc, true));
    p->row_level = true;
    return 0;
}

static int32_t compile_insert(ex_t *x, plan_t *p) {
    const spate_cql_stmt_insert_t *s = &p->b->stmt->insert;
    const cql_table_t *t = p->t;
    if (s->json)
        return fail(x, SPATE_CQL_ERR_INVALID, "INSERT ... JSON is not supported by spate cql");
    if (t->counter)
        return fail(x, SPATE_CQL_ERR_INVALID,
                    "INSERT statements are not allowed on counter tables, use UPDATE instead");
    kc_t kc;
    if (kc_init(x, p, &kc)) return x->code;
    for (uint32_t i = 0; i < s->ncols; i++) {
        int32_t k = col_index(t, s->cols[i]);
        if (k < 0) return fail(x, SPATE_CQL_ERR_INVALID, "Undefined column name %s", s->cols[i]);
        const cql_column_t *col = &t->cols[k];
        spate_slice_t v;
        if (eval_col(x, p, col, s->values[i], &v)) return x->code;
        if (is_key(col)) {
            if (key_check(x, p, col, v)) return x->code;
            spate_slice_t *one = spate_cql_arena_alloc(x->a, sizeof *one);
            if (!one) return nomem(x);
            *one = v;
            uint32_t slot = key_slot(p, col);
            kc.cand[slot] = one;
            kc.ncand[slot] = 1;
            kc.eq[slot] = true;
            continue;
        }
        op_t *o = op_add(x, p, s->ncols);
        if (!o) return nomem(x);
        o->kind = OP_SET;
        o->ci = (uint32_t)k;
        o->value = v;
        op_mark(p, col);
    }
    if (keys_finish(x, p, &kc)) return x->code;
    if (plan_rows(x, p, &kc)) return x->code;
    p->if_not_exists = s->if_not_exists;
    if (plan_time(x, p, &s->using)) return x->code;
    return 0;
}

/* ---- UPDATE ---- */

static const char *op_text(ex_t *x, const spate_cql_assign_t *a) {
    const char *v = term_text(x->a, a->value);
    spate_buf_t b = SPATE_BUF_INIT;
    switch (a->kind) {
    case SPATE_CQL_ASSIGN_SET: spate_buf_printf(&b, "%s = %s", a->col, v); break;
    case SPATE_CQL_ASSIGN_SET_ELEM:
        spate_buf_printf(&b, "%s[%s] = %s", a->col, term_text(x->a, a->key), v);
        break;
    case SPATE_CQL_ASSIGN_SET_FIELD: spate_buf_printf(&b, "%s.%s = %s", a->col, a->field, v); break;
    case SPATE_CQL_ASSIGN_ADD: spate_buf_printf(&b, "%s = %s + %s", a->col, a->col, v); break;
    case SPATE_CQL_ASSIGN_SUB: spate_buf_printf(&b, "%s = %s - %s", a->col, a->col, v); break;
    case SPATE_CQL_ASSIGN_PREPEND: spate_buf_printf(&b, "%s = %s + %s", a->col, v, a->col); break;
    }
    const char *s = spate_cql_arena_strndup(x->a, b.data ? (const char *)b.data : "", b.len);
    spate_buf_free(&b);
    return s ? s : "";
}

static bool is_collection(const cql_column_t *c) {
    return c->type.id == SPATE_CQL_LIST || c->type.id == SPATE_CQL_SET ||
           c->type.id == SPATE_CQL_MAP;
}

static int32_t compile_assign(ex_t *x, plan_t *p, const spate_cql_assign_t *a) {
    const cql_table_t *t = p->t;
    int32_t k = col_index(t, a->col);
    if (k < 0) return fail(x, SPATE_CQL_ERR_INVALID, "Undefined column name %s", a->col);
    const cql_column_t *col = &t->cols[k];
    if (is_key(col))
        return fail(x, SPATE_CQL_ERR_INVALID, "PRIMARY KEY part %s found in SET part", col->name);
    bool multi = p->v->elem[k] != NULL, coll = is_collection(col);
    bool counter = col->type.id == SPATE_CQL_COUNTER;
    /* `c = v` goes with no other operation on c (Cassandra's grammar
     * refuses it, hence a syntax error); additions, removals and element
     * setters combine. */
    for (uint32_t i = 0; i < p->nops; i++)
        if (p->ops[i].ci == (uint32_t)k &&
            (a->kind == SPATE_CQL_ASSIGN_SET || p->ops[i].kind == OP_SET))
            return fail(x, SPATE_CQL_ERR_SYNTAX, "Multiple incompatible setting of column %s",
                        col->name);
    op_t *o = op_add(x, p, p->b->stmt->update.nset);
    if (!o) return nomem(x);
    o->ci = (uint32_t)k;
    op_mark(p, col);
    switch (a->kind) {
    case SPATE_CQL_ASSIGN_SET:
        if (counter)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Cannot set the value of counter column %s (counters can only be "
                        "incremented/decremented, not set)",
                        col->name);
        o->kind = OP_SET;
        return eval_col(x, p, col, a->value, &o->value);
    case SPATE_CQL_ASSIGN_SET_ELEM: {
        if (!coll)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Invalid operation (%s) for non collection column %s", op_text(x, a),
                        col->name);
        if (col->type.id == SPATE_CQL_SET)
            return fail(x, SPATE_CQL_ERR_INVALID, "Invalid operation (%s) for set column %s",
                        op_text(x, a), col->name);
        if (!multi)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Invalid operation (%s) for frozen collection column %s", op_text(x, a),
                        col->name);
        bool list = col->type.id == SPATE_CQL_LIST;
        static const spate_cql_datatype_t int_type = {.id = SPATE_CQL_INT};
        char kname[300], vname[300];
        snprintf(kname, sizeof kname, "%s(%s)", list ? "idx" : "key", col->name);
        snprintf(vname, sizeof vname, "value(%s)", col->name);
        o->kind = OP_SET_ELEM;
        if (eval_as(x, p, kname, list ? &int_type : &col->type.sub[0], a->key, &o->key))
            return x->code;
        if (!o->key.p || o->key.len < 0)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        list ? "Invalid null value for list index" : "Invalid null map key");
        return eval_as(x, p, vname, &col->type.sub[list ? 0 : 1], a->value, &o->value);
    }
    case SPATE_CQL_ASSIGN_SET_FIELD:
        return fail(x, SPATE_CQL_ERR_INVALID, "Invalid operation (%s) for non-UDT column %s",
                    op_text(x, a), col->name);
    case SPATE_CQL_ASSIGN_ADD:
    case SPATE_CQL_ASSIGN_SUB: {
        bool add = a->kind == SPATE_CQL_ASSIGN_ADD;
        if (counter) {
            static const spate_cql_datatype_t bigint = {.id = SPATE_CQL_BIGINT};
            spate_slice_t v;
            if (eval_as(x, p, col->name, &bigint, a->value, &v)) return x->code;
            if (v.len == SPATE_CQL_UNSET) {
                p->nops--; /* an unset increment does nothing */
                return 0;
            }
            if (!v.p || v.len < 0)
                return fail(x, SPATE_CQL_ERR_INVALID, "Invalid null value for counter increment");
            if (v.len != 8) return fail(x, SPATE_CQL_ERR_INVALID, "Invalid counter increment");
            int64_t n = get_be(v.p, 8);
            o->kind = OP_COUNTER;
            o->delta = add ? n : (int64_t)(0 - (uint64_t)n);
            p->counter_ops = true;
            return 0;
        }
        if (!coll)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Invalid operation (%s) for non counter column %s", op_text(x, a),
                        col->name);
        if (!multi)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Invalid operation (%s) for frozen collection column %s", op_text(x, a),
                        col->name);
        o->kind = add ? OP_ADD : OP_SUB;
        if (!add && col->type.id == SPATE_CQL_MAP) { /* m = m - {keys}: a set of keys */
            spate_cql_datatype_t st = {
                .id = SPATE_CQL_SET, .n = 1, .sub = (spate_cql_datatype_t *)&col->type.sub[0]};
            return eval_as(x, p, col->name, &st, a->value, &o->value);
        }
        return eval_col(x, p, col, a->value, &o->value);
    }
    case SPATE_CQL_ASSIGN_PREPEND:
        if (col->type.id != SPATE_CQL_LIST)
            return fail(x, SPATE_CQL_ERR_INVALID, "Invalid operation (%s) for non list column %s",
                        op_text(x, a), col->name);
        if (!multi)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Invalid operation (%s) for frozen list column %s", op_text(x, a),
                        col->name);
        o->kind = OP_PREPEND;
        return eval_col(x, p, col, a->value, &o->value);
    }
    return 0;
}

static int32_t compile_update(ex_t *x, plan_t *p) {
    const spate_cql_stmt_update_t *s = &p->b->stmt->update;
    for (uint32_t i = 0; i < s->nset; i++)
        if (compile_assign(x, p, &s->set[i])) return x->code;
    if (conds_read(x, p, s->cond, s->ncond)) return x->code;
    kc_t kc;
    if (kc_init(x, p, &kc)) return x->code;
    if (where_read(x, p, s->where, s->nwhere, &kc)) return x->code;
    if (keys_finish(x, p, &kc)) return x->code;
    if (plan_rows(x, p, &kc) || nonpk_check(x, &kc)) return x->code;
    p->if_exists = s->if_exists;
    if (plan_time(x, p, &s->using)) return x->code;
    return 0;
}

/* ---- DELETE ---- */

static int32_t compile_delete(ex_t *x, plan_t *p) {
    const spate_cql_stmt_delete_t *s = &p->b->stmt->del;
    const cql_table_t *t = p->t;
    for (uint32_t i = 0; i < s->ncols; i++) {
        const spate_cql_delcol_t *dc = &s->cols[i];
        int32_t k = col_index(t, dc->col);
        if (k < 0) return fail(x, SPATE_CQL_ERR_INVALID, "Undefined column name %s", dc->col);
        const cql_column_t *col = &t->cols[k];
        if (is_key(col))
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Invalid identifier %s for deletion (should not be a PRIMARY KEY part)",
                        col->name);
        op_t *o = op_add(x, p, s->ncols);
        if (!o) return nomem(x);
        o->ci = (uint32_t)k;
        op_mark(p, col);
        if (dc->field)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Invalid deletion operation for non-UDT column %s", col->name);
        if (!dc->key) {
            o->kind = OP_DEL;
            continue;
        }
        if (!is_collection(col))
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Invalid deletion operation for non collection column %s", col->name);
        if (!p->v->elem[k])
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Invalid deletion operation for frozen collection column %s", col->name);
        static const spate_cql_datatype_t int_type = {.id = SPATE_CQL_INT};
        bool list = col->type.id == SPATE_CQL_LIST;
        char kname[300];
        snprintf(kname, sizeof kname, "%s(%s)",
                 list                            ? "idx"
                 : col->type.id == SPATE_CQL_MAP ? "key"
                                                 : "value",
                 col->name);
        o->kind = OP_DEL_ELEM;
        if (eval_as(x, p, kname, list ? &int_type : &col->type.sub[0], dc->key, &o->key))
            return x->code;
        if (o->key.len == SPATE_CQL_UNSET)
            return fail(x, SPATE_CQL_ERR_INVALID, "Invalid unset value for column %s", col->name);
        if (!o->key.p || o->key.len < 0)
            return fail(x, SPATE_CQL_ERR_INVALID, "Invalid null value for %s element",
                        list                            ? "list"
                        : col->type.id == SPATE_CQL_MAP ? "map"
                                                        : "set");
    }
    if (conds_read(x, p, s->cond, s->ncond)) return x->code;
    kc_t kc;
    if (kc_init(x, p, &kc)) return x->code;
    if (where_read(x, p, s->where, s->nwhere, &kc)) return x->code;
    if (keys_finish(x, p, &kc)) return x->code;
    bool any_ck = false;
    for (uint32_t i = 0; i < t->nck; i++) any_ck |= kc.eq[t->npk + i];
    any_ck |= kc.slice >= 0;
    bool statics = !p->regular_ops && !p->cond_regular && (p->static_ops || p->cond_static);
    if (t->nck && statics) {
        if (any_ck)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Invalid restrictions on clustering columns since the DELETE statement "
                        "modifies only static columns");
        p->static_only = true;
    } else if (p->nops) {
        if (p->has_start || p->has_end)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Range deletions are not supported for specific columns");
        if (p->neq < t->nck)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "DELETE statements must restrict all PRIMARY KEY columns with equality "
                        "relations in order to delete non static columns");
        p->row_level = true;
    } else {
        p->row_level = p->neq == t->nck && !p->has_start && !p->has_end;
    }
    if (nonpk_check(x, &kc)) return x->code;
    p->if_exists = s->if_exists;
    if (plan_time(x, p, &s->using)) return x->code;
    p->ttl = 0;
    return 0;
}

/* Compiles statement b into p. */
static int32_t compile(ex_t *x, const cql_bound_t *b, plan_t *p) {
    memset(p, 0, sizeof *p);
    p->b = b;
    p->t = b->table;
    p->v = cql_tview(x->srv, b->table);
    if (!p->v) return nomem(x);
    p->values = b->values;
    /* A BEGIN BATCH member's markers are numbered across the batch and
     * its values are the whole batch's (the member's own nbind is 0). */
    p->nvalues = b->stmt->nbind ? b->stmt->nbind : b->values ? UINT32_MAX : 0;
    switch (b->stmt->kind) {
    case SPATE_CQL_STMT_INSERT: p->kind = P_INSERT; break;
    case SPATE_CQL_STMT_UPDATE: p->kind = P_UPDATE; break;
    case SPATE_CQL_STMT_DELETE: p->kind = P_DELETE; break;
    default:
        return fail(x, SPATE_CQL_ERR_INVALID, "%s is not supported by spate cql here",
                    spate_cql_stmt_kind_name(b->stmt));
    }
    p->kname = col_kind_word(p->kind);
    int32_t code = p->kind == P_INSERT   ? compile_insert(x, p)
                   : p->kind == P_UPDATE ? compile_update(x, p)
                                         : compile_delete(x, p);
    if (code) return code;
    return plan_lwt_checks(x, p);
}

/* ------------------------------------------------------------------ */
/* Applying plans to the mutation                                      */
/* ------------------------------------------------------------------ */

/* A failed mutation call: ERANGE is a set element / map key over the
 * key limit (the TTL overflow is told apart in time_check). */
static int32_t mut_check(ex_t *x, const plan_t *p, spate_status_t rc) {
    SPATE_UNUSED(p);
    if (rc == SPATE_OK) return 0;
    if (rc == SPATE_ERANGE)
        return fail(x, SPATE_CQL_ERR_INVALID,
                    "Collection element or map key longer than the maximum of %d bytes",
                    SPATE_CQL_KEY_MAX_VALUE);
    if (rc == SPATE_ENOMEM) return nomem(x);
    return fail(x, SPATE_CQL_ERR_INVALID, "Invalid value for the store (%s)", spate_status_str(rc));
}

/* The plan's time on the mutation: ERANGE is an expiry past 2038. */
static int32_t time_check(ex_t *x, const plan_t *p) {
    spate_status_t rc = spate_cql_mutation_time(x->m, p->ts, p->ttl, x->now);
    if (rc == SPATE_ERANGE)
        return fail(x, SPATE_CQL_ERR_INVALID,
                    "Request on table %s.%s with ttl of %d seconds exceeds maximum supported "
                    "expiration date of 2038-01-19T03:14:06+00:00. In order to avoid this use a "
                    "lower TTL, change the expiration date overflow policy or upgrade to a "
                    "version where this limitation is fixed. See CASSANDRA-14092 for more details.",
                    p->t->ks->name, p->t->name, p->ttl);
    return mut_check(x, p, rc);
}

static spate_status_t w_cell(ex_t *x, bool st, uint16_t col, spate_slice_t v) {
    return st ? spate_cql_mutation_static_cell(x->m, col, v)
              : spate_cql_mutation_cell(x->m, col, v);
}

static spate_status_t w_elem(ex_t *x, bool st, uint16_t col, const spate_cql_ktype_t *et,
                             spate_slice_t e, spate_slice_t v) {
    return st ? spate_cql_mutation_static_elem(x->m, col, et, e, v)
              : spate_cql_mutation_elem(x->m, col, et, e, v);
}

static spate_status_t w_coll_delete(ex_t *x, bool st, uint16_t col, bool overwrite) {
    return st ? spate_cql_mutation_static_collection_delete(x->m, col, overwrite)
              : spate_cql_mutation_collection_delete(x->m, col, overwrite);
}

static const spate_slice_t EMPTY_VALUE = {"", 0};
static const spate_slice_t REMOVE = {NULL, SPATE_CQL_NULL};

/* Writes the elements of collection value v into column ci; lists get
 * fresh timeuuids (prepend: before every existing element). */
static int32_t write_elems(ex_t *x, const plan_t *p, bool st, uint32_t ci, spate_slice_t v,
                           bool prepend, bool remove) {
    const cql_column_t *col = &p->t->cols[ci];
    const spate_cql_ktype_t *et = p->v->elem[ci];
    bool map = col->type.id == SPATE_CQL_MAP, list = col->type.id == SPATE_CQL_LIST;
    spate_slice_t *it;
    uint32_t n;
    if (!coll_parse(x->a, v, map, &it, &n)) return nomem(x);
    if (list) {
        int64_t t0 = prepend ? ticks_prepend(x->c, n) : ticks_append(x->c, n);
        for (uint32_t i = 0; i < n; i++) {
            uint8_t u[16];
            timeuuid_make(u, t0 + i, x->c->clock_node);
            spate_status_t rc =
                w_elem(x, st, col->id, et, (spate_slice_t){(const char *)u, 16}, it[i]);
            if (mut_check(x, p, rc)) return x->code;
        }
        return 0;
    }
    for (uint32_t i = 0; i < n; i += map ? 2 : 1) {
        spate_slice_t val = remove ? REMOVE : map ? it[i + 1] : EMPTY_VALUE;
        if (mut_check(x, p, w_elem(x, st, col->id, et, it[i], val))) return x->code;
    }
    return 0;
}

/* The current elements of list column ci of row (pk, ck / static). */
static int32_t read_list(ex_t *x, const plan_t *p, bool st, const spate_slice_t *pk,
                         const spate_slice_t *ck, uint32_t ci, spate_slice_t **keys,
                         spate_slice_t **vals, uint32_t *n) {
    snap_t s;
    if (snap_read(x, p->v, pk, st ? NULL : ck, &s)) return x->code;
    return srow_list(x, st ? &s.st : &s.row, p->t->cols[ci].id, keys, vals, n);
}

static int32_t list_index(ex_t *x, spate_slice_t key, uint32_t n, bool set, uint32_t *out) {
    int32_t idx = key.len == 4 ? (int32_t)get_be(key.p, 4) : -1;
    if (n == 0)
        return fail(x, SPATE_CQL_ERR_INVALID,
                    set ? "Attempted to set an element on a list which is null"
                        : "Attempted to delete an element from a list which is null");
    if (idx < 0 || (uint32_t)idx >= n)
        return fail(x, SPATE_CQL_ERR_INVALID, "List index %d out of bound, list has size %u", idx,
                    n);
    *out = (uint32_t)idx;
    return 0;
}

static int32_t counter_add(ex_t *x, const plan_t *p, const spate_slice_t *pk,
                           const spate_slice_t *ck, uint32_t ci, int64_t delta) {
    const cql_tview_t *v = p->v;
    for (uint32_t i = 0; i < x->nctr; i++) {
        ctr_t *c = &x->ctr[i];
        if (c->v != v || c->ci != ci || (c->ck == NULL) != (ck == NULL)) continue;
        bool same = true;
        for (uint16_t j = 0; j < v->key.npk && same; j++)
            same = c->pk[j].len == pk[j].len && !memcmp(c->pk[j].p, pk[j].p, (size_t)pk[j].len);
        for (uint16_t j = 0; ck && j < v->key.nck && same; j++)
            same = c->ck[j].len == ck[j].len && !memcmp(c->ck[j].p, ck[j].p, (size_t)ck[j].len);
        if (same) {
            c->delta = (int64_t)((uint64_t)c->delta + (uint64_t)delta);
            return 0;
        }
    }
    if (x->nctr == x->capctr) {
        uint32_t cap = x->capctr ? x->capctr * 2 : 8;
        ctr_t *n = spate_cql_arena_alloc(x->a, cap * sizeof *n);
        if (!n) return nomem(x);
        if (x->nctr) memcpy(n, x->ctr, x->nctr * sizeof *n);
        x->ctr = n;
        x->capctr = cap;
    }
    x->ctr[x->nctr++] = (ctr_t){v, pk, ck, ci, delta};
    return 0;
}

/* One operation on row (pk, ck), or on the static row when st. */
static int32_t apply_op(ex_t *x, const plan_t *p, const op_t *o, bool st, const spate_slice_t *pk,
                        const spate_slice_t *ck) {
    const cql_column_t *col = &p->t->cols[o->ci];
    bool multi = p->v->elem[o->ci] != NULL;
    const spate_cql_ktype_t *et = p->v->elem[o->ci];
    bool list = col->type.id == SPATE_CQL_LIST, map = col->type.id == SPATE_CQL_MAP;
    uint16_t id = col->id;
    switch (o->kind) {
    case OP_SET:
        if (o->value.len == SPATE_CQL_UNSET) return 0;
        if (!multi) return mut_check(x, p, w_cell(x, st, id, o->value.p ? o->value : REMOVE));
        if (mut_check(x, p, w_coll_delete(x, st, id, o->value.p != NULL))) return x->code;
        return o->value.p ? write_elems(x, p, st, o->ci, o->value, false, false) : 0;
    case OP_ADD:
    case OP_PREPEND:
        if (!o->value.p || o->value.len < 0) return 0;
        return write_elems(x, p, st, o->ci, o->value, o->kind == OP_PREPEND, false);
    case OP_SUB: {
        if (!o->value.p || o->value.len < 0) return 0;
        if (!list) { /* set elements, or map keys (a set) */
            spate_slice_t *it;
            uint32_t n;
            if (!coll_parse(x->a, o->value, false, &it, &n)) return nomem(x);
            for (uint32_t i = 0; i < n; i++)
                if (mut_check(x, p, w_elem(x, st, id, et, it[i], REMOVE))) return x->code;
            return 0;
        }
        spate_slice_t *rm, *keys, *vals;
        uint32_t nrm, n;
        if (!coll_parse(x->a, o->value, false, &rm, &nrm)) return nomem(x);
        if (read_list(x, p, st, pk, ck, o->ci, &keys, &vals, &n)) return x->code;
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t j = 0; j < nrm; j++)
                if (vals[i].len == rm[j].len && !memcmp(vals[i].p, rm[j].p, (size_t)rm[j].len)) {
                    if (mut_check(x, p, w_elem(x, st, id, et, keys[i], REMOVE))) return x->code;
                    break;
                }
        return 0;
    }
    case OP_SET_ELEM:
    case OP_DEL_ELEM: {
        /* m[k] = v / l[i] = v (null removes the element); DELETE c[k]
         * removes a map key, a set element or a list element. */
        if (o->kind == OP_SET_ELEM && o->value.len == SPATE_CQL_UNSET) return 0;
        bool del = o->kind == OP_DEL_ELEM || !o->value.p || o->value.len < 0;
        spate_slice_t val = del ? REMOVE : o->value;
        if (!list)
            return mut_check(x, p, w_elem(x, st, id, et, o->key, del || map ? val : EMPTY_VALUE));
        spate_slice_t *keys, *vals;
        uint32_t n = 0, idx = 0;
        if (read_list(x, p, st, pk, ck, o->ci, &keys, &vals, &n)) return x->code;
        if (list_index(x, o->key, n, o->kind == OP_SET_ELEM, &idx)) return x->code;
        return mut_check(x, p, w_elem(x, st, id, et, keys[idx], val));
    }
    case OP_DEL:
        if (multi) return mut_check(x, p, w_coll_delete(x, st, id, false));
        return mut_check(x, p, w_cell(x, st, id, REMOVE));
    case OP_COUNTER: return counter_add(x, p, pk, st ? NULL : ck, o->ci, o->delta);
    }
    return 0;
}

/* Every write of a plan into x->m. */
static int32_t plan_apply(ex_t *x, const plan_t *p) {
    const spate_cql_key_schema_t *ks = &p->v->key;
    uint16_t npk = ks->npk, nck = ks->nck;
    if (time_check(x, p)) return x->code;
    for (uint32_t i = 0; i < p->npks; i++) {
        const spate_slice_t *pk = &p->pks[(size_t)i * npk];
        if (p->kind == P_DELETE && p->nops == 0) { /* whole rows / partitions */
            if (nck == 0 || (p->neq == 0 && !p->has_start && !p->has_end)) {
                if (mut_check(x, p, spate_cql_mutation_partition(x->m, ks, pk)) ||
                    mut_check(x, p, spate_cql_mutation_partition_delete(x->m)))
                    return x->code;
                continue;
            }
            if (mut_check(x, p, spate_cql_mutation_partition(x->m, ks, pk))) return x->code;
            for (uint32_t j = 0; j < p->ncks; j++) {
                const spate_slice_t *ck = &p->cks[(size_t)j * p->neq];
                spate_status_t rc = spate_cql_mutation_range_delete(
                    x->m, ck, p->neq, p->has_start ? &p->start : NULL, p->has_end ? &p->end : NULL);
                if (mut_check(x, p, rc)) return x->code;
            }
            continue;
        }
        if (p->static_ops) {
            if (mut_check(x, p, spate_cql_mutation_partition(x->m, ks, pk))) return x->code;
            for (uint32_t k = 0; k < p->nops; k++)
                if (p->t->cols[p->ops[k].ci].kind == CQL_KIND_STATIC &&
                    apply_op(x, p, &p->ops[k], true, pk, NULL))
                    return x->code;
        }
        if (!p->row_level) continue;
        for (uint32_t j = 0; j < p->ncks; j++) {
            const spate_slice_t *ck = &p->cks[(size_t)j * p->neq];
            if (mut_check(x, p, spate_cql_mutation_row(x->m, ks, pk, nck ? ck : NULL)))
                return x->code;
            if (p->kind == P_INSERT && mut_check(x, p, spate_cql_mutation_marker(x->m)))
                return x->code;
            for (uint32_t k = 0; k < p->nops; k++)
                if (p->t->cols[p->ops[k].ci].kind != CQL_KIND_STATIC &&
                    apply_op(x, p, &p->ops[k], false, pk, ck))
                    return x->code;
        }
    }
    return 0;
}

/* The read-modify-write of every counter the request increments. */
static int32_t counters_apply(ex_t *x) {
    for (uint32_t i = 0; i < x->nctr; i++) {
        const ctr_t *c = &x->ctr[i];
        const cql_column_t *col = &c->v->table->cols[c->ci];
        snap_t s;
        if (snap_read(x, c->v, c->pk, c->ck, &s)) return x->code;
        const srow_t *r = c->ck ? &s.row : &s.st;
        int64_t cur = 0, wt = INT64_MIN;
        for (size_t j = 0; j < r->ncells; j++)
            if (r->cells[j].column == col->id) {
                if (r->cells[j].value.len == 8) cur = get_be(r->cells[j].value.p, 8);
                wt = r->cells[j].writetime;
                break;
            }
        int64_t ts = cql_exec_timestamp(x->srv);
        if (wt != INT64_MIN && ts <= wt) ts = wt + 1;
        uint8_t b[8];
        uint64_t nv = (uint64_t)cur + (uint64_t)c->delta;
        for (int k = 0; k < 8; k++) b[k] = (uint8_t)(nv >> (56 - 8 * k));
        spate_slice_t v = {(const char *)b, 8};
        spate_status_t rc = spate_cql_mutation_time(x->m, ts, 0, x->now);
        if (rc == SPATE_OK)
            rc = c->ck
                     ? spate_cql_mutation_row(x->m, &c->v->key, c->pk, c->v->key.nck ? c->ck : NULL)
                     : spate_cql_mutation_partition(x->m, &c->v->key, c->pk);
        if (rc == SPATE_OK)
            rc = c->ck ? spate_cql_mutation_cell(x->m, col->id, v)
                       : spate_cql_mutation_static_cell(x->m, col->id, v);
        if (rc != SPATE_OK) return store_fail(x, rc, "counter update");
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Conditions (lightweight transactions)                               */
/* ------------------------------------------------------------------ */

/* Orders two non-null values of type t as Cassandra's comparator does
 * (through the key encoding, which preserves it). */
static int val_compare(ex_t *x, const spate_cql_datatype_t *t, spate_slice_t a, spate_slice_t b) {
    if (t->id == SPATE_CQL_COUNTER && a.len == 8 && b.len == 8) {
        int64_t u = get_be(a.p, 8), w = get_be(b.p, 8);
        return u < w ? -1 : u > w;
    }
    const spate_cql_ktype_t *kt = ktype_build(x->a, t, 0);
    spate_buf_t ea = SPATE_BUF_INIT, eb = SPATE_BUF_INIT;
    int c;
    if (kt && spate_cql_key_value_encode(&ea, kt, a, false) == SPATE_OK &&
        spate_cql_key_value_encode(&eb, kt, b, false) == SPATE_OK) {
        size_t n = SPATE_MIN(ea.len, eb.len);
        c = n ? memcmp(ea.data, eb.data, n) : 0;
        if (!c) c = ea.len < eb.len ? -1 : ea.len > eb.len;
    } else { /* not encodable (durations): bytes */
        size_t n = SPATE_MIN((size_t)a.len, (size_t)b.len);
        c = n ? memcmp(a.p, b.p, n) : 0;
        if (!c) c = a.len < b.len ? -1 : a.len > b.len;
    }
    spate_buf_free(&ea);
    spate_buf_free(&eb);
    return c;
}

/* The value a condition looks at: the column, or its element c[key]. */
static int32_t cond_current(ex_t *x, const plan_t *p, const snap_t *s, const cond_t *c,
                            spate_slice_t *cur) {
    const cql_column_t *col = &p->t->cols[c->ci];
    const srow_t *r = col->kind == CQL_KIND_STATIC ? &s->st : &s->row;
    *cur = NULL_VALUE;
    if (!r->live) return 0;
    if (srow_value(x, p->v, r, c->ci, cur)) return x->code;
    if (!c->elem || !cur->p) return 0;
    bool map = col->type.id == SPATE_CQL_MAP;
    spate_slice_t *it;
    uint32_t n;
    spate_slice_t whole = *cur;
    *cur = NULL_VALUE;
    if (!coll_parse(x->a, whole, map, &it, &n)) return nomem(x);
    if (map) {
        for (uint32_t i = 0; i + 1 < n; i += 2)
            if (val_compare(x, &col->type.sub[0], it[i], c->key) == 0) *cur = it[i + 1];
    } else {
        int32_t idx = c->key.len == 4 ? (int32_t)get_be(c->key.p, 4) : -1;
        if (idx >= 0 && (uint32_t)idx < n) *cur = it[idx];
    }
    return 0;
}

static bool is_empty_collection(spate_slice_t v) {
    return v.p && v.len == 4 && !memcmp(v.p, "\0\0\0\0", 4);
}

static int32_t cond_applies(ex_t *x, const plan_t *p, const snap_t *s, const cond_t *c, bool *ok) {
    spate_slice_t cur;
    if (cond_current(x, p, s, c, &cur)) return x->code;
    bool multi = !c->elem && p->v->elem[c->ci] != NULL;
    bool cur_null = !cur.p || cur.len < 0;
    *ok = false;
    for (uint32_t i = 0; i < c->nvals; i++) {
        spate_slice_t v = c->vals[i];
        bool v_null = !v.p || v.len < 0 || (multi && is_empty_collection(v));
        bool r;
        switch (c->op) {
        case SPATE_CQL_REL_EQ:
        case SPATE_CQL_REL_IN:
            r = v_null ? cur_null : !cur_null && val_compare(x, c->vtype, cur, v) == 0;
            break;
        case SPATE_CQL_REL_NE:
            r = v_null ? !cur_null : cur_null || val_compare(x, c->vtype, cur, v) != 0;
            break;
        default: {
            if (cur_null || v_null) {
                r = false;
                break;
            }
            int k = val_compare(x, c->vtype, cur, v);
            r = c->op == SPATE_CQL_REL_LT   ? k < 0
                : c->op == SPATE_CQL_REL_LE ? k <= 0
                : c->op == SPATE_CQL_REL_GT ? k > 0
                                            : k >= 0;
        }
        }
        if (r) {
            *ok = true;
            return 0;
        }
    }
    return 0;
}

/* Writes a Rows answer: [applied], then (when not applied) the given
 * columns of the rows read (cells: nrows x ncols, null p = null). */
static void reply_cas(cql_reply_t *rp, ex_t *x, const cql_table_t *t, bool applied,
                      const cql_column_t *const *cols, uint32_t ncols, const spate_slice_t *cells,
                      uint32_t nrows) {
    if (applied || nrows == 0) ncols = 0;
    spate_cql_metadata_t md;
    memset(&md, 0, sizeof md);
    md.flags = SPATE_CQL_MD_GLOBAL_TABLES_SPEC;
    md.columns_count = (int32_t)(1 + ncols);
    md.global_keyspace = (spate_slice_t){t->ks->name, (int32_t)strlen(t->ks->name)};
    md.global_table = (spate_slice_t){t->name, (int32_t)strlen(t->name)};
    md.columns = spate_cql_arena_alloc(x->a, (1 + ncols) * sizeof *md.columns);
    if (!md.columns) {
        cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "out of memory");
        return;
    }
    md.columns[0].name = (spate_slice_t){"[applied]", 9};
    md.columns[0].type.id = SPATE_CQL_BOOLEAN;
    for (uint32_t i = 0; i < ncols; i++) {
        md.columns[1 + i].name = (spate_slice_t){cols[i]->name, (int32_t)strlen(cols[i]->name)};
        md.columns[1 + i].type = cols[i]->type;
    }
    size_t mark;
    spate_cql_rows_t w;
    spate_status_t st = cql_reply_begin(rp, SPATE_CQL_OP_RESULT, &mark);
    if (st == SPATE_OK) st = spate_cql_rows_begin(&w, rp->out, &md);
    uint8_t b = applied ? 1 : 0;
    uint32_t rows = applied || nrows == 0 ? 1 : nrows;
    for (uint32_t r = 0; r < rows && st == SPATE_OK; r++) {
        st = spate_cql_rows_cell(&w, &b, 1);
        for (uint32_t i = 0; i < ncols && st == SPATE_OK; i++) {
            spate_slice_t v = cells[(size_t)r * ncols + i];
            st = spate_cql_rows_cell(&w, v.p && v.len >= 0 ? v.p : NULL, v.p ? v.len : -1);
        }
    }
    if (st == SPATE_OK) st = spate_cql_rows_end(&w, NULL);
    cql_reply_end(rp, mark, st);
}

static int32_t store_write(ex_t *x, const plan_t *p0) {
    size_t bytes = spate_cql_mutation_bytes(x->m);
    if (bytes > MAX_MUTATION_BYTES)
        return fail(x, SPATE_CQL_ERR_INVALID,
                    "Rejected an oversized mutation (%zu/%d) for keyspace: %s", bytes,
                    MAX_MUTATION_BYTES, p0 ? p0->t->ks->name : "?");
    spate_status_t rc = spate_cql_store_apply(x->srv->store, x->m);
    if (rc != SPATE_OK) return store_fail(x, rc, "write");
    return 0;
}

static bool plan_conditional(const plan_t *p) {
    return p->if_exists || p->if_not_exists || p->nconds;
}

static bool same_values(const spate_slice_t *a, const spate_slice_t *b, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        if (a[i].len != b[i].len || (a[i].len > 0 && memcmp(a[i].p, b[i].p, (size_t)a[i].len)))
            return false;
    return true;
}

/* A conditional statement or batch: read, check, then write all or
 * nothing; answers Rows. */
static void run_cas(cql_reply_t *rp, ex_t *x, plan_t *plans, uint32_t n, bool batch) {
    const cql_table_t *t = plans[0].t;
    uint16_t npk = (uint16_t)t->npk;
    for (uint32_t i = 0; i < n; i++) {
        if (plans[i].t != t) {
            fail(x, SPATE_CQL_ERR_INVALID, "Batch with conditions cannot span multiple tables");
            goto refuse;
        }
        if (plans[i].npks != 1 || !same_values(plans[i].pks, plans[0].pks, npk)) {
            fail(x, SPATE_CQL_ERR_INVALID, "Batch with conditions cannot span multiple partitions");
            goto refuse;
        }
    }
    /* Read what each condition looks at, and check. */
    snap_t *snaps = spate_cql_arena_alloc(x->a, n * sizeof *snaps);
    if (!snaps) {
        nomem(x);
        goto refuse;
    }
    bool applied = true, wildcard = false;
    for (uint32_t i = 0; i < n; i++) {
        plan_t *p = &plans[i];
        if (!plan_conditional(p)) continue;
        wildcard |= p->if_exists || p->if_not_exists;
        const spate_slice_t *ck = p->static_only || !p->ncks ? NULL : p->cks;
        if (snap_read(x, p->v, p->pks, ck, &snaps[i])) goto refuse;
        bool exists = p->static_only ? snaps[i].st.live : snaps[i].row.live;
        if (p->if_exists && !exists) applied = false;
        if (p->if_not_exists && exists) applied = false;
        for (uint32_t j = 0; j < p->nconds; j++) {
            bool ok;
            if (cond_applies(x, p, &snaps[i], &p->conds[j], &ok)) goto refuse;
            if (!ok) applied = false;
        }
    }
    if (applied) {
        for (uint32_t i = 0; i < n; i++)
            if (plan_apply(x, &plans[i])) goto refuse;
        if (counters_apply(x) || store_write(x, &plans[0])) goto refuse;
        reply_cas(rp, x, t, true, NULL, 0, NULL, 0);
        return;
    }
    /* Not applied: the rows read, with the columns that decided. */
    const cql_column_t **cols =
        spate_cql_arena_alloc(x->a, (t->ncols ? t->ncols : 1) * sizeof *cols);
    spate_slice_t *cells = spate_cql_arena_alloc(x->a, ((size_t)n * t->ncols + 1) * sizeof *cells);
    if (!cols || !cells) {
        nomem(x);
        goto refuse;
    }
    uint32_t ncols = 0, nrows = 0;
    if (wildcard) {
        for (uint32_t i = 0; i < t->ncols; i++) cols[ncols++] = &t->cols[i];
    } else {
        bool *seen = spate_cql_arena_alloc(x->a, (t->ncols ? t->ncols : 1) * sizeof *seen);
        if (!seen) {
            nomem(x);
            goto refuse;
        }
        if (batch)
            for (uint32_t i = 0; i < t->ncols; i++)
                if (is_key(&t->cols[i])) {
                    cols[ncols++] = &t->cols[i];
                    seen[i] = true;
                }
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t j = 0; j < plans[i].nconds; j++) {
                uint32_t ci = plans[i].conds[j].ci;
                if (!seen[ci]) {
                    seen[ci] = true;
                    cols[ncols++] = &t->cols[ci];
                }
            }
    }
    for (uint32_t i = 0; i < n; i++) {
        plan_t *p = &plans[i];
        if (!plan_conditional(p)) continue;
        const snap_t *s = &snaps[i];
        bool statics = p->static_only || p->cond_static;
        if (!s->row.live && !(statics && s->st.live)) continue;
        const spate_slice_t *ck = s->row.live && p->ncks && !p->static_only ? p->cks : NULL;
        bool dup = false; /* one row per clustering, as one read would give */
        for (uint32_t j = 0; j < i && !dup; j++) {
            const plan_t *q = &plans[j];
            if (!plan_conditional(q)) continue;
            const spate_slice_t *qck =
                snaps[j].row.live && q->ncks && !q->static_only ? q->cks : NULL;
            if (!snaps[j].row.live && !((q->static_only || q->cond_static) && snaps[j].st.live))
                continue;
            dup = (ck == NULL) == (qck == NULL) && (!ck || same_values(ck, qck, t->nck));
        }
        if (dup) continue;
        spate_slice_t *row = &cells[(size_t)nrows * ncols];
        for (uint32_t c = 0; c < ncols; c++) {
            const cql_column_t *col = cols[c];
            row[c] = NULL_VALUE;
            switch (col->kind) {
            case CQL_KIND_PARTITION_KEY: row[c] = p->pks[col->position]; break;
            case CQL_KIND_CLUSTERING:
                if (ck) row[c] = ck[col->position];
                break;
            case CQL_KIND_STATIC:
                if (srow_value(x, p->v, &s->st, (uint32_t)(col - t->cols), &row[c])) goto refuse;
                break;
            case CQL_KIND_REGULAR:
                if (s->row.live && srow_value(x, p->v, &s->row, (uint32_t)(col - t->cols), &row[c]))
                    goto refuse;
                break;
            }
        }
        nrows++;
    }
    reply_cas(rp, x, t, false, cols, ncols, cells, nrows);
    return;
refuse:
    cql_reply_error(rp, x->code ? x->code : SPATE_CQL_ERR_SERVER, "%s", x->msg);
}

/* ------------------------------------------------------------------ */
/* The entry points                                                    */
/* ------------------------------------------------------------------ */

static void run_truncate(cql_reply_t *rp, const cql_dml_t *d) {
    const cql_table_t *t = d->stmts[0].table;
    spate_status_t rc =
        rp->srv->store ? spate_cql_store_truncate(rp->srv->store, t->id) : SPATE_EINVAL;
    if (rc != SPATE_OK) {
        cql_reply_error(rp, SPATE_CQL_ERR_TRUNCATE, "Error during truncate: %s",
                        spate_status_str(rc));
        return;
    }
    cql_reply_void(rp);
}

/* A BEGIN BATCH's own USING clause, NULL when there is none (the BATCH
 * message has no USING: its timestamp is d->timestamp). */
static const spate_cql_using_t *batch_using(const cql_dml_t *d) { return d->batch_using; }

/* Cassandra's batch rules (BatchStatement.validate), then the batch's
 * USING TIMESTAMP given to every statement that has none of its own. */
static int32_t batch_checks(ex_t *x, const cql_dml_t *d, plan_t *plans) {
    const spate_cql_using_t *u = batch_using(d);
    bool cas = false;
    for (uint32_t i = 0; i < d->n; i++) cas |= plan_conditional(&plans[i]);
    int64_t ts = INT64_MIN;
    if (u && u->ttl)
        return fail(x, SPATE_CQL_ERR_INVALID,
                    "Global TTL on the BATCH statement is not supported.");
    if (u && u->timestamp) {
        plan_t bp = plans[0]; /* the batch's markers are numbered with its statements' */
        bool given;
        if (using_value(x, &bp, u->timestamp, false, &ts, &given)) return x->code;
        if (!given) ts = INT64_MIN;
        if (given && cas)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Cannot provide custom timestamp for conditional BATCH");
        if (given && d->batch_type == SPATE_CQL_BATCH_COUNTER)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Cannot provide custom timestamp for counter BATCH");
    }
    bool counters = false, others = false;
    for (uint32_t i = 0; i < d->n; i++) {
        bool ctr = plans[i].t->counter;
        if (ts != INT64_MIN && ctr)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Cannot provide custom timestamp for a BATCH containing counters");
        if (ts != INT64_MIN && plans[i].ts_set)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Timestamp must be set either on BATCH or individual statements");
        if (d->batch_type == SPATE_CQL_BATCH_COUNTER && !ctr)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Cannot include non-counter statement in a counter batch");
        if (d->batch_type == SPATE_CQL_BATCH_LOGGED && ctr)
            return fail(x, SPATE_CQL_ERR_INVALID,
                        "Cannot include a counter statement in a logged batch");
        counters |= ctr;
        others |= !ctr;
    }
    if (counters && others)
        return fail(x, SPATE_CQL_ERR_INVALID,
                    "Counter and non-counter mutations cannot exist in the same batch");
    if (ts != INT64_MIN)
        for (uint32_t i = 0; i < d->n; i++) plans[i].ts = ts;
    return 0;
}

/* Cassandra's batch warnings (BatchStatement.verifyBatchSize and
 * verifyBatchType), written into the arena: a batch over more than one
 * partition (Cassandra 3.6 on: a single mutation is never warned about)
 * whose mutation is over batch_size_warn_threshold (5 KiB), and an
 * unlogged batch over more than 10 partitions. The warnings go to the
 * client with the Void answer (and to the log, as Cassandra does).
 * Returns how many. */
#define BATCH_WARN_BYTES 5120
static uint16_t batch_warnings(ex_t *x, const cql_dml_t *d, const plan_t *plans,
                               spate_slice_t warn[2]) {
    uint16_t n = 0;
    const cql_table_t *t = plans[0].t;
    char tables[300];
    snprintf(tables, sizeof tables, "%s.%s", t->ks->name, t->name);
    /* Distinct partitions: (table, key) pairs compared pairwise among the
     * first 256 statements, which bounds the cost of huge single-partition
     * batches. */
    uint32_t parts = 0;
    for (uint32_t i = 0; i < d->n && i < 256; i++)
        for (uint32_t k = 0; k < plans[i].npks; k++) {
            const spate_slice_t *a = plans[i].pks + (size_t)k * plans[i].t->npk;
            bool seen = false;
            for (uint32_t j = 0; j <= i && !seen; j++)
                for (uint32_t l = 0; l < plans[j].npks && !seen; l++) {
                    if (j == i && l >= k) break;
                    if (plans[j].t != plans[i].t) break;
                    const spate_slice_t *b = plans[j].pks + (size_t)l * plans[j].t->npk;
                    bool same = true;
                    for (uint32_t c = 0; c < plans[i].t->npk && same; c++)
                        same = a[c].len == b[c].len &&
                               (a[c].len <= 0 || memcmp(a[c].p, b[c].p, (size_t)a[c].len) == 0);
                    seen = same;
                }
            if (!seen) parts++;
        }
    size_t bytes = parts > 1 ? spate_cql_mutation_bytes(x->m) : 0;
    char *w;
    if (bytes > BATCH_WARN_BYTES && (w = spate_cql_arena_alloc(x->a, 512))) {
        snprintf(w, 512,
                 "Batch for [%s] is of size %zu, exceeding specified threshold of %d by %zu.",
                 tables, bytes, BATCH_WARN_BYTES, bytes - BATCH_WARN_BYTES);
        warn[n++] = (spate_slice_t){w, (int32_t)strlen(w)};
    }
    /* over Cassandra's unlogged_batch_across_partitions_warn_threshold (10) */
    if (d->batch_type == SPATE_CQL_BATCH_KIND_UNLOGGED && parts > 10 &&
        (w = spate_cql_arena_alloc(x->a, 512))) {
        snprintf(w, 512,
                 "Unlogged batch covering %u partitions detected against table [%s]. You "
                 "should use a logged batch for atomicity, or asynchronous writes for "
                 "performance.",
                 parts, tables);
        warn[n++] = (spate_slice_t){w, (int32_t)strlen(w)};
    }
    for (uint16_t i = 0; i < n; i++)
        spate_log(SPATE_LOG_WARN, "cql", "%.*s", (int)warn[i].len, warn[i].p);
    return n;
}

static void run_writes(cql_reply_t *rp, const cql_dml_t *d) {
    spate_cql_server_t *srv = rp->srv;
    ex_t *x = spate_cql_arena_alloc(d->arena, sizeof *x);
    exec_cache_t *c = cache_of(srv);
    if (!x || !c || !srv->store) {
        cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "%s", !srv->store ? "no store" : "out of memory");
        return;
    }
    if (!c->m) c->m = spate_cql_mutation_new(srv->store);
    x->srv = srv;
    x->c = c;
    x->d = d;
    x->a = d->arena;
    x->m = c->m;
    x->now = (int64_t)time(NULL);
    x->ts = d->timestamp != INT64_MIN ? d->timestamp : cql_exec_timestamp(srv);
    if (d->n == 0) { /* an empty batch */
        cql_reply_void(rp);
        return;
    }
    plan_t *plans = spate_cql_arena_alloc(x->a, d->n * sizeof *plans);
    if (!plans) {
        cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "out of memory");
        return;
    }
    bool cas = false;
    for (uint32_t i = 0; i < d->n; i++) {
        if (compile(x, &d->stmts[i], &plans[i])) goto refuse;
        cas |= plan_conditional(&plans[i]);
    }
    if (d->batch_type >= 0 && batch_checks(x, d, plans)) goto refuse;
    if (!cas &&
        (d->consistency == SPATE_CQL_CL_SERIAL || d->consistency == SPATE_CQL_CL_LOCAL_SERIAL)) {
        fail(x, SPATE_CQL_ERR_INVALID, "You must use conditional updates for serializable writes");
        goto refuse;
    }
    if (plans[0].t->counter && d->consistency == SPATE_CQL_CL_ANY) {
        fail(x, SPATE_CQL_ERR_INVALID,
             "Consistency level ANY is not yet supported for counter table %s", plans[0].t->name);
        goto refuse;
    }
    if (cas) {
        run_cas(rp, x, plans, d->n, d->batch_type >= 0);
        spate_cql_mutation_clear(x->m);
        return;
    }
    for (uint32_t i = 0; i < d->n; i++)
        if (plan_apply(x, &plans[i])) goto refuse;
    if (counters_apply(x) || store_write(x, &plans[0])) goto refuse;
    if (d->batch_type >= 0) {
        spate_slice_t warn[2];
        uint16_t nwarn = batch_warnings(x, d, plans, warn);
        spate_cql_mutation_clear(x->m);
        cql_reply_void_warn(rp, warn, nwarn);
        return;
    }
    spate_cql_mutation_clear(x->m);
    cql_reply_void(rp);
    return;
refuse:
    spate_cql_mutation_clear(x->m);
    cql_reply_error(rp, x->code ? x->code : SPATE_CQL_ERR_SERVER, "%s", x->msg);
}

void cql_exec_dml(cql_reply_t *rp, const cql_dml_t *d) {
    if (d->batch_type < 0 && d->n == 1) {
        switch (d->stmts[0].stmt->kind) {
        case SPATE_CQL_STMT_SELECT: cql_select_run(rp, d); return;
        case SPATE_CQL_STMT_TRUNCATE: run_truncate(rp, d); return;
        default: break;
        }
    }
    run_writes(rp, d);
}

void cql_exec_table_dropped(spate_cql_server_t *srv, uint32_t table_id) {
    exec_cache_t *c = srv->exec_cache;
    if (c && c->m) spate_cql_mutation_clear(c->m);
    if (srv->store) spate_cql_store_drop(srv->store, table_id);
}
