/*
 * cql_lex.c — the CQL 3.x lexer: text → tokens with line:col positions.
 *
 * Token shapes (Cassandra's Lexer.g, case-insensitive unless noted):
 *
 *   IDENT     [A-Za-z][A-Za-z0-9_]*         keywords are IDENTs; the parser
 *                                           compares them (reserved or not)
 *   QIDENT    "..." with "" for a quote     non-empty; no NUL byte
 *   STRING    '...' with '' for a quote, or $$...$$ (verbatim, may span lines)
 *   INTEGER   [0-9]+                        the sign is a MINUS token; the
 *                                           parser glues "-" + number
 *   FLOAT     [0-9]+ ('.' [0-9]*)? ([eE][+-]?[0-9]+)?  with a '.' or an
 *             exponent; the words NaN and Infinity
 *   BOOLEAN   true | false
 *   UUID      8-4-4-4-12 hex digits         wins over numbers and names
 *   HEX       0x[0-9a-fA-F]*                a blob
 *   DURATION  ([0-9]+ unit)+ with units y mo w d h m s ms us µs ns, or the
 *             ISO 8601 forms P1Y2M3DT4H5M6S, P2W, P0001-02-03T04:05:06
 *             (ISO letters upper case, as in Cassandra)
 *   punctuation ( ) [ ] { } , ; . * : ? = != < <= > >= + - += -= / %
 *
 * Blanks are space, tab, CR, LF (and FF, VT); comments are "-- ..." and
 * "// ..." to the end of the line, and "/" "* ... *" "/" (not nested).
 *
 * Positions: line counts '\n' from 1; col counts characters (UTF-8 code
 * points: every byte that is not a continuation byte) from 0 within the
 * line, as ANTLR does in Cassandra's messages. They are kept up to date
 * byte by byte, so a megabyte on one line costs no rescans.
 *
 * Errors are sticky: the first TOK_ERROR fills lx->err with a message in
 * Cassandra's lexer style ("line 1:7 no viable alternative at character
 * '&'", "line 1:20 mismatched character '<EOF>' expecting '''") and every
 * later call returns TOK_ERROR again.
 */
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "cql_parse.h"

void spate_cql_lex_init(spate_cql_lexer_t *lx, const char *src, size_t len) {
    memset(lx, 0, sizeof *lx);
    lx->src = src;
    lx->len = len;
    lx->line = 1;
}

/* Moves over n bytes, keeping line and col. */
static void adv(spate_cql_lexer_t *lx, size_t n) {
    for (size_t i = 0; i < n && lx->off < lx->len; i++) {
        unsigned char c = (unsigned char)lx->src[lx->off++];
        if (c == '\n') {
            lx->line++;
            lx->col = 0;
        } else if ((c & 0xC0) != 0x80) {
            lx->col++;
        }
    }
}

static int at(const spate_cql_lexer_t *lx, size_t k) {
    size_t i = lx->off + k;
    return i < lx->len ? (unsigned char)lx->src[i] : -1;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_letter(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_hex(int c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static bool is_ident_char(int c) { return is_letter(c) || is_digit(c) || c == '_'; }
static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static void lex_fail(spate_cql_lexer_t *lx, const char *fmt, ...) SPATE_PRINTF(2, 3);
static void lex_fail(spate_cql_lexer_t *lx, const char *fmt, ...) {
    lx->failed = true;
    lx->err.kind = SPATE_CQL_PARSE_SYNTAX;
    lx->err.line = lx->line;
    lx->err.col = lx->col;
    lx->err.off = lx->off;
    int n = snprintf(lx->err.msg, sizeof lx->err.msg, "line %u:%u ", lx->line, lx->col);
    if (n < 0 || (size_t)n >= sizeof lx->err.msg) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lx->err.msg + n, sizeof lx->err.msg - (size_t)n, fmt, ap);
    va_end(ap);
}

/* Skips blanks and comments; false after an unterminated block comment. */
static bool skip_blanks(spate_cql_lexer_t *lx) {
    for (;;) {
        int c = at(lx, 0);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            adv(lx, 1);
        } else if ((c == '-' && at(lx, 1) == '-') || (c == '/' && at(lx, 1) == '/')) {
            while (lx->off < lx->len && lx->src[lx->off] != '\n') adv(lx, 1);
        } else if (c == '/' && at(lx, 1) == '*') {
            adv(lx, 2);
            for (;;) {
                if (lx->off >= lx->len) {
                    lex_fail(lx, "mismatched character '<EOF>' expecting '*'");
                    return false;
                }
                if (at(lx, 0) == '*' && at(lx, 1) == '/') {
                    adv(lx, 2);
                    break;
                }
                adv(lx, 1);
            }
        } else {
            return true;
        }
    }
}

/* Length of a UUID at the cursor, or 0. */
static size_t match_uuid(const spate_cql_lexer_t *lx) {
    for (size_t i = 0; i < 36; i++) {
        int c = at(lx, i);
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return 0;
        } else if (!is_hex(c)) {
            return 0;
        }
    }
    return 36;
}

/* Length of a duration unit at offset k (longest first), or 0. */
static size_t match_unit(const spate_cql_lexer_t *lx, size_t k) {
    int a = lower(at(lx, k)), b = lower(at(lx, k + 1));
    if (a == 'm' && (b == 'o' || b == 's')) return 2;
    if ((a == 'u' || a == 'n') && b == 's') return 2;
    if (a == 0xC2 && at(lx, k + 1) == 0xB5 && lower(at(lx, k + 2)) == 's') return 3; /* µs */
    if (a == 'y' || a == 'w' || a == 'd' || a == 'h' || a == 'm' || a == 's') return 1;
    return 0;
}

/* Length of a "1h30m"-style duration starting with the digits at the
 * cursor, or 0. It ends after its last complete unit. */
static size_t match_unit_duration(const spate_cql_lexer_t *lx) {
    size_t k = 0, end = 0;
    for (;;) {
        size_t d = k;
        while (is_digit(at(lx, d))) d++;
        if (d == k) break;
        size_t u = match_unit(lx, d);
        if (u == 0) break;
        k = end = d + u;
    }
    return end;
}

/* Digits at offset *k: advances *k and returns how many. */
static size_t digits(const spate_cql_lexer_t *lx, size_t *k) {
    size_t n = 0;
    while (is_digit(at(lx, *k))) (*k)++, n++;
    return n;
}

/* ISO designators at offset *k: digits then one of `units`, each unit
 * after the previous one; advances *k past them and returns how many. */
static size_t iso_designators(const spate_cql_lexer_t *lx, size_t *k, const char *units) {
    size_t parts = 0, next = 0;
    while (units[next]) {
        size_t s = *k;
        if (!digits(lx, &s)) break;
        int c = at(lx, s);
        const char *u = c > 0 ? strchr(units + next, c) : NULL;
        if (!u) break;
        next = (size_t)(u - units) + 1;
        *k = s + 1;
        parts++;
    }
    return parts;
}

/* Length of an ISO 8601 duration at the cursor ('P' ...), or 0. The
 * designators must come in order (Y M D, then T H M S), or be a lone W. */
static size_t match_iso_duration(const spate_cql_lexer_t *lx) {
    if (at(lx, 0) != 'P') return 0;
    size_t k = 1;
    /* Alternative format P0001-02-03T04:05:06 */
    {
        static const char pat[] = "dddd-dd-ddTdd:dd:dd";
        size_t i = 0;
        for (; pat[i]; i++) {
            int c = at(lx, 1 + i);
            if (pat[i] == 'd' ? !is_digit(c) : c != pat[i]) break;
        }
        if (!pat[i]) return 1 + i;
    }
    size_t save = k;
    if (digits(lx, &k) && at(lx, k) == 'W') return k + 1;
    k = save;
    size_t parts = iso_designators(lx, &k, "YMD");
    if (at(lx, k) == 'T') {
        size_t t = k + 1, tparts = iso_designators(lx, &t, "HMS");
        if (tparts) {
            k = t;
            parts += tparts;
        }
    }
    return parts ? k : 0;
}

static spate_cql_tok_kind_t emit(spate_cql_lexer_t *lx, spate_cql_tok_t *tok,
                                 spate_cql_tok_kind_t kind, size_t n) {
    tok->kind = kind;
    tok->len = n;
    adv(lx, n);
    return kind;
}

static bool word_is(const spate_cql_lexer_t *lx, size_t n, const char *w) {
    return strlen(w) == n && strncasecmp(lx->src + lx->off, w, n) == 0;
}

/* Quoted text ('...', "..."): the length including both quotes, doubled
 * quotes skipped, or 0 if unterminated (the cursor is then moved to the
 * end for the error position). */
static size_t match_quoted(spate_cql_lexer_t *lx, int q) {
    size_t k = 1;
    for (;;) {
        int c = at(lx, k);
        if (c < 0) return 0;
        if (c == q) {
            if (at(lx, k + 1) == q) {
                k += 2;
                continue;
            }
            return k + 1;
        }
        k++;
    }
}

spate_cql_tok_kind_t spate_cql_lex_next(spate_cql_lexer_t *lx, spate_cql_tok_t *tok) {
    memset(tok, 0, sizeof *tok);
    if (lx->failed || !skip_blanks(lx)) goto error;
    tok->off = lx->off;
    tok->line = lx->line;
    tok->col = lx->col;
    int c = at(lx, 0);
    if (c < 0) return tok->kind = SPATE_CQL_TOK_EOF;

    size_t n = match_uuid(lx);
    if (n) return emit(lx, tok, SPATE_CQL_TOK_UUID, n);

    if (is_letter(c)) {
        n = match_iso_duration(lx);
        if (n && !is_ident_char(at(lx, n))) return emit(lx, tok, SPATE_CQL_TOK_DURATION, n);
        n = 1;
        while (is_ident_char(at(lx, n))) n++;
        if (word_is(lx, n, "true") || word_is(lx, n, "false"))
            return emit(lx, tok, SPATE_CQL_TOK_BOOLEAN, n);
        if (word_is(lx, n, "nan") || word_is(lx, n, "infinity"))
            return emit(lx, tok, SPATE_CQL_TOK_FLOAT, n);
        return emit(lx, tok, SPATE_CQL_TOK_IDENT, n);
    }

    if (is_digit(c)) {
        if (c == '0' && (at(lx, 1) == 'x' || at(lx, 1) == 'X')) {
            n = 2;
            while (is_hex(at(lx, n))) n++;
            return emit(lx, tok, SPATE_CQL_TOK_HEX, n);
        }
        size_t d = match_unit_duration(lx);
        if (d) return emit(lx, tok, SPATE_CQL_TOK_DURATION, d);
        n = 0;
        digits(lx, &n);
        bool is_float = false;
        if (at(lx, n) == '.' && at(lx, n + 1) != '.') {
            n++;
            digits(lx, &n);
            is_float = true;
        }
        if (at(lx, n) == 'e' || at(lx, n) == 'E') {
            size_t e = n + 1;
            if (at(lx, e) == '+' || at(lx, e) == '-') e++;
            if (digits(lx, &e)) {
                n = e;
                is_float = true;
            }
        }
        return emit(lx, tok, is_float ? SPATE_CQL_TOK_FLOAT : SPATE_CQL_TOK_INTEGER, n);
    }

    switch (c) {
    case '\'':
        n = match_quoted(lx, '\'');
        if (!n) {
            adv(lx, lx->len - lx->off);
            lex_fail(lx, "mismatched character '<EOF>' expecting '''");
            goto error;
        }
        return emit(lx, tok, SPATE_CQL_TOK_STRING, n);
    case '"':
        n = match_quoted(lx, '"');
        if (!n) {
            adv(lx, lx->len - lx->off);
            lex_fail(lx, "mismatched character '<EOF>' expecting '\"'");
            goto error;
        }
        if (n == 2) {
            lex_fail(lx, "no viable alternative at input '\"\"' (empty quoted name)");
            goto error;
        }
        if (memchr(lx->src + lx->off, '\0', n)) {
            lex_fail(lx, "invalid character NUL in quoted name");
            goto error;
        }
        return emit(lx, tok, SPATE_CQL_TOK_QIDENT, n);
    case '$':
        if (at(lx, 1) == '$') {
            size_t k = 2;
            for (;;) {
                if (at(lx, k) < 0) {
                    adv(lx, lx->len - lx->off);
                    lex_fail(lx, "mismatched character '<EOF>' expecting '$'");
                    goto error;
                }
                if (at(lx, k) == '$' && at(lx, k + 1) == '$') break;
                k++;
            }
            return emit(lx, tok, SPATE_CQL_TOK_STRING, k + 2);
        }
        break;
    case '(': return emit(lx, tok, SPATE_CQL_TOK_LPAREN, 1);
    case ')': return emit(lx, tok, SPATE_CQL_TOK_RPAREN, 1);
    case '[': return emit(lx, tok, SPATE_CQL_TOK_LBRACKET, 1);
    case ']': return emit(lx, tok, SPATE_CQL_TOK_RBRACKET, 1);
    case '{': return emit(lx, tok, SPATE_CQL_TOK_LBRACE, 1);
    case '}': return emit(lx, tok, SPATE_CQL_TOK_RBRACE, 1);
    case ',': return emit(lx, tok, SPATE_CQL_TOK_COMMA, 1);
    case ';': return emit(lx, tok, SPATE_CQL_TOK_SEMI, 1);
    case '.': return emit(lx, tok, SPATE_CQL_TOK_DOT, 1);
    case '*': return emit(lx, tok, SPATE_CQL_TOK_STAR, 1);
    case ':': return emit(lx, tok, SPATE_CQL_TOK_COLON, 1);
    case '?': return emit(lx, tok, SPATE_CQL_TOK_QMARK, 1);
    case '=': return emit(lx, tok, SPATE_CQL_TOK_EQ, 1);
    case '/': return emit(lx, tok, SPATE_CQL_TOK_SLASH, 1);
    case '%': return emit(lx, tok, SPATE_CQL_TOK_PERCENT, 1);
    case '!':
        if (at(lx, 1) == '=') return emit(lx, tok, SPATE_CQL_TOK_NE, 2);
        break;
    case '<':
        if (at(lx, 1) == '=') return emit(lx, tok, SPATE_CQL_TOK_LE, 2);
        return emit(lx, tok, SPATE_CQL_TOK_LT, 1);
    case '>':
        if (at(lx, 1) == '=') return emit(lx, tok, SPATE_CQL_TOK_GE, 2);
        return emit(lx, tok, SPATE_CQL_TOK_GT, 1);
    case '+':
        if (at(lx, 1) == '=') return emit(lx, tok, SPATE_CQL_TOK_PLUS_EQ, 2);
        return emit(lx, tok, SPATE_CQL_TOK_PLUS, 1);
    case '-':
        if (at(lx, 1) == '=') return emit(lx, tok, SPATE_CQL_TOK_MINUS_EQ, 2);
        return emit(lx, tok, SPATE_CQL_TOK_MINUS, 1);
    default: break;
    }

    /* No token starts here. Show the whole (UTF-8) character, or its
     * byte value when it is a control byte or not valid UTF-8. */
    {
        size_t clen =
            spate_cql_utf8_len((const unsigned char *)lx->src + lx->off, lx->len - lx->off);
        if (c < 0x20 || c == 0x7F || clen == 0)
            lex_fail(lx, "no viable alternative at character '\\x%02x'", (unsigned)c);
        else
            lex_fail(lx, "no viable alternative at character '%.*s'", (int)clen, lx->src + lx->off);
    }
error:
    tok->kind = SPATE_CQL_TOK_ERROR;
    tok->off = lx->err.off;
    tok->line = lx->err.line;
    tok->col = lx->err.col;
    tok->len = 0;
    return SPATE_CQL_TOK_ERROR;
}

size_t spate_cql_utf8_len(const unsigned char *s, size_t n) {
    if (n == 0) return 0;
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t k;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        k = 2;
    else if (c == 0xE0)
        k = 3, lo = 0xA0;
    else if (c == 0xED)
        k = 3, hi = 0x9F; /* no surrogates */
    else if (c >= 0xE1 && c <= 0xEF)
        k = 3;
    else if (c == 0xF0)
        k = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3)
        k = 4;
    else if (c == 0xF4)
        k = 4, hi = 0x8F;
    else
        return 0;
    if (n < k || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < k; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return k;
}

size_t spate_cql_tok_decode(const char *src, const spate_cql_tok_t *tok, char *out) {
    const char *s = src + tok->off;
    size_t n = tok->len;
    if ((tok->kind == SPATE_CQL_TOK_STRING || tok->kind == SPATE_CQL_TOK_QIDENT) && n >= 2) {
        if (s[0] == '$') { /* $$text$$ */
            memcpy(out, s + 2, n - 4);
            return n - 4;
        }
        char q = s[0];
        size_t o = 0;
        for (size_t i = 1; i + 1 < n; i++) {
            out[o++] = s[i];
            if (s[i] == q) i++; /* the second quote of a doubled pair */
        }
        return o;
    }
    memcpy(out, s, n);
    return n;
}

const char *spate_cql_tok_kind_name(spate_cql_tok_kind_t k) {
    switch (k) {
    case SPATE_CQL_TOK_EOF: return "EOF";
    case SPATE_CQL_TOK_ERROR: return "<error>";
    case SPATE_CQL_TOK_IDENT: return "IDENT";
    case SPATE_CQL_TOK_QIDENT: return "QUOTED_NAME";
    case SPATE_CQL_TOK_STRING: return "STRING_LITERAL";
    case SPATE_CQL_TOK_INTEGER: return "INTEGER";
    case SPATE_CQL_TOK_FLOAT: return "FLOAT";
    case SPATE_CQL_TOK_BOOLEAN: return "BOOLEAN";
    case SPATE_CQL_TOK_UUID: return "UUID";
    case SPATE_CQL_TOK_HEX: return "HEXNUMBER";
    case SPATE_CQL_TOK_DURATION: return "DURATION";
    case SPATE_CQL_TOK_QMARK: return "QMARK";
    case SPATE_CQL_TOK_LPAREN: return "'('";
    case SPATE_CQL_TOK_RPAREN: return "')'";
    case SPATE_CQL_TOK_LBRACKET: return "'['";
    case SPATE_CQL_TOK_RBRACKET: return "']'";
    case SPATE_CQL_TOK_LBRACE: return "'{'";
    case SPATE_CQL_TOK_RBRACE: return "'}'";
    case SPATE_CQL_TOK_COMMA: return "','";
    case SPATE_CQL_TOK_SEMI: return "';'";
    case SPATE_CQL_TOK_DOT: return "'.'";
    case SPATE_CQL_TOK_STAR: return "'*'";
    case SPATE_CQL_TOK_COLON: return "':'";
    case SPATE_CQL_TOK_EQ: return "'='";
    case SPATE_CQL_TOK_NE: return "'!='";
    case SPATE_CQL_TOK_LT: return "'<'";
    case SPATE_CQL_TOK_LE: return "'<='";
    case SPATE_CQL_TOK_GT: return "'>'";
    case SPATE_CQL_TOK_GE: return "'>='";
    case SPATE_CQL_TOK_PLUS: return "'+'";
    case SPATE_CQL_TOK_MINUS: return "'-'";
    case SPATE_CQL_TOK_PLUS_EQ: return "'+='";
    case SPATE_CQL_TOK_MINUS_EQ: return "'-='";
    case SPATE_CQL_TOK_SLASH: return "'/'";
    case SPATE_CQL_TOK_PERCENT: return "'%'";
    }
    return "?";
}
