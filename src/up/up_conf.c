/*
 * up_conf.c — the `up:` section of a pipeline file.
 *
 *   up:
 *     data_dir: ./spate-data        # root; DATA_DIR/<component> by default
 *     randomuser: {enabled: true, listen: 127.0.0.1:8088}   # or url: (external)
 *     broker:     {enabled: true, listen: 127.0.0.1:9092, data_dir: ...}
 *                                    # external: {enabled: false, bootstrap: h:p,h:p}
 *     cql:        {enabled: true, listen: 127.0.0.1:9042, data_dir: ...}
 *                                    # external: {enabled: false, contact_points: [h:p]}
 *     stream:     {enabled: true, metrics: 127.0.0.1:9108}
 *     scheduler:  {enabled: true, api: 127.0.0.1:8793}
 *     topic: users_created          partitions: 1
 *     group: spate-stream           table: spark_streams.created_users
 *     dag_id: user_automation       once_count: 1000
 *     staging: PATH-or-URL          staging_table: staged_users
 *     start_timeout_ms: 30000       once_timeout_ms: 120000
 *     stop_timeout_ms: 10000        max_crashes: 5   crash_window_ms: 60000
 *
 * What up also takes from `scheduler:` when its own section does not say:
 * the API address (scheduler.api, a scalar or {listen: ...}), and the
 * staging database (connections.postgres, else connections.sqlite, else
 * SCHEDULER_DATA_DIR/staging.db, as the staging operator does).
 *
 * Invariant: after a successful load every string is NUL-terminated and
 * fits its array (too long is an error naming the key), so nothing in
 * spate_up_conf_t points into the YAML tree.
 */
#include "up.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const comp_names[SPATE_UP_NCOMP] = {"randomuser", "broker", "cql", "stream",
                                                       "scheduler"};

const char *spate_up_comp_name(spate_up_comp_t c) {
    return (unsigned)c < SPATE_UP_NCOMP ? comp_names[c] : "?";
}

/* The key naming each component's address besides `listen`. */
static const char *const addr_keys[SPATE_UP_NCOMP] = {"url", "bootstrap", "contact_points",
                                                      "metrics", "api"};
static const char *const default_addr[SPATE_UP_NCOMP] = {
    "127.0.0.1:8088", "127.0.0.1:9092", "127.0.0.1:9042", "127.0.0.1:9108", "127.0.0.1:8793"};

/* Copies src into dst[cap], cut to fit. */
static void copy(char *dst, size_t cap, const char *src) {
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* snprintf into a fixed array; false (and "") when it does not fit. */
static bool fmt(char *dst, size_t cap, const char *f, ...) SPATE_PRINTF(3, 4);
static bool fmt(char *dst, size_t cap, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(dst, cap, f, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) {
        dst[0] = '\0';
        return false;
    }
    return true;
}

void spate_up_conf_default(spate_up_conf_t *c) {
    memset(c, 0, sizeof *c);
    copy(c->data_dir, sizeof c->data_dir, "./spate-data");
    for (int i = 0; i < SPATE_UP_NCOMP; i++) {
        c->comp[i].enabled = true;
        copy(c->comp[i].addr, sizeof c->comp[i].addr, default_addr[i]);
    }
    copy(c->topic, sizeof c->topic, "users_created");
    c->partitions = 1;
    copy(c->group, sizeof c->group, "spate-stream");
    copy(c->table, sizeof c->table, "spark_streams.created_users");
    copy(c->dag_id, sizeof c->dag_id, "user_automation");
    copy(c->staging_table, sizeof c->staging_table, "staged_users");
    c->once_count = 1000;
    c->start_timeout_ms = 30000;
    c->once_timeout_ms = 120000;
    c->stop_timeout_ms = 10000;
    c->max_crashes = 5;
    c->crash_window_ms = 60000;
    fmt(c->staging, sizeof c->staging, "%s/scheduler/staging.db", c->data_dir);
    for (int i = SPATE_UP_BROKER; i <= SPATE_UP_CQL; i++)
        fmt(c->comp[i].data_dir, sizeof c->comp[i].data_dir, "%s/%s", c->data_dir, comp_names[i]);
}

/* Copies a scalar into dst (cap bytes); a sequence of scalars is joined
 * with commas (contact points). Too long or the wrong shape: EINVAL. */
static spate_status_t put_str(const spate_conf_t *cf, const spate_conf_node_t *n, char *dst,
                              size_t cap, spate_conf_err_t *err) {
    spate_buf_t b = SPATE_BUF_INIT;
    spate_status_t st = SPATE_OK;
    if (n->kind == SPATE_CONF_SCALAR) {
        spate_buf_puts(&b, n->value ? n->value : "");
    } else if (n->kind == SPATE_CONF_SEQ) {
        for (const spate_conf_node_t *it = n->child; it; it = it->next) {
            if (it->kind != SPATE_CONF_SCALAR) {
                spate_conf_errorf(cf, n, err, "expected a list of strings");
                st = SPATE_EINVAL;
                goto out;
            }
            if (b.len) spate_buf_putc(&b, ',');
            spate_buf_puts(&b, it->value ? it->value : "");
        }
    } else {
        spate_conf_errorf(cf, n, err, "expected a string");
        st = SPATE_EINVAL;
        goto out;
    }
    if (b.len >= cap) {
        spate_conf_errorf(cf, n, err, "too long (at most %zu characters)", cap - 1);
        st = SPATE_EINVAL;
        goto out;
    }
    memcpy(dst, b.len ? b.data : "", b.len + 1);
out:
    spate_buf_free(&b);
    return st;
}

/* map[key] into dst when present; ENOENT (dst untouched) when absent. */
static spate_status_t get_str(const spate_conf_t *cf, const spate_conf_node_t *map, const char *key,
                              char *dst, size_t cap, spate_conf_err_t *err) {
    const spate_conf_node_t *n = map ? spate_conf_get(map, key) : NULL;
    if (!n) return SPATE_ENOENT;
    return put_str(cf, n, dst, cap, err);
}

static bool failed(spate_status_t st) { return st != SPATE_OK && st != SPATE_ENOENT; }

static spate_status_t load_comp(const spate_conf_t *cf, const spate_conf_node_t *up,
                                spate_up_comp_t i, spate_up_conf_t *c, spate_conf_err_t *err) {
    const spate_conf_node_t *m = spate_conf_get(up, comp_names[i]);
    if (!m) return SPATE_OK;
    if (m->kind != SPATE_CONF_MAP) {
        spate_conf_errorf(cf, m, err, "expected a map (enabled, listen, ...)");
        return SPATE_EINVAL;
    }
    const char *known[] = {"enabled", "listen", "data_dir", addr_keys[i], NULL};
    spate_status_t st = spate_conf_check_keys(cf, m, known, err);
    if (st != SPATE_OK) return st;
    spate_up_comp_conf_t *k = &c->comp[i];
    if (failed(st = spate_conf_get_bool(cf, m, "enabled", &k->enabled, err))) return st;
    if (failed(st = get_str(cf, m, "listen", k->addr, sizeof k->addr, err))) return st;
    if (failed(st = get_str(cf, m, addr_keys[i], k->addr, sizeof k->addr, err))) return st;
    if (i == SPATE_UP_RANDOMUSER && strstr(k->addr, "://")) {
        /* url: a full API URL (an external source). */
        copy(c->randomuser_url, sizeof c->randomuser_url, k->addr);
    }
    if (failed(st = get_str(cf, m, "data_dir", k->data_dir, sizeof k->data_dir, err))) return st;
    return SPATE_OK;
}

/* What up borrows from the scheduler's own section. */
static spate_status_t load_sched(const spate_conf_t *cf, const spate_conf_node_t *s,
                                 spate_up_conf_t *c, bool have_api, bool have_staging,
                                 spate_conf_err_t *err) {
    char sched_dir[512];
    fmt(sched_dir, sizeof sched_dir, "%s/scheduler", c->data_dir);
    spate_status_t st;
    if (s && s->kind == SPATE_CONF_MAP) {
        if (failed(st = get_str(cf, s, "data_dir", sched_dir, sizeof sched_dir, err))) return st;
        const spate_conf_node_t *api = spate_conf_get(s, "api");
        if (!have_api && api) {
            if (api->kind == SPATE_CONF_MAP) {
                st = get_str(cf, api, "listen", c->comp[SPATE_UP_SCHEDULER].addr,
                             sizeof c->comp[SPATE_UP_SCHEDULER].addr, err);
            } else {
                st = put_str(cf, api, c->comp[SPATE_UP_SCHEDULER].addr,
                             sizeof c->comp[SPATE_UP_SCHEDULER].addr, err);
            }
            if (failed(st)) return st;
        }
        const spate_conf_node_t *conn = spate_conf_get(s, "connections");
        if (!have_staging && conn && conn->kind == SPATE_CONF_MAP) {
            st = get_str(cf, conn, "postgres", c->staging, sizeof c->staging, err);
            if (st == SPATE_ENOENT)
                st = get_str(cf, conn, "sqlite", c->staging, sizeof c->staging, err);
            if (failed(st)) return st;
        }
    }
    if (!c->staging[0] && !have_staging) {
        fmt(c->staging, sizeof c->staging, "%s/staging.db", sched_dir);
    }
    return SPATE_OK;
}

static void fill_dirs(spate_up_conf_t *c) {
    for (int i = SPATE_UP_BROKER; i <= SPATE_UP_CQL; i++) {
        spate_up_comp_conf_t *k = &c->comp[i];
        if (!k->data_dir[0])
            fmt(k->data_dir, sizeof k->data_dir, "%s/%s", c->data_dir, comp_names[i]);
    }
}

static spate_status_t load_tree(spate_up_conf_t *c, const spate_conf_t *cf, spate_conf_err_t *err) {
    const spate_conf_node_t *root = cf->root;
    const spate_conf_node_t *up =
        root && root->kind == SPATE_CONF_MAP ? spate_conf_get(root, "up") : NULL;
    bool have_api = false, have_staging = false;
    spate_status_t st;
    /* Derived paths are recomputed from the (possibly new) data_dir. */
    c->staging[0] = '\0';
    for (int i = SPATE_UP_BROKER; i <= SPATE_UP_CQL; i++) c->comp[i].data_dir[0] = '\0';
    if (up) {
        if (up->kind != SPATE_CONF_MAP) {
            spate_conf_errorf(cf, up, err, "expected a map");
            return SPATE_EINVAL;
        }
        static const char *const known[] = {"data_dir",
                                            "randomuser",
                                            "broker",
                                            "cql",
                                            "stream",
                                            "scheduler",
                                            "topic",
                                            "partitions",
                                            "group",
                                            "table",
                                            "dag_id",
                                            "staging",
                                            "staging_table",
                                            "once_count",
                                            "start_timeout_ms",
                                            "once_timeout_ms",
                                            "stop_timeout_ms",
                                            "max_crashes",
                                            "crash_window_ms",
                                            NULL};
        if ((st = spate_conf_check_keys(cf, up, known, err)) != SPATE_OK) return st;
        if (failed(st = get_str(cf, up, "data_dir", c->data_dir, sizeof c->data_dir, err)))
            return st;
        for (int i = 0; i < SPATE_UP_NCOMP; i++)
            if ((st = load_comp(cf, up, (spate_up_comp_t)i, c, err)) != SPATE_OK) return st;
        const spate_conf_node_t *us = spate_conf_get(up, "scheduler");
        have_api = us && us->kind == SPATE_CONF_MAP &&
                   (spate_conf_get(us, "api") || spate_conf_get(us, "listen"));
        struct {
            const char *key;
            char *dst;
            size_t cap;
        } strs[] = {
            {"topic", c->topic, sizeof c->topic},
            {"group", c->group, sizeof c->group},
            {"table", c->table, sizeof c->table},
            {"dag_id", c->dag_id, sizeof c->dag_id},
            {"staging", c->staging, sizeof c->staging},
            {"staging_table", c->staging_table, sizeof c->staging_table},
        };
        for (size_t i = 0; i < SPATE_ARRAY_LEN(strs); i++) {
            st = get_str(cf, up, strs[i].key, strs[i].dst, strs[i].cap, err);
            if (failed(st)) return st;
            if (st == SPATE_OK && !strs[i].dst[0]) {
                spate_conf_errorf(cf, spate_conf_get(up, strs[i].key), err, "must not be empty");
                return SPATE_EINVAL;
            }
            if (st == SPATE_OK && strs[i].dst == c->staging) have_staging = true;
        }
        if (!strchr(c->table, '.')) {
            spate_conf_errorf(cf, spate_conf_get(up, "table"), err,
                              "expected keyspace.table, got '%s'", c->table);
            return SPATE_EINVAL;
        }
        int64_t v;
        struct {
            const char *key;
            int64_t min, max;
            int64_t *dst64;
            int *dst32;
        } nums[] = {
            {"partitions", 1, 10000, NULL, &c->partitions},
            {"once_count", 1, 100000000, &c->once_count, NULL},
            {"start_timeout_ms", 100, 3600000, &c->start_timeout_ms, NULL},
            {"once_timeout_ms", 100, 86400000, &c->once_timeout_ms, NULL},
            {"stop_timeout_ms", 0, 3600000, &c->stop_timeout_ms, NULL},
            {"max_crashes", 1, SPATE_UP_CRASH_RING, NULL, &c->max_crashes},
            {"crash_window_ms", 1000, 86400000, &c->crash_window_ms, NULL},
        };
        for (size_t i = 0; i < SPATE_ARRAY_LEN(nums); i++) {
            st = spate_conf_get_i64(cf, up, nums[i].key, nums[i].min, nums[i].max, &v, err);
            if (failed(st)) return st;
            if (st == SPATE_OK) {
                if (nums[i].dst64)
                    *nums[i].dst64 = v;
                else
                    *nums[i].dst32 = (int)v;
            }
        }
    }
    const spate_conf_node_t *s =
        root && root->kind == SPATE_CONF_MAP ? spate_conf_get(root, "scheduler") : NULL;
    if ((st = load_sched(cf, s, c, have_api, have_staging, err)) != SPATE_OK) return st;
    fill_dirs(c);
    return SPATE_OK;
}

spate_status_t spate_up_conf_load(spate_up_conf_t *c, const char *path, spate_conf_err_t *err) {
    spate_conf_t cf = {0};
    spate_status_t st = spate_conf_load_file(&cf, path, err);
    if (st != SPATE_OK) goto out;
    if (strlen(path) >= sizeof c->config_path) {
        snprintf(err->msg, sizeof err->msg, "%.400s: path too long", path);
        st = SPATE_EINVAL;
        goto out;
    }
    copy(c->config_path, sizeof c->config_path, path);
    st = load_tree(c, &cf, err);
out:
    spate_conf_free(&cf);
    return st;
}

spate_status_t spate_up_conf_load_string(spate_up_conf_t *c, const char *name, const char *text,
                                         spate_conf_err_t *err) {
    spate_conf_t cf = {0};
    spate_status_t st = spate_conf_load_string(&cf, name, text, strlen(text), err);
    if (st == SPATE_OK) st = load_tree(c, &cf, err);
    spate_conf_free(&cf);
    return st;
}
