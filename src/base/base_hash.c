/*
 * base_hash.c — message digests and UUIDs, on OpenSSL's libcrypto.
 *
 * The randomuser generator computes md5, sha1 and sha256 of every user's
 * password+salt, so digests are on its hot path. Measured per 16-byte
 * digest on this project's machine: EVP with a reused context 100-150 ns,
 * OpenSSL 3's one-shot SHA256() (EVP_Q_digest, which fetches the algorithm
 * each call) 300 ns, the direct MD5/SHA1/SHA256_Init/Update/Final 50-95 ns.
 * The direct functions are deprecated in OpenSSL 3 but kept through 3.x;
 * spate_hash_raw uses them there and EVP (fetched once per thread, one
 * reusable context) everywhere else — UUIDv5, and any OpenSSL without them.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* the direct digest functions, see above */
#include "base.h"

#include <openssl/evp.h>
#include <openssl/md5.h>
#include <openssl/opensslv.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    EVP_MD *md[3];
    EVP_MD_CTX *ctx;
} hash_tls_t;

static __thread hash_tls_t *tls;
static const char *const md_names[3] = {"MD5", "SHA1", "SHA256"};
static const size_t md_sizes[3] = {16, 20, 32};

static hash_tls_t *tls_get(void) {
    if (tls) return tls;
    hash_tls_t *t = spate_xcalloc(1, sizeof *t);
    for (int i = 0; i < 3; i++) {
        t->md[i] = EVP_MD_fetch(NULL, md_names[i], NULL);
        if (!t->md[i]) {
            fprintf(stderr, "spate: OpenSSL has no %s digest\n", md_names[i]);
            abort();
        }
    }
    t->ctx = EVP_MD_CTX_new();
    if (!t->ctx) abort();
    tls = t;
    /* Freed at thread exit only by the OS: a few hundred bytes per thread,
     * and threads here live as long as the process. */
    return t;
}

static void hash_evp(spate_hash_alg_t alg, const void *p, size_t n, uint8_t *out);

void spate_hash_raw(spate_hash_alg_t alg, const void *p, size_t n, uint8_t *out) {
#if OPENSSL_VERSION_MAJOR == 3 && !defined(OPENSSL_NO_DEPRECATED_3_0)
    switch (alg) {
    case SPATE_HASH_MD5: {
        MD5_CTX c;
        MD5_Init(&c);
        MD5_Update(&c, p, n);
        MD5_Final(out, &c);
        return;
    }
    case SPATE_HASH_SHA1: {
        SHA_CTX c;
        SHA1_Init(&c);
        SHA1_Update(&c, p, n);
        SHA1_Final(out, &c);
        return;
    }
    case SPATE_HASH_SHA256: {
        SHA256_CTX c;
        SHA256_Init(&c);
        SHA256_Update(&c, p, n);
        SHA256_Final(out, &c);
        return;
    }
    }
#endif
    hash_evp(alg, p, n, out);
}

static void hash_evp(spate_hash_alg_t alg, const void *p, size_t n, uint8_t *out) {
    if ((unsigned)alg > SPATE_HASH_SHA256) abort(); /* not a spate_hash_alg_t */
    hash_tls_t *t = tls_get();
    unsigned int len = 0;
    if (EVP_DigestInit_ex2(t->ctx, t->md[alg], NULL) != 1 || EVP_DigestUpdate(t->ctx, p, n) != 1 ||
        EVP_DigestFinal_ex(t->ctx, out, &len) != 1) {
        fprintf(stderr, "spate: %s digest failed\n", md_names[alg]);
        abort();
    }
}

static const char hexd[] = "0123456789abcdef";

/* "00" .. "ff": two characters a byte in one load. */
static char hex2[256][2];
static pthread_once_t hex2_once = PTHREAD_ONCE_INIT;
static void hex2_init(void) {
    for (int i = 0; i < 256; i++) {
        hex2[i][0] = hexd[i >> 4];
        hex2[i][1] = hexd[i & 15];
    }
}

size_t spate_hash_hex(spate_hash_alg_t alg, const void *p, size_t n, char *out) {
    uint8_t raw[32];
    spate_hash_raw(alg, p, n, raw);
    pthread_once(&hex2_once, hex2_init);
    size_t m = md_sizes[alg];
    for (size_t i = 0; i < m; i++) memcpy(out + 2 * i, hex2[raw[i]], 2);
    out[2 * m] = '\0';
    return 2 * m;
}

void spate_uuid_format(const uint8_t u[16], char out[37]) {
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
        *o++ = hexd[u[i] >> 4];
        *o++ = hexd[u[i] & 15];
    }
    *o = '\0';
}

/* a hex digit's value + 1, 0 for any other byte (a table: uuid columns
 * parse one per record on the stream's hot path) */
static const uint8_t hexval1[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

spate_status_t spate_uuid_parse(const char *s, size_t n, uint8_t u[16]) {
    /* where each of the 16 bytes' two digits start */
    static const uint8_t at[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
    if (n != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return SPATE_EINVAL;
    int bad = 0;
    for (int j = 0; j < 16; j++) {
        int hi = hexval1[(unsigned char)s[at[j]]] - 1,
            lo = hexval1[(unsigned char)s[at[j] + 1]] - 1;
        bad |= hi | lo; /* negative if either is not a digit */
        u[j] = (uint8_t)((unsigned)hi << 4 | (unsigned)lo);
    }
    return bad < 0 ? SPATE_EINVAL : SPATE_OK;
}

void spate_uuid_v5(const uint8_t ns[16], const void *name, size_t n, uint8_t out[16]) {
    hash_tls_t *t = tls_get();
    uint8_t d[20];
    unsigned int len = 0;
    if (EVP_DigestInit_ex2(t->ctx, t->md[SPATE_HASH_SHA1], NULL) != 1 ||
        EVP_DigestUpdate(t->ctx, ns, 16) != 1 || EVP_DigestUpdate(t->ctx, name, n) != 1 ||
        EVP_DigestFinal_ex(t->ctx, d, &len) != 1)
        abort();
    memcpy(out, d, 16);
    out[6] = (uint8_t)((out[6] & 0x0f) | 0x50); /* version 5 */
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}
