/*
 * base_crc32c.c — CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).
 *
 * Kafka RecordBatch v2 carries a CRC-32C over everything after the CRC
 * field; the broker checks it on every produced batch and during log
 * recovery, so this is on a hot path. x86-64 CPUs with SSE4.2 compute it
 * in hardware (crc32q, 8 bytes a cycle or so); elsewhere a slicing-by-8
 * table does it a byte-group at a time. Both are tested against the
 * standard check value crc32c("123456789") = 0xE3069283.
 */
#include "base.h"

#include <pthread.h>
#include <string.h>

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int s = 1; s < 8; s++)
            table[s][i] = (table[s - 1][i] >> 8) ^ table[0][table[s - 1][i] & 0xff];
}

static uint32_t crc_sw(uint32_t crc, const uint8_t *p, size_t n) {
    pthread_once(&table_once, table_init);
    while (n && ((uintptr_t)p & 7)) {
        crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
        n--;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8); /* little-endian hosts only reach here via x86/arm64 */
        w ^= crc;
        crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^ table[5][(w >> 16) & 0xff] ^
              table[4][(w >> 24) & 0xff] ^ table[3][(w >> 32) & 0xff] ^ table[2][(w >> 40) & 0xff] ^
              table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t n) {
    uint64_t c = crc;
    while (n && ((uintptr_t)p & 7)) {
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
        n--;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = __builtin_ia32_crc32di(c, w);
        p += 8;
        n -= 8;
    }
    while (n--) c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    return (uint32_t)c;
}
#endif

uint32_t spate_crc32c_sw(uint32_t crc, const void *p, size_t n); /* for tests */
uint32_t spate_crc32c_sw(uint32_t crc, const void *p, size_t n) {
    return ~crc_sw(~crc, (const uint8_t *)p, n);
}

uint32_t spate_crc32c(uint32_t crc, const void *p, size_t n) {
#if defined(__x86_64__)
    /* Racing first calls compute the same answer; the atomics only keep
     * the race defined. */
    static int have_hw = -1;
    int hw = __atomic_load_n(&have_hw, __ATOMIC_RELAXED);
    if (hw < 0) {
        hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
        __atomic_store_n(&have_hw, hw, __ATOMIC_RELAXED);
    }
    if (hw) return ~crc_hw(~crc, (const uint8_t *)p, n);
#endif
    return ~crc_sw(~crc, (const uint8_t *)p, n);
}
