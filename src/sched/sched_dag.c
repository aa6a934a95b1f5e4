/*
 * sched_dag.c — DAG files (YAML) → spate_sched_dag_t, checked with
 * "file:line: message" diagnostics, and the DagBag that holds the DAGs of
 * a folder (reloading only changed files) plus inline `dags:` lists.
 *
 *   bag
 *    ├─ entries[]   one per source, inline lists first, then files by name
 *    │    entry: path | (conf, node) for inline, mtime_ns + size (cache
 *    │           key), the file's conf tree (owned), its DAGs, its diag
 *    ├─ vis[]       the DAGs callers see: every entry's DAGs in entry order,
 *    │              minus later duplicates of a dag_id
 *    └─ errors      every entry's diag + duplicate-id messages (rebuilt
 *                   after each load / add_node)
 *
 * Invariants: an entry with any problem contributes no DAG (a broken file
 * is left out whole, as Airflow drops a file that fails to import); every
 * string a DAG holds points into its entry's conf tree (or a literal), so
 * a DAG lives exactly as long as its entry; task->up[] indexes are valid
 * and acyclic, dag->topo is a topological order (upstream first).
 *
 * Checking goes on after a problem where the rest still makes sense, so
 * one load lists every mistake of a file.
 */
#include "sched.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ID_MAX 250
#define KEYS_MAX 64

/* ------------------------------------------------------------------ */
/* Bag layout                                                          */
/* ------------------------------------------------------------------ */

typedef struct {
    char *path; /* owned; NULL for an inline entry */
    const spate_conf_t *iconf;
    const spate_conf_node_t *inode;
    spate_conf_t conf; /* file entries: the loaded tree */
    int64_t mtime_ns, size;
    spate_sched_dag_t **dags;
    size_t ndags;
    spate_stream_diag_t diag;
    bool seen;
} entry_t;

struct spate_sched_dagbag {
    entry_t **entries;
    size_t nentries;
    const spate_sched_dag_t **vis;
    size_t nvis;
    spate_stream_diag_t errors;
};

/* ------------------------------------------------------------------ */
/* Checking helpers                                                    */
/* ------------------------------------------------------------------ */

typedef struct {
    const spate_conf_t *c;
    spate_stream_diag_t *d;
} lc_t;

static void lerr(lc_t *lc, const spate_conf_node_t *n, const char *fmt, ...) SPATE_PRINTF(3, 4);
static void lerr(lc_t *lc, const spate_conf_node_t *n, const char *fmt, ...) {
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    spate_stream_diag_at(lc->d, lc->c, n, "%s", what);
}

static size_t nerr(const lc_t *lc) { return spate_stream_diag_count(lc->d); }

static const char *kind_name(spate_conf_kind_t k) {
    return k == SPATE_CONF_MAP ? "a mapping" : k == SPATE_CONF_SEQ ? "a list" : "a value";
}

/* An unquoted empty / ~ / null scalar. */
static bool is_null(const spate_conf_node_t *n) {
    if (n == NULL) return true;
    if (n->kind != SPATE_CONF_SCALAR || n->quoted) return false;
    const char *v = n->value ? n->value : "";
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static void check_keys(lc_t *lc, const spate_conf_node_t *map, const char *const *known) {
    for (const spate_conf_node_t *n = map->child; n; n = n->next) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++) ok = strcmp(*k, n->key) == 0;
        if (ok) continue;
        char list[320] = "";
        size_t len = 0;
        for (const char *const *k = known; *k; k++) {
            int w = snprintf(list + len, sizeof list - len, "%s%s", k == known ? "" : ", ", *k);
            if (w < 0 || (size_t)w >= sizeof list - len) break;
            len += (size_t)w;
        }
        lerr(lc, n, "unknown setting (expected %s)", list);
    }
}

static bool valid_id(const char *s) {
    size_t n = 0;
    for (; s[n]; n++) {
        char ch = s[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return false;
    }
    /* ids become folders of DATA_DIR/logs/: "." and ".." would leave theirs */
    if (!strcmp(s, ".") || !strcmp(s, "..")) return false;
    return n > 0 && n <= ID_MAX;
}

/* A present, non-null scalar under key, or NULL (wrong kinds reported). */
static const spate_conf_node_t *get_scalar(lc_t *lc, const spate_conf_node_t *map,
                                           const char *key) {
    const spate_conf_node_t *n = spate_conf_get(map, key);
    if (n == NULL || is_null(n)) return NULL;
    if (n->kind != SPATE_CONF_SCALAR) {
        lerr(lc, n, "expected a value, got %s", kind_name(n->kind));
        return NULL;
    }
    return n;
}

static void get_bool(lc_t *lc, const spate_conf_node_t *map, const char *key, bool *out) {
    spate_conf_err_t err;
    spate_status_t st = spate_conf_get_bool(lc->c, map, key, out, &err);
    if (st != SPATE_OK && st != SPATE_ENOENT) spate_stream_diag_add(lc->d, err.msg);
}

static void get_int(lc_t *lc, const spate_conf_node_t *map, const char *key, int min, int max,
                    int *out) {
    spate_conf_err_t err;
    int64_t v;
    spate_status_t st = spate_conf_get_i64(lc->c, map, key, min, max, &v, &err);
    if (st == SPATE_OK)
        *out = (int)v;
    else if (st != SPATE_ENOENT)
        spate_stream_diag_add(lc->d, err.msg);
}

static void get_duration(lc_t *lc, const spate_conf_node_t *map, const char *key, int64_t *out) {
    const spate_conf_node_t *n = get_scalar(lc, map, key);
    if (n == NULL) return;
    if (spate_sched_parse_duration(n->value, out) != SPATE_OK)
        lerr(lc, n, "expected a duration like 30s, 5m, 2h, 1d, 250ms, 300 or 00:05:00, got '%s'",
             n->value);
}

static void get_time(lc_t *lc, const spate_conf_node_t *map, const char *key, int64_t *out) {
    const spate_conf_node_t *n = get_scalar(lc, map, key);
    if (n == NULL) return;
    if (spate_sched_parse_time(n->value, out) != SPATE_OK)
        lerr(lc, n, "expected a UTC date or time like 2026-11-01 or 2026-11-01T06:30:00, got '%s'",
             n->value);
}

static bool parse_trigger(const char *s, spate_sched_trigger_t *out) {
    for (int t = SPATE_TRIGGER_ALL_SUCCESS; t <= SPATE_TRIGGER_NONE_FAILED; t++)
        if (strcmp(s, spate_sched_trigger_name((spate_sched_trigger_t)t)) == 0) {
            *out = (spate_sched_trigger_t)t;
            return true;
        }
    return false;
}

/* ------------------------------------------------------------------ */
/* Tasks                                                               */
/* ------------------------------------------------------------------ */

/* The keys every task has; default_args takes the same minus the first
 * three. */
static const char *const task_keys[] = {"task_id",
                                        "type",
                                        "upstream",
                                        "trigger_rule",
                                        "retries",
                                        "retry_delay",
                                        "retry_exponential_backoff",
                                        "max_retry_delay",
                                        "execution_timeout",
                                        "pool",
                                        "pool_slots",
                                        NULL};
#define TASK_OWN_KEYS 3

typedef struct {
    spate_sched_retry_t retry;
    spate_sched_trigger_t trigger;
    const char *pool;
    int pool_slots;
} task_opts_t;

/* Reads the retry/pool/trigger keys of map over *o (keys absent keep). */
static void parse_opts(lc_t *lc, const spate_conf_node_t *map, task_opts_t *o) {
    get_int(lc, map, "retries", 0, 1000, &o->retry.retries);
    get_duration(lc, map, "retry_delay", &o->retry.retry_delay_ms);
    get_bool(lc, map, "retry_exponential_backoff", &o->retry.retry_exponential_backoff);
    get_duration(lc, map, "max_retry_delay", &o->retry.max_retry_delay_ms);
    get_duration(lc, map, "execution_timeout", &o->retry.execution_timeout_ms);
    const spate_conf_node_t *n = get_scalar(lc, map, "pool");
    if (n != NULL) {
        if (n->value[0] == '\0' || strlen(n->value) >= 128)
            lerr(lc, n, "expected a pool name of 1 to 127 characters");
        else
            o->pool = n->value;
    }
    get_int(lc, map, "pool_slots", 1, 1000000, &o->pool_slots);
    n = get_scalar(lc, map, "trigger_rule");
    if (n != NULL && !parse_trigger(n->value, &o->trigger))
        lerr(lc, n,
             "unknown trigger rule '%s' (expected all_success, all_done, all_failed, "
             "one_success, one_failed or none_failed)",
             n->value);
}

static void ops_list(char *out, size_t size) {
    size_t len = 0;
    out[0] = '\0';
    for (const spate_sched_op_t *const *o = spate_sched_ops(); o && *o; o++) {
        int w = snprintf(out + len, size - len, "%s%s", len ? ", " : "", (*o)->name);
        if (w < 0 || (size_t)w >= size - len) break;
        len += (size_t)w;
    }
}

static void parse_task(lc_t *lc, const spate_conf_node_t *n, const task_opts_t *defaults,
                       spate_sched_task_t *t) {
    t->line = n->line;
    t->node = n;
    t->id = "";
    t->type = "";
    task_opts_t o = *defaults;
    const spate_conf_node_t *v = spate_conf_get(n, "task_id");
    if (v == NULL)
        lerr(lc, n, "'task_id' is required");
    else if (v->kind != SPATE_CONF_SCALAR || is_null(v) || !valid_id(v->value))
        lerr(lc, v, "expected a task id of 1 to %d characters [A-Za-z0-9_.-]", ID_MAX);
    else
        t->id = v->value;

    const spate_sched_op_t *op = NULL;
    v = spate_conf_get(n, "type");
    if (v == NULL) {
        lerr(lc, n, "'type' is required (the operator)");
    } else if (v->kind != SPATE_CONF_SCALAR || is_null(v)) {
        lerr(lc, v, "expected an operator name");
    } else {
        t->type = v->value;
        op = spate_sched_op_find(v->value);
        if (op == NULL) {
            char list[256];
            ops_list(list, sizeof list);
            lerr(lc, v, "unknown operator '%s' (expected %s)", v->value, list);
        }
    }
    if (op != NULL) {
        /* common keys + the operator's own */
        const char *known[KEYS_MAX + 1];
        size_t k = 0;
        for (size_t i = 0; task_keys[i] && k < KEYS_MAX; i++) known[k++] = task_keys[i];
        for (size_t i = 0; op->keys && op->keys[i] && k < KEYS_MAX; i++) known[k++] = op->keys[i];
        known[k] = NULL;
        check_keys(lc, n, known);
        if (op->check) op->check(lc->c, n, lc->d);
    }

    v = spate_conf_get(n, "upstream");
    if (v != NULL && !is_null(v)) {
        if (v->kind == SPATE_CONF_MAP) {
            lerr(lc, v, "expected a task id or a list of task ids");
        } else if (v->kind == SPATE_CONF_SCALAR) {
            t->upstream = calloc(1, sizeof *t->upstream);
            if (t->upstream) {
                t->upstream[0] = v->value;
                t->nupstream = 1;
            }
        } else {
            t->upstream = calloc(v->nchild ? v->nchild : 1, sizeof *t->upstream);
            for (const spate_conf_node_t *u = v->child; u && t->upstream; u = u->next) {
                if (u->kind != SPATE_CONF_SCALAR || is_null(u))
                    lerr(lc, u, "expected a task id, got %s", kind_name(u->kind));
                else
                    t->upstream[t->nupstream++] = u->value;
            }
        }
    }
    parse_opts(lc, n, &o);
    t->retry = o.retry;
    t->trigger = o.trigger;
    t->pool = o.pool;
    t->pool_slots = o.pool_slots;
}

/* Finds duplicate ids, resolves upstream ids, and — when the DAG has no
 * problem so far (err0 = problems before it) — orders the tasks and
 * reports a cycle by its task ids. */
static void link_tasks(lc_t *lc, spate_sched_dag_t *d, const spate_conf_node_t *tasks_node,
                       size_t err0) {
    size_t n = d->ntasks;
    for (size_t i = 0; i < n; i++) {
        if (!d->tasks[i].id[0]) continue;
        for (size_t j = 0; j < i; j++)
            if (strcmp(d->tasks[i].id, d->tasks[j].id) == 0) {
                lerr(lc, spate_conf_get(d->tasks[i].node, "task_id"),
                     "task id '%s' is used twice in DAG '%s' (first at line %d)", d->tasks[i].id,
                     d->dag_id, d->tasks[j].line);
                break;
            }
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        spate_sched_task_t *t = &d->tasks[i];
        if (t->nupstream == 0) continue;
        t->up = calloc(t->nupstream, sizeof *t->up);
        if (t->up == NULL) {
            ok = false;
            continue;
        }
        const spate_conf_node_t *un = spate_conf_get(t->node, "upstream");
        for (size_t k = 0; k < t->nupstream; k++) {
            size_t j = 0;
            while (j < n && strcmp(d->tasks[j].id, t->upstream[k]) != 0) j++;
            if (j == n) {
                lerr(lc, un, "upstream task '%s' does not exist in DAG '%s'", t->upstream[k],
                     d->dag_id);
                ok = false;
                continue;
            }
            for (size_t m = 0; m < k; m++)
                if (strcmp(t->upstream[m], t->upstream[k]) == 0) {
                    lerr(lc, un, "upstream task '%s' is listed twice", t->upstream[k]);
                    ok = false;
                }
            t->up[k] = j;
        }
    }
    if (!ok || nerr(lc) != err0) return;
    /* Kahn: a task is ready when every upstream is placed. */
    d->topo = calloc(n ? n : 1, sizeof *d->topo);
    bool *placed = calloc(n ? n : 1, sizeof *placed);
    if (d->topo == NULL || placed == NULL) {
        free(placed);
        lerr(lc, tasks_node, "out of memory");
        return;
    }
    size_t done = 0;
    for (bool progress = true; progress && done < n;) {
        progress = false;
        for (size_t i = 0; i < n; i++) {
            if (placed[i]) continue;
            bool ready = true;
            for (size_t k = 0; k < d->tasks[i].nupstream && ready; k++)
                ready = placed[d->tasks[i].up[k]];
            if (ready) {
                placed[i] = true;
                d->topo[done++] = i;
                progress = true;
            }
        }
    }
    if (done < n) {
        /* Walk upstream among unplaced tasks (each has an unplaced
         * upstream) until a task repeats: that loop is a cycle. */
        size_t *path = calloc(n + 1, sizeof *path);
        size_t *pos = calloc(n, sizeof *pos); /* 0 = not on path, else index+1 */
        if (path && pos) {
            size_t cur = 0, len = 0;
            while (placed[cur]) cur++;
            while (pos[cur] == 0) {
                path[len++] = cur;
                pos[cur] = len;
                size_t next = cur;
                for (size_t k = 0; k < d->tasks[cur].nupstream; k++)
                    if (!placed[d->tasks[cur].up[k]]) {
                        next = d->tasks[cur].up[k];
                        break;
                    }
                cur = next;
            }
            /* path[pos[cur]-1 .. len-1] walks upstream; print downstream-ward */
            char msg[320];
            size_t ml = 0;
            size_t first = pos[cur] - 1;
            msg[0] = '\0';
            for (size_t i = len; i-- > first;) {
                int w = snprintf(msg + ml, sizeof msg - ml, "%s -> ", d->tasks[path[i]].id);
                if (w < 0 || (size_t)w >= sizeof msg - ml) break;
                ml += (size_t)w;
            }
            if (ml < sizeof msg)
                snprintf(msg + ml, sizeof msg - ml, "%s", d->tasks[path[len - 1]].id);
            lerr(lc, d->tasks[path[len - 1]].node, "DAG '%s' has a cycle: %s", d->dag_id, msg);
        } else {
            lerr(lc, tasks_node, "DAG '%s' has a cycle", d->dag_id);
        }
        free(path);
        free(pos);
    }
    free(placed);
}

/* ------------------------------------------------------------------ */
/* DAGs                                                                */
/* ------------------------------------------------------------------ */

static void dag_free(spate_sched_dag_t *d) {
    if (d == NULL) return;
    for (size_t i = 0; i < d->ntasks; i++) {
        free(d->tasks[i].upstream);
        free(d->tasks[i].up);
    }
    free(d->tasks);
    free(d->topo);
    free(d);
}

static const char *const dag_keys[] = {"dag_id",
                                       "description",
                                       "schedule",
                                       "start_date",
                                       "end_date",
                                       "catchup",
                                       "max_active_runs",
                                       "max_active_tasks",
                                       "is_paused_upon_creation",
                                       "params",
                                       "default_args",
                                       "tasks",
                                       NULL};

/* One DAG map → a new DAG, or NULL when it has a problem (reported). The
 * caller frees it with dag_free. */
static spate_sched_dag_t *parse_dag(lc_t *lc, const spate_conf_node_t *n) {
    size_t err0 = nerr(lc);
    if (n->kind != SPATE_CONF_MAP) {
        lerr(lc, n, "expected a DAG (a mapping with dag_id), got %s", kind_name(n->kind));
        return NULL;
    }
    spate_sched_dag_t *d = calloc(1, sizeof *d);
    if (d == NULL) return NULL;
    d->conf = lc->c;
    d->file = lc->c->path ? lc->c->path : "<config>";
    d->line = n->line;
    d->dag_id = "";
    d->description = "";
    d->end_date_ms = INT64_MAX;
    d->catchup = true;
    d->max_active_runs = 16;
    d->max_active_tasks = 16;
    check_keys(lc, n, dag_keys);

    const spate_conf_node_t *v = spate_conf_get(n, "dag_id");
    if (v == NULL)
        lerr(lc, n, "'dag_id' is required");
    else if (v->kind != SPATE_CONF_SCALAR || is_null(v) || !valid_id(v->value))
        lerr(lc, v, "expected a DAG id of 1 to %d characters [A-Za-z0-9_.-]", ID_MAX);
    else
        d->dag_id = v->value;

    v = get_scalar(lc, n, "description");
    if (v != NULL) d->description = v->value;

    v = spate_conf_get(n, "schedule");
    char err[256];
    if (v == NULL) {
        spate_sched_schedule_parse("@daily", &d->schedule, err, sizeof err);
    } else if (is_null(v)) {
        spate_sched_schedule_parse("none", &d->schedule, err, sizeof err);
    } else if (v->kind != SPATE_CONF_SCALAR) {
        lerr(lc, v, "expected a schedule, got %s", kind_name(v->kind));
    } else if (spate_sched_schedule_parse(v->value, &d->schedule, err, sizeof err) != SPATE_OK) {
        lerr(lc, v, "%s", err);
    }

    bool has_start =
        spate_conf_get(n, "start_date") != NULL && !is_null(spate_conf_get(n, "start_date"));
    get_time(lc, n, "start_date", &d->start_date_ms);
    if (!has_start && d->schedule.kind != SPATE_SCHED_NONE)
        lerr(lc, n, "'start_date' is required unless schedule is none");
    get_time(lc, n, "end_date", &d->end_date_ms);
    if (has_start && d->end_date_ms < d->start_date_ms)
        lerr(lc, spate_conf_get(n, "end_date"), "end_date is before start_date");
    get_bool(lc, n, "catchup", &d->catchup);
    get_bool(lc, n, "is_paused_upon_creation", &d->is_paused_upon_creation);
    get_int(lc, n, "max_active_runs", 1, 100000, &d->max_active_runs);
    get_int(lc, n, "max_active_tasks", 1, 100000, &d->max_active_tasks);

    v = spate_conf_get(n, "params");
    if (v != NULL && !is_null(v)) {
        if (v->kind != SPATE_CONF_MAP)
            lerr(lc, v, "expected a mapping of params, got %s", kind_name(v->kind));
        else
            d->params = v;
    }

    task_opts_t defaults = {.retry = {.retry_delay_ms = 300000},
                            .trigger = SPATE_TRIGGER_ALL_SUCCESS,
                            .pool = "default_pool",
                            .pool_slots = 1};
    v = spate_conf_get(n, "default_args");
    if (v != NULL && !is_null(v)) {
        if (v->kind != SPATE_CONF_MAP) {
            lerr(lc, v, "expected a mapping, got %s", kind_name(v->kind));
        } else {
            check_keys(lc, v, task_keys + TASK_OWN_KEYS);
            parse_opts(lc, v, &defaults);
        }
    }

    v = spate_conf_get(n, "tasks");
    if (v == NULL) {
        lerr(lc, n, "'tasks' is required (a list of tasks)");
    } else if (!is_null(v) && v->kind != SPATE_CONF_SEQ) {
        lerr(lc, v, "expected a list of tasks, got %s", kind_name(v->kind));
    } else if (v->kind == SPATE_CONF_SEQ && v->nchild > 0) {
        d->tasks = calloc(v->nchild, sizeof *d->tasks);
        if (d->tasks == NULL) {
            dag_free(d);
            return NULL;
        }
        for (const spate_conf_node_t *t = v->child; t; t = t->next) {
            if (t->kind != SPATE_CONF_MAP) {
                lerr(lc, t, "expected a task (a mapping), got %s", kind_name(t->kind));
                continue;
            }
            parse_task(lc, t, &defaults, &d->tasks[d->ntasks++]);
        }
        link_tasks(lc, d, v, err0);
    }
    if (d->ntasks == 0 && nerr(lc) == err0) d->topo = calloc(1, sizeof *d->topo);
    if (nerr(lc) != err0) {
        dag_free(d);
        return NULL;
    }
    return d;
}

/* ------------------------------------------------------------------ */
/* Entries                                                             */
/* ------------------------------------------------------------------ */

static void entry_clear(entry_t *e) {
    for (size_t i = 0; i < e->ndags; i++) dag_free(e->dags[i]);
    free(e->dags);
    e->dags = NULL;
    e->ndags = 0;
    spate_stream_diag_free(&e->diag);
    memset(&e->diag, 0, sizeof e->diag);
    if (e->path) spate_conf_free(&e->conf);
    memset(&e->conf, 0, sizeof e->conf);
}

static void entry_free(entry_t *e) {
    if (e == NULL) return;
    entry_clear(e);
    free(e->path);
    free(e);
}

/* Parses root (a `dags:` map, a single DAG map, or a list of DAGs) into
 * e->dags; any problem leaves e->dags empty. */
static void entry_parse(entry_t *e, const spate_conf_t *c, const spate_conf_node_t *root) {
    lc_t lc = {c, &e->diag};
    if (root == NULL || is_null(root)) return;
    const spate_conf_node_t *list = root;
    if (root->kind == SPATE_CONF_MAP) {
        if (spate_conf_get(root, "dags") != NULL) {
            static const char *const top[] = {"dags", NULL};
            check_keys(&lc, root, top);
            list = spate_conf_get(root, "dags");
            if (is_null(list)) return;
            if (list->kind != SPATE_CONF_SEQ) {
                lerr(&lc, list, "expected a list of DAGs, got %s", kind_name(list->kind));
                return;
            }
        } else if (spate_conf_get(root, "dag_id") == NULL) {
            lerr(&lc, root, "expected 'dags:' (a list of DAGs) or one DAG (a mapping with dag_id)");
            return;
        }
    } else if (root->kind != SPATE_CONF_SEQ) {
        lerr(&lc, root, "expected 'dags:' (a list of DAGs) or one DAG (a mapping with dag_id)");
        return;
    }
    size_t count = list->kind == SPATE_CONF_SEQ ? list->nchild : 1;
    e->dags = calloc(count ? count : 1, sizeof *e->dags);
    if (e->dags == NULL) {
        lerr(&lc, root, "out of memory");
        return;
    }
    const spate_conf_node_t *first = list->kind == SPATE_CONF_SEQ ? list->child : list;
    for (const spate_conf_node_t *n = first; n; n = list->kind == SPATE_CONF_SEQ ? n->next : NULL) {
        spate_sched_dag_t *d = parse_dag(&lc, n);
        if (d == NULL) continue;
        bool dup = false;
        for (size_t i = 0; i < e->ndags && !dup; i++)
            if (strcmp(e->dags[i]->dag_id, d->dag_id) == 0) {
                lerr(&lc, spate_conf_get(n, "dag_id"),
                     "dag_id '%s' is used twice (first at line %d)", d->dag_id, e->dags[i]->line);
                dup = true;
            }
        if (dup)
            dag_free(d);
        else
            e->dags[e->ndags++] = d;
    }
    if (spate_stream_diag_count(&e->diag) > 0) {
        for (size_t i = 0; i < e->ndags; i++) dag_free(e->dags[i]);
        e->ndags = 0;
    }
}

static void entry_load_file(entry_t *e) {
    spate_conf_err_t err;
    if (spate_conf_load_file(&e->conf, e->path, &err) != SPATE_OK) {
        spate_stream_diag_add(&e->diag, err.msg);
        return;
    }
    entry_parse(e, &e->conf, e->conf.root);
}

/* ------------------------------------------------------------------ */
/* The bag                                                             */
/* ------------------------------------------------------------------ */

spate_sched_dagbag_t *spate_sched_dagbag_new(void) {
    return calloc(1, sizeof(spate_sched_dagbag_t));
}

void spate_sched_dagbag_free(spate_sched_dagbag_t *b) {
    if (b == NULL) return;
    for (size_t i = 0; i < b->nentries; i++) entry_free(b->entries[i]);
    free(b->entries);
    free(b->vis);
    spate_stream_diag_free(&b->errors);
    free(b);
}

static int entry_cmp(const void *a, const void *b) {
    const entry_t *x = *(entry_t *const *)a, *y = *(entry_t *const *)b;
    if (!x->path || !y->path) return (x->path != NULL) - (y->path != NULL);
    return strcmp(x->path, y->path);
}

/* Rebuilds vis[] and errors from the entries. */
static void rebuild(spate_sched_dagbag_t *b) {
    /* inline entries first (stable: they keep insertion order), files by name */
    size_t ni = 0;
    for (size_t i = 0; i < b->nentries; i++)
        if (b->entries[i]->path == NULL) {
            entry_t *t = b->entries[i];
            memmove(b->entries + ni + 1, b->entries + ni, (i - ni) * sizeof *b->entries);
            b->entries[ni++] = t;
        }
    if (b->nentries - ni > 1) /* entries is NULL for an empty folder: no qsort(NULL) */
        qsort(b->entries + ni, b->nentries - ni, sizeof *b->entries, entry_cmp);
    spate_stream_diag_free(&b->errors);
    memset(&b->errors, 0, sizeof b->errors);
    size_t total = 0;
    for (size_t i = 0; i < b->nentries; i++) total += b->entries[i]->ndags;
    free(b->vis);
    b->vis = calloc(total ? total : 1, sizeof *b->vis);
    b->nvis = 0;
    for (size_t i = 0; i < b->nentries; i++) {
        entry_t *e = b->entries[i];
        for (size_t k = 0; k < e->diag.n; k++) spate_stream_diag_add(&b->errors, e->diag.msgs[k]);
        b->errors.dropped += e->diag.dropped;
        for (size_t k = 0; k < e->ndags && b->vis; k++) {
            const spate_sched_dag_t *d = e->dags[k];
            const spate_sched_dag_t *prev = spate_sched_dagbag_get(b, d->dag_id);
            if (prev != NULL) {
                char msg[600];
                snprintf(msg, sizeof msg, "%s:%d: dag_id '%s' is already defined at %s:%d", d->file,
                         d->line, d->dag_id, prev->file, prev->line);
                spate_stream_diag_add(&b->errors, msg);
                continue;
            }
            b->vis[b->nvis++] = d;
        }
    }
}

static spate_status_t push_entry(spate_sched_dagbag_t *b, entry_t *e) {
    entry_t **ne = realloc(b->entries, (b->nentries + 1) * sizeof *ne);
    if (ne == NULL) return SPATE_ENOMEM;
    b->entries = ne;
    b->entries[b->nentries++] = e;
    return SPATE_OK;
}

static bool has_yaml_ext(const char *name) {
    size_t n = strlen(name);
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int str_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.yaml / *.yml regular files directly in dir, sorted (malloc'd
 * paths; the caller frees each and the array). */
static spate_status_t list_dir(const char *dir, char ***out, size_t *count) {
    DIR *dh = opendir(dir);
    if (dh == NULL) return SPATE_EIO;
    char **v = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dh)) != NULL) {
        if (de->d_name[0] == '.' || !has_yaml_ext(de->d_name)) continue;
        size_t len = strlen(dir) + strlen(de->d_name) + 2;
        char *p = malloc(len);
        char **nv = realloc(v, (n + 1) * sizeof *nv);
        if (p == NULL || nv == NULL) {
            free(p);
            if (nv) v = nv;
            continue;
        }
        v = nv;
        snprintf(p, len, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(p);
            continue;
        }
        v[n++] = p;
    }
    closedir(dh);
    if (n > 1) qsort(v, n, sizeof *v, str_cmp);
    *out = v;
    *count = n;
    return SPATE_OK;
}

spate_status_t spate_sched_dagbag_load(spate_sched_dagbag_t *b, const char *path, bool *changed) {
    bool ch = false;
    if (changed) *changed = false;
    struct stat st;
    if (path == NULL || stat(path, &st) != 0) return SPATE_EIO;
    char **files = NULL;
    size_t nfiles = 0;
    if (S_ISDIR(st.st_mode)) {
        if (list_dir(path, &files, &nfiles) != SPATE_OK) return SPATE_EIO;
    } else {
        files = malloc(sizeof *files);
        if (files == NULL || (files[0] = strdup(path)) == NULL) {
            free(files);
            return SPATE_ENOMEM;
        }
        nfiles = 1;
    }
    for (size_t i = 0; i < b->nentries; i++) b->entries[i]->seen = false;
    for (size_t f = 0; f < nfiles; f++) {
        struct stat fs;
        if (stat(files[f], &fs) != 0) continue; /* vanished: dropped below */
        int64_t mt = (int64_t)fs.st_mtim.tv_sec * 1000000000 + fs.st_mtim.tv_nsec;
        entry_t *e = NULL;
        for (size_t i = 0; i < b->nentries && !e; i++)
            if (b->entries[i]->path && strcmp(b->entries[i]->path, files[f]) == 0)
                e = b->entries[i];
        if (e != NULL && e->mtime_ns == mt && e->size == (int64_t)fs.st_size) {
            e->seen = true;
            continue;
        }
        if (e == NULL) {
            e = calloc(1, sizeof *e);
            if (e == NULL || push_entry(b, e) != SPATE_OK) {
                free(e);
                continue;
            }
            e->path = files[f];
            files[f] = NULL;
        } else {
            entry_clear(e);
        }
        e->seen = true;
        e->mtime_ns = mt;
        e->size = (int64_t)fs.st_size;
        entry_load_file(e);
        ch = true;
    }
    for (size_t f = 0; f < nfiles; f++) free(files[f]);
    free(files);
    size_t keep = 0;
    for (size_t i = 0; i < b->nentries; i++) {
        entry_t *e = b->entries[i];
        if (e->path != NULL && !e->seen) {
            entry_free(e);
            ch = true;
        } else {
            b->entries[keep++] = e;
        }
    }
    b->nentries = keep;
    rebuild(b);
    if (changed) *changed = ch;
    return SPATE_OK;
}

void spate_sched_dagbag_add_node(spate_sched_dagbag_t *b, const spate_conf_t *c,
                                 const spate_conf_node_t *list) {
    entry_t *e = NULL;
    for (size_t i = 0; i < b->nentries && !e; i++)
        if (b->entries[i]->path == NULL && b->entries[i]->iconf == c &&
            b->entries[i]->inode == list)
            e = b->entries[i];
    if (e == NULL) {
        e = calloc(1, sizeof *e);
        if (e == NULL || push_entry(b, e) != SPATE_OK) {
            free(e);
            return;
        }
        e->iconf = c;
        e->inode = list;
    } else {
        entry_clear(e);
    }
    entry_parse(e, c, list);
    rebuild(b);
}

size_t spate_sched_dagbag_count(const spate_sched_dagbag_t *b) { return b ? b->nvis : 0; }

const spate_sched_dag_t *spate_sched_dagbag_at(const spate_sched_dagbag_t *b, size_t i) {
    return b && i < b->nvis ? b->vis[i] : NULL;
}

const spate_sched_dag_t *spate_sched_dagbag_get(const spate_sched_dagbag_t *b, const char *dag_id) {
    if (b == NULL || dag_id == NULL) return NULL;
    for (size_t i = 0; i < b->nvis; i++)
        if (strcmp(b->vis[i]->dag_id, dag_id) == 0) return b->vis[i];
    return NULL;
}

const spate_stream_diag_t *spate_sched_dagbag_errors(const spate_sched_dagbag_t *b) {
    return &b->errors;
}

const spate_sched_task_t *spate_sched_dag_task(const spate_sched_dag_t *d, const char *task_id) {
    if (d == NULL || task_id == NULL) return NULL;
    for (size_t i = 0; i < d->ntasks; i++)
        if (strcmp(d->tasks[i].id, task_id) == 0) return &d->tasks[i];
    return NULL;
}
