/*
 * source_int.h — private to src/source: the random number generator and
 * the in-memory form of one generated user, shared by the generator
 * (source_randomuser_gen.c) and the output formats
 * (source_randomuser_format.c).
 */
#ifndef SPATE_SOURCE_INT_H
#define SPATE_SOURCE_INT_H

#include "source.h"
#include "source_randomuser_data.h"

/* ---- MT19937, as randomuser.me's `mersenne` module ---- */

typedef struct {
    uint32_t mt[624];
    int idx;
} spate_mt_t;

void spate_mt_seed(spate_mt_t *m, uint32_t seed);
/* Regenerates the 624-word state (out of line: once per 624 draws). */
void spate_mt_twist(spate_mt_t *m);
static inline uint32_t spate_mt_u32(spate_mt_t *m) {
    if (m->idx >= 624) spate_mt_twist(m);
    uint32_t y = m->mt[m->idx++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}
/* floor(genrand_real2() * n) computed exactly: a number in [0, n). */
static inline uint32_t spate_mt_below(spate_mt_t *m, uint32_t n) {
    return (uint32_t)(((uint64_t)spate_mt_u32(m) * n) >> 32);
}
/* min + below(max - min + 1), randomuser's range(min, max); spans wider
 * than 32 bits (millisecond dates) take two draws. */
static inline int64_t spate_mt_range(spate_mt_t *m, int64_t min, int64_t max) {
    uint64_t n = (uint64_t)(max - min) + 1;
    if (n <= UINT32_MAX) return min + (int64_t)spate_mt_below(m, (uint32_t)n);
    uint64_t hi = spate_mt_u32(m);
    uint64_t r = hi << 32 | spate_mt_u32(m);
    return min + (int64_t)(r % n);
}

/* Copies n bytes for the short texts of a user (names, digests, dates):
 * constant-size moves that the compiler inlines, overlapping at the tail,
 * instead of a libc call per field (which cost 15% of the generator). */
static inline char *ru_copy(char *o, const char *s, size_t n) {
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 <= n; i += 8) __builtin_memcpy(o + i, s + i, 8);
        if (i < n) __builtin_memcpy(o + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        __builtin_memcpy(o, s, 4);
        __builtin_memcpy(o + n - 4, s + n - 4, 4);
    } else if (n) {
        o[0] = s[0];
        o[n / 2] = s[n / 2];
        o[n - 1] = s[n - 1];
    }
    return o + n;
}

/* The MT seed of a randomuser seed string: the first 8 hex digits of
 * md5(seed[0..16] + page) (page appended only when it is not 1). */
uint32_t spate_ru_seed_to_mt(const char *seed, int page);

/* ---- one generated user ---- */

/* A text field: pointer + length. Pointers go either into the static word
 * lists or into the user's own scratch space (`buf`). */
typedef struct {
    const char *p;
    uint32_t n;
} ru_str_t;

typedef struct {
    int nat;    /* index into spate_ru_nats */
    int female; /* 0 male, 1 female */
    ru_str_t title, first, last;
    int street_number;
    ru_str_t street, city, state, country;
    bool postcode_is_str;
    int postcode_int;
    ru_str_t postcode;
    ru_str_t lat, lon;
    ru_str_t tz_offset, tz_desc;
    ru_str_t email;
    ru_str_t uuid, username, password, salt, md5, sha1, sha256;
    ru_str_t dob, registered;
    int dob_age, registered_age;
    ru_str_t phone, cell;
    ru_str_t id_name;
    bool id_null;
    ru_str_t id_value;
    int picture;
    ru_str_t nat_code;
    /* scratch for the texts made per user */
    char buf[2048];
    size_t used;
} ru_user_t;

/* Fills u with the next user drawn from m for params p. */
void spate_ru_user_make(ru_user_t *u, spate_mt_t *m, const spate_ru_params_t *p, int64_t now_ms);

/* ---- output: a response body produced incrementally ----
 *
 *   PREFIX ──▶ USERS (one at a time) ──▶ SUFFIX ──▶ DONE
 *
 * spate_ru_stream_fill appends at least `want` bytes (or up to the end) and
 * can be called again; the HTTP server streams large responses with it so
 * that memory stays bounded and the output stays in cache. */
enum { RU_STAGE_PREFIX, RU_STAGE_USERS, RU_STAGE_SUFFIX, RU_STAGE_DONE };

typedef struct {
    spate_ru_params_t p;
    char seed[64];
    int64_t now_ms;
    int n, i; /* users to write, users written */
    int stage;
    bool have_user; /* u was drawn but not yet written (CSV header) */
    spate_mt_t mt;
    ru_user_t u;
} spate_ru_stream_t;

void spate_ru_stream_init(spate_ru_stream_t *st, const spate_ru_params_t *p, const char *seed,
                          int64_t now_ms, bool empty);
spate_status_t spate_ru_stream_fill(spate_ru_stream_t *st, spate_buf_t *out, size_t want,
                                    bool *done);
/* The seed a request uses: p->seed, or a fresh random one (17 bytes). */
void spate_ru_pick_seed(const spate_ru_params_t *p, char out[64]);

#endif /* SPATE_SOURCE_INT_H */
