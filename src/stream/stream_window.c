/*
 * stream_window.c — event-time windows for spate stream: tumbling and
 * hopping windows counting records per group, e.g. users per nationality
 * and gender per minute, into a CQL table, exactly once across restarts.
 *
 * Two halves: a pure engine (swin_*: counts, watermark, closing,
 * checkpoint bytes; unit-tested in tests/unit/test_stream_window.c) and
 * the sink the job loop drives (srun_sink_window: CQL output and the
 * checkpoint).
 *
 * Windows. Window starts are multiples of hop (epoch ms, UTC); a window
 * covers [start, start + size). A record with event time t falls in the
 * size / hop windows whose start is floor(t / hop) * hop - k * hop,
 * k = 0 .. size/hop - 1 (tumbling: hop == size, one window).
 *
 *   watermark = max event time seen - watermark_delay
 *   window closed  <=>  watermark >= start + size + allowed_lateness
 *
 * A record is counted in each of its windows that is still open, then
 * the watermark moves. A record whose windows are all closed is late: it
 * is counted nowhere and goes to the dead-letter path with reason "late"
 * (a hopping record with some windows still open is not late; it counts
 * in those). Closed windows' cells leave the state and are written out.
 *
 * State: cells (window start, group key) → count, in a vector indexed by
 * an open-addressing hash table (rebuilt whenever cells are removed: that
 * happens once per checkpoint). A group key is the group-by values as
 * text, each a u32 length + bytes.
 *
 * Partitions. Each source partition has its own engine (wpart_t): its
 * own watermark (the max event time of that partition's records, as
 * Kafka Streams' stream time), its own counts and its own checkpoint row.
 * A partition's state is then a function of its records alone, so a
 * replay — in this process or in another one after a rebalance — gives
 * the same counts, the same closed windows and the same bytes. Several
 * processes of one group split the partitions as for any job; a revoked
 * partition is drained (its records checkpointed), then its engine is
 * freed; its next owner loads its row.
 *
 * Results. A window closed in one partition is a partial count: each
 * partition upserts its (window, group) counts into
 * ks.spate_window_partials (id = "<group>/<job>", window_start,
 * group_key, src = "<topic>/<partition>"), then reads every partition's
 * partials of that window and upserts the sums into the output table
 * with write timestamp TS_BASE + the sum. Partials only ever appear (a
 * partition's partial is final once written: its window is closed
 * there), so a sum over more of them is larger and wins however the
 * writes of several processes interleave; the process that writes the
 * last partial of a window reads all of them (its read follows every
 * write acknowledged before) and leaves the complete sum. A window's
 * output row thus grows as partitions close it and is exact once every
 * partition holding its records has passed it. The window's client
 * raises one-replica consistency levels to (local) quorum, so that in a
 * cluster a sum's read sees every acknowledged partial.
 *
 * Exactly once. A counted record's token is not acknowledged when it is
 * counted but at the next checkpoint, so the offset the job commits never
 * passes a record whose count is not durable. A checkpoint (at every
 * commit point, and when half of max_in_flight is waiting):
 *
 *   1. closes windows in every partition and upserts their partials
 *   2. reads the partials of each window closed and upserts the sums;
 *      it waits for every answer (a failure: try again next time)
 *   3. waits for the dead-letter producer (late and failed records below
 *      the checkpoint's offsets must be in the dead-letter topic)
 *   4. writes each changed partition's state with its next offset as ONE
 *      row (id = "<group>/<job>/<topic>/<partition>", state blob) of
 *      ks.spate_window_state: a single-row write is atomic, so the counts
 *      and the offset they cover change together. Its write timestamp is
 *      TS_BASE + that offset: a longer prefix wins, even against a late
 *      write of a process that lost the partition without noticing
 *   5. acknowledges the tokens it covers (the commit may now pass them)
 *
 * A partition's row is loaded when its first record arrives; a record
 * below the row's offset is already in the state (or was late /
 * dead-lettered) and is acknowledged without being counted again. kill -9
 * anywhere:
 *   before 4 — the old checkpoint and the old commit: the records after it
 *              are counted again from there, windows closed meanwhile are
 *              written again with the same partials and sums (upserts);
 *   after 4  — the new checkpoint; records between the commit and its
 *              offset are skipped.
 *
 * Checkpoint layout (big-endian; swin_save / swin_load):
 *
 *   u32 magic "SWN1" | i64 size | i64 hop | i64 delay | i64 lateness | u32 ngroup
 *   i64 max event time (INT64_MIN: none)
 *   u32 npos  { i16 len + topic | i32 partition | i64 next offset } * npos
 *   u32 ncell { i64 start | i64 count | u32 klen + key } * ncell
 *
 * Positions sorted by (topic, partition) — the sink keeps exactly one —
 * cells by (start, key): the same state gives the same bytes. Loading
 * checks everything (settings equal to the job's, aligned starts, windows
 * still open, counts > 0, keys well-formed, no duplicates, nothing
 * trailing).
 *
 * Output table (created with `create: true`):
 *
 *   window_start timestamp | window_end timestamp | <group fields> text | count bigint
 *   PRIMARY KEY ((window_start), <group fields>)
 *
 * A group field's column is its path with '.' as '_' ("location.country"
 * → location_country). Missing or null group values count as "".
 *
 * A job with a window and a sink of its own (`sink:` beside `window:`)
 * runs both (tee_*, below): each record is stored by the sink and counted
 * by the window, and its offset is committed once both are durable.
 *
 * A checkpoint row of an older spate (one state for every partition,
 * id "<group>/<job>") cannot be split: the job refuses to start on it.
 *
 * Limits: results go to CQL only; a partition that stops receiving
 * records does not close its windows (its watermark stands still), so
 * sums that need its partials wait for its next record. The partials
 * table holds one row per (window, group, partition), written with a TTL
 * of `retention` (default 7 days; 0 keeps them): a partition that closes
 * a window more than that after the others sums its partial with what is
 * left of theirs, and the window's row keeps the larger of two incomplete
 * sums.
 */
#include "stream_window.h"
#include "source.h" /* spate_json_dumps */

#include "cql.h"
#include "stream_run_int.h"

#include <stdlib.h>
#include <string.h>

#define LOGC "stream"
#define SWIN_MAGIC 0x53574e31u /* "SWN1" */
#define MAX_POSITIONS 100000

/* ================================================================== */
/* The engine                                                          */
/* ================================================================== */

typedef struct {
    int64_t start, count;
    uint64_t hash;
    char *key;
    size_t klen;
} cell_t;

typedef struct {
    char *topic;
    int32_t partition;
    int64_t next;
} pos_t;

struct swin {
    swin_conf_t c;
    int64_t max_event; /* INT64_MIN: none yet */
    cell_t *cells;
    size_t n, cap;
    uint32_t *slots; /* cell index + 1; 0 empty; nslots a power of two */
    size_t nslots;
    pos_t *pos;
    size_t npos, cappos;
};

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

static uint64_t cell_hash(int64_t start, const char *key, size_t klen) {
    uint64_t h = 1469598103934665603ull;
    uint64_t s = (uint64_t)start;
    for (int i = 0; i < 8; i++) {
        h ^= (s >> (i * 8)) & 0xff;
        h *= 1099511628211ull;
    }
    for (size_t i = 0; i < klen; i++) {
        h ^= (uint8_t)key[i];
        h *= 1099511628211ull;
    }
    return h;
}

static bool conf_ok(const swin_conf_t *c) {
    return c->size_ms > 0 && c->size_ms <= SWIN_DURATION_MAX && c->hop_ms > 0 &&
           c->hop_ms <= c->size_ms && c->size_ms % c->hop_ms == 0 && c->delay_ms >= 0 &&
           c->delay_ms <= SWIN_DURATION_MAX && c->lateness_ms >= 0 &&
           c->lateness_ms <= SWIN_DURATION_MAX && c->ngroup <= 1024;
}

spate_status_t swin_new(const swin_conf_t *c, swin_t **out) {
    *out = NULL;
    if (!conf_ok(c)) return SPATE_EINVAL;
    swin_t *w = spate_xcalloc(1, sizeof *w);
    w->c = *c;
    w->max_event = INT64_MIN;
    *out = w;
    return SPATE_OK;
}

static void cells_clear(swin_t *w) {
    for (size_t i = 0; i < w->n; i++) free(w->cells[i].key);
    w->n = 0;
    free(w->slots);
    w->slots = NULL;
    w->nslots = 0;
}

static void pos_clear(swin_t *w) {
    for (size_t i = 0; i < w->npos; i++) free(w->pos[i].topic);
    w->npos = 0;
}

void swin_free(swin_t *w) {
    if (!w) return;
    cells_clear(w);
    free(w->cells);
    pos_clear(w);
    free(w->pos);
    free(w);
}

void swin_key_put(spate_buf_t *k, const char *s, size_t n) {
    spate_wr_u32(k, (uint32_t)n);
    spate_buf_append(k, s, n);
}

/* Checks key holds exactly ngroup texts. */
static bool key_ok(const char *key, size_t klen, uint32_t ngroup) {
    if (klen > SWIN_KEY_MAX) return false;
    spate_rd_t r;
    spate_rd_init(&r, key, klen);
    for (uint32_t i = 0; i < ngroup; i++) {
        uint32_t n;
        if (spate_rd_u32(&r, &n) != SPATE_OK || spate_rd_skip(&r, n) != SPATE_OK) return false;
    }
    return spate_rd_left(&r) == 0;
}

spate_status_t swin_key_get(const char *key, size_t klen, uint32_t i, const char **s, size_t *n) {
    spate_rd_t r;
    spate_rd_init(&r, key, klen);
    for (uint32_t k = 0;; k++) {
        uint32_t len;
        const uint8_t *p;
        if (spate_rd_u32(&r, &len) != SPATE_OK || spate_rd_bytes(&r, len, &p) != SPATE_OK)
            return SPATE_EINVAL;
        if (k == i) {
            *s = (const char *)p;
            *n = len;
            return SPATE_OK;
        }
    }
}

static void index_rebuild(swin_t *w, size_t want) {
    size_t ns = 16;
    while (ns < want * 2) ns *= 2;
    free(w->slots);
    w->slots = spate_xcalloc(ns, sizeof *w->slots);
    w->nslots = ns;
    for (size_t i = 0; i < w->n; i++) {
        size_t at = w->cells[i].hash & (ns - 1);
        while (w->slots[at]) at = (at + 1) & (ns - 1);
        w->slots[at] = (uint32_t)(i + 1);
    }
}

/* The cell's index, or -1; *slot is where it would go. */
static ssize_t cell_find(const swin_t *w, int64_t start, const char *key, size_t klen, uint64_t h,
                         size_t *slot) {
    if (!w->nslots) return -1;
    size_t at = h & (w->nslots - 1);
    while (w->slots[at]) {
        const cell_t *c = &w->cells[w->slots[at] - 1];
        if (c->hash == h && c->start == start && c->klen == klen && !memcmp(c->key, key, klen))
            return (ssize_t)(w->slots[at] - 1);
        at = (at + 1) & (w->nslots - 1);
    }
    if (slot) *slot = at;
    return -1;
}

/* Adds a new cell (key copied); the caller checked it is absent. */
static cell_t *cell_insert(swin_t *w, int64_t start, const char *key, size_t klen, uint64_t h) {
    if ((w->n + 1) * 2 > w->nslots) {
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 64;
            w->cells = spate_xrealloc(w->cells, w->cap * sizeof *w->cells);
        }
        index_rebuild(w, w->n + 1);
    } else if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 64;
        w->cells = spate_xrealloc(w->cells, w->cap * sizeof *w->cells);
    }
    cell_t *c = &w->cells[w->n];
    c->start = start;
    c->count = 0;
    c->hash = h;
    c->klen = klen;
    c->key = spate_xmalloc(klen ? klen : 1);
    memcpy(c->key, key, klen);
    size_t at = h & (w->nslots - 1);
    while (w->slots[at]) at = (at + 1) & (w->nslots - 1);
    w->slots[at] = (uint32_t)(w->n + 1);
    w->n++;
    return c;
}

int64_t swin_watermark(const swin_t *w) {
    return w->max_event == INT64_MIN ? INT64_MIN : w->max_event - w->c.delay_ms;
}

bool swin_is_closed(const swin_t *w, int64_t start) {
    int64_t wm = swin_watermark(w);
    return wm != INT64_MIN && wm >= start + w->c.size_ms + w->c.lateness_ms;
}

spate_status_t swin_add(swin_t *w, int64_t t, const char *key, size_t klen,
                        swin_verdict_t *verdict) {
    if (t < SWIN_TIME_MIN || t > SWIN_TIME_MAX || !key_ok(key, klen, w->c.ngroup))
        return SPATE_EINVAL;
    int64_t last = floor_div(t, w->c.hop_ms) * w->c.hop_ms;
    int64_t nwin = w->c.size_ms / w->c.hop_ms;
    bool counted = false;
    for (int64_t k = 0; k < nwin; k++) {
        int64_t start = last - k * w->c.hop_ms;
        if (swin_is_closed(w, start)) continue;
        uint64_t h = cell_hash(start, key, klen);
        ssize_t i = cell_find(w, start, key, klen, h, NULL);
        cell_t *c = i >= 0 ? &w->cells[i] : cell_insert(w, start, key, klen, h);
        c->count++;
        counted = true;
    }
    if (t > w->max_event) w->max_event = t;
    *verdict = counted ? SWIN_COUNTED : SWIN_LATE;
    return SPATE_OK;
}

static int key_cmp(const char *a, size_t an, const char *b, size_t bn) {
    int r = memcmp(a, b, SPATE_MIN(an, bn));
    if (r) return r;
    return an < bn ? -1 : an > bn;
}

static int cell_cmp(const void *pa, const void *pb) {
    const cell_t *a = *(const cell_t *const *)pa, *b = *(const cell_t *const *)pb;
    if (a->start != b->start) return a->start < b->start ? -1 : 1;
    return key_cmp(a->key, a->klen, b->key, b->klen);
}

static int row_cmp(const void *pa, const void *pb) {
    const swin_row_t *a = pa, *b = pb;
    if (a->start != b->start) return a->start < b->start ? -1 : 1;
    return key_cmp(a->key, a->klen, b->key, b->klen);
}

size_t swin_close(swin_t *w, swin_row_t **rows) {
    *rows = NULL;
    size_t nclosed = 0, kept = 0;
    for (size_t i = 0; i < w->n; i++)
        if (swin_is_closed(w, w->cells[i].start)) nclosed++;
    if (!nclosed) return 0;
    swin_row_t *out = spate_xcalloc(nclosed, sizeof *out);
    size_t k = 0;
    for (size_t i = 0; i < w->n; i++) {
        cell_t *c = &w->cells[i];
        if (swin_is_closed(w, c->start)) {
            out[k++] = (swin_row_t){c->start, c->start + w->c.size_ms, c->count, c->key, c->klen};
        } else {
            w->cells[kept++] = *c;
        }
    }
    w->n = kept;
    index_rebuild(w, w->n);
    qsort(out, nclosed, sizeof *out, row_cmp);
    *rows = out;
    return nclosed;
}

void swin_rows_free(swin_row_t *rows, size_t n) {
    for (size_t i = 0; i < n; i++) free(rows[i].key);
    free(rows);
}

size_t swin_cells(const swin_t *w) { return w->n; }

int64_t swin_count(const swin_t *w, int64_t start, const char *key, size_t klen) {
    ssize_t i = cell_find(w, start, key, klen, cell_hash(start, key, klen), NULL);
    return i >= 0 ? w->cells[i].count : 0;
}

static pos_t *pos_find(const swin_t *w, const char *topic, int32_t partition) {
    for (size_t i = 0; i < w->npos; i++)
        if (w->pos[i].partition == partition && !strcmp(w->pos[i].topic, topic)) return &w->pos[i];
    return NULL;
}

void swin_offset_set(swin_t *w, const char *topic, int32_t partition, int64_t next) {
    pos_t *p = pos_find(w, topic, partition);
    if (p) {
        if (next > p->next) p->next = next;
        return;
    }
    if (w->npos == w->cappos) {
        w->cappos = w->cappos ? w->cappos * 2 : 8;
        w->pos = spate_xrealloc(w->pos, w->cappos * sizeof *w->pos);
    }
    w->pos[w->npos++] = (pos_t){spate_xstrdup(topic), partition, next};
}

int64_t swin_offset_get(const swin_t *w, const char *topic, int32_t partition) {
    const pos_t *p = pos_find(w, topic, partition);
    return p ? p->next : -1;
}

static int pos_cmp(const void *pa, const void *pb) {
    const pos_t *a = *(const pos_t *const *)pa, *b = *(const pos_t *const *)pb;
    int r = strcmp(a->topic, b->topic);
    if (r) return r;
    return a->partition < b->partition ? -1 : a->partition > b->partition;
}

void swin_save(const swin_t *w, spate_buf_t *out) {
    spate_wr_u32(out, SWIN_MAGIC);
    spate_wr_u64(out, (uint64_t)w->c.size_ms);
    spate_wr_u64(out, (uint64_t)w->c.hop_ms);
    spate_wr_u64(out, (uint64_t)w->c.delay_ms);
    spate_wr_u64(out, (uint64_t)w->c.lateness_ms);
    spate_wr_u32(out, w->c.ngroup);
    spate_wr_u64(out, (uint64_t)w->max_event);
    const pos_t **ps = spate_xcalloc(w->npos ? w->npos : 1, sizeof *ps);
    for (size_t i = 0; i < w->npos; i++) ps[i] = &w->pos[i];
    qsort(ps, w->npos, sizeof *ps, pos_cmp);
    spate_wr_u32(out, (uint32_t)w->npos);
    for (size_t i = 0; i < w->npos; i++) {
        spate_wr_str16(out, ps[i]->topic, strlen(ps[i]->topic));
        spate_wr_u32(out, (uint32_t)ps[i]->partition);
        spate_wr_u64(out, (uint64_t)ps[i]->next);
    }
    free(ps);
    const cell_t **cs = spate_xcalloc(w->n ? w->n : 1, sizeof *cs);
    for (size_t i = 0; i < w->n; i++) cs[i] = &w->cells[i];
    qsort(cs, w->n, sizeof *cs, cell_cmp);
    spate_wr_u32(out, (uint32_t)w->n);
    for (size_t i = 0; i < w->n; i++) {
        spate_wr_u64(out, (uint64_t)cs[i]->start);
        spate_wr_u64(out, (uint64_t)cs[i]->count);
        spate_wr_u32(out, (uint32_t)cs[i]->klen);
        spate_buf_append(out, cs[i]->key, cs[i]->klen);
    }
    free(cs);
}

#define LOAD_FAIL(...)                                                                             \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        goto fail;                                                                                 \
    } while (0)

spate_status_t swin_load(swin_t *w, const void *p, size_t n, char *err, size_t errlen) {
    spate_rd_t r;
    spate_rd_init(&r, p, n);
    uint32_t magic, ngroup, npos, ncell;
    int64_t size, hop, delay, lateness, max_event;
    if (w->n || w->npos || w->max_event != INT64_MIN) { /* misuse: leave the state alone */
        snprintf(err, errlen, "the state is not empty");
        return SPATE_EINVAL;
    }
    if (spate_rd_u32(&r, &magic) != SPATE_OK || magic != SWIN_MAGIC)
        LOAD_FAIL("not a window checkpoint");
    if (spate_rd_i64(&r, &size) || spate_rd_i64(&r, &hop) || spate_rd_i64(&r, &delay) ||
        spate_rd_i64(&r, &lateness) || spate_rd_u32(&r, &ngroup) || spate_rd_i64(&r, &max_event))
        LOAD_FAIL("checkpoint truncated in its header");
    if (size != w->c.size_ms || hop != w->c.hop_ms || delay != w->c.delay_ms ||
        lateness != w->c.lateness_ms || ngroup != w->c.ngroup)
        LOAD_FAIL("checkpoint taken with other window settings (size %lldms, hop %lldms, "
                  "watermark_delay %lldms, allowed_lateness %lldms, %u group-by fields)",
                  (long long)size, (long long)hop, (long long)delay, (long long)lateness,
                  (unsigned)ngroup);
    if (max_event != INT64_MIN && (max_event < SWIN_TIME_MIN || max_event > SWIN_TIME_MAX))
        LOAD_FAIL("checkpoint: event time %lld out of range", (long long)max_event);
    w->max_event = max_event;
    if (spate_rd_u32(&r, &npos) != SPATE_OK) LOAD_FAIL("checkpoint truncated at positions");
    if (npos > MAX_POSITIONS) LOAD_FAIL("checkpoint: %u positions", (unsigned)npos);
    for (uint32_t i = 0; i < npos; i++) {
        spate_slice_t topic;
        int32_t part;
        int64_t next;
        if (spate_rd_str16(&r, &topic) || spate_rd_i32(&r, &part) || spate_rd_i64(&r, &next))
            LOAD_FAIL("checkpoint truncated in position %u", (unsigned)i);
        if (!topic.p || topic.len < 1 || topic.len > 249 || memchr(topic.p, 0, (size_t)topic.len))
            LOAD_FAIL("checkpoint: position %u: bad topic name", (unsigned)i);
        if (part < 0 || next < 0)
            LOAD_FAIL("checkpoint: position %u: bad partition or offset", (unsigned)i);
        char t[250];
        memcpy(t, topic.p, (size_t)topic.len);
        t[topic.len] = 0;
        if (pos_find(w, t, part)) LOAD_FAIL("checkpoint: %s/%d twice", t, part);
        swin_offset_set(w, t, part, next);
    }
    if (spate_rd_u32(&r, &ncell) != SPATE_OK) LOAD_FAIL("checkpoint truncated at cells");
    if (ncell > spate_rd_left(&r) / 20)
        LOAD_FAIL("checkpoint: %u cells in %zu bytes", (unsigned)ncell, spate_rd_left(&r));
    for (uint32_t i = 0; i < ncell; i++) {
        int64_t start, count;
        uint32_t klen;
        const uint8_t *key;
        if (spate_rd_i64(&r, &start) || spate_rd_i64(&r, &count) || spate_rd_u32(&r, &klen) ||
            spate_rd_bytes(&r, klen, &key))
            LOAD_FAIL("checkpoint truncated in cell %u", (unsigned)i);
        if (start < SWIN_TIME_MIN - size || start > SWIN_TIME_MAX ||
            floor_div(start, hop) * hop != start)
            LOAD_FAIL("checkpoint: cell %u: bad window start %lld", (unsigned)i, (long long)start);
        if (count < 1) LOAD_FAIL("checkpoint: cell %u: count %lld", (unsigned)i, (long long)count);
        if (swin_is_closed(w, start))
            LOAD_FAIL("checkpoint: cell %u: window %lld is closed", (unsigned)i, (long long)start);
        if (!key_ok((const char *)key, klen, ngroup))
            LOAD_FAIL("checkpoint: cell %u: malformed group key", (unsigned)i);
        uint64_t h = cell_hash(start, (const char *)key, klen);
        if (cell_find(w, start, (const char *)key, klen, h, NULL) >= 0)
            LOAD_FAIL("checkpoint: cell %u twice", (unsigned)i);
        cell_insert(w, start, (const char *)key, klen, h)->count = count;
    }
    if (spate_rd_left(&r)) LOAD_FAIL("checkpoint: %zu bytes after the end", spate_rd_left(&r));
    return SPATE_OK;
fail:
    cells_clear(w);
    pos_clear(w);
    w->max_event = INT64_MIN;
    return SPATE_EINVAL;
}

spate_status_t swin_event_time(const json_t *v, int64_t *ms) {
    int64_t t;
    if (json_is_integer(v)) {
        t = json_integer_value(v);
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d >= (double)SWIN_TIME_MIN && d <= (double)SWIN_TIME_MAX)) return SPATE_EINVAL;
        t = (int64_t)d;
        if ((double)t > d) t--;
    } else if (json_is_string(v)) {
        if (spate_stream_parse_time(json_string_value(v), json_string_length(v), &t) != SPATE_OK)
            return SPATE_EINVAL;
    } else {
        return SPATE_EINVAL;
    }
    if (t < SWIN_TIME_MIN || t > SWIN_TIME_MAX) return SPATE_EINVAL;
    *ms = t;
    return SPATE_OK;
}

void swin_value_text(const json_t *v, spate_buf_t *out) {
    if (!v || json_is_null(v)) return;
    if (json_is_string(v)) {
        spate_buf_append(out, json_string_value(v), json_string_length(v));
        return;
    }
    char *s = spate_json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    if (s) spate_buf_puts(out, s);
    free(s);
}

spate_status_t swin_column_name(const char *path, char *out, size_t outlen) {
    const char *s = path;
    if (*s == '$') s++;
    if (*s == '.') s++;
    size_t n = 0;
    for (; *s; s++) {
        char ch = *s;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_';
        if (ch == '.')
            ch = '_';
        else if (!ok)
            return SPATE_EINVAL;
        if (n + 1 >= outlen || n >= 48) return SPATE_EINVAL;
        out[n++] = ch;
    }
    out[n] = 0;
    if (!n || (out[0] >= '0' && out[0] <= '9') || !strcmp(out, "window_start") ||
        !strcmp(out, "window_end") || !strcmp(out, "count"))
        return SPATE_EINVAL;
    return SPATE_OK;
}

/* ================================================================== */
/* The window sink                                                     */
/* ================================================================== */

#define STATE_TABLE "spate_window_state"
#define PARTIALS_TABLE "spate_window_partials"
#define PARTIALS_PAGE 5000
/* Write timestamps of sums and checkpoint rows: TS_BASE + the sum or the
 * next offset. Above any clock's µs (2^60 µs is year 38 500), so these
 * rows order by their content, not by when they land: rows an older spate
 * wrote with the clock's time are overwritten, and a DELETE by hand
 * cannot hide later checkpoints (TRUNCATE clears a table regardless). */
#define TS_BASE (INT64_C(1) << 60)

static int64_t ts_of(int64_t n) {
    return TS_BASE + SPATE_MIN(SPATE_MAX(n, 0), INT64_MAX - TS_BASE);
}

/* One source partition's window: its engine, the rows it closed and its
 * checkpoint row. Made when the partition's first record arrives after an
 * assignment (its row is loaded then), freed when it is revoked. */
typedef struct {
    const srun_part_t *rp; /* the job's partition (lives as long as the job) */
    char *src;             /* "<topic>/<partition>" */
    char *state_id;        /* "<group>/<job>/<topic>/<partition>" */
    swin_t *w;
    swin_row_t *rows; /* closed, not yet summed into the output table */
    size_t nrows;
    int64_t saved; /* next offset of its last checkpoint row; -1: none. The
                    * state changes only with records at or past it, which
                    * move the next offset: a row is due when that moved */
} wpart_t;

typedef struct {
    srun_job_t *j;
    const spate_stream_window_conf_t *wc;
    swin_conf_t c;
    spate_cql_client_t *cl;
    /* output row, checkpoint row, checkpoint read, partial write, partials read */
    spate_cql_prepared_t *ins, *ckpt, *load, *pins, *psel;
    spate_cql_query_t *q, *pq, *cq;
    char (*cols)[49];
    char *id; /* "<group>/<job>" */
    wpart_t **parts;
    size_t nparts, capparts;
    wpart_t *last;      /* the partition of the last record */
    srun_token_t *toks; /* counted, waiting for a checkpoint */
    size_t ntoks, captoks;
    int submitted, answered, failed; /* of the current round of writes */
    spate_buf_t key, text, blob;
    uint64_t late, skipped, checkpoints;
    bool tee; /* beside the job's own sink, which counts records out */
} wsink_t;

static spate_status_t ddl(wsink_t *s, const char *cql, char *err, size_t errlen) {
    spate_status_t st = spate_cql_client_query(s->cl, cql, NULL);
    if (st != SPATE_OK) snprintf(err, errlen, "%s: %s", cql, spate_cql_client_error(s->cl));
    return st;
}

static spate_status_t prepare(wsink_t *s, const char *cql, spate_cql_prepared_t **p, char *err,
                              size_t errlen) {
    spate_status_t st = spate_cql_client_prepare(s->cl, cql, p);
    if (st != SPATE_OK) snprintf(err, errlen, "%s: %s", cql, spate_cql_client_error(s->cl));
    return st;
}

static bool is_text(spate_cql_type_t t) { return t == SPATE_CQL_VARCHAR || t == SPATE_CQL_ASCII; }

static void wpart_free(wpart_t *p) {
    if (!p) return;
    free(p->src);
    free(p->state_id);
    swin_free(p->w);
    swin_rows_free(p->rows, p->nrows);
    free(p);
}

/* Reads the checkpoint row `id` into w (left empty when there is none).
 * SPATE_EINVAL for a row that cannot be loaded, an I/O status when the
 * store did not answer (err says which). */
static spate_status_t load_row(wsink_t *s, const char *id, swin_t *w, bool *found, char *err,
                               size_t errlen) {
    *found = false;
    spate_cql_query_t *q = spate_cql_query_new_prepared(s->load);
    spate_cql_query_bind_text(q, 0, id, strlen(id));
    spate_cql_answer_t *a = NULL;
    spate_status_t st = spate_cql_client_execute(s->cl, q, &a);
    spate_cql_query_free(q);
    if (st != SPATE_OK) {
        snprintf(err, errlen, "reading checkpoint %s: %s", id, spate_cql_client_error(s->cl));
        spate_cql_answer_free(a);
        return SPATE_EIO; /* an ERROR answer too: the table may come back */
    }
    if (spate_cql_answer_rows(a) > 0) {
        const char *p;
        size_t n;
        char e[300];
        *found = true;
        if (spate_cql_answer_get_text(a, 0, 0, &p, &n) != SPATE_OK) {
            snprintf(err, errlen, "checkpoint %s: no state", id);
            st = SPATE_EINVAL;
        } else if (swin_load(w, p, n, e, sizeof e) != SPATE_OK) {
            snprintf(err, errlen, "checkpoint %s in %s." STATE_TABLE ": %s", id,
                     s->wc->sink.cql.keyspace, e);
            st = SPATE_EINVAL;
        }
    }
    spate_cql_answer_free(a);
    return st;
}

/* A partition's window, loading its checkpoint row the first time (and
 * retrying while the store does not answer). NULL when the job failed
 * (a checkpoint that cannot be loaded) or is stopping. */
static wpart_t *wpart_get(wsink_t *s, const srun_part_t *rp) {
    if (s->last && s->last->rp == rp) return s->last;
    for (size_t i = 0; i < s->nparts; i++)
        if (s->parts[i]->rp == rp) return s->last = s->parts[i];
    srun_job_t *j = s->j;
    wpart_t *p = spate_xcalloc(1, sizeof *p);
    p->rp = rp;
    p->saved = -1;
    spate_buf_t b = {0};
    spate_buf_printf(&b, "%s/%d", rp->topic, rp->partition);
    p->src = spate_buf_detach(&b, NULL);
    spate_buf_printf(&b, "%s/%s", s->id, p->src);
    p->state_id = spate_buf_detach(&b, NULL);
    if (swin_new(&s->c, &p->w) != SPATE_OK) abort(); /* checked at open */
    int64_t backoff = j->conf->delivery.backoff_ms;
    for (;;) {
        char err[700];
        bool found;
        spate_status_t st = load_row(s, p->state_id, p->w, &found, err, sizeof err);
        if (st == SPATE_OK && found &&
            (p->w->npos != 1 || p->w->pos[0].partition != rp->partition ||
             strcmp(p->w->pos[0].topic, rp->topic) != 0)) {
            snprintf(err, sizeof err, "checkpoint %s holds another partition's state", p->state_id);
            st = SPATE_EINVAL;
        }
        if (st == SPATE_OK) {
            if (found) {
                p->saved = p->w->pos[0].next;
                char wm[25] = "none";
                if (swin_watermark(p->w) != INT64_MIN) spate_time_iso8601(swin_watermark(p->w), wm);
                spate_log(SPATE_LOG_INFO, LOGC,
                          "job %s: window checkpoint restored for %s: %zu open cells, watermark "
                          "%s, next offset %lld",
                          j->conf->name, p->src, swin_cells(p->w), wm, (long long)p->saved);
            }
            break;
        }
        if (st == SPATE_EINVAL) {
            srun_fatal(j,
                       "window: %.300s (checkpoints belong to the consumer group: run the job "
                       "with a new group and TRUNCATE its table to start afresh)",
                       err);
            wpart_free(p);
            return NULL;
        }
        if (*j->stop) {
            wpart_free(p);
            return NULL;
        }
        srun_backoff(j, &backoff, "window: %s", err);
    }
    if (s->nparts == s->capparts) {
        s->capparts = s->capparts ? s->capparts * 2 : 8;
        s->parts = spate_xrealloc(s->parts, s->capparts * sizeof *s->parts);
    }
    s->parts[s->nparts++] = p;
    return s->last = p;
}

static void wsink_close(void *state);

static spate_status_t wsink_open(srun_job_t *j, void **state, char *err, size_t errlen) {
    const spate_stream_window_conf_t *wc = &j->conf->window;
    const spate_stream_sink_conf_t *sc = &wc->sink;
    wsink_t *s = spate_xcalloc(1, sizeof *s);
    s->j = j;
    s->wc = wc;
    spate_buf_t q = {0};
    s->c = (swin_conf_t){wc->size_ms, wc->hop_ms, wc->watermark_ms, wc->lateness_ms,
                         (uint32_t)wc->ngroup_by};
    swin_t *probe = NULL;
    if (swin_new(&s->c, &probe) != SPATE_OK) {
        snprintf(err, errlen, "window settings out of range");
        goto fail;
    }
    s->cols = spate_xcalloc(wc->ngroup_by ? wc->ngroup_by : 1, sizeof *s->cols);
    for (size_t i = 0; i < wc->ngroup_by; i++) {
        const char *path = spate_stream_path_text(wc->group_by[i]);
        if (swin_column_name(path, s->cols[i], sizeof s->cols[i]) != SPATE_OK) {
            snprintf(err, errlen, "group_by '%s' cannot name a column", path);
            goto fail;
        }
        for (size_t k = 0; k < i; k++)
            if (!strcmp(s->cols[k], s->cols[i])) {
                snprintf(err, errlen, "group_by fields name column %s twice", s->cols[i]);
                goto fail;
            }
    }
    spate_buf_printf(&q, "%s/%s", j->conf->source.group, j->conf->name);
    s->id = spate_buf_detach(&q, NULL);
    /* A sum's read must see every partial acknowledged before it, and a
     * partition's next owner its last checkpoint: in a cluster that takes
     * quorum reads and writes, so the one-replica levels are raised. */
    spate_cql_consistency_t level = (spate_cql_consistency_t)sc->cql.consistency;
    if (level == SPATE_CQL_CONSISTENCY_ANY || level == SPATE_CQL_CONSISTENCY_ONE)
        level = SPATE_CQL_CONSISTENCY_QUORUM;
    else if (level == SPATE_CQL_CONSISTENCY_LOCAL_ONE)
        level = SPATE_CQL_CONSISTENCY_LOCAL_QUORUM;
    if (srun_cql_connect(j, sc, level, &s->cl, err, errlen) != SPATE_OK) goto fail;
    const char *ks = sc->cql.keyspace, *tb = sc->cql.table;
    if (sc->cql.create) {
        spate_buf_reset(&q);
        spate_buf_printf(&q,
                         "CREATE KEYSPACE IF NOT EXISTS %s WITH replication = "
                         "{'class': 'SimpleStrategy', 'replication_factor': '1'}",
                         ks);
        if (ddl(s, q.data, err, errlen) != SPATE_OK) goto fail;
        spate_buf_reset(&q);
        spate_buf_printf(&q,
                         "CREATE TABLE IF NOT EXISTS %s.%s (window_start timestamp, "
                         "window_end timestamp",
                         ks, tb);
        for (size_t i = 0; i < wc->ngroup_by; i++) spate_buf_printf(&q, ", %s text", s->cols[i]);
        spate_buf_puts(&q, ", count bigint, PRIMARY KEY ((window_start)");
        for (size_t i = 0; i < wc->ngroup_by; i++) spate_buf_printf(&q, ", %s", s->cols[i]);
        spate_buf_puts(&q, "))");
        if (ddl(s, q.data, err, errlen) != SPATE_OK) goto fail;
    }
    spate_buf_reset(&q);
    spate_buf_printf(&q,
                     "CREATE TABLE IF NOT EXISTS %s." STATE_TABLE " (id text PRIMARY KEY, "
                     "state blob)",
                     ks);
    if (ddl(s, q.data, err, errlen) != SPATE_OK) goto fail;
    spate_buf_reset(&q);
    spate_buf_printf(&q,
                     "CREATE TABLE IF NOT EXISTS %s." PARTIALS_TABLE " (id text, window_start "
                     "bigint, group_key blob, src text, count bigint, PRIMARY KEY ((id, "
                     "window_start), group_key, src))",
                     ks);
    if (ddl(s, q.data, err, errlen) != SPATE_OK) goto fail;
    spate_buf_reset(&q);
    spate_buf_printf(&q, "INSERT INTO %s.%s (window_start, window_end", ks, tb);
    for (size_t i = 0; i < wc->ngroup_by; i++) spate_buf_printf(&q, ", %s", s->cols[i]);
    spate_buf_puts(&q, ", count) VALUES (?, ?");
    for (size_t i = 0; i < wc->ngroup_by; i++) spate_buf_puts(&q, ", ?");
    spate_buf_puts(&q, ", ?)");
    if (prepare(s, q.data, &s->ins, err, errlen) != SPATE_OK) goto fail;
    int np = spate_cql_prepared_params(s->ins);
    for (int i = 0; i < np; i++) {
        spate_cql_type_t t = spate_cql_prepared_param_type(s->ins, i);
        bool ok = i < 2         ? (t == SPATE_CQL_TIMESTAMP || t == SPATE_CQL_BIGINT)
                  : i == np - 1 ? (t == SPATE_CQL_BIGINT || t == SPATE_CQL_INT)
                                : is_text(t);
        if (!ok) {
            snprintf(err, errlen,
                     "%s.%s: column %s has the wrong type (window_start/window_end: timestamp "
                     "or bigint; count: bigint or int; group fields: text)",
                     ks, tb, spate_cql_prepared_param_name(s->ins, i));
            goto fail;
        }
    }
    spate_buf_reset(&q);
    spate_buf_printf(&q, "INSERT INTO %s." STATE_TABLE " (id, state) VALUES (?, ?)", ks);
    if (prepare(s, q.data, &s->ckpt, err, errlen) != SPATE_OK) goto fail;
    spate_buf_reset(&q);
    spate_buf_printf(&q, "SELECT state FROM %s." STATE_TABLE " WHERE id = ?", ks);
    if (prepare(s, q.data, &s->load, err, errlen) != SPATE_OK) goto fail;
    spate_buf_reset(&q);
    spate_buf_printf(&q,
                     "INSERT INTO %s." PARTIALS_TABLE
                     " (id, window_start, group_key, src, count) VALUES (?, ?, ?, ?, ?)",
                     ks);
    if (s->wc->retention_ms > 0) /* whole seconds, at least one */
        spate_buf_printf(&q, " USING TTL %lld", (long long)(s->wc->retention_ms / 1000));
    if (prepare(s, q.data, &s->pins, err, errlen) != SPATE_OK) goto fail;
    spate_buf_reset(&q);
    spate_buf_printf(
        &q, "SELECT group_key, count FROM %s." PARTIALS_TABLE " WHERE id = ? AND window_start = ?",
        ks);
    if (prepare(s, q.data, &s->psel, err, errlen) != SPATE_OK) goto fail;
    s->q = spate_cql_query_new_prepared(s->ins);
    s->pq = spate_cql_query_new_prepared(s->pins);
    s->cq = spate_cql_query_new_prepared(s->ckpt);
    /* A checkpoint of an older spate (one row for every partition, under
     * the job's id) cannot be split into partitions: refuse it rather
     * than start the counts afresh behind the user's back. */
    bool legacy;
    char e[700];
    int64_t backoff = j->conf->delivery.backoff_ms;
    while (load_row(s, s->id, probe, &legacy, e, sizeof e) == SPATE_EIO) {
        if (*j->stop) {
            snprintf(err, errlen, "%s", e);
            goto fail;
        }
        srun_backoff(j, &backoff, "window: %s", e);
    }
    if (legacy) {
        snprintf(err, errlen,
                 "%s." STATE_TABLE " holds checkpoint %s of an older spate (one state for every "
                 "partition); this spate keeps one per partition and cannot take it over: run "
                 "the job with a new consumer group and TRUNCATE %s.%s to start its counts "
                 "afresh",
                 ks, s->id, ks, tb);
        goto fail;
    }
    swin_free(probe);
    spate_log(SPATE_LOG_INFO, LOGC, "job %s: window %s %lldms%s into %s.%s on %s", j->conf->name,
              wc->kind == SPATE_STREAM_WINDOW_HOPPING ? "hopping" : "tumbling",
              (long long)wc->size_ms, wc->kind == SPATE_STREAM_WINDOW_HOPPING ? " (hop)" : "", ks,
              tb, spate_cql_client_peer(s->cl));
    spate_buf_free(&q);
    *state = s;
    return SPATE_OK;
fail:
    swin_free(probe);
    spate_buf_free(&q);
    wsink_close(s);
    return SPATE_ERR;
}

static void wsink_flush(void *state);

static void wsink_write(void *state, json_t *value, const rd_kafka_message_t *m, srun_token_t tok) {
    wsink_t *s = state;
    srun_job_t *j = s->j;
    wpart_t *p = wpart_get(s, tok.part);
    if (!p) return; /* the job failed or stops: the record stays unsettled, uncommitted */
    if (m->offset < swin_offset_get(p->w, tok.part->topic, tok.part->partition)) {
        s->skipped++; /* below the checkpoint: already counted (or late) */
        srun_ack(j, tok, -1);
        return;
    }
    int64_t t;
    json_t *tv = spate_stream_path_get(s->wc->time, value);
    if (swin_event_time(tv, &t) != SPATE_OK) {
        char reason[200];
        snprintf(reason, sizeof reason, "window: time field '%.64s' %s",
                 spate_stream_path_text(s->wc->time),
                 !tv || json_is_null(tv) ? "is missing" : "is not a time");
        srun_fail(j, tok, reason, m->key, m->key_len, m->payload, m->len);
        return;
    }
    spate_buf_reset(&s->key);
    for (size_t i = 0; i < s->wc->ngroup_by; i++) {
        spate_buf_reset(&s->text);
        swin_value_text(spate_stream_path_get(s->wc->group_by[i], value), &s->text);
        swin_key_put(&s->key, s->text.data ? s->text.data : "", s->text.len);
    }
    swin_verdict_t v;
    if (s->key.len > SWIN_KEY_MAX ||
        swin_add(p->w, t, s->key.data ? s->key.data : "", s->key.len, &v) != SPATE_OK) {
        srun_fail(j, tok, "window: group key too long", m->key, m->key_len, m->payload, m->len);
        return;
    }
    if (v == SWIN_LATE) {
        s->late++;
        srun_fail(j, tok, "late", m->key, m->key_len, m->payload, m->len);
        return;
    }
    if (s->ntoks == s->captoks) {
        s->captoks = s->captoks ? s->captoks * 2 : 1024;
        s->toks = spate_xrealloc(s->toks, s->captoks * sizeof *s->toks);
    }
    s->toks[s->ntoks++] = tok;
    if ((int64_t)s->ntoks >= SPATE_MAX(j->conf->delivery.max_in_flight / 2, 1)) wsink_flush(s);
}

/* ---- rounds of writes: submit many, then wait for every answer ---- */

static void on_write(void *ctx, spate_status_t st, spate_cql_answer_t *a) {
    wsink_t *s = ctx;
    s->answered++;
    if (st != SPATE_OK || spate_cql_answer_kind(a) == SPATE_CQL_ANSWER_ERROR) {
        if (s->failed++ == 0) {
            char text[256] = "";
            if (a) spate_cql_answer_error_text(a, text, sizeof text);
            spate_log(SPATE_LOG_WARN, LOGC, "job %s: window write failed: %s; retrying",
                      s->j->conf->name, a ? text : spate_status_str(st));
        }
    }
    spate_cql_answer_free(a);
}

static void round_begin(wsink_t *s) { s->submitted = s->answered = s->failed = 0; }

static void round_submit(wsink_t *s, const spate_cql_query_t *q) {
    if (spate_cql_client_submit(s->cl, q, on_write, s) != SPATE_OK)
        s->failed++;
    else
        s->submitted++;
}

/* True when every write of the round was stored. Every request ends
 * (answered, timed out or failed with its connection), so this wait is
 * bounded by the client's timeout. */
static bool round_wait(wsink_t *s) {
    while (s->answered < s->submitted) spate_cql_client_poll(s->cl, 10);
    return s->failed == 0;
}

/* ---- the checkpoint ---- */

/* Step 1: every partition's closed rows into the partials table. */
static bool write_partials(wsink_t *s) {
    round_begin(s);
    for (size_t i = 0; i < s->nparts; i++) {
        wpart_t *p = s->parts[i];
        for (size_t k = 0; k < p->nrows && !s->failed; k++) {
            const swin_row_t *r = &p->rows[k];
            spate_cql_query_t *q = s->pq;
            spate_cql_query_clear(q);
            if (spate_cql_query_bind_text(q, 0, s->id, strlen(s->id)) != SPATE_OK ||
                spate_cql_query_bind_bigint(q, 1, r->start) != SPATE_OK ||
                spate_cql_query_bind_blob(q, 2, r->key, r->klen) != SPATE_OK ||
                spate_cql_query_bind_text(q, 3, p->src, strlen(p->src)) != SPATE_OK ||
                spate_cql_query_bind_bigint(q, 4, r->count) != SPATE_OK) {
                srun_fatal(s->j, "window: cannot bind a partial count");
                return false;
            }
            round_submit(s, q);
        }
    }
    return round_wait(s);
}

static bool bind_row(wsink_t *s, int64_t start, const char *key, size_t klen, int64_t count) {
    spate_cql_query_t *q = s->q;
    int np = spate_cql_prepared_params(s->ins);
    spate_cql_query_clear(q);
    for (int i = 0; i < 2; i++) {
        int64_t v = i == 0 ? start : start + s->c.size_ms;
        if (spate_cql_prepared_param_type(s->ins, i) == SPATE_CQL_TIMESTAMP) {
            if (spate_cql_query_bind_timestamp(q, i, v) != SPATE_OK) return false;
        } else if (spate_cql_query_bind_bigint(q, i, v) != SPATE_OK) {
            return false;
        }
    }
    for (uint32_t g = 0; g < s->wc->ngroup_by; g++) {
        const char *p;
        size_t n;
        if (swin_key_get(key, klen, g, &p, &n) != SPATE_OK ||
            spate_cql_query_bind_text(q, 2 + (int)g, p, n) != SPATE_OK)
            return false;
    }
    /* The write timestamp grows with the count: a total summed from more
     * partitions' partials is larger and wins whatever order the writes
     * land in. */
    spate_cql_query_set_timestamp(q, ts_of(count));
    if (spate_cql_prepared_param_type(s->ins, np - 1) == SPATE_CQL_INT)
        return spate_cql_query_bind_int(q, np - 1, (int32_t)SPATE_MIN(count, INT32_MAX)) ==
               SPATE_OK;
    return spate_cql_query_bind_bigint(q, np - 1, count) == SPATE_OK;
}

typedef struct {
    size_t off, len; /* of the key in the sums' buffer */
    int64_t count;
} psum_t;

static int psum_cmp(const void *pa, const void *pb, void *base) {
    const psum_t *a = pa, *b = pb;
    return key_cmp((const char *)base + a->off, a->len, (const char *)base + b->off, b->len);
}

static int i64_cmp(const void *pa, const void *pb) {
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return a < b ? -1 : a > b;
}

/* Step 2, for one closed window: reads every partition's partial counts
 * and upserts each group's sum (timestamp: the sum). Submits the writes
 * into the current round; false when the read failed. */
static bool write_totals(wsink_t *s, int64_t start, size_t *nout) {
    spate_cql_query_t *q = spate_cql_query_new_prepared(s->psel);
    spate_cql_query_bind_text(q, 0, s->id, strlen(s->id));
    spate_cql_query_bind_bigint(q, 1, start);
    spate_cql_query_set_page_size(q, PARTIALS_PAGE);
    spate_buf_t keys = {0};
    psum_t *sums = NULL;
    size_t n = 0, cap = 0;
    bool ok = true;
    for (;;) {
        spate_cql_answer_t *a = NULL;
        if (spate_cql_client_execute(s->cl, q, &a) != SPATE_OK) {
            spate_log(SPATE_LOG_WARN, LOGC, "job %s: window: reading partial counts: %s; retrying",
                      s->j->conf->name, spate_cql_client_error(s->cl));
            spate_cql_answer_free(a);
            ok = false;
            break;
        }
        for (int32_t r = 0; r < spate_cql_answer_rows(a); r++) {
            int32_t klen;
            const char *k = spate_cql_answer_cell(a, r, 0, &klen);
            int64_t c;
            if (!k || klen < 0 || spate_cql_answer_get_bigint(a, r, 1, &c) != SPATE_OK ||
                !key_ok(k, (size_t)klen, s->c.ngroup) || c < 1)
                continue; /* not a row of ours: no sum can use it */
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                sums = spate_xrealloc(sums, cap * sizeof *sums);
            }
            sums[n++] = (psum_t){keys.len, (size_t)klen, c};
            spate_buf_append(&keys, k, (size_t)klen);
        }
        bool more = spate_cql_query_next_page(q, a);
        spate_cql_answer_free(a);
        if (!more) break;
    }
    spate_cql_query_free(q);
    if (ok && n) {
        qsort_r(sums, n, sizeof *sums, psum_cmp, keys.data); /* glibc's argument order */
        for (size_t i = 0; i < n && ok;) {
            size_t e = i + 1;
            int64_t total = sums[i].count;
            while (e < n && !psum_cmp(&sums[i], &sums[e], keys.data)) total += sums[e++].count;
            if (!bind_row(s, start, keys.data + sums[i].off, sums[i].len, total)) {
                srun_fatal(s->j, "window: cannot bind a result row");
                ok = false;
                break;
            }
            round_submit(s, s->q);
            (*nout)++;
            i = e;
        }
    }
    free(sums);
    spate_buf_free(&keys);
    return ok;
}

/* Step 2 for every window closed in any partition. */
static bool write_results(wsink_t *s) {
    size_t nstarts = 0;
    for (size_t i = 0; i < s->nparts; i++) nstarts += s->parts[i]->nrows;
    if (!nstarts) return true;
    int64_t *starts = spate_xmalloc(nstarts * sizeof *starts);
    size_t k = 0;
    for (size_t i = 0; i < s->nparts; i++)
        for (size_t r = 0; r < s->parts[i]->nrows; r++) starts[k++] = s->parts[i]->rows[r].start;
    qsort(starts, nstarts, sizeof *starts, i64_cmp);
    round_begin(s);
    size_t nout = 0;
    bool ok = true;
    for (size_t i = 0; i < nstarts && ok; i++)
        if (i == 0 || starts[i] != starts[i - 1]) ok = write_totals(s, starts[i], &nout);
    free(starts);
    if (!round_wait(s) || !ok) return false;
    if (!s->tee) s->j->c.out += nout;
    for (size_t i = 0; i < s->nparts; i++) {
        swin_rows_free(s->parts[i]->rows, s->parts[i]->nrows);
        s->parts[i]->rows = NULL;
        s->parts[i]->nrows = 0;
    }
    return true;
}

/* Step 4: each changed partition's checkpoint row (timestamp: its next
 * offset, so a longer prefix wins even against a late write of a
 * process that lost the partition). */
static bool write_checkpoints(wsink_t *s) {
    round_begin(s);
    for (size_t i = 0; i < s->nparts && !s->failed; i++) {
        wpart_t *p = s->parts[i];
        if (p->rp->next_offset >= 0)
            swin_offset_set(p->w, p->rp->topic, p->rp->partition, p->rp->next_offset);
        int64_t next = swin_offset_get(p->w, p->rp->topic, p->rp->partition);
        if (next < 0 || next == p->saved) continue;
        spate_buf_reset(&s->blob);
        swin_save(p->w, &s->blob);
        spate_cql_query_clear(s->cq);
        spate_cql_query_bind_text(s->cq, 0, p->state_id, strlen(p->state_id));
        spate_cql_query_bind_blob(s->cq, 1, s->blob.data, s->blob.len);
        spate_cql_query_set_timestamp(s->cq, ts_of(next));
        round_submit(s, s->cq);
    }
    if (!round_wait(s)) return false;
    for (size_t i = 0; i < s->nparts; i++) {
        wpart_t *p = s->parts[i];
        p->saved = swin_offset_get(p->w, p->rp->topic, p->rp->partition);
    }
    return true;
}

/* The checkpoint (see the design note): close, write the partials and
 * the sums, wait for the dead letters, store each partition's state,
 * then acknowledge. A step that fails leaves everything for the next
 * checkpoint (every write is an idempotent upsert). */
static void wsink_flush(void *state) {
    wsink_t *s = state;
    srun_job_t *j = s->j;
    bool rows = false;
    for (size_t i = 0; i < s->nparts; i++) {
        wpart_t *p = s->parts[i];
        swin_row_t *r;
        size_t n = swin_close(p->w, &r);
        if (n) {
            p->rows = spate_xrealloc(p->rows, (p->nrows + n) * sizeof *p->rows);
            memcpy(p->rows + p->nrows, r, n * sizeof *r);
            p->nrows += n;
            free(r);
        }
        rows = rows || p->nrows;
    }
    if (!s->ntoks && !rows) return;
    if (!write_partials(s) || !write_results(s)) return;
    if (j->dlq && j->dlq_pending > 0) {
        rd_kafka_flush(j->dlq, 5000);
        if (j->dlq_pending > 0) return;
    }
    if (!write_checkpoints(s)) return;
    s->checkpoints++;
    size_t nt = s->ntoks;
    s->ntoks = 0;
    for (size_t i = 0; i < nt; i++) srun_ack(j, s->toks[i], -1);
}

static void wsink_poll(void *state, int timeout_ms) {
    wsink_t *s = state;
    if (spate_cql_client_in_flight(s->cl) > 0)
        spate_cql_client_poll(s->cl, timeout_ms);
    else if (timeout_ms > 0)
        spate_sleep_ms(SPATE_MIN(timeout_ms, 5));
}

/* Revoked partitions (drained: their records are in a checkpoint) leave
 * with their windows; if one comes back, its row is loaded again, as it
 * may have moved on in another process meanwhile. */
static void wsink_release(void *state, const rd_kafka_topic_partition_list_t *parts) {
    wsink_t *s = state;
    size_t kept = 0;
    for (size_t i = 0; i < s->nparts; i++) {
        wpart_t *p = s->parts[i];
        if (rd_kafka_topic_partition_list_find(parts, p->rp->topic, p->rp->partition)) {
            if (p->nrows)
                spate_log(SPATE_LOG_WARN, LOGC,
                          "job %s: window: %s revoked with closed windows not written; its next "
                          "owner counts from its last checkpoint",
                          s->j->conf->name, p->src);
            wpart_free(p);
        } else {
            s->parts[kept++] = p;
        }
    }
    s->nparts = kept;
    s->last = NULL;
}

static void wsink_close(void *state) {
    wsink_t *s = state;
    if (s->j && (s->late || s->skipped || s->checkpoints))
        spate_log(SPATE_LOG_INFO, LOGC,
                  "job %s: window: %llu late, %llu skipped (already in the checkpoint), %llu "
                  "checkpoints",
                  s->j->conf->name, (unsigned long long)s->late, (unsigned long long)s->skipped,
                  (unsigned long long)s->checkpoints);
    spate_cql_query_free(s->q);
    spate_cql_query_free(s->pq);
    spate_cql_query_free(s->cq);
    spate_cql_client_free(s->cl); /* frees the prepared handles too */
    for (size_t i = 0; i < s->nparts; i++) wpart_free(s->parts[i]);
    free(s->parts);
    free(s->cols);
    free(s->id);
    free(s->toks); /* unacknowledged: their offsets were not committed past */
    spate_buf_free(&s->key);
    spate_buf_free(&s->text);
    spate_buf_free(&s->blob);
    free(s);
}

static const srun_sink_ops_t srun_sink_window = {
    .name = "window",
    .open = wsink_open,
    .write = wsink_write,
    .poll = wsink_poll,
    .flush = wsink_flush,
    .release = wsink_release,
    .close = wsink_close,
};

/* ---- a window beside the job's own sink ---- */

/* Every record goes to the window and to the job's own sink; it is held
 * (srun_hold) so that its offset is committed only once both settled it:
 * the window at its checkpoint, the sink when it stored (or dead-lettered)
 * it. A record one side refuses is dead-lettered by that side with its
 * reason (e.g. "late" from the window while the sink stored it). */
typedef struct {
    srun_job_t *j;
    const srun_sink_ops_t *own;
    void *own_state;
    wsink_t *win;
} tee_t;

static void tee_close(void *state) {
    tee_t *t = state;
    if (t->own_state) t->own->close(t->own_state);
    if (t->win) wsink_close(t->win);
    free(t);
}

static spate_status_t tee_open(srun_job_t *j, void **state, char *err, size_t errlen) {
    tee_t *t = spate_xcalloc(1, sizeof *t);
    t->j = j;
    t->own = srun_sink_own(j->conf);
    char e[400];
    void *w = NULL;
    if (wsink_open(j, &w, e, sizeof e) != SPATE_OK) {
        snprintf(err, errlen, "%s", e);
        tee_close(t);
        return SPATE_ERR;
    }
    t->win = w;
    t->win->tee = true;
    if (t->own->open(j, &t->own_state, e, sizeof e) != SPATE_OK) {
        snprintf(err, errlen, "its own %s sink: %s", t->own->name, e);
        tee_close(t);
        return SPATE_ERR;
    }
    *state = t;
    return SPATE_OK;
}

static void tee_write(void *state, json_t *value, const rd_kafka_message_t *m, srun_token_t tok) {
    tee_t *t = state;
    srun_token_t wtok = srun_hold(t->j, tok); /* the window's side */
    wsink_write(t->win, value, m, wtok);
    t->own->write(t->own_state, value, m, tok);
}

static void tee_poll(void *state, int timeout_ms) {
    tee_t *t = state;
    wsink_poll(t->win, 0);
    t->own->poll(t->own_state, timeout_ms);
}

static void tee_flush(void *state) {
    tee_t *t = state;
    if (t->own->flush) t->own->flush(t->own_state);
    wsink_flush(t->win);
}

static void tee_release(void *state, const rd_kafka_topic_partition_list_t *parts) {
    tee_t *t = state;
    if (t->own->release) t->own->release(t->own_state, parts);
    wsink_release(t->win, parts);
}

static const srun_sink_ops_t srun_sink_tee = {
    .name = "window",
    .open = tee_open,
    .write = tee_write,
    .poll = tee_poll,
    .flush = tee_flush,
    .release = tee_release,
    .close = tee_close,
};

const srun_sink_ops_t *srun_window_sink_for(const spate_stream_job_t *jc, char *err,
                                            size_t errlen) {
    if (jc->window.sink.kind != SPATE_STREAM_SINK_CQL) {
        snprintf(err, errlen, "job %s: window results go to a cql sink only", jc->name);
        return NULL;
    }
    return srun_sink_own(jc) ? &srun_sink_tee : &srun_sink_window;
}
