/*
 * stream.h — the public interface of spate's stream processor (spate stream).
 *
 * A stream job reads a Kafka topic, runs each record through a transform
 * program and hands what passes to a sink; what fails goes to a
 * dead-letter topic with the original bytes and the reason. This header
 * holds the pure foundation of that machine:
 *
 *   pipeline   pipeline.yaml loaded and checked (stream_conf.c): every
 *              job's source, input, transform, sink, dead letter, delivery
 *              and window settings, defaults filled in, all problems
 *              reported as "file:line: message"
 *   program    a job's transform steps compiled once at load time
 *              (stream_map.c, stream_expr.c) and run per record without
 *              re-parsing anything
 *   record     a jansson object plus the original bytes it came from
 *
 *   message bytes ──json──▶ object ──format_user──▶ ──map──▶ ... ──▶ PASS
 *                                                    │             ├──▶ DROP (filter said no)
 *                                                    └─────────────┴──▶ FAIL + reason (dead letter)
 *
 * Ownership: a loaded pipeline owns everything reachable from it (all
 * strings in the job structs are borrowed from it and live until
 * spate_stream_pipeline_free). A compiled program is immutable, so one
 * program may be run by several threads at once, each with its own
 * spate_stream_runner_t. The language is described in docs/stream.md.
 */
#ifndef SPATE_STREAM_H
#define SPATE_STREAM_H

#include "base.h"
#include "source.h" /* spate_json_field_t */

#include <jansson.h>

/* ================================================================== */
/* Diagnostics                                                         */
/* ================================================================== */

/* Every problem found while loading, one "file:line: message" each, in
 * the order found (document order). Zero-initialised is empty. */
#define SPATE_STREAM_DIAG_MAX 100 /* messages kept; the rest only counted */

#define SPATE_STREAM_CQL_CONCURRENCY 512 /* the CQL sink's default requests in flight */
/* The CQL sink's default bound bytes per batch: a modest mutation (a
 * dozen rows of the seed's size). Cassandra (3.6 on) does not warn about
 * or refuse a single-partition batch for its size. At most 1 MiB. */
#define SPATE_STREAM_CQL_BATCH_BYTES 5120
/* How long a window's partial counts are kept by default: 7 days (the
 * store's TTL; a partition idle for longer adds its count to a sum that no
 * longer has the others'). */
#define SPATE_STREAM_WINDOW_RETENTION_MS (INT64_C(7) * 86400000)
/* Cassandra's largest TTL: 20 years. */
#define SPATE_STREAM_MAX_TTL_S 630720000

typedef struct {
    char **msgs;    /* owned, NUL-terminated */
    size_t n;       /* messages kept */
    size_t dropped; /* problems beyond SPATE_STREAM_DIAG_MAX */
    size_t cap;
} spate_stream_diag_t;

/* Adds one message (copied). */
void spate_stream_diag_add(spate_stream_diag_t *d, const char *msg);
/* Adds "file:line: key 'k': <fmt>" about node n (spate_conf_errorf's
 * form). */
void spate_stream_diag_at(spate_stream_diag_t *d, const spate_conf_t *c, const spate_conf_node_t *n,
                          const char *fmt, ...) SPATE_PRINTF(4, 5);
/* Problems in total (kept + dropped). */
size_t spate_stream_diag_count(const spate_stream_diag_t *d);
void spate_stream_diag_free(spate_stream_diag_t *d);

/* ================================================================== */
/* Programs: compiled transform steps                                  */
/* ================================================================== */

typedef enum {
    SPATE_STREAM_INPUT_FORMATTED, /* messages are format_user records (default) */
    SPATE_STREAM_INPUT_RAW        /* messages are randomuser results: format_user is implied */
} spate_stream_input_t;

typedef struct spate_stream_prog spate_stream_prog_t;

/* Compiles a `transform:` list (a YAML sequence, or NULL for none) into a
 * program. The program always starts with the json step; for raw input a
 * format_user step follows it unless the list places one itself. Every
 * problem is added to diag with file:line; on any problem the result is
 * SPATE_EINVAL and *out NULL. The program copies what it needs: c may be
 * freed afterwards. Free with spate_stream_prog_free. */
spate_status_t spate_stream_prog_compile(const spate_conf_t *c, const spate_conf_node_t *steps,
                                         spate_stream_input_t input, spate_stream_prog_t **out,
                                         spate_stream_diag_t *diag);
void spate_stream_prog_free(spate_stream_prog_t *p);
/* Steps in the program, the implicit ones included. */
size_t spate_stream_prog_steps(const spate_stream_prog_t *p);

/* A record on its way through a program. `bytes` is the original message
 * value, borrowed from the caller (it must outlive the run); `value` is
 * owned by the record: NULL until the json step, then the current object.
 * Zero-initialised is empty. */
typedef struct {
    const char *bytes;
    size_t len;
    json_t *value;
} spate_stream_record_t;

/* Points rec at new bytes, releasing the previous value. */
void spate_stream_record_set(spate_stream_record_t *rec, const char *bytes, size_t len);
/* Releases the value (rec can be reused). */
void spate_stream_record_clear(spate_stream_record_t *rec);

typedef enum {
    SPATE_STREAM_PASS = 0, /* rec->value is the record to write */
    SPATE_STREAM_DROP = 1, /* a filter rejected it (counted, not dead-lettered) */
    SPATE_STREAM_FAIL = 2  /* invalid: dead-letter it with runner->reason */
} spate_stream_verdict_t;

/* Per-thread run state, reused for every record so that a run allocates
 * nothing but the json_t values themselves. Zero-initialised (or
 * spate_stream_runner_init) is ready; free with spate_stream_runner_free. */
typedef struct {
    spate_buf_t scratch; /* text building (format, concat, casts) */
    char reason[256];    /* why the last record failed; "" after PASS/DROP */
    int line;            /* pipeline line of the step or operation that failed */
} spate_stream_runner_t;

void spate_stream_runner_init(spate_stream_runner_t *r);
void spate_stream_runner_free(spate_stream_runner_t *r);

/* Runs program p on rec: parses rec->bytes (replacing any previous value)
 * and applies every step in order. Never fails in C terms; a record that
 * cannot be transformed is SPATE_STREAM_FAIL with the reason in
 * r->reason. The record's value stays owned by rec in all cases. */
spate_stream_verdict_t spate_stream_prog_run(const spate_stream_prog_t *p,
                                             spate_stream_record_t *rec, spate_stream_runner_t *r);

/* The flat path: a program made only of the json step and maps that
 * cast top-level fields to text or uuid, require, drop and select
 * top-level fields (the seed job's shape) can run on a record of plain
 * string fields without building a JSON tree. spate_stream_prog_flat
 * says whether p is such a program (decided once, when the job starts).
 * spate_stream_prog_run_flat then runs it on a message's bytes: true with
 * the fields that pass, in record order, in f[0..*n) (pointing into
 * bytes) — the record spate_stream_prog_run would pass, field for field —
 * and false whenever the record is anything else (not a flat object of
 * unescaped strings, a cast that would change or fail, a require that
 * fails, more than cap fields): the caller then runs
 * spate_stream_prog_run, which decides and gives any reason. */
#define SPATE_STREAM_FLAT_MAX 64 /* fields of a record on the flat path */
bool spate_stream_prog_flat(const spate_stream_prog_t *p);
bool spate_stream_prog_run_flat(const spate_stream_prog_t *p, const char *bytes, size_t len,
                                spate_json_field_t *f, size_t *n);

/* A field path ("location.street.number", "$.a.b[0]", "$['odd key']"),
 * compiled; used by windows (event time, group-by fields). */
typedef struct spate_stream_path spate_stream_path_t;
/* The value at path p in v (borrowed), or NULL when absent. */
json_t *spate_stream_path_get(const spate_stream_path_t *p, json_t *v);
/* The path as written in the configuration. */
const char *spate_stream_path_text(const spate_stream_path_t *p);

/* ================================================================== */
/* Pipeline configuration                                              */
/* ================================================================== */

typedef enum {
    SPATE_STREAM_START_EARLIEST, /* default, as the seed's startingOffsets */
    SPATE_STREAM_START_LATEST,
    SPATE_STREAM_START_TIME /* first offset at or after start_ms */
} spate_stream_start_t;

typedef struct {
    const char *key, *value;
} spate_stream_kv_t;

typedef struct {
    const char *bootstrap; /* "host:port[,host:port...]"; default 127.0.0.1:9092 */
    const char **topics;   /* at least one */
    size_t ntopics;
    const char *group; /* default "spate-stream-<job name>" */
    spate_stream_start_t start;
    int64_t start_ms;         /* SPATE_STREAM_START_TIME: ms since the epoch */
    spate_stream_kv_t *props; /* extra librdkafka properties, in file order */
    size_t nprops;
} spate_stream_source_conf_t;

typedef enum {
    SPATE_STREAM_SINK_NONE = 0,
    SPATE_STREAM_SINK_CQL,
    SPATE_STREAM_SINK_POSTGRES,
    SPATE_STREAM_SINK_FILE,
    SPATE_STREAM_SINK_STDOUT
} spate_stream_sink_kind_t;

typedef enum { SPATE_STREAM_PG_UPSERT, SPATE_STREAM_PG_COPY } spate_stream_pg_mode_t;

typedef struct {
    spate_stream_sink_kind_t kind;
    int line;
    struct {
        const char **contact_points; /* "host[:port]"; default 127.0.0.1:9042 */
        size_t ncontact;
        const char *keyspace, *table; /* required */
        bool create;                  /* CREATE KEYSPACE/TABLE IF NOT EXISTS at start */
        int consistency;              /* CQL [consistency] code (0x0000..0x000A); LOCAL_ONE */
        int concurrency;              /* requests in flight, SPATE_STREAM_CQL_CONCURRENCY */
        int batch_rows;  /* rows per unlogged batch of one partition, default 100 (1 = none) */
        int batch_bytes; /* bound bytes per batch, SPATE_STREAM_CQL_BATCH_BYTES */
        bool server_timestamps; /* timestamps: server (default client: the sink's clock) */
    } cql;
    struct {
        const char *url, *table; /* required */
        const char **key;        /* primary-key columns (required for upsert) */
        size_t nkey;
        spate_stream_pg_mode_t mode; /* default upsert */
        bool create;                 /* CREATE TABLE IF NOT EXISTS at start (needs key) */
    } pg;
    struct {
        const char *path; /* JSON lines appended */
    } file;
} spate_stream_sink_conf_t;

typedef struct {
    int64_t max_in_flight;      /* records given to the sink, not yet acked; default 10000 */
    int64_t retries;            /* sink retries per request; -1 = forever (default) */
    int64_t backoff_ms;         /* first retry delay, doubled each time; default 100 */
    int64_t backoff_max_ms;     /* cap; default 10000 */
    int64_t commit_interval_ms; /* offset commits this often while records flow (and when
                                 * caught up, at most every tenth of it); default 1000 */
} spate_stream_delivery_t;

typedef enum {
    SPATE_STREAM_WINDOW_TUMBLING,
    SPATE_STREAM_WINDOW_HOPPING
} spate_stream_window_kind_t;
typedef enum { SPATE_STREAM_AGG_COUNT } spate_stream_agg_t;

typedef struct {
    bool enabled;
    int line;
    spate_stream_window_kind_t kind;
    const spate_stream_path_t *time; /* event time: RFC 3339 text or epoch ms */
    int64_t size_ms;
    int64_t hop_ms;       /* == size_ms for tumbling windows */
    int64_t watermark_ms; /* watermark = max event time seen - this; default 0 */
    int64_t lateness_ms;  /* a closed window still takes records this late; default 0 */
    int64_t retention_ms; /* partial counts kept this long after they are written (their
                             TTL), SPATE_STREAM_WINDOW_RETENTION_MS; 0 = for ever */
    const spate_stream_path_t **group_by;
    size_t ngroup_by;
    spate_stream_agg_t aggregate;
    spate_stream_sink_conf_t sink; /* where window results go (required) */
} spate_stream_window_conf_t;

typedef struct {
    const char *name;
    int line;
    spate_stream_source_conf_t source;
    spate_stream_input_t input;
    spate_stream_prog_t *prog;     /* owned by the pipeline */
    spate_stream_sink_conf_t sink; /* kind NONE only when the job has a window */
    const char *dead_letter_topic; /* NULL: failures are logged and counted only */
    spate_stream_delivery_t delivery;
    spate_stream_window_conf_t window;
} spate_stream_job_t;

typedef struct spate_stream_pipeline spate_stream_pipeline_t;

/* Loads and checks a pipeline file (or text). Top-level sections other
 * spate commands read (log_level, randomuser, broker, cql, scheduler, dags,
 * up, web) are accepted and ignored; `stream: jobs:` must hold at least
 * one job. Every problem is added to diag; on any problem the result is
 * SPATE_EINVAL (SPATE_EIO for an unreadable file) and *out is NULL. */
spate_status_t spate_stream_pipeline_load_file(spate_stream_pipeline_t **out, const char *path,
                                               spate_stream_diag_t *diag);
spate_status_t spate_stream_pipeline_load_string(spate_stream_pipeline_t **out, const char *name,
                                                 const char *text, size_t len,
                                                 spate_stream_diag_t *diag);
void spate_stream_pipeline_free(spate_stream_pipeline_t *p);

size_t spate_stream_pipeline_njobs(const spate_stream_pipeline_t *p);
const spate_stream_job_t *spate_stream_pipeline_job(const spate_stream_pipeline_t *p, size_t i);
/* The job called name, or NULL. */
const spate_stream_job_t *spate_stream_pipeline_find(const spate_stream_pipeline_t *p,
                                                     const char *name);

/* ================================================================== */
/* Small parsers shared with the runtime                               */
/* ================================================================== */

/* RFC 3339 / ISO 8601 date-time → ms since the epoch (UTC):
 * "2024-05-01T12:00:00Z", "...12:00:00.123+02:00", "2024-05-01 12:00:00"
 * (no offset = UTC), "2024-05-01" (midnight UTC). Fractions beyond ms are
 * truncated. Pure; SPATE_EINVAL for anything else or an impossible date. */
spate_status_t spate_stream_parse_time(const char *s, size_t n, int64_t *ms);
/* A duration: an integer of ms, or a number with a unit ms, s, m, h, d
 * ("250ms", "30s", "1m", "2h"). Pure; SPATE_EINVAL / SPATE_ERANGE. */
spate_status_t spate_stream_parse_duration(const char *s, int64_t *ms);

/* ================================================================== */
/* Running jobs (stream_run.c)                                         */
/* ================================================================== */

typedef struct {
    const char *job;          /* run only this job (NULL: every job) */
    const char *metrics_addr; /* "host:port": GET /metrics (Prometheus text); NULL: none */
    volatile int *stop;       /* set (by a signal handler) to stop every job */
} spate_stream_run_opts_t;

/* Runs the pipeline's jobs, one thread each, until *o->stop is set; then
 * every job stops consuming, lets its sink settle what is in flight,
 * commits its offsets and ends. Refused at start (SPATE_EINVAL, reason in
 * err): an unknown job; a window job that also names its own sink (its
 * counts go to the window's CQL table only). SPATE_OK when every job
 * ended cleanly; SPATE_ERR when one failed at run time (reasons logged).
 * p is borrowed and must outlive the call. */
spate_status_t spate_stream_run(const spate_stream_pipeline_t *p, const spate_stream_run_opts_t *o,
                                char *err, size_t errlen);

#endif /* SPATE_STREAM_H */
