/*
 * source_fetch.c — pulls users from a randomuser-compatible API (libcurl).
 *
 * The seed DAG called the API in a tight loop with no timeout, no status
 * check and no retry, and an empty "results" array (the 2026 outage shape)
 * raised IndexError that was swallowed (seed-reference §5, bug 3). This
 * client asks for min(batch, remaining) users per request and survives a
 * flaky or throttling API:
 *
 *   outcome of one request            action
 *   --------------------------------  -----------------------------------
 *   2xx, "results" = non-empty array  deliver (only as many as still
 *     of objects                        needed), reset the failure count
 *   timeout, connection/transfer err  retry
 *   HTTP 5xx                          retry
 *   HTTP 429                          retry, waiting at least Retry-After
 *                                       (delta-seconds or HTTP-date)
 *   2xx with empty results            retry (counted in stats.empty)
 *   2xx with an unparsable body       retry
 *   other 4xx / 3xx, a bad URL, ...   fail at once
 *
 * Retries use exponential backoff with full jitter: before retry k
 * (k = 0, 1, ...) sleep a uniform random time in
 * [0, min(backoff_max_ms, backoff_ms * 2^k)], raised to Retry-After when
 * the server sent one, and never above backoff_max_ms. After c->retries
 * consecutive failed retries of one request the fetch fails with SPATE_ERR
 * and "<url>: <last problem> after <n> tries" in err.
 *
 * Request URLs: the caller's URL with its results= replaced by
 * results=min(batch, remaining). When the URL carries a non-empty seed=,
 * the same seed would give the same users on every request, so page= is
 * set too: it starts at the URL's own page= (default 1) and moves on by one
 * per successful request. Same URL + same count → same users, which makes
 * seeded fetches reproducible.
 *
 * One curl easy handle is reused for the whole run so the connection is
 * kept alive. Results are borrowed by the callback for the duration of the
 * call only; the parsed body is freed after the last callback of its batch.
 */
#include "source.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#ifndef SPATE_VERSION
#define SPATE_VERSION "dev"
#endif

#define FETCH_MAX_BODY (256u << 20) /* 5000 users are ~6 MB; anything far larger is not an API */

void spate_fetch_conf_default(spate_fetch_conf_t *c) {
    memset(c, 0, sizeof *c);
    c->count = 1;
    c->batch = SPATE_RU_MAX_RESULTS;
    c->timeout_ms = 30000;
    c->connect_timeout_ms = 5000;
    c->retries = 5;
    c->backoff_ms = 200;
    c->backoff_max_ms = 30000;
    c->progress = false;
}

typedef enum { TRY_OK, TRY_RETRY, TRY_FATAL } try_outcome_t;

typedef struct {
    const spate_fetch_conf_t *c;
    CURL *curl;
    char curl_err[CURL_ERROR_SIZE];
    spate_buf_t body;
    bool body_too_big;
    int64_t retry_after_ms; /* from the last response; -1 when none */
    char said[256];         /* the last response's JSON "error" string, or "" */

    /* The caller's URL split once: everything before '?', and the query
     * pairs to keep (results=, and page= when seeded, removed). */
    char *base;
    spate_buf_t kept;
    bool seeded;
    int64_t page;
    spate_buf_t url; /* the current request's URL */

    uint64_t rng;
    int64_t start_ms;
    bool progress_shown; /* a \r line is on screen without its newline */
} fetch_t;

static void set_err(char *err, size_t errlen, const char *fmt, ...) SPATE_PRINTF(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* splitmix64: only jitter depends on it, so quality needs are modest. */
static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ---- URL building ---- */

static bool key_is(const char *pair, size_t n, const char *key) {
    size_t k = strlen(key);
    return n >= k && memcmp(pair, key, k) == 0 && (n == k || pair[k] == '=');
}

/* Splits the caller's URL; a fragment is dropped (never sent anyway). */
static spate_status_t url_split(fetch_t *f, const char *url) {
    size_t ulen = strcspn(url, "#");
    size_t qpos = strcspn(url, "?");
    if (qpos > ulen) qpos = ulen;
    f->base = spate_xmalloc(qpos + 1);
    memcpy(f->base, url, qpos);
    f->base[qpos] = '\0';
    const char *q = qpos < ulen ? url + qpos + 1 : url + ulen;
    const char *qend = url + ulen;

    /* Pass 1: is there a non-empty seed? */
    for (const char *p = q; p < qend;) {
        const char *amp = memchr(p, '&', (size_t)(qend - p));
        size_t n = amp ? (size_t)(amp - p) : (size_t)(qend - p);
        if (key_is(p, n, "seed") && n > 5) f->seeded = true;
        p += n + 1;
    }
    /* Pass 2: keep everything but results= (and page= when seeded, whose
     * value becomes the first page). */
    f->page = 1;
    for (const char *p = q; p < qend;) {
        const char *amp = memchr(p, '&', (size_t)(qend - p));
        size_t n = amp ? (size_t)(amp - p) : (size_t)(qend - p);
        if (n == 0 || key_is(p, n, "results")) {
            p += n + 1;
            continue;
        }
        if (f->seeded && key_is(p, n, "page")) {
            char v[24];
            size_t vn = SPATE_MIN(n - 5, sizeof v - 1);
            memcpy(v, p + 5, vn);
            v[vn] = '\0';
            int64_t page;
            if (spate_parse_i64(v, 1, INT32_MAX, &page) == SPATE_OK) f->page = page;
            p += n + 1;
            continue;
        }
        if (f->kept.len && spate_buf_putc(&f->kept, '&') != SPATE_OK) return SPATE_ENOMEM;
        if (spate_buf_append(&f->kept, p, n) != SPATE_OK) return SPATE_ENOMEM;
        p += n + 1;
    }
    return SPATE_OK;
}

static spate_status_t url_build(fetch_t *f, int64_t results) {
    spate_buf_reset(&f->url);
    spate_status_t st =
        spate_buf_printf(&f->url, "%s?%s%sresults=%" PRId64, f->base,
                         f->kept.len ? f->kept.data : "", f->kept.len ? "&" : "", results);
    if (st == SPATE_OK && f->seeded) st = spate_buf_printf(&f->url, "&page=%" PRId64, f->page);
    return st;
}

/* ---- curl callbacks ---- */

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
    fetch_t *f = ud;
    size_t len = size * n;
    if (f->body.len + len > FETCH_MAX_BODY) {
        f->body_too_big = true;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    if (spate_buf_append(&f->body, p, len) != SPATE_OK) return 0;
    return len;
}

/* Retry-After: either delta-seconds or an HTTP-date (RFC 9110 §10.2.3). */
static int64_t parse_retry_after(const char *v) {
    if (*v >= '0' && *v <= '9') {
        int64_t s;
        if (spate_parse_i64(v, 0, INT64_MAX / 1000, &s) == SPATE_OK) return s * 1000;
        return -1;
    }
    time_t t = curl_getdate(v, NULL);
    if (t == -1) return -1;
    time_t now = time(NULL);
    return t > now ? (int64_t)(t - now) * 1000 : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
    fetch_t *f = ud;
    size_t len = size * n;
    /* A new status line (after a redirect or a 100 Continue) starts a new
     * response: forget headers of the previous one. */
    if (len >= 5 && strncasecmp(p, "HTTP/", 5) == 0) {
        f->retry_after_ms = -1;
        return len;
    }
    static const char name[] = "retry-after:";
    size_t nl = sizeof name - 1;
    if (len > nl && strncasecmp(p, name, nl) == 0) {
        const char *v = p + nl, *end = p + len;
        while (v < end && (*v == ' ' || *v == '\t')) v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
        char val[128];
        size_t vn = SPATE_MIN((size_t)(end - v), sizeof val - 1);
        memcpy(val, v, vn);
        val[vn] = '\0';
        f->retry_after_ms = parse_retry_after(val);
    }
    return len;
}

/* ---- one request ---- */

/* Keeps the "error" string of a JSON body (randomuser's error shape) for
 * the final message; "" when there is none. */
static void keep_body_error(fetch_t *f, json_t *root) {
    json_t *e = json_is_object(root) ? json_object_get(root, "error") : NULL;
    snprintf(f->said, sizeof f->said, "%s", json_is_string(e) ? json_string_value(e) : "");
}

static bool curl_code_retryable(CURLcode rc) {
    switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_WRITE_ERROR:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_LOGIN_DENIED:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_FUNCTION_NOT_FOUND: return false;
    default: return true;
    }
}

static const char *curl_code_kind(CURLcode rc) {
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return "connection error";
    default: return "transfer error";
    }
}

/* Makes one request for f->url. On TRY_OK, *rootp holds the parsed body
 * (the caller decrefs it) and *resultsp its non-empty "results" array of
 * objects. Otherwise `why` describes the problem and *empty tells whether
 * it was an empty results array. */
static try_outcome_t fetch_try(fetch_t *f, json_t **rootp, json_t **resultsp, bool *empty,
                               char *why, size_t whylen) {
    *rootp = NULL;
    *empty = false;
    spate_buf_reset(&f->body);
    f->body_too_big = false;
    f->retry_after_ms = -1;
    f->curl_err[0] = '\0';
    f->said[0] = '\0';
    curl_easy_setopt(f->curl, CURLOPT_URL, f->url.data);

    int64_t t0 = spate_mono_ms();
    CURLcode rc = curl_easy_perform(f->curl);
    if (rc != CURLE_OK) {
        const char *detail = f->curl_err[0] ? f->curl_err : curl_easy_strerror(rc);
        if (f->body_too_big) {
            set_err(why, whylen, "response body larger than %u MiB", FETCH_MAX_BODY >> 20);
            return TRY_FATAL;
        }
        if (!curl_code_retryable(rc)) {
            set_err(why, whylen, "%s", detail);
            return TRY_FATAL;
        }
        set_err(why, whylen, "%s (%s)", curl_code_kind(rc), detail);
        return TRY_RETRY;
    }
    long status = 0;
    curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &status);
    spate_log(SPATE_LOG_DEBUG, "fetch", "%s: HTTP %ld, %zu bytes in %" PRId64 " ms", f->url.data,
              status, f->body.len, spate_mono_ms() - t0);

    spate_json_error_t jerr;
    json_t *root = f->body.len ? spate_json_loadb(f->body.data, f->body.len, &jerr) : NULL;
    keep_body_error(f, root);
    if (status < 200 || status > 299) {
        set_err(why, whylen, "HTTP %ld", status);
        json_decref(root);
        return status == 429 || (status >= 500 && status <= 599) ? TRY_RETRY : TRY_FATAL;
    }
    if (!root) {
        if (f->body.len)
            set_err(why, whylen, "unparsable body (line %d column %d: %s)", jerr.line, jerr.column,
                    jerr.text);
        else
            set_err(why, whylen, "empty body");
        return TRY_RETRY;
    }
    json_t *results = json_is_object(root) ? json_object_get(root, "results") : NULL;
    if (!json_is_array(results)) {
        set_err(why, whylen, "no \"results\" array in the body");
        json_decref(root);
        return TRY_RETRY;
    }
    size_t n = json_array_size(results);
    if (n == 0) {
        set_err(why, whylen, "the API returned empty results");
        *empty = true;
        json_decref(root);
        return TRY_RETRY;
    }
    for (size_t i = 0; i < n; i++) {
        if (!json_is_object(json_array_get(results, i))) {
            set_err(why, whylen, "results[%zu] is not an object", i);
            json_decref(root);
            return TRY_RETRY;
        }
    }
    *rootp = root;
    *resultsp = results;
    return TRY_OK;
}

/* Full jitter: uniform in [0, min(max, base * 2^attempt)]. */
static int64_t backoff_ms(fetch_t *f, int attempt) {
    int64_t cap = f->c->backoff_ms;
    for (int i = 0; i < attempt && cap < f->c->backoff_max_ms; i++) cap *= 2;
    cap = SPATE_MIN(cap, (int64_t)f->c->backoff_max_ms);
    if (cap <= 0) return 0;
    return (int64_t)(rng_next(&f->rng) % (uint64_t)(cap + 1));
}

/* ---- progress ---- */

static void fmt_duration(double s, char *out, size_t outlen) {
    if (s < 60)
        snprintf(out, outlen, "%.1f s", s);
    else if (s < 3600)
        snprintf(out, outlen, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(out, outlen, "%dh%02dm", (int)(s / 3600), (int)s % 3600 / 60);
}

static void progress_print(fetch_t *f, int64_t users) {
    double el = (double)(spate_mono_ms() - f->start_ms) / 1000.0;
    double rate = el > 0 ? (double)users / el : 0;
    char eta[32] = "?";
    if (rate > 0) fmt_duration((double)(f->c->count - users) / rate, eta, sizeof eta);
    fprintf(stderr, "\rfetch: %" PRId64 "/%" PRId64 " users (%d%%), %.0f users/s, ETA %s    ",
            users, f->c->count, (int)(users * 100 / (f->c->count ? f->c->count : 1)), rate, eta);
    fflush(stderr);
    f->progress_shown = true;
}

/* Ends the progress line so that a log line or the caller's output starts
 * on a line of its own. */
static void progress_break(fetch_t *f) {
    if (!f->progress_shown) return;
    fputc('\n', stderr);
    f->progress_shown = false;
}

/* ---- the run ---- */

static bool conf_check(const spate_fetch_conf_t *c, char *err, size_t errlen) {
    if (!c->url || !*c->url) {
        set_err(err, errlen, "no URL given");
        return false;
    }
    if (c->count < 0 || c->batch < 1 || c->batch > SPATE_RU_MAX_RESULTS || c->timeout_ms < 1 ||
        c->connect_timeout_ms < 0 || c->retries < 0 || c->backoff_ms < 0 || c->backoff_max_ms < 0) {
        set_err(err, errlen,
                "bad fetch settings (count %" PRId64 ", batch %d, timeout %d ms, retries %d)",
                c->count, c->batch, c->timeout_ms, c->retries);
        return false;
    }
    return true;
}

static spate_status_t curl_setup(fetch_t *f, char *err, size_t errlen) {
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        set_err(err, errlen, "libcurl init failed: %s", curl_easy_strerror(curl_init_rc));
        return SPATE_ERR;
    }
    f->curl = curl_easy_init();
    if (!f->curl) {
        set_err(err, errlen, "libcurl: cannot create a handle");
        return SPATE_ERR;
    }
    CURL *h = f->curl;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)f->c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)f->c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* whatever libcurl can decode */
    curl_easy_setopt(h, CURLOPT_USERAGENT, "spate/" SPATE_VERSION);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, f->curl_err);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, f);
    return SPATE_OK;
}

spate_status_t spate_fetch_run(const spate_fetch_conf_t *c, spate_fetch_cb cb, void *ctx,
                               spate_fetch_stats_t *stats, char *err, size_t errlen) {
    spate_fetch_stats_t local;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    if (err && errlen) err[0] = '\0';
    if (!conf_check(c, err, errlen)) return SPATE_EINVAL;

    fetch_t f;
    memset(&f, 0, sizeof f);
    f.c = c;
    f.start_ms = spate_mono_ms();
    f.rng = (uint64_t)spate_mono_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&f;
    spate_status_t st = curl_setup(&f, err, errlen);
    if (st != SPATE_OK) goto done;
    if ((st = url_split(&f, c->url)) != SPATE_OK) {
        set_err(err, errlen, "out of memory");
        goto done;
    }
    if (c->progress) progress_print(&f, 0);

    while (stats->users < c->count) {
        int64_t want = SPATE_MIN((int64_t)c->batch, c->count - stats->users);
        if ((st = url_build(&f, want)) != SPATE_OK) {
            set_err(err, errlen, "out of memory");
            goto done;
        }
        json_t *root = NULL, *results = NULL;
        char why[512];
        int fails = 0;
        for (;;) {
            bool empty;
            stats->requests++;
            try_outcome_t out = fetch_try(&f, &root, &results, &empty, why, sizeof why);
            if (empty) stats->empty++;
            if (out == TRY_OK) break;
            if (out == TRY_FATAL) {
                set_err(err, errlen, "%s: %s%s%s%s", f.url.data, why,
                        f.said[0] ? " (server said: " : "", f.said, f.said[0] ? ")" : "");
                st = SPATE_ERR;
                goto done;
            }
            if (fails >= c->retries) {
                set_err(err, errlen, "%s: %s after %d tr%s%s%s%s", f.url.data, why, fails + 1,
                        fails ? "ies" : "y", f.said[0] ? " (server said: " : "", f.said,
                        f.said[0] ? ")" : "");
                st = SPATE_ERR;
                goto done;
            }
            int64_t wait = backoff_ms(&f, fails);
            if (f.retry_after_ms > wait) wait = SPATE_MIN(f.retry_after_ms, c->backoff_max_ms);
            fails++;
            stats->retries++;
            progress_break(&f);
            spate_log(SPATE_LOG_WARN, "fetch", "%s: %s; retry %d/%d in %" PRId64 " ms", f.url.data,
                      why, fails, c->retries, wait);
            spate_sleep_ms(wait);
        }

        size_t n = json_array_size(results);
        if ((int64_t)n > c->count - stats->users) n = (size_t)(c->count - stats->users);
        for (size_t i = 0; i < n; i++) {
            st = cb(ctx, json_array_get(results, i));
            if (st != SPATE_OK) {
                json_decref(root);
                set_err(err, errlen, "stopped by the consumer (%s) after %" PRId64 " users",
                        spate_status_str(st), stats->users);
                goto done;
            }
            stats->users++;
        }
        json_decref(root);
        f.page++;
        if (c->progress) progress_print(&f, stats->users);
    }
    st = SPATE_OK;

done:
    progress_break(&f);
    stats->elapsed_ms = spate_mono_ms() - f.start_ms;
    if (f.curl) curl_easy_cleanup(f.curl);
    free(f.base);
    spate_buf_free(&f.kept);
    spate_buf_free(&f.url);
    spate_buf_free(&f.body);
    return st;
}
