/* test-gmem.c -- the guest memory map: validation of regions a front end
 * sends, length-aware translation, removal, that no fd leaks, and the
 * SIGBUS guard's count of faults in memory a front end truncated.  Guest
 * memory is faked with memfds; needs nothing special to run. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cunit.h"
#include "gmem.h"
#include "util.h"

#define MiB (1024 * 1024ULL)

static int
make_memfd(uint64_t size)
{
    int fd = memfd_create("test-gmem", MFD_CLOEXEC);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(ftruncate(fd, size) == 0);
    return fd;
}

static int
count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    CU_ASSERT_FATAL(d != NULL);
    while (readdir(d)) {
        n++;
    }
    closedir(d);
    return n;
}

static bool
fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

/* Two regions adjacent in GPA: A = [0, 1 MiB) at offset 0 of its fd,
 * B = [1 MiB, 2 MiB) at offset 64 KiB + 3 of its fd (not page aligned). */
static const struct gmem_region_desc desc_a = {
    .gpa = 0, .size = MiB, .qva = 0x7f0000000000ULL, .mmap_offset = 0,
};
static const struct gmem_region_desc desc_b = {
    .gpa = MiB, .size = MiB, .qva = 0x7f1000000000ULL,
    .mmap_offset = 64 * 1024 + 3,
};

static int fd_b;

static void
setup_two(struct gmem *mem)
{
    gmem_init(mem);
    CU_ASSERT_FATAL(gmem_add(mem, &desc_a, make_memfd(MiB)) == 0);
    fd_b = make_memfd(desc_b.mmap_offset + desc_b.size);
    CU_ASSERT_FATAL(gmem_add(mem, &desc_b, fd_b) == 0);
}

static void
test_add_and_offset(void)
{
    struct gmem mem;
    struct gmem_cache cache = { NULL };

    setup_two(&mem);
    CU_ASSERT_EQUAL(mem.n_regions, 2);
    CU_ASSERT_EQUAL(gmem_total_size(&mem), 2 * MiB);
    /* Mapped whole blocks (pages here, huge pages on hugetlbfs). */
    const struct gmem_region *rb = &mem.regions[1];
    CU_ASSERT_EQUAL(rb->mmap_size, MiB + 68 * 1024);
    CU_ASSERT_PTR_EQUAL(rb->va, (uint8_t *) rb->mmap_base + 64 * 1024 + 3);

    /* A byte written to the file at mmap_offset is at GPA 1 MiB. */
    char c = 'x';
    CU_ASSERT_EQUAL(pwrite(fd_b, &c, 1, desc_b.mmap_offset), 1);
    char *p = gmem_gpa_to_va(&mem, &cache, MiB, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(*p, 'x');

    /* And a byte stored through the map reaches the file. */
    p = gmem_gpa_to_va(&mem, &cache, 2 * MiB - 1, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    *p = 'y';
    CU_ASSERT_EQUAL(pread(fd_b, &c, 1, desc_b.mmap_offset + MiB - 1), 1);
    CU_ASSERT_EQUAL(c, 'y');
    gmem_clear(&mem);
    CU_ASSERT_EQUAL(mem.n_regions, 0);
}

static void
test_translate(void)
{
    struct gmem mem;
    struct gmem_cache cache = { NULL };

    setup_two(&mem);
    uint8_t *a = mem.regions[0].va, *b = mem.regions[1].va;

    CU_ASSERT_PTR_EQUAL(gmem_gpa_to_va(&mem, &cache, 100, 200), a + 100);
    CU_ASSERT_PTR_EQUAL(cache.last, &mem.regions[0]);
    CU_ASSERT_PTR_EQUAL(gmem_gpa_to_va(&mem, &cache, MiB - 1, 1),
                        a + MiB - 1);
    CU_ASSERT_PTR_EQUAL(gmem_gpa_to_va(&mem, &cache, 0, MiB), a);
    /* Crossing from A into B: adjacent in GPA, but not one region. */
    CU_ASSERT_PTR_NULL(gmem_gpa_to_va(&mem, &cache, MiB - 1, 2));
    CU_ASSERT_PTR_NULL(gmem_gpa_to_va(&mem, &cache, 0, MiB + 1));
    /* The cache follows the hits, both ways. */
    CU_ASSERT_PTR_EQUAL(gmem_gpa_to_va(&mem, &cache, MiB + 5, 10), b + 5);
    CU_ASSERT_PTR_EQUAL(cache.last, &mem.regions[1]);
    CU_ASSERT_PTR_EQUAL(gmem_gpa_to_va(&mem, &cache, 7, 10), a + 7);
    CU_ASSERT_PTR_EQUAL(gmem_gpa_to_va(&mem, &cache, MiB + 5, 10), b + 5);
    /* Past the end, unmapped, wrapping, huge. */
    CU_ASSERT_PTR_NULL(gmem_gpa_to_va(&mem, &cache, 2 * MiB - 1, 2));
    CU_ASSERT_PTR_NULL(gmem_gpa_to_va(&mem, &cache, 2 * MiB, 1));
    CU_ASSERT_PTR_NULL(gmem_gpa_to_va(&mem, &cache, UINT64_MAX, 2));
    CU_ASSERT_PTR_NULL(gmem_gpa_to_va(&mem, &cache, 5, UINT64_MAX));
    CU_ASSERT_PTR_NULL(gmem_gpa_to_va(&mem, &cache, MiB + 5, UINT64_MAX));
    /* Length 0: fine inside a region, not outside or at its end. */
    CU_ASSERT_PTR_EQUAL(gmem_gpa_to_va(&mem, &cache, 9, 0), a + 9);
    CU_ASSERT_PTR_NULL(gmem_gpa_to_va(&mem, &cache, 2 * MiB, 0));
    CU_ASSERT_PTR_NULL(gmem_gpa_to_va(&mem, NULL, 3 * MiB, 0));
    /* No cache at all works too. */
    CU_ASSERT_PTR_EQUAL(gmem_gpa_to_va(&mem, NULL, MiB, 1), b);
    gmem_clear(&mem);
}

static void
test_translate_partial(void)
{
    struct gmem mem;
    struct gmem_cache cache = { NULL };
    uint64_t contig = 0;

    setup_two(&mem);
    uint8_t *a = mem.regions[0].va, *b = mem.regions[1].va;

    /* 64 bytes from 16 below the A/B border: 16 in A, then 48 in B. */
    CU_ASSERT_PTR_EQUAL(gmem_gpa_to_va_partial(&mem, &cache, MiB - 16, 64,
                                               &contig), a + MiB - 16);
    CU_ASSERT_EQUAL(contig, 16);
    CU_ASSERT_PTR_EQUAL(gmem_gpa_to_va_partial(&mem, &cache, MiB, 48,
                                               &contig), b);
    CU_ASSERT_EQUAL(contig, 48);
    /* Whole fits: contig == len, from the cache too. */
    CU_ASSERT_PTR_EQUAL(gmem_gpa_to_va_partial(&mem, &cache, MiB + 100, 10,
                                               &contig), b + 100);
    CU_ASSERT_EQUAL(contig, 10);
    /* Running off the end of B into nothing: the first part is given. */
    CU_ASSERT_PTR_EQUAL(gmem_gpa_to_va_partial(&mem, &cache, 2 * MiB - 4,
                                               100, &contig),
                        b + MiB - 4);
    CU_ASSERT_EQUAL(contig, 4);
    CU_ASSERT_PTR_NULL(gmem_gpa_to_va_partial(&mem, &cache, 2 * MiB, 100,
                                              &contig));
    CU_ASSERT_PTR_NULL(gmem_gpa_to_va_partial(&mem, &cache, UINT64_MAX, 1,
                                              &contig));
    CU_ASSERT_PTR_EQUAL(gmem_gpa_to_va_partial(&mem, &cache, 3, 0,
                                               &contig), a + 3);
    CU_ASSERT_EQUAL(contig, 0);
    gmem_clear(&mem);
}

static void
test_translate_qva(void)
{
    struct gmem mem;

    setup_two(&mem);
    uint8_t *b = mem.regions[1].va;
    CU_ASSERT_PTR_EQUAL(gmem_qva_to_va(&mem, desc_b.qva + 8, 16), b + 8);
    CU_ASSERT_PTR_EQUAL(gmem_qva_to_va(&mem, desc_b.qva, MiB), b);
    CU_ASSERT_PTR_NULL(gmem_qva_to_va(&mem, desc_b.qva, MiB + 1));
    CU_ASSERT_PTR_NULL(gmem_qva_to_va(&mem, desc_b.qva - 1, 2));
    CU_ASSERT_PTR_NULL(gmem_qva_to_va(&mem, desc_b.qva + MiB, 1));
    CU_ASSERT_PTR_NULL(gmem_qva_to_va(&mem, desc_a.qva + 1, UINT64_MAX));
    /* A GPA is not a QVA. */
    CU_ASSERT_PTR_NULL(gmem_qva_to_va(&mem, 0, 1));
    gmem_clear(&mem);
}

/* gmem_add() refuses 'd' with 'expect' and leaves the fd to the caller. */
static void
expect_reject(struct gmem *mem, const struct gmem_region_desc *d, int fd,
              int expect)
{
    unsigned n = mem->n_regions;
    int err = gmem_add(mem, d, fd);

    CU_ASSERT_EQUAL(err, expect);
    if (err != expect) {
        fprintf(stderr, "\n  got %d, expected %d\n", err, expect);
    }
    CU_ASSERT_EQUAL(mem->n_regions, n);
    if (fd >= 0) {
        CU_ASSERT(fd_is_open(fd));
    }
}

static void
test_reject_numbers(void)
{
    struct gmem mem;
    int fd = make_memfd(4 * MiB);

    setup_two(&mem);
    struct gmem_region_desc d = { .gpa = 8 * MiB, .size = 0,
                                  .qva = 0x1000000, .mmap_offset = 0 };
    expect_reject(&mem, &d, fd, -EINVAL);                  /* size 0 */
    d = (struct gmem_region_desc) { UINT64_MAX - 4095, 8192, 0x1000000, 0 };
    expect_reject(&mem, &d, fd, -EINVAL);                  /* gpa wraps */
    d = (struct gmem_region_desc) { 8 * MiB, 8192, UINT64_MAX - 4095, 0 };
    expect_reject(&mem, &d, fd, -EINVAL);                  /* qva wraps */
    d = (struct gmem_region_desc) { 8 * MiB, 8192, 0x1000000,
                                    UINT64_MAX - 4095 };
    expect_reject(&mem, &d, fd, -EINVAL);                  /* offset wraps */
    d = (struct gmem_region_desc) { 8 * MiB, 8192, 0x1000000,
                                    INT64_MAX - 4095 };
    expect_reject(&mem, &d, fd, -EINVAL);                  /* past off_t */
    /* Overlap in GPA (partly, inside, around) and in QVA. */
    d = (struct gmem_region_desc) { MiB + MiB / 2, MiB, 0x1000000, 0 };
    expect_reject(&mem, &d, fd, -EEXIST);
    d = (struct gmem_region_desc) { 4096, 4096, 0x1000000, 0 };
    expect_reject(&mem, &d, fd, -EEXIST);
    d = (struct gmem_region_desc) { 0, 4 * MiB, 0x1000000, 0 };
    expect_reject(&mem, &d, fd, -EEXIST);
    d = (struct gmem_region_desc) { 8 * MiB, MiB, desc_a.qva + MiB - 1, 0 };
    expect_reject(&mem, &d, fd, -EEXIST);
    d = (struct gmem_region_desc) { 8 * MiB, MiB, desc_b.qva - 4096, 0 };
    expect_reject(&mem, &d, fd, -EEXIST);
    /* Exactly adjacent in both spaces is fine. */
    d = (struct gmem_region_desc) { 2 * MiB, MiB, desc_b.qva + MiB, 0 };
    CU_ASSERT_EQUAL(gmem_add(&mem, &d, fd), 0);
    gmem_clear(&mem);
}

static void
test_reject_fds(void)
{
    struct gmem mem;
    struct gmem_region_desc d = { 0, MiB, 0x1000000, 4096 };
    int pipe_fds[2], sock_fds[2];

    gmem_init(&mem);
    CU_ASSERT_FATAL(pipe(pipe_fds) == 0);
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sock_fds) == 0);
    expect_reject(&mem, &d, pipe_fds[0], -ENODEV);
    expect_reject(&mem, &d, sock_fds[0], -ENODEV);
    expect_reject(&mem, &d, -1, -EBADF);
    int closed = make_memfd(2 * MiB);
    close(closed);
    CU_ASSERT_EQUAL(gmem_add(&mem, &d, closed), -EBADF);

    /* The file must hold mmap_offset + size bytes. */
    int fd = make_memfd(MiB);
    expect_reject(&mem, &d, fd, -EINVAL);
    CU_ASSERT_FATAL(ftruncate(fd, MiB + 4095) == 0);
    expect_reject(&mem, &d, fd, -EINVAL);
    CU_ASSERT_FATAL(ftruncate(fd, MiB + 4096) == 0);
    CU_ASSERT_EQUAL(gmem_add(&mem, &d, fd), 0);

    /* A read-only fd cannot be mapped shared writable. */
    int ro = open("/proc/self/exe", O_RDONLY);
    CU_ASSERT_FATAL(ro >= 0);
    d = (struct gmem_region_desc) { 4 * MiB, 4096, 0x9000000, 0 };
    expect_reject(&mem, &d, ro, -EACCES);
    close(ro);

    gmem_clear(&mem);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    close(sock_fds[0]);
    close(sock_fds[1]);
}

static void
test_table_full(void)
{
    struct gmem mem;

    gmem_init(&mem);
    for (unsigned i = 0; i < GMEM_MAX_REGIONS; i++) {
        struct gmem_region_desc d = { i * MiB, 4096, 0x10000000 + i * MiB,
                                      0 };
        CU_ASSERT_EQUAL_FATAL(gmem_add(&mem, &d, make_memfd(4096)), 0);
    }
    int fd = make_memfd(4096);
    struct gmem_region_desc d = { 100 * MiB, 4096, 0x90000000, 0 };
    expect_reject(&mem, &d, fd, -ENOSPC);
    close(fd);
    CU_ASSERT_EQUAL(gmem_total_size(&mem), GMEM_MAX_REGIONS * 4096);
    gmem_clear(&mem);
}

/* A region may end exactly at 2^64 (its end does not wrap). */
static void
test_top_of_space(void)
{
    struct gmem mem;
    struct gmem_cache cache = { NULL };
    struct gmem_region_desc d = { UINT64_MAX - 4095, 4096,
                                  UINT64_MAX - 4095, 0 };

    gmem_init(&mem);
    CU_ASSERT_EQUAL_FATAL(gmem_add(&mem, &d, make_memfd(4096)), 0);
    uint8_t *va = mem.regions[0].va;
    CU_ASSERT_PTR_EQUAL(gmem_gpa_to_va(&mem, &cache, UINT64_MAX, 1),
                        va + 4095);
    CU_ASSERT_PTR_NULL(gmem_gpa_to_va(&mem, &cache, UINT64_MAX, 2));
    CU_ASSERT_PTR_EQUAL(gmem_gpa_to_va(&mem, &cache, d.gpa, 4096), va);
    CU_ASSERT_PTR_NULL(gmem_gpa_to_va(&mem, &cache, 0, 1));
    CU_ASSERT_PTR_EQUAL(gmem_qva_to_va(&mem, UINT64_MAX, 1), va + 4095);
    /* Overlap with a region reaching the top is still seen. */
    struct gmem_region_desc o = { UINT64_MAX, 1, 0x1000, 0 };
    int fd = make_memfd(4096);
    expect_reject(&mem, &o, fd, -EEXIST);
    close(fd);
    gmem_clear(&mem);
}

static void
test_remove(void)
{
    struct gmem mem;
    struct gmem_cache cache = { NULL };

    setup_two(&mem);
    /* Leave the cache pointing at B, then remove B. */
    CU_ASSERT_PTR_NOT_NULL(gmem_gpa_to_va(&mem, &cache, MiB, 1));
    struct gmem_region_desc wrong = desc_b;
    wrong.qva += 4096;
    CU_ASSERT_EQUAL(gmem_remove(&mem, &wrong), -ENOENT);
    CU_ASSERT_EQUAL(gmem_remove(&mem, &desc_b), 0);
    CU_ASSERT(!fd_is_open(fd_b));
    CU_ASSERT_EQUAL(mem.n_regions, 1);
    CU_ASSERT_PTR_NULL(gmem_gpa_to_va(&mem, &cache, MiB, 1));
    CU_ASSERT_PTR_NULL(gmem_gpa_to_va(&mem, &cache, MiB + 5, 0));
    CU_ASSERT_PTR_NOT_NULL(gmem_gpa_to_va(&mem, &cache, 0, 1));
    CU_ASSERT_EQUAL(gmem_remove(&mem, &desc_b), -ENOENT);

    /* Removing the first of two keeps the other translatable, even
     * through a cache that pointed at the slot it moved out of. */
    fd_b = make_memfd(desc_b.mmap_offset + desc_b.size);
    CU_ASSERT_EQUAL_FATAL(gmem_add(&mem, &desc_b, fd_b), 0);
    CU_ASSERT_PTR_NOT_NULL(gmem_gpa_to_va(&mem, &cache, MiB, 1));
    CU_ASSERT_EQUAL(gmem_remove(&mem, &desc_a), 0);
    uint8_t *b = gmem_gpa_to_va(&mem, &cache, MiB + 1, 1);
    CU_ASSERT_PTR_EQUAL(b, mem.regions[0].va + 1);
    CU_ASSERT_PTR_NULL(gmem_gpa_to_va(&mem, &cache, 1, 1));
    /* The freed space can be added again. */
    CU_ASSERT_EQUAL(gmem_add(&mem, &desc_a, make_memfd(MiB)), 0);
    CU_ASSERT_EQUAL(gmem_total_size(&mem), 2 * MiB);
    gmem_clear(&mem);
    gmem_clear(&mem);   /* twice is harmless */
}

static void
test_no_fd_leak(void)
{
    int before = count_fds();

    for (int round = 0; round < 3; round++) {
        struct gmem mem;
        setup_two(&mem);
        test_reject_fds();
        CU_ASSERT_EQUAL(gmem_remove(&mem, &desc_a), 0);
        gmem_clear(&mem);
    }
    CU_ASSERT_EQUAL(count_fds(), before);
}

/* Reads one byte of guest memory the way a worker does: through a
 * translation, with a load the compiler cannot drop. */
static uint8_t
peek(const struct gmem *mem, uint64_t gpa)
{
    const uint8_t *p = gmem_gpa_to_va(mem, NULL, gpa, 1);
    CU_ASSERT_FATAL(p != NULL);
    return READ_ONCE(*p);
}

static void *
peek_thread(void *mem)
{
    return (void *) (uintptr_t) peek(mem, 12 * 4096);
}

/* A front end shrinks the file behind its memory: the accesses to the
 * vanished pages read zeros instead of killing the process, on any thread;
 * each faulting page counts once, in its own map only; the count survives
 * gmem_clear() (so replacing the memory table does not hide a fault) and
 * is forgotten only by gmem_reset_faults() on an empty map. */
static void
test_truncated_faults(void)
{
    struct gmem mem, other;
    int fd = make_memfd(MiB);
    int keep = dup(fd);

    gmem_init(&mem);
    gmem_init(&other);
    CU_ASSERT_FATAL(keep >= 0);
    CU_ASSERT_FATAL(gmem_add(&mem, &desc_a, fd) == 0);
    CU_ASSERT_FATAL(gmem_add(&other, &desc_b, make_memfd(2 * MiB)) == 0);
    memset(gmem_gpa_to_va(&mem, NULL, 0, MiB), 0x5a, MiB);
    CU_ASSERT_EQUAL(gmem_faults(&mem), 0);

    CU_ASSERT_FATAL(ftruncate(keep, 4096) == 0);
    CU_ASSERT_EQUAL(peek(&mem, 0), 0x5a);        /* still in the file */
    CU_ASSERT_EQUAL(gmem_faults(&mem), 0);
    CU_ASSERT_EQUAL(peek(&mem, 10 * 4096 + 7), 0);
    CU_ASSERT_EQUAL(gmem_faults(&mem), 1);
    CU_ASSERT_EQUAL(peek(&mem, 10 * 4096 + 8), 0);  /* same page: no new */
    CU_ASSERT_EQUAL(gmem_faults(&mem), 1);
    uint8_t *w = gmem_gpa_to_va(&mem, NULL, 11 * 4096, 1);
    WRITE_ONCE(*w, 1);                          /* a write faults too */
    CU_ASSERT_EQUAL(gmem_faults(&mem), 2);

    pthread_t t;
    void *got;
    CU_ASSERT_FATAL(pthread_create(&t, NULL, peek_thread, &mem) == 0);
    pthread_join(t, &got);
    CU_ASSERT_EQUAL((uintptr_t) got, 0);
    CU_ASSERT_EQUAL(gmem_faults(&mem), 3);
    CU_ASSERT_EQUAL(gmem_faults(&other), 0);
    CU_ASSERT_EQUAL(peek(&other, MiB), 0);      /* intact, no fault */
    CU_ASSERT_EQUAL(gmem_faults(&other), 0);

    CU_ASSERT_EQUAL(gmem_reset_faults(&mem), -EBUSY);
    CU_ASSERT_EQUAL(gmem_faults(&mem), 3);
    gmem_clear(&mem);
    CU_ASSERT_EQUAL(gmem_faults(&mem), 3);
    CU_ASSERT_EQUAL(gmem_reset_faults(&mem), 0);
    CU_ASSERT_EQUAL(gmem_faults(&mem), 0);

    /* A new, whole file in the same map: no fault, real bytes. */
    CU_ASSERT_FATAL(ftruncate(keep, MiB) == 0);
    CU_ASSERT_FATAL(gmem_add(&mem, &desc_a, keep) == 0);
    CU_ASSERT_EQUAL(peek(&mem, 10 * 4096), 0);  /* a grown file reads 0 */
    CU_ASSERT_EQUAL(peek(&mem, 0), 0x5a);
    CU_ASSERT_EQUAL(gmem_faults(&mem), 0);
    gmem_clear(&mem);
    gmem_clear(&other);
}

static const struct cunit_test tests[] = {
    CUNIT_TEST(test_add_and_offset),
    CUNIT_TEST(test_translate),
    CUNIT_TEST(test_translate_partial),
    CUNIT_TEST(test_translate_qva),
    CUNIT_TEST(test_reject_numbers),
    CUNIT_TEST(test_reject_fds),
    CUNIT_TEST(test_table_full),
    CUNIT_TEST(test_top_of_space),
    CUNIT_TEST(test_remove),
    CUNIT_TEST(test_no_fd_leak),
    CUNIT_TEST(test_truncated_faults),
};

CUNIT_MAIN("gmem", tests)
