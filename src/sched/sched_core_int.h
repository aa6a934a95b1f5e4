/*
 * sched_core_int.h — private to sched_core.c, sched_exec.c, sched_api.c
 * (and tests/unit/test_sched_core.c): the scheduler object, the pure
 * decision functions (trigger rules, retry delays, run intervals) and
 * the executor's interface.
 *
 * Locking: `mu` guards everything in spate_scheduler_t except the
 * fields marked "loop only" (touched by the loop thread alone) and the
 * self-pipe. The loop holds mu for a whole tick; the REST API's handlers
 * (on libmicrohttpd threads) hold it for one request, so they see a
 * consistent DagBag and share the one db handle safely.
 */
#ifndef SPATE_SCHED_CORE_INT_H
#define SPATE_SCHED_CORE_INT_H

#include "sched.h"

#include <threads.h> /* not pthread.h: it includes <sched.h>, which this folder shadows */
#include <signal.h>
#include <sys/types.h>

/* One running try: a child process of this scheduler. */
typedef struct {
    pid_t pid; /* also its process group id */
    char dag_id[256], run_id[256], task_id[256];
    char pool[128];
    int pool_slots;
    int try_number;
    int64_t start_ms;    /* scheduler clock (the tick's now) */
    int64_t timeout_ms;  /* 0 = none */
    int64_t term_ms;     /* when SIGTERM was sent for the timeout, 0 = not */
    bool killed;         /* SIGKILL sent */
    bool interrupted;    /* stopped by a clean scheduler stop: not a failed try */
    char log_path[1024]; /* the try's log file */
} spate_sched_child_t;

struct spate_http_server;

struct spate_scheduler {
    spate_sched_conf_t conf; /* copy; strings borrowed from the caller */
    char *data_dir;          /* owned */
    char *metadata;          /* owned (default DATA_DIR/scheduler.db) */
    spate_sched_db_t *db;
    spate_sched_dagbag_t *bag;
    mtx_t mu;
    char hostname[128];

    spate_sched_child_t *kids; /* running tries */
    size_t nkids, capkids;

    int64_t last_reload_ms;    /* INT64_MIN = never */
    int64_t last_heartbeat_ms; /* heartbeat + dead-task scan */
    int64_t last_tick_ms;      /* for /health */
    bool loaded;               /* first DagBag load done ("scheduler ready") */
    size_t nerrors_logged;     /* DagBag problems already logged */

    /* The tick's transaction (loop only). A try's QUEUED row is committed
     * before its fork and its RUNNING row right after (txn_cut in
     * sched_core.c); a failed commit stops further forks in that tick. */
    bool in_txn, tick_failed;
    /* The last tick's commit, for /health: OK or the error text. */
    spate_status_t last_commit;
    char last_commit_err[256];

    int pipe_rd, pipe_wr; /* self-pipe: SIGCHLD and stop wake the loop */
    volatile sig_atomic_t stopping;
    struct spate_http_server *http;
    int api_port;
    /* High availability (sched_ha.c; added by ZK): NULL without
     * conf.zookeeper; ticks only schedule while the election says we lead. */
    spate_sched_ha_t *ha;
    bool ha_leader; /* as last logged ("became leader" / "standing by") */
};

/* ---- pure decisions (sched_core.c) ---- */

/* Upstream outcomes of one task, counted. */
typedef struct {
    int total, success, skipped, failed, upstream_failed, done;
} spate_sched_up_counts_t;

/* The trigger rule's verdict: SPATE_TI_SCHEDULED (run it),
 * SPATE_TI_UPSTREAM_FAILED or SPATE_TI_SKIPPED (settled without running),
 * or SPATE_TI_NONE (wait: not decided yet). */
spate_sched_ti_state_t spate_sched_trigger_eval(spate_sched_trigger_t rule,
                                                const spate_sched_up_counts_t *c);

/* Delay before try number `next_try` (2 for the first retry):
 * retry_delay, or retry_delay * 2^(next_try-2) with exponential backoff,
 * capped by max_retry_delay (when > 0) and 24 h. */
int64_t spate_sched_retry_delay(const spate_sched_retry_t *r, int next_try);

/* The data interval of a schedule whose run has logical date `start`:
 * its end (the next fire), or start itself for @once. */
int64_t spate_sched_interval_end(const spate_sched_dag_t *d, int64_t start);

/* The start time (field 22, clock ticks after boot) in the text of a
 * /proc/PID/stat; false when it is not there. Pure; comm may hold spaces
 * and parentheses. */
bool spate_sched_proc_stat_starttime(const char *text, size_t len, uint64_t *ticks);

/* Run ids as Airflow writes them: "<type>__2026-11-01T00:00:00+00:00". */
void spate_sched_run_id(spate_sched_run_type_t type, int64_t ms, char *out, size_t outlen);

/* ---- executor (sched_exec.c); called with mu held, on the loop thread ---- */

/* Forks one try of task in run: the child writes to
 * DATA_DIR/logs/DAG/RUN/TASK/TRY.log and calls the operator. Fills *kid
 * (the caller appends it to s->kids). */
spate_status_t spate_sched_exec_start(spate_scheduler_t *s, const spate_sched_dag_t *d,
                                      const spate_sched_task_t *t, const spate_sched_run_t *run,
                                      int try_number, int64_t now_ms, spate_sched_child_t *kid);
/* Reaps finished children (WNOHANG), sends SIGTERM/SIGKILL on timeouts,
 * and records outcomes in the db. */
void spate_sched_exec_poll(spate_scheduler_t *s, int64_t now_ms);
/* The earliest timeout deadline among the children, or INT64_MAX. */
int64_t spate_sched_exec_next_deadline(const spate_scheduler_t *s);
/* SIGTERM every child's group, wait up to grace_ms reaping, SIGKILL the rest. */
void spate_sched_exec_shutdown(spate_scheduler_t *s, int64_t grace_ms);
/* Builds the log path of a try. */
void spate_sched_log_path(const char *data_dir, const char *dag, const char *run, const char *task,
                          int try_number, char *out, size_t outlen);

/* Records the end of one try in the db: success, or a failure that
 * becomes UP_FOR_RETRY or FAILED by the task's retries. d may be NULL
 * (DAG gone: no retry). */
void spate_sched_ti_finish(spate_scheduler_t *s, const spate_sched_dag_t *d, const char *dag_id,
                           const char *run_id, const char *task_id, int exit_code, int64_t now_ms);

/* A try stopped by a clean scheduler stop (SIGTERM/SIGINT of the
 * scheduler): back to SCHEDULED with try_number as before that try, so it
 * runs again without using up a retry (logged, and a line in its log). */
void spate_sched_ti_interrupted(spate_scheduler_t *s, const spate_sched_child_t *k, int64_t now_ms);

/* Tests only (NULL otherwise): called in start_try right after a try's
 * fork, before its RUNNING row is written — the moment a crash would
 * leave the database as it then is. */
extern void (*spate_sched_after_fork_hook)(spate_scheduler_t *s, pid_t pid);

/* ---- REST API (sched_api.c) ---- */

spate_status_t spate_sched_api_start(spate_scheduler_t *s, char *err, size_t errlen);
void spate_sched_api_stop(spate_scheduler_t *s);
/* Creates a manual run (API and tests): run_id NULL = manual__<ts>,
 * logical_ms INT64_MIN = now. run_id must not point into *out. */
spate_status_t spate_sched_manual_run(spate_sched_db_t *db, const spate_sched_dag_t *d,
                                      const char *run_id, int64_t logical_ms, int64_t now_ms,
                                      spate_sched_run_t *out);
/* Added by CONF: the same with the run's conf, compact JSON text of an
 * object (spate_sched_run_conf_parse checks it; NULL = {}); EINVAL when
 * it does not fit spate_sched_run_t.conf. Borrowed, copied into *out. */
spate_status_t spate_sched_manual_run_conf(spate_sched_db_t *db, const spate_sched_dag_t *d,
                                           const char *run_id, int64_t logical_ms, int64_t now_ms,
                                           const char *conf_json, spate_sched_run_t *out);

#endif /* SPATE_SCHED_CORE_INT_H */
