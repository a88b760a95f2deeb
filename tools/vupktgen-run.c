/* vupktgen-run.c -- vupktgen's traffic engine: builds and checks frames,
 * runs the transmit and receive bursts and the busy-polling loop over all
 * ports (see the phases at the top of vupktgen.c).  Called by main() on
 * the one thread, pinned with --cpu, after set-up. */
#include <config.h>
#include "vupktgen.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tsc.h"
#include "util.h"

/* Simple IMIX, 7:4:1 of 64, 594 and 1518 bytes, interleaved. */
static const uint16_t imix_sizes[] = {
    64, 594, 64, 64, 594, 64, 1518, 64, 594, 64, 64, 594,
};

/* ---- Frames. ---- */

static inline void
put_be16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v & 0xff;
}

static inline uint16_t
get_be16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

static inline uint16_t
csum_fold(uint32_t sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t) ~sum;
}

static uint32_t
csum_add(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += get_be16(p + i);
    }
    return sum;
}

/* True if the IPv4 header at 'ip' (20 bytes, no options) has a valid
 * checksum.  The one's complement sum works in either byte order: a valid
 * header sums to 0xffff. */
static inline bool
ip_csum_ok(const uint8_t *ip)
{
    uint32_t w[5];
    memcpy(w, ip, sizeof w);
    uint64_t sum = (uint64_t) w[0] + w[1] + w[2] + w[3] + w[4];
    sum = (sum & 0xffffffff) + (sum >> 32);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

static void
port_ip(const struct pg_port *p, uint8_t ip[4])
{
    ip[0] = 10;
    ip[1] = 0;
    ip[2] = (uint8_t) p->idx;
    ip[3] = 1;
}

/* The ports port 'p' sends to: receiving ports other than itself; else
 * itself if it receives; else the next port. */
static unsigned
pg_destinations(const struct pg *pg, const struct pg_port *p,
                unsigned dsts[PG_MAX_PORTS])
{
    unsigned n = 0;
    for (unsigned i = 0; i < pg->n_ports; i++) {
        if (pg->ports[i].rx && i != p->idx) {
            dsts[n++] = i;
        }
    }
    if (!n) {
        dsts[n++] = p->rx ? p->idx : (p->idx + 1) % pg->n_ports;
    }
    return n;
}

int
pg_build_flows(struct pg *pg, struct pg_port *p)
{
    unsigned dsts[PG_MAX_PORTS];
    unsigned n_dsts = pg_destinations(pg, p, dsts);

    p->n_flows = pg->n_flows;
    p->flows = calloc(p->n_flows, sizeof *p->flows);
    if (!p->flows) {
        return -ENOMEM;
    }
    for (unsigned f = 0; f < p->n_flows; f++) {
        const struct pg_port *d = &pg->ports[dsts[f % n_dsts]];
        uint8_t *h = p->flows[f].hdr;

        memcpy(h, d->mac, 6);
        memcpy(h + 6, p->mac, 6);
        if (pg->flow_macs && f) {
            h[6 + 3] ^= (uint8_t) (f >> 8);
            h[6 + 4] ^= (uint8_t) f;
        }
        put_be16(h + 12, 0x0800);
        uint8_t *ip = h + PG_OFF_IP;
        ip[0] = 0x45;
        put_be16(ip + 6, 0x4000);       /* DF */
        ip[8] = 64;
        ip[9] = 17;
        port_ip(p, ip + 12);
        port_ip(d, ip + 16);
        uint8_t *udp = h + PG_OFF_UDP;
        put_be16(udp, (uint16_t) (1024 + f));
        put_be16(udp + 2, 5001);
        p->flows[f].csum_base = csum_add(ip, 20);
    }
    return 0;
}

/* Writes the next frame of port 'p' at 'f'; returns its length.  Only the
 * first PG_MIN_FRAME bytes are written: the rest of every transmit buffer
 * holds the pattern since set-up and the backend never writes it. */
static inline uint32_t
pg_build(const struct pg *pg, struct pg_port *p, uint8_t *f, uint64_t tsc)
{
    uint32_t len;
    if (pg->imix) {
        len = imix_sizes[p->imix_pos];
        if (++p->imix_pos == ARRAY_SIZE(imix_sizes)) {
            p->imix_pos = 0;
        }
    } else {
        len = pg->size;
    }
    const struct pg_flow *fl = &p->flows[p->flow];
    if (++p->flow == p->n_flows) {
        p->flow = 0;
    }

    memcpy(f, fl->hdr, PG_OFF_MAGIC);
    put_be16(f + PG_OFF_IP + 2, (uint16_t) (len - PG_OFF_IP));
    put_be16(f + PG_OFF_IP + 10,
             csum_fold(fl->csum_base + (len - PG_OFF_IP)));
    put_be16(f + PG_OFF_UDP + 4, (uint16_t) (len - PG_OFF_UDP));
    uint64_t seq = (uint64_t) p->idx << 56 | (p->seq++ & PG_SEQ_MASK);
    memcpy(f + PG_OFF_MAGIC, &pg->magic, 4);
    memcpy(f + PG_OFF_SEQ, &seq, 8);
    memcpy(f + PG_OFF_TSC, &tsc, 8);
    return len;
}

/* Gratuitous ARP request from port 'p' (60 bytes). */
static uint32_t
pg_build_hello(const struct pg_port *p, uint8_t *f)
{
    memset(f, 0, 60);
    memset(f, 0xff, 6);
    memcpy(f + 6, p->mac, 6);
    put_be16(f + 12, 0x0806);
    put_be16(f + 14, 1);                /* Ethernet */
    put_be16(f + 16, 0x0800);           /* IPv4 */
    f[18] = 6;
    f[19] = 4;
    put_be16(f + 20, 1);                /* request */
    memcpy(f + 22, p->mac, 6);
    port_ip(p, f + 28);
    port_ip(p, f + 38);
    return 60;
}

/* If 'f' is one of our hellos, returns the sender's port index, else -1. */
static int
pg_hello_from(const struct pg *pg, const uint8_t *f, uint32_t len)
{
    if (len < 42 || get_be16(f + 12) != 0x0806 || get_be16(f + 20) != 1) {
        return -1;
    }
    for (unsigned i = 0; i < pg->n_ports; i++) {
        if (!memcmp(f + 22, pg->ports[i].mac, 6)) {
            return (int) i;
        }
    }
    return -1;
}

/* Checks a frame that carries our magic; counts it. */
static inline void
pg_rx_ours(struct pg *pg, struct pg_port *p, const uint8_t *f, uint32_t len,
           uint64_t now)
{
    uint64_t seq, tsc;
    memcpy(&seq, f + PG_OFF_SEQ, 8);
    memcpy(&tsc, f + PG_OFF_TSC, 8);
    unsigned src = (unsigned) (seq >> 56);
    seq &= PG_SEQ_MASK;

    const uint8_t *ip = f + PG_OFF_IP;
    if (unlikely(get_be16(f + 12) != 0x0800 || ip[0] != 0x45 || ip[9] != 17
                 || get_be16(ip + 2) != len - PG_OFF_IP
                 || get_be16(f + PG_OFF_UDP + 4) != len - PG_OFF_UDP
                 || !ip_csum_ok(ip)
                 || src >= pg->n_ports
                 || (pg->check_payload
                     && memcmp(f + PG_MIN_FRAME, pg->pattern + PG_MIN_FRAME,
                               len - PG_MIN_FRAME)))) {
        p->rx_corrupt++;
        return;
    }
    if (unlikely(memcmp(f, p->mac, 6))) {
        p->rx_misdelivered++;
    }
    uint64_t *next = &p->next_seq[src];
    if (likely(seq >= *next)) {
        *next = seq + 1;
    } else {
        p->rx_reordered++;
    }
    if (likely(now > tsc)) {
        pg_hist_add(&pg->hist, now - tsc);
    }
    p->rx_frames++;
    p->rx_bytes += len;
}

static inline void
pg_rx_frame(struct pg *pg, struct pg_port *p, const uint8_t *f, uint32_t len,
            uint64_t now)
{
    uint32_t magic;
    if (likely(len >= PG_MIN_FRAME && len <= PG_MAX_FRAME)) {
        memcpy(&magic, f + PG_OFF_MAGIC, 4);
        if (likely(magic == pg->magic)) {
            pg_rx_ours(pg, p, f, len, now);
            return;
        }
    }
    int from = pg_hello_from(pg, f, len);
    if (from >= 0) {
        p->rx_hellos++;
        p->hello_from[from]++;
    } else {
        p->rx_other++;
        p->rx_other_bytes += len;
    }
}

/* ---- Datapath. ---- */

/* Copies a frame spread over 'nb' mergeable buffers, starting at used
 * entry 'i', into pg->scratch.  Returns its length, or -1 if the used
 * entries do not describe a sane frame. */
static int64_t
pg_rx_gather(struct pg *pg, struct fe_ring *r, uint16_t i, uint16_t nb,
             uint32_t hdr_size, uint16_t *ids)
{
    uint32_t total = 0;
    bool bad = false;
    for (uint16_t k = 0; k < nb; k++) {
        uint32_t id, len;
        fe_ring_used_get(r, (uint16_t) (i + k), &id, &len);
        uint32_t skip = k ? 0 : hdr_size;
        if (id >= r->size) {
            r->broken = true;
            return -1;
        }
        ids[k] = (uint16_t) id;
        if (len > r->buf_size || len < skip
            || total + (len - skip) > PG_MAX_FRAME) {
            bad = true;
            continue;
        }
        memcpy(pg->scratch + total, fe_ring_buf(r, id) + skip, len - skip);
        total += len - skip;
    }
    return bad ? -1 : (int64_t) total;
}

/* One receive burst on port 'p': up to pg->batch frames.  Returns the
 * number of buffers consumed. */
static unsigned
pg_rx_burst(struct pg *pg, struct pg_port *p)
{
    struct fe_ring *r = &p->dev->rx;
    uint16_t avail = fe_ring_used_pending(r);
    if (!avail) {
        return 0;
    }

    uint32_t hdr_size = p->dev->hdr_size;
    bool mrg = p->dev->mrg_rxbuf;
    uint64_t now = tsc_now();
    uint16_t i = 0;

    /* Start fetching the burst's buffers (the backend just wrote them, on
     * another CPU) before reading any: misses overlap instead of queuing. */
    for (uint16_t k = 0; k < MIN(avail, pg->batch); k++) {
        uint32_t id, len;
        fe_ring_used_get(r, k, &id, &len);
        if (likely(id < r->size)) {
            const uint8_t *b = fe_ring_buf(r, (uint16_t) id);
            __builtin_prefetch(b);
            __builtin_prefetch(b + CACHE_LINE_SIZE);
        }
    }
    for (unsigned n = 0; n < pg->batch && i < avail; n++) {
        uint32_t id, len;
        fe_ring_used_get(r, i, &id, &len);
        if (unlikely(id >= r->size)) {
            r->broken = true;
            break;
        }
        const uint8_t *buf = fe_ring_buf(r, (uint16_t) id);
        uint16_t nb = 1;
        if (mrg) {
            nb = ((const struct virtio_net_hdr_mrg_rxbuf *) buf)->num_buffers;
            nb = nb ? nb : 1;
        }
        if (likely(nb == 1)) {
            p->rx_ids[i] = (uint16_t) id;
            if (likely(len >= hdr_size && len <= r->buf_size)) {
                pg_rx_frame(pg, p, buf + hdr_size, len - hdr_size, now);
            } else {
                p->rx_corrupt++;
            }
        } else {
            if (nb > avail - i) {
                if (nb > r->size) {
                    r->broken = true;
                }
                break;          /* the rest is not published yet */
            }
            int64_t flen = pg_rx_gather(pg, r, i, nb, hdr_size, p->rx_ids + i);
            if (r->broken) {
                break;
            }
            if (flen >= 0) {
                pg_rx_frame(pg, p, pg->scratch, (uint32_t) flen, now);
            } else {
                p->rx_corrupt++;
            }
        }
        i += nb;
    }
    if (i) {
        fe_ring_used_consume(r, i);
        fe_ring_post(r, p->rx_ids, i);
        fe_ring_kick(r);
        p->rx_last_tsc = now;
    }
    return i;
}

/* One transmit burst on port 'p': at most 'budget' frames. */
static unsigned
pg_tx_burst(struct pg *pg, struct pg_port *p, uint64_t now, uint64_t budget)
{
    struct fe_ring *r = &p->dev->tx;
    uint16_t ids[PG_BATCH_MAX];

    if (r->n_free < pg->batch) {
        fe_tx_reclaim(r);
    }
    uint64_t want = MIN(budget, (uint64_t) pg->batch);
    if (r->n_free < want) {
        /* The ring is what limits us: wait for a whole burst's worth of
         * room rather than publish (and maybe kick) for a few frames. */
        return 0;
    }
    unsigned n = (unsigned) want;
    uint32_t hdr_size = p->dev->hdr_size;
    uint64_t bytes = 0;
    for (unsigned i = 0; i < n; i++) {
        __builtin_prefetch(fe_ring_buf(r, fe_tx_peek(r, i)) + hdr_size, 1);
    }
    for (unsigned i = 0; i < n; i++) {
        uint16_t id = fe_tx_get(r);
        uint32_t len = pg_build(pg, p, fe_ring_buf(r, id) + hdr_size, now);
        fe_tx_set_len(r, id, hdr_size + len);
        bytes += len;
        ids[i] = id;
    }
    fe_ring_post(r, ids, n);
    fe_ring_kick(r);
    p->tx_frames += n;
    p->tx_bytes += bytes;
    return n;
}

/* How many frames port 'p' may send now. */
static inline uint64_t
pg_tx_budget(const struct pg *pg, const struct pg_port *p, uint64_t now)
{
    uint64_t budget = pg->count ? pg->count - p->tx_frames : UINT64_MAX;
    if (pg->frames_per_cycle > 0) {
        uint64_t due = (uint64_t) ((double) (now - pg->t0)
                                   * pg->frames_per_cycle) + 1;
        budget = MIN(budget, due > p->tx_frames ? due - p->tx_frames : 0);
    }
    return budget;
}

static bool
pg_send_hello(struct pg_port *p)
{
    struct fe_ring *r = &p->dev->tx;
    fe_tx_reclaim(r);
    if (!r->n_free) {
        return false;
    }
    uint16_t id = fe_tx_get(r);
    uint32_t hdr_size = p->dev->hdr_size;
    uint32_t len = pg_build_hello(p, fe_ring_buf(r, id) + hdr_size);
    fe_tx_set_len(r, id, hdr_size + len);
    fe_ring_post(r, &id, 1);
    fe_ring_kick(r);
    p->tx_hellos++;
    return true;
}

static bool
pg_any_broken(const struct pg *pg)
{
    for (unsigned i = 0; i < pg->n_ports; i++) {
        const struct fe_dev *d = pg->ports[i].dev;
        if (d->rx.broken || d->tx.broken) {
            return true;
        }
    }
    return false;
}

/* True once every port that sends to another has seen that one's hello
 * and the other has seen its. */
static bool
pg_hellos_done(const struct pg *pg)
{
    for (unsigned i = 0; i < pg->n_ports; i++) {
        const struct pg_port *t = &pg->ports[i];
        unsigned dsts[PG_MAX_PORTS];
        unsigned n = t->tx ? pg_destinations(pg, t, dsts) : 0;
        for (unsigned k = 0; k < n; k++) {
            const struct pg_port *d = &pg->ports[dsts[k]];
            if (d != t && (!d->hello_from[i] || !t->hello_from[d->idx])) {
                return false;
            }
        }
    }
    return true;
}

/* The hello phase (see the top of vupktgen.c). */
void
pg_hello_phase(struct pg *pg)
{
    uint64_t start = tsc_now(), next_send = start;
    uint64_t limit = start + pg->hz / 1000 * pg->hello_timeout_ms;

    for (;;) {
        uint64_t now = tsc_now();
        if (now >= next_send) {
            for (unsigned i = 0; i < pg->n_ports; i++) {
                pg_send_hello(&pg->ports[i]);
            }
            next_send = now + pg->hz / 5;
        }
        for (unsigned i = 0; i < pg->n_ports; i++) {
            pg_rx_burst(pg, &pg->ports[i]);
        }
        if (pg_hellos_done(pg)) {
            pg->hellos_ok = true;
            break;
        }
        if (now >= limit || pg_stop_requested || pg_any_broken(pg)) {
            VLOG_WARN("hello frames did not get through within %u ms "
                      "(%.0f ms); sending anyway", pg->hello_timeout_ms,
                      (double) (now - start) * 1e3 / (double) pg->hz);
            break;
        }
    }
    /* Let the last hellos drain so that they are not counted late. */
    for (uint64_t end = tsc_now() + pg->hz / 100; tsc_now() < end;) {
        for (unsigned i = 0; i < pg->n_ports; i++) {
            pg_rx_burst(pg, &pg->ports[i]);
            fe_tx_reclaim(&pg->ports[i].dev->tx);
        }
    }
}

/* Frames sent, frames of ours received intact, and every frame received
 * (ours, corrupt, hellos and others), over all ports. */
static void
pg_totals(const struct pg *pg, uint64_t *tx, uint64_t *rx, uint64_t *rx_any)
{
    *tx = *rx = *rx_any = 0;
    for (unsigned i = 0; i < pg->n_ports; i++) {
        const struct pg_port *p = &pg->ports[i];
        *tx += p->tx_frames;
        *rx += p->rx_frames;
        *rx_any += p->rx_frames + p->rx_corrupt + p->rx_hellos + p->rx_other;
    }
}

static void
pg_sample(struct pg *pg, uint64_t now, uint64_t dt, uint64_t d_tx,
          uint64_t d_rx)
{
    if (pg->n_samples >= PG_MAX_SAMPLES) {
        return;
    }
    double secs = (double) dt / (double) pg->hz;
    struct pg_sample *s = &pg->samples[pg->n_samples++];
    s->t = (double) (now - pg->t0) / (double) pg->hz;
    s->tx_pps = (double) d_tx / secs;
    s->rx_pps = (double) d_rx / secs;
    if (!pg->json) {
        fprintf(stderr, "%8.2f s  tx %9.4f Mpps  rx %9.4f Mpps\n",
                s->t, s->tx_pps / 1e6, s->rx_pps / 1e6);
    }
}

/* Traffic and linger phases: the busy-polling loop. */
void
pg_run(struct pg *pg)
{
    uint64_t tick = pg->hz / 1000;      /* housekeeping every ~1 ms */
    uint64_t sample_every = (uint64_t) (pg->interval * (double) pg->hz);
    uint64_t t_stop = pg->duration > 0
                      ? (uint64_t) (pg->duration * (double) pg->hz) : 0;
    uint64_t linger = pg->hz / 1000 * pg->linger_ms;
    uint64_t max_iteration = pg->hz / 20000;
    bool sink = !pg->n_tx_active;       /* nothing to send: run until told */
    bool sending = true;
    uint64_t s_tx = 0, s_rx = 0, t_sample, last_any = 0, t_progress;

    pg->t0 = tsc_now();
    uint64_t next_tick = pg->t0 + tick;
    t_sample = t_progress = pg->t0;

    for (;;) {
        uint64_t now = tsc_now();
        unsigned work = 0;
        for (unsigned i = 0; i < pg->n_ports; i++) {
            struct pg_port *p = &pg->ports[i];
            if (sending && p->tx && !p->tx_done) {
                uint64_t budget = pg_tx_budget(pg, p, now);
                if (budget) {
                    work += pg_tx_burst(pg, p, now, budget);
                }
                if (pg->count && p->tx_frames >= pg->count) {
                    p->tx_done = true;
                    pg->n_tx_active--;
                }
            }
            work += pg_rx_burst(pg, p);
        }
        if (work) {
            /* The cost of the frames, without the idle polls, and without
             * the iterations that took so long (over 50 us) that we must
             * have been preempted. */
            uint64_t dt = tsc_now() - now;
            if (likely(dt < max_iteration)) {
                pg->busy_cycles += dt;
                pg->busy_frames += work;
            }
        }
        if (likely(now < next_tick)) {
            continue;
        }

        /* Housekeeping, about once per millisecond. */
        next_tick = now + tick;
        uint64_t tx, rx, any;
        pg_totals(pg, &tx, &rx, &any);
        if (any != last_any) {
            last_any = any;
            t_progress = now;
        }
        if (sample_every && now - t_sample >= sample_every) {
            pg_sample(pg, now, now - t_sample, tx - s_tx, rx - s_rx);
            s_tx = tx;
            s_rx = rx;
            t_sample = now;
        }
        bool broken = pg_any_broken(pg);
        bool timed_out = t_stop && now - pg->t0 >= t_stop;
        if (sending && (pg_stop_requested || broken || timed_out
                        || (!sink && !pg->n_tx_active))) {
            sending = false;
            pg->t_tx_end = now;
            t_progress = now;
        }
        if (!sending) {
            /* Linger: reclaim what the backend finished, wait for the
             * frames in flight. */
            for (unsigned i = 0; i < pg->n_ports; i++) {
                fe_tx_reclaim(&pg->ports[i].dev->tx);
            }
            if ((tx && rx >= tx) || sink || broken
                || now - t_progress >= linger) {
                break;
            }
        }
    }
    pg->t_end = tsc_now();
}
