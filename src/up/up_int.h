/*
 * up_int.h — private to src/up: the supervisor's state, shared by
 * up_proc.c (children), up_probe.c (health and numbers), up_ingest.c and
 * up_run.c (the sequence).
 *
 *   up_t
 *    ├─ ch[SPATE_UP_NCOMP]   one child per component (pid 0: not running)
 *    │    argv, pipe fd, line splitter, crash ring, restart deadline
 *    ├─ cql                  a CQL client kept open for the stored count
 *    └─ failed / reason      set once; the main loop then stops everything
 *
 * Invariant: a child with pid > 0 has fd >= 0 until its exit is reaped;
 * `wanted` false means an exit is expected (stopping) and never restarts.
 */
#ifndef SPATE_UP_INT_H
#define SPATE_UP_INT_H

#include "up.h"

#include <sys/types.h>

#define UP_LOG "up"

typedef struct spate_cql_client spate_cql_client_t;

typedef struct {
    spate_up_comp_t comp;
    char *argv[16]; /* owned strings, NULL-terminated */
    pid_t pid;      /* 0 = not running */
    int fd;         /* read end of its stdout+stderr pipe, -1 = none */
    spate_up_lines_t lines;
    spate_up_crashes_t crashes;
    int64_t restart_at_ms; /* monotonic; 0 = no restart pending */
    int restarts;
    bool wanted; /* should be running: an exit is a crash */
    char prefix[64];
} up_child_t;

typedef struct {
    const spate_up_conf_t *c;
    const spate_up_opts_t *o;
    up_child_t ch[SPATE_UP_NCOMP];
    bool failed;
    char reason[512];
    bool status_shown; /* a \r status line is on the terminal */
    spate_buf_t status;
    char kafka[256], contact[256]; /* where up reaches the broker and the store */
    spate_cql_client_t *cql;
    spate_up_stats_t stats;
} up_t;

/* up_proc.c */
/* Writes one output line (the component's prefix, or up's own), keeping
 * the status line below it on a tty. */
void up_out(up_t *u, const char *prefix, const char *line, size_t n);
void up_say(up_t *u, const char *fmt, ...) SPATE_PRINTF(2, 3);
void up_fail(up_t *u, const char *fmt, ...) SPATE_PRINTF(2, 3);
/* Sets the argv of a child (copies the strings). */
void up_child_args(up_child_t *ch, const char *const *argv);
/* Forks and execs the child with its output piped to us. */
spate_status_t up_child_start(up_t *u, up_child_t *ch);
/* Reads children's output for up to timeout_ms, reaps exits (restart
 * with backoff or fail), performs restarts that are due. */
void up_pump(up_t *u, int timeout_ms);
/* Stops every running child in reverse start order (SIGTERM, then
 * SIGKILL after the stop timeout). */
void up_stop_all(up_t *u);
/* Redraws the status line (tty) from u->status. */
void up_status_draw(up_t *u);
void up_status_clear(up_t *u);

/* up_run.c */
/* --once with a scheduler: unpauses the DAG, triggers one run through
 * the REST API (POST .../dagRuns, conf {count} when count > 0) and polls
 * GET .../dagRuns/{run_id} until success (SPATE_OK) or failed / the
 * monotonic deadline (up_fail with the reason). */
spate_status_t up_once_dag(up_t *u, int64_t count, int64_t deadline);

/* up_probe.c */
/* GET url: SPATE_OK when the answer is 2xx (body appended to `body`,
 * may be NULL); otherwise a reason in err. */
spate_status_t up_http(const char *method, const char *url, const char *json_body, int timeout_ms,
                       spate_buf_t *body, long *status, char *err, size_t errlen);
/* One health check of component c: SPATE_OK when healthy. */
spate_status_t up_health(up_t *u, spate_up_comp_t c, char *err, size_t errlen);
/* Creates the topic unless it exists. */
spate_status_t up_topic_ensure(up_t *u, char *err, size_t errlen);
/* Refreshes u->stats (unreachable parts become -1). */
void up_stats_refresh(up_t *u);
/* Counts rows of the staging table: total and distinct ids are the same
 * (id is its key); *published those with published_at set. */
spate_status_t up_staged_count(const spate_up_conf_t *c, int64_t *total, int64_t *published,
                               char *err, size_t errlen);
/* SELECT count(*) of the CQL table. */
spate_status_t up_stored_count(up_t *u, int64_t *n);
void up_probe_free(up_t *u);

/* up_ingest.c: --once without a scheduler. Fetches count users from the
 * source, produces their format_user records to the topic (idempotent,
 * acks=all, flushed); *distinct gets the number of distinct user ids. */
spate_status_t up_ingest(up_t *u, int64_t count, int64_t *fetched, int64_t *distinct, char *err,
                         size_t errlen);

#endif /* SPATE_UP_INT_H */
