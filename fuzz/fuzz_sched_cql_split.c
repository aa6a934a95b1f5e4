/*
 * fuzz_sched_cql_split.c — libFuzzer target for the `cql` task type's
 * statement splitter (spate_sched_op_cql_split, sched_op_cql.c): DAG files
 * carry the CQL text, so it is outside input.
 *
 * Invariants: the count does not depend on how many spans the caller
 * asked for; every span lies inside the input, is non-empty, starts on a
 * non-blank byte, and spans come in order without overlapping. (A span
 * may end on a blank: an unterminated string or comment at the end of the
 * text is kept whole.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sched_op_int.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static int blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    size_t n = spate_sched_op_cql_split(s, size, NULL, 0);
    enum { MAX = 64 };
    spate_sched_op_span_t spans[MAX];
    size_t n2 = spate_sched_op_cql_split(s, size, spans, MAX);
    CHECK(n == n2);
    size_t end = 0;
    for (size_t i = 0; i < n && i < MAX; i++) {
        CHECK(spans[i].len > 0);
        CHECK(spans[i].off >= end);
        CHECK(spans[i].off + spans[i].len <= size);
        CHECK(!blank(s[spans[i].off]));
        end = spans[i].off + spans[i].len;
    }
    return 0;
}
