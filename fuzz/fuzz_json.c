/*
 * fuzz_json.c — libFuzzer target for spate_json_loadb (source_json.c),
 * differential against jansson's json_loadb(…, JSON_DECODE_ANY, …):
 * both must accept or refuse the same inputs and, when they accept, build
 * equal trees (json_equal). A refusal must come with a reason and a
 * position inside the input. Any difference aborts, except for inputs
 * holding a NUL byte (see below).
 */
#include "source.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_error_t je;
    json_t *want = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
    spate_json_error_t e;
    json_t *got = spate_json_loadb((const char *)data, size, &e);
    if (memchr(data, 0, size)) {
        /* A raw NUL byte is never valid JSON: spate refuses it. jansson
         * skips one that follows a number or literal ("1\0" passes there:
         * its reader takes the NUL for the end of its look-ahead buffer),
         * so it is no reference for these inputs. */
        if (got) abort();
        json_decref(want);
        return 0;
    }
    if (!want != !got) abort();
    if (got && !json_equal(want, got)) abort();
    if (!got && (!e.text[0] || e.line < 1 || e.column < 1 || e.position > size)) abort();
    json_decref(want);
    json_decref(got);
    return 0;
}
