/*
 * bench_generate.c — randomuser generator throughput on one core.
 *
 *   bench_generate [SECONDS] [QUERY]
 *
 * Generates whole responses (default results=5000, compact JSON, a fixed
 * seed and a new page each time, as a server would) for SECONDS and
 * prints users/s, output MB/s and peak RSS. The physical reference it is
 * compared with in bench/run.sh is memcpy of the same bytes (what any
 * generator must at least spend to write them).
 */
#include "source.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

int main(int argc, char **argv) {
    double secs = argc > 1 ? atof(argv[1]) : 3.0;
    const char *query = argc > 2 ? argv[2] : "results=5000&seed=bench";
    spate_ru_params_t p;
    spate_ru_params_parse_query(&p, query, strlen(query));
    spate_buf_t b = SPATE_BUF_INIT;
    int64_t now = spate_wall_ms();
    int64_t users = 0, bytes = 0, t0 = spate_mono_ns(), deadline = t0 + (int64_t)(secs * 1e9);
    int page = 1;
    while (spate_mono_ns() < deadline) {
        p.page = page++ % SPATE_RU_MAX_PAGE + 1;
        spate_buf_reset(&b);
        if (spate_ru_generate(&p, now, false, &b, NULL) != SPATE_OK) return 1;
        users += p.results;
        bytes += (int64_t)b.len;
    }
    double el = (double)(spate_mono_ns() - t0) / 1e9;
    /* memcpy of the same output, as the floor any generator pays. */
    char *dst = malloc(b.len ? b.len : 1);
    int64_t copies = 0, c0 = spate_mono_ns();
    while (spate_mono_ns() - c0 < 200000000) {
        memcpy(dst, b.data, b.len);
        __asm__ volatile("" ::"r"(dst) : "memory");
        copies++;
    }
    double cel = (double)(spate_mono_ns() - c0) / 1e9;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("generate: query=%s users=%lld seconds=%.2f users_per_s=%.0f MB_per_s=%.1f "
           "bytes_per_user=%.0f memcpy_MB_per_s=%.0f peak_rss_kb=%ld\n",
           query, (long long)users, el, users / el, bytes / el / 1e6,
           users ? (double)bytes / users : 0.0, (double)copies * b.len / cel / 1e6, ru.ru_maxrss);
    free(dst);
    spate_buf_free(&b);
    return 0;
}
