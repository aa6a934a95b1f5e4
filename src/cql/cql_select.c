/*
 * cql_select.c — the read path of `spate cql`: SELECT on user tables.
 * PLACEHOLDER being replaced: refuses every SELECT with a clear error.
 */
#include "cql_exec.h"

void cql_select_run(cql_reply_t *rp, const cql_dml_t *d) {
    SPATE_UNUSED(d);
    cql_reply_error(rp, SPATE_CQL_ERR_INVALID, "SELECT is not supported yet by spate cql");
}
