/*
 * source.h — the public interface of spate's data sources.
 *
 *   randomuser   a generator and HTTP server compatible with the
 *                randomuser.me API 1.4 (spate randomuser)
 *   format_user  the seed pipeline's format_data mapping, fixed: one
 *                randomuser result → the record the pipeline carries
 *   fetch        an HTTP client (libcurl) that pulls users from any
 *                randomuser-compatible API with retries (spate fetch)
 *
 * The scheduler and the stream processor reuse format_user and fetch.
 */
#ifndef SPATE_SOURCE_H
#define SPATE_SOURCE_H

#include "base.h"
#include "net.h"

#include <jansson.h>

/* ================================================================== */
/* randomuser: parameters                                              */
/* ================================================================== */

#define SPATE_RU_MAX_RESULTS 5000
#define SPATE_RU_MAX_PAGE 10000
#define SPATE_RU_VERSION "1.4"

typedef enum {
    SPATE_RU_FMT_JSON,
    SPATE_RU_FMT_PRETTY,
    SPATE_RU_FMT_CSV,
    SPATE_RU_FMT_YAML,
    SPATE_RU_FMT_XML
} spate_ru_format_t;

/* Field bits for inc/exc, in the order the API emits them. */
enum {
    SPATE_RU_F_GENDER = 1u << 0,
    SPATE_RU_F_NAME = 1u << 1,
    SPATE_RU_F_LOCATION = 1u << 2,
    SPATE_RU_F_EMAIL = 1u << 3,
    SPATE_RU_F_LOGIN = 1u << 4,
    SPATE_RU_F_DOB = 1u << 5,
    SPATE_RU_F_REGISTERED = 1u << 6,
    SPATE_RU_F_PHONE = 1u << 7,
    SPATE_RU_F_CELL = 1u << 8,
    SPATE_RU_F_ID = 1u << 9,
    SPATE_RU_F_PICTURE = 1u << 10,
    SPATE_RU_F_NAT = 1u << 11,
    SPATE_RU_F_ALL = (1u << 12) - 1
};

/* Password charsets for the `password` parameter. */
enum {
    SPATE_RU_PW_SPECIAL = 1u << 0,
    SPATE_RU_PW_UPPER = 1u << 1,
    SPATE_RU_PW_LOWER = 1u << 2,
    SPATE_RU_PW_NUMBER = 1u << 3
};

typedef struct {
    int results;       /* 1..5000 */
    int page;          /* 1..10000 */
    char seed[64];     /* "" = a random seed is drawn (and reported) */
    uint32_t nat_mask; /* bit i = spate_ru_nat_code(i); 0 = all */
    int gender;        /* 0 = random, 1 = male, 2 = female */
    uint32_t fields;   /* SPATE_RU_F_* to include */
    spate_ru_format_t format;
    bool noinfo;
    bool download; /* dl/download: send as an attachment */
    /* password=CHARSETS,MIN-MAX; pw_charsets == 0 → common-password list */
    unsigned pw_charsets;
    int pw_min, pw_max;
    char callback[64]; /* JSONP callback name ("" = none; JSON only) */
} spate_ru_params_t;

void spate_ru_params_default(spate_ru_params_t *p);
/* Applies one query parameter the way the real API does: invalid values
 * fall back to defaults rather than failing (results=abc → 1, an invalid
 * nat list → all nationalities). Unknown keys are ignored. */
void spate_ru_params_set(spate_ru_params_t *p, const char *key, const char *val);
/* Parses a raw query string ("results=10&nat=us,gb") into p, after
 * spate_ru_params_default. Never fails: hostile input only yields
 * defaults. */
void spate_ru_params_parse_query(spate_ru_params_t *p, const char *query, size_t len);

/* Nationality codes: index 0..20 in alphabetical order ("AU" .. "US"). */
int spate_ru_nat_count(void);
const char *spate_ru_nat_code(int i);
/* Index of a code (any case), or -1. */
int spate_ru_nat_index(const char *code, size_t len);

/* ================================================================== */
/* randomuser: generation                                              */
/* ================================================================== */

/* Appends the whole response body for params p (results, then info unless
 * noinfo) in p->format to out. `now_ms` is the wall clock used for the
 * age fields (the real API computes them against today). With a seed, the
 * same (seed, page, results, nat, password) give the same users. The
 * seed actually used is written to seed_out (at least 17 bytes) when not
 * NULL. `empty` produces the outage shape: no results, info as usual. */
spate_status_t spate_ru_generate(const spate_ru_params_t *p, int64_t now_ms, bool empty,
                                 spate_buf_t *out, char *seed_out);

/* Content-Type of a format ("application/json; charset=utf-8", ...). */
const char *spate_ru_content_type(spate_ru_format_t f);

/* ================================================================== */
/* randomuser: HTTP server                                             */
/* ================================================================== */

typedef struct {
    spate_net_addr_t listen;
    int threads; /* 0 = one per core */
    /* Fault injection, all off by default. */
    int latency_min_ms, latency_max_ms; /* added delay before answering */
    double error_rate;                  /* share of requests answered with error_status */
    int error_status;                   /* default 503 */
    int64_t rate_limit;                 /* users per client IP per window; 0 = none */
    int rate_window_s;                  /* default 300, as randomuser.me */
    double empty_rate;                  /* share answered with empty results */
    uint64_t fault_seed;                /* 0 = random */
} spate_ru_server_conf_t;

void spate_ru_server_conf_default(spate_ru_server_conf_t *c);

typedef struct spate_ru_server spate_ru_server_t;

/* Starts serving GET /api/, /api/1.4/ and /health. */
spate_status_t spate_ru_server_start(spate_ru_server_t **out, const spate_ru_server_conf_t *c);
int spate_ru_server_port(const spate_ru_server_t *s);
void spate_ru_server_stop(spate_ru_server_t *s);

/* The HTTP handler itself, exposed for tests (no sockets needed). */
void spate_ru_server_handle(spate_ru_server_t *s, const spate_http_req_t *req,
                            spate_http_resp_t *resp);

/* ================================================================== */
/* format_user                                                         */
/* ================================================================== */

/* The namespace of the deterministic record id, RFC 4122 NAMESPACE_URL
 * (6ba7b811-9dad-11d1-80b4-00c04fd430c8): id = UUIDv5(this,
 * "urn:spate:user:" + login.uuid), i.e. Python's uuid.uuid5(uuid.NAMESPACE_URL,
 * "urn:spate:user:" + login_uuid). Refetching a user therefore never
 * duplicates it downstream. */
extern const uint8_t spate_user_id_namespace[16];

/* Formats one randomuser result object into the pipeline record, appended
 * to out as one compact JSON object (no newline):
 *
 *   {"id","first_name","last_name","gender","address","post_code","email",
 *    "username","dob","registered_date","phone","picture"}
 *
 * address = "<number> <street>, <city>, <state>, <country>"; post_code is
 * always a string; dob is kept. Returns SPATE_EINVAL with a reason in err
 * when a field the record needs is missing or of the wrong type; out is
 * then unchanged. */
spate_status_t spate_format_user(const json_t *result, spate_buf_t *out, char *err, size_t errlen);
/* The same from JSON text. */
spate_status_t spate_format_user_text(const char *json, size_t len, spate_buf_t *out, char *err,
                                      size_t errlen);

/* ================================================================== */
/* JSON reading for hot paths                                          */
/* ================================================================== */

typedef struct {
    int line, column; /* 1-based; the column counts bytes */
    size_t position;  /* byte offset of the error */
    char text[160];   /* the reason */
} spate_json_error_t;

/* Parses JSON text into a new jansson value: what json_loadb(buf, len,
 * JSON_DECODE_ANY, …) returns, several times faster (source_json.c).
 * NULL on invalid input, with err (may be NULL) filled in. */
json_t *spate_json_loadb(const char *buf, size_t len, spate_json_error_t *err);

/* One member of a flat JSON object: key and string value as they appear
 * between their quotes (nothing to unescape). */
typedef struct {
    const char *k, *v;
    uint32_t kn, vn;
} spate_json_field_t;

/* Reads buf as a JSON object whose values are all strings and in which no
 * key or value has an escape, no key repeats, and there are at most cap
 * members: the stream's fast path for records of plain text fields
 * (stream_map.c, spate_stream_prog_run_flat). True with the members, in
 * order, in f[0..*n) pointing into buf — exactly the object
 * spate_json_loadb would build, key for key and string for string. False
 * for anything else, valid or not: the caller then takes the general
 * path, which gives the reason. */
bool spate_json_flat_scan(const char *buf, size_t len, spate_json_field_t *f, size_t cap,
                          size_t *n);

/* Makes jansson allocate through a per-thread cache of small blocks
 * (source_jalloc.c). Call first thing in main, before any jansson value
 * exists. From then on text from json_dumps is not free()-able: use
 * spate_json_dumps. */
void spate_json_alloc_install(void);

/* json_dumps, but the text is malloc'd (free() it); NULL on failure. */
char *spate_json_dumps(const json_t *v, size_t flags);

/* ================================================================== */
/* fetch                                                               */
/* ================================================================== */

typedef struct {
    const char *url;        /* e.g. http://127.0.0.1:8088/api/ (query allowed) */
    int64_t count;          /* users wanted */
    int batch;              /* results per request, 1..5000 (default 5000) */
    int timeout_ms;         /* per request (default 30000) */
    int connect_timeout_ms; /* default 5000 */
    int retries;            /* retries per request after the first try (default 5) */
    int backoff_ms;         /* first backoff (default 200), doubled each retry */
    int backoff_max_ms;     /* cap (default 30000) */
    bool progress;          /* live progress line on stderr */
} spate_fetch_conf_t;

void spate_fetch_conf_default(spate_fetch_conf_t *c);

/* Called for each raw result object (borrowed; valid during the call).
 * Return SPATE_OK to go on, anything else to stop the fetch with that
 * status. */
typedef spate_status_t (*spate_fetch_cb)(void *ctx, const json_t *result);

typedef struct {
    int64_t users;    /* results handed to the callback */
    int64_t requests; /* HTTP requests made, retries included */
    int64_t retries;  /* of which retries */
    int64_t empty;    /* responses with no results */
    int64_t elapsed_ms;
} spate_fetch_stats_t;

/* Fetches until c->count results were delivered. Retries timeouts,
 * connection errors, 5xx, 429 (honouring Retry-After) and empty results
 * with exponential backoff and full jitter; gives up after c->retries
 * consecutive failures with SPATE_ERR and a message in err. */
spate_status_t spate_fetch_run(const spate_fetch_conf_t *c, spate_fetch_cb cb, void *ctx,
                               spate_fetch_stats_t *stats, char *err, size_t errlen);

#endif /* SPATE_SOURCE_H */
