/*
 * cql_schema.h — private to src/cql: the schema catalog of `spate cql`.
 *
 * What exists: keyspaces, their tables, the tables' columns, and a
 * schema_version UUID that changes with every schema change. The server
 * answers DDL with it (cql_schema.c), system_schema.* is generated from it
 * (cql_system.c), and the executor resolves tables and columns in it.
 *
 *   catalog ─┬─ keyspace (sorted by name)
 *            │    name, replication {class: full Java name, ...},
 *            │    durable_writes, system?
 *            │    └─ table (sorted by name)
 *            │         name, id (u32, storage prefix), uuid, options,
 *            │         columns in SELECT * order:
 *            │           partition key (by position), clustering (by
 *            │           position), static then regular (each by name)
 *            └─ schema_version, next_table_id
 *
 * Column and table identity: a table's `id` (u32) and each column's `id`
 * (u16) are the storage engine's names for them (cql_key.h); they are
 * never reused, so a column dropped and re-added, or a table dropped and
 * re-created, never sees the old data. Names are what users see; RENAME of
 * a key column changes only the name.
 *
 * Persistence: <data_dir>/schema.cql holds the DDL text of every user
 * keyspace and table, rewritten atomically (write a temp file, fsync,
 * rename, fsync the folder) after each change and parsed back at start by
 * the CQL parser:
 *
 *   -- spate cql schema ...
 *   -- next_table_id: 3
 *   CREATE KEYSPACE "ks" WITH replication = {...} AND durable_writes = true;
 *   CREATE TABLE "ks"."t" (
 *       "id" uuid,
 *       "v" text,
 *       PRIMARY KEY (("id"))
 *   ) WITH id = 5bc52802-... AND spate_table_id = 1
 *     AND spate_column_ids = {'id': '0', 'v': '1'} AND spate_next_column_id = 2
 *     AND comment = '...';
 *
 * The spate_* properties carry the storage ids; they are accepted only
 * from this file (a client using them gets Cassandra's "Unknown property"
 * error). Identifiers are always double-quoted so any name reads back.
 *
 * System keyspaces (system, system_schema, system_auth,
 * system_distributed, system_traces) are defined in code (cql_system.c)
 * with the same table structures, flagged `system`: never persisted,
 * never altered (Unauthorized "<ks> keyspace is not user-modifiable.").
 *
 * Lifetime: keyspace, table and column pointers stay valid until the next
 * DDL (everything runs on the server's one thread).
 */
#ifndef SPATE_CQL_SCHEMA_H
#define SPATE_CQL_SCHEMA_H

#include "cql_codec.h"
#include "cql_parse.h"

typedef enum {
    CQL_KIND_PARTITION_KEY,
    CQL_KIND_CLUSTERING,
    CQL_KIND_STATIC,
    CQL_KIND_REGULAR,
} cql_col_kind_t;

/* "partition_key", "clustering", "static", "regular" (system_schema.columns.kind) */
const char *cql_col_kind_name(cql_col_kind_t k);

typedef struct {
    char *name;
    /* The type as system_schema.columns.type spells it ("text",
     * "map<text, int>", "frozen<list<int>>", "frozen<tuple<int, text>>"). */
    char *type_text;
    /* The wire type. A duration is the custom type
     * org.apache.cassandra.db.marshal.DurationType, as protocol v4 carries it. */
    spate_cql_datatype_t type;
    cql_col_kind_t kind;
    int32_t position; /* within the partition key / clustering; -1 otherwise */
    bool desc;        /* clustering order */
    uint16_t id;
} cql_column_t;

/* A table or keyspace property: a scalar (text, quoted: written as a
 * string literal) or a map of strings (text NULL). */
typedef struct {
    char *name;
    char *text;
    bool quoted;
    uint32_t n;
    char **keys, **vals;
} cql_option_t;

typedef struct cql_keyspace cql_keyspace_t;
typedef struct cql_systable cql_systable_t; /* cql_system.c: a system table's rows */

typedef struct {
    cql_keyspace_t *ks;
    char *name;
    uint32_t id;
    uint8_t uuid[16];
    cql_column_t *cols;
    uint32_t ncols, npk, nck;
    uint16_t next_col_id;
    bool counter;       /* its non-key columns are counters */
    cql_option_t *opts; /* as given (WITH ...), in order; defaults are not stored */
    uint32_t nopts;
    const cql_systable_t *sys; /* system tables: where rows come from; NULL for user tables */
} cql_table_t;

struct cql_keyspace {
    char *name;
    bool system;
    bool durable_writes;
    cql_option_t replication; /* a map; 'class' holds the full Java class name */
    cql_table_t **tables;
    uint32_t ntables;
};

typedef struct {
    cql_keyspace_t **ks;
    uint32_t nks;
    uint8_t version[16];
    uint32_t next_table_id;
    char *data_dir;
    char *path; /* data_dir/schema.cql */
    bool fsync;
} cql_schema_t;

/* The names of the system keyspaces, NULL-terminated. */
extern const char *const cql_system_keyspaces[];
bool cql_is_system_keyspace(const char *name);

/* Builds the catalog: system keyspaces (cql_system_define), then
 * data_dir/schema.cql if it exists (data_dir must exist). On failure err
 * says what, as "PATH:LINE: message" for a bad schema file. The caller
 * frees with cql_schema_free (NULL-safe). */
spate_status_t cql_schema_open(cql_schema_t **out, const char *data_dir, bool fsync, char *err,
                               size_t errlen);
void cql_schema_free(cql_schema_t *s);
/* Drops every user keyspace in memory, without touching the file (the
 * fuzz target starts each input from the system catalog). */
void cql_schema_clear_user(cql_schema_t *s);

cql_keyspace_t *cql_schema_keyspace(const cql_schema_t *s, const char *name);
cql_table_t *cql_schema_table(const cql_schema_t *s, const char *ks, const char *name);
const cql_column_t *cql_table_column(const cql_table_t *t, const char *name);
/* A table option by name, or NULL when the table uses the default. */
const cql_option_t *cql_table_option(const cql_table_t *t, const char *name);

/* The answer to a DDL statement (or to a statement the catalog refused). */
typedef struct {
    int32_t code;  /* 0 = done; else an ERROR code (SPATE_CQL_ERR_*) */
    char msg[512]; /* the ERROR message */
    char ks[256], name[256];
    /* code 0: whether anything changed (IF [NOT] EXISTS may make a
     * statement a no-op: answer Void, push no event); the change: */
    bool changed;
    const char *change_type;   /* "CREATED", "UPDATED", "DROPPED" */
    const char *target;        /* "KEYSPACE", "TABLE" */
    uint32_t dropped_table_id; /* DROP TABLE: the id whose data may go (0 otherwise) */
} cql_ddl_result_t;

/* Runs a DDL statement (CREATE/ALTER/DROP KEYSPACE/TABLE) against the
 * catalog; session_ks (may be NULL) names unqualified tables. Every
 * Cassandra-visible refusal is an OK return with res->code set. A change
 * is written to schema.cql before it is made visible; if that write fails
 * the catalog is left as it was and SPATE_EIO is returned (res->msg says
 * why). SPATE_ENOMEM on allocation failure. */
spate_status_t cql_schema_execute(cql_schema_t *s, const spate_cql_stmt_t *st,
                                  const char *session_ks, cql_ddl_result_t *res);

/* Formats a keyspace or table as the DDL schema.cql holds (used for the
 * file; also handy for DESCRIBE later). Appends to b. */
spate_status_t cql_schema_keyspace_ddl(const cql_keyspace_t *k, spate_buf_t *b);
spate_status_t cql_schema_table_ddl(const cql_table_t *t, bool with_ids, spate_buf_t *b);

/* Converts a parsed type to its system_schema text (appended to text) and
 * its wire tree (*out, freed with spate_cql_datatype_free). Refusals
 * (UDTs, custom types, non-frozen nested collections, frozen<int>, depth
 * over SPATE_CQL_MAX_TYPE_DEPTH) are EINVAL with Cassandra's message in
 * err. */
spate_status_t cql_type_from_ref(const spate_cql_typeref_t *r, spate_buf_t *text,
                                 spate_cql_datatype_t *out, char *err, size_t errlen);
/* A deep copy of a type tree (names are borrowed, as in the original). */
spate_status_t cql_type_copy(spate_cql_datatype_t *dst, const spate_cql_datatype_t *src);

/* Used by cql_system.c to build the system keyspaces: adds a keyspace /
 * parses a CREATE TABLE as a system table. */
cql_keyspace_t *cql_schema_add_system_keyspace(cql_schema_t *s, const char *name,
                                               const char *const *replication);
spate_status_t cql_schema_add_system_table(cql_schema_t *s, const char *ddl,
                                           const cql_systable_t *sys, char *err, size_t errlen);

#endif /* SPATE_CQL_SCHEMA_H */
