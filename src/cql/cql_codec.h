/*
 * cql_codec.h — private to src/cql: the CQL native protocol v4 codec, both
 * directions (the `spate cql` server decodes requests and encodes
 * responses; spate's own CQL client does the reverse), and typed values.
 *
 *   cql_frame.c   frame header, [notation] readers and writers, request
 *                 and response bodies, the streaming Rows writer
 *   cql_value.c   the serialized form of values: validate, to_text,
 *                 from_text, and encoders for C values and collections
 *
 * Frame (spec §1-2; all integers big-endian):
 *
 *   off size field
 *   0   1    version   bit 7 = direction (0 request, 1 response), low 7 bits
 *                      = protocol version (4; the parser takes any, so the
 *                      server can answer 0x42/0x41/5 with a protocol error)
 *   1   1    flags     0x01 compression, 0x02 tracing, 0x04 custom payload,
 *                      0x08 warning
 *   2   2    stream    int16; EVENTs pushed by the server use -1
 *   4   1    opcode    spate_cql_opcode_t
 *   5   4    length    int32 body length (negative, or above the caller's
 *                      max_body, is EINVAL)
 *   9   ...  body      response bodies start with, when the flags say so and
 *                      in this order: tracing id [uuid], warnings [string
 *                      list], custom payload [bytes map]; request bodies with
 *                      a custom payload [bytes map]; then the message
 *
 * Notation (spec §3) and how it decodes here:
 *
 *   [int] [long]            int32_t / int64_t
 *   [short] [byte]          uint16_t / uint8_t
 *   [string]                [short] n + n bytes      → spate_slice_t
 *   [long string]           [int] n >= 0 + n bytes   → spate_slice_t
 *   [bytes]                 [int] n + n bytes        → spate_slice_t, n < 0 is
 *                                                      null (p NULL, len -1)
 *   [value]                 [int] n: -1 null, -2 unset, < -2 EINVAL
 *                                                    → spate_slice_t, len
 *                                                      SPATE_CQL_NULL/UNSET
 *   [short bytes]           [short] n + n bytes      → spate_slice_t
 *   [uuid]                  16 bytes                 → uint8_t[16]
 *   [string list]           [short] n + n [string]   → spate_cql_strlist_t
 *   [string map]            [short] n + n (k,v)      → spate_cql_strmap_t
 *   [bytes map]             [short] n + n (k,[bytes])→ spate_cql_strmap_t
 *   [string multimap]       [short] n + n (k,[string list])
 *                                                    → spate_cql_multimap_t
 *   [option]                [short] id + value       → spate_cql_datatype_t
 *   [inet]                  [byte] 4|16 + addr + [int] port → spate_cql_inet_t
 *   [consistency]           [short] 0..10            → uint16_t
 *
 * Zero copy: every decoded string, bytes value and id is a (pointer,
 * length) slice into the input, valid as long as the input is. Arrays
 * (lists, maps, values, column specs, cells, type-tree children) are
 * malloc'd; a decoded request or response is released by exactly one call
 * (spate_cql_request_free / spate_cql_response_free), a standalone notation
 * read by the matching *_free. Structs the caller builds for encoding are
 * never freed by the codec.
 *
 * Return values: cursor readers (spate_cql_rd_*) follow spate_rd_*: AGAIN
 * when the input is short, EINVAL when it can never be valid, and on any
 * failure the cursor has not moved and nothing is left allocated. Body
 * decoders (spate_cql_request_decode / spate_cql_response_decode) are
 * given the whole body, so a truncated body is EINVAL there. Trailing
 * bytes after a message are ignored, as spec §1 asks of clients and as
 * Cassandra does for requests. Writers fail only with ENOMEM, or ERANGE /
 * EINVAL for something the wire cannot carry (a [string] over 65535 bytes,
 * flags that disagree with the fields).
 */
#ifndef SPATE_CQL_CODEC_H
#define SPATE_CQL_CODEC_H

#include "cql.h"

/* ------------------------------------------------------------------ */
/* Constants                                                           */
/* ------------------------------------------------------------------ */

#define SPATE_CQL_HEADER_LEN 9
#define SPATE_CQL_VERSION 4             /* what this codec speaks */
#define SPATE_CQL_MAX_BODY (256u << 20) /* the spec's frame limit */
#define SPATE_CQL_MAX_TYPE_DEPTH 16     /* nesting of [option] type trees */

/* Frame header flags. */
enum {
    SPATE_CQL_FLAG_COMPRESSION = 0x01,
    SPATE_CQL_FLAG_TRACING = 0x02,
    SPATE_CQL_FLAG_CUSTOM_PAYLOAD = 0x04,
    SPATE_CQL_FLAG_WARNING = 0x08,
};

typedef enum {
    SPATE_CQL_OP_ERROR = 0x00,
    SPATE_CQL_OP_STARTUP = 0x01,
    SPATE_CQL_OP_READY = 0x02,
    SPATE_CQL_OP_AUTHENTICATE = 0x03,
    SPATE_CQL_OP_OPTIONS = 0x05,
    SPATE_CQL_OP_SUPPORTED = 0x06,
    SPATE_CQL_OP_QUERY = 0x07,
    SPATE_CQL_OP_RESULT = 0x08,
    SPATE_CQL_OP_PREPARE = 0x09,
    SPATE_CQL_OP_EXECUTE = 0x0A,
    SPATE_CQL_OP_REGISTER = 0x0B,
    SPATE_CQL_OP_EVENT = 0x0C,
    SPATE_CQL_OP_BATCH = 0x0D,
    SPATE_CQL_OP_AUTH_CHALLENGE = 0x0E,
    SPATE_CQL_OP_AUTH_RESPONSE = 0x0F,
    SPATE_CQL_OP_AUTH_SUCCESS = 0x10,
} spate_cql_opcode_t;

/* [consistency] */
enum {
    SPATE_CQL_CL_ANY = 0x0000,
    SPATE_CQL_CL_ONE = 0x0001,
    SPATE_CQL_CL_TWO = 0x0002,
    SPATE_CQL_CL_THREE = 0x0003,
    SPATE_CQL_CL_QUORUM = 0x0004,
    SPATE_CQL_CL_ALL = 0x0005,
    SPATE_CQL_CL_LOCAL_QUORUM = 0x0006,
    SPATE_CQL_CL_EACH_QUORUM = 0x0007,
    SPATE_CQL_CL_SERIAL = 0x0008,
    SPATE_CQL_CL_LOCAL_SERIAL = 0x0009,
    SPATE_CQL_CL_LOCAL_ONE = 0x000A,
};

/* <flags> of QUERY and EXECUTE <query_parameters>; BATCH allows only
 * SERIAL_CONSISTENCY, DEFAULT_TIMESTAMP and NAMES_FOR_VALUES. */
enum {
    SPATE_CQL_QF_VALUES = 0x01,
    SPATE_CQL_QF_SKIP_METADATA = 0x02,
    SPATE_CQL_QF_PAGE_SIZE = 0x04,
    SPATE_CQL_QF_PAGING_STATE = 0x08,
    SPATE_CQL_QF_SERIAL_CONSISTENCY = 0x10,
    SPATE_CQL_QF_DEFAULT_TIMESTAMP = 0x20,
    SPATE_CQL_QF_NAMES_FOR_VALUES = 0x40,
};

enum { SPATE_CQL_BATCH_LOGGED = 0, SPATE_CQL_BATCH_UNLOGGED = 1, SPATE_CQL_BATCH_COUNTER = 2 };

/* RESULT <kind> */
enum {
    SPATE_CQL_RESULT_VOID = 0x0001,
    SPATE_CQL_RESULT_ROWS = 0x0002,
    SPATE_CQL_RESULT_SET_KEYSPACE = 0x0003,
    SPATE_CQL_RESULT_PREPARED = 0x0004,
    SPATE_CQL_RESULT_SCHEMA_CHANGE = 0x0005,
};

/* Rows <metadata> flags (Prepared bind metadata allows only GLOBAL). */
enum {
    SPATE_CQL_MD_GLOBAL_TABLES_SPEC = 0x0001,
    SPATE_CQL_MD_HAS_MORE_PAGES = 0x0002,
    SPATE_CQL_MD_NO_METADATA = 0x0004,
};

/* ERROR codes (spec §9). */
enum {
    SPATE_CQL_ERR_SERVER = 0x0000,
    SPATE_CQL_ERR_PROTOCOL = 0x000A,
    SPATE_CQL_ERR_BAD_CREDENTIALS = 0x0100,
    SPATE_CQL_ERR_UNAVAILABLE = 0x1000,
    SPATE_CQL_ERR_OVERLOADED = 0x1001,
    SPATE_CQL_ERR_IS_BOOTSTRAPPING = 0x1002,
    SPATE_CQL_ERR_TRUNCATE = 0x1003,
    SPATE_CQL_ERR_WRITE_TIMEOUT = 0x1100,
    SPATE_CQL_ERR_READ_TIMEOUT = 0x1200,
    SPATE_CQL_ERR_READ_FAILURE = 0x1300,
    SPATE_CQL_ERR_FUNCTION_FAILURE = 0x1400,
    SPATE_CQL_ERR_WRITE_FAILURE = 0x1500,
    SPATE_CQL_ERR_SYNTAX = 0x2000,
    SPATE_CQL_ERR_UNAUTHORIZED = 0x2100,
    SPATE_CQL_ERR_INVALID = 0x2200,
    SPATE_CQL_ERR_CONFIG = 0x2300,
    SPATE_CQL_ERR_ALREADY_EXISTS = 0x2400,
    SPATE_CQL_ERR_UNPREPARED = 0x2500,
};

/* [value] lengths that carry no bytes. */
#define SPATE_CQL_NULL (-1)
#define SPATE_CQL_UNSET (-2)

/* "QUERY", "RESULT", ...; NULL for an id the protocol does not define. */
const char *spate_cql_opcode_name(int opcode);
/* "LOCAL_ONE", ...; NULL above 0x000A. */
const char *spate_cql_consistency_name(int cl);

/* ------------------------------------------------------------------ */
/* Frame header                                                        */
/* ------------------------------------------------------------------ */

typedef struct {
    uint8_t version; /* low 7 bits of byte 0 */
    bool response;   /* bit 7 of byte 0 */
    uint8_t flags;
    int16_t stream;
    uint8_t opcode;
    uint32_t length; /* body bytes after the 9-byte header */
} spate_cql_header_t;

/* Parses the 9-byte header at buf (pure: no check of version or opcode,
 * which the caller answers with an ERROR frame). AGAIN if len < 9; EINVAL
 * if the length is negative or greater than max_body. The whole frame is
 * SPATE_CQL_HEADER_LEN + h->length bytes. */
spate_status_t spate_cql_header_parse(const void *buf, size_t len, size_t max_body,
                                      spate_cql_header_t *h);

/* Appends a header for h (its length ignored: a placeholder) and returns
 * the frame's start offset in *mark. The body is then appended to b, and
 * spate_cql_frame_end(b, mark) patches the length (ERANGE above INT32_MAX). */
spate_status_t spate_cql_frame_begin(spate_buf_t *b, const spate_cql_header_t *h, size_t *mark);
spate_status_t spate_cql_frame_end(spate_buf_t *b, size_t mark);

/* ------------------------------------------------------------------ */
/* Notation: containers and the type tree                              */
/* ------------------------------------------------------------------ */

typedef struct {
    uint16_t n;
    spate_slice_t *v;
} spate_cql_strlist_t;

typedef struct {
    spate_slice_t key;
    spate_slice_t value; /* in a [bytes map] may be null */
} spate_cql_pair_t;

/* [string map] and [bytes map] */
typedef struct {
    uint16_t n;
    spate_cql_pair_t *e;
} spate_cql_strmap_t;

typedef struct {
    spate_slice_t key;
    uint16_t n;
    spate_slice_t *values; /* points into the multimap's one value array */
} spate_cql_mmentry_t;

typedef struct {
    uint16_t n;
    spate_cql_mmentry_t *e;
    spate_slice_t *all; /* private: the values of every entry, one allocation */
} spate_cql_multimap_t;

typedef struct {
    uint8_t len; /* 4 or 16 */
    uint8_t addr[16];
    int32_t port;
} spate_cql_inet_t;

/* A type as [option] carries it: an id plus, for the parameterised ids,
 * children. The node itself is the caller's (on the stack, in an array);
 * its children and arrays are malloc'd and released by
 * spate_cql_datatype_free. Names are borrowed slices (from the decoded
 * input, or from whatever the builder pointed them at).
 *
 *   id                 n  sub[]                 other fields
 *   LIST / SET         1  element               -
 *   MAP                2  key, value            -
 *   TUPLE              n  components            -
 *   UDT                n  field types           keyspace, name, fields[n]
 *   CUSTOM             0  -                     name = Java class name
 *   everything else    0  -                     -
 */
typedef struct spate_cql_datatype spate_cql_datatype_t;
struct spate_cql_datatype {
    spate_cql_type_t id;
    uint16_t n;
    spate_cql_datatype_t *sub;
    spate_slice_t *fields;
    spate_slice_t keyspace;
    spate_slice_t name;
};

/* Sets t to id with n zeroed children (and n field names for a UDT) for
 * the caller to fill. ENOMEM on allocation failure (t then has no
 * children). Free with spate_cql_datatype_free. */
spate_status_t spate_cql_datatype_make(spate_cql_datatype_t *t, spate_cql_type_t id, uint16_t n);
/* Releases t's children and arrays recursively (not t itself, not the
 * strings); t is left as an empty node. NULL-safe. */
void spate_cql_datatype_free(spate_cql_datatype_t *t);

void spate_cql_strlist_free(spate_cql_strlist_t *l);
void spate_cql_strmap_free(spate_cql_strmap_t *m);
void spate_cql_multimap_free(spate_cql_multimap_t *m);

/* Value of key in a [string map] (exact, case-sensitive, first match);
 * false if absent. */
bool spate_cql_strmap_get(const spate_cql_strmap_t *m, const char *key, spate_slice_t *out);
/* Entry of key in a [string multimap], or NULL. */
const spate_cql_mmentry_t *spate_cql_multimap_get(const spate_cql_multimap_t *m, const char *key);

/* ------------------------------------------------------------------ */
/* Notation readers (bounds-checked cursors) and writers               */
/* ------------------------------------------------------------------ */

spate_status_t spate_cql_rd_int(spate_rd_t *r, int32_t *v);
spate_status_t spate_cql_rd_long(spate_rd_t *r, int64_t *v);
spate_status_t spate_cql_rd_short(spate_rd_t *r, uint16_t *v);
spate_status_t spate_cql_rd_byte(spate_rd_t *r, uint8_t *v);
spate_status_t spate_cql_rd_string(spate_rd_t *r, spate_slice_t *s);
spate_status_t spate_cql_rd_long_string(spate_rd_t *r, spate_slice_t *s);
spate_status_t spate_cql_rd_uuid(spate_rd_t *r, uint8_t u[16]);
spate_status_t spate_cql_rd_bytes(spate_rd_t *r, spate_slice_t *s);
spate_status_t spate_cql_rd_value(spate_rd_t *r, spate_slice_t *s);
spate_status_t spate_cql_rd_short_bytes(spate_rd_t *r, spate_slice_t *s);
spate_status_t spate_cql_rd_inet(spate_rd_t *r, spate_cql_inet_t *a);
/* EINVAL for a level the protocol does not define (> LOCAL_ONE). */
spate_status_t spate_cql_rd_consistency(spate_rd_t *r, uint16_t *cl);
/* The allocating readers: on OK the caller frees *out with the matching
 * *_free; on failure nothing is allocated. */
spate_status_t spate_cql_rd_string_list(spate_rd_t *r, spate_cql_strlist_t *out);
spate_status_t spate_cql_rd_string_map(spate_rd_t *r, spate_cql_strmap_t *out);
spate_status_t spate_cql_rd_bytes_map(spate_rd_t *r, spate_cql_strmap_t *out);
spate_status_t spate_cql_rd_string_multimap(spate_rd_t *r, spate_cql_multimap_t *out);
/* Unknown ids and trees deeper than SPATE_CQL_MAX_TYPE_DEPTH are EINVAL;
 * the old text id 0x000A decodes as VARCHAR. */
spate_status_t spate_cql_rd_option(spate_rd_t *r, spate_cql_datatype_t *out);

spate_status_t spate_cql_wr_int(spate_buf_t *b, int32_t v);
spate_status_t spate_cql_wr_long(spate_buf_t *b, int64_t v);
spate_status_t spate_cql_wr_short(spate_buf_t *b, uint16_t v);
spate_status_t spate_cql_wr_byte(spate_buf_t *b, uint8_t v);
spate_status_t spate_cql_wr_string(spate_buf_t *b, const char *p, size_t n); /* ERANGE > 65535 */
spate_status_t spate_cql_wr_long_string(spate_buf_t *b, const char *p, size_t n);
spate_status_t spate_cql_wr_uuid(spate_buf_t *b, const uint8_t u[16]);
/* [bytes]: p NULL (or len < 0 through the slice forms) writes null. */
spate_status_t spate_cql_wr_bytes(spate_buf_t *b, const void *p, size_t n);
/* [value] from a slice: len SPATE_CQL_NULL / SPATE_CQL_UNSET write those
 * markers, other negatives are EINVAL. */
spate_status_t spate_cql_wr_value(spate_buf_t *b, spate_slice_t v);
spate_status_t spate_cql_wr_short_bytes(spate_buf_t *b, const void *p, size_t n);
spate_status_t spate_cql_wr_inet(spate_buf_t *b, const spate_cql_inet_t *a);
spate_status_t spate_cql_wr_string_list(spate_buf_t *b, const spate_cql_strlist_t *l);
spate_status_t spate_cql_wr_string_map(spate_buf_t *b, const spate_cql_strmap_t *m);
spate_status_t spate_cql_wr_bytes_map(spate_buf_t *b, const spate_cql_strmap_t *m);
spate_status_t spate_cql_wr_string_multimap(spate_buf_t *b, const spate_cql_multimap_t *m);
spate_status_t spate_cql_wr_option(spate_buf_t *b, const spate_cql_datatype_t *t);
/* A [bytes] whose length is known only after its content is appended:
 * begin writes a placeholder and returns its offset, end patches it. */
spate_status_t spate_cql_wr_bytes_begin(spate_buf_t *b, size_t *mark);
spate_status_t spate_cql_wr_bytes_end(spate_buf_t *b, size_t mark);

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

/* <query_parameters> of QUERY and EXECUTE. A field is on the wire only if
 * its flag is set; the decoder fills the others with the defaults the
 * spec implies (page_size -1, serial_consistency SERIAL, timestamp
 * INT64_MIN, paging_state null). */
typedef struct {
    uint16_t consistency;
    uint8_t flags;               /* SPATE_CQL_QF_* */
    uint16_t nvalues;            /* QF_VALUES */
    spate_slice_t *values;       /* nvalues [value]s: len SPATE_CQL_NULL / UNSET */
    spate_slice_t *names;        /* QF_NAMES_FOR_VALUES: nvalues names, else NULL */
    int32_t page_size;           /* QF_PAGE_SIZE; <= 0 means no paging */
    spate_slice_t paging_state;  /* QF_PAGING_STATE */
    uint16_t serial_consistency; /* QF_SERIAL_CONSISTENCY */
    int64_t timestamp;           /* QF_DEFAULT_TIMESTAMP, microseconds */
} spate_cql_params_t;

typedef struct {
    uint8_t kind;        /* 0: query is CQL text, 1: query is a prepared id */
    spate_slice_t query; /* [long string] or [short bytes] */
    uint16_t nvalues;
    spate_slice_t *values;
    spate_slice_t *names; /* batch flag NAMES_FOR_VALUES, else NULL */
} spate_cql_batch_stmt_t;

typedef struct {
    uint8_t type; /* SPATE_CQL_BATCH_* */
    uint16_t n;
    spate_cql_batch_stmt_t *stmts;
    uint16_t consistency;
    uint8_t flags; /* QF_SERIAL_CONSISTENCY | QF_DEFAULT_TIMESTAMP | QF_NAMES_FOR_VALUES */
    uint16_t serial_consistency;
    int64_t timestamp;
    /* private: the decoder's value and name arrays shared by all stmts */
    spate_slice_t *all_values, *all_names;
} spate_cql_batch_t;

/* One request. Fields used by each opcode:
 *
 *   STARTUP        options          [string map]
 *   OPTIONS        -
 *   QUERY          query, params    [long string] <query_parameters>
 *   PREPARE        query            [long string]
 *   EXECUTE        id, params       [short bytes] <query_parameters>
 *   BATCH          batch            see spate_cql_batch_t
 *   REGISTER       events           [string list]
 *   AUTH_RESPONSE  token            [bytes]
 *
 * tracing and custom_payload mirror the frame flags (tracing adds nothing
 * to a request body; a custom payload [bytes map] comes first). */
typedef struct {
    uint8_t opcode;
    bool tracing;
    spate_cql_strmap_t custom_payload;
    spate_cql_strmap_t options;
    spate_slice_t query;
    spate_slice_t id;
    spate_cql_params_t params;
    spate_cql_batch_t batch;
    spate_cql_strlist_t events;
    spate_slice_t token;
} spate_cql_request_t;

/* Decodes the body of a request frame (h gives opcode and flags) into
 * *req, borrowing from body. EINVAL for a malformed or truncated body,
 * unknown flag bits, a response opcode or an unknown one (the server
 * answers with a Protocol error). h->version and h->response are not
 * looked at (the server checks them), nor is the compression flag: a
 * compressed body is decompressed by the caller first. On OK release with
 * spate_cql_request_free; on failure nothing is allocated. */
spate_status_t spate_cql_request_decode(const spate_cql_header_t *h, const void *body, size_t len,
                                        spate_cql_request_t *req);
void spate_cql_request_free(spate_cql_request_t *req);

/* Appends a whole request frame (header version `version`, the given
 * stream, flags from req->tracing and custom_payload.n). EINVAL if the
 * fields disagree with the flags (QF_VALUES with values NULL, ...) or the
 * opcode is not a request; b is then left as it was. */
spate_status_t spate_cql_request_write(spate_buf_t *b, uint8_t version, int16_t stream,
                                       const spate_cql_request_t *req);

/* ------------------------------------------------------------------ */
/* Responses                                                           */
/* ------------------------------------------------------------------ */

typedef struct {
    int32_t code; /* SPATE_CQL_ERR_* */
    spate_slice_t message;
    /* extras, by code:
     *   UNAVAILABLE       consistency, required, alive
     *   WRITE_TIMEOUT     consistency, received, blockfor, write_type
     *   READ_TIMEOUT      consistency, received, blockfor, data_present
     *   READ_FAILURE      consistency, received, blockfor, numfailures, data_present
     *   WRITE_FAILURE     consistency, received, blockfor, numfailures, write_type
     *   FUNCTION_FAILURE  keyspace, function, arg_types
     *   ALREADY_EXISTS    keyspace, table ("" for a keyspace)
     *   UNPREPARED        id */
    uint16_t consistency;
    int32_t required, alive;
    int32_t received, blockfor, numfailures;
    uint8_t data_present;
    spate_slice_t write_type;
    spate_slice_t keyspace, table, function;
    spate_cql_strlist_t arg_types;
    spate_slice_t id;
} spate_cql_error_t;

typedef struct {
    spate_slice_t keyspace, table; /* absent (p NULL) with GLOBAL_TABLES_SPEC on write */
    spate_slice_t name;
    spate_cql_datatype_t type;
} spate_cql_colspec_t;

/* Rows <metadata> (kind ROWS, and Prepared <result_metadata>) and Prepared
 * bind <metadata> (has the pk indexes, no paging state). With
 * GLOBAL_TABLES_SPEC the decoder copies global_keyspace/global_table into
 * every column's keyspace/table; the writer emits the global pair once and
 * ignores the columns' own. With NO_METADATA columns is NULL but
 * columns_count still sizes each row. */
typedef struct {
    int32_t flags; /* SPATE_CQL_MD_* */
    int32_t columns_count;
    spate_slice_t paging_state; /* HAS_MORE_PAGES */
    spate_slice_t global_keyspace, global_table;
    spate_cql_colspec_t *columns;
    int32_t pk_count; /* bind metadata only */
    uint16_t *pk_index;
} spate_cql_metadata_t;

/* Schema_change result and SCHEMA_CHANGE event:
 *   target KEYSPACE             keyspace
 *   target TABLE, TYPE          keyspace, name
 *   target FUNCTION, AGGREGATE  keyspace, name, arg_types */
typedef struct {
    spate_slice_t change_type; /* CREATED, UPDATED, DROPPED */
    spate_slice_t target;
    spate_slice_t keyspace, name;
    spate_cql_strlist_t arg_types;
} spate_cql_schema_change_t;

typedef struct {
    int32_t kind;                         /* SPATE_CQL_RESULT_* */
    spate_slice_t keyspace;               /* SET_KEYSPACE */
    spate_slice_t id;                     /* PREPARED */
    spate_cql_metadata_t metadata;        /* ROWS: result metadata; PREPARED: bind metadata */
    spate_cql_metadata_t result_metadata; /* PREPARED */
    int32_t rows_count;                   /* ROWS */
    spate_slice_t *cells;                 /* ROWS: rows_count x columns_count [bytes], row-major */
    spate_cql_schema_change_t change;     /* SCHEMA_CHANGE */
} spate_cql_result_t;

typedef struct {
    spate_slice_t type;   /* TOPOLOGY_CHANGE, STATUS_CHANGE, SCHEMA_CHANGE */
    spate_slice_t change; /* NEW_NODE, REMOVED_NODE / UP, DOWN */
    spate_cql_inet_t node;
    spate_cql_schema_change_t schema;
} spate_cql_event_t;

/* One response. Fields used by each opcode:
 *
 *   ERROR                         error
 *   READY                         -
 *   AUTHENTICATE                  authenticator  [string]
 *   SUPPORTED                     supported      [string multimap]
 *   RESULT                        result
 *   EVENT                         event
 *   AUTH_CHALLENGE, AUTH_SUCCESS  token          [bytes]
 *
 * The prefix fields mirror the frame flags TRACING (has_tracing_id),
 * WARNING (warnings.n > 0) and CUSTOM_PAYLOAD (custom_payload.n > 0). */
typedef struct {
    uint8_t opcode;
    bool has_tracing_id;
    uint8_t tracing_id[16];
    spate_cql_strlist_t warnings;
    spate_cql_strmap_t custom_payload;
    spate_cql_error_t error;
    spate_slice_t authenticator;
    spate_cql_multimap_t supported;
    spate_cql_result_t result;
    spate_cql_event_t event;
    spate_slice_t token;
} spate_cql_response_t;

/* Decodes the body of a response frame (h gives opcode and flags; its
 * prefix is read in the order tracing id, warnings, custom payload) into
 * *resp, borrowing from body. EINVAL on malformed or truncated input,
 * unknown result kinds, metadata flags, event types or type ids. On OK
 * release with spate_cql_response_free; on failure nothing is allocated. */
spate_status_t spate_cql_response_decode(const spate_cql_header_t *h, const void *body, size_t len,
                                         spate_cql_response_t *resp);
void spate_cql_response_free(spate_cql_response_t *resp);

/* Appends a whole response frame (version byte 0x80 | version), prefix
 * included. A RESULT of kind ROWS is written from result.cells. EINVAL if
 * the opcode is not a response or the fields are inconsistent; b is then
 * left as it was. */
spate_status_t spate_cql_response_write(spate_buf_t *b, uint8_t version, int16_t stream,
                                        const spate_cql_response_t *resp);

/* Streaming Rows writer for the server: writes a RESULT body of kind ROWS
 * into b, inside a frame the caller opened (spate_cql_frame_begin, plus
 * any warnings when the WARNING flag is set) and closes
 * (spate_cql_frame_end):
 *
 *   spate_cql_rows_t w;
 *   spate_cql_rows_begin(&w, b, &md);          kind, metadata, count placeholder
 *   spate_cql_rows_cell(&w, p, len);           a whole cell ([bytes]; p NULL = null)
 *   spate_cql_rows_cell_begin(&w); append raw value bytes to b;
 *   spate_cql_rows_cell_end(&w);               a cell built in place
 *   spate_cql_rows_end(&w, paging_state);      patches rows_count
 *
 * Rows are counted as cells / md->columns_count (EINVAL at end if a row is
 * incomplete; with zero columns the count stays 0). A paging state given to
 * end (non-NULL, for "more pages") is inserted after columns_count and
 * HAS_MORE_PAGES set there, so the server can decide after filling the
 * page; one in md (HAS_MORE_PAGES) is written at begin instead. */
typedef struct {
    spate_buf_t *b;
    size_t md_off;    /* offset of the metadata <flags> */
    size_t count_off; /* offset of <rows_count> */
    size_t cell_off;  /* open cell's length, or SIZE_MAX */
    uint32_t ncols;
    uint64_t ncells;
    bool has_paging;
} spate_cql_rows_t;

spate_status_t spate_cql_rows_begin(spate_cql_rows_t *w, spate_buf_t *b,
                                    const spate_cql_metadata_t *md);
spate_status_t spate_cql_rows_cell(spate_cql_rows_t *w, const void *p, int32_t len);
spate_status_t spate_cql_rows_cell_begin(spate_cql_rows_t *w);
spate_status_t spate_cql_rows_cell_end(spate_cql_rows_t *w);
spate_status_t spate_cql_rows_end(spate_cql_rows_t *w, const spate_slice_t *paging_state);

/* ------------------------------------------------------------------ */
/* Values (cql_value.c)                                                */
/* ------------------------------------------------------------------ */

/* A value is the payload of a [bytes]/[value] (no length prefix of its
 * own), serialized as spec §6 says for type t:
 *
 *   int 4, bigint/counter/timestamp/time 8, smallint 2, tinyint 1,
 *   boolean 1, double 8, float 4 (big-endian IEEE 754), uuid/timeuuid 16,
 *   date 4 (uint32 days, 1970-01-01 = 2^31), inet 4|16, text UTF-8, ascii
 *   < 0x80, blob/custom anything, varint minimal two's complement,
 *   decimal [int] scale + varint, list/set [int] n + n [bytes],
 *   map [int] n + n ([bytes] key, [bytes] value), tuple/udt [bytes] per
 *   component (fewer than the type has are allowed), duration three
 *   signed vints (months, days, nanoseconds).
 *
 * Empty (len 0) is a valid value of int, bigint, counter, boolean, double,
 * float, uuid, timeuuid, timestamp, inet, varint and decimal (Cassandra's
 * legacy "empty"); date, time, smallint, tinyint reject it as Cassandra
 * does. Null is never passed here (the caller handles len < 0). */

/* Checks a value as Cassandra does before accepting it, recursively for
 * collections (no null elements in list/set/map; null components allowed
 * in tuple/udt). On EINVAL err gets a message like "Expected 4 or 0 byte
 * int (3)" suitable for an Invalid (0x2200) error. */
spate_status_t spate_cql_value_validate(const spate_cql_datatype_t *t, const void *p, size_t len,
                                        char *err, size_t errlen);

/* Appends the value as cqlsh prints it: text unquoted at top level and
 * 'quoted' ('' doubled) inside collections (timestamps too), blob 0x..,
 * uuid lowercase, timestamp "2024-01-02 03:04:05.678000+0000", date
 * "2024-01-02", time "03:04:05.000000000", True/False, floats the shortest
 * text that reads back exactly (NaN, Infinity), varint/decimal exact,
 * inet as inet_ntop, [..] {..} {k: v} (..) {field: v}, null components as
 * "null", an empty scalar as "". Years outside 1..9999 print as the
 * number (ms, or days from the epoch), as the python driver does. EINVAL
 * for a malformed value, ERANGE for a varint/decimal over 16 KiB; b is
 * then left as it was. */
spate_status_t spate_cql_value_to_text(const spate_cql_datatype_t *t, const void *p, size_t len,
                                       spate_buf_t *b);

/* Appends the serialized value of a scalar literal's text (already
 * unquoted): integers with each type's range, float/double (also NaN,
 * Infinity, -Infinity), true/false, uuid text (version 1 for timeuuid),
 * blob "0x..", timestamp as integer ms or "yyyy-mm-dd[( |T)hh:mm[:ss[.fff]]]
 * [zone]" (Z, +hh, +hhmm, +hh:mm, UTC/GMT; none = UTC), date "yyyy-mm-dd" or
 * the raw unsigned day number, time "hh:mm:ss[.fffffffff]" or integer ns,
 * inet text, varint and decimal of any size (up to 10000 digits),
 * text/ascii checked. Collections, tuples, UDTs and custom types are
 * EINVAL. On failure err names the problem and b is left as it was. */
spate_status_t spate_cql_value_from_text(const spate_cql_datatype_t *t, const char *text,
                                         size_t len, spate_buf_t *b, char *err, size_t errlen);

/* Encoders of C values into value payloads (append, no length prefix). */
spate_status_t spate_cql_value_put_bool(spate_buf_t *b, bool v);
spate_status_t spate_cql_value_put_i8(spate_buf_t *b, int8_t v);   /* tinyint */
spate_status_t spate_cql_value_put_i16(spate_buf_t *b, int16_t v); /* smallint */
spate_status_t spate_cql_value_put_i32(spate_buf_t *b, int32_t v); /* int */
spate_status_t spate_cql_value_put_i64(spate_buf_t *b,
                                       int64_t v); /* bigint, counter, timestamp ms, time ns */
spate_status_t spate_cql_value_put_float(spate_buf_t *b, float v);
spate_status_t spate_cql_value_put_double(spate_buf_t *b, double v);
spate_status_t spate_cql_value_put_text(spate_buf_t *b, const char *p,
                                        size_t n); /* text, ascii, blob */
spate_status_t spate_cql_value_put_uuid(spate_buf_t *b, const uint8_t u[16]);
spate_status_t spate_cql_value_put_date(spate_buf_t *b, int32_t days_since_epoch);
spate_status_t spate_cql_value_put_varint(spate_buf_t *b, int64_t v); /* minimal bytes */
/* A collection or tuple from already-serialized elements:
 *   LIST, SET   [int] n, then n [bytes]          (elems: n, none null)
 *   MAP         [int] n/2, then n [bytes]        (elems: key, value, ...; n even)
 *   TUPLE, UDT  n [bytes]                         (null elements allowed)
 * EINVAL for other ids, odd map input or a null list/set/map element. */
spate_status_t spate_cql_value_put_collection(spate_buf_t *b, spate_cql_type_t kind,
                                              const spate_slice_t *elems, size_t n);

#endif /* SPATE_CQL_CODEC_H */
