/*
 * base_conf.c — YAML configuration files loaded into a line-aware tree.
 *
 * libyaml's event parser does the YAML; this file builds a small tree of
 * spate_conf_node_t from its events and remembers each node's line, so
 * every error a user sees names the file, the line and the key:
 *
 *   pipeline.yaml:7: key 'retries': expected an integer, got 'three'
 *
 * Rules kept simple on purpose, since configuration is read by people:
 * one document per file; mapping keys must be scalars and unique; anchors
 * and aliases are refused (they make line numbers lie). All nodes and
 * strings live in one arena freed with the spate_conf_t.
 */
#include "base.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

/* ---- arena: a list of blocks, bump-allocated ---- */

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    max_align_t data[];
} arena_block_t;

static void *arena_alloc(void **arena, size_t n) {
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    arena_block_t *b = *arena;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 8192 ? n : 8192;
        arena_block_t *nb = spate_xmalloc(sizeof *nb + cap);
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        *arena = b = nb;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

static char *arena_strndup(void **arena, const char *s, size_t n) {
    char *d = arena_alloc(arena, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void arena_free(void *arena) {
    arena_block_t *b = arena;
    while (b) {
        arena_block_t *n = b->next;
        free(b);
        b = n;
    }
}

/* ---- errors ---- */

static void err_set(spate_conf_err_t *err, const char *fmt, ...) SPATE_PRINTF(2, 3);
static void err_set(spate_conf_err_t *err, const char *fmt, ...) {
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

void spate_conf_errorf(const spate_conf_t *c, const spate_conf_node_t *n, spate_conf_err_t *err,
                       const char *fmt, ...) {
    if (!err) return;
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *path = c && c->path ? c->path : "<config>";
    if (n && n->key)
        snprintf(err->msg, sizeof err->msg, "%s:%d: key '%s': %s", path, n->line, n->key, what);
    else
        snprintf(err->msg, sizeof err->msg, "%s:%d: %s", path, n ? n->line : 0, what);
}

/* ---- tree building from libyaml events ---- */

typedef struct {
    spate_conf_t *conf;
    yaml_parser_t parser;
    spate_conf_err_t *err;
    int depth;
} build_t;

#define MAX_DEPTH 64

static spate_status_t next_event(build_t *bd, yaml_event_t *ev) {
    if (!yaml_parser_parse(&bd->parser, ev)) {
        const yaml_parser_t *p = &bd->parser;
        err_set(bd->err, "%s:%zu: YAML error: %s%s%s", bd->conf->path, p->problem_mark.line + 1,
                p->problem ? p->problem : "malformed input", p->context ? " " : "",
                p->context ? p->context : "");
        return SPATE_EINVAL;
    }
    return SPATE_OK;
}

static spate_conf_node_t *node_new(build_t *bd, spate_conf_kind_t kind, const yaml_event_t *ev) {
    spate_conf_node_t *n = arena_alloc(&bd->conf->arena, sizeof *n);
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->line = (int)ev->start_mark.line + 1;
    return n;
}

static spate_status_t parse_node(build_t *bd, yaml_event_t *ev, spate_conf_node_t **out);

/* Parses children until the matching end event; ev is the start event. */
static spate_status_t parse_children(build_t *bd, spate_conf_node_t *parent, bool is_map) {
    spate_conf_node_t **tail = &parent->child;
    for (;;) {
        yaml_event_t ev;
        if (next_event(bd, &ev) != SPATE_OK) return SPATE_EINVAL;
        if (ev.type == (is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT)) {
            yaml_event_delete(&ev);
            return SPATE_OK;
        }
        const char *key = NULL;
        int kline = 0;
        if (is_map) {
            if (ev.type == YAML_SCALAR_EVENT && ev.data.scalar.anchor) {
                err_set(bd->err,
                        "%s:%zu: YAML anchors and aliases are not supported in spate configuration",
                        bd->conf->path, ev.start_mark.line + 1);
                yaml_event_delete(&ev);
                return SPATE_EINVAL;
            }
            if (ev.type != YAML_SCALAR_EVENT) {
                err_set(bd->err, "%s:%zu: mapping keys must be plain words", bd->conf->path,
                        ev.start_mark.line + 1);
                yaml_event_delete(&ev);
                return SPATE_EINVAL;
            }
            key = arena_strndup(&bd->conf->arena, (const char *)ev.data.scalar.value,
                                ev.data.scalar.length);
            kline = (int)ev.start_mark.line + 1;
            yaml_event_delete(&ev);
            for (spate_conf_node_t *s = parent->child; s; s = s->next) {
                if (strcmp(s->key, key) == 0) {
                    err_set(bd->err, "%s:%d: key '%s' appears twice (first on line %d)",
                            bd->conf->path, kline, key, s->line);
                    return SPATE_EINVAL;
                }
            }
            if (next_event(bd, &ev) != SPATE_OK) return SPATE_EINVAL;
        }
        spate_conf_node_t *child = NULL;
        spate_status_t st = parse_node(bd, &ev, &child);
        if (st != SPATE_OK) return st;
        child->key = key;
        /* A map entry is where its key is written, which is the line users
         * look for; a block value starts on the line below. */
        if (is_map) child->line = kline;
        *tail = child;
        tail = &child->next;
        parent->nchild++;
    }
}

/* Consumes ev (deletes it) and everything below it. */
static spate_status_t parse_node(build_t *bd, yaml_event_t *ev, spate_conf_node_t **out) {
    spate_status_t st = SPATE_OK;
    if (++bd->depth > MAX_DEPTH) {
        err_set(bd->err, "%s:%zu: nesting deeper than %d levels", bd->conf->path,
                ev->start_mark.line + 1, MAX_DEPTH);
        yaml_event_delete(ev);
        return SPATE_EINVAL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        if (ev->data.scalar.anchor) goto alias;
        spate_conf_node_t *n = node_new(bd, SPATE_CONF_SCALAR, ev);
        n->value = arena_strndup(&bd->conf->arena, (const char *)ev->data.scalar.value,
                                 ev->data.scalar.length);
        n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
        *out = n;
        break;
    }
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT: {
        bool is_map = ev->type == YAML_MAPPING_START_EVENT;
        if (is_map ? ev->data.mapping_start.anchor != NULL : ev->data.sequence_start.anchor != NULL)
            goto alias;
        spate_conf_node_t *n = node_new(bd, is_map ? SPATE_CONF_MAP : SPATE_CONF_SEQ, ev);
        *out = n;
        st = parse_children(bd, n, is_map);
        break;
    }
    case YAML_ALIAS_EVENT: goto alias;
    default:
        err_set(bd->err, "%s:%zu: unexpected YAML structure", bd->conf->path,
                ev->start_mark.line + 1);
        st = SPATE_EINVAL;
        break;
    }
    yaml_event_delete(ev);
    bd->depth--;
    return st;
alias:
    err_set(bd->err, "%s:%zu: YAML anchors and aliases are not supported in spate configuration",
            bd->conf->path, ev->start_mark.line + 1);
    yaml_event_delete(ev);
    return SPATE_EINVAL;
}

spate_status_t spate_conf_load_string(spate_conf_t *conf, const char *name, const char *text,
                                      size_t len, spate_conf_err_t *err) {
    memset(conf, 0, sizeof *conf);
    conf->path = spate_xstrdup(name ? name : "<config>");
    if (err) err->msg[0] = '\0';
    build_t bd = {.conf = conf, .err = err};
    if (!yaml_parser_initialize(&bd.parser)) {
        err_set(err, "%s: cannot initialise the YAML parser", conf->path);
        return SPATE_ENOMEM;
    }
    yaml_parser_set_input_string(&bd.parser, (const unsigned char *)text, len);
    spate_status_t st = SPATE_EINVAL;
    yaml_event_t ev;
    /* STREAM-START, then DOCUMENT-START (or STREAM-END for empty input). */
    if (next_event(&bd, &ev) != SPATE_OK) goto err;
    yaml_event_delete(&ev);
    if (next_event(&bd, &ev) != SPATE_OK) goto err;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        st = SPATE_OK;
        goto done;
    }
    yaml_event_delete(&ev);
    if (next_event(&bd, &ev) != SPATE_OK) goto err;
    if (parse_node(&bd, &ev, &conf->root) != SPATE_OK) goto err;
    if (next_event(&bd, &ev) != SPATE_OK) goto err; /* DOCUMENT-END */
    yaml_event_delete(&ev);
    if (next_event(&bd, &ev) != SPATE_OK) goto err;
    if (ev.type != YAML_STREAM_END_EVENT) {
        err_set(err, "%s:%zu: only one YAML document per file is allowed", conf->path,
                ev.start_mark.line + 1);
        yaml_event_delete(&ev);
        goto err;
    }
    yaml_event_delete(&ev);
    /* An empty document is a null scalar: treat it as no configuration. */
    if (conf->root && conf->root->kind == SPATE_CONF_SCALAR && conf->root->value[0] == '\0' &&
        !conf->root->quoted)
        conf->root = NULL;
    st = SPATE_OK;
    goto done;
err:
    arena_free(conf->arena);
    conf->arena = NULL;
    conf->root = NULL;
done:
    yaml_parser_delete(&bd.parser);
    return st;
}

#define CONF_MAX_FILE (16u << 20)

spate_status_t spate_conf_load_file(spate_conf_t *conf, const char *path, spate_conf_err_t *err) {
    memset(conf, 0, sizeof *conf);
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(err, "%s: cannot open: %s", path, strerror(errno));
        conf->path = spate_xstrdup(path);
        return SPATE_EIO;
    }
    spate_buf_t b = SPATE_BUF_INIT;
    char chunk[8192];
    size_t n;
    spate_status_t st = SPATE_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > CONF_MAX_FILE) {
            err_set(err, "%s: larger than %u MiB; not a configuration file?", path,
                    CONF_MAX_FILE >> 20);
            st = SPATE_EINVAL;
            break;
        }
        if (spate_buf_append(&b, chunk, n) != SPATE_OK) {
            st = SPATE_ENOMEM;
            break;
        }
    }
    if (st == SPATE_OK && ferror(f)) {
        err_set(err, "%s: read error: %s", path, strerror(errno));
        st = SPATE_EIO;
    }
    fclose(f);
    if (st == SPATE_OK)
        st = spate_conf_load_string(conf, path, b.data ? b.data : "", b.len, err);
    else
        conf->path = spate_xstrdup(path);
    spate_buf_free(&b);
    return st;
}

void spate_conf_free(spate_conf_t *conf) {
    arena_free(conf->arena);
    free(conf->path);
    memset(conf, 0, sizeof *conf);
}

/* ---- lookups and typed getters ---- */

const spate_conf_node_t *spate_conf_get(const spate_conf_node_t *map, const char *key) {
    if (!map || map->kind != SPATE_CONF_MAP) return NULL;
    for (const spate_conf_node_t *n = map->child; n; n = n->next)
        if (strcmp(n->key, key) == 0) return n;
    return NULL;
}

static const char *kind_name(spate_conf_kind_t k) {
    return k == SPATE_CONF_MAP ? "a mapping" : k == SPATE_CONF_SEQ ? "a list" : "a value";
}

static spate_status_t get_scalar(const spate_conf_t *c, const spate_conf_node_t *map,
                                 const char *key, const char *want, const spate_conf_node_t **out,
                                 spate_conf_err_t *err) {
    const spate_conf_node_t *n = spate_conf_get(map, key);
    if (!n) return SPATE_ENOENT;
    if (n->kind != SPATE_CONF_SCALAR) {
        spate_conf_errorf(c, n, err, "expected %s, got %s", want, kind_name(n->kind));
        return SPATE_EINVAL;
    }
    *out = n;
    return SPATE_OK;
}

spate_status_t spate_conf_get_str(const spate_conf_t *c, const spate_conf_node_t *map,
                                  const char *key, const char **out, spate_conf_err_t *err) {
    const spate_conf_node_t *n;
    spate_status_t st = get_scalar(c, map, key, "a string", &n, err);
    if (st == SPATE_OK) *out = n->value;
    return st;
}

/* strtoll/strtod skip any leading white space themselves; a setting or
 * parameter with white space before it is not a number here. */
static bool leading_space(const char *s) {
    return *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f';
}

spate_status_t spate_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out) {
    if (!s || !*s || leading_space(s)) return SPATE_EINVAL;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || end == s) return SPATE_EINVAL;
    if (errno == ERANGE || v < min || v > max) return SPATE_ERANGE;
    *out = v;
    return SPATE_OK;
}

spate_status_t spate_parse_double(const char *s, double *out) {
    if (!s || !*s || leading_space(s)) return SPATE_EINVAL;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (*end || end == s || errno == ERANGE || !isfinite(v)) return SPATE_EINVAL;
    *out = v;
    return SPATE_OK;
}

spate_status_t spate_conf_get_i64(const spate_conf_t *c, const spate_conf_node_t *map,
                                  const char *key, int64_t min, int64_t max, int64_t *out,
                                  spate_conf_err_t *err) {
    const spate_conf_node_t *n;
    spate_status_t st = get_scalar(c, map, key, "an integer", &n, err);
    if (st != SPATE_OK) return st;
    int64_t v;
    st = n->quoted ? SPATE_EINVAL : spate_parse_i64(n->value, min, max, &v);
    if (st == SPATE_EINVAL) {
        spate_conf_errorf(c, n, err, "expected an integer, got '%s'", n->value);
        return SPATE_EINVAL;
    }
    if (st == SPATE_ERANGE) {
        spate_conf_errorf(c, n, err, "%s is out of range [%lld, %lld]", n->value, (long long)min,
                          (long long)max);
        return SPATE_ERANGE;
    }
    *out = v;
    return SPATE_OK;
}

spate_status_t spate_conf_get_double(const spate_conf_t *c, const spate_conf_node_t *map,
                                     const char *key, double min, double max, double *out,
                                     spate_conf_err_t *err) {
    const spate_conf_node_t *n;
    spate_status_t st = get_scalar(c, map, key, "a number", &n, err);
    if (st != SPATE_OK) return st;
    double v;
    if (n->quoted || spate_parse_double(n->value, &v) != SPATE_OK) {
        spate_conf_errorf(c, n, err, "expected a number, got '%s'", n->value);
        return SPATE_EINVAL;
    }
    if (v < min || v > max) {
        spate_conf_errorf(c, n, err, "%s is out of range [%g, %g]", n->value, min, max);
        return SPATE_ERANGE;
    }
    *out = v;
    return SPATE_OK;
}

spate_status_t spate_conf_get_bool(const spate_conf_t *c, const spate_conf_node_t *map,
                                   const char *key, bool *out, spate_conf_err_t *err) {
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    const spate_conf_node_t *n;
    spate_status_t st = get_scalar(c, map, key, "true or false", &n, err);
    if (st != SPATE_OK) return st;
    if (!n->quoted) {
        for (size_t i = 0; i < 3; i++) {
            if (strcasecmp(n->value, yes[i]) == 0) {
                *out = true;
                return SPATE_OK;
            }
            if (strcasecmp(n->value, no[i]) == 0) {
                *out = false;
                return SPATE_OK;
            }
        }
    }
    spate_conf_errorf(c, n, err, "expected true or false, got '%s'", n->value);
    return SPATE_EINVAL;
}

spate_status_t spate_conf_check_keys(const spate_conf_t *c, const spate_conf_node_t *map,
                                     const char *const *known, spate_conf_err_t *err) {
    if (!map) return SPATE_OK;
    if (map->kind != SPATE_CONF_MAP) {
        spate_conf_errorf(c, map, err, "expected a mapping of settings, got %s",
                          kind_name(map->kind));
        return SPATE_EINVAL;
    }
    for (const spate_conf_node_t *n = map->child; n; n = n->next) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++) ok = strcmp(*k, n->key) == 0;
        if (!ok) {
            spate_conf_errorf(c, n, err, "unknown setting");
            return SPATE_EINVAL;
        }
    }
    return SPATE_OK;
}
