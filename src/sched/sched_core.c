/*
 * sched_core.c — the scheduler loop: DagBag reloads, runs from schedules,
 * task-instance states by trigger rules, pools and limits, retries,
 * heartbeats and dead-task detection. The executor (fork per try) is
 * sched_exec.c, the REST API sched_api.c.
 *
 * One tick (spate_scheduler_tick, under s->mu):
 *
 *   1 reload     every reload_ms: DagBag load, new DAGs get a dag row
 *   2 reap       finished tries → success / up_for_retry / failed;
 *                timeouts → SIGTERM, SIGKILL 5 s later (sched_exec.c)
 *   3 heartbeat  every few seconds: our RUNNING tis get heartbeat = now;
 *                RUNNING tis of someone else older than dead_after_ms are
 *                failed (→ retried) and their process group killed when it
 *                is on this host
 *   4 runs       unpaused scheduled DAGs: missing intervals → QUEUED runs
 *   5 promote    QUEUED → RUNNING while max_active_runs allows (oldest first)
 *   6 tasks      per RUNNING run, in topological order:
 *
 *      NONE ──trigger rule met──▶ SCHEDULED ──slot free──▶ RUNNING (forked)
 *        │ (rule can no longer be met)          ▲             │
 *        ▼                                      │ next_try    ├─▶ SUCCESS
 *      UPSTREAM_FAILED | SKIPPED          UP_FOR_RETRY ◀──────┤ (tries left)
 *                                                             └─▶ FAILED
 *
 *      An `empty` task (Airflow's EmptyOperator) goes SCHEDULED → SUCCESS
 *      in this pass (finish_empty): try +1, start = end = now, no fork, no
 *      slot, no log file; its downstream is decided in the same pass.
 *
 *      SCHEDULED → RUNNING passes through QUEUED, committed before the
 *      fork (start_try): a try is never forked while the db still says
 *      SCHEDULED, so a crash or a failed commit cannot run it twice. A
 *      run's state comes from its leaves (tasks nothing depends on) once
 *      every task is done: FAILED when a leaf is failed/upstream_failed,
 *      else SUCCESS (Airflow's DagRun.update_state).
 *
 * Data intervals (Airflow 2): the scheduled run for [start, end) is
 * created when now >= end, logical_date = start. catchup creates every
 * missing interval from start_date (or after the last scheduled run),
 * without catchup only the latest complete one; logical dates after
 * end_date are never created. @once: one run at start_date.
 *
 * High availability (conf.zookeeper set): several schedulers share one
 * metadata database and a ZooKeeper election (sched_ha.c) picks the one
 * that schedules. A standby's tick only reloads its DagBag (so its API
 * shows the DAGs); it neither creates runs nor starts, reaps, heartbeats
 * or fails tries. On taking over, the RUNNING tries of the old leader are
 * failed (→ retried) by the usual dead-task rule, only once their
 * heartbeat is older than dead_after_ms.
 *
 * Time: every decision uses the tick's now_ms (the wall clock in
 * spate_scheduler_run, a fake clock in tests), so tests can step time.
 */
#include "sched_core_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOG "scheduler"
#define MAX_NEW_RUNS_PER_TICK 1000 /* catchup of a tiny interval spreads over ticks */
#define DAY_MS (24 * 3600 * 1000LL)

void spate_sched_conf_default(spate_sched_conf_t *c) {
    memset(c, 0, sizeof(*c));
    c->workers = 8;
    c->loop_ms = 1000;
    c->dead_after_ms = 30000;
    c->reload_ms = 2000;
    c->zk_path = "/spate/scheduler";
}

/* ------------------------------------------------------------------ */
/* Pure decisions                                                      */
/* ------------------------------------------------------------------ */

spate_sched_ti_state_t spate_sched_trigger_eval(spate_sched_trigger_t rule,
                                                const spate_sched_up_counts_t *c) {
    int failed = c->failed + c->upstream_failed;
    bool all_done = c->done >= c->total;
    if (c->total == 0) return SPATE_TI_SCHEDULED;
    switch (rule) {
    case SPATE_TRIGGER_ALL_SUCCESS:
        if (failed) return SPATE_TI_UPSTREAM_FAILED;
        if (c->skipped) return SPATE_TI_SKIPPED;
        return c->success == c->total ? SPATE_TI_SCHEDULED : SPATE_TI_NONE;
    case SPATE_TRIGGER_ALL_DONE: return all_done ? SPATE_TI_SCHEDULED : SPATE_TI_NONE;
    case SPATE_TRIGGER_ALL_FAILED:
        if (c->success || c->skipped) return SPATE_TI_SKIPPED;
        return failed == c->total ? SPATE_TI_SCHEDULED : SPATE_TI_NONE;
    case SPATE_TRIGGER_ONE_SUCCESS:
        if (c->success) return SPATE_TI_SCHEDULED;
        if (!all_done) return SPATE_TI_NONE;
        return c->skipped == c->total ? SPATE_TI_SKIPPED : SPATE_TI_UPSTREAM_FAILED;
    case SPATE_TRIGGER_ONE_FAILED:
        if (failed) return SPATE_TI_SCHEDULED;
        return all_done ? SPATE_TI_SKIPPED : SPATE_TI_NONE;
    case SPATE_TRIGGER_NONE_FAILED:
        if (failed) return SPATE_TI_UPSTREAM_FAILED;
        return all_done ? SPATE_TI_SCHEDULED : SPATE_TI_NONE;
    }
    return SPATE_TI_NONE;
}

int64_t spate_sched_retry_delay(const spate_sched_retry_t *r, int next_try) {
    int64_t d = r->retry_delay_ms > 0 ? r->retry_delay_ms : 0;
    if (r->retry_exponential_backoff) {
        for (int i = 2; i < next_try && d < DAY_MS; i++) d *= 2;
    }
    if (r->max_retry_delay_ms > 0 && d > r->max_retry_delay_ms) d = r->max_retry_delay_ms;
    return d > DAY_MS ? DAY_MS : d;
}

int64_t spate_sched_interval_end(const spate_sched_dag_t *d, int64_t start) {
    if (d->schedule.kind == SPATE_SCHED_ONCE || d->schedule.kind == SPATE_SCHED_NONE) return start;
    return spate_sched_schedule_next(&d->schedule, d->start_date_ms, start);
}

void spate_sched_run_id(spate_sched_run_type_t type, int64_t ms, char *out, size_t outlen) {
    char iso[25];
    spate_time_iso8601(ms, iso); /* 2026-11-01T00:00:00.000Z */
    iso[19] = '\0';
    int frac = (int)(((ms % 1000) + 1000) % 1000);
    if (type == SPATE_RUN_MANUAL && frac)
        snprintf(out, outlen, "%s__%s.%06d+00:00", spate_sched_run_type_name(type), iso,
                 frac * 1000);
    else
        snprintf(out, outlen, "%s__%s+00:00", spate_sched_run_type_name(type), iso);
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

static int mkdirs(const char *path) {
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
}

spate_status_t spate_scheduler_new(spate_scheduler_t **out, const spate_sched_conf_t *c, char *err,
                                   size_t errlen) {
    *out = NULL;
    spate_scheduler_t *s = spate_xcalloc(1, sizeof(*s));
    s->conf = *c;
    s->pipe_rd = s->pipe_wr = -1;
    mtx_init(&s->mu, mtx_plain);
    s->last_reload_ms = INT64_MIN;
    s->last_heartbeat_ms = INT64_MIN;
    if (s->conf.workers <= 0) s->conf.workers = 8;
    if (s->conf.loop_ms <= 0) s->conf.loop_ms = 1000;
    if (s->conf.dead_after_ms <= 0) s->conf.dead_after_ms = 30000;
    if (s->conf.reload_ms <= 0) s->conf.reload_ms = 2000;
    s->data_dir = spate_xstrdup(c->data_dir ? c->data_dir : "./spate-data/scheduler");
    s->conf.env.data_dir = s->data_dir; /* one data directory: the operators see ours */
    if (mkdirs(s->data_dir) != 0) {
        snprintf(err, errlen, "data dir %s: %s", s->data_dir, strerror(errno));
        goto err;
    }
    if (c->metadata) {
        s->metadata = spate_xstrdup(c->metadata);
    } else {
        size_t n = strlen(s->data_dir) + 32;
        s->metadata = spate_xmalloc(n);
        snprintf(s->metadata, n, "%s/scheduler.db", s->data_dir);
    }
    if (spate_sched_db_open(&s->db, s->metadata, err, errlen) != SPATE_OK) goto err;
    s->bag = spate_sched_dagbag_new();
    if (gethostname(s->hostname, sizeof s->hostname - 1) != 0)
        snprintf(s->hostname, sizeof s->hostname, "localhost");
    int p[2];
    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        goto err;
    }
    s->pipe_rd = p[0];
    s->pipe_wr = p[1];
    if (c->api_listen && spate_sched_api_start(s, err, errlen) != SPATE_OK) goto err;
    if (c->zookeeper && spate_sched_ha_start(&s->ha, c->zookeeper, c->zk_path,
                                             SPATE_SCHED_HA_SESSION_MS, err, errlen) != SPATE_OK)
        goto err;
    *out = s;
    return SPATE_OK;
err:
    spate_scheduler_free(s);
    return SPATE_ERR;
}

void spate_scheduler_free(spate_scheduler_t *s) {
    if (!s) return;
    spate_sched_api_stop(s);
    if (s->nkids) {
        mtx_lock(&s->mu);
        spate_sched_exec_shutdown(s, 5000);
        mtx_unlock(&s->mu);
    }
    /* resign only once our tries are finished or killed, so the next
     * leader never sees them running with a fresh heartbeat */
    spate_sched_ha_stop(s->ha);
    free(s->kids);
    spate_sched_dagbag_free(s->bag);
    spate_sched_db_close(s->db);
    if (s->pipe_rd >= 0) close(s->pipe_rd);
    if (s->pipe_wr >= 0) close(s->pipe_wr);
    mtx_destroy(&s->mu);
    free(s->data_dir);
    free(s->metadata);
    free(s);
}

int spate_scheduler_api_port(const spate_scheduler_t *s) { return s ? s->api_port : 0; }

/* The self-pipe of the running scheduler, for the SIGCHLD handler. */
static volatile int wake_fd = -1;

static void on_sigchld(int sig) {
    SPATE_UNUSED(sig);
    int e = errno;
    if (wake_fd >= 0) {
        ssize_t r = write(wake_fd, "c", 1);
        SPATE_UNUSED(r);
    }
    errno = e;
}

void spate_scheduler_stop(spate_scheduler_t *s) {
    s->stopping = 1;
    ssize_t r = write(s->pipe_wr, "s", 1);
    SPATE_UNUSED(r);
}

spate_status_t spate_scheduler_run(spate_scheduler_t *s) {
    wake_fd = s->pipe_wr;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, &old);
    spate_status_t st = SPATE_OK;
    while (!s->stopping) {
        int64_t now = spate_wall_ms();
        st = spate_scheduler_tick(s, now);
        if (st != SPATE_OK) {
            /* a metadata hiccup (locked database, lost connection) is
             * retried on the next tick rather than ending the scheduler */
            spate_log(SPATE_LOG_WARN, LOG, "tick: %s", spate_sched_db_error(s->db));
            st = SPATE_OK;
        }
        int64_t wait = s->conf.loop_ms;
        mtx_lock(&s->mu);
        int64_t dl = spate_sched_exec_next_deadline(s);
        mtx_unlock(&s->mu);
        if (dl != INT64_MAX) wait = SPATE_MAX(0, SPATE_MIN(wait, dl - now + 1));
        if (s->stopping) break;
        struct pollfd pfd = {.fd = s->pipe_rd, .events = POLLIN};
        poll(&pfd, 1, (int)wait);
        char buf[64];
        while (read(s->pipe_rd, buf, sizeof buf) > 0) {
        }
    }
    mtx_lock(&s->mu);
    spate_sched_exec_shutdown(s, 5000);
    mtx_unlock(&s->mu);
    sigaction(SIGCHLD, &old, NULL);
    wake_fd = -1;
    spate_log(SPATE_LOG_INFO, LOG, "scheduler stopped");
    return st;
}

/* ------------------------------------------------------------------ */
/* 1 reload                                                            */
/* ------------------------------------------------------------------ */

static void reload(spate_scheduler_t *s, int64_t now) {
    bool changed = false;
    if (s->conf.dags_path) {
        if (spate_sched_dagbag_load(s->bag, s->conf.dags_path, &changed) != SPATE_OK && !s->loaded)
            spate_log(SPATE_LOG_WARN, LOG, "cannot read DAGs from %s", s->conf.dags_path);
    }
    if (!s->loaded && s->conf.inline_dags && s->conf.inline_conf) {
        spate_sched_dagbag_add_node(s->bag, s->conf.inline_conf, s->conf.inline_dags);
        changed = true;
    }
    if (changed || !s->loaded) {
        const spate_stream_diag_t *e = spate_sched_dagbag_errors(s->bag);
        for (size_t i = 0; e && i < e->n; i++)
            spate_log(SPATE_LOG_ERROR, LOG, "DAG file problem: %s", e->msgs[i]);
        for (size_t i = 0; i < spate_sched_dagbag_count(s->bag); i++) {
            const spate_sched_dag_t *d = spate_sched_dagbag_at(s->bag, i);
            if (spate_sched_db_dag_ensure(s->db, d->dag_id, d->is_paused_upon_creation) != SPATE_OK)
                spate_log(SPATE_LOG_WARN, LOG, "dag %s: %s", d->dag_id,
                          spate_sched_db_error(s->db));
        }
        if (s->loaded)
            spate_log(SPATE_LOG_INFO, LOG, "DAGs reloaded: %zu dags",
                      spate_sched_dagbag_count(s->bag));
    }
    if (!s->loaded) {
        s->loaded = true;
        spate_log(SPATE_LOG_INFO, LOG, "scheduler ready: %zu dags",
                  spate_sched_dagbag_count(s->bag));
    }
    s->last_reload_ms = now;
}

/* ------------------------------------------------------------------ */
/* Finishing a try (shared by the reaper and dead-task detection)      */
/* ------------------------------------------------------------------ */

void spate_sched_ti_finish(spate_scheduler_t *s, const spate_sched_dag_t *d, const char *dag_id,
                           const char *run_id, const char *task_id, int exit_code, int64_t now_ms) {
    spate_sched_ti_t ti;
    if (spate_sched_db_ti_get(s->db, dag_id, run_id, task_id, &ti) != SPATE_OK) {
        spate_log(SPATE_LOG_WARN, LOG, "%s", spate_sched_db_error(s->db));
        return;
    }
    const spate_sched_task_t *t = d ? spate_sched_dag_task(d, task_id) : NULL;
    ti.end_ms = now_ms;
    ti.exit_code = exit_code;
    ti.pid = 0;
    if (exit_code == 0) {
        ti.state = SPATE_TI_SUCCESS;
    } else if (t && ti.try_number < ti.max_tries) {
        ti.state = SPATE_TI_UP_FOR_RETRY;
        ti.next_try_ms = now_ms + spate_sched_retry_delay(&t->retry, ti.try_number + 1);
    } else {
        ti.state = SPATE_TI_FAILED;
    }
    if (spate_sched_db_ti_put(s->db, &ti) != SPATE_OK)
        spate_log(SPATE_LOG_WARN, LOG, "%s", spate_sched_db_error(s->db));
    spate_log(exit_code == 0 ? SPATE_LOG_INFO : SPATE_LOG_WARN, LOG,
              "%s/%s/%s try %d: exit %d → %s", dag_id, run_id, task_id, ti.try_number, exit_code,
              spate_sched_ti_state_name(ti.state));
}

void spate_sched_ti_interrupted(spate_scheduler_t *s, const spate_sched_child_t *k,
                                int64_t now_ms) {
    spate_sched_ti_t ti;
    if (spate_sched_db_ti_get(s->db, k->dag_id, k->run_id, k->task_id, &ti) != SPATE_OK) {
        spate_log(SPATE_LOG_WARN, LOG, "%s", spate_sched_db_error(s->db));
        return;
    }
    if (ti.state != SPATE_TI_RUNNING || ti.try_number != k->try_number) return; /* moved on */
    ti.state = SPATE_TI_SCHEDULED;
    ti.try_number = k->try_number - 1; /* this try does not count */
    ti.pid = 0;
    ti.start_ms = ti.end_ms = 0;
    ti.queued_ms = now_ms;
    ti.exit_code = -1;
    if (spate_sched_db_ti_put(s->db, &ti) != SPATE_OK)
        spate_log(SPATE_LOG_WARN, LOG, "%s", spate_sched_db_error(s->db));
    char path[1024];
    spate_sched_log_path(s->data_dir, k->dag_id, k->run_id, k->task_id, k->try_number, path,
                         sizeof path);
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
        dprintf(fd, "*** interrupted by the scheduler's stop: not counted, runs again as try %d\n",
                k->try_number);
        close(fd);
    }
    spate_log(SPATE_LOG_INFO, LOG,
              "%s/%s/%s try %d: interrupted by the stop, scheduled again (not counted)", k->dag_id,
              k->run_id, k->task_id, k->try_number);
}

/* ------------------------------------------------------------------ */
/* 3 heartbeat and dead tasks                                          */
/* ------------------------------------------------------------------ */

static const spate_sched_child_t *find_kid(const spate_scheduler_t *s, const char *dag,
                                           const char *run, const char *task) {
    for (size_t i = 0; i < s->nkids; i++) {
        const spate_sched_child_t *k = &s->kids[i];
        if (!strcmp(k->dag_id, dag) && !strcmp(k->run_id, run) && !strcmp(k->task_id, task))
            return k;
    }
    return NULL;
}

bool spate_sched_proc_stat_starttime(const char *text, size_t len, uint64_t *ticks) {
    /* "pid (comm) state ppid ... starttime ...": comm may hold spaces and
     * ')' itself, so fields are counted after the last ')'. */
    size_t i = len;
    while (i > 0 && text[i - 1] != ')') i--;
    if (i == 0) return false;
    int field = 2; /* the ')' ends field 2 */
    while (i < len) {
        while (i < len && text[i] == ' ') i++;
        if (i >= len) break;
        field++;
        if (field == 22) {
            uint64_t v = 0;
            size_t digits = 0;
            for (; i < len && text[i] >= '0' && text[i] <= '9'; i++, digits++) {
                if (v > (UINT64_MAX - 9) / 10) return false;
                v = v * 10 + (uint64_t)(text[i] - '0');
            }
            if (digits == 0 || (i < len && text[i] != ' ' && text[i] != '\n')) return false;
            *ticks = v;
            return true;
        }
        while (i < len && text[i] != ' ') i++;
    }
    return false;
}

/* Reads a small /proc file whole; -1 when it cannot. */
static ssize_t read_small(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n >= 0) buf[n] = '\0';
    return n;
}

/* Whether process `pid` may be the try that started at start_ms (wall
 * clock): its start time (/proc/PID/stat field 22, clock ticks after boot,
 * plus btime) within a few seconds of it. A pid that was reused belongs to
 * a process started later. No /proc entry for the pid while its group
 * still exists: the leader is gone but the group is the try's (the kernel
 * does not hand out a pid still used as a process group id). */
static bool pid_is_try(pid_t pid, int64_t start_ms) {
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    ssize_t n = read_small(path, buf, sizeof buf);
    if (n < 0) return true;
    uint64_t ticks = 0;
    if (!spate_sched_proc_stat_starttime(buf, (size_t)n, &ticks)) return false;
    /* field 22 counts from boot on CLOCK_BOOTTIME (not /proc/stat's btime:
     * that file grows past any small buffer on big machines) */
    long hz = sysconf(_SC_CLK_TCK);
    struct timespec boot;
    if (hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &boot) != 0) return false;
    int64_t up_ms = (int64_t)boot.tv_sec * 1000 + boot.tv_nsec / 1000000;
    int64_t started = spate_wall_ms() - (up_ms - (int64_t)(ticks * 1000 / (uint64_t)hz));
    /* ticks are 10 ms and the two clocks are read apart: 3 s is plenty */
    return started >= start_ms - 3000 && started <= start_ms + 3000;
}

static bool kid_pid(const spate_scheduler_t *s, pid_t pid) {
    for (size_t i = 0; i < s->nkids; i++)
        if (s->kids[i].pid == pid) return true;
    return false;
}

typedef struct {
    spate_sched_ti_t *v;
    size_t n, cap;
} ti_vec_t;

static bool ti_collect(void *ctx, const spate_sched_ti_t *ti) {
    ti_vec_t *tv = ctx;
    if (tv->n == tv->cap) {
        tv->cap = tv->cap ? tv->cap * 2 : 16;
        tv->v = spate_xrealloc(tv->v, tv->cap * sizeof(*tv->v));
    }
    tv->v[tv->n++] = *ti;
    return true;
}

/* QUEUED rows are committed just before a fork and become RUNNING right
 * after it (start_try): one older than dead_after without a pid belongs to
 * a scheduler that died in between, so the try never started. Back to
 * SCHEDULED, same try number. */
static void requeue_stale(spate_scheduler_t *s, int64_t now) {
    ti_vec_t tv = {0};
    if (spate_sched_db_tis(s->db, NULL, NULL, 1u << SPATE_TI_QUEUED, ti_collect, &tv) != SPATE_OK) {
        spate_log(SPATE_LOG_WARN, LOG, "heartbeat: %s", spate_sched_db_error(s->db));
        free(tv.v);
        return;
    }
    for (size_t i = 0; i < tv.n; i++) {
        spate_sched_ti_t *ti = &tv.v[i];
        if (ti->pid != 0 || ti->queued_ms >= now - s->conf.dead_after_ms) continue;
        if (find_kid(s, ti->dag_id, ti->run_id, ti->task_id)) continue;
        ti->state = SPATE_TI_SCHEDULED;
        if (spate_sched_db_ti_put(s->db, ti) != SPATE_OK) continue;
        spate_log(SPATE_LOG_WARN, LOG,
                  "%s/%s/%s: queued %lld ms ago and never started (its scheduler stopped): "
                  "scheduled again",
                  ti->dag_id, ti->run_id, ti->task_id, (long long)(now - ti->queued_ms));
    }
    free(tv.v);
}

static void heartbeat(spate_scheduler_t *s, int64_t now) {
    ti_vec_t tv = {0};
    if (spate_sched_db_tis(s->db, NULL, NULL, 1u << SPATE_TI_RUNNING, ti_collect, &tv) !=
        SPATE_OK) {
        spate_log(SPATE_LOG_WARN, LOG, "heartbeat: %s", spate_sched_db_error(s->db));
        free(tv.v);
        return;
    }
    for (size_t i = 0; i < tv.n; i++) {
        spate_sched_ti_t *ti = &tv.v[i];
        const spate_sched_child_t *k = find_kid(s, ti->dag_id, ti->run_id, ti->task_id);
        if (k && k->pid == ti->pid && !strcmp(ti->hostname, s->hostname)) {
            ti->heartbeat_ms = now;
            spate_sched_db_ti_put(s->db, ti);
            continue;
        }
        if (ti->heartbeat_ms >= now - s->conf.dead_after_ms) continue;
        /* Dead: its scheduler stopped heartbeating. Kill what is left of
         * the try when it runs here, then fail (→ retry) it. */
        bool here = !strcmp(ti->hostname, s->hostname);
        /* pid reuse: the stale row's pid may by now be one of our own new
         * tries' groups, which are never killed from here */
        if (here && ti->pid > 1 && !kid_pid(s, ti->pid) && kill(-ti->pid, 0) == 0) {
            if (pid_is_try(ti->pid, ti->start_ms)) {
                kill(-ti->pid, SIGKILL);
                spate_log(SPATE_LOG_WARN, LOG, "%s/%s/%s: killed orphaned process group %d",
                          ti->dag_id, ti->run_id, ti->task_id, ti->pid);
            } else {
                spate_log(SPATE_LOG_WARN, LOG,
                          "%s/%s/%s: pid %d now belongs to a process started after the try: "
                          "not killed",
                          ti->dag_id, ti->run_id, ti->task_id, ti->pid);
            }
        }
        char path[1024];
        spate_sched_log_path(s->data_dir, ti->dag_id, ti->run_id, ti->task_id, ti->try_number, path,
                             sizeof path);
        int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0) {
            dprintf(fd, "*** no heartbeat for %lld s: try taken as dead (scheduler gone)\n",
                    (long long)((now - ti->heartbeat_ms) / 1000));
            close(fd);
        }
        spate_log(SPATE_LOG_WARN, LOG, "%s/%s/%s try %d: no heartbeat since %lld ms, failing it",
                  ti->dag_id, ti->run_id, ti->task_id, ti->try_number,
                  (long long)(now - ti->heartbeat_ms));
        spate_sched_ti_finish(s, spate_sched_dagbag_get(s->bag, ti->dag_id), ti->dag_id, ti->run_id,
                              ti->task_id, -1, now);
    }
    free(tv.v);
    requeue_stale(s, now);
}

/* ------------------------------------------------------------------ */
/* 4 scheduled runs                                                    */
/* ------------------------------------------------------------------ */

static spate_status_t create_run(spate_scheduler_t *s, const spate_sched_dag_t *d,
                                 spate_sched_run_type_t type, int64_t start, int64_t end,
                                 int64_t now) {
    spate_sched_run_t r;
    memset(&r, 0, sizeof r);
    /* Airflow: one automated run per logical date. A backfill may already
     * hold this one; the scheduled run is then not attempted at all. */
    char other[sizeof r.run_id];
    spate_status_t at = spate_sched_db_run_at(s->db, d->dag_id, start, other, sizeof other);
    if (at == SPATE_OK) {
        spate_log(SPATE_LOG_DEBUG, LOG, "%s: logical date of the next run already has run %s",
                  d->dag_id, other);
        return SPATE_EEXIST;
    }
    if (at != SPATE_ENOENT) return at;
    snprintf(r.dag_id, sizeof r.dag_id, "%s", d->dag_id);
    spate_sched_run_id(type, start, r.run_id, sizeof r.run_id);
    r.type = type;
    r.state = SPATE_RUN_QUEUED;
    r.logical_date_ms = r.data_interval_start_ms = start;
    r.data_interval_end_ms = end;
    r.queued_ms = now;
    spate_status_t st = spate_sched_db_run_create(s->db, &r);
    if (st == SPATE_OK) spate_log(SPATE_LOG_INFO, LOG, "%s: created run %s", d->dag_id, r.run_id);
    return st;
}

static void schedule_runs(spate_scheduler_t *s, const spate_sched_dag_t *d, int64_t now) {
    const spate_sched_schedule_t *sc = &d->schedule;
    int64_t anchor = d->start_date_ms, last = INT64_MIN;
    if (sc->kind == SPATE_SCHED_NONE) return;
    if (s->conf.no_scheduled_runs) return; /* dags test: only the runs it was given */
    if (spate_sched_db_last_scheduled(s->db, d->dag_id, &last) != SPATE_OK) return;
    if (sc->kind == SPATE_SCHED_ONCE) {
        if (last == INT64_MIN && now >= anchor && anchor <= d->end_date_ms)
            create_run(s, d, SPATE_RUN_SCHEDULED, anchor, anchor, now);
        return;
    }
    int64_t first = spate_sched_schedule_next(sc, anchor, anchor - 1);
    if (first == INT64_MAX) return;
    if (d->catchup) {
        int64_t at = last == INT64_MIN ? first : spate_sched_schedule_next(sc, anchor, last);
        for (int i = 0; i < MAX_NEW_RUNS_PER_TICK; i++) {
            if (at == INT64_MAX || at > d->end_date_ms) break;
            int64_t end = spate_sched_schedule_next(sc, anchor, at);
            if (end == INT64_MAX || end > now) break;
            spate_status_t st = create_run(s, d, SPATE_RUN_SCHEDULED, at, end, now);
            if (st != SPATE_OK && st != SPATE_EEXIST) break;
            at = end;
        }
        return;
    }
    int64_t end = spate_sched_schedule_prev(sc, anchor, now);
    if (end == INT64_MIN) return;
    int64_t start = spate_sched_schedule_prev(sc, anchor, end - 1);
    if (start == INT64_MIN || start < first || start > d->end_date_ms) return;
    if (last != INT64_MIN && start <= last) return;
    create_run(s, d, SPATE_RUN_SCHEDULED, start, end, now);
}

/* ------------------------------------------------------------------ */
/* 5, 6 runs and task instances                                        */
/* ------------------------------------------------------------------ */

typedef struct {
    spate_sched_run_t *v;
    size_t n, cap;
} run_vec_t;

static bool run_collect(void *ctx, const spate_sched_run_t *r) {
    run_vec_t *rv = ctx;
    if (rv->n == rv->cap) {
        rv->cap = rv->cap ? rv->cap * 2 : 16;
        rv->v = spate_xrealloc(rv->v, rv->cap * sizeof(*rv->v));
    }
    rv->v[rv->n++] = *r;
    return true;
}

static int pool_size(const spate_scheduler_t *s, const char *pool) {
    for (size_t i = 0; i < s->conf.npools; i++)
        if (!strcmp(s->conf.pool_names[i], pool)) return s->conf.pool_slots[i];
    return 128; /* default_pool, and pools nobody configured */
}

/* Whether one more try of t fits: workers, its pool, the DAG's
 * max_active_tasks. */
static bool slot_free(const spate_scheduler_t *s, const spate_sched_dag_t *d,
                      const spate_sched_task_t *t) {
    if (s->nkids >= (size_t)s->conf.workers) return false;
    const char *pool = t->pool ? t->pool : "default_pool";
    int used = 0, dag_active = 0;
    for (size_t i = 0; i < s->nkids; i++) {
        if (!strcmp(s->kids[i].pool, pool)) used += s->kids[i].pool_slots;
        if (!strcmp(s->kids[i].dag_id, d->dag_id)) dag_active++;
    }
    if (dag_active >= d->max_active_tasks) return false;
    int need = t->pool_slots > 0 ? t->pool_slots : 1;
    return used + need <= pool_size(s, pool);
}

static bool ti_done(spate_sched_ti_state_t st) {
    return st == SPATE_TI_SUCCESS || st == SPATE_TI_SKIPPED || st == SPATE_TI_FAILED ||
           st == SPATE_TI_UPSTREAM_FAILED;
}

void (*spate_sched_after_fork_hook)(spate_scheduler_t *s, pid_t pid);

/* Commits the tick's transaction so far and opens the next one: true
 * when what was written is durable. Outside a transaction (BEGIN failed)
 * every write committed on its own. A failed commit is rolled back,
 * logged and ends the tick's forks (tick_failed). */
static bool txn_cut(spate_scheduler_t *s) {
    if (!s->in_txn) return !s->tick_failed;
    s->in_txn = false;
    if (spate_sched_db_commit(s->db) != SPATE_OK) {
        spate_log(SPATE_LOG_ERROR, LOG, "commit: %s", spate_sched_db_error(s->db));
        spate_sched_db_rollback(s->db);
        s->tick_failed = true;
    }
    s->in_txn = spate_sched_db_begin(s->db) == SPATE_OK;
    return !s->tick_failed;
}

/* Starts one try. Order (a try must never run twice):
 *   1 QUEUED (no pid) committed      a scheduler dying after this leaves a
 *                                    QUEUED row that the next one re-queues
 *                                    (heartbeat): the try never started
 *   2 fork
 *   3 RUNNING + pid + hostname       committed at once; if that commit
 *                                    fails the child is SIGKILLed and
 *                                    forgotten (the row stays QUEUED) */
static void start_try(spate_scheduler_t *s, const spate_sched_dag_t *d, const spate_sched_task_t *t,
                      const spate_sched_run_t *run, spate_sched_ti_t *ti, int64_t now) {
    spate_sched_child_t kid;
    if (s->tick_failed) return; /* the metadata is not taking writes: no fork */
    ti->state = SPATE_TI_QUEUED;
    ti->queued_ms = now;
    ti->pid = 0;
    if (spate_sched_db_ti_put(s->db, ti) != SPATE_OK || !txn_cut(s)) {
        spate_log(SPATE_LOG_WARN, LOG, "%s/%s/%s: not started: %s", d->dag_id, run->run_id, t->id,
                  spate_sched_db_error(s->db));
        ti->state = SPATE_TI_SCHEDULED;
        return;
    }
    if (spate_sched_exec_start(s, d, t, run, ti->try_number + 1, now, &kid) != SPATE_OK) {
        /* fork failed: SCHEDULED again, tried again next tick */
        ti->state = SPATE_TI_SCHEDULED;
        spate_sched_db_ti_put(s->db, ti);
        return;
    }
    if (s->nkids == s->capkids) {
        s->capkids = s->capkids ? s->capkids * 2 : 16;
        s->kids = spate_xrealloc(s->kids, s->capkids * sizeof(*s->kids));
    }
    s->kids[s->nkids++] = kid;
    if (spate_sched_after_fork_hook) spate_sched_after_fork_hook(s, kid.pid);
    ti->state = SPATE_TI_RUNNING;
    ti->try_number++;
    ti->start_ms = now;
    ti->end_ms = 0;
    ti->next_try_ms = 0;
    ti->heartbeat_ms = now;
    ti->pid = kid.pid;
    snprintf(ti->hostname, sizeof ti->hostname, "%s", s->hostname);
    if (spate_sched_db_ti_put(s->db, ti) != SPATE_OK || !txn_cut(s)) {
        /* Nobody would know the try runs: stop it before it does anything
         * lasting; its row stays QUEUED and is re-queued. */
        kill(-kid.pid, SIGKILL);
        while (waitpid(kid.pid, NULL, 0) < 0 && errno == EINTR) {
        }
        s->nkids--;
        spate_log(SPATE_LOG_ERROR, LOG,
                  "%s/%s/%s: try %d killed at once (pid %d): its RUNNING state could not be "
                  "committed: %s",
                  d->dag_id, run->run_id, t->id, ti->try_number, (int)kid.pid,
                  spate_sched_db_error(s->db));
        ti->state = SPATE_TI_QUEUED;
        ti->try_number--;
        ti->pid = 0;
        return;
    }
    spate_log(SPATE_LOG_INFO, LOG, "%s/%s/%s: try %d started (pid %d)", d->dag_id, run->run_id,
              t->id, ti->try_number, (int)kid.pid);
}

/* Whether t is an `empty` task (Airflow's EmptyOperator): never sent to
 * the executor, see finish_empty. */
static bool is_empty_task(const spate_sched_task_t *t) {
    return t->type && !strcmp(t->type, "empty");
}

/* Settles a SCHEDULED `empty` ti in the tick itself, as Airflow's
 * scheduler does with EmptyOperator: try try_number+1 is SUCCESS at once
 * (queued = start = end = now, exit 0) — no fork, no worker, pool or
 * max_active_tasks slot, no log file. Nothing runs, so there is nothing
 * to run twice: no QUEUED commit first. On a failed write *ti is left
 * as it was (SCHEDULED, never forked: process_run skips empty tasks) and
 * the next tick decides it again. */
static void finish_empty(spate_scheduler_t *s, const spate_sched_dag_t *d,
                         const spate_sched_run_t *run, spate_sched_ti_t *ti, int64_t now) {
    spate_sched_ti_t done = *ti;
    done.state = SPATE_TI_SUCCESS;
    done.try_number++;
    done.queued_ms = done.start_ms = done.end_ms = done.heartbeat_ms = now;
    done.next_try_ms = 0;
    done.exit_code = 0;
    done.pid = 0;
    snprintf(done.hostname, sizeof done.hostname, "%s", s->hostname);
    if (spate_sched_db_ti_put(s->db, &done) != SPATE_OK) {
        spate_log(SPATE_LOG_WARN, LOG, "%s/%s/%s: empty task not settled: %s", d->dag_id,
                  run->run_id, ti->task_id, spate_sched_db_error(s->db));
        return;
    }
    *ti = done;
    spate_log(SPATE_LOG_DEBUG, LOG, "%s/%s/%s try %d: empty → success", d->dag_id, run->run_id,
              ti->task_id, ti->try_number);
}

static int ti_cmp(const void *a, const void *b) {
    return strcmp(((const spate_sched_ti_t *)a)->task_id, ((const spate_sched_ti_t *)b)->task_id);
}

static int ti_key_cmp(const void *key, const void *b) {
    return strcmp((const char *)key, ((const spate_sched_ti_t *)b)->task_id);
}

static void process_run(spate_scheduler_t *s, const spate_sched_dag_t *d, spate_sched_run_t *run,
                        int64_t now) {
    ti_vec_t tv = {0};
    if (spate_sched_db_tis(s->db, d->dag_id, run->run_id, 0, ti_collect, &tv) != SPATE_OK) {
        free(tv.v);
        return;
    }
    /* by task index (rows sorted by task_id, found by binary search: a
     * run of thousands of tasks stays cheap); tasks without a row get one
     * (NONE) */
    if (tv.n > 1) qsort(tv.v, tv.n, sizeof(*tv.v), ti_cmp);
    spate_sched_ti_t *tis = spate_xcalloc(d->ntasks ? d->ntasks : 1, sizeof(*tis));
    for (size_t i = 0; i < d->ntasks; i++) {
        const spate_sched_task_t *t = &d->tasks[i];
        spate_sched_ti_t *ti = &tis[i];
        const spate_sched_ti_t *hit =
            tv.n ? bsearch(t->id, tv.v, tv.n, sizeof(*tv.v), ti_key_cmp) : NULL;
        if (hit) {
            *ti = *hit;
            continue;
        }
        snprintf(ti->dag_id, sizeof ti->dag_id, "%s", d->dag_id);
        snprintf(ti->run_id, sizeof ti->run_id, "%s", run->run_id);
        snprintf(ti->task_id, sizeof ti->task_id, "%s", t->id);
        ti->state = SPATE_TI_NONE;
        ti->max_tries = t->retry.retries + 1;
        snprintf(ti->pool, sizeof ti->pool, "%s", t->pool ? t->pool : "default_pool");
        ti->exit_code = -1;
        spate_sched_db_ti_put(s->db, ti);
    }
    free(tv.v);

    /* trigger rules: one pass in topological order settles chains */
    for (size_t k = 0; k < d->ntasks; k++) {
        size_t i = d->topo[k];
        const spate_sched_task_t *t = &d->tasks[i];
        spate_sched_ti_t *ti = &tis[i];
        if (ti->state == SPATE_TI_UP_FOR_RETRY && now >= ti->next_try_ms) {
            ti->state = SPATE_TI_SCHEDULED;
            spate_sched_db_ti_put(s->db, ti);
        }
        /* empty tasks settle here, so tasks after them (later in this
         * topological pass) are decided in the same tick */
        if (ti->state == SPATE_TI_SCHEDULED && is_empty_task(t)) finish_empty(s, d, run, ti, now);
        if (ti->state != SPATE_TI_NONE) continue;
        spate_sched_up_counts_t c = {.total = (int)t->nupstream};
        for (size_t u = 0; u < t->nupstream; u++) {
            spate_sched_ti_state_t us = tis[t->up[u]].state;
            c.success += us == SPATE_TI_SUCCESS;
            c.skipped += us == SPATE_TI_SKIPPED;
            c.failed += us == SPATE_TI_FAILED;
            c.upstream_failed += us == SPATE_TI_UPSTREAM_FAILED;
            c.done += ti_done(us);
        }
        spate_sched_ti_state_t v = spate_sched_trigger_eval(t->trigger, &c);
        if (v == SPATE_TI_NONE) continue;
        ti->state = v;
        if (v == SPATE_TI_SCHEDULED && is_empty_task(t)) {
            finish_empty(s, d, run, ti, now); /* one write: straight to SUCCESS */
            continue;
        }
        if (v != SPATE_TI_SCHEDULED) ti->start_ms = ti->end_ms = now;
        spate_sched_db_ti_put(s->db, ti);
    }

    /* start what is scheduled and fits */
    for (size_t k = 0; k < d->ntasks; k++) {
        size_t i = d->topo[k];
        if (tis[i].state != SPATE_TI_SCHEDULED) continue;
        if (is_empty_task(&d->tasks[i])) continue; /* never forked (finish_empty) */
        if (!slot_free(s, d, &d->tasks[i])) continue;
        start_try(s, d, &d->tasks[i], run, &tis[i], now);
    }

    /* the run's own state, from its leaves (tasks nothing depends on), as
     * Airflow's DagRun.update_state: once every task is done, FAILED when a
     * leaf failed or is upstream_failed, else SUCCESS. A failure upstream
     * that a leaf absorbed (cleanup with trigger_rule all_done) does not
     * fail the run. */
    size_t done = 0, bad = 0;
    for (size_t i = 0; i < d->ntasks; i++) done += ti_done(tis[i].state);
    if (done < d->ntasks) {
        free(tis);
        return;
    }
    bool *has_down = spate_xcalloc(d->ntasks ? d->ntasks : 1, sizeof(*has_down));
    for (size_t i = 0; i < d->ntasks; i++)
        for (size_t u = 0; u < d->tasks[i].nupstream; u++) has_down[d->tasks[i].up[u]] = true;
    for (size_t i = 0; i < d->ntasks; i++)
        if (!has_down[i])
            bad += tis[i].state == SPATE_TI_FAILED || tis[i].state == SPATE_TI_UPSTREAM_FAILED;
    free(has_down);
    free(tis);
    run->state = bad ? SPATE_RUN_FAILED : SPATE_RUN_SUCCESS;
    run->end_ms = now;
    spate_sched_db_run_update(s->db, run);
    spate_log(bad ? SPATE_LOG_WARN : SPATE_LOG_INFO, LOG, "%s: run %s %s", d->dag_id, run->run_id,
              spate_sched_run_state_name(run->state));
}

static bool dag_paused(spate_scheduler_t *s, const char *dag_id) {
    bool paused = false;
    if (spate_sched_db_dag_paused(s->db, dag_id, &paused) != SPATE_OK) return true;
    return paused;
}

static void process_runs(spate_scheduler_t *s, int64_t now) {
    run_vec_t rv = {0};
    unsigned mask = (1u << SPATE_RUN_QUEUED) | (1u << SPATE_RUN_RUNNING);
    if (spate_sched_db_runs(s->db, NULL, mask, 0, run_collect, &rv) != SPATE_OK) {
        spate_log(SPATE_LOG_WARN, LOG, "runs: %s", spate_sched_db_error(s->db));
        free(rv.v);
        return;
    }
    /* newest first from the db: promote oldest first */
    for (size_t i = rv.n; i-- > 0;) {
        spate_sched_run_t *r = &rv.v[i];
        if (r->state != SPATE_RUN_QUEUED) continue;
        const spate_sched_dag_t *d = spate_sched_dagbag_get(s->bag, r->dag_id);
        if (!d || dag_paused(s, d->dag_id)) continue;
        int running = 0;
        for (size_t j = 0; j < rv.n; j++)
            running += !strcmp(rv.v[j].dag_id, r->dag_id) && rv.v[j].state == SPATE_RUN_RUNNING;
        if (running >= d->max_active_runs) continue;
        r->state = SPATE_RUN_RUNNING;
        r->start_ms = now;
        spate_sched_db_run_update(s->db, r);
    }
    for (size_t i = rv.n; i-- > 0;) {
        spate_sched_run_t *r = &rv.v[i];
        if (r->state != SPATE_RUN_RUNNING) continue;
        const spate_sched_dag_t *d = spate_sched_dagbag_get(s->bag, r->dag_id);
        if (!d || dag_paused(s, d->dag_id)) continue;
        process_run(s, d, r, now);
    }
    free(rv.v);
}

/* With HA: whether this tick may schedule; logs the transitions. */
static bool ha_leads(spate_scheduler_t *s) {
    bool lead = spate_sched_ha_is_leader(s->ha);
    if (lead != s->ha_leader) {
        spate_log(SPATE_LOG_INFO, LOG, lead ? "became leader" : "lost leadership; standing by");
        s->ha_leader = lead;
        s->last_heartbeat_ms = INT64_MIN; /* look at RUNNING tries at once */
    }
    return lead;
}

spate_status_t spate_scheduler_tick(spate_scheduler_t *s, int64_t now_ms) {
    mtx_lock(&s->mu);
    if (s->ha && !ha_leads(s)) {
        if (!s->loaded || now_ms - s->last_reload_ms >= s->conf.reload_ms ||
            now_ms < s->last_reload_ms)
            reload(s, now_ms);
        s->last_tick_ms = now_ms;
        mtx_unlock(&s->mu);
        return SPATE_OK;
    }
    /* One transaction per tick: the writes of a tick (often hundreds of
     * task-instance rows) commit together, and the CLI sees a tick's
     * decisions all or none. Without it (database busy longer than its
     * timeout) every write commits on its own, which is also correct. */
    s->tick_failed = false;
    s->in_txn = spate_sched_db_begin(s->db) == SPATE_OK;
    if (!s->loaded || now_ms - s->last_reload_ms >= s->conf.reload_ms || now_ms < s->last_reload_ms)
        reload(s, now_ms);
    spate_sched_exec_poll(s, now_ms);
    /* what the reaped tries ended as is made durable before anything else
     * of the tick can fail: a lost outcome would leave a finished try
     * RUNNING, to be taken as dead and run again */
    txn_cut(s);
    int64_t hb = SPATE_MIN(5000, s->conf.dead_after_ms / 3);
    if (s->last_heartbeat_ms == INT64_MIN || now_ms - s->last_heartbeat_ms >= hb ||
        now_ms < s->last_heartbeat_ms) {
        heartbeat(s, now_ms);
        s->last_heartbeat_ms = now_ms;
    }
    for (size_t i = 0; i < spate_sched_dagbag_count(s->bag); i++) {
        const spate_sched_dag_t *d = spate_sched_dagbag_at(s->bag, i);
        if (!dag_paused(s, d->dag_id)) schedule_runs(s, d, now_ms);
    }
    process_runs(s, now_ms);
    spate_status_t st = SPATE_OK;
    if (s->in_txn && (st = spate_sched_db_commit(s->db)) != SPATE_OK)
        spate_sched_db_rollback(s->db);
    s->in_txn = false;
    if (st == SPATE_OK && s->tick_failed) st = SPATE_EIO; /* a commit inside the tick failed */
    s->last_commit = st;
    snprintf(s->last_commit_err, sizeof s->last_commit_err, "%s",
             st == SPATE_OK ? "" : spate_sched_db_error(s->db));
    s->last_tick_ms = now_ms;
    mtx_unlock(&s->mu);
    return st;
}

/* ------------------------------------------------------------------ */
/* Backfill and manual runs                                            */
/* ------------------------------------------------------------------ */

typedef struct {
    int64_t logical;
    spate_sched_run_t found;
    bool hit;
} find_ctx_t;

static bool find_logical(void *ctx, const spate_sched_run_t *r) {
    find_ctx_t *f = ctx;
    if (r->type != SPATE_RUN_MANUAL && r->logical_date_ms == f->logical) {
        f->found = *r;
        f->hit = true;
        return false;
    }
    return true;
}

static bool ti_reset(void *ctx, const spate_sched_ti_t *ti) {
    spate_sched_db_t *db = ctx;
    spate_sched_ti_t t = *ti;
    t.state = SPATE_TI_NONE;
    t.max_tries = t.try_number + (t.max_tries > 0 ? t.max_tries : 1);
    t.start_ms = t.end_ms = t.queued_ms = t.next_try_ms = 0;
    t.pid = 0;
    spate_sched_db_ti_put(db, &t);
    return true;
}

spate_status_t spate_scheduler_backfill(spate_sched_db_t *db, const spate_sched_dag_t *d,
                                        int64_t from_ms, int64_t to_ms, bool reset, size_t *created,
                                        char *err, size_t errlen) {
    const spate_sched_schedule_t *sc = &d->schedule;
    *created = 0;
    if (sc->kind == SPATE_SCHED_NONE) {
        snprintf(err, errlen, "DAG '%s' has no schedule: nothing to backfill", d->dag_id);
        return SPATE_EINVAL;
    }
    if (from_ms > to_ms) {
        snprintf(err, errlen, "backfill: start is after end");
        return SPATE_EINVAL;
    }
    int64_t at = spate_sched_schedule_next(sc, d->start_date_ms, from_ms - 1);
    int64_t now = spate_wall_ms();
    for (size_t n = 0; at != INT64_MAX && at <= to_ms; n++) {
        if (n >= 100000) {
            snprintf(err, errlen, "backfill: more than 100000 runs in that range");
            return SPATE_ERANGE;
        }
        spate_sched_run_t r;
        memset(&r, 0, sizeof r);
        snprintf(r.dag_id, sizeof r.dag_id, "%s", d->dag_id);
        spate_sched_run_id(SPATE_RUN_BACKFILL, at, r.run_id, sizeof r.run_id);
        r.type = SPATE_RUN_BACKFILL;
        r.state = SPATE_RUN_QUEUED;
        r.logical_date_ms = r.data_interval_start_ms = at;
        r.data_interval_end_ms = spate_sched_interval_end(d, at);
        r.queued_ms = now;
        spate_status_t st = spate_sched_db_run_create(db, &r);
        if (st == SPATE_OK) {
            (*created)++;
        } else if (st == SPATE_EEXIST) {
            if (reset) {
                find_ctx_t f = {.logical = at};
                st = spate_sched_db_runs(db, d->dag_id, 0, 0, find_logical, &f);
                if (st == SPATE_OK && f.hit) {
                    st = spate_sched_db_tis(db, d->dag_id, f.found.run_id, 0, ti_reset, db);
                    f.found.state = SPATE_RUN_QUEUED;
                    f.found.queued_ms = now;
                    f.found.start_ms = f.found.end_ms = 0;
                    if (st == SPATE_OK) st = spate_sched_db_run_update(db, &f.found);
                    if (st == SPATE_OK) (*created)++;
                }
                if (st != SPATE_OK) {
                    snprintf(err, errlen, "%s", spate_sched_db_error(db));
                    return st;
                }
            }
        } else {
            snprintf(err, errlen, "%s", spate_sched_db_error(db));
            return st;
        }
        if (sc->kind == SPATE_SCHED_ONCE) break;
        at = spate_sched_schedule_next(sc, d->start_date_ms, at);
    }
    return SPATE_OK;
}

spate_status_t spate_sched_manual_run(spate_sched_db_t *db, const spate_sched_dag_t *d,
                                      const char *run_id, int64_t logical_ms, int64_t now_ms,
                                      spate_sched_run_t *out) {
    return spate_sched_manual_run_conf(db, d, run_id, logical_ms, now_ms, NULL, out);
}

spate_status_t spate_sched_manual_run_conf(spate_sched_db_t *db, const spate_sched_dag_t *d,
                                           const char *run_id, int64_t logical_ms, int64_t now_ms,
                                           const char *conf_json, spate_sched_run_t *out) {
    spate_sched_run_t *r = out;
    memset(r, 0, sizeof *r);
    snprintf(r->dag_id, sizeof r->dag_id, "%s", d->dag_id);
    if (conf_json && strlen(conf_json) >= sizeof r->conf) return SPATE_EINVAL;
    snprintf(r->conf, sizeof r->conf, "%s", conf_json && *conf_json ? conf_json : "{}");
    if (logical_ms == INT64_MIN) logical_ms = now_ms;
    if (run_id && *run_id)
        snprintf(r->run_id, sizeof r->run_id, "%s", run_id);
    else
        spate_sched_run_id(SPATE_RUN_MANUAL, logical_ms, r->run_id, sizeof r->run_id);
    r->type = SPATE_RUN_MANUAL;
    r->state = SPATE_RUN_QUEUED;
    /* Airflow's infer_manual_data_interval: the last complete interval
     * ending at or before the logical date; empty without a schedule */
    r->logical_date_ms = r->data_interval_start_ms = r->data_interval_end_ms = logical_ms;
    if (d->schedule.kind == SPATE_SCHED_CRON || d->schedule.kind == SPATE_SCHED_EVERY) {
        int64_t end = spate_sched_schedule_prev(&d->schedule, d->start_date_ms, logical_ms);
        int64_t start = end == INT64_MIN
                            ? INT64_MIN
                            : spate_sched_schedule_prev(&d->schedule, d->start_date_ms, end - 1);
        if (start != INT64_MIN) {
            r->data_interval_start_ms = start;
            r->data_interval_end_ms = end;
        }
    }
    r->queued_ms = now_ms;
    return spate_sched_db_run_create(db, r);
}
