/*
 * source_jalloc.c — jansson's allocator: a per-thread cache of small
 * blocks in front of malloc (spate_json_alloc_install, called by main).
 *
 * Why: a stream job builds a jansson tree per record (~50 small blocks:
 * the object, its pairs, each string and its copy) and frees it when the
 * sink has the record; with hundreds of records in flight glibc's per-size
 * thread cache (7 blocks) overflows and every block goes through its
 * arena: malloc and free were ~27 % of the processor's CPU (perf, stream
 * benchmark).
 *
 * How: every block carries a 16-byte header (alignment kept) holding its
 * size class: 32 classes of 16..512 bytes in steps of 16, or BIG for
 * anything larger (plain malloc/free). A freed small block goes onto the
 * freeing thread's list for its class, up to CACHE_BYTES of payload per
 * class (headers on top: twice that for the 16-byte class); a small
 * allocation takes from the list first. Each block is still one
 * malloc, so heap checkers see ordinary blocks; under AddressSanitizer
 * nothing is cached (a use after free would otherwise go unseen). A
 * thread's lists are freed when it exits (pthread key destructor).
 *
 * jansson allocates and frees through these functions only after
 * spate_json_alloc_install. Memory jansson hands out (json_dumps) must go
 * back through them: spate code calls spate_json_dumps instead, which
 * returns malloc'd text.
 */
#include "source.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define HDR 16
#define STEP 16
#define NCLASS 32
#define BIG UINT32_MAX
#define CACHE_BYTES (128u << 10) /* per class and thread */

#if defined(__SANITIZE_ADDRESS__)
#define CACHING 0
#else
#define CACHING 1
#endif

typedef struct {
    void *head[NCLASS]; /* blocks (header addresses); next pointer at +8 */
    uint32_t n[NCLASS];
} jcache_t;

static __thread jcache_t *tls_cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_free(void *arg) {
    jcache_t *c = arg;
    for (int k = 0; k < NCLASS; k++) {
        void *b = c->head[k];
        while (b) {
            void *next;
            memcpy(&next, (char *)b + 8, sizeof next);
            free(b);
            b = next;
        }
    }
    free(c);
    tls_cache = NULL;
}

static bool key_ok; /* pthread_key_create worked: caches can be freed at exit */

static void key_init(void) { key_ok = pthread_key_create(&cache_key, cache_free) == 0; }

static jcache_t *cache_get(void) {
    jcache_t *c = tls_cache;
    if (c || !CACHING) return c;
    pthread_once(&cache_once, key_init);
    if (!key_ok || !(c = calloc(1, sizeof *c))) return NULL;
    if (pthread_setspecific(cache_key, c) != 0) { /* no destructor: do not cache */
        free(c);
        return NULL;
    }
    return tls_cache = c;
}

static void *jalloc(size_t n) {
    size_t k = n ? (n - 1) / STEP : 0;
    uint32_t cls = k < NCLASS ? (uint32_t)k : BIG;
    char *b = NULL;
    if (cls != BIG) {
        jcache_t *c = tls_cache;
        if (c && c->head[cls]) {
            b = c->head[cls];
            memcpy(&c->head[cls], b + 8, sizeof(void *));
            c->n[cls]--;
            return b + HDR;
        }
        b = malloc(HDR + (cls + 1) * STEP);
    } else {
        b = n <= SIZE_MAX - HDR ? malloc(HDR + n) : NULL;
    }
    if (!b) return NULL;
    memcpy(b, &cls, sizeof cls);
    return b + HDR;
}

static void jfree(void *p) {
    if (!p) return;
    char *b = (char *)p - HDR;
    uint32_t cls;
    memcpy(&cls, b, sizeof cls);
    if (cls < NCLASS) {
        jcache_t *c = cache_get();
        if (c && c->n[cls] < CACHE_BYTES / ((cls + 1) * STEP)) {
            memcpy(b + 8, &c->head[cls], sizeof(void *));
            c->head[cls] = b;
            c->n[cls]++;
            return;
        }
    }
    free(b);
}

void spate_json_alloc_install(void) { json_set_alloc_funcs(jalloc, jfree); }

static int dump_cb(const char *s, size_t n, void *ctx) {
    return spate_buf_append(ctx, s, n) == SPATE_OK ? 0 : -1;
}

char *spate_json_dumps(const json_t *v, size_t flags) {
    spate_buf_t b = {0};
    if (json_dump_callback(v, dump_cb, &b, flags) != 0 || spate_buf_append(&b, "", 1) != SPATE_OK) {
        spate_buf_free(&b);
        return NULL;
    }
    return b.data;
}
