/*
 * cql_store.h — private to src/cql: the storage engine of `spate cql`.
 * Tables live in one RocksDB database (the C API, librocksdb 7.8), keyed and
 * valued as cql_key.h defines; this module adds the write path (mutations
 * merged without read-before-write), the read path (live rows of a
 * partition or a whole table, Cassandra's deletion and TTL rules applied),
 * durability (Cassandra's commitlog_sync modes on RocksDB's WAL), table
 * truncation and a small named-blob namespace.
 *
 * ---- Column families --------------------------------------------------
 *
 *   name        holds (cql_key kinds)                 merge operator
 *   cells       STATIC_CELL, ROW_MARKER, CELL         spate_cql_cell_reconcile;
 *               (ROW_MARKER: a cell or a row value)   row values entry by entry
 *   deletions   PARTITION_DELETION, ROW_DELETION      the superseding deletion
 *   ranges      RANGE_TOMBSTONE                       the set of tombstones no
 *                                                     other one covers (below)
 *   default     the meta namespace (Put / Delete)     none
 *
 * Every write of table data is a Merge: the operator keeps the winner by
 * Cassandra's rules, so the result never depends on the order writes
 * arrive in and nothing is read before a write. The kinds are split over
 * column families because an operator sees only the key and the values,
 * and without the table's schema a key does not say which of cql_key's
 * value formats it holds (a deletion is 12 raw bytes; a live cell with a
 * 3-byte value is 12 bytes too). Keys keep cql_key's layout in every
 * family, so one partition's data sorts the same way in each; a read walks
 * `cells` and looks deletions and range tombstones up beside it.
 *
 * ---- Row units (cql_key's row value) -----------------------------------
 *
 * A mutation gathers the marker and plain cells (not collection elements)
 * it writes to one row, in a run of calls on that row, and writes them as
 * ONE Merge: alone, under the key it stands for (R | 11 or R | 12 | col);
 * two or more, as a row value under R | 11. An INSERT of ten columns is
 * then one memtable entry and a point read finds the row under one key.
 * Same column twice in a run: the reconcile winner is kept. The operator
 * merges row values (and a plain marker cell) per (kind, column); a read
 * reconciles a row value's entries with the row's separate cell keys
 * (UPDATEs of single columns, data written before row units), so either
 * layout means the same. spate_cql_mutation_count counts the pending
 * unit as one write and _bytes its WriteBatch size in the classic row
 * form (exact for that form, an upper bound when it will be written in
 * the shared one, cql_key.h).
 *
 * ---- Partition prefix --------------------------------------------------
 *
 * The three table families have a fixed 12-byte prefix extractor (table
 * id + token, the start of every key of a partition): SST files carry
 * prefix bloom filters (`deletions` also whole-key ones, for the Get of a
 * partition deletion) and memtables a prefix bloom, so a forward read of
 * one partition seeks in prefix mode (prefix_same_as_start) and skips the
 * files and memtables that lack its partition. Scans and reverse reads
 * seek in total order. Two partitions of one token share a prefix: the
 * filter only narrows, the iterator bounds decide.
 *
 * ---- Range tombstone values (the `ranges` family) ----------------------
 *
 * Several tombstones can share a start bound (DELETE ... WHERE c < 5 and
 * ... WHERE c < 3 both start before every row), and so one key. Keeping
 * only the newest would lose the older one's longer range, so the value is
 * a set of cql_key range tombstone values:
 *
 *   repeated:  u32 BE n | n bytes: deletion (12) | end bound
 *
 * sorted by end bound (memcmp, which orders bounds: their bound bytes 0x08
 * and 0xF8 never collide with component headers), with no entry covered by
 * another one, i.e. one with an end at least as far and a deletion that
 * supersedes or equals it. That set is the same whatever the merge order.
 *
 * ---- Durability -------------------------------------------------------
 *
 * An applied mutation joins the turn: the serialized WriteBatch of every
 * mutation applied since the last write of it. The turn is written to
 * RocksDB as ONE WriteBatch (one pass through its write path, one WAL
 * record, atomic; then the hot keys it queued are folded) before any
 * table read (iter_open, count) and any other write (truncate, drop,
 * meta put / delete: nothing is durable ahead of what was applied before
 * it), by flush, compact, flush_wal and sync, and by an apply that finds
 * it past 4 MiB — which, when that write fails, refuses its own mutation
 * (EIO), so the turn stays bounded. RocksDB keeps the WAL record in its buffer
 * (manual_wal_flush); the owner calls spate_cql_store_flush_wal() once per
 * event-loop turn, before it acknowledges that turn's writes: the turn's
 * WriteBatch and one write(2) for all of it, after which it survives a
 * crash of the process. A failure there (logged) leaves the turn for the
 * next call, and the owner keeps the answers until one succeeds. They are fsynced as
 * Cassandra's commitlog_sync says:
 *
 *   PERIODIC  a write is fsynced at most period_ms (default 10000) after
 *             it was applied: the owner calls spate_cql_store_tick() from a
 *             timer, spate_cql_store_sync_due() says when
 *   BATCH     the owner calls spate_cql_store_sync() once per event-loop
 *             turn, before acknowledging that turn's writes: one fsync
 *             covers every write of the turn (group commit)
 *
 * The sync is rocksdb_flush_wal(db, 1). Measured with strace on this
 * RocksDB (7.8.3): it issues exactly one fdatasync of the WAL; a synced
 * empty WriteBatch also fdatasyncs but first appends an empty record to
 * the WAL (one more write(2) per sync), so flush_wal is used. No thread is
 * started here; RocksDB runs its own flush/compaction threads.
 *
 * ---- Footprint --------------------------------------------------------
 *
 * Tuned small: one 8 MiB LRU block cache of data blocks shared by all
 * families (index and filter blocks are held by the open SST readers,
 * outside it: they grow with the data, about 2 MiB per million rows of
 * the benchmark's table, but are never evicted and re-read by point
 * reads), 10-bit bloom filters (prefix filters, above), a 16 MiB write
 * buffer for `cells` and 2 MiB for the others (two each, all memtables
 * capped at 48 MiB; memtable prefix blooms take 2% of that), WAL at most
 * 64 MiB before old memtables are flushed, 256 open files, 2 background
 * jobs, L0 compacted at 8 files (random tokens make every L0 compaction
 * rewrite most of the next level: fewer, larger ones), SST files synced
 * every MiB as they are written (bytes_per_sync: a batch-mode WAL
 * fdatasync then does not wait behind a flush's dirty pages), no
 * compression on L0 and L1 (young data, read most and rewritten soon) and
 * LZ4 below, dynamic level sizes, RocksDB's LOG at WARN in at most 3 files
 * of 1 MiB, the turn (about 4 MiB at most, copied once more into the
 * WriteBatch when written). The conf can change the cache and the cells
 * write buffer. A key written 64 times is folded (read back merged and
 * written as one value; a table of 16384 counters tells, so a hot key
 * sharing its counter with busy others may wait for the memtable flush,
 * which folds too), so a hot cell or row never costs an unbounded merge on
 * read.
 *
 * ---- Reads ------------------------------------------------------------
 *
 * An iterator yields live rows of one partition (optionally a clustering
 * slice, forward or reverse) or of a whole table in token order (forward,
 * resumable after a position, optionally within a token range). Applied:
 * the partition deletion, range tombstones (a row inside one), row
 * deletions, collection tombstones (elements at or below their timestamp)
 * and expiry at the caller's `now`. A row exists if its marker or any of
 * its cells is live (Cassandra's rule). Each partition's static row, when
 * asked for and live, comes first, before its regular rows, in both
 * directions; Cassandra's "a partition with only static values is one row"
 * is the caller's to apply (spate_cql_store_count does apply it).
 *
 * Not done: tombstones and expired cells are never purged (no gc_grace
 * compaction filter). A range tombstone's bounds on a decimal clustering
 * column keep their scale (cql_key's bounds have no scale-free form, which
 * its slices use): DELETE ... WHERE c >= 1.0 misses a row stored as 1,
 * which sorts just before 1.0.
 *
 * Threads: a store, its mutations and iterators are used by one thread.
 * Stored bytes are checked when read: anything malformed is EINVAL from
 * the call that met it, and merge operators skip malformed operands.
 */
#ifndef SPATE_CQL_STORE_H
#define SPATE_CQL_STORE_H

#include "cql_key.h"

#define SPATE_CQL_STORE_META_TABLE 0xFFFFFFFEU /* reserved: the meta namespace */
#define SPATE_CQL_STORE_MAX_TTL 630720000      /* 20 years, as Cassandra */

#define SPATE_CQL_STORE_CF_CELLS "cells"
#define SPATE_CQL_STORE_CF_DELETIONS "deletions"
#define SPATE_CQL_STORE_CF_RANGES "ranges"

typedef struct spate_cql_store spate_cql_store_t;

typedef enum {
    SPATE_CQL_STORE_SYNC_PERIODIC = 0,
    SPATE_CQL_STORE_SYNC_BATCH = 1,
} spate_cql_store_sync_mode_t;

/* Zero fields take the defaults. */
typedef struct {
    spate_cql_store_sync_mode_t sync_mode; /* default PERIODIC */
    int64_t period_ms;                     /* PERIODIC: default 10000 */
    size_t block_cache_bytes;              /* default 8 MiB */
    size_t write_buffer_bytes;             /* the cells family's; default 16 MiB */
} spate_cql_store_conf_t;

/* Opens (creating it if missing) the store in directory dir; conf may be
 * NULL. On failure returns SPATE_EIO (or EINVAL for a bad conf) with a
 * message in err[0..errlen) naming the directory and RocksDB's reason (a
 * locked directory: "... lock ...", a damaged one: "Corruption: ..."),
 * and *out is NULL. The store is freed by spate_cql_store_close. */
spate_status_t spate_cql_store_open(const char *dir, const spate_cql_store_conf_t *conf,
                                    spate_cql_store_t **out, char *err, size_t errlen);
/* Syncs the WAL if anything is unsynced, closes and frees. Every mutation
 * and iterator of the store must be freed before. NULL is a no-op. */
void spate_cql_store_close(spate_cql_store_t *st);

/* ------------------------------------------------------------------ */
/* Durability                                                          */
/* ------------------------------------------------------------------ */

/* Writes the turn into RocksDB and hands the WAL records of the
 * mutations applied since the last call to the OS (one write(2); no
 * system call when there are none): after it, an applied mutation
 * survives a crash of the process. EIO (logged) when RocksDB fails; the
 * turn or the records then stay and the next call retries (a failing
 * turn also fails table reads, truncate, drop, flush and compact).
 * Acknowledge a write only after this (or a sync) succeeded. */
spate_status_t spate_cql_store_flush_wal(spate_cql_store_t *st);
/* Whether an applied mutation awaits spate_cql_store_flush_wal. */
bool spate_cql_store_unflushed(const spate_cql_store_t *st);
/* Writes and fsyncs the WAL when a mutation was applied since the last
 * sync (else returns at once, no system call). EIO (logged) when RocksDB
 * fails; the writes then stay unsynced and the next call retries. */
spate_status_t spate_cql_store_sync(spate_cql_store_t *st);
/* Milliseconds until a sync is due at now_ms (spate_mono_ms()): -1 when
 * nothing is unsynced, 0 when due now (BATCH: whenever anything is). */
int64_t spate_cql_store_sync_due(const spate_cql_store_t *st, int64_t now_ms);
/* Syncs if spate_cql_store_sync_due says 0. */
spate_status_t spate_cql_store_tick(spate_cql_store_t *st, int64_t now_ms);

/* The sync in three steps, so that the fsync can run on a thread of the
 * owner's while the owner goes on applying (the server's batch mode):
 *
 *   sync_begin  owner: writes the turn and the WAL buffer (flush_wal);
 *               *gen names the writes applied so far, which the fsync
 *               below covers. EIO (logged) as flush_wal.
 *   sync_wal    any thread, one at a time: RocksDB's FlushWAL(sync): the
 *               WAL buffer's bytes, then one fdatasync. Safe beside the
 *               owner's applies and flushes (RocksDB locks its log writer;
 *               MyRocks syncs this way). EIO (logged) on failure.
 *   sync_end    owner: the sync of gen ended (ok or not); the store is
 *               synced when ok and nothing was applied after gen. */
spate_status_t spate_cql_store_sync_begin(spate_cql_store_t *st, uint64_t *gen);
spate_status_t spate_cql_store_sync_wal(spate_cql_store_t *st);
void spate_cql_store_sync_end(spate_cql_store_t *st, uint64_t gen, bool ok);

typedef struct {
    uint64_t applies;     /* mutations applied */
    uint64_t turn_writes; /* WriteBatches written: one per turn (see Durability) */
    uint64_t wal_writes;  /* WAL buffer flushes without fsync */
    uint64_t syncs;       /* WAL fsyncs issued */
    uint64_t folds;       /* hot keys folded into one value */
} spate_cql_store_stats_t;
void spate_cql_store_stats(const spate_cql_store_t *st, spate_cql_store_stats_t *out);

/* Flushes every memtable to SST files / compacts all data (blocking; for
 * tests and maintenance). EIO with a log line on failure. */
spate_status_t spate_cql_store_flush(spate_cql_store_t *st);
spate_status_t spate_cql_store_compact(spate_cql_store_t *st);

/* ------------------------------------------------------------------ */
/* Writes                                                              */
/* ------------------------------------------------------------------ */

/* A mutation accumulates writes into one RocksDB WriteBatch, applied
 * atomically. Usage, one INSERT:
 *
 *   spate_cql_mutation_time(m, ts, ttl, now);
 *   spate_cql_mutation_row(m, schema, pk, ck);
 *   spate_cql_mutation_marker(m);
 *   spate_cql_mutation_cell(m, 3, value);   ...
 *   spate_cql_store_apply(st, m);
 *
 * Calls after a failed one keep working (the failed write is not in the
 * batch). The schema given to _partition / _row is borrowed until the
 * next of those calls or _clear. Values are CQL serialized bytes; a
 * value with p == NULL writes a tombstone cell. */
typedef struct spate_cql_mutation spate_cql_mutation_t;

/* A new empty mutation for st (which it borrows); never NULL. Freed by
 * spate_cql_mutation_free. */
spate_cql_mutation_t *spate_cql_mutation_new(spate_cql_store_t *st);
void spate_cql_mutation_free(spate_cql_mutation_t *m);
/* Empties the batch and forgets the current partition, row and time. */
void spate_cql_mutation_clear(spate_cql_mutation_t *m);
/* Writes in the batch, and its size in bytes (for max_mutation_size). */
size_t spate_cql_mutation_count(const spate_cql_mutation_t *m);
size_t spate_cql_mutation_bytes(const spate_cql_mutation_t *m);

/* The time of the following writes: timestamp in µs (any but INT64_MIN),
 * ttl in seconds (0: none; cells and markers then expire at now + ttl),
 * now in seconds since the epoch (local deletion times). ERANGE for a ttl
 * outside 0..SPATE_CQL_STORE_MAX_TTL, a negative now, or an expiry past
 * 2038-01-19 (Cassandra's REJECT policy); EINVAL for INT64_MIN. */
spate_status_t spate_cql_mutation_time(spate_cql_mutation_t *m, int64_t timestamp, int32_t ttl,
                                       int64_t now);
/* Targets partition pk (npk values) of table s: partition deletions,
 * range tombstones and static cells. EINVAL for a reserved table id or a
 * bad key (as spate_cql_key_partition). */
spate_status_t spate_cql_mutation_partition(spate_cql_mutation_t *m,
                                            const spate_cql_key_schema_t *s,
                                            const spate_slice_t *pk);
/* Targets row (pk, ck: nck values) and its partition. */
spate_status_t spate_cql_mutation_row(spate_cql_mutation_t *m, const spate_cql_key_schema_t *s,
                                      const spate_slice_t *pk, const spate_slice_t *ck);

/* Row-level writes (need _row and _time; EINVAL otherwise). */
spate_status_t spate_cql_mutation_marker(spate_cql_mutation_t *m); /* INSERT's row marker */
spate_status_t spate_cql_mutation_cell(spate_cql_mutation_t *m, uint16_t column,
                                       spate_slice_t value);
/* A collection element: set element / map key (elem of type elem_type),
 * or a list element (elem a version-1 timeuuid, elem_type timeuuid).
 * value: the element's value (empty for a set), or p == NULL to remove it. */
spate_status_t spate_cql_mutation_elem(spate_cql_mutation_t *m, uint16_t column,
                                       const spate_cql_ktype_t *elem_type, spate_slice_t elem,
                                       spate_slice_t value);
/* Deletes a non-frozen collection: every element written at or before the
 * timestamp. for_overwrite uses timestamp - 1, as Cassandra does for
 * `SET c = {...}` so that the new elements (at timestamp) survive. */
spate_status_t spate_cql_mutation_collection_delete(spate_cql_mutation_t *m, uint16_t column,
                                                    bool for_overwrite);
spate_status_t spate_cql_mutation_row_delete(spate_cql_mutation_t *m);

/* Partition-level writes (need _partition or _row, and _time). */
spate_status_t spate_cql_mutation_static_cell(spate_cql_mutation_t *m, uint16_t column,
                                              spate_slice_t value);
spate_status_t spate_cql_mutation_static_elem(spate_cql_mutation_t *m, uint16_t column,
                                              const spate_cql_ktype_t *elem_type,
                                              spate_slice_t elem, spate_slice_t value);
spate_status_t spate_cql_mutation_static_collection_delete(spate_cql_mutation_t *m, uint16_t column,
                                                           bool for_overwrite);
spate_status_t spate_cql_mutation_partition_delete(spate_cql_mutation_t *m);
/* Deletes the rows whose first neq clustering columns equal ck[0..neq)
 * and whose column neq satisfies start / end (NULL: unbounded), the
 * arguments of spate_cql_key_slice (DESC columns handled). neq == nck
 * (with no start / end) is a row deletion. */
spate_status_t spate_cql_mutation_range_delete(spate_cql_mutation_t *m, const spate_slice_t *ck,
                                               uint16_t neq, const spate_cql_kslice_t *start,
                                               const spate_cql_kslice_t *end);

/* Applies the batch: it joins the turn (see Durability), atomically with
 * the rest of the turn; every later table read sees it. The mutation is
 * left as it was (clear it to reuse it). EINVAL for a mutation of another
 * store or one whose pending row does not encode, ERANGE for a value too
 * long, ENOMEM, EIO when the turn is full and cannot be written; other
 * RocksDB failures surface in flush_wal / sync. */
spate_status_t spate_cql_store_apply(spate_cql_store_t *st, spate_cql_mutation_t *m);

/* ------------------------------------------------------------------ */
/* Reads                                                               */
/* ------------------------------------------------------------------ */

/* A live cell. Every pointer is borrowed from the iterator until its next
 * call or free. */
typedef struct {
    uint16_t column;
    bool has_elem;          /* an element of a non-frozen collection */
    spate_slice_t elem_key; /* the element's order-preserving encoding */
    spate_slice_t elem;     /* the element (set element, map key, list
                               timeuuid) decoded as the query's elem_types
                               say; p == NULL when the type was not given */
    spate_slice_t value;    /* serialized; empty for a set element */
    int64_t writetime;      /* µs */
    int32_t ttl;            /* seconds left; 0 when it does not expire */
} spate_cql_store_cell_t;

/* A live row. Borrowed from the iterator like its cells. */
typedef struct {
    bool is_static; /* the partition's static row: nck == 0 */
    int64_t token;
    uint16_t npk;
    const spate_slice_t *pk; /* serialized partition key values */
    uint16_t nck;
    const spate_slice_t *ck; /* serialized clustering values */
    bool has_marker;         /* a live row marker (INSERT) */
    int64_t marker_writetime;
    int32_t marker_ttl;
    size_t ncells;
    const spate_cql_store_cell_t *cells; /* by column id, elements in
                                            their order */
} spate_cql_store_row_t;

typedef struct {
    const spate_cql_key_schema_t *schema; /* borrowed for the iterator's life */
    int64_t now;                          /* seconds: expiry */
    bool include_static;                  /* yield each partition's static row */

    /* One partition when pk != NULL (npk values), restricted like
     * spate_cql_key_slice (ck, neq, start, end; all zero: every row). */
    const spate_slice_t *pk;
    const spate_slice_t *ck;
    uint16_t neq;
    const spate_cql_kslice_t *start, *end;
    bool reverse; /* partition reads only */

    /* Table scans (pk == NULL), in token order: tokens within
     * [token_start, token_end] when the has_ flags are set. */
    bool has_token_start, has_token_end;
    int64_t token_start, token_end;

    /* Resume strictly after this position (spate_cql_store_iter_position
     * or spate_cql_store_position; p == NULL: from the start). Any bytes
     * are safe: they only move where the read starts. */
    spate_slice_t after;

    /* Optional: elem_types[column] is the element type of a non-frozen
     * collection column (set: its element type, map: its key type, list:
     * timeuuid), used to decode cells' elem; borrowed. */
    const spate_cql_ktype_t *const *elem_types;
    uint16_t nelem_types;
} spate_cql_store_query_t;

typedef struct spate_cql_store_iter spate_cql_store_iter_t;

/* Opens an iterator over a snapshot of the store taken now (later writes
 * are not seen). q is copied; what it points to is borrowed for the
 * iterator's life. EINVAL for a bad query (reserved table id, bad key,
 * `after` of another table, reverse or a clustering restriction on a
 * scan). Freed by
 * spate_cql_store_iter_free, before the store is closed. */
spate_status_t spate_cql_store_iter_open(spate_cql_store_t *st, const spate_cql_store_query_t *q,
                                         spate_cql_store_iter_t **out);
/* The next live row: SPATE_OK with *row set (borrowed until the next call
 * or free), SPATE_ENOENT at the end, EINVAL when stored bytes are
 * malformed, EIO when RocksDB fails (then every later call fails too). */
spate_status_t spate_cql_store_iter_next(spate_cql_store_iter_t *it,
                                         const spate_cql_store_row_t **row);
/* Appends the position of the last row returned (for paging; opaque
 * bytes that sort with the keys). EINVAL before the first row. */
spate_status_t spate_cql_store_iter_position(const spate_cql_store_iter_t *it, spate_buf_t *out);
void spate_cql_store_iter_free(spate_cql_store_iter_t *it);

/* The position after row (pk, ck) of table s, or after all of partition
 * pk when ck is NULL; appended to out. */
spate_status_t spate_cql_store_position(spate_buf_t *out, const spate_cql_key_schema_t *s,
                                        const spate_slice_t *pk, const spate_slice_t *ck);

/* Counts the rows SELECT * with q would return: live regular rows, and
 * (with include_static) a partition's live static row when none of its
 * regular rows is returned, which is Cassandra's rule for queries that do
 * not restrict clustering columns (the caller sets include_static
 * accordingly). Stops at limit (0: no limit). */
spate_status_t spate_cql_store_count(spate_cql_store_t *st, const spate_cql_store_query_t *q,
                                     uint64_t limit, uint64_t *count);

/* ------------------------------------------------------------------ */
/* Tables and the meta namespace                                       */
/* ------------------------------------------------------------------ */

/* Remove every key of table_id (DeleteRange in each family), synced.
 * Later writes with any timestamp are visible (TRUNCATE semantics). drop
 * also asks RocksDB to compact the range away. EINVAL for a reserved id. */
spate_status_t spate_cql_store_truncate(spate_cql_store_t *st, uint32_t table_id);
spate_status_t spate_cql_store_drop(spate_cql_store_t *st, uint32_t table_id);

/* Named blobs under table id SPATE_CQL_STORE_META_TABLE. Writes are synced
 * before returning. get appends the value to out; ENOENT when absent.
 * delete of an absent name is OK. */
spate_status_t spate_cql_store_meta_put(spate_cql_store_t *st, const void *name, size_t nlen,
                                        const void *val, size_t vlen);
spate_status_t spate_cql_store_meta_get(spate_cql_store_t *st, const void *name, size_t nlen,
                                        spate_buf_t *out);
spate_status_t spate_cql_store_meta_delete(spate_cql_store_t *st, const void *name, size_t nlen);
/* Calls fn for every name starting with prefix, in byte order (the slices
 * are valid during the call); a non-OK return from fn stops and is
 * returned. */
spate_status_t spate_cql_store_meta_list(spate_cql_store_t *st, const void *prefix, size_t plen,
                                         spate_status_t (*fn)(void *ctx, spate_slice_t name,
                                                              spate_slice_t val),
                                         void *ctx);

#endif /* SPATE_CQL_STORE_H */
