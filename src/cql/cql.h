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
     * acknowledged only after the fsync that covers it; fsyncs run on a
     * thread of the server's, one at a time, each for every write that
     * reached the OS before it began (group commit). */
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
    const char *username, *password;            /* -u / -p: PasswordAuthenticator (NULL: none) */
    int connect_timeout_ms, request_timeout_ms; /* 0: the client's defaults */
} spate_cql_shell_opts_t;

/* Runs the shell; returns the exit status: 0, 1 (cannot connect) or 2
 * (a statement failed; its error was printed to stderr). */
int spate_cql_shell_run(const spate_cql_shell_opts_t *o);

/* ------------------------------------------------------------------ */
/* The client library (cql_client.c)                                   */
/* ------------------------------------------------------------------ */

/*
 * spate's CQL client: native protocol v4 (v3 when the server refuses v4)
 * to spate cql, Cassandra or ScyllaDB. One client is one TCP connection
 * to one of its contact points, with up to max_in_flight requests on it
 * at once (stream ids). Not thread-safe: one thread drives a client.
 *
 *   objects                   owner, lifetime
 *   spate_cql_client_t        the caller: connect ... free
 *   spate_cql_prepared_t      the client: valid until spate_cql_client_free
 *   spate_cql_query_t         the caller: new ... free; copied by submit and
 *                             by batch_add, so it may be rebound and reused
 *                             at once
 *   spate_cql_answer_t        whoever receives it: spate_cql_answer_free
 *
 * Connecting: TCP to the first contact point that accepts, OPTIONS,
 * STARTUP {CQL_VERSION: 3.0.0}, then USE keyspace. A server that answers
 * the first v4 frame with a Protocol error (0x000A) is asked again in v3
 * on a new connection. AUTHENTICATE is refused with a clear error.
 *
 * Requests. A query is CQL text, a prepared statement, or a batch of
 * those, with its bound values (raw serialized values, or the typed
 * helpers, which for a prepared statement check the marker's type) and
 * its options (page size and paging state, consistency, client
 * timestamp, timeout). spate_cql_client_submit encodes it at once and
 * queues it; the frame is written by the next poll (or at once when 64
 * KiB are waiting), and the completion runs from a later poll, drain,
 * submit or synchronous call — exactly once for every submit that
 * returned SPATE_OK, never from inside that submit. A completion may
 * submit more requests or make synchronous calls; it must not free the
 * client. The synchronous calls (query, execute, prepare, use) are a
 * submit plus polling until that answer, other requests' completions
 * running meanwhile.
 *
 * The window: submit waits (polling, so completions run) while
 * max_in_flight requests are in flight.
 *
 * Timeouts: connect_timeout_ms per contact point; request_timeout_ms (or
 * the query's own) from submit to the answer: then the completion gets
 * SPATE_ETIMEDOUT and the stream id stays reserved until the late answer
 * comes (it is dropped). A connection whose whole window is timed-out
 * requests is closed.
 *
 * Reconnect: a broken connection (EOF, reset, an undecodable frame) fails
 * every request in flight (SPATE_EIO); the next request reconnects,
 * trying the contact points in turn from the one that worked last, USEs
 * the current keyspace again (the last one set by spate_cql_client_use or
 * by a `USE` statement) and prepares every known statement again before
 * it is sent. An EXECUTE (or a BATCH) answered Unprepared (0x2500) — the
 * server forgot the id — is prepared again and resent transparently, up
 * to 3 times per request.
 *
 * Errors: an ERROR answer is a normal answer (kind SPATE_CQL_ANSWER_ERROR)
 * carrying the server's code and message; synchronous calls return
 * SPATE_ERR for it. I/O failures are spate_status_t values (EIO,
 * ETIMEDOUT, EINVAL for a query that cannot be encoded), with a one-line
 * reason in spate_cql_client_error.
 */

typedef enum {
    SPATE_CQL_CONSISTENCY_ANY = 0x0000,
    SPATE_CQL_CONSISTENCY_ONE = 0x0001,
    SPATE_CQL_CONSISTENCY_TWO = 0x0002,
    SPATE_CQL_CONSISTENCY_THREE = 0x0003,
    SPATE_CQL_CONSISTENCY_QUORUM = 0x0004,
    SPATE_CQL_CONSISTENCY_ALL = 0x0005,
    SPATE_CQL_CONSISTENCY_LOCAL_QUORUM = 0x0006,
    SPATE_CQL_CONSISTENCY_EACH_QUORUM = 0x0007,
    SPATE_CQL_CONSISTENCY_SERIAL = 0x0008,
    SPATE_CQL_CONSISTENCY_LOCAL_SERIAL = 0x0009,
    SPATE_CQL_CONSISTENCY_LOCAL_ONE = 0x000A,
    SPATE_CQL_CONSISTENCY_DEFAULT = -1 /* in a query: the client's */
} spate_cql_consistency_t;

typedef struct {
    const char *contact_points; /* "host[:port][,host[:port]...]"; port 9042 by default */
    const char *keyspace;       /* USE'd after connecting (NULL: none) */
    int protocol_version;       /* 0: v4, then v3 if refused (default); 3 or 4: only that */
    int connect_timeout_ms;     /* per contact point, default 5000 */
    int request_timeout_ms;     /* default 12000 (the drivers' default) */
    int max_in_flight;          /* the window, 1..32767; default 256 */
    spate_cql_consistency_t consistency; /* default LOCAL_ONE, as the drivers */
    /* Credentials for a server that asks for authentication
     * (PasswordAuthenticator: sent as SASL PLAIN); NULL: none. */
    const char *username;
    const char *password;
} spate_cql_client_conf_t;

void spate_cql_client_conf_default(spate_cql_client_conf_t *c);

typedef struct spate_cql_client spate_cql_client_t;
typedef struct spate_cql_prepared spate_cql_prepared_t;
typedef struct spate_cql_query spate_cql_query_t;
typedef struct spate_cql_answer spate_cql_answer_t;

/* Connects (see above; strings in conf are copied). On failure *out is
 * NULL and err says why (per contact point). */
spate_status_t spate_cql_client_connect(spate_cql_client_t **out,
                                        const spate_cql_client_conf_t *conf, char *err,
                                        size_t errlen);
/* Fails what is still in flight (SPATE_EIO), closes, frees every prepared
 * handle. NULL-safe; not from inside a completion. */
void spate_cql_client_free(spate_cql_client_t *c);
/* Protocol version in use (4 or 3; 0 while disconnected), the server's
 * address ("127.0.0.1:9042"), the current keyspace ("" when none). */
int spate_cql_client_version(const spate_cql_client_t *c);
const char *spate_cql_client_peer(const spate_cql_client_t *c);
const char *spate_cql_client_keyspace(const spate_cql_client_t *c);
bool spate_cql_client_connected(const spate_cql_client_t *c);
/* Connections made so far (1 after connect; +1 per reconnect). */
uint64_t spate_cql_client_connections(const spate_cql_client_t *c);
/* The reason for the last non-OK status of a call on c ("" if none);
 * valid until the next call. */
const char *spate_cql_client_error(const spate_cql_client_t *c);

/* ---- queries ---- */

typedef enum {
    SPATE_CQL_BATCH_TYPE_LOGGED = 0,
    SPATE_CQL_BATCH_TYPE_UNLOGGED = 1,
    SPATE_CQL_BATCH_TYPE_COUNTER = 2,
} spate_cql_batch_type_t;

/* A query of CQL text (copied), of a prepared statement, or an empty
 * batch. Never NULL (allocation failure aborts). */
spate_cql_query_t *spate_cql_query_new(const char *cql);
spate_cql_query_t *spate_cql_query_new_prepared(const spate_cql_prepared_t *p);
spate_cql_query_t *spate_cql_batch_new(spate_cql_batch_type_t type);
void spate_cql_query_free(spate_cql_query_t *q); /* NULL-safe */
/* Forgets the bound values and the paging state (a batch: its
 * statements); options stay. */
void spate_cql_query_clear(spate_cql_query_t *q);
/* Appends a copy of q (text or prepared, with its values) to batch.
 * EINVAL if batch is not a batch or q is one; ERANGE past 65535. */
spate_status_t spate_cql_batch_add(spate_cql_query_t *batch, const spate_cql_query_t *q);

/* Binding the value of marker i (0-based, in marker order). Values of
 * markers never bound are sent as "unset" (v4; refused at submit in v3).
 * The raw form takes the serialized value (spec §6) with len -1 for null,
 * -2 for unset. The typed forms check, for a prepared statement, that
 * marker i has a compatible type (int: int; bigint: bigint, counter;
 * timestamp: timestamp (ms since the epoch); text: text, varchar, ascii;
 * uuid: uuid, timeuuid; blob: blob; ...), else EINVAL; ERANGE for i past
 * the statement's markers (or 65535); EINVAL on a batch. Bytes are
 * copied. */
spate_status_t spate_cql_query_bind(spate_cql_query_t *q, int i, const void *p, int32_t len);
/* The bound value of marker i as the raw form above takes it (*p points
 * into q until it is bound again or cleared): a copy made with it and
 * bound back later rebuilds the same request. ERANGE past the markers
 * bound so far or on a batch. */
spate_status_t spate_cql_query_value(const spate_cql_query_t *q, int i, const void **p,
                                     int32_t *len);
/* Markers bound so far (the highest bound index + 1). */
int spate_cql_query_nvalues(const spate_cql_query_t *q);
spate_status_t spate_cql_query_bind_null(spate_cql_query_t *q, int i);
spate_status_t spate_cql_query_bind_int(spate_cql_query_t *q, int i, int32_t v);
spate_status_t spate_cql_query_bind_bigint(spate_cql_query_t *q, int i, int64_t v);
spate_status_t spate_cql_query_bind_timestamp(spate_cql_query_t *q, int i, int64_t ms);
spate_status_t spate_cql_query_bind_bool(spate_cql_query_t *q, int i, bool v);
spate_status_t spate_cql_query_bind_double(spate_cql_query_t *q, int i, double v);
spate_status_t spate_cql_query_bind_float(spate_cql_query_t *q, int i, float v);
spate_status_t spate_cql_query_bind_text(spate_cql_query_t *q, int i, const char *s, size_t n);
spate_status_t spate_cql_query_bind_uuid(spate_cql_query_t *q, int i, const uint8_t u[16]);
spate_status_t spate_cql_query_bind_blob(spate_cql_query_t *q, int i, const void *p, size_t n);

/* Options. page_size <= 0: no paging (the default). The paging state is
 * the opaque bytes of an answer (copied; NULL: first page). timestamp:
 * the client write timestamp in µs (INT64_MIN: the server's, default).
 * timeout_ms <= 0: the client's request timeout. */
void spate_cql_query_set_page_size(spate_cql_query_t *q, int32_t page_size);
void spate_cql_query_set_paging_state(spate_cql_query_t *q, const void *p, size_t n);
void spate_cql_query_set_consistency(spate_cql_query_t *q, spate_cql_consistency_t cl);
void spate_cql_query_set_timestamp(spate_cql_query_t *q, int64_t us);
void spate_cql_query_set_timeout(spate_cql_query_t *q, int timeout_ms);
/* Paging helper: if answer a has more pages, takes its paging state into
 * q and returns true; else clears q's paging state and returns false. */
bool spate_cql_query_next_page(spate_cql_query_t *q, const spate_cql_answer_t *a);

/* ---- prepared statements ---- */

/* Prepares cql (synchronous); the same text prepared twice gives the same
 * handle. SPATE_ERR when the server refused it (reason in
 * spate_cql_client_error). */
spate_status_t spate_cql_client_prepare(spate_cql_client_t *c, const char *cql,
                                        spate_cql_prepared_t **out);
/* Bind markers: count, type of marker i (SPATE_CQL_CUSTOM out of range),
 * its name (the column's, or the :name; "" out of range), and the index
 * of a name (-1: none). Result columns as the server described them. */
int spate_cql_prepared_params(const spate_cql_prepared_t *p);
spate_cql_type_t spate_cql_prepared_param_type(const spate_cql_prepared_t *p, int i);
const char *spate_cql_prepared_param_name(const spate_cql_prepared_t *p, int i);
int spate_cql_prepared_param_index(const spate_cql_prepared_t *p, const char *name);
int spate_cql_prepared_columns(const spate_cql_prepared_t *p);

/* ---- sending ---- */

/* Completion of a submitted query: st SPATE_OK with the answer (which may
 * be an ERROR answer), or SPATE_EIO (connection lost) / SPATE_ETIMEDOUT
 * with a NULL. The callee owns a (spate_cql_answer_free). */
typedef void (*spate_cql_done_fn)(void *ctx, spate_status_t st, spate_cql_answer_t *a);

/* Queues q (see above), reconnecting first if the connection is down.
 * SPATE_OK: done will be called exactly once. Otherwise done is never
 * called: EIO/ETIMEDOUT (no contact point answered), EINVAL (q cannot be
 * sent: an unset value in v3, an empty batch, a value over 2 GiB). */
spate_status_t spate_cql_client_submit(spate_cql_client_t *c, const spate_cql_query_t *q,
                                       spate_cql_done_fn done, void *ctx);
/* Writes pending requests, waits up to timeout_ms (0: only what is ready)
 * for answers and runs their completions (and timeouts). Returns the
 * number of requests still in flight. */
int spate_cql_client_poll(spate_cql_client_t *c, int timeout_ms);
/* Polls until nothing is in flight. */
void spate_cql_client_drain(spate_cql_client_t *c);
int spate_cql_client_in_flight(const spate_cql_client_t *c);

/* Synchronous: SPATE_OK with *out the answer (a RESULT), SPATE_ERR when
 * the server answered an ERROR (*out holds it too), or an I/O status
 * with *out NULL. out may be NULL (the answer is freed). */
spate_status_t spate_cql_client_execute(spate_cql_client_t *c, const spate_cql_query_t *q,
                                        spate_cql_answer_t **out);
/* CQL text without values, no paging. */
spate_status_t spate_cql_client_query(spate_cql_client_t *c, const char *cql,
                                      spate_cql_answer_t **out);
/* USE keyspace (quoted as needed); remembered for reconnects. */
spate_status_t spate_cql_client_use(spate_cql_client_t *c, const char *keyspace);

/* ---- answers ---- */

typedef enum {
    SPATE_CQL_ANSWER_ERROR = 0,
    SPATE_CQL_ANSWER_VOID = 1,
    SPATE_CQL_ANSWER_ROWS = 2,
    SPATE_CQL_ANSWER_SET_KEYSPACE = 3,
    SPATE_CQL_ANSWER_PREPARED = 4,
    SPATE_CQL_ANSWER_SCHEMA_CHANGE = 5,
} spate_cql_answer_kind_t;

void spate_cql_answer_free(spate_cql_answer_t *a); /* NULL-safe */
spate_cql_answer_kind_t spate_cql_answer_kind(const spate_cql_answer_t *a);

/* ERROR answers: the code (0x2200, ...; -1 for other kinds), the message
 * (not NUL-terminated; len in *n), and "InvalidRequest (0x2200): msg". */
int32_t spate_cql_answer_error_code(const spate_cql_answer_t *a);
const char *spate_cql_answer_error_message(const spate_cql_answer_t *a, size_t *n);
void spate_cql_answer_error_text(const spate_cql_answer_t *a, char *out, size_t outlen);
/* The name cqlsh uses for an error code ("InvalidRequest"), or "Error". */
const char *spate_cql_error_code_name(int32_t code);

/* ROWS answers. Strings and cells point into the answer (valid until it is
 * freed) and are not NUL-terminated. Column types are the top-level ids
 * (SPATE_CQL_LIST for list<int>, ...). A cell is NULL with *len -1 when
 * the value is null or (row, col) out of range. */
int spate_cql_answer_columns(const spate_cql_answer_t *a);
const char *spate_cql_answer_column_name(const spate_cql_answer_t *a, int col, size_t *n);
spate_cql_type_t spate_cql_answer_column_type(const spate_cql_answer_t *a, int col);
int spate_cql_answer_column_index(const spate_cql_answer_t *a, const char *name);
int32_t spate_cql_answer_rows(const spate_cql_answer_t *a);
const char *spate_cql_answer_cell(const spate_cql_answer_t *a, int32_t row, int col, int32_t *len);
/* Typed reads of a cell: SPATE_OK, SPATE_ENOENT for null, SPATE_EINVAL when
 * the column's type or the value's size does not fit, SPATE_ERANGE for a
 * (row, col) out of range. */
spate_status_t spate_cql_answer_get_int(const spate_cql_answer_t *a, int32_t row, int col,
                                        int32_t *v);
spate_status_t spate_cql_answer_get_bigint(const spate_cql_answer_t *a, int32_t row, int col,
                                           int64_t *v); /* bigint, counter, timestamp (ms) */
spate_status_t spate_cql_answer_get_bool(const spate_cql_answer_t *a, int32_t row, int col,
                                         bool *v);
spate_status_t spate_cql_answer_get_double(const spate_cql_answer_t *a, int32_t row, int col,
                                           double *v);
spate_status_t spate_cql_answer_get_uuid(const spate_cql_answer_t *a, int32_t row, int col,
                                         uint8_t u[16]);
spate_status_t spate_cql_answer_get_text(const spate_cql_answer_t *a, int32_t row, int col,
                                         const char **p, size_t *n); /* text, ascii, blob */
/* Appends the cell as cqlsh prints it ("null" for null). */
spate_status_t spate_cql_answer_cell_text(const spate_cql_answer_t *a, int32_t row, int col,
                                          spate_buf_t *out);
/* Paging: whether the server has more pages, and the opaque state that
 * asks for the next one (NULL when none). */
bool spate_cql_answer_has_more(const spate_cql_answer_t *a);
const void *spate_cql_answer_paging_state(const spate_cql_answer_t *a, size_t *n);
/* The keyspace a SET_KEYSPACE or SCHEMA_CHANGE answer names (not
 * NUL-terminated); NULL for other kinds. */
const char *spate_cql_answer_keyspace(const spate_cql_answer_t *a, size_t *n);
/* Server warnings carried by any answer. */
int spate_cql_answer_warnings(const spate_cql_answer_t *a);
const char *spate_cql_answer_warning(const spate_cql_answer_t *a, int i, size_t *n);

#endif /* SPATE_CQL_H */
