/*
 * cmd_fetch.c — `spate fetch`: pull users from a randomuser API and print
 * one JSON line per user.
 *
 *   spate fetch --url URL --count N [--batch N] [--out FILE] [--timeout MS]
 *               [--retries N] [--raw] [--log-level L] [--log-file F]
 *
 * Lines are the format_user record (or, with --raw, the API's result object
 * as compact JSON) on stdout or in --out FILE. A result that format_user
 * rejects still counts toward --count (it was fetched) but is not written;
 * it is logged and reported as "N skipped". stderr carries a live progress
 * line when it is a terminal, and a one-line summary at the end. Exit
 * status: 0 done, 1 fetch or write failure (a partial --out file is left as
 * written so far), 2 usage error.
 */
#include "cmd.h"
#include "source.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "fetch"
#define SKIP_LOG_MAX 10 /* skipped records logged one by one, then silence */

static void usage(FILE *f) {
    fprintf(f,
            "usage: spate fetch --url URL --count N [options]\n"
            "\n"
            "Fetches N users from a randomuser.me-compatible API and writes one JSON\n"
            "record per line (the pipeline's user record, or the raw result with --raw).\n"
            "Retries timeouts, connection errors, HTTP 5xx, 429 (honouring Retry-After)\n"
            "and empty results with exponential backoff.\n"
            "\n"
            "options (\"--opt value\" or \"--opt=value\"):\n"
            "  --url URL         API endpoint, e.g. http://127.0.0.1:8088/api/ (a query\n"
            "                    string is kept; with seed=..., pages are walked)\n"
            "  --count N         users to fetch (required)\n"
            "  --batch N         users per request, 1..%d (default %d)\n"
            "  --out FILE        write to FILE instead of stdout ('-' = stdout)\n"
            "  --timeout MS      per-request timeout (default 30000)\n"
            "  --retries N       retries per request after the first try (default 5)\n"
            "  --raw             write the API's result objects unformatted\n"
            "  --log-level L     debug, info, warn, error or off\n"
            "  --log-file F      append log lines to F instead of stderr\n"
            "  --help            show this help\n",
            SPATE_RU_MAX_RESULTS, SPATE_RU_MAX_RESULTS);
}

typedef struct {
    FILE *out;
    bool raw;
    spate_buf_t line;
    int64_t seen;
    int64_t skipped;
    int write_errno; /* != 0 once a write failed */
} sink_t;

static spate_status_t sink_write(sink_t *s, const char *p, size_t n) {
    if (fwrite(p, 1, n, s->out) != n || fputc('\n', s->out) == EOF) {
        s->write_errno = errno ? errno : EIO;
        return SPATE_EIO;
    }
    return SPATE_OK;
}

static spate_status_t on_result(void *ctx, const json_t *result) {
    sink_t *s = ctx;
    s->seen++;
    if (s->raw) {
        char *text = spate_json_dumps(result, JSON_COMPACT);
        if (!text) return SPATE_ENOMEM;
        spate_status_t st = sink_write(s, text, strlen(text));
        free(text);
        return st;
    }
    char why[256];
    spate_buf_reset(&s->line);
    spate_status_t st = spate_format_user(result, &s->line, why, sizeof why);
    if (st == SPATE_EINVAL) {
        s->skipped++;
        if (s->skipped <= SKIP_LOG_MAX)
            spate_log(SPATE_LOG_WARN, CMD, "user %" PRId64 " skipped: %s%s", s->seen, why,
                      s->skipped == SKIP_LOG_MAX ? " (further skips are only counted)" : "");
        return SPATE_OK;
    }
    if (st != SPATE_OK) return st;
    return sink_write(s, s->line.data, s->line.len);
}

int spate_cmd_fetch(int argc, char **argv) {
    spate_fetch_conf_t conf;
    spate_fetch_conf_default(&conf);
    conf.count = -1;
    const char *out_path = NULL;
    bool raw = false;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return SPATE_EXIT_OK;
        }
        if (strncmp(arg, "--", 2) != 0)
            return spate_cmd_usage_error(CMD, "unexpected argument '%s'", arg);

        /* Split "--opt=value"; name holds "--opt". */
        char name[64];
        const char *eq = strchr(arg, '=');
        size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
        if (nlen >= sizeof name) return spate_cmd_usage_error(CMD, "unknown option '%s'", arg);
        memcpy(name, arg, nlen);
        name[nlen] = '\0';
        const char *val = eq ? eq + 1 : NULL;

        if (strcmp(name, "--raw") == 0) {
            if (val) return spate_cmd_usage_error(CMD, "--raw takes no value");
            raw = true;
            continue;
        }
        static const char *const with_value[] = {"--url",       "--count",   "--batch",
                                                 "--out",       "--timeout", "--retries",
                                                 "--log-level", "--log-file"};
        bool known = false;
        for (size_t k = 0; k < SPATE_ARRAY_LEN(with_value); k++)
            if (strcmp(name, with_value[k]) == 0) known = true;
        if (!known) return spate_cmd_usage_error(CMD, "unknown option '%s'", name);
        if (!val) {
            if (i + 1 >= argc) return spate_cmd_usage_error(CMD, "%s needs a value", name);
            val = argv[++i];
        }

        int64_t v;
        if (strcmp(name, "--url") == 0) {
            if (!*val) return spate_cmd_usage_error(CMD, "--url: empty URL");
            conf.url = val;
        } else if (strcmp(name, "--count") == 0) {
            if (!spate_cmd_int_opt(CMD, name, val, 1, INT64_MAX / 2, &v)) return SPATE_EXIT_USAGE;
            conf.count = v;
        } else if (strcmp(name, "--batch") == 0) {
            if (!spate_cmd_int_opt(CMD, name, val, 1, SPATE_RU_MAX_RESULTS, &v))
                return SPATE_EXIT_USAGE;
            conf.batch = (int)v;
        } else if (strcmp(name, "--out") == 0) {
            if (!*val) return spate_cmd_usage_error(CMD, "--out: empty file name");
            out_path = val;
        } else if (strcmp(name, "--timeout") == 0) {
            if (!spate_cmd_int_opt(CMD, name, val, 1, 3600000, &v)) return SPATE_EXIT_USAGE;
            conf.timeout_ms = (int)v;
            if (conf.connect_timeout_ms > conf.timeout_ms)
                conf.connect_timeout_ms = conf.timeout_ms;
        } else if (strcmp(name, "--retries") == 0) {
            if (!spate_cmd_int_opt(CMD, name, val, 0, 1000, &v)) return SPATE_EXIT_USAGE;
            conf.retries = (int)v;
        } else {
            if (!spate_cmd_log_opt(CMD, name, val)) return SPATE_EXIT_USAGE;
        }
    }
    if (!conf.url) return spate_cmd_usage_error(CMD, "--url is required");
    if (conf.count < 0) return spate_cmd_usage_error(CMD, "--count is required");

    sink_t sink = {.out = stdout, .raw = raw};
    if (out_path && strcmp(out_path, "-") != 0) {
        sink.out = fopen(out_path, "w");
        if (!sink.out) {
            fprintf(stderr, "spate fetch: cannot open '%s': %s\n", out_path, strerror(errno));
            return SPATE_EXIT_FAIL;
        }
    }
    conf.progress = isatty(STDERR_FILENO);

    spate_fetch_stats_t stats;
    char err[1024];
    spate_status_t st = spate_fetch_run(&conf, on_result, &sink, &stats, err, sizeof err);

    /* Flush and close before judging success: a full disk shows up here. */
    if (fflush(sink.out) != 0 && !sink.write_errno) sink.write_errno = errno ? errno : EIO;
    if (sink.out != stdout && fclose(sink.out) != 0 && !sink.write_errno)
        sink.write_errno = errno ? errno : EIO;
    spate_buf_free(&sink.line);

    const char *dest = out_path && strcmp(out_path, "-") != 0 ? out_path : "stdout";
    if (sink.write_errno)
        fprintf(stderr, "spate fetch: writing to %s: %s\n", dest, strerror(sink.write_errno));
    else if (st != SPATE_OK)
        fprintf(stderr, "spate fetch: %s\n", err);

    double secs = (double)SPATE_MAX(stats.elapsed_ms, (int64_t)1) / 1000.0;
    fprintf(stderr,
            "fetch: %" PRId64 " user%s in %" PRId64 " request%s (%" PRId64 " retr%s, %" PRId64
            " empty) in %.2f s, %.0f users/s",
            stats.users, stats.users == 1 ? "" : "s", stats.requests,
            stats.requests == 1 ? "" : "s", stats.retries, stats.retries == 1 ? "y" : "ies",
            stats.empty, secs, (double)stats.users / secs);
    if (sink.skipped) fprintf(stderr, ", %" PRId64 " skipped", sink.skipped);
    fputc('\n', stderr);

    return st == SPATE_OK && !sink.write_errno ? SPATE_EXIT_OK : SPATE_EXIT_FAIL;
}
