/* hostile-load.c -- the hostile front end under load: the scenario
 * vring-base-under-load (GET_VRING_BASE on the rings of a device that
 * frames flow through both ways, listed in h_guest_scenarios), and the
 * garbage flooder that "hostile --flood/--idle" runs for
 * tests/integration/isolation.sh (h_flood).  Both drive the hostile guest
 * of hostile-guest.c (hg_*) from a loop of their own and stop and restart
 * its rings as QEMU does.
 *
 * See hostile.h for the harness. */
#include <config.h>

#include "hostile.h"

#include <errno.h>
#include <linux/virtio_ring.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* ---- GET_VRING_BASE under full load. ---- */

/* A load thread drives three roles at full speed: the peer sends
 * sequence-numbered frames to the hostile guest (L_PEER), the hostile
 * guest transmits on its transmit ring (L_TX) and takes frames from its
 * receive ring (L_RX).  The scenario's thread stops and restarts the
 * hostile guest's rings meanwhile; it first takes a role away from the
 * load thread (load_set), so that only one of our threads touches a ring
 * at a time.  Every receive buffer is filled with HG_FILL_RX before it is
 * posted: one the switch has not handed back must still hold it. */
enum { L_PEER = 1, L_TX = 2, L_RX = 4, L_ALL = 7 };

#define SEQ_OFF (HG_HDR + 14)   /* the peer's sequence number, u64 */
#define USED_SIZE (4 + 8 * HG_RING_SIZE + 2)

struct load {
    struct hg_guest *g, *peer;

    /* Written by the scenario's thread; the load thread copies 'want'
     * and acknowledges at the top of its loop. */
    unsigned want;
    uint64_t req;
    bool stop;

    /* Written by the load thread. */
    uint64_t ack;
    unsigned roles;
    uint64_t peer_sent;         /* last sequence number posted */
    uint64_t tx_posted;         /* hostile guest's transmit chains */
    uint16_t tx_reaped, rx_reaped;
    uint64_t rx_mine, rx_other, last_seq;
    char why[256];              /* the first inconsistency seen */
};

static void __attribute__((format(printf, 2, 3)))
load_fail(struct load *l, const char *fmt, ...)
{
    if (!l->why[0]) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(l->why, sizeof l->why, fmt, args);
        va_end(args);
    }
}

/* The peer keeps up to 224 frames in flight, so that a buffer is
 * rewritten only after the switch gave it back. */
static void
load_peer(struct load *l)
{
    struct hg_ring *r = &l->peer->tx;
    uint16_t heads[32];

    if ((uint16_t) (r->avail_idx - hg_ring_used(r)) > HG_RING_SIZE - 32) {
        return;
    }
    for (unsigned i = 0; i < ARRAY_SIZE(heads); i++) {
        uint16_t h = (uint16_t) (r->avail_idx + i) % HG_RING_SIZE;
        uint64_t seq = ++l->peer_sent;
        memcpy(hg_r0(l->peer, HG_OFF_TXBUF + h * HG_BUF_SIZE + SEQ_OFF), &seq,
               sizeof seq);
        hg_set_desc(&r->desc[h], hg_buf_gpa(r, h), HG_HDR + HG_FRAME, 0, 0);
        heads[i] = h;
    }
    hg_ring_post(r, heads, ARRAY_SIZE(heads));
}

/* Used entries must come back in the order the chains were posted, each
 * once: whatever the switch took before a stop and after a restart. */
static bool
used_entry_ok(struct load *l, const struct hg_ring *r, uint16_t k,
              const char *which, uint32_t *len)
{
    const struct vring_used_elem *e = &r->used->ring[k % HG_RING_SIZE];
    uint16_t posted = r->avail->ring[k % HG_RING_SIZE];
    if (e->id != posted) {
        load_fail(l, "%s used entry %u: id %u, but chain %u was posted "
                  "there", which, k, e->id, posted);
        return false;
    }
    *len = e->len;
    return true;
}

static void
load_tx_reap(struct load *l)
{
    struct hg_ring *r = &l->g->tx;
    uint16_t used = hg_ring_used(r);
    for (; l->tx_reaped != used; l->tx_reaped++) {
        uint32_t len;
        if (used_entry_ok(l, r, l->tx_reaped, "tx", &len) && len) {
            load_fail(l, "tx used entry %u: length %u", l->tx_reaped, len);
        }
    }
}

static void
load_tx(struct load *l)
{
    struct hg_ring *r = &l->g->tx;
    uint16_t heads[32];

    load_tx_reap(l);
    if ((uint16_t) (r->avail_idx - hg_ring_used(r)) > HG_RING_SIZE - 32) {
        return;
    }
    for (unsigned i = 0; i < ARRAY_SIZE(heads); i++) {
        heads[i] = (uint16_t) (r->avail_idx + i) % HG_RING_SIZE;
    }
    hg_ring_post(r, heads, ARRAY_SIZE(heads));
    l->tx_posted += ARRAY_SIZE(heads);
}

/* Checks one received frame: the peer's, intact, in sequence. */
static void
load_rx_frame(struct load *l, const uint8_t *b, uint32_t len)
{
    static const uint8_t hdr[HG_HDR] = { [10] = 1 };   /* num_buffers 1 */
    uint8_t src[6];
    memset(src, HG_MAC_G, sizeof src);
    if (len < HG_HDR + 14 || memcmp(b + HG_HDR + 6, src, 6)) {
        l->rx_other++;          /* someone else's frame (flooding) */
        return;
    }
    uint64_t seq;
    memcpy(&seq, b + SEQ_OFF, sizeof seq);
    bool intact = len == HG_HDR + HG_FRAME && !memcmp(b, hdr, HG_HDR)
                  && b[HG_HDR] == HG_MAC_H
                  && !memcmp(b + HG_HDR, b + HG_HDR + 1, 5)
                  && b[HG_HDR + 12] == 0x88 && b[HG_HDR + 13] == 0xb5;
    for (uint32_t i = SEQ_OFF + 8; intact && i < HG_HDR + HG_FRAME; i++) {
        intact = b[i] == 0xee;
    }
    if (!intact) {
        load_fail(l, "received frame %llu (length %u) corrupt",
                  (unsigned long long) seq, len);
    } else if (seq <= l->last_seq) {
        load_fail(l, "frame %llu received after frame %llu",
                  (unsigned long long) seq,
                  (unsigned long long) l->last_seq);
    }
    l->last_seq = seq;
    l->rx_mine++;
}

/* Takes the received frames and posts their buffers again, canaries
 * refreshed. */
static void
load_rx(struct load *l)
{
    struct hg_ring *r = &l->g->rx;
    uint16_t used = hg_ring_used(r), ids[HG_RING_SIZE];
    unsigned n = 0;

    if ((uint16_t) (used - l->rx_reaped) > HG_RING_SIZE) {
        load_fail(l, "rx used index jumped from %u to %u", l->rx_reaped,
                  used);
        return;
    }
    for (; l->rx_reaped != used; l->rx_reaped++) {
        uint32_t len;
        if (!used_entry_ok(l, r, l->rx_reaped, "rx", &len)) {
            continue;
        }
        uint16_t id = r->avail->ring[l->rx_reaped % HG_RING_SIZE];
        uint8_t *b = hg_r0(l->g, HG_OFF_RXBUF + id * HG_BUF_SIZE);
        if (len > HG_BUF_SIZE) {
            load_fail(l, "rx used entry %u: length %u for a %u-byte "
                      "buffer", l->rx_reaped, len, HG_BUF_SIZE);
        } else if (len) {
            load_rx_frame(l, b, len);
        }
        memset(b, HG_FILL_RX, HG_BUF_SIZE);
        ids[n++] = id;
    }
    if (n) {
        hg_ring_post(r, ids, n);
    }
}

static void *
load_main(void *arg)
{
    struct load *l = arg;
    while (!LOAD_ACQUIRE(l->stop)) {
        uint64_t req = LOAD_ACQUIRE(l->req);
        if (req != l->ack) {
            l->roles = READ_ONCE(l->want);
            STORE_RELEASE(l->ack, req);
        }
        if (l->roles & L_PEER) {
            load_peer(l);
        }
        if (l->roles & L_TX) {
            load_tx(l);
        }
        if (l->roles & L_RX) {
            load_rx(l);
        }
    }
    return NULL;
}

/* Gives the load thread 'roles' and waits until it has taken them. */
static int
load_set(struct hctx *ctx, struct load *l, unsigned roles)
{
    WRITE_ONCE(l->want, roles);
    uint64_t req = l->req + 1;
    STORE_RELEASE(l->req, req);
    uint64_t deadline = h_now_ms() + H_REPLY_MS;
    while (LOAD_ACQUIRE(l->ack) != req) {
        if (h_now_ms() >= deadline) {
            return h_fail(ctx, "the load thread does not answer");
        }
        h_sleep_ms(1);
    }
    return 0;
}

static int
get_vring_base(struct hctx *ctx, struct hg_guest *g, uint32_t q,
               uint16_t *base)
{
    struct vhu_vring_state st = { q, 0 };
    struct vhu_msg msg;
    int err = h_send(g->sock, VHU_GET_VRING_BASE, VHU_FLAG_VERSION, &st,
                     sizeof st, NULL, 0);
    if (!err) {
        err = h_recv(g->sock, &msg, H_REPLY_MS);
    }
    if (err) {
        return h_fail(ctx, "GET_VRING_BASE %u: %s", q, strerror(-err));
    }
    if (msg.request != VHU_GET_VRING_BASE || msg.size != sizeof st
        || msg.payload.state.index != q || msg.payload.state.num > 0xffff) {
        return h_fail(ctx, "GET_VRING_BASE %u: bad reply (%s, %u bytes)", q,
                      vhu_request_name(msg.request), msg.size);
    }
    *base = (uint16_t) msg.payload.state.num;
    return 0;
}

/* (Re)starts ring 'q' at 'base' with 'size' entries where 'r' says, as
 * QEMU does after a stop. */
static int
ring_restart(struct hctx *ctx, struct hg_guest *g, uint32_t q,
             const struct hg_ring *r, uint16_t size, uint16_t base)
{
    struct vhu_vring_state on = { q, 1 };
    int64_t ack = hg_ring_setup(g, q, r, size, base);
    if (!ack) {
        ack = h_request_ack(g->sock, VHU_SET_VRING_ENABLE, &on, sizeof on,
                            NULL, 0);
    }
    return ack ? h_fail(ctx, "restarting vring %u at %u refused (%lld)", q,
                        base, (long long) ack) : 0;
}

/* The receive buffers posted in [from, to) must still hold HG_FILL_RX. */
static int
check_unused_rx(struct hctx *ctx, struct hg_guest *g, uint16_t from,
                uint16_t to, const char *when)
{
    const struct hg_ring *r = &g->rx;
    for (uint16_t k = from; k != to; k++) {
        uint16_t id = r->avail->ring[k % HG_RING_SIZE];
        const uint8_t *b = hg_r0(g, HG_OFF_RXBUF + id * HG_BUF_SIZE);
        for (unsigned i = 0; i < HG_BUF_SIZE; i++) {
            if (b[i] != HG_FILL_RX) {
                return h_fail(ctx, "%s: receive buffer %u (avail slot %u), "
                              "not in the used ring, byte %u was written",
                              when, id, k, i);
            }
        }
    }
    return 0;
}

/* One stop of both rings while frames flow both ways, checked, then a
 * restart from the bases the switch returned. */
static int
vring_base_round(struct hctx *ctx, struct load *l, unsigned round)
{
    struct hg_guest *g = l->g;
    static uint8_t snap_rx[USED_SIZE], snap_tx[USED_SIZE];
    uint16_t b_rx, b_tx;

    /* Receive ring: asked while the load thread still takes frames and
     * posts buffers; then it lets go of the ring and we look. */
    if (get_vring_base(ctx, g, 0, &b_rx) || load_set(ctx, l, L_PEER | L_TX)) {
        return -1;
    }
    uint16_t u = hg_ring_used(&g->rx);
    if (u != b_rx) {
        return h_fail(ctx, "round %u: GET_VRING_BASE 0 returned %u but the "
                      "receive ring's used index is %u", round, b_rx, u);
    }
    uint16_t rx_posted = g->rx.avail_idx;
    if (check_unused_rx(ctx, g, b_rx, rx_posted, "at the reply")) {
        return -1;
    }
    memcpy(snap_rx, g->rx.used, USED_SIZE);

    /* Transmit ring: asked while chains keep being posted. */
    if (get_vring_base(ctx, g, 1, &b_tx) || load_set(ctx, l, L_PEER)) {
        return -1;
    }
    u = hg_ring_used(&g->tx);
    if (u != b_tx) {
        return h_fail(ctx, "round %u: GET_VRING_BASE 1 returned %u but the "
                      "transmit ring's used index is %u", round, b_tx, u);
    }
    memcpy(snap_tx, g->tx.used, USED_SIZE);
    /* More chains on the stopped transmit ring, frames keep coming for
     * the stopped receive ring: nobody may touch either now. */
    uint16_t heads[32];
    for (unsigned i = 0; i < ARRAY_SIZE(heads); i++) {
        heads[i] = (uint16_t) (g->tx.avail_idx + i) % HG_RING_SIZE;
    }
    if ((uint16_t) (g->tx.avail_idx - b_tx) <= HG_RING_SIZE - 32) {
        hg_ring_post(&g->tx, heads, ARRAY_SIZE(heads));
        l->tx_posted += ARRAY_SIZE(heads);
    }
    h_log(ctx, "round %u: rx base %u (%u buffers posted beyond), tx base %u "
          "(%u chains beyond)", round, b_rx, (uint16_t) (rx_posted - b_rx),
          b_tx, (uint16_t) (g->tx.avail_idx - b_tx));
    h_sleep_ms(200);
    if (memcmp(snap_rx, g->rx.used, USED_SIZE)) {
        return h_fail(ctx, "round %u: the receive used ring changed after "
                      "GET_VRING_BASE replied (used index %u -> %u)", round,
                      b_rx, hg_ring_used(&g->rx));
    }
    if (memcmp(snap_tx, g->tx.used, USED_SIZE)) {
        return h_fail(ctx, "round %u: the transmit used ring changed after "
                      "GET_VRING_BASE replied (used index %u -> %u)", round,
                      b_tx, hg_ring_used(&g->tx));
    }
    if (check_unused_rx(ctx, g, b_rx, rx_posted, "200 ms after the reply")) {
        return -1;
    }

    /* Resume where the switch said, and see both rings move again. */
    uint64_t mine = l->rx_mine, posted = l->tx_posted;
    if (ring_restart(ctx, g, 0, &g->rx, HG_RING_SIZE, b_rx)
        || ring_restart(ctx, g, 1, &g->tx, HG_RING_SIZE, b_tx)
        || load_set(ctx, l, L_ALL)) {
        return -1;
    }
    uint64_t deadline = h_now_ms() + H_REPLY_MS;
    while (READ_ONCE(l->rx_mine) == mine
           || READ_ONCE(l->tx_posted) < posted + 64) {
        if (h_now_ms() >= deadline) {
            return h_fail(ctx, "round %u: traffic did not resume after the "
                          "restart", round);
        }
        h_sleep_ms(1);
    }
    h_sleep_ms(100);
    return 0;
}

/* After the rounds: stops the load and checks that every frame and chain
 * is accounted for exactly once. */
static int
vring_base_settle(struct hctx *ctx, struct load *l,
                  const struct stats_dir *b_h_rx,
                  const struct stats_dir *b_h_tx,
                  const struct stats_dir *b_g_rx)
{
    struct stats_dir h_rx, h_tx, g_rx, g_tx;
    struct hg_guest *g = l->g;

    if (load_set(ctx, l, L_RX)
        || hg_ring_wait_all_used(&l->peer->tx, NULL, H_REPLY_MS)
        || hg_ring_wait_all_used(&g->tx, NULL, H_REPLY_MS)) {
        return h_fail(ctx, "chains never came back after the load stopped");
    }
    load_tx_reap(l);
    /* Every peer frame: received, or dropped once at either end. */
    uint64_t deadline = h_now_ms() + 5000;
    for (;;) {
        h_port_counters(ctx, ctx->port, &h_rx, &h_tx);
        h_port_counters(ctx, ctx->peer_port, &g_rx, &g_tx);
        uint64_t taken = g_rx.packets - b_g_rx->packets;
        uint64_t delivered = h_tx.packets - b_h_tx->packets;
        uint64_t dropped = hg_drops_sum(&g_rx) - hg_drops_sum(b_g_rx)
                           + hg_drops_sum(&h_tx) - hg_drops_sum(b_h_tx);
        uint64_t seen = READ_ONCE(l->rx_mine) + READ_ONCE(l->rx_other);
        uint64_t posted = h_rx.packets - b_h_rx->packets;
        if (taken == l->peer_sent && seen == delivered
            && (l->rx_other || l->rx_mine + dropped == l->peer_sent)
            && posted == l->tx_posted) {
            break;
        }
        if (h_now_ms() >= deadline) {
            return h_fail(ctx, "peer sent %llu, switch took %llu, delivered "
                          "%llu, dropped %llu; guest saw %llu (+%llu "
                          "others); guest posted %llu chains, switch "
                          "counted %llu", (unsigned long long) l->peer_sent,
                          (unsigned long long) taken,
                          (unsigned long long) delivered,
                          (unsigned long long) dropped,
                          (unsigned long long) l->rx_mine,
                          (unsigned long long) l->rx_other,
                          (unsigned long long) l->tx_posted,
                          (unsigned long long) posted);
        }
        h_sleep_ms(5);
    }
    h_log(ctx, "peer sent %llu frames, guest received %llu in order, "
          "%llu others; %llu chains transmitted",
          (unsigned long long) l->peer_sent, (unsigned long long) l->rx_mine,
          (unsigned long long) l->rx_other, (unsigned long long) l->tx_posted);
    return 0;
}

/* GET_VRING_BASE on both rings of a device under full load in both
 * directions, 'arg' rounds: the returned index is the used index the
 * guest sees (everything taken was completed), the switch writes neither
 * the used rings nor the posted receive buffers after replying, and
 * resuming from that index loses, repeats or corrupts no frame. */
int
hg_s_vring_base_load(struct hctx *ctx, const void *arg)
{
    unsigned rounds = (unsigned) (uintptr_t) arg;
    struct hg_guest g, peer;
    int res = 0;

    if (!ctx->peer_path) {
        snprintf(ctx->why, sizeof ctx->why, "needs a peer sending frames "
                 "(give --peer-socket)");
        return H_SKIP;
    }
    if (hg_guest_open(ctx, &g, false, false)) {
        return -1;
    }
    if (hg_learn_mac(ctx, &g) || hg_guest_open(ctx, &peer, true, false)) {
        hg_guest_free(&g);
        return -1;
    }
    struct hg_ring *rx = &g.rx;
    uint16_t ids[HG_RING_SIZE];
    for (unsigned i = 0; i < HG_RING_SIZE; i++) {
        hg_set_desc(&rx->desc[i], hg_buf_gpa(rx, i), HG_BUF_SIZE,
                    VRING_DESC_F_WRITE, 0);
        hg_set_desc(&g.tx.desc[i], hg_buf_gpa(&g.tx, i), HG_HDR + HG_FRAME, 0,
                    0);
        ids[i] = (uint16_t) i;
    }
    memset(hg_r0(&g, HG_OFF_RXBUF), HG_FILL_RX, HG_RING_SIZE * HG_BUF_SIZE);
    hg_ring_post(rx, ids, HG_RING_SIZE);

    struct stats_dir b_h_rx, b_h_tx, b_g_rx, b_g_tx;
    h_port_counters(ctx, ctx->port, &b_h_rx, &b_h_tx);
    h_port_counters(ctx, ctx->peer_port, &b_g_rx, &b_g_tx);
    struct load l = { .g = &g, .peer = &peer, .want = L_ALL, .req = 1,
                      .tx_reaped = hg_ring_used(&g.tx) };
    pthread_t thread;
    if (pthread_create(&thread, NULL, load_main, &l)) {
        res = h_fail(ctx, "pthread_create failed");
        goto out;
    }
    h_sleep_ms(200);
    for (unsigned k = 0; k < rounds && !res && !l.why[0]; k++) {
        res = vring_base_round(ctx, &l, k);
    }
    if (!res && !l.why[0]) {
        res = vring_base_settle(ctx, &l, &b_h_rx, &b_h_tx, &b_g_rx);
    }
    STORE_RELEASE(l.stop, true);
    pthread_join(thread, NULL);
    if (!res && l.why[0]) {
        res = h_fail(ctx, "%s", l.why);
    }
    if (!res && !l.rx_mine) {
        res = h_fail(ctx, "no frame from the peer arrived");
    }
    if (!res) {
        res = h_expect_alive(ctx, g.sock);
    }
out:
    hg_guest_close(&g, false);
    hg_guest_close(&peer, false);
    return res;
}

/* ---- The flooder (tests/integration/isolation.sh). ---- */

/* The flooder's transmit ring is large, in the receive buffers' area
 * (unused here): a flooder that gets little CPU still leaves a switch
 * that garbage slows down a long backlog of it. */
#define FLOOD_RING 8192u
#define OFF_FLOOD_DESC HG_OFF_RXBUF
#define OFF_FLOOD_AVAIL (OFF_FLOOD_DESC + 16 * FLOOD_RING)
#define OFF_FLOOD_USED (OFF_FLOOD_AVAIL + 0x5000)
_Static_assert(OFF_FLOOD_USED + 6 + 8 * FLOOD_RING <= HG_OFF_CANARY,
               "the flood ring overlaps the canary");

/* Garbage chains in the descriptor table: heads, and the drop reasons the
 * switch may count for them (each reason must show up).  Every address
 * that is mapped holds 0x02 bytes, so a frame the switch accepts has its
 * own source as destination and never leaves the port. */
static const uint16_t flood_heads[] = { 0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11,
                                        12, 13, 14, 15, 18 };
static const int flood_reasons[] = {
    DROP_BAD_ADDRESS, DROP_BAD_DESCRIPTOR, DROP_HEADER_TOO_SHORT,
    DROP_MTU_EXCEEDED, DROP_NO_DESTINATION,
};

static void
flood_build(struct hg_guest *g, struct hg_ring *r)
{
    struct vring_desc *d = r->desc;
    struct vring_desc *ind = (struct vring_desc *) hg_r0(g, HG_OFF_IND);
    const uint16_t nf = VRING_DESC_F_NEXT;
    uint64_t buf = hg_buf_gpa(&g->tx, 0);

    hg_set_desc(&d[0], HG_HOLE_GPA, 64, 0, 0);          /* unmapped */
    hg_set_desc(&d[1], 0, 64, 0, 0);
    hg_set_desc(&d[2], ~0ull, 2, 0, 0);                 /* wraps */
    hg_set_desc(&d[3], buf, 64, nf, 3);                 /* loop */
    hg_set_desc(&d[4], buf, 64, nf, 5);                 /* 2-cycle */
    hg_set_desc(&d[5], buf, 64, nf, 4);
    hg_set_desc(&d[6], buf, 64, nf, 0xffff);            /* next out of range */
    hg_set_desc(&d[7], buf, 0, 0, 0);                   /* short headers */
    hg_set_desc(&d[8], buf, HG_HDR - 4, 0, 0);
    hg_set_desc(&d[9], buf, HG_HDR, 0, 0);
    hg_set_desc(&d[10], buf, HG_HDR + 13, 0, 0);
    hg_set_desc(&d[11], HG_R2_GPA, 0xffffffff, 0, 0);   /* huge */
    hg_set_desc(&d[12], buf, HG_HDR + 9000, 0, 0);      /* over the MTU */
    hg_set_desc(&d[13], buf, HG_HDR + HG_FRAME, VRING_DESC_F_WRITE, 0);
    hg_set_desc(&ind[0], buf, HG_HDR + HG_FRAME, 0, 0);
    hg_set_desc(&d[14], HG_IND_GPA, 17, VRING_DESC_F_INDIRECT, 0);
    for (unsigned i = 15; i < 18; i++) {                /* over 4 GiB */
        hg_set_desc(&d[i], HG_R2_GPA, 0x7fffffff, i < 17 ? nf : 0, i + 1);
    }
    hg_set_desc(&d[18], buf, HG_HDR + HG_FRAME, 0, 0);  /* well formed */
}

static void
flood_post(struct hg_ring *r, const uint16_t *heads, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        r->avail->ring[(uint16_t) (r->avail_idx + i) % FLOOD_RING] = heads[i];
    }
    r->avail_idx += n;
    STORE_RELEASE(r->avail->idx, r->avail_idx);
}

/* A legitimate device whose transmit ring is then moved, as QEMU would,
 * to the flood ring.  0 or fails the scenario. */
static int
flood_open(struct hctx *ctx, struct hg_guest *g, struct hg_ring *r)
{
    uint16_t base;
    if (hg_guest_open(ctx, g, false, true)) {
        return -1;
    }
    memset(hg_r0(g, OFF_FLOOD_DESC), 0, HG_OFF_CANARY - OFF_FLOOD_DESC);
    *r = (struct hg_ring) {
        .desc = (struct vring_desc *) hg_r0(g, OFF_FLOOD_DESC),
        .avail = (struct vring_avail *) hg_r0(g, OFF_FLOOD_AVAIL),
        .used = (struct vring_used *) hg_r0(g, OFF_FLOOD_USED),
    };
    flood_build(g, r);
    if (get_vring_base(ctx, g, 1, &base)
        || ring_restart(ctx, g, 1, r, FLOOD_RING, 0)) {
        hg_guest_free(g);
        return -1;
    }
    return 0;
}

/* One connection: garbage at full speed for 'ms', then a ring-level
 * violation that must get the device dropped.  Adds the chains the switch
 * took to '*taken'. */
static int
flood_session(struct hctx *ctx, unsigned ms, unsigned kind, uint64_t *taken,
              uint64_t *kicks)
{
    struct hg_guest g;
    struct hg_ring ring, *r = &ring;
    if (flood_open(ctx, &g, r)) {
        return -1;
    }
    uint64_t end = h_now_ms() + ms, one = 1;
    unsigned next = 0;
    uint16_t seen = 0;
    while (h_now_ms() < end) {
        uint16_t heads[32], used = hg_ring_used(r);
        *taken += (uint16_t) (used - seen);     /* it may wrap in 1 s */
        seen = used;
        if ((uint16_t) (r->avail_idx - used) > FLOOD_RING - 32) {
            continue;
        }
        for (unsigned i = 0; i < ARRAY_SIZE(heads); i++) {
            heads[i] = flood_heads[next++ % ARRAY_SIZE(flood_heads)];
        }
        flood_post(r, heads, ARRAY_SIZE(heads));
        /* A kick per burst, although the switch asked for none. */
        if (write(g.kick[1], &one, sizeof one) == sizeof one) {
            (*kicks)++;
        }
    }
    uint16_t bad[2] = { 0, kind % 2 ? 0xffff : FLOOD_RING };
    if (kind % 3 == 2) {
        r->avail_idx += FLOOD_RING + 1;     /* more than a ring's worth */
        STORE_RELEASE(r->avail->idx, r->avail_idx);
    } else {
        flood_post(r, bad, 2);              /* a head out of range */
    }
    int fd = g.sock;
    g.sock = -1;
    int res = h_expect_broken(ctx, fd, "guest ring corrupt");
    /* Disconnected: what the switch took is in the used ring for good. */
    *taken += (uint16_t) (hg_ring_used(r) - seen);
    hg_guest_free(&g);
    return res;
}

/* The switch's verdict on the flood: it took every chain we count, dropped
 * each one, and only for the reasons the garbage deserves. */
static int
flood_check(struct hctx *ctx, const struct stats_dir *b, uint64_t taken)
{
    struct stats_dir a, tx;
    uint64_t deadline = h_now_ms() + 5000;
    for (;;) {
        h_port_counters(ctx, ctx->port, &a, &tx);
        uint64_t n = a.packets - b->packets;
        if (n == taken && hg_drops_sum(&a) - hg_drops_sum(b) == n) {
            break;
        }
        if (h_now_ms() >= deadline) {
            return h_fail(ctx, "the switch took %llu chains, rx_packets "
                          "+%llu, rx drops +%llu", (unsigned long long) taken,
                          (unsigned long long) n,
                          (unsigned long long) (hg_drops_sum(&a)
                                                - hg_drops_sum(b)));
        }
        h_sleep_ms(5);
    }
    uint64_t expected = 0;
    for (size_t i = 0; i < ARRAY_SIZE(flood_reasons); i++) {
        int k = flood_reasons[i];
        uint64_t n = a.drops[k] - b->drops[k];
        if (!n) {
            return h_fail(ctx, "no garbage chain was counted as %s",
                          stats_drop_names[k]);
        }
        expected += n;
        printf("FLOOD %s +%llu\n", stats_drop_names[k],
               (unsigned long long) n);
    }
    if (expected != taken) {
        return h_fail(ctx, "%llu of %llu garbage chains were counted under "
                      "other reasons", (unsigned long long) (taken - expected),
                      (unsigned long long) taken);
    }
    return 0;
}

/* The baseline: the same process and device, spinning without posting a
 * chain, so that it takes as much CPU as the flood. */
static int
flood_idle(struct hctx *ctx, uint64_t end)
{
    struct stats_dir b, a, tx;
    struct hg_guest g;

    h_port_counters(ctx, ctx->port, &b, &tx);
    if (hg_guest_open(ctx, &g, false, true)) {
        return -1;
    }
    while (h_now_ms() < end && !h_stop_requested()) {
    }
    hg_guest_close(&g, false);
    h_port_counters(ctx, ctx->port, &a, &tx);
    return a.packets == b.packets ? 0
           : h_fail(ctx, "the idle device transmitted");
}

int
h_flood(struct hctx *ctx, unsigned seconds, bool idle)
{
    struct stats_dir b, tx;
    uint64_t t0 = h_now_ms(), end = t0 + seconds * 1000ull;
    uint64_t taken = 0, kicks = 0;
    unsigned sessions = 0;
    int res = 0;

    ctx->scenario = idle ? "flood-idle" : "flood";
    if (idle) {
        res = flood_idle(ctx, end);
        printf("FLOOD idle seconds=%.1f\n",
               (double) (h_now_ms() - t0) / 1e3);
        return res;
    }
    h_port_counters(ctx, ctx->port, &b, &tx);
    while (!res && h_now_ms() < end && !h_stop_requested()) {
        /* A ring-level violation every second: the device keeps being
         * dropped and keeps coming back.  Not more often: the switch drops
         * a device on its next tick (100 ms) and we set up a new one, so
         * the flood would pause for much of the time. */
        uint64_t left = end - MIN(end, h_now_ms());
        res = flood_session(ctx, (unsigned) MIN(1000, left), sessions++,
                            &taken, &kicks);
    }
    if (!res) {
        res = flood_check(ctx, &b, taken);
    }
    double secs = (double) (h_now_ms() - t0) / 1e3;
    printf("FLOOD seconds=%.1f sessions=%u chains=%llu chains_per_s=%.0f "
           "kicks=%llu\n", secs, sessions, (unsigned long long) taken,
           (double) taken / secs, (unsigned long long) kicks);
    return res;
}
