/* test-worker.c -- the worker's captures (struct worker_mirror): which
 * frames a capture gets, and where they are counted.  A scripted port
 * hands the worker one burst; a second port takes what is forwarded to it
 * (and refuses one frame); pcap sinks outside the fabric mirror the first
 * port's rx and the second port's tx.  The files must hold exactly the
 * frames the port took (not the ones it marked bad) and the frames the
 * destination accepted (not the one it refused); the counters go to the
 * sinks' slots, and the mirrored ports' counters are those of a switch
 * without captures.
 *
 * Needs nothing special (no root): files live in a mkdtemp directory; the
 * worker thread runs unpinned if pinning fails. */
#include <config.h>

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cunit.h"
#include "fdb.h"
#include "port-pcap.h"
#include "port.h"
#include "worker.h"
#include "tsc.h"

static char dir[64];

/* ---- Scripted ports ---------------------------------------------------- */

#define N_FRAMES 6
#define BAD_FRAME 1             /* the source marks it bad */
#define REFUSED_FRAME 4         /* the destination refuses it */

struct fake_port {
    struct port up;
    unsigned n_bursts;          /* source: bursts handed out (1, then none) */
    unsigned n_released;        /* source: frames given back */
    unsigned n_taken;           /* destination: frames accepted */
};

static uint8_t frames[N_FRAMES][128];
static struct vq_seg segs[N_FRAMES];

static unsigned
fake_rx_burst(struct port *port, unsigned qid, struct pkt *pkts, unsigned n,
              struct vq_seg *pool)
{
    struct fake_port *fp = CONTAINER_OF(port, struct fake_port, up);
    if (READ_ONCE(fp->n_bursts)) {
        return 0;
    }
    for (unsigned i = 0; i < N_FRAMES; i++) {
        segs[i] = (struct vq_seg) { frames[i], 60 + i };
        pkts[i] = (struct pkt) {
            .segs = &segs[i], .n_segs = 1, .len = 60 + i,
            .drop = i == BAD_FRAME ? PKT_DROP(DROP_BAD_DESCRIPTOR) : 0,
        };
        memcpy(pkts[i].addrs, frames[i], PORT_ETH_ADDRS);
    }
    WRITE_ONCE(fp->n_bursts, 1);
    return N_FRAMES;
}

static void
fake_rx_release(struct port *port, unsigned qid, struct pkt *pkts,
                unsigned n, struct stats_dir *dir_)
{
    struct fake_port *fp = CONTAINER_OF(port, struct fake_port, up);
    WRITE_ONCE(fp->n_released, fp->n_released + n);
}

/* Accepts every frame but the one whose last byte says REFUSED_FRAME. */
static void
fake_tx_burst(struct port *port, unsigned qid, struct pkt *const *pkts,
              unsigned n, uint16_t *results, struct stats_dir *dir_)
{
    struct fake_port *fp = CONTAINER_OF(port, struct fake_port, up);
    for (unsigned i = 0; i < n; i++) {
        const struct vq_seg *s = &pkts[i]->segs[0];
        bool refuse = s->addr[s->len - 1] == REFUSED_FRAME;
        results[i] = refuse ? PKT_DROP(DROP_NO_RX_BUFFERS) : 0;
        WRITE_ONCE(fp->n_taken, fp->n_taken + !refuse);
    }
}

static const struct port_class fake_class = {
    .type = "fake",
    .rx_burst = fake_rx_burst,
    .rx_release = fake_rx_release,
    .tx_burst = fake_tx_burst,
};

static struct stats_port port_stats[4];
static struct stats_worker worker_stats;

static void
fake_init(struct fake_port *fp, uint16_t id)
{
    memset(fp, 0, sizeof *fp);
    fp->up.class = &fake_class;
    fp->up.id = id;
    fp->up.n_queues = 1;
    fp->up.max_frame = 1518;
    fp->up.stats = &port_stats[id];
    snprintf(fp->up.name, sizeof fp->up.name, "fake%u", id);
}

/* A started pcap sink with one queue, as control.c makes a capture's. */
static struct port *
make_sink(uint16_t id, const char *file)
{
    struct port_spec spec = {
        .type = PORT_PCAP, .n_queues = 1, .mtu = 9000, .snaplen = 65535,
    };
    snprintf(spec.name, sizeof spec.name, "capture:%u", id);
    snprintf(spec.path, sizeof spec.path, "%s/%s", dir, file);
    char err[256] = "";
    struct port *sink = port_pcap_create(&spec, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sink);
    sink->id = id;
    sink->max_frame = spec.mtu + 18;
    sink->stats = &port_stats[id];
    snprintf(sink->name, sizeof sink->name, "%s", spec.name);
    int r = sink->class->start(sink, err, sizeof err);
    if (r) {
        fprintf(stderr, "start: %s\n", err);
    }
    CU_ASSERT_EQUAL_FATAL(r, 0);
    return sink;
}

/* Lengths of the frames in a capture file, in order; returns the count. */
static int
read_lengths(const char *file, uint32_t *lens, unsigned max)
{
    char path[128], errbuf[PCAP_ERRBUF_SIZE];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    pcap_t *p = pcap_open_offline(path, errbuf);
    if (!p) {
        fprintf(stderr, "pcap_open_offline: %s\n", errbuf);
        return -1;
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    int n = 0;
    while (pcap_next_ex(p, &h, &data) == 1) {
        if ((unsigned) n < max) {
            lens[n] = h->len;
        }
        n++;
    }
    pcap_close(p);
    return n;
}

static bool
wait_for(const unsigned *counter, unsigned value)
{
    for (int i = 0; i < 30000; i++) {      /* a loaded machine: 30 s */
        if (READ_ONCE(*counter) >= value) {
            return true;
        }
        usleep(1000);
    }
    return false;
}

/* ---- Tests ------------------------------------------------------------- */

static void
test_mirror_rx_and_tx(void)
{
    for (unsigned i = 0; i < N_FRAMES; i++) {
        memset(frames[i], 0, sizeof frames[i]);
        /* To an unknown unicast MAC: flooded, so to port 1. */
        memcpy(frames[i], "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01",
               12);
        frames[i][59 + i] = (uint8_t) i;    /* last byte: its index */
    }
    memset(port_stats, 0, sizeof port_stats);

    static struct fake_port src, dst;
    fake_init(&src, 0);
    fake_init(&dst, 1);
    struct port *sink_rx = make_sink(2, "rx.pcap");
    struct port *sink_tx = make_sink(3, "tx.pcap");

    uint32_t clock_sec = 1;
    struct fdb *fdb = fdb_create(64, 300);
    struct worker *w;
    CU_ASSERT_EQUAL_FATAL(worker_create(0, 0, fdb, &clock_sec, &worker_stats,
                                        &w), 0);
    struct worker_conf *conf = calloc(1, sizeof *conf
                                         + sizeof(struct worker_rxq));
    CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
    conf->n_rxqs = 1;
    conf->rxqs[0] = (struct worker_rxq) {
        .port = &src.up, .stats = &port_stats[0].queues[0].rx,
    };
    conf->n_flood = 2;
    conf->flood[0] = 0;
    conf->flood[1] = 1;
    conf->txqs[0] = (struct worker_txq) {
        &src.up, 0, &port_stats[0].queues[0].tx,
    };
    conf->txqs[1] = (struct worker_txq) {
        &dst.up, 0, &port_stats[1].queues[0].tx,
    };
    for (unsigned p = 0; p < STATS_MAX_PORTS; p++) {
        conf->remote[p] = -1;
    }
    conf->mirrors[0] = (struct worker_mirror) {
        .sink = sink_rx, .qid = 0, .rx = true,
        .stats = &port_stats[2].queues[0].tx,
    };
    conf->mirrors[1] = (struct worker_mirror) {
        .sink = sink_tx, .qid = 0, .tx = true,
        .stats = &port_stats[3].queues[0].tx,
    };
    CU_ASSERT_PTR_NULL(worker_reconfigure(w, conf));
    CU_ASSERT(wait_for(&src.n_released, N_FRAMES));

    /* Quiesce (the handshake capture-stop does), then close the files. */
    free(worker_reconfigure(w, calloc(1, sizeof *conf)));
    sink_rx->class->destroy(sink_rx);
    sink_tx->class->destroy(sink_tx);
    worker_destroy(w);
    fdb_destroy(fdb);

    /* The switch's own counters, as without captures. */
    CU_ASSERT_EQUAL(port_stats[0].queues[0].rx.packets, N_FRAMES);
    CU_ASSERT_EQUAL(port_stats[0].queues[0].rx.drops[DROP_BAD_DESCRIPTOR], 1);
    CU_ASSERT_EQUAL(port_stats[1].queues[0].tx.packets, N_FRAMES - 2);
    CU_ASSERT_EQUAL(port_stats[1].queues[0].tx.drops[DROP_NO_RX_BUFFERS], 1);
    CU_ASSERT_EQUAL(dst.n_taken, N_FRAMES - 2);

    /* rx: every frame the port took but the bad one. */
    uint32_t lens[16];
    CU_ASSERT_EQUAL_FATAL(read_lengths("rx.pcap", lens, 16), N_FRAMES - 1);
    for (unsigned i = 0, k = 0; i < N_FRAMES; i++) {
        if (i != BAD_FRAME) {
            CU_ASSERT_EQUAL(lens[k++], 60 + i);
        }
    }
    CU_ASSERT_EQUAL(port_stats[2].queues[0].tx.packets, N_FRAMES - 1);

    /* tx: what the destination accepted. */
    CU_ASSERT_EQUAL_FATAL(read_lengths("tx.pcap", lens, 16), N_FRAMES - 2);
    for (unsigned i = 0, k = 0; i < N_FRAMES; i++) {
        if (i != BAD_FRAME && i != REFUSED_FRAME) {
            CU_ASSERT_EQUAL(lens[k++], 60 + i);
        }
    }
    CU_ASSERT_EQUAL(port_stats[3].queues[0].tx.packets, N_FRAMES - 2);
    CU_ASSERT_EQUAL(stats_dir_dropped(&port_stats[3].queues[0].tx), 0);
}

/* ---- A queue that yields mostly garbage ---------------------------------
 *
 * Port "garbage" hands out full bursts of frames it marked bad but the
 * first (a guest flooding broken descriptors, with a frame that goes
 * somewhere among them); port "good" one valid frame per burst.
 * Rejecting garbage costs the worker more than forwarding, so the worker
 * makes an all-bad queue sit out passes (worker.c, "Misbehaving queues").
 * Counts are of rx_burst calls, so the test does not depend on timing. */

struct poll_port {
    struct port up;
    bool garbage;               /* every frame marked bad */
    bool on_demand;             /* a frame only when 'give' is set ... */
    bool give;
    unsigned stall_us;          /* ... after sleeping this long */
    unsigned calls;             /* rx_burst calls */
};

static unsigned
poll_rx_burst(struct port *port, unsigned qid, struct pkt *pkts, unsigned n,
              struct vq_seg *pool)
{
    struct poll_port *pp = CONTAINER_OF(port, struct poll_port, up);
    static uint8_t frame[60] = "\x02\0\0\0\0\x09\x02\0\0\0\0\x08";
    unsigned k = READ_ONCE(pp->garbage) ? n : 1;
    if (READ_ONCE(pp->on_demand)) {
        if (!READ_ONCE(pp->give)) {
            WRITE_ONCE(pp->calls, pp->calls + 1);
            return 0;
        }
        usleep(pp->stall_us);
        WRITE_ONCE(pp->give, false);
    }
    pool[0] = (struct vq_seg) { frame, sizeof frame };
    for (unsigned i = 0; i < k; i++) {
        pkts[i] = (struct pkt) {
            .segs = pool, .n_segs = 1, .len = sizeof frame,
            .drop = i ? PKT_DROP(DROP_BAD_DESCRIPTOR) : 0,
        };
        memcpy(pkts[i].addrs, frame, PORT_ETH_ADDRS);
    }
    WRITE_ONCE(pp->calls, pp->calls + 1);
    return k;
}

static void
poll_rx_release(struct port *port, unsigned qid, struct pkt *pkts,
                unsigned n, struct stats_dir *dir_)
{
}

static void
poll_tx_burst(struct port *port, unsigned qid, struct pkt *const *pkts,
              unsigned n, uint16_t *results, struct stats_dir *dir_)
{
    memset(results, 0, n * sizeof *results);
}

static const struct port_class poll_class = {
    .type = "fake",
    .rx_burst = poll_rx_burst,
    .rx_release = poll_rx_release,
    .tx_burst = poll_tx_burst,
};

static void
poll_init(struct poll_port *pp, uint16_t id, bool garbage)
{
    memset(pp, 0, sizeof *pp);
    pp->up.class = &poll_class;
    pp->up.id = id;
    pp->up.n_queues = 1;
    pp->up.max_frame = 1518;
    pp->up.stats = &port_stats[id];
    pp->garbage = garbage;
}

/* Calls of 'pp' while 'ref' makes 'n' more calls. */
static unsigned
calls_during(struct poll_port *pp, struct poll_port *ref, unsigned n)
{
    unsigned c0 = READ_ONCE(pp->calls);
    unsigned r0 = READ_ONCE(ref->calls);
    CU_ASSERT_FATAL(wait_for(&ref->calls, r0 + n));
    unsigned c = READ_ONCE(pp->calls) - c0;
    unsigned r = READ_ONCE(ref->calls) - r0;
    return (unsigned) ((uint64_t) c * n / (r ? r : 1));
}

/* A worker on CPU 0 polling the receive queue of each port of 'srcs'
 * (their ids index port_stats) and flooding to 'sink', the only port it
 * transmits to. */
static struct worker *
start_worker(struct poll_port *const *srcs, unsigned n,
             struct poll_port *sink, struct fdb *fdb,
             const uint32_t *clock_sec)
{
    struct worker *w;
    CU_ASSERT_EQUAL_FATAL(worker_create(0, 0, fdb, clock_sec, &worker_stats,
                                        &w), 0);
    struct worker_conf *conf = calloc(1, sizeof *conf
                                         + n * sizeof(struct worker_rxq));
    CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
    conf->n_rxqs = n;
    for (unsigned i = 0; i < n; i++) {
        conf->rxqs[i] = (struct worker_rxq) {
            .port = &srcs[i]->up,
            .stats = &port_stats[srcs[i]->up.id].queues[0].rx,
        };
    }
    uint16_t out = sink->up.id;
    conf->n_flood = 1;
    conf->flood[0] = out;
    conf->txqs[out] = (struct worker_txq) {
        &sink->up, 0, &port_stats[out].queues[0].tx,
    };
    for (unsigned p = 0; p < STATS_MAX_PORTS; p++) {
        conf->remote[p] = -1;
    }
    CU_ASSERT_PTR_NULL(worker_reconfigure(w, conf));
    return w;
}

static void
stop_worker(struct worker *w)
{
    free(worker_reconfigure(w, calloc(1, sizeof(struct worker_conf))));
    worker_destroy(w);
}

static void
test_garbage_backoff(void)
{
    static struct poll_port garbage, good, sink;
    memset(port_stats, 0, sizeof port_stats);
    poll_init(&garbage, 0, true);
    poll_init(&good, 1, false);
    poll_init(&sink, 2, false);

    uint32_t clock_sec = 1;
    struct fdb *fdb = fdb_create(64, 300);
    struct worker *w = start_worker((struct poll_port *[]) { &garbage, &good },
                                    2, &sink, fdb, &clock_sec);

    /* Flooding: polled at most once every 64 passes, once backed off. */
    calls_during(&garbage, &good, 2000);
    unsigned c = calls_during(&garbage, &good, 64000);
    CU_ASSERT(c > 0 && c <= 1000);
    if (c > 1000) {
        fprintf(stderr, "\n  garbage queue polled %u times in 64000 passes\n",
                c);
    }
    /* One good frame per burst: polled every pass again. */
    WRITE_ONCE(garbage.garbage, false);
    calls_during(&garbage, &good, 2000);
    CU_ASSERT(calls_during(&garbage, &good, 20000) >= 19000);

    stop_worker(w);
    fdb_destroy(fdb);

    /* Nothing taken was lost: every garbage frame is counted. */
    const struct stats_dir *g = &port_stats[0].queues[0].rx;
    CU_ASSERT(g->drops[DROP_BAD_DESCRIPTOR] > 0);
    CU_ASSERT_EQUAL(g->packets,
                    g->drops[DROP_BAD_DESCRIPTOR] + port_stats[2].queues[0].tx.packets
                    - port_stats[1].queues[0].rx.packets);
}

/* A pass during which the worker lost its CPU (here: a port that sleeps
 * 5 ms before handing out a frame) is counted as stalled, not as busy:
 * the frame is counted, its 5 ms are not charged to it. */
static void
test_stalled_pass(void)
{
    static struct poll_port src, sink;
    memset(port_stats, 0, sizeof port_stats);
    memset(&worker_stats, 0, sizeof worker_stats);
    poll_init(&src, 0, false);
    poll_init(&sink, 1, false);
    src.on_demand = true;
    src.stall_us = 5000;

    uint32_t clock_sec = 1;
    struct fdb *fdb = fdb_create(64, 300);
    struct worker *w = start_worker((struct poll_port *[]) { &src }, 1, &sink,
                                    fdb, &clock_sec);
    CU_ASSERT_FATAL(wait_for(&src.calls, 1000));

    uint64_t busy0 = READ_ONCE(worker_stats.busy_cycles);
    uint64_t stalled0 = READ_ONCE(worker_stats.stalled_cycles);
    uint64_t frames0 = READ_ONCE(worker_stats.frames);
    WRITE_ONCE(src.give, true);
    CU_ASSERT_FATAL(wait_for(&src.calls, READ_ONCE(src.calls) + 1000));
    CU_ASSERT_FALSE(READ_ONCE(src.give));
    uint64_t busy = READ_ONCE(worker_stats.busy_cycles) - busy0;
    uint64_t stalled = READ_ONCE(worker_stats.stalled_cycles) - stalled0;

    stop_worker(w);
    fdb_destroy(fdb);

    /* The one pass that moved a frame slept 5 ms: no busy pass at all,
     * and at least the sleep (less a margin for the TSC's calibration)
     * stalled. */
    uint64_t ms = tsc_hz() / 1000;
    CU_ASSERT_EQUAL(worker_stats.frames - frames0, 1);
    CU_ASSERT(worker_stats.stalls >= 1);
    CU_ASSERT(stalled >= 4 * ms);
    CU_ASSERT_EQUAL(busy, 0);
    if (stalled < 4 * ms || busy) {
        fprintf(stderr, "\n  busy %.3f ms, stalled %.3f ms\n",
                (double) busy / ms, (double) stalled / ms);
    }
}

/* A frame to an unknown destination is flooded and counted as such on
 * its receive queue; once the destination is learnt, the next one goes
 * to it alone and is not. */
static void
test_flooded(void)
{
    static struct poll_port src, sink;
    memset(port_stats, 0, sizeof port_stats);
    poll_init(&src, 0, false);
    poll_init(&sink, 1, false);
    src.on_demand = true;

    uint32_t clock_sec = 1;
    struct fdb *fdb = fdb_create(64, 300);
    struct worker *w = start_worker((struct poll_port *[]) { &src }, 1, &sink,
                                    fdb, &clock_sec);

    const struct stats_dir *rx = &port_stats[0].queues[0].rx;
    const struct stats_dir *tx = &port_stats[1].queues[0].tx;
    WRITE_ONCE(src.give, true);
    CU_ASSERT_FATAL(wait_for(&src.calls, READ_ONCE(src.calls) + 100));
    CU_ASSERT_EQUAL(READ_ONCE(tx->packets), 1);
    CU_ASSERT_EQUAL(READ_ONCE(rx->flooded), 1);

    static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x09 };  /* its dst */
    fdb_learn(fdb, dst, 1, clock_sec);
    WRITE_ONCE(src.give, true);
    CU_ASSERT_FATAL(wait_for(&src.calls, READ_ONCE(src.calls) + 100));
    CU_ASSERT_EQUAL(READ_ONCE(tx->packets), 2);
    CU_ASSERT_EQUAL(READ_ONCE(rx->flooded), 1);

    stop_worker(w);
    fdb_destroy(fdb);
}

static const struct cunit_test tests[] = {
    CUNIT_TEST(test_mirror_rx_and_tx),
    CUNIT_TEST(test_garbage_backoff),
    CUNIT_TEST(test_stalled_pass),
    CUNIT_TEST(test_flooded),
};

int
main(void)
{
    snprintf(dir, sizeof dir, "/tmp/test-worker.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    int rc = cunit_run("worker", tests, ARRAY_SIZE(tests));
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
    return rc;
}
