/* hostile-guest.c -- guest-memory-level scenarios of the hostile front end:
 * a legitimate set-up (the hostile guest, hg_*; hostile.h draws its
 * memory), then descriptor chains and ring indexes that a broken or
 * malicious guest driver could write.  Also here: a guest that rewrites
 * its descriptors while the switch reads them, memory regions removed and
 * added back while frames flow, and the table of every guest-level
 * scenario (h_guest_scenarios), those of hostile-fds.c and hostile-load.c
 * included; the packed-ring ones have their own (hostile-packed.c).
 *
 * Transmit cases post chains on the guest's transmit ring and check, per
 * chain: given back in the used ring (id, length 0), counted once in
 * rx_packets and once under the expected drop reason.  Receive cases post
 * chains on the guest's receive ring and need frames towards the hostile
 * port: from the peer front end (--peer-socket, a well-behaved guest that
 * sends to 02:02:02:02:02:02) or from flooding by other ports; the chains
 * must come back with length 0 and be counted under the expected tx drop
 * reason, or be filled correctly.  Ring-level violations (avail index
 * jumps, heads out of range) must get the device disconnected as
 * "broken: guest ring corrupt". */
#include <config.h>

#include "hostile.h"

#include <errno.h>
#include <linux/virtio_ring.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"
#include "vhu-dev.h"

#define F_INDIRECT (1ull << 28)
#define F_RING_PACKED (1ull << 34)

#define PF_GUEST ((1ull << VHU_PROTOCOL_F_REPLY_ACK) \
                  | (1ull << VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS))

/* ---- Set-up and teardown. ---- */

static int
guest_memfd(bool peer, const char *name, uint64_t size)
{
    if (!peer) {
        return h_memfd(name, size);
    }
    char full[32];
    snprintf(full, sizeof full, "hpeer-%s", name);
    int fd = memfd_create(full, MFD_CLOEXEC);
    if (fd >= 0 && ftruncate(fd, (off_t) size)) {
        close(fd);
        return -1;
    }
    return fd;
}

uint8_t *
hg_r0(const struct hg_guest *g, uint64_t off)
{
    return g->mem[0] + off;
}

uint64_t
hg_buf_gpa(const struct hg_ring *r, unsigned i)
{
    return HG_R0_GPA + r->buf_off + (uint64_t) i * HG_BUF_SIZE;
}

static void
ring_layout(struct hg_guest *g, struct hg_ring *r, uint32_t off,
            uint32_t buf_off, bool writable)
{
    r->desc = (struct vring_desc *) hg_r0(g, off);
    r->avail = (struct vring_avail *) hg_r0(g, off + 0x1000);
    r->used = (struct vring_used *) hg_r0(g, off + 0x2000);
    r->pdesc = (struct vring_packed_desc *) r->desc;
    r->buf_off = buf_off;
    r->writable = writable;
    r->avail_idx = 0;
    r->packed = false;
    r->slot = 0;
    r->wrap = true;
    r->base = 0;
}

/* The bytes a frame can come from, and the canaries. */
static void
guest_fill(struct hg_guest *g)
{
    memset(hg_r0(g, 0), 0, HG_OFF_TXBUF);
    memset(hg_r0(g, HG_OFF_TXBUF), HG_MAC_H, HG_OFF_RXBUF - HG_OFF_TXBUF);
    memset(hg_r0(g, HG_OFF_RXBUF), HG_FILL_RX, HG_OFF_CANARY - HG_OFF_RXBUF);
    memset(hg_r0(g, HG_OFF_CANARY), HG_MAC_H, HG_R0_SIZE - HG_OFF_CANARY);
    if (g->n_regions > 1) {
        memset(g->mem[1], HG_MAC_H, HG_R1_SIZE);
    }
    if (g->peer) {
        /* The peer's frames: to the hostile guest, from 06:06:..., then
         * a payload that reads as no guest address. */
        for (unsigned i = 0; i < HG_RING_SIZE; i++) {
            uint8_t *b = hg_r0(g, HG_OFF_TXBUF + i * HG_BUF_SIZE);
            memset(b, 0, HG_HDR);
            memset(b + HG_HDR, HG_MAC_H, 6);
            memset(b + HG_HDR + 6, HG_MAC_G, 6);
            b[HG_HDR + 12] = 0x88;
            b[HG_HDR + 13] = 0xb5;      /* local experimental ethertype */
            memset(b + HG_HDR + 14, 0xee, HG_FRAME - 14);
        }
    }
}

static int
guest_mem_table(struct hg_guest *g)
{
    struct vhu_mem_table t;
    memset(&t, 0, sizeof t);
    t.n_regions = g->n_regions;
    for (unsigned i = 0; i < g->n_regions; i++) {
        t.regions[i].gpa = g->gpa[i];
        t.regions[i].size = g->size[i];
        t.regions[i].qva = (uint64_t) (uintptr_t) g->mem[i];
    }
    return (int) h_request_ack(g->sock, VHU_SET_MEM_TABLE, &t,
                               8 + 32 * g->n_regions, g->mfd, g->n_regions);
}

int64_t
hg_ring_setup(struct hg_guest *g, uint32_t q, const struct hg_ring *r,
              uint16_t size, uint16_t base)
{
    struct vhu_vring_state num = { q, size }, st = { q, base };
    struct vhu_vring_addr addr = {
        .index = q,
        .desc_qva = (uint64_t) (uintptr_t) r->desc,
        .avail_qva = (uint64_t) (uintptr_t) r->avail,
        .used_qva = (uint64_t) (uintptr_t) r->used,
    };
    uint64_t u = q;
    int64_t ack = h_request_ack(g->sock, VHU_SET_VRING_NUM, &num, sizeof num,
                                NULL, 0);
    if (!ack) {
        ack = h_request_ack(g->sock, VHU_SET_VRING_BASE, &st, sizeof st,
                            NULL, 0);
    }
    if (!ack) {
        ack = h_request_ack(g->sock, VHU_SET_VRING_ADDR, &addr, sizeof addr,
                            NULL, 0);
    }
    if (!ack) {
        ack = h_request_ack(g->sock, VHU_SET_VRING_KICK, &u, sizeof u,
                            &g->kick[q], 1);
    }
    return ack;
}

static int
guest_ring_start(struct hg_guest *g, uint32_t q, struct hg_ring *r)
{
    uint64_t u = q;
    int64_t ack = hg_ring_setup(g, q, r, HG_RING_SIZE, r->base);
    if (!ack) {
        ack = h_request_ack(g->sock, VHU_SET_VRING_CALL, &u, sizeof u,
                            &g->call[q], 1);
    }
    return (int) ack;
}

/* hg_guest_open and hg_guest_open_packed: 'features' beyond VERSION_1
 * and PROTOCOL_FEATURES; with RING_PACKED, both rings start at 'base'. */
static int
guest_open(struct hctx *ctx, struct hg_guest *g, bool peer,
           uint64_t features, uint16_t base)
{
    static const char *const names[3] = { "r0", "r1", "r2" };
    const uint64_t gpas[3] = { HG_R0_GPA, HG_R1_GPA, HG_R2_GPA };
    const uint64_t sizes[3] = { HG_R0_SIZE, HG_R1_SIZE, HG_R2_SIZE };

    memset(g, 0, sizeof *g);
    g->ctx = ctx;
    g->peer = peer;
    g->port = peer ? ctx->peer_port : ctx->port;
    g->sock = -1;
    g->n_regions = peer ? 1 : 3;
    for (int i = 0; i < 3; i++) {
        g->mfd[i] = -1;
        g->mem[i] = MAP_FAILED;
    }
    g->kick[0] = g->kick[1] = g->call[0] = g->call[1] = -1;
    for (unsigned i = 0; i < g->n_regions; i++) {
        g->gpa[i] = gpas[i];
        g->size[i] = sizes[i];
        g->mfd[i] = guest_memfd(peer, names[i], sizes[i]);
        if (g->mfd[i] < 0) {
            hg_guest_free(g);
            return h_fail(ctx, "memfd: %s", strerror(errno));
        }
        g->mem[i] = mmap(NULL, sizes[i], PROT_READ | PROT_WRITE, MAP_SHARED,
                         g->mfd[i], 0);
        if (g->mem[i] == MAP_FAILED) {
            hg_guest_free(g);
            return h_fail(ctx, "mmap: %s", strerror(errno));
        }
    }
    for (int q = 0; q < 2; q++) {
        g->kick[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        g->call[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    }
    ring_layout(g, &g->rx, HG_OFF_RX, HG_OFF_RXBUF, true);
    ring_layout(g, &g->tx, HG_OFF_TX, HG_OFF_TXBUF, false);
    if (features & F_RING_PACKED) {
        g->rx.packed = g->tx.packed = true;
        g->rx.base = g->tx.base = base;
    }
    guest_fill(g);

    g->sock = h_connect(ctx, peer ? ctx->peer_path : ctx->sock_path,
                        g->port);
    if (g->sock < 0) {
        hg_guest_free(g);
        return -1;
    }
    if (h_negotiate(ctx, g->sock, features, PF_GUEST)) {
        hg_guest_free(g);
        return -1;
    }
    int err = guest_mem_table(g);
    for (uint32_t q = 0; q < 2 && !err; q++) {
        err = guest_ring_start(g, q, q ? &g->tx : &g->rx);
    }
    for (uint32_t q = 0; q < 2 && !err; q++) {
        struct vhu_vring_state on = { q, 1 };
        err = (int) h_request_ack(g->sock, VHU_SET_VRING_ENABLE, &on,
                                  sizeof on, NULL, 0);
    }
    if (err) {
        hg_guest_free(g);
        return h_fail(ctx, "%s: legitimate set-up refused (%d)", g->port,
                      err);
    }
    return 0;
}

int
hg_guest_open(struct hctx *ctx, struct hg_guest *g, bool peer, bool indirect)
{
    return guest_open(ctx, g, peer, indirect ? F_INDIRECT : 0, 0);
}

int
hg_guest_open_packed(struct hctx *ctx, struct hg_guest *g, bool indirect,
                     uint16_t base)
{
    return guest_open(ctx, g, false,
                      F_RING_PACKED | (indirect ? F_INDIRECT : 0), base);
}

void
hg_guest_free(struct hg_guest *g)
{
    if (g->sock >= 0) {
        h_hangup(g->ctx, g->sock);
        g->sock = -1;
    }
    for (int i = 0; i < 3; i++) {
        if (g->mem[i] != MAP_FAILED) {
            munmap(g->mem[i], g->size[i]);
            g->mem[i] = MAP_FAILED;
        }
        if (g->mfd[i] >= 0) {
            close(g->mfd[i]);
            g->mfd[i] = -1;
        }
    }
    for (int q = 0; q < 2; q++) {
        if (g->kick[q] >= 0) {
            close(g->kick[q]);
        }
        if (g->call[q] >= 0) {
            close(g->call[q]);
        }
        g->kick[q] = g->call[q] = -1;
    }
}

/* What GET_VRING_BASE must say once every chain made available on 'r'
 * came back.  Packed: our position, for both sides (vq_get_base writes
 * both); a ring that never moved from base 0 keeps that ambiguous 0. */
static uint32_t
ring_base(const struct hg_ring *r)
{
    if (!r->packed) {
        return r->avail_idx;
    }
    if (!r->avail_idx && !r->base) {
        return 0;
    }
    uint32_t pos = r->slot | (uint32_t) r->wrap << 15;
    return pos | pos << 16;
}

int
hg_guest_close(struct hg_guest *g, bool check)
{
    int res = 0;
    for (uint32_t q = 0; q < 2 && g->sock >= 0; q++) {
        struct vhu_vring_state st = { q, 0 };
        struct vhu_msg msg;
        const struct hg_ring *r = q ? &g->tx : &g->rx;
        int err = h_send(g->sock, VHU_GET_VRING_BASE, VHU_FLAG_VERSION, &st,
                         sizeof st, NULL, 0);
        if (!err) {
            err = h_recv(g->sock, &msg, H_REPLY_MS);
        }
        if (err || msg.size != sizeof st) {
            res = check ? h_fail(g->ctx, "%s: GET_VRING_BASE %u: %s",
                                 g->port, q, strerror(-err)) : 0;
            break;
        }
        if (check && msg.payload.state.num != ring_base(r)) {
            res = h_fail(g->ctx, "%s: GET_VRING_BASE %u says %#x, expected "
                         "%#x: we made %u chains available and all came "
                         "back", g->port, q, msg.payload.state.num,
                         ring_base(r), r->avail_idx);
        }
    }
    hg_guest_free(g);
    return res;
}

int
hg_guest_finish(struct hctx *ctx, struct hg_guest *g, int res)
{
    if (!res) {
        res = h_expect_alive(ctx, g->sock);
    }
    if (!res) {
        return hg_guest_close(g, true);
    }
    hg_guest_free(g);
    return res;
}

/* ---- Rings. ---- */

void
hg_set_desc(struct vring_desc *d, uint64_t addr, uint32_t len,
            uint16_t flags, uint16_t next)
{
    d->addr = addr;
    d->len = len;
    d->flags = flags;
    d->next = next;
}

void
hg_ring_post(struct hg_ring *r, const uint16_t *heads, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        r->avail->ring[(uint16_t) (r->avail_idx + i) % HG_RING_SIZE] =
            heads[i];
    }
    r->avail_idx += n;
    STORE_RELEASE(r->avail->idx, r->avail_idx);
}

uint16_t
hg_ring_used(const struct hg_ring *r)
{
    return LOAD_ACQUIRE(r->used->idx);
}

void
hg_peer_pump(struct hg_guest *p)
{
    struct hg_ring *r = &p->tx;
    uint16_t in_flight = (uint16_t) (r->avail_idx - hg_ring_used(r));
    uint16_t heads[16];

    if (in_flight > 128) {
        return;
    }
    for (unsigned i = 0; i < ARRAY_SIZE(heads); i++) {
        uint16_t h = (uint16_t) (r->avail_idx + i) % HG_RING_SIZE;
        hg_set_desc(&r->desc[h], hg_buf_gpa(r, h), HG_HDR + HG_FRAME, 0, 0);
        heads[i] = h;
    }
    hg_ring_post(r, heads, ARRAY_SIZE(heads));
}

int
hg_ring_wait_all_used(struct hg_ring *r, struct hg_guest *peer,
                      int timeout_ms)
{
    uint64_t deadline = h_now_ms() + (uint64_t) timeout_ms;
    while (hg_ring_used(r) != r->avail_idx) {
        if (h_now_ms() >= deadline) {
            return -ETIMEDOUT;
        }
        if (peer) {
            hg_peer_pump(peer);
        }
        h_sleep_ms(1);
    }
    return 0;
}

/* ---- Expected outcomes. ---- */

uint64_t
hg_drops_sum(const struct stats_dir *d)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < N_DROP_REASONS; i++) {
        n += d->drops[i];
    }
    return n;
}

/* After 'n' chains of the transmit (rx == false: counters of the port's
 * receive side) or receive ring came back: each was counted once, under
 * 'expect'.  Counters trail the used index by a moment. */
static int
check_counters(struct hctx *ctx, bool rx_ring, const struct stats_dir *b_rx,
               const struct stats_dir *b_tx, unsigned n, int expect)
{
    uint64_t deadline = h_now_ms() + 5000;
    struct stats_dir a_rx, a_tx;
    char why[256] = "";

    for (;;) {
        h_port_counters(ctx, ctx->port, &a_rx, &a_tx);
        const struct stats_dir *b = rx_ring ? b_tx : b_rx;
        const struct stats_dir *a = rx_ring ? &a_tx : &a_rx;
        uint64_t packets = a->packets - b->packets;
        uint64_t dropped = hg_drops_sum(a) - hg_drops_sum(b);
        uint64_t reason = 0;
        int r = expect == HG_ACCEPT ? (rx_ring ? -1 : DROP_NO_DESTINATION)
                                   : expect;
        if (r >= 0) {
            reason = a->drops[r] - b->drops[r];
        }
        if (!rx_ring) {
            /* Every chain: one rx packet, one drop, under 'r'. */
            if (packets == n && dropped == n && reason == n) {
                return 0;
            }
            snprintf(why, sizeof why, "rx_packets +%llu, drops +%llu, %s "
                     "+%llu; expected +%u each",
                     (unsigned long long) packets,
                     (unsigned long long) dropped, stats_drop_names[r],
                     (unsigned long long) reason, n);
        } else if (r < 0) {
            /* Each chain filled with exactly one frame. */
            if (packets == n) {
                return 0;
            }
            snprintf(why, sizeof why, "tx_packets +%llu, expected +%u",
                     (unsigned long long) packets, n);
        } else {
            /* Each bad chain costs exactly one frame; others that found
             * the ring empty are no_rx_buffers. */
            if (reason == n) {
                return 0;
            }
            snprintf(why, sizeof why, "tx drops %s +%llu, expected +%u",
                     stats_drop_names[r], (unsigned long long) reason, n);
        }
        if (h_now_ms() >= deadline) {
            return h_fail(ctx, "counters: %s", why);
        }
        h_sleep_ms(5);
    }
}

int
hg_check_used(struct hctx *ctx, const struct hg_ring *r,
              const uint16_t *heads, unsigned n, int expect)
{
    uint16_t first = (uint16_t) (r->avail_idx - n);
    for (unsigned i = 0; i < n; i++) {
        const struct vring_used_elem *e =
            &r->used->ring[(uint16_t) (first + i) % HG_RING_SIZE];
        if (e->id != heads[i]) {
            return h_fail(ctx, "used entry %u: id %u, expected %u", i,
                          e->id, heads[i]);
        }
        bool filled = r->writable && expect == HG_ACCEPT;
        if (!filled && e->len) {
            return h_fail(ctx, "used entry %u (head %u): length %u, "
                          "expected 0", i, e->id, e->len);
        }
        if (filled && (e->len < HG_HDR + 14 || e->len > HG_HDR + 9728)) {
            return h_fail(ctx, "used entry %u (head %u): length %u for a "
                          "received frame", i, e->id, e->len);
        }
    }
    return 0;
}

/* ---- The cases: descriptor layouts. ---- */

enum build {
    B_OK, B_SPAN_REGIONS, B_NEXT_SELF, B_2CYCLE, B_RING_CYCLE,
    B_CHAIN_PLUS_1, B_NEXT_OOR, B_CHAIN_SIZE, B_UNMAPPED, B_CROSS_END,
    B_LEN0, B_LEN0_MID, B_LEN_MAX, B_WRAP, B_OVER_4G, B_MANY_1BYTE,
    B_IND_LEN0, B_IND_LEN15, B_IND_LEN17, B_IND_SIZE_PLUS_1, B_IND_NESTED,
    B_IND_NEXT, B_IND_UNMAPPED, B_IND_EXACT, B_IND_CYCLE, B_IND_NEXT_OOR,
    B_IND_AFTER_CHAIN, B_IND_DIR_FLAG, B_WRONG_DIR, B_MIXED_DIR,
    B_HDR_SHORT, B_HDR_ONLY, B_ETH_SHORT, B_HDR_SPLIT, B_OVERSIZE,
    B_JUMP_SIZE,
    /* ring-level: the builder posts */
    B_JUMP_PLUS_1, B_BACKWARDS, B_HEAD_OOR, B_HEAD_FFFF,
};

struct gcase {
    enum build build;
    bool rx;                    /* attack the receive ring */
    int expect;                 /* DROP_*, HG_ACCEPT or HG_BROKEN */
    bool no_indirect;           /* do not negotiate INDIRECT_DESC */
};

/* Lays out the descriptors of case 'b' on ring 'r' and returns the heads
 * to post.  'f' is the direction flag a good descriptor of 'r' carries;
 * 'len' the length of a buffer holding one whole frame. */
static void
build(struct hg_guest *g, struct hg_ring *r, enum build b, uint16_t *heads,
      unsigned *n)
{
    struct vring_desc *d = r->desc;
    struct vring_desc *ind = (struct vring_desc *) hg_r0(g, HG_OFF_IND);
    const uint16_t f = r->writable ? VRING_DESC_F_WRITE : 0;
    const uint16_t nf = f | VRING_DESC_F_NEXT;
    const uint32_t len = r->writable ? HG_BUF_SIZE : HG_HDR + HG_FRAME;
    const uint32_t tail = r->writable ? HG_BUF_SIZE : HG_FRAME;

    memset(d, 0, 16 * HG_RING_SIZE);
    memset(ind, 0, HG_IND_SIZE);
    *n = 1;
    heads[0] = 0;
    switch (b) {
    case B_OK:
        hg_set_desc(&d[0], hg_buf_gpa(r, 0), len, f, 0);
        break;
    case B_SPAN_REGIONS:        /* one buffer over the R0/R1 boundary */
        hg_set_desc(&d[0], HG_R1_GPA - 40, r->writable ? 1024 : 40 + HG_FRAME,
                    f, 0);
        break;
    case B_NEXT_SELF:
        hg_set_desc(&d[0], hg_buf_gpa(r, 0), 64, nf, 0);
        break;
    case B_2CYCLE:
        hg_set_desc(&d[0], hg_buf_gpa(r, 0), 64, nf, 1);
        hg_set_desc(&d[1], hg_buf_gpa(r, 1), 64, nf, 0);
        break;
    case B_RING_CYCLE:
    case B_CHAIN_PLUS_1:
        for (unsigned i = 0; i < HG_RING_SIZE; i++) {
            hg_set_desc(&d[i], hg_buf_gpa(r, i), 8, nf,
                        (i + 1) % HG_RING_SIZE);
        }
        heads[0] = b == B_RING_CYCLE ? 0 : 5;
        break;
    case B_NEXT_OOR:
        hg_set_desc(&d[0], hg_buf_gpa(r, 0), 64, nf, HG_RING_SIZE);
        hg_set_desc(&d[1], hg_buf_gpa(r, 1), 64, nf, 0xffff);
        heads[1] = 1;
        *n = 2;
        break;
    case B_CHAIN_SIZE:          /* exactly ring-size descriptors: fine */
        for (unsigned i = 0; i < HG_RING_SIZE; i++) {
            hg_set_desc(&d[i], hg_buf_gpa(r, 0) + 4 * i, 4,
                        i + 1 < HG_RING_SIZE ? nf : f, (uint16_t) (i + 1));
        }
        break;
    case B_UNMAPPED:
        hg_set_desc(&d[0], HG_HOLE_GPA, 64, f, 0);
        hg_set_desc(&d[1], 0, 64, f, 0);
        hg_set_desc(&d[2], HG_R0_GPA - 64, 64, f, 0);
        heads[1] = 1;
        heads[2] = 2;
        *n = 3;
        break;
    case B_CROSS_END:           /* runs off the end of a region */
        hg_set_desc(&d[0], HG_HOLE_GPA - 32, 64 + HG_HDR, f, 0);
        hg_set_desc(&d[1], HG_R2_GPA + HG_R2_SIZE - 16, 64 + HG_HDR, f, 0);
        heads[1] = 1;
        *n = 2;
        break;
    case B_LEN0:
        hg_set_desc(&d[0], hg_buf_gpa(r, 0), 0, f, 0);
        break;
    case B_LEN0_MID:
        hg_set_desc(&d[0], hg_buf_gpa(r, 0), HG_HDR, nf, 1);
        hg_set_desc(&d[1], hg_buf_gpa(r, 1), 0, nf, 2);
        hg_set_desc(&d[2], hg_buf_gpa(r, 2), tail, f, 0);
        break;
    case B_LEN_MAX:
        hg_set_desc(&d[0], HG_R2_GPA, 0xffffffff, f, 0);
        hg_set_desc(&d[1], hg_buf_gpa(r, 1), 0xffffffff, f, 0);
        heads[1] = 1;
        *n = 2;
        break;
    case B_WRAP:
        hg_set_desc(&d[0], 0xfffffffffffff000ull, 0x2000, f, 0);
        hg_set_desc(&d[1], ~0ull, 2, f, 0);
        heads[1] = 1;
        *n = 2;
        break;
    case B_OVER_4G:             /* 32-bit sums would wrap to ~2 GiB */
        for (unsigned i = 0; i < 3; i++) {
            hg_set_desc(&d[i], HG_R2_GPA, 0x7fffffff, i < 2 ? nf : f, i + 1);
        }
        hg_set_desc(&d[3], HG_R2_GPA, 0x80000000u, nf, 4);
        hg_set_desc(&d[4], HG_R2_GPA, 0x80000000u, f, 0);
        heads[1] = 3;
        *n = 2;
        break;
    case B_MANY_1BYTE:
        for (unsigned i = 0; i < HG_RING_SIZE; i++) {
            hg_set_desc(&d[i], hg_buf_gpa(r, 0) + i, 1,
                        i + 1 < HG_RING_SIZE ? nf : f, (uint16_t) (i + 1));
        }
        break;
    case B_IND_LEN0:
    case B_IND_LEN15:
    case B_IND_LEN17:
    case B_IND_SIZE_PLUS_1: {
        static const uint32_t lens[] = { 0, 15, 17, 16 * (HG_RING_SIZE + 1) };
        for (unsigned i = 0; i <= HG_RING_SIZE; i++) {
            hg_set_desc(&ind[i], hg_buf_gpa(r, 0), len, f, 0);
        }
        hg_set_desc(&d[0], HG_IND_GPA, lens[b - B_IND_LEN0],
                    VRING_DESC_F_INDIRECT, 0);
        break;
    }
    case B_IND_NESTED:
        hg_set_desc(&ind[0], HG_IND_GPA + 0x1000, 16, VRING_DESC_F_INDIRECT,
                    0);
        hg_set_desc(&ind[256], hg_buf_gpa(r, 0), len, f, 0);
        hg_set_desc(&d[0], HG_IND_GPA, 32, VRING_DESC_F_INDIRECT, 0);
        break;
    case B_IND_NEXT:
        hg_set_desc(&ind[0], hg_buf_gpa(r, 0), len, f, 0);
        hg_set_desc(&d[0], HG_IND_GPA, 16,
                    VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
        hg_set_desc(&d[1], hg_buf_gpa(r, 1), len, f, 0);
        break;
    case B_IND_UNMAPPED:
        hg_set_desc(&d[0], HG_HOLE_GPA, 16, VRING_DESC_F_INDIRECT, 0);
        break;
    case B_IND_EXACT:           /* a full-size table, all of it chained */
        for (unsigned i = 0; i < HG_RING_SIZE; i++) {
            hg_set_desc(&ind[i], hg_buf_gpa(r, 0) + 4 * i, 4,
                        i + 1 < HG_RING_SIZE ? nf : f, (uint16_t) (i + 1));
        }
        hg_set_desc(&d[0], HG_IND_GPA, 16 * HG_RING_SIZE,
                    VRING_DESC_F_INDIRECT, 0);
        break;
    case B_IND_CYCLE:
        hg_set_desc(&ind[0], hg_buf_gpa(r, 0), 64, nf, 1);
        hg_set_desc(&ind[1], hg_buf_gpa(r, 1), 64, nf, 0);
        hg_set_desc(&d[0], HG_IND_GPA, 32, VRING_DESC_F_INDIRECT, 0);
        break;
    case B_IND_NEXT_OOR:
        hg_set_desc(&ind[0], hg_buf_gpa(r, 0), 64, nf, 2);
        hg_set_desc(&ind[1], hg_buf_gpa(r, 1), 64, f, 0);
        hg_set_desc(&ind[2], hg_buf_gpa(r, 2), 64, f, 0);
        hg_set_desc(&d[0], HG_IND_GPA, 32, VRING_DESC_F_INDIRECT, 0);
        break;
    case B_IND_AFTER_CHAIN:
        hg_set_desc(&d[0], hg_buf_gpa(r, 0), HG_HDR, nf, 1);
        hg_set_desc(&d[1], HG_IND_GPA, 16, VRING_DESC_F_INDIRECT, 0);
        hg_set_desc(&ind[0], hg_buf_gpa(r, 1), tail, f, 0);
        break;
    case B_IND_DIR_FLAG:        /* the indirect descriptor's own direction
                                 * flag is to be ignored */
        hg_set_desc(&ind[0], hg_buf_gpa(r, 0), len, f, 0);
        hg_set_desc(&d[0], HG_IND_GPA, 16,
                    VRING_DESC_F_INDIRECT | (f ^ VRING_DESC_F_WRITE), 0);
        break;
    case B_WRONG_DIR:
        hg_set_desc(&d[0], hg_buf_gpa(r, 0), len, f ^ VRING_DESC_F_WRITE, 0);
        break;
    case B_MIXED_DIR:
        hg_set_desc(&d[0], hg_buf_gpa(r, 0), HG_HDR, nf, 1);
        hg_set_desc(&d[1], hg_buf_gpa(r, 1), tail, f ^ VRING_DESC_F_WRITE, 0);
        break;
    case B_HDR_SHORT:
        hg_set_desc(&d[0], hg_buf_gpa(r, 0), HG_HDR - 4, f, 0);
        break;
    case B_HDR_ONLY:
        hg_set_desc(&d[0], hg_buf_gpa(r, 0), HG_HDR, f, 0);
        break;
    case B_ETH_SHORT:
        hg_set_desc(&d[0], hg_buf_gpa(r, 0), HG_HDR + 13, f, 0);
        break;
    case B_HDR_SPLIT:           /* the header in 1-byte pieces */
        for (unsigned i = 0; i < HG_HDR; i++) {
            hg_set_desc(&d[i], hg_buf_gpa(r, 0) + i, 1, nf,
                        (uint16_t) (i + 1));
        }
        hg_set_desc(&d[HG_HDR], hg_buf_gpa(r, 1), tail, f, 0);
        break;
    case B_OVERSIZE:            /* contiguous tx buffers: 9000 bytes */
        hg_set_desc(&d[0], hg_buf_gpa(r, 0), HG_HDR + 9000, f, 0);
        break;
    case B_JUMP_SIZE:           /* a whole ring's worth at once */
        hg_set_desc(&d[0], hg_buf_gpa(r, 0), len, f, 0);
        for (unsigned i = 0; i < HG_RING_SIZE; i++) {
            heads[i] = 0;
        }
        *n = HG_RING_SIZE;
        break;
    case B_JUMP_PLUS_1:
    case B_BACKWARDS:
    case B_HEAD_OOR:
    case B_HEAD_FFFF:
        hg_set_desc(&d[0], hg_buf_gpa(r, 0), len, f, 0);
        hg_set_desc(&d[1], hg_buf_gpa(r, 1), len, f, 0);
        break;
    }
}

/* Ring-level violations: publishes them on 'r'. */
static int
post_violation(struct hctx *ctx, struct hg_guest *g, struct hg_ring *r,
               enum build b, struct hg_guest *peer)
{
    uint16_t heads[2] = { 0, 1 };
    switch (b) {
    case B_JUMP_PLUS_1:
        for (unsigned i = 0; i < HG_RING_SIZE; i++) {
            r->avail->ring[i] = 0;
        }
        r->avail_idx += HG_RING_SIZE + 1;
        STORE_RELEASE(r->avail->idx, r->avail_idx);
        break;
    case B_BACKWARDS:
        hg_ring_post(r, heads, 2);
        if (hg_ring_wait_all_used(r, peer, H_REPLY_MS)) {
            return h_fail(ctx, "the first two chains never came back");
        }
        r->avail_idx -= 1;
        STORE_RELEASE(r->avail->idx, r->avail_idx);
        break;
    case B_HEAD_OOR:
    case B_HEAD_FFFF:
        heads[1] = b == B_HEAD_OOR ? HG_RING_SIZE : 0xffff;
        hg_ring_post(r, heads, 2);
        break;
    default:
        break;
    }
    return 0;
}

int
hg_expect_dropped(struct hctx *ctx, struct hg_guest *g, struct hg_guest *peer)
{
    uint64_t deadline = h_now_ms() + H_STATE_MS;
    struct pollfd pfd = { .fd = g->sock, .events = POLLIN };
    while (h_now_ms() < deadline && !poll(&pfd, 1, 1)) {
        if (peer) {
            hg_peer_pump(peer);
        }
    }
    int fd = g->sock;
    g->sock = -1;
    return h_expect_broken(ctx, fd, "guest ring corrupt");
}

int
hg_learn_mac(struct hctx *ctx, struct hg_guest *g)
{
    uint16_t head = 0;
    hg_set_desc(&g->tx.desc[0], hg_buf_gpa(&g->tx, 0), HG_HDR + HG_FRAME, 0,
                0);
    hg_ring_post(&g->tx, &head, 1);
    if (hg_ring_wait_all_used(&g->tx, NULL, H_REPLY_MS)) {
        return h_fail(ctx, "the switch does not poll the transmit ring");
    }
    return 0;
}

static int
run_case(struct hctx *ctx, const void *arg)
{
    const struct gcase *c = arg;
    struct hg_guest g, peer;
    bool have_peer = false;
    uint16_t heads[HG_RING_SIZE];
    unsigned n;
    int res;

    if (hg_guest_open(ctx, &g, false, !c->no_indirect)) {
        return -1;
    }
    struct hg_ring *r = c->rx ? &g.rx : &g.tx;
    if (c->rx) {
        if (hg_learn_mac(ctx, &g)) {
            hg_guest_free(&g);
            return -1;
        }
        if (ctx->peer_path) {
            if (hg_guest_open(ctx, &peer, true, false)) {
                hg_guest_free(&g);
                return -1;
            }
            have_peer = true;
        }
    }
    struct hg_guest *pp = have_peer ? &peer : NULL;
    struct stats_dir b_rx, b_tx;
    h_port_counters(ctx, ctx->port, &b_rx, &b_tx);
    build(&g, r, c->build, heads, &n);

    if (c->expect == HG_BROKEN) {
        res = post_violation(ctx, &g, r, c->build, pp);
        if (!res) {
            res = hg_expect_dropped(ctx, &g, pp);
        }
        hg_guest_free(&g);
        goto out;
    }
    hg_ring_post(r, heads, n);
    if (hg_ring_wait_all_used(r, pp, H_REPLY_MS)) {
        if (c->rx && !have_peer
            && hg_ring_used(r) == (uint16_t) (r->avail_idx - n)) {
            snprintf(ctx->why, sizeof ctx->why, "no frames towards the "
                     "hostile port (give --peer-socket)");
            hg_guest_free(&g);
            return H_SKIP;
        }
        h_fail(ctx, "%u of %u chains never came back (used %u, avail %u)",
               (uint16_t) (r->avail_idx - hg_ring_used(r)), n, hg_ring_used(r),
               r->avail_idx);
        hg_guest_free(&g);
        res = -1;
        goto out;
    }
    res = hg_check_used(ctx, r, heads, n, c->expect);
    if (!res) {
        res = check_counters(ctx, c->rx, &b_rx, &b_tx, n, c->expect);
    }
    if (!res && c->rx && c->expect != HG_ACCEPT) {
        /* Nothing was written into a refused buffer. */
        const uint8_t *p = hg_r0(&g, HG_OFF_RXBUF);
        for (size_t i = 0; i < HG_OFF_CANARY - HG_OFF_RXBUF && !res; i++) {
            if (p[i] != HG_FILL_RX) {
                res = h_fail(ctx, "receive buffer byte %#zx was written",
                             i);
            }
        }
    }
    res = hg_guest_finish(ctx, &g, res);
out:
    if (have_peer) {
        hg_guest_close(&peer, false);
    }
    return res;
}

#define TXC(b, x) (&(const struct gcase) { b, false, x, false })
#define RXC(b, x) (&(const struct gcase) { b, true, x, false })

/* ---- A guest that rewrites its descriptors while the switch reads. ---- */

struct rewriter {
    struct hg_guest *g;
    struct hg_ring *r;
    bool indirect;              /* may write INDIRECT descriptors (into
                                 * the indirect area, full of 02 bytes) */
    bool stop;
    uint64_t n_writes;
};

static uint64_t
xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Addresses a descriptor may get.  On a receive ring they stay out of the
 * indirect area and the canaries (a buffer up to 4 KiB from any of them
 * lies in the receive buffers, past a region end, or nowhere), so that
 * the canaries check the switch, not the guest. */
static uint64_t
pick_addr(struct rewriter *w, uint64_t rnd)
{
    uint64_t span = HG_RING_SIZE * HG_BUF_SIZE - 4096;
    switch (rnd % 6) {
    case 0:
    case 1:
        return HG_R0_GPA + w->r->buf_off + (rnd >> 8) % span;
    case 2:
        return HG_HOLE_GPA + (rnd >> 8) % 4096;
    case 3:
        return HG_HOLE_GPA - (rnd >> 8) % 64;
    case 4:
        return 0xfffffffffffff000ull + (rnd >> 8) % 4096;
    default:
        return w->indirect ? HG_IND_GPA + (rnd >> 8) % (HG_IND_SIZE - 64)
                           : HG_R0_GPA + w->r->buf_off;
    }
}

static void *
rewriter_main(void *arg)
{
    static const uint32_t lens[] = { 0, 1, 11, 12, 13, 26, 72, 1536, 4096,
                                     0xffffffff, 0x80000000u, 16, 32, 4080 };
    static const uint16_t flags[] = {
        0, VRING_DESC_F_WRITE, VRING_DESC_F_NEXT,
        VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, VRING_DESC_F_INDIRECT,
        VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT,
        VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0xffff,
    };
    struct rewriter *w = arg;
    uint64_t s = 0x9e3779b97f4a7c15ull;

    while (!LOAD_ACQUIRE(w->stop)) {
        uint64_t rnd = xorshift(&s);
        struct vring_desc *d = &w->r->desc[(rnd >> 8) % HG_RING_SIZE];
        rnd = xorshift(&s);
        switch (rnd % 4) {
        case 0:
            WRITE_ONCE(d->addr, pick_addr(w, rnd >> 2));
            break;
        case 1:
            WRITE_ONCE(d->len, lens[(rnd >> 2) % ARRAY_SIZE(lens)]);
            break;
        case 2: {
            uint16_t fl = flags[(rnd >> 2) % ARRAY_SIZE(flags)];
            if (!w->indirect) {
                fl &= (uint16_t) ~VRING_DESC_F_INDIRECT;
            }
            WRITE_ONCE(d->flags, fl);
            break;
        }
        default:
            WRITE_ONCE(d->next, (uint16_t) ((rnd >> 2) % (HG_RING_SIZE + 8)));
            break;
        }
        w->n_writes++;
    }
    return NULL;
}

/* Keeps up to 64 chains posted on 'r' for 'ms' while a thread rewrites
 * the descriptors, then puts sane descriptors back and waits for every
 * chain.  The switch must neither crash nor write outside the buffers, and
 * account for every chain. */
static int
s_rewrite(struct hctx *ctx, const void *arg)
{
    bool rx = arg != NULL;
    struct hg_guest g, peer;
    bool have_peer = false;
    int res = 0;

    if (hg_guest_open(ctx, &g, false, true)) {
        return -1;
    }
    struct hg_ring *r = rx ? &g.rx : &g.tx;
    if (rx) {
        if (hg_learn_mac(ctx, &g)) {
            hg_guest_free(&g);
            return -1;
        }
        if (ctx->peer_path) {
            if (hg_guest_open(ctx, &peer, true, false)) {
                hg_guest_free(&g);
                return -1;
            }
            have_peer = true;
        }
    }
    struct hg_guest *pp = have_peer ? &peer : NULL;
    uint16_t heads[16];
    unsigned n_heads = 0;
    build(&g, r, B_OK, heads, &n_heads);
    if (!rx) {
        /* Indirect tables full of 02 bytes: whatever a torn descriptor
         * makes of them, a frame read from there stays on this port. */
        memset(hg_r0(&g, HG_OFF_IND), HG_MAC_H, HG_IND_SIZE);
    }
    for (unsigned i = 0; i < HG_RING_SIZE; i++) {
        hg_set_desc(&r->desc[i], hg_buf_gpa(r, i),
                    rx ? HG_BUF_SIZE : HG_HDR + HG_FRAME,
                    rx ? VRING_DESC_F_WRITE : 0, 0);
    }
    struct stats_dir b_rx, b_tx, a_rx, a_tx;
    h_port_counters(ctx, ctx->port, &b_rx, &b_tx);
    uint16_t start = r->avail_idx;

    struct rewriter w = { .g = &g, .r = r, .indirect = !rx };
    pthread_t thread;
    if (pthread_create(&thread, NULL, rewriter_main, &w)) {
        hg_guest_free(&g);
        return h_fail(ctx, "pthread_create failed");
    }
    uint64_t t_end = h_now_ms() + 2000;
    while (h_now_ms() < t_end) {
        if ((uint16_t) (r->avail_idx - hg_ring_used(r)) <= 48) {
            for (unsigned i = 0; i < 16; i++) {
                heads[i] = (uint16_t) (r->avail_idx + i) % HG_RING_SIZE;
            }
            hg_ring_post(r, heads, 16);
        }
        if (pp) {
            hg_peer_pump(pp);
        }
        h_sleep_ms(1);
    }
    STORE_RELEASE(w.stop, true);
    pthread_join(thread, NULL);

    /* Sane descriptors again: every posted chain must come back. */
    for (unsigned i = 0; i < HG_RING_SIZE; i++) {
        hg_set_desc(&r->desc[i], hg_buf_gpa(r, i),
                    rx ? HG_BUF_SIZE : HG_HDR + HG_FRAME,
                    rx ? VRING_DESC_F_WRITE : 0, 0);
    }
    uint16_t posted = (uint16_t) (r->avail_idx - start);
    if (hg_ring_wait_all_used(r, pp, H_REPLY_MS)) {
        if (rx && !pp && hg_ring_used(r) == start) {
            snprintf(ctx->why, sizeof ctx->why, "no frames towards the "
                     "hostile port (give --peer-socket)");
            res = H_SKIP;
        } else {
            res = h_fail(ctx, "%u of %u chains never came back",
                         (uint16_t) (r->avail_idx - hg_ring_used(r)), posted);
        }
    }
    h_log(ctx, "%llu descriptor writes, %u chains",
          (unsigned long long) w.n_writes, posted);

    /* Every chain accounted once: transmit chains are one rx frame each,
     * all dropped; receive chains one frame each, delivered or dropped
     * for a bad descriptor or address. */
    uint64_t deadline = h_now_ms() + 5000;
    while (!res) {
        h_port_counters(ctx, ctx->port, &a_rx, &a_tx);
        uint64_t got;
        if (!rx) {
            got = a_rx.packets - b_rx.packets;
            if (got == posted
                && hg_drops_sum(&a_rx) - hg_drops_sum(&b_rx) == got) {
                break;
            }
        } else {
            got = (a_tx.packets - b_tx.packets)
                  + (a_tx.drops[DROP_BAD_DESCRIPTOR]
                     - b_tx.drops[DROP_BAD_DESCRIPTOR])
                  + (a_tx.drops[DROP_BAD_ADDRESS]
                     - b_tx.drops[DROP_BAD_ADDRESS]);
            if (got == posted) {
                break;
            }
        }
        if (h_now_ms() >= deadline) {
            res = h_fail(ctx, "%u chains, but counters account for %llu",
                         posted, (unsigned long long) got);
        }
        h_sleep_ms(5);
    }
    if (!res && rx) {
        /* The switch wrote only into buffers the guest offered. */
        static const struct { uint32_t from, to; } canaries[] = {
            { HG_OFF_TXBUF, HG_OFF_RXBUF }, { HG_OFF_CANARY, HG_R0_SIZE },
        };
        for (size_t k = 0; k < ARRAY_SIZE(canaries) && !res; k++) {
            for (uint32_t i = canaries[k].from; i < canaries[k].to; i++) {
                if (g.mem[0][i] != HG_MAC_H) {
                    res = h_fail(ctx, "R0 byte %#x overwritten", i);
                    break;
                }
            }
        }
        for (uint32_t i = 0; i < HG_R1_SIZE - 4096 && !res; i++) {
            if (g.mem[1][i] != HG_MAC_H) {
                res = h_fail(ctx, "R1 byte %#x overwritten", i);
            }
        }
        const uint8_t *ind = hg_r0(&g, HG_OFF_IND);
        for (uint32_t i = 0; i < HG_IND_SIZE && !res; i++) {
            if (ind[i]) {
                res = h_fail(ctx, "indirect area byte %#x overwritten", i);
            }
        }
    }
    res = hg_guest_finish(ctx, &g, res);
    if (have_peer) {
        hg_guest_close(&peer, false);
    }
    return res;
}

/* ---- Memory regions removed and added back while frames flow. ---- */

struct poster {
    struct hg_ring *r;
    bool stop;
    unsigned n_posted;
};

/* Frames from R1 (32 buffers), at most 32 in flight. */
static void *
poster_main(void *arg)
{
    struct poster *p = arg;
    while (!LOAD_ACQUIRE(p->stop)) {
        struct hg_ring *r = p->r;
        if ((uint16_t) (r->avail_idx - hg_ring_used(r)) < 32) {
            uint16_t head = r->avail_idx % 32;
            hg_ring_post(r, &head, 1);
            p->n_posted++;
        } else {
            h_sleep_ms(1);
        }
    }
    return NULL;
}

static int
rem_add(struct hg_guest *g, unsigned i)
{
    struct vhu_mem_reg reg = { 0, { g->gpa[i], g->size[i],
                                    (uint64_t) (uintptr_t) g->mem[i], 0 } };
    int64_t ack = h_request_ack(g->sock, VHU_REM_MEM_REG, &reg, sizeof reg,
                                NULL, 0);
    h_sleep_ms(3);
    if (!ack) {
        ack = h_request_ack(g->sock, VHU_ADD_MEM_REG, &reg, sizeof reg,
                            &g->mfd[i], 1);
    }
    h_sleep_ms(3);
    return (int) ack;
}

static int
s_rem_while_traffic(struct hctx *ctx, const void *arg)
{
    struct hg_guest g;
    if (hg_guest_open(ctx, &g, false, false)) {
        return -1;
    }
    struct hg_ring *r = &g.tx;
    for (unsigned i = 0; i < 32; i++) {
        hg_set_desc(&r->desc[i], HG_R1_GPA + i * HG_BUF_SIZE,
                    HG_HDR + HG_FRAME, 0, 0);
    }
    struct stats_dir b_rx, b_tx, a_rx, a_tx;
    h_port_counters(ctx, ctx->port, &b_rx, &b_tx);
    struct poster p = { .r = r };
    pthread_t thread;
    if (pthread_create(&thread, NULL, poster_main, &p)) {
        hg_guest_free(&g);
        return h_fail(ctx, "pthread_create failed");
    }
    int err = 0;
    for (unsigned k = 0; k < 40 && !err; k++) {
        /* Mostly the buffers' region; every fourth time the rings'. */
        err = rem_add(&g, k % 4 == 3 ? 0 : 1);
    }
    STORE_RELEASE(p.stop, true);
    pthread_join(thread, NULL);
    if (err) {
        hg_guest_free(&g);
        return h_fail(ctx, "REM/ADD_MEM_REG refused (%d)", err);
    }
    if (hg_ring_wait_all_used(r, NULL, H_REPLY_MS)) {
        hg_guest_free(&g);
        return h_fail(ctx, "%u of %u chains never came back",
                      (uint16_t) (r->avail_idx - hg_ring_used(r)), p.n_posted);
    }
    /* Each frame: no_destination if R1 was there, bad_address if not. */
    uint64_t deadline = h_now_ms() + 5000;
    for (;;) {
        h_port_counters(ctx, ctx->port, &a_rx, &a_tx);
        uint64_t got = a_rx.packets - b_rx.packets;
        uint64_t ok = a_rx.drops[DROP_NO_DESTINATION]
                      - b_rx.drops[DROP_NO_DESTINATION];
        uint64_t bad = a_rx.drops[DROP_BAD_ADDRESS]
                       - b_rx.drops[DROP_BAD_ADDRESS];
        if (got == p.n_posted && ok + bad == got
            && hg_drops_sum(&a_rx) - hg_drops_sum(&b_rx) == got) {
            h_log(ctx, "%u frames: %llu while mapped, %llu while not",
                  p.n_posted, (unsigned long long) ok,
                  (unsigned long long) bad);
            break;
        }
        if (h_now_ms() >= deadline) {
            hg_guest_free(&g);
            return h_fail(ctx, "%u frames posted; rx_packets +%llu, "
                          "no_destination +%llu, bad_address +%llu",
                          p.n_posted, (unsigned long long) got,
                          (unsigned long long) ok, (unsigned long long) bad);
        }
        h_sleep_ms(5);
    }
    return hg_guest_finish(ctx, &g, 0);
}

/* Indirect descriptors from a guest that did not negotiate them. */
#define NOIND(b) \
    (&(const struct gcase) { b, false, DROP_BAD_DESCRIPTOR, true })

const struct scenario h_guest_scenarios[] = {
    { "tx-ok", run_case, TXC(B_OK, HG_ACCEPT) },
    { "tx-span-regions-ok", run_case, TXC(B_SPAN_REGIONS, HG_ACCEPT) },
    { "tx-next-self", run_case, TXC(B_NEXT_SELF, DROP_BAD_DESCRIPTOR) },
    { "tx-next-2cycle", run_case, TXC(B_2CYCLE, DROP_BAD_DESCRIPTOR) },
    { "tx-next-ring-cycle", run_case, TXC(B_RING_CYCLE, DROP_BAD_DESCRIPTOR) },
    { "tx-next-out-of-range", run_case,
      TXC(B_NEXT_OOR, DROP_BAD_DESCRIPTOR) },
    { "tx-chain-ring-size-ok", run_case, TXC(B_CHAIN_SIZE, HG_ACCEPT) },
    { "tx-chain-ring-size-plus-1", run_case,
      TXC(B_CHAIN_PLUS_1, DROP_BAD_DESCRIPTOR) },
    { "tx-addr-unmapped", run_case, TXC(B_UNMAPPED, DROP_BAD_ADDRESS) },
    { "tx-addr-cross-region-end", run_case,
      TXC(B_CROSS_END, DROP_BAD_ADDRESS) },
    { "tx-len-0", run_case, TXC(B_LEN0, DROP_HEADER_TOO_SHORT) },
    { "tx-len-0-in-chain-ok", run_case, TXC(B_LEN0_MID, HG_ACCEPT) },
    { "tx-len-ffffffff", run_case, TXC(B_LEN_MAX, DROP_BAD_ADDRESS) },
    { "tx-addr-len-wrap", run_case, TXC(B_WRAP, DROP_BAD_ADDRESS) },
    { "tx-total-over-4g", run_case, TXC(B_OVER_4G, DROP_BAD_DESCRIPTOR) },
    { "tx-many-1-byte-ok", run_case, TXC(B_MANY_1BYTE, HG_ACCEPT) },
    { "tx-indirect-len-0", run_case, TXC(B_IND_LEN0, DROP_BAD_DESCRIPTOR) },
    { "tx-indirect-len-15", run_case, TXC(B_IND_LEN15, DROP_BAD_DESCRIPTOR) },
    { "tx-indirect-len-17", run_case, TXC(B_IND_LEN17, DROP_BAD_DESCRIPTOR) },
    { "tx-indirect-size-plus-1", run_case,
      TXC(B_IND_SIZE_PLUS_1, DROP_BAD_DESCRIPTOR) },
    { "tx-indirect-nested", run_case, TXC(B_IND_NESTED, DROP_BAD_DESCRIPTOR) },
    { "tx-indirect-next", run_case, TXC(B_IND_NEXT, DROP_BAD_DESCRIPTOR) },
    { "tx-indirect-unmapped", run_case,
      TXC(B_IND_UNMAPPED, DROP_BAD_ADDRESS) },
    { "tx-indirect-ring-size-ok", run_case, TXC(B_IND_EXACT, HG_ACCEPT) },
    { "tx-indirect-cycle", run_case, TXC(B_IND_CYCLE, DROP_BAD_DESCRIPTOR) },
    { "tx-indirect-next-out-of-range", run_case,
      TXC(B_IND_NEXT_OOR, DROP_BAD_DESCRIPTOR) },
    { "tx-indirect-after-chain-ok", run_case,
      TXC(B_IND_AFTER_CHAIN, HG_ACCEPT) },
    { "tx-indirect-write-flag-ok", run_case, TXC(B_IND_DIR_FLAG, HG_ACCEPT) },
    { "tx-indirect-not-negotiated", run_case, NOIND(B_IND_EXACT) },
    { "tx-writable", run_case, TXC(B_WRONG_DIR, DROP_BAD_DESCRIPTOR) },
    { "tx-writable-after-readable", run_case,
      TXC(B_MIXED_DIR, DROP_BAD_DESCRIPTOR) },
    { "tx-shorter-than-header", run_case,
      TXC(B_HDR_SHORT, DROP_HEADER_TOO_SHORT) },
    { "tx-header-only", run_case, TXC(B_HDR_ONLY, DROP_HEADER_TOO_SHORT) },
    { "tx-shorter-than-ethernet", run_case,
      TXC(B_ETH_SHORT, DROP_HEADER_TOO_SHORT) },
    { "tx-header-1-byte-pieces-ok", run_case, TXC(B_HDR_SPLIT, HG_ACCEPT) },
    { "tx-oversize", run_case, TXC(B_OVERSIZE, DROP_MTU_EXCEEDED) },
    { "tx-avail-jump-size-ok", run_case, TXC(B_JUMP_SIZE, HG_ACCEPT) },
    { "tx-avail-jump-size-plus-1", run_case, TXC(B_JUMP_PLUS_1, HG_BROKEN) },
    { "tx-avail-backwards", run_case, TXC(B_BACKWARDS, HG_BROKEN) },
    { "tx-head-out-of-range", run_case, TXC(B_HEAD_OOR, HG_BROKEN) },
    { "tx-head-ffff", run_case, TXC(B_HEAD_FFFF, HG_BROKEN) },
    { "tx-rewrite-while-copying", s_rewrite, NULL },
    { "tx-rem-mem-reg-while-traffic", s_rem_while_traffic, NULL },
    { "tx-memfd-truncated", hg_s_truncate, (const void *) HG_TR_RINGS },
    { "tx-memfd-truncated-buffers", hg_s_truncate,
      (const void *) HG_TR_TX_BUFFERS },
    { "rx-memfd-truncated-buffers", hg_s_truncate,
      (const void *) HG_TR_RX_BUFFERS },
    { "vring-kick-dev-zero", hg_s_bad_notify_fd,
      (const void *) HG_NF_KICK_ZERO },
    { "vring-kick-timerfd", hg_s_bad_notify_fd,
      (const void *) HG_NF_KICK_TIMER },
    { "vring-kick-regular-file", hg_s_bad_notify_fd,
      (const void *) HG_NF_KICK_FILE },
    { "vring-call-regular-file", hg_s_bad_notify_fd,
      (const void *) HG_NF_CALL_FILE },
    { "vring-call-dev-zero", hg_s_bad_notify_fd,
      (const void *) HG_NF_CALL_ZERO },
    { "vring-err-dev-zero", hg_s_bad_notify_fd,
      (const void *) HG_NF_ERR_ZERO },
    { "rx-ok", run_case, RXC(B_OK, HG_ACCEPT) },
    { "rx-span-regions-ok", run_case, RXC(B_SPAN_REGIONS, HG_ACCEPT) },
    { "rx-header-1-byte-pieces-ok", run_case, RXC(B_HDR_SPLIT, HG_ACCEPT) },
    { "rx-chain-ring-size-ok", run_case, RXC(B_CHAIN_SIZE, HG_ACCEPT) },
    { "rx-indirect-ring-size-ok", run_case, RXC(B_IND_EXACT, HG_ACCEPT) },
    { "rx-read-only", run_case, RXC(B_WRONG_DIR, DROP_BAD_DESCRIPTOR) },
    { "rx-read-only-after-writable", run_case,
      RXC(B_MIXED_DIR, DROP_BAD_DESCRIPTOR) },
    { "rx-next-self", run_case, RXC(B_NEXT_SELF, DROP_BAD_DESCRIPTOR) },
    { "rx-next-ring-cycle", run_case, RXC(B_RING_CYCLE, DROP_BAD_DESCRIPTOR) },
    { "rx-next-out-of-range", run_case,
      RXC(B_NEXT_OOR, DROP_BAD_DESCRIPTOR) },
    { "rx-addr-unmapped", run_case, RXC(B_UNMAPPED, DROP_BAD_ADDRESS) },
    { "rx-addr-cross-region-end", run_case,
      RXC(B_CROSS_END, DROP_BAD_ADDRESS) },
    { "rx-len-ffffffff", run_case, RXC(B_LEN_MAX, DROP_BAD_ADDRESS) },
    { "rx-addr-len-wrap", run_case, RXC(B_WRAP, DROP_BAD_ADDRESS) },
    { "rx-total-over-4g", run_case, RXC(B_OVER_4G, DROP_BAD_DESCRIPTOR) },
    { "rx-indirect-nested", run_case, RXC(B_IND_NESTED, DROP_BAD_DESCRIPTOR) },
    { "rx-indirect-len-17", run_case, RXC(B_IND_LEN17, DROP_BAD_DESCRIPTOR) },
    { "rx-indirect-next", run_case, RXC(B_IND_NEXT, DROP_BAD_DESCRIPTOR) },
    { "rx-avail-jump-size-plus-1", run_case, RXC(B_JUMP_PLUS_1, HG_BROKEN) },
    { "rx-head-out-of-range", run_case, RXC(B_HEAD_OOR, HG_BROKEN) },
    { "rx-rewrite-while-copying", s_rewrite, (const void *) 1 },
    { "vring-base-under-load", hg_s_vring_base_load, (const void *) 5 },
    { NULL, NULL, NULL },
};
