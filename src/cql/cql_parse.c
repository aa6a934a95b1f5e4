/*
 * cql_parse.c — recursive-descent parser for CQL 3.x statements.
 *
 * Grammar (after Cassandra's Parser.g; keywords case-insensitive):
 *
 *   statement  := select | insert | update | delete | batch | use | truncate
 *               | create (keyspace|table) | alter (keyspace|table)
 *               | drop (keyspace|table) | <other DDL/DCL: UNSUPPORTED node>
 *   select     := SELECT [JSON] [DISTINCT] ('*' | selector [AS n], ...)
 *                 FROM qname [WHERE rel (AND rel)*] [GROUP BY c, ...]
 *                 [ORDER BY c [ASC|DESC], ...] [PER PARTITION LIMIT iv]
 *                 [LIMIT iv] [ALLOW FILTERING]
 *   insert     := INSERT INTO qname ('(' c, ... ')' VALUES '(' term, ... ')'
 *                 | JSON (string|marker) [DEFAULT (NULL|UNSET)])
 *                 [IF NOT EXISTS] [USING ...]     (either order)
 *   update     := UPDATE qname [USING ...] SET assign, ... WHERE rels
 *                 [IF EXISTS | IF cond (AND cond)*]
 *   delete     := DELETE [c | c[term] | c.f, ...] FROM qname
 *                 [USING TIMESTAMP iv] WHERE rels [IF ...]
 *   batch      := BEGIN [UNLOGGED|LOGGED|COUNTER] BATCH [USING ...]
 *                 ((insert|update|delete) [';'])* APPLY BATCH
 *   term       := constant | '-' number | NULL | marker | [..] | {..} | (..)
 *               | (type) term | [ks.]f(term, ...) | CAST(term AS type)
 *   marker     := '?' | ':' name
 *   iv         := INTEGER | '-' INTEGER | marker
 *
 * Identifiers: an IDENT that is a reserved keyword (SELECT, FROM, KEY is
 * not one) is not a name; everything else is, so `key`, `ttl`, `count`,
 * `type`, `values`, `timestamp` work as column names as in Cassandra.
 *
 * Tokens are lexed on demand into a growing array (so the parser can look
 * ahead a few tokens and quote earlier ones in messages); the array is
 * freed when the call returns. AST nodes go to the caller's arena.
 *
 * Errors unwind with longjmp to the one entry point (parse_run). That is
 * safe here because everything allocated on the way is either in the arena
 * (freed by its owner) or the token array (freed by parse_run), and no
 * function between holds another resource. Messages follow Cassandra's
 * shapes: "line L:C mismatched input 'X' expecting K_FROM (snippet)",
 * "line L:C no viable alternative at input 'X' (snippet)"; checks
 * Cassandra does while preparing are SPATE_CQL_PARSE_INVALID with its
 * wording ("No PRIMARY KEY specifed (exactly one required)", sic).
 */
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cql_parse.h"

/* ------------------------------------------------------------------ */
/* Arena                                                               */
/* ------------------------------------------------------------------ */

/* Chunks of at least 16 KiB; a large request gets a chunk of its own
 * placed behind the head so the head's free space stays usable. */
#define ARENA_CHUNK 16384
#define ARENA_ALIGN 16

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t cap, used;
    alignas(ARENA_ALIGN) unsigned char data[];
} arena_chunk_t;

struct spate_cql_arena {
    arena_chunk_t *head;
    size_t used;
};

spate_cql_arena_t *spate_cql_arena_new(void) { return calloc(1, sizeof(spate_cql_arena_t)); }

void spate_cql_arena_free(spate_cql_arena_t *a) {
    if (!a) return;
    for (arena_chunk_t *c = a->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}

void *spate_cql_arena_alloc(spate_cql_arena_t *a, size_t n) {
    if (n == 0) n = 1;
    if (n > SIZE_MAX / 2) return NULL;
    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    arena_chunk_t *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;
        arena_chunk_t *nc = malloc(sizeof *nc + cap);
        if (!nc) return NULL;
        nc->cap = cap;
        nc->used = 0;
        if (c && cap == n) { /* a big one-off: keep the current head */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            a->head = nc;
        }
        c = nc;
    }
    void *p = c->data + c->used;
    c->used += n;
    a->used += n;
    memset(p, 0, n);
    return p;
}

char *spate_cql_arena_strndup(spate_cql_arena_t *a, const char *s, size_t n) {
    if (n == SIZE_MAX) return NULL;
    char *d = spate_cql_arena_alloc(a, n + 1);
    if (!d) return NULL;
    if (n) memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

size_t spate_cql_arena_used(const spate_cql_arena_t *a) { return a ? a->used : 0; }

/* ------------------------------------------------------------------ */
/* Parser state, tokens and errors                                     */
/* ------------------------------------------------------------------ */

typedef struct {
    spate_cql_arena_t *a;
    spate_cql_lexer_t lx; /* lexes ahead of pos */
    const char *src;
    size_t len;
    size_t stmt_off;          /* start of the statement (for the snippet's "...") */
    spate_cql_tok_t **blocks; /* TOK_BLOCK tokens each: pointers stay valid */
    size_t nblocks, ntoks, pos;
    bool lex_done; /* the last token lexed is EOF or ERROR */
    uint32_t depth;
    uint32_t nbind;
    spate_cql_parse_error_t err;
    spate_status_t status;
    jmp_buf jb;
} parser_t;

#define TOK_BLOCK 256

static spate_cql_tok_t *tok_at(const parser_t *p, size_t i) {
    return &p->blocks[i / TOK_BLOCK][i % TOK_BLOCK];
}

/* The index of a token of this parse (for the snippet). */
static size_t tok_index(const parser_t *p, const spate_cql_tok_t *t) {
    for (size_t b = 0; b < p->nblocks; b++)
        if (t >= p->blocks[b] && t < p->blocks[b] + TOK_BLOCK)
            return b * TOK_BLOCK + (size_t)(t - p->blocks[b]);
    return 0;
}

static _Noreturn void bail(parser_t *p, spate_status_t st) {
    p->status = st;
    longjmp(p->jb, 1);
}

static void *alloc(parser_t *p, size_t n) {
    void *m = spate_cql_arena_alloc(p->a, n);
    if (!m) {
        p->err.kind = SPATE_CQL_PARSE_NOMEM;
        snprintf(p->err.msg, sizeof p->err.msg, "out of memory");
        bail(p, SPATE_ENOMEM);
    }
    return m;
}

static char *dup(parser_t *p, const char *s, size_t n) {
    char *d = alloc(p, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* A message under construction in err.msg. Source text is copied as
 * valid UTF-8 only (an ERROR frame's [string] must decode), newlines as
 * spaces. */
typedef struct {
    char *p;
    size_t cap, len;
} msg_t;

static void msg_raw(msg_t *m, const char *s, size_t n) {
    for (size_t i = 0; i < n && m->len + 1 < m->cap; i++) m->p[m->len++] = s[i];
    m->p[m->len] = '\0';
}

static void msg_printf(msg_t *m, const char *fmt, ...) SPATE_PRINTF(2, 3);
static void msg_printf(msg_t *m, const char *fmt, ...) {
    if (m->len + 1 >= m->cap) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(m->p + m->len, m->cap - m->len, fmt, ap);
    va_end(ap);
    if (n > 0) m->len = SPATE_MIN(m->len + (size_t)n, m->cap - 1);
}

static void msg_src(msg_t *m, const char *s, size_t n) {
    size_t i = 0;
    while (i < n && m->len + 5 < m->cap) {
        size_t k = spate_cql_utf8_len((const unsigned char *)s + i, n - i);
        if (k == 0) {
            msg_raw(m, "?", 1);
            i++;
        } else if (k == 1 && (s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) {
            msg_raw(m, " ", 1);
            i++;
        } else {
            msg_raw(m, s + i, k);
            i += k;
        }
    }
}

/* A token's text as messages quote it; long tokens are cut. */
#define MSG_TOKEN_MAX 80
static void msg_tok(msg_t *m, const parser_t *p, const spate_cql_tok_t *t) {
    if (t->kind == SPATE_CQL_TOK_EOF) {
        msg_raw(m, "<EOF>", 5);
        return;
    }
    msg_src(m, p->src + t->off, SPATE_MIN(t->len, (size_t)MSG_TOKEN_MAX));
    if (t->len > MSG_TOKEN_MAX) msg_raw(m, "...", 3);
}

/* Cassandra's snippet: a few tokens before the offending one, the
 * offending one in brackets, "..." where the query goes on. */
#define SNIPPET_TOKENS_BEFORE 5
#define SNIPPET_MAX_BEFORE 160
static void msg_snippet(msg_t *m, const parser_t *p, const spate_cql_tok_t *t) {
    if (t->kind == SPATE_CQL_TOK_EOF) return; /* as Cassandra: no snippet at the end */
    size_t idx = tok_index(p, t);
    size_t first = idx > SNIPPET_TOKENS_BEFORE ? idx - SNIPPET_TOKENS_BEFORE : 0;
    size_t from = tok_at(p, first)->off;
    if (t->off - from > SNIPPET_MAX_BEFORE) from = t->off - SNIPPET_MAX_BEFORE;
    while (from < t->off && (p->src[from] & 0xC0) == 0x80) from++; /* a character boundary */
    msg_raw(m, " (", 2);
    if (from > p->stmt_off) msg_raw(m, "...", 3);
    msg_src(m, p->src + from, t->off - from);
    msg_raw(m, "[", 1);
    msg_tok(m, p, t);
    msg_raw(m, "]", 1);
    size_t end = t->off + t->len;
    while (end < p->len && (p->src[end] == ' ' || p->src[end] == '\t' || p->src[end] == '\n' ||
                            p->src[end] == '\r'))
        end++;
    if (end < p->len) msg_raw(m, "...", 3);
    msg_raw(m, ")", 1);
}

static msg_t msg_begin(parser_t *p, spate_cql_parse_err_kind_t kind, const spate_cql_tok_t *t) {
    p->err.kind = kind;
    p->err.line = t->line;
    p->err.col = t->col;
    p->err.off = t->off;
    msg_t m = {p->err.msg, sizeof p->err.msg, 0};
    m.p[0] = '\0';
    return m;
}

/* A lexical error surfaces when the parser reaches the ERROR token. */
static void fail_if_lex_error(parser_t *p, const spate_cql_tok_t *t) {
    if (t->kind == SPATE_CQL_TOK_ERROR) {
        p->err = p->lx.err;
        bail(p, SPATE_EINVAL);
    }
}

static const spate_cql_tok_t *peek(parser_t *p, size_t k);

static _Noreturn void fail_noviable_at(parser_t *p, const spate_cql_tok_t *t) {
    fail_if_lex_error(p, t);
    msg_t m = msg_begin(p, SPATE_CQL_PARSE_SYNTAX, t);
    msg_printf(&m, "line %u:%u no viable alternative at input '", t->line, t->col);
    msg_tok(&m, p, t);
    msg_raw(&m, "'", 1);
    msg_snippet(&m, p, t);
    bail(p, SPATE_EINVAL);
}

static _Noreturn void fail_noviable(parser_t *p) { fail_noviable_at(p, peek(p, 0)); }

/* "mismatched input 'X' expecting <what>" at the current token. */
static _Noreturn void fail_expect(parser_t *p, const char *what) {
    const spate_cql_tok_t *t = peek(p, 0);
    fail_if_lex_error(p, t);
    msg_t m = msg_begin(p, SPATE_CQL_PARSE_SYNTAX, t);
    msg_printf(&m, "line %u:%u mismatched input '", t->line, t->col);
    msg_tok(&m, p, t);
    msg_printf(&m, "' expecting %s", what);
    msg_snippet(&m, p, t);
    bail(p, SPATE_EINVAL);
}

/* A message without a position prefix, as Cassandra gives for checks made
 * while building the statement; err still records where. */
static _Noreturn void fail_plain(parser_t *p, spate_cql_parse_err_kind_t kind,
                                 const spate_cql_tok_t *at, const char *fmt, ...)
    SPATE_PRINTF(4, 5);
static _Noreturn void fail_plain(parser_t *p, spate_cql_parse_err_kind_t kind,
                                 const spate_cql_tok_t *at, const char *fmt, ...) {
    /* The arguments may quote names or literals: copy as valid UTF-8. */
    char tmp[sizeof p->err.msg];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    msg_t m = msg_begin(p, kind, at);
    if (n > 0) msg_src(&m, tmp, SPATE_MIN((size_t)n, sizeof tmp - 1));
    bail(p, SPATE_EINVAL);
}

/* Lexes until token pos + k exists (or the input ends). */
static const spate_cql_tok_t *peek_slow(parser_t *p, size_t k) {
    while (p->pos + k >= p->ntoks) {
        if (p->lex_done) return tok_at(p, p->ntoks - 1);
        if (p->ntoks == p->nblocks * TOK_BLOCK) {
            spate_cql_tok_t **nb = realloc(p->blocks, (p->nblocks + 1) * sizeof *nb);
            spate_cql_tok_t *blk = nb ? malloc(TOK_BLOCK * sizeof *blk) : NULL;
            if (nb) p->blocks = nb;
            if (!blk) {
                p->err.kind = SPATE_CQL_PARSE_NOMEM;
                snprintf(p->err.msg, sizeof p->err.msg, "out of memory");
                bail(p, SPATE_ENOMEM);
            }
            p->blocks[p->nblocks++] = blk;
        }
        spate_cql_tok_t *t = tok_at(p, p->ntoks);
        spate_cql_lex_next(&p->lx, t);
        p->ntoks++;
        if (t->kind == SPATE_CQL_TOK_EOF || t->kind == SPATE_CQL_TOK_ERROR) p->lex_done = true;
        if (p->ntoks > SPATE_CQL_PARSE_MAX_TOKENS && !p->lex_done) {
            msg_t m = msg_begin(p, SPATE_CQL_PARSE_SYNTAX, t);
            msg_printf(&m, "line %u:%u statement too long (more than %u tokens)", t->line, t->col,
                       (unsigned)SPATE_CQL_PARSE_MAX_TOKENS);
            bail(p, SPATE_EINVAL);
        }
    }
    return tok_at(p, p->pos + k);
}

static inline const spate_cql_tok_t *peek(parser_t *p, size_t k) {
    if (p->pos + k < p->ntoks) return tok_at(p, p->pos + k);
    return peek_slow(p, k);
}

static spate_cql_tok_kind_t kind_at(parser_t *p, size_t k) { return peek(p, k)->kind; }

static const spate_cql_tok_t *advance(parser_t *p) {
    const spate_cql_tok_t *t = peek(p, 0);
    fail_if_lex_error(p, t);
    if (t->kind != SPATE_CQL_TOK_EOF) p->pos++;
    return t;
}

static bool accept_tok(parser_t *p, spate_cql_tok_kind_t k) {
    if (kind_at(p, 0) != k) return false;
    p->pos++;
    return true;
}

static const spate_cql_tok_t *expect(parser_t *p, spate_cql_tok_kind_t k) {
    if (kind_at(p, 0) != k) fail_expect(p, spate_cql_tok_kind_name(k));
    return advance(p);
}

/* End offset of the last consumed token. */
static size_t prev_end(const parser_t *p) {
    if (p->pos == 0) return p->stmt_off;
    const spate_cql_tok_t *t = tok_at(p, p->pos - 1);
    return t->off + t->len;
}

static void enter(parser_t *p) {
    if (++p->depth > SPATE_CQL_PARSE_MAX_DEPTH) {
        const spate_cql_tok_t *t = peek(p, 0);
        msg_t m = msg_begin(p, SPATE_CQL_PARSE_SYNTAX, t);
        msg_printf(&m, "line %u:%u maximum nesting depth (%u) exceeded", t->line, t->col,
                   (unsigned)SPATE_CQL_PARSE_MAX_DEPTH);
        bail(p, SPATE_EINVAL);
    }
}
static void leave(parser_t *p) { p->depth--; }

/* ------------------------------------------------------------------ */
/* Keywords and names                                                  */
/* ------------------------------------------------------------------ */

/* Cassandra's reserved keywords: these IDENTs are never names. Sorted,
 * for the binary search in is_reserved. */
#define RESERVED_MAX_LEN 12
static const char *const reserved_words[] = {
    "add",      "allow",    "alter",        "and",          "apply",  "asc",         "authorize",
    "batch",    "begin",    "by",           "columnfamily", "create", "delete",      "desc",
    "describe", "drop",     "entries",      "execute",      "from",   "full",        "grant",
    "if",       "in",       "index",        "infinity",     "insert", "into",        "is",
    "keyspace", "limit",    "materialized", "modify",       "nan",    "norecursive", "not",
    "null",     "of",       "on",           "or",           "order",  "primary",     "rename",
    "revoke",   "schema",   "select",       "set",          "table",  "to",          "token",
    "truncate", "unlogged", "update",       "use",          "using",  "view",        "where",
    "with",
};

static bool tok_is_word(const parser_t *p, const spate_cql_tok_t *t, const char *w) {
    size_t n = strlen(w);
    return t->kind == SPATE_CQL_TOK_IDENT && t->len == n && strncasecmp(p->src + t->off, w, n) == 0;
}

static bool is_reserved(const parser_t *p, const spate_cql_tok_t *t) {
    if (t->kind != SPATE_CQL_TOK_IDENT || t->len > RESERVED_MAX_LEN) return false;
    char w[RESERVED_MAX_LEN + 1];
    for (size_t i = 0; i < t->len; i++) {
        char c = p->src[t->off + i];
        w[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    w[t->len] = '\0';
    size_t lo = 0, hi = SPATE_ARRAY_LEN(reserved_words);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(w, reserved_words[mid]);
        if (c == 0) return true;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

static bool at_kw(parser_t *p, size_t k, const char *w) { return tok_is_word(p, peek(p, k), w); }

static bool accept_kw(parser_t *p, const char *w) {
    if (!at_kw(p, 0, w)) return false;
    p->pos++;
    return true;
}

static void expect_kw(parser_t *p, const char *w) {
    if (accept_kw(p, w)) return;
    char what[40] = "K_";
    for (size_t i = 0; w[i] && i + 3 < sizeof what; i++)
        what[i + 2] = (char)(w[i] >= 'a' && w[i] <= 'z' ? w[i] - 32 : w[i]), what[i + 3] = '\0';
    fail_expect(p, what);
}

/* IDENT (not reserved) or QIDENT. */
static bool is_name_tok(const parser_t *p, const spate_cql_tok_t *t) {
    return t->kind == SPATE_CQL_TOK_QIDENT ||
           (t->kind == SPATE_CQL_TOK_IDENT && !is_reserved(p, t));
}

/* The name a token spells: unquoted folded to lower case, quoted decoded. */
static const char *tok_name(parser_t *p, const spate_cql_tok_t *t) {
    char *d = alloc(p, t->len + 1);
    size_t n = spate_cql_tok_decode(p->src, t, d);
    d[n] = '\0';
    if (t->kind == SPATE_CQL_TOK_IDENT)
        for (size_t i = 0; i < n; i++)
            if (d[i] >= 'A' && d[i] <= 'Z') d[i] = (char)(d[i] + 32);
    return d;
}

static const char *parse_name(parser_t *p) {
    const spate_cql_tok_t *t = peek(p, 0);
    if (!is_name_tok(p, t)) fail_noviable(p);
    return tok_name(p, advance(p));
}

/* Keyspace or table name; `what` names it in the bind-marker message. */
static const char *parse_object_name(parser_t *p, const char *what) {
    const spate_cql_tok_t *t = peek(p, 0);
    if (t->kind == SPATE_CQL_TOK_QMARK || t->kind == SPATE_CQL_TOK_COLON)
        fail_plain(p, SPATE_CQL_PARSE_SYNTAX, t, "Bind variables cannot be used for %s names",
                   what);
    return parse_name(p);
}

static spate_cql_qname_t parse_qname(parser_t *p) {
    spate_cql_qname_t q = {NULL, NULL};
    const char *first =
        parse_object_name(p, kind_at(p, 1) == SPATE_CQL_TOK_DOT ? "keyspace" : "table");
    if (accept_tok(p, SPATE_CQL_TOK_DOT)) {
        q.ks = first;
        q.name = parse_object_name(p, "table");
    } else {
        q.name = first;
    }
    return q;
}

static bool accept_if_not_exists(parser_t *p) {
    if (!accept_kw(p, "if")) return false;
    expect_kw(p, "not");
    expect_kw(p, "exists");
    return true;
}

static bool accept_if_exists(parser_t *p) {
    if (!accept_kw(p, "if")) return false;
    expect_kw(p, "exists");
    return true;
}

/* ------------------------------------------------------------------ */
/* Growable arrays in the arena                                        */
/* ------------------------------------------------------------------ */

typedef struct {
    void *v;
    uint32_t n, cap;
} vec_t;

static void vec_push(parser_t *p, vec_t *v, const void *e, size_t esz) {
    if (v->n == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 4;
        void *nv = alloc(p, (size_t)cap * esz);
        if (v->n) memcpy(nv, v->v, (size_t)v->n * esz);
        v->v = nv;
        v->cap = cap;
    }
    memcpy((char *)v->v + (size_t)v->n * esz, e, esz);
    v->n++;
}

static void push_ptr(parser_t *p, vec_t *v, const void *ptr) { vec_push(p, v, &ptr, sizeof ptr); }

/* ------------------------------------------------------------------ */
/* Terms                                                               */
/* ------------------------------------------------------------------ */

static spate_cql_term_t *parse_term(parser_t *p);
static spate_cql_typeref_t *parse_type(parser_t *p);

static spate_cql_term_t *new_term(parser_t *p, spate_cql_term_kind_t kind,
                                  const spate_cql_tok_t *start) {
    spate_cql_term_t *t = alloc(p, sizeof *t);
    t->kind = kind;
    t->line = start->line;
    t->col = start->col;
    t->off = start->off;
    return t;
}

static void term_done(parser_t *p, spate_cql_term_t *t) { t->len = prev_end(p) - t->off; }

static bool is_constant_tok(spate_cql_tok_kind_t k) {
    return k == SPATE_CQL_TOK_STRING || k == SPATE_CQL_TOK_INTEGER || k == SPATE_CQL_TOK_FLOAT ||
           k == SPATE_CQL_TOK_BOOLEAN || k == SPATE_CQL_TOK_UUID || k == SPATE_CQL_TOK_HEX ||
           k == SPATE_CQL_TOK_DURATION;
}

static bool is_number_tok(spate_cql_tok_kind_t k) {
    return k == SPATE_CQL_TOK_INTEGER || k == SPATE_CQL_TOK_FLOAT || k == SPATE_CQL_TOK_DURATION;
}

/* A constant, or '-' and a number (the sign becomes part of the text). */
static spate_cql_term_t *parse_constant(parser_t *p) {
    const spate_cql_tok_t *start = peek(p, 0);
    bool neg = false;
    if (start->kind == SPATE_CQL_TOK_MINUS) {
        if (!is_number_tok(kind_at(p, 1))) {
            p->pos++;
            fail_noviable(p);
        }
        neg = true;
        p->pos++;
    }
    const spate_cql_tok_t *t = peek(p, 0);
    if (!is_constant_tok(t->kind)) fail_noviable(p);
    advance(p);
    spate_cql_term_t *term = new_term(p, SPATE_CQL_TERM_CONST, start);
    static const spate_cql_lit_kind_t kinds[] = {
        [SPATE_CQL_TOK_STRING] = SPATE_CQL_LIT_STRING,
        [SPATE_CQL_TOK_INTEGER] = SPATE_CQL_LIT_INTEGER,
        [SPATE_CQL_TOK_FLOAT] = SPATE_CQL_LIT_FLOAT,
        [SPATE_CQL_TOK_BOOLEAN] = SPATE_CQL_LIT_BOOLEAN,
        [SPATE_CQL_TOK_UUID] = SPATE_CQL_LIT_UUID,
        [SPATE_CQL_TOK_HEX] = SPATE_CQL_LIT_HEX,
        [SPATE_CQL_TOK_DURATION] = SPATE_CQL_LIT_DURATION,
    };
    term->lit.kind = kinds[t->kind];
    if (t->kind == SPATE_CQL_TOK_BOOLEAN) {
        bool tr = t->len == 4;
        term->lit.text = tr ? "true" : "false";
        term->lit.len = tr ? 4 : 5;
    } else {
        char *d = alloc(p, t->len + 2);
        size_t n = 0;
        if (neg) d[n++] = '-';
        n += spate_cql_tok_decode(p->src, t, d + n);
        d[n] = '\0';
        term->lit.text = d;
        term->lit.len = n;
    }
    term_done(p, term);
    return term;
}

static spate_cql_term_t *parse_marker(parser_t *p) {
    const spate_cql_tok_t *start = peek(p, 0);
    const char *name = NULL;
    if (accept_tok(p, SPATE_CQL_TOK_COLON)) {
        name = parse_name(p);
    } else {
        expect(p, SPATE_CQL_TOK_QMARK);
    }
    if (p->nbind >= SPATE_CQL_PARSE_MAX_BINDS)
        fail_plain(p, SPATE_CQL_PARSE_INVALID, start,
                   "Too many markers(?). %u markers exceed the allowed maximum of %u", p->nbind + 1,
                   (unsigned)SPATE_CQL_PARSE_MAX_BINDS);
    spate_cql_term_t *t = new_term(p, SPATE_CQL_TERM_BIND, start);
    t->bind.index = p->nbind++;
    t->bind.name = name;
    term_done(p, t);
    return t;
}

static bool at_marker(parser_t *p) {
    spate_cql_tok_kind_t k = kind_at(p, 0);
    return k == SPATE_CQL_TOK_QMARK || k == SPATE_CQL_TOK_COLON;
}

/* Whether the tokens at k start "[ks.]name(" — a function call. */
static bool at_function(parser_t *p, size_t k) {
    const spate_cql_tok_t *t = peek(p, k);
    bool name = is_name_tok(p, t) || tok_is_word(p, t, "token");
    if (!name) return false;
    if (kind_at(p, k + 1) == SPATE_CQL_TOK_LPAREN) return true;
    return kind_at(p, k + 1) == SPATE_CQL_TOK_DOT &&
           (is_name_tok(p, peek(p, k + 2)) || tok_is_word(p, peek(p, k + 2), "token")) &&
           kind_at(p, k + 3) == SPATE_CQL_TOK_LPAREN;
}

/* [ks.]name for functions: also the reserved word TOKEN. */
static const char *parse_function_name_part(parser_t *p) {
    if (at_kw(p, 0, "token")) {
        advance(p);
        return "token";
    }
    return parse_name(p);
}

static void parse_function_name(parser_t *p, const char **ks, const char **name) {
    *ks = NULL;
    *name = parse_function_name_part(p);
    if (accept_tok(p, SPATE_CQL_TOK_DOT)) {
        *ks = *name;
        *name = parse_function_name_part(p);
    }
}

/* Whether '(' at k opens a type hint "(type) term" rather than a tuple. */
static bool at_type_hint(parser_t *p, size_t k) {
    const spate_cql_tok_t *t = peek(p, k + 1);
    if (t->kind == SPATE_CQL_TOK_STRING) {
        /* ('custom.Type') term, unlike the one-element tuple ('a') */
        if (kind_at(p, k + 2) != SPATE_CQL_TOK_RPAREN) return false;
        spate_cql_tok_kind_t n = kind_at(p, k + 3);
        return is_constant_tok(n) || n == SPATE_CQL_TOK_QMARK || n == SPATE_CQL_TOK_COLON ||
               n == SPATE_CQL_TOK_LBRACKET || n == SPATE_CQL_TOK_LBRACE ||
               n == SPATE_CQL_TOK_LPAREN || n == SPATE_CQL_TOK_MINUS || n == SPATE_CQL_TOK_IDENT ||
               n == SPATE_CQL_TOK_QIDENT;
    }
    if (!(is_name_tok(p, t) || tok_is_word(p, t, "set"))) return false;
    return !at_function(p, k + 1);
}

static void finish_items(parser_t *p, spate_cql_term_t *t, vec_t *v) {
    t->items.v = v->v;
    t->items.n = v->n;
    term_done(p, t);
}

static spate_cql_term_t *parse_term_inner(parser_t *p) {
    const spate_cql_tok_t *start = peek(p, 0);
    switch (start->kind) {
    case SPATE_CQL_TOK_STRING:
    case SPATE_CQL_TOK_INTEGER:
    case SPATE_CQL_TOK_FLOAT:
    case SPATE_CQL_TOK_BOOLEAN:
    case SPATE_CQL_TOK_UUID:
    case SPATE_CQL_TOK_HEX:
    case SPATE_CQL_TOK_DURATION:
    case SPATE_CQL_TOK_MINUS: return parse_constant(p);
    case SPATE_CQL_TOK_QMARK:
    case SPATE_CQL_TOK_COLON: return parse_marker(p);
    case SPATE_CQL_TOK_LBRACKET: {
        advance(p);
        spate_cql_term_t *t = new_term(p, SPATE_CQL_TERM_LIST, start);
        vec_t v = {0};
        if (!accept_tok(p, SPATE_CQL_TOK_RBRACKET)) {
            do push_ptr(p, &v, parse_term(p));
            while (accept_tok(p, SPATE_CQL_TOK_COMMA));
            expect(p, SPATE_CQL_TOK_RBRACKET);
        }
        finish_items(p, t, &v);
        return t;
    }
    case SPATE_CQL_TOK_LBRACE: {
        advance(p);
        if (accept_tok(p, SPATE_CQL_TOK_RBRACE)) {
            spate_cql_term_t *t = new_term(p, SPATE_CQL_TERM_SET, start);
            term_done(p, t);
            return t;
        }
        /* {name: ...} is a user type literal: a bare name is never a term. */
        if (is_name_tok(p, peek(p, 0)) && kind_at(p, 1) == SPATE_CQL_TOK_COLON) {
            spate_cql_term_t *t = new_term(p, SPATE_CQL_TERM_UDT, start);
            vec_t f = {0}, vals = {0};
            do {
                push_ptr(p, &f, parse_name(p));
                expect(p, SPATE_CQL_TOK_COLON);
                push_ptr(p, &vals, parse_term(p));
            } while (accept_tok(p, SPATE_CQL_TOK_COMMA));
            expect(p, SPATE_CQL_TOK_RBRACE);
            t->udt.fields = f.v;
            t->udt.vals = vals.v;
            t->udt.n = f.n;
            term_done(p, t);
            return t;
        }
        spate_cql_term_t *first = parse_term(p);
        if (accept_tok(p, SPATE_CQL_TOK_COLON)) {
            spate_cql_term_t *t = new_term(p, SPATE_CQL_TERM_MAP, start);
            vec_t keys = {0}, vals = {0};
            push_ptr(p, &keys, first);
            push_ptr(p, &vals, parse_term(p));
            while (accept_tok(p, SPATE_CQL_TOK_COMMA)) {
                push_ptr(p, &keys, parse_term(p));
                expect(p, SPATE_CQL_TOK_COLON);
                push_ptr(p, &vals, parse_term(p));
            }
            expect(p, SPATE_CQL_TOK_RBRACE);
            t->map.keys = keys.v;
            t->map.vals = vals.v;
            t->map.n = keys.n;
            term_done(p, t);
            return t;
        }
        spate_cql_term_t *t = new_term(p, SPATE_CQL_TERM_SET, start);
        vec_t v = {0};
        push_ptr(p, &v, first);
        while (accept_tok(p, SPATE_CQL_TOK_COMMA)) push_ptr(p, &v, parse_term(p));
        expect(p, SPATE_CQL_TOK_RBRACE);
        finish_items(p, t, &v);
        return t;
    }
    case SPATE_CQL_TOK_LPAREN: {
        if (at_type_hint(p, 0)) {
            advance(p);
            spate_cql_term_t *t = new_term(p, SPATE_CQL_TERM_HINT, start);
            t->hint.type = parse_type(p);
            expect(p, SPATE_CQL_TOK_RPAREN);
            t->hint.term = parse_term(p);
            term_done(p, t);
            return t;
        }
        advance(p);
        spate_cql_term_t *t = new_term(p, SPATE_CQL_TERM_TUPLE, start);
        vec_t v = {0};
        do push_ptr(p, &v, parse_term(p));
        while (accept_tok(p, SPATE_CQL_TOK_COMMA));
        expect(p, SPATE_CQL_TOK_RPAREN);
        finish_items(p, t, &v);
        return t;
    }
    case SPATE_CQL_TOK_IDENT:
    case SPATE_CQL_TOK_QIDENT:
        if (tok_is_word(p, start, "null")) {
            advance(p);
            spate_cql_term_t *t = new_term(p, SPATE_CQL_TERM_NULL, start);
            term_done(p, t);
            return t;
        }
        if (tok_is_word(p, start, "cast") && kind_at(p, 1) == SPATE_CQL_TOK_LPAREN) {
            advance(p);
            advance(p);
            spate_cql_term_t *t = new_term(p, SPATE_CQL_TERM_HINT, start);
            t->hint.cast = true;
            t->hint.term = parse_term(p);
            expect_kw(p, "as");
            t->hint.type = parse_type(p);
            expect(p, SPATE_CQL_TOK_RPAREN);
            term_done(p, t);
            return t;
        }
        if (at_function(p, 0)) {
            spate_cql_term_t *t = new_term(p, SPATE_CQL_TERM_FUNC, start);
            parse_function_name(p, &t->func.ks, &t->func.name);
            expect(p, SPATE_CQL_TOK_LPAREN);
            vec_t v = {0};
            if (!accept_tok(p, SPATE_CQL_TOK_RPAREN)) {
                do push_ptr(p, &v, parse_term(p));
                while (accept_tok(p, SPATE_CQL_TOK_COMMA));
                expect(p, SPATE_CQL_TOK_RPAREN);
            }
            t->func.args = v.v;
            t->func.nargs = v.n;
            term_done(p, t);
            return t;
        }
        break;
    default: break;
    }
    fail_noviable(p);
}

static spate_cql_term_t *parse_term(parser_t *p) {
    enter(p);
    spate_cql_term_t *t = parse_term_inner(p);
    leave(p);
    return t;
}

/* INTEGER, '-' INTEGER or a marker (LIMIT, USING TTL/TIMESTAMP). */
static spate_cql_term_t *parse_int_value(parser_t *p) {
    if (at_marker(p)) return parse_marker(p);
    spate_cql_tok_kind_t k = kind_at(p, 0);
    if (k == SPATE_CQL_TOK_INTEGER ||
        (k == SPATE_CQL_TOK_MINUS && kind_at(p, 1) == SPATE_CQL_TOK_INTEGER))
        return parse_constant(p);
    fail_noviable(p);
}

/* ------------------------------------------------------------------ */
/* Types                                                               */
/* ------------------------------------------------------------------ */

static void expect_gt(parser_t *p) { expect(p, SPATE_CQL_TOK_GT); }

static spate_cql_typeref_t *parse_type_inner(parser_t *p) {
    const spate_cql_tok_t *t = peek(p, 0);
    spate_cql_typeref_t *ty = alloc(p, sizeof *ty);
    if (t->kind == SPATE_CQL_TOK_STRING) {
        advance(p);
        char *d = alloc(p, t->len + 1);
        d[spate_cql_tok_decode(p->src, t, d)] = '\0';
        ty->id = SPATE_CQL_CUSTOM;
        ty->name = d;
        return ty;
    }
    if (tok_is_word(p, t, "frozen") && kind_at(p, 1) == SPATE_CQL_TOK_LT) {
        advance(p);
        advance(p);
        spate_cql_typeref_t *inner = parse_type(p);
        expect_gt(p);
        inner->frozen = true;
        return inner;
    }
    spate_cql_type_t id;
    if (t->kind == SPATE_CQL_TOK_IDENT &&
        spate_cql_type_by_name(p->src + t->off, t->len, &id) == SPATE_OK) {
        advance(p);
        ty->id = id;
        if (id == SPATE_CQL_LIST || id == SPATE_CQL_SET || id == SPATE_CQL_MAP ||
            id == SPATE_CQL_TUPLE) {
            expect(p, SPATE_CQL_TOK_LT);
            vec_t v = {0};
            push_ptr(p, &v, parse_type(p));
            if (id == SPATE_CQL_MAP) {
                expect(p, SPATE_CQL_TOK_COMMA);
                push_ptr(p, &v, parse_type(p));
            } else if (id == SPATE_CQL_TUPLE) {
                while (accept_tok(p, SPATE_CQL_TOK_COMMA)) push_ptr(p, &v, parse_type(p));
            }
            expect_gt(p);
            ty->args = v.v;
            ty->nargs = v.n;
        }
        return ty;
    }
    /* A user type: [ks.]name. */
    static const char *const reserved_type_names[] = {"byte",     "complex", "enum",
                                                      "interval", "macaddr", "bitstring"};
    if (!is_name_tok(p, t)) fail_noviable(p);
    const char *name = parse_name(p);
    if (accept_tok(p, SPATE_CQL_TOK_DOT)) {
        ty->ks = name;
        t = peek(p, 0);
        name = parse_name(p);
    }
    if (t->kind == SPATE_CQL_TOK_IDENT)
        for (size_t i = 0; i < SPATE_ARRAY_LEN(reserved_type_names); i++)
            if (strcmp(name, reserved_type_names[i]) == 0)
                fail_plain(p, SPATE_CQL_PARSE_SYNTAX, t, "Invalid (reserved) user type name %s",
                           name);
    ty->id = SPATE_CQL_UDT;
    ty->name = name;
    return ty;
}

static spate_cql_typeref_t *parse_type(parser_t *p) {
    enter(p);
    spate_cql_typeref_t *t = parse_type_inner(p);
    leave(p);
    return t;
}

/* ------------------------------------------------------------------ */
/* Selectors                                                           */
/* ------------------------------------------------------------------ */

static spate_cql_selector_t *parse_selector(parser_t *p);

static spate_cql_selector_t *new_sel(parser_t *p, spate_cql_sel_kind_t kind,
                                     const spate_cql_tok_t *start) {
    spate_cql_selector_t *s = alloc(p, sizeof *s);
    s->kind = kind;
    s->off = start->off;
    return s;
}

static void sel_args1(parser_t *p, spate_cql_selector_t *s, spate_cql_selector_t *arg) {
    s->args = alloc(p, sizeof *s->args);
    s->args[0] = arg;
    s->nargs = 1;
}

static spate_cql_selector_t *parse_column_selector(parser_t *p) {
    const spate_cql_tok_t *start = peek(p, 0);
    spate_cql_selector_t *s = new_sel(p, SPATE_CQL_SEL_COLUMN, start);
    s->name = parse_name(p);
    s->len = prev_end(p) - s->off;
    return s;
}

static spate_cql_selector_t *parse_selector_primary(parser_t *p) {
    const spate_cql_tok_t *start = peek(p, 0);
    bool call = kind_at(p, 1) == SPATE_CQL_TOK_LPAREN;
    if (call && tok_is_word(p, start, "count") &&
        (kind_at(p, 2) == SPATE_CQL_TOK_STAR || kind_at(p, 2) == SPATE_CQL_TOK_INTEGER) &&
        kind_at(p, 3) == SPATE_CQL_TOK_RPAREN) {
        const spate_cql_tok_t *arg = peek(p, 2);
        if (arg->kind == SPATE_CQL_TOK_INTEGER && !(arg->len == 1 && p->src[arg->off] == '1'))
            fail_plain(p, SPATE_CQL_PARSE_SYNTAX, arg,
                       "Only COUNT(1) is supported, got COUNT(%.*s)",
                       (int)SPATE_MIN(arg->len, (size_t)40), p->src + arg->off);
        p->pos += 4;
        spate_cql_selector_t *s = new_sel(p, SPATE_CQL_SEL_COUNT_ROWS, start);
        s->name = "count";
        return s;
    }
    if (call && (tok_is_word(p, start, "writetime") || tok_is_word(p, start, "ttl"))) {
        spate_cql_selector_t *s = new_sel(
            p, tok_is_word(p, start, "ttl") ? SPATE_CQL_SEL_TTL : SPATE_CQL_SEL_WRITETIME, start);
        s->name = s->kind == SPATE_CQL_SEL_TTL ? "ttl" : "writetime";
        p->pos += 2;
        sel_args1(p, s, parse_column_selector(p));
        expect(p, SPATE_CQL_TOK_RPAREN);
        return s;
    }
    if (call && tok_is_word(p, start, "cast")) {
        spate_cql_selector_t *s = new_sel(p, SPATE_CQL_SEL_CAST, start);
        s->name = "cast";
        p->pos += 2;
        sel_args1(p, s, parse_selector(p));
        expect_kw(p, "as");
        s->type = parse_type(p);
        expect(p, SPATE_CQL_TOK_RPAREN);
        return s;
    }
    if (at_function(p, 0)) {
        spate_cql_selector_t *s = new_sel(p, SPATE_CQL_SEL_FUNC, start);
        parse_function_name(p, &s->ks, &s->name);
        expect(p, SPATE_CQL_TOK_LPAREN);
        vec_t v = {0};
        if (!accept_tok(p, SPATE_CQL_TOK_RPAREN)) {
            do push_ptr(p, &v, parse_selector(p));
            while (accept_tok(p, SPATE_CQL_TOK_COMMA));
            expect(p, SPATE_CQL_TOK_RPAREN);
        }
        s->args = v.v;
        s->nargs = v.n;
        return s;
    }
    if (is_name_tok(p, start)) return parse_column_selector(p);
    if (tok_is_word(p, start, "null") || is_constant_tok(start->kind) || at_marker(p) ||
        start->kind == SPATE_CQL_TOK_MINUS || start->kind == SPATE_CQL_TOK_LBRACKET ||
        start->kind == SPATE_CQL_TOK_LBRACE || start->kind == SPATE_CQL_TOK_LPAREN) {
        spate_cql_selector_t *s = new_sel(p, SPATE_CQL_SEL_TERM, start);
        s->term = parse_term(p);
        return s;
    }
    fail_noviable(p);
}

/* A selector without its alias, with any .field accesses. */
static spate_cql_selector_t *parse_selector(parser_t *p) {
    enter(p);
    spate_cql_selector_t *s = parse_selector_primary(p);
    s->len = prev_end(p) - s->off;
    while (kind_at(p, 0) == SPATE_CQL_TOK_DOT) {
        advance(p);
        spate_cql_selector_t *f = alloc(p, sizeof *f);
        f->kind = SPATE_CQL_SEL_FIELD;
        f->off = s->off;
        f->name = parse_name(p);
        sel_args1(p, f, s);
        f->len = prev_end(p) - f->off;
        s = f;
    }
    leave(p);
    return s;
}

/* ------------------------------------------------------------------ */
/* Relations and conditions                                            */
/* ------------------------------------------------------------------ */

static bool rel_op(parser_t *p, spate_cql_rel_op_t *op) {
    switch (kind_at(p, 0)) {
    case SPATE_CQL_TOK_EQ: *op = SPATE_CQL_REL_EQ; break;
    case SPATE_CQL_TOK_LT: *op = SPATE_CQL_REL_LT; break;
    case SPATE_CQL_TOK_LE: *op = SPATE_CQL_REL_LE; break;
    case SPATE_CQL_TOK_GT: *op = SPATE_CQL_REL_GT; break;
    case SPATE_CQL_TOK_GE: *op = SPATE_CQL_REL_GE; break;
    case SPATE_CQL_TOK_NE: *op = SPATE_CQL_REL_NE; break;
    default: return false;
    }
    p->pos++;
    return true;
}

static const char **one_name(parser_t *p, const char *n) {
    const char **v = alloc(p, sizeof *v);
    v[0] = n;
    return v;
}

/* '(' term, ... ')' (possibly empty) or a marker, after IN. */
static void parse_in_values(parser_t *p, spate_cql_relation_t *r) {
    r->op = SPATE_CQL_REL_IN;
    if (at_marker(p)) {
        r->value = parse_marker(p);
        return;
    }
    expect(p, SPATE_CQL_TOK_LPAREN);
    vec_t v = {0};
    if (!accept_tok(p, SPATE_CQL_TOK_RPAREN)) {
        do push_ptr(p, &v, parse_term(p));
        while (accept_tok(p, SPATE_CQL_TOK_COMMA));
        expect(p, SPATE_CQL_TOK_RPAREN);
    }
    r->in_list = true;
    r->in = v.v;
    r->nin = v.n;
}

/* A tuple literal or a marker (the right side of (a, b) op ...). */
static spate_cql_term_t *parse_tuple_value(parser_t *p) {
    if (at_marker(p)) return parse_marker(p);
    if (kind_at(p, 0) != SPATE_CQL_TOK_LPAREN) fail_noviable(p);
    const spate_cql_tok_t *start = advance(p);
    spate_cql_term_t *t = new_term(p, SPATE_CQL_TERM_TUPLE, start);
    vec_t v = {0};
    do push_ptr(p, &v, parse_term(p));
    while (accept_tok(p, SPATE_CQL_TOK_COMMA));
    expect(p, SPATE_CQL_TOK_RPAREN);
    finish_items(p, t, &v);
    return t;
}

/* After "c" (COLUMN), "c[k]" (ELEM) or "c.f" (FIELD): the operator and
 * right side shared by WHERE relations and IF conditions. */
static void parse_rel_rhs(parser_t *p, spate_cql_relation_t *r, bool where) {
    if (rel_op(p, &r->op)) {
        r->value = parse_term(p);
    } else if (accept_kw(p, "in")) {
        parse_in_values(p, r);
    } else if (r->lhs == SPATE_CQL_LHS_COLUMN && accept_kw(p, "contains")) {
        r->op = accept_kw(p, "key") ? SPATE_CQL_REL_CONTAINS_KEY : SPATE_CQL_REL_CONTAINS;
        r->value = parse_term(p);
    } else if (where && r->lhs == SPATE_CQL_LHS_COLUMN && accept_kw(p, "like")) {
        r->op = SPATE_CQL_REL_LIKE;
        r->value = parse_term(p);
    } else if (where && r->lhs == SPATE_CQL_LHS_COLUMN && accept_kw(p, "is")) {
        expect_kw(p, "not");
        expect_kw(p, "null");
        r->op = SPATE_CQL_REL_IS_NOT_NULL;
    } else {
        fail_noviable(p);
    }
}

static void parse_relation(parser_t *p, vec_t *out);

static void parse_relation_inner(parser_t *p, vec_t *out) {
    spate_cql_relation_t r;
    memset(&r, 0, sizeof r);
    if (kind_at(p, 0) == SPATE_CQL_TOK_LPAREN) {
        bool tuple = is_name_tok(p, peek(p, 1)) && (kind_at(p, 2) == SPATE_CQL_TOK_COMMA ||
                                                    kind_at(p, 2) == SPATE_CQL_TOK_RPAREN);
        advance(p);
        if (!tuple) { /* '(' relation ')' */
            parse_relation(p, out);
            expect(p, SPATE_CQL_TOK_RPAREN);
            return;
        }
        vec_t cols = {0};
        do push_ptr(p, &cols, parse_name(p));
        while (accept_tok(p, SPATE_CQL_TOK_COMMA));
        expect(p, SPATE_CQL_TOK_RPAREN);
        r.lhs = SPATE_CQL_LHS_TUPLE;
        r.cols = cols.v;
        r.ncols = cols.n;
        if (rel_op(p, &r.op)) {
            r.value = parse_tuple_value(p);
        } else if (accept_kw(p, "in")) {
            r.op = SPATE_CQL_REL_IN;
            if (at_marker(p)) {
                r.value = parse_marker(p);
            } else {
                expect(p, SPATE_CQL_TOK_LPAREN);
                vec_t v = {0};
                if (!accept_tok(p, SPATE_CQL_TOK_RPAREN)) {
                    do push_ptr(p, &v, parse_tuple_value(p));
                    while (accept_tok(p, SPATE_CQL_TOK_COMMA));
                    expect(p, SPATE_CQL_TOK_RPAREN);
                }
                r.in_list = true;
                r.in = v.v;
                r.nin = v.n;
            }
        } else {
            fail_noviable(p);
        }
        vec_push(p, out, &r, sizeof r);
        return;
    }
    if (at_kw(p, 0, "token") && kind_at(p, 1) == SPATE_CQL_TOK_LPAREN) {
        p->pos += 2;
        vec_t cols = {0};
        do push_ptr(p, &cols, parse_name(p));
        while (accept_tok(p, SPATE_CQL_TOK_COMMA));
        expect(p, SPATE_CQL_TOK_RPAREN);
        r.lhs = SPATE_CQL_LHS_TOKEN;
        r.cols = cols.v;
        r.ncols = cols.n;
        if (!rel_op(p, &r.op)) fail_noviable(p);
        r.value = parse_term(p);
        vec_push(p, out, &r, sizeof r);
        return;
    }
    r.cols = one_name(p, parse_name(p));
    r.ncols = 1;
    r.lhs = SPATE_CQL_LHS_COLUMN;
    if (accept_tok(p, SPATE_CQL_TOK_LBRACKET)) {
        r.lhs = SPATE_CQL_LHS_ELEM;
        r.key = parse_term(p);
        expect(p, SPATE_CQL_TOK_RBRACKET);
        if (!rel_op(p, &r.op)) fail_noviable(p);
        r.value = parse_term(p);
    } else {
        parse_rel_rhs(p, &r, true);
    }
    vec_push(p, out, &r, sizeof r);
}

static void parse_relation(parser_t *p, vec_t *out) {
    enter(p);
    parse_relation_inner(p, out);
    leave(p);
}

static void parse_where(parser_t *p, spate_cql_relation_t **rels, uint32_t *n) {
    vec_t v = {0};
    do parse_relation(p, &v);
    while (accept_kw(p, "and"));
    *rels = v.v;
    *n = v.n;
}

/* IF EXISTS | IF cond (AND cond)*, after WHERE in UPDATE and DELETE. */
static void parse_if(parser_t *p, bool *if_exists, spate_cql_relation_t **conds, uint32_t *n) {
    if (!accept_kw(p, "if")) return;
    /* "exists" is also a possible column name: IF exists = 1. */
    if (at_kw(p, 0, "exists")) {
        spate_cql_tok_kind_t k = kind_at(p, 1);
        bool column = k == SPATE_CQL_TOK_EQ || k == SPATE_CQL_TOK_NE || k == SPATE_CQL_TOK_LT ||
                      k == SPATE_CQL_TOK_LE || k == SPATE_CQL_TOK_GT || k == SPATE_CQL_TOK_GE ||
                      k == SPATE_CQL_TOK_LBRACKET || k == SPATE_CQL_TOK_DOT || at_kw(p, 1, "in") ||
                      at_kw(p, 1, "contains");
        if (!column) {
            advance(p);
            *if_exists = true;
            return;
        }
    }
    vec_t v = {0};
    do {
        spate_cql_relation_t r;
        memset(&r, 0, sizeof r);
        r.cols = one_name(p, parse_name(p));
        r.ncols = 1;
        r.lhs = SPATE_CQL_LHS_COLUMN;
        if (accept_tok(p, SPATE_CQL_TOK_LBRACKET)) {
            r.lhs = SPATE_CQL_LHS_ELEM;
            r.key = parse_term(p);
            expect(p, SPATE_CQL_TOK_RBRACKET);
        } else if (accept_tok(p, SPATE_CQL_TOK_DOT)) {
            r.lhs = SPATE_CQL_LHS_FIELD;
            r.field = parse_name(p);
        }
        parse_rel_rhs(p, &r, false);
        vec_push(p, &v, &r, sizeof r);
    } while (accept_kw(p, "and"));
    *conds = v.v;
    *n = v.n;
}

/* ------------------------------------------------------------------ */
/* Shared clauses                                                      */
/* ------------------------------------------------------------------ */

/* USING (TTL iv | TIMESTAMP iv) (AND ...)*; only TIMESTAMP for DELETE. */
static void parse_using(parser_t *p, spate_cql_using_t *u, bool timestamp_only) {
    do {
        if (!timestamp_only && accept_kw(p, "ttl")) {
            u->ttl = parse_int_value(p);
        } else if (timestamp_only || at_kw(p, 0, "timestamp")) {
            expect_kw(p, "timestamp");
            u->timestamp = parse_int_value(p);
        } else {
            fail_noviable(p);
        }
    } while (!timestamp_only && accept_kw(p, "and"));
}

/* A property value: a constant, a bare word (kept as a string) or a map
 * of constants. Bind markers are refused as Cassandra does. */
static spate_cql_term_t *parse_prop_constant(parser_t *p, const char *prop) {
    const spate_cql_tok_t *t = peek(p, 0);
    if (at_marker(p))
        fail_plain(p, SPATE_CQL_PARSE_SYNTAX, t,
                   "Invalid property value: ? for property: %s (bind variables are not supported "
                   "in DDL queries)",
                   prop);
    if (t->kind == SPATE_CQL_TOK_IDENT && !is_reserved(p, t)) {
        advance(p);
        spate_cql_term_t *term = new_term(p, SPATE_CQL_TERM_CONST, t);
        term->lit.kind = SPATE_CQL_LIT_STRING;
        term->lit.text = dup(p, p->src + t->off, t->len);
        term->lit.len = t->len;
        term_done(p, term);
        return term;
    }
    return parse_constant(p);
}

static void parse_property(parser_t *p, vec_t *props) {
    const spate_cql_tok_t *at = peek(p, 0);
    spate_cql_prop_t prop;
    prop.name = parse_name(p);
    for (uint32_t i = 0; i < props->n; i++)
        if (strcmp(((spate_cql_prop_t *)props->v)[i].name, prop.name) == 0)
            fail_plain(p, SPATE_CQL_PARSE_SYNTAX, at, "Multiple definition for property %s",
                       prop.name);
    expect(p, SPATE_CQL_TOK_EQ);
    const spate_cql_tok_t *start = peek(p, 0);
    if (accept_tok(p, SPATE_CQL_TOK_LBRACE)) {
        spate_cql_term_t *m = new_term(p, SPATE_CQL_TERM_MAP, start);
        vec_t keys = {0}, vals = {0};
        if (!accept_tok(p, SPATE_CQL_TOK_RBRACE)) {
            do {
                const spate_cql_tok_t *kt = peek(p, 0);
                spate_cql_term_t *k = parse_prop_constant(p, prop.name);
                for (uint32_t i = 0; i < keys.n; i++) {
                    spate_cql_term_t *o = ((spate_cql_term_t **)keys.v)[i];
                    if (o->lit.len == k->lit.len &&
                        memcmp(o->lit.text, k->lit.text, k->lit.len) == 0)
                        fail_plain(p, SPATE_CQL_PARSE_SYNTAX, kt,
                                   "Multiple definition for property %.*s",
                                   (int)SPATE_MIN(k->lit.len, (size_t)100), k->lit.text);
                }
                push_ptr(p, &keys, k);
                expect(p, SPATE_CQL_TOK_COLON);
                push_ptr(p, &vals, parse_prop_constant(p, prop.name));
            } while (accept_tok(p, SPATE_CQL_TOK_COMMA));
            expect(p, SPATE_CQL_TOK_RBRACE);
        }
        m->map.keys = keys.v;
        m->map.vals = vals.v;
        m->map.n = keys.n;
        term_done(p, m);
        prop.value = m;
    } else {
        prop.value = parse_prop_constant(p, prop.name);
    }
    vec_push(p, props, &prop, sizeof prop);
}

static void parse_properties(parser_t *p, spate_cql_prop_t **props, uint32_t *n) {
    vec_t v = {0};
    do parse_property(p, &v);
    while (accept_kw(p, "and"));
    *props = v.v;
    *n = v.n;
}

/* ------------------------------------------------------------------ */
/* Statements                                                          */
/* ------------------------------------------------------------------ */

static void parse_select(parser_t *p, spate_cql_stmt_select_t *s) {
    expect_kw(p, "select");
    /* JSON and DISTINCT are also possible column names: they are
     * modifiers unless what follows can only continue a selector. */
    for (int i = 0; i < 2; i++) {
        const char *mod = i == 0 ? "json" : "distinct";
        if (!at_kw(p, 0, mod)) continue;
        spate_cql_tok_kind_t k = kind_at(p, 1);
        bool column = k == SPATE_CQL_TOK_COMMA || k == SPATE_CQL_TOK_DOT ||
                      k == SPATE_CQL_TOK_LPAREN || k == SPATE_CQL_TOK_LBRACKET ||
                      at_kw(p, 1, "from") || at_kw(p, 1, "as");
        if (column) break;
        advance(p);
        if (i == 0)
            s->json = true;
        else
            s->distinct = true;
    }
    if (!accept_tok(p, SPATE_CQL_TOK_STAR)) {
        vec_t v = {0};
        do {
            spate_cql_selector_t *sel = parse_selector(p);
            if (accept_kw(p, "as")) sel->alias = parse_name(p);
            push_ptr(p, &v, sel);
        } while (accept_tok(p, SPATE_CQL_TOK_COMMA));
        s->sel = v.v;
        s->nsel = v.n;
    }
    expect_kw(p, "from");
    s->table = parse_qname(p);
    if (accept_kw(p, "where")) parse_where(p, &s->where, &s->nwhere);
    if (at_kw(p, 0, "group") && at_kw(p, 1, "by")) {
        p->pos += 2;
        vec_t v = {0};
        do push_ptr(p, &v, parse_name(p));
        while (accept_tok(p, SPATE_CQL_TOK_COMMA));
        s->group_by = v.v;
        s->ngroup_by = v.n;
    }
    if (accept_kw(p, "order")) {
        expect_kw(p, "by");
        vec_t v = {0};
        do {
            spate_cql_order_t o = {parse_name(p), false};
            if (accept_kw(p, "desc"))
                o.desc = true;
            else
                accept_kw(p, "asc");
            vec_push(p, &v, &o, sizeof o);
        } while (accept_tok(p, SPATE_CQL_TOK_COMMA));
        s->order = v.v;
        s->norder = v.n;
    }
    if (at_kw(p, 0, "per") && at_kw(p, 1, "partition")) {
        p->pos += 2;
        expect_kw(p, "limit");
        s->per_partition_limit = parse_int_value(p);
    }
    if (accept_kw(p, "limit")) s->limit = parse_int_value(p);
    if (accept_kw(p, "allow")) {
        expect_kw(p, "filtering");
        s->allow_filtering = true;
    }
}

static void parse_insert(parser_t *p, spate_cql_stmt_insert_t *s) {
    expect_kw(p, "insert");
    expect_kw(p, "into");
    s->table = parse_qname(p);
    if (accept_kw(p, "json")) {
        if (at_marker(p)) {
            s->json = parse_marker(p);
        } else {
            if (kind_at(p, 0) != SPATE_CQL_TOK_STRING) fail_noviable(p);
            s->json = parse_constant(p);
        }
        if (accept_kw(p, "default")) {
            if (accept_kw(p, "unset"))
                s->json_default_unset = true;
            else
                expect_kw(p, "null");
        }
    } else {
        if (kind_at(p, 0) != SPATE_CQL_TOK_LPAREN) fail_noviable(p);
        advance(p);
        vec_t cols = {0}, vals = {0};
        const spate_cql_tok_t *cols_at = peek(p, 0);
        do {
            const spate_cql_tok_t *at = peek(p, 0);
            const char *c = parse_name(p);
            for (uint32_t i = 0; i < cols.n; i++)
                if (strcmp(((const char **)cols.v)[i], c) == 0)
                    fail_plain(p, SPATE_CQL_PARSE_INVALID, at,
                               "Multiple definitions found for column %s", c);
            push_ptr(p, &cols, c);
        } while (accept_tok(p, SPATE_CQL_TOK_COMMA));
        expect(p, SPATE_CQL_TOK_RPAREN);
        expect_kw(p, "values");
        expect(p, SPATE_CQL_TOK_LPAREN);
        do push_ptr(p, &vals, parse_term(p));
        while (accept_tok(p, SPATE_CQL_TOK_COMMA));
        expect(p, SPATE_CQL_TOK_RPAREN);
        if (cols.n != vals.n)
            fail_plain(p, SPATE_CQL_PARSE_INVALID, cols_at, "Unmatched column names/values");
        s->cols = cols.v;
        s->values = vals.v;
        s->ncols = cols.n;
    }
    /* Cassandra wants IF NOT EXISTS before USING; either order is taken. */
    for (int i = 0; i < 2; i++) {
        if (!s->if_not_exists && accept_if_not_exists(p))
            s->if_not_exists = true;
        else if (!s->using.ttl && !s->using.timestamp && accept_kw(p, "using"))
            parse_using(p, &s->using, false);
    }
}

/* "c = c + v" and friends: the column named on the right must be c. */
static void check_same_column(parser_t *p, const spate_cql_tok_t *at, const char *a, const char *b,
                              const char *form) {
    if (strcmp(a, b) != 0)
        fail_plain(p, SPATE_CQL_PARSE_SYNTAX, at, "Only expressions of the form %s are supported.",
                   form);
}

static void parse_assignment(parser_t *p, vec_t *out) {
    spate_cql_assign_t a;
    memset(&a, 0, sizeof a);
    a.col = parse_name(p);
    if (accept_tok(p, SPATE_CQL_TOK_LBRACKET)) {
        a.kind = SPATE_CQL_ASSIGN_SET_ELEM;
        a.key = parse_term(p);
        expect(p, SPATE_CQL_TOK_RBRACKET);
        expect(p, SPATE_CQL_TOK_EQ);
        a.value = parse_term(p);
    } else if (accept_tok(p, SPATE_CQL_TOK_DOT)) {
        a.kind = SPATE_CQL_ASSIGN_SET_FIELD;
        a.field = parse_name(p);
        expect(p, SPATE_CQL_TOK_EQ);
        a.value = parse_term(p);
    } else if (accept_tok(p, SPATE_CQL_TOK_PLUS_EQ) || accept_tok(p, SPATE_CQL_TOK_MINUS_EQ)) {
        a.kind = tok_at(p, p->pos - 1)->kind == SPATE_CQL_TOK_PLUS_EQ ? SPATE_CQL_ASSIGN_ADD
                                                                      : SPATE_CQL_ASSIGN_SUB;
        a.value = parse_term(p);
    } else {
        expect(p, SPATE_CQL_TOK_EQ);
        const spate_cql_tok_t *t = peek(p, 0);
        if (is_name_tok(p, t) && !at_function(p, 0) && !tok_is_word(p, t, "cast")) {
            /* c = c + v | c = c - v */
            const char *other = parse_name(p);
            if (accept_tok(p, SPATE_CQL_TOK_PLUS)) {
                check_same_column(p, t, a.col, other, "X = X + <value>");
                a.kind = SPATE_CQL_ASSIGN_ADD;
            } else if (accept_tok(p, SPATE_CQL_TOK_MINUS)) {
                check_same_column(p, t, a.col, other, "X = X - <value>");
                a.kind = SPATE_CQL_ASSIGN_SUB;
            } else {
                fail_noviable(p);
            }
            a.value = parse_term(p);
        } else {
            a.kind = SPATE_CQL_ASSIGN_SET;
            a.value = parse_term(p);
            if (accept_tok(p, SPATE_CQL_TOK_PLUS)) { /* c = v + c */
                const spate_cql_tok_t *at = peek(p, 0);
                check_same_column(p, at, a.col, parse_name(p), "X = <value> + X");
                a.kind = SPATE_CQL_ASSIGN_PREPEND;
            }
        }
    }
    vec_push(p, out, &a, sizeof a);
}

static void parse_update(parser_t *p, spate_cql_stmt_update_t *s) {
    expect_kw(p, "update");
    s->table = parse_qname(p);
    if (accept_kw(p, "using")) parse_using(p, &s->using, false);
    expect_kw(p, "set");
    vec_t v = {0};
    do parse_assignment(p, &v);
    while (accept_tok(p, SPATE_CQL_TOK_COMMA));
    s->set = v.v;
    s->nset = v.n;
    expect_kw(p, "where");
    parse_where(p, &s->where, &s->nwhere);
    parse_if(p, &s->if_exists, &s->cond, &s->ncond);
}

static void parse_delete(parser_t *p, spate_cql_stmt_delete_t *s) {
    expect_kw(p, "delete");
    if (!at_kw(p, 0, "from")) {
        vec_t v = {0};
        do {
            spate_cql_delcol_t d;
            memset(&d, 0, sizeof d);
            d.col = parse_name(p);
            if (accept_tok(p, SPATE_CQL_TOK_LBRACKET)) {
                d.key = parse_term(p);
                expect(p, SPATE_CQL_TOK_RBRACKET);
            } else if (accept_tok(p, SPATE_CQL_TOK_DOT)) {
                d.field = parse_name(p);
            }
            vec_push(p, &v, &d, sizeof d);
        } while (accept_tok(p, SPATE_CQL_TOK_COMMA));
        s->cols = v.v;
        s->ncols = v.n;
    }
    expect_kw(p, "from");
    s->table = parse_qname(p);
    if (accept_kw(p, "using")) parse_using(p, &s->using, true);
    expect_kw(p, "where");
    parse_where(p, &s->where, &s->nwhere);
    parse_if(p, &s->if_exists, &s->cond, &s->ncond);
}

static spate_cql_stmt_t *parse_statement(parser_t *p);

static spate_cql_stmt_t *new_stmt(parser_t *p, spate_cql_stmt_kind_t kind,
                                  const spate_cql_tok_t *start) {
    spate_cql_stmt_t *st = alloc(p, sizeof *st);
    st->kind = kind;
    st->line = start->line;
    st->col = start->col;
    st->off = start->off;
    return st;
}

static void parse_batch(parser_t *p, spate_cql_stmt_batch_t *b) {
    expect_kw(p, "begin");
    if (accept_kw(p, "unlogged"))
        b->type = SPATE_CQL_BATCH_KIND_UNLOGGED;
    else if (accept_kw(p, "counter"))
        b->type = SPATE_CQL_BATCH_KIND_COUNTER;
    else if (accept_kw(p, "logged"))
        b->type = SPATE_CQL_BATCH_KIND_LOGGED;
    expect_kw(p, "batch");
    if (accept_kw(p, "using")) parse_using(p, &b->using, false);
    vec_t v = {0};
    while (!accept_kw(p, "apply")) {
        const spate_cql_tok_t *t = peek(p, 0);
        if (!(tok_is_word(p, t, "insert") || tok_is_word(p, t, "update") ||
              tok_is_word(p, t, "delete")))
            fail_noviable(p);
        push_ptr(p, &v, parse_statement(p));
        accept_tok(p, SPATE_CQL_TOK_SEMI);
    }
    expect_kw(p, "batch");
    b->stmts = v.v;
    b->n = v.n;
}

static void parse_coldef(parser_t *p, spate_cql_coldef_t *c) {
    c->name = parse_name(p);
    c->type = parse_type(p);
    c->is_static = accept_kw(p, "static");
}

/* CREATE TABLE's body after the name, with Cassandra's checks. */
static void parse_table_body(parser_t *p, spate_cql_stmt_create_table_t *s,
                             const spate_cql_tok_t *stmt_start) {
    expect(p, SPATE_CQL_TOK_LPAREN);
    vec_t cols = {0}, pk = {0}, ck = {0};
    unsigned nkeys = 0;
    do {
        if (kind_at(p, 0) == SPATE_CQL_TOK_RPAREN && cols.n + nkeys > 0) break; /* trailing ',' */
        if (accept_kw(p, "primary")) {
            expect_kw(p, "key");
            expect(p, SPATE_CQL_TOK_LPAREN);
            nkeys++;
            pk.n = ck.n = 0;
            if (accept_tok(p, SPATE_CQL_TOK_LPAREN)) {
                do push_ptr(p, &pk, parse_name(p));
                while (accept_tok(p, SPATE_CQL_TOK_COMMA));
                expect(p, SPATE_CQL_TOK_RPAREN);
            } else {
                push_ptr(p, &pk, parse_name(p));
            }
            while (accept_tok(p, SPATE_CQL_TOK_COMMA)) push_ptr(p, &ck, parse_name(p));
            expect(p, SPATE_CQL_TOK_RPAREN);
            continue;
        }
        spate_cql_coldef_t c;
        const spate_cql_tok_t *at = peek(p, 0);
        parse_coldef(p, &c);
        for (uint32_t i = 0; i < cols.n; i++)
            if (strcmp(((spate_cql_coldef_t *)cols.v)[i].name, c.name) == 0)
                fail_plain(p, SPATE_CQL_PARSE_INVALID, at, "Multiple definition of identifier %s",
                           c.name);
        vec_push(p, &cols, &c, sizeof c);
        if (accept_kw(p, "primary")) {
            expect_kw(p, "key");
            nkeys++;
            pk.n = ck.n = 0;
            push_ptr(p, &pk, c.name);
        }
    } while (accept_tok(p, SPATE_CQL_TOK_COMMA));
    expect(p, SPATE_CQL_TOK_RPAREN);
    if (nkeys == 0)
        fail_plain(p, SPATE_CQL_PARSE_INVALID, stmt_start,
                   "No PRIMARY KEY specifed (exactly one required)");
    if (nkeys > 1)
        fail_plain(p, SPATE_CQL_PARSE_INVALID, stmt_start,
                   "Multiple PRIMARY KEYs specifed (exactly one required)");
    s->cols = cols.v;
    s->ncols = cols.n;
    s->pk = pk.v;
    s->npk = pk.n;
    s->ck = ck.v;
    s->nck = ck.n;
    for (uint32_t i = 0; i < s->npk + s->nck; i++) {
        const char *k = i < s->npk ? s->pk[i] : s->ck[i - s->npk];
        bool found = false;
        for (uint32_t j = 0; j < s->ncols && !found; j++) found = strcmp(s->cols[j].name, k) == 0;
        if (!found)
            fail_plain(p, SPATE_CQL_PARSE_INVALID, stmt_start,
                       "Unknown definition %s referenced in PRIMARY KEY", k);
        for (uint32_t j = 0; j < i; j++) {
            const char *o = j < s->npk ? s->pk[j] : s->ck[j - s->npk];
            if (strcmp(o, k) == 0)
                fail_plain(p, SPATE_CQL_PARSE_INVALID, stmt_start,
                           "Multiple definition of identifier %s", k);
        }
    }
    if (!accept_kw(p, "with")) return;
    vec_t props = {0}, order = {0};
    do {
        if (at_kw(p, 0, "clustering") && at_kw(p, 1, "order")) {
            p->pos += 2;
            expect_kw(p, "by");
            expect(p, SPATE_CQL_TOK_LPAREN);
            do {
                spate_cql_order_t o = {parse_name(p), false};
                if (accept_kw(p, "desc"))
                    o.desc = true;
                else
                    expect_kw(p, "asc");
                vec_push(p, &order, &o, sizeof o);
            } while (accept_tok(p, SPATE_CQL_TOK_COMMA));
            expect(p, SPATE_CQL_TOK_RPAREN);
        } else if (at_kw(p, 0, "compact") && at_kw(p, 1, "storage")) {
            p->pos += 2;
            s->compact_storage = true;
        } else {
            parse_property(p, &props);
        }
    } while (accept_kw(p, "and"));
    s->props = props.v;
    s->nprops = props.n;
    s->order = order.v;
    s->norder = order.n;
}

static void parse_alter_table(parser_t *p, spate_cql_stmt_alter_table_t *s) {
    s->if_exists = accept_if_exists(p);
    s->table = parse_qname(p);
    vec_t cols = {0}, to = {0};
    if (accept_kw(p, "add")) {
        s->op = SPATE_CQL_ALTER_ADD;
        s->if_col = accept_if_not_exists(p);
        bool paren = accept_tok(p, SPATE_CQL_TOK_LPAREN);
        do {
            spate_cql_coldef_t c;
            parse_coldef(p, &c);
            vec_push(p, &cols, &c, sizeof c);
        } while (paren && accept_tok(p, SPATE_CQL_TOK_COMMA));
        if (paren) expect(p, SPATE_CQL_TOK_RPAREN);
    } else if (accept_kw(p, "drop")) {
        if (at_kw(p, 0, "compact") && at_kw(p, 1, "storage")) {
            p->pos += 2;
            s->op = SPATE_CQL_ALTER_DROP_COMPACT;
            return;
        }
        s->op = SPATE_CQL_ALTER_DROP;
        s->if_col = accept_if_exists(p);
        bool paren = accept_tok(p, SPATE_CQL_TOK_LPAREN);
        do {
            spate_cql_coldef_t c = {parse_name(p), NULL, false};
            vec_push(p, &cols, &c, sizeof c);
        } while (paren && accept_tok(p, SPATE_CQL_TOK_COMMA));
        if (paren) expect(p, SPATE_CQL_TOK_RPAREN);
        if (accept_kw(p, "using")) { /* a literal only: DDL takes no markers */
            expect_kw(p, "timestamp");
            if (kind_at(p, 0) != SPATE_CQL_TOK_INTEGER) fail_expect(p, "INTEGER");
            s->timestamp = parse_constant(p);
        }
    } else if (accept_kw(p, "rename")) {
        s->op = SPATE_CQL_ALTER_RENAME;
        s->if_col = accept_if_exists(p);
        do {
            spate_cql_coldef_t c = {parse_name(p), NULL, false};
            vec_push(p, &cols, &c, sizeof c);
            expect_kw(p, "to");
            push_ptr(p, &to, parse_name(p));
        } while (accept_kw(p, "and"));
    } else if (accept_kw(p, "alter")) {
        s->op = SPATE_CQL_ALTER_TYPE;
        spate_cql_coldef_t c = {parse_name(p), NULL, false};
        expect_kw(p, "type");
        c.type = parse_type(p);
        vec_push(p, &cols, &c, sizeof c);
    } else if (accept_kw(p, "with")) {
        s->op = SPATE_CQL_ALTER_WITH;
        parse_properties(p, &s->props, &s->nprops);
    } else {
        fail_noviable(p);
    }
    s->cols = cols.v;
    s->ncols = cols.n;
    s->to = to.v;
}

/* Skips an unsupported statement to its end (';' or the input's end). */
static void skip_rest(parser_t *p) {
    for (;;) {
        spate_cql_tok_kind_t k = kind_at(p, 0);
        if (k == SPATE_CQL_TOK_SEMI || k == SPATE_CQL_TOK_EOF) return;
        advance(p);
    }
}

static spate_cql_stmt_t *unsupported(parser_t *p, const spate_cql_tok_t *start,
                                     spate_cql_unsup_kind_t what, const char *name) {
    spate_cql_stmt_t *st = new_stmt(p, SPATE_CQL_STMT_UNSUPPORTED, start);
    st->unsupported.what = what;
    st->unsupported.name = name;
    skip_rest(p);
    return st;
}

static bool at_keyspace_word(parser_t *p) {
    return at_kw(p, 0, "keyspace") || at_kw(p, 0, "schema");
}
static bool at_table_word(parser_t *p) {
    return at_kw(p, 0, "table") || at_kw(p, 0, "columnfamily");
}

static spate_cql_stmt_t *parse_create(parser_t *p, const spate_cql_tok_t *start) {
    advance(p); /* CREATE */
    if (at_keyspace_word(p)) {
        advance(p);
        spate_cql_stmt_t *st = new_stmt(p, SPATE_CQL_STMT_CREATE_KEYSPACE, start);
        st->keyspace.if_not_exists = accept_if_not_exists(p);
        st->keyspace.ks = parse_object_name(p, "keyspace");
        expect_kw(p, "with");
        parse_properties(p, &st->keyspace.props, &st->keyspace.nprops);
        return st;
    }
    if (at_table_word(p)) {
        advance(p);
        spate_cql_stmt_t *st = new_stmt(p, SPATE_CQL_STMT_CREATE_TABLE, start);
        st->create_table.if_not_exists = accept_if_not_exists(p);
        st->create_table.table = parse_qname(p);
        parse_table_body(p, &st->create_table, start);
        return st;
    }
    if (accept_kw(p, "custom")) {
        if (!at_kw(p, 0, "index")) fail_expect(p, "K_INDEX");
        return unsupported(p, start, SPATE_CQL_UNSUP_CREATE_INDEX, "CREATE INDEX");
    }
    if (at_kw(p, 0, "index"))
        return unsupported(p, start, SPATE_CQL_UNSUP_CREATE_INDEX, "CREATE INDEX");
    if (at_kw(p, 0, "type"))
        return unsupported(p, start, SPATE_CQL_UNSUP_CREATE_TYPE, "CREATE TYPE");
    if (at_kw(p, 0, "or")) {
        advance(p);
        expect_kw(p, "replace");
        if (!at_kw(p, 0, "function") && !at_kw(p, 0, "aggregate")) fail_noviable(p);
    }
    if (at_kw(p, 0, "function"))
        return unsupported(p, start, SPATE_CQL_UNSUP_CREATE_FUNCTION, "CREATE FUNCTION");
    if (at_kw(p, 0, "aggregate"))
        return unsupported(p, start, SPATE_CQL_UNSUP_CREATE_AGGREGATE, "CREATE AGGREGATE");
    if (accept_kw(p, "materialized")) {
        if (!at_kw(p, 0, "view")) fail_expect(p, "K_VIEW");
        return unsupported(p, start, SPATE_CQL_UNSUP_CREATE_VIEW, "CREATE MATERIALIZED VIEW");
    }
    if (at_kw(p, 0, "trigger"))
        return unsupported(p, start, SPATE_CQL_UNSUP_CREATE_TRIGGER, "CREATE TRIGGER");
    if (at_kw(p, 0, "role") || at_kw(p, 0, "user"))
        return unsupported(p, start, SPATE_CQL_UNSUP_ROLE, "CREATE ROLE");
    fail_noviable(p);
}

static spate_cql_stmt_t *parse_alter(parser_t *p, const spate_cql_tok_t *start) {
    advance(p); /* ALTER */
    if (at_keyspace_word(p)) {
        advance(p);
        spate_cql_stmt_t *st = new_stmt(p, SPATE_CQL_STMT_ALTER_KEYSPACE, start);
        st->keyspace.if_exists = accept_if_exists(p);
        st->keyspace.ks = parse_object_name(p, "keyspace");
        expect_kw(p, "with");
        parse_properties(p, &st->keyspace.props, &st->keyspace.nprops);
        return st;
    }
    if (at_table_word(p)) {
        advance(p);
        spate_cql_stmt_t *st = new_stmt(p, SPATE_CQL_STMT_ALTER_TABLE, start);
        parse_alter_table(p, &st->alter_table);
        return st;
    }
    if (at_kw(p, 0, "type")) return unsupported(p, start, SPATE_CQL_UNSUP_ALTER_TYPE, "ALTER TYPE");
    if (accept_kw(p, "materialized")) {
        if (!at_kw(p, 0, "view")) fail_expect(p, "K_VIEW");
        return unsupported(p, start, SPATE_CQL_UNSUP_ALTER_VIEW, "ALTER MATERIALIZED VIEW");
    }
    if (at_kw(p, 0, "role") || at_kw(p, 0, "user"))
        return unsupported(p, start, SPATE_CQL_UNSUP_ROLE, "ALTER ROLE");
    fail_noviable(p);
}

static spate_cql_stmt_t *parse_drop(parser_t *p, const spate_cql_tok_t *start) {
    advance(p); /* DROP */
    if (at_keyspace_word(p)) {
        advance(p);
        spate_cql_stmt_t *st = new_stmt(p, SPATE_CQL_STMT_DROP_KEYSPACE, start);
        st->keyspace.if_exists = accept_if_exists(p);
        st->keyspace.ks = parse_object_name(p, "keyspace");
        return st;
    }
    if (at_table_word(p)) {
        advance(p);
        spate_cql_stmt_t *st = new_stmt(p, SPATE_CQL_STMT_DROP_TABLE, start);
        st->table.if_exists = accept_if_exists(p);
        st->table.table = parse_qname(p);
        return st;
    }
    static const struct {
        const char *word;
        spate_cql_unsup_kind_t what;
        const char *name;
    } others[] = {
        {"index", SPATE_CQL_UNSUP_DROP_INDEX, "DROP INDEX"},
        {"type", SPATE_CQL_UNSUP_DROP_TYPE, "DROP TYPE"},
        {"function", SPATE_CQL_UNSUP_DROP_FUNCTION, "DROP FUNCTION"},
        {"aggregate", SPATE_CQL_UNSUP_DROP_AGGREGATE, "DROP AGGREGATE"},
        {"trigger", SPATE_CQL_UNSUP_DROP_TRIGGER, "DROP TRIGGER"},
        {"role", SPATE_CQL_UNSUP_ROLE, "DROP ROLE"},
        {"user", SPATE_CQL_UNSUP_ROLE, "DROP ROLE"},
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(others); i++)
        if (at_kw(p, 0, others[i].word))
            return unsupported(p, start, others[i].what, others[i].name);
    if (accept_kw(p, "materialized")) {
        if (!at_kw(p, 0, "view")) fail_expect(p, "K_VIEW");
        return unsupported(p, start, SPATE_CQL_UNSUP_DROP_VIEW, "DROP MATERIALIZED VIEW");
    }
    fail_noviable(p);
}

static spate_cql_stmt_t *parse_statement(parser_t *p) {
    const spate_cql_tok_t *start = peek(p, 0);
    spate_cql_stmt_t *st;
    if (tok_is_word(p, start, "select")) {
        st = new_stmt(p, SPATE_CQL_STMT_SELECT, start);
        parse_select(p, &st->select);
    } else if (tok_is_word(p, start, "insert")) {
        st = new_stmt(p, SPATE_CQL_STMT_INSERT, start);
        parse_insert(p, &st->insert);
    } else if (tok_is_word(p, start, "update")) {
        st = new_stmt(p, SPATE_CQL_STMT_UPDATE, start);
        parse_update(p, &st->update);
    } else if (tok_is_word(p, start, "delete")) {
        st = new_stmt(p, SPATE_CQL_STMT_DELETE, start);
        parse_delete(p, &st->del);
    } else if (tok_is_word(p, start, "begin")) {
        st = new_stmt(p, SPATE_CQL_STMT_BATCH, start);
        parse_batch(p, &st->batch);
    } else if (tok_is_word(p, start, "use")) {
        advance(p);
        st = new_stmt(p, SPATE_CQL_STMT_USE, start);
        st->use.ks = parse_object_name(p, "keyspace");
    } else if (tok_is_word(p, start, "truncate")) {
        advance(p);
        st = new_stmt(p, SPATE_CQL_STMT_TRUNCATE, start);
        if (at_table_word(p)) advance(p);
        st->table.table = parse_qname(p);
    } else if (tok_is_word(p, start, "create")) {
        st = parse_create(p, start);
    } else if (tok_is_word(p, start, "alter")) {
        st = parse_alter(p, start);
    } else if (tok_is_word(p, start, "drop")) {
        st = parse_drop(p, start);
    } else if (tok_is_word(p, start, "grant") || tok_is_word(p, start, "revoke")) {
        st = unsupported(p, start, SPATE_CQL_UNSUP_PERMISSIONS,
                         tok_is_word(p, start, "grant") ? "GRANT" : "REVOKE");
    } else if (tok_is_word(p, start, "list")) {
        bool roles = at_kw(p, 1, "roles") || at_kw(p, 1, "users");
        st = unsupported(p, start, roles ? SPATE_CQL_UNSUP_ROLE : SPATE_CQL_UNSUP_PERMISSIONS,
                         roles ? "LIST ROLES" : "LIST PERMISSIONS");
    } else if (tok_is_word(p, start, "describe") || tok_is_word(p, start, "desc")) {
        st = unsupported(p, start, SPATE_CQL_UNSUP_DESCRIBE, "DESCRIBE");
    } else {
        fail_noviable(p);
    }
    st->len = prev_end(p) - st->off;
    return st;
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */
/* ------------------------------------------------------------------ */

/* Runs one statement parse over the lexer *lx; script mode requires ';' or
 * the end after it and skips empty statements before it. */
static spate_status_t parse_run(spate_cql_arena_t *a, spate_cql_lexer_t *lx, bool script,
                                spate_cql_stmt_t **out, spate_cql_parse_error_t *err) {
    parser_t *p = calloc(1, sizeof *p);
    if (out) *out = NULL;
    if (!p) {
        if (err) {
            memset(err, 0, sizeof *err);
            err->kind = SPATE_CQL_PARSE_NOMEM;
            snprintf(err->msg, sizeof err->msg, "out of memory");
        }
        return SPATE_ENOMEM;
    }
    p->a = a;
    p->lx = *lx;
    p->src = lx->src;
    p->len = lx->len;
    p->stmt_off = lx->off;
    spate_status_t st = SPATE_OK;
    spate_cql_stmt_t *stmt = NULL;
    if (setjmp(p->jb) == 0) {
        if (script) {
            while (accept_tok(p, SPATE_CQL_TOK_SEMI)) {
            }
            const spate_cql_tok_t *t = peek(p, 0);
            fail_if_lex_error(p, t);
            if (t->kind == SPATE_CQL_TOK_EOF) {
                lx->off = t->off;
                lx->line = t->line;
                lx->col = t->col;
                st = SPATE_ENOENT;
                goto done;
            }
            p->stmt_off = t->off;
        }
        stmt = parse_statement(p);
        stmt->nbind = p->nbind;
        if (script) {
            const spate_cql_tok_t *t = peek(p, 0);
            if (t->kind != SPATE_CQL_TOK_EOF && t->kind != SPATE_CQL_TOK_SEMI)
                fail_expect(p, "';'");
            /* The next statement starts right after the ';' (one byte). */
            if (t->kind == SPATE_CQL_TOK_SEMI) {
                lx->off = t->off + 1;
                lx->line = t->line;
                lx->col = t->col + 1;
            } else {
                lx->off = t->off;
                lx->line = t->line;
                lx->col = t->col;
            }
        } else {
            while (accept_tok(p, SPATE_CQL_TOK_SEMI)) {
            }
            if (kind_at(p, 0) != SPATE_CQL_TOK_EOF) fail_expect(p, "EOF");
        }
        if (out) *out = stmt;
    } else {
        st = p->status;
    }
done:
    if (err) {
        if (st == SPATE_OK || st == SPATE_ENOENT)
            memset(err, 0, sizeof *err);
        else
            *err = p->err;
    }
    for (size_t i = 0; i < p->nblocks; i++) free(p->blocks[i]);
    free(p->blocks);
    free(p);
    return st;
}

spate_status_t spate_cql_parse(spate_cql_arena_t *a, const char *src, size_t len,
                               spate_cql_stmt_t **out, spate_cql_parse_error_t *err) {
    spate_cql_lexer_t lx;
    spate_cql_lex_init(&lx, src, len);
    return parse_run(a, &lx, false, out, err);
}

spate_status_t spate_cql_parse_next(spate_cql_arena_t *a, spate_cql_lexer_t *cur,
                                    spate_cql_stmt_t **out, spate_cql_parse_error_t *err) {
    if (cur->failed) {
        if (out) *out = NULL;
        if (err) *err = cur->err;
        return SPATE_EINVAL;
    }
    spate_cql_lexer_t lx = *cur;
    spate_status_t st = parse_run(a, &lx, true, out, err);
    if (st == SPATE_OK || st == SPATE_ENOENT) *cur = lx;
    return st;
}

/* ------------------------------------------------------------------ */
/* Classification                                                      */
/* ------------------------------------------------------------------ */

spate_cql_class_t spate_cql_stmt_class(const spate_cql_stmt_t *st) {
    switch (st->kind) {
    case SPATE_CQL_STMT_SELECT: return SPATE_CQL_CLASS_READ;
    case SPATE_CQL_STMT_INSERT:
    case SPATE_CQL_STMT_UPDATE:
    case SPATE_CQL_STMT_DELETE:
    case SPATE_CQL_STMT_TRUNCATE: return SPATE_CQL_CLASS_WRITE;
    case SPATE_CQL_STMT_CREATE_KEYSPACE:
    case SPATE_CQL_STMT_ALTER_KEYSPACE:
    case SPATE_CQL_STMT_DROP_KEYSPACE:
    case SPATE_CQL_STMT_CREATE_TABLE:
    case SPATE_CQL_STMT_ALTER_TABLE:
    case SPATE_CQL_STMT_DROP_TABLE: return SPATE_CQL_CLASS_DDL;
    case SPATE_CQL_STMT_USE: return SPATE_CQL_CLASS_USE;
    case SPATE_CQL_STMT_BATCH: return SPATE_CQL_CLASS_BATCH;
    case SPATE_CQL_STMT_UNSUPPORTED: return SPATE_CQL_CLASS_OTHER;
    }
    return SPATE_CQL_CLASS_OTHER;
}

const char *spate_cql_stmt_kind_name(const spate_cql_stmt_t *st) {
    switch (st->kind) {
    case SPATE_CQL_STMT_USE: return "USE";
    case SPATE_CQL_STMT_CREATE_KEYSPACE: return "CREATE KEYSPACE";
    case SPATE_CQL_STMT_ALTER_KEYSPACE: return "ALTER KEYSPACE";
    case SPATE_CQL_STMT_DROP_KEYSPACE: return "DROP KEYSPACE";
    case SPATE_CQL_STMT_CREATE_TABLE: return "CREATE TABLE";
    case SPATE_CQL_STMT_ALTER_TABLE: return "ALTER TABLE";
    case SPATE_CQL_STMT_DROP_TABLE: return "DROP TABLE";
    case SPATE_CQL_STMT_TRUNCATE: return "TRUNCATE";
    case SPATE_CQL_STMT_SELECT: return "SELECT";
    case SPATE_CQL_STMT_INSERT: return "INSERT";
    case SPATE_CQL_STMT_UPDATE: return "UPDATE";
    case SPATE_CQL_STMT_DELETE: return "DELETE";
    case SPATE_CQL_STMT_BATCH: return "BATCH";
    case SPATE_CQL_STMT_UNSUPPORTED: return st->unsupported.name;
    }
    return "?";
}

/* ------------------------------------------------------------------ */
/* Bind marker metadata                                                */
/* ------------------------------------------------------------------ */

typedef struct {
    spate_cql_arena_t *a;
    spate_cql_bind_t *out;
    uint32_t n;
    const spate_cql_stmt_t *stmt;
    const spate_cql_qname_t *table;
    bool nomem;
} binds_t;

static const char *bfmt(binds_t *b, const char *fmt, ...) SPATE_PRINTF(2, 3);
static const char *bfmt(binds_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return "";
    char *s = spate_cql_arena_alloc(b->a, (size_t)n + 1);
    if (!s) {
        b->nomem = true;
        return "";
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* "(a,b)" for tuple relations. */
static const char *tuple_name(binds_t *b, const char *const *cols, uint32_t n) {
    size_t len = 3;
    for (uint32_t i = 0; i < n; i++) len += strlen(cols[i]) + 1;
    char *s = spate_cql_arena_alloc(b->a, len);
    if (!s) {
        b->nomem = true;
        return "";
    }
    size_t o = 0;
    s[o++] = '(';
    for (uint32_t i = 0; i < n; i++) {
        if (i) s[o++] = ',';
        size_t l = strlen(cols[i]);
        memcpy(s + o, cols[i], l);
        o += l;
    }
    s[o++] = ')';
    s[o] = '\0';
    return s;
}

/* The role a term gets in its context; `c` is copied into each marker
 * found directly (through hints and function arguments, roles change). */
static void bind_term(binds_t *b, const spate_cql_term_t *t, const spate_cql_bind_t *c,
                      uint32_t depth) {
    if (!t || depth > SPATE_CQL_PARSE_MAX_DEPTH + 1) return;
    switch (t->kind) {
    case SPATE_CQL_TERM_BIND: {
        if (t->bind.index >= b->n) return;
        spate_cql_bind_t *o = &b->out[t->bind.index];
        *o = *c;
        o->stmt = b->stmt;
        o->table = b->table;
        o->marker = t->bind.name;
        if (!o->name) o->name = "expr";
        if (t->bind.name) o->name = t->bind.name;
        return;
    }
    case SPATE_CQL_TERM_LIST:
    case SPATE_CQL_TERM_SET:
    case SPATE_CQL_TERM_TUPLE:
        for (uint32_t i = 0; i < t->items.n; i++) {
            spate_cql_bind_t e = {0};
            if (c->role == SPATE_CQL_BIND_COLUMN) {
                e.col = c->col;
                if (t->kind == SPATE_CQL_TERM_TUPLE) {
                    e.role = SPATE_CQL_BIND_TUPLE_ELEM;
                    e.elem = i;
                    e.name = c->col;
                } else {
                    e.role = SPATE_CQL_BIND_VALUE;
                    e.name = bfmt(b, "value(%s)", c->col);
                }
            }
            bind_term(b, t->items.v[i], &e, depth + 1);
        }
        return;
    case SPATE_CQL_TERM_MAP:
        for (uint32_t i = 0; i < t->map.n; i++) {
            spate_cql_bind_t k = {0}, v = {0};
            if (c->role == SPATE_CQL_BIND_COLUMN) {
                k.role = SPATE_CQL_BIND_KEY;
                k.col = c->col;
                k.name = bfmt(b, "key(%s)", c->col);
                v.role = SPATE_CQL_BIND_VALUE;
                v.col = c->col;
                v.name = bfmt(b, "value(%s)", c->col);
            }
            bind_term(b, t->map.keys[i], &k, depth + 1);
            bind_term(b, t->map.vals[i], &v, depth + 1);
        }
        return;
    case SPATE_CQL_TERM_UDT:
        for (uint32_t i = 0; i < t->udt.n; i++) {
            spate_cql_bind_t f = {0};
            if (c->role == SPATE_CQL_BIND_COLUMN) {
                f.role = SPATE_CQL_BIND_FIELD;
                f.col = c->col;
                f.field = t->udt.fields[i];
                f.name = bfmt(b, "%s.%s", c->col, t->udt.fields[i]);
            }
            bind_term(b, t->udt.vals[i], &f, depth + 1);
        }
        return;
    case SPATE_CQL_TERM_FUNC:
        for (uint32_t i = 0; i < t->func.nargs; i++) {
            spate_cql_bind_t f = {0};
            f.role = SPATE_CQL_BIND_FUNC_ARG;
            f.elem = i;
            f.func = t->func.name;
            f.func_ks = t->func.ks;
            f.name = bfmt(b, "arg%u(%s.%s)", i, t->func.ks ? t->func.ks : "system", t->func.name);
            bind_term(b, t->func.args[i], &f, depth + 1);
        }
        return;
    case SPATE_CQL_TERM_HINT: {
        spate_cql_bind_t h = {0};
        h.role = SPATE_CQL_BIND_HINT;
        h.type = t->hint.type;
        h.col = c->col;
        h.name = c->col ? c->col : "[hint]";
        bind_term(b, t->hint.term, &h, depth + 1);
        return;
    }
    default: return;
    }
}

static void bind_col(binds_t *b, const spate_cql_term_t *t, spate_cql_bind_role_t role,
                     const char *col) {
    spate_cql_bind_t c = {0};
    c.role = role;
    c.col = col;
    switch (role) {
    case SPATE_CQL_BIND_COLUMN: c.name = col; break;
    case SPATE_CQL_BIND_IN: c.name = bfmt(b, "in(%s)", col); break;
    case SPATE_CQL_BIND_KEY: c.name = bfmt(b, "key(%s)", col); break;
    case SPATE_CQL_BIND_VALUE: c.name = bfmt(b, "value(%s)", col); break;
    default: break;
    }
    bind_term(b, t, &c, 0);
}

static void bind_special(binds_t *b, const spate_cql_term_t *t, spate_cql_bind_role_t role,
                         const char *name) {
    spate_cql_bind_t c = {0};
    c.role = role;
    c.name = name;
    bind_term(b, t, &c, 0);
}

static void bind_using(binds_t *b, const spate_cql_using_t *u) {
    bind_special(b, u->ttl, SPATE_CQL_BIND_TTL, "[ttl]");
    bind_special(b, u->timestamp, SPATE_CQL_BIND_TIMESTAMP, "[timestamp]");
}

static void bind_relations(binds_t *b, const spate_cql_relation_t *r, uint32_t n) {
    for (uint32_t i = 0; i < n; i++, r++) {
        const char *col = r->ncols ? r->cols[0] : NULL;
        switch (r->lhs) {
        case SPATE_CQL_LHS_COLUMN:
            if (r->op == SPATE_CQL_REL_IN && !r->in_list) {
                bind_col(b, r->value, SPATE_CQL_BIND_IN, col);
            } else if (r->op == SPATE_CQL_REL_CONTAINS) {
                bind_col(b, r->value, SPATE_CQL_BIND_VALUE, col);
            } else if (r->op == SPATE_CQL_REL_CONTAINS_KEY) {
                bind_col(b, r->value, SPATE_CQL_BIND_KEY, col);
            } else {
                bind_col(b, r->value, SPATE_CQL_BIND_COLUMN, col);
                for (uint32_t j = 0; j < r->nin; j++)
                    bind_col(b, r->in[j], SPATE_CQL_BIND_COLUMN, col);
            }
            break;
        case SPATE_CQL_LHS_ELEM:
            bind_col(b, r->key, SPATE_CQL_BIND_KEY, col);
            for (uint32_t j = 0; j < r->nin; j++) bind_col(b, r->in[j], SPATE_CQL_BIND_VALUE, col);
            if (r->op == SPATE_CQL_REL_IN && !r->in_list) {
                spate_cql_bind_t c = {.role = SPATE_CQL_BIND_IN, .col = col};
                c.name = bfmt(b, "in(value(%s))", col);
                bind_term(b, r->value, &c, 0);
            } else {
                bind_col(b, r->value, SPATE_CQL_BIND_VALUE, col);
            }
            break;
        case SPATE_CQL_LHS_FIELD: {
            spate_cql_bind_t c = {.role = SPATE_CQL_BIND_FIELD, .col = col, .field = r->field};
            c.name = bfmt(b, "%s.%s", col, r->field);
            for (uint32_t j = 0; j < r->nin; j++) bind_term(b, r->in[j], &c, 0);
            if (r->op == SPATE_CQL_REL_IN && !r->in_list) {
                c.role = SPATE_CQL_BIND_IN;
                c.name = bfmt(b, "in(%s.%s)", col, r->field);
            }
            bind_term(b, r->value, &c, 0);
            break;
        }
        case SPATE_CQL_LHS_TOKEN: {
            spate_cql_bind_t c = {.role = SPATE_CQL_BIND_TOKEN, .cols = r->cols, .ncols = r->ncols};
            c.name = "partition key token";
            bind_term(b, r->value, &c, 0);
            break;
        }
        case SPATE_CQL_LHS_TUPLE: {
            /* (a, b) op (x, y): elementwise; (a, b) op ?: the whole tuple. */
            const char *tn = tuple_name(b, r->cols, r->ncols);
            const spate_cql_term_t *const *vals = r->in_list
                                                      ? (const spate_cql_term_t *const *)r->in
                                                      : (const spate_cql_term_t *const *)&r->value;
            uint32_t nv = r->in_list ? r->nin : 1;
            for (uint32_t j = 0; j < nv; j++) {
                const spate_cql_term_t *v = vals[j];
                if (!v) continue;
                if (v->kind == SPATE_CQL_TERM_TUPLE) {
                    for (uint32_t k = 0; k < v->items.n; k++) {
                        spate_cql_bind_t c = {.role = SPATE_CQL_BIND_COLUMN};
                        if (k < r->ncols) c.col = c.name = r->cols[k];
                        c.cols = r->cols;
                        c.ncols = r->ncols;
                        c.elem = k;
                        bind_term(b, v->items.v[k], &c, 0);
                    }
                } else {
                    bool in_marker = r->op == SPATE_CQL_REL_IN && !r->in_list;
                    spate_cql_bind_t c = {.role = in_marker ? SPATE_CQL_BIND_TUPLE_IN
                                                            : SPATE_CQL_BIND_TUPLE,
                                          .cols = r->cols,
                                          .ncols = r->ncols};
                    c.name = in_marker ? bfmt(b, "in(%s)", tn) : tn;
                    bind_term(b, v, &c, 0);
                }
            }
            break;
        }
        }
    }
}

static void bind_selector(binds_t *b, const spate_cql_selector_t *s, uint32_t depth) {
    if (!s || depth > SPATE_CQL_PARSE_MAX_DEPTH + 1) return;
    if (s->term) {
        spate_cql_bind_t c = {0};
        bind_term(b, s->term, &c, 0);
    }
    for (uint32_t i = 0; i < s->nargs; i++) bind_selector(b, s->args[i], depth + 1);
}

static void bind_stmt(binds_t *b, const spate_cql_stmt_t *st) {
    b->stmt = st;
    switch (st->kind) {
    case SPATE_CQL_STMT_SELECT: {
        const spate_cql_stmt_select_t *s = &st->select;
        b->table = &s->table;
        for (uint32_t i = 0; i < s->nsel; i++) bind_selector(b, s->sel[i], 0);
        bind_relations(b, s->where, s->nwhere);
        bind_special(b, s->per_partition_limit, SPATE_CQL_BIND_PER_PARTITION_LIMIT,
                     "[per_partition_limit]");
        bind_special(b, s->limit, SPATE_CQL_BIND_LIMIT, "[limit]");
        break;
    }
    case SPATE_CQL_STMT_INSERT: {
        const spate_cql_stmt_insert_t *s = &st->insert;
        b->table = &s->table;
        for (uint32_t i = 0; i < s->ncols; i++)
            bind_col(b, s->values[i], SPATE_CQL_BIND_COLUMN, s->cols[i]);
        bind_special(b, s->json, SPATE_CQL_BIND_JSON, "[json]");
        bind_using(b, &s->using);
        break;
    }
    case SPATE_CQL_STMT_UPDATE: {
        const spate_cql_stmt_update_t *s = &st->update;
        b->table = &s->table;
        bind_using(b, &s->using);
        for (uint32_t i = 0; i < s->nset; i++) {
            const spate_cql_assign_t *a = &s->set[i];
            switch (a->kind) {
            case SPATE_CQL_ASSIGN_SET_ELEM:
                bind_col(b, a->key, SPATE_CQL_BIND_KEY, a->col);
                bind_col(b, a->value, SPATE_CQL_BIND_VALUE, a->col);
                break;
            case SPATE_CQL_ASSIGN_SET_FIELD: {
                spate_cql_bind_t c = {
                    .role = SPATE_CQL_BIND_FIELD, .col = a->col, .field = a->field};
                c.name = bfmt(b, "%s.%s", a->col, a->field);
                bind_term(b, a->value, &c, 0);
                break;
            }
            default: bind_col(b, a->value, SPATE_CQL_BIND_COLUMN, a->col); break;
            }
        }
        bind_relations(b, s->where, s->nwhere);
        bind_relations(b, s->cond, s->ncond);
        break;
    }
    case SPATE_CQL_STMT_DELETE: {
        const spate_cql_stmt_delete_t *s = &st->del;
        b->table = &s->table;
        for (uint32_t i = 0; i < s->ncols; i++)
            bind_col(b, s->cols[i].key, SPATE_CQL_BIND_KEY, s->cols[i].col);
        bind_using(b, &s->using);
        bind_relations(b, s->where, s->nwhere);
        bind_relations(b, s->cond, s->ncond);
        break;
    }
    case SPATE_CQL_STMT_BATCH:
        b->table = NULL;
        bind_using(b, &st->batch.using);
        for (uint32_t i = 0; i < st->batch.n; i++) bind_stmt(b, st->batch.stmts[i]);
        break;
    default: break; /* DDL has no markers */
    }
}

spate_status_t spate_cql_stmt_binds(spate_cql_arena_t *a, const spate_cql_stmt_t *st,
                                    spate_cql_bind_t **out) {
    *out = NULL;
    if (st->nbind == 0) return SPATE_OK;
    binds_t b = {.a = a, .n = st->nbind};
    b.out = spate_cql_arena_alloc(a, (size_t)st->nbind * sizeof *b.out);
    if (!b.out) return SPATE_ENOMEM;
    for (uint32_t i = 0; i < st->nbind; i++) {
        b.out[i].name = "expr";
        b.out[i].stmt = st;
    }
    bind_stmt(&b, st);
    if (b.nomem) return SPATE_ENOMEM;
    *out = b.out;
    return SPATE_OK;
}

/* ------------------------------------------------------------------ */
/* Result column names                                                 */
/* ------------------------------------------------------------------ */

static void type_text(spate_buf_t *buf, const spate_cql_typeref_t *t, uint32_t depth) {
    if (depth > SPATE_CQL_PARSE_MAX_DEPTH + 1) return;
    if (t->frozen) spate_buf_puts(buf, "frozen<");
    if (t->id == SPATE_CQL_UDT || t->id == SPATE_CQL_CUSTOM) {
        if (t->ks) spate_buf_printf(buf, "%s.", t->ks);
        spate_buf_puts(buf, t->name ? t->name : "");
    } else {
        const char *n = spate_cql_type_name(t->id);
        spate_buf_puts(buf, n ? n : "?");
        if (t->nargs) {
            spate_buf_putc(buf, '<');
            for (uint32_t i = 0; i < t->nargs; i++) {
                if (i) spate_buf_puts(buf, ", ");
                type_text(buf, t->args[i], depth + 1);
            }
            spate_buf_putc(buf, '>');
        }
    }
    if (t->frozen) spate_buf_putc(buf, '>');
}

static void selector_text(spate_buf_t *buf, const spate_cql_selector_t *s, uint32_t depth) {
    if (depth > SPATE_CQL_PARSE_MAX_DEPTH + 1) return;
    switch (s->kind) {
    case SPATE_CQL_SEL_COLUMN: spate_buf_puts(buf, s->name); break;
    case SPATE_CQL_SEL_COUNT_ROWS: spate_buf_puts(buf, "count"); break;
    case SPATE_CQL_SEL_WRITETIME:
    case SPATE_CQL_SEL_TTL:
        spate_buf_printf(buf, "%s(", s->name);
        selector_text(buf, s->args[0], depth + 1);
        spate_buf_putc(buf, ')');
        break;
    case SPATE_CQL_SEL_FUNC:
        spate_buf_printf(buf, "%s.%s(", s->ks ? s->ks : "system", s->name);
        for (uint32_t i = 0; i < s->nargs; i++) {
            if (i) spate_buf_puts(buf, ", ");
            selector_text(buf, s->args[i], depth + 1);
        }
        spate_buf_putc(buf, ')');
        break;
    case SPATE_CQL_SEL_CAST:
        spate_buf_puts(buf, "cast(");
        selector_text(buf, s->args[0], depth + 1);
        spate_buf_puts(buf, " as ");
        type_text(buf, s->type, 0);
        spate_buf_putc(buf, ')');
        break;
    case SPATE_CQL_SEL_FIELD:
        selector_text(buf, s->args[0], depth + 1);
        spate_buf_printf(buf, ".%s", s->name);
        break;
    case SPATE_CQL_SEL_TERM:
        if (s->term->kind == SPATE_CQL_TERM_CONST && s->term->lit.kind != SPATE_CQL_LIT_STRING)
            spate_buf_append(buf, s->term->lit.text, s->term->lit.len);
        else if (s->term->kind == SPATE_CQL_TERM_CONST)
            spate_buf_printf(buf, "'%.*s'", (int)SPATE_MIN(s->term->lit.len, (size_t)INT32_MAX),
                             s->term->lit.text);
        else if (s->term->kind == SPATE_CQL_TERM_NULL)
            spate_buf_puts(buf, "null");
        else if (s->term->kind == SPATE_CQL_TERM_BIND)
            spate_buf_puts(buf, s->term->bind.name ? s->term->bind.name : "?");
        else
            spate_buf_puts(buf, "expr");
        break;
    }
}

const char *spate_cql_selector_name(spate_cql_arena_t *a, const spate_cql_selector_t *s) {
    if (s->alias) return s->alias;
    if (s->kind == SPATE_CQL_SEL_COLUMN) return s->name;
    spate_buf_t buf = SPATE_BUF_INIT;
    selector_text(&buf, s, 0);
    const char *r = spate_cql_arena_strndup(a, buf.data ? buf.data : "", buf.len);
    spate_buf_free(&buf);
    return r;
}
