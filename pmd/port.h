/* port.h -- the one interface every port type implements (vhost-user, and
 * later TAP and pcap), and the frame descriptor workers pass between them.
 *
 * Two sides, two threads:
 *
 *   datapath (the worker that owns the queue):
 *     rx_burst   take up to n frames from a receive queue; they stay in the
 *                port's memory (for vhost: guest memory) until rx_release
 *     tx_burst   deliver frames to a transmit queue, copying them out of
 *                their source; report what happened to each
 *     rx_release give the received frames back to the source (for vhost:
 *                used ring, one index store, one notification check)
 *   control (the control thread):
 *     start, destroy, describe   open/close sockets or devices, fill the
 *                                stats description
 *
 * Frames are not copied on receive: a frame between two ports on the same
 * worker is copied once, from the source guest's memory into the
 * destination guest's buffers.
 *
 * Queue numbering: queue q is the pair (rx q, tx q).  For a vhost port, rx
 * q is the guest's transmit ring and tx q its receive ring. */
#ifndef VU_PORT_H
#define VU_PORT_H 1

#include <stdbool.h>
#include <stdint.h>

#include "options.h"
#include "stats.h"
#include "util.h"
#include "vq.h"

#define PORT_BURST 32               /* frames per burst */
#define PORT_SEG_POOL 2048          /* pieces per rx burst, all frames */
#define PORT_MAX_CHAIN_SEGS 512     /* pieces of one frame */
#define PORT_ETH_ADDRS 12           /* destination + source MAC */

/* A frame in flight inside one worker burst. */
struct pkt {
    struct vq_seg *segs;            /* frame bytes, virtio-net header
                                       already stripped */
    uint16_t n_segs;
    uint16_t drop;                  /* 0, or 1 + enum stats_drop */
    uint32_t len;                   /* frame bytes */
    uint32_t cookie;                /* the source port's (vhost: vq_chain.id) */
    uint8_t addrs[PORT_ETH_ADDRS];  /* copy of dst MAC, src MAC */
};

#define PKT_DROP(reason) ((uint16_t) ((reason) + 1))

struct port;
struct port_env;

struct port_class {
    const char *type;               /* "vhost", "tap", "pcap" */

    /* Worker.  Fills 'pkts' with up to 'n' frames from queue 'qid', their
     * pieces taken from 'pool' (PORT_SEG_POOL entries).  A frame that is
     * bad has 'drop' set (and is still returned, so that it is released
     * and counted).  Returns the number of entries filled. */
    unsigned (*rx_burst)(struct port *, unsigned qid, struct pkt *pkts,
                         unsigned n, struct vq_seg *pool);

    /* Worker.  Gives back all 'n' frames of the last rx_burst on 'qid'.
     * Stores the notification outcome in 'dir'.  A port that learns late
     * of frames lost before it could take them (a TAP whose kernel queue
     * overflowed) adds them here to both 'dir->packets' and a drop
     * reason, so that conservation holds. */
    void (*rx_release)(struct port *, unsigned qid, struct pkt *pkts,
                       unsigned n, struct stats_dir *dir);

    /* Worker.  Delivers 'n' frames to queue 'qid'.  For each frame stores
     * 0 (delivered) or PKT_DROP(reason) in 'results'.  Notification
     * outcome goes to 'dir'. */
    void (*tx_burst)(struct port *, unsigned qid, struct pkt *const *pkts,
                     unsigned n, uint16_t *results, struct stats_dir *dir);

    /* Control thread.  Opens what the port needs (sockets, devices).
     * Returns 0 or -errno with a message in 'err'. */
    int (*start)(struct port *, char *err, size_t err_size);

    /* Control thread, port not used by any worker: releases everything,
     * including the port itself. */
    void (*destroy)(struct port *);

    /* Control thread: fills the state and details of 'info' (called inside
     * the stats sequence lock). */
    void (*describe)(const struct port *, struct stats_port_info *info);

    /* Control thread: which queues a worker may use now.  'rx_live' set if
     * the rx side of 'qid' should be polled, 'rx_discard' if its frames
     * must be discarded (ring disabled), 'tx_live' if frames may be sent. */
    void (*queue_state)(const struct port *, unsigned qid, bool *rx_live,
                        bool *rx_discard, bool *tx_live);

    /* Control thread, periodic (about every 100 ms): retries, health. */
    void (*tick)(struct port *);

    /* Control thread, may be NULL: the NUMA node of the memory the port's
     * peer shares with us (for vhost: guest memory), or -1 if unknown.
     * Placement prefers workers on that node. */
    int (*mem_node)(const struct port *);
};

/* Services the control thread offers to ports (control thread only). */
struct port_watch {
    int fd;
    void (*cb)(struct port_watch *, uint32_t epoll_events);
};

struct port_env {
    /* Start/stop calling w->cb when w->fd is readable. */
    void (*watch)(struct port_env *, struct port_watch *w);
    void (*unwatch)(struct port_env *, struct port_watch *w);
    /* Returns once no worker touches any queue of 'port'. */
    void (*quiesce)(struct port_env *, struct port *);
    /* The port's queues or state changed: republish to the workers and
     * refresh its stats description. */
    void (*changed)(struct port_env *, struct port *);
    /* Teach the MAC table that 'mac' is behind 'port' (RARP). */
    void (*learn)(struct port_env *, struct port *, const uint8_t mac[6]);
};

struct port {
    const struct port_class *class;
    struct port_env *env;
    uint16_t id;                    /* index in the switch and stats */
    char name[STATS_NAME_SIZE];
    unsigned n_queues;              /* queue pairs */
    uint32_t max_frame;             /* MTU + Ethernet header + VLAN tag */
    struct stats_port *stats;       /* this port's slot */

    /* Set by a worker (any) that found the port's device misbehaving;
     * read by the control thread's tick, which disconnects it.  0 or
     * 1 + enum vq_err. */
    uint32_t broken;
};

/* Creates a port of the type 'spec' names.  Returns 0 and sets '*portp',
 * or -errno with a message in 'err'.  The port is not started. */
int port_create(const struct port_spec *, uint16_t id, struct port_env *,
                struct stats_port *, struct port **portp,
                char *err, size_t err_size);

/* Worker: records that the port's device violated the protocol. */
static inline void
port_mark_broken(struct port *port, int vq_err)
{
    if (!READ_ONCE(port->broken)) {
        WRITE_ONCE(port->broken, (uint32_t) (1 + vq_err));
    }
}

/* Worker, once at the end of every pass over its queues: what the pass's
 * bursts left to do across ports.  For vhost ports: the notification
 * checks, one fence for every ring published in the pass instead of one
 * per ring (each waits for the stores before it, into lines the guests
 * hold).  Owed work never outlives a pass, so the quiescent point at the
 * top of the next one (worker.h) finds none. */
void port_end_pass(void);

/* Control thread: class->mem_node(), or -1 for classes without one. */
int port_mem_node(const struct port *);

/* Control thread: rewrites the port's stats description. */
void port_publish_info(struct port *);

#endif /* port.h */
