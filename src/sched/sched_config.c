/*
 * sched_config.c — the `scheduler:` section of a pipeline file, read into
 * a spate_sched_conf_t for `spate scheduler` and `spate dags|tasks|runs`.
 *
 *   scheduler:
 *     dags_folder: dags/          # relative to the pipeline file's folder
 *     dags: [...]                 # inline DAGs (or a top-level `dags:`)
 *     metadata: sqlite:/var/lib/spate/scheduler.db | postgresql://...
 *     data_dir: ./spate-data/scheduler
 *     workers: 8
 *     api: 127.0.0.1:8793
 *     pools: {kafka: 2}
 *     connections: {postgres: ..., sqlite: ..., kafka: ..., cql: ..., randomuser: ...}
 *     zookeeper: 127.0.0.1:2181
 *     zk_path: /spate/scheduler
 *
 * Every problem is reported (not only the first) with file:line, so a
 * user fixes a file in one pass. Memory: strings stay borrowed from the
 * conf tree; one allocation (`pool_names`) holds the pool name pointers
 * followed by the joined dags_folder path when that had to be built, so
 * spate_sched_conf_release frees exactly one block and the slots array.
 */
#include "sched.h"

#include <stdlib.h>
#include <string.h>

static const char *const section_keys[] = {
    "dags_folder", "dags",        "metadata",  "data_dir", "workers", "api",
    "pools",       "connections", "zookeeper", "zk_path",  NULL,
};

static const char *const conn_keys[] = {"postgres", "sqlite", "kafka", "cql", "randomuser", NULL};

/* Reads a scalar string key; a non-scalar is reported. */
static void get_str(const spate_conf_t *c, const spate_conf_node_t *map, const char *key,
                    const char **out, spate_stream_diag_t *d, int *errors) {
    const spate_conf_node_t *n = spate_conf_get(map, key);
    if (!n) return;
    if (n->kind != SPATE_CONF_SCALAR || !n->value || !*n->value) {
        spate_stream_diag_at(d, c, n, "expected a non-empty string");
        (*errors)++;
        return;
    }
    *out = n->value;
}

static void check_keys(const spate_conf_t *c, const spate_conf_node_t *map,
                       const char *const *known, spate_stream_diag_t *d, int *errors) {
    for (const spate_conf_node_t *n = map->child; n; n = n->next) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++) ok = strcmp(*k, n->key) == 0;
        if (!ok) {
            char list[256] = "";
            size_t len = 0;
            for (const char *const *k = known; *k; k++) {
                int w = snprintf(list + len, sizeof list - len, "%s%s", k == known ? "" : ", ", *k);
                if (w < 0 || (size_t)w >= sizeof list - len) break;
                len += (size_t)w;
            }
            spate_stream_diag_at(d, c, n, "unknown setting (expected %s)", list);
            (*errors)++;
        }
    }
}

spate_status_t spate_sched_conf_load(spate_sched_conf_t *out, const spate_conf_t *c,
                                     spate_stream_diag_t *d) {
    int errors = 0;
    const spate_conf_node_t *root = c->root;
    const spate_conf_node_t *sec =
        root && root->kind == SPATE_CONF_MAP ? spate_conf_get(root, "scheduler") : NULL;
    const spate_conf_node_t *top_dags =
        root && root->kind == SPATE_CONF_MAP ? spate_conf_get(root, "dags") : NULL;
    const char *folder = NULL;
    size_t npools = 0;

    if (sec && sec->kind != SPATE_CONF_MAP) {
        spate_stream_diag_at(d, c, sec, "expected a mapping");
        return SPATE_EINVAL;
    }
    if (sec) {
        check_keys(c, sec, section_keys, d, &errors);
        get_str(c, sec, "dags_folder", &folder, d, &errors);
        get_str(c, sec, "metadata", &out->metadata, d, &errors);
        get_str(c, sec, "data_dir", &out->data_dir, d, &errors);
        get_str(c, sec, "api", &out->api_listen, d, &errors);
        get_str(c, sec, "zookeeper", &out->zookeeper, d, &errors);
        get_str(c, sec, "zk_path", &out->zk_path, d, &errors);
        spate_conf_err_t ce;
        int64_t w = out->workers;
        spate_status_t s = spate_conf_get_i64(c, sec, "workers", 1, 1024, &w, &ce);
        if (s == SPATE_OK) {
            out->workers = (int)w;
        } else if (s != SPATE_ENOENT) {
            spate_stream_diag_add(d, ce.msg);
            errors++;
        }
        const spate_conf_node_t *dn = spate_conf_get(sec, "dags");
        if (dn) top_dags = dn;
        const spate_conf_node_t *conn = spate_conf_get(sec, "connections");
        if (conn && conn->kind != SPATE_CONF_MAP) {
            spate_stream_diag_at(d, c, conn, "expected a mapping");
            errors++;
        } else if (conn) {
            check_keys(c, conn, conn_keys, d, &errors);
            get_str(c, conn, "postgres", &out->env.postgres, d, &errors);
            get_str(c, conn, "sqlite", &out->env.sqlite, d, &errors);
            get_str(c, conn, "kafka", &out->env.kafka, d, &errors);
            get_str(c, conn, "cql", &out->env.cql, d, &errors);
            get_str(c, conn, "randomuser", &out->env.randomuser, d, &errors);
        }
        const spate_conf_node_t *pools = spate_conf_get(sec, "pools");
        if (pools && pools->kind != SPATE_CONF_MAP) {
            spate_stream_diag_at(d, c, pools, "expected a mapping {name: slots}");
            errors++;
        } else if (pools) {
            npools = pools->nchild;
        }
    }
    if (top_dags && top_dags->kind != SPATE_CONF_SEQ) {
        spate_stream_diag_at(d, c, top_dags, "expected a list of DAGs");
        errors++;
        top_dags = NULL;
    }

    /* One block: npools name pointers, then the joined folder path. */
    size_t join_len = 0, dir_len = 0;
    if (folder && folder[0] != '/' && c->path) {
        const char *slash = strrchr(c->path, '/');
        if (slash) {
            dir_len = (size_t)(slash - c->path);
            join_len = dir_len + 1 + strlen(folder) + 1;
        }
    }
    const char **names = NULL;
    int *slots = NULL;
    if (npools || join_len) {
        names = spate_xcalloc(1, npools * sizeof(*names) + join_len);
        slots = npools ? spate_xcalloc(npools, sizeof(*slots)) : NULL;
    }
    if (npools) {
        const spate_conf_node_t *pools = spate_conf_get(sec, "pools");
        size_t i = 0;
        for (const spate_conf_node_t *p = pools->child; p; p = p->next, i++) {
            int64_t v = 0;
            names[i] = p->key;
            if (p->kind != SPATE_CONF_SCALAR || !p->value ||
                spate_parse_i64(p->value, 1, 1000000, &v) != SPATE_OK) {
                spate_stream_diag_at(d, c, p, "expected a number of slots (1..1000000)");
                errors++;
            }
            slots[i] = (int)v;
        }
    }
    if (join_len) {
        char *path = (char *)(names + npools);
        memcpy(path, c->path, dir_len);
        path[dir_len] = '/';
        strcpy(path + dir_len + 1, folder);
        out->dags_path = path;
    } else if (folder) {
        out->dags_path = folder;
    }
    out->pool_names = names;
    out->pool_slots = slots;
    out->npools = npools;
    if (top_dags) {
        out->inline_conf = c;
        out->inline_dags = top_dags;
    }
    if (!out->data_dir) out->data_dir = "./spate-data/scheduler";
    out->env.data_dir = out->data_dir;
    if (errors) {
        spate_sched_conf_release(out);
        return SPATE_EINVAL;
    }
    return SPATE_OK;
}

void spate_sched_conf_release(spate_sched_conf_t *c) {
    /* dags_path may point into the pool_names block: drop it with it. */
    if (c->pool_names && c->dags_path == (const char *)(c->pool_names + c->npools))
        c->dags_path = NULL;
    free((void *)c->pool_names);
    free((void *)c->pool_slots);
    c->pool_names = NULL;
    c->pool_slots = NULL;
    c->npools = 0;
}
