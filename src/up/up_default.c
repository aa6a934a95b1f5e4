/*
 * up_default.c — the embedded pipeline of `spate up` without --config (and
 * of `make run`): examples/pipeline.yaml itself, byte for byte. The build
 * turns the file into the array spate_up_default_pipeline (CMake reads it
 * at configure time into up_default_pipeline.c in the build folder and
 * re-configures when it changes), so the example and the embedded
 * defaults cannot drift; tests/client/test_up.py checks the result with
 * `spate up --print-config`.
 * It is written to DATA_DIR/pipeline.yaml and loaded from there, so every
 * component reads the same file and its errors have a file:line.
 */
#include "up.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

spate_status_t spate_up_conf_embedded(spate_up_conf_t *c, spate_conf_err_t *err) {
    char path[600];
    if (mkdir(c->data_dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err->msg, sizeof err->msg, "%.300s: %.100s", c->data_dir, strerror(errno));
        return SPATE_EIO;
    }
    snprintf(path, sizeof path, "%s/pipeline.yaml", c->data_dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err->msg, sizeof err->msg, "%.300s: %.100s", path, strerror(errno));
        return SPATE_EIO;
    }
    size_t n = spate_up_default_pipeline_len;
    bool ok = fwrite(spate_up_default_pipeline, 1, n, f) == n;
    if (fclose(f) != 0) ok = false;
    if (!ok) {
        snprintf(err->msg, sizeof err->msg, "%.300s: write failed", path);
        return SPATE_EIO;
    }
    return spate_up_conf_load(c, path, err);
}
