/*
 * cmd_up.c — `spate up [--config FILE] [--once] [--count N]`: the whole
 * pipeline with one command (src/up/up.h).
 *
 * Without --config the embedded default pipeline (the same as
 * examples/pipeline.yaml) is written to ./spate-data/pipeline.yaml and
 * used, so `make run` needs nothing else.
 *
 * Exit status: 0 after Ctrl-C/SIGTERM (everything stopped) or a
 * successful --once; 1 when a component could not start, crashed too
 * often, or --once did not store every user; 2 for usage errors and
 * invalid files.
 */
#include "cmd.h"
#include "up.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "up"

static void usage(FILE *f) {
    fprintf(f, "usage: spate up [--config FILE] [--once] [--count N]\n"
               "\n"
               "Runs the whole pipeline as supervised child processes of this binary: the\n"
               "randomuser source, the broker, the CQL store, the stream processor and the\n"
               "scheduler (its user_automation DAG stages users and produces them to\n"
               "users_created; the stream job stores them in spark_streams.created_users).\n"
               "Each component is started once the previous one is healthy; one merged log\n"
               "with a prefix per component; a live status line (staged, in Kafka, stored,\n"
               "lag). A crashed component is restarted with backoff (5 crashes in a minute\n"
               "stop everything). Ctrl-C stops everything in reverse order; running it again\n"
               "resumes with the same data. Configuration: the file's `up:` section\n"
               "(docs/up.md).\n"
               "\n"
               "options (\"--opt value\" or \"--opt=value\"):\n"
               "  --config FILE     the pipeline file (default: the embedded one, written to\n"
               "                    ./spate-data/pipeline.yaml)\n"
               "  --once            run the DAG once end to end, check that every fetched user\n"
               "                    is stored, stop everything; exit 0 only then\n"
               "  --count N         users per triggered DAG run (sent as the run's conf, which\n"
               "                    overrides params.count); without a scheduler, users for\n"
               "                    --once (default up.once_count)\n"
               "  --print-config    print the embedded pipeline and exit\n"
               "  --log-level L     debug, info, warn, error or off (up's own messages)\n"
               "  --help            show this help\n"
               "\n"
               "Exit status: 0 clean stop or --once success, 1 failure, 2 usage error.\n");
}

int spate_cmd_up(int argc, char **argv) {
    const char *config = NULL;
    bool once = false;
    int64_t count = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return SPATE_EXIT_OK;
        }
        int r;
        if (!strcmp(a, "--print-config")) {
            fputs(spate_up_default_pipeline, stdout);
            return SPATE_EXIT_OK;
        }
        if (!strcmp(a, "--once")) {
            once = true;
        } else if ((r = spate_cmd_opt_value(CMD, argc, argv, &i, "--config", &v)) != 0) {
            if (r < 0) return SPATE_EXIT_USAGE;
            config = v;
        } else if ((r = spate_cmd_opt_value(CMD, argc, argv, &i, "--count", &v)) != 0) {
            if (r < 0 || !spate_cmd_int_opt(CMD, "--count", v, 1, 100000000, &count))
                return SPATE_EXIT_USAGE;
        } else if ((r = spate_cmd_opt_value(CMD, argc, argv, &i, "--log-level", &v)) != 0) {
            if (r < 0 || !spate_cmd_log_opt(CMD, "--log-level", v)) return SPATE_EXIT_USAGE;
        } else {
            return spate_cmd_usage_error(CMD, "unknown argument '%s'", a);
        }
    }
    spate_up_conf_t c;
    spate_up_conf_default(&c);
    spate_conf_err_t err = {{0}};
    spate_status_t st =
        config ? spate_up_conf_load(&c, config, &err) : spate_up_conf_embedded(&c, &err);
    if (st != SPATE_OK) {
        fprintf(stderr, "spate up: %s\n", err.msg);
        return SPATE_EXIT_USAGE;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        fprintf(stderr, "spate up: cannot find this program (/proc/self/exe)\n");
        return SPATE_EXIT_FAIL;
    }
    exe[n] = '\0';
    spate_up_opts_t o = {
        .once = once,
        .count = count,
        .exe = exe,
        .color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR"),
        .tty = isatty(STDOUT_FILENO),
        .stop_flag = spate_cmd_stop_flag(),
    };
    return spate_up_run(&c, &o);
}
