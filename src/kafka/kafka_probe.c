/*
 * kafka_probe.c — is a Kafka broker up and answering?
 *
 * The health probe `spate broker --probe` and `spate up` use: one
 * ApiVersions v0 round trip on a fresh connection. It works against spate
 * broker and any real Kafka broker (every version answers ApiVersions v0).
 *
 *   request  Size int32 | ApiKey 18 | ApiVersion 0 | CorrelationId | ClientId str16
 *   answer   Size int32 | CorrelationId | ErrorCode int16 | [ApiKey Min Max]
 */
#include "kafka_int.h"

#include <string.h>

enum { PROBE_CORRELATION_ID = 0x5e7a7e };

static size_t probe_frame_len(const uint8_t *p, size_t n) {
    if (n < 4) return 0;
    uint32_t size = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return size > (1u << 20) ? 4 : 4 + (size_t)size; /* absurd sizes: stop and reject below */
}

spate_status_t spate_kafka_probe(const spate_net_addr_t *addr, int timeout_ms, int *napis,
                                 char *err, size_t errlen) {
    static const char client_id[] = "spate-probe";
    uint8_t req[4 + 10 + sizeof client_id]; /* + 1 for the fixed buffer's NUL */
    spate_buf_t w;
    spate_buf_init_fixed(&w, req, sizeof req);
    spate_wr_i32(&w, 10 + (int32_t)sizeof client_id - 1);
    spate_wr_i16(&w, KAPI_API_VERSIONS);
    spate_wr_i16(&w, 0);
    spate_wr_i32(&w, PROBE_CORRELATION_ID);
    spate_wr_str16(&w, client_id, sizeof client_id - 1);

    spate_buf_t resp = SPATE_BUF_INIT;
    spate_status_t st =
        spate_net_exchange(addr, w.data, w.len, probe_frame_len, &resp, timeout_ms, err, errlen);
    if (st != SPATE_OK) goto out;
    spate_rd_t r;
    int32_t size, corr, n;
    int16_t ec;
    spate_rd_init(&r, resp.data, resp.len);
    st = SPATE_ERR;
    if (spate_rd_i32(&r, &size) != SPATE_OK || size < 6 || (size_t)size + 4 != resp.len ||
        spate_rd_i32(&r, &corr) != SPATE_OK || corr != PROBE_CORRELATION_ID ||
        spate_rd_i16(&r, &ec) != SPATE_OK || spate_rd_i32(&r, &n) != SPATE_OK) {
        snprintf(err, errlen, "the answer is not a Kafka ApiVersions response");
        goto out;
    }
    if (ec != 0) {
        snprintf(err, errlen, "ApiVersions answered error code %d", ec);
        goto out;
    }
    if (napis) *napis = n;
    st = SPATE_OK;
out:
    spate_buf_free(&resp);
    return st;
}
