/* hostile-fds.c -- scenarios of the hostile front end with file
 * descriptors that misbehave after the switch took them: the memfd of a
 * guest memory region truncated under the switch's mappings, and kick,
 * call or error fds that are no eventfd.  Each sets up the hostile guest
 * of hostile-guest.c (hg_*); h_guest_scenarios there lists them.
 *
 * See hostile.h for the harness. */
#include <config.h>

#include "hostile.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_ring.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "util.h"

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
 *   HG_TR_RINGS       R0 down to nothing, rings included: the fault is in
 *                     the switch's look at the avail index, no frame in
 *                     hand;
 *   HG_TR_TX_BUFFERS  down to HG_OFF_TXBUF: the rings live, a transmitted
 *                     frame's bytes are gone (the fault is in reading it);
 *   HG_TR_RX_BUFFERS  down to HG_OFF_RXBUF: the receive buffers are gone
 *                     and the peer sends to the hostile guest (the fault
 *                     is in the copy into them). */

/* After the offender was dropped: a fresh, well-behaved front end on the
 * same port transmits (its frame comes back used) and, with the peer,
 * receives a frame. */
static int
expect_fresh_guest_served(struct hctx *ctx)
{
    struct hg_guest g, peer;
    bool have_peer = false;

    if (hg_guest_open(ctx, &g, false, false)) {
        return -1;
    }
    int res = hg_learn_mac(ctx, &g);
    if (!res && ctx->peer_path) {
        if (hg_guest_open(ctx, &peer, true, false)) {
            hg_guest_free(&g);
            return -1;
        }
        have_peer = true;
        /* One receive buffer, as in rx-ok. */
        uint16_t head = 0;
        hg_set_desc(&g.rx.desc[0], hg_buf_gpa(&g.rx, 0), HG_BUF_SIZE,
                    VRING_DESC_F_WRITE, 0);
        hg_ring_post(&g.rx, &head, 1);
        if (hg_ring_wait_all_used(&g.rx, &peer, H_REPLY_MS)) {
            res = h_fail(ctx, "a fresh front end on %s after the fault "
                         "receives nothing", ctx->port);
        } else {
            res = hg_check_used(ctx, &g.rx, &head, 1, HG_ACCEPT);
        }
    }
    res = hg_guest_finish(ctx, &g, res);
    if (have_peer) {
        hg_guest_close(&peer, false);
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
        uint64_t dropped = hg_drops_sum(a) - hg_drops_sum(b);
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
truncate_rx(struct hg_guest *g, struct hg_guest *peer)
{
    struct hg_ring *r = &g->rx;
    uint16_t heads[8];
    for (unsigned i = 0; i < ARRAY_SIZE(heads); i++) {
        hg_set_desc(&r->desc[i], hg_buf_gpa(r, i), HG_BUF_SIZE,
                    VRING_DESC_F_WRITE, 0);
        heads[i] = (uint16_t) i;
    }
    hg_ring_post(r, heads, ARRAY_SIZE(heads));
    uint64_t deadline = h_now_ms() + H_STATE_MS;
    struct pollfd pfd = { .fd = g->sock, .events = POLLIN };
    while (h_now_ms() < deadline && !poll(&pfd, 1, 1)) {
        hg_peer_pump(peer);
    }
}

int
hg_s_truncate(struct hctx *ctx, const void *arg)
{
    static const off_t cut[] = { 0, HG_OFF_TXBUF, HG_OFF_RXBUF };
    unsigned kind = (unsigned) (uintptr_t) arg;
    struct hg_guest g, peer;
    bool have_peer = false;
    struct stats_dir b_rx, b_tx;
    int res;

    if (kind == HG_TR_RX_BUFFERS && !ctx->peer_path) {
        snprintf(ctx->why, sizeof ctx->why, "no frames towards the hostile "
                 "port (give --peer-socket)");
        return H_SKIP;
    }
    if (hg_guest_open(ctx, &g, false, false)) {
        return -1;
    }
    /* One good frame first: the switch has mapped and touched R0. */
    if (hg_learn_mac(ctx, &g)) {
        hg_guest_free(&g);
        return -1;
    }
    if (kind == HG_TR_RX_BUFFERS) {
        if (hg_guest_open(ctx, &peer, true, false)) {
            hg_guest_free(&g);
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
    if (kind == HG_TR_TX_BUFFERS) {
        uint16_t head = 1;
        hg_set_desc(&g.tx.desc[head], hg_buf_gpa(&g.tx, 5), HG_HDR + HG_FRAME,
                    0, 0);
        hg_ring_post(&g.tx, &head, 1);
    } else if (kind == HG_TR_RX_BUFFERS) {
        truncate_rx(&g, &peer);
    }
    int fd = g.sock;
    g.sock = -1;
    res = h_expect_broken(ctx, fd, "guest memory fault");
    if (!res) {
        res = check_fault_state(ctx);
    }
    if (!res && kind == HG_TR_TX_BUFFERS) {
        /* The frame: received once, dropped once, as bad_address. */
        res = check_fault_counted(ctx, false, &b_rx, &b_tx, 1, 1, true);
    } else if (!res && kind == HG_TR_RX_BUFFERS) {
        /* Nothing delivered; the copy that faulted counted once. */
        res = check_fault_counted(ctx, true, &b_rx, &b_tx, 0, 1, false);
    } else if (!res) {
        /* No frame was in hand: nothing counted at all. */
        res = check_fault_counted(ctx, false, &b_rx, &b_tx, 0, 0, true);
    }
out_free:
    hg_guest_free(&g);
    if (have_peer) {
        hg_guest_close(&peer, false);
    }
    return res ? res : expect_fresh_guest_served(ctx);
}

/* A kick, call or error fd that is no eventfd, pipe or socket, given to a
 * running ring.  The switch drains kick fds on its control thread until
 * they are empty (/dev/zero and a timerfd firing every nanosecond never
 * are) and its workers write call fds (a regular file grows forever, a
 * device may block): it must refuse them. */
int
hg_s_bad_notify_fd(struct hctx *ctx, const void *arg)
{
    static const uint32_t requests[] = {
        VHU_SET_VRING_KICK, VHU_SET_VRING_KICK, VHU_SET_VRING_KICK,
        VHU_SET_VRING_CALL, VHU_SET_VRING_CALL, VHU_SET_VRING_ERR,
    };
    unsigned kind = (unsigned) (uintptr_t) arg;
    struct hg_guest g;
    int fd = -1;

    switch (kind) {
    case HG_NF_KICK_TIMER: {
        fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
        struct itimerspec its = { { 0, 1 }, { 0, 1 } };
        timerfd_settime(fd, 0, &its, NULL);
        break;
    }
    case HG_NF_KICK_FILE:
    case HG_NF_CALL_FILE:
        fd = h_memfd("notify", 1 << 20);
        break;
    default:
        fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
        break;
    }
    if (fd < 0) {
        return h_fail(ctx, "cannot make the fd: %s", strerror(errno));
    }
    if (hg_guest_open(ctx, &g, false, false)) {
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
        hg_guest_free(&g);
        return h_fail(ctx, "%s with a bad fd: %s", vhu_request_name(
                          requests[kind]), err ? strerror(-err)
                                               : "accepted");
    }
    int sock = g.sock;
    g.sock = -1;
    hg_guest_free(&g);
    return h_expect_broken(ctx, sock, "fd");
}
