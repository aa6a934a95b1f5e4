/*
 * stream_sink_file.c — the JSON-lines sinks: a file (appended) and stdout.
 *
 * Both encode each record as one compact JSON line into a buffer and keep
 * the record's token in a pending list:
 *
 *   write ─▶ buf += line, pending += token
 *   file:   at commit points (flush), or when half of max_in_flight is
 *           pending: write(2) the buffer, fsync(2), then settle every
 *           pending token — an offset is committed only once the lines
 *           before it are on disk
 *   stdout: at every loop turn (poll): write(2) the buffer, settle
 *           (a pipe or terminal cannot be fsynced)
 *
 * A write or fsync error is fatal for the job: nothing pending is
 * settled, so the offsets stay where the file is known to be good (the
 * lines may be written again after a restart: at-least-once).
 */
#include "stream_run_int.h"
#include "source.h" /* spate_json_dumps */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    srun_job_t *j;
    int fd;
    bool is_file;
    spate_buf_t buf;
    srun_token_t *pending;
    int64_t *start_ns;
    size_t npending, cap;
} fsink_t;

static spate_status_t open_common(srun_job_t *j, void **state, bool is_file, char *err,
                                  size_t errlen) {
    fsink_t *s = spate_xcalloc(1, sizeof *s);
    s->j = j;
    s->is_file = is_file;
    if (is_file) {
        s->fd = open(j->conf->sink.file.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (s->fd < 0) {
            snprintf(err, errlen, "%s: %s", j->conf->sink.file.path, strerror(errno));
            free(s);
            return SPATE_EIO;
        }
    } else {
        s->fd = STDOUT_FILENO;
    }
    *state = s;
    return SPATE_OK;
}

static spate_status_t ffile_open(srun_job_t *j, void **state, char *err, size_t errlen) {
    return open_common(j, state, true, err, errlen);
}

static spate_status_t fstdout_open(srun_job_t *j, void **state, char *err, size_t errlen) {
    return open_common(j, state, false, err, errlen);
}

static void fsink_write(void *state, json_t *value, const rd_kafka_message_t *m, srun_token_t tok) {
    fsink_t *s = state;
    char *line = spate_json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    if (!line) {
        srun_fail(s->j, tok, "cannot encode the record as JSON", m->key, m->key_len, m->payload,
                  m->len);
        return;
    }
    spate_buf_puts(&s->buf, line);
    spate_buf_putc(&s->buf, '\n');
    free(line);
    if (s->npending == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->pending = spate_xrealloc(s->pending, s->cap * sizeof *s->pending);
        s->start_ns = spate_xrealloc(s->start_ns, s->cap * sizeof *s->start_ns);
    }
    s->pending[s->npending] = tok;
    s->start_ns[s->npending++] = spate_mono_ns();
}

/* Writes the buffer (and fsyncs a file), then settles what was pending. */
static void fsink_flush(void *state) {
    fsink_t *s = state;
    if (!s->npending || s->j->fatal) return;
    size_t off = 0;
    while (off < s->buf.len) {
        ssize_t n = write(s->fd, s->buf.data + off, s->buf.len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            srun_fatal(s->j, "%s sink: write: %s", s->is_file ? "file" : "stdout", strerror(errno));
            return;
        }
        off += (size_t)n;
    }
    spate_buf_reset(&s->buf);
    if (s->is_file && fsync(s->fd) != 0) {
        srun_fatal(s->j, "file sink: fsync %s: %s", s->j->conf->sink.file.path, strerror(errno));
        return;
    }
    int64_t now = spate_mono_ns();
    for (size_t i = 0; i < s->npending; i++) {
        s->j->c.out++;
        srun_ack(s->j, s->pending[i], now - s->start_ns[i]);
    }
    s->npending = 0;
}

static void fsink_poll(void *state, int timeout_ms) {
    fsink_t *s = state;
    SPATE_UNUSED(timeout_ms);
    if (!s->is_file || (int64_t)s->npending >= s->j->conf->delivery.max_in_flight / 2)
        fsink_flush(s);
}

static void fsink_close(void *state) {
    fsink_t *s = state;
    if (s->is_file) close(s->fd);
    spate_buf_free(&s->buf);
    free(s->pending);
    free(s->start_ns);
    free(s);
}

const srun_sink_ops_t srun_sink_file = {
    .name = "file",
    .open = ffile_open,
    .write = fsink_write,
    .poll = fsink_poll,
    .flush = fsink_flush,
    .close = fsink_close,
};

const srun_sink_ops_t srun_sink_stdout = {
    .name = "stdout",
    .open = fstdout_open,
    .write = fsink_write,
    .poll = fsink_poll,
    .flush = fsink_flush,
    .close = fsink_close,
};
