/*
 * base_log.c — leveled logging with a component prefix.
 *
 *   2026-11-24T07:01:02.345Z INFO  randomuser: listening on 127.0.0.1:8088
 *
 * Each line is formatted into a local buffer and written with one write(2),
 * so lines from several threads (or from the children of `spate up`
 * sharing a pipe) never interleave mid-line. The level and sink are set at
 * start-up, before threads exist.
 */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static spate_log_level_t log_level = SPATE_LOG_INFO;
static int log_fd = 2;

void spate_log_set_level(spate_log_level_t lvl) { log_level = lvl; }
spate_log_level_t spate_log_get_level(void) { return log_level; }

spate_status_t spate_log_level_parse(const char *s, spate_log_level_t *lvl) {
    static const char *const names[] = {"debug", "info", "warn", "error", "off"};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(names); i++) {
        if (strcmp(s, names[i]) == 0) {
            *lvl = (spate_log_level_t)i;
            return SPATE_OK;
        }
    }
    return SPATE_EINVAL;
}

spate_status_t spate_log_set_file(const char *path) {
    if (!path) {
        if (log_fd != 2) close(log_fd);
        log_fd = 2;
        return SPATE_OK;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return SPATE_EIO;
    if (log_fd != 2) close(log_fd);
    log_fd = fd;
    return SPATE_OK;
}

void spate_vlog(spate_log_level_t lvl, const char *component, const char *fmt, va_list ap) {
    static const char *const tags[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
    if (lvl < log_level || lvl >= SPATE_LOG_OFF) return;
    char line[2048];
    char ts[25];
    spate_time_iso8601(spate_wall_ms(), ts);
    int n =
        snprintf(line, sizeof line, "%s %s %s: ", ts, tags[lvl], component ? component : "spate");
    if (n < 0) return;
    /* snprintf returns the length it wanted: a huge component name must
     * not push len past the buffer (the message is then simply cut). */
    size_t len = SPATE_MIN((size_t)n, sizeof line - 1);
    int m = vsnprintf(line + len, sizeof line - len, fmt, ap);
    if (m < 0) return;
    len += (size_t)m;
    if (len > sizeof line - 2) {
        len = sizeof line - 5;
        memcpy(line + len, "...", 3); /* mark the cut */
        len += 3;
    }
    line[len++] = '\n';
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(log_fd, line + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        off += (size_t)w;
    }
}

void spate_log(spate_log_level_t lvl, const char *component, const char *fmt, ...) {
    if (lvl < log_level) return;
    va_list ap;
    va_start(ap, fmt);
    spate_vlog(lvl, component, fmt, ap);
    va_end(ap);
}
