/*
 * test_sched_template.c — "{{ name }}" rendering (src/sched/sched_template.c).
 *
 * Every name the header lists, rendered for one hand-made context whose
 * times were computed by hand: 2026-11-01T00:00Z = 1793491200000 ms
 * (see test_sched_cron.c), + 6 h 30 min 5.25 s = 1793514605250.
 * And every error: unknown names, unclosed "{{", empty "{{ }}", missing
 * params, a params value that is not a scalar, a context without a DAG.
 * The run's conf: {{ dag_run.conf.x }} for every JSON type (Python's
 * spellings for true/false/null), conf keys overriding params whole (and
 * adding new ones), an empty or absent conf leaving params alone, and
 * spate_sched_run_conf_parse's checks (object only, depth, size, exact
 * error texts and compact output).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "sched.h"

#define NOV1 1793491200000LL

typedef struct {
    spate_conf_t conf;
    spate_sched_dag_t dag;
    spate_sched_task_t task;
    spate_sched_ti_ctx_t ctx;
} fx_t;

static void fx_init(fx_t *f) {
    memset(f, 0, sizeof *f);
    const char *y = "params:\n  count: 100\n  name: \"a b\"\n  nested: {deep: x}\n  list: [1]\n";
    spate_conf_err_t err;
    assert_int_equal(spate_conf_load_string(&f->conf, "p.yaml", y, strlen(y), &err), SPATE_OK);
    f->dag.dag_id = "user_automation";
    f->dag.params = spate_conf_get(f->conf.root, "params");
    f->task.id = "stage_users";
    f->ctx.dag = &f->dag;
    f->ctx.task = &f->task;
    f->ctx.run_id = "scheduled__2026-11-01T00:00:00+00:00";
    f->ctx.logical_date_ms = NOV1;
    f->ctx.data_interval_start_ms = NOV1;
    f->ctx.data_interval_end_ms = NOV1 + 86400000LL;
    f->ctx.try_number = 2;
}

static void render_eq(const spate_sched_ti_ctx_t *ctx, const char *tmpl, const char *want) {
    spate_buf_t b = SPATE_BUF_INIT;
    char err[256] = "";
    spate_status_t st = spate_sched_render(tmpl, ctx, &b, err, sizeof err);
    if (st != SPATE_OK) fail_msg("'%s': %s", tmpl, err);
    if (strcmp(b.len ? (const char *)b.data : "", want) != 0)
        fail_msg("'%s' → '%s', want '%s'", tmpl, b.len ? (const char *)b.data : "", want);
    spate_buf_free(&b);
}

static void render_err(const spate_sched_ti_ctx_t *ctx, const char *tmpl, const char *want) {
    spate_buf_t b = SPATE_BUF_INIT;
    char err[256] = "";
    assert_int_equal(spate_sched_render(tmpl, ctx, &b, err, sizeof err), SPATE_EINVAL);
    if (strcmp(err, want) != 0) fail_msg("'%s': got '%s', want '%s'", tmpl, err, want);
    spate_buf_free(&b);
}

static void test_names(void **state) {
    (void)state;
    fx_t f;
    fx_init(&f);
    render_eq(&f.ctx, "{{ ds }}", "2026-11-01");
    render_eq(&f.ctx, "{{ds_nodash}}", "20261101");
    render_eq(&f.ctx, "{{ ts }}", "2026-11-01T00:00:00+00:00");
    render_eq(&f.ctx, "{{ ts_nodash }}", "20261101T000000");
    render_eq(&f.ctx, "{{ logical_date }}", "2026-11-01T00:00:00+00:00");
    render_eq(&f.ctx, "{{ data_interval_start }}", "2026-11-01T00:00:00+00:00");
    render_eq(&f.ctx, "{{ data_interval_end }}", "2026-11-02T00:00:00+00:00");
    render_eq(&f.ctx, "{{ run_id }}", "scheduled__2026-11-01T00:00:00+00:00");
    render_eq(&f.ctx, "{{ dag_id }}/{{ dag.dag_id }}", "user_automation/user_automation");
    render_eq(&f.ctx, "{{ task_id }}/{{ task.task_id }}", "stage_users/stage_users");
    render_eq(&f.ctx, "{{ try_number }}{{ ti.try_number }}", "22");
    render_eq(&f.ctx, "n={{ params.count }}&who={{\tparams.name\t}}", "n=100&who=a b");
    render_eq(&f.ctx, "{{ params.nested.deep }}", "x");
    /* text around, no placeholder, lone braces */
    render_eq(&f.ctx, "", "");
    render_eq(&f.ctx, "plain } }} {x}", "plain } }} {x}");
    render_eq(&f.ctx, "select * from t where d = '{{ ds }}';",
              "select * from t where d = '2026-11-01';");
    /* a time with seconds and milliseconds: Python isoformat spelling */
    f.ctx.logical_date_ms = NOV1 + 6 * 3600000LL + 30 * 60000LL + 5250;
    render_eq(&f.ctx, "{{ ts }}", "2026-11-01T06:30:05.250000+00:00");
    render_eq(&f.ctx, "{{ ts_nodash }}", "20261101T063005");
    render_eq(&f.ctx, "{{ ds }}", "2026-11-01");
    /* appends to what out holds */
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_buf_puts(&b, "x="), SPATE_OK);
    assert_int_equal(spate_sched_render("{{ ds_nodash }}", &f.ctx, &b, NULL, 0), SPATE_OK);
    assert_string_equal((const char *)b.data, "x=20261101");
    spate_buf_free(&b);
    spate_conf_free(&f.conf);
}

static void test_errors(void **state) {
    (void)state;
    fx_t f;
    fx_init(&f);
    render_err(&f.ctx, "{{ nope }}", "unknown template variable 'nope'");
    render_err(&f.ctx, "a {{ execution_date }}", "unknown template variable 'execution_date'");
    render_err(&f.ctx, "ab {{ ds ", "unclosed '{{' at offset 3");
    render_err(&f.ctx, "{{ ds }} {{", "unclosed '{{' at offset 9");
    render_err(&f.ctx, "x{{  }}", "empty '{{ }}' at offset 1");
    render_err(&f.ctx, "{{ params.missing }}",
               "unknown template variable 'params.missing' (no such param)");
    render_err(&f.ctx, "{{ params.count.more }}",
               "unknown template variable 'params.count.more' (no such param)");
    render_err(&f.ctx, "{{ params.nested }}",
               "template variable 'params.nested' is not a single value");
    render_err(&f.ctx, "{{ params.list }}",
               "template variable 'params.list' is not a single value");
    render_err(&f.ctx, "{{ params. }}", "unknown template variable 'params.'");
    render_err(&f.ctx, "{{ ds | upper }}", "unknown template variable 'ds | upper'");
    char longname[300];
    memset(longname, 'a', sizeof longname);
    memcpy(longname, "{{", 2);
    memcpy(longname + sizeof longname - 3, "}}", 3);
    render_err(&f.ctx, longname, "template variable too long at offset 0");

    /* a context without DAG, task or run id */
    spate_sched_ti_ctx_t bare = {.logical_date_ms = NOV1};
    render_eq(&bare, "{{ ds }}", "2026-11-01");
    render_err(&bare, "{{ dag_id }}", "template variable 'dag_id' is not available here");
    render_err(&bare, "{{ task.task_id }}",
               "template variable 'task.task_id' is not available here");
    render_err(&bare, "{{ run_id }}", "template variable 'run_id' is not available here");
    render_err(&bare, "{{ params.count }}",
               "unknown template variable 'params.count' (no such param)");
    spate_conf_free(&f.conf);
}

static void test_conf(void **state) {
    (void)state;
    fx_t f;
    fx_init(&f);
    /* absent and empty conf: params as the DAG declares them */
    render_eq(&f.ctx, "{{ params.count }} {{ dag_run.conf }}", "100 {}");
    f.ctx.conf_json = "";
    render_eq(&f.ctx, "{{ params.count }} {{ dag_run.conf }}", "100 {}");
    f.ctx.conf_json = "{}";
    render_eq(&f.ctx, "{{ params.count }}/{{ params.nested.deep }}", "100/x");
    render_err(&f.ctx, "{{ dag_run.conf.count }}",
               "unknown template variable 'dag_run.conf.count' (not in the run's conf)");

    f.ctx.conf_json = "{\"count\":300,\"s\":\"a \\\"q\\\" \\u00e9\",\"t\":true,\"f\":false,"
                      "\"n\":null,\"r\":1.5,\"neg\":-7,\"o\":{\"k\":{\"v\":\"deep\"}},"
                      "\"a\":[1,2],\"nested\":{\"other\":1}}";
    render_eq(&f.ctx, "{{ dag_run.conf.count }}", "300");
    render_eq(&f.ctx, "{{dag_run.conf.s}}", "a \"q\" \xc3\xa9");
    render_eq(&f.ctx, "{{ dag_run.conf.t }} {{ dag_run.conf.f }} {{ dag_run.conf.n }}",
              "True False None");
    render_eq(&f.ctx, "{{ dag_run.conf.r }} {{ dag_run.conf.neg }}", "1.5 -7");
    render_eq(&f.ctx, "{{ dag_run.conf.o.k.v }}", "deep");
    render_eq(&f.ctx, "{{ dag_run.conf }}", f.ctx.conf_json);
    /* conf overrides params of the same top-level name, adds new ones,
     * and leaves the others */
    render_eq(&f.ctx, "{{ params.count }}|{{ params.name }}|{{ params.s }}",
              "300|a b|a \"q\" \xc3\xa9");
    render_eq(&f.ctx, "{{ params.o.k.v }}", "deep");
    /* "nested" is replaced whole: its old key "deep" is gone */
    render_eq(&f.ctx, "{{ params.nested.other }}", "1");
    render_err(&f.ctx, "{{ params.nested.deep }}",
               "unknown template variable 'params.nested.deep' (not in the run's conf)");
    render_err(&f.ctx, "{{ params.a }}", "template variable 'params.a' is not a single value");
    render_err(&f.ctx, "{{ dag_run.conf.o }}",
               "template variable 'dag_run.conf.o' is not a single value");
    render_err(&f.ctx, "{{ dag_run.conf.a.0 }}",
               "unknown template variable 'dag_run.conf.a.0' (not in the run's conf)");
    render_err(&f.ctx, "{{ dag_run.conf.count.x }}",
               "unknown template variable 'dag_run.conf.count.x' (not in the run's conf)");
    render_err(&f.ctx, "{{ dag_run.conf.o..k }}",
               "unknown template variable 'dag_run.conf.o..k' (not in the run's conf)");
    render_err(&f.ctx, "{{ dag_run.conf. }}", "unknown template variable 'dag_run.conf.'");
    render_err(&f.ctx, "{{ dag_run.confx }}", "unknown template variable 'dag_run.confx'");
    /* a broken stored conf is an error, not a crash */
    f.ctx.conf_json = "[1]";
    render_err(&f.ctx, "{{ dag_run.conf.x }}", "the run's conf is not a JSON object");
    render_err(&f.ctx, "{{ params.count }}", "the run's conf is not a JSON object");
    f.ctx.conf_json = "{\"count\":";
    render_err(&f.ctx, "{{ params.count }}", "the run's conf is not a JSON object");
    spate_conf_free(&f.conf);
}

static void conf_parse_eq(const char *in, const char *want) {
    char out[SPATE_SCHED_RUN_CONF_MAX], err[256] = "";
    spate_status_t st =
        spate_sched_run_conf_parse(in, in ? strlen(in) : 0, out, sizeof out, err, sizeof err);
    if (st != SPATE_OK) fail_msg("'%s': %s", in, err);
    assert_string_equal(out, want);
}

static void conf_parse_err(const char *in, size_t cap, const char *want) {
    char out[SPATE_SCHED_RUN_CONF_MAX], err[256] = "";
    assert_true(cap <= sizeof out);
    assert_int_equal(spate_sched_run_conf_parse(in, strlen(in), out, cap, err, sizeof err),
                     SPATE_EINVAL);
    if (strcmp(err, want) != 0) fail_msg("'%s': got '%s', want '%s'", in, err, want);
}

static void test_conf_parse(void **state) {
    (void)state;
    conf_parse_eq(NULL, "{}");
    conf_parse_eq("", "{}");
    conf_parse_eq(" { } ", "{}");
    /* compact, key order kept */
    conf_parse_eq("{ \"count\" : 300,\n \"a\": [1, {\"b\": null}], \"z\": \"\\u00e9\" }",
                  "{\"count\":300,\"a\":[1,{\"b\":null}],\"z\":\"\xc3\xa9\"}");
    conf_parse_err("[1]", SPATE_SCHED_RUN_CONF_MAX,
                   "conf must be a JSON object ({\"name\": value, ...})");
    conf_parse_err("\"x\"", SPATE_SCHED_RUN_CONF_MAX,
                   "conf must be a JSON object ({\"name\": value, ...})");
    conf_parse_err("{\"a\":1", SPATE_SCHED_RUN_CONF_MAX,
                   "conf is not valid JSON: '}' expected near end of file (at offset 6)");
    conf_parse_err("{\"a\":1,\"a\":2}", SPATE_SCHED_RUN_CONF_MAX,
                   "conf is not valid JSON: duplicate object key near '\"a\"' (at offset 10)");
    /* 32 levels are fine, 33 are not */
    char deep[200] = "";
    for (int i = 0; i < 32; i++) strcat(deep, i ? "[" : "{\"a\":");
    /* 1 object + 31 arrays = 32 levels */
    strcat(deep, "1");
    for (int i = 0; i < 31; i++) strcat(deep, "]");
    strcat(deep, "}");
    conf_parse_eq(deep, deep);
    char deeper[200] = "{\"a\":[";
    strcat(deeper, deep + 5); /* 33 levels: one more array around */
    deeper[strlen(deeper) - 1] = ']';
    strcat(deeper, "}");
    conf_parse_err(deeper, SPATE_SCHED_RUN_CONF_MAX, "conf is nested more than 32 levels deep");
    /* size: what fits in cap - 1 bytes, compact */
    conf_parse_eq("{\"k\": \"123\"}", "{\"k\":\"123\"}");
    char out[16], err[128];
    assert_int_equal(
        spate_sched_run_conf_parse("{\"k\": \"123456\"}", 15, out, 15, err, sizeof err),
        SPATE_OK); /* {"k":"123456"} is 14 bytes */
    assert_string_equal(out, "{\"k\":\"123456\"}");
    conf_parse_err("{\"k\": \"1234567\"}", 15, "conf is 15 bytes as compact JSON; at most 14");
    /* err may be NULL */
    assert_int_equal(spate_sched_run_conf_parse("1", 1, out, sizeof out, NULL, 0), SPATE_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_conf),
        cmocka_unit_test(test_conf_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
