/*
 * stream_fetch.c — keeps librdkafka 2.0's prefetcher fetching while a job
 * has a backlog (the "fetch nudge").
 *
 * The problem: librdkafka before 2.4 stops fetching a partition whose
 * consumer queue holds queued.max.messages.kbytes (or queued.min.messages)
 * and does not look at it again until something wakes its broker thread —
 * when nothing does, that is its one-second idle timeout (librdkafka issue
 * #2879; 2.4 added fetch.queue.backoff.ms for it). A job slower than its
 * broker fills the queue at once, so without help it consumes one queue's
 * worth per second: throughput followed the prefetch bound exactly
 * (2 MiB → 8 k records/s, 8 MiB → 27 k, see bench/RESULTS.md).
 *
 * The help: any request queued on a broker's thread wakes that thread,
 * and its loop then re-decides every partition it fetches, so a partition
 * whose queue has drained is fetched at once. While a job lags, the job
 * thread asks this module to "nudge"; a thread of its own sends one
 * ListOffsets (rd_kafka_offsets_for_times with timestamp -1: the latest
 * offset, which costs the broker a lookup) for the lagging partitions —
 * librdkafka sends it to each partition's leader, so every broker thread
 * that holds one is woken — and waits for the answer, so at most one
 * nudge is in flight and a slow broker never blocks the job thread.
 *
 * With librdkafka 2.4 or later, stream_run.c sets fetch.queue.backoff.ms
 * instead and no nudger is made.
 */
#include "stream_fetch.h"

#include "base.h"

#include <pthread.h>
#include <stdlib.h>

#define NUDGE_TIMEOUT_MS 2000

struct srun_nudger {
    rd_kafka_t *rk;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rd_kafka_topic_partition_list_t *want; /* the next nudge; NULL: none asked */
    bool busy;                             /* a nudge is in flight */
    bool stop;
    uint64_t sent; /* nudges sent (under mu) */
};

bool srun_fetch_needs_nudger(void) { return rd_kafka_version() < 0x020400ff; }

static void *nudger_main(void *arg) {
    srun_nudger_t *n = arg;
    pthread_mutex_lock(&n->mu);
    for (;;) {
        while (!n->stop && !n->want) pthread_cond_wait(&n->cv, &n->mu);
        if (n->stop) break;
        rd_kafka_topic_partition_list_t *l = n->want;
        n->want = NULL;
        n->busy = true;
        pthread_mutex_unlock(&n->mu);
        /* The answer is not needed: the request was the point. */
        (void)rd_kafka_offsets_for_times(n->rk, l, NUDGE_TIMEOUT_MS);
        rd_kafka_topic_partition_list_destroy(l);
        pthread_mutex_lock(&n->mu);
        n->busy = false;
        n->sent++;
    }
    pthread_mutex_unlock(&n->mu);
    return NULL;
}

srun_nudger_t *srun_nudger_new(rd_kafka_t *rk) {
    srun_nudger_t *n = spate_xcalloc(1, sizeof *n);
    n->rk = rk;
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cv, NULL);
    if (pthread_create(&n->th, NULL, nudger_main, n) != 0) {
        pthread_cond_destroy(&n->cv);
        pthread_mutex_destroy(&n->mu);
        free(n);
        return NULL;
    }
    return n;
}

bool srun_nudger_kick(srun_nudger_t *n, rd_kafka_topic_partition_list_t *parts) {
    pthread_mutex_lock(&n->mu);
    bool taken = !n->busy && !n->want && !n->stop;
    if (taken) {
        for (int i = 0; i < parts->cnt; i++) parts->elems[i].offset = -1; /* latest */
        n->want = parts;
        pthread_cond_signal(&n->cv);
    }
    pthread_mutex_unlock(&n->mu);
    if (!taken) rd_kafka_topic_partition_list_destroy(parts);
    return taken;
}

uint64_t srun_nudger_sent(srun_nudger_t *n) {
    pthread_mutex_lock(&n->mu);
    uint64_t s = n->sent;
    pthread_mutex_unlock(&n->mu);
    return s;
}

void srun_nudger_free(srun_nudger_t *n) {
    if (!n) return;
    pthread_mutex_lock(&n->mu);
    n->stop = true;
    pthread_cond_signal(&n->cv);
    pthread_mutex_unlock(&n->mu);
    pthread_join(n->th, NULL);
    if (n->want) rd_kafka_topic_partition_list_destroy(n->want);
    pthread_cond_destroy(&n->cv);
    pthread_mutex_destroy(&n->mu);
    free(n);
}
