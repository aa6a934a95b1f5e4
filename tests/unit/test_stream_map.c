/*
 * test_stream_map.c — transform programs (src/stream/stream_map.c,
 * stream_expr.c, stream_path.c): compiled from YAML, run on records.
 *
 * Each test compiles a `transform:` list written as YAML text, runs it on
 * JSON input and compares the whole output record as compact JSON (key
 * order included) or the exact failure reason. Covered: the implicit json
 * step and its failures; format_user on raw randomuser results (implicit
 * and placed after a filter); every map operation (rename, default, set
 * with format/concat/copy/value, cast to each type with its failures,
 * require, filter, drop, select flat and nested) and their fixed order;
 * paths with indices and quoted keys; the filter language (precedence,
 * types, in/not in, exists, missing fields, run-time type errors, compile
 * errors with columns); compile errors with file:line; and reuse of one
 * program and one runner across many records without constants leaking
 * between them. The flat path: which programs may take it, and on 21 000
 * generated records the records it takes are exactly what the general
 * path passes (and it leaves plenty that pass to the general path).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "stream_int.h"

/* ---- helpers ---- */

static spate_stream_prog_t *compile_in(const char *yaml, spate_stream_input_t input) {
    spate_conf_t c;
    spate_conf_err_t err;
    if (spate_conf_load_string(&c, "t.yaml", yaml, strlen(yaml), &err) != SPATE_OK)
        fail_msg("YAML: %s", err.msg);
    spate_stream_diag_t d = {0};
    spate_stream_prog_t *p = NULL;
    spate_status_t st = spate_stream_prog_compile(&c, c.root, input, &p, &d);
    spate_conf_free(&c);
    if (st != SPATE_OK) {
        char first[512];
        snprintf(first, sizeof first, "%s", d.n ? d.msgs[0] : "?");
        spate_stream_diag_free(&d);
        fail_msg("compile failed: %s", first);
    }
    spate_stream_diag_free(&d);
    return p;
}

static spate_stream_prog_t *compile(const char *yaml) {
    return compile_in(yaml, SPATE_STREAM_INPUT_FORMATTED);
}

/* Compiling must fail with exactly these messages (NULL-terminated). */
static void expect_compile_errors(const char *yaml, spate_stream_input_t input,
                                  const char *const *want) {
    spate_conf_t c;
    spate_conf_err_t err;
    if (spate_conf_load_string(&c, "t.yaml", yaml, strlen(yaml), &err) != SPATE_OK)
        fail_msg("YAML: %s", err.msg);
    spate_stream_diag_t d = {0};
    spate_stream_prog_t *p = NULL;
    spate_status_t st = spate_stream_prog_compile(&c, c.root, input, &p, &d);
    spate_conf_free(&c);
    size_t nwant = 0;
    while (want[nwant]) nwant++;
    char got[4096] = "";
    for (size_t i = 0; i < d.n; i++) {
        strncat(got, d.msgs[i], sizeof got - strlen(got) - 2);
        strcat(got, "\n");
    }
    char exp[4096] = "";
    for (size_t i = 0; i < nwant; i++) {
        strncat(exp, want[i], sizeof exp - strlen(exp) - 2);
        strcat(exp, "\n");
    }
    spate_stream_diag_free(&d);
    assert_int_equal(st, SPATE_EINVAL);
    assert_null(p);
    assert_string_equal(got, exp);
}

static void expect_compile_error(const char *yaml, const char *msg) {
    const char *want[] = {msg, NULL};
    expect_compile_errors(yaml, SPATE_STREAM_INPUT_FORMATTED, want);
}

typedef struct {
    spate_stream_verdict_t v;
    char out[4096]; /* compact JSON of the record after PASS */
    char reason[256];
    int line;
} result_t;

static void run_on(const spate_stream_prog_t *p, spate_stream_runner_t *r, const char *in,
                   result_t *res) {
    spate_stream_record_t rec = {0};
    spate_stream_record_set(&rec, in, strlen(in));
    res->v = spate_stream_prog_run(p, &rec, r);
    res->out[0] = '\0';
    snprintf(res->reason, sizeof res->reason, "%s", r->reason);
    res->line = r->line;
    if (res->v == SPATE_STREAM_PASS) {
        assert_non_null(rec.value);
        char *s = json_dumps(rec.value, JSON_COMPACT);
        snprintf(res->out, sizeof res->out, "%s", s);
        free(s);
    }
    spate_stream_record_clear(&rec);
    assert_null(rec.value);
}

static void run1(const spate_stream_prog_t *p, const char *in, result_t *res) {
    spate_stream_runner_t r;
    spate_stream_runner_init(&r);
    run_on(p, &r, in, res);
    spate_stream_runner_free(&r);
}

/* One program, one input: PASS with exactly `out`. */
static void expect_out(const char *yaml, const char *in, const char *out) {
    spate_stream_prog_t *p = compile(yaml);
    result_t res;
    run1(p, in, &res);
    spate_stream_prog_free(p);
    if (res.v != SPATE_STREAM_PASS) fail_msg("verdict %d: %s", res.v, res.reason);
    assert_string_equal(res.out, out);
    assert_string_equal(res.reason, "");
}

static void expect_fail(const char *yaml, const char *in, const char *reason, int line) {
    spate_stream_prog_t *p = compile(yaml);
    result_t res;
    run1(p, in, &res);
    spate_stream_prog_free(p);
    if (res.v != SPATE_STREAM_FAIL) fail_msg("verdict %d, out %s", res.v, res.out);
    assert_string_equal(res.reason, reason);
    assert_int_equal(res.line, line);
}

static void expect_drop(const char *yaml, const char *in) {
    spate_stream_prog_t *p = compile(yaml);
    result_t res;
    run1(p, in, &res);
    spate_stream_prog_free(p);
    if (res.v != SPATE_STREAM_DROP) fail_msg("verdict %d: %s %s", res.v, res.out, res.reason);
    assert_string_equal(res.reason, "");
}

/* ---- the json step ---- */

static void test_json_step(void **state) {
    (void)state;
    spate_stream_prog_t *p = compile("[]");
    assert_int_equal(spate_stream_prog_steps(p), 1);
    result_t res;
    run1(p, "{\"a\":1,\"b\":[true,null]}", &res);
    assert_int_equal(res.v, SPATE_STREAM_PASS);
    assert_string_equal(res.out, "{\"a\":1,\"b\":[true,null]}");

    run1(p, "{\"a\":1", &res);
    assert_int_equal(res.v, SPATE_STREAM_FAIL);
    assert_string_equal(
        res.reason, "json: invalid JSON at line 1 column 7: ',' or '}' expected near end of input");
    assert_int_equal(res.line, 0);

    run1(p, "[1,2]", &res);
    assert_int_equal(res.v, SPATE_STREAM_FAIL);
    assert_string_equal(res.reason, "json: expected an object, got an array");
    run1(p, "42", &res);
    assert_string_equal(res.reason, "json: expected an object, got an integer");

    /* A Kafka message without a value (a tombstone). */
    spate_stream_runner_t r;
    spate_stream_runner_init(&r);
    spate_stream_record_t rec = {0};
    spate_stream_record_set(&rec, NULL, 0);
    assert_int_equal(spate_stream_prog_run(p, &rec, &r), SPATE_STREAM_FAIL);
    assert_string_equal(r.reason, "json: the message has no value (null)");
    assert_null(rec.value);
    spate_stream_runner_free(&r);
    spate_stream_prog_free(p);

    /* `json` written as the first step is the implicit one, not a second. */
    p = compile("[json]");
    assert_int_equal(spate_stream_prog_steps(p), 1);
    spate_stream_prog_free(p);
    /* No transform at all (NULL) is the json step alone. */
    spate_stream_diag_t d = {0};
    assert_int_equal(spate_stream_prog_compile(NULL, NULL, SPATE_STREAM_INPUT_FORMATTED, &p, &d),
                     SPATE_OK);
    assert_int_equal(spate_stream_prog_steps(p), 1);
    spate_stream_prog_free(p);
    assert_int_equal(spate_stream_diag_count(&d), 0);
}

/* ---- format_user ---- */

/* A randomuser 1.4 result (the numbers are integers, as for some
 * nationalities). */
#define RAW_USER                                                                                   \
    "{\"gender\":\"female\",\"name\":{\"title\":\"Ms\",\"first\":\"Laura\",\"last\":\"Woods\"},"   \
    "\"location\":{\"street\":{\"number\":42,\"name\":\"Henry Street\"},\"city\":\"Blessington\"," \
    "\"state\":\"Wexford\",\"country\":\"Ireland\",\"postcode\":93771},"                           \
    "\"email\":\"laura.woods@example.com\",\"login\":{\"uuid\":"                                   \
    "\"1f6a1e5c-7d3b-4a8e-9c2f-0b5d6e7f8a91\",\"username\":\"angryostrich988\"},"                  \
    "\"dob\":{\"date\":\"1992-03-08T15:13:16.688Z\",\"age\":33},"                                  \
    "\"registered\":{\"date\":\"2007-07-09T05:51:59.390Z\",\"age\":18},"                           \
    "\"phone\":\"071-123-4567\",\"picture\":{\"medium\":\"https://e.x/med/75.jpg\"},"              \
    "\"nat\":\"IE\"}"

/* Its format_user record (id computed with Python's uuid5, see
 * test_format_user.c). */
#define FORMATTED_USER                                                                             \
    "{\"id\":\"35f27995-5ac0-5807-b8b6-0246c45d22bd\",\"first_name\":\"Laura\","                   \
    "\"last_name\":\"Woods\",\"gender\":\"female\","                                               \
    "\"address\":\"42 Henry Street, Blessington, Wexford, Ireland\",\"post_code\":\"93771\","      \
    "\"email\":\"laura.woods@example.com\",\"username\":\"angryostrich988\","                      \
    "\"dob\":\"1992-03-08T15:13:16.688Z\",\"registered_date\":\"2007-07-09T05:51:59.390Z\","       \
    "\"phone\":\"071-123-4567\",\"picture\":\"https://e.x/med/75.jpg\"}"

static void test_format_user_step(void **state) {
    (void)state;
    /* input: raw implies format_user after json. */
    spate_stream_prog_t *p = compile_in("[]", SPATE_STREAM_INPUT_RAW);
    assert_int_equal(spate_stream_prog_steps(p), 2);
    result_t res;
    run1(p, RAW_USER, &res);
    assert_int_equal(res.v, SPATE_STREAM_PASS);
    assert_string_equal(res.out, FORMATTED_USER);

    /* A result without login.uuid fails with format_user's reason. */
    run1(p, "{\"gender\":\"male\"}", &res);
    assert_int_equal(res.v, SPATE_STREAM_FAIL);
    assert_string_equal(res.reason, "format_user: missing login.uuid");
    spate_stream_prog_free(p);

    /* Placed explicitly after a filter on the raw result: the filter sees
     * `nat`, which the formatted record no longer has; no second
     * format_user is added. */
    p = compile_in("- filter: nat == \"IE\"\n"
                   "- format_user\n"
                   "- select: [id, first_name]\n",
                   SPATE_STREAM_INPUT_RAW);
    assert_int_equal(spate_stream_prog_steps(p), 4);
    run1(p, RAW_USER, &res);
    assert_int_equal(res.v, SPATE_STREAM_PASS);
    assert_string_equal(
        res.out, "{\"id\":\"35f27995-5ac0-5807-b8b6-0246c45d22bd\",\"first_name\":\"Laura\"}");
    char gb[sizeof RAW_USER];
    strcpy(gb, RAW_USER);
    memcpy(strstr(gb, "\"IE\""), "\"GB\"", 4);
    run1(p, gb, &res);
    assert_int_equal(res.v, SPATE_STREAM_DROP);
    spate_stream_prog_free(p);

    /* Steps listed after the implicit format_user see the record. */
    p = compile_in("- select: [id]\n", SPATE_STREAM_INPUT_RAW);
    run1(p, RAW_USER, &res);
    assert_string_equal(res.out, "{\"id\":\"35f27995-5ac0-5807-b8b6-0246c45d22bd\"}");
    spate_stream_prog_free(p);
}

/* ---- the seed job's mapping (docs/stream.md, examples/pipeline.yaml) ---- */

static const char seed_map[] =
    "- map:\n"
    "    require: [id, first_name, last_name, email, username]\n"
    "    cast: {id: uuid, post_code: text}\n"
    "    select: [id, first_name, last_name, gender, address, post_code, email,\n"
    "             username, dob, registered_date, phone, picture]\n";

static void test_seed_mapping(void **state) {
    (void)state;
    spate_stream_prog_t *p = compile(seed_map);
    result_t res;
    /* Extra fields are dropped, an upper-case id is made canonical, an
     * integer post_code becomes text; column order follows the record. */
    run1(p,
         "{\"id\":\"35F27995-5AC0-5807-B8B6-0246C45D22BD\",\"first_name\":\"Laura\","
         "\"last_name\":\"Woods\",\"gender\":\"female\",\"address\":\"42 Henry Street\","
         "\"post_code\":93771,\"email\":\"l@e.x\",\"username\":\"u\",\"dob\":\"1992\","
         "\"registered_date\":\"2007\",\"phone\":\"1\",\"picture\":\"p\",\"extra\":1}",
         &res);
    assert_int_equal(res.v, SPATE_STREAM_PASS);
    assert_string_equal(res.out,
                        "{\"id\":\"35f27995-5ac0-5807-b8b6-0246c45d22bd\",\"first_name\":\"Laura\","
                        "\"last_name\":\"Woods\",\"gender\":\"female\","
                        "\"address\":\"42 Henry Street\",\"post_code\":\"93771\","
                        "\"email\":\"l@e.x\",\"username\":\"u\",\"dob\":\"1992\","
                        "\"registered_date\":\"2007\",\"phone\":\"1\",\"picture\":\"p\"}");
    run1(p, FORMATTED_USER, &res);
    assert_string_equal(res.out, FORMATTED_USER);
    run1(p,
         "{\"id\":\"nope\",\"first_name\":\"a\",\"last_name\":\"b\",\"email\":\"c\","
         "\"username\":\"d\"}",
         &res);
    assert_int_equal(res.v, SPATE_STREAM_FAIL);
    assert_string_equal(res.reason, "cast 'id' to uuid: 'nope' is not a UUID");
    assert_int_equal(res.line, 3);
    /* cast comes before require: the id is fine, the name is not. */
    run1(
        p,
        "{\"id\":\"35f27995-5ac0-5807-b8b6-0246c45d22bd\",\"first_name\":\"a\",\"last_name\":null}",
        &res);
    assert_string_equal(res.reason, "required field 'last_name' is null");
    assert_int_equal(res.line, 2);
    spate_stream_prog_free(p);
}

/* ---- rename ---- */

static void test_rename(void **state) {
    (void)state;
    /* A moved value leaves its (now empty) parent behind; a missing
     * source is a no-op. */
    const char *y = "- rename: {a: x, location.city: city, n.m: deep.new.k, gone: g}\n";
    expect_out(y, "{\"a\":1,\"location\":{\"city\":\"Cork\",\"z\":2},\"n\":{\"m\":[1]}}",
               "{\"location\":{\"z\":2},\"n\":{},\"x\":1,\"city\":\"Cork\","
               "\"deep\":{\"new\":{\"k\":[1]}}}");
    /* Renaming onto an existing field replaces it. */
    expect_out("- rename: {a: b}\n", "{\"a\":1,\"b\":2}", "{\"b\":1}");
    /* An array element can be moved out. */
    expect_out("- rename: {\"tags[0]\": first}\n", "{\"tags\":[\"x\",\"y\"]}",
               "{\"tags\":[\"y\"],\"first\":\"x\"}");
    /* The target's parent exists and is not an object. */
    expect_fail("- rename: {a: b.c}\n", "{\"a\":1,\"b\":\"s\"}",
                "cannot set 'b.c': 'b' is not an object", 1);
}

/* ---- default ---- */

static void test_default(void **state) {
    (void)state;
    const char *y = "- default: {title: \"\", age: 0, ok: true, tags: [a], meta: {v: 1.5}}\n";
    expect_out(y, "{\"title\":null,\"age\":31}",
               "{\"title\":\"\",\"age\":31,\"ok\":true,\"tags\":[\"a\"],\"meta\":{\"v\":1.5}}");
    /* Nested targets are created. */
    expect_out("- default: {a.b.c: x}\n", "{}", "{\"a\":{\"b\":{\"c\":\"x\"}}}");
    expect_out("- default: {a.b: x}\n", "{\"a\":{\"b\":\"y\"}}", "{\"a\":{\"b\":\"y\"}}");
}

/* A default that is an object is copied per record: a later write into it
 * must not change the next record's default. */
static void test_default_constants_not_shared(void **state) {
    (void)state;
    spate_stream_prog_t *p = compile("- default: {meta: {v: 1}}\n"
                                     "- set: {meta.w: \"{n}\"}\n");
    spate_stream_runner_t r;
    spate_stream_runner_init(&r);
    result_t res;
    run_on(p, &r, "{\"n\":1}", &res);
    assert_string_equal(res.out, "{\"n\":1,\"meta\":{\"v\":1,\"w\":\"1\"}}");
    run_on(p, &r, "{\"n\":2}", &res);
    assert_string_equal(res.out, "{\"n\":2,\"meta\":{\"v\":1,\"w\":\"2\"}}");
    spate_stream_runner_free(&r);
    spate_stream_prog_free(p);
}

/* ---- set ---- */

static void test_set(void **state) {
    (void)state;
    expect_out("- set: {full: \"{first} {last}\"}\n", "{\"first\":\"Ada\",\"last\":\"Lovelace\"}",
               "{\"first\":\"Ada\",\"last\":\"Lovelace\",\"full\":\"Ada Lovelace\"}");
    /* Numbers, booleans, nested values and objects as text; brace escapes;
     * spaces inside the braces are allowed. */
    expect_out("- set: {s: \"{{{ n }}}|{r}|{b}|{o}|{a[1]}|{$.o.k}\"}\n",
               "{\"n\":-42,\"r\":0.5,\"b\":false,\"o\":{\"k\":\"v\"},\"a\":[1,2.0]}",
               "{\"n\":-42,\"r\":0.5,\"b\":false,\"o\":{\"k\":\"v\"},\"a\":[1,2.0],"
               "\"s\":\"{-42}|0.5|false|{\\\"k\\\":\\\"v\\\"}|2.0|v\"}");
    expect_fail("- set: {full: \"{first} {last}\"}\n", "{\"first\":\"Ada\"}",
                "set 'full': field 'last' is missing", 1);
    expect_fail("- set: {full: \"{first} {last}\"}\n", "{\"first\":\"Ada\",\"last\":null}",
                "set 'full': field 'last' is null", 1);
    /* concat skips what is missing or null, puts sep between the rest. */
    expect_out("- set: {addr: {concat: [no, street, city, zip], sep: \", \"}}\n",
               "{\"no\":7,\"street\":\"Elm\",\"city\":null}",
               "{\"no\":7,\"street\":\"Elm\",\"city\":null,\"addr\":\"7, Elm\"}");
    expect_out("- set: {s: {concat: [a, b]}}\n", "{\"a\":\"x\",\"b\":\"y\"}",
               "{\"a\":\"x\",\"b\":\"y\",\"s\":\"xy\"}");
    /* copy keeps the type; value is a constant, braces and all; plain
     * YAML scalars are typed; quoted ones are text. */
    expect_out("- set: {c: {copy: a.b}, v: {value: \"{x}\"}, n: 3, f: false, q: \"3\", "
               "z: null, lit: spate}\n",
               "{\"a\":{\"b\":[1]}}",
               "{\"a\":{\"b\":[1]},\"c\":[1],\"v\":\"{x}\",\"n\":3,\"f\":false,\"q\":\"3\","
               "\"z\":null,\"lit\":\"spate\"}");
    expect_fail("- set: {c: {copy: nope}}\n", "{}", "set 'c': field 'nope' is missing", 1);
    /* A copied object is a copy: writing into it leaves the source. */
    expect_out("- set: {c: {copy: a}}\n- set: {c.x: \"1\"}\n", "{\"a\":{\"k\":1}}",
               "{\"a\":{\"k\":1},\"c\":{\"k\":1,\"x\":\"1\"}}");
    expect_out("- set: {x.y: \"{a}\"}\n", "{\"a\":\"é\"}", "{\"a\":\"é\",\"x\":{\"y\":\"é\"}}");
}

/* ---- cast ---- */

static void test_cast_success(void **state) {
    (void)state;
    expect_out("- cast: {a: int, b: int, c: bigint, d: double, e: double, f: boolean, g: boolean,"
               " h: boolean, i: text, j: text, k: text, l: text, m: int}\n",
               "{\"a\":\"42\",\"b\":-7.0,\"c\":\"-9223372036854775808\",\"d\":\"1.5e3\",\"e\":2,"
               "\"f\":\"YES\",\"g\":0,\"h\":\"false\",\"i\":12,\"j\":true,\"k\":[1,{\"x\":null}],"
               "\"l\":0.1,\"m\":null}",
               "{\"a\":42,\"b\":-7,\"c\":-9223372036854775808,\"d\":1500.0,\"e\":2.0,\"f\":true,"
               "\"g\":false,\"h\":false,\"i\":\"12\",\"j\":\"true\",\"k\":\"[1,{\\\"x\\\":null}]\","
               "\"l\":\"0.1\",\"m\":null}");
    /* uuid: canonical lower case; 32 hex digits get their dashes. */
    expect_out("- cast: {u: uuid, v: uuid, w: uuid}\n",
               "{\"u\":\"35F27995-5AC0-5807-B8B6-0246C45D22BD\","
               "\"v\":\"35f279955ac05807b8b60246c45d22bd\","
               "\"w\":\"35f27995-5ac0-5807-b8b6-0246c45d22bd\"}",
               "{\"u\":\"35f27995-5ac0-5807-b8b6-0246c45d22bd\","
               "\"v\":\"35f27995-5ac0-5807-b8b6-0246c45d22bd\","
               "\"w\":\"35f27995-5ac0-5807-b8b6-0246c45d22bd\"}");
    /* timestamp: ms since the epoch, from RFC 3339 (any offset), ms, or
     * a real (floored). */
    expect_out("- cast: {a: timestamp, b: timestamp, c: timestamp, d: timestamp, e: timestamp}\n",
               "{\"a\":\"2007-07-09T05:51:59.390Z\",\"b\":\"2007-07-09T07:51:59.390+02:00\","
               "\"c\":1183960319390,\"d\":-1.5,\"e\":\"1969-12-31\"}",
               "{\"a\":1183960319390,\"b\":1183960319390,\"c\":1183960319390,\"d\":-2,"
               "\"e\":-86400000}");
    /* Missing fields are left alone; array elements are cast in place. */
    expect_out("- cast: {nope: int, \"a[1]\": int, $.o.n: double}\n",
               "{\"a\":[\"1\",\"2\"],\"o\":{\"n\":1}}", "{\"a\":[\"1\",2],\"o\":{\"n\":1.0}}");
}

static void test_cast_failures(void **state) {
    (void)state;
    static const struct {
        const char *type, *in, *reason;
    } cases[] = {
        {"int", "\"abc\"", "cast 'x' to int: 'abc' is not an integer"},
        {"int", "\"4.2\"", "cast 'x' to int: '4.2' is not an integer"},
        {"int", "\" 42\"", "cast 'x' to int: ' 42' is not an integer"},
        {"int", "2147483648", "cast 'x' to int: 2147483648 is out of range"},
        {"int", "\"-2147483649\"", "cast 'x' to int: '-2147483649' is out of range"},
        {"int", "4.5", "cast 'x' to int: 4.5 is not a whole number"},
        {"int", "1e300", "cast 'x' to int: 1e+300 is out of range"},
        {"int", "true", "cast 'x' to int: cannot convert a boolean"},
        {"int", "[1]", "cast 'x' to int: cannot convert an array"},
        {"bigint", "\"9223372036854775808\"",
         "cast 'x' to bigint: '9223372036854775808' is out of range"},
        {"bigint", "9.3e18", "cast 'x' to bigint: 9.3e+18 is out of range"},
        {"double", "\"1,5\"", "cast 'x' to double: '1,5' is not a number"},
        {"double", "\"nan\"", "cast 'x' to double: 'nan' is not a number"},
        {"double", "\"1e999\"", "cast 'x' to double: '1e999' is not a number"},
        {"double", "\"\"", "cast 'x' to double: '' is not a number"},
        {"double", "{}", "cast 'x' to double: cannot convert an object"},
        {"boolean", "2", "cast 'x' to boolean: 2 is not true or false"},
        {"boolean", "\"maybe\"", "cast 'x' to boolean: 'maybe' is not true or false"},
        {"boolean", "1.0", "cast 'x' to boolean: cannot convert a real number"},
        {"uuid", "\"35f27995-5ac0-5807-b8b6-0246c45d22b\"",
         "cast 'x' to uuid: '35f27995-5ac0-5807-b8b6-0246c45d22b' is not a UUID"},
        {"uuid", "\"zzzzzzzz-5ac0-5807-b8b6-0246c45d22bd\"",
         "cast 'x' to uuid: 'zzzzzzzz-5ac0-5807-b8b6-0246c45d22bd' is not a UUID"},
        {"uuid", "7", "cast 'x' to uuid: cannot convert an integer"},
        {"timestamp", "\"2023-02-29T00:00:00Z\"",
         "cast 'x' to timestamp: '2023-02-29T00:00:00Z' is not an RFC 3339 timestamp"},
        {"timestamp", "\"yesterday\"",
         "cast 'x' to timestamp: 'yesterday' is not an RFC 3339 timestamp"},
        {"timestamp", "false", "cast 'x' to timestamp: cannot convert a boolean"},
        {"int", "\"a very long text that goes on and on and on past forty bytes\"",
         "cast 'x' to int: 'a very long text that goes on and on and...' is not an integer"},
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(cases); i++) {
        char y[64], in[256];
        snprintf(y, sizeof y, "- cast: {x: %s}\n", cases[i].type);
        snprintf(in, sizeof in, "{\"x\":%s}", cases[i].in);
        expect_fail(y, in, cases[i].reason, 1);
    }
    /* A cut preview never splits a UTF-8 character. */
    expect_fail(
        "- cast: {x: int}\n", "{\"x\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9zzzz\"}",
        "cast 'x' to int: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is not an integer", 1);
}

/* ---- require, drop, select ---- */

static void test_require(void **state) {
    (void)state;
    const char *y = "- require: [id, name.first, \"tags[0]\"]\n";
    expect_out(y, "{\"id\":0,\"name\":{\"first\":\"\"},\"tags\":[false]}",
               "{\"id\":0,\"name\":{\"first\":\"\"},\"tags\":[false]}");
    expect_fail(y, "{\"id\":1,\"name\":{}}", "required field 'name.first' is missing", 1);
    expect_fail(y, "{\"id\":null}", "required field 'id' is null", 1);
    expect_fail(y, "{\"id\":1,\"name\":{\"first\":\"a\"},\"tags\":[]}",
                "required field 'tags[0]' is missing", 1);
}

static void test_drop(void **state) {
    (void)state;
    expect_out("- drop: [password, login.salt, \"arr[1]\", nope, a.b.c]\n",
               "{\"password\":\"x\",\"login\":{\"salt\":\"s\",\"u\":1},\"arr\":[1,2,3],\"a\":1}",
               "{\"login\":{\"u\":1},\"arr\":[1,3],\"a\":1}");
}

static void test_select(void **state) {
    (void)state;
    /* Flat: kept in the record's order, missing fields absent. */
    expect_out("- select: [c, a, zz]\n", "{\"a\":1,\"b\":2,\"c\":3,\"d\":{}}", "{\"a\":1,\"c\":3}");
    /* Nested: rebuilt in the select order. */
    expect_out("- select: [name.last, id, $.name.first]\n",
               "{\"id\":9,\"name\":{\"first\":\"A\",\"last\":\"B\",\"title\":\"Dr\"},\"x\":1}",
               "{\"name\":{\"last\":\"B\",\"first\":\"A\"},\"id\":9}");
    expect_out("- select: [nope]\n", "{\"a\":1}", "{}");
}

/* ---- the fixed order inside one map ---- */

static void test_map_order(void **state) {
    (void)state;
    /* Written backwards on purpose: the order is rename, default, set,
     * cast, require, filter, drop, select whatever the YAML says. */
    const char *y = "- map:\n"
                    "    select: [name, age, n]\n"
                    "    drop: [age]\n"
                    "    filter: age >= 18\n"
                    "    require: [age]\n"
                    "    cast: {age: int}\n"
                    "    set: {name: \"{t} {l}\"}\n"
                    "    default: {t: Mx}\n"
                    "    rename: {last: l, years: age}\n";
    expect_out(y, "{\"last\":\"Ng\",\"years\":\"30\",\"n\":1}", "{\"n\":1,\"name\":\"Mx Ng\"}");
    expect_drop(y, "{\"last\":\"Ng\",\"years\":\"12\"}");
    expect_fail(y, "{\"last\":\"Ng\"}", "required field 'age' is missing", 5);
    expect_fail(y, "{\"last\":\"Ng\",\"years\":\"x\"}", "cast 'age' to int: 'x' is not an integer",
                6);
}

/* ---- paths ---- */

static void test_paths(void **state) {
    (void)state;
    expect_out("- set: {x: \"{$.a.b[0]}-{$['odd.key'].y}-{[\\\"q\\\\\\\"k\\\"]}\"}\n",
               "{\"a\":{\"b\":[\"z\"]},\"odd.key\":{\"y\":1},\"q\\\"k\":2}",
               "{\"a\":{\"b\":[\"z\"]},\"odd.key\":{\"y\":1},\"q\\\"k\":2,\"x\":\"z-1-2\"}");
    /* Through a scalar or an out-of-range index: missing. */
    expect_fail("- require: [\"a.b\"]\n", "{\"a\":5}", "required field 'a.b' is missing", 1);
    expect_fail("- require: [\"a[3]\"]\n", "{\"a\":[1]}", "required field 'a[3]' is missing", 1);
    expect_fail("- require: [\"a[0]\"]\n", "{\"a\":{\"0\":1}}", "required field 'a[0]' is missing",
                1);

    /* The compiler's messages, with columns. */
    static const struct {
        const char *path, *msg;
    } bad[] = {
        {"a..b", "expected a field name after '.' at column 3"},
        {"$", "expected '.' or '[' after '$' at column 2"},
        {"a.", "expected a field name after '.' at column 3"},
        {"a[x]", "expected an index or a quoted key after '[' at column 3"},
        {"a[1", "expected ']' at column 4"},
        {"a['k", "unterminated quoted key at column 2"},
        {"a['']", "empty key at column 2"},
        {"a b", "unexpected character in path at column 2"},
        {"1a", "expected a field name at column 1"},
        {"a[99999999999]", "array index too large at column 2"},
        {"a.[0]", "expected a field name after '.' at column 3"},
        {"a['\\x']", "unknown escape in quoted key at column 4"},
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(bad); i++) {
        stream_arena_t a = {0};
        char err[160];
        spate_stream_path_t *p = stream_path_compile(&a, bad[i].path, strlen(bad[i].path), 0, false,
                                                     NULL, err, sizeof err);
        stream_arena_free(&a);
        assert_null(p);
        assert_string_equal(err, bad[i].msg);
    }
    /* 32 levels are fine, 33 are not. */
    char deep[200] = "a";
    for (int i = 1; i < 32; i++) strcat(deep, ".a");
    stream_arena_t a = {0};
    char err[160];
    const spate_stream_path_t *p =
        stream_path_compile(&a, deep, strlen(deep), 0, false, NULL, err, sizeof err);
    assert_non_null(p);
    assert_int_equal(p->nsegs, 32);
    assert_string_equal(spate_stream_path_text(p), deep);
    strcat(deep, ".a");
    assert_null(stream_path_compile(&a, deep, strlen(deep), 0, false, NULL, err, sizeof err));
    assert_string_equal(err, "path nests deeper than 32 levels at column 65");
    stream_arena_free(&a);
}

/* ---- the filter language ---- */

typedef struct {
    const char *expr;
    const char *rec;
    int want; /* 1 pass, 0 drop */
} fcase_t;

static void test_filter_semantics(void **state) {
    (void)state;
    static const fcase_t cases[] = {
        /* comparisons */
        {"age >= 18", "{\"age\":18}", 1},
        {"age > 18", "{\"age\":18}", 0},
        {"age < 18.5", "{\"age\":18}", 1},
        {"age <= 17.99", "{\"age\":18}", 0},
        {"age == 18", "{\"age\":18.0}", 1},
        {"age != 18", "{\"age\":18}", 0},
        {"x == -2.5e0", "{\"x\":-2.5}", 1},
        {"nat == 'GB'", "{\"nat\":\"GB\"}", 1},
        {"nat == \"GB\"", "{\"nat\":\"gb\"}", 0},
        {"name < \"b\"", "{\"name\":\"abc\"}", 1},
        {"name > \"ab\"", "{\"name\":\"abc\"}", 1},
        {"name >= \"abc\"", "{\"name\":\"abc\"}", 1},
        {"a == b", "{\"a\":{\"x\":[1]},\"b\":{\"x\":[1]}}", 1},
        {"a == b", "{\"a\":1,\"b\":\"1\"}", 0},
        {"a != b", "{\"a\":1,\"b\":\"1\"}", 1},
        {"s == 'it\\'s\\n'", "{\"s\":\"it's\\n\"}", 1},
        /* booleans and null; missing equals null */
        {"ok", "{\"ok\":true}", 1},
        {"ok", "{\"ok\":false}", 0},
        {"ok", "{}", 0},
        {"ok", "{\"ok\":null}", 0},
        {"ok == true", "{\"ok\":true}", 1},
        {"true", "{}", 1},
        {"false", "{}", 0},
        {"x == null", "{}", 1},
        {"x == null", "{\"x\":null}", 1},
        {"x != null", "{\"x\":0}", 1},
        {"x > 1", "{}", 0},
        {"x < 1", "{\"x\":null}", 0},
        /* exists */
        {"exists(a.b)", "{\"a\":{\"b\":0}}", 1},
        {"exists(a.b)", "{\"a\":{\"b\":null}}", 0},
        {"exists(a[1])", "{\"a\":[1]}", 0},
        {"not exists(x)", "{}", 1},
        /* in / not in */
        {"nat in ['GB', 'IE']", "{\"nat\":\"IE\"}", 1},
        {"nat in ['GB', 'IE']", "{\"nat\":\"US\"}", 0},
        {"nat not in ['GB', 'IE']", "{\"nat\":\"US\"}", 1},
        {"nat not in ['GB']", "{}", 1},
        {"n in [1, 2.5, 'x', null]", "{\"n\":2.5}", 1},
        {"n in [1, 2]", "{\"n\":1.0}", 1},
        {"n in []", "{\"n\":1}", 0},
        {"n in [null]", "{}", 1},
        /* precedence: not > and > or */
        {"a or b and c", "{\"a\":true,\"b\":false,\"c\":false}", 1},
        {"(a or b) and c", "{\"a\":true,\"b\":false,\"c\":false}", 0},
        {"not a and b", "{\"a\":false,\"b\":true}", 1},
        {"not (a and b)", "{\"a\":true,\"b\":false}", 1},
        {"not a == 1", "{\"a\":2}", 1},
        {"not not a", "{\"a\":true}", 1},
        {"a and b or c and d", "{\"a\":false,\"b\":true,\"c\":true,\"d\":true}", 1},
        {"x > 1 and x < 3 or x == 10", "{\"x\":10}", 1},
        {"x > 1 and (x < 3 or x == 10)", "{\"x\":5}", 0},
        /* short circuit: the type error on the right is never reached */
        {"false and s > 1", "{\"s\":\"x\"}", 0},
        {"true or s > 1", "{\"s\":\"x\"}", 1},
        /* keywords inside names are names */
        {"notes == 1 and order == 2 and ind == 3", "{\"notes\":1,\"order\":2,\"ind\":3}", 1},
        {"$['and'] == 1", "{\"and\":1}", 1},
        {"a[0].b >= 1", "{\"a\":[{\"b\":2}]}", 1},
        /* big integers compare exactly */
        {"n == 9007199254740993", "{\"n\":9007199254740993}", 1},
        {"n > 9007199254740992", "{\"n\":9007199254740993}", 1},
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(cases); i++) {
        char y[256];
        /* Single-quoted YAML keeps the expression's own quotes. */
        spate_buf_t b = SPATE_BUF_INIT;
        spate_buf_puts(&b, "- filter: '");
        for (const char *c = cases[i].expr; *c; c++) {
            if (*c == '\'') spate_buf_putc(&b, '\'');
            spate_buf_putc(&b, *c);
        }
        spate_buf_puts(&b, "'\n");
        snprintf(y, sizeof y, "%s", b.data);
        spate_buf_free(&b);
        spate_stream_prog_t *p = compile(y);
        result_t res;
        run1(p, cases[i].rec, &res);
        spate_stream_prog_free(p);
        int got = res.v == SPATE_STREAM_PASS ? 1 : res.v == SPATE_STREAM_DROP ? 0 : -1;
        if (got != cases[i].want)
            fail_msg("filter %s on %s: got %d (%s), want %d", cases[i].expr, cases[i].rec, got,
                     res.reason, cases[i].want);
        if (got == 1) assert_string_equal(res.out, cases[i].rec);
    }
}

static void test_filter_runtime_errors(void **state) {
    (void)state;
    expect_fail("- filter: age > 18\n", "{\"age\":\"nineteen\"}",
                "filter: cannot compare field 'age' (a string) > a number", 1);
    expect_fail("- filter: a < b\n", "{\"a\":1,\"b\":true}",
                "filter: cannot compare field 'a' (a number) < field 'b' (a boolean)", 1);
    expect_fail("- filter: a >= 1\n", "{\"a\":[1]}",
                "filter: cannot compare field 'a' (an object or array) >= a number", 1);
    expect_fail("- map:\n    filter: flag\n", "{\"flag\":\"yes\"}",
                "filter: field 'flag' is a string, not true or false", 2);
}

static void test_filter_compile_errors(void **state) {
    (void)state;
    static const struct {
        const char *expr, *msg;
    } cases[] = {
        {"", "empty filter"},
        {"age >", "expected a field or a value to compare with, got the end of the filter at "
                  "column 6"},
        {"age = 18", "use '==' to compare at column 5"},
        {"!ok", "use 'not' for negation at column 1"},
        {"a && b", "use 'and' at column 3"},
        {"a || b", "use 'or' at column 3"},
        {"(a", "expected ')', got the end of the filter at column 3"},
        {"a)", "expected 'and', 'or' or the end of the filter, got ')' at column 2"},
        {"a b", "expected 'and', 'or' or the end of the filter, got 'b' at column 3"},
        {"'abc", "unterminated string at column 1"},
        {"s == 'a\\q'", "unknown escape '\\q' in a string at column 8"},
        {"x == 12abc", "malformed number at column 6"},
        {"x == -", "expected a number after '-' at column 6"},
        {"x == 1.", "expected digits after '.' in a number at column 6"},
        {"x == 1e", "expected digits in the exponent of a number at column 6"},
        {"x == 1e999", "number out of range at column 6"},
        {"18", "a number is not a condition (compare it with something) at column 1"},
        {"'x'", "a string is not a condition (compare it with something) at column 1"},
        {"x < true", "'<' compares numbers or strings, not a boolean at column 3"},
        {"null >= x", "'>=' compares numbers or strings, not null at column 6"},
        {"'a' < 1", "cannot compare a string with a number at column 5"},
        {"x in 1", "expected '[' starting a list after 'in', got '1' at column 6"},
        {"x in [a]", "expected a string, a number, true, false or null in the list, got 'a' at "
                     "column 7"},
        {"x in [1 2]", "expected ',' or ']', got '2' at column 9"},
        {"x in [1,", "expected a string, a number, true, false or null in the list, got the end "
                     "of the filter at column 9"},
        {"x not 1", "expected 'in' after 'not' here, got 'not' at column 3"},
        {"exists x", "expected '(' after exists, got 'x' at column 8"},
        {"exists(1)", "expected a field name in exists(), got '1' at column 8"},
        {"exists(a", "expected ')' closing exists(, got the end of the filter at column 9"},
        {"a and", "expected a condition, got the end of the filter at column 6"},
        {"a or or b", "expected a condition, got 'or' at column 6"},
        {"a.", "expected a field name after '.' at column 3"},
        {"x == #", "unexpected character '#' at column 6"},
        {"x == 'this literal is more than twenty-four bytes long' y",
         "expected 'and', 'or' or the end of the filter, got 'y' at column 57"},
        {"(((((((((((((((((((((((((((((((((x)))))))))))))))))))))))))))))))))",
         "filter nests deeper than 32 levels at column 33"},
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(cases); i++) {
        stream_arena_t a = {0};
        char err[256];
        stream_expr_t *e =
            stream_expr_compile(&a, cases[i].expr, strlen(cases[i].expr), err, sizeof err);
        stream_arena_free(&a);
        if (e) fail_msg("'%s' compiled", cases[i].expr);
        if (strcmp(err, cases[i].msg) != 0)
            fail_msg("'%s': got \"%s\", want \"%s\"", cases[i].expr, err, cases[i].msg);
    }
    /* 32 levels of nesting are fine; 33 `not`s are not. */
    char deep[200] = "";
    for (int i = 0; i < 32; i++) strcat(deep, "(");
    strcat(deep, "x");
    for (int i = 0; i < 32; i++) strcat(deep, ")");
    stream_arena_t a = {0};
    char err[256];
    assert_non_null(stream_expr_compile(&a, deep, strlen(deep), err, sizeof err));
    deep[0] = '\0';
    for (int i = 0; i < 33; i++) strcat(deep, "not ");
    strcat(deep, "x");
    assert_null(stream_expr_compile(&a, deep, strlen(deep), err, sizeof err));
    assert_string_equal(err, "filter nests deeper than 32 levels at column 129");
    /* More than STREAM_EXPR_MAX_NODES conditions. */
    spate_buf_t b = SPATE_BUF_INIT;
    for (int i = 0; i < 600; i++) spate_buf_printf(&b, "%sx == %d", i ? " or " : "", i);
    assert_null(stream_expr_compile(&a, b.data, b.len, err, sizeof err));
    assert_string_equal(err, "filter has more than 512 conditions at column 6037");
    spate_buf_free(&b);
    stream_arena_free(&a);
}

/* ---- compile errors with file:line ---- */

static void test_compile_errors(void **state) {
    (void)state;
    expect_compile_error("- frob\n",
                         "t.yaml:1: unknown step 'frob' (expected json, format_user or map)");
    expect_compile_error("- format_user\n", "t.yaml:1: format_user needs 'input: raw' (formatted "
                                            "input is format_user output already)");
    {
        const char *want[] = {"t.yaml:2: format_user appears twice", NULL};
        expect_compile_errors("- format_user\n- format_user\n", SPATE_STREAM_INPUT_RAW, want);
    }
    expect_compile_error("- select: [a]\n- json\n",
                         "t.yaml:2: json must be the first step (it parses the message)");
    expect_compile_error("- [a]\n", "t.yaml:1: expected a step (json, format_user or map), got a "
                                    "list");
    expect_compile_error("a: 1\n", "t.yaml:1: expected a list of steps, got a mapping");
    expect_compile_error("- map: {select: [a]}\n  extra: 1\n",
                         "t.yaml:1: a map step holds its operations under 'map:' and nothing "
                         "beside");
    expect_compile_error("- map: {}\n", "t.yaml:1: key 'map': a map step needs at least one "
                                        "operation");
    expect_compile_error("- map: [a]\n", "t.yaml:1: key 'map': expected a mapping, got a list");
    expect_compile_error("- map:\n    selekt: [a]\n",
                         "t.yaml:2: key 'selekt': unknown operation (expected rename, default, "
                         "set, cast, require, filter, drop or select)");
    expect_compile_error("- filter: x\n  bogus: 1\n",
                         "t.yaml:2: key 'bogus': unknown step (expected json, format_user, map, "
                         "or one of rename, default, set, cast, require, filter, drop, select)");
    expect_compile_error("- select: a\n",
                         "t.yaml:1: key 'select': expected a list of field names, got a value");
    expect_compile_error("- select: [\"a[0]\"]\n", "t.yaml:1: 'a[0]' cannot be written to: a "
                                                   "target path has no array index");
    expect_compile_error("- require: [{a: 1}]\n", "t.yaml:1: expected a field name, got a mapping");
    expect_compile_error("- rename: {a: [b]}\n",
                         "t.yaml:1: key 'a': expected the new name, got a list");
    expect_compile_error("- rename: {a: \"b[1]\"}\n",
                         "t.yaml:1: key 'a': 'b[1]' cannot be written to: a target path has no "
                         "array index");
    expect_compile_error("- rename: [a]\n", "t.yaml:1: key 'rename': expected a mapping, got a "
                                            "list");
    expect_compile_error("- cast: {a: varchar}\n",
                         "t.yaml:1: key 'a': unknown type 'varchar' (expected text, int, bigint, "
                         "double, boolean, uuid or timestamp)");
    expect_compile_error("- cast: {a: [int]}\n", "t.yaml:1: key 'a': expected a type, got a list");
    expect_compile_error("- filter: [a]\n",
                         "t.yaml:1: key 'filter': expected a condition, got a list");
    expect_compile_error("- filter: age >\n",
                         "t.yaml:1: key 'filter': expected a field or a value to compare with, "
                         "got the end of the filter at column 6");
    expect_compile_error("- set: {a: \"{x\"}\n",
                         "t.yaml:1: key 'a': in the format: unclosed '{' at column 1");
    expect_compile_error("- set: {a: \"x}\"}\n",
                         "t.yaml:1: key 'a': in the format: single '}' at column 2 (write '}}' "
                         "for a brace)");
    expect_compile_error("- set: {a: \"x{ }\"}\n",
                         "t.yaml:1: key 'a': in the format: empty '{}' at column 2");
    expect_compile_error("- set: {a: \"{b..c}\"}\n",
                         "t.yaml:1: key 'a': in the format: expected a field name after '.' at "
                         "column 4");
    expect_compile_error("- set: {a: [1]}\n",
                         "t.yaml:1: key 'a': expected a format string or one of format, concat, "
                         "copy, value; got a list");
    expect_compile_error("- set: {a: {copy: b, value: 1}}\n",
                         "t.yaml:1: key 'a': a computed field takes exactly one of format, "
                         "concat, copy, value");
    expect_compile_error("- set: {a: {cpy: b}}\n",
                         "t.yaml:1: key 'cpy': unknown setting (a computed field takes format, "
                         "concat with sep, copy or value)");
    expect_compile_error("- set: {a: {copy: b, sep: x}}\n", "t.yaml:1: key 'sep': sep goes with "
                                                            "concat");
    expect_compile_error("- set: {a: {concat: []}}\n",
                         "t.yaml:1: key 'concat': concat needs at least one field");
    expect_compile_error("- set: {\"a[0]\": x}\n", "t.yaml:1: key 'a[0]': 'a[0]' cannot be "
                                                   "written to: a target path has no array index");
    expect_compile_error("- default: {\"a..b\": 1}\n",
                         "t.yaml:1: key 'a..b': invalid path 'a..b': expected a field name after "
                         "'.' at column 3");
    /* Every problem of a program is reported, in order. */
    const char *want[] = {
        "t.yaml:2: key 'x': unknown type 'float' (expected text, int, bigint, double, boolean, "
        "uuid or timestamp)",
        "t.yaml:3: key 'filter': use '==' to compare at column 3",
        "t.yaml:4: unknown step 'nope' (expected json, format_user or map)",
        "t.yaml:6: key 'drop': expected a list of field names, got a value", NULL};
    expect_compile_errors("- map:\n"
                          "    cast: {x: float}\n"
                          "    filter: a = 1\n"
                          "- nope\n"
                          "- map:\n"
                          "    drop: x\n",
                          SPATE_STREAM_INPUT_FORMATTED, want);
}

/* ---- one program, many records ---- */

static void test_program_reuse_many(void **state) {
    (void)state;
    spate_stream_prog_t *p = compile("- map:\n"
                                     "    default: {tags: [new]}\n"
                                     "    set: {label: \"{name}#{n}\", k: {value: [1]}}\n"
                                     "    cast: {n: int}\n"
                                     "    filter: n >= 10 and name != 'skip'\n"
                                     "    drop: [junk]\n");
    spate_stream_runner_t r;
    spate_stream_runner_init(&r);
    int pass = 0, drop = 0, failc = 0;
    for (int i = 0; i < 2000; i++) {
        char in[256], want[256];
        result_t res;
        if (i % 7 == 3) {
            snprintf(in, sizeof in, "{\"name\":\"u%d\",\"n\":\"x%d\"}", i, i);
            run_on(p, &r, in, &res);
            assert_int_equal(res.v, SPATE_STREAM_FAIL);
            snprintf(want, sizeof want, "cast 'n' to int: 'x%d' is not an integer", i);
            assert_string_equal(res.reason, want);
            failc++;
            continue;
        }
        snprintf(in, sizeof in, "{\"name\":\"%s\",\"n\":\"%d\",\"junk\":%d}",
                 i % 11 == 5 ? "skip" : "u", i, i);
        run_on(p, &r, in, &res);
        if (i < 10 || i % 11 == 5) {
            assert_int_equal(res.v, SPATE_STREAM_DROP);
            assert_string_equal(res.reason, "");
            drop++;
            continue;
        }
        assert_int_equal(res.v, SPATE_STREAM_PASS);
        snprintf(want, sizeof want,
                 "{\"name\":\"u\",\"n\":%d,\"tags\":[\"new\"],\"label\":\"u#%d\",\"k\":[1]}", i, i);
        assert_string_equal(res.out, want);
        pass++;
    }
    assert_int_equal(pass + drop + failc, 2000);
    assert_true(pass > 1500);
    spate_stream_runner_free(&r);
    spate_stream_prog_free(p);
}

/* ---- small helpers used by the runtime ---- */

static void test_number_text(void **state) {
    (void)state;
    spate_buf_t b = SPATE_BUF_INIT;
    stream_put_i64(&b, 0);
    spate_buf_putc(&b, ' ');
    stream_put_i64(&b, INT64_MIN);
    spate_buf_putc(&b, ' ');
    stream_put_i64(&b, INT64_MAX);
    spate_buf_putc(&b, ' ');
    stream_put_i64(&b, -5);
    assert_string_equal(b.data, "0 -9223372036854775808 9223372036854775807 -5");
    spate_buf_free(&b);
    char d[32];
    assert_int_equal(stream_fmt_double(0.1, d), 3);
    assert_string_equal(d, "0.1");
    stream_fmt_double(1.0, d);
    assert_string_equal(d, "1.0");
    stream_fmt_double(-2.5e-300, d);
    assert_string_equal(d, "-2.5e-300");
    stream_fmt_double(1.0 / 3, d);
    assert_string_equal(d, "0.3333333333333333");
    stream_fmt_double(1e21, d);
    assert_string_equal(d, "1e+21");
}

/* ---- the flat path (stream.h): same records out as the general path ---- */

/* xorshift64: the same sequence on every run */
static uint64_t flat_rng = 88172645463325252ull;
static unsigned pick(unsigned n) {
    flat_rng ^= flat_rng << 13;
    flat_rng ^= flat_rng >> 7;
    flat_rng ^= flat_rng << 17;
    return (unsigned)(flat_rng % n);
}

/* A JSON text: mostly objects of a few fields from a small pool, with
 * values that the flat path takes (plain strings, canonical UUIDs, UTF-8)
 * and that it must leave to the general path (escapes, other UUID forms,
 * numbers, null, nesting, invalid UTF-8, repeated keys, broken JSON). */
static void gen_record(char *out, size_t cap) {
    static const char *const keys[] = {"a", "b", "c", "id", "\xc3\xa9", "x y", ""};
    static const char *const vals[] = {
        "\"plain\"",
        "\"\"",
        "\"8e9864bb-e547-549b-bb18-1571587ca672\"",
        "\"8E9864BB-E547-549B-BB18-1571587CA672\"",
        "\"8e9864bbe547549bbb181571587ca672\"",
        "\"not-a-uuid\"",
        "\"Schillerstra\xc3\x9f"
        "e 12\"",
        "\"esc\\\"aped\"",
        "\"\\u00e9\"",
        "\"a/b\\/c\"",
        "\"bad \xff byte\"",
        "\"long text long text long text long text\"",
        "12345",
        "-1.5",
        "null",
        "true",
        "{\"n\": \"x\"}",
        "[\"x\"]",
    };
    static const char *const ws[] = {"", " ", "\n", "\t ", "\r\n"};
    size_t o = 0;
#define PUT(...) (o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, __VA_ARGS__))
    unsigned shape = pick(20);
    if (shape == 0) {
        PUT("[\"a\"]");
        return;
    }
    if (shape == 1) {
        PUT("{\"a\": \"x\"");
        return;
    }
    PUT("%s{", ws[pick(5)]);
    unsigned n = pick(6);
    for (unsigned i = 0; i < n; i++) {
        /* the pool's first keys often, so that the programs' fields are there */
        PUT("%s%s\"%s\"%s:%s%s", i ? "," : "", ws[pick(5)], keys[pick(4) ? pick(4) : pick(7)],
            ws[pick(5)], ws[pick(5)], vals[pick(4) ? pick(3) : pick(18)]);
    }
    PUT("}%s", shape == 2 ? " x" : ws[pick(5)]);
#undef PUT
}

static void test_flat_path(void **state) {
    (void)state;
    static const struct {
        const char *yaml;
        bool flat;
    } progs[] = {
        {"[]", true},
        {"[json]", true},
        {seed_map, true},
        {"- select: [a, id]\n", true},
        {"- drop: [b]\n- cast: {id: uuid}\n", true},
        {"- map: {cast: {a: text, id: uuid}, require: [a], drop: [c], select: [a, id, b]}\n"
         "- select: [id, a]\n",
         true},
        {"- require: [id]\n", true},
        {"- cast: {a: int}\n", false},
        {"- rename: {a: z}\n", false},
        {"- default: {a: \"\"}\n", false},
        {"- filter: exists(a)\n", false},
        {"- set: {z: \"{a}\"}\n", false},
        {"- select: [a.n]\n", false},
        {"- drop: [\"x[0]\"]\n", false},
    };
    spate_stream_runner_t r;
    spate_stream_runner_init(&r);
    size_t taken = 0, left = 0;
    for (size_t pi = 0; pi < sizeof progs / sizeof progs[0]; pi++) {
        spate_stream_prog_t *p = compile(progs[pi].yaml);
        assert_int_equal(spate_stream_prog_flat(p), progs[pi].flat);
        if (!progs[pi].flat) {
            spate_stream_prog_free(p);
            continue;
        }
        for (int k = 0; k < 3000; k++) {
            char in[2048];
            gen_record(in, sizeof in);
            spate_json_field_t f[SPATE_STREAM_FLAT_MAX];
            size_t n = 0;
            bool flat = spate_stream_prog_run_flat(p, in, strlen(in), f, &n);
            result_t res;
            run_on(p, &r, in, &res);
            if (!flat) {
                left += res.v == SPATE_STREAM_PASS;
                continue;
            }
            taken++;
            /* the general path passes the same record: its compact JSON is
             * the flat fields' bytes (nothing in them needs escaping) */
            char want[4096];
            size_t o = (size_t)snprintf(want, sizeof want, "{");
            for (size_t i = 0; i < n; i++)
                o += (size_t)snprintf(want + o, sizeof want - o, "%s\"%.*s\":\"%.*s\"",
                                      i ? "," : "", (int)f[i].kn, f[i].k, (int)f[i].vn, f[i].v);
            snprintf(want + o, sizeof want - o, "}");
            if (res.v != SPATE_STREAM_PASS || strcmp(res.out, want) != 0)
                fail_msg("program %zu, input %s: flat %s, general %d %s %s", pi, in, want, res.v,
                         res.out, res.reason);
        }
        spate_stream_prog_free(p);
    }
    spate_stream_runner_free(&r);
    /* both ways were exercised: records taken flat, and records the flat
     * path left to the general one although they pass */
    assert_true(taken > 1000);
    assert_true(left > 1000);

    /* the seed's record, field for field */
    spate_stream_prog_t *p = compile(seed_map);
    const char *in = "{\"id\":\"8e9864bb-e547-549b-bb18-1571587ca672\",\"first_name\":\"Dominik\","
                     "\"last_name\":\"Becker\",\"email\":\"d@example.com\",\"username\":\"dp\","
                     "\"extra\":\"dropped\",\"post_code\":\"96015\"}";
    spate_json_field_t f[SPATE_STREAM_FLAT_MAX];
    size_t n = 0;
    assert_true(spate_stream_prog_run_flat(p, in, strlen(in), f, &n));
    assert_int_equal(n, 6);
    assert_int_equal(f[5].kn, 9);
    assert_memory_equal(f[5].k, "post_code", 9);
    assert_memory_equal(f[5].v, "96015", 5);
    /* a required field missing: left to the general path, which fails it */
    in = "{\"id\":\"8e9864bb-e547-549b-bb18-1571587ca672\"}";
    assert_false(spate_stream_prog_run_flat(p, in, strlen(in), f, &n));
    spate_stream_prog_free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_step),
        cmocka_unit_test(test_format_user_step),
        cmocka_unit_test(test_seed_mapping),
        cmocka_unit_test(test_rename),
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_default_constants_not_shared),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_cast_success),
        cmocka_unit_test(test_cast_failures),
        cmocka_unit_test(test_require),
        cmocka_unit_test(test_drop),
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_map_order),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_filter_semantics),
        cmocka_unit_test(test_filter_runtime_errors),
        cmocka_unit_test(test_filter_compile_errors),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_program_reuse_many),
        cmocka_unit_test(test_number_text),
        cmocka_unit_test(test_flat_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
