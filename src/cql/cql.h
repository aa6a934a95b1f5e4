/*
 * cql.h — the public interface of spate's CQL subsystem.
 *
 * `spate cql` is a single-node server that speaks the CQL native protocol
 * v4 (python3-cassandra, the Node cassandra-driver and cqlsh work against
 * it unmodified), storing tables in RocksDB. The same codec backs spate's
 * own CQL client library (the stream processor's Cassandra sink and
 * `spate cqlsh`), which also works against Cassandra and ScyllaDB.
 *
 * This header grows with the subsystem; what exists now:
 *
 *   spate_cql_type_t       the protocol's type option ids (spec §4.2.5.2)
 *   spate_cql_type_name    "int", "text", ... as CQL spells them
 *   spate_cql_type_by_name the reverse, for DDL and cqlsh
 */
#ifndef SPATE_CQL_H
#define SPATE_CQL_H

#include "base.h"

/* Type option ids, numbered as the wire carries them. `text` and
 * `varchar` are one type (0x000D); 0x000A is an old id some drivers still
 * map to text. */
typedef enum {
    SPATE_CQL_CUSTOM = 0x0000,
    SPATE_CQL_ASCII = 0x0001,
    SPATE_CQL_BIGINT = 0x0002,
    SPATE_CQL_BLOB = 0x0003,
    SPATE_CQL_BOOLEAN = 0x0004,
    SPATE_CQL_COUNTER = 0x0005,
    SPATE_CQL_DECIMAL = 0x0006,
    SPATE_CQL_DOUBLE = 0x0007,
    SPATE_CQL_FLOAT = 0x0008,
    SPATE_CQL_INT = 0x0009,
    SPATE_CQL_TIMESTAMP = 0x000B,
    SPATE_CQL_UUID = 0x000C,
    SPATE_CQL_VARCHAR = 0x000D,
    SPATE_CQL_VARINT = 0x000E,
    SPATE_CQL_TIMEUUID = 0x000F,
    SPATE_CQL_INET = 0x0010,
    SPATE_CQL_DATE = 0x0011,
    SPATE_CQL_TIME = 0x0012,
    SPATE_CQL_SMALLINT = 0x0013,
    SPATE_CQL_TINYINT = 0x0014,
    SPATE_CQL_DURATION = 0x0015,
    SPATE_CQL_LIST = 0x0020,
    SPATE_CQL_MAP = 0x0021,
    SPATE_CQL_SET = 0x0022,
    SPATE_CQL_UDT = 0x0030,
    SPATE_CQL_TUPLE = 0x0031,
} spate_cql_type_t;

/* The CQL name of a type id ("varchar" is reported as "text", as
 * Cassandra's system_schema does); NULL for an unknown id. */
const char *spate_cql_type_name(spate_cql_type_t t);

/* The type id for a CQL type name, case-insensitive ("text" and "varchar"
 * both give SPATE_CQL_VARCHAR; "list", "set", "map", "tuple" give the
 * collection ids). SPATE_ENOENT for an unknown name. */
spate_status_t spate_cql_type_by_name(const char *name, size_t len, spate_cql_type_t *out);

#endif /* SPATE_CQL_H */
