/*
 * net_query.c — query-string splitting and percent-decoding.
 *
 * Pure functions over a borrowed string, no allocation: the input is
 * whatever a client sent, so every write is bounded by the caller's
 * buffer and every read by the input length. Fuzzed by fuzz/fuzz_query.c.
 */
#include "net.h"

void spate_query_iter_init(spate_query_iter_t *it, const char *q, size_t len) {
    it->p = q;
    it->len = len;
    it->off = 0;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes p[0..n) into out (outlen bytes incl. NUL), truncating. */
static void decode(const char *p, size_t n, char *out, size_t outlen) {
    size_t o = 0;
    if (outlen == 0) return;
    for (size_t i = 0; i < n && o + 1 < outlen; i++) {
        char c = p[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
            c = (char)(hexval(p[i + 1]) << 4 | hexval(p[i + 2]));
            i += 2;
        }
        out[o++] = c;
    }
    out[o] = '\0';
}

spate_status_t spate_query_next(spate_query_iter_t *it, char *key, size_t keylen, char *val,
                                size_t vallen) {
    while (it->off < it->len) {
        size_t start = it->off, end = start;
        while (end < it->len && it->p[end] != '&') end++;
        it->off = end < it->len ? end + 1 : end;
        if (end == start) continue; /* empty pair */
        size_t eq = start;
        while (eq < end && it->p[eq] != '=') eq++;
        decode(it->p + start, eq - start, key, keylen);
        if (eq < end)
            decode(it->p + eq + 1, end - eq - 1, val, vallen);
        else if (vallen)
            val[0] = '\0';
        return SPATE_OK;
    }
    return SPATE_ENOENT;
}
