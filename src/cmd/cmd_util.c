/*
 * cmd_util.c — option and config-file helpers shared by the subcommands.
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

spate_status_t spate_cmd_server_conf(spate_conf_t *conf, const char *path, const char *section,
                                     const char *const *keys, spate_net_addr_t *listen,
                                     const spate_conf_node_t **m, spate_conf_err_t *err) {
    const char *const top_keys[] = {section, "log_level", NULL};
    *m = NULL;
    if (spate_conf_load_file(conf, path, err) != SPATE_OK) return SPATE_EINVAL;
    if (spate_conf_check_keys(conf, conf->root, top_keys, err) != SPATE_OK) return SPATE_EINVAL;
    const char *s = NULL;
    if (spate_conf_get_str(conf, conf->root, "log_level", &s, err) == SPATE_EINVAL)
        return SPATE_EINVAL;
    if (s) {
        spate_log_level_t l;
        if (spate_log_level_parse(s, &l) != SPATE_OK) {
            spate_conf_errorf(conf, spate_conf_get(conf->root, "log_level"), err,
                              "expected debug, info, warn, error or off, got '%s'", s);
            return SPATE_EINVAL;
        }
        spate_log_set_level(l);
    }
    *m = spate_conf_get(conf->root, section);
    if (spate_conf_check_keys(conf, *m, keys, err) != SPATE_OK) return SPATE_EINVAL;
    s = NULL;
    if (spate_conf_get_str(conf, *m, "listen", &s, err) == SPATE_EINVAL) return SPATE_EINVAL;
    if (s) {
        char aerr[256];
        if (spate_net_addr_parse(s, listen, aerr, sizeof aerr) != SPATE_OK) {
            spate_conf_errorf(conf, spate_conf_get(*m, "listen"), err, "%s", aerr);
            return SPATE_EINVAL;
        }
    }
    return SPATE_OK;
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
