/* topo.c -- see topo.h. */
#include <config.h>
#include "topo.h"

#include <numa.h>
#include <numaif.h>
#include <stdint.h>

#include "gmem.h"

int
topo_n_nodes(void)
{
    if (numa_available() < 0) {
        return 1;
    }
    int n = numa_num_configured_nodes();
    return n > 1 ? n : 1;
}

int
topo_node_of_cpu(int cpu)
{
    return numa_available() >= 0 ? numa_node_of_cpu(cpu) : -1;
}

int
topo_node_of_addr(const void *addr)
{
    int node;
    /* MPOL_F_NODE | MPOL_F_ADDR: not the policy of the range but the node
     * the page at 'addr' actually sits on. */
    if (numa_available() < 0
        || get_mempolicy(&node, NULL, 0, (void *) addr,
                         MPOL_F_NODE | MPOL_F_ADDR) < 0) {
        return -1;
    }
    return node;
}

int
topo_node_of_gmem(const struct gmem *mem)
{
    const struct gmem_region *largest = NULL;
    for (unsigned i = 0; i < mem->n_regions; i++) {
        const struct gmem_region *r = &mem->regions[i];
        if (!largest || r->size > largest->size) {
            largest = r;
        }
    }
    return largest ? topo_node_of_addr(largest->va) : -1;
}
