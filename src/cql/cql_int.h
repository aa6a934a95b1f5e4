/*
 * cql_int.h — private to src/cql: the `spate cql` server's state, its
 * connections, and what the request path, the system tables and the
 * statement executor share.
 *
 * Request flow (one event loop thread, as the Kafka broker):
 *
 *   socket ─▶ conn.in ─▶ 9-byte header (version check, size limit)
 *        ─▶ request body (spate_cql_request_decode) ─▶ opcode table
 *             STARTUP OPTIONS REGISTER     answered in cql_server.c
 *             QUERY PREPARE EXECUTE BATCH  parsed (cql_parse.h), then by class:
 *               USE                        Set_keyspace
 *               DDL                        cql_schema_execute ─▶ Schema_change
 *                                          + EVENT to SCHEMA_CHANGE subscribers
 *               SELECT on a system table   cql_system_select (cql_system.c)
 *               other DML                  cql_exec_dml (cql_exec.c: the
 *                                          integration point of the store)
 *        ─▶ one response frame appended to conn.out, in request order
 *
 * Every handler writes exactly one response frame through a cql_reply_t;
 * a refusal is an ERROR frame (a normal result). Pointers into the request
 * (values, names) live until the handler returns.
 */
#ifndef SPATE_CQL_INT_H
#define SPATE_CQL_INT_H

#include "cql.h"
#include "cql_codec.h"
#include "cql_parse.h"
#include "cql_schema.h"
#include "cql_store.h"

/* What the server says it is (system.local, SUPPORTED). release_version
 * picks the drivers' schema parser: 3.x reads system_schema.* and no
 * virtual tables. */
#define CQL_RELEASE_VERSION "3.11.16"
#define CQL_CQL_VERSION "3.4.5"
#define CQL_PARTITIONER "org.apache.cassandra.dht.Murmur3Partitioner"
#define CQL_DATA_CENTER "datacenter1"
#define CQL_RACK "rack1"
/* The single token this node owns (the whole ring). */
#define CQL_TOKEN "-9223372036854775808"

typedef struct cql_conn cql_conn_t;
typedef struct cql_prepared cql_prepared_t;

/* ---- connections ----
 *
 * State machine (cql_server.c, conn_frame is the one place that moves it):
 *
 *            OPTIONS: SUPPORTED            any request: answered
 *              ┌────┐                      ┌────┐
 *              ▼    │      STARTUP         ▼    │
 *   accept ─▶ NEW ──┴──────────────────▶ READY ─┘
 *              │ STARTUP, with users         ▲
 *              └─────────▶ AUTH ─────────────┘ AUTH_RESPONSE (SASL PLAIN)
 *                 AUTHENTICATE   │ ▲            accepted: AUTH_SUCCESS
 *                                └─┘ refused: Bad credentials (0x0100)
 *              │  other: Protocol error     │  STARTUP again: Protocol error
 *              │  "Unexpected message X,    │
 *              │   expecting STARTUP or     │
 *              │   OPTIONS"                 │
 *              ▼                            ▼
 *   bad version byte, oversized frame ─▶ CLOSING: the ERROR frame is
 *                                        flushed, then the socket closed
 *
 * The first frame fixes the connection's protocol version (3 or 4); a
 * later frame with another version is refused with a Protocol error. */
typedef enum {
    CQL_CONN_NEW,
    CQL_CONN_AUTH, /* STARTUP answered AUTHENTICATE: only AUTH_RESPONSE (or OPTIONS) now */
    CQL_CONN_READY,
} cql_conn_state_t;

enum {
    CQL_EVENT_TOPOLOGY = 1,
    CQL_EVENT_STATUS = 2,
    CQL_EVENT_SCHEMA = 4,
};

struct cql_conn {
    spate_cql_server_t *srv;
    int fd;
    char peer[64];
    cql_conn_state_t state;
    uint8_t version; /* 0 until the first frame */
    unsigned events; /* CQL_EVENT_* from REGISTER */
    char *keyspace;  /* USE; malloc'd, NULL until then */
    char user[128];  /* the logged-in user ("" without authentication) */
    spate_buf_t in, out;
    size_t in_off, out_off;
    /* out[0, out_ok) may be sent; in BATCH mode, out[out_ok, out_sync)
     * waits for the fsync in flight, and what follows for a later one */
    size_t out_ok, out_sync;
    bool closing; /* close once out is flushed; read nothing more */
    cql_conn_t *prev, *next;
};

/* ---- prepared statements ----
 *
 * Keyed by MD5(keyspace + query) as Cassandra does, so the same text
 * prepared twice (by any connection) gets the same id. The parsed
 * statement is kept; the oldest entries are dropped beyond
 * conf.max_prepared (EXECUTE then answers Unprepared and drivers
 * re-prepare). */
struct cql_prepared {
    uint8_t id[16];
    char *keyspace; /* session keyspace at PREPARE time (malloc'd) or NULL */
    spate_cql_arena_t *arena;
    spate_cql_stmt_t *stmt;  /* in arena */
    spate_cql_bind_t *binds; /* stmt->nbind entries, in arena */
    cql_prepared_t *hnext;   /* hash chain */
    cql_prepared_t *older, *newer;
};

struct spate_cql_server {
    spate_cql_conf_t conf;
    spate_loop_t *loop;
    int listen_fd;
    spate_net_acceptor_t acceptor; /* listen_fd on the loop */
    int port;
    spate_cql_inet_t addr; /* the bound address (system.local rpc_address, ...) */
    cql_schema_t *schema;
    cql_conn_t *conns;
    uint8_t host_id[16]; /* stable per data directory */
    int32_t gossip_generation;
    cql_prepared_t **prep_tab;
    size_t prep_mask; /* buckets - 1 */
    size_t nprep;
    cql_prepared_t *prep_oldest, *prep_newest;
    /* The data (cql_store.h), in <data_dir>/data. Responses written
     * while a write is not yet in the OS (or, in BATCH commit-log mode,
     * not yet fsynced) are held (conn.out_ok) until the before-sleep hook
     * has written the turn, and in BATCH mode until the syncer thread's
     * fsync that covers them (cql_server.c, "Commit log sync"). */
    spate_cql_store_t *store;
    spate_timer_t *sync_timer; /* PERIODIC: the next due fsync; a retry */
    struct cql_syncer *syncer; /* BATCH: the fsync thread; NULL otherwise */
    void *exec_cache;          /* owned by cql_exec.c */
};

/* ---- responses ---- */

/* The response being written for one request. */
typedef struct {
    spate_cql_server_t *srv;
    cql_conn_t *conn;
    spate_buf_t *out;
    uint8_t version;
    int16_t stream;
} cql_reply_t;

/* ERROR with code and a formatted message (cut at 65535 bytes and to
 * valid UTF-8). Extras for ALREADY_EXISTS / UNPREPARED go through
 * cql_reply_error_full. */
void cql_reply_error(cql_reply_t *rp, int32_t code, const char *fmt, ...) SPATE_PRINTF(3, 4);
void cql_reply_error_full(cql_reply_t *rp, const spate_cql_error_t *e);
void cql_reply_void(cql_reply_t *rp);
/* Void with warnings (the WARNING flag; v4 only: dropped for v3). */
void cql_reply_void_warn(cql_reply_t *rp, const spate_slice_t *warnings, uint16_t n);
/* A frame written piecewise (Rows): begin opens it; end closes it, or, if
 * st is not OK (the writer ran out of memory), drops what was written and
 * answers a Server error instead. */
spate_status_t cql_reply_begin(cql_reply_t *rp, uint8_t opcode, size_t *mark);
void cql_reply_end(cql_reply_t *rp, size_t mark, spate_status_t st);

/* ---- statements after parsing ---- */

/* One statement with its table resolved and its values in marker order. */
typedef struct {
    const spate_cql_stmt_t *stmt;
    const cql_table_t *table;    /* the table it names */
    const spate_slice_t *values; /* stmt->nbind [value]s (len SPATE_CQL_NULL/UNSET) */
} cql_bound_t;

/* A DML request: one statement (QUERY/EXECUTE) or a batch (BATCH message
 * or BEGIN BATCH text), with the query parameters that apply. */
typedef struct {
    cql_bound_t *stmts;
    uint32_t n;
    int batch_type;                       /* -1: not a batch; else SPATE_CQL_BATCH_* */
    const spate_cql_using_t *batch_using; /* BEGIN BATCH's own USING, else NULL */
    uint16_t consistency;
    uint16_t serial_consistency;
    int64_t timestamp;          /* client timestamp in µs, INT64_MIN: none */
    int32_t page_size;          /* <= 0: no paging */
    spate_slice_t paging_state; /* p NULL: first page */
    bool skip_metadata;         /* EXECUTE's SKIP_METADATA: Rows without column specs */
    spate_cql_arena_t *arena;   /* scratch for this request */
} cql_dml_t;

/* THE INTEGRATION POINT for the store (cql_exec.c): INSERT, UPDATE,
 * DELETE, TRUNCATE and SELECT on user tables, and batches. Writes exactly
 * one response through rp. */
void cql_exec_dml(cql_reply_t *rp, const cql_dml_t *d);
/* Called after a DROP TABLE / DROP KEYSPACE made a table's data
 * unreachable (its id is never reused): the store may delete it. */
void cql_exec_table_dropped(spate_cql_server_t *srv, uint32_t table_id);

/* ---- selections (cql_system.c; shared with the executor) ---- */

typedef enum {
    CQL_SEL_COLUMN,
    CQL_SEL_COUNT,     /* COUNT(*) / COUNT(1): bigint */
    CQL_SEL_WRITETIME, /* bigint */
    CQL_SEL_TTL,       /* int */
} cql_sel_kind_t;

typedef struct {
    cql_sel_kind_t kind;
    const cql_column_t *col; /* COLUMN, WRITETIME, TTL */
    uint32_t col_index;      /* its index in table->cols */
    const char *name;        /* the result column's name */
    const spate_cql_datatype_t *type;
} cql_selcol_t;

typedef struct {
    cql_selcol_t *cols; /* in the arena */
    uint32_t n;
    bool aggregate; /* a COUNT is selected: one result row */
} cql_selection_t;

/* Resolves a SELECT's selectors against t (SELECT * gives every column in
 * table order). 0 on success; otherwise an ERROR code with the message in
 * msg ("Undefined column name x", "... is not supported yet ..."). */
int32_t cql_select_resolve(spate_cql_arena_t *a, const cql_table_t *t,
                           const spate_cql_stmt_select_t *s, cql_selection_t *out, char *msg,
                           size_t msglen);
/* Rows metadata of a selection (global table spec), column specs in the
 * arena. SPATE_ENOMEM on failure. */
spate_status_t cql_select_metadata(spate_cql_arena_t *a, const cql_table_t *t,
                                   const cql_selection_t *sel, spate_cql_metadata_t *md);

/* The bytes a term gives a column of type col->type: a constant checked
 * as Cassandra does ("Invalid STRING constant (x) for \"c\" of type int")
 * and serialized (copied into the arena), or a bind marker's value
 * (values[index], validated; null and unset are refused as in a WHERE
 * clause). 0, or an ERROR code with the message in msg. */
int32_t cql_term_value(spate_cql_arena_t *a, const cql_column_t *col, const spate_cql_term_t *term,
                       const spate_slice_t *values, uint32_t nvalues, spate_slice_t *out, char *msg,
                       size_t msglen);

/* ---- system tables (cql_system.c) ---- */

/* Adds the system keyspaces and their tables to a new catalog. */
spate_status_t cql_system_define(cql_schema_t *s, char *err, size_t errlen);
/* Answers a SELECT on a system table: d->n == 1, the statement a SELECT
 * whose table has ->sys. */
void cql_system_select(cql_reply_t *rp, const cql_dml_t *d);

/* ---- the request path, driven without sockets by the fuzz target ---- */

/* Adopts fd (non-blocking) as a connection; NULL if it cannot be watched. */
cql_conn_t *cql_conn_open(spate_cql_server_t *srv, int fd, const char *peer);
/* Appends bytes as if read from the socket, handles every complete frame
 * and ends the loop turn (WAL write, held responses sent); false when the
 * connection was closed (and freed). */
bool cql_conn_input(cql_conn_t *c, const void *p, size_t n);
void cql_conn_close(cql_conn_t *c);
/* Forgets every prepared statement and user keyspace (in memory only). */
void cql_server_reset(spate_cql_server_t *srv);

#endif /* SPATE_CQL_INT_H */
