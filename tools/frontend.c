/* frontend.c -- the control path of the vhost-user front end: sockets,
 * feature negotiation, guest memory and ring set-up, teardown.  See
 * frontend.h for the message sequence and the memory layout; vupktgen and
 * tests call it from their main thread. */
#include <config.h>
#include "frontend.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "log.h"
#include "vhu-msg.h"

#define FE_PAGE_SIZE 4096u
#define FE_GPA_BASE  0x40000000ull  /* not 0: catches GPA/QVA mix-ups */

void
fe_options_init(struct fe_options *o)
{
    memset(o, 0, sizeof *o);
    o->rx_ring_size = o->tx_ring_size = 256;
    o->rx_buf_size = 0;
    o->tx_buf_size = 2048;
    o->mrg_rxbuf = true;
    o->event_idx = true;
    o->timeout_ms = 5000;
}

/* ---- Sockets. ---- */

static int
fe_sockaddr(const char *path, struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sun->sun_path) {
        return -ENAMETOOLONG;
    }
    strcpy(sun->sun_path, path);
    return 0;
}

static uint64_t
fe_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
fe_set_timeout(int fd, int timeout_ms)
{
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int
fe_connect(const char *path, int timeout_ms)
{
    struct sockaddr_un sun;
    int err = fe_sockaddr(path, &sun);
    if (err) {
        return err;
    }

    uint64_t deadline = fe_mono_ms() + (uint64_t) MAX(timeout_ms, 0);
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            return -errno;
        }
        if (!connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
            fe_set_timeout(fd, timeout_ms);
            return fd;
        }
        err = -errno;
        close(fd);
        if ((err != -ENOENT && err != -ECONNREFUSED)
            || fe_mono_ms() >= deadline) {
            return err;
        }
        struct timespec pause = { 0, 20 * 1000 * 1000 };
        nanosleep(&pause, NULL);
    }
}

int
fe_listen_accept(const char *path, int timeout_ms)
{
    struct sockaddr_un sun;
    struct stat st;
    int err = fe_sockaddr(path, &sun);
    if (err) {
        return err;
    }
    if (!lstat(path, &st) && S_ISSOCK(st.st_mode)) {
        unlink(path);
    }

    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0) {
        return -errno;
    }
    if (bind(lfd, (struct sockaddr *) &sun, sizeof sun) || listen(lfd, 1)) {
        err = -errno;
        goto out_close;
    }

    struct pollfd pfd = { .fd = lfd, .events = POLLIN };
    int n = poll(&pfd, 1, timeout_ms);
    if (n <= 0) {
        err = n ? -errno : -ETIMEDOUT;
        goto out_close;
    }
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        err = -errno;
        goto out_close;
    }
    close(lfd);
    fe_set_timeout(fd, timeout_ms);
    return fd;

out_close:
    close(lfd);
    return err;
}

/* ---- Messages. ---- */

/* Reads the reply to 'request' into 'out' ('size' bytes exactly). */
static int
fe_reply(struct fe_dev *dev, uint32_t request, void *out, uint32_t size)
{
    struct vhu_msg msg;
    int err = vhu_msg_recv(dev->sock, &msg);
    if (err) {
        VLOG_ERR("vhost-user %s: no reply: %s", vhu_request_name(request),
                 strerror(-err));
        return err;
    }
    vhu_msg_close_fds(&msg);
    if (msg.request != request || !(msg.flags & VHU_FLAG_REPLY)
        || msg.size != size) {
        VLOG_ERR("vhost-user %s: unexpected reply (request %u, flags %#x, "
                 "size %u)", vhu_request_name(request), msg.request,
                 msg.flags, msg.size);
        return -EPROTO;
    }
    memcpy(out, msg.payload.bytes, size);
    return 0;
}

/* Sends 'request' with 'size' bytes of 'payload' and optional fds.  With
 * 'ack' (REPLY_ACK negotiated, and a request without a reply of its own)
 * asks for and checks the backend's status reply. */
static int
fe_request(struct fe_dev *dev, uint32_t request, const void *payload,
           uint32_t size, const int *fds, unsigned n_fds, bool ack)
{
    struct vhu_msg msg;

    memset(&msg, 0, sizeof msg);
    msg.request = request;
    msg.flags = VHU_FLAG_VERSION | (ack ? VHU_FLAG_NEED_REPLY : 0);
    msg.size = size;
    if (size) {
        memcpy(msg.payload.bytes, payload, size);
    }
    int err = vhu_msg_send(dev->sock, &msg, fds, n_fds);
    if (err) {
        VLOG_ERR("vhost-user %s: send: %s", vhu_request_name(request),
                 strerror(-err));
        return err;
    }
    if (!ack) {
        return 0;
    }

    uint64_t status;
    err = fe_reply(dev, request, &status, sizeof status);
    if (!err && status) {
        VLOG_ERR("vhost-user %s: backend refused (status %llu)",
                 vhu_request_name(request), (unsigned long long) status);
        err = -EPROTO;
    }
    return err;
}

/* A request whose reply is one u64 (GET_FEATURES and friends). */
static int
fe_get_u64(struct fe_dev *dev, uint32_t request, uint64_t *out)
{
    int err = fe_request(dev, request, NULL, 0, NULL, 0, false);
    return err ? err : fe_reply(dev, request, out, sizeof *out);
}

/* A SET_* request without a reply of its own: acknowledged when the
 * backend took REPLY_ACK. */
static int
fe_set(struct fe_dev *dev, uint32_t request, const void *payload,
       uint32_t size, const int *fds, unsigned n_fds)
{
    bool ack = dev->protocol_features & (1ull << VHU_PROTOCOL_F_REPLY_ACK);
    return fe_request(dev, request, payload, size, fds, n_fds, ack);
}

static int
fe_negotiate(struct fe_dev *dev, const struct fe_options *o)
{
    uint64_t want = (1ull << VIRTIO_F_VERSION_1)
                    | (1ull << VHU_F_PROTOCOL_FEATURES);
    uint64_t pf;
    int err;

    if (o->mrg_rxbuf) {
        want |= 1ull << VIRTIO_NET_F_MRG_RXBUF;
    }
    if (o->event_idx) {
        want |= 1ull << VIRTIO_RING_F_EVENT_IDX;
    }
    if (o->packed) {
        want |= 1ull << VIRTIO_F_RING_PACKED;
    }
    err = fe_get_u64(dev, VHU_GET_FEATURES, &dev->backend_features);
    if (err) {
        return err;
    }
    dev->features = dev->backend_features & want;
    if (o->packed && !(dev->features & (1ull << VIRTIO_F_RING_PACKED))) {
        VLOG_ERR("the backend does not offer packed rings "
                 "(VIRTIO_F_RING_PACKED); run without packed");
        return -ENOTSUP;
    }
    dev->packed = dev->features & (1ull << VIRTIO_F_RING_PACKED);

    if (dev->features & (1ull << VHU_F_PROTOCOL_FEATURES)) {
        err = fe_get_u64(dev, VHU_GET_PROTOCOL_FEATURES, &pf);
        if (err) {
            return err;
        }
        pf &= (1ull << VHU_PROTOCOL_F_MQ) | (1ull << VHU_PROTOCOL_F_REPLY_ACK);
        /* REPLY_ACK holds from the next message on: this one asks for no
         * reply. */
        err = fe_request(dev, VHU_SET_PROTOCOL_FEATURES, &pf, sizeof pf,
                         NULL, 0, false);
        if (err) {
            return err;
        }
        dev->protocol_features = pf;
        if (pf & (1ull << VHU_PROTOCOL_F_MQ)) {
            err = fe_get_u64(dev, VHU_GET_QUEUE_NUM, &dev->queue_num);
            if (err) {
                return err;
            }
        }
    }

    err = fe_set(dev, VHU_SET_OWNER, NULL, 0, NULL, 0);
    if (!err) {
        err = fe_set(dev, VHU_SET_FEATURES, &dev->features,
                     sizeof dev->features, NULL, 0);
    }
    dev->mrg_rxbuf = dev->features & (1ull << VIRTIO_NET_F_MRG_RXBUF);
    dev->hdr_size = (dev->mrg_rxbuf
                     || (dev->features & (1ull << VIRTIO_F_VERSION_1)))
                    ? sizeof(struct virtio_net_hdr_mrg_rxbuf)
                    : sizeof(struct virtio_net_hdr);
    return err;
}

/* ---- Memory and rings. ---- */

static size_t
fe_align(size_t x, size_t a)
{
    return (x + a - 1) & ~(a - 1);
}

/* Bytes of the three ring parts of a ring of 'size' entries, each part
 * page-aligned. */
static size_t
fe_ring_bytes(uint16_t size)
{
    return fe_align(16u * size, FE_PAGE_SIZE)
           + fe_align(6u + 2u * size, FE_PAGE_SIZE)
           + fe_align(6u + 8u * size, FE_PAGE_SIZE);
}

/* Bytes between buffers of 'buf_size' bytes after 'headroom'. */
static uint32_t
fe_stride(uint32_t buf_size, uint32_t headroom)
{
    return (uint32_t) fe_align(headroom + buf_size, CACHE_LINE_SIZE);
}

/* Points 'r' at its ring parts starting at '*p' and its buffers at
 * '*bufs', advancing both.  A packed ring takes the same room: its event
 * areas are far smaller than the avail and used rings. */
static void
fe_ring_layout(struct fe_ring *r, bool packed, uint16_t size,
               uint32_t buf_size, uint32_t headroom, uint8_t **p,
               uint8_t **bufs)
{
    uint8_t *desc = *p;
    uint8_t *avail = desc + fe_align(16u * size, FE_PAGE_SIZE);
    uint8_t *used = avail + fe_align(6u + 2u * size, FE_PAGE_SIZE);
    *p = used + fe_align(6u + 8u * size, FE_PAGE_SIZE);

    r->packed = packed;
    r->size = size;
    r->mask = size - 1;
    if (packed) {
        r->pdesc = (struct vring_packed_desc *) desc;
        r->driver_event = (struct vring_packed_desc_event *) avail;
        r->device_event = (struct vring_packed_desc_event *) used;
    } else {
        r->desc = (struct vring_desc *) desc;
        r->avail = (struct vring_avail *) avail;
        r->used = (struct vring_used *) used;
        r->avail_event = (uint16_t *) &r->used->ring[size];
    }
    r->buf_size = buf_size;
    r->headroom = headroom;
    r->stride = fe_stride(buf_size, headroom);
    r->bufs = *bufs;
    *bufs += fe_align((size_t) size * r->stride, FE_PAGE_SIZE);
    r->kick_fd = r->call_fd = -1;
}

static int
fe_mem_setup(struct fe_dev *dev, const struct fe_options *o)
{
    uint16_t n_rx = o->rx_ring_size, n_tx = o->tx_ring_size;
    uint32_t rx_buf_size = o->rx_buf_size ? o->rx_buf_size
                           : dev->mrg_rxbuf ? 2048
                           : MAX(2048, o->tx_buf_size);
    uint32_t tx_headroom = CACHE_LINE_SIZE - dev->hdr_size;
    size_t rings = fe_ring_bytes(n_rx) + fe_ring_bytes(n_tx);
    size_t bufs = fe_align((size_t) n_rx * fe_stride(rx_buf_size, 0),
                           FE_PAGE_SIZE)
                  + fe_align((size_t) n_tx * fe_stride(o->tx_buf_size,
                                                       tx_headroom),
                             FE_PAGE_SIZE);
    int err;

    dev->mem_size = rings + bufs;
    dev->gpa_base = FE_GPA_BASE;
    dev->mem_fd = memfd_create("vupktgen-guest", MFD_CLOEXEC);
    if (dev->mem_fd < 0) {
        return -errno;
    }
    if (ftruncate(dev->mem_fd, (off_t) dev->mem_size)) {
        err = -errno;
        goto out_close;
    }
    dev->mem = mmap(NULL, dev->mem_size, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_POPULATE, dev->mem_fd, 0);
    if (dev->mem == MAP_FAILED) {
        err = -errno;
        dev->mem = NULL;
        goto out_close;
    }

    uint8_t *p = dev->mem, *b = dev->mem + rings;
    fe_ring_layout(&dev->rx, dev->packed, n_rx, rx_buf_size, 0, &p, &b);
    fe_ring_layout(&dev->tx, dev->packed, n_tx, o->tx_buf_size, tx_headroom,
                   &p, &b);
    dev->rx.bufs_gpa = fe_gpa(dev, dev->rx.bufs);
    dev->tx.bufs_gpa = fe_gpa(dev, dev->tx.bufs);
    return 0;

out_close:
    close(dev->mem_fd);
    dev->mem_fd = -1;
    return err;
}

static void
fe_mem_undo_setup(struct fe_dev *dev)
{
    if (dev->mem) {
        munmap(dev->mem, dev->mem_size);
        dev->mem = NULL;
    }
    if (dev->mem_fd >= 0) {
        close(dev->mem_fd);
        dev->mem_fd = -1;
    }
}

/* Packed: every receive buffer posted, the transmit ring empty (all-zero
 * slots are neither available nor used in the first lap), and neither
 * side asked to be notified by the other yet: we never will be. */
static int
fe_rings_init_packed(struct fe_dev *dev)
{
    struct fe_ring *rx = &dev->rx, *tx = &dev->tx;

    tx->lens = calloc(tx->size, sizeof *tx->lens);
    if (!tx->lens) {
        return -ENOMEM;
    }
    rx->desc_flags = VRING_DESC_F_WRITE;
    for (uint16_t i = 0; i < rx->size; i++) {
        fe_ring_post_packed(rx, &i, 1);
    }
    rx->kicked_idx = rx->avail_idx;
    for (int q = 0; q < 2; q++) {
        struct fe_ring *r = q ? tx : rx;
        r->driver_event->flags = VRING_PACKED_EVENT_FLAG_DISABLE;
    }
    return 0;
}

/* The free transmit ids and the eventfds of both rings, then the rings
 * themselves: split, the descriptor table and the initial avail ring
 * (every receive buffer posted, every transmit descriptor free); packed,
 * fe_rings_init_packed. */
static int
fe_rings_init(struct fe_dev *dev)
{
    bool event_idx = dev->features & (1ull << VIRTIO_RING_F_EVENT_IDX);
    struct fe_ring *rx = &dev->rx, *tx = &dev->tx;

    tx->free_ids = calloc(tx->size, sizeof *tx->free_ids);
    if (!tx->free_ids) {
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < tx->size; i++) {
        tx->free_ids[i] = i;
    }
    tx->n_free = tx->size;
    for (int q = 0; q < 2; q++) {
        struct fe_ring *r = q ? tx : rx;
        r->event_idx = event_idx;
        r->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        r->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (r->kick_fd < 0 || r->call_fd < 0) {
            return -errno;
        }
    }
    if (dev->packed) {
        return fe_rings_init_packed(dev);
    }

    for (uint32_t i = 0; i < rx->size; i++) {
        rx->desc[i].addr = fe_gpa(dev, fe_ring_buf(rx, i));
        rx->desc[i].len = rx->buf_size;
        rx->desc[i].flags = VRING_DESC_F_WRITE;
        rx->avail->ring[i] = i;
    }
    for (uint32_t i = 0; i < tx->size; i++) {
        tx->desc[i].addr = fe_gpa(dev, fe_ring_buf(tx, i));
        tx->desc[i].len = 0;
    }
    rx->avail_idx = rx->kicked_idx = rx->size;
    rx->avail->idx = rx->size;
    for (int q = 0; q < 2; q++) {
        struct fe_ring *r = q ? tx : rx;
        r->avail->flags = event_idx ? 0 : VRING_AVAIL_F_NO_INTERRUPT;
    }
    return 0;
}

static void
fe_rings_undo_init(struct fe_dev *dev)
{
    for (int q = 0; q < 2; q++) {
        struct fe_ring *r = q ? &dev->tx : &dev->rx;
        if (r->kick_fd >= 0) {
            close(r->kick_fd);
        }
        if (r->call_fd >= 0) {
            close(r->call_fd);
        }
        r->kick_fd = r->call_fd = -1;
    }
    free(dev->tx.free_ids);
    dev->tx.free_ids = NULL;
    free(dev->tx.lens);
    dev->tx.lens = NULL;
}

static int
fe_send_mem_table(struct fe_dev *dev)
{
    struct vhu_mem_table t;

    memset(&t, 0, sizeof t);
    t.n_regions = 1;
    t.regions[0].gpa = dev->gpa_base;
    t.regions[0].size = dev->mem_size;
    t.regions[0].qva = (uint64_t) (uintptr_t) dev->mem;
    t.regions[0].mmap_offset = 0;
    return fe_set(dev, VHU_SET_MEM_TABLE, &t,
                  offsetof(struct vhu_mem_table, regions)
                  + sizeof t.regions[0], &dev->mem_fd, 1);
}

/* A packed ring's parts go where a split ring's would (the driver event
 * area as "avail", the device's as "used"), and its base carries the
 * wrap counter in bit 15: 1, the first lap's. */
static int
fe_ring_start(struct fe_dev *dev, uint32_t index, struct fe_ring *r)
{
    struct vhu_vring_state st = { index, r->size };
    struct vhu_vring_addr addr = { .index = index };
    uint64_t u = index;
    int err;

    if (r->packed) {
        addr.desc_qva = (uint64_t) (uintptr_t) r->pdesc;
        addr.avail_qva = (uint64_t) (uintptr_t) r->driver_event;
        addr.used_qva = (uint64_t) (uintptr_t) r->device_event;
    } else {
        addr.desc_qva = (uint64_t) (uintptr_t) r->desc;
        addr.avail_qva = (uint64_t) (uintptr_t) r->avail;
        addr.used_qva = (uint64_t) (uintptr_t) r->used;
    }
    err = fe_set(dev, VHU_SET_VRING_NUM, &st, sizeof st, NULL, 0);
    if (!err) {
        st.num = r->packed ? 1u << 15 : 0;
        err = fe_set(dev, VHU_SET_VRING_BASE, &st, sizeof st, NULL, 0);
    }
    if (!err) {
        err = fe_set(dev, VHU_SET_VRING_ADDR, &addr, sizeof addr, NULL, 0);
    }
    if (!err) {
        err = fe_set(dev, VHU_SET_VRING_KICK, &u, sizeof u, &r->kick_fd, 1);
    }
    if (!err) {
        err = fe_set(dev, VHU_SET_VRING_CALL, &u, sizeof u, &r->call_fd, 1);
    }
    return err;
}

static int
fe_rings_enable(struct fe_dev *dev)
{
    int err = 0;

    if (!(dev->features & (1ull << VHU_F_PROTOCOL_FEATURES))) {
        return 0;           /* rings are enabled once kicked */
    }
    for (uint32_t q = 0; q < 2 && !err; q++) {
        struct vhu_vring_state st = { q, 1 };
        err = fe_set(dev, VHU_SET_VRING_ENABLE, &st, sizeof st, NULL, 0);
    }
    return err;
}

int
fe_dev_open(int sock, const struct fe_options *o, struct fe_dev **devp)
{
    struct fe_dev *dev;
    int err;

    if (!o->rx_ring_size || o->rx_ring_size & (o->rx_ring_size - 1)
        || !o->tx_ring_size || o->tx_ring_size & (o->tx_ring_size - 1)
        || (o->rx_buf_size && o->rx_buf_size < 64)
        || o->tx_buf_size < 64) {
        return -EINVAL;
    }
    dev = calloc(1, sizeof *dev);
    if (!dev) {
        return -ENOMEM;
    }
    dev->sock = sock;
    dev->mem_fd = -1;
    fe_set_timeout(sock, o->timeout_ms);

    err = fe_negotiate(dev, o);
    if (err) {
        goto out_free;
    }
    err = fe_mem_setup(dev, o);
    if (err) {
        goto out_free;
    }
    err = fe_rings_init(dev);
    if (!err) {
        err = fe_send_mem_table(dev);
    }
    for (uint32_t q = 0; q < 2 && !err; q++) {
        err = fe_ring_start(dev, q, q ? &dev->tx : &dev->rx);
    }
    if (!err) {
        dev->started = true;
        err = fe_rings_enable(dev);
    }
    if (err) {
        goto out_undo_rings;
    }
    /* The backend may start polling only once it saw the kick fd; tell it
     * about the posted receive buffers in case it waits for a kick. */
    uint64_t one = 1;
    if (write(dev->rx.kick_fd, &one, sizeof one) < 0) {
        VLOG_DBG("vhost-user: initial kick: %s", strerror(errno));
    }
    *devp = dev;
    return 0;

out_undo_rings:
    fe_rings_undo_init(dev);
    fe_mem_undo_setup(dev);
out_free:
    free(dev);
    return err;
}

void
fe_dev_close(struct fe_dev *dev)
{
    if (!dev) {
        return;
    }
    if (dev->started) {
        /* Stop the rings before the memory goes away, as QEMU does; a
         * backend that does not answer only costs the timeout. */
        for (uint32_t q = 0; q < 2; q++) {
            struct vhu_vring_state st = { q, 0 };
            if (fe_request(dev, VHU_GET_VRING_BASE, &st, sizeof st, NULL, 0,
                           false)
                || fe_reply(dev, VHU_GET_VRING_BASE, &st, sizeof st)) {
                break;
            }
        }
    }
    close(dev->sock);
    fe_rings_undo_init(dev);
    fe_mem_undo_setup(dev);
    free(dev);
}
