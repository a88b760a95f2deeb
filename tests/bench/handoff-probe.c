/* handoff-probe.c -- measures what handing one cache line from CPU 0 to
 * CPU 1 and back costs right now.  These machines flip between a fast
 * state (~30 ns) and a slow one (~165 ns) (TESTBED.md, Measuring); every
 * benchmark run is labelled with the state measured just before and after.
 * Prints "handoff_ns=N state=fast|slow". */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static volatile uint64_t line __attribute__((aligned(64)));
static volatile int stop;

static void
pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *
pong(void *arg)
{
    pin(1);
    while (!stop) {
        uint64_t v = line;
        if (v & 1) {
            line = v + 1;
        }
    }
    return NULL;
}

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int
main(void)
{
    pthread_t t;
    pin(0);
    pthread_create(&t, NULL, pong, NULL);
    double t0 = now();
    uint64_t rounds = 0;
    while (now() - t0 < 0.3) {
        for (int i = 0; i < 1000; i++) {
            uint64_t v = line;
            line = v + 1;               /* odd: CPU 1's turn */
            while (line == v + 1) {
            }
        }
        rounds += 1000;
    }
    double ns = (now() - t0) * 1e9 / rounds / 2;
    stop = 1;
    pthread_join(t, NULL);
    printf("handoff_ns=%.0f state=%s\n", ns, ns < 80 ? "fast" : "slow");
    return 0;
}
