/*
 * stream_metrics.c — what a running job reports: counters, lag per
 * partition and sink latency, as a log line every 10 s (and at exit) and
 * as Prometheus text for `--metrics HOST:PORT` (GET /metrics).
 *
 * Sink latency (write to the sink → settled) goes into a fixed histogram;
 * quantiles are the upper bound of the bucket that holds them, so p50 and
 * p99 are exact to the bucket:
 *
 *   bucket  0     1     2    3    4    5    6     7     8     9 ...  15
 *   ≤ µs    100   250   500  1ms  2.5  5    10ms  25    50    100 ... +Inf
 *
 * Counters are written by the job's thread only; the Prometheus text is
 * rendered by that thread into j->prom under j->mu, and the HTTP thread
 * only copies it out, so no counter is read while it is written.
 *
 *   spate_stream_records_in_total{job}             messages consumed
 *   spate_stream_records_out_total{job}            rows the sink stored
 *   spate_stream_records_dropped_total{job}        filtered out
 *   spate_stream_records_failed_total{job}         failed the transform or the sink
 *   spate_stream_records_dead_lettered_total{job}  delivered to the DLQ
 *   spate_stream_in_flight{job}                    unsettled records
 *   spate_stream_lag{job,topic,partition}          high watermark - commit point
 *   spate_stream_sink_latency_seconds{job}         histogram
 */
#include "stream_run_int.h"

#include <string.h>

#define LOGC "stream"

const int64_t srun_hist_bounds_us[SRUN_HIST_N - 1] = {100,    250,    500,     1000,    2500,
                                                      5000,   10000,  25000,   50000,   100000,
                                                      250000, 500000, 1000000, 2500000, 10000000};

void srun_hist_add(srun_counters_t *c, int64_t ns) {
    int64_t us = ns / 1000;
    int b = 0;
    while (b < SRUN_HIST_N - 1 && us > srun_hist_bounds_us[b]) b++;
    c->hist[b]++;
    c->hist_sum_us += (uint64_t)us;
}

int64_t srun_hist_quantile(const srun_counters_t *c, double q) {
    uint64_t total = 0;
    for (int b = 0; b < SRUN_HIST_N; b++) total += c->hist[b];
    if (!total) return -1;
    uint64_t want = (uint64_t)(q * (double)total + 0.5), seen = 0;
    if (want == 0) want = 1;
    for (int b = 0; b < SRUN_HIST_N; b++) {
        seen += c->hist[b];
        if (seen >= want) return b < SRUN_HIST_N - 1 ? srun_hist_bounds_us[b] : INT64_MAX;
    }
    return INT64_MAX;
}

/* Refreshes every assigned partition's lag from librdkafka's cached
 * high watermark (no request to the broker). */
static void update_lag(srun_job_t *j) {
    for (size_t i = 0; i < j->nparts; i++) {
        srun_part_t *p = j->parts[i];
        if (!p->assigned) continue;
        int64_t lo = -1, hi = -1;
        if (rd_kafka_get_watermark_offsets(j->rk, p->topic, p->partition, &lo, &hi) || hi < 0) {
            p->lag = -1;
            continue;
        }
        int64_t cp = p->head < p->tail ? p->offs[p->head & (p->cap - 1)] : p->next_offset;
        if (cp < 0) cp = p->committed;
        p->lag = cp < 0 ? -1 : SPATE_MAX(0, hi - cp);
    }
}

static void fmt_us(int64_t us, char *out, size_t n) {
    if (us < 0)
        snprintf(out, n, "-");
    else if (us == INT64_MAX)
        snprintf(out, n, ">10s");
    else if (us < 1000)
        snprintf(out, n, "%lldus", (long long)us);
    else
        snprintf(out, n, "%.1fms", (double)us / 1000.0);
}

void srun_metrics_log(srun_job_t *j, int64_t now_ms) {
    if (j->rk) update_lag(j);
    double secs = (double)(now_ms - j->last_log_ms) / 1000.0;
    if (secs <= 0) secs = 1;
    spate_buf_t lag = {0};
    for (size_t i = 0; i < j->nparts; i++) {
        srun_part_t *p = j->parts[i];
        if (!p->assigned) continue;
        spate_buf_printf(&lag, "%s%s/%d=%lld", lag.len ? " " : "", p->topic, p->partition,
                         (long long)p->lag);
    }
    char p50[32], p99[32];
    fmt_us(srun_hist_quantile(&j->c, 0.50), p50, sizeof p50);
    fmt_us(srun_hist_quantile(&j->c, 0.99), p99, sizeof p99);
    spate_log(SPATE_LOG_INFO, LOGC,
              "job %s: in %llu out %llu dropped %llu failed %llu dead-lettered %llu | "
              "%.0f in/s %.0f out/s | in flight %lld | sink p50 %s p99 %s | lag %s",
              j->conf->name, (unsigned long long)j->c.in, (unsigned long long)j->c.out,
              (unsigned long long)j->c.dropped, (unsigned long long)j->c.failed,
              (unsigned long long)j->c.dead_lettered, (double)(j->c.in - j->last_in) / secs,
              (double)(j->c.out - j->last_out) / secs, (long long)j->inflight, p50, p99,
              lag.len ? lag.data : "-");
    spate_buf_free(&lag);
    j->last_in = j->c.in;
    j->last_out = j->c.out;
    j->last_log_ms = now_ms;
}

void srun_metrics_render(srun_job_t *j) {
    if (j->rk) update_lag(j);
    spate_buf_t b = {0};
    const char *name = j->conf->name;
    struct {
        const char *metric, *help;
        uint64_t v;
    } counters[] = {
        {"records_in_total", "Messages consumed.", j->c.in},
        {"records_out_total", "Records the sink stored.", j->c.out},
        {"records_dropped_total", "Records a filter dropped.", j->c.dropped},
        {"records_failed_total", "Records that failed the transform or the sink.", j->c.failed},
        {"records_dead_lettered_total", "Failed records delivered to the dead-letter topic.",
         j->c.dead_lettered},
    };
    for (size_t i = 0; i < SPATE_ARRAY_LEN(counters); i++)
        spate_buf_printf(&b,
                         "# HELP spate_stream_%s %s\n# TYPE spate_stream_%s counter\n"
                         "spate_stream_%s{job=\"%s\"} %llu\n",
                         counters[i].metric, counters[i].help, counters[i].metric,
                         counters[i].metric, name, (unsigned long long)counters[i].v);
    spate_buf_printf(&b,
                     "# HELP spate_stream_in_flight Records given to the sink, not yet settled.\n"
                     "# TYPE spate_stream_in_flight gauge\n"
                     "spate_stream_in_flight{job=\"%s\"} %lld\n",
                     name, (long long)j->inflight);
    spate_buf_puts(&b, "# HELP spate_stream_lag Messages behind the high watermark, per "
                       "partition (from the commit point).\n# TYPE spate_stream_lag gauge\n");
    for (size_t i = 0; i < j->nparts; i++) {
        srun_part_t *p = j->parts[i];
        if (!p->assigned || p->lag < 0) continue;
        spate_buf_printf(&b, "spate_stream_lag{job=\"%s\",topic=\"%s\",partition=\"%d\"} %lld\n",
                         name, p->topic, p->partition, (long long)p->lag);
    }
    spate_buf_puts(&b, "# HELP spate_stream_sink_latency_seconds From sink write to settled.\n"
                       "# TYPE spate_stream_sink_latency_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i < SRUN_HIST_N; i++) {
        cum += j->c.hist[i];
        if (i < SRUN_HIST_N - 1)
            spate_buf_printf(
                &b, "spate_stream_sink_latency_seconds_bucket{job=\"%s\",le=\"%g\"} %llu\n", name,
                (double)srun_hist_bounds_us[i] / 1e6, (unsigned long long)cum);
        else
            spate_buf_printf(&b,
                             "spate_stream_sink_latency_seconds_bucket{job=\"%s\",le=\"+Inf\"} "
                             "%llu\n",
                             name, (unsigned long long)cum);
    }
    spate_buf_printf(&b,
                     "spate_stream_sink_latency_seconds_sum{job=\"%s\"} %g\n"
                     "spate_stream_sink_latency_seconds_count{job=\"%s\"} %llu\n",
                     name, (double)j->c.hist_sum_us / 1e6, name, (unsigned long long)cum);
    pthread_mutex_lock(&j->mu);
    spate_buf_t old = j->prom;
    j->prom = b;
    pthread_mutex_unlock(&j->mu);
    spate_buf_free(&old);
}
