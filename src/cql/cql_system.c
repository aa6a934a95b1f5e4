/*
 * cql_system.c — the system keyspaces, answered from the catalog.
 *
 * Drivers read these at connect and after every schema change
 * (python3-cassandra runs all nine system_schema queries and fails the
 * connection if one errors; column types are checked). The tables are
 * defined below as Cassandra 3.11 DDL, parsed into the catalog at start
 * like any table, so SELECT *, column lists, WHERE and result metadata
 * work the same on all of them; a generator per table produces its rows.
 *
 *   table                          rows
 *   system.local                   one: key 'local' (see local_rows)
 *   system.peers                   none (a single node)
 *   system_schema.keyspaces        every keyspace, system ones included
 *   system_schema.tables           every table; flags {'compound'} so drivers
 *                                  do not take them for COMPACT STORAGE
 *   system_schema.columns          every column: kind, position (-1 for
 *                                  regular/static), clustering_order
 *                                  ('asc'|'desc'|'none'), type text
 *   system_schema.{dropped_columns, triggers, views, types, functions,
 *                  aggregates, indexes}   none
 *   system.peers_v2, system_virtual_schema.*   not defined: Invalid, so
 *                                  drivers fall back (as against Cassandra 3.11)
 *
 * A SELECT on them supports: * or column lists (with aliases), COUNT(*),
 * WHERE col = term / col IN (...) / col IN ? on any column (no ALLOW
 * FILTERING needed), LIMIT, and paging (the state is the number of
 * matching rows already returned):
 *
 *   paging state   'S' 'Y' 'S' 1 | u32 rows already returned   (8 bytes)
 *
 * Rows are generated one at a time into a scratch buffer, filtered, and
 * streamed into the response with the Rows writer.
 */
#include <stdlib.h>
#include <string.h>

#include "cql_int.h"

/* ------------------------------------------------------------------ */
/* Row generation                                                      */
/* ------------------------------------------------------------------ */

typedef struct {
    uint32_t col;
    spate_slice_t *cands;
    uint32_t n;
} restriction_t;

typedef struct gen gen_t;
struct cql_systable {
    void (*rows)(gen_t *g);
};

struct gen {
    cql_reply_t *rp;
    const cql_table_t *t;
    spate_buf_t row; /* this row's cell values */
    int64_t *off;    /* per column: offset in row, -1 = null */
    uint32_t *len;
    bool nomem;
    /* the query */
    const cql_selection_t *sel;
    restriction_t *res;
    uint32_t nres;
    int64_t limit, skip, page;
    /* results */
    spate_cql_rows_t w;
    int64_t matched, emitted;
    bool more;
    spate_buf_t first; /* aggregate: the first matching row's selected cells */
    int64_t *first_off;
    uint32_t *first_len;
    bool have_first;
};

static int col_index(const cql_table_t *t, const char *name) {
    for (uint32_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0) return (int)i;
    return -1;
}

static void row_begin(gen_t *g) {
    spate_buf_reset(&g->row);
    for (uint32_t i = 0; i < g->t->ncols; i++) g->off[i] = -1;
}

/* Starts a cell of column `name` at the end of the row buffer. */
static int cell_at(gen_t *g, const char *name) {
    int i = col_index(g->t, name);
    if (i >= 0) g->off[i] = (int64_t)g->row.len;
    return i;
}

static void cell_done(gen_t *g, int i, spate_status_t st) {
    if (st != SPATE_OK) g->nomem = true;
    if (i >= 0) g->len[i] = (uint32_t)(g->row.len - (size_t)g->off[i]);
}

static void cell_text(gen_t *g, const char *name, const char *s) {
    int i = cell_at(g, name);
    cell_done(g, i, spate_buf_append(&g->row, s, strlen(s)));
}

static void cell_bytes(gen_t *g, const char *name, const void *p, size_t n) {
    int i = cell_at(g, name);
    cell_done(g, i, n ? spate_buf_append(&g->row, p, n) : SPATE_OK);
}

static void cell_i32(gen_t *g, const char *name, int32_t v) {
    int i = cell_at(g, name);
    cell_done(g, i, spate_cql_value_put_i32(&g->row, v));
}

static void cell_bool(gen_t *g, const char *name, bool v) {
    int i = cell_at(g, name);
    cell_done(g, i, spate_cql_value_put_bool(&g->row, v));
}

static void cell_double(gen_t *g, const char *name, double v) {
    int i = cell_at(g, name);
    cell_done(g, i, spate_cql_value_put_double(&g->row, v));
}

/* list/set (pairs false) or map (pairs true: k, v, k, v, ...) of text. */
static void cell_strings(gen_t *g, const char *name, spate_cql_type_t kind,
                         const char *const *items, size_t n) {
    spate_slice_t stack[32] = {{0}}, *el = n <= 32 ? stack : spate_xcalloc(n, sizeof *el);
    for (size_t k = 0; k < n; k++) el[k] = (spate_slice_t){items[k], (int32_t)strlen(items[k])};
    int i = cell_at(g, name);
    cell_done(g, i, spate_cql_value_put_collection(&g->row, kind, el, n));
    if (el != stack) free(el);
}

/* ------------------------------------------------------------------ */
/* The query over generated rows                                       */
/* ------------------------------------------------------------------ */

static bool row_matches(const gen_t *g) {
    for (uint32_t r = 0; r < g->nres; r++) {
        const restriction_t *x = &g->res[r];
        if (g->off[x->col] < 0) return false;
        const char *v = g->row.data + g->off[x->col];
        uint32_t vl = g->len[x->col];
        bool any = false;
        for (uint32_t k = 0; k < x->n && !any; k++)
            any = (uint32_t)x->cands[k].len == vl && (vl == 0 || memcmp(x->cands[k].p, v, vl) == 0);
        if (!any) return false;
    }
    return true;
}

static void put_selected(gen_t *g, spate_cql_rows_t *w, const char *base, const int64_t *off,
                         const uint32_t *len, int64_t count) {
    for (uint32_t k = 0; k < g->sel->n; k++) {
        const cql_selcol_t *c = &g->sel->cols[k];
        spate_status_t st;
        if (c->kind == CQL_SEL_COUNT) {
            uint8_t be[8];
            for (int b = 0; b < 8; b++) be[b] = (uint8_t)((uint64_t)count >> (56 - 8 * b));
            st = spate_cql_rows_cell(w, be, 8);
        } else if (!base || off[c->col_index] < 0) {
            st = spate_cql_rows_cell(w, NULL, -1);
        } else {
            st = spate_cql_rows_cell(w, base + off[c->col_index], (int32_t)len[c->col_index]);
        }
        if (st != SPATE_OK) g->nomem = true;
    }
}

static void row_end(gen_t *g) {
    if (g->nomem || !row_matches(g)) return;
    int64_t m = g->matched++;
    if (g->sel->aggregate) {
        if (!g->have_first) {
            g->have_first = true;
            if (spate_buf_append(&g->first, g->row.data ? g->row.data : "", g->row.len) != SPATE_OK)
                g->nomem = true;
            memcpy(g->first_off, g->off, g->t->ncols * sizeof *g->off);
            memcpy(g->first_len, g->len, g->t->ncols * sizeof *g->len);
        }
        return;
    }
    if (m >= g->limit || m < g->skip) return;
    if (g->emitted >= g->page) {
        g->more = true;
        return;
    }
    put_selected(g, &g->w, g->row.data, g->off, g->len, 0);
    g->emitted++;
}

/* ------------------------------------------------------------------ */
/* The tables                                                          */
/* ------------------------------------------------------------------ */

static void no_rows(gen_t *g) { SPATE_UNUSED(g); }

static void inet_cell(gen_t *g, const char *name, const spate_cql_inet_t *a) {
    cell_bytes(g, name, a->addr, a->len);
}

static void local_rows(gen_t *g) {
    spate_cql_server_t *srv = g->rp->srv;
    row_begin(g);
    cell_text(g, "key", "local");
    cell_text(g, "bootstrapped", "COMPLETED");
    inet_cell(g, "broadcast_address", &srv->addr);
    cell_text(g, "cluster_name", srv->conf.cluster_name);
    cell_text(g, "cql_version", CQL_CQL_VERSION);
    cell_text(g, "data_center", CQL_DATA_CENTER);
    cell_i32(g, "gossip_generation", srv->gossip_generation);
    cell_bytes(g, "host_id", srv->host_id, 16);
    inet_cell(g, "listen_address", &srv->addr);
    cell_text(g, "native_protocol_version", "4");
    cell_text(g, "partitioner", CQL_PARTITIONER);
    cell_text(g, "rack", CQL_RACK);
    cell_text(g, "release_version", CQL_RELEASE_VERSION);
    inet_cell(g, "rpc_address", &srv->addr);
    cell_i32(g, "rpc_port", srv->port);
    cell_bytes(g, "schema_version", srv->schema->version, 16);
    cell_text(g, "thrift_version", "20.1.0");
    static const char *const tokens[] = {CQL_TOKEN};
    cell_strings(g, "tokens", SPATE_CQL_SET, tokens, 1);
    row_end(g);
}

static void map_cell(gen_t *g, const char *name, const cql_option_t *o) {
    const char **items = spate_xcalloc(o->n * 2 + 1, sizeof *items);
    for (uint32_t i = 0; i < o->n; i++) {
        items[2 * i] = o->keys[i];
        items[2 * i + 1] = o->vals[i];
    }
    cell_strings(g, name, SPATE_CQL_MAP, items, o->n * 2);
    free(items);
}

static void keyspaces_rows(gen_t *g) {
    const cql_schema_t *s = g->rp->srv->schema;
    for (uint32_t i = 0; i < s->nks; i++) {
        const cql_keyspace_t *k = s->ks[i];
        row_begin(g);
        cell_text(g, "keyspace_name", k->name);
        cell_bool(g, "durable_writes", k->durable_writes);
        map_cell(g, "replication", &k->replication);
        row_end(g);
    }
}

/* system_schema.tables option columns: what a table without the option
 * shows (Cassandra 3.11's defaults). Maps are key, value, ..., NULL. */
static const struct {
    const char *name;
    const char *scalar;
    const char *const *map;
} table_defaults[] = {
    {"bloom_filter_fp_chance", "0.01", NULL},
    {"caching", NULL, (const char *const[]){"keys", "ALL", "rows_per_partition", "NONE", NULL}},
    {"cdc", NULL, NULL},
    {"comment", "", NULL},
    {"compaction", NULL,
     (const char *const[]){"class",
                           "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy",
                           "max_threshold", "32", "min_threshold", "4", NULL}},
    {"compression", NULL,
     (const char *const[]){"chunk_length_in_kb", "64", "class",
                           "org.apache.cassandra.io.compress.LZ4Compressor", NULL}},
    {"crc_check_chance", "1.0", NULL},
    {"dclocal_read_repair_chance", "0.1", NULL},
    {"default_time_to_live", "0", NULL},
    {"gc_grace_seconds", "864000", NULL},
    {"max_index_interval", "2048", NULL},
    {"memtable_flush_period_in_ms", "0", NULL},
    {"min_index_interval", "128", NULL},
    {"read_repair_chance", "0.0", NULL},
    {"speculative_retry", "99PERCENTILE", NULL},
};

static void option_cell(gen_t *g, const cql_table_t *t, size_t k) {
    const char *name = table_defaults[k].name;
    const cql_option_t *o = cql_table_option(t, name);
    int i = col_index(g->t, name);
    if (i < 0) return;
    spate_cql_type_t id = g->t->cols[i].type.id;
    if (id == SPATE_CQL_MAP) {
        if (o && !o->text) {
            map_cell(g, name, o);
        } else {
            const char *const *m = table_defaults[k].map;
            size_t n = 0;
            while (m && m[n]) n++;
            cell_strings(g, name, SPATE_CQL_MAP, m, n);
        }
        return;
    }
    const char *text = o && o->text ? o->text : table_defaults[k].scalar;
    if (!text) return; /* null */
    switch (id) {
    case SPATE_CQL_DOUBLE: cell_double(g, name, strtod(text, NULL)); break;
    case SPATE_CQL_INT: cell_i32(g, name, (int32_t)strtol(text, NULL, 10)); break;
    case SPATE_CQL_BOOLEAN: cell_bool(g, name, text[0] == 't' || text[0] == 'T'); break;
    default: cell_text(g, name, text); break;
    }
}

static void tables_rows(gen_t *g) {
    const cql_schema_t *s = g->rp->srv->schema;
    for (uint32_t i = 0; i < s->nks; i++)
        for (uint32_t j = 0; j < s->ks[i]->ntables; j++) {
            const cql_table_t *t = s->ks[i]->tables[j];
            row_begin(g);
            cell_text(g, "keyspace_name", s->ks[i]->name);
            cell_text(g, "table_name", t->name);
            for (size_t k = 0; k < SPATE_ARRAY_LEN(table_defaults); k++) option_cell(g, t, k);
            cell_strings(g, "extensions", SPATE_CQL_MAP, NULL, 0);
            static const char *const compound[] = {"compound"}, *const counter[] = {"compound",
                                                                                    "counter"};
            if (t->counter)
                cell_strings(g, "flags", SPATE_CQL_SET, counter, 2);
            else
                cell_strings(g, "flags", SPATE_CQL_SET, compound, 1);
            cell_bytes(g, "id", t->uuid, 16);
            row_end(g);
        }
}

static void columns_rows(gen_t *g) {
    const cql_schema_t *s = g->rp->srv->schema;
    for (uint32_t i = 0; i < s->nks; i++)
        for (uint32_t j = 0; j < s->ks[i]->ntables; j++) {
            const cql_table_t *t = s->ks[i]->tables[j];
            for (uint32_t c = 0; c < t->ncols; c++) {
                const cql_column_t *col = &t->cols[c];
                row_begin(g);
                cell_text(g, "keyspace_name", s->ks[i]->name);
                cell_text(g, "table_name", t->name);
                cell_text(g, "column_name", col->name);
                cell_text(g, "clustering_order",
                          col->kind != CQL_KIND_CLUSTERING ? "none"
                          : col->desc                      ? "desc"
                                                           : "asc");
                cell_text(g, "column_name_bytes", col->name);
                cell_text(g, "kind", cql_col_kind_name(col->kind));
                cell_i32(g, "position", col->position);
                cell_text(g, "type", col->type_text);
                row_end(g);
            }
        }
}

static const cql_systable_t SYS_NONE = {no_rows}, SYS_LOCAL = {local_rows},
                            SYS_KEYSPACES = {keyspaces_rows}, SYS_TABLES = {tables_rows},
                            SYS_COLUMNS = {columns_rows};

/* Cassandra 3.11's definitions (SystemKeyspace.java, SchemaKeyspace.java);
 * system.local also has 4.0's rpc_port. */
static const struct {
    const cql_systable_t *sys;
    const char *ddl;
} system_tables[] = {
    {&SYS_LOCAL,
     "CREATE TABLE system.local (key text PRIMARY KEY, bootstrapped text, broadcast_address inet, "
     "cluster_name text, cql_version text, data_center text, gossip_generation int, host_id uuid, "
     "listen_address inet, native_protocol_version text, partitioner text, rack text, "
     "release_version text, rpc_address inet, rpc_port int, schema_version uuid, thrift_version "
     "text, tokens set<text>, truncated_at map<uuid, blob>)"},
    {&SYS_NONE,
     "CREATE TABLE system.peers (peer inet PRIMARY KEY, data_center text, host_id uuid, "
     "preferred_ip inet, rack text, release_version text, rpc_address inet, schema_version uuid, "
     "tokens set<text>)"},
    {&SYS_KEYSPACES,
     "CREATE TABLE system_schema.keyspaces (keyspace_name text PRIMARY KEY, durable_writes "
     "boolean, replication frozen<map<text, text>>)"},
    {&SYS_TABLES,
     "CREATE TABLE system_schema.tables (keyspace_name text, table_name text, "
     "bloom_filter_fp_chance double, caching frozen<map<text, text>>, cdc boolean, comment text, "
     "compaction frozen<map<text, text>>, compression frozen<map<text, text>>, crc_check_chance "
     "double, dclocal_read_repair_chance double, default_time_to_live int, extensions "
     "frozen<map<text, blob>>, flags frozen<set<text>>, gc_grace_seconds int, id uuid, "
     "max_index_interval int, memtable_flush_period_in_ms int, min_index_interval int, "
     "read_repair_chance double, speculative_retry text, PRIMARY KEY ((keyspace_name), "
     "table_name))"},
    {&SYS_COLUMNS,
     "CREATE TABLE system_schema.columns (keyspace_name text, table_name text, column_name text, "
     "clustering_order text, column_name_bytes blob, kind text, position int, type text, "
     "PRIMARY KEY ((keyspace_name), table_name, column_name))"},
    {&SYS_NONE,
     "CREATE TABLE system_schema.dropped_columns (keyspace_name text, table_name text, "
     "column_name text, dropped_time timestamp, type text, PRIMARY KEY ((keyspace_name), "
     "table_name, column_name))"},
    {&SYS_NONE,
     "CREATE TABLE system_schema.triggers (keyspace_name text, table_name text, trigger_name "
     "text, options frozen<map<text, text>>, PRIMARY KEY ((keyspace_name), table_name, "
     "trigger_name))"},
    {&SYS_NONE,
     "CREATE TABLE system_schema.views (keyspace_name text, view_name text, base_table_id uuid, "
     "base_table_name text, bloom_filter_fp_chance double, caching frozen<map<text, text>>, cdc "
     "boolean, comment text, compaction frozen<map<text, text>>, compression frozen<map<text, "
     "text>>, crc_check_chance double, dclocal_read_repair_chance double, default_time_to_live "
     "int, extensions frozen<map<text, blob>>, gc_grace_seconds int, id uuid, "
     "include_all_columns boolean, max_index_interval int, memtable_flush_period_in_ms int, "
     "min_index_interval int, read_repair_chance double, speculative_retry text, where_clause "
     "text, PRIMARY KEY ((keyspace_name), view_name))"},
    {&SYS_NONE, "CREATE TABLE system_schema.types (keyspace_name text, type_name text, field_names "
                "frozen<list<text>>, field_types frozen<list<text>>, PRIMARY KEY ((keyspace_name), "
                "type_name))"},
    {&SYS_NONE, "CREATE TABLE system_schema.functions (keyspace_name text, function_name text, "
                "argument_types frozen<list<text>>, argument_names frozen<list<text>>, body text, "
                "called_on_null_input boolean, language text, return_type text, PRIMARY KEY "
                "((keyspace_name), function_name, argument_types))"},
    {&SYS_NONE,
     "CREATE TABLE system_schema.aggregates (keyspace_name text, aggregate_name text, "
     "argument_types frozen<list<text>>, final_func text, initcond text, return_type text, "
     "state_func text, state_type text, PRIMARY KEY ((keyspace_name), aggregate_name, "
     "argument_types))"},
    {&SYS_NONE,
     "CREATE TABLE system_schema.indexes (keyspace_name text, table_name text, index_name text, "
     "kind text, options frozen<map<text, text>>, PRIMARY KEY ((keyspace_name), table_name, "
     "index_name))"},
};

spate_status_t cql_system_define(cql_schema_t *s, char *err, size_t errlen) {
    static const char *const local[] = {"class", "org.apache.cassandra.locator.LocalStrategy",
                                        NULL};
    static const char *const rf1[] = {"class", "org.apache.cassandra.locator.SimpleStrategy",
                                      "replication_factor", "1", NULL};
    static const char *const rf2[] = {"class", "org.apache.cassandra.locator.SimpleStrategy",
                                      "replication_factor", "2", NULL};
    static const char *const rf3[] = {"class", "org.apache.cassandra.locator.SimpleStrategy",
                                      "replication_factor", "3", NULL};
    cql_schema_add_system_keyspace(s, "system", local);
    cql_schema_add_system_keyspace(s, "system_schema", local);
    cql_schema_add_system_keyspace(s, "system_auth", rf1);
    cql_schema_add_system_keyspace(s, "system_distributed", rf3);
    cql_schema_add_system_keyspace(s, "system_traces", rf2);
    for (size_t i = 0; i < SPATE_ARRAY_LEN(system_tables); i++) {
        spate_status_t st =
            cql_schema_add_system_table(s, system_tables[i].ddl, system_tables[i].sys, err, errlen);
        if (st != SPATE_OK) return st;
    }
    return SPATE_OK;
}

/* ------------------------------------------------------------------ */
/* Selections (shared with the executor)                               */
/* ------------------------------------------------------------------ */

static const spate_cql_datatype_t TYPE_BIGINT = {.id = SPATE_CQL_BIGINT};
static const spate_cql_datatype_t TYPE_INT = {.id = SPATE_CQL_INT};

int32_t cql_select_resolve(spate_cql_arena_t *a, const cql_table_t *t,
                           const spate_cql_stmt_select_t *s, cql_selection_t *out, char *msg,
                           size_t msglen) {
    memset(out, 0, sizeof *out);
    if (s->json) {
        snprintf(msg, msglen, "SELECT JSON is not supported yet by spate cql");
        return SPATE_CQL_ERR_INVALID;
    }
    uint32_t n = s->nsel ? s->nsel : t->ncols;
    out->cols = spate_cql_arena_alloc(a, (n ? n : 1) * sizeof *out->cols);
    if (!out->cols) {
        snprintf(msg, msglen, "out of memory");
        return SPATE_CQL_ERR_SERVER;
    }
    out->n = n;
    if (!s->nsel) {
        for (uint32_t i = 0; i < n; i++)
            out->cols[i] =
                (cql_selcol_t){CQL_SEL_COLUMN, &t->cols[i], i, t->cols[i].name, &t->cols[i].type};
        return 0;
    }
    for (uint32_t i = 0; i < n; i++) {
        const spate_cql_selector_t *sel = s->sel[i];
        cql_selcol_t *c = &out->cols[i];
        const char *name = spate_cql_selector_name(a, sel);
        if (!name) {
            snprintf(msg, msglen, "out of memory");
            return SPATE_CQL_ERR_SERVER;
        }
        c->name = name;
        switch (sel->kind) {
        case SPATE_CQL_SEL_COLUMN: {
            int k = col_index(t, sel->name);
            if (k < 0) {
                snprintf(msg, msglen, "Undefined column name %s", sel->name);
                return SPATE_CQL_ERR_INVALID;
            }
            *c = (cql_selcol_t){CQL_SEL_COLUMN, &t->cols[k], (uint32_t)k, name, &t->cols[k].type};
            break;
        }
        case SPATE_CQL_SEL_COUNT_ROWS:
            c->kind = CQL_SEL_COUNT;
            c->type = &TYPE_BIGINT;
            out->aggregate = true;
            break;
        case SPATE_CQL_SEL_WRITETIME:
        case SPATE_CQL_SEL_TTL: {
            bool wt = sel->kind == SPATE_CQL_SEL_WRITETIME;
            const spate_cql_selector_t *arg = sel->nargs ? sel->args[0] : NULL;
            int k = arg && arg->kind == SPATE_CQL_SEL_COLUMN ? col_index(t, arg->name) : -1;
            if (k < 0) {
                snprintf(msg, msglen, "Undefined column name %s",
                         arg && arg->kind == SPATE_CQL_SEL_COLUMN ? arg->name : name);
                return SPATE_CQL_ERR_INVALID;
            }
            if (t->cols[k].kind == CQL_KIND_PARTITION_KEY ||
                t->cols[k].kind == CQL_KIND_CLUSTERING) {
                snprintf(msg, msglen, "Cannot use selection function %s on PRIMARY KEY part %s",
                         wt ? "writeTime" : "ttl", t->cols[k].name);
                return SPATE_CQL_ERR_INVALID;
            }
            *c = (cql_selcol_t){wt ? CQL_SEL_WRITETIME : CQL_SEL_TTL, &t->cols[k], (uint32_t)k,
                                name, wt ? &TYPE_BIGINT : &TYPE_INT};
            break;
        }
        default:
            snprintf(msg, msglen, "Selector %s is not supported yet by spate cql", name);
            return SPATE_CQL_ERR_INVALID;
        }
    }
    return 0;
}

spate_status_t cql_select_metadata(spate_cql_arena_t *a, const cql_table_t *t,
                                   const cql_selection_t *sel, spate_cql_metadata_t *md) {
    memset(md, 0, sizeof *md);
    md->flags = SPATE_CQL_MD_GLOBAL_TABLES_SPEC;
    md->columns_count = (int32_t)sel->n;
    md->global_keyspace = (spate_slice_t){t->ks->name, (int32_t)strlen(t->ks->name)};
    md->global_table = (spate_slice_t){t->name, (int32_t)strlen(t->name)};
    md->columns = spate_cql_arena_alloc(a, (sel->n ? sel->n : 1) * sizeof *md->columns);
    if (!md->columns) return SPATE_ENOMEM;
    for (uint32_t i = 0; i < sel->n; i++) {
        spate_cql_colspec_t *c = &md->columns[i];
        c->name = (spate_slice_t){sel->cols[i].name, (int32_t)strlen(sel->cols[i].name)};
        c->type = *sel->cols[i].type;
    }
    return SPATE_OK;
}

/* ------------------------------------------------------------------ */
/* Terms (shared with the executor)                                    */
/* ------------------------------------------------------------------ */

static const char *lit_kind_name(spate_cql_lit_kind_t k) {
    switch (k) {
    case SPATE_CQL_LIT_STRING: return "STRING";
    case SPATE_CQL_LIT_INTEGER: return "INTEGER";
    case SPATE_CQL_LIT_FLOAT: return "FLOAT";
    case SPATE_CQL_LIT_BOOLEAN: return "BOOLEAN";
    case SPATE_CQL_LIT_UUID: return "UUID";
    case SPATE_CQL_LIT_HEX: return "HEX";
    case SPATE_CQL_LIT_DURATION: return "DURATION";
    }
    return "?";
}

/* Which literal kinds a type accepts (Cassandra's Constants.Type). */
static bool lit_fits(spate_cql_lit_kind_t k, spate_cql_type_t t) {
    switch (k) {
    case SPATE_CQL_LIT_STRING:
        return t == SPATE_CQL_ASCII || t == SPATE_CQL_VARCHAR || t == SPATE_CQL_TIMESTAMP ||
               t == SPATE_CQL_DATE || t == SPATE_CQL_TIME || t == SPATE_CQL_INET;
    case SPATE_CQL_LIT_INTEGER:
        return t == SPATE_CQL_TINYINT || t == SPATE_CQL_SMALLINT || t == SPATE_CQL_INT ||
               t == SPATE_CQL_BIGINT || t == SPATE_CQL_VARINT || t == SPATE_CQL_DECIMAL ||
               t == SPATE_CQL_DOUBLE || t == SPATE_CQL_FLOAT || t == SPATE_CQL_COUNTER ||
               t == SPATE_CQL_TIMESTAMP || t == SPATE_CQL_DATE || t == SPATE_CQL_TIME;
    case SPATE_CQL_LIT_FLOAT:
        return t == SPATE_CQL_DOUBLE || t == SPATE_CQL_FLOAT || t == SPATE_CQL_DECIMAL;
    case SPATE_CQL_LIT_BOOLEAN: return t == SPATE_CQL_BOOLEAN;
    case SPATE_CQL_LIT_UUID: return t == SPATE_CQL_UUID || t == SPATE_CQL_TIMEUUID;
    case SPATE_CQL_LIT_HEX: return t == SPATE_CQL_BLOB;
    case SPATE_CQL_LIT_DURATION: return false;
    }
    return false;
}

int32_t cql_term_value(spate_cql_arena_t *a, const cql_column_t *col, const spate_cql_term_t *term,
                       const spate_slice_t *values, uint32_t nvalues, spate_slice_t *out, char *msg,
                       size_t msglen) {
    switch (term->kind) {
    case SPATE_CQL_TERM_CONST: {
        if (!lit_fits(term->lit.kind, col->type.id)) {
            snprintf(msg, msglen, "Invalid %s constant (%.*s) for \"%s\" of type %s",
                     lit_kind_name(term->lit.kind), (int)SPATE_MIN(term->lit.len, (size_t)200),
                     term->lit.text, col->name, col->type_text);
            return SPATE_CQL_ERR_INVALID;
        }
        spate_buf_t b = SPATE_BUF_INIT;
        char err[256];
        if (spate_cql_value_from_text(&col->type, term->lit.text, term->lit.len, &b, err,
                                      sizeof err) != SPATE_OK) {
            spate_buf_free(&b);
            snprintf(msg, msglen, "%s", err[0] ? err : "Invalid value");
            return SPATE_CQL_ERR_INVALID;
        }
        char *p = spate_cql_arena_alloc(a, b.len + 1);
        if (!p) {
            spate_buf_free(&b);
            snprintf(msg, msglen, "out of memory");
            return SPATE_CQL_ERR_SERVER;
        }
        if (b.len) memcpy(p, b.data, b.len);
        *out = (spate_slice_t){p, (int32_t)b.len};
        spate_buf_free(&b);
        return 0;
    }
    case SPATE_CQL_TERM_BIND: {
        if (term->bind.index >= nvalues) {
            snprintf(msg, msglen, "Missing value for bind marker %u", term->bind.index);
            return SPATE_CQL_ERR_INVALID;
        }
        spate_slice_t v = values[term->bind.index];
        if (v.len == SPATE_CQL_UNSET) {
            snprintf(msg, msglen, "Invalid unset value for column %s", col->name);
            return SPATE_CQL_ERR_INVALID;
        }
        if (v.len < 0 || !v.p) {
            snprintf(msg, msglen, "Invalid null value in condition for column %s", col->name);
            return SPATE_CQL_ERR_INVALID;
        }
        char err[256];
        if (spate_cql_value_validate(&col->type, v.p, (size_t)v.len, err, sizeof err) != SPATE_OK) {
            snprintf(msg, msglen, "%s", err);
            return SPATE_CQL_ERR_INVALID;
        }
        *out = v;
        return 0;
    }
    case SPATE_CQL_TERM_NULL:
        snprintf(msg, msglen, "Invalid null value in condition for column %s", col->name);
        return SPATE_CQL_ERR_INVALID;
    default:
        snprintf(msg, msglen, "Unsupported term for column %s", col->name);
        return SPATE_CQL_ERR_INVALID;
    }
}

/* ------------------------------------------------------------------ */
/* SELECT on a system table                                            */
/* ------------------------------------------------------------------ */

/* The candidates of a WHERE relation; 0 or an error code. */
static int32_t relation(gen_t *g, spate_cql_arena_t *a, const spate_cql_relation_t *r,
                        const spate_slice_t *values, uint32_t nvalues, char *msg, size_t msglen) {
    const cql_table_t *t = g->t;
    if (r->lhs != SPATE_CQL_LHS_COLUMN ||
        (r->op != SPATE_CQL_REL_EQ && r->op != SPATE_CQL_REL_IN)) {
        snprintf(msg, msglen, "Only = and IN restrictions on columns are supported on %s.%s",
                 t->ks->name, t->name);
        return SPATE_CQL_ERR_INVALID;
    }
    int k = col_index(t, r->cols[0]);
    if (k < 0) {
        snprintf(msg, msglen, "Undefined column name %s", r->cols[0]);
        return SPATE_CQL_ERR_INVALID;
    }
    const cql_column_t *col = &t->cols[k];
    restriction_t *x = &g->res[g->nres++];
    x->col = (uint32_t)k;
    if (r->op == SPATE_CQL_REL_EQ || r->in_list) {
        uint32_t n = r->op == SPATE_CQL_REL_EQ ? 1 : r->nin;
        x->cands = spate_cql_arena_alloc(a, (n ? n : 1) * sizeof *x->cands);
        if (!x->cands) goto nomem;
        for (uint32_t i = 0; i < n; i++) {
            const spate_cql_term_t *term = r->op == SPATE_CQL_REL_EQ ? r->value : r->in[i];
            int32_t code = cql_term_value(a, col, term, values, nvalues, &x->cands[i], msg, msglen);
            if (code) return code;
        }
        x->n = n;
        return 0;
    }
    /* IN ?: a list<type> value. */
    if (r->value->kind != SPATE_CQL_TERM_BIND || r->value->bind.index >= nvalues) {
        snprintf(msg, msglen, "Invalid IN restriction on column %s", col->name);
        return SPATE_CQL_ERR_INVALID;
    }
    spate_slice_t v = values[r->value->bind.index];
    if (v.len < 0 || !v.p) {
        snprintf(msg, msglen, "Invalid null value for IN restriction on column %s", col->name);
        return SPATE_CQL_ERR_INVALID;
    }
    spate_rd_t rd;
    spate_rd_init(&rd, v.p, (size_t)v.len);
    int32_t n;
    if (spate_rd_i32(&rd, &n) != SPATE_OK || n < 0 || (size_t)n > spate_rd_left(&rd) / 4) {
        snprintf(msg, msglen, "Invalid list value for IN restriction on column %s", col->name);
        return SPATE_CQL_ERR_INVALID;
    }
    x->cands = spate_cql_arena_alloc(a, ((size_t)n ? (size_t)n : 1) * sizeof *x->cands);
    if (!x->cands) goto nomem;
    for (int32_t i = 0; i < n; i++) {
        if (spate_rd_str32(&rd, &x->cands[i]) != SPATE_OK || !x->cands[i].p) {
            snprintf(msg, msglen, "Invalid list value for IN restriction on column %s", col->name);
            return SPATE_CQL_ERR_INVALID;
        }
    }
    x->n = (uint32_t)n;
    return 0;
nomem:
    snprintf(msg, msglen, "out of memory");
    return SPATE_CQL_ERR_SERVER;
}

static int32_t limit_value(const spate_cql_term_t *term, const spate_slice_t *values,
                           uint32_t nvalues, int64_t *out, char *msg, size_t msglen) {
    if (!term) return 0;
    int64_t v = 0;
    if (term->kind == SPATE_CQL_TERM_CONST && term->lit.kind == SPATE_CQL_LIT_INTEGER) {
        if (spate_parse_i64(term->lit.text, INT64_MIN, INT64_MAX, &v) != SPATE_OK) v = 0;
    } else if (term->kind == SPATE_CQL_TERM_BIND && term->bind.index < nvalues) {
        spate_slice_t s = values[term->bind.index];
        if (s.len == SPATE_CQL_UNSET) return 0;
        if (s.len != 4 || !s.p) {
            snprintf(msg, msglen, "Invalid null value of limit");
            return SPATE_CQL_ERR_INVALID;
        }
        const uint8_t *p = (const uint8_t *)s.p;
        v = (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
    }
    if (v <= 0) {
        snprintf(msg, msglen, "LIMIT must be strictly positive");
        return SPATE_CQL_ERR_INVALID;
    }
    *out = v;
    return 0;
}

static const char PAGING_MAGIC[4] = {'S', 'Y', 'S', 1};

void cql_system_select(cql_reply_t *rp, const cql_dml_t *d) {
    const cql_bound_t *b = &d->stmts[0];
    const spate_cql_stmt_select_t *s = &b->stmt->select;
    const cql_table_t *t = b->table;
    spate_cql_arena_t *a = d->arena;
    uint32_t nvalues = b->stmt->nbind;
    char msg[512];
    int32_t code = 0;
    cql_selection_t sel;
    gen_t g;
    memset(&g, 0, sizeof g);
    g.rp = rp;
    g.t = t;
    g.sel = &sel;
    g.limit = INT64_MAX;
    g.page = d->page_size > 0 ? d->page_size : INT64_MAX;
    if (s->distinct || s->ngroup_by || s->norder || s->per_partition_limit) {
        cql_reply_error(rp, SPATE_CQL_ERR_INVALID,
                        "DISTINCT, GROUP BY, ORDER BY and PER PARTITION LIMIT are not supported on "
                        "%s.%s",
                        t->ks->name, t->name);
        return;
    }
    if ((code = cql_select_resolve(a, t, s, &sel, msg, sizeof msg))) goto refuse;
    for (uint32_t i = 0; i < sel.n; i++)
        if (sel.cols[i].kind == CQL_SEL_WRITETIME || sel.cols[i].kind == CQL_SEL_TTL) {
            code = SPATE_CQL_ERR_INVALID;
            snprintf(msg, sizeof msg, "writetime() and ttl() are not supported on %s.%s",
                     t->ks->name, t->name);
            goto refuse;
        }
    g.res = spate_cql_arena_alloc(a, (s->nwhere ? s->nwhere : 1) * sizeof *g.res);
    g.off = spate_cql_arena_alloc(a, (t->ncols ? t->ncols : 1) * sizeof *g.off);
    g.len = spate_cql_arena_alloc(a, (t->ncols ? t->ncols : 1) * sizeof *g.len);
    g.first_off = spate_cql_arena_alloc(a, (t->ncols ? t->ncols : 1) * sizeof *g.first_off);
    g.first_len = spate_cql_arena_alloc(a, (t->ncols ? t->ncols : 1) * sizeof *g.first_len);
    if (!g.res || !g.off || !g.len || !g.first_off || !g.first_len) {
        cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "out of memory");
        return;
    }
    for (uint32_t i = 0; i < s->nwhere; i++)
        if ((code = relation(&g, a, &s->where[i], b->values, nvalues, msg, sizeof msg)))
            goto refuse;
    if ((code = limit_value(s->limit, b->values, nvalues, &g.limit, msg, sizeof msg))) goto refuse;
    if (d->paging_state.p && d->paging_state.len >= 0) {
        const uint8_t *p = (const uint8_t *)d->paging_state.p;
        if (d->paging_state.len != 8 || memcmp(p, PAGING_MAGIC, 4) != 0) {
            cql_reply_error(rp, SPATE_CQL_ERR_PROTOCOL, "Invalid value for the paging state");
            return;
        }
        g.skip =
            (int64_t)((uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7]);
    }

    spate_cql_metadata_t md;
    if (cql_select_metadata(a, t, &sel, &md) != SPATE_OK) {
        cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "out of memory");
        return;
    }
    if (d->skip_metadata) md.flags = SPATE_CQL_MD_NO_METADATA;
    size_t mark;
    spate_status_t st = cql_reply_begin(rp, SPATE_CQL_OP_RESULT, &mark);
    if (st == SPATE_OK) st = spate_cql_rows_begin(&g.w, rp->out, &md);
    if (st == SPATE_OK) {
        t->sys->rows(&g);
        if (sel.aggregate)
            put_selected(&g, &g.w, g.have_first ? g.first.data : NULL, g.first_off, g.first_len,
                         g.matched);
        st = g.nomem ? SPATE_ENOMEM : SPATE_OK;
    }
    uint8_t ps[8];
    spate_slice_t paging = {(const char *)ps, 8};
    if (st == SPATE_OK) {
        uint32_t next = (uint32_t)SPATE_MIN(g.skip + g.emitted, (int64_t)UINT32_MAX);
        memcpy(ps, PAGING_MAGIC, 4);
        for (int i = 0; i < 4; i++) ps[4 + i] = (uint8_t)(next >> (24 - 8 * i));
        st = spate_cql_rows_end(&g.w, g.more ? &paging : NULL);
    }
    cql_reply_end(rp, mark, st);
    spate_buf_free(&g.row);
    spate_buf_free(&g.first);
    return;
refuse:
    cql_reply_error(rp, code, "%s", msg);
}
