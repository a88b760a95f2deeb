/* topo.h -- the NUMA topology, as far as queue placement needs it: how many
 * nodes the machine has, which node a CPU belongs to and which node holds
 * the guest memory a front end shared with us.
 *
 * Placement (switch/control.c) asks for the node of each worker's CPU once
 * at startup, and for the node of a port's guest memory whenever the front
 * end's memory table changes, so that a port's queues can go to workers on
 * that node (DPDK's vhost library looks up the node of a ring the same way
 * before it reallocates the ring's metadata there).
 *
 * No state, no threads: every function asks libnuma or the kernel afresh.
 * Any thread may call them, but they make system calls: control path only. */
#ifndef VU_TOPO_H
#define VU_TOPO_H 1

struct gmem;

/* The number of NUMA nodes with memory; 1 when libnuma is unavailable
 * (then nothing else here knows a node either). */
int topo_n_nodes(void);

/* The node of 'cpu', or -1 when unknown. */
int topo_node_of_cpu(int cpu);

/* The node of the page that holds 'addr', which must be mapped; the
 * kernel faults the page in if nobody touched it yet.  -1 when unknown. */
int topo_node_of_addr(const void *addr);

/* The node of guest memory 'mem': that of the first page of its largest
 * region, where most of the guest's buffers are bound to be.  -1 when no
 * region is mapped or the node is unknown. */
int topo_node_of_gmem(const struct gmem *mem);

#endif /* topo.h */
