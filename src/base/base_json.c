/*
 * base_json.c — JSON output helpers for hand-written hot paths.
 *
 * Documents that are parsed or edited use jansson; output that spate
 * writes millions of times a second (generated users, formatted records)
 * is written straight into a spate_buf_t, and only string escaping needs
 * care. UTF-8 passes through untouched; only ", \ and bytes below 0x20 are
 * escaped, which is what JSON requires.
 */
#include "base.h"

/* 0: copy as is; otherwise the character after the backslash ('u' means
 * \u00XX). */
static const char esc[256] = {
    ['\b'] = 'b',  ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['"'] = '"',
    ['\\'] = '\\', [0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u',
    [0x05] = 'u',  [0x06] = 'u', [0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u', [0x0f] = 'u',
    [0x10] = 'u',  [0x11] = 'u', [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u',
    [0x16] = 'u',  [0x17] = 'u', [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u',
    [0x1c] = 'u',  [0x1d] = 'u', [0x1e] = 'u', [0x1f] = 'u'};

spate_status_t spate_json_put_str(spate_buf_t *b, const char *s, size_t n) {
    /* Worst case every byte becomes \u00XX. */
    if (n > (SIZE_MAX - 2) / 6 || spate_buf_reserve(b, n * 6 + 2) != SPATE_OK) return SPATE_ENOMEM;
    char *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e = esc[c];
        if (!e) {
            *o++ = (char)c;
        } else if (e != 'u') {
            *o++ = '\\';
            *o++ = e;
        } else {
            static const char hx[] = "0123456789abcdef";
            *o++ = '\\';
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hx[c >> 4];
            *o++ = hx[c & 15];
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return SPATE_OK;
}
