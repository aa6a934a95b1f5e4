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
 * Exactly once. A counted record's token is not acknowledged when it is
 * counted but at the next checkpoint, so the offset the job commits never
 * passes a record whose count is not durable. A checkpoint (at every
 * commit point, and when half of max_in_flight is waiting):
 *
 *   1. closes windows and upserts their rows into the output table,
 *      waiting for every answer (a failure: try again next time)
 *   2. waits for the dead-letter producer (late and failed records below
 *      the checkpoint's offsets must be in the dead-letter topic)
 *   3. writes the whole state with every partition's next offset as ONE
 *      row (id = "<group>/<job>", state blob) of ks.spate_window_state:
 *      a single-row write is atomic, so the counts and the offsets they
 *      cover change together
 *   4. acknowledges the tokens it covers (the commit may now pass them)
 *
 * At open the row is loaded; a record below its partition's checkpoint
 * offset is already in the state (or was late / dead-lettered) and is
 * acknowledged without being counted again. kill -9 anywhere:
 *   before 3 — the old checkpoint and the old commit: the records after it
 *              are counted again from scratch, windows closed meanwhile
 *              are written again with the same counts (upserts by key);
 *   after 3  — the new checkpoint; records between the commit and its
 *              offsets are skipped.
 * With several partitions the watermark depends on how their records
 * interleave (as in every event-time system); a replay may interleave
 * differently, which matters only for records near the lateness edge.
 *
 * Checkpoint layout (big-endian; swin_save / swin_load):
 *
 *   u32 magic "SWN1" | i64 size | i64 hop | i64 delay | i64 lateness | u32 ngroup
 *   i64 max event time (INT64_MIN: none)
 *   u32 npos  { i16 len + topic | i32 partition | i64 next offset } * npos
 *   u32 ncell { i64 start | i64 count | u32 klen + key } * ncell
 *
 * Positions sorted by (topic, partition), cells by (start, key): the same
 * state gives the same bytes. Loading checks everything (settings equal
 * to the job's, aligned starts, windows still open, counts > 0, keys
 * well-formed, no duplicates, nothing trailing).
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
 * Limits: the state lives in one process (a window job runs as one
 * process; partitions moving to another process would not take the
 * counts with them); results go to CQL only.
 */
#include "stream_window.h"

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
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
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

typedef struct {
    srun_job_t *j;
    const spate_stream_window_conf_t *wc;
    swin_t *w;
    spate_cql_client_t *cl;
    spate_cql_prepared_t *ins, *ckpt;
    spate_cql_query_t *q;
    char (*cols)[49];
    char *state_id;
    srun_token_t *toks; /* counted, waiting for a checkpoint */
    size_t ntoks, captoks;
    swin_row_t *rows; /* closed, not yet written */
    size_t nrows;
    int answered, failed; /* of the rows being written */
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

/* Loads the checkpoint row, if there is one. */
static spate_status_t restore(wsink_t *s, char *err, size_t errlen) {
    const spate_stream_sink_conf_t *sc = &s->wc->sink;
    spate_buf_t q = {0};
    spate_buf_printf(&q, "SELECT state FROM %s." STATE_TABLE " WHERE id = ?", sc->cql.keyspace);
    spate_cql_prepared_t *sel;
    spate_status_t st = prepare(s, q.data, &sel, err, errlen);
    spate_buf_free(&q);
    if (st != SPATE_OK) return st;
    spate_cql_query_t *qq = spate_cql_query_new_prepared(sel);
    spate_cql_query_bind_text(qq, 0, s->state_id, strlen(s->state_id));
    spate_cql_answer_t *a = NULL;
    st = spate_cql_client_execute(s->cl, qq, &a);
    spate_cql_query_free(qq);
    if (st != SPATE_OK) {
        snprintf(err, errlen, "reading the checkpoint: %s", spate_cql_client_error(s->cl));
        spate_cql_answer_free(a);
        return st;
    }
    if (spate_cql_answer_rows(a) > 0) {
        const char *p;
        size_t n;
        if (spate_cql_answer_get_text(a, 0, 0, &p, &n) != SPATE_OK) {
            snprintf(err, errlen, "checkpoint %s: no state", s->state_id);
            st = SPATE_EINVAL;
        } else {
            char e[300];
            st = swin_load(s->w, p, n, e, sizeof e);
            if (st != SPATE_OK)
                snprintf(err, errlen,
                         "checkpoint %s in %s." STATE_TABLE ": %s (delete the row to start "
                         "the counts afresh)",
                         s->state_id, sc->cql.keyspace, e);
        }
        if (st == SPATE_OK) {
            spate_buf_t offs = {0};
            for (size_t i = 0; i < s->w->npos; i++)
                spate_buf_printf(&offs, " %s/%d=%lld", s->w->pos[i].topic, s->w->pos[i].partition,
                                 (long long)s->w->pos[i].next);
            char wm[25] = "none";
            if (swin_watermark(s->w) != INT64_MIN) spate_time_iso8601(swin_watermark(s->w), wm);
            spate_log(SPATE_LOG_INFO, LOGC,
                      "job %s: window checkpoint restored: %zu open cells, watermark %s, "
                      "next offsets%s",
                      s->j->conf->name, swin_cells(s->w), wm, offs.len ? offs.data : " none");
            spate_buf_free(&offs);
        }
    }
    spate_cql_answer_free(a);
    return st;
}

static void wsink_close(void *state);

static spate_status_t wsink_open(srun_job_t *j, void **state, char *err, size_t errlen) {
    const spate_stream_window_conf_t *wc = &j->conf->window;
    const spate_stream_sink_conf_t *sc = &wc->sink;
    wsink_t *s = spate_xcalloc(1, sizeof *s);
    s->j = j;
    s->wc = wc;
    spate_buf_t cp = {0}, q = {0};
    swin_conf_t c = {wc->size_ms, wc->hop_ms, wc->watermark_ms, wc->lateness_ms,
                     (uint32_t)wc->ngroup_by};
    if (swin_new(&c, &s->w) != SPATE_OK) {
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
    s->state_id = spate_buf_detach(&q, NULL);
    for (size_t i = 0; i < sc->cql.ncontact; i++)
        spate_buf_printf(&cp, "%s%s", i ? "," : "", sc->cql.contact_points[i]);
    spate_cql_client_conf_t conf;
    spate_cql_client_conf_default(&conf);
    conf.contact_points = cp.len ? cp.data : "127.0.0.1:9042";
    conf.max_in_flight =
        sc->cql.concurrency > 0 ? sc->cql.concurrency : SPATE_STREAM_CQL_CONCURRENCY;
    conf.consistency = (spate_cql_consistency_t)sc->cql.consistency;
    int64_t backoff = j->conf->delivery.backoff_ms;
    for (;;) { /* the store may still be starting: keep trying until stopped */
        char e[512];
        if (spate_cql_client_connect(&s->cl, &conf, e, sizeof e) == SPATE_OK) break;
        if (*j->stop) {
            snprintf(err, errlen, "connect: %s", e);
            goto fail;
        }
        spate_log(SPATE_LOG_WARN, LOGC, "job %s: CQL connect: %s; again in %lld ms", j->conf->name,
                  e, (long long)backoff);
        spate_sleep_ms(backoff);
        backoff = SPATE_MIN(backoff * 2, j->conf->delivery.backoff_max_ms);
    }
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
    s->q = spate_cql_query_new_prepared(s->ins);
    if (restore(s, err, errlen) != SPATE_OK) goto fail;
    spate_log(SPATE_LOG_INFO, LOGC, "job %s: window %s %lldms%s into %s.%s on %s", j->conf->name,
              wc->kind == SPATE_STREAM_WINDOW_HOPPING ? "hopping" : "tumbling",
              (long long)wc->size_ms, wc->kind == SPATE_STREAM_WINDOW_HOPPING ? " (hop)" : "", ks,
              tb, spate_cql_client_peer(s->cl));
    spate_buf_free(&cp);
    spate_buf_free(&q);
    *state = s;
    return SPATE_OK;
fail:
    spate_buf_free(&cp);
    spate_buf_free(&q);
    wsink_close(s);
    return SPATE_ERR;
}

static void wsink_flush(void *state);

static void wsink_write(void *state, json_t *value, const rd_kafka_message_t *m, srun_token_t tok) {
    wsink_t *s = state;
    srun_job_t *j = s->j;
    if (m->offset < swin_offset_get(s->w, tok.part->topic, tok.part->partition)) {
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
        swin_add(s->w, t, s->key.data ? s->key.data : "", s->key.len, &v) != SPATE_OK) {
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

static void on_row(void *ctx, spate_status_t st, spate_cql_answer_t *a) {
    wsink_t *s = ctx;
    s->answered++;
    if (st != SPATE_OK || spate_cql_answer_kind(a) == SPATE_CQL_ANSWER_ERROR) {
        if (s->failed++ == 0) {
            char text[256] = "";
            if (a) spate_cql_answer_error_text(a, text, sizeof text);
            spate_log(SPATE_LOG_WARN, LOGC, "job %s: window row write failed: %s; retrying",
                      s->j->conf->name, a ? text : spate_status_str(st));
        }
    }
    spate_cql_answer_free(a);
}

static bool bind_row(wsink_t *s, const swin_row_t *r) {
    spate_cql_query_t *q = s->q;
    int np = spate_cql_prepared_params(s->ins);
    spate_cql_query_clear(q);
    for (int i = 0; i < 2; i++) {
        int64_t v = i == 0 ? r->start : r->end;
        if (spate_cql_prepared_param_type(s->ins, i) == SPATE_CQL_TIMESTAMP) {
            if (spate_cql_query_bind_timestamp(q, i, v) != SPATE_OK) return false;
        } else if (spate_cql_query_bind_bigint(q, i, v) != SPATE_OK) {
            return false;
        }
    }
    for (uint32_t g = 0; g < s->wc->ngroup_by; g++) {
        const char *p;
        size_t n;
        if (swin_key_get(r->key, r->klen, g, &p, &n) != SPATE_OK ||
            spate_cql_query_bind_text(q, 2 + (int)g, p, n) != SPATE_OK)
            return false;
    }
    if (spate_cql_prepared_param_type(s->ins, np - 1) == SPATE_CQL_INT)
        return spate_cql_query_bind_int(q, np - 1, (int32_t)SPATE_MIN(r->count, INT32_MAX)) ==
               SPATE_OK;
    return spate_cql_query_bind_bigint(q, np - 1, r->count) == SPATE_OK;
}

/* Writes every closed row and waits for the answers. True when all were
 * stored (the rows are then freed). */
static bool write_rows(wsink_t *s) {
    if (!s->nrows) return true;
    s->answered = s->failed = 0;
    int submitted = 0;
    for (size_t i = 0; i < s->nrows; i++) {
        if (!bind_row(s, &s->rows[i])) {
            srun_fatal(s->j, "window: cannot bind a result row");
            return false;
        }
        if (spate_cql_client_submit(s->cl, s->q, on_row, s) != SPATE_OK) {
            s->failed++;
            break;
        }
        submitted++;
    }
    /* Every request ends (answered, timed out or failed with its
     * connection), so this wait is bounded by the client's timeout. */
    while (s->answered < submitted) spate_cql_client_poll(s->cl, 10);
    if (s->failed) return false;
    if (!s->tee) s->j->c.out += s->nrows;
    swin_rows_free(s->rows, s->nrows);
    s->rows = NULL;
    s->nrows = 0;
    return true;
}

/* The checkpoint (see the design note): close and write, wait for the
 * dead letters, store the state, then acknowledge. */
static void wsink_flush(void *state) {
    wsink_t *s = state;
    srun_job_t *j = s->j;
    if (!s->ntoks && !s->nrows) return;
    swin_row_t *rows;
    size_t n = swin_close(s->w, &rows);
    if (n) {
        s->rows = spate_xrealloc(s->rows, (s->nrows + n) * sizeof *s->rows);
        memcpy(s->rows + s->nrows, rows, n * sizeof *rows);
        s->nrows += n;
        free(rows);
    }
    if (!write_rows(s)) return;
    if (j->dlq && j->dlq_pending > 0) {
        rd_kafka_flush(j->dlq, 5000);
        if (j->dlq_pending > 0) return;
    }
    for (size_t i = 0; i < j->nparts; i++)
        if (j->parts[i]->next_offset >= 0)
            swin_offset_set(s->w, j->parts[i]->topic, j->parts[i]->partition,
                            j->parts[i]->next_offset);
    spate_buf_reset(&s->blob);
    swin_save(s->w, &s->blob);
    spate_cql_query_t *q = spate_cql_query_new_prepared(s->ckpt);
    spate_cql_query_bind_text(q, 0, s->state_id, strlen(s->state_id));
    spate_cql_query_bind_blob(q, 1, s->blob.data, s->blob.len);
    spate_status_t st = spate_cql_client_execute(s->cl, q, NULL);
    spate_cql_query_free(q);
    if (st != SPATE_OK) {
        spate_log(SPATE_LOG_WARN, LOGC, "job %s: window checkpoint failed: %s; retrying",
                  j->conf->name, spate_cql_client_error(s->cl));
        return;
    }
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

static void wsink_close(void *state) {
    wsink_t *s = state;
    if (s->j && s->w && (s->late || s->skipped || s->checkpoints))
        spate_log(SPATE_LOG_INFO, LOGC,
                  "job %s: window: %llu late, %llu skipped (already in the checkpoint), %llu "
                  "checkpoints, %zu open cells",
                  s->j->conf->name, (unsigned long long)s->late, (unsigned long long)s->skipped,
                  (unsigned long long)s->checkpoints, swin_cells(s->w));
    spate_cql_query_free(s->q);
    spate_cql_client_free(s->cl); /* frees the prepared handles too */
    swin_rows_free(s->rows, s->nrows);
    swin_free(s->w);
    free(s->cols);
    free(s->state_id);
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

static const srun_sink_ops_t srun_sink_tee = {
    .name = "window",
    .open = tee_open,
    .write = tee_write,
    .poll = tee_poll,
    .flush = tee_flush,
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
