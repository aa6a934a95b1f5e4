/*
 * stream_fetch.h — the fetch nudger of a stream job (stream_fetch.c says
 * why librdkafka 2.0 needs one): a thread that, when asked, sends one
 * ListOffsets for the given partitions so that their brokers' fetcher
 * threads wake up and refill drained queues at once.
 */
#ifndef SPATE_STREAM_FETCH_H
#define SPATE_STREAM_FETCH_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct srun_nudger srun_nudger_t;

/* True when the linked librdkafka lacks fetch.queue.backoff.ms (< 2.4). */
bool srun_fetch_needs_nudger(void);
/* Starts the nudger of a consumer (NULL if no thread could be made: the
 * job then runs at librdkafka's own refill pace). rk must outlive it. */
srun_nudger_t *srun_nudger_new(rd_kafka_t *rk);
/* Asks for a nudge of parts (takes ownership). Never blocks on the
 * network: when a nudge is already in flight or queued, the request is
 * dropped and false returned. */
bool srun_nudger_kick(srun_nudger_t *n, rd_kafka_topic_partition_list_t *parts);
/* Nudges sent so far. */
uint64_t srun_nudger_sent(srun_nudger_t *n);
/* Stops the thread (waits for a nudge in flight, at most its timeout). */
void srun_nudger_free(srun_nudger_t *n);

#endif
