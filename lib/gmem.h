/* gmem.h -- guest memory map: the regions a vhost-user front end shared with
 * us (SET_MEM_TABLE, ADD_MEM_REG), mapped into our address space, and the
 * length-aware translations the datapath needs.
 *
 * Three address spaces meet here:
 *   GPA  guest-physical address, as written in descriptors;
 *   QVA  the front end's own virtual address ("userspace_addr"), as used by
 *        SET_VRING_ADDR for the ring addresses;
 *   VA   our virtual address, where the region is mapped.
 *
 * Threads: the control thread builds and edits a map (gmem_add, gmem_remove,
 * gmem_clear) only while no worker uses it (the ownership handshake).
 * Workers call the translation functions, which never write the map; each
 * caller keeps its own one-entry cache (struct gmem_cache) so that the common
 * case is a range check, not a search. */
#ifndef VU_GMEM_H
#define VU_GMEM_H 1

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

#define GMEM_MAX_REGIONS 32     /* VHOST_USER_MAX_RAM_SLOTS */

struct gmem_region {
    uint64_t gpa;           /* guest_phys_addr */
    uint64_t size;          /* memory_size */
    uint64_t qva;           /* userspace_addr */
    uint64_t mmap_offset;   /* offset of the region in the fd */
    uint8_t *va;            /* == mmap_base + mmap_offset */
    void *mmap_base;        /* what mmap() returned */
    uint64_t mmap_size;     /* size + mmap_offset rounded up to the fd's
                             * block size (huge page): what we mapped */
    int fd;                 /* kept open while mapped, -1 if closed */
    int guard;              /* slot in the SIGBUS guard (gmem.c), -1 */
    unsigned users;         /* ADD_MEM_REG calls holding it (gmem_add
                               sets 1; see vhu-dev.c) */
};

struct gmem {
    unsigned n_regions;
    /* Faults taken in this map's regions (see gmem_faults() below): added
     * to by the SIGBUS guard on whichever thread faulted, zeroed by the
     * control thread (gmem_init, gmem_reset_faults) while nothing is
     * mapped. */
    uint64_t faults;
    struct gmem_region regions[GMEM_MAX_REGIONS];
};

/* The description of one region as received from a front end. */
struct gmem_region_desc {
    uint64_t gpa;
    uint64_t size;
    uint64_t qva;
    uint64_t mmap_offset;
};

/* Per-caller translation cache: the last region that hit. */
struct gmem_cache {
    const struct gmem_region *last;
};

void gmem_init(struct gmem *);

/* Validates 'desc' (nonzero size, no wrap of gpa+size, qva+size,
 * mmap_offset+size; no overlap with an existing region in GPA or QVA space;
 * room left), checks that 'fd' is a mappable file at least
 * mmap_offset + size bytes long, maps it shared read-write and adds it.
 * On success the map owns 'fd'.  On failure returns -errno (EINVAL,
 * ENOSPC, EEXIST for overlap, ENODEV/EBADF for an fd that cannot be mapped)
 * and the caller still owns 'fd'.  Control thread only. */
int gmem_add(struct gmem *, const struct gmem_region_desc *desc, int fd);

/* Removes the region matching 'desc' (gpa, size and qva must match),
 * unmapping it and closing its fd.  Returns 0 or -ENOENT.  Control thread
 * only, while no worker uses the map. */
int gmem_remove(struct gmem *, const struct gmem_region_desc *desc);

/* Unmaps and closes everything; the map is then empty.  Control thread. */
void gmem_clear(struct gmem *);

/* The translation of [gpa, gpa + len) if the whole range lies in the
 * cached region, else NULL (the caller then asks gmem_gpa_to_va*()).
 * Inline: the datapath does this for every descriptor.  off < size: gpa
 * is inside (a gpa below the region wraps to a huge off); len <= size -
 * off: so is the end, which therefore does not wrap. */
static inline void *
gmem_cache_hit(const struct gmem_cache *cache, uint64_t gpa, uint64_t len)
{
    const struct gmem_region *r = cache->last;
    if (likely(r)) {
        uint64_t off = gpa - r->gpa;
        if (likely(off < r->size && len <= r->size - off)) {
            return r->va + off;
        }
    }
    return NULL;
}

/* Translates [gpa, gpa + len) to a pointer, only if the whole range lies in
 * one region; returns NULL otherwise (including len == 0 ranges outside any
 * region and ranges that wrap).  Any thread. */
void *gmem_gpa_to_va(const struct gmem *, struct gmem_cache *,
                     uint64_t gpa, uint64_t len);

/* Like gmem_gpa_to_va() but translates as much of the range as is
 * contiguous in one region: returns the pointer to 'gpa' and stores in
 * '*contig' how many bytes (<= len) follow it in the same region.  Returns
 * NULL if 'gpa' itself is unmapped.  Lets a descriptor that spans two
 * adjacent regions be copied in pieces. */
void *gmem_gpa_to_va_partial(const struct gmem *, struct gmem_cache *,
                             uint64_t gpa, uint64_t len, uint64_t *contig);

/* Translates a front-end virtual address range (ring addresses); NULL
 * unless [qva, qva + len) lies in one region.  Control thread. */
void *gmem_qva_to_va(const struct gmem *, uint64_t qva, uint64_t len);

/* Total bytes mapped (for stats). */
uint64_t gmem_total_size(const struct gmem *);

/* Truncated guest memory.  A front end may shrink the file behind a region
 * after we mapped it; touching the vanished pages raises SIGBUS in the
 * thread that does, a worker usually (or the control thread, which writes
 * a ring's used flags when the ring starts).  gmem_add() therefore
 * installs (once, chaining to any previous handler) a SIGBUS handler that
 * answers a fault inside a mapped region by mapping zero pages over the
 * faulting block: the access is retried and reads zeros, writes reach
 * nobody, and no thread dies.  The handler adds 1 to the faulting map's
 * 'faults', which gmem_faults() returns: a fault means the front end
 * broke the contract, and the owner of the map must stop using it and drop
 * the device rather than let it fault again (each fault is a signal).  Any
 * thread; it is cheap enough to check once per burst.  The count stays
 * across gmem_clear() and gmem_remove(), so that a front end cannot hide
 * a fault by replacing its memory table, until gmem_reset_faults().
 * A SIGBUS anywhere else goes to the previous handler or the default
 * action. */
static inline uint64_t
gmem_faults(const struct gmem *mem)
{
    return __atomic_load_n(&mem->faults, __ATOMIC_RELAXED);
}

/* Forgets the faults of 'mem', for a new front end.  Control thread, while
 * nothing is mapped (so that no fault handler can write the count): returns
 * -EBUSY, and leaves the count alone, if regions are mapped. */
int gmem_reset_faults(struct gmem *);

#endif /* gmem.h */
