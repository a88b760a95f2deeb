/* vq.c -- the device side of a split virtqueue: descriptor walk, used ring,
 * notification, and the receive-side copy of a frame into guest buffers
 * (shared with packed rings, whose own parts are in vq-packed.c).
 * Called by the vhost-user port (pmd/) from its owner worker, and by the
 * control thread to set a ring up and read its base.
 *
 * The guest is untrusted and may rewrite its descriptors and rings while we
 * read them.  So:
 *   - each descriptor is copied once into a local (vq_desc_read) and only
 *     the local is validated and used; each ring slot is read once (a
 *     chain vq_reserve puts back is taken again as if never seen);
 *   - avail.idx may not run ahead of us by more than the ring size, and a
 *     head must be a valid index (else the ring is broken);
 *   - a chain is bounded: at most 'size' descriptors in the main table and
 *     at most 'entries' in an indirect table, which must be nonempty, a
 *     multiple of 16 bytes, no larger than the ring, inside one region, and
 *     not nested or combined with NEXT;
 *   - every buffer is translated with its length, may not wrap, and must
 *     have the direction the ring calls for; total length fits in 32 bits.
 * The rings themselves are translated once (vq_translate_rings) and
 * checked to lie wholly in mapped memory with their natural alignment.
 *
 * Multi-byte fields are little endian (virtio 1.x; legacy devices are
 * native endian, the same on the little-endian hosts we target). */
#include <config.h>

#include "vq.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_net.h>
#include <string.h>
#include <unistd.h>

/* Largest virtio-net header we write (12 in practice). */
#define VQ_HDR_MAX 64

static bool
is_pow2(unsigned x)
{
    return x && !(x & (x - 1));
}

void
vq_setup_common(struct vq *vq, const struct gmem *mem, uint16_t size,
                bool packed)
{
    vq->desc = NULL;
    vq->avail = NULL;
    vq->used = NULL;
    vq->pdesc = NULL;
    vq->driver_event = vq->device_event = NULL;
    vq->mem = mem;
    vq->size = size;
    vq->mask = packed ? 0 : size - 1;   /* packed: any size, never masked */
    vq->packed = packed;
    vq->last_avail = vq->avail_idx = vq->used_idx = 0;
    vq->published_used = vq->signalled_used = 0;
    vq->signalled_used_valid = false;
    vq->notify_owed = false;
    vq->avail_wrap = vq->used_wrap = false;
    vq->used_slot = 0;
    vq->wrap_unknown = false;
    vq->n_shadow = 0;
    vq->cache.last = NULL;
}

int
vq_setup(struct vq *vq, const struct gmem *mem, uint16_t size,
         struct vring_desc *desc, struct vring_avail *avail,
         struct vring_used *used, uint16_t base)
{
    if (!is_pow2(size) || size > VQ_MAX_SIZE || !desc || !avail || !used
        || (uintptr_t) desc % 16 || (uintptr_t) avail % 2
        || (uintptr_t) used % 4) {
        return -EINVAL;
    }
    vq_setup_common(vq, mem, size, false);
    vq->desc = desc;
    vq->avail = avail;
    vq->used = used;
    vq->last_avail = vq->avail_idx = vq->used_idx = base;
    vq->published_used = vq->signalled_used = base;
    return 0;
}

/* The three parts of a ring, as the front end gives them. */
struct ring_part {
    uint64_t qva;
    uint64_t size;
    uintptr_t align;
};

/* Translates the three parts of a ring into 'out', checking alignment in
 * both address spaces: a front end controls mmap_offset, so an aligned QVA
 * does not imply an aligned pointer, and the index loads must not be
 * split.  Returns 0, -EINVAL (misaligned) or -EFAULT (not mapped). */
static int
translate_parts(const struct gmem *mem, const struct ring_part part[3],
                void *out[3])
{
    bool aligned = true, mapped = true;
    for (int i = 0; i < 3; i++) {
        if (part[i].qva % part[i].align) {
            return -EINVAL;
        }
    }
    for (int i = 0; i < 3; i++) {
        out[i] = gmem_qva_to_va(mem, part[i].qva, part[i].size);
        mapped &= out[i] != NULL;
        aligned &= !((uintptr_t) out[i] % part[i].align);
    }
    return !mapped ? -EFAULT : !aligned ? -EINVAL : 0;
}

int
vq_translate_rings(const struct gmem *mem, uint16_t size, uint64_t desc_qva,
                   uint64_t avail_qva, uint64_t used_qva,
                   struct vring_desc **descp, struct vring_avail **availp,
                   struct vring_used **usedp)
{
    /* Sizes include used_event / avail_event (EVENT_IDX). */
    const struct ring_part part[3] = {
        { desc_qva, 16 * (uint64_t) size, 16 },
        { avail_qva, 6 + 2 * (uint64_t) size, 2 },
        { used_qva, 6 + 8 * (uint64_t) size, 4 },
    };
    void *out[3];

    if (!is_pow2(size) || size > VQ_MAX_SIZE) {
        return -EINVAL;
    }
    int err = translate_parts(mem, part, out);
    if (!err) {
        *descp = out[0];
        *availp = out[1];
        *usedp = out[2];
    }
    return err;
}

int
vq_translate_rings_packed(const struct gmem *mem, uint16_t size,
                          uint64_t desc_qva, uint64_t driver_qva,
                          uint64_t device_qva,
                          struct vring_packed_desc **descp,
                          struct vring_packed_desc_event **driverp,
                          struct vring_packed_desc_event **devicep)
{
    const uint64_t ev = sizeof(struct vring_packed_desc_event);
    const struct ring_part part[3] = {
        { desc_qva, 16 * (uint64_t) size, 16 },
        { driver_qva, ev, 4 },
        { device_qva, ev, 4 },
    };
    void *out[3];

    if (!size || size > VQ_MAX_SIZE) {
        return -EINVAL;
    }
    int err = translate_parts(mem, part, out);
    if (!err) {
        *descp = out[0];
        *driverp = out[1];
        *devicep = out[2];
    }
    return err;
}

void
vq_start(struct vq *vq)
{
    if (vq->packed) {
        vq_packed_start(vq);
        return;
    }
    /* We busy-poll, so a kick would only cost the guest a VM exit.  With
     * EVENT_IDX the guest ignores this flag and looks at avail_event
     * instead; we leave avail_event alone: the guest then kicks at most
     * once per wrap of the 16-bit index, which is harmless. */
    WRITE_ONCE(vq->used->flags, htole16(VRING_USED_F_NO_NOTIFY));
}

uint32_t
vq_get_base(const struct vq *vq)
{
    return vq->packed ? vq_packed_get_base(vq) : vq->last_avail;
}

int
vq_begin(struct vq *vq)
{
    if (vq->packed) {
        return vq_packed_begin(vq, VQ_PACKED_BURST);
    }
    /* Acquire: the ring slots and descriptors the guest wrote before
     * bumping idx must be read after it. */
    uint16_t idx = le16toh(LOAD_ACQUIRE(vq->avail->idx));
    uint16_t n = idx - vq->last_avail;

    if (unlikely(n > vq->size)) {
        return -VQ_BROKEN;
    }
    vq->avail_idx = idx;
    return n;
}

int
vq_begin_lazy(struct vq *vq, unsigned want)
{
    if (vq->packed) {
        /* No index to spare: the slots are what vq_pop reads anyway. */
        return vq_packed_begin(vq, want);
    }
    uint16_t have = vq->avail_idx - vq->last_avail;
    return have >= want ? have : vq_begin(vq);
}

/* How many descriptors vq_prefetch_next asks for: a burst's worth. */
#define VQ_NEXT_DESCS 32

void
vq_prefetch_next(const struct vq *vq)
{
    if (vq->packed) {
        vq_packed_prefetch_next(vq);
        return;
    }
    const uint16_t *slot = &vq->avail->ring[vq->last_avail & vq->mask];
    __builtin_prefetch(slot);
    __builtin_prefetch(slot + 32);
    /* With IN_ORDER, the descriptors of chains already seen available:
     * the guest wrote them before it published them, and will not touch
     * them until we give them back, so asking now costs it nothing. */
    if (vq->in_order) {
        uint16_t have = MIN((uint16_t) (vq->avail_idx - vq->last_avail),
                            VQ_NEXT_DESCS);
        for (unsigned i = 0; i < have; i += 4) {
            __builtin_prefetch(&vq->desc[(uint16_t) (vq->last_avail + i)
                                         & vq->mask]);
        }
    }
}

/* The guest fills an IN_ORDER ring's table in order and writes a burst's
 * descriptors just before it publishes the avail index: by the time we
 * read that index, the descriptors are written too.  Asked for only after
 * the index (vq_prefetch), they arrive one miss later; asked for with it,
 * both misses overlap (BENCHMARKS.md, fifth session).  When nothing new is
 * there, the lines hold the last lap's descriptors, which we read then:
 * the request finds them in our cache.  A prefetch reads nothing: vq_pop
 * still reads the descriptors after vq_begin's acquire of the index. */
void
vq_prefetch_early(const struct vq *vq)
{
    if (vq->packed || !vq->in_order) {
        return;     /* packed: vq_begin asks for the slots it scans */
    }
    for (unsigned i = 0; i < VQ_NEXT_DESCS; i += 4) {
        __builtin_prefetch(&vq->desc[(uint16_t) (vq->last_avail + i)
                                     & vq->mask]);
    }
    __builtin_prefetch(&vq->avail->ring[vq->last_avail & vq->mask]);
}

void
vq_prefetch(const struct vq *vq, unsigned n)
{
    if (vq->packed) {
        return;     /* vq_begin asked for the slots; used entries go there */
    }
    /* The used-ring lines this burst will write, all of them (a used
     * entry per chain, eight to a line): the guest reads them, so each
     * store would otherwise wait for its line to come back, one after the
     * other, and the pass's fence for all of them. */
    __builtin_prefetch(&vq->used->idx, 1);
    for (unsigned i = 0; i < n; i += 8) {
        __builtin_prefetch(&vq->used->ring[(uint16_t) (vq->used_idx + i)
                                           & vq->mask], 1);
    }
    if (n > 1) {
        __builtin_prefetch(&vq->used->ring[(uint16_t) (vq->used_idx + n - 1)
                                           & vq->mask], 1);
    }
    /* What vq_notify reads after the fence to decide on a notification. */
    __builtin_prefetch(vq->event_idx ? (const void *) &vq->avail->ring[vq->size]
                                     : (const void *) &vq->avail->flags);

    uint16_t avail = (uint16_t) (vq->avail_idx - vq->last_avail);
    n = MIN(n, avail);
    if (vq->in_order) {
        /* The guest fills the table in order, one descriptor per chain in
         * the common case: no need to wait for the slots to learn where
         * the heads are.  A wrong guess costs a useless prefetch. */
        for (unsigned i = 0; i < n; i += 4) {
            __builtin_prefetch(&vq->desc[(uint16_t) (vq->last_avail + i)
                                         & vq->mask]);
        }
        if (n) {
            uint16_t last = (uint16_t) (vq->last_avail + n - 1) & vq->mask;
            __builtin_prefetch(&vq->desc[last]);
            __builtin_prefetch(&vq->avail->ring[vq->last_avail & vq->mask]);
            __builtin_prefetch(&vq->avail->ring[last]);
        }
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        uint16_t head = le16toh(READ_ONCE(vq->avail->ring[(uint16_t) (
                                    vq->last_avail + i) & vq->mask]));
        if (likely(head < vq->size)) {
            __builtin_prefetch(&vq->desc[head]);
        }
    }
}

/* State of one descriptor walk. */
struct walk {
    struct vq_seg *segs;
    unsigned max_segs;
    unsigned n_segs;
    uint64_t total;
};

/* Translates [gpa, gpa + len) as far as it is contiguous in one region.
 * The cache hit is inlined here because it runs for every descriptor; the
 * miss goes to gmem (same test, then a region scan). */
static inline void *
vq_translate(struct vq *vq, uint64_t gpa, uint64_t len, uint64_t *contig)
{
    void *hit = gmem_cache_hit(&vq->cache, gpa, len);
    if (likely(hit)) {
        *contig = len;
        return hit;
    }
    return gmem_gpa_to_va_partial(vq->mem, &vq->cache, gpa, len, contig);
}

/* Appends one buffer to the walk, as one piece per region it touches. */
static int
walk_add_buf(struct vq *vq, struct walk *w, uint64_t addr, uint32_t len)
{
    w->total += len;
    if (unlikely(w->total > UINT32_MAX)) {
        return -VQ_BAD_DESC;
    }
    if (unlikely(range_wraps(addr, len))) {
        return -VQ_BAD_ADDR;
    }
    while (len) {
        uint64_t contig;
        uint8_t *p = vq_translate(vq, addr, len, &contig);
        if (unlikely(!p)) {
            return -VQ_BAD_ADDR;
        }
        if (unlikely(w->n_segs >= w->max_segs)) {
            return -VQ_BAD_DESC;
        }
        w->segs[w->n_segs].addr = p;
        w->segs[w->n_segs].len = contig;
        w->n_segs++;
        addr += contig;
        len -= contig;
    }
    return 0;
}

/* Validates an indirect descriptor 'd' and returns its table, setting
 * '*n_entries'; NULL with '*err' set if it is bad. */
static const struct vring_desc *
walk_indirect(struct vq *vq, const struct vring_desc *d, bool nested,
              uint32_t *n_entries, int *err)
{
    uint16_t flags = le16toh(d->flags);
    uint32_t len = le32toh(d->len);

    *err = -VQ_BAD_DESC;
    if (!vq->indirect || nested || (flags & VRING_DESC_F_NEXT)
        || !len || len % 16 || len / 16 > vq->size) {
        return NULL;
    }
    const struct vring_desc *table = gmem_gpa_to_va(vq->mem, &vq->cache,
                                                    le64toh(d->addr), len);
    if (!table) {
        *err = -VQ_BAD_ADDR;
        return NULL;
    }
    *n_entries = len / 16;
    return table;
}

/* Walks the chain whose head descriptor 'd' was read already.  Zero or
 * more descriptors of the main table may be followed by one indirect
 * descriptor, whose table then holds the rest of the chain.  The hop
 * bound is the size of the table being walked: a chain of exactly that
 * many descriptors is fine, one more hop can only be a loop (next = self,
 * a 2-cycle, a ring-long cycle). */
static int
vq_walk(struct vq *vq, struct vring_desc d, bool writable, struct walk *w)
{
    const struct vring_desc *table = vq->desc;
    uint32_t n_entries = vq->size;
    uint32_t n_hops = 0;
    uint32_t idx;
    bool nested = false;
    int err;

    for (;; d = vq_desc_read(&table[idx])) {
        uint16_t flags = le16toh(d.flags);

        if (flags & VRING_DESC_F_INDIRECT) {
            /* The direction flag of this descriptor is to be ignored. */
            table = walk_indirect(vq, &d, nested, &n_entries, &err);
            if (!table) {
                return err;
            }
            nested = true;
            n_hops = 0;
            idx = 0;
            continue;
        }
        if (unlikely(!(flags & VRING_DESC_F_WRITE) == writable)) {
            return -VQ_BAD_DESC;
        }
        uint32_t len = le32toh(d.len);
        if (len) {
            err = walk_add_buf(vq, w, le64toh(d.addr), len);
            if (unlikely(err)) {
                return err;
            }
        }
        if (!(flags & VRING_DESC_F_NEXT)) {
            return 0;
        }
        idx = le16toh(d.next);
        if (unlikely(++n_hops >= n_entries || idx >= n_entries)) {
            return -VQ_BAD_DESC;
        }
    }
}

int
vq_pop_walk(struct vq *vq, struct vring_desc d, bool writable,
            struct vq_seg *segs, unsigned max_segs, struct vq_chain *chain)
{
    /* n_segs is 16 bits wide; VQ_MAX_SEGS is the documented bound. */
    struct walk w = {
        .segs = segs,
        .max_segs = MIN(max_segs, VQ_MAX_SEGS),
    };
    int err = vq_walk(vq, d, writable, &w);

    chain->n_segs = err ? 0 : w.n_segs;
    chain->len = err ? 0 : (uint32_t) w.total;
    return err;
}

/* Used entries are written in a batch, not one by one as chains are
 * pushed: the used ring's lines are the ones the guest polls, and a store
 * into one waits for the line to come back from the guest's CPU.  Between
 * its pushes a burst writes its own bookkeeping (chains, pieces); queued
 * behind a waiting store those would wait too.  vq->shadow holds the
 * entries of used positions [used_idx - n_shadow, used_idx), written out
 * when it fills up and by vq_end(), before used.idx is published. */
void
vq_shadow_flush(struct vq *vq)
{
    uint16_t pos = (uint16_t) (vq->used_idx - vq->n_shadow);
    for (unsigned i = 0; i < vq->n_shadow; i++, pos++) {
        /* Plain stores: the guest may read them only after vq_end()'s
         * release store of used.idx. */
        vq->used->ring[pos & vq->mask] = vq->shadow[i];
    }
    vq->n_shadow = 0;
}

/* Sets the length of the entry at used position 'pos', already pushed. */
static void
used_set_len(struct vq *vq, uint16_t pos, uint32_t len)
{
    uint16_t back = (uint16_t) (vq->used_idx - pos);   /* 1..: pushed */
    if (back <= vq->n_shadow) {
        vq->shadow[vq->n_shadow - back].len = htole32(len);
    } else if (!vq->packed) {      /* packed: vq_reserve keeps them back */
        vq->used->ring[pos & vq->mask].len = htole32(len);
    }
}

/* Forgets the entries pushed since used position 'pos'. */
static void
used_rollback(struct vq *vq, uint16_t pos)
{
    uint16_t n = (uint16_t) (vq->used_idx - pos);
    vq->n_shadow = n >= vq->n_shadow ? 0 : vq->n_shadow - n;
    vq->used_idx = pos;
}

/* Whether the guest wants an interrupt for used entries [old, new). */
static bool
vq_need_notify(struct vq *vq, uint16_t old_used, uint16_t new_used)
{
    if (!vq->event_idx) {
        uint16_t flags = le16toh(READ_ONCE(vq->avail->flags));
        return !(flags & VRING_AVAIL_F_NO_INTERRUPT);
    }
    bool valid = vq->signalled_used_valid;
    uint16_t old = valid ? vq->signalled_used : old_used;

    /* As Linux vhost: remember where this decision was taken, notify
     * unconditionally the first time (we know nothing of the past). */
    vq->signalled_used = new_used;
    vq->signalled_used_valid = true;
    if (!valid) {
        return true;
    }
    uint16_t used_event = le16toh(READ_ONCE(vq->avail->ring[vq->size]));
    return vring_need_event(used_event, new_used, old);
}

bool
vq_publish(struct vq *vq)
{
    if (vq->used_idx == vq->published_used) {
        return false;
    }
    if (vq->packed) {
        vq_packed_flush(vq);
    } else {
        if (vq->n_shadow) {
            vq_shadow_flush(vq);
        }
        STORE_RELEASE(vq->used->idx, htole16(vq->used_idx));
    }
    bool newly = !vq->notify_owed;
    if (newly) {
        vq->notify_owed = true;
        vq->owed_from = vq->published_used;
    }
    vq->published_used = vq->used_idx;
    return newly;
}

enum vq_notify
vq_notify(struct vq *vq)
{
    if (!vq->notify_owed) {
        return VQ_NOTIFY_NONE;
    }
    vq->notify_owed = false;
    bool need = vq->packed ? vq_packed_need_notify(vq)
                           : vq_need_notify(vq, vq->owed_from,
                                            vq->published_used);
    if (!need || vq->call_fd < 0) {
        return VQ_NOTIFY_SUPPRESSED;
    }
    /* An eventfd adds 1; a pipe wakes its reader.  EAGAIN (counter or pipe
     * full) means a wakeup is pending anyway; EPIPE means nobody listens.
     * Either way there is nothing better to do. */
    uint64_t one = 1;
    if (write(vq->call_fd, &one, sizeof one) < 0) {
        /* ignored, see above */
    }
    return VQ_NOTIFY_SENT;
}

enum vq_notify
vq_end(struct vq *vq)
{
    vq_publish(vq);
    if (!vq->notify_owed) {
        return VQ_NOTIFY_NONE;
    }
    vq_fence();
    return vq_notify(vq);
}

/* A write position in a list of pieces, for the receive copy. */
struct seg_cursor {
    const struct vq_seg *seg;   /* current piece, never of length 0 */
    uint32_t off;               /* bytes already written into it */
};

/* Copies 'len' bytes at the cursor, in the largest contiguous pieces.  The
 * caller has checked that the pieces can hold them. */
static void
cursor_write(struct seg_cursor *c, const uint8_t *src, uint32_t len)
{
    while (len) {
        uint32_t n = MIN(len, c->seg->len - c->off);
        memcpy(c->seg->addr + c->off, src, n);
        src += n;
        len -= n;
        c->off += n;
        if (c->off == c->seg->len) {
            c->seg++;
            c->off = 0;
        }
    }
}

/* Gives back, with length 0, the 'n' chains pushed since 'used_start' and
 * the bad chain 'head': the frame is dropped, the buffers are not. */
static void
enq_give_back(struct vq *vq, uint16_t used_start, uint32_t head)
{
    for (uint16_t i = used_start; i != vq->used_idx; i++) {
        used_set_len(vq, i, 0);
    }
    vq_push(vq, head, 0);
}

/* Pops receive chains into 'segs' (at most 'max_segs' pieces) until they
 * hold 'needed' bytes (one chain without MRG_RXBUF), pushing each with the
 * bytes it will get.  Returns the number of chains, or -error with the
 * ring in a state the caller either keeps (bad chain, given back) or rolls
 * back. */
static int
enq_reserve(struct vq *vq, uint64_t needed, struct vq_seg *segs,
            unsigned max_segs, unsigned *n_segs)
{
    uint16_t used_start = vq->used_idx;
    uint64_t have = 0;
    unsigned n = 0;
    int n_chains = 0;

    while (have < needed) {
        struct vq_chain c;
        if (vq->packed && n_chains == VQ_PACKED_FRAME) {
            return -VQ_NO_BUFS;     /* see VQ_PACKED_FRAME */
        }
        /* Re-reads avail.idx only when the entries seen so far ran out. */
        int err = vq_begin_lazy(vq, 1);
        if (err <= 0) {
            return err ? err : -VQ_NO_BUFS;
        }
        err = vq_pop(vq, true, segs + n, max_segs - n, &c);
        if (err == -VQ_BAD_DESC || err == -VQ_BAD_ADDR) {
            enq_give_back(vq, used_start, c.id);
            return err;
        } else if (err) {
            return err;
        }
        if (!vq->mrg_rxbuf && c.len < needed) {
            return -VQ_TOO_BIG;
        }
        vq_push(vq, c.id, MIN(c.len, needed - have));
        have += c.len;
        n += c.n_segs;
        n_chains++;
    }
    *n_segs = n;
    return n_chains;
}

int
vq_reserve_chains(struct vq *vq, uint32_t len, struct vq_seg *segs,
                  unsigned max_segs, struct vq_resv *resv)
{
    uint64_t needed = (uint64_t) MIN(vq->hdr_size, VQ_HDR_MAX) + len;
    uint16_t last_avail = vq->last_avail;
    bool avail_wrap = vq->avail_wrap;
    uint16_t used_idx = vq->used_idx;
    unsigned n_segs = 0;
    int n_chains = enq_reserve(vq, needed, segs, MIN(max_segs, VQ_MAX_SEGS),
                               &n_segs);
    if (n_chains < 0) {
        if (n_chains != -VQ_BAD_DESC && n_chains != -VQ_BAD_ADDR) {
            vq->last_avail = last_avail;    /* nothing consumed */
            vq->avail_wrap = avail_wrap;
            used_rollback(vq, used_idx);
        }
        return n_chains;
    }
    resv->segs = segs;
    resv->n_segs = n_segs;
    resv->n_chains = n_chains;
    return 0;
}

int
vq_reserve(struct vq *vq, uint32_t len, struct vq_seg *segs,
           unsigned max_segs, struct vq_resv *resv)
{
    return vq->packed ? vq_reserve_as(vq, true, len, segs, max_segs, resv)
                      : vq_reserve_as(vq, false, len, segs, max_segs, resv);
}

void
vq_fill_general(struct vq *vq, const struct vq_resv *resv,
                const struct vq_seg *src, unsigned n_src)
{
    uint32_t hdr_size = MIN(vq->hdr_size, VQ_HDR_MAX);
    uint32_t len = resv->len;

    /* The header is written into the byte stream the chains form, so it
     * may straddle pieces (and, with tiny buffers, chains) like Linux
     * vhost-net does. */
    uint8_t hdr[VQ_HDR_MAX] = { 0 };
    size_t nb_off = offsetof(struct virtio_net_hdr_mrg_rxbuf, num_buffers);
    if (hdr_size >= sizeof(struct virtio_net_hdr_mrg_rxbuf)) {
        uint16_t nb = htole16(resv->n_chains);
        memcpy(hdr + nb_off, &nb, sizeof nb);
    }
    struct seg_cursor c = { .seg = resv->segs, .off = 0 };
    if (hdr_size) {
        cursor_write(&c, hdr, hdr_size);
    }
    for (unsigned i = 0; i < n_src && len; i++) {
        uint32_t n = MIN(src[i].len, len);
        cursor_write(&c, src[i].addr, n);
        len -= n;
    }
}

int
vq_enqueue(struct vq *vq, const struct vq_seg *src, unsigned n_src,
           uint32_t len)
{
    struct vq_seg segs[VQ_MAX_SEGS];
    struct vq_resv resv;

    int err = vq_reserve(vq, len, segs, VQ_MAX_SEGS, &resv);
    if (!err) {
        vq_fill(vq, &resv, src, n_src);
    }
    return err;
}

uint32_t
vq_segs_copy_out(const struct vq_seg *src, unsigned n_src, uint32_t skip,
                 uint8_t *dst, uint32_t len)
{
    uint32_t done = 0;

    for (unsigned i = 0; i < n_src && done < len; i++) {
        if (skip >= src[i].len) {
            skip -= src[i].len;
            continue;
        }
        uint32_t n = MIN(src[i].len - skip, len - done);
        memcpy(dst + done, src[i].addr + skip, n);
        done += n;
        skip = 0;
    }
    return done;
}
