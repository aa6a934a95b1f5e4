/*
 * cql_token.c — Cassandra's Murmur3Partitioner token.
 *
 * The token of a partition is h1 of MurmurHash3 x64_128 (seed 0) over its
 * serialized partition key. Cassandra's implementation (MurmurHash.java)
 * differs from the reference one in a single place: the 1..15 trailing
 * bytes are read as Java bytes, i.e. sign-extended to 64 bits before being
 * shifted and xored in, so keys with a tail byte >= 0x80 hash differently
 * from the canonical algorithm. Full 16-byte blocks are read unsigned,
 * little-endian, as in the reference. The length mixed in at the end is
 * the key length. INT64_MIN is not a valid token (it is the partitioner's
 * minimum), so it is mapped to INT64_MAX.
 *
 * Serialized partition key (what drivers hash for token-aware routing):
 *
 *   one column      the value's bytes
 *   composite       per component: [u16 BE length][bytes][0x00]
 */
#include <string.h>

#include "cql_key.h"

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t fmix64(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

/* Block words are little-endian and unsigned. */
static inline uint64_t block64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* A tail byte the way Java's (long) key.get(i) sees it: sign-extended. */
static inline uint64_t sx(uint8_t b) { return (uint64_t)(int64_t)(int8_t)b; }

void spate_cql_murmur3_128(const void *key, size_t len, int64_t out[2]) {
    const uint8_t *p = (const uint8_t *)key;
    const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
    uint64_t h1 = 0, h2 = 0;
    size_t nblocks = len / 16;

    for (size_t i = 0; i < nblocks; i++) {
        uint64_t k1 = block64(p + i * 16), k2 = block64(p + i * 16 + 8);
        k1 *= c1;
        k1 = rotl64(k1, 31);
        k1 *= c2;
        h1 ^= k1;
        h1 = rotl64(h1, 27);
        h1 += h2;
        h1 = h1 * 5 + 0x52dce729;
        k2 *= c2;
        k2 = rotl64(k2, 33);
        k2 *= c1;
        h2 ^= k2;
        h2 = rotl64(h2, 31);
        h2 += h1;
        h2 = h2 * 5 + 0x38495ab5;
    }

    const uint8_t *t = p + nblocks * 16;
    size_t rest = len & 15;
    uint64_t k1 = 0, k2 = 0;
    if (rest > 8) {
        for (size_t i = rest; i > 8; i--) k2 ^= sx(t[i - 1]) << (8 * (i - 9));
        k2 *= c2;
        k2 = rotl64(k2, 33);
        k2 *= c1;
        h2 ^= k2;
    }
    if (rest > 0) {
        size_t top = rest > 8 ? 8 : rest;
        for (size_t i = top; i > 0; i--) k1 ^= sx(t[i - 1]) << (8 * (i - 1));
        k1 *= c1;
        k1 = rotl64(k1, 31);
        k1 *= c2;
        h1 ^= k1;
    }

    h1 ^= (uint64_t)len;
    h2 ^= (uint64_t)len;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    h2 += h1;
    out[0] = (int64_t)h1;
    out[1] = (int64_t)h2;
}

int64_t spate_cql_murmur3_token(const void *key, size_t len) {
    int64_t h[2];
    spate_cql_murmur3_128(key, len, h);
    return h[0] == INT64_MIN ? INT64_MAX : h[0];
}

spate_status_t spate_cql_partition_key_serialize(spate_buf_t *out, const spate_slice_t *pk,
                                                 size_t npk) {
    if (npk == 0) return SPATE_EINVAL;
    for (size_t i = 0; i < npk; i++)
        if (pk[i].p == NULL || pk[i].len < 0) return SPATE_EINVAL;
    if (npk == 1) return spate_buf_append(out, pk[0].p, (size_t)pk[0].len);
    for (size_t i = 0; i < npk; i++)
        if (pk[i].len > 0xFFFF) return SPATE_ERANGE;
    for (size_t i = 0; i < npk; i++) {
        spate_status_t st = spate_wr_u16(out, (uint16_t)pk[i].len);
        if (st == SPATE_OK) st = spate_buf_append(out, pk[i].p, (size_t)pk[i].len);
        if (st == SPATE_OK) st = spate_wr_u8(out, 0);
        if (st != SPATE_OK) return st;
    }
    return SPATE_OK;
}

spate_status_t spate_cql_partition_token(const spate_slice_t *pk, size_t npk, int64_t *token) {
    if (npk == 1 && pk[0].p != NULL && pk[0].len >= 0) {
        *token = spate_cql_murmur3_token(pk[0].p, (size_t)pk[0].len);
        return SPATE_OK;
    }
    spate_buf_t b = SPATE_BUF_INIT;
    spate_status_t st = spate_cql_partition_key_serialize(&b, pk, npk);
    if (st == SPATE_OK) *token = spate_cql_murmur3_token(b.data, b.len);
    spate_buf_free(&b);
    return st;
}
