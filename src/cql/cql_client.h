/*
 * cql_client.h — spate's CQL client (cql_client.c), private to src/cql
 * until the server's additions to cql.h settle; it moves into the public
 * header then (the stream processor's Cassandra sink and `spate cqlsh`
 * are its users).
 *
 * It speaks native protocol v4 (v3 when the server refuses v4) to spate
 * cql, Cassandra or ScyllaDB, on the same codec as the server
 * (cql_codec.h). One client = one connection to one of the contact
 * points, with many requests in flight on it (stream ids):
 *
 *   connect     TCP to the first contact point that answers, OPTIONS,
 *               STARTUP {CQL_VERSION 3.0.0}, USE keyspace if given
 *   send        frames a request with a free stream id; waits while the
 *               in-flight window is full
 *   poll        writes pending output, reads answers, calls each
 *               request's completion with its decoded response
 *   sync calls  query/prepare/execute/batch = send + poll until done
 *
 * A broken connection fails every request in flight (their completions
 * get SPATE_EIO) and the next send reconnects, trying the contact points
 * in turn. Prepared statements are remembered by id with their text: an
 * EXECUTE answered Unprepared (0x2500) is prepared again and retried once
 * (by the synchronous execute).
 *
 * Not thread-safe: one thread drives a client.
 */
#ifndef SPATE_CQL_CLIENT_H
#define SPATE_CQL_CLIENT_H

#include "cql_codec.h"

typedef struct {
    const char *contact_points; /* "host[:port][,host[:port]...]"; port 9042 by default */
    const char *keyspace;       /* USE'd after connecting (NULL: none) */
    int connect_timeout_ms;     /* default 5000 */
    int request_timeout_ms;     /* default 12000 (the drivers' default) */
    int max_in_flight;          /* window of requests on the connection; default 256 */
    uint16_t consistency;       /* default LOCAL_ONE, as the drivers */
} spate_cql_client_conf_t;

void spate_cql_client_conf_default(spate_cql_client_conf_t *c);

typedef struct spate_cql_client spate_cql_client_t;

/* Connects (see above). On failure *out is NULL and err says why. */
spate_status_t spate_cql_client_connect(spate_cql_client_t **out,
                                        const spate_cql_client_conf_t *conf, char *err,
                                        size_t errlen);
void spate_cql_client_free(spate_cql_client_t *c);
/* The protocol version in use (4 or 3) and the server's address. */
int spate_cql_client_version(const spate_cql_client_t *c);
const char *spate_cql_client_peer(const spate_cql_client_t *c);

/* A decoded answer: the response (cql_codec.h) and the bytes it borrows
 * from. Owned by whoever receives it; free with spate_cql_answer_free. */
typedef struct {
    spate_cql_response_t resp;
    spate_buf_t body;
} spate_cql_answer_t;
void spate_cql_answer_free(spate_cql_answer_t *a);

/* Completion of an asynchronous request: st is SPATE_OK with the answer
 * (which may be an ERROR response: a normal result), or SPATE_EIO /
 * SPATE_ETIMEDOUT with a = NULL. The callee owns a. */
typedef void (*spate_cql_done_fn)(void *ctx, spate_status_t st, spate_cql_answer_t *a);

/* Sends req (its opcode and fields as for spate_cql_request_write);
 * returns once it is queued, after polling while the window is full.
 * done is called from a later poll (never from inside send). */
spate_status_t spate_cql_client_send(spate_cql_client_t *c, const spate_cql_request_t *req,
                                     spate_cql_done_fn done, void *ctx);
/* Drives I/O for up to timeout_ms (0: what is ready now) and calls the
 * completions of answered requests; returns the number still in flight,
 * or -1 when the connection broke (their completions were called). */
int spate_cql_client_poll(spate_cql_client_t *c, int timeout_ms);
/* Polls until nothing is in flight (or the request timeout passes). */
spate_status_t spate_cql_client_drain(spate_cql_client_t *c);

/* ---- synchronous calls ----
 *
 * Each returns SPATE_OK with *out holding the answer (RESULT), SPATE_ERR
 * when the server answered an ERROR (its text in err, the answer in *out
 * too when out is not NULL), or an I/O status. */
typedef struct {
    const spate_slice_t *values; /* serialized values (cql_codec.h value_put_*) */
    uint16_t nvalues;
    int32_t page_size;          /* <= 0: no paging */
    spate_slice_t paging_state; /* from a previous page (p NULL: first page) */
    int64_t timestamp;          /* client timestamp µs; INT64_MIN: none */
} spate_cql_exec_opts_t;
void spate_cql_exec_opts_default(spate_cql_exec_opts_t *o);

spate_status_t spate_cql_query(spate_cql_client_t *c, const char *cql,
                               const spate_cql_exec_opts_t *o, spate_cql_answer_t **out, char *err,
                               size_t errlen);
/* Prepares cql; *out is the PREPARED answer (its result.id is the id). */
spate_status_t spate_cql_prepare(spate_cql_client_t *c, const char *cql, spate_cql_answer_t **out,
                                 char *err, size_t errlen);
spate_status_t spate_cql_execute(spate_cql_client_t *c, spate_slice_t id,
                                 const spate_cql_exec_opts_t *o, spate_cql_answer_t **out,
                                 char *err, size_t errlen);

/* Formats an ERROR answer as "Invalid (0x2200): message" into err. */
void spate_cql_answer_error(const spate_cql_answer_t *a, char *err, size_t errlen);

#endif /* SPATE_CQL_CLIENT_H */
