/* util.h -- small helpers shared by every module: branch hints, cache-line
 * alignment, array sizes, relaxed/acquire/release access to memory that
 * another thread (or a guest) writes.  No state, no threads. */
#ifndef VU_UTIL_H
#define VU_UTIL_H 1

#include <stddef.h>
#include <stdint.h>

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* For a datapath helper with a flag the callers pass as a constant: each
 * caller gets its own copy, with the flag's branches folded away. */
#define ALWAYS_INLINE inline __attribute__((always_inline))

#define CACHE_LINE_SIZE 64
#define __cacheline_aligned __attribute__((aligned(CACHE_LINE_SIZE)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define CONTAINER_OF(ptr, type, member) \
    ((type *) (void *) ((char *) (ptr) - offsetof(type, member)))

/* Loads and stores of memory shared with another thread or a guest.
 * READ_ONCE on guest memory is how a value is read exactly once into a
 * local: validate the local, never re-read the guest's copy. */
#define READ_ONCE(x)      __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)  __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define LOAD_ACQUIRE(x)   __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE_RELEASE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* True if [a, a + size) wraps around the 64-bit address space. */
static inline int
range_wraps(uint64_t a, uint64_t size)
{
    return size && a + size - 1 < a;
}

#endif /* util.h */
