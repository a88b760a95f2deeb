/* tsc.h -- the time-stamp counter: cheap cycle counts for the workers'
 * busy/idle accounting and a coarse clock for MAC aging without syscalls.
 * The TSC is constant and synchronized on the machines we run on. */
#ifndef VU_TSC_H
#define VU_TSC_H 1

#include <stdint.h>
#include <x86intrin.h>

static inline uint64_t
tsc_now(void)
{
    return __rdtsc();
}

/* TSC ticks per second, measured once against CLOCK_MONOTONIC (about
 * 20 ms, first call only).  Any thread. */
uint64_t tsc_hz(void);

#endif /* tsc.h */
