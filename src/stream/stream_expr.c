/*
 * stream_expr.c — the filter language: compiled once, evaluated per record.
 *
 * Grammar (lowest precedence first; keywords are lower-case words):
 *
 *   expr     := and { 'or' and }
 *   and      := not { 'and' not }
 *   not      := 'not' not | primary
 *   primary  := '(' expr ')'
 *             | 'exists' '(' path ')'
 *             | operand [ cmp operand | ['not'] 'in' list ]
 *   cmp      := '==' | '!=' | '<' | '<=' | '>' | '>='
 *   operand  := path | literal
 *   literal  := 'string' | "string" | number | true | false | null
 *   list     := '[' [ literal { ',' literal } ] ']'
 *
 * so `not a == 1 or b` is `(not (a == 1)) or b`. A bare operand is a
 * condition when it is a boolean field (missing or null = false) or a
 * boolean literal.
 *
 * Semantics, chosen so that a filter never guesses:
 *   ==, !=    values of different types are unequal (1 != "1"); a
 *             missing field equals null; integers and reals compare by value
 *   < <= > >= numbers with numbers, strings with strings (bytewise);
 *             a missing or null side makes the comparison false; any other
 *             mix (a string against a number, a boolean, an object) is an
 *             error: the record fails with the reason, it is not dropped
 *   in        equality with any list item; `not in` is its negation
 *   exists(p) p is present and not null
 *
 * Compiled form: a tree of stream_expr_t in the program's arena with
 * n-ary and/or nodes (so a long chain of `and`s is one node, not a deep
 * tree). Depth is bounded by STREAM_EXPR_MAX_DEPTH (parentheses and nots)
 * and size by STREAM_EXPR_MAX_NODES, which bounds both the parser's and
 * the evaluator's recursion. Evaluation reads paths from the record and
 * allocates nothing.
 */
#include "stream_int.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Lexer                                                               */
/* ------------------------------------------------------------------ */

typedef enum {
    T_EOF,
    T_LPAREN,
    T_RPAREN,
    T_LBRACK,
    T_RBRACK,
    T_COMMA,
    T_CMP,
    T_STR,
    T_INT,
    T_REAL,
    T_PATH,
    T_AND,
    T_OR,
    T_NOT,
    T_IN,
    T_EXISTS,
    T_TRUE,
    T_FALSE,
    T_NULL
} tok_kind_t;

typedef struct {
    tok_kind_t kind;
    size_t off, end; /* bytes of the token in the text */
    stream_xop_t op;
    const char *s; /* T_STR: unescaped, in the arena */
    size_t n;
    int64_t i;
    double d;
    const spate_stream_path_t *path;
} tok_t;

typedef struct {
    stream_arena_t *a;
    const char *s;
    size_t n, pos;
    tok_t tok; /* the current token */
    char *err;
    size_t errlen;
    bool failed;
    size_t nodes;
} parser_t;

static void fail_at(parser_t *p, size_t off, const char *fmt, ...) SPATE_PRINTF(3, 4);
static void fail_at(parser_t *p, size_t off, const char *fmt, ...) {
    if (p->failed) return;
    p->failed = true;
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "%s at column %zu", what, off + 1);
}

/* The token's text for messages, at most 24 bytes. */
static void fail_unexpected(parser_t *p, const char *wanted) {
    if (p->tok.kind == T_EOF) {
        fail_at(p, p->tok.off, "expected %s, got the end of the filter", wanted);
        return;
    }
    size_t len = p->tok.end - p->tok.off;
    fail_at(p, p->tok.off, "expected %s, got '%.*s%s'", wanted, (int)(len > 24 ? 24 : len),
            p->s + p->tok.off, len > 24 ? "..." : "");
}

static const struct {
    const char *word;
    tok_kind_t kind;
} keywords[] = {{"and", T_AND},       {"or", T_OR},     {"not", T_NOT},     {"in", T_IN},
                {"exists", T_EXISTS}, {"true", T_TRUE}, {"false", T_FALSE}, {"null", T_NULL}};

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static void lex_string(parser_t *p, tok_t *t) {
    char q = p->s[p->pos];
    size_t i = p->pos + 1, len = 0;
    for (; i < p->n && p->s[i] != q; i++, len++) {
        if (p->s[i] == '\\') {
            if (i + 1 >= p->n) break;
            char e = p->s[i + 1];
            if (e != '\\' && e != '\'' && e != '"' && e != 'n' && e != 't' && e != 'r') {
                fail_at(p, i, "unknown escape '\\%c' in a string", e);
                return;
            }
            i++;
        }
    }
    if (i >= p->n) {
        fail_at(p, p->pos, "unterminated string");
        return;
    }
    char *out = stream_arena_alloc(p->a, len + 1);
    size_t o = 0;
    for (size_t j = p->pos + 1; j < i; j++) {
        char c = p->s[j];
        if (c == '\\') {
            c = p->s[++j];
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
        }
        out[o++] = c;
    }
    t->kind = T_STR;
    t->s = out;
    t->n = len;
    p->pos = i + 1;
}

static void lex_number(parser_t *p, tok_t *t) {
    size_t i = p->pos;
    bool real = false;
    if (p->s[i] == '-') i++;
    if (i >= p->n || !is_digit(p->s[i])) {
        fail_at(p, p->pos, "expected a number after '-'");
        return;
    }
    while (i < p->n && is_digit(p->s[i])) i++;
    if (i < p->n && p->s[i] == '.') {
        real = true;
        i++;
        if (i >= p->n || !is_digit(p->s[i])) {
            fail_at(p, p->pos, "expected digits after '.' in a number");
            return;
        }
        while (i < p->n && is_digit(p->s[i])) i++;
    }
    if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
        real = true;
        i++;
        if (i < p->n && (p->s[i] == '+' || p->s[i] == '-')) i++;
        if (i >= p->n || !is_digit(p->s[i])) {
            fail_at(p, p->pos, "expected digits in the exponent of a number");
            return;
        }
        while (i < p->n && is_digit(p->s[i])) i++;
    }
    if (i < p->n && (stream_path_start((unsigned char)p->s[i]) || is_digit(p->s[i]))) {
        fail_at(p, p->pos, "malformed number");
        return;
    }
    char buf[64];
    size_t len = i - p->pos;
    if (len >= sizeof buf) {
        fail_at(p, p->pos, "number too long");
        return;
    }
    memcpy(buf, p->s + p->pos, len);
    buf[len] = '\0';
    if (!real) {
        spate_status_t st = spate_parse_i64(buf, INT64_MIN, INT64_MAX, &t->i);
        if (st == SPATE_OK) {
            t->kind = T_INT;
            p->pos = i;
            return;
        }
    }
    if (spate_parse_double(buf, &t->d) != SPATE_OK) {
        fail_at(p, p->pos, "number out of range");
        return;
    }
    t->kind = T_REAL;
    p->pos = i;
}

/* Reads the next token into p->tok. */
static void lex(parser_t *p) {
    tok_t *t = &p->tok;
    memset(t, 0, sizeof *t);
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
                             p->s[p->pos] == '\r'))
        p->pos++;
    t->off = p->pos;
    if (p->pos >= p->n) {
        t->kind = T_EOF;
        t->end = p->pos;
        return;
    }
    char c = p->s[p->pos];
    char c2 = p->pos + 1 < p->n ? p->s[p->pos + 1] : '\0';
    switch (c) {
    case '(':
        t->kind = T_LPAREN;
        p->pos++;
        break;
    case ')':
        t->kind = T_RPAREN;
        p->pos++;
        break;
    case '[':
        t->kind = T_LBRACK;
        p->pos++;
        break;
    case ']':
        t->kind = T_RBRACK;
        p->pos++;
        break;
    case ',':
        t->kind = T_COMMA;
        p->pos++;
        break;
    case '=':
        if (c2 != '=') {
            fail_at(p, p->pos, "use '==' to compare");
            break;
        }
        t->kind = T_CMP, t->op = XOP_EQ, p->pos += 2;
        break;
    case '!':
        if (c2 != '=') {
            fail_at(p, p->pos, "use 'not' for negation");
            break;
        }
        t->kind = T_CMP, t->op = XOP_NE, p->pos += 2;
        break;
    case '<':
        t->kind = T_CMP;
        t->op = c2 == '=' ? XOP_LE : XOP_LT;
        p->pos += c2 == '=' ? 2 : 1;
        break;
    case '>':
        t->kind = T_CMP;
        t->op = c2 == '=' ? XOP_GE : XOP_GT;
        p->pos += c2 == '=' ? 2 : 1;
        break;
    case '&': fail_at(p, p->pos, "use 'and'"); break;
    case '|': fail_at(p, p->pos, "use 'or'"); break;
    case '\'':
    case '"': lex_string(p, t); break;
    default:
        if (is_digit(c) || c == '-') {
            lex_number(p, t);
            break;
        }
        if (!stream_path_start((unsigned char)c)) {
            fail_at(p, p->pos, "unexpected character '%c'", c >= 0x20 && c < 0x7f ? c : '?');
            break;
        }
        /* A keyword is a bare word not followed by '.' or '['. */
        size_t j = p->pos;
        while (j < p->n && ((p->s[j] >= 'a' && p->s[j] <= 'z'))) j++;
        bool word_end =
            j == p->n || (p->s[j] != '.' && p->s[j] != '[' && p->s[j] != '_' && p->s[j] != '-' &&
                          !is_digit(p->s[j]) && !stream_path_start((unsigned char)p->s[j]));
        if (word_end) {
            for (size_t k = 0; k < SPATE_ARRAY_LEN(keywords); k++) {
                if (strlen(keywords[k].word) == j - p->pos &&
                    memcmp(keywords[k].word, p->s + p->pos, j - p->pos) == 0) {
                    t->kind = keywords[k].kind;
                    p->pos = j;
                    t->end = p->pos;
                    return;
                }
            }
        }
        size_t end;
        const spate_stream_path_t *path =
            stream_path_compile(p->a, p->s, p->n, p->pos, true, &end, p->err, p->errlen);
        if (!path) {
            p->failed = true;
            break;
        }
        t->kind = T_PATH;
        t->path = path;
        p->pos = end;
        break;
    }
    if (p->failed) t->kind = T_EOF;
    t->end = p->pos;
}

/* ------------------------------------------------------------------ */
/* Parser                                                              */
/* ------------------------------------------------------------------ */

static stream_expr_t *node(parser_t *p, stream_xkind_t kind) {
    if (++p->nodes > STREAM_EXPR_MAX_NODES) {
        fail_at(p, p->tok.off, "filter has more than %d conditions", STREAM_EXPR_MAX_NODES);
        return NULL;
    }
    stream_expr_t *e = stream_arena_alloc(p->a, sizeof *e);
    e->kind = kind;
    return e;
}

static bool literal_of(const tok_t *t, stream_xval_t *v) {
    memset(v, 0, sizeof *v);
    switch (t->kind) {
    case T_STR: v->t = XV_STR, v->s = t->s, v->n = t->n; return true;
    case T_INT: v->t = XV_INT, v->i = t->i; return true;
    case T_REAL: v->t = XV_REAL, v->d = t->d; return true;
    case T_TRUE: v->t = XV_BOOL, v->b = true; return true;
    case T_FALSE: v->t = XV_BOOL, v->b = false; return true;
    case T_NULL: v->t = XV_NULL; return true;
    default: return false;
    }
}

static bool parse_operand(parser_t *p, stream_operand_t *o) {
    memset(o, 0, sizeof *o);
    if (p->tok.kind == T_PATH) {
        o->path = p->tok.path;
        lex(p);
        return true;
    }
    if (literal_of(&p->tok, &o->lit)) {
        lex(p);
        return true;
    }
    return false;
}

#define MAX_LIST 4096

static bool parse_list(parser_t *p, stream_expr_t *e) {
    if (p->tok.kind != T_LBRACK) {
        fail_unexpected(p, "'[' starting a list after 'in'");
        return false;
    }
    lex(p);
    stream_xval_t *items = NULL;
    size_t n = 0, cap = 0;
    while (!p->failed && p->tok.kind != T_RBRACK) {
        if (n > 0) {
            if (p->tok.kind != T_COMMA) {
                fail_unexpected(p, "',' or ']'");
                break;
            }
            lex(p);
        }
        stream_xval_t v;
        if (!literal_of(&p->tok, &v)) {
            fail_unexpected(p, "a string, a number, true, false or null in the list");
            break;
        }
        if (n == MAX_LIST) {
            fail_at(p, p->tok.off, "list longer than %d items", MAX_LIST);
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            items = spate_xrealloc(items, cap * sizeof *items);
        }
        items[n++] = v;
        lex(p);
    }
    if (!p->failed) {
        stream_xval_t *copy = stream_arena_alloc(p->a, (n ? n : 1) * sizeof *copy);
        if (n) memcpy(copy, items, n * sizeof *copy);
        e->list = copy;
        e->nlist = n;
        lex(p); /* ']' */
    }
    free(items);
    return !p->failed;
}

static const char *xv_name(stream_xv_type_t t) {
    switch (t) {
    case XV_MISSING: return "missing";
    case XV_NULL: return "null";
    case XV_BOOL: return "a boolean";
    case XV_INT:
    case XV_REAL: return "a number";
    case XV_STR: return "a string";
    case XV_OTHER: return "an object or array";
    }
    return "?";
}

static stream_expr_t *parse_or(parser_t *p, int depth);

static stream_expr_t *parse_primary(parser_t *p, int depth) {
    size_t at = p->tok.off;
    if (p->tok.kind == T_LPAREN) {
        if (depth >= STREAM_EXPR_MAX_DEPTH) {
            fail_at(p, at, "filter nests deeper than %d levels", STREAM_EXPR_MAX_DEPTH);
            return NULL;
        }
        lex(p);
        stream_expr_t *e = parse_or(p, depth + 1);
        if (!e) return NULL;
        if (p->tok.kind != T_RPAREN) {
            fail_unexpected(p, "')'");
            return NULL;
        }
        lex(p);
        return e;
    }
    if (p->tok.kind == T_EXISTS) {
        lex(p);
        if (p->tok.kind != T_LPAREN) {
            fail_unexpected(p, "'(' after exists");
            return NULL;
        }
        lex(p);
        if (p->tok.kind != T_PATH) {
            fail_unexpected(p, "a field name in exists()");
            return NULL;
        }
        stream_expr_t *e = node(p, X_EXISTS);
        if (!e) return NULL;
        e->a.path = p->tok.path;
        lex(p);
        if (p->tok.kind != T_RPAREN) {
            fail_unexpected(p, "')' closing exists(");
            return NULL;
        }
        lex(p);
        return e;
    }
    stream_operand_t a;
    if (!parse_operand(p, &a)) {
        if (!p->failed) fail_unexpected(p, "a condition");
        return NULL;
    }
    if (p->failed) return NULL;
    if (p->tok.kind == T_CMP) {
        stream_expr_t *e = node(p, X_CMP);
        if (!e) return NULL;
        e->op = p->tok.op;
        size_t opoff = p->tok.off;
        lex(p);
        e->a = a;
        if (!parse_operand(p, &e->b)) {
            if (!p->failed) fail_unexpected(p, "a field or a value to compare with");
            return NULL;
        }
        if (e->op != XOP_EQ && e->op != XOP_NE) {
            /* Ordering needs numbers or strings; catch the impossible
             * cases here rather than failing every record. */
            for (int k = 0; k < 2; k++) {
                const stream_operand_t *o = k ? &e->b : &e->a;
                if (!o->path && o->lit.t != XV_INT && o->lit.t != XV_REAL && o->lit.t != XV_STR) {
                    fail_at(p, opoff, "'%.*s' compares numbers or strings, not %s",
                            e->op == XOP_LT || e->op == XOP_GT ? 1 : 2, p->s + opoff,
                            xv_name(o->lit.t));
                    return NULL;
                }
            }
            if (!e->a.path && !e->b.path) {
                bool an = e->a.lit.t == XV_STR, bn = e->b.lit.t == XV_STR;
                if (an != bn) {
                    fail_at(p, opoff, "cannot compare a string with a number");
                    return NULL;
                }
            }
        }
        return e;
    }
    bool negate = false;
    if (p->tok.kind == T_NOT) {
        /* Only "not in" may follow an operand. */
        size_t save = p->pos;
        tok_t saved = p->tok;
        lex(p);
        if (p->tok.kind != T_IN) {
            p->pos = save;
            p->tok = saved;
            if (!p->failed) fail_unexpected(p, "'in' after 'not' here");
            return NULL;
        }
        negate = true;
    }
    if (p->tok.kind == T_IN) {
        stream_expr_t *e = node(p, X_IN);
        if (!e) return NULL;
        e->a = a;
        e->negate = negate;
        lex(p);
        if (!parse_list(p, e)) return NULL;
        return e;
    }
    if (!a.path && a.lit.t != XV_BOOL) {
        fail_at(p, at, "%s is not a condition (compare it with something)", xv_name(a.lit.t));
        return NULL;
    }
    stream_expr_t *e = node(p, X_TRUTH);
    if (!e) return NULL;
    e->a = a;
    return e;
}

static stream_expr_t *parse_not(parser_t *p, int depth) {
    if (p->tok.kind != T_NOT) return parse_primary(p, depth);
    if (depth >= STREAM_EXPR_MAX_DEPTH) {
        fail_at(p, p->tok.off, "filter nests deeper than %d levels", STREAM_EXPR_MAX_DEPTH);
        return NULL;
    }
    lex(p);
    stream_expr_t *kid = parse_not(p, depth + 1);
    if (!kid) return NULL;
    stream_expr_t *e = node(p, X_NOT);
    if (!e) return NULL;
    e->kids = stream_arena_alloc(p->a, sizeof *e->kids);
    e->kids[0] = kid;
    e->nkids = 1;
    return e;
}

/* One level of an n-ary operator: or over ands, and over nots. */
static stream_expr_t *parse_chain(parser_t *p, int depth, bool is_or) {
    stream_expr_t *first = is_or ? parse_chain(p, depth, false) : parse_not(p, depth);
    if (!first) return NULL;
    tok_kind_t op = is_or ? T_OR : T_AND;
    if (p->tok.kind != op) return first;
    stream_expr_t **kids = NULL;
    size_t n = 0, cap = 0;
    stream_expr_t *k = first;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            kids = spate_xrealloc(kids, cap * sizeof *kids);
        }
        kids[n++] = k;
        if (p->tok.kind != op) break;
        lex(p);
        k = is_or ? parse_chain(p, depth, false) : parse_not(p, depth);
        if (!k) break;
    }
    stream_expr_t *e = NULL;
    if (!p->failed && (e = node(p, is_or ? X_OR : X_AND))) {
        e->kids = stream_arena_alloc(p->a, n * sizeof *e->kids);
        memcpy(e->kids, kids, n * sizeof *e->kids);
        e->nkids = n;
    }
    free(kids);
    return p->failed ? NULL : e;
}

static stream_expr_t *parse_or(parser_t *p, int depth) { return parse_chain(p, depth, true); }

stream_expr_t *stream_expr_compile(stream_arena_t *a, const char *text, size_t n, char *err,
                                   size_t errlen) {
    parser_t p = {.a = a, .s = text, .n = n, .err = err, .errlen = errlen};
    lex(&p);
    if (p.failed) return NULL;
    if (p.tok.kind == T_EOF) {
        snprintf(err, errlen, "empty filter");
        return NULL;
    }
    stream_expr_t *e = parse_or(&p, 0);
    if (!e || p.failed) return NULL;
    if (p.tok.kind != T_EOF) {
        fail_unexpected(&p, "'and', 'or' or the end of the filter");
        return NULL;
    }
    return e;
}

/* ------------------------------------------------------------------ */
/* Evaluation                                                          */
/* ------------------------------------------------------------------ */

static void from_json(json_t *v, stream_xval_t *x) {
    memset(x, 0, sizeof *x);
    if (!v) {
        x->t = XV_MISSING;
        return;
    }
    switch (json_typeof(v)) {
    case JSON_NULL: x->t = XV_NULL; break;
    case JSON_TRUE: x->t = XV_BOOL, x->b = true; break;
    case JSON_FALSE: x->t = XV_BOOL, x->b = false; break;
    case JSON_INTEGER: x->t = XV_INT, x->i = json_integer_value(v); break;
    case JSON_REAL: x->t = XV_REAL, x->d = json_real_value(v); break;
    case JSON_STRING:
        x->t = XV_STR, x->s = json_string_value(v), x->n = json_string_length(v);
        break;
    default: x->t = XV_OTHER, x->j = v; break;
    }
}

static void load(const stream_operand_t *o, json_t *rec, stream_xval_t *x) {
    if (o->path)
        from_json(spate_stream_path_get(o->path, rec), x);
    else
        *x = o->lit;
}

static bool is_num(const stream_xval_t *x) { return x->t == XV_INT || x->t == XV_REAL; }
static bool is_none(const stream_xval_t *x) { return x->t == XV_MISSING || x->t == XV_NULL; }

static int cmp_num(const stream_xval_t *a, const stream_xval_t *b) {
    if (a->t == XV_INT && b->t == XV_INT) return (a->i > b->i) - (a->i < b->i);
    double x = a->t == XV_INT ? (double)a->i : a->d;
    double y = b->t == XV_INT ? (double)b->i : b->d;
    return (x > y) - (x < y);
}

static int cmp_str(const stream_xval_t *a, const stream_xval_t *b) {
    size_t m = a->n < b->n ? a->n : b->n;
    int c = m ? memcmp(a->s, b->s, m) : 0;
    if (c) return c < 0 ? -1 : 1;
    return (a->n > b->n) - (a->n < b->n);
}

static bool xeq(const stream_xval_t *a, const stream_xval_t *b) {
    if (is_none(a) || is_none(b)) return is_none(a) && is_none(b);
    if (is_num(a) && is_num(b)) return cmp_num(a, b) == 0;
    if (a->t != b->t) return false;
    switch (a->t) {
    case XV_BOOL: return a->b == b->b;
    case XV_STR: return a->n == b->n && (a->n == 0 || memcmp(a->s, b->s, a->n) == 0);
    case XV_OTHER: return json_equal(a->j, b->j) != 0;
    default: return false;
    }
}

static void describe(const stream_operand_t *o, const stream_xval_t *x, char *out, size_t n) {
    if (o->path)
        snprintf(out, n, "field '%s' (%s)", o->path->text, xv_name(x->t));
    else
        snprintf(out, n, "%s", xv_name(x->t));
}

static const char *op_text(stream_xop_t op) {
    static const char *const t[] = {"==", "!=", "<", "<=", ">", ">="};
    return t[op];
}

int stream_expr_eval(const stream_expr_t *e, json_t *rec, char *reason, size_t rlen) {
    switch (e->kind) {
    case X_OR:
        for (size_t i = 0; i < e->nkids; i++) {
            int r = stream_expr_eval(e->kids[i], rec, reason, rlen);
            if (r != 0) return r;
        }
        return 0;
    case X_AND:
        for (size_t i = 0; i < e->nkids; i++) {
            int r = stream_expr_eval(e->kids[i], rec, reason, rlen);
            if (r != 1) return r;
        }
        return 1;
    case X_NOT: {
        int r = stream_expr_eval(e->kids[0], rec, reason, rlen);
        return r < 0 ? r : !r;
    }
    case X_EXISTS: {
        json_t *v = spate_stream_path_get(e->a.path, rec);
        return v && !json_is_null(v);
    }
    case X_TRUTH: {
        stream_xval_t a;
        load(&e->a, rec, &a);
        if (a.t == XV_BOOL) return a.b;
        if (is_none(&a)) return 0;
        snprintf(reason, rlen, "filter: field '%s' is %s, not true or false", e->a.path->text,
                 xv_name(a.t));
        return -1;
    }
    case X_IN: {
        stream_xval_t a;
        load(&e->a, rec, &a);
        bool hit = false;
        for (size_t i = 0; i < e->nlist && !hit; i++) hit = xeq(&a, &e->list[i]);
        return hit != e->negate;
    }
    case X_CMP: {
        stream_xval_t a, b;
        load(&e->a, rec, &a);
        load(&e->b, rec, &b);
        if (e->op == XOP_EQ) return xeq(&a, &b);
        if (e->op == XOP_NE) return !xeq(&a, &b);
        if (is_none(&a) || is_none(&b)) return 0;
        int c;
        if (is_num(&a) && is_num(&b)) {
            c = cmp_num(&a, &b);
        } else if (a.t == XV_STR && b.t == XV_STR) {
            c = cmp_str(&a, &b);
        } else {
            char da[160], db[160];
            describe(&e->a, &a, da, sizeof da);
            describe(&e->b, &b, db, sizeof db);
            snprintf(reason, rlen, "filter: cannot compare %s %s %s", da, op_text(e->op), db);
            return -1;
        }
        switch (e->op) {
        case XOP_LT: return c < 0;
        case XOP_LE: return c <= 0;
        case XOP_GT: return c > 0;
        default: return c >= 0;
        }
    }
    }
    return 0;
}
