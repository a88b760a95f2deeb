/* vq-packed.c -- the device side of a packed virtqueue (virtio 1.1, 2.8).
 *
 * One table of 16-byte slots { u64 addr; u32 len; u16 id; u16 flags; }
 * that both sides write.  The guest makes a chain available by filling
 * consecutive slots and then, last, the flags of the first: its AVAIL bit
 * equal to the guest's wrap counter, its USED bit the opposite.  We give a
 * chain back by writing one slot, the first one the chain took, with the
 * chain's buffer id, the length written and both bits equal to our used
 * wrap counter.  Each side's wrap counter starts at 1 and flips every
 * time its position passes the end of the table.
 *
 *   slot:   0    1    2    3    4   ...
 *          [used][used][A  ][A+N][A  ] ...    A: available, N: NEXT
 *                      ^ last_avail         (chains: [2], [3,4])
 *                ^ used_slot (we return chains in the order we took them)
 *
 * The guest is untrusted, as for a split ring (vq.c): every slot is copied
 * once before use, a chain is at most 'size' slots, an indirect table is
 * bounded and not nested, every buffer is translated with its length.  A
 * chain we cannot use is still consumed and given back with length 0; one
 * whose end we cannot find (NEXT on every slot of the table) breaks the
 * ring.
 *
 * Chains go back in the order they were taken (vq_push's rule), so
 * used_slot follows last_avail and each used entry lands on the slot its
 * chain started at: the used entries stay in the lines we just read.
 * Used entries wait in vq->shadow until vq_publish, as for a split ring; here
 * writing one out publishes it, so a frame's entries stay there until the
 * frame is filled (vq_reserve_ready), and may still be rolled back. */
#include <config.h>

#include "vq.h"

#include <endian.h>
#include <errno.h>
#include <unistd.h>

#define PACKED_USED_FLAGS ((1u << VRING_PACKED_DESC_F_AVAIL)     \
                           | (1u << VRING_PACKED_DESC_F_USED))

/* A position with its wrap counter, as vhost-user carries it. */
static uint16_t
pos_encode(uint16_t slot, bool wrap)
{
    return slot | (uint16_t) wrap << 15;
}

int
vq_setup_packed(struct vq *vq, const struct gmem *mem, uint16_t size,
                struct vring_packed_desc *desc,
                struct vring_packed_desc_event *driver,
                struct vring_packed_desc_event *device, uint32_t base)
{
    uint16_t avail = base & 0xffff;
    uint16_t used = base >> 16 ? base >> 16 : avail;

    if (!size || size > VQ_MAX_SIZE || !desc || !driver || !device
        || (uintptr_t) desc % 16 || (uintptr_t) driver % 4
        || (uintptr_t) device % 4
        || (avail & 0x7fff) >= size || (used & 0x7fff) >= size) {
        return -EINVAL;
    }
    vq_setup_common(vq, mem, size, true);
    vq->pdesc = desc;
    vq->driver_event = driver;
    vq->device_event = device;
    vq->last_avail = avail & 0x7fff;
    vq->avail_wrap = avail >> 15;
    vq->used_slot = used & 0x7fff;
    vq->used_wrap = used >> 15;
    vq->wrap_unknown = base == 0;     /* see vq.h */
    return 0;
}

void
vq_packed_start(struct vq *vq)
{
    /* We busy-poll: the guest need never kick us. */
    WRITE_ONCE(vq->device_event->flags,
               htole16(VRING_PACKED_EVENT_FLAG_DISABLE));
}

uint32_t
vq_packed_get_base(const struct vq *vq)
{
    return pos_encode(vq->last_avail, vq->avail_wrap)
           | (uint32_t) pos_encode(vq->used_slot, vq->used_wrap) << 16;
}

/* Base 0 (vq.h): reads the wrap counters off the guest's first chain.
 * Until it is posted, the ring looks empty either way. */
static void
packed_settle_wrap(struct vq *vq)
{
    if (vq->last_avail || vq->used_idx) {
        vq->wrap_unknown = false;   /* chains moved: the base was right */
        return;
    }
    uint16_t flags = le16toh(LOAD_ACQUIRE(vq->pdesc[0].flags));
    if (vq_packed_ready(flags, true)) {
        vq->avail_wrap = vq->used_wrap = true;
        vq->wrap_unknown = false;
    } else if (vq_packed_ready(flags, false)) {
        vq->wrap_unknown = false;
    }
}

int
vq_packed_begin(struct vq *vq, unsigned max)
{
    if (unlikely(vq->wrap_unknown)) {
        packed_settle_wrap(vq);
    }
    uint16_t slot = vq->last_avail;
    max = MIN(max, vq->size);

    /* The lines vq_pop will read, asked for at once: the guest wrote them
     * on its CPU, and one load after another would wait for each.  Asked
     * for before the head's flags are known, so that its miss and theirs
     * overlap (waiting for it first was slower in the slow state). */
    for (unsigned k = 0; k < max; k += 4) {
        uint32_t s = slot + k;
        __builtin_prefetch(&vq->pdesc[s < vq->size ? s : s - vq->size]);
    }
    /* Counting the chains would read every slot twice: say 'max' and let
     * vq_pop tell where they end (-VQ_EMPTY), or that one has no end
     * (-VQ_BROKEN). */
    uint16_t flags = le16toh(LOAD_ACQUIRE(vq->pdesc[slot].flags));
    return vq_packed_ready(flags, vq->avail_wrap) ? (int) max : 0;
}

void
vq_packed_prefetch_next(const struct vq *vq)
{
    __builtin_prefetch(&vq->pdesc[vq->last_avail]);
}

/* State of one walk. */
struct pwalk {
    struct vq_seg *segs;
    unsigned max_segs;
    unsigned n_segs;
    uint64_t total;
    int err;                    /* first error, the walk goes on */
};

/* Appends buffer 'd' to the walk, one piece per region it touches. */
static void
pwalk_add(struct vq *vq, struct pwalk *w, const struct vring_packed_desc *d,
          uint16_t flags, bool writable)
{
    uint64_t addr = le64toh(d->addr);
    uint32_t len = le32toh(d->len);

    if (w->err) {
        return;
    }
    if (!(flags & VRING_DESC_F_WRITE) == writable) {
        w->err = -VQ_BAD_DESC;
        return;
    }
    w->total += len;
    if (w->total > UINT32_MAX) {
        w->err = -VQ_BAD_DESC;
        return;
    }
    if (range_wraps(addr, len)) {
        w->err = -VQ_BAD_ADDR;
        return;
    }
    while (len) {
        uint64_t contig;
        uint8_t *p = gmem_gpa_to_va_partial(vq->mem, &vq->cache, addr, len,
                                            &contig);
        if (!p) {
            w->err = -VQ_BAD_ADDR;
            return;
        }
        if (w->n_segs >= w->max_segs) {
            w->err = -VQ_BAD_DESC;
            return;
        }
        w->segs[w->n_segs].addr = p;
        w->segs[w->n_segs].len = contig;
        w->n_segs++;
        addr += contig;
        len -= contig;
    }
}

/* Walks the indirect table of descriptor 'd' (the chain's only slot). */
static void
pwalk_indirect(struct vq *vq, struct pwalk *w,
               const struct vring_packed_desc *d, uint16_t flags,
               bool writable)
{
    uint32_t len = le32toh(d->len);

    if (!vq->indirect || (flags & VRING_DESC_F_NEXT)
        || !len || len % 16 || len / 16 > vq->size) {
        w->err = -VQ_BAD_DESC;
        return;
    }
    const struct vring_packed_desc *table =
        gmem_gpa_to_va(vq->mem, &vq->cache, le64toh(d->addr), len);
    if (!table) {
        w->err = -VQ_BAD_ADDR;
        return;
    }
    /* An indirect table's entries are consecutive: NEXT means nothing
     * there, and nothing in it may be indirect again. */
    for (uint32_t i = 0; i < len / 16 && !w->err; i++) {
        struct vring_packed_desc e = vq_packed_desc_read(&table[i]);
        uint16_t eflags = le16toh(e.flags);
        if (eflags & VRING_DESC_F_INDIRECT) {
            w->err = -VQ_BAD_DESC;
        } else if (e.len) {
            pwalk_add(vq, w, &e, eflags, writable);
        }
    }
}

int
vq_packed_pop_walk(struct vq *vq, uint16_t flags, struct vring_packed_desc d,
                   bool writable, struct vq_seg *segs, unsigned max_segs,
                   struct vq_chain *chain)
{
    struct pwalk w = {
        .segs = segs,
        .max_segs = MIN(max_segs, VQ_MAX_SEGS),
    };
    uint16_t slot = vq->last_avail;
    bool wrap = vq->avail_wrap;
    unsigned n_desc = 1;

    /* The rest of the chain was written before the head's flags, which
     * vq_pop read with acquire.  An error does not end the walk: the
     * chain's slots are consumed all the same, so its end must be found. */
    for (;;) {
        if (flags & VRING_DESC_F_INDIRECT) {
            /* Only as a chain's one slot (and then NEXT is an error). */
            if (n_desc == 1) {
                pwalk_indirect(vq, &w, &d, flags, writable);
            } else if (!w.err) {
                w.err = -VQ_BAD_DESC;
            }
        } else if (d.len) {
            pwalk_add(vq, &w, &d, flags, writable);
        }
        if (!(flags & VRING_DESC_F_NEXT)) {
            break;
        }
        if (n_desc == vq->size) {
            return -VQ_BROKEN;          /* no end: cannot resynchronise */
        }
        slot = vq_packed_next(vq, slot, &wrap);
        d = vq_packed_desc_read(&vq->pdesc[slot]);
        flags = le16toh(d.flags);
        n_desc++;
    }
    /* The buffer id is in the chain's last slot. */
    chain->id = le16toh(d.id) | (uint32_t) n_desc << 16;
    chain->n_segs = w.err ? 0 : w.n_segs;
    chain->len = w.err ? 0 : (uint32_t) w.total;
    vq->last_avail = vq_packed_next(vq, slot, &wrap);
    vq->avail_wrap = wrap;
    return w.err;
}

void
vq_packed_flush(struct vq *vq)
{
    uint32_t slot = vq->used_slot;
    bool wrap = vq->used_wrap;

    for (unsigned i = 0; i < vq->n_shadow; i++) {
        const struct vring_used_elem *e = &vq->shadow[i];
        struct vring_packed_desc *d = &vq->pdesc[slot];
        uint16_t flags = wrap ? PACKED_USED_FLAGS : 0;
        uint32_t n_desc = le32toh(e->id) >> 16;     /* 1..size slots */

        /* With IN_ORDER one used entry may stand for a run of chains: the
         * guest frees every chain up to the id it names.  Only on a ring
         * whose lengths say nothing (a receive path wants one entry per
         * buffer: DPDK's reads each one's length): the slots in between
         * are left alone, and the lines that hold them stay with the
         * guest. */
        if (vq->batch_used && !e->len) {
            while (i + 1 < vq->n_shadow && !e[1].len) {
                e++;
                i++;
                n_desc += le32toh(e->id) >> 16;
            }
        }
        /* WRITE says that len counts bytes written (else it is ignored). */
        if (e->len) {
            flags |= VRING_DESC_F_WRITE;
        }
        d->id = htole16(le32toh(e->id) & 0xffff);
        d->len = e->len;
        /* Release: id and len before the flags that publish them. */
        STORE_RELEASE(d->flags, htole16(flags));
        slot += n_desc;
        while (slot >= vq->size) {
            slot -= vq->size;
            wrap = !wrap;
        }
    }
    vq->used_slot = slot;
    vq->used_wrap = wrap;
    vq->n_shadow = 0;
}

/* Whether the guest wants an interrupt for what was published since the
 * last decision (virtio 1.1, 2.8.10: its driver event area). */
bool
vq_packed_need_notify(struct vq *vq)
{
    uint16_t flags = le16toh(READ_ONCE(vq->driver_event->flags));
    uint32_t size = vq->size;
    uint32_t new = vq->used_slot + (vq->used_wrap ? size : 0);
    uint32_t old = (vq->signalled_used & 0x7fff)
                   + (vq->signalled_used >> 15 ? size : 0);
    bool valid = vq->signalled_used_valid;

    vq->signalled_used = pos_encode(vq->used_slot, vq->used_wrap);
    vq->signalled_used_valid = true;
    if (flags == VRING_PACKED_EVENT_FLAG_DISABLE) {
        return false;
    }
    if (flags != VRING_PACKED_EVENT_FLAG_DESC || !vq->event_idx || !valid) {
        return true;
    }
    /* Positions counted over two laps (slot, plus size when the wrap
     * counter is 1): notify if the slot the guest named is among those
     * written since 'old'. */
    uint16_t off_wrap = le16toh(READ_ONCE(vq->driver_event->off_wrap));
    uint32_t event = (off_wrap & 0x7fff)
                     + (off_wrap >> VRING_PACKED_EVENT_F_WRAP_CTR ? size : 0);
    uint32_t laps = 2 * size;
    return (event + laps - old) % laps < (new + laps - old) % laps;
}
