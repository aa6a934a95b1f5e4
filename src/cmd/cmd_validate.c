/*
 * cmd_validate.c — `spate validate FILE...`: check pipeline files without
 * running them.
 *
 * Each file is loaded exactly as `spate stream` will load it (every job's
 * settings checked, every transform program compiled). A good file prints
 *
 *   pipeline.yaml: ok (2 jobs: created_users, per_minute)
 *
 * on stdout; a bad one prints every problem found, one per line, on stderr:
 *
 *   pipeline.yaml:12: key 'topics': expected a list of strings
 *
 * Exit status: 0 when every file is valid, 2 when any is not (or cannot be
 * read) and for usage errors.
 */
#include "cmd.h"
#include "stream.h"

#include <string.h>

#define CMD "validate"

static void usage(FILE *f) {
    fprintf(f, "usage: spate validate FILE...\n"
               "\n"
               "Checks pipeline files (the stream: jobs, their sources, transforms, sinks,\n"
               "dead-letter topics, delivery and window settings) without running them.\n"
               "Prints \"FILE: ok (N jobs: ...)\" for a valid file; otherwise every problem\n"
               "as FILE:LINE: message on stderr. The language is in docs/stream.md.\n"
               "\n"
               "Exit status: 0 all valid, 2 a file is invalid or unreadable, or usage error.\n");
}

static bool validate(const char *path) {
    spate_stream_diag_t diag = {0};
    spate_stream_pipeline_t *p = NULL;
    spate_status_t st = spate_stream_pipeline_load_file(&p, path, &diag);
    if (st == SPATE_OK) {
        size_t n = spate_stream_pipeline_njobs(p);
        printf("%s: ok (%zu job%s:", path, n, n == 1 ? "" : "s");
        for (size_t i = 0; i < n; i++)
            printf("%s %s", i ? "," : "", spate_stream_pipeline_job(p, i)->name);
        printf(")\n");
        spate_stream_pipeline_free(p);
    } else {
        for (size_t i = 0; i < diag.n; i++) fprintf(stderr, "%s\n", diag.msgs[i]);
        if (diag.dropped) fprintf(stderr, "%s: ... and %zu more problems\n", path, diag.dropped);
        if (diag.n == 0) fprintf(stderr, "%s: invalid (%s)\n", path, spate_status_str(st));
    }
    spate_stream_diag_free(&diag);
    fflush(stdout);
    return st == SPATE_OK;
}

int spate_cmd_validate(int argc, char **argv) {
    int nfiles = 0;
    bool opts_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!opts_done && (!strcmp(a, "--help") || !strcmp(a, "-h"))) {
            usage(stdout);
            return SPATE_EXIT_OK;
        }
        if (!opts_done && !strcmp(a, "--")) {
            opts_done = true;
            continue;
        }
        if (!opts_done && a[0] == '-' && a[1])
            return spate_cmd_usage_error(CMD, "unknown option '%s'", a);
        nfiles++;
    }
    if (nfiles == 0) return spate_cmd_usage_error(CMD, "no file given (spate validate FILE...)");
    bool all_ok = true;
    opts_done = false;
    for (int i = 1; i < argc; i++) {
        if (!opts_done && !strcmp(argv[i], "--")) {
            opts_done = true;
            continue;
        }
        if (!validate(argv[i])) all_ok = false;
    }
    return all_ok ? SPATE_EXIT_OK : SPATE_EXIT_USAGE;
}
