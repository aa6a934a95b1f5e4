/*
 * test_json_alloc.c — jansson on spate's allocator (source_jalloc.c):
 * trees of every block size built, compared and freed many times over,
 * values made on one thread and freed on another (the freeing thread's
 * cache takes the blocks), strings past the largest class, and
 * spate_json_dumps' text freed with free(), and (outside ASan, where
 * nothing is cached) a freed block handed out again. Under the asan and
 * valgrind copies of this test a block handed to the wrong free is
 * reported; a block touched after it was freed only under asan (valgrind
 * cannot see into the cache).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "source.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* An object whose string values are 1..n bytes long ('a' + len % 26). */
static json_t *make(size_t n) {
    json_t *o = json_object();
    char key[32], *s = malloc(n + 1);
    for (size_t len = 1; len <= n; len++) {
        memset(s, 'a' + (int)(len % 26), len);
        s[len] = '\0';
        snprintf(key, sizeof key, "k%zu", len);
        assert_int_equal(json_object_set_new(o, key, json_stringn(s, len)), 0);
    }
    free(s);
    return o;
}

static void check(const json_t *o, size_t n) {
    assert_int_equal(json_object_size(o), n);
    char key[32];
    for (size_t len = 1; len <= n; len++) {
        snprintf(key, sizeof key, "k%zu", len);
        const json_t *v = json_object_get(o, key);
        assert_non_null(v);
        assert_int_equal(json_string_length(v), len);
        const char *s = json_string_value(v);
        for (size_t i = 0; i < len; i++) assert_int_equal(s[i], 'a' + (int)(len % 26));
    }
}

static void test_sizes_and_reuse(void **state) {
    (void)state;
    /* 600 strings: every class (16..512 bytes) and some past it; many
     * rounds, so freed blocks are taken again from the cache */
    for (int round = 0; round < 50; round++) {
        json_t *o = make(600);
        check(o, 600);
        json_t *copy = json_deep_copy(o);
        assert_true(json_equal(o, copy));
        json_decref(o);
        check(copy, 600);
        json_decref(copy);
    }
}

static void *build(void *arg) {
    json_t **out = arg;
    for (int i = 0; i < 64; i++) out[i] = make(100);
    return NULL;
}

static void *destroy(void *arg) {
    json_t **in = arg;
    for (int i = 0; i < 64; i++) {
        check(in[i], 100);
        json_decref(in[i]);
    }
    /* the blocks now sit in this thread's cache: use them before it exits */
    json_t *o = make(100);
    check(o, 100);
    json_decref(o);
    return NULL;
}

static void test_across_threads(void **state) {
    (void)state;
    json_t *vals[64];
    pthread_t a, b;
    assert_int_equal(pthread_create(&a, NULL, build, vals), 0);
    assert_int_equal(pthread_join(a, NULL), 0);
    assert_int_equal(pthread_create(&b, NULL, destroy, vals), 0);
    assert_int_equal(pthread_join(b, NULL), 0);
}

static void test_reuse(void **state) {
    (void)state;
    /* 40 characters: the copy (41 bytes) is in another class than the
     * string value itself (32 bytes), which is freed after it */
    json_t *a = json_string("forty characters of text, exactly so!!!!");
    const char *first = json_string_value(a);
    json_decref(a);
    json_t *b = json_string("forty characters of text, exactly so????");
#if defined(__SANITIZE_ADDRESS__)
    assert_non_null(first); /* nothing is cached: no reuse to see */
#else
    /* the copy of the text has the same size: the last block freed for
     * its class comes back */
    assert_ptr_equal(json_string_value(b), first);
#endif
    assert_string_equal(json_string_value(b), "forty characters of text, exactly so????");
    json_decref(b);
}

static void test_dumps_is_malloced(void **state) {
    (void)state;
    json_t *o = json_pack("{s:i, s:[s, b], s:n}", "a", 1, "b", "x\"y", 1, "c");
    char *text = spate_json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"a\":1,\"b\":[\"x\\\"y\",true],\"c\":null}");
    free(text); /* plain free: the text is not jansson's */
    json_t *big = make(2000);
    text = spate_json_dumps(big, JSON_COMPACT);
    assert_true(strlen(text) > 2000 * 1000);
    free(text);
    json_decref(big);
    json_decref(o);
}

int main(void) {
    spate_json_alloc_install(); /* as spate's main does */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_and_reuse),
        cmocka_unit_test(test_across_threads),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_dumps_is_malloced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
