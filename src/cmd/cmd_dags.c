/*
 * cmd_dags.c — the scheduler's command line, as Airflow's CLI:
 *
 *   spate dags list [--dags PATH | --config FILE]
 *   spate dags trigger DAG [--run-id ID] [--logical-date T] [--conf JSON]
 *   spate dags pause|unpause DAG
 *   spate dags test DAG [DATE] [--conf JSON]
 *   spate dags backfill DAG --start-date A --end-date B [--reset]
 *   spate tasks test DAG TASK [DATE]
 *   spate tasks logs DAG RUN_ID TASK [--try N]
 *   spate runs list [DAG] [--state S] [--limit N]
 *
 * Like Airflow's CLI these read and write the metadata database directly
 * (SQLite in WAL mode, so they share the file with a running scheduler, or
 * PostgreSQL) and read the DAGs from the DagBag; no scheduler process is
 * asked anything. A triggered or backfilled run is a row in state queued:
 * the running scheduler picks it up on its next loop.
 *
 * Where settings come from (later wins):
 *   defaults       data_dir ./spate-data/scheduler, metadata DATA_DIR/scheduler.db
 *   --config FILE  the file's `scheduler:` section (sched_config.c)
 *   --dags PATH, --metadata URL, --data-dir DIR
 *
 * `dags test` runs one run in the foreground on a private, temporary
 * metadata database and data directory, so it never disturbs (nor is
 * disturbed by) a scheduler running on the real one. That private
 * scheduler runs with no_scheduled_runs: it creates no runs from
 * schedules (no catchup), so the one manual run recorded first is all it
 * runs.
 *
 * Exit status: 0 success, 1 failure (unknown DAG, a run that failed, a
 * broken DAG file in `dags list`), 2 usage errors.
 */
#include "cmd.h"
#include "sched.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_POS 4

/* Everything a subcommand may be given, parsed once. */
typedef struct {
    const char *cmd; /* "dags", "tasks", "runs": for messages */
    const char *action;
    const char *pos[MAX_POS];
    int npos;
    const char *config, *dags, *metadata, *data_dir;
    const char *run_id, *logical_date, *start_date, *end_date, *state, *try_s, *limit_s;
    const char *conf_json; /* dags trigger --conf */
    bool reset;
    /* resolved */
    spate_conf_t conf;
    spate_sched_conf_t sc;
    bool sc_loaded;
    char *metadata_buf; /* owned: DATA_DIR/scheduler.db */
    char *sqlite_buf;   /* owned: DATA_DIR/staging.db */
    spate_sched_dagbag_t *bag;
    spate_sched_db_t *db;
} cli_t;

/* Options each action takes beyond the common ones. */
typedef struct {
    const char *cmd, *action;
    int min_pos, max_pos;
    const char *opts; /* " --opt --opt2 " */
    const char *synopsis;
} action_t;

static const action_t actions[] = {
    {"dags", "list", 0, 0, "", "spate dags list"},
    {"dags", "trigger", 1, 1, " --run-id --logical-date --conf ",
     "spate dags trigger DAG [--run-id ID] [--logical-date T] [--conf JSON]"},
    {"dags", "pause", 1, 1, "", "spate dags pause DAG"},
    {"dags", "unpause", 1, 1, "", "spate dags unpause DAG"},
    {"dags", "test", 1, 2, " --conf ", "spate dags test DAG [DATE] [--conf JSON]"},
    {"dags", "backfill", 1, 1, " --start-date --end-date --reset ",
     "spate dags backfill DAG --start-date A --end-date B [--reset]"},
    {"tasks", "test", 2, 3, "", "spate tasks test DAG TASK [DATE]"},
    {"tasks", "logs", 3, 3, " --try ", "spate tasks logs DAG RUN_ID TASK [--try N]"},
    {"runs", "list", 0, 1, " --state --limit ", "spate runs list [DAG] [--state S] [--limit N]"},
};

static void usage(FILE *f, const char *cmd) {
    fprintf(f, "usage:\n");
    for (size_t i = 0; i < SPATE_ARRAY_LEN(actions); i++)
        if (strcmp(actions[i].cmd, cmd) == 0) fprintf(f, "  %s\n", actions[i].synopsis);
    fprintf(f, "\n");
    if (strcmp(cmd, "dags") == 0)
        fprintf(f, "  list      every DAG: id, schedule, paused, file; then broken files' errors\n"
                   "  trigger   create a manual run (state queued) that the scheduler picks up;\n"
                   "            --conf '{\"count\": 300}' is its dag_run.conf (a JSON object,\n"
                   "            overriding the DAG's params of the same names)\n"
                   "  pause     stop creating and running runs of the DAG; unpause undoes it\n"
                   "  test      run one run in the foreground (no scheduler needed; private\n"
                   "            metadata), print each task's state; exit 0 only on success\n"
                   "  backfill  create backfill runs for every schedule fire in [A, B]\n"
                   "            (--reset re-runs existing ones); the scheduler runs them\n");
    else if (strcmp(cmd, "tasks") == 0)
        fprintf(f, "  test      run one task's operator in the foreground, its log on stdout;\n"
                   "            nothing is recorded\n"
                   "  logs      print the log of a task's try (default: the latest)\n");
    else
        fprintf(f, "  list      runs, newest logical date first (--state queued|running|\n"
                   "            success|failed, --limit N)\n");
    fprintf(f, "\n"
               "common options (\"--opt value\" or \"--opt=value\"):\n"
               "  --config FILE     a pipeline file: its scheduler: section\n"
               "  --dags PATH       a DAG file or folder (overrides the file's)\n"
               "  --metadata URL    sqlite:PATH, PATH or postgresql://... (default\n"
               "                    DATA_DIR/scheduler.db)\n"
               "  --data-dir DIR    the scheduler's data directory (default\n"
               "                    ./spate-data/scheduler; logs under DIR/logs)\n"
               "  --log-level L, --log-file F, --help\n"
               "Times are UTC: 2026-11-01, 2026-11-01T06:30:00[Z].\n"
               "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

static void cli_free(cli_t *c) {
    if (c->db) spate_sched_db_close(c->db);
    if (c->bag) spate_sched_dagbag_free(c->bag);
    if (c->sc_loaded) spate_sched_conf_release(&c->sc);
    spate_conf_free(&c->conf);
    free(c->metadata_buf);
    free(c->sqlite_buf);
}

/* Parses argv (argv[0] the command, argv[1] the action). Returns -1 when
 * done successfully, else an exit status (help, usage error). */
static int cli_parse(cli_t *c, const char *cmd, int argc, char **argv, const action_t **act) {
    memset(c, 0, sizeof(*c));
    c->cmd = cmd;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout, cmd);
        return argc < 2 ? SPATE_EXIT_USAGE : SPATE_EXIT_OK;
    }
    c->action = argv[1];
    *act = NULL;
    for (size_t i = 0; i < SPATE_ARRAY_LEN(actions); i++)
        if (!strcmp(actions[i].cmd, cmd) && !strcmp(actions[i].action, c->action))
            *act = &actions[i];
    if (!*act) return spate_cmd_usage_error(cmd, "unknown action '%s'", c->action);
    struct {
        const char *name;
        const char **dst;
    } vals[] = {
        {"--config", &c->config},         {"--dags", &c->dags},
        {"--metadata", &c->metadata},     {"--data-dir", &c->data_dir},
        {"--run-id", &c->run_id},         {"--logical-date", &c->logical_date},
        {"--start-date", &c->start_date}, {"--end-date", &c->end_date},
        {"--state", &c->state},           {"--try", &c->try_s},
        {"--limit", &c->limit_s},         {"--conf", &c->conf_json},
    };
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout, cmd);
            return SPATE_EXIT_OK;
        }
        if (a[0] != '-' || a[1] == '\0') {
            if (c->npos == MAX_POS) return spate_cmd_usage_error(cmd, "too many arguments");
            c->pos[c->npos++] = a;
            continue;
        }
        int r = 0;
        if (!strcmp(a, "--reset")) {
            if (!strstr((*act)->opts, " --reset "))
                return spate_cmd_usage_error(cmd, "%s %s does not take --reset", cmd, c->action);
            c->reset = true;
            continue;
        }
        if ((r = spate_cmd_opt_value(cmd, argc, argv, &i, "--log-level", &v)) != 0) {
            if (r < 0 || !spate_cmd_log_opt(cmd, "--log-level", v)) return SPATE_EXIT_USAGE;
            continue;
        }
        if ((r = spate_cmd_opt_value(cmd, argc, argv, &i, "--log-file", &v)) != 0) {
            if (r < 0 || !spate_cmd_log_opt(cmd, "--log-file", v)) return SPATE_EXIT_USAGE;
            continue;
        }
        size_t k = 0;
        for (; k < SPATE_ARRAY_LEN(vals); k++) {
            if ((r = spate_cmd_opt_value(cmd, argc, argv, &i, vals[k].name, &v)) != 0) break;
        }
        if (r < 0) return SPATE_EXIT_USAGE;
        if (k == SPATE_ARRAY_LEN(vals)) return spate_cmd_usage_error(cmd, "unknown option '%s'", a);
        if (k >= 4) { /* action-specific */
            char key[32];
            snprintf(key, sizeof(key), " %s ", vals[k].name);
            if (!strstr((*act)->opts, key))
                return spate_cmd_usage_error(cmd, "%s %s does not take %s", cmd, c->action,
                                             vals[k].name);
        }
        *vals[k].dst = v;
    }
    if (c->npos < (*act)->min_pos)
        return spate_cmd_usage_error(cmd, "missing arguments: %s", (*act)->synopsis);
    if (c->npos > (*act)->max_pos)
        return spate_cmd_usage_error(cmd, "unexpected argument '%s': %s", c->pos[(*act)->max_pos],
                                     (*act)->synopsis);
    return -1;
}

static void print_diag(const spate_stream_diag_t *d, const char *what) {
    for (size_t i = 0; i < d->n; i++) fprintf(stderr, "%s\n", d->msgs[i]);
    if (d->dropped) fprintf(stderr, "%s: ... and %zu more problems\n", what, d->dropped);
}

/* Settings: defaults, then the config file, then the options. */
static int cli_settings(cli_t *c) {
    spate_sched_conf_default(&c->sc);
    c->sc_loaded = true;
    if (c->config) {
        spate_conf_err_t ce;
        if (spate_conf_load_file(&c->conf, c->config, &ce) != SPATE_OK) {
            fprintf(stderr, "%s\n", ce.msg);
            return SPATE_EXIT_USAGE;
        }
        spate_stream_diag_t d = {0};
        if (spate_sched_conf_load(&c->sc, &c->conf, &d) != SPATE_OK) {
            print_diag(&d, c->config);
            spate_stream_diag_free(&d);
            return SPATE_EXIT_USAGE;
        }
        spate_stream_diag_free(&d);
    }
    if (c->dags) {
        c->sc.dags_path = c->dags;
        c->sc.inline_dags = NULL; /* --dags replaces the file's DAGs */
    }
    if (c->data_dir) c->sc.data_dir = c->data_dir;
    if (!c->sc.data_dir) c->sc.data_dir = "./spate-data/scheduler";
    c->sc.env.data_dir = c->sc.data_dir;
    if (c->metadata) c->sc.metadata = c->metadata;
    if (!c->sc.metadata) {
        spate_buf_t b = SPATE_BUF_INIT;
        spate_buf_printf(&b, "%s/scheduler.db", c->sc.data_dir);
        c->metadata_buf = spate_buf_detach(&b, NULL);
        c->sc.metadata = c->metadata_buf;
    }
    if (!c->sc.env.sqlite) {
        spate_buf_t b = SPATE_BUF_INIT;
        spate_buf_printf(&b, "%s/staging.db", c->sc.data_dir);
        c->sqlite_buf = spate_buf_detach(&b, NULL);
        c->sc.env.sqlite = c->sqlite_buf;
    }
    return -1;
}

static bool is_pg(const char *url) {
    return !strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11);
}

/* mkdir -p for the folder of a SQLite metadata file (or any folder). */
static void mkdirs(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(tmp, 0755);
        *p = '/';
    }
    mkdir(tmp, 0755);
}

static const char *sqlite_path(const char *url) {
    const char *p = !strncmp(url, "sqlite:", 7) ? url + 7 : url;
    return !strncmp(p, "//", 2) ? p + 2 : p;
}

/* Opens the metadata. With must_exist, a SQLite file not there yet is
 * left closed (c->db NULL) instead of being created (listings). */
static int cli_open_db(cli_t *c, bool must_exist) {
    const char *url = c->sc.metadata;
    if (!is_pg(url)) {
        const char *path = sqlite_path(url);
        struct stat st;
        if (must_exist && stat(path, &st) != 0) return -1;
        const char *slash = strrchr(path, '/');
        if (slash && slash != path) {
            char dir[4096];
            snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
            mkdirs(dir);
        }
    }
    char err[512] = "";
    if (spate_sched_db_open(&c->db, url, err, sizeof(err)) != SPATE_OK) {
        fprintf(stderr, "spate %s: metadata %s: %s\n", c->cmd, url, err);
        return SPATE_EXIT_FAIL;
    }
    return -1;
}

/* Loads the DagBag; broken files' problems are printed unless quiet. */
static int cli_load_bag(cli_t *c, bool print_errors) {
    if (!c->sc.dags_path && !c->sc.inline_dags) {
        fprintf(stderr,
                "spate %s: no DAGs: give --dags PATH or --config FILE (with "
                "scheduler: dags_folder or dags)\n",
                c->cmd);
        return SPATE_EXIT_USAGE;
    }
    c->bag = spate_sched_dagbag_new();
    if (c->sc.dags_path && spate_sched_dagbag_load(c->bag, c->sc.dags_path, NULL) == SPATE_EIO) {
        fprintf(stderr, "spate %s: cannot read DAGs from %s: %s\n", c->cmd, c->sc.dags_path,
                strerror(errno));
        return SPATE_EXIT_FAIL;
    }
    if (c->sc.inline_dags)
        spate_sched_dagbag_add_node(c->bag, c->sc.inline_conf, c->sc.inline_dags);
    if (print_errors) print_diag(spate_sched_dagbag_errors(c->bag), "DAGs");
    return -1;
}

static const spate_sched_dag_t *cli_dag(cli_t *c, const char *dag_id) {
    const spate_sched_dag_t *d = spate_sched_dagbag_get(c->bag, dag_id);
    if (!d) {
        fprintf(stderr, "spate %s: no DAG '%s'", c->cmd, dag_id);
        const spate_stream_diag_t *e = spate_sched_dagbag_errors(c->bag);
        if (spate_stream_diag_count(e)) fprintf(stderr, " (broken DAG files:)");
        fprintf(stderr, "\n");
        print_diag(e, "DAGs");
    }
    return d;
}

/* "2026-11-01T00:00:00+00:00" as Airflow writes dates in run ids and
 * listings, with microseconds (".123000") only when the time has a
 * fraction (the scheduler's run ids have the same form); "" for 0. */
static void fmt_ts(int64_t ms, char out[48]) {
    if (ms == 0) {
        out[0] = '\0';
        return;
    }
    char iso[25];
    spate_time_iso8601(ms, iso); /* 2026-11-01T00:00:00.000Z */
    int frac = (int)(((ms % 1000) + 1000) % 1000);
    if (frac == 0)
        snprintf(out, 48, "%.19s+00:00", iso);
    else
        snprintf(out, 48, "%.19s.%06d+00:00", iso, frac * 1000);
}

static int parse_time_arg(const char *cmd, const char *what, const char *text, int64_t *out) {
    if (spate_sched_parse_time(text, out) != SPATE_OK) {
        spate_cmd_usage_error(cmd,
                              "%s: '%s' is not a UTC date or time (2026-11-01, "
                              "2026-11-01T06:30:00)",
                              what, text);
        return SPATE_EXIT_USAGE;
    }
    return -1;
}

/* The data interval of a manual run at logical date t (Airflow's
 * infer_manual_data_interval): the last complete schedule interval
 * ending at or before t; [t, t] for DAGs without a periodic schedule. */
static void manual_interval(const spate_sched_dag_t *d, int64_t t, int64_t *start, int64_t *end) {
    *start = *end = t;
    if (d->schedule.kind != SPATE_SCHED_CRON && d->schedule.kind != SPATE_SCHED_EVERY) return;
    int64_t e = spate_sched_schedule_prev(&d->schedule, d->start_date_ms, t);
    if (e == INT64_MIN) return;
    int64_t s = spate_sched_schedule_prev(&d->schedule, d->start_date_ms, e - 1);
    if (s == INT64_MIN) return;
    *start = s;
    *end = e;
}

/* ------------------------------------------------------------------ */
/* A small table printer: columns padded to their widest cell          */
/* ------------------------------------------------------------------ */

#define TBL_COLS 8

typedef struct {
    int ncols;
    char **cells; /* rows * ncols, owned */
    size_t nrows, cap;
} table_t;

static void tbl_row(table_t *t, const char *const *vals) {
    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 32;
        t->cells = spate_xrealloc(t->cells, t->cap * (size_t)t->ncols * sizeof(char *));
    }
    for (int i = 0; i < t->ncols; i++)
        t->cells[t->nrows * (size_t)t->ncols + (size_t)i] = spate_xstrdup(vals[i] ? vals[i] : "");
    t->nrows++;
}

static void tbl_print_free(table_t *t) {
    size_t w[TBL_COLS] = {0};
    for (size_t r = 0; r < t->nrows; r++)
        for (int i = 0; i < t->ncols; i++) {
            size_t n = strlen(t->cells[r * (size_t)t->ncols + (size_t)i]);
            if (n > w[i]) w[i] = n;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (int i = 0; i < t->ncols; i++) {
            const char *s = t->cells[r * (size_t)t->ncols + (size_t)i];
            if (i == t->ncols - 1)
                printf("%s\n", s);
            else
                printf("%-*s | ", (int)w[i], s);
        }
        if (r == 0) { /* the header's rule */
            for (int i = 0; i < t->ncols; i++) {
                for (size_t k = 0; k < w[i]; k++) putchar('=');
                printf(i == t->ncols - 1 ? "\n" : "=+=");
            }
        }
    }
    for (size_t k = 0; k < t->nrows * (size_t)t->ncols; k++) free(t->cells[k]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = t->cap = 0;
}

/* ------------------------------------------------------------------ */
/* dags                                                                */
/* ------------------------------------------------------------------ */

static int dags_list(cli_t *c) {
    int r = cli_load_bag(c, false);
    if (r >= 0) return r;
    if ((r = cli_open_db(c, true)) >= 0) return r;
    table_t t = {.ncols = 4};
    tbl_row(&t, (const char *[]){"dag_id", "schedule", "paused", "file"});
    for (size_t i = 0; i < spate_sched_dagbag_count(c->bag); i++) {
        const spate_sched_dag_t *d = spate_sched_dagbag_at(c->bag, i);
        bool paused = d->is_paused_upon_creation;
        if (c->db) spate_sched_db_dag_paused(c->db, d->dag_id, &paused); /* ENOENT: not seen */
        tbl_row(&t,
                (const char *[]){d->dag_id, d->schedule.text, paused ? "True" : "False", d->file});
    }
    tbl_print_free(&t);
    const spate_stream_diag_t *e = spate_sched_dagbag_errors(c->bag);
    if (spate_stream_diag_count(e) == 0) return SPATE_EXIT_OK;
    fprintf(stderr, "\nErrors in DAG files (those DAGs are left out):\n");
    print_diag(e, "DAGs");
    return SPATE_EXIT_FAIL;
}

static int dags_trigger(cli_t *c) {
    int r = cli_load_bag(c, false);
    if (r >= 0) return r;
    const spate_sched_dag_t *d = cli_dag(c, c->pos[0]);
    if (!d) return SPATE_EXIT_FAIL;
    int64_t now = spate_wall_ms(), logical = now;
    if (c->logical_date &&
        (r = parse_time_arg(c->cmd, "--logical-date", c->logical_date, &logical)) >= 0)
        return r;
    spate_sched_run_t run;
    memset(&run, 0, sizeof(run));
    snprintf(run.dag_id, sizeof(run.dag_id), "%s", d->dag_id);
    if (c->run_id) {
        if (!spate_sched_run_id_valid(c->run_id)) /* it becomes a folder of the logs */
            return spate_cmd_usage_error(c->cmd,
                                         "--run-id: 1..255 characters of A-Z a-z 0-9 _ . ~ : + -"
                                         " (not '.' or '..')");
        snprintf(run.run_id, sizeof(run.run_id), "%s", c->run_id);
    } else {
        char ts[48];
        fmt_ts(logical, ts);
        snprintf(run.run_id, sizeof(run.run_id), "manual__%s", ts);
    }
    run.type = SPATE_RUN_MANUAL;
    run.state = SPATE_RUN_QUEUED;
    run.logical_date_ms = logical;
    manual_interval(d, logical, &run.data_interval_start_ms, &run.data_interval_end_ms);
    run.queued_ms = now;
    char cerr[256];
    if (spate_sched_run_conf_parse(c->conf_json, c->conf_json ? strlen(c->conf_json) : 0, run.conf,
                                   sizeof(run.conf), cerr, sizeof(cerr)) != SPATE_OK)
        return spate_cmd_usage_error(c->cmd, "--conf: %s", cerr);
    if ((r = cli_open_db(c, false)) >= 0) return r;
    bool paused = false;
    if (spate_sched_db_dag_ensure(c->db, d->dag_id, d->is_paused_upon_creation) != SPATE_OK ||
        spate_sched_db_dag_paused(c->db, d->dag_id, &paused) != SPATE_OK ||
        spate_sched_db_run_create(c->db, &run) != SPATE_OK) {
        fprintf(stderr, "spate dags trigger: %s\n", spate_sched_db_error(c->db));
        return SPATE_EXIT_FAIL;
    }
    char ts[48];
    fmt_ts(logical, ts);
    printf("Created run %s of DAG %s (logical date %s), state queued\n", run.run_id, d->dag_id, ts);
    if (strcmp(run.conf, "{}") != 0) printf("conf: %s\n", run.conf);
    if (paused)
        printf("DAG %s is paused: the run starts once it is unpaused (spate dags unpause %s)\n",
               d->dag_id, d->dag_id);
    return SPATE_EXIT_OK;
}

static int dags_pause(cli_t *c, bool pause) {
    int r = cli_load_bag(c, false);
    if (r >= 0) return r;
    if ((r = cli_open_db(c, false)) >= 0) return r;
    const char *id = c->pos[0];
    const spate_sched_dag_t *d = spate_sched_dagbag_get(c->bag, id);
    bool known = false;
    if (!d && spate_sched_db_dag_paused(c->db, id, &known) == SPATE_ENOENT) {
        cli_dag(c, id); /* prints the error */
        return SPATE_EXIT_FAIL;
    }
    if ((d && spate_sched_db_dag_ensure(c->db, id, d->is_paused_upon_creation) != SPATE_OK) ||
        spate_sched_db_dag_set_paused(c->db, id, pause) != SPATE_OK) {
        fprintf(stderr, "spate dags %s: %s\n", c->action, spate_sched_db_error(c->db));
        return SPATE_EXIT_FAIL;
    }
    printf("Dag: %s, paused: %s\n", id, pause ? "True" : "False");
    return SPATE_EXIT_OK;
}

static int dags_backfill(cli_t *c) {
    if (!c->start_date || !c->end_date)
        return spate_cmd_usage_error(c->cmd, "backfill needs --start-date and --end-date");
    int64_t from, to;
    int r;
    if ((r = parse_time_arg(c->cmd, "--start-date", c->start_date, &from)) >= 0) return r;
    if ((r = parse_time_arg(c->cmd, "--end-date", c->end_date, &to)) >= 0) return r;
    if (to < from) return spate_cmd_usage_error(c->cmd, "--end-date is before --start-date");
    if ((r = cli_load_bag(c, false)) >= 0) return r;
    const spate_sched_dag_t *d = cli_dag(c, c->pos[0]);
    if (!d) return SPATE_EXIT_FAIL;
    if ((r = cli_open_db(c, false)) >= 0) return r;
    if (spate_sched_db_dag_ensure(c->db, d->dag_id, d->is_paused_upon_creation) != SPATE_OK) {
        fprintf(stderr, "spate dags backfill: %s\n", spate_sched_db_error(c->db));
        return SPATE_EXIT_FAIL;
    }
    size_t created = 0;
    char err[512] = "";
    spate_status_t st =
        spate_scheduler_backfill(c->db, d, from, to, c->reset, &created, err, sizeof(err));
    if (st != SPATE_OK) {
        fprintf(stderr, "spate dags backfill: %s\n", err[0] ? err : spate_status_str(st));
        return SPATE_EXIT_FAIL;
    }
    char a[48], b[48];
    fmt_ts(from, a);
    fmt_ts(to, b);
    printf("Created %zu backfill run%s of DAG %s for %s .. %s; the scheduler runs them\n", created,
           created == 1 ? "" : "s", d->dag_id, a, b);
    return SPATE_EXIT_OK;
}

/* dags test: the private scheduler's state, polled after each tick. */
typedef struct {
    const spate_sched_dag_t *dag;
    spate_sched_ti_state_t *last; /* per task, -1 = not seen */
    int *last_try;
} test_watch_t;

static bool watch_ti(void *ctx, const spate_sched_ti_t *ti) {
    test_watch_t *w = ctx;
    for (size_t i = 0; i < w->dag->ntasks; i++) {
        if (strcmp(w->dag->tasks[i].id, ti->task_id) != 0) continue;
        if ((int)w->last[i] != (int)ti->state || w->last_try[i] != ti->try_number) {
            char ts[25];
            spate_time_iso8601(spate_wall_ms(), ts);
            printf("%s %s: %s (try %d/%d)\n", ts, ti->task_id, spate_sched_ti_state_name(ti->state),
                   ti->try_number, ti->max_tries);
            fflush(stdout);
            w->last[i] = ti->state;
            w->last_try[i] = ti->try_number;
        }
    }
    return true;
}

static void print_file(const char *path, const char *indent) {
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[4096];
    while (fgets(line, sizeof(line), f)) {
        fputs(indent, stdout);
        fputs(line, stdout);
        size_t n = strlen(line);
        if (n && line[n - 1] != '\n') putchar('\n');
    }
    fclose(f);
}

static int dags_test(cli_t *c) {
    int r = cli_load_bag(c, false);
    if (r >= 0) return r;
    const spate_sched_dag_t *d = cli_dag(c, c->pos[0]);
    if (!d) return SPATE_EXIT_FAIL;
    int64_t now = spate_wall_ms(), logical = now;
    if (c->npos > 1 && (r = parse_time_arg(c->cmd, "DATE", c->pos[1], &logical)) >= 0) return r;
    char conf[SPATE_SCHED_RUN_CONF_MAX], cerr[256];
    if (spate_sched_run_conf_parse(c->conf_json, c->conf_json ? strlen(c->conf_json) : 0, conf,
                                   sizeof(conf), cerr, sizeof(cerr)) != SPATE_OK)
        return spate_cmd_usage_error(c->cmd, "--conf: %s", cerr);

    char tmp[] = "/tmp/spate-dags-test.XXXXXX";
    if (!mkdtemp(tmp)) {
        fprintf(stderr, "spate dags test: mkdtemp: %s\n", strerror(errno));
        return SPATE_EXIT_FAIL;
    }
    spate_buf_t url = SPATE_BUF_INIT;
    spate_buf_printf(&url, "%s/test.db", tmp);
    spate_sched_conf_t sc = c->sc;
    sc.metadata = url.data;
    sc.data_dir = tmp;
    sc.env.data_dir = tmp;
    sc.api_listen = NULL;
    sc.zookeeper = NULL;
    sc.loop_ms = 20;
    sc.no_scheduled_runs = true; /* only the run recorded below */

    int rc = SPATE_EXIT_FAIL;
    spate_sched_db_t *db = NULL;
    spate_scheduler_t *s = NULL;
    test_watch_t w = {d, spate_xcalloc(d->ntasks ? d->ntasks : 1, sizeof(*w.last)),
                      spate_xcalloc(d->ntasks ? d->ntasks : 1, sizeof(int))};
    for (size_t i = 0; i < d->ntasks; i++) w.last[i] = (spate_sched_ti_state_t)-1;
    char err[512] = "";
    if (spate_sched_db_open(&db, url.data, err, sizeof(err)) != SPATE_OK) {
        fprintf(stderr, "spate dags test: %s\n", err);
        goto out;
    }
    spate_sched_run_t run;
    memset(&run, 0, sizeof(run));
    snprintf(run.dag_id, sizeof(run.dag_id), "%s", d->dag_id);
    char ts[48];
    fmt_ts(logical, ts);
    snprintf(run.run_id, sizeof(run.run_id), "manual__%s", ts);
    run.type = SPATE_RUN_MANUAL;
    run.state = SPATE_RUN_QUEUED;
    run.logical_date_ms = logical;
    manual_interval(d, logical, &run.data_interval_start_ms, &run.data_interval_end_ms);
    run.queued_ms = now;
    memcpy(run.conf, conf, sizeof(run.conf));
    /* The bag's other DAGs need nothing: without scheduled runs, this run
     * is the only one in the private database. */
    if (spate_sched_db_dag_ensure(db, d->dag_id, false) != SPATE_OK ||
        spate_sched_db_dag_set_paused(db, d->dag_id, false) != SPATE_OK ||
        spate_sched_db_run_create(db, &run) != SPATE_OK) {
        fprintf(stderr, "spate dags test: %s\n", spate_sched_db_error(db));
        goto out;
    }
    if (spate_scheduler_new(&s, &sc, err, sizeof(err)) != SPATE_OK) {
        fprintf(stderr, "spate dags test: %s\n", err);
        goto out;
    }
    printf("Testing DAG %s: run %s (data interval ", d->dag_id, run.run_id);
    char a[48], b[48];
    fmt_ts(run.data_interval_start_ms, a);
    fmt_ts(run.data_interval_end_ms, b);
    printf("%s .. %s)\n", a, b);
    fflush(stdout);
    volatile int *stop = spate_cmd_stop_flag();
    spate_sched_run_t cur = run;
    while (!*stop) {
        spate_status_t st = spate_scheduler_tick(s, spate_wall_ms());
        if (st != SPATE_OK) {
            fprintf(stderr, "spate dags test: scheduler: %s\n", spate_status_str(st));
            break;
        }
        spate_sched_db_tis(db, d->dag_id, run.run_id, 0, watch_ti, &w);
        if (spate_sched_db_run_get(db, d->dag_id, run.run_id, &cur) != SPATE_OK) break;
        if (cur.state == SPATE_RUN_SUCCESS || cur.state == SPATE_RUN_FAILED) break;
        spate_sleep_ms(20);
    }
    if (*stop) fprintf(stderr, "spate dags test: interrupted\n");
    printf("\nRun %s: %s\n", run.run_id, spate_sched_run_state_name(cur.state));
    /* The summary, in topological order; failed tries' logs inline (the
     * private data directory goes away). */
    for (size_t k = 0; k < d->ntasks; k++) {
        const spate_sched_task_t *t = &d->tasks[d->topo ? d->topo[k] : k];
        spate_sched_ti_t ti;
        if (spate_sched_db_ti_get(db, d->dag_id, run.run_id, t->id, &ti) != SPATE_OK) {
            printf("  %-24s none\n", t->id);
            continue;
        }
        printf("  %-24s %-16s tries %d/%d", t->id, spate_sched_ti_state_name(ti.state),
               ti.try_number, ti.max_tries);
        if (ti.start_ms && ti.end_ms) printf("  %.3f s", (double)(ti.end_ms - ti.start_ms) / 1e3);
        printf("\n");
        if (ti.state == SPATE_TI_FAILED || ti.state == SPATE_TI_UP_FOR_RETRY) {
            char log[4096];
            snprintf(log, sizeof(log), "%s/logs/%s/%s/%s/%d.log", tmp, d->dag_id, run.run_id, t->id,
                     ti.try_number);
            print_file(log, "    | ");
        }
    }
    if (cur.state == SPATE_RUN_SUCCESS && !*stop) rc = SPATE_EXIT_OK;
out:
    if (s) spate_scheduler_free(s);
    if (db) spate_sched_db_close(db);
    free(w.last);
    free(w.last_try);
    spate_buf_free(&url);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "spate dags test: could not remove %s\n", tmp);
    return rc;
}

/* ------------------------------------------------------------------ */
/* tasks                                                               */
/* ------------------------------------------------------------------ */

static int tasks_test(cli_t *c) {
    int r = cli_load_bag(c, false);
    if (r >= 0) return r;
    const spate_sched_dag_t *d = cli_dag(c, c->pos[0]);
    if (!d) return SPATE_EXIT_FAIL;
    const spate_sched_task_t *t = spate_sched_dag_task(d, c->pos[1]);
    if (!t) {
        fprintf(stderr, "spate tasks test: DAG %s has no task '%s'\n", d->dag_id, c->pos[1]);
        return SPATE_EXIT_FAIL;
    }
    const spate_sched_op_t *op = spate_sched_op_find(t->type);
    if (!op) {
        fprintf(stderr, "spate tasks test: unknown task type '%s'\n", t->type);
        return SPATE_EXIT_FAIL;
    }
    int64_t logical = spate_wall_ms();
    if (c->npos > 2 && (r = parse_time_arg(c->cmd, "DATE", c->pos[2], &logical)) >= 0) return r;
    char ts[48], run_id[64];
    fmt_ts(logical, ts);
    snprintf(run_id, sizeof(run_id), "test__%s", ts);
    mkdirs(c->sc.data_dir); /* SQLite staging lives there by default */
    spate_sched_ti_ctx_t ctx = {
        .dag = d,
        .task = t,
        .run_id = run_id,
        .logical_date_ms = logical,
        .try_number = 1,
        .env = &c->sc.env,
    };
    manual_interval(d, logical, &ctx.data_interval_start_ms, &ctx.data_interval_end_ms);
    fprintf(stderr, "spate tasks test: %s.%s (%s), run %s; nothing is recorded\n", d->dag_id, t->id,
            t->type, run_id);
    fflush(stdout);
    fflush(stderr);
    int status = op->run(&ctx);
    fflush(stdout);
    fprintf(stderr, "spate tasks test: %s.%s %s (exit status %d)\n", d->dag_id, t->id,
            status == 0 ? "succeeded" : "failed", status);
    return status == 0 ? SPATE_EXIT_OK : SPATE_EXIT_FAIL;
}

/* A path component taken from the command line: no '/', not "." or "..". */
static bool safe_component(const char *s) {
    return *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int tasks_logs(cli_t *c) {
    const char *dag = c->pos[0], *run = c->pos[1], *task = c->pos[2];
    if (!safe_component(dag) || !safe_component(run) || !safe_component(task))
        return spate_cmd_usage_error(c->cmd, "DAG, RUN_ID and TASK may not contain '/'");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/logs/%s/%s/%s", c->sc.data_dir, dag, run, task);
    int64_t try_n = 0;
    if (c->try_s && !spate_cmd_int_opt(c->cmd, "--try", c->try_s, 1, 1000000, &try_n))
        return SPATE_EXIT_USAGE;
    if (!try_n) { /* the latest try with a log */
        DIR *dh = opendir(dir);
        if (!dh) {
            fprintf(stderr, "spate tasks logs: no logs for %s/%s/%s (%s: %s)\n", dag, run, task,
                    dir, strerror(errno));
            return SPATE_EXIT_FAIL;
        }
        struct dirent *e;
        while ((e = readdir(dh))) {
            int64_t n;
            char num[32];
            const char *dot = strrchr(e->d_name, '.');
            if (!dot || strcmp(dot, ".log") != 0 || (size_t)(dot - e->d_name) >= sizeof(num))
                continue;
            snprintf(num, sizeof(num), "%.*s", (int)(dot - e->d_name), e->d_name);
            if (spate_parse_i64(num, 1, 1000000, &n) == SPATE_OK && n > try_n) try_n = n;
        }
        closedir(dh);
        if (!try_n) {
            fprintf(stderr, "spate tasks logs: no logs for %s/%s/%s in %s\n", dag, run, task, dir);
            return SPATE_EXIT_FAIL;
        }
    }
    char path[4200];
    snprintf(path, sizeof(path), "%s/%" PRId64 ".log", dir, try_n);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "spate tasks logs: %s: %s\n", path, strerror(errno));
        return SPATE_EXIT_FAIL;
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) fwrite(buf, 1, n, stdout);
    fclose(f);
    return SPATE_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* runs                                                                */
/* ------------------------------------------------------------------ */

static bool list_run(void *ctx, const spate_sched_run_t *r) {
    table_t *t = ctx;
    char ld[48], st[48], en[48];
    fmt_ts(r->logical_date_ms, ld);
    fmt_ts(r->start_ms, st);
    fmt_ts(r->end_ms, en);
    tbl_row(t, (const char *[]){r->dag_id, r->run_id, spate_sched_run_type_name(r->type),
                                spate_sched_run_state_name(r->state), ld, st, en});
    return true;
}

static int runs_list(cli_t *c) {
    unsigned mask = 0;
    if (c->state) {
        static const spate_sched_run_state_t all[] = {SPATE_RUN_QUEUED, SPATE_RUN_RUNNING,
                                                      SPATE_RUN_SUCCESS, SPATE_RUN_FAILED};
        for (size_t i = 0; i < SPATE_ARRAY_LEN(all); i++)
            if (!strcmp(c->state, spate_sched_run_state_name(all[i]))) mask = 1u << all[i];
        if (!mask)
            return spate_cmd_usage_error(c->cmd,
                                         "--state: '%s' is not queued, running, success "
                                         "or failed",
                                         c->state);
    }
    int64_t limit = 0;
    if (c->limit_s && !spate_cmd_int_opt(c->cmd, "--limit", c->limit_s, 1, INT32_MAX, &limit))
        return SPATE_EXIT_USAGE;
    int r = cli_open_db(c, true);
    if (r >= 0) return r;
    table_t t = {.ncols = 7};
    tbl_row(&t, (const char *[]){"dag_id", "run_id", "run_type", "state", "logical_date",
                                 "start_date", "end_date"});
    if (c->db && spate_sched_db_runs(c->db, c->npos ? c->pos[0] : NULL, mask, (size_t)limit,
                                     list_run, &t) != SPATE_OK) {
        fprintf(stderr, "spate runs list: %s\n", spate_sched_db_error(c->db));
        tbl_print_free(&t);
        return SPATE_EXIT_FAIL;
    }
    tbl_print_free(&t);
    return SPATE_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */
/* ------------------------------------------------------------------ */

static int run_cmd(const char *cmd, int argc, char **argv) {
    cli_t c;
    const action_t *act = NULL;
    int r = cli_parse(&c, cmd, argc, argv, &act);
    if (r >= 0) return r;
    r = cli_settings(&c);
    if (r < 0) {
        const char *a = act->action;
        if (!strcmp(cmd, "dags")) {
            if (!strcmp(a, "list"))
                r = dags_list(&c);
            else if (!strcmp(a, "trigger"))
                r = dags_trigger(&c);
            else if (!strcmp(a, "pause"))
                r = dags_pause(&c, true);
            else if (!strcmp(a, "unpause"))
                r = dags_pause(&c, false);
            else if (!strcmp(a, "test"))
                r = dags_test(&c);
            else
                r = dags_backfill(&c);
        } else if (!strcmp(cmd, "tasks")) {
            r = !strcmp(a, "test") ? tasks_test(&c) : tasks_logs(&c);
        } else {
            r = runs_list(&c);
        }
    }
    cli_free(&c);
    fflush(stdout);
    return r;
}

int spate_cmd_dags(int argc, char **argv) { return run_cmd("dags", argc, argv); }
int spate_cmd_tasks(int argc, char **argv) { return run_cmd("tasks", argc, argv); }
int spate_cmd_runs(int argc, char **argv) { return run_cmd("runs", argc, argv); }
