/* worker.c -- the worker loop and the central forwarding routine.
 *
 * Loop (one pinned thread per configured CPU):
 *
 *   for (;;) {
 *       adopt a new configuration if the control thread published one
 *       (the ack is the quiescent point: see worker.h);
 *       for each receive queue we own: worker_forward();
 *       for each worker that hands us frames: handoff_drain();
 *       port_end_pass(): the notification checks the pass owes;
 *       account the pass as busy or idle cycles;
 *   }
 *
 * worker_forward() moves one burst from one receive queue:
 *
 *   1. rx_burst: up to 32 frames, described in place (guest memory, no copy).
 *      If the port is under capture for rx, the frames the port did not
 *      mark bad are copied into the capture's ring (mirror_rx()).
 *   2. Classify each frame.  Frames the port marked bad, frames from a
 *      disabled ring and frames over the ingress MTU are counted under
 *      their reason.  Others teach the MAC table their source and are
 *      added to the list of each destination: the learnt port for known
 *      unicast, every other reachable port for broadcast, multicast and
 *      unknown unicast (counted as flooded on the receive queue; frames
 *      of one flow in a burst ask the table once, see fdb_step()).  A
 *      frame with no destination (its learnt port is down, it would go
 *      back where it came from, nobody else is up) is counted too, so
 *      that rx_packets = forwarded + sum(rx drops).
 *   3. One tx_burst per destination (transmit()): this is where the single
 *      copy, source guest to destination guest, happens.  The port reports
 *      per frame delivered or the tx drop reason, and we count it on the
 *      egress queue's tx side (this worker is that queue's only writer).
 *      If the destination is under capture for tx, the frames it took are
 *      copied into the capture's ring (mirror_tx()).
 *   4. rx_release: the source chains go back to the guest, one used-index
 *      store.  The notification checks of every ring the pass published
 *      wait for its end, behind one fence (port_end_pass()).
 *
 * Captures.  A capture is a pcap sink outside the fabric (worker.h, struct
 * worker_mirror): mirror_rx() and mirror_tx() hand it the frames with one
 * more tx_burst, which copies them into this worker's ring of the sink and
 * never waits; when the sink's writer falls behind, the copies are lost
 * and counted as sink_full on the capture's slot.  So a capture costs
 * forwarding one copy per frame, and nothing else.  Frames that arrive by
 * handoff (below) go through transmit() too: the worker that delivers a
 * frame is the one that mirrors it.
 *
 * Cross-worker traffic.  Only the worker that owns a port's transmit queue
 * writes into it.  A frame for a port another worker owns is copied into a
 * single-producer/single-consumer ring towards that worker (conf->remote),
 * which drains its incoming rings at every pass and transmits from there.
 * A full ring loses the copy; the loss is counted by the producer in the
 * handoff and moved by the consumer into the egress queue's tx drops
 * (dst_ring_full), so that every counter keeps a single writer.
 *
 * Misbehaving queues.  A receive queue whose burst held more frames its
 * port marked bad (a guest flooding garbage descriptors) than frames that
 * went somewhere is skipped for the next few passes, twice as many after
 * each such burst (up to BAD_BACKOFF_MAX), and polled normally again after
 * a burst that was mostly good.  Rejecting garbage costs more than
 * forwarding a frame, so without this a flooding guest would take the
 * worker from the others.  A guest whose frames are merely undeliverable
 * (no destination, over the MTU) is not slowed down.  Nothing is lost: the
 * frames wait in the guest's own ring and are counted when taken.
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
#include "spsc.h"
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
    uint64_t stall_base;        /* cycles: see worker_main() */
    uint64_t stall_per_frame;
    pthread_t thread;
    bool joined;
    size_t alloc_size;

    unsigned n_workers;
    struct handoff *to[STATS_MAX_WORKERS];      /* we produce */
    struct handoff *from[STATS_MAX_WORKERS];    /* we consume */
    bool handoff_pending[STATS_MAX_WORKERS];    /* to[i] needs a publish */

    /* Per receive queue of conf, reset with it: passes to skip, and the
     * skip after the next all-bad burst (see the top of this file). */
    uint8_t skip[WORKER_MAX_RXQS];
    uint8_t backoff[WORKER_MAX_RXQS];

    struct pkt pkts[PORT_BURST];
    struct pkt hpkts[PORT_BURST];
    struct vq_seg hsegs[PORT_BURST];
    uint16_t results[PORT_BURST];
    uint16_t mirror_results[PORT_BURST];
    struct pkt *mirrored[PORT_BURST];
    uint16_t n_out[STATS_MAX_PORTS];
    struct pkt *out[STATS_MAX_PORTS][PORT_BURST];
    struct vq_seg pool[PORT_SEG_POOL];
};

/* Frames from one worker to another. */
struct handoff {
    struct spsc *ring;
    uint64_t lost[STATS_MAX_PORTS];     /* producer: ring full, by port */
    uint64_t lost_total;                /* producer */
    uint64_t lost_seen[STATS_MAX_PORTS]; /* consumer: already counted */
    uint64_t lost_total_seen;           /* consumer */
};

#define BAD_BACKOFF_MAX 128        /* passes a garbage queue sits out */

#define HANDOFF_SLOTS 512
#define HANDOFF_MAX_FRAME (VU_MAX_MTU + 18)

struct handoff_frame {
    uint16_t port;
    uint16_t pad;
    uint32_t len;
    uint8_t data[HANDOFF_MAX_FRAME];
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

/* Copies 'pkt' into the ring towards worker 'to', for port 'dst'.  A full
 * ring loses the copy and counts it (see the top of this file). */
static void
handoff_send(struct worker *w, unsigned to, uint16_t dst,
             const struct pkt *pkt)
{
    struct handoff *h = w->to[to];
    struct handoff_frame *f = spsc_reserve(h->ring);
    if (unlikely(!f)) {
        counter_add(&h->lost[dst], 1);
        counter_add(&h->lost_total, 1);
        return;
    }
    f->port = dst;
    f->len = vq_segs_copy_out(pkt->segs, pkt->n_segs, 0, f->data,
                              MIN(pkt->len, HANDOFF_MAX_FRAME));
    w->handoff_pending[to] = true;
}

/* Queues 'pkt' for port 'dst', here or on the worker that owns it.
 * Returns false if no worker can transmit to 'dst'. */
static inline bool
send_to(struct worker *w, const struct worker_conf *conf, uint16_t *dsts,
        unsigned *n_dsts, uint16_t dst, struct pkt *pkt)
{
    if (likely(conf->txqs[dst].port)) {
        return out_add(w, dsts, n_dsts, dst, pkt);
    }
    if (conf->remote[dst] >= 0) {
        handoff_send(w, conf->remote[dst], dst, pkt);
        return true;
    }
    return false;
}

/* The addresses of the last frame classified in a burst and what the MAC
 * table said of its destination.  Frames of one flow follow each other in
 * a burst from a guest's queue; for them the table's answer is the same
 * (same source port, same second), so they skip it: learning the source
 * again would change nothing, and a lookup racing with another worker's
 * learning may see either answer anyway. */
struct burst_memo {
    bool valid;
    int dst;                        /* fdb_lookup(), or -1 */
    uint8_t addrs[PORT_ETH_ADDRS];
};

/* Learns the source of 'pkt' and returns the port of its destination
 * (-1: unknown, or multicast), skipping the table for a frame with the
 * same addresses as the one before it. */
static inline int
fdb_step(struct worker *w, struct burst_memo *memo, const struct pkt *pkt,
         uint16_t in_port, uint32_t now)
{
    if (memo->valid && !memcmp(memo->addrs, pkt->addrs, PORT_ETH_ADDRS)) {
        return memo->dst;
    }
    const uint8_t *dst_mac = pkt->addrs, *src_mac = pkt->addrs + 6;
    fdb_learn(w->fdb, src_mac, in_port, now);
    memo->dst = eth_is_multicast(dst_mac) ? -1
                                          : fdb_lookup(w->fdb, dst_mac, now);
    memcpy(memo->addrs, pkt->addrs, PORT_ETH_ADDRS);
    memo->valid = true;
    return memo->dst;
}

/* Step 2 for one frame: returns 0 if queued to at least one destination,
 * else the drop reason + 1. */
static uint16_t
classify(struct worker *w, const struct worker_conf *conf,
         const struct worker_rxq *rxq, struct pkt *pkt, uint32_t now,
         struct burst_memo *memo, uint16_t *dsts, unsigned *n_dsts)
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

    int dst = fdb_step(w, memo, pkt, in->id, now);
    if (dst >= 0) {
        if (dst == in->id) {
            return PKT_DROP(DROP_NO_DESTINATION);
        }
        if (!send_to(w, conf, dsts, n_dsts, (uint16_t) dst, pkt)) {
            return PKT_DROP(DROP_PORT_DOWN);
        }
        return 0;
    }

    bool sent = false;
    for (unsigned i = 0; i < conf->n_flood; i++) {
        uint16_t port = conf->flood[i];
        if (port != in->id) {
            sent |= send_to(w, conf, dsts, n_dsts, port, pkt);
        }
    }
    if (!sent) {
        return PKT_DROP(DROP_NO_DESTINATION);
    }
    counter_add(&rxq->stats->flooded, 1);
    return 0;
}

/* Delivers 'n' frames to queue 'qid' of 'port' and counts each, delivered
 * or dropped by reason, on 'ts' (this worker is its only writer).  Per
 * frame outcome in 'results'. */
static void
deliver(struct port *port, unsigned qid, struct stats_dir *ts,
        struct pkt *const *pkts, unsigned n, uint16_t *results)
{
    port->class->tx_burst(port, qid, pkts, n, results, ts);

    uint64_t packets = 0, bytes = 0;
    for (unsigned i = 0; i < n; i++) {
        if (likely(!results[i])) {
            packets++;
            bytes += pkts[i]->len;
        } else {
            counter_add(&ts->drops[results[i] - 1], 1);
        }
    }
    counter_add(&ts->packets, packets);
    counter_add(&ts->bytes, bytes);
}

/* Hands the first 'n' frames of w->mirrored to the capture 'm'. */
static void
mirror_send(struct worker *w, const struct worker_mirror *m, unsigned n)
{
    if (n) {
        deliver(m->sink, m->qid, m->stats, w->mirrored, n,
                w->mirror_results);
    }
}

/* Copies into the capture 'm' the frames of an rx burst that the port did
 * not mark bad. */
static void
mirror_rx(struct worker *w, const struct worker_mirror *m, struct pkt *pkts,
          unsigned n)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!pkts[i].drop) {
            w->mirrored[k++] = &pkts[i];
        }
    }
    mirror_send(w, m, k);
}

/* Copies into the capture 'm' the frames a tx burst delivered. */
static void
mirror_tx(struct worker *w, const struct worker_mirror *m,
          struct pkt *const *pkts, const uint16_t *results, unsigned n)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!results[i]) {
            w->mirrored[k++] = pkts[i];
        }
    }
    mirror_send(w, m, k);
}

/* Step 3: one transmit burst of 'n' frames to port 'dst', whose queue we
 * own. */
static void
transmit(struct worker *w, const struct worker_conf *conf, uint16_t dst,
         struct pkt **pkts, unsigned n)
{
    const struct worker_txq *txq = &conf->txqs[dst];
    deliver(txq->port, txq->qid, txq->stats, pkts, n, w->results);

    const struct worker_mirror *m = &conf->mirrors[dst];
    if (unlikely(m->tx)) {
        mirror_tx(w, m, pkts, w->results, n);
    }
}

/* Moves one burst from 'rxq'; returns the number of frames and sets
 * '*n_bad' to how many of them the port marked bad and '*n_fwd' to how
 * many went to at least one destination. */
static unsigned
worker_forward(struct worker *w, const struct worker_conf *conf,
               const struct worker_rxq *rxq, uint32_t now, unsigned *n_bad,
               unsigned *n_fwd)
{
    struct port *in = rxq->port;
    unsigned n = in->class->rx_burst(in, rxq->qid, w->pkts, PORT_BURST,
                                     w->pool);
    if (!n) {
        return 0;
    }
    const struct worker_mirror *m = &conf->mirrors[in->id];
    if (unlikely(m->rx)) {
        mirror_rx(w, m, w->pkts, n);
    }

    struct stats_dir *rs = rxq->stats;
    uint16_t dsts[STATS_MAX_PORTS];
    unsigned n_dsts = 0;
    uint64_t bytes = 0;
    unsigned bad = 0, fwd = 0;
    struct burst_memo memo = { .valid = false };
    for (unsigned i = 0; i < n; i++) {
        struct pkt *pkt = &w->pkts[i];
        bytes += pkt->len;
        bad += pkt->drop != 0;
        uint16_t drop = classify(w, conf, rxq, pkt, now, &memo, dsts,
                                 &n_dsts);
        if (unlikely(drop)) {
            counter_add(&rs->drops[drop - 1], 1);
        } else {
            fwd++;
        }
    }
    counter_add(&rs->packets, n);
    counter_add(&rs->bytes, bytes);

    for (unsigned i = 0; i < n_dsts; i++) {
        uint16_t dst = dsts[i];
        transmit(w, conf, dst, w->out[dst], w->n_out[dst]);
        w->n_out[dst] = 0;
    }
    for (unsigned i = 0; i < w->n_workers; i++) {
        if (w->handoff_pending[i]) {
            spsc_publish(w->to[i]->ring);
            w->handoff_pending[i] = false;
        }
    }
    in->class->rx_release(in, rxq->qid, w->pkts, n, rs);
    *n_bad = bad;
    *n_fwd = fwd;
    return n;
}

/* Polls receive queue 'i' of 'conf' unless it sits out a penalty. */
static unsigned
poll_rxq(struct worker *w, const struct worker_conf *conf, unsigned i,
         uint32_t now)
{
    if (unlikely(w->skip[i])) {
        w->skip[i]--;
        return 0;
    }
    unsigned n_bad = 0, n_fwd = 0;
    unsigned n = worker_forward(w, conf, &conf->rxqs[i], now, &n_bad, &n_fwd);
    if (unlikely(n_bad > n_fwd)) {
        w->skip[i] = w->backoff[i];
        w->backoff[i] = MIN(2 * w->backoff[i] + 1, BAD_BACKOFF_MAX);
    } else if (n) {
        w->backoff[i] = 0;
    }
    return n;
}

/* Moves losses the producer counted into our egress queues' tx drops. */
static void
handoff_count_lost(struct handoff *h, const struct worker_conf *conf,
                   struct stats_worker *st)
{
    uint64_t total = READ_ONCE(h->lost_total);
    if (likely(total == h->lost_total_seen)) {
        return;
    }
    h->lost_total_seen = total;
    for (unsigned p = 0; p < STATS_MAX_PORTS; p++) {
        uint64_t lost = READ_ONCE(h->lost[p]);
        if (lost != h->lost_seen[p]) {
            uint64_t *c = conf->txqs[p].port
                          ? &conf->txqs[p].stats->drops[DROP_DST_RING_FULL]
                          : &st->handoff_lost;
            counter_add(c, lost - h->lost_seen[p]);
            h->lost_seen[p] = lost;
        }
    }
}

/* Transmits frames handed over for 'port'.  If the port's queue moved to
 * a third worker since the sender looked (vuswitchctl move-queue,
 * rebalance), the frames follow it there rather than being lost; only a
 * port that no worker can transmit to any more loses them (counted). */
static void
handoff_deliver(struct worker *w, const struct worker_conf *conf,
                uint16_t port, struct pkt **run, unsigned n)
{
    if (conf->txqs[port].port) {
        transmit(w, conf, port, run, n);
    } else if (conf->remote[port] >= 0 && conf->remote[port] != (int) w->id) {
        for (unsigned i = 0; i < n; i++) {
            handoff_send(w, conf->remote[port], port, run[i]);
        }
        spsc_publish(w->to[conf->remote[port]]->ring);
        w->handoff_pending[conf->remote[port]] = false;
    } else {
        counter_add(&w->stats->handoff_lost, n);
    }
}

/* Transmits what another worker handed us: frames are grouped by port in
 * runs, so a burst of frames for one port is one tx_burst. */
static unsigned
handoff_drain(struct worker *w, const struct worker_conf *conf,
              struct handoff *h)
{
    handoff_count_lost(h, conf, w->stats);
    unsigned n = spsc_ready(h->ring, PORT_BURST);
    struct pkt *run[PORT_BURST];
    unsigned n_run = 0;
    int run_port = -1;

    for (unsigned i = 0; i <= n; i++) {
        const struct handoff_frame *f = i < n
            ? spsc_slot(h->ring, h->ring->tail + i) : NULL;
        if (n_run && (!f || f->port != run_port)) {
            handoff_deliver(w, conf, (uint16_t) run_port, run, n_run);
            n_run = 0;
        }
        if (f) {
            struct pkt *pkt = &w->hpkts[i];
            w->hsegs[i].addr = (uint8_t *) f->data;
            w->hsegs[i].len = f->len;
            pkt->segs = &w->hsegs[i];
            pkt->n_segs = 1;
            pkt->len = f->len;
            run[n_run++] = pkt;
            run_port = f->port;
        }
    }
    if (n) {
        spsc_consume(h->ring, n);
    }
    return n;
}

static void
adopt_conf(struct worker *w)
{
    uint64_t req = LOAD_ACQUIRE(w->req_seq);
    if (unlikely(req != w->ack_seq)) {
        w->conf = READ_ONCE(w->pending);
        memset(w->skip, 0, sizeof w->skip);
        memset(w->backoff, 0, sizeof w->backoff);
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
        if (likely(!READ_ONCE(conf->rxqs[i].port->broken))) {
            frames += poll_rxq(w, conf, i, now);
        }
    }
    for (unsigned i = 0; i < w->n_workers; i++) {
        if (w->from[i]) {
            frames += handoff_drain(w, conf, w->from[i]);
        }
    }
    port_end_pass();
    return frames;
}

/* Time accounting.  Each pass is timed with the TSC and counted as busy
 * (it moved frames) or idle.  A pass that took far longer than its work
 * can -- longer than STALL_BASE_US plus STALL_PER_FRAME_US for each frame
 * it moved, generous bounds for a pass over every queue and for a
 * 9000-byte copy -- was not running all that time: the kernel or the
 * host ran something else on our CPU.  Counted as busy, such a pass would
 * charge the preemption to the frames that happened to be waiting when
 * the worker came back.  It is counted apart, as stalled (its frames
 * still count as frames), so busy % and cycles per frame describe work. */
#define STALL_BASE_US 50
#define STALL_PER_FRAME_US 2

static void *
worker_main(void *w_)
{
    struct worker *w = w_;
    struct stats_worker *st = w->stats;
    uint64_t t0 = tsc_now();

    VLOG_INFO("worker %u: polling on cpu %d", w->id, w->cpu);
    while (!LOAD_ACQUIRE(w->stop)) {
        unsigned frames = worker_poll_once(w);
        uint64_t t1 = tsc_now(), dt = t1 - t0;
        if (frames) {
            counter_add(&st->frames, frames);
        }
        if (unlikely(dt > w->stall_base + frames * w->stall_per_frame)) {
            counter_add(&st->stalled_cycles, dt);
            counter_add(&st->stalls, 1);
        } else if (frames) {
            counter_add(&st->busy_cycles, dt);
            counter_add(&st->bursts, 1);
        } else {
            counter_add(&st->idle_cycles, dt);
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
    w->stall_base = tsc_hz() * STALL_BASE_US / 1000000;
    w->stall_per_frame = tsc_hz() * STALL_PER_FRAME_US / 1000000;
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

int
worker_connect_all(struct worker **workers, unsigned n)
{
    for (unsigned a = 0; a < n; a++) {
        workers[a]->n_workers = n;
        for (unsigned b = 0; b < n; b++) {
            if (a == b) {
                continue;
            }
            struct handoff *h = calloc(1, sizeof *h);
            int node = numa_available() >= 0
                       ? numa_node_of_cpu(workers[b]->cpu) : -1;
            if (!h || !(h->ring = spsc_create(HANDOFF_SLOTS,
                                              sizeof(struct handoff_frame),
                                              node))) {
                free(h);
                return -ENOMEM;
            }
            workers[a]->to[b] = h;
            workers[b]->from[a] = h;
        }
    }
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
worker_stop(struct worker *w)
{
    if (w && !w->joined) {
        STORE_RELEASE(w->stop, true);
        pthread_join(w->thread, NULL);
        w->joined = true;
    }
}

void
worker_destroy(struct worker *w)
{
    if (!w) {
        return;
    }
    worker_stop(w);
    for (unsigned i = 0; i < w->n_workers; i++) {
        if (w->to[i]) {
            spsc_destroy(w->to[i]->ring);
            free(w->to[i]);
        }
    }
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
