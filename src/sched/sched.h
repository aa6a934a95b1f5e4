/*
 * sched.h — the public interface of spate's scheduler (spate scheduler,
 * spate dags|tasks|runs): the Airflow role, DAGs declared in YAML.
 *
 * The pieces and who implements them:
 *
 *   schedules   cron (5 fields), presets (@hourly ...), "every N seconds|
 *               minutes|hours|days"; next/previous fire times in UTC
 *               (sched_cron.c)
 *   DAGs        YAML → spate_sched_dag_t, checked with file:line messages;
 *               a DagBag loads a folder (or inline `dags:` of a pipeline
 *               file) and reloads changed files (sched_dag.c);
 *               templated values {{ ds }} ... (sched_template.c)
 *   operators   the task types (shell, http, sql, cql, randomuser_to_kafka,
 *               randomuser_to_postgres, postgres_to_kafka): a check at load
 *               time and a run in the task's own process (sched_op_*.c)
 *   metadata    runs and task instances with Airflow's states, in SQLite
 *               (default) or PostgreSQL, with schema migrations (sched_db.c)
 *   scheduler   the loop: runs from schedules (catchup, max_active_runs),
 *               task states by trigger rules, pools, retries with backoff,
 *               timeouts, dead-task detection; a fork-per-try executor with
 *               a worker limit and one log file per try (sched_core.c,
 *               sched_exec.c); REST API (sched_api.c)
 *
 *   time: every time is int64 milliseconds since the Unix epoch, UTC.
 *
 * Ownership: a DAG and everything reachable from it belongs to the DagBag
 * that loaded it and stays valid until the next spate_sched_dagbag_load
 * or _free on that bag (callers that keep state across reloads keep DAG
 * ids, not pointers).
 */
#ifndef SPATE_SCHED_H
#define SPATE_SCHED_H

#include "base.h"
#include "stream.h" /* spate_stream_diag_t: file:line diagnostics */

#include <stdint.h>

/* ================================================================== */
/* Schedules (sched_cron.c)                                            */
/* ================================================================== */

typedef enum {
    SPATE_SCHED_NONE,  /* "none" / null: only manual and backfill runs */
    SPATE_SCHED_CRON,  /* 5-field cron or a preset (@hourly = "0 * * * *") */
    SPATE_SCHED_EVERY, /* "every 30 seconds" ...: fires at anchor + k*every */
    SPATE_SCHED_ONCE,  /* "@once": one run at the start date */
} spate_sched_kind_t;

typedef struct {
    spate_sched_kind_t kind;
    uint64_t minutes;          /* CRON: bit m set = minute m (0..59) */
    uint32_t hours;            /* bit h (0..23) */
    uint32_t mdays;            /* bit d (1..31) */
    uint16_t months;           /* bit m (1..12) */
    uint8_t wdays;             /* bit w (0 = Sunday .. 6; 7 is read as 0) */
    bool mday_star, wday_star; /* field was '*': cron's rule that when both
                                  day fields are restricted a day matches
                                  if EITHER matches */
    int64_t every_ms;          /* EVERY */
    char text[64];             /* as written (truncated), for listings */
} spate_sched_schedule_t;

/* Parses "*\/5 * * * *", "@daily", "every 10 seconds", "none", "@once".
 * Names of months/weekdays (jan, mon) and ranges/steps/lists as in cron.
 * On error returns SPATE_EINVAL with a message in err. */
spate_status_t spate_sched_schedule_parse(const char *text, spate_sched_schedule_t *out, char *err,
                                          size_t errlen);
/* First fire time strictly after after_ms. anchor_ms (the DAG's start
 * date) aligns EVERY schedules and is the one fire of ONCE. Returns
 * INT64_MAX when there is none (NONE, ONCE already past). */
int64_t spate_sched_schedule_next(const spate_sched_schedule_t *s, int64_t anchor_ms,
                                  int64_t after_ms);
/* Latest fire time <= at_ms (and >= anchor_ms for EVERY/ONCE), or
 * INT64_MIN when there is none. */
int64_t spate_sched_schedule_prev(const spate_sched_schedule_t *s, int64_t anchor_ms,
                                  int64_t at_ms);

/* Parses a date or time in UTC: "2026-11-01", "2026-11-01T06:30:00",
 * "2026-11-01T06:30:00Z", "2026-11-01 06:30:00", with optional
 * milliseconds; nothing else (no other zones). */
spate_status_t spate_sched_parse_time(const char *text, int64_t *out_ms);
/* Parses a duration: "30s", "5m", "2h", "1d", "250ms", a bare number of
 * seconds ("300"), or "00:05:00". */
spate_status_t spate_sched_parse_duration(const char *text, int64_t *out_ms);

/* ================================================================== */
/* DAGs (sched_dag.c)                                                  */
/* ================================================================== */

typedef enum {
    SPATE_TRIGGER_ALL_SUCCESS, /* default */
    SPATE_TRIGGER_ALL_DONE,
    SPATE_TRIGGER_ALL_FAILED,
    SPATE_TRIGGER_ONE_SUCCESS,
    SPATE_TRIGGER_ONE_FAILED,
    SPATE_TRIGGER_NONE_FAILED,
} spate_sched_trigger_t;

const char *spate_sched_trigger_name(spate_sched_trigger_t t);

/* Retries and limits; a DAG's default_args fill these for every task,
 * a task's own keys override them. Defaults as Airflow's. */
typedef struct {
    int retries;                    /* 0 */
    int64_t retry_delay_ms;         /* 300 000 (5 minutes) */
    bool retry_exponential_backoff; /* false: delay * 2^(try-1) when true */
    int64_t max_retry_delay_ms;     /* 0 = no cap beyond 24 h */
    int64_t execution_timeout_ms;   /* 0 = none; the try is killed after it */
} spate_sched_retry_t;

typedef struct spate_sched_task {
    const char *id;
    const char *type;              /* operator name (spate_sched_op_find) */
    const spate_conf_node_t *node; /* the task's map in the file: operators
                                      read their own keys from it */
    const char **upstream;         /* task ids as written */
    size_t nupstream;
    size_t *up; /* nupstream indexes into dag->tasks (checked, acyclic) */
    spate_sched_trigger_t trigger;
    spate_sched_retry_t retry;
    const char *pool; /* "default_pool" unless set */
    int pool_slots;   /* 1 */
    int line;
} spate_sched_task_t;

typedef struct spate_sched_dag {
    const char *dag_id;
    const char *file; /* the file it came from */
    int line;
    const char *description; /* "" */
    spate_sched_schedule_t schedule;
    int64_t start_date_ms;           /* required unless schedule is NONE */
    int64_t end_date_ms;             /* INT64_MAX = none */
    bool catchup;                    /* Airflow's default: true */
    int max_active_runs;             /* 16 */
    int max_active_tasks;            /* 16 */
    bool is_paused_upon_creation;    /* false */
    const spate_conf_node_t *params; /* map or NULL: {{ params.x }} */
    spate_sched_task_t *tasks;       /* in file order */
    size_t ntasks;
    size_t *topo;             /* ntasks indexes: a topological order */
    const spate_conf_t *conf; /* the loaded file owning every string */
} spate_sched_dag_t;

const spate_sched_task_t *spate_sched_dag_task(const spate_sched_dag_t *d, const char *task_id);

typedef struct spate_sched_dagbag spate_sched_dagbag_t;

spate_sched_dagbag_t *spate_sched_dagbag_new(void);
void spate_sched_dagbag_free(spate_sched_dagbag_t *b);
/* Loads a folder (every *.yaml / *.yml directly in it, in name order) or
 * one file. A file holds `dags:` (a list of DAGs) or is one DAG (a map
 * with dag_id). Files not changed since the last load (mtime, size) are
 * kept as they were; removed files drop their DAGs. A broken file's
 * problems are recorded (errors()) and its DAGs are left out; the other
 * files are unaffected. *changed (may be NULL) says whether any DAG was
 * added, removed or reparsed. Returns SPATE_EIO only when the path itself
 * cannot be read. */
spate_status_t spate_sched_dagbag_load(spate_sched_dagbag_t *b, const char *path, bool *changed);
/* Adds DAGs from a list node of an already-loaded file (a pipeline file's
 * `scheduler: {dags: [...]}`); the caller keeps `c` alive as long as the
 * bag. Problems go to errors(). */
void spate_sched_dagbag_add_node(spate_sched_dagbag_t *b, const spate_conf_t *c,
                                 const spate_conf_node_t *list);
size_t spate_sched_dagbag_count(const spate_sched_dagbag_t *b);
const spate_sched_dag_t *spate_sched_dagbag_at(const spate_sched_dagbag_t *b, size_t i);
const spate_sched_dag_t *spate_sched_dagbag_get(const spate_sched_dagbag_t *b, const char *dag_id);
/* Every problem of the last load, "file:line: message". */
const spate_stream_diag_t *spate_sched_dagbag_errors(const spate_sched_dagbag_t *b);

/* ================================================================== */
/* Task instance context and templates (sched_template.c)              */
/* ================================================================== */

/* Connections the operators use by default (scheduler config
 * `connections:`); a task may override each with its own key. NULL means
 * "not configured". */
typedef struct {
    const char *postgres;   /* libpq URL; NULL = SQLite staging */
    const char *sqlite;     /* staging SQLite file (default DATA_DIR/staging.db) */
    const char *kafka;      /* bootstrap servers, "127.0.0.1:9092" */
    const char *cql;        /* contact points, "127.0.0.1:9042" */
    const char *randomuser; /* API URL, "https://randomuser.me/api/" */
    const char *data_dir;   /* the scheduler's data directory */
} spate_sched_env_t;

/* What one try of a task sees. */
typedef struct {
    const spate_sched_dag_t *dag;
    const spate_sched_task_t *task;
    const char *run_id;
    int64_t logical_date_ms; /* = data_interval_start for scheduled runs */
    int64_t data_interval_start_ms;
    int64_t data_interval_end_ms;
    int try_number; /* 1 for the first try */
    const spate_sched_env_t *env;
    /* Added by CONF: the run's conf (spate_sched_run_t.conf), a JSON
     * object as text; NULL or "" = {}. Borrowed. */
    const char *conf_json;
} spate_sched_ti_ctx_t;

/* Renders "{{ name }}" placeholders: ds (YYYY-MM-DD), ds_nodash, ts
 * (ISO 8601 with +00:00), ts_nodash, logical_date, data_interval_start,
 * data_interval_end, run_id, dag.dag_id / dag_id, task.task_id / task_id,
 * ti.try_number / try_number, params.NAME (a scalar under the DAG's
 * params, or under the run's conf when its top-level key is there:
 * Airflow's dag_run_conf_overrides_params), dag_run.conf.NAME[.NAME...]
 * (a scalar of the run's conf) and dag_run.conf (the whole object as
 * JSON). Conf values print as Airflow's Jinja does: strings as they are,
 * numbers as in JSON, true/false/null as True/False/None. An unknown name
 * or an unclosed "{{" is an error naming it. Appends to out. */
spate_status_t spate_sched_render(const char *tmpl, const spate_sched_ti_ctx_t *ctx,
                                  spate_buf_t *out, char *err, size_t errlen);

/* Added by CONF: checks a run's conf given as JSON text (REST body,
 * `dags trigger --conf`): it must be a JSON object (nesting at most 32
 * deep) whose compact form fits SPATE_SCHED_RUN_CONF_MAX; out (cap
 * bytes) gets that compact form. NULL or "" is {}. SPATE_EINVAL with a
 * message in err otherwise. Pure; out is the caller's. */
spate_status_t spate_sched_run_conf_parse(const char *text, size_t len, char *out, size_t cap,
                                          char *err, size_t errlen);

/* ================================================================== */
/* Operators (sched_op_*.c)                                            */
/* ================================================================== */

typedef struct {
    const char *name;
    /* Checks the task's own keys (t->node) at load time; every problem
     * goes to d as "file:line: ...". The keys every task has (task_id,
     * type, upstream, trigger_rule, retries, ... pool) are checked by the
     * DAG loader; an operator lists its own in `keys`. */
    const char *const *keys;
    void (*check)(const spate_conf_t *c, const spate_conf_node_t *task, spate_stream_diag_t *d);
    /* Runs one try in the task's own process, forked by the executor:
     * stdout and stderr are the try's log file. Returns the exit status
     * (0 = success). */
    int (*run)(const spate_sched_ti_ctx_t *ctx);
} spate_sched_op_t;

/* The operator registry (sched_op.c), or NULL for an unknown type. */
const spate_sched_op_t *spate_sched_op_find(const char *type);
/* NULL-terminated list of every operator, for messages and docs. */
const spate_sched_op_t *const *spate_sched_ops(void);

/* ================================================================== */
/* Metadata (sched_db.c): runs and task instances                      */
/* ================================================================== */

typedef enum {
    SPATE_TI_NONE, /* created, not yet considered */
    SPATE_TI_SCHEDULED,
    SPATE_TI_QUEUED,
    SPATE_TI_RUNNING,
    SPATE_TI_SUCCESS,
    SPATE_TI_FAILED,
    SPATE_TI_UP_FOR_RETRY,
    SPATE_TI_UPSTREAM_FAILED,
    SPATE_TI_SKIPPED,
} spate_sched_ti_state_t;

typedef enum {
    SPATE_RUN_QUEUED,
    SPATE_RUN_RUNNING,
    SPATE_RUN_SUCCESS,
    SPATE_RUN_FAILED,
} spate_sched_run_state_t;

typedef enum { SPATE_RUN_SCHEDULED, SPATE_RUN_MANUAL, SPATE_RUN_BACKFILL } spate_sched_run_type_t;

/* Names as Airflow spells them ("up_for_retry", "manual"); parse returns
 * SPATE_EINVAL for an unknown name. */
const char *spate_sched_ti_state_name(spate_sched_ti_state_t s);
spate_status_t spate_sched_ti_state_parse(const char *s, spate_sched_ti_state_t *out);
const char *spate_sched_run_state_name(spate_sched_run_state_t s);
const char *spate_sched_run_type_name(spate_sched_run_type_t t);

/* The longest run conf (compact JSON) a run stores, with its NUL. */
#define SPATE_SCHED_RUN_CONF_MAX 2048

typedef struct {
    char dag_id[256];
    char run_id[256]; /* "scheduled__2026-11-01T00:00:00+00:00" as Airflow */
    spate_sched_run_type_t type;
    spate_sched_run_state_t state;
    int64_t logical_date_ms, data_interval_start_ms, data_interval_end_ms;
    int64_t queued_ms, start_ms, end_ms; /* 0 = not yet */
    /* Added by CONF: Airflow's dag_run.conf, a JSON object given at
     * trigger time, as compact JSON text ("{}" when none; "" is read as
     * "{}"). Set when the run is created, never changed by _update.
     * Templates see it as {{ dag_run.conf.NAME }}, and its top-level keys
     * override the DAG's params of the same name ({{ params.NAME }}). */
    char conf[SPATE_SCHED_RUN_CONF_MAX];
} spate_sched_run_t;

typedef struct {
    char dag_id[256], run_id[256], task_id[256];
    spate_sched_ti_state_t state;
    int try_number; /* tries started so far */
    int max_tries;  /* retries + 1 */
    int64_t start_ms, end_ms, queued_ms;
    int64_t next_try_ms;  /* UP_FOR_RETRY: not before this */
    int64_t heartbeat_ms; /* RUNNING: last sign of life of its scheduler */
    int pid;              /* RUNNING: the try's process */
    char hostname[128];
    char pool[128];
    int exit_code; /* of the last finished try, -1 when none */
} spate_sched_ti_t;

typedef struct spate_sched_db spate_sched_db_t;

/* Opens (creating and migrating the schema as needed) "sqlite:PATH", a
 * bare PATH (SQLite), or a "postgresql://..." / "postgres://..." URL.
 * SQLite runs in WAL mode with a busy timeout, so the CLI and a running
 * scheduler share one file. */
spate_status_t spate_sched_db_open(spate_sched_db_t **out, const char *url, char *err,
                                   size_t errlen);
void spate_sched_db_close(spate_sched_db_t *db);
/* The last error text of this handle. */
const char *spate_sched_db_error(const spate_sched_db_t *db);
/* The schema version after migrations. */
int spate_sched_db_schema_version(spate_sched_db_t *db);

spate_status_t spate_sched_db_begin(spate_sched_db_t *db);
spate_status_t spate_sched_db_commit(spate_sched_db_t *db);
/* A trivial query (SELECT 1): OK when the database answers (health). */
spate_status_t spate_sched_db_ping(spate_sched_db_t *db);
void spate_sched_db_rollback(spate_sched_db_t *db);

/* DAG rows: known DAGs and whether they are paused. _ensure inserts a
 * DAG seen for the first time (paused = initial) and leaves an existing
 * row's paused flag alone. */
spate_status_t spate_sched_db_dag_ensure(spate_sched_db_t *db, const char *dag_id,
                                         bool initial_paused);
spate_status_t spate_sched_db_dag_paused(spate_sched_db_t *db, const char *dag_id, bool *paused);
spate_status_t spate_sched_db_dag_set_paused(spate_sched_db_t *db, const char *dag_id, bool paused);

/* Runs. create: SPATE_EEXIST when the dag already has that run_id or
 * (for scheduled/backfill runs) that logical date. */
spate_status_t spate_sched_db_run_create(spate_sched_db_t *db, const spate_sched_run_t *r);
spate_status_t spate_sched_db_run_get(spate_sched_db_t *db, const char *dag_id, const char *run_id,
                                      spate_sched_run_t *out); /* SPATE_ENOENT */
spate_status_t spate_sched_db_run_update(spate_sched_db_t *db, const spate_sched_run_t *r);
/* Runs of dag_id (NULL = every DAG), newest logical date first, at most
 * limit (0 = all); state_mask: bit (1 << state), 0 = any. The callback
 * returns false to stop. */
typedef bool (*spate_sched_run_cb)(void *ctx, const spate_sched_run_t *r);
spate_status_t spate_sched_db_runs(spate_sched_db_t *db, const char *dag_id, unsigned state_mask,
                                   size_t limit, spate_sched_run_cb cb, void *ctx);
/* The latest logical date among the dag's scheduled runs, or INT64_MIN. */
spate_status_t spate_sched_db_last_scheduled(spate_sched_db_t *db, const char *dag_id,
                                             int64_t *logical_ms);
/* The scheduled or backfill run at logical_ms (Airflow keeps one
 * automated run per logical date): its id copied into run_id (may be
 * NULL), or SPATE_ENOENT. */
spate_status_t spate_sched_db_run_at(spate_sched_db_t *db, const char *dag_id, int64_t logical_ms,
                                     char *run_id, size_t run_id_len);
/* Whether run_id may name a run: Airflow's ^[A-Za-z0-9_.~:+-]+$, not "."
 * nor "..", shorter than spate_sched_run_t.run_id (it becomes a folder of
 * DATA_DIR/logs/DAG/). run_create refuses others with SPATE_EINVAL. */
bool spate_sched_run_id_valid(const char *run_id);

/* Task instances. put inserts or replaces by (dag_id, run_id, task_id). */
spate_status_t spate_sched_db_ti_put(spate_sched_db_t *db, const spate_sched_ti_t *ti);
spate_status_t spate_sched_db_ti_get(spate_sched_db_t *db, const char *dag_id, const char *run_id,
                                     const char *task_id, spate_sched_ti_t *out); /* ENOENT */
typedef bool (*spate_sched_ti_cb)(void *ctx, const spate_sched_ti_t *ti);
/* Task instances of one run (run_id NULL: of every run of dag_id; both
 * NULL: all) with state in state_mask (0 = any). */
spate_status_t spate_sched_db_tis(spate_sched_db_t *db, const char *dag_id, const char *run_id,
                                  unsigned state_mask, spate_sched_ti_cb cb, void *ctx);

/* ================================================================== */
/* The scheduler (sched_core.c, sched_exec.c, sched_api.c)             */
/* ================================================================== */

typedef struct {
    const char *dags_path;                /* folder or file of DAGs; may be NULL */
    const spate_conf_t *inline_conf;      /* a pipeline file with */
    const spate_conf_node_t *inline_dags; /* scheduler.dags (or NULL) */
    const char *metadata;                 /* db URL; default DATA_DIR/scheduler.db */
    const char *data_dir;                 /* logs under DATA_DIR/logs/DAG/RUN/TASK/TRY.log */
    int workers;                          /* tries running at once: 8 */
    const char *api_listen;               /* REST API address, NULL = none */
    int64_t loop_ms;                      /* the loop's idle wake-up: 1000 */
    int64_t dead_after_ms;                /* a RUNNING try whose heartbeat is older is
                                             taken as dead and failed/retried: 30 000 */
    int64_t reload_ms;                    /* DAG folder rescan: 2 000 */
    /* pools: name → slots; default_pool has 128 unless listed */
    const char **pool_names;
    const int *pool_slots;
    size_t npools;
    spate_sched_env_t env;
    const char *zookeeper; /* "host:port[,...]" for leader election, or NULL */
    const char *zk_path;   /* "/spate/scheduler" */
    /* Added by CONF: only manual/backfill runs are created (no runs from
     * schedules, no catchup); `spate dags test` runs its one run so. */
    bool no_scheduled_runs;
} spate_sched_conf_t;

void spate_sched_conf_default(spate_sched_conf_t *c);

typedef struct spate_scheduler spate_scheduler_t;

spate_status_t spate_scheduler_new(spate_scheduler_t **out, const spate_sched_conf_t *c, char *err,
                                   size_t errlen);
/* Runs until spate_scheduler_stop (async-signal-safe) or a fatal error. */
spate_status_t spate_scheduler_run(spate_scheduler_t *s);
void spate_scheduler_stop(spate_scheduler_t *s);
void spate_scheduler_free(spate_scheduler_t *s);
/* The REST API's bound port (0 when none), for tests using port 0. */
int spate_scheduler_api_port(const spate_scheduler_t *s);

/* One step for tests and `dags test`: does everything the loop does once
 * at time now_ms (creating runs, deciding states, starting and reaping
 * tries) and returns. */
spate_status_t spate_scheduler_tick(spate_scheduler_t *s, int64_t now_ms);

/* Backfill: creates BACKFILL runs for every fire in [from_ms, to_ms]
 * (logical dates), skipping those that exist unless reset, then lets the
 * scheduler run them. *created gets the count. */
spate_status_t spate_scheduler_backfill(spate_sched_db_t *db, const spate_sched_dag_t *d,
                                        int64_t from_ms, int64_t to_ms, bool reset, size_t *created,
                                        char *err, size_t errlen);

/* Added by SB (sched_config.c): the `scheduler:` section of a pipeline
 * file → conf. Call spate_sched_conf_default(out) first: keys the file
 * leaves out keep their value (data_dir falls back to
 * "./spate-data/scheduler" when still NULL). Keys: dags_folder (relative
 * to the file's folder), dags (inline list; a top-level `dags:` is used
 * when the section has none), metadata, data_dir, workers, api, pools
 * {name: slots}, connections {postgres, sqlite, kafka, cql, randomuser},
 * zookeeper, zk_path. Unknown keys are errors. Every problem goes to d as
 * "file:line: ..." and the result is SPATE_EINVAL. A file without the
 * section is SPATE_OK (defaults only). Strings are borrowed from c (keep
 * it alive); the pools arrays and a joined dags_folder path are allocated
 * and freed by spate_sched_conf_release. */
spate_status_t spate_sched_conf_load(spate_sched_conf_t *out, const spate_conf_t *c,
                                     spate_stream_diag_t *d);
void spate_sched_conf_release(spate_sched_conf_t *c);

/* ================================================================== */
/* High availability (sched_ha.c): leader election through ZooKeeper   */
/* ================================================================== */

/* Added by ZK. Each scheduler is a candidate (an ephemeral sequential
 * znode PATH/candidate-N, data "host:pid"); the lowest leads. */
typedef struct spate_sched_ha spate_sched_ha_t;

/* The session timeout `spate scheduler` asks ZooKeeper for. */
#define SPATE_SCHED_HA_SESSION_MS 6000

/* Starts the election in a thread of its own: hosts "host:port[,...]"
 * (ZooKeeper's connect string), path the election folder (created when
 * missing; NULL = "/spate/scheduler"), session_ms the session timeout to
 * ask for (<= 0: SPATE_SCHED_HA_SESSION_MS). Returns at once; ZooKeeper
 * being down is not an error (the thread keeps trying), a malformed host
 * list or path is (SPATE_EINVAL, err says which). *out is freed by
 * spate_sched_ha_stop. */
spate_status_t spate_sched_ha_start(spate_sched_ha_t **out, const char *hosts, const char *path,
                                    int session_ms, char *err, size_t errlen);
/* True while this candidate leads and a ZooKeeper round trip succeeded
 * within 2/3 of the session timeout (so a cut-off leader stops before
 * the server can expire its session and elect another). Cheap (atomics
 * and a clock read); thread-safe. */
bool spate_sched_ha_is_leader(spate_sched_ha_t *h);
/* Resigns (deletes the candidate, so the next one leads at once), closes
 * the session, joins the thread and frees h. NULL is a no-op. */
void spate_sched_ha_stop(spate_sched_ha_t *h);

#endif /* SPATE_SCHED_H */
