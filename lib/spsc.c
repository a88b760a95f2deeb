/* spsc.c -- see spsc.h. */
#include <config.h>
#include "spsc.h"

#include <numa.h>
#include <stddef.h>
#include <string.h>

struct spsc *
spsc_create(uint32_t n_slots, uint32_t slot_size, int node)
{
    if (!n_slots || n_slots & (n_slots - 1) || !slot_size) {
        return NULL;
    }
    slot_size = (slot_size + CACHE_LINE_SIZE - 1) & ~(CACHE_LINE_SIZE - 1);
    size_t size = offsetof(struct spsc, slots) + (size_t) n_slots * slot_size;
    struct spsc *r = node >= 0 && numa_available() >= 0
                     ? numa_alloc_onnode(size, node) : numa_alloc(size);
    if (!r) {
        return NULL;
    }
    memset(r, 0, offsetof(struct spsc, slots));
    r->mask = n_slots - 1;
    r->slot_size = slot_size;
    return r;
}

void
spsc_destroy(struct spsc *r)
{
    if (r) {
        numa_free(r, offsetof(struct spsc, slots)
                     + (size_t) (r->mask + 1) * r->slot_size);
    }
}
