/*
 * fuzz_kafka_codec.c — libFuzzer target for the RecordBatch codecs and
 * the Record v2 iterator (src/kafka/kafka_codec.c), which log compaction
 * runs over every stored batch.
 *
 * Input layout:
 *
 *   byte 0     codec id & 7: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd;
 *              5-7 must be refused with EINVAL
 *   bytes 1..  a records section compressed with that codec (or not)
 *
 * The section is copied to a heap block of exactly its length (ASan sees
 * any read past it) and decompressed with a 1 MiB bound into a buffer
 * that already holds "PFX". Checked: the status is OK, EINVAL or ERANGE;
 * the prefix survives; a failure leaves the buffer at its old length; an
 * OK result is within the bound and comes out the same twice; the buffer
 * never held more than about twice the bound. Then the output is walked
 * as records, twice: once with a huge count, to learn how many records
 * parse, then with exactly that count, which must return the same
 * records and end with ENOENT exactly when nothing was left over. Every
 * record's raw span must follow the previous one, hold its key, value and
 * headers, and its headers must walk to exactly their span. Small
 * outputs are recompressed with the same codec and must decode back to
 * the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_codec.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MAX_OUT ((size_t)1 << 20)
#define ROUND_TRIP_MAX ((size_t)64 << 10)

static bool within(const void *p, size_t n, const uint8_t *lo, size_t len) {
    const uint8_t *q = p;
    return q >= lo && q <= lo + len && n <= (size_t)(lo + len - q);
}

static void check_record(const spate_kafka_record_t *rec) {
    CHECK(rec->raw_len >= 7); /* Length + six one-byte fields at least */
    if (rec->key.p)
        CHECK(rec->key.len >= 0 &&
              within(rec->key.p, (size_t)rec->key.len, rec->raw, rec->raw_len));
    else
        CHECK(rec->key.len == -1);
    if (rec->value.p)
        CHECK(rec->value.len >= 0 &&
              within(rec->value.p, (size_t)rec->value.len, rec->raw, rec->raw_len));
    else
        CHECK(rec->value.len == -1);
    CHECK(rec->headers_count >= 0);
    CHECK(within(rec->headers, rec->headers_len, rec->raw, rec->raw_len));
    spate_rd_t r;
    spate_rd_init(&r, rec->headers, rec->headers_len);
    for (int32_t i = 0; i < rec->headers_count; i++) {
        spate_slice_t k, v;
        CHECK(spate_kafka_header_next(&r, &k, &v) == SPATE_OK);
        CHECK(k.p != NULL && k.len >= 0);
    }
    CHECK(spate_rd_left(&r) == 0);
}

static void walk_records(const uint8_t *p, size_t n) {
    /* Pass 1: how many records parse before the first error. */
    spate_kafka_record_iter_t it;
    spate_kafka_record_t rec;
    spate_kafka_record_iter_init(&it, p, n, INT32_MAX);
    int32_t count = 0;
    size_t off = 0;
    spate_status_t st;
    while ((st = spate_kafka_record_iter_next(&it, &rec)) == SPATE_OK) {
        CHECK(rec.raw == p + off);
        CHECK(within(rec.raw, rec.raw_len, p, n));
        check_record(&rec);
        off += rec.raw_len;
        count++;
    }
    CHECK(st == SPATE_EINVAL);
    CHECK(it.err_off >= off && it.err_off <= n);
    CHECK(spate_kafka_record_iter_next(&it, &rec) == SPATE_EINVAL); /* sticky */
    size_t first_err = it.err_off;

    /* Pass 2: with the count it found, the same records, then the end. */
    spate_kafka_record_iter_init(&it, p, n, count);
    size_t off2 = 0;
    for (int32_t i = 0; i < count; i++) {
        CHECK(spate_kafka_record_iter_next(&it, &rec) == SPATE_OK);
        CHECK(rec.raw == p + off2);
        off2 += rec.raw_len;
    }
    CHECK(off2 == off);
    st = spate_kafka_record_iter_next(&it, &rec);
    if (off == n) {
        CHECK(st == SPATE_ENOENT);
        CHECK(first_err == n); /* pass 1 failed only for want of a record */
    } else {
        CHECK(st == SPATE_EINVAL);
        CHECK(it.err_off == off); /* trailing bytes start where records end */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    int codec = data[0] & SPATE_KAFKA_CODEC_MASK;
    size_t n = size - 1;
    uint8_t *in = malloc(n ? n : 1);
    CHECK(in != NULL);
    if (n) memcpy(in, data + 1, n);

    spate_buf_t out = SPATE_BUF_INIT;
    CHECK(spate_buf_puts(&out, "PFX") == SPATE_OK);
    spate_status_t st = spate_kafka_codec_decompress(codec, in, n, MAX_OUT, &out);
    CHECK(st == SPATE_OK || st == SPATE_EINVAL || st == SPATE_ERANGE);
    if (codec > SPATE_KAFKA_CODEC_ZSTD) CHECK(st == SPATE_EINVAL);
    CHECK(memcmp(out.data, "PFX", 3) == 0);
    CHECK(out.cap <= 2 * MAX_OUT + 64);
    if (st != SPATE_OK) CHECK(out.len == 3);
    CHECK(out.data[out.len] == '\0');

    if (st == SPATE_OK) {
        const uint8_t *plain = (const uint8_t *)out.data + 3;
        size_t plen = out.len - 3;
        CHECK(plen <= MAX_OUT);
        if (codec == SPATE_KAFKA_CODEC_NONE) CHECK(plen == n && memcmp(plain, in, n) == 0);

        /* Pure: the same input decodes the same again, also at exactly
         * its own size, and one byte less is a bomb. */
        spate_buf_t again = SPATE_BUF_INIT;
        CHECK(spate_kafka_codec_decompress(codec, in, n, plen, &again) == SPATE_OK);
        CHECK(again.len == plen && (plen == 0 || memcmp(again.data, plain, plen) == 0));
        spate_buf_free(&again);
        if (plen)
            CHECK(spate_kafka_codec_decompress(codec, in, n, plen - 1, &again) == SPATE_ERANGE);
        CHECK(again.len == 0);
        spate_buf_free(&again);

        walk_records(plain, plen);

        if (plen <= ROUND_TRIP_MAX) {
            spate_buf_t z = SPATE_BUF_INIT, back = SPATE_BUF_INIT;
            CHECK(spate_kafka_codec_compress(codec, plain, plen, &z) == SPATE_OK);
            CHECK(spate_kafka_codec_decompress(codec, (const uint8_t *)z.data, z.len, plen,
                                               &back) == SPATE_OK);
            CHECK(back.len == plen && (plen == 0 || memcmp(back.data, plain, plen) == 0));
            spate_buf_free(&z);
            spate_buf_free(&back);
        }
    }

    CHECK(n == 0 || memcmp(in, data + 1, n) == 0);
    spate_buf_free(&out);
    free(in);
    return 0;
}
