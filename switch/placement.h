/* placement.h -- which worker owns each queue pair of each port.
 *
 * The owner of queue pair q of port p polls its receive side and is the
 * only thread that transmits into it.  Ports get a default owner per queue
 * when they are added (spread round robin); `vuswitchctl rebalance` (or the
 * --rebalance-interval timer) re-plans from the load each queue carried
 * since the last plan, and `vuswitchctl move-queue` pins one queue.
 *
 * NUMA.  Once told the node of each worker and the node of a port's guest
 * memory, placement keeps the port's queues on the workers of that node
 * (its "preferred" workers), so that the copies into and out of the guest
 * stay node-local: OVS does the same with the rx queues of a vhost port.
 * When no worker is on that node, or the node is unknown, every worker is
 * preferred; with all nodes unknown (one-node machines) placement is
 * exactly round robin and load balancing.
 *
 * Pure bookkeeping: the control thread applies a plan through the
 * ownership handshake (control.c, apply_plan), so nothing here touches a
 * worker.  Control thread only. */
#ifndef VU_PLACEMENT_H
#define VU_PLACEMENT_H 1

#include <stdbool.h>
#include <stdint.h>

#include "stats.h"

#define PLACE_NONE (-1)

struct placement {
    unsigned n_workers;
    int worker_node[STATS_MAX_WORKERS];     /* NUMA node, -1: unknown */
    int port_node[STATS_MAX_PORTS];         /* node of its memory, -1 */
    unsigned n_queues[STATS_MAX_PORTS];     /* 0: no such port */
    int8_t owner[STATS_MAX_PORTS][STATS_MAX_QUEUES];
};

/* A full assignment, the shape of placement.owner. */
typedef int8_t placement_plan_t[STATS_MAX_PORTS][STATS_MAX_QUEUES];

/* Every node unknown: no NUMA preference until placement_set_worker_nodes
 * and placement_set_port_node say otherwise. */
void placement_init(struct placement *, unsigned n_workers);

/* Records the NUMA node of each worker: 'nodes' has n_workers entries, -1
 * for unknown.  Call before adding ports. */
void placement_set_worker_nodes(struct placement *, const int *nodes);

/* Gives the 'n_queues' queue pairs of port 'port' their default owners:
 * round robin over the port's preferred workers, starting from the one
 * that owns the fewest queues.  The port's node starts unknown. */
void placement_add_port(struct placement *, unsigned port, unsigned n_queues);
void placement_remove_port(struct placement *, unsigned port);

/* The owner of queue 'q' of 'port', or PLACE_NONE. */
int placement_owner(const struct placement *, unsigned port, unsigned q);

/* Records that the memory of 'port' is on NUMA node 'node' (-1: unknown).
 * Writes into 'plan' the full assignment in which each queue of 'port'
 * whose owner is not among its preferred workers now goes to the preferred
 * worker owning the fewest queues, and returns how many queues that moves
 * (none when the node is unknown: queues stay where they are). */
unsigned placement_set_port_node(struct placement *, unsigned port, int node,
                                 placement_plan_t plan);

/* The node last recorded for 'port'. */
int placement_port_node(const struct placement *, unsigned port);

/* Whether some worker is on NUMA node 'node'. */
bool placement_node_has_workers(const struct placement *, int node);

/* Plans owners for the given per-queue loads (any unit: frames since the
 * last plan): heaviest queue first, each to the least loaded so far of its
 * port's preferred workers; a queue stays with its current owner when that
 * is as good.  Writes the full assignment into 'plan' and returns how many
 * queues it moves. */
unsigned placement_plan(const struct placement *,
                        const uint64_t load[STATS_MAX_PORTS][STATS_MAX_QUEUES],
                        placement_plan_t plan);

#endif /* placement.h */
