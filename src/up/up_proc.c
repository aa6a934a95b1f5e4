/*
 * up_proc.c — the children of `spate up`: fork/exec, the merged log, the
 * restart policy and the stop sequence.
 *
 * Each child is `EXE <component> ...` with stdout and stderr on one pipe
 * whose read end we poll. Its output is cut into lines and written to our
 * stdout as
 *
 *   broker    | 2026-11-24T07:01:02.345Z INFO  broker: listening on ...
 *   up        | started broker (pid 4242)
 *
 * Children run in their own process group (a Ctrl-C on the terminal
 * reaches only us; we stop them in order) and get SIGTERM if we die
 * (PR_SET_PDEATHSIG), so a killed supervisor leaves nothing behind.
 *
 * Restart policy: an exit of a wanted child is a crash. Crashes are kept
 * in a ring; the k-th within crash_window_ms restarts after
 * spate_up_backoff_ms(k); max_crashes within the window stops everything
 * (exit 1, the reason says which child).
 */
#include "up_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Pure pieces                                                         */
/* ------------------------------------------------------------------ */

void spate_up_lines_feed(spate_up_lines_t *l, const char *p, size_t n, spate_up_line_fn emit,
                         void *ctx) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            emit(ctx, l->buf, l->len);
            l->len = 0;
            continue;
        }
        if (l->len == sizeof l->buf) {
            emit(ctx, l->buf, l->len);
            l->len = 0;
        }
        l->buf[l->len++] = p[i];
    }
}

void spate_up_lines_flush(spate_up_lines_t *l, spate_up_line_fn emit, void *ctx) {
    if (l->len) emit(ctx, l->buf, l->len);
    l->len = 0;
}

void spate_up_prefix(spate_up_comp_t c, bool color, char *out, size_t outlen) {
    /* cyan, yellow, magenta, green, blue; up itself bold */
    static const char *const colors[SPATE_UP_NCOMP] = {"36", "33", "35", "32", "34"};
    const char *name = (unsigned)c < SPATE_UP_NCOMP ? spate_up_comp_name(c) : "up";
    const char *col = (unsigned)c < SPATE_UP_NCOMP ? colors[c] : "1";
    if (color)
        snprintf(out, outlen, "\033[%sm%-11s\033[0m| ", col, name);
    else
        snprintf(out, outlen, "%-11s| ", name);
}

int spate_up_crashes_record(spate_up_crashes_t *r, int64_t now_ms, int64_t window_ms) {
    r->at[r->head] = now_ms;
    r->head = (r->head + 1) % SPATE_UP_CRASH_RING;
    if (r->n < SPATE_UP_CRASH_RING) r->n++;
    int k = 0;
    for (size_t i = 0; i < r->n; i++)
        if (now_ms - r->at[i] < window_ms) k++;
    return k;
}

int64_t spate_up_backoff_ms(int k) {
    int64_t d = 250;
    for (int i = 1; i < k && d < 8000; i++) d *= 2;
    return SPATE_MIN(d, 8000);
}

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

void up_status_clear(up_t *u) {
    if (u->status_shown) write_all(STDOUT_FILENO, "\r\033[K", 4);
    u->status_shown = false;
}

void up_status_draw(up_t *u) {
    if (!u->o->tty || !u->status.len) return;
    up_status_clear(u);
    write_all(STDOUT_FILENO, u->status.data, u->status.len);
    u->status_shown = true;
}

void up_out(up_t *u, const char *prefix, const char *line, size_t n) {
    bool redraw = u->status_shown;
    up_status_clear(u);
    spate_buf_t b = SPATE_BUF_INIT;
    spate_buf_puts(&b, prefix);
    spate_buf_append(&b, line, n);
    spate_buf_putc(&b, '\n');
    write_all(STDOUT_FILENO, b.data, b.len);
    spate_buf_free(&b);
    if (redraw) up_status_draw(u);
}

static void up_vsay(up_t *u, const char *fmt, va_list ap) {
    char prefix[64];
    spate_up_prefix(SPATE_UP_NCOMP, u->o->color, prefix, sizeof prefix);
    spate_buf_t b = SPATE_BUF_INIT;
    spate_buf_vprintf(&b, fmt, ap);
    up_out(u, prefix, b.data ? b.data : "", b.len);
    spate_buf_free(&b);
}

void up_say(up_t *u, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    up_vsay(u, fmt, ap);
    va_end(ap);
}

void up_fail(up_t *u, const char *fmt, ...) {
    if (u->failed) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->reason, sizeof u->reason, fmt, ap);
    va_end(ap);
    u->failed = true;
    up_say(u, "error: %s", u->reason);
}

/* ------------------------------------------------------------------ */
/* Children                                                            */
/* ------------------------------------------------------------------ */

void up_child_args(up_child_t *ch, const char *const *argv) {
    for (size_t i = 0; i < SPATE_ARRAY_LEN(ch->argv); i++) {
        free(ch->argv[i]);
        ch->argv[i] = NULL;
    }
    for (size_t i = 0; argv[i] && i + 1 < SPATE_ARRAY_LEN(ch->argv); i++)
        ch->argv[i] = spate_xstrdup(argv[i]);
}

spate_status_t up_child_start(up_t *u, up_child_t *ch) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        up_fail(u, "%s: pipe: %s", spate_up_comp_name(ch->comp), strerror(errno));
        return SPATE_EIO;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        up_fail(u, "%s: fork: %s", spate_up_comp_name(ch->comp), strerror(errno));
        return SPATE_EIO;
    }
    if (pid == 0) {
        /* The child: own process group, dies with us, output on the pipe. */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(127);
        signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, STDIN_FILENO);
        dup2(p[1], STDOUT_FILENO);
        dup2(p[1], STDERR_FILENO);
        execv(u->o->exe, ch->argv);
        dprintf(STDERR_FILENO, "exec %s: %s\n", u->o->exe, strerror(errno));
        _exit(127);
    }
    close(p[1]);
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    ch->pid = pid;
    ch->fd = p[0];
    ch->wanted = true;
    ch->restart_at_ms = 0;
    ch->lines.len = 0;
    spate_up_prefix(ch->comp, u->o->color, ch->prefix, sizeof ch->prefix);
    up_say(u, "started %s (pid %d)", spate_up_comp_name(ch->comp), (int)pid);
    return SPATE_OK;
}

typedef struct {
    up_t *u;
    up_child_t *ch;
} emit_ctx_t;

static void emit_line(void *ctx, const char *line, size_t n) {
    emit_ctx_t *e = ctx;
    up_out(e->u, e->ch->prefix, line, n);
}

/* Reads what is available; on EOF closes the fd. */
static void drain(up_t *u, up_child_t *ch) {
    char buf[8192];
    emit_ctx_t e = {u, ch};
    for (;;) {
        ssize_t r = read(ch->fd, buf, sizeof buf);
        if (r > 0) {
            spate_up_lines_feed(&ch->lines, buf, (size_t)r, emit_line, &e);
            continue;
        }
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && errno == EAGAIN) return;
        spate_up_lines_flush(&ch->lines, emit_line, &e);
        close(ch->fd);
        ch->fd = -1;
        return;
    }
}

static void describe_status(int status, char *out, size_t n) {
    if (WIFEXITED(status))
        snprintf(out, n, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, n, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(out, n, "status 0x%x", status);
}

static void reaped(up_t *u, up_child_t *ch, int status) {
    if (ch->fd >= 0) {
        /* Whatever it wrote last; the pipe is at EOF unless a grandchild
         * holds it, so read what is there and let go. */
        drain(u, ch);
        if (ch->fd >= 0) {
            close(ch->fd);
            ch->fd = -1;
        }
    }
    char how[96];
    describe_status(status, how, sizeof how);
    const char *name = spate_up_comp_name(ch->comp);
    ch->pid = 0;
    if (!ch->wanted) {
        up_say(u, "%s stopped (%s)", name, how);
        return;
    }
    int k = spate_up_crashes_record(&ch->crashes, spate_mono_ms(), u->c->crash_window_ms);
    if (k >= u->c->max_crashes) {
        ch->wanted = false;
        up_fail(u, "%s crashed %d times within %lld s (last: %s); stopping everything", name, k,
                (long long)(u->c->crash_window_ms / 1000), how);
        return;
    }
    int64_t d = spate_up_backoff_ms(k);
    ch->restart_at_ms = spate_mono_ms() + d;
    up_say(u, "%s exited unexpectedly (%s); restarting in %lld ms (crash %d of %d within %lld s)",
           name, how, (long long)d, k, u->c->max_crashes,
           (long long)(u->c->crash_window_ms / 1000));
}

static void reap(up_t *u) {
    for (int i = 0; i < SPATE_UP_NCOMP; i++) {
        up_child_t *ch = &u->ch[i];
        if (ch->pid <= 0) continue;
        int status;
        pid_t r = waitpid(ch->pid, &status, WNOHANG);
        if (r == ch->pid) reaped(u, ch, status);
    }
}

void up_pump(up_t *u, int timeout_ms) {
    struct pollfd pf[SPATE_UP_NCOMP];
    up_child_t *who[SPATE_UP_NCOMP];
    int n = 0;
    for (int i = 0; i < SPATE_UP_NCOMP; i++) {
        if (u->ch[i].fd < 0) continue;
        pf[n].fd = u->ch[i].fd;
        pf[n].events = POLLIN;
        pf[n].revents = 0;
        who[n++] = &u->ch[i];
    }
    int r = n ? poll(pf, (nfds_t)n, timeout_ms) : (spate_sleep_ms(timeout_ms), 0);
    for (int i = 0; r > 0 && i < n; i++)
        if (pf[i].revents) drain(u, who[i]);
    reap(u);
    int64_t now = spate_mono_ms();
    for (int i = 0; i < SPATE_UP_NCOMP; i++) {
        up_child_t *ch = &u->ch[i];
        if (u->failed || *u->o->stop_flag || !ch->wanted || ch->pid || !ch->restart_at_ms) continue;
        if (now < ch->restart_at_ms) continue;
        ch->restarts++;
        u->stats.restarts++;
        up_child_start(u, ch);
    }
}

void up_stop_all(up_t *u) {
    for (int i = SPATE_UP_NCOMP - 1; i >= 0; i--) {
        up_child_t *ch = &u->ch[i];
        ch->wanted = false;
        ch->restart_at_ms = 0;
        if (ch->pid <= 0) continue;
        const char *name = spate_up_comp_name(ch->comp);
        up_say(u, "stopping %s (pid %d)", name, (int)ch->pid);
        kill(ch->pid, SIGTERM);
        int64_t deadline = spate_mono_ms() + u->c->stop_timeout_ms;
        bool killed = false;
        while (ch->pid > 0) {
            up_pump(u, 50);
            if (ch->pid > 0 && !killed && spate_mono_ms() >= deadline) {
                up_say(u, "%s did not stop within %lld s: SIGKILL", name,
                       (long long)(u->c->stop_timeout_ms / 1000));
                kill(ch->pid, SIGKILL);
                killed = true;
            }
        }
    }
    for (int i = 0; i < SPATE_UP_NCOMP; i++) {
        if (u->ch[i].fd >= 0) {
            close(u->ch[i].fd);
            u->ch[i].fd = -1;
        }
        for (size_t k = 0; k < SPATE_ARRAY_LEN(u->ch[i].argv); k++) {
            free(u->ch[i].argv[k]);
            u->ch[i].argv[k] = NULL;
        }
    }
}
