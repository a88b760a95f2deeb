/* gmem.c -- guest memory map: validation and mapping of the regions a
 * vhost-user front end shares (control thread), and the GPA/QVA
 * translations the workers run per descriptor.
 *
 * Regions are kept in a small unsorted array (at most 32).  A lookup first
 * tries the caller's cached region -- two compares -- and only on a miss
 * scans the array.  Vacated slots are zeroed (size 0) so that a cache left
 * pointing at one can never hit: a size-0 region contains nothing. */
#include <config.h>

#include "gmem.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static void
region_reset(struct gmem_region *r)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    r->guard = -1;
}

/* ---- SIGBUS guard (see gmem.h). ----
 *
 * Every mapping of every map in the process has a slot here, claimed and
 * released by the control thread around mmap()/munmap(); the signal
 * handler, on any thread, only reads the slots (and counts the fault in
 * the map the slot names, which outlives the slot).  A slot is released
 * before its range is unmapped, and a range is unmapped only while no
 * worker reads it (the ownership handshake), so a fault being handled
 * never races with the release of its own slot. */

#define GUARD_SLOTS 4096        /* 64 ports x 32 regions, twice over */

struct gmem_guard {
    uintptr_t start;            /* 0: free */
    uintptr_t end;
    uintptr_t blk;              /* what to replace at once: the page size,
                                 * or a hugetlbfs file's huge page size */
    uint64_t *faults;           /* the owning map's count */
};

static struct gmem_guard guards[GUARD_SLOTS];
static struct sigaction guard_old_action;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;
static int guard_install_error;

static void
guard_sigbus(int sig, siginfo_t *si, void *uctx)
{
    uintptr_t a = (uintptr_t) si->si_addr;

    for (unsigned i = 0; i < GUARD_SLOTS; i++) {
        struct gmem_guard *g = &guards[i];
        uintptr_t start = __atomic_load_n(&g->start, __ATOMIC_ACQUIRE);
        if (!start || a < start || a >= READ_ONCE(g->end)) {
            continue;
        }
        uintptr_t blk = READ_ONCE(g->blk);
        void *at = (void *) (start + ((a - start) & ~(blk - 1)));
        if (mmap(at, blk, PROT_READ | PROT_WRITE,
                 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            != MAP_FAILED) {
            __atomic_add_fetch(READ_ONCE(g->faults), 1, __ATOMIC_RELAXED);
            return;             /* the access is retried */
        }
        break;
    }
    /* Not guest memory: as if we were not here. */
    if (guard_old_action.sa_flags & SA_SIGINFO) {
        guard_old_action.sa_sigaction(sig, si, uctx);
    } else if (guard_old_action.sa_handler != SIG_DFL
               && guard_old_action.sa_handler != SIG_IGN) {
        guard_old_action.sa_handler(sig);
    } else {
        signal(SIGBUS, SIG_DFL);    /* the access faults again, fatally */
    }
}

static void
guard_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = guard_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, &guard_old_action)) {
        guard_install_error = -errno;
    }
}

/* Registers [base, base + size) for region 'r' of 'mem'.  Returns 0 or
 * -errno. */
static int
guard_add(struct gmem *mem, struct gmem_region *r, void *base, uint64_t size,
          uint64_t blk)
{
    pthread_once(&guard_once, guard_install);
    if (guard_install_error) {
        return guard_install_error;
    }
    uint64_t page = (uint64_t) sysconf(_SC_PAGESIZE);
    if (blk < page || (blk & (blk - 1)) || (uintptr_t) base % blk) {
        blk = page;
    }
    for (unsigned i = 0; i < GUARD_SLOTS; i++) {
        struct gmem_guard *g = &guards[i];
        if (!g->start) {
            g->end = (uintptr_t) base + size;
            g->blk = blk;
            g->faults = &mem->faults;
            __atomic_store_n(&g->start, (uintptr_t) base, __ATOMIC_RELEASE);
            r->guard = (int) i;
            return 0;
        }
    }
    return -ENOSPC;
}

static void
guard_remove(struct gmem_region *r)
{
    if (r->guard >= 0) {
        __atomic_store_n(&guards[r->guard].start, 0, __ATOMIC_RELEASE);
        r->guard = -1;
    }
}

int
gmem_reset_faults(struct gmem *mem)
{
    if (mem->n_regions) {
        return -EBUSY;
    }
    __atomic_store_n(&mem->faults, 0, __ATOMIC_RELAXED);
    return 0;
}

void
gmem_init(struct gmem *mem)
{
    mem->n_regions = 0;
    mem->faults = 0;
    for (unsigned i = 0; i < GMEM_MAX_REGIONS; i++) {
        region_reset(&mem->regions[i]);
    }
}

/* True if [a, a + a_size) and [b, b + b_size) share a byte.  Both ranges
 * are nonempty and known not to wrap, so comparing last bytes is exact
 * even for a range that ends at 2^64. */
static bool
ranges_overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
    return a <= b + (b_size - 1) && b <= a + (a_size - 1);
}

/* Checks the numbers of 'd' alone and against the regions already mapped. */
static int
gmem_check_desc(const struct gmem *mem, const struct gmem_region_desc *d)
{
    if (!d->size || range_wraps(d->gpa, d->size)
        || range_wraps(d->qva, d->size)
        || range_wraps(d->mmap_offset, d->size)
        || d->mmap_offset + d->size > (uint64_t) INT64_MAX
        || d->mmap_offset + d->size > SIZE_MAX) {
        return -EINVAL;
    }
    for (unsigned i = 0; i < mem->n_regions; i++) {
        const struct gmem_region *r = &mem->regions[i];
        if (ranges_overlap(r->gpa, r->size, d->gpa, d->size)
            || ranges_overlap(r->qva, r->size, d->qva, d->size)) {
            return -EEXIST;
        }
    }
    return mem->n_regions < GMEM_MAX_REGIONS ? 0 : -ENOSPC;
}

/* Only regular files (memfd, tmpfs, hugetlbfs) can back guest RAM; a pipe
 * or socket would fail in mmap() at best.  The file must cover what the
 * region uses, or touching its tail would raise SIGBUS in a worker.
 * Returns the length to map: 'need' rounded up to the file's block size,
 * because hugetlbfs cannot munmap() part of a huge page (DPDK does the
 * same); mapping past EOF within the last block is harmless. */
static int
gmem_check_fd(int fd, uint64_t need, uint64_t *map_size, uint64_t *blk_out)
{
    struct stat st;

    if (fd < 0) {
        return -EBADF;
    }
    if (fstat(fd, &st) < 0) {
        return -errno;
    }
    if (!S_ISREG(st.st_mode)) {
        return -ENODEV;
    }
    if (st.st_size < 0 || (uint64_t) st.st_size < need) {
        return -EINVAL;
    }
    uint64_t blk = st.st_blksize > 0 ? (uint64_t) st.st_blksize : 1;
    *blk_out = blk;
    *map_size = need;
    if (!(blk & (blk - 1)) && need + (blk - 1) > need) {
        *map_size = (need + blk - 1) & ~(blk - 1);
    }
    return 0;
}

int
gmem_add(struct gmem *mem, const struct gmem_region_desc *desc, int fd)
{
    uint64_t map_size = 0, blk = 0;
    int err = gmem_check_desc(mem, desc);
    if (err) {
        return err;
    }
    /* Like libvhost-user, map from offset 0 of the fd: mmap_offset need
     * not be page aligned, mmap()'s offset must be. */
    err = gmem_check_fd(fd, desc->mmap_offset + desc->size, &map_size, &blk);
    if (err) {
        return err;
    }
    void *base = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (base == MAP_FAILED) {
        return -errno;
    }

    struct gmem_region *r = &mem->regions[mem->n_regions];
    err = guard_add(mem, r, base, map_size, blk);
    if (err) {
        munmap(base, map_size);
        return err;
    }
    r->gpa = desc->gpa;
    r->size = desc->size;
    r->qva = desc->qva;
    r->mmap_offset = desc->mmap_offset;
    r->mmap_base = base;
    r->mmap_size = map_size;
    r->va = (uint8_t *) base + desc->mmap_offset;
    r->fd = fd;
    r->users = 1;
    mem->n_regions++;
    return 0;
}

static void
region_unmap(struct gmem_region *r)
{
    guard_remove(r);
    if (r->mmap_base) {
        munmap(r->mmap_base, r->mmap_size);
    }
    if (r->fd >= 0) {
        close(r->fd);
    }
    region_reset(r);
}

int
gmem_remove(struct gmem *mem, const struct gmem_region_desc *desc)
{
    for (unsigned i = 0; i < mem->n_regions; i++) {
        struct gmem_region *r = &mem->regions[i];
        if (r->gpa == desc->gpa && r->size == desc->size
            && r->qva == desc->qva) {
            region_unmap(r);
            /* Keep the array dense; the vacated last slot is zeroed so a
             * stale cache pointing at it misses. */
            unsigned last = mem->n_regions - 1;
            if (i != last) {
                *r = mem->regions[last];
                region_reset(&mem->regions[last]);
            }
            mem->n_regions--;
            return 0;
        }
    }
    return -ENOENT;
}

void
gmem_clear(struct gmem *mem)
{
    for (unsigned i = 0; i < mem->n_regions; i++) {
        region_unmap(&mem->regions[i]);
    }
    mem->n_regions = 0;
}

/* The region holding byte 'gpa' (there is at most one), or NULL. */
static const struct gmem_region *
gmem_find_gpa(const struct gmem *mem, uint64_t gpa)
{
    for (unsigned i = 0; i < mem->n_regions; i++) {
        const struct gmem_region *r = &mem->regions[i];
        if (gpa - r->gpa < r->size) {
            return r;
        }
    }
    return NULL;
}

void *
gmem_gpa_to_va(const struct gmem *mem, struct gmem_cache *cache,
               uint64_t gpa, uint64_t len)
{
    void *hit = cache ? gmem_cache_hit(cache, gpa, len) : NULL;
    if (likely(hit)) {
        return hit;
    }
    const struct gmem_region *r = gmem_find_gpa(mem, gpa);
    if (!r || len > r->size - (gpa - r->gpa)) {
        return NULL;
    }
    if (cache) {
        cache->last = r;
    }
    return r->va + (gpa - r->gpa);
}

void *
gmem_gpa_to_va_partial(const struct gmem *mem, struct gmem_cache *cache,
                       uint64_t gpa, uint64_t len, uint64_t *contig)
{
    const struct gmem_region *r = cache ? cache->last : NULL;
    if (!r || gpa - r->gpa >= r->size) {
        r = gmem_find_gpa(mem, gpa);
        if (!r) {
            return NULL;
        }
        if (cache) {
            cache->last = r;
        }
    }
    uint64_t off = gpa - r->gpa;
    *contig = MIN(len, r->size - off);
    return r->va + off;
}

void *
gmem_qva_to_va(const struct gmem *mem, uint64_t qva, uint64_t len)
{
    for (unsigned i = 0; i < mem->n_regions; i++) {
        const struct gmem_region *r = &mem->regions[i];
        uint64_t off = qva - r->qva;
        if (off < r->size) {
            return len <= r->size - off ? r->va + off : NULL;
        }
    }
    return NULL;
}

uint64_t
gmem_total_size(const struct gmem *mem)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < mem->n_regions; i++) {
        total += mem->regions[i].size;
    }
    return total;
}
