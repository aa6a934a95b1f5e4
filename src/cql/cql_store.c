/*
 * cql_store.c — the CQL storage engine on RocksDB (layout, durability and
 * semantics in cql_store.h; keys and values in cql_key.h).
 *
 * Write path: a mutation encodes keys with cql_key and appends Merges to a
 * WriteBatch, one column family per value format; apply adds the batch
 * to the turn, written to RocksDB as one WriteBatch before the next read
 * or WAL flush (cql_store.h, Durability); the marker and plain
 * cells of the row it is on wait in a small sorted list (uent: kind <<
 * 16 | column, value bytes in ucells) and go into the batch as one row
 * unit (row_flush) when the mutation moves to another row or is applied.
 * The merge operators (cells_merge, deletion_merge, range_merge) keep
 * Cassandra's winner, full and partial merges alike, and never fail: an
 * operand that does not decode is dropped (if nothing decodes, the last
 * operand is kept so that the reader reports EINVAL instead of data
 * silently vanishing).
 *
 * Read path, one iterator over a snapshot:
 *
 *   main   cells      [lo, hi) in the query's direction: rows are runs of
 *                     keys sharing the row prefix R = P | ck
 *   del    deletions  same bounds and direction: R | 10 looked up beside
 *                     main (seek only when main has moved past the cursor);
 *                     not opened for a point read (row_get): a Get instead
 *   rng    ranges     forward, P | 02 .. P | 03 per partition; not opened
 *                     for a table without clustering columns
 *   stat   cells      forward, P | 03 .. P | 04 per partition (statics)
 *   get    deletions  P | 01, the partition deletion
 *
 * Forward cursors inside one partition seek in prefix mode (cql_store.h,
 * "Partition prefix"), the others in total order. A freed iterator's
 * memory is kept as the store's spare and reused by the next iter_open.
 *
 * A row's first key is decoded by cql_key (it yields the pk / ck values
 * and proves the key belongs to the table); later keys of the row are
 * matched by the prefix R and their short suffix (kind, column, element)
 * parsed here. A row value under R | 11 is expanded into its entries and
 * merged with the row's separate keys (merge_row_value: key order, the
 * reconcile winner for a column both hold). The row's cells are copied
 * into the row buffer, put back in key order when reading in reverse, and
 * only then judged:
 *
 *   D = max(partition deletion, range tombstones around R, row deletion)
 *   marker / cell live  <=>  spate_cql_cell_is_live(now) and ts > D
 *   element live        <=>  also ts > its collection's tombstone
 *   row returned        <=>  live marker or any live cell
 */
#include "cql_store.h"

#include "cql_rocksdb.h" /* RocksDB's C API, through dlopen */
#include <stdlib.h>
#include <string.h>

#define LOGC "cql-store"

enum { CF_DEFAULT, CF_CELLS, CF_DEL, CF_RNG, NCF };
static const char *const cf_names[NCF] = {"default", SPATE_CQL_STORE_CF_CELLS,
                                          SPATE_CQL_STORE_CF_DELETIONS, SPATE_CQL_STORE_CF_RANGES};

#define DEFAULT_PERIOD_MS 10000
#define DEFAULT_CACHE (8u << 20)
#define DEFAULT_WRITE_BUFFER (16u << 20)
#define SMALL_WRITE_BUFFER (2u << 20)
/* table id + token: every key of a partition starts with it */
#define SPATE_CQL_STORE_PREFIX_LEN 12

/* levels below this one are not compressed (L0 and L1: the recent,
 * most read data, rewritten soon anyway) */
#define FIRST_COMPRESSED_LEVEL 2
/* memtable prefix bloom: this share of the write buffer */
#define MEMTABLE_PREFIX_BLOOM_RATIO 0.02
/* Hot keys: a key written HOT_MERGES times (as far as a direct-mapped
 * table of HOT_SLOTS counters can tell) is folded — read back merged and
 * written as one value — so a read never folds an unbounded stack of
 * merge operands. RocksDB's max_successive_merges does the same but looks
 * the key up in the memtable on every write: 15 % of the server's time
 * in the upsert benchmark. */
#define HOT_MERGES 64
#define HOT_SLOTS 16384 /* a power of two */

typedef struct {
    uint32_t tag; /* the key's hash >> 32: whose count this is */
    uint32_t n;   /* its writes since the last fold */
} hot_slot_t;

struct spate_cql_store {
    rocksdb_t *db;
    rocksdb_column_family_handle_t *cf[NCF];
    rocksdb_options_t *dbopt;
    rocksdb_options_t *cfopt[NCF];
    rocksdb_cache_t *cache;
    rocksdb_writeoptions_t *wo, *wo_sync;
    rocksdb_readoptions_t *ro;
    spate_cql_store_sync_mode_t mode;
    int64_t period_ms;
    bool unsynced;
    int64_t unsynced_since_ms;
    uint64_t applied_gen; /* mutations applied since open (sync_begin's gen) */
    bool unflushed;       /* applied writes not yet in the OS (turn or WAL buffer) */
    /* The turn: the serialized WriteBatch of every mutation applied since
     * the last turn_write (RocksDB's rep: 8-byte sequence, u32 LE count,
     * records), and the hot keys those mutations queued for folding */
    spate_buf_t turn, turn_fold;
    uint32_t turn_count;
    /* turn_sort's scratch: the records' places, and the sorted copy */
    struct turn_rec *trecs;
    size_t trecs_cap;
    spate_buf_t turn_sorted;
    hot_slot_t *hot; /* HOT_SLOTS counters: slot = hash & (HOT_SLOTS - 1) */
    spate_cql_store_stats_t stats;
    /* the last freed iterator, its RocksDB objects released and its
     * buffers kept for the next iter_open (a point read then allocates
     * almost nothing of its own) */
    struct spate_cql_store_iter *spare;
};

static void iter_destroy(struct spate_cql_store_iter *it);

static inline uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* memcmp order with the shorter of two equal prefixes first (RocksDB's
 * bytewise comparator). */
static int keycmp(const void *a, size_t an, const void *b, size_t bn) {
    size_t m = an < bn ? an : bn;
    int c = m ? memcmp(a, b, m) : 0;
    if (c != 0) return c < 0 ? -1 : 1;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

static bool has_prefix(const void *k, size_t kn, const void *p, size_t pn) {
    return kn >= pn && (pn == 0 || memcmp(k, p, pn) == 0);
}

static spate_status_t buf_set(spate_buf_t *b, const void *p, size_t n) {
    spate_buf_reset(b);
    return spate_buf_append(b, p, n);
}

/* ------------------------------------------------------------------ */
/* Merge operators                                                     */
/* ------------------------------------------------------------------ */

static char *merge_result(const char *p, size_t n, unsigned char *success, size_t *new_len) {
    char *r = malloc(n ? n : 1);
    if (r == NULL) {
        *success = 0;
        *new_len = 0;
        return NULL;
    }
    if (n) memcpy(r, p, n);
    *success = 1;
    *new_len = n;
    return r;
}

static void mo_destroy(void *state) { SPATE_UNUSED(state); }
static void mo_delete_value(void *state, const char *v, size_t n) {
    SPATE_UNUSED(state);
    SPATE_UNUSED(n);
    free((void *)v);
}

/* The winning cell among existing (may be NULL) and the operands. */
static char *cell_merge(const char *existing, size_t elen, const char *const *ops,
                        const size_t *oplen, int nops, unsigned char *success, size_t *new_len) {
    spate_cql_cell_t best, c;
    const char *bp = NULL, *last = existing;
    size_t bn = 0, lastn = elen;
    for (int i = -1; i < nops; i++) {
        const char *p = i < 0 ? existing : ops[i];
        size_t n = i < 0 ? elen : oplen[i];
        if (p == NULL) continue;
        last = p;
        lastn = n;
        if (spate_cql_cell_decode(p, n, &c) != SPATE_OK) continue;
        if (bp == NULL || spate_cql_cell_reconcile(&c, &best) == &c) {
            best = c;
            bp = p;
            bn = n;
        }
    }
    if (bp == NULL) {
        bp = last;
        bn = lastn;
    }
    return merge_result(bp, bn, success, new_len);
}

/* The cells family's operator: row values (a row marker key written as a
 * unit) merge entry by entry, with a plain marker cell among them as the
 * marker entry; anything else is a cell. One operand alone is kept as it
 * is (the reader checks it): the common full merge of a key written once. */
static char *cells_merge(const char *existing, size_t elen, const char *const *ops,
                         const size_t *oplen, int nops, unsigned char *success, size_t *new_len) {
    int present = existing != NULL;
    bool rows = spate_cql_row_value_is(existing, elen);
    const char *one = existing;
    size_t onen = elen;
    for (int i = 0; i < nops; i++) {
        if (ops[i] == NULL) continue;
        present++;
        one = ops[i];
        onen = oplen[i];
        rows = rows || spate_cql_row_value_is(ops[i], oplen[i]);
    }
    if (present == 1) return merge_result(one, onen, success, new_len);
    if (!rows) return cell_merge(existing, elen, ops, oplen, nops, success, new_len);
    spate_slice_t *v = spate_xcalloc((size_t)nops + 1, sizeof *v);
    size_t n = 0;
    if (existing != NULL) v[n++] = (spate_slice_t){existing, (int32_t)SPATE_MIN(elen, INT32_MAX)};
    for (int i = 0; i < nops; i++)
        if (ops[i] != NULL)
            v[n++] = (spate_slice_t){ops[i], (int32_t)SPATE_MIN(oplen[i], INT32_MAX)};
    spate_buf_t out = SPATE_BUF_INIT;
    spate_status_t rc = spate_cql_row_value_merge(&out, v, n);
    free(v);
    /* nothing decodes (or, which the reader rules out, the winners do not
     * encode): keep the last operand rather than fail the compaction */
    if (rc == SPATE_ENOENT || rc == SPATE_EINVAL) return merge_result(one, onen, success, new_len);
    if (rc != SPATE_OK) {
        spate_buf_free(&out);
        *success = 0;
        *new_len = 0;
        return NULL;
    }
    char *r = merge_result(out.data, out.len, success, new_len);
    spate_buf_free(&out);
    return r;
}

static char *cell_full(void *state, const char *key, size_t klen, const char *existing, size_t elen,
                       const char *const *ops, const size_t *oplen, int nops,
                       unsigned char *success, size_t *new_len) {
    SPATE_UNUSED(state);
    SPATE_UNUSED(key);
    SPATE_UNUSED(klen);
    return cells_merge(existing, elen, ops, oplen, nops, success, new_len);
}
static char *cell_partial(void *state, const char *key, size_t klen, const char *const *ops,
                          const size_t *oplen, int nops, unsigned char *success, size_t *new_len) {
    SPATE_UNUSED(state);
    SPATE_UNUSED(key);
    SPATE_UNUSED(klen);
    return cells_merge(NULL, 0, ops, oplen, nops, success, new_len);
}
static const char *cell_name(void *state) {
    SPATE_UNUSED(state);
    return "spate.cql.cell.v2";
}

/* The superseding deletion. */
static char *deletion_merge(const char *existing, size_t elen, const char *const *ops,
                            const size_t *oplen, int nops, unsigned char *success,
                            size_t *new_len) {
    spate_cql_deletion_t best, d;
    const char *bp = NULL, *last = existing;
    size_t lastn = elen;
    for (int i = -1; i < nops; i++) {
        const char *p = i < 0 ? existing : ops[i];
        size_t n = i < 0 ? elen : oplen[i];
        if (p == NULL) continue;
        last = p;
        lastn = n;
        if (spate_cql_deletion_decode(p, n, &d) != SPATE_OK) continue;
        if (bp == NULL || spate_cql_deletion_supersedes(&d, &best)) {
            best = d;
            bp = p;
        }
    }
    if (bp == NULL) return merge_result(last, lastn, success, new_len);
    return merge_result(bp, 12, success, new_len);
}

static char *deletion_full(void *state, const char *key, size_t klen, const char *existing,
                           size_t elen, const char *const *ops, const size_t *oplen, int nops,
                           unsigned char *success, size_t *new_len) {
    SPATE_UNUSED(state);
    SPATE_UNUSED(key);
    SPATE_UNUSED(klen);
    return deletion_merge(existing, elen, ops, oplen, nops, success, new_len);
}
static char *deletion_partial(void *state, const char *key, size_t klen, const char *const *ops,
                              const size_t *oplen, int nops, unsigned char *success,
                              size_t *new_len) {
    SPATE_UNUSED(state);
    SPATE_UNUSED(key);
    SPATE_UNUSED(klen);
    return deletion_merge(NULL, 0, ops, oplen, nops, success, new_len);
}
static const char *deletion_name(void *state) {
    SPATE_UNUSED(state);
    return "spate.cql.deletion.v1";
}

/* One entry of a range tombstone set: p[0..n) = deletion (12) | end. */
typedef struct {
    const uint8_t *p;
    size_t n;
    spate_cql_deletion_t d;
} rtent_t;

typedef struct {
    rtent_t *v;
    size_t n, cap;
} rtvec_t;

/* Appends the entries of one set value; all or nothing. */
static bool rtset_parse(rtvec_t *out, const uint8_t *p, size_t len) {
    size_t from = out->n, off = 0;
    if (len == 0) return false;
    while (off < len) {
        if (len - off < 4) goto bad;
        size_t n = be32(p + off);
        off += 4;
        if (n < 13 || n > len - off) goto bad;
        if (out->n == out->cap) {
            size_t cap = out->cap ? 2 * out->cap : 8;
            rtent_t *v = realloc(out->v, cap * sizeof *v);
            if (v == NULL) goto bad;
            out->v = v;
            out->cap = cap;
        }
        rtent_t *e = &out->v[out->n++];
        e->p = p + off;
        e->n = n;
        spate_cql_deletion_decode(p + off, 12, &e->d);
        off += n;
    }
    return true;
bad:
    out->n = from;
    return false;
}

/* End bound descending, then deletion descending. */
static int rtent_cmp_desc(const void *a, const void *b) {
    const rtent_t *x = a, *y = b;
    int c = keycmp(y->p + 12, y->n - 12, x->p + 12, x->n - 12);
    if (c != 0) return c;
    if (spate_cql_deletion_supersedes(&x->d, &y->d)) return -1;
    if (spate_cql_deletion_supersedes(&y->d, &x->d)) return 1;
    return 0;
}

/* The tombstones no other one covers, ends ascending. */
static char *range_merge(const char *existing, size_t elen, const char *const *ops,
                         const size_t *oplen, int nops, unsigned char *success, size_t *new_len) {
    rtvec_t all = {0};
    const char *last = existing;
    size_t lastn = elen;
    for (int i = -1; i < nops; i++) {
        const char *p = i < 0 ? existing : ops[i];
        size_t n = i < 0 ? elen : oplen[i];
        if (p == NULL) continue;
        last = p;
        lastn = n;
        rtset_parse(&all, (const uint8_t *)p, n);
    }
    if (all.n == 0) {
        free(all.v);
        return merge_result(last, lastn, success, new_len);
    }
    qsort(all.v, all.n, sizeof *all.v, rtent_cmp_desc);
    size_t kept = 0, bytes = 0;
    for (size_t i = 0; i < all.n; i++) {
        /* Everything kept so far ends at or after entry i: it survives
         * only when it supersedes all of them (the last kept). */
        if (kept == 0 || spate_cql_deletion_supersedes(&all.v[i].d, &all.v[kept - 1].d)) {
            all.v[kept++] = all.v[i];
            bytes += 4 + all.v[i].n;
        }
    }
    char *r = malloc(bytes);
    if (r == NULL) {
        free(all.v);
        *success = 0;
        *new_len = 0;
        return NULL;
    }
    size_t off = 0;
    for (size_t i = kept; i-- > 0;) {
        put_be32((uint8_t *)r + off, (uint32_t)all.v[i].n);
        memcpy(r + off + 4, all.v[i].p, all.v[i].n);
        off += 4 + all.v[i].n;
    }
    free(all.v);
    *success = 1;
    *new_len = bytes;
    return r;
}

static char *range_full(void *state, const char *key, size_t klen, const char *existing,
                        size_t elen, const char *const *ops, const size_t *oplen, int nops,
                        unsigned char *success, size_t *new_len) {
    SPATE_UNUSED(state);
    SPATE_UNUSED(key);
    SPATE_UNUSED(klen);
    return range_merge(existing, elen, ops, oplen, nops, success, new_len);
}
static char *range_partial(void *state, const char *key, size_t klen, const char *const *ops,
                           const size_t *oplen, int nops, unsigned char *success, size_t *new_len) {
    SPATE_UNUSED(state);
    SPATE_UNUSED(key);
    SPATE_UNUSED(klen);
    return range_merge(NULL, 0, ops, oplen, nops, success, new_len);
}
static const char *range_name(void *state) {
    SPATE_UNUSED(state);
    return "spate.cql.range.v1";
}

/* ------------------------------------------------------------------ */
/* Open, close, durability                                             */
/* ------------------------------------------------------------------ */

static void set_err(char *err, size_t errlen, const char *fmt, const char *a, const char *b) {
    if (err != NULL && errlen > 0) snprintf(err, errlen, fmt, a, b);
}

static void store_free(spate_cql_store_t *st) {
    if (st->spare != NULL) iter_destroy(st->spare);
    for (int i = 0; i < NCF; i++)
        if (st->cf[i] != NULL) rocksdb_column_family_handle_destroy(st->cf[i]);
    if (st->db != NULL) rocksdb_close(st->db);
    for (int i = 0; i < NCF; i++)
        if (st->cfopt[i] != NULL) rocksdb_options_destroy(st->cfopt[i]);
    if (st->dbopt != NULL) rocksdb_options_destroy(st->dbopt);
    if (st->cache != NULL) rocksdb_cache_destroy(st->cache);
    if (st->wo != NULL) rocksdb_writeoptions_destroy(st->wo);
    if (st->wo_sync != NULL) rocksdb_writeoptions_destroy(st->wo_sync);
    if (st->ro != NULL) rocksdb_readoptions_destroy(st->ro);
    free(st->hot);
    spate_buf_free(&st->turn);
    spate_buf_free(&st->turn_fold);
    spate_buf_free(&st->turn_sorted);
    free(st->trecs);
    free(st);
}

spate_status_t spate_cql_store_open(const char *dir, const spate_cql_store_conf_t *conf,
                                    spate_cql_store_t **out, char *err, size_t errlen) {
    spate_cql_store_conf_t c = {0};
    if (out != NULL) *out = NULL;
    if (dir == NULL || out == NULL) {
        set_err(err, errlen, "cql store: %s%s", "no directory given", "");
        return SPATE_EINVAL;
    }
    if (conf != NULL) c = *conf;
    if ((c.sync_mode != SPATE_CQL_STORE_SYNC_PERIODIC &&
         c.sync_mode != SPATE_CQL_STORE_SYNC_BATCH) ||
        c.period_ms < 0) {
        set_err(err, errlen, "cql store: %s: %s", dir, "bad sync mode or period");
        return SPATE_EINVAL;
    }
    if (c.period_ms == 0) c.period_ms = DEFAULT_PERIOD_MS;
    if (c.block_cache_bytes == 0) c.block_cache_bytes = DEFAULT_CACHE;
    if (c.write_buffer_bytes == 0) c.write_buffer_bytes = DEFAULT_WRITE_BUFFER;
    char lerr[300];
    if (cql_rocksdb_load(lerr, sizeof lerr) != SPATE_OK) {
        set_err(err, errlen, "cql store: %s: %s", dir, lerr);
        return SPATE_ERR;
    }

    /* RocksDB counts into a thread-local perf context by default (level
     * "enable count"): every memtable key comparison went through the
     * C++ thread_local's init wrapper and __tls_get_addr (the library is
     * dlopened), ~8 % of the store's CPU under upserts. Nothing reads the
     * counts; the level is per thread, and the thread that opens the
     * store is the one that writes to it. */
    rocksdb_set_perf_level(rocksdb_disable);

    spate_cql_store_t *st = spate_xcalloc(1, sizeof *st);
    st->hot = spate_xcalloc(HOT_SLOTS, sizeof *st->hot);
    st->mode = c.sync_mode;
    st->period_ms = c.period_ms;
    st->cache = rocksdb_cache_create_lru(c.block_cache_bytes);

    st->dbopt = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(st->dbopt, 1);
    rocksdb_options_set_create_missing_column_families(st->dbopt, 1);
    rocksdb_options_set_max_open_files(st->dbopt, 256);
    rocksdb_options_set_max_background_jobs(st->dbopt, 2);
    rocksdb_options_set_keep_log_file_num(st->dbopt, 3);
    rocksdb_options_set_max_log_file_size(st->dbopt, 1u << 20);
    rocksdb_options_set_info_log_level(st->dbopt, 2 /* WARN */);
    rocksdb_options_set_max_total_wal_size(st->dbopt, 64u << 20);
    rocksdb_options_set_db_write_buffer_size(st->dbopt, 48u << 20);
    /* WAL records are buffered until spate_cql_store_flush_wal: one
     * write(2) per event-loop turn instead of one per mutation. */
    rocksdb_options_set_manual_wal_flush(st->dbopt, 1);
    /* SST files written by flushes and compactions go to disk as they
     * grow (sync_file_range every MiB) instead of piling up dirty pages
     * that the next WAL fdatasync (batch mode) would wait behind */
    rocksdb_options_set_bytes_per_sync(st->dbopt, 1u << 20);

    for (int i = 0; i < NCF; i++) {
        rocksdb_options_t *o = rocksdb_options_create();
        st->cfopt[i] = o;
        bool table = i != CF_DEFAULT;
        rocksdb_block_based_table_options_t *bbo = rocksdb_block_based_options_create();
        rocksdb_block_based_options_set_block_cache(bbo, st->cache);
        rocksdb_block_based_options_set_filter_policy(bbo,
                                                      rocksdb_filterpolicy_create_bloom_full(10));
        /* index and filter blocks stay with their table readers, outside
         * the cache: in it, at 900 k rows, they were evicted by data blocks
         * and re-read (and checksummed) by point reads, which then cost
         * 17-29 µs of CPU instead of 11-12 (bench/run_cql.sh) */
        rocksdb_block_based_options_set_cache_index_and_filter_blocks(bbo, 0);
        /* cells and ranges are only sought (prefix filter); deletions are
         * also read with Get (whole keys) */
        rocksdb_block_based_options_set_whole_key_filtering(bbo, i == CF_DEL || !table);
        rocksdb_options_set_block_based_table_factory(o, bbo);
        rocksdb_block_based_options_destroy(bbo);
        if (table) {
            rocksdb_options_set_prefix_extractor(
                o, rocksdb_slicetransform_create_fixed_prefix(SPATE_CQL_STORE_PREFIX_LEN));
            rocksdb_options_set_memtable_prefix_bloom_size_ratio(o, MEMTABLE_PREFIX_BLOOM_RATIO);
            if (i == CF_DEL) rocksdb_options_set_memtable_whole_key_filtering(o, 1);
        }
        rocksdb_options_set_write_buffer_size(o, i == CF_CELLS ? c.write_buffer_bytes
                                                               : SMALL_WRITE_BUFFER);
        rocksdb_options_set_max_write_buffer_number(o, 2);
        rocksdb_options_set_compression(o, rocksdb_lz4_compression);
        int comp[7];
        for (int l = 0; l < 7; l++)
            comp[l] = l < FIRST_COMPRESSED_LEVEL ? rocksdb_no_compression : rocksdb_lz4_compression;
        rocksdb_options_set_compression_per_level(o, comp, 7);
        rocksdb_options_set_level_compaction_dynamic_level_bytes(o, 1);
        /* keys are random tokens, so every L0 -> base compaction rewrites
         * most of the base level: eight files at a time instead of four
         * halved the compaction CPU of the upsert benchmark (a point read
         * then meets up to four more L0 files) */
        rocksdb_options_set_level0_file_num_compaction_trigger(o, 8);
        rocksdb_mergeoperator_t *mo = NULL;
        if (i == CF_CELLS)
            mo = rocksdb_mergeoperator_create(NULL, mo_destroy, cell_full, cell_partial,
                                              mo_delete_value, cell_name);
        else if (i == CF_DEL)
            mo = rocksdb_mergeoperator_create(NULL, mo_destroy, deletion_full, deletion_partial,
                                              mo_delete_value, deletion_name);
        else if (i == CF_RNG)
            mo = rocksdb_mergeoperator_create(NULL, mo_destroy, range_full, range_partial,
                                              mo_delete_value, range_name);
        /* the options own the operator from here */
        if (mo != NULL) rocksdb_options_set_merge_operator(o, mo);
    }

    char *rerr = NULL;
    st->db =
        rocksdb_open_column_families(st->dbopt, dir, NCF, (const char *const *)cf_names,
                                     (const rocksdb_options_t *const *)st->cfopt, st->cf, &rerr);
    if (rerr != NULL || st->db == NULL) {
        set_err(err, errlen, "cql store: cannot open %s: %s", dir, rerr ? rerr : "unknown error");
        rocksdb_free(rerr);
        st->db = NULL;
        for (int i = 0; i < NCF; i++) st->cf[i] = NULL;
        store_free(st);
        return SPATE_EIO;
    }
    st->wo = rocksdb_writeoptions_create();
    st->wo_sync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(st->wo_sync, 1);
    st->ro = rocksdb_readoptions_create();
    *out = st;
    return SPATE_OK;
}

static spate_status_t rocks_status(char *err, const char *what) {
    if (err == NULL) return SPATE_OK;
    spate_log(SPATE_LOG_ERROR, LOGC, "%s: %s", what, err);
    rocksdb_free(err);
    return SPATE_EIO;
}

#define TURN_HEADER 12            /* a WriteBatch rep's sequence and count */
#define TURN_MAX_BYTES (4u << 20) /* a longer turn is written at once */

/* Folds the hot keys the turn's mutations queued: each is read merged and
 * written back as one value, which hides its operands from later reads.
 * The value is what any read returns, so nothing changes for readers;
 * newer operands still merge on top of it. A failure only leaves the
 * operands in place (logged). */
static void fold_hot(spate_cql_store_t *st) {
    spate_rd_t rd;
    spate_rd_init(&rd, st->turn_fold.data, st->turn_fold.len);
    uint8_t cf;
    uint32_t kn;
    const uint8_t *kp;
    while (spate_rd_u8(&rd, &cf) == SPATE_OK && spate_rd_u32(&rd, &kn) == SPATE_OK &&
           spate_rd_bytes(&rd, kn, &kp) == SPATE_OK) {
        const char *k = (const char *)kp;
        char *err = NULL;
        size_t vn = 0;
        char *v = rocksdb_get_cf(st->db, st->ro, st->cf[cf], k, kn, &vn, &err);
        if (err == NULL && v != NULL)
            rocksdb_put_cf(st->db, st->wo, st->cf[cf], k, kn, v, vn, &err);
        if (err != NULL) {
            spate_log(SPATE_LOG_WARN, LOGC, "folding a hot key: %s", err);
            rocksdb_free(err);
        } else if (v != NULL) {
            st->stats.folds++;
        }
        rocksdb_free(v);
    }
    spate_buf_reset(&st->turn_fold);
}

/* One record of the turn's WriteBatch rep: its bytes [off, off + len)
 * and its key, for turn_sort. */
typedef struct turn_rec {
    uint32_t cf, off, len, idx;
    const uint8_t *key;
    uint32_t klen;
} turn_rec_t;

static int turn_rec_cmp(const void *a, const void *b) {
    const turn_rec_t *x = a, *y = b;
    if (x->cf != y->cf) return x->cf < y->cf ? -1 : 1;
    int c = memcmp(x->key, y->key, x->klen < y->klen ? x->klen : y->klen);
    if (c != 0) return c;
    if (x->klen != y->klen) return x->klen < y->klen ? -1 : 1;
    return x->idx < y->idx ? -1 : 1; /* stable: one key's records keep their order */
}

/* Puts the turn's records in (column family, key) order. The memtable's
 * skip list then inserts each key near the last one (RocksDB reuses the
 * previous insert's position, its "splice", and searches only the levels
 * below where the two keys part) instead of searching from the top for
 * every random token: the inserts were ~40 % of the store's write time.
 * Records of one key keep their order, and records of different keys do
 * not interact (a turn holds only puts, merges and deletes of single
 * keys; range deletions are written on their own), so the result is the
 * same; a turn with any other record is left as it is. */
static void turn_sort(spate_cql_store_t *st) {
    if (st->turn_count < 2 || st->turn.len > UINT32_MAX) return;
    if (st->trecs_cap < st->turn_count) {
        free(st->trecs);
        st->trecs_cap = st->turn_count * 2;
        st->trecs = spate_xmalloc(st->trecs_cap * sizeof *st->trecs);
    }
    const uint8_t *base = (const uint8_t *)st->turn.data;
    spate_rd_t rd; /* a record: tag, [cf], key, [value]; lengths as varint32 (LEB128) */
    spate_rd_init(&rd, base, st->turn.len);
    if (spate_rd_skip(&rd, TURN_HEADER) != SPATE_OK) return;
    bool sorted = true;
    uint32_t n = 0;
    for (; spate_rd_left(&rd) > 0 && n < st->turn_count; n++) {
        turn_rec_t *r = &st->trecs[n];
        size_t start = rd.off;
        uint8_t tag;
        if (spate_rd_u8(&rd, &tag) != SPATE_OK) return;
        r->cf = 0;
        bool has_value;
        switch (tag) {
        case 0x4: /* kTypeColumnFamilyDeletion */
        case 0x5: /* kTypeColumnFamilyValue */
        case 0x6: /* kTypeColumnFamilyMerge */
            if (spate_rd_uvarint(&rd, &r->cf) != SPATE_OK) return;
            has_value = tag != 0x4;
            break;
        case 0x0: /* kTypeDeletion */
        case 0x1: /* kTypeValue */
        case 0x2: /* kTypeMerge */ has_value = tag != 0x0; break;
        default: return; /* anything else: written unsorted */
        }
        uint32_t kn, vn;
        if (spate_rd_uvarint(&rd, &kn) != SPATE_OK || spate_rd_bytes(&rd, kn, &r->key) != SPATE_OK)
            return;
        r->klen = kn;
        if (has_value &&
            (spate_rd_uvarint(&rd, &vn) != SPATE_OK || spate_rd_skip(&rd, vn) != SPATE_OK))
            return;
        r->off = (uint32_t)start;
        r->len = (uint32_t)(rd.off - start);
        r->idx = n;
        if (n > 0 && sorted && turn_rec_cmp(&st->trecs[n - 1], r) > 0) sorted = false;
    }
    if (spate_rd_left(&rd) > 0 || n != st->turn_count || sorted) return;
    qsort(st->trecs, n, sizeof *st->trecs, turn_rec_cmp);
    spate_buf_reset(&st->turn_sorted);
    if (spate_buf_append(&st->turn_sorted, base, TURN_HEADER) != SPATE_OK) return;
    for (uint32_t i = 0; i < n; i++)
        if (spate_buf_append(&st->turn_sorted, base + st->trecs[i].off, st->trecs[i].len) !=
            SPATE_OK)
            return;
    spate_buf_t t = st->turn;
    st->turn = st->turn_sorted;
    st->turn_sorted = t;
}

/* Writes the turn — every mutation applied since the last call — as one
 * WriteBatch: one pass through RocksDB's write path (writer queue,
 * sequence numbers, one WAL record) for all of them. Called before
 * anything reads, before the WAL is flushed or synced, and when the turn
 * grows past TURN_MAX_BYTES. On failure (logged) the turn stays for the
 * next call: nothing of it was applied. */
static spate_status_t turn_write(spate_cql_store_t *st) {
    if (st->turn_count == 0) return SPATE_OK;
    turn_sort(st);
    uint8_t *h = (uint8_t *)st->turn.data + 8; /* the count, u32 little-endian */
    for (int i = 0; i < 4; i++) h[i] = (uint8_t)(st->turn_count >> (8 * i));
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create_from(st->turn.data, st->turn.len);
    char *err = NULL;
    rocksdb_write(st->db, st->wo, wb, &err);
    rocksdb_writebatch_destroy(wb);
    if (err != NULL) return rocks_status(err, "write");
    st->stats.turn_writes++;
    spate_buf_reset(&st->turn);
    st->turn_count = 0;
    if (st->turn_fold.len) fold_hot(st);
    return SPATE_OK;
}

spate_status_t spate_cql_store_flush_wal(spate_cql_store_t *st) {
    if (!st->unflushed) return SPATE_OK;
    spate_status_t rc = turn_write(st);
    if (rc != SPATE_OK) return rc;
    char *err = NULL;
    rocksdb_flush_wal(st->db, 0, &err);
    st->stats.wal_writes++;
    if (err != NULL) {
        spate_log(SPATE_LOG_ERROR, LOGC, "WAL write failed: %s", err);
        rocksdb_free(err);
        return SPATE_EIO;
    }
    st->unflushed = false;
    return SPATE_OK;
}

bool spate_cql_store_unflushed(const spate_cql_store_t *st) { return st->unflushed; }

spate_status_t spate_cql_store_sync_wal(spate_cql_store_t *st) {
    char *err = NULL;
    rocksdb_flush_wal(st->db, 1, &err); /* writes the buffer, then fdatasync */
    if (err != NULL) {
        spate_log(SPATE_LOG_ERROR, LOGC, "WAL sync failed: %s", err);
        rocksdb_free(err);
        return SPATE_EIO;
    }
    return SPATE_OK;
}

spate_status_t spate_cql_store_sync(spate_cql_store_t *st) {
    if (!st->unsynced) return SPATE_OK;
    spate_status_t rc = turn_write(st);
    if (rc != SPATE_OK) return rc;
    st->stats.syncs++;
    rc = spate_cql_store_sync_wal(st);
    if (rc != SPATE_OK) return rc;
    st->unsynced = false;
    st->unflushed = false;
    return SPATE_OK;
}

spate_status_t spate_cql_store_sync_begin(spate_cql_store_t *st, uint64_t *gen) {
    *gen = st->applied_gen;
    return spate_cql_store_flush_wal(st);
}

void spate_cql_store_sync_end(spate_cql_store_t *st, uint64_t gen, bool ok) {
    if (!ok) return;
    st->stats.syncs++;
    if (gen == st->applied_gen) st->unsynced = false;
}

int64_t spate_cql_store_sync_due(const spate_cql_store_t *st, int64_t now_ms) {
    if (!st->unsynced) return -1;
    if (st->mode == SPATE_CQL_STORE_SYNC_BATCH) return 0;
    int64_t left = st->unsynced_since_ms + st->period_ms - now_ms;
    return left > 0 ? left : 0;
}

spate_status_t spate_cql_store_tick(spate_cql_store_t *st, int64_t now_ms) {
    return spate_cql_store_sync_due(st, now_ms) == 0 ? spate_cql_store_sync(st) : SPATE_OK;
}

void spate_cql_store_stats(const spate_cql_store_t *st, spate_cql_store_stats_t *out) {
    *out = st->stats;
}

void spate_cql_store_close(spate_cql_store_t *st) {
    if (st == NULL) return;
    spate_cql_store_sync(st);
    store_free(st);
}

spate_status_t spate_cql_store_flush(spate_cql_store_t *st) {
    if (turn_write(st) != SPATE_OK) return SPATE_EIO;
    rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
    rocksdb_flushoptions_set_wait(fo, 1);
    spate_status_t rc = SPATE_OK;
    for (int i = 0; i < NCF && rc == SPATE_OK; i++) {
        char *err = NULL;
        rocksdb_flush_cf(st->db, fo, st->cf[i], &err);
        rc = rocks_status(err, "flush");
    }
    rocksdb_flushoptions_destroy(fo);
    return rc;
}

spate_status_t spate_cql_store_compact(spate_cql_store_t *st) {
    if (turn_write(st) != SPATE_OK) return SPATE_EIO;
    for (int i = 0; i < NCF; i++) rocksdb_compact_range_cf(st->db, st->cf[i], NULL, 0, NULL, 0);
    return SPATE_OK;
}

/* ------------------------------------------------------------------ */
/* Mutations                                                           */
/* ------------------------------------------------------------------ */

/* An entry of the row being built: its cell value is ucells[off, +len). */
typedef struct {
    int id; /* kind << 16 | column, as in a row value */
    size_t off, len;
} uent_t;

struct spate_cql_mutation {
    spate_cql_store_t *st;
    rocksdb_writebatch_t *wb;
    spate_buf_t fold; /* hot keys to fold after the write: u8 cf | u32 n | key */
    const spate_cql_key_schema_t *s;
    spate_buf_t part, row, key, val;
    bool has_part, has_row, has_time;
    int64_t ts;
    int32_t ttl, now;
    /* The row being built (see row_flush): its R, and its marker and
     * plain cells by id, each id once (the reconcile winner). */
    spate_buf_t urow, ucells, uval;
    uent_t *uent;
    size_t nuent, cuent;
    spate_cql_row_entry_t *ents; /* row_flush's decoded entries */
    size_t cents;
};

spate_cql_mutation_t *spate_cql_mutation_new(spate_cql_store_t *st) {
    spate_cql_mutation_t *m = spate_xcalloc(1, sizeof *m);
    m->st = st;
    m->wb = rocksdb_writebatch_create();
    return m;
}

void spate_cql_mutation_free(spate_cql_mutation_t *m) {
    if (m == NULL) return;
    rocksdb_writebatch_destroy(m->wb);
    spate_buf_free(&m->fold);
    spate_buf_free(&m->part);
    spate_buf_free(&m->row);
    spate_buf_free(&m->key);
    spate_buf_free(&m->val);
    spate_buf_free(&m->urow);
    spate_buf_free(&m->ucells);
    spate_buf_free(&m->uval);
    free(m->uent);
    free(m->ents);
    free(m);
}

void spate_cql_mutation_clear(spate_cql_mutation_t *m) {
    rocksdb_writebatch_clear(m->wb);
    spate_buf_reset(&m->fold);
    m->s = NULL;
    m->has_part = m->has_row = m->has_time = false;
    m->nuent = 0;
    spate_buf_reset(&m->ucells);
}

static size_t varint_len(size_t v) {
    size_t n = 1;
    while (v >= 0x80) v >>= 7, n++;
    return n;
}

/* What the row being built will add to the batch when flushed: one
 * Merge record, as RocksDB's WriteBatch lays it out (tag, column family,
 * key and value with varint lengths). */
static size_t row_pending_bytes(const spate_cql_mutation_t *m) {
    if (m->nuent == 0) return 0;
    size_t k = m->urow.len + 1, v;
    if (m->nuent == 1) {
        v = m->uent[0].len;
        if (m->uent[0].id >> 16 == SPATE_CQL_KIND_CELL) k += 2;
    } else {
        v = 1;
        for (size_t i = 0; i < m->nuent; i++)
            v += (m->uent[i].id >> 16 == SPATE_CQL_KIND_CELL ? 7 : 5) + m->uent[i].len;
    }
    return 1 + varint_len(CF_CELLS) + varint_len(k) + k + varint_len(v) + v;
}

size_t spate_cql_mutation_count(const spate_cql_mutation_t *m) {
    return (size_t)rocksdb_writebatch_count(m->wb) + (m->nuent > 0);
}

size_t spate_cql_mutation_bytes(const spate_cql_mutation_t *m) {
    size_t n = 0;
    rocksdb_writebatch_data(m->wb, &n);
    return n + row_pending_bytes(m);
}

spate_status_t spate_cql_mutation_time(spate_cql_mutation_t *m, int64_t timestamp, int32_t ttl,
                                       int64_t now) {
    m->has_time = false;
    if (timestamp == INT64_MIN) return SPATE_EINVAL;
    if (ttl < 0 || ttl > SPATE_CQL_STORE_MAX_TTL || now < 0 || now > INT32_MAX ||
        now + ttl > INT32_MAX - 1)
        return SPATE_ERANGE;
    m->ts = timestamp;
    m->ttl = ttl;
    m->now = (int32_t)now;
    m->has_time = true;
    return SPATE_OK;
}

static bool table_ok(const spate_cql_key_schema_t *s) {
    return s != NULL && s->table_id < SPATE_CQL_STORE_META_TABLE;
}

spate_status_t spate_cql_mutation_partition(spate_cql_mutation_t *m,
                                            const spate_cql_key_schema_t *s,
                                            const spate_slice_t *pk) {
    m->has_part = m->has_row = false;
    if (!table_ok(s) || pk == NULL) return SPATE_EINVAL;
    spate_buf_reset(&m->part);
    spate_status_t rc = spate_cql_key_partition(&m->part, s, pk, NULL);
    if (rc != SPATE_OK) return rc;
    m->s = s;
    m->has_part = true;
    return SPATE_OK;
}

spate_status_t spate_cql_mutation_row(spate_cql_mutation_t *m, const spate_cql_key_schema_t *s,
                                      const spate_slice_t *pk, const spate_slice_t *ck) {
    spate_status_t rc = spate_cql_mutation_partition(m, s, pk);
    if (rc != SPATE_OK) return rc;
    if (ck == NULL && s->nck > 0) return SPATE_EINVAL;
    rc = buf_set(&m->row, m->part.data, m->part.len);
    if (rc == SPATE_OK) rc = spate_cql_key_clustering(&m->row, s, ck, s->nck);
    if (rc == SPATE_OK) m->has_row = true;
    return rc;
}

/* A 64-bit hash of a key for the hot-key counters (nothing persists it):
 * eight bytes at a time, each mixed in by a multiply and a shift (a byte
 * at a time, FNV-1a, was ~1 % of the store's instructions per upsert). */
static uint64_t key_hash(const char *k, size_t n) {
    const uint64_t m = 0xff51afd7ed558ccdull;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
    for (; n >= 8; k += 8, n -= 8) {
        memcpy(&w, k, 8);
        h = (h ^ w) * m;
        h ^= h >> 29;
    }
    w = 0;
    memcpy(&w, k, n);
    h = (h ^ w) * m;
    return h ^ h >> 32;
}

/* A merge operand for key into the batch; counts the key's writes and
 * queues it for folding at HOT_MERGES (see HOT_MERGES). */
static void merge_key(spate_cql_mutation_t *m, int cf, const char *k, size_t kn, const char *v,
                      size_t vn) {
    rocksdb_writebatch_merge_cf(m->wb, m->st->cf[cf], k, kn, v, vn);
    uint64_t h = key_hash(k, kn) ^ (uint64_t)cf;
    hot_slot_t *slot = &m->st->hot[h & (HOT_SLOTS - 1)];
    uint32_t tag = (uint32_t)(h >> 32);
    if (slot->tag != tag) {
        slot->tag = tag;
        slot->n = 0;
    }
    if (++slot->n < HOT_MERGES) return;
    slot->n = 0;
    uint8_t c = (uint8_t)cf;
    spate_buf_append(&m->fold, &c, 1);
    spate_wr_u32(&m->fold, (uint32_t)kn);
    spate_buf_append(&m->fold, k, kn);
}

static void batch_merge(spate_cql_mutation_t *m, int cf) {
    merge_key(m, cf, m->key.data, m->key.len, m->val.data, m->val.len);
}

/* Moves the row being built into the batch: one entry as the key it
 * stands for (R | 11 or R | 12 | column), two or more as one row value
 * under R | 11. Uses m->key and m->uval. */
static spate_status_t row_flush(spate_cql_mutation_t *m) {
    if (m->nuent == 0) return SPATE_OK;
    spate_status_t rc = buf_set(&m->key, m->urow.data, m->urow.len);
    spate_buf_t *v = &m->uval;
    spate_buf_reset(v);
    if (m->nuent == 1) {
        const uent_t *e = &m->uent[0];
        if (rc == SPATE_OK && e->id >> 16 == SPATE_CQL_KIND_ROW_MARKER)
            rc = spate_cql_key_put_kind(&m->key, SPATE_CQL_KIND_ROW_MARKER);
        else if (rc == SPATE_OK)
            rc = spate_cql_key_put_cell(&m->key, SPATE_CQL_KIND_CELL, (uint16_t)e->id, NULL,
                                        (spate_slice_t){NULL, -1});
        if (rc == SPATE_OK) rc = spate_buf_append(v, m->ucells.data + e->off, e->len);
    } else {
        if (rc == SPATE_OK) rc = spate_cql_key_put_kind(&m->key, SPATE_CQL_KIND_ROW_MARKER);
        if (rc == SPATE_OK && m->nuent > m->cents) {
            spate_cql_row_entry_t *ents = realloc(m->ents, m->nuent * sizeof *ents);
            if (ents == NULL)
                rc = SPATE_ENOMEM;
            else {
                m->ents = ents;
                m->cents = m->nuent;
            }
        }
        for (size_t i = 0; i < m->nuent && rc == SPATE_OK; i++) {
            const uent_t *e = &m->uent[i];
            m->ents[i].kind = (spate_cql_key_kind_t)(e->id >> 16);
            m->ents[i].column = (uint16_t)e->id;
            rc = spate_cql_cell_decode(m->ucells.data + e->off, e->len, &m->ents[i].cell);
        }
        if (rc == SPATE_OK) rc = spate_cql_row_value_encode(v, m->ents, m->nuent);
    }
    if (rc != SPATE_OK) return rc;
    merge_key(m, CF_CELLS, m->key.data, m->key.len, v->data, v->len);
    m->nuent = 0;
    spate_buf_reset(&m->ucells);
    return SPATE_OK;
}

/* Adds the cell value in m->val as entry id of row m->row, flushing the
 * row built so far when it is another row. An id already there keeps the
 * reconcile winner. */
static spate_status_t row_add(spate_cql_mutation_t *m, int id) {
    spate_status_t rc;
    if (m->nuent > 0 &&
        (m->urow.len != m->row.len || memcmp(m->urow.data, m->row.data, m->row.len) != 0)) {
        if ((rc = row_flush(m)) != SPATE_OK) return rc;
    }
    if (m->nuent == 0 && (rc = buf_set(&m->urow, m->row.data, m->row.len)) != SPATE_OK) return rc;
    if (m->val.len > INT32_MAX) return SPATE_ERANGE;
    size_t i = m->nuent;
    while (i > 0 && m->uent[i - 1].id > id) i--; /* columns mostly come in order */
    if (i > 0 && m->uent[i - 1].id == id) {
        uent_t *e = &m->uent[i - 1];
        spate_cql_cell_t a, b;
        if (spate_cql_cell_decode(m->val.data, m->val.len, &a) != SPATE_OK ||
            spate_cql_cell_decode(m->ucells.data + e->off, e->len, &b) != SPATE_OK)
            return SPATE_EINVAL;
        if (spate_cql_cell_reconcile(&a, &b) == &b) return SPATE_OK;
        size_t off = m->ucells.len;
        if ((rc = spate_buf_append(&m->ucells, m->val.data, m->val.len)) != SPATE_OK) return rc;
        e->off = off;
        e->len = m->val.len;
        return SPATE_OK;
    }
    size_t off = m->ucells.len;
    if ((rc = spate_buf_append(&m->ucells, m->val.data, m->val.len)) != SPATE_OK) return rc;
    if (m->nuent == m->cuent) {
        m->cuent = m->cuent ? 2 * m->cuent : 16;
        m->uent = spate_xrealloc(m->uent, m->cuent * sizeof *m->uent);
    }
    memmove(m->uent + i + 1, m->uent + i, (m->nuent - i) * sizeof *m->uent);
    m->uent[i] = (uent_t){id, off, m->val.len};
    m->nuent++;
    return SPATE_OK;
}

/* A cell (marker when marker) at base | suffix; value.p == NULL writes a
 * tombstone at ts. */
static spate_status_t put_cell(spate_cql_mutation_t *m, bool is_static, bool marker,
                               uint16_t column, const spate_cql_ktype_t *et, spate_slice_t elem,
                               spate_slice_t value, int64_t ts) {
    if (!m->has_time || !(is_static ? m->has_part : m->has_row)) return SPATE_EINVAL;
    /* the row's marker and plain cells join the row being built (row_add),
     * the rest is merged under its own key */
    bool in_row = !is_static && et == NULL;
    spate_status_t rc = SPATE_OK;
    if (!in_row) {
        const spate_buf_t *base = is_static ? &m->part : &m->row;
        rc = buf_set(&m->key, base->data, base->len);
        if (rc == SPATE_OK)
            rc = spate_cql_key_put_cell(
                &m->key, is_static ? SPATE_CQL_KIND_STATIC_CELL : SPATE_CQL_KIND_CELL, column, et,
                elem);
        if (rc != SPATE_OK) return rc;
    }
    spate_cql_cell_t c = {.timestamp = ts, .value = value};
    if (value.p == NULL) {
        c.kind = SPATE_CQL_CELL_TOMBSTONE;
        c.local_deletion_time = m->now;
    } else if (m->ttl > 0) {
        c.kind = SPATE_CQL_CELL_EXPIRING;
        c.ttl = m->ttl;
        c.local_deletion_time = m->now + m->ttl;
    } else {
        c.kind = SPATE_CQL_CELL_LIVE;
    }
    spate_buf_reset(&m->val);
    rc = spate_cql_cell_encode(&m->val, &c);
    if (rc != SPATE_OK) return rc;
    if (in_row)
        return row_add(m, marker ? SPATE_CQL_KIND_ROW_MARKER << 16
                                 : SPATE_CQL_KIND_CELL << 16 | column);
    batch_merge(m, CF_CELLS);
    return SPATE_OK;
}

static const spate_slice_t no_elem = {NULL, -1};

spate_status_t spate_cql_mutation_marker(spate_cql_mutation_t *m) {
    return put_cell(m, false, true, 0, NULL, no_elem, (spate_slice_t){"", 0}, m->ts);
}

spate_status_t spate_cql_mutation_cell(spate_cql_mutation_t *m, uint16_t column,
                                       spate_slice_t value) {
    return put_cell(m, false, false, column, NULL, no_elem, value, m->ts);
}

spate_status_t spate_cql_mutation_elem(spate_cql_mutation_t *m, uint16_t column,
                                       const spate_cql_ktype_t *elem_type, spate_slice_t elem,
                                       spate_slice_t value) {
    if (elem_type == NULL) return SPATE_EINVAL;
    return put_cell(m, false, false, column, elem_type, elem, value, m->ts);
}

static spate_status_t collection_delete(spate_cql_mutation_t *m, bool is_static, uint16_t column,
                                        bool for_overwrite) {
    if (!m->has_time) return SPATE_EINVAL;
    int64_t ts = for_overwrite ? m->ts - 1 : m->ts;
    return put_cell(m, is_static, false, column, NULL, no_elem, no_elem, ts);
}

spate_status_t spate_cql_mutation_collection_delete(spate_cql_mutation_t *m, uint16_t column,
                                                    bool for_overwrite) {
    return collection_delete(m, false, column, for_overwrite);
}

spate_status_t spate_cql_mutation_static_cell(spate_cql_mutation_t *m, uint16_t column,
                                              spate_slice_t value) {
    return put_cell(m, true, false, column, NULL, no_elem, value, m->ts);
}

spate_status_t spate_cql_mutation_static_elem(spate_cql_mutation_t *m, uint16_t column,
                                              const spate_cql_ktype_t *elem_type,
                                              spate_slice_t elem, spate_slice_t value) {
    if (elem_type == NULL) return SPATE_EINVAL;
    return put_cell(m, true, false, column, elem_type, elem, value, m->ts);
}

spate_status_t spate_cql_mutation_static_collection_delete(spate_cql_mutation_t *m, uint16_t column,
                                                           bool for_overwrite) {
    return collection_delete(m, true, column, for_overwrite);
}

static spate_status_t put_deletion(spate_cql_mutation_t *m, const spate_buf_t *base,
                                   spate_cql_key_kind_t kind) {
    spate_cql_deletion_t d = {m->ts, m->now};
    spate_status_t rc = buf_set(&m->key, base->data, base->len);
    if (rc == SPATE_OK) rc = spate_cql_key_put_kind(&m->key, kind);
    spate_buf_reset(&m->val);
    if (rc == SPATE_OK) rc = spate_cql_deletion_encode(&m->val, &d);
    if (rc == SPATE_OK) batch_merge(m, CF_DEL);
    return rc;
}

spate_status_t spate_cql_mutation_row_delete(spate_cql_mutation_t *m) {
    if (!m->has_time || !m->has_row) return SPATE_EINVAL;
    return put_deletion(m, &m->row, SPATE_CQL_KIND_ROW_DELETION);
}

spate_status_t spate_cql_mutation_partition_delete(spate_cql_mutation_t *m) {
    if (!m->has_time || !m->has_part) return SPATE_EINVAL;
    return put_deletion(m, &m->part, SPATE_CQL_KIND_PARTITION_DELETION);
}

spate_status_t spate_cql_mutation_range_delete(spate_cql_mutation_t *m, const spate_slice_t *ck,
                                               uint16_t neq, const spate_cql_kslice_t *start,
                                               const spate_cql_kslice_t *end) {
    const spate_cql_key_schema_t *s = m->s;
    if (!m->has_time || !m->has_part || s == NULL || neq > s->nck ||
        (neq == s->nck && (start != NULL || end != NULL)) || (neq > 0 && ck == NULL))
        return SPATE_EINVAL;
    spate_status_t rc;
    if (neq == s->nck) { /* the whole clustering: a row deletion */
        spate_buf_t row = SPATE_BUF_INIT;
        rc = buf_set(&row, m->part.data, m->part.len);
        if (rc == SPATE_OK) rc = spate_cql_key_clustering(&row, s, ck, s->nck);
        if (rc == SPATE_OK) rc = put_deletion(m, &row, SPATE_CQL_KIND_ROW_DELETION);
        spate_buf_free(&row);
        return rc;
    }
    /* Bounds in key order: a DESC column's CQL end is the lower key. */
    bool desc = s->ck[neq].desc;
    const spate_cql_kslice_t *lower = desc ? end : start, *upper = desc ? start : end;
    spate_slice_t *v = spate_xcalloc((size_t)neq + 1, sizeof *v);
    for (uint16_t i = 0; i < neq; i++) v[i] = ck[i];
    spate_buf_t sb = SPATE_BUF_INIT, eb = SPATE_BUF_INIT;
    spate_cql_deletion_t d = {m->ts, m->now};

    if (lower != NULL) v[neq] = lower->value;
    rc = spate_cql_key_bound(&sb, s, v, lower ? neq + 1 : neq,
                             lower == NULL || lower->inclusive ? SPATE_CQL_BOUND_BEFORE
                                                               : SPATE_CQL_BOUND_AFTER);
    if (rc != SPATE_OK) goto out;
    if (upper != NULL) v[neq] = upper->value;
    rc = spate_cql_key_bound(&eb, s, v, upper ? neq + 1 : neq,
                             upper == NULL || upper->inclusive ? SPATE_CQL_BOUND_AFTER
                                                               : SPATE_CQL_BOUND_BEFORE);
    if (rc != SPATE_OK) goto out;
    /* An empty range (c > 5 AND c < 3) deletes nothing: not stored. */
    if (keycmp(sb.data, sb.len, eb.data, eb.len) >= 0) goto out;

    rc = buf_set(&m->key, m->part.data, m->part.len);
    if (rc == SPATE_OK) rc = spate_cql_key_put_kind(&m->key, SPATE_CQL_KIND_RANGE_TOMBSTONE);
    if (rc == SPATE_OK) rc = spate_buf_append(&m->key, sb.data, sb.len);
    spate_buf_reset(&m->val);
    if (rc == SPATE_OK) rc = spate_wr_u32(&m->val, 0);
    if (rc == SPATE_OK) rc = spate_cql_deletion_encode(&m->val, &d);
    if (rc == SPATE_OK) rc = spate_buf_append(&m->val, eb.data, eb.len);
    if (rc != SPATE_OK) goto out;
    spate_wr_patch_u32(&m->val, 0, (uint32_t)(m->val.len - 4));
    batch_merge(m, CF_RNG);
out:
    free(v);
    spate_buf_free(&sb);
    spate_buf_free(&eb);
    return rc;
}

spate_status_t spate_cql_store_apply(spate_cql_store_t *st, spate_cql_mutation_t *m) {
    if (m->st != st) return SPATE_EINVAL;
    spate_status_t rc = row_flush(m);
    if (rc != SPATE_OK) return rc;
    int n = rocksdb_writebatch_count(m->wb);
    if (n == 0) return SPATE_OK;
    /* A full turn is written before it takes more; when that fails the
     * write is refused, so a failing store answers errors instead of
     * holding answers and memory without bound. */
    if (st->turn.len >= TURN_MAX_BYTES && turn_write(st) != SPATE_OK) {
        spate_buf_reset(&m->fold);
        return SPATE_EIO;
    }
    size_t len;
    const char *rep = rocksdb_writebatch_data(m->wb, &len);
    if (len < TURN_HEADER || (uint64_t)st->turn_count + (uint64_t)n > UINT32_MAX) {
        spate_buf_reset(&m->fold);
        return SPATE_EINVAL;
    }
    if (st->turn_count == 0) {
        spate_buf_reset(&st->turn);
        rc = spate_buf_append(&st->turn, rep, TURN_HEADER); /* count set by turn_write */
    }
    size_t undo = st->turn.len, undo_fold = st->turn_fold.len;
    if (rc == SPATE_OK) rc = spate_buf_append(&st->turn, rep + TURN_HEADER, len - TURN_HEADER);
    if (rc == SPATE_OK) rc = spate_buf_append(&st->turn_fold, m->fold.data, m->fold.len);
    spate_buf_reset(&m->fold);
    if (rc != SPATE_OK) {
        st->turn.len = undo;
        st->turn_fold.len = undo_fold;
        return rc;
    }
    st->turn_count += (uint32_t)n;
    st->stats.applies++;
    st->applied_gen++;
    st->unflushed = true;
    if (!st->unsynced) {
        st->unsynced = true;
        st->unsynced_since_ms = spate_mono_ms();
    }
    return SPATE_OK;
}

/* ------------------------------------------------------------------ */
/* Reads                                                               */
/* ------------------------------------------------------------------ */

/* A RocksDB iterator with its bounds (which must outlive it). */
typedef struct {
    rocksdb_iterator_t *it; /* NULL: an empty range */
    rocksdb_readoptions_t *ro;
    spate_buf_t lo, hi;
    bool seeked;
} cur_t;

/* A range tombstone of the current partition; bounds in the iterator's
 * rtmem. */
typedef struct {
    size_t s_off, s_len, e_off, e_len;
    spate_cql_deletion_t d;
} rt_t;

/* A cell as stored, before it is judged; bytes in the row's mem. */
typedef struct {
    uint8_t kind;
    uint16_t column;
    bool has_elem, elem_decoded;
    size_t ek_off, ek_len, e_off, e_len, v_off, v_len;
    spate_cql_cell_t c; /* c.value unused: see v_off */
} raw_t;

typedef struct {
    spate_cql_key_t key; /* the first key decoded: pk / ck values */
    spate_buf_t pos;     /* R (regular) or P | 03 (static) */
    size_t plen;         /* length of P in pos */
    spate_buf_t mem;
    raw_t *raw;
    size_t nraw, craw;
    spate_cql_store_cell_t *cells;
    size_t ccells;
    spate_cql_store_row_t row;
} rowbuf_t;

struct spate_cql_store_iter {
    spate_cql_store_t *st;
    spate_cql_store_query_t q;
    const spate_cql_key_schema_t *s;
    const rocksdb_snapshot_t *snap;
    rocksdb_readoptions_t *ro_get;
    cur_t main, del, rng, stat;
    bool single, ctx_loaded, done;
    bool row_get;          /* one row: its deletion is a Get, not the del cursor */
    spate_status_t failed; /* sticky error */
    spate_buf_t after;
    bool has_after;

    spate_buf_t part; /* P of the current partition */
    bool has_part, has_pdel;
    spate_cql_deletion_t pdel;
    rt_t *rts;
    size_t nrts, crts;
    spate_buf_t rtmem;
    bool static_pending;

    rowbuf_t srow, rrow;
    bool has_last;
    spate_buf_t lastpos;
    spate_buf_t scratch;
};

static spate_status_t iter_error(rocksdb_iterator_t *ri) {
    char *err = NULL;
    rocksdb_iter_get_error(ri, &err);
    return rocks_status(err, "read");
}

static bool cur_valid(const cur_t *c) { return c->it != NULL && rocksdb_iter_valid(c->it); }

static void cur_free(cur_t *c) {
    if (c->it != NULL) rocksdb_iter_destroy(c->it);
    if (c->ro != NULL) rocksdb_readoptions_destroy(c->ro);
    spate_buf_free(&c->lo);
    spate_buf_free(&c->hi);
    memset(c, 0, sizeof *c);
}

/* Creates the RocksDB iterator over [lo, hi) unless that is empty. A
 * forward cursor inside one partition seeks in prefix mode: SST files
 * whose prefix filter lacks the partition's table id + token are skipped
 * without reading a block. */
static void cur_open(spate_cql_store_iter_t *it, cur_t *c, int cf, bool prefix) {
    if (keycmp(c->lo.data, c->lo.len, c->hi.data, c->hi.len) >= 0) return;
    c->ro = rocksdb_readoptions_create();
    rocksdb_readoptions_set_snapshot(c->ro, it->snap);
    if (prefix)
        rocksdb_readoptions_set_prefix_same_as_start(c->ro, 1);
    else
        rocksdb_readoptions_set_total_order_seek(c->ro, 1);
    rocksdb_readoptions_set_iterate_lower_bound(c->ro, c->lo.data, c->lo.len);
    rocksdb_readoptions_set_iterate_upper_bound(c->ro, c->hi.data, c->hi.len);
    c->it = rocksdb_create_iterator_cf(it->st->db, c->ro, it->st->cf[cf]);
}

/* Moves a forward cursor to the first key >= t unless it is there
 * already (targets only grow). */
static void cur_seek_fwd(cur_t *c, const char *t, size_t n) {
    if (c->it == NULL) return;
    if (c->seeked && rocksdb_iter_valid(c->it)) {
        size_t kn;
        const char *k = rocksdb_iter_key(c->it, &kn);
        if (keycmp(k, kn, t, n) >= 0) return;
    } else if (c->seeked) {
        return; /* nothing >= an earlier, smaller target */
    }
    rocksdb_iter_seek(c->it, t, n);
    c->seeked = true;
}

/* The reverse of cur_seek_fwd: to the last key <= t (targets shrink). */
static void cur_seek_rev(cur_t *c, const char *t, size_t n) {
    if (c->it == NULL) return;
    if (c->seeked && rocksdb_iter_valid(c->it)) {
        size_t kn;
        const char *k = rocksdb_iter_key(c->it, &kn);
        if (keycmp(k, kn, t, n) <= 0) return;
    } else if (c->seeked) {
        return;
    }
    rocksdb_iter_seek_for_prev(c->it, t, n);
    c->seeked = true;
}

static spate_status_t fail(spate_cql_store_iter_t *it, spate_status_t rc) {
    if (rc != SPATE_OK && rc != SPATE_ENOENT) it->failed = rc;
    return rc;
}

static void rowbuf_free(rowbuf_t *rb) {
    spate_cql_key_free(&rb->key);
    spate_buf_free(&rb->pos);
    spate_buf_free(&rb->mem);
    free(rb->raw);
    free(rb->cells);
    memset(rb, 0, sizeof *rb);
}

/* Releases the RocksDB objects of it (cursors, snapshot). */
static void iter_release(spate_cql_store_iter_t *it) {
    cur_t *cs[4] = {&it->main, &it->del, &it->rng, &it->stat};
    for (int i = 0; i < 4; i++) {
        if (cs[i]->it != NULL) rocksdb_iter_destroy(cs[i]->it);
        if (cs[i]->ro != NULL) rocksdb_readoptions_destroy(cs[i]->ro);
        cs[i]->it = NULL;
        cs[i]->ro = NULL;
    }
    if (it->ro_get != NULL) rocksdb_readoptions_destroy(it->ro_get);
    if (it->snap != NULL) rocksdb_release_snapshot(it->st->db, it->snap);
    it->ro_get = NULL;
    it->snap = NULL;
}

static void rowbuf_reuse(rowbuf_t *dst, rowbuf_t *src) {
    spate_cql_key_free(&src->key);
    dst->pos = src->pos;
    dst->mem = src->mem;
    spate_buf_reset(&dst->pos);
    spate_buf_reset(&dst->mem);
    dst->raw = src->raw;
    dst->craw = src->craw;
    dst->cells = src->cells;
    dst->ccells = src->ccells;
}

/* Makes a spare (released) iterator like a new one, keeping its memory:
 * every field zero but the buffers (emptied) and arrays. */
static void iter_reuse(spate_cql_store_iter_t *it) {
    spate_cql_store_iter_t k = *it;
    memset(it, 0, sizeof *it);
    cur_t *cs[4] = {&it->main, &it->del, &it->rng, &it->stat};
    const cur_t *ks[4] = {&k.main, &k.del, &k.rng, &k.stat};
    for (int i = 0; i < 4; i++) {
        cs[i]->lo = ks[i]->lo;
        cs[i]->hi = ks[i]->hi;
        spate_buf_reset(&cs[i]->lo);
        spate_buf_reset(&cs[i]->hi);
    }
    spate_buf_t *bs[5] = {&it->after, &it->part, &it->rtmem, &it->lastpos, &it->scratch};
    const spate_buf_t *kb[5] = {&k.after, &k.part, &k.rtmem, &k.lastpos, &k.scratch};
    for (int i = 0; i < 5; i++) {
        *bs[i] = *kb[i];
        spate_buf_reset(bs[i]);
    }
    it->rts = k.rts;
    it->crts = k.crts;
    rowbuf_reuse(&it->srow, &k.srow);
    rowbuf_reuse(&it->rrow, &k.rrow);
}

void spate_cql_store_iter_free(spate_cql_store_iter_t *it) {
    if (it == NULL) return;
    if (it->st->spare == NULL) {
        iter_release(it);
        it->st->spare = it;
        return;
    }
    iter_destroy(it);
}

static void iter_destroy(spate_cql_store_iter_t *it) {
    cur_free(&it->main);
    cur_free(&it->del);
    cur_free(&it->rng);
    cur_free(&it->stat);
    if (it->ro_get != NULL) rocksdb_readoptions_destroy(it->ro_get);
    if (it->snap != NULL) rocksdb_release_snapshot(it->st->db, it->snap);
    spate_buf_free(&it->after);
    spate_buf_free(&it->part);
    free(it->rts);
    spate_buf_free(&it->rtmem);
    rowbuf_free(&it->srow);
    rowbuf_free(&it->rrow);
    spate_buf_free(&it->lastpos);
    spate_buf_free(&it->scratch);
    free(it);
}

static spate_status_t append_kind(spate_buf_t *b, const void *p, size_t n, uint8_t kind) {
    spate_status_t rc = buf_set(b, p, n);
    return rc == SPATE_OK ? spate_buf_putc(b, (char)kind) : rc;
}

spate_status_t spate_cql_store_iter_open(spate_cql_store_t *st, const spate_cql_store_query_t *q,
                                         spate_cql_store_iter_t **out) {
    *out = NULL;
    if (q == NULL || !table_ok(q->schema) ||
        (q->pk == NULL && (q->reverse || q->ck || q->neq || q->start || q->end)) ||
        (q->after.p != NULL &&
         (q->after.len < 4 || be32((const uint8_t *)q->after.p) != q->schema->table_id)))
        return SPATE_EINVAL;
    spate_status_t trc = turn_write(st); /* reads see every applied write */
    if (trc != SPATE_OK) return trc;
    const spate_cql_key_schema_t *s = q->schema;
    spate_cql_store_iter_t *it = st->spare;
    if (it != NULL) {
        st->spare = NULL;
        iter_reuse(it);
    } else {
        it = spate_xcalloc(1, sizeof *it);
    }
    spate_status_t rc = SPATE_OK;
    it->st = st;
    it->q = *q;
    it->s = s;
    it->snap = rocksdb_create_snapshot(st->db);
    it->ro_get = rocksdb_readoptions_create();
    rocksdb_readoptions_set_snapshot(it->ro_get, it->snap);
    it->has_after = q->after.p != NULL;
    if (it->has_after) rc = buf_set(&it->after, q->after.p, (size_t)q->after.len);
    it->q.after = (spate_slice_t){NULL, -1}; /* the copy is it->after */
    it->q.pk = NULL;
    it->q.ck = NULL;
    it->q.start = it->q.end = NULL;

    cur_t *m = &it->main;
    if (rc == SPATE_OK && q->pk != NULL) {
        it->single = true;
        rc = spate_cql_key_partition(&it->part, s, q->pk, NULL);
        if (rc == SPATE_OK)
            rc = spate_cql_key_slice(&m->lo, &m->hi, s, q->pk, q->ck, q->neq, q->start, q->end);
        if (rc == SPATE_OK) rc = append_kind(&it->rng.lo, it->part.data, it->part.len, 0x02);
        if (rc == SPATE_OK) rc = append_kind(&it->rng.hi, it->part.data, it->part.len, 0x03);
        if (rc == SPATE_OK) rc = append_kind(&it->stat.lo, it->part.data, it->part.len, 0x03);
        if (rc == SPATE_OK) rc = append_kind(&it->stat.hi, it->part.data, it->part.len, 0x04);
        if (rc == SPATE_OK) it->has_part = true;
    } else if (rc == SPATE_OK) {
        uint8_t t[4];
        put_be32(t, s->table_id);
        if (q->has_token_start)
            rc = spate_cql_key_token_prefix(&m->lo, s->table_id, q->token_start);
        else
            rc = spate_buf_append(&m->lo, t, 4);
        if (rc == SPATE_OK && q->has_token_end) {
            rc = spate_cql_key_token_prefix(&it->scratch, s->table_id, q->token_end);
            if (rc == SPATE_OK)
                rc = spate_cql_key_prefix_end(&m->hi, it->scratch.data, it->scratch.len);
        } else if (rc == SPATE_OK) {
            put_be32(t, s->table_id + 1);
            rc = spate_buf_append(&m->hi, t, 4);
        }
        /* Partition-level cursors start at the scan's first partition,
         * before any resume position inside it. */
        if (rc == SPATE_OK) rc = buf_set(&it->rng.lo, m->lo.data, m->lo.len);
        if (rc == SPATE_OK) rc = buf_set(&it->rng.hi, m->hi.data, m->hi.len);
        if (rc == SPATE_OK) rc = buf_set(&it->stat.lo, m->lo.data, m->lo.len);
        if (rc == SPATE_OK) rc = buf_set(&it->stat.hi, m->hi.data, m->hi.len);
    }
    if (rc == SPATE_OK && it->has_after) {
        if (q->reverse) {
            if (keycmp(it->after.data, it->after.len, m->hi.data, m->hi.len) < 0)
                rc = buf_set(&m->hi, it->after.data, it->after.len);
        } else {
            spate_buf_reset(&it->scratch);
            rc = spate_cql_key_prefix_end(&it->scratch, it->after.data, it->after.len);
            if (rc == SPATE_OK &&
                keycmp(it->scratch.data, it->scratch.len, m->lo.data, m->lo.len) > 0)
                rc = buf_set(&m->lo, it->scratch.data, it->scratch.len);
        }
    }
    if (rc == SPATE_OK) rc = buf_set(&it->del.lo, m->lo.data, m->lo.len);
    if (rc == SPATE_OK) rc = buf_set(&it->del.hi, m->hi.data, m->hi.len);
    if (rc != SPATE_OK) {
        spate_cql_store_iter_free(it);
        return rc;
    }
    bool fwd1 = it->single && !q->reverse; /* one partition, forward */
    /* A point read (every clustering column equal, or none) looks its row
     * deletion up with a Get (whole-key bloom filters), and a table
     * without clustering columns has no range tombstones (a range delete
     * there is a row deletion): each saves a RocksDB iterator. */
    it->row_get = it->single && q->neq == s->nck && q->start == NULL && q->end == NULL;
    cur_open(it, &it->main, CF_CELLS, fwd1);
    if (!it->row_get) cur_open(it, &it->del, CF_DEL, fwd1);
    if (s->nck > 0) cur_open(it, &it->rng, CF_RNG, it->single);
    if (q->include_static) cur_open(it, &it->stat, CF_CELLS, it->single);
    if (it->main.it != NULL) {
        if (q->reverse)
            rocksdb_iter_seek_to_last(it->main.it);
        else
            rocksdb_iter_seek(it->main.it, it->main.lo.data, it->main.lo.len);
    }
    *out = it;
    return SPATE_OK;
}

static const spate_cql_ktype_t *elem_type(const spate_cql_store_iter_t *it, uint16_t column) {
    if (it->q.elem_types == NULL || column >= it->q.nelem_types) return NULL;
    return it->q.elem_types[column];
}

static raw_t *raw_new(rowbuf_t *rb) {
    if (rb->nraw == rb->craw) {
        size_t cap = rb->craw ? 2 * rb->craw : 16;
        rb->raw = spate_xrealloc(rb->raw, cap * sizeof *rb->raw);
        rb->craw = cap;
    }
    raw_t *r = &rb->raw[rb->nraw++];
    memset(r, 0, sizeof *r);
    return r;
}

/* Moves r->c's value bytes into the row's mem (r->c.value is then unset:
 * the bytes are at v_off). */
static spate_status_t raw_keep_value(rowbuf_t *rb, raw_t *r) {
    r->v_off = rb->mem.len;
    r->v_len = r->c.value.len > 0 ? (size_t)r->c.value.len : 0;
    const char *p = r->c.value.p;
    r->c.value = (spate_slice_t){NULL, -1};
    return spate_buf_append(&rb->mem, p, r->v_len);
}

/* The entries of a row value, appended as raws in ascending order. */
static spate_status_t gather_row_value(rowbuf_t *rb, const char *v, size_t vn) {
    spate_cql_row_reader_t rr;
    spate_cql_key_kind_t kind;
    uint16_t column;
    spate_cql_cell_t cell;
    spate_status_t rc = spate_cql_row_reader_init(&rr, v, vn);
    while (rc == SPATE_OK &&
           (rc = spate_cql_row_reader_next(&rr, &kind, &column, &cell)) == SPATE_OK) {
        raw_t *r = raw_new(rb);
        r->kind = (uint8_t)kind;
        r->column = column;
        r->c = cell;
        rc = raw_keep_value(rb, r);
    }
    return rc == SPATE_ENOENT ? SPATE_OK : rc == SPATE_ENOMEM ? rc : SPATE_EINVAL;
}

static spate_cql_cell_t raw_cell(const rowbuf_t *rb, const raw_t *r) {
    spate_cql_cell_t c = r->c;
    c.value = (spate_slice_t){rb->mem.data ? rb->mem.data + r->v_off : "", (int32_t)r->v_len};
    return c;
}

/* Puts the nu entries of a row value (raw[0..nu): ascending, or
 * descending when reverse) in place among the row's other raws (key
 * order), a column held by both becoming the reconcile winner. */
static void merge_row_value(rowbuf_t *rb, size_t nu, bool reverse) {
    raw_t *u = rb->raw, *o = rb->raw + nu;
    size_t no = rb->nraw - nu;
    if (reverse)
        for (size_t i = 0, j = nu; i + 1 < j; i++, j--) {
            raw_t t = u[i];
            u[i] = u[j - 1];
            u[j - 1] = t;
        }
    if (no == 0) return;
    raw_t *out = spate_xcalloc(rb->nraw, sizeof *out);
    size_t i = 0, j = 0, n = 0;
    while (i < nu || j < no) {
        int c;
        if (i == nu)
            c = 1;
        else if (j == no || u[i].kind == SPATE_CQL_KIND_ROW_MARKER)
            c = -1;
        else if (u[i].column != o[j].column)
            c = u[i].column < o[j].column ? -1 : 1;
        else
            c = o[j].has_elem ? -1 : 0; /* a column's own cell before its elements */
        if (c < 0) {
            out[n++] = u[i++];
        } else if (c > 0) {
            out[n++] = o[j++];
        } else {
            spate_cql_cell_t a = raw_cell(rb, &u[i]), b = raw_cell(rb, &o[j]);
            out[n++] = spate_cql_cell_reconcile(&a, &b) == &a ? u[i] : o[j];
            i++;
            j++;
        }
    }
    memcpy(rb->raw, out, n * sizeof *out);
    rb->nraw = n;
    free(out);
}

/* Collects the cells of one row from cursor c: the keys that extend
 * rb->pos (R, or P for a static row) with an allowed kind. The first key
 * is decoded into rb->key when decode_first. A row value (under R | 11)
 * is read as its entries. */
static spate_status_t gather(spate_cql_store_iter_t *it, rowbuf_t *rb, cur_t *c, bool reverse,
                             bool is_static, bool decode_first) {
    const size_t plen = is_static ? rb->plen : rb->pos.len;
    spate_buf_reset(&rb->mem);
    rb->nraw = 0;
    size_t nunit = 0;
    bool unit = false;
    spate_status_t rc = SPATE_OK;
    while (rc == SPATE_OK && cur_valid(c)) {
        size_t kn, vn;
        const uint8_t *k = (const uint8_t *)rocksdb_iter_key(c->it, &kn);
        if (kn <= plen || memcmp(k, rb->pos.data, plen) != 0) break;
        const uint8_t *sfx = k + plen;
        size_t sn = kn - plen;
        if (is_static ? sfx[0] != SPATE_CQL_KIND_STATIC_CELL
                      : sfx[0] != SPATE_CQL_KIND_ROW_MARKER && sfx[0] != SPATE_CQL_KIND_CELL) {
            if (is_static) break; /* the partition's rows follow */
            return SPATE_EINVAL;
        }
        if (decode_first && rb->nraw == 0 && !unit) {
            spate_cql_key_free(&rb->key);
            if ((rc = spate_cql_key_decode(it->s, k, kn, &rb->key)) != SPATE_OK) return rc;
        }
        const char *v = rocksdb_iter_value(c->it, &vn);
        if (sfx[0] == SPATE_CQL_KIND_ROW_MARKER && sn == 1 && spate_cql_row_value_is(v, vn)) {
            /* after the row's other keys when reading in reverse */
            size_t before = rb->nraw;
            if ((rc = gather_row_value(rb, v, vn)) != SPATE_OK) return rc;
            nunit = rb->nraw - before;
            unit = true;
        } else {
            raw_t *r = raw_new(rb);
            r->kind = sfx[0];
            if (r->kind == SPATE_CQL_KIND_ROW_MARKER) {
                if (sn != 1) return SPATE_EINVAL;
            } else {
                if (sn < 3 || sn - 3 > INT32_MAX) return SPATE_EINVAL;
                r->column = (uint16_t)(sfx[1] << 8 | sfx[2]);
                r->has_elem = sn > 3;
            }
            if (spate_cql_cell_decode(v, vn, &r->c) != SPATE_OK) return SPATE_EINVAL;
            if (r->kind == SPATE_CQL_KIND_ROW_MARKER && r->c.value.len > 0) return SPATE_EINVAL;
            if ((rc = raw_keep_value(rb, r)) != SPATE_OK) break;
            if (r->has_elem) {
                spate_slice_t e = {(const char *)sfx + 3, (int32_t)(sn - 3)};
                r->ek_off = rb->mem.len;
                r->ek_len = sn - 3;
                if ((rc = spate_buf_append(&rb->mem, e.p, r->ek_len)) != SPATE_OK) break;
                const spate_cql_ktype_t *et = elem_type(it, r->column);
                if (et != NULL) {
                    r->e_off = rb->mem.len;
                    if (spate_cql_key_elem_decode(et, e, &rb->mem) != SPATE_OK) return SPATE_EINVAL;
                    r->e_len = rb->mem.len - r->e_off;
                    r->elem_decoded = true;
                }
            }
        }
        if (reverse)
            rocksdb_iter_prev(c->it);
        else
            rocksdb_iter_next(c->it);
    }
    if (rc != SPATE_OK) return rc;
    if (c->it != NULL && !rocksdb_iter_valid(c->it) && (rc = iter_error(c->it)) != SPATE_OK)
        return rc;
    if (reverse)
        for (size_t i = 0, j = rb->nraw; i + 1 < j; i++, j--) {
            raw_t t = rb->raw[i];
            rb->raw[i] = rb->raw[j - 1];
            rb->raw[j - 1] = t;
        }
    if (unit) merge_row_value(rb, nunit, reverse);
    return SPATE_OK;
}

static void deletion_max(bool *has, spate_cql_deletion_t *d, const spate_cql_deletion_t *e) {
    if (!*has || spate_cql_deletion_supersedes(e, d)) *d = *e;
    *has = true;
}

/* The row deletion of R (rb->pos), looked up beside main. */
static spate_status_t row_deletion(spate_cql_store_iter_t *it, const rowbuf_t *rb, bool *found,
                                   spate_cql_deletion_t *d) {
    *found = false;
    cur_t *c = &it->del;
    if (c->it == NULL && !it->row_get) return SPATE_OK;
    spate_status_t rc = append_kind(&it->scratch, rb->pos.data, rb->pos.len, 0x10);
    if (rc != SPATE_OK) return rc;
    if (it->row_get) {
        char *err = NULL;
        size_t vn = 0;
        char *v = rocksdb_get_cf(it->st->db, it->ro_get, it->st->cf[CF_DEL], it->scratch.data,
                                 it->scratch.len, &vn, &err);
        if (err != NULL) return rocks_status(err, "read");
        if (v == NULL) return SPATE_OK;
        rc = spate_cql_deletion_decode(v, vn, d) == SPATE_OK ? SPATE_OK : SPATE_EINVAL;
        rocksdb_free(v);
        *found = rc == SPATE_OK;
        return rc;
    }
    if (it->q.reverse)
        cur_seek_rev(c, it->scratch.data, it->scratch.len);
    else
        cur_seek_fwd(c, it->scratch.data, it->scratch.len);
    if (!rocksdb_iter_valid(c->it)) return iter_error(c->it);
    size_t kn, vn;
    const char *k = rocksdb_iter_key(c->it, &kn);
    if (keycmp(k, kn, it->scratch.data, it->scratch.len) != 0) return SPATE_OK;
    const char *v = rocksdb_iter_value(c->it, &vn);
    if (spate_cql_deletion_decode(v, vn, d) != SPATE_OK) return SPATE_EINVAL;
    *found = true;
    return SPATE_OK;
}

/* Judges the gathered cells; *live when the row is returned. */
static spate_status_t finalize(spate_cql_store_iter_t *it, rowbuf_t *rb, bool is_static,
                               bool *live) {
    bool has_d = it->has_pdel;
    spate_cql_deletion_t D = it->pdel;
    *live = false;
    if (!is_static) {
        const char *ck = rb->pos.data + rb->plen;
        size_t ckn = rb->pos.len - rb->plen;
        for (size_t i = 0; i < it->nrts; i++) {
            const rt_t *t = &it->rts[i];
            if (spate_cql_key_bound_cmp(ck, ckn, it->rtmem.data + t->s_off, t->s_len) > 0 &&
                spate_cql_key_bound_cmp(ck, ckn, it->rtmem.data + t->e_off, t->e_len) < 0)
                deletion_max(&has_d, &D, &t->d);
        }
        bool found;
        spate_cql_deletion_t rd;
        spate_status_t rc = row_deletion(it, rb, &found, &rd);
        if (rc != SPATE_OK) return rc;
        if (found) deletion_max(&has_d, &D, &rd);
    }
    if (rb->ccells < rb->nraw) {
        rb->cells = spate_xrealloc(rb->cells, rb->nraw * sizeof *rb->cells);
        rb->ccells = rb->nraw;
    }
    spate_cql_store_row_t *row = &rb->row;
    memset(row, 0, sizeof *row);
    const int64_t now = it->q.now;
    bool has_ct = false;
    int64_t ct_ts = 0;
    uint32_t ct_col = UINT32_MAX;
    size_t n = 0;
    for (size_t i = 0; i < rb->nraw; i++) {
        const raw_t *r = &rb->raw[i];
        bool alive = spate_cql_cell_is_live(&r->c, now) &&
                     !(has_d && spate_cql_deletion_deletes(&D, r->c.timestamp));
        int32_t ttl = r->c.kind == SPATE_CQL_CELL_EXPIRING
                          ? (int32_t)SPATE_MAX((int64_t)r->c.local_deletion_time - now, 0)
                          : 0;
        if (r->kind == SPATE_CQL_KIND_ROW_MARKER) {
            if (alive) {
                row->has_marker = true;
                row->marker_writetime = r->c.timestamp;
                row->marker_ttl = ttl;
            }
            continue;
        }
        if (r->column != ct_col) {
            ct_col = r->column;
            has_ct = false;
        }
        if (!r->has_elem && r->c.kind == SPATE_CQL_CELL_TOMBSTONE) {
            /* a collection's tombstone sorts before its elements */
            has_ct = true;
            ct_ts = r->c.timestamp;
            continue;
        }
        if (r->has_elem && has_ct && r->c.timestamp <= ct_ts) alive = false;
        if (!alive) continue;
        spate_cql_store_cell_t *c = &rb->cells[n++];
        c->column = r->column;
        c->has_elem = r->has_elem;
        c->elem_key = r->has_elem ? (spate_slice_t){rb->mem.data + r->ek_off, (int32_t)r->ek_len}
                                  : (spate_slice_t){NULL, -1};
        c->elem = r->elem_decoded ? (spate_slice_t){rb->mem.data + r->e_off, (int32_t)r->e_len}
                                  : (spate_slice_t){NULL, -1};
        c->value = (spate_slice_t){rb->mem.data ? rb->mem.data + r->v_off : "", (int32_t)r->v_len};
        c->writetime = r->c.timestamp;
        c->ttl = ttl;
    }
    row->is_static = is_static;
    row->token = rb->key.token;
    row->npk = rb->key.npk;
    row->pk = rb->key.pk;
    row->nck = is_static ? 0 : rb->key.nck;
    row->ck = is_static ? NULL : rb->key.ck;
    row->ncells = n;
    row->cells = rb->cells;
    *live = row->has_marker || n > 0;
    return SPATE_OK;
}

/* Whether the static row of partition P (at P | 03) comes after the
 * resume position. */
static bool static_allowed(const spate_cql_store_iter_t *it, const spate_buf_t *pos) {
    if (!it->has_after) return true;
    if (it->q.reverse) return false;
    return keycmp(pos->data, pos->len, it->after.data, it->after.len) > 0 &&
           !has_prefix(pos->data, pos->len, it->after.data, it->after.len);
}

/* Loads partition P's deletion, range tombstones and (when asked for and
 * live) static row. */
static spate_status_t ctx_load(spate_cql_store_iter_t *it, const char *p, size_t plen) {
    spate_status_t rc = p == it->part.data ? SPATE_OK : buf_set(&it->part, p, plen);
    if (rc != SPATE_OK) return rc;
    it->has_part = true;
    it->has_pdel = false;
    it->nrts = 0;
    it->static_pending = false;
    spate_buf_reset(&it->rtmem);

    if ((rc = append_kind(&it->scratch, p, plen, SPATE_CQL_KIND_PARTITION_DELETION)) != SPATE_OK)
        return rc;
    char *err = NULL;
    size_t vn = 0;
    char *v = rocksdb_get_cf(it->st->db, it->ro_get, it->st->cf[CF_DEL], it->scratch.data,
                             it->scratch.len, &vn, &err);
    if (err != NULL) return rocks_status(err, "read");
    if (v != NULL) {
        rc = spate_cql_deletion_decode(v, vn, &it->pdel) == SPATE_OK ? SPATE_OK : SPATE_EINVAL;
        rocksdb_free(v);
        if (rc != SPATE_OK) return rc;
        it->has_pdel = true;
    }

    cur_t *c = &it->rng;
    if ((rc = append_kind(&it->scratch, p, plen, SPATE_CQL_KIND_RANGE_TOMBSTONE)) != SPATE_OK)
        return rc;
    cur_seek_fwd(c, it->scratch.data, it->scratch.len);
    while (cur_valid(c)) {
        size_t kn;
        const char *k = rocksdb_iter_key(c->it, &kn);
        if (!has_prefix(k, kn, it->scratch.data, it->scratch.len)) break;
        spate_cql_key_t key;
        rc = spate_cql_key_decode(it->s, k, kn, &key);
        if (rc == SPATE_OK && key.kind != SPATE_CQL_KIND_RANGE_TOMBSTONE) rc = SPATE_EINVAL;
        size_t s_off = it->rtmem.len, s_len = key.clustering.p ? (size_t)key.clustering.len : 0;
        if (rc == SPATE_OK) rc = spate_buf_append(&it->rtmem, key.clustering.p, s_len);
        spate_cql_key_free(&key);
        if (rc != SPATE_OK) return rc == SPATE_ENOMEM ? rc : SPATE_EINVAL;
        const uint8_t *val = (const uint8_t *)rocksdb_iter_value(c->it, &vn);
        size_t off = 0;
        if (vn == 0) return SPATE_EINVAL;
        while (off < vn) {
            if (vn - off < 4) return SPATE_EINVAL;
            size_t n = be32(val + off);
            off += 4;
            if (n > vn - off) return SPATE_EINVAL;
            spate_cql_deletion_t d;
            spate_slice_t end;
            if (spate_cql_range_tombstone_decode(it->s, val + off, n, &d, &end) != SPATE_OK)
                return SPATE_EINVAL;
            off += n;
            if (it->nrts == it->crts) {
                it->crts = it->crts ? 2 * it->crts : 8;
                it->rts = spate_xrealloc(it->rts, it->crts * sizeof *it->rts);
            }
            rt_t *t = &it->rts[it->nrts++];
            t->s_off = s_off;
            t->s_len = s_len;
            t->e_off = it->rtmem.len;
            t->e_len = (size_t)end.len;
            t->d = d;
            if ((rc = spate_buf_append(&it->rtmem, end.p, (size_t)end.len)) != SPATE_OK) return rc;
        }
        rocksdb_iter_next(c->it);
    }
    if (c->it != NULL && !rocksdb_iter_valid(c->it) && (rc = iter_error(c->it)) != SPATE_OK)
        return rc;

    if (!it->q.include_static) return SPATE_OK;
    rowbuf_t *rb = &it->srow;
    if ((rc = append_kind(&rb->pos, p, plen, SPATE_CQL_KIND_STATIC_CELL)) != SPATE_OK) return rc;
    rb->plen = plen;
    if (!static_allowed(it, &rb->pos)) return SPATE_OK;
    cur_seek_fwd(&it->stat, rb->pos.data, rb->pos.len);
    if ((rc = gather(it, rb, &it->stat, false, true, true)) != SPATE_OK) return rc;
    if (rb->nraw == 0) return SPATE_OK;
    bool live;
    if ((rc = finalize(it, rb, true, &live)) != SPATE_OK) return rc;
    it->static_pending = live;
    return SPATE_OK;
}

static spate_status_t yield(spate_cql_store_iter_t *it, rowbuf_t *rb,
                            const spate_cql_store_row_t **row) {
    spate_status_t rc = buf_set(&it->lastpos, rb->pos.data, rb->pos.len);
    if (rc != SPATE_OK) return rc;
    it->has_last = true;
    *row = &rb->row;
    return SPATE_OK;
}

static spate_status_t iter_next(spate_cql_store_iter_t *it, const spate_cql_store_row_t **row) {
    spate_status_t rc;
    if (it->single && !it->ctx_loaded) {
        it->ctx_loaded = true;
        if ((rc = ctx_load(it, it->part.data, it->part.len)) != SPATE_OK) return rc;
    }
    for (;;) {
        if (it->static_pending) {
            it->static_pending = false;
            return yield(it, &it->srow, row);
        }
        cur_t *m = &it->main;
        if (!cur_valid(m)) {
            if (m->it != NULL && (rc = iter_error(m->it)) != SPATE_OK) return rc;
            it->done = true;
            return SPATE_ENOENT;
        }
        size_t kn;
        const char *k = rocksdb_iter_key(m->it, &kn);
        rowbuf_t *rb = &it->rrow;
        spate_cql_key_free(&rb->key);
        if (spate_cql_key_decode(it->s, k, kn, &rb->key) != SPATE_OK) return SPATE_EINVAL;
        const spate_cql_key_t *key = &rb->key;
        size_t plen;
        if (key->kind == SPATE_CQL_KIND_STATIC_CELL)
            plen = kn - 3 - (key->has_elem ? (size_t)key->elem.len : 0);
        else if (key->kind == SPATE_CQL_KIND_ROW_MARKER || key->kind == SPATE_CQL_KIND_CELL)
            plen = (size_t)(key->clustering.p - k);
        else
            return SPATE_EINVAL; /* not a kind of this family */
        if (!it->single && (!it->has_part || keycmp(k, plen, it->part.data, it->part.len) != 0)) {
            if ((rc = ctx_load(it, k, plen)) != SPATE_OK) return rc;
            continue; /* the static row first; this key is decoded again */
        }
        if (key->kind == SPATE_CQL_KIND_STATIC_CELL) {
            /* statics are read by the stat cursor: skip them here */
            rc = append_kind(&it->scratch, k, plen,
                             it->q.reverse ? SPATE_CQL_KIND_STATIC_CELL
                                           : SPATE_CQL_KIND_STATIC_CELL + 1);
            if (rc != SPATE_OK) return rc;
            if (it->q.reverse)
                rocksdb_iter_seek_for_prev(m->it, it->scratch.data, it->scratch.len);
            else
                rocksdb_iter_seek(m->it, it->scratch.data, it->scratch.len);
            continue;
        }
        rb->plen = plen;
        if ((rc = buf_set(&rb->pos, k, plen + (size_t)key->clustering.len)) != SPATE_OK) return rc;
        if ((rc = gather(it, rb, m, it->q.reverse, false, false)) != SPATE_OK) return rc;
        bool live;
        if ((rc = finalize(it, rb, false, &live)) != SPATE_OK) return rc;
        if (live) return yield(it, rb, row);
    }
}

spate_status_t spate_cql_store_iter_next(spate_cql_store_iter_t *it,
                                         const spate_cql_store_row_t **row) {
    *row = NULL;
    if (it->failed != SPATE_OK) return it->failed;
    if (it->done) return SPATE_ENOENT;
    return fail(it, iter_next(it, row));
}

spate_status_t spate_cql_store_iter_position(const spate_cql_store_iter_t *it, spate_buf_t *out) {
    if (!it->has_last) return SPATE_EINVAL;
    return spate_buf_append(out, it->lastpos.data, it->lastpos.len);
}

spate_status_t spate_cql_store_position(spate_buf_t *out, const spate_cql_key_schema_t *s,
                                        const spate_slice_t *pk, const spate_slice_t *ck) {
    if (!table_ok(s) || pk == NULL) return SPATE_EINVAL;
    spate_status_t rc = spate_cql_key_partition(out, s, pk, NULL);
    if (rc == SPATE_OK && ck != NULL) rc = spate_cql_key_clustering(out, s, ck, s->nck);
    return rc;
}

spate_status_t spate_cql_store_count(spate_cql_store_t *st, const spate_cql_store_query_t *q,
                                     uint64_t limit, uint64_t *count) {
    spate_cql_store_iter_t *it;
    *count = 0;
    spate_status_t rc = spate_cql_store_iter_open(st, q, &it);
    if (rc != SPATE_OK) return rc;
    spate_buf_t sp = SPATE_BUF_INIT; /* P of a static row not yet followed by a row */
    bool static_open = false;
    uint64_t n = 0;
    const spate_cql_store_row_t *row;
    while ((limit == 0 || n < limit) && (rc = spate_cql_store_iter_next(it, &row)) == SPATE_OK) {
        if (static_open &&
            (row->is_static || keycmp(sp.data, sp.len, it->part.data, it->part.len) != 0)) {
            n++; /* the previous partition had only its static row */
            if (limit != 0 && n >= limit) break;
        }
        static_open = row->is_static;
        if (row->is_static)
            rc = buf_set(&sp, it->part.data, it->part.len);
        else
            n++;
        if (rc != SPATE_OK) break;
    }
    if (rc == SPATE_ENOENT) {
        rc = SPATE_OK;
        if (static_open && (limit == 0 || n < limit)) n++;
    }
    spate_buf_free(&sp);
    spate_cql_store_iter_free(it);
    *count = n;
    return rc;
}

/* ------------------------------------------------------------------ */
/* Tables and the meta namespace                                       */
/* ------------------------------------------------------------------ */

static spate_status_t delete_table(spate_cql_store_t *st, uint32_t table_id, bool drop) {
    if (table_id >= SPATE_CQL_STORE_META_TABLE) return SPATE_EINVAL;
    spate_status_t trc = turn_write(st); /* the range deletes what was applied before */
    if (trc != SPATE_OK) return trc;
    uint8_t lo[4], hi[4];
    put_be32(lo, table_id);
    put_be32(hi, table_id + 1);
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    for (int i = CF_CELLS; i < NCF; i++)
        rocksdb_writebatch_delete_range_cf(wb, st->cf[i], (const char *)lo, 4, (const char *)hi, 4);
    char *err = NULL;
    rocksdb_write(st->db, st->wo_sync, wb, &err);
    rocksdb_writebatch_destroy(wb);
    spate_status_t rc = rocks_status(err, drop ? "drop" : "truncate");
    if (rc != SPATE_OK || !drop) return rc;
    for (int i = CF_CELLS; i < NCF; i++) {
        /* a hint only: compaction reclaims the space sooner */
        rocksdb_suggest_compact_range_cf(st->db, st->cf[i], (const char *)lo, 4, (const char *)hi,
                                         4, &err);
        if (err != NULL) {
            spate_log(SPATE_LOG_DEBUG, LOGC, "drop: compaction hint: %s", err);
            rocksdb_free(err);
            err = NULL;
        }
    }
    return SPATE_OK;
}

spate_status_t spate_cql_store_truncate(spate_cql_store_t *st, uint32_t table_id) {
    return delete_table(st, table_id, false);
}

spate_status_t spate_cql_store_drop(spate_cql_store_t *st, uint32_t table_id) {
    return delete_table(st, table_id, true);
}

static spate_status_t meta_key(spate_buf_t *k, const void *name, size_t nlen) {
    if (name == NULL && nlen > 0) return SPATE_EINVAL;
    spate_status_t rc = spate_wr_u32(k, SPATE_CQL_STORE_META_TABLE);
    return rc == SPATE_OK && nlen > 0 ? spate_buf_append(k, name, nlen) : rc;
}

spate_status_t spate_cql_store_meta_put(spate_cql_store_t *st, const void *name, size_t nlen,
                                        const void *val, size_t vlen) {
    spate_buf_t k = SPATE_BUF_INIT;
    spate_status_t rc = turn_write(st); /* not durable ahead of earlier writes */
    if (rc == SPATE_OK) rc = meta_key(&k, name, nlen);
    if (rc == SPATE_OK && val == NULL && vlen > 0) rc = SPATE_EINVAL;
    if (rc == SPATE_OK) {
        char *err = NULL;
        rocksdb_put_cf(st->db, st->wo_sync, st->cf[CF_DEFAULT], k.data, k.len,
                       vlen ? (const char *)val : "", vlen, &err);
        rc = rocks_status(err, "meta put");
    }
    spate_buf_free(&k);
    return rc;
}

spate_status_t spate_cql_store_meta_get(spate_cql_store_t *st, const void *name, size_t nlen,
                                        spate_buf_t *out) {
    spate_buf_t k = SPATE_BUF_INIT;
    spate_status_t rc = meta_key(&k, name, nlen);
    if (rc == SPATE_OK) {
        char *err = NULL;
        size_t vn = 0;
        char *v = rocksdb_get_cf(st->db, st->ro, st->cf[CF_DEFAULT], k.data, k.len, &vn, &err);
        rc = rocks_status(err, "meta get");
        if (rc == SPATE_OK) rc = v == NULL ? SPATE_ENOENT : spate_buf_append(out, v, vn);
        rocksdb_free(v);
    }
    spate_buf_free(&k);
    return rc;
}

spate_status_t spate_cql_store_meta_delete(spate_cql_store_t *st, const void *name, size_t nlen) {
    spate_buf_t k = SPATE_BUF_INIT;
    spate_status_t rc = turn_write(st); /* not durable ahead of earlier writes */
    if (rc == SPATE_OK) rc = meta_key(&k, name, nlen);
    if (rc == SPATE_OK) {
        char *err = NULL;
        rocksdb_delete_cf(st->db, st->wo_sync, st->cf[CF_DEFAULT], k.data, k.len, &err);
        rc = rocks_status(err, "meta delete");
    }
    spate_buf_free(&k);
    return rc;
}

spate_status_t spate_cql_store_meta_list(spate_cql_store_t *st, const void *prefix, size_t plen,
                                         spate_status_t (*fn)(void *ctx, spate_slice_t name,
                                                              spate_slice_t val),
                                         void *ctx) {
    spate_buf_t lo = SPATE_BUF_INIT, hi = SPATE_BUF_INIT;
    spate_status_t rc = meta_key(&lo, prefix, plen);
    if (rc == SPATE_OK) rc = spate_cql_key_prefix_end(&hi, lo.data, lo.len);
    if (rc != SPATE_OK) {
        spate_buf_free(&lo);
        spate_buf_free(&hi);
        return rc;
    }
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    rocksdb_readoptions_set_iterate_upper_bound(ro, hi.data, hi.len);
    rocksdb_iterator_t *ri = rocksdb_create_iterator_cf(st->db, ro, st->cf[CF_DEFAULT]);
    for (rocksdb_iter_seek(ri, lo.data, lo.len); rc == SPATE_OK && rocksdb_iter_valid(ri);
         rocksdb_iter_next(ri)) {
        size_t kn, vn;
        const char *k = rocksdb_iter_key(ri, &kn);
        const char *v = rocksdb_iter_value(ri, &vn);
        if (kn < 4 || kn - 4 > INT32_MAX || vn > INT32_MAX) {
            rc = SPATE_EINVAL;
            break;
        }
        rc = fn(ctx, (spate_slice_t){k + 4, (int32_t)(kn - 4)},
                (spate_slice_t){vn ? v : "", (int32_t)vn});
    }
    if (rc == SPATE_OK) rc = iter_error(ri);
    rocksdb_iter_destroy(ri);
    rocksdb_readoptions_destroy(ro);
    spate_buf_free(&lo);
    spate_buf_free(&hi);
    return rc;
}
