/*
 * kafka_int.h — private to src/kafka: the broker's state, connections,
 * topics, and the request dispatch table shared by the handlers.
 *
 * Request flow (one event loop thread):
 *
 *   socket ─▶ conn.in ─▶ frame (int32 size) ─▶ header ─▶ kafka_api table
 *        ─▶ handler(req, body reader, response buffer)
 *             ├─ KAFKA_DONE      response framed and queued on conn.out
 *             ├─ KAFKA_NO_REPLY  nothing now: Produce acks=0, or a durable
 *             │                  answer queued with kafka_conn_respond_durable
 *             │                  (acks=all Produce, OffsetCommit), sent after
 *             │                  the loop turn's group-commit fsync
 *             ├─ KAFKA_DEFERRED  the handler keeps the request and answers
 *             │                  later (a Fetch waiting for data, a
 *             │                  JoinGroup/SyncGroup waiting for the
 *             │                  rebalance)
 *             └─ KAFKA_CLOSE     malformed request: close the connection
 *
 * As Kafka does, a connection's next request is not read before the
 * current one is answered, so responses always come in request order.
 */
#ifndef SPATE_KAFKA_INT_H
#define SPATE_KAFKA_INT_H

#include "kafka.h"
#include "kafka_log.h"

/* ErrorCode values (Kafka's Errors.java). */
enum {
    KERR_NONE = 0,
    KERR_OFFSET_OUT_OF_RANGE = 1,
    KERR_CORRUPT_MESSAGE = 2,
    KERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
    KERR_INVALID_FETCH_SIZE = 4,
    KERR_LEADER_NOT_AVAILABLE = 5,
    KERR_NOT_LEADER_OR_FOLLOWER = 6,
    KERR_REQUEST_TIMED_OUT = 7,
    KERR_MESSAGE_TOO_LARGE = 10,
    KERR_OFFSET_METADATA_TOO_LARGE = 12,
    KERR_COORDINATOR_NOT_AVAILABLE = 15,
    KERR_INVALID_TOPIC_EXCEPTION = 17,
    KERR_RECORD_LIST_TOO_LARGE = 18,
    KERR_INVALID_REQUIRED_ACKS = 21,
    KERR_ILLEGAL_GENERATION = 22,
    KERR_INCONSISTENT_GROUP_PROTOCOL = 23,
    KERR_INVALID_GROUP_ID = 24,
    KERR_UNKNOWN_MEMBER_ID = 25,
    KERR_INVALID_SESSION_TIMEOUT = 26,
    KERR_REBALANCE_IN_PROGRESS = 27,
    KERR_UNSUPPORTED_VERSION = 35,
    KERR_TOPIC_ALREADY_EXISTS = 36,
    KERR_INVALID_PARTITIONS = 37,
    KERR_INVALID_REPLICATION_FACTOR = 38,
    KERR_INVALID_REPLICA_ASSIGNMENT = 39,
    KERR_INVALID_CONFIG = 40,
    KERR_INVALID_REQUEST = 42,
    KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,
    KERR_OUT_OF_ORDER_SEQUENCE_NUMBER = 45,
    KERR_INVALID_PRODUCER_EPOCH = 47,
    KERR_UNKNOWN_SERVER_ERROR = -1,
    KERR_KAFKA_STORAGE_ERROR = 56,
    KERR_NON_EMPTY_GROUP = 68,
    KERR_GROUP_ID_NOT_FOUND = 69,
    KERR_MEMBER_ID_REQUIRED = 79,
    KERR_INVALID_RECORD = 87,
};

/* API keys (ApiKeys.java). */
enum {
    KAPI_PRODUCE = 0,
    KAPI_FETCH = 1,
    KAPI_LIST_OFFSETS = 2,
    KAPI_METADATA = 3,
    KAPI_OFFSET_COMMIT = 8,
    KAPI_OFFSET_FETCH = 9,
    KAPI_FIND_COORDINATOR = 10,
    KAPI_JOIN_GROUP = 11,
    KAPI_HEARTBEAT = 12,
    KAPI_LEAVE_GROUP = 13,
    KAPI_SYNC_GROUP = 14,
    KAPI_DESCRIBE_GROUPS = 15,
    KAPI_LIST_GROUPS = 16,
    KAPI_API_VERSIONS = 18,
    KAPI_CREATE_TOPICS = 19,
    KAPI_DELETE_TOPICS = 20,
    KAPI_INIT_PRODUCER_ID = 22,
    KAPI_DESCRIBE_CONFIGS = 32,
    KAPI_CREATE_PARTITIONS = 37,
    KAPI_DELETE_GROUPS = 42,
};

typedef struct spate_kafka_broker kafka_broker_t;
typedef struct kafka_conn kafka_conn_t;

typedef struct {
    int16_t api_key, api_version;
    int32_t correlation_id;
    spate_slice_t client_id;
    bool flexible; /* request header v2 / response header v1 */
} kafka_req_t;

typedef enum { KAFKA_DONE, KAFKA_NO_REPLY, KAFKA_DEFERRED, KAFKA_CLOSE } kafka_result_t;

/* A handler decodes `body` (the bytes after the request header) and writes
 * the response *body* to `out` (framing and the response header are added
 * by the caller for KAFKA_DONE). */
typedef kafka_result_t (*kafka_handler_fn)(kafka_broker_t *b, kafka_conn_t *c,
                                           const kafka_req_t *req, spate_rd_t *body,
                                           spate_buf_t *out);

typedef struct {
    int16_t key;
    const char *name;
    int16_t min, max;
    int16_t first_flexible; /* INT16_MAX: no flexible versions advertised */
    kafka_handler_fn fn;
} kafka_api_t;

/* The dispatch table (kafka_api.c); ApiVersions is answered from it. */
const kafka_api_t *kafka_api_find(int16_t key);
const kafka_api_t *kafka_api_table(size_t *n);

/* ---- per-topic configs (kafka_config.c) ---- */

/* The topic-level settings a topic may override; the others are the
 * broker's. Values are held as numbers (cleanup.policy: KAFKA_CLEANUP_*
 * bits). */
typedef enum {
    KTC_RETENTION_MS,
    KTC_RETENTION_BYTES,
    KTC_SEGMENT_BYTES,
    KTC_MAX_MESSAGE_BYTES,
    KTC_CLEANUP_POLICY,
    KTC_MIN_INSYNC_REPLICAS,
    KTC_FLUSH_MESSAGES,
    KTC_FLUSH_MS,
    KTC_DELETE_RETENTION_MS,
    KTC_MIN_COMPACTION_LAG_MS,
    KTC_COUNT
} kafka_tconf_id_t;

enum { KAFKA_CLEANUP_DELETE = 1, KAFKA_CLEANUP_COMPACT = 2 };

typedef struct {
    int64_t v[KTC_COUNT];
    uint32_t set; /* bit (1 << id): overridden for this topic */
} kafka_topic_conf_t;

/* Validates and records one override. Returns KERR_NONE, or
 * KERR_INVALID_CONFIG with a message in msg (unknown key, bad value, or a
 * setting spate does not implement). val NULL is a null value. */
int16_t kafka_topic_conf_set(kafka_topic_conf_t *tc, const char *key, size_t klen, const char *val,
                             size_t vlen, char *msg, size_t msglen);
/* The value in force: the override, or the broker's default. */
int64_t kafka_topic_conf_value(const kafka_broker_t *b, const kafka_topic_conf_t *tc,
                               kafka_tconf_id_t id);
/* Appends "key=value\n" per override (the .topic file's lines). */
void kafka_topic_conf_write(const kafka_topic_conf_t *tc, spate_buf_t *out);

/* ---- topics ---- */

typedef struct {
    spate_klog_t *log;
    int32_t leader_epoch;
    /* Flush policy (flush.messages, flush.ms): what was appended since the
     * log's last fsync. unsynced_since is loop time, 0 when clean. */
    int64_t unsynced_records;
    int64_t unsynced_since;
    /* Compaction: the active segment's base offset at the last pass (a
     * pass runs when a segment has rolled since); 0 before the first. */
    int64_t compacted_active_base;
} kafka_partition_t;

typedef struct kafka_topic {
    char name[256];
    int32_t nparts;
    kafka_partition_t *parts;
    kafka_topic_conf_t conf;   /* its overrides */
    spate_klog_conf_t logconf; /* what its partitions' logs were opened with */
    int32_t max_message_bytes; /* in force (override or broker default) */
    int64_t flush_messages;    /* in force: fsync a partition after this many records */
    int64_t flush_ms;          /* in force: ... or when its oldest unsynced record is this old */
    int cleanup;               /* KAFKA_CLEANUP_* bits in force */
    struct kafka_topic *next;
} kafka_topic_t;

kafka_topic_t *kafka_topic_find(kafka_broker_t *b, const char *name, size_t len);
/* Creates a topic with n partitions (files and metadata) and the
 * overrides in tc (NULL: none); KERR_* result. */
int16_t kafka_topic_create(kafka_broker_t *b, const char *name, size_t len, int32_t nparts,
                           const kafka_topic_conf_t *tc, kafka_topic_t **out);
/* Grows t to nparts partitions: new partition directories, then the
 * .topic file. KERR_KAFKA_STORAGE_ERROR (t unchanged) on failure. */
int16_t kafka_topic_add_partitions(kafka_broker_t *b, kafka_topic_t *t, int32_t nparts);
int16_t kafka_topic_delete(kafka_broker_t *b, const char *name, size_t len);
/* Kafka's rule: [a-zA-Z0-9._-]{1,249}, not "." or "..". */
bool kafka_topic_name_valid(const char *name, size_t len);

/* ---- waiting requests (deferred) ---- */

/* Which list a waiter is on, and so who answers it:
 *   FETCH  re-run when data arrives or at its timer (kafka_fetch.c)
 *   GROUP  a JoinGroup/SyncGroup answered by the group coordinator when the
 *          rebalance gets there (kafka_group.c); *owner points back at it */
typedef enum { KAFKA_WAIT_FETCH, KAFKA_WAIT_GROUP } kafka_wait_kind_t;

typedef struct kafka_waiter kafka_waiter_t;
struct kafka_waiter {
    kafka_conn_t *conn;
    kafka_req_t req;
    spate_buf_t body; /* a copy of the request body, for re-running */
    int64_t deadline; /* loop ms; the handler answers by then */
    spate_timer_t *timer;
    kafka_wait_kind_t kind;
    kafka_waiter_t **owner; /* GROUP: cleared when the waiter is freed */
    kafka_waiter_t *prev, *next;
};

typedef struct kafka_group kafka_group_t;

struct spate_kafka_broker {
    spate_kafka_conf_t conf;
    spate_loop_t *loop;
    int listen_fd;
    spate_net_acceptor_t acceptor; /* listen_fd on the loop */
    int port;
    kafka_topic_t *topics;
    kafka_conn_t *conns;
    kafka_waiter_t *fetch_waiters; /* Fetches waiting for data or their max_wait */
    kafka_waiter_t *group_waiters; /* JoinGroup/SyncGroup waiting for a rebalance */
    bool data_appended;            /* since the fetch waiters were last re-run */
    bool held;                     /* some connection holds responses for the fsync */
    kafka_group_t *groups;         /* consumer groups (kafka_group.c) */
    int offsets_fd;                /* __consumer_offsets.log, appended to */
    bool offsets_dirty;            /* written since the last fsync */
    int64_t offsets_bytes;         /* its size */
    int64_t offsets_compacted;     /* its size after the last rewrite */
    spate_timer_t *group_timer;
    spate_timer_t *flush_timer;
    int64_t flush_timer_due; /* loop time the flush timer fires at */
    bool flush_due;          /* a partition passed flush.messages this turn */
    spate_timer_t *retention_timer;
    spate_timer_t *cleaner_timer;
    struct kafka_producers *producers; /* idempotent producers (kafka_producer.c) */
};

/* File bytes a response sends by sendfile(2) instead of copying them: the
 * range goes out right after byte `at` of the buffer it belongs to, so an
 * output stream is a byte buffer with file ranges spliced in. `fd` is a
 * dup() owned by the list (a segment deleted meanwhile stays readable). */
typedef struct {
    size_t at;
    int fd;
    int64_t pos;
    size_t len;
} kafka_fileref_t;

typedef struct {
    kafka_fileref_t *v;
    size_t n, cap;
    size_t done;      /* refs fully sent (output only) */
    size_t done_part; /* bytes of v[done] already sent */
} kafka_refs_t;

/* Adds a range (dup()ing fd); false when the fd could not be duplicated
 * (the caller copies the bytes instead). */
bool kafka_refs_add(kafka_refs_t *r, size_t at, int fd, int64_t pos, size_t len);
/* Closes every fd and empties the list (keeps its memory). */
void kafka_refs_clear(kafka_refs_t *r);

struct kafka_conn {
    kafka_broker_t *b;
    int fd;
    char peer[64];
    spate_buf_t in; /* bytes read, not yet consumed */
    size_t in_off;
    spate_buf_t out; /* responses not yet written */
    size_t out_off;
    /* Responses that may go out only after the next group-commit fsync
     * (acks=all Produce, OffsetCommit), and every response after them, in
     * order. The connection keeps processing requests meanwhile, so a
     * client pipelining acks=all produces gets them all into one fsync. */
    spate_buf_t held;
    kafka_refs_t out_refs, held_refs; /* file ranges spliced into out and held */
    /* Ranges a handler attached to the response body it is building
     * (positions within that body); kafka_conn_respond takes them. */
    kafka_refs_t body_refs;
    bool sendfile; /* Fetch records go out by sendfile (conf.fetch_sendfile) */
    bool busy;     /* a request is deferred: read no more requests */
    bool closing;  /* close once out is written */
    bool wake;     /* its deferred request was answered: resume before sleeping */
    kafka_conn_t *prev, *next;
};

/* A connection on fd (which it takes over), as accept makes them. */
kafka_conn_t *kafka_conn_open(kafka_broker_t *b, int fd, const char *peer);
/* Feeds bytes as if read from the socket and runs the requests they
 * complete; returns false when that closed (and freed) the connection.
 * The read path and the fuzz target (fuzz/fuzz_kafka_request.c) use it. */
bool kafka_conn_input(kafka_conn_t *c, const void *p, size_t n);
/* Closes and frees a connection. */
void kafka_conn_close(kafka_conn_t *c);

/* Frames a response (size, correlation id, header tags when flexible)
 * around body and queues it on the connection (behind held ones). */
void kafka_conn_respond(kafka_conn_t *c, const kafka_req_t *req, const spate_buf_t *body);
/* The same for a response that must wait for the data it acknowledges to
 * be fsynced; the handler then returns KAFKA_NO_REPLY. */
void kafka_conn_respond_durable(kafka_conn_t *c, const kafka_req_t *req, const spate_buf_t *body);
/* Called by a deferred request when it is answered (or dropped), so the
 * connection processes its next request. */
void kafka_conn_resume(kafka_conn_t *c);

/* Deferral helpers (kafka_server.c). */
kafka_waiter_t *kafka_defer(kafka_broker_t *b, kafka_conn_t *c, const kafka_req_t *req,
                            spate_rd_t *body, int64_t wait_ms);
void kafka_waiter_free(kafka_broker_t *b, kafka_waiter_t *w);
/* A GROUP waiter for c's current request; *owner is set to it and cleared
 * when it is freed (answered, or its connection closed). */
kafka_waiter_t *kafka_defer_group(kafka_broker_t *b, kafka_conn_t *c, const kafka_req_t *req,
                                  kafka_waiter_t **owner);
/* Sends body as the response to w's request, frees w, and has the
 * connection resume in the before-sleep hook (not now: the caller may be
 * in the middle of changing the state the next request would see). */
void kafka_waiter_answer(kafka_broker_t *b, kafka_waiter_t *w, const spate_buf_t *body);

/* ---- consumer groups (kafka_group.c) ---- */

/* Replays <data_dir>/__consumer_offsets.log and starts the session timer. */
spate_status_t kafka_groups_load(kafka_broker_t *b, char *err, size_t errlen);
/* Frees every group in memory (not the file); answers nothing. */
void kafka_groups_clear(kafka_broker_t *b);
/* Closes the offsets file (after an fsync) and frees the groups. */
void kafka_groups_close(kafka_broker_t *b);
/* fsyncs the offsets file if written to; false on failure. */
bool kafka_groups_flush(kafka_broker_t *b);

/* ---- idempotent producers (kafka_producer.c) ---- */

/* Reads <data_dir>/producer_ids and rebuilds the producers' state from the
 * tail of every partition's log; call after the topics are loaded. */
spate_status_t kafka_producers_load(kafka_broker_t *b, char *err, size_t errlen);
/* Frees the producers' state (nothing to write: the logs are its copy). */
void kafka_producers_close(kafka_broker_t *b);
/* Checks a parsed batch bound for t/idx before it is appended: a KERR_*
 * (OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, INVALID_RECORD),
 * or KERR_NONE with *dup_offset >= 0 when it duplicates a retained batch
 * (do not append; answer that offset), or -1 when it is to be appended.
 * Batches with producer_id -1 always pass. */
int16_t kafka_producer_check(kafka_broker_t *b, const kafka_topic_t *t, int32_t idx,
                             const spate_kbatch_t *bt, int64_t *dup_offset);
/* Records a batch that kafka_producer_check passed, once it is appended. */
void kafka_producer_appended(kafka_broker_t *b, const kafka_topic_t *t, int32_t idx,
                             const spate_kbatch_t *bt, int64_t base_offset);

/* ---- handlers ---- */

/* ---- compaction (kafka_compact.c) ---- */

/* One compaction pass over partition idx of t (see kafka_compact.c);
 * returns the number of segments rewritten, or -1 after an error (logged;
 * the log is left consistent). */
int kafka_compact_partition(kafka_broker_t *b, kafka_topic_t *t, int32_t idx, int64_t now_ms);
/* For Produce to a compacted topic: KERR_NONE when every record of the
 * (already validated) batch has a key, KERR_INVALID_RECORD when one has
 * none, KERR_CORRUPT_MESSAGE when its records cannot be read. */
int16_t kafka_compact_check_keys(const uint8_t *batch, size_t len);

/* ---- flush policy (kafka_server.c) ---- */

/* Records n records appended to partition p of t: arms flush.ms and counts
 * toward flush.messages. */
void kafka_partition_appended(kafka_broker_t *b, kafka_topic_t *t, kafka_partition_t *p, int64_t n);

kafka_result_t kafka_handle_api_versions(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                         spate_rd_t *, spate_buf_t *);
kafka_result_t kafka_handle_metadata(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                     spate_rd_t *, spate_buf_t *);
kafka_result_t kafka_handle_produce(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                    spate_rd_t *, spate_buf_t *);
kafka_result_t kafka_handle_fetch(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                  spate_rd_t *, spate_buf_t *);
kafka_result_t kafka_handle_list_offsets(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                         spate_rd_t *, spate_buf_t *);
kafka_result_t kafka_handle_create_topics(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                          spate_rd_t *, spate_buf_t *);
kafka_result_t kafka_handle_delete_topics(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                          spate_rd_t *, spate_buf_t *);

kafka_result_t kafka_handle_find_coordinator(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                             spate_rd_t *, spate_buf_t *);
kafka_result_t kafka_handle_join_group(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                       spate_rd_t *, spate_buf_t *);
kafka_result_t kafka_handle_sync_group(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                       spate_rd_t *, spate_buf_t *);
kafka_result_t kafka_handle_heartbeat(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                      spate_rd_t *, spate_buf_t *);
kafka_result_t kafka_handle_leave_group(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                        spate_rd_t *, spate_buf_t *);
kafka_result_t kafka_handle_offset_commit(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                          spate_rd_t *, spate_buf_t *);
kafka_result_t kafka_handle_offset_fetch(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                         spate_rd_t *, spate_buf_t *);
kafka_result_t kafka_handle_list_groups(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                        spate_rd_t *, spate_buf_t *);
kafka_result_t kafka_handle_init_producer_id(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                             spate_rd_t *, spate_buf_t *);
kafka_result_t kafka_handle_describe_configs(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                             spate_rd_t *, spate_buf_t *);
kafka_result_t kafka_handle_create_partitions(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                              spate_rd_t *, spate_buf_t *);
kafka_result_t kafka_handle_delete_groups(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                          spate_rd_t *, spate_buf_t *);
kafka_result_t kafka_handle_describe_groups(kafka_broker_t *, kafka_conn_t *, const kafka_req_t *,
                                            spate_rd_t *, spate_buf_t *);

/* Re-runs a waiting Fetch; returns true when it answered. */
bool kafka_fetch_retry(kafka_broker_t *b, kafka_waiter_t *w, bool timed_out);

/* ---- request decoding helpers ---- */

/* Reads an array count (int32, or compact uvarint-1 when flexible);
 * negative means null. Rejects counts larger than the bytes left could
 * hold (each element takes at least min_elem bytes). */
spate_status_t kafka_rd_array(spate_rd_t *r, bool flexible, size_t min_elem, int32_t *n);
/* Skips a tagged-field section (flexible versions). */
spate_status_t kafka_rd_tags(spate_rd_t *r);
/* A string (int16 or compact); null allowed when nullable. */
spate_status_t kafka_rd_string(spate_rd_t *r, bool flexible, bool nullable, spate_slice_t *s);

#endif /* SPATE_KAFKA_INT_H */
