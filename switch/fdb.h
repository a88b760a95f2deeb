/* fdb.h -- the forwarding database: which port each MAC address was last
 * seen on, with aging.
 *
 * Workers learn and look up concurrently without locks: the table is a
 * fixed array of slots probed linearly from a hash of the MAC; a slot is
 * claimed with one compare-and-swap on its key and updated with plain
 * atomic stores.  Races are benign (a frame may go to the port a MAC was on
 * an instant ago).  An entry older than the aging time is as good as
 * absent and its slot can be reclaimed.  Learning writes only when the port
 * or the second changed, so a busy flow does not bounce cache lines.
 *
 * Time is a number of seconds from any clock shared by all callers
 * (workers derive it from the TSC); 0 means "never". */
#ifndef VU_FDB_H
#define VU_FDB_H 1

#include <stdint.h>

#define FDB_DEFAULT_AGING 300   /* seconds */
#define FDB_NONE (-1)

struct fdb;

/* Creates a table with room for at least 'n_entries' MACs (rounded up to a
 * power of two).  Returns NULL on allocation failure.  Control thread. */
struct fdb *fdb_create(unsigned n_entries, uint32_t aging_sec);
void fdb_destroy(struct fdb *);     /* NULL is a no-op */

/* Any thread: the MAC 'mac' was seen as a source on 'port' at 'now'.  A
 * broadcast or multicast source is ignored.  If the table is full the
 * entry is not learnt (flooding goes on). */
void fdb_learn(struct fdb *, const uint8_t mac[6], uint16_t port,
               uint32_t now);

/* Any thread: the port 'mac' was last seen on, or FDB_NONE if unknown or
 * aged out. */
int fdb_lookup(const struct fdb *, const uint8_t mac[6], uint32_t now);

/* Forgets every entry (port < 0) or the entries of one port.  Any thread. */
void fdb_flush(struct fdb *, int port);

void fdb_set_aging(struct fdb *, uint32_t aging_sec);
uint32_t fdb_get_aging(const struct fdb *);

/* Calls 'cb' for every live entry, with its age in seconds.  Returns the
 * number of entries visited.  Any thread (a concurrent learn may or may not
 * be seen). */
unsigned fdb_dump(const struct fdb *, uint32_t now,
                  void (*cb)(const uint8_t mac[6], uint16_t port,
                             uint32_t age, void *aux),
                  void *aux);

#endif /* fdb.h */
