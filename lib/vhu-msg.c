/* vhu-msg.c -- vhost-user message framing and per-request validation, see
 * vhu-msg.h.  Called by the device state machine (vhu-dev.c) on the
 * control thread, and by tests and front ends (vupktgen) to talk to us.
 *
 * Receiving is the part that must be paranoid.  A message is a 12-byte
 * header, then 'size' payload bytes; file descriptors ride as SCM_RIGHTS
 * ancillary data on whichever recvmsg() call returns the first byte of the
 * sendmsg() that carried them.  So every recvmsg() of a message collects
 * fds, not only the first, and every error path closes what it collected:
 * a front end must not be able to make us leak descriptors.
 *
 * The size is checked before the payload is read: a header announcing
 * more than the largest payload we know is a protocol error, and we stop
 * reading there rather than try to skip gigabytes. */
#include <config.h>

#include "vhu-msg.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* Room for more fds than we accept, so that a sender of 9..16 fds is seen
 * (and the fds closed) rather than silently truncated by the kernel. */
#define RECV_FDS_ROOM (2 * VHU_MAX_FDS)

static const char *const request_names[VHU_REQUEST_MAX] = {
    [VHU_NONE] = "NONE",
    [VHU_GET_FEATURES] = "GET_FEATURES",
    [VHU_SET_FEATURES] = "SET_FEATURES",
    [VHU_SET_OWNER] = "SET_OWNER",
    [VHU_RESET_OWNER] = "RESET_OWNER",
    [VHU_SET_MEM_TABLE] = "SET_MEM_TABLE",
    [VHU_SET_LOG_BASE] = "SET_LOG_BASE",
    [VHU_SET_LOG_FD] = "SET_LOG_FD",
    [VHU_SET_VRING_NUM] = "SET_VRING_NUM",
    [VHU_SET_VRING_ADDR] = "SET_VRING_ADDR",
    [VHU_SET_VRING_BASE] = "SET_VRING_BASE",
    [VHU_GET_VRING_BASE] = "GET_VRING_BASE",
    [VHU_SET_VRING_KICK] = "SET_VRING_KICK",
    [VHU_SET_VRING_CALL] = "SET_VRING_CALL",
    [VHU_SET_VRING_ERR] = "SET_VRING_ERR",
    [VHU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
    [VHU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
    [VHU_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
    [VHU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
    [VHU_SEND_RARP] = "SEND_RARP",
    [VHU_NET_SET_MTU] = "NET_SET_MTU",
    [VHU_SET_BACKEND_REQ_FD] = "SET_BACKEND_REQ_FD",
    [VHU_IOTLB_MSG] = "IOTLB_MSG",
    [VHU_SET_VRING_ENDIAN] = "SET_VRING_ENDIAN",
    [VHU_GET_CONFIG] = "GET_CONFIG",
    [VHU_SET_CONFIG] = "SET_CONFIG",
    [26] = "CREATE_CRYPTO_SESSION",
    [27] = "CLOSE_CRYPTO_SESSION",
    [28] = "POSTCOPY_ADVISE",
    [29] = "POSTCOPY_LISTEN",
    [30] = "POSTCOPY_END",
    [VHU_GET_INFLIGHT_FD] = "GET_INFLIGHT_FD",
    [VHU_SET_INFLIGHT_FD] = "SET_INFLIGHT_FD",
    [33] = "GPU_SET_SOCKET",
    [VHU_RESET_DEVICE] = "RESET_DEVICE",
    [VHU_VRING_KICK] = "VRING_KICK",
    [VHU_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
    [VHU_ADD_MEM_REG] = "ADD_MEM_REG",
    [VHU_REM_MEM_REG] = "REM_MEM_REG",
    [VHU_SET_STATUS] = "SET_STATUS",
    [VHU_GET_STATUS] = "GET_STATUS",
};

const char *
vhu_request_name(uint32_t request)
{
    if (request < ARRAY_SIZE(request_names) && request_names[request]) {
        return request_names[request];
    }
    return "UNKNOWN";
}

/* ---- File descriptors owned by a message. ---- */

void
vhu_msg_close_fds(struct vhu_msg *msg)
{
    for (unsigned i = 0; i < msg->n_fds && i < VHU_MAX_FDS; i++) {
        if (msg->fds[i] >= 0) {
            close(msg->fds[i]);
            msg->fds[i] = -1;
        }
    }
}

int
vhu_msg_take_fd(struct vhu_msg *msg, unsigned i)
{
    if (i >= msg->n_fds || i >= VHU_MAX_FDS) {
        return -1;
    }
    int fd = msg->fds[i];
    msg->fds[i] = -1;
    return fd;
}

/* Adds the fds of every SCM_RIGHTS block in 'mh' to 'msg'; closes those
 * beyond VHU_MAX_FDS.  Returns 0, or -EPROTO if any had to be closed or the
 * kernel truncated the control data (it closes what did not fit). */
static int
collect_fds(struct msghdr *mh, struct vhu_msg *msg)
{
    int err = mh->msg_flags & MSG_CTRUNC ? -EPROTO : 0;

    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (msg->n_fds < VHU_MAX_FDS) {
                msg->fds[msg->n_fds++] = fd;
            } else {
                close(fd);
                err = -EPROTO;
            }
        }
    }
    return err;
}

/* Progress of one message: bytes read so far, which decides between a
 * clean hang-up (nothing read yet) and a truncated message; and the time
 * by which the rest must have arrived. */
struct recv_state {
    size_t got;
    uint64_t timeout_ms;        /* the socket's SO_RCVTIMEO, 0 if none */
    uint64_t deadline_ms;       /* set when the first byte arrives */
};

static uint64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* SO_RCVTIMEO bounds each recvmsg(), not a message: a front end dripping
 * one byte just inside it would hold the control thread for minutes.  So
 * once a message has started, every further read first waits for data
 * only until the message's deadline. */
static int
wait_rest(int sock, const struct recv_state *st)
{
    for (;;) {
        uint64_t now = mono_ms();
        if (now >= st->deadline_ms) {
            return -ETIMEDOUT;
        }
        struct pollfd pfd = { .fd = sock, .events = POLLIN };
        int n = poll(&pfd, 1, (int) MIN(st->deadline_ms - now, 60000u));
        if (n > 0) {
            return 0;
        }
        if (n < 0 && errno != EINTR) {
            return -errno;
        }
    }
}

/* Reads exactly 'len' bytes into 'buf', collecting fds on the way. */
static int
recv_full(int sock, void *buf, size_t len, struct vhu_msg *msg,
          struct recv_state *st)
{
    union {
        char buf[CMSG_SPACE(RECV_FDS_ROOM * sizeof(int))];
        struct cmsghdr align;
    } control;
    size_t done = 0;

    while (done < len) {
        struct iovec iov = { (char *) buf + done, len - done };
        struct msghdr mh = {
            .msg_iov = &iov,
            .msg_iovlen = 1,
            .msg_control = control.buf,
            .msg_controllen = sizeof control.buf,
        };
        if (st->got && st->timeout_ms) {
            int err = wait_rest(sock, st);
            if (err) {
                return err;
            }
        }
        ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            int err = errno == EAGAIN || errno == EWOULDBLOCK ? EAGAIN : errno;
            /* A timeout inside a message is the front end stalling. */
            return st->got && err == EAGAIN ? -ETIMEDOUT : -err;
        }
        int err = collect_fds(&mh, msg);
        if (err) {
            return err;
        }
        if (n == 0) {
            return st->got ? -EPROTO : -ECONNRESET;
        }
        if (!st->got) {
            st->deadline_ms = mono_ms() + st->timeout_ms;
        }
        done += n;
        st->got += n;
    }
    return 0;
}

int
vhu_msg_recv(int sock, struct vhu_msg *msg)
{
    struct recv_state st = { 0, 0, 0 };
    struct timeval tv;
    socklen_t tv_len = sizeof tv;

    if (!getsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, &tv_len)) {
        st.timeout_ms = (uint64_t) tv.tv_sec * 1000
                        + (uint64_t) tv.tv_usec / 1000;
    }

    msg->request = msg->flags = msg->size = 0;
    msg->n_fds = 0;
    for (unsigned i = 0; i < VHU_MAX_FDS; i++) {
        msg->fds[i] = -1;
    }

    uint32_t hdr[3];
    int err = recv_full(sock, hdr, sizeof hdr, msg, &st);
    if (!err) {
        msg->request = hdr[0];
        msg->flags = hdr[1];
        msg->size = hdr[2];
        if ((msg->flags & VHU_FLAG_VERSION_MASK) != VHU_FLAG_VERSION
            || msg->size > VHU_MAX_PAYLOAD) {
            err = -EPROTO;
        }
    }
    if (!err && msg->size) {
        err = recv_full(sock, msg->payload.bytes, msg->size, msg, &st);
    }
    if (err) {
        vhu_msg_close_fds(msg);
        msg->n_fds = 0;
    }
    return err;
}

/* ---- Validation. ---- */

/* How a request's payload size is checked. */
enum payload_kind {
    P_UNSUPPORTED,  /* we do not handle this request at all */
    P_NONE,         /* size 0 */
    P_U64,
    P_STATE,
    P_ADDR,
    P_MEM_TABLE,    /* variable, see check_mem_table() */
    P_MEM_REG,
    P_CONFIG,       /* variable, see check_config() */
};

/* How many fds a request carries. */
enum fd_rule {
    F_NONE,         /* 0 */
    F_ONE,          /* exactly 1 */
    F_VRING,        /* 1, or 0 with VHU_VRING_NOFD_MASK */
    F_REGIONS,      /* one per region */
    F_ZERO_OR_ONE,  /* REM_MEM_REG: see vhu_msg_validate() */
};

struct request_rule {
    uint8_t payload;    /* enum payload_kind */
    uint8_t fds;        /* enum fd_rule */
};

static const struct request_rule rules[VHU_REQUEST_MAX] = {
    [VHU_GET_FEATURES] = { P_NONE, F_NONE },
    [VHU_SET_FEATURES] = { P_U64, F_NONE },
    [VHU_SET_OWNER] = { P_NONE, F_NONE },
    [VHU_RESET_OWNER] = { P_NONE, F_NONE },
    [VHU_SET_MEM_TABLE] = { P_MEM_TABLE, F_REGIONS },
    [VHU_SET_VRING_NUM] = { P_STATE, F_NONE },
    [VHU_SET_VRING_ADDR] = { P_ADDR, F_NONE },
    [VHU_SET_VRING_BASE] = { P_STATE, F_NONE },
    [VHU_GET_VRING_BASE] = { P_STATE, F_NONE },
    [VHU_SET_VRING_KICK] = { P_U64, F_VRING },
    [VHU_SET_VRING_CALL] = { P_U64, F_VRING },
    [VHU_SET_VRING_ERR] = { P_U64, F_VRING },
    [VHU_GET_PROTOCOL_FEATURES] = { P_NONE, F_NONE },
    [VHU_SET_PROTOCOL_FEATURES] = { P_U64, F_NONE },
    [VHU_GET_QUEUE_NUM] = { P_NONE, F_NONE },
    [VHU_SET_VRING_ENABLE] = { P_STATE, F_NONE },
    [VHU_SEND_RARP] = { P_U64, F_NONE },
    [VHU_NET_SET_MTU] = { P_U64, F_NONE },
    [VHU_SET_BACKEND_REQ_FD] = { P_NONE, F_ONE },
    [VHU_GET_CONFIG] = { P_CONFIG, F_NONE },
    [VHU_SET_CONFIG] = { P_CONFIG, F_NONE },
    [VHU_GET_MAX_MEM_SLOTS] = { P_NONE, F_NONE },
    [VHU_ADD_MEM_REG] = { P_MEM_REG, F_ONE },
    [VHU_REM_MEM_REG] = { P_MEM_REG, F_ZERO_OR_ONE },
};

#define MEM_TABLE_HDR_SIZE offsetof(struct vhu_mem_table, regions)
#define MEM_REGION_SIZE sizeof(struct vhu_mem_region)

/* SET_MEM_TABLE carries n_regions (1..8) region slots.  QEMU, DPDK and
 * vupktgen send exactly that many; Linux UML (arch/um/drivers/vhost_user.h)
 * always sends its fixed two-slot array even with one region in use.  So
 * the size must hold the regions in use, be a whole number of slots, and
 * not exceed eight slots. */
static int
check_mem_table(const struct vhu_msg *msg, const char **why)
{
    if (msg->size < MEM_TABLE_HDR_SIZE) {
        *why = "memory table too short";
        return -EPROTO;
    }
    uint32_t n = msg->payload.mem.n_regions;
    if (n < 1 || n > VHU_MEM_TABLE_REGIONS) {
        *why = "memory table region count not in 1..8";
        return -EPROTO;
    }
    uint32_t slots = msg->size - (uint32_t) MEM_TABLE_HDR_SIZE;
    if (slots % MEM_REGION_SIZE || slots / MEM_REGION_SIZE < n
        || slots / MEM_REGION_SIZE > VHU_MEM_TABLE_REGIONS) {
        *why = "memory table size does not match its region count";
        return -EPROTO;
    }
    return 0;
}

/* GET_CONFIG / SET_CONFIG: a 12-byte header and 'size' bytes of data. */
static int
check_config(const struct vhu_msg *msg, const char **why)
{
    const struct vhu_config *c = &msg->payload.config;

    if (msg->size < VHU_CONFIG_HDR_SIZE) {
        *why = "config message too short";
        return -EPROTO;
    }
    if (c->size > VHU_CONFIG_MAX_SIZE
        || msg->size != VHU_CONFIG_HDR_SIZE + c->size) {
        *why = "config size does not match the payload size";
        return -EPROTO;
    }
    if (c->offset > UINT32_MAX - c->size) {
        *why = "config offset + size overflows";
        return -EPROTO;
    }
    return 0;
}

static int
check_payload(const struct vhu_msg *msg, enum payload_kind kind,
              const char **why)
{
    static const uint32_t fixed[] = {
        [P_NONE] = 0,
        [P_U64] = sizeof(uint64_t),
        [P_STATE] = sizeof(struct vhu_vring_state),
        [P_ADDR] = sizeof(struct vhu_vring_addr),
        [P_MEM_REG] = sizeof(struct vhu_mem_reg),
    };

    switch (kind) {
    case P_UNSUPPORTED:
        *why = "request not supported";
        return -EPROTO;
    case P_MEM_TABLE:
        return check_mem_table(msg, why);
    case P_CONFIG:
        return check_config(msg, why);
    default:
        if (msg->size != fixed[kind]) {
            *why = "wrong payload size for this request";
            return -EPROTO;
        }
        return 0;
    }
}

/* KICK/CALL/ERR: bits 0-7 are the ring index, bit 8 says "no fd"; the
 * other bits are reserved and no front end sets them. */
static int
check_vring_u64(const struct vhu_msg *msg, const char **why)
{
    if (msg->payload.u64 & ~(uint64_t) (VHU_VRING_IDX_MASK
                                        | VHU_VRING_NOFD_MASK)) {
        *why = "reserved bits set in vring fd message";
        return -EPROTO;
    }
    return 0;
}

static int
check_fds(const struct vhu_msg *msg, enum fd_rule rule, const char **why)
{
    unsigned min = 0, max = 0;

    switch (rule) {
    case F_ONE:
        min = max = 1;
        break;
    case F_VRING:
        min = max = msg->payload.u64 & VHU_VRING_NOFD_MASK ? 0 : 1;
        break;
    case F_REGIONS:
        min = max = msg->payload.mem.n_regions;
        break;
    case F_ZERO_OR_ONE:
        /* The spec says no fd but lets back ends accept one, as some
         * QEMU versions sent the region's fd; the handler closes it. */
        max = 1;
        break;
    case F_NONE:
    default:
        break;
    }
    if (msg->n_fds < min || msg->n_fds > max) {
        *why = max ? "wrong number of file descriptors"
                   : "unexpected file descriptors";
        return -EPROTO;
    }
    return 0;
}

int
vhu_msg_validate(const struct vhu_msg *msg, const char **why)
{
    *why = NULL;
    if ((msg->flags & VHU_FLAG_VERSION_MASK) != VHU_FLAG_VERSION) {
        *why = "bad protocol version";
        return -EPROTO;
    }
    if (msg->size > VHU_MAX_PAYLOAD || msg->n_fds > VHU_MAX_FDS) {
        *why = "message too large";
        return -EPROTO;
    }

    struct request_rule rule = { P_UNSUPPORTED, F_NONE };
    if (msg->request < VHU_REQUEST_MAX) {
        rule = rules[msg->request];
    }
    int err = check_payload(msg, rule.payload, why);
    if (!err && rule.fds == F_VRING) {
        err = check_vring_u64(msg, why);
    }
    if (!err) {
        err = check_fds(msg, rule.fds, why);
    }
    return err;
}

/* ---- Sending. ---- */

/* Sends 'len' bytes of 'buf', the fds with the first chunk.  A reply is
 * written by one sendmsg() whenever the socket has room, which matters:
 * DPDK's virtio-user reads a reply with exactly two recv() calls, header
 * then payload, and fails on a short one. */
static int
send_full(int sock, const void *buf, size_t len, const int *fds,
          unsigned n_fds)
{
    union {
        char buf[CMSG_SPACE(VHU_MAX_FDS * sizeof(int))];
        struct cmsghdr align;
    } control;
    size_t done = 0;

    while (done < len) {
        struct iovec iov = { (char *) buf + done, len - done };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (n_fds && !done) {
            memset(&control, 0, sizeof control);
            mh.msg_control = control.buf;
            mh.msg_controllen = CMSG_SPACE(n_fds * sizeof(int));
            struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
            memcpy(CMSG_DATA(c), fds, n_fds * sizeof(int));
        }
        ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        done += n;
    }
    return 0;
}

/* Header and payload in one buffer, so that one send carries both. */
struct wire_msg {
    uint32_t request;
    uint32_t flags;
    uint32_t size;
    uint8_t payload[VHU_MAX_PAYLOAD];
} __attribute__((packed));

int
vhu_msg_reply(int sock, uint32_t request, const void *payload, uint32_t size)
{
    struct wire_msg w;

    if (size > VHU_MAX_PAYLOAD) {
        return -EINVAL;
    }
    w.request = request;
    w.flags = VHU_FLAG_VERSION | VHU_FLAG_REPLY;
    w.size = size;
    if (size) {
        memcpy(w.payload, payload, size);
    }
    return send_full(sock, &w, VHU_MSG_HDR_SIZE + size, NULL, 0);
}

int
vhu_msg_send(int sock, const struct vhu_msg *msg, const int *fds,
             unsigned n_fds)
{
    struct wire_msg w;

    if (n_fds > VHU_MAX_FDS) {
        return -EINVAL;
    }
    /* The header may lie about the size (tests send such headers); we
     * send at most the payload we have. */
    uint32_t len = MIN(msg->size, VHU_MAX_PAYLOAD);
    w.request = msg->request;
    w.flags = msg->flags;
    w.size = msg->size;
    memcpy(w.payload, msg->payload.bytes, len);
    return send_full(sock, &w, VHU_MSG_HDR_SIZE + len, fds, n_fds);
}
