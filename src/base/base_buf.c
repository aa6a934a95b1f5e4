/*
 * base_buf.c — status names, aborting allocators and growable buffers.
 *
 * A spate_buf_t grows by doubling and always keeps one spare byte for a
 * terminating NUL, so text assembled in it can be handed to C string
 * functions without a copy. Growth failures are reported (SPATE_ENOMEM),
 * never hidden: buffers grow with outside input.
 */
#include "base.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

const char *spate_status_str(spate_status_t st) {
    switch (st) {
    case SPATE_OK: return "OK";
    case SPATE_ERR: return "ERR";
    case SPATE_AGAIN: return "AGAIN";
    case SPATE_ENOMEM: return "ENOMEM";
    case SPATE_EINVAL: return "EINVAL";
    case SPATE_ENOENT: return "ENOENT";
    case SPATE_ERANGE: return "ERANGE";
    case SPATE_EIO: return "EIO";
    case SPATE_ETIMEDOUT: return "ETIMEDOUT";
    case SPATE_EEXIST: return "EEXIST";
    }
    return "UNKNOWN";
}

static void oom(size_t n) {
    fprintf(stderr, "spate: out of memory allocating %zu bytes\n", n);
    abort();
}

void *spate_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *spate_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size);
    return p;
}

void *spate_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *spate_xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = spate_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

void spate_buf_init_fixed(spate_buf_t *b, void *mem, size_t size) {
    b->data = mem;
    b->len = 0;
    b->cap = size;
    b->fixed = true;
    if (size) b->data[0] = '\0';
}

spate_status_t spate_buf_reserve(spate_buf_t *b, size_t extra) {
    if (extra > SIZE_MAX - b->len - 1) return SPATE_ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return SPATE_OK;
    if (b->fixed) return SPATE_ENOMEM;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *d = realloc(b->data, cap);
    if (!d) return SPATE_ENOMEM;
    b->data = d;
    b->cap = cap;
    return SPATE_OK;
}

spate_status_t spate_buf_puts(spate_buf_t *b, const char *s) {
    return spate_buf_append(b, s, strlen(s));
}

spate_status_t spate_buf_putc(spate_buf_t *b, char c) { return spate_buf_append(b, &c, 1); }

spate_status_t spate_buf_vprintf(spate_buf_t *b, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0) return SPATE_EINVAL;
    if ((size_t)n < sizeof small) return spate_buf_append(b, small, (size_t)n);
    if (spate_buf_reserve(b, (size_t)n) != SPATE_OK) return SPATE_ENOMEM;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return SPATE_OK;
}

spate_status_t spate_buf_printf(spate_buf_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    spate_status_t st = spate_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return st;
}

spate_status_t spate_buf_put_i64(spate_buf_t *b, int64_t v) {
    char tmp[24];
    char *e = tmp + sizeof tmp, *p = e;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--p = '-';
    return spate_buf_append(b, p, (size_t)(e - p));
}

void spate_buf_reset(spate_buf_t *b) {
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void spate_buf_free(spate_buf_t *b) {
    if (!b->fixed) free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->fixed = false;
}

char *spate_buf_detach(spate_buf_t *b, size_t *len) {
    if (b->fixed) {
        char *d = spate_xmalloc(b->len + 1);
        memcpy(d, b->data, b->len);
        d[b->len] = '\0';
        if (len) *len = b->len;
        spate_buf_free(b);
        return d;
    }
    if (!b->data) {
        if (len) *len = 0;
        return spate_xstrdup("");
    }
    char *d = b->data;
    if (len) *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}
