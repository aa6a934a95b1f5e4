/*
 * sched_ha.c — leader election among schedulers through ZooKeeper
 * (libzookeeper-mt), so several `spate scheduler` processes can share one
 * metadata database with exactly one of them scheduling.
 *
 * The recipe (ZooKeeper's own "leader election" recipe, as Curator's
 * LeaderLatch does it): every candidate creates an ephemeral sequential
 * znode under the election path; the lowest sequence leads; every other
 * candidate watches only its predecessor (no herd effect when the leader
 * goes).
 *
 *   <path>/                         persistent, created on demand
 *     candidate-0000000007  ← lowest: the leader      data "host:pid"
 *     candidate-0000000008  ─ watches ...07           (ephemeral, gone
 *     candidate-0000000011  ─ watches ...08            with the session)
 *
 * One thread per handle runs the election with the synchronous API; the
 * library's own threads (I/O, completion) only call watcher(), which sets
 * flags and wakes that thread:
 *
 *        ┌──────── session expired / node gone ──────────┐
 *        ▼                                               │
 *   CONNECTING ─connected─▶ CANDIDATE ─lowest─▶ LEADER ──┘
 *        ▲                     │  ▲
 *        └─ zookeeper_init ◀───┘  └─ predecessor deleted: re-check
 *           (after expiry)
 *
 * Invariant (why is_leader is safe): the server expires a session only
 * after session_timeout without hearing from the client, and the other
 * candidates can lead only after that. Each heartbeat (a getChildren
 * round trip, every timeout/6) records the monotonic time at which it was
 * *sent*; is_leader() is true only while the newest successful heartbeat
 * is younger than 2/3 of the negotiated timeout. So a leader cut off from
 * ZooKeeper stops by itself at least timeout/3 before anybody else can
 * start, whatever its threads are doing; it does not need to be told.
 * Session expiry, or our node missing from the children, clears the flag
 * at once.
 *
 * A create that fails with connection loss may still have created the
 * node: before creating, the thread adopts any candidate whose
 * ephemeralOwner is its own session, so no orphan candidate (which would
 * block the election until our session ended) is left behind.
 */
#include "sched.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
/* The synchronous calls (zoo_create, zoo_get_children, ...) are declared
 * only for the multi-threaded library, which is the one we link. */
#ifndef THREADED
#define THREADED
#endif
#include <zookeeper/zookeeper.h>

#define LOG "sched-ha"
#define PREFIX "candidate-"
#define ZPATH_MAX 512

struct spate_sched_ha {
    char *hosts;
    char *path; /* election folder, no trailing '/' */
    char data[192];
    int session_ms; /* requested */

    pthread_t thread;
    bool thread_started;

    /* Under mu: what watcher() reports, and the stop request. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int zstate;   /* last session state seen (0 = none yet) */
    bool recheck; /* a watched predecessor changed */
    bool stop;

    /* Read by is_leader() from any thread. */
    atomic_bool leader;
    atomic_int_fast64_t last_ok_ms; /* mono time a successful heartbeat was sent */
    atomic_int margin_ms;           /* 2/3 of the negotiated timeout */

    /* The election thread's own. */
    zhandle_t *zh;
    char node[ZPATH_MAX]; /* our full candidate path, "" = none */
};

/* ------------------------------------------------------------------ */
/* Callbacks from the library's threads                                */
/* ------------------------------------------------------------------ */

static void zk_log(const char *msg) { spate_log(SPATE_LOG_DEBUG, "zookeeper", "%s", msg); }

static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
    SPATE_UNUSED(zh);
    SPATE_UNUSED(path);
    spate_sched_ha_t *h = ctx;
    if (!h) return;
    pthread_mutex_lock(&h->mu);
    if (type == ZOO_SESSION_EVENT) {
        h->zstate = state;
        if (state == ZOO_EXPIRED_SESSION_STATE) atomic_store(&h->leader, false);
    } else {
        h->recheck = true; /* predecessor deleted (or changed): look again */
    }
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

/* ------------------------------------------------------------------ */
/* Election steps (election thread only)                               */
/* ------------------------------------------------------------------ */

/* Waits on cv until `ms` passed, an event arrived or stop; returns
 * with mu held. */
static void wait_locked(spate_sched_ha_t *h, int64_t ms) {
    if (h->stop || h->recheck || ms <= 0) return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&h->cv, &h->mu, &ts);
}

static void set_leader(spate_sched_ha_t *h, bool on) {
    bool was = atomic_exchange(&h->leader, on);
    if (was != on)
        spate_log(SPATE_LOG_INFO, LOG, "%s %s", h->node[0] ? h->node : h->path,
                  on ? "is the lowest candidate" : "is no longer the leader candidate");
}

/* Creates every missing folder of h->path (persistent, empty). */
static int ensure_path(spate_sched_ha_t *h) {
    char p[ZPATH_MAX];
    snprintf(p, sizeof p, "%s", h->path);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != 0) continue;
        char c = *s;
        *s = 0;
        int rc = zoo_create(h->zh, p, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
        *s = c;
        if (rc != ZOK && rc != ZNODEEXISTS) return rc;
        if (c == 0) return ZOK;
    }
}

/* Sequence of a child name "candidate-0000000012", or -1 for a name that
 * is not one of ours. */
static long long child_seq(const char *name) {
    size_t n = strlen(PREFIX);
    if (strncmp(name, PREFIX, n) != 0 || !name[n]) return -1;
    long long v = 0;
    for (const char *c = name + n; *c; c++) {
        if (*c < '0' || *c > '9' || v > (1LL << 40)) return -1;
        v = v * 10 + (*c - '0');
    }
    return v;
}

/* Adopts a candidate already owned by our session (a create whose reply
 * was lost), or creates one. */
static int make_candidate(spate_sched_ha_t *h) {
    int rc = ensure_path(h);
    if (rc != ZOK) return rc;
    const clientid_t *cid = zoo_client_id(h->zh);
    struct String_vector kids = {0};
    rc = zoo_get_children(h->zh, h->path, 0, &kids);
    if (rc != ZOK) return rc;
    for (int i = 0; i < kids.count && !h->node[0]; i++) {
        if (child_seq(kids.data[i]) < 0) continue;
        char full[ZPATH_MAX];
        snprintf(full, sizeof full, "%s/%s", h->path, kids.data[i]);
        struct Stat st;
        if (zoo_exists(h->zh, full, 0, &st) == ZOK && cid && st.ephemeralOwner == cid->client_id)
            snprintf(h->node, sizeof h->node, "%s", full);
    }
    deallocate_String_vector(&kids);
    if (h->node[0]) {
        spate_log(SPATE_LOG_INFO, LOG, "candidate %s (adopted)", h->node);
        return ZOK;
    }
    char want[ZPATH_MAX];
    snprintf(want, sizeof want, "%s/" PREFIX, h->path);
    rc = zoo_create(h->zh, want, h->data, (int)strlen(h->data), &ZOO_OPEN_ACL_UNSAFE,
                    ZOO_EPHEMERAL_SEQUENTIAL, h->node, (int)sizeof h->node);
    if (rc != ZOK) {
        h->node[0] = 0;
        return rc;
    }
    spate_log(SPATE_LOG_INFO, LOG, "candidate %s (%s)", h->node, h->data);
    return ZOK;
}

/* The heartbeat and the election step in one round trip: lists the
 * candidates; leader when ours is the lowest, else watches the one just
 * below ours. ZNONODE: our node is gone (h->node cleared). */
static int check_position(spate_sched_ha_t *h) {
    int64_t sent = spate_mono_ms();
    struct String_vector kids = {0};
    int rc = zoo_get_children(h->zh, h->path, 0, &kids);
    if (rc == ZNONODE) { /* the election folder itself was deleted */
        spate_log(SPATE_LOG_WARN, LOG, "election path %s disappeared", h->path);
        set_leader(h, false);
        h->node[0] = 0;
        return ZNONODE;
    }
    if (rc != ZOK) return rc;
    atomic_store(&h->last_ok_ms, sent);
    const char *mine = strrchr(h->node, '/') + 1;
    long long my = child_seq(mine), best = -1;
    bool found = false, lowest = true;
    char pred[ZPATH_MAX] = "";
    for (int i = 0; i < kids.count; i++) {
        long long q = child_seq(kids.data[i]);
        if (q < 0) continue;
        if (!strcmp(kids.data[i], mine)) found = true;
        if (q < my) {
            lowest = false;
            if (q > best) {
                best = q;
                snprintf(pred, sizeof pred, "%s/%s", h->path, kids.data[i]);
            }
        }
    }
    deallocate_String_vector(&kids);
    if (!found) {
        spate_log(SPATE_LOG_WARN, LOG, "candidate %s disappeared", h->node);
        set_leader(h, false);
        h->node[0] = 0;
        return ZNONODE;
    }
    if (lowest) {
        set_leader(h, true);
        return ZOK;
    }
    set_leader(h, false);
    struct Stat st;
    rc = zoo_wexists(h->zh, pred, watcher, h, &st);
    if (rc == ZNONODE) { /* went between the two calls: look again now */
        pthread_mutex_lock(&h->mu);
        h->recheck = true;
        pthread_mutex_unlock(&h->mu);
        return ZOK;
    }
    return rc;
}

static void close_session(spate_sched_ha_t *h, bool resign) {
    set_leader(h, false);
    if (!h->zh) return;
    if (resign && h->node[0]) zoo_delete(h->zh, h->node, -1);
    zookeeper_close(h->zh);
    h->zh = NULL;
    h->node[0] = 0;
    pthread_mutex_lock(&h->mu);
    h->zstate = 0;
    pthread_mutex_unlock(&h->mu);
}

static int open_session(spate_sched_ha_t *h) {
    h->zh = zookeeper_init2(h->hosts, watcher, h->session_ms, NULL, h, 0, zk_log);
    return h->zh ? 0 : -1;
}

static void *election_main(void *arg) {
    spate_sched_ha_t *h = arg;
    int64_t hb_ms = SPATE_MAX(100, h->session_ms / 6);
    int64_t next_hb = 0;
    int seen = -1; /* session state of the previous pass */
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        int zstate = h->zstate;
        bool recheck = h->recheck;
        h->recheck = false;
        pthread_mutex_unlock(&h->mu);
        if (zstate != seen) { /* (re)connected: look at once */
            recheck = true;
            seen = zstate;
        }

        if (!h->zh) {
            if (open_session(h) != 0) {
                spate_log(SPATE_LOG_WARN, LOG, "zookeeper %s: %s", h->hosts, strerror(errno));
                pthread_mutex_lock(&h->mu);
                wait_locked(h, hb_ms);
                continue;
            }
            zstate = 0;
        }
        if (zstate == ZOO_EXPIRED_SESSION_STATE) {
            spate_log(SPATE_LOG_WARN, LOG, "zookeeper session expired; starting a new one");
            close_session(h, false);
            pthread_mutex_lock(&h->mu);
            continue;
        }
        int64_t now = spate_mono_ms();
        if (zstate == ZOO_CONNECTED_STATE) {
            int rto = zoo_recv_timeout(h->zh);
            if (rto > 0) atomic_store(&h->margin_ms, SPATE_MIN(rto, h->session_ms) * 2 / 3);
            int rc = ZOK;
            if (!h->node[0]) {
                rc = make_candidate(h);
                if (rc != ZOK) {
                    spate_log(SPATE_LOG_WARN, LOG, "candidate under %s: %s", h->path, zerror(rc));
                    next_hb = now + hb_ms; /* try again a heartbeat later */
                }
                recheck = rc == ZOK;
            }
            if (h->node[0] && (recheck || now >= next_hb)) {
                rc = check_position(h);
                next_hb = now + hb_ms;
                if (rc != ZOK && rc != ZNONODE)
                    spate_log(SPATE_LOG_DEBUG, LOG, "check %s: %s", h->path, zerror(rc));
                if (rc == ZNONODE) {
                    pthread_mutex_lock(&h->mu);
                    continue; /* create a new candidate at once */
                }
            }
        }
        pthread_mutex_lock(&h->mu);
        if (h->zstate == zstate) wait_locked(h, SPATE_MAX(1, next_hb - spate_mono_ms()));
    }
    pthread_mutex_unlock(&h->mu);
    close_session(h, true);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */
/* ------------------------------------------------------------------ */

static pthread_once_t zk_log_once = PTHREAD_ONCE_INIT;
static void zk_log_init(void) { zoo_set_debug_level(ZOO_LOG_LEVEL_WARN); }

spate_status_t spate_sched_ha_start(spate_sched_ha_t **out, const char *hosts, const char *path,
                                    int session_ms, char *err, size_t errlen) {
    *out = NULL;
    if (!hosts || !*hosts) {
        snprintf(err, errlen, "zookeeper: no hosts");
        return SPATE_EINVAL;
    }
    if (!path || !*path) path = "/spate/scheduler";
    size_t plen = strlen(path);
    while (plen > 1 && path[plen - 1] == '/') plen--;
    if (path[0] != '/' || plen < 2 || plen > ZPATH_MAX - 32 || strstr(path, "//")) {
        snprintf(err, errlen, "zk_path '%s': must be an absolute znode path like /spate/scheduler",
                 path);
        return SPATE_EINVAL;
    }
    pthread_once(&zk_log_once, zk_log_init);
    spate_status_t st;
    spate_sched_ha_t *h = spate_xcalloc(1, sizeof(*h));
    h->hosts = spate_xstrdup(hosts);
    h->path = spate_xmalloc(plen + 1);
    memcpy(h->path, path, plen);
    h->path[plen] = 0;
    h->session_ms = session_ms > 0 ? session_ms : 6000;
    atomic_init(&h->leader, false);
    atomic_init(&h->last_ok_ms, INT64_MIN / 2);
    atomic_init(&h->margin_ms, h->session_ms * 2 / 3);
    char host[128];
    if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = 0;
    snprintf(h->data, sizeof h->data, "%s:%d", host, (int)getpid());
    pthread_mutex_init(&h->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cv, &ca);
    pthread_condattr_destroy(&ca);
    /* The first session is opened here so a malformed host list is the
     * caller's error, not a log line. */
    errno = 0;
    if (open_session(h) != 0) {
        int e = errno;
        snprintf(err, errlen, "zookeeper '%s': %s", hosts,
                 e && e != EINVAL ? strerror(e) : "not a host:port[,host:port...] list");
        st = e && e != EINVAL ? SPATE_ERR : SPATE_EINVAL;
        goto err;
    }
    int rc = pthread_create(&h->thread, NULL, election_main, h);
    st = SPATE_ERR;
    if (rc != 0) {
        snprintf(err, errlen, "zookeeper: thread: %s", strerror(rc));
        goto err;
    }
    h->thread_started = true;
    spate_log(SPATE_LOG_INFO, LOG, "leader election: zookeeper %s, path %s, session %d ms", hosts,
              h->path, h->session_ms);
    *out = h;
    return SPATE_OK;
err:
    spate_sched_ha_stop(h);
    return st;
}

bool spate_sched_ha_is_leader(spate_sched_ha_t *h) {
    if (!h || !atomic_load(&h->leader)) return false;
    return spate_mono_ms() - atomic_load(&h->last_ok_ms) < atomic_load(&h->margin_ms);
}

void spate_sched_ha_stop(spate_sched_ha_t *h) {
    if (!h) return;
    atomic_store(&h->leader, false);
    if (h->thread_started) {
        pthread_mutex_lock(&h->mu);
        h->stop = true;
        pthread_cond_signal(&h->cv);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->thread, NULL);
    } else if (h->zh) {
        zookeeper_close(h->zh);
    }
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h->hosts);
    free(h->path);
    free(h);
}
