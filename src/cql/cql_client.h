/*
 * cql_client.h — private to src/cql: the insides of spate's CQL client
 * (cql_client.c), whose API is public in cql.h ("The client library").
 *
 * What is here is what the public handles are made of, so that code of
 * the subsystem (tests of the codec against real answers, say) can reach
 * the decoded codec structures behind an answer. Nothing outside src/cql
 * includes this file.
 *
 *   spate_cql_answer    one decoded response (cql_codec.h) and the body
 *                       bytes its slices borrow from
 *   spate_cql_prepared  what the client remembers of a prepared statement
 *                       to prepare it again (text, keyspace) and to check
 *                       typed binds (marker types and names)
 *   spate_cql_query     a query being built: CQL text, a prepared handle,
 *                       or a batch of copies of such queries; its values
 *                       are one byte buffer plus (offset, length) per
 *                       marker
 */
#ifndef SPATE_CQL_CLIENT_H
#define SPATE_CQL_CLIENT_H

#include "cql.h"
#include "cql_codec.h"

struct spate_cql_answer {
    spate_cql_response_t resp;
    spate_buf_t body;
};

struct spate_cql_prepared {
    spate_cql_prepared_t *next;
    char *cql;      /* the text, as given */
    char *keyspace; /* the client's keyspace when it was prepared ("" none) */
    spate_buf_t id; /* the server's id, replaced when prepared again */
    int nparams;
    spate_cql_type_t *ptypes; /* [nparams] top-level type ids of the markers */
    char **pnames;            /* [nparams] */
    int ncols;                /* result columns (0 for writes) */
};

/* A bound value: len >= 0 bytes at vals.data + off; SPATE_CQL_NULL;
 * SPATE_CQL_UNSET (also what a never-bound marker is). */
typedef struct {
    uint32_t off;
    int32_t len;
} cql_qval_t;

enum { CQL_Q_TEXT, CQL_Q_PREPARED, CQL_Q_BATCH };

struct spate_cql_query {
    int kind;
    char *cql; /* CQL_Q_TEXT */
    size_t cql_len;
    const spate_cql_prepared_t *prepared; /* CQL_Q_PREPARED */
    spate_buf_t vals;
    cql_qval_t *v;
    uint32_t nv, capv;
    int32_t page_size;
    bool has_paging;
    spate_buf_t paging;
    int consistency; /* spate_cql_consistency_t; DEFAULT: the client's */
    int64_t timestamp;
    int timeout_ms;
    uint8_t batch_type;       /* CQL_Q_BATCH */
    spate_cql_query_t **kids; /* copies (text or prepared) */
    uint32_t nkids, capkids;
};

/* The decoded response behind an answer (borrowed from a). */
static inline const spate_cql_response_t *cql_answer_response(const spate_cql_answer_t *a) {
    return &a->resp;
}

#endif /* SPATE_CQL_CLIENT_H */
