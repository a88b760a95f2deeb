/* placement.h -- which worker owns each queue pair of each port.
 *
 * The owner of queue pair q of port p polls its receive side and is the
 * only thread that transmits into it.  Ports get a default owner per queue
 * when they are added (spread round robin); `vuswitchctl rebalance` (or the
 * --rebalance-interval timer) re-plans from the load each queue carried
 * since the last plan, and `vuswitchctl move-queue` pins one queue.
 *
 * Pure bookkeeping: the control thread applies a plan through the
 * ownership handshake (control.c, apply_plan), so nothing here touches a
 * worker.  Control thread only. */
#ifndef VU_PLACEMENT_H
#define VU_PLACEMENT_H 1

#include <stdint.h>

#include "stats.h"

#define PLACE_NONE (-1)

struct placement {
    unsigned n_workers;
    unsigned n_queues[STATS_MAX_PORTS];     /* 0: no such port */
    int8_t owner[STATS_MAX_PORTS][STATS_MAX_QUEUES];
};

/* A full assignment, the shape of placement.owner. */
typedef int8_t placement_plan_t[STATS_MAX_PORTS][STATS_MAX_QUEUES];

void placement_init(struct placement *, unsigned n_workers);

/* Gives the 'n_queues' queue pairs of port 'port' their default owners:
 * round robin, starting from the worker that owns the fewest queues. */
void placement_add_port(struct placement *, unsigned port, unsigned n_queues);
void placement_remove_port(struct placement *, unsigned port);

/* The owner of queue 'q' of 'port', or PLACE_NONE. */
int placement_owner(const struct placement *, unsigned port, unsigned q);

/* Plans owners for the given per-queue loads (any unit: frames since the
 * last plan): heaviest queue first, each to the worker with the least load
 * so far; a queue stays with its current owner when that is as good.
 * Writes the full assignment into 'plan' and returns how many queues it
 * moves. */
unsigned placement_plan(const struct placement *,
                        const uint64_t load[STATS_MAX_PORTS][STATS_MAX_QUEUES],
                        placement_plan_t plan);

#endif /* placement.h */
