/*
 * stream_int.h — private structures of the stream subsystem.
 *
 * A compiled program is a flat array of steps; a map step holds its
 * operations as arrays, one per kind, applied in this fixed order (the
 * order the YAML keys are written in does not matter):
 *
 *   rename → default → set → cast → require → filter → drop → select
 *
 *   spate_stream_prog_t
 *   +-----------+      +------+-------------+-------------------------+
 *   | arena     |─────▶| json | format_user | map {rename[], ..., sel}|
 *   | steps[]   |      +------+-------------+-------------------------+
 *   | consts[]  |  json_t constants (default/set values), decref'd at free
 *   +-----------+
 *
 * Everything a program points to (paths, format pieces, expression nodes,
 * strings) lives in its arena and is never written after compilation, so
 * a program is safe to share between threads. The json_t constants are
 * handed to records by reference for scalars (jansson never mutates them
 * behind our back; no step mutates a value in place) and deep-copied for
 * objects and arrays (a later step may write inside those).
 */
#ifndef SPATE_STREAM_INT_H
#define SPATE_STREAM_INT_H

#include "stream.h"

/* ---- arena: bump allocation in blocks, freed all at once ---- */

typedef struct stream_arena_block stream_arena_block_t;
typedef struct {
    stream_arena_block_t *head;
} stream_arena_t;

/* Zeroed memory that lives until stream_arena_free (aborts on OOM, as
 * spate_xmalloc: configuration is small). */
void *stream_arena_alloc(stream_arena_t *a, size_t n);
char *stream_arena_strndup(stream_arena_t *a, const char *s, size_t n);
void stream_arena_free(stream_arena_t *a);

/* ---- paths ---- */

#define STREAM_PATH_MAX_SEGS 32
#define STREAM_PATH_MAX_INDEX 0x7fffffff

typedef struct {
    const char *key; /* NULL: an array index */
    size_t keylen;
    size_t index;
} stream_seg_t;

struct spate_stream_path {
    const char *text; /* as written, NUL-terminated */
    const stream_seg_t *segs;
    uint32_t nsegs; /* >= 1 */
    bool keys_only; /* no index segment: can be a write target */
};

/* Parses a path starting at s[start], s holding n bytes. With `partial`
 * the path may end before n (the expression lexer stops at the first byte
 * that cannot continue it) and *end says where it stopped; otherwise the
 * bytes up to n must all be the path. Returns NULL with a message ("...
 * at column C", C = offset in s + 1) in err. The path and its text are
 * allocated in a. */
spate_stream_path_t *stream_path_compile(stream_arena_t *a, const char *s, size_t n, size_t start,
                                         bool partial, size_t *end, char *err, size_t errlen);
/* True when c can start a path (a name or '$'). */
bool stream_path_start(unsigned char c);
/* The value at p (borrowed, or NULL) and, when parent is not NULL, the
 * container holding it (NULL when the path breaks off earlier). */
json_t *stream_path_resolve(const spate_stream_path_t *p, json_t *root, json_t **parent);
/* Replaces the value at p inside parent (from stream_path_resolve) with
 * value (stolen, also on failure). */
spate_status_t stream_path_replace(const spate_stream_path_t *p, json_t *parent, json_t *value);
/* Sets value (stolen, also on failure) at the keys-only path p under the
 * object root, creating objects on the way; fails with a reason when a
 * step on the way exists and is not an object. */
spate_status_t stream_path_set(const spate_stream_path_t *p, json_t *root, json_t *value,
                               char *reason, size_t rlen);
/* Removes the value at p and returns it (a new reference), or NULL when
 * there is none. */
json_t *stream_path_take(const spate_stream_path_t *p, json_t *root);

/* ---- the filter language (stream_expr.c) ---- */

typedef enum {
    XV_MISSING,
    XV_NULL,
    XV_BOOL,
    XV_INT,
    XV_REAL,
    XV_STR,
    XV_OTHER /* object or array */
} stream_xv_type_t;

/* A value as the evaluator sees it; for a field it borrows from the
 * record, for a literal from the program. */
typedef struct {
    stream_xv_type_t t;
    bool b;
    int64_t i;
    double d;
    const char *s;
    size_t n;
    json_t *j; /* XV_OTHER */
} stream_xval_t;

typedef struct {
    const spate_stream_path_t *path; /* NULL: the literal */
    stream_xval_t lit;
} stream_operand_t;

typedef enum {
    X_OR,
    X_AND,
    X_NOT,
    X_CMP,    /* a op b */
    X_IN,     /* a in [list] */
    X_EXISTS, /* exists(path) */
    X_TRUTH   /* a bare operand used as a condition */
} stream_xkind_t;

typedef enum { XOP_EQ, XOP_NE, XOP_LT, XOP_LE, XOP_GT, XOP_GE } stream_xop_t;

typedef struct stream_expr stream_expr_t;
struct stream_expr {
    stream_xkind_t kind;
    stream_xop_t op;
    bool negate; /* X_IN: "not in" */
    stream_operand_t a, b;
    const stream_xval_t *list; /* X_IN */
    size_t nlist;
    stream_expr_t **kids; /* X_OR, X_AND (n-ary), X_NOT (one) */
    size_t nkids;
};

#define STREAM_EXPR_MAX_DEPTH 32  /* nested parentheses and nots */
#define STREAM_EXPR_MAX_NODES 512 /* conditions in one filter */

/* Compiles a filter expression. NULL with "... at column C" in err. */
stream_expr_t *stream_expr_compile(stream_arena_t *a, const char *text, size_t n, char *err,
                                   size_t errlen);
/* 1 true, 0 false, -1 when the record cannot be judged (a type error),
 * with the reason in reason. */
int stream_expr_eval(const stream_expr_t *e, json_t *rec, char *reason, size_t rlen);

/* ---- map operations ---- */

typedef struct {
    const spate_stream_path_t *from, *to;
    int line;
} stream_rename_t;

typedef struct {
    const spate_stream_path_t *path;
    json_t *value; /* owned by the program (listed in consts) */
    int line;
} stream_default_t;

typedef enum {
    SET_FORMAT, /* "{first} {last}": text; a missing or null field fails */
    SET_CONCAT, /* concat: [a, b], sep: " ": text; missing or null fields skipped */
    SET_COPY,   /* copy: path: the value as is */
    SET_VALUE   /* value: constant */
} stream_set_kind_t;

typedef struct {
    const char *lit; /* literal text (path == NULL) */
    size_t n;
    const spate_stream_path_t *path;
} stream_part_t;

typedef struct {
    const spate_stream_path_t *target;
    stream_set_kind_t kind;
    const stream_part_t *parts; /* FORMAT: pieces; CONCAT: one path each */
    size_t nparts;
    const char *sep;
    size_t seplen;
    const spate_stream_path_t *src; /* COPY */
    json_t *value;                  /* VALUE (owned by the program) */
    int line;
} stream_set_t;

typedef enum {
    CAST_TEXT,
    CAST_INT,
    CAST_BIGINT,
    CAST_DOUBLE,
    CAST_BOOLEAN,
    CAST_UUID,
    CAST_TIMESTAMP
} stream_cast_type_t;

typedef struct {
    const spate_stream_path_t *path;
    stream_cast_type_t type;
    int line;
} stream_cast_t;

typedef struct {
    const spate_stream_path_t *path;
    int line;
} stream_pathop_t; /* require, drop, select */

typedef struct {
    stream_rename_t *rename;
    size_t nrename;
    stream_default_t *defaults;
    size_t ndefault;
    stream_set_t *set;
    size_t nset;
    stream_cast_t *cast;
    size_t ncast;
    stream_pathop_t *require;
    size_t nrequire;
    stream_expr_t *filter; /* NULL: none */
    int filter_line;
    stream_pathop_t *drop;
    size_t ndrop;
    stream_pathop_t *select;
    size_t nselect;
    bool select_flat; /* every selected path is one top-level key */
} stream_map_t;

typedef enum { STEP_JSON, STEP_FORMAT_USER, STEP_MAP } stream_step_kind_t;

typedef struct {
    stream_step_kind_t kind;
    int line; /* 0 for an implicit step */
    stream_map_t map;
} stream_step_t;

struct spate_stream_prog {
    stream_arena_t arena;
    stream_step_t *steps;
    size_t nsteps;
    json_t **consts;
    size_t nconsts, capconsts;
};

/* ---- shared helpers (stream_util.c) ---- */

/* Appends the decimal form of v to b without printf. */
spate_status_t stream_put_i64(spate_buf_t *b, int64_t v);
/* Writes the shortest text that reads back as d ("0.1", "1.0", "1e+300")
 * into out (32 bytes); returns its length. */
size_t stream_fmt_double(double d, char out[32]);
/* A YAML scalar or subtree as a new JSON value (plain scalars typed by
 * YAML's core rules: null, true/false, integers, reals; quoted scalars
 * are strings). NULL for text jansson refuses (not UTF-8). */
json_t *stream_conf_to_json(const spate_conf_node_t *n);

#endif /* SPATE_STREAM_INT_H */
