/*
 * fuzz_conf.c — libFuzzer target for the YAML configuration loader
 * (src/base/base_conf.c). The input is loaded with spate_conf_load_string
 * from a heap copy of exactly its length. A failed load must leave an
 * empty configuration and a message naming the file. A successful one is
 * walked whole: every node's shape is checked (scalars have text and no
 * children, map entries have keys and sequence items none, nchild matches
 * the list, lines are positive), every map key is looked up and read with
 * each typed getter (str, i64 in two ranges, double, bool) so the error
 * formatting runs on hostile keys and values, errors must start with
 * "fuzz.yaml:" and stay NUL-terminated in their buffer, and
 * spate_conf_check_keys runs on every map. Then everything is freed (ASan
 * reports leaks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char name[] = "fuzz.yaml";

static void check_err(spate_status_t st, const spate_conf_err_t *err) {
    CHECK(st == SPATE_OK || st == SPATE_EINVAL || st == SPATE_ERANGE);
    if (st == SPATE_OK) return;
    CHECK(memchr(err->msg, '\0', sizeof err->msg) != NULL);
    CHECK(strncmp(err->msg, "fuzz.yaml:", 10) == 0);
}

static void walk(const spate_conf_t *c, const spate_conf_node_t *n, int depth) {
    CHECK(depth <= 64);
    CHECK(n->line >= 1);
    if (n->kind == SPATE_CONF_SCALAR) {
        CHECK(n->value != NULL);
        CHECK(n->child == NULL && n->nchild == 0);
        return;
    }
    CHECK(n->kind == SPATE_CONF_MAP || n->kind == SPATE_CONF_SEQ);
    CHECK(n->value == NULL);
    size_t count = 0;
    for (const spate_conf_node_t *ch = n->child; ch; ch = ch->next) {
        count++;
        if (n->kind == SPATE_CONF_SEQ) {
            CHECK(ch->key == NULL);
        } else {
            CHECK(ch->key != NULL);
            /* Keys are unique (as C strings), so lookup finds this node. */
            CHECK(spate_conf_get(n, ch->key) == ch);
            spate_conf_err_t err;
            const char *s = NULL;
            int64_t i = 0;
            double d = 0;
            bool b = false;
            check_err(spate_conf_get_str(c, n, ch->key, &s, &err), &err);
            check_err(spate_conf_get_i64(c, n, ch->key, 0, 100, &i, &err), &err);
            check_err(spate_conf_get_i64(c, n, ch->key, INT64_MIN, INT64_MAX, &i, &err), &err);
            check_err(spate_conf_get_double(c, n, ch->key, -1.0, 1.0, &d, &err), &err);
            check_err(spate_conf_get_bool(c, n, ch->key, &b, &err), &err);
            CHECK(spate_conf_get_i64(c, n, ch->key, 0, 100, &i, NULL) != SPATE_ENOENT);
        }
        walk(c, ch, depth + 1);
    }
    CHECK(count == n->nchild);
    if (n->kind == SPATE_CONF_MAP) {
        static const char *const known[] = {"name", "server", "retries", "a", NULL};
        spate_conf_err_t err;
        check_err(spate_conf_check_keys(c, n, known, &err), &err);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size ? size : 1);
    if (!text) abort();
    if (size) memcpy(text, data, size);

    spate_conf_t c;
    spate_conf_err_t err;
    spate_status_t st = spate_conf_load_string(&c, name, text, size, &err);
    if (st == SPATE_OK) {
        CHECK(strcmp(c.path, name) == 0);
        if (c.root) walk(&c, c.root, 1);
        /* Lookups on a missing key leave outputs alone. */
        int64_t i = 42;
        if (!spate_conf_get(c.root, "missing")) {
            CHECK(spate_conf_get_i64(&c, c.root, "missing", 0, 1, &i, &err) == SPATE_ENOENT);
            CHECK(i == 42);
        }
    } else {
        CHECK(st == SPATE_EINVAL || st == SPATE_ENOMEM);
        CHECK(c.root == NULL);
        CHECK(memchr(err.msg, '\0', sizeof err.msg) != NULL);
        CHECK(strncmp(err.msg, name, strlen(name)) == 0);
    }
    spate_conf_free(&c);
    free(text);
    return 0;
}
