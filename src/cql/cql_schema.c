/*
 * cql_schema.c — the schema catalog: keyspaces, tables, columns; DDL
 * with Cassandra's checks and messages; schema.cql persistence.
 *
 * The layout, the file format and the lifetime rules are in cql_schema.h.
 * How a DDL statement is made durable:
 *
 *   validate (nothing changed yet; a refusal is res->code)
 *     └─▶ build the new object (a new table, or a modified copy of one)
 *           └─▶ swap it into the catalog
 *                 └─▶ rewrite schema.cql (temp file, fsync, rename, fsync dir)
 *                       ├─ ok:     free the old object, new schema_version
 *                       └─ failed: swap back, free the new one, SPATE_EIO
 *
 * schema_version is a name-based (MD5, version 3) UUID of the file's
 * statements, so it changes with every change of content and is the same
 * after a restart.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cql_int.h"

#define NAME_LENGTH 48 /* keyspace and table names, as Cassandra */
#define SYSTEM_TABLE_ID_BASE 0xFFFF0000u

const char *const cql_system_keyspaces[] = {
    "system", "system_schema", "system_auth", "system_distributed", "system_traces", NULL};

bool cql_is_system_keyspace(const char *name) {
    for (size_t i = 0; cql_system_keyspaces[i]; i++)
        if (strcmp(name, cql_system_keyspaces[i]) == 0) return true;
    return false;
}

const char *cql_col_kind_name(cql_col_kind_t k) {
    switch (k) {
    case CQL_KIND_PARTITION_KEY: return "partition_key";
    case CQL_KIND_CLUSTERING: return "clustering";
    case CQL_KIND_STATIC: return "static";
    case CQL_KIND_REGULAR: return "regular";
    }
    return "regular";
}

/* How a statement reaches the catalog: from a client, from schema.cql at
 * start (the spate_* properties are accepted, nothing is written), or as
 * a system table defined in code. */
typedef enum { MODE_CLIENT, MODE_LOAD, MODE_SYSTEM } exec_mode_t;

static void res_set(cql_ddl_result_t *res, int32_t code, const char *fmt, ...) SPATE_PRINTF(3, 4);
static void res_set(cql_ddl_result_t *res, int32_t code, const char *fmt, ...) {
    res->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->msg, sizeof res->msg, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

static void option_free(cql_option_t *o) {
    free(o->name);
    free(o->text);
    for (uint32_t i = 0; i < o->n; i++) {
        free(o->keys[i]);
        free(o->vals[i]);
    }
    free(o->keys);
    free(o->vals);
    memset(o, 0, sizeof *o);
}

static void option_copy(cql_option_t *dst, const cql_option_t *src) {
    memset(dst, 0, sizeof *dst);
    dst->name = src->name ? spate_xstrdup(src->name) : NULL;
    dst->text = src->text ? spate_xstrdup(src->text) : NULL;
    dst->quoted = src->quoted;
    dst->n = src->n;
    if (src->n) {
        dst->keys = spate_xcalloc(src->n, sizeof *dst->keys);
        dst->vals = spate_xcalloc(src->n, sizeof *dst->vals);
        for (uint32_t i = 0; i < src->n; i++) {
            dst->keys[i] = spate_xstrdup(src->keys[i]);
            dst->vals[i] = spate_xstrdup(src->vals[i]);
        }
    }
}

static const char *option_get(const cql_option_t *o, const char *key) {
    for (uint32_t i = 0; i < o->n; i++)
        if (strcmp(o->keys[i], key) == 0) return o->vals[i];
    return NULL;
}

/* Sets key (replacing) in a map option. */
static void option_put(cql_option_t *o, const char *key, const char *val) {
    for (uint32_t i = 0; i < o->n; i++)
        if (strcmp(o->keys[i], key) == 0) {
            free(o->vals[i]);
            o->vals[i] = spate_xstrdup(val);
            return;
        }
    o->keys = spate_xrealloc(o->keys, (o->n + 1) * sizeof *o->keys);
    o->vals = spate_xrealloc(o->vals, (o->n + 1) * sizeof *o->vals);
    o->keys[o->n] = spate_xstrdup(key);
    o->vals[o->n] = spate_xstrdup(val);
    o->n++;
}

/* Sorts a map option by key (frozen maps are ordered by key). */
static void option_sort(cql_option_t *o) {
    for (uint32_t i = 1; i < o->n; i++)
        for (uint32_t j = i; j > 0 && strcmp(o->keys[j - 1], o->keys[j]) > 0; j--) {
            char *k = o->keys[j], *v = o->vals[j];
            o->keys[j] = o->keys[j - 1];
            o->vals[j] = o->vals[j - 1];
            o->keys[j - 1] = k;
            o->vals[j - 1] = v;
        }
}

/* A constant's text as a C string; false (and a Syntax error) if it holds
 * a NUL byte, which no option needs. */
static bool lit_text(const spate_cql_term_t *t, const char *prop, char **out,
                     cql_ddl_result_t *res) {
    if (t->kind != SPATE_CQL_TERM_CONST) {
        res_set(res, SPATE_CQL_ERR_SYNTAX, "Invalid value for property '%s'", prop);
        return false;
    }
    if (memchr(t->lit.text, '\0', t->lit.len)) {
        res_set(res, SPATE_CQL_ERR_SYNTAX, "Invalid value for property '%s': it holds a NUL byte",
                prop);
        return false;
    }
    *out = spate_xstrdup(t->lit.text);
    return true;
}

/* A property as written into an option (scalar or map). */
static bool option_from_prop(const spate_cql_prop_t *p, cql_option_t *o, cql_ddl_result_t *res) {
    memset(o, 0, sizeof *o);
    o->name = spate_xstrdup(p->name);
    const spate_cql_term_t *v = p->value;
    if (v->kind == SPATE_CQL_TERM_MAP) {
        for (uint32_t i = 0; i < v->map.n; i++) {
            char *k, *val;
            if (!lit_text(v->map.keys[i], p->name, &k, res)) goto fail;
            if (!lit_text(v->map.vals[i], p->name, &val, res)) {
                free(k);
                goto fail;
            }
            option_put(o, k, val);
            free(k);
            free(val);
        }
        option_sort(o);
        return true;
    }
    if (!lit_text(v, p->name, &o->text, res)) goto fail;
    o->quoted = v->lit.kind == SPATE_CQL_LIT_STRING;
    return true;
fail:
    option_free(o);
    return false;
}

/* ------------------------------------------------------------------ */
/* Types                                                               */
/* ------------------------------------------------------------------ */

static const char DURATION_CLASS[] = "org.apache.cassandra.db.marshal.DurationType";

static bool is_collection(spate_cql_type_t id) {
    return id == SPATE_CQL_LIST || id == SPATE_CQL_SET || id == SPATE_CQL_MAP;
}

/* The system_schema spelling of a parsed type. */
static void type_text(const spate_cql_typeref_t *r, spate_buf_t *b, int depth) {
    if (depth > SPATE_CQL_PARSE_MAX_DEPTH + 1) return;
    if (r->id == SPATE_CQL_UDT || r->id == SPATE_CQL_CUSTOM) {
        if (r->frozen) spate_buf_puts(b, "frozen<");
        if (r->ks) spate_buf_printf(b, "%s.", r->ks);
        spate_buf_puts(b, r->name ? r->name : "");
        if (r->frozen) spate_buf_putc(b, '>');
        return;
    }
    /* Tuples are always frozen, and say so. */
    bool frozen = r->id == SPATE_CQL_TUPLE || (r->frozen && (is_collection(r->id)));
    if (frozen) spate_buf_puts(b, "frozen<");
    const char *n = spate_cql_type_name(r->id);
    spate_buf_puts(b, n ? n : "?");
    if (r->nargs) {
        spate_buf_putc(b, '<');
        for (uint32_t i = 0; i < r->nargs; i++) {
            if (i) spate_buf_puts(b, ", ");
            type_text(r->args[i], b, depth + 1);
        }
        spate_buf_putc(b, '>');
    }
    if (frozen) spate_buf_putc(b, '>');
}

static spate_status_t type_rec(const spate_cql_typeref_t *r, int depth, bool inside,
                               spate_cql_datatype_t *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (depth >= SPATE_CQL_MAX_TYPE_DEPTH) {
        snprintf(err, errlen, "Type nesting is too deep (at most %d levels)",
                 SPATE_CQL_MAX_TYPE_DEPTH);
        return SPATE_EINVAL;
    }
    spate_buf_t t = SPATE_BUF_INIT;
    spate_status_t st = SPATE_EINVAL;
    switch (r->id) {
    case SPATE_CQL_UDT:
        if (r->ks)
            snprintf(err, errlen, "Unknown type %s.%s", r->ks, r->name ? r->name : "");
        else
            snprintf(err, errlen, "Unknown type %s", r->name ? r->name : "");
        return SPATE_EINVAL;
    case SPATE_CQL_CUSTOM:
        snprintf(err, errlen, "Custom types are not supported by spate cql ('%s')",
                 r->name ? r->name : "");
        return SPATE_EINVAL;
    case SPATE_CQL_LIST:
    case SPATE_CQL_SET:
    case SPATE_CQL_MAP:
    case SPATE_CQL_TUPLE: {
        type_text(r, &t, 0);
        if (inside && is_collection(r->id) && !r->frozen) {
            snprintf(err, errlen, "Non-frozen collections are not allowed inside collections: %s",
                     t.data);
            goto out;
        }
        uint16_t n = (uint16_t)SPATE_MIN(r->nargs, 65535u);
        if ((r->id == SPATE_CQL_MAP && n != 2) ||
            (r->id != SPATE_CQL_MAP && r->id != SPATE_CQL_TUPLE && n != 1) || n == 0) {
            snprintf(err, errlen, "Invalid type %s", t.data);
            goto out;
        }
        for (uint16_t i = 0; i < n; i++) {
            const spate_cql_typeref_t *a = r->args[i];
            if (r->id != SPATE_CQL_TUPLE && a->id == SPATE_CQL_COUNTER) {
                snprintf(err, errlen, "Counters are not allowed inside collections: %s", t.data);
                goto out;
            }
            if (a->id == SPATE_CQL_DURATION && r->id == SPATE_CQL_SET) {
                snprintf(err, errlen, "Durations are not allowed inside sets: %s", t.data);
                goto out;
            }
            if (a->id == SPATE_CQL_DURATION && r->id == SPATE_CQL_MAP && i == 0) {
                snprintf(err, errlen, "Durations are not allowed as map keys: %s", t.data);
                goto out;
            }
        }
        if (spate_cql_datatype_make(out, r->id, n) != SPATE_OK) {
            st = SPATE_ENOMEM;
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        for (uint16_t i = 0; i < n; i++) {
            st = type_rec(r->args[i], depth + 1, true, &out->sub[i], err, errlen);
            if (st != SPATE_OK) {
                spate_cql_datatype_free(out);
                goto out;
            }
        }
        st = SPATE_OK;
        goto out;
    }
    default: break;
    }
    if (r->frozen) {
        type_text(r, &t, 0);
        snprintf(err, errlen,
                 "frozen<> is only allowed on collections, tuples, and user-defined types (got %s)",
                 spate_cql_type_name(r->id) ? spate_cql_type_name(r->id) : "?");
        goto out;
    }
    if (!spate_cql_type_name(r->id)) {
        snprintf(err, errlen, "Unknown type");
        goto out;
    }
    if (r->id == SPATE_CQL_DURATION) {
        /* Protocol v4 has no duration id: Cassandra sends its class name. */
        out->id = SPATE_CQL_CUSTOM;
        out->name = (spate_slice_t){DURATION_CLASS, (int32_t)sizeof DURATION_CLASS - 1};
    } else {
        out->id = r->id;
    }
    st = SPATE_OK;
out:
    spate_buf_free(&t);
    return st;
}

spate_status_t cql_type_from_ref(const spate_cql_typeref_t *r, spate_buf_t *text,
                                 spate_cql_datatype_t *out, char *err, size_t errlen) {
    spate_status_t st = type_rec(r, 0, false, out, err, errlen);
    if (st != SPATE_OK) return st;
    type_text(r, text, 0);
    if (!text->data) spate_buf_puts(text, "");
    return SPATE_OK;
}

spate_status_t cql_type_copy(spate_cql_datatype_t *dst, const spate_cql_datatype_t *src) {
    memset(dst, 0, sizeof *dst);
    if (!src->n) {
        *dst = *src;
        dst->sub = NULL;
        dst->fields = NULL;
        return SPATE_OK;
    }
    if (spate_cql_datatype_make(dst, src->id, src->n) != SPATE_OK) return SPATE_ENOMEM;
    dst->keyspace = src->keyspace;
    dst->name = src->name;
    for (uint16_t i = 0; i < src->n; i++) {
        if (src->fields && dst->fields) dst->fields[i] = src->fields[i];
        if (cql_type_copy(&dst->sub[i], &src->sub[i]) != SPATE_OK) {
            spate_cql_datatype_free(dst);
            return SPATE_ENOMEM;
        }
    }
    return SPATE_OK;
}

/* A non-frozen collection (its cells are elements, not one value). */
static bool multi_cell(const cql_column_t *c) {
    const char *t = c->type_text;
    return strncmp(t, "list<", 5) == 0 || strncmp(t, "set<", 4) == 0 || strncmp(t, "map<", 4) == 0;
}

/* ------------------------------------------------------------------ */
/* Objects                                                             */
/* ------------------------------------------------------------------ */

static void column_free(cql_column_t *c) {
    free(c->name);
    free(c->type_text);
    spate_cql_datatype_free(&c->type);
}

static void table_free(cql_table_t *t) {
    if (!t) return;
    free(t->name);
    for (uint32_t i = 0; i < t->ncols; i++) column_free(&t->cols[i]);
    free(t->cols);
    for (uint32_t i = 0; i < t->nopts; i++) option_free(&t->opts[i]);
    free(t->opts);
    free(t);
}

static void keyspace_free(cql_keyspace_t *k) {
    if (!k) return;
    for (uint32_t i = 0; i < k->ntables; i++) table_free(k->tables[i]);
    free(k->tables);
    free(k->name);
    option_free(&k->replication);
    free(k);
}

/* A deep copy, for ALTER TABLE (the copy is changed, then swapped in). */
static cql_table_t *table_clone(const cql_table_t *src) {
    cql_table_t *t = spate_xcalloc(1, sizeof *t);
    *t = *src;
    t->name = spate_xstrdup(src->name);
    t->cols = spate_xcalloc(src->ncols ? src->ncols : 1, sizeof *t->cols);
    for (uint32_t i = 0; i < src->ncols; i++) {
        t->cols[i] = src->cols[i];
        t->cols[i].name = spate_xstrdup(src->cols[i].name);
        t->cols[i].type_text = spate_xstrdup(src->cols[i].type_text);
        if (cql_type_copy(&t->cols[i].type, &src->cols[i].type) != SPATE_OK) {
            /* keep the table well-formed for table_free */
            memset(&t->cols[i].type, 0, sizeof t->cols[i].type);
        }
    }
    t->opts = spate_xcalloc(src->nopts ? src->nopts : 1, sizeof *t->opts);
    for (uint32_t i = 0; i < src->nopts; i++) option_copy(&t->opts[i], &src->opts[i]);
    return t;
}

/* SELECT * order: partition key and clustering by position, then static
 * and regular columns, each group by name. */
static int col_cmp(const void *a, const void *b) {
    const cql_column_t *x = a, *y = b;
    if (x->kind != y->kind) return (int)x->kind - (int)y->kind;
    if (x->kind == CQL_KIND_PARTITION_KEY || x->kind == CQL_KIND_CLUSTERING)
        return x->position - y->position;
    return strcmp(x->name, y->name);
}

static void table_sort_columns(cql_table_t *t) {
    qsort(t->cols, t->ncols, sizeof *t->cols, col_cmp);
    t->npk = t->nck = 0;
    for (uint32_t i = 0; i < t->ncols; i++) {
        if (t->cols[i].kind == CQL_KIND_PARTITION_KEY) t->npk++;
        if (t->cols[i].kind == CQL_KIND_CLUSTERING) t->nck++;
    }
}

cql_keyspace_t *cql_schema_keyspace(const cql_schema_t *s, const char *name) {
    for (uint32_t i = 0; i < s->nks; i++)
        if (strcmp(s->ks[i]->name, name) == 0) return s->ks[i];
    return NULL;
}

static cql_table_t *ks_table(const cql_keyspace_t *k, const char *name, uint32_t *at) {
    for (uint32_t i = 0; i < k->ntables; i++)
        if (strcmp(k->tables[i]->name, name) == 0) {
            if (at) *at = i;
            return k->tables[i];
        }
    return NULL;
}

cql_table_t *cql_schema_table(const cql_schema_t *s, const char *ks, const char *name) {
    cql_keyspace_t *k = cql_schema_keyspace(s, ks);
    return k ? ks_table(k, name, NULL) : NULL;
}

const cql_column_t *cql_table_column(const cql_table_t *t, const char *name) {
    for (uint32_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0) return &t->cols[i];
    return NULL;
}

const cql_option_t *cql_table_option(const cql_table_t *t, const char *name) {
    for (uint32_t i = 0; i < t->nopts; i++)
        if (strcmp(t->opts[i].name, name) == 0) return &t->opts[i];
    return NULL;
}

/* Sorted insertion / removal in the keyspace and table arrays. */
static void ks_insert(cql_schema_t *s, cql_keyspace_t *k) {
    uint32_t at = 0;
    while (at < s->nks && strcmp(s->ks[at]->name, k->name) < 0) at++;
    s->ks = spate_xrealloc(s->ks, (s->nks + 1) * sizeof *s->ks);
    memmove(s->ks + at + 1, s->ks + at, (s->nks - at) * sizeof *s->ks);
    s->ks[at] = k;
    s->nks++;
}

static void ks_remove(cql_schema_t *s, cql_keyspace_t *k) {
    for (uint32_t i = 0; i < s->nks; i++)
        if (s->ks[i] == k) {
            memmove(s->ks + i, s->ks + i + 1, (s->nks - i - 1) * sizeof *s->ks);
            s->nks--;
            return;
        }
}

static void table_insert(cql_keyspace_t *k, cql_table_t *t) {
    uint32_t at = 0;
    while (at < k->ntables && strcmp(k->tables[at]->name, t->name) < 0) at++;
    k->tables = spate_xrealloc(k->tables, (k->ntables + 1) * sizeof *k->tables);
    memmove(k->tables + at + 1, k->tables + at, (k->ntables - at) * sizeof *k->tables);
    k->tables[at] = t;
    k->ntables++;
    t->ks = k;
}

static void table_remove(cql_keyspace_t *k, cql_table_t *t) {
    for (uint32_t i = 0; i < k->ntables; i++)
        if (k->tables[i] == t) {
            memmove(k->tables + i, k->tables + i + 1, (k->ntables - i - 1) * sizeof *k->tables);
            k->ntables--;
            return;
        }
}

static bool valid_name(const char *n) {
    size_t len = strlen(n);
    if (len == 0 || len > NAME_LENGTH) return false;
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

static void random_uuid(uint8_t u[16]) {
    size_t got = 0;
    while (got < 16) {
        ssize_t n = getrandom(u + got, 16 - got, 0);
        if (n > 0)
            got += (size_t)n;
        else if (n < 0 && errno != EINTR)
            break;
    }
    if (got < 16) { /* no entropy source: time and address are unique enough here */
        int64_t t = spate_wall_ms() ^ spate_mono_ns();
        spate_hash_raw(SPATE_HASH_MD5, &t, sizeof t, u);
    }
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
}

/* ------------------------------------------------------------------ */
/* Keyspace properties                                                 */
/* ------------------------------------------------------------------ */

static bool rf_valid(const char *v, cql_ddl_result_t *res) {
    int64_t rf;
    if (spate_parse_i64(v, INT32_MIN, INT32_MAX, &rf) != SPATE_OK) {
        res_set(res, SPATE_CQL_ERR_CONFIG, "Replication factor must be numeric; found %s", v);
        return false;
    }
    if (rf < 0) {
        res_set(res, SPATE_CQL_ERR_CONFIG, "Replication factor must be non-negative; found %s", v);
        return false;
    }
    return true;
}

/* Checks and normalises `replication = {...}` into o. */
static bool replication_from_prop(const spate_cql_prop_t *p, const char *ks, cql_option_t *o,
                                  cql_ddl_result_t *res) {
    static const char prefix[] = "org.apache.cassandra.locator.";
    if (p->value->kind != SPATE_CQL_TERM_MAP) {
        res_set(res, SPATE_CQL_ERR_SYNTAX,
                "Invalid value for property 'replication'. It should be a map.");
        return false;
    }
    if (!option_from_prop(p, o, res)) return false;
    const char *cls = option_get(o, "class");
    if (!cls) {
        res_set(res, SPATE_CQL_ERR_CONFIG, "Missing replication strategy class");
        goto fail;
    }
    char full[256];
    snprintf(full, sizeof full, "%s%s", strchr(cls, '.') ? "" : prefix, cls);
    const char *shortname =
        strncmp(full, prefix, sizeof prefix - 1) == 0 ? full + sizeof prefix - 1 : NULL;
    if (shortname && strcmp(shortname, "SimpleStrategy") == 0) {
        const char *rf = option_get(o, "replication_factor");
        if (!rf) {
            res_set(res, SPATE_CQL_ERR_CONFIG,
                    "SimpleStrategy requires a replication_factor strategy option.");
            goto fail;
        }
        if (!rf_valid(rf, res)) goto fail;
        for (uint32_t i = 0; i < o->n; i++)
            if (strcmp(o->keys[i], "class") != 0 && strcmp(o->keys[i], "replication_factor") != 0) {
                res_set(
                    res, SPATE_CQL_ERR_CONFIG,
                    "Unrecognized strategy option {%s} passed to SimpleStrategy for keyspace %s",
                    o->keys[i], ks);
                goto fail;
            }
    } else if (shortname && strcmp(shortname, "NetworkTopologyStrategy") == 0) {
        for (uint32_t i = 0; i < o->n; i++)
            if (strcmp(o->keys[i], "class") != 0 && !rf_valid(o->vals[i], res)) goto fail;
    } else if (shortname && (strcmp(shortname, "LocalStrategy") == 0 ||
                             strcmp(shortname, "EverywhereStrategy") == 0)) {
        res_set(res, SPATE_CQL_ERR_CONFIG,
                "Unable to use given strategy class: %s is reserved for internal use.", shortname);
        goto fail;
    } else {
        res_set(res, SPATE_CQL_ERR_CONFIG, "Unable to find replication strategy class '%s'", full);
        goto fail;
    }
    option_put(o, "class", full);
    option_sort(o);
    free(o->name);
    o->name = spate_xstrdup("replication");
    return true;
fail:
    option_free(o);
    return false;
}

static bool parse_bool(const char *s, bool *out) {
    if (strcasecmp(s, "true") == 0) {
        *out = true;
        return true;
    }
    if (strcasecmp(s, "false") == 0) {
        *out = false;
        return true;
    }
    return false;
}

/* Reads CREATE/ALTER KEYSPACE properties: *have_repl says whether
 * replication was given (into repl). */
static bool keyspace_props(const spate_cql_stmt_keyspace_t *k, cql_option_t *repl, bool *have_repl,
                           bool *durable, bool *have_durable, cql_ddl_result_t *res) {
    *have_repl = *have_durable = false;
    for (uint32_t i = 0; i < k->nprops; i++) {
        const spate_cql_prop_t *p = &k->props[i];
        if (strcmp(p->name, "replication") == 0) {
            if (!replication_from_prop(p, k->ks, repl, res)) goto fail;
            *have_repl = true;
        } else if (strcmp(p->name, "durable_writes") == 0) {
            if (p->value->kind != SPATE_CQL_TERM_CONST ||
                !parse_bool(p->value->lit.text, durable)) {
                res_set(res, SPATE_CQL_ERR_SYNTAX, "Invalid boolean value %s for 'durable_writes'",
                        p->value->kind == SPATE_CQL_TERM_CONST ? p->value->lit.text : "{...}");
                goto fail;
            }
            *have_durable = true;
        } else {
            res_set(res, SPATE_CQL_ERR_SYNTAX, "Unknown property '%s'", p->name);
            goto fail;
        }
    }
    return true;
fail:
    if (*have_repl) option_free(repl);
    *have_repl = false;
    return false;
}

/* ------------------------------------------------------------------ */
/* Table properties                                                    */
/* ------------------------------------------------------------------ */

typedef enum { OPT_TEXT, OPT_INT, OPT_DOUBLE, OPT_BOOL, OPT_MAP } opt_kind_t;

static const struct {
    const char *name;
    opt_kind_t kind;
} table_props[] = {
    {"additional_write_policy", OPT_TEXT},
    {"bloom_filter_fp_chance", OPT_DOUBLE},
    {"caching", OPT_MAP},
    {"cdc", OPT_BOOL},
    {"comment", OPT_TEXT},
    {"compaction", OPT_MAP},
    {"compression", OPT_MAP},
    {"crc_check_chance", OPT_DOUBLE},
    {"dclocal_read_repair_chance", OPT_DOUBLE},
    {"default_time_to_live", OPT_INT},
    {"gc_grace_seconds", OPT_INT},
    {"max_index_interval", OPT_INT},
    {"memtable_flush_period_in_ms", OPT_INT},
    {"min_index_interval", OPT_INT},
    {"read_repair", OPT_TEXT},
    {"read_repair_chance", OPT_DOUBLE},
    {"speculative_retry", OPT_TEXT},
};

/* Checks one table property (not id / spate_*) and turns it into an
 * option with class names completed. */
static bool table_prop(const spate_cql_prop_t *p, cql_option_t *o, cql_ddl_result_t *res) {
    size_t k = 0;
    while (k < SPATE_ARRAY_LEN(table_props) && strcmp(table_props[k].name, p->name) != 0) k++;
    if (k == SPATE_ARRAY_LEN(table_props)) {
        res_set(res, SPATE_CQL_ERR_SYNTAX, "Unknown property '%s'", p->name);
        return false;
    }
    opt_kind_t kind = table_props[k].kind;
    bool is_map = p->value->kind == SPATE_CQL_TERM_MAP;
    if (kind == OPT_MAP && !is_map) {
        res_set(res, SPATE_CQL_ERR_SYNTAX, "Invalid value for property '%s'. It should be a map.",
                p->name);
        return false;
    }
    if (kind != OPT_MAP && is_map) {
        res_set(res, SPATE_CQL_ERR_SYNTAX, "Invalid value for property '%s'. It should be a string",
                p->name);
        return false;
    }
    if (!option_from_prop(p, o, res)) return false;
    int64_t iv;
    double dv;
    bool bv;
    switch (kind) {
    case OPT_INT:
        if (spate_parse_i64(o->text, 0, INT32_MAX, &iv) != SPATE_OK) {
            res_set(res, SPATE_CQL_ERR_SYNTAX, "Invalid integer value %s for '%s'", o->text,
                    p->name);
            goto fail;
        }
        break;
    case OPT_DOUBLE:
        if (spate_parse_double(o->text, &dv) != SPATE_OK) {
            res_set(res, SPATE_CQL_ERR_SYNTAX, "Invalid double value %s for '%s'", o->text,
                    p->name);
            goto fail;
        }
        break;
    case OPT_BOOL:
        if (!parse_bool(o->text, &bv)) {
            res_set(res, SPATE_CQL_ERR_SYNTAX, "Invalid boolean value %s for '%s'", o->text,
                    p->name);
            goto fail;
        }
        break;
    case OPT_MAP: {
        const char *cls = option_get(o, "class");
        const char *prefix = NULL;
        if (strcmp(p->name, "compaction") == 0) {
            if (!cls) {
                res_set(res, SPATE_CQL_ERR_CONFIG,
                        "Missing sub-option 'class' for the 'compaction' option.");
                goto fail;
            }
            prefix = "org.apache.cassandra.db.compaction.";
        } else if (strcmp(p->name, "compression") == 0) {
            prefix = "org.apache.cassandra.io.compress.";
        }
        if (prefix && cls && !strchr(cls, '.')) {
            char full[256];
            snprintf(full, sizeof full, "%s%s", prefix, cls);
            option_put(o, "class", full);
        }
        break;
    }
    case OPT_TEXT: break;
    }
    return true;
fail:
    option_free(o);
    return false;
}

/* Replaces or appends an option. Takes o. */
static void table_set_option(cql_table_t *t, cql_option_t *o) {
    for (uint32_t i = 0; i < t->nopts; i++)
        if (strcmp(t->opts[i].name, o->name) == 0) {
            option_free(&t->opts[i]);
            t->opts[i] = *o;
            return;
        }
    t->opts = spate_xrealloc(t->opts, (t->nopts + 1) * sizeof *t->opts);
    t->opts[t->nopts++] = *o;
}

/* The storage ids schema.cql carries (MODE_LOAD only). */
typedef struct {
    bool have_table_id, have_next_col;
    int64_t table_id, next_col;
    const spate_cql_term_t *col_ids; /* map name -> id */
} stored_ids_t;

/* WITH properties of CREATE TABLE (create) or ALTER TABLE: checked and
 * applied to t. */
static bool table_props_apply(cql_table_t *t, const spate_cql_prop_t *props, uint32_t n,
                              bool create, exec_mode_t mode, stored_ids_t *ids,
                              cql_ddl_result_t *res) {
    for (uint32_t i = 0; i < n; i++) {
        const spate_cql_prop_t *p = &props[i];
        if (strcmp(p->name, "id") == 0) {
            if (!create) {
                res_set(res, SPATE_CQL_ERR_CONFIG, "Cannot alter table id.");
                return false;
            }
            const spate_cql_term_t *v = p->value;
            if (v->kind != SPATE_CQL_TERM_CONST ||
                spate_uuid_parse(v->lit.text, v->lit.len, t->uuid) != SPATE_OK) {
                res_set(res, SPATE_CQL_ERR_SYNTAX, "Invalid UUID value for property 'id'");
                return false;
            }
            continue;
        }
        if (mode == MODE_LOAD && ids && strncmp(p->name, "spate_", 6) == 0) {
            const spate_cql_term_t *v = p->value;
            if (strcmp(p->name, "spate_column_ids") == 0 && v->kind == SPATE_CQL_TERM_MAP) {
                ids->col_ids = v;
                continue;
            }
            int64_t *dst = strcmp(p->name, "spate_table_id") == 0         ? &ids->table_id
                           : strcmp(p->name, "spate_next_column_id") == 0 ? &ids->next_col
                                                                          : NULL;
            int64_t max = dst == &ids->table_id ? (int64_t)SYSTEM_TABLE_ID_BASE - 1 : 65535;
            if (!dst || v->kind != SPATE_CQL_TERM_CONST ||
                spate_parse_i64(v->lit.text, 1, max, dst) != SPATE_OK) {
                res_set(res, SPATE_CQL_ERR_SYNTAX, "Invalid value for property '%s'", p->name);
                return false;
            }
            if (dst == &ids->table_id)
                ids->have_table_id = true;
            else
                ids->have_next_col = true;
            continue;
        }
        cql_option_t o;
        if (!table_prop(p, &o, res)) return false;
        table_set_option(t, &o);
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* CREATE TABLE                                                        */
/* ------------------------------------------------------------------ */

static int index_of(const char *const *names, uint32_t n, const char *name) {
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0) return (int)i;
    return -1;
}

/* Checks a key column's type. */
static bool key_type_ok(const cql_column_t *c, cql_ddl_result_t *res) {
    if (multi_cell(c)) {
        res_set(res, SPATE_CQL_ERR_INVALID,
                "Invalid non-frozen collection type for PRIMARY KEY component %s", c->name);
        return false;
    }
    if (strcmp(c->type_text, "counter") == 0 || strcmp(c->type_text, "duration") == 0) {
        res_set(res, SPATE_CQL_ERR_INVALID, "%s type is not supported for PRIMARY KEY part %s",
                c->type_text, c->name);
        return false;
    }
    return true;
}

/* Counter tables: all non-key columns counters, or none. */
static bool counters_ok(cql_table_t *t, cql_ddl_result_t *res) {
    uint32_t counters = 0, others = 0;
    for (uint32_t i = 0; i < t->ncols; i++) {
        const cql_column_t *c = &t->cols[i];
        if (c->kind == CQL_KIND_PARTITION_KEY || c->kind == CQL_KIND_CLUSTERING) continue;
        if (strcmp(c->type_text, "counter") == 0)
            counters++;
        else
            others++;
    }
    if (counters && others) {
        res_set(res, SPATE_CQL_ERR_INVALID,
                "Cannot mix counter and non counter columns in the same table");
        return false;
    }
    t->counter = counters > 0;
    return true;
}

/* Builds a table from CREATE TABLE (validated as Cassandra does). On a
 * refusal returns NULL with res set. */
static cql_table_t *table_build(cql_schema_t *s, cql_keyspace_t *k,
                                const spate_cql_stmt_create_table_t *ct, exec_mode_t mode,
                                cql_ddl_result_t *res) {
    cql_table_t *t = spate_xcalloc(1, sizeof *t);
    t->ks = k;
    t->name = spate_xstrdup(ct->table.name);
    t->cols = spate_xcalloc(ct->ncols ? ct->ncols : 1, sizeof *t->cols);
    stored_ids_t ids = {0};
    if (ct->ncols > UINT16_MAX - 1) {
        res_set(res, SPATE_CQL_ERR_INVALID, "A table has at most %u columns", UINT16_MAX - 1);
        goto fail;
    }
    if (ct->compact_storage) {
        res_set(res, SPATE_CQL_ERR_INVALID,
                "COMPACT STORAGE tables are not supported by spate cql");
        goto fail;
    }
    for (uint32_t i = 0; i < ct->ncols; i++) {
        const spate_cql_coldef_t *d = &ct->cols[i];
        cql_column_t *c = &t->cols[t->ncols];
        if (strlen(d->name) > 65535) {
            res_set(res, SPATE_CQL_ERR_INVALID, "Column names are limited to 65535 bytes");
            goto fail;
        }
        spate_buf_t text = SPATE_BUF_INIT;
        char err[256];
        spate_status_t st = cql_type_from_ref(d->type, &text, &c->type, err, sizeof err);
        if (st != SPATE_OK) {
            spate_buf_free(&text);
            res_set(res, SPATE_CQL_ERR_INVALID, "%s", err);
            goto fail;
        }
        c->name = spate_xstrdup(d->name);
        c->type_text = spate_buf_detach(&text, NULL);
        c->id = (uint16_t)t->ncols; /* new tables number columns in definition order */
        t->ncols++;
        int pk = index_of(ct->pk, ct->npk, d->name), ck = index_of(ct->ck, ct->nck, d->name);
        c->position = -1;
        if (pk >= 0 || ck >= 0) {
            if (d->is_static) {
                res_set(res, SPATE_CQL_ERR_INVALID,
                        "Static column %s cannot be part of the PRIMARY KEY", d->name);
                goto fail;
            }
            c->kind = pk >= 0 ? CQL_KIND_PARTITION_KEY : CQL_KIND_CLUSTERING;
            c->position = pk >= 0 ? pk : ck;
            if (!key_type_ok(c, res)) goto fail;
        } else {
            c->kind = d->is_static ? CQL_KIND_STATIC : CQL_KIND_REGULAR;
            if (d->is_static && ct->nck == 0) {
                res_set(res, SPATE_CQL_ERR_INVALID,
                        "Static columns are only useful (and thus allowed) if the table has at "
                        "least one clustering column");
                goto fail;
            }
        }
    }
    for (uint32_t i = 0; i < ct->norder; i++) {
        const char *col = ct->order[i].col;
        int ck = index_of(ct->ck, ct->nck, col);
        if (ck < 0) {
            res_set(res, SPATE_CQL_ERR_INVALID,
                    "Only clustering key columns can be defined in CLUSTERING ORDER directive");
            goto fail;
        }
        if ((uint32_t)ck != i) {
            res_set(res, SPATE_CQL_ERR_INVALID,
                    "The order of columns in the CLUSTERING ORDER directive must be the one of the "
                    "clustering key (%s must appear before %s)",
                    ct->ck[i], col);
            goto fail;
        }
        for (uint32_t j = 0; j < t->ncols; j++)
            if (strcmp(t->cols[j].name, col) == 0) t->cols[j].desc = ct->order[i].desc;
    }
    if (ct->norder && ct->norder < ct->nck) {
        res_set(res, SPATE_CQL_ERR_INVALID, "Missing CLUSTERING ORDER for column %s",
                ct->ck[ct->norder]);
        goto fail;
    }
    if (!counters_ok(t, res)) goto fail;
    if (!table_props_apply(t, ct->props, ct->nprops, true, mode, &ids, res)) goto fail;
    table_sort_columns(t);

    /* Storage ids: from schema.cql, or new. */
    if (mode == MODE_LOAD && ids.have_table_id) {
        t->id = (uint32_t)ids.table_id;
        for (uint32_t i = 0; i < s->nks; i++)
            for (uint32_t j = 0; j < s->ks[i]->ntables; j++)
                if (s->ks[i]->tables[j]->id == t->id) {
                    res_set(res, SPATE_CQL_ERR_INVALID, "Table id %u is used twice", t->id);
                    goto fail;
                }
    } else if (mode == MODE_SYSTEM) {
        t->id = SYSTEM_TABLE_ID_BASE + k->ntables;
    } else {
        if (s->next_table_id >= SYSTEM_TABLE_ID_BASE) {
            res_set(res, SPATE_CQL_ERR_INVALID, "No table ids are left");
            goto fail;
        }
        t->id = s->next_table_id++;
    }
    if (mode == MODE_LOAD && ids.col_ids) {
        const spate_cql_term_t *m = ids.col_ids;
        uint32_t assigned = 0;
        for (uint32_t i = 0; i < m->map.n; i++) {
            const spate_cql_term_t *kt = m->map.keys[i], *vt = m->map.vals[i];
            int64_t id;
            if (kt->kind != SPATE_CQL_TERM_CONST || vt->kind != SPATE_CQL_TERM_CONST ||
                spate_parse_i64(vt->lit.text, 0, 65535, &id) != SPATE_OK) {
                res_set(res, SPATE_CQL_ERR_SYNTAX, "Invalid value for property 'spate_column_ids'");
                goto fail;
            }
            for (uint32_t j = 0; j < t->ncols; j++)
                if (strcmp(t->cols[j].name, kt->lit.text) == 0) {
                    t->cols[j].id = (uint16_t)id;
                    assigned++;
                }
            t->next_col_id = (uint16_t)SPATE_MAX((int64_t)t->next_col_id, id + 1);
        }
        if (assigned != t->ncols) {
            res_set(res, SPATE_CQL_ERR_INVALID,
                    "spate_column_ids does not name every column of the table");
            goto fail;
        }
        if (ids.have_next_col && ids.next_col > t->next_col_id)
            t->next_col_id = (uint16_t)ids.next_col;
    } else {
        t->next_col_id = (uint16_t)t->ncols;
    }
    /* The uuid: given (WITH id = ...), name-based for system tables, else random. */
    static const uint8_t zero[16];
    if (memcmp(t->uuid, zero, 16) == 0) {
        if (mode == MODE_SYSTEM) {
            char nm[256];
            int n = snprintf(nm, sizeof nm, "%s.%s", k->name, t->name);
            spate_hash_raw(SPATE_HASH_MD5, nm, (size_t)SPATE_MIN(n, (int)sizeof nm - 1), t->uuid);
            t->uuid[6] = (uint8_t)((t->uuid[6] & 0x0f) | 0x30);
            t->uuid[8] = (uint8_t)((t->uuid[8] & 0x3f) | 0x80);
        } else {
            random_uuid(t->uuid);
        }
    }
    return t;
fail:
    table_free(t);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* ALTER TABLE                                                         */
/* ------------------------------------------------------------------ */

static cql_column_t *column_find(cql_table_t *t, const char *name) {
    for (uint32_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0) return &t->cols[i];
    return NULL;
}

/* Applies ALTER TABLE to t (a copy); *changed says whether anything did. */
static bool table_alter(cql_table_t *t, const spate_cql_stmt_alter_table_t *at, exec_mode_t mode,
                        bool *changed, cql_ddl_result_t *res) {
    *changed = false;
    switch (at->op) {
    case SPATE_CQL_ALTER_ADD:
        for (uint32_t i = 0; i < at->ncols; i++) {
            const spate_cql_coldef_t *d = &at->cols[i];
            if (column_find(t, d->name)) {
                if (at->if_col) continue;
                res_set(res, SPATE_CQL_ERR_INVALID,
                        "Invalid column name %s because it conflicts with an existing column",
                        d->name);
                return false;
            }
            if (d->is_static && t->nck == 0) {
                res_set(res, SPATE_CQL_ERR_INVALID,
                        "Static columns are not allowed in COMPACT STORAGE tables or tables "
                        "without clustering columns");
                return false;
            }
            if (t->next_col_id == UINT16_MAX) {
                res_set(res, SPATE_CQL_ERR_INVALID, "Table %s has no column ids left", t->name);
                return false;
            }
            cql_column_t c = {0};
            spate_buf_t text = SPATE_BUF_INIT;
            char err[256];
            if (cql_type_from_ref(d->type, &text, &c.type, err, sizeof err) != SPATE_OK) {
                spate_buf_free(&text);
                res_set(res, SPATE_CQL_ERR_INVALID, "%s", err);
                return false;
            }
            c.name = spate_xstrdup(d->name);
            c.type_text = spate_buf_detach(&text, NULL);
            c.kind = d->is_static ? CQL_KIND_STATIC : CQL_KIND_REGULAR;
            c.position = -1;
            c.id = t->next_col_id++;
            bool is_counter = strcmp(c.type_text, "counter") == 0;
            bool has_regular = t->ncols > t->npk + t->nck;
            if (has_regular && is_counter != t->counter) {
                res_set(res, SPATE_CQL_ERR_INVALID,
                        is_counter ? "Cannot add a counter column (%s) in a non counter column "
                                     "family"
                                   : "Cannot add a non counter column (%s) in a counter column "
                                     "family",
                        c.name);
                column_free(&c);
                return false;
            }
            t->cols = spate_xrealloc(t->cols, (t->ncols + 1) * sizeof *t->cols);
            t->cols[t->ncols++] = c;
            t->counter = is_counter;
            table_sort_columns(t);
            *changed = true;
        }
        return true;
    case SPATE_CQL_ALTER_DROP:
        for (uint32_t i = 0; i < at->ncols; i++) {
            cql_column_t *c = column_find(t, at->cols[i].name);
            if (!c) {
                if (at->if_col) continue;
                res_set(res, SPATE_CQL_ERR_INVALID, "Column %s was not found in table %s",
                        at->cols[i].name, t->name);
                return false;
            }
            if (c->kind == CQL_KIND_PARTITION_KEY || c->kind == CQL_KIND_CLUSTERING) {
                res_set(res, SPATE_CQL_ERR_INVALID, "Cannot drop PRIMARY KEY part %s", c->name);
                return false;
            }
            column_free(c);
            size_t at_i = (size_t)(c - t->cols);
            memmove(c, c + 1, (t->ncols - at_i - 1) * sizeof *c);
            t->ncols--;
            *changed = true;
        }
        return true;
    case SPATE_CQL_ALTER_RENAME:
        for (uint32_t i = 0; i < at->ncols; i++) {
            cql_column_t *c = column_find(t, at->cols[i].name);
            if (!c) {
                if (at->if_col) continue;
                res_set(res, SPATE_CQL_ERR_INVALID, "Cannot rename unknown column %s in table %s",
                        at->cols[i].name, t->name);
                return false;
            }
            if (column_find(t, at->to[i])) {
                res_set(res, SPATE_CQL_ERR_INVALID,
                        "Cannot rename column %s to %s in table %s; another column of that name "
                        "already exist",
                        c->name, at->to[i], t->name);
                return false;
            }
            if (c->kind != CQL_KIND_PARTITION_KEY && c->kind != CQL_KIND_CLUSTERING) {
                res_set(res, SPATE_CQL_ERR_INVALID, "Cannot rename non PRIMARY KEY part %s",
                        c->name);
                return false;
            }
            free(c->name);
            c->name = spate_xstrdup(at->to[i]);
            *changed = true;
        }
        table_sort_columns(t);
        return true;
    case SPATE_CQL_ALTER_TYPE:
        res_set(res, SPATE_CQL_ERR_INVALID, "Altering column types is no longer supported");
        return false;
    case SPATE_CQL_ALTER_WITH:
        if (!table_props_apply(t, at->props, at->nprops, false, mode, NULL, res)) return false;
        *changed = true;
        return true;
    case SPATE_CQL_ALTER_DROP_COMPACT:
        res_set(res, SPATE_CQL_ERR_INVALID,
                "Cannot DROP COMPACT STORAGE as table %s is not a COMPACT STORAGE table", t->name);
        return false;
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* schema.cql                                                          */
/* ------------------------------------------------------------------ */

static void put_ident(spate_buf_t *b, const char *name) {
    spate_buf_putc(b, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"') spate_buf_putc(b, '"');
        spate_buf_putc(b, *p);
    }
    spate_buf_putc(b, '"');
}

static void put_string(spate_buf_t *b, const char *s) {
    spate_buf_putc(b, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'') spate_buf_putc(b, '\'');
        spate_buf_putc(b, *p);
    }
    spate_buf_putc(b, '\'');
}

static void put_option_value(spate_buf_t *b, const cql_option_t *o) {
    if (o->text) {
        if (o->quoted)
            put_string(b, o->text);
        else
            spate_buf_puts(b, o->text);
        return;
    }
    spate_buf_putc(b, '{');
    for (uint32_t i = 0; i < o->n; i++) {
        if (i) spate_buf_puts(b, ", ");
        put_string(b, o->keys[i]);
        spate_buf_puts(b, ": ");
        put_string(b, o->vals[i]);
    }
    spate_buf_putc(b, '}');
}

spate_status_t cql_schema_keyspace_ddl(const cql_keyspace_t *k, spate_buf_t *b) {
    spate_buf_puts(b, "CREATE KEYSPACE ");
    put_ident(b, k->name);
    spate_buf_puts(b, " WITH replication = ");
    put_option_value(b, &k->replication);
    spate_buf_printf(b, " AND durable_writes = %s;\n", k->durable_writes ? "true" : "false");
    return b->data ? SPATE_OK : SPATE_ENOMEM;
}

spate_status_t cql_schema_table_ddl(const cql_table_t *t, bool with_ids, spate_buf_t *b) {
    spate_buf_puts(b, "CREATE TABLE ");
    put_ident(b, t->ks->name);
    spate_buf_putc(b, '.');
    put_ident(b, t->name);
    spate_buf_puts(b, " (\n");
    for (uint32_t i = 0; i < t->ncols; i++) {
        spate_buf_puts(b, "    ");
        put_ident(b, t->cols[i].name);
        spate_buf_printf(b, " %s%s,\n", t->cols[i].type_text,
                         t->cols[i].kind == CQL_KIND_STATIC ? " static" : "");
    }
    spate_buf_puts(b, "    PRIMARY KEY ((");
    for (uint32_t i = 0; i < t->npk; i++) {
        if (i) spate_buf_puts(b, ", ");
        put_ident(b, t->cols[i].name);
    }
    spate_buf_putc(b, ')');
    for (uint32_t i = 0; i < t->nck; i++) {
        spate_buf_puts(b, ", ");
        put_ident(b, t->cols[t->npk + i].name);
    }
    spate_buf_puts(b, ")\n)");
    const char *sep = " WITH ";
    if (t->nck) {
        spate_buf_printf(b, "%sCLUSTERING ORDER BY (", sep);
        for (uint32_t i = 0; i < t->nck; i++) {
            if (i) spate_buf_puts(b, ", ");
            put_ident(b, t->cols[t->npk + i].name);
            spate_buf_puts(b, t->cols[t->npk + i].desc ? " DESC" : " ASC");
        }
        spate_buf_putc(b, ')');
        sep = "\n    AND ";
    }
    if (with_ids) {
        char u[37];
        spate_uuid_format(t->uuid, u);
        spate_buf_printf(b, "%sid = %s\n    AND spate_table_id = %u", sep, u, t->id);
        spate_buf_printf(b, "\n    AND spate_next_column_id = %u\n    AND spate_column_ids = {",
                         t->next_col_id);
        for (uint32_t i = 0; i < t->ncols; i++) {
            if (i) spate_buf_puts(b, ", ");
            put_string(b, t->cols[i].name);
            spate_buf_printf(b, ": '%u'", t->cols[i].id);
        }
        spate_buf_putc(b, '}');
        sep = "\n    AND ";
    }
    for (uint32_t i = 0; i < t->nopts; i++) {
        spate_buf_printf(b, "%s%s = ", sep, t->opts[i].name);
        put_option_value(b, &t->opts[i]);
        sep = "\n    AND ";
    }
    spate_buf_puts(b, ";\n");
    return b->data ? SPATE_OK : SPATE_ENOMEM;
}

/* The statements of every user keyspace and table. */
static void schema_text(const cql_schema_t *s, spate_buf_t *b) {
    for (uint32_t i = 0; i < s->nks; i++) {
        const cql_keyspace_t *k = s->ks[i];
        if (k->system) continue;
        spate_buf_putc(b, '\n');
        cql_schema_keyspace_ddl(k, b);
        for (uint32_t j = 0; j < k->ntables; j++) {
            spate_buf_putc(b, '\n');
            cql_schema_table_ddl(k->tables[j], true, b);
        }
    }
}

static void version_of(const spate_buf_t *text, uint8_t v[16]) {
    spate_hash_raw(SPATE_HASH_MD5, text->data ? text->data : "", text->len, v);
    v[6] = (uint8_t)((v[6] & 0x0f) | 0x30);
    v[8] = (uint8_t)((v[8] & 0x3f) | 0x80);
}

static spate_status_t write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return SPATE_EIO;
        p += w;
        n -= (size_t)w;
    }
    return SPATE_OK;
}

/* Replaces path with data: temp file, fsync, rename, fsync the folder. */
static spate_status_t write_atomic(const cql_schema_t *s, const char *data, size_t n, char *err,
                                   size_t errlen) {
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", s->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %.400s: %s", tmp, strerror(errno));
        return SPATE_EIO;
    }
    if (write_all(fd, data, n) != SPATE_OK || (s->fsync && fsync(fd) != 0)) {
        snprintf(err, errlen, "cannot write %.400s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return SPATE_EIO;
    }
    close(fd);
    if (rename(tmp, s->path) != 0) {
        snprintf(err, errlen, "cannot rename %.200s to %.200s: %.60s", tmp, s->path,
                 strerror(errno));
        unlink(tmp);
        return SPATE_EIO;
    }
    if (s->fsync) {
        int dfd = open(s->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    return SPATE_OK;
}

/* Writes the catalog to schema.cql; the new schema_version on success. */
static spate_status_t persist(cql_schema_t *s, cql_ddl_result_t *res) {
    spate_buf_t body = SPATE_BUF_INIT, file = SPATE_BUF_INIT;
    schema_text(s, &body);
    spate_buf_printf(&file,
                     "-- spate cql schema: the DDL of every keyspace and table, rewritten by the "
                     "server on each change.\n"
                     "-- Edit only while `spate cql` is stopped; the spate_* properties are the "
                     "storage ids.\n"
                     "-- next_table_id: %u\n",
                     s->next_table_id);
    spate_buf_append(&file, body.data ? body.data : "", body.len);
    spate_status_t st = SPATE_ENOMEM;
    if (file.data) st = write_atomic(s, file.data, file.len, res->msg, sizeof res->msg);
    if (st == SPATE_OK) version_of(&body, s->version);
    spate_buf_free(&body);
    spate_buf_free(&file);
    return st;
}

/* ------------------------------------------------------------------ */
/* DDL                                                                 */
/* ------------------------------------------------------------------ */

static void res_change(cql_ddl_result_t *res, const char *type, const char *target, const char *ks,
                       const char *name) {
    res->changed = true;
    res->change_type = type;
    res->target = target;
    snprintf(res->ks, sizeof res->ks, "%s", ks);
    snprintf(res->name, sizeof res->name, "%s", name ? name : "");
}

static void res_not_modifiable(cql_ddl_result_t *res, const char *ks) {
    res_set(res, SPATE_CQL_ERR_UNAUTHORIZED, "%s keyspace is not user-modifiable.", ks);
}

static spate_status_t exec_create_keyspace(cql_schema_t *s, const spate_cql_stmt_keyspace_t *ks,
                                           exec_mode_t mode, cql_ddl_result_t *res) {
    if (cql_is_system_keyspace(ks->ks) && mode != MODE_SYSTEM) {
        res_not_modifiable(res, ks->ks);
        return SPATE_OK;
    }
    if (!valid_name(ks->ks)) {
        res_set(res, SPATE_CQL_ERR_INVALID,
                "Keyspace name must not be empty, more than %d characters long, or contain "
                "non-alphanumeric-underscore characters (got '%s')",
                NAME_LENGTH, ks->ks);
        return SPATE_OK;
    }
    if (cql_schema_keyspace(s, ks->ks)) {
        if (ks->if_not_exists) return SPATE_OK;
        res_set(res, SPATE_CQL_ERR_ALREADY_EXISTS, "Keyspace %s already exists", ks->ks);
        snprintf(res->ks, sizeof res->ks, "%s", ks->ks);
        res->name[0] = '\0';
        return SPATE_OK;
    }
    cql_option_t repl;
    bool have_repl, durable = true, have_durable;
    if (!keyspace_props(ks, &repl, &have_repl, &durable, &have_durable, res)) return SPATE_OK;
    if (!have_repl) {
        res_set(res, SPATE_CQL_ERR_CONFIG, "Missing mandatory replication strategy class");
        return SPATE_OK;
    }
    cql_keyspace_t *k = spate_xcalloc(1, sizeof *k);
    k->name = spate_xstrdup(ks->ks);
    k->replication = repl;
    k->durable_writes = durable;
    ks_insert(s, k);
    if (mode == MODE_CLIENT) {
        spate_status_t st = persist(s, res);
        if (st != SPATE_OK) {
            ks_remove(s, k);
            keyspace_free(k);
            return st;
        }
    }
    res_change(res, "CREATED", "KEYSPACE", k->name, NULL);
    return SPATE_OK;
}

static spate_status_t exec_alter_keyspace(cql_schema_t *s, const spate_cql_stmt_keyspace_t *ks,
                                          cql_ddl_result_t *res) {
    if (cql_is_system_keyspace(ks->ks)) {
        res_not_modifiable(res, ks->ks);
        return SPATE_OK;
    }
    cql_keyspace_t *k = cql_schema_keyspace(s, ks->ks);
    if (!k) {
        if (!ks->if_exists)
            res_set(res, SPATE_CQL_ERR_INVALID, "Keyspace '%s' does not exist", ks->ks);
        return SPATE_OK;
    }
    cql_option_t repl;
    bool have_repl, durable = k->durable_writes, have_durable;
    if (!keyspace_props(ks, &repl, &have_repl, &durable, &have_durable, res)) return SPATE_OK;
    cql_option_t old_repl = k->replication;
    bool old_durable = k->durable_writes;
    if (have_repl) k->replication = repl;
    k->durable_writes = durable;
    spate_status_t st = persist(s, res);
    if (st != SPATE_OK) {
        if (have_repl) option_free(&k->replication);
        k->replication = old_repl;
        k->durable_writes = old_durable;
        return st;
    }
    if (have_repl) option_free(&old_repl);
    res_change(res, "UPDATED", "KEYSPACE", k->name, NULL);
    return SPATE_OK;
}

static spate_status_t exec_drop_keyspace(cql_schema_t *s, const spate_cql_stmt_keyspace_t *ks,
                                         cql_ddl_result_t *res) {
    if (cql_is_system_keyspace(ks->ks)) {
        res_not_modifiable(res, ks->ks);
        return SPATE_OK;
    }
    cql_keyspace_t *k = cql_schema_keyspace(s, ks->ks);
    if (!k) {
        if (!ks->if_exists)
            res_set(res, SPATE_CQL_ERR_INVALID, "Keyspace '%s' does not exist", ks->ks);
        return SPATE_OK;
    }
    ks_remove(s, k);
    spate_status_t st = persist(s, res);
    if (st != SPATE_OK) {
        ks_insert(s, k);
        return st;
    }
    res_change(res, "DROPPED", "KEYSPACE", k->name, NULL);
    keyspace_free(k);
    return SPATE_OK;
}

/* The keyspace of a table statement: written, or the session's. */
static cql_keyspace_t *table_keyspace(cql_schema_t *s, const spate_cql_qname_t *q,
                                      const char *session_ks, bool modify, cql_ddl_result_t *res) {
    const char *ks = q->ks ? q->ks : session_ks;
    if (!ks) {
        res_set(res, SPATE_CQL_ERR_INVALID,
                "No keyspace has been specified. USE a keyspace, or explicitly specify "
                "keyspace.tablename");
        return NULL;
    }
    if (modify && cql_is_system_keyspace(ks)) {
        res_not_modifiable(res, ks);
        return NULL;
    }
    cql_keyspace_t *k = cql_schema_keyspace(s, ks);
    if (!k) res_set(res, SPATE_CQL_ERR_INVALID, "Keyspace '%s' does not exist", ks);
    return k;
}

static spate_status_t exec_create_table(cql_schema_t *s, const spate_cql_stmt_create_table_t *ct,
                                        const char *session_ks, exec_mode_t mode,
                                        cql_ddl_result_t *res) {
    cql_keyspace_t *k = table_keyspace(s, &ct->table, session_ks, mode != MODE_SYSTEM, res);
    if (!k) return SPATE_OK;
    if (!valid_name(ct->table.name)) {
        res_set(res, SPATE_CQL_ERR_INVALID,
                "Table name must not be empty, more than %d characters long, or contain "
                "non-alphanumeric-underscore characters (got \"%s\")",
                NAME_LENGTH, ct->table.name);
        return SPATE_OK;
    }
    if (ks_table(k, ct->table.name, NULL)) {
        if (ct->if_not_exists) return SPATE_OK;
        res_set(res, SPATE_CQL_ERR_ALREADY_EXISTS,
                "Cannot add already existing table \"%s\" to keyspace \"%s\"", ct->table.name,
                k->name);
        snprintf(res->ks, sizeof res->ks, "%s", k->name);
        snprintf(res->name, sizeof res->name, "%s", ct->table.name);
        return SPATE_OK;
    }
    cql_table_t *t = table_build(s, k, ct, mode, res);
    if (!t) return SPATE_OK;
    table_insert(k, t);
    if (mode == MODE_CLIENT) {
        spate_status_t st = persist(s, res);
        if (st != SPATE_OK) {
            table_remove(k, t);
            table_free(t);
            return st;
        }
    }
    res_change(res, "CREATED", "TABLE", k->name, t->name);
    return SPATE_OK;
}

static spate_status_t exec_alter_table(cql_schema_t *s, const spate_cql_stmt_alter_table_t *at,
                                       const char *session_ks, cql_ddl_result_t *res) {
    cql_keyspace_t *k = table_keyspace(s, &at->table, session_ks, true, res);
    if (!k) return SPATE_OK;
    uint32_t slot;
    cql_table_t *old = ks_table(k, at->table.name, &slot);
    if (!old) {
        if (!at->if_exists)
            res_set(res, SPATE_CQL_ERR_INVALID, "unconfigured table %s", at->table.name);
        return SPATE_OK;
    }
    cql_table_t *t = table_clone(old);
    bool changed;
    if (!table_alter(t, at, MODE_CLIENT, &changed, res) || !changed) {
        table_free(t);
        return SPATE_OK;
    }
    k->tables[slot] = t;
    spate_status_t st = persist(s, res);
    if (st != SPATE_OK) {
        k->tables[slot] = old;
        table_free(t);
        return st;
    }
    table_free(old);
    res_change(res, "UPDATED", "TABLE", k->name, t->name);
    return SPATE_OK;
}

static spate_status_t exec_drop_table(cql_schema_t *s, const spate_cql_stmt_table_t *dt,
                                      const char *session_ks, cql_ddl_result_t *res) {
    cql_keyspace_t *k = table_keyspace(s, &dt->table, session_ks, true, res);
    if (!k) {
        /* DROP TABLE IF EXISTS in a missing keyspace is no error either. */
        if (dt->if_exists && res->code == SPATE_CQL_ERR_INVALID && dt->table.ks) res->code = 0;
        return SPATE_OK;
    }
    cql_table_t *t = ks_table(k, dt->table.name, NULL);
    if (!t) {
        if (!dt->if_exists)
            res_set(res, SPATE_CQL_ERR_INVALID, "unconfigured table %s", dt->table.name);
        return SPATE_OK;
    }
    table_remove(k, t);
    spate_status_t st = persist(s, res);
    if (st != SPATE_OK) {
        table_insert(k, t);
        return st;
    }
    res_change(res, "DROPPED", "TABLE", k->name, t->name);
    res->dropped_table_id = t->id;
    table_free(t);
    return SPATE_OK;
}

static spate_status_t execute(cql_schema_t *s, const spate_cql_stmt_t *st, const char *session_ks,
                              exec_mode_t mode, cql_ddl_result_t *res) {
    memset(res, 0, sizeof *res);
    bool load = mode != MODE_CLIENT;
    switch (st->kind) {
    case SPATE_CQL_STMT_CREATE_KEYSPACE: return exec_create_keyspace(s, &st->keyspace, mode, res);
    case SPATE_CQL_STMT_CREATE_TABLE:
        return exec_create_table(s, &st->create_table, session_ks, mode, res);
    case SPATE_CQL_STMT_ALTER_KEYSPACE:
        if (!load) return exec_alter_keyspace(s, &st->keyspace, res);
        break;
    case SPATE_CQL_STMT_DROP_KEYSPACE:
        if (!load) return exec_drop_keyspace(s, &st->keyspace, res);
        break;
    case SPATE_CQL_STMT_ALTER_TABLE:
        if (!load) return exec_alter_table(s, &st->alter_table, session_ks, res);
        break;
    case SPATE_CQL_STMT_DROP_TABLE:
        if (!load) return exec_drop_table(s, &st->table, session_ks, res);
        break;
    default: break;
    }
    if (load)
        res_set(res, SPATE_CQL_ERR_INVALID, "%s is not allowed here", spate_cql_stmt_kind_name(st));
    else
        res_set(res, SPATE_CQL_ERR_INVALID, "%s is not a schema statement",
                spate_cql_stmt_kind_name(st));
    return SPATE_OK;
}

spate_status_t cql_schema_execute(cql_schema_t *s, const spate_cql_stmt_t *st,
                                  const char *session_ks, cql_ddl_result_t *res) {
    return execute(s, st, session_ks, MODE_CLIENT, res);
}

/* ------------------------------------------------------------------ */
/* Opening                                                             */
/* ------------------------------------------------------------------ */

cql_keyspace_t *cql_schema_add_system_keyspace(cql_schema_t *s, const char *name,
                                               const char *const *replication) {
    cql_keyspace_t *k = spate_xcalloc(1, sizeof *k);
    k->name = spate_xstrdup(name);
    k->system = true;
    k->durable_writes = true;
    k->replication.name = spate_xstrdup("replication");
    for (size_t i = 0; replication[i] && replication[i + 1]; i += 2)
        option_put(&k->replication, replication[i], replication[i + 1]);
    option_sort(&k->replication);
    ks_insert(s, k);
    return k;
}

spate_status_t cql_schema_add_system_table(cql_schema_t *s, const char *ddl,
                                           const cql_systable_t *sys, char *err, size_t errlen) {
    spate_cql_arena_t *a = spate_cql_arena_new();
    if (!a) return SPATE_ENOMEM;
    spate_cql_stmt_t *st;
    spate_cql_parse_error_t perr;
    cql_ddl_result_t res;
    spate_status_t rc = SPATE_EINVAL;
    if (spate_cql_parse(a, ddl, strlen(ddl), &st, &perr) != SPATE_OK) {
        snprintf(err, errlen, "system table: %s", perr.msg);
        goto out;
    }
    if (st->kind != SPATE_CQL_STMT_CREATE_TABLE || !st->create_table.table.ks) {
        snprintf(err, errlen, "system table: not a qualified CREATE TABLE");
        goto out;
    }
    rc = execute(s, st, NULL, MODE_SYSTEM, &res);
    if (rc == SPATE_OK && res.code) {
        snprintf(err, errlen, "system table: %s", res.msg);
        rc = SPATE_EINVAL;
    }
    if (rc == SPATE_OK) {
        cql_table_t *t =
            cql_schema_table(s, st->create_table.table.ks, st->create_table.table.name);
        t->sys = sys;
    }
out:
    spate_cql_arena_free(a);
    return rc;
}

static spate_status_t read_file(const char *path, spate_buf_t *b, bool *exists) {
    *exists = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? SPATE_OK : SPATE_EIO;
    *exists = true;
    for (;;) {
        if (spate_buf_reserve(b, 65536) != SPATE_OK) {
            close(fd);
            return SPATE_ENOMEM;
        }
        ssize_t n = read(fd, b->data + b->len, b->cap - b->len - 1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            close(fd);
            return SPATE_EIO;
        }
        if (n == 0) break;
        b->len += (size_t)n;
        b->data[b->len] = '\0';
    }
    close(fd);
    return SPATE_OK;
}

/* Loads schema.cql into the catalog (which has only system keyspaces). */
static spate_status_t load_file(cql_schema_t *s, char *err, size_t errlen) {
    spate_buf_t text = SPATE_BUF_INIT;
    bool exists;
    spate_status_t st = read_file(s->path, &text, &exists);
    if (st != SPATE_OK) {
        snprintf(err, errlen, "cannot read %.400s: %s", s->path, strerror(errno));
        goto out;
    }
    if (!exists) goto out;
    const char *hdr = text.data ? strstr(text.data, "-- next_table_id: ") : NULL;
    if (hdr) {
        unsigned long long n = strtoull(hdr + 18, NULL, 10);
        if (n > 0 && n < SYSTEM_TABLE_ID_BASE) s->next_table_id = (uint32_t)n;
    }
    spate_cql_lexer_t lx;
    spate_cql_lex_init(&lx, text.data ? text.data : "", text.len);
    for (;;) {
        spate_cql_arena_t *a = spate_cql_arena_new();
        if (!a) {
            st = SPATE_ENOMEM;
            snprintf(err, errlen, "out of memory reading %.400s", s->path);
            goto out;
        }
        spate_cql_stmt_t *stmt;
        spate_cql_parse_error_t perr;
        st = spate_cql_parse_next(a, &lx, &stmt, &perr);
        if (st == SPATE_ENOENT) {
            spate_cql_arena_free(a);
            st = SPATE_OK;
            break;
        }
        if (st != SPATE_OK) {
            snprintf(err, errlen, "%s:%u: %s", s->path, perr.line, perr.msg);
            spate_cql_arena_free(a);
            st = SPATE_EINVAL;
            goto out;
        }
        cql_ddl_result_t res;
        if (stmt->kind != SPATE_CQL_STMT_CREATE_KEYSPACE &&
            stmt->kind != SPATE_CQL_STMT_CREATE_TABLE) {
            snprintf(err, errlen,
                     "%s:%u: only CREATE KEYSPACE and CREATE TABLE belong here, not %s", s->path,
                     stmt->line, spate_cql_stmt_kind_name(stmt));
            st = SPATE_EINVAL;
        } else {
            st = execute(s, stmt, NULL, MODE_LOAD, &res);
            if (st == SPATE_OK && res.code) {
                snprintf(err, errlen, "%s:%u: %s", s->path, stmt->line, res.msg);
                st = SPATE_EINVAL;
            } else if (st == SPATE_OK && !res.changed) {
                snprintf(err, errlen, "%s:%u: %s is defined twice", s->path, stmt->line,
                         stmt->kind == SPATE_CQL_STMT_CREATE_KEYSPACE ? "a keyspace" : "a table");
                st = SPATE_EINVAL;
            }
        }
        spate_cql_arena_free(a);
        if (st != SPATE_OK) goto out;
    }
    /* Never hand out an id the file already uses. */
    for (uint32_t i = 0; i < s->nks; i++)
        for (uint32_t j = 0; j < s->ks[i]->ntables; j++) {
            uint32_t id = s->ks[i]->tables[j]->id;
            if (id < SYSTEM_TABLE_ID_BASE && id >= s->next_table_id) s->next_table_id = id + 1;
        }
out:
    spate_buf_free(&text);
    return st;
}

spate_status_t cql_schema_open(cql_schema_t **out, const char *data_dir, bool fsync, char *err,
                               size_t errlen) {
    cql_schema_t *s = spate_xcalloc(1, sizeof *s);
    s->data_dir = spate_xstrdup(data_dir);
    spate_buf_t p = SPATE_BUF_INIT;
    spate_buf_printf(&p, "%s/schema.cql", data_dir);
    s->path = spate_buf_detach(&p, NULL);
    s->fsync = fsync;
    s->next_table_id = 1;
    spate_status_t st = cql_system_define(s, err, errlen);
    if (st == SPATE_OK) st = load_file(s, err, errlen);
    if (st != SPATE_OK) {
        cql_schema_free(s);
        return st;
    }
    spate_buf_t body = SPATE_BUF_INIT;
    schema_text(s, &body);
    version_of(&body, s->version);
    spate_buf_free(&body);
    *out = s;
    return SPATE_OK;
}

void cql_schema_clear_user(cql_schema_t *s) {
    for (uint32_t i = 0; i < s->nks;) {
        if (s->ks[i]->system) {
            i++;
            continue;
        }
        cql_keyspace_t *k = s->ks[i];
        ks_remove(s, k);
        keyspace_free(k);
    }
}

void cql_schema_free(cql_schema_t *s) {
    if (!s) return;
    for (uint32_t i = 0; i < s->nks; i++) keyspace_free(s->ks[i]);
    free(s->ks);
    free(s->data_dir);
    free(s->path);
    free(s);
}
