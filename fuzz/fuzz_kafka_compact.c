/*
 * fuzz_kafka_compact.c — libFuzzer target for kafka_compact_check_keys
 * (src/kafka/kafka_compact.c), which Produce runs on every batch sent to a
 * compacted topic: it decompresses the records section with the batch's
 * codec (Attributes & 7) and walks every record for its key.
 *
 * The input is a whole batch (61-byte header, then the records), copied to
 * a heap block of exactly its length so any read past it is caught. The
 * answer must be one of the three documented ErrorCodes, and the same
 * twice (the check is pure).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *p = malloc(size ? size : 1);
    if (!p) return 0;
    memcpy(p, data, size);
    int16_t a = kafka_compact_check_keys(p, size);
    int16_t b = kafka_compact_check_keys(p, size);
    if (a != b || (a != KERR_NONE && a != KERR_INVALID_RECORD && a != KERR_CORRUPT_MESSAGE))
        abort();
    free(p);
    return 0;
}
