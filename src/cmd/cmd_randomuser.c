/*
 * cmd_randomuser.c — `spate randomuser`: serve the randomuser.me API.
 *
 * Settings come from --config FILE (a `randomuser:` section) and then from
 * the command line, which wins. `--print QUERY` writes one response to
 * stdout without serving, for scripts and tests.
 */
#include "cmd.h"
#include "source.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const CMD = "randomuser";

static void help(void) {
    printf(
        "usage: spate randomuser [options]\n"
        "\n"
        "Serves a randomuser.me-compatible API (version 1.4): GET /api/ and /api/1.4/ with\n"
        "results, seed, page, nat, gender, inc, exc, format, noinfo, password, dl, callback;\n"
        "GET /health for readiness.\n"
        "\n"
        "options:\n"
        "  --listen HOST:PORT     address to serve on (default 127.0.0.1:8088)\n"
        "  --threads N            worker threads (default: one per core)\n"
        "  --config FILE          YAML file with a 'randomuser:' section (docs/configuration.md)\n"
        "  --print QUERY          print the response to QUERY (e.g. 'results=3&seed=x') and exit\n"
        "  --log-level LEVEL      debug, info, warn, error or off (default info)\n"
        "  --log-file FILE        append log lines to FILE instead of stderr\n"
        "\n"
        "fault injection (off by default), for testing clients:\n"
        "  --latency MS[-MAX]     delay every answer by MS (or a random MS..MAX) milliseconds\n"
        "  --error-rate P         answer this share of requests (0..1) with --error-status\n"
        "  --error-status N       the status for injected errors (default 503)\n"
        "  --rate-limit USERS     users per client IP per window, then 429 with Retry-After\n"
        "  --rate-window SECONDS  the rate-limit window (default 300, as randomuser.me)\n"
        "  --empty-rate P         answer this share with empty results (the 2026 outage)\n"
        "  --fault-seed N         seed for the fault draws (default random)\n");
}

static bool parse_latency(const char *v, spate_ru_server_conf_t *c) {
    int64_t a, b;
    const char *dash = strchr(v, '-');
    if (!dash) {
        if (!spate_cmd_int_opt(CMD, "--latency", v, 0, 600000, &a)) return false;
        c->latency_min_ms = c->latency_max_ms = (int)a;
        return true;
    }
    char lo[32];
    size_t n = (size_t)(dash - v);
    if (n >= sizeof lo) n = sizeof lo - 1;
    memcpy(lo, v, n);
    lo[n] = '\0';
    if (spate_parse_i64(lo, 0, 600000, &a) != SPATE_OK ||
        spate_parse_i64(dash + 1, 0, 600000, &b) != SPATE_OK || a > b) {
        spate_cmd_usage_error(CMD, "--latency: '%s' is not MS or MIN-MAX milliseconds", v);
        return false;
    }
    c->latency_min_ms = (int)a;
    c->latency_max_ms = (int)b;
    return true;
}

/* Applies the `randomuser:` section of a config file. */
static bool load_config(const char *path, spate_ru_server_conf_t *c) {
    static const char *const keys[] = {"listen", "threads", "faults", NULL};
    static const char *const fault_keys[] = {"latency_ms",   "latency_max_ms", "error_rate",
                                             "error_status", "rate_limit",     "rate_window_s",
                                             "empty_rate",   "seed",           NULL};
    spate_conf_t conf;
    spate_conf_err_t err = {{0}};
    bool ok = false;
    int64_t v;
    double d;
    const spate_conf_node_t *ru;
    if (spate_cmd_server_conf(&conf, path, "randomuser", keys, &c->listen, &ru, &err) != SPATE_OK)
        goto out;
#define GET_INT(map, key, lo, hi, field)                                                           \
    switch (spate_conf_get_i64(&conf, map, key, lo, hi, &v, &err)) {                               \
    case SPATE_OK: field = (int)v; break;                                                          \
    case SPATE_ENOENT: break;                                                                      \
    default: goto out;                                                                             \
    }
#define GET_DBL(map, key, field)                                                                   \
    switch (spate_conf_get_double(&conf, map, key, 0, 1, &d, &err)) {                              \
    case SPATE_OK: field = d; break;                                                               \
    case SPATE_ENOENT: break;                                                                      \
    default: goto out;                                                                             \
    }
    GET_INT(ru, "threads", 0, 1024, c->threads);
    const spate_conf_node_t *f = spate_conf_get(ru, "faults");
    if (spate_conf_check_keys(&conf, f, fault_keys, &err) != SPATE_OK) goto out;
    GET_INT(f, "latency_ms", 0, 600000, c->latency_min_ms);
    c->latency_max_ms = c->latency_min_ms;
    GET_INT(f, "latency_max_ms", c->latency_min_ms, 600000, c->latency_max_ms);
    GET_DBL(f, "error_rate", c->error_rate);
    GET_INT(f, "error_status", 400, 599, c->error_status);
    GET_INT(f, "rate_limit", 0, INT32_MAX, c->rate_limit);
    GET_INT(f, "rate_window_s", 1, 86400, c->rate_window_s);
    GET_DBL(f, "empty_rate", c->empty_rate);
    switch (spate_conf_get_i64(&conf, f, "seed", 0, INT64_MAX, &v, &err)) {
    case SPATE_OK: c->fault_seed = (uint64_t)v; break;
    case SPATE_ENOENT: break;
    default: goto out;
    }
#undef GET_INT
#undef GET_DBL
    ok = true;
out:
    if (!ok) fprintf(stderr, "spate randomuser: %s\n", err.msg);
    spate_conf_free(&conf);
    return ok;
}

static int print_once(const char *query) {
    spate_ru_params_t p;
    spate_ru_params_parse_query(&p, query, strlen(query));
    spate_buf_t b = SPATE_BUF_INIT;
    if (spate_ru_generate(&p, spate_wall_ms(), false, &b, NULL) != SPATE_OK) {
        fprintf(stderr, "spate randomuser: out of memory\n");
        return SPATE_EXIT_FAIL;
    }
    fwrite(b.data, 1, b.len, stdout);
    if (b.len && b.data[b.len - 1] != '\n') putchar('\n');
    spate_buf_free(&b);
    return fflush(stdout) == 0 ? SPATE_EXIT_OK : SPATE_EXIT_FAIL;
}

int spate_cmd_randomuser(int argc, char **argv) {
    spate_ru_server_conf_t c;
    spate_ru_server_conf_default(&c);
    const char *print = NULL;

    /* --config first, so that the command line overrides it. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (strncmp(a, "--config=", 9) == 0)
            v = a + 9;
        else if (strcmp(a, "--config") == 0 && i + 1 < argc)
            v = argv[i + 1];
        if (v && !load_config(v, &c)) return SPATE_EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            help();
            return SPATE_EXIT_OK;
        }
        if (strncmp(a, "--", 2) != 0)
            return spate_cmd_usage_error(CMD, "unexpected argument '%s'", a);
        char name[32];
        const char *v = strchr(a, '=');
        size_t n = v ? (size_t)(v - a) : strlen(a);
        if (n >= sizeof name) return spate_cmd_usage_error(CMD, "unknown option '%s'", a);
        memcpy(name, a, n);
        name[n] = '\0';
        static const char *const known[] = {
            "--listen",      "--threads",    "--config",     "--print",        "--log-level",
            "--log-file",    "--latency",    "--error-rate", "--error-status", "--rate-limit",
            "--rate-window", "--empty-rate", "--fault-seed"};
        bool ok = false;
        for (size_t k = 0; k < SPATE_ARRAY_LEN(known) && !ok; k++) ok = strcmp(name, known[k]) == 0;
        if (!ok) return spate_cmd_usage_error(CMD, "unknown option '%s'", name);
        if (v)
            v++;
        else if (i + 1 < argc)
            v = argv[++i];
        else
            return spate_cmd_usage_error(CMD, "%s needs a value", name);

        int64_t iv;
        double dv;
        if (strcmp(name, "--listen") == 0) {
            char err[256];
            if (spate_net_addr_parse(v, &c.listen, err, sizeof err) != SPATE_OK)
                return spate_cmd_usage_error(CMD, "--listen: %s", err);
        } else if (strcmp(name, "--threads") == 0) {
            if (!spate_cmd_int_opt(CMD, name, v, 0, 1024, &iv)) return SPATE_EXIT_USAGE;
            c.threads = (int)iv;
        } else if (strcmp(name, "--config") == 0) {
            /* loaded above */
        } else if (strcmp(name, "--print") == 0) {
            print = v;
        } else if (strcmp(name, "--log-level") == 0 || strcmp(name, "--log-file") == 0) {
            if (!spate_cmd_log_opt(CMD, name, v)) return SPATE_EXIT_USAGE;
        } else if (strcmp(name, "--latency") == 0) {
            if (!parse_latency(v, &c)) return SPATE_EXIT_USAGE;
        } else if (strcmp(name, "--error-rate") == 0) {
            if (!spate_cmd_double_opt(CMD, name, v, 0, 1, &dv)) return SPATE_EXIT_USAGE;
            c.error_rate = dv;
        } else if (strcmp(name, "--error-status") == 0) {
            if (!spate_cmd_int_opt(CMD, name, v, 400, 599, &iv)) return SPATE_EXIT_USAGE;
            c.error_status = (int)iv;
        } else if (strcmp(name, "--rate-limit") == 0) {
            if (!spate_cmd_int_opt(CMD, name, v, 0, INT32_MAX, &iv)) return SPATE_EXIT_USAGE;
            c.rate_limit = iv;
        } else if (strcmp(name, "--rate-window") == 0) {
            if (!spate_cmd_int_opt(CMD, name, v, 1, 86400, &iv)) return SPATE_EXIT_USAGE;
            c.rate_window_s = (int)iv;
        } else if (strcmp(name, "--empty-rate") == 0) {
            if (!spate_cmd_double_opt(CMD, name, v, 0, 1, &dv)) return SPATE_EXIT_USAGE;
            c.empty_rate = dv;
        } else if (strcmp(name, "--fault-seed") == 0) {
            if (!spate_cmd_int_opt(CMD, name, v, 0, INT64_MAX, &iv)) return SPATE_EXIT_USAGE;
            c.fault_seed = (uint64_t)iv;
        }
    }
    if (print) return print_once(print);

    volatile int *stop = spate_cmd_stop_flag();
    spate_ru_server_t *s = NULL;
    char addr[80];
    spate_net_addr_format(&c.listen, addr, sizeof addr);
    if (spate_ru_server_start(&s, &c) != SPATE_OK) {
        spate_log(SPATE_LOG_ERROR, CMD,
                  "cannot listen on %s (address in use, or not an address of this machine?)", addr);
        return SPATE_EXIT_FAIL;
    }
    /* Report the bound port (it differs when 0 was asked for). */
    char *colon = strrchr(addr, ':');
    if (colon)
        snprintf(colon + 1, sizeof addr - (size_t)(colon + 1 - addr), "%d",
                 spate_ru_server_port(s));
    spate_log(SPATE_LOG_INFO, CMD, "listening on http://%s/api/ (randomuser.me API %s)", addr,
              SPATE_RU_VERSION);
    if (c.error_rate > 0 || c.empty_rate > 0 || c.rate_limit > 0 || c.latency_max_ms > 0)
        spate_log(SPATE_LOG_INFO, CMD,
                  "fault injection: latency %d-%d ms, error rate %.3f (HTTP %d), empty rate %.3f, "
                  "rate limit %lld users/%d s",
                  c.latency_min_ms, c.latency_max_ms, c.error_rate, c.error_status, c.empty_rate,
                  (long long)c.rate_limit, c.rate_window_s);
    while (!*stop) pause();
    spate_log(SPATE_LOG_INFO, CMD, "shutting down");
    spate_ru_server_stop(s);
    return SPATE_EXIT_OK;
}
