/* frontend.h -- a vhost-user front end without a VM: the driver side of one
 * virtio-net device, for vupktgen and for tests that need a "guest".
 *
 * fe_dev_open() plays QEMU: over a connected vhost-user socket it
 * negotiates features, shares one memfd as "guest memory"
 * (SET_MEM_TABLE), lays out two split virtqueues and their packet buffers
 * in that memory, hands over kick and call eventfds and enables the rings:
 *
 *   GET_FEATURES, GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES,
 *   GET_QUEUE_NUM (with MQ), SET_OWNER, SET_FEATURES, SET_MEM_TABLE,
 *   then for rx (queue 0) and tx (queue 1): SET_VRING_NUM, SET_VRING_BASE,
 *   SET_VRING_ADDR, SET_VRING_KICK, SET_VRING_CALL; then SET_VRING_ENABLE 1
 *   for both (with PROTOCOL_FEATURES).  With REPLY_ACK every SET_* that has
 *   no reply of its own asks for one, so a refusal is seen where it
 *   happens.
 *
 * Guest memory, one memfd, one region (GPA fe_dev.gpa_base upwards):
 *
 *   +---------+----------+----------+---------+----------+----------+
 *   | rx desc | rx avail | rx used  | tx desc | tx avail | tx used  |
 *   +---------+----------+----------+---------+----------+----------+
 *   | rx buffers: size x rx_buf_size | tx buffers: size x tx_buf_size |
 *   +--------------------------------+--------------------------------+
 *   (each ring part starts on its own 4 KiB page; buffer i of a ring
 *    belongs to descriptor i forever: descriptors are written once at
 *    set-up, except a tx descriptor's length when a frame's size changes)
 *
 *   A transmit buffer starts 64 - hdr_size bytes into its cache line, so
 *   that the frame behind the virtio-net header starts a cache line: the
 *   header, never rewritten, stays in the backend's cache, and the first
 *   64 bytes of a frame (all a small frame's headers) dirty one line.
 *
 * Datapath (the inline functions below): one thread owns a device's two
 * rings and busy-polls them.  A burst reads the used index once
 * (fe_ring_used_pending), consumes entries, writes avail entries and
 * publishes the avail index once (fe_ring_post), then kicks the backend
 * only if it asked for it (fe_ring_kick): EVENT_IDX avail_event, or no
 * VRING_USED_F_NO_NOTIFY.  We never want interrupts: avail flags carry
 * VRING_AVAIL_F_NO_INTERRUPT and used_event stays 0, so a backend signals
 * the call eventfd at most once per 65536 used entries; nobody reads it.
 *
 * Transmit descriptors are recycled through a FIFO of free ids
 * (fe_tx_reclaim, fe_tx_get), so against an in-order backend id == slot
 * and the avail ring entries never change after the first lap: we skip
 * writing an entry that already holds the id, sparing the backend a cache
 * miss.  Receive descriptors are all posted at set-up and reposted in used
 * order after each burst.
 *
 * The backend is what we test, so nothing it writes is trusted: a used id
 * out of range or a used index that runs ahead by more than the ring size
 * marks the ring broken (fe_ring.broken), and callers stop using it.
 *
 * Control path (fe_connect, fe_listen_accept, fe_dev_open, fe_dev_close)
 * allocates and blocks (bounded by timeouts); call it from any one thread
 * that does not also run the datapath at the same time. */
#ifndef VU_FRONTEND_H
#define VU_FRONTEND_H 1

#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "util.h"

#define FE_RX_QUEUE 0           /* vhost-user queue index: device writes */
#define FE_TX_QUEUE 1           /* device reads */
#define FE_MAX_RING_SIZE 32768

/* One split virtqueue, driver side.  All members are written by the owning
 * thread only; the backend writes the used ring and avail_event. */
struct fe_ring {
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;
    uint16_t *avail_event;      /* &used->ring[size] (EVENT_IDX) */
    uint8_t *bufs;              /* see fe_ring_buf() */
    uint32_t buf_size;          /* bytes descriptor i points to */
    uint32_t stride;            /* bytes between buffers (multiple of 64) */
    uint32_t headroom;          /* unused bytes before each buffer */
    uint16_t size, mask;
    uint16_t avail_idx;         /* shadow of avail->idx */
    uint16_t kicked_idx;        /* avail_idx at the last kick decision */
    uint16_t last_used;         /* next used entry to consume */
    bool event_idx;
    bool broken;                /* the backend violated the protocol */
    int kick_fd, call_fd;
    uint64_t n_kicks;

    /* Transmit only: FIFO of free descriptor ids. */
    uint16_t *free_ids;         /* 'size' entries */
    uint32_t free_head;         /* next id to hand out (free-running) */
    uint32_t n_free;
};

struct fe_options {
    uint16_t rx_ring_size;      /* powers of two, 1..FE_MAX_RING_SIZE */
    uint16_t tx_ring_size;
    uint32_t rx_buf_size;       /* per receive buffer, virtio header
                                 * included; 0: 2048 with mergeable
                                 * buffers, else MAX(2048, tx_buf_size) */
    uint32_t tx_buf_size;       /* per transmit buffer, header included */
    bool mrg_rxbuf;             /* offer to take VIRTIO_NET_F_MRG_RXBUF */
    bool event_idx;             /* offer to take VIRTIO_RING_F_EVENT_IDX */
    int timeout_ms;             /* bound on each reply from the backend */
};

/* Fills 'o' with defaults: 256 entries, 2048-byte transmit buffers,
 * receive buffers sized by the features, mergeable rx buffers and
 * EVENT_IDX wanted, 5 s timeout. */
void fe_options_init(struct fe_options *o);

struct fe_dev {
    int sock;
    uint64_t backend_features;  /* what GET_FEATURES offered */
    uint64_t features;          /* what we acked with SET_FEATURES */
    uint64_t protocol_features; /* acked protocol features */
    uint64_t queue_num;         /* GET_QUEUE_NUM answer, 0 without MQ */
    uint32_t hdr_size;          /* virtio-net header: 12 or 10 bytes */
    bool mrg_rxbuf;
    bool started;               /* rings were handed to the backend */

    int mem_fd;
    uint8_t *mem;
    size_t mem_size;
    uint64_t gpa_base;

    struct fe_ring rx;          /* queue 0 */
    struct fe_ring tx;          /* queue 1 */
};

/* Connects to the vhost-user socket 'path', retrying while it does not
 * exist or refuses, for up to 'timeout_ms'.  Returns the socket fd (the
 * caller owns it) or -errno. */
int fe_connect(const char *path, int timeout_ms);

/* Listens on 'path' (replacing a stale socket file there), accepts one
 * backend within 'timeout_ms' and stops listening.  Returns the connected
 * fd or -errno.  The socket file is left in place; the caller unlinks it. */
int fe_listen_accept(const char *path, int timeout_ms);

/* Sets up a device over the connected socket 'sock' (see the top of this
 * file).  On success returns 0, stores the device in '*devp' and the
 * device owns 'sock'; on failure returns -errno, leaves '*devp' untouched
 * and 'sock' open.  */
int fe_dev_open(int sock, const struct fe_options *, struct fe_dev **devp);

/* Stops both rings (GET_VRING_BASE, as QEMU does when a guest stops),
 * closes the socket and eventfds and unmaps the memory.  NULL is a no-op. */
void fe_dev_close(struct fe_dev *);

/* Guest-physical address of 'p', which must lie in dev->mem. */
static inline uint64_t
fe_gpa(const struct fe_dev *dev, const void *p)
{
    return dev->gpa_base + (uint64_t) ((const uint8_t *) p - dev->mem);
}

/* Buffer of descriptor 'id' (buf_size bytes, virtio-net header first). */
static inline uint8_t *
fe_ring_buf(const struct fe_ring *r, uint16_t id)
{
    return r->bufs + (size_t) id * r->stride + r->headroom;
}

/* ---- Datapath: owner thread only, no syscall except fe_ring_kick(). ---- */

/* Used entries published by the backend and not consumed yet (reads the
 * used index once, with acquire ordering).  Marks the ring broken and
 * returns 0 if the backend ran ahead by more than the ring size. */
static inline uint16_t
fe_ring_used_pending(struct fe_ring *r)
{
    uint16_t n = (uint16_t) (LOAD_ACQUIRE(r->used->idx) - r->last_used);
    if (unlikely(n > r->size)) {
        r->broken = true;
        return 0;
    }
    return n;
}

/* The i-th unconsumed used entry (i < fe_ring_used_pending()); the caller
 * reads its id and len once and checks the id against r->size. */
static inline const struct vring_used_elem *
fe_ring_used_elem(const struct fe_ring *r, uint16_t i)
{
    return &r->used->ring[(uint16_t) (r->last_used + i) & r->mask];
}

static inline void
fe_ring_used_consume(struct fe_ring *r, uint16_t n)
{
    r->last_used += n;
}

/* Makes descriptors 'ids[0..n)' available and publishes the avail index
 * once.  An avail entry that already holds the id is not rewritten. */
static inline void
fe_ring_post(struct fe_ring *r, const uint16_t *ids, unsigned n)
{
    uint16_t idx = r->avail_idx;
    for (unsigned i = 0; i < n; i++) {
        uint16_t *slot = &r->avail->ring[(uint16_t) (idx + i) & r->mask];
        if (*slot != ids[i]) {
            *slot = ids[i];
        }
    }
    idx += n;
    STORE_RELEASE(r->avail->idx, idx);
    r->avail_idx = idx;
}

/* Kicks the backend if it wants to hear about what fe_ring_post() made
 * available since the last call.  Returns true if it wrote the kick fd. */
static inline bool
fe_ring_kick(struct fe_ring *r)
{
    uint16_t new_idx = r->avail_idx, old_idx = r->kicked_idx;
    bool need;

    if (new_idx == old_idx) {
        return false;
    }
    r->kicked_idx = new_idx;
    /* Our avail index store must be visible before we read the backend's
     * wish, or both sides may conclude the other will act (virtio 2.7.10). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (r->event_idx) {
        need = vring_need_event(READ_ONCE(*r->avail_event), new_idx, old_idx);
    } else {
        need = !(READ_ONCE(r->used->flags) & VRING_USED_F_NO_NOTIFY);
    }
    if (need) {
        uint64_t one = 1;
        if (write(r->kick_fd, &one, sizeof one) == sizeof one) {
            r->n_kicks++;
        }
    }
    return need;
}

/* Transmit: moves descriptors the backend is done with to the free FIFO.
 * Returns how many.  A used id out of range marks the ring broken. */
static inline unsigned
fe_tx_reclaim(struct fe_ring *r)
{
    uint16_t n = fe_ring_used_pending(r);
    uint32_t tail = r->free_head + r->n_free;

    for (uint16_t i = 0; i < n; i++) {
        uint32_t id = READ_ONCE(fe_ring_used_elem(r, i)->id);
        if (unlikely(id >= r->size || r->n_free >= r->size)) {
            r->broken = true;
            n = i;
            break;
        }
        r->free_ids[tail++ & r->mask] = (uint16_t) id;
        r->n_free++;
    }
    fe_ring_used_consume(r, n);
    return n;
}

/* Transmit: takes a free descriptor id; the caller checked r->n_free. */
static inline uint16_t
fe_tx_get(struct fe_ring *r)
{
    r->n_free--;
    return r->free_ids[r->free_head++ & r->mask];
}

/* Transmit: the id that the k-th next fe_tx_get() will return (k <
 * r->n_free), to prefetch its buffer. */
static inline uint16_t
fe_tx_peek(const struct fe_ring *r, uint32_t k)
{
    return r->free_ids[(r->free_head + k) & r->mask];
}

/* Transmit: sets the length of descriptor 'id' (header + frame), writing
 * the descriptor only if the length changed. */
static inline void
fe_tx_set_len(struct fe_ring *r, uint16_t id, uint32_t len)
{
    if (r->desc[id].len != len) {
        r->desc[id].len = len;
    }
}

#endif /* frontend.h */
