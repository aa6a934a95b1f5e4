/*
 * up.h — the public interface of `spate up`: the whole seed pipeline
 * (randomuser source, broker, CQL store, stream processor, scheduler) as
 * supervised child processes of the one binary.
 *
 *   piece        file          what it does
 *   config       up_conf.c     the pipeline file's `up:` section (and what
 *                              up needs to know of `scheduler:`)
 *   children     up_proc.c     fork/exec of /proc/self/exe <component>,
 *                              merged log with a prefix per component,
 *                              restart with backoff, the crash budget
 *   probes       up_probe.c    health checks and the status numbers
 *                              (staged, in Kafka, stored, lag)
 *   ingest       up_ingest.c   `--once` without a scheduler: fetch and
 *                              produce the users directly
 *   supervisor   up_run.c      start order, status line, --once, stop
 *
 * Start order (each waits for the previous one to be healthy):
 *
 *   randomuser  GET http://ADDR/health
 *   broker      spate_kafka_probe (ApiVersions)
 *   cql         spate_cql_probe (OPTIONS → SUPPORTED)
 *   (topic)     CreateTopics users_created unless it exists
 *   stream      GET http://METRICS/metrics
 *   scheduler   GET http://API/api/v1/health (only when `spate scheduler`
 *               exists in this binary)
 *
 * Stop order is the reverse: SIGTERM, then SIGKILL after 10 s.
 */
#ifndef SPATE_UP_H
#define SPATE_UP_H

#include "base.h"

#include <stdbool.h>
#include <stdint.h>

/* The components, in start order. */
typedef enum {
    SPATE_UP_RANDOMUSER,
    SPATE_UP_BROKER,
    SPATE_UP_CQL,
    SPATE_UP_STREAM,
    SPATE_UP_SCHEDULER,
    SPATE_UP_NCOMP
} spate_up_comp_t;

/* "randomuser", "broker", "cql", "stream", "scheduler". */
const char *spate_up_comp_name(spate_up_comp_t c);

typedef struct {
    bool enabled; /* started by up (false: an external service, or none) */
    /* Where up reaches it: HOST:PORT (randomuser, cql, stream metrics,
     * scheduler api) or a list (broker bootstrap, cql contact points)
     * for external services. For started components, the address they
     * listen on. */
    char addr[256];
    char data_dir[512]; /* broker, cql: their --data-dir */
} spate_up_comp_conf_t;

/* Everything up reads; strings are copied in (no pointers into the
 * YAML), so the struct outlives the loaded file. */
typedef struct {
    char config_path[1024]; /* the pipeline file ("" = embedded defaults) */
    char data_dir[512];     /* root: DATA_DIR/<component> by default */
    spate_up_comp_conf_t comp[SPATE_UP_NCOMP];
    char randomuser_url[512]; /* external source: full API URL ("" = http://ADDR/api/) */
    char topic[256];          /* users_created */
    int partitions;           /* of the topic when up creates it: 1 */
    char group[256];          /* the stream job's group: spate-stream */
    char table[256];          /* keyspace.table: spark_streams.created_users */
    char dag_id[256];         /* user_automation */
    char staging[1024];       /* SQLite path or PostgreSQL URL of the staging table */
    char staging_table[128];  /* staged_users */
    int64_t once_count;       /* users for --once without a scheduler: 1000 */
    int64_t start_timeout_ms; /* per component: 30 s */
    int64_t once_timeout_ms;  /* --once: run + stored count: 120 s */
    int64_t stop_timeout_ms;  /* SIGTERM → SIGKILL: 10 s */
    int max_crashes;          /* in crash_window_ms → give up: 5 */
    int64_t crash_window_ms;  /* 60 s */
} spate_up_conf_t;

/* The embedded defaults (the standard ports, ./spate-data/...). */
void spate_up_conf_default(spate_up_conf_t *c);
/* Loads a pipeline file's `up:` section over the defaults (and, when set,
 * scheduler.api / scheduler.connections for the staging database and the
 * scheduler's address). A missing `up:` section keeps the defaults.
 * Errors: SPATE_EINVAL/EIO with "file:line: key 'k': ..." in err. */
spate_status_t spate_up_conf_load(spate_up_conf_t *c, const char *path, spate_conf_err_t *err);
/* The embedded pipeline (examples/pipeline.yaml, made into an array by the
 * build; NUL-terminated, len excludes the NUL): written to
 * c->data_dir/pipeline.yaml (overwritten) and loaded from there. */
extern const char *const spate_up_default_pipeline;
extern const size_t spate_up_default_pipeline_len;
spate_status_t spate_up_conf_embedded(spate_up_conf_t *c, spate_conf_err_t *err);
/* The same from text (for tests); name is used in messages. */
spate_status_t spate_up_conf_load_string(spate_up_conf_t *c, const char *name, const char *text,
                                         spate_conf_err_t *err);

typedef struct {
    bool once;               /* run one DAG run end to end, then stop */
    int64_t count;           /* --count: users for --once (0 = conf) */
    const char *exe;         /* the binary to run ("/proc/self/exe") */
    bool color;              /* colour the prefixes (stdout is a tty) */
    bool tty;                /* \r-rewritten status line */
    volatile int *stop_flag; /* set by SIGINT/SIGTERM */
} spate_up_opts_t;

/* Runs the supervisor until stop (exit 0), --once completion (0) or a
 * failure (1, the reason logged). Children are stopped before it
 * returns. */
int spate_up_run(const spate_up_conf_t *c, const spate_up_opts_t *o);

/* ------------------------------------------------------------------ */
/* Pure pieces, exposed for the unit tests                             */
/* ------------------------------------------------------------------ */

/* Splits a child's output into lines. feed() appends bytes; each
 * complete line (without its '\n') is handed to emit. A line longer
 * than SPATE_UP_LINE_MAX is emitted in pieces of that size. flush()
 * emits what is left (a last line without '\n'). */
#define SPATE_UP_LINE_MAX 4096
typedef struct {
    char buf[SPATE_UP_LINE_MAX];
    size_t len;
} spate_up_lines_t;
typedef void (*spate_up_line_fn)(void *ctx, const char *line, size_t n);
void spate_up_lines_feed(spate_up_lines_t *l, const char *p, size_t n, spate_up_line_fn emit,
                         void *ctx);
void spate_up_lines_flush(spate_up_lines_t *l, spate_up_line_fn emit, void *ctx);

/* Formats "broker     | " (name padded to 11) into out (at least 64
 * bytes), with ANSI colour codes around the name when color. */
void spate_up_prefix(spate_up_comp_t c, bool color, char *out, size_t outlen);

/* The crash budget: a ring of the last crash times. record() adds one
 * at now_ms and returns how many fall within the last window_ms
 * (this one included). */
#define SPATE_UP_CRASH_RING 16
typedef struct {
    int64_t at[SPATE_UP_CRASH_RING];
    size_t n, head;
} spate_up_crashes_t;
int spate_up_crashes_record(spate_up_crashes_t *r, int64_t now_ms, int64_t window_ms);
/* Restart delay after the k-th crash in the window (k >= 1): 250 ms
 * doubled per crash, at most 8 s. */
int64_t spate_up_backoff_ms(int k);

/* The numbers of the status line; -1 = unknown (not reachable yet). */
typedef struct {
    int64_t staged, published; /* rows in the staging table, of which published */
    int64_t in_kafka;          /* end offsets of the topic, summed */
    int64_t stored;            /* rows in the CQL table */
    int64_t lag;               /* of the stream's group on the topic
                                  (spate_kafka_group_lag) */
    int restarts;              /* child restarts so far */
} spate_up_stats_t;
/* "staged 1000 (published 1000) · kafka 1000 · stored 998 · lag 2"
 * appended to out; unknown numbers print as "-". */
void spate_up_stats_format(const spate_up_stats_t *s, spate_buf_t *out);

#endif /* SPATE_UP_H */
