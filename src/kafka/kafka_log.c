/*
 * kafka_log.c — a partition's log: segment files, sparse indexes,
 * recovery, reads by offset and by time, rolling and retention.
 *
 * Layout (kafka_log.h has the file formats):
 *
 *   <dir>/00000000000000000000.log   <dir>/00000000000000000057.log   ...
 *         .index .timeindex                .index .timeindex
 *   |<------- older segments: read-only, trusted ------->|<- active ->|
 *
 * In memory each segment keeps its fd, base offset, end offset, size,
 * largest MaxTimestamp and both sparse indexes; the active segment also
 * keeps its index files open for appending. Reads use pread only, appends
 * write() to O_APPEND fds, so the file offset never matters.
 *
 * Index entries. Before a batch is appended at file position P > 0, if at
 * least index_interval_bytes were appended since the last entry, the
 * segment gets the pair
 *
 *   .index      (BaseOffset - base, P)
 *   .timeindex  (largest MaxTimestamp of the batches before P, BaseOffset - base)
 *
 * so an offset lookup starts scanning at the greatest entry <= the offset,
 * and a time lookup for ts can skip to the last entry whose timestamp is
 * < ts: no batch before that point can have MaxTimestamp >= ts. Entries
 * reach the files as they are made (written before their batch, so a
 * failed append leaves no entry behind in memory), but are fsynced only by
 * spate_klog_flush: they are caches, validated on open and rebuilt from the
 * .log when they do not fit it.
 *
 * Open and recovery:
 *   - older segments are trusted: their indexes are loaded if well-formed
 *     (entry-size multiple, strictly increasing, inside the file), and the
 *     end offset and largest timestamp are learnt from the last index pair
 *     (its timestamp sums up the batches before it) plus a scan of batch
 *     headers from its file position to the end of the file; the batch
 *     found there must carry the offset the entry promised, otherwise the
 *     indexes are rebuilt by a header scan of the whole file.
 *     A header that makes no sense in an older segment (possible only if it
 *     was rolled and the machine died before a flush) ends that segment in
 *     memory, with a warning; the file is left alone and reads skip the gap.
 *   - the last (active) segment is scanned fully with spate_kbatch_parse
 *     (CRC included) and offset continuity; the first bad batch and all
 *     after it are cut (ftruncate + fsync) and logged; its indexes are
 *     always rebuilt by that scan.
 *
 * Invariants: segs[] is sorted by base offset and segments do not
 * overlap (base[i] >= end[i-1]; open refuses a directory where they do);
 * the active segment is segs[nseg-1] and l->end == its end offset; the
 * log start offset is segs[0]->base.
 *
 * A failed fsync leaves the log failed: later appends and flushes return
 * SPATE_EIO, because after a failed fsync Linux may have dropped the dirty
 * pages, and a retried fsync that "succeeds" would promise data that is
 * gone. Reads keep working.
 */
#include "kafka_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KLOG_SCAN_MAX (64 << 20)  /* largest batch accepted by recovery */
#define KLOG_SCAN_CHUNK (1 << 20) /* bytes read at once by header scans */
#define KLOG_IDX_ENTRY 8
#define KLOG_TIDX_ENTRY 12
#define KLOG_NO_TS INT64_MIN /* largest timestamp of a segment with no batches */

typedef struct {
    uint32_t rel; /* offset - segment base */
    uint32_t pos; /* file position of a batch starting there */
} kidx_t;

typedef struct {
    int64_t ts;   /* largest MaxTimestamp of the batches before rel */
    uint32_t rel; /* offset - segment base of a batch start */
} ktidx_t;

typedef struct {
    int64_t base;        /* from the file name = BaseOffset of its first batch */
    int64_t end;         /* LastOffset + 1 of its last batch; base when empty */
    int64_t size;        /* bytes of .log in use */
    int64_t max_ts;      /* largest MaxTimestamp, KLOG_NO_TS when empty */
    int fd;              /* .log */
    int idx_fd, tidx_fd; /* open while appending or not yet synced; else -1 */
    kidx_t *idx;
    size_t nidx, cidx;
    ktidx_t *tidx;
    size_t ntidx, ctidx;
    int64_t since_idx; /* bytes appended since the last index entry */
    bool unsynced;     /* written since the last flush */
} kseg_t;

struct spate_klog {
    char *dir;
    spate_klog_conf_t conf;
    kseg_t **segs;
    size_t nseg, cseg;
    int64_t end;       /* next offset to assign */
    int64_t size;      /* sum of segment sizes */
    bool dirty;        /* appended data not yet fsynced */
    bool dir_unsynced; /* a segment file was created since the last flush */
    bool failed;       /* a write could not be undone or an fsync failed */
};

/* A batch header as the log needs it (trusted scans and reads). */
typedef struct {
    int64_t base;
    int64_t total; /* 12 + Length */
    int32_t delta; /* LastOffsetDelta */
    int64_t max_ts;
} khdr_t;

/* ---- small helpers ---- */

static uint32_t get_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t get_be64(const uint8_t *p) { return (uint64_t)get_be32(p) << 32 | get_be32(p + 4); }
static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static void put_be64(uint8_t *p, uint64_t v) {
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

/* Decodes the header at p (caller guarantees 61 readable bytes) of a
 * batch that must fit in `room` bytes of file. Only the cheap checks: this
 * serves trusted segments and reads, where the CRC was checked on the way
 * in, and append, whose caller has parsed the batch. BaseOffset is not
 * checked here (append overwrites it). */
static bool hdr_decode_length(const uint8_t *p, int64_t room, khdr_t *h) {
    int32_t length = (int32_t)get_be32(p + 8);
    h->base = (int64_t)get_be64(p);
    h->total = (int64_t)length + 12;
    h->delta = (int32_t)get_be32(p + 23);
    h->max_ts = (int64_t)get_be64(p + 35);
    return length >= SPATE_KBATCH_HEADER - 12 && h->total <= room && p[16] == 2 && h->delta >= 0;
}

/* The same, for a stored batch: its offsets must also be sane. */
static bool hdr_decode(const uint8_t *p, int64_t room, khdr_t *h) {
    return hdr_decode_length(p, room, h) && h->base >= 0 && h->base <= INT64_MAX - 1 - h->delta;
}

static void seg_path(const spate_klog_t *l, int64_t base, const char *ext, char *out, size_t n) {
    snprintf(out, n, "%s/%020" PRId64 ".%s", l->dir, base, ext);
}

/* Logs "<file>: <what>: <strerror(errno)>" and returns SPATE_EIO. */
static spate_status_t io_fail(const spate_klog_t *l, int64_t base, const char *ext,
                              const char *what) {
    int e = errno;
    char path[PATH_MAX];
    if (ext)
        seg_path(l, base, ext, path, sizeof path);
    else
        snprintf(path, sizeof path, "%s", l->dir);
    spate_log(SPATE_LOG_ERROR, "kafka", "%s: %s: %s", path, what, strerror(e));
    errno = e;
    return SPATE_EIO;
}

static spate_status_t write_full(int fd, const void *p, size_t n) {
    const uint8_t *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return SPATE_EIO;
        if (w == 0) {
            errno = ENOSPC;
            return SPATE_EIO;
        }
        c += w;
        n -= (size_t)w;
    }
    return SPATE_OK;
}

/* Reads up to n bytes at off; *got < n only at end of file. */
static spate_status_t pread_full(int fd, void *p, size_t n, int64_t off, size_t *got) {
    uint8_t *c = p;
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, c + done, n - done, (off_t)(off + (int64_t)done));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return SPATE_EIO;
        if (r == 0) break;
        done += (size_t)r;
    }
    *got = done;
    return SPATE_OK;
}

/* ---- segments and their indexes ---- */

static void seg_free(kseg_t *s) {
    if (!s) return;
    if (s->fd >= 0) close(s->fd);
    if (s->idx_fd >= 0) close(s->idx_fd);
    if (s->tidx_fd >= 0) close(s->tidx_fd);
    free(s->idx);
    free(s->tidx);
    free(s);
}

static kseg_t *seg_new(int64_t base) {
    kseg_t *s = spate_xcalloc(1, sizeof *s);
    s->base = s->end = base;
    s->max_ts = KLOG_NO_TS;
    s->fd = s->idx_fd = s->tidx_fd = -1;
    return s;
}

static void seg_drop_indexes(kseg_t *s) {
    s->nidx = s->ntidx = 0;
    s->since_idx = 0;
}

static void idx_push(kseg_t *s, uint32_t rel, uint32_t pos) {
    if (s->nidx == s->cidx) {
        s->cidx = s->cidx ? s->cidx * 2 : 16;
        s->idx = spate_xrealloc(s->idx, s->cidx * sizeof *s->idx);
    }
    s->idx[s->nidx++] = (kidx_t){rel, pos};
}

static void tidx_push(kseg_t *s, int64_t ts, uint32_t rel) {
    if (s->ntidx == s->ctidx) {
        s->ctidx = s->ctidx ? s->ctidx * 2 : 16;
        s->tidx = spate_xrealloc(s->tidx, s->ctidx * sizeof *s->tidx);
    }
    s->tidx[s->ntidx++] = (ktidx_t){ts, rel};
}

/* Whether the batch about to go at position `pos` gets index entries. */
static bool seg_wants_entry(const spate_klog_t *l, const kseg_t *s, int64_t pos) {
    return pos > 0 && s->since_idx >= l->conf.index_interval_bytes;
}

/* Accounts one batch at `pos` (entries already made by the caller). */
static void seg_note_batch(kseg_t *s, int64_t pos, const khdr_t *h) {
    s->since_idx += h->total;
    s->size = pos + h->total;
    s->end = h->base + h->delta + 1;
    if (h->max_ts > s->max_ts) s->max_ts = h->max_ts;
}

/* Accounts a batch during a scan, making entries as an append would. */
static void seg_scan_batch(const spate_klog_t *l, kseg_t *s, int64_t pos, const khdr_t *h) {
    if (seg_wants_entry(l, s, pos)) {
        uint32_t rel = (uint32_t)(h->base - s->base);
        idx_push(s, rel, (uint32_t)pos);
        tidx_push(s, s->max_ts, rel);
        s->since_idx = 0;
    }
    seg_note_batch(s, pos, h);
}

/* File position of the greatest indexed batch with offset <= `offset`
 * (0 when there is none): scanning from there reaches `offset`. */
static int64_t idx_lookup(const kseg_t *s, int64_t offset) {
    if (offset < s->base) return 0;
    int64_t rel = offset - s->base;
    size_t lo = 0, hi = s->nidx; /* first entry with rel > target */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((int64_t)s->idx[mid].rel <= rel)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? s->idx[lo - 1].pos : 0;
}

/* Index of the segment holding `offset`: the last with base <= offset (0
 * when offset is below all). */
static size_t seg_find(const spate_klog_t *l, int64_t offset) {
    size_t lo = 0, hi = l->nseg;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->segs[mid]->base <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : 0;
}

static kseg_t *active(const spate_klog_t *l) { return l->segs[l->nseg - 1]; }

/* Writes both index files whole from memory. With keep_open the fds stay
 * open (O_APPEND) for the entries appends will add. */
static spate_status_t seg_write_indexes(spate_klog_t *l, kseg_t *s, bool keep_open) {
    static const char *const ext[2] = {"index", "timeindex"};
    size_t n[2] = {s->nidx * KLOG_IDX_ENTRY, s->ntidx * KLOG_TIDX_ENTRY};
    int *fdp[2] = {&s->idx_fd, &s->tidx_fd};
    for (int k = 0; k < 2; k++) {
        char path[PATH_MAX];
        seg_path(l, s->base, ext[k], path, sizeof path);
        if (*fdp[k] >= 0) close(*fdp[k]);
        *fdp[k] = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
        if (*fdp[k] < 0) return io_fail(l, s->base, ext[k], "open");
        uint8_t *b = spate_xmalloc(n[k]);
        if (k == 0) {
            for (size_t i = 0; i < s->nidx; i++) {
                put_be32(b + i * KLOG_IDX_ENTRY, s->idx[i].rel);
                put_be32(b + i * KLOG_IDX_ENTRY + 4, s->idx[i].pos);
            }
        } else {
            for (size_t i = 0; i < s->ntidx; i++) {
                put_be64(b + i * KLOG_TIDX_ENTRY, (uint64_t)s->tidx[i].ts);
                put_be32(b + i * KLOG_TIDX_ENTRY + 8, s->tidx[i].rel);
            }
        }
        spate_status_t st = write_full(*fdp[k], b, n[k]);
        free(b);
        if (st != SPATE_OK) return io_fail(l, s->base, ext[k], "write");
        if (!keep_open) {
            close(*fdp[k]);
            *fdp[k] = -1;
        }
    }
    return SPATE_OK;
}

/* Reads a whole index file; *n = 0 and *p = NULL when it is missing. */
static spate_status_t read_file(spate_klog_t *l, int64_t base, const char *ext, uint8_t **p,
                                size_t *n) {
    char path[PATH_MAX];
    seg_path(l, base, ext, path, sizeof path);
    *p = NULL;
    *n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? SPATE_OK : io_fail(l, base, ext, "open");
    struct stat st;
    if (fstat(fd, &st) < 0) {
        spate_status_t rc = io_fail(l, base, ext, "fstat");
        close(fd);
        return rc;
    }
    size_t want = (size_t)st.st_size, got = 0;
    uint8_t *b = spate_xmalloc(want);
    if (pread_full(fd, b, want, 0, &got) != SPATE_OK) {
        spate_status_t rc = io_fail(l, base, ext, "read");
        free(b);
        close(fd);
        return rc;
    }
    close(fd);
    *p = b;
    *n = got;
    return SPATE_OK;
}

/* Loads the index files of a trusted segment whose size is known; false
 * (and empty indexes) when they are missing or do not fit the .log. */
static spate_status_t seg_load_indexes(spate_klog_t *l, kseg_t *s, bool *ok) {
    uint8_t *ib = NULL, *tb = NULL;
    size_t in = 0, tn = 0;
    *ok = false;
    spate_status_t st = read_file(l, s->base, "index", &ib, &in);
    if (st == SPATE_OK) st = read_file(l, s->base, "timeindex", &tb, &tn);
    if (st != SPATE_OK) goto out;
    if (!ib || !tb || in % KLOG_IDX_ENTRY || tn % KLOG_TIDX_ENTRY) goto out;
    for (size_t i = 0; i < in / KLOG_IDX_ENTRY; i++) {
        uint32_t rel = get_be32(ib + i * KLOG_IDX_ENTRY),
                 pos = get_be32(ib + i * KLOG_IDX_ENTRY + 4);
        if ((int64_t)pos >= s->size) goto out;
        if (i > 0 && (rel <= s->idx[i - 1].rel || pos <= s->idx[i - 1].pos)) goto out;
        idx_push(s, rel, pos);
    }
    for (size_t i = 0; i < tn / KLOG_TIDX_ENTRY; i++) {
        int64_t ts = (int64_t)get_be64(tb + i * KLOG_TIDX_ENTRY);
        uint32_t rel = get_be32(tb + i * KLOG_TIDX_ENTRY + 8);
        if (i > 0 && (rel <= s->tidx[i - 1].rel || ts < s->tidx[i - 1].ts)) goto out;
        tidx_push(s, ts, rel);
    }
    /* Written in pairs (same offsets) by this file; anything else is not ours. */
    if (s->nidx != s->ntidx) goto out;
    for (size_t i = 0; i < s->nidx; i++)
        if (s->idx[i].rel != s->tidx[i].rel) goto out;
    *ok = true;
out:
    if (!*ok) seg_drop_indexes(s);
    free(ib);
    free(tb);
    return st;
}

/* ---- scanning a .log ---- */

/* A forward reader over one .log: a window of the file in memory,
 * refilled by one pread when a batch runs past it. */
typedef struct {
    spate_klog_t *l;
    kseg_t *s;
    int64_t file_end;
    uint8_t *buf;
    size_t cap;
    int64_t wpos; /* file position of buf[0] */
    size_t wlen;  /* bytes valid in buf */
    size_t chunk; /* bytes read at least per refill */
} kscan_t;

static void scan_init(kscan_t *sc, spate_klog_t *l, kseg_t *s, int64_t file_end) {
    *sc = (kscan_t){.l = l, .s = s, .file_end = file_end, .chunk = KLOG_SCAN_CHUNK};
}

static void scan_free(kscan_t *sc) { free(sc->buf); }

/* Points *p at file position pos with at least min(n, bytes left in the
 * file) bytes after it; *avail says how many there are. */
static spate_status_t scan_need(kscan_t *sc, int64_t pos, size_t n, const uint8_t **p,
                                size_t *avail) {
    int64_t left = sc->file_end > pos ? sc->file_end - pos : 0;
    if ((int64_t)n > left) n = (size_t)left;
    if (pos < sc->wpos || pos + (int64_t)n > sc->wpos + (int64_t)sc->wlen) {
        size_t want = SPATE_MAX(n, sc->chunk);
        if ((int64_t)want > left) want = (size_t)left;
        if (want > sc->cap) {
            free(sc->buf);
            sc->buf = spate_xmalloc(want);
            sc->cap = want;
        }
        sc->wpos = pos;
        sc->wlen = 0;
        if (pread_full(sc->s->fd, sc->buf, want, pos, &sc->wlen) != SPATE_OK)
            return io_fail(sc->l, sc->s->base, "log", "read");
    }
    *p = sc->buf + (pos - sc->wpos);
    *avail = (size_t)(sc->wpos + (int64_t)sc->wlen - pos);
    return SPATE_OK;
}

/* Header-only scan of a trusted segment from `pos`, where a batch with
 * offset `expect` or later must start (expect < 0: any), to the end of its
 * file. Later, not exactly: compaction leaves gaps between batches.
 * With build, index entries are made as appends would make them. Sets the
 * segment's size, end and largest timestamp; a header that makes no sense
 * ends the segment there (*clean = false). */
static spate_status_t seg_scan_headers(spate_klog_t *l, kseg_t *s, int64_t pos, int64_t expect,
                                       int64_t file_end, bool build, bool *clean) {
    kscan_t sc;
    scan_init(&sc, l, s, file_end);
    spate_status_t st = SPATE_OK;
    *clean = true;
    s->size = pos;
    while (pos < file_end) {
        const uint8_t *p = NULL;
        size_t avail = 0;
        khdr_t h;
        if ((st = scan_need(&sc, pos, SPATE_KBATCH_HEADER, &p, &avail)) != SPATE_OK) break;
        if (avail < SPATE_KBATCH_HEADER || !hdr_decode(p, file_end - pos, &h) ||
            (expect >= 0 && h.base < expect) || h.base + h.delta - s->base > INT32_MAX) {
            *clean = false;
            break;
        }
        if (build)
            seg_scan_batch(l, s, pos, &h);
        else
            seg_note_batch(s, pos, &h);
        expect = h.base + h.delta + 1;
        pos += h.total;
    }
    scan_free(&sc);
    return st;
}

/* Opens an older segment: trusts its bytes, learns its end offset and
 * largest timestamp from the indexes and the headers after them. */
static spate_status_t seg_open_old(spate_klog_t *l, kseg_t *s, int64_t file_size) {
    s->size = file_size;
    bool ok, clean = false;
    spate_status_t st = seg_load_indexes(l, s, &ok);
    if (st != SPATE_OK) return st;
    if (ok && s->nidx > 0) {
        /* The last pair sums up every batch before its offset; only the
         * batches from there on need their headers read. */
        const kidx_t *e = &s->idx[s->nidx - 1];
        s->max_ts = s->tidx[s->ntidx - 1].ts;
        st = seg_scan_headers(l, s, e->pos, s->base + e->rel, file_size, false, &clean);
        if (st != SPATE_OK) return st;
        ok = clean;
    } else if (ok) {
        /* No entries: right for a segment smaller than the interval. */
        st = seg_scan_headers(l, s, 0, s->base, file_size, true, &clean);
        if (st != SPATE_OK) return st;
        ok = clean && s->nidx == 0;
    }
    if (!ok) {
        char path[PATH_MAX];
        seg_path(l, s->base, "log", path, sizeof path);
        seg_drop_indexes(s);
        s->end = s->base;
        s->max_ts = KLOG_NO_TS;
        st = seg_scan_headers(l, s, 0, s->base, file_size, true, &clean);
        if (st != SPATE_OK) return st;
        if (!clean)
            spate_log(SPATE_LOG_WARN, "kafka",
                      "%s: no valid batch at file position %" PRId64 " of %" PRId64
                      " in an older segment; serving the %" PRId64
                      " offsets before it (from %" PRId64 "), the file is left as it is",
                      path, s->size, file_size, s->end - s->base, s->base);
        spate_log(SPATE_LOG_INFO, "kafka", "%s: rebuilt indexes (%zu entries)", path, s->nidx);
        st = seg_write_indexes(l, s, false);
    }
    return st;
}

/* Opens the active segment: verifies every batch, cuts a bad tail,
 * rebuilds its indexes and keeps them open for appending. */
static spate_status_t seg_open_active(spate_klog_t *l, kseg_t *s, int64_t file_size) {
    kscan_t sc;
    scan_init(&sc, l, s, file_size);
    spate_status_t st = SPATE_OK;
    int64_t pos = 0, expect = s->base;
    const char *why = NULL;
    char whybuf[96];
    while (pos < file_size) {
        const uint8_t *p = NULL;
        size_t avail = 0;
        if ((st = scan_need(&sc, pos, 12, &p, &avail)) != SPATE_OK) break;
        int64_t want = avail >= 12 ? (int64_t)(int32_t)get_be32(p + 8) + 12 : 0;
        if (want > KLOG_SCAN_MAX) {
            why = spate_kbatch_check_str(SPATE_KBATCH_BAD_LENGTH);
            break;
        }
        want = SPATE_MAX(want, (int64_t)SPATE_KBATCH_HEADER);
        if ((st = scan_need(&sc, pos, (size_t)want, &p, &avail)) != SPATE_OK) break;
        spate_kbatch_t b;
        spate_kbatch_check_t c = spate_kbatch_parse(p, avail, KLOG_SCAN_MAX, &b);
        if (c != SPATE_KBATCH_OK) {
            why = spate_kbatch_check_str(c);
            break;
        }
        if (b.base_offset != expect || b.base_offset > INT64_MAX - 1 - b.last_offset_delta ||
            b.base_offset + b.last_offset_delta - s->base > INT32_MAX) {
            snprintf(whybuf, sizeof whybuf, "BaseOffset %" PRId64 " instead of %" PRId64,
                     b.base_offset, expect);
            why = whybuf;
            break;
        }
        khdr_t h = {b.base_offset, b.length, b.last_offset_delta, b.max_timestamp};
        seg_scan_batch(l, s, pos, &h);
        expect = h.base + h.delta + 1;
        pos += h.total;
    }
    scan_free(&sc);
    if (st != SPATE_OK) return st;
    s->size = pos;
    if (pos < file_size) {
        if (ftruncate(s->fd, (off_t)pos) < 0) return io_fail(l, s->base, "log", "ftruncate");
        if (fsync(s->fd) < 0) return io_fail(l, s->base, "log", "fsync");
        spate_log(SPATE_LOG_WARN, "kafka",
                  "%s: recovered to offset %" PRId64 ", cut %" PRId64
                  " bytes (%s at offset %" PRId64 ", file position %" PRId64 ")",
                  l->dir, s->end, file_size - pos, why ? why : "short batch", s->end, pos);
    }
    return seg_write_indexes(l, s, true);
}

/* Opens the .log of segment `base`; `create` makes a new empty one. */
static spate_status_t seg_open_fd(spate_klog_t *l, kseg_t *s, bool create, int64_t *size) {
    char path[PATH_MAX];
    seg_path(l, s->base, "log", path, sizeof path);
    int flags = O_RDWR | O_APPEND | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0);
    s->fd = open(path, flags, 0644);
    if (s->fd < 0) return io_fail(l, s->base, "log", "open");
    struct stat st;
    if (fstat(s->fd, &st) < 0) return io_fail(l, s->base, "log", "fstat");
    *size = st.st_size;
    if (create) l->dir_unsynced = true;
    return SPATE_OK;
}

/* ---- open / close ---- */

void spate_klog_conf_default(spate_klog_conf_t *c) {
    c->segment_bytes = (int64_t)1 << 30;
    c->retention_ms = (int64_t)7 * 24 * 3600 * 1000;
    c->retention_bytes = -1;
    c->index_interval_bytes = 4096;
}

/* "00000000000000000042.log" → 42; false for any other name. */
static bool parse_segment_name(const char *name, int64_t *base) {
    uint64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9') return false;
        if (v > (UINT64_MAX - 9) / 10) return false;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    if (strcmp(name + 20, ".log") != 0 || v > INT64_MAX) return false;
    *base = (int64_t)v;
    return true;
}

static int cmp_base(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void segs_push(spate_klog_t *l, kseg_t *s) {
    if (l->nseg == l->cseg) {
        l->cseg = l->cseg ? l->cseg * 2 : 8;
        l->segs = spate_xrealloc(l->segs, l->cseg * sizeof *l->segs);
    }
    l->segs[l->nseg++] = s;
}

static void klog_free(spate_klog_t *l) {
    for (size_t i = 0; i < l->nseg; i++) seg_free(l->segs[i]);
    free(l->segs);
    free(l->dir);
    free(l);
}

/* mkdir -p */
static int mkdir_p(const char *dir) {
    char *d = spate_xstrdup(dir);
    int rc = 0;
    for (char *c = d + 1;; c++) {
        if (*c != '/' && *c != '\0') continue;
        char saved = *c;
        *c = '\0';
        if (mkdir(d, 0755) < 0 && errno != EEXIST) rc = -1;
        *c = saved;
        if (rc < 0 || saved == '\0') break;
    }
    free(d);
    return rc;
}

spate_status_t spate_klog_open(spate_klog_t **out, const char *dir, const spate_klog_conf_t *c,
                               char *err, size_t errlen) {
    spate_klog_t *l = NULL;
    int64_t *bases = NULL;
    size_t nb = 0, cb = 0;
    DIR *d = NULL;
    spate_status_t st = SPATE_EINVAL;
    *out = NULL;
    if (errlen) err[0] = '\0';

    spate_klog_conf_t conf;
    spate_klog_conf_default(&conf);
    if (c) conf = *c;
    if (!dir || !*dir || strlen(dir) > PATH_MAX - 32 || conf.segment_bytes <= 0 ||
        conf.retention_ms < -1 || conf.retention_bytes < -1 || conf.index_interval_bytes < 0) {
        snprintf(err, errlen, "bad log directory or configuration");
        return SPATE_EINVAL;
    }
    l = spate_xcalloc(1, sizeof *l);
    l->dir = spate_xstrdup(dir);
    l->conf = conf;
    st = SPATE_EIO;

    if (mkdir_p(dir) < 0) {
        io_fail(l, 0, NULL, "mkdir");
        snprintf(err, errlen, "%s: mkdir: %s", dir, strerror(errno));
        goto err;
    }
    if (!(d = opendir(dir))) {
        io_fail(l, 0, NULL, "opendir");
        snprintf(err, errlen, "%s: opendir: %s", dir, strerror(errno));
        goto err;
    }
    for (struct dirent *e; (e = readdir(d));) {
        int64_t base;
        size_t nl = strlen(e->d_name);
        if (nl > 8 && strcmp(e->d_name + nl - 8, ".cleaned") == 0) {
            /* A compaction that died before its rename: the segment it
             * was rewriting is intact; drop the half-written copy. */
            unlinkat(dirfd(d), e->d_name, 0);
            continue;
        }
        if (!parse_segment_name(e->d_name, &base)) continue;
        if (nb == cb) {
            cb = cb ? cb * 2 : 16;
            bases = spate_xrealloc(bases, cb * sizeof *bases);
        }
        bases[nb++] = base;
    }
    closedir(d);
    d = NULL;
    if (nb) qsort(bases, nb, sizeof *bases, cmp_base);

    for (size_t i = 0; i < nb; i++) {
        kseg_t *s = seg_new(bases[i]);
        segs_push(l, s);
        int64_t size;
        if ((st = seg_open_fd(l, s, false, &size)) != SPATE_OK) goto io_err;
        st = i + 1 < nb ? seg_open_old(l, s, size) : seg_open_active(l, s, size);
        if (st != SPATE_OK) goto io_err;
        if (i > 0 && s->base < l->segs[i - 1]->end) {
            snprintf(err, errlen,
                     "%s: segment %020" PRId64 " overlaps the one before (which ends at %" PRId64
                     ")",
                     dir, s->base, l->segs[i - 1]->end);
            spate_log(SPATE_LOG_ERROR, "kafka", "%s", err);
            st = SPATE_EIO;
            goto err;
        }
        l->size += s->size;
    }
    if (l->nseg == 0) {
        kseg_t *s = seg_new(0);
        segs_push(l, s);
        int64_t size;
        if ((st = seg_open_fd(l, s, true, &size)) != SPATE_OK) goto io_err;
        if ((st = seg_write_indexes(l, s, true)) != SPATE_OK) goto io_err;
    }
    l->end = active(l)->end;
    free(bases);
    *out = l;
    return SPATE_OK;

io_err:
    snprintf(err, errlen, "%s: cannot open the log (see the log for the file): %s", dir,
             strerror(errno));
err:
    if (d) closedir(d);
    free(bases);
    klog_free(l);
    return st;
}

void spate_klog_close(spate_klog_t *l) {
    if (!l) return;
    spate_klog_flush(l); /* failures were logged; nothing more to do here */
    klog_free(l);
}

int64_t spate_klog_start_offset(const spate_klog_t *l) { return l->segs[0]->base; }
int64_t spate_klog_end_offset(const spate_klog_t *l) { return l->end; }
int64_t spate_klog_size_bytes(const spate_klog_t *l) { return l->size; }

/* ---- append / flush ---- */

/* Starts a new active segment at the end offset. The old one's index fds
 * stay open until the next flush has synced them. */
static spate_status_t klog_roll(spate_klog_t *l) {
    kseg_t *s = seg_new(l->end);
    int64_t size;
    spate_status_t st = seg_open_fd(l, s, true, &size);
    if (st == SPATE_OK) st = seg_write_indexes(l, s, true);
    if (st != SPATE_OK) {
        char path[PATH_MAX];
        seg_path(l, s->base, "log", path, sizeof path);
        if (s->fd >= 0) unlink(path); /* ours (O_EXCL): leave no empty segment behind */
        seg_free(s);
        return st;
    }
    segs_push(l, s);
    return SPATE_OK;
}

/* Undoes a failed append's partial writes: files back to their sizes. */
static void seg_undo(spate_klog_t *l, kseg_t *s, size_t nidx) {
    bool ok = ftruncate(s->fd, (off_t)s->size) == 0;
    if (!ok) io_fail(l, s->base, "log", "ftruncate after a failed write");
    if (s->nidx != nidx) {
        s->nidx = s->ntidx = nidx;
        ok = ok && s->idx_fd >= 0 && ftruncate(s->idx_fd, (off_t)(nidx * KLOG_IDX_ENTRY)) == 0 &&
             s->tidx_fd >= 0 && ftruncate(s->tidx_fd, (off_t)(nidx * KLOG_TIDX_ENTRY)) == 0;
    }
    if (!ok) {
        spate_log(SPATE_LOG_ERROR, "kafka", "%s: a failed append could not be undone; log failed",
                  l->dir);
        l->failed = true;
    }
}

spate_status_t spate_klog_append(spate_klog_t *l, uint8_t *batch, size_t len, int32_t leader_epoch,
                                 int64_t *base_offset) {
    if (l->failed) return SPATE_EIO;
    /* The caller parsed it; recheck only what the log's own bookkeeping
     * depends on, so a caller bug cannot corrupt the segment. */
    khdr_t h;
    if (len < SPATE_KBATCH_HEADER || len > INT32_MAX ||
        !hdr_decode_length(batch, (int64_t)len, &h) || h.total != (int64_t)len)
        return SPATE_EINVAL;
    if (l->end > INT64_MAX - 1 - h.delta) return SPATE_ERANGE;

    kseg_t *s = active(l);
    int64_t limit = SPATE_MIN(l->conf.segment_bytes, (int64_t)INT32_MAX);
    if (s->size > 0 && (s->size + (int64_t)len > limit || l->end + h.delta - s->base > INT32_MAX)) {
        spate_status_t st = klog_roll(l);
        if (st != SPATE_OK) return st;
        s->unsynced = true; /* the rolled segment still needs its fsync */
        s = active(l);
    }

    put_be64(batch, (uint64_t)l->end);
    put_be32(batch + 12, (uint32_t)leader_epoch);
    h.base = l->end;

    size_t nidx = s->nidx;
    if (seg_wants_entry(l, s, s->size)) {
        uint8_t e[KLOG_IDX_ENTRY], t[KLOG_TIDX_ENTRY];
        uint32_t rel = (uint32_t)(h.base - s->base);
        put_be32(e, rel);
        put_be32(e + 4, (uint32_t)s->size);
        put_be64(t, (uint64_t)s->max_ts);
        put_be32(t + 8, rel);
        idx_push(s, rel, (uint32_t)s->size);
        tidx_push(s, s->max_ts, rel);
        if (write_full(s->idx_fd, e, sizeof e) != SPATE_OK) {
            spate_status_t st = io_fail(l, s->base, "index", "write");
            seg_undo(l, s, nidx);
            return st;
        }
        if (write_full(s->tidx_fd, t, sizeof t) != SPATE_OK) {
            spate_status_t st = io_fail(l, s->base, "timeindex", "write");
            seg_undo(l, s, nidx);
            return st;
        }
    }
    if (write_full(s->fd, batch, len) != SPATE_OK) {
        spate_status_t st = io_fail(l, s->base, "log", "write");
        seg_undo(l, s, nidx);
        return st;
    }
    if (s->nidx != nidx) s->since_idx = 0;
    seg_note_batch(s, s->size, &h);
    l->size += h.total;
    l->end = s->end;
    s->unsynced = true;
    l->dirty = true;
    if (base_offset) *base_offset = h.base;
    return SPATE_OK;
}

static spate_status_t seg_sync(spate_klog_t *l, kseg_t *s, bool is_active) {
    if (fdatasync(s->fd) < 0) return io_fail(l, s->base, "log", "fdatasync");
    if (s->idx_fd >= 0 && fdatasync(s->idx_fd) < 0)
        return io_fail(l, s->base, "index", "fdatasync");
    if (s->tidx_fd >= 0 && fdatasync(s->tidx_fd) < 0)
        return io_fail(l, s->base, "timeindex", "fdatasync");
    if (!is_active) {
        if (s->idx_fd >= 0) close(s->idx_fd);
        if (s->tidx_fd >= 0) close(s->tidx_fd);
        s->idx_fd = s->tidx_fd = -1;
    }
    s->unsynced = false;
    return SPATE_OK;
}

spate_status_t spate_klog_flush(spate_klog_t *l) {
    if (l->failed) return SPATE_EIO;
    if (!l->dirty && !l->dir_unsynced) return SPATE_OK;
    spate_status_t st = SPATE_OK;
    /* Only the newest segments can be unsynced: walk back from the end. */
    size_t first = l->nseg;
    while (first > 0 && (l->segs[first - 1]->unsynced || first == l->nseg)) first--;
    for (size_t i = first; i < l->nseg && st == SPATE_OK; i++)
        if (l->segs[i]->unsynced) st = seg_sync(l, l->segs[i], i + 1 == l->nseg);
    if (st == SPATE_OK && l->dir_unsynced) {
        int fd = open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0) st = io_fail(l, 0, NULL, "fsync");
        if (fd >= 0) close(fd);
        if (st == SPATE_OK) l->dir_unsynced = false;
    }
    if (st != SPATE_OK) {
        l->failed = true;
        return st;
    }
    l->dirty = false;
    return SPATE_OK;
}

bool spate_klog_dirty(const spate_klog_t *l) { return l->dirty; }

/* ---- reads ---- */

/* Appends to out the batches of s from the one holding `offset` (or the
 * first after it), while *taken stays within max_bytes (but at least one
 * batch per call of spate_klog_read). *full: stopped by max_bytes.
 *
 * One pread normally does it: the bytes from the index entry on are read
 * straight into out's spare room (the "window"), walked header by header,
 * and the wanted run of whole batches is moved to out->len. */
static spate_status_t seg_read(spate_klog_t *l, kseg_t *s, int64_t offset, size_t max_bytes,
                               spate_buf_t *out, size_t *taken, bool *full) {
    size_t room = max_bytes > *taken ? max_bytes - *taken : 0;
    int64_t pos = idx_lookup(s, offset);
    int64_t wpos = pos;
    size_t wlen = 0;
    spate_status_t st;
    *full = false;

/* Reads file bytes [at, at + n) into out's spare room as the window. */
#define WINDOW_FILL(at, n)                                                                         \
    do {                                                                                           \
        uint64_t left_ = (uint64_t)(s->size - (at));                                               \
        size_t n_ = (uint64_t)(n) > left_ ? (size_t)left_ : (size_t)(n);                           \
        if ((st = spate_buf_reserve(out, n_)) != SPATE_OK) return st;                              \
        wpos = (at);                                                                               \
        wlen = 0;                                                                                  \
        if (pread_full(s->fd, out->data + out->len, n_, wpos, &wlen) != SPATE_OK)                  \
            return io_fail(l, s->base, "log", "read");                                             \
    } while (0)
#define IN_WINDOW(at, n) ((at) >= wpos && (at) + (int64_t)(n) <= wpos + (int64_t)wlen)
#define WINDOW_AT(at) ((const uint8_t *)out->data + out->len + ((at)-wpos))

    /* The window covers the index gap and max_bytes; sizes saturate. */
    size_t first = (size_t)l->conf.index_interval_bytes + SPATE_KBATCH_HEADER;
    first = room > SIZE_MAX - first ? SIZE_MAX : room + first;
    WINDOW_FILL(pos, first);

    khdr_t h;
    int64_t p = pos;
    for (;;) {
        if (p >= s->size) return SPATE_OK; /* offset past this segment's batches */
        if (!IN_WINDOW(p, SPATE_KBATCH_HEADER)) {
            size_t n =
                room > SIZE_MAX - SPATE_KBATCH_HEADER ? SIZE_MAX : room + SPATE_KBATCH_HEADER;
            WINDOW_FILL(p, n);
        }
        if (!IN_WINDOW(p, SPATE_KBATCH_HEADER) || !hdr_decode(WINDOW_AT(p), s->size - p, &h) ||
            h.base < s->base || h.base >= s->end)
            goto corrupt;
        if (h.base + h.delta >= offset) break;
        p += h.total;
    }

    /* Whole batches from p while they fit; only their 12-byte prefixes are
     * needed, from the window or by a small pread past it. */
    int64_t q = p;
    size_t got = 0;
    while (q < s->size) {
        uint8_t pre[12];
        const uint8_t *hp = pre;
        if (IN_WINDOW(q, 12)) {
            hp = WINDOW_AT(q);
        } else {
            size_t n = 0;
            if (pread_full(s->fd, pre, sizeof pre, q, &n) != SPATE_OK)
                return io_fail(l, s->base, "log", "read");
            if (n < sizeof pre) {
                p = q;
                goto corrupt;
            }
        }
        int64_t total = (int64_t)(int32_t)get_be32(hp + 8) + 12;
        if (total < SPATE_KBATCH_HEADER || total > s->size - q) {
            p = q;
            goto corrupt;
        }
        if (*taken + got > 0 && (uint64_t)(*taken + got) + (uint64_t)total > max_bytes) {
            *full = true;
            break;
        }
        got += (size_t)total;
        q += total;
    }

    /* Move [p, p + got) to out->len: the part in the window by memmove,
     * the rest (a first batch bigger than the window) by pread. */
    size_t have = 0;
    if (p >= wpos && p < wpos + (int64_t)wlen)
        have = SPATE_MIN(got, (size_t)(wpos + (int64_t)wlen - p));
    if (have) memmove(out->data + out->len, WINDOW_AT(p), have);
    if (have < got) {
        if ((st = spate_buf_reserve(out, got)) != SPATE_OK) return st;
        size_t n = 0;
        if (pread_full(s->fd, out->data + out->len + have, got - have, p + (int64_t)have, &n) !=
            SPATE_OK)
            return io_fail(l, s->base, "log", "read");
        if (n < got - have) goto corrupt;
    }
    out->len += got;
    *taken += got;
    return SPATE_OK;

corrupt:
    spate_log(SPATE_LOG_ERROR, "kafka",
              "%s/%020" PRId64 ".log: no valid batch header at file position %" PRId64
              " while reading offset %" PRId64,
              l->dir, s->base, p, offset);
    return SPATE_EIO;
#undef WINDOW_FILL
#undef IN_WINDOW
#undef WINDOW_AT
}

/* ---- locating batches without reading them ----
 *
 * What seg_read would copy, as a file range: [*from, *to) of s's .log.
 * Only headers are read: the batch holding `offset` is found by scanning
 * from the index entry before it, and the end by jumping to the last index
 * entry that still fits and scanning from there, so a 1 MiB range costs
 * two small preads however many batches it holds. */
static spate_status_t seg_span(spate_klog_t *l, kseg_t *s, int64_t offset, size_t max_bytes,
                               size_t taken, int64_t *from, int64_t *to, bool *full) {
    kscan_t sc;
    scan_init(&sc, l, s, s->size);
    sc.chunk = (size_t)l->conf.index_interval_bytes + SPATE_KBATCH_HEADER;
    spate_status_t st = SPATE_OK;
    const uint8_t *hp;
    size_t avail;
    khdr_t h;
    int64_t p = idx_lookup(s, offset);
    *full = false;
    *from = *to = s->size;
    for (;; p += h.total) {
        if (p >= s->size) goto out; /* offset past this segment's batches */
        if ((st = scan_need(&sc, p, SPATE_KBATCH_HEADER, &hp, &avail)) != SPATE_OK) goto out;
        if (avail < SPATE_KBATCH_HEADER || !hdr_decode(hp, s->size - p, &h) || h.base < s->base ||
            h.base >= s->end)
            goto corrupt;
        if (h.base + h.delta >= offset) break;
    }
    /* The last file position a run from p may reach. */
    size_t room = max_bytes > taken ? max_bytes - taken : 0;
    int64_t limit = (uint64_t)room >= (uint64_t)(s->size - p) ? s->size : p + (int64_t)room;
    int64_t q = p;
    if (taken == 0) {
        q = p + h.total; /* KIP-74: the first batch goes whole, whatever its size */
    }
    /* Jump to the last indexed batch start at or before the limit. */
    size_t lo = 0, hi = s->nidx;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((int64_t)s->idx[mid].pos <= limit)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo && (int64_t)s->idx[lo - 1].pos > q) q = s->idx[lo - 1].pos;
    while (q < s->size) {
        if ((st = scan_need(&sc, q, 12, &hp, &avail)) != SPATE_OK) goto out;
        int64_t total = avail < 12 ? 0 : (int64_t)(int32_t)get_be32(hp + 8) + 12;
        if (total < SPATE_KBATCH_HEADER || total > s->size - q) {
            p = q;
            goto corrupt;
        }
        if (q + total > limit) {
            *full = true;
            break;
        }
        q += total;
    }
    *from = p;
    *to = q;
    goto out;
corrupt:
    spate_log(SPATE_LOG_ERROR, "kafka",
              "%s/%020" PRId64 ".log: no valid batch header at file position %" PRId64
              " while reading offset %" PRId64,
              l->dir, s->base, p, offset);
    st = SPATE_EIO;
out:
    scan_free(&sc);
    return st;
}

spate_status_t spate_klog_locate(spate_klog_t *l, int64_t offset, size_t max_bytes,
                                 spate_klog_range_t *ranges, size_t nmax, size_t *n,
                                 size_t *total) {
    *n = 0;
    *total = 0;
    if (offset < spate_klog_start_offset(l) || offset > l->end) return SPATE_ERANGE;
    for (size_t i = seg_find(l, offset); i < l->nseg && *n < nmax && offset < l->end; i++) {
        kseg_t *s = l->segs[i];
        if (offset >= s->end) continue;
        int64_t from, to;
        bool full;
        spate_status_t st = seg_span(l, s, offset, max_bytes, *total, &from, &to, &full);
        if (st != SPATE_OK) {
            *n = 0;
            *total = 0;
            return st;
        }
        if (to > from) {
            ranges[*n] = (spate_klog_range_t){.fd = s->fd, .pos = from, .len = (size_t)(to - from)};
            (*n)++;
            *total += (size_t)(to - from);
        }
        if (full || *total >= max_bytes || max_bytes - *total < SPATE_KBATCH_HEADER) break;
        offset = s->end;
    }
    return SPATE_OK;
}

spate_status_t spate_klog_range_read(const spate_klog_range_t *r, spate_buf_t *out) {
    spate_status_t st = spate_buf_reserve(out, r->len);
    if (st != SPATE_OK) return st;
    size_t got = 0;
    if (pread_full(r->fd, out->data + out->len, r->len, r->pos, &got) != SPATE_OK) return SPATE_EIO;
    if (got < r->len) {
        errno = EIO; /* the file shrank under us: cannot happen on the loop thread */
        return SPATE_EIO;
    }
    out->len += got;
    out->data[out->len] = '\0';
    return SPATE_OK;
}

spate_status_t spate_klog_read(spate_klog_t *l, int64_t offset, size_t max_bytes,
                               spate_buf_t *out) {
    if (offset < spate_klog_start_offset(l) || offset > l->end) return SPATE_ERANGE;
    if (offset == l->end) return SPATE_OK;
    size_t len0 = out->len, taken = 0;
    spate_status_t st = SPATE_OK;
    /* Past the end of a segment the read goes on into the next one (a
     * Fetch gets as much as max_bytes allows; gaps left by a damaged older
     * segment are skipped). */
    for (size_t i = seg_find(l, offset); i < l->nseg; i++) {
        kseg_t *s = l->segs[i];
        if (offset >= s->end) continue;
        bool full;
        if ((st = seg_read(l, s, offset, max_bytes, out, &taken, &full)) != SPATE_OK) break;
        if (full || taken >= max_bytes || max_bytes - taken < SPATE_KBATCH_HEADER) break;
        offset = s->end;
    }
    if (st != SPATE_OK) out->len = len0;
    if (out->data) out->data[out->len] = '\0'; /* the window wrote past len */
    return st;
}

/* ---- time lookups ---- */

int64_t spate_klog_offset_for_time(spate_klog_t *l, int64_t ts) {
    for (size_t i = 0; i < l->nseg; i++) {
        kseg_t *s = l->segs[i];
        if (s->max_ts == KLOG_NO_TS || s->max_ts < ts) continue;
        /* Last time entry with ts' < ts: every batch before it is older. */
        size_t lo = 0, hi = s->ntidx;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (s->tidx[mid].ts < ts)
                lo = mid + 1;
            else
                hi = mid;
        }
        int64_t pos = lo ? idx_lookup(s, s->base + s->tidx[lo - 1].rel) : 0;
        kscan_t sc;
        scan_init(&sc, l, s, s->size);
        int64_t found = -1;
        while (pos < s->size) {
            const uint8_t *p = NULL;
            size_t avail = 0;
            khdr_t h;
            if (scan_need(&sc, pos, SPATE_KBATCH_HEADER, &p, &avail) != SPATE_OK) break;
            if (avail < SPATE_KBATCH_HEADER || !hdr_decode(p, s->size - pos, &h) ||
                h.base < s->base || h.base >= s->end) {
                spate_log(SPATE_LOG_ERROR, "kafka",
                          "%s/%020" PRId64 ".log: no valid batch header at file position %" PRId64,
                          l->dir, s->base, pos);
                break;
            }
            if (h.max_ts >= ts) {
                found = h.base;
                break;
            }
            pos += h.total;
        }
        scan_free(&sc);
        if (found >= 0) return found;
        if (pos < s->size) return -1; /* I/O error or damage, logged */
    }
    return l->end;
}

/* ---- retention and removal ---- */

static void seg_unlink(spate_klog_t *l, kseg_t *s) {
    static const char *const ext[3] = {"log", "index", "timeindex"};
    for (int k = 0; k < 3; k++) {
        char path[PATH_MAX];
        seg_path(l, s->base, ext[k], path, sizeof path);
        if (unlink(path) < 0 && errno != ENOENT) io_fail(l, s->base, ext[k], "unlink");
    }
}

int spate_klog_enforce_retention(spate_klog_t *l, int64_t now_ms) {
    int n = 0;
    while (l->nseg > 1) {
        kseg_t *s = l->segs[0];
        bool by_time = l->conf.retention_ms >= 0 && now_ms >= INT64_MIN + l->conf.retention_ms &&
                       s->max_ts < now_ms - l->conf.retention_ms;
        /* Kafka's rule: delete while the log stays at or above the limit. */
        bool by_size = l->conf.retention_bytes >= 0 && l->size - s->size >= l->conf.retention_bytes;
        if (!by_time && !by_size) break;
        spate_log(SPATE_LOG_INFO, "kafka",
                  "%s: deleting segment %020" PRId64 " (%" PRId64 " bytes, offsets up to %" PRId64
                  ") by retention %s",
                  l->dir, s->base, s->size, s->end - 1, by_time ? "time" : "size");
        seg_unlink(l, s);
        l->size -= s->size;
        seg_free(s);
        memmove(l->segs, l->segs + 1, (l->nseg - 1) * sizeof *l->segs);
        l->nseg--;
        l->dir_unsynced = true;
        n++;
    }
    return n;
}

/* ---- compaction support ---- */

size_t spate_klog_segment_count(const spate_klog_t *l) { return l->nseg; }

void spate_klog_segment_info(const spate_klog_t *l, size_t i, int64_t *base, int64_t *end,
                             int64_t *size) {
    const kseg_t *s = l->segs[i];
    *base = s->base;
    *end = s->end;
    *size = s->size;
}

int64_t spate_klog_segment_max_ts(const spate_klog_t *l, size_t i) { return l->segs[i]->max_ts; }

spate_status_t spate_klog_segment_batches(spate_klog_t *l, size_t i, spate_klog_batch_fn fn,
                                          void *ctx) {
    kseg_t *s = l->segs[i];
    kscan_t sc;
    scan_init(&sc, l, s, s->size);
    spate_status_t st = SPATE_OK;
    for (int64_t pos = 0; pos < s->size;) {
        const uint8_t *p;
        size_t avail = 0;
        khdr_t h;
        if ((st = scan_need(&sc, pos, SPATE_KBATCH_HEADER, &p, &avail)) != SPATE_OK) break;
        if (avail < SPATE_KBATCH_HEADER || !hdr_decode(p, s->size - pos, &h)) {
            spate_log(SPATE_LOG_ERROR, "kafka",
                      "%s/%020" PRId64 ".log: no valid batch header at file position %" PRId64,
                      l->dir, s->base, pos);
            st = SPATE_EIO;
            break;
        }
        if ((st = scan_need(&sc, pos, (size_t)h.total, &p, &avail)) != SPATE_OK) break;
        if (avail < (size_t)h.total) {
            st = SPATE_EIO;
            break;
        }
        if ((st = fn(ctx, p, (size_t)h.total)) != SPATE_OK) break;
        pos += h.total;
    }
    scan_free(&sc);
    return st;
}

spate_status_t spate_klog_rewrite_begin(spate_klog_t *l, size_t i, spate_klog_rewrite_t *rw) {
    *rw = (spate_klog_rewrite_t){.l = l, .i = i, .fd = -1};
    if (i + 1 >= l->nseg) return SPATE_EINVAL; /* never the active segment */
    char path[PATH_MAX];
    seg_path(l, l->segs[i]->base, "log", path, sizeof path);
    snprintf(rw->tmp, sizeof rw->tmp, "%s.cleaned", path);
    rw->fd = open(rw->tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (rw->fd < 0) return io_fail(l, l->segs[i]->base, "log.cleaned", "open");
    return SPATE_OK;
}

spate_status_t spate_klog_rewrite_write(spate_klog_rewrite_t *rw, const void *p, size_t n) {
    if (write_full(rw->fd, p, n) != SPATE_OK)
        return io_fail(rw->l, rw->l->segs[rw->i]->base, "log.cleaned", "write");
    rw->len += (int64_t)n;
    return SPATE_OK;
}

void spate_klog_rewrite_abort(spate_klog_rewrite_t *rw) {
    if (rw->fd < 0) return;
    close(rw->fd);
    unlink(rw->tmp);
    rw->fd = -1;
}

spate_status_t spate_klog_rewrite_commit(spate_klog_rewrite_t *rw) {
    spate_klog_t *l = rw->l;
    kseg_t *s = l->segs[rw->i];
    spate_status_t st;
    char path[PATH_MAX];
    seg_path(l, s->base, "log", path, sizeof path);
    if (fsync(rw->fd) < 0) {
        st = io_fail(l, s->base, "log.cleaned", "fsync");
        spate_klog_rewrite_abort(rw);
        return st;
    }
    /* The old indexes go first: a crash after the rename finds a segment
     * without them and rebuilds them from the new file. */
    for (int k = 0; k < 2; k++) {
        char ip[PATH_MAX];
        seg_path(l, s->base, k ? "timeindex" : "index", ip, sizeof ip);
        if (unlink(ip) < 0 && errno != ENOENT) {
            st = io_fail(l, s->base, k ? "timeindex" : "index", "unlink");
            spate_klog_rewrite_abort(rw);
            return st;
        }
    }
    if (rename(rw->tmp, path) < 0) {
        st = io_fail(l, s->base, "log", "rename");
        spate_klog_rewrite_abort(rw);
        return st;
    }
    l->dir_unsynced = true;
    /* Readers holding the old fd (a Fetch being sent) keep the old bytes. */
    close(s->fd);
    s->fd = rw->fd;
    rw->fd = -1;
    l->size -= s->size;
    seg_drop_indexes(s);
    s->size = 0;
    s->end = s->base;
    s->max_ts = KLOG_NO_TS;
    bool clean;
    st = seg_scan_headers(l, s, 0, s->base, rw->len, true, &clean);
    l->size += s->size;
    if (st == SPATE_OK && !clean) {
        spate_log(SPATE_LOG_ERROR, "kafka", "%s: rewritten segment does not scan", path);
        st = SPATE_EIO;
    }
    if (st == SPATE_OK) st = seg_write_indexes(l, s, false);
    return st;
}

spate_status_t spate_klog_destroy(spate_klog_t *l) {
    if (!l) return SPATE_OK;
    spate_status_t st = SPATE_OK;
    char *dir = spate_xstrdup(l->dir);
    klog_free(l);
    DIR *d = opendir(dir);
    if (!d) {
        spate_log(SPATE_LOG_ERROR, "kafka", "%s: opendir: %s", dir, strerror(errno));
        free(dir);
        return SPATE_EIO;
    }
    /* The directory is the partition's: everything in it goes. */
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (unlinkat(dirfd(d), e->d_name, 0) < 0) {
            spate_log(SPATE_LOG_ERROR, "kafka", "%s/%s: unlink: %s", dir, e->d_name,
                      strerror(errno));
            st = SPATE_EIO;
        }
    }
    closedir(d);
    if (st == SPATE_OK && rmdir(dir) < 0) {
        spate_log(SPATE_LOG_ERROR, "kafka", "%s: rmdir: %s", dir, strerror(errno));
        st = SPATE_EIO;
    }
    free(dir);
    return st;
}
