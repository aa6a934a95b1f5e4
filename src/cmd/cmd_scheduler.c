/*
 * cmd_scheduler.c — `spate scheduler --config FILE | --dags PATH
 * [--metadata URL] [--data-dir DIR] [--api HOST:PORT] [--workers N]`:
 * the Airflow-like scheduler (src/sched/, docs/scheduler.md).
 *
 * With --config the `scheduler:` section of a pipeline file is read
 * (spate_sched_conf_load); the other options override it. With --dags
 * alone everything else has its default. Runs until SIGINT/SIGTERM:
 * running tries get SIGTERM (SIGKILL 5 s later) and are recorded, then
 * the process exits 0.
 *
 * Exit status: 0 after a clean stop; 1 when the scheduler could not
 * start (metadata, API address); 2 usage errors and invalid files.
 */
#include "cmd.h"
#include "sched.h"

#include <string.h>

#define CMD "scheduler"

static spate_scheduler_t *running;

static void on_stop(void) {
    if (running) spate_scheduler_stop(running);
}

static void usage(FILE *f) {
    fprintf(f, "usage: spate scheduler --config FILE | --dags PATH [options]\n"
               "\n"
               "Runs DAGs declared in YAML (docs/scheduler.md), as Airflow's scheduler does:\n"
               "runs from schedules (catchup, max_active_runs), task states by trigger rules,\n"
               "pools, retries with backoff, timeouts, one forked process and one log file per\n"
               "try; optionally a REST API in the shapes of Airflow's /api/v1.\n"
               "\n"
               "options (\"--opt value\" or \"--opt=value\"):\n"
               "  --config FILE       a pipeline file with a `scheduler:` section\n"
               "  --dags PATH         a folder (or file) of DAG YAML files\n"
               "  --metadata URL      sqlite:PATH, PATH or postgresql://... (default\n"
               "                      DATA_DIR/scheduler.db)\n"
               "  --data-dir DIR      logs and state (default ./spate-data/scheduler)\n"
               "  --api HOST:PORT     serve the REST API (port 0: any free port)\n"
               "  --workers N         tries running at once (default 8)\n"
               "  --dead-after DUR    a RUNNING try without heartbeat for DUR is failed and\n"
               "                      retried (default 30s)\n"
               "  --reload DUR        DAG folder rescan interval (default 2s)\n"
               "  --log-level L       debug, info, warn, error or off\n"
               "  --log-file F        append log lines to F instead of stderr\n"
               "  --help              show this help\n"
               "\n"
               "Exit status: 0 clean stop, 1 could not start, 2 usage error or invalid file.\n");
}

int spate_cmd_scheduler(int argc, char **argv) {
    const char *config = NULL, *dags = NULL, *metadata = NULL, *data_dir = NULL, *api = NULL;
    int64_t workers = 0, dead_after = 0, reload = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return SPATE_EXIT_OK;
        }
        int r;
        if ((r = spate_cmd_opt_value(CMD, argc, argv, &i, "--config", &v)) != 0) {
            if (r < 0) return SPATE_EXIT_USAGE;
            config = v;
        } else if ((r = spate_cmd_opt_value(CMD, argc, argv, &i, "--dags", &v)) != 0) {
            if (r < 0) return SPATE_EXIT_USAGE;
            dags = v;
        } else if ((r = spate_cmd_opt_value(CMD, argc, argv, &i, "--metadata", &v)) != 0) {
            if (r < 0) return SPATE_EXIT_USAGE;
            metadata = v;
        } else if ((r = spate_cmd_opt_value(CMD, argc, argv, &i, "--data-dir", &v)) != 0) {
            if (r < 0) return SPATE_EXIT_USAGE;
            data_dir = v;
        } else if ((r = spate_cmd_opt_value(CMD, argc, argv, &i, "--api", &v)) != 0) {
            if (r < 0) return SPATE_EXIT_USAGE;
            api = v;
        } else if ((r = spate_cmd_opt_value(CMD, argc, argv, &i, "--workers", &v)) != 0) {
            if (r < 0 || !spate_cmd_int_opt(CMD, "--workers", v, 1, 1024, &workers))
                return SPATE_EXIT_USAGE;
        } else if ((r = spate_cmd_opt_value(CMD, argc, argv, &i, "--dead-after", &v)) != 0) {
            if (r < 0) return SPATE_EXIT_USAGE;
            if (spate_sched_parse_duration(v, &dead_after) != SPATE_OK || dead_after <= 0)
                return spate_cmd_usage_error(CMD, "--dead-after: bad duration '%s'", v);
        } else if ((r = spate_cmd_opt_value(CMD, argc, argv, &i, "--reload", &v)) != 0) {
            if (r < 0) return SPATE_EXIT_USAGE;
            if (spate_sched_parse_duration(v, &reload) != SPATE_OK || reload <= 0)
                return spate_cmd_usage_error(CMD, "--reload: bad duration '%s'", v);
        } else if ((r = spate_cmd_opt_value(CMD, argc, argv, &i, "--log-level", &v)) != 0) {
            if (r < 0 || !spate_cmd_log_opt(CMD, "--log-level", v)) return SPATE_EXIT_USAGE;
        } else if ((r = spate_cmd_opt_value(CMD, argc, argv, &i, "--log-file", &v)) != 0) {
            if (r < 0 || !spate_cmd_log_opt(CMD, "--log-file", v)) return SPATE_EXIT_USAGE;
        } else {
            return spate_cmd_usage_error(CMD, "unknown argument '%s'", a);
        }
    }
    if (!config && !dags)
        return spate_cmd_usage_error(CMD, "--config FILE or --dags PATH is required");

    spate_sched_conf_t conf;
    spate_sched_conf_default(&conf);
    spate_conf_t file = {0};
    bool have_file = false;
    if (config) {
        spate_conf_err_t ce;
        if (spate_conf_load_file(&file, config, &ce) != SPATE_OK) {
            fprintf(stderr, "%s\n", ce.msg);
            return SPATE_EXIT_USAGE;
        }
        have_file = true;
        spate_stream_diag_t diag = {0};
        if (spate_sched_conf_load(&conf, &file, &diag) != SPATE_OK) {
            for (size_t i = 0; i < diag.n; i++) fprintf(stderr, "%s\n", diag.msgs[i]);
            spate_stream_diag_free(&diag);
            spate_sched_conf_release(&conf);
            spate_conf_free(&file);
            return SPATE_EXIT_USAGE;
        }
        spate_stream_diag_free(&diag);
    }
    if (dags) conf.dags_path = dags;
    if (metadata) conf.metadata = metadata;
    if (data_dir) conf.data_dir = data_dir;
    if (api) conf.api_listen = api;
    if (workers) conf.workers = (int)workers;
    if (dead_after) conf.dead_after_ms = dead_after;
    if (reload) conf.reload_ms = reload;

    int rc = SPATE_EXIT_OK;
    char err[512] = "";
    spate_scheduler_t *s = NULL;
    if (spate_scheduler_new(&s, &conf, err, sizeof err) != SPATE_OK) {
        fprintf(stderr, "spate scheduler: %s\n", err);
        rc = SPATE_EXIT_FAIL;
        goto out;
    }
    running = s;
    spate_cmd_on_stop(on_stop);
    if (spate_scheduler_run(s) != SPATE_OK) rc = SPATE_EXIT_FAIL;
    running = NULL;
    spate_scheduler_free(s);
out:
    if (have_file) {
        spate_sched_conf_release(&conf);
        spate_conf_free(&file);
    }
    return rc;
}
