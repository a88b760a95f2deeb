/* vq-guest.h -- what test-vq.c (split rings) and test-vq-packed.c (packed
 * rings) share: fake guest memory made of memfds in a gmem map, and the
 * small checks both make.
 *
 * Guest memory (vq_guest_mem):
 *   A  GPA [0, 1 MiB)        fd offset 0      rings at 0x10000.., data
 *   B  GPA [1 MiB, 2 MiB)    fd offset 4098   adjacent to A in GPA only
 *      (hole)                                 [2 MiB, 4 MiB)
 *   C  GPA [4 MiB, 5 MiB)    fd offset 0 */
#ifndef VU_TESTS_VQ_GUEST_H
#define VU_TESTS_VQ_GUEST_H 1

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cunit.h"
#include "gmem.h"

#define MiB (1024 * 1024ULL)
#define GiB (1024 * MiB)

#define QVA_BASE 0x7f0000000000ULL      /* front-end address of GPA 0 */

static inline int
make_memfd(uint64_t size)
{
    int fd = memfd_create("test-vq", MFD_CLOEXEC);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(ftruncate(fd, size) == 0);
    return fd;
}

static inline void
add_region(struct gmem *mem, uint64_t gpa, uint64_t size, uint64_t off)
{
    struct gmem_region_desc d = { gpa, size, QVA_BASE + gpa, off };
    CU_ASSERT_EQUAL_FATAL(gmem_add(mem, &d, make_memfd(off + size)), 0);
}

/* Regions A, B and C above. */
static inline void
vq_guest_mem(struct gmem *mem)
{
    gmem_init(mem);
    add_region(mem, 0, MiB, 0);
    add_region(mem, MiB, MiB, 4098);
    add_region(mem, 4 * MiB, MiB, 0);
}

static inline void *
gmem_va(struct gmem *mem, uint64_t gpa)
{
    void *p = gmem_gpa_to_va(mem, NULL, gpa, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    return p;
}

/* Fills 'n' bytes with a pattern that shows misplaced bytes. */
static inline uint8_t *
make_frame(uint32_t n)
{
    uint8_t *f = malloc(n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (uint32_t i = 0; i < n; i++) {
        f[i] = (uint8_t) (i * 7 + i / 251);
    }
    return f;
}

/* The eventfd's counter (and resets it), 0 if nothing was written. */
static inline uint64_t
read_event(int fd)
{
    uint64_t v = 0;
    return read(fd, &v, sizeof v) == sizeof v ? v : 0;
}

#endif /* vq-guest.h */
