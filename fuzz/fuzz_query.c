/*
 * fuzz_query.c — libFuzzer target for the query-string path of the
 * randomuser server: spate_query_next (src/net/net_query.c) and
 * spate_ru_params_parse_query (src/source/source_randomuser_params.c).
 * The input is taken as a raw query string, copied to a heap block of
 * exactly its length (no NUL) so any read past the end is caught. It is
 * iterated with output buffers of 0..4 bytes, also on the heap and exact,
 * checking that every pair is NUL-terminated inside its buffer and that
 * the iteration ends; then parsed as randomuser parameters, whose results
 * must stay in range whatever the input: results 1..5000, page 1..10000,
 * fields a subset of SPATE_RU_F_ALL, nat_mask within the 21 codes, a
 * known format and gender, pw_min <= pw_max when charsets are set, and
 * seed and callback NUL-terminated in their arrays.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Iterates q with key/value buffers of exactly klen/vlen heap bytes. */
static void iterate(const char *q, size_t len, size_t klen, size_t vlen) {
    char *k = malloc(klen ? klen : 1), *v = malloc(vlen ? vlen : 1);
    if (!k || !v) abort();
    spate_query_iter_t it;
    spate_query_iter_init(&it, q, len);
    size_t pairs = 0;
    while (spate_query_next(&it, k, klen, v, vlen) == SPATE_OK) {
        if (klen) CHECK(memchr(k, '\0', klen) != NULL);
        if (vlen) CHECK(memchr(v, '\0', vlen) != NULL);
        CHECK(it.off <= it.len);
        pairs++;
        /* Each pair consumes at least one byte of input plus its '&'. */
        CHECK(pairs <= len);
    }
    CHECK(spate_query_next(&it, k, klen, v, vlen) == SPATE_ENOENT);
    free(k);
    free(v);
}

static bool is_ident_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || c == '.';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *q = malloc(size ? size : 1);
    if (!q) abort();
    if (size) memcpy(q, data, size);

    for (size_t kl = 0; kl <= 4; kl++) iterate(q, size, kl, 4 - kl);
    iterate(q, size, 32, 256); /* the sizes the params parser uses */

    spate_ru_params_t p;
    spate_ru_params_parse_query(&p, q, size);
    CHECK(p.results >= 1 && p.results <= SPATE_RU_MAX_RESULTS);
    CHECK(p.page >= 1 && p.page <= SPATE_RU_MAX_PAGE);
    CHECK((p.fields & ~(uint32_t)SPATE_RU_F_ALL) == 0);
    CHECK((p.nat_mask >> spate_ru_nat_count()) == 0);
    CHECK(p.gender >= 0 && p.gender <= 2);
    CHECK(p.format >= SPATE_RU_FMT_JSON && p.format <= SPATE_RU_FMT_XML);
    CHECK(p.pw_charsets <=
          (SPATE_RU_PW_SPECIAL | SPATE_RU_PW_UPPER | SPATE_RU_PW_LOWER | SPATE_RU_PW_NUMBER));
    if (p.pw_charsets) CHECK(p.pw_min >= 1 && p.pw_min <= p.pw_max && p.pw_max <= 64);
    CHECK(memchr(p.seed, '\0', sizeof p.seed) != NULL);
    if (p.seed[0]) CHECK(p.gender == 0); /* a seed overrides gender */
    CHECK(memchr(p.callback, '\0', sizeof p.callback) != NULL);
    for (const char *c = p.callback; *c; c++) CHECK(is_ident_char(*c));

    free(q);
    return 0;
}
