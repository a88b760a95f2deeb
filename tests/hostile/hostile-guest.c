/* hostile-guest.c -- guest-memory-level scenarios of the hostile front end:
 * a legitimate set-up, then descriptor chains and ring indexes that a
 * broken or malicious guest driver could write.
 *
 * The hostile guest's memory (memfds named "hostile-r0/r1/r2"):
 *
 *   R0  1 MiB at GPA 0x40000000            R1  64 KiB, adjacent to R0
 *   +--------+--------+----------+--------------+--------------+--------+
 *   | rx ring| tx ring| indirect | tx buffers   | rx buffers   | canary |
 *   | 0x0000 | 0x3000 | 0x10000  | 0x20000      | 0x80000      | 0xe0000|
 *   +--------+--------+----------+--------------+--------------+--------+
 *   then a hole (unmapped GPA 0x40110000), and
 *   R2  2 GiB sparse at GPA 0x100000000, for lengths near 2^32.
 *
 * Every byte a frame can be read from is 0x02, so any frame the switch
 * parses has destination = source = 02:02:02:02:02:02, which it learns on
 * the hostile port itself: a frame it accepts is dropped as
 * no_destination and nothing the hostile guest sends ever reaches another
 * port (the legitimate pair's conservation check stays exact).
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
#include <fcntl.h>
#include <linux/virtio_ring.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "util.h"
#include "vhu-dev.h"

#define G_SIZE 256u             /* ring entries */
#define BUF_SIZE 1536u
#define HDR 12u                 /* virtio-net header (VERSION_1) */
#define FRAME 60u               /* frame bytes the tx cases send */

#define R0_GPA 0x40000000ull
#define R0_SIZE 0x100000ull
#define R1_GPA (R0_GPA + R0_SIZE)
#define R1_SIZE 0x10000ull
#define HOLE_GPA (R1_GPA + R1_SIZE)
#define R2_GPA 0x100000000ull
#define R2_SIZE 0x80000000ull

#define OFF_RX 0x0u
#define OFF_TX 0x3000u
#define OFF_IND 0x10000u
#define IND_SIZE 0x10000u
#define OFF_TXBUF 0x20000u
#define OFF_RXBUF 0x80000u
#define OFF_CANARY 0xe0000u
#define IND_GPA (R0_GPA + OFF_IND)

#define MAC_H 0x02              /* every byte of the hostile guest's frames */
#define MAC_G 0x06              /* the peer's source address bytes */
#define FILL_RX 0xaa            /* receive buffers before the switch writes */
#define F_INDIRECT (1ull << 28)

#define PF_GUEST ((1ull << VHU_PROTOCOL_F_REPLY_ACK) \
                  | (1ull << VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS))

struct gring {
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;
    uint16_t avail_idx;         /* our shadow of avail->idx */
    uint32_t buf_off;           /* its buffers in R0 */
    bool writable;              /* the device writes (guest receive) */
};

struct guest {
    struct hctx *ctx;
    const char *port;
    bool peer;
    int sock;
    unsigned n_regions;
    int mfd[3];
    uint8_t *mem[3];
    uint64_t gpa[3], size[3];
    int kick[2], call[2];
    struct gring rx, tx;        /* queue 0, queue 1 */
};

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

static uint8_t *
r0(const struct guest *g, uint64_t off)
{
    return g->mem[0] + off;
}

static uint64_t
buf_gpa(const struct gring *r, unsigned i)
{
    return R0_GPA + r->buf_off + (uint64_t) i * BUF_SIZE;
}

static void
ring_layout(struct guest *g, struct gring *r, uint32_t off, uint32_t buf_off,
            bool writable)
{
    r->desc = (struct vring_desc *) r0(g, off);
    r->avail = (struct vring_avail *) r0(g, off + 0x1000);
    r->used = (struct vring_used *) r0(g, off + 0x2000);
    r->buf_off = buf_off;
    r->writable = writable;
    r->avail_idx = 0;
}

/* The bytes a frame can come from, and the canaries. */
static void
guest_fill(struct guest *g)
{
    memset(r0(g, 0), 0, OFF_TXBUF);
    memset(r0(g, OFF_TXBUF), MAC_H, OFF_RXBUF - OFF_TXBUF);
    memset(r0(g, OFF_RXBUF), FILL_RX, OFF_CANARY - OFF_RXBUF);
    memset(r0(g, OFF_CANARY), MAC_H, R0_SIZE - OFF_CANARY);
    if (g->n_regions > 1) {
        memset(g->mem[1], MAC_H, R1_SIZE);
    }
    if (g->peer) {
        /* The peer's frames: to the hostile guest, from 06:06:..., then
         * a payload that reads as no guest address. */
        for (unsigned i = 0; i < G_SIZE; i++) {
            uint8_t *b = r0(g, OFF_TXBUF + i * BUF_SIZE);
            memset(b, 0, HDR);
            memset(b + HDR, MAC_H, 6);
            memset(b + HDR + 6, MAC_G, 6);
            b[HDR + 12] = 0x88;
            b[HDR + 13] = 0xb5;         /* local experimental ethertype */
            memset(b + HDR + 14, 0xee, FRAME - 14);
        }
    }
}

static int
guest_mem_table(struct guest *g)
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

static int
guest_ring_start(struct guest *g, uint32_t q, struct gring *r)
{
    struct vhu_vring_state num = { q, G_SIZE }, base = { q, 0 };
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
        ack = h_request_ack(g->sock, VHU_SET_VRING_BASE, &base, sizeof base,
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
    if (!ack) {
        ack = h_request_ack(g->sock, VHU_SET_VRING_CALL, &u, sizeof u,
                            &g->call[q], 1);
    }
    return (int) ack;
}

static void guest_free(struct guest *g);

/* A well-behaved set-up over a fresh connection: the hostile guest (all
 * three regions) or the peer (R0 only).  0 or fails the scenario. */
static int
guest_open(struct hctx *ctx, struct guest *g, bool peer, bool indirect)
{
    static const char *const names[3] = { "r0", "r1", "r2" };
    const uint64_t gpas[3] = { R0_GPA, R1_GPA, R2_GPA };
    const uint64_t sizes[3] = { R0_SIZE, R1_SIZE, R2_SIZE };

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
            guest_free(g);
            return h_fail(ctx, "memfd: %s", strerror(errno));
        }
        g->mem[i] = mmap(NULL, sizes[i], PROT_READ | PROT_WRITE, MAP_SHARED,
                         g->mfd[i], 0);
        if (g->mem[i] == MAP_FAILED) {
            guest_free(g);
            return h_fail(ctx, "mmap: %s", strerror(errno));
        }
    }
    for (int q = 0; q < 2; q++) {
        g->kick[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        g->call[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    }
    ring_layout(g, &g->rx, OFF_RX, OFF_RXBUF, true);
    ring_layout(g, &g->tx, OFF_TX, OFF_TXBUF, false);
    guest_fill(g);

    g->sock = h_connect(ctx, peer ? ctx->peer_path : ctx->sock_path,
                        g->port);
    if (g->sock < 0) {
        guest_free(g);
        return -1;
    }
    if (h_negotiate(ctx, g->sock, indirect ? F_INDIRECT : 0, PF_GUEST)) {
        guest_free(g);
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
        guest_free(g);
        return h_fail(ctx, "%s: legitimate set-up refused (%d)", g->port,
                      err);
    }
    return 0;
}

static void
guest_free(struct guest *g)
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

/* Stops both rings as QEMU does (GET_VRING_BASE) and, with 'check', that
 * the bases match what we made available: every chain was consumed. */
static int
guest_close(struct guest *g, bool check)
{
    int res = 0;
    for (uint32_t q = 0; q < 2 && g->sock >= 0; q++) {
        struct vhu_vring_state st = { q, 0 };
        struct vhu_msg msg;
        const struct gring *r = q ? &g->tx : &g->rx;
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
        if (check && msg.payload.state.num != r->avail_idx) {
            res = h_fail(g->ctx, "%s: GET_VRING_BASE %u says %u, we made "
                         "%u chains available and all came back", g->port,
                         q, msg.payload.state.num, r->avail_idx);
        }
    }
    guest_free(g);
    return res;
}

/* ---- Rings. ---- */

static void
set_desc(struct vring_desc *d, uint64_t addr, uint32_t len, uint16_t flags,
         uint16_t next)
{
    d->addr = addr;
    d->len = len;
    d->flags = flags;
    d->next = next;
}

static void
ring_post(struct gring *r, const uint16_t *heads, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        r->avail->ring[(uint16_t) (r->avail_idx + i) % G_SIZE] = heads[i];
    }
    r->avail_idx += n;
    STORE_RELEASE(r->avail->idx, r->avail_idx);
}

static uint16_t
ring_used(const struct gring *r)
{
    return LOAD_ACQUIRE(r->used->idx);
}

/* The peer's transmit side: keeps frames in flight towards the hostile
 * guest.  Descriptor i always holds frame i. */
static void
peer_pump(struct guest *p)
{
    struct gring *r = &p->tx;
    uint16_t in_flight = (uint16_t) (r->avail_idx - ring_used(r));
    uint16_t heads[16];

    if (in_flight > 128) {
        return;
    }
    for (unsigned i = 0; i < ARRAY_SIZE(heads); i++) {
        uint16_t h = (uint16_t) (r->avail_idx + i) % G_SIZE;
        set_desc(&r->desc[h], buf_gpa(r, h), HDR + FRAME, 0, 0);
        heads[i] = h;
    }
    ring_post(r, heads, ARRAY_SIZE(heads));
}

/* Waits until the switch has given back everything made available on 'r',
 * pumping the peer (if any) meanwhile.  0 or -ETIMEDOUT. */
static int
ring_wait_all_used(struct gring *r, struct guest *peer, int timeout_ms)
{
    uint64_t deadline = h_now_ms() + (uint64_t) timeout_ms;
    while (ring_used(r) != r->avail_idx) {
        if (h_now_ms() >= deadline) {
            return -ETIMEDOUT;
        }
        if (peer) {
            peer_pump(peer);
        }
        h_sleep_ms(1);
    }
    return 0;
}

/* ---- Expected outcomes. ---- */

#define X_ACCEPT (-1)           /* tx: no_destination; rx: delivered */
#define X_BROKEN (-2)           /* ring-level: the device is dropped */

static uint64_t
drops_sum(const struct stats_dir *d)
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
        uint64_t dropped = drops_sum(a) - drops_sum(b);
        uint64_t reason = 0;
        int r = expect == X_ACCEPT ? (rx_ring ? -1 : DROP_NO_DESTINATION)
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

/* The used entries of the last 'n' chains: ids in order, lengths. */
static int
check_used(struct hctx *ctx, const struct gring *r, const uint16_t *heads,
           unsigned n, int expect)
{
    uint16_t first = (uint16_t) (r->avail_idx - n);
    for (unsigned i = 0; i < n; i++) {
        const struct vring_used_elem *e =
            &r->used->ring[(uint16_t) (first + i) % G_SIZE];
        if (e->id != heads[i]) {
            return h_fail(ctx, "used entry %u: id %u, expected %u", i,
                          e->id, heads[i]);
        }
        bool filled = r->writable && expect == X_ACCEPT;
        if (!filled && e->len) {
            return h_fail(ctx, "used entry %u (head %u): length %u, "
                          "expected 0", i, e->id, e->len);
        }
        if (filled && (e->len < HDR + 14 || e->len > HDR + 9728)) {
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
    int expect;                 /* DROP_*, X_ACCEPT or X_BROKEN */
    bool no_indirect;           /* do not negotiate INDIRECT_DESC */
};

/* Lays out the descriptors of case 'b' on ring 'r' and returns the heads
 * to post.  'f' is the direction flag a good descriptor of 'r' carries;
 * 'len' the length of a buffer holding one whole frame. */
static void
build(struct guest *g, struct gring *r, enum build b, uint16_t *heads,
      unsigned *n)
{
    struct vring_desc *d = r->desc;
    struct vring_desc *ind = (struct vring_desc *) r0(g, OFF_IND);
    const uint16_t f = r->writable ? VRING_DESC_F_WRITE : 0;
    const uint16_t nf = f | VRING_DESC_F_NEXT;
    const uint32_t len = r->writable ? BUF_SIZE : HDR + FRAME;
    const uint32_t tail = r->writable ? BUF_SIZE : FRAME;

    memset(d, 0, 16 * G_SIZE);
    memset(ind, 0, IND_SIZE);
    *n = 1;
    heads[0] = 0;
    switch (b) {
    case B_OK:
        set_desc(&d[0], buf_gpa(r, 0), len, f, 0);
        break;
    case B_SPAN_REGIONS:        /* one buffer over the R0/R1 boundary */
        set_desc(&d[0], R1_GPA - 40, r->writable ? 1024 : 40 + FRAME, f, 0);
        break;
    case B_NEXT_SELF:
        set_desc(&d[0], buf_gpa(r, 0), 64, nf, 0);
        break;
    case B_2CYCLE:
        set_desc(&d[0], buf_gpa(r, 0), 64, nf, 1);
        set_desc(&d[1], buf_gpa(r, 1), 64, nf, 0);
        break;
    case B_RING_CYCLE:
    case B_CHAIN_PLUS_1:
        for (unsigned i = 0; i < G_SIZE; i++) {
            set_desc(&d[i], buf_gpa(r, i), 8, nf, (i + 1) % G_SIZE);
        }
        heads[0] = b == B_RING_CYCLE ? 0 : 5;
        break;
    case B_NEXT_OOR:
        set_desc(&d[0], buf_gpa(r, 0), 64, nf, G_SIZE);
        set_desc(&d[1], buf_gpa(r, 1), 64, nf, 0xffff);
        heads[1] = 1;
        *n = 2;
        break;
    case B_CHAIN_SIZE:          /* exactly ring-size descriptors: fine */
        for (unsigned i = 0; i < G_SIZE; i++) {
            set_desc(&d[i], buf_gpa(r, 0) + 4 * i, 4,
                     i + 1 < G_SIZE ? nf : f, (uint16_t) (i + 1));
        }
        break;
    case B_UNMAPPED:
        set_desc(&d[0], HOLE_GPA, 64, f, 0);
        set_desc(&d[1], 0, 64, f, 0);
        set_desc(&d[2], R0_GPA - 64, 64, f, 0);
        heads[1] = 1;
        heads[2] = 2;
        *n = 3;
        break;
    case B_CROSS_END:           /* runs off the end of a region */
        set_desc(&d[0], HOLE_GPA - 32, 64 + HDR, f, 0);
        set_desc(&d[1], R2_GPA + R2_SIZE - 16, 64 + HDR, f, 0);
        heads[1] = 1;
        *n = 2;
        break;
    case B_LEN0:
        set_desc(&d[0], buf_gpa(r, 0), 0, f, 0);
        break;
    case B_LEN0_MID:
        set_desc(&d[0], buf_gpa(r, 0), HDR, nf, 1);
        set_desc(&d[1], buf_gpa(r, 1), 0, nf, 2);
        set_desc(&d[2], buf_gpa(r, 2), tail, f, 0);
        break;
    case B_LEN_MAX:
        set_desc(&d[0], R2_GPA, 0xffffffff, f, 0);
        set_desc(&d[1], buf_gpa(r, 1), 0xffffffff, f, 0);
        heads[1] = 1;
        *n = 2;
        break;
    case B_WRAP:
        set_desc(&d[0], 0xfffffffffffff000ull, 0x2000, f, 0);
        set_desc(&d[1], ~0ull, 2, f, 0);
        heads[1] = 1;
        *n = 2;
        break;
    case B_OVER_4G:             /* 32-bit sums would wrap to ~2 GiB */
        for (unsigned i = 0; i < 3; i++) {
            set_desc(&d[i], R2_GPA, 0x7fffffff, i < 2 ? nf : f, i + 1);
        }
        set_desc(&d[3], R2_GPA, 0x80000000u, nf, 4);
        set_desc(&d[4], R2_GPA, 0x80000000u, f, 0);
        heads[1] = 3;
        *n = 2;
        break;
    case B_MANY_1BYTE:
        for (unsigned i = 0; i < G_SIZE; i++) {
            set_desc(&d[i], buf_gpa(r, 0) + i, 1, i + 1 < G_SIZE ? nf : f,
                     (uint16_t) (i + 1));
        }
        break;
    case B_IND_LEN0:
    case B_IND_LEN15:
    case B_IND_LEN17:
    case B_IND_SIZE_PLUS_1: {
        static const uint32_t lens[] = { 0, 15, 17, 16 * (G_SIZE + 1) };
        for (unsigned i = 0; i <= G_SIZE; i++) {
            set_desc(&ind[i], buf_gpa(r, 0), len, f, 0);
        }
        set_desc(&d[0], IND_GPA, lens[b - B_IND_LEN0],
                 VRING_DESC_F_INDIRECT, 0);
        break;
    }
    case B_IND_NESTED:
        set_desc(&ind[0], IND_GPA + 0x1000, 16, VRING_DESC_F_INDIRECT, 0);
        set_desc(&ind[256], buf_gpa(r, 0), len, f, 0);
        set_desc(&d[0], IND_GPA, 32, VRING_DESC_F_INDIRECT, 0);
        break;
    case B_IND_NEXT:
        set_desc(&ind[0], buf_gpa(r, 0), len, f, 0);
        set_desc(&d[0], IND_GPA, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT,
                 1);
        set_desc(&d[1], buf_gpa(r, 1), len, f, 0);
        break;
    case B_IND_UNMAPPED:
        set_desc(&d[0], HOLE_GPA, 16, VRING_DESC_F_INDIRECT, 0);
        break;
    case B_IND_EXACT:           /* a full-size table, all of it chained */
        for (unsigned i = 0; i < G_SIZE; i++) {
            set_desc(&ind[i], buf_gpa(r, 0) + 4 * i, 4,
                     i + 1 < G_SIZE ? nf : f, (uint16_t) (i + 1));
        }
        set_desc(&d[0], IND_GPA, 16 * G_SIZE, VRING_DESC_F_INDIRECT, 0);
        break;
    case B_IND_CYCLE:
        set_desc(&ind[0], buf_gpa(r, 0), 64, nf, 1);
        set_desc(&ind[1], buf_gpa(r, 1), 64, nf, 0);
        set_desc(&d[0], IND_GPA, 32, VRING_DESC_F_INDIRECT, 0);
        break;
    case B_IND_NEXT_OOR:
        set_desc(&ind[0], buf_gpa(r, 0), 64, nf, 2);
        set_desc(&ind[1], buf_gpa(r, 1), 64, f, 0);
        set_desc(&ind[2], buf_gpa(r, 2), 64, f, 0);
        set_desc(&d[0], IND_GPA, 32, VRING_DESC_F_INDIRECT, 0);
        break;
    case B_IND_AFTER_CHAIN:
        set_desc(&d[0], buf_gpa(r, 0), HDR, nf, 1);
        set_desc(&d[1], IND_GPA, 16, VRING_DESC_F_INDIRECT, 0);
        set_desc(&ind[0], buf_gpa(r, 1), tail, f, 0);
        break;
    case B_IND_DIR_FLAG:        /* the indirect descriptor's own direction
                                 * flag is to be ignored */
        set_desc(&ind[0], buf_gpa(r, 0), len, f, 0);
        set_desc(&d[0], IND_GPA, 16,
                 VRING_DESC_F_INDIRECT | (f ^ VRING_DESC_F_WRITE), 0);
        break;
    case B_WRONG_DIR:
        set_desc(&d[0], buf_gpa(r, 0), len, f ^ VRING_DESC_F_WRITE, 0);
        break;
    case B_MIXED_DIR:
        set_desc(&d[0], buf_gpa(r, 0), HDR, nf, 1);
        set_desc(&d[1], buf_gpa(r, 1), tail, f ^ VRING_DESC_F_WRITE, 0);
        break;
    case B_HDR_SHORT:
        set_desc(&d[0], buf_gpa(r, 0), HDR - 4, f, 0);
        break;
    case B_HDR_ONLY:
        set_desc(&d[0], buf_gpa(r, 0), HDR, f, 0);
        break;
    case B_ETH_SHORT:
        set_desc(&d[0], buf_gpa(r, 0), HDR + 13, f, 0);
        break;
    case B_HDR_SPLIT:           /* the header in 1-byte pieces */
        for (unsigned i = 0; i < HDR; i++) {
            set_desc(&d[i], buf_gpa(r, 0) + i, 1, nf, (uint16_t) (i + 1));
        }
        set_desc(&d[HDR], buf_gpa(r, 1), tail, f, 0);
        break;
    case B_OVERSIZE:            /* contiguous tx buffers: 9000 bytes */
        set_desc(&d[0], buf_gpa(r, 0), HDR + 9000, f, 0);
        break;
    case B_JUMP_SIZE:           /* a whole ring's worth at once */
        set_desc(&d[0], buf_gpa(r, 0), len, f, 0);
        for (unsigned i = 0; i < G_SIZE; i++) {
            heads[i] = 0;
        }
        *n = G_SIZE;
        break;
    case B_JUMP_PLUS_1:
    case B_BACKWARDS:
    case B_HEAD_OOR:
    case B_HEAD_FFFF:
        set_desc(&d[0], buf_gpa(r, 0), len, f, 0);
        set_desc(&d[1], buf_gpa(r, 1), len, f, 0);
        break;
    }
}

/* Ring-level violations: publishes them on 'r'. */
static int
post_violation(struct hctx *ctx, struct guest *g, struct gring *r,
               enum build b, struct guest *peer)
{
    uint16_t heads[2] = { 0, 1 };
    switch (b) {
    case B_JUMP_PLUS_1:
        for (unsigned i = 0; i < G_SIZE; i++) {
            r->avail->ring[i] = 0;
        }
        r->avail_idx += G_SIZE + 1;
        STORE_RELEASE(r->avail->idx, r->avail_idx);
        break;
    case B_BACKWARDS:
        ring_post(r, heads, 2);
        if (ring_wait_all_used(r, peer, H_REPLY_MS)) {
            return h_fail(ctx, "the first two chains never came back");
        }
        r->avail_idx -= 1;
        STORE_RELEASE(r->avail->idx, r->avail_idx);
        break;
    case B_HEAD_OOR:
    case B_HEAD_FFFF:
        heads[1] = b == B_HEAD_OOR ? G_SIZE : 0xffff;
        ring_post(r, heads, 2);
        break;
    default:
        break;
    }
    return 0;
}

/* Waits for the switch to drop 'g', pumping the peer so that a receive
 * ring gets looked at. */
static int
expect_dropped(struct hctx *ctx, struct guest *g, struct guest *peer)
{
    uint64_t deadline = h_now_ms() + H_STATE_MS;
    struct pollfd pfd = { .fd = g->sock, .events = POLLIN };
    while (h_now_ms() < deadline && !poll(&pfd, 1, 1)) {
        if (peer) {
            peer_pump(peer);
        }
    }
    int fd = g->sock;
    g->sock = -1;
    return h_expect_broken(ctx, fd, "guest ring corrupt");
}

/* One frame to teach the switch that 02:02:02:02:02:02 is behind the
 * hostile port, so that the peer's frames go there. */
static int
learn_mac(struct hctx *ctx, struct guest *g)
{
    uint16_t head = 0;
    set_desc(&g->tx.desc[0], buf_gpa(&g->tx, 0), HDR + FRAME, 0, 0);
    ring_post(&g->tx, &head, 1);
    if (ring_wait_all_used(&g->tx, NULL, H_REPLY_MS)) {
        return h_fail(ctx, "the switch does not poll the transmit ring");
    }
    return 0;
}

static int
run_case(struct hctx *ctx, const void *arg)
{
    const struct gcase *c = arg;
    struct guest g, peer;
    bool have_peer = false;
    uint16_t heads[G_SIZE];
    unsigned n;
    int res;

    if (guest_open(ctx, &g, false, !c->no_indirect)) {
        return -1;
    }
    struct gring *r = c->rx ? &g.rx : &g.tx;
    if (c->rx) {
        if (learn_mac(ctx, &g)) {
            guest_free(&g);
            return -1;
        }
        if (ctx->peer_path) {
            if (guest_open(ctx, &peer, true, false)) {
                guest_free(&g);
                return -1;
            }
            have_peer = true;
        }
    }
    struct guest *pp = have_peer ? &peer : NULL;
    struct stats_dir b_rx, b_tx;
    h_port_counters(ctx, ctx->port, &b_rx, &b_tx);
    build(&g, r, c->build, heads, &n);

    if (c->expect == X_BROKEN) {
        res = post_violation(ctx, &g, r, c->build, pp);
        if (!res) {
            res = expect_dropped(ctx, &g, pp);
        }
        guest_free(&g);
        goto out;
    }
    ring_post(r, heads, n);
    if (ring_wait_all_used(r, pp, H_REPLY_MS)) {
        if (c->rx && !have_peer
            && ring_used(r) == (uint16_t) (r->avail_idx - n)) {
            snprintf(ctx->why, sizeof ctx->why, "no frames towards the "
                     "hostile port (give --peer-socket)");
            guest_free(&g);
            return H_SKIP;
        }
        h_fail(ctx, "%u of %u chains never came back (used %u, avail %u)",
               (uint16_t) (r->avail_idx - ring_used(r)), n, ring_used(r),
               r->avail_idx);
        guest_free(&g);
        res = -1;
        goto out;
    }
    res = check_used(ctx, r, heads, n, c->expect);
    if (!res) {
        res = check_counters(ctx, c->rx, &b_rx, &b_tx, n, c->expect);
    }
    if (!res && c->rx && c->expect != X_ACCEPT) {
        /* Nothing was written into a refused buffer. */
        const uint8_t *p = r0(&g, OFF_RXBUF);
        for (size_t i = 0; i < OFF_CANARY - OFF_RXBUF && !res; i++) {
            if (p[i] != FILL_RX) {
                res = h_fail(ctx, "receive buffer byte %#zx was written",
                             i);
            }
        }
    }
    if (!res) {
        res = h_expect_alive(ctx, g.sock);
    }
    if (!res) {
        res = guest_close(&g, true);
    } else {
        guest_free(&g);
    }
out:
    if (have_peer) {
        guest_close(&peer, false);
    }
    return res;
}

#define TXC(b, x) (&(const struct gcase) { b, false, x, false })
#define RXC(b, x) (&(const struct gcase) { b, true, x, false })

/* ---- A guest that rewrites its descriptors while the switch reads. ---- */

struct rewriter {
    struct guest *g;
    struct gring *r;
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
    uint64_t span = G_SIZE * BUF_SIZE - 4096;
    switch (rnd % 6) {
    case 0:
    case 1:
        return R0_GPA + w->r->buf_off + (rnd >> 8) % span;
    case 2:
        return HOLE_GPA + (rnd >> 8) % 4096;
    case 3:
        return HOLE_GPA - (rnd >> 8) % 64;
    case 4:
        return 0xfffffffffffff000ull + (rnd >> 8) % 4096;
    default:
        return w->indirect ? IND_GPA + (rnd >> 8) % (IND_SIZE - 64)
                           : R0_GPA + w->r->buf_off;
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
        struct vring_desc *d = &w->r->desc[(rnd >> 8) % G_SIZE];
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
            WRITE_ONCE(d->next, (uint16_t) ((rnd >> 2) % (G_SIZE + 8)));
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
    struct guest g, peer;
    bool have_peer = false;
    int res = 0;

    if (guest_open(ctx, &g, false, true)) {
        return -1;
    }
    struct gring *r = rx ? &g.rx : &g.tx;
    if (rx) {
        if (learn_mac(ctx, &g)) {
            guest_free(&g);
            return -1;
        }
        if (ctx->peer_path) {
            if (guest_open(ctx, &peer, true, false)) {
                guest_free(&g);
                return -1;
            }
            have_peer = true;
        }
    }
    struct guest *pp = have_peer ? &peer : NULL;
    uint16_t heads[16];
    unsigned n_heads = 0;
    build(&g, r, B_OK, heads, &n_heads);
    if (!rx) {
        /* Indirect tables full of 02 bytes: whatever a torn descriptor
         * makes of them, a frame read from there stays on this port. */
        memset(r0(&g, OFF_IND), MAC_H, IND_SIZE);
    }
    for (unsigned i = 0; i < G_SIZE; i++) {
        set_desc(&r->desc[i], buf_gpa(r, i), rx ? BUF_SIZE : HDR + FRAME,
                 rx ? VRING_DESC_F_WRITE : 0, 0);
    }
    struct stats_dir b_rx, b_tx, a_rx, a_tx;
    h_port_counters(ctx, ctx->port, &b_rx, &b_tx);
    uint16_t start = r->avail_idx;

    struct rewriter w = { .g = &g, .r = r, .indirect = !rx };
    pthread_t thread;
    if (pthread_create(&thread, NULL, rewriter_main, &w)) {
        guest_free(&g);
        return h_fail(ctx, "pthread_create failed");
    }
    uint64_t t_end = h_now_ms() + 2000;
    while (h_now_ms() < t_end) {
        if ((uint16_t) (r->avail_idx - ring_used(r)) <= 48) {
            for (unsigned i = 0; i < 16; i++) {
                heads[i] = (uint16_t) (r->avail_idx + i) % G_SIZE;
            }
            ring_post(r, heads, 16);
        }
        if (pp) {
            peer_pump(pp);
        }
        h_sleep_ms(1);
    }
    STORE_RELEASE(w.stop, true);
    pthread_join(thread, NULL);

    /* Sane descriptors again: every posted chain must come back. */
    for (unsigned i = 0; i < G_SIZE; i++) {
        set_desc(&r->desc[i], buf_gpa(r, i), rx ? BUF_SIZE : HDR + FRAME,
                 rx ? VRING_DESC_F_WRITE : 0, 0);
    }
    uint16_t posted = (uint16_t) (r->avail_idx - start);
    if (ring_wait_all_used(r, pp, H_REPLY_MS)) {
        if (rx && !pp && ring_used(r) == start) {
            snprintf(ctx->why, sizeof ctx->why, "no frames towards the "
                     "hostile port (give --peer-socket)");
            res = H_SKIP;
        } else {
            res = h_fail(ctx, "%u of %u chains never came back",
                         (uint16_t) (r->avail_idx - ring_used(r)), posted);
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
            if (got == posted && drops_sum(&a_rx) - drops_sum(&b_rx) == got) {
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
            { OFF_TXBUF, OFF_RXBUF }, { OFF_CANARY, R0_SIZE },
        };
        for (size_t k = 0; k < ARRAY_SIZE(canaries) && !res; k++) {
            for (uint32_t i = canaries[k].from; i < canaries[k].to; i++) {
                if (g.mem[0][i] != MAC_H) {
                    res = h_fail(ctx, "R0 byte %#x overwritten", i);
                    break;
                }
            }
        }
        for (uint32_t i = 0; i < R1_SIZE - 4096 && !res; i++) {
            if (g.mem[1][i] != MAC_H) {
                res = h_fail(ctx, "R1 byte %#x overwritten", i);
            }
        }
        const uint8_t *ind = r0(&g, OFF_IND);
        for (uint32_t i = 0; i < IND_SIZE && !res; i++) {
            if (ind[i]) {
                res = h_fail(ctx, "indirect area byte %#x overwritten", i);
            }
        }
    }
    if (!res) {
        res = h_expect_alive(ctx, g.sock);
    }
    if (!res) {
        res = guest_close(&g, true);
    } else {
        guest_free(&g);
    }
    if (have_peer) {
        guest_close(&peer, false);
    }
    return res;
}

/* ---- Memory regions removed and added back while frames flow. ---- */

struct poster {
    struct gring *r;
    bool stop;
    unsigned n_posted;
};

/* Frames from R1 (32 buffers), at most 32 in flight. */
static void *
poster_main(void *arg)
{
    struct poster *p = arg;
    while (!LOAD_ACQUIRE(p->stop)) {
        struct gring *r = p->r;
        if ((uint16_t) (r->avail_idx - ring_used(r)) < 32) {
            uint16_t head = r->avail_idx % 32;
            ring_post(r, &head, 1);
            p->n_posted++;
        } else {
            h_sleep_ms(1);
        }
    }
    return NULL;
}

static int
rem_add(struct guest *g, unsigned i)
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
    struct guest g;
    if (guest_open(ctx, &g, false, false)) {
        return -1;
    }
    struct gring *r = &g.tx;
    for (unsigned i = 0; i < 32; i++) {
        set_desc(&r->desc[i], R1_GPA + i * BUF_SIZE, HDR + FRAME, 0, 0);
    }
    struct stats_dir b_rx, b_tx, a_rx, a_tx;
    h_port_counters(ctx, ctx->port, &b_rx, &b_tx);
    struct poster p = { .r = r };
    pthread_t thread;
    if (pthread_create(&thread, NULL, poster_main, &p)) {
        guest_free(&g);
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
        guest_free(&g);
        return h_fail(ctx, "REM/ADD_MEM_REG refused (%d)", err);
    }
    if (ring_wait_all_used(r, NULL, H_REPLY_MS)) {
        guest_free(&g);
        return h_fail(ctx, "%u of %u chains never came back",
                      (uint16_t) (r->avail_idx - ring_used(r)), p.n_posted);
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
            && drops_sum(&a_rx) - drops_sum(&b_rx) == got) {
            h_log(ctx, "%u frames: %llu while mapped, %llu while not",
                  p.n_posted, (unsigned long long) ok,
                  (unsigned long long) bad);
            break;
        }
        if (h_now_ms() >= deadline) {
            guest_free(&g);
            return h_fail(ctx, "%u frames posted; rx_packets +%llu, "
                          "no_destination +%llu, bad_address +%llu",
                          p.n_posted, (unsigned long long) got,
                          (unsigned long long) ok, (unsigned long long) bad);
        }
        h_sleep_ms(5);
    }
    int res = h_expect_alive(ctx, g.sock);
    if (!res) {
        res = guest_close(&g, true);
    } else {
        guest_free(&g);
    }
    return res;
}

/* ---- Guest memory truncated under the switch. ----
 *
 * The front end shrinks the memfd behind R0 after the switch mapped it (a
 * memfd it did not seal, as DPDK's are not): the switch's next access to
 * a vanished page raises SIGBUS.  The switch must survive it (gmem's SIGBUS
 * guard reads zeros there), and must not let the front end fault it again
 * and again: the device is disconnected as "broken: guest memory fault
 * (N SIGBUS...)", the frame being handled when it faulted is counted once,
 * under bad_address, and a well-behaved front end that connects to the
 * same port afterwards is served in both directions.  Three cuts:
 *
 *   TR_RINGS       R0 down to nothing, rings included: the fault is in the
 *                  switch's look at the avail index, no frame in hand;
 *   TR_TX_BUFFERS  down to OFF_TXBUF: the rings live, a transmitted
 *                  frame's bytes are gone (the fault is in reading it);
 *   TR_RX_BUFFERS  down to OFF_RXBUF: the receive buffers are gone and the
 *                  peer sends to the hostile guest (the fault is in the
 *                  copy into them). */
enum { TR_RINGS, TR_TX_BUFFERS, TR_RX_BUFFERS };

/* After the offender was dropped: a fresh, well-behaved front end on the
 * same port transmits (its frame comes back used) and, with the peer,
 * receives a frame. */
static int
expect_fresh_guest_served(struct hctx *ctx)
{
    struct guest g, peer;
    bool have_peer = false;

    if (guest_open(ctx, &g, false, false)) {
        return -1;
    }
    int res = learn_mac(ctx, &g);
    if (!res && ctx->peer_path) {
        if (guest_open(ctx, &peer, true, false)) {
            guest_free(&g);
            return -1;
        }
        have_peer = true;
        uint16_t heads[G_SIZE];
        unsigned n;
        build(&g, &g.rx, B_OK, heads, &n);
        ring_post(&g.rx, heads, n);
        if (ring_wait_all_used(&g.rx, &peer, H_REPLY_MS)) {
            res = h_fail(ctx, "a fresh front end on %s after the fault "
                         "receives nothing", ctx->port);
        } else {
            res = check_used(ctx, &g.rx, heads, n, X_ACCEPT);
        }
    }
    if (!res) {
        res = h_expect_alive(ctx, g.sock);
    }
    if (!res) {
        res = guest_close(&g, true);
    } else {
        guest_free(&g);
    }
    if (have_peer) {
        guest_close(&peer, false);
    }
    return res;
}

/* The port's state names the fault and counts at least one. */
static int
check_fault_state(struct hctx *ctx)
{
    static const char want[] = "broken: guest memory fault (";
    char state[STATS_STATE_SIZE];
    unsigned long long n = 0;
    if (h_port_state(ctx, ctx->port, state, sizeof state)
        || strncmp(state, want, strlen(want))
        || sscanf(state + strlen(want), "%llu SIGBUS", &n) != 1 || !n) {
        return h_fail(ctx, "port state \"%s\", expected \"%s<N> SIGBUS...\" "
                      "with N > 0", state, want);
    }
    h_log(ctx, "%s", state);
    return 0;
}

/* Waits until the counters of one direction of the port moved by exactly
 * 'n_bad' bad_address drops and 'n_packets' packets ('all_dropped': and
 * every one of those packets was dropped, under one reason each). */
static int
check_fault_counted(struct hctx *ctx, bool tx, const struct stats_dir *b_rx,
                    const struct stats_dir *b_tx, uint64_t n_packets,
                    uint64_t n_bad, bool all_dropped)
{
    uint64_t deadline = h_now_ms() + 5000;
    for (;;) {
        struct stats_dir a_rx, a_tx;
        h_port_counters(ctx, ctx->port, &a_rx, &a_tx);
        const struct stats_dir *a = tx ? &a_tx : &a_rx, *b = tx ? b_tx : b_rx;
        uint64_t packets = a->packets - b->packets;
        uint64_t bad = a->drops[DROP_BAD_ADDRESS] - b->drops[DROP_BAD_ADDRESS];
        uint64_t dropped = drops_sum(a) - drops_sum(b);
        if (packets == n_packets && bad == n_bad
            && (!all_dropped || dropped == packets)) {
            return 0;
        }
        if (h_now_ms() >= deadline) {
            return h_fail(ctx, "%s: packets +%llu, bad_address +%llu, drops "
                          "+%llu; expected +%llu, +%llu%s", tx ? "tx" : "rx",
                          (unsigned long long) packets,
                          (unsigned long long) bad,
                          (unsigned long long) dropped,
                          (unsigned long long) n_packets,
                          (unsigned long long) n_bad,
                          all_dropped ? ", all of them dropped" : "");
        }
        h_sleep_ms(5);
    }
}

/* Posts receive chains into the vanished buffers and has the peer send to
 * us until the switch hangs up.  No frame can be delivered. */
static void
truncate_rx(struct guest *g, struct guest *peer)
{
    struct gring *r = &g->rx;
    uint16_t heads[8];
    for (unsigned i = 0; i < ARRAY_SIZE(heads); i++) {
        set_desc(&r->desc[i], buf_gpa(r, i), BUF_SIZE, VRING_DESC_F_WRITE, 0);
        heads[i] = (uint16_t) i;
    }
    ring_post(r, heads, ARRAY_SIZE(heads));
    uint64_t deadline = h_now_ms() + H_STATE_MS;
    struct pollfd pfd = { .fd = g->sock, .events = POLLIN };
    while (h_now_ms() < deadline && !poll(&pfd, 1, 1)) {
        peer_pump(peer);
    }
}

static int
s_truncate(struct hctx *ctx, const void *arg)
{
    static const off_t cut[] = { 0, OFF_TXBUF, OFF_RXBUF };
    unsigned kind = (unsigned) (uintptr_t) arg;
    struct guest g, peer;
    bool have_peer = false;
    struct stats_dir b_rx, b_tx;
    int res;

    if (kind == TR_RX_BUFFERS && !ctx->peer_path) {
        snprintf(ctx->why, sizeof ctx->why, "no frames towards the hostile "
                 "port (give --peer-socket)");
        return H_SKIP;
    }
    if (guest_open(ctx, &g, false, false)) {
        return -1;
    }
    /* One good frame first: the switch has mapped and touched R0. */
    if (learn_mac(ctx, &g)) {
        guest_free(&g);
        return -1;
    }
    if (kind == TR_RX_BUFFERS) {
        if (guest_open(ctx, &peer, true, false)) {
            guest_free(&g);
            return -1;
        }
        have_peer = true;
    }
    h_port_counters(ctx, ctx->port, &b_rx, &b_tx);
    /* From here on we touch nothing of R0 past the cut either. */
    if (ftruncate(g.mfd[0], cut[kind])) {
        res = h_fail(ctx, "ftruncate: %s", strerror(errno));
        goto out_free;
    }
    if (kind == TR_TX_BUFFERS) {
        uint16_t head = 1;
        set_desc(&g.tx.desc[head], buf_gpa(&g.tx, 5), HDR + FRAME, 0, 0);
        ring_post(&g.tx, &head, 1);
    } else if (kind == TR_RX_BUFFERS) {
        truncate_rx(&g, &peer);
    }
    int fd = g.sock;
    g.sock = -1;
    res = h_expect_broken(ctx, fd, "guest memory fault");
    if (!res) {
        res = check_fault_state(ctx);
    }
    if (!res && kind == TR_TX_BUFFERS) {
        /* The frame: received once, dropped once, as bad_address. */
        res = check_fault_counted(ctx, false, &b_rx, &b_tx, 1, 1, true);
    } else if (!res && kind == TR_RX_BUFFERS) {
        /* Nothing delivered; the copy that faulted counted once. */
        res = check_fault_counted(ctx, true, &b_rx, &b_tx, 0, 1, false);
    } else if (!res) {
        /* No frame was in hand: nothing counted at all. */
        res = check_fault_counted(ctx, false, &b_rx, &b_tx, 0, 0, true);
    }
out_free:
    guest_free(&g);
    if (have_peer) {
        guest_close(&peer, false);
    }
    return res ? res : expect_fresh_guest_served(ctx);
}

/* A kick, call or error fd that is no eventfd, pipe or socket, given to a
 * running ring.  The switch drains kick fds on its control thread until
 * they are empty (/dev/zero and a timerfd firing every nanosecond never
 * are) and its workers write call fds (a regular file grows forever, a
 * device may block): it must refuse them. */
enum { NF_KICK_ZERO, NF_KICK_TIMER, NF_KICK_FILE, NF_CALL_FILE,
       NF_CALL_ZERO, NF_ERR_ZERO };

static int
s_bad_notify_fd(struct hctx *ctx, const void *arg)
{
    static const uint32_t requests[] = {
        VHU_SET_VRING_KICK, VHU_SET_VRING_KICK, VHU_SET_VRING_KICK,
        VHU_SET_VRING_CALL, VHU_SET_VRING_CALL, VHU_SET_VRING_ERR,
    };
    unsigned kind = (unsigned) (uintptr_t) arg;
    struct guest g;
    int fd = -1;

    switch (kind) {
    case NF_KICK_TIMER: {
        fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
        struct itimerspec its = { { 0, 1 }, { 0, 1 } };
        timerfd_settime(fd, 0, &its, NULL);
        break;
    }
    case NF_KICK_FILE:
    case NF_CALL_FILE:
        fd = h_memfd("notify", 1 << 20);
        break;
    default:
        fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
        break;
    }
    if (fd < 0) {
        return h_fail(ctx, "cannot make the fd: %s", strerror(errno));
    }
    if (guest_open(ctx, &g, false, false)) {
        close(fd);
        return -1;
    }
    uint64_t u = 1;             /* the transmit ring, running */
    h_send(g.sock, requests[kind], VHU_FLAG_VERSION | VHU_FLAG_NEED_REPLY,
           &u, sizeof u, &fd, 1);
    close(fd);
    struct vhu_msg msg;
    int err = h_recv(g.sock, &msg, H_REPLY_MS);
    if (err || msg.size != 8 || !msg.payload.u64) {
        guest_free(&g);
        return h_fail(ctx, "%s with a bad fd: %s", vhu_request_name(
                          requests[kind]), err ? strerror(-err)
                                               : "accepted");
    }
    int sock = g.sock;
    g.sock = -1;
    guest_free(&g);
    return h_expect_broken(ctx, sock, "fd");
}

/* ---- GET_VRING_BASE under full load. ---- */

/* A load thread drives three roles at full speed: the peer sends
 * sequence-numbered frames to the hostile guest (L_PEER), the hostile
 * guest transmits on its transmit ring (L_TX) and takes frames from its
 * receive ring (L_RX).  The scenario's thread stops and restarts the
 * hostile guest's rings meanwhile; it first takes a role away from the
 * load thread (load_set), so that only one of our threads touches a ring
 * at a time.  Every receive buffer is filled with FILL_RX before it is
 * posted: one the switch has not handed back must still hold it. */
enum { L_PEER = 1, L_TX = 2, L_RX = 4, L_ALL = 7 };

#define SEQ_OFF (HDR + 14)      /* the peer's sequence number, u64 */
#define USED_SIZE (4 + 8 * G_SIZE + 2)

struct load {
    struct guest *g, *peer;

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
    struct gring *r = &l->peer->tx;
    uint16_t heads[32];

    if ((uint16_t) (r->avail_idx - ring_used(r)) > G_SIZE - 32) {
        return;
    }
    for (unsigned i = 0; i < ARRAY_SIZE(heads); i++) {
        uint16_t h = (uint16_t) (r->avail_idx + i) % G_SIZE;
        uint64_t seq = ++l->peer_sent;
        memcpy(r0(l->peer, OFF_TXBUF + h * BUF_SIZE + SEQ_OFF), &seq,
               sizeof seq);
        set_desc(&r->desc[h], buf_gpa(r, h), HDR + FRAME, 0, 0);
        heads[i] = h;
    }
    ring_post(r, heads, ARRAY_SIZE(heads));
}

/* Used entries must come back in the order the chains were posted, each
 * once: whatever the switch took before a stop and after a restart. */
static bool
used_entry_ok(struct load *l, const struct gring *r, uint16_t k,
              const char *which, uint32_t *len)
{
    const struct vring_used_elem *e = &r->used->ring[k % G_SIZE];
    uint16_t posted = r->avail->ring[k % G_SIZE];
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
    struct gring *r = &l->g->tx;
    uint16_t used = ring_used(r);
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
    struct gring *r = &l->g->tx;
    uint16_t heads[32];

    load_tx_reap(l);
    if ((uint16_t) (r->avail_idx - ring_used(r)) > G_SIZE - 32) {
        return;
    }
    for (unsigned i = 0; i < ARRAY_SIZE(heads); i++) {
        heads[i] = (uint16_t) (r->avail_idx + i) % G_SIZE;
    }
    ring_post(r, heads, ARRAY_SIZE(heads));
    l->tx_posted += ARRAY_SIZE(heads);
}

/* Checks one received frame: the peer's, intact, in sequence. */
static void
load_rx_frame(struct load *l, const uint8_t *b, uint32_t len)
{
    static const uint8_t hdr[HDR] = { [10] = 1 };   /* num_buffers 1 */
    uint8_t src[6];
    memset(src, MAC_G, sizeof src);
    if (len < HDR + 14 || memcmp(b + HDR + 6, src, 6)) {
        l->rx_other++;          /* someone else's frame (flooding) */
        return;
    }
    uint64_t seq;
    memcpy(&seq, b + SEQ_OFF, sizeof seq);
    bool intact = len == HDR + FRAME && !memcmp(b, hdr, HDR)
                  && b[HDR] == MAC_H && !memcmp(b + HDR, b + HDR + 1, 5)
                  && b[HDR + 12] == 0x88 && b[HDR + 13] == 0xb5;
    for (uint32_t i = SEQ_OFF + 8; intact && i < HDR + FRAME; i++) {
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
    struct gring *r = &l->g->rx;
    uint16_t used = ring_used(r), ids[G_SIZE];
    unsigned n = 0;

    if ((uint16_t) (used - l->rx_reaped) > G_SIZE) {
        load_fail(l, "rx used index jumped from %u to %u", l->rx_reaped,
                  used);
        return;
    }
    for (; l->rx_reaped != used; l->rx_reaped++) {
        uint32_t len;
        if (!used_entry_ok(l, r, l->rx_reaped, "rx", &len)) {
            continue;
        }
        uint16_t id = r->avail->ring[l->rx_reaped % G_SIZE];
        uint8_t *b = r0(l->g, OFF_RXBUF + id * BUF_SIZE);
        if (len > BUF_SIZE) {
            load_fail(l, "rx used entry %u: length %u for a %u-byte "
                      "buffer", l->rx_reaped, len, BUF_SIZE);
        } else if (len) {
            load_rx_frame(l, b, len);
        }
        memset(b, FILL_RX, BUF_SIZE);
        ids[n++] = id;
    }
    if (n) {
        ring_post(r, ids, n);
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
get_vring_base(struct hctx *ctx, struct guest *g, uint32_t q, uint16_t *base)
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
ring_restart(struct hctx *ctx, struct guest *g, uint32_t q,
             const struct gring *r, uint16_t size, uint16_t base)
{
    struct vhu_vring_state num = { q, size }, st = { q, base };
    struct vhu_vring_state on = { q, 1 };
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
    if (!ack) {
        ack = h_request_ack(g->sock, VHU_SET_VRING_ENABLE, &on, sizeof on,
                            NULL, 0);
    }
    return ack ? h_fail(ctx, "restarting vring %u at %u refused (%lld)", q,
                        base, (long long) ack) : 0;
}

/* The receive buffers posted in [from, to) must still hold FILL_RX. */
static int
check_unused_rx(struct hctx *ctx, struct guest *g, uint16_t from, uint16_t to,
                const char *when)
{
    const struct gring *r = &g->rx;
    for (uint16_t k = from; k != to; k++) {
        uint16_t id = r->avail->ring[k % G_SIZE];
        const uint8_t *b = r0(g, OFF_RXBUF + id * BUF_SIZE);
        for (unsigned i = 0; i < BUF_SIZE; i++) {
            if (b[i] != FILL_RX) {
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
    struct guest *g = l->g;
    static uint8_t snap_rx[USED_SIZE], snap_tx[USED_SIZE];
    uint16_t b_rx, b_tx;

    /* Receive ring: asked while the load thread still takes frames and
     * posts buffers; then it lets go of the ring and we look. */
    if (get_vring_base(ctx, g, 0, &b_rx) || load_set(ctx, l, L_PEER | L_TX)) {
        return -1;
    }
    uint16_t u = ring_used(&g->rx);
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
    u = ring_used(&g->tx);
    if (u != b_tx) {
        return h_fail(ctx, "round %u: GET_VRING_BASE 1 returned %u but the "
                      "transmit ring's used index is %u", round, b_tx, u);
    }
    memcpy(snap_tx, g->tx.used, USED_SIZE);
    /* More chains on the stopped transmit ring, frames keep coming for
     * the stopped receive ring: nobody may touch either now. */
    uint16_t heads[32];
    for (unsigned i = 0; i < ARRAY_SIZE(heads); i++) {
        heads[i] = (uint16_t) (g->tx.avail_idx + i) % G_SIZE;
    }
    if ((uint16_t) (g->tx.avail_idx - b_tx) <= G_SIZE - 32) {
        ring_post(&g->tx, heads, ARRAY_SIZE(heads));
        l->tx_posted += ARRAY_SIZE(heads);
    }
    h_log(ctx, "round %u: rx base %u (%u buffers posted beyond), tx base %u "
          "(%u chains beyond)", round, b_rx, (uint16_t) (rx_posted - b_rx),
          b_tx, (uint16_t) (g->tx.avail_idx - b_tx));
    h_sleep_ms(200);
    if (memcmp(snap_rx, g->rx.used, USED_SIZE)) {
        return h_fail(ctx, "round %u: the receive used ring changed after "
                      "GET_VRING_BASE replied (used index %u -> %u)", round,
                      b_rx, ring_used(&g->rx));
    }
    if (memcmp(snap_tx, g->tx.used, USED_SIZE)) {
        return h_fail(ctx, "round %u: the transmit used ring changed after "
                      "GET_VRING_BASE replied (used index %u -> %u)", round,
                      b_tx, ring_used(&g->tx));
    }
    if (check_unused_rx(ctx, g, b_rx, rx_posted, "200 ms after the reply")) {
        return -1;
    }

    /* Resume where the switch said, and see both rings move again. */
    uint64_t mine = l->rx_mine, posted = l->tx_posted;
    if (ring_restart(ctx, g, 0, &g->rx, G_SIZE, b_rx)
        || ring_restart(ctx, g, 1, &g->tx, G_SIZE, b_tx)
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
    struct guest *g = l->g;

    if (load_set(ctx, l, L_RX)
        || ring_wait_all_used(&l->peer->tx, NULL, H_REPLY_MS)
        || ring_wait_all_used(&g->tx, NULL, H_REPLY_MS)) {
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
        uint64_t dropped = drops_sum(&g_rx) - drops_sum(b_g_rx)
                           + drops_sum(&h_tx) - drops_sum(b_h_tx);
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
static int
s_vring_base_load(struct hctx *ctx, const void *arg)
{
    unsigned rounds = (unsigned) (uintptr_t) arg;
    struct guest g, peer;
    int res = 0;

    if (!ctx->peer_path) {
        snprintf(ctx->why, sizeof ctx->why, "needs a peer sending frames "
                 "(give --peer-socket)");
        return H_SKIP;
    }
    if (guest_open(ctx, &g, false, false)) {
        return -1;
    }
    if (learn_mac(ctx, &g) || guest_open(ctx, &peer, true, false)) {
        guest_free(&g);
        return -1;
    }
    struct gring *rx = &g.rx;
    uint16_t ids[G_SIZE];
    for (unsigned i = 0; i < G_SIZE; i++) {
        set_desc(&rx->desc[i], buf_gpa(rx, i), BUF_SIZE, VRING_DESC_F_WRITE,
                 0);
        set_desc(&g.tx.desc[i], buf_gpa(&g.tx, i), HDR + FRAME, 0, 0);
        ids[i] = (uint16_t) i;
    }
    memset(r0(&g, OFF_RXBUF), FILL_RX, G_SIZE * BUF_SIZE);
    ring_post(rx, ids, G_SIZE);

    struct stats_dir b_h_rx, b_h_tx, b_g_rx, b_g_tx;
    h_port_counters(ctx, ctx->port, &b_h_rx, &b_h_tx);
    h_port_counters(ctx, ctx->peer_port, &b_g_rx, &b_g_tx);
    struct load l = { .g = &g, .peer = &peer, .want = L_ALL, .req = 1,
                      .tx_reaped = ring_used(&g.tx) };
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
    guest_close(&g, false);
    guest_close(&peer, false);
    return res;
}

/* ---- The flooder (tests/integration/isolation.sh). ---- */

/* The flooder's transmit ring is large, in the receive buffers' area
 * (unused here): a flooder that gets little CPU still leaves a switch
 * that garbage slows down a long backlog of it. */
#define FLOOD_RING 8192u
#define OFF_FLOOD_DESC OFF_RXBUF
#define OFF_FLOOD_AVAIL (OFF_FLOOD_DESC + 16 * FLOOD_RING)
#define OFF_FLOOD_USED (OFF_FLOOD_AVAIL + 0x5000)
_Static_assert(OFF_FLOOD_USED + 6 + 8 * FLOOD_RING <= OFF_CANARY,
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
flood_build(struct guest *g, struct gring *r)
{
    struct vring_desc *d = r->desc;
    struct vring_desc *ind = (struct vring_desc *) r0(g, OFF_IND);
    const uint16_t nf = VRING_DESC_F_NEXT;
    uint64_t buf = buf_gpa(&g->tx, 0);

    set_desc(&d[0], HOLE_GPA, 64, 0, 0);                /* unmapped */
    set_desc(&d[1], 0, 64, 0, 0);
    set_desc(&d[2], ~0ull, 2, 0, 0);                    /* wraps */
    set_desc(&d[3], buf, 64, nf, 3);                    /* loop */
    set_desc(&d[4], buf, 64, nf, 5);                    /* 2-cycle */
    set_desc(&d[5], buf, 64, nf, 4);
    set_desc(&d[6], buf, 64, nf, 0xffff);               /* next out of range */
    set_desc(&d[7], buf, 0, 0, 0);                      /* short headers */
    set_desc(&d[8], buf, HDR - 4, 0, 0);
    set_desc(&d[9], buf, HDR, 0, 0);
    set_desc(&d[10], buf, HDR + 13, 0, 0);
    set_desc(&d[11], R2_GPA, 0xffffffff, 0, 0);         /* huge */
    set_desc(&d[12], buf, HDR + 9000, 0, 0);            /* over the MTU */
    set_desc(&d[13], buf, HDR + FRAME, VRING_DESC_F_WRITE, 0);
    set_desc(&ind[0], buf, HDR + FRAME, 0, 0);
    set_desc(&d[14], IND_GPA, 17, VRING_DESC_F_INDIRECT, 0);
    for (unsigned i = 15; i < 18; i++) {                /* over 4 GiB */
        set_desc(&d[i], R2_GPA, 0x7fffffff, i < 17 ? nf : 0, i + 1);
    }
    set_desc(&d[18], buf, HDR + FRAME, 0, 0);           /* well formed */
}

static void
flood_post(struct gring *r, const uint16_t *heads, unsigned n)
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
flood_open(struct hctx *ctx, struct guest *g, struct gring *r)
{
    uint16_t base;
    if (guest_open(ctx, g, false, true)) {
        return -1;
    }
    memset(r0(g, OFF_FLOOD_DESC), 0, OFF_CANARY - OFF_FLOOD_DESC);
    *r = (struct gring) {
        .desc = (struct vring_desc *) r0(g, OFF_FLOOD_DESC),
        .avail = (struct vring_avail *) r0(g, OFF_FLOOD_AVAIL),
        .used = (struct vring_used *) r0(g, OFF_FLOOD_USED),
    };
    flood_build(g, r);
    if (get_vring_base(ctx, g, 1, &base)
        || ring_restart(ctx, g, 1, r, FLOOD_RING, 0)) {
        guest_free(g);
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
    struct guest g;
    struct gring ring, *r = &ring;
    if (flood_open(ctx, &g, r)) {
        return -1;
    }
    uint64_t end = h_now_ms() + ms, one = 1;
    unsigned next = 0;
    uint16_t seen = 0;
    while (h_now_ms() < end) {
        uint16_t heads[32], used = ring_used(r);
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
    *taken += (uint16_t) (ring_used(r) - seen);
    guest_free(&g);
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
        if (n == taken && drops_sum(&a) - drops_sum(b) == n) {
            break;
        }
        if (h_now_ms() >= deadline) {
            return h_fail(ctx, "the switch took %llu chains, rx_packets "
                          "+%llu, rx drops +%llu", (unsigned long long) taken,
                          (unsigned long long) n,
                          (unsigned long long) (drops_sum(&a) - drops_sum(b)));
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
    struct guest g;

    h_port_counters(ctx, ctx->port, &b, &tx);
    if (guest_open(ctx, &g, false, true)) {
        return -1;
    }
    while (h_now_ms() < end && !h_stop_requested()) {
    }
    guest_close(&g, false);
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

/* Indirect descriptors from a guest that did not negotiate them. */
#define NOIND(b) (&(const struct gcase) { b, false, DROP_BAD_DESCRIPTOR, true })

const struct scenario h_guest_scenarios[] = {
    { "tx-ok", run_case, TXC(B_OK, X_ACCEPT) },
    { "tx-span-regions-ok", run_case, TXC(B_SPAN_REGIONS, X_ACCEPT) },
    { "tx-next-self", run_case, TXC(B_NEXT_SELF, DROP_BAD_DESCRIPTOR) },
    { "tx-next-2cycle", run_case, TXC(B_2CYCLE, DROP_BAD_DESCRIPTOR) },
    { "tx-next-ring-cycle", run_case, TXC(B_RING_CYCLE, DROP_BAD_DESCRIPTOR) },
    { "tx-next-out-of-range", run_case,
      TXC(B_NEXT_OOR, DROP_BAD_DESCRIPTOR) },
    { "tx-chain-ring-size-ok", run_case, TXC(B_CHAIN_SIZE, X_ACCEPT) },
    { "tx-chain-ring-size-plus-1", run_case,
      TXC(B_CHAIN_PLUS_1, DROP_BAD_DESCRIPTOR) },
    { "tx-addr-unmapped", run_case, TXC(B_UNMAPPED, DROP_BAD_ADDRESS) },
    { "tx-addr-cross-region-end", run_case,
      TXC(B_CROSS_END, DROP_BAD_ADDRESS) },
    { "tx-len-0", run_case, TXC(B_LEN0, DROP_HEADER_TOO_SHORT) },
    { "tx-len-0-in-chain-ok", run_case, TXC(B_LEN0_MID, X_ACCEPT) },
    { "tx-len-ffffffff", run_case, TXC(B_LEN_MAX, DROP_BAD_ADDRESS) },
    { "tx-addr-len-wrap", run_case, TXC(B_WRAP, DROP_BAD_ADDRESS) },
    { "tx-total-over-4g", run_case, TXC(B_OVER_4G, DROP_BAD_DESCRIPTOR) },
    { "tx-many-1-byte-ok", run_case, TXC(B_MANY_1BYTE, X_ACCEPT) },
    { "tx-indirect-len-0", run_case, TXC(B_IND_LEN0, DROP_BAD_DESCRIPTOR) },
    { "tx-indirect-len-15", run_case, TXC(B_IND_LEN15, DROP_BAD_DESCRIPTOR) },
    { "tx-indirect-len-17", run_case, TXC(B_IND_LEN17, DROP_BAD_DESCRIPTOR) },
    { "tx-indirect-size-plus-1", run_case,
      TXC(B_IND_SIZE_PLUS_1, DROP_BAD_DESCRIPTOR) },
    { "tx-indirect-nested", run_case, TXC(B_IND_NESTED, DROP_BAD_DESCRIPTOR) },
    { "tx-indirect-next", run_case, TXC(B_IND_NEXT, DROP_BAD_DESCRIPTOR) },
    { "tx-indirect-unmapped", run_case,
      TXC(B_IND_UNMAPPED, DROP_BAD_ADDRESS) },
    { "tx-indirect-ring-size-ok", run_case, TXC(B_IND_EXACT, X_ACCEPT) },
    { "tx-indirect-cycle", run_case, TXC(B_IND_CYCLE, DROP_BAD_DESCRIPTOR) },
    { "tx-indirect-next-out-of-range", run_case,
      TXC(B_IND_NEXT_OOR, DROP_BAD_DESCRIPTOR) },
    { "tx-indirect-after-chain-ok", run_case,
      TXC(B_IND_AFTER_CHAIN, X_ACCEPT) },
    { "tx-indirect-write-flag-ok", run_case, TXC(B_IND_DIR_FLAG, X_ACCEPT) },
    { "tx-indirect-not-negotiated", run_case, NOIND(B_IND_EXACT) },
    { "tx-writable", run_case, TXC(B_WRONG_DIR, DROP_BAD_DESCRIPTOR) },
    { "tx-writable-after-readable", run_case,
      TXC(B_MIXED_DIR, DROP_BAD_DESCRIPTOR) },
    { "tx-shorter-than-header", run_case,
      TXC(B_HDR_SHORT, DROP_HEADER_TOO_SHORT) },
    { "tx-header-only", run_case, TXC(B_HDR_ONLY, DROP_HEADER_TOO_SHORT) },
    { "tx-shorter-than-ethernet", run_case,
      TXC(B_ETH_SHORT, DROP_HEADER_TOO_SHORT) },
    { "tx-header-1-byte-pieces-ok", run_case, TXC(B_HDR_SPLIT, X_ACCEPT) },
    { "tx-oversize", run_case, TXC(B_OVERSIZE, DROP_MTU_EXCEEDED) },
    { "tx-avail-jump-size-ok", run_case, TXC(B_JUMP_SIZE, X_ACCEPT) },
    { "tx-avail-jump-size-plus-1", run_case, TXC(B_JUMP_PLUS_1, X_BROKEN) },
    { "tx-avail-backwards", run_case, TXC(B_BACKWARDS, X_BROKEN) },
    { "tx-head-out-of-range", run_case, TXC(B_HEAD_OOR, X_BROKEN) },
    { "tx-head-ffff", run_case, TXC(B_HEAD_FFFF, X_BROKEN) },
    { "tx-rewrite-while-copying", s_rewrite, NULL },
    { "tx-rem-mem-reg-while-traffic", s_rem_while_traffic, NULL },
    { "tx-memfd-truncated", s_truncate, (const void *) TR_RINGS },
    { "tx-memfd-truncated-buffers", s_truncate,
      (const void *) TR_TX_BUFFERS },
    { "rx-memfd-truncated-buffers", s_truncate,
      (const void *) TR_RX_BUFFERS },
    { "vring-kick-dev-zero", s_bad_notify_fd, (const void *) NF_KICK_ZERO },
    { "vring-kick-timerfd", s_bad_notify_fd, (const void *) NF_KICK_TIMER },
    { "vring-kick-regular-file", s_bad_notify_fd,
      (const void *) NF_KICK_FILE },
    { "vring-call-regular-file", s_bad_notify_fd,
      (const void *) NF_CALL_FILE },
    { "vring-call-dev-zero", s_bad_notify_fd, (const void *) NF_CALL_ZERO },
    { "vring-err-dev-zero", s_bad_notify_fd, (const void *) NF_ERR_ZERO },
    { "rx-ok", run_case, RXC(B_OK, X_ACCEPT) },
    { "rx-span-regions-ok", run_case, RXC(B_SPAN_REGIONS, X_ACCEPT) },
    { "rx-header-1-byte-pieces-ok", run_case, RXC(B_HDR_SPLIT, X_ACCEPT) },
    { "rx-chain-ring-size-ok", run_case, RXC(B_CHAIN_SIZE, X_ACCEPT) },
    { "rx-indirect-ring-size-ok", run_case, RXC(B_IND_EXACT, X_ACCEPT) },
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
    { "rx-avail-jump-size-plus-1", run_case, RXC(B_JUMP_PLUS_1, X_BROKEN) },
    { "rx-head-out-of-range", run_case, RXC(B_HEAD_OOR, X_BROKEN) },
    { "rx-rewrite-while-copying", s_rewrite, (const void *) 1 },
    { "vring-base-under-load", s_vring_base_load, (const void *) 5 },
    { NULL, NULL, NULL },
};
