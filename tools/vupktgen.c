/* vupktgen.c -- a vhost-user traffic generator and sink that plays the
 * guest: no VM, no hugepages, no DPDK.  Benchmarks and tests of vuswitch
 * (and of any vhost-user backend) run it.
 *
 *   vupktgen --port A.sock --port B.sock [--tx 0 --rx 1] [--size 64 | --imix]
 *            [--rate PPS|max] [--count N | --duration S] [--json] ...
 *
 * Each --port (or --listen) becomes one virtio-net device (frontend.c).
 * Transmitting ports send Ethernet/IPv4/UDP frames to the MACs of the
 * receiving ports; every port drains its receive ring.  A frame carries,
 * after the UDP header, a per-run magic, the sender's port index with a
 * 56-bit sequence number, and the TSC when it was queued; the rest of the
 * payload is a fixed pseudo-random pattern.  The receiver checks headers,
 * IP checksum, lengths and pattern (corruption), sequence (reordering) and
 * computes the latency into a log-linear histogram.
 *
 * Run phases:
 *   hello    each port sends a gratuitous ARP from its MAC (a learning
 *            switch learns it) and repeats it every 200 ms until each
 *            tx/rx pair has seen the other's, or --hello-timeout;
 *   traffic  one thread, pinned with --cpu, busy-polls all rings: per
 *            port a transmit burst (reclaim when short of descriptors,
 *            fill up to --batch frames, publish once, kick only if the
 *            backend asks) and a receive burst (read the used index once,
 *            or on packed rings the flags of the slots not seen used yet;
 *            check frames, repost the buffers in one go).  No syscall per
 *            frame; the clock is the TSC, read once per burst;
 *   linger   transmission has stopped (--count reached, --duration over,
 *            or SIGINT); receive until everything sent has arrived or
 *            nothing arrived for --linger ms;
 *   report   human text, or one JSON object with --json.
 *
 * This file holds the command line, set-up, teardown and the report;
 * vupktgen-run.c the frames and the loop; frontend.c the vhost-user side.
 *
 * Sizes are Ethernet frames without FCS (a "64-byte" frame is 64 bytes in
 * the buffer, after the virtio-net header); Gbit/s counts those bytes. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/virtio_net.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "tsc.h"
#include "util.h"
#include "vupktgen.h"

/* ---- Latency percentiles. ---- */

/* Smallest value that falls into bucket 'i'. */
static uint64_t
pg_hist_value(unsigned i)
{
    if (i < 2 * PG_HIST_SUB) {
        return i;
    }
    unsigned e = i / PG_HIST_SUB - 1;
    return (uint64_t) (i % PG_HIST_SUB + PG_HIST_SUB) << e;
}
/* The value below which a fraction 'q' of the samples lie: the middle of
 * the bucket that holds the sample of that rank, clamped to [min, max]. */
static uint64_t
pg_hist_quantile(const struct pg_hist *h, double q)
{
    if (!h->n) {
        return 0;
    }
    uint64_t rank = (uint64_t) ceil(q * (double) h->n);
    uint64_t seen = 0;
    rank = rank ? rank : 1;
    for (unsigned i = 0; i < PG_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t lo = pg_hist_value(i), hi = pg_hist_value(i + 1);
            uint64_t v = lo + (hi - lo) / 2;
            return MAX(h->min, MIN(v, h->max));
        }
    }
    return h->max;
}
volatile sig_atomic_t pg_stop_requested;

static void
on_signal(int sig)
{
    (void) sig;
    pg_stop_requested = 1;
}

/* ---- Options. ---- */

static void
usage(void)
{
    printf(
"usage: vupktgen --port PATH|--listen PATH [...] [options]\n"
"A vhost-user front end (the guest side of virtio-net, no VM) that sends and\n"
"receives UDP frames and reports rate, loss, corruption and latency.\n"
"\n"
"Ports (in order, index 0, 1, ...; at most 16):\n"
"  -p, --port PATH        connect to a vhost-user backend listening at PATH\n"
"  -l, --listen PATH      listen at PATH for a backend in client mode\n"
"      --tx N             port N transmits (repeatable)\n"
"      --rx N             port N is a destination (repeatable); every port\n"
"                         drains and checks what it receives.  Default:\n"
"                         port 0 sends to all others (alone: to itself)\n"
"Traffic:\n"
"  -s, --size N           frame size without FCS, %u..%u (default 64)\n"
"      --imix             simple IMIX: 64, 594, 1518 bytes as 7:4:1\n"
"      --flows N          distinct UDP source ports per tx port (default 1)\n"
"      --flow-macs        and a distinct source MAC per flow\n"
"  -r, --rate PPS|max     frames/s over all tx ports, k/M/G suffixes\n"
"                         (default max)\n"
"  -c, --count N          frames per tx port (k/M/G suffixes)\n"
"  -d, --duration S       seconds of sending (default 10 without --count)\n"
"  -b, --batch N          frames per burst, 1..%u (default 32)\n"
"      --ring-size N      virtqueue entries, power of two (default 256)\n"
"      --rx-ring-size N   the same for the receive ring only\n"
"      --tx-ring-size N   the same for the transmit ring only\n"
"      --rx-buf-size N    bytes per receive buffer (default 2048 with\n"
"                         mergeable buffers, else what the largest frame\n"
"                         needs)\n"
"      --mrg, --no-mrg    take MRG_RXBUF if offered (default on)\n"
"      --no-event-idx     do not take VIRTIO_RING_F_EVENT_IDX\n"
"      --packed           packed virtqueues (VIRTIO_F_RING_PACKED; every\n"
"                         backend must offer them); default split\n"
"      --mac-base MAC     MAC of port 0; port i adds i (02:00:00:00:00:01)\n"
"Run:\n"
"      --cpu N            pin the polling thread to CPU N\n"
"  -i, --interval S       print/record the rates every S seconds (default 1;\n"
"                         0: never)\n"
"      --linger MS        after sending, wait this long without arrivals\n"
"                         for frames in flight (default 200)\n"
"      --hello-timeout MS wait this long for hellos to get through (2000)\n"
"      --timeout MS       connect/accept and per-reply timeout (5000)\n"
"      --expect-no-loss   exit 3 unless received == sent, nothing corrupt\n"
"      --no-payload-check check headers and sequence only, not the payload\n"
"                         pattern (cheaper for large frames)\n"
"  -j, --json             print the report as one JSON object\n"
"  -v, --verbose          log the vhost-user negotiation\n"
"  -h, --help\n"
"Exit: 0 done, 1 set-up failed, 2 usage, 3 loss or corruption with\n"
"--expect-no-loss.\n",
        PG_MIN_FRAME, PG_MAX_FRAME, PG_BATCH_MAX);
}

/* Parses a count like "1.5M" or "200k".  Returns 0 or -EINVAL. */
static int
parse_scaled(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0 || !isfinite(v)) {
        return -EINVAL;
    }
    switch (*end) {
    case 'k': case 'K': v *= 1e3; end++; break;
    case 'm': case 'M': v *= 1e6; end++; break;
    case 'g': case 'G': v *= 1e9; end++; break;
    default: break;
    }
    if (*end) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

static int
parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
    double v;
    if (parse_scaled(s, &v) || v != floor(v) || v < min || v > max) {
        return -EINVAL;
    }
    *out = (unsigned) v;
    return 0;
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
    unsigned b[6];
    char extra;
    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
               &b[5], &extra) != 6) {
        return -EINVAL;
    }
    for (int i = 0; i < 6; i++) {
        if (b[i] > 0xff) {
            return -EINVAL;
        }
        mac[i] = (uint8_t) b[i];
    }
    return 0;
}

enum {
    OPT_TX = 256, OPT_RX, OPT_IMIX, OPT_FLOWS, OPT_FLOW_MACS, OPT_RING_SIZE,
    OPT_RX_RING_SIZE, OPT_TX_RING_SIZE,
    OPT_RX_BUF_SIZE, OPT_MRG, OPT_NO_MRG, OPT_NO_EVENT_IDX, OPT_PACKED,
    OPT_MAC_BASE,
    OPT_CPU, OPT_LINGER, OPT_HELLO_TIMEOUT, OPT_TIMEOUT, OPT_EXPECT_NO_LOSS,
    OPT_NO_PAYLOAD_CHECK,
};

static const struct option long_options[] = {
    { "port", required_argument, NULL, 'p' },
    { "listen", required_argument, NULL, 'l' },
    { "tx", required_argument, NULL, OPT_TX },
    { "rx", required_argument, NULL, OPT_RX },
    { "size", required_argument, NULL, 's' },
    { "imix", no_argument, NULL, OPT_IMIX },
    { "flows", required_argument, NULL, OPT_FLOWS },
    { "flow-macs", no_argument, NULL, OPT_FLOW_MACS },
    { "rate", required_argument, NULL, 'r' },
    { "count", required_argument, NULL, 'c' },
    { "duration", required_argument, NULL, 'd' },
    { "batch", required_argument, NULL, 'b' },
    { "ring-size", required_argument, NULL, OPT_RING_SIZE },
    { "rx-ring-size", required_argument, NULL, OPT_RX_RING_SIZE },
    { "tx-ring-size", required_argument, NULL, OPT_TX_RING_SIZE },
    { "rx-buf-size", required_argument, NULL, OPT_RX_BUF_SIZE },
    { "mrg", no_argument, NULL, OPT_MRG },
    { "no-mrg", no_argument, NULL, OPT_NO_MRG },
    { "no-event-idx", no_argument, NULL, OPT_NO_EVENT_IDX },
    { "packed", no_argument, NULL, OPT_PACKED },
    { "mac-base", required_argument, NULL, OPT_MAC_BASE },
    { "cpu", required_argument, NULL, OPT_CPU },
    { "interval", required_argument, NULL, 'i' },
    { "linger", required_argument, NULL, OPT_LINGER },
    { "hello-timeout", required_argument, NULL, OPT_HELLO_TIMEOUT },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "expect-no-loss", no_argument, NULL, OPT_EXPECT_NO_LOSS },
    { "no-payload-check", no_argument, NULL, OPT_NO_PAYLOAD_CHECK },
    { "json", no_argument, NULL, 'j' },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

/* Applies one option; returns 0 or -EINVAL (after saying why). */
static int
pg_option(struct pg *pg, int c, const char *arg, unsigned *rx_buf_size,
          uint32_t *tx_roles, uint32_t *rx_roles)
{
    unsigned u;
    double d;

    switch (c) {
    case 'p':
    case 'l':
        if (pg->n_ports >= PG_MAX_PORTS) {
            fprintf(stderr, "vupktgen: at most %d ports\n", PG_MAX_PORTS);
            return -EINVAL;
        }
        pg->ports[pg->n_ports].path = arg;
        pg->ports[pg->n_ports].listen = c == 'l';
        pg->n_ports++;
        return 0;
    case OPT_TX:
    case OPT_RX:
        if (parse_uint(arg, 0, PG_MAX_PORTS - 1, &u)) {
            break;
        }
        *(c == OPT_TX ? tx_roles : rx_roles) |= 1u << u;
        return 0;
    case 's':
        if (parse_uint(arg, PG_MIN_FRAME, PG_MAX_FRAME, &pg->size)) {
            break;
        }
        pg->imix = false;
        return 0;
    case OPT_IMIX:
        pg->imix = true;
        return 0;
    case OPT_FLOWS:
        return parse_uint(arg, 1, PG_MAX_FLOWS, &pg->n_flows) ? -EINVAL : 0;
    case OPT_FLOW_MACS:
        pg->flow_macs = true;
        return 0;
    case 'r':
        if (!strcmp(arg, "max")) {
            pg->rate = 0;
            return 0;
        }
        if (parse_scaled(arg, &d) || d < 1) {
            break;
        }
        pg->rate = d;
        return 0;
    case 'c':
        if (parse_scaled(arg, &d) || d < 1 || d != floor(d)) {
            break;
        }
        pg->count = (uint64_t) d;
        return 0;
    case 'd':
        if (parse_scaled(arg, &d) || d <= 0) {
            break;
        }
        pg->duration = d;
        return 0;
    case 'b':
        return parse_uint(arg, 1, PG_BATCH_MAX, &pg->batch) ? -EINVAL : 0;
    case OPT_RING_SIZE:
    case OPT_RX_RING_SIZE:
    case OPT_TX_RING_SIZE:
        if (parse_uint(arg, 2, FE_MAX_RING_SIZE, &u) || u & (u - 1)) {
            break;
        }
        if (c != OPT_TX_RING_SIZE) {
            pg->fe.rx_ring_size = (uint16_t) u;
        }
        if (c != OPT_RX_RING_SIZE) {
            pg->fe.tx_ring_size = (uint16_t) u;
        }
        return 0;
    case OPT_RX_BUF_SIZE:
        return parse_uint(arg, 64, 65536, rx_buf_size) ? -EINVAL : 0;
    case OPT_MRG:
    case OPT_NO_MRG:
        pg->fe.mrg_rxbuf = c == OPT_MRG;
        return 0;
    case OPT_PACKED:
        pg->fe.packed = true;
        return 0;
    case OPT_NO_EVENT_IDX:
        pg->fe.event_idx = false;
        return 0;
    case OPT_MAC_BASE:
        return parse_mac(arg, pg->mac_base) ? -EINVAL : 0;
    case OPT_CPU:
        if (parse_uint(arg, 0, CPU_SETSIZE - 1, &u)) {
            break;
        }
        pg->cpu = (int) u;
        return 0;
    case 'i':
        if (strcmp(arg, "0") && (parse_scaled(arg, &d) || d < 0.001)) {
            break;
        }
        pg->interval = strcmp(arg, "0") ? d : 0;
        return 0;
    case OPT_LINGER:
        return parse_uint(arg, 0, 3600000, &pg->linger_ms) ? -EINVAL : 0;
    case OPT_HELLO_TIMEOUT:
        return parse_uint(arg, 0, 3600000, &pg->hello_timeout_ms)
               ? -EINVAL : 0;
    case OPT_TIMEOUT:
        if (parse_uint(arg, 1, 3600000, &u)) {
            break;
        }
        pg->timeout_ms = (int) u;
        return 0;
    case OPT_EXPECT_NO_LOSS:
        pg->expect_no_loss = true;
        return 0;
    case OPT_NO_PAYLOAD_CHECK:
        pg->check_payload = false;
        return 0;
    case 'j':
        pg->json = true;
        return 0;
    case 'v':
        vlog_set_level(VLL_DBG);
        return 0;
    default:
        return -EINVAL;
    }
    const char *name = "?";
    for (const struct option *o = long_options; o->name; o++) {
        if (o->val == c) {
            name = o->name;
            break;
        }
    }
    fprintf(stderr, "vupktgen: bad value '%s' for --%s\n", arg, name);
    return -EINVAL;
}

/* Parses the command line into 'pg'.  Returns 0, 1 for --help, or
 * -EINVAL. */
static int
pg_parse(struct pg *pg, int argc, char *argv[])
{
    unsigned rx_buf_size = 0;
    uint32_t tx_roles = 0, rx_roles = 0;
    int c;

    memset(pg, 0, sizeof *pg);
    fe_options_init(&pg->fe);
    pg->size = 64;
    pg->n_flows = 1;
    pg->batch = 32;
    pg->cpu = -1;
    pg->interval = 1;
    pg->linger_ms = 200;
    pg->hello_timeout_ms = 2000;
    pg->timeout_ms = 5000;
    pg->check_payload = true;
    memcpy(pg->mac_base, (uint8_t[6]) { 2, 0, 0, 0, 0, 1 }, 6);

    while ((c = getopt_long(argc, argv, "p:l:s:r:c:d:b:i:jvh", long_options,
                            NULL)) != -1) {
        if (c == 'h') {
            usage();
            return 1;
        }
        if (pg_option(pg, c, optarg, &rx_buf_size, &tx_roles, &rx_roles)) {
            return -EINVAL;
        }
    }
    if (optind < argc || !pg->n_ports) {
        fprintf(stderr, "vupktgen: %s (try --help)\n",
                optind < argc ? "unexpected argument" : "no --port given");
        return -EINVAL;
    }
    if ((tx_roles | rx_roles) >> pg->n_ports) {
        fprintf(stderr, "vupktgen: --tx/--rx names a port that is not "
                "there\n");
        return -EINVAL;
    }
    if (!tx_roles && !rx_roles) {
        tx_roles = 1;
        rx_roles = pg->n_ports > 1 ? ((1u << pg->n_ports) - 1) & ~1u : 1;
    }
    if (!pg->count && !pg->duration) {
        pg->duration = 10;
    }
    unsigned max_frame = pg->imix ? 1518 : pg->size;
    pg->fe.tx_buf_size = (sizeof(struct virtio_net_hdr_mrg_rxbuf)
                          + max_frame + 63) & ~63u;
    pg->fe.rx_buf_size = rx_buf_size;  /* 0: as the features need */
    pg->fe.timeout_ms = pg->timeout_ms;

    for (unsigned i = 0; i < pg->n_ports; i++) {
        struct pg_port *p = &pg->ports[i];
        p->idx = i;
        p->tx = tx_roles >> i & 1;
        p->rx = rx_roles >> i & 1;
        memcpy(p->mac, pg->mac_base, 6);
        unsigned carry = i;
        for (int b = 5; b >= 0 && carry; b--) {
            carry += p->mac[b];
            p->mac[b] = (uint8_t) carry;
            carry >>= 8;
        }
    }
    return 0;
}

/* ---- Set-up and teardown. ---- */

static int
pg_open_port(struct pg *pg, struct pg_port *p)
{
    int sock = p->listen ? fe_listen_accept(p->path, pg->timeout_ms)
                         : fe_connect(p->path, pg->timeout_ms);
    if (sock < 0) {
        VLOG_ERR("port %u: %s %s: %s", p->idx,
                 p->listen ? "listen on" : "connect to", p->path,
                 strerror(-sock));
        return sock;
    }
    int err = fe_dev_open(sock, &pg->fe, &p->dev);
    if (err) {
        VLOG_ERR("port %u (%s): vhost-user set-up failed: %s", p->idx,
                 p->path, strerror(-err));
        close(sock);
        return err;
    }
    VLOG_DBG("port %u (%s): features %#" PRIx64 " of %#" PRIx64
             ", protocol features %#" PRIx64 ", header %u bytes",
             p->idx, p->path, p->dev->features, p->dev->backend_features,
             p->dev->protocol_features, p->dev->hdr_size);

    struct fe_ring *tx = &p->dev->tx;
    p->rx_ids = calloc(p->dev->rx.size, sizeof *p->rx_ids);
    if (!p->rx_ids) {
        return -ENOMEM;
    }
    /* Every transmit buffer holds the payload pattern from the start. */
    uint32_t room = tx->buf_size - p->dev->hdr_size;
    for (uint32_t id = 0; id < tx->size; id++) {
        memcpy(fe_ring_buf(tx, (uint16_t) id) + p->dev->hdr_size,
               pg->pattern, MIN(room, PG_MAX_FRAME));
    }
    return p->tx ? pg_build_flows(pg, p) : 0;
}

static int
pg_setup(struct pg *pg)
{
    if (pg->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(pg->cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set)) {
            VLOG_ERR("--cpu %d: %s", pg->cpu, strerror(errno));
            return -errno;
        }
    }
    pg->hz = tsc_hz();
    if (getrandom(&pg->magic, sizeof pg->magic, 0) != sizeof pg->magic) {
        pg->magic = (uint32_t) (tsc_now() ^ (uint64_t) getpid() << 16);
    }
    pg->magic |= 1;
    pg->hist.min = UINT64_MAX;

    pg->pattern = malloc(PG_MAX_FRAME);
    pg->scratch = malloc(PG_MAX_FRAME);
    if (!pg->pattern || !pg->scratch) {
        return -ENOMEM;
    }
    uint32_t x = pg->magic;
    for (unsigned i = 0; i < PG_MAX_FRAME; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        pg->pattern[i] = (uint8_t) x;
    }

    for (unsigned i = 0; i < pg->n_ports; i++) {
        int err = pg_open_port(pg, &pg->ports[i]);
        if (err) {
            return err;
        }
        pg->n_tx_active += pg->ports[i].tx;
    }
    if (pg->rate > 0 && pg->n_tx_active) {
        pg->frames_per_cycle = pg->rate / pg->n_tx_active / (double) pg->hz;
    }
    return 0;
}

static void
pg_teardown(struct pg *pg)
{
    for (unsigned i = 0; i < pg->n_ports; i++) {
        struct pg_port *p = &pg->ports[i];
        fe_dev_close(p->dev);
        p->dev = NULL;
        free(p->flows);
        free(p->rx_ids);
        if (p->listen) {
            unlink(p->path);
        }
    }
    free(pg->pattern);
    free(pg->scratch);
}

/* ---- Report. ---- */

struct pg_result {
    uint64_t sent, sent_bytes, received, received_bytes;
    uint64_t lost, corrupt, reordered, misdelivered;
    double tx_secs, rx_secs;
    double tx_pps, rx_pps, tx_bps, rx_bps, best_rx_pps;
    double cycles_per_frame;    /* ours, per frame sent or received */
    double busy;                /* fraction of the run spent moving frames */
    bool broken;
};

static void
pg_result(const struct pg *pg, struct pg_result *res)
{
    uint64_t last_rx = pg->t0;

    memset(res, 0, sizeof *res);
    for (unsigned i = 0; i < pg->n_ports; i++) {
        const struct pg_port *p = &pg->ports[i];
        res->sent += p->tx_frames;
        res->sent_bytes += p->tx_bytes;
        res->received += p->rx_frames;
        res->received_bytes += p->rx_bytes;
        res->corrupt += p->rx_corrupt;
        res->reordered += p->rx_reordered;
        res->misdelivered += p->rx_misdelivered;
        last_rx = MAX(last_rx, p->rx_last_tsc);
        res->broken |= p->dev->rx.broken || p->dev->tx.broken;
    }
    res->lost = res->sent > res->received ? res->sent - res->received : 0;
    res->tx_secs = (double) ((pg->t_tx_end ? pg->t_tx_end : pg->t_end)
                             - pg->t0) / (double) pg->hz;
    res->rx_secs = (double) (last_rx - pg->t0) / (double) pg->hz;
    if (res->tx_secs > 0) {
        res->tx_pps = (double) res->sent / res->tx_secs;
        res->tx_bps = (double) res->sent_bytes * 8 / res->tx_secs;
    }
    if (res->rx_secs > 0) {
        res->rx_pps = (double) res->received / res->rx_secs;
        res->rx_bps = (double) res->received_bytes * 8 / res->rx_secs;
    }
    for (unsigned i = 0; i < pg->n_samples; i++) {
        res->best_rx_pps = MAX(res->best_rx_pps, pg->samples[i].rx_pps);
    }
    if (pg->busy_frames) {
        res->cycles_per_frame = (double) pg->busy_cycles
                                / (double) pg->busy_frames;
    }
    if (pg->t_end > pg->t0) {
        res->busy = (double) pg->busy_cycles / (double) (pg->t_end - pg->t0);
    }
}

static uint64_t
pg_ns(const struct pg *pg, uint64_t cycles)
{
    return (uint64_t) ((double) cycles * 1e9 / (double) pg->hz + 0.5);
}

static void
format_mac(const uint8_t mac[6], char s[18])
{
    snprintf(s, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
             mac[3], mac[4], mac[5]);
}

/* The ring layout the ports negotiated: "split", "packed", or "mixed"
 * (not with vupktgen's own options, but a report should not assume it). */
static const char *
pg_ring_layout(const struct pg *pg)
{
    unsigned n_packed = 0;
    for (unsigned i = 0; i < pg->n_ports; i++) {
        n_packed += pg->ports[i].dev->packed;
    }
    return !n_packed ? "split" : n_packed == pg->n_ports ? "packed" : "mixed";
}

static void
pg_report_text(const struct pg *pg, const struct pg_result *res)
{
    const struct pg_hist *h = &pg->hist;
    char mac[18];

    printf("%s rings, rx %u / tx %u entries\n",
           pg_ring_layout(pg), pg->fe.rx_ring_size,
           pg->fe.tx_ring_size);
    for (unsigned i = 0; i < pg->n_ports; i++) {
        const struct pg_port *p = &pg->ports[i];
        format_mac(p->mac, mac);
        printf("port %u %s%s%s %s  mac %s  features %#" PRIx64 "\n"
               "  sent %" PRIu64 " (+%" PRIu64 " hellos)  received %"
               PRIu64 "  corrupt %" PRIu64 "  reordered %" PRIu64
               "  misdelivered %" PRIu64 "  hellos %" PRIu64 "  other %"
               PRIu64 "\n", i, p->tx ? "tx" : "", p->tx && p->rx ? "+" : "",
               p->rx ? "rx" : "", p->path, mac, p->dev->features,
               p->tx_frames, p->tx_hellos, p->rx_frames, p->rx_corrupt,
               p->rx_reordered, p->rx_misdelivered, p->rx_hellos,
               p->rx_other);
    }
    printf("sent %" PRIu64 "  received %" PRIu64 "  lost %" PRIu64
           " (%.4f%%)  corrupt %" PRIu64 "  reordered %" PRIu64 "%s\n",
           res->sent, res->received, res->lost,
           res->sent ? 100.0 * (double) res->lost / (double) res->sent : 0.0,
           res->corrupt, res->reordered,
           res->broken ? "  RING PROTOCOL BROKEN BY BACKEND" : "");
    printf("tx %.4f Mpps %.3f Gbit/s over %.3f s; rx %.4f Mpps %.3f Gbit/s"
           "; best %.0f s sample rx %.4f Mpps\n",
           res->tx_pps / 1e6, res->tx_bps / 1e9, res->tx_secs,
           res->rx_pps / 1e6, res->rx_bps / 1e9, pg->interval,
           res->best_rx_pps / 1e6);
    printf("generator: %.1f cycles per frame sent or received, busy %.1f%%\n",
           res->cycles_per_frame, 100 * res->busy);
    if (h->n) {
        printf("latency ns: min %" PRIu64 "  p50 %" PRIu64 "  p99 %" PRIu64
               "  p99.9 %" PRIu64 "  max %" PRIu64 "  mean %" PRIu64 "\n",
               pg_ns(pg, h->min), pg_ns(pg, pg_hist_quantile(h, 0.5)),
               pg_ns(pg, pg_hist_quantile(h, 0.99)),
               pg_ns(pg, pg_hist_quantile(h, 0.999)), pg_ns(pg, h->max),
               pg_ns(pg, h->sum / h->n));
    }
    if (!pg->hellos_ok) {
        printf("warning: hellos did not get through before sending\n");
    }
}

static void
pg_report_json_port(struct json *j, const struct pg_port *p)
{
    char mac[18];
    format_mac(p->mac, mac);
    json_object_begin(j);
    json_kv_u64(j, "index", p->idx);
    json_kv_string(j, "path", p->path);
    json_kv_bool(j, "listen", p->listen);
    json_kv_string(j, "mac", mac);
    json_kv_bool(j, "tx", p->tx);
    json_kv_bool(j, "rx", p->rx);
    json_kv_u64(j, "features", p->dev->features);
    json_kv_u64(j, "protocol_features", p->dev->protocol_features);
    json_kv_u64(j, "sent", p->tx_frames);
    json_kv_u64(j, "sent_bytes", p->tx_bytes);
    json_kv_u64(j, "hellos_sent", p->tx_hellos);
    json_kv_u64(j, "received", p->rx_frames);
    json_kv_u64(j, "received_bytes", p->rx_bytes);
    json_kv_u64(j, "corrupt", p->rx_corrupt);
    json_kv_u64(j, "reordered", p->rx_reordered);
    json_kv_u64(j, "misdelivered", p->rx_misdelivered);
    json_kv_u64(j, "hellos_received", p->rx_hellos);
    json_kv_u64(j, "other_received", p->rx_other);
    json_kv_u64(j, "tx_kicks", p->dev->tx.n_kicks);
    json_kv_u64(j, "rx_kicks", p->dev->rx.n_kicks);
    json_object_end(j);
}

/* One JSON object; rates are integers: frames/s and bits/s. */
static int
pg_report_json(const struct pg *pg, const struct pg_result *res)
{
    const struct pg_hist *h = &pg->hist;
    struct json j;

    json_init(&j, false);
    json_object_begin(&j);
    json_key(&j, "ports");
    json_array_begin(&j);
    for (unsigned i = 0; i < pg->n_ports; i++) {
        pg_report_json_port(&j, &pg->ports[i]);
    }
    json_array_end(&j);
    if (pg->imix) {
        json_kv_string(&j, "frame_size", "imix");
    } else {
        json_kv_u64(&j, "frame_size", pg->size);
    }
    json_kv_u64(&j, "flows", pg->n_flows);
    json_kv_u64(&j, "batch", pg->batch);
    json_kv_string(&j, "ring", pg_ring_layout(pg));
    json_kv_u64(&j, "rx_ring_size", pg->fe.rx_ring_size);
    json_kv_u64(&j, "tx_ring_size", pg->fe.tx_ring_size);
    json_kv_u64(&j, "rate_pps", (uint64_t) pg->rate);
    json_kv_bool(&j, "hellos_ok", pg->hellos_ok);
    json_kv_bool(&j, "broken", res->broken);
    json_kv_u64(&j, "sent", res->sent);
    json_kv_u64(&j, "received", res->received);
    json_kv_u64(&j, "lost", res->lost);
    json_kv_u64(&j, "corrupt", res->corrupt);
    json_kv_u64(&j, "reordered", res->reordered);
    json_kv_u64(&j, "misdelivered", res->misdelivered);
    json_kv_u64(&j, "tx_ns", (uint64_t) (res->tx_secs * 1e9));
    json_kv_u64(&j, "rx_ns", (uint64_t) (res->rx_secs * 1e9));
    json_kv_u64(&j, "tx_pps", (uint64_t) res->tx_pps);
    json_kv_u64(&j, "rx_pps", (uint64_t) res->rx_pps);
    json_kv_u64(&j, "tx_bps", (uint64_t) res->tx_bps);
    json_kv_u64(&j, "rx_bps", (uint64_t) res->rx_bps);
    json_kv_u64(&j, "best_rx_pps", (uint64_t) res->best_rx_pps);
    json_kv_u64(&j, "cycles_per_frame", (uint64_t) res->cycles_per_frame);
    json_kv_u64(&j, "busy_permille", (uint64_t) (res->busy * 1000));
    json_key(&j, "samples_rx_pps");
    json_array_begin(&j);
    for (unsigned i = 0; i < pg->n_samples; i++) {
        json_u64(&j, (uint64_t) pg->samples[i].rx_pps);
    }
    json_array_end(&j);
    json_key(&j, "latency_ns");
    json_object_begin(&j);
    json_kv_u64(&j, "count", h->n);
    json_kv_u64(&j, "min", h->n ? pg_ns(pg, h->min) : 0);
    json_kv_u64(&j, "mean", h->n ? pg_ns(pg, h->sum / h->n) : 0);
    json_kv_u64(&j, "p50", pg_ns(pg, pg_hist_quantile(h, 0.5)));
    json_kv_u64(&j, "p99", pg_ns(pg, pg_hist_quantile(h, 0.99)));
    json_kv_u64(&j, "p999", pg_ns(pg, pg_hist_quantile(h, 0.999)));
    json_kv_u64(&j, "max", pg_ns(pg, h->max));
    json_object_end(&j);
    json_object_end(&j);

    int err = json_error(&j);
    if (!err) {
        puts(json_text(&j));
    }
    json_destroy(&j);
    return err;
}

int
main(int argc, char *argv[])
{
    static struct pg pg;        /* large: histogram and samples */
    struct pg_result res;
    int status = 1;

    int err = pg_parse(&pg, argc, argv);
    if (err) {
        return err > 0 ? 0 : 2;
    }
    struct sigaction sa = { .sa_handler = on_signal,
                            .sa_flags = SA_RESETHAND };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (pg_setup(&pg)) {
        goto out;
    }
    pg_hello_phase(&pg);
    pg_run(&pg);
    pg_result(&pg, &res);
    if (res.broken) {
        VLOG_ERR("a backend broke the ring protocol (bad used id or index)");
    }
    if (pg.json ? pg_report_json(&pg, &res) : (pg_report_text(&pg, &res), 0)) {
        goto out;
    }
    fflush(stdout);
    status = 0;
    if (pg.expect_no_loss
        && (res.received != res.sent || res.corrupt || res.broken)) {
        status = 3;
    }
out:
    pg_teardown(&pg);
    return status;
}
