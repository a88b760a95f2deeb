/* stats.h -- the layout of the statistics segment that the daemon writes
 * and vuswitchctl maps read-only.
 *
 * The daemon creates the segment (a memfd) at start; vuswitchctl asks the
 * control socket for it ("stats-fd") and receives a read-only fd.  Nothing
 * is left in /dev/shm when the daemon dies.
 *
 *   struct stats_segment
 *     header (magic, version, sizes, tsc_hz, pid)
 *     workers[STATS_MAX_WORKERS]   one cache line each, written by that worker
 *     ports[STATS_MAX_PORTS]
 *       description (name, type, state, features, owners...): written by
 *         the control thread inside a sequence lock (seq odd while writing)
 *       queues[STATS_MAX_QUEUES]
 *         rx: frames taken from the port on this queue; written by the worker
 *             that polls the port's transmit ring (guest TX);
 *         tx: frames delivered to the port on this queue; written by the
 *             worker that owns the port's receive ring (guest RX).
 *
 * Counters have exactly one writer at a time (the owner, which changes only
 * through the ownership handshake), which updates them with plain
 * WRITE_ONCE stores; readers load them with READ_ONCE.  No locks, no atomic
 * read-modify-write on the hot path.
 *
 * Conservation, per port:  rx_packets = forwarded + sum(rx drops)
 * and for every copy handed to an egress queue:  tx_packets + sum(tx drops).
 */
#ifndef VU_STATS_H
#define VU_STATS_H 1

#include <stdint.h>

#include "util.h"

#define STATS_MAGIC 0x31544154535556ULL       /* "VUSTAT1" */
#define STATS_VERSION 3
#define STATS_MAX_PORTS 64
#define STATS_MAX_QUEUES 16
#define STATS_MAX_WORKERS 32
#define STATS_NAME_SIZE 32
#define STATS_STATE_SIZE 96

/* Why a frame was dropped.  Keep in step with stats_drop_names. */
enum stats_drop {
    DROP_DST_RING_FULL,     /* handoff ring to another worker was full */
    DROP_NO_RX_BUFFERS,     /* destination guest posted no receive buffers */
    DROP_MTU_EXCEEDED,      /* frame longer than the port's MTU allows */
    DROP_BAD_DESCRIPTOR,    /* malformed descriptor chain */
    DROP_BAD_ADDRESS,       /* buffer outside the guest's memory */
    DROP_HEADER_TOO_SHORT,  /* chain shorter than the virtio-net header
                               (or than an Ethernet header) */
    DROP_PORT_DOWN,         /* destination port not connected / ring not live */
    DROP_RING_DISABLED,     /* ring started but disabled by the front end */
    DROP_SINK_FULL,         /* a slow consumer (pcap, tap) fell behind */
    DROP_NO_DESTINATION,    /* nowhere to send it (e.g. only port) */
    N_DROP_REASONS
};

extern const char *const stats_drop_names[N_DROP_REASONS];

/* One direction of one queue.  One writer. */
struct stats_dir {
    uint64_t packets;
    uint64_t bytes;
    uint64_t drops[N_DROP_REASONS];
    uint64_t notify_sent;       /* guest signalled (call fd written) */
    uint64_t notify_suppressed; /* guest asked not to be signalled */
    uint64_t kicks;             /* guest kicks seen; written by the
                                   control thread, which reads them */
    uint64_t flooded;           /* rx: frames sent to every other port
                                   (broadcast, multicast, unknown
                                   destination); a subset of packets */
} __cacheline_aligned;

struct stats_queue {
    struct stats_dir rx;        /* from the guest's transmit ring */
    struct stats_dir tx;        /* into the guest's receive ring */
};

/* The description of a port: control thread only, under 'seq'. */
struct stats_port_info {
    uint32_t seq;               /* odd while being written */
    uint32_t in_use;            /* slot holds a port */
    char name[STATS_NAME_SIZE];
    char type[16];              /* "vhost", "tap", "pcap" */
    char state[STATS_STATE_SIZE]; /* listening, connected, up, down,
                                     broken: REASON */
    char path[108];             /* socket path, interface or file */
    uint64_t features;          /* negotiated virtio features */
    uint64_t protocol_features;
    uint32_t n_queues;          /* queue pairs configured */
    uint32_t n_active_queues;   /* queue pairs in use (vhost: enabled) */
    uint32_t mtu;
    uint32_t n_regions;         /* guest memory regions mapped */
    uint64_t mem_size;          /* bytes of guest memory mapped */
    uint16_t rx_ring_size[STATS_MAX_QUEUES];
    uint16_t tx_ring_size[STATS_MAX_QUEUES];
    int16_t rx_owner[STATS_MAX_QUEUES];   /* worker polling guest TX, -1 */
    int16_t tx_owner[STATS_MAX_QUEUES];   /* worker filling guest RX, -1 */
    int16_t numa_node;          /* node of the guest memory, -1: unknown */
    uint64_t generation;        /* bumped when the slot gets a new port */
};

struct stats_port {
    struct stats_port_info info __cacheline_aligned;
    struct stats_queue queues[STATS_MAX_QUEUES];
};

/* One worker.  Written by that worker only. */
struct stats_worker {
    uint64_t frames;            /* frames received and processed */
    uint64_t busy_cycles;       /* TSC cycles in bursts that did work */
    uint64_t idle_cycles;       /* TSC cycles in empty polls */
    uint64_t bursts;            /* bursts that did work */
    uint64_t stalled_cycles;    /* TSC cycles of passes that took far
                                   longer than their work can: the thread
                                   was preempted (pmd/worker.c); neither
                                   busy nor idle */
    uint64_t stalls;            /* such passes */
    uint64_t handoff_lost;      /* frames handed over by another worker for
                                   a port this one no longer owns */
    int32_t cpu;                /* written by the control thread at start */
    uint32_t in_use;
} __cacheline_aligned;

struct stats_header {
    uint64_t magic;
    uint32_t version;
    uint32_t size;              /* sizeof(struct stats_segment) */
    uint32_t max_ports;
    uint32_t max_queues;
    uint32_t max_workers;
    uint32_t n_workers;
    uint64_t tsc_hz;            /* TSC ticks per second */
    int64_t pid;
    uint64_t start_time;        /* Unix time the daemon started */
} __cacheline_aligned;

struct stats_segment {
    struct stats_header hdr;
    struct stats_worker workers[STATS_MAX_WORKERS];
    struct stats_port ports[STATS_MAX_PORTS];
};

/* Daemon: creates and maps a zeroed segment (memfd).  Returns 0 and sets
 * '*segp' and '*fdp', or -errno. */
int stats_create(struct stats_segment **segp, int *fdp);

/* Daemon: opens a read-only fd to the segment for a client.  -errno. */
int stats_open_readonly(int fd);

/* Client: maps a segment fd read-only and checks magic, version and size.
 * Returns 0 or -errno (-EPROTO if it is not a segment of this version). */
int stats_map_readonly(int fd, const struct stats_segment **segp);

/* Control thread: begin/end a change of a port's description. */
void stats_port_info_begin(struct stats_port_info *);
void stats_port_info_end(struct stats_port_info *);

/* Client: consistent copy of a port's description.  Returns 0, or -EAGAIN
 * after several tries while the daemon kept writing. */
int stats_port_info_read(const struct stats_port_info *,
                         struct stats_port_info *copy);

/* Client: the sum of one direction over all queues of a port. */
void stats_port_sum(const struct stats_port *, struct stats_dir *rx,
                    struct stats_dir *tx);

/* Sum of drops[] of a direction. */
uint64_t stats_dir_dropped(const struct stats_dir *);

#endif /* stats.h */
