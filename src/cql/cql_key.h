/*
 * cql_key.h — private to src/cql: how CQL rows and cells become RocksDB keys
 * and values, and Cassandra's Murmur3Partitioner token. Pure functions: no
 * RocksDB calls, no clock, no I/O.
 *
 *   cql_token.c   MurmurHash3 x64_128 as Cassandra computes it, the
 *                 serialized partition key, the token
 *   cql_key.c     order-preserving value encodings, keys, iterator bounds,
 *                 cell and tombstone values, reconciliation
 *
 * ---- Token ------------------------------------------------------------
 *
 * Murmur3Partitioner: h1 of MurmurHash3 x64_128 (seed 0) over the
 * serialized partition key, with Cassandra's quirk that the 1..15 tail
 * bytes are sign-extended before they are xored in, and INT64_MIN mapped
 * to INT64_MAX. The serialized key is the value itself for one column and
 *
 *   [u16 BE length][bytes][0x00]   per component
 *
 * for a composite key (what drivers hash for token-aware routing).
 *
 * ---- Keys -------------------------------------------------------------
 *
 *   field      size  encoding
 *   table_id   4     u32 BE (0xFFFFFFFF is reserved: every prefix then has
 *                    a successor, see spate_cql_key_prefix_end)
 *   token      8     int64 BE with the sign bit flipped (memcmp = signed)
 *   pk[i]      var   raw serialized bytes, escaped: 00 -> 00 FF, then the
 *                    terminator 00 01 (partitions only need a total order
 *                    after the token, so partition key values are not
 *                    type-encoded)
 *   ck[i]      var   order-preserving value encoding (below); every byte
 *                    inverted for a DESC clustering column
 *   kind       1     what the key holds (table below)
 *   column     2     u16 BE column id (cells)
 *   element    var   cells of non-frozen collections: the order-preserving
 *                    encoding of the set element / map key (element or key
 *                    type), or of the list element's timeuuid (so appends
 *                    order); absent for any other column
 *
 *   P = table_id | token | pk...     (the partition prefix)
 *
 *   kind  name                 key                      value
 *   0x01  PARTITION_DELETION   P | 01                   deletion
 *   0x02  RANGE_TOMBSTONE      P | 02 | start bound     deletion | end bound
 *   0x03  STATIC_CELL          P | 03 | column [| elem] cell
 *   0x10  ROW_DELETION         P | ck... | 10           deletion
 *   0x11  ROW_MARKER           P | ck... | 11           cell, empty value; or a row
 *                                                         value (below)
 *   0x12  CELL                 P | ck... | 12 | column [| elem]   cell
 *
 * So within a partition come, in order: its deletion, all its range
 * tombstones (sorted by start bound: a reader loads [P|02, P|03) before a
 * slice), its static cells, then rows in clustering order, each row as
 * deletion, marker (INSERT's row liveness, so a row whose columns are all
 * null still exists), cells by column id, collection elements in element
 * order. Clustering component headers (0x40/0x41, inverted 0xBF/0xBE) never
 * collide with kinds (< 0x20) or bound bytes (0x08, 0xF8), which is what
 * lets a decoder tell where the clustering ends. For a non-frozen
 * collection column, the key without an element holds the collection's
 * own tombstone (a TOMBSTONE cell: elements at or below its timestamp are
 * deleted) and sorts before the elements.
 *
 * A bound (range tombstones) is a clustering prefix of 0..nck components
 * followed by 0x08 BEFORE (sorts before every row extending the prefix) or
 * 0xF8 AFTER (after all of them): an inclusive start or exclusive end is
 * BEFORE, an exclusive start or inclusive end AFTER. A row is inside the
 * tombstone iff start < row < end, comparing the row's clustering bytes
 * with spate_cql_key_bound_cmp.
 *
 * ---- Order-preserving value encoding ----------------------------------
 *
 * memcmp of two encodings orders them as Cassandra's comparator for the
 * type does. Each value is a header byte and a self-delimiting, prefix-free
 * body, so components concatenate and a shorter clustering prefix sorts
 * before its extensions:
 *
 *   header  0x3E END (closes a frozen collection / tuple)
 *           0x3F NULL (a null tuple or UDT field)
 *           0x40 EMPTY (a zero-length value: Cassandra sorts it first)
 *           0x41 VALUE, followed by the body
 *
 *   type                        body
 *   int bigint smallint tinyint big-endian, sign bit flipped
 *   timestamp                   8 bytes, sign bit flipped (signed order)
 *   date time                   raw bytes (Cassandra compares them unsigned)
 *   boolean                     00 / 01 (any non-zero byte is true, so it
 *                               is canonicalized to 01, as Cassandra compares)
 *   float double                IEEE bits; positive: sign bit flipped,
 *                               negative: all bits inverted. -0.0 < 0.0, NaN
 *                               above +inf, every NaN canonicalized to Java's
 *                               (Double.compare treats all NaNs as equal)
 *   text varchar ascii blob     escaped bytes (00 -> 00 FF) then 00 01
 *   uuid                        16 bytes: v1 time fields reordered
 *                               (hi, mid, low) under the version nibble, any
 *                               other version with its nibble moved to the
 *                               top; then the low 8 bytes (UUIDType: version,
 *                               then v1 time, else bytes, all unsigned)
 *   timeuuid                    16 bytes: reordered time fields, then the
 *                               low 8 bytes each xor 0x80 (TimeUUIDType
 *                               compares them as signed bytes); version 1 only
 *   inet                        first 4 bytes, then 00 (IPv4) or 01 + the
 *                               other 12 bytes (IPv6): plain byte order with
 *                               shorter first, as InetAddressType compares
 *   varint                      7F negative / 80 zero / 81 positive; nonzero:
 *                               u16 BE byte length (inverted when negative),
 *                               then the minimal two's complement bytes
 *                               (non-minimal input is canonicalized)
 *   decimal                     80 zero, else 7F/81, then the decimal exponent
 *                               E (value = 0.d1d2... x 10^E) as int64 with
 *                               the sign bit flipped, the significant digits
 *                               two per byte (0x02 + 0..99, an odd last digit
 *                               padded with 0) and 00 — all that inverted when
 *                               negative; then the scale, int32 sign bit
 *                               flipped. Equal numbers (1.0, 1.00) are adjacent
 *                               and ordered by scale, so the value bytes round
 *                               trip; slice bounds leave the scale out
 *   list set (frozen)           each element as header + body, then END
 *   map (frozen)                key, value, key, value ... then END
 *   tuple, UDT (frozen)         each present field (NULL header for a null
 *                               one), then END
 *
 * Every encoding decodes back to the exact serialized bytes, except the
 * canonicalized forms named above (a boolean byte other than 00/01, a NaN
 * other than Java's, a non-minimal varint, a decimal's non-minimal
 * unscaled integer). Decoders accept exactly what the encoders produce
 * (re-encoding a decoded key gives the same bytes). Counter, duration and
 * custom values cannot be encoded (Cassandra keeps them out of keys).
 *
 * Known deviations from Cassandra's comparators, all on values Cassandra
 * calls equal: 1.0 and 1.00 are distinct keys (adjacent); tuples (1) and
 * (1, null) are distinct (Cassandra ignores trailing nulls); non-canonical
 * booleans, NaNs and varints are canonicalized rather than kept.
 *
 * Cost: linear in the value, except decimals, whose binary <-> decimal
 * conversion is quadratic: about 0.5 s to encode a 64 KiB one (-O2),
 * microseconds for ordinary sizes.
 *
 * ---- Cell value (the RocksDB value of STATIC_CELL, ROW_MARKER, CELL) ---
 *
 *   off size  field
 *   0   1     flags: 0x00 live, 0x01 tombstone, 0x02 expiring
 *   1   8     write timestamp, int64 BE, microseconds
 *   9   4     tombstone: local deletion time; expiring: TTL seconds (> 0)
 *   13  4     expiring: local expiry time (int32 BE seconds since the epoch,
 *             Cassandra's localDeletionTime of an expiring cell)
 *   ..  rest  live / expiring: the value bytes (may be empty); tombstone:
 *             nothing
 *
 * ---- Row value (ROW_MARKER: a row's marker and cells as one value) ----
 *
 * The value under a row marker key R | 11 is either a cell value (the
 * marker alone) or a row value: the row's marker and/or plain cells
 * (columns that are not collection elements; a collection's own
 * tombstone included), so that writing a whole row is one RocksDB entry.
 * Two forms, (kind, column) strictly ascending, at least one entry:
 *
 *   classic (any cells)
 *   0   1     0x10
 *   then per entry:
 *       1     kind: 11 the row marker (empty value) / 12 a cell
 *       2     cells only: column id, u16 BE
 *       4     u32 BE n
 *       n     a cell value (layout above)
 *
 *   shared (every entry live, or every entry expiring with one TTL and
 *   expiry, all at one timestamp: what an INSERT or UPDATE of plain
 *   values writes; a null value (a tombstone) or a non-frozen collection
 *   (its tombstone is a cell at ts - 1) makes the row classic)
 *   0   1     0x11
 *   1   1     the entries' cell flags: 0x00 live / 0x02 expiring
 *   2   8     their write timestamp, int64 BE
 *   10  8     expiring only: TTL, local expiry time (as in a cell value)
 *   then per entry:
 *       1     kind: 11 the row marker / 12 a cell
 *       2     cells only: column id, u16 BE
 *       1-5   cells only: value length n, LEB128 (7 bits per byte, low
 *             first; at most 2^31 - 1)
 *       n     cells only: the value bytes
 *
 * No cell value starts with 0x10 or 0x11 (flags are 00..02). The shared
 * form takes 4 bytes per cell (5 for values of 128 bytes to 16 KiB) and 1
 * per marker where the classic takes 16 and 14, plus a 10-byte header:
 * 124 bytes less for a created_users row (a marker and ten short text
 * cells). An older spate reads a shared value as a broken cell and drops
 * it in a merge: data written by this version must not be opened by an
 * older one.
 * Writers use spate_cql_row_value_encode, which picks the shared form
 * whenever it can; readers take both (data written before the shared form
 * existed is classic).
 *
 * An entry means what the key R | kind [| column] with that cell value
 * means, and it reconciles with such a key by the cell rules: a row value
 * and separate cell keys of the same row may hold the same column, the
 * winner is what the column holds. Merging row values (and a plain
 * marker cell) keeps, per (kind, column), the reconcile winner, so the
 * result does not depend on the order operands arrive in.
 *
 * ---- Deletion value (PARTITION_DELETION, ROW_DELETION, RANGE_TOMBSTONE) -
 *
 *   off size  field
 *   0   8     markedForDeleteAt, int64 BE microseconds: deletes every cell
 *             whose timestamp is <= it
 *   8   4     local deletion time, int32 BE seconds
 *   12  rest  RANGE_TOMBSTONE: the end bound; others: nothing
 *
 * Errors: SPATE_EINVAL for malformed input (wrong fixed length, a null key
 * component, a bad escape, a truncated or over-long key, a token that does
 * not match the partition key, another table's id), SPATE_ERANGE for a
 * value longer than SPATE_CQL_KEY_MAX_VALUE (Cassandra's 64 KiB key limit),
 * SPATE_ENOMEM from the output buffer. Encoders append to `out`; on failure
 * what they appended is unspecified (callers reset the buffer).
 */
#ifndef SPATE_CQL_KEY_H
#define SPATE_CQL_KEY_H

#include "cql.h"

#define SPATE_CQL_KEY_MAX_VALUE 65535 /* bytes in one serialized key component */
#define SPATE_CQL_KEY_MAX_DEPTH 16    /* nesting of frozen types */

/* ------------------------------------------------------------------ */
/* Token                                                               */
/* ------------------------------------------------------------------ */

/* MurmurHash3 x64_128 with seed 0 as Cassandra's MurmurHash.hash3_x64_128
 * computes it (sign-extended tail bytes): out[0] = h1, out[1] = h2. */
void spate_cql_murmur3_128(const void *key, size_t len, int64_t out[2]);

/* Murmur3Partitioner's token of a serialized partition key: h1, with
 * INT64_MIN mapped to INT64_MAX (python3-cassandra's murmur3()). */
int64_t spate_cql_murmur3_token(const void *key, size_t len);

/* Appends the serialized partition key of npk values (the value itself
 * when npk == 1, else the composite form). EINVAL for a null value or
 * npk == 0, ERANGE for a composite component over 65535 bytes. */
spate_status_t spate_cql_partition_key_serialize(spate_buf_t *out, const spate_slice_t *pk,
                                                 size_t npk);

/* The token of a partition key given as values (ENOMEM, EINVAL, ERANGE
 * as above). */
spate_status_t spate_cql_partition_token(const spate_slice_t *pk, size_t npk, int64_t *token);

/* ------------------------------------------------------------------ */
/* Types and schemas                                                   */
/* ------------------------------------------------------------------ */

/* A type tree for key encoding. Children: LIST and SET 1 (element), MAP 2
 * (key, value), TUPLE and UDT n (fields). In a primary key every
 * collection, tuple and UDT is frozen. Borrowed, never freed here. */
typedef struct spate_cql_ktype spate_cql_ktype_t;
struct spate_cql_ktype {
    spate_cql_type_t id;
    uint16_t n;
    const spate_cql_ktype_t *sub;
};

typedef struct {
    const spate_cql_ktype_t *type;
    bool desc; /* clustering columns: CLUSTERING ORDER BY (c DESC) */
} spate_cql_kcol_t;

/* A table's primary key. All pointers are borrowed. */
typedef struct {
    uint32_t table_id; /* < 0xFFFFFFFF */
    uint16_t npk;      /* >= 1 */
    const spate_cql_kcol_t *pk;
    uint16_t nck;
    const spate_cql_kcol_t *ck;
} spate_cql_key_schema_t;

typedef enum {
    SPATE_CQL_KIND_PARTITION_DELETION = 0x01,
    SPATE_CQL_KIND_RANGE_TOMBSTONE = 0x02,
    SPATE_CQL_KIND_STATIC_CELL = 0x03,
    SPATE_CQL_KIND_ROW_DELETION = 0x10,
    SPATE_CQL_KIND_ROW_MARKER = 0x11,
    SPATE_CQL_KIND_CELL = 0x12,
} spate_cql_key_kind_t;

typedef enum {
    SPATE_CQL_BOUND_BEFORE = 0x08, /* inclusive start, exclusive end */
    SPATE_CQL_BOUND_AFTER = 0xF8,  /* exclusive start, inclusive end */
} spate_cql_bound_t;

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

/* Appends the order-preserving encoding (header + body) of one serialized
 * value of type t, every byte inverted when desc. v.p == NULL (null) is
 * EINVAL; v.len == 0 is the empty value. */
spate_status_t spate_cql_key_value_encode(spate_buf_t *out, const spate_cql_ktype_t *t,
                                          spate_slice_t v, bool desc);

/* Decodes one encoded value at r (inverted when desc) and appends its
 * serialized bytes to out; r advances past it. EINVAL (r unmoved) for
 * anything the encoder would not have produced. */
spate_status_t spate_cql_key_value_decode(spate_rd_t *r, const spate_cql_ktype_t *t, bool desc,
                                          spate_buf_t *out);

/* ------------------------------------------------------------------ */
/* Keys                                                                */
/* ------------------------------------------------------------------ */

/* Appends P = table_id | token | pk... for the npk values pk (the token is
 * computed here; *token receives it when not NULL). A null component, or
 * an empty one in a single-column key ("Key may not be empty"), is EINVAL. */
spate_status_t spate_cql_key_partition(spate_buf_t *out, const spate_cql_key_schema_t *s,
                                       const spate_slice_t *pk, int64_t *token);

/* Appends the encodings of clustering values ck[0..n), n <= nck, each in
 * its column's order. */
spate_status_t spate_cql_key_clustering(spate_buf_t *out, const spate_cql_key_schema_t *s,
                                        const spate_slice_t *ck, uint16_t n);

/* Appends the row prefix P | ck... (all nck values): the key range
 * [row, prefix_end(row)) holds the row's deletion, marker and cells. */
spate_status_t spate_cql_key_row(spate_buf_t *out, const spate_cql_key_schema_t *s,
                                 const spate_slice_t *pk, const spate_slice_t *ck);

/* Appends a kind byte: after P for PARTITION_DELETION (and for 02 / 03 to
 * build the range-tombstone and static areas' bounds), after a row prefix
 * for ROW_DELETION and ROW_MARKER. */
spate_status_t spate_cql_key_put_kind(spate_buf_t *out, spate_cql_key_kind_t kind);

/* Appends a cell suffix: kind (CELL after a row prefix, STATIC_CELL after
 * P), the column id, and, when elem_type is not NULL, the element sub-key
 * (elem encoded as elem_type: a set's element type, a map's key type, or
 * timeuuid for a list element). */
spate_status_t spate_cql_key_put_cell(spate_buf_t *out, spate_cql_key_kind_t kind, uint16_t column,
                                      const spate_cql_ktype_t *elem_type, spate_slice_t elem);

/* Full keys, for convenience: the row marker and a regular cell. */
spate_status_t spate_cql_key_row_marker(spate_buf_t *out, const spate_cql_key_schema_t *s,
                                        const spate_slice_t *pk, const spate_slice_t *ck);
spate_status_t spate_cql_key_cell(spate_buf_t *out, const spate_cql_key_schema_t *s,
                                  const spate_slice_t *pk, const spate_slice_t *ck, uint16_t column,
                                  const spate_cql_ktype_t *elem_type, spate_slice_t elem);

/* Appends a bound: the clustering prefix ck[0..n) then the bound byte. A
 * range tombstone's key is P | 02 | start bound, its value a deletion then
 * the end bound (spate_cql_range_tombstone_encode). */
spate_status_t spate_cql_key_bound(spate_buf_t *out, const spate_cql_key_schema_t *s,
                                   const spate_slice_t *ck, uint16_t n, spate_cql_bound_t b);

/* Where a row sits relative to a bound: < 0 before it, > 0 after it
 * (never 0). row_ck is the row's encoded clustering (spate_cql_key_t
 * .clustering), bound an encoded bound (spate_cql_key_t .clustering of a
 * range tombstone, or spate_cql_range_tombstone_decode's end). */
int spate_cql_key_bound_cmp(const void *row_ck, size_t row_len, const void *bound,
                            size_t bound_len);

/* A decoded key. Values are serialized bytes; `mem` owns them, the
 * borrowed slices point into the key given to the decoder. */
typedef struct {
    uint32_t table_id;
    int64_t token;
    spate_cql_key_kind_t kind;
    uint16_t npk;
    spate_slice_t *pk; /* npk values (owned by mem/arrays here) */
    uint16_t nck;      /* rows: nck; RANGE_TOMBSTONE: the start bound's
                          prefix length; partition-level kinds: 0 */
    spate_slice_t *ck;
    spate_cql_bound_t bound; /* RANGE_TOMBSTONE: of the start bound */
    uint16_t column;         /* CELL, STATIC_CELL */
    bool has_elem;
    spate_slice_t elem;       /* encoded element sub-key (borrowed) */
    spate_slice_t clustering; /* borrowed: rows, the encoded clustering
                                 (between P and the kind byte); range
                                 tombstones, the encoded start bound */
    /* private */
    spate_buf_t mem;
    spate_slice_t *arr;
} spate_cql_key_t;

/* Decodes a key of the table s into k (which the caller releases with
 * spate_cql_key_free, also after a failure). EINVAL for any key this
 * module would not have produced for s, including a token that does not
 * match the partition key. The element sub-key is returned raw: its type
 * is the column's, which the key schema does not know; check it with
 * spate_cql_key_elem_decode. */
spate_status_t spate_cql_key_decode(const spate_cql_key_schema_t *s, const void *key, size_t len,
                                    spate_cql_key_t *k);
void spate_cql_key_free(spate_cql_key_t *k);

/* Decodes an element sub-key (k->elem) of type t; appends the serialized
 * element to out. */
spate_status_t spate_cql_key_elem_decode(const spate_cql_ktype_t *t, spate_slice_t elem,
                                         spate_buf_t *out);

/* ------------------------------------------------------------------ */
/* Iterator bounds                                                     */
/* ------------------------------------------------------------------ */

/* Appends the smallest key greater than every key starting with p[0..n)
 * (trailing 0xFF bytes dropped, the last byte incremented): with p itself
 * as the inclusive lower bound this is the exclusive upper bound
 * (RocksDB's iterate_upper_bound) of a prefix scan. ERANGE if p is empty
 * or all 0xFF (no key table_id < 0xFFFFFFFF produces that). */
spate_status_t spate_cql_key_prefix_end(spate_buf_t *out, const void *p, size_t n);

/* Appends table_id | token (sign-flipped): the prefix of every key of the
 * table whose partition has that token (token-range scans). */
spate_status_t spate_cql_key_token_prefix(spate_buf_t *out, uint32_t table_id, int64_t token);

/* One side of a clustering slice: column > value / >= value (a start) or
 * < value / <= value (an end). */
typedef struct {
    bool inclusive;
    spate_slice_t value;
} spate_cql_kslice_t;

/* The key range [lo, hi) holding the rows of partition pk whose first neq
 * clustering columns equal ck[0..neq) and whose column neq satisfies start
 * (NULL: unbounded) and end (NULL: unbounded) in CQL's order of its type;
 * a DESC column is handled (its > becomes an upper key bound). start and
 * end must be NULL when neq == nck. With neq == 0 and no start, lo skips
 * the partition deletion, range tombstones and static cells. The range
 * may be empty (lo >= hi). The equality prefix matches exact bytes (a
 * decimal 1.0 there does not match a row stored as 1.00); the sliced
 * column compares numerically (c >= 1.0 includes 1 and 1.00). Range
 * tombstones are not in [lo, hi): read [P|02, P|03) for them. Appends to
 * lo and hi (left as they were on failure). */
spate_status_t spate_cql_key_slice(spate_buf_t *lo, spate_buf_t *hi,
                                   const spate_cql_key_schema_t *s, const spate_slice_t *pk,
                                   const spate_slice_t *ck, uint16_t neq,
                                   const spate_cql_kslice_t *start, const spate_cql_kslice_t *end);

/* ------------------------------------------------------------------ */
/* Cell values, deletions, reconciliation                              */
/* ------------------------------------------------------------------ */

typedef enum {
    SPATE_CQL_CELL_LIVE = 0x00,
    SPATE_CQL_CELL_TOMBSTONE = 0x01,
    SPATE_CQL_CELL_EXPIRING = 0x02,
} spate_cql_cell_kind_t;

typedef struct {
    spate_cql_cell_kind_t kind;
    int64_t timestamp;           /* µs */
    int32_t ttl;                 /* EXPIRING: seconds, > 0 */
    int32_t local_deletion_time; /* TOMBSTONE: when deleted; EXPIRING: when
                                    it expires (seconds since the epoch) */
    spate_slice_t value;         /* LIVE / EXPIRING; borrowed */
} spate_cql_cell_t;

/* Appends the value layout above. EINVAL for an unknown kind, a TTL <= 0
 * on an expiring cell, or a null value on a live / expiring one. */
spate_status_t spate_cql_cell_encode(spate_buf_t *out, const spate_cql_cell_t *c);
/* Decodes p[0..n); c->value borrows from p. EINVAL when malformed. */
spate_status_t spate_cql_cell_decode(const void *p, size_t n, spate_cql_cell_t *c);

/* The winner of two versions of one cell, by Cassandra's rules
 * (Cells.resolveRegular, 4.0+): the higher timestamp; on a tie a tombstone
 * or expiring cell beats a live one, a tombstone beats an expiring one,
 * then the later local deletion time, then the greater value bytes
 * (unsigned), then a. Returns a or b. */
const spate_cql_cell_t *spate_cql_cell_reconcile(const spate_cql_cell_t *a,
                                                 const spate_cql_cell_t *b);

/* Live at now (seconds since the epoch): a live cell, or an expiring one
 * before its expiry time; an expired cell counts as a tombstone. */
bool spate_cql_cell_is_live(const spate_cql_cell_t *c, int64_t now);

typedef struct {
    int64_t timestamp; /* markedForDeleteAt, µs */
    int32_t local_deletion_time;
} spate_cql_deletion_t;

spate_status_t spate_cql_deletion_encode(spate_buf_t *out, const spate_cql_deletion_t *d);
/* Exactly 12 bytes, else EINVAL. */
spate_status_t spate_cql_deletion_decode(const void *p, size_t n, spate_cql_deletion_t *d);
/* True when d shadows a cell written at timestamp ts (ts <= d's). */
bool spate_cql_deletion_deletes(const spate_cql_deletion_t *d, int64_t ts);
/* True when a wins over b (a later timestamp, then a later local deletion
 * time), as DeletionTime.supersedes. */
bool spate_cql_deletion_supersedes(const spate_cql_deletion_t *a, const spate_cql_deletion_t *b);

/* ------------------------------------------------------------------ */
/* Row values                                                          */
/* ------------------------------------------------------------------ */

#define SPATE_CQL_ROW_VALUE 0x10        /* first byte of a classic row value */
#define SPATE_CQL_ROW_VALUE_SHARED 0x11 /* first byte of a shared-header one */

/* True when p[0..n) has a row value's first byte, either form (it may
 * still be malformed: the reader checks the rest). */
bool spate_cql_row_value_is(const void *p, size_t n);

/* One entry of a row value: kind ROW_MARKER (column 0, empty value) or
 * CELL, and its cell. */
typedef struct {
    spate_cql_key_kind_t kind;
    uint16_t column;
    spate_cql_cell_t cell;
} spate_cql_row_entry_t;

/* Appends the row value of e[0..n) (n >= 1, (kind, column) strictly
 * ascending): the shared form when the cells allow it, else the classic
 * one. EINVAL (out as it was) for a bad entry or order, ENOMEM. */
spate_status_t spate_cql_row_value_encode(spate_buf_t *out, const spate_cql_row_entry_t *e,
                                          size_t n);

/* The classic form by hand (tests; data of older versions): the header
 * byte, then one entry at a time with its encoded cell value. The caller
 * keeps entries in strictly ascending (kind, column) order (the reader
 * rejects anything else). EINVAL for another kind or a cell longer than
 * UINT32_MAX. */
spate_status_t spate_cql_row_value_begin(spate_buf_t *out);
spate_status_t spate_cql_row_value_put(spate_buf_t *out, spate_cql_key_kind_t kind, uint16_t column,
                                       spate_slice_t cell);

/* A cursor over a row value's entries (a bounds-checked reader: any input
 * is safe). */
typedef struct {
    spate_rd_t r;
    int last;              /* (kind << 16 | column) of the previous entry, -1 first */
    bool shared, bad;      /* the shared form; its header did not read */
    spate_cql_cell_t head; /* the shared form's cell header */
} spate_cql_row_reader_t;

/* EINVAL when p[0..n) does not start with a row value byte. */
spate_status_t spate_cql_row_reader_init(spate_cql_row_reader_t *rr, const void *p, size_t n);
/* The next entry: SPATE_OK with *kind, *column (0 for the marker) and
 * *cell (its value borrows from the row value); SPATE_ENOENT after the
 * last; EINVAL for a malformed header or entry, an entry out of order, a
 * marker with a value, or an empty row value (checked on the first
 * call). */
spate_status_t spate_cql_row_reader_next(spate_cql_row_reader_t *rr, spate_cql_key_kind_t *kind,
                                         uint16_t *column, spate_cql_cell_t *cell);
/* SPATE_OK when every entry of p[0..n) reads (EINVAL otherwise). */
spate_status_t spate_cql_row_value_check(const void *p, size_t n);

/* Merges the values v[0..n) of one row marker key, each a row value or a
 * cell value (the marker alone; v[i].p may be NULL: skipped), into one row
 * value appended to out (spate_cql_row_value_encode's form): per (kind,
 * column) the spate_cql_cell_reconcile winner. An operand that does not read whole is left out;
 * ENOENT when none is left (out untouched), ENOMEM. */
spate_status_t spate_cql_row_value_merge(spate_buf_t *out, const spate_slice_t *v, size_t n);

/* A range tombstone's value: d then the end bound ck[0..n) + b. */
spate_status_t spate_cql_range_tombstone_encode(spate_buf_t *out, const spate_cql_key_schema_t *s,
                                                const spate_cql_deletion_t *d,
                                                const spate_slice_t *ck, uint16_t n,
                                                spate_cql_bound_t b);
/* Decodes a range tombstone value of table s: d, and the encoded end bound
 * (borrowed from p) for spate_cql_key_bound_cmp. EINVAL when the bound
 * does not parse for s. */
spate_status_t spate_cql_range_tombstone_decode(const spate_cql_key_schema_t *s, const void *p,
                                                size_t n, spate_cql_deletion_t *d,
                                                spate_slice_t *end);

#endif /* SPATE_CQL_KEY_H */
