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

/* The result columns of a SELECT on a user table: cql_select_resolve,
 * plus token(pk...) (a bigint column whose col is NULL). For PREPARE's
 * result metadata. 0, or an ERROR code with the message in msg. */
int32_t cql_select_columns(spate_cql_arena_t *a, const cql_table_t *t,
                           const spate_cql_stmt_select_t *s, cql_selection_t *out, char *msg,
                           size_t msglen);

/* ---- terms (cql_exec.c; the read path may use them too) ---- */

/* Evaluates a term as a value of column col's type: a constant, a bind
 * marker (values[index], validated), null, a collection / tuple literal
 * ([..] {..} {k: v} (..)), a type hint, or one of the functions users
 * write in statements (now(), uuid(), currentTimestamp(), toTimestamp(x),
 * toDate(x), toUnixTimestamp(x), minTimeuuid(x), maxTimeuuid(x),
 * currentDate(), currentTime(), xAsBlob(x), blobAsX(x)). Frozen sets and
 * maps come out sorted and without duplicates, as Cassandra serializes
 * them. *out is the serialized value (in the arena or borrowed from
 * values), or {NULL, SPATE_CQL_NULL} / {NULL, SPATE_CQL_UNSET}. Returns 0,
 * or an ERROR code with Cassandra's message in msg. */
int32_t cql_exec_term(spate_cql_server_t *srv, spate_cql_arena_t *a, const cql_column_t *col,
                      const spate_cql_term_t *term, const spate_slice_t *values, uint32_t nvalues,
                      spate_slice_t *out, char *msg, size_t msglen);
/* The same for any type (collection elements, map keys, ...): name is the
 * receiver's name in messages ("value(c)", "key(m)"). */
int32_t cql_exec_term_as(spate_cql_server_t *srv, spate_cql_arena_t *a, const char *name,
                         const spate_cql_datatype_t *type, const spate_cql_term_t *term,
                         const spate_slice_t *values, uint32_t nvalues, spate_slice_t *out,
                         char *msg, size_t msglen);

#endif /* SPATE_CQL_EXEC_H */
