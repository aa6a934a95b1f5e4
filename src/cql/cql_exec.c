/*
 * cql_exec.c — the statement executor of `spate cql`: INSERT, UPDATE,
 * DELETE, TRUNCATE and SELECT on user tables, and batches.
 *
 * >>> INTEGRATION POINT: THIS IS A PLACEHOLDER. <<<
 *
 * The server (cql_server.c) has already parsed the statement, checked the
 * number of bound values, put them in marker order, and resolved every
 * table in the catalog (cql_bound_t.table; a missing keyspace or table was
 * answered "Keyspace 'x' does not exist" / "unconfigured table x", and
 * writes to system keyspaces were refused). What is left is the data,
 * which belongs to the RocksDB store (cql_store.*, being written) and the
 * executor on top of it. Until then every statement that reaches here is
 * refused honestly, naming what was asked:
 *
 *   ERROR 0x2200 Invalid "INSERT is not supported yet by spate cql"
 *
 * Helpers the executor will want are already shared: cql_term_value
 * (literal/marker → bytes with Cassandra's type checks),
 * cql_select_resolve / cql_select_metadata (result columns and Rows
 * metadata), cql_reply_* and the streaming Rows writer (cql_codec.h).
 */
#include "cql_exec.h"

#include <time.h>

void cql_exec_dml(cql_reply_t *rp, const cql_dml_t *d) {
    const char *what = d->batch_type >= 0 ? "BATCH"
                       : d->n             ? spate_cql_stmt_kind_name(d->stmts[0].stmt)
                                          : "this statement";
    cql_reply_error(rp, SPATE_CQL_ERR_INVALID, "%s is not supported yet by spate cql", what);
}

void cql_exec_table_dropped(spate_cql_server_t *srv, uint32_t table_id) {
    spate_cql_store_drop(srv->store, table_id);
}

void cql_exec_schema_changed(spate_cql_server_t *srv) { SPATE_UNUSED(srv); }
void cql_exec_free(spate_cql_server_t *srv) { SPATE_UNUSED(srv); }

int64_t cql_exec_timestamp(spate_cql_server_t *srv) {
    SPATE_UNUSED(srv);
    return spate_wall_ms() * 1000;
}
