/*
 * cql_server.c — `spate cql`: connections, framing and request dispatch
 * for the CQL native protocol (v4, and v3).
 *
 * Framing (spec §2; cql_codec.h has the header layout). Before the 9-byte
 * header is trusted, its first byte is looked at:
 *
 *   version byte (low 7 bits)   answer
 *   3, 4                        the frame is read and dispatched
 *   1, 2                        ERROR 0x000A in a v1/v2 frame (8-byte header,
 *                               version 0x81/0x82, 1-byte stream), then close
 *   anything else (5, 0x41,     ERROR 0x000A "Invalid or unsupported protocol
 *   0x42, 0, ...)               version (N); supported versions are (3/v3,
 *                               4/v4)" in a 0x84 frame on the request's
 *                               stream, then close: drivers retry one version
 *                               lower on a new connection (python: 0x42, 0x41,
 *                               5, 4; Node jumps to the 0x84 of the answer)
 *
 * A frame whose length is over conf.max_frame_bytes gets a Protocol error
 * and its connection is closed (its body is never read); a body that does
 * not decode gets a Protocol error and the connection goes on (the length
 * says where the next frame starts). Nothing a client sends affects another
 * connection.
 *
 * The connection state machine is drawn in cql_int.h; conn_frame is where
 * it moves. Requests are answered one at a time, in order, each with one
 * frame on the request's stream id. EVENTs (stream -1) are appended between
 * frames of registered connections after a schema change.
 *
 * Output: responses accumulate in conn.out and are written when the
 * socket takes them. While more than OUT_HIGH bytes wait, the connection's
 * further requests wait too (and its socket is not read), so a client that
 * does not read cannot make the server buffer without limit.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cql_exec.h"

#define READ_CHUNK (64 * 1024)
#define OUT_HIGH (4u << 20)

static const char UNSUPPORTED_VERSION[] =
    "Invalid or unsupported protocol version (%d); supported versions are (3/v3, 4/v4)";

void spate_cql_conf_default(spate_cql_conf_t *c) {
    memset(c, 0, sizeof *c);
    char err[128];
    spate_net_addr_parse("127.0.0.1:9042", &c->listen, err, sizeof err);
    snprintf(c->data_dir, sizeof c->data_dir, "spate-data/cql");
    snprintf(c->cluster_name, sizeof c->cluster_name, "spate");
    c->max_frame_bytes = SPATE_CQL_MAX_BODY;
    c->max_prepared = 10000;
    c->fsync = true;
}

/* ------------------------------------------------------------------ */
/* Responses                                                           */
/* ------------------------------------------------------------------ */

static spate_slice_t slice(const char *s) { return (spate_slice_t){s, (int32_t)strlen(s)}; }

/* Replaces bytes that are not valid UTF-8 (a message quoting user input,
 * or cut by truncation) with '?': drivers decode messages strictly. */
static void utf8_clean(char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        size_t l = spate_cql_utf8_len((const unsigned char *)s + i, n - i);
        if (l == 0) {
            s[i++] = '?';
        } else {
            i += l;
        }
    }
}

static void write_response(cql_reply_t *rp, const spate_cql_response_t *resp) {
    if (spate_cql_response_write(rp->out, rp->version, rp->stream, resp) == SPATE_OK) return;
    /* Out of memory (or a field the wire cannot carry): a short error. */
    spate_cql_response_t e = {.opcode = SPATE_CQL_OP_ERROR};
    e.error.code = SPATE_CQL_ERR_SERVER;
    e.error.message = slice("the response could not be written");
    if (spate_cql_response_write(rp->out, rp->version, rp->stream, &e) != SPATE_OK && rp->conn)
        rp->conn->closing = true;
}

void cql_reply_error_full(cql_reply_t *rp, const spate_cql_error_t *e) {
    spate_cql_response_t r = {.opcode = SPATE_CQL_OP_ERROR, .error = *e};
    write_response(rp, &r);
}

void cql_reply_error(cql_reply_t *rp, int32_t code, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : SPATE_MIN((size_t)n, sizeof msg - 1);
    utf8_clean(msg, len);
    spate_cql_error_t e = {.code = code, .message = {msg, (int32_t)len}};
    e.keyspace = e.table = e.id = slice("");
    cql_reply_error_full(rp, &e);
}

void cql_reply_void(cql_reply_t *rp) {
    spate_cql_response_t r = {.opcode = SPATE_CQL_OP_RESULT};
    r.result.kind = SPATE_CQL_RESULT_VOID;
    write_response(rp, &r);
}

void cql_reply_void_warn(cql_reply_t *rp, const spate_slice_t *warnings, uint16_t n) {
    spate_cql_response_t r = {.opcode = SPATE_CQL_OP_RESULT};
    r.result.kind = SPATE_CQL_RESULT_VOID;
    if (rp->version >= 4) {
        r.warnings.n = n;
        r.warnings.v = (spate_slice_t *)warnings;
    }
    write_response(rp, &r);
}

spate_status_t cql_reply_begin(cql_reply_t *rp, uint8_t opcode, size_t *mark) {
    spate_cql_header_t h = {
        .version = rp->version, .response = true, .stream = rp->stream, .opcode = opcode};
    return spate_cql_frame_begin(rp->out, &h, mark);
}

void cql_reply_end(cql_reply_t *rp, size_t mark, spate_status_t st) {
    if (st == SPATE_OK) st = spate_cql_frame_end(rp->out, mark);
    if (st == SPATE_OK) return;
    if (mark <= rp->out->len) {
        rp->out->len = mark;
        if (rp->out->data) rp->out->data[mark] = '\0';
    }
    cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "the result could not be built (%s)",
                    spate_status_str(st));
}

static void reply_parse_error(cql_reply_t *rp, const spate_cql_parse_error_t *e) {
    int32_t code = e->kind == SPATE_CQL_PARSE_SYNTAX    ? SPATE_CQL_ERR_SYNTAX
                   : e->kind == SPATE_CQL_PARSE_INVALID ? SPATE_CQL_ERR_INVALID
                                                        : SPATE_CQL_ERR_SERVER;
    cql_reply_error(rp, code, "%s", e->kind == SPATE_CQL_PARSE_NOMEM ? "out of memory" : e->msg);
}

/* ------------------------------------------------------------------ */
/* Output and watching                                                 */
/* ------------------------------------------------------------------ */

static void conn_on_event(spate_loop_t *l, int fd, unsigned ev, void *ctx);
static bool conn_process(cql_conn_t *c);

static size_t out_pending(const cql_conn_t *c) { return c->out.len - c->out_off; }

static bool responses_held(const spate_cql_server_t *srv);

static void conn_watch(cql_conn_t *c) {
    unsigned want = 0;
    if (!c->closing && out_pending(c) < OUT_HIGH) want |= SPATE_EV_READ;
    /* writable matters only for bytes that may go (held ones wait for
     * store_before_sleep / sync_done, which flush) */
    size_t ok = responses_held(c->srv) ? c->out_ok : c->out.len;
    if (ok > c->out_off) want |= SPATE_EV_WRITE;
    spate_loop_watch(c->srv->loop, c->fd, want, conn_on_event, c);
}

/* Whether new responses must wait: while a write is only in the store's
 * turn or WAL buffer (it goes to the OS in store_before_sleep, one
 * write(2) for the turn) and, in BATCH commit-log mode, until an fsync
 * covers it (spate_cql_store_sync_due: 0 while any applied write is
 * unsynced). Held bytes are released by store_before_sleep (the WAL
 * write) or sync_done (the fsync), which move conn.out_ok. */
static bool responses_held(const spate_cql_server_t *srv) {
    if (!srv->store) return false;
    return spate_cql_store_unflushed(srv->store) ||
           (srv->conf.commitlog_batch && spate_cql_store_sync_due(srv->store, 0) == 0);
}

/* Writes what the socket takes of out[0, out_ok); false when the
 * connection was closed. */
static bool conn_flush(cql_conn_t *c) {
    if (!responses_held(c->srv)) c->out_ok = c->out.len;
    while (c->out_off < c->out_ok) {
        ssize_t w = send(c->fd, c->out.data + c->out_off, c->out_ok - c->out_off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (w <= 0) {
            cql_conn_close(c);
            return false;
        }
        c->out_off += (size_t)w;
    }
    if (c->out_off == c->out.len) { /* then out_sync <= out_ok == out.len */
        spate_buf_reset(&c->out);
        c->out_off = c->out_ok = c->out_sync = 0;
        if (c->closing) {
            cql_conn_close(c);
            return false;
        }
    } else if (c->out_off > (1u << 20)) {
        memmove(c->out.data, c->out.data + c->out_off, c->out.len - c->out_off);
        c->out.len -= c->out_off;
        c->out.data[c->out.len] = '\0';
        c->out_ok -= c->out_off;
        c->out_sync = c->out_sync > c->out_off ? c->out_sync - c->out_off : 0;
        c->out_off = 0;
    }
    conn_watch(c);
    return true;
}

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

/* SCHEMA_CHANGE to every connection that registered for it. */
static void push_schema_event(spate_cql_server_t *srv, const cql_ddl_result_t *res,
                              const cql_conn_t *self) {
    spate_cql_response_t r = {.opcode = SPATE_CQL_OP_EVENT};
    r.event.type = slice("SCHEMA_CHANGE");
    r.event.schema.change_type = slice(res->change_type);
    r.event.schema.target = slice(res->target);
    r.event.schema.keyspace = slice(res->ks);
    r.event.schema.name = slice(res->name);
    for (cql_conn_t *c = srv->conns; c; c = c->next) {
        if (!(c->events & CQL_EVENT_SCHEMA) || c->closing) continue;
        if (spate_cql_response_write(&c->out, c->version, -1, &r) != SPATE_OK) {
            c->closing = true;
            continue;
        }
        if (c != self) conn_watch(c); /* written when the socket is writable */
    }
}

/* ------------------------------------------------------------------ */
/* Prepared statements                                                 */
/* ------------------------------------------------------------------ */

static size_t prep_bucket(const spate_cql_server_t *srv, const uint8_t id[16]) {
    uint64_t h = 0;
    for (int i = 0; i < 8; i++) h = h << 8 | id[i];
    return (size_t)h & srv->prep_mask;
}

static cql_prepared_t *prep_find(spate_cql_server_t *srv, const void *id, int32_t len) {
    if (len != 16 || !id) return NULL;
    for (cql_prepared_t *p = srv->prep_tab[prep_bucket(srv, id)]; p; p = p->hnext)
        if (memcmp(p->id, id, 16) == 0) return p;
    return NULL;
}

static void prep_free(cql_prepared_t *p) {
    spate_cql_arena_free(p->arena);
    free(p->keyspace);
    free(p);
}

static void prep_remove(spate_cql_server_t *srv, cql_prepared_t *p) {
    cql_prepared_t **pp = &srv->prep_tab[prep_bucket(srv, p->id)];
    while (*pp && *pp != p) pp = &(*pp)->hnext;
    if (*pp) *pp = p->hnext;
    if (p->older)
        p->older->newer = p->newer;
    else
        srv->prep_oldest = p->newer;
    if (p->newer)
        p->newer->older = p->older;
    else
        srv->prep_newest = p->older;
    srv->nprep--;
    prep_free(p);
}

static void prep_add(spate_cql_server_t *srv, cql_prepared_t *p) {
    size_t b = prep_bucket(srv, p->id);
    p->hnext = srv->prep_tab[b];
    srv->prep_tab[b] = p;
    p->older = srv->prep_newest;
    p->newer = NULL;
    if (srv->prep_newest)
        srv->prep_newest->newer = p;
    else
        srv->prep_oldest = p;
    srv->prep_newest = p;
    srv->nprep++;
    while (srv->nprep > (size_t)SPATE_MAX(srv->conf.max_prepared, 1))
        prep_remove(srv, srv->prep_oldest);
}

static void prep_clear(spate_cql_server_t *srv) {
    while (srv->prep_oldest) prep_remove(srv, srv->prep_oldest);
}

/* Cassandra's id: MD5 of the keyspace name (if any) and the query text. */
static void prep_id(const char *ks, const char *q, size_t qlen, uint8_t id[16]) {
    spate_buf_t b = SPATE_BUF_INIT;
    if (ks) spate_buf_puts(&b, ks);
    spate_buf_append(&b, q, qlen);
    spate_hash_raw(SPATE_HASH_MD5, b.data ? b.data : "", b.len, id);
    spate_buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Statements                                                          */
/* ------------------------------------------------------------------ */

/* The table a statement names; NULL after answering the error. */
static const cql_table_t *resolve_table(cql_reply_t *rp, const spate_cql_qname_t *q,
                                        const char *ks) {
    const char *k = q->ks ? q->ks : ks;
    if (!k) {
        cql_reply_error(rp, SPATE_CQL_ERR_INVALID,
                        "No keyspace has been specified. USE a keyspace, or explicitly specify "
                        "keyspace.tablename");
        return NULL;
    }
    const cql_keyspace_t *kk = cql_schema_keyspace(rp->srv->schema, k);
    if (!kk) {
        /* Quoted only for USE, as Cassandra 3.x (validateKeyspace). */
        cql_reply_error(rp, SPATE_CQL_ERR_INVALID, "Keyspace %s does not exist", k);
        return NULL;
    }
    const cql_table_t *t = cql_schema_table(rp->srv->schema, k, q->name);
    if (!t) cql_reply_error(rp, SPATE_CQL_ERR_INVALID, "unconfigured table %s", q->name);
    return t;
}

static const spate_cql_qname_t *stmt_table(const spate_cql_stmt_t *st) {
    switch (st->kind) {
    case SPATE_CQL_STMT_SELECT: return &st->select.table;
    case SPATE_CQL_STMT_INSERT: return &st->insert.table;
    case SPATE_CQL_STMT_UPDATE: return &st->update.table;
    case SPATE_CQL_STMT_DELETE: return &st->del.table;
    case SPATE_CQL_STMT_TRUNCATE: return &st->table.table;
    default: return NULL;
    }
}

/* The values in marker order: as sent, or matched by name
 * (NAMES_FOR_VALUES). NULL after answering an error. */
static const spate_slice_t *order_values(cql_reply_t *rp, spate_cql_arena_t *a,
                                         const spate_cql_stmt_t *st, const spate_cql_bind_t *binds,
                                         const spate_slice_t *values, const spate_slice_t *names,
                                         uint32_t nvalues, bool *ok) {
    *ok = false;
    if (nvalues != st->nbind) {
        cql_reply_error(rp, SPATE_CQL_ERR_INVALID,
                        "Invalid amount of bind variables: expected %u, got %u", st->nbind,
                        nvalues);
        return NULL;
    }
    *ok = true;
    if (!names || !nvalues) return values;
    if (!binds && spate_cql_stmt_binds(a, st, (spate_cql_bind_t **)&binds) != SPATE_OK) {
        *ok = false;
        cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "out of memory");
        return NULL;
    }
    spate_slice_t *v = spate_cql_arena_alloc(a, nvalues * sizeof *v);
    if (!v) {
        *ok = false;
        cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "out of memory");
        return NULL;
    }
    for (uint32_t i = 0; i < nvalues; i++) {
        const char *want = binds[i].name ? binds[i].name : "";
        size_t wl = strlen(want);
        uint32_t j = 0;
        while (j < nvalues && !((size_t)names[j].len == wl && strncmp(names[j].p, want, wl) == 0))
            j++;
        if (j == nvalues) {
            j = 0;
            while (j < nvalues &&
                   !((size_t)names[j].len == wl && strncasecmp(names[j].p, want, wl) == 0))
                j++;
        }
        if (j == nvalues) {
            *ok = false;
            cql_reply_error(rp, SPATE_CQL_ERR_INVALID, "No value for bind variable %s", want);
            return NULL;
        }
        v[i] = values[j];
    }
    return v;
}

static void answer_ddl(cql_reply_t *rp, const spate_cql_stmt_t *st, const char *ks) {
    spate_cql_server_t *srv = rp->srv;
    /* Tables a DROP KEYSPACE takes with it, for the store. */
    uint32_t *dropped = NULL, ndropped = 0;
    if (st->kind == SPATE_CQL_STMT_DROP_KEYSPACE) {
        const cql_keyspace_t *k = cql_schema_keyspace(srv->schema, st->keyspace.ks);
        if (k && !k->system && k->ntables) {
            dropped = spate_xcalloc(k->ntables, sizeof *dropped);
            for (uint32_t i = 0; i < k->ntables; i++) dropped[ndropped++] = k->tables[i]->id;
        }
    }
    cql_ddl_result_t res;
    spate_status_t s = cql_schema_execute(srv->schema, st, ks, &res);
    if (s != SPATE_OK) {
        spate_log(SPATE_LOG_ERROR, "cql", "%s failed: %s", spate_cql_stmt_kind_name(st),
                  s == SPATE_ENOMEM ? "out of memory" : res.msg);
        cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "%s",
                        s == SPATE_ENOMEM ? "out of memory" : res.msg);
    } else if (res.code == SPATE_CQL_ERR_ALREADY_EXISTS) {
        spate_cql_error_t e = {.code = res.code, .message = slice(res.msg)};
        e.keyspace = slice(res.ks);
        e.table = slice(res.name);
        cql_reply_error_full(rp, &e);
    } else if (res.code) {
        cql_reply_error(rp, res.code, "%s", res.msg);
    } else if (!res.changed) {
        cql_reply_void(rp);
    } else {
        spate_cql_response_t r = {.opcode = SPATE_CQL_OP_RESULT};
        r.result.kind = SPATE_CQL_RESULT_SCHEMA_CHANGE;
        r.result.change.change_type = slice(res.change_type);
        r.result.change.target = slice(res.target);
        r.result.change.keyspace = slice(res.ks);
        r.result.change.name = slice(res.name);
        write_response(rp, &r);
        spate_log(SPATE_LOG_INFO, "cql", "%s: %s %s %s%s%s", rp->conn ? rp->conn->peer : "-",
                  res.change_type, res.target, res.ks, res.name[0] ? "." : "", res.name);
        push_schema_event(srv, &res, rp->conn);
        cql_exec_schema_changed(srv); /* table pointers it cached are gone */
        if (res.dropped_table_id) cql_exec_table_dropped(srv, res.dropped_table_id);
        for (uint32_t i = 0; i < ndropped; i++) cql_exec_table_dropped(srv, dropped[i]);
    }
    free(dropped);
}

/* Runs one parsed statement with its values; writes one response. ks is
 * the keyspace unqualified names refer to (the session's, or the one a
 * prepared statement was prepared in). */
static void run_stmt(cql_reply_t *rp, spate_cql_arena_t *a, const spate_cql_stmt_t *st,
                     const spate_cql_bind_t *binds, const char *ks, const spate_cql_params_t *p,
                     bool execute) {
    uint32_t nvalues = (p->flags & SPATE_CQL_QF_VALUES) ? p->nvalues : 0;
    bool ok;
    const spate_slice_t *values = order_values(rp, a, st, binds, p->values, p->names, nvalues, &ok);
    if (!ok) return;
    cql_bound_t one = {st, NULL, values};
    cql_dml_t d = {
        .stmts = &one,
        .n = 1,
        .batch_type = -1,
        .consistency = p->consistency,
        .serial_consistency = p->serial_consistency,
        .timestamp = p->timestamp,
        .page_size = p->page_size,
        .paging_state =
            (p->flags & SPATE_CQL_QF_PAGING_STATE) ? p->paging_state : (spate_slice_t){NULL, -1},
        .skip_metadata = execute && (p->flags & SPATE_CQL_QF_SKIP_METADATA),
        .arena = a,
    };
    switch (spate_cql_stmt_class(st)) {
    case SPATE_CQL_CLASS_USE: {
        if (!cql_schema_keyspace(rp->srv->schema, st->use.ks)) {
            cql_reply_error(rp, SPATE_CQL_ERR_INVALID, "Keyspace '%s' does not exist", st->use.ks);
            return;
        }
        if (rp->conn) {
            free(rp->conn->keyspace);
            rp->conn->keyspace = spate_xstrdup(st->use.ks);
        }
        spate_cql_response_t r = {.opcode = SPATE_CQL_OP_RESULT};
        r.result.kind = SPATE_CQL_RESULT_SET_KEYSPACE;
        r.result.keyspace = slice(st->use.ks);
        write_response(rp, &r);
        return;
    }
    case SPATE_CQL_CLASS_DDL: answer_ddl(rp, st, ks); return;
    case SPATE_CQL_CLASS_READ:
    case SPATE_CQL_CLASS_WRITE: {
        one.table = resolve_table(rp, stmt_table(st), ks);
        if (!one.table) return;
        if (one.table->sys) {
            if (st->kind == SPATE_CQL_STMT_SELECT)
                cql_system_select(rp, &d);
            else
                cql_reply_error(rp, SPATE_CQL_ERR_UNAUTHORIZED,
                                "%s keyspace is not user-modifiable.", one.table->ks->name);
            return;
        }
        cql_exec_dml(rp, &d);
        return;
    }
    case SPATE_CQL_CLASS_BATCH: {
        const spate_cql_stmt_batch_t *b = &st->batch;
        cql_bound_t *m = spate_cql_arena_alloc(a, (b->n ? b->n : 1) * sizeof *m);
        if (!m) {
            cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "out of memory");
            return;
        }
        uint32_t off = 0;
        for (uint32_t i = 0; i < b->n; i++) {
            m[i].stmt = b->stmts[i];
            m[i].values = values ? values + off : NULL;
            off += b->stmts[i]->nbind;
            m[i].table = resolve_table(rp, stmt_table(b->stmts[i]), ks);
            if (!m[i].table) return;
            if (m[i].table->sys) {
                cql_reply_error(rp, SPATE_CQL_ERR_UNAUTHORIZED,
                                "%s keyspace is not user-modifiable.", m[i].table->ks->name);
                return;
            }
        }
        d.stmts = m;
        d.n = b->n;
        d.batch_type = (int)b->type;
        d.batch_using = &b->using;
        cql_exec_dml(rp, &d);
        return;
    }
    case SPATE_CQL_CLASS_OTHER:
        cql_reply_error(rp, SPATE_CQL_ERR_INVALID, "%s is not supported by spate cql",
                        spate_cql_stmt_kind_name(st));
        return;
    }
}

/* ------------------------------------------------------------------ */
/* PREPARE's metadata                                                  */
/* ------------------------------------------------------------------ */

static spate_cql_datatype_t *arena_type(spate_cql_arena_t *a, spate_cql_type_t id, uint16_t n) {
    spate_cql_datatype_t *t = spate_cql_arena_alloc(a, sizeof *t);
    if (!t) return NULL;
    t->id = id;
    t->n = n;
    if (n) {
        t->sub = spate_cql_arena_alloc(a, n * sizeof *t->sub);
        if (!t->sub) return NULL;
    }
    return t;
}

/* The type a bind marker takes; NULL with msg set when it cannot be told. */
static const spate_cql_datatype_t *bind_type(spate_cql_arena_t *a, const cql_table_t *t,
                                             const spate_cql_bind_t *b, char *msg, size_t msglen) {
    static const spate_cql_datatype_t BIGINT = {.id = SPATE_CQL_BIGINT},
                                      INT = {.id = SPATE_CQL_INT}, TEXT = {.id = SPATE_CQL_VARCHAR};
    const cql_column_t *col = NULL;
    switch (b->role) {
    case SPATE_CQL_BIND_TOKEN:
    case SPATE_CQL_BIND_TIMESTAMP: return &BIGINT;
    case SPATE_CQL_BIND_LIMIT:
    case SPATE_CQL_BIND_PER_PARTITION_LIMIT:
    case SPATE_CQL_BIND_TTL: return &INT;
    case SPATE_CQL_BIND_JSON: return &TEXT;
    case SPATE_CQL_BIND_TUPLE:
    case SPATE_CQL_BIND_TUPLE_IN: {
        if (!t || b->ncols == 0 || b->ncols > 65535) break;
        spate_cql_datatype_t *tu = arena_type(a, SPATE_CQL_TUPLE, (uint16_t)b->ncols);
        if (!tu) goto nomem;
        for (uint32_t i = 0; i < b->ncols; i++) {
            const cql_column_t *c = cql_table_column(t, b->cols[i]);
            if (!c) {
                snprintf(msg, msglen, "Undefined column name %s", b->cols[i]);
                return NULL;
            }
            tu->sub[i] = c->type;
        }
        if (b->role == SPATE_CQL_BIND_TUPLE) return tu;
        spate_cql_datatype_t *l = arena_type(a, SPATE_CQL_LIST, 1);
        if (!l) goto nomem;
        l->sub[0] = *tu;
        return l;
    }
    case SPATE_CQL_BIND_COLUMN:
    case SPATE_CQL_BIND_IN:
    case SPATE_CQL_BIND_KEY:
    case SPATE_CQL_BIND_VALUE:
    case SPATE_CQL_BIND_TUPLE_ELEM:
        if (!t || !b->col) break;
        col = cql_table_column(t, b->col);
        if (!col) {
            snprintf(msg, msglen, "Undefined column name %s", b->col);
            return NULL;
        }
        break;
    default: break;
    }
    if (!col) {
        snprintf(msg, msglen, "Bind marker %s is not supported yet by spate cql",
                 b->name ? b->name : "?");
        return NULL;
    }
    const spate_cql_datatype_t *ct = &col->type;
    switch (b->role) {
    case SPATE_CQL_BIND_COLUMN: return ct;
    case SPATE_CQL_BIND_IN: {
        spate_cql_datatype_t *l = arena_type(a, SPATE_CQL_LIST, 1);
        if (!l) goto nomem;
        l->sub[0] = *ct;
        return l;
    }
    case SPATE_CQL_BIND_KEY:
        if (ct->id == SPATE_CQL_LIST) return &INT;
        if ((ct->id == SPATE_CQL_MAP || ct->id == SPATE_CQL_SET) && ct->n) return &ct->sub[0];
        break;
    case SPATE_CQL_BIND_VALUE:
        if ((ct->id == SPATE_CQL_LIST || ct->id == SPATE_CQL_SET) && ct->n) return &ct->sub[0];
        if (ct->id == SPATE_CQL_MAP && ct->n == 2) return &ct->sub[1];
        break;
    case SPATE_CQL_BIND_TUPLE_ELEM:
        if (ct->id == SPATE_CQL_TUPLE && b->elem < ct->n) return &ct->sub[b->elem];
        break;
    default: break;
    }
    snprintf(msg, msglen, "Invalid bind marker %s for column %s of type %s",
             b->name ? b->name : "?", col->name, col->type_text);
    return NULL;
nomem:
    snprintf(msg, msglen, "out of memory");
    return NULL;
}

/* Bind and result metadata of a prepared statement; 0 or an error code. */
static int32_t prepared_metadata(spate_cql_server_t *srv, spate_cql_arena_t *a,
                                 const spate_cql_stmt_t *st, const spate_cql_bind_t *binds,
                                 const char *ks, spate_cql_metadata_t *md,
                                 spate_cql_metadata_t *rmd, char *msg, size_t msglen) {
    memset(md, 0, sizeof *md);
    memset(rmd, 0, sizeof *rmd);
    rmd->flags = SPATE_CQL_MD_NO_METADATA;
    const cql_table_t *main = NULL;
    const spate_cql_qname_t *q = stmt_table(st);
    /* Every table the statement names must exist, as Cassandra checks. */
    const spate_cql_stmt_t *const *members =
        st->kind == SPATE_CQL_STMT_BATCH ? (const spate_cql_stmt_t *const *)st->batch.stmts : &st;
    uint32_t nmembers = st->kind == SPATE_CQL_STMT_BATCH ? st->batch.n : 1;
    for (uint32_t i = 0; i < nmembers; i++) {
        const spate_cql_qname_t *mq = stmt_table(members[i]);
        if (!mq) continue;
        const char *k = mq->ks ? mq->ks : ks;
        if (!k) {
            snprintf(msg, msglen,
                     "No keyspace has been specified. USE a keyspace, or explicitly specify "
                     "keyspace.tablename");
            return SPATE_CQL_ERR_INVALID;
        }
        if (!cql_schema_keyspace(srv->schema, k)) {
            snprintf(msg, msglen, "Keyspace %s does not exist", k);
            return SPATE_CQL_ERR_INVALID;
        }
        const cql_table_t *t = cql_schema_table(srv->schema, k, mq->name);
        if (!t) {
            snprintf(msg, msglen, "unconfigured table %s", mq->name);
            return SPATE_CQL_ERR_INVALID;
        }
        if (mq == q) main = t;
    }
    md->columns_count = (int32_t)st->nbind;
    md->columns = spate_cql_arena_alloc(a, (st->nbind ? st->nbind : 1) * sizeof *md->columns);
    if (!md->columns) goto nomem;
    bool global = true;
    for (uint32_t i = 0; i < st->nbind; i++) {
        const spate_cql_bind_t *b = &binds[i];
        const cql_table_t *t = NULL;
        if (b->table) {
            const char *k = b->table->ks ? b->table->ks : ks;
            t = k ? cql_schema_table(srv->schema, k, b->table->name) : NULL;
        }
        const spate_cql_datatype_t *ty = bind_type(a, t, b, msg, msglen);
        if (!ty) return SPATE_CQL_ERR_INVALID;
        spate_cql_colspec_t *c = &md->columns[i];
        c->keyspace = slice(t ? t->ks->name : "");
        c->table = slice(t ? t->name : "");
        c->name = slice(b->name ? b->name : "?");
        c->type = *ty;
        if (i && (strcmp(c->keyspace.p, md->columns[0].keyspace.p) != 0 ||
                  strcmp(c->table.p, md->columns[0].table.p) != 0))
            global = false;
    }
    if (st->nbind && global) {
        md->flags = SPATE_CQL_MD_GLOBAL_TABLES_SPEC;
        md->global_keyspace = md->columns[0].keyspace;
        md->global_table = md->columns[0].table;
    }
    /* Partition key indexes, so drivers can route by token. */
    if (main && st->kind != SPATE_CQL_STMT_BATCH && main->npk) {
        md->pk_index = spate_cql_arena_alloc(a, main->npk * sizeof *md->pk_index);
        if (!md->pk_index) goto nomem;
        uint32_t found = 0;
        for (uint32_t k = 0; k < main->npk; k++)
            for (uint32_t i = 0; i < st->nbind && i <= UINT16_MAX; i++)
                if (binds[i].role == SPATE_CQL_BIND_COLUMN && binds[i].col &&
                    strcmp(binds[i].col, main->cols[k].name) == 0) {
                    md->pk_index[found++] = (uint16_t)i;
                    break;
                }
        md->pk_count = found == main->npk ? (int32_t)found : 0;
    }
    if (st->kind == SPATE_CQL_STMT_SELECT && main) {
        cql_selection_t sel;
        /* User tables may also select token(pk) (cql_select.c). */
        int32_t code = main->sys ? cql_select_resolve(a, main, &st->select, &sel, msg, msglen)
                                 : cql_select_columns(a, main, &st->select, &sel, msg, msglen);
        if (code) return code;
        if (cql_select_metadata(a, main, &sel, rmd) != SPATE_OK) goto nomem;
    }
    return 0;
nomem:
    snprintf(msg, msglen, "out of memory");
    return SPATE_CQL_ERR_SERVER;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

static void on_startup(cql_reply_t *rp, cql_conn_t *c, const spate_cql_request_t *req) {
    spate_slice_t v;
    if (!spate_cql_strmap_get(&req->options, "CQL_VERSION", &v)) {
        cql_reply_error(rp, SPATE_CQL_ERR_PROTOCOL, "Missing value CQL_VERSION in STARTUP message");
        return;
    }
    if (v.len < 2 || v.p[0] != '3' || v.p[1] != '.') {
        cql_reply_error(rp, SPATE_CQL_ERR_PROTOCOL,
                        "CQL version %.*s is not supported; use 3.0.0 or higher",
                        (int)SPATE_MIN(v.len, 64), v.p);
        return;
    }
    if (spate_cql_strmap_get(&req->options, "COMPRESSION", &v) && v.len > 0) {
        cql_reply_error(rp, SPATE_CQL_ERR_PROTOCOL, "Unknown compression algorithm: %.*s",
                        (int)SPATE_MIN(v.len, 64), v.p);
        return;
    }
    if (c->srv->conf.nusers > 0) {
        c->state = CQL_CONN_AUTH;
        spate_cql_response_t r = {.opcode = SPATE_CQL_OP_AUTHENTICATE};
        r.authenticator = slice("org.apache.cassandra.auth.PasswordAuthenticator");
        write_response(rp, &r);
        return;
    }
    c->state = CQL_CONN_READY;
    spate_cql_response_t r = {.opcode = SPATE_CQL_OP_READY};
    write_response(rp, &r);
}

/* Compares without an early exit on the first difference. */
static bool same_secret(const char *a, const uint8_t *b, size_t blen) {
    size_t alen = strlen(a);
    unsigned diff = alen != blen;
    for (size_t i = 0; i < blen; i++) diff |= (unsigned)(uint8_t)a[i < alen ? i : 0] ^ b[i];
    return diff == 0 && alen > 0;
}

/* AUTH_RESPONSE with a SASL PLAIN token: [authzid] NUL user NUL password. */
static void on_auth_response(cql_reply_t *rp, cql_conn_t *c, const spate_cql_request_t *req) {
    const uint8_t *t = (const uint8_t *)req->token.p;
    size_t n = req->token.len > 0 ? (size_t)req->token.len : 0;
    const uint8_t *z1 = n ? memchr(t, 0, n) : NULL;
    const uint8_t *z2 = z1 ? memchr(z1 + 1, 0, n - (size_t)(z1 + 1 - t)) : NULL;
    if (!z2) {
        cql_reply_error(rp, SPATE_CQL_ERR_PROTOCOL,
                        "Authentication failed: the token is not a SASL PLAIN response");
        return;
    }
    const uint8_t *user = z1 + 1, *pass = z2 + 1;
    size_t ulen = (size_t)(z2 - user), plen = n - (size_t)(pass - t);
    const spate_cql_conf_t *cf = &c->srv->conf;
    bool ok = false;
    for (int i = 0; i < cf->nusers; i++) {
        if (strlen(cf->users[i].name) == ulen && memcmp(cf->users[i].name, user, ulen) == 0) {
            ok = same_secret(cf->users[i].password, pass, plen);
            break;
        }
    }
    if (!ok) {
        spate_log(SPATE_LOG_WARN, "cql", "%s: login refused for user '%.*s'", c->peer,
                  (int)SPATE_MIN(ulen, 64), (const char *)user);
        cql_reply_error(rp, SPATE_CQL_ERR_BAD_CREDENTIALS,
                        "Provided username %.*s and/or password are incorrect",
                        (int)SPATE_MIN(ulen, 128), (const char *)user);
        return;
    }
    snprintf(c->user, sizeof c->user, "%.*s", (int)ulen, (const char *)user);
    c->state = CQL_CONN_READY;
    spate_cql_response_t r = {.opcode = SPATE_CQL_OP_AUTH_SUCCESS};
    r.token = (spate_slice_t){NULL, SPATE_CQL_NULL};
    write_response(rp, &r);
}

static void on_options(cql_reply_t *rp) {
    static const spate_slice_t cql_version[] = {{CQL_CQL_VERSION, sizeof CQL_CQL_VERSION - 1}};
    static const spate_slice_t versions[] = {{"3/v3", 4}, {"4/v4", 4}};
    spate_cql_mmentry_t e[] = {
        {{"CQL_VERSION", 11}, 1, (spate_slice_t *)cql_version},
        {{"COMPRESSION", 11}, 0, NULL},
        {{"PROTOCOL_VERSIONS", 17}, 2, (spate_slice_t *)versions},
    };
    spate_cql_response_t r = {.opcode = SPATE_CQL_OP_SUPPORTED};
    r.supported.n = SPATE_ARRAY_LEN(e);
    r.supported.e = e;
    write_response(rp, &r);
}

static void on_register(cql_reply_t *rp, cql_conn_t *c, const spate_cql_request_t *req) {
    static const struct {
        const char *name;
        unsigned bit;
    } types[] = {{"TOPOLOGY_CHANGE", CQL_EVENT_TOPOLOGY},
                 {"STATUS_CHANGE", CQL_EVENT_STATUS},
                 {"SCHEMA_CHANGE", CQL_EVENT_SCHEMA}};
    unsigned events = 0;
    for (uint16_t i = 0; i < req->events.n; i++) {
        spate_slice_t e = req->events.v[i];
        size_t k = 0;
        while (k < SPATE_ARRAY_LEN(types) &&
               !((size_t)e.len == strlen(types[k].name) && memcmp(e.p, types[k].name, e.len) == 0))
            k++;
        if (k == SPATE_ARRAY_LEN(types)) {
            cql_reply_error(rp, SPATE_CQL_ERR_PROTOCOL, "Invalid value '%.*s' for Event.Type",
                            (int)SPATE_MIN(e.len, 64), e.p);
            return;
        }
        events |= types[k].bit;
    }
    c->events |= events;
    spate_cql_response_t r = {.opcode = SPATE_CQL_OP_READY};
    write_response(rp, &r);
}

static void log_query(const cql_conn_t *c, const char *what, spate_slice_t q) {
    if (!SPATE_LOG_DEBUG_ON()) return;
    spate_log(SPATE_LOG_DEBUG, "cql", "%s: %s %.*s%s", c->peer, what, (int)SPATE_MIN(q.len, 300),
              q.p ? q.p : "", q.len > 300 ? "..." : "");
}

static void on_query(cql_reply_t *rp, cql_conn_t *c, const spate_cql_request_t *req) {
    log_query(c, "QUERY", req->query);
    spate_cql_arena_t *a = spate_cql_arena_new();
    if (!a) {
        cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "out of memory");
        return;
    }
    spate_cql_stmt_t *st;
    spate_cql_parse_error_t perr;
    if (spate_cql_parse(a, req->query.p, (size_t)req->query.len, &st, &perr) != SPATE_OK)
        reply_parse_error(rp, &perr);
    else
        run_stmt(rp, a, st, NULL, c->keyspace, &req->params, false);
    spate_cql_arena_free(a);
}

static void on_prepare(cql_reply_t *rp, cql_conn_t *c, const spate_cql_request_t *req) {
    spate_cql_server_t *srv = rp->srv;
    log_query(c, "PREPARE", req->query);
    uint8_t id[16];
    prep_id(c->keyspace, req->query.p, (size_t)req->query.len, id);
    cql_prepared_t *p = prep_find(srv, id, 16);
    cql_prepared_t *fresh = NULL;
    if (!p) {
        fresh = spate_xcalloc(1, sizeof *fresh);
        memcpy(fresh->id, id, 16);
        fresh->keyspace = c->keyspace ? spate_xstrdup(c->keyspace) : NULL;
        fresh->arena = spate_cql_arena_new();
        spate_cql_parse_error_t perr;
        if (!fresh->arena) {
            cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "out of memory");
            goto drop;
        }
        if (spate_cql_parse(fresh->arena, req->query.p, (size_t)req->query.len, &fresh->stmt,
                            &perr) != SPATE_OK) {
            reply_parse_error(rp, &perr);
            goto drop;
        }
        if (spate_cql_stmt_binds(fresh->arena, fresh->stmt, &fresh->binds) != SPATE_OK) {
            cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "out of memory");
            goto drop;
        }
        p = fresh;
    }
    /* The metadata is worked out on every PREPARE: tables may have changed. */
    spate_cql_arena_t *a = spate_cql_arena_new();
    if (!a) {
        cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "out of memory");
        goto drop;
    }
    spate_cql_metadata_t md, rmd;
    char msg[512];
    int32_t code =
        prepared_metadata(srv, a, p->stmt, p->binds, p->keyspace, &md, &rmd, msg, sizeof msg);
    if (code) {
        cql_reply_error(rp, code, "%s", msg);
    } else {
        spate_cql_response_t r = {.opcode = SPATE_CQL_OP_RESULT};
        r.result.kind = SPATE_CQL_RESULT_PREPARED;
        r.result.id = (spate_slice_t){(const char *)p->id, 16};
        r.result.metadata = md;
        r.result.result_metadata = rmd;
        write_response(rp, &r);
        if (fresh) {
            prep_add(srv, fresh);
            fresh = NULL;
        }
    }
    spate_cql_arena_free(a);
drop:
    if (fresh) prep_free(fresh);
}

static void reply_unprepared(cql_reply_t *rp, spate_slice_t id) {
    char hex[40] = "";
    for (int32_t i = 0; i < id.len && i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", (uint8_t)id.p[i]);
    char msg[300];
    int n = snprintf(msg, sizeof msg,
                     "Prepared query with ID %s not found (either the query was not prepared on "
                     "this host (maybe the host has been restarted?) or you have prepared too many "
                     "queries and it has been evicted from the internal cache)",
                     hex);
    spate_cql_error_t e = {.code = SPATE_CQL_ERR_UNPREPARED,
                           .message = {msg, (int32_t)SPATE_MIN((size_t)n, sizeof msg - 1)}};
    e.id = id.p ? id : slice("");
    cql_reply_error_full(rp, &e);
}

static void on_execute(cql_reply_t *rp, cql_conn_t *c, const spate_cql_request_t *req) {
    SPATE_UNUSED(c);
    cql_prepared_t *p = prep_find(rp->srv, req->id.p, req->id.len);
    if (!p) {
        reply_unprepared(rp, req->id);
        return;
    }
    spate_cql_arena_t *a = spate_cql_arena_new();
    if (!a) {
        cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "out of memory");
        return;
    }
    run_stmt(rp, a, p->stmt, p->binds, p->keyspace, &req->params, true);
    spate_cql_arena_free(a);
}

static void on_batch(cql_reply_t *rp, cql_conn_t *c, const spate_cql_request_t *req) {
    const spate_cql_batch_t *bt = &req->batch;
    spate_cql_arena_t *a = spate_cql_arena_new();
    if (!a) {
        cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "out of memory");
        return;
    }
    cql_bound_t *m = spate_cql_arena_alloc(a, (bt->n ? bt->n : 1) * sizeof *m);
    if (!m) {
        cql_reply_error(rp, SPATE_CQL_ERR_SERVER, "out of memory");
        goto out;
    }
    for (uint16_t i = 0; i < bt->n; i++) {
        const spate_cql_batch_stmt_t *bs = &bt->stmts[i];
        const spate_cql_stmt_t *st;
        const spate_cql_bind_t *binds = NULL;
        const char *ks = c->keyspace;
        if (bs->kind == 0) {
            spate_cql_stmt_t *parsed;
            spate_cql_parse_error_t perr;
            if (spate_cql_parse(a, bs->query.p, (size_t)bs->query.len, &parsed, &perr) !=
                SPATE_OK) {
                reply_parse_error(rp, &perr);
                goto out;
            }
            st = parsed;
        } else {
            cql_prepared_t *p = prep_find(rp->srv, bs->query.p, bs->query.len);
            if (!p) {
                reply_unprepared(rp, bs->query);
                goto out;
            }
            st = p->stmt;
            binds = p->binds;
            ks = p->keyspace;
        }
        if (st->kind != SPATE_CQL_STMT_INSERT && st->kind != SPATE_CQL_STMT_UPDATE &&
            st->kind != SPATE_CQL_STMT_DELETE) {
            cql_reply_error(rp, SPATE_CQL_ERR_INVALID,
                            "Invalid statement in batch: only UPDATE, INSERT and DELETE "
                            "statements are allowed.");
            goto out;
        }
        if (bs->nvalues != st->nbind) {
            cql_reply_error(rp, SPATE_CQL_ERR_INVALID,
                            "There were %u markers(?) in CQL but %u bound variables", st->nbind,
                            bs->nvalues);
            goto out;
        }
        bool ok;
        m[i].values = order_values(rp, a, st, binds, bs->values, bs->names, bs->nvalues, &ok);
        if (!ok) goto out;
        m[i].stmt = st;
        m[i].table = resolve_table(rp, stmt_table(st), ks);
        if (!m[i].table) goto out;
        if (m[i].table->sys) {
            cql_reply_error(rp, SPATE_CQL_ERR_UNAUTHORIZED, "%s keyspace is not user-modifiable.",
                            m[i].table->ks->name);
            goto out;
        }
    }
    cql_dml_t d = {
        .stmts = m,
        .n = bt->n,
        .batch_type = bt->type,
        .consistency = bt->consistency,
        .serial_consistency = bt->serial_consistency,
        .timestamp = bt->timestamp,
        .page_size = -1,
        .paging_state = {NULL, -1},
        .arena = a,
    };
    cql_exec_dml(rp, &d);
out:
    spate_cql_arena_free(a);
}

/* ------------------------------------------------------------------ */
/* Frames                                                              */
/* ------------------------------------------------------------------ */

static bool is_response_opcode(uint8_t op) {
    return op == SPATE_CQL_OP_ERROR || op == SPATE_CQL_OP_READY ||
           op == SPATE_CQL_OP_AUTHENTICATE || op == SPATE_CQL_OP_SUPPORTED ||
           op == SPATE_CQL_OP_RESULT || op == SPATE_CQL_OP_EVENT ||
           op == SPATE_CQL_OP_AUTH_CHALLENGE || op == SPATE_CQL_OP_AUTH_SUCCESS;
}

/* One complete v3/v4 frame: checks, then the opcode's handler. */
static void conn_frame(cql_conn_t *c, const spate_cql_header_t *h, const uint8_t *body) {
    if (!c->version) c->version = h->version;
    cql_reply_t rp = {c->srv, c, &c->out, c->version, h->stream};
    if (h->version != c->version) {
        cql_reply_error(&rp, SPATE_CQL_ERR_PROTOCOL,
                        "Invalid message version. Got %d but previous messages on this connection "
                        "had version %d",
                        h->version, c->version);
        return;
    }
    const char *name = spate_cql_opcode_name(h->opcode);
    if (h->response || (name && is_response_opcode(h->opcode))) {
        cql_reply_error(&rp, SPATE_CQL_ERR_PROTOCOL,
                        "Wrong protocol direction (expected REQUEST, got RESPONSE) for opcode %d "
                        "(%s)",
                        h->opcode, name ? name : "unknown");
        return;
    }
    if (!name) {
        cql_reply_error(&rp, SPATE_CQL_ERR_PROTOCOL, "Unknown opcode %d", h->opcode);
        return;
    }
    if (h->flags & SPATE_CQL_FLAG_COMPRESSION) {
        cql_reply_error(&rp, SPATE_CQL_ERR_PROTOCOL,
                        "Received a compressed frame, but no compression was negotiated");
        return;
    }
    if (c->state == CQL_CONN_NEW && h->opcode != SPATE_CQL_OP_STARTUP &&
        h->opcode != SPATE_CQL_OP_OPTIONS) {
        cql_reply_error(&rp, SPATE_CQL_ERR_PROTOCOL,
                        "Unexpected message %s, expecting STARTUP or OPTIONS", name);
        return;
    }
    if (c->state == CQL_CONN_READY && h->opcode == SPATE_CQL_OP_STARTUP) {
        cql_reply_error(&rp, SPATE_CQL_ERR_PROTOCOL,
                        "Unexpected message STARTUP, the connection is already initialized");
        return;
    }
    if (c->state == CQL_CONN_AUTH && h->opcode != SPATE_CQL_OP_AUTH_RESPONSE &&
        h->opcode != SPATE_CQL_OP_OPTIONS) {
        cql_reply_error(&rp, SPATE_CQL_ERR_PROTOCOL,
                        "Unexpected message %s, expecting AUTH_RESPONSE", name);
        return;
    }
    if (c->state != CQL_CONN_AUTH && h->opcode == SPATE_CQL_OP_AUTH_RESPONSE) {
        cql_reply_error(&rp, SPATE_CQL_ERR_PROTOCOL,
                        c->srv->conf.nusers ? "Unexpected message AUTH_RESPONSE"
                                            : "Unexpected message AUTH_RESPONSE, authentication "
                                              "is not enabled");
        return;
    }
    spate_cql_request_t req;
    spate_status_t st = spate_cql_request_decode(h, body, h->length, &req);
    if (st != SPATE_OK) {
        cql_reply_error(&rp, st == SPATE_ENOMEM ? SPATE_CQL_ERR_SERVER : SPATE_CQL_ERR_PROTOCOL,
                        "%s %s message", st == SPATE_ENOMEM ? "Out of memory for a" : "Malformed",
                        name);
        return;
    }
    switch (h->opcode) {
    case SPATE_CQL_OP_STARTUP: on_startup(&rp, c, &req); break;
    case SPATE_CQL_OP_OPTIONS: on_options(&rp); break;
    case SPATE_CQL_OP_REGISTER: on_register(&rp, c, &req); break;
    case SPATE_CQL_OP_QUERY: on_query(&rp, c, &req); break;
    case SPATE_CQL_OP_PREPARE: on_prepare(&rp, c, &req); break;
    case SPATE_CQL_OP_EXECUTE: on_execute(&rp, c, &req); break;
    case SPATE_CQL_OP_BATCH: on_batch(&rp, c, &req); break;
    case SPATE_CQL_OP_AUTH_RESPONSE: on_auth_response(&rp, c, &req); break;
    default: cql_reply_error(&rp, SPATE_CQL_ERR_PROTOCOL, "Unexpected message %s", name); break;
    }
    spate_cql_request_free(&req);
}

/* A first byte naming a version we do not speak: the error drivers step
 * down on, then the connection closes. */
static void conn_bad_version(cql_conn_t *c, const uint8_t *p) {
    int ver = p[0] & 0x7f;
    char msg[160];
    int n = snprintf(msg, sizeof msg, UNSUPPORTED_VERSION, ver);
    spate_log(SPATE_LOG_DEBUG, "cql", "%s: protocol version %d refused", c->peer, ver);
    if (ver == 1 || ver == 2) {
        /* v1/v2 headers are 8 bytes with a 1-byte stream: answer in kind. */
        spate_buf_t *b = &c->out;
        size_t start = b->len;
        spate_wr_u8(b, (uint8_t)(0x80 | ver));
        spate_wr_u8(b, 0);
        spate_wr_u8(b, p[2]);
        spate_wr_u8(b, SPATE_CQL_OP_ERROR);
        spate_wr_u32(b, (uint32_t)(4 + 2 + n));
        spate_wr_i32(b, SPATE_CQL_ERR_PROTOCOL);
        if (spate_cql_wr_string(b, msg, (size_t)n) != SPATE_OK) b->len = start;
    } else {
        cql_reply_t rp = {c->srv, c, &c->out, SPATE_CQL_VERSION,
                          (int16_t)((uint16_t)p[2] << 8 | p[3])};
        cql_reply_error(&rp, SPATE_CQL_ERR_PROTOCOL, "%s", msg);
    }
    c->closing = true;
}

/* Handles every complete frame in c->in; false when c was closed. */
static bool conn_process(cql_conn_t *c) {
    uint32_t max = SPATE_MIN(c->srv->conf.max_frame_bytes, SPATE_CQL_MAX_BODY);
    while (!c->closing && out_pending(c) < OUT_HIGH) {
        size_t avail = c->in.len - c->in_off;
        const uint8_t *p = (const uint8_t *)c->in.data + c->in_off;
        if (avail < 1) break;
        int ver = p[0] & 0x7f;
        if (ver == 1 || ver == 2) {
            if (avail < 8) break;
            conn_bad_version(c, p);
            break;
        }
        if (avail < SPATE_CQL_HEADER_LEN) break;
        if (ver != 3 && ver != 4) {
            conn_bad_version(c, p);
            break;
        }
        spate_cql_header_t h;
        if (spate_cql_header_parse(p, avail, max, &h) != SPATE_OK) {
            uint32_t len = (uint32_t)p[5] << 24 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 8 | p[8];
            spate_log(SPATE_LOG_WARN, "cql",
                      "%s: frame of %u bytes is over the limit (%u); closing", c->peer, len, max);
            if (!c->version) c->version = (uint8_t)ver;
            cql_reply_t rp = {c->srv, c, &c->out, c->version,
                              (int16_t)((uint16_t)p[2] << 8 | p[3])};
            cql_reply_error(&rp, SPATE_CQL_ERR_PROTOCOL,
                            "Request is too big: length %u exceeds maximum allowed length %u.", len,
                            max);
            c->closing = true;
            break;
        }
        if (avail - SPATE_CQL_HEADER_LEN < h.length) break;
        c->in_off += SPATE_CQL_HEADER_LEN + h.length;
        conn_frame(c, &h, p + SPATE_CQL_HEADER_LEN);
    }
    if (c->in_off == c->in.len) {
        spate_buf_reset(&c->in);
        c->in_off = 0;
    } else if (c->in_off > (1u << 20)) {
        memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
        c->in.len -= c->in_off;
        c->in_off = 0;
    }
    return conn_flush(c);
}

static void conn_on_event(spate_loop_t *l, int fd, unsigned ev, void *ctx) {
    SPATE_UNUSED(l);
    SPATE_UNUSED(fd);
    cql_conn_t *c = ctx;
    if (ev & SPATE_EV_WRITE) {
        bool was_full = out_pending(c) >= OUT_HIGH;
        if (!conn_flush(c)) return;
        /* Requests that waited for the output to drain. */
        if (was_full && out_pending(c) < OUT_HIGH && c->in.len > c->in_off && !conn_process(c))
            return;
    }
    if (!(ev & SPATE_EV_READ)) return;
    if (c->closing || out_pending(c) >= OUT_HIGH) {
        /* Not reading now (errors and hang-ups are reported as READ even
         * when unwatched): close on the peer's end, else wait. */
        char one;
        ssize_t n = recv(c->fd, &one, 1, MSG_PEEK);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            cql_conn_close(c);
        return;
    }
    for (;;) {
        if (spate_buf_reserve(&c->in, READ_CHUNK) != SPATE_OK) {
            cql_conn_close(c);
            return;
        }
        ssize_t n = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1, 0);
        if (n > 0) {
            c->in.len += (size_t)n;
            c->in.data[c->in.len] = '\0';
            if ((size_t)n < READ_CHUNK) break;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        cql_conn_close(c); /* EOF or error */
        return;
    }
    conn_process(c);
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */
/* ------------------------------------------------------------------ */

void cql_conn_close(cql_conn_t *c) {
    spate_cql_server_t *srv = c->srv;
    spate_loop_unwatch(srv->loop, c->fd);
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    spate_log(SPATE_LOG_DEBUG, "cql", "%s: closed", c->peer);
    spate_buf_free(&c->in);
    spate_buf_free(&c->out);
    free(c->keyspace);
    free(c);
}

cql_conn_t *cql_conn_open(spate_cql_server_t *srv, int fd, const char *peer) {
    cql_conn_t *c = spate_xcalloc(1, sizeof *c);
    c->srv = srv;
    c->fd = fd;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    c->next = srv->conns;
    if (srv->conns) srv->conns->prev = c;
    srv->conns = c;
    if (spate_loop_watch(srv->loop, fd, SPATE_EV_READ, conn_on_event, c) != SPATE_OK) {
        cql_conn_close(c);
        return NULL;
    }
    return c;
}

static void store_before_sleep(spate_loop_t *l, void *ctx);

bool cql_conn_input(cql_conn_t *c, const void *p, size_t n) {
    spate_cql_server_t *srv = c->srv;
    if (spate_buf_append(&c->in, p, n) != SPATE_OK) {
        cql_conn_close(c);
        return false;
    }
    if (!conn_process(c)) return false;
    /* The end of the loop turn: the WAL write, then the held responses. */
    if (srv->store) store_before_sleep(srv->loop, srv);
    for (cql_conn_t *x = srv->conns; x; x = x->next)
        if (x == c) return true;
    return false; /* closed while its responses were sent */
}

static void on_conn(void *ctx, int cfd, const char *peer) {
    if (cql_conn_open(ctx, cfd, peer)) spate_log(SPATE_LOG_DEBUG, "cql", "%s: connected", peer);
}

/* ------------------------------------------------------------------ */
/* The server                                                          */
/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* Commit log sync                                                     */
/* ------------------------------------------------------------------ */

static void sync_timer_fired(spate_loop_t *l, void *ctx) {
    spate_cql_server_t *srv = ctx;
    srv->sync_timer = NULL;
    store_before_sleep(l, srv);
}

/* A failed WAL write or fsync (the store logged it): try again in 100 ms;
 * the held answers wait for it. */
static void sync_retry(spate_loop_t *l, spate_cql_server_t *srv) {
    if (!srv->sync_timer) srv->sync_timer = spate_loop_timer(l, 100, sync_timer_fired, srv);
}

/* BATCH mode: the fsync runs on a thread of its own, so the loop goes on
 * reading, executing and applying while the disk works (group commit,
 * pipelined):
 *
 *   loop turn ends ─▶ the turn's writes to the OS (sync_begin) ─┐
 *     no sync in flight: every conn's out_sync = out.len, and    │
 *     the syncer is woken                                        │
 *   syncer: FlushWAL + fdatasync (spate_cql_store_sync_wal) ─────┤
 *     eventfd ─▶ sync_done on the loop: out_ok = out_sync (those │
 *     answers go out), and at once the next sync if writes came  │
 *     in meanwhile (their answers wait for it) ◀─────────────────┘
 *
 * An answer is released only by the fsync that began after its write
 * reached the OS, so nothing is acknowledged before it is on disk. One
 * sync is in flight at a time; a failed one (logged by the store) is
 * retried in 100 ms. */
struct cql_syncer {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int efd;           /* written by the thread when a sync ended */
    bool want, stop;   /* under mu */
    spate_status_t rc; /* under mu: the last sync's result */
    bool busy;         /* loop thread: a sync is in flight */
    uint64_t gen;      /* loop thread: the writes it covers */
    spate_cql_store_t *store;
};

static void *syncer_main(void *arg) {
    struct cql_syncer *y = arg;
    pthread_mutex_lock(&y->mu);
    for (;;) {
        while (!y->want && !y->stop) pthread_cond_wait(&y->cv, &y->mu);
        if (!y->want) break; /* stop, nothing asked */
        y->want = false;
        pthread_mutex_unlock(&y->mu);
        spate_status_t rc = spate_cql_store_sync_wal(y->store);
        pthread_mutex_lock(&y->mu);
        y->rc = rc;
        uint64_t one = 1;
        while (write(y->efd, &one, sizeof one) < 0 && errno == EINTR) {
        }
    }
    pthread_mutex_unlock(&y->mu);
    return NULL;
}

static void batch_before_sleep(spate_loop_t *l, spate_cql_server_t *srv);

static void sync_done(spate_loop_t *l, int fd, unsigned ev, void *ctx) {
    SPATE_UNUSED(ev);
    spate_cql_server_t *srv = ctx;
    struct cql_syncer *y = srv->syncer;
    uint64_t n;
    if (read(fd, &n, sizeof n) < 0 || !y->busy) return;
    pthread_mutex_lock(&y->mu);
    spate_status_t rc = y->rc;
    pthread_mutex_unlock(&y->mu);
    y->busy = false;
    spate_cql_store_sync_end(srv->store, y->gen, rc == SPATE_OK);
    if (rc != SPATE_OK) {
        sync_retry(l, srv);
        return;
    }
    for (cql_conn_t *c = srv->conns, *next; c; c = next) {
        next = c->next;
        if (c->out_sync > c->out_ok) c->out_ok = c->out_sync;
        if (out_pending(c)) conn_flush(c);
    }
    batch_before_sleep(l, srv); /* the writes that came in meanwhile */
}

static void batch_before_sleep(spate_loop_t *l, spate_cql_server_t *srv) {
    struct cql_syncer *y = srv->syncer;
    if (y->busy) { /* this turn's writes reach the OS now, the next sync covers them */
        if (spate_cql_store_flush_wal(srv->store) != SPATE_OK) sync_retry(l, srv);
        return;
    }
    if (responses_held(srv)) {
        if (spate_cql_store_sync_begin(srv->store, &y->gen) != SPATE_OK) {
            sync_retry(l, srv);
            return;
        }
        if (responses_held(srv)) { /* unsynced writes: sync them */
            for (cql_conn_t *c = srv->conns; c; c = c->next) c->out_sync = c->out.len;
            y->busy = true;
            pthread_mutex_lock(&y->mu);
            y->want = true;
            pthread_cond_signal(&y->cv);
            pthread_mutex_unlock(&y->mu);
            return;
        }
    }
    for (cql_conn_t *c = srv->conns, *next; c; c = next) { /* nothing to wait for */
        next = c->next;
        if (out_pending(c) && c->out_ok < c->out.len) conn_flush(c);
    }
}

static void syncer_free(spate_cql_server_t *srv) {
    struct cql_syncer *y = srv->syncer;
    if (!y) return;
    pthread_mutex_lock(&y->mu);
    y->stop = true;
    pthread_cond_signal(&y->cv);
    pthread_mutex_unlock(&y->mu);
    pthread_join(y->th, NULL);
    if (srv->loop) spate_loop_unwatch(srv->loop, y->efd);
    close(y->efd);
    pthread_mutex_destroy(&y->mu);
    pthread_cond_destroy(&y->cv);
    free(y);
    srv->syncer = NULL;
}

static bool syncer_start(spate_cql_server_t *srv, char *err, size_t errlen) {
    struct cql_syncer *y = spate_xcalloc(1, sizeof *y);
    y->store = srv->store;
    y->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (y->efd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        free(y);
        return false;
    }
    pthread_mutex_init(&y->mu, NULL);
    pthread_cond_init(&y->cv, NULL);
    int e = pthread_create(&y->th, NULL, syncer_main, y);
    if (e != 0) {
        snprintf(err, errlen, "cannot start the commit-log sync thread: %s", strerror(e));
        close(y->efd);
        pthread_mutex_destroy(&y->mu);
        pthread_cond_destroy(&y->cv);
        free(y);
        return false;
    }
    srv->syncer = y;
    spate_loop_watch(srv->loop, y->efd, SPATE_EV_READ, sync_done, srv);
    return true;
}

/* Runs once per loop turn, before epoll waits. Every write of the turn
 * goes to the OS in one write(2) (spate_cql_store_flush_wal); BATCH: the
 * syncer's fsync covers them (batch_before_sleep, above). PERIODIC: an
 * fsync when one is due, else a timer for when it will be; then the held
 * responses go out. A failed WAL write or fsync (the store logged it) is
 * retried in 100 ms and the responses wait for it, so nothing is
 * acknowledged before it is in the WAL (PERIODIC) or on disk (BATCH). */
static void store_before_sleep(spate_loop_t *l, void *ctx) {
    spate_cql_server_t *srv = ctx;
    if (srv->syncer) {
        batch_before_sleep(l, srv);
        return;
    }
    bool held = responses_held(srv);
    int64_t now = spate_mono_ms();
    int64_t due = spate_cql_store_sync_due(srv->store, now);
    spate_status_t st = due == 0 ? spate_cql_store_sync(srv->store) /* includes the write */
                                 : spate_cql_store_flush_wal(srv->store);
    if (st != SPATE_OK) {
        sync_retry(l, srv);
        return;
    }
    if (due > 0 && !srv->sync_timer)
        srv->sync_timer = spate_loop_timer(l, due, sync_timer_fired, srv);
    if (held && !responses_held(srv)) {
        for (cql_conn_t *c = srv->conns, *n; c; c = n) {
            n = c->next;
            if (out_pending(c)) conn_flush(c);
        }
    }
}

/* mkdir -p */
static bool make_dirs(const char *path, char *err, size_t errlen) {
    char p[1024];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1;; s++) {
        bool end = *s == '\0';
        if (*s == '/' || end) {
            *s = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                snprintf(err, errlen, "cannot create %s: %s", p, strerror(errno));
                return false;
            }
            if (end) break;
            *s = '/';
        }
    }
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s is not a directory", path);
        return false;
    }
    return true;
}

spate_status_t spate_cql_server_start(spate_cql_server_t **out, const spate_cql_conf_t *c,
                                      char *err, size_t errlen) {
    spate_cql_server_t *srv = spate_xcalloc(1, sizeof *srv);
    srv->conf = *c;
    srv->listen_fd = -1;
    size_t buckets = 64;
    while (buckets < (size_t)SPATE_MAX(c->max_prepared, 1) && buckets < (1u << 16)) buckets <<= 1;
    srv->prep_tab = spate_xcalloc(buckets, sizeof *srv->prep_tab);
    srv->prep_mask = buckets - 1;
    if (!make_dirs(c->data_dir, err, errlen)) goto err;
    if (cql_schema_open(&srv->schema, c->data_dir, c->fsync, err, errlen) != SPATE_OK) goto err;
    char dpath[1100];
    snprintf(dpath, sizeof dpath, "%s/data", c->data_dir);
    spate_cql_store_conf_t sc = {
        .sync_mode =
            c->commitlog_batch ? SPATE_CQL_STORE_SYNC_BATCH : SPATE_CQL_STORE_SYNC_PERIODIC,
        .period_ms = c->commitlog_sync_period_ms,
        .block_cache_bytes = c->block_cache_bytes,
        .write_buffer_bytes = c->write_buffer_bytes,
    };
    if (spate_cql_store_open(dpath, &sc, &srv->store, err, errlen) != SPATE_OK) goto err;
    /* host_id: the same for the same data directory across restarts. */
    static const uint8_t ns[16] = {0x5a, 0x7e, 0xc9, 0x1d, 0x32, 0x4f, 0x4b, 0x9e,
                                   0x8d, 0x21, 0x6c, 0x0e, 0x95, 0x3b, 0x7a, 0x41};
    char real[PATH_MAX];
    const char *dir = realpath(c->data_dir, real) ? real : c->data_dir;
    spate_uuid_v5(ns, dir, strlen(dir), srv->host_id);
    srv->gossip_generation = (int32_t)(spate_wall_ms() / 1000);
    srv->loop = spate_loop_new();
    if (!srv->loop) {
        snprintf(err, errlen, "cannot create the event loop");
        goto err;
    }
    srv->listen_fd = spate_net_listen(&c->listen);
    if (srv->listen_fd < 0) {
        char a[80];
        spate_net_addr_format(&c->listen, a, sizeof a);
        snprintf(err, errlen, "cannot listen on %s: %s", a, strerror(errno));
        goto err;
    }
    spate_net_addr_t bound = {.len = sizeof bound.ss};
    getsockname(srv->listen_fd, (struct sockaddr *)&bound.ss, &bound.len);
    srv->port = spate_net_addr_port(&bound);
    if (bound.ss.ss_family == AF_INET6) {
        srv->addr.len = 16;
        memcpy(srv->addr.addr, &((struct sockaddr_in6 *)&bound.ss)->sin6_addr, 16);
    } else {
        srv->addr.len = 4;
        memcpy(srv->addr.addr, &((struct sockaddr_in *)&bound.ss)->sin_addr, 4);
    }
    srv->addr.port = srv->port;
    if (spate_net_acceptor_start(&srv->acceptor, srv->loop, srv->listen_fd, "cql", on_conn, srv) !=
        SPATE_OK) {
        snprintf(err, errlen, "cannot watch the listening socket: %s", strerror(errno));
        goto err;
    }
    spate_loop_before_sleep(srv->loop, store_before_sleep, srv);
    if (c->commitlog_batch && !syncer_start(srv, err, errlen)) goto err;
    *out = srv;
    return SPATE_OK;
err:
    spate_cql_server_free(srv);
    return SPATE_EIO;
}

int spate_cql_server_port(const spate_cql_server_t *s) { return s->port; }

spate_status_t spate_cql_server_run(spate_cql_server_t *s) { return spate_loop_run(s->loop); }

void spate_cql_server_stop(spate_cql_server_t *s) {
    if (s && s->loop) spate_loop_stop(s->loop);
}

void spate_cql_server_free(spate_cql_server_t *s) {
    if (!s) return;
    while (s->conns) cql_conn_close(s->conns);
    if (s->prep_tab) prep_clear(s);
    free(s->prep_tab);
    cql_exec_free(s);
    cql_schema_free(s->schema);
    if (s->listen_fd >= 0) close(s->listen_fd);
    syncer_free(s);                  /* before the store it syncs */
    spate_loop_free(s->loop);        /* and the sync timer */
    spate_cql_store_close(s->store); /* syncs what is unsynced */
    free(s);
}

void cql_server_reset(spate_cql_server_t *srv) {
    prep_clear(srv);
    cql_schema_clear_user(srv->schema);
    cql_exec_schema_changed(srv); /* its views pointed into the tables just freed */
}

/* ------------------------------------------------------------------ */
/* Probe                                                               */
/* ------------------------------------------------------------------ */

static size_t probe_frame_len(const uint8_t *p, size_t n) {
    if (n < SPATE_CQL_HEADER_LEN) return 0;
    uint32_t len = (uint32_t)p[5] << 24 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 8 | p[8];
    return len > (1u << 20) ? SPATE_CQL_HEADER_LEN : SPATE_CQL_HEADER_LEN + len;
}

spate_status_t spate_cql_probe(const spate_net_addr_t *addr, int timeout_ms, char *info,
                               size_t infolen, char *err, size_t errlen) {
    uint8_t req[SPATE_CQL_HEADER_LEN + 1];
    spate_buf_t w;
    spate_buf_init_fixed(&w, req, sizeof req);
    spate_cql_header_t h = {.version = SPATE_CQL_VERSION, .opcode = SPATE_CQL_OP_OPTIONS};
    size_t mark;
    spate_cql_frame_begin(&w, &h, &mark);
    spate_cql_frame_end(&w, mark);
    spate_buf_t resp = SPATE_BUF_INIT;
    spate_status_t st =
        spate_net_exchange(addr, w.data, w.len, probe_frame_len, &resp, timeout_ms, err, errlen);
    if (st != SPATE_OK) goto out;
    st = SPATE_ERR;
    spate_cql_header_t rh;
    spate_cql_response_t r;
    if (spate_cql_header_parse(resp.data, resp.len, 1u << 20, &rh) != SPATE_OK || !rh.response ||
        resp.len != SPATE_CQL_HEADER_LEN + rh.length ||
        spate_cql_response_decode(&rh, resp.data + SPATE_CQL_HEADER_LEN, rh.length, &r) !=
            SPATE_OK) {
        snprintf(err, errlen, "the answer is not a CQL native protocol response");
        goto out;
    }
    if (rh.opcode == SPATE_CQL_OP_ERROR) {
        snprintf(err, errlen, "OPTIONS answered ERROR 0x%04x: %.*s", (unsigned)r.error.code,
                 (int)SPATE_MIN(r.error.message.len, 200), r.error.message.p);
    } else if (rh.opcode != SPATE_CQL_OP_SUPPORTED) {
        snprintf(err, errlen, "OPTIONS answered %s instead of SUPPORTED",
                 spate_cql_opcode_name(rh.opcode) ? spate_cql_opcode_name(rh.opcode) : "?");
    } else {
        const spate_cql_mmentry_t *e = spate_cql_multimap_get(&r.supported, "CQL_VERSION");
        if (info)
            snprintf(info, infolen, "CQL %.*s", e && e->n ? (int)e->values[0].len : 1,
                     e && e->n ? e->values[0].p : "?");
        st = SPATE_OK;
    }
    spate_cql_response_free(&r);
out:
    spate_buf_free(&resp);
    return st;
}
