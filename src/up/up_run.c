/*
 * up_run.c — the supervisor's sequence: start in order with health
 * checks, report ready, keep a status line, run --once, stop in reverse.
 *
 *   state       what happens                         leaves to
 *   starting    start child i, pump its log until    starting (i+1) | failed
 *               healthy or start_timeout
 *   ready       print how to look at the data        running | once
 *   running     pump logs, restart crashes, status   stopping
 *               every second (a log line every 10 s
 *               when stdout is not a terminal)
 *   once        trigger the DAG (or ingest), wait    stopping
 *               for success and stored == staged
 *   stopping    SIGTERM in reverse order, SIGKILL    (exit 0, or 1 when
 *               after stop_timeout                    failed)
 *
 * The scheduler is started only when this binary has `spate scheduler`
 * (asked with `EXE help scheduler`); without it, --once does the DAG's
 * work in-process (up_ingest.c).
 */
#include "up_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* mkdir -p */
static spate_status_t mkdirs(const char *path) {
    char tmp[1024];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) return SPATE_ERANGE;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return SPATE_EIO;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return SPATE_EIO;
    return SPATE_OK;
}

/* Does this binary have `spate scheduler`? `EXE help scheduler` exits 0
 * for a known command, 2 for an unknown one. */
static bool have_command(const char *exe, const char *name) {
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execl(exe, exe, "help", name, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void set_args(up_t *u, const char *config) {
    const spate_up_conf_t *c = u->c;
    const char *exe = u->o->exe;
    const char *ru[] = {exe, "randomuser", "--listen", c->comp[SPATE_UP_RANDOMUSER].addr, NULL};
    const char *br[] = {exe,          "broker",
                        "--listen",   c->comp[SPATE_UP_BROKER].addr,
                        "--data-dir", c->comp[SPATE_UP_BROKER].data_dir,
                        NULL};
    const char *cq[] = {exe,          "cql",
                        "--listen",   c->comp[SPATE_UP_CQL].addr,
                        "--data-dir", c->comp[SPATE_UP_CQL].data_dir,
                        NULL};
    const char *st[] = {
        exe, "stream", "--config", config, "--metrics", c->comp[SPATE_UP_STREAM].addr, NULL};
    const char *sc[] = {exe, "scheduler", "--config", config, NULL};
    up_child_args(&u->ch[SPATE_UP_RANDOMUSER], ru);
    up_child_args(&u->ch[SPATE_UP_BROKER], br);
    up_child_args(&u->ch[SPATE_UP_CQL], cq);
    up_child_args(&u->ch[SPATE_UP_STREAM], st);
    up_child_args(&u->ch[SPATE_UP_SCHEDULER], sc);
}

static bool stopping(const up_t *u) { return u->failed || *u->o->stop_flag; }

/* Pumps logs until component i answers its health check. */
static spate_status_t wait_healthy(up_t *u, spate_up_comp_t i) {
    const char *name = spate_up_comp_name(i);
    int64_t t0 = spate_mono_ms(), deadline = t0 + u->c->start_timeout_ms;
    char err[256] = "";
    for (;;) {
        if (up_health(u, i, err, sizeof err) == SPATE_OK) {
            up_say(u, "%s is healthy (%lld ms)", name, (long long)(spate_mono_ms() - t0));
            return SPATE_OK;
        }
        up_pump(u, 100);
        if (stopping(u)) return SPATE_ERR;
        if (spate_mono_ms() >= deadline) {
            up_fail(u, "%s did not become healthy within %lld s: %s", name,
                    (long long)(u->c->start_timeout_ms / 1000), err);
            return SPATE_ETIMEDOUT;
        }
    }
}

static spate_status_t start_all(up_t *u, bool sched) {
    char err[256];
    for (int k = 0; k < SPATE_UP_NCOMP; k++) {
        spate_up_comp_t i = (spate_up_comp_t)k;
        const spate_up_comp_conf_t *cc = &u->c->comp[i];
        if (i == SPATE_UP_SCHEDULER && !sched) {
            up_say(u, cc->enabled ? "scheduler: this spate has no `scheduler` command; not started"
                                  : "scheduler: disabled in up: (not started)");
            continue;
        }
        if (cc->enabled) {
            if ((i == SPATE_UP_BROKER || i == SPATE_UP_CQL) && mkdirs(cc->data_dir) != SPATE_OK) {
                up_fail(u, "%s: cannot create %s: %s", spate_up_comp_name(i), cc->data_dir,
                        strerror(errno));
                return SPATE_EIO;
            }
            if (up_child_start(u, &u->ch[i]) != SPATE_OK) return SPATE_ERR;
            if (wait_healthy(u, i) != SPATE_OK) return SPATE_ERR;
        } else if (i == SPATE_UP_BROKER || i == SPATE_UP_CQL) {
            up_say(u, "%s: external at %s (not started)", spate_up_comp_name(i),
                   i == SPATE_UP_BROKER ? u->kafka : u->contact);
            if (wait_healthy(u, i) != SPATE_OK) return SPATE_ERR;
        }
        if (i == SPATE_UP_CQL) {
            int64_t deadline = spate_mono_ms() + u->c->start_timeout_ms;
            spate_status_t st;
            while ((st = up_topic_ensure(u, err, sizeof err)) != SPATE_OK) {
                if (spate_mono_ms() >= deadline) {
                    up_fail(u, "cannot create topic %s: %s", u->c->topic, err);
                    return st;
                }
                up_pump(u, 500);
                if (stopping(u)) return SPATE_ERR;
            }
        }
    }
    return SPATE_OK;
}

static void print_ready(up_t *u, bool sched) {
    const spate_up_conf_t *c = u->c;
    up_say(u, "ready. Look at the data with:");
    up_say(u, "  spate cqlsh %s -e \"SELECT count(*) FROM %s\"", u->contact, c->table);
    up_say(u, "  spate topics describe %s --bootstrap %s", c->topic, u->kafka);
    up_say(u, "  spate groups describe %s --bootstrap %s", c->group, u->kafka);
    if (c->comp[SPATE_UP_STREAM].enabled)
        up_say(u, "  curl -s http://%s/metrics", c->comp[SPATE_UP_STREAM].addr);
    if (sched) {
        if (c->config_path[0])
            up_say(u, "  spate dags list --config %s", c->config_path);
        else
            up_say(u, "  spate dags list");
        up_say(u, "  curl -s http://%s/api/v1/dags/%s/dagRuns", c->comp[SPATE_UP_SCHEDULER].addr,
               c->dag_id);
    }
    up_say(u, "Ctrl-C stops everything; running spate up again resumes with the same data.");
}

static void status_tick(up_t *u, int64_t *last_log) {
    up_stats_refresh(u);
    spate_buf_reset(&u->status);
    spate_up_stats_format(&u->stats, &u->status);
    if (u->o->tty) {
        up_status_draw(u);
    } else if (spate_mono_ms() - *last_log >= 10000) {
        *last_log = spate_mono_ms();
        up_say(u, "status: %s", u->status.data);
    }
}

/* Percent-encodes a run id for a URL path. */
static void url_escape(const char *s, spate_buf_t *out) {
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~')
            spate_buf_putc(out, (char)ch);
        else
            spate_buf_printf(out, "%%%02X", ch);
    }
}

spate_status_t up_once_dag(up_t *u, int64_t count, int64_t deadline) {
    const spate_up_conf_t *c = u->c;
    char base[600], err[512];
    snprintf(base, sizeof base, "http://%s/api/v1/dags/%s", c->comp[SPATE_UP_SCHEDULER].addr,
             c->dag_id);
    /* The API answers (healthy for up's probe) before the scheduler's
     * first DAG load; until /health says "healthy" its DAGs are not known
     * yet and the trigger below would be a 404. */
    char health[600];
    snprintf(health, sizeof health, "http://%s/api/v1/health", c->comp[SPATE_UP_SCHEDULER].addr);
    spate_buf_t hb = SPATE_BUF_INIT;
    while (!stopping(u) && spate_mono_ms() < deadline) {
        spate_buf_reset(&hb);
        if (up_http("GET", health, NULL, 2000, &hb, NULL, err, sizeof err) == SPATE_OK) {
            json_t *h = json_loadb(hb.data ? hb.data : "", hb.len, 0, NULL);
            const char *hs =
                json_string_value(json_object_get(json_object_get(h, "scheduler"), "status"));
            bool ready = hs && !strcmp(hs, "healthy");
            json_decref(h);
            if (ready) break;
        }
        up_pump(u, 50);
    }
    spate_buf_free(&hb);
    /* A paused DAG would queue the run forever; unpausing is what the
     * user asked for by --once. Failure here shows up below. */
    up_http("PATCH", base, "{\"is_paused\":false}", 5000, NULL, NULL, err, sizeof err);
    char url[700], body[128];
    snprintf(url, sizeof url, "%s/dagRuns", base);
    if (count > 0)
        snprintf(body, sizeof body, "{\"conf\":{\"count\":%lld}}", (long long)count);
    else
        snprintf(body, sizeof body, "{}");
    spate_buf_t ans = SPATE_BUF_INIT;
    spate_status_t st = up_http("POST", url, body, 10000, &ans, NULL, err, sizeof err);
    if (st != SPATE_OK) {
        up_fail(u, "--once: cannot trigger %s: %s", c->dag_id, err);
        spate_buf_free(&ans);
        return st;
    }
    json_t *j = json_loadb(ans.data ? ans.data : "", ans.len, 0, NULL);
    const char *rid0 = json_string_value(json_object_get(j, "dag_run_id"));
    if (!rid0) rid0 = json_string_value(json_object_get(j, "run_id"));
    char rid[256];
    if (rid0) snprintf(rid, sizeof rid, "%.255s", rid0);
    if (!rid0) {
        up_fail(u, "--once: the scheduler's answer has no dag_run_id: %.200s",
                ans.data ? ans.data : "");
        json_decref(j);
        spate_buf_free(&ans);
        return SPATE_ERR;
    }
    up_say(u, "--once: triggered %s run %s", c->dag_id, rid);
    spate_buf_t run_url = SPATE_BUF_INIT;
    spate_buf_printf(&run_url, "%s/dagRuns/", base);
    url_escape(rid, &run_url);
    json_decref(j);
    st = SPATE_ETIMEDOUT;
    char last[64] = "";
    while (!stopping(u) && spate_mono_ms() < deadline) {
        spate_buf_reset(&ans);
        if (up_http("GET", run_url.data, NULL, 5000, &ans, NULL, err, sizeof err) == SPATE_OK) {
            json_t *r = json_loadb(ans.data ? ans.data : "", ans.len, 0, NULL);
            const char *state = json_string_value(json_object_get(r, "state"));
            if (state && strcmp(state, last) != 0) {
                snprintf(last, sizeof last, "%s", state);
                up_say(u, "--once: run state %s", state);
            }
            bool ok = state && !strcmp(state, "success");
            bool bad = state && !strcmp(state, "failed");
            json_decref(r);
            if (ok) {
                st = SPATE_OK;
                break;
            }
            if (bad) {
                up_fail(u, "--once: run %s failed (see spate tasks logs)", rid);
                st = SPATE_ERR;
                break;
            }
        }
        up_pump(u, 500);
    }
    if (st == SPATE_ETIMEDOUT && !stopping(u))
        up_fail(u, "--once: run did not finish within %lld s (last state %s)",
                (long long)(c->once_timeout_ms / 1000), last[0] ? last : "unknown");
    spate_buf_free(&run_url);
    spate_buf_free(&ans);
    return st;
}

/* --once: one run end to end; 0 only when every user is stored. */
static int run_once(up_t *u, bool sched) {
    const spate_up_conf_t *c = u->c;
    int64_t deadline = spate_mono_ms() + c->once_timeout_ms;
    int64_t target = -1, fetched = -1;
    char err[512];
    if (sched) {
        if (up_once_dag(u, u->o->count, deadline) != SPATE_OK) return 1;
        int64_t pub;
        if (up_staged_count(c, &target, &pub, err, sizeof err) != SPATE_OK) {
            up_fail(u, "--once: cannot count staged users in %s: %s", c->staging, err);
            return 1;
        }
    } else {
        int64_t before = 0, n = u->o->count > 0 ? u->o->count : c->once_count, distinct;
        if (up_stored_count(u, &before) != SPATE_OK) before = 0;
        up_say(u,
               "--once: no scheduler: fetching %lld users and producing them "
               "to %s directly",
               (long long)n, c->topic);
        if (up_ingest(u, n, &fetched, &distinct, err, sizeof err) != SPATE_OK) {
            up_fail(u, "--once: %s", err);
            return 1;
        }
        target = before + distinct;
        up_say(u, "--once: fetched %lld users (%lld distinct), produced and flushed",
               (long long)fetched, (long long)distinct);
    }
    int64_t stored = -1;
    while (!stopping(u) && spate_mono_ms() < deadline) {
        if (up_stored_count(u, &stored) == SPATE_OK && stored >= target) break;
        up_pump(u, 250);
    }
    if (stopping(u)) return 1;
    up_stats_refresh(u);
    spate_buf_t line = SPATE_BUF_INIT;
    spate_up_stats_format(&u->stats, &line);
    if (fetched >= 0)
        up_say(u, "--once: fetched %lld · %s (expected stored %lld)", (long long)fetched, line.data,
               (long long)target);
    else
        up_say(u, "--once: %s (expected stored %lld = distinct users staged)", line.data,
               (long long)target);
    spate_buf_free(&line);
    if (stored != target) {
        up_fail(u, "--once: %lld users stored, expected %lld (within %lld s)", (long long)stored,
                (long long)target, (long long)(c->once_timeout_ms / 1000));
        return 1;
    }
    up_say(u, "--once: every user is stored (%lld)", (long long)stored);
    return 0;
}

int spate_up_run(const spate_up_conf_t *c, const spate_up_opts_t *o) {
    up_t u;
    memset(&u, 0, sizeof u);
    u.c = c;
    u.o = o;
    for (int i = 0; i < SPATE_UP_NCOMP; i++) {
        u.ch[i].comp = (spate_up_comp_t)i;
        u.ch[i].fd = -1;
    }
    snprintf(u.kafka, sizeof u.kafka, "%s", c->comp[SPATE_UP_BROKER].addr);
    snprintf(u.contact, sizeof u.contact, "%s", c->comp[SPATE_UP_CQL].addr);
    u.stats = (spate_up_stats_t){-1, -1, -1, -1, -1, 0};
    int rc = 1;
    bool sched = c->comp[SPATE_UP_SCHEDULER].enabled && have_command(o->exe, "scheduler");
    if (!c->config_path[0]) {
        up_fail(&u, "no pipeline file: the stream and the scheduler need one");
        goto out;
    }
    set_args(&u, c->config_path);
    up_say(&u, "spate up: %s (data in %s)", c->config_path, c->data_dir);
    if (start_all(&u, sched) != SPATE_OK) goto out;
    print_ready(&u, sched);
    if (o->once) {
        rc = run_once(&u, sched);
        goto out;
    }
    int64_t next = 0, last_log = spate_mono_ms() - 10000;
    while (!stopping(&u)) {
        if (spate_mono_ms() >= next) {
            status_tick(&u, &last_log);
            next = spate_mono_ms() + 1000;
        }
        up_pump(&u, 200);
    }
    rc = u.failed ? 1 : 0;
out:
    up_status_clear(&u);
    if (*o->stop_flag && !u.failed) up_say(&u, "stopping (signal)");
    up_stop_all(&u);
    up_probe_free(&u);
    if (u.failed) {
        up_say(&u, "exit 1: %s", u.reason);
        rc = 1;
    } else if (*o->stop_flag) {
        rc = o->once ? 1 : 0; /* a signal: a clean stop, but --once did not finish */
    }
    spate_buf_free(&u.status);
    return rc;
}
