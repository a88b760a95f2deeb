/* test-vhu-dev.c -- the vhost-user device state machine (lib/vhu-dev.c),
 * driven over a socketpair by a tiny front end written here, with a memfd
 * as guest memory (no VM, no hugepages).  Covers a full setup to live
 * rings, GET_VRING_BASE and the worker handshake, hostile values (ring
 * indexes, sizes, regions), REPLY_ACK, unsupported requests, and that a
 * disconnect releases every fd (counted in /proc/self/fd).  Needs Linux
 * with memfd_create. */
#include <config.h>

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cunit.h"
#include "log.h"
#include "util.h"
#include "vhu-dev.h"

#define GPA_BASE 0x100000ULL
#define QVA_BASE 0x7f1200000000ULL
#define MEM_SIZE (1u << 20)
#define RING_SIZE 256

#define F_PROTOCOL (1ULL << VHU_F_PROTOCOL_FEATURES)
#define F_VERSION_1 (1ULL << 32)
#define F_EVENT_IDX (1ULL << 29)
#define F_MRG_RXBUF (1ULL << 15)
#define F_STD (F_VERSION_1 | F_EVENT_IDX | F_MRG_RXBUF | F_PROTOCOL)

#define PF_ACK (1ULL << VHU_PROTOCOL_F_REPLY_ACK)
#define PF_STD (PF_ACK | (1ULL << VHU_PROTOCOL_F_MQ) \
                | (1ULL << VHU_PROTOCOL_F_BACKEND_REQ))

/* ---- What the device tells its owner. ---- */

static struct {
    int fe_sock;                /* to see whether a reply is already out */
    unsigned n_quiesce;
    unsigned n_changed;
    unsigned n_rarp;
    bool reply_before_quiesce;
    uint8_t mac[6];
} st;

static void
on_quiesce(struct vhu_dev *dev, void *aux)
{
    char c;
    st.n_quiesce++;
    if (recv(st.fe_sock, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0) {
        st.reply_before_quiesce = true;
    }
}

static void
on_changed(struct vhu_dev *dev, void *aux)
{
    st.n_changed++;
}

static void
on_rarp(struct vhu_dev *dev, const uint8_t mac[6], void *aux)
{
    st.n_rarp++;
    memcpy(st.mac, mac, 6);
}

static const struct vhu_dev_ops ops = { on_quiesce, on_changed, on_rarp };

/* ---- The front end. ---- */

struct fe {
    struct vhu_dev dev;
    int sock;
    int memfd;
    uint8_t *mem;               /* guest memory, front-end view */
};

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

static int
new_memfd(size_t size)
{
    int fd = memfd_create("guest", MFD_CLOEXEC);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL_FATAL(ftruncate(fd, size), 0);
    return fd;
}

static void
fe_open(struct fe *fe, unsigned n_queue_pairs)
{
    struct timeval tv = { 0, 300 * 1000 };
    int sv[2];

    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
                                     0, sv), 0);
    memset(&st, 0, sizeof st);
    st.fe_sock = sv[1];
    vhu_dev_init(&fe->dev, "test", n_queue_pairs, &ops, NULL);
    vhu_dev_attach(&fe->dev, sv[0]);
    fe->sock = sv[1];
    setsockopt(fe->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    fe->memfd = new_memfd(MEM_SIZE);
    fe->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                   fe->memfd, 0);
    CU_ASSERT_FATAL(fe->mem != MAP_FAILED);
}

static void
fe_close(struct fe *fe)
{
    vhu_dev_destroy(&fe->dev);
    close(fe->sock);
    munmap(fe->mem, MEM_SIZE);
    close(fe->memfd);
}

/* Sends one request and lets the device handle it; returns what
 * vhu_dev_handle_readable() returned. */
static int
fe_request(struct fe *fe, uint32_t request, uint32_t flags,
           const void *payload, uint32_t size, const int *fds,
           unsigned n_fds)
{
    struct vhu_msg m;

    memset(&m, 0, sizeof m);
    m.request = request;
    m.flags = VHU_FLAG_VERSION | flags;
    m.size = size;
    if (size) {
        memcpy(m.payload.bytes, payload, size);
    }
    CU_ASSERT_EQUAL_FATAL(vhu_msg_send(fe->sock, &m, fds, n_fds), 0);
    return vhu_dev_handle_readable(&fe->dev);
}

static int
fe_u64(struct fe *fe, uint32_t request, uint32_t flags, uint64_t v)
{
    return fe_request(fe, request, flags, &v, sizeof v, NULL, 0);
}

static int
fe_state(struct fe *fe, uint32_t request, uint32_t flags, uint32_t index,
         uint32_t num)
{
    struct vhu_vring_state s = { index, num };
    return fe_request(fe, request, flags, &s, sizeof s, NULL, 0);
}

/* KICK/CALL/ERR for ring 'r' with a fresh eventfd, or NOFD. */
static int
fe_vring_fd(struct fe *fe, uint32_t request, uint32_t flags, unsigned r,
            bool with_fd)
{
    int fd = with_fd ? eventfd(0, EFD_CLOEXEC) : -1;
    uint64_t v = r | (with_fd ? 0 : VHU_VRING_NOFD_MASK);
    int err = fe_request(fe, request, flags, &v, sizeof v, &fd, with_fd);

    if (fd >= 0) {
        close(fd);
    }
    return err;
}

static void
fe_reply(struct fe *fe, uint32_t request, struct vhu_msg *m)
{
    CU_ASSERT_EQUAL_FATAL(vhu_msg_recv(fe->sock, m), 0);
    CU_ASSERT_EQUAL(m->request, request);
    CU_ASSERT_EQUAL(m->flags, VHU_FLAG_VERSION | VHU_FLAG_REPLY);
    CU_ASSERT_EQUAL(m->n_fds, 0);
}

static uint64_t
fe_reply_u64(struct fe *fe, uint32_t request)
{
    struct vhu_msg m;

    fe_reply(fe, request, &m);
    CU_ASSERT_EQUAL_FATAL(m.size, sizeof(uint64_t));
    return m.payload.u64;
}

/* True if the device has sent nothing more. */
static bool
fe_quiet(struct fe *fe)
{
    char c;
    return recv(fe->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0
           && errno == EAGAIN;
}

static uint64_t
ring_off(unsigned r)
{
    return 0x10000 + r * 0x4000;
}

static struct vhu_vring_addr
ring_addr(unsigned r)
{
    uint64_t qva = QVA_BASE + ring_off(r);
    return (struct vhu_vring_addr) {
        .index = r,
        .desc_qva = qva,
        .avail_qva = qva + 0x1000,
        .used_qva = qva + 0x2000,
    };
}

static struct vring_used *
ring_used(struct fe *fe, unsigned r)
{
    return (struct vring_used *) (fe->mem + ring_off(r) + 0x2000);
}

static int
fe_mem_table(struct fe *fe, uint32_t flags,
             const struct vhu_mem_region *regions, const int *fds,
             unsigned n)
{
    struct vhu_mem_table t = { .n_regions = n };

    memcpy(t.regions, regions, n * sizeof *regions);
    return fe_request(fe, VHU_SET_MEM_TABLE, flags, &t,
                      (uint32_t) (8 + n * sizeof *regions), fds, n);
}

static const struct vhu_mem_region whole = { GPA_BASE, MEM_SIZE, QVA_BASE,
                                             0 };

static void
fe_negotiate(struct fe *fe, uint64_t features, uint64_t protocol_features)
{
    CU_ASSERT_EQUAL(fe_request(fe, VHU_GET_FEATURES, 0, NULL, 0, NULL, 0),
                    0);
    CU_ASSERT_EQUAL(fe_reply_u64(fe, VHU_GET_FEATURES),
                    vhu_dev_offered_features(&fe->dev));
    CU_ASSERT_EQUAL(fe_u64(fe, VHU_SET_FEATURES, 0, features), 0);
    if (!(features & F_PROTOCOL)) {
        return;
    }
    CU_ASSERT_EQUAL(fe_request(fe, VHU_GET_PROTOCOL_FEATURES, 0, NULL, 0,
                               NULL, 0), 0);
    CU_ASSERT_EQUAL(fe_reply_u64(fe, VHU_GET_PROTOCOL_FEATURES),
                    VHU_OFFERED_PROTOCOL_FEATURES);
    /* Like UML: NEED_REPLY on the message that turns REPLY_ACK on. */
    bool ack = protocol_features & PF_ACK;
    CU_ASSERT_EQUAL(fe_u64(fe, VHU_SET_PROTOCOL_FEATURES,
                           ack ? VHU_FLAG_NEED_REPLY : 0,
                           protocol_features), 0);
    if (ack) {
        CU_ASSERT_EQUAL(fe_reply_u64(fe, VHU_SET_PROTOCOL_FEATURES), 0);
    }
}

static void
fe_ring_setup(struct fe *fe, unsigned r, uint16_t base)
{
    struct vhu_vring_addr a = ring_addr(r);

    CU_ASSERT_EQUAL(fe_state(fe, VHU_SET_VRING_NUM, 0, r, RING_SIZE), 0);
    CU_ASSERT_EQUAL(fe_state(fe, VHU_SET_VRING_BASE, 0, r, base), 0);
    CU_ASSERT_EQUAL(fe_request(fe, VHU_SET_VRING_ADDR, 0, &a, sizeof a,
                               NULL, 0), 0);
    CU_ASSERT_EQUAL(fe_vring_fd(fe, VHU_SET_VRING_CALL, 0, r, true), 0);
    CU_ASSERT_EQUAL(fe_vring_fd(fe, VHU_SET_VRING_KICK, 0, r, true), 0);
}

/* The QEMU sequence with REPLY_ACK, for queue pair 0. */
static void
fe_full_setup(struct fe *fe)
{
    fe_negotiate(fe, F_STD, PF_STD);
    CU_ASSERT_EQUAL(fe_request(fe, VHU_GET_QUEUE_NUM, 0, NULL, 0, NULL, 0),
                    0);
    CU_ASSERT_EQUAL(fe_reply_u64(fe, VHU_GET_QUEUE_NUM),
                    fe->dev.n_queue_pairs);
    CU_ASSERT_EQUAL(fe_request(fe, VHU_SET_OWNER, 0, NULL, 0, NULL, 0), 0);
    CU_ASSERT_EQUAL(fe_mem_table(fe, VHU_FLAG_NEED_REPLY, &whole,
                                 &fe->memfd, 1), 0);
    CU_ASSERT_EQUAL(fe_reply_u64(fe, VHU_SET_MEM_TABLE), 0);
    for (unsigned r = 0; r < 2; r++) {
        fe_ring_setup(fe, r, 0);
        CU_ASSERT_EQUAL(fe_state(fe, VHU_SET_VRING_ENABLE, 0, r, 1), 0);
    }
    CU_ASSERT(fe_quiet(fe));
}

/* A fresh device that must break on 'request'. */
static void
expect_break(struct fe *fe, int result, const char *reason_part)
{
    CU_ASSERT_EQUAL(result, -EPROTO);
    CU_ASSERT(strstr(fe->dev.broken, reason_part) != NULL);
    for (unsigned r = 0; r < VHU_MAX_VRINGS; r++) {
        CU_ASSERT_FALSE(vhu_vring_is_live(&fe->dev, r));
    }
}

/* ---- Tests. ---- */

static void
test_full_setup_makes_rings_live(void)
{
    struct fe fe;

    fe_open(&fe, 1);
    CU_ASSERT_FALSE(vhu_vring_is_live(&fe.dev, 0));
    fe_full_setup(&fe);
    for (unsigned r = 0; r < 2; r++) {
        const struct vhu_vring *vr = &fe.dev.vrings[r];
        CU_ASSERT(vhu_vring_is_live(&fe.dev, r));
        CU_ASSERT(vr->enabled);
        CU_ASSERT_EQUAL(vr->vq.size, RING_SIZE);
        CU_ASSERT_EQUAL(vr->vq.hdr_size, 12);
        CU_ASSERT(vr->vq.event_idx);
        CU_ASSERT(vr->vq.mrg_rxbuf);
        CU_ASSERT_FALSE(vr->vq.indirect);
        CU_ASSERT(vr->vq.call_fd >= 0);
        CU_ASSERT_EQUAL(vr->vq.call_fd, vr->call_fd);
        /* Same memory as the front end sees. */
        CU_ASSERT_PTR_EQUAL(fe.dev.vrings[r].vq.used,
                            fe.dev.mem.regions[0].va + ring_off(r) + 0x2000);
        CU_ASSERT(le16toh(ring_used(&fe, r)->flags) & VRING_USED_F_NO_NOTIFY);
    }
    CU_ASSERT_FALSE(vhu_vring_is_live(&fe.dev, 2));
    CU_ASSERT_EQUAL(vhu_dev_active_queue_pairs(&fe.dev), 1);
    CU_ASSERT(fe.dev.features_set);
    CU_ASSERT_EQUAL(fe.dev.features, F_STD);
    CU_ASSERT_EQUAL(fe.dev.protocol_features, PF_STD);
    CU_ASSERT(st.n_changed >= 2);
    CU_ASSERT_EQUAL(fe.dev.broken[0], '\0');
    fe_close(&fe);
}

/* With protocol features a ring waits for SET_VRING_ENABLE; without, it
 * is enabled when it starts (vhost-user.rst, "Ring states"). */
static void
test_initial_enable_state(void)
{
    struct fe fe;

    fe_open(&fe, 1);
    fe_negotiate(&fe, F_STD, PF_STD);
    CU_ASSERT_EQUAL(fe_mem_table(&fe, 0, &whole, &fe.memfd, 1), 0);
    fe_ring_setup(&fe, 1, 0);
    CU_ASSERT(vhu_vring_is_live(&fe.dev, 1));
    CU_ASSERT_FALSE(fe.dev.vrings[1].enabled);
    CU_ASSERT_EQUAL(fe_state(&fe, VHU_SET_VRING_ENABLE, 0, 1, 1), 0);
    CU_ASSERT(fe.dev.vrings[1].enabled);
    CU_ASSERT_EQUAL(fe_state(&fe, VHU_SET_VRING_ENABLE, 0, 1, 0), 0);
    CU_ASSERT_FALSE(fe.dev.vrings[1].enabled);
    CU_ASSERT(vhu_vring_is_live(&fe.dev, 1));   /* still polled */
    fe_close(&fe);

    fe_open(&fe, 1);
    fe_negotiate(&fe, F_VERSION_1, 0);
    CU_ASSERT_EQUAL(fe_mem_table(&fe, 0, &whole, &fe.memfd, 1), 0);
    fe_ring_setup(&fe, 0, 0);
    CU_ASSERT(vhu_vring_is_live(&fe.dev, 0));
    CU_ASSERT(fe.dev.vrings[0].enabled);
    fe_close(&fe);
}

static void
test_header_size_follows_features(void)
{
    struct fe fe;

    fe_open(&fe, 1);
    fe_negotiate(&fe, 0, 0);
    CU_ASSERT_EQUAL(fe_mem_table(&fe, 0, &whole, &fe.memfd, 1), 0);
    fe_ring_setup(&fe, 0, 0);
    CU_ASSERT_EQUAL(fe.dev.vrings[0].vq.hdr_size, 10);
    CU_ASSERT_EQUAL(fe_u64(&fe, VHU_SET_FEATURES, 0, F_MRG_RXBUF), 0);
    CU_ASSERT_EQUAL(fe.dev.vrings[0].vq.hdr_size, 12);
    CU_ASSERT(st.n_quiesce >= 1);                  /* a ring was started */
    CU_ASSERT_EQUAL(fe_u64(&fe, VHU_SET_FEATURES, 0, 1ULL << 28), 0);
    CU_ASSERT_EQUAL(fe.dev.vrings[0].vq.hdr_size, 10);
    CU_ASSERT(fe.dev.vrings[0].vq.indirect);
    fe_close(&fe);
}

static void
test_get_vring_base_stops_after_quiesce(void)
{
    struct fe fe;
    struct vhu_msg m;

    fe_open(&fe, 1);
    fe_full_setup(&fe);
    fe.dev.vrings[1].vq.last_avail = 42;    /* as if a worker consumed */
    unsigned q = st.n_quiesce;
    CU_ASSERT_EQUAL(fe_state(&fe, VHU_GET_VRING_BASE, 0, 1, 0), 0);
    CU_ASSERT(st.n_quiesce > q);
    CU_ASSERT_FALSE(st.reply_before_quiesce);
    fe_reply(&fe, VHU_GET_VRING_BASE, &m);
    CU_ASSERT_EQUAL(m.size, sizeof(struct vhu_vring_state));
    CU_ASSERT_EQUAL(m.payload.state.index, 1);
    CU_ASSERT_EQUAL(m.payload.state.num, 42);
    CU_ASSERT(fe_quiet(&fe));

    CU_ASSERT_FALSE(vhu_vring_is_live(&fe.dev, 1));
    CU_ASSERT_FALSE(fe.dev.vrings[1].started);
    CU_ASSERT_EQUAL(fe.dev.vrings[1].kick_fd, -1);
    CU_ASSERT(vhu_vring_is_live(&fe.dev, 0));

    /* Asking again is harmless and gives the same answer. */
    CU_ASSERT_EQUAL(fe_state(&fe, VHU_GET_VRING_BASE, 0, 1, 0), 0);
    fe_reply(&fe, VHU_GET_VRING_BASE, &m);
    CU_ASSERT_EQUAL(m.payload.state.num, 42);

    /* A new kick restarts it where it stopped. */
    CU_ASSERT_EQUAL(fe_vring_fd(&fe, VHU_SET_VRING_KICK, 0, 1, true), 0);
    CU_ASSERT(vhu_vring_is_live(&fe.dev, 1));
    CU_ASSERT_EQUAL(fe.dev.vrings[1].vq.last_avail, 42);
    CU_ASSERT_EQUAL(fe.dev.vrings[1].vq.used_idx, 42);
    fe_close(&fe);
}

static void
test_get_vring_base_of_unused_ring(void)
{
    struct fe fe;
    struct vhu_msg m;

    fe_open(&fe, 2);
    CU_ASSERT_EQUAL(fe_state(&fe, VHU_GET_VRING_BASE, 0, 3, 0), 0);
    fe_reply(&fe, VHU_GET_VRING_BASE, &m);
    CU_ASSERT_EQUAL(m.payload.state.index, 3);
    CU_ASSERT_EQUAL(m.payload.state.num, 0);
    CU_ASSERT_EQUAL(st.n_quiesce, 0);
    CU_ASSERT(vhu_dev_is_connected(&fe.dev));
    fe_close(&fe);
}

static void
test_bad_vring_index_breaks(void)
{
    static const uint32_t bad[] = {
        2, 8, 255, 256, 0xffff, 0x10000, 0x10001, UINT32_MAX,
    };
    static const uint32_t requests[] = {
        VHU_SET_VRING_NUM, VHU_SET_VRING_BASE, VHU_GET_VRING_BASE,
        VHU_SET_VRING_ENABLE,
    };
    struct fe fe;

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        for (size_t j = 0; j < ARRAY_SIZE(requests); j++) {
            fe_open(&fe, 1);
            expect_break(&fe, fe_state(&fe, requests[j], 0, bad[i], 256),
                         "out of range");
            CU_ASSERT(fe_quiet(&fe));           /* no GET_VRING_BASE reply */
            fe_close(&fe);
        }
        if (bad[i] <= VHU_VRING_IDX_MASK) {     /* fits the u64 format */
            fe_open(&fe, 1);
            expect_break(&fe, fe_vring_fd(&fe, VHU_SET_VRING_KICK, 0,
                                          bad[i], true), "out of range");
            fe_close(&fe);
        }
        struct vhu_vring_addr a = ring_addr(0);
        a.index = bad[i];
        fe_open(&fe, 1);
        expect_break(&fe, fe_request(&fe, VHU_SET_VRING_ADDR, 0, &a,
                                     sizeof a, NULL, 0), "out of range");
        fe_close(&fe);
    }
    /* 8 rings for 4 queue pairs: 7 is fine, 8 is not. */
    fe_open(&fe, 4);
    CU_ASSERT_EQUAL(fe_state(&fe, VHU_SET_VRING_NUM, 0, 7, 256), 0);
    expect_break(&fe, fe_state(&fe, VHU_SET_VRING_NUM, 0, 8, 256),
                 "out of range");
    fe_close(&fe);
}

static void
test_bad_vring_size_breaks(void)
{
    static const uint32_t bad[] = { 0, 3, 255, 32769, 65535, 65536,
                                    1u << 31 };
    static const uint32_t good[] = { 1, 2, 256, 32768 };
    struct fe fe;

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        fe_open(&fe, 1);
        expect_break(&fe, fe_state(&fe, VHU_SET_VRING_NUM, 0, 0, bad[i]),
                     "power of two");
        fe_close(&fe);
    }
    fe_open(&fe, 1);
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        CU_ASSERT_EQUAL(fe_state(&fe, VHU_SET_VRING_NUM, 0, 0, good[i]), 0);
        CU_ASSERT_EQUAL(fe.dev.vrings[0].size, good[i]);
    }
    CU_ASSERT_EQUAL(fe_state(&fe, VHU_SET_VRING_BASE, 0, 0, 0xffff), 0);
    expect_break(&fe, fe_state(&fe, VHU_SET_VRING_BASE, 0, 0, 0x10000),
                 "base");
    fe_close(&fe);
}

static void
test_kick_needs_a_configured_ring(void)
{
    struct vhu_vring_addr a = ring_addr(0);
    struct fe fe;

    fe_open(&fe, 1);                            /* no size, no address */
    expect_break(&fe, fe_vring_fd(&fe, VHU_SET_VRING_KICK, 0, 0, true),
                 "kicked before");
    fe_close(&fe);

    fe_open(&fe, 1);                            /* no memory */
    CU_ASSERT_EQUAL(fe_state(&fe, VHU_SET_VRING_NUM, 0, 0, RING_SIZE), 0);
    CU_ASSERT_EQUAL(fe_request(&fe, VHU_SET_VRING_ADDR, 0, &a, sizeof a,
                               NULL, 0), 0);
    expect_break(&fe, fe_vring_fd(&fe, VHU_SET_VRING_KICK, 0, 0, false),
                 "not in guest memory");
    fe_close(&fe);

    fe_open(&fe, 1);                            /* address outside memory */
    CU_ASSERT_EQUAL(fe_mem_table(&fe, 0, &whole, &fe.memfd, 1), 0);
    CU_ASSERT_EQUAL(fe_state(&fe, VHU_SET_VRING_NUM, 0, 0, RING_SIZE), 0);
    a.used_qva = QVA_BASE + MEM_SIZE - 8;
    expect_break(&fe, fe_request(&fe, VHU_SET_VRING_ADDR, 0, &a, sizeof a,
                                 NULL, 0), "not in guest memory");
    fe_close(&fe);
}

static void
test_bad_regions_break(void)
{
    int before = count_fds();
    struct fe fe;

    /* Two regions overlapping in guest-physical space. */
    fe_open(&fe, 1);
    struct vhu_mem_region two[2] = {
        { GPA_BASE, MEM_SIZE / 2, QVA_BASE, 0 },
        { GPA_BASE + MEM_SIZE / 4, MEM_SIZE / 2, QVA_BASE + MEM_SIZE, 0 },
    };
    int fds[2] = { fe.memfd, fe.memfd };
    expect_break(&fe, fe_mem_table(&fe, 0, two, fds, 2), "region");
    CU_ASSERT_EQUAL(fe.dev.mem.n_regions, 0);
    fe_close(&fe);

    /* A file shorter than mmap_offset + size. */
    fe_open(&fe, 1);
    struct vhu_mem_region tail = { GPA_BASE, MEM_SIZE, QVA_BASE, 4096 };
    expect_break(&fe, fe_mem_table(&fe, 0, &tail, &fe.memfd, 1), "region");
    CU_ASSERT_EQUAL(fe.dev.mem.n_regions, 0);
    fe_close(&fe);

    /* Not a file at all. */
    fe_open(&fe, 1);
    int efd = eventfd(0, EFD_CLOEXEC);
    expect_break(&fe, fe_mem_table(&fe, 0, &whole, &efd, 1), "region");
    close(efd);
    fe_close(&fe);

    CU_ASSERT_EQUAL(count_fds(), before);
}

/* A remapped table keeps started rings running, pointed at the new map;
 * a table without their memory leaves them started but not live. */
static void
test_mem_table_replaced_under_running_rings(void)
{
    struct fe fe;

    fe_open(&fe, 1);
    fe_full_setup(&fe);
    fe.dev.vrings[0].vq.last_avail = 7;

    int memfd2 = new_memfd(MEM_SIZE);
    unsigned q = st.n_quiesce;
    CU_ASSERT_EQUAL(fe_mem_table(&fe, 0, &whole, &memfd2, 1), 0);
    CU_ASSERT(st.n_quiesce > q);
    CU_ASSERT(vhu_vring_is_live(&fe.dev, 0));
    CU_ASSERT_EQUAL(fe.dev.vrings[0].vq.last_avail, 7);
    CU_ASSERT_PTR_EQUAL(fe.dev.vrings[0].vq.used,
                        fe.dev.mem.regions[0].va + ring_off(0) + 0x2000);

    struct vhu_mem_region elsewhere = whole;
    elsewhere.qva += 2 * MEM_SIZE;
    CU_ASSERT_EQUAL(fe_mem_table(&fe, 0, &elsewhere, &memfd2, 1), 0);
    CU_ASSERT_FALSE(vhu_vring_is_live(&fe.dev, 0));
    CU_ASSERT(fe.dev.vrings[0].started);
    CU_ASSERT(vhu_dev_is_connected(&fe.dev));

    CU_ASSERT_EQUAL(fe_mem_table(&fe, 0, &whole, &memfd2, 1), 0);
    CU_ASSERT(vhu_vring_is_live(&fe.dev, 0));
    close(memfd2);
    fe_close(&fe);
}

/* A started ring keeps its layout when SET_FEATURES turns packed rings on
 * under it: the next remap checks its used ring as the split ring it is.
 * Here that ring ends 4 bytes before the end of a smaller new region, room
 * for a packed event area but not for 256 used entries: it must not be
 * polled there. */
static void
test_features_flip_keeps_layout(void)
{
    struct fe fe;
    struct vhu_vring_addr a = ring_addr(0);
    const uint64_t half = MEM_SIZE / 2;

    fe_open(&fe, 1);
    fe_negotiate(&fe, F_STD, PF_STD);
    CU_ASSERT_EQUAL(fe_mem_table(&fe, 0, &whole, &fe.memfd, 1), 0);
    a.used_qva = QVA_BASE + half - 4;
    CU_ASSERT_EQUAL(fe_state(&fe, VHU_SET_VRING_NUM, 0, 0, RING_SIZE), 0);
    CU_ASSERT_EQUAL(fe_request(&fe, VHU_SET_VRING_ADDR, 0, &a, sizeof a,
                               NULL, 0), 0);
    CU_ASSERT_EQUAL(fe_vring_fd(&fe, VHU_SET_VRING_KICK, 0, 0, true), 0);
    CU_ASSERT_EQUAL(fe_state(&fe, VHU_SET_VRING_ENABLE, 0, 0, 1), 0);
    CU_ASSERT_FATAL(vhu_vring_is_live(&fe.dev, 0));
    CU_ASSERT_FALSE(fe.dev.vrings[0].vq.packed);

    CU_ASSERT_EQUAL(fe_u64(&fe, VHU_SET_FEATURES, 0,
                           F_STD | 1ULL << 34 /* RING_PACKED */), 0);
    struct vhu_mem_region smaller = { GPA_BASE, half, QVA_BASE, 0 };
    CU_ASSERT_EQUAL(fe_mem_table(&fe, 0, &smaller, &fe.memfd, 1), 0);
    CU_ASSERT_FALSE(fe.dev.vrings[0].vq.packed);
    CU_ASSERT_FALSE(vhu_vring_is_live(&fe.dev, 0));
    CU_ASSERT(vhu_dev_is_connected(&fe.dev));
    fe_close(&fe);
}

static void
test_add_and_remove_regions(void)
{
    int before = count_fds();
    struct fe fe;
    struct vhu_mem_reg reg = { 0, whole };

    fe_open(&fe, 1);
    fe_negotiate(&fe, F_STD, PF_STD);
    CU_ASSERT_EQUAL(fe_request(&fe, VHU_GET_MAX_MEM_SLOTS, 0, NULL, 0, NULL,
                               0), 0);
    CU_ASSERT_EQUAL(fe_reply_u64(&fe, VHU_GET_MAX_MEM_SLOTS), 32);
    CU_ASSERT_EQUAL(fe_request(&fe, VHU_ADD_MEM_REG, VHU_FLAG_NEED_REPLY,
                               &reg, sizeof reg, &fe.memfd, 1), 0);
    CU_ASSERT_EQUAL(fe_reply_u64(&fe, VHU_ADD_MEM_REG), 0);
    CU_ASSERT_EQUAL(fe.dev.mem.n_regions, 1);
    fe_ring_setup(&fe, 0, 0);
    CU_ASSERT(vhu_vring_is_live(&fe.dev, 0));

    /* Removing an unknown region is refused, not fatal. */
    struct vhu_mem_reg other = reg;
    other.region.gpa += 4096;
    CU_ASSERT_EQUAL(fe_request(&fe, VHU_REM_MEM_REG, VHU_FLAG_NEED_REPLY,
                               &other, sizeof other, NULL, 0), 0);
    CU_ASSERT_NOT_EQUAL(fe_reply_u64(&fe, VHU_REM_MEM_REG), 0);
    CU_ASSERT(vhu_dev_is_connected(&fe.dev));
    CU_ASSERT(vhu_vring_is_live(&fe.dev, 0));

    /* QEMU used to send an fd with REM_MEM_REG: it is closed. */
    CU_ASSERT_EQUAL(fe_request(&fe, VHU_REM_MEM_REG, VHU_FLAG_NEED_REPLY,
                               &reg, sizeof reg, &fe.memfd, 1), 0);
    CU_ASSERT_EQUAL(fe_reply_u64(&fe, VHU_REM_MEM_REG), 0);
    CU_ASSERT_EQUAL(fe.dev.mem.n_regions, 0);
    CU_ASSERT_FALSE(vhu_vring_is_live(&fe.dev, 0));

    /* An overlapping ADD breaks. */
    CU_ASSERT_EQUAL(fe_request(&fe, VHU_ADD_MEM_REG, 0, &reg, sizeof reg,
                               &fe.memfd, 1), 0);
    CU_ASSERT(vhu_vring_is_live(&fe.dev, 0));
    expect_break(&fe, fe_request(&fe, VHU_ADD_MEM_REG, 0, &other,
                                 sizeof other, &fe.memfd, 1), "region");
    fe_close(&fe);
    CU_ASSERT_EQUAL(count_fds(), before);
}

static void
test_reply_ack(void)
{
    struct fe fe;

    fe_open(&fe, 1);
    fe_negotiate(&fe, F_STD, PF_STD);

    /* Success: one zero. */
    CU_ASSERT_EQUAL(fe_u64(&fe, VHU_NET_SET_MTU, VHU_FLAG_NEED_REPLY, 1500),
                    0);
    CU_ASSERT_EQUAL(fe_reply_u64(&fe, VHU_NET_SET_MTU), 0);
    CU_ASSERT(fe_quiet(&fe));
    CU_ASSERT_EQUAL(fe.dev.mtu, 1500);

    /* A refused request: exactly one nonzero, connection kept. */
    CU_ASSERT_EQUAL(fe_u64(&fe, VHU_NET_SET_MTU, VHU_FLAG_NEED_REPLY, 10),
                    0);
    CU_ASSERT_NOT_EQUAL(fe_reply_u64(&fe, VHU_NET_SET_MTU), 0);
    CU_ASSERT(fe_quiet(&fe));
    CU_ASSERT_EQUAL(fe.dev.mtu, 1500);
    CU_ASSERT(vhu_dev_is_connected(&fe.dev));

    /* No NEED_REPLY, no ack. */
    CU_ASSERT_EQUAL(fe_u64(&fe, VHU_NET_SET_MTU, 0, 9000), 0);
    CU_ASSERT(fe_quiet(&fe));

    /* A request with its own reply gets only that. */
    CU_ASSERT_EQUAL(fe_request(&fe, VHU_GET_FEATURES, VHU_FLAG_NEED_REPLY,
                               NULL, 0, NULL, 0), 0);
    CU_ASSERT_EQUAL(fe_reply_u64(&fe, VHU_GET_FEATURES),
                    vhu_dev_offered_features(&fe.dev));
    CU_ASSERT(fe_quiet(&fe));

    /* SET_CONFIG is refused the same way (config space not offered). */
    struct vhu_config cfg = { .offset = 0, .size = 4 };
    CU_ASSERT_EQUAL(fe_request(&fe, VHU_SET_CONFIG, VHU_FLAG_NEED_REPLY,
                               &cfg, 16, NULL, 0), 0);
    CU_ASSERT_NOT_EQUAL(fe_reply_u64(&fe, VHU_SET_CONFIG), 0);
    CU_ASSERT(fe_quiet(&fe));

    /* A fatal one: one nonzero ack, then the device is broken. */
    CU_ASSERT_EQUAL(fe_state(&fe, VHU_SET_VRING_NUM, VHU_FLAG_NEED_REPLY, 0,
                             3), -EPROTO);
    CU_ASSERT_NOT_EQUAL(fe_reply_u64(&fe, VHU_SET_VRING_NUM), 0);
    CU_ASSERT(fe_quiet(&fe));
    fe_close(&fe);
}

/* Before REPLY_ACK is negotiated NEED_REPLY gets nothing (the front end
 * would not read it). */
static void
test_no_ack_without_reply_ack(void)
{
    struct fe fe;

    fe_open(&fe, 1);
    fe_negotiate(&fe, F_STD, 1ULL << VHU_PROTOCOL_F_MQ);
    CU_ASSERT_EQUAL(fe_u64(&fe, VHU_NET_SET_MTU, VHU_FLAG_NEED_REPLY, 1500),
                    0);
    CU_ASSERT(fe_quiet(&fe));
    fe_close(&fe);
}

static void
test_unoffered_features_break(void)
{
    struct fe fe;

    fe_open(&fe, 1);
    expect_break(&fe, fe_u64(&fe, VHU_SET_FEATURES, 0, F_STD | 1),
                 "not offered");
    fe_close(&fe);

    fe_open(&fe, 1);
    expect_break(&fe, fe_u64(&fe, VHU_SET_PROTOCOL_FEATURES, 0,
                             1ULL << VHU_PROTOCOL_F_CONFIG), "not offered");
    fe_close(&fe);
}

/* MQ needs CTRL_VQ, which we never offer: a single-pair device must not
 * offer MQ (Linux's virtio_net, reached directly by UML, refuses such a
 * device), a multi-pair one must (QEMU and DPDK need it for more pairs). */
static void
test_mq_offered_only_with_queue_pairs(void)
{
    struct fe fe;

    fe_open(&fe, 1);
    CU_ASSERT_EQUAL(fe_request(&fe, VHU_GET_FEATURES, 0, NULL, 0, NULL, 0),
                    0);
    CU_ASSERT_EQUAL(fe_reply_u64(&fe, VHU_GET_FEATURES) & VHU_F_NET_MQ, 0);
    expect_break(&fe, fe_u64(&fe, VHU_SET_FEATURES, 0, F_STD | VHU_F_NET_MQ),
                 "not offered");
    fe_close(&fe);

    fe_open(&fe, 2);
    CU_ASSERT_EQUAL(fe_request(&fe, VHU_GET_FEATURES, 0, NULL, 0, NULL, 0),
                    0);
    CU_ASSERT_EQUAL(fe_reply_u64(&fe, VHU_GET_FEATURES),
                    VHU_OFFERED_FEATURES);
    CU_ASSERT_EQUAL(fe_u64(&fe, VHU_SET_FEATURES, 0, F_STD | VHU_F_NET_MQ),
                    0);
    CU_ASSERT(vhu_dev_is_connected(&fe.dev));
    fe_close(&fe);
}

/* packed=off: the device offers split rings only, and a front end that
 * takes packed ones anyway is dropped. */
static void
test_withheld_packed(void)
{
    struct fe fe;

    fe_open(&fe, 1);
    vhu_dev_withhold(&fe.dev, VHU_F_RING_PACKED);
    CU_ASSERT_EQUAL(fe_request(&fe, VHU_GET_FEATURES, 0, NULL, 0, NULL, 0),
                    0);
    uint64_t offered = fe_reply_u64(&fe, VHU_GET_FEATURES);
    CU_ASSERT_EQUAL(offered & VHU_F_RING_PACKED, 0);
    CU_ASSERT_EQUAL(offered, VHU_OFFERED_FEATURES & ~VHU_F_NET_MQ
                             & ~VHU_F_RING_PACKED);
    expect_break(&fe, fe_u64(&fe, VHU_SET_FEATURES, 0,
                             F_STD | VHU_F_RING_PACKED), "not offered");
    fe_close(&fe);
}

/* UML's call fd is one end of a blocking socketpair: we make it
 * non-blocking so that a worker never sleeps on a full socket.  An eventfd
 * is left as the front end made it. */
static void
test_socket_call_fd_made_nonblocking(void)
{
    struct fe fe;
    int sv[2];

    fe_open(&fe, 1);
    fe_full_setup(&fe);
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
                                     sv), 0);
    uint64_t v = 0;
    CU_ASSERT_EQUAL(fe_request(&fe, VHU_SET_VRING_CALL, 0, &v, sizeof v,
                               &sv[1], 1), 0);
    close(sv[1]);
    int call_fd = fe.dev.vrings[0].call_fd;
    CU_ASSERT_FATAL(call_fd >= 0);
    CU_ASSERT(fcntl(call_fd, F_GETFL) & O_NONBLOCK);
    /* Fill it: a write then fails with EAGAIN instead of blocking. */
    uint64_t one = 1;
    ssize_t n;
    while ((n = write(call_fd, &one, sizeof one)) == sizeof one) {
        continue;
    }
    CU_ASSERT_EQUAL(n, -1);
    CU_ASSERT_EQUAL(errno, EAGAIN);
    close(sv[0]);

    int efd = eventfd(0, EFD_CLOEXEC);
    v = 1;
    CU_ASSERT_EQUAL(fe_request(&fe, VHU_SET_VRING_CALL, 0, &v, sizeof v,
                               &efd, 1), 0);
    CU_ASSERT_FALSE(fcntl(fe.dev.vrings[1].call_fd, F_GETFL) & O_NONBLOCK);
    close(efd);
    fe_close(&fe);
}

static void
test_unknown_requests_break(void)
{
    static const uint32_t requests[] = {
        99, VHU_NONE, VHU_SET_LOG_BASE, VHU_IOTLB_MSG, VHU_GET_INFLIGHT_FD,
        VHU_RESET_DEVICE, VHU_SET_STATUS, 28 /* POSTCOPY_ADVISE */,
    };
    struct fe fe;

    for (size_t i = 0; i < ARRAY_SIZE(requests); i++) {
        uint64_t zero = 0;
        fe_open(&fe, 1);
        fe_full_setup(&fe);
        expect_break(&fe, fe_request(&fe, requests[i], 0, &zero,
                                     sizeof zero, NULL, 0), "supported");
        fe_close(&fe);
    }
    /* A wrong size or fd count is a violation too. */
    fe_open(&fe, 1);
    uint64_t zero = 0;
    expect_break(&fe, fe_request(&fe, VHU_SET_FEATURES, 0, &zero, 4, NULL,
                                 0), "size");
    fe_close(&fe);
    fe_open(&fe, 1);
    expect_break(&fe, fe_request(&fe, VHU_SET_OWNER, 0, NULL, 0,
                                 &fe.memfd, 1), "file descriptors");
    fe_close(&fe);
}

static void
test_get_config_refused(void)
{
    struct fe fe;
    struct vhu_msg m;
    struct vhu_config cfg = { .offset = 0, .size = 6 };

    fe_open(&fe, 1);
    fe_negotiate(&fe, F_STD, PF_STD);
    CU_ASSERT_EQUAL(fe_request(&fe, VHU_GET_CONFIG, VHU_FLAG_NEED_REPLY,
                               &cfg, 12 + 6, NULL, 0), 0);
    fe_reply(&fe, VHU_GET_CONFIG, &m);
    CU_ASSERT_EQUAL(m.size, 0);
    CU_ASSERT(fe_quiet(&fe));
    CU_ASSERT(vhu_dev_is_connected(&fe.dev));
    fe_close(&fe);
}

static void
test_call_fd_replaced_under_quiesce(void)
{
    struct fe fe;

    fe_open(&fe, 1);
    fe_full_setup(&fe);
    int old = fe.dev.vrings[0].call_fd;
    unsigned q = st.n_quiesce, c = st.n_changed;
    CU_ASSERT_EQUAL(fe_vring_fd(&fe, VHU_SET_VRING_CALL, 0, 0, false), 0);
    CU_ASSERT(st.n_quiesce > q);
    CU_ASSERT(st.n_changed > c);
    CU_ASSERT_EQUAL(fe.dev.vrings[0].call_fd, -1);
    CU_ASSERT_EQUAL(fe.dev.vrings[0].vq.call_fd, -1);
    CU_ASSERT_EQUAL(fcntl(old, F_GETFD), -1);      /* closed */

    CU_ASSERT_EQUAL(fe_vring_fd(&fe, VHU_SET_VRING_CALL, 0, 0, true), 0);
    CU_ASSERT(fe.dev.vrings[0].vq.call_fd >= 0);
    CU_ASSERT_EQUAL(fe.dev.vrings[0].vq.call_fd, fe.dev.vrings[0].call_fd);
    fe_close(&fe);
}

/* UML re-sends NUM/BASE/ADDR/KICK for rings it never stopped. */
static void
test_reconfigure_started_ring(void)
{
    struct fe fe;

    fe_open(&fe, 1);
    fe_full_setup(&fe);
    fe_ring_setup(&fe, 0, 5);
    CU_ASSERT(vhu_vring_is_live(&fe.dev, 0));
    CU_ASSERT_EQUAL(fe.dev.vrings[0].vq.last_avail, 5);
    CU_ASSERT(vhu_dev_is_connected(&fe.dev));
    fe_close(&fe);
}

static void
test_rarp_and_misc(void)
{
    struct fe fe;
    uint64_t v = 0;
    static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

    fe_open(&fe, 1);
    fe_full_setup(&fe);
    memcpy(&v, mac, 6);
    CU_ASSERT_EQUAL(fe_u64(&fe, VHU_SEND_RARP, 0, v), 0);
    CU_ASSERT_EQUAL(st.n_rarp, 1);
    CU_ASSERT_EQUAL(memcmp(st.mac, mac, 6), 0);

    int sv[2];
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CU_ASSERT_EQUAL(fe_request(&fe, VHU_SET_BACKEND_REQ_FD,
                               VHU_FLAG_NEED_REPLY, NULL, 0, &sv[1], 1), 0);
    CU_ASSERT_EQUAL(fe_reply_u64(&fe, VHU_SET_BACKEND_REQ_FD), 0);
    CU_ASSERT(fe.dev.backend_req_fd >= 0);
    close(sv[0]);
    close(sv[1]);

    /* RESET_OWNER: rings gone, protocol features kept. */
    CU_ASSERT_EQUAL(fe_request(&fe, VHU_RESET_OWNER, 0, NULL, 0, NULL, 0),
                    0);
    CU_ASSERT_FALSE(vhu_vring_is_live(&fe.dev, 0));
    CU_ASSERT_EQUAL(fe.dev.vrings[0].kick_fd, -1);
    CU_ASSERT_EQUAL(fe.dev.features, 0);
    CU_ASSERT_EQUAL(fe.dev.protocol_features, PF_STD);
    CU_ASSERT(vhu_dev_is_connected(&fe.dev));
    fe_close(&fe);
}

static void
test_disconnect_closes_everything(void)
{
    int before = count_fds();
    struct fe fe;

    fe_open(&fe, 2);
    fe_full_setup(&fe);
    CU_ASSERT_EQUAL(fe_vring_fd(&fe, VHU_SET_VRING_ERR, 0, 1, true), 0);
    int sv[2];
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CU_ASSERT_EQUAL(fe_request(&fe, VHU_SET_BACKEND_REQ_FD,
                               VHU_FLAG_NEED_REPLY, NULL, 0, &sv[1], 1), 0);
    CU_ASSERT_EQUAL(fe_reply_u64(&fe, VHU_SET_BACKEND_REQ_FD), 0);
    close(sv[0]);
    close(sv[1]);
    fe_ring_setup(&fe, 2, 0);
    /* Started but not enabled: the second pair does not count yet. */
    CU_ASSERT_EQUAL(vhu_dev_active_queue_pairs(&fe.dev), 1);
    CU_ASSERT_EQUAL(fe_state(&fe, VHU_SET_VRING_ENABLE, 0, 2, 1), 0);
    CU_ASSERT_EQUAL(vhu_dev_active_queue_pairs(&fe.dev), 2);

    unsigned q = st.n_quiesce, c = st.n_changed;
    vhu_dev_disconnect(&fe.dev);
    CU_ASSERT(st.n_quiesce > q);
    CU_ASSERT(st.n_changed > c);
    /* Left: the front end's socket and memfd. */
    CU_ASSERT_EQUAL(count_fds(), before + 2);
    CU_ASSERT_FALSE(vhu_dev_is_connected(&fe.dev));
    CU_ASSERT_EQUAL(fe.dev.mem.n_regions, 0);
    CU_ASSERT_EQUAL(fe.dev.features, 0);
    CU_ASSERT_EQUAL(fe.dev.protocol_features, 0);
    CU_ASSERT_EQUAL(vhu_dev_active_queue_pairs(&fe.dev), 0);
    for (unsigned r = 0; r < VHU_MAX_VRINGS; r++) {
        CU_ASSERT_FALSE(vhu_vring_is_live(&fe.dev, r));
    }
    CU_ASSERT_EQUAL(vhu_dev_handle_readable(&fe.dev), -ENOTCONN);

    /* Idempotent. */
    c = st.n_changed;
    vhu_dev_disconnect(&fe.dev);
    CU_ASSERT_EQUAL(st.n_changed, c);

    /* The front end sees the hang-up. */
    char buf[1];
    CU_ASSERT_EQUAL(recv(fe.sock, buf, 1, 0), 0);
    fe_close(&fe);
    CU_ASSERT_EQUAL(count_fds(), before);
}

/* A broken device releases everything on disconnect as well. */
static void
test_disconnect_after_break(void)
{
    int before = count_fds();
    struct fe fe;

    fe_open(&fe, 1);
    fe_full_setup(&fe);
    expect_break(&fe, fe_state(&fe, VHU_SET_VRING_NUM, 0, 0x10000, 256),
                 "out of range");
    unsigned q = st.n_quiesce;
    vhu_dev_disconnect(&fe.dev);
    CU_ASSERT(st.n_quiesce > q);
    CU_ASSERT_EQUAL(count_fds(), before + 2);
    fe_close(&fe);
    CU_ASSERT_EQUAL(count_fds(), before);
}

static void
test_front_end_hangs_up(void)
{
    struct fe fe;

    fe_open(&fe, 1);
    fe_full_setup(&fe);
    shutdown(fe.sock, SHUT_WR);
    CU_ASSERT_EQUAL(vhu_dev_handle_readable(&fe.dev), -ECONNRESET);
    fe_close(&fe);

    /* Hanging up inside a message is a violation, not a hang-up. */
    fe_open(&fe, 1);
    uint32_t hdr[3] = { VHU_SET_FEATURES, VHU_FLAG_VERSION, 8 };
    CU_ASSERT_EQUAL(write(fe.sock, hdr, sizeof hdr), sizeof hdr);
    shutdown(fe.sock, SHUT_WR);
    CU_ASSERT_EQUAL(vhu_dev_handle_readable(&fe.dev), -EPROTO);
    CU_ASSERT(fe.dev.broken[0] != '\0');
    fe_close(&fe);
}

static const struct cunit_test tests[] = {
    CUNIT_TEST(test_full_setup_makes_rings_live),
    CUNIT_TEST(test_initial_enable_state),
    CUNIT_TEST(test_header_size_follows_features),
    CUNIT_TEST(test_get_vring_base_stops_after_quiesce),
    CUNIT_TEST(test_get_vring_base_of_unused_ring),
    CUNIT_TEST(test_bad_vring_index_breaks),
    CUNIT_TEST(test_bad_vring_size_breaks),
    CUNIT_TEST(test_kick_needs_a_configured_ring),
    CUNIT_TEST(test_bad_regions_break),
    CUNIT_TEST(test_mem_table_replaced_under_running_rings),
    CUNIT_TEST(test_features_flip_keeps_layout),
    CUNIT_TEST(test_add_and_remove_regions),
    CUNIT_TEST(test_reply_ack),
    CUNIT_TEST(test_no_ack_without_reply_ack),
    CUNIT_TEST(test_unoffered_features_break),
    CUNIT_TEST(test_mq_offered_only_with_queue_pairs),
    CUNIT_TEST(test_withheld_packed),
    CUNIT_TEST(test_socket_call_fd_made_nonblocking),
    CUNIT_TEST(test_unknown_requests_break),
    CUNIT_TEST(test_get_config_refused),
    CUNIT_TEST(test_call_fd_replaced_under_quiesce),
    CUNIT_TEST(test_reconfigure_started_ring),
    CUNIT_TEST(test_rarp_and_misc),
    CUNIT_TEST(test_disconnect_closes_everything),
    CUNIT_TEST(test_disconnect_after_break),
    CUNIT_TEST(test_front_end_hangs_up),
};

int
main(void)
{
    vlog_set_level(VLL_ERR);        /* the tests provoke many warnings */
    return cunit_run("vhu-dev", tests, ARRAY_SIZE(tests));
}
