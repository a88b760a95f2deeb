/* worker.h -- a pinned, busy-polling worker thread and the handshake by
 * which the control thread hands it work.
 *
 * A worker owns the queues its configuration lists: it polls their receive
 * side, switches each frame (MAC learning, lookup, flooding) and transmits
 * into the destination ports' queues that it owns.  It takes no lock and
 * makes no blocking call.
 *
 * The ownership handshake (a quiescent-state barrier, like OVS's pmd
 * reload): the control thread builds a complete new configuration, stores
 * a pointer to it and bumps 'req_seq'; at the top of its loop, between two
 * bursts, the worker adopts the new configuration and copies req_seq into
 * 'ack_seq'.  Once the control thread sees the ack, the worker holds no
 * pointer into anything the old configuration named: rings may be stopped,
 * memory unmapped, ports (and capture sinks) freed. */
#ifndef VU_WORKER_H
#define VU_WORKER_H 1

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "port.h"
#include "stats.h"

struct fdb;

#define WORKER_MAX_RXQS (STATS_MAX_PORTS * STATS_MAX_QUEUES)

/* A receive queue the worker polls. */
struct worker_rxq {
    struct port *port;
    uint16_t qid;
    bool discard;                   /* ring disabled: drain and count */
    struct stats_dir *stats;        /* rx side of that queue */
};

/* The transmit queue the worker uses for a port. */
struct worker_txq {
    struct port *port;              /* NULL: not reachable from here */
    uint16_t qid;
    struct stats_dir *stats;        /* tx side of that queue */
};

/* Where this worker copies the frames of a port under capture
 * (`vuswitchctl capture`).  The sink is a pcap port that is not part of
 * the switching fabric: no MAC is ever learnt on it, nothing floods to it,
 * it has no entry in txqs[].  Its queue 'qid' is this worker's own ring
 * into the capture's writer thread, so that each ring keeps a single
 * producer however many workers mirror the port (one polls its receive
 * queue, another owns its transmit queue, others hand frames over).
 *
 * Accounting: copies are counted on the capture's own stats slot (type
 * "pcap", named "capture:PORT"), tx side of queue 'qid' ('stats', which
 * this worker alone writes): tx_packets for frames offered to the capture
 * (taken into the ring, or rejected by its filter), drops.sink_full for
 * frames lost because the writer fell behind.  The captured port's
 * counters never change: a capture never changes what happens to a frame,
 * so conservation of the switch holds with or without it. */
struct worker_mirror {
    struct port *sink;              /* NULL: the port is not captured */
    uint16_t qid;
    bool rx;                        /* copy frames taken from the port */
    bool tx;                        /* copy frames delivered to the port */
    struct stats_dir *stats;        /* the sink's queue 'qid', tx side */
};

/* Immutable once published; freed by the control thread after the ack
 * that retires it. */
struct worker_conf {
    unsigned n_rxqs;
    unsigned n_flood;
    uint16_t flood[STATS_MAX_PORTS];            /* reachable port ids */
    struct worker_txq txqs[STATS_MAX_PORTS];    /* by port id */
    int8_t remote[STATS_MAX_PORTS];             /* by port id: the worker
                                                   that transmits to it when
                                                   txqs[] has no port here,
                                                   or -1 */
    struct worker_mirror mirrors[STATS_MAX_PORTS];  /* by port id */
    struct worker_rxq rxqs[];                   /* n_rxqs entries */
};

struct worker;

/* Control thread: allocates a worker for 'cpu' (memory on the CPU's NUMA
 * node) and starts its thread pinned to it, with an empty configuration.
 * 'clock_sec' is a seconds counter the control thread advances (MAC
 * aging).  Returns 0 and sets '*wp', or -errno. */
int worker_create(unsigned id, int cpu, struct fdb *, const uint32_t *clock_sec,
                  struct stats_worker *, struct worker **wp);

/* Control thread, before any configuration names a remote worker:
 * creates the handoff rings between every pair of 'n' workers.  Returns 0
 * or -ENOMEM. */
int worker_connect_all(struct worker **workers, unsigned n);

/* Control thread: hands 'conf' to the worker and waits until the worker
 * has adopted it.  Returns the configuration it retired (the caller frees
 * it; NULL for the initial empty one). */
struct worker_conf *worker_reconfigure(struct worker *, struct worker_conf *);

/* Control thread: stops and joins the thread (idempotent).  Stop every
 * worker before destroying any: they share handoff rings. */
void worker_stop(struct worker *);

/* Control thread: stops and joins the thread, frees the worker and its
 * current configuration.  NULL is a no-op. */
void worker_destroy(struct worker *);

int worker_cpu(const struct worker *);

/* For tests and benchmarks: one pass over all queues (what the thread does
 * in a loop).  Returns frames processed. */
unsigned worker_poll_once(struct worker *);

#endif /* worker.h */
