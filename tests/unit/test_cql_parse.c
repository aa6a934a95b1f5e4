/*
 * test_cql_parse.c — unit tests of the CQL lexer (cql_lex.c) and parser
 * (cql_parse.c).
 *
 * What is pinned down:
 *   - tokens: kinds, raw text and line:col of every literal kind,
 *     case-insensitive keywords, quoted names, '' and $$ strings, comments,
 *     UTF-8 columns, and the lexer's error messages;
 *   - every statement form the server runs, the seed pipeline's DDL
 *     verbatim, and the queries python3-cassandra, the Node driver and
 *     the Spark connector send;
 *   - terms (constants, negatives, NULL, markers, collections, {}, UDT
 *     and tuple literals, function calls, type hints, CAST) and types;
 *   - bind marker numbering and the metadata names PREPARE reports;
 *   - syntax errors: exact "line L:C" positions and Cassandra's wording,
 *     Invalid checks (primary keys, unmatched INSERT values), and the
 *     limits (nesting depth, tokens, markers) failing cleanly;
 *   - script splitting with spate_cql_parse_next, selector result names
 *     and statement classes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql_parse.h"

static spate_cql_arena_t *A;

static int setup(void **state) {
    (void)state;
    A = spate_cql_arena_new();
    return A ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    spate_cql_arena_free(A);
    A = NULL;
    return 0;
}

static spate_cql_stmt_t *parse_ok(const char *sql) {
    spate_cql_stmt_t *st = NULL;
    spate_cql_parse_error_t err;
    spate_status_t rc = spate_cql_parse(A, sql, strlen(sql), &st, &err);
    if (rc != SPATE_OK) fail_msg("parse failed for [%s]: %s", sql, err.msg);
    assert_non_null(st);
    assert_int_equal(err.kind, SPATE_CQL_PARSE_OK);
    return st;
}

/* Parses sql expecting an error of kind at line:col with exactly msg. */
static void parse_err(const char *sql, spate_cql_parse_err_kind_t kind, uint32_t line, uint32_t col,
                      const char *msg) {
    spate_cql_stmt_t *st = (spate_cql_stmt_t *)1;
    spate_cql_parse_error_t err;
    spate_status_t rc = spate_cql_parse(A, sql, strlen(sql), &st, &err);
    if (rc == SPATE_OK) fail_msg("parse of [%s] should have failed", sql);
    assert_int_equal(rc, SPATE_EINVAL);
    assert_null(st);
    assert_string_equal(err.msg, msg);
    assert_int_equal(err.kind, kind);
    assert_int_equal(err.line, line);
    assert_int_equal(err.col, col);
}

static void syntax_err(const char *sql, uint32_t line, uint32_t col, const char *msg) {
    parse_err(sql, SPATE_CQL_PARSE_SYNTAX, line, col, msg);
}

static void assert_lit(const spate_cql_term_t *t, spate_cql_lit_kind_t kind, const char *text) {
    assert_non_null(t);
    assert_int_equal(t->kind, SPATE_CQL_TERM_CONST);
    assert_int_equal(t->lit.kind, kind);
    assert_int_equal(t->lit.len, strlen(text));
    assert_memory_equal(t->lit.text, text, t->lit.len);
    assert_int_equal(t->lit.text[t->lit.len], '\0');
}

static void assert_bind(const spate_cql_term_t *t, uint32_t index, const char *name) {
    assert_non_null(t);
    assert_int_equal(t->kind, SPATE_CQL_TERM_BIND);
    assert_int_equal(t->bind.index, index);
    if (name)
        assert_string_equal(t->bind.name, name);
    else
        assert_null(t->bind.name);
}

/* ------------------------------------------------------------------ */
/* Lexer                                                               */
/* ------------------------------------------------------------------ */

typedef struct {
    spate_cql_tok_kind_t kind;
    const char *text;
    uint32_t line, col;
} want_tok_t;

static void lex_expect(const char *src, const want_tok_t *want, size_t n) {
    spate_cql_lexer_t lx;
    spate_cql_lex_init(&lx, src, strlen(src));
    for (size_t i = 0; i < n; i++) {
        spate_cql_tok_t t;
        spate_cql_tok_kind_t k = spate_cql_lex_next(&lx, &t);
        if (k != want[i].kind)
            fail_msg("token %zu of [%s]: kind %d, want %d (%s)", i, src, (int)k, (int)want[i].kind,
                     want[i].text);
        assert_int_equal(t.len, strlen(want[i].text));
        assert_memory_equal(src + t.off, want[i].text, t.len);
        assert_int_equal(t.line, want[i].line);
        assert_int_equal(t.col, want[i].col);
    }
    spate_cql_tok_t t;
    assert_int_equal(spate_cql_lex_next(&lx, &t), SPATE_CQL_TOK_EOF);
    assert_int_equal(spate_cql_lex_next(&lx, &t), SPATE_CQL_TOK_EOF);
    assert_int_equal(t.off, strlen(src));
}

static void test_lex_literals(void **state) {
    (void)state;
    const want_tok_t w[] = {
        {SPATE_CQL_TOK_IDENT, "SeLeCt", 1, 0},
        {SPATE_CQL_TOK_INTEGER, "42", 1, 7},
        {SPATE_CQL_TOK_COMMA, ",", 1, 9},
        {SPATE_CQL_TOK_FLOAT, "3.25", 1, 11},
        {SPATE_CQL_TOK_FLOAT, "1e10", 1, 16},
        {SPATE_CQL_TOK_FLOAT, "2.5E-3", 1, 21},
        {SPATE_CQL_TOK_FLOAT, "1.", 1, 28},
        {SPATE_CQL_TOK_FLOAT, "NaN", 1, 31},
        {SPATE_CQL_TOK_MINUS, "-", 1, 35},
        {SPATE_CQL_TOK_FLOAT, "Infinity", 1, 36},
        {SPATE_CQL_TOK_BOOLEAN, "TRUE", 1, 45},
        {SPATE_CQL_TOK_BOOLEAN, "false", 1, 50},
        {SPATE_CQL_TOK_UUID, "123e4567-e89b-12d3-a456-426614174000", 2, 0},
        {SPATE_CQL_TOK_UUID, "ABCDEF01-0000-4000-8000-00000000000f", 2, 37},
        {SPATE_CQL_TOK_HEX, "0xCAFE", 3, 0},
        {SPATE_CQL_TOK_HEX, "0x", 3, 7},
        {SPATE_CQL_TOK_DURATION, "1h30m", 3, 10},
        {SPATE_CQL_TOK_DURATION, "2mo3w4d5ms6us7ns", 3, 16},
        {SPATE_CQL_TOK_DURATION, "P1Y2M3DT4H5M6S", 3, 33},
        {SPATE_CQL_TOK_DURATION, "P2W", 3, 48},
        {SPATE_CQL_TOK_DURATION, "PT5S", 3, 52},
        {SPATE_CQL_TOK_DURATION, "P0001-02-03T04:05:06", 3, 57},
        {SPATE_CQL_TOK_IDENT, "P1Dx", 3, 78},
        {SPATE_CQL_TOK_QMARK, "?", 4, 0},
        {SPATE_CQL_TOK_COLON, ":", 4, 2},
        {SPATE_CQL_TOK_IDENT, "name_1", 4, 3},
    };
    lex_expect("SeLeCt 42, 3.25 1e10 2.5E-3 1. NaN -Infinity TRUE false\n"
               "123e4567-e89b-12d3-a456-426614174000 ABCDEF01-0000-4000-8000-00000000000f\n"
               "0xCAFE 0x 1h30m 2mo3w4d5ms6us7ns P1Y2M3DT4H5M6S P2W PT5S P0001-02-03T04:05:06 "
               "P1Dx\n"
               "? :name_1",
               w, SPATE_ARRAY_LEN(w));
}

static void test_lex_punct_and_comments(void **state) {
    (void)state;
    const want_tok_t w[] = {
        {SPATE_CQL_TOK_LPAREN, "(", 1, 0},     {SPATE_CQL_TOK_RPAREN, ")", 1, 1},
        {SPATE_CQL_TOK_LBRACKET, "[", 1, 2},   {SPATE_CQL_TOK_RBRACKET, "]", 1, 3},
        {SPATE_CQL_TOK_LBRACE, "{", 1, 4},     {SPATE_CQL_TOK_RBRACE, "}", 1, 5},
        {SPATE_CQL_TOK_SEMI, ";", 1, 6},       {SPATE_CQL_TOK_DOT, ".", 1, 7},
        {SPATE_CQL_TOK_STAR, "*", 1, 8},       {SPATE_CQL_TOK_NE, "!=", 1, 9},
        {SPATE_CQL_TOK_LE, "<=", 1, 12},       {SPATE_CQL_TOK_GE, ">=", 1, 15},
        {SPATE_CQL_TOK_LT, "<", 1, 18},        {SPATE_CQL_TOK_GT, ">", 1, 20},
        {SPATE_CQL_TOK_EQ, "=", 1, 22},        {SPATE_CQL_TOK_PLUS_EQ, "+=", 1, 24},
        {SPATE_CQL_TOK_MINUS_EQ, "-=", 1, 27}, {SPATE_CQL_TOK_PLUS, "+", 1, 30},
        {SPATE_CQL_TOK_SLASH, "/", 1, 32},     {SPATE_CQL_TOK_PERCENT, "%", 1, 34},
        {SPATE_CQL_TOK_LT, "<", 1, 36},        {SPATE_CQL_TOK_GE, ">=", 1, 37},
        {SPATE_CQL_TOK_IDENT, "a", 2, 2},      {SPATE_CQL_TOK_IDENT, "b", 3, 0},
        {SPATE_CQL_TOK_IDENT, "c", 5, 5},      {SPATE_CQL_TOK_MINUS, "-", 5, 7},
        {SPATE_CQL_TOK_INTEGER, "1", 5, 8},
    };
    /* "<>=" is '<' then the longer ">=". */
    lex_expect("()[]{};.*!= <= >= < > = += -= + / % <>= -- line comment\n"
               "  a // another\n"
               "b /* block\n"
               "comment */\n"
               "/**/ c -1",
               w, SPATE_ARRAY_LEN(w));
}

static void test_lex_strings_and_names(void **state) {
    (void)state;
    const char *src = "'it''s' $$a 'b' $ c$$ \"MixedCase\" \"with \"\"q\"\"\" ''";
    const want_tok_t w[] = {
        {SPATE_CQL_TOK_STRING, "'it''s'", 1, 0},
        {SPATE_CQL_TOK_STRING, "$$a 'b' $ c$$", 1, 8},
        {SPATE_CQL_TOK_QIDENT, "\"MixedCase\"", 1, 22},
        {SPATE_CQL_TOK_QIDENT, "\"with \"\"q\"\"\"", 1, 34},
        {SPATE_CQL_TOK_STRING, "''", 1, 47},
    };
    lex_expect(src, w, SPATE_ARRAY_LEN(w));

    /* Decoding undoes the quoting. */
    spate_cql_lexer_t lx;
    spate_cql_lex_init(&lx, src, strlen(src));
    const char *decoded[] = {"it's", "a 'b' $ c", "MixedCase", "with \"q\"", ""};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(decoded); i++) {
        spate_cql_tok_t t;
        spate_cql_lex_next(&lx, &t);
        char buf[64];
        size_t n = spate_cql_tok_decode(src, &t, buf);
        assert_int_equal(n, strlen(decoded[i]));
        assert_memory_equal(buf, decoded[i], n);
    }
}

static void test_lex_positions_utf8(void **state) {
    (void)state;
    /* Columns count characters: 'é' is two bytes but one column. */
    const want_tok_t w[] = {
        {SPATE_CQL_TOK_STRING, "'h\xc3\xa9'", 1, 0},
        {SPATE_CQL_TOK_IDENT, "x", 1, 6},
        {SPATE_CQL_TOK_STRING, "'a\nb'", 1, 8},
        {SPATE_CQL_TOK_IDENT, "y", 2, 3},
    };
    lex_expect("'h\xc3\xa9'  x 'a\nb' y", w, SPATE_ARRAY_LEN(w));
}

static void lex_error(const char *src, uint32_t line, uint32_t col, const char *msg) {
    spate_cql_lexer_t lx;
    spate_cql_lex_init(&lx, src, strlen(src));
    spate_cql_tok_t t;
    spate_cql_tok_kind_t k;
    while ((k = spate_cql_lex_next(&lx, &t)) != SPATE_CQL_TOK_ERROR)
        if (k == SPATE_CQL_TOK_EOF) fail_msg("no lexical error in [%s]", src);
    assert_string_equal(lx.err.msg, msg);
    assert_int_equal(lx.err.line, line);
    assert_int_equal(lx.err.col, col);
    assert_int_equal(t.line, line);
    assert_int_equal(t.col, col);
    /* Sticky. */
    assert_int_equal(spate_cql_lex_next(&lx, &t), SPATE_CQL_TOK_ERROR);
}

static void test_lex_errors(void **state) {
    (void)state;
    lex_error("SELECT 'abc", 1, 11, "line 1:11 mismatched character '<EOF>' expecting '''");
    lex_error("x \"abc", 1, 6, "line 1:6 mismatched character '<EOF>' expecting '\"'");
    lex_error("x\n $$abc", 2, 6, "line 2:6 mismatched character '<EOF>' expecting '$'");
    lex_error("a /* never closed", 1, 17, "line 1:17 mismatched character '<EOF>' expecting '*'");
    lex_error("a = 1 & 2", 1, 6, "line 1:6 no viable alternative at character '&'");
    lex_error("a \xe2\x82\xac", 1, 2, "line 1:2 no viable alternative at character '\xe2\x82\xac'");
    lex_error("a \xff", 1, 2, "line 1:2 no viable alternative at character '\\xff'");
    lex_error("a \xff\xbf\x86\x86", 1, 2, "line 1:2 no viable alternative at character '\\xff'");
    lex_error("a \xc0\x80", 1, 2, "line 1:2 no viable alternative at character '\\xc0'");
    lex_error("a \xed\xa0\x80", 1, 2, "line 1:2 no viable alternative at character '\\xed'");
    lex_error("a \xf0\x9f\x98\x80", 1, 2,
              "line 1:2 no viable alternative at character '\xf0\x9f\x98\x80'");
    lex_error("a \x01", 1, 2, "line 1:2 no viable alternative at character '\\x01'");
    lex_error("a $b", 1, 2, "line 1:2 no viable alternative at character '$'");
    lex_error("\"\"", 1, 0, "line 1:0 no viable alternative at input '\"\"' (empty quoted name)");
}

/* ------------------------------------------------------------------ */
/* The seed pipeline and the drivers                                   */
/* ------------------------------------------------------------------ */

static void test_seed_ddl(void **state) {
    (void)state;
    spate_cql_stmt_t *st = parse_ok(
        "CREATE KEYSPACE IF NOT EXISTS spark_streams\n"
        "    WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '1'};\n");
    assert_int_equal(st->kind, SPATE_CQL_STMT_CREATE_KEYSPACE);
    assert_int_equal(spate_cql_stmt_class(st), SPATE_CQL_CLASS_DDL);
    assert_true(st->keyspace.if_not_exists);
    assert_string_equal(st->keyspace.ks, "spark_streams");
    assert_int_equal(st->keyspace.nprops, 1);
    assert_string_equal(st->keyspace.props[0].name, "replication");
    const spate_cql_term_t *m = st->keyspace.props[0].value;
    assert_int_equal(m->kind, SPATE_CQL_TERM_MAP);
    assert_int_equal(m->map.n, 2);
    assert_lit(m->map.keys[0], SPATE_CQL_LIT_STRING, "class");
    assert_lit(m->map.vals[0], SPATE_CQL_LIT_STRING, "SimpleStrategy");
    assert_lit(m->map.keys[1], SPATE_CQL_LIT_STRING, "replication_factor");
    assert_lit(m->map.vals[1], SPATE_CQL_LIT_STRING, "1");

    const char *ddl = "\n    CREATE TABLE IF NOT EXISTS spark_streams.created_users (\n"
                      "        id UUID PRIMARY KEY,\n"
                      "        first_name TEXT,\n"
                      "        last_name TEXT,\n"
                      "        gender TEXT,\n"
                      "        address TEXT,\n"
                      "        post_code TEXT,\n"
                      "        email TEXT,\n"
                      "        username TEXT,\n"
                      "        registered_date TEXT,\n"
                      "        phone TEXT,\n"
                      "        picture TEXT);\n"
                      "    ";
    st = parse_ok(ddl);
    assert_int_equal(st->kind, SPATE_CQL_STMT_CREATE_TABLE);
    assert_int_equal(st->line, 2);
    assert_int_equal(st->col, 4);
    const spate_cql_stmt_create_table_t *ct = &st->create_table;
    assert_true(ct->if_not_exists);
    assert_string_equal(ct->table.ks, "spark_streams");
    assert_string_equal(ct->table.name, "created_users");
    assert_int_equal(ct->ncols, 11);
    const char *names[] = {"id",        "first_name", "last_name", "gender",          "address",
                           "post_code", "email",      "username",  "registered_date", "phone",
                           "picture"};
    for (uint32_t i = 0; i < 11; i++) {
        assert_string_equal(ct->cols[i].name, names[i]);
        assert_int_equal(ct->cols[i].type->id, i == 0 ? SPATE_CQL_UUID : SPATE_CQL_VARCHAR);
        assert_false(ct->cols[i].is_static);
    }
    assert_int_equal(ct->npk, 1);
    assert_string_equal(ct->pk[0], "id");
    assert_int_equal(ct->nck, 0);
    assert_int_equal(ct->nprops, 0);
    /* The statement's text excludes the ';'. */
    assert_int_equal(st->off, 5);
    assert_int_equal(ddl[st->off + st->len - 1], ')');

    /* The python seed interpolates values into the text. */
    st = parse_ok("INSERT INTO spark_streams.created_users(id, first_name, last_name, gender, "
                  "address, post_code, email, username, dob, registered_date, phone, picture) "
                  "VALUES (0b7e5a8c-5a7b-4c5e-9e33-2f1f1b8c6a11, 'Zoë', 'O''Brien', 'female', "
                  "'12 Main St, Oslo', '0150', 'z@example.com', 'zoe', '1990', "
                  "'2014-05-01T10:00:00.000Z', '555', 'https://x/y.jpg')");
    assert_int_equal(st->insert.ncols, 12);
    assert_lit(st->insert.values[0], SPATE_CQL_LIT_UUID, "0b7e5a8c-5a7b-4c5e-9e33-2f1f1b8c6a11");
    assert_lit(st->insert.values[1], SPATE_CQL_LIT_STRING, "Zo\xc3\xab");
    assert_lit(st->insert.values[2], SPATE_CQL_LIT_STRING, "O'Brien");
    assert_int_equal(st->nbind, 0);
}

static void test_driver_queries(void **state) {
    (void)state;
    spate_cql_stmt_t *st = parse_ok("SELECT * FROM system.local WHERE key='local'");
    assert_int_equal(st->kind, SPATE_CQL_STMT_SELECT);
    assert_int_equal(spate_cql_stmt_class(st), SPATE_CQL_CLASS_READ);
    assert_int_equal(st->select.nsel, 0);
    assert_string_equal(st->select.table.ks, "system");
    assert_string_equal(st->select.table.name, "local");
    assert_int_equal(st->select.nwhere, 1);
    assert_int_equal(st->select.where[0].lhs, SPATE_CQL_LHS_COLUMN);
    assert_string_equal(st->select.where[0].cols[0], "key");
    assert_int_equal(st->select.where[0].op, SPATE_CQL_REL_EQ);
    assert_lit(st->select.where[0].value, SPATE_CQL_LIT_STRING, "local");

    st = parse_ok("SELECT peer, data_center, host_id, preferred_ip, rack, release_version, "
                  "rpc_address, schema_version, tokens FROM system.peers");
    const char *cols[] = {"peer",         "data_center",    "host_id",
                          "preferred_ip", "rack",           "release_version",
                          "rpc_address",  "schema_version", "tokens"};
    assert_int_equal(st->select.nsel, 9);
    for (uint32_t i = 0; i < 9; i++) {
        assert_int_equal(st->select.sel[i]->kind, SPATE_CQL_SEL_COLUMN);
        assert_string_equal(st->select.sel[i]->name, cols[i]);
        assert_string_equal(spate_cql_selector_name(A, st->select.sel[i]), cols[i]);
    }

    st = parse_ok("SELECT * FROM system_schema.keyspaces");
    assert_string_equal(st->select.table.ks, "system_schema");
    st = parse_ok("SELECT * FROM system_schema.tables WHERE keyspace_name = 'ks' AND "
                  "table_name = 't'");
    assert_int_equal(st->select.nwhere, 2);
    assert_string_equal(st->select.where[1].cols[0], "table_name");
    assert_lit(st->select.where[1].value, SPATE_CQL_LIT_STRING, "t");

    /* Node's queries, with the peers_v2 and virtual tables it tries. */
    parse_ok("SELECT * FROM system.peers_v2");
    parse_ok("SELECT * FROM system_virtual_schema.keyspaces");
    parse_ok("SELECT * FROM system.local WHERE key='local'");
    parse_ok("SELECT * FROM system_schema.columns WHERE keyspace_name='ks' AND table_name='t'");
    st = parse_ok("SELECT peer, rpc_address, schema_version FROM system.peers "
                  "WHERE peer = :address");
    assert_bind(st->select.where[0].value, 0, "address");

    st = parse_ok("USE \"ks\"");
    assert_int_equal(st->kind, SPATE_CQL_STMT_USE);
    assert_int_equal(spate_cql_stmt_class(st), SPATE_CQL_CLASS_USE);
    assert_string_equal(st->use.ks, "ks");
    st = parse_ok("USE \"MyKs\";");
    assert_string_equal(st->use.ks, "MyKs");
    st = parse_ok("use MyKs");
    assert_string_equal(st->use.ks, "myks");

    /* The Spark connector's prepared insert. */
    st = parse_ok("INSERT INTO \"spark_streams\".\"created_users\" (\"id\", \"first_name\") "
                  "VALUES (:\"id\", :\"first_name\") USING TTL :ttl AND TIMESTAMP :ts");
    assert_string_equal(st->insert.table.ks, "spark_streams");
    assert_string_equal(st->insert.cols[1], "first_name");
    assert_bind(st->insert.values[0], 0, "id");
    assert_bind(st->insert.values[1], 1, "first_name");
    assert_bind(st->insert.using.ttl, 2, "ttl");
    assert_bind(st->insert.using.timestamp, 3, "ts");
    assert_int_equal(st->nbind, 4);

    /* Spark reads by token range. */
    st = parse_ok("SELECT \"id\", \"email\" FROM \"spark_streams\".\"created_users\" WHERE "
                  "token(\"id\") > ? AND token(\"id\") <= ? ALLOW FILTERING");
    assert_int_equal(st->select.where[0].lhs, SPATE_CQL_LHS_TOKEN);
    assert_int_equal(st->select.where[0].ncols, 1);
    assert_string_equal(st->select.where[0].cols[0], "id");
    assert_int_equal(st->select.where[0].op, SPATE_CQL_REL_GT);
    assert_int_equal(st->select.where[1].op, SPATE_CQL_REL_LE);
    assert_true(st->select.allow_filtering);
}

/* ------------------------------------------------------------------ */
/* DDL                                                                 */
/* ------------------------------------------------------------------ */

static void test_keyspace_ddl(void **state) {
    (void)state;
    spate_cql_stmt_t *st = parse_ok(
        "create schema KS with REPLICATION = {'class' : 'NetworkTopologyStrategy', 'dc1' : 3} "
        "and durable_writes = false");
    assert_int_equal(st->kind, SPATE_CQL_STMT_CREATE_KEYSPACE);
    assert_false(st->keyspace.if_not_exists);
    assert_string_equal(st->keyspace.ks, "ks");
    assert_int_equal(st->keyspace.nprops, 2);
    assert_string_equal(st->keyspace.props[0].name, "replication");
    assert_lit(st->keyspace.props[0].value->map.vals[1], SPATE_CQL_LIT_INTEGER, "3");
    assert_string_equal(st->keyspace.props[1].name, "durable_writes");
    assert_lit(st->keyspace.props[1].value, SPATE_CQL_LIT_BOOLEAN, "false");

    st = parse_ok("ALTER KEYSPACE ks WITH durable_writes = true");
    assert_int_equal(st->kind, SPATE_CQL_STMT_ALTER_KEYSPACE);
    assert_lit(st->keyspace.props[0].value, SPATE_CQL_LIT_BOOLEAN, "true");
    st = parse_ok("ALTER KEYSPACE IF EXISTS \"Ks\" WITH replication = {'class': 'SimpleStrategy'}");
    assert_true(st->keyspace.if_exists);
    assert_string_equal(st->keyspace.ks, "Ks");

    st = parse_ok("DROP KEYSPACE IF EXISTS ks");
    assert_int_equal(st->kind, SPATE_CQL_STMT_DROP_KEYSPACE);
    assert_true(st->keyspace.if_exists);
    st = parse_ok("DROP KEYSPACE ks;;");
    assert_false(st->keyspace.if_exists);

    parse_err("CREATE KEYSPACE ks WITH replication = {'class': 'x'} AND replication = {}",
              SPATE_CQL_PARSE_SYNTAX, 1, 57, "Multiple definition for property replication");
    parse_err("CREATE KEYSPACE ks WITH replication = {'a': '1', 'a': '2'}", SPATE_CQL_PARSE_SYNTAX,
              1, 49, "Multiple definition for property a");
    /* Names in messages are sanitised to valid UTF-8. */
    parse_err("CREATE KEYSPACE ks WITH replication = {'\xff\n': '1', '\xff\n': '2'}",
              SPATE_CQL_PARSE_SYNTAX, 2, 8, "Multiple definition for property ? ");
    parse_err("CREATE KEYSPACE ks WITH replication = {'a': ?}", SPATE_CQL_PARSE_SYNTAX, 1, 44,
              "Invalid property value: ? for property: replication (bind variables are not "
              "supported in DDL queries)");
    parse_err("USE ?", SPATE_CQL_PARSE_SYNTAX, 1, 4,
              "Bind variables cannot be used for keyspace names");
}

static void test_create_table(void **state) {
    (void)state;
    spate_cql_stmt_t *st = parse_ok(
        "CREATE TABLE ks.events (\n"
        "  tenant text, day date, ts timeuuid, seq int,\n"
        "  owner text STATIC,\n"
        "  tags set<text>, attrs map<text, frozen<list<int>>>, pos tuple<float, float>,\n"
        "  addr frozen<ks.address>, raw 'org.example.MyType', n counter,\n"
        "  PRIMARY KEY ((tenant, day), ts, seq),\n"
        ") WITH CLUSTERING ORDER BY (ts DESC, seq ASC) AND COMPACT STORAGE\n"
        "  AND comment = 'it''s' AND gc_grace_seconds = 864000 AND bloom_filter_fp_chance = 0.01\n"
        "  AND compaction = {'class': 'SizeTieredCompactionStrategy', 'min_threshold': 4}\n"
        "  AND speculative_retry = NONE");
    const spate_cql_stmt_create_table_t *t = &st->create_table;
    assert_null(t->table.ks == NULL ? NULL : (void *)0);
    assert_string_equal(t->table.ks, "ks");
    assert_int_equal(t->ncols, 11);
    assert_int_equal(t->npk, 2);
    assert_string_equal(t->pk[0], "tenant");
    assert_string_equal(t->pk[1], "day");
    assert_int_equal(t->nck, 2);
    assert_string_equal(t->ck[0], "ts");
    assert_string_equal(t->ck[1], "seq");
    assert_int_equal(t->cols[1].type->id, SPATE_CQL_DATE);
    assert_int_equal(t->cols[2].type->id, SPATE_CQL_TIMEUUID);
    assert_true(t->cols[4].is_static);
    const spate_cql_typeref_t *ty = t->cols[5].type;
    assert_int_equal(ty->id, SPATE_CQL_SET);
    assert_int_equal(ty->nargs, 1);
    assert_int_equal(ty->args[0]->id, SPATE_CQL_VARCHAR);
    ty = t->cols[6].type;
    assert_int_equal(ty->id, SPATE_CQL_MAP);
    assert_int_equal(ty->nargs, 2);
    assert_true(ty->args[1]->frozen);
    assert_int_equal(ty->args[1]->id, SPATE_CQL_LIST);
    assert_int_equal(ty->args[1]->args[0]->id, SPATE_CQL_INT);
    ty = t->cols[7].type;
    assert_int_equal(ty->id, SPATE_CQL_TUPLE);
    assert_int_equal(ty->nargs, 2);
    assert_int_equal(ty->args[1]->id, SPATE_CQL_FLOAT);
    ty = t->cols[8].type;
    assert_int_equal(ty->id, SPATE_CQL_UDT);
    assert_true(ty->frozen);
    assert_string_equal(ty->ks, "ks");
    assert_string_equal(ty->name, "address");
    assert_int_equal(t->cols[9].type->id, SPATE_CQL_CUSTOM);
    assert_string_equal(t->cols[9].type->name, "org.example.MyType");
    assert_int_equal(t->cols[10].type->id, SPATE_CQL_COUNTER);
    assert_int_equal(t->norder, 2);
    assert_string_equal(t->order[0].col, "ts");
    assert_true(t->order[0].desc);
    assert_false(t->order[1].desc);
    assert_true(t->compact_storage);
    assert_int_equal(t->nprops, 5);
    assert_lit(t->props[0].value, SPATE_CQL_LIT_STRING, "it's");
    assert_lit(t->props[1].value, SPATE_CQL_LIT_INTEGER, "864000");
    assert_lit(t->props[2].value, SPATE_CQL_LIT_FLOAT, "0.01");
    assert_int_equal(t->props[3].value->kind, SPATE_CQL_TERM_MAP);
    assert_lit(t->props[4].value, SPATE_CQL_LIT_STRING, "NONE");

    /* COLUMNFAMILY, a simple key in the PRIMARY KEY clause, case folding. */
    st = parse_ok("CREATE COLUMNFAMILY T (K int, \"V\" text, PRIMARY KEY (K))");
    assert_string_equal(st->create_table.table.name, "t");
    assert_string_equal(st->create_table.cols[0].name, "k");
    assert_string_equal(st->create_table.cols[1].name, "V");
    assert_int_equal(st->create_table.npk, 1);
    assert_string_equal(st->create_table.pk[0], "k");

    /* Unreserved keywords are column names. */
    st = parse_ok("CREATE TABLE t (key int PRIMARY KEY, ttl int, count int, type text, "
                  "values text, timestamp timestamp, list list<int>, json text, filtering int)");
    assert_int_equal(st->create_table.ncols, 9);
    assert_string_equal(st->create_table.cols[5].name, "timestamp");
    assert_int_equal(st->create_table.cols[5].type->id, SPATE_CQL_TIMESTAMP);

    parse_err("CREATE TABLE t (a int, b int)", SPATE_CQL_PARSE_INVALID, 1, 0,
              "No PRIMARY KEY specifed (exactly one required)");
    parse_err("CREATE TABLE t (a int PRIMARY KEY, b int PRIMARY KEY)", SPATE_CQL_PARSE_INVALID, 1,
              0, "Multiple PRIMARY KEYs specifed (exactly one required)");
    parse_err("CREATE TABLE t (a int PRIMARY KEY, b int, PRIMARY KEY (b))", SPATE_CQL_PARSE_INVALID,
              1, 0, "Multiple PRIMARY KEYs specifed (exactly one required)");
    parse_err("CREATE TABLE t (a int, PRIMARY KEY (a, c))", SPATE_CQL_PARSE_INVALID, 1, 0,
              "Unknown definition c referenced in PRIMARY KEY");
    parse_err("CREATE TABLE t (a int, b int, A text, PRIMARY KEY (a))", SPATE_CQL_PARSE_INVALID, 1,
              30, "Multiple definition of identifier a");
    parse_err("CREATE TABLE t (a int, b int, PRIMARY KEY (a, a))", SPATE_CQL_PARSE_INVALID, 1, 0,
              "Multiple definition of identifier a");
    syntax_err("CREATE TABLE t (select int PRIMARY KEY)", 1, 16,
               "line 1:16 no viable alternative at input 'select' (CREATE TABLE t ([select]...)");
    syntax_err("CREATE TABLE t (a int PRIMARY KEY) WITH CLUSTERING ORDER BY (a)", 1, 62,
               "line 1:62 mismatched input ')' expecting K_ASC (...CLUSTERING ORDER BY (a[)])");
    syntax_err("CREATE TABLE t (a list<int PRIMARY KEY)", 1, 27,
               "line 1:27 mismatched input 'PRIMARY' expecting '>' (...(a list<int [PRIMARY]...)");
    parse_err("CREATE TABLE t (a frozen<complex> PRIMARY KEY)", SPATE_CQL_PARSE_SYNTAX, 1, 25,
              "Invalid (reserved) user type name complex");
}

/* Cassandra's reserved words are not names unless quoted; a sample of
 * unreserved keywords are. */
static void test_reserved_words(void **state) {
    (void)state;
    static const char *const reserved[] = {
        "add",          "allow",    "alter",    "and",         "apply",        "asc",
        "authorize",    "batch",    "begin",    "by",          "columnfamily", "create",
        "delete",       "desc",     "describe", "drop",        "entries",      "execute",
        "from",         "full",     "grant",    "if",          "in",           "index",
        "infinity",     "insert",   "into",     "is",          "keyspace",     "limit",
        "materialized", "modify",   "nan",      "norecursive", "not",          "null",
        "of",           "on",       "or",       "order",       "primary",      "rename",
        "revoke",       "schema",   "select",   "set",         "table",        "to",
        "token",        "truncate", "unlogged", "update",      "use",          "using",
        "view",         "where",    "with",     "true",        "false"};
    char sql[128];
    for (size_t i = 0; i < SPATE_ARRAY_LEN(reserved); i++) {
        spate_cql_stmt_t *st;
        spate_cql_parse_error_t err;
        snprintf(sql, sizeof sql, "CREATE TABLE t (k int PRIMARY KEY, %s int)", reserved[i]);
        if (spate_cql_parse(A, sql, strlen(sql), &st, &err) != SPATE_EINVAL)
            fail_msg("%s accepted as a column name", reserved[i]);
        /* "primary" starts a PRIMARY KEY (...) clause and fails at its next word. */
        assert_int_equal(err.col, strcmp(reserved[i], "primary") == 0 ? 43 : 35);
        snprintf(sql, sizeof sql, "CREATE TABLE t (k int PRIMARY KEY, \"%s\" int)", reserved[i]);
        st = parse_ok(sql);
        assert_string_equal(st->create_table.cols[1].name, reserved[i]);
    }
    static const char *const unreserved[] = {
        "key",     "ttl",      "writetime", "count",   "type",   "values",   "timestamp",
        "json",    "distinct", "as",        "static",  "exists", "contains", "clustering",
        "compact", "storage",  "filtering", "list",    "map",    "frozen",   "tuple",
        "text",    "int",      "counter",   "custom",  "keys",   "per",      "partition",
        "group",   "like",     "cast",      "default", "unset",  "logged",   "role",
        "user",    "login",    "password",  "access"};
    for (size_t i = 0; i < SPATE_ARRAY_LEN(unreserved); i++) {
        snprintf(sql, sizeof sql, "SELECT %s FROM %s.%s WHERE %s = 1", unreserved[i], unreserved[i],
                 unreserved[i], unreserved[i]);
        spate_cql_stmt_t *st = parse_ok(sql);
        assert_string_equal(st->select.sel[0]->name, unreserved[i]);
        assert_string_equal(st->select.table.ks, unreserved[i]);
        assert_string_equal(st->select.where[0].cols[0], unreserved[i]);
    }
}

static void test_alter_drop_truncate(void **state) {
    (void)state;
    spate_cql_stmt_t *st = parse_ok("ALTER TABLE ks.t ADD c map<text, int> static");
    const spate_cql_stmt_alter_table_t *a = &st->alter_table;
    assert_int_equal(st->kind, SPATE_CQL_STMT_ALTER_TABLE);
    assert_int_equal(a->op, SPATE_CQL_ALTER_ADD);
    assert_int_equal(a->ncols, 1);
    assert_string_equal(a->cols[0].name, "c");
    assert_int_equal(a->cols[0].type->id, SPATE_CQL_MAP);
    assert_true(a->cols[0].is_static);

    st = parse_ok("ALTER TABLE t ADD (x int, y text)");
    assert_int_equal(st->alter_table.ncols, 2);
    assert_int_equal(st->alter_table.cols[1].type->id, SPATE_CQL_VARCHAR);
    st = parse_ok("ALTER TABLE IF EXISTS t ADD IF NOT EXISTS x int");
    assert_true(st->alter_table.if_exists);
    assert_true(st->alter_table.if_col);

    st = parse_ok("ALTER TABLE t DROP x");
    assert_int_equal(st->alter_table.op, SPATE_CQL_ALTER_DROP);
    assert_string_equal(st->alter_table.cols[0].name, "x");
    assert_null(st->alter_table.cols[0].type);
    st = parse_ok("ALTER TABLE t DROP (x, \"Y\") USING TIMESTAMP 5");
    assert_int_equal(st->alter_table.ncols, 2);
    assert_string_equal(st->alter_table.cols[1].name, "Y");
    assert_lit(st->alter_table.timestamp, SPATE_CQL_LIT_INTEGER, "5");

    st = parse_ok("ALTER TABLE t WITH comment = 'c' AND default_time_to_live = 10");
    assert_int_equal(st->alter_table.op, SPATE_CQL_ALTER_WITH);
    assert_int_equal(st->alter_table.nprops, 2);
    st = parse_ok("ALTER TABLE t RENAME a TO b AND c TO d");
    assert_int_equal(st->alter_table.op, SPATE_CQL_ALTER_RENAME);
    assert_int_equal(st->alter_table.ncols, 2);
    assert_string_equal(st->alter_table.cols[1].name, "c");
    assert_string_equal(st->alter_table.to[1], "d");
    st = parse_ok("ALTER TABLE t ALTER a TYPE blob");
    assert_int_equal(st->alter_table.op, SPATE_CQL_ALTER_TYPE);
    assert_int_equal(st->alter_table.cols[0].type->id, SPATE_CQL_BLOB);
    st = parse_ok("ALTER TABLE t DROP COMPACT STORAGE");
    assert_int_equal(st->alter_table.op, SPATE_CQL_ALTER_DROP_COMPACT);

    st = parse_ok("DROP TABLE IF EXISTS ks.t");
    assert_int_equal(st->kind, SPATE_CQL_STMT_DROP_TABLE);
    assert_true(st->table.if_exists);
    assert_string_equal(st->table.table.ks, "ks");
    st = parse_ok("DROP COLUMNFAMILY t");
    assert_false(st->table.if_exists);

    st = parse_ok("TRUNCATE ks.t");
    assert_int_equal(st->kind, SPATE_CQL_STMT_TRUNCATE);
    assert_int_equal(spate_cql_stmt_class(st), SPATE_CQL_CLASS_WRITE);
    assert_string_equal(st->table.table.name, "t");
    st = parse_ok("TRUNCATE TABLE t");
    assert_string_equal(st->table.table.name, "t");
    assert_null(st->table.table.ks);

    syntax_err("ALTER TABLE t FROB x", 1, 14,
               "line 1:14 no viable alternative at input 'FROB' (ALTER TABLE t [FROB]...)");
    parse_err("DROP TABLE ks.?", SPATE_CQL_PARSE_SYNTAX, 1, 14,
              "Bind variables cannot be used for table names");
}

static void test_unsupported(void **state) {
    (void)state;
    static const struct {
        const char *sql;
        spate_cql_unsup_kind_t what;
        const char *name;
    } cases[] = {
        {"CREATE INDEX ON t (c)", SPATE_CQL_UNSUP_CREATE_INDEX, "CREATE INDEX"},
        {"CREATE CUSTOM INDEX i ON t (c) USING 'x'", SPATE_CQL_UNSUP_CREATE_INDEX, "CREATE INDEX"},
        {"DROP INDEX IF EXISTS ks.i", SPATE_CQL_UNSUP_DROP_INDEX, "DROP INDEX"},
        {"CREATE TYPE ks.address (street text, zip int)", SPATE_CQL_UNSUP_CREATE_TYPE,
         "CREATE TYPE"},
        {"ALTER TYPE a ADD x int", SPATE_CQL_UNSUP_ALTER_TYPE, "ALTER TYPE"},
        {"DROP TYPE a", SPATE_CQL_UNSUP_DROP_TYPE, "DROP TYPE"},
        {"CREATE OR REPLACE FUNCTION f (a int) CALLED ON NULL INPUT RETURNS int LANGUAGE java "
         "AS $$ return a; $$",
         SPATE_CQL_UNSUP_CREATE_FUNCTION, "CREATE FUNCTION"},
        {"DROP FUNCTION f", SPATE_CQL_UNSUP_DROP_FUNCTION, "DROP FUNCTION"},
        {"CREATE AGGREGATE a (int) SFUNC f STYPE int", SPATE_CQL_UNSUP_CREATE_AGGREGATE,
         "CREATE AGGREGATE"},
        {"DROP AGGREGATE a", SPATE_CQL_UNSUP_DROP_AGGREGATE, "DROP AGGREGATE"},
        {"CREATE MATERIALIZED VIEW v AS SELECT * FROM t WHERE a IS NOT NULL PRIMARY KEY (a)",
         SPATE_CQL_UNSUP_CREATE_VIEW, "CREATE MATERIALIZED VIEW"},
        {"ALTER MATERIALIZED VIEW v WITH comment = 'x'", SPATE_CQL_UNSUP_ALTER_VIEW,
         "ALTER MATERIALIZED VIEW"},
        {"DROP MATERIALIZED VIEW v", SPATE_CQL_UNSUP_DROP_VIEW, "DROP MATERIALIZED VIEW"},
        {"CREATE TRIGGER tr ON t USING 'x'", SPATE_CQL_UNSUP_CREATE_TRIGGER, "CREATE TRIGGER"},
        {"DROP TRIGGER tr ON t", SPATE_CQL_UNSUP_DROP_TRIGGER, "DROP TRIGGER"},
        {"CREATE ROLE r WITH PASSWORD = 'p' AND LOGIN = true", SPATE_CQL_UNSUP_ROLE, "CREATE ROLE"},
        {"CREATE USER u WITH PASSWORD 'p'", SPATE_CQL_UNSUP_ROLE, "CREATE ROLE"},
        {"ALTER ROLE r WITH LOGIN = false", SPATE_CQL_UNSUP_ROLE, "ALTER ROLE"},
        {"DROP USER u", SPATE_CQL_UNSUP_ROLE, "DROP ROLE"},
        {"LIST ROLES", SPATE_CQL_UNSUP_ROLE, "LIST ROLES"},
        {"GRANT SELECT ON ALL KEYSPACES TO r", SPATE_CQL_UNSUP_PERMISSIONS, "GRANT"},
        {"REVOKE ALL ON KEYSPACE ks FROM r", SPATE_CQL_UNSUP_PERMISSIONS, "REVOKE"},
        {"LIST ALL PERMISSIONS OF r", SPATE_CQL_UNSUP_PERMISSIONS, "LIST PERMISSIONS"},
        {"DESCRIBE KEYSPACES", SPATE_CQL_UNSUP_DESCRIBE, "DESCRIBE"},
        {"desc table ks.t;", SPATE_CQL_UNSUP_DESCRIBE, "DESCRIBE"},
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(cases); i++) {
        spate_cql_stmt_t *st = parse_ok(cases[i].sql);
        assert_int_equal(st->kind, SPATE_CQL_STMT_UNSUPPORTED);
        assert_int_equal(st->unsupported.what, cases[i].what);
        assert_string_equal(spate_cql_stmt_kind_name(st), cases[i].name);
        assert_int_equal(spate_cql_stmt_class(st), SPATE_CQL_CLASS_OTHER);
    }
    syntax_err("CREATE WIDGET w", 1, 7,
               "line 1:7 no viable alternative at input 'WIDGET' (CREATE [WIDGET]...)");
    syntax_err("CREATE MATERIALIZED v", 1, 20,
               "line 1:20 mismatched input 'v' expecting K_VIEW (CREATE MATERIALIZED [v])");
    /* A lexical error inside a skipped statement still fails. */
    syntax_err("CREATE INDEX ON t (c) USING 'x", 1, 30,
               "line 1:30 mismatched character '<EOF>' expecting '''");
}

/* ------------------------------------------------------------------ */
/* DML                                                                 */
/* ------------------------------------------------------------------ */

static void test_insert(void **state) {
    (void)state;
    spate_cql_stmt_t *st =
        parse_ok("INSERT INTO ks.t (a, b, c) VALUES (1, 'x', ?) IF NOT EXISTS USING TTL 86400 AND "
                 "TIMESTAMP 123456789");
    const spate_cql_stmt_insert_t *in = &st->insert;
    assert_int_equal(spate_cql_stmt_class(st), SPATE_CQL_CLASS_WRITE);
    assert_int_equal(in->ncols, 3);
    assert_lit(in->values[0], SPATE_CQL_LIT_INTEGER, "1");
    assert_lit(in->values[1], SPATE_CQL_LIT_STRING, "x");
    assert_bind(in->values[2], 0, NULL);
    assert_true(in->if_not_exists);
    assert_lit(in->using.ttl, SPATE_CQL_LIT_INTEGER, "86400");
    assert_lit(in->using.timestamp, SPATE_CQL_LIT_INTEGER, "123456789");

    /* USING before IF NOT EXISTS is taken too; TIMESTAMP alone. */
    st = parse_ok("INSERT INTO t (a) VALUES (?) USING TIMESTAMP ? IF NOT EXISTS");
    assert_true(st->insert.if_not_exists);
    assert_null(st->insert.using.ttl);
    assert_bind(st->insert.using.timestamp, 1, NULL);

    st = parse_ok("INSERT INTO t JSON '{\"a\": 1, \"b\": \"it''s\"}' DEFAULT UNSET");
    assert_null(st->insert.cols);
    assert_lit(st->insert.json, SPATE_CQL_LIT_STRING, "{\"a\": 1, \"b\": \"it's\"}");
    assert_true(st->insert.json_default_unset);
    st = parse_ok("INSERT INTO t JSON ? DEFAULT NULL IF NOT EXISTS");
    assert_bind(st->insert.json, 0, NULL);
    assert_false(st->insert.json_default_unset);
    assert_true(st->insert.if_not_exists);

    parse_err("INSERT INTO t (a, b) VALUES (1)", SPATE_CQL_PARSE_INVALID, 1, 15,
              "Unmatched column names/values");
    parse_err("INSERT INTO t (a, b, A) VALUES (1, 2, 3)", SPATE_CQL_PARSE_INVALID, 1, 21,
              "Multiple definitions found for column a");
    syntax_err("Insert into t1 Values(1, 100, 200)", 1, 15,
               "line 1:15 no viable alternative at input 'Values' (Insert into t1 [Values]...)");
    syntax_err("INSERT INTO t (a) VALUES (1) USING TTL 'x'", 1, 39,
               "line 1:39 no viable alternative at input ''x'' (...(1) USING TTL ['x'])");
    syntax_err("INSERT INTO t (a) VALUES (1) garbage", 1, 29,
               "line 1:29 mismatched input 'garbage' expecting EOF (...) VALUES (1) [garbage])");
}

static void test_update(void **state) {
    (void)state;
    spate_cql_stmt_t *st =
        parse_ok("UPDATE ks.t USING TTL 5 AND TIMESTAMP 7 SET a = 1, l = l + [2], l = [0] + l, "
                 "s = s - {'x'}, m['k'] = 'v', l[0] = 9, u.street = 'Main', c = c + 1, c = c -1, "
                 "d += 2, d -= 3, e = cast(1 as text) "
                 "WHERE k = 0 AND ck IN (1, 2) IF a = 1 AND m['k'] != 'w' AND u.zip IN (1, 2) AND "
                 "l CONTAINS 3");
    const spate_cql_stmt_update_t *u = &st->update;
    assert_lit(u->using.ttl, SPATE_CQL_LIT_INTEGER, "5");
    assert_lit(u->using.timestamp, SPATE_CQL_LIT_INTEGER, "7");
    assert_int_equal(u->nset, 12);
    const struct {
        spate_cql_assign_kind_t kind;
        const char *col;
    } want[] = {
        {SPATE_CQL_ASSIGN_SET, "a"},       {SPATE_CQL_ASSIGN_ADD, "l"},
        {SPATE_CQL_ASSIGN_PREPEND, "l"},   {SPATE_CQL_ASSIGN_SUB, "s"},
        {SPATE_CQL_ASSIGN_SET_ELEM, "m"},  {SPATE_CQL_ASSIGN_SET_ELEM, "l"},
        {SPATE_CQL_ASSIGN_SET_FIELD, "u"}, {SPATE_CQL_ASSIGN_ADD, "c"},
        {SPATE_CQL_ASSIGN_SUB, "c"},       {SPATE_CQL_ASSIGN_ADD, "d"},
        {SPATE_CQL_ASSIGN_SUB, "d"},       {SPATE_CQL_ASSIGN_SET, "e"},
    };
    for (uint32_t i = 0; i < 12; i++) {
        assert_int_equal(u->set[i].kind, want[i].kind);
        assert_string_equal(u->set[i].col, want[i].col);
    }
    assert_int_equal(u->set[1].value->kind, SPATE_CQL_TERM_LIST);
    assert_int_equal(u->set[3].value->kind, SPATE_CQL_TERM_SET);
    assert_lit(u->set[4].key, SPATE_CQL_LIT_STRING, "k");
    assert_lit(u->set[4].value, SPATE_CQL_LIT_STRING, "v");
    assert_lit(u->set[5].key, SPATE_CQL_LIT_INTEGER, "0");
    assert_string_equal(u->set[6].field, "street");
    assert_lit(u->set[7].value, SPATE_CQL_LIT_INTEGER, "1");
    assert_lit(u->set[8].value, SPATE_CQL_LIT_INTEGER, "1");
    assert_int_equal(u->set[11].value->kind, SPATE_CQL_TERM_HINT);
    assert_true(u->set[11].value->hint.cast);
    assert_int_equal(u->set[11].value->hint.type->id, SPATE_CQL_VARCHAR);
    assert_int_equal(u->nwhere, 2);
    assert_int_equal(u->where[1].op, SPATE_CQL_REL_IN);
    assert_true(u->where[1].in_list);
    assert_int_equal(u->where[1].nin, 2);
    assert_false(u->if_exists);
    assert_int_equal(u->ncond, 4);
    assert_int_equal(u->cond[1].lhs, SPATE_CQL_LHS_ELEM);
    assert_int_equal(u->cond[1].op, SPATE_CQL_REL_NE);
    assert_int_equal(u->cond[2].lhs, SPATE_CQL_LHS_FIELD);
    assert_string_equal(u->cond[2].field, "zip");
    assert_int_equal(u->cond[2].op, SPATE_CQL_REL_IN);
    assert_int_equal(u->cond[3].op, SPATE_CQL_REL_CONTAINS);

    st = parse_ok("UPDATE counters SET hits = hits + 1 WHERE page = '/' IF EXISTS");
    assert_true(st->update.if_exists);
    assert_int_equal(st->update.ncond, 0);
    /* "exists" used as a column name in a condition. */
    st = parse_ok("UPDATE t SET a = 1 WHERE k = 0 IF exists = true");
    assert_false(st->update.if_exists);
    assert_string_equal(st->update.cond[0].cols[0], "exists");

    parse_err("UPDATE t SET a = b + 1 WHERE k = 0", SPATE_CQL_PARSE_SYNTAX, 1, 17,
              "Only expressions of the form X = X + <value> are supported.");
    parse_err("UPDATE t SET a = [1] + b WHERE k = 0", SPATE_CQL_PARSE_SYNTAX, 1, 23,
              "Only expressions of the form X = <value> + X are supported.");
    syntax_err("UPDATE t SET a = 1", 1, 18, "line 1:18 mismatched input '<EOF>' expecting K_WHERE");
    syntax_err("UPDATE t SET a = 1 WHERE", 1, 24,
               "line 1:24 no viable alternative at input '<EOF>'");
}

static void test_delete(void **state) {
    (void)state;
    spate_cql_stmt_t *st = parse_ok("DELETE FROM ks.t WHERE k = 1");
    assert_int_equal(st->kind, SPATE_CQL_STMT_DELETE);
    assert_int_equal(st->del.ncols, 0);
    assert_string_equal(st->del.table.ks, "ks");
    st = parse_ok("DELETE a, m['k'], l[2], u.f FROM t USING TIMESTAMP 99 WHERE k = 1 AND c > 2 "
                  "IF EXISTS");
    const spate_cql_stmt_delete_t *d = &st->del;
    assert_int_equal(d->ncols, 4);
    assert_string_equal(d->cols[0].col, "a");
    assert_null(d->cols[0].key);
    assert_lit(d->cols[1].key, SPATE_CQL_LIT_STRING, "k");
    assert_lit(d->cols[2].key, SPATE_CQL_LIT_INTEGER, "2");
    assert_string_equal(d->cols[3].field, "f");
    assert_lit(d->using.timestamp, SPATE_CQL_LIT_INTEGER, "99");
    assert_int_equal(d->nwhere, 2);
    assert_int_equal(d->where[1].op, SPATE_CQL_REL_GT);
    assert_true(d->if_exists);
    st = parse_ok("DELETE FROM t WHERE k = 1 IF a = 2 AND b > 3");
    assert_int_equal(st->del.ncond, 2);
    assert_int_equal(st->del.cond[1].op, SPATE_CQL_REL_GT);
    syntax_err("DELETE FROM t USING TTL 5 WHERE k = 1", 1, 20,
               "line 1:20 mismatched input 'TTL' expecting K_TIMESTAMP (DELETE FROM t USING "
               "[TTL]...)");
}

static void test_select(void **state) {
    (void)state;
    spate_cql_stmt_t *st = parse_ok(
        "SELECT JSON DISTINCT a AS x, COUNT(*), count(1), count(b), WRITETIME(c), TTL(c), "
        "token(a, b), now(), toTimestamp(now()), uuid(), cast(d AS text), min(e), max(e), "
        "sum(e), avg(e), ks.myfn(a, 1), u.street, \"Quoted\" "
        "FROM ks.t WHERE a = 1 AND b IN (1, 2) AND c IN ? AND s CONTAINS 'x' AND m CONTAINS KEY "
        "'k' AND token(a, b) > ? AND (c1, c2) >= (1, 2) AND (c1, c2) IN ((1, 2), (3, 4)) AND "
        "m['k'] = 'v' AND v IS NOT NULL AND name LIKE 'a%' AND z != 3 "
        "GROUP BY a, b ORDER BY c1 DESC, c2 ASC PER PARTITION LIMIT 2 LIMIT ? ALLOW FILTERING");
    const spate_cql_stmt_select_t *s = &st->select;
    assert_true(s->json);
    assert_true(s->distinct);
    assert_int_equal(s->nsel, 18);
    assert_string_equal(s->sel[0]->alias, "x");
    const char *names[] = {"x",
                           "count",
                           "count",
                           "system.count(b)",
                           "writetime(c)",
                           "ttl(c)",
                           "system.token(a, b)",
                           "system.now()",
                           "system.totimestamp(system.now())",
                           "system.uuid()",
                           "cast(d as text)",
                           "system.min(e)",
                           "system.max(e)",
                           "system.sum(e)",
                           "system.avg(e)",
                           "ks.myfn(a, 1)",
                           "u.street",
                           "Quoted"};
    for (uint32_t i = 0; i < 18; i++)
        assert_string_equal(spate_cql_selector_name(A, s->sel[i]), names[i]);
    assert_int_equal(s->sel[1]->kind, SPATE_CQL_SEL_COUNT_ROWS);
    assert_int_equal(s->sel[2]->kind, SPATE_CQL_SEL_COUNT_ROWS);
    assert_int_equal(s->sel[3]->kind, SPATE_CQL_SEL_FUNC);
    assert_int_equal(s->sel[4]->kind, SPATE_CQL_SEL_WRITETIME);
    assert_int_equal(s->sel[5]->kind, SPATE_CQL_SEL_TTL);
    assert_string_equal(s->sel[5]->args[0]->name, "c");
    assert_int_equal(s->sel[6]->nargs, 2);
    assert_int_equal(s->sel[10]->kind, SPATE_CQL_SEL_CAST);
    assert_int_equal(s->sel[10]->type->id, SPATE_CQL_VARCHAR);
    assert_string_equal(s->sel[15]->ks, "ks");
    assert_int_equal(s->sel[15]->args[1]->kind, SPATE_CQL_SEL_TERM);
    assert_int_equal(s->sel[16]->kind, SPATE_CQL_SEL_FIELD);
    assert_string_equal(s->sel[16]->args[0]->name, "u");
    assert_int_equal(s->sel[16]->len, strlen("u.street"));

    assert_int_equal(s->nwhere, 12);
    const spate_cql_relation_t *w = s->where;
    assert_int_equal(w[1].op, SPATE_CQL_REL_IN);
    assert_true(w[1].in_list);
    assert_int_equal(w[2].op, SPATE_CQL_REL_IN);
    assert_false(w[2].in_list);
    assert_bind(w[2].value, 0, NULL);
    assert_int_equal(w[3].op, SPATE_CQL_REL_CONTAINS);
    assert_int_equal(w[4].op, SPATE_CQL_REL_CONTAINS_KEY);
    assert_int_equal(w[5].lhs, SPATE_CQL_LHS_TOKEN);
    assert_int_equal(w[5].ncols, 2);
    assert_bind(w[5].value, 1, NULL);
    assert_int_equal(w[6].lhs, SPATE_CQL_LHS_TUPLE);
    assert_int_equal(w[6].op, SPATE_CQL_REL_GE);
    assert_int_equal(w[6].value->kind, SPATE_CQL_TERM_TUPLE);
    assert_int_equal(w[7].op, SPATE_CQL_REL_IN);
    assert_int_equal(w[7].nin, 2);
    assert_int_equal(w[7].in[1]->kind, SPATE_CQL_TERM_TUPLE);
    assert_int_equal(w[8].lhs, SPATE_CQL_LHS_ELEM);
    assert_int_equal(w[9].op, SPATE_CQL_REL_IS_NOT_NULL);
    assert_null(w[9].value);
    assert_int_equal(w[10].op, SPATE_CQL_REL_LIKE);
    assert_int_equal(w[11].op, SPATE_CQL_REL_NE);
    assert_int_equal(s->ngroup_by, 2);
    assert_int_equal(s->norder, 2);
    assert_true(s->order[0].desc);
    assert_false(s->order[1].desc);
    assert_lit(s->per_partition_limit, SPATE_CQL_LIT_INTEGER, "2");
    assert_bind(s->limit, 2, NULL);
    assert_true(s->allow_filtering);
    assert_int_equal(st->nbind, 3);

    /* json, distinct, count, ttl, writetime as plain columns. */
    st = parse_ok("SELECT json, distinct, count, ttl, writetime FROM t");
    assert_false(st->select.json);
    assert_int_equal(st->select.nsel, 5);
    assert_string_equal(st->select.sel[1]->name, "distinct");
    st = parse_ok("SELECT json FROM t");
    assert_false(st->select.json);
    assert_int_equal(st->select.nsel, 1);
    st = parse_ok("SELECT DISTINCT json FROM t");
    assert_true(st->select.distinct);
    assert_string_equal(st->select.sel[0]->name, "json");
    st = parse_ok("SELECT JSON * FROM t");
    assert_true(st->select.json);
    assert_int_equal(st->select.nsel, 0);

    /* Nested parentheses around a relation; a literal selector. */
    st = parse_ok("SELECT 'lit', 42 AS n FROM t WHERE ((a = 1)) AND b = -2");
    assert_int_equal(st->select.nwhere, 2);
    assert_lit(st->select.where[1].value, SPATE_CQL_LIT_INTEGER, "-2");
    assert_string_equal(spate_cql_selector_name(A, st->select.sel[0]), "'lit'");
    assert_string_equal(spate_cql_selector_name(A, st->select.sel[1]), "n");

    parse_err("SELECT COUNT(2) FROM t", SPATE_CQL_PARSE_SYNTAX, 1, 13,
              "Only COUNT(1) is supported, got COUNT(2)");
    syntax_err("SELECT * FROMM t", 1, 9,
               "line 1:9 mismatched input 'FROMM' expecting K_FROM (SELECT * [FROMM]...)");
    syntax_err("SELECT * FROM", 1, 13, "line 1:13 no viable alternative at input '<EOF>'");
    syntax_err("SELEC * FROM t", 1, 0,
               "line 1:0 no viable alternative at input 'SELEC' ([SELEC]...)");
    syntax_err("SELECT * FROM t WHERE", 1, 21, "line 1:21 no viable alternative at input '<EOF>'");
    syntax_err("SELECT * FROM t WHERE a = 1 AND", 1, 31,
               "line 1:31 no viable alternative at input '<EOF>'");
    syntax_err("SELECT * FROM t LIMIT 'x'", 1, 22,
               "line 1:22 no viable alternative at input ''x'' (SELECT * FROM t LIMIT ['x'])");
    syntax_err("SELECT a,\n  b\n  FROM t WHERE x = ;", 3, 19,
               "line 3:19 no viable alternative at input ';' (...FROM t WHERE x = [;])");
    syntax_err("SELECT * FROM t WHERE a = 1 & b = 2", 1, 28,
               "line 1:28 no viable alternative at character '&'");
    syntax_err("SELECT * FROM t ALLOW", 1, 21,
               "line 1:21 mismatched input '<EOF>' expecting K_FILTERING");
    syntax_err("SELECT * FROM t;; x", 1, 18,
               "line 1:18 mismatched input 'x' expecting EOF (...* FROM t;; [x])");
    syntax_err("", 1, 0, "line 1:0 no viable alternative at input '<EOF>'");
    syntax_err("   -- only a comment\n", 2, 0, "line 2:0 no viable alternative at input '<EOF>'");
}

static void test_batch(void **state) {
    (void)state;
    spate_cql_stmt_t *st = parse_ok("BEGIN UNLOGGED BATCH USING TIMESTAMP 1000\n"
                                    "  INSERT INTO t (a, b) VALUES (?, ?);\n"
                                    "  UPDATE t SET b = ? WHERE a = ?\n"
                                    "  DELETE FROM t WHERE a = :x;\n"
                                    "APPLY BATCH;");
    assert_int_equal(st->kind, SPATE_CQL_STMT_BATCH);
    assert_int_equal(spate_cql_stmt_class(st), SPATE_CQL_CLASS_BATCH);
    assert_int_equal(st->batch.type, SPATE_CQL_BATCH_KIND_UNLOGGED);
    assert_lit(st->batch.using.timestamp, SPATE_CQL_LIT_INTEGER, "1000");
    assert_int_equal(st->batch.n, 3);
    assert_int_equal(st->batch.stmts[0]->kind, SPATE_CQL_STMT_INSERT);
    assert_int_equal(st->batch.stmts[1]->kind, SPATE_CQL_STMT_UPDATE);
    assert_int_equal(st->batch.stmts[2]->kind, SPATE_CQL_STMT_DELETE);
    assert_int_equal(st->batch.stmts[1]->line, 3);
    assert_int_equal(st->batch.stmts[1]->col, 2);
    assert_bind(st->batch.stmts[0]->insert.values[1], 1, NULL);
    assert_bind(st->batch.stmts[1]->update.set[0].value, 2, NULL);
    assert_bind(st->batch.stmts[1]->update.where[0].value, 3, NULL);
    assert_bind(st->batch.stmts[2]->del.where[0].value, 4, "x");
    assert_int_equal(st->nbind, 5);

    st = parse_ok("BEGIN BATCH APPLY BATCH");
    assert_int_equal(st->batch.type, SPATE_CQL_BATCH_KIND_LOGGED);
    assert_int_equal(st->batch.n, 0);
    st = parse_ok("begin logged batch insert into t (a) values (1) apply batch");
    assert_int_equal(st->batch.type, SPATE_CQL_BATCH_KIND_LOGGED);
    st = parse_ok("BEGIN COUNTER BATCH UPDATE c SET n = n + 1 WHERE k = 1; APPLY BATCH");
    assert_int_equal(st->batch.type, SPATE_CQL_BATCH_KIND_COUNTER);

    syntax_err("BEGIN BATCH SELECT * FROM t; APPLY BATCH", 1, 12,
               "line 1:12 no viable alternative at input 'SELECT' (BEGIN BATCH [SELECT]...)");
    syntax_err("BEGIN BATCH INSERT INTO t (a) VALUES (1);", 1, 41,
               "line 1:41 no viable alternative at input '<EOF>'");
}

/* ------------------------------------------------------------------ */
/* Terms                                                               */
/* ------------------------------------------------------------------ */

static spate_cql_term_t *term_of(const char *value) {
    char sql[512];
    snprintf(sql, sizeof sql, "INSERT INTO t (c) VALUES (%s)", value);
    spate_cql_stmt_t *st = parse_ok(sql);
    return st->insert.values[0];
}

static void test_terms(void **state) {
    (void)state;
    assert_lit(term_of("-5"), SPATE_CQL_LIT_INTEGER, "-5");
    assert_lit(term_of("- 5"), SPATE_CQL_LIT_INTEGER, "-5");
    assert_lit(term_of("-1.5e3"), SPATE_CQL_LIT_FLOAT, "-1.5e3");
    assert_lit(term_of("NaN"), SPATE_CQL_LIT_FLOAT, "NaN");
    assert_lit(term_of("-Infinity"), SPATE_CQL_LIT_FLOAT, "-Infinity");
    assert_lit(term_of("TRUE"), SPATE_CQL_LIT_BOOLEAN, "true");
    assert_lit(term_of("False"), SPATE_CQL_LIT_BOOLEAN, "false");
    assert_lit(term_of("0xDEADbeef"), SPATE_CQL_LIT_HEX, "0xDEADbeef");
    assert_lit(term_of("-1h30m"), SPATE_CQL_LIT_DURATION, "-1h30m");
    assert_lit(term_of("$$multi\nline 'x'$$"), SPATE_CQL_LIT_STRING, "multi\nline 'x'");
    assert_lit(term_of("''"), SPATE_CQL_LIT_STRING, "");
    assert_int_equal(term_of("null")->kind, SPATE_CQL_TERM_NULL);

    spate_cql_term_t *t = term_of("[1, 2, 3]");
    assert_int_equal(t->kind, SPATE_CQL_TERM_LIST);
    assert_int_equal(t->items.n, 3);
    assert_lit(t->items.v[2], SPATE_CQL_LIT_INTEGER, "3");
    t = term_of("[]");
    assert_int_equal(t->kind, SPATE_CQL_TERM_LIST);
    assert_int_equal(t->items.n, 0);
    t = term_of("{'a', 'b'}");
    assert_int_equal(t->kind, SPATE_CQL_TERM_SET);
    assert_int_equal(t->items.n, 2);
    t = term_of("{}");
    assert_int_equal(t->kind, SPATE_CQL_TERM_SET);
    assert_int_equal(t->items.n, 0);
    t = term_of("{'k1': [1], 'k2': []}");
    assert_int_equal(t->kind, SPATE_CQL_TERM_MAP);
    assert_int_equal(t->map.n, 2);
    assert_int_equal(t->map.vals[0]->kind, SPATE_CQL_TERM_LIST);
    t = term_of("{street: 'Main', \"Zip\": 12345}");
    assert_int_equal(t->kind, SPATE_CQL_TERM_UDT);
    assert_int_equal(t->udt.n, 2);
    assert_string_equal(t->udt.fields[0], "street");
    assert_string_equal(t->udt.fields[1], "Zip");
    t = term_of("(1, 'a', ?)");
    assert_int_equal(t->kind, SPATE_CQL_TERM_TUPLE);
    assert_int_equal(t->items.n, 3);
    assert_bind(t->items.v[2], 0, NULL);
    t = term_of("('a')");
    assert_int_equal(t->kind, SPATE_CQL_TERM_TUPLE);
    t = term_of("toTimestamp(now())");
    assert_int_equal(t->kind, SPATE_CQL_TERM_FUNC);
    assert_string_equal(t->func.name, "totimestamp");
    assert_null(t->func.ks);
    assert_int_equal(t->func.nargs, 1);
    assert_string_equal(t->func.args[0]->func.name, "now");
    assert_int_equal(t->func.args[0]->func.nargs, 0);
    t = term_of("system.uuid()");
    assert_string_equal(t->func.ks, "system");
    t = term_of("(int)?");
    assert_int_equal(t->kind, SPATE_CQL_TERM_HINT);
    assert_false(t->hint.cast);
    assert_int_equal(t->hint.type->id, SPATE_CQL_INT);
    assert_bind(t->hint.term, 0, NULL);
    t = term_of("(set<text>){'a'}");
    assert_int_equal(t->hint.type->id, SPATE_CQL_SET);
    assert_int_equal(t->hint.term->kind, SPATE_CQL_TERM_SET);
    t = term_of("('org.X')'v'");
    assert_int_equal(t->hint.type->id, SPATE_CQL_CUSTOM);
    t = term_of("{(1, 2): {3}}");
    assert_int_equal(t->map.keys[0]->kind, SPATE_CQL_TERM_TUPLE);
    /* The source span of a term. */
    t = term_of("  [1, 2]  ");
    assert_int_equal(t->len, 6);
    assert_int_equal(t->col, 28);

    syntax_err("INSERT INTO t (c) VALUES (-'x')", 1, 27,
               "line 1:27 no viable alternative at input ''x'' (...c) VALUES (-['x']...)");
    syntax_err("INSERT INTO t (c) VALUES ({'a': 1, 'b'})", 1, 38,
               "line 1:38 mismatched input '}' expecting ':' (...'a': 1, 'b'[}]...)");
    syntax_err("INSERT INTO t (c) VALUES (c)", 1, 26,
               "line 1:26 no viable alternative at input 'c' (...(c) VALUES ([c]...)");
}

/* ------------------------------------------------------------------ */
/* Bind markers                                                        */
/* ------------------------------------------------------------------ */

static spate_cql_bind_t *binds_of(const char *sql, uint32_t n) {
    spate_cql_stmt_t *st = parse_ok(sql);
    assert_int_equal(st->nbind, n);
    spate_cql_bind_t *b = NULL;
    assert_int_equal(spate_cql_stmt_binds(A, st, &b), SPATE_OK);
    if (n) assert_non_null(b);
    for (uint32_t i = 0; i < n; i++) assert_non_null(b[i].stmt);
    return b;
}

static void assert_bind_meta(const spate_cql_bind_t *b, spate_cql_bind_role_t role,
                             const char *name, const char *col) {
    assert_int_equal(b->role, role);
    assert_string_equal(b->name, name);
    if (col)
        assert_string_equal(b->col, col);
    else
        assert_null(b->col);
}

static void test_bind_metadata(void **state) {
    (void)state;
    spate_cql_bind_t *b =
        binds_of("INSERT INTO ks.t (a, b, c) VALUES (?, :bee, ?) USING TTL ? AND TIMESTAMP ?", 5);
    assert_bind_meta(&b[0], SPATE_CQL_BIND_COLUMN, "a", "a");
    assert_bind_meta(&b[1], SPATE_CQL_BIND_COLUMN, "bee", "b");
    assert_string_equal(b[1].marker, "bee");
    assert_bind_meta(&b[2], SPATE_CQL_BIND_COLUMN, "c", "c");
    assert_bind_meta(&b[3], SPATE_CQL_BIND_TTL, "[ttl]", NULL);
    assert_bind_meta(&b[4], SPATE_CQL_BIND_TIMESTAMP, "[timestamp]", NULL);
    assert_string_equal(b[0].table->ks, "ks");
    assert_string_equal(b[0].table->name, "t");

    b = binds_of("SELECT * FROM t WHERE k = ? AND c IN ? AND d IN (?, ?) AND token(k) > ? AND "
                 "s CONTAINS ? AND m CONTAINS KEY ? AND m[?] = ? AND (c1, c2) > (?, ?) AND "
                 "(c1, c2) < ? AND (c1, c2) IN ? PER PARTITION LIMIT ? LIMIT ?",
                 15);
    assert_bind_meta(&b[0], SPATE_CQL_BIND_COLUMN, "k", "k");
    assert_bind_meta(&b[1], SPATE_CQL_BIND_IN, "in(c)", "c");
    assert_bind_meta(&b[2], SPATE_CQL_BIND_COLUMN, "d", "d");
    assert_bind_meta(&b[3], SPATE_CQL_BIND_COLUMN, "d", "d");
    assert_bind_meta(&b[4], SPATE_CQL_BIND_TOKEN, "partition key token", NULL);
    assert_int_equal(b[4].ncols, 1);
    assert_bind_meta(&b[5], SPATE_CQL_BIND_VALUE, "value(s)", "s");
    assert_bind_meta(&b[6], SPATE_CQL_BIND_KEY, "key(m)", "m");
    assert_bind_meta(&b[7], SPATE_CQL_BIND_KEY, "key(m)", "m");
    assert_bind_meta(&b[8], SPATE_CQL_BIND_VALUE, "value(m)", "m");
    assert_bind_meta(&b[9], SPATE_CQL_BIND_COLUMN, "c1", "c1");
    assert_bind_meta(&b[10], SPATE_CQL_BIND_COLUMN, "c2", "c2");
    assert_int_equal(b[10].elem, 1);
    assert_bind_meta(&b[11], SPATE_CQL_BIND_TUPLE, "(c1,c2)", NULL);
    assert_bind_meta(&b[12], SPATE_CQL_BIND_TUPLE_IN, "in((c1,c2))", NULL);
    assert_int_equal(b[12].ncols, 2);
    assert_bind_meta(&b[13], SPATE_CQL_BIND_PER_PARTITION_LIMIT, "[per_partition_limit]", NULL);
    assert_bind_meta(&b[14], SPATE_CQL_BIND_LIMIT, "[limit]", NULL);

    b = binds_of("UPDATE t USING TIMESTAMP ? SET a = ?, l[?] = ?, u.f = ?, c = c + ?, "
                 "x = [?, ?], y = {?: ?}, z = (?, ?), w = toTimestamp(?), h = (int)? "
                 "WHERE k = ? IF a = ? AND m[?] IN ?",
                 18);
    assert_bind_meta(&b[0], SPATE_CQL_BIND_TIMESTAMP, "[timestamp]", NULL);
    assert_bind_meta(&b[1], SPATE_CQL_BIND_COLUMN, "a", "a");
    assert_bind_meta(&b[2], SPATE_CQL_BIND_KEY, "key(l)", "l");
    assert_bind_meta(&b[3], SPATE_CQL_BIND_VALUE, "value(l)", "l");
    assert_bind_meta(&b[4], SPATE_CQL_BIND_FIELD, "u.f", "u");
    assert_string_equal(b[4].field, "f");
    assert_bind_meta(&b[5], SPATE_CQL_BIND_COLUMN, "c", "c");
    assert_bind_meta(&b[6], SPATE_CQL_BIND_VALUE, "value(x)", "x");
    assert_bind_meta(&b[7], SPATE_CQL_BIND_VALUE, "value(x)", "x");
    assert_bind_meta(&b[8], SPATE_CQL_BIND_KEY, "key(y)", "y");
    assert_bind_meta(&b[9], SPATE_CQL_BIND_VALUE, "value(y)", "y");
    assert_bind_meta(&b[10], SPATE_CQL_BIND_TUPLE_ELEM, "z", "z");
    assert_int_equal(b[10].elem, 0);
    assert_int_equal(b[11].elem, 1);
    assert_bind_meta(&b[12], SPATE_CQL_BIND_FUNC_ARG, "arg0(system.totimestamp)", NULL);
    assert_string_equal(b[12].func, "totimestamp");
    assert_bind_meta(&b[13], SPATE_CQL_BIND_HINT, "h", "h");
    assert_int_equal(b[13].type->id, SPATE_CQL_INT);
    assert_bind_meta(&b[14], SPATE_CQL_BIND_COLUMN, "k", "k");
    assert_bind_meta(&b[15], SPATE_CQL_BIND_COLUMN, "a", "a");
    assert_bind_meta(&b[16], SPATE_CQL_BIND_KEY, "key(m)", "m");
    assert_bind_meta(&b[17], SPATE_CQL_BIND_IN, "in(value(m))", "m");

    b = binds_of("DELETE m[?] FROM t USING TIMESTAMP :ts WHERE k = ?", 3);
    assert_bind_meta(&b[0], SPATE_CQL_BIND_KEY, "key(m)", "m");
    assert_bind_meta(&b[1], SPATE_CQL_BIND_TIMESTAMP, "ts", NULL);
    assert_bind_meta(&b[2], SPATE_CQL_BIND_COLUMN, "k", "k");

    b = binds_of("INSERT INTO t JSON ?", 1);
    assert_bind_meta(&b[0], SPATE_CQL_BIND_JSON, "[json]", NULL);

    /* A batch: each marker knows its own statement's table. */
    spate_cql_stmt_t *st = parse_ok("BEGIN BATCH INSERT INTO a (x) VALUES (?); "
                                    "UPDATE ks.b SET y = ? WHERE z = ? APPLY BATCH");
    assert_int_equal(spate_cql_stmt_binds(A, st, &b), SPATE_OK);
    assert_string_equal(b[0].table->name, "a");
    assert_ptr_equal(b[0].stmt, st->batch.stmts[0]);
    assert_string_equal(b[1].table->name, "b");
    assert_string_equal(b[2].col, "z");

    st = parse_ok("SELECT * FROM t");
    assert_int_equal(st->nbind, 0);
    b = (spate_cql_bind_t *)1;
    assert_int_equal(spate_cql_stmt_binds(A, st, &b), SPATE_OK);
    assert_null(b);
}

/* ------------------------------------------------------------------ */
/* Scripts                                                             */
/* ------------------------------------------------------------------ */

static void test_parse_next(void **state) {
    (void)state;
    const char *script = "-- setup\n"
                         "CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy'};\n"
                         ";;\n"
                         "USE k; BEGIN BATCH INSERT INTO t (a) VALUES (1); "
                         "INSERT INTO t (a) VALUES (2); APPLY BATCH;\n"
                         "/* last, with no ';' */ SELECT * FROM t\n";
    spate_cql_lexer_t cur;
    spate_cql_lex_init(&cur, script, strlen(script));
    spate_cql_stmt_t *st;
    spate_cql_parse_error_t err;
    assert_int_equal(spate_cql_parse_next(A, &cur, &st, &err), SPATE_OK);
    assert_int_equal(st->kind, SPATE_CQL_STMT_CREATE_KEYSPACE);
    assert_int_equal(st->line, 2);
    assert_int_equal(st->off, 9);
    assert_int_equal(cur.line, 2);
    assert_int_equal(cur.col, 65);
    assert_int_equal(script[cur.off - 1], ';');
    assert_int_equal(spate_cql_parse_next(A, &cur, &st, &err), SPATE_OK);
    assert_int_equal(st->kind, SPATE_CQL_STMT_USE);
    assert_int_equal(st->line, 4);
    assert_int_equal(st->col, 0);
    assert_int_equal(spate_cql_parse_next(A, &cur, &st, &err), SPATE_OK);
    assert_int_equal(st->kind, SPATE_CQL_STMT_BATCH);
    assert_int_equal(st->batch.n, 2);
    assert_int_equal(spate_cql_parse_next(A, &cur, &st, &err), SPATE_OK);
    assert_int_equal(st->kind, SPATE_CQL_STMT_SELECT);
    assert_int_equal(st->line, 5);
    assert_int_equal(st->col, 24);
    assert_int_equal(st->len, strlen("SELECT * FROM t"));
    assert_int_equal(spate_cql_parse_next(A, &cur, &st, &err), SPATE_ENOENT);
    assert_null(st);
    assert_int_equal(spate_cql_parse_next(A, &cur, &st, &err), SPATE_ENOENT);

    /* An error: positions are within the script; the cursor stays put. */
    const char *bad = "USE a;\nSELECT * FROM t WHERE;\nUSE b;";
    spate_cql_lex_init(&cur, bad, strlen(bad));
    assert_int_equal(spate_cql_parse_next(A, &cur, &st, &err), SPATE_OK);
    size_t off = cur.off;
    assert_int_equal(spate_cql_parse_next(A, &cur, &st, &err), SPATE_EINVAL);
    assert_null(st);
    assert_int_equal(cur.off, off);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.col, 21);
    assert_string_equal(
        err.msg, "line 2:21 no viable alternative at input ';' (SELECT * FROM t WHERE[;]...)");

    /* Statements must be separated by ';'. */
    const char *glued = "USE a USE b";
    spate_cql_lex_init(&cur, glued, strlen(glued));
    assert_int_equal(spate_cql_parse_next(A, &cur, &st, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "line 1:6 mismatched input 'USE' expecting ';' (USE a [USE]...)");
}

/* ------------------------------------------------------------------ */
/* Limits and hostile input                                            */
/* ------------------------------------------------------------------ */

static char *repeat(const char *head, const char *unit, size_t n, const char *tail) {
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * n + tl + 1);
    assert_non_null(s);
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++) memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + ul * n, tail, tl + 1);
    return s;
}

static void test_limits(void **state) {
    (void)state;
    spate_cql_stmt_t *st;
    spate_cql_parse_error_t err;

    /* 63 nested lists parse; 200 fail at the 64th '['. */
    char *s = repeat("INSERT INTO t (c) VALUES (", "[", 63, "");
    char *ok = malloc(strlen(s) + 64 + 2);
    strcpy(ok, s);
    for (int i = 0; i < 63; i++) strcat(ok, "]");
    strcat(ok, ")");
    parse_ok(ok);
    free(ok);
    free(s);
    s = repeat("INSERT INTO t (c) VALUES (", "[", 200, "");
    assert_int_equal(spate_cql_parse(A, s, strlen(s), &st, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "line 1:90 maximum nesting depth (64) exceeded");
    free(s);

    s = repeat("CREATE TABLE t (a ", "frozen<list<", 100, "");
    assert_int_equal(spate_cql_parse(A, s, strlen(s), &st, &err), SPATE_EINVAL);
    assert_non_null(strstr(err.msg, "maximum nesting depth (64) exceeded"));
    free(s);
    s = repeat("SELECT * FROM t WHERE ", "(", 10000, "a = 1");
    assert_int_equal(spate_cql_parse(A, s, strlen(s), &st, &err), SPATE_EINVAL);
    assert_non_null(strstr(err.msg, "maximum nesting depth (64) exceeded"));
    free(s);
    s = repeat("SELECT ", "f(", 10000, "");
    assert_int_equal(spate_cql_parse(A, s, strlen(s), &st, &err), SPATE_EINVAL);
    assert_non_null(strstr(err.msg, "maximum nesting depth (64) exceeded"));
    free(s);

    /* 65535 markers are fine, 65536 are not (Invalid, as in Cassandra). */
    s = repeat("SELECT * FROM t WHERE a IN (?", ",?", 65534, ")");
    st = parse_ok(s);
    assert_int_equal(st->nbind, 65535);
    free(s);
    s = repeat("SELECT * FROM t WHERE a IN (?", ",?", 65535, ")");
    assert_int_equal(spate_cql_parse(A, s, strlen(s), &st, &err), SPATE_EINVAL);
    assert_int_equal(err.kind, SPATE_CQL_PARSE_INVALID);
    assert_string_equal(err.msg,
                        "Too many markers(?). 65536 markers exceed the allowed maximum of 65535");
    free(s);

    /* Too many tokens. */
    s = repeat("SELECT * FROM t WHERE a IN (1", ",1", SPATE_CQL_PARSE_MAX_TOKENS / 2, ")");
    assert_int_equal(spate_cql_parse(A, s, strlen(s), &st, &err), SPATE_EINVAL);
    assert_int_equal(err.kind, SPATE_CQL_PARSE_SYNTAX);
    assert_non_null(strstr(err.msg, "statement too long (more than 262144 tokens)"));
    free(s);

    /* A huge string literal is one token; its message quote is cut. */
    s = repeat("SELECT * FROM t WHERE a = 'x", "y", 100000, "' junk");
    assert_int_equal(spate_cql_parse(A, s, strlen(s), &st, &err), SPATE_EINVAL);
    /* The snippet keeps the 160 bytes before the offending token. */
    char want[512];
    char *ys = repeat("", "y", 158, "");
    snprintf(want, sizeof want,
             "line 1:100030 mismatched input 'junk' expecting EOF (...%s' [junk])", ys);
    free(ys);
    assert_string_equal(err.msg, want);
    free(s);

    /* Invalid UTF-8 is never echoed into a message. */
    const char bad[] = "SELECT * FROM t WHERE a = '\xff\xfe' \xc3";
    assert_int_equal(spate_cql_parse(A, bad, strlen(bad), &st, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "line 1:31 no viable alternative at character '\\xc3'");
    const char bad2[] = "SELECT * FROM t WHERE a = '\xff' b";
    assert_int_equal(spate_cql_parse(A, bad2, strlen(bad2), &st, &err), SPATE_EINVAL);
    assert_string_equal(err.msg,
                        "line 1:30 mismatched input 'b' expecting EOF (...t WHERE a = '?' [b])");

    /* Input is read only up to len (no NUL needed). */
    const char unterminated[] = {'U', 'S', 'E', ' ', 'k', 's', 'X'};
    assert_int_equal(spate_cql_parse(A, unterminated, 6, &st, &err), SPATE_OK);
    assert_string_equal(st->use.ks, "ks");
    /* NUL bytes: fine in strings, not in names. */
    const char nul[] = "INSERT INTO t (a) VALUES ('a\0b')";
    assert_int_equal(spate_cql_parse(A, nul, sizeof nul - 1, &st, &err), SPATE_OK);
    assert_int_equal(st->insert.values[0]->lit.len, 3);
    assert_memory_equal(st->insert.values[0]->lit.text, "a\0b", 3);
    const char nulname[] = "USE \"a\0b\"";
    assert_int_equal(spate_cql_parse(A, nulname, sizeof nulname - 1, &st, &err), SPATE_EINVAL);
    assert_string_equal(err.msg, "line 1:4 invalid character NUL in quoted name");
}

static void test_arena(void **state) {
    (void)state;
    spate_cql_arena_t *a = spate_cql_arena_new();
    assert_non_null(a);
    assert_int_equal(spate_cql_arena_used(a), 0);
    char *big = spate_cql_arena_alloc(a, 100000);
    char *small = spate_cql_arena_alloc(a, 3);
    assert_non_null(big);
    assert_non_null(small);
    assert_int_equal(((uintptr_t)small) % 16, 0);
    big[99999] = 'x';
    assert_int_equal(small[0], 0);
    char *d = spate_cql_arena_strndup(a, "hello", 4);
    assert_string_equal(d, "hell");
    assert_true(spate_cql_arena_used(a) >= 100000 + 16 + 16);
    spate_cql_arena_free(a);
    spate_cql_arena_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lex_literals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lex_punct_and_comments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lex_strings_and_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lex_positions_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lex_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_ddl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_driver_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyspace_ddl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserved_words, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alter_drop_truncate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsupported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_select, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_metadata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_next, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arena, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
