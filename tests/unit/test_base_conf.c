/*
 * test_base_conf.c — unit tests of the YAML configuration loader and its
 * typed getters (src/base/base_conf.c). What a user relies on is the
 * error text: every message must name the file, the line and the key, so
 * these tests assert whole messages ("test.yaml:2: key 'retries': expected
 * an integer, got 'three'") for wrong types, values out of range, a
 * mapping where a value belongs, unknown keys, duplicate keys, YAML syntax
 * errors, anchors and aliases, several documents, excessive nesting and
 * unreadable files. They also check that a well-formed nested document is
 * read back through the getters with the right kinds and line numbers,
 * that quoted scalars are never numbers or booleans, that an empty
 * document is "no configuration" rather than an error, and that every
 * spate_conf_t is freed (the tests also run under valgrind and ASan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base.h"

static spate_status_t load(spate_conf_t *c, const char *text, spate_conf_err_t *err) {
    return spate_conf_load_string(c, "test.yaml", text, strlen(text), err);
}

/* Loading must fail with `st` and exactly the message `msg`, leaving an
 * empty (but freeable) configuration. Frees before asserting so that a
 * failure leaks nothing under valgrind. */
static void expect_load_error(const char *text, spate_status_t st, const char *msg) {
    spate_conf_t c;
    spate_conf_err_t err;
    spate_status_t got = load(&c, text, &err);
    bool root_null = c.root == NULL;
    spate_conf_free(&c);
    assert_int_equal(got, st);
    assert_string_equal(err.msg, msg);
    assert_true(root_null);
}

/* Loading must fail with a message starting with `prefix`. */
static void expect_load_error_prefix(const char *text, const char *prefix) {
    spate_conf_t c;
    spate_conf_err_t err;
    spate_status_t got = load(&c, text, &err);
    bool root_null = c.root == NULL;
    spate_conf_free(&c);
    assert_int_equal(got, SPATE_EINVAL);
    if (strncmp(err.msg, prefix, strlen(prefix)) != 0)
        fail_msg("message '%s' does not start with '%s'", err.msg, prefix);
    assert_true(root_null);
}

/* ---- a well-formed document ---- */

static const char nested_doc[] = "name: demo\n"               /* 1 */
                                 "server:\n"                  /* 2 */
                                 "  listen: 127.0.0.1:8088\n" /* 3 */
                                 "  threads: 4\n"             /* 4 */
                                 "  ratio: 0.25\n"            /* 5 */
                                 "  debug: true\n"            /* 6 */
                                 "  limits:\n"                /* 7 */
                                 "    retries: 3\n"           /* 8 */
                                 "    timeout: -1.5e2\n"      /* 9 */
                                 "topics:\n"                  /* 10 */
                                 "  - users\n"                /* 11 */
                                 "  - 'events'\n"             /* 12 */
                                 "flow: {a: 1, b: [x, y]}\n"; /* 13 */

static void test_conf_nested(void **state) {
    (void)state;
    spate_conf_t c;
    spate_conf_err_t err;
    assert_int_equal(load(&c, nested_doc, &err), SPATE_OK);
    assert_string_equal(c.path, "test.yaml");
    const spate_conf_node_t *root = c.root;
    assert_non_null(root);
    assert_int_equal(root->kind, SPATE_CONF_MAP);
    assert_int_equal(root->nchild, 4);
    assert_null(root->key);

    const char *s = NULL;
    assert_int_equal(spate_conf_get_str(&c, root, "name", &s, &err), SPATE_OK);
    assert_string_equal(s, "demo");

    const spate_conf_node_t *server = spate_conf_get(root, "server");
    assert_non_null(server);
    assert_int_equal(server->kind, SPATE_CONF_MAP);
    assert_string_equal(server->key, "server");
    assert_int_equal(server->nchild, 5);
    assert_int_equal(spate_conf_get_str(&c, server, "listen", &s, &err), SPATE_OK);
    assert_string_equal(s, "127.0.0.1:8088");
    int64_t i = 0;
    assert_int_equal(spate_conf_get_i64(&c, server, "threads", 1, 64, &i, &err), SPATE_OK);
    assert_int_equal(i, 4);
    double d = 0;
    assert_int_equal(spate_conf_get_double(&c, server, "ratio", 0, 1, &d, &err), SPATE_OK);
    assert_true(d == 0.25);
    bool b = false;
    assert_int_equal(spate_conf_get_bool(&c, server, "debug", &b, &err), SPATE_OK);
    assert_true(b);
    /* An integer is also a number. */
    assert_int_equal(spate_conf_get_double(&c, server, "threads", 0, 100, &d, &err), SPATE_OK);
    assert_true(d == 4.0);

    const spate_conf_node_t *limits = spate_conf_get(server, "limits");
    assert_non_null(limits);
    assert_int_equal(spate_conf_get_i64(&c, limits, "retries", 0, 10, &i, &err), SPATE_OK);
    assert_int_equal(i, 3);
    assert_int_equal(spate_conf_get_double(&c, limits, "timeout", -1000, 0, &d, &err), SPATE_OK);
    assert_true(d == -150.0);
    const spate_conf_node_t *retries = spate_conf_get(limits, "retries");
    assert_int_equal(retries->kind, SPATE_CONF_SCALAR);
    assert_int_equal(retries->line, 8);
    assert_false(retries->quoted);

    const spate_conf_node_t *topics = spate_conf_get(root, "topics");
    assert_non_null(topics);
    assert_int_equal(topics->kind, SPATE_CONF_SEQ);
    assert_int_equal(topics->nchild, 2);
    const spate_conf_node_t *t0 = topics->child, *t1 = t0->next;
    assert_null(t0->key); /* sequence items sit under no key */
    assert_string_equal(t0->value, "users");
    assert_int_equal(t0->line, 11);
    assert_false(t0->quoted);
    assert_string_equal(t1->value, "events");
    assert_int_equal(t1->line, 12);
    assert_true(t1->quoted);
    assert_null(t1->next);

    const spate_conf_node_t *flow = spate_conf_get(root, "flow");
    assert_int_equal(flow->kind, SPATE_CONF_MAP);
    assert_int_equal(flow->line, 13);
    assert_int_equal(spate_conf_get_i64(&c, flow, "a", 0, 9, &i, &err), SPATE_OK);
    assert_int_equal(i, 1);
    const spate_conf_node_t *fb = spate_conf_get(flow, "b");
    assert_int_equal(fb->kind, SPATE_CONF_SEQ);
    assert_int_equal(fb->nchild, 2);

    /* Missing keys: ENOENT, output untouched, no error needed. */
    i = 77;
    assert_int_equal(spate_conf_get_i64(&c, root, "missing", 0, 100, &i, &err), SPATE_ENOENT);
    assert_int_equal(i, 77);
    s = "default";
    assert_int_equal(spate_conf_get_str(&c, root, "missing", &s, &err), SPATE_ENOENT);
    assert_string_equal(s, "default");
    assert_int_equal(spate_conf_get_bool(&c, NULL, "debug", &b, &err), SPATE_ENOENT);
    assert_null(spate_conf_get(NULL, "x"));
    assert_null(spate_conf_get(topics, "users")); /* a list has no keys */

    static const char *const known_root[] = {"name", "server", "topics", "flow", NULL};
    assert_int_equal(spate_conf_check_keys(&c, root, known_root, &err), SPATE_OK);
    assert_int_equal(spate_conf_check_keys(&c, NULL, known_root, &err), SPATE_OK);
    spate_conf_free(&c);
    assert_null(c.root);
    assert_null(c.path);
    spate_conf_free(&c); /* freeing twice is harmless after the reset */
}

/* ---- getter errors ---- */

static const char errors_doc[] = "name: demo\n"                 /* 1 */
                                 "retries: three\n"             /* 2 */
                                 "workers: 99\n"                /* 3 */
                                 "ratio: 1.5\n"                 /* 4 */
                                 "flag: maybe\n"                /* 5 */
                                 "inline: {a: 1}\n"             /* 6 */
                                 "items: [1, 2]\n"              /* 7 */
                                 "quoted: \"42\"\n"             /* 8 */
                                 "single: '1.5'\n"              /* 9 */
                                 "qbool: 'true'\n"              /* 10 */
                                 "huge: 99999999999999999999\n" /* 11 */
                                 "hex: 0x10\n"                  /* 12 */
                                 "retires: 3\n";                /* 13 */

static void test_conf_getter_errors(void **state) {
    (void)state;
    spate_conf_t c;
    spate_conf_err_t err;
    assert_int_equal(load(&c, errors_doc, &err), SPATE_OK);
    const spate_conf_node_t *r = c.root;
    int64_t i = 5;
    double d = 5;
    bool b = false;
    const char *s = NULL;

    assert_int_equal(spate_conf_get_i64(&c, r, "retries", 0, 10, &i, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "test.yaml:2: key 'retries': expected an integer, got 'three'");
    assert_int_equal(spate_conf_get_i64(&c, r, "workers", 0, 10, &i, &err), SPATE_ERANGE);
    assert_string_equal(err.msg, "test.yaml:3: key 'workers': 99 is out of range [0, 10]");
    assert_int_equal(spate_conf_get_i64(&c, r, "huge", 0, INT64_MAX, &i, &err), SPATE_ERANGE);
    assert_string_equal(err.msg, "test.yaml:11: key 'huge': 99999999999999999999 is out of range "
                                 "[0, 9223372036854775807]");
    assert_int_equal(spate_conf_get_i64(&c, r, "hex", 0, 100, &i, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "test.yaml:12: key 'hex': expected an integer, got '0x10'");
    assert_int_equal(i, 5); /* never written on failure */

    assert_int_equal(spate_conf_get_double(&c, r, "ratio", 0, 1, &d, &err), SPATE_ERANGE);
    assert_string_equal(err.msg, "test.yaml:4: key 'ratio': 1.5 is out of range [0, 1]");
    assert_int_equal(spate_conf_get_double(&c, r, "name", 0, 1, &d, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "test.yaml:1: key 'name': expected a number, got 'demo'");
    assert_true(d == 5);

    assert_int_equal(spate_conf_get_bool(&c, r, "flag", &b, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "test.yaml:5: key 'flag': expected true or false, got 'maybe'");

    /* A mapping or a list where a value was expected. */
    assert_int_equal(spate_conf_get_i64(&c, r, "inline", 0, 10, &i, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "test.yaml:6: key 'inline': expected an integer, got a mapping");
    assert_int_equal(spate_conf_get_str(&c, r, "inline", &s, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "test.yaml:6: key 'inline': expected a string, got a mapping");
    assert_int_equal(spate_conf_get_double(&c, r, "items", 0, 10, &d, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "test.yaml:7: key 'items': expected a number, got a list");
    assert_int_equal(spate_conf_get_bool(&c, r, "items", &b, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "test.yaml:7: key 'items': expected true or false, got a list");
    assert_null(s);

    /* Quoted scalars are strings, never numbers or booleans. */
    assert_int_equal(spate_conf_get_i64(&c, r, "quoted", 0, 100, &i, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "test.yaml:8: key 'quoted': expected an integer, got '42'");
    assert_int_equal(spate_conf_get_str(&c, r, "quoted", &s, &err), SPATE_OK);
    assert_string_equal(s, "42");
    assert_int_equal(spate_conf_get_double(&c, r, "single", 0, 10, &d, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "test.yaml:9: key 'single': expected a number, got '1.5'");
    assert_int_equal(spate_conf_get_bool(&c, r, "qbool", &b, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "test.yaml:10: key 'qbool': expected true or false, got 'true'");

    /* Unknown keys are named (typo catching). */
    static const char *const known[] = {"name",   "retries", "workers", "ratio",  "flag",
                                        "inline", "items",   "quoted",  "single", "qbool",
                                        "huge",   "hex",     NULL};
    assert_int_equal(spate_conf_check_keys(&c, r, known, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "test.yaml:13: key 'retires': unknown setting");

    /* Errors without an err to fill still fail cleanly. */
    assert_int_equal(spate_conf_get_i64(&c, r, "retries", 0, 10, &i, NULL), SPATE_EINVAL);
    assert_int_equal(spate_conf_check_keys(&c, r, known, NULL), SPATE_EINVAL);

    /* spate_conf_errorf for callers' own checks, with and without a key. */
    spate_conf_errorf(&c, spate_conf_get(r, "workers"), &err, "must be even, got %d", 99);
    assert_string_equal(err.msg, "test.yaml:3: key 'workers': must be even, got 99");
    spate_conf_errorf(&c, r, &err, "bad file");
    assert_string_equal(err.msg, "test.yaml:1: bad file");
    spate_conf_free(&c);
}

static void test_conf_check_keys_not_a_map(void **state) {
    (void)state;
    spate_conf_t c;
    spate_conf_err_t err;
    assert_int_equal(load(&c, "- a\n- b\n", &err), SPATE_OK);
    static const char *const known[] = {"a", NULL};
    assert_int_equal(spate_conf_check_keys(&c, c.root, known, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "test.yaml:1: expected a mapping of settings, got a list");
    spate_conf_free(&c);
}

static void test_conf_bools(void **state) {
    (void)state;
    static const char doc[] = "a: true\nb: false\nc: yes\nd: no\ne: on\nf: off\n"
                              "g: True\nh: OFF\ni: 1\nj: ''\n";
    static const struct {
        const char *key;
        bool want;
    } ok[] = {{"a", true}, {"b", false}, {"c", true}, {"d", false},
              {"e", true}, {"f", false}, {"g", true}, {"h", false}};
    spate_conf_t c;
    spate_conf_err_t err;
    assert_int_equal(load(&c, doc, &err), SPATE_OK);
    for (size_t k = 0; k < SPATE_ARRAY_LEN(ok); k++) {
        bool b = !ok[k].want;
        assert_int_equal(spate_conf_get_bool(&c, c.root, ok[k].key, &b, &err), SPATE_OK);
        assert_int_equal(b, ok[k].want);
    }
    bool b = true;
    assert_int_equal(spate_conf_get_bool(&c, c.root, "i", &b, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "test.yaml:9: key 'i': expected true or false, got '1'");
    assert_int_equal(spate_conf_get_bool(&c, c.root, "j", &b, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "test.yaml:10: key 'j': expected true or false, got ''");
    assert_true(b);
    spate_conf_free(&c);
}

static void test_conf_long_value_in_message(void **state) {
    (void)state;
    /* A huge scalar in an error is cut to the message size, NUL-terminated. */
    size_t n = 3000;
    char *doc = malloc(n + 32);
    assert_non_null(doc);
    strcpy(doc, "retries: ");
    memset(doc + 9, 'z', n);
    strcpy(doc + 9 + n, "\n");
    spate_conf_t c;
    spate_conf_err_t err;
    assert_int_equal(load(&c, doc, &err), SPATE_OK);
    int64_t i;
    assert_int_equal(spate_conf_get_i64(&c, c.root, "retries", 0, 1, &i, &err), SPATE_EINVAL);
    assert_true(strlen(err.msg) < sizeof err.msg);
    const char *prefix = "test.yaml:1: key 'retries': expected an integer, got 'zzz";
    assert_memory_equal(err.msg, prefix, strlen(prefix));
    spate_conf_free(&c);
    free(doc);
}

/* ---- loader errors ---- */

static void test_conf_duplicate_key(void **state) {
    (void)state;
    expect_load_error("a: 1\nb: 2\na: 3\n", SPATE_EINVAL,
                      "test.yaml:3: key 'a' appears twice (first on line 1)");
    /* Inside a nested mapping too; the same key in different maps is fine. */
    expect_load_error("s:\n  x: 1\n  y: 2\n  x: 3\n", SPATE_EINVAL,
                      "test.yaml:4: key 'x' appears twice (first on line 2)");
    spate_conf_t c;
    spate_conf_err_t err;
    assert_int_equal(load(&c, "a: {x: 1}\nb: {x: 2}\n", &err), SPATE_OK);
    spate_conf_free(&c);
}

static void test_conf_duplicate_key_block_value_line(void **state) {
    (void)state;
    /* base_conf.c parse_children: "first on line N" prints the line of the
     * first occurrence's *value node*, not of its key. For a block mapping
     * or list value that is the line after the key, so this says "first on
     * line 2" although the first 'a' is on line 1. */
    expect_load_error("a:\n  x: 1\nb: 2\na: 3\n", SPATE_EINVAL,
                      "test.yaml:4: key 'a' appears twice (first on line 1)");
}

static void test_conf_block_value_error_line(void **state) {
    (void)state;
    /* Same cause as above, in the getters: a block mapping or list sits
     * under its key but records the line of its first entry, so the error
     * names line 2 for a key written on line 1. */
    spate_conf_t c;
    spate_conf_err_t err;
    assert_int_equal(load(&c, "retries:\n  x: 1\nlist:\n  - 1\n", &err), SPATE_OK);
    int64_t i;
    spate_status_t st1 = spate_conf_get_i64(&c, c.root, "retries", 0, 10, &i, &err);
    char msg1[sizeof err.msg];
    memcpy(msg1, err.msg, sizeof msg1);
    spate_status_t st2 = spate_conf_get_i64(&c, c.root, "list", 0, 10, &i, &err);
    spate_conf_free(&c);
    assert_int_equal(st1, SPATE_EINVAL);
    assert_string_equal(msg1, "test.yaml:1: key 'retries': expected an integer, got a mapping");
    assert_int_equal(st2, SPATE_EINVAL);
    assert_string_equal(err.msg, "test.yaml:3: key 'list': expected an integer, got a list");
}

static void test_conf_syntax_errors(void **state) {
    (void)state;
    expect_load_error_prefix("a: 1\nb: [1, 2\nc: 3\n", "test.yaml:3: YAML error");
    expect_load_error_prefix("a: 1\n  b: 2\n", "test.yaml:2: YAML error");
    expect_load_error_prefix("a: 1\nb: 'unterminated\n", "test.yaml:");
    expect_load_error_prefix("a:\n\t- tab indented\n", "test.yaml:2: YAML error");
    expect_load_error_prefix("{a: 1\n", "test.yaml:");
    /* Every one of them says "YAML error" and the file name. */
    spate_conf_t c;
    spate_conf_err_t err;
    assert_int_equal(load(&c, "a: 1\nb: 'unterminated\n", &err), SPATE_EINVAL);
    assert_non_null(strstr(err.msg, "YAML error"));
    spate_conf_free(&c);
    /* Bytes that are not UTF-8 are a YAML error, not a crash. */
    assert_int_equal(load(&c, "a: \xff\xfe\n", &err), SPATE_EINVAL);
    assert_non_null(strstr(err.msg, "YAML error"));
    spate_conf_free(&c);
}

static void test_conf_non_scalar_key(void **state) {
    (void)state;
    expect_load_error("[a, b]: 1\n", SPATE_EINVAL, "test.yaml:1: mapping keys must be plain words");
    expect_load_error("x: 1\n? {k: v}\n: 2\n", SPATE_EINVAL,
                      "test.yaml:2: mapping keys must be plain words");
}

static void test_conf_anchors_refused(void **state) {
    (void)state;
    const char *msg1 =
        "test.yaml:1: YAML anchors and aliases are not supported in spate configuration";
    const char *msg2 =
        "test.yaml:2: YAML anchors and aliases are not supported in spate configuration";
    expect_load_error("a: &x 1\nb: *x\n", SPATE_EINVAL, msg1);
    expect_load_error("a: 1\nb: *undefined\n", SPATE_EINVAL, msg2);
    expect_load_error("base: &b {x: 1}\nderived:\n  <<: *b\n", SPATE_EINVAL, msg1);
    expect_load_error("list: &l [1]\n", SPATE_EINVAL, msg1);
    expect_load_error("&root\na: 1\n", SPATE_EINVAL, msg1);
}

static void test_conf_multiple_documents(void **state) {
    (void)state;
    expect_load_error("a: 1\n---\nb: 2\n", SPATE_EINVAL,
                      "test.yaml:2: only one YAML document per file is allowed");
    expect_load_error("---\na: 1\n...\n---\nb: 2\n", SPATE_EINVAL,
                      "test.yaml:4: only one YAML document per file is allowed");
    /* An explicit start and end marker around one document is fine. */
    spate_conf_t c;
    spate_conf_err_t err;
    assert_int_equal(load(&c, "---\na: 1\n...\n", &err), SPATE_OK);
    assert_non_null(spate_conf_get(c.root, "a"));
    spate_conf_free(&c);
}

static void test_conf_empty_documents(void **state) {
    (void)state;
    static const char *const empties[] = {"", "\n\n", "# only a comment\n", "---\n", "---\n...\n"};
    for (size_t k = 0; k < SPATE_ARRAY_LEN(empties); k++) {
        spate_conf_t c;
        spate_conf_err_t err;
        assert_int_equal(load(&c, empties[k], &err), SPATE_OK);
        assert_null(c.root);
        /* Getters on an empty configuration see missing keys. */
        int64_t i = 3;
        assert_int_equal(spate_conf_get_i64(&c, c.root, "x", 0, 9, &i, &err), SPATE_ENOENT);
        assert_int_equal(i, 3);
        spate_conf_free(&c);
    }
    /* A quoted empty string is a value, not an empty document. */
    spate_conf_t c;
    spate_conf_err_t err;
    assert_int_equal(load(&c, "''\n", &err), SPATE_OK);
    assert_non_null(c.root);
    assert_int_equal(c.root->kind, SPATE_CONF_SCALAR);
    assert_string_equal(c.root->value, "");
    spate_conf_free(&c);
}

/* n nested flow sequences: "[[[...]]]". */
static char *nested_seqs(size_t n) {
    char *s = malloc(2 * n + 2);
    assert_non_null(s);
    memset(s, '[', n);
    memset(s + n, ']', n);
    s[2 * n] = '\n';
    s[2 * n + 1] = '\0';
    return s;
}

static void test_conf_deep_nesting(void **state) {
    (void)state;
    spate_conf_t c;
    spate_conf_err_t err;
    /* 64 levels are accepted, 65 and more are refused without recursing
     * into them (10000 levels would otherwise exhaust the stack). */
    char *s = nested_seqs(64);
    assert_int_equal(load(&c, s, &err), SPATE_OK);
    assert_non_null(c.root);
    spate_conf_free(&c);
    free(s);
    static const size_t deep[] = {65, 100, 10000};
    for (size_t k = 0; k < SPATE_ARRAY_LEN(deep); k++) {
        s = nested_seqs(deep[k]);
        assert_int_equal(load(&c, s, &err), SPATE_EINVAL);
        assert_string_equal(err.msg, "test.yaml:1: nesting deeper than 64 levels");
        assert_null(c.root);
        spate_conf_free(&c);
        free(s);
    }
    /* 100 levels of block mappings, one per line. */
    spate_buf_t b = SPATE_BUF_INIT;
    for (int lvl = 0; lvl < 100; lvl++) {
        for (int sp = 0; sp < lvl; sp++) assert_int_equal(spate_buf_putc(&b, ' '), SPATE_OK);
        assert_int_equal(spate_buf_puts(&b, lvl == 99 ? "k: v\n" : "k:\n"), SPATE_OK);
    }
    assert_int_equal(spate_conf_load_string(&c, "deep.yaml", b.data, b.len, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "deep.yaml:65: nesting deeper than 64 levels");
    spate_conf_free(&c);
    spate_buf_free(&b);
}

static void test_conf_load_file(void **state) {
    (void)state;
    spate_conf_t c;
    spate_conf_err_t err;
    const char *missing = "/nonexistent-spate-dir/pipeline.yaml";
    assert_int_equal(spate_conf_load_file(&c, missing, &err), SPATE_EIO);
    char want[600];
    snprintf(want, sizeof want, "%s: cannot open: %s", missing, strerror(ENOENT));
    assert_string_equal(err.msg, want);
    assert_null(c.root);
    spate_conf_free(&c);

    /* A real file: the messages name its path. */
    char path[] = "/tmp/spate_test_conf_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char text[] = "server:\n  threads: lots\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    assert_int_equal(spate_conf_load_file(&c, path, &err), SPATE_OK);
    assert_string_equal(c.path, path);
    int64_t i;
    assert_int_equal(
        spate_conf_get_i64(&c, spate_conf_get(c.root, "server"), "threads", 1, 64, &i, &err),
        SPATE_EINVAL);
    snprintf(want, sizeof want, "%s:2: key 'threads': expected an integer, got 'lots'", path);
    assert_string_equal(err.msg, want);
    spate_conf_free(&c);

    /* A YAML error in a file names the file too. */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "a: [\n", 5), 5);
    close(fd);
    assert_int_equal(spate_conf_load_file(&c, path, &err), SPATE_EINVAL);
    assert_memory_equal(err.msg, path, strlen(path));
    assert_non_null(strstr(err.msg, "YAML error"));
    spate_conf_free(&c);

    /* An empty file is an empty configuration. */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(spate_conf_load_file(&c, path, &err), SPATE_OK);
    assert_null(c.root);
    spate_conf_free(&c);
    unlink(path);

    /* A directory cannot be read as a file. */
    assert_int_equal(spate_conf_load_file(&c, "/tmp", &err), SPATE_EIO);
    assert_memory_equal(err.msg, "/tmp: ", 6);
    spate_conf_free(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf_nested),
        cmocka_unit_test(test_conf_getter_errors),
        cmocka_unit_test(test_conf_check_keys_not_a_map),
        cmocka_unit_test(test_conf_bools),
        cmocka_unit_test(test_conf_long_value_in_message),
        cmocka_unit_test(test_conf_duplicate_key),
        cmocka_unit_test(test_conf_duplicate_key_block_value_line),
        cmocka_unit_test(test_conf_block_value_error_line),
        cmocka_unit_test(test_conf_syntax_errors),
        cmocka_unit_test(test_conf_non_scalar_key),
        cmocka_unit_test(test_conf_anchors_refused),
        cmocka_unit_test(test_conf_multiple_documents),
        cmocka_unit_test(test_conf_empty_documents),
        cmocka_unit_test(test_conf_deep_nesting),
        cmocka_unit_test(test_conf_load_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
