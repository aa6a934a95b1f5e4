/*
 * cql_shell.c — what `spate cqlsh` does, on spate's CQL client.
 *
 * Statements come from -e, from a script on stdin, or interactively
 * (libedit: line editing and a history file). A statement ends at a ';'
 * outside quotes, $$ strings and comments, a BEGIN BATCH at the ";" after
 * APPLY BATCH (cql_shell_split); each is sent
 * as a QUERY and its answer printed as cqlsh prints it:
 *
 *    id | name          headers left-justified, values right-justified,
 *   ----+------         the rule of '-' and '+' under them,
 *     1 |  foo
 *                       then "(N rows)"
 *   (1 rows)
 *
 * It uses only the public client API (cql.h). Values are rendered by
 * spate_cql_answer_cell_text (cqlsh's formats); null prints as "null".
 * Every page of a result is fetched (page size 5000). Errors go to stderr
 * as "<stdin>:LINE:InvalidRequest (0x2200): ..."; the exit status is 2
 * when any statement failed (as cqlsh -e), 0 otherwise. A connection lost
 * between statements is made again by the next one (the client does it).
 */
#include "cql_shell.h"

#include <editline/readline.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SHELL_PAGE 5000

/* Where the first statement ending in text[0..len) ends (just past its
 * ';'), or 0 when text holds no complete statement. Quotes ('..' with ''
 * escapes, ".." identifiers), $$..$$ strings and comments (--, //, / * * /)
 * hide ';'. */
static bool word_is(const char *w, size_t n, const char *kw) {
    return n == strlen(kw) && strncasecmp(w, kw, n) == 0;
}

static bool word_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

size_t cql_shell_split(const char *text, size_t len) {
    /* A BEGIN BATCH ... APPLY BATCH; holds ';' after each statement: it
     * ends at the ';' that follows APPLY BATCH (words outside quotes and
     * comments; the last two are remembered). */
    bool batch = false, first = true;
    const char *w1 = NULL, *w2 = NULL; /* the last two words, w2 the newer */
    size_t n1 = 0, n2 = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (word_char(ch)) {
            size_t j = i;
            while (j < len && word_char(text[j])) j++;
            if (first) batch = word_is(text + i, j - i, "begin");
            first = false;
            w1 = w2, n1 = n2;
            w2 = text + i, n2 = j - i;
            i = j - 1;
            continue;
        }
        if (ch == ';') {
            if (!batch || (w1 && word_is(w1, n1, "apply") && word_is(w2, n2, "batch")))
                return i + 1;
            continue;
        }
        if (ch == '\'' || ch == '"') {
            for (i++; i < len; i++)
                if (text[i] == ch) {
                    if (i + 1 < len && text[i + 1] == ch)
                        i++; /* '' or "": an escaped quote */
                    else
                        break;
                }
        } else if (ch == '$' && i + 1 < len && text[i + 1] == '$') {
            for (i += 2; i + 1 < len && !(text[i] == '$' && text[i + 1] == '$'); i++) {
            }
            i++;
        } else if ((ch == '-' || ch == '/') && i + 1 < len && text[i + 1] == ch) {
            while (i < len && text[i] != '\n') i++;
        } else if (ch == '/' && i + 1 < len && text[i + 1] == '*') {
            for (i += 2; i + 1 < len && !(text[i] == '*' && text[i + 1] == '/'); i++) {
            }
            i++;
        }
    }
    return 0;
}

/* True when s holds nothing but blanks and comments. */
static bool blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == ';') continue;
        if ((s[i] == '-' || s[i] == '/') && i + 1 < n && s[i + 1] == s[i]) {
            while (i < n && s[i] != '\n') i++;
            continue;
        }
        if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
            for (i += 2; i + 1 < n && !(s[i] == '*' && s[i + 1] == '/'); i++) {
            }
            i++;
            continue;
        }
        return false;
    }
    return true;
}

/* ---- printing a result ---- */

typedef struct {
    int ncols;
    char **names;
    spate_buf_t *cells; /* rows x ncols rendered values */
    size_t nrows, cap;
} table_t;

static void table_free(table_t *t) {
    for (int i = 0; i < t->ncols; i++) free(t->names[i]);
    free(t->names);
    for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++) spate_buf_free(&t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

/* Display width: UTF-8 code points (good enough for a terminal table). */
static size_t width(const char *s, size_t n) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) w++;
    return w;
}

static void pad(FILE *f, size_t n) {
    for (size_t i = 0; i < n; i++) fputc(' ', f);
}

static void table_print(FILE *f, const table_t *t) {
    size_t *w = spate_xcalloc((size_t)t->ncols, sizeof *w);
    for (int c = 0; c < t->ncols; c++) {
        w[c] = width(t->names[c], strlen(t->names[c]));
        for (size_t r = 0; r < t->nrows; r++) {
            const spate_buf_t *b = &t->cells[r * (size_t)t->ncols + (size_t)c];
            w[c] = SPATE_MAX(w[c], width(b->data ? b->data : "", b->len));
        }
    }
    fputc('\n', f);
    for (int c = 0; c < t->ncols; c++) {
        fprintf(f, "%s%s", c ? " | " : " ", t->names[c]);
        pad(f, w[c] - width(t->names[c], strlen(t->names[c])));
    }
    fputc('\n', f);
    for (int c = 0; c < t->ncols; c++) {
        if (c) fputc('+', f);
        for (size_t i = 0; i < w[c] + 2; i++) fputc('-', f);
    }
    fputc('\n', f);
    for (size_t r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            const spate_buf_t *b = &t->cells[r * (size_t)t->ncols + (size_t)c];
            const char *s = b->data ? b->data : "";
            fputs(c ? " | " : " ", f);
            pad(f, w[c] - width(s, b->len));
            fwrite(s, 1, b->len, f);
        }
        fputc('\n', f);
    }
    fprintf(f, "\n(%zu rows)\n", t->nrows);
    free(w);
}

/* Adds the rows of one Rows answer to t. */
static void table_add(table_t *t, const spate_cql_answer_t *a) {
    if (!t->names) {
        t->ncols = spate_cql_answer_columns(a);
        t->names = spate_xcalloc((size_t)SPATE_MAX(t->ncols, 1), sizeof *t->names);
        for (int c = 0; c < t->ncols; c++) {
            size_t n;
            const char *name = spate_cql_answer_column_name(a, c, &n);
            t->names[c] = spate_xmalloc(n + 1);
            memcpy(t->names[c], name, n);
            t->names[c][n] = '\0';
        }
    }
    int32_t rows = spate_cql_answer_rows(a);
    size_t need = (t->nrows + (size_t)rows) * (size_t)t->ncols;
    if (need > t->cap) {
        size_t cap = SPATE_MAX(need, t->cap * 2);
        t->cells = spate_xrealloc(t->cells, cap * sizeof *t->cells);
        memset(t->cells + t->cap, 0, (cap - t->cap) * sizeof *t->cells);
        t->cap = cap;
    }
    for (int32_t r = 0; r < rows; r++, t->nrows++)
        for (int c = 0; c < t->ncols; c++) {
            spate_buf_t *b = &t->cells[t->nrows * (size_t)t->ncols + (size_t)c];
            if (spate_cql_answer_cell_text(a, r, c, b) != SPATE_OK) {
                spate_buf_reset(b);
                spate_buf_puts(b, "<malformed value>");
            }
        }
}

/* ---- running statements ---- */

typedef struct {
    spate_cql_client_t *client;
    const char *where; /* "<stdin>", "-e" */
    FILE *out, *err;
    int failures;
} shell_t;

static void run_one(shell_t *sh, const char *stmt, int line) {
    spate_cql_query_t *q = spate_cql_query_new(stmt);
    spate_cql_query_set_page_size(q, SHELL_PAGE);
    table_t t = {0};
    for (;;) {
        spate_cql_answer_t *a = NULL;
        if (spate_cql_client_execute(sh->client, q, &a) != SPATE_OK) {
            fprintf(sh->err, "%s:%d:%s\n", sh->where, line, spate_cql_client_error(sh->client));
            sh->failures++;
            spate_cql_answer_free(a);
            break;
        }
        if (spate_cql_answer_kind(a) != SPATE_CQL_ANSWER_ROWS) {
            spate_cql_answer_free(a);
            break;
        }
        table_add(&t, a);
        bool more = spate_cql_query_next_page(q, a);
        spate_cql_answer_free(a);
        if (!more) {
            table_print(sh->out, &t);
            break;
        }
    }
    table_free(&t);
    spate_cql_query_free(q);
}

/* Runs every complete statement in text; returns how many bytes were
 * used (a trailing incomplete statement is left). */
static size_t run_text(shell_t *sh, const char *text, size_t len, int *line, bool final) {
    size_t used = 0;
    for (;;) {
        size_t n = cql_shell_split(text + used, len - used);
        if (n == 0 && final && !blank(text + used, len - used)) n = len - used;
        if (n == 0) break;
        int at = *line;
        for (size_t i = 0; i < n; i++)
            if (text[used + i] == '\n') (*line)++;
        /* the statement starts after any blank lines: report that line */
        size_t k = 0;
        while (k < n && (text[used + k] == '\n' || text[used + k] == ' ')) {
            if (text[used + k] == '\n') at++;
            k++;
        }
        if (!blank(text + used, n)) {
            char *stmt = spate_xmalloc(n + 1);
            memcpy(stmt, text + used, n);
            stmt[n] = '\0';
            run_one(sh, stmt, at);
            free(stmt);
        }
        used += n;
    }
    return used;
}

static void interactive(shell_t *sh) {
    char hist[1024] = "";
    const char *home = getenv("HOME");
    if (home) snprintf(hist, sizeof hist, "%s/.spate_cqlsh_history", home);
    using_history();
    if (hist[0]) read_history(hist);
    spate_buf_t pending = SPATE_BUF_INIT;
    int line = 1;
    for (;;) {
        char *l = readline(pending.len ? "   ... " : "cqlsh> ");
        if (!l) break;
        if (!pending.len && (strcmp(l, "exit") == 0 || strcmp(l, "quit") == 0 ||
                             strcmp(l, "exit;") == 0 || strcmp(l, "quit;") == 0)) {
            free(l);
            break;
        }
        if (l[0]) add_history(l);
        spate_buf_puts(&pending, l);
        spate_buf_putc(&pending, '\n');
        free(l);
        size_t used = run_text(sh, pending.data, pending.len, &line, false);
        if (used) {
            memmove(pending.data, pending.data + used, pending.len - used);
            pending.len -= used;
            if (blank(pending.data, pending.len)) pending.len = 0;
        }
    }
    if (hist[0]) write_history(hist);
    spate_buf_free(&pending);
    fputc('\n', sh->out);
}

int spate_cql_shell_run(const spate_cql_shell_opts_t *o) {
    spate_cql_client_conf_t conf;
    spate_cql_client_conf_default(&conf);
    conf.contact_points = o->host;
    conf.keyspace = o->keyspace;
    conf.username = o->username;
    conf.password = o->password;
    if (o->connect_timeout_ms > 0) conf.connect_timeout_ms = o->connect_timeout_ms;
    if (o->request_timeout_ms > 0) conf.request_timeout_ms = o->request_timeout_ms;
    char err[512];
    shell_t sh = {.out = stdout, .err = stderr};
    if (spate_cql_client_connect(&sh.client, &conf, err, sizeof err) != SPATE_OK) {
        fprintf(stderr, "Connection error: %s\n", err);
        return 1;
    }
    int line = 1;
    if (o->execute) {
        sh.where = "-e";
        run_text(&sh, o->execute, strlen(o->execute), &line, true);
    } else if (isatty(STDIN_FILENO) && !o->no_tty) {
        sh.where = "<stdin>";
        printf("Connected to %s (protocol v%d).\nUse exit or Ctrl-D to leave.\n",
               spate_cql_client_peer(sh.client), spate_cql_client_version(sh.client));
        interactive(&sh);
    } else {
        sh.where = "<stdin>";
        spate_buf_t text = SPATE_BUF_INIT;
        char chunk[65536];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) spate_buf_append(&text, chunk, n);
        run_text(&sh, text.data ? text.data : "", text.len, &line, true);
        spate_buf_free(&text);
    }
    fflush(stdout);
    spate_cql_client_free(sh.client);
    return sh.failures ? 2 : 0;
}
