/* placement.c -- see placement.h. */
#include <config.h>
#include "placement.h"

#include <stdbool.h>
#include <string.h>

void
placement_init(struct placement *pl, unsigned n_workers)
{
    memset(pl, 0, sizeof *pl);
    memset(pl->owner, PLACE_NONE, sizeof pl->owner);
    pl->n_workers = n_workers ? n_workers : 1;
}

static unsigned
least_used_worker(const struct placement *pl)
{
    unsigned count[STATS_MAX_WORKERS] = { 0 };
    for (unsigned p = 0; p < STATS_MAX_PORTS; p++) {
        for (unsigned q = 0; q < pl->n_queues[p]; q++) {
            if (pl->owner[p][q] >= 0) {
                count[pl->owner[p][q]]++;
            }
        }
    }
    unsigned best = 0;
    for (unsigned w = 1; w < pl->n_workers; w++) {
        if (count[w] < count[best]) {
            best = w;
        }
    }
    return best;
}

void
placement_add_port(struct placement *pl, unsigned port, unsigned n_queues)
{
    unsigned w = least_used_worker(pl);
    pl->n_queues[port] = n_queues;
    for (unsigned q = 0; q < n_queues; q++) {
        pl->owner[port][q] = (int8_t) ((w + q) % pl->n_workers);
    }
}

void
placement_remove_port(struct placement *pl, unsigned port)
{
    pl->n_queues[port] = 0;
    memset(pl->owner[port], PLACE_NONE, sizeof pl->owner[port]);
}

int
placement_owner(const struct placement *pl, unsigned port, unsigned q)
{
    return q < pl->n_queues[port] ? pl->owner[port][q] : PLACE_NONE;
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
        /* The least loaded worker; the current owner wins ties. */
        int cur = pl->owner[bp][bq];
        unsigned best = cur >= 0 ? (unsigned) cur : 0;
        for (unsigned w = 0; w < pl->n_workers; w++) {
            if (total[w] < total[best]) {
                best = w;
            }
        }
        done[bp][bq] = true;
        total[best] += load[bp][bq];
        plan[bp][bq] = (int8_t) best;
        moves += cur != (int) best;
    }
}
