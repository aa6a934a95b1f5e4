/*
 * test_stream_conf.c — pipeline.yaml loading (src/stream/stream_conf.c)
 * and the time and duration parsers (stream_util.c).
 *
 * What a user relies on: the example pipeline loads with the seed job's
 * settings; every default is what docs/stream.md says; every setting is
 * read into the job structs; and every mistake is reported as exactly
 * "file:line: message", all of them in one run (not only the first), for
 * each level of the file: top-level sections (other commands' sections
 * accepted, typos refused), stream/jobs, source, input, transform, sinks,
 * dead letter, delivery and window. Also: unreadable files, YAML syntax
 * errors, duplicate jobs, the cap on kept messages, and RFC 3339 and
 * duration text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "stream_int.h"

static spate_stream_pipeline_t *load_ok(const char *yaml) {
    spate_stream_diag_t d = {0};
    spate_stream_pipeline_t *p = NULL;
    spate_status_t st = spate_stream_pipeline_load_string(&p, "p.yaml", yaml, strlen(yaml), &d);
    if (st != SPATE_OK) {
        char first[512];
        snprintf(first, sizeof first, "%s", d.n ? d.msgs[0] : "?");
        spate_stream_diag_free(&d);
        fail_msg("load failed: %s", first);
    }
    assert_int_equal(spate_stream_diag_count(&d), 0);
    spate_stream_diag_free(&d);
    return p;
}

/* Loading must fail with exactly these messages, in this order. */
static void expect_errors(const char *yaml, const char *const *want) {
    spate_stream_diag_t d = {0};
    spate_stream_pipeline_t *p = NULL;
    spate_status_t st = spate_stream_pipeline_load_string(&p, "p.yaml", yaml, strlen(yaml), &d);
    spate_buf_t got = SPATE_BUF_INIT, exp = SPATE_BUF_INIT;
    spate_buf_puts(&got, "");
    spate_buf_puts(&exp, "");
    for (size_t i = 0; i < d.n; i++) spate_buf_printf(&got, "%s\n", d.msgs[i]);
    for (size_t i = 0; want[i]; i++) spate_buf_printf(&exp, "%s\n", want[i]);
    spate_stream_diag_free(&d);
    bool same = strcmp(got.data, exp.data) == 0;
    if (!same) fprintf(stderr, "got:\n%swant:\n%s", got.data, exp.data);
    spate_buf_free(&got);
    spate_buf_free(&exp);
    assert_int_equal(st, SPATE_EINVAL);
    assert_null(p);
    assert_true(same);
}

#define ONE(msg) ((const char *const[]){msg, NULL})

/* A valid job to put mistakes into: "%s" is more job settings, indented by
 * six spaces (lines 1-6 are fixed). */
#define JOB_HEAD                                                                                   \
    "stream:\n"                                                                                    \
    "  jobs:\n"                                                                                    \
    "    - name: j\n"                                                                              \
    "      source: {kafka: {topics: [t]}}\n"

static void job_errors(const char *more, const char *const *want) {
    char yaml[2048];
    snprintf(yaml, sizeof yaml, JOB_HEAD "%s", more);
    expect_errors(yaml, want);
}

/* ---- the example ---- */

static void test_example_pipeline(void **state) {
    (void)state;
    /* tests/unit/ → examples/pipeline.yaml */
    char path[1024];
    snprintf(path, sizeof path, "%s", __FILE__);
    char *slash = strrchr(path, '/');
    assert_non_null(slash);
    *slash = '\0';
    strcat(path, "/../../examples/pipeline.yaml");
    spate_stream_diag_t d = {0};
    spate_stream_pipeline_t *p = NULL;
    spate_status_t st = spate_stream_pipeline_load_file(&p, path, &d);
    if (st != SPATE_OK) fail_msg("%s", d.n ? d.msgs[0] : "?");
    spate_stream_diag_free(&d);
    assert_int_equal(spate_stream_pipeline_njobs(p), 1);
    const spate_stream_job_t *j = spate_stream_pipeline_find(p, "created_users");
    assert_non_null(j);
    assert_ptr_equal(j, spate_stream_pipeline_job(p, 0));
    assert_null(spate_stream_pipeline_job(p, 1));
    assert_null(spate_stream_pipeline_find(p, "nope"));
    assert_string_equal(j->source.bootstrap, "127.0.0.1:9092");
    assert_int_equal(j->source.ntopics, 1);
    assert_string_equal(j->source.topics[0], "users_created");
    assert_string_equal(j->source.group, "spate-stream");
    assert_int_equal(j->source.start, SPATE_STREAM_START_EARLIEST);
    assert_int_equal(j->input, SPATE_STREAM_INPUT_FORMATTED);
    assert_int_equal(spate_stream_prog_steps(j->prog), 2);
    assert_int_equal(j->sink.kind, SPATE_STREAM_SINK_CQL);
    assert_int_equal(j->sink.cql.ncontact, 1);
    assert_string_equal(j->sink.cql.contact_points[0], "127.0.0.1:9042");
    assert_string_equal(j->sink.cql.keyspace, "spark_streams");
    assert_string_equal(j->sink.cql.table, "created_users");
    assert_true(j->sink.cql.create);
    assert_int_equal(j->sink.cql.consistency, 0x000A);
    assert_string_equal(j->dead_letter_topic, "users_created_dlq");
    assert_int_equal(j->delivery.retries, -1);
    assert_false(j->window.enabled);

    /* The example's mapping on a format_user record: the 12 columns. */
    static const char rec[] =
        "{\"id\":\"35F27995-5AC0-5807-B8B6-0246C45D22BD\",\"first_name\":\"Laura\","
        "\"last_name\":\"Woods\",\"gender\":\"female\",\"address\":\"a\",\"post_code\":\"93771\","
        "\"email\":\"e\",\"username\":\"u\",\"dob\":\"d\",\"registered_date\":\"r\","
        "\"phone\":\"p\",\"picture\":\"x\",\"extra\":true}";
    spate_stream_record_t r = {0};
    spate_stream_runner_t run;
    spate_stream_runner_init(&run);
    spate_stream_record_set(&r, rec, sizeof rec - 1);
    assert_int_equal(spate_stream_prog_run(j->prog, &r, &run), SPATE_STREAM_PASS);
    assert_int_equal(json_object_size(r.value), 12);
    assert_string_equal(json_string_value(json_object_get(r.value, "id")),
                        "35f27995-5ac0-5807-b8b6-0246c45d22bd");
    spate_stream_record_clear(&r);
    spate_stream_runner_free(&run);
    spate_stream_pipeline_free(p);
}

/* ---- defaults and every setting ---- */

static void test_defaults(void **state) {
    (void)state;
    spate_stream_pipeline_t *p = load_ok(JOB_HEAD "      sink: {stdout: {}}\n"
                                                  "    - name: k\n"
                                                  "      source: {kafka: {topics: [a, b]}}\n"
                                                  "      sink: {cql: {keyspace: ks, table: t}}\n"
                                                  "    - name: s\n"
                                                  "      source: {kafka: {topics: [a]}}\n"
                                                  "      sink:\n"
                                                  "        stdout:\n");
    assert_int_equal(spate_stream_pipeline_njobs(p), 3);
    const spate_stream_job_t *j = spate_stream_pipeline_job(p, 0);
    assert_string_equal(j->name, "j");
    assert_int_equal(j->line, 3);
    assert_string_equal(j->source.bootstrap, "127.0.0.1:9092");
    assert_string_equal(j->source.group, "spate-stream-j");
    assert_int_equal(j->source.start, SPATE_STREAM_START_EARLIEST);
    assert_int_equal(j->source.nprops, 0);
    assert_int_equal(j->input, SPATE_STREAM_INPUT_FORMATTED);
    assert_int_equal(spate_stream_prog_steps(j->prog), 1);
    assert_int_equal(j->sink.kind, SPATE_STREAM_SINK_STDOUT);
    assert_int_equal(j->sink.line, 5);
    assert_null(j->dead_letter_topic);
    assert_int_equal(j->delivery.max_in_flight, 10000);
    assert_int_equal(j->delivery.retries, -1);
    assert_int_equal(j->delivery.backoff_ms, 100);
    assert_int_equal(j->delivery.backoff_max_ms, 10000);
    assert_int_equal(j->delivery.commit_interval_ms, 1000);
    assert_false(j->window.enabled);

    j = spate_stream_pipeline_job(p, 1);
    assert_string_equal(j->source.group, "spate-stream-k");
    assert_int_equal(j->source.ntopics, 2);
    assert_string_equal(j->source.topics[1], "b");
    assert_int_equal(j->sink.kind, SPATE_STREAM_SINK_CQL);
    assert_int_equal(j->sink.cql.ncontact, 1);
    assert_string_equal(j->sink.cql.contact_points[0], "127.0.0.1:9042");
    assert_false(j->sink.cql.create);
    assert_int_equal(j->sink.cql.consistency, 0x000A); /* LOCAL_ONE */
    assert_int_equal(j->sink.cql.concurrency, 512);
    assert_int_equal(j->sink.cql.batch_rows, 100);
    assert_int_equal(j->sink.cql.batch_bytes, 5120);
    assert_false(j->sink.cql.server_timestamps);
    assert_int_equal(spate_stream_pipeline_job(p, 2)->sink.kind, SPATE_STREAM_SINK_STDOUT);
    spate_stream_pipeline_free(p);
}

static const char full_yaml[] =
    "log_level: debug\n"                                   /* 1 */
    "broker: {listen: 127.0.0.1:9092, whatever: [1, 2]}\n" /* 2 */
    "cql: {listen: 127.0.0.1:9042}\n"                      /* 3 */
    "randomuser: {}\n"                                     /* 4 */
    "scheduler: {}\n"                                      /* 5 */
    "dags: []\n"                                           /* 6 */
    "up: {}\n"                                             /* 7 */
    "web: {}\n"                                            /* 8 */
    "stream:\n"                                            /* 9 */
    "  jobs:\n"                                            /* 10 */
    "    - name: users.pg-1\n"                             /* 11 */
    "      source:\n"                                      /* 12 */
    "        kafka:\n"                                     /* 13 */
    "          bootstrap: k1:9092,k2:9092\n"               /* 14 */
    "          topics: [users_created, more.users]\n"      /* 15 */
    "          group: g1\n"                                /* 16 */
    "          start: 2024-05-01T12:00:00.250+02:00\n"     /* 17 */
    "          properties:\n"                              /* 18 */
    "            fetch.min.bytes: 1024\n"                  /* 19 */
    "            client.id: spate\n"                       /* 20 */
    "      input: raw\n"                                   /* 21 */
    "      transform:\n"                                   /* 22 */
    "        - filter: nat == \"GB\"\n"                    /* 23 */
    "        - format_user\n"                              /* 24 */
    "        - map: {cast: {id: uuid}}\n"                  /* 25 */
    "      sink:\n"                                        /* 26 */
    "        postgres:\n"                                  /* 27 */
    "          url: postgresql://u:p@localhost/db\n"       /* 28 */
    "          table: staging.users\n"                     /* 29 */
    "          key: [id]\n"                                /* 30 */
    "      dead_letter: {topic: users_dlq}\n"              /* 31 */
    "      delivery: {max_in_flight: 5, retries: 3, backoff_ms: 0, backoff_max_ms: 0, "
    "commit_interval_ms: 0}\n"          /* 32 */
    "      window:\n"                   /* 33 */
    "        type: hopping\n"           /* 34 */
    "        time: $.registered.date\n" /* 35 */
    "        size: 1m\n"                /* 36 */
    "        hop: 10s\n"                /* 37 */
    "        watermark_delay: 5000\n"   /* 38 */
    "        allowed_lateness: 2h\n"    /* 39 */
    "        group_by: [nat, gender]\n" /* 40 */
    "        aggregate: count\n"        /* 41 */
    "        sink: {cql: {contact_points: [a, 'b:9043'], keyspace: w, table: per_min, "
    "create: yes, consistency: QUORUM, concurrency: 1, batch_rows: 1, batch_bytes: 2048, "
    "timestamps: server}}\n"                                                  /* 42 */
    "    - name: files\n"                                                     /* 43 */
    "      source: {kafka: {topics: [x], start: latest}}\n"                   /* 44 */
    "      sink: {file: {path: /tmp/out.jsonl}}\n"                            /* 45 */
    "    - name: copy\n"                                                      /* 46 */
    "      source: {kafka: {topics: [x], start: \"2024-01-01\"}}\n"           /* 47 */
    "      sink: {postgres: {url: 'host=x', table: t, mode: copy}}\n"         /* 48 */
    "    - name: windowed\n"                                                  /* 49 */
    "      source: {kafka: {topics: [x]}}\n"                                  /* 50 */
    "      window: {time: ts, size: 30s, sink: {stdout: {}}}\n"               /* 51 */
    "    - name: kept\n"                                                      /* 52 */
    "      source: {kafka: {topics: [x]}}\n"                                  /* 53 */
    "      window: {time: ts, size: 1h, retention: 0, sink: {stdout: {}}}\n"; /* 54 */

static void test_every_setting(void **state) {
    (void)state;
    spate_stream_pipeline_t *p = load_ok(full_yaml);
    assert_int_equal(spate_stream_pipeline_njobs(p), 5);
    const spate_stream_job_t *j = spate_stream_pipeline_job(p, 0);
    assert_string_equal(j->name, "users.pg-1");
    assert_int_equal(j->line, 11);
    assert_string_equal(j->source.bootstrap, "k1:9092,k2:9092");
    assert_int_equal(j->source.ntopics, 2);
    assert_string_equal(j->source.topics[0], "users_created");
    assert_string_equal(j->source.topics[1], "more.users");
    assert_string_equal(j->source.group, "g1");
    assert_int_equal(j->source.start, SPATE_STREAM_START_TIME);
    /* 2024-05-01T10:00:00.250Z */
    assert_int_equal(j->source.start_ms, 1714557600250LL);
    assert_int_equal(j->source.nprops, 2);
    assert_string_equal(j->source.props[0].key, "fetch.min.bytes");
    assert_string_equal(j->source.props[0].value, "1024");
    assert_string_equal(j->source.props[1].key, "client.id");
    assert_string_equal(j->source.props[1].value, "spate");
    assert_int_equal(j->input, SPATE_STREAM_INPUT_RAW);
    assert_int_equal(spate_stream_prog_steps(j->prog), 4); /* json filter format_user map */
    assert_int_equal(j->sink.kind, SPATE_STREAM_SINK_POSTGRES);
    assert_int_equal(j->sink.line, 26); /* the line of `sink:` */
    assert_string_equal(j->sink.pg.url, "postgresql://u:p@localhost/db");
    assert_string_equal(j->sink.pg.table, "staging.users");
    assert_int_equal(j->sink.pg.nkey, 1);
    assert_string_equal(j->sink.pg.key[0], "id");
    assert_int_equal(j->sink.pg.mode, SPATE_STREAM_PG_UPSERT);
    assert_string_equal(j->dead_letter_topic, "users_dlq");
    assert_int_equal(j->delivery.max_in_flight, 5);
    assert_int_equal(j->delivery.retries, 3);
    assert_int_equal(j->delivery.backoff_ms, 0);
    assert_int_equal(j->delivery.backoff_max_ms, 0);
    assert_int_equal(j->delivery.commit_interval_ms, 0);
    const spate_stream_window_conf_t *w = &j->window;
    assert_true(w->enabled);
    assert_int_equal(w->line, 33);
    assert_int_equal(w->kind, SPATE_STREAM_WINDOW_HOPPING);
    assert_string_equal(spate_stream_path_text(w->time), "$.registered.date");
    assert_int_equal(w->size_ms, 60000);
    assert_int_equal(w->hop_ms, 10000);
    assert_int_equal(w->watermark_ms, 5000);
    assert_int_equal(w->lateness_ms, 7200000);
    assert_int_equal(w->ngroup_by, 2);
    assert_string_equal(spate_stream_path_text(w->group_by[1]), "gender");
    assert_int_equal(w->aggregate, SPATE_STREAM_AGG_COUNT);
    assert_int_equal(w->sink.kind, SPATE_STREAM_SINK_CQL);
    assert_int_equal(w->sink.cql.ncontact, 2);
    assert_string_equal(w->sink.cql.contact_points[1], "b:9043");
    assert_string_equal(w->sink.cql.table, "per_min");
    assert_true(w->sink.cql.create);
    assert_int_equal(w->sink.cql.consistency, 0x0004);
    assert_int_equal(w->sink.cql.concurrency, 1);
    assert_int_equal(w->sink.cql.batch_rows, 1);
    assert_int_equal(w->sink.cql.batch_bytes, 2048);
    assert_true(w->sink.cql.server_timestamps);
    /* The window's paths read records. */
    json_t *rec = json_pack("{s:{s:s},s:s}", "registered", "date", "2020", "nat", "GB");
    assert_string_equal(json_string_value(spate_stream_path_get(w->time, rec)), "2020");
    assert_string_equal(json_string_value(spate_stream_path_get(w->group_by[0], rec)), "GB");
    assert_null(spate_stream_path_get(w->group_by[1], rec));
    json_decref(rec);

    j = spate_stream_pipeline_find(p, "files");
    assert_int_equal(j->source.start, SPATE_STREAM_START_LATEST);
    assert_int_equal(j->sink.kind, SPATE_STREAM_SINK_FILE);
    assert_string_equal(j->sink.file.path, "/tmp/out.jsonl");

    j = spate_stream_pipeline_find(p, "copy");
    assert_int_equal(j->source.start, SPATE_STREAM_START_TIME);
    assert_int_equal(j->source.start_ms, 1704067200000LL);
    assert_int_equal(j->sink.pg.mode, SPATE_STREAM_PG_COPY);
    assert_int_equal(j->sink.pg.nkey, 0);
    assert_false(j->sink.pg.create); /* the default */

    /* A window alone is enough; tumbling: hop = size. */
    j = spate_stream_pipeline_find(p, "windowed");
    assert_int_equal(j->sink.kind, SPATE_STREAM_SINK_NONE);
    assert_int_equal(j->window.kind, SPATE_STREAM_WINDOW_TUMBLING);
    assert_int_equal(j->window.size_ms, 30000);
    assert_int_equal(j->window.hop_ms, 30000);
    assert_int_equal(j->window.watermark_ms, 0);
    assert_int_equal(j->window.lateness_ms, 0);
    assert_int_equal(j->window.retention_ms, 7 * 86400000LL); /* the partials' default TTL */
    assert_int_equal(j->window.ngroup_by, 0);
    assert_int_equal(j->window.sink.kind, SPATE_STREAM_SINK_STDOUT);
    /* retention 0: partials kept until deleted (no TTL) */
    assert_int_equal(spate_stream_pipeline_find(p, "kept")->window.retention_ms, 0);
    spate_stream_pipeline_free(p);
}

/* ---- errors: the top level ---- */

static void test_top_level_errors(void **state) {
    (void)state;
    expect_errors("", ONE("p.yaml:1: no stream jobs (expected a 'stream:' section with 'jobs:')"));
    expect_errors("- a\n", ONE("p.yaml:1: expected a mapping of sections (stream:, broker:, ...), "
                               "got a list"));
    expect_errors("broker: {}\n",
                  ONE("p.yaml:1: no 'stream:' section (expected 'stream: jobs: [...]')"));
    expect_errors("stream: 1\n", ONE("p.yaml:1: key 'stream': expected a mapping with 'jobs', got "
                                     "a value"));
    expect_errors("stream: {}\n", ONE("p.yaml:1: key 'stream': 'jobs' is required"));
    expect_errors("stream: {jobs: []}\n",
                  ONE("p.yaml:1: key 'jobs': expected a list of jobs, got an empty list"));
    expect_errors("stream: {jobs: {a: 1}}\n", ONE("p.yaml:1: key 'jobs': expected a list of jobs"));
    expect_errors("stream:\n  jobs:\n    - j\n",
                  ONE("p.yaml:3: expected a job (a mapping with name, source, sink, ...), got a "
                      "value"));
    expect_errors("stream: {jobs: [], jbos: 1}\n",
                  (const char *const[]){"p.yaml:1: key 'jbos': unknown setting (expected jobs)",
                                        "p.yaml:1: key 'jobs': expected a list of jobs, got an "
                                        "empty list",
                                        NULL});
    /* Typos at the top level are refused; other commands' sections are
     * not ours to check (beyond log_level, which spate stream uses). */
    expect_errors("strem: {}\nlog_level: loud\nbroker: {anything: [goes]}\n",
                  (const char *const[]){
                      "p.yaml:1: key 'strem': unknown section (expected stream, log_level, "
                      "randomuser, broker, cql, scheduler, dags, up or web)",
                      "p.yaml:2: key 'log_level': expected debug, info, warn, error or off",
                      "p.yaml:1: no 'stream:' section (expected 'stream: jobs: [...]')", NULL});
    /* YAML syntax errors come from the loader, with the line. */
    expect_errors("stream:\n  jobs: [a\n", ONE("p.yaml:3: YAML error: did not find expected ',' or "
                                               "']' while parsing a flow sequence"));
}

static void test_unreadable_file(void **state) {
    (void)state;
    spate_stream_diag_t d = {0};
    spate_stream_pipeline_t *p = NULL;
    assert_int_equal(spate_stream_pipeline_load_file(&p, "/nonexistent/p.yaml", &d), SPATE_EIO);
    assert_null(p);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.msgs[0], "/nonexistent/p.yaml: cannot open: No such file or directory");
    spate_stream_diag_free(&d);
}

/* ---- errors: a job and its source ---- */

static void test_job_errors(void **state) {
    (void)state;
    expect_errors("stream:\n  jobs:\n    - sink: {stdout: {}}\n      nmae: x\n",
                  (const char *const[]){
                      "p.yaml:4: key 'nmae': unknown setting (expected name, source, input, "
                      "transform, sink, dead_letter, delivery, window)",
                      "p.yaml:3: 'name' is required", "p.yaml:3: 'source' is required", NULL});
    expect_errors("stream:\n  jobs:\n    - name: 'a/b'\n      source: {kafka: {topics: [t]}}\n",
                  (const char *const[]){"p.yaml:3: key 'name': 'a/b' is not a job name (letters, "
                                        "digits, '.', '_', '-'; at most 100)",
                                        "p.yaml:3: a job needs a sink (or a window with its own "
                                        "sink)",
                                        NULL});
    /* Duplicate names. */
    expect_errors(JOB_HEAD "      sink: {stdout: {}}\n"
                           "    - name: j\n"
                           "      source: {kafka: {topics: [t]}}\n"
                           "      sink: {stdout: {}}\n",
                  ONE("p.yaml:6: key 'name': job 'j' is defined twice (first on line 3)"));
    /* Source. */
    expect_errors(
        "stream:\n  jobs:\n    - name: j\n      source: {kafka: {topics: users_created}}\n"
        "      sink: {stdout: {}}\n",
        ONE("p.yaml:4: key 'topics': expected a list of strings"));
    expect_errors("stream:\n  jobs:\n    - name: j\n      source: {file: {}}\n"
                  "      sink: {stdout: {}}\n",
                  (const char *const[]){"p.yaml:4: key 'file': unknown setting (expected kafka)",
                                        "p.yaml:4: key 'source': 'kafka' is required", NULL});
    expect_errors(
        "stream:\n  jobs:\n    - name: j\n      source: kafka\n      sink: {stdout: {}}\n",
        ONE("p.yaml:4: key 'source': expected a mapping, got a value"));
    expect_errors("stream:\n"
                  "  jobs:\n"
                  "    - name: j\n"
                  "      source:\n"
                  "        kafka:\n"
                  "          topcs: [t]\n"
                  "          bootstrap: [a]\n"
                  "          start: yesterday\n"
                  "          group: ''\n"
                  "      sink: {stdout: {}}\n",
                  (const char *const[]){
                      "p.yaml:6: key 'topcs': unknown setting (expected bootstrap, topics, group, "
                      "start, properties)",
                      "p.yaml:7: key 'bootstrap': expected a string, got a list",
                      "p.yaml:5: key 'kafka': 'topics' is required",
                      "p.yaml:9: key 'group': expected a string, got nothing",
                      "p.yaml:8: key 'start': expected earliest, latest or an RFC 3339 timestamp, "
                      "got 'yesterday'",
                      NULL});
    expect_errors("stream:\n"
                  "  jobs:\n"
                  "    - name: j\n"
                  "      source:\n"
                  "        kafka:\n"
                  "          topics: [t, 'bad topic', t, [x], '']\n"
                  "      sink: {stdout: {}}\n",
                  (const char *const[]){
                      "p.yaml:6: key 'topics': expected a list of strings (item on line 6 is a "
                      "list)",
                      "p.yaml:6: key 'topics': expected a list of strings (item on line 6 is "
                      "empty)",
                      NULL});
    expect_errors("stream:\n"
                  "  jobs:\n"
                  "    - name: j\n"
                  "      source:\n"
                  "        kafka:\n"
                  "          topics: [t, 'bad topic', t]\n"
                  "      sink: {stdout: {}}\n",
                  (const char *const[]){
                      "p.yaml:6: key 'topics': 'bad topic' is not a valid topic name (letters, "
                      "digits, '.', '_', '-')",
                      "p.yaml:6: key 'topics': topic 't' is listed twice", NULL});
    expect_errors("stream:\n"
                  "  jobs:\n"
                  "    - name: j\n"
                  "      source:\n"
                  "        kafka:\n"
                  "          topics: []\n"
                  "          properties:\n"
                  "            group.id: x\n"
                  "            enable.auto.commit: true\n"
                  "            fetch.max.bytes: [1]\n"
                  "            bootstrap.servers: b\n"
                  "      sink: {stdout: {}}\n",
                  (const char *const[]){
                      "p.yaml:6: key 'topics': expected a list of strings, got an empty list",
                      "p.yaml:8: key 'group.id': set by spate: use 'group' instead",
                      "p.yaml:9: key 'enable.auto.commit': set by spate: offsets are stored and "
                      "committed only after the sink has acknowledged the records",
                      "p.yaml:10: key 'fetch.max.bytes': expected a value, got a list",
                      "p.yaml:11: key 'bootstrap.servers': set by spate: use 'bootstrap' instead",
                      NULL});
    job_errors("      input: cooked\n      sink: {stdout: {}}\n",
               ONE("p.yaml:5: key 'input': expected formatted or raw, got 'cooked'"));
    /* Transform errors come through with their lines. */
    job_errors("      transform:\n        - map: {cast: {x: float}}\n      sink: {stdout: {}}\n",
               ONE("p.yaml:6: key 'x': unknown type 'float' (expected text, int, bigint, double, "
                   "boolean, uuid or timestamp)"));
    job_errors("      transform: [format_user]\n      sink: {stdout: {}}\n",
               ONE("p.yaml:5: format_user needs 'input: raw' (formatted input is format_user "
                   "output already)"));
}

/* ---- errors: sinks, dead letter, delivery ---- */

static void test_sink_errors(void **state) {
    (void)state;
    job_errors("      sink: {}\n", ONE("p.yaml:5: key 'sink': expected one of cql, postgres, file "
                                       "or stdout"));
    job_errors("      sink: stdout\n", ONE("p.yaml:5: key 'sink': expected one of cql, postgres, "
                                           "file or stdout"));
    job_errors("      sink: {stdout: {}, file: {path: x}}\n",
               ONE("p.yaml:5: key 'sink': expected one of cql, postgres, file or stdout (a sink is "
                   "exactly one of them)"));
    job_errors("      sink: {kafka: {}}\n",
               ONE("p.yaml:5: key 'kafka': unknown sink (expected cql, postgres, file or stdout)"));
    job_errors("      sink: {stdout: {pretty: true}}\n",
               ONE("p.yaml:5: key 'pretty': unknown setting (none are expected here)"));
    job_errors("      sink: {stdout: yes}\n",
               ONE("p.yaml:5: key 'stdout': expected {} (stdout has no settings)"));
    job_errors("      sink: {file: {}}\n", ONE("p.yaml:5: key 'file': 'path' is required"));
    job_errors("      sink: {cql: 1}\n",
               ONE("p.yaml:5: key 'cql': expected a mapping of settings, got a value"));
    job_errors("      sink:\n"
               "        cql:\n"
               "          keyspace: 9ks\n"
               "          contact_points: 127.0.0.1\n"
               "          consistency: serial\n"
               "          concurrency: 0\n"
               "          batch_rows: lots\n"
               "          create: maybe\n"
               "          timestamps: sometimes\n"
               "          batch_bytes: 0\n",
               (const char *const[]){
                   "p.yaml:8: key 'contact_points': expected a list of strings",
                   "p.yaml:7: key 'keyspace': '9ks' is not a keyspace name (a letter, then "
                   "letters, digits, '_'; at most 48)",
                   "p.yaml:6: key 'cql': 'table' is required",
                   "p.yaml:12: key 'create': expected true or false, got 'maybe'",
                   "p.yaml:9: key 'consistency': expected any, one, two, three, quorum, all, "
                   "local_quorum, each_quorum or local_one, got 'serial'",
                   "p.yaml:10: key 'concurrency': 0 is out of range [1, 32767]",
                   "p.yaml:11: key 'batch_rows': expected an integer, got 'lots'",
                   "p.yaml:13: key 'timestamps': expected client or server, got 'sometimes'",
                   "p.yaml:14: key 'batch_bytes': 0 is out of range [1, 1048576]", NULL});
    job_errors("      sink: {postgres: {url: x, table: 'a.b.c', mode: merge}}\n",
               (const char *const[]){
                   "p.yaml:5: key 'table': 'a.b.c' is not a table name (name or schema.name)",
                   "p.yaml:5: key 'mode': expected upsert or copy, got 'merge'",
                   "p.yaml:5: key 'postgres': 'key' is required", NULL});
    job_errors("      sink: {postgres: {table: t, key: [id, 'bad col'], tabel: x}}\n",
               (const char *const[]){"p.yaml:5: key 'tabel': unknown setting (expected url, table, "
                                     "key, mode, create)",
                                     "p.yaml:5: key 'postgres': 'url' is required",
                                     "p.yaml:5: key 'key': 'bad col' is not a column name", NULL});
    /* create: true makes the table's PRIMARY KEY of `key`: refused without
     * one, even in copy mode (where key is otherwise optional) */
    job_errors("      sink:\n"
               "        postgres:\n"
               "          url: x\n"
               "          table: t\n"
               "          mode: copy\n"
               "          create: true\n",
               ONE("p.yaml:10: key 'create': create: true needs 'key' (the created table's "
                   "primary key)"));
    job_errors("      sink: {postgres: {url: x, table: t, create: yes}}\n",
               (const char *const[]){"p.yaml:5: key 'postgres': 'key' is required",
                                     "p.yaml:5: key 'create': create: true needs 'key' (the "
                                     "created table's primary key)",
                                     NULL});
    job_errors("      sink: {postgres: {url: x, table: t, key: [id], create: 2}}\n",
               ONE("p.yaml:5: key 'create': expected true or false, got '2'"));
}

/* postgres create: true with a key, in both modes. */
static void test_pg_create(void **state) {
    (void)state;
    spate_stream_pipeline_t *p =
        load_ok(JOB_HEAD "      sink: {postgres: {url: x, table: s.t, key: [a, b], create: true}}\n"
                         "    - name: k\n"
                         "      source: {kafka: {topics: [t]}}\n"
                         "      sink: {postgres: {url: x, table: t, key: [id], mode: copy, "
                         "create: yes}}\n");
    const spate_stream_job_t *j = spate_stream_pipeline_job(p, 0);
    assert_true(j->sink.pg.create);
    assert_int_equal(j->sink.pg.mode, SPATE_STREAM_PG_UPSERT);
    assert_int_equal(j->sink.pg.nkey, 2);
    assert_string_equal(j->sink.pg.key[1], "b");
    j = spate_stream_pipeline_job(p, 1);
    assert_true(j->sink.pg.create);
    assert_int_equal(j->sink.pg.mode, SPATE_STREAM_PG_COPY);
    assert_int_equal(j->sink.pg.nkey, 1);
    spate_stream_pipeline_free(p);
}

static void test_dead_letter_and_delivery_errors(void **state) {
    (void)state;
    job_errors("      sink: {stdout: {}}\n      dead_letter: {topic: t}\n",
               ONE("p.yaml:6: key 'topic': the dead-letter topic cannot be a source topic ('t')"));
    job_errors("      sink: {stdout: {}}\n      dead_letter: {topc: x}\n",
               (const char *const[]){"p.yaml:6: key 'topc': unknown setting (expected topic)",
                                     "p.yaml:6: key 'dead_letter': 'topic' is required", NULL});
    job_errors("      sink: {stdout: {}}\n      dead_letter: {topic: 'a b'}\n",
               ONE("p.yaml:6: key 'topic': 'a b' is not a valid topic name (letters, digits, '.', "
                   "'_', '-')"));
    job_errors("      sink: {stdout: {}}\n      dead_letter: users_dlq\n",
               ONE("p.yaml:6: key 'dead_letter': expected a mapping, got a value"));
    job_errors("      sink: {stdout: {}}\n"
               "      delivery:\n"
               "        max_in_flight: 0\n"
               "        retries: -2\n"
               "        backoff_ms: 500\n"
               "        backoff_max_ms: 100\n"
               "        commit_interval_ms: '1000'\n"
               "        retry: 1\n",
               (const char *const[]){
                   "p.yaml:12: key 'retry': unknown setting (expected max_in_flight, retries, "
                   "backoff_ms, backoff_max_ms, commit_interval_ms)",
                   "p.yaml:7: key 'max_in_flight': 0 is out of range [1, 10000000]",
                   "p.yaml:8: key 'retries': -2 is out of range [-1, 1000000]",
                   "p.yaml:11: key 'commit_interval_ms': expected an integer, got '1000'",
                   "p.yaml:10: key 'backoff_max_ms': backoff_max_ms (100) is below backoff_ms "
                   "(500)",
                   NULL});
}

/* ---- errors: windows ---- */

static void test_window_errors(void **state) {
    (void)state;
    job_errors("      window: {}\n",
               (const char *const[]){"p.yaml:5: key 'window': 'time' is required",
                                     "p.yaml:5: key 'window': 'size' is required",
                                     "p.yaml:5: key 'window': 'sink' is required (where the window "
                                     "results go)",
                                     NULL});
    job_errors("      window: {time: 'a..b', size: 1w, hop: 0, type: sliding, aggregate: sum,\n"
               "               group_by: [x, '$'], watermark_delay: -1s, sink: {stdout: {}}}\n",
               (const char *const[]){
                   "p.yaml:5: key 'time': invalid path 'a..b': expected a field name after '.' at "
                   "column 3",
                   "p.yaml:5: key 'size': expected a duration such as 500ms, 30s, 1m or 2h, got 1w",
                   "p.yaml:5: key 'hop': 0 is out of range (at least 1ms)",
                   "p.yaml:5: key 'type': expected tumbling or hopping, got 'sliding'",
                   "p.yaml:6: key 'watermark_delay': expected a duration such as 500ms, 30s, 1m "
                   "or 2h, got -1s",
                   "p.yaml:6: key 'group_by': invalid path '$': expected '.' or '[' after '$' at "
                   "column 2",
                   "p.yaml:5: key 'aggregate': expected count, got 'sum'", NULL});
    job_errors("      window: {time: t, size: 1m, hop: 2m, sink: {stdout: {}}}\n",
               ONE("p.yaml:5: key 'hop': hop (120000ms) is longer than size (60000ms)"));
    job_errors("      window: {time: t, size: 1m, hop: 7s, sink: {stdout: {}}}\n",
               ONE("p.yaml:5: key 'hop': size (60000ms) must be a whole multiple of hop (7000ms)"));
    job_errors("      window: {time: t, size: 1h, hop: 1s, sink: {stdout: {}}}\n",
               ONE("p.yaml:5: key 'hop': size / hop is 3600; at most 1000 windows per record"));
    job_errors("      window: {type: tumbling, time: t, size: 1m, hop: 1m, sink: {stdout: {}}}\n",
               ONE("p.yaml:5: key 'hop': a tumbling window has no hop (its hop is its size)"));
    job_errors("      window: {type: hopping, time: t, size: 1m, sink: {stdout: {}}}\n",
               ONE("p.yaml:5: key 'type': a hopping window needs 'hop'"));
    /* retention is the partials' TTL: whole seconds up to Cassandra's 20 years, or 0 */
    job_errors("      window: {time: t, size: 1m, retention: 500ms, sink: {stdout: {}}}\n",
               ONE("p.yaml:5: key 'retention': retention is a TTL: 0 (for ever) or 1s to 20 "
                   "years (7300d)"));
    job_errors("      window: {time: t, size: 1m, retention: 7301d, sink: {stdout: {}}}\n",
               ONE("p.yaml:5: key 'retention': retention is a TTL: 0 (for ever) or 1s to 20 "
                   "years (7300d)"));
    job_errors("      window: {time: t, size: 1m, sink: {}}\n",
               ONE("p.yaml:5: key 'sink': expected one of cql, postgres, file or stdout"));
    job_errors("      window: {time: t, size: 1m, group_by: [a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q],\n"
               "               sink: {stdout: {}}}\n",
               ONE("p.yaml:5: key 'group_by': at most 16 group-by fields"));
}

/* Every mistake of a file is reported, not only the first; the number
 * kept is capped and the rest counted. */
static void test_many_errors(void **state) {
    (void)state;
    spate_buf_t b = SPATE_BUF_INIT;
    spate_buf_puts(&b, JOB_HEAD "      sink: {stdout: {}}\n");
    for (int i = 0; i < 150; i++) spate_buf_printf(&b, "      typo%d: 1\n", i);
    spate_stream_diag_t d = {0};
    spate_stream_pipeline_t *p = NULL;
    assert_int_equal(spate_stream_pipeline_load_string(&p, "p.yaml", b.data, b.len, &d),
                     SPATE_EINVAL);
    assert_int_equal(d.n, SPATE_STREAM_DIAG_MAX);
    assert_int_equal(d.dropped, 50);
    assert_int_equal(spate_stream_diag_count(&d), 150);
    assert_string_equal(d.msgs[0], "p.yaml:6: key 'typo0': unknown setting (expected name, source, "
                                   "input, transform, sink, dead_letter, delivery, window)");
    assert_string_equal(d.msgs[99], "p.yaml:105: key 'typo99': unknown setting (expected name, "
                                    "source, input, transform, sink, dead_letter, delivery, "
                                    "window)");
    spate_stream_diag_free(&d);
    spate_buf_free(&b);
    /* A NULL diag is allowed (the status alone). */
    assert_int_equal(spate_stream_pipeline_load_string(&p, "p.yaml", "x: 1\n", 5, NULL),
                     SPATE_EINVAL);
}

/* ---- time and durations ---- */

static void test_parse_time(void **state) {
    (void)state;
    static const struct {
        const char *s;
        int64_t ms;
    } good[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"1970-01-01", 0},
        {"2007-07-09T05:51:59.390Z", 1183960319390LL},
        {"2007-07-09t05:51:59.39z", 1183960319390LL},
        {"2007-07-09 05:51:59.3901234", 1183960319390LL},
        {"2007-07-09T07:51:59.390+02:00", 1183960319390LL},
        {"2007-07-09T01:21:59.390-0430", 1183960319390LL},
        {"2024-02-29T23:59:60Z", 1709251200000LL},
        {"1969-12-31T23:59:59.999Z", -1},
        {"0001-01-01T00:00:00Z", -62135596800000LL},
        {"9999-12-31T23:59:59Z", 253402300799000LL},
        {"2000-02-29", 951782400000LL},
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(good); i++) {
        int64_t ms = 42;
        if (spate_stream_parse_time(good[i].s, strlen(good[i].s), &ms) != SPATE_OK)
            fail_msg("'%s' refused", good[i].s);
        if (ms != good[i].ms) fail_msg("'%s': %lld", good[i].s, (long long)ms);
    }
    static const char *const bad[] = {
        "",
        "2007",
        "2007-7-09",
        "2007-07-09T",
        "2007-07-09T05:51",
        "2023-02-29",
        "1900-02-29",
        "2007-13-01",
        "2007-00-01",
        "2007-04-31",
        "2007-07-09T24:00:00Z",
        "2007-07-09T05:60:00Z",
        "2007-07-09T05:51:61Z",
        "2007-07-09T05:51:59.Z",
        "2007-07-09T05:51:59+2",
        "2007-07-09T05:51:59+24:00",
        "2007-07-09T05:51:59Zjunk",
        "2007-07-09X05:51:59",
        "2007-07-09T05:51:59 ",
        " 2007-07-09",
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(bad); i++) {
        int64_t ms = 42;
        if (spate_stream_parse_time(bad[i], strlen(bad[i]), &ms) != SPATE_EINVAL)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(ms, 42);
    }
    /* Length-bounded: the bytes after n are not read. */
    int64_t ms;
    assert_int_equal(spate_stream_parse_time("2007-07-09garbage", 10, &ms), SPATE_OK);
    assert_int_equal(ms, 1183939200000LL);
}

static void test_parse_duration(void **state) {
    (void)state;
    static const struct {
        const char *s;
        int64_t ms;
    } good[] = {
        {"0", 0},      {"250", 250},    {"250ms", 250},   {"30s", 30000},
        {"1m", 60000}, {"2h", 7200000}, {"1d", 86400000}, {"9223372036854775807", INT64_MAX}};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(good); i++) {
        int64_t ms = -1;
        assert_int_equal(spate_stream_parse_duration(good[i].s, &ms), SPATE_OK);
        assert_int_equal(ms, good[i].ms);
    }
    static const char *const bad[] = {"", "s", "-1s", "1.5s", "1 s", "1S", "1w", "1sec", " 1"};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(bad); i++) {
        int64_t ms = -1;
        if (spate_stream_parse_duration(bad[i], &ms) != SPATE_EINVAL)
            fail_msg("'%s' accepted", bad[i]);
    }
    int64_t ms;
    assert_int_equal(spate_stream_parse_duration("9223372036854775808", &ms), SPATE_ERANGE);
    assert_int_equal(spate_stream_parse_duration("106751991167301d", &ms), SPATE_ERANGE);
    assert_int_equal(spate_stream_parse_duration(NULL, &ms), SPATE_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_pipeline),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_setting),
        cmocka_unit_test(test_top_level_errors),
        cmocka_unit_test(test_unreadable_file),
        cmocka_unit_test(test_job_errors),
        cmocka_unit_test(test_sink_errors),
        cmocka_unit_test(test_pg_create),
        cmocka_unit_test(test_dead_letter_and_delivery_errors),
        cmocka_unit_test(test_window_errors),
        cmocka_unit_test(test_many_errors),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_parse_duration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
