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
 *
 *   spate_cql_server_start bind, load the schema catalog (<data_dir>/schema.cql)
 *   spate_cql_server_run   serve until stopped (blocks)
 *   spate_cql_server_stop  async-signal-safe
 *   spate_cql_server_free  close every connection, free everything
 *   spate_cql_probe        one OPTIONS round trip (health checks)
 *
 *   spate_cql_shell_run    `spate cqlsh` (cql_shell.c)
 */
#ifndef SPATE_CQL_H
#define SPATE_CQL_H

#include "base.h"
#include "net.h"

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

/* ------------------------------------------------------------------ */
/* The server (`spate cql`; cql_server.c)                              */
/* ------------------------------------------------------------------ */

#define SPATE_CQL_MAX_USERS 32

typedef struct {
    spate_net_addr_t listen; /* default 127.0.0.1:9042 */
    char data_dir[1024];     /* default spate-data/cql; holds schema.cql */
    char cluster_name[128];  /* system.local.cluster_name, default "spate" */
    /* Largest request frame body accepted (default and maximum: the
     * spec's 256 MiB); a larger one closes its connection. */
    uint32_t max_frame_bytes;
    int32_t max_prepared; /* prepared statements kept (oldest dropped), default 10000 */
    bool fsync;           /* fsync schema.cql and its folder on every DDL, default true */
    /* Commit log (RocksDB's WAL) sync, as Cassandra's commitlog_sync:
     * periodic (default): writes are acknowledged at once and fsynced
     * within commitlog_sync_period_ms (default 10000); batch: a write is
     * acknowledged only after the fsync that covers it, one fsync per
     * event-loop turn for every write of the turn (group commit). */
    bool commitlog_batch;
    int64_t commitlog_sync_period_ms;
    size_t block_cache_bytes;  /* RocksDB block cache, default 8 MiB */
    size_t write_buffer_bytes; /* RocksDB memtable of the cells family, default 16 MiB */
    /* PasswordAuthenticator: with any user, a connection must log in
     * (SASL PLAIN in AUTH_RESPONSE) after STARTUP. nusers == 0: no
     * authentication (AllowAllAuthenticator). */
    struct {
        char name[128];
        char password[128];
    } users[SPATE_CQL_MAX_USERS];
    int nusers;
} spate_cql_conf_t;

void spate_cql_conf_default(spate_cql_conf_t *c);

typedef struct spate_cql_server spate_cql_server_t;

/* Creates the data directory if needed, loads the catalog and binds. On
 * failure a one-line reason (e.g. "DIR/schema.cql:3: ...") is in err. */
spate_status_t spate_cql_server_start(spate_cql_server_t **out, const spate_cql_conf_t *c,
                                      char *err, size_t errlen);
/* The port actually bound (when 0 was asked for). */
int spate_cql_server_port(const spate_cql_server_t *s);
spate_status_t spate_cql_server_run(spate_cql_server_t *s);
void spate_cql_server_stop(spate_cql_server_t *s);
/* Closes every connection and frees the server; NULL-safe. */
void spate_cql_server_free(spate_cql_server_t *s);

/* The health probe (cql_server.c): OPTIONS in a v4 frame on a new
 * connection, answered by SUPPORTED within timeout_ms. Works against
 * spate cql, Cassandra and ScyllaDB. On SPATE_OK `info` (may be NULL)
 * gets e.g. "CQL 3.4.5"; otherwise a one-line reason is in err. */
spate_status_t spate_cql_probe(const spate_net_addr_t *addr, int timeout_ms, char *info,
                               size_t infolen, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* `spate cqlsh` (cql_shell.c)                                         */
/* ------------------------------------------------------------------ */

typedef struct {
    const char *host;                           /* "host[:port]" (port 9042 by default) */
    const char *keyspace;                       /* -k: USE'd first (NULL: none) */
    const char *execute;                        /* -e: these statements, then exit (NULL: stdin) */
    bool no_tty;                                /* read stdin as a script even on a terminal */
    int connect_timeout_ms, request_timeout_ms; /* 0: the client's defaults */
} spate_cql_shell_opts_t;

/* Runs the shell; returns the exit status: 0, 1 (cannot connect) or 2
 * (a statement failed; its error was printed to stderr). */
int spate_cql_shell_run(const spate_cql_shell_opts_t *o);

#endif /* SPATE_CQL_H */
