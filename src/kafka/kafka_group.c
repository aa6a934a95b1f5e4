/*
 * kafka_group.c — the group coordinator: FindCoordinator v0-2, JoinGroup
 * v0-5, SyncGroup v0-3, Heartbeat v0-3, LeaveGroup v0-3, OffsetCommit v2-7,
 * OffsetFetch v1-5, ListGroups v0-2, DescribeGroups v0-2, DeleteGroups v0-1
 * (all non-flexible).
 *
 * This node coordinates every group. A group's life (one function,
 * group_set_state, changes it):
 *
 *            join                    every member rejoined,
 *   Empty ───────▶ PreparingRebalance ─── or rebalance timeout ──▶ CompletingRebalance
 *     ▲             ▲   ▲                                              │
 *     │ last member │   └── join / leave / session expiry ──┐          │ leader's
 *     │ gone        │                                       │          ▼ SyncGroup
 *     └─────────────┴────── (completes with no members) ◀── Stable ◀──┘
 *
 * JoinGroup and a follower's SyncGroup wait (KAFKA_WAIT_GROUP waiters) until
 * the rebalance gets far enough; a member's session is kept alive by its
 * heartbeats and by any request it has waiting. Members that did not rejoin
 * when a rebalance completes are dropped. A first JoinGroup v4+ without a
 * member id is answered MEMBER_ID_REQUIRED with a fresh "<client_id>-<uuid>"
 * (KIP-394); a member id the group does not know is accepted as a new
 * member rather than refused, which is more tolerant and leaves no pending
 * ids to expire. Static membership (group_instance_id) is read and ignored.
 *
 * Committed offsets live in memory per group and in one append-only file,
 * <data_dir>/__consumer_offsets.log, of records
 *
 *   u32 length of the payload | u32 crc32c(payload) | payload:
 *   str16 group | str16 topic | i32 partition | i64 offset | str16 metadata (-1 null)
 *
 * replayed in order at start (the last record for a partition wins; a torn
 * or corrupt tail is cut off). A durable broker answers OffsetCommit after
 * the file's fsync, done by the before-sleep group commit with the acks=all
 * produces (kafka_server.c), so a commit that was answered survives kill -9.
 * When the file has grown past twice its last compacted size + 1 MiB it is
 * rewritten from memory (temp file, fsync, rename, fsync dir).
 *
 * DeleteGroups drops the groups from memory and then rewrites the file the
 * same way, before answering: the record format has no tombstone, and a
 * rewrite is durable at once (its own fsync and rename) where an appended
 * tombstone would wait for the group commit. Deleting groups is rare, so
 * the cost of a rewrite is fine. If the rewrite fails the groups are put
 * back and KAFKA_STORAGE_ERROR answered: memory never runs ahead of disk.
 */
#include "kafka_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define SESSION_MIN_MS 6000
#define SESSION_MAX_MS 1800000
#define TICK_MS 100
#define OFFSETS_FILE "__consumer_offsets.log"
#define COMPACT_SLACK (1 << 20)

typedef enum {
    GROUP_EMPTY,
    GROUP_PREPARING_REBALANCE,
    GROUP_COMPLETING_REBALANCE,
    GROUP_STABLE,
} group_state_t;

static const char *const state_names[] = {"Empty", "PreparingRebalance", "CompletingRebalance",
                                          "Stable"};

/* An owned byte string (ids may hold any bytes). */
typedef struct {
    char *p;
    size_t n;
} kstr_t;

typedef struct {
    kstr_t name;
    kstr_t meta;
} proto_t;

typedef struct member {
    kstr_t id, client_id, host;
    int32_t session_ms, rebalance_ms;
    proto_t *protos;
    int32_t nprotos;
    kstr_t assignment;
    int64_t expires;        /* loop ms: the session ends unless heard from */
    kafka_waiter_t *join_w; /* its JoinGroup waiting for the rebalance */
    kafka_waiter_t *sync_w; /* its SyncGroup waiting for the leader's */
    struct member *next;
} member_t;

typedef struct {
    kstr_t topic;
    int32_t part;
    int64_t offset;
    kstr_t meta; /* p NULL: null */
} commit_t;

struct kafka_group {
    kstr_t id;
    group_state_t state;
    int32_t generation;
    kstr_t protocol_type, protocol;
    member_t *members; /* in join order; the first is the default leader */
    member_t *leader;
    int64_t deadline; /* Preparing/Completing: loop ms the rebalance may take */
    commit_t *commits;
    size_t ncommits, capcommits;
    kafka_group_t *next;
};

/* ---- small helpers ---- */

static kstr_t kstr_dup(const char *p, size_t n) {
    kstr_t s = {spate_xcalloc(1, n + 1), n};
    if (n) memcpy(s.p, p, n);
    return s;
}
static kstr_t kstr_from(spate_slice_t sl) {
    if (!sl.p) return (kstr_t){NULL, 0};
    return kstr_dup(sl.p, (size_t)sl.len);
}
static void kstr_free(kstr_t *s) {
    free(s->p);
    s->p = NULL;
    s->n = 0;
}
static bool kstr_eq(kstr_t a, const char *p, size_t n) {
    return a.p && a.n == n && (n == 0 || memcmp(a.p, p, n) == 0);
}
static bool slice_eq(kstr_t a, spate_slice_t s) { return s.p && kstr_eq(a, s.p, (size_t)s.len); }
static void wr_kstr(spate_buf_t *o, kstr_t s) { spate_wr_str16(o, s.p ? s.p : "", s.n); }
static void wr_bytes(spate_buf_t *o, kstr_t s) { spate_wr_str32(o, s.p ? s.p : "", s.n); }

static void group_set_state(kafka_group_t *g, group_state_t s) {
    if (g->state != s)
        spate_log(SPATE_LOG_DEBUG, "kafka", "group %.*s: %s -> %s (generation %d)", (int)g->id.n,
                  g->id.p, state_names[g->state], state_names[s], g->generation);
    g->state = s;
}

static kafka_group_t *group_find(kafka_broker_t *b, const char *p, size_t n) {
    for (kafka_group_t *g = b->groups; g; g = g->next)
        if (kstr_eq(g->id, p, n)) return g;
    return NULL;
}

static kafka_group_t *group_get(kafka_broker_t *b, const char *p, size_t n) {
    kafka_group_t *g = group_find(b, p, n);
    if (g) return g;
    g = spate_xcalloc(1, sizeof *g);
    g->id = kstr_dup(p, n);
    g->state = GROUP_EMPTY;
    g->next = b->groups;
    b->groups = g;
    return g;
}

static member_t *member_find(kafka_group_t *g, spate_slice_t id) {
    for (member_t *m = g->members; m; m = m->next)
        if (slice_eq(m->id, id)) return m;
    return NULL;
}

static size_t group_nmembers(const kafka_group_t *g) {
    size_t n = 0;
    for (member_t *m = g->members; m; m = m->next) n++;
    return n;
}

static void member_protos_free(member_t *m) {
    for (int32_t i = 0; i < m->nprotos; i++) {
        kstr_free(&m->protos[i].name);
        kstr_free(&m->protos[i].meta);
    }
    free(m->protos);
    m->protos = NULL;
    m->nprotos = 0;
}

/* ---- responses written from several places ---- */

static void join_response(spate_buf_t *o, int16_t v, int16_t err, const kafka_group_t *g,
                          kstr_t member_id, bool with_members) {
    if (v >= 2) spate_wr_i32(o, 0);
    spate_wr_i16(o, err);
    spate_wr_i32(o, err ? -1 : g->generation);
    wr_kstr(o, err ? (kstr_t){NULL, 0} : g->protocol);
    wr_kstr(o, err || !g->leader ? (kstr_t){NULL, 0} : g->leader->id);
    wr_kstr(o, member_id);
    if (!with_members) {
        spate_wr_i32(o, 0);
        return;
    }
    spate_wr_i32(o, (int32_t)group_nmembers(g));
    for (member_t *m = g->members; m; m = m->next) {
        wr_kstr(o, m->id);
        if (v >= 5) spate_wr_str16(o, NULL, 0); /* group_instance_id */
        kstr_t meta = {NULL, 0};
        for (int32_t i = 0; i < m->nprotos; i++)
            if (kstr_eq(m->protos[i].name, g->protocol.p, g->protocol.n)) meta = m->protos[i].meta;
        wr_bytes(o, meta);
    }
}

static void sync_response(spate_buf_t *o, int16_t v, int16_t err, kstr_t assignment) {
    if (v >= 1) spate_wr_i32(o, 0);
    spate_wr_i16(o, err);
    wr_bytes(o, err ? (kstr_t){NULL, 0} : assignment);
}

static void answer_join_error(kafka_broker_t *b, kafka_waiter_t *w, int16_t err, kstr_t id) {
    spate_buf_t o = SPATE_BUF_INIT;
    join_response(&o, w->req.api_version, err, NULL, id, false);
    kafka_waiter_answer(b, w, &o);
    spate_buf_free(&o);
}

static void answer_sync(kafka_broker_t *b, kafka_waiter_t *w, int16_t err, kstr_t assignment) {
    spate_buf_t o = SPATE_BUF_INIT;
    sync_response(&o, w->req.api_version, err, assignment);
    kafka_waiter_answer(b, w, &o);
    spate_buf_free(&o);
}

/* Unlinks and frees m; requests it has waiting get UNKNOWN_MEMBER_ID. */
static void member_remove(kafka_broker_t *b, kafka_group_t *g, member_t *m) {
    if (m->join_w) answer_join_error(b, m->join_w, KERR_UNKNOWN_MEMBER_ID, m->id);
    if (m->sync_w) answer_sync(b, m->sync_w, KERR_UNKNOWN_MEMBER_ID, m->assignment);
    for (member_t **pp = &g->members; *pp; pp = &(*pp)->next)
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    if (g->leader == m) g->leader = NULL;
    member_protos_free(m);
    kstr_free(&m->id);
    kstr_free(&m->client_id);
    kstr_free(&m->host);
    kstr_free(&m->assignment);
    free(m);
}

/* ---- rebalancing ---- */

/* The first protocol of the leader that every member supports. */
static kstr_t choose_protocol(const kafka_group_t *g) {
    const member_t *l = g->leader;
    for (int32_t i = 0; i < l->nprotos; i++) {
        bool all = true;
        for (member_t *m = g->members; m && all; m = m->next) {
            bool has = false;
            for (int32_t k = 0; k < m->nprotos && !has; k++)
                has = kstr_eq(m->protos[k].name, l->protos[i].name.p, l->protos[i].name.n);
            all = has;
        }
        if (all) return l->protos[i].name;
    }
    return l->nprotos ? l->protos[0].name : (kstr_t){NULL, 0};
}

/* PreparingRebalance → CompletingRebalance (or Empty) once every member has
 * rejoined, or regardless when forced (the rebalance timeout passed). */
static void group_try_complete(kafka_broker_t *b, kafka_group_t *g, bool force) {
    if (g->state != GROUP_PREPARING_REBALANCE) return;
    if (!force)
        for (member_t *m = g->members; m; m = m->next)
            if (!m->join_w) return;
    for (member_t *m = g->members, *n; m; m = n) {
        n = m->next;
        if (!m->join_w) member_remove(b, g, m);
    }
    g->generation++;
    kstr_free(&g->protocol);
    if (!g->members) {
        kstr_free(&g->protocol_type);
        group_set_state(g, GROUP_EMPTY);
        return;
    }
    if (!g->leader) g->leader = g->members;
    kstr_t p = choose_protocol(g);
    g->protocol = kstr_dup(p.p ? p.p : "", p.n);
    int64_t now = spate_loop_now(b->loop);
    int32_t rt = 0;
    for (member_t *m = g->members; m; m = m->next) rt = SPATE_MAX(rt, m->rebalance_ms);
    g->deadline = now + rt;
    group_set_state(g, GROUP_COMPLETING_REBALANCE);
    for (member_t *m = g->members; m; m = m->next) {
        kstr_free(&m->assignment);
        m->expires = now + m->session_ms;
        spate_buf_t o = SPATE_BUF_INIT;
        join_response(&o, m->join_w->req.api_version, KERR_NONE, g, m->id, m == g->leader);
        kafka_waiter_answer(b, m->join_w, &o);
        spate_buf_free(&o);
    }
}

/* Starts a rebalance (or re-checks the one under way). */
static void group_rebalance(kafka_broker_t *b, kafka_group_t *g) {
    if (g->state != GROUP_PREPARING_REBALANCE) {
        for (member_t *m = g->members; m; m = m->next)
            if (m->sync_w) answer_sync(b, m->sync_w, KERR_REBALANCE_IN_PROGRESS, m->assignment);
        int32_t rt = 0;
        for (member_t *m = g->members; m; m = m->next) rt = SPATE_MAX(rt, m->rebalance_ms);
        g->deadline = spate_loop_now(b->loop) + rt;
        group_set_state(g, GROUP_PREPARING_REBALANCE);
    }
    group_try_complete(b, g, false);
}

static void group_free(kafka_group_t *g) {
    while (g->members) {
        member_t *m = g->members;
        g->members = m->next;
        /* Waiters belong to their connections; only the back-pointers go. */
        if (m->join_w) m->join_w->owner = NULL;
        if (m->sync_w) m->sync_w->owner = NULL;
        member_protos_free(m);
        kstr_free(&m->id);
        kstr_free(&m->client_id);
        kstr_free(&m->host);
        kstr_free(&m->assignment);
        free(m);
    }
    for (size_t i = 0; i < g->ncommits; i++) {
        kstr_free(&g->commits[i].topic);
        kstr_free(&g->commits[i].meta);
    }
    free(g->commits);
    kstr_free(&g->id);
    kstr_free(&g->protocol_type);
    kstr_free(&g->protocol);
    free(g);
}

/* Session expiry, rebalance timeouts, and dropping groups with nothing in them. */
static void group_tick(spate_loop_t *l, void *ctx) {
    kafka_broker_t *b = ctx;
    int64_t now = spate_loop_now(l);
    for (kafka_group_t **gp = &b->groups; *gp;) {
        kafka_group_t *g = *gp;
        bool gone = false;
        for (member_t *m = g->members, *n; m; m = n) {
            n = m->next;
            if (m->join_w || m->sync_w) {
                m->expires = now + m->session_ms; /* waiting on us is alive */
            } else if (now > m->expires) {
                spate_log(SPATE_LOG_INFO, "kafka", "group %.*s: member %.*s session expired",
                          (int)g->id.n, g->id.p, (int)m->id.n, m->id.p);
                member_remove(b, g, m);
                gone = true;
            }
        }
        if (gone) group_rebalance(b, g);
        if ((g->state == GROUP_PREPARING_REBALANCE) && now >= g->deadline)
            group_try_complete(b, g, true);
        else if (g->state == GROUP_COMPLETING_REBALANCE && now >= g->deadline)
            group_rebalance(b, g); /* the leader never sent its assignments */
        if (g->state == GROUP_EMPTY && !g->members && !g->ncommits) {
            *gp = g->next;
            group_free(g);
        } else {
            gp = &g->next;
        }
    }
    b->group_timer = spate_loop_timer(l, TICK_MS, group_tick, b);
}

/* ---- committed offsets ---- */

static commit_t *commit_find(kafka_group_t *g, const char *t, size_t tn, int32_t part) {
    for (size_t i = 0; i < g->ncommits; i++)
        if (g->commits[i].part == part && kstr_eq(g->commits[i].topic, t, tn))
            return &g->commits[i];
    return NULL;
}

static void commit_set(kafka_group_t *g, const char *t, size_t tn, int32_t part, int64_t off,
                       spate_slice_t meta) {
    commit_t *c = commit_find(g, t, tn, part);
    if (!c) {
        if (g->ncommits == g->capcommits) {
            g->capcommits = g->capcommits ? g->capcommits * 2 : 8;
            g->commits = spate_xrealloc(g->commits, g->capcommits * sizeof *g->commits);
        }
        c = &g->commits[g->ncommits++];
        c->topic = kstr_dup(t, tn);
        c->part = part;
        c->meta = (kstr_t){NULL, 0};
    }
    c->offset = off;
    kstr_free(&c->meta);
    c->meta = kstr_from(meta);
}

static void record_encode(spate_buf_t *o, kstr_t group, kstr_t topic, int32_t part, int64_t off,
                          kstr_t meta) {
    size_t start = o->len;
    spate_wr_u32(o, 0);
    spate_wr_u32(o, 0);
    wr_kstr(o, group);
    wr_kstr(o, topic);
    spate_wr_i32(o, part);
    spate_wr_i64(o, off);
    spate_wr_str16(o, meta.p, meta.n);
    size_t plen = o->len - start - 8;
    spate_wr_patch_u32(o, start, (uint32_t)plen);
    spate_wr_patch_u32(o, start + 4, spate_crc32c(0, o->data + start + 8, plen));
}

static void offsets_path(const kafka_broker_t *b, char *path, size_t n, const char *suffix) {
    snprintf(path, n, "%s/%s%s", b->conf.data_dir, OFFSETS_FILE, suffix);
}

static bool write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Rewrites the file with one record per committed offset. */
static spate_status_t offsets_compact(kafka_broker_t *b) {
    char path[1400], tmp[1400];
    offsets_path(b, path, sizeof path, "");
    offsets_path(b, tmp, sizeof tmp, ".tmp");
    spate_buf_t o = SPATE_BUF_INIT;
    for (kafka_group_t *g = b->groups; g; g = g->next)
        for (size_t i = 0; i < g->ncommits; i++)
            record_encode(&o, g->id, g->commits[i].topic, g->commits[i].part, g->commits[i].offset,
                          g->commits[i].meta);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && write_all(fd, o.data ? o.data : "", o.len) && fsync(fd) == 0;
    if (fd >= 0) close(fd);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        spate_buf_free(&o);
        return SPATE_EIO;
    }
    int dfd = open(b->conf.data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    if (b->offsets_fd >= 0) close(b->offsets_fd);
    b->offsets_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    b->offsets_bytes = b->offsets_compacted = (int64_t)o.len;
    b->offsets_dirty = false;
    spate_buf_free(&o);
    return b->offsets_fd >= 0 ? SPATE_OK : SPATE_EIO;
}

spate_status_t kafka_groups_load(kafka_broker_t *b, char *err, size_t errlen) {
    char path[1400];
    offsets_path(b, path, sizeof path, "");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return SPATE_EIO;
    }
    spate_buf_t all = SPATE_BUF_INIT;
    for (;;) {
        if (spate_buf_reserve(&all, 1 << 16) != SPATE_OK) break;
        ssize_t n = read(fd, all.data + all.len, all.cap - all.len - 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        all.len += (size_t)n;
    }
    spate_rd_t r;
    spate_rd_init(&r, all.data, all.len);
    size_t good = 0, nrec = 0;
    for (;;) {
        uint32_t len, crc;
        const uint8_t *p;
        if (spate_rd_u32(&r, &len) || spate_rd_u32(&r, &crc) || spate_rd_bytes(&r, len, &p) ||
            spate_crc32c(0, p, len) != crc)
            break;
        spate_rd_t pr;
        spate_rd_init(&pr, p, len);
        spate_slice_t gid, topic, meta;
        int32_t part;
        int64_t off;
        if (spate_rd_str16(&pr, &gid) || !gid.p || spate_rd_str16(&pr, &topic) || !topic.p ||
            spate_rd_i32(&pr, &part) || spate_rd_i64(&pr, &off) || spate_rd_str16(&pr, &meta))
            break;
        commit_set(group_get(b, gid.p, (size_t)gid.len), topic.p, (size_t)topic.len, part, off,
                   meta);
        good = r.off;
        nrec++;
    }
    if (good < all.len) {
        spate_log(SPATE_LOG_WARN, "kafka", "%s: cutting a torn or corrupt tail of %zu bytes", path,
                  all.len - good);
        if (ftruncate(fd, (off_t)good) != 0) {
            snprintf(err, errlen, "cannot truncate %s: %s", path, strerror(errno));
            spate_buf_free(&all);
            close(fd);
            return SPATE_EIO;
        }
        fsync(fd);
    }
    spate_buf_free(&all);
    close(fd);
    b->offsets_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (b->offsets_fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return SPATE_EIO;
    }
    b->offsets_bytes = (int64_t)good;
    b->offsets_compacted = (int64_t)good;
    if (nrec) spate_log(SPATE_LOG_INFO, "kafka", "replayed %zu committed offset record(s)", nrec);
    b->group_timer = spate_loop_timer(b->loop, TICK_MS, group_tick, b);
    return SPATE_OK;
}

void kafka_groups_clear(kafka_broker_t *b) {
    while (b->groups) {
        kafka_group_t *g = b->groups;
        b->groups = g->next;
        group_free(g);
    }
}

bool kafka_groups_flush(kafka_broker_t *b) {
    if (!b->offsets_dirty || b->offsets_fd < 0) return true;
    b->offsets_dirty = false;
    return fsync(b->offsets_fd) == 0;
}

void kafka_groups_close(kafka_broker_t *b) {
    kafka_groups_flush(b);
    if (b->offsets_fd >= 0) close(b->offsets_fd);
    b->offsets_fd = -1;
    if (b->group_timer) spate_loop_timer_cancel(b->loop, b->group_timer);
    b->group_timer = NULL;
    kafka_groups_clear(b);
}

/* ---- FindCoordinator ---- */

/* request   key, key_type int8 (v1+)
 * response  throttle_time_ms (v1+), error_code, error_message (v1+,
 *           nullable), node_id, host, port */
kafka_result_t kafka_handle_find_coordinator(kafka_broker_t *b, kafka_conn_t *c,
                                             const kafka_req_t *req, spate_rd_t *body,
                                             spate_buf_t *out) {
    SPATE_UNUSED(c);
    int16_t v = req->api_version;
    spate_slice_t key;
    int8_t key_type = 0;
    if (kafka_rd_string(body, false, false, &key)) return KAFKA_CLOSE;
    if (v >= 1 && spate_rd_i8(body, &key_type)) return KAFKA_CLOSE;
    bool ok = key_type == 0;
    if (v >= 1) spate_wr_i32(out, 0);
    spate_wr_i16(out, ok ? KERR_NONE : KERR_COORDINATOR_NOT_AVAILABLE);
    if (v >= 1) {
        const char *msg = ok ? NULL : "transactions are not supported";
        spate_wr_str16(out, msg, msg ? strlen(msg) : 0);
    }
    spate_wr_i32(out, ok ? b->conf.node_id : -1);
    const char *host = ok ? b->conf.advertise_host : "";
    spate_wr_str16(out, host, strlen(host));
    spate_wr_i32(out, ok ? b->conf.advertise_port : -1);
    return KAFKA_DONE;
}

/* ---- JoinGroup ---- */

/* request   group_id, session_timeout_ms, rebalance_timeout_ms (v1+),
 *           member_id, group_instance_id (v5+, nullable), protocol_type,
 *           protocols [name, metadata bytes]
 * response  throttle_time_ms (v2+), error_code, generation_id,
 *           protocol_name, leader, member_id, members [member_id,
 *           group_instance_id (v5+), metadata bytes] (the leader's only) */
kafka_result_t kafka_handle_join_group(kafka_broker_t *b, kafka_conn_t *c, const kafka_req_t *req,
                                       spate_rd_t *body, spate_buf_t *out) {
    int16_t v = req->api_version;
    spate_slice_t gid, mid, inst = {NULL, -1}, ptype;
    int32_t session, rebalance, np;
    if (kafka_rd_string(body, false, false, &gid) || spate_rd_i32(body, &session))
        return KAFKA_CLOSE;
    rebalance = session; /* v0: the session timeout bounds the rebalance too */
    if (v >= 1 && spate_rd_i32(body, &rebalance)) return KAFKA_CLOSE;
    if (kafka_rd_string(body, false, false, &mid)) return KAFKA_CLOSE;
    if (v >= 5 && kafka_rd_string(body, false, true, &inst)) return KAFKA_CLOSE;
    if (kafka_rd_string(body, false, false, &ptype) || kafka_rd_array(body, false, 6, &np) ||
        np < 0)
        return KAFKA_CLOSE;
    size_t protos_at = body->off;
    for (int32_t i = 0; i < np; i++) {
        spate_slice_t name, meta;
        if (kafka_rd_string(body, false, false, &name) || spate_rd_str32(body, &meta))
            return KAFKA_CLOSE;
    }
    int16_t err = KERR_NONE;
    kafka_group_t *g = NULL;
    if (gid.len == 0)
        err = KERR_INVALID_GROUP_ID;
    else if (session < SESSION_MIN_MS || session > SESSION_MAX_MS)
        err = KERR_INVALID_SESSION_TIMEOUT;
    else if (np == 0)
        err = KERR_INCONSISTENT_GROUP_PROTOCOL;
    else {
        g = group_get(b, gid.p, (size_t)gid.len);
        if (g->members && !slice_eq(g->protocol_type, ptype))
            err = KERR_INCONSISTENT_GROUP_PROTOCOL;
    }
    if (err) {
        join_response(out, v, err, NULL, (kstr_t){(char *)mid.p, (size_t)mid.len}, false);
        return KAFKA_DONE;
    }
    member_t *m = mid.len ? member_find(g, mid) : NULL;
    if (!m) {
        char idbuf[512];
        if (mid.len) {
            snprintf(idbuf, sizeof idbuf, "%.*s", (int)SPATE_MIN(mid.len, 500), mid.p);
        } else {
            uint8_t u[16];
            if (getrandom(u, sizeof u, 0) != (ssize_t)sizeof u) {
                int64_t t = spate_mono_ns();
                memcpy(u, &t, sizeof t);
                memcpy(u + 8, &g, sizeof g < 8 ? sizeof g : 8);
            }
            u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
            u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
            char us[37];
            spate_uuid_format(u, us);
            int cl = req->client_id.p ? (int)SPATE_MIN(req->client_id.len, 200) : 0;
            snprintf(idbuf, sizeof idbuf, "%.*s-%s", cl, cl ? req->client_id.p : "", us);
            if (v >= 4) {
                /* KIP-394: the client rejoins with this id. */
                join_response(out, v, KERR_MEMBER_ID_REQUIRED, NULL, (kstr_t){idbuf, strlen(idbuf)},
                              false);
                return KAFKA_DONE;
            }
        }
        m = spate_xcalloc(1, sizeof *m);
        m->id = kstr_dup(idbuf, strlen(idbuf));
        member_t **pp = &g->members;
        while (*pp) pp = &(*pp)->next;
        *pp = m;
        if (!g->protocol_type.p) g->protocol_type = kstr_from(ptype);
    }
    kstr_free(&m->client_id);
    m->client_id =
        req->client_id.p ? kstr_dup(req->client_id.p, (size_t)req->client_id.len) : kstr_dup("", 0);
    kstr_free(&m->host);
    char host[80];
    snprintf(host, sizeof host, "/%s", c->peer);
    char *colon = strrchr(host, ':');
    if (colon) *colon = '\0';
    m->host = kstr_dup(host, strlen(host));
    m->session_ms = session;
    m->rebalance_ms = SPATE_MAX(rebalance, 0);
    member_protos_free(m);
    m->protos = spate_xcalloc((size_t)np + 1, sizeof *m->protos);
    m->nprotos = np;
    body->off = protos_at;
    for (int32_t i = 0; i < np; i++) {
        spate_slice_t name, meta;
        kafka_rd_string(body, false, false, &name);
        spate_rd_str32(body, &meta);
        m->protos[i].name = kstr_from(name);
        m->protos[i].meta = meta.p ? kstr_from(meta) : kstr_dup("", 0);
    }
    m->expires = spate_loop_now(b->loop) + session;
    if (m->join_w) answer_join_error(b, m->join_w, KERR_UNKNOWN_MEMBER_ID, m->id);
    kafka_defer_group(b, c, req, &m->join_w);
    group_rebalance(b, g);
    return KAFKA_DEFERRED;
}

/* ---- SyncGroup ---- */

/* request   group_id, generation_id, member_id, group_instance_id (v3+),
 *           assignments [member_id, assignment bytes]
 * response  throttle_time_ms (v1+), error_code, assignment bytes */
kafka_result_t kafka_handle_sync_group(kafka_broker_t *b, kafka_conn_t *c, const kafka_req_t *req,
                                       spate_rd_t *body, spate_buf_t *out) {
    int16_t v = req->api_version;
    spate_slice_t gid, mid, inst;
    int32_t gen, na;
    if (kafka_rd_string(body, false, false, &gid) || spate_rd_i32(body, &gen) ||
        kafka_rd_string(body, false, false, &mid))
        return KAFKA_CLOSE;
    if (v >= 3 && kafka_rd_string(body, false, true, &inst)) return KAFKA_CLOSE;
    if (kafka_rd_array(body, false, 6, &na) || na < 0) return KAFKA_CLOSE;
    size_t assign_at = body->off;
    for (int32_t i = 0; i < na; i++) {
        spate_slice_t id, a;
        if (kafka_rd_string(body, false, false, &id) || spate_rd_str32(body, &a))
            return KAFKA_CLOSE;
    }
    kstr_t none = {NULL, 0};
    kafka_group_t *g = group_find(b, gid.p, (size_t)gid.len);
    member_t *m = g ? member_find(g, mid) : NULL;
    int16_t err = KERR_NONE;
    if (!m)
        err = KERR_UNKNOWN_MEMBER_ID;
    else if (gen != g->generation)
        err = KERR_ILLEGAL_GENERATION;
    else if (g->state == GROUP_PREPARING_REBALANCE)
        err = KERR_REBALANCE_IN_PROGRESS;
    if (err) {
        sync_response(out, v, err, none);
        return KAFKA_DONE;
    }
    m->expires = spate_loop_now(b->loop) + m->session_ms;
    if (g->state == GROUP_STABLE) {
        sync_response(out, v, KERR_NONE, m->assignment);
        return KAFKA_DONE;
    }
    /* CompletingRebalance */
    if (m != g->leader) {
        if (m->sync_w) answer_sync(b, m->sync_w, KERR_REBALANCE_IN_PROGRESS, none);
        kafka_defer_group(b, c, req, &m->sync_w);
        return KAFKA_DEFERRED;
    }
    body->off = assign_at;
    for (int32_t i = 0; i < na; i++) {
        spate_slice_t id, a;
        kafka_rd_string(body, false, false, &id);
        spate_rd_str32(body, &a);
        member_t *t = member_find(g, id);
        if (!t) continue;
        kstr_free(&t->assignment);
        t->assignment = a.p ? kstr_from(a) : kstr_dup("", 0);
    }
    group_set_state(g, GROUP_STABLE);
    for (member_t *t = g->members; t; t = t->next)
        if (t->sync_w) answer_sync(b, t->sync_w, KERR_NONE, t->assignment);
    sync_response(out, v, KERR_NONE, m->assignment);
    return KAFKA_DONE;
}

/* ---- Heartbeat ---- */

/* request   group_id, generation_id, member_id, group_instance_id (v3+)
 * response  throttle_time_ms (v1+), error_code */
kafka_result_t kafka_handle_heartbeat(kafka_broker_t *b, kafka_conn_t *c, const kafka_req_t *req,
                                      spate_rd_t *body, spate_buf_t *out) {
    SPATE_UNUSED(c);
    int16_t v = req->api_version;
    spate_slice_t gid, mid, inst;
    int32_t gen;
    if (kafka_rd_string(body, false, false, &gid) || spate_rd_i32(body, &gen) ||
        kafka_rd_string(body, false, false, &mid))
        return KAFKA_CLOSE;
    if (v >= 3 && kafka_rd_string(body, false, true, &inst)) return KAFKA_CLOSE;
    kafka_group_t *g = group_find(b, gid.p, (size_t)gid.len);
    member_t *m = g ? member_find(g, mid) : NULL;
    int16_t err = KERR_NONE;
    if (!m)
        err = KERR_UNKNOWN_MEMBER_ID;
    else if (gen != g->generation)
        err = KERR_ILLEGAL_GENERATION;
    else if (g->state == GROUP_PREPARING_REBALANCE)
        err = KERR_REBALANCE_IN_PROGRESS;
    if (m) m->expires = spate_loop_now(b->loop) + m->session_ms;
    if (v >= 1) spate_wr_i32(out, 0);
    spate_wr_i16(out, err);
    return KAFKA_DONE;
}

/* ---- LeaveGroup ---- */

/* request   group_id, member_id (v0-2) | members [member_id,
 *           group_instance_id (nullable)] (v3+)
 * response  throttle_time_ms (v1+), error_code, members (v3+) [member_id,
 *           group_instance_id, error_code] */
kafka_result_t kafka_handle_leave_group(kafka_broker_t *b, kafka_conn_t *c, const kafka_req_t *req,
                                        spate_rd_t *body, spate_buf_t *out) {
    SPATE_UNUSED(c);
    int16_t v = req->api_version;
    spate_slice_t gid, mid;
    int32_t n = 1;
    if (kafka_rd_string(body, false, false, &gid)) return KAFKA_CLOSE;
    if (v >= 3 && (kafka_rd_array(body, false, 4, &n) || n < 0)) return KAFKA_CLOSE;
    size_t at = body->off;
    for (int32_t i = 0; i < n; i++) {
        spate_slice_t inst;
        if (kafka_rd_string(body, false, false, &mid)) return KAFKA_CLOSE;
        if (v >= 3 && kafka_rd_string(body, false, true, &inst)) return KAFKA_CLOSE;
    }
    kafka_group_t *g = group_find(b, gid.p, (size_t)gid.len);
    if (v >= 1) spate_wr_i32(out, 0);
    body->off = at;
    bool removed = false;
    int16_t top = KERR_NONE;
    spate_buf_t members = SPATE_BUF_INIT;
    for (int32_t i = 0; i < n; i++) {
        spate_slice_t inst = {NULL, -1};
        kafka_rd_string(body, false, false, &mid);
        if (v >= 3) kafka_rd_string(body, false, true, &inst);
        member_t *m = g ? member_find(g, mid) : NULL;
        int16_t err = m ? KERR_NONE : KERR_UNKNOWN_MEMBER_ID;
        if (m) {
            spate_log(SPATE_LOG_DEBUG, "kafka", "group %.*s: member %.*s left", (int)g->id.n,
                      g->id.p, (int)m->id.n, m->id.p);
            member_remove(b, g, m);
            removed = true;
        }
        if (v < 3) top = err;
        spate_wr_str16(&members, mid.p, (size_t)mid.len);
        spate_wr_str16(&members, inst.p, inst.p ? (size_t)inst.len : 0);
        spate_wr_i16(&members, err);
    }
    if (removed) group_rebalance(b, g);
    spate_wr_i16(out, top);
    if (v >= 3) {
        spate_wr_i32(out, n);
        spate_buf_append(out, members.data ? members.data : "", members.len);
    }
    spate_buf_free(&members);
    return KAFKA_DONE;
}

/* ---- OffsetCommit ---- */

/* request   group_id, generation_id, member_id, group_instance_id (v7+),
 *           retention_time_ms (v2-4), topics [name, partitions
 *           [partition_index, committed_offset, committed_leader_epoch
 *           (v6+), committed_metadata (nullable)]]
 * response  throttle_time_ms (v3+), topics [name, partitions
 *           [partition_index, error_code]] */
kafka_result_t kafka_handle_offset_commit(kafka_broker_t *b, kafka_conn_t *c,
                                          const kafka_req_t *req, spate_rd_t *body,
                                          spate_buf_t *out) {
    int16_t v = req->api_version;
    spate_slice_t gid, mid, inst;
    int32_t gen, nt;
    int64_t retention;
    if (kafka_rd_string(body, false, false, &gid) || spate_rd_i32(body, &gen) ||
        kafka_rd_string(body, false, false, &mid))
        return KAFKA_CLOSE;
    if (v >= 7 && kafka_rd_string(body, false, true, &inst)) return KAFKA_CLOSE;
    if (v <= 4 && spate_rd_i64(body, &retention)) return KAFKA_CLOSE;
    if (kafka_rd_array(body, false, 6, &nt) || nt < 0) return KAFKA_CLOSE;
    size_t topics_at = body->off;
    for (int32_t i = 0; i < nt; i++) {
        spate_slice_t name, meta;
        int32_t np, part, epoch;
        int64_t off;
        if (kafka_rd_string(body, false, false, &name) || kafka_rd_array(body, false, 14, &np) ||
            np < 0)
            return KAFKA_CLOSE;
        for (int32_t k = 0; k < np; k++)
            if (spate_rd_i32(body, &part) || spate_rd_i64(body, &off) ||
                (v >= 6 && spate_rd_i32(body, &epoch)) || kafka_rd_string(body, false, true, &meta))
                return KAFKA_CLOSE;
    }
    /* Who may commit: a member of the current generation, or anyone
     * (generation -1, no member id: simple consumers) while the group has
     * no members. */
    int16_t gerr = KERR_NONE;
    kafka_group_t *g = gid.len ? group_find(b, gid.p, (size_t)gid.len) : NULL;
    if (gid.len == 0) {
        gerr = KERR_INVALID_GROUP_ID;
    } else if (g && g->members) {
        member_t *m = member_find(g, mid);
        if (!m)
            gerr = KERR_UNKNOWN_MEMBER_ID;
        else if (gen != g->generation)
            gerr = KERR_ILLEGAL_GENERATION;
        else if (g->state == GROUP_COMPLETING_REBALANCE)
            gerr = KERR_REBALANCE_IN_PROGRESS;
        else
            m->expires = spate_loop_now(b->loop) + m->session_ms;
    } else if (gen >= 0) {
        gerr = KERR_UNKNOWN_MEMBER_ID; /* as Kafka: a member of a group now empty */
    }
    if (!gerr && !g) g = group_get(b, gid.p, (size_t)gid.len);
    if (v >= 3) spate_wr_i32(out, 0);
    spate_wr_i32(out, nt);
    body->off = topics_at;
    spate_buf_t rec = SPATE_BUF_INIT;
    for (int32_t i = 0; i < nt; i++) {
        spate_slice_t name, meta;
        int32_t np, part, epoch;
        int64_t off;
        kafka_rd_string(body, false, false, &name);
        kafka_rd_array(body, false, 14, &np);
        kafka_topic_t *t = kafka_topic_find(b, name.p, (size_t)name.len);
        spate_wr_str16(out, name.p, (size_t)name.len);
        spate_wr_i32(out, np);
        for (int32_t k = 0; k < np; k++) {
            spate_rd_i32(body, &part);
            spate_rd_i64(body, &off);
            if (v >= 6) spate_rd_i32(body, &epoch);
            kafka_rd_string(body, false, true, &meta);
            int16_t err = gerr;
            if (!err && (!t || part < 0 || part >= t->nparts))
                err = KERR_UNKNOWN_TOPIC_OR_PARTITION;
            else if (!err && meta.p && meta.len > 4096)
                err = KERR_OFFSET_METADATA_TOO_LARGE;
            if (!err) {
                size_t at = rec.len;
                record_encode(&rec, g->id, (kstr_t){(char *)name.p, (size_t)name.len}, part, off,
                              (kstr_t){(char *)meta.p, meta.p ? (size_t)meta.len : 0});
                if (!write_all(b->offsets_fd, rec.data + at, rec.len - at)) {
                    err = KERR_KAFKA_STORAGE_ERROR;
                } else {
                    b->offsets_bytes += (int64_t)(rec.len - at);
                    b->offsets_dirty = true;
                    commit_set(g, name.p, (size_t)name.len, part, off, meta);
                }
            }
            spate_wr_i32(out, part);
            spate_wr_i16(out, err);
        }
    }
    bool wrote = rec.len > 0;
    spate_buf_free(&rec);
    if (b->offsets_bytes > 2 * b->offsets_compacted + COMPACT_SLACK &&
        offsets_compact(b) != SPATE_OK)
        spate_log(SPATE_LOG_ERROR, "kafka", "cannot compact %s: %s", OFFSETS_FILE, strerror(errno));
    if (!wrote || !b->conf.durable) return KAFKA_DONE;
    /* Answered after the group-commit fsync (before-sleep hook). */
    kafka_conn_respond_durable(c, req, out);
    return KAFKA_NO_REPLY;
}

/* ---- OffsetFetch ---- */

/* request   group_id, topics (nullable v2+: all) [name, partition_indexes [int32]]
 * response  throttle_time_ms (v3+), topics [name, partitions [partition_index,
 *           committed_offset, committed_leader_epoch (v5+), metadata
 *           (nullable), error_code]], error_code (v2+) */
static void fetch_part(spate_buf_t *out, int16_t v, kafka_group_t *g, const char *t, size_t tn,
                       int32_t part) {
    commit_t *cm = g ? commit_find(g, t, tn, part) : NULL;
    spate_wr_i32(out, part);
    spate_wr_i64(out, cm ? cm->offset : -1);
    if (v >= 5) spate_wr_i32(out, -1);
    if (cm && cm->meta.p)
        spate_wr_str16(out, cm->meta.p, cm->meta.n);
    else
        spate_wr_str16(out, "", 0);
    spate_wr_i16(out, KERR_NONE);
}

kafka_result_t kafka_handle_offset_fetch(kafka_broker_t *b, kafka_conn_t *c, const kafka_req_t *req,
                                         spate_rd_t *body, spate_buf_t *out) {
    SPATE_UNUSED(c);
    int16_t v = req->api_version;
    spate_slice_t gid;
    int32_t nt;
    if (kafka_rd_string(body, false, false, &gid) || kafka_rd_array(body, false, 6, &nt))
        return KAFKA_CLOSE;
    if (nt < 0 && v < 2) return KAFKA_CLOSE;
    size_t at = body->off;
    for (int32_t i = 0; i < nt; i++) {
        spate_slice_t name;
        int32_t np, part;
        if (kafka_rd_string(body, false, false, &name) || kafka_rd_array(body, false, 4, &np) ||
            np < 0)
            return KAFKA_CLOSE;
        for (int32_t k = 0; k < np; k++)
            if (spate_rd_i32(body, &part)) return KAFKA_CLOSE;
    }
    kafka_group_t *g = group_find(b, gid.p, (size_t)gid.len);
    if (v >= 3) spate_wr_i32(out, 0);
    if (nt >= 0) {
        body->off = at;
        spate_wr_i32(out, nt);
        for (int32_t i = 0; i < nt; i++) {
            spate_slice_t name;
            int32_t np, part;
            kafka_rd_string(body, false, false, &name);
            kafka_rd_array(body, false, 4, &np);
            spate_wr_str16(out, name.p, (size_t)name.len);
            spate_wr_i32(out, np);
            for (int32_t k = 0; k < np; k++) {
                spate_rd_i32(body, &part);
                fetch_part(out, v, g, name.p, (size_t)name.len, part);
            }
        }
    } else {
        /* Every committed partition, grouped by topic in first-seen order. */
        size_t n = g ? g->ncommits : 0;
        bool *done = spate_xcalloc(n + 1, sizeof *done);
        int32_t ntopics = 0;
        size_t count_at = out->len;
        spate_wr_i32(out, 0);
        for (size_t i = 0; i < n; i++) {
            if (done[i]) continue;
            kstr_t t = g->commits[i].topic;
            int32_t np = 0;
            for (size_t k = i; k < n; k++)
                if (!done[k] && kstr_eq(g->commits[k].topic, t.p, t.n)) np++;
            wr_kstr(out, t);
            spate_wr_i32(out, np);
            for (size_t k = i; k < n; k++)
                if (!done[k] && kstr_eq(g->commits[k].topic, t.p, t.n)) {
                    done[k] = true;
                    fetch_part(out, v, g, t.p, t.n, g->commits[k].part);
                }
            ntopics++;
        }
        spate_wr_patch_u32(out, count_at, (uint32_t)ntopics);
        free(done);
    }
    if (v >= 2) spate_wr_i16(out, KERR_NONE);
    return KAFKA_DONE;
}

/* ---- ListGroups / DescribeGroups ---- */

/* ListGroups  request   (empty)
 *             response  throttle_time_ms (v1+), error_code, groups [group_id,
 *                       protocol_type] */
kafka_result_t kafka_handle_list_groups(kafka_broker_t *b, kafka_conn_t *c, const kafka_req_t *req,
                                        spate_rd_t *body, spate_buf_t *out) {
    SPATE_UNUSED(c);
    SPATE_UNUSED(body);
    if (req->api_version >= 1) spate_wr_i32(out, 0);
    spate_wr_i16(out, KERR_NONE);
    int32_t n = 0;
    for (kafka_group_t *g = b->groups; g; g = g->next) n++;
    spate_wr_i32(out, n);
    for (kafka_group_t *g = b->groups; g; g = g->next) {
        wr_kstr(out, g->id);
        wr_kstr(out, g->protocol_type);
    }
    return KAFKA_DONE;
}

/* DescribeGroups  request   groups [string]
 *                 response  throttle_time_ms (v1+), groups [error_code,
 *                           group_id, group_state, protocol_type,
 *                           protocol_data, members [member_id, client_id,
 *                           client_host, member_metadata bytes,
 *                           member_assignment bytes]]
 * A group this node does not know is "Dead", as Kafka reports it. */
kafka_result_t kafka_handle_describe_groups(kafka_broker_t *b, kafka_conn_t *c,
                                            const kafka_req_t *req, spate_rd_t *body,
                                            spate_buf_t *out) {
    SPATE_UNUSED(c);
    int32_t n;
    if (kafka_rd_array(body, false, 2, &n) || n < 0) return KAFKA_CLOSE;
    size_t at = body->off;
    for (int32_t i = 0; i < n; i++) {
        spate_slice_t gid;
        if (kafka_rd_string(body, false, false, &gid)) return KAFKA_CLOSE;
    }
    body->off = at;
    if (req->api_version >= 1) spate_wr_i32(out, 0);
    spate_wr_i32(out, n);
    for (int32_t i = 0; i < n; i++) {
        spate_slice_t gid;
        kafka_rd_string(body, false, false, &gid);
        kafka_group_t *g = group_find(b, gid.p, (size_t)gid.len);
        spate_wr_i16(out, KERR_NONE);
        spate_wr_str16(out, gid.p, (size_t)gid.len);
        const char *st = g ? state_names[g->state] : "Dead";
        spate_wr_str16(out, st, strlen(st));
        kstr_t none = {NULL, 0};
        wr_kstr(out, g ? g->protocol_type : none);
        bool settled = g && (g->state == GROUP_STABLE || g->state == GROUP_COMPLETING_REBALANCE);
        wr_kstr(out, settled ? g->protocol : none);
        spate_wr_i32(out, g ? (int32_t)group_nmembers(g) : 0);
        for (member_t *m = g ? g->members : NULL; m; m = m->next) {
            wr_kstr(out, m->id);
            wr_kstr(out, m->client_id);
            wr_kstr(out, m->host);
            kstr_t meta = none;
            for (int32_t k = 0; settled && k < m->nprotos; k++)
                if (kstr_eq(m->protos[k].name, g->protocol.p, g->protocol.n))
                    meta = m->protos[k].meta;
            wr_bytes(out, meta);
            wr_bytes(out, m->assignment);
        }
    }
    return KAFKA_DONE;
}

/* ---- DeleteGroups ---- */

/* request   groups_names [string]
 * response  throttle_time_ms, results [group_id, error_code]
 * Only an Empty group (no members) may go: NON_EMPTY_GROUP otherwise,
 * GROUP_ID_NOT_FOUND for a group this node does not know. */
kafka_result_t kafka_handle_delete_groups(kafka_broker_t *b, kafka_conn_t *c,
                                          const kafka_req_t *req, spate_rd_t *body,
                                          spate_buf_t *out) {
    SPATE_UNUSED(c);
    SPATE_UNUSED(req);
    int32_t n;
    if (kafka_rd_array(body, false, 2, &n) || n < 0) return KAFKA_CLOSE;
    size_t at = body->off;
    for (int32_t i = 0; i < n; i++) {
        spate_slice_t gid;
        if (kafka_rd_string(body, false, false, &gid)) return KAFKA_CLOSE;
    }
    /* n is bounded by the request size (kafka_rd_array), so this is too. */
    int16_t *errs = spate_xcalloc((size_t)n + 1, sizeof *errs);
    kafka_group_t *gone = NULL; /* unlinked, freed once the file no longer has them */
    body->off = at;
    for (int32_t i = 0; i < n; i++) {
        spate_slice_t gid;
        kafka_rd_string(body, false, false, &gid);
        kafka_group_t *g = group_find(b, gid.p, (size_t)gid.len);
        if (!g) {
            errs[i] = KERR_GROUP_ID_NOT_FOUND;
        } else if (g->members || g->state != GROUP_EMPTY) {
            errs[i] = KERR_NON_EMPTY_GROUP;
        } else {
            for (kafka_group_t **gp = &b->groups; *gp; gp = &(*gp)->next)
                if (*gp == g) {
                    *gp = g->next;
                    break;
                }
            g->next = gone;
            gone = g;
        }
    }
    bool failed = false;
    if (gone && offsets_compact(b) != SPATE_OK) {
        spate_log(SPATE_LOG_ERROR, "kafka", "DeleteGroups: cannot rewrite %s: %s", OFFSETS_FILE,
                  strerror(errno));
        failed = true;
    }
    while (gone) {
        kafka_group_t *g = gone;
        gone = g->next;
        if (failed) {
            g->next = b->groups;
            b->groups = g;
        } else {
            spate_log(SPATE_LOG_INFO, "kafka", "deleted group %.*s", (int)g->id.n, g->id.p);
            group_free(g);
        }
    }
    spate_wr_i32(out, 0); /* throttle_time_ms */
    spate_wr_i32(out, n);
    body->off = at;
    for (int32_t i = 0; i < n; i++) {
        spate_slice_t gid;
        kafka_rd_string(body, false, false, &gid);
        spate_wr_str16(out, gid.p, (size_t)gid.len);
        spate_wr_i16(out, !errs[i] && failed ? KERR_KAFKA_STORAGE_ERROR : errs[i]);
    }
    free(errs);
    return KAFKA_DONE;
}
