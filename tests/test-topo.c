/* test-topo.c -- the NUMA node of a CPU and of guest memory, against what
 * the kernel reports by another way (move_pages) and against memory bound
 * to a chosen node (mbind).  Guest memory is faked with memfds, mapped by
 * lib/gmem as for a front end.  Needs libnuma to work (exits 77 when
 * numa_available() fails, as in some containers); on a one-node machine
 * every node is 0, which the assertions allow. */
#include <config.h>

#include <numa.h>
#include <numaif.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cunit.h"
#include "gmem.h"
#include "topo.h"

#define MiB (1024 * 1024ULL)

/* What the kernel says about the page at 'addr', asked differently. */
static int
page_node(void *addr)
{
    int status = -1;
    CU_ASSERT_EQUAL(move_pages(0, 1, &addr, NULL, &status, 0), 0);
    return status;
}

static void
add_region(struct gmem *mem, uint64_t gpa, uint64_t size)
{
    struct gmem_region_desc desc = {
        .gpa = gpa, .size = size, .qva = 0x7f0000000000ULL + gpa,
    };
    int fd = memfd_create("test-topo", MFD_CLOEXEC);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(ftruncate(fd, (off_t) size) == 0);
    CU_ASSERT_FATAL(gmem_add(mem, &desc, fd) == 0);
}

static void
test_nodes_and_cpus(void)
{
    int n = topo_n_nodes();
    CU_ASSERT(n >= 1);
    CU_ASSERT_EQUAL(n, numa_num_configured_nodes() > 1
                       ? numa_num_configured_nodes() : 1);
    long n_cpus = sysconf(_SC_NPROCESSORS_ONLN);
    for (int cpu = 0; cpu < n_cpus; cpu++) {
        int node = topo_node_of_cpu(cpu);
        CU_ASSERT(node >= 0 && node <= numa_max_node());
    }
    CU_ASSERT_EQUAL(topo_node_of_cpu(1 << 20), -1);     /* no such CPU */
}

static void
test_empty_and_unmapped(void)
{
    struct gmem mem;
    gmem_init(&mem);
    CU_ASSERT_EQUAL(topo_node_of_gmem(&mem), -1);

    long page = sysconf(_SC_PAGESIZE);
    void *p = mmap(NULL, (size_t) page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CU_ASSERT_FATAL(p != MAP_FAILED);
    CU_ASSERT(topo_node_of_addr(p) >= 0);
    munmap(p, (size_t) page);
    CU_ASSERT_EQUAL(topo_node_of_addr(p), -1);
}

/* The largest region decides, and its node is where its first page is. */
static void
test_guest_memory_node(void)
{
    struct gmem mem;
    gmem_init(&mem);
    add_region(&mem, 0, MiB);
    add_region(&mem, 16 * MiB, 4 * MiB);
    add_region(&mem, 64 * MiB, 2 * MiB);

    /* Bind the largest region, still untouched, to the highest node: its
     * first page is allocated there when topo looks it up. */
    int want = numa_max_node();
    unsigned long mask[16] = { 0 };
    mask[want / (8 * sizeof mask[0])] |= 1UL << (want % (8 * sizeof mask[0]));
    CU_ASSERT_FATAL(mbind(mem.regions[1].va, 4 * MiB, MPOL_BIND, mask,
                          8 * sizeof mask, 0) == 0);

    int node = topo_node_of_gmem(&mem);
    CU_ASSERT_EQUAL(node, want);
    CU_ASSERT_EQUAL(node, page_node(mem.regions[1].va));
    int first = topo_node_of_addr(mem.regions[0].va);  /* faults it in */
    CU_ASSERT(first >= 0);
    CU_ASSERT_EQUAL(first, page_node(mem.regions[0].va));

    /* A front end that truncates its memory file leaves pages that have
     * no node: unknown, not a crash.  The largest region still decides
     * (which is how this tells it apart from the first one on a machine
     * with a single node). */
    CU_ASSERT_FATAL(ftruncate(mem.regions[2].fd, 0) == 0);
    CU_ASSERT_FATAL(ftruncate(mem.regions[0].fd, 0) == 0);
    CU_ASSERT_EQUAL(topo_node_of_addr(mem.regions[2].va), -1);
    CU_ASSERT_EQUAL(topo_node_of_gmem(&mem), want);
    gmem_clear(&mem);
    CU_ASSERT_EQUAL(topo_node_of_gmem(&mem), -1);
}

static const struct cunit_test tests[] = {
    CUNIT_TEST(test_nodes_and_cpus),
    CUNIT_TEST(test_empty_and_unmapped),
    CUNIT_TEST(test_guest_memory_node),
};

int
main(void)
{
    if (numa_available() < 0) {
        return 77;      /* no NUMA support in this kernel or container */
    }
    return cunit_run("topo", tests, sizeof tests / sizeof tests[0]);
}
