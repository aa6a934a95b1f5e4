/*
 * cmd_util.c — option parsing helpers shared by the subcommands.
 */
#include "cmd.h"

#include <signal.h>
#include <string.h>

int spate_cmd_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "spate %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'spate %s --help'.\n", cmd);
    va_end(ap);
    return SPATE_EXIT_USAGE;
}

bool spate_cmd_int_opt(const char *cmd, const char *opt, const char *val, int64_t min, int64_t max,
                       int64_t *out) {
    spate_status_t st = spate_parse_i64(val, min, max, out);
    if (st == SPATE_OK) return true;
    spate_cmd_usage_error(cmd, "%s: '%s' is not %s from %lld to %lld", opt, val,
                          st == SPATE_ERANGE ? "in the range" : "an integer", (long long)min,
                          (long long)max);
    return false;
}

bool spate_cmd_double_opt(const char *cmd, const char *opt, const char *val, double min, double max,
                          double *out) {
    double v;
    if (spate_parse_double(val, &v) == SPATE_OK && v >= min && v <= max) {
        *out = v;
        return true;
    }
    spate_cmd_usage_error(cmd, "%s: '%s' is not a number from %g to %g", opt, val, min, max);
    return false;
}

bool spate_cmd_log_opt(const char *cmd, const char *opt, const char *val) {
    if (strcmp(opt, "--log-level") == 0) {
        spate_log_level_t lvl;
        if (spate_log_level_parse(val, &lvl) != SPATE_OK) {
            spate_cmd_usage_error(
                cmd, "--log-level: '%s' is not one of debug, info, warn, error, off", val);
            return false;
        }
        spate_log_set_level(lvl);
        return true;
    }
    if (spate_log_set_file(val) != SPATE_OK) {
        fprintf(stderr, "spate %s: --log-file: cannot open '%s'\n", cmd, val);
        return false;
    }
    return true;
}

static volatile int stop_flag;
static void (*stop_hook)(void);

static void on_signal(int sig) {
    SPATE_UNUSED(sig);
    stop_flag = 1;
    if (stop_hook) stop_hook();
}

volatile int *spate_cmd_on_stop(void (*hook)(void)) {
    stop_hook = hook;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return &stop_flag;
}

volatile int *spate_cmd_stop_flag(void) { return spate_cmd_on_stop(NULL); }
