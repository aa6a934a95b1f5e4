/*
 * fuzz_cql_parse.c — libFuzzer target for the CQL lexer and parser
 * (src/cql/cql_lex.c, src/cql/cql_parse.c).
 *
 * The input, copied to a heap block of exactly its size (no NUL, so any
 * read past the end is caught), is
 *   1. lexed to the end: tokens must lie inside the input, in order, with
 *      positions that only move forward, and decode within their length;
 *   2. parsed as one statement with spate_cql_parse;
 *   3. parsed as a script with spate_cql_parse_next until the end or the
 *      first error: each call must move the cursor forward.
 * Every parsed statement is walked: each bind marker index is below
 * nbind and appears exactly once, spate_cql_stmt_binds and
 * spate_cql_selector_name succeed, and the class is in range. Every error
 * must carry a NUL-terminated message of valid UTF-8 (it goes into an
 * ERROR frame) with a position inside the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql_parse.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Strict UTF-8, checked independently of the parser's own helper. */
static bool valid_utf8(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t k;
        uint32_t cp;
        if (c < 0x80)
            k = 1, cp = c;
        else if ((c & 0xE0) == 0xC0)
            k = 2, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0)
            k = 3, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0)
            k = 4, cp = c & 0x07;
        else
            return false;
        for (size_t i = 1; i < k; i++) {
            if ((p[i] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (p[i] & 0x3F);
        }
        static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        p += k;
    }
    return true;
}

static void check_error(const spate_cql_parse_error_t *err, size_t size) {
    CHECK(err->kind == SPATE_CQL_PARSE_SYNTAX || err->kind == SPATE_CQL_PARSE_INVALID ||
          err->kind == SPATE_CQL_PARSE_NOMEM);
    CHECK(memchr(err->msg, '\0', sizeof err->msg) != NULL);
    CHECK(err->msg[0] != '\0');
    CHECK(valid_utf8(err->msg));
    CHECK(err->off <= size);
    CHECK(err->line >= 1);
}

/* Marks bind marker indexes seen; each must be new and below n. */
typedef struct {
    uint8_t *seen;
    uint32_t n;
} marks_t;

static void walk_term(marks_t *m, const spate_cql_term_t *t, int depth) {
    if (!t) return;
    CHECK(depth <= SPATE_CQL_PARSE_MAX_DEPTH + 2);
    switch (t->kind) {
    case SPATE_CQL_TERM_CONST: CHECK(t->lit.text && t->lit.text[t->lit.len] == '\0'); break;
    case SPATE_CQL_TERM_NULL: break;
    case SPATE_CQL_TERM_BIND:
        CHECK(t->bind.index < m->n);
        CHECK(!m->seen[t->bind.index]);
        m->seen[t->bind.index] = 1;
        break;
    case SPATE_CQL_TERM_LIST:
    case SPATE_CQL_TERM_SET:
    case SPATE_CQL_TERM_TUPLE:
        for (uint32_t i = 0; i < t->items.n; i++) walk_term(m, t->items.v[i], depth + 1);
        break;
    case SPATE_CQL_TERM_MAP:
        for (uint32_t i = 0; i < t->map.n; i++) {
            walk_term(m, t->map.keys[i], depth + 1);
            walk_term(m, t->map.vals[i], depth + 1);
        }
        break;
    case SPATE_CQL_TERM_UDT:
        for (uint32_t i = 0; i < t->udt.n; i++) {
            CHECK(t->udt.fields[i] != NULL);
            walk_term(m, t->udt.vals[i], depth + 1);
        }
        break;
    case SPATE_CQL_TERM_FUNC:
        CHECK(t->func.name != NULL);
        for (uint32_t i = 0; i < t->func.nargs; i++) walk_term(m, t->func.args[i], depth + 1);
        break;
    case SPATE_CQL_TERM_HINT:
        CHECK(t->hint.type != NULL);
        walk_term(m, t->hint.term, depth + 1);
        break;
    default: CHECK(!"bad term kind");
    }
}

static void walk_rels(marks_t *m, const spate_cql_relation_t *r, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        CHECK(r[i].ncols >= 1 && r[i].cols[0] != NULL);
        walk_term(m, r[i].key, 0);
        walk_term(m, r[i].value, 0);
        for (uint32_t j = 0; j < r[i].nin; j++) walk_term(m, r[i].in[j], 0);
    }
}

static void walk_sel(spate_cql_arena_t *a, marks_t *m, const spate_cql_selector_t *s, int depth) {
    CHECK(depth <= SPATE_CQL_PARSE_MAX_DEPTH + 2);
    walk_term(m, s->term, 0);
    for (uint32_t i = 0; i < s->nargs; i++) walk_sel(a, m, s->args[i], depth + 1);
    if (depth == 0) CHECK(spate_cql_selector_name(a, s) != NULL);
}

static void walk_stmt(spate_cql_arena_t *a, marks_t *m, const spate_cql_stmt_t *st) {
    switch (st->kind) {
    case SPATE_CQL_STMT_SELECT:
        for (uint32_t i = 0; i < st->select.nsel; i++) walk_sel(a, m, st->select.sel[i], 0);
        walk_rels(m, st->select.where, st->select.nwhere);
        walk_term(m, st->select.per_partition_limit, 0);
        walk_term(m, st->select.limit, 0);
        break;
    case SPATE_CQL_STMT_INSERT:
        for (uint32_t i = 0; i < st->insert.ncols; i++) walk_term(m, st->insert.values[i], 0);
        walk_term(m, st->insert.json, 0);
        walk_term(m, st->insert.using.ttl, 0);
        walk_term(m, st->insert.using.timestamp, 0);
        break;
    case SPATE_CQL_STMT_UPDATE:
        walk_term(m, st->update.using.ttl, 0);
        walk_term(m, st->update.using.timestamp, 0);
        for (uint32_t i = 0; i < st->update.nset; i++) {
            walk_term(m, st->update.set[i].key, 0);
            walk_term(m, st->update.set[i].value, 0);
        }
        walk_rels(m, st->update.where, st->update.nwhere);
        walk_rels(m, st->update.cond, st->update.ncond);
        break;
    case SPATE_CQL_STMT_DELETE:
        for (uint32_t i = 0; i < st->del.ncols; i++) walk_term(m, st->del.cols[i].key, 0);
        walk_term(m, st->del.using.timestamp, 0);
        walk_rels(m, st->del.where, st->del.nwhere);
        walk_rels(m, st->del.cond, st->del.ncond);
        break;
    case SPATE_CQL_STMT_BATCH:
        walk_term(m, st->batch.using.ttl, 0);
        walk_term(m, st->batch.using.timestamp, 0);
        for (uint32_t i = 0; i < st->batch.n; i++) {
            const spate_cql_stmt_t *c = st->batch.stmts[i];
            CHECK(c->kind == SPATE_CQL_STMT_INSERT || c->kind == SPATE_CQL_STMT_UPDATE ||
                  c->kind == SPATE_CQL_STMT_DELETE);
            walk_stmt(a, m, c);
        }
        break;
    case SPATE_CQL_STMT_CREATE_TABLE:
        CHECK(st->create_table.npk >= 1);
        for (uint32_t i = 0; i < st->create_table.ncols; i++)
            CHECK(st->create_table.cols[i].type != NULL);
        break;
    default: break;
    }
}

static void check_stmt(spate_cql_arena_t *a, const spate_cql_stmt_t *st, size_t size) {
    CHECK(st->off <= size && st->len <= size - st->off);
    spate_cql_class_t cls = spate_cql_stmt_class(st);
    CHECK(cls >= SPATE_CQL_CLASS_READ && cls <= SPATE_CQL_CLASS_OTHER);
    CHECK(spate_cql_stmt_kind_name(st) != NULL);
    CHECK(st->nbind <= SPATE_CQL_PARSE_MAX_BINDS);
    marks_t m = {calloc(st->nbind ? st->nbind : 1, 1), st->nbind};
    CHECK(m.seen != NULL);
    walk_stmt(a, &m, st);
    /* Markers in DDL are refused, so every counted marker was seen. */
    for (uint32_t i = 0; i < st->nbind; i++) CHECK(m.seen[i]);
    free(m.seen);
    spate_cql_bind_t *b = NULL;
    CHECK(spate_cql_stmt_binds(a, st, &b) == SPATE_OK);
    for (uint32_t i = 0; i < st->nbind; i++) CHECK(b[i].name != NULL && b[i].stmt != NULL);
}

static void lex_all(const char *src, size_t size) {
    spate_cql_lexer_t lx;
    spate_cql_lex_init(&lx, src, size);
    size_t last_end = 0;
    uint32_t last_line = 1;
    char *buf = malloc(size ? size : 1);
    CHECK(buf != NULL);
    for (;;) {
        spate_cql_tok_t t;
        spate_cql_tok_kind_t k = spate_cql_lex_next(&lx, &t);
        if (k == SPATE_CQL_TOK_ERROR) {
            check_error(&lx.err, size);
            break;
        }
        CHECK(t.off >= last_end && t.off <= size && t.len <= size - t.off);
        CHECK(t.line >= last_line);
        if (k == SPATE_CQL_TOK_EOF) {
            CHECK(t.off == size && t.len == 0);
            break;
        }
        CHECK(t.len > 0);
        CHECK(spate_cql_tok_decode(src, &t, buf) <= t.len);
        last_end = t.off + t.len;
        last_line = t.line;
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *src = malloc(size ? size : 1);
    if (!src) abort();
    if (size) memcpy(src, data, size);

    lex_all(src, size);

    spate_cql_arena_t *a = spate_cql_arena_new();
    CHECK(a != NULL);
    spate_cql_stmt_t *st = NULL;
    spate_cql_parse_error_t err;
    spate_status_t rc = spate_cql_parse(a, src, size, &st, &err);
    if (rc == SPATE_OK) {
        CHECK(st != NULL);
        check_stmt(a, st, size);
    } else {
        CHECK(st == NULL);
        CHECK(rc == SPATE_EINVAL || rc == SPATE_ENOMEM);
        check_error(&err, size);
    }

    spate_cql_lexer_t cur;
    spate_cql_lex_init(&cur, src, size);
    for (int i = 0; i < 1000; i++) {
        size_t before = cur.off;
        rc = spate_cql_parse_next(a, &cur, &st, &err);
        if (rc == SPATE_ENOENT) {
            CHECK(st == NULL);
            break;
        }
        if (rc != SPATE_OK) {
            CHECK(cur.off == before);
            check_error(&err, size);
            break;
        }
        CHECK(cur.off > before && cur.off <= size);
        check_stmt(a, st, size);
    }
    spate_cql_arena_free(a);
    free(src);
    return 0;
}
