/* test-fdb.c -- the MAC table: learning, moves, aging, flushes, a full
 * table, and workers learning concurrently without corrupting it. */
#include <config.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "cunit.h"
#include "fdb.h"

static void
mac_of(uint32_t i, uint8_t mac[6])
{
    mac[0] = 0x52, mac[1] = 0x54;
    mac[2] = i >> 24, mac[3] = i >> 16, mac[4] = i >> 8, mac[5] = i;
}

static void
test_learn_lookup(void)
{
    struct fdb *fdb = fdb_create(64, 300);
    uint8_t a[6], b[6], c[6];
    mac_of(1, a), mac_of(2, b), mac_of(3, c);

    CU_ASSERT_EQUAL(fdb_lookup(fdb, a, 10), FDB_NONE);
    fdb_learn(fdb, a, 1, 10);
    fdb_learn(fdb, b, 2, 10);
    CU_ASSERT_EQUAL(fdb_lookup(fdb, a, 10), 1);
    CU_ASSERT_EQUAL(fdb_lookup(fdb, b, 11), 2);
    CU_ASSERT_EQUAL(fdb_lookup(fdb, c, 11), FDB_NONE);

    /* The all-zero MAC is a unicast address like any other. */
    uint8_t zero[6] = { 0 };
    fdb_learn(fdb, zero, 7, 10);
    CU_ASSERT_EQUAL(fdb_lookup(fdb, zero, 10), 7);
    fdb_destroy(fdb);
    fdb_destroy(NULL);
}

static void
count_entry(const uint8_t mac[6], uint16_t port, uint32_t age, void *aux)
{
    (void) mac, (void) port, (void) age, (void) aux;
}

static void
test_move(void)
{
    struct fdb *fdb = fdb_create(64, 300);
    uint8_t a[6];
    mac_of(1, a);
    fdb_learn(fdb, a, 1, 10);
    fdb_learn(fdb, a, 4, 10);       /* VM migrated: same second */
    CU_ASSERT_EQUAL(fdb_lookup(fdb, a, 10), 4);
    fdb_learn(fdb, a, 2, 12);
    CU_ASSERT_EQUAL(fdb_lookup(fdb, a, 12), 2);

    unsigned n = fdb_dump(fdb, 12, count_entry, NULL);
    CU_ASSERT_EQUAL(n, 1);          /* moved, not duplicated */
    fdb_destroy(fdb);
}

static void
test_aging(void)
{
    struct fdb *fdb = fdb_create(64, 300);
    uint8_t a[6], b[6];
    mac_of(1, a), mac_of(2, b);
    CU_ASSERT_EQUAL(fdb_get_aging(fdb), 300);
    fdb_learn(fdb, a, 1, 100);
    CU_ASSERT_EQUAL(fdb_lookup(fdb, a, 399), 1);
    CU_ASSERT_EQUAL(fdb_lookup(fdb, a, 400), FDB_NONE);
    fdb_learn(fdb, a, 1, 400);      /* relearnt */
    CU_ASSERT_EQUAL(fdb_lookup(fdb, a, 400), 1);

    /* A worker whose clock is a second behind still sees the entry. */
    CU_ASSERT_EQUAL(fdb_lookup(fdb, a, 399), 1);

    fdb_set_aging(fdb, 10);
    CU_ASSERT_EQUAL(fdb_get_aging(fdb), 10);
    CU_ASSERT_EQUAL(fdb_lookup(fdb, a, 409), 1);
    CU_ASSERT_EQUAL(fdb_lookup(fdb, a, 410), FDB_NONE);

    /* Time 0 from a caller is not "never". */
    fdb_learn(fdb, b, 3, 0);
    CU_ASSERT_EQUAL(fdb_lookup(fdb, b, 0), 3);
    fdb_destroy(fdb);
}

struct dump_result {
    unsigned n;
    uint8_t mac[6];
    uint16_t port;
    uint32_t age;
};

static void
record(const uint8_t mac[6], uint16_t port, uint32_t age, void *aux)
{
    struct dump_result *r = aux;
    memcpy(r->mac, mac, 6);
    r->port = port;
    r->age = age;
    r->n++;
}

static void
test_dump(void)
{
    struct fdb *fdb = fdb_create(64, 300);
    uint8_t a[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
    fdb_learn(fdb, a, 9, 1000);
    struct dump_result r = { 0 };
    CU_ASSERT_EQUAL(fdb_dump(fdb, 1042, record, &r), 1);
    CU_ASSERT_EQUAL(r.n, 1);
    CU_ASSERT_EQUAL(memcmp(r.mac, a, 6), 0);
    CU_ASSERT_EQUAL(r.port, 9);
    CU_ASSERT_EQUAL(r.age, 42);
    r.n = 0;
    CU_ASSERT_EQUAL(fdb_dump(fdb, 1300, record, &r), 0);  /* aged out */
    fdb_destroy(fdb);
}

static void
test_flush(void)
{
    struct fdb *fdb = fdb_create(256, 300);
    uint8_t mac[6];
    for (uint32_t i = 0; i < 100; i++) {
        mac_of(i, mac);
        fdb_learn(fdb, mac, i % 3, 50);
    }
    fdb_flush(fdb, 1);
    for (uint32_t i = 0; i < 100; i++) {
        mac_of(i, mac);
        CU_ASSERT_EQUAL(fdb_lookup(fdb, mac, 50),
                        i % 3 == 1 ? FDB_NONE : (int) (i % 3));
    }
    /* Flushed entries are relearnt in place. */
    mac_of(1, mac);
    fdb_learn(fdb, mac, 1, 51);
    CU_ASSERT_EQUAL(fdb_lookup(fdb, mac, 51), 1);

    fdb_flush(fdb, -1);
    struct dump_result r = { 0 };
    CU_ASSERT_EQUAL(fdb_dump(fdb, 51, record, &r), 0);
    for (uint32_t i = 0; i < 100; i++) {
        mac_of(i, mac);
        CU_ASSERT_EQUAL(fdb_lookup(fdb, mac, 51), FDB_NONE);
    }
    fdb_destroy(fdb);
}

static void
test_multicast_ignored(void)
{
    struct fdb *fdb = fdb_create(64, 300);
    uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
    uint8_t v6[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
    fdb_learn(fdb, bcast, 1, 10);
    fdb_learn(fdb, mcast, 1, 10);
    fdb_learn(fdb, v6, 1, 10);
    CU_ASSERT_EQUAL(fdb_lookup(fdb, bcast, 10), FDB_NONE);
    CU_ASSERT_EQUAL(fdb_lookup(fdb, mcast, 10), FDB_NONE);
    CU_ASSERT_EQUAL(fdb_lookup(fdb, v6, 10), FDB_NONE);
    struct dump_result r = { 0 };
    CU_ASSERT_EQUAL(fdb_dump(fdb, 10, record, &r), 0);
    fdb_destroy(fdb);
}

/* The requested room is really there, and beyond it learning stops
 * without harm: what was learnt stays right. */
static void
test_table_full(void)
{
    enum { ROOM = 1024 };
    struct fdb *fdb = fdb_create(ROOM, 300);
    uint8_t mac[6];
    for (uint32_t i = 0; i < ROOM; i++) {
        mac_of(i * 7919, mac);
        fdb_learn(fdb, mac, i & 63, 5);
    }
    unsigned found = 0;
    for (uint32_t i = 0; i < ROOM; i++) {
        mac_of(i * 7919, mac);
        found += fdb_lookup(fdb, mac, 5) == (int) (i & 63);
    }
    CU_ASSERT_EQUAL(found, ROOM);

    for (uint32_t i = ROOM; i < 20 * ROOM; i++) {
        mac_of(i * 7919, mac);
        fdb_learn(fdb, mac, i & 63, 5);
    }
    struct dump_result r = { 0 };
    unsigned n = fdb_dump(fdb, 5, record, &r);
    CU_ASSERT(n >= ROOM && n <= 4 * ROOM);
    for (uint32_t i = 0; i < 20 * ROOM; i++) {
        mac_of(i * 7919, mac);
        int port = fdb_lookup(fdb, mac, 5);
        CU_ASSERT(port == FDB_NONE || port == (int) (i & 63));
    }

    /* Once they age out, their slots are reused. */
    mac_of(0xabcdef, mac);
    fdb_learn(fdb, mac, 3, 400);
    CU_ASSERT_EQUAL(fdb_lookup(fdb, mac, 400), 3);
    fdb_destroy(fdb);
}

/* ---- Concurrency ----------------------------------------------------------
 * Two "workers" learn at once: each its own MACs (which must all end up
 * on the right port) and a shared set that both keep moving between their
 * ports (which must always resolve to one of the two, never to garbage).
 * A third thread looks up and flushes meanwhile. */

enum { PER_THREAD = 2000, SHARED = 500, ROUNDS = 50 };

struct learner {
    struct fdb *fdb;
    uint16_t port;
    uint32_t base;
};

static void *
learn_thread(void *arg)
{
    struct learner *l = arg;
    uint8_t mac[6];
    for (int round = 0; round < ROUNDS; round++) {
        for (uint32_t i = 0; i < PER_THREAD; i++) {
            mac_of(l->base + i, mac);
            fdb_learn(l->fdb, mac, l->port, 1 + round);
        }
        for (uint32_t i = 0; i < SHARED; i++) {
            mac_of(0x100000 + i, mac);
            fdb_learn(l->fdb, mac, l->port, 1 + round);
        }
    }
    return NULL;
}

static int bad_lookups;

static void *
lookup_thread(void *arg)
{
    struct fdb *fdb = arg;
    uint8_t mac[6];
    for (int round = 0; round < ROUNDS * 4; round++) {
        for (uint32_t i = 0; i < SHARED; i++) {
            mac_of(0x100000 + i, mac);
            int port = fdb_lookup(fdb, mac, 1 + round / 4);
            if (port != FDB_NONE && port != 1 && port != 2) {
                __atomic_add_fetch(&bad_lookups, 1, __ATOMIC_RELAXED);
            }
        }
        if (round % 16 == 0) {
            fdb_flush(fdb, 3);      /* a port nobody uses: harmless */
        }
    }
    return NULL;
}

static void
check_entry(const uint8_t mac[6], uint16_t port, uint32_t age, void *aux)
{
    int *bad = aux;
    if (mac[0] != 0x52 || mac[1] != 0x54 || (port != 1 && port != 2)
        || age > ROUNDS) {
        (*bad)++;
    }
}

static void
test_concurrent_learning(void)
{
    struct fdb *fdb = fdb_create(2 * PER_THREAD + SHARED, 300);
    struct learner a = { fdb, 1, 0x10000 }, b = { fdb, 2, 0x20000 };
    pthread_t ta, tb, tc;
    pthread_create(&ta, NULL, learn_thread, &a);
    pthread_create(&tb, NULL, learn_thread, &b);
    pthread_create(&tc, NULL, lookup_thread, fdb);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_join(tc, NULL);
    CU_ASSERT_EQUAL(bad_lookups, 0);

    uint8_t mac[6];
    unsigned wrong = 0;
    for (uint32_t i = 0; i < PER_THREAD; i++) {
        mac_of(a.base + i, mac);
        wrong += fdb_lookup(fdb, mac, ROUNDS) != 1;
        mac_of(b.base + i, mac);
        wrong += fdb_lookup(fdb, mac, ROUNDS) != 2;
    }
    CU_ASSERT_EQUAL(wrong, 0);
    for (uint32_t i = 0; i < SHARED; i++) {
        mac_of(0x100000 + i, mac);
        int port = fdb_lookup(fdb, mac, ROUNDS);
        CU_ASSERT(port == 1 || port == 2);
    }

    int bad = 0;
    unsigned n = fdb_dump(fdb, ROUNDS, check_entry, &bad);
    CU_ASSERT_EQUAL(bad, 0);
    /* Every MAC at least once; a rare concurrent first learn of a shared
     * MAC may leave a second copy, never many. */
    CU_ASSERT(n >= 2 * PER_THREAD + SHARED);
    CU_ASSERT(n <= 2 * PER_THREAD + 2 * SHARED);
    fdb_destroy(fdb);
}

static const struct cunit_test tests[] = {
    CUNIT_TEST(test_learn_lookup),
    CUNIT_TEST(test_move),
    CUNIT_TEST(test_aging),
    CUNIT_TEST(test_dump),
    CUNIT_TEST(test_flush),
    CUNIT_TEST(test_multicast_ignored),
    CUNIT_TEST(test_table_full),
    CUNIT_TEST(test_concurrent_learning),
};

CUNIT_MAIN("fdb", tests)
