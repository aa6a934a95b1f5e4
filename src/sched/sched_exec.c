/*
 * sched_exec.c — the scheduler's executor: one forked process per try.
 *
 *   scheduler (loop thread)            child (its own process group)
 *   ───────────────────────            ─────────────────────────────
 *   fork ──────────────────────────▶   setpgid(0, 0), default signals
 *   setpgid(pid, pid) (no race)        stdout+stderr → DATA_DIR/logs/
 *                                        DAG/RUN_ID/TASK/TRY.log
 *                                      op->run(ctx) → _exit(status)
 *   waitpid(pid, WNOHANG) per tick
 *     (SIGCHLD wakes the loop through the self-pipe, sched_core.c)
 *   timeout: SIGTERM to -pid, a "timed out after N s" line in the log,
 *            SIGKILL to -pid 5 s later; the try fails
 *   clean stop (shutdown): SIGTERM to every -pid; a try that then ends
 *            other than exit 0 was interrupted, not failed: it goes back
 *            to SCHEDULED without using up a try (spate_sched_ti_interrupted)
 *
 * The child closes every inherited descriptor but 0-2 (API socket, db
 * files, self-pipe), never touches the scheduler's state again (the db
 * handle, the mutex, the HTTP threads: only the forking thread exists in
 * it) and leaves with _exit, so no atexit handler or stdio buffer of the parent
 * runs twice. Killing the process group reaches whatever the operator
 * started (the shell operator's /bin/sh and its children).
 */
#include "sched_core_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG "scheduler"
#define KILL_GRACE_MS 5000

void spate_sched_log_path(const char *data_dir, const char *dag, const char *run, const char *task,
                          int try_number, char *out, size_t outlen) {
    snprintf(out, outlen, "%s/logs/%s/%s/%s/%d.log", data_dir, dag, run, task, try_number);
}

/* mkdir -p of the folder holding path. */
static int mkdir_parent(const char *path) {
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return -1;
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf) return 0;
    *slash = '\0';
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
}

/* The child's view of its scheduler: kept in a global so that the
 * parent's objects, which the child inherits and never frees (it leaves
 * with _exit), stay reachable for leak checkers such as valgrind, which
 * follow forks and would otherwise fail the try. */
static spate_scheduler_t *volatile child_parent;

/* In the child: never returns. */
static void child_main(spate_scheduler_t *s, const spate_sched_dag_t *d,
                       const spate_sched_task_t *t, const spate_sched_run_t *run, int try_number,
                       const char *log_path) {
    child_parent = s;
    setpgid(0, 0);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Nothing of the scheduler's stays open in the try: a try that
     * outlives a killed scheduler must not hold its API socket (the next
     * scheduler could not bind it), the metadata files or the self-pipe. */
    if (close_range(3, ~0u, 0) != 0)
        for (int fd = 3; fd < 4096; fd++) close(fd);

    if (mkdir_parent(log_path) != 0) _exit(126);
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0644);
    if (fd < 0) _exit(126);
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2) close(fd);
    int nul = open("/dev/null", O_RDONLY);
    if (nul >= 0) {
        dup2(nul, 0);
        if (nul > 0) close(nul);
    }
    spate_log_set_file(NULL); /* operator logs go to the try's log */
    if (spate_log_get_level() > SPATE_LOG_INFO) spate_log_set_level(SPATE_LOG_INFO);

    spate_sched_ti_ctx_t ctx = {
        .dag = d,
        .task = t,
        .run_id = run->run_id,
        .logical_date_ms = run->logical_date_ms,
        .data_interval_start_ms = run->data_interval_start_ms,
        .data_interval_end_ms = run->data_interval_end_ms,
        .try_number = try_number,
        .env = &s->conf.env,
        .conf_json = run->conf,
    };
    spate_log(SPATE_LOG_INFO, "task", "%s/%s/%s: try %d, operator %s, pid %d", d->dag_id,
              run->run_id, t->id, try_number, t->type, (int)getpid());
    const spate_sched_op_t *op = spate_sched_op_find(t->type);
    int rc = 127;
    if (!op || !op->run) {
        spate_log(SPATE_LOG_ERROR, "task", "unknown operator type '%s'", t->type);
    } else {
        rc = op->run(&ctx);
    }
    if (rc < 0 || rc > 255) rc = 1;
    spate_log(rc == 0 ? SPATE_LOG_INFO : SPATE_LOG_ERROR, "task", "try %d finished: exit %d",
              try_number, rc);
    fflush(stdout);
    fflush(stderr);
    _exit(rc);
}

spate_status_t spate_sched_exec_start(spate_scheduler_t *s, const spate_sched_dag_t *d,
                                      const spate_sched_task_t *t, const spate_sched_run_t *run,
                                      int try_number, int64_t now_ms, spate_sched_child_t *kid) {
    memset(kid, 0, sizeof *kid);
    snprintf(kid->dag_id, sizeof kid->dag_id, "%s", d->dag_id);
    snprintf(kid->run_id, sizeof kid->run_id, "%s", run->run_id);
    snprintf(kid->task_id, sizeof kid->task_id, "%s", t->id);
    snprintf(kid->pool, sizeof kid->pool, "%s", t->pool ? t->pool : "default_pool");
    kid->pool_slots = t->pool_slots > 0 ? t->pool_slots : 1;
    kid->try_number = try_number;
    kid->start_ms = now_ms;
    kid->timeout_ms = t->retry.execution_timeout_ms;
    spate_sched_log_path(s->data_dir, d->dag_id, run->run_id, t->id, try_number, kid->log_path,
                         sizeof kid->log_path);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        spate_log(SPATE_LOG_ERROR, LOG, "fork: %s", strerror(errno));
        return SPATE_EIO;
    }
    if (pid == 0) child_main(s, d, t, run, try_number, kid->log_path);
    setpgid(pid, pid); /* also here: kill(-pid) must work at once */
    kid->pid = pid;
    return SPATE_OK;
}

static void log_append(const char *path, const char *line) {
    if (mkdir_parent(path) != 0) return;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return;
    ssize_t r = write(fd, line, strlen(line));
    SPATE_UNUSED(r);
    close(fd);
}

void spate_sched_exec_poll(spate_scheduler_t *s, int64_t now_ms) {
    for (size_t i = s->nkids; i-- > 0;) {
        spate_sched_child_t *k = &s->kids[i];
        int status = 0;
        pid_t r = waitpid(k->pid, &status, WNOHANG);
        if (r == k->pid || (r < 0 && errno == ECHILD)) {
            int code = -1;
            if (r == k->pid && WIFEXITED(status)) code = WEXITSTATUS(status);
            if (r == k->pid && WIFSIGNALED(status)) code = 128 + WTERMSIG(status);
            if (k->term_ms && code == 0) code = 1; /* timed out is a failure however it ended */
            if (k->interrupted && !k->term_ms && code != 0) /* a timeout stays a failure */
                spate_sched_ti_interrupted(s, k, now_ms);
            else
                spate_sched_ti_finish(s, spate_sched_dagbag_get(s->bag, k->dag_id), k->dag_id,
                                      k->run_id, k->task_id, code, now_ms);
            s->kids[i] = s->kids[--s->nkids];
            continue;
        }
        if (k->timeout_ms > 0 && !k->term_ms && now_ms - k->start_ms >= k->timeout_ms) {
            char line[128];
            snprintf(line, sizeof line, "*** timed out after %g s: SIGTERM to the process group\n",
                     (double)k->timeout_ms / 1000.0);
            log_append(k->log_path, line);
            spate_log(SPATE_LOG_WARN, LOG, "%s/%s/%s try %d: timed out after %g s", k->dag_id,
                      k->run_id, k->task_id, k->try_number, (double)k->timeout_ms / 1000.0);
            kill(-k->pid, SIGTERM);
            k->term_ms = now_ms;
        } else if (k->term_ms && !k->killed && now_ms - k->term_ms >= KILL_GRACE_MS) {
            log_append(k->log_path, "*** still alive 5 s after SIGTERM: SIGKILL\n");
            kill(-k->pid, SIGKILL);
            k->killed = true;
        }
    }
}

int64_t spate_sched_exec_next_deadline(const spate_scheduler_t *s) {
    int64_t dl = INT64_MAX;
    for (size_t i = 0; i < s->nkids; i++) {
        const spate_sched_child_t *k = &s->kids[i];
        if (k->term_ms && !k->killed)
            dl = SPATE_MIN(dl, k->term_ms + KILL_GRACE_MS);
        else if (k->timeout_ms > 0 && !k->term_ms)
            dl = SPATE_MIN(dl, k->start_ms + k->timeout_ms);
    }
    return dl;
}

void spate_sched_exec_shutdown(spate_scheduler_t *s, int64_t grace_ms) {
    if (!s->nkids) return;
    spate_log(SPATE_LOG_INFO, LOG, "stopping %zu running tries", s->nkids);
    for (size_t i = 0; i < s->nkids; i++) {
        log_append(s->kids[i].log_path, "*** scheduler stopping: SIGTERM to the process group\n");
        s->kids[i].interrupted = true; /* not the task's failure: it runs again */
        kill(-s->kids[i].pid, SIGTERM);
    }
    int64_t until = spate_mono_ms() + grace_ms;
    while (s->nkids && spate_mono_ms() < until) {
        spate_sched_exec_poll(s, spate_wall_ms());
        if (s->nkids) spate_sleep_ms(20);
    }
    for (size_t i = 0; i < s->nkids; i++) kill(-s->kids[i].pid, SIGKILL);
    while (s->nkids) {
        spate_sched_exec_poll(s, spate_wall_ms());
        if (s->nkids) spate_sleep_ms(10);
    }
}
