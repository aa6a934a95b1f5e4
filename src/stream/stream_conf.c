/*
 * stream_conf.c — pipeline.yaml: the `stream:` section loaded, checked and
 * turned into job structs, with each job's transform compiled.
 *
 *   log_level: info               ┐ sections other commands read: accepted
 *   broker: {...}                 ┘ and ignored here (see known_sections)
 *   stream:
 *     jobs:
 *       - name: created_users
 *         source: {kafka: {bootstrap, topics, group, start, properties}}
 *         input: formatted | raw
 *         transform: [steps]      (stream_map.c)
 *         sink: {cql: {...}} | {postgres: {...}} | {file: {path}} | {stdout: {}}
 *         dead_letter: {topic}
 *         delivery: {max_in_flight, retries, backoff_ms, backoff_max_ms,
 *                    commit_interval_ms}
 *         window: {type, time, size, hop, watermark_delay, allowed_lateness,
 *                  retention, group_by, aggregate, sink}
 *
 * Checking goes on after a problem wherever the rest still makes sense, so
 * one run of `spate validate` lists every mistake, each as
 * "file:line: key 'k': message" (the line of the key). Unknown keys are
 * errors at every level (typos never silently do nothing).
 *
 * Ownership: the pipeline keeps the YAML tree (spate_conf_t) and every
 * string in the job structs points into it; arrays, default strings and
 * window paths live in the pipeline's arena; programs are freed with it.
 */
#include "stream_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct spate_stream_pipeline {
    spate_conf_t conf;
    stream_arena_t arena;
    spate_stream_job_t *jobs;
    size_t njobs;
};

typedef struct {
    spate_stream_pipeline_t *p;
    const spate_conf_t *c;
    spate_stream_diag_t *diag;
    size_t errors;
} lc_t;

static void lerr(lc_t *lc, const spate_conf_node_t *n, const char *fmt, ...) SPATE_PRINTF(3, 4);
static void lerr(lc_t *lc, const spate_conf_node_t *n, const char *fmt, ...) {
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    spate_stream_diag_at(lc->diag, lc->c, n, "%s", what);
    lc->errors++;
}

static const char *kind_name(spate_conf_kind_t k) {
    return k == SPATE_CONF_MAP ? "a mapping" : k == SPATE_CONF_SEQ ? "a list" : "a value";
}

/* ---- typed getters that report and go on ---- */

/* Reports every key of map not in known. */
static void check_keys(lc_t *lc, const spate_conf_node_t *map, const char *const *known) {
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
            if (len)
                lerr(lc, n, "unknown setting (expected %s)", list);
            else
                lerr(lc, n, "unknown setting (none are expected here)");
        }
    }
}

/* A mapping under key, or NULL (reported when present but not a map). */
static const spate_conf_node_t *get_map(lc_t *lc, const spate_conf_node_t *map, const char *key,
                                        bool required) {
    const spate_conf_node_t *n = spate_conf_get(map, key);
    if (!n) {
        if (required) lerr(lc, map, "'%s' is required", key);
        return NULL;
    }
    if (n->kind != SPATE_CONF_MAP) {
        lerr(lc, n, "expected a mapping, got %s", kind_name(n->kind));
        return NULL;
    }
    return n;
}

static bool get_str(lc_t *lc, const spate_conf_node_t *map, const char *key, bool required,
                    const char **out) {
    const spate_conf_node_t *n = spate_conf_get(map, key);
    if (!n) {
        if (required) lerr(lc, map, "'%s' is required", key);
        return false;
    }
    if (n->kind != SPATE_CONF_SCALAR) {
        lerr(lc, n, "expected a string, got %s", kind_name(n->kind));
        return false;
    }
    if (!n->value[0]) {
        lerr(lc, n, "expected a string, got nothing");
        return false;
    }
    *out = n->value;
    return true;
}

static void get_i64(lc_t *lc, const spate_conf_node_t *map, const char *key, int64_t min,
                    int64_t max, int64_t *out) {
    spate_conf_err_t err;
    spate_status_t st = spate_conf_get_i64(lc->c, map, key, min, max, out, &err);
    if (st != SPATE_OK && st != SPATE_ENOENT) {
        spate_stream_diag_add(lc->diag, err.msg);
        lc->errors++;
    }
}

static void get_bool(lc_t *lc, const spate_conf_node_t *map, const char *key, bool *out) {
    spate_conf_err_t err;
    spate_status_t st = spate_conf_get_bool(lc->c, map, key, out, &err);
    if (st != SPATE_OK && st != SPATE_ENOENT) {
        spate_stream_diag_add(lc->diag, err.msg);
        lc->errors++;
    }
}

/* A list of non-empty strings under key. Returns false when absent or
 * wrong (reported). */
static bool get_str_list(lc_t *lc, const spate_conf_node_t *map, const char *key, bool required,
                         const char ***out, size_t *count) {
    const spate_conf_node_t *n = spate_conf_get(map, key);
    if (!n) {
        if (required) lerr(lc, map, "'%s' is required", key);
        return false;
    }
    if (n->kind != SPATE_CONF_SEQ) {
        lerr(lc, n, "expected a list of strings");
        return false;
    }
    const char **v = stream_arena_alloc(&lc->p->arena, (n->nchild + 1) * sizeof *v);
    size_t k = 0;
    bool ok = true;
    for (const spate_conf_node_t *it = n->child; it; it = it->next) {
        if (it->kind != SPATE_CONF_SCALAR || !it->value[0]) {
            lerr(lc, n, "expected a list of strings (item on line %d is %s)", it->line,
                 it->kind == SPATE_CONF_SCALAR ? "empty" : kind_name(it->kind));
            ok = false;
            continue;
        }
        v[k++] = it->value;
    }
    if (ok && k == 0) {
        lerr(lc, n, "expected a list of strings, got an empty list");
        ok = false;
    }
    *out = v;
    *count = k;
    return ok;
}

/* A duration (500ms, 30s, 1m, 2h, 1d, or plain milliseconds). */
static bool get_duration(lc_t *lc, const spate_conf_node_t *map, const char *key, int64_t min,
                         int64_t *out) {
    const spate_conf_node_t *n = spate_conf_get(map, key);
    if (!n) return false;
    int64_t ms;
    spate_status_t st =
        n->kind == SPATE_CONF_SCALAR ? spate_stream_parse_duration(n->value, &ms) : SPATE_EINVAL;
    if (st == SPATE_OK && ms < min) st = SPATE_ERANGE;
    if (st == SPATE_EINVAL) {
        lerr(lc, n, "expected a duration such as 500ms, 30s, 1m or 2h, got %s",
             n->kind == SPATE_CONF_SCALAR ? n->value : kind_name(n->kind));
        return false;
    }
    if (st == SPATE_ERANGE) {
        lerr(lc, n, "%s is out of range (at least %lldms)", n->value, (long long)min);
        return false;
    }
    *out = ms;
    return true;
}

/* ---- names ---- */

static bool topic_ok(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 249 || !strcmp(s, ".") || !strcmp(s, "..")) return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return false;
    return true;
}

/* CQL and SQL identifiers as written unquoted: a letter, then letters,
 * digits and underscores (at most max characters). */
static bool ident_ok(const char *s, size_t max) {
    size_t n = strlen(s);
    if (n == 0 || n > max) return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    return true;
}

static bool job_name_ok(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 100) return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return false;
    return true;
}

/* ---- source ---- */

static const char *const managed_props[][2] = {
    {"bootstrap.servers", "bootstrap"},
    {"metadata.broker.list", "bootstrap"},
    {"group.id", "group"},
    {"auto.offset.reset", "start"},
    {"enable.auto.commit", NULL},
    {"enable.auto.offset.store", NULL},
    {"enable.partition.eof", NULL},
};

static void parse_source(lc_t *lc, const spate_conf_node_t *job, const char *name,
                         spate_stream_source_conf_t *src) {
    src->bootstrap = "127.0.0.1:9092";
    src->start = SPATE_STREAM_START_EARLIEST;
    const spate_conf_node_t *sn = get_map(lc, job, "source", true);
    if (!sn) return;
    static const char *const kinds[] = {"kafka", NULL};
    check_keys(lc, sn, kinds);
    const spate_conf_node_t *k = get_map(lc, sn, "kafka", true);
    if (!k) return;
    static const char *const known[] = {"bootstrap", "topics",     "group",
                                        "start",     "properties", NULL};
    check_keys(lc, k, known);
    get_str(lc, k, "bootstrap", false, &src->bootstrap);
    if (get_str_list(lc, k, "topics", true, &src->topics, &src->ntopics)) {
        const spate_conf_node_t *tn = spate_conf_get(k, "topics");
        for (size_t i = 0; i < src->ntopics; i++) {
            if (!topic_ok(src->topics[i]))
                lerr(lc, tn, "'%s' is not a valid topic name (letters, digits, '.', '_', '-')",
                     src->topics[i]);
            for (size_t j = 0; j < i; j++)
                if (!strcmp(src->topics[i], src->topics[j]))
                    lerr(lc, tn, "topic '%s' is listed twice", src->topics[i]);
        }
    }
    if (!get_str(lc, k, "group", false, &src->group)) {
        size_t n = strlen(name ? name : "") + sizeof "spate-stream-";
        char *g = stream_arena_alloc(&lc->p->arena, n);
        snprintf(g, n, name ? "spate-stream-%s" : "spate-stream", name ? name : "");
        src->group = g;
    }
    const char *start;
    if (get_str(lc, k, "start", false, &start)) {
        if (!strcmp(start, "earliest")) {
            src->start = SPATE_STREAM_START_EARLIEST;
        } else if (!strcmp(start, "latest")) {
            src->start = SPATE_STREAM_START_LATEST;
        } else if (spate_stream_parse_time(start, strlen(start), &src->start_ms) == SPATE_OK) {
            src->start = SPATE_STREAM_START_TIME;
        } else {
            lerr(lc, spate_conf_get(k, "start"),
                 "expected earliest, latest or an RFC 3339 timestamp, got '%s'", start);
        }
    }
    const spate_conf_node_t *props = get_map(lc, k, "properties", false);
    if (props) {
        src->props = stream_arena_alloc(&lc->p->arena, (props->nchild + 1) * sizeof *src->props);
        for (const spate_conf_node_t *e = props->child; e; e = e->next) {
            bool managed = false;
            for (size_t i = 0; i < SPATE_ARRAY_LEN(managed_props) && !managed; i++) {
                if (strcmp(managed_props[i][0], e->key) != 0) continue;
                managed = true;
                if (managed_props[i][1])
                    lerr(lc, e, "set by spate: use '%s' instead", managed_props[i][1]);
                else
                    lerr(lc, e,
                         "set by spate: offsets are stored and committed only after the "
                         "sink has acknowledged the records");
            }
            if (managed) continue;
            if (e->kind != SPATE_CONF_SCALAR) {
                lerr(lc, e, "expected a value, got %s", kind_name(e->kind));
                continue;
            }
            src->props[src->nprops].key = e->key;
            src->props[src->nprops].value = e->value;
            src->nprops++;
        }
    }
}

/* ---- sinks ---- */

static const struct {
    const char *name;
    int code;
} consistencies[] = {{"any", 0x0000},          {"one", 0x0001},         {"two", 0x0002},
                     {"three", 0x0003},        {"quorum", 0x0004},      {"all", 0x0005},
                     {"local_quorum", 0x0006}, {"each_quorum", 0x0007}, {"local_one", 0x000A}};

static void parse_cql_sink(lc_t *lc, const spate_conf_node_t *n, spate_stream_sink_conf_t *s) {
    static const char *const known[] = {
        "contact_points", "keyspace",   "table",       "create",     "consistency",
        "concurrency",    "batch_rows", "batch_bytes", "timestamps", NULL};
    static const char *default_cp[] = {"127.0.0.1:9042"};
    s->cql.contact_points = default_cp;
    s->cql.ncontact = 1;
    s->cql.consistency = 0x000A;
    s->cql.concurrency = SPATE_STREAM_CQL_CONCURRENCY;
    s->cql.batch_rows = 100;
    s->cql.batch_bytes = SPATE_STREAM_CQL_BATCH_BYTES;
    check_keys(lc, n, known);
    get_str_list(lc, n, "contact_points", false, &s->cql.contact_points, &s->cql.ncontact);
    if (s->cql.ncontact == 0) {
        s->cql.contact_points = default_cp;
        s->cql.ncontact = 1;
    }
    if (get_str(lc, n, "keyspace", true, &s->cql.keyspace) && !ident_ok(s->cql.keyspace, 48))
        lerr(lc, spate_conf_get(n, "keyspace"),
             "'%s' is not a keyspace name (a letter, then letters, digits, '_'; at most 48)",
             s->cql.keyspace);
    if (get_str(lc, n, "table", true, &s->cql.table) && !ident_ok(s->cql.table, 48))
        lerr(lc, spate_conf_get(n, "table"),
             "'%s' is not a table name (a letter, then letters, digits, '_'; at most 48)",
             s->cql.table);
    get_bool(lc, n, "create", &s->cql.create);
    const char *cl;
    if (get_str(lc, n, "consistency", false, &cl)) {
        bool found = false;
        for (size_t i = 0; i < SPATE_ARRAY_LEN(consistencies) && !found; i++) {
            if (!strcasecmp(consistencies[i].name, cl)) {
                s->cql.consistency = consistencies[i].code;
                found = true;
            }
        }
        if (!found)
            lerr(lc, spate_conf_get(n, "consistency"),
                 "expected any, one, two, three, quorum, all, local_quorum, each_quorum or "
                 "local_one, got '%s'",
                 cl);
    }
    int64_t v = s->cql.concurrency;
    get_i64(lc, n, "concurrency", 1, 32767, &v);
    s->cql.concurrency = (int)v;
    v = s->cql.batch_rows;
    get_i64(lc, n, "batch_rows", 1, 65535, &v);
    s->cql.batch_rows = (int)v;
    const char *ts;
    if (get_str(lc, n, "timestamps", false, &ts)) {
        if (!strcmp(ts, "server"))
            s->cql.server_timestamps = true;
        else if (strcmp(ts, "client") != 0)
            lerr(lc, spate_conf_get(n, "timestamps"), "expected client or server, got '%s'", ts);
    }
    v = s->cql.batch_bytes;
    get_i64(lc, n, "batch_bytes", 1, 1 << 20, &v);
    s->cql.batch_bytes = (int)v;
}

/* A PostgreSQL table: name or schema.name. */
static bool pg_table_ok(const char *s) {
    const char *dot = strchr(s, '.');
    if (!dot) return ident_ok(s, 63);
    char schema[64];
    size_t n = (size_t)(dot - s);
    if (n == 0 || n >= sizeof schema) return false;
    memcpy(schema, s, n);
    schema[n] = '\0';
    return ident_ok(schema, 63) && ident_ok(dot + 1, 63);
}

static void parse_pg_sink(lc_t *lc, const spate_conf_node_t *n, spate_stream_sink_conf_t *s) {
    static const char *const known[] = {"url", "table", "key", "mode", "create", NULL};
    check_keys(lc, n, known);
    get_str(lc, n, "url", true, &s->pg.url);
    if (get_str(lc, n, "table", true, &s->pg.table) && !pg_table_ok(s->pg.table))
        lerr(lc, spate_conf_get(n, "table"), "'%s' is not a table name (name or schema.name)",
             s->pg.table);
    s->pg.mode = SPATE_STREAM_PG_UPSERT;
    const char *mode;
    if (get_str(lc, n, "mode", false, &mode)) {
        if (!strcmp(mode, "upsert"))
            s->pg.mode = SPATE_STREAM_PG_UPSERT;
        else if (!strcmp(mode, "copy"))
            s->pg.mode = SPATE_STREAM_PG_COPY;
        else
            lerr(lc, spate_conf_get(n, "mode"), "expected upsert or copy, got '%s'", mode);
    }
    bool have =
        get_str_list(lc, n, "key", s->pg.mode == SPATE_STREAM_PG_UPSERT, &s->pg.key, &s->pg.nkey);
    if (have)
        for (size_t i = 0; i < s->pg.nkey; i++)
            if (!ident_ok(s->pg.key[i], 63))
                lerr(lc, spate_conf_get(n, "key"), "'%s' is not a column name", s->pg.key[i]);
    /* The created table's PRIMARY KEY is `key`; copy mode alone may lack
     * one, and then there would be nothing to make it of. */
    get_bool(lc, n, "create", &s->pg.create);
    if (s->pg.create && !spate_conf_get(n, "key"))
        lerr(lc, spate_conf_get(n, "create"),
             "create: true needs 'key' (the created table's primary key)");
}

/* node is the value under `sink:` (a window's too). */
static void parse_sink(lc_t *lc, const spate_conf_node_t *n, spate_stream_sink_conf_t *s) {
    memset(s, 0, sizeof *s);
    s->line = n->line;
    if (n->kind != SPATE_CONF_MAP || n->nchild != 1) {
        lerr(lc, n, "expected one of cql, postgres, file or stdout%s",
             n->kind == SPATE_CONF_MAP && n->nchild > 1 ? " (a sink is exactly one of them)" : "");
        return;
    }
    const spate_conf_node_t *k = n->child;
    if (!strcmp(k->key, "stdout")) {
        s->kind = SPATE_STREAM_SINK_STDOUT;
        if (k->kind == SPATE_CONF_MAP) {
            static const char *const none[] = {NULL};
            check_keys(lc, k, none);
        } else if (!(k->kind == SPATE_CONF_SCALAR && !k->quoted && !k->value[0])) {
            lerr(lc, k, "expected {} (stdout has no settings)");
        }
        return;
    }
    if (k->kind != SPATE_CONF_MAP) {
        if (!strcmp(k->key, "cql") || !strcmp(k->key, "postgres") || !strcmp(k->key, "file"))
            lerr(lc, k, "expected a mapping of settings, got %s", kind_name(k->kind));
        else
            lerr(lc, k, "unknown sink (expected cql, postgres, file or stdout)");
        return;
    }
    if (!strcmp(k->key, "cql")) {
        s->kind = SPATE_STREAM_SINK_CQL;
        parse_cql_sink(lc, k, s);
    } else if (!strcmp(k->key, "postgres")) {
        s->kind = SPATE_STREAM_SINK_POSTGRES;
        parse_pg_sink(lc, k, s);
    } else if (!strcmp(k->key, "file")) {
        static const char *const known[] = {"path", NULL};
        s->kind = SPATE_STREAM_SINK_FILE;
        check_keys(lc, k, known);
        get_str(lc, k, "path", true, &s->file.path);
    } else {
        lerr(lc, k, "unknown sink (expected cql, postgres, file or stdout)");
    }
}

/* ---- delivery ---- */

static void parse_delivery(lc_t *lc, const spate_conf_node_t *job, spate_stream_delivery_t *d) {
    d->max_in_flight = 10000;
    d->retries = -1;
    d->backoff_ms = 100;
    d->backoff_max_ms = 10000;
    d->commit_interval_ms = 1000;
    const spate_conf_node_t *n = get_map(lc, job, "delivery", false);
    if (!n) return;
    static const char *const known[] = {
        "max_in_flight", "retries", "backoff_ms", "backoff_max_ms", "commit_interval_ms", NULL};
    check_keys(lc, n, known);
    get_i64(lc, n, "max_in_flight", 1, 10000000, &d->max_in_flight);
    get_i64(lc, n, "retries", -1, 1000000, &d->retries);
    get_i64(lc, n, "backoff_ms", 0, 3600000, &d->backoff_ms);
    get_i64(lc, n, "backoff_max_ms", 0, 3600000, &d->backoff_max_ms);
    get_i64(lc, n, "commit_interval_ms", 0, 3600000, &d->commit_interval_ms);
    if (d->backoff_max_ms < d->backoff_ms)
        lerr(lc, spate_conf_get(n, "backoff_max_ms") ? spate_conf_get(n, "backoff_max_ms") : n,
             "backoff_max_ms (%lld) is below backoff_ms (%lld)", (long long)d->backoff_max_ms,
             (long long)d->backoff_ms);
}

/* ---- window ---- */

#define WINDOW_MAX_PER_RECORD 1000 /* size / hop: windows one record falls in */
#define WINDOW_MAX_GROUP_BY 16

static const spate_stream_path_t *window_path(lc_t *lc, const spate_conf_node_t *n,
                                              const char *text) {
    char err[160];
    const spate_stream_path_t *p =
        stream_path_compile(&lc->p->arena, text, strlen(text), 0, false, NULL, err, sizeof err);
    if (!p) lerr(lc, n, "invalid path '%s': %s", text, err);
    return p;
}

static void parse_window(lc_t *lc, const spate_conf_node_t *job, spate_stream_window_conf_t *w) {
    const spate_conf_node_t *n = get_map(lc, job, "window", false);
    if (!n) return;
    w->enabled = true;
    w->line = n->line;
    w->aggregate = SPATE_STREAM_AGG_COUNT;
    static const char *const known[] = {
        "type",      "time", "size",      "hop", "watermark_delay", "allowed_lateness", "group_by",
        "aggregate", "sink", "retention", NULL};
    check_keys(lc, n, known);
    const char *time;
    if (get_str(lc, n, "time", true, &time))
        w->time = window_path(lc, spate_conf_get(n, "time"), time);
    bool have_size = get_duration(lc, n, "size", 1, &w->size_ms);
    if (!have_size && !spate_conf_get(n, "size")) lerr(lc, n, "'size' is required");
    bool have_hop = get_duration(lc, n, "hop", 1, &w->hop_ms);
    const char *type;
    w->kind = spate_conf_get(n, "hop") ? SPATE_STREAM_WINDOW_HOPPING : SPATE_STREAM_WINDOW_TUMBLING;
    if (get_str(lc, n, "type", false, &type)) {
        const spate_conf_node_t *tn = spate_conf_get(n, "type");
        if (!strcmp(type, "tumbling")) {
            w->kind = SPATE_STREAM_WINDOW_TUMBLING;
            if (spate_conf_get(n, "hop"))
                lerr(lc, spate_conf_get(n, "hop"),
                     "a tumbling window has no hop (its hop is its size)");
        } else if (!strcmp(type, "hopping")) {
            w->kind = SPATE_STREAM_WINDOW_HOPPING;
            if (!spate_conf_get(n, "hop")) lerr(lc, tn, "a hopping window needs 'hop'");
        } else {
            lerr(lc, tn, "expected tumbling or hopping, got '%s'", type);
        }
    }
    if (w->kind == SPATE_STREAM_WINDOW_TUMBLING || !have_hop) w->hop_ms = w->size_ms;
    if (have_size && have_hop && w->kind == SPATE_STREAM_WINDOW_HOPPING) {
        const spate_conf_node_t *hn = spate_conf_get(n, "hop");
        if (w->hop_ms > w->size_ms)
            lerr(lc, hn, "hop (%lldms) is longer than size (%lldms)", (long long)w->hop_ms,
                 (long long)w->size_ms);
        else if (w->size_ms % w->hop_ms != 0)
            lerr(lc, hn, "size (%lldms) must be a whole multiple of hop (%lldms)",
                 (long long)w->size_ms, (long long)w->hop_ms);
        else if (w->size_ms / w->hop_ms > WINDOW_MAX_PER_RECORD)
            lerr(lc, hn, "size / hop is %lld; at most %d windows per record",
                 (long long)(w->size_ms / w->hop_ms), WINDOW_MAX_PER_RECORD);
    }
    get_duration(lc, n, "watermark_delay", 0, &w->watermark_ms);
    get_duration(lc, n, "allowed_lateness", 0, &w->lateness_ms);
    w->retention_ms = SPATE_STREAM_WINDOW_RETENTION_MS;
    if (get_duration(lc, n, "retention", 0, &w->retention_ms) &&
        (w->retention_ms / 1000 > SPATE_STREAM_MAX_TTL_S ||
         (w->retention_ms > 0 && w->retention_ms < 1000)))
        lerr(lc, spate_conf_get(n, "retention"),
             "retention is a TTL: 0 (for ever) or 1s to 20 years (7300d)");
    const char **fields;
    size_t nfields;
    const spate_conf_node_t *gn = spate_conf_get(n, "group_by");
    if (gn && get_str_list(lc, n, "group_by", false, &fields, &nfields)) {
        if (nfields > WINDOW_MAX_GROUP_BY) {
            lerr(lc, gn, "at most %d group-by fields", WINDOW_MAX_GROUP_BY);
        } else {
            const spate_stream_path_t **g =
                stream_arena_alloc(&lc->p->arena, (nfields + 1) * sizeof *g);
            size_t k = 0;
            for (size_t i = 0; i < nfields; i++) {
                const spate_stream_path_t *p = window_path(lc, gn, fields[i]);
                if (p) g[k++] = p;
            }
            w->group_by = g;
            w->ngroup_by = k;
        }
    }
    const char *agg;
    if (get_str(lc, n, "aggregate", false, &agg) && strcmp(agg, "count") != 0)
        lerr(lc, spate_conf_get(n, "aggregate"), "expected count, got '%s'", agg);
    const spate_conf_node_t *sink = spate_conf_get(n, "sink");
    if (!sink)
        lerr(lc, n, "'sink' is required (where the window results go)");
    else
        parse_sink(lc, sink, &w->sink);
}

/* ---- jobs ---- */

static void parse_job(lc_t *lc, const spate_conf_node_t *jn, spate_stream_job_t *job) {
    job->line = jn->line;
    static const char *const known[] = {"name",        "source",   "input",  "transform", "sink",
                                        "dead_letter", "delivery", "window", NULL};
    check_keys(lc, jn, known);
    if (get_str(lc, jn, "name", true, &job->name) && !job_name_ok(job->name))
        lerr(lc, spate_conf_get(jn, "name"),
             "'%s' is not a job name (letters, digits, '.', '_', '-'; at most 100)", job->name);
    parse_source(lc, jn, job->name, &job->source);

    job->input = SPATE_STREAM_INPUT_FORMATTED;
    const char *input;
    if (get_str(lc, jn, "input", false, &input)) {
        if (!strcmp(input, "formatted"))
            job->input = SPATE_STREAM_INPUT_FORMATTED;
        else if (!strcmp(input, "raw"))
            job->input = SPATE_STREAM_INPUT_RAW;
        else
            lerr(lc, spate_conf_get(jn, "input"), "expected formatted or raw, got '%s'", input);
    }

    if (spate_stream_prog_compile(lc->c, spate_conf_get(jn, "transform"), job->input, &job->prog,
                                  lc->diag) != SPATE_OK)
        lc->errors++; /* each problem is in diag already */

    const spate_conf_node_t *sink = spate_conf_get(jn, "sink");
    if (sink) parse_sink(lc, sink, &job->sink);

    const spate_conf_node_t *dl = get_map(lc, jn, "dead_letter", false);
    if (dl) {
        static const char *const dk[] = {"topic", NULL};
        check_keys(lc, dl, dk);
        if (get_str(lc, dl, "topic", true, &job->dead_letter_topic)) {
            const spate_conf_node_t *tn = spate_conf_get(dl, "topic");
            if (!topic_ok(job->dead_letter_topic))
                lerr(lc, tn, "'%s' is not a valid topic name (letters, digits, '.', '_', '-')",
                     job->dead_letter_topic);
            for (size_t i = 0; i < job->source.ntopics; i++)
                if (!strcmp(job->source.topics[i], job->dead_letter_topic))
                    lerr(lc, tn, "the dead-letter topic cannot be a source topic ('%s')",
                         job->dead_letter_topic);
        }
    }
    parse_delivery(lc, jn, &job->delivery);
    parse_window(lc, jn, &job->window);
    if (!sink && !job->window.enabled)
        lerr(lc, jn, "a job needs a sink (or a window with its own sink)");
}

/* Sections of a combined spate file that belong to other commands. */
static const char *const known_sections[] = {
    "log_level", "randomuser", "broker", "cql", "scheduler", "dags", "up", "web", NULL};

static void parse_root(lc_t *lc) {
    const spate_conf_node_t *root = lc->c->root;
    if (!root) {
        char msg[512];
        snprintf(msg, sizeof msg,
                 "%s:1: no stream jobs (expected a 'stream:' section with 'jobs:')", lc->c->path);
        spate_stream_diag_add(lc->diag, msg);
        lc->errors++;
        return;
    }
    if (root->kind != SPATE_CONF_MAP) {
        lerr(lc, root, "expected a mapping of sections (stream:, broker:, ...), got %s",
             kind_name(root->kind));
        return;
    }
    const spate_conf_node_t *stream = NULL;
    for (const spate_conf_node_t *s = root->child; s; s = s->next) {
        if (!strcmp(s->key, "stream")) {
            stream = s;
            continue;
        }
        bool known = false;
        for (const char *const *k = known_sections; *k && !known; k++) known = !strcmp(*k, s->key);
        if (!known)
            lerr(lc, s,
                 "unknown section (expected stream, log_level, randomuser, broker, cql, scheduler, "
                 "dags, up or web)");
        else if (!strcmp(s->key, "log_level")) {
            spate_log_level_t lvl;
            if (s->kind != SPATE_CONF_SCALAR || spate_log_level_parse(s->value, &lvl) != SPATE_OK)
                lerr(lc, s, "expected debug, info, warn, error or off");
        }
    }
    if (!stream) {
        lerr(lc, root, "no 'stream:' section (expected 'stream: jobs: [...]')");
        return;
    }
    if (stream->kind != SPATE_CONF_MAP) {
        lerr(lc, stream, "expected a mapping with 'jobs', got %s", kind_name(stream->kind));
        return;
    }
    static const char *const sk[] = {"jobs", NULL};
    check_keys(lc, stream, sk);
    const spate_conf_node_t *jobs = spate_conf_get(stream, "jobs");
    if (!jobs) {
        lerr(lc, stream, "'jobs' is required");
        return;
    }
    if (jobs->kind != SPATE_CONF_SEQ || jobs->nchild == 0) {
        lerr(lc, jobs, "expected a list of jobs%s",
             jobs->kind == SPATE_CONF_SEQ ? ", got an empty list" : "");
        return;
    }
    spate_stream_pipeline_t *p = lc->p;
    p->jobs = spate_xcalloc(jobs->nchild, sizeof *p->jobs);
    for (const spate_conf_node_t *jn = jobs->child; jn; jn = jn->next) {
        if (jn->kind != SPATE_CONF_MAP) {
            lerr(lc, jn, "expected a job (a mapping with name, source, sink, ...), got %s",
                 kind_name(jn->kind));
            continue;
        }
        spate_stream_job_t *job = &p->jobs[p->njobs++];
        parse_job(lc, jn, job);
        if (!job->name) continue;
        for (size_t i = 0; i + 1 < p->njobs; i++) {
            if (p->jobs[i].name && !strcmp(p->jobs[i].name, job->name)) {
                lerr(lc, spate_conf_get(jn, "name"), "job '%s' is defined twice (first on line %d)",
                     job->name, p->jobs[i].line);
                break;
            }
        }
    }
}

static spate_status_t finish(spate_stream_pipeline_t *p, spate_stream_diag_t *diag,
                             spate_stream_pipeline_t **out) {
    lc_t lc = {.p = p, .c = &p->conf, .diag = diag};
    parse_root(&lc);
    if (lc.errors) {
        spate_stream_pipeline_free(p);
        return SPATE_EINVAL;
    }
    *out = p;
    return SPATE_OK;
}

spate_status_t spate_stream_pipeline_load_string(spate_stream_pipeline_t **out, const char *name,
                                                 const char *text, size_t len,
                                                 spate_stream_diag_t *diag) {
    *out = NULL;
    spate_stream_pipeline_t *p = spate_xcalloc(1, sizeof *p);
    spate_conf_err_t err;
    spate_status_t st = spate_conf_load_string(&p->conf, name, text, len, &err);
    if (st != SPATE_OK) {
        spate_stream_diag_add(diag, err.msg);
        spate_stream_pipeline_free(p);
        return st;
    }
    return finish(p, diag, out);
}

spate_status_t spate_stream_pipeline_load_file(spate_stream_pipeline_t **out, const char *path,
                                               spate_stream_diag_t *diag) {
    *out = NULL;
    spate_stream_pipeline_t *p = spate_xcalloc(1, sizeof *p);
    spate_conf_err_t err;
    spate_status_t st = spate_conf_load_file(&p->conf, path, &err);
    if (st != SPATE_OK) {
        spate_stream_diag_add(diag, err.msg);
        spate_stream_pipeline_free(p);
        return st;
    }
    return finish(p, diag, out);
}

void spate_stream_pipeline_free(spate_stream_pipeline_t *p) {
    if (!p) return;
    for (size_t i = 0; i < p->njobs; i++) spate_stream_prog_free(p->jobs[i].prog);
    free(p->jobs);
    stream_arena_free(&p->arena);
    spate_conf_free(&p->conf);
    free(p);
}

size_t spate_stream_pipeline_njobs(const spate_stream_pipeline_t *p) { return p->njobs; }

const spate_stream_job_t *spate_stream_pipeline_job(const spate_stream_pipeline_t *p, size_t i) {
    return i < p->njobs ? &p->jobs[i] : NULL;
}

const spate_stream_job_t *spate_stream_pipeline_find(const spate_stream_pipeline_t *p,
                                                     const char *name) {
    for (size_t i = 0; i < p->njobs; i++)
        if (p->jobs[i].name && !strcmp(p->jobs[i].name, name)) return &p->jobs[i];
    return NULL;
}
