/* frontend.h -- a vhost-user front end without a VM: the driver side of one
 * virtio-net device, for vupktgen and for tests that need a "guest".
 *
 * fe_dev_open() plays QEMU: over a connected vhost-user socket it
 * negotiates features, shares one memfd as "guest memory"
 * (SET_MEM_TABLE), lays out two virtqueues (split, or packed when asked
 * for and offered) and their packet buffers in that memory, hands over
 * kick and call eventfds and enables the rings:
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
 *   A packed ring (virtio 1.1, 2.8) uses the same three parts: the
 *   descriptor ring where the split ring has its table, the driver event
 *   area where it has its avail ring and the device event area where it
 *   has its used ring.  Buffer i is then buffer id i: it goes into
 *   whichever slot is next, and comes back with id i in a used slot.
 *
 *   A transmit buffer starts 64 - hdr_size bytes into its cache line, so
 *   that the frame behind the virtio-net header starts a cache line: the
 *   header, never rewritten, stays in the backend's cache, and the first
 *   64 bytes of a frame (all a small frame's headers) dirty one line.
 *
 * Datapath (the inline functions below, one form per layout): one thread
 * owns a device's two rings and busy-polls them.  A burst counts the used
 * entries once (fe_ring_used_pending: the used index, or the flags of the
 * slots not yet seen used), consumes entries, makes buffers
 * available (fe_ring_post: avail entries and the avail index once, or
 * descriptors whose first flags are written last), then kicks the backend
 * only if it asked for it (fe_ring_kick): EVENT_IDX avail_event or no
 * VRING_USED_F_NO_NOTIFY; packed, its device event area.  We never want
 * interrupts: avail flags carry VRING_AVAIL_F_NO_INTERRUPT and used_event
 * stays 0 (packed: the driver event area says DISABLE), so a backend
 * signals the call eventfd at most once per 65536 used entries; nobody
 * reads it.
 *
 * Positions are free-running 16-bit counters in both layouts (avail_idx,
 * kicked_idx, last_used).  Ring sizes are powers of two, so a packed
 * ring's slot is the counter masked and its wrap counter the parity of
 * the lap: 1 on the first (fe_packed_wrap).
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

/* One virtqueue, driver side.  All members are written by the owning
 * thread only; the backend writes the used ring and avail_event (packed:
 * used descriptors and the device event area). */
struct fe_ring {
    bool packed;
    union {
        struct {                /* split */
            struct vring_desc *desc;
            struct vring_avail *avail;
            struct vring_used *used;
            uint16_t *avail_event;      /* &used->ring[size] (EVENT_IDX) */
        };
        struct {                /* packed */
            struct vring_packed_desc *pdesc;
            struct vring_packed_desc_event *driver_event;
            struct vring_packed_desc_event *device_event;
        };
    };
    uint32_t *lens;             /* packed tx: each id's length, for the
                                 * slot it goes into next */
    uint16_t desc_flags;        /* packed: VRING_DESC_F_WRITE on rx */
    uint8_t *bufs;              /* see fe_ring_buf() */
    uint64_t bufs_gpa;          /* guest-physical address of 'bufs' */
    uint32_t buf_size;          /* bytes descriptor i points to */
    uint32_t stride;            /* bytes between buffers (multiple of 64) */
    uint32_t headroom;          /* unused bytes before each buffer */
    uint16_t size, mask;
    uint16_t avail_idx;         /* shadow of avail->idx (packed: the
                                 * next slot to fill, free-running) */
    uint16_t kicked_idx;        /* avail_idx at the last kick decision */
    uint16_t last_used;         /* next used entry to consume */
    uint16_t n_used_seen;       /* packed: slots from last_used on that
                                 * fe_ring_used_pending found used */
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
    bool packed;                /* require VIRTIO_F_RING_PACKED */
    int timeout_ms;             /* bound on each reply from the backend */
};

/* Fills 'o' with defaults: 256 entries, 2048-byte transmit buffers,
 * receive buffers sized by the features, mergeable rx buffers and
 * EVENT_IDX wanted, split rings, 5 s timeout. */
void fe_options_init(struct fe_options *o);

struct fe_dev {
    int sock;
    uint64_t backend_features;  /* what GET_FEATURES offered */
    uint64_t features;          /* what we acked with SET_FEATURES */
    uint64_t protocol_features; /* acked protocol features */
    uint64_t queue_num;         /* GET_QUEUE_NUM answer, 0 without MQ */
    uint32_t hdr_size;          /* virtio-net header: 12 or 10 bytes */
    bool mrg_rxbuf;
    bool packed;                /* both rings are packed (negotiated) */
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
 * and 'sock' open.  -ENOTSUP: o->packed and the backend does not offer
 * packed rings.  */
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

/* Wrap counter of the slot at free-running position 'pos' (packed). */
static inline bool
fe_packed_wrap(const struct fe_ring *r, uint16_t pos)
{
    return !(pos & r->size);
}

/* True if the backend marked the packed slot at 'pos' used: both flag
 * bits equal to that lap's wrap counter (virtio 1.1, 2.8.1). */
static inline bool
fe_packed_is_used(const struct fe_ring *r, uint16_t pos)
{
    uint16_t flags = LOAD_ACQUIRE(r->pdesc[pos & r->mask].flags);
    bool wrap = fe_packed_wrap(r, pos);
    return !!(flags & (1u << VRING_PACKED_DESC_F_AVAIL)) == wrap
           && !!(flags & (1u << VRING_PACKED_DESC_F_USED)) == wrap;
}

/* Used entries published by the backend and not consumed yet.  Split:
 * reads the used index once, with acquire ordering, and marks the ring
 * broken and returns 0 if the backend ran ahead by more than the ring
 * size.  Packed: reads the flags of the slots after those it found used
 * before, up to the first not used or the number of buffers out (one slot
 * each: we neither chain nor take IN_ORDER); each slot's flags once,
 * however many bursts it takes to consume them. */
static inline uint16_t
fe_ring_used_pending(struct fe_ring *r)
{
    if (r->packed) {
        uint16_t out = (uint16_t) (r->avail_idx - r->last_used);
        uint16_t n = r->n_used_seen;
        while (n < out && fe_packed_is_used(r, (uint16_t) (r->last_used + n))) {
            n++;
        }
        r->n_used_seen = n;
        return n;
    }
    uint16_t n = (uint16_t) (LOAD_ACQUIRE(r->used->idx) - r->last_used);
    if (unlikely(n > r->size)) {
        r->broken = true;
        return 0;
    }
    return n;
}

/* Id and length of the i-th unconsumed used entry (i <
 * fe_ring_used_pending()), each read once; the caller checks the id
 * against r->size. */
static inline void
fe_ring_used_get(const struct fe_ring *r, uint16_t i, uint32_t *id,
                 uint32_t *len)
{
    uint16_t pos = (uint16_t) (r->last_used + i) & r->mask;
    if (r->packed) {
        *id = READ_ONCE(r->pdesc[pos].id);
        *len = READ_ONCE(r->pdesc[pos].len);
    } else {
        *id = READ_ONCE(r->used->ring[pos].id);
        *len = READ_ONCE(r->used->ring[pos].len);
    }
}

/* Consumes 'n' used entries (n <= fe_ring_used_pending()). */
static inline void
fe_ring_used_consume(struct fe_ring *r, uint16_t n)
{
    r->last_used += n;
    r->n_used_seen -= r->packed ? n : 0;
}

/* Packed: fills the slots for 'ids[0..n)', the first slot's flags last,
 * so that the backend sees the whole burst or none of it. */
static inline void
fe_ring_post_packed(struct fe_ring *r, const uint16_t *ids, unsigned n)
{
    uint16_t first_flags = 0;
    for (unsigned i = 0; i < n; i++) {
        uint16_t pos = (uint16_t) (r->avail_idx + i);
        struct vring_packed_desc *d = &r->pdesc[pos & r->mask];
        bool wrap = fe_packed_wrap(r, pos);
        uint16_t flags = (uint16_t) (r->desc_flags
                                     | wrap << VRING_PACKED_DESC_F_AVAIL
                                     | !wrap << VRING_PACKED_DESC_F_USED);
        d->addr = r->bufs_gpa + (uint64_t) ids[i] * r->stride + r->headroom;
        d->len = r->lens ? r->lens[ids[i]] : r->buf_size;
        d->id = ids[i];
        if (i) {
            STORE_RELEASE(d->flags, flags);
        } else {
            first_flags = flags;
        }
    }
    if (n) {
        STORE_RELEASE(r->pdesc[r->avail_idx & r->mask].flags, first_flags);
    }
    r->avail_idx += n;
}

/* Makes descriptors 'ids[0..n)' available and publishes them at once.
 * Split: an avail entry that already holds the id is not rewritten. */
static inline void
fe_ring_post(struct fe_ring *r, const uint16_t *ids, unsigned n)
{
    if (r->packed) {
        fe_ring_post_packed(r, ids, n);
        return;
    }
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

/* Packed: whether the device event area asks to hear of the slots from
 * 'old_idx' up to 'new_idx' (free-running).  Its DESC form names a slot
 * and that slot's wrap counter (virtio 1.1, 2.8.10). */
static inline bool
fe_packed_need_kick(const struct fe_ring *r, uint16_t new_idx,
                    uint16_t old_idx)
{
    uint16_t flags = READ_ONCE(r->device_event->flags);
    if (flags != VRING_PACKED_EVENT_FLAG_DESC) {
        return flags != VRING_PACKED_EVENT_FLAG_DISABLE;
    }
    uint16_t off_wrap = READ_ONCE(r->device_event->off_wrap);
    uint16_t slot = off_wrap & (uint16_t) ~(1u << VRING_PACKED_EVENT_F_WRAP_CTR);
    bool wrap = off_wrap >> VRING_PACKED_EVENT_F_WRAP_CTR;
    /* The free-running position of that slot in the lap it names: this
     * lap, or the one before if the wrap counters differ. */
    uint16_t lap_start = new_idx & (uint16_t) ~r->mask;
    uint16_t event = (uint16_t) (lap_start + slot);
    if (wrap != fe_packed_wrap(r, new_idx)) {
        event = (uint16_t) (event - r->size);
    }
    return vring_need_event(event, new_idx, old_idx);
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
    if (r->packed) {
        need = fe_packed_need_kick(r, new_idx, old_idx);
    } else if (r->event_idx) {
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
        uint32_t id, len;
        fe_ring_used_get(r, i, &id, &len);
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
 * the descriptor only if the length changed (packed: for fe_ring_post,
 * which writes the slot). */
static inline void
fe_tx_set_len(struct fe_ring *r, uint16_t id, uint32_t len)
{
    if (r->packed) {
        r->lens[id] = len;
    } else if (r->desc[id].len != len) {
        r->desc[id].len = len;
    }
}

#endif /* frontend.h */
