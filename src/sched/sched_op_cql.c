/*
 * sched_op_cql.c — the `cql` operator: statements against Cassandra,
 * ScyllaDB or spate cql with spate's CQL client (cql.h).
 *
 *   key             default    meaning
 *   cql             required   statements separated by ';' (rendered)
 *   contact_points  env cql    "host[:port][,host[:port]...]" (rendered)
 *   keyspace        none       USE'd before the first statement
 *
 * Splitting: a ';' ends a statement unless it is inside a '...' string
 * ('' is a quote inside it), a "..." identifier, a $$...$$ block, or a
 * comment (-- or // to the end of the line, / * ... * / ). A span is
 * the statement's code without the blanks and comments around it;
 * statements with no code are skipped. spate_sched_op_cql_split is pure and bounded
 * by its input, for tests.
 *
 * The statements run one after another; the first ERROR answer fails
 * the task (the earlier statements stay applied: CQL has no
 * transactions). ROWS answers log their first CQL_SHOW_ROWS rows.
 */
#include "sched_op_int.h"

#include "cql.h"

#include <stdlib.h>
#include <string.h>

#define CQL_SHOW_ROWS 20

static const char *const cql_keys[] = {"cql", "contact_points", "keyspace", NULL};

size_t spate_sched_op_cql_split(const char *s, size_t len, spate_sched_op_span_t *out, size_t max) {
    /* [first, last) spans the statement's code: comments and blanks
     * before and after it are left out; first == SIZE_MAX = no code yet. */
    size_t n = 0, first = SIZE_MAX, last = 0, i = 0;
    for (;;) {
        if (i >= len || s[i] == ';') {
            if (first != SIZE_MAX) {
                if (n < max) out[n] = (spate_sched_op_span_t){first, last - first};
                n++;
            }
            if (i >= len) break;
            first = SIZE_MAX;
            i++;
            continue;
        }
        char c = s[i];
        size_t from = i;
        if ((c == '-' || c == '/') && i + 1 < len && s[i + 1] == c) {
            while (i < len && s[i] != '\n') i++;
            continue; /* a comment is not code */
        }
        if (c == '/' && i + 1 < len && s[i + 1] == '*') {
            i += 2;
            while (i + 1 < len && !(s[i] == '*' && s[i + 1] == '/')) i++;
            i = i + 1 < len ? i + 2 : len;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            i++;
            continue;
        }
        if (c == '\'' || c == '"') {
            /* A doubled quote inside is an escaped quote: the scan simply
             * leaves and re-enters the string. */
            i++;
            while (i < len && s[i] != c) i++;
            if (i < len) i++;
        } else if (c == '$' && i + 1 < len && s[i + 1] == '$') {
            i += 2;
            while (i + 1 < len && !(s[i] == '$' && s[i + 1] == '$')) i++;
            i = i + 1 < len ? i + 2 : len;
        } else {
            i++;
        }
        if (first == SIZE_MAX) first = from;
        last = i;
    }
    return n;
}

static void cql_check(const spate_conf_t *c, const spate_conf_node_t *task,
                      spate_stream_diag_t *d) {
    spate_sched_op_check_scalar(c, task, "cql", true, d);
    spate_sched_op_check_scalar(c, task, "contact_points", false, d);
    spate_sched_op_check_scalar(c, task, "keyspace", false, d);
    const spate_conf_node_t *q = spate_conf_get(task, "cql");
    if (q && q->kind == SPATE_CONF_SCALAR && q->value &&
        spate_sched_op_cql_split(q->value, strlen(q->value), NULL, 0) == 0) {
        spate_stream_diag_at(d, c, q, "no statement in it");
    }
}

static void log_rows(const spate_cql_answer_t *a) {
    int32_t nr = spate_cql_answer_rows(a);
    int nc = spate_cql_answer_columns(a);
    spate_buf_t b = SPATE_BUF_INIT;
    for (int32_t r = 0; r < nr && r < CQL_SHOW_ROWS; r++) {
        spate_buf_reset(&b);
        for (int c = 0; c < nc; c++) {
            if (c) spate_buf_puts(&b, " | ");
            spate_cql_answer_cell_text(a, r, c, &b);
        }
        spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "  %s", b.data ? b.data : "");
    }
    spate_buf_free(&b);
}

static int cql_run(const spate_sched_ti_ctx_t *ctx) {
    char err[512] = "";
    spate_buf_t text = SPATE_BUF_INIT, stmt = SPATE_BUF_INIT;
    char *cps = NULL, *ks = NULL;
    spate_cql_client_t *cl = NULL;
    spate_sched_op_span_t *spans = NULL;
    int rc = 1;
    spate_status_t st = spate_sched_op_arg(ctx, "cql", &text, err, sizeof err);
    if (st == SPATE_ENOENT) snprintf(err, sizeof err, "key 'cql' is required");
    if (st != SPATE_OK) goto fail;
    if (spate_sched_op_arg_or(ctx, "contact_points", ctx->env ? ctx->env->cql : NULL, &cps, err,
                              sizeof err) != SPATE_OK ||
        spate_sched_op_arg_or(ctx, "keyspace", NULL, &ks, err, sizeof err) != SPATE_OK) {
        goto fail;
    }
    if (cps == NULL) {
        snprintf(err, sizeof err, "no 'contact_points' and no cql connection configured");
        goto fail;
    }
    size_t n = spate_sched_op_cql_split(text.data, text.len, NULL, 0);
    spans = spate_xcalloc(n ? n : 1, sizeof *spans);
    spate_sched_op_cql_split(text.data, text.len, spans, n);

    spate_cql_client_conf_t cc;
    spate_cql_client_conf_default(&cc);
    cc.contact_points = cps;
    cc.keyspace = ks;
    if (spate_cql_client_connect(&cl, &cc, err, sizeof err) != SPATE_OK) goto fail;
    spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "cql: connected to %s%s%s, %zu statement(s)", cps,
              ks ? " keyspace " : "", ks ? ks : "", n);
    int64_t t0 = spate_mono_ms();
    for (size_t i = 0; i < n; i++) {
        spate_buf_reset(&stmt);
        spate_buf_append(&stmt, text.data + spans[i].off, spans[i].len);
        spate_cql_answer_t *a = NULL;
        int64_t s0 = spate_mono_ms();
        st = spate_cql_client_query(cl, stmt.data, &a);
        if (st != SPATE_OK) {
            if (a && spate_cql_answer_kind(a) == SPATE_CQL_ANSWER_ERROR) {
                char why[400];
                spate_cql_answer_error_text(a, why, sizeof why);
                snprintf(err, sizeof err, "statement %zu (%.60s): %s", i + 1, stmt.data, why);
            } else {
                snprintf(err, sizeof err, "statement %zu: %s", i + 1, spate_cql_client_error(cl));
            }
            spate_cql_answer_free(a);
            goto fail;
        }
        spate_cql_answer_kind_t k = spate_cql_answer_kind(a);
        if (k == SPATE_CQL_ANSWER_ROWS) {
            spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "cql: statement %zu: %d row(s)%s in %lld ms",
                      i + 1, (int)spate_cql_answer_rows(a),
                      spate_cql_answer_has_more(a) ? " (first page)" : "",
                      (long long)(spate_mono_ms() - s0));
            log_rows(a);
        } else {
            spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "cql: statement %zu: %s in %lld ms", i + 1,
                      k == SPATE_CQL_ANSWER_SCHEMA_CHANGE  ? "schema changed"
                      : k == SPATE_CQL_ANSWER_SET_KEYSPACE ? "keyspace set"
                                                           : "done",
                      (long long)(spate_mono_ms() - s0));
        }
        spate_cql_answer_free(a);
    }
    spate_log(SPATE_LOG_INFO, SPATE_OP_LOG, "cql: %zu statement(s) done in %lld ms", n,
              (long long)(spate_mono_ms() - t0));
    rc = 0;
    goto out;
fail:
    spate_log(SPATE_LOG_ERROR, SPATE_OP_LOG, "cql: %s", err);
out:
    spate_cql_client_free(cl);
    free(spans);
    free(cps);
    free(ks);
    spate_buf_free(&text);
    spate_buf_free(&stmt);
    return rc;
}

const spate_sched_op_t spate_sched_op_cql = {
    .name = "cql",
    .keys = cql_keys,
    .check = cql_check,
    .run = cql_run,
};
