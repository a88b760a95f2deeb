/* hostile-msg.c -- message-level scenarios of the hostile front end: what a
 * vhost-user front end can send before any ring runs.  Each case uses a
 * fresh connection and states what the switch must do:
 *
 *   broken   it hangs up (after a nonzero REPLY_ACK if one was asked for)
 *            and the port state reads "broken: REASON";
 *   refused  it answers a nonzero ack and keeps serving the connection;
 *   ok       it answers (zero ack, or the request's own reply) and keeps
 *            serving the connection.
 *
 * See hostile.h for the harness. */
#include <config.h>

#include "hostile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"
#include "vhu-dev.h"

#define PF_ACK (1ull << VHU_PROTOCOL_F_REPLY_ACK)
#define PF_SLOTS (1ull << VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS)
#define PF_ALL (PF_ACK | PF_SLOTS | (1ull << VHU_PROTOCOL_F_MQ))

#define FAKE_QVA 0x7f1200000000ull      /* the front end's address space */
#define MEM_GPA 0x40000000ull
#define MEM_SIZE (1u << 20)

enum expect { E_OK, E_REFUSED, E_BROKEN };

/* Connects and, with 'pf', negotiates (acks when pf has REPLY_ACK). */
static int
open_conn(struct hctx *ctx, bool negotiate, uint64_t pf)
{
    int fd = h_connect(ctx, ctx->sock_path, ctx->port);
    if (fd < 0) {
        return -1;
    }
    if (negotiate && h_negotiate(ctx, fd, 0, pf)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* After a request sent with NEED_REPLY (REPLY_ACK negotiated): checks the
 * outcome 'e'.  'ack' tells whether an ack is due (false for requests
 * with a reply of their own, or headers the switch cannot even read).
 * Consumes 'fd'. */
static int
check_outcome(struct hctx *ctx, int fd, uint32_t request, enum expect e,
              bool ack, const char *substr)
{
    struct vhu_msg msg;
    int err = 0;

    if (ack) {
        err = h_recv(fd, &msg, H_REPLY_MS);
        if (err == -ECONNRESET && e == E_BROKEN) {
            close(fd);
            return h_fail(ctx, "%s: hung up without the ack that "
                          "NEED_REPLY asked for", vhu_request_name(request));
        }
        if (err) {
            close(fd);
            return h_fail(ctx, "%s: no ack: %s", vhu_request_name(request),
                          strerror(-err));
        }
        if (msg.request != request || !(msg.flags & VHU_FLAG_REPLY)
            || msg.size != sizeof(uint64_t)) {
            close(fd);
            return h_fail(ctx, "%s: bad ack (request %u, flags %#x, size "
                          "%u)", vhu_request_name(request), msg.request,
                          msg.flags, msg.size);
        }
        if ((msg.payload.u64 == 0) != (e == E_OK)) {
            close(fd);
            return h_fail(ctx, "%s: ack %llu, expected %s",
                          vhu_request_name(request),
                          (unsigned long long) msg.payload.u64,
                          e == E_OK ? "0" : "nonzero");
        }
    }
    if (e == E_BROKEN) {
        /* Exactly one reply: the next thing is the hang-up. */
        err = h_recv(fd, &msg, H_REPLY_MS);
        if (!err) {
            close(fd);
            return h_fail(ctx, "%s: a second message (%s) after the ack",
                          vhu_request_name(request),
                          vhu_request_name(msg.request));
        }
        if (err != -ECONNRESET && err != -EPROTO) {
            close(fd);
            return h_fail(ctx, "%s: the switch did not hang up (%s)",
                          vhu_request_name(request), strerror(-err));
        }
        return h_expect_broken(ctx, fd, substr);
    }
    err = h_expect_alive(ctx, fd);
    h_hangup(ctx, fd);
    return err;
}

/* Sends one request on a fresh negotiated connection (with NEED_REPLY)
 * and checks the outcome. */
static int
one_request(struct hctx *ctx, uint32_t request, const void *payload,
            uint32_t size, const int *fds, unsigned n_fds, enum expect e,
            const char *substr)
{
    int fd = open_conn(ctx, true, PF_ALL);
    if (fd < 0) {
        return -1;
    }
    int err = h_send(fd, request, VHU_FLAG_VERSION | VHU_FLAG_NEED_REPLY,
                     payload, size, fds, n_fds);
    if (err) {
        close(fd);
        return h_fail(ctx, "send %s: %s", vhu_request_name(request),
                      strerror(-err));
    }
    return check_outcome(ctx, fd, request, e, true, substr);
}

/* ---- Framing. ---- */

/* A header arriving in pieces is still one message. */
static int
s_split_header(struct hctx *ctx, const void *arg)
{
    static const unsigned cuts[][3] = { { 1, 5, 6 }, { 11, 1, 0 },
                                        { 4, 4, 4 } };
    int fd = open_conn(ctx, false, 0);
    if (fd < 0) {
        return -1;
    }
    for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
        uint32_t hdr[3] = { VHU_GET_FEATURES, VHU_FLAG_VERSION, 0 };
        const uint8_t *p = (const uint8_t *) hdr;
        for (int j = 0; j < 3 && cuts[i][j]; j++) {
            if (h_send_raw(fd, p, cuts[i][j], NULL, 0)) {
                close(fd);
                return h_fail(ctx, "send failed");
            }
            p += cuts[i][j];
            h_sleep_ms(20);
        }
        struct vhu_msg msg;
        int err = h_recv(fd, &msg, H_REPLY_MS);
        if (err || msg.request != VHU_GET_FEATURES) {
            close(fd);
            return h_fail(ctx, "no reply to a split GET_FEATURES: %s",
                          strerror(-err));
        }
    }
    int err = h_expect_alive(ctx, fd);
    h_hangup(ctx, fd);
    return err;
}

/* A whole set-up sent one byte per send(), the fds riding on the first
 * byte of one message and on the last byte of another. */
static int
send_bytewise(int fd, uint32_t request, uint32_t flags, const void *payload,
              uint32_t size, const int *fds, unsigned n_fds, bool fds_last)
{
    uint8_t buf[VHU_MSG_HDR_SIZE + VHU_MAX_PAYLOAD];
    uint32_t hdr[3] = { request, flags, size };
    memcpy(buf, hdr, sizeof hdr);
    if (size) {
        memcpy(buf + VHU_MSG_HDR_SIZE, payload, size);
    }
    size_t len = VHU_MSG_HDR_SIZE + size;
    for (size_t i = 0; i < len; i++) {
        bool with = n_fds && (fds_last ? i == len - 1 : i == 0);
        int err = h_send_raw(fd, buf + i, 1, with ? fds : NULL,
                             with ? n_fds : 0);
        if (err) {
            return err;
        }
    }
    return 0;
}

static int
s_split_bytes(struct hctx *ctx, const void *arg)
{
    int fd = open_conn(ctx, true, PF_ALL);
    if (fd < 0) {
        return -1;
    }
    int mfd = h_memfd("split", MEM_SIZE);
    int efd = eventfd(0, EFD_CLOEXEC);
    struct vhu_mem_table t = { .n_regions = 1 };
    t.regions[0] = (struct vhu_mem_region) { MEM_GPA, MEM_SIZE, FAKE_QVA, 0 };
    struct vhu_vring_state st = { 1, 256 };
    uint64_t call = 1;
    uint32_t fl = VHU_FLAG_VERSION | VHU_FLAG_NEED_REPLY;
    int err = send_bytewise(fd, VHU_SET_MEM_TABLE, fl, &t, 8 + 32, &mfd, 1,
                            false);
    struct vhu_msg msg;
    int64_t acks[3] = { -1, -1, -1 };
    for (int i = 0; i < 3 && !err; i++) {
        if (i == 1) {
            err = send_bytewise(fd, VHU_SET_VRING_NUM, fl, &st, sizeof st,
                                NULL, 0, false);
        } else if (i == 2) {
            err = send_bytewise(fd, VHU_SET_VRING_CALL, fl, &call,
                                sizeof call, &efd, 1, true);
        }
        if (!err) {
            err = h_recv(fd, &msg, H_REPLY_MS);
        }
        if (!err) {
            acks[i] = (int64_t) msg.payload.u64;
        }
    }
    close(mfd);
    close(efd);
    if (err || acks[0] || acks[1] || acks[2]) {
        close(fd);
        return h_fail(ctx, "byte-wise set-up refused (%s; acks %lld %lld "
                      "%lld)", strerror(-err), (long long) acks[0],
                      (long long) acks[1], (long long) acks[2]);
    }
    err = h_expect_alive(ctx, fd);
    h_hangup(ctx, fd);
    return err;
}

/* Half a header, then silence: the switch must not wait forever. */
static int
s_stall(struct hctx *ctx, const void *arg)
{
    int fd = open_conn(ctx, false, 0);
    if (fd < 0) {
        return -1;
    }
    uint32_t hdr[3] = { VHU_GET_FEATURES, VHU_FLAG_VERSION, 0 };
    h_send_raw(fd, hdr, 6, NULL, 0);
    return h_expect_broken(ctx, fd, "timed out");
}

/* Time until the control socket answers "version" (the control thread is
 * the one that reads vhost-user messages), or -1. */
static int64_t
control_latency_ms(const struct hctx *ctx, int timeout_ms)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    char buf[512];
    uint64_t t0 = h_now_ms();

    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", ctx->control);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int64_t res = -1;
    if (!connect(fd, (struct sockaddr *) &sun, sizeof sun)
        && send(fd, "version\n", 8, MSG_NOSIGNAL) == 8
        && recv(fd, buf, sizeof buf, 0) > 0) {
        res = (int64_t) (h_now_ms() - t0);
    }
    close(fd);
    return res;
}

struct latency_probe {
    const struct hctx *ctx;
    int64_t ms;
};

static void *
latency_main(void *arg)
{
    struct latency_probe *p = arg;
    p->ms = control_latency_ms(p->ctx, 20000);
    return NULL;
}

/* A message dripped in one byte every 500 ms: each byte comes well within
 * the switch's receive timeout, the message does not.  The switch must
 * hang up about one timeout after the first byte, and serve its control
 * socket (and every other port) meanwhile, not after the drip. */
static int
s_slow_drip(struct hctx *ctx, const void *arg)
{
    int fd = open_conn(ctx, false, 0);
    if (fd < 0) {
        return -1;
    }
    uint8_t msg[VHU_MSG_HDR_SIZE + 8] = { 0 };
    uint32_t hdr[3] = { VHU_SET_FEATURES, VHU_FLAG_VERSION, 8 };
    memcpy(msg, hdr, sizeof hdr);
    uint64_t t0 = h_now_ms();
    struct latency_probe probe = { ctx, -2 };
    pthread_t thread;
    bool probing = false;
    size_t i;
    for (i = 0; i < sizeof msg; i++) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (poll(&pfd, 1, 0) > 0 || h_send_raw(fd, msg + i, 1, NULL, 0)) {
            break;              /* the switch hung up */
        }
        if (i == 1) {
            /* While the switch waits for the rest of the message. */
            probing = !pthread_create(&thread, NULL, latency_main, &probe);
        }
        h_sleep_ms(500);
    }
    uint64_t took = h_now_ms() - t0;
    if (probing) {
        pthread_join(thread, NULL);
    }
    int64_t latency = probe.ms;
    if (i == sizeof msg) {
        close(fd);
        return h_fail(ctx, "the switch read a message dripped over %llu "
                      "ms without hanging up",
                      (unsigned long long) took);
    }
    /* About the switch's receive timeout (1 s), not the drip (10 s). */
    if (latency < 0 || latency > 5000) {
        close(fd);
        return h_fail(ctx, "control socket answered after %lld ms while a "
                      "front end dripped a message", (long long) latency);
    }
    h_log(ctx, "dropped after %zu bytes, %llu ms; control answered in "
          "%lld ms", i, (unsigned long long) took, (long long) latency);
    return h_expect_broken(ctx, fd, "timed out");
}

/* EOF inside a message: after the header of a message with a payload, or
 * inside the header. */
static int
s_header_eof(struct hctx *ctx, const void *arg)
{
    size_t cut = (size_t) (uintptr_t) arg;
    int fd = open_conn(ctx, false, 0);
    if (fd < 0) {
        return -1;
    }
    uint32_t hdr[3] = { VHU_SET_FEATURES, VHU_FLAG_VERSION, 8 };
    h_send_raw(fd, hdr, cut, NULL, 0);
    /* Our end of the stream: the switch reads EOF inside the message. */
    shutdown(fd, SHUT_WR);
    return h_expect_broken(ctx, fd, "bad header");
}

/* A header announcing more than any request carries. */
static int
s_size(struct hctx *ctx, const void *arg)
{
    uint32_t size = (uint32_t) (uintptr_t) arg;
    int fd = open_conn(ctx, false, 0);
    if (fd < 0) {
        return -1;
    }
    uint8_t junk[64] = { 0 };
    uint32_t hdr[3] = { VHU_SET_MEM_TABLE, VHU_FLAG_VERSION, size };
    h_send_raw(fd, hdr, sizeof hdr, NULL, 0);
    h_send_raw(fd, junk, sizeof junk, NULL, 0);
    return h_expect_broken(ctx, fd, "bad header");
}

/* ---- Per-request payload sizes. ---- */

/* A valid payload for 'request': size and fds (fds made by the caller). */
struct req_shape {
    uint32_t request;
    uint32_t size;
    unsigned n_fds;
};

static const struct req_shape shapes[] = {
    { VHU_GET_FEATURES, 0, 0 },
    { VHU_SET_FEATURES, 8, 0 },
    { VHU_SET_OWNER, 0, 0 },
    { VHU_RESET_OWNER, 0, 0 },
    { VHU_SET_MEM_TABLE, 8 + 32, 1 },
    { VHU_SET_VRING_NUM, 8, 0 },
    { VHU_SET_VRING_ADDR, 40, 0 },
    { VHU_SET_VRING_BASE, 8, 0 },
    { VHU_GET_VRING_BASE, 8, 0 },
    { VHU_SET_VRING_KICK, 8, 1 },
    { VHU_SET_VRING_CALL, 8, 1 },
    { VHU_SET_VRING_ERR, 8, 1 },
    { VHU_GET_PROTOCOL_FEATURES, 0, 0 },
    { VHU_SET_PROTOCOL_FEATURES, 8, 0 },
    { VHU_GET_QUEUE_NUM, 0, 0 },
    { VHU_SET_VRING_ENABLE, 8, 0 },
    { VHU_SEND_RARP, 8, 0 },
    { VHU_NET_SET_MTU, 8, 0 },
    { VHU_SET_BACKEND_REQ_FD, 0, 1 },
    { VHU_GET_CONFIG, 12 + 4, 0 },
    { VHU_SET_CONFIG, 12 + 4, 0 },
    { VHU_GET_MAX_MEM_SLOTS, 0, 0 },
    { VHU_ADD_MEM_REG, 40, 1 },
    { VHU_REM_MEM_REG, 40, 0 },
};

/* Every request with its payload one byte short ('arg' -1) or long (+1):
 * always a violation. */
static int
s_size_off_by_one(struct hctx *ctx, const void *arg)
{
    int delta = (int) (intptr_t) arg;

    for (size_t i = 0; i < ARRAY_SIZE(shapes); i++) {
        const struct req_shape *s = &shapes[i];
        if (delta < 0 && !s->size) {
            continue;           /* "size -1" is s_size's 0xffffffff */
        }
        uint8_t payload[VHU_MAX_PAYLOAD];
        memset(payload, 0, sizeof payload);
        if (s->request == VHU_SET_MEM_TABLE) {
            payload[0] = 1;                     /* n_regions */
        } else if (s->request == VHU_GET_CONFIG
                   || s->request == VHU_SET_CONFIG) {
            payload[4] = 4;                     /* config size */
        }
        int fds[1] = { h_memfd("size", 4096) };
        int fd = open_conn(ctx, false, 0);
        if (fd < 0) {
            close(fds[0]);
            return -1;
        }
        uint32_t size = s->size + (uint32_t) delta;
        int err = h_send(fd, s->request, VHU_FLAG_VERSION, payload, size,
                         fds, s->n_fds);
        close(fds[0]);
        if (err) {
            close(fd);
            return h_fail(ctx, "send: %s", strerror(-err));
        }
        /* Sizes above the largest payload fail while reading the header. */
        if (h_expect_broken(ctx, fd, size > VHU_MAX_PAYLOAD ? "bad header"
                                                           : "size")) {
            return h_fail(ctx, "%s with %u payload bytes",
                          vhu_request_name(s->request), size);
        }
    }
    return 0;
}

/* Request codes we do not serve, reserved or unknown. */
static int
s_unknown_request(struct hctx *ctx, const void *arg)
{
    static const uint32_t codes[] = {
        0, VHU_SET_LOG_BASE, VHU_SET_LOG_FD, VHU_IOTLB_MSG,
        VHU_SET_VRING_ENDIAN, 26, 27, 28, 29, 30, VHU_GET_INFLIGHT_FD,
        VHU_SET_INFLIGHT_FD, 33, VHU_RESET_DEVICE, VHU_VRING_KICK,
        VHU_SET_STATUS, VHU_GET_STATUS, 41, 42, 255, 1000, 0x7fffffff,
        0xffffffff,
    };
    uint64_t zero = 0;

    for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
        for (int with_payload = 0; with_payload < 2; with_payload++) {
            int fd = open_conn(ctx, true, PF_ALL);
            if (fd < 0) {
                return -1;
            }
            h_send(fd, codes[i], VHU_FLAG_VERSION | VHU_FLAG_NEED_REPLY,
                   &zero, with_payload ? 8 : 0, NULL, 0);
            if (check_outcome(ctx, fd, codes[i], E_BROKEN, true, NULL)) {
                return h_fail(ctx, "request code %u", codes[i]);
            }
        }
    }
    return 0;
}

/* Version bits other than 1: unreadable. */
static int
s_bad_version(struct hctx *ctx, const void *arg)
{
    static const uint32_t flags[] = { 0, 2, 3, VHU_FLAG_NEED_REPLY,
                                      0xfffffffc };
    for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
        int fd = open_conn(ctx, false, 0);
        if (fd < 0) {
            return -1;
        }
        h_send(fd, VHU_GET_FEATURES, flags[i], NULL, 0, NULL, 0);
        if (h_expect_broken(ctx, fd, "bad header")) {
            return h_fail(ctx, "flags %#x", flags[i]);
        }
    }
    return 0;
}

/* The reply bit on a request, or junk in the unused flag bits: the switch
 * may serve or drop the connection, but must do one of them, once. */
static int
s_odd_flags(struct hctx *ctx, const void *arg)
{
    static const uint32_t flags[] = {
        VHU_FLAG_VERSION | VHU_FLAG_REPLY,
        VHU_FLAG_VERSION | 0xfffffff0,
        VHU_FLAG_VERSION | VHU_FLAG_REPLY | VHU_FLAG_NEED_REPLY,
    };
    for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
        int fd = open_conn(ctx, false, 0);
        if (fd < 0) {
            return -1;
        }
        struct vhu_msg msg;
        h_send(fd, VHU_GET_FEATURES, flags[i], NULL, 0, NULL, 0);
        int err = h_recv(fd, &msg, H_REPLY_MS);
        if (err == -ECONNRESET) {
            close(fd);
            continue;           /* refused: fine */
        }
        if (err || msg.request != VHU_GET_FEATURES) {
            close(fd);
            return h_fail(ctx, "flags %#x: neither served nor dropped (%s)",
                          flags[i], strerror(-err));
        }
        err = h_expect_alive(ctx, fd);
        h_hangup(ctx, fd);
        if (err) {
            return err;
        }
    }
    return 0;
}

/* ---- File descriptors where none belong. ---- */

/* A pool of descriptors of every kind to attach. */
struct fd_pool {
    int fds[8];
    unsigned n;
};

static void
fd_pool_open(struct fd_pool *p)
{
    int pipefd[2], sp[2];

    p->n = 0;
    p->fds[p->n++] = h_memfd("junk", 4096);
    p->fds[p->n++] = eventfd(0, EFD_CLOEXEC);
    if (!pipe2(pipefd, O_CLOEXEC)) {
        p->fds[p->n++] = pipefd[0];
        p->fds[p->n++] = pipefd[1];
    }
    if (!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp)) {
        p->fds[p->n++] = sp[0];
        p->fds[p->n++] = sp[1];
    }
    p->fds[p->n++] = open("/dev/null", O_RDWR | O_CLOEXEC);
    p->fds[p->n++] = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void
fd_pool_close(struct fd_pool *p)
{
    for (unsigned i = 0; i < p->n; i++) {
        if (p->fds[i] >= 0) {
            close(p->fds[i]);
        }
    }
}

/* 1000 connections, each sending a request that takes no fd with 1..8
 * fds attached (sometimes to the payload's bytes rather than the
 * header's), and every tenth 9..20 fds (more than any message carries, more
 * than the switch's receive buffer holds). */
static int
s_junk_fds(struct hctx *ctx, const void *arg)
{
    static const struct req_shape noneed[] = {
        { VHU_GET_FEATURES, 0, 0 }, { VHU_SET_FEATURES, 8, 0 },
        { VHU_SET_OWNER, 0, 0 }, { VHU_GET_PROTOCOL_FEATURES, 0, 0 },
        { VHU_GET_QUEUE_NUM, 0, 0 }, { VHU_SET_VRING_NUM, 8, 0 },
        { VHU_GET_VRING_BASE, 8, 0 }, { VHU_SET_VRING_ENABLE, 8, 0 },
        { VHU_GET_MAX_MEM_SLOTS, 0, 0 }, { VHU_NET_SET_MTU, 8, 0 },
        { VHU_SEND_RARP, 8, 0 }, { VHU_SET_VRING_ADDR, 40, 0 },
    };
    unsigned n_iter = arg ? (unsigned) (uintptr_t) arg : 1000;
    struct fd_pool pool;
    int res = 0;

    fd_pool_open(&pool);
    for (unsigned i = 0; i < n_iter && !res; i++) {
        const struct req_shape *s = &noneed[i % ARRAY_SIZE(noneed)];
        int fds[24];
        unsigned n = i % 10 == 9 ? 9 + i % 12 : 1 + i % 8;
        for (unsigned k = 0; k < n; k++) {
            fds[k] = pool.fds[(i + k) % pool.n];
        }
        uint8_t payload[64] = { 0 };
        if (s->request == VHU_NET_SET_MTU) {
            payload[0] = 0xdc;      /* 1500 */
            payload[1] = 0x05;
        }
        int fd = open_conn(ctx, false, 0);
        if (fd < 0) {
            res = -1;
            break;
        }
        if (s->size && i % 3 == 0) {
            /* Header alone, then the payload carrying the fds. */
            uint32_t hdr[3] = { s->request, VHU_FLAG_VERSION, s->size };
            h_send_raw(fd, hdr, sizeof hdr, NULL, 0);
            h_send_raw(fd, payload, s->size, fds, n);
        } else {
            h_send(fd, s->request, VHU_FLAG_VERSION, payload, s->size, fds,
                   n);
        }
        res = h_expect_broken(ctx, fd, n > VHU_MAX_FDS ? "bad header"
                                                       : "file descriptors");
        if (res) {
            h_fail(ctx, "iteration %u: %s with %u fds", i,
                   vhu_request_name(s->request), n);
        }
    }
    fd_pool_close(&pool);
    return res;
}

/* ---- SET_MEM_TABLE. ---- */

enum fd_kind { K_MEMFD, K_PIPE, K_EVENTFD, K_SOCKET, K_RDONLY, K_SEALED };

struct mem_case {
    uint32_t n_regions;         /* what the table says */
    uint32_t n_slots;           /* region slots in the payload */
    unsigned n_fds;
    enum fd_kind kind;
    uint64_t fd_size;           /* memfd sizes */
    bool ok;
    struct vhu_mem_region r[3];
};

static int
make_fd(enum fd_kind kind, uint64_t size, int *extra)
{
    int p[2], fd = -1;

    *extra = -1;
    switch (kind) {
    case K_MEMFD:
        return h_memfd("table", size);
    case K_PIPE:
        if (pipe2(p, O_CLOEXEC)) {
            return -1;
        }
        *extra = p[1];
        return p[0];
    case K_EVENTFD:
        return eventfd(0, EFD_CLOEXEC);
    case K_SOCKET:
        return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    case K_RDONLY:
        /* A regular file we may only read: mmap(PROT_WRITE, MAP_SHARED)
         * must fail. */
        return open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    case K_SEALED:
        fd = h_memfd("sealed", size);
        if (fd >= 0) {
            fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK
                                   | F_SEAL_GROW);
        }
        return fd;
    }
    return -1;
}

#define R(gpa, size, qva, off) { gpa, size, qva, off }
#define Q FAKE_QVA

static const struct mem_case mem_cases[] = {
    /* 0: n_regions 0 */
    { 0, 1, 0, K_MEMFD, 65536, false, { R(0, 65536, Q, 0) } },
    /* 1: 9 regions in the slots of 8 */
    { 9, 8, 8, K_MEMFD, 65536, false, { R(0, 65536, Q, 0) } },
    /* 2: 0xffffffff regions */
    { 0xffffffff, 8, 8, K_MEMFD, 65536, false, { R(0, 65536, Q, 0) } },
    /* 3: fewer fds than regions */
    { 2, 2, 1, K_MEMFD, 65536, false,
      { R(0, 65536, Q, 0), R(0x100000, 65536, Q + 0x100000, 0) } },
    /* 4: more fds than regions */
    { 1, 1, 2, K_MEMFD, 65536, false, { R(0, 65536, Q, 0) } },
    /* 5: overlapping guest-physical ranges */
    { 2, 2, 2, K_MEMFD, 65536, false,
      { R(0, 65536, Q, 0), R(0x8000, 65536, Q + 0x100000, 0) } },
    /* 6: overlapping front-end addresses */
    { 2, 2, 2, K_MEMFD, 65536, false,
      { R(0, 65536, Q, 0), R(0x100000, 65536, Q + 0xf000, 0) } },
    /* 7: gpa + size wraps */
    { 1, 1, 1, K_MEMFD, 65536, false,
      { R(0xfffffffffffff000ull, 0x2000, Q, 0) } },
    /* 8: qva + size wraps */
    { 1, 1, 1, K_MEMFD, 65536, false,
      { R(0, 0x2000, 0xfffffffffffff000ull, 0) } },
    /* 9: mmap_offset + size wraps */
    { 1, 1, 1, K_MEMFD, 65536, false,
      { R(0, 0x2000, Q, 0xfffffffffffff000ull) } },
    /* 10: size 0 */
    { 1, 1, 1, K_MEMFD, 65536, false, { R(0, 0, Q, 0) } },
    /* 11: fd shorter than size */
    { 1, 1, 1, K_MEMFD, 65536, false, { R(0, 131072, Q, 0) } },
    /* 12: fd shorter than offset + size */
    { 1, 1, 1, K_MEMFD, 65536, false, { R(0, 65536, Q, 4096) } },
    /* 13: a pipe */
    { 1, 1, 1, K_PIPE, 0, false, { R(0, 65536, Q, 0) } },
    /* 14: an eventfd */
    { 1, 1, 1, K_EVENTFD, 0, false, { R(0, 65536, Q, 0) } },
    /* 15: a socket */
    { 1, 1, 1, K_SOCKET, 0, false, { R(0, 65536, Q, 0) } },
    /* 16: a read-only regular file */
    { 1, 1, 1, K_RDONLY, 0, false, { R(0, 4096, Q, 0) } },
    /* 17: a write-sealed memfd */
    { 1, 1, 1, K_SEALED, 65536, false, { R(0, 65536, Q, 0) } },
    /* 18: the second of two regions bad: nothing stays mapped */
    { 2, 2, 2, K_MEMFD, 65536, false,
      { R(0, 65536, Q, 0), R(0x100000, 65536 * 2, Q + 0x100000, 0) } },
    /* 19: fine: unaligned mmap_offset, regions adjacent in both spaces */
    { 2, 2, 2, K_MEMFD, 65536 + 8, true,
      { R(0, 65536, Q, 8), R(65536, 65536, Q + 65536, 0) } },
    /* 20: fine: UML's fixed two slots with one region in use */
    { 1, 2, 1, K_MEMFD, 65536, true, { R(0, 65536, Q, 0) } },
    /* 21: fine or refused, never fatal: a region 64 GiB into a sparse fd */
    { 1, 1, 1, K_MEMFD, (1ull << 36) + 4096, true,
      { R(0, 4096, Q, 1ull << 36) } },
};

#undef R
#undef Q

static int
s_mem_table(struct hctx *ctx, const void *arg)
{
    const struct mem_case *c = &mem_cases[(uintptr_t) arg];
    struct vhu_mem_table t;
    int fds[8] = { -1 }, extras[8] = { -1 };
    unsigned n_fds = MIN(c->n_fds, 8u);

    memset(&t, 0, sizeof t);
    t.n_regions = c->n_regions;
    for (unsigned i = 0; i < 3 && i < c->n_slots; i++) {
        t.regions[i] = c->r[i];
    }
    for (unsigned i = 0; i < n_fds; i++) {
        fds[i] = make_fd(c->kind, c->fd_size, &extras[i]);
    }
    uint32_t size = 8 + 32 * c->n_slots;
    int res = one_request(ctx, VHU_SET_MEM_TABLE, &t, size, fds, n_fds,
                          c->ok ? E_OK : E_BROKEN, "SET_MEM_TABLE");
    for (unsigned i = 0; i < n_fds; i++) {
        close(fds[i]);
        if (extras[i] >= 0) {
            close(extras[i]);
        }
    }
    return res;
}

/* More than 8 regions announced with a payload too large to read. */
static int
s_mem_table_oversize(struct hctx *ctx, const void *arg)
{
    int fd = open_conn(ctx, true, PF_ALL);
    if (fd < 0) {
        return -1;
    }
    uint8_t payload[8 + 9 * 32] = { 9 };
    uint32_t hdr[3] = { VHU_SET_MEM_TABLE,
                        VHU_FLAG_VERSION | VHU_FLAG_NEED_REPLY,
                        sizeof payload };
    h_send_raw(fd, hdr, sizeof hdr, NULL, 0);
    h_send_raw(fd, payload, sizeof payload, NULL, 0);
    return h_expect_broken(ctx, fd, "bad header");
}

/* ---- ADD_MEM_REG / REM_MEM_REG. ---- */

static struct vhu_mem_reg
mem_reg(uint64_t gpa, uint64_t size, uint64_t qva)
{
    struct vhu_mem_reg r = { 0, { gpa, size, qva, 0 } };
    return r;
}

/* Fills every slot, then one more: refused and fatal. */
static int
s_add_limit(struct hctx *ctx, const void *arg)
{
    uint64_t slots;
    int fd = open_conn(ctx, true, PF_ALL);
    if (fd < 0) {
        return -1;
    }
    struct vhu_msg msg;
    h_send(fd, VHU_GET_MAX_MEM_SLOTS, VHU_FLAG_VERSION, NULL, 0, NULL, 0);
    if (h_recv(fd, &msg, H_REPLY_MS) || msg.size != 8) {
        close(fd);
        return h_fail(ctx, "GET_MAX_MEM_SLOTS: no answer");
    }
    slots = msg.payload.u64;
    if (slots < 1 || slots > 512) {
        close(fd);
        return h_fail(ctx, "GET_MAX_MEM_SLOTS says %llu",
                      (unsigned long long) slots);
    }
    for (uint64_t i = 0; i <= slots; i++) {
        struct vhu_mem_reg r = mem_reg(i << 20, 4096, FAKE_QVA + (i << 20));
        int mfd = h_memfd("slot", 4096);
        if (i < slots) {
            int64_t ack = h_request_ack(fd, VHU_ADD_MEM_REG, &r, sizeof r,
                                        &mfd, 1);
            close(mfd);
            if (ack) {
                close(fd);
                return h_fail(ctx, "ADD_MEM_REG %llu of %llu refused (%lld)",
                              (unsigned long long) i + 1,
                              (unsigned long long) slots, (long long) ack);
            }
            continue;
        }
        h_send(fd, VHU_ADD_MEM_REG, VHU_FLAG_VERSION | VHU_FLAG_NEED_REPLY,
               &r, sizeof r, &mfd, 1);
        close(mfd);
    }
    return check_outcome(ctx, fd, VHU_ADD_MEM_REG, E_BROKEN, true,
                         "ADD_MEM_REG");
}

static int
s_add_overlap(struct hctx *ctx, const void *arg)
{
    int fd = open_conn(ctx, true, PF_ALL);
    if (fd < 0) {
        return -1;
    }
    struct vhu_mem_reg a = mem_reg(MEM_GPA, MEM_SIZE, FAKE_QVA);
    struct vhu_mem_reg b = mem_reg(MEM_GPA + MEM_SIZE - 4096, MEM_SIZE,
                                   FAKE_QVA + 2 * MEM_SIZE);
    int mfd = h_memfd("add", MEM_SIZE);
    int64_t ack = h_request_ack(fd, VHU_ADD_MEM_REG, &a, sizeof a, &mfd, 1);
    if (ack) {
        close(mfd);
        close(fd);
        return h_fail(ctx, "first ADD_MEM_REG refused");
    }
    h_send(fd, VHU_ADD_MEM_REG, VHU_FLAG_VERSION | VHU_FLAG_NEED_REPLY, &b,
           sizeof b, &mfd, 1);
    close(mfd);
    return check_outcome(ctx, fd, VHU_ADD_MEM_REG, E_BROKEN, true,
                         "ADD_MEM_REG");
}

/* The same region added several times (QEMU's one device per queue pair
 * does it) is mapped once and stays until the last removal; one removal
 * more is refused. */
static int
s_add_identical(struct hctx *ctx, const void *arg)
{
    int fd = open_conn(ctx, true, PF_ALL);
    if (fd < 0) {
        return -1;
    }
    struct vhu_mem_reg a = mem_reg(MEM_GPA, MEM_SIZE, FAKE_QVA);
    int mfd = h_memfd("identical", MEM_SIZE);
    int64_t ack = 0;
    for (int i = 0; i < 3 && !ack; i++) {
        ack = h_request_ack(fd, VHU_ADD_MEM_REG, &a, sizeof a, &mfd, 1);
    }
    close(mfd);
    for (int i = 0; i < 3 && !ack; i++) {
        ack = h_request_ack(fd, VHU_REM_MEM_REG, &a, sizeof a, NULL, 0);
    }
    if (ack) {
        close(fd);
        return h_fail(ctx, "ADD/REM of an identical region refused (%lld)",
                      (long long) ack);
    }
    ack = h_request_ack(fd, VHU_REM_MEM_REG, &a, sizeof a, NULL, 0);
    if (ack <= 0) {
        close(fd);
        return h_fail(ctx, "a fourth REM_MEM_REG of a region added three "
                      "times: ack %lld, expected a refusal", (long long) ack);
    }
    int err = h_expect_alive(ctx, fd);
    h_hangup(ctx, fd);
    return err;
}

/* Removing a region that is not there is refused, not fatal; 'arg' is the
 * number of attempts, each carrying an fd the switch must close. */
static int
s_rem_unknown(struct hctx *ctx, const void *arg)
{
    unsigned n = (unsigned) (uintptr_t) arg;
    int fd = open_conn(ctx, true, PF_ALL);
    if (fd < 0) {
        return -1;
    }
    struct vhu_mem_reg a = mem_reg(MEM_GPA, MEM_SIZE, FAKE_QVA);
    int mfd = h_memfd("rem", MEM_SIZE);
    int64_t ack = h_request_ack(fd, VHU_ADD_MEM_REG, &a, sizeof a, &mfd, 1);
    if (ack) {
        close(mfd);
        close(fd);
        return h_fail(ctx, "ADD_MEM_REG refused");
    }
    for (unsigned i = 0; i < n; i++) {
        struct vhu_mem_reg r = a;
        switch (i % 4) {
        case 0: r.region.gpa += 4096; break;       /* unknown */
        case 1: r.region.size /= 2; break;          /* wrong size */
        case 2: r.region.qva += MEM_SIZE; break;    /* wrong address */
        case 3: r.region.gpa = 0; break;
        }
        ack = h_request_ack(fd, VHU_REM_MEM_REG, &r, sizeof r, &mfd,
                            i % 2);
        if (ack <= 0) {
            close(mfd);
            close(fd);
            return h_fail(ctx, "REM_MEM_REG of an unknown region %u: ack "
                          "%lld, expected a refusal", i, (long long) ack);
        }
    }
    close(mfd);
    /* The real one goes. */
    ack = h_request_ack(fd, VHU_REM_MEM_REG, &a, sizeof a, NULL, 0);
    if (ack) {
        close(fd);
        return h_fail(ctx, "REM_MEM_REG of the region refused (%lld)",
                      (long long) ack);
    }
    int err = h_expect_alive(ctx, fd);
    h_hangup(ctx, fd);
    return err;
}

/* ---- Vring messages. ---- */

static bool
is_fd_request(uint32_t request)
{
    return request == VHU_SET_VRING_KICK || request == VHU_SET_VRING_CALL
           || request == VHU_SET_VRING_ERR;
}

/* One vring message with ring index 'index' (for KICK/CALL/ERR the low
 * bits of the u64, with an fd or with the no-fd bit).  Works out what the
 * switch must do. */
static int
vring_index_case(struct hctx *ctx, uint32_t request, uint32_t index,
                 bool with_fd)
{
    unsigned n_rings = 2 * ctx->n_queue_pairs;
    union vhu_payload p;
    uint32_t size = 8;
    enum expect e = E_BROKEN;
    const char *substr = "out of range";
    int efd = -1;

    memset(&p, 0, sizeof p);
    if (is_fd_request(request)) {
        uint64_t v = index | (with_fd ? 0 : VHU_VRING_NOFD_MASK);
        p.u64 = v;
        if (v & ~(uint64_t) (VHU_VRING_IDX_MASK | VHU_VRING_NOFD_MASK)) {
            substr = "reserved bits";
        } else if (with_fd && (v & VHU_VRING_NOFD_MASK)) {
            substr = "file descriptors";
        } else if ((v & VHU_VRING_IDX_MASK) < n_rings) {
            if (request == VHU_SET_VRING_KICK) {
                substr = "kicked before";
            } else {
                e = E_OK;
            }
        }
        if (with_fd) {
            efd = eventfd(0, EFD_CLOEXEC);
        }
    } else if (request == VHU_SET_VRING_ADDR) {
        p.addr.index = index;
        p.addr.desc_qva = FAKE_QVA;
        p.addr.avail_qva = FAKE_QVA + 4096;
        p.addr.used_qva = FAKE_QVA + 8192;
        size = sizeof p.addr;
    } else {
        p.state.index = index;
        p.state.num = request == VHU_SET_VRING_NUM ? 256 : 1;
    }
    int fd = open_conn(ctx, true, PF_ALL);
    if (fd < 0) {
        if (efd >= 0) {
            close(efd);
        }
        return -1;
    }
    h_send(fd, request, VHU_FLAG_VERSION | VHU_FLAG_NEED_REPLY, &p, size,
           &efd, efd >= 0);
    if (efd >= 0) {
        close(efd);
    }
    bool ack = request != VHU_GET_VRING_BASE;
    if (!ack && e == E_BROKEN) {
        return h_expect_broken(ctx, fd, substr);
    }
    return check_outcome(ctx, fd, request, e, ack, substr);
}

static int
s_vring_index(struct hctx *ctx, const void *arg)
{
    static const uint32_t requests[] = {
        VHU_SET_VRING_NUM, VHU_SET_VRING_ADDR, VHU_SET_VRING_BASE,
        VHU_GET_VRING_BASE, VHU_SET_VRING_KICK, VHU_SET_VRING_CALL,
        VHU_SET_VRING_ERR, VHU_SET_VRING_ENABLE,
    };
    uint32_t indexes[] = { 2 * ctx->n_queue_pairs, 8, 255, 256, 0xffff,
                           0x10000, 0x10001, 0xffffffff };

    for (size_t r = 0; r < ARRAY_SIZE(requests); r++) {
        for (size_t i = 0; i < ARRAY_SIZE(indexes); i++) {
            if (indexes[i] < 2 * ctx->n_queue_pairs) {
                continue;
            }
            for (int with_fd = 0; with_fd <= is_fd_request(requests[r]);
                 with_fd++) {
                if (vring_index_case(ctx, requests[r], indexes[i],
                                     with_fd)) {
                    return h_fail(ctx, "%s index %#x%s",
                                  vhu_request_name(requests[r]), indexes[i],
                                  with_fd ? " with an fd" : "");
                }
            }
        }
    }
    return 0;
}

static int
s_vring_num(struct hctx *ctx, const void *arg)
{
    static const struct {
        uint32_t num;
        enum expect e;
    } cases[] = {
        { 0, E_BROKEN }, { 3, E_BROKEN }, { 255, E_BROKEN },
        { 32769, E_BROKEN }, { 65536, E_BROKEN }, { 0xffffffff, E_BROKEN },
        { 1, E_OK }, { 32768, E_OK },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct vhu_vring_state st = { 1, cases[i].num };
        if (one_request(ctx, VHU_SET_VRING_NUM, &st, sizeof st, NULL, 0,
                        cases[i].e, "power of two")) {
            return h_fail(ctx, "SET_VRING_NUM %u", cases[i].num);
        }
    }
    return 0;
}

static int
s_vring_base(struct hctx *ctx, const void *arg)
{
    struct vhu_vring_state bad = { 0, 65536 }, good = { 0, 65535 };
    if (one_request(ctx, VHU_SET_VRING_BASE, &bad, sizeof bad, NULL, 0,
                    E_BROKEN, "above 65535")) {
        return -1;
    }
    return one_request(ctx, VHU_SET_VRING_BASE, &good, sizeof good, NULL, 0,
                       E_OK, NULL);
}

/* SET_VRING_ADDR against a 1 MiB region at FAKE_QVA (mmap_offset
 * 'offset'), ring size 'num'. */
struct addr_case {
    uint32_t num;
    uint64_t offset;            /* of the region in its fd */
    int64_t desc, avail, used;  /* offsets from FAKE_QVA */
    enum expect e;
};

static const struct addr_case addr_cases[] = {
    /* 0: fine */
    { 256, 0, 0, 4096, 8192, E_OK },
    /* 1: desc not mapped */
    { 256, 0, 2 * MEM_SIZE, 4096, 8192, E_BROKEN },
    /* 2: used below the region */
    { 256, 0, 0, 4096, -8192, E_BROKEN },
    /* 3: desc misaligned */
    { 256, 0, 8, 4096, 8192, E_BROKEN },
    /* 4: avail misaligned */
    { 256, 0, 0, 4097, 8192, E_BROKEN },
    /* 5: used misaligned */
    { 256, 0, 0, 4096, 8194, E_BROKEN },
    /* 6: used straddles the region end */
    { 256, 0, 0, 4096, MEM_SIZE - 1024, E_BROKEN },
    /* 7: desc straddles the region end */
    { 256, 0, MEM_SIZE - 2048, 4096, 8192, E_BROKEN },
    /* 8: desc ends exactly at the region end: fine */
    { 256, 0, MEM_SIZE - 4096, 4096, 8192, E_OK },
    /* 9: aligned front-end address, misaligned in our mapping */
    { 256, 8, 0, 4096, 8192, E_BROKEN },
    /* 10: the largest ring, its used ring does not fit */
    { 32768, 0, 0, 524288, 786432, E_BROKEN },
    /* 11: addresses that wrap */
    { 256, 0, -16, 4096, 8192, E_BROKEN },
};

static int
s_vring_addr(struct hctx *ctx, const void *arg)
{
    const struct addr_case *c = &addr_cases[(uintptr_t) arg];
    int fd = open_conn(ctx, true, PF_ALL);
    if (fd < 0) {
        return -1;
    }
    int mfd = h_memfd("addr", MEM_SIZE + c->offset);
    struct vhu_mem_table t = { .n_regions = 1 };
    t.regions[0] = (struct vhu_mem_region) { MEM_GPA, MEM_SIZE, FAKE_QVA,
                                             c->offset };
    struct vhu_vring_state st = { 0, c->num };
    int64_t ack = h_request_ack(fd, VHU_SET_MEM_TABLE, &t, 8 + 32, &mfd, 1);
    close(mfd);
    if (!ack) {
        ack = h_request_ack(fd, VHU_SET_VRING_NUM, &st, sizeof st, NULL, 0);
    }
    if (ack) {
        close(fd);
        return h_fail(ctx, "set-up refused (%lld)", (long long) ack);
    }
    struct vhu_vring_addr a = {
        .index = 0,
        /* -16: the last 16 bytes of the address space */
        .desc_qva = c->desc == -16 ? ~0ull - 15 : FAKE_QVA + (uint64_t) c->desc,
        .avail_qva = FAKE_QVA + (uint64_t) c->avail,
        .used_qva = FAKE_QVA + (uint64_t) c->used,
    };
    h_send(fd, VHU_SET_VRING_ADDR, VHU_FLAG_VERSION | VHU_FLAG_NEED_REPLY,
           &a, sizeof a, NULL, 0);
    return check_outcome(ctx, fd, VHU_SET_VRING_ADDR, c->e, true,
                         "SET_VRING_ADDR");
}

/* Addresses set before any memory: accepted, then the kick finds them
 * outside guest memory. */
static int
s_addr_before_mem(struct hctx *ctx, const void *arg)
{
    int fd = open_conn(ctx, true, PF_ALL);
    if (fd < 0) {
        return -1;
    }
    struct vhu_vring_state st = { 0, 256 };
    struct vhu_vring_addr a = { .index = 0, .desc_qva = FAKE_QVA,
                                .avail_qva = FAKE_QVA + 4096,
                                .used_qva = FAKE_QVA + 8192 };
    int64_t ack = h_request_ack(fd, VHU_SET_VRING_NUM, &st, sizeof st, NULL,
                                0);
    if (!ack) {
        ack = h_request_ack(fd, VHU_SET_VRING_ADDR, &a, sizeof a, NULL, 0);
    }
    if (ack) {
        close(fd);
        return h_fail(ctx, "NUM/ADDR before memory refused (%lld)",
                      (long long) ack);
    }
    int efd = eventfd(0, EFD_CLOEXEC);
    uint64_t u = 0;
    h_send(fd, VHU_SET_VRING_KICK, VHU_FLAG_VERSION | VHU_FLAG_NEED_REPLY,
           &u, sizeof u, &efd, 1);
    close(efd);
    return check_outcome(ctx, fd, VHU_SET_VRING_KICK, E_BROKEN, true,
                         "not in guest memory");
}

/* GET_VRING_BASE on rings never set up: the initial base, one reply. */
static int
s_get_base_unset(struct hctx *ctx, const void *arg)
{
    int fd = open_conn(ctx, true, PF_ALL);
    if (fd < 0) {
        return -1;
    }
    for (uint32_t i = 0; i < 2 * ctx->n_queue_pairs; i++) {
        struct vhu_vring_state st = { i, 0x1234 };
        struct vhu_msg msg;
        h_send(fd, VHU_GET_VRING_BASE, VHU_FLAG_VERSION | VHU_FLAG_NEED_REPLY,
               &st, sizeof st, NULL, 0);
        int err = h_recv(fd, &msg, H_REPLY_MS);
        if (err || msg.request != VHU_GET_VRING_BASE
            || msg.size != sizeof st || msg.payload.state.index != i
            || msg.payload.state.num != 0) {
            close(fd);
            return h_fail(ctx, "GET_VRING_BASE %u on a ring never set up: "
                          "%s (index %u num %u)", i, strerror(-err),
                          msg.payload.state.index, msg.payload.state.num);
        }
    }
    int err = h_expect_alive(ctx, fd);
    h_hangup(ctx, fd);
    return err;
}

/* ---- NEED_REPLY on everything: exactly one answer each. ---- */

static int
s_need_reply(struct hctx *ctx, const void *arg)
{
    int mfd = h_memfd("nr", MEM_SIZE);
    int efd = eventfd(0, EFD_CLOEXEC);
    struct vhu_mem_table t = { .n_regions = 1 };
    t.regions[0] = (struct vhu_mem_region) { MEM_GPA, MEM_SIZE, FAKE_QVA, 0 };
    struct vhu_mem_reg reg = mem_reg(MEM_GPA, MEM_SIZE, FAKE_QVA);
    struct vhu_mem_reg unknown = mem_reg(0, 4096, 0);
    struct vhu_vring_state num = { 0, 256 }, bad_num = { 0, 3 };
    struct vhu_vring_state zero = { 0, 0 }, one = { 1, 1 };
    struct vhu_vring_addr addr = { .index = 0, .desc_qva = FAKE_QVA,
                                   .avail_qva = FAKE_QVA + 4096,
                                   .used_qva = FAKE_QVA + 8192 };
    struct vhu_config cfg = { .offset = 0, .size = 4 };
    uint64_t f_ok = (1ull << 32) | (1ull << VHU_F_PROTOCOL_FEATURES);
    uint64_t f_bad = 1ull << 0, pf = PF_ALL, ring0 = 0;
    uint64_t mtu_ok = 1500, mtu_bad = 10, mac = 0x020202020202ull;
    const struct {
        uint32_t request;
        const void *p;
        uint32_t size;
        const int *fd;
        enum expect e;
        bool own_reply;
    } cases[] = {
        { VHU_GET_FEATURES, NULL, 0, NULL, E_OK, true },
        { VHU_GET_PROTOCOL_FEATURES, NULL, 0, NULL, E_OK, true },
        { VHU_GET_QUEUE_NUM, NULL, 0, NULL, E_OK, true },
        { VHU_GET_MAX_MEM_SLOTS, NULL, 0, NULL, E_OK, true },
        { VHU_GET_VRING_BASE, &zero, 8, NULL, E_OK, true },
        { VHU_GET_CONFIG, &cfg, 16, NULL, E_OK, true },
        { VHU_SET_FEATURES, &f_ok, 8, NULL, E_OK, false },
        { VHU_SET_PROTOCOL_FEATURES, &pf, 8, NULL, E_OK, false },
        { VHU_SET_OWNER, NULL, 0, NULL, E_OK, false },
        { VHU_RESET_OWNER, NULL, 0, NULL, E_OK, false },
        { VHU_SET_MEM_TABLE, &t, 40, &mfd, E_OK, false },
        { VHU_SET_VRING_NUM, &num, 8, NULL, E_OK, false },
        { VHU_SET_VRING_ADDR, &addr, 40, NULL, E_OK, false },
        { VHU_SET_VRING_BASE, &zero, 8, NULL, E_OK, false },
        { VHU_SET_VRING_CALL, &ring0, 8, &efd, E_OK, false },
        { VHU_SET_VRING_ERR, &ring0, 8, &efd, E_OK, false },
        { VHU_SET_VRING_ENABLE, &one, 8, NULL, E_OK, false },
        { VHU_SEND_RARP, &mac, 8, NULL, E_OK, false },
        { VHU_NET_SET_MTU, &mtu_ok, 8, NULL, E_OK, false },
        { VHU_SET_BACKEND_REQ_FD, NULL, 0, &efd, E_OK, false },
        { VHU_ADD_MEM_REG, &reg, 40, &mfd, E_OK, false },
        { VHU_NET_SET_MTU, &mtu_bad, 8, NULL, E_REFUSED, false },
        { VHU_REM_MEM_REG, &unknown, 40, NULL, E_REFUSED, false },
        { VHU_SET_CONFIG, &cfg, 16, NULL, E_REFUSED, false },
        { VHU_SET_FEATURES, &f_bad, 8, NULL, E_BROKEN, false },
        { VHU_SET_VRING_NUM, &bad_num, 8, NULL, E_BROKEN, false },
        { VHU_SET_VRING_KICK, &ring0, 8, &efd, E_BROKEN, false },
        { VHU_SET_LOG_BASE, &ring0, 8, NULL, E_BROKEN, false },
        { 41, NULL, 0, NULL, E_BROKEN, false },
        { VHU_GET_FEATURES, &ring0, 8, NULL, E_BROKEN, true },
        { VHU_GET_QUEUE_NUM, NULL, 0, &efd, E_BROKEN, true },
    };
    int res = 0;

    for (size_t i = 0; i < ARRAY_SIZE(cases) && !res; i++) {
        int fd = open_conn(ctx, true, PF_ALL);
        if (fd < 0) {
            res = -1;
            break;
        }
        h_send(fd, cases[i].request, VHU_FLAG_VERSION | VHU_FLAG_NEED_REPLY,
               cases[i].p, cases[i].size, cases[i].fd, cases[i].fd != NULL);
        if (cases[i].own_reply && cases[i].e == E_OK) {
            struct vhu_msg msg;
            int err = h_recv(fd, &msg, H_REPLY_MS);
            if (err || msg.request != cases[i].request
                || !(msg.flags & VHU_FLAG_REPLY)) {
                close(fd);
                res = h_fail(ctx, "no reply of its own");
            } else {
                res = h_expect_alive(ctx, fd);  /* and no ack after it */
                h_hangup(ctx, fd);
            }
        } else if (cases[i].own_reply) {
            /* Invalid, so no reply of its own; an ack is not owed. */
            res = h_expect_broken(ctx, fd, NULL);
        } else {
            res = check_outcome(ctx, fd, cases[i].request, cases[i].e, true,
                                NULL);
        }
        if (res) {
            char why[sizeof ctx->why];
            snprintf(why, sizeof why, "%s", ctx->why);
            snprintf(ctx->why, sizeof ctx->why, "%s with NEED_REPLY (case "
                     "%zu): %.400s", vhu_request_name(cases[i].request), i,
                     why);
        }
    }
    close(mfd);
    close(efd);
    return res;
}

/* NEED_REPLY without REPLY_ACK negotiated: no ack at all. */
static int
s_need_reply_unnegotiated(struct hctx *ctx, const void *arg)
{
    int fd = open_conn(ctx, true, 0);
    if (fd < 0) {
        return -1;
    }
    struct vhu_vring_state num = { 0, 256 };
    h_send(fd, VHU_SET_VRING_NUM, VHU_FLAG_VERSION | VHU_FLAG_NEED_REPLY,
           &num, sizeof num, NULL, 0);
    int err = h_expect_alive(ctx, fd);
    h_hangup(ctx, fd);
    return err;
}

/* ---- Other requests with bad values. ---- */

static int
s_bad_values(struct hctx *ctx, const void *arg)
{
    uint64_t f_bad = (1ull << 32) | (1ull << 0);
    uint64_t pf_bad = PF_ACK | (1ull << 12);
    struct vhu_config big = { .offset = 0, .size = 300 };
    struct vhu_config wrap = { .offset = 0xfffffffe, .size = 4 };

    if (one_request(ctx, VHU_SET_FEATURES, &f_bad, 8, NULL, 0, E_BROKEN,
                    "not offered")
        || one_request(ctx, VHU_SET_PROTOCOL_FEATURES, &pf_bad, 8, NULL, 0,
                       E_BROKEN, "not offered")
        || one_request(ctx, VHU_SET_CONFIG, &big, 12 + 256, NULL, 0,
                       E_BROKEN, "config size")
        || one_request(ctx, VHU_SET_CONFIG, &wrap, 12 + 4, NULL, 0,
                       E_BROKEN, "overflows")) {
        return -1;
    }
    return 0;
}

/* ---- Connections. ---- */

/* A second front end while one is attached is turned away; the first one
 * is not disturbed. */
static int
s_second_frontend(struct hctx *ctx, const void *arg)
{
    int fd = open_conn(ctx, true, PF_ALL);
    if (fd < 0) {
        return -1;
    }
    for (int i = 0; i < 20; i++) {
        int fd2 = h_connect_now(ctx->sock_path);
        if (fd2 < 0) {
            continue;
        }
        h_send(fd2, VHU_GET_FEATURES, VHU_FLAG_VERSION, NULL, 0, NULL, 0);
        struct vhu_msg msg;
        int err = h_recv(fd2, &msg, H_REPLY_MS);
        close(fd2);
        if (err != -ECONNRESET) {
            close(fd);
            return h_fail(ctx, "a second front end was served (%s)",
                          strerror(-err));
        }
    }
    int err = h_expect_alive(ctx, fd);
    h_hangup(ctx, fd);
    return err;
}

static int
get_u64(int fd, uint32_t request, uint64_t *out)
{
    struct vhu_msg msg;
    int err = h_send(fd, request, VHU_FLAG_VERSION, NULL, 0, NULL, 0);
    if (!err) {
        err = h_recv(fd, &msg, H_REPLY_MS);
    }
    if (!err) {
        *out = msg.payload.u64;
    }
    return err;
}

/* 'arg' rapid connect/disconnect cycles, without waiting for the switch
 * to notice each hang-up (so many are turned away as second front ends),
 * some leaving memory tables, half headers or unread replies behind.  Then
 * a normal connection must work. */
static int
s_rapid_cycles(struct hctx *ctx, const void *arg)
{
    unsigned n = (unsigned) (uintptr_t) arg;
    unsigned failed = 0;
    int mfd = h_memfd("rapid", MEM_SIZE);
    struct vhu_mem_table t = { .n_regions = 1 };
    t.regions[0] = (struct vhu_mem_region) { MEM_GPA, MEM_SIZE, FAKE_QVA, 0 };

    for (unsigned i = 0; i < n; i++) {
        int fd = h_connect_now(ctx->sock_path);
        if (fd < 0) {
            failed++;
            continue;
        }
        uint32_t hdr[3] = { VHU_GET_FEATURES, VHU_FLAG_VERSION, 0 };
        switch (i % 5) {
        case 0:
            break;
        case 1:
            h_send(fd, VHU_GET_FEATURES, VHU_FLAG_VERSION, NULL, 0, NULL, 0);
            break;
        case 2:
            h_send(fd, VHU_SET_MEM_TABLE, VHU_FLAG_VERSION, &t, 40, &mfd, 1);
            break;
        case 3:
            h_send_raw(fd, hdr, 5, NULL, 0);
            break;
        case 4:
            h_send(fd, VHU_SET_MEM_TABLE, VHU_FLAG_VERSION, &t, 40, &mfd, 1);
            h_send(fd, VHU_GET_QUEUE_NUM, VHU_FLAG_VERSION, NULL, 0, NULL, 0);
            shutdown(fd, SHUT_RDWR);
            break;
        }
        close(fd);
    }
    close(mfd);
    h_log(ctx, "%u of %u connects failed", failed, n);
    if (failed == n) {
        return h_fail(ctx, "no connect succeeded");
    }
    /* Connections of the cycles may still wait in the listen backlog; the
     * switch accepts each and, if it comes after an attached one, turns it
     * away.  So a normal front end may need a few tries, not more. */
    for (int tries = 0; tries < 20; tries++) {
        int fd = h_connect(ctx, ctx->sock_path, ctx->port);
        if (fd < 0) {
            return -1;
        }
        uint64_t features;
        if (get_u64(fd, VHU_GET_FEATURES, &features) == -ECONNRESET) {
            close(fd);
            h_sleep_ms(50);
            continue;
        }
        close(fd);
        fd = open_conn(ctx, true, PF_ALL);
        if (fd < 0) {
            return h_fail(ctx, "no normal connection after the cycles");
        }
        int err = h_expect_alive(ctx, fd);
        h_hangup(ctx, fd);
        return err;
    }
    return h_fail(ctx, "turned away 20 times after the cycles");
}

#define ARG(x) ((const void *) (uintptr_t) (x))

const struct scenario h_msg_scenarios[] = {
    { "msg-split-header", s_split_header, NULL },
    { "msg-split-bytes", s_split_bytes, NULL },
    { "msg-stall", s_stall, NULL },
    { "msg-slow-drip", s_slow_drip, NULL },
    { "msg-header-eof", s_header_eof, ARG(12) },
    { "msg-partial-header-eof", s_header_eof, ARG(5) },
    { "msg-size-ffffffff", s_size, ARG(0xffffffff) },
    { "msg-size-max-plus-1", s_size, ARG(VHU_MAX_PAYLOAD + 1) },
    { "msg-size-short", s_size_off_by_one, ARG(-1) },
    { "msg-size-long", s_size_off_by_one, ARG(1) },
    { "msg-unknown-request", s_unknown_request, NULL },
    { "msg-bad-version", s_bad_version, NULL },
    { "msg-odd-flags", s_odd_flags, NULL },
    { "msg-junk-fds", s_junk_fds, ARG(1000) },
    { "mem-0-regions", s_mem_table, ARG(0) },
    { "mem-9-regions", s_mem_table, ARG(1) },
    { "mem-9-regions-oversize", s_mem_table_oversize, NULL },
    { "mem-ffffffff-regions", s_mem_table, ARG(2) },
    { "mem-fewer-fds", s_mem_table, ARG(3) },
    { "mem-more-fds", s_mem_table, ARG(4) },
    { "mem-overlap-gpa", s_mem_table, ARG(5) },
    { "mem-overlap-qva", s_mem_table, ARG(6) },
    { "mem-gpa-wrap", s_mem_table, ARG(7) },
    { "mem-qva-wrap", s_mem_table, ARG(8) },
    { "mem-offset-wrap", s_mem_table, ARG(9) },
    { "mem-size-0", s_mem_table, ARG(10) },
    { "mem-fd-short", s_mem_table, ARG(11) },
    { "mem-fd-short-offset", s_mem_table, ARG(12) },
    { "mem-pipe-fd", s_mem_table, ARG(13) },
    { "mem-eventfd", s_mem_table, ARG(14) },
    { "mem-socket-fd", s_mem_table, ARG(15) },
    { "mem-readonly-file", s_mem_table, ARG(16) },
    { "mem-sealed-memfd", s_mem_table, ARG(17) },
    { "mem-second-bad", s_mem_table, ARG(18) },
    { "mem-unaligned-offset-ok", s_mem_table, ARG(19) },
    { "mem-uml-slots-ok", s_mem_table, ARG(20) },
    { "mem-sparse-64g-ok", s_mem_table, ARG(21) },
    { "mem-add-beyond-limit", s_add_limit, NULL },
    { "mem-add-overlap", s_add_overlap, NULL },
    { "mem-add-identical", s_add_identical, NULL },
    { "mem-rem-unknown", s_rem_unknown, ARG(8) },
    { "mem-rem-unknown-fds-x1000", s_rem_unknown, ARG(1000) },
    { "vring-index", s_vring_index, NULL },
    { "vring-num", s_vring_num, NULL },
    { "vring-base", s_vring_base, NULL },
    { "vring-addr-ok", s_vring_addr, ARG(0) },
    { "vring-addr-unmapped", s_vring_addr, ARG(1) },
    { "vring-addr-below", s_vring_addr, ARG(2) },
    { "vring-addr-misaligned-desc", s_vring_addr, ARG(3) },
    { "vring-addr-misaligned-avail", s_vring_addr, ARG(4) },
    { "vring-addr-misaligned-used", s_vring_addr, ARG(5) },
    { "vring-addr-straddle-used", s_vring_addr, ARG(6) },
    { "vring-addr-straddle-desc", s_vring_addr, ARG(7) },
    { "vring-addr-end-ok", s_vring_addr, ARG(8) },
    { "vring-addr-misaligned-va", s_vring_addr, ARG(9) },
    { "vring-addr-32768", s_vring_addr, ARG(10) },
    { "vring-addr-wrap", s_vring_addr, ARG(11) },
    { "vring-addr-before-mem", s_addr_before_mem, NULL },
    { "vring-get-base-unset", s_get_base_unset, NULL },
    { "need-reply-all", s_need_reply, NULL },
    { "need-reply-unnegotiated", s_need_reply_unnegotiated, NULL },
    { "bad-values", s_bad_values, NULL },
    { "second-frontend", s_second_frontend, NULL },
    { "rapid-cycles", s_rapid_cycles, ARG(500) },
    { NULL, NULL, NULL },
};
