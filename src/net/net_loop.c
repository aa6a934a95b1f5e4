/*
 * net_loop.c — the event loop under the broker and the CQL server.
 *
 * One epoll set, a table of fd handlers indexed by fd, a list of one-shot
 * timers sorted by deadline, and a before-sleep hook:
 *
 *   loop:  before_sleep() ─▶ epoll_wait(until the next timer) ─▶ fd handlers
 *          ─▶ expired timers ─▶ loop
 *
 * The before-sleep hook runs once per iteration after all ready events
 * were handled, which is where work is batched: one fsync for all the
 * acks=all produces that arrived in this iteration (group commit).
 * Timers are few (waiting fetches, group session deadlines), so a sorted
 * list is enough; cancel is O(1). spate_loop_stop may be called from a
 * signal handler: it only writes to an eventfd the loop watches.
 *
 * Also here, for the servers' listening sockets: spate_net_listen and
 * the acceptor (spate_net_acceptor_start: every waiting connection handed
 * to the server's callback with its peer's address; paused for a while,
 * not spun on, when out of descriptors).
 */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct {
    spate_loop_fd_fn fn;
    void *ctx;
    unsigned events;
    bool registered;
} fd_slot_t;

struct spate_timer {
    int64_t deadline;
    spate_loop_timer_fn fn;
    void *ctx;
    spate_timer_t *prev, *next;
};

struct spate_loop {
    int ep;
    int wake_fd;
    volatile int stop;
    fd_slot_t *fds;
    int nfds;
    spate_timer_t *timers; /* sorted by deadline */
    spate_loop_hook_fn before_sleep;
    void *before_sleep_ctx;
    int64_t now;
};

spate_loop_t *spate_loop_new(void) {
    spate_loop_t *l = spate_xcalloc(1, sizeof *l);
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->ep < 0 || l->wake_fd < 0) goto err;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = l->wake_fd};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake_fd, &ev) != 0) goto err;
    l->now = spate_mono_ms();
    return l;
err:
    spate_loop_free(l);
    return NULL;
}

void spate_loop_free(spate_loop_t *l) {
    if (!l) return;
    if (l->ep >= 0) close(l->ep);
    if (l->wake_fd >= 0) close(l->wake_fd);
    for (spate_timer_t *t = l->timers, *n; t; t = n) {
        n = t->next;
        free(t);
    }
    free(l->fds);
    free(l);
}

static void fds_grow(spate_loop_t *l, int fd) {
    if (fd < l->nfds) return;
    int n = l->nfds ? l->nfds : 64;
    while (n <= fd) n *= 2;
    l->fds = spate_xrealloc(l->fds, (size_t)n * sizeof *l->fds);
    memset(l->fds + l->nfds, 0, (size_t)(n - l->nfds) * sizeof *l->fds);
    l->nfds = n;
}

spate_status_t spate_loop_watch(spate_loop_t *l, int fd, unsigned events, spate_loop_fd_fn fn,
                                void *ctx) {
    if (fd < 0) return SPATE_EINVAL;
    fds_grow(l, fd);
    fd_slot_t *s = &l->fds[fd];
    struct epoll_event ev = {.data.fd = fd};
    if (events & SPATE_EV_READ) ev.events |= EPOLLIN | EPOLLRDHUP;
    if (events & SPATE_EV_WRITE) ev.events |= EPOLLOUT;
    if (epoll_ctl(l->ep, s->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0)
        return SPATE_EIO;
    s->registered = true;
    s->fn = fn;
    s->ctx = ctx;
    s->events = events;
    return SPATE_OK;
}

void spate_loop_unwatch(spate_loop_t *l, int fd) {
    if (fd < 0 || fd >= l->nfds || !l->fds[fd].registered) return;
    epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
    memset(&l->fds[fd], 0, sizeof l->fds[fd]);
}

spate_timer_t *spate_loop_timer(spate_loop_t *l, int64_t delay_ms, spate_loop_timer_fn fn,
                                void *ctx) {
    spate_timer_t *t = spate_xcalloc(1, sizeof *t);
    t->deadline = spate_mono_ms() + (delay_ms > 0 ? delay_ms : 0);
    t->fn = fn;
    t->ctx = ctx;
    spate_timer_t **pp = &l->timers, *prev = NULL;
    while (*pp && (*pp)->deadline <= t->deadline) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    t->next = *pp;
    t->prev = prev;
    if (*pp) (*pp)->prev = t;
    *pp = t;
    return t;
}

static void timer_unlink(spate_loop_t *l, spate_timer_t *t) {
    if (t->prev)
        t->prev->next = t->next;
    else
        l->timers = t->next;
    if (t->next) t->next->prev = t->prev;
}

void spate_loop_timer_cancel(spate_loop_t *l, spate_timer_t *t) {
    if (!t) return;
    timer_unlink(l, t);
    free(t);
}

void spate_loop_before_sleep(spate_loop_t *l, spate_loop_hook_fn fn, void *ctx) {
    l->before_sleep = fn;
    l->before_sleep_ctx = ctx;
}

void spate_loop_stop(spate_loop_t *l) {
    l->stop = 1;
    uint64_t one = 1;
    ssize_t w = write(l->wake_fd, &one, sizeof one);
    (void)w; /* a full eventfd already wakes the loop */
}

int64_t spate_loop_now(const spate_loop_t *l) { return l->now; }

spate_status_t spate_loop_run(spate_loop_t *l) {
    struct epoll_event evs[256];
    l->stop = 0;
    while (!l->stop) {
        if (l->before_sleep) l->before_sleep(l, l->before_sleep_ctx);
        if (l->stop) break;
        int timeout = -1;
        if (l->timers) {
            int64_t d = l->timers->deadline - spate_mono_ms();
            timeout = d <= 0 ? 0 : d > 60000 ? 60000 : (int)d;
        }
        int n = epoll_wait(l->ep, evs, (int)SPATE_ARRAY_LEN(evs), timeout);
        if (n < 0) {
            if (errno == EINTR) continue;
            spate_log(SPATE_LOG_ERROR, "loop", "epoll_wait: %s", strerror(errno));
            return SPATE_EIO;
        }
        l->now = spate_mono_ms();
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == l->wake_fd) {
                uint64_t v;
                ssize_t r = read(l->wake_fd, &v, sizeof v);
                (void)r;
                continue;
            }
            if (fd >= l->nfds || !l->fds[fd].registered)
                continue; /* closed by an earlier handler */
            unsigned ev = 0;
            if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ev |= SPATE_EV_READ;
            if (evs[i].events & EPOLLOUT) ev |= SPATE_EV_WRITE;
            fd_slot_t s = l->fds[fd];
            s.fn(l, fd, ev & (s.events | SPATE_EV_READ), s.ctx);
        }
        /* Expired timers, one at a time: a callback may add or cancel. */
        while (l->timers && l->timers->deadline <= spate_mono_ms()) {
            spate_timer_t *t = l->timers;
            timer_unlink(l, t);
            spate_loop_timer_fn fn = t->fn;
            void *ctx = t->ctx;
            free(t);
            fn(l, ctx);
        }
    }
    return SPATE_OK;
}

int spate_net_listen(const spate_net_addr_t *addr) {
    int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static void acceptor_on_read(spate_loop_t *l, int fd, unsigned ev, void *ctx);

static void acceptor_resume(spate_loop_t *l, void *ctx) {
    spate_net_acceptor_t *a = ctx;
    a->resume = NULL;
    if (spate_loop_watch(l, a->fd, SPATE_EV_READ, acceptor_on_read, a) != SPATE_OK) {
        spate_log(SPATE_LOG_WARN, a->component, "accept: cannot watch the listening socket again");
        a->resume = spate_loop_timer(l, SPATE_NET_ACCEPT_PAUSE_MS, acceptor_resume, a);
    }
}

/* Out of descriptors or memory: stop watching for a while (see net.h). */
static void acceptor_pause(spate_net_acceptor_t *a, int err) {
    int64_t now = spate_loop_now(a->loop);
    a->pauses++;
    if (a->warned_ms == 0 || now - a->warned_ms >= SPATE_NET_ACCEPT_WARN_MS) {
        spate_log(SPATE_LOG_WARN, a->component,
                  "accept: %s: not accepting connections for %d ms at a time (%llu pauses "
                  "since the last warning)",
                  strerror(err), SPATE_NET_ACCEPT_PAUSE_MS, (unsigned long long)a->pauses);
        a->warned_ms = now;
        a->pauses = 0;
    }
    spate_loop_unwatch(a->loop, a->fd);
    a->resume = spate_loop_timer(a->loop, SPATE_NET_ACCEPT_PAUSE_MS, acceptor_resume, a);
}

static void acceptor_on_read(spate_loop_t *l, int fd, unsigned ev, void *ctx) {
    SPATE_UNUSED(l);
    SPATE_UNUSED(ev);
    spate_net_acceptor_t *a = ctx;
    for (;;) {
        spate_net_addr_t pa = {.len = sizeof pa.ss};
        int cfd = accept4(fd, (struct sockaddr *)&pa.ss, &pa.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                acceptor_pause(a, errno);
            else if (errno != EAGAIN && errno != EWOULDBLOCK)
                spate_log(SPATE_LOG_WARN, a->component, "accept: %s", strerror(errno));
            return;
        }
        char peer[64];
        spate_net_addr_format(&pa, peer, sizeof peer);
        a->on_conn(a->ctx, cfd, peer);
    }
}

spate_status_t spate_net_acceptor_start(spate_net_acceptor_t *a, spate_loop_t *l, int fd,
                                        const char *component,
                                        void (*on_conn)(void *ctx, int cfd, const char *peer),
                                        void *ctx) {
    *a = (spate_net_acceptor_t){
        .loop = l, .fd = fd, .component = component, .on_conn = on_conn, .ctx = ctx};
    return spate_loop_watch(l, fd, SPATE_EV_READ, acceptor_on_read, a);
}
