/* fdb.c -- the MAC table (see fdb.h).  Every worker calls fdb_learn() and
 * fdb_lookup() once per frame; the control thread dumps and flushes.
 *
 * A slot is 16 bytes, four to a cache line:
 *
 *     key  = MAC (48 bits) | FDB_VALID (bit 48), 0 = never used
 *     val  = port << 32 | last-seen second, 0 second = expired
 *
 * The key is claimed once with a compare-and-swap (from 0, or from the old
 * key of an expired entry); after that a slot changes only through atomic
 * stores of 'val', so readers never see a torn port/second pair.  Keys
 * never go back to 0: a probe sequence stops at the first never-used slot,
 * and clearing a key would hide the entries behind it.  Forgetting an entry
 * therefore means storing second 0 (expired), and an expired slot is
 * reused by the next MAC that hashes near it.
 *
 * The races left are benign: two workers learning the same new MAC at the
 * same instant may claim two slots; lookups and later learns find the
 * first one in probe order, and the other one ages out.  A frame may go to
 * the port a MAC was on a moment ago. */
#include <config.h>
#include "fdb.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define FDB_VALID (1ull << 48)
#define FDB_PROBE 16            /* slots probed; bounds the cost per frame */
#define FDB_MIN_SLOTS 64

struct fdb_slot {
    uint64_t key;               /* written once by CAS, by any learner */
    uint64_t val;               /* port << 32 | second; any learner, flush */
};

struct fdb {
    struct fdb_slot *slots;
    uint64_t mask;              /* n_slots - 1 */
    unsigned shift;             /* 64 - log2(n_slots) */
    uint32_t aging;             /* seconds; control thread writes */
};

static inline uint64_t
mac_key(const uint8_t mac[6])
{
    return FDB_VALID | (uint64_t) mac[0] << 40 | (uint64_t) mac[1] << 32
           | (uint64_t) mac[2] << 24 | (uint64_t) mac[3] << 16
           | (uint64_t) mac[4] << 8 | mac[5];
}

/* Fibonacci hashing: the top bits of the product mix every MAC byte, and
 * a shift replaces the division. */
static inline uint64_t
slot_index(const struct fdb *fdb, uint64_t key)
{
    return (key * 0x9e3779b97f4a7c15ull) >> fdb->shift;
}

static inline uint64_t
make_val(uint16_t port, uint32_t sec)
{
    return (uint64_t) port << 32 | sec;
}

static inline uint16_t
val_port(uint64_t val)
{
    return val >> 32;
}

static inline uint32_t
val_sec(uint64_t val)
{
    return (uint32_t) val;
}

/* The clocks of two workers may be a second apart, so a 'seen' slightly
 * ahead of 'now' is recent, not 4 billion seconds old. */
static inline bool
val_expired(uint64_t val, uint32_t now, uint32_t aging)
{
    uint32_t sec = val_sec(val);
    return sec == 0 || (int32_t) (now - sec) >= (int32_t) aging;
}

struct fdb *
fdb_create(unsigned n_entries, uint32_t aging_sec)
{
    /* Twice the requested room, so that bounded probing still finds a slot
     * for every wanted entry at full load. */
    uint64_t n_slots = FDB_MIN_SLOTS;
    unsigned bits = 6;
    while (n_slots < 2ull * n_entries && bits < 31) {
        n_slots <<= 1;
        bits++;
    }

    struct fdb *fdb = calloc(1, sizeof *fdb);
    if (!fdb) {
        return NULL;
    }
    fdb->slots = aligned_alloc(CACHE_LINE_SIZE, n_slots * sizeof *fdb->slots);
    if (!fdb->slots) {
        free(fdb);
        return NULL;
    }
    memset(fdb->slots, 0, n_slots * sizeof *fdb->slots);
    fdb->mask = n_slots - 1;
    fdb->shift = 64 - bits;
    fdb->aging = aging_sec ? aging_sec : FDB_DEFAULT_AGING;
    return fdb;
}

void
fdb_destroy(struct fdb *fdb)
{
    if (fdb) {
        free(fdb->slots);
        free(fdb);
    }
}

/* Updates a live entry, writing only when something changed: a busy flow
 * re-learns its MAC on every frame and must not dirty the line each time. */
static inline void
refresh(struct fdb_slot *s, uint16_t port, uint32_t now)
{
    uint64_t val = make_val(port, now);
    if (READ_ONCE(s->val) != val) {
        STORE_RELEASE(s->val, val);
    }
}

/* Takes over 's', seen holding 'old_key' and 'old_val' (never used, or
 * expired), for 'key'.  The old entry is first marked expired by a CAS on
 * its value, which fails if its MAC was refreshed meanwhile (it stays), and
 * which guarantees that a reader that sees the new key sees no stale port.
 * Returns false if another thread changed the slot first. */
static bool
claim(struct fdb_slot *s, uint64_t old_key, uint64_t old_val, uint64_t key,
      uint64_t val)
{
    if (old_val && !__atomic_compare_exchange_n(&s->val, &old_val, 0, false,
                                                __ATOMIC_ACQ_REL,
                                                __ATOMIC_RELAXED)) {
        return false;
    }
    if (!__atomic_compare_exchange_n(&s->key, &old_key, key, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
        return false;
    }
    STORE_RELEASE(s->val, val);
    return true;
}

/* One probe pass: refreshes 'key' where it is, or claims the first
 * reusable slot.  Returns false if a concurrent claim beat us to it. */
static bool
learn_pass(struct fdb *fdb, uint64_t key, uint16_t port, uint32_t now,
           uint32_t aging)
{
    struct fdb_slot *free_slot = NULL;
    uint64_t free_key = 0, free_val = 0;
    uint64_t i = slot_index(fdb, key);

    for (int n = 0; n < FDB_PROBE; n++, i = (i + 1) & fdb->mask) {
        struct fdb_slot *s = &fdb->slots[i];
        uint64_t k = LOAD_ACQUIRE(s->key);
        if (k == key) {
            refresh(s, port, now);
            return true;
        }
        uint64_t val = LOAD_ACQUIRE(s->val);
        if (k == 0 || val_expired(val, now, aging)) {
            if (!free_slot) {
                free_slot = s;
                free_key = k;
                free_val = val;
            }
            if (k == 0) {
                break;          /* the key cannot be further on */
            }
        }
    }
    if (!free_slot) {
        return true;            /* full here: not learnt, flooding goes on */
    }
    return claim(free_slot, free_key, free_val, key, make_val(port, now));
}

void
fdb_learn(struct fdb *fdb, const uint8_t mac[6], uint16_t port, uint32_t now)
{
    if (unlikely(mac[0] & 1)) {
        return;                 /* group address: never a source */
    }
    now = now ? now : 1;        /* second 0 means "expired" */
    uint64_t key = mac_key(mac);
    uint32_t aging = READ_ONCE(fdb->aging);
    for (int tries = 0; tries < 3; tries++) {
        if (learn_pass(fdb, key, port, now, aging)) {
            return;
        }
    }
}

int
fdb_lookup(const struct fdb *fdb, const uint8_t mac[6], uint32_t now)
{
    uint64_t key = mac_key(mac);
    uint64_t i = slot_index(fdb, key);
    uint32_t aging = READ_ONCE(fdb->aging);
    now = now ? now : 1;

    for (int n = 0; n < FDB_PROBE; n++, i = (i + 1) & fdb->mask) {
        const struct fdb_slot *s = &fdb->slots[i];
        uint64_t k = LOAD_ACQUIRE(s->key);
        if (k == key) {
            uint64_t val = LOAD_ACQUIRE(s->val);
            return val_expired(val, now, aging) ? FDB_NONE : val_port(val);
        }
        if (k == 0) {
            break;
        }
    }
    return FDB_NONE;
}

void
fdb_flush(struct fdb *fdb, int port)
{
    for (uint64_t i = 0; i <= fdb->mask; i++) {
        struct fdb_slot *s = &fdb->slots[i];
        uint64_t val = LOAD_ACQUIRE(s->val);
        while (val_sec(val) && (port < 0 || val_port(val) == port)) {
            /* CAS so that a learner that just moved the MAC to another
             * port keeps its fresh entry. */
            if (__atomic_compare_exchange_n(&s->val, &val,
                                            make_val(val_port(val), 0),
                                            false, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                break;
            }
        }
    }
}

void
fdb_set_aging(struct fdb *fdb, uint32_t aging_sec)
{
    WRITE_ONCE(fdb->aging, aging_sec ? aging_sec : FDB_DEFAULT_AGING);
}

uint32_t
fdb_get_aging(const struct fdb *fdb)
{
    return READ_ONCE(fdb->aging);
}

unsigned
fdb_dump(const struct fdb *fdb, uint32_t now,
         void (*cb)(const uint8_t mac[6], uint16_t port, uint32_t age,
                    void *aux),
         void *aux)
{
    uint32_t aging = READ_ONCE(fdb->aging);
    unsigned n = 0;
    now = now ? now : 1;
    for (uint64_t i = 0; i <= fdb->mask; i++) {
        const struct fdb_slot *s = &fdb->slots[i];
        uint64_t key = LOAD_ACQUIRE(s->key);
        uint64_t val = LOAD_ACQUIRE(s->val);
        if (!key || val_expired(val, now, aging)) {
            continue;
        }
        uint8_t mac[6];
        for (int b = 0; b < 6; b++) {
            mac[b] = key >> (40 - 8 * b);
        }
        int32_t age = (int32_t) (now - val_sec(val));
        cb(mac, val_port(val), age > 0 ? (uint32_t) age : 0, aux);
        n++;
    }
    return n;
}
