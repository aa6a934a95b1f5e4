/*
 * fuzz_stream_window.c — libFuzzer target for the window checkpoint loader
 * (swin_load, src/stream/stream_window.c). A checkpoint is read back from
 * the store at start, so a damaged or hostile row must be refused with a
 * reason, never crash or loop.
 *
 *   byte 0      which window settings the engine is made with (tumbling,
 *               hopping, 1 or 2 group fields), so checkpoints taken with
 *               other settings are exercised too
 *   bytes 1..   the checkpoint
 *
 * Invariants checked on a successful load: saving gives bytes that load
 * again into a fresh engine and save to the very same bytes (the layout
 * is deterministic), and the engine keeps working (a record added, the
 * closed windows taken out and freed).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream_window.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const swin_conf_t confs[] = {
    {60000, 60000, 0, 0, 1},
    {60000, 20000, 5000, 1000, 2},
    {1000, 1000, 0, 0, 2},
    {3600000, 600000, 60000, 0, 1},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const swin_conf_t *c = &confs[data[0] % (sizeof confs / sizeof confs[0])];
    swin_t *w = NULL;
    CHECK(swin_new(c, &w) == SPATE_OK);
    char err[256];
    if (swin_load(w, data + 1, size - 1, err, sizeof err) == SPATE_OK) {
        spate_buf_t a = SPATE_BUF_INIT, b = SPATE_BUF_INIT;
        swin_save(w, &a);
        swin_t *w2 = NULL;
        CHECK(swin_new(c, &w2) == SPATE_OK);
        CHECK(swin_load(w2, a.data, a.len, err, sizeof err) == SPATE_OK);
        swin_save(w2, &b);
        CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
        swin_free(w2);

        spate_buf_t key = SPATE_BUF_INIT;
        for (uint32_t i = 0; i < c->ngroup; i++) swin_key_put(&key, "x", 1);
        swin_verdict_t v;
        (void)swin_add(w, 1700000000000LL, key.data, key.len, &v);
        swin_row_t *rows = NULL;
        size_t n = swin_close(w, &rows);
        swin_rows_free(rows, n);
        spate_buf_free(&key);
        spate_buf_free(&a);
        spate_buf_free(&b);
    } else {
        CHECK(err[0] != '\0');
        CHECK(swin_cells(w) == 0);
    }
    swin_free(w);
    return 0;
}
