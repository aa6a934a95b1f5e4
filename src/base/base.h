/*
 * base.h — the public interface of spate's lowest layer.
 *
 * Everything else in spate includes this header and nothing below it:
 *
 *   status codes   one vocabulary for the whole program (spate_status_t)
 *   buffers        growable byte buffers that own their memory
 *   cursors        bounds-checked readers and writers for wire formats:
 *                  big-endian integers, varints (Kafka's zig-zag and
 *                  unsigned forms) and length-prefixed strings
 *   logging        levels, a component prefix, wall-clock timestamps,
 *                  to stderr or to a file
 *   time           monotonic and wall clocks in ns/ms
 *   CRC-32C        the Castagnoli CRC used by Kafka RecordBatch v2
 *   hashing        md5/sha1/sha256 hex digests and UUIDs (OpenSSL)
 *   JSON output    string escaping for hand-written hot-path JSON
 *   configuration  YAML files loaded into a tree that remembers file:line,
 *                  with typed getters whose errors name the key
 *
 * Conventions: functions that can fail return spate_status_t; a protocol
 * error carried in a reply (a Kafka ErrorCode, a CQL ERROR frame) is a
 * normal SPATE_OK result, not a C failure. Ownership is stated in each
 * comment; "borrowed" pointers live as long as their owner.
 */
#ifndef SPATE_BASE_H
#define SPATE_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Status codes                                                        */
/* ------------------------------------------------------------------ */

typedef enum {
    SPATE_OK = 0,
    SPATE_ERR = -1,       /* generic failure; details were logged or set */
    SPATE_AGAIN = -2,     /* need more input (a parser saw a short buffer) */
    SPATE_ENOMEM = -3,    /* allocation failed */
    SPATE_EINVAL = -4,    /* malformed input or bad argument */
    SPATE_ENOENT = -5,    /* no such key, file or object */
    SPATE_ERANGE = -6,    /* a value is outside its allowed range */
    SPATE_EIO = -7,       /* an operating-system I/O call failed */
    SPATE_ETIMEDOUT = -8, /* a deadline passed */
    SPATE_EEXIST = -9     /* the object already exists */
} spate_status_t;

/* A short, stable name for a status ("OK", "AGAIN", "EINVAL", ...). */
const char *spate_status_str(spate_status_t st);

#define SPATE_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SPATE_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SPATE_MAX(a, b) ((a) > (b) ? (a) : (b))
#define SPATE_UNUSED(x) ((void)(x))
#define SPATE_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Allocation that aborts with a message on failure. Used for small
 * bookkeeping where there is no sensible recovery; buffers that grow with
 * outside input use spate_buf_* which report SPATE_ENOMEM instead. */
void *spate_xmalloc(size_t n);
void *spate_xcalloc(size_t n, size_t size);
void *spate_xrealloc(void *p, size_t n);
char *spate_xstrdup(const char *s);

/* ------------------------------------------------------------------ */
/* Growable buffers                                                    */
/* ------------------------------------------------------------------ */

/* A byte buffer. `data` is owned by the buffer and always has room for a
 * terminating NUL after `len` (so text built in it can be used as a C
 * string), but the NUL is not counted in len. Zero-initialised is a valid
 * empty buffer.
 *
 * A *fixed* buffer (spate_buf_init_fixed) writes into memory the caller
 * owns and never grows: an append that does not fit fails with
 * SPATE_ENOMEM and leaves the buffer as it was. It lets code that writes
 * to a spate_buf_t fill, say, a network library's block directly. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
    bool fixed;
} spate_buf_t;

#define SPATE_BUF_INIT                                                                             \
    { NULL, 0, 0, false }

/* Points b at mem[0..size) (size >= 1; one byte is kept for the NUL). */
void spate_buf_init_fixed(spate_buf_t *b, void *mem, size_t size);

/* Makes room for `extra` more bytes (plus the NUL). */
spate_status_t spate_buf_reserve(spate_buf_t *b, size_t extra);
/* Appends n bytes. Inline: the store and the stream sinks append a few
 * bytes at a time, many times per row, and the call and the reserve
 * check were ~8 % of the store's instructions; the common case (it fits)
 * is a compare and a copy here, growing is spate_buf_reserve's. */
static inline spate_status_t spate_buf_append(spate_buf_t *b, const void *p, size_t n) {
    /* fits when len + n + 1 <= cap; cap == 0 (never grown) always grows */
    if (n >= b->cap - b->len && spate_buf_reserve(b, n) != SPATE_OK) return SPATE_ENOMEM;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return SPATE_OK;
}
spate_status_t spate_buf_puts(spate_buf_t *b, const char *s);
spate_status_t spate_buf_putc(spate_buf_t *b, char c);
spate_status_t spate_buf_printf(spate_buf_t *b, const char *fmt, ...) SPATE_PRINTF(2, 3);
spate_status_t spate_buf_vprintf(spate_buf_t *b, const char *fmt, va_list ap);
/* Appends the decimal form of v. */
spate_status_t spate_buf_put_i64(spate_buf_t *b, int64_t v);
void spate_buf_reset(spate_buf_t *b); /* len = 0, keeps the memory */
void spate_buf_free(spate_buf_t *b);  /* frees (unless fixed) and zeroes */
/* Hands the memory to the caller (who frees it with free()); the buffer is
 * left empty. Never NULL: an empty buffer gives an allocated "". A fixed
 * buffer hands over a malloc'd copy. */
char *spate_buf_detach(spate_buf_t *b, size_t *len);

/* Fast unchecked append for hot paths: the caller has reserved room
 * (spate_buf_reserve keeps one byte for the NUL, written here too). */
static inline void spate_buf_put_fast(spate_buf_t *b, const void *p, size_t n) {
    for (size_t i = 0; i < n; i++) b->data[b->len + i] = ((const char *)p)[i];
    b->len += n;
    b->data[b->len] = '\0';
}

/* ------------------------------------------------------------------ */
/* Bounds-checked cursors for wire formats                             */
/* ------------------------------------------------------------------ */

/* A reader over borrowed bytes. Every get checks the remaining length and
 * returns SPATE_AGAIN when the input is too short (the caller decides
 * whether short means "wait for more" or "malformed") and SPATE_EINVAL for
 * values that can never be valid (an over-long varint, a negative length
 * other than the null marker). On failure the cursor does not move. */
typedef struct {
    const uint8_t *p;
    size_t len;
    size_t off;
} spate_rd_t;

static inline void spate_rd_init(spate_rd_t *r, const void *p, size_t len) {
    r->p = (const uint8_t *)p;
    r->len = len;
    r->off = 0;
}
static inline size_t spate_rd_left(const spate_rd_t *r) { return r->len - r->off; }

spate_status_t spate_rd_u8(spate_rd_t *r, uint8_t *v);
spate_status_t spate_rd_i8(spate_rd_t *r, int8_t *v);
spate_status_t spate_rd_u16(spate_rd_t *r, uint16_t *v);
spate_status_t spate_rd_i16(spate_rd_t *r, int16_t *v);
spate_status_t spate_rd_u32(spate_rd_t *r, uint32_t *v);
spate_status_t spate_rd_i32(spate_rd_t *r, int32_t *v);
spate_status_t spate_rd_u64(spate_rd_t *r, uint64_t *v);
spate_status_t spate_rd_i64(spate_rd_t *r, int64_t *v);
/* Unsigned LEB128 varint, at most 5 bytes (Kafka UNSIGNED_VARINT). */
spate_status_t spate_rd_uvarint(spate_rd_t *r, uint32_t *v);
/* Zig-zag varint (Kafka VARINT, 32 bits) and varlong (64 bits). */
spate_status_t spate_rd_varint(spate_rd_t *r, int32_t *v);
spate_status_t spate_rd_varlong(spate_rd_t *r, int64_t *v);
/* n raw bytes, borrowed from the input. */
spate_status_t spate_rd_bytes(spate_rd_t *r, size_t n, const uint8_t **p);
spate_status_t spate_rd_skip(spate_rd_t *r, size_t n);

/* A borrowed slice of the input; p == NULL means the wire said "null". */
typedef struct {
    const char *p;
    int32_t len;
} spate_slice_t;

/* int16 length + bytes; -1 is null (Kafka STRING / NULLABLE_STRING, CQL
 * [string] uses spate_rd_str16 and rejects null itself). */
spate_status_t spate_rd_str16(spate_rd_t *r, spate_slice_t *s);
/* int32 length + bytes; negative is null (Kafka BYTES, CQL [bytes] and
 * [long string]). */
spate_status_t spate_rd_str32(spate_rd_t *r, spate_slice_t *s);
/* uvarint (length + 1) + bytes; 0 is null (Kafka COMPACT_STRING). */
spate_status_t spate_rd_compact_str(spate_rd_t *r, spate_slice_t *s);
/* zig-zag varint length + bytes; -1 is null (record keys and values). */
spate_status_t spate_rd_varint_bytes(spate_rd_t *r, spate_slice_t *s);

/* Writers append to a growable buffer. They fail only with SPATE_ENOMEM
 * (or SPATE_ERANGE for a string too long for its length prefix). */
spate_status_t spate_wr_u8(spate_buf_t *b, uint8_t v);
spate_status_t spate_wr_u16(spate_buf_t *b, uint16_t v);
spate_status_t spate_wr_u32(spate_buf_t *b, uint32_t v);
spate_status_t spate_wr_u64(spate_buf_t *b, uint64_t v);
#define spate_wr_i8(b, v) spate_wr_u8((b), (uint8_t)(v))
#define spate_wr_i16(b, v) spate_wr_u16((b), (uint16_t)(v))
#define spate_wr_i32(b, v) spate_wr_u32((b), (uint32_t)(v))
#define spate_wr_i64(b, v) spate_wr_u64((b), (uint64_t)(v))
spate_status_t spate_wr_uvarint(spate_buf_t *b, uint32_t v);
spate_status_t spate_wr_varint(spate_buf_t *b, int32_t v);
spate_status_t spate_wr_varlong(spate_buf_t *b, int64_t v);
/* p == NULL writes the null marker of each encoding. */
spate_status_t spate_wr_str16(spate_buf_t *b, const char *p, size_t n);
spate_status_t spate_wr_str32(spate_buf_t *b, const char *p, size_t n);
spate_status_t spate_wr_compact_str(spate_buf_t *b, const char *p, size_t n);
spate_status_t spate_wr_varint_bytes(spate_buf_t *b, const char *p, size_t n);
/* Overwrites 4 bytes at `off` (for lengths and CRCs known only later). */
void spate_wr_patch_u32(spate_buf_t *b, size_t off, uint32_t v);

/* Encoded sizes, for precomputing lengths. */
size_t spate_uvarint_size(uint32_t v);
size_t spate_varlong_size(int64_t v);

/* ------------------------------------------------------------------ */
/* Logging                                                             */
/* ------------------------------------------------------------------ */

typedef enum {
    SPATE_LOG_DEBUG = 0,
    SPATE_LOG_INFO = 1,
    SPATE_LOG_WARN = 2,
    SPATE_LOG_ERROR = 3,
    SPATE_LOG_OFF = 4
} spate_log_level_t;

/* Lines look like
 *   2026-11-24T07:01:02.345Z INFO  randomuser: listening on 127.0.0.1:8088
 * Thread-safe: one write(2) per line. */
void spate_log_set_level(spate_log_level_t lvl);
spate_log_level_t spate_log_get_level(void);
/* "debug", "info", "warn", "error", "off"; SPATE_EINVAL otherwise. */
spate_status_t spate_log_level_parse(const char *s, spate_log_level_t *lvl);
/* Sends log lines to `path` (appending) instead of stderr; NULL goes back
 * to stderr. */
spate_status_t spate_log_set_file(const char *path);
void spate_log(spate_log_level_t lvl, const char *component, const char *fmt, ...)
    SPATE_PRINTF(3, 4);
void spate_vlog(spate_log_level_t lvl, const char *component, const char *fmt, va_list ap);

#define SPATE_LOG_DEBUG_ON() (spate_log_get_level() <= SPATE_LOG_DEBUG)

/* ------------------------------------------------------------------ */
/* Time                                                                */
/* ------------------------------------------------------------------ */

int64_t spate_mono_ns(void); /* CLOCK_MONOTONIC */
int64_t spate_mono_ms(void);
int64_t spate_wall_ms(void); /* milliseconds since the Unix epoch */
int64_t spate_wall_us(void); /* microseconds since the Unix epoch */
/* A UTC calendar time (proleptic Gregorian, exact before 1970 too). */
typedef struct {
    int year, month, day; /* month 1..12, day 1..31 */
    int ms_of_day;        /* 0..86399999 */
} spate_civil_t;
void spate_time_civil(int64_t ms, spate_civil_t *c);
/* Writes c as "2007-07-09T05:51:59.390Z" (out holds 25 bytes). */
void spate_time_civil_iso8601(const spate_civil_t *c, char out[25]);
/* Whole years from a to b (birthday not yet reached → one less). */
int spate_time_civil_years(const spate_civil_t *a, const spate_civil_t *b);
/* Formats ms since the epoch as "2007-07-09T05:51:59.390Z" (24 chars +
 * NUL; out must hold 25). Works for dates before 1970 too. */
void spate_time_iso8601(int64_t ms, char out[25]);
/* Whole years between two instants as a calendar would count them
 * (birthday not yet reached this year → one less). */
int spate_time_years_between(int64_t from_ms, int64_t to_ms);
void spate_sleep_ms(int64_t ms);

/* ------------------------------------------------------------------ */
/* CRC-32C (Castagnoli)                                                */
/* ------------------------------------------------------------------ */

/* Continues a CRC: start with crc = 0. Uses the SSE4.2 instruction where
 * the CPU has it, a table otherwise; both give the same answer. */
uint32_t spate_crc32c(uint32_t crc, const void *p, size_t n);

/* ------------------------------------------------------------------ */
/* Hashing and UUIDs                                                   */
/* ------------------------------------------------------------------ */

typedef enum { SPATE_HASH_MD5, SPATE_HASH_SHA1, SPATE_HASH_SHA256 } spate_hash_alg_t;

/* Lower-case hex digest of p[0..n) into out (33, 41 or 65 bytes with NUL);
 * returns the number of hex characters written. Thread-safe. */
size_t spate_hash_hex(spate_hash_alg_t alg, const void *p, size_t n, char *out);
/* Raw digest; out holds 16, 20 or 32 bytes. */
void spate_hash_raw(spate_hash_alg_t alg, const void *p, size_t n, uint8_t *out);

/* Formats 16 bytes as 8-4-4-4-12 lower-case hex (37 bytes with NUL). */
void spate_uuid_format(const uint8_t u[16], char out[37]);
/* Parses the 36-character text form (any case); SPATE_EINVAL otherwise. */
spate_status_t spate_uuid_parse(const char *s, size_t n, uint8_t u[16]);
/* RFC 4122 version 5 (SHA-1, name-based) UUID of `name` in namespace ns. */
void spate_uuid_v5(const uint8_t ns[16], const void *name, size_t n, uint8_t out[16]);

/* ------------------------------------------------------------------ */
/* JSON output helpers                                                 */
/* ------------------------------------------------------------------ */

/* Appends s as a quoted JSON string, escaping ", \ and control bytes.
 * Bytes >= 0x80 pass through (the input is UTF-8). */
spate_status_t spate_json_put_str(spate_buf_t *b, const char *s, size_t n);

/* ------------------------------------------------------------------ */
/* Configuration (YAML)                                                */
/* ------------------------------------------------------------------ */

/* A loaded YAML document as a tree. Every node remembers where it came
 * from so that errors can say "pipeline.yaml:12: key 'retries': expected
 * an integer, got 'three'". Scalars keep their text; typed getters convert
 * on demand. The whole tree is owned by its spate_conf_t. */
typedef enum { SPATE_CONF_SCALAR, SPATE_CONF_MAP, SPATE_CONF_SEQ } spate_conf_kind_t;

typedef struct spate_conf_node spate_conf_node_t;
struct spate_conf_node {
    spate_conf_kind_t kind;
    int line;                 /* 1-based line in the source */
    const char *key;          /* key under which it sits in a map, or NULL */
    const char *value;        /* scalar text (NULL for maps and sequences) */
    bool quoted;              /* scalar was quoted: never null/bool/number */
    spate_conf_node_t *child; /* first child (map entries / seq items) */
    spate_conf_node_t *next;  /* next sibling */
    size_t nchild;
};

typedef struct {
    char *path;              /* file name used in messages */
    spate_conf_node_t *root; /* NULL for an empty document */
    /* private: */
    void *arena;
} spate_conf_t;

/* Error text filled by the loader and getters: "file:line: message". */
typedef struct {
    char msg[512];
} spate_conf_err_t;

/* Loads a file / a string. On failure returns SPATE_EINVAL or SPATE_EIO,
 * fills err, and leaves *conf empty (safe to free). Duplicate keys in a
 * map, aliases and multiple documents are errors. */
spate_status_t spate_conf_load_file(spate_conf_t *conf, const char *path, spate_conf_err_t *err);
spate_status_t spate_conf_load_string(spate_conf_t *conf, const char *name, const char *text,
                                      size_t len, spate_conf_err_t *err);
void spate_conf_free(spate_conf_t *conf);

/* Child of a map by key, or NULL. */
const spate_conf_node_t *spate_conf_get(const spate_conf_node_t *map, const char *key);

/* Typed getters: read map[key] into *out. A missing key leaves *out
 * untouched and returns SPATE_ENOENT (so defaults are set before the
 * call); a present key of the wrong type or out of range returns
 * SPATE_EINVAL / SPATE_ERANGE with err naming file:line and the key. */
spate_status_t spate_conf_get_str(const spate_conf_t *c, const spate_conf_node_t *map,
                                  const char *key, const char **out, spate_conf_err_t *err);
spate_status_t spate_conf_get_i64(const spate_conf_t *c, const spate_conf_node_t *map,
                                  const char *key, int64_t min, int64_t max, int64_t *out,
                                  spate_conf_err_t *err);
spate_status_t spate_conf_get_double(const spate_conf_t *c, const spate_conf_node_t *map,
                                     const char *key, double min, double max, double *out,
                                     spate_conf_err_t *err);
spate_status_t spate_conf_get_bool(const spate_conf_t *c, const spate_conf_node_t *map,
                                   const char *key, bool *out, spate_conf_err_t *err);
/* Checks that every key of `map` is in the NULL-terminated `known` list;
 * the first unknown one is an error naming it (catches typos). */
spate_status_t spate_conf_check_keys(const spate_conf_t *c, const spate_conf_node_t *map,
                                     const char *const *known, spate_conf_err_t *err);
/* Formats an error at a node: "file:line: key 'k': <fmt>". */
void spate_conf_errorf(const spate_conf_t *c, const spate_conf_node_t *n, spate_conf_err_t *err,
                       const char *fmt, ...) SPATE_PRINTF(4, 5);

/* Parses decimal text fully into an int64 in [min, max]. */
spate_status_t spate_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
spate_status_t spate_parse_double(const char *s, double *out);

#endif /* SPATE_BASE_H */
