/*
 * fuzz_format_user.c — libFuzzer target for the randomuser result mapping.
 *
 * The input is treated two ways: as one result object (the stream
 * processor's path, spate_format_user_text), and, when it parses as an API
 * response {"results":[...]}, each element through spate_format_user (the
 * fetch path). Invariants checked beyond "no crash": a success appends a
 * JSON object that parses back with exactly 12 keys; a failure leaves the
 * output buffer exactly as it was.
 */
#include "source.h"

#include <stdlib.h>
#include <string.h>

#define PREFIX "prefix"

static void check(spate_status_t st, const spate_buf_t *b, size_t before) {
    if (st != SPATE_OK) {
        if (b->len != before || memcmp(b->data, PREFIX, before) != 0) abort();
        return;
    }
    json_error_t jerr;
    json_t *rec = json_loadb(b->data + before, b->len - before, JSON_ALLOW_NUL, &jerr);
    if (!rec || !json_is_object(rec) || json_object_size(rec) != 12) abort();
    if (!json_is_string(json_object_get(rec, "post_code"))) abort();
    json_decref(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    spate_buf_t b = SPATE_BUF_INIT;
    char err[256];
    spate_buf_puts(&b, PREFIX);
    size_t before = b.len;
    spate_status_t st = spate_format_user_text((const char *)data, size, &b, err, sizeof err);
    check(st, &b, before);

    json_error_t jerr;
    json_t *root = json_loadb((const char *)data, size, 0, &jerr);
    json_t *results = json_is_object(root) ? json_object_get(root, "results") : NULL;
    if (json_is_array(results)) {
        size_t i;
        json_t *r;
        json_array_foreach(results, i, r) {
            b.len = before;
            b.data[before] = '\0';
            check(spate_format_user(r, &b, err, sizeof err), &b, before);
        }
    }
    json_decref(root);
    spate_buf_free(&b);
    return 0;
}
