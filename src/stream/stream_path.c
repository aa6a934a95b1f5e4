/*
 * stream_path.c — field paths: compiled once, walked per record.
 *
 * Grammar (the same in YAML keys, format placeholders and filters):
 *
 *   path    := [ '$' ] first { '.' name | bracket }
 *   first   := name | bracket            ('$' must be followed by '.' or '[')
 *   name    := [A-Za-z_\x80-\xff] [A-Za-z0-9_\-\x80-\xff]*
 *   bracket := '[' digits ']'            an array index
 *            | '[' quoted ']'            a key with any other characters,
 *                                        '...' or "..." with \\ \' \" escapes
 *
 *   "location.street.number"  →  [location][street][number]
 *   "$.a.b[0]"                →  [a][b][#0]
 *   "$['odd.key'].x"          →  [odd.key][x]
 *
 * A compiled path is an array of segments (key bytes + length, or an
 * index), so a lookup is one json_object_getn / json_array_get per
 * segment with no parsing and no allocation. A path whose segments are all
 * keys can be a write target: the writer creates the objects on the way.
 * Array indices are read-only except for replacing an element that exists
 * (casts) and removing one (drop).
 */
#include "stream_int.h"

#include <string.h>

static bool name_start(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c >= 0x80;
}

static bool name_char(unsigned char c) {
    return name_start(c) || (c >= '0' && c <= '9') || c == '-';
}

bool stream_path_start(unsigned char c) { return name_start(c) || c == '$'; }

static void perr(char *err, size_t errlen, const char *what, size_t off) {
    snprintf(err, errlen, "%s at column %zu", what, off + 1);
}

spate_stream_path_t *stream_path_compile(stream_arena_t *a, const char *s, size_t n, size_t start,
                                         bool partial, size_t *end, char *err, size_t errlen) {
    stream_seg_t segs[STREAM_PATH_MAX_SEGS];
    uint32_t nsegs = 0;
    bool keys_only = true;
    size_t i = start;
    if (i < n && s[i] == '$') {
        i++;
        if (i >= n || (s[i] != '.' && s[i] != '[')) {
            perr(err, errlen, "expected '.' or '[' after '$'", i);
            return NULL;
        }
        if (s[i] == '.') i++;
    }
    bool first = true;
    for (;;) {
        if (nsegs == STREAM_PATH_MAX_SEGS) {
            perr(err, errlen, "path nests deeper than 32 levels", i);
            return NULL;
        }
        stream_seg_t *sg = &segs[nsegs];
        memset(sg, 0, sizeof *sg);
        if (i < n && s[i] == '[') {
            size_t open = i++;
            if (i < n && s[i] >= '0' && s[i] <= '9') {
                size_t v = 0;
                while (i < n && s[i] >= '0' && s[i] <= '9') {
                    v = v * 10 + (size_t)(s[i] - '0');
                    if (v > STREAM_PATH_MAX_INDEX) {
                        perr(err, errlen, "array index too large", open);
                        return NULL;
                    }
                    i++;
                }
                if (i >= n || s[i] != ']') {
                    perr(err, errlen, "expected ']'", i);
                    return NULL;
                }
                i++;
                sg->index = v;
                keys_only = false;
            } else if (i < n && (s[i] == '\'' || s[i] == '"')) {
                char q = s[i++];
                /* Unescaped length first, then copy. */
                size_t j = i, len = 0;
                while (j < n && s[j] != q) {
                    if (s[j] == '\\') {
                        if (j + 1 >= n ||
                            (s[j + 1] != '\\' && s[j + 1] != '\'' && s[j + 1] != '"')) {
                            perr(err, errlen, "unknown escape in quoted key", j);
                            return NULL;
                        }
                        j++;
                    }
                    j++;
                    len++;
                }
                if (j >= n) {
                    perr(err, errlen, "unterminated quoted key", open);
                    return NULL;
                }
                if (len == 0) {
                    perr(err, errlen, "empty key", open);
                    return NULL;
                }
                char *k = stream_arena_alloc(a, len + 1);
                size_t o = 0;
                for (size_t p = i; p < j; p++) {
                    if (s[p] == '\\') p++;
                    k[o++] = s[p];
                }
                i = j + 1;
                if (i >= n || s[i] != ']') {
                    perr(err, errlen, "expected ']' after quoted key", i);
                    return NULL;
                }
                i++;
                sg->key = k;
                sg->keylen = len;
            } else {
                perr(err, errlen, "expected an index or a quoted key after '['", i);
                return NULL;
            }
        } else if (i < n && name_start((unsigned char)s[i])) {
            size_t b = i;
            while (i < n && name_char((unsigned char)s[i])) i++;
            sg->key = stream_arena_strndup(a, s + b, i - b);
            sg->keylen = i - b;
        } else {
            perr(err, errlen, first ? "expected a field name" : "expected a field name after '.'",
                 i);
            return NULL;
        }
        nsegs++;
        first = false;
        /* What may follow: '.' name, '[', or the end. */
        if (i < n && s[i] == '[') continue;
        if (i < n && s[i] == '.') {
            i++;
            if (i < n && s[i] == '[') {
                perr(err, errlen, "expected a field name after '.'", i);
                return NULL;
            }
            continue;
        }
        if (i == n || partial) break;
        perr(err, errlen, "unexpected character in path", i);
        return NULL;
    }
    stream_seg_t *out = stream_arena_alloc(a, nsegs * sizeof *out);
    memcpy(out, segs, nsegs * sizeof *out);
    spate_stream_path_t *p = stream_arena_alloc(a, sizeof *p);
    p->text = stream_arena_strndup(a, s + start, i - start);
    p->segs = out;
    p->nsegs = nsegs;
    p->keys_only = keys_only;
    if (end) *end = i;
    return p;
}

const char *spate_stream_path_text(const spate_stream_path_t *p) { return p->text; }

static json_t *seg_get(const stream_seg_t *sg, json_t *cur) {
    if (sg->key) return json_is_object(cur) ? json_object_getn(cur, sg->key, sg->keylen) : NULL;
    return json_is_array(cur) ? json_array_get(cur, sg->index) : NULL;
}

json_t *spate_stream_path_get(const spate_stream_path_t *p, json_t *v) {
    for (uint32_t i = 0; i < p->nsegs && v; i++) v = seg_get(&p->segs[i], v);
    return v;
}

json_t *stream_path_resolve(const spate_stream_path_t *p, json_t *root, json_t **parent) {
    json_t *cur = root;
    for (uint32_t i = 0; i + 1 < p->nsegs && cur; i++) cur = seg_get(&p->segs[i], cur);
    if (parent) *parent = cur;
    return cur ? seg_get(&p->segs[p->nsegs - 1], cur) : NULL;
}

spate_status_t stream_path_replace(const spate_stream_path_t *p, json_t *parent, json_t *value) {
    const stream_seg_t *sg = &p->segs[p->nsegs - 1];
    int rc = sg->key ? json_object_setn_new(parent, sg->key, sg->keylen, value)
                     : json_array_set_new(parent, sg->index, value);
    return rc == 0 ? SPATE_OK : SPATE_EINVAL;
}

spate_status_t stream_path_set(const spate_stream_path_t *p, json_t *root, json_t *value,
                               char *reason, size_t rlen) {
    json_t *cur = root;
    for (uint32_t i = 0; i + 1 < p->nsegs; i++) {
        const stream_seg_t *sg = &p->segs[i];
        json_t *next = json_object_getn(cur, sg->key, sg->keylen);
        if (!next) {
            next = json_object();
            if (!next || json_object_setn_new(cur, sg->key, sg->keylen, next) != 0) {
                json_decref(value);
                snprintf(reason, rlen, "cannot set '%s': out of memory", p->text);
                return SPATE_ENOMEM;
            }
        } else if (!json_is_object(next)) {
            json_decref(value);
            snprintf(reason, rlen, "cannot set '%s': '%.*s' is not an object", p->text,
                     (int)sg->keylen, sg->key);
            return SPATE_EINVAL;
        }
        cur = next;
    }
    const stream_seg_t *last = &p->segs[p->nsegs - 1];
    if (json_object_setn_new(cur, last->key, last->keylen, value) != 0) {
        snprintf(reason, rlen, "cannot set '%s'", p->text);
        return SPATE_EINVAL;
    }
    return SPATE_OK;
}

json_t *stream_path_take(const spate_stream_path_t *p, json_t *root) {
    json_t *parent;
    json_t *v = stream_path_resolve(p, root, &parent);
    if (!v) return NULL;
    json_incref(v);
    const stream_seg_t *sg = &p->segs[p->nsegs - 1];
    if (sg->key)
        json_object_deln(parent, sg->key, sg->keylen);
    else
        json_array_remove(parent, sg->index);
    return v;
}
