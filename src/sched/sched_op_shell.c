/*
 * sched_op_shell.c — the `shell` operator (Airflow's BashOperator):
 * runs `command` with /bin/sh -c; the command's exit status is the try's.
 *
 *   key       default            meaning
 *   command   (required)         shell text, rendered
 *   env       (none)             map NAME: value (rendered), added to the
 *                                inherited environment
 *   cwd       (inherited)        working directory, rendered
 *
 * The command runs in a child of the try's process (so the try can log
 * the exit status and the time it took) and stays in the try's process
 * group: the executor runs each try as a group leader and stops it with
 * a group kill (SIGTERM, later SIGKILL), which so reaches every process
 * of the command, subshells and pipelines included, even when the try
 * itself is killed outright. SIGTERM, SIGINT and SIGHUP sent to the try's
 * process alone are passed on (see shell_forward); the command's exit
 * then ends the try as usual.
 * Its stdout/stderr are the try's, i.e. the try's log file. A command
 * killed by signal N gives 128 + N, as the shell reports it.
 */
#include "sched_op_int.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The running command, for the signal forwarder (one per process). */
static volatile pid_t shell_child = 0;
static volatile sig_atomic_t shell_group_leader = 0; /* the try leads its group */
static volatile sig_atomic_t shell_forwarded = 0;

/* SIGTERM/SIGINT/SIGHUP sent to the try's process alone (a group kill
 * reaches the command by itself). When the try leads its own process
 * group, as under the executor, the signal goes to the whole group once
 * (the shell may have forked: a pipeline, a subshell), the try's own copy
 * being ignored; otherwise (e.g. `spate tasks test` in someone else's
 * group) to the shell alone. */
static void shell_forward(int sig) {
    if (shell_child <= 0) return;
    if (!shell_group_leader) {
        kill(shell_child, sig);
    } else if (!shell_forwarded) {
        shell_forwarded = 1;
        kill(0, sig);
    }
}

static const char *const shell_keys[] = {"command", "env", "cwd", NULL};

static void shell_check(const spate_conf_t *c, const spate_conf_node_t *task,
                        spate_stream_diag_t *d) {
    spate_sched_op_check_scalar(c, task, "command", true, d);
    spate_sched_op_check_map(c, task, "env", d);
    spate_sched_op_check_scalar(c, task, "cwd", false, d);
}

/* Sets every env entry (rendered) in this process, which the command
 * inherits. Only the try's own process is changed. */
static int shell_env(const spate_sched_ti_ctx_t *ctx) {
    const spate_conf_node_t *env = spate_conf_get(ctx->task->node, "env");
    if (spate_sched_op_is_null(env)) return 0;
    spate_buf_t b = SPATE_BUF_INIT;
    int rc = 0;
    for (const spate_conf_node_t *e = env->child; e != NULL; e = e->next) {
        char err[512] = "";
        const char *v = e->value ? e->value : "";
        if (spate_sched_op_render(ctx, v, &b, err, sizeof err) != SPATE_OK) {
            spate_log(SPATE_LOG_ERROR, SPATE_OP_LOG, "env %s: %s", e->key, err);
            rc = 1;
            break;
        }
        if (setenv(e->key, b.data, 1) != 0) {
            spate_log(SPATE_LOG_ERROR, SPATE_OP_LOG, "env %s: %s", e->key, strerror(errno));
            rc = 1;
            break;
        }
    }
    spate_buf_free(&b);
    return rc;
}

static int shell_run(const spate_sched_ti_ctx_t *ctx) {
    char err[512] = "";
    spate_buf_t cmd = SPATE_BUF_INIT, cwd = SPATE_BUF_INIT;
    int rc = 1;
    spate_status_t st = spate_sched_op_arg(ctx, "command", &cmd, err, sizeof err);
    if (st == SPATE_ENOENT) snprintf(err, sizeof err, "key 'command' is required");
    if (st != SPATE_OK) {
        spate_log(SPATE_LOG_ERROR, SPATE_OP_LOG, "shell: %s", err);
        goto out;
    }
    st = spate_sched_op_arg(ctx, "cwd", &cwd, err, sizeof err);
    if (st != SPATE_OK && st != SPATE_ENOENT) {
        spate_log(SPATE_LOG_ERROR, SPATE_OP_LOG, "shell: %s", err);
        goto out;
    }
    if (shell_env(ctx) != 0) goto out;
    if (cwd.len) {
        spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "shell: running in %s: %s", cwd.data, cmd.data);
    } else {
        spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "shell: running: %s", cmd.data);
    }

    fflush(stdout);
    fflush(stderr);
    /* The forwarding signals are blocked from before the fork until the
     * child's pid is known, so none is lost or kills the try alone. */
    sigset_t fwd, old_mask;
    sigemptyset(&fwd);
    sigaddset(&fwd, SIGTERM);
    sigaddset(&fwd, SIGINT);
    sigaddset(&fwd, SIGHUP);
    sigprocmask(SIG_BLOCK, &fwd, &old_mask);
    struct sigaction sa, old_term, old_int, old_hup;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = shell_forward;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGHUP, &sa, &old_hup);
    int64_t t0 = spate_mono_ms();
    pid_t pid = fork();
    if (pid < 0) {
        spate_log(SPATE_LOG_ERROR, SPATE_OP_LOG, "shell: fork: %s", strerror(errno));
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        goto out;
    }
    if (pid == 0) {
        if (cwd.len && chdir(cwd.data) != 0) {
            fprintf(stderr, "shell: cd %s: %s\n", cwd.data, strerror(errno));
            _exit(127);
        }
        /* The scheduler may have ignored SIGPIPE / blocked signals: the
         * command gets the defaults, as from a login shell. */
        signal(SIGPIPE, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execl("/bin/sh", "sh", "-c", cmd.data, (char *)NULL);
        fprintf(stderr, "shell: exec /bin/sh: %s\n", strerror(errno));
        _exit(127);
    }
    shell_group_leader = getpgrp() == getpid();
    shell_forwarded = 0;
    shell_child = pid;
    sigprocmask(SIG_UNBLOCK, &fwd, NULL);
    int status = 0;
    int wrc;
    while ((wrc = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    sigprocmask(SIG_BLOCK, &fwd, NULL);
    shell_child = 0;
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    if (wrc < 0) {
        spate_log(SPATE_LOG_ERROR, SPATE_OP_LOG, "shell: waitpid: %s", strerror(errno));
        goto out;
    }
    int64_t took = spate_mono_ms() - t0;
    if (WIFEXITED(status)) {
        rc = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        rc = 128 + WTERMSIG(status);
        spate_log(SPATE_LOG_WARN, SPATE_OP_LOG, "shell: command killed by signal %d",
                  WTERMSIG(status));
    }
    spate_log(rc == 0 ? SPATE_LOG_INFO : SPATE_LOG_ERROR, SPATE_OP_LOG,
              "shell: exit status %d after %lld ms", rc, (long long)took);
out:
    spate_buf_free(&cmd);
    spate_buf_free(&cwd);
    return rc;
}

const spate_sched_op_t spate_sched_op_shell = {
    .name = "shell",
    .keys = shell_keys,
    .check = shell_check,
    .run = shell_run,
};
