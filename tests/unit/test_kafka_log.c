/*
 * test_kafka_log.c — unit tests of RecordBatch v2 checks
 * (src/kafka/kafka_batch.c) and the partition log (src/kafka/kafka_log.c).
 *
 * Batches are built here byte by byte from the field table in
 * kafka_log.h, with their CRC-32C computed over [21, end); the records
 * section is arbitrary bytes, since neither the checks nor the log decode
 * records. Each log test gets a fresh mkdtemp directory (the log lives in
 * a subdirectory that spate_klog_open must create) and removes it after.
 *
 * The log tests keep a model — a copy of every batch as the log stored it
 * and the offset it got — and compare every read against it: a read at
 * every offset must return the batch containing that offset first, then
 * whole batches up to max_bytes (at least one), across segment files;
 * rebuilt indexes must equal the ones written while appending; recovery
 * must cut exactly at the first bad batch of the active segment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base.h"
#include "kafka_log.h"

/* ---- building batches ---- */

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static void put64(uint8_t *p, uint64_t v) {
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}
static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static int64_t get64(const uint8_t *p) {
    return (int64_t)((uint64_t)get32(p) << 32 | get32(p + 4));
}

/* Recomputes the CRC after a field under it was changed. */
static void resign(uint8_t *b, size_t len) { put32(b + 17, spate_crc32c(0, b + 21, len - 21)); }

/* A valid uncompressed batch as a producer sends it (BaseOffset 0,
 * leader epoch -1, not idempotent): n records, timestamps ts..max_ts,
 * `payload` arbitrary record bytes. Freed by the caller. */
static uint8_t *mk_batch_ts(int32_t n, int64_t ts, int64_t max_ts, size_t payload, unsigned seed,
                            size_t *len) {
    size_t total = SPATE_KBATCH_HEADER + payload;
    uint8_t *b = malloc(total);
    assert_non_null(b);
    put64(b, 0);
    put32(b + 8, (uint32_t)(total - 12));
    put32(b + 12, UINT32_MAX); /* -1 */
    b[16] = 2;
    put16(b + 21, 0);
    put32(b + 23, (uint32_t)(n - 1));
    put64(b + 27, (uint64_t)ts);
    put64(b + 35, (uint64_t)max_ts);
    put64(b + 43, UINT64_MAX);
    put16(b + 51, UINT16_MAX);
    put32(b + 53, UINT32_MAX);
    put32(b + 57, (uint32_t)n);
    for (size_t i = 0; i < payload; i++) b[SPATE_KBATCH_HEADER + i] = (uint8_t)(seed * 31 + i * 7);
    resign(b, total);
    *len = total;
    return b;
}

static uint8_t *mk_batch(int32_t n, int64_t ts, size_t payload, unsigned seed, size_t *len) {
    return mk_batch_ts(n, ts, ts + n - 1, payload, seed, len);
}

/* ---- files ---- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    SPATE_UNUSED(st);
    SPATE_UNUSED(flag);
    SPATE_UNUSED(ftw);
    return remove(path);
}

static void rm_rf(const char *dir) { nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static int64_t file_size(const char *path) {
    struct stat st;
    if (stat(path, &st) < 0) return -1;
    return st.st_size;
}

static bool file_exists(const char *path) { return file_size(path) >= 0; }

static char *seg_file(const char *dir, int64_t base, const char *ext) {
    static char path[8][PATH_MAX];
    static int k;
    k = (k + 1) % 8;
    snprintf(path[k], sizeof path[k], "%s/%020" PRId64 ".%s", dir, base, ext);
    return path[k];
}

static uint8_t *slurp(const char *path, size_t *n) {
    int64_t sz = file_size(path);
    assert_true(sz >= 0);
    uint8_t *b = malloc((size_t)sz + 1);
    assert_non_null(b);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, b, (size_t)sz), sz);
    close(fd);
    *n = (size_t)sz;
    return b;
}

static void truncate_by(const char *path, int64_t cut) {
    int64_t sz = file_size(path);
    assert_true(sz >= cut);
    assert_int_equal(truncate(path, (off_t)(sz - cut)), 0);
}

static void poke(const char *path, int64_t pos, const void *p, size_t n) {
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, p, n, (off_t)pos), (ssize_t)n);
    close(fd);
}

static void append_bytes(const char *path, const void *p, size_t n) {
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
}

/* Base offsets of the .log files in dir, sorted; returns how many. */
static size_t list_logs(const char *dir, int64_t *bases, size_t max) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l != 24 || strcmp(e->d_name + 20, ".log") != 0) continue;
        assert_true(n < max);
        bases[n++] = strtoll(e->d_name, NULL, 10);
    }
    closedir(d);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && bases[j - 1] > bases[j]; j--) {
            int64_t t = bases[j];
            bases[j] = bases[j - 1];
            bases[j - 1] = t;
        }
    return n;
}

/* ---- fixture ---- */

typedef struct {
    char root[64];
    char dir[128]; /* the log directory, inside root, not yet created */
} fx_t;

static int fx_setup(void **state) {
    fx_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    snprintf(f->root, sizeof f->root, "/tmp/spate-test-klog-XXXXXX");
    if (!mkdtemp(f->root)) return -1;
    snprintf(f->dir, sizeof f->dir, "%s/topic-0", f->root);
    *state = f;
    return 0;
}

static int fx_teardown(void **state) {
    fx_t *f = *state;
    rm_rf(f->root);
    free(f);
    return 0;
}

static spate_klog_conf_t conf_of(int64_t segment_bytes, int32_t interval) {
    spate_klog_conf_t c;
    spate_klog_conf_default(&c);
    c.segment_bytes = segment_bytes;
    c.index_interval_bytes = interval;
    c.retention_ms = -1;
    return c;
}

static spate_klog_t *open_log(const char *dir, const spate_klog_conf_t *c) {
    spate_klog_t *l = NULL;
    char err[256];
    spate_status_t st = spate_klog_open(&l, dir, c, err, sizeof err);
    if (st != SPATE_OK) fprintf(stderr, "open: %s\n", err);
    assert_int_equal(st, SPATE_OK);
    assert_non_null(l);
    return l;
}

/* ---- the model: what the log must hold ---- */

#define MODEL_MAX 128

typedef struct {
    uint8_t *p; /* the batch as stored (BaseOffset and epoch rewritten) */
    size_t len;
    int64_t base;
    int32_t n;
    int64_t max_ts;
} mbatch_t;

typedef struct {
    mbatch_t b[MODEL_MAX];
    size_t n;
    size_t first; /* batches before it were deleted by retention */
} model_t;

static void model_free(model_t *m) {
    for (size_t i = 0; i < m->n; i++) free(m->b[i].p);
    memset(m, 0, sizeof *m);
}

static int64_t model_end(const model_t *m) {
    return m->n ? m->b[m->n - 1].base + m->b[m->n - 1].n : 0;
}

/* Drops the batches from k on (what recovery cut). */
static void model_cut(model_t *m, size_t k) {
    for (size_t i = k; i < m->n; i++) free(m->b[i].p);
    m->n = k;
}

static void model_append_ts(spate_klog_t *l, model_t *m, int32_t n, int64_t ts, int64_t max_ts,
                            size_t payload) {
    assert_true(m->n < MODEL_MAX);
    size_t len;
    uint8_t *b = mk_batch_ts(n, ts, max_ts, payload, (unsigned)m->n, &len);
    int64_t want = spate_klog_end_offset(l), got = -1;
    assert_int_equal(spate_klog_append(l, b, len, 7, &got), SPATE_OK);
    assert_int_equal(got, want);
    assert_int_equal(spate_klog_end_offset(l), want + n);
    /* Only BaseOffset and the leader epoch change; the CRC still holds. */
    assert_int_equal(get64(b), want);
    assert_int_equal((int32_t)get32(b + 12), 7);
    spate_kbatch_t kb;
    assert_int_equal(spate_kbatch_parse(b, len, len, &kb), SPATE_KBATCH_OK);
    m->b[m->n++] = (mbatch_t){b, len, got, n, max_ts};
}

static void model_append(spate_klog_t *l, model_t *m, int32_t n, size_t payload) {
    int64_t ts = 1000000 + (int64_t)m->n * 100;
    model_append_ts(l, m, n, ts, ts + n - 1, payload);
}

/* The model batch holding `offset` (or the first after it). */
static size_t model_find(const model_t *m, int64_t offset) {
    for (size_t i = m->first; i < m->n; i++)
        if (m->b[i].base + m->b[i].n > offset) return i;
    return m->n;
}

/* Reads at offset and checks that out holds model batches k..k2-1. */
static void expect_read(spate_klog_t *l, const model_t *m, int64_t offset, size_t max_bytes,
                        size_t k, size_t k2) {
    spate_buf_t out = SPATE_BUF_INIT;
    assert_int_equal(spate_klog_read(l, offset, max_bytes, &out), SPATE_OK);
    size_t want = 0;
    for (size_t i = k; i < k2; i++) want += m->b[i].len;
    assert_int_equal(out.len, want);
    size_t at = 0;
    for (size_t i = k; i < k2; i++) {
        assert_memory_equal(out.data + at, m->b[i].p, m->b[i].len);
        at += m->b[i].len;
    }
    /* spate_klog_locate names the same bytes (what Fetch sends by
     * sendfile), reading only headers. */
    spate_klog_range_t r[256];
    size_t n, total;
    assert_int_equal(spate_klog_locate(l, offset, max_bytes, r, 256, &n, &total), SPATE_OK);
    assert_int_equal(total, want);
    spate_buf_t again = SPATE_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        assert_true(r[i].len > 0);
        assert_int_equal(spate_klog_range_read(&r[i], &again), SPATE_OK);
    }
    assert_int_equal(again.len, want);
    if (want) assert_memory_equal(again.data, out.data, want);
    /* With room for one range, a read that crosses segments stops at the
     * first segment's end: a prefix of the same bytes. */
    spate_klog_range_t one;
    size_t n1, total1;
    assert_int_equal(spate_klog_locate(l, offset, max_bytes, &one, 1, &n1, &total1), SPATE_OK);
    assert_int_equal(n1, n ? 1 : 0);
    assert_int_equal(total1, n ? r[0].len : 0);
    spate_buf_free(&again);
    spate_buf_free(&out);
}

/* Every offset: alone (max_bytes 0 and 1 still give one batch), exactly
 * two batches, one byte short of two, and everything to the end. */
static void check_reads(spate_klog_t *l, const model_t *m) {
    int64_t start = m->first < m->n ? m->b[m->first].base : model_end(m);
    assert_int_equal(spate_klog_start_offset(l), start);
    assert_int_equal(spate_klog_end_offset(l), model_end(m));
    for (int64_t off = start; off < model_end(m); off++) {
        size_t k = model_find(m, off);
        assert_true(k < m->n);
        expect_read(l, m, off, 0, k, k + 1);
        expect_read(l, m, off, 1, k, k + 1);
        expect_read(l, m, off, m->b[k].len, k, k + 1);
        expect_read(l, m, off, SIZE_MAX, k, m->n);
        if (k + 1 < m->n) {
            size_t two = m->b[k].len + m->b[k + 1].len;
            expect_read(l, m, off, two, k, k + 2);
            expect_read(l, m, off, two - 1, k, k + 1);
        }
    }
    spate_buf_t out = SPATE_BUF_INIT;
    assert_int_equal(spate_klog_read(l, model_end(m), SIZE_MAX, &out), SPATE_OK);
    assert_int_equal(out.len, 0);
    assert_int_equal(spate_klog_read(l, model_end(m) + 1, SIZE_MAX, &out), SPATE_ERANGE);
    assert_int_equal(spate_klog_read(l, start - 1, SIZE_MAX, &out), SPATE_ERANGE);
    assert_int_equal(spate_klog_read(l, INT64_MIN, SIZE_MAX, &out), SPATE_ERANGE);
    assert_int_equal(spate_klog_read(l, INT64_MAX, SIZE_MAX, &out), SPATE_ERANGE);
    assert_int_equal(out.len, 0);
    spate_buf_free(&out);
}

/* Expected segment bases when rolling at segment_bytes. */
static size_t model_segments(const model_t *m, int64_t segment_bytes, int64_t *bases) {
    size_t n = 0;
    int64_t size = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (i == 0 || (size > 0 && size + (int64_t)m->b[i].len > segment_bytes)) {
            bases[n++] = m->b[i].base;
            size = 0;
        }
        size += (int64_t)m->b[i].len;
    }
    return n;
}

/* Captures log lines in a file for the duration of a test. */
static void log_capture(const fx_t *f, char *path, size_t n) {
    snprintf(path, n, "%s/log.txt", f->root);
    assert_int_equal(spate_log_set_file(path), SPATE_OK);
}

static char *log_captured(const char *path) {
    spate_log_set_file(NULL);
    size_t n;
    uint8_t *b = slurp(path, &n);
    b[n] = '\0';
    return (char *)b;
}

/* ---- RecordBatch checks ---- */

static void test_parse_ok(void **state) {
    SPATE_UNUSED(state);
    size_t len;
    uint8_t *b = mk_batch(5, 1700000000000, 30, 1, &len);
    spate_kbatch_t kb;
    assert_int_equal(spate_kbatch_parse(b, len, len, &kb), SPATE_KBATCH_OK);
    assert_int_equal(kb.base_offset, 0);
    assert_int_equal(kb.length, len);
    assert_int_equal(kb.leader_epoch, -1);
    assert_int_equal(kb.magic, 2);
    assert_int_equal(kb.crc, spate_crc32c(0, b + 21, len - 21));
    assert_int_equal(kb.attributes, 0);
    assert_int_equal(kb.last_offset_delta, 4);
    assert_int_equal(kb.base_timestamp, 1700000000000);
    assert_int_equal(kb.max_timestamp, 1700000000004);
    assert_int_equal(kb.producer_id, -1);
    assert_int_equal(kb.producer_epoch, -1);
    assert_int_equal(kb.base_sequence, -1);
    assert_int_equal(kb.records_count, 5);

    /* More bytes after the batch (the next one) are not its business. */
    uint8_t *two = malloc(2 * len);
    memcpy(two, b, len);
    memcpy(two + len, b, len);
    assert_int_equal(spate_kbatch_parse(two, 2 * len, 1 << 20, &kb), SPATE_KBATCH_OK);
    assert_int_equal(kb.length, len);
    free(two);

    /* An empty records section and a NULL result are fine. */
    free(b);
    b = mk_batch(1, 0, 0, 2, &len);
    assert_int_equal(len, SPATE_KBATCH_HEADER);
    assert_int_equal(spate_kbatch_parse(b, len, len, NULL), SPATE_KBATCH_OK);
    free(b);

    /* Every outcome has its own name. */
    for (int i = SPATE_KBATCH_OK; i <= SPATE_KBATCH_BAD_ATTRS; i++) {
        const char *s = spate_kbatch_check_str((spate_kbatch_check_t)i);
        assert_true(s && *s);
        for (int j = SPATE_KBATCH_OK; j < i; j++)
            assert_string_not_equal(s, spate_kbatch_check_str((spate_kbatch_check_t)j));
    }
}

static void test_parse_short(void **state) {
    SPATE_UNUSED(state);
    size_t len;
    uint8_t *b = mk_batch(3, 1000, 50, 2, &len);
    for (size_t t = 0; t < len; t++) {
        /* An exact-size heap copy: a read past t is caught by ASan. */
        uint8_t *c = malloc(t ? t : 1);
        memcpy(c, b, t);
        spate_kbatch_t kb;
        assert_int_equal(spate_kbatch_parse(c, t, 1 << 20, &kb), SPATE_KBATCH_SHORT);
        free(c);
    }
    /* A Length beyond what is there is short even if it exceeds max_len:
     * SHORT is checked first. */
    put32(b + 8, INT32_MAX);
    assert_int_equal(spate_kbatch_parse(b, len, len, NULL), SPATE_KBATCH_SHORT);
    free(b);
}

static void test_parse_bad_length(void **state) {
    SPATE_UNUSED(state);
    size_t len;
    uint8_t *b = mk_batch(3, 1000, 50, 3, &len);
    assert_int_equal(spate_kbatch_parse(b, len, len - 1, NULL), SPATE_KBATCH_BAD_LENGTH);
    assert_int_equal(spate_kbatch_parse(b, len, 0, NULL), SPATE_KBATCH_BAD_LENGTH);
    assert_int_equal(spate_kbatch_parse(b, len, len, NULL), SPATE_KBATCH_OK);
    static const int32_t bad[] = {48, 0, -1, -12, -13, INT32_MIN};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(bad); i++) {
        put32(b + 8, (uint32_t)bad[i]);
        assert_int_equal(spate_kbatch_parse(b, len, 1 << 20, NULL), SPATE_KBATCH_BAD_LENGTH);
    }
    /* Length 49 is the smallest: valid framing, no records. */
    put32(b + 8, 49);
    assert_int_not_equal(spate_kbatch_parse(b, len, 1 << 20, NULL), SPATE_KBATCH_BAD_LENGTH);
    assert_int_not_equal(spate_kbatch_parse(b, len, 1 << 20, NULL), SPATE_KBATCH_SHORT);
    free(b);
}

static void test_parse_bad_magic(void **state) {
    SPATE_UNUSED(state);
    size_t len;
    uint8_t *b = mk_batch(3, 1000, 20, 4, &len);
    static const uint8_t bad[] = {0, 1, 3, 0xff};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(bad); i++) {
        b[16] = bad[i];
        assert_int_equal(spate_kbatch_parse(b, len, len, NULL), SPATE_KBATCH_BAD_MAGIC);
    }
    /* Magic is checked before the CRC. */
    b[30] ^= 1;
    assert_int_equal(spate_kbatch_parse(b, len, len, NULL), SPATE_KBATCH_BAD_MAGIC);
    b[16] = 2;
    assert_int_equal(spate_kbatch_parse(b, len, len, NULL), SPATE_KBATCH_BAD_CRC);
    free(b);
}

static void test_parse_bad_crc(void **state) {
    SPATE_UNUSED(state);
    size_t len;
    uint8_t *b = mk_batch(4, 1000, 40, 5, &len);
    /* Any bit from the CRC field to the end is caught... */
    for (size_t i = 17; i < len; i++)
        for (int bit = 0; bit < 8; bit++) {
            b[i] ^= (uint8_t)(1 << bit);
            assert_int_equal(spate_kbatch_parse(b, len, len, NULL), SPATE_KBATCH_BAD_CRC);
            b[i] ^= (uint8_t)(1 << bit);
        }
    /* ...and BaseOffset and PartitionLeaderEpoch are outside it. */
    for (size_t i = 0; i < 16; i++) {
        if (i >= 8 && i < 12) continue; /* Length */
        b[i] ^= 0x5a;
        assert_int_equal(spate_kbatch_parse(b, len, len, NULL), SPATE_KBATCH_OK);
        b[i] ^= 0x5a;
    }
    free(b);
}

static void test_parse_bad_count(void **state) {
    SPATE_UNUSED(state);
    size_t len;
    uint8_t *b = mk_batch(4, 1000, 40, 6, &len);
    put32(b + 57, 5); /* RecordsCount != LastOffsetDelta + 1 */
    assert_int_equal(spate_kbatch_parse(b, len, len, NULL), SPATE_KBATCH_BAD_CRC);
    resign(b, len);
    assert_int_equal(spate_kbatch_parse(b, len, len, NULL), SPATE_KBATCH_BAD_COUNT);
    put32(b + 23, UINT32_MAX); /* delta -1, count 0 */
    put32(b + 57, 0);
    resign(b, len);
    assert_int_equal(spate_kbatch_parse(b, len, len, NULL), SPATE_KBATCH_BAD_COUNT);
    put32(b + 23, INT32_MAX); /* delta + 1 overflows int32 */
    put32(b + 57, (uint32_t)INT32_MIN);
    resign(b, len);
    assert_int_equal(spate_kbatch_parse(b, len, len, NULL), SPATE_KBATCH_BAD_COUNT);
    put32(b + 23, 4);
    put32(b + 57, 5);
    resign(b, len);
    assert_int_equal(spate_kbatch_parse(b, len, len, NULL), SPATE_KBATCH_OK);
    free(b);
}

static void test_parse_bad_attrs(void **state) {
    SPATE_UNUSED(state);
    size_t len;
    uint8_t *b = mk_batch(2, 1000, 10, 7, &len);
    for (uint16_t comp = 0; comp < 8; comp++) {
        put16(b + 21, comp);
        resign(b, len);
        assert_int_equal(spate_kbatch_parse(b, len, len, NULL),
                         comp <= 4 ? SPATE_KBATCH_OK : SPATE_KBATCH_BAD_ATTRS);
    }
    /* The other attribute bits are not the checker's business. */
    put16(b + 21, 0x8 | 0x10 | 0x40 | 4);
    resign(b, len);
    assert_int_equal(spate_kbatch_parse(b, len, len, NULL), SPATE_KBATCH_OK);
    /* The count is checked before the attributes. */
    put16(b + 21, 5);
    put32(b + 57, 9);
    resign(b, len);
    assert_int_equal(spate_kbatch_parse(b, len, len, NULL), SPATE_KBATCH_BAD_COUNT);
    free(b);
}

/* ---- the log ---- */

static void test_open_args(void **state) {
    fx_t *f = *state;
    spate_klog_t *l = NULL;
    char err[256];
    spate_klog_conf_t c = conf_of(0, 4096);
    assert_int_equal(spate_klog_open(&l, f->dir, &c, err, sizeof err), SPATE_EINVAL);
    assert_null(l);
    assert_true(err[0] != '\0');
    c = conf_of(1 << 20, -1);
    assert_int_equal(spate_klog_open(&l, f->dir, &c, err, sizeof err), SPATE_EINVAL);
    /* A file where the directory should be. */
    char path[256];
    snprintf(path, sizeof path, "%s/plain", f->root);
    append_bytes(path, "x", 1);
    err[0] = '\0';
    assert_int_equal(spate_klog_open(&l, path, NULL, err, sizeof err), SPATE_EIO);
    assert_null(l);
    assert_true(err[0] != '\0');
    /* NULL conf means the defaults; a new log is empty at offset 0. */
    l = open_log(f->dir, NULL);
    assert_int_equal(spate_klog_start_offset(l), 0);
    assert_int_equal(spate_klog_end_offset(l), 0);
    assert_int_equal(spate_klog_size_bytes(l), 0);
    assert_true(file_exists(seg_file(f->dir, 0, "log")));
    spate_buf_t out = SPATE_BUF_INIT;
    assert_int_equal(spate_klog_read(l, 0, 100, &out), SPATE_OK);
    assert_int_equal(out.len, 0);
    assert_int_equal(spate_klog_read(l, 1, 100, &out), SPATE_ERANGE);
    assert_int_equal(spate_klog_offset_for_time(l, 0), 0);
    spate_klog_close(l);
}

static void test_append_offsets(void **state) {
    fx_t *f = *state;
    spate_klog_conf_t c = conf_of(1 << 20, 4096);
    spate_klog_t *l = open_log(f->dir, &c);
    model_t m = {0};
    int64_t size = 0;
    for (int32_t n = 1; n <= 10; n++) {
        model_append(l, &m, n, (size_t)n * 10);
        size += (int64_t)m.b[m.n - 1].len;
        assert_int_equal(m.b[m.n - 1].base, (int64_t)(n - 1) * n / 2); /* 0, 1, 3, 6, ... */
    }
    assert_int_equal(spate_klog_end_offset(l), 55);
    assert_int_equal(spate_klog_size_bytes(l), size);
    assert_int_equal(file_size(seg_file(f->dir, 0, "log")), size);

    /* A batch whose Length disagrees with its size is refused, untouched. */
    size_t len;
    uint8_t *b = mk_batch(2, 5, 10, 9, &len);
    assert_int_equal(spate_klog_append(l, b, len - 1, 0, NULL), SPATE_EINVAL);
    assert_int_equal(spate_klog_append(l, b, 10, 0, NULL), SPATE_EINVAL);
    assert_int_equal(get64(b), 0);
    free(b);
    assert_int_equal(spate_klog_end_offset(l), 55);
    check_reads(l, &m);

    /* A read appends to what out already holds. */
    spate_buf_t out = SPATE_BUF_INIT;
    assert_int_equal(spate_buf_puts(&out, "xyz"), SPATE_OK);
    assert_int_equal(spate_klog_read(l, 2, 1, &out), SPATE_OK);
    assert_int_equal(out.len, 3 + m.b[1].len);
    assert_memory_equal(out.data, "xyz", 3);
    assert_memory_equal(out.data + 3, m.b[1].p, m.b[1].len);
    assert_int_equal(out.data[out.len], '\0');
    spate_buf_free(&out);

    spate_klog_close(l);
    model_free(&m);
}

static void test_read_every_offset(void **state) {
    fx_t *f = *state;
    spate_klog_conf_t c = conf_of(1 << 20, 200);
    spate_klog_t *l = open_log(f->dir, &c);
    model_t m = {0};
    for (int i = 0; i < 60; i++) model_append(l, &m, 1 + i % 5, (size_t)(i * 37) % 400);
    /* A batch far bigger than any window the read starts with. */
    model_append(l, &m, 3, 300000);
    for (int i = 0; i < 5; i++) model_append(l, &m, 2, 100);
    /* The sparse index has entries: interval 200, batches 61..461 bytes. */
    int64_t isz = file_size(seg_file(f->dir, 0, "index"));
    assert_true(isz > 8 * 10);
    assert_int_equal(isz % 8, 0);
    assert_int_equal(file_size(seg_file(f->dir, 0, "timeindex")), isz / 8 * 12);
    check_reads(l, &m);
    spate_klog_close(l);
    model_free(&m);
}

static void test_roll(void **state) {
    fx_t *f = *state;
    const int64_t seg = 1000;
    spate_klog_conf_t c = conf_of(seg, 100);
    spate_klog_t *l = open_log(f->dir, &c);
    model_t m = {0};
    for (int i = 0; i < 40; i++) model_append(l, &m, 1 + i % 3, 50 + (size_t)(i * 53) % 250);
    model_append(l, &m, 1, 2000); /* bigger than a segment: one of its own */
    model_append(l, &m, 2, 10);

    int64_t want[MODEL_MAX], got[MODEL_MAX];
    size_t nw = model_segments(&m, seg, want), ng = list_logs(f->dir, got, MODEL_MAX);
    assert_true(nw >= 8);
    assert_int_equal(ng, nw);
    int64_t total = 0;
    for (size_t i = 0; i < nw; i++) {
        assert_int_equal(got[i], want[i]);
        assert_true(file_exists(seg_file(f->dir, got[i], "index")));
        assert_true(file_exists(seg_file(f->dir, got[i], "timeindex")));
        int64_t sz = file_size(seg_file(f->dir, got[i], "log"));
        assert_true(sz > 0);
        if (i + 1 < nw) assert_true(sz <= seg || sz == 2000 + SPATE_KBATCH_HEADER);
        total += sz;
    }
    assert_int_equal(total, spate_klog_size_bytes(l));
    check_reads(l, &m);
    assert_int_equal(spate_klog_flush(l), SPATE_OK);
    spate_klog_close(l);
    model_free(&m);
}

/* Compaction's rewrite (spate_klog_rewrite_*): segment 1 keeps every
 * other batch. Reads see the gaps (an offset in a dropped batch reads from
 * the next kept one), the indexes are rebuilt, an abort changes nothing,
 * the active segment cannot be rewritten, and after a reopen (with a
 * half-written .cleaned file left as a crash would leave it) all is the
 * same. */
static void test_rewrite(void **state) {
    fx_t *f = *state;
    const int64_t seg = 1000;
    spate_klog_conf_t c = conf_of(seg, 100);
    spate_klog_t *l = open_log(f->dir, &c);
    model_t m = {0};
    for (int i = 0; i < 30; i++) model_append(l, &m, 1 + i % 3, 60 + (size_t)(i * 37) % 200);
    size_t nseg = spate_klog_segment_count(l);
    assert_true(nseg >= 4);
    spate_klog_rewrite_t rw;
    assert_int_equal(spate_klog_rewrite_begin(l, nseg - 1, &rw), SPATE_EINVAL);

    int64_t base, end, size;
    spate_klog_segment_info(l, 1, &base, &end, &size);
    /* An abort leaves segment 1 as it was. */
    assert_int_equal(spate_klog_rewrite_begin(l, 1, &rw), SPATE_OK);
    assert_int_equal(spate_klog_rewrite_write(&rw, "junk", 4), SPATE_OK);
    spate_klog_rewrite_abort(&rw);
    check_reads(l, &m);

    assert_int_equal(spate_klog_rewrite_begin(l, 1, &rw), SPATE_OK);
    size_t k = 0, kept = 0, dropped = 0;
    int64_t new_size = 0;
    for (size_t i = 0; i < m.n; i++) {
        mbatch_t *b = &m.b[i];
        if (b->base < base || b->base >= end) {
            m.b[k++] = *b;
            continue;
        }
        if ((kept + dropped) % 2 == 0) {
            assert_int_equal(spate_klog_rewrite_write(&rw, b->p, b->len), SPATE_OK);
            new_size += (int64_t)b->len;
            m.b[k++] = *b;
            kept++;
        } else {
            free(b->p);
            dropped++;
        }
    }
    m.n = k;
    assert_true(kept >= 1 && dropped >= 1);
    int64_t total = spate_klog_size_bytes(l);
    assert_int_equal(spate_klog_rewrite_commit(&rw), SPATE_OK);
    int64_t nb, ne, ns;
    spate_klog_segment_info(l, 1, &nb, &ne, &ns);
    assert_int_equal(nb, base);
    assert_int_equal(ns, new_size);
    assert_int_equal(spate_klog_size_bytes(l), total - size + new_size);
    assert_true(file_exists(seg_file(f->dir, base, "index")));
    assert_false(file_exists(seg_file(f->dir, base, "log.cleaned")));
    check_reads(l, &m);
    spate_klog_close(l);

    /* A crash in the middle of a later rewrite leaves a .cleaned file. */
    spate_klog_segment_info(l = open_log(f->dir, &c), 2, &base, &end, &size);
    spate_klog_close(l);
    char *junk = seg_file(f->dir, base, "log.cleaned");
    append_bytes(junk, "half a batch", 12);
    l = open_log(f->dir, &c);
    assert_false(file_exists(junk));
    check_reads(l, &m);
    spate_klog_close(l);
    model_free(&m);
}

static void test_reopen(void **state) {
    fx_t *f = *state;
    spate_klog_conf_t c = conf_of(1500, 150);
    spate_klog_t *l = open_log(f->dir, &c);
    model_t m = {0};
    for (int i = 0; i < 50; i++) model_append(l, &m, 1 + i % 4, (size_t)(i * 41) % 300);
    int64_t size = spate_klog_size_bytes(l);
    spate_klog_close(l);

    l = open_log(f->dir, &c);
    assert_int_equal(spate_klog_size_bytes(l), size);
    assert_false(spate_klog_dirty(l));
    check_reads(l, &m);
    for (int i = 0; i < 20; i++) model_append(l, &m, 2, 120);
    check_reads(l, &m);
    spate_klog_close(l);

    /* Reopened with another segment size: old segments stay as they are. */
    c.segment_bytes = 1 << 20;
    l = open_log(f->dir, &c);
    check_reads(l, &m);
    spate_klog_close(l);
    model_free(&m);
}

/* Index files of every segment, concatenated (to compare rebuilds). */
static void snapshot_indexes(const char *dir, spate_buf_t *out) {
    int64_t bases[MODEL_MAX];
    size_t n = list_logs(dir, bases, MODEL_MAX);
    spate_buf_reset(out);
    for (size_t i = 0; i < n; i++) {
        static const char *const ext[2] = {"index", "timeindex"};
        for (int k = 0; k < 2; k++) {
            size_t len;
            uint8_t *b = slurp(seg_file(dir, bases[i], ext[k]), &len);
            assert_int_equal(spate_buf_printf(out, "%s:%zu:", ext[k], len), SPATE_OK);
            assert_int_equal(spate_buf_append(out, b, len), SPATE_OK);
            free(b);
        }
    }
}

static void test_rebuild_indexes(void **state) {
    fx_t *f = *state;
    spate_klog_conf_t c = conf_of(2000, 150);
    spate_klog_t *l = open_log(f->dir, &c);
    model_t m = {0};
    for (int i = 0; i < 60; i++) model_append(l, &m, 1 + i % 3, (size_t)(i * 29) % 260);
    spate_klog_close(l);
    spate_buf_t before = SPATE_BUF_INIT, after = SPATE_BUF_INIT;
    snapshot_indexes(f->dir, &before);

    int64_t bases[MODEL_MAX];
    size_t n = list_logs(f->dir, bases, MODEL_MAX);
    assert_true(n >= 4);

    /* Deleted: rebuilt from the .log, the same bytes as written. */
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(unlink(seg_file(f->dir, bases[i], "index")), 0);
        assert_int_equal(unlink(seg_file(f->dir, bases[i], "timeindex")), 0);
    }
    l = open_log(f->dir, &c);
    check_reads(l, &m);
    assert_int_equal(spate_klog_offset_for_time(l, m.b[33].max_ts), m.b[33].base);
    spate_klog_close(l);
    snapshot_indexes(f->dir, &after);
    assert_int_equal(after.len, before.len);
    assert_memory_equal(after.data, before.data, before.len);

    /* Damaged in each way the loader checks: rebuilt too. */
    size_t ilen;
    uint8_t *ib = slurp(seg_file(f->dir, bases[1], "index"), &ilen);
    assert_true(ilen >= 16);
    truncate_by(seg_file(f->dir, bases[0], "index"), 3);           /* not a multiple */
    poke(seg_file(f->dir, bases[1], "index"), 8, ib, 8);           /* not increasing */
    static const uint8_t far[8] = {0, 0, 0, 1, 0x7f, 0, 0, 0};     /* past the file */
    poke(seg_file(f->dir, bases[2], "index"), 0, far, sizeof far); /* position 2 GiB */
    truncate_by(seg_file(f->dir, bases[3], "timeindex"), 12);      /* pairs disagree */
    free(ib);
    l = open_log(f->dir, &c);
    check_reads(l, &m);
    spate_klog_close(l);
    snapshot_indexes(f->dir, &after);
    assert_int_equal(after.len, before.len);
    assert_memory_equal(after.data, before.data, before.len);

    spate_buf_free(&before);
    spate_buf_free(&after);
    model_free(&m);
}

/* Ten batches in one segment, closed: the setting of the recovery tests. */
static void ten_batches(const fx_t *f, const spate_klog_conf_t *c, model_t *m) {
    spate_klog_t *l = open_log(f->dir, c);
    for (int i = 0; i < 10; i++) model_append(l, m, 1 + i % 3, 80 + (size_t)i * 10);
    spate_klog_close(l);
}

static int64_t model_bytes(const model_t *m, size_t k) {
    int64_t n = 0;
    for (size_t i = 0; i < k; i++) n += (int64_t)m->b[i].len;
    return n;
}

static void test_recovery_torn_tail(void **state) {
    fx_t *f = *state;
    spate_klog_conf_t c = conf_of(1 << 20, 100);
    model_t m = {0};
    ten_batches(f, &c, &m);
    const char *log = seg_file(f->dir, 0, "log");
    truncate_by(log, 3);

    char lp[256];
    log_capture(f, lp, sizeof lp);
    spate_klog_t *l = open_log(f->dir, &c);
    char *text = log_captured(lp);
    char want[256];
    snprintf(want, sizeof want,
             "%s: recovered to offset %" PRId64 ", cut %zu bytes (short batch at offset %" PRId64
             ", file position %" PRId64 ")",
             f->dir, m.b[9].base, m.b[9].len - 3, m.b[9].base, model_bytes(&m, 9));
    if (!strstr(text, want)) fprintf(stderr, "log: %s\nwant: %s\n", text, want);
    assert_non_null(strstr(text, want));
    free(text);

    model_cut(&m, 9);
    assert_int_equal(spate_klog_end_offset(l), model_end(&m));
    assert_int_equal(file_size(log), model_bytes(&m, 9));
    check_reads(l, &m);
    /* Appends go on from the last whole batch. */
    model_append(l, &m, 4, 33);
    assert_int_equal(m.b[9].base, m.b[8].base + m.b[8].n);
    check_reads(l, &m);
    spate_klog_close(l);

    /* And that survives another restart untouched. */
    l = open_log(f->dir, &c);
    check_reads(l, &m);
    spate_klog_close(l);
    model_free(&m);
}

static void test_recovery_bad_crc(void **state) {
    fx_t *f = *state;
    spate_klog_conf_t c = conf_of(1 << 20, 100);
    model_t m = {0};
    ten_batches(f, &c, &m);
    const char *log = seg_file(f->dir, 0, "log");

    /* A byte in the middle of the last batch. */
    int64_t pos = model_bytes(&m, 9) + (int64_t)m.b[9].len / 2;
    uint8_t x = (uint8_t)(m.b[9].p[m.b[9].len / 2] ^ 0x10);
    poke(log, pos, &x, 1);
    char lp[256];
    log_capture(f, lp, sizeof lp);
    spate_klog_t *l = open_log(f->dir, &c);
    char *text = log_captured(lp);
    assert_non_null(strstr(text, "bad CRC"));
    free(text);
    model_cut(&m, 9);
    assert_int_equal(spate_klog_end_offset(l), model_end(&m));
    assert_int_equal(file_size(log), model_bytes(&m, 9));
    check_reads(l, &m);
    spate_klog_close(l);

    /* One in the middle of the log: everything from that batch goes. */
    pos = model_bytes(&m, 4) + 40;
    x = (uint8_t)(m.b[4].p[40] ^ 1);
    poke(log, pos, &x, 1);
    l = open_log(f->dir, &c);
    model_cut(&m, 4);
    assert_int_equal(spate_klog_end_offset(l), model_end(&m));
    assert_int_equal(file_size(log), model_bytes(&m, 4));
    check_reads(l, &m);
    model_append(l, &m, 1, 5);
    check_reads(l, &m);
    spate_klog_close(l);
    model_free(&m);
}

static void test_recovery_garbage(void **state) {
    fx_t *f = *state;
    spate_klog_conf_t c = conf_of(1 << 20, 100);
    model_t m = {0};
    ten_batches(f, &c, &m);
    const char *log = seg_file(f->dir, 0, "log");
    int64_t size = file_size(log);

    /* Zeros (a preallocated or torn page), random bytes, a plausible
     * header with a huge Length, a whole batch with the wrong offset. */
    uint8_t junk[300];
    memset(junk, 0, sizeof junk);
    append_bytes(log, junk, 5);
    spate_klog_t *l = open_log(f->dir, &c);
    spate_klog_close(l);
    assert_int_equal(file_size(log), size);

    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i * 97 + 13);
    append_bytes(log, junk, sizeof junk);
    l = open_log(f->dir, &c);
    spate_klog_close(l);
    assert_int_equal(file_size(log), size);

    memcpy(junk, m.b[2].p, SPATE_KBATCH_HEADER);
    put32(junk + 8, 0x7ffffff0);
    append_bytes(log, junk, sizeof junk);
    l = open_log(f->dir, &c);
    spate_klog_close(l);
    assert_int_equal(file_size(log), size);

    size_t len;
    uint8_t *b = mk_batch(2, 5, 10, 3, &len);
    put64(b, (uint64_t)model_end(&m) + 1); /* valid CRC, offset skips one */
    append_bytes(log, b, len);
    free(b);
    char lp[256];
    log_capture(f, lp, sizeof lp);
    l = open_log(f->dir, &c);
    char *text = log_captured(lp);
    assert_non_null(strstr(text, "BaseOffset"));
    free(text);
    assert_int_equal(file_size(log), size);
    assert_int_equal(spate_klog_end_offset(l), model_end(&m));
    check_reads(l, &m);
    spate_klog_close(l);
    model_free(&m);
}

static void test_recovery_last_segment_only(void **state) {
    fx_t *f = *state;
    spate_klog_conf_t c = conf_of(600, 100);
    spate_klog_t *l = open_log(f->dir, &c);
    model_t m = {0};
    for (int i = 0; i < 20; i++) model_append(l, &m, 2, 150);
    spate_klog_close(l);
    int64_t bases[MODEL_MAX];
    size_t n = list_logs(f->dir, bases, MODEL_MAX);
    assert_true(n >= 3);

    /* A leftover empty segment after the last one (a roll interrupted
     * before its first batch) and files that are not segments. */
    int64_t end = model_end(&m);
    append_bytes(seg_file(f->dir, end, "log"), "", 0);
    char path[256];
    static const char *const other[] = {"leader-epoch-checkpoint", "123.log",
                                        "00000000000000000000.log.deleted", "notes.txt"};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(other); i++) {
        snprintf(path, sizeof path, "%s/%s", f->dir, other[i]);
        append_bytes(path, "junk", 4);
    }
    /* The empty segment becomes the active one and takes the appends. */
    l = open_log(f->dir, &c);
    assert_int_equal(spate_klog_end_offset(l), end);
    check_reads(l, &m);
    model_append(l, &m, 1, 10);
    assert_int_equal(file_size(seg_file(f->dir, end, "log")), (int64_t)m.b[m.n - 1].len);
    check_reads(l, &m);
    spate_klog_close(l);

    /* An active segment cut to nothing by recovery is fine too. */
    truncate_by(seg_file(f->dir, end, "log"), 1);
    l = open_log(f->dir, &c);
    model_cut(&m, m.n - 1);
    assert_int_equal(spate_klog_end_offset(l), end);
    assert_int_equal(file_size(seg_file(f->dir, end, "log")), 0);
    check_reads(l, &m);
    spate_klog_close(l);
    model_free(&m);
}

static void test_retention_bytes(void **state) {
    fx_t *f = *state;
    const int64_t seg = 1000;
    spate_klog_conf_t c = conf_of(seg, 100);
    spate_klog_t *l = open_log(f->dir, &c);
    model_t m = {0};
    for (int i = 0; i < 40; i++) model_append(l, &m, 1 + i % 2, 150 + (size_t)(i * 13) % 100);
    int64_t bases[MODEL_MAX];
    size_t n = model_segments(&m, seg, bases);
    assert_true(n >= 8);
    /* Unlimited: nothing goes. */
    assert_int_equal(spate_klog_enforce_retention(l, INT64_MAX), 0);
    spate_klog_close(l);

    /* Kafka's rule: delete the oldest while what is left is >= the limit. */
    c.retention_bytes = 3 * seg;
    l = open_log(f->dir, &c);
    int64_t total = spate_klog_size_bytes(l);
    int want = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        int64_t sz = file_size(seg_file(f->dir, bases[i], "log"));
        if (total - sz < c.retention_bytes) break;
        total -= sz;
        want++;
    }
    assert_true(want >= 3);
    assert_int_equal(spate_klog_enforce_retention(l, 0), want);
    assert_int_equal(spate_klog_size_bytes(l), total);
    assert_true(total >= c.retention_bytes);
    for (int i = 0; i < want; i++) {
        assert_false(file_exists(seg_file(f->dir, bases[i], "log")));
        assert_false(file_exists(seg_file(f->dir, bases[i], "index")));
        assert_false(file_exists(seg_file(f->dir, bases[i], "timeindex")));
    }
    m.first = model_find(&m, bases[want]);
    assert_int_equal(spate_klog_start_offset(l), bases[want]);
    check_reads(l, &m);
    assert_int_equal(spate_klog_enforce_retention(l, 0), 0);
    spate_klog_close(l);

    /* The start offset after a restart is the first segment's base. */
    c.retention_bytes = 0;
    l = open_log(f->dir, &c);
    assert_int_equal(spate_klog_start_offset(l), bases[want]);
    /* Limit 0: everything but the active segment. */
    assert_int_equal(spate_klog_enforce_retention(l, 0), (int)n - 1 - want);
    assert_int_equal(spate_klog_start_offset(l), bases[n - 1]);
    assert_int_equal(spate_klog_size_bytes(l), file_size(seg_file(f->dir, bases[n - 1], "log")));
    m.first = model_find(&m, bases[n - 1]);
    check_reads(l, &m);
    model_append(l, &m, 3, 10);
    check_reads(l, &m);
    spate_klog_close(l);
    l = open_log(f->dir, &c);
    check_reads(l, &m);
    spate_klog_close(l);
    model_free(&m);
}

static void test_retention_time(void **state) {
    fx_t *f = *state;
    /* One batch per segment: batch i has MaxTimestamp 1000 * i. */
    spate_klog_conf_t c = conf_of(100, 100);
    c.retention_ms = 1500;
    spate_klog_t *l = open_log(f->dir, &c);
    model_t m = {0};
    for (int i = 0; i < 8; i++) model_append_ts(l, &m, 2, 1000 * i - 10, 1000 * i, 50);
    int64_t bases[MODEL_MAX];
    assert_int_equal(list_logs(f->dir, bases, MODEL_MAX), 8);
    /* now 5000: older than 3500 goes, i.e. batches 0..3. */
    assert_int_equal(spate_klog_enforce_retention(l, 5000), 4);
    assert_int_equal(spate_klog_start_offset(l), m.b[4].base);
    assert_int_equal(list_logs(f->dir, bases, MODEL_MAX), 4);
    m.first = 4;
    check_reads(l, &m);
    assert_int_equal(spate_klog_enforce_retention(l, 5000), 0);
    /* Far in the future: all but the active segment. */
    assert_int_equal(spate_klog_enforce_retention(l, INT64_MAX), 3);
    assert_int_equal(spate_klog_start_offset(l), m.b[7].base);
    assert_int_equal(list_logs(f->dir, bases, MODEL_MAX), 1);
    m.first = 7;
    check_reads(l, &m);
    assert_int_equal(spate_klog_enforce_retention(l, INT64_MIN), 0);
    spate_klog_close(l);
    model_free(&m);
}

static int64_t brute_offset_for_time(const model_t *m, int64_t ts) {
    for (size_t i = m->first; i < m->n; i++)
        if (m->b[i].max_ts >= ts) return m->b[i].base;
    return model_end(m);
}

static void check_times(spate_klog_t *l, const model_t *m, int64_t lo, int64_t hi) {
    for (int64_t ts = lo; ts <= hi; ts++)
        assert_int_equal(spate_klog_offset_for_time(l, ts), brute_offset_for_time(m, ts));
    assert_int_equal(spate_klog_offset_for_time(l, INT64_MIN), brute_offset_for_time(m, INT64_MIN));
    assert_int_equal(spate_klog_offset_for_time(l, INT64_MAX), model_end(m));
}

static void test_offset_for_time(void **state) {
    fx_t *f = *state;
    spate_klog_conf_t c = conf_of(1200, 120);
    spate_klog_t *l = open_log(f->dir, &c);
    model_t m = {0};
    /* Mostly rising timestamps, with some that go back (producers'
     * clocks differ) and a run of equal ones. */
    for (int i = 0; i < 70; i++) {
        int64_t ts = 10 * i;
        if (i % 7 == 3) ts -= 45;
        if (i >= 40 && i < 45) ts = 400;
        model_append_ts(l, &m, 1 + i % 3, ts - 5, ts, 40 + (size_t)(i * 17) % 90);
    }
    check_times(l, &m, -60, 710);
    spate_klog_close(l);
    l = open_log(f->dir, &c);
    check_times(l, &m, -60, 710);
    spate_klog_close(l);
    model_free(&m);
}

/* Damage anywhere (older segments, indexes, the active segment) may
 * make open or a read fail with SPATE_EIO, but never crash or read out of
 * bounds (this runs under ASan and valgrind), and an opened log still
 * takes appends. */
static void test_corrupt_files_no_crash(void **state) {
    fx_t *f = *state;
    spate_klog_conf_t c = conf_of(900, 120);
    spate_klog_t *l = open_log(f->dir, &c);
    model_t m = {0};
    for (int i = 0; i < 40; i++) model_append(l, &m, 1 + i % 4, (size_t)(i * 23) % 200);
    spate_klog_close(l);

    /* Keep a pristine copy of every file. */
    int64_t bases[MODEL_MAX];
    size_t nseg = list_logs(f->dir, bases, MODEL_MAX);
    static const char *const ext[3] = {"log", "index", "timeindex"};
    uint8_t *orig[MODEL_MAX][3];
    size_t olen[MODEL_MAX][3];
    for (size_t i = 0; i < nseg; i++)
        for (int k = 0; k < 3; k++)
            orig[i][k] = slurp(seg_file(f->dir, bases[i], ext[k]), &olen[i][k]);

    uint32_t rng = 12345;
    int opened = 0;
    for (int iter = 0; iter < 300; iter++) {
        /* Restore, then drop the segments after the first few (so the
         * damaged file is sometimes the active one) and damage a file. */
        rm_rf(f->dir);
        assert_int_equal(mkdir(f->dir, 0755), 0);
        rng = rng * 1103515245 + 12345;
        size_t keep = 1 + (rng >> 8) % nseg;
        for (size_t i = 0; i < keep; i++)
            for (int k = 0; k < 3; k++)
                append_bytes(seg_file(f->dir, bases[i], ext[k]), orig[i][k], olen[i][k]);
        rng = rng * 1103515245 + 12345;
        size_t si = (rng >> 8) % keep;
        rng = rng * 1103515245 + 12345;
        int k = (int)((rng >> 8) % 3);
        const char *path = seg_file(f->dir, bases[si], ext[k]);
        if (olen[si][k] == 0) continue;
        rng = rng * 1103515245 + 12345;
        int how = (int)((rng >> 8) % 3);
        for (int j = 0; j < 4; j++) {
            rng = rng * 1103515245 + 12345;
            size_t at = (rng >> 8) % olen[si][k];
            uint8_t x = (uint8_t)(rng >> 24);
            if (how == 0) poke(path, (int64_t)at, &x, 1);
            if (how == 1 && j == 0) truncate_by(path, (int64_t)(olen[si][k] - at));
            if (how == 2) {
                /* a plausible header field: Length, offset or position */
                uint8_t v[4];
                put32(v, (uint32_t)(rng % 4096));
                if (at + 4 <= olen[si][k]) poke(path, (int64_t)at, v, 4);
            }
        }
        spate_klog_t *l2 = NULL;
        char err[256];
        spate_status_t st = spate_klog_open(&l2, f->dir, &c, err, sizeof err);
        assert_true(st == SPATE_OK || st == SPATE_EIO);
        if (st != SPATE_OK) continue;
        opened++;
        int64_t start = spate_klog_start_offset(l2), end = spate_klog_end_offset(l2);
        assert_true(start <= end);
        for (int64_t off = start; off < end; off++) {
            spate_buf_t out = SPATE_BUF_INIT;
            st = spate_klog_read(l2, off, (size_t)(off % 3) * 300, &out);
            assert_true(st == SPATE_OK || st == SPATE_EIO);
            if (st == SPATE_OK) assert_true(out.len >= SPATE_KBATCH_HEADER);
            spate_klog_range_t r[256];
            size_t n, total;
            spate_status_t st2 =
                spate_klog_locate(l2, off, (size_t)(off % 3) * 300, r, 256, &n, &total);
            assert_true(st2 == SPATE_OK || st2 == SPATE_EIO);
            if (st == SPATE_OK && st2 == SPATE_OK) assert_int_equal(total, out.len);
            spate_buf_free(&out);
        }
        for (int64_t ts = 999990; ts < 1004000; ts += 250) {
            int64_t o = spate_klog_offset_for_time(l2, ts);
            assert_true(o == -1 || (o >= start && o <= end));
        }
        size_t len;
        uint8_t *b = mk_batch(2, 5, 10, 1, &len);
        int64_t got;
        assert_int_equal(spate_klog_append(l2, b, len, 0, &got), SPATE_OK);
        assert_int_equal(got, end);
        free(b);
        spate_klog_close(l2);
    }
    assert_true(opened > 100);
    for (size_t i = 0; i < nseg; i++)
        for (int k = 0; k < 3; k++) free(orig[i][k]);
    model_free(&m);
}

static void test_flush_dirty(void **state) {
    fx_t *f = *state;
    spate_klog_conf_t c = conf_of(500, 100);
    spate_klog_t *l = open_log(f->dir, &c);
    model_t m = {0};
    assert_false(spate_klog_dirty(l));
    assert_int_equal(spate_klog_flush(l), SPATE_OK);
    model_append(l, &m, 1, 100);
    assert_true(spate_klog_dirty(l));
    assert_int_equal(spate_klog_flush(l), SPATE_OK);
    assert_false(spate_klog_dirty(l));
    assert_int_equal(spate_klog_flush(l), SPATE_OK);
    /* Across rolls: the rolled segments are synced too. */
    for (int i = 0; i < 10; i++) model_append(l, &m, 2, 200);
    assert_true(spate_klog_dirty(l));
    assert_int_equal(spate_klog_flush(l), SPATE_OK);
    assert_false(spate_klog_dirty(l));
    check_reads(l, &m);
    spate_klog_close(l);
    model_free(&m);
}

static void test_destroy(void **state) {
    fx_t *f = *state;
    spate_klog_conf_t c = conf_of(500, 100);
    spate_klog_t *l = open_log(f->dir, &c);
    model_t m = {0};
    for (int i = 0; i < 10; i++) model_append(l, &m, 2, 200);
    char path[256];
    snprintf(path, sizeof path, "%s/leader-epoch-checkpoint", f->dir);
    append_bytes(path, "0\n", 2);
    assert_int_equal(spate_klog_destroy(l), SPATE_OK);
    struct stat st;
    assert_int_equal(stat(f->dir, &st), -1);
    assert_int_equal(errno, ENOENT);
    model_free(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_short),
        cmocka_unit_test(test_parse_bad_length),
        cmocka_unit_test(test_parse_bad_magic),
        cmocka_unit_test(test_parse_bad_crc),
        cmocka_unit_test(test_parse_bad_count),
        cmocka_unit_test(test_parse_bad_attrs),
        cmocka_unit_test_setup_teardown(test_open_args, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_append_offsets, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_read_every_offset, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_roll, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rewrite, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_reopen, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rebuild_indexes, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_recovery_torn_tail, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_recovery_bad_crc, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_recovery_garbage, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_recovery_last_segment_only, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_retention_bytes, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_retention_time, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_offset_for_time, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_files_no_crash, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_flush_dirty, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_destroy, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
