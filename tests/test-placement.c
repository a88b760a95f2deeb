/* test-placement.c -- the placement of queues on workers: defaults spread
 * round robin, a plan balances load with as few moves as it can. */
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

static const struct cunit_test tests[] = {
    CUNIT_TEST(test_default_spread),
    CUNIT_TEST(test_plan_balances),
    CUNIT_TEST(test_plan_idle_moves_nothing),
    CUNIT_TEST(test_one_worker),
};

CUNIT_MAIN("placement", tests)
