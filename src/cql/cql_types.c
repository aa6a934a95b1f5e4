/*
 * cql_types.c — CQL type ids and their names.
 *
 * One table maps the wire's type option ids to the names CQL text uses, so
 * the parser (DDL), the schema tables (system_schema.columns.type) and
 * cqlsh agree on spelling.
 */
#include <string.h>
#include <strings.h>

#include "cql.h"

static const struct {
    spate_cql_type_t id;
    const char *name;
} cql_types[] = {
    {SPATE_CQL_ASCII, "ascii"},     {SPATE_CQL_BIGINT, "bigint"},
    {SPATE_CQL_BLOB, "blob"},       {SPATE_CQL_BOOLEAN, "boolean"},
    {SPATE_CQL_COUNTER, "counter"}, {SPATE_CQL_DECIMAL, "decimal"},
    {SPATE_CQL_DOUBLE, "double"},   {SPATE_CQL_FLOAT, "float"},
    {SPATE_CQL_INT, "int"},         {SPATE_CQL_TIMESTAMP, "timestamp"},
    {SPATE_CQL_UUID, "uuid"},       {SPATE_CQL_VARCHAR, "text"},
    {SPATE_CQL_VARINT, "varint"},   {SPATE_CQL_TIMEUUID, "timeuuid"},
    {SPATE_CQL_INET, "inet"},       {SPATE_CQL_DATE, "date"},
    {SPATE_CQL_TIME, "time"},       {SPATE_CQL_SMALLINT, "smallint"},
    {SPATE_CQL_TINYINT, "tinyint"}, {SPATE_CQL_DURATION, "duration"},
    {SPATE_CQL_LIST, "list"},       {SPATE_CQL_MAP, "map"},
    {SPATE_CQL_SET, "set"},         {SPATE_CQL_TUPLE, "tuple"},
    {SPATE_CQL_VARCHAR, "varchar"}, /* an alias: after "text" so names map back to "text" */
};

const char *spate_cql_type_name(spate_cql_type_t t) {
    for (size_t i = 0; i < SPATE_ARRAY_LEN(cql_types); i++)
        if (cql_types[i].id == t) return cql_types[i].name;
    return NULL;
}

spate_status_t spate_cql_type_by_name(const char *name, size_t len, spate_cql_type_t *out) {
    for (size_t i = 0; i < SPATE_ARRAY_LEN(cql_types); i++) {
        const char *n = cql_types[i].name;
        if (strlen(n) == len && strncasecmp(n, name, len) == 0) {
            *out = cql_types[i].id;
            return SPATE_OK;
        }
    }
    return SPATE_ENOENT;
}
