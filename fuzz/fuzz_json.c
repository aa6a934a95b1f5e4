/*
 * fuzz_json.c — libFuzzer target for spate_json_loadb (source_json.c),
 * differential against jansson's json_loadb(…, JSON_DECODE_ANY, …):
 * both must accept or refuse the same inputs and, when they accept, build
 * equal trees (json_equal). A refusal must come with a reason and a
 * position inside the input. Any difference aborts, except for inputs
 * holding a NUL byte (see below). Also spate_json_flat_scan (the stream's
 * fast path): whatever it takes must be read as an object of exactly its
 * fields, string for string, in its order.
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
    /* the flat scan (the stream's fast path) takes only what the reader
     * reads as the same object of the same strings, in the same order */
    spate_json_field_t f[16];
    size_t n = 99;
    if (spate_json_flat_scan((const char *)data, size, f, 16, &n)) {
        if (!got || !json_is_object(got) || json_object_size(got) != n) abort();
        size_t i = 0;
        for (void *it = json_object_iter(got); it; it = json_object_iter_next(got, it), i++) {
            json_t *v = json_object_iter_value(it);
            if (json_object_iter_key_len(it) != f[i].kn ||
                memcmp(json_object_iter_key(it), f[i].k, f[i].kn) != 0 || !json_is_string(v) ||
                json_string_length(v) != f[i].vn || memcmp(json_string_value(v), f[i].v, f[i].vn))
                abort();
        }
    }
    if (!got && (!e.text[0] || e.line < 1 || e.column < 1 || e.position > size)) abort();
    json_decref(want);
    json_decref(got);
    return 0;
}
