/*
 * fuzz_cql_frame.c — libFuzzer target for the CQL native protocol codec
 * (src/cql/cql_frame.c) and typed values (src/cql/cql_value.c).
 *
 * Each input is used four ways:
 *
 *   1. as a frame: header parse, then the body through the request and
 *      the response decoder for the header's opcode;
 *   2. as a bare body (after the 9 header bytes when there are that many,
 *      else the whole input) through every request and every response
 *      decoder, opcodes 0x00..0x11, with the input's flags byte;
 *   3. as an [option] type tree followed by a value: validate, and when
 *      valid, to_text — which must then succeed (ERANGE only for a huge
 *      varint) — and for scalars whose text form is exact, from_text of
 *      that text must give back the same bytes;
 *   4. as literal text for from_text of every scalar type, whose output,
 *      when accepted, must pass validate.
 *
 * Every successful decode is written back as a frame and decoded again;
 * the second write must give the same bytes as the first (the codec's
 * writers are the inverse of its readers on everything they accept).
 * Any violation aborts, so libFuzzer reports it as a crash.
 */
#include <stdlib.h>
#include <string.h>

#include "cql_codec.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) abort();                                                                         \
    } while (0)

/* Writes a decoded request or response, decodes the frame it wrote, writes
 * that again, and compares. */
static void request_roundtrip(const spate_cql_request_t *req) {
    spate_buf_t a = SPATE_BUF_INIT, b = SPATE_BUF_INIT;
    CHECK(spate_cql_request_write(&a, 4, 1, req) == SPATE_OK);
    spate_cql_header_t h;
    CHECK(spate_cql_header_parse(a.data, a.len, SIZE_MAX, &h) == SPATE_OK);
    CHECK(h.length == a.len - SPATE_CQL_HEADER_LEN);
    spate_cql_request_t again;
    CHECK(spate_cql_request_decode(&h, a.data + SPATE_CQL_HEADER_LEN, h.length, &again) ==
          SPATE_OK);
    CHECK(spate_cql_request_write(&b, 4, 1, &again) == SPATE_OK);
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    spate_cql_request_free(&again);
    spate_buf_free(&a);
    spate_buf_free(&b);
}

static void response_roundtrip(const spate_cql_response_t *resp) {
    spate_buf_t a = SPATE_BUF_INIT, b = SPATE_BUF_INIT;
    CHECK(spate_cql_response_write(&a, 4, -1, resp) == SPATE_OK);
    spate_cql_header_t h;
    CHECK(spate_cql_header_parse(a.data, a.len, SIZE_MAX, &h) == SPATE_OK);
    spate_cql_response_t again;
    CHECK(spate_cql_response_decode(&h, a.data + SPATE_CQL_HEADER_LEN, h.length, &again) ==
          SPATE_OK);
    CHECK(spate_cql_response_write(&b, 4, -1, &again) == SPATE_OK);
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    /* Rows and their cells: every cell's type is known, so validate them. */
    if (again.opcode == SPATE_CQL_OP_RESULT && again.result.kind == SPATE_CQL_RESULT_ROWS &&
        again.result.metadata.columns) {
        const spate_cql_metadata_t *md = &again.result.metadata;
        for (int32_t i = 0; i < again.result.rows_count && i < 64; i++)
            for (int32_t c = 0; c < md->columns_count; c++) {
                spate_slice_t cell = again.result.cells[(size_t)i * (size_t)md->columns_count + c];
                if (!cell.p) continue;
                char err[128];
                spate_buf_t t = SPATE_BUF_INIT;
                if (spate_cql_value_validate(&md->columns[c].type, cell.p, (size_t)cell.len, err,
                                             sizeof err) == SPATE_OK) {
                    spate_status_t st =
                        spate_cql_value_to_text(&md->columns[c].type, cell.p, (size_t)cell.len, &t);
                    CHECK(st == SPATE_OK || st == SPATE_ERANGE);
                }
                spate_buf_free(&t);
            }
    }
    spate_cql_response_free(&again);
    spate_buf_free(&a);
    spate_buf_free(&b);
}

static void try_decoders(const spate_cql_header_t *h, const uint8_t *body, size_t len) {
    spate_cql_request_t req;
    if (spate_cql_request_decode(h, body, len, &req) == SPATE_OK) {
        request_roundtrip(&req);
        spate_cql_request_free(&req);
    }
    spate_cql_response_t resp;
    if (spate_cql_response_decode(h, body, len, &resp) == SPATE_OK) {
        response_roundtrip(&resp);
        spate_cql_response_free(&resp);
    }
}

/* A varint (or decimal's unscaled part) in its shortest form. */
static bool minimal_varint(const uint8_t *p, size_t n) {
    if (n < 2) return n == 1;
    return !((p[0] == 0x00 && !(p[1] & 0x80)) || (p[0] == 0xFF && (p[1] & 0x80)));
}

/* Scalars whose cqlsh text reads back to the very same bytes. */
static bool text_is_exact(const spate_cql_datatype_t *t, const uint8_t *p, size_t n) {
    if (n == 0) return false; /* the legacy empty value prints as "" */
    switch (t->id) {
    case SPATE_CQL_INT:
    case SPATE_CQL_BIGINT:
    case SPATE_CQL_COUNTER:
    case SPATE_CQL_SMALLINT:
    case SPATE_CQL_TINYINT:
    case SPATE_CQL_UUID:
    case SPATE_CQL_TIMEUUID:
    case SPATE_CQL_BLOB:
    case SPATE_CQL_INET:
    case SPATE_CQL_TIME:
    case SPATE_CQL_TIMESTAMP:
    case SPATE_CQL_VARCHAR:
    case SPATE_CQL_ASCII: return true;
    case SPATE_CQL_BOOLEAN: return p[0] <= 1;
    case SPATE_CQL_VARINT: return minimal_varint(p, n);
    case SPATE_CQL_DECIMAL: return minimal_varint(p + 4, n - 4);
    case SPATE_CQL_DOUBLE: return (p[0] & 0x7F) != 0x7F || (p[1] & 0xF0) != 0xF0; /* not NaN */
    case SPATE_CQL_FLOAT: return (p[0] & 0x7F) != 0x7F || !(p[1] & 0x80);
    default: return false;
    }
}

static void try_value(const uint8_t *data, size_t size) {
    spate_rd_t r;
    spate_rd_init(&r, data, size);
    spate_cql_datatype_t t;
    if (spate_cql_rd_option(&r, &t) != SPATE_OK) return;
    const uint8_t *v = data + r.off;
    size_t n = size - r.off;
    char err[256];
    spate_buf_t text = SPATE_BUF_INIT, back = SPATE_BUF_INIT;
    if (spate_cql_value_validate(&t, v, n, err, sizeof err) == SPATE_OK) {
        spate_status_t st = spate_cql_value_to_text(&t, v, n, &text);
        CHECK(st == SPATE_OK || st == SPATE_ERANGE);
        if (st == SPATE_OK && text_is_exact(&t, v, n)) {
            CHECK(spate_cql_value_from_text(&t, text.data, text.len, &back, err, sizeof err) ==
                  SPATE_OK);
            CHECK(back.len == n && memcmp(back.data, v, n) == 0);
        }
    } else {
        CHECK(spate_cql_value_to_text(&t, v, n, &text) == SPATE_EINVAL);
        CHECK(text.len == 0);
    }
    spate_buf_free(&text);
    spate_buf_free(&back);
    /* The tree writes back to the bytes it was read from. */
    spate_buf_t w = SPATE_BUF_INIT;
    CHECK(spate_cql_wr_option(&w, &t) == SPATE_OK);
    CHECK(w.len == r.off);
    spate_buf_free(&w);
    spate_cql_datatype_free(&t);
}

static void try_from_text(const uint8_t *data, size_t size) {
    static const spate_cql_type_t scalars[] = {
        SPATE_CQL_ASCII,   SPATE_CQL_BIGINT,    SPATE_CQL_BLOB,    SPATE_CQL_BOOLEAN,
        SPATE_CQL_COUNTER, SPATE_CQL_DECIMAL,   SPATE_CQL_DOUBLE,  SPATE_CQL_FLOAT,
        SPATE_CQL_INT,     SPATE_CQL_TIMESTAMP, SPATE_CQL_UUID,    SPATE_CQL_VARCHAR,
        SPATE_CQL_VARINT,  SPATE_CQL_TIMEUUID,  SPATE_CQL_INET,    SPATE_CQL_DATE,
        SPATE_CQL_TIME,    SPATE_CQL_SMALLINT,  SPATE_CQL_TINYINT, SPATE_CQL_LIST,
    };
    if (size > 512) size = 512;
    for (size_t i = 0; i < SPATE_ARRAY_LEN(scalars); i++) {
        spate_cql_datatype_t t = {.id = scalars[i]};
        spate_buf_t b = SPATE_BUF_INIT;
        char err[256];
        if (spate_cql_value_from_text(&t, (const char *)data, size, &b, err, sizeof err) ==
            SPATE_OK)
            CHECK(spate_cql_value_validate(&t, b.data, b.len, err, sizeof err) == SPATE_OK);
        else
            CHECK(b.len == 0 && err[0] != '\0');
        spate_buf_free(&b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    spate_cql_header_t h;
    spate_status_t st = spate_cql_header_parse(data, size, 1 << 20, &h);
    if (st == SPATE_OK && size - SPATE_CQL_HEADER_LEN >= h.length)
        try_decoders(&h, data + SPATE_CQL_HEADER_LEN, h.length);

    const uint8_t *body = size >= SPATE_CQL_HEADER_LEN ? data + SPATE_CQL_HEADER_LEN : data;
    size_t len = size >= SPATE_CQL_HEADER_LEN ? size - SPATE_CQL_HEADER_LEN : size;
    spate_cql_header_t any = {.version = 4, .flags = size > 1 ? data[1] : 0};
    for (unsigned op = 0; op <= 0x11; op++) {
        any.opcode = (uint8_t)op;
        try_decoders(&any, body, len);
    }

    try_value(data, size);
    try_from_text(data, size);
    return 0;
}
