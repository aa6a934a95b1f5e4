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
 * Counters are written by the job's thread only, and only that thread
 * reads them: it renders its own samples, one buffer per metric family,
 * into j->prom[] (under j->mu). The text format wants each family once —
 * HELP and TYPE, then all of its samples together — so the HTTP thread
 * (srun_metrics_text) writes family by family, taking each job's samples
 * of that family in job order:
 *
 *   job a: prom[0..7]  ┐      # HELP/TYPE spate_stream_records_in_total
 *   job b: prom[0..7]  ┴──▶   ..._in_total{job="a"} 10     <- a.prom[0]
 *                             ..._in_total{job="b"} 20     <- b.prom[0]
 *                             # HELP/TYPE spate_stream_records_out_total ...
 *
 *   spate_stream_records_in_total{job}             messages consumed
 *   spate_stream_records_out_total{job}            rows the sink stored
 *   spate_stream_records_dropped_total{job}        filtered out
 *   spate_stream_records_failed_total{job}         failed the transform or the sink
 *   spate_stream_records_dead_lettered_total{job}  delivered to the DLQ
 *   spate_stream_records_flat_total{job}           took the flat path (stream.h)
 *   spate_stream_in_flight{job}                    unsettled records
 *   spate_stream_lag{job,topic,partition}          high watermark - commit point
 *   spate_stream_sink_latency_seconds{job}         histogram
 */
#include "stream_run_int.h"

#include <pthread.h>
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

/* ---- Prometheus text ---- */

/* The families, in output order. */
enum {
    F_IN,
    F_OUT,
    F_DROPPED,
    F_FAILED,
    F_DEAD,
    F_BATCHES,
    F_BATCHED,
    F_FLAT,
    F_INFLIGHT,
    F_LAG,
    F_LATENCY,
    F_NUDGES,
    F_N
};
_Static_assert(F_N == SRUN_PROM_FAMILIES, "SRUN_PROM_FAMILIES must count the families");

static const struct {
    const char *name, *type, *help;
} families[F_N] = {
    [F_IN] = {"spate_stream_records_in_total", "counter", "Messages consumed."},
    [F_OUT] = {"spate_stream_records_out_total", "counter", "Records the sink stored."},
    [F_DROPPED] = {"spate_stream_records_dropped_total", "counter", "Records a filter dropped."},
    [F_FAILED] = {"spate_stream_records_failed_total", "counter",
                  "Records that failed the transform or the sink."},
    [F_DEAD] = {"spate_stream_records_dead_lettered_total", "counter",
                "Failed records delivered to the dead-letter topic."},
    [F_BATCHES] = {"spate_stream_sink_batches_total", "counter",
                   "Unlogged batches the CQL sink sent (rows of one partition; a row sent alone "
                   "is not one)."},
    [F_BATCHED] = {"spate_stream_sink_batched_rows_total", "counter",
                   "Rows the CQL sink sent in those batches."},
    [F_FLAT] = {"spate_stream_records_flat_total", "counter",
                "Records that took the flat path: written from their bytes, no JSON tree."},
    [F_INFLIGHT] = {"spate_stream_in_flight", "gauge",
                    "Records given to the sink, not yet settled."},
    [F_LAG] = {"spate_stream_lag", "gauge",
               "Messages behind the high watermark, per partition (from the commit point)."},
    [F_LATENCY] = {"spate_stream_sink_latency_seconds", "histogram", "From sink write to settled."},
    [F_NUDGES] = {"spate_stream_fetch_nudges_total", "counter",
                  "Requests sent to wake librdkafka's fetcher while lagging (librdkafka < 2.4)."},
};

/* A label value with \, " and newline escaped, as the format requires. */
static void put_label(spate_buf_t *b, const char *s) {
    for (; *s; s++) {
        if (*s == '\\')
            spate_buf_puts(b, "\\\\");
        else if (*s == '"')
            spate_buf_puts(b, "\\\"");
        else if (*s == '\n')
            spate_buf_puts(b, "\\n");
        else
            spate_buf_append(b, s, 1);
    }
}

/* `name{job="...",` — the caller adds the other labels and the value. */
static void put_sample_head(spate_buf_t *b, const char *name, const char *suffix, const char *job) {
    spate_buf_printf(b, "%s%s{job=\"", name, suffix);
    put_label(b, job);
    spate_buf_puts(b, "\"");
}

/* The job's samples, one buffer per family (the caller's, appended to). */
static void render_samples(srun_job_t *j, spate_buf_t fam[F_N]) {
    const char *name = j->conf->name;
    const uint64_t counters[] = {[F_IN] = j->c.in,
                                 [F_OUT] = j->c.out,
                                 [F_DROPPED] = j->c.dropped,
                                 [F_FAILED] = j->c.failed,
                                 [F_DEAD] = j->c.dead_lettered,
                                 [F_BATCHES] = j->c.batches,
                                 [F_BATCHED] = j->c.batched_rows,
                                 [F_FLAT] = j->c.flat};
    for (int f = F_IN; f <= F_FLAT; f++) {
        put_sample_head(&fam[f], families[f].name, "", name);
        spate_buf_printf(&fam[f], "} %llu\n", (unsigned long long)counters[f]);
    }
    put_sample_head(&fam[F_INFLIGHT], families[F_INFLIGHT].name, "", name);
    spate_buf_printf(&fam[F_INFLIGHT], "} %lld\n", (long long)j->inflight);
    for (size_t i = 0; i < j->nparts; i++) {
        srun_part_t *p = j->parts[i];
        if (!p->assigned || p->lag < 0) continue;
        put_sample_head(&fam[F_LAG], families[F_LAG].name, "", name);
        spate_buf_puts(&fam[F_LAG], ",topic=\"");
        put_label(&fam[F_LAG], p->topic);
        spate_buf_printf(&fam[F_LAG], "\",partition=\"%d\"} %lld\n", p->partition,
                         (long long)p->lag);
    }
    spate_buf_t *h = &fam[F_LATENCY];
    const char *hn = families[F_LATENCY].name;
    uint64_t cum = 0;
    for (int i = 0; i < SRUN_HIST_N; i++) {
        cum += j->c.hist[i];
        put_sample_head(h, hn, "_bucket", name);
        if (i < SRUN_HIST_N - 1)
            spate_buf_printf(h, ",le=\"%g\"} %llu\n", (double)srun_hist_bounds_us[i] / 1e6,
                             (unsigned long long)cum);
        else
            spate_buf_printf(h, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
    }
    put_sample_head(h, hn, "_sum", name);
    spate_buf_printf(h, "} %g\n", (double)j->c.hist_sum_us / 1e6);
    put_sample_head(h, hn, "_count", name);
    spate_buf_printf(h, "} %llu\n", (unsigned long long)cum);
    if (j->nudger) j->nudges = srun_nudger_sent(j->nudger);
    if (srun_fetch_needs_nudger()) {
        put_sample_head(&fam[F_NUDGES], families[F_NUDGES].name, "", name);
        spate_buf_printf(&fam[F_NUDGES], "} %llu\n", (unsigned long long)j->nudges);
    }
}

void srun_metrics_render(srun_job_t *j) {
    if (j->rk) update_lag(j);
    spate_buf_t fam[F_N];
    for (int f = 0; f < F_N; f++) fam[f] = (spate_buf_t)SPATE_BUF_INIT;
    render_samples(j, fam);
    pthread_mutex_lock(&j->mu);
    for (int f = 0; f < F_N; f++) {
        spate_buf_t old = j->prom[f];
        j->prom[f] = fam[f];
        fam[f] = old;
    }
    pthread_mutex_unlock(&j->mu);
    for (int f = 0; f < F_N; f++) spate_buf_free(&fam[f]);
}

void srun_metrics_text(srun_job_t *const *jobs, size_t n, spate_buf_t *out) {
    for (int f = 0; f < F_N; f++) {
        spate_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", families[f].name, families[f].help,
                         families[f].name, families[f].type);
        for (size_t i = 0; i < n; i++) {
            pthread_mutex_lock(&jobs[i]->mu);
            spate_buf_append(out, jobs[i]->prom[f].data, jobs[i]->prom[f].len);
            pthread_mutex_unlock(&jobs[i]->mu);
        }
    }
}
