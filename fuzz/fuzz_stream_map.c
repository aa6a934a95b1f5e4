/*
 * fuzz_stream_map.c — libFuzzer target for the transform compiler and
 * runner (src/stream/stream_map.c, stream_expr.c, stream_path.c) and the
 * pipeline loader (stream_conf.c).
 *
 * The input is used three ways:
 *   1. as YAML: the document (or its `transform:` key when it is a
 *      mapping) is compiled as a transform list for formatted and for raw
 *      input, and each program that compiles is run twice over a fixed set
 *      of records with one runner;
 *   2. as a whole pipeline file: every job's program is run the same way;
 *   3. as the text of a filter expression and of a path, compiled
 *      directly (arbitrary bytes, NULs included) and evaluated.
 * Invariants beyond "no crash, no leak": a failed compile reports at
 * least one message and every message names the file ("fuzz.yaml:");
 * PASS leaves an object and no reason, DROP no reason, FAIL a reason; and
 * running the same program on the same record twice gives the same
 * verdict and the same output (compiled constants are never changed by a
 * run); and a program that may take the flat path (stream.h) passes, when
 * the flat path takes a record, exactly the fields the general path
 * passes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream_int.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char *const records[] = {
    /* a format_user record */
    "{\"id\":\"35f27995-5ac0-5807-b8b6-0246c45d22bd\",\"first_name\":\"Laura\","
    "\"last_name\":\"Woods\",\"gender\":\"female\",\"address\":\"42 Henry Street, Cork\","
    "\"post_code\":\"93771\",\"email\":\"l@e.x\",\"username\":\"u\","
    "\"dob\":\"1992-03-08T15:13:16.688Z\",\"registered_date\":\"2007-07-09T05:51:59.390Z\","
    "\"phone\":\"071\",\"picture\":\"p\"}",
    /* a raw randomuser result */
    "{\"gender\":\"female\",\"name\":{\"title\":\"Ms\",\"first\":\"Laura\",\"last\":\"Woods\"},"
    "\"location\":{\"street\":{\"number\":42,\"name\":\"Henry Street\"},\"city\":\"Cork\","
    "\"state\":\"Cork\",\"country\":\"Ireland\",\"postcode\":93771},\"email\":\"l@e.x\","
    "\"login\":{\"uuid\":\"1f6a1e5c-7d3b-4a8e-9c2f-0b5d6e7f8a91\",\"username\":\"u\"},"
    "\"dob\":{\"date\":\"1992-03-08T15:13:16.688Z\",\"age\":33},"
    "\"registered\":{\"date\":\"2007-07-09T05:51:59.390Z\",\"age\":18},\"phone\":\"071\","
    "\"picture\":{\"medium\":\"p\"},\"nat\":\"IE\"}",
    /* every JSON type, nesting, odd keys */
    "{\"a\":1,\"b\":\"x\",\"c\":[1,{\"d\":null},[true]],\"e\":{\"f\":2.5,\"g\":false},"
    "\"n\":-9223372036854775808,\"s\":\"2024-05-01\",\"u\":\"35F279955AC05807B8B60246C45D22BD\","
    "\"odd.key\":{\"\":0},\"and\":true,\"r\":1e300}",
    "{}",
    "[1,2]",
    "not json",
};

static void run_prog(const spate_stream_prog_t *p) {
    spate_stream_runner_t r;
    spate_stream_runner_init(&r);
    for (size_t i = 0; i < SPATE_ARRAY_LEN(records); i++) {
        spate_stream_verdict_t v[2];
        char *out[2] = {NULL, NULL};
        for (int k = 0; k < 2; k++) {
            spate_stream_record_t rec = {0};
            spate_stream_record_set(&rec, records[i], strlen(records[i]));
            v[k] = spate_stream_prog_run(p, &rec, &r);
            CHECK(memchr(r.reason, '\0', sizeof r.reason) != NULL);
            switch (v[k]) {
            case SPATE_STREAM_PASS:
                CHECK(json_is_object(rec.value));
                CHECK(r.reason[0] == '\0');
                out[k] = json_dumps(rec.value, JSON_COMPACT);
                CHECK(out[k] != NULL);
                break;
            case SPATE_STREAM_DROP: CHECK(r.reason[0] == '\0'); break;
            case SPATE_STREAM_FAIL: CHECK(r.reason[0] != '\0'); break;
            default: CHECK(0);
            }
            spate_stream_record_clear(&rec);
        }
        CHECK(v[0] == v[1]);
        if (out[0]) CHECK(strcmp(out[0], out[1]) == 0);
        /* the flat path passes only what the general path passes, as it does */
        spate_json_field_t f[SPATE_STREAM_FLAT_MAX];
        size_t n;
        if (spate_stream_prog_flat(p) &&
            spate_stream_prog_run_flat(p, records[i], strlen(records[i]), f, &n)) {
            CHECK(v[0] == SPATE_STREAM_PASS);
            json_t *o = json_loads(out[0], 0, NULL);
            CHECK(o != NULL && json_object_size(o) == n);
            size_t k = 0;
            for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it), k++) {
                json_t *x = json_object_iter_value(it);
                CHECK(json_object_iter_key_len(it) == f[k].kn &&
                      memcmp(json_object_iter_key(it), f[k].k, f[k].kn) == 0);
                CHECK(json_is_string(x) && json_string_length(x) == f[k].vn &&
                      memcmp(json_string_value(x), f[k].v, f[k].vn) == 0);
            }
            json_decref(o);
        }
        free(out[0]);
        free(out[1]);
    }
    spate_stream_runner_free(&r);
}

static void check_diag(const spate_stream_diag_t *d) {
    CHECK(spate_stream_diag_count(d) >= 1);
    for (size_t i = 0; i < d->n; i++) CHECK(strncmp(d->msgs[i], "fuzz.yaml", 9) == 0);
}

static void as_transform(const char *text, size_t size) {
    spate_conf_t c;
    spate_conf_err_t err;
    if (spate_conf_load_string(&c, "fuzz.yaml", text, size, &err) != SPATE_OK) {
        CHECK(strncmp(err.msg, "fuzz.yaml", 9) == 0);
        spate_conf_free(&c);
        return;
    }
    const spate_conf_node_t *steps = c.root;
    if (steps && steps->kind == SPATE_CONF_MAP) steps = spate_conf_get(steps, "transform");
    for (int raw = 0; raw < 2; raw++) {
        spate_stream_diag_t d = {0};
        spate_stream_prog_t *p = NULL;
        spate_status_t st = spate_stream_prog_compile(
            &c, steps, raw ? SPATE_STREAM_INPUT_RAW : SPATE_STREAM_INPUT_FORMATTED, &p, &d);
        if (st == SPATE_OK) {
            CHECK(p != NULL && d.n == 0);
            run_prog(p);
            spate_stream_prog_free(p);
        } else {
            CHECK(p == NULL);
            check_diag(&d);
        }
        spate_stream_diag_free(&d);
    }
    spate_conf_free(&c);
}

static void as_pipeline(const char *text, size_t size) {
    spate_stream_diag_t d = {0};
    spate_stream_pipeline_t *p = NULL;
    spate_status_t st = spate_stream_pipeline_load_string(&p, "fuzz.yaml", text, size, &d);
    if (st == SPATE_OK) {
        CHECK(d.n == 0 && spate_stream_pipeline_njobs(p) >= 1);
        for (size_t i = 0; i < spate_stream_pipeline_njobs(p); i++) {
            const spate_stream_job_t *j = spate_stream_pipeline_job(p, i);
            CHECK(j->name && j->source.ntopics >= 1 && j->prog);
            CHECK(spate_stream_pipeline_find(p, j->name) != NULL);
            run_prog(j->prog);
        }
        spate_stream_pipeline_free(p);
    } else {
        CHECK(p == NULL);
        check_diag(&d);
    }
    spate_stream_diag_free(&d);
}

static void as_expression(const char *text, size_t size) {
    stream_arena_t a = {0};
    char err[256];
    stream_expr_t *e = stream_expr_compile(&a, text, size, err, sizeof err);
    if (e) {
        for (size_t i = 0; i < SPATE_ARRAY_LEN(records); i++) {
            json_t *rec = json_loads(records[i], 0, NULL);
            if (!json_is_object(rec)) {
                json_decref(rec);
                continue;
            }
            char reason[256] = "";
            int r = stream_expr_eval(e, rec, reason, sizeof reason);
            CHECK(r == 0 || r == 1 || (r == -1 && reason[0]));
            json_decref(rec);
        }
    } else {
        CHECK(memchr(err, '\0', sizeof err) && err[0]);
    }
    size_t end = 0;
    const spate_stream_path_t *path =
        stream_path_compile(&a, text, size, 0, true, &end, err, sizeof err);
    if (path) {
        CHECK(end <= size && path->nsegs >= 1 && path->nsegs <= STREAM_PATH_MAX_SEGS);
        json_t *rec = json_loads(records[2], 0, NULL);
        spate_stream_path_get(path, rec);
        json_decref(rec);
    }
    stream_arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 16) return 0;
    /* An exact-length heap copy so ASan sees any overread. */
    char *text = malloc(size ? size : 1);
    if (!text) return 0;
    if (size) memcpy(text, data, size);
    as_transform(text, size);
    as_pipeline(text, size);
    as_expression(text, size);
    free(text);
    return 0;
}
