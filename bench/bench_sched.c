/*
 * bench_sched.c — the scheduler's cost per task: hop latency on a chain
 * DAG and throughput on wide / fan-out DAGs (bench/run_sched.sh).
 *
 *   bench_sched SHAPE N WORKERS [TYPE]
 *
 *   SHAPE   chain   t00000 → t00001 → ... (N tasks)
 *           wide    N independent tasks
 *           fan     one root t00000, then N tasks all downstream of it
 *   TYPE    empty (default: does nothing, succeeds) or shell (`true`)
 *
 *   bench_sched micro N     the pieces of a tick timed alone (see micro()):
 *                           SQLite put/get/scan of N rows, a commit,
 *                           fork+exit+reap, a try's chores in a child
 *
 * One DAG (schedule @once, start date in the past, max_active_tasks
 * 100000, so only WORKERS limits) in a temp folder, SQLite metadata, the
 * scheduler built with spate_scheduler_new. The loop is spate_scheduler_run's
 * own, reproduced here so each tick can be timed and counted:
 *
 *   tick(now) → [run finished? stop] → poll(self-pipe, loop_ms)
 *       ▲                                   │ SIGCHLD writes a byte
 *       └───────────────────────────────────┘
 *
 * Timestamps: the metadata's start/end are the tick's clock (the reaping
 * tick both ends the upstream try and starts its downstream one, so they
 * say 0 ms per hop). A hop is measured from the log lines the tries
 * write (spate_log: wall clock, 1 ms resolution; file times on ext4 move
 * in 4 ms jiffies, too coarse):
 *
 *   upstream end     = its "try 1 finished: exit 0" line, written just
 *                      before _exit
 *   downstream start = its first line ("try 1, operator ..."), written by
 *                      the forked child before the operator runs
 *
 * so a hop covers: _exit, SIGCHLD, the loop's wake-up, the tick (reap,
 * metadata writes, trigger rules) and the fork of the next try. The
 * chain's time divided by its length (hop + one try) is printed too: it
 * has no rounding.
 *
 * Where a tick's time goes: the scheduler's calls to fork, waitpid,
 * sqlite3_step/_exec, db_tis, spate_log, exec_start/_poll and
 * dagbag_load are wrapped at link time (-Wl,--wrap, see below), timed
 * and counted.
 *
 * BENCH_NOFORK=1 replaces the executor's processes by nothing (see
 * __wrap_fork): the scheduler's own cost per task, alone.
 *
 * Output: human lines, one "RESULT key=value ..." line and "PROF" lines
 * that the script parses. Exit 1 if the run did not succeed. BENCH_KEEP=1
 * keeps the temp folder (DAG, metadata, try logs).
 */
#include "sched.h"
#include "sched_core_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int wake_wr = -1;

static void on_chld(int sig) {
    SPATE_UNUSED(sig);
    int e = errno;
    ssize_t r = write(wake_wr, "c", 1);
    SPATE_UNUSED(r);
    errno = e;
}

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- counters: calls the scheduler makes, wrapped at link time ---- */
/*
 * bench/CMakeLists.txt links this program with -Wl,--wrap=NAME for each
 * function below, so the scheduler library's calls to NAME come here
 * first: time and count, then the real one (__real_NAME). Inclusive
 * times; the nesting is
 *
 *   exec_poll ⊃ waitpid, ti_finish (sqlite3_step), log
 *   exec_start ⊃ fork (parent side)
 *   db_tis ⊃ its own sqlite3_step (not added to "step")
 *
 * Counted only while `prof` is set (the run loop), in this process.
 */
typedef struct {
    int64_t ns;
    size_t n;
} ctr_t;

static bool prof;
static bool in_tis;
static ctr_t c_fork, c_waitpid, c_step, c_exec, c_tis, c_log, c_start, c_poll, c_load;

#define TIMED(ctr, call)                                                                           \
    do {                                                                                           \
        int64_t t0_ = prof ? mono_ns() : 0;                                                        \
        call;                                                                                      \
        if (prof) {                                                                                \
            (ctr).ns += mono_ns() - t0_;                                                           \
            (ctr).n++;                                                                             \
        }                                                                                          \
    } while (0)

/* BENCH_NOFORK=1: no process at all. fork() returns a pid no process can
 * have (above the kernel's pid_max, 2^22), and waitpid() on it says
 * "exited 0" at once: the scheduler does all its own work per try (rows,
 * ticks, reaping) with an executor that costs nothing — what an
 * in-process `empty` would leave. setpgid/kill on such a pid fail with
 * ESRCH, which the executor ignores (kill only on timeouts: none here). */
static bool nofork;
static pid_t fake_pid = 1 << 23;
#define IS_FAKE(pid) ((pid) >= (1 << 23))

pid_t __real_fork(void);
pid_t __wrap_fork(void);
pid_t __wrap_fork(void) {
    if (nofork) {
        if (prof) c_fork.n++;
        return fake_pid++;
    }
    pid_t r;
    int64_t t0 = mono_ns();
    r = __real_fork();
    if (r != 0 && prof) {
        c_fork.ns += mono_ns() - t0;
        c_fork.n++;
    }
    return r;
}

pid_t __real_waitpid(pid_t pid, int *st, int opt);
pid_t __wrap_waitpid(pid_t pid, int *st, int opt);
pid_t __wrap_waitpid(pid_t pid, int *st, int opt) {
    if (nofork && IS_FAKE(pid)) {
        if (st) *st = 0; /* WIFEXITED, status 0 */
        if (prof) c_waitpid.n++;
        return pid;
    }
    pid_t r;
    TIMED(c_waitpid, r = __real_waitpid(pid, st, opt));
    return r;
}

int __real_sqlite3_step(sqlite3_stmt *st);
int __wrap_sqlite3_step(sqlite3_stmt *st);
int __wrap_sqlite3_step(sqlite3_stmt *st) {
    if (in_tis) return __real_sqlite3_step(st);
    int r;
    TIMED(c_step, r = __real_sqlite3_step(st));
    return r;
}

int __real_sqlite3_exec(sqlite3 *db, const char *sql, int (*cb)(void *, int, char **, char **),
                        void *arg, char **msg);
int __wrap_sqlite3_exec(sqlite3 *db, const char *sql, int (*cb)(void *, int, char **, char **),
                        void *arg, char **msg);
int __wrap_sqlite3_exec(sqlite3 *db, const char *sql, int (*cb)(void *, int, char **, char **),
                        void *arg, char **msg) {
    int r;
    TIMED(c_exec, r = __real_sqlite3_exec(db, sql, cb, arg, msg));
    return r;
}

spate_status_t __real_spate_sched_db_tis(spate_sched_db_t *db, const char *dag_id,
                                         const char *run_id, unsigned mask, spate_sched_ti_cb cb,
                                         void *ctx);
spate_status_t __wrap_spate_sched_db_tis(spate_sched_db_t *db, const char *dag_id,
                                         const char *run_id, unsigned mask, spate_sched_ti_cb cb,
                                         void *ctx);
spate_status_t __wrap_spate_sched_db_tis(spate_sched_db_t *db, const char *dag_id,
                                         const char *run_id, unsigned mask, spate_sched_ti_cb cb,
                                         void *ctx) {
    spate_status_t r;
    in_tis = true;
    TIMED(c_tis, r = __real_spate_sched_db_tis(db, dag_id, run_id, mask, cb, ctx));
    in_tis = false;
    return r;
}

void __wrap_spate_log(spate_log_level_t lvl, const char *component, const char *fmt, ...);
void __wrap_spate_log(spate_log_level_t lvl, const char *component, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    TIMED(c_log, spate_vlog(lvl, component, fmt, ap));
    va_end(ap);
}

spate_status_t __real_spate_sched_exec_start(spate_scheduler_t *s, const spate_sched_dag_t *d,
                                             const spate_sched_task_t *t,
                                             const spate_sched_run_t *run, int try_number,
                                             int64_t now_ms, spate_sched_child_t *kid);
spate_status_t __wrap_spate_sched_exec_start(spate_scheduler_t *s, const spate_sched_dag_t *d,
                                             const spate_sched_task_t *t,
                                             const spate_sched_run_t *run, int try_number,
                                             int64_t now_ms, spate_sched_child_t *kid);
spate_status_t __wrap_spate_sched_exec_start(spate_scheduler_t *s, const spate_sched_dag_t *d,
                                             const spate_sched_task_t *t,
                                             const spate_sched_run_t *run, int try_number,
                                             int64_t now_ms, spate_sched_child_t *kid) {
    spate_status_t r;
    TIMED(c_start, r = __real_spate_sched_exec_start(s, d, t, run, try_number, now_ms, kid));
    return r;
}

void __real_spate_sched_exec_poll(spate_scheduler_t *s, int64_t now_ms);
void __wrap_spate_sched_exec_poll(spate_scheduler_t *s, int64_t now_ms);
void __wrap_spate_sched_exec_poll(spate_scheduler_t *s, int64_t now_ms) {
    TIMED(c_poll, __real_spate_sched_exec_poll(s, now_ms));
}

spate_status_t __real_spate_sched_dagbag_load(spate_sched_dagbag_t *b, const char *path,
                                              bool *changed);
spate_status_t __wrap_spate_sched_dagbag_load(spate_sched_dagbag_t *b, const char *path,
                                              bool *changed);
spate_status_t __wrap_spate_sched_dagbag_load(spate_sched_dagbag_t *b, const char *path,
                                              bool *changed) {
    spate_status_t r;
    TIMED(c_load, r = __real_spate_sched_dagbag_load(b, path, changed));
    return r;
}

static void ctr_print(const char *name, ctr_t c, const char *key) {
    printf("    %-34s %6zu calls %9.3f ms  (%.1f us each)\n", name, c.n, (double)c.ns / 1e6,
           c.n ? (double)c.ns / 1e3 / (double)c.n : 0.0);
    printf("PROF %s_n=%zu %s_ms=%.3f\n", key, c.n, key, (double)c.ns / 1e6);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (0..1) of a sorted array of n > 0. */
static int64_t quantile(const int64_t *v, size_t n, double q) {
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

/* Writes the DAG file; returns 0 or -1. */
static int write_dag(const char *path, const char *shape, size_t n, const char *type) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "dag_id: bench\nschedule: \"@once\"\nstart_date: 2026-01-01\n"
               "max_active_runs: 1\nmax_active_tasks: 100000\ntasks:\n");
    size_t total = strcmp(shape, "fan") == 0 ? n + 1 : n;
    for (size_t i = 0; i < total; i++) {
        fprintf(f, "  - task_id: t%05zu\n    type: %s\n", i, type);
        if (strcmp(type, "shell") == 0) fprintf(f, "    command: \"true\"\n");
        if (i > 0 && strcmp(shape, "chain") == 0) fprintf(f, "    upstream: [t%05zu]\n", i - 1);
        if (i > 0 && strcmp(shape, "fan") == 0) fprintf(f, "    upstream: [t00000]\n");
    }
    return fclose(f) == 0 ? 0 : -1;
}

typedef struct {
    spate_sched_run_t run;
    bool hit;
} run_ctx_t;

static bool first_run(void *ctx, const spate_sched_run_t *r) {
    run_ctx_t *c = ctx;
    c->run = *r;
    c->hit = true;
    return false;
}

static long vm_hwm_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld", &v) == 1) break;
    fclose(f);
    return v;
}

/* Mappings of this process (fork copies the page tables of each). */
static int nmaps(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return -1;
    int n = 0, ch;
    while ((ch = fgetc(f)) != EOF) n += ch == '\n';
    fclose(f);
    return n;
}

static double tv_s(struct timeval t) { return (double)t.tv_sec + (double)t.tv_usec / 1e6; }

/* The time stamps (ms) of a try's log: its first line (written by the
 * forked child before the operator runs) and its "try N finished" line
 * (written just before _exit). 0, or -1 when either is missing. */
static int log_times(const char *path, int64_t *start, int64_t *end) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[2048];
    bool first = true, done = false;
    while (fgets(line, sizeof line, f)) {
        char ts[32];
        if (sscanf(line, "%31s", ts) != 1) continue;
        int64_t ms = 0;
        if (spate_sched_parse_time(ts, &ms) != SPATE_OK) continue;
        if (first) *start = ms;
        first = false;
        if (strstr(line, " finished: exit ")) {
            *end = ms;
            done = true;
        }
    }
    fclose(f);
    return !first && done ? 0 : -1;
}

/* ---- micro: the pieces a tick is made of, each timed alone ---- */

static bool count_ti(void *ctx, const spate_sched_ti_t *ti) {
    SPATE_UNUSED(ti);
    (*(size_t *)ctx)++;
    return true;
}

/* Times, in a temp SQLite metadata db like the scheduler's: one ti_put
 * (inside a transaction, as a tick does), one ti_get, one scan of an
 * N-task run (db_tis, which every tick does for every running run), and
 * fork + _exit + waitpid of a child doing nothing, from this process
 * (whose RSS is printed). Prints one line per piece and a RESULT line. */
static int micro(size_t n) {
    if (n == 0 || n > 99999) {
        fprintf(stderr, "bench_sched: micro N: 1..99999\n");
        return 2;
    }
    char dir[] = "/tmp/spate-bench-sched.XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char url[600], err[256] = "";
    snprintf(url, sizeof url, "%s/m.db", dir);
    spate_sched_db_t *db = NULL;
    if (spate_sched_db_open(&db, url, err, sizeof err) != SPATE_OK) {
        fprintf(stderr, "micro: %s\n", err);
        return 1;
    }
    spate_sched_ti_t ti;
    memset(&ti, 0, sizeof ti);
    snprintf(ti.dag_id, sizeof ti.dag_id, "bench");
    snprintf(ti.run_id, sizeof ti.run_id, "scheduled__2026-01-01T00:00:00+00:00");
    snprintf(ti.pool, sizeof ti.pool, "default_pool");
    ti.max_tries = 1;
    ti.exit_code = -1;
    spate_sched_run_t run;
    memset(&run, 0, sizeof run);
    snprintf(run.dag_id, sizeof run.dag_id, "bench");
    snprintf(run.run_id, sizeof run.run_id, "%s", ti.run_id);
    snprintf(run.conf, sizeof run.conf, "{}");
    run.state = SPATE_RUN_RUNNING;
    if (spate_sched_db_dag_ensure(db, "bench", false) != SPATE_OK ||
        spate_sched_db_run_create(db, &run) != SPATE_OK) {
        fprintf(stderr, "micro: %s\n", spate_sched_db_error(db));
        return 1;
    }
    /* puts: n rows, then n updates, in one transaction */
    spate_sched_db_begin(db);
    int64_t a = mono_ns();
    for (size_t i = 0; i < n; i++) {
        snprintf(ti.task_id, sizeof ti.task_id, "t%05zu", i);
        spate_sched_db_ti_put(db, &ti);
    }
    int64_t put_new = mono_ns() - a;
    ti.state = SPATE_TI_RUNNING;
    a = mono_ns();
    for (size_t i = 0; i < n; i++) {
        snprintf(ti.task_id, sizeof ti.task_id, "t%05zu", i);
        spate_sched_db_ti_put(db, &ti);
    }
    int64_t put_upd = mono_ns() - a;
    spate_sched_db_commit(db);
    a = mono_ns();
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "t%05zu", i);
        spate_sched_db_ti_get(db, "bench", ti.run_id, id, &ti);
    }
    int64_t get = mono_ns() - a;
    size_t rows = 0;
    int scans = 20;
    a = mono_ns();
    for (int k = 0; k < scans; k++) spate_sched_db_tis(db, "bench", ti.run_id, 0, count_ti, &rows);
    int64_t scan = (mono_ns() - a) / scans;
    /* commit of a small transaction (a tick's) */
    int commits = 200;
    a = mono_ns();
    for (int k = 0; k < commits; k++) {
        spate_sched_db_begin(db);
        spate_sched_db_ti_put(db, &ti);
        spate_sched_db_commit(db);
    }
    int64_t commit = (mono_ns() - a) / commits;
    spate_sched_db_close(db);
    /* fork + exit + reap */
    int forks = 500;
    int64_t in_fork = 0;
    a = mono_ns();
    for (int k = 0; k < forks; k++) {
        int64_t f0 = mono_ns();
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        in_fork += mono_ns() - f0;
        if (pid > 0) waitpid(pid, NULL, 0);
    }
    int64_t fk = (mono_ns() - a) / forks;
    in_fork /= forks;
    struct rusage r0, r1, r2;
    getrusage(RUSAGE_CHILDREN, &r0);
    for (int k = 0; k < forks; k++) {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        if (pid > 0) waitpid(pid, NULL, 0);
    }
    getrusage(RUSAGE_CHILDREN, &r1);
    /* what a try does around its operator (sched_exec.c child_main):
     * mkdir -p of its log folder, open it, two log lines, exit */
    for (int k = 0; k < forks; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            const char *only = getenv("BENCH_CHORES"); /* "mkdir" or "log": one half alone */
            if (only && !strcmp(only, "log")) {
                spate_log(SPATE_LOG_INFO, "task", "bench/x/t: try 1, operator empty, pid %d",
                          (int)getpid());
                spate_log(SPATE_LOG_INFO, "task", "try 1 finished: exit 0");
                _exit(0);
            }
            char path[700];
            snprintf(path, sizeof path, "%s/logs/bench/scheduled__2026-01-01T00:00:00+00:00/t%05d",
                     dir, k);
            for (char *q = path + 1; *q; q++) {
                if (*q != '/') continue;
                *q = '\0';
                mkdir(path, 0755);
                *q = '/';
            }
            mkdir(path, 0755);
            strcat(path, "/1.log");
            int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd < 0) _exit(1);
            if (only && !strcmp(only, "mkdir")) _exit(0);
            dup2(fd, 2);
            spate_log(SPATE_LOG_INFO, "task", "bench/x/t: try 1, operator empty, pid %d",
                      (int)getpid());
            spate_log(SPATE_LOG_INFO, "task", "try 1 finished: exit 0");
            _exit(0);
        }
        if (pid > 0) waitpid(pid, NULL, 0);
    }
    getrusage(RUSAGE_CHILDREN, &r2);
    double cpu_nop =
        (tv_s(r1.ru_utime) + tv_s(r1.ru_stime) - tv_s(r0.ru_utime) - tv_s(r0.ru_stime)) * 1e6 /
        forks;
    double cpu_try =
        (tv_s(r2.ru_utime) + tv_s(r2.ru_stime) - tv_s(r1.ru_utime) - tv_s(r1.ru_stime)) * 1e6 /
        forks;
    printf("micro (SQLite WAL, synchronous=NORMAL; %zu rows):\n", n);
    printf("  ti_put new %.1f us, ti_put update %.1f us, ti_get %.1f us (each, in a transaction)\n",
           (double)put_new / 1e3 / (double)n, (double)put_upd / 1e3 / (double)n,
           (double)get / 1e3 / (double)n);
    printf("  scan of one run's %zu task instances (db_tis): %.3f ms (%zu rows a scan)\n", n,
           (double)scan / 1e6, rows / (size_t)scans);
    printf("  transaction of one put: %.1f us\n", (double)commit / 1e3);
    printf("  fork + _exit + waitpid at RSS %ld KiB, %d mappings: %.1f us (the fork call itself "
           "%.1f us)\n",
           vm_hwm_kib(), nmaps(), (double)fk / 1e3, (double)in_fork / 1e3);
    printf("  cpu of one child: doing nothing %.0f us; doing a try's chores (mkdir -p, open, 2 "
           "log lines) %.0f us\n",
           cpu_nop, cpu_try);
    printf("RESULT micro=1 n=%zu put_new_us=%.2f put_upd_us=%.2f get_us=%.2f scan_ms=%.3f "
           "txn_us=%.1f fork_us=%.1f fork_call_us=%.1f\n",
           n, (double)put_new / 1e3 / (double)n, (double)put_upd / 1e3 / (double)n,
           (double)get / 1e3 / (double)n, (double)scan / 1e6, (double)commit / 1e3,
           (double)fk / 1e3, (double)in_fork / 1e3);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "micro") == 0)
        return micro((size_t)strtoul(argv[2], NULL, 10));
    if (argc < 4) {
        fprintf(stderr, "usage: bench_sched chain|wide|fan N WORKERS [empty|shell] | micro N\n");
        return 2;
    }
    const char *shape = argv[1];
    size_t n = (size_t)strtoul(argv[2], NULL, 10);
    int workers = atoi(argv[3]);
    const char *type = argc > 4 ? argv[4] : "empty";
    if ((strcmp(shape, "chain") && strcmp(shape, "wide") && strcmp(shape, "fan")) || n == 0 ||
        n > 99999 || workers <= 0 || (strcmp(type, "empty") && strcmp(type, "shell"))) {
        fprintf(stderr, "bench_sched: bad arguments\n");
        return 2;
    }
    size_t total = strcmp(shape, "fan") == 0 ? n + 1 : n;

    char dir[] = "/tmp/spate-bench-sched.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char dags[512], data[512], file[600];
    snprintf(dags, sizeof dags, "%s/dags", dir);
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(file, sizeof file, "%s/bench.yaml", dags);
    if (mkdir(dags, 0755) != 0 || write_dag(file, shape, n, type) != 0) {
        perror("dag file");
        return 1;
    }

    spate_sched_conf_t conf;
    spate_sched_conf_default(&conf);
    conf.dags_path = dags;
    conf.data_dir = data;
    conf.workers = workers;
    spate_scheduler_t *s = NULL;
    char err[512] = "";
    if (spate_scheduler_new(&s, &conf, err, sizeof err) != SPATE_OK) {
        fprintf(stderr, "bench_sched: %s\n", err);
        return 1;
    }

    int pfd[2];
    if (pipe2(pfd, O_NONBLOCK | O_CLOEXEC) != 0) return 1;
    wake_wr = pfd[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_chld;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);

    /* the loop */
    nofork = getenv("BENCH_NOFORK") && !strcmp(getenv("BENCH_NOFORK"), "1");
    prof = true;
    int64_t t_begin = mono_ns(), tick_ns = 0, tick_max = 0;
    size_t ticks = 0;
    run_ctx_t rc = {0};
    for (;;) {
        int64_t a = mono_ns();
        spate_status_t st = spate_scheduler_tick(s, spate_wall_ms());
        int64_t d = mono_ns() - a;
        tick_ns += d;
        tick_max = SPATE_MAX(tick_max, d);
        ticks++;
        if (st != SPATE_OK) fprintf(stderr, "tick: %s\n", spate_sched_db_error(s->db));
        rc.hit = false;
        spate_sched_db_runs(s->db, "bench", 0, 1, first_run, &rc);
        if (rc.hit && (rc.run.state == SPATE_RUN_SUCCESS || rc.run.state == SPATE_RUN_FAILED))
            break;
        if (mono_ns() - t_begin > (int64_t)600 * 1000000000) {
            fprintf(stderr, "bench_sched: no end after 600 s\n");
            return 1;
        }
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        poll(&p, 1, nofork ? 0 : (int)conf.loop_ms); /* no SIGCHLD without children */
        char buf[256];
        while (read(pfd[0], buf, sizeof buf) > 0) {
        }
    }
    int64_t t_end = mono_ns();
    prof = false;
    double wall_s = (double)(t_end - t_begin) / 1e9;
    double run_s = (double)(rc.run.end_ms - rc.run.start_ms) / 1e3;

    /* hops, from the tries' log files */
    int64_t *hops = calloc(total, sizeof(*hops));
    int64_t *starts = calloc(total, sizeof(*starts)), *ends = calloc(total, sizeof(*ends));
    size_t nh = 0, nbad = 0;
    int64_t first_start = INT64_MAX, last_end = INT64_MIN;
    for (size_t i = 0; i < total; i++) {
        char id[32], path[1024];
        snprintf(id, sizeof id, "t%05zu", i);
        spate_sched_log_path(s->data_dir, "bench", rc.run.run_id, id, 1, path, sizeof path);
        if (log_times(path, &starts[i], &ends[i]) != 0) {
            nbad++;
            starts[i] = ends[i] = INT64_MIN;
            continue;
        }
        first_start = SPATE_MIN(first_start, starts[i]);
        last_end = SPATE_MAX(last_end, ends[i]);
        if (strcmp(shape, "chain") == 0 && i > 0 && ends[i - 1] != INT64_MIN)
            hops[nh++] = starts[i] - ends[i - 1];
    }
    free(starts);
    free(ends);
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    double cpu_self = tv_s(self.ru_utime) + tv_s(self.ru_stime);
    double cpu_kids = tv_s(kids.ru_utime) + tv_s(kids.ru_stime);
    double files_s = last_end > first_start ? (double)(last_end - first_start) / 1e3 : 0;

    printf("%s%s of %zu %s tasks, workers %d: run %s in %.3f s (metadata), %.3f s (loop), "
           "%.3f s (first try start to last try end)\n",
           nofork ? "[BENCH_NOFORK: no try processes] " : "", shape, total, type, workers,
           spate_sched_run_state_name(rc.run.state), run_s, wall_s, files_s);
    printf("  throughput %.0f tasks/s (run start to end)\n", (double)total / wall_s);
    printf("  ticks %zu, in ticks %.3f s (mean %.3f ms, max %.3f ms), waiting %.3f s\n", ticks,
           (double)tick_ns / 1e9, (double)tick_ns / 1e6 / (double)ticks, (double)tick_max / 1e6,
           wall_s - (double)tick_ns / 1e9);
    printf("  inside the ticks (inclusive, see the nesting at the top of bench_sched.c):\n");
    ctr_print("exec_start (fork a try + bookkeeping)", c_start, "exec_start");
    ctr_print("  fork() in the parent", c_fork, "fork");
    ctr_print("exec_poll (reap + ti_finish)", c_poll, "exec_poll");
    ctr_print("  waitpid", c_waitpid, "waitpid");
    ctr_print("db_tis (read a run's tis)", c_tis, "db_tis");
    ctr_print("sqlite3_step (other statements)", c_step, "step");
    ctr_print("sqlite3_exec (BEGIN/COMMIT...)", c_exec, "exec");
    ctr_print("spate_log (log lines)", c_log, "log");
    ctr_print("dagbag_load (rescans)", c_load, "dagbag_load");
    printf("  cpu: scheduler %.3f s, tries %.3f s; scheduler peak RSS %ld KiB, %d mappings\n",
           cpu_self, cpu_kids, vm_hwm_kib(), nmaps());
    double p50 = 0, p99 = 0, mx = 0, mean = 0;
    if (nh) {
        int64_t sum = 0;
        for (size_t i = 0; i < nh; i++) sum += hops[i];
        qsort(hops, nh, sizeof(*hops), cmp_i64);
        p50 = (double)quantile(hops, nh, 0.50);
        p99 = (double)quantile(hops, nh, 0.99);
        mx = (double)hops[nh - 1];
        mean = (double)sum / (double)nh;
        printf("  hop (upstream's \"finished\" log line → downstream's first), %zu hops, 1 ms "
               "resolution: "
               "p50 %.3f ms, p99 %.3f ms, max %.3f ms, mean %.3f "
               "ms\n",
               nh, p50, p99, mx, mean);
    }
    if (nbad && !nofork) printf("  %zu try logs without both time stamps\n", nbad);
    if (strcmp(shape, "chain") == 0)
        printf("  per task in the chain (hop + one try's own time): %.3f ms\n",
               wall_s * 1e3 / (double)total);
    printf("RESULT nofork=%d shape=%s tasks=%zu type=%s workers=%d state=%s wall_s=%.4f run_s=%.3f "
           "tasks_per_s=%.1f ticks=%zu tick_s=%.4f tick_mean_ms=%.4f tick_max_ms=%.3f "
           "cpu_sched_s=%.3f cpu_tries_s=%.3f rss_kib=%ld hops=%zu hop_p50_ms=%.3f "
           "hop_p99_ms=%.3f hop_max_ms=%.3f hop_mean_ms=%.3f\n",
           (int)nofork, shape, total, type, workers, spate_sched_run_state_name(rc.run.state),
           wall_s, run_s, (double)total / wall_s, ticks, (double)tick_ns / 1e9,
           (double)tick_ns / 1e6 / (double)ticks, (double)tick_max / 1e6, cpu_self, cpu_kids,
           vm_hwm_kib(), nh, p50, p99, mx, mean);
    fflush(stdout);
    bool ok = rc.run.state == SPATE_RUN_SUCCESS;
    free(hops);
    spate_scheduler_free(s);
    if (getenv("BENCH_KEEP") == NULL) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "bench_sched: could not remove %s\n", dir);
    } else {
        fprintf(stderr, "kept %s\n", dir);
    }
    return ok ? 0 : 1;
}
