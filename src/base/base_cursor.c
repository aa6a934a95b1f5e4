/*
 * base_cursor.c — bounds-checked readers and writers for wire formats.
 *
 * Every Kafka and CQL codec decodes through spate_rd_*: a read either
 * succeeds and advances, or fails and leaves the cursor where it was, so a
 * parser can return SPATE_AGAIN and be called again with more bytes. No
 * handler indexes raw input.
 *
 * Encodings (all integers big-endian, as both protocols use):
 *
 *   uvarint   LEB128, 7 bits per byte, low group first, at most 5 bytes
 *   varint    zig-zag (n << 1) ^ (n >> 31), then uvarint
 *   varlong   zig-zag 64-bit, at most 10 bytes
 *   str16     int16 length, bytes            (-1 = null)
 *   str32     int32 length, bytes            (< 0 = null)
 *   compact   uvarint (length + 1), bytes    (0 = null)
 *   varbytes  varint length, bytes           (-1 = null)
 */
#include "base.h"

#include <string.h>

#define NEED(r, n)                                                                                 \
    do {                                                                                           \
        if (spate_rd_left(r) < (n)) return SPATE_AGAIN;                                            \
    } while (0)

spate_status_t spate_rd_u8(spate_rd_t *r, uint8_t *v) {
    NEED(r, 1);
    *v = r->p[r->off++];
    return SPATE_OK;
}

spate_status_t spate_rd_i8(spate_rd_t *r, int8_t *v) {
    uint8_t u;
    spate_status_t st = spate_rd_u8(r, &u);
    if (st == SPATE_OK) *v = (int8_t)u;
    return st;
}

spate_status_t spate_rd_u16(spate_rd_t *r, uint16_t *v) {
    NEED(r, 2);
    const uint8_t *p = r->p + r->off;
    *v = (uint16_t)((uint16_t)p[0] << 8 | p[1]);
    r->off += 2;
    return SPATE_OK;
}

spate_status_t spate_rd_i16(spate_rd_t *r, int16_t *v) {
    uint16_t u;
    spate_status_t st = spate_rd_u16(r, &u);
    if (st == SPATE_OK) *v = (int16_t)u;
    return st;
}

spate_status_t spate_rd_u32(spate_rd_t *r, uint32_t *v) {
    NEED(r, 4);
    const uint8_t *p = r->p + r->off;
    *v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    r->off += 4;
    return SPATE_OK;
}

spate_status_t spate_rd_i32(spate_rd_t *r, int32_t *v) {
    uint32_t u;
    spate_status_t st = spate_rd_u32(r, &u);
    if (st == SPATE_OK) *v = (int32_t)u;
    return st;
}

spate_status_t spate_rd_u64(spate_rd_t *r, uint64_t *v) {
    NEED(r, 8);
    const uint8_t *p = r->p + r->off;
    uint64_t x = 0;
    for (int i = 0; i < 8; i++) x = x << 8 | p[i];
    *v = x;
    r->off += 8;
    return SPATE_OK;
}

spate_status_t spate_rd_i64(spate_rd_t *r, int64_t *v) {
    uint64_t u;
    spate_status_t st = spate_rd_u64(r, &u);
    if (st == SPATE_OK) *v = (int64_t)u;
    return st;
}

/* Reads an unsigned LEB128 of at most max_bytes into a uint64. */
static spate_status_t rd_leb(spate_rd_t *r, int max_bytes, uint64_t *v) {
    uint64_t x = 0;
    size_t off = r->off;
    for (int i = 0; i < max_bytes; i++) {
        if (off >= r->len) return SPATE_AGAIN;
        uint8_t b = r->p[off++];
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            r->off = off;
            *v = x;
            return SPATE_OK;
        }
    }
    return SPATE_EINVAL; /* continuation bit set on the last allowed byte */
}

spate_status_t spate_rd_uvarint(spate_rd_t *r, uint32_t *v) {
    uint64_t x;
    size_t save = r->off;
    spate_status_t st = rd_leb(r, 5, &x);
    if (st != SPATE_OK) return st;
    if (x > UINT32_MAX) {
        r->off = save;
        return SPATE_EINVAL;
    }
    *v = (uint32_t)x;
    return SPATE_OK;
}

spate_status_t spate_rd_varint(spate_rd_t *r, int32_t *v) {
    uint32_t u;
    spate_status_t st = spate_rd_uvarint(r, &u);
    if (st == SPATE_OK) *v = (int32_t)((u >> 1) ^ (~(u & 1) + 1));
    return st;
}

spate_status_t spate_rd_varlong(spate_rd_t *r, int64_t *v) {
    uint64_t u;
    spate_status_t st = rd_leb(r, 10, &u);
    if (st == SPATE_OK) *v = (int64_t)((u >> 1) ^ (~(u & 1) + 1));
    return st;
}

spate_status_t spate_rd_bytes(spate_rd_t *r, size_t n, const uint8_t **p) {
    NEED(r, n);
    *p = r->p + r->off;
    r->off += n;
    return SPATE_OK;
}

spate_status_t spate_rd_skip(spate_rd_t *r, size_t n) {
    NEED(r, n);
    r->off += n;
    return SPATE_OK;
}

/* Common tail of the string readers: `len` was read from the prefix,
 * negative means null; on a short body the cursor rewinds to `save`. */
static spate_status_t rd_body(spate_rd_t *r, size_t save, int64_t len, spate_slice_t *s) {
    if (len < 0) {
        s->p = NULL;
        s->len = -1;
        return SPATE_OK;
    }
    if (len > INT32_MAX) {
        r->off = save;
        return SPATE_EINVAL;
    }
    if (spate_rd_left(r) < (size_t)len) {
        r->off = save;
        return SPATE_AGAIN;
    }
    s->p = (const char *)r->p + r->off;
    s->len = (int32_t)len;
    r->off += (size_t)len;
    return SPATE_OK;
}

spate_status_t spate_rd_str16(spate_rd_t *r, spate_slice_t *s) {
    size_t save = r->off;
    int16_t n;
    spate_status_t st = spate_rd_i16(r, &n);
    if (st != SPATE_OK) return st;
    if (n < -1) {
        r->off = save;
        return SPATE_EINVAL;
    }
    return rd_body(r, save, n, s);
}

spate_status_t spate_rd_str32(spate_rd_t *r, spate_slice_t *s) {
    size_t save = r->off;
    int32_t n;
    spate_status_t st = spate_rd_i32(r, &n);
    if (st != SPATE_OK) return st;
    return rd_body(r, save, n < 0 ? -1 : n, s);
}

spate_status_t spate_rd_compact_str(spate_rd_t *r, spate_slice_t *s) {
    size_t save = r->off;
    uint32_t n;
    spate_status_t st = spate_rd_uvarint(r, &n);
    if (st != SPATE_OK) return st;
    return rd_body(r, save, (int64_t)n - 1, s);
}

spate_status_t spate_rd_varint_bytes(spate_rd_t *r, spate_slice_t *s) {
    size_t save = r->off;
    int32_t n;
    spate_status_t st = spate_rd_varint(r, &n);
    if (st != SPATE_OK) return st;
    if (n < -1) {
        r->off = save;
        return SPATE_EINVAL;
    }
    return rd_body(r, save, n, s);
}

/* ---- writers ---- */

spate_status_t spate_wr_u8(spate_buf_t *b, uint8_t v) { return spate_buf_append(b, &v, 1); }

spate_status_t spate_wr_u16(spate_buf_t *b, uint16_t v) {
    uint8_t p[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    return spate_buf_append(b, p, 2);
}

spate_status_t spate_wr_u32(spate_buf_t *b, uint32_t v) {
    uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return spate_buf_append(b, p, 4);
}

spate_status_t spate_wr_u64(spate_buf_t *b, uint64_t v) {
    uint8_t p[8];
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
    return spate_buf_append(b, p, 8);
}

static spate_status_t wr_leb(spate_buf_t *b, uint64_t v) {
    uint8_t p[10];
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return spate_buf_append(b, p, n);
}

spate_status_t spate_wr_uvarint(spate_buf_t *b, uint32_t v) { return wr_leb(b, v); }

spate_status_t spate_wr_varint(spate_buf_t *b, int32_t v) {
    return wr_leb(b, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

spate_status_t spate_wr_varlong(spate_buf_t *b, int64_t v) {
    return wr_leb(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

size_t spate_uvarint_size(uint32_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t spate_varlong_size(int64_t v) {
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 1;
    while (u >= 0x80) {
        u >>= 7;
        n++;
    }
    return n;
}

spate_status_t spate_wr_str16(spate_buf_t *b, const char *p, size_t n) {
    if (!p) return spate_wr_i16(b, -1);
    if (n > INT16_MAX) return SPATE_ERANGE;
    if (spate_wr_u16(b, (uint16_t)n) != SPATE_OK) return SPATE_ENOMEM;
    return spate_buf_append(b, p, n);
}

spate_status_t spate_wr_str32(spate_buf_t *b, const char *p, size_t n) {
    if (!p) return spate_wr_i32(b, -1);
    if (n > INT32_MAX) return SPATE_ERANGE;
    if (spate_wr_u32(b, (uint32_t)n) != SPATE_OK) return SPATE_ENOMEM;
    return spate_buf_append(b, p, n);
}

spate_status_t spate_wr_compact_str(spate_buf_t *b, const char *p, size_t n) {
    if (!p) return spate_wr_uvarint(b, 0);
    if (n >= UINT32_MAX) return SPATE_ERANGE;
    if (spate_wr_uvarint(b, (uint32_t)n + 1) != SPATE_OK) return SPATE_ENOMEM;
    return spate_buf_append(b, p, n);
}

spate_status_t spate_wr_varint_bytes(spate_buf_t *b, const char *p, size_t n) {
    if (!p) return spate_wr_varint(b, -1);
    if (n > INT32_MAX) return SPATE_ERANGE;
    if (spate_wr_varint(b, (int32_t)n) != SPATE_OK) return SPATE_ENOMEM;
    return spate_buf_append(b, p, n);
}

void spate_wr_patch_u32(spate_buf_t *b, size_t off, uint32_t v) {
    uint8_t *p = (uint8_t *)b->data + off;
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
