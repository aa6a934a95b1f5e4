/*
 * kafka_codec.c — the four RecordBatch compression codecs and the
 * Record v2 iterator (see kafka_codec.h for the record layout).
 *
 * What each codec's records section looks like on the wire, and why we
 * write what we write:
 *
 *   gzip    RFC 1952 members; Java's GZIPOutputStream and librdkafka write
 *           one. Decoded with zlib inflate in gzip-only mode (windowBits
 *           15+16), member after member.
 *
 *   snappy  two forms. The Java client writes xerial snappy-java framing:
 *
 *             0       8         12        16
 *             +-------+---------+---------+----------+-------------+---
 *             |magic  |version  |compat   |len int32 |raw snappy   |...
 *             |82 SNAPPY 00     |int32 = 1|int32 = 1 |(big-endian) |block|
 *             +-------+---------+---------+----------+-------------+---
 *
 *           (a second header may start again where a block length is
 *           expected: snappy-java reads concatenated streams, so do we).
 *           librdkafka writes one raw snappy block with no framing (its
 *           msgset writer calls the plain block compressor) and reads
 *           both. The two cannot be confused: a raw block that started
 *           with the 8 magic bytes would begin with a copy, which is
 *           invalid before any literal. We write xerial: it is what the
 *           reference client writes, and Java (SnappyInputStream falls
 *           back to raw only for unframed input), librdkafka (framed when
 *           the magic is there and the input is over 20 bytes — hence at
 *           least one block even for empty input) and kafkajs-snappy all
 *           read it. Blocks are 32 KiB of input, snappy-java's default.
 *
 *   lz4     LZ4 frames with the header checksum done right (KIP-57; magic
 *           2 batches never carry the pre-0.10 broken one). Content size
 *           is usually absent, so decoding streams through LZ4F. We write
 *           independent 64 KiB blocks with no content size and no block
 *           or content checksum: exactly Kafka's Java writer, whose reader
 *           decompresses each block on its own (linked blocks would break
 *           it; librdkafka sets blockIndependent "required by Kafka").
 *
 *   zstd    zstd frames; content size is absent in what the Java client
 *           and librdkafka stream out, so decoding uses ZSTD_decompressStream.
 *           We write one frame at level 3 (both clients' default) with its
 *           content size.
 *
 * Decompression bomb defence: output goes through a sink that never gives
 * the decoder room past max_out + 1 bytes in total, so producing one byte
 * too many is seen and refused (SPATE_ERANGE) without ever holding more.
 * The buffer grows by doubling from a guess (4x the input, 4 KiB..1 MiB),
 * so memory is bounded by about twice max_out. Snappy states its output
 * size up front: it is checked against max_out before any allocation.
 * zstd's window (its history buffer) is bounded separately: frames that
 * ask for more than max(8 MiB, max_out) are refused — a bigger window
 * than the whole output cannot be needed, and 8 MiB covers every level up
 * to 19 streamed without a size.
 *
 * Every decoder stops on truncated, corrupt or trailing input with
 * SPATE_EINVAL, frees its library state on every path, and leaves the
 * caller's buffer at its old length.
 */
#include "kafka_codec.h"

#include <limits.h>
#include <string.h>

#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#define KB 1024u
#define MB (1024u * 1024u)

/* zlib counts in uInt; inputs and windows are handed over in pieces of
 * at most this much. */
#define ZCHUNK ((size_t)1 << 30)

#define XERIAL_HEADER 16       /* magic 8, version 4, compatible version 4 */
#define XERIAL_BLOCK (32 * KB) /* input bytes per block, as snappy-java */
static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};

/* ZSTD_WINDOWLOG_LIMIT_DEFAULT (zstd's own default cap, 128 MiB) is in
 * the static-linking-only part of zstd.h; we never go above it. */
#define ZSTD_WLOG_CAP 27
#define ZSTD_WLOG_FLOOR 23 /* 8 MiB: level 19's window */

/* Non-NULL stand-in for an empty input, for libraries that want a
 * pointer even when the length is 0. */
static const uint8_t empty_input[1] = {0};

const char *spate_kafka_codec_name(int codec) {
    switch (codec) {
    case SPATE_KAFKA_CODEC_NONE: return "none";
    case SPATE_KAFKA_CODEC_GZIP: return "gzip";
    case SPATE_KAFKA_CODEC_SNAPPY: return "snappy";
    case SPATE_KAFKA_CODEC_LZ4: return "lz4";
    case SPATE_KAFKA_CODEC_ZSTD: return "zstd";
    }
    return "unknown";
}

/* ------------------------------------------------------------------ */
/* The bounded output sink                                             */
/* ------------------------------------------------------------------ */

typedef struct {
    spate_buf_t *out;
    size_t base;    /* out->len on entry: restored on failure */
    size_t max_out; /* at most SIZE_MAX - 2, so max_out + 1 cannot wrap */
    size_t grow;    /* the first growth; later ones double the output */
} sink_t;

static void sink_init(sink_t *s, spate_buf_t *out, size_t max_out, size_t in_len) {
    s->out = out;
    s->base = out->len;
    s->max_out = SPATE_MIN(max_out, SIZE_MAX - 2);
    size_t guess = in_len > SIZE_MAX / 4 ? SIZE_MAX : in_len * 4;
    s->grow = SPATE_MIN(SPATE_MAX(guess, 4 * KB), 1 * MB);
}

static size_t sink_produced(const sink_t *s) { return s->out->len - s->base; }

/* Writable room for a streaming decoder at *p, *n >= 1 bytes, never
 * letting the total pass max_out + 1. SPATE_ERANGE once it has. */
static spate_status_t sink_window(sink_t *s, uint8_t **p, size_t *n) {
    spate_buf_t *b = s->out;
    size_t produced = sink_produced(s);
    if (produced > s->max_out) return SPATE_ERANGE;
    size_t limit = s->max_out - produced + 1;
    size_t room = b->cap > b->len ? b->cap - b->len - 1 : 0; /* one byte is the NUL's */
    if (room == 0) {
        size_t want = SPATE_MIN(SPATE_MAX(s->grow, produced), limit);
        spate_status_t st = spate_buf_reserve(b, want);
        if (st != SPATE_OK) return st;
        room = b->cap - b->len - 1;
    }
    *p = (uint8_t *)b->data + b->len;
    *n = SPATE_MIN(room, limit);
    return SPATE_OK;
}

/* Exactly n bytes of room (for a decoder that knows its output size). */
static spate_status_t sink_exact(sink_t *s, size_t n, uint8_t **p) {
    size_t produced = sink_produced(s);
    if (produced > s->max_out || n > s->max_out - produced) return SPATE_ERANGE;
    spate_status_t st = spate_buf_reserve(s->out, n);
    if (st != SPATE_OK) return st;
    *p = (uint8_t *)s->out->data + s->out->len;
    return SPATE_OK;
}

/* The decoder wrote n bytes at the window. */
static void sink_commit(sink_t *s, size_t n) {
    s->out->len += n;
    s->out->data[s->out->len] = '\0';
}

/* Final verdict: a stream that ended exactly one byte past the bound is
 * still too big; any failure puts the buffer back. */
static spate_status_t sink_end(sink_t *s, spate_status_t st) {
    if (st == SPATE_OK && sink_produced(s) > s->max_out) st = SPATE_ERANGE;
    if (st != SPATE_OK) {
        s->out->len = s->base;
        if (s->out->data) s->out->data[s->base] = '\0';
    }
    return st;
}

/* ------------------------------------------------------------------ */
/* gzip                                                                */
/* ------------------------------------------------------------------ */

static spate_status_t gzip_decompress(const uint8_t *in, size_t len, sink_t *s) {
    if (len == 0) return SPATE_EINVAL; /* not even a header */
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    int zr = inflateInit2(&zs, 15 + 16); /* gzip wrapper only */
    if (zr != Z_OK) return zr == Z_MEM_ERROR ? SPATE_ENOMEM : SPATE_ERR;

    spate_status_t st = SPATE_OK;
    size_t off = 0;
    bool in_member = true;
    while (st == SPATE_OK) {
        if (!in_member) {
            if (off == len) break; /* a complete member ended the input */
            if (inflateReset(&zs) != Z_OK) {
                st = SPATE_ERR;
                break;
            }
            in_member = true;
        }
        uint8_t *p;
        size_t n;
        st = sink_window(s, &p, &n);
        if (st != SPATE_OK) break;
        size_t feed = SPATE_MIN(len - off, ZCHUNK);
        size_t room = SPATE_MIN(n, ZCHUNK);
        zs.next_in = (Bytef *)(uintptr_t)(in + off);
        zs.avail_in = (uInt)feed;
        zs.next_out = p;
        zs.avail_out = (uInt)room;
        zr = inflate(&zs, Z_NO_FLUSH);
        off += feed - zs.avail_in;
        sink_commit(s, room - zs.avail_out);
        switch (zr) {
        case Z_STREAM_END: in_member = false; break;
        case Z_OK: break;
        case Z_MEM_ERROR: st = SPATE_ENOMEM; break;
        default:
            /* Z_BUF_ERROR: no progress with room to write, so the input
             * ran out mid-member; Z_DATA_ERROR, Z_NEED_DICT: corrupt. */
            st = SPATE_EINVAL;
            break;
        }
    }
    inflateEnd(&zs);
    return st;
}

static spate_status_t gzip_compress(const uint8_t *in, size_t len, spate_buf_t *out) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    int zr = deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    if (zr != Z_OK) return zr == Z_MEM_ERROR ? SPATE_ENOMEM : SPATE_ERR;

    /* deflateBound with Z_FINISH means one pass for anything below 1 GiB;
     * the loop is for the rest. */
    spate_status_t st = spate_buf_reserve(out, deflateBound(&zs, (uLong)SPATE_MIN(len, ZCHUNK)));
    size_t off = 0;
    while (st == SPATE_OK) {
        size_t room = out->cap - out->len - 1;
        if (room == 0) {
            st = spate_buf_reserve(out, 64 * KB);
            if (st != SPATE_OK) break;
            room = out->cap - out->len - 1;
        }
        room = SPATE_MIN(room, ZCHUNK);
        size_t feed = SPATE_MIN(len - off, ZCHUNK);
        zs.next_in = (Bytef *)(uintptr_t)(len ? in + off : empty_input);
        zs.avail_in = (uInt)feed;
        zs.next_out = (Bytef *)out->data + out->len;
        zs.avail_out = (uInt)room;
        zr = deflate(&zs, off + feed == len ? Z_FINISH : Z_NO_FLUSH);
        off += feed - zs.avail_in;
        out->len += room - zs.avail_out;
        out->data[out->len] = '\0';
        if (zr == Z_STREAM_END) break;
        if (zr != Z_OK && zr != Z_BUF_ERROR) st = SPATE_ERR;
    }
    deflateEnd(&zs);
    return st;
}

/* ------------------------------------------------------------------ */
/* snappy                                                              */
/* ------------------------------------------------------------------ */

/* One raw snappy block: its varint header gives the output size, which
 * is checked against the bound before anything is allocated. */
static spate_status_t snappy_block(const uint8_t *p, size_t n, sink_t *s) {
    size_t ulen;
    if (snappy_uncompressed_length((const char *)p, n, &ulen) != SNAPPY_OK) return SPATE_EINVAL;
    uint8_t *dst;
    spate_status_t st = sink_exact(s, ulen, &dst);
    if (st != SPATE_OK) return st;
    size_t got = ulen;
    if (snappy_uncompress((const char *)p, n, (char *)dst, &got) != SNAPPY_OK || got != ulen)
        return SPATE_EINVAL;
    sink_commit(s, ulen);
    return SPATE_OK;
}

/* True when the cursor is at a xerial header (8 magic bytes). */
static bool xerial_at(const spate_rd_t *r) {
    spate_rd_t peek = *r;
    const uint8_t *m;
    return spate_rd_bytes(&peek, sizeof xerial_magic, &m) == SPATE_OK &&
           memcmp(m, xerial_magic, sizeof xerial_magic) == 0;
}

static spate_status_t snappy_decompress(const uint8_t *in, size_t len, sink_t *s) {
    spate_rd_t r;
    spate_rd_init(&r, in, len);
    if (!xerial_at(&r)) return snappy_block(in, len, s);

    /* Framed: headers (version fields are not judged, as librdkafka and
     * snappy-java do not) and length-prefixed blocks, until the end. */
    while (spate_rd_left(&r) > 0) {
        if (xerial_at(&r)) {
            if (spate_rd_skip(&r, XERIAL_HEADER) != SPATE_OK) return SPATE_EINVAL;
            continue;
        }
        uint32_t n;
        const uint8_t *blk;
        if (spate_rd_u32(&r, &n) != SPATE_OK || n > INT32_MAX ||
            spate_rd_bytes(&r, n, &blk) != SPATE_OK)
            return SPATE_EINVAL;
        spate_status_t st = snappy_block(blk, n, s);
        if (st != SPATE_OK) return st;
    }
    return SPATE_OK;
}

static spate_status_t snappy_compress_xerial(const uint8_t *in, size_t len, spate_buf_t *out) {
    spate_status_t st = spate_buf_append(out, xerial_magic, sizeof xerial_magic);
    if (st == SPATE_OK) st = spate_wr_u32(out, 1); /* version */
    if (st == SPATE_OK) st = spate_wr_u32(out, 1); /* compatible version */
    size_t off = 0;
    /* At least one block: librdkafka reads a framed input only when it
     * is longer than 20 bytes, so a bare header would not decode there. */
    do {
        if (st != SPATE_OK) return st;
        size_t n = SPATE_MIN(len - off, XERIAL_BLOCK);
        size_t cap = snappy_max_compressed_length(n);
        st = spate_buf_reserve(out, 4 + cap);
        if (st != SPATE_OK) return st;
        size_t at = out->len;
        size_t clen = cap;
        if (snappy_compress((const char *)(len ? in + off : empty_input), n, out->data + at + 4,
                            &clen) != SNAPPY_OK)
            return SPATE_ERR;
        out->len = at + 4 + clen;
        out->data[out->len] = '\0';
        spate_wr_patch_u32(out, at, (uint32_t)clen);
        off += n;
    } while (off < len);
    return st;
}

/* ------------------------------------------------------------------ */
/* lz4                                                                 */
/* ------------------------------------------------------------------ */

static spate_status_t lz4_decompress(const uint8_t *in, size_t len, sink_t *s) {
    if (len == 0) return SPATE_EINVAL;
    LZ4F_dctx *dctx = NULL;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) return SPATE_ENOMEM;

    spate_status_t st = SPATE_OK;
    size_t off = 0;
    bool in_frame = false; /* a frame started and has not ended */
    int stalls = 0;
    while (st == SPATE_OK && (off < len || in_frame)) {
        uint8_t *p;
        size_t n;
        st = sink_window(s, &p, &n);
        if (st != SPATE_OK) break;
        size_t used = len - off, made = n;
        size_t hint = LZ4F_decompress(dctx, p, &made, in + off, &used, NULL);
        if (LZ4F_isError(hint)) {
            st = SPATE_EINVAL;
            break;
        }
        off += used;
        sink_commit(s, made);
        in_frame = hint != 0; /* 0: the frame is complete; the next starts afresh */
        /* Wanting more input while there was room to write and none is
         * left: the frame was cut short. */
        if (in_frame && off == len && made < n) st = SPATE_EINVAL;
        /* LZ4F always moves with input and room; never spin if not. */
        stalls = used == 0 && made == 0 ? stalls + 1 : 0;
        if (stalls > 2) st = SPATE_EINVAL;
    }
    LZ4F_freeDecompressionContext(dctx);
    return st;
}

static spate_status_t lz4_compress(const uint8_t *in, size_t len, spate_buf_t *out) {
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof prefs);
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    size_t bound = LZ4F_compressFrameBound(len, &prefs);
    spate_status_t st = spate_buf_reserve(out, bound);
    if (st != SPATE_OK) return st;
    size_t n = LZ4F_compressFrame(out->data + out->len, bound, len ? in : empty_input, len, &prefs);
    if (LZ4F_isError(n)) return SPATE_ERR;
    out->len += n;
    out->data[out->len] = '\0';
    return SPATE_OK;
}

/* ------------------------------------------------------------------ */
/* zstd                                                                */
/* ------------------------------------------------------------------ */

static int zstd_window_log(size_t max_out) {
    int lg = ZSTD_WLOG_FLOOR;
    while (lg < ZSTD_WLOG_CAP && ((size_t)1 << lg) < max_out) lg++;
    return lg;
}

static spate_status_t zstd_status(size_t code) {
    switch (ZSTD_getErrorCode(code)) {
    case ZSTD_error_frameParameter_windowTooLarge: return SPATE_ERANGE;
    case ZSTD_error_memory_allocation: return SPATE_ENOMEM;
    default: return SPATE_EINVAL;
    }
}

static spate_status_t zstd_decompress(const uint8_t *in, size_t len, sink_t *s) {
    if (len == 0) return SPATE_EINVAL;
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!dctx) return SPATE_ENOMEM;
    spate_status_t st = SPATE_OK;
    if (ZSTD_isError(
            ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, zstd_window_log(s->max_out))))
        st = SPATE_ERR;

    ZSTD_inBuffer ib = {in, len, 0};
    bool in_frame = false;
    int stalls = 0;
    while (st == SPATE_OK && (ib.pos < ib.size || in_frame)) {
        uint8_t *p;
        size_t n;
        st = sink_window(s, &p, &n);
        if (st != SPATE_OK) break;
        ZSTD_outBuffer ob = {p, n, 0};
        size_t before = ib.pos;
        size_t r = ZSTD_decompressStream(dctx, &ob, &ib);
        if (ZSTD_isError(r)) {
            st = zstd_status(r);
            break;
        }
        sink_commit(s, ob.pos);
        in_frame = r != 0; /* 0: a frame is complete and fully flushed */
        if (in_frame && ib.pos == ib.size && ob.pos < ob.size) st = SPATE_EINVAL; /* cut short */
        stalls = ib.pos == before && ob.pos == 0 ? stalls + 1 : 0;
        if (stalls > 2) st = SPATE_EINVAL;
    }
    ZSTD_freeDCtx(dctx);
    return st;
}

static spate_status_t zstd_compress(const uint8_t *in, size_t len, spate_buf_t *out) {
    size_t bound = ZSTD_compressBound(len);
    if (ZSTD_isError(bound)) return SPATE_ENOMEM; /* input too large to bound */
    spate_status_t st = spate_buf_reserve(out, bound);
    if (st != SPATE_OK) return st;
    size_t n = ZSTD_compress(out->data + out->len, bound, len ? in : empty_input, len,
                             ZSTD_CLEVEL_DEFAULT);
    if (ZSTD_isError(n)) return SPATE_ERR;
    out->len += n;
    out->data[out->len] = '\0';
    return SPATE_OK;
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

spate_status_t spate_kafka_codec_decompress(int codec, const uint8_t *in, size_t len,
                                            size_t max_out, spate_buf_t *out) {
    if (!in && len) return SPATE_EINVAL;
    sink_t s;
    sink_init(&s, out, max_out, len);
    spate_status_t st;
    switch (codec) {
    case SPATE_KAFKA_CODEC_NONE:
        if (len > s.max_out) return SPATE_ERANGE;
        return len ? spate_buf_append(out, in, len) : SPATE_OK;
    case SPATE_KAFKA_CODEC_GZIP: st = gzip_decompress(in, len, &s); break;
    case SPATE_KAFKA_CODEC_SNAPPY: st = snappy_decompress(in, len, &s); break;
    case SPATE_KAFKA_CODEC_LZ4: st = lz4_decompress(in, len, &s); break;
    case SPATE_KAFKA_CODEC_ZSTD: st = zstd_decompress(in, len, &s); break;
    default: return SPATE_EINVAL;
    }
    return sink_end(&s, st);
}

spate_status_t spate_kafka_codec_compress(int codec, const uint8_t *in, size_t len,
                                          spate_buf_t *out) {
    if (!in && len) return SPATE_EINVAL;
    size_t base = out->len;
    spate_status_t st;
    switch (codec) {
    case SPATE_KAFKA_CODEC_NONE: return len ? spate_buf_append(out, in, len) : SPATE_OK;
    case SPATE_KAFKA_CODEC_GZIP: st = gzip_compress(in, len, out); break;
    case SPATE_KAFKA_CODEC_SNAPPY: st = snappy_compress_xerial(in, len, out); break;
    case SPATE_KAFKA_CODEC_LZ4: st = lz4_compress(in, len, out); break;
    case SPATE_KAFKA_CODEC_ZSTD: st = zstd_compress(in, len, out); break;
    default: return SPATE_EINVAL;
    }
    if (st != SPATE_OK) {
        out->len = base;
        if (out->data) out->data[base] = '\0';
    }
    return st;
}

/* ------------------------------------------------------------------ */
/* Record v2 iterator                                                  */
/* ------------------------------------------------------------------ */

spate_status_t spate_kafka_header_next(spate_rd_t *r, spate_slice_t *key, spate_slice_t *value) {
    size_t save = r->off;
    if (spate_rd_varint_bytes(r, key) != SPATE_OK || !key->p ||
        spate_rd_varint_bytes(r, value) != SPATE_OK) {
        r->off = save;
        return SPATE_EINVAL;
    }
    return SPATE_OK;
}

static spate_status_t iter_fail(spate_kafka_record_iter_t *it, size_t off) {
    it->failed = true;
    it->err_off = off;
    return SPATE_EINVAL;
}

void spate_kafka_record_iter_init(spate_kafka_record_iter_t *it, const uint8_t *p, size_t len,
                                  int32_t count) {
    memset(it, 0, sizeof *it);
    spate_rd_init(&it->rd, p, len);
    it->count = count;
}

/* Record fields are read from a cursor over exactly Length bytes, so a
 * field running past Length is caught as short, and bytes Length holds
 * beyond the last header are caught after. Errors point at the field. */
spate_status_t spate_kafka_record_iter_next(spate_kafka_record_iter_t *it,
                                            spate_kafka_record_t *rec) {
    if (it->failed) return SPATE_EINVAL;
    if (it->count < 0) return iter_fail(it, 0);
    spate_rd_t *r = &it->rd;
    if (it->index == it->count) {
        if (spate_rd_left(r) > 0) return iter_fail(it, r->off); /* trailing bytes */
        return SPATE_ENOENT;
    }

    size_t start = r->off;
    int32_t length;
    const uint8_t *body_p;
    /* A missing record (fewer than count) fails here too, at the end. */
    if (spate_rd_varint(r, &length) != SPATE_OK || length < 0) return iter_fail(it, start);
    size_t body_off = r->off;
    if (spate_rd_bytes(r, (size_t)length, &body_p) != SPATE_OK) {
        r->off = start;
        return iter_fail(it, start);
    }

    spate_rd_t b;
    spate_rd_init(&b, body_p, (size_t)length);
    memset(rec, 0, sizeof *rec);
    if (spate_rd_i8(&b, &rec->attributes) != SPATE_OK ||
        spate_rd_varlong(&b, &rec->timestamp_delta) != SPATE_OK ||
        spate_rd_varint(&b, &rec->offset_delta) != SPATE_OK ||
        spate_rd_varint_bytes(&b, &rec->key) != SPATE_OK ||
        spate_rd_varint_bytes(&b, &rec->value) != SPATE_OK)
        goto bad;
    size_t count_at = b.off;
    if (spate_rd_varint(&b, &rec->headers_count) != SPATE_OK) goto bad;
    if (rec->headers_count < 0) {
        b.off = count_at;
        goto bad;
    }
    rec->headers = b.p + b.off;
    size_t headers_from = b.off;
    for (int32_t i = 0; i < rec->headers_count; i++) {
        spate_slice_t hk, hv;
        if (spate_kafka_header_next(&b, &hk, &hv) != SPATE_OK) goto bad;
    }
    rec->headers_len = b.off - headers_from;
    if (spate_rd_left(&b) > 0) goto bad; /* Length holds more than the fields */

    rec->raw = r->p + start;
    rec->raw_len = r->off - start;
    it->index++;
    return SPATE_OK;

bad:
    r->off = start;
    return iter_fail(it, body_off + b.off);
}
