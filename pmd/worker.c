/* worker.c -- the worker loop and the central forwarding routine.
 *
 * Loop (one pinned thread per configured CPU):
 *
 *   for (;;) {
 *       adopt a new configuration if the control thread published one
 *       (the ack is the quiescent point: see worker.h);
 *       for each receive queue we own: worker_forward();
 *       account the pass as busy or idle cycles;
 *   }
 *
 * worker_forward() moves one burst from one receive queue:
 *
 *   1. rx_burst: up to 32 frames, described in place (guest memory, no copy).
 *   2. Classify each frame.  Frames the port marked bad, frames from a
 *      disabled ring and frames over the ingress MTU are counted under
 *      their reason.  Others teach the MAC table their source and are
 *      added to the list of each destination: the learnt port for known
 *      unicast, every other reachable port for broadcast, multicast and
 *      unknown unicast.  A frame with no destination (its learnt port is
 *      down, it would go back where it came from, nobody else is up) is
 *      counted too, so that  rx_packets = forwarded + sum(rx drops).
 *   3. One tx_burst per destination: this is where the single copy, source
 *      guest to destination guest, happens.  The port reports per frame
 *      delivered or the tx drop reason, and we count it on the egress
 *      queue's tx side (this worker is that queue's only writer).
 *   4. rx_release: the source chains go back to the guest, one used-index
 *      store, one notification check.
 *
 * Counters are plain single-writer stores into the stats segment. */
#include <config.h>
#include "worker.h"

#include <errno.h>
#include <numa.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "fdb.h"
#include "log.h"
#include "tsc.h"

struct worker {
    /* Written by the control thread, read by the worker. */
    struct worker_conf *pending;
    uint64_t req_seq;
    bool stop;

    /* Written by the worker, read by the control thread. */
    uint64_t ack_seq __cacheline_aligned;

    /* The worker's own. */
    const struct worker_conf *conf __cacheline_aligned;
    unsigned id;
    int cpu;
    struct fdb *fdb;
    const uint32_t *clock_sec;
    struct stats_worker *stats;
    pthread_t thread;
    size_t alloc_size;

    struct pkt pkts[PORT_BURST];
    uint16_t results[PORT_BURST];
    uint16_t n_out[STATS_MAX_PORTS];
    struct pkt *out[STATS_MAX_PORTS][PORT_BURST];
    struct vq_seg pool[PORT_SEG_POOL];
};

static const struct worker_conf empty_conf;

static inline void
counter_add(uint64_t *c, uint64_t n)
{
    WRITE_ONCE(*c, *c + n);
}

static inline bool
eth_is_multicast(const uint8_t *mac)
{
    return mac[0] & 1;
}

/* Adds 'pkt' to the list for port 'dst'; returns whether it was added. */
static inline bool
out_add(struct worker *w, uint16_t *dsts, unsigned *n_dsts, uint16_t dst,
        struct pkt *pkt)
{
    if (!w->n_out[dst]) {
        dsts[(*n_dsts)++] = dst;
    }
    w->out[dst][w->n_out[dst]++] = pkt;
    return true;
}

/* Step 2 for one frame: returns 0 if queued to at least one destination,
 * else the drop reason + 1. */
static uint16_t
classify(struct worker *w, const struct worker_conf *conf,
         const struct worker_rxq *rxq, struct pkt *pkt, uint32_t now,
         uint16_t *dsts, unsigned *n_dsts)
{
    const struct port *in = rxq->port;
    if (pkt->drop) {
        return pkt->drop;
    }
    if (unlikely(rxq->discard)) {
        return PKT_DROP(DROP_RING_DISABLED);
    }
    if (unlikely(pkt->len > in->max_frame)) {
        return PKT_DROP(DROP_MTU_EXCEEDED);
    }

    const uint8_t *dst_mac = pkt->addrs, *src_mac = pkt->addrs + 6;
    fdb_learn(w->fdb, src_mac, in->id, now);
    if (!eth_is_multicast(dst_mac)) {
        int dst = fdb_lookup(w->fdb, dst_mac, now);
        if (dst >= 0) {
            if (dst == in->id) {
                return PKT_DROP(DROP_NO_DESTINATION);
            }
            if (!conf->txqs[dst].port) {
                return PKT_DROP(DROP_PORT_DOWN);
            }
            out_add(w, dsts, n_dsts, dst, pkt);
            return 0;
        }
    }

    bool sent = false;
    for (unsigned i = 0; i < conf->n_flood; i++) {
        uint16_t dst = conf->flood[i];
        if (dst != in->id) {
            sent = out_add(w, dsts, n_dsts, dst, pkt);
        }
    }
    return sent ? 0 : PKT_DROP(DROP_NO_DESTINATION);
}

/* Step 3: one transmit burst to port 'dst', counted on its queue. */
static void
transmit(struct worker *w, const struct worker_txq *txq, uint16_t dst)
{
    unsigned n = w->n_out[dst];
    struct pkt **pkts = w->out[dst];
    struct stats_dir *ts = txq->stats;
    txq->port->class->tx_burst(txq->port, txq->qid, pkts, n, w->results, ts);

    uint64_t packets = 0, bytes = 0;
    for (unsigned i = 0; i < n; i++) {
        if (likely(!w->results[i])) {
            packets++;
            bytes += pkts[i]->len;
        } else {
            counter_add(&ts->drops[w->results[i] - 1], 1);
        }
    }
    counter_add(&ts->packets, packets);
    counter_add(&ts->bytes, bytes);
    w->n_out[dst] = 0;
}

static unsigned
worker_forward(struct worker *w, const struct worker_conf *conf,
               const struct worker_rxq *rxq, uint32_t now)
{
    struct port *in = rxq->port;
    unsigned n = in->class->rx_burst(in, rxq->qid, w->pkts, PORT_BURST,
                                     w->pool);
    if (!n) {
        return 0;
    }

    struct stats_dir *rs = rxq->stats;
    uint16_t dsts[STATS_MAX_PORTS];
    unsigned n_dsts = 0;
    uint64_t bytes = 0;
    for (unsigned i = 0; i < n; i++) {
        struct pkt *pkt = &w->pkts[i];
        bytes += pkt->len;
        uint16_t drop = classify(w, conf, rxq, pkt, now, dsts, &n_dsts);
        if (unlikely(drop)) {
            counter_add(&rs->drops[drop - 1], 1);
        }
    }
    counter_add(&rs->packets, n);
    counter_add(&rs->bytes, bytes);

    for (unsigned i = 0; i < n_dsts; i++) {
        transmit(w, &conf->txqs[dsts[i]], dsts[i]);
    }
    in->class->rx_release(in, rxq->qid, w->pkts, n, rs);
    return n;
}

static void
adopt_conf(struct worker *w)
{
    uint64_t req = LOAD_ACQUIRE(w->req_seq);
    if (unlikely(req != w->ack_seq)) {
        w->conf = READ_ONCE(w->pending);
        STORE_RELEASE(w->ack_seq, req);
    }
}

unsigned
worker_poll_once(struct worker *w)
{
    adopt_conf(w);
    const struct worker_conf *conf = w->conf;
    uint32_t now = READ_ONCE(*w->clock_sec);
    unsigned frames = 0;
    for (unsigned i = 0; i < conf->n_rxqs; i++) {
        const struct worker_rxq *rxq = &conf->rxqs[i];
        if (likely(!READ_ONCE(rxq->port->broken))) {
            frames += worker_forward(w, conf, rxq, now);
        }
    }
    return frames;
}

static void *
worker_main(void *w_)
{
    struct worker *w = w_;
    struct stats_worker *st = w->stats;
    uint64_t t0 = tsc_now();

    VLOG_INFO("worker %u: polling on cpu %d", w->id, w->cpu);
    while (!LOAD_ACQUIRE(w->stop)) {
        unsigned frames = worker_poll_once(w);
        uint64_t t1 = tsc_now();
        if (frames) {
            counter_add(&st->frames, frames);
            counter_add(&st->busy_cycles, t1 - t0);
            counter_add(&st->bursts, 1);
        } else {
            counter_add(&st->idle_cycles, t1 - t0);
        }
        t0 = t1;
    }
    adopt_conf(w);
    return NULL;
}

static int
worker_pin(struct worker *w)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(w->cpu, &set);
    return -pthread_setaffinity_np(w->thread, sizeof set, &set);
}

/* Worker memory comes from the CPU's NUMA node when libnuma can tell. */
static void *
worker_alloc(int cpu, size_t size)
{
    void *p;
    if (numa_available() >= 0) {
        int node = numa_node_of_cpu(cpu);
        p = numa_alloc_onnode(size, node < 0 ? 0 : node);
    } else {
        p = numa_alloc(size);
    }
    if (p) {
        memset(p, 0, size);
    }
    return p;
}

int
worker_create(unsigned id, int cpu, struct fdb *fdb, const uint32_t *clock_sec,
              struct stats_worker *stats, struct worker **wp)
{
    size_t size = sizeof(struct worker);
    struct worker *w = worker_alloc(cpu, size);
    if (!w) {
        return -ENOMEM;
    }
    w->alloc_size = size;
    w->id = id;
    w->cpu = cpu;
    w->fdb = fdb;
    w->clock_sec = clock_sec;
    w->stats = stats;
    w->conf = &empty_conf;
    w->pending = (struct worker_conf *) &empty_conf;
    WRITE_ONCE(stats->cpu, cpu);
    WRITE_ONCE(stats->in_use, 1);

    int err = -pthread_create(&w->thread, NULL, worker_main, w);
    if (err) {
        numa_free(w, size);
        return err;
    }
    err = worker_pin(w);
    if (err) {
        VLOG_WARN("worker %u: cannot pin to cpu %d: %s", id, cpu,
                  strerror(-err));
    }
    *wp = w;
    return 0;
}

struct worker_conf *
worker_reconfigure(struct worker *w, struct worker_conf *conf)
{
    struct worker_conf *old = w->pending;
    STORE_RELEASE(w->pending, conf);
    uint64_t req = w->req_seq + 1;
    STORE_RELEASE(w->req_seq, req);

    uint64_t spins = 0;
    while (LOAD_ACQUIRE(w->ack_seq) != req) {
        if (++spins % (1u << 26) == 0) {
            VLOG_WARN("worker %u: still waiting for it to take a new "
                      "configuration", w->id);
        }
        cpu_relax();
        if (spins > 1000) {
            sched_yield();
        }
    }
    return old == &empty_conf ? NULL : old;
}

void
worker_destroy(struct worker *w)
{
    if (!w) {
        return;
    }
    STORE_RELEASE(w->stop, true);
    pthread_join(w->thread, NULL);
    if (w->pending != &empty_conf) {
        free(w->pending);
    }
    numa_free(w, w->alloc_size);
}

int
worker_cpu(const struct worker *w)
{
    return w->cpu;
}
