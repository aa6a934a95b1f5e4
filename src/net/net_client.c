/*
 * net_client.c — one blocking request/response exchange over TCP.
 *
 * Health probes (`spate broker --probe`, later `spate cql --probe` and
 * `spate up` waiting for its children) need only: connect, send one
 * request, read one framed answer, all within a deadline. The framing is
 * the caller's: `frame_len` looks at the bytes read so far and returns the
 * whole answer's length once it can tell (0 = not yet).
 */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

/* Waits for `events` on fd until the deadline (monotonic ms). */
static spate_status_t wait_fd(int fd, short events, int64_t deadline) {
    for (;;) {
        int64_t left = deadline - spate_mono_ms();
        if (left <= 0) return SPATE_ETIMEDOUT;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)SPATE_MIN(left, 1000));
        if (n > 0) return SPATE_OK;
        if (n < 0 && errno != EINTR) return SPATE_EIO;
    }
}

spate_status_t spate_net_exchange(const spate_net_addr_t *addr, const void *req, size_t reqlen,
                                  size_t (*frame_len)(const uint8_t *p, size_t n),
                                  spate_buf_t *resp, int timeout_ms, char *err, size_t errlen) {
    int64_t deadline = spate_mono_ms() + timeout_ms;
    spate_status_t st = SPATE_EIO;
    const char *what = "connect";
    int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) goto fail;
    if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0) {
        if (errno != EINPROGRESS) goto fail;
        if ((st = wait_fd(fd, POLLOUT, deadline)) != SPATE_OK) goto fail;
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr != 0) {
            errno = soerr;
            st = SPATE_EIO;
            goto fail;
        }
    }
    what = "send";
    for (size_t off = 0; off < reqlen;) {
        ssize_t n = send(fd, (const char *)req + off, reqlen - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if ((st = wait_fd(fd, POLLOUT, deadline)) != SPATE_OK) goto fail;
        } else {
            st = SPATE_EIO;
            goto fail;
        }
    }
    what = "receive";
    resp->len = 0;
    for (;;) {
        size_t want = frame_len((const uint8_t *)resp->data, resp->len);
        if (want && resp->len >= want) break;
        if ((st = spate_buf_reserve(resp, 4096)) != SPATE_OK) goto fail;
        ssize_t n = recv(fd, resp->data + resp->len, resp->cap - resp->len, 0);
        if (n > 0) {
            resp->len += (size_t)n;
        } else if (n == 0) {
            errno = ECONNRESET;
            st = SPATE_EIO;
            goto fail;
        } else if (errno == EAGAIN || errno == EINTR) {
            if ((st = wait_fd(fd, POLLIN, deadline)) != SPATE_OK) goto fail;
        } else {
            st = SPATE_EIO;
            goto fail;
        }
    }
    close(fd);
    return SPATE_OK;
fail:
    if (st == SPATE_ETIMEDOUT)
        snprintf(err, errlen, "%s: no answer within %d ms", what, timeout_ms);
    else if (st == SPATE_ENOMEM)
        snprintf(err, errlen, "%s: out of memory", what);
    else
        snprintf(err, errlen, "%s: %s", what, strerror(errno));
    if (fd >= 0) close(fd);
    return st;
}
