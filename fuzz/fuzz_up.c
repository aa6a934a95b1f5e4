/*
 * fuzz_up.c — libFuzzer target for the parsers of `spate up` (src/up/):
 * the same input goes to
 *
 *   spate_up_lines_feed     a child's output, fed in two pieces at a point
 *                           chosen by the first byte; every emitted line is
 *                           checked to be at most SPATE_UP_LINE_MAX bytes
 *                           without '\n', and the bytes emitted plus the
 *                           newlines equal the input
 *   spate_up_conf_load_string  the input as a pipeline file (a NUL-terminated
 *                           heap copy): on success every string of the
 *                           config is NUL-terminated within its array and
 *                           the numbers are within their documented ranges;
 *                           on failure the message names "fuzz.yaml:".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "up.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct {
    size_t bytes;
} count_t;

static void on_line(void *ctx, const char *line, size_t n) {
    count_t *c = ctx;
    CHECK(n <= SPATE_UP_LINE_MAX);
    CHECK(memchr(line, '\n', n) == NULL);
    c->bytes += n;
}

#define TERMINATED(a) CHECK(memchr((a), '\0', sizeof(a)) != NULL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = (const char *)data;
    static spate_up_lines_t lines;
    lines.len = 0;
    count_t c = {0};
    size_t cut = size ? data[0] % (size + 1) : 0;
    spate_up_lines_feed(&lines, p, cut, on_line, &c);
    spate_up_lines_feed(&lines, p + cut, size - cut, on_line, &c);
    spate_up_lines_flush(&lines, on_line, &c);
    size_t nl = 0;
    for (size_t i = 0; i < size; i++) nl += data[i] == '\n';
    CHECK(c.bytes + nl == size);

    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    spate_up_conf_t conf;
    spate_up_conf_default(&conf);
    spate_conf_err_t err = {{0}};
    spate_status_t st = spate_up_conf_load_string(&conf, "fuzz.yaml", text, &err);
    if (st == SPATE_OK) {
        for (int i = 0; i < SPATE_UP_NCOMP; i++) {
            TERMINATED(conf.comp[i].addr);
            TERMINATED(conf.comp[i].data_dir);
        }
        TERMINATED(conf.topic);
        TERMINATED(conf.table);
        TERMINATED(conf.staging);
        TERMINATED(conf.randomuser_url);
        CHECK(strchr(conf.table, '.') != NULL);
        CHECK(conf.partitions >= 1 && conf.partitions <= 10000);
        CHECK(conf.max_crashes >= 1 && conf.max_crashes <= SPATE_UP_CRASH_RING);
    } else {
        CHECK(memchr(err.msg, '\0', sizeof err.msg) != NULL);
        CHECK(strncmp(err.msg, "fuzz.yaml", 9) == 0);
    }
    free(text);
    return 0;
}
