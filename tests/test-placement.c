/* test-placement.c -- the placement of queues on workers: defaults spread
 * round robin, a plan balances load with as few moves as it can, and with
 * a NUMA topology (faked here: workers on nodes we choose) a port's queues
 * go to the workers on its guest memory's node. */
#include <config.h>
#include "placement.h"

#include <string.h>

#include "cunit.h"

static uint64_t load[STATS_MAX_PORTS][STATS_MAX_QUEUES];

static void
test_default_spread(void)
{
    struct placement pl;
    placement_init(&pl, 2);
    placement_add_port(&pl, 0, 2);
    placement_add_port(&pl, 1, 1);
    placement_add_port(&pl, 2, 1);
    CU_ASSERT_EQUAL(placement_owner(&pl, 0, 0), 0);
    CU_ASSERT_EQUAL(placement_owner(&pl, 0, 1), 1);
    /* Equal counts: the first least-used worker. */
    CU_ASSERT_EQUAL(placement_owner(&pl, 1, 0), 0);
    CU_ASSERT_EQUAL(placement_owner(&pl, 2, 0), 1);
    CU_ASSERT_EQUAL(placement_owner(&pl, 0, 2), PLACE_NONE);
    placement_remove_port(&pl, 0);
    CU_ASSERT_EQUAL(placement_owner(&pl, 0, 0), PLACE_NONE);
}

static void
test_plan_balances(void)
{
    struct placement pl;
    placement_plan_t plan;
    placement_init(&pl, 2);
    placement_add_port(&pl, 0, 4);          /* owners 0 1 0 1 */
    memset(load, 0, sizeof load);
    load[0][0] = 100;
    load[0][2] = 90;                         /* both heavy on worker 0 */
    load[0][1] = 10;
    load[0][3] = 5;
    unsigned moves = placement_plan(&pl, load, plan);
    CU_ASSERT(moves >= 1);
    CU_ASSERT_NOT_EQUAL(plan[0][0], plan[0][2]);    /* split the heavy */
    uint64_t total[2] = { 0, 0 };
    for (int q = 0; q < 4; q++) {
        total[plan[0][q]] += load[0][q];
    }
    CU_ASSERT(total[0] <= 110 && total[1] <= 110);
}

static void
test_plan_idle_moves_nothing(void)
{
    struct placement pl;
    placement_plan_t plan;
    placement_init(&pl, 3);
    placement_add_port(&pl, 0, 3);
    placement_add_port(&pl, 5, 2);
    memset(load, 0, sizeof load);
    CU_ASSERT_EQUAL(placement_plan(&pl, load, plan), 0);
    CU_ASSERT(!memcmp(plan, pl.owner, sizeof plan));
}

static void
test_one_worker(void)
{
    struct placement pl;
    placement_plan_t plan;
    placement_init(&pl, 1);
    placement_add_port(&pl, 3, 16);
    memset(load, 0, sizeof load);
    load[3][7] = 1000;
    CU_ASSERT_EQUAL(placement_plan(&pl, load, plan), 0);
    for (int q = 0; q < 16; q++) {
        CU_ASSERT_EQUAL(plan[3][q], 0);
    }
}

/* Four workers, two on node 0 and two on node 1. */
static const int two_nodes[4] = { 0, 0, 1, 1 };

static void
init_two_nodes(struct placement *pl)
{
    placement_init(pl, 4);
    placement_set_worker_nodes(pl, two_nodes);
}

/* Applies 'plan' as control.c's apply_plan would, in one go. */
static void
apply(struct placement *pl, const placement_plan_t plan)
{
    memcpy(pl->owner, plan, sizeof pl->owner);
}

static bool
on_workers(const struct placement *pl, unsigned port, unsigned lo,
           unsigned hi)
{
    for (unsigned q = 0; q < pl->n_queues[port]; q++) {
        int w = placement_owner(pl, port, q);
        if (w < (int) lo || w > (int) hi) {
            return false;
        }
    }
    return true;
}

static void
test_numa_memory_node_attracts_queues(void)
{
    struct placement pl;
    placement_plan_t plan;
    init_two_nodes(&pl);
    placement_add_port(&pl, 0, 4);
    placement_add_port(&pl, 1, 4);
    /* Node unknown until the memory table arrives: all four workers. */
    CU_ASSERT_EQUAL(placement_port_node(&pl, 1), -1);
    for (int q = 0; q < 4; q++) {
        CU_ASSERT_EQUAL(placement_owner(&pl, 1, q), q);
    }

    /* Exactly the two queues on workers 0 and 1 move, one to each of the
     * node-1 workers; port 0 is left alone. */
    CU_ASSERT_EQUAL(placement_set_port_node(&pl, 1, 1, plan), 2);
    CU_ASSERT(!memcmp(plan[0], pl.owner[0], sizeof plan[0]));
    CU_ASSERT_EQUAL(plan[1][2], 2);
    CU_ASSERT_EQUAL(plan[1][3], 3);
    apply(&pl, plan);
    CU_ASSERT_EQUAL(placement_port_node(&pl, 1), 1);
    CU_ASSERT(on_workers(&pl, 1, 2, 3));
    unsigned on2 = 0;
    for (int q = 0; q < 4; q++) {
        on2 += placement_owner(&pl, 1, q) == 2;
    }
    CU_ASSERT_EQUAL(on2, 2);

    /* Told again: nothing to do. */
    CU_ASSERT_EQUAL(placement_set_port_node(&pl, 1, 1, plan), 0);

    /* The memory moves to node 0 (a new memory table). */
    CU_ASSERT_EQUAL(placement_set_port_node(&pl, 1, 0, plan), 4);
    apply(&pl, plan);
    CU_ASSERT(on_workers(&pl, 1, 0, 1));
}

static void
test_numa_unknown_node_keeps_all_workers(void)
{
    struct placement pl;
    placement_plan_t plan;
    init_two_nodes(&pl);
    placement_add_port(&pl, 0, 4);
    CU_ASSERT_EQUAL(placement_set_port_node(&pl, 0, 1, plan), 2);
    apply(&pl, plan);
    /* Disconnected (memory unmapped): queues stay where they are. */
    CU_ASSERT_EQUAL(placement_set_port_node(&pl, 0, -1, plan), 0);
    CU_ASSERT(!memcmp(plan, pl.owner, sizeof plan));
    CU_ASSERT_EQUAL(placement_port_node(&pl, 0), -1);

    /* A port added while no node is known spreads over all workers. */
    placement_add_port(&pl, 1, 4);
    bool used[4] = { false };
    for (int q = 0; q < 4; q++) {
        used[placement_owner(&pl, 1, q)] = true;
    }
    CU_ASSERT(used[0] && used[1] && used[2] && used[3]);
}

static void
test_numa_node_without_workers(void)
{
    struct placement pl;
    placement_plan_t plan;
    init_two_nodes(&pl);
    placement_add_port(&pl, 0, 4);
    CU_ASSERT(placement_node_has_workers(&pl, 1));
    CU_ASSERT(!placement_node_has_workers(&pl, 2));
    CU_ASSERT(!placement_node_has_workers(&pl, -1));
    CU_ASSERT_EQUAL(placement_set_port_node(&pl, 0, 2, plan), 0);
    CU_ASSERT(!memcmp(plan, pl.owner, sizeof plan));

    /* Load balancing then uses every worker. */
    memset(load, 0, sizeof load);
    for (int q = 0; q < 4; q++) {
        load[0][q] = 100;
    }
    pl.owner[0][1] = 0;                 /* two queues on worker 0 */
    CU_ASSERT_EQUAL(placement_plan(&pl, load, plan), 1);
    bool used[4] = { false };
    for (int q = 0; q < 4; q++) {
        used[plan[0][q]] = true;
    }
    CU_ASSERT(used[0] && used[1] && used[2] && used[3]);
}

static void
test_numa_plan_respects_nodes(void)
{
    struct placement pl;
    placement_plan_t plan;
    init_two_nodes(&pl);
    placement_add_port(&pl, 0, 4);
    placement_add_port(&pl, 1, 2);
    placement_set_port_node(&pl, 0, 1, plan);
    apply(&pl, plan);
    placement_set_port_node(&pl, 1, -1, plan);

    memset(load, 0, sizeof load);
    load[0][0] = 100;
    load[0][1] = 90;
    load[0][2] = 80;
    load[0][3] = 70;
    load[1][0] = 60;                    /* node unknown: anywhere */
    load[1][1] = 50;
    placement_plan(&pl, load, plan);

    uint64_t total[4] = { 0 };
    for (int p = 0; p < 2; p++) {
        for (int q = 0; q < 4; q++) {
            if (load[p][q]) {
                total[plan[p][q]] += load[p][q];
            }
        }
    }
    for (int q = 0; q < 4; q++) {
        CU_ASSERT(plan[0][q] == 2 || plan[0][q] == 3);
    }
    /* 340 on node 1 split 170/170; port 1 takes the idle node-0 workers. */
    CU_ASSERT_EQUAL(total[2], 170);
    CU_ASSERT_EQUAL(total[3], 170);
    CU_ASSERT_NOT_EQUAL(plan[1][0], plan[1][1]);
    CU_ASSERT(plan[1][0] <= 1 && plan[1][1] <= 1);

    /* A queue pinned off its node (move-queue) goes home at the next plan
     * even when idle, and the memory node's workers win over the rest. */
    pl.owner[0][0] = 0;
    memset(load, 0, sizeof load);
    CU_ASSERT_EQUAL(placement_plan(&pl, load, plan), 1);
    CU_ASSERT(plan[0][0] == 2 || plan[0][0] == 3);
}

/* With every worker and all memory on one node, placement is the same as
 * without any topology: same defaults, same plans, nothing moves when the
 * node becomes known. */
static void
test_numa_one_node_changes_nothing(void)
{
    static const int one_node[3] = { 0, 0, 0 };
    struct placement plain, numa;
    placement_plan_t plan_plain, plan_numa;
    placement_init(&plain, 3);
    placement_init(&numa, 3);
    placement_set_worker_nodes(&numa, one_node);

    static const unsigned ports[] = { 0, 5, 9, 2 };
    static const unsigned n_queues[] = { 3, 2, 5, 1 };
    for (int i = 0; i < 4; i++) {
        placement_add_port(&plain, ports[i], n_queues[i]);
        placement_add_port(&numa, ports[i], n_queues[i]);
        CU_ASSERT_EQUAL(placement_set_port_node(&numa, ports[i], 0,
                                                plan_numa), 0);
    }
    CU_ASSERT(!memcmp(plain.owner, numa.owner, sizeof plain.owner));

    uint32_t x = 12345;
    for (int round = 0; round < 20; round++) {
        memset(load, 0, sizeof load);
        for (int i = 0; i < 4; i++) {
            for (unsigned q = 0; q < n_queues[i]; q++) {
                x = x * 1103515245 + 12345;
                load[ports[i]][q] = (x >> 16) % 1000;
            }
        }
        unsigned m1 = placement_plan(&plain, load, plan_plain);
        unsigned m2 = placement_plan(&numa, load, plan_numa);
        CU_ASSERT_EQUAL(m1, m2);
        CU_ASSERT(!memcmp(plan_plain, plan_numa, sizeof plan_plain));
        apply(&plain, plan_plain);
        apply(&numa, plan_numa);
    }
}

/* The largest worker count: sets of workers are bit masks. */
static void
test_numa_max_workers(void)
{
    int nodes[STATS_MAX_WORKERS];
    struct placement pl;
    placement_plan_t plan;
    for (int w = 0; w < STATS_MAX_WORKERS; w++) {
        nodes[w] = w < STATS_MAX_WORKERS / 2 ? 0 : 1;
    }
    placement_init(&pl, STATS_MAX_WORKERS);
    placement_set_worker_nodes(&pl, nodes);
    placement_add_port(&pl, 7, STATS_MAX_QUEUES);
    placement_set_port_node(&pl, 7, 1, plan);
    apply(&pl, plan);
    bool used[STATS_MAX_WORKERS] = { false };
    for (int q = 0; q < STATS_MAX_QUEUES; q++) {
        int w = placement_owner(&pl, 7, q);
        CU_ASSERT(w >= STATS_MAX_WORKERS / 2 && w < STATS_MAX_WORKERS);
        CU_ASSERT(!used[w]);            /* one queue each */
        used[w] = true;
    }
    /* Removing the port forgets its node. */
    placement_remove_port(&pl, 7);
    placement_add_port(&pl, 7, 1);
    CU_ASSERT_EQUAL(placement_port_node(&pl, 7), -1);
}

static const struct cunit_test tests[] = {
    CUNIT_TEST(test_default_spread),
    CUNIT_TEST(test_plan_balances),
    CUNIT_TEST(test_plan_idle_moves_nothing),
    CUNIT_TEST(test_one_worker),
    CUNIT_TEST(test_numa_memory_node_attracts_queues),
    CUNIT_TEST(test_numa_unknown_node_keeps_all_workers),
    CUNIT_TEST(test_numa_node_without_workers),
    CUNIT_TEST(test_numa_plan_respects_nodes),
    CUNIT_TEST(test_numa_one_node_changes_nothing),
    CUNIT_TEST(test_numa_max_workers),
};

CUNIT_MAIN("placement", tests)
