/* hostile-packed.c -- the hostile guest on packed rings (VIRTIO_F_RING_PACKED,
 * virtio 1.1, 2.8): the per-chain cases of hostile-guest.c that a packed
 * ring walks differently, and what only a packed ring can get wrong: where
 * a chain ends, the wrap counters, the position SET_VRING_BASE gives.
 * Its table, h_packed_scenarios, runs after h_guest_scenarios.
 *
 * The guest (hg_guest_open_packed) has the memory and buffers of the split
 * one; each ring's table lies where the split descriptor table does, its
 * driver and device event areas where the avail and used rings do.  We
 * post as a driver does (virtio 1.1, 2.8.21):
 *
 *   slot:     0       1       2       3    ...
 *           [A N   ][A  id ][A  id ][0     ]
 *           `--- chain 1 --'`chain 2'          A: AVAIL = our wrap counter,
 *                                                 USED = its opposite
 *                                              N: NEXT; id: the buffer id
 *
 * every slot of a batch first, the first head's flags last (release), so
 * that the switch may take the whole batch in one burst.  The buffer id
 * goes in a chain's last slot, a decoy id in the others.  The switch must
 * give each chain back once, in the slot the chain started at (it uses
 * chains in order), with the id of the chain's last slot, the length it
 * wrote (0 for a transmitted or refused chain) and AVAIL = USED = its wrap
 * counter there; and count it as the split cases count (rx_packets and one
 * drop reason per transmitted chain; tx_packets or one drop per receive
 * chain).  A chain without an end (NEXT on every slot) must get the device
 * disconnected, as must a base outside the ring.
 *
 * The peer that sends frames towards the receive ring stays on split
 * rings (hg_peer_pump). */
#include <config.h>

#include "hostile.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define AVAIL_F (1u << VRING_PACKED_DESC_F_AVAIL)
#define USED_F (1u << VRING_PACKED_DESC_F_USED)
#define ID_DECOY 0x80u          /* xor'ed into the id of a chain's other
                                 * slots */
#define BASE_NEW 0x8000u        /* slot 0, wrap counter 1 */
#define MAX_CHAINS 8            /* chains one case posts */

/* One buffer of a chain, before it goes into a slot. */
struct hp_buf {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;             /* NEXT, WRITE, INDIRECT */
};

/* A chain: what a case builds and what must come of it, then where
 * hp_post put it. */
struct hp_chain {
    uint16_t n_slots;
    uint16_t id;                /* buffer id, in its last slot */
    int expect;                 /* DROP_* or HG_ACCEPT */
    uint16_t head;              /* its first slot */
    bool wrap;                  /* our wrap counter there */
};

/* ---- The driver's side of a packed ring. ---- */

static void
next_slot(struct hg_ring *r)
{
    if (++r->slot == HG_RING_SIZE) {
        r->slot = 0;
        r->wrap = !r->wrap;
    }
}

/* Makes 'n' chains available on 'r', their buffers in order in 'bufs'
 * (chains[].n_slots of them each), and records where each went. */
static void
hp_post(struct hg_ring *r, struct hp_chain *chains, unsigned n,
        const struct hp_buf *bufs)
{
    struct vring_packed_desc *first = &r->pdesc[r->slot];
    uint16_t first_flags = 0;

    for (unsigned c = 0; c < n; c++) {
        chains[c].head = r->slot;
        chains[c].wrap = r->wrap;
        for (unsigned i = 0; i < chains[c].n_slots; i++, bufs++) {
            struct vring_packed_desc *d = &r->pdesc[r->slot];
            bool last = i + 1 == chains[c].n_slots;
            uint16_t flags = bufs->flags | (r->wrap ? AVAIL_F : USED_F);
            d->addr = htole64(bufs->addr);
            d->len = htole32(bufs->len);
            d->id = htole16(last ? chains[c].id : chains[c].id ^ ID_DECOY);
            if (c || i) {
                WRITE_ONCE(d->flags, htole16(flags));
            } else {
                first_flags = flags;
            }
            next_slot(r);
        }
    }
    r->avail_idx += n;
    STORE_RELEASE(first->flags, htole16(first_flags));
}

/* Whether the slot 'd' holds a used entry of the lap with wrap counter
 * 'wrap' (both bits equal to it). */
static bool
slot_used(const struct vring_packed_desc *d, bool wrap)
{
    uint16_t flags = le16toh(LOAD_ACQUIRE(d->flags));
    return !!(flags & AVAIL_F) == wrap && !!(flags & USED_F) == wrap;
}

/* Waits until every chain of 'chains' came back, pumping the peer (if
 * any).  0, H_SKIP (a receive ring no frame reached: no peer), or fails. */
static int
hp_wait_used(struct hctx *ctx, const struct hg_ring *r,
             const struct hp_chain *chains, unsigned n, struct hg_guest *peer)
{
    uint64_t deadline = h_now_ms() + H_REPLY_MS;
    unsigned k = 0;

    while (k < n) {
        if (slot_used(&r->pdesc[chains[k].head], chains[k].wrap)) {
            k++;
            continue;
        }
        if (h_now_ms() >= deadline) {
            if (r->writable && !peer && !k) {
                snprintf(ctx->why, sizeof ctx->why, "no frames towards the "
                         "hostile port (give --peer-socket)");
                return H_SKIP;
            }
            return h_fail(ctx, "%u of %u chains never came back (chain %u "
                          "at slot %u, flags %#x)", n - k, n, k,
                          chains[k].head,
                          le16toh(r->pdesc[chains[k].head].flags));
        }
        if (peer) {
            hg_peer_pump(peer);
        }
        h_sleep_ms(1);
    }
    return 0;
}

/* The used entries of 'chains' (all came back): one per chain, in its
 * first slot, with its id and the length 'expect' wants. */
static int
hp_check_used(struct hctx *ctx, const struct hg_ring *r,
              const struct hp_chain *chains, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        const struct hp_chain *c = &chains[k];
        const struct vring_packed_desc *d = &r->pdesc[c->head];
        uint16_t flags = le16toh(d->flags), id = le16toh(d->id);
        uint32_t len = le32toh(d->len);
        bool filled = r->writable && c->expect == HG_ACCEPT;

        if (id != c->id) {
            return h_fail(ctx, "used entry of chain %u (slot %u): id %u, "
                          "expected %u%s", k, c->head, id, c->id,
                          id == (c->id ^ ID_DECOY)
                          ? " (the id of a slot other than the last)" : "");
        }
        if (!filled && len) {
            return h_fail(ctx, "used entry of chain %u (slot %u, id %u): "
                          "length %u, expected 0", k, c->head, id, len);
        }
        if (filled && (!(flags & VRING_DESC_F_WRITE) || len < HG_HDR + 14
                       || len > HG_HDR + 9728)) {
            return h_fail(ctx, "used entry of chain %u (slot %u, id %u): "
                          "length %u, flags %#x for a received frame", k,
                          c->head, id, len, flags);
        }
    }
    return 0;
}

/* No used entry where we make the next chain available: none was given
 * back twice (a second entry would land there). */
static int
hp_check_no_extra(struct hctx *ctx, const struct hg_ring *r)
{
    const struct vring_packed_desc *d = &r->pdesc[r->slot];
    if (slot_used(d, r->wrap)) {
        return h_fail(ctx, "a used entry (id %u, flags %#x) at slot %u, "
                      "after the last chain: a chain given back twice?",
                      le16toh(d->id), le16toh(d->flags), r->slot);
    }
    return 0;
}

/* Whether the counters moved by what 'chains' deserve: a transmitted chain
 * is one rx packet and one drop (no_destination if accepted), each under
 * its reason; a receive chain one tx packet if accepted, else one drop
 * under its reason (frames that found no buffer are no_rx_buffers, not
 * checked).  Writes what differs into 'why'. */
static bool
counters_match(bool rx_ring, const struct stats_dir *b,
               const struct stats_dir *a, const struct hp_chain *chains,
               unsigned n, char *why, size_t size)
{
    uint64_t want[N_DROP_REASONS] = { 0 };
    uint64_t n_accept = 0;

    for (unsigned k = 0; k < n; k++) {
        if (chains[k].expect == HG_ACCEPT) {
            n_accept++;
            want[DROP_NO_DESTINATION] += !rx_ring;
        } else {
            want[chains[k].expect]++;
        }
    }
    uint64_t packets = a->packets - b->packets;
    uint64_t drops = hg_drops_sum(a) - hg_drops_sum(b);
    if (packets != (rx_ring ? n_accept : n) || (!rx_ring && drops != n)) {
        snprintf(why, size, "%s_packets +%llu, drops +%llu; expected +%llu%s",
                 rx_ring ? "tx" : "rx", (unsigned long long) packets,
                 (unsigned long long) drops,
                 (unsigned long long) (rx_ring ? n_accept : n),
                 rx_ring ? "" : " each");
        return false;
    }
    for (unsigned i = 0; i < N_DROP_REASONS; i++) {
        bool checked = !rx_ring || want[i] || i == DROP_BAD_DESCRIPTOR
                       || i == DROP_BAD_ADDRESS;
        uint64_t got = a->drops[i] - b->drops[i];
        if (checked && got != want[i]) {
            snprintf(why, size, "%s drops %s +%llu, expected +%llu",
                     rx_ring ? "tx" : "rx", stats_drop_names[i],
                     (unsigned long long) got, (unsigned long long) want[i]);
            return false;
        }
    }
    return true;
}

/* The counters trail the used entries by a moment. */
static int
hp_check_counters(struct hctx *ctx, bool rx_ring, const struct stats_dir *b_rx,
                  const struct stats_dir *b_tx, const struct hp_chain *chains,
                  unsigned n)
{
    uint64_t deadline = h_now_ms() + 5000;
    struct stats_dir a_rx, a_tx;
    char why[256];

    for (;;) {
        h_port_counters(ctx, ctx->port, &a_rx, &a_tx);
        if (counters_match(rx_ring, rx_ring ? b_tx : b_rx,
                           rx_ring ? &a_tx : &a_rx, chains, n, why,
                           sizeof why)) {
            return 0;
        }
        if (h_now_ms() >= deadline) {
            return h_fail(ctx, "counters: %s", why);
        }
        h_sleep_ms(5);
    }
}

/* 'n' (< ring size) good one-slot frames on the transmit ring 'r', all
 * given back: moves the ring along, or teaches the switch the hostile
 * guest's address.  0 or fails. */
static int
hp_send_frames(struct hctx *ctx, struct hg_ring *r, unsigned n)
{
    struct hp_buf bufs[HG_RING_SIZE];
    struct hp_chain chains[HG_RING_SIZE];

    memset(chains, 0, sizeof chains);
    for (unsigned i = 0; i < n; i++) {
        bufs[i] = (struct hp_buf) { hg_buf_gpa(r, i), HG_HDR + HG_FRAME, 0 };
        chains[i].n_slots = 1;
        chains[i].id = (uint16_t) i;
        chains[i].expect = HG_ACCEPT;
    }
    hp_post(r, chains, n, bufs);
    int res = hp_wait_used(ctx, r, chains, n, NULL);
    return res ? res : hp_check_used(ctx, r, chains, n);
}

/* ---- The cases. ---- */

enum pbuild {
    P_OK, P_WRONG_DIR, P_UNMAPPED, P_IND_OK, P_IND_NESTED, P_IND_NEXT,
    P_BAD_IN_CHAIN, P_ACROSS_WRAP, P_BAD_ACROSS_WRAP, P_ENDLESS,
};

struct pcase {
    enum pbuild build;
    bool rx;                    /* attack the receive ring */
    int expect;                 /* of every chain (unless the layout
                                 * says), or HG_BROKEN */
    bool no_indirect;           /* do not negotiate INDIRECT_DESC */
    uint16_t base;              /* SET_VRING_BASE of both rings */
    uint16_t skip;              /* good frames through the transmit ring
                                 * first: the case starts at that slot */
};

/* Chains being laid out. */
struct pbuilder {
    struct hp_buf *bufs;
    struct hp_chain *chains;
    unsigned n_bufs, n_chains;
};

/* Appends a buffer to the chain being built. */
static void
pb_buf(struct pbuilder *b, uint64_t addr, uint32_t len, uint16_t flags)
{
    b->bufs[b->n_bufs++] = (struct hp_buf) { addr, len, flags };
    b->chains[b->n_chains].n_slots++;
}

/* Ends the chain being built: its buffers must come to 'expect'. */
static void
pb_end(struct pbuilder *b, int expect)
{
    b->chains[b->n_chains].id = (uint16_t) (0x40 + b->n_chains);
    b->chains[b->n_chains].expect = expect;
    b->n_chains++;
}

static void
set_ind(struct vring_packed_desc *d, uint64_t addr, uint32_t len,
        uint16_t flags)
{
    d->addr = htole64(addr);
    d->len = htole32(len);
    d->id = 0;
    d->flags = htole16(flags);
}

/* Chains of which a later slot is bad: each must be consumed whole and
 * given back once, and the good chain after them must work.  With 'wrap'
 * (the case starts two slots before the end of the table) only the first,
 * which then runs over the end. */
static void
build_bad_in_chain(struct pbuilder *b, const struct hg_ring *r, bool wrap)
{
    const uint16_t f = r->writable ? VRING_DESC_F_WRITE : 0;
    const uint16_t nf = f | VRING_DESC_F_NEXT;
    const uint32_t tail = r->writable ? HG_BUF_SIZE : HG_FRAME;

    /* Wrong direction in the middle of three slots. */
    pb_buf(b, hg_buf_gpa(r, 0), HG_HDR, nf);
    pb_buf(b, hg_buf_gpa(r, 1), 64, nf ^ VRING_DESC_F_WRITE);
    pb_buf(b, hg_buf_gpa(r, 2), tail, f);
    pb_end(b, DROP_BAD_DESCRIPTOR);
    if (!wrap) {
        /* The second slot unmapped; indirect as a second slot. */
        pb_buf(b, hg_buf_gpa(r, 3), HG_HDR, nf);
        pb_buf(b, HG_HOLE_GPA, tail, f);
        pb_end(b, DROP_BAD_ADDRESS);
        pb_buf(b, hg_buf_gpa(r, 4), HG_HDR, nf);
        pb_buf(b, HG_IND_GPA, 16, VRING_DESC_F_INDIRECT);
        pb_end(b, DROP_BAD_DESCRIPTOR);
    }
    /* A good two-slot chain after them. */
    pb_buf(b, hg_buf_gpa(r, 5), HG_HDR, nf);
    pb_buf(b, hg_buf_gpa(r, 6), tail, f);
    pb_end(b, HG_ACCEPT);
}

/* Lays out the chains of case 'c' on ring 'r' (the indirect area too).
 * Returns how many. */
static unsigned
pbuild(struct hg_guest *g, const struct hg_ring *r, const struct pcase *c,
       struct hp_buf *bufs, struct hp_chain *chains)
{
    struct vring_packed_desc *ind =
        (struct vring_packed_desc *) hg_r0(g, HG_OFF_IND);
    const uint16_t f = r->writable ? VRING_DESC_F_WRITE : 0;
    const uint16_t nf = f | VRING_DESC_F_NEXT;
    const uint32_t len = r->writable ? HG_BUF_SIZE : HG_HDR + HG_FRAME;
    const uint32_t tail = r->writable ? HG_BUF_SIZE : HG_FRAME;
    struct pbuilder b = { bufs, chains, 0, 0 };

    memset(chains, 0, MAX_CHAINS * sizeof *chains);
    memset(ind, 0, HG_IND_SIZE);
    /* A good two-entry table: header, then the rest. */
    set_ind(&ind[0], hg_buf_gpa(r, 0), HG_HDR, f);
    set_ind(&ind[1], hg_buf_gpa(r, 1), tail, f);
    switch (c->build) {
    case P_OK:
        pb_buf(&b, hg_buf_gpa(r, 0), len, f);
        break;
    case P_WRONG_DIR:
        pb_buf(&b, hg_buf_gpa(r, 0), len, f ^ VRING_DESC_F_WRITE);
        break;
    case P_UNMAPPED: {
        const uint64_t addrs[] = { HG_HOLE_GPA, 0, HG_R0_GPA - 64 };
        for (unsigned i = 0; i < ARRAY_SIZE(addrs); i++) {
            pb_buf(&b, addrs[i], 64, f);
            if (i + 1 < ARRAY_SIZE(addrs)) {
                pb_end(&b, c->expect);
            }
        }
        break;
    }
    case P_IND_OK:
        pb_buf(&b, HG_IND_GPA, 32, VRING_DESC_F_INDIRECT);
        break;
    case P_IND_NESTED:          /* the table's second entry is a table
                                 * (of the right direction otherwise) */
        set_ind(&ind[1], HG_IND_GPA + 0x1000, 16, VRING_DESC_F_INDIRECT | f);
        set_ind(&ind[256], hg_buf_gpa(r, 1), tail, f);
        pb_buf(&b, HG_IND_GPA, 32, VRING_DESC_F_INDIRECT);
        break;
    case P_IND_NEXT:            /* a table, then one more slot */
        set_ind(&ind[0], hg_buf_gpa(r, 0), len, f);
        pb_buf(&b, HG_IND_GPA, 16,
               VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT);
        pb_buf(&b, hg_buf_gpa(r, 1), len, f);
        break;
    case P_BAD_IN_CHAIN:
    case P_BAD_ACROSS_WRAP:
        build_bad_in_chain(&b, r, c->build == P_BAD_ACROSS_WRAP);
        return b.n_chains;
    case P_ACROSS_WRAP:         /* three slots, then one */
        pb_buf(&b, hg_buf_gpa(r, 0), HG_HDR, nf);
        pb_buf(&b, hg_buf_gpa(r, 1), 4, nf);
        pb_buf(&b, hg_buf_gpa(r, 1) + 4, tail - 4, f);
        pb_end(&b, c->expect);
        pb_buf(&b, hg_buf_gpa(r, 2), len, f);
        break;
    case P_ENDLESS:             /* NEXT on every slot of the table */
        for (unsigned i = 0; i < HG_RING_SIZE; i++) {
            pb_buf(&b, hg_buf_gpa(r, 0) + 4 * i, 4, nf);
        }
        break;
    }
    pb_end(&b, c->expect);
    return b.n_chains;
}

/* Nothing was written into a refused receive buffer. */
static int
rx_untouched(struct hctx *ctx, struct hg_guest *g)
{
    const uint8_t *p = hg_r0(g, HG_OFF_RXBUF);
    for (size_t i = 0; i < HG_OFF_CANARY - HG_OFF_RXBUF; i++) {
        if (p[i] != HG_FILL_RX) {
            return h_fail(ctx, "receive buffer byte %#zx was written", i);
        }
    }
    return 0;
}

/* Case 'c' on g's ring 'r': posts it and checks what came of it. */
static int
pcase_check(struct hctx *ctx, struct hg_guest *g, struct hg_ring *r,
            const struct pcase *c, struct hg_guest *peer)
{
    struct hp_buf bufs[HG_RING_SIZE];
    struct hp_chain chains[MAX_CHAINS];
    struct stats_dir b_rx, b_tx;

    if (c->skip && hp_send_frames(ctx, &g->tx, c->skip)) {
        return -1;
    }
    h_port_counters(ctx, ctx->port, &b_rx, &b_tx);
    unsigned n = pbuild(g, r, c, bufs, chains);
    hp_post(r, chains, n, bufs);
    if (c->expect == HG_BROKEN) {
        return hg_expect_dropped(ctx, g, peer);
    }
    int res = hp_wait_used(ctx, r, chains, n, peer);
    if (!res) {
        res = hp_check_used(ctx, r, chains, n);
    }
    if (!res) {
        res = hp_check_counters(ctx, c->rx, &b_rx, &b_tx, chains, n);
    }
    if (!res) {
        res = hp_check_no_extra(ctx, r);
    }
    if (!res && c->rx && c->expect != HG_ACCEPT) {
        res = rx_untouched(ctx, g);
    }
    return res;
}

static int
run_pcase(struct hctx *ctx, const void *arg)
{
    const struct pcase *c = arg;
    struct hg_guest g, peer;
    struct hg_guest *pp = NULL;

    if (hg_guest_open_packed(ctx, &g, !c->no_indirect, c->base)) {
        return -1;
    }
    if (c->rx) {
        /* The peer's frames go to 02:02:02:02:02:02: learnt here. */
        if (hp_send_frames(ctx, &g.tx, 1)) {
            hg_guest_free(&g);
            return -1;
        }
        if (ctx->peer_path) {
            if (hg_guest_open(ctx, &peer, true, false)) {
                hg_guest_free(&g);
                return -1;
            }
            pp = &peer;
        }
    }
    int res = pcase_check(ctx, &g, c->rx ? &g.rx : &g.tx, c, pp);
    if (res == H_SKIP || c->expect == HG_BROKEN) {
        hg_guest_free(&g);
    } else {
        res = hg_guest_finish(ctx, &g, res);
    }
    if (pp) {
        hg_guest_close(pp, false);
    }
    return res;
}

/* ---- A ring position outside the ring. ---- */

struct pbase {
    uint32_t q;                 /* 0: receive ring, 1: transmit ring */
    uint32_t base;
};

/* A running packed ring gets SET_VRING_BASE 'base', then a KICK that
 * starts it there: the switch must drop the device, saying why, and serve
 * the next front end on the port. */
static int
s_base_out_of_range(struct hctx *ctx, const void *arg)
{
    const struct pbase *b = arg;
    struct vhu_vring_state st = { b->q, b->base };
    uint64_t u = b->q;
    struct hg_guest g;

    if (hg_guest_open_packed(ctx, &g, false, BASE_NEW)) {
        return -1;
    }
    int res = hp_send_frames(ctx, &g.tx, 3);
    /* Refusing the base at once is fine too, if the device goes. */
    int64_t ack = res ? 0 : h_request_ack(g.sock, VHU_SET_VRING_BASE, &st,
                                          sizeof st, NULL, 0);
    if (!res && !ack) {
        int err = h_send(g.sock, VHU_SET_VRING_KICK, VHU_FLAG_VERSION, &u,
                         sizeof u, &g.kick[b->q], 1);
        if (err) {
            res = h_fail(ctx, "SET_VRING_KICK: %s", strerror(-err));
        }
    }
    if (!res) {
        int fd = g.sock;
        g.sock = -1;
        res = h_expect_broken(ctx, fd, ack ? "base" : "outside the ring");
    }
    hg_guest_free(&g);
    if (res) {
        return res;
    }
    /* The port serves the next front end. */
    if (hg_guest_open_packed(ctx, &g, false, BASE_NEW)) {
        return -1;
    }
    return hg_guest_finish(ctx, &g, hp_send_frames(ctx, &g.tx, 1));
}

#define PTX(b, x) (&(const struct pcase) { b, false, x, false, BASE_NEW, 0 })
#define PRX(b, x) (&(const struct pcase) { b, true, x, false, BASE_NEW, 0 })
/* The case after 'skip' good frames on the transmit ring. */
#define PTX_AT(b, x, skip) \
    (&(const struct pcase) { b, false, x, false, BASE_NEW, skip })
/* Base 0, as UML sends for a new ring. */
#define P0(b, rx) (&(const struct pcase) { b, rx, HG_ACCEPT, false, 0, 0 })
#define PBASE(q, base) (&(const struct pbase) { q, base })

const struct scenario h_packed_scenarios[] = {
    { "packed-tx-ok", run_pcase, PTX(P_OK, HG_ACCEPT) },
    { "packed-tx-base-0-ok", run_pcase, P0(P_OK, false) },
    { "packed-tx-indirect-ok", run_pcase, PTX(P_IND_OK, HG_ACCEPT) },
    { "packed-tx-chain-across-wrap-ok", run_pcase,
      PTX_AT(P_ACROSS_WRAP, HG_ACCEPT, HG_RING_SIZE - 2) },
    { "packed-tx-wrong-direction", run_pcase,
      PTX(P_WRONG_DIR, DROP_BAD_DESCRIPTOR) },
    { "packed-tx-addr-unmapped", run_pcase,
      PTX(P_UNMAPPED, DROP_BAD_ADDRESS) },
    { "packed-tx-indirect-nested", run_pcase,
      PTX(P_IND_NESTED, DROP_BAD_DESCRIPTOR) },
    { "packed-tx-indirect-with-next", run_pcase,
      PTX(P_IND_NEXT, DROP_BAD_DESCRIPTOR) },
    { "packed-tx-indirect-not-negotiated", run_pcase,
      (&(const struct pcase) { P_IND_OK, false, DROP_BAD_DESCRIPTOR, true,
                               BASE_NEW, 0 }) },
    { "packed-tx-bad-in-chain", run_pcase, PTX(P_BAD_IN_CHAIN, HG_ACCEPT) },
    { "packed-tx-bad-in-chain-across-wrap", run_pcase,
      PTX_AT(P_BAD_ACROSS_WRAP, HG_ACCEPT, HG_RING_SIZE - 2) },
    { "packed-tx-endless-chain", run_pcase,
      PTX_AT(P_ENDLESS, HG_BROKEN, 1) },
    { "packed-rx-ok", run_pcase, PRX(P_OK, HG_ACCEPT) },
    { "packed-rx-base-0-ok", run_pcase, P0(P_OK, true) },
    { "packed-rx-wrong-direction", run_pcase,
      PRX(P_WRONG_DIR, DROP_BAD_DESCRIPTOR) },
    { "packed-rx-addr-unmapped", run_pcase,
      PRX(P_UNMAPPED, DROP_BAD_ADDRESS) },
    { "packed-rx-indirect-nested", run_pcase,
      PRX(P_IND_NESTED, DROP_BAD_DESCRIPTOR) },
    { "packed-rx-endless-chain", run_pcase, PRX(P_ENDLESS, HG_BROKEN) },
    { "packed-base-out-of-range", s_base_out_of_range,
      PBASE(1, BASE_NEW | HG_RING_SIZE) },
    { "packed-base-used-out-of-range", s_base_out_of_range,
      PBASE(1, BASE_NEW | (BASE_NEW | (HG_RING_SIZE + 44)) << 16) },
    { "packed-rx-base-out-of-range", s_base_out_of_range,
      PBASE(0, 0x7fff) },
    { NULL, NULL, NULL },
};
