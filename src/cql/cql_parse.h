/*
 * cql_parse.h — private to src/cql: the CQL 3.x lexer and parser.
 *
 * Text in, AST out. The server (`spate cql`) runs the AST; cqlsh-style
 * scripts are split with spate_cql_parse_next. Both the lexer
 * (cql_lex.c) and the parser (cql_parse.c) are pure: no syscalls, no
 * globals, bounded recursion, every read bounds-checked, so hostile text
 * fails with a message and never crashes.
 *
 *   text ──lexer──▶ tokens (kind, line:col, raw slice) ──parser──▶ AST
 *                                                                  │
 *        spate_cql_stmt_binds ◀── bind markers in order ◀──────────┤
 *        spate_cql_stmt_class (read/write/ddl/use/batch/other) ◀───┘
 *
 * Memory: every AST node, name and decoded literal lives in a
 * spate_cql_arena_t the caller creates and frees once; nothing in the AST
 * points into the source text, so the text may be freed after parsing.
 *
 * Names: unquoted identifiers are folded to lower case, "quoted" ones
 * keep their case (with "" unescaped). All names are NUL-terminated.
 *
 * Literals keep their kind and text (SPATE_CQL_TERM_CONST): strings are
 * unescaped ('' → ', $$..$$ verbatim), numbers keep their spelling with a
 * leading '-' when negative, booleans are "true"/"false", blobs "0x..",
 * uuids and durations as written. The server converts text to bytes per
 * the column type, so "1" can become an int, a bigint or a varint.
 *
 * Positions follow Cassandra's messages: line is 1-based, col is 0-based
 * and counts characters (UTF-8 code points), so "SELECT * FROMM t" fails
 * with "line 1:9 mismatched input 'FROMM' expecting K_FROM (SELECT *
 * [FROMM]...)". (Cassandra prints "line 0:-1" for errors at the end of
 * the input; we give the real end position.)
 *
 * Bind markers (? and :name) are numbered 0, 1, ... in order of appearance
 * across the whole statement, a BATCH included, as Cassandra numbers them.
 *
 * Limits: nesting depth (terms, types, selectors, parenthesised
 * relations) SPATE_CQL_PARSE_MAX_DEPTH; tokens per statement
 * SPATE_CQL_PARSE_MAX_TOKENS; bind markers SPATE_CQL_PARSE_MAX_BINDS (the
 * protocol's [short] value count).
 */
#ifndef SPATE_CQL_PARSE_H
#define SPATE_CQL_PARSE_H

#include "cql.h"

#define SPATE_CQL_PARSE_MAX_DEPTH 64
#define SPATE_CQL_PARSE_MAX_TOKENS 262144
#define SPATE_CQL_PARSE_MAX_BINDS 65535

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/* SYNTAX maps to the protocol's Syntax_error (0x2000), INVALID to
 * Invalid (0x2200): things that parse but Cassandra rejects while
 * preparing (no PRIMARY KEY, unmatched INSERT columns/values, too many
 * markers). NOMEM is an allocation failure (answer Server error). */
typedef enum {
    SPATE_CQL_PARSE_OK = 0,
    SPATE_CQL_PARSE_SYNTAX,
    SPATE_CQL_PARSE_INVALID,
    SPATE_CQL_PARSE_NOMEM,
} spate_cql_parse_err_kind_t;

typedef struct {
    spate_cql_parse_err_kind_t kind;
    uint32_t line; /* 1-based */
    uint32_t col;  /* 0-based, in characters */
    size_t off;    /* byte offset in the input */
    char msg[512]; /* the message for the ERROR frame, NUL-terminated */
} spate_cql_parse_error_t;

/* ------------------------------------------------------------------ */
/* Lexer                                                               */
/* ------------------------------------------------------------------ */

typedef enum {
    SPATE_CQL_TOK_EOF = 0,
    SPATE_CQL_TOK_ERROR,    /* a lexical error; the lexer's err says which */
    SPATE_CQL_TOK_IDENT,    /* letter (letter|digit|_)*: names and keywords */
    SPATE_CQL_TOK_QIDENT,   /* "Quoted Name" */
    SPATE_CQL_TOK_STRING,   /* 'text' or $$text$$ */
    SPATE_CQL_TOK_INTEGER,  /* 123 (the sign is a separate MINUS token) */
    SPATE_CQL_TOK_FLOAT,    /* 1.5, 1e10, 2.5E-3, NaN, Infinity */
    SPATE_CQL_TOK_BOOLEAN,  /* true / false, any case */
    SPATE_CQL_TOK_UUID,     /* 8-4-4-4-12 hex, unquoted */
    SPATE_CQL_TOK_HEX,      /* 0x0123ab (a blob) */
    SPATE_CQL_TOK_DURATION, /* 1h30m, 2mo, P1Y2M, PT5S, P0001-02-03T04:05:06 */
    SPATE_CQL_TOK_QMARK,    /* ? */
    SPATE_CQL_TOK_LPAREN,
    SPATE_CQL_TOK_RPAREN,
    SPATE_CQL_TOK_LBRACKET,
    SPATE_CQL_TOK_RBRACKET,
    SPATE_CQL_TOK_LBRACE,
    SPATE_CQL_TOK_RBRACE,
    SPATE_CQL_TOK_COMMA,
    SPATE_CQL_TOK_SEMI,
    SPATE_CQL_TOK_DOT,
    SPATE_CQL_TOK_STAR,
    SPATE_CQL_TOK_COLON,
    SPATE_CQL_TOK_EQ,
    SPATE_CQL_TOK_NE, /* != */
    SPATE_CQL_TOK_LT,
    SPATE_CQL_TOK_LE,
    SPATE_CQL_TOK_GT,
    SPATE_CQL_TOK_GE,
    SPATE_CQL_TOK_PLUS,
    SPATE_CQL_TOK_MINUS,
    SPATE_CQL_TOK_PLUS_EQ,  /* += */
    SPATE_CQL_TOK_MINUS_EQ, /* -= */
    SPATE_CQL_TOK_SLASH,
    SPATE_CQL_TOK_PERCENT,
} spate_cql_tok_kind_t;

/* A token: its raw text is src[off, off + len) (quotes included). */
typedef struct {
    spate_cql_tok_kind_t kind;
    uint32_t line, col; /* of the first character, as in spate_cql_parse_error_t */
    size_t off, len;
} spate_cql_tok_t;

/* Lexer state over borrowed text. It is also the cursor of
 * spate_cql_parse_next: off/line/col say where the next token starts. */
typedef struct {
    const char *src;
    size_t len;
    size_t off;
    uint32_t line, col;
    bool failed;                 /* a TOK_ERROR was returned (sticky) */
    spate_cql_parse_error_t err; /* set with the TOK_ERROR */
} spate_cql_lexer_t;

void spate_cql_lex_init(spate_cql_lexer_t *lx, const char *src, size_t len);
/* Skips blanks and comments and reads one token into *tok. At the end it
 * returns TOK_EOF (positioned at the end) every time; after a lexical
 * error TOK_ERROR every time, with lx->err filled. */
spate_cql_tok_kind_t spate_cql_lex_next(spate_cql_lexer_t *lx, spate_cql_tok_t *tok);
/* Decodes a STRING or QIDENT token's text (quotes removed, doubled quotes
 * undone, $$..$$ verbatim) into out, which holds at least tok->len bytes;
 * returns the decoded length. Other kinds are copied verbatim. */
size_t spate_cql_tok_decode(const char *src, const spate_cql_tok_t *tok, char *out);
/* Length (1-4) of the valid UTF-8 character at s[0, n), or 0: strict,
 * so no overlong forms, surrogates or code points above U+10FFFF (what
 * drivers' decoders accept in an ERROR message). */
size_t spate_cql_utf8_len(const unsigned char *s, size_t n);
/* A short name of a token kind for messages ("IDENT", "')'", "EOF"). */
const char *spate_cql_tok_kind_name(spate_cql_tok_kind_t k);

/* ------------------------------------------------------------------ */
/* Arena                                                               */
/* ------------------------------------------------------------------ */

typedef struct spate_cql_arena spate_cql_arena_t;

/* NULL on allocation failure. Freed with spate_cql_arena_free, which frees
 * every AST parsed into it (NULL-safe). */
spate_cql_arena_t *spate_cql_arena_new(void);
void spate_cql_arena_free(spate_cql_arena_t *a);
/* n zeroed bytes aligned for any type, owned by the arena; NULL on
 * failure. */
void *spate_cql_arena_alloc(spate_cql_arena_t *a, size_t n);
/* A NUL-terminated copy of s[0, n) owned by the arena; NULL on failure. */
char *spate_cql_arena_strndup(spate_cql_arena_t *a, const char *s, size_t n);
/* Bytes handed out so far (for limits and tests). */
size_t spate_cql_arena_used(const spate_cql_arena_t *a);

/* ------------------------------------------------------------------ */
/* AST                                                                 */
/* ------------------------------------------------------------------ */

typedef struct spate_cql_term spate_cql_term_t;
typedef struct spate_cql_typeref spate_cql_typeref_t;
typedef struct spate_cql_selector spate_cql_selector_t;
typedef struct spate_cql_stmt spate_cql_stmt_t;

/* [ks.]name; ks is NULL when not written (the session's keyspace). */
typedef struct {
    const char *ks;
    const char *name;
} spate_cql_qname_t;

/* A type as written in DDL or a type hint.
 *   id            name / ks        args
 *   native        -                -
 *   LIST, SET     -                1 element type
 *   MAP           -                key, value
 *   TUPLE         -                n >= 1 field types
 *   UDT           type name, ks    -
 *   CUSTOM        'java.class'     -
 * frozen is set for frozen<...> (the frozen wrapper itself is not a node). */
struct spate_cql_typeref {
    spate_cql_type_t id;
    bool frozen;
    const char *name;
    const char *ks;
    spate_cql_typeref_t **args;
    uint32_t nargs;
};

typedef enum {
    SPATE_CQL_LIT_STRING,
    SPATE_CQL_LIT_INTEGER,
    SPATE_CQL_LIT_FLOAT, /* includes NaN, Infinity, -Infinity */
    SPATE_CQL_LIT_BOOLEAN,
    SPATE_CQL_LIT_UUID,
    SPATE_CQL_LIT_HEX,
    SPATE_CQL_LIT_DURATION,
} spate_cql_lit_kind_t;

typedef enum {
    SPATE_CQL_TERM_CONST, /* lit */
    SPATE_CQL_TERM_NULL,
    SPATE_CQL_TERM_BIND,  /* bind */
    SPATE_CQL_TERM_LIST,  /* [a, b]       items */
    SPATE_CQL_TERM_SET,   /* {a, b}, {}   items (an empty {} may also be a map) */
    SPATE_CQL_TERM_MAP,   /* {k: v}       map */
    SPATE_CQL_TERM_TUPLE, /* (a, b)       items */
    SPATE_CQL_TERM_UDT,   /* {f: v}       udt (field names, not terms, as keys) */
    SPATE_CQL_TERM_FUNC,  /* [ks.]f(args) func */
    SPATE_CQL_TERM_HINT,  /* (type) term  hint; also CAST(term AS type) with cast=true */
} spate_cql_term_kind_t;

struct spate_cql_term {
    spate_cql_term_kind_t kind;
    uint32_t line, col; /* where the term starts */
    size_t off, len;    /* its source text */
    union {
        struct {
            spate_cql_lit_kind_t kind;
            const char *text; /* decoded, NUL-terminated (strings may hold NULs: use len) */
            size_t len;
        } lit;
        struct {
            uint32_t index;   /* 0-based, across the statement */
            const char *name; /* :name, or NULL for ? */
        } bind;
        struct {
            spate_cql_term_t **v;
            uint32_t n;
        } items;
        struct {
            spate_cql_term_t **keys, **vals;
            uint32_t n;
        } map;
        struct {
            const char **fields;
            spate_cql_term_t **vals;
            uint32_t n;
        } udt;
        struct {
            const char *ks; /* NULL unless written */
            const char *name;
            spate_cql_term_t **args;
            uint32_t nargs;
        } func;
        struct {
            spate_cql_typeref_t *type;
            spate_cql_term_t *term;
            bool cast;
        } hint;
    };
};

/* WHERE relations and IF conditions share one shape:
 *   lhs      cols          key / field     written as
 *   COLUMN   1             -               c op ...
 *   ELEM     1             key (a term)    c[key] op ...
 *   FIELD    1             field           c.field op ...   (IF only)
 *   TOKEN    n             -               token(a, b) op ...
 *   TUPLE    n             -               (a, b) op ...
 * The right side is `value` (a term: for IN a bind marker, for a TUPLE
 * relation a tuple literal or marker), or for IN (...) the list in/nin
 * (each a term; for TUPLE each a tuple literal or marker). IS NOT NULL has
 * neither. */
typedef enum {
    SPATE_CQL_LHS_COLUMN,
    SPATE_CQL_LHS_ELEM,
    SPATE_CQL_LHS_FIELD,
    SPATE_CQL_LHS_TOKEN,
    SPATE_CQL_LHS_TUPLE,
} spate_cql_lhs_kind_t;

typedef enum {
    SPATE_CQL_REL_EQ,
    SPATE_CQL_REL_LT,
    SPATE_CQL_REL_LE,
    SPATE_CQL_REL_GT,
    SPATE_CQL_REL_GE,
    SPATE_CQL_REL_NE,
    SPATE_CQL_REL_IN,
    SPATE_CQL_REL_CONTAINS,
    SPATE_CQL_REL_CONTAINS_KEY,
    SPATE_CQL_REL_LIKE,
    SPATE_CQL_REL_IS_NOT_NULL,
} spate_cql_rel_op_t;

typedef struct {
    spate_cql_lhs_kind_t lhs;
    const char **cols;
    uint32_t ncols;
    spate_cql_term_t *key;
    const char *field;
    spate_cql_rel_op_t op;
    spate_cql_term_t *value;
    bool in_list; /* IN (...): the candidates are in[0, nin) */
    spate_cql_term_t **in;
    uint32_t nin;
} spate_cql_relation_t;

typedef enum {
    SPATE_CQL_SEL_COLUMN,     /* name */
    SPATE_CQL_SEL_COUNT_ROWS, /* COUNT(*) or COUNT(1) */
    SPATE_CQL_SEL_WRITETIME,  /* WRITETIME(args[0]), args[0] a COLUMN */
    SPATE_CQL_SEL_TTL,        /* TTL(args[0]) */
    SPATE_CQL_SEL_FUNC,       /* [ks.]name(args): count(c), min, now(), token(a), ... */
    SPATE_CQL_SEL_CAST,       /* CAST(args[0] AS type) */
    SPATE_CQL_SEL_FIELD,      /* args[0].name (a UDT field) */
    SPATE_CQL_SEL_TERM,       /* a constant, NULL or bind marker: term */
} spate_cql_sel_kind_t;

struct spate_cql_selector {
    spate_cql_sel_kind_t kind;
    const char *name; /* column, function or field name */
    const char *ks;   /* function keyspace if written */
    spate_cql_selector_t **args;
    uint32_t nargs;
    spate_cql_typeref_t *type;
    spate_cql_term_t *term;
    const char *alias; /* AS alias, or NULL */
    size_t off, len;   /* source text, without the alias */
};

typedef struct {
    const char *col;
    bool desc;
} spate_cql_order_t;

typedef struct {
    spate_cql_term_t *ttl;       /* USING TTL: INTEGER const or bind marker; NULL if absent */
    spate_cql_term_t *timestamp; /* USING TIMESTAMP */
} spate_cql_using_t;

typedef struct {
    const char *name;
    spate_cql_term_t *value; /* CONST (a bare word value is a STRING) or MAP of CONSTs */
} spate_cql_prop_t;

typedef struct {
    const char *name;
    spate_cql_typeref_t *type;
    bool is_static;
} spate_cql_coldef_t;

typedef enum {
    SPATE_CQL_ASSIGN_SET,       /* c = v */
    SPATE_CQL_ASSIGN_SET_ELEM,  /* c[key] = v */
    SPATE_CQL_ASSIGN_SET_FIELD, /* c.field = v */
    SPATE_CQL_ASSIGN_ADD,       /* c = c + v, c += v (counters, collections) */
    SPATE_CQL_ASSIGN_SUB,       /* c = c - v, c -= v */
    SPATE_CQL_ASSIGN_PREPEND,   /* c = v + c (lists) */
} spate_cql_assign_kind_t;

typedef struct {
    spate_cql_assign_kind_t kind;
    const char *col;
    spate_cql_term_t *key;
    const char *field;
    spate_cql_term_t *value;
} spate_cql_assign_t;

/* DELETE's column list: c, c[key] or c.field. */
typedef struct {
    const char *col;
    spate_cql_term_t *key;
    const char *field;
} spate_cql_delcol_t;

typedef enum {
    SPATE_CQL_STMT_USE,
    SPATE_CQL_STMT_CREATE_KEYSPACE,
    SPATE_CQL_STMT_ALTER_KEYSPACE,
    SPATE_CQL_STMT_DROP_KEYSPACE,
    SPATE_CQL_STMT_CREATE_TABLE,
    SPATE_CQL_STMT_ALTER_TABLE,
    SPATE_CQL_STMT_DROP_TABLE,
    SPATE_CQL_STMT_TRUNCATE,
    SPATE_CQL_STMT_SELECT,
    SPATE_CQL_STMT_INSERT,
    SPATE_CQL_STMT_UPDATE,
    SPATE_CQL_STMT_DELETE,
    SPATE_CQL_STMT_BATCH,
    SPATE_CQL_STMT_UNSUPPORTED, /* recognised, skipped to its end: answer Invalid */
} spate_cql_stmt_kind_t;

typedef struct {
    const char *ks;
} spate_cql_stmt_use_t;

/* CREATE / ALTER / DROP KEYSPACE. */
typedef struct {
    const char *ks;
    bool if_not_exists; /* CREATE */
    bool if_exists;     /* ALTER, DROP */
    spate_cql_prop_t *props;
    uint32_t nprops;
} spate_cql_stmt_keyspace_t;

/* CREATE TABLE. pk holds the partition key (inline "c type PRIMARY KEY"
 * or the first PRIMARY KEY (...) element), ck the clustering columns; the
 * parser has checked there is exactly one PRIMARY KEY, that every key
 * column is defined, and that no column is defined twice. */
typedef struct {
    spate_cql_qname_t table;
    bool if_not_exists;
    spate_cql_coldef_t *cols;
    uint32_t ncols;
    const char **pk;
    uint32_t npk;
    const char **ck;
    uint32_t nck;
    spate_cql_order_t *order; /* WITH CLUSTERING ORDER BY (...) */
    uint32_t norder;
    bool compact_storage;
    spate_cql_prop_t *props;
    uint32_t nprops;
} spate_cql_stmt_create_table_t;

typedef enum {
    SPATE_CQL_ALTER_ADD,          /* cols (with types) */
    SPATE_CQL_ALTER_DROP,         /* cols (names only), timestamp optional */
    SPATE_CQL_ALTER_RENAME,       /* renames: cols[i].name TO to[i] */
    SPATE_CQL_ALTER_TYPE,         /* cols[0]: ALTER c TYPE t */
    SPATE_CQL_ALTER_WITH,         /* props */
    SPATE_CQL_ALTER_DROP_COMPACT, /* DROP COMPACT STORAGE */
} spate_cql_alter_op_t;

typedef struct {
    spate_cql_qname_t table;
    bool if_exists; /* ALTER TABLE IF EXISTS */
    bool if_col;    /* ADD IF NOT EXISTS / DROP IF EXISTS / RENAME IF EXISTS */
    spate_cql_alter_op_t op;
    spate_cql_coldef_t *cols;
    uint32_t ncols;
    const char **to;
    spate_cql_term_t *timestamp; /* DROP ... USING TIMESTAMP n: an INTEGER const */
    spate_cql_prop_t *props;
    uint32_t nprops;
} spate_cql_stmt_alter_table_t;

/* DROP TABLE / TRUNCATE. */
typedef struct {
    spate_cql_qname_t table;
    bool if_exists;
} spate_cql_stmt_table_t;

typedef struct {
    spate_cql_qname_t table;
    bool json;
    bool distinct;
    spate_cql_selector_t **sel; /* nsel == 0 means '*' */
    uint32_t nsel;
    spate_cql_relation_t *where;
    uint32_t nwhere;
    const char **group_by;
    uint32_t ngroup_by;
    spate_cql_order_t *order;
    uint32_t norder;
    spate_cql_term_t *per_partition_limit; /* INTEGER const or marker, or NULL */
    spate_cql_term_t *limit;
    bool allow_filtering;
} spate_cql_stmt_select_t;

typedef struct {
    spate_cql_qname_t table;
    const char **cols; /* parallel to values; the parser checked the counts */
    spate_cql_term_t **values;
    uint32_t ncols;
    spate_cql_term_t *json; /* INSERT ... JSON 'text' | ?: STRING const or marker; cols NULL */
    bool json_default_unset;
    bool if_not_exists;
    spate_cql_using_t using;
} spate_cql_stmt_insert_t;

typedef struct {
    spate_cql_qname_t table;
    spate_cql_using_t using;
    spate_cql_assign_t *set;
    uint32_t nset;
    spate_cql_relation_t *where;
    uint32_t nwhere;
    bool if_exists;
    spate_cql_relation_t *cond; /* IF c = v AND ... */
    uint32_t ncond;
} spate_cql_stmt_update_t;

typedef struct {
    spate_cql_qname_t table;
    spate_cql_using_t using;  /* TIMESTAMP only */
    spate_cql_delcol_t *cols; /* ncols == 0: whole rows */
    uint32_t ncols;
    spate_cql_relation_t *where;
    uint32_t nwhere;
    bool if_exists;
    spate_cql_relation_t *cond;
    uint32_t ncond;
} spate_cql_stmt_delete_t;

/* Numbered as the BATCH message's type byte. */
typedef enum {
    SPATE_CQL_BATCH_KIND_LOGGED = 0,
    SPATE_CQL_BATCH_KIND_UNLOGGED = 1,
    SPATE_CQL_BATCH_KIND_COUNTER = 2,
} spate_cql_batch_kind_t;

typedef struct {
    spate_cql_batch_kind_t type;
    spate_cql_using_t using;
    spate_cql_stmt_t **stmts; /* INSERT, UPDATE or DELETE each */
    uint32_t n;
} spate_cql_stmt_batch_t;

typedef enum {
    SPATE_CQL_UNSUP_CREATE_INDEX,
    SPATE_CQL_UNSUP_DROP_INDEX,
    SPATE_CQL_UNSUP_CREATE_TYPE,
    SPATE_CQL_UNSUP_ALTER_TYPE,
    SPATE_CQL_UNSUP_DROP_TYPE,
    SPATE_CQL_UNSUP_CREATE_FUNCTION,
    SPATE_CQL_UNSUP_DROP_FUNCTION,
    SPATE_CQL_UNSUP_CREATE_AGGREGATE,
    SPATE_CQL_UNSUP_DROP_AGGREGATE,
    SPATE_CQL_UNSUP_CREATE_VIEW,
    SPATE_CQL_UNSUP_ALTER_VIEW,
    SPATE_CQL_UNSUP_DROP_VIEW,
    SPATE_CQL_UNSUP_CREATE_TRIGGER,
    SPATE_CQL_UNSUP_DROP_TRIGGER,
    SPATE_CQL_UNSUP_ROLE,        /* CREATE/ALTER/DROP/LIST ROLE(S)/USER(S) */
    SPATE_CQL_UNSUP_PERMISSIONS, /* GRANT, REVOKE, LIST PERMISSIONS */
    SPATE_CQL_UNSUP_DESCRIBE,
} spate_cql_unsup_kind_t;

typedef struct {
    spate_cql_unsup_kind_t what;
    const char *name; /* "CREATE INDEX", ... for the Invalid message */
} spate_cql_stmt_unsupported_t;

struct spate_cql_stmt {
    spate_cql_stmt_kind_t kind;
    uint32_t line, col; /* where the statement starts */
    size_t off, len;    /* its source text, without the ';' */
    uint32_t nbind;     /* bind markers (a BATCH: of all its statements) */
    union {
        spate_cql_stmt_use_t use;
        spate_cql_stmt_keyspace_t keyspace;
        spate_cql_stmt_create_table_t create_table;
        spate_cql_stmt_alter_table_t alter_table;
        spate_cql_stmt_table_t table; /* DROP TABLE, TRUNCATE */
        spate_cql_stmt_select_t select;
        spate_cql_stmt_insert_t insert;
        spate_cql_stmt_update_t update;
        spate_cql_stmt_delete_t del;
        spate_cql_stmt_batch_t batch;
        spate_cql_stmt_unsupported_t unsupported;
    };
};

/* ------------------------------------------------------------------ */
/* Parsing                                                             */
/* ------------------------------------------------------------------ */

/* Parses exactly one statement from src[0, len): an optional run of ';'
 * may follow it, then only blanks and comments. On success *out points
 * into the arena. On failure returns SPATE_EINVAL (syntax or invalid,
 * err says which) or SPATE_ENOMEM; *out is NULL and the arena may hold
 * garbage that spate_cql_arena_free releases. err may be NULL. */
spate_status_t spate_cql_parse(spate_cql_arena_t *a, const char *src, size_t len,
                               spate_cql_stmt_t **out, spate_cql_parse_error_t *err);

/* Script mode: parses the statement at the cursor (a lexer set up with
 * spate_cql_lex_init over the whole script). Empty statements (";") are
 * skipped. The statement must end with ';' or the end of the input; on
 * success the cursor moves past that ';' (its off/line/col say where the
 * next statement starts; stmt->off/len give this one's text). Returns
 * SPATE_ENOENT when only blanks, comments and ';' remain. On error the
 * cursor is left where it was; positions in err are within the script. */
spate_status_t spate_cql_parse_next(spate_cql_arena_t *a, spate_cql_lexer_t *cur,
                                    spate_cql_stmt_t **out, spate_cql_parse_error_t *err);

/* ------------------------------------------------------------------ */
/* Questions the server asks about a statement                         */
/* ------------------------------------------------------------------ */

typedef enum {
    SPATE_CQL_CLASS_READ,  /* SELECT */
    SPATE_CQL_CLASS_WRITE, /* INSERT, UPDATE, DELETE, TRUNCATE */
    SPATE_CQL_CLASS_DDL,   /* CREATE/ALTER/DROP KEYSPACE/TABLE: answer Schema_change */
    SPATE_CQL_CLASS_USE,   /* USE: answer Set_keyspace */
    SPATE_CQL_CLASS_BATCH,
    SPATE_CQL_CLASS_OTHER, /* UNSUPPORTED */
} spate_cql_class_t;

spate_cql_class_t spate_cql_stmt_class(const spate_cql_stmt_t *st);
/* "SELECT", "CREATE TABLE", ... (the unsupported statement's own name). */
const char *spate_cql_stmt_kind_name(const spate_cql_stmt_t *st);

/* What a bind marker binds to, for PREPARE's metadata. `name` is what
 * Cassandra reports for it: the marker's own name for :name markers,
 * otherwise
 *   COLUMN     the column                  c = ?, INSERT (c) VALUES (?)
 *   IN         "in(c)"  (list of c)        c IN ?
 *   KEY        "key(c)" (map key type; for a list column the server says
 *              "idx(c)" and int)           c[?] = .., CONTAINS KEY ?, DELETE c[?]
 *   VALUE      "value(c)" (element type)   c[k] = ?, CONTAINS ?, [?, ?] for c
 *   FIELD      "c.f"                       c.f = ?, {f: ?} for c
 *   TUPLE_ELEM the column, elem = position (a, b) = (?, ?): cols[elem];
 *              (1, ?) for tuple column c: element `elem` of c's type
 *   TUPLE      "(a,b)"                     (a, b) = ?, (a, b) IN (?, ?)
 *   TUPLE_IN   "in((a,b))"                 (a, b) IN ?
 *   TOKEN      "partition key token"       token(a, b) > ?
 *   LIMIT      "[limit]"                   LIMIT ?
 *   PER_PARTITION_LIMIT "[per_partition_limit]"
 *   TTL        "[ttl]"  (int)              USING TTL ?
 *   TIMESTAMP  "[timestamp]" (bigint)      USING TIMESTAMP ?
 *   JSON       "[json]" (text)             INSERT ... JSON ?
 *   FUNC_ARG   "arg0(system.f)"            f(?), elem = argument position
 *   HINT       the column if known, else "[hint]"; type = the hint
 *   UNKNOWN    "expr"                      anything else (a selector)
 */
typedef enum {
    SPATE_CQL_BIND_UNKNOWN = 0,
    SPATE_CQL_BIND_COLUMN,
    SPATE_CQL_BIND_IN,
    SPATE_CQL_BIND_KEY,
    SPATE_CQL_BIND_VALUE,
    SPATE_CQL_BIND_FIELD,
    SPATE_CQL_BIND_TUPLE_ELEM,
    SPATE_CQL_BIND_TUPLE,
    SPATE_CQL_BIND_TUPLE_IN,
    SPATE_CQL_BIND_TOKEN,
    SPATE_CQL_BIND_LIMIT,
    SPATE_CQL_BIND_PER_PARTITION_LIMIT,
    SPATE_CQL_BIND_TTL,
    SPATE_CQL_BIND_TIMESTAMP,
    SPATE_CQL_BIND_JSON,
    SPATE_CQL_BIND_FUNC_ARG,
    SPATE_CQL_BIND_HINT,
} spate_cql_bind_role_t;

typedef struct {
    spate_cql_bind_role_t role;
    const char *name;               /* as PREPARE reports it (see above) */
    const char *marker;             /* :name, or NULL for ? */
    const spate_cql_qname_t *table; /* the (batch member's) table; NULL for none */
    const spate_cql_stmt_t *stmt;   /* the statement it belongs to (a batch member) */
    const char *col;                /* COLUMN, IN, KEY, VALUE, FIELD, TUPLE_ELEM, HINT */
    const char *const *cols;        /* TOKEN, TUPLE, TUPLE_IN, (a, b) relations */
    uint32_t ncols;
    uint32_t elem;                   /* TUPLE_ELEM, FUNC_ARG position */
    const char *field;               /* FIELD */
    const char *func;                /* FUNC_ARG */
    const char *func_ks;             /* FUNC_ARG: NULL when not written */
    const spate_cql_typeref_t *type; /* HINT */
} spate_cql_bind_t;

/* Fills *out with st->nbind entries, entry i describing marker i, in the
 * arena. *out is NULL when there are none. SPATE_ENOMEM on failure. */
spate_status_t spate_cql_stmt_binds(spate_cql_arena_t *a, const spate_cql_stmt_t *st,
                                    spate_cql_bind_t **out);

/* The result column name Cassandra gives a selector: the alias if any,
 * else "c", "count", "writetime(c)", "ttl(c)", "system.token(id)",
 * "cast(c as text)", "c.f", a literal's text. In the arena; NULL on
 * allocation failure. */
const char *spate_cql_selector_name(spate_cql_arena_t *a, const spate_cql_selector_t *s);

#endif /* SPATE_CQL_PARSE_H */
