/*
 * fuzz_kafka_batch.c — libFuzzer target for spate_kbatch_parse
 * (src/kafka/kafka_batch.c), the check every produced RecordBatch and
 * every batch read back by log recovery goes through.
 *
 * The input is copied to a heap block of exactly its length, so any read
 * past it is caught, and parsed with several max_len bounds (none, the
 * input's size, one byte less, the 61-byte header, a broker's 1 MiB). The
 * answers must agree with each other and with the documented order of
 * checks, and an OK answer must mean what the log relies on: the batch
 * fits in the input and the bound, magic 2, RecordsCount ==
 * LastOffsetDelta + 1 > 0, a known compression id, and the CRC-32C over
 * [21, end) matches. Parsing is also checked to be pure: the same input
 * gives the same answer and fields twice, and the input is not modified.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_log.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void check_ok(const uint8_t *p, size_t len, size_t max_len, const spate_kbatch_t *b) {
    CHECK(b->length >= SPATE_KBATCH_HEADER);
    CHECK((size_t)b->length <= len);
    CHECK((size_t)b->length <= max_len);
    CHECK(b->magic == 2);
    CHECK(b->records_count > 0);
    CHECK((int64_t)b->records_count == (int64_t)b->last_offset_delta + 1);
    CHECK((b->attributes & 7) <= 4);
    CHECK(spate_crc32c(0, p + 21, (size_t)b->length - 21) == b->crc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *p = malloc(size ? size : 1);
    if (!p) abort();
    if (size) memcpy(p, data, size);

    const size_t bounds[] = {SIZE_MAX, size, size ? size - 1 : 0, SPATE_KBATCH_HEADER, 1 << 20};
    spate_kbatch_check_t first = SPATE_KBATCH_OK;
    spate_kbatch_t fb;
    memset(&fb, 0, sizeof fb);
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        spate_kbatch_t b;
        memset(&b, 0, sizeof b);
        spate_kbatch_check_t c = spate_kbatch_parse(p, size, bounds[i], &b);
        CHECK(c >= SPATE_KBATCH_OK && c <= SPATE_KBATCH_BAD_ATTRS);
        CHECK(spate_kbatch_check_str(c) != NULL);
        if (size < SPATE_KBATCH_HEADER) CHECK(c == SPATE_KBATCH_SHORT);
        if (c == SPATE_KBATCH_OK) check_ok(p, size, bounds[i], &b);
        if (i == 0) {
            first = c;
            fb = b;
            /* Pure: the same answer and fields again, NULL result allowed. */
            spate_kbatch_t again;
            memset(&again, 0, sizeof again);
            CHECK(spate_kbatch_parse(p, size, bounds[i], &again) == c);
            CHECK(memcmp(&again, &b, sizeof b) == 0);
            CHECK(spate_kbatch_parse(p, size, bounds[i], NULL) == c);
        } else if (first == SPATE_KBATCH_OK) {
            /* A tighter bound can only turn OK into BAD_LENGTH. */
            CHECK(c == SPATE_KBATCH_OK || c == SPATE_KBATCH_BAD_LENGTH);
            CHECK(c != SPATE_KBATCH_OK || (size_t)fb.length <= bounds[i]);
            CHECK(c != SPATE_KBATCH_BAD_LENGTH || (size_t)fb.length > bounds[i]);
        } else if (first != SPATE_KBATCH_BAD_LENGTH) {
            /* Without a bound nothing but the bound can change the answer. */
            CHECK(c == first || c == SPATE_KBATCH_BAD_LENGTH);
        }
    }

    /* An accepted batch stays accepted alone, and every strict prefix of
     * it is SHORT (checked on a handful of cut points to stay fast). */
    if (first == SPATE_KBATCH_OK) {
        size_t n = (size_t)fb.length;
        CHECK(spate_kbatch_parse(p, n, n, NULL) == SPATE_KBATCH_OK);
        const size_t cuts[] = {0,     1,    12, SPATE_KBATCH_HEADER - 1, SPATE_KBATCH_HEADER,
                               n / 2, n - 1};
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
            if (cuts[i] >= n) continue;
            uint8_t *q = malloc(cuts[i] ? cuts[i] : 1);
            if (!q) abort();
            memcpy(q, p, cuts[i]);
            CHECK(spate_kbatch_parse(q, cuts[i], SIZE_MAX, NULL) == SPATE_KBATCH_SHORT);
            free(q);
        }
    }

    CHECK(size == 0 || memcmp(p, data, size) == 0);
    free(p);
    return 0;
}
