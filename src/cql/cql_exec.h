/*
 * cql_exec.h — private to src/cql: what the write path (cql_exec.c) and
 * the read path (cql_select.c) of `spate cql` share.
 *
 *   cql_exec_dml (cql_int.h) ─┬─ INSERT UPDATE DELETE TRUNCATE BATCH ─▶ cql_exec.c
 *                             └─ SELECT on a user table ───────────────▶ cql_select_run
 *
 * Both go to the store (cql_store.h) through a table's storage view: its
 * key schema and the key types of its columns, built from the catalog
 * once and cached on the server until the next DDL.
 */
#ifndef SPATE_CQL_EXEC_H
#define SPATE_CQL_EXEC_H

#include "cql_int.h"
#include "cql_store.h"

typedef struct {
    const cql_table_t *table;
    spate_cql_key_schema_t key;      /* table->id, pk and ck columns in position order */
    const spate_cql_ktype_t **ktype; /* [table->ncols], by index in table->cols: the full type */
    /* [table->ncols]: the element key type of a NON-frozen collection
     * (set: its element, map: its key, list: timeuuid), else NULL. */
    const spate_cql_ktype_t **elem;
    /* [nid], by column id: the same, for spate_cql_store_query_t.elem_types. */
    const spate_cql_ktype_t *const *elem_by_id;
    uint16_t nid;               /* table->next_col_id */
    const int32_t *index_by_id; /* [nid]: column id -> index in table->cols, -1 if dropped */
} cql_tview_t;

/* The view of user table t; NULL when out of memory. Valid until the
 * next DDL (the cache owns it). */
const cql_tview_t *cql_tview(spate_cql_server_t *srv, const cql_table_t *t);
/* Forgets every cached view (the server calls it after each DDL that
 * changed something). */
void cql_exec_schema_changed(spate_cql_server_t *srv);
/* Frees the cache (spate_cql_server_free). NULL-safe. */
void cql_exec_free(spate_cql_server_t *srv);

/* Server-side write timestamps: µs since the epoch, strictly increasing
 * across calls (max(now, last + 1)), as Cassandra's. */
int64_t cql_exec_timestamp(spate_cql_server_t *srv);

/* The read path (cql_select.c): answers a SELECT on a user table (d->n ==
 * 1, the statement a SELECT, its table resolved and not a system table).
 * Writes exactly one response through rp: Rows, paged as d->page_size and
 * d->paging_state say, or an ERROR. */
void cql_select_run(cql_reply_t *rp, const cql_dml_t *d);

#endif /* SPATE_CQL_EXEC_H */
