/*
 * source_rng.c — the Mersenne Twister (MT19937) and randomuser's seeding.
 *
 * randomuser.me draws every field from MT19937 seeded by the first 8 hex
 * digits of md5(seed + page); doing the same here means a seed selects a
 * reproducible stream of draws, as users of the real API expect ("same
 * seed, same users"). The generator is the textbook algorithm of Matsumoto
 * and Nishimura (1998), written from its description.
 */
#include "source_int.h"

#include <stdio.h>
#include <string.h>

void spate_mt_seed(spate_mt_t *m, uint32_t seed) {
    m->mt[0] = seed;
    for (int i = 1; i < 624; i++)
        m->mt[i] = 1812433253u * (m->mt[i - 1] ^ (m->mt[i - 1] >> 30)) + (uint32_t)i;
    m->idx = 624;
}

/* Regenerates all 624 words; split in three runs so that no index needs a
 * modulo (the wrap-around cases are the last two runs). */
#define MT_N 624
#define MT_M 397
static inline uint32_t mix(uint32_t hi, uint32_t lo, uint32_t far) {
    uint32_t y = (hi & 0x80000000u) | (lo & 0x7fffffffu);
    return far ^ (y >> 1) ^ ((uint32_t) - (int32_t)(y & 1) & 0x9908b0dfu);
}

void spate_mt_twist(spate_mt_t *m) {
    uint32_t *mt = m->mt;
    int i = 0;
    for (; i < MT_N - MT_M; i++) mt[i] = mix(mt[i], mt[i + 1], mt[i + MT_M]);
    for (; i < MT_N - 1; i++) mt[i] = mix(mt[i], mt[i + 1], mt[i + MT_M - MT_N]);
    mt[MT_N - 1] = mix(mt[MT_N - 1], mt[0], mt[MT_M - 1]);
    m->idx = 0;
}

uint32_t spate_ru_seed_to_mt(const char *seed, int page) {
    char text[48];
    int n = snprintf(text, sizeof text, "%.16s", seed);
    if (page != 1) n += snprintf(text + n, sizeof text - (size_t)n, "%d", page);
    char hex[33];
    spate_hash_hex(SPATE_HASH_MD5, text, (size_t)n, hex);
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        char c = hex[i];
        v = v << 4 | (uint32_t)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return v;
}
