/* spsc.h -- a lockless single-producer, single-consumer ring of fixed-size
 * slots, for handing frames from one worker to another.
 *
 *   slots:  [ . . . X X X X . . . ]
 *                   ^tail   ^head
 *   The producer fills slots at 'head' and publishes them by storing head
 *   (release); the consumer reads slots from 'tail' and frees them by
 *   storing tail (release).  Each index has one writer and lives on its own
 *   cache line; each side caches the other's index and re-reads it only
 *   when the cached value says the ring is full (or empty), so a steady
 *   stream costs one cache-line transfer per burst, not per frame.
 *
 * Threads: one producer and one consumer, fixed for the ring's life. */
#ifndef VU_SPSC_H
#define VU_SPSC_H 1

#include <stdint.h>

#include "util.h"

struct spsc {
    uint32_t mask;                  /* n_slots - 1 */
    uint32_t slot_size;

    uint32_t head __cacheline_aligned;  /* producer writes */
    uint32_t prod_head;                 /* producer: not yet published */
    uint32_t prod_tail_cache;

    uint32_t tail __cacheline_aligned;  /* consumer writes */
    uint32_t cons_head_cache;

    uint8_t slots[] __cacheline_aligned;
};

/* Allocates a ring of 'n_slots' (a power of two) slots of 'slot_size'
 * bytes on NUMA node 'node' (-1: anywhere).  NULL on failure. */
struct spsc *spsc_create(uint32_t n_slots, uint32_t slot_size, int node);
void spsc_destroy(struct spsc *);   /* NULL is a no-op */

static inline void *
spsc_slot(struct spsc *r, uint32_t idx)
{
    return r->slots + (size_t) (idx & r->mask) * r->slot_size;
}

/* Producer: a slot to fill, or NULL if the ring is full.  The slot becomes
 * visible to the consumer at the next spsc_publish(). */
static inline void *
spsc_reserve(struct spsc *r)
{
    if (unlikely(r->prod_head - r->prod_tail_cache > r->mask)) {
        r->prod_tail_cache = LOAD_ACQUIRE(r->tail);
        if (r->prod_head - r->prod_tail_cache > r->mask) {
            return NULL;
        }
    }
    return spsc_slot(r, r->prod_head++);
}

/* Producer: makes every reserved slot visible. */
static inline void
spsc_publish(struct spsc *r)
{
    if (r->prod_head != r->head) {
        STORE_RELEASE(r->head, r->prod_head);
    }
}

/* Consumer: how many slots are ready (at most 'max'); the first is
 * spsc_slot(r, r->tail). */
static inline uint32_t
spsc_ready(struct spsc *r, uint32_t max)
{
    uint32_t n = r->cons_head_cache - r->tail;
    if (!n) {
        r->cons_head_cache = LOAD_ACQUIRE(r->head);
        n = r->cons_head_cache - r->tail;
    }
    return n < max ? n : max;
}

/* Consumer: frees the 'n' oldest slots. */
static inline void
spsc_consume(struct spsc *r, uint32_t n)
{
    STORE_RELEASE(r->tail, r->tail + n);
}

#endif /* spsc.h */
