/* test-vhu-msg.c -- vhost-user framing and validation (lib/vhu-msg.c) over
 * a socketpair: round trips with fds, every request's payload size off by
 * one, hostile headers (huge size, bad version, EOF inside a message),
 * split headers, and fds that must be closed, never leaked (checked by
 * counting /proc/self/fd).  Needs nothing but Linux. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cunit.h"
#include "util.h"
#include "vhu-msg.h"

/* ---- Helpers. ---- */

static int
count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    while (readdir(d)) {
        n++;
    }
    closedir(d);
    return n;
}

static void
make_pair(int sv[2])
{
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
                                     sv), 0);
}

static void
close_pair(int sv[2])
{
    close(sv[0]);
    close(sv[1]);
}

static void
msg_init(struct vhu_msg *msg, uint32_t request, uint32_t size)
{
    memset(msg, 0, sizeof *msg);
    msg->request = request;
    msg->flags = VHU_FLAG_VERSION;
    msg->size = size;
    for (unsigned i = 0; i < VHU_MAX_FDS; i++) {
        msg->fds[i] = -1;
    }
}

/* Writes raw bytes (a header that vhu_msg_send would not produce), with
 * 'n_fds' copies of 'fd' attached. */
static void
send_raw(int sock, const void *buf, size_t len, int fd, unsigned n_fds)
{
    int fds[32];
    union {
        char buf[CMSG_SPACE(sizeof fds)];
        struct cmsghdr align;
    } control;
    struct iovec iov = { (void *) buf, len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

    CU_ASSERT_FATAL(n_fds <= 32);
    if (n_fds) {
        for (unsigned i = 0; i < n_fds; i++) {
            fds[i] = fd;
        }
        memset(&control, 0, sizeof control);
        mh.msg_control = control.buf;
        mh.msg_controllen = CMSG_SPACE(n_fds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, n_fds * sizeof(int));
    }
    CU_ASSERT_EQUAL(sendmsg(sock, &mh, MSG_NOSIGNAL), (ssize_t) len);
}

static void
send_header(int sock, uint32_t request, uint32_t flags, uint32_t size)
{
    uint32_t hdr[3] = { request, flags, size };
    send_raw(sock, hdr, sizeof hdr, -1, 0);
}

/* Sends 'msg' with 'n_fds' copies of 'fd' and receives it on the other
 * end; returns vhu_msg_recv()'s result. */
static int
round_trip(int sv[2], const struct vhu_msg *msg, int fd, unsigned n_fds,
           struct vhu_msg *out)
{
    int fds[VHU_MAX_FDS];

    for (unsigned i = 0; i < n_fds; i++) {
        fds[i] = fd;
    }
    CU_ASSERT_EQUAL(vhu_msg_send(sv[1], msg, fds, n_fds), 0);
    return vhu_msg_recv(sv[0], out);
}

static bool
same_file(int a, int b)
{
    struct stat sa, sb;
    return !fstat(a, &sa) && !fstat(b, &sb) && sa.st_dev == sb.st_dev
           && sa.st_ino == sb.st_ino;
}

/* ---- Round trips. ---- */

static void
test_round_trip_with_fds(void)
{
    int before = count_fds();
    int sv[2];
    int efd[2] = { eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC) };
    struct vhu_msg msg, got;

    make_pair(sv);
    msg_init(&msg, VHU_SET_MEM_TABLE, 8 + 2 * 32);
    msg.flags |= VHU_FLAG_NEED_REPLY;
    msg.payload.mem.n_regions = 2;
    msg.payload.mem.regions[0] = (struct vhu_mem_region) { 0, 4096, 1, 0 };
    msg.payload.mem.regions[1] = (struct vhu_mem_region) { 8192, 4096, 2,
                                                            4096 };
    CU_ASSERT_EQUAL(vhu_msg_send(sv[1], &msg, efd, 2), 0);
    CU_ASSERT_EQUAL_FATAL(vhu_msg_recv(sv[0], &got), 0);

    CU_ASSERT_EQUAL(got.request, VHU_SET_MEM_TABLE);
    CU_ASSERT_EQUAL(got.flags, VHU_FLAG_VERSION | VHU_FLAG_NEED_REPLY);
    CU_ASSERT_EQUAL(got.size, msg.size);
    CU_ASSERT_EQUAL(memcmp(&got.payload, &msg.payload, msg.size), 0);
    CU_ASSERT_EQUAL_FATAL(got.n_fds, 2);
    CU_ASSERT(same_file(got.fds[0], efd[0]));
    CU_ASSERT(same_file(got.fds[1], efd[1]));
    CU_ASSERT(fcntl(got.fds[0], F_GETFD) & FD_CLOEXEC);

    const char *why;
    CU_ASSERT_EQUAL(vhu_msg_validate(&got, &why), 0);

    int fd = vhu_msg_take_fd(&got, 0);
    CU_ASSERT(fd >= 0);
    CU_ASSERT_EQUAL(got.fds[0], -1);
    CU_ASSERT_EQUAL(vhu_msg_take_fd(&got, 0), -1);
    CU_ASSERT_EQUAL(vhu_msg_take_fd(&got, 2), -1);
    CU_ASSERT_EQUAL(vhu_msg_take_fd(&got, 1000), -1);
    close(fd);
    vhu_msg_close_fds(&got);
    vhu_msg_close_fds(&got);        /* idempotent */

    close(efd[0]);
    close(efd[1]);
    close_pair(sv);
    CU_ASSERT_EQUAL(count_fds(), before);
}

static void
test_reply_format(void)
{
    int sv[2];
    struct vhu_msg got;
    uint64_t v = 0x1122334455667788ULL;

    make_pair(sv);
    CU_ASSERT_EQUAL(vhu_msg_reply(sv[1], VHU_GET_FEATURES, &v, sizeof v), 0);
    CU_ASSERT_EQUAL_FATAL(vhu_msg_recv(sv[0], &got), 0);
    CU_ASSERT_EQUAL(got.request, VHU_GET_FEATURES);
    CU_ASSERT_EQUAL(got.flags, VHU_FLAG_VERSION | VHU_FLAG_REPLY);
    CU_ASSERT_EQUAL(got.size, 8);
    CU_ASSERT_EQUAL(got.payload.u64, v);
    CU_ASSERT_EQUAL(got.n_fds, 0);

    CU_ASSERT_EQUAL(vhu_msg_reply(sv[1], VHU_GET_CONFIG, NULL, 0), 0);
    CU_ASSERT_EQUAL_FATAL(vhu_msg_recv(sv[0], &got), 0);
    CU_ASSERT_EQUAL(got.request, VHU_GET_CONFIG);
    CU_ASSERT_EQUAL(got.size, 0);

    CU_ASSERT_EQUAL(vhu_msg_reply(sv[1], 1, &v, VHU_MAX_PAYLOAD + 1),
                    -EINVAL);
    close_pair(sv);
}

/* ---- Payload sizes. ---- */

struct size_case {
    uint32_t request;
    uint32_t size;          /* the right one */
    unsigned n_fds;
};

static const struct size_case size_cases[] = {
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

/* Sends request 'c' with payload size 'size' and validates what arrives. */
static int
send_and_validate(int sv[2], const struct size_case *c, uint32_t size,
                  int fd)
{
    struct vhu_msg msg, got;
    const char *why = NULL;

    msg_init(&msg, c->request, size);
    if (c->request == VHU_SET_MEM_TABLE) {
        msg.payload.mem.n_regions = 1;
    } else if (c->request == VHU_GET_CONFIG
               || c->request == VHU_SET_CONFIG) {
        msg.payload.config.size = 4;
    }
    CU_ASSERT_EQUAL_FATAL(round_trip(sv, &msg, fd, c->n_fds, &got), 0);
    CU_ASSERT_EQUAL(got.n_fds, c->n_fds);
    int err = vhu_msg_validate(&got, &why);
    CU_ASSERT(err ? why != NULL : why == NULL);
    vhu_msg_close_fds(&got);
    return err;
}

static void
test_each_request_size_off_by_one(void)
{
    int before = count_fds();
    int fd = eventfd(0, EFD_CLOEXEC);
    int sv[2];

    make_pair(sv);
    for (size_t i = 0; i < ARRAY_SIZE(size_cases); i++) {
        const struct size_case *c = &size_cases[i];
        CU_ASSERT_EQUAL(send_and_validate(sv, c, c->size, fd), 0);
        if (c->size) {
            CU_ASSERT_EQUAL(send_and_validate(sv, c, c->size - 1, fd),
                            -EPROTO);
        }
        CU_ASSERT_EQUAL(send_and_validate(sv, c, c->size + 1, fd), -EPROTO);
        if (!c->size) {
            /* No front end sends a dummy u64 with these (checked:
             * QEMU, DPDK virtio-user, UML), so none is accepted. */
            CU_ASSERT_EQUAL(send_and_validate(sv, c, 8, fd), -EPROTO);
        }
    }
    close_pair(sv);
    close(fd);
    CU_ASSERT_EQUAL(count_fds(), before);
}

static int
validate(const struct vhu_msg *msg)
{
    const char *why;
    return vhu_msg_validate(msg, &why);
}

static void
test_mem_table_rules(void)
{
    struct vhu_msg m;

    msg_init(&m, VHU_SET_MEM_TABLE, 8 + 32);
    m.n_fds = 1;
    m.payload.mem.n_regions = 1;
    CU_ASSERT_EQUAL(validate(&m), 0);

    m.payload.mem.n_regions = 0;
    m.n_fds = 0;
    m.size = 8;
    CU_ASSERT_EQUAL(validate(&m), -EPROTO);         /* no region */

    m.payload.mem.n_regions = 9;
    m.n_fds = 8;
    m.size = VHU_MAX_PAYLOAD;
    CU_ASSERT_EQUAL(validate(&m), -EPROTO);         /* 9 regions */

    /* UML always sends its two-slot array, one region in use. */
    m.payload.mem.n_regions = 1;
    m.n_fds = 1;
    m.size = 8 + 2 * 32;
    CU_ASSERT_EQUAL(validate(&m), 0);
    m.size = 8 + 8 * 32;
    CU_ASSERT_EQUAL(validate(&m), 0);
    m.size = 8 + 2 * 32 + 1;
    CU_ASSERT_EQUAL(validate(&m), -EPROTO);

    m.payload.mem.n_regions = 2;                    /* one fd short */
    CU_ASSERT_EQUAL(validate(&m), -EPROTO);
    m.size = 8 + 2 * 32;
    CU_ASSERT_EQUAL(validate(&m), -EPROTO);
    m.n_fds = 3;                                    /* one fd too many */
    CU_ASSERT_EQUAL(validate(&m), -EPROTO);
    m.n_fds = 2;
    CU_ASSERT_EQUAL(validate(&m), 0);
    m.size = 8 + 32;                                /* too short for 2 */
    CU_ASSERT_EQUAL(validate(&m), -EPROTO);
    m.size = 4;
    CU_ASSERT_EQUAL(validate(&m), -EPROTO);
}

static void
test_config_rules(void)
{
    struct vhu_msg m;

    msg_init(&m, VHU_SET_CONFIG, 12);
    CU_ASSERT_EQUAL(validate(&m), 0);               /* size 0 */
    m.payload.config.size = 256;
    m.size = 12 + 256;
    CU_ASSERT_EQUAL(validate(&m), 0);
    m.payload.config.size = 257;
    m.size = VHU_MAX_PAYLOAD;
    CU_ASSERT_EQUAL(validate(&m), -EPROTO);
    m.payload.config.size = 4;
    m.size = 16;
    m.payload.config.offset = UINT32_MAX - 4;
    CU_ASSERT_EQUAL(validate(&m), 0);       /* offset + size == 2^32 - 1 */
    m.payload.config.offset = UINT32_MAX - 3;
    CU_ASSERT_EQUAL(validate(&m), -EPROTO); /* offset + size wraps to 0 */
    m.size = 11;
    CU_ASSERT_EQUAL(validate(&m), -EPROTO);
}

static void
test_vring_fd_rules(void)
{
    static const uint32_t requests[] = {
        VHU_SET_VRING_KICK, VHU_SET_VRING_CALL, VHU_SET_VRING_ERR,
    };
    struct vhu_msg m;

    for (size_t i = 0; i < ARRAY_SIZE(requests); i++) {
        msg_init(&m, requests[i], 8);
        m.payload.u64 = 1;
        m.n_fds = 1;
        CU_ASSERT_EQUAL(validate(&m), 0);
        m.n_fds = 0;
        CU_ASSERT_EQUAL(validate(&m), -EPROTO);     /* fd missing */
        m.payload.u64 = 1 | VHU_VRING_NOFD_MASK;
        CU_ASSERT_EQUAL(validate(&m), 0);
        m.n_fds = 1;
        CU_ASSERT_EQUAL(validate(&m), -EPROTO);     /* NOFD with an fd */
        m.n_fds = 0;
        m.payload.u64 = 255 | VHU_VRING_NOFD_MASK;
        CU_ASSERT_EQUAL(validate(&m), 0);           /* index checked later */
        m.payload.u64 = 1ULL << 9 | VHU_VRING_NOFD_MASK;
        CU_ASSERT_EQUAL(validate(&m), -EPROTO);     /* reserved bit */
        m.payload.u64 = 1ULL << 40 | VHU_VRING_NOFD_MASK;
        CU_ASSERT_EQUAL(validate(&m), -EPROTO);
    }

    msg_init(&m, VHU_REM_MEM_REG, 40);              /* QEMU sent an fd */
    CU_ASSERT_EQUAL(validate(&m), 0);
    m.n_fds = 1;
    CU_ASSERT_EQUAL(validate(&m), 0);
    m.n_fds = 2;
    CU_ASSERT_EQUAL(validate(&m), -EPROTO);
    msg_init(&m, VHU_ADD_MEM_REG, 40);
    CU_ASSERT_EQUAL(validate(&m), -EPROTO);
    m.n_fds = 2;
    CU_ASSERT_EQUAL(validate(&m), -EPROTO);
}

static void
test_unsupported_and_version(void)
{
    static const uint32_t requests[] = {
        VHU_NONE, VHU_SET_LOG_BASE, VHU_SET_LOG_FD, VHU_IOTLB_MSG,
        VHU_SET_VRING_ENDIAN, 28 /* POSTCOPY_ADVISE */, VHU_GET_INFLIGHT_FD,
        VHU_SET_INFLIGHT_FD, VHU_RESET_DEVICE, VHU_VRING_KICK,
        VHU_SET_STATUS, VHU_GET_STATUS, VHU_REQUEST_MAX, 1000, UINT32_MAX,
    };
    struct vhu_msg m;

    for (size_t i = 0; i < ARRAY_SIZE(requests); i++) {
        msg_init(&m, requests[i], 0);
        CU_ASSERT_EQUAL(validate(&m), -EPROTO);
        m.size = 8;
        CU_ASSERT_EQUAL(validate(&m), -EPROTO);
    }
    msg_init(&m, VHU_GET_FEATURES, 0);
    for (uint32_t v = 0; v < 4; v++) {
        m.flags = v | VHU_FLAG_NEED_REPLY;
        CU_ASSERT_EQUAL(validate(&m), v == VHU_FLAG_VERSION ? 0 : -EPROTO);
    }
}

static void
test_request_names(void)
{
    CU_ASSERT_STRING_EQUAL(vhu_request_name(VHU_SET_MEM_TABLE),
                           "SET_MEM_TABLE");
    CU_ASSERT_STRING_EQUAL(vhu_request_name(VHU_GET_STATUS), "GET_STATUS");
    CU_ASSERT_STRING_EQUAL(vhu_request_name(VHU_REQUEST_MAX), "UNKNOWN");
    CU_ASSERT_STRING_EQUAL(vhu_request_name(UINT32_MAX), "UNKNOWN");
}

/* ---- Hostile framing. ---- */

/* The size is refused from the header alone: what follows stays unread. */
static void
test_huge_size(void)
{
    static const uint32_t sizes[] = { UINT32_MAX, VHU_MAX_PAYLOAD + 1 };
    int before = count_fds();
    int fd = eventfd(0, EFD_CLOEXEC);
    struct vhu_msg got;
    int sv[2];

    make_pair(sv);
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        uint32_t hdr[3] = { VHU_SET_FEATURES, VHU_FLAG_VERSION, sizes[i] };
        send_raw(sv[1], hdr, sizeof hdr, fd, 2);
        send_raw(sv[1], "abcd", 4, -1, 0);
        CU_ASSERT_EQUAL(vhu_msg_recv(sv[0], &got), -EPROTO);
        CU_ASSERT_EQUAL(got.n_fds, 0);

        char rest[8];
        CU_ASSERT_EQUAL(recv(sv[0], rest, sizeof rest, MSG_DONTWAIT), 4);
        CU_ASSERT_EQUAL(memcmp(rest, "abcd", 4), 0);
    }
    close_pair(sv);
    close(fd);
    CU_ASSERT_EQUAL(count_fds(), before);
}

static void
test_bad_version(void)
{
    static const uint32_t flags[] = {
        0, 2, 3, VHU_FLAG_NEED_REPLY, 2 | VHU_FLAG_REPLY,
    };
    int before = count_fds();
    int fd = eventfd(0, EFD_CLOEXEC);
    struct vhu_msg got;
    int sv[2];

    make_pair(sv);
    for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
        uint32_t hdr[3] = { VHU_GET_FEATURES, flags[i], 0 };
        send_raw(sv[1], hdr, sizeof hdr, fd, 1);
        CU_ASSERT_EQUAL(vhu_msg_recv(sv[0], &got), -EPROTO);
    }
    close_pair(sv);
    close(fd);
    CU_ASSERT_EQUAL(count_fds(), before);
}

static void
test_eof(void)
{
    int before = count_fds();
    int fd = eventfd(0, EFD_CLOEXEC);
    struct vhu_msg got;
    int sv[2];

    /* Between messages: an orderly hang-up. */
    make_pair(sv);
    close(sv[1]);
    CU_ASSERT_EQUAL(vhu_msg_recv(sv[0], &got), -ECONNRESET);
    close(sv[0]);

    /* Header, then nothing. */
    make_pair(sv);
    uint32_t hdr[3] = { VHU_SET_VRING_KICK, VHU_FLAG_VERSION, 8 };
    send_raw(sv[1], hdr, sizeof hdr, fd, 1);
    close(sv[1]);
    CU_ASSERT_EQUAL(vhu_msg_recv(sv[0], &got), -EPROTO);
    close(sv[0]);

    /* Half a header. */
    make_pair(sv);
    send_raw(sv[1], hdr, 5, fd, 1);
    close(sv[1]);
    CU_ASSERT_EQUAL(vhu_msg_recv(sv[0], &got), -EPROTO);
    close(sv[0]);

    /* Half a payload. */
    make_pair(sv);
    uint32_t part[4] = { VHU_SET_VRING_ADDR, VHU_FLAG_VERSION, 40, 0 };
    send_raw(sv[1], part, sizeof part, fd, 3);
    close(sv[1]);
    CU_ASSERT_EQUAL(vhu_msg_recv(sv[0], &got), -EPROTO);
    CU_ASSERT_EQUAL(got.n_fds, 0);
    close(sv[0]);

    close(fd);
    CU_ASSERT_EQUAL(count_fds(), before);
}

struct split_arg {
    int sock;
    int fd;
};

static void
sleep_ms(long ms)
{
    struct timespec ts = { 0, ms * 1000000 };
    nanosleep(&ts, NULL);
}

/* Writes one KICK message in three pieces, the fd on the second one. */
static void *
split_writer(void *arg_)
{
    const struct split_arg *arg = arg_;
    uint8_t buf[20];
    uint32_t hdr[3] = { VHU_SET_VRING_KICK, VHU_FLAG_VERSION, 8 };
    uint64_t idx = 1;

    memcpy(buf, hdr, 12);
    memcpy(buf + 12, &idx, 8);
    send_raw(arg->sock, buf, 5, -1, 0);
    sleep_ms(30);
    send_raw(arg->sock, buf + 5, 9, arg->fd, 1);
    sleep_ms(30);
    send_raw(arg->sock, buf + 14, 6, -1, 0);
    return NULL;
}

static void
test_split_header(void)
{
    int before = count_fds();
    struct split_arg arg = { .fd = eventfd(0, EFD_CLOEXEC) };
    struct vhu_msg got;
    pthread_t t;
    int sv[2];

    make_pair(sv);
    arg.sock = sv[1];
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, split_writer, &arg), 0);
    CU_ASSERT_EQUAL(vhu_msg_recv(sv[0], &got), 0);
    pthread_join(t, NULL);

    CU_ASSERT_EQUAL(got.request, VHU_SET_VRING_KICK);
    CU_ASSERT_EQUAL(got.size, 8);
    CU_ASSERT_EQUAL(got.payload.u64, 1);
    CU_ASSERT_EQUAL_FATAL(got.n_fds, 1);
    CU_ASSERT(same_file(got.fds[0], arg.fd));
    CU_ASSERT_EQUAL(validate(&got), 0);
    vhu_msg_close_fds(&got);

    close_pair(sv);
    close(arg.fd);
    CU_ASSERT_EQUAL(count_fds(), before);
}

/* ---- Descriptors nobody asked for. ---- */

static void
test_junk_fds_closed(void)
{
    int before = count_fds();
    int fd = eventfd(0, EFD_CLOEXEC);
    struct vhu_msg msg, got;
    int sv[2];

    make_pair(sv);
    msg_init(&msg, VHU_GET_FEATURES, 0);
    CU_ASSERT_EQUAL_FATAL(round_trip(sv, &msg, fd, 3, &got), 0);
    CU_ASSERT_EQUAL(got.n_fds, 3);
    CU_ASSERT_EQUAL(validate(&got), -EPROTO);
    vhu_msg_close_fds(&got);

    msg_init(&msg, VHU_SET_VRING_NUM, 8);
    CU_ASSERT_EQUAL_FATAL(round_trip(sv, &msg, fd, 8, &got), 0);
    CU_ASSERT_EQUAL(validate(&got), -EPROTO);
    vhu_msg_close_fds(&got);

    close_pair(sv);
    close(fd);
    CU_ASSERT_EQUAL(count_fds(), before);
}

/* More fds than a message may carry: 9..16 are received and closed; more
 * than that, the kernel truncates (MSG_CTRUNC) and we close the rest. */
static void
test_too_many_fds(void)
{
    static const unsigned counts[] = { 9, 16, 17, 32 };
    int before = count_fds();
    int fd = eventfd(0, EFD_CLOEXEC);
    struct vhu_msg got;
    int sv[2];

    make_pair(sv);
    for (size_t i = 0; i < ARRAY_SIZE(counts); i++) {
        uint32_t hdr[3] = { VHU_GET_FEATURES, VHU_FLAG_VERSION, 0 };
        send_raw(sv[1], hdr, sizeof hdr, fd, counts[i]);
        CU_ASSERT_EQUAL(vhu_msg_recv(sv[0], &got), -EPROTO);
        CU_ASSERT_EQUAL(count_fds(), before + 3);   /* fd and the pair */
    }
    /* The stream is still in sync for the next message. */
    send_header(sv[1], VHU_GET_QUEUE_NUM, VHU_FLAG_VERSION, 0);
    CU_ASSERT_EQUAL(vhu_msg_recv(sv[0], &got), 0);
    CU_ASSERT_EQUAL(got.request, VHU_GET_QUEUE_NUM);

    CU_ASSERT_EQUAL(vhu_msg_send(sv[1], &got, NULL, VHU_MAX_FDS + 1),
                    -EINVAL);
    close_pair(sv);
    close(fd);
    CU_ASSERT_EQUAL(count_fds(), before);
}

static const struct cunit_test tests[] = {
    CUNIT_TEST(test_round_trip_with_fds),
    CUNIT_TEST(test_reply_format),
    CUNIT_TEST(test_each_request_size_off_by_one),
    CUNIT_TEST(test_mem_table_rules),
    CUNIT_TEST(test_config_rules),
    CUNIT_TEST(test_vring_fd_rules),
    CUNIT_TEST(test_unsupported_and_version),
    CUNIT_TEST(test_request_names),
    CUNIT_TEST(test_huge_size),
    CUNIT_TEST(test_bad_version),
    CUNIT_TEST(test_eof),
    CUNIT_TEST(test_split_header),
    CUNIT_TEST(test_junk_fds_closed),
    CUNIT_TEST(test_too_many_fds),
};

CUNIT_MAIN("vhu-msg", tests)
