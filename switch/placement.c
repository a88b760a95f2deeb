/* placement.c -- see placement.h.
 *
 * Sets of workers are bit masks (bit w: worker w), which STATS_MAX_WORKERS
 * lets fit in 64 bits. */
#include <config.h>
#include "placement.h"

#include <string.h>

_Static_assert(STATS_MAX_WORKERS <= 64, "worker sets are 64-bit masks");

#define BIT(w) (UINT64_C(1) << (w))

void
placement_init(struct placement *pl, unsigned n_workers)
{
    memset(pl, 0, sizeof *pl);
    memset(pl->owner, PLACE_NONE, sizeof pl->owner);
    pl->n_workers = n_workers ? n_workers : 1;
    for (unsigned w = 0; w < STATS_MAX_WORKERS; w++) {
        pl->worker_node[w] = -1;
    }
    for (unsigned p = 0; p < STATS_MAX_PORTS; p++) {
        pl->port_node[p] = -1;
    }
}

void
placement_set_worker_nodes(struct placement *pl, const int *nodes)
{
    for (unsigned w = 0; w < pl->n_workers; w++) {
        pl->worker_node[w] = nodes[w];
    }
}

static uint64_t
workers_on_node(const struct placement *pl, int node)
{
    uint64_t set = 0;
    for (unsigned w = 0; w < pl->n_workers; w++) {
        if (node >= 0 && pl->worker_node[w] == node) {
            set |= BIT(w);
        }
    }
    return set;
}

/* The workers that may own queues of 'port': those on its memory's node,
 * or all when there are none (node unknown, or no worker there). */
static uint64_t
preferred(const struct placement *pl, unsigned port)
{
    uint64_t set = workers_on_node(pl, pl->port_node[port]);
    return set ? set : BIT(pl->n_workers) - 1;
}

/* How many queues each worker owns in 'owner'. */
static void
count_queues(const struct placement *pl, const placement_plan_t owner,
             unsigned count[STATS_MAX_WORKERS])
{
    memset(count, 0, STATS_MAX_WORKERS * sizeof count[0]);
    for (unsigned p = 0; p < STATS_MAX_PORTS; p++) {
        for (unsigned q = 0; q < pl->n_queues[p]; q++) {
            if (owner[p][q] >= 0) {
                count[owner[p][q]]++;
            }
        }
    }
}

/* The worker of 'set' (not empty) with the smallest count; the lowest
 * numbered wins ties. */
static unsigned
least_used(const struct placement *pl, uint64_t set,
           const unsigned count[STATS_MAX_WORKERS])
{
    int best = -1;
    for (unsigned w = 0; w < pl->n_workers; w++) {
        if (set & BIT(w) && (best < 0 || count[w] < count[best])) {
            best = (int) w;
        }
    }
    return (unsigned) best;
}

/* The worker after 'w' in 'set', wrapping around. */
static unsigned
next_in_set(const struct placement *pl, uint64_t set, unsigned w)
{
    do {
        w = (w + 1) % pl->n_workers;
    } while (!(set & BIT(w)));
    return w;
}

void
placement_add_port(struct placement *pl, unsigned port, unsigned n_queues)
{
    unsigned count[STATS_MAX_WORKERS];
    uint64_t set = preferred(pl, port);
    count_queues(pl, pl->owner, count);
    unsigned w = least_used(pl, set, count);
    pl->n_queues[port] = n_queues;
    for (unsigned q = 0; q < n_queues; q++) {
        pl->owner[port][q] = (int8_t) w;
        w = next_in_set(pl, set, w);
    }
}

void
placement_remove_port(struct placement *pl, unsigned port)
{
    pl->n_queues[port] = 0;
    pl->port_node[port] = -1;
    memset(pl->owner[port], PLACE_NONE, sizeof pl->owner[port]);
}

int
placement_owner(const struct placement *pl, unsigned port, unsigned q)
{
    return q < pl->n_queues[port] ? pl->owner[port][q] : PLACE_NONE;
}

unsigned
placement_set_port_node(struct placement *pl, unsigned port, int node,
                        placement_plan_t plan)
{
    unsigned count[STATS_MAX_WORKERS];
    unsigned moves = 0;

    memcpy(plan, pl->owner, sizeof pl->owner);
    pl->port_node[port] = node;
    uint64_t set = preferred(pl, port);
    count_queues(pl, plan, count);
    for (unsigned q = 0; q < pl->n_queues[port]; q++) {
        int cur = plan[port][q];
        if (cur >= 0 && set & BIT(cur)) {
            continue;
        }
        unsigned w = least_used(pl, set, count);
        if (cur >= 0) {
            count[cur]--;
        }
        count[w]++;
        plan[port][q] = (int8_t) w;
        moves++;
    }
    return moves;
}

int
placement_port_node(const struct placement *pl, unsigned port)
{
    return pl->port_node[port];
}

bool
placement_node_has_workers(const struct placement *pl, int node)
{
    return workers_on_node(pl, node) != 0;
}

unsigned
placement_plan(const struct placement *pl,
               const uint64_t load[STATS_MAX_PORTS][STATS_MAX_QUEUES],
               placement_plan_t plan)
{
    bool done[STATS_MAX_PORTS][STATS_MAX_QUEUES] = { { false } };
    uint64_t total[STATS_MAX_WORKERS] = { 0 };
    unsigned moves = 0;

    memcpy(plan, pl->owner, sizeof pl->owner);
    for (;;) {
        /* The heaviest queue not placed yet. */
        int bp = -1, bq = -1;
        for (unsigned p = 0; p < STATS_MAX_PORTS; p++) {
            for (unsigned q = 0; q < pl->n_queues[p]; q++) {
                if (!done[p][q] && (bp < 0 || load[p][q] > load[bp][bq])) {
                    bp = (int) p;
                    bq = (int) q;
                }
            }
        }
        if (bp < 0) {
            return moves;
        }
        /* The least loaded preferred worker; the current owner wins ties
         * (if it is a preferred one). */
        uint64_t set = preferred(pl, (unsigned) bp);
        int cur = pl->owner[bp][bq];
        unsigned best = cur >= 0 && set & BIT(cur)
                        ? (unsigned) cur : (unsigned) __builtin_ctzll(set);
        for (unsigned w = 0; w < pl->n_workers; w++) {
            if (set & BIT(w) && total[w] < total[best]) {
                best = w;
            }
        }
        done[bp][bq] = true;
        total[best] += load[bp][bq];
        plan[bp][bq] = (int8_t) best;
        moves += cur != (int) best;
    }
}
