/*
 * stream_map.c — transform programs: compiled from `transform:` once,
 * run on every record.
 *
 * A program is the job's steps in order, with the implicit ones added:
 *
 *   input: formatted   json, <listed steps>
 *   input: raw         json, format_user, <listed steps>   (unless the list
 *                      places format_user itself, e.g. after a filter on
 *                      the raw result)
 *
 * Each step passes the record on, drops it (a filter said no) or fails it
 * with a reason (for the dead-letter topic):
 *
 *   json         message bytes → a JSON object (anything else fails)
 *   format_user  randomuser result → the pipeline's user record
 *                (spate_format_user, then parsed back)
 *   map          rename → default → set → cast → require → filter →
 *                drop → select, each given in YAML as below
 *
 *   - map:
 *       rename:  {location.city: city}         move a value (missing: no-op)
 *       default: {title: "", age: 0}           when missing or null
 *       set:     {full: "{first} {last}",      format → text; missing field fails
 *                tag: {concat: [a, b], sep: "-"},  text; missing fields skipped
 *                raw: {copy: a.b},             the value as is
 *                src: {value: "{literal}"}}    a constant
 *       cast:    {id: uuid, age: int}          text int bigint double boolean uuid timestamp
 *       require: [id, email]                   present and not null, else fail
 *       filter:  nat in ["GB", "IE"] and age >= 18
 *       drop:    [password]
 *       select:  [id, name.first]              keep only these
 *
 * A step may also be written as one operation alone (`- filter: ...`),
 * which is a map with that operation.
 *
 * Run-time cost: paths, format pieces and filter trees are compiled; a run
 * allocates only the json_t values it creates (jansson's own allocations)
 * and reuses the runner's scratch buffer for text. Casts that would not
 * change a value (a string cast to text, a canonical UUID) keep the value.
 *
 * The flat path (end of file; stream.h): for programs of json + maps of
 * top-level text/uuid casts, require, drop and select, a record that is a
 * flat object of plain strings runs on its bytes in place
 * (spate_json_flat_scan), with no tree; anything that would change a
 * value or fail is left to the general path above.
 */
#include "source.h"
#include "stream_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

/* ------------------------------------------------------------------ */
/* Compilation                                                         */
/* ------------------------------------------------------------------ */

typedef struct {
    spate_stream_prog_t *prog;
    const spate_conf_t *c;
    spate_stream_diag_t *diag;
    size_t errors;
} cc_t;

static void cc_err(cc_t *cc, const spate_conf_node_t *n, const char *fmt, ...) SPATE_PRINTF(3, 4);
static void cc_err(cc_t *cc, const spate_conf_node_t *n, const char *fmt, ...) {
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    spate_stream_diag_at(cc->diag, cc->c, n, "%s", what);
    cc->errors++;
}

static void add_const(spate_stream_prog_t *p, json_t *v) {
    if (p->nconsts == p->capconsts) {
        p->capconsts = p->capconsts ? p->capconsts * 2 : 8;
        p->consts = spate_xrealloc(p->consts, p->capconsts * sizeof *p->consts);
    }
    p->consts[p->nconsts++] = v;
}

static const char *kind_name(spate_conf_kind_t k) {
    return k == SPATE_CONF_MAP ? "a mapping" : k == SPATE_CONF_SEQ ? "a list" : "a value";
}

/* Compiles path text written at node n (its key or its value; errors
 * name n). A target (something written to) must be keys only. */
static const spate_stream_path_t *cc_path(cc_t *cc, const spate_conf_node_t *n, const char *text,
                                          bool target) {
    char err[160];
    const spate_stream_path_t *p =
        stream_path_compile(&cc->prog->arena, text, strlen(text), 0, false, NULL, err, sizeof err);
    if (!p) {
        cc_err(cc, n, "invalid path '%s': %s", text, err);
        return NULL;
    }
    if (target && !p->keys_only) {
        cc_err(cc, n, "'%s' cannot be written to: a target path has no array index", text);
        return NULL;
    }
    return p;
}

/* A list of field paths (require, drop, select). */
static stream_pathop_t *cc_path_list(cc_t *cc, const spate_conf_node_t *n, bool target,
                                     size_t *count) {
    *count = 0;
    if (n->kind != SPATE_CONF_SEQ) {
        cc_err(cc, n, "expected a list of field names, got %s", kind_name(n->kind));
        return NULL;
    }
    stream_pathop_t *ops = stream_arena_alloc(&cc->prog->arena, (n->nchild + 1) * sizeof *ops);
    for (const spate_conf_node_t *it = n->child; it; it = it->next) {
        if (it->kind != SPATE_CONF_SCALAR) {
            cc_err(cc, it, "expected a field name, got %s", kind_name(it->kind));
            continue;
        }
        const spate_stream_path_t *p = cc_path(cc, it, it->value, target);
        if (!p) continue;
        ops[*count].path = p;
        ops[*count].line = it->line;
        (*count)++;
    }
    return ops;
}

static bool cc_expect_map(cc_t *cc, const spate_conf_node_t *n) {
    if (n->kind == SPATE_CONF_MAP) return true;
    cc_err(cc, n, "expected a mapping, got %s", kind_name(n->kind));
    return false;
}

static void cc_rename(cc_t *cc, stream_map_t *m, const spate_conf_node_t *n) {
    if (!cc_expect_map(cc, n)) return;
    m->rename = stream_arena_alloc(&cc->prog->arena, (n->nchild + 1) * sizeof *m->rename);
    for (const spate_conf_node_t *e = n->child; e; e = e->next) {
        const spate_stream_path_t *from = cc_path(cc, e, e->key, false);
        if (e->kind != SPATE_CONF_SCALAR) {
            cc_err(cc, e, "expected the new name, got %s", kind_name(e->kind));
            continue;
        }
        const spate_stream_path_t *to = cc_path(cc, e, e->value, true);
        if (!from || !to) continue;
        stream_rename_t *r = &m->rename[m->nrename++];
        r->from = from;
        r->to = to;
        r->line = e->line;
    }
}

static void cc_default(cc_t *cc, stream_map_t *m, const spate_conf_node_t *n) {
    if (!cc_expect_map(cc, n)) return;
    m->defaults = stream_arena_alloc(&cc->prog->arena, (n->nchild + 1) * sizeof *m->defaults);
    for (const spate_conf_node_t *e = n->child; e; e = e->next) {
        const spate_stream_path_t *p = cc_path(cc, e, e->key, true);
        if (!p) continue;
        json_t *v = stream_conf_to_json(e);
        if (!v) {
            cc_err(cc, e, "value cannot be represented in JSON");
            continue;
        }
        add_const(cc->prog, v);
        stream_default_t *d = &m->defaults[m->ndefault++];
        d->path = p;
        d->value = v;
        d->line = e->line;
    }
}

/* Compiles a format template ("{first} {last}", "{{" and "}}" for
 * braces) into pieces. Returns false with a message in err. */
static bool cc_format(cc_t *cc, const char *s, stream_set_t *set, char *err, size_t errlen) {
    size_t n = strlen(s);
    stream_part_t *parts = NULL;
    size_t np = 0, cap = 0;
    spate_buf_t lit = SPATE_BUF_INIT;
    bool ok = true;
    for (size_t i = 0; i <= n && ok; i++) {
        bool flush = i == n;
        const spate_stream_path_t *path = NULL;
        if (!flush) {
            char ch = s[i];
            if ((ch == '{' || ch == '}') && i + 1 < n && s[i + 1] == ch) {
                spate_buf_putc(&lit, ch);
                i++;
                continue;
            }
            if (ch == '}') {
                snprintf(err, errlen, "single '}' at column %zu (write '}}' for a brace)", i + 1);
                ok = false;
                break;
            }
            if (ch != '{') {
                spate_buf_putc(&lit, ch);
                continue;
            }
            const char *close = memchr(s + i + 1, '}', n - i - 1);
            if (!close) {
                snprintf(err, errlen, "unclosed '{' at column %zu", i + 1);
                ok = false;
                break;
            }
            size_t b = i + 1, e = (size_t)(close - s);
            while (b < e && s[b] == ' ') b++;
            while (e > b && s[e - 1] == ' ') e--;
            if (b == e) {
                snprintf(err, errlen, "empty '{}' at column %zu", i + 1);
                ok = false;
                break;
            }
            char perr[128];
            path = stream_path_compile(&cc->prog->arena, s, e, b, false, NULL, perr, sizeof perr);
            if (!path) {
                snprintf(err, errlen, "%s", perr);
                ok = false;
                break;
            }
            i = (size_t)(close - s);
            flush = true;
        }
        if (np + 2 > cap) {
            cap = cap ? cap * 2 : 8;
            parts = spate_xrealloc(parts, cap * sizeof *parts);
        }
        if (lit.len) {
            parts[np++] = (stream_part_t){
                .lit = stream_arena_strndup(&cc->prog->arena, lit.data, lit.len), .n = lit.len};
            spate_buf_reset(&lit);
        }
        if (path) parts[np++] = (stream_part_t){.path = path};
    }
    if (ok) {
        stream_part_t *copy = stream_arena_alloc(&cc->prog->arena, (np + 1) * sizeof *copy);
        if (np) memcpy(copy, parts, np * sizeof *copy);
        set->parts = copy;
        set->nparts = np;
    }
    free(parts);
    spate_buf_free(&lit);
    return ok;
}

static bool plain_typed(const spate_conf_node_t *v) {
    if (v->quoted) return false;
    json_t *j = stream_conf_to_json(v);
    bool typed = j && !json_is_string(j);
    json_decref(j);
    return typed;
}

static void cc_set(cc_t *cc, stream_map_t *m, const spate_conf_node_t *n) {
    if (!cc_expect_map(cc, n)) return;
    m->set = stream_arena_alloc(&cc->prog->arena, (n->nchild + 1) * sizeof *m->set);
    for (const spate_conf_node_t *e = n->child; e; e = e->next) {
        const spate_stream_path_t *target = cc_path(cc, e, e->key, true);
        if (!target) continue;
        stream_set_t set = {.target = target, .line = e->line};
        char err[200];
        const spate_conf_node_t *fmt = NULL;
        if (e->kind == SPATE_CONF_SEQ) {
            cc_err(cc, e,
                   "expected a format string or one of format, concat, copy, value; "
                   "got a list");
            continue;
        }
        if (e->kind == SPATE_CONF_SCALAR) {
            if (plain_typed(e)) {
                set.kind = SET_VALUE;
                set.value = stream_conf_to_json(e);
            } else {
                fmt = e;
            }
        } else {
            static const char *const keys[] = {"format", "concat", "sep", "copy", "value", NULL};
            bool bad = false;
            for (const spate_conf_node_t *k = e->child; k; k = k->next) {
                bool known = false;
                for (const char *const *w = keys; *w; w++) known = known || !strcmp(*w, k->key);
                if (!known) {
                    cc_err(cc, k,
                           "unknown setting (a computed field takes format, concat with sep, "
                           "copy or value)");
                    bad = true;
                }
            }
            const spate_conf_node_t *f = spate_conf_get(e, "format"),
                                    *cat = spate_conf_get(e, "concat"),
                                    *sep = spate_conf_get(e, "sep"),
                                    *cp = spate_conf_get(e, "copy"),
                                    *val = spate_conf_get(e, "value");
            int kinds = !!f + !!cat + !!cp + !!val;
            if (bad) continue;
            if (kinds != 1) {
                cc_err(cc, e, "a computed field takes exactly one of format, concat, copy, value");
                continue;
            }
            if (sep && !cat) {
                cc_err(cc, sep, "sep goes with concat");
                continue;
            }
            if (f) {
                if (f->kind != SPATE_CONF_SCALAR) {
                    cc_err(cc, f, "expected a format string, got %s", kind_name(f->kind));
                    continue;
                }
                fmt = f;
            } else if (cp) {
                if (cp->kind != SPATE_CONF_SCALAR) {
                    cc_err(cc, cp, "expected a field name, got %s", kind_name(cp->kind));
                    continue;
                }
                set.kind = SET_COPY;
                if (!(set.src = cc_path(cc, cp, cp->value, false))) continue;
            } else if (val) {
                set.kind = SET_VALUE;
                set.value = stream_conf_to_json(val);
                if (!set.value) {
                    cc_err(cc, val, "value cannot be represented in JSON");
                    continue;
                }
            } else {
                set.kind = SET_CONCAT;
                if (sep && sep->kind != SPATE_CONF_SCALAR) {
                    cc_err(cc, sep, "expected a separator string, got %s", kind_name(sep->kind));
                    continue;
                }
                if (sep) {
                    set.sep =
                        stream_arena_strndup(&cc->prog->arena, sep->value, strlen(sep->value));
                    set.seplen = strlen(sep->value);
                }
                size_t np;
                stream_pathop_t *ops = cc_path_list(cc, cat, false, &np);
                if (!ops || np != cat->nchild) continue;
                if (np == 0) {
                    cc_err(cc, cat, "concat needs at least one field");
                    continue;
                }
                stream_part_t *parts = stream_arena_alloc(&cc->prog->arena, np * sizeof *parts);
                for (size_t i = 0; i < np; i++) parts[i].path = ops[i].path;
                set.parts = parts;
                set.nparts = np;
            }
        }
        if (fmt) {
            set.kind = SET_FORMAT;
            if (!cc_format(cc, fmt->value, &set, err, sizeof err)) {
                cc_err(cc, fmt, "in the format: %s", err);
                continue;
            }
            /* No placeholder: a constant string. */
            bool any = false;
            for (size_t i = 0; i < set.nparts; i++) any = any || set.parts[i].path;
            if (!any) {
                set.kind = SET_VALUE;
                set.value =
                    set.nparts ? json_stringn(set.parts[0].lit, set.parts[0].n) : json_string("");
                if (!set.value) {
                    cc_err(cc, fmt, "the text is not valid UTF-8");
                    continue;
                }
            }
        }
        if (set.kind == SET_VALUE) {
            if (!set.value) {
                cc_err(cc, e, "value cannot be represented in JSON");
                continue;
            }
            add_const(cc->prog, set.value);
        }
        m->set[m->nset++] = set;
    }
}

static const struct {
    const char *name;
    stream_cast_type_t type;
} cast_types[] = {{"text", CAST_TEXT},     {"string", CAST_TEXT},        {"int", CAST_INT},
                  {"bigint", CAST_BIGINT}, {"double", CAST_DOUBLE},      {"boolean", CAST_BOOLEAN},
                  {"uuid", CAST_UUID},     {"timestamp", CAST_TIMESTAMP}};

static const char *cast_name(stream_cast_type_t t) {
    for (size_t i = 0; i < SPATE_ARRAY_LEN(cast_types); i++)
        if (cast_types[i].type == t) return cast_types[i].name;
    return "?";
}

static void cc_cast(cc_t *cc, stream_map_t *m, const spate_conf_node_t *n) {
    if (!cc_expect_map(cc, n)) return;
    m->cast = stream_arena_alloc(&cc->prog->arena, (n->nchild + 1) * sizeof *m->cast);
    for (const spate_conf_node_t *e = n->child; e; e = e->next) {
        const spate_stream_path_t *p = cc_path(cc, e, e->key, false);
        if (e->kind != SPATE_CONF_SCALAR) {
            cc_err(cc, e, "expected a type, got %s", kind_name(e->kind));
            continue;
        }
        bool found = false;
        stream_cast_type_t type = CAST_TEXT;
        for (size_t i = 0; i < SPATE_ARRAY_LEN(cast_types) && !found; i++) {
            if (strcmp(cast_types[i].name, e->value) == 0) {
                found = true;
                type = cast_types[i].type;
            }
        }
        if (!found) {
            cc_err(cc, e,
                   "unknown type '%s' (expected text, int, bigint, double, boolean, uuid or "
                   "timestamp)",
                   e->value);
            continue;
        }
        if (!p) continue;
        stream_cast_t *c = &m->cast[m->ncast++];
        c->path = p;
        c->type = type;
        c->line = e->line;
    }
}

static void cc_filter(cc_t *cc, stream_map_t *m, const spate_conf_node_t *n) {
    if (n->kind != SPATE_CONF_SCALAR) {
        cc_err(cc, n, "expected a condition, got %s", kind_name(n->kind));
        return;
    }
    char err[256];
    const char *text = n->value;
    /* A plain `true` or `false` is fine as is; anything YAML would type as
     * a number is not a condition and is caught by the parser. */
    stream_expr_t *e = stream_expr_compile(&cc->prog->arena, text, strlen(text), err, sizeof err);
    if (!e) {
        cc_err(cc, n, "%s", err);
        return;
    }
    m->filter = e;
    m->filter_line = n->line;
}

static const char *const map_ops[] = {"rename", "default", "set",    "cast", "require",
                                      "filter", "drop",    "select", NULL};

static bool is_map_op(const char *k) {
    for (const char *const *w = map_ops; *w; w++)
        if (strcmp(*w, k) == 0) return true;
    return false;
}

static void cc_map(cc_t *cc, stream_map_t *m, const spate_conf_node_t *ops) {
    if (!cc_expect_map(cc, ops)) return;
    if (ops->nchild == 0) {
        cc_err(cc, ops, "a map step needs at least one operation");
        return;
    }
    for (const spate_conf_node_t *op = ops->child; op; op = op->next) {
        if (!strcmp(op->key, "rename"))
            cc_rename(cc, m, op);
        else if (!strcmp(op->key, "default"))
            cc_default(cc, m, op);
        else if (!strcmp(op->key, "set"))
            cc_set(cc, m, op);
        else if (!strcmp(op->key, "cast"))
            cc_cast(cc, m, op);
        else if (!strcmp(op->key, "require"))
            m->require = cc_path_list(cc, op, false, &m->nrequire);
        else if (!strcmp(op->key, "filter"))
            cc_filter(cc, m, op);
        else if (!strcmp(op->key, "drop"))
            m->drop = cc_path_list(cc, op, false, &m->ndrop);
        else if (!strcmp(op->key, "select")) {
            m->select = cc_path_list(cc, op, true, &m->nselect);
            m->select_flat = true;
            for (size_t i = 0; i < m->nselect; i++)
                m->select_flat = m->select_flat && m->select[i].path->nsegs == 1;
        } else
            cc_err(cc, op,
                   "unknown operation (expected rename, default, set, cast, require, filter, "
                   "drop or select)");
    }
}

spate_status_t spate_stream_prog_compile(const spate_conf_t *c, const spate_conf_node_t *steps,
                                         spate_stream_input_t input, spate_stream_prog_t **out,
                                         spate_stream_diag_t *diag) {
    *out = NULL;
    spate_stream_prog_t *p = spate_xcalloc(1, sizeof *p);
    cc_t cc = {.prog = p, .c = c, .diag = diag};
    size_t listed = steps && steps->kind == SPATE_CONF_SEQ ? steps->nchild : 0;
    p->steps = stream_arena_alloc(&p->arena, (listed + 2) * sizeof *p->steps);
    p->steps[p->nsteps++].kind = STEP_JSON;
    if (steps && steps->kind != SPATE_CONF_SEQ) {
        cc_err(&cc, steps, "expected a list of steps, got %s", kind_name(steps->kind));
        steps = NULL;
    }
    bool have_fu = false;
    size_t index = 0;
    for (const spate_conf_node_t *s = steps ? steps->child : NULL; s; s = s->next, index++) {
        if (s->kind == SPATE_CONF_SCALAR) {
            if (!strcmp(s->value, "json")) {
                if (index != 0)
                    cc_err(&cc, s, "json must be the first step (it parses the message)");
                continue; /* the implicit first step */
            }
            if (!strcmp(s->value, "format_user")) {
                if (input != SPATE_STREAM_INPUT_RAW)
                    cc_err(&cc, s,
                           "format_user needs 'input: raw' (formatted input is format_user "
                           "output already)");
                else if (have_fu)
                    cc_err(&cc, s, "format_user appears twice");
                have_fu = true;
                stream_step_t *st = &p->steps[p->nsteps++];
                st->kind = STEP_FORMAT_USER;
                st->line = s->line;
                continue;
            }
            cc_err(&cc, s, "unknown step '%s' (expected json, format_user or map)", s->value);
            continue;
        }
        if (s->kind != SPATE_CONF_MAP) {
            cc_err(&cc, s, "expected a step (json, format_user or map), got a list");
            continue;
        }
        const spate_conf_node_t *ops = s;
        const spate_conf_node_t *mapn = spate_conf_get(s, "map");
        if (mapn) {
            if (s->nchild != 1) {
                cc_err(&cc, s, "a map step holds its operations under 'map:' and nothing beside");
                continue;
            }
            ops = mapn;
        } else {
            bool all_ops = s->nchild > 0;
            for (const spate_conf_node_t *k = s->child; k; k = k->next)
                all_ops = all_ops && is_map_op(k->key);
            if (!all_ops) {
                const spate_conf_node_t *bad = s->child;
                while (bad && is_map_op(bad->key)) bad = bad->next;
                if (bad)
                    cc_err(&cc, bad,
                           "unknown step (expected json, format_user, map, or one of rename, "
                           "default, set, cast, require, filter, drop, select)");
                else
                    cc_err(&cc, s, "empty step");
                continue;
            }
        }
        stream_step_t *st = &p->steps[p->nsteps++];
        st->kind = STEP_MAP;
        st->line = s->line;
        cc_map(&cc, &st->map, ops);
    }
    if (input == SPATE_STREAM_INPUT_RAW && !have_fu) {
        /* Implicit format_user right after json. */
        memmove(&p->steps[2], &p->steps[1], (p->nsteps - 1) * sizeof *p->steps);
        memset(&p->steps[1], 0, sizeof p->steps[1]);
        p->steps[1].kind = STEP_FORMAT_USER;
        p->nsteps++;
    }
    if (cc.errors) {
        spate_stream_prog_free(p);
        return SPATE_EINVAL;
    }
    *out = p;
    return SPATE_OK;
}

void spate_stream_prog_free(spate_stream_prog_t *p) {
    if (!p) return;
    for (size_t i = 0; i < p->nconsts; i++) json_decref(p->consts[i]);
    free(p->consts);
    stream_arena_free(&p->arena);
    free(p);
}

size_t spate_stream_prog_steps(const spate_stream_prog_t *p) { return p->nsteps; }

/* ------------------------------------------------------------------ */
/* Records and runners                                                 */
/* ------------------------------------------------------------------ */

void spate_stream_record_set(spate_stream_record_t *rec, const char *bytes, size_t len) {
    json_decref(rec->value);
    rec->value = NULL;
    rec->bytes = bytes;
    rec->len = len;
}

void spate_stream_record_clear(spate_stream_record_t *rec) {
    json_decref(rec->value);
    rec->value = NULL;
}

void spate_stream_runner_init(spate_stream_runner_t *r) { memset(r, 0, sizeof *r); }

void spate_stream_runner_free(spate_stream_runner_t *r) {
    spate_buf_free(&r->scratch);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------ */
/* Running                                                             */
/* ------------------------------------------------------------------ */

static spate_stream_verdict_t failf(spate_stream_runner_t *r, int line, const char *fmt, ...)
    SPATE_PRINTF(3, 4);
static spate_stream_verdict_t failf(spate_stream_runner_t *r, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
    r->line = line;
    return SPATE_STREAM_FAIL;
}

static const char *type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

/* A short quotation of v for messages: 'text' (at most 40 bytes, cut on a
 * UTF-8 boundary), a number, or the type. */
static void preview(const json_t *v, char *out, size_t n) {
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v), cut = len > 40 ? 40 : len;
        while (cut < len && cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) cut--;
        snprintf(out, n, "'%.*s%s'", (int)cut, s, cut < len ? "..." : "");
    } else if (json_is_integer(v)) {
        snprintf(out, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        char d[32];
        stream_fmt_double(json_real_value(v), d);
        snprintf(out, n, "%s", d);
    } else {
        snprintf(out, n, "%s", type_name(v));
    }
}

/* Appends the text form of v (not null): strings as they are, numbers in
 * decimal, booleans as true/false, objects and arrays as compact JSON. */
static spate_status_t put_text(spate_buf_t *b, json_t *v) {
    switch (json_typeof(v)) {
    case JSON_STRING: return spate_buf_append(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: return stream_put_i64(b, json_integer_value(v));
    case JSON_REAL: {
        char d[32];
        size_t n = stream_fmt_double(json_real_value(v), d);
        return spate_buf_append(b, d, n);
    }
    case JSON_TRUE: return spate_buf_append(b, "true", 4);
    case JSON_FALSE: return spate_buf_append(b, "false", 5);
    case JSON_NULL: return SPATE_OK;
    default: {
        size_t need = json_dumpb(v, NULL, 0, JSON_COMPACT);
        if (need == 0) return SPATE_EINVAL;
        spate_status_t st = spate_buf_reserve(b, need);
        if (st != SPATE_OK) return st;
        json_dumpb(v, b->data + b->len, need, JSON_COMPACT);
        b->len += need;
        b->data[b->len] = '\0';
        return SPATE_OK;
    }
    }
}

/* A constant for a record: scalars are shared, containers copied. */
static json_t *const_instance(json_t *v) {
    if (json_is_object(v) || json_is_array(v)) return json_deep_copy(v);
    return json_incref(v);
}

/* ---- casts ---- */

/* Result of a cast: the new value (a new reference), the same value
 * (returned as is, no reference), or NULL with r->reason set. */
static json_t *cast_int(const stream_cast_t *c, json_t *v, bool big, spate_stream_runner_t *r) {
    int64_t lo = big ? INT64_MIN : INT32_MIN, hi = big ? INT64_MAX : INT32_MAX;
    const char *tn = cast_name(c->type);
    char pv[64];
    preview(v, pv, sizeof pv);
    if (json_is_integer(v)) {
        int64_t x = json_integer_value(v);
        if (x < lo || x > hi) {
            failf(r, c->line, "cast '%s' to %s: %s is out of range", c->path->text, tn, pv);
            return NULL;
        }
        return v;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        /* int64 holds [-2^63, 2^63), both ends exact as doubles; the range
         * test also refuses NaN and infinities. No libm: (int64_t)d
         * truncates, so a whole number is one that survives the round trip. */
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) ||
            (double)(int64_t)d != d) {
            bool in_range = d >= -9223372036854775808.0 && d < 9223372036854775808.0;
            failf(r, c->line, "cast '%s' to %s: %s %s", c->path->text, tn, pv,
                  in_range ? "is not a whole number" : "is out of range");
            return NULL;
        }
        int64_t x = (int64_t)d;
        if (x < lo || x > hi) {
            failf(r, c->line, "cast '%s' to %s: %s is out of range", c->path->text, tn, pv);
            return NULL;
        }
        return json_integer(x);
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        int64_t x;
        spate_status_t st =
            strlen(s) == json_string_length(v) ? spate_parse_i64(s, lo, hi, &x) : SPATE_EINVAL;
        if (st == SPATE_OK) return json_integer(x);
        failf(r, c->line, "cast '%s' to %s: %s %s", c->path->text, tn, pv,
              st == SPATE_ERANGE ? "is out of range" : "is not an integer");
        return NULL;
    }
    failf(r, c->line, "cast '%s' to %s: cannot convert %s", c->path->text, tn, type_name(v));
    return NULL;
}

static json_t *cast_double(const stream_cast_t *c, json_t *v, spate_stream_runner_t *r) {
    if (json_is_real(v)) return v;
    if (json_is_integer(v)) return json_real((double)json_integer_value(v));
    char pv[64];
    preview(v, pv, sizeof pv);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        bool ok = n > 0 && strlen(s) == n;
        for (size_t i = 0; i < n && ok; i++)
            ok = (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-' || s[i] == '+' ||
                 s[i] == 'e' || s[i] == 'E';
        double d;
        if (ok && spate_parse_double(s, &d) == SPATE_OK) return json_real(d);
        failf(r, c->line, "cast '%s' to double: %s is not a number", c->path->text, pv);
        return NULL;
    }
    failf(r, c->line, "cast '%s' to double: cannot convert %s", c->path->text, type_name(v));
    return NULL;
}

static json_t *cast_boolean(const stream_cast_t *c, json_t *v, spate_stream_runner_t *r) {
    static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0"};
    if (json_is_boolean(v)) return v;
    char pv[64];
    preview(v, pv, sizeof pv);
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x == 0 || x == 1) return json_boolean(x);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        for (size_t i = 0; i < 3; i++) {
            if (strcasecmp(s, yes[i]) == 0) return json_true();
            if (strcasecmp(s, no[i]) == 0) return json_false();
        }
    } else {
        failf(r, c->line, "cast '%s' to boolean: cannot convert %s", c->path->text, type_name(v));
        return NULL;
    }
    failf(r, c->line, "cast '%s' to boolean: %s is not true or false", c->path->text, pv);
    return NULL;
}

/* Whether s is a UUID in the form cast_uuid keeps as it is (canonical). */
static bool canonical_uuid(const char *s, size_t n) {
    uint8_t u[16];
    char canon[37];
    if (n != 36 || spate_uuid_parse(s, n, u) != SPATE_OK) return false;
    spate_uuid_format(u, canon);
    return memcmp(canon, s, 36) == 0;
}

static json_t *cast_uuid(const stream_cast_t *c, json_t *v, spate_stream_runner_t *r) {
    if (!json_is_string(v)) {
        failf(r, c->line, "cast '%s' to uuid: cannot convert %s", c->path->text, type_name(v));
        return NULL;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (canonical_uuid(s, n)) return v;
    uint8_t u[16];
    bool ok = spate_uuid_parse(s, n, u) == SPATE_OK;
    if (!ok && n == 32) {
        /* 32 hex digits without dashes. */
        char dashed[36];
        for (size_t i = 0, o = 0; i < 32; i++) {
            if (o == 8 || o == 13 || o == 18 || o == 23) dashed[o++] = '-';
            dashed[o++] = s[i];
        }
        ok = spate_uuid_parse(dashed, 36, u) == SPATE_OK;
    }
    if (!ok) {
        char pv[64];
        preview(v, pv, sizeof pv);
        failf(r, c->line, "cast '%s' to uuid: %s is not a UUID", c->path->text, pv);
        return NULL;
    }
    char canon[37];
    spate_uuid_format(u, canon);
    return json_stringn_nocheck(canon, 36);
}

static json_t *cast_timestamp(const stream_cast_t *c, json_t *v, spate_stream_runner_t *r) {
    if (json_is_integer(v)) return v;
    char pv[64];
    preview(v, pv, sizeof pv);
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d > -9.2e18 && d < 9.2e18) {
            int64_t x = (int64_t)d; /* truncates toward zero; floor it */
            if ((double)x > d) x--;
            return json_integer(x);
        }
        failf(r, c->line, "cast '%s' to timestamp: %s is out of range", c->path->text, pv);
        return NULL;
    }
    if (json_is_string(v)) {
        int64_t ms;
        if (spate_stream_parse_time(json_string_value(v), json_string_length(v), &ms) == SPATE_OK)
            return json_integer(ms);
        failf(r, c->line, "cast '%s' to timestamp: %s is not an RFC 3339 timestamp", c->path->text,
              pv);
        return NULL;
    }
    failf(r, c->line, "cast '%s' to timestamp: cannot convert %s", c->path->text, type_name(v));
    return NULL;
}

static json_t *cast_text(const stream_cast_t *c, json_t *v, spate_stream_runner_t *r) {
    if (json_is_string(v)) return v;
    spate_buf_reset(&r->scratch);
    if (put_text(&r->scratch, v) != SPATE_OK) {
        failf(r, c->line, "cast '%s' to text: out of memory", c->path->text);
        return NULL;
    }
    return json_stringn_nocheck(r->scratch.data, r->scratch.len);
}

static spate_stream_verdict_t run_cast(const stream_cast_t *c, json_t *rec,
                                       spate_stream_runner_t *r) {
    json_t *parent;
    json_t *v = stream_path_resolve(c->path, rec, &parent);
    if (!v || json_is_null(v)) return SPATE_STREAM_PASS;
    json_t *nv;
    switch (c->type) {
    case CAST_TEXT: nv = cast_text(c, v, r); break;
    case CAST_INT: nv = cast_int(c, v, false, r); break;
    case CAST_BIGINT: nv = cast_int(c, v, true, r); break;
    case CAST_DOUBLE: nv = cast_double(c, v, r); break;
    case CAST_BOOLEAN: nv = cast_boolean(c, v, r); break;
    case CAST_UUID: nv = cast_uuid(c, v, r); break;
    default: nv = cast_timestamp(c, v, r); break;
    }
    if (!nv) {
        if (!r->reason[0])
            failf(r, c->line, "cast '%s' to %s: out of memory", c->path->text, cast_name(c->type));
        return SPATE_STREAM_FAIL;
    }
    if (nv == v) return SPATE_STREAM_PASS;
    if (stream_path_replace(c->path, parent, nv) != SPATE_OK)
        return failf(r, c->line, "cast '%s': cannot store the result", c->path->text);
    return SPATE_STREAM_PASS;
}

/* ---- set ---- */

static spate_stream_verdict_t run_set(const stream_set_t *s, json_t *rec,
                                      spate_stream_runner_t *r) {
    json_t *nv = NULL;
    switch (s->kind) {
    case SET_VALUE: nv = const_instance(s->value); break;
    case SET_COPY: {
        json_t *v = spate_stream_path_get(s->src, rec);
        if (!v)
            return failf(r, s->line, "set '%s': field '%s' is missing", s->target->text,
                         s->src->text);
        nv = const_instance(v);
        break;
    }
    case SET_FORMAT:
    case SET_CONCAT: {
        spate_buf_t *b = &r->scratch;
        spate_buf_reset(b);
        bool first = true;
        for (size_t i = 0; i < s->nparts; i++) {
            const stream_part_t *pt = &s->parts[i];
            spate_status_t st = SPATE_OK;
            if (!pt->path) {
                st = spate_buf_append(b, pt->lit, pt->n);
            } else {
                json_t *v = spate_stream_path_get(pt->path, rec);
                if (!v || json_is_null(v)) {
                    if (s->kind == SET_CONCAT) continue;
                    return failf(r, s->line, "set '%s': field '%s' is %s", s->target->text,
                                 pt->path->text, v ? "null" : "missing");
                }
                if (s->kind == SET_CONCAT && !first && s->seplen)
                    st = spate_buf_append(b, s->sep, s->seplen);
                if (st == SPATE_OK) st = put_text(b, v);
                first = false;
            }
            if (st != SPATE_OK)
                return failf(r, s->line, "set '%s': out of memory", s->target->text);
        }
        nv = json_stringn_nocheck(b->data ? b->data : "", b->len);
        break;
    }
    }
    if (!nv) return failf(r, s->line, "set '%s': out of memory", s->target->text);
    if (stream_path_set(s->target, rec, nv, r->reason, sizeof r->reason) != SPATE_OK) {
        r->line = s->line;
        return SPATE_STREAM_FAIL;
    }
    return SPATE_STREAM_PASS;
}

/* ---- select ---- */

static bool selected(const stream_map_t *m, const char *k, size_t kl) {
    for (size_t i = 0; i < m->nselect; i++) {
        const stream_seg_t *sg = &m->select[i].path->segs[0];
        if (sg->keylen == kl && memcmp(sg->key, k, kl) == 0) return true;
    }
    return false;
}

static spate_stream_verdict_t run_select(const stream_map_t *m, spate_stream_record_t *rec,
                                         spate_stream_runner_t *r) {
    json_t *obj = rec->value;
    if (m->select_flat) {
        /* In place: delete what is not kept (no new object). */
        void *it = json_object_iter(obj);
        while (it) {
            const char *k = json_object_iter_key(it);
            size_t kl = json_object_iter_key_len(it);
            void *next = json_object_iter_next(obj, it);
            if (!selected(m, k, kl)) json_object_deln(obj, k, kl);
            it = next;
        }
        return SPATE_STREAM_PASS;
    }
    json_t *out = json_object();
    if (!out) return failf(r, 0, "select: out of memory");
    for (size_t i = 0; i < m->nselect; i++) {
        json_t *v = spate_stream_path_get(m->select[i].path, obj);
        if (!v) continue;
        if (stream_path_set(m->select[i].path, out, json_incref(v), r->reason, sizeof r->reason) !=
            SPATE_OK) {
            json_decref(out);
            r->line = m->select[i].line;
            return SPATE_STREAM_FAIL;
        }
    }
    json_decref(obj);
    rec->value = out;
    return SPATE_STREAM_PASS;
}

static spate_stream_verdict_t run_map(const stream_map_t *m, spate_stream_record_t *rec,
                                      spate_stream_runner_t *r) {
    spate_stream_verdict_t v;
    for (size_t i = 0; i < m->nrename; i++) {
        const stream_rename_t *rn = &m->rename[i];
        json_t *val = stream_path_take(rn->from, rec->value);
        if (val &&
            stream_path_set(rn->to, rec->value, val, r->reason, sizeof r->reason) != SPATE_OK) {
            r->line = rn->line;
            return SPATE_STREAM_FAIL;
        }
    }
    for (size_t i = 0; i < m->ndefault; i++) {
        const stream_default_t *d = &m->defaults[i];
        json_t *cur = spate_stream_path_get(d->path, rec->value);
        if (cur && !json_is_null(cur)) continue;
        json_t *nv = const_instance(d->value);
        if (!nv) return failf(r, d->line, "default '%s': out of memory", d->path->text);
        if (stream_path_set(d->path, rec->value, nv, r->reason, sizeof r->reason) != SPATE_OK) {
            r->line = d->line;
            return SPATE_STREAM_FAIL;
        }
    }
    for (size_t i = 0; i < m->nset; i++)
        if ((v = run_set(&m->set[i], rec->value, r)) != SPATE_STREAM_PASS) return v;
    for (size_t i = 0; i < m->ncast; i++)
        if ((v = run_cast(&m->cast[i], rec->value, r)) != SPATE_STREAM_PASS) return v;
    for (size_t i = 0; i < m->nrequire; i++) {
        const stream_pathop_t *q = &m->require[i];
        json_t *val = spate_stream_path_get(q->path, rec->value);
        if (!val || json_is_null(val))
            return failf(r, q->line, "required field '%s' is %s", q->path->text,
                         val ? "null" : "missing");
    }
    if (m->filter) {
        int ok = stream_expr_eval(m->filter, rec->value, r->reason, sizeof r->reason);
        if (ok < 0) {
            r->line = m->filter_line;
            return SPATE_STREAM_FAIL;
        }
        if (ok == 0) return SPATE_STREAM_DROP;
    }
    for (size_t i = 0; i < m->ndrop; i++)
        json_decref(stream_path_take(m->drop[i].path, rec->value));
    if (m->nselect) return run_select(m, rec, r);
    return SPATE_STREAM_PASS;
}

static spate_stream_verdict_t run_json(spate_stream_record_t *rec, spate_stream_runner_t *r) {
    json_decref(rec->value);
    rec->value = NULL;
    if (!rec->bytes) return failf(r, 0, "json: the message has no value (null)");
    spate_json_error_t je;
    json_t *v = spate_json_loadb(rec->bytes, rec->len, &je);
    if (!v)
        return failf(r, 0, "json: invalid JSON at line %d column %d: %s", je.line, je.column,
                     je.text);
    if (!json_is_object(v)) {
        failf(r, 0, "json: expected an object, got %s", type_name(v));
        json_decref(v);
        return SPATE_STREAM_FAIL;
    }
    rec->value = v;
    return SPATE_STREAM_PASS;
}

static spate_stream_verdict_t run_format_user(const stream_step_t *st, spate_stream_record_t *rec,
                                              spate_stream_runner_t *r) {
    char why[200];
    spate_buf_reset(&r->scratch);
    if (spate_format_user(rec->value, &r->scratch, why, sizeof why) != SPATE_OK)
        return failf(r, st->line, "format_user: %s", why);
    spate_json_error_t je;
    json_t *v = spate_json_loadb(r->scratch.data, r->scratch.len, &je);
    if (!v) return failf(r, st->line, "format_user: cannot read its own output: %s", je.text);
    json_decref(rec->value);
    rec->value = v;
    return SPATE_STREAM_PASS;
}

spate_stream_verdict_t spate_stream_prog_run(const spate_stream_prog_t *p,
                                             spate_stream_record_t *rec, spate_stream_runner_t *r) {
    r->reason[0] = '\0';
    r->line = 0;
    for (size_t i = 0; i < p->nsteps; i++) {
        const stream_step_t *st = &p->steps[i];
        spate_stream_verdict_t v;
        switch (st->kind) {
        case STEP_JSON: v = run_json(rec, r); break;
        case STEP_FORMAT_USER: v = run_format_user(st, rec, r); break;
        default: v = run_map(&st->map, rec, r); break;
        }
        if (v != SPATE_STREAM_PASS) return v;
    }
    return SPATE_STREAM_PASS;
}

/* ------------------------------------------------------------------ */
/* The flat path (stream.h)                                            */
/* ------------------------------------------------------------------ */

static bool flat_path(const spate_stream_path_t *p) { return p->nsegs == 1 && p->segs[0].key; }

static bool flat_list(const stream_pathop_t *ops, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!flat_path(ops[i].path)) return false;
    return true;
}

bool spate_stream_prog_flat(const spate_stream_prog_t *p) {
    if (p->nsteps == 0 || p->steps[0].kind != STEP_JSON) return false;
    for (size_t i = 1; i < p->nsteps; i++) {
        const stream_step_t *st = &p->steps[i];
        if (st->kind != STEP_MAP) return false;
        const stream_map_t *m = &st->map;
        if (m->nrename || m->ndefault || m->nset || m->filter) return false;
        for (size_t c = 0; c < m->ncast; c++)
            if (!flat_path(m->cast[c].path) ||
                (m->cast[c].type != CAST_TEXT && m->cast[c].type != CAST_UUID))
                return false;
        if (!flat_list(m->require, m->nrequire) || !flat_list(m->drop, m->ndrop) ||
            !flat_list(m->select, m->nselect))
            return false;
    }
    return true;
}

static ssize_t flat_find(const spate_json_field_t *f, size_t n, const spate_stream_path_t *p) {
    const stream_seg_t *sg = &p->segs[0];
    for (size_t i = 0; i < n; i++)
        if (f[i].kn == sg->keylen && memcmp(f[i].k, sg->key, sg->keylen) == 0) return (ssize_t)i;
    return -1;
}

/* Removes f[i], keeping the order. */
static void flat_remove(spate_json_field_t *f, size_t *n, size_t i) {
    memmove(f + i, f + i + 1, (*n - i - 1) * sizeof *f);
    (*n)--;
}

/* Every field is a string here, so: a cast to text keeps it, a cast to
 * uuid keeps a canonical UUID (anything else would change or fail: the
 * general path), require holds for any present field (no nulls), drop and
 * select remove top-level fields — run_map's order (cast, require, drop,
 * select) on a flat record. */
bool spate_stream_prog_run_flat(const spate_stream_prog_t *p, const char *bytes, size_t len,
                                spate_json_field_t *f, size_t *n) {
    if (!bytes || !spate_json_flat_scan(bytes, len, f, SPATE_STREAM_FLAT_MAX, n)) return false;
    for (size_t s = 1; s < p->nsteps; s++) {
        const stream_map_t *m = &p->steps[s].map;
        for (size_t c = 0; c < m->ncast; c++) {
            ssize_t i = flat_find(f, *n, m->cast[c].path);
            if (i >= 0 && m->cast[c].type == CAST_UUID && !canonical_uuid(f[i].v, f[i].vn))
                return false;
        }
        for (size_t c = 0; c < m->nrequire; c++)
            if (flat_find(f, *n, m->require[c].path) < 0) return false;
        for (size_t c = 0; c < m->ndrop; c++) {
            ssize_t i = flat_find(f, *n, m->drop[c].path);
            if (i >= 0) flat_remove(f, n, (size_t)i);
        }
        if (m->nselect) {
            for (size_t i = 0; i < *n;) {
                if (selected(m, f[i].k, f[i].kn))
                    i++;
                else
                    flat_remove(f, n, i);
            }
        }
    }
    return true;
}
