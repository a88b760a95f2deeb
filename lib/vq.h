/* vq.h -- one virtqueue, split or packed, seen from the device side.
 *
 * The guest (driver) owns the descriptor table and the available ring; we
 * (the device) own the used ring.  Layout in guest memory (virtio 1.1, 2.7):
 *
 *   desc  [size] { u64 addr; u32 len; u16 flags; u16 next; }   16-aligned
 *   avail { u16 flags; u16 idx; u16 ring[size]; u16 used_event; } 2-aligned
 *   used  { u16 flags; u16 idx; {u32 id; u32 len} ring[size];
 *           u16 avail_event; }                                  4-aligned
 *
 *           guest writes                we write
 *   avail.idx ----> [ heads ... ]   used.idx ----> [ (head, len) ... ]
 *           ^ last_avail (ours)             ^ used_idx (our shadow)
 *
 * A burst is: vq_begin() reads avail.idx once; vq_pop() walks one chain per
 * call (every descriptor read once into a local, then validated: index in
 * range, hop count, indirect table size, no nested indirect, no
 * INDIRECT+NEXT, buffer direction, buffer translated with its length);
 * vq_push() queues one used element (written out in batches); vq_end()
 * writes what is queued, publishes used.idx once and
 * notifies the guest only if it asked (EVENT_IDX used_event, or no
 * VRING_AVAIL_F_NO_INTERRUPT).  vq_enqueue() does the receive-side copy of
 * a whole frame (mergeable buffers or one chain) between begin and end.
 * vq_end is vq_publish, a full fence and vq_notify: a worker that ends
 * bursts on several rings in a pass publishes each and checks them all
 * behind one fence.
 *
 * A packed ring (virtio 1.1, 2.8; VIRTIO_F_RING_PACKED) has one table
 * that both sides write, and two small event areas instead of avail/used:
 * vq-packed.c implements it behind the same calls (vq_setup_packed starts
 * one; vq->packed selects it), so the ports do not see the difference.
 *
 * Threads: the control thread sets a ring up (vq_setup) and reads its
 * indexes (vq_get_base) only while no worker owns it.  Between those, the
 * one owner worker calls everything else.  Nothing here blocks or
 * allocates; the only syscall is the eventfd/pipe write of a notification,
 * at most once per burst. */
#ifndef VU_VQ_H
#define VU_VQ_H 1

#include <endian.h>
#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "gmem.h"
#include "util.h"

#define VQ_MAX_SIZE 32768       /* largest split ring (power of two) */
#define VQ_MAX_SEGS 1024        /* longest chain we translate, in pieces */
#define VQ_SHADOW 64            /* used entries a burst batches (vq_push) */
#define VQ_PACKED_BURST 32      /* chains vq_begin promises at most, and
                                 * slots it prefetches (packed) */
#define VQ_PACKED_FRAME 32      /* receive chains one frame may take
                                 * (packed; see vq_reserve) */

/* One piece of a frame in our address space (guest memory or a buffer). */
struct vq_seg {
    uint8_t *addr;
    uint32_t len;
};

/* Results of the datapath calls: 0 or one of these, negated. */
enum vq_err {
    VQ_EMPTY = 1,       /* nothing available (not an error) */
    VQ_BAD_DESC,        /* chain malformed: loop, too long, bad flags,
                         * wrong direction, bad indirect table */
    VQ_BAD_ADDR,        /* a buffer or table not inside guest memory */
    VQ_NO_BUFS,         /* (enqueue) not enough receive buffers posted */
    VQ_TOO_BIG,         /* (enqueue, no MRG_RXBUF) frame larger than one chain */
    VQ_BROKEN,          /* ring-level violation (avail.idx jumped by more
                         * than size, head >= size): stop using the ring */
};

enum vq_notify {
    VQ_NOTIFY_NONE,         /* nothing was published */
    VQ_NOTIFY_SENT,         /* the guest was signalled */
    VQ_NOTIFY_SUPPRESSED,   /* published, but the guest asked for silence */
};

struct vq {
    /* Set by the control thread (vq_setup) while no worker owns the ring;
     * read-only for the owner. */
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;
    /* Packed ring (vq->packed): the table and the two event areas. */
    struct vring_packed_desc *pdesc;
    struct vring_packed_desc_event *driver_event;   /* guest: notify me? */
    struct vring_packed_desc_event *device_event;   /* us: kick us? */
    const struct gmem *mem;
    uint16_t size;              /* split: a power of two, 1..VQ_MAX_SIZE;
                                 * packed: any of 1..VQ_MAX_SIZE */
    uint16_t mask;              /* split: size - 1 */
    bool packed;                /* set by vq_setup_packed */
    uint16_t hdr_size;          /* virtio-net header: 12 or 10 bytes */
    bool event_idx;             /* VIRTIO_RING_F_EVENT_IDX negotiated */
    bool indirect;              /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
    bool mrg_rxbuf;             /* VIRTIO_NET_F_MRG_RXBUF negotiated */
    bool in_order;              /* VIRTIO_F_IN_ORDER negotiated: the guest
                                 * makes descriptors available in table
                                 * order (vq_prefetch guesses heads) */
    bool batch_used;            /* packed, IN_ORDER, a ring whose used
                                 * lengths say nothing (the guest's transmit
                                 * ring): one used entry may stand for a run
                                 * of chains (vq_packed_flush) */
    int call_fd;                /* eventfd or pipe to notify, -1: none */

    /* Owned by the worker that polls the ring; the control thread reads
     * them only after the ownership handshake. */
    uint16_t last_avail;        /* next avail entry we will consume
                                 * (packed: the slot of the next chain) */
    uint16_t avail_idx;         /* avail.idx as read by vq_begin() */
    uint16_t used_idx;          /* next used entry we will write (packed:
                                 * a count of vq_push calls) */
    uint16_t published_used;    /* used.idx as last published */
    uint16_t signalled_used;    /* used.idx at our last notification
                                 * (packed: slot | wrap << 15) */
    bool signalled_used_valid;
    bool notify_owed;           /* published, not checked (vq_notify) */
    uint16_t owed_from;         /* published_used before that */
    bool avail_wrap;            /* packed: wrap counter at last_avail */
    bool used_wrap;             /* packed: wrap counter at used_slot */
    uint16_t used_slot;         /* packed: where the next used entry goes */
    bool wrap_unknown;          /* packed, base 0: see vq_setup_packed */
    uint16_t n_shadow;          /* used entries pushed, not yet written */
    struct vring_used_elem shadow[VQ_SHADOW];   /* ... here (vq.c); packed:
                                                 * id is vq_chain.id */
    struct gmem_cache cache;
};

/* A chain popped from the ring. */
struct vq_chain {
    /* What vq_push() takes to give the chain back.  Split: the head index.
     * Packed: the buffer id, and in bits 16-31 how many slots the chain
     * took.  One 32-bit field, written once: a 32-bit load of two 16-bit
     * halves stored apart cannot be forwarded from the store buffer, and
     * waits for every store before them to reach the cache. */
    uint32_t id;
    uint16_t n_segs;            /* pieces stored in the caller's array */
    uint32_t len;               /* total bytes of all pieces */
};

/* Control thread: points 'vq' at a ring whose three parts are already
 * translated by the caller (see vq_check_layout) and sets its indexes to
 * 'base'.  Returns 0 or -EINVAL (size not a power of two or too large). */
int vq_setup(struct vq *, const struct gmem *, uint16_t size,
             struct vring_desc *, struct vring_avail *, struct vring_used *,
             uint16_t base);

/* Control thread: translates the three ring parts given as front-end
 * virtual addresses, checking alignment and that each part lies entirely in
 * mapped memory.  Returns 0 and fills the pointers, or -EINVAL
 * (misaligned) / -EFAULT (not mapped). */
int vq_translate_rings(const struct gmem *, uint16_t size,
                       uint64_t desc_qva, uint64_t avail_qva,
                       uint64_t used_qva, struct vring_desc **,
                       struct vring_avail **, struct vring_used **);

/* The same for a packed ring (vq-packed.c): the table, the driver event
 * area (vhost-user's "avail" address) and the device event area ("used").
 * 'base' is vhost-user's: bits 0-14 the next slot, bit 15 its wrap
 * counter; bits 16-31 the same for the used side, or 0 for "same as the
 * available side".  vq_setup_packed returns -EINVAL for a bad size or a
 * slot outside the ring.
 *
 * A base of 0 is ambiguous.  It reads as slot 0 in a lap with wrap
 * counter 0, a ring some odd number of laps along; but a new ring starts
 * with wrap counter 1 (0x8000), and Linux's UML front end (virtio_uml,
 * 6.1) sends 0 for every new ring all the same.  The first chain the guest
 * posts tells which: its AVAIL and USED bits are 1 and 0 in a lap with
 * wrap counter 1, the other way round in one with 0. */
int vq_setup_packed(struct vq *, const struct gmem *, uint16_t size,
                    struct vring_packed_desc *,
                    struct vring_packed_desc_event *driver,
                    struct vring_packed_desc_event *device, uint32_t base);
int vq_translate_rings_packed(const struct gmem *, uint16_t size,
                              uint64_t desc_qva, uint64_t driver_qva,
                              uint64_t device_qva,
                              struct vring_packed_desc **,
                              struct vring_packed_desc_event **driver,
                              struct vring_packed_desc_event **device);

/* Control thread: tells a polling backend's guest not to kick us
 * (VRING_USED_F_NO_NOTIFY, or the packed ring's device event flags),
 * called when the ring starts. */
void vq_start(struct vq *);

/* Control thread, ring not owned: the index to report for GET_VRING_BASE
 * (packed: in the form vq_setup_packed takes). */
uint32_t vq_get_base(const struct vq *);

/* Owner: starts a burst.  Reads avail.idx once.  Returns how many chains
 * are available (0..size) or -VQ_BROKEN.  A packed ring has no index: 0
 * if its next slot is not ready, else VQ_PACKED_BURST (at most the size),
 * an upper bound: vq_pop returns -VQ_EMPTY where the chains end. */
int vq_begin(struct vq *);

/* Owner, receive ring: vq_begin() only if fewer than 'want' entries are
 * left from the last time it read avail.idx.  The guest posts receive
 * buffers well ahead, so most bursts need not touch the line it keeps
 * writing (vq_reserve reads it again when what was seen runs out).  A
 * packed ring: vq_begin's answer, promising at most 'want'. */
int vq_begin_lazy(struct vq *, unsigned want);

/* Owner: starts loading the available-ring slots the next burst will read,
 * and with IN_ORDER the descriptors of the chains already seen available
 * (a hint, issued at the end of a burst). */
void vq_prefetch_next(const struct vq *);

/* Owner, just before vq_begin on a ring it takes chains from: with
 * IN_ORDER on a split ring, starts loading the slots and descriptors of
 * the next VQ_NEXT_DESCS chains before the avail index says how many are
 * there.  A guess, so that the two misses overlap (vq.c). */
void vq_prefetch_early(const struct vq *);

/* Owner, after vq_begin: starts loading the descriptors of the next 'n'
 * available chains into the cache, so that walking them does not stall on
 * one cache miss after another (the guest wrote them on another CPU).
 * Only a hint: nothing is validated or consumed. */
void vq_prefetch(const struct vq *, unsigned n);

/* Owner: pops the next available chain, translating its buffers into
 * 'segs' (at most 'max_segs').  'writable' selects the direction the
 * buffers must have: false for a ring the guest transmits on, true for its
 * receive ring.  Returns 0 with '*chain' filled; -VQ_EMPTY; -VQ_BROKEN; or
 * -VQ_BAD_DESC / -VQ_BAD_ADDR, in which case the chain was consumed and
 * 'chain->id' is valid: the caller gives it back with length 0. */
static inline int vq_pop(struct vq *, bool writable, struct vq_seg *segs,
                         unsigned max_segs, struct vq_chain *chain);

/* Owner: returns a chain ('id' from its vq_chain) to the guest with 'len'
 * bytes written.  The entry reaches the used ring by vq_end() at the
 * latest.  Chains go back in the order they were popped. */
static inline void vq_push(struct vq *, uint32_t id, uint32_t len);

/* The same two for a caller that knows the ring's layout ('packed', a
 * constant there: a burst loop picks its copy once, not per chain). */
static ALWAYS_INLINE int vq_pop_as(struct vq *, bool packed, bool writable,
                                   struct vq_seg *segs, unsigned max_segs,
                                   struct vq_chain *chain);
static ALWAYS_INLINE void vq_push_as(struct vq *, bool packed, uint32_t id,
                                     uint32_t len);

/* Owner: ends a burst: publishes used.idx if it moved and notifies the
 * guest if it asked for it. */
enum vq_notify vq_end(struct vq *);

/* Owner: vq_end in two steps.  vq_publish writes the queued used entries
 * and publishes them; it returns true when the ring now owes a
 * notification check it did not owe before.  After its last vq_publish
 * the caller issues vq_fence() once, then vq_notify() on each ring that
 * owes one (several rings may share the fence).  vq_notify decides as
 * vq_end would and returns VQ_NOTIFY_NONE if nothing was owed. */
bool vq_publish(struct vq *);
enum vq_notify vq_notify(struct vq *);

/* The full fence between publishing and reading what the guest asked for.
 * The guest writes used_event / flags, then re-reads used.idx; we write
 * used.idx, then read used_event / flags.  Without a full fence both sides
 * can miss the other's store and the guest sleeps forever on a frame we
 * delivered.  It waits for every store before it to reach the cache
 * (into lines the guest holds, among them): once a pass, not once a
 * ring, where it can. */
static inline void
vq_fence(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Owner, receive ring, between vq_begin and vq_end: copies the frame held
 * in 'src' ('n_src' pieces, 'len' bytes in all) into guest buffers behind a
 * zeroed virtio-net header of hdr_size bytes (num_buffers set when
 * mrg_rxbuf).  Returns 0; -VQ_NO_BUFS or -VQ_TOO_BIG with nothing consumed;
 * -VQ_BAD_DESC / -VQ_BAD_ADDR when a guest buffer was bad (it was returned
 * with length 0 and the frame is dropped); -VQ_BROKEN.
 *
 * The same in two steps, for a burst: vq_reserve() takes the buffers for
 * one frame (same results as vq_enqueue, the pieces go into 'segs', at most
 * 'max_segs' of them) and vq_fill() copies the frame in.  Reserving the
 * whole burst first lets the caller start loading the destination buffers
 * of all frames before the first copy waits for one of them. */
int vq_enqueue(struct vq *, const struct vq_seg *src, unsigned n_src,
               uint32_t len);

struct vq_resv {
    struct vq_seg *segs;        /* guest buffers, in order */
    uint16_t n_segs;
    uint16_t n_chains;          /* used entries (num_buffers) */
    uint32_t len;               /* frame bytes, header not included */
};

int vq_reserve(struct vq *, uint32_t len, struct vq_seg *segs,
               unsigned max_segs, struct vq_resv *);

/* vq_reserve for a caller that knows the ring's layout ('packed', a
 * constant there): the common case, the next chain holding the whole
 * frame, inline. */
static ALWAYS_INLINE int vq_reserve_as(struct vq *, bool packed,
                                       uint32_t len, struct vq_seg *segs,
                                       unsigned max_segs, struct vq_resv *);

/* Whether vq_reserve can take one more frame without publishing the ones
 * reserved before it.  A packed ring publishes a used entry as it writes
 * it out, and its shadow holds VQ_SHADOW of them: when this is false,
 * vq_fill every frame reserved so far before the next vq_reserve. */
static inline bool
vq_reserve_ready(const struct vq *vq)
{
    return !vq->packed || VQ_SHADOW - vq->n_shadow >= VQ_PACKED_FRAME;
}
static inline void vq_fill(struct vq *, const struct vq_resv *,
                           const struct vq_seg *src, unsigned n_src);

/* Copies 'len' bytes starting at byte 'skip' of the pieces 'src' into
 * 'dst'.  Returns the number of bytes copied. */
uint32_t vq_segs_copy_out(const struct vq_seg *src, unsigned n_src,
                          uint32_t skip, uint8_t *dst, uint32_t len);

/* Drops the first 'n' bytes of a list of pieces (the virtio-net header of
 * a transmitted frame): advances '*segs' to the first piece that still holds
 * data, trims that piece in place, and returns how many pieces remain; or -1
 * if the pieces hold fewer than 'n' bytes. */
static inline int vq_segs_skip(struct vq_seg **segs, unsigned n_segs,
                               uint32_t n);

/* ---- Inline: the per-chain calls of the datapath ---------------------- */

/* vq.c: what vq_setup and vq_setup_packed share: every pointer and
 * position back to nothing, the layout and size set; the caller sets its
 * layout's own. */
void vq_setup_common(struct vq *, const struct gmem *, uint16_t size,
                     bool packed);

/* vq.c: vq_fill for every frame but a one-piece one into one buffer
 * behind a 12-byte header; the general walk of the chain whose head 'd'
 * was read already; and writing out the used entries batched in
 * vq->shadow. */
void vq_fill_general(struct vq *, const struct vq_resv *,
                     const struct vq_seg *src, unsigned n_src);
/* vq.c: vq_reserve past its common case: a frame over several chains
 * (MRG_RXBUF), a bad chain, or no buffers. */
int vq_reserve_chains(struct vq *, uint32_t len, struct vq_seg *segs,
                      unsigned max_segs, struct vq_resv *);
int vq_pop_walk(struct vq *, struct vring_desc d, bool writable,
                struct vq_seg *segs, unsigned max_segs, struct vq_chain *);
void vq_shadow_flush(struct vq *);

/* vq-packed.c: the same two for a packed ring ('flags' is the head's, read
 * with acquire before 'd'). */
int vq_packed_pop_walk(struct vq *, uint16_t flags,
                       struct vring_packed_desc d, bool writable,
                       struct vq_seg *segs, unsigned max_segs,
                       struct vq_chain *);
void vq_packed_flush(struct vq *);

/* vq-packed.c: what vq_start, vq_get_base, vq_begin, vq_prefetch_next and
 * vq_notify do for a packed ring ('max': chains to promise at most). */
void vq_packed_start(struct vq *);
uint32_t vq_packed_get_base(const struct vq *);
int vq_packed_begin(struct vq *, unsigned max);
void vq_packed_prefetch_next(const struct vq *);
bool vq_packed_need_notify(struct vq *);

/* Reads one descriptor exactly once.  The compiler barrier matters: without
 * it the compiler, which cannot see the guest's writes, could legitimately
 * drop the local copy and load a field from guest memory again after we
 * validated it.  memcpy also copes with an indirect table that is not
 * 16-byte aligned (the spec does not require it to be). */
static inline struct vring_desc
vq_desc_read(const struct vring_desc *p)
{
    struct vring_desc d;

    memcpy(&d, p, sizeof d);
    __asm__ volatile("" ::: "memory");
    return d;
}

/* The same for a packed ring's slot (or an entry of its indirect table):
 * the same 16 bytes, with id and flags where a split one has flags and
 * next. */
static inline struct vring_packed_desc
vq_packed_desc_read(const struct vring_packed_desc *p)
{
    struct vring_desc raw = vq_desc_read((const struct vring_desc *) p);
    struct vring_packed_desc d;

    memcpy(&d, &raw, sizeof d);
    return d;
}

/* Packed ring: whether the slot with 'flags' holds a chain the guest made
 * available in the lap 'wrap' (its AVAIL bit is the wrap counter, its USED
 * bit the opposite). */
static inline bool
vq_packed_ready(uint16_t flags, bool wrap)
{
    return ((flags >> VRING_PACKED_DESC_F_AVAIL) & 1) == wrap
           && ((flags >> VRING_PACKED_DESC_F_USED) & 1) != wrap;
}

/* Packed ring: the slot after 'slot', flipping '*wrap' at the end. */
static inline uint16_t
vq_packed_next(const struct vq *vq, uint16_t slot, bool *wrap)
{
    if (++slot == vq->size) {
        *wrap = !*wrap;
        return 0;
    }
    return slot;
}

static inline int
vq_packed_pop(struct vq *vq, bool writable, struct vq_seg *segs,
              unsigned max_segs, struct vq_chain *chain)
{
    struct vring_packed_desc *slot = &vq->pdesc[vq->last_avail];

    /* Acquire: the guest writes the chain, then the head's flags. */
    uint16_t flags = le16toh(LOAD_ACQUIRE(slot->flags));
    if (!vq_packed_ready(flags, vq->avail_wrap)) {
        return -VQ_EMPTY;
    }
    struct vring_packed_desc d = vq_packed_desc_read(slot);
    uint32_t len = le32toh(d.len);
    uint8_t *p;
    uint16_t kind = flags & (VRING_DESC_F_NEXT | VRING_DESC_F_WRITE
                             | VRING_DESC_F_INDIRECT);
    if (likely(kind == (writable ? VRING_DESC_F_WRITE : 0)
               && len && max_segs
               && (p = gmem_cache_hit(&vq->cache, le64toh(d.addr), len)))) {
        segs[0].addr = p;
        segs[0].len = len;
        chain->id = le16toh(d.id) | 1u << 16;
        chain->n_segs = 1;
        chain->len = len;
        vq->last_avail = vq_packed_next(vq, vq->last_avail, &vq->avail_wrap);
        return 0;
    }
    return vq_packed_pop_walk(vq, flags, d, writable, segs, max_segs, chain);
}

static inline int
vq_split_pop(struct vq *vq, bool writable, struct vq_seg *segs,
             unsigned max_segs, struct vq_chain *chain)
{
    if (vq->last_avail == vq->avail_idx) {
        return -VQ_EMPTY;
    }
    uint16_t head = le16toh(READ_ONCE(vq->avail->ring[vq->last_avail
                                                      & vq->mask]));
    if (unlikely(head >= vq->size)) {
        return -VQ_BROKEN;
    }
    vq->last_avail++;
    chain->id = head;

    /* Nearly every chain is one descriptor (a frame and its header in one
     * buffer, or a receive buffer) in the region the last one was in: the
     * walk's checks reduce to its flags and one range test. */
    struct vring_desc d = vq_desc_read(&vq->desc[head]);
    uint32_t len = le32toh(d.len);
    uint8_t *p;
    if (likely(le16toh(d.flags) == (writable ? VRING_DESC_F_WRITE : 0)
               && len && max_segs
               && (p = gmem_cache_hit(&vq->cache, le64toh(d.addr), len)))) {
        segs[0].addr = p;
        segs[0].len = len;
        chain->n_segs = 1;
        chain->len = len;
        return 0;
    }
    return vq_pop_walk(vq, d, writable, segs, max_segs, chain);
}

static ALWAYS_INLINE int
vq_pop_as(struct vq *vq, bool packed, bool writable, struct vq_seg *segs,
          unsigned max_segs, struct vq_chain *chain)
{
    return packed ? vq_packed_pop(vq, writable, segs, max_segs, chain)
                  : vq_split_pop(vq, writable, segs, max_segs, chain);
}

static inline int
vq_pop(struct vq *vq, bool writable, struct vq_seg *segs, unsigned max_segs,
       struct vq_chain *chain)
{
    return vq_pop_as(vq, vq->packed, writable, segs, max_segs, chain);
}

static ALWAYS_INLINE void
vq_push_as(struct vq *vq, bool packed, uint32_t id, uint32_t len)
{
    if (unlikely(vq->n_shadow == VQ_SHADOW)) {
        if (packed) {
            vq_packed_flush(vq);
        } else {
            vq_shadow_flush(vq);
        }
    }
    vq->shadow[vq->n_shadow].id = htole32(id);    /* see struct vq_chain */
    vq->shadow[vq->n_shadow].len = htole32(len);
    vq->n_shadow++;
    vq->used_idx++;
}

static inline void
vq_push(struct vq *vq, uint32_t id, uint32_t len)
{
    vq_push_as(vq, vq->packed, id, len);
}

static inline int
vq_segs_skip(struct vq_seg **segsp, unsigned n_segs, uint32_t n)
{
    struct vq_seg *segs = *segsp;
    unsigned i = 0;

    /* Pieces that end at or before byte 'n' go entirely (so do empty
     * ones), leaving the first piece that still holds data. */
    while (i < n_segs && n >= segs[i].len) {
        n -= segs[i].len;
        i++;
    }
    if (i == n_segs && n) {
        return -1;
    }
    if (i < n_segs) {
        segs[i].addr += n;
        segs[i].len -= n;
    }
    *segsp = segs + i;
    return n_segs - i;
}

/* The common case of vq_reserve: the next chain, already seen available,
 * holds the whole frame ('needed' bytes with the header).  A chain it
 * does not hold (or a bad one) is put back untouched and taken again by
 * the general path, which reads it anew: nothing read here is used
 * there. */
static ALWAYS_INLINE bool
vq_reserve_one(struct vq *vq, bool packed, uint64_t needed,
               struct vq_seg *segs, unsigned max_segs, struct vq_resv *resv)
{
    uint16_t last_avail = vq->last_avail;
    bool avail_wrap = vq->avail_wrap;
    struct vq_chain c;

    if (!packed && last_avail == vq->avail_idx) {
        return false;
    }
    int err = vq_pop_as(vq, packed, true, segs, max_segs, &c);
    if (likely(!err && c.len >= needed)) {
        vq_push_as(vq, packed, c.id, (uint32_t) needed);
        resv->segs = segs;
        resv->n_segs = c.n_segs;
        resv->n_chains = 1;
        return true;
    }
    vq->last_avail = last_avail;
    vq->avail_wrap = avail_wrap;
    return false;
}

static ALWAYS_INLINE int
vq_reserve_as(struct vq *vq, bool packed, uint32_t len, struct vq_seg *segs,
              unsigned max_segs, struct vq_resv *resv)
{
    resv->len = len;
    /* A packed ring publishes a used entry as it writes it out: the
     * frame's entries must all fit in the shadow, to be taken back if it
     * fails.  The caller filled the frames before (vq_reserve_ready). */
    if (packed && unlikely(!vq_reserve_ready(vq))) {
        vq_packed_flush(vq);
    }
    if (likely(vq_reserve_one(vq, packed, (uint64_t) vq->hdr_size + len,
                              segs, MIN(max_segs, VQ_MAX_SEGS), resv))) {
        return 0;
    }
    return vq_reserve_chains(vq, len, segs, max_segs, resv);
}

/* Writes the 12-byte virtio-net header (all zero but num_buffers) only
 * where it differs from what the buffer already holds.  A guest recycles
 * its receive buffers, so the header is usually there from the last time:
 * comparing reads a line both sides can keep shared, where writing it
 * would take it away from the guest's CPU (and wait for it) once per
 * frame. */
static inline void
vq_hdr_put12(uint8_t *dst, uint16_t num_buffers)
{
    uint64_t a, x = 0;
    uint32_t b, y = (uint32_t) htole16(num_buffers) << 16;
    memcpy(&a, dst, 8);
    memcpy(&b, dst + 8, 4);
    if (a != x) {
        memcpy(dst, &x, 8);
    }
    if (b != y) {
        memcpy(dst + 8, &y, 4);
    }
}

/* Copies 'len' bytes, 32 <= len <= 64, as four 16-byte moves (the last
 * two overlap the first two): the smallest frames without a call into
 * memcpy, whose return address is one more store in the store buffer. */
static inline void
vq_copy_32_64(uint8_t *dst, const uint8_t *src, uint32_t len)
{
    memcpy(dst, src, 16);
    memcpy(dst + 16, src + 16, 16);
    memcpy(dst + len - 32, src + len - 32, 16);
    memcpy(dst + len - 16, src + len - 16, 16);
}

/* The common case inline, one frame piece into one buffer behind a
 * 12-byte header (num_buffers is there, and must be 1 without
 * MRG_RXBUF): no call and no saved registers, whose stores would queue in
 * the store buffer behind the copy's stores into guest-held lines.
 * Ordinary stores: the line stays in our cache until the guest reads it,
 * which every receiver does at once (the Ethernet header: Linux, and
 * DPDK's virtio driver for its multicast counters).  Non-temporal stores
 * of the first line sent it to memory instead; the guest then missed to
 * DRAM, and the fence waited for them (BENCHMARKS.md). */
static inline void
vq_fill(struct vq *vq, const struct vq_resv *resv, const struct vq_seg *src,
        unsigned n_src)
{
    uint32_t len = resv->len;
    if (likely(vq->hdr_size == 12 && n_src == 1 && src[0].len >= len
               && resv->segs[0].len >= 12 + len)) {
        uint8_t *dst = resv->segs[0].addr;
        vq_hdr_put12(dst, resv->n_chains);
        if (len >= 32 && len <= 64) {
            vq_copy_32_64(dst + 12, src[0].addr, len);
        } else {
            memcpy(dst + 12, src[0].addr, len);
        }
        return;
    }
    vq_fill_general(vq, resv, src, n_src);
}

#endif /* vq.h */
