/* tsc.c -- see tsc.h. */
#include <config.h>
#include "tsc.h"

#include <time.h>

#include "util.h"

static uint64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t
tsc_hz(void)
{
    static uint64_t hz;
    uint64_t cached = READ_ONCE(hz);
    if (cached) {
        return cached;
    }

    uint64_t t0 = mono_ns(), c0 = tsc_now();
    struct timespec pause = { 0, 20 * 1000 * 1000 };
    nanosleep(&pause, NULL);
    uint64_t t1 = mono_ns(), c1 = tsc_now();
    uint64_t measured = (c1 - c0) * 1000000000ull / (t1 - t0 ? t1 - t0 : 1);
    WRITE_ONCE(hz, measured ? measured : 1);
    return READ_ONCE(hz);
}
