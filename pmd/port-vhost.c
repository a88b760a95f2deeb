/* port-vhost.c -- the vhost-user port.
 *
 * Control side: the UNIX socket (we listen, or with ",client" we connect
 * and retry every second), one front end at a time, its messages handed to
 * the device state machine (lib/vhu-dev.c).  When a worker finds the
 * device's rings corrupt, or its memory faulted (a truncated memory file,
 * see rx_fault), it sets port->broken; the next tick disconnects the
 * device, logs why, and waits for the front end to come back.
 *
 * Datapath side: rx_burst pops chains from the guest's transmit ring and
 * describes each frame as pieces of guest memory (no copy); tx_burst copies
 * frames into the guest's receive ring (vq_enqueue); rx_release gives the
 * transmit chains back, one used-index store and one notification check per
 * burst. */
#include <config.h>
#include "port-vhost.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "topo.h"
#include "vhu-dev.h"

struct port_vhost {
    struct port up;
    struct vhu_dev dev;
    char path[VU_PATH_SIZE];
    bool client;
    int listen_fd;                  /* server mode, -1 otherwise */
    struct port_watch listen_watch;
    struct port_watch conn_watch;
    uint64_t next_connect_ms;       /* client mode: next attempt */
    bool connect_failure_logged;
};

static struct port_vhost *
port_vhost_cast(const struct port *port)
{
    return CONTAINER_OF(port, struct port_vhost, up);
}

/* ---- Datapath ---------------------------------------------------------- */

static uint16_t
drop_of_vq_err(int err)
{
    switch (err) {
    case VQ_BAD_ADDR:
        return PKT_DROP(DROP_BAD_ADDRESS);
    case VQ_NO_BUFS:
        return PKT_DROP(DROP_NO_RX_BUFFERS);
    case VQ_TOO_BIG:
        return PKT_DROP(DROP_MTU_EXCEEDED);
    case VQ_BROKEN:
        return PKT_DROP(DROP_PORT_DOWN);
    case VQ_BAD_DESC:
    default:
        return PKT_DROP(DROP_BAD_DESCRIPTOR);
    }
}

/* Strips the virtio-net header off a popped chain and fills in the frame's
 * view: pieces, length and a copy of its MAC addresses. */
static void
pkt_from_chain(struct pkt *pkt, struct vq_seg *segs, const struct vq_chain *c,
               uint16_t hdr_size)
{
    pkt->cookie = c->id;
    pkt->drop = 0;
    struct vq_seg *first = segs;
    int n = vq_segs_skip(&first, c->n_segs, hdr_size);
    if (unlikely(n < 0 || c->len - hdr_size < 14)) {
        pkt->drop = PKT_DROP(DROP_HEADER_TOO_SHORT);
        pkt->n_segs = 0;
        pkt->len = 0;
        return;
    }
    pkt->segs = first;
    pkt->n_segs = n;
    pkt->len = c->len - hdr_size;
    if (likely(first->len >= PORT_ETH_ADDRS)) {
        memcpy(pkt->addrs, first->addr, PORT_ETH_ADDRS);
    } else {
        vq_segs_copy_out(first, n, 0, pkt->addrs, PORT_ETH_ADDRS);
    }
}

/* Guest memory faults.  A front end that shrinks the file behind its
 * memory makes our next access there raise SIGBUS; gmem's guard answers
 * with zeros and counts the fault in the device's map (gmem.h).  A burst
 * checks that count once, at its end: after a fault the worker marks the
 * port broken, touches the device's memory no more (no used entries, no
 * notification: the tick disconnects the device and resets its rings),
 * and counts one frame of the burst, standing for the access that
 * faulted, under bad_address.  Which frame's access it was is unknown and
 * does not matter: the bytes read were zeros, and the device is going.
 * A fault while copying a frame out of a source guest is seen by that
 * port's rx_release (the frame went out with zeros in it). */

/* Receive side: the burst shrinks to its first frame, dropped; the chains
 * behind it are never given back, as if never taken. */
static unsigned
rx_fault(struct port *port, struct pkt *pkts, unsigned n)
{
    port_mark_broken(port, VQ_BAD_ADDR);
    if (!n) {
        return 0;
    }
    pkts[0].drop = PKT_DROP(DROP_BAD_ADDRESS);
    pkts[0].n_segs = 0;
    pkts[0].len = 0;
    return 1;
}

/* Transmit side: nothing of the burst is published, so none of the 'n'
 * frames reached the guest: the first one it took counts as the fault,
 * the others as port_down. */
static void
tx_fault(struct port *port, uint16_t *results, unsigned n)
{
    uint16_t drop = PKT_DROP(DROP_BAD_ADDRESS);
    port_mark_broken(port, VQ_BAD_ADDR);
    for (unsigned i = 0; i < n; i++) {
        if (!results[i]) {
            results[i] = drop;
            drop = PKT_DROP(DROP_PORT_DOWN);
        }
    }
}

/* Pops up to 'n' chains of a guest's transmit ring into 'pkts' (pieces
 * from 'pool'), asking for each frame's first bytes; a bad chain is kept
 * with its drop reason.  Returns how many entries it filled.  One copy per
 * ring layout. */
static ALWAYS_INLINE unsigned
rx_pop_burst(struct port *port, struct vq *vq, bool packed, struct pkt *pkts,
             unsigned n, struct vq_seg *pool, struct vq_chain *chains)
{
    unsigned used = 0, i;
    for (i = 0; i < n && PORT_SEG_POOL - used >= PORT_MAX_CHAIN_SEGS; i++) {
        int err = vq_pop_as(vq, packed, false, pool + used,
                            PORT_MAX_CHAIN_SEGS, &chains[i]);
        pkts[i].segs = pool + used;
        pkts[i].cookie = chains[i].id;
        if (likely(!err)) {
            pkts[i].drop = 0;
            used += chains[i].n_segs;
            /* The first line and the next: a small frame behind its
             * header often ends in the second.  The header's line is
             * never read here, but the worker was slower without this
             * request, why is not settled (BENCHMARKS.md, fourth
             * session). */
            __builtin_prefetch(pkts[i].segs[0].addr);
            if (pkts[i].segs[0].len > 64) {
                __builtin_prefetch(pkts[i].segs[0].addr + 64);
            }
        } else if (err == -VQ_BAD_DESC || err == -VQ_BAD_ADDR) {
            pkts[i].drop = drop_of_vq_err(-err);
        } else {
            if (err == -VQ_BROKEN) {
                port_mark_broken(port, VQ_BROKEN);
            }
            break;
        }
    }
    return i;
}

/* Three passes, so that the cache misses on memory the guest just wrote
 * on another CPU overlap instead of queueing up: prefetch the descriptors
 * (with IN_ORDER, even before the avail index), walk the chains (and
 * prefetch each frame's first bytes), then read the Ethernet addresses. */
static unsigned
vhost_rx_burst(struct port *port, unsigned qid, struct pkt *pkts, unsigned n,
               struct vq_seg *pool)
{
    struct vq *vq = &port_vhost_cast(port)->dev.vrings[VHU_TXQ(qid)].vq;
    vq_prefetch_early(vq);
    int avail = vq_begin(vq);
    if (unlikely(avail < 0)) {
        port_mark_broken(port, -avail);
        return 0;
    }
    n = MIN(n, (unsigned) avail);
    if (!n) {
        goto out;       /* the common poll of a quiet ring */
    }
    vq_prefetch(vq, n);

    struct vq_chain chains[PORT_BURST];
    n = vq->packed ? rx_pop_burst(port, vq, true, pkts, n, pool, chains)
                   : rx_pop_burst(port, vq, false, pkts, n, pool, chains);
    for (unsigned j = 0; j < n; j++) {
        if (likely(!pkts[j].drop)) {
            pkt_from_chain(&pkts[j], pkts[j].segs, &chains[j], vq->hdr_size);
        } else {
            pkts[j].n_segs = 0;
            pkts[j].len = 0;
        }
    }
out:
    if (unlikely(gmem_faults(vq->mem))) {
        return rx_fault(port, pkts, n);
    }
    return n;
}

static void
count_notify(struct stats_dir *dir, enum vq_notify outcome)
{
    if (outcome == VQ_NOTIFY_SENT) {
        WRITE_ONCE(dir->notify_sent, dir->notify_sent + 1);
    } else if (outcome == VQ_NOTIFY_SUPPRESSED) {
        WRITE_ONCE(dir->notify_suppressed, dir->notify_suppressed + 1);
    }
}

/* Notification checks owed by the rings this worker published in its
 * current pass (port_end_pass), with the direction to count them in.  A
 * ring appears once however often it was published.  Per thread: each
 * worker has its own, and a ring has one owner. */
#define OWED_MAX 64

struct owed {
    struct vq *vq;
    struct stats_dir *dir;
};

static _Thread_local struct owed owed[OWED_MAX];
static _Thread_local unsigned n_owed;

void
port_vhost_end_pass(void)
{
    if (!n_owed) {
        return;
    }
    vq_fence();
    for (unsigned i = 0; i < n_owed; i++) {
        count_notify(owed[i].dir, vq_notify(owed[i].vq));
    }
    n_owed = 0;
}

/* Ends a burst on 'vq': publishes, and leaves the notification check to
 * the end of the pass. */
static void
vhost_publish(struct vq *vq, struct stats_dir *dir)
{
    if (vq_publish(vq)) {
        if (unlikely(n_owed == OWED_MAX)) {
            port_vhost_end_pass();
        }
        owed[n_owed++] = (struct owed) { vq, dir };
    }
}

static void
vhost_rx_release(struct port *port, unsigned qid, struct pkt *pkts,
                 unsigned n, struct stats_dir *dir)
{
    struct vq *vq = &port_vhost_cast(port)->dev.vrings[VHU_TXQ(qid)].vq;
    if (unlikely(gmem_faults(vq->mem))) {
        port_mark_broken(port, VQ_BAD_ADDR);
        return;
    }
    if (vq->packed) {
        for (unsigned i = 0; i < n; i++) {
            vq_push_as(vq, true, pkts[i].cookie, 0);
        }
    } else {
        for (unsigned i = 0; i < n; i++) {
            vq_push_as(vq, false, pkts[i].cookie, 0);
        }
    }
    vhost_publish(vq, dir);
}

/* How far ahead of the copy tx_fill asks for a destination buffer's lines.
 * The line that holds the virtio-net header is read (vq_fill compares it
 * before writing) TX_HDR_AHEAD frames ahead; asking for the whole burst at
 * once was slower: the requests queue up behind each other and behind the
 * loads of the source frames.  The line the frame starts in is asked for
 * with intent to write TX_DATA_AHEAD frames ahead: the guest read it last
 * (its Ethernet header), and the copy's stores would otherwise fill the
 * store buffer waiting for it to come back, one line after another. */
#define TX_HDR_AHEAD 4
#define TX_DATA_AHEAD 8

static inline void
tx_prefetch(const struct vq *vq, const struct vq_resv *resv, unsigned k,
            unsigned n)
{
    if (k + TX_HDR_AHEAD < n) {
        __builtin_prefetch(resv[k + TX_HDR_AHEAD].segs[0].addr);
    }
    if (k + TX_DATA_AHEAD < n) {
        __builtin_prefetch(resv[k + TX_DATA_AHEAD].segs[0].addr
                           + vq->hdr_size, 1);
    }
}

/* Copies the frames reserved so far, then forgets them. */
static void
tx_fill(struct vq *vq, struct pkt *const *pkts, const uint16_t *idx,
        const struct vq_resv *resv, unsigned n)
{
    for (unsigned k = 0; k < n && k < TX_DATA_AHEAD; k++) {
        __builtin_prefetch(resv[k].segs[0].addr + vq->hdr_size, 1);
        if (k < TX_HDR_AHEAD) {
            __builtin_prefetch(resv[k].segs[0].addr);
        }
    }
    for (unsigned k = 0; k < n; k++) {
        tx_prefetch(vq, resv, k, n);
        vq_fill(vq, &resv[k], pkts[idx[k]]->segs, pkts[idx[k]]->n_segs);
    }
}

/* Reserves the guest's receive buffers for frames of 'pkts' and copies
 * them in, a batch at a time; stores each frame's result.  Returns how
 * many frames it got through: fewer than 'n' when the ring broke.  One
 * copy per ring layout, like rx_pop_burst. */
static ALWAYS_INLINE unsigned
tx_copy_burst(struct port *port, struct vq *vq, bool packed,
              struct pkt *const *pkts, unsigned n, uint16_t *results)
{
    struct vq_seg pool[PORT_SEG_POOL];
    struct vq_resv resv[PORT_BURST];
    uint16_t idx[PORT_BURST];
    unsigned used = 0, n_resv = 0, i;
    for (i = 0; i < n; i++) {
        const struct pkt *pkt = pkts[i];
        if (unlikely(pkt->len > port->max_frame)) {
            results[i] = PKT_DROP(DROP_MTU_EXCEEDED);
            continue;
        }
        if (unlikely(PORT_SEG_POOL - used < PORT_MAX_CHAIN_SEGS
                     || (packed && !vq_reserve_ready(vq)))) {
            tx_fill(vq, pkts, idx, resv, n_resv);
            used = n_resv = 0;
        }
        int err = vq_reserve_as(vq, packed, pkt->len, pool + used,
                                PORT_MAX_CHAIN_SEGS, &resv[n_resv]);
        results[i] = err ? drop_of_vq_err(-err) : 0;
        if (likely(!err)) {
            used += resv[n_resv].n_segs;
            idx[n_resv++] = (uint16_t) i;
        } else if (unlikely(err == -VQ_BROKEN)) {
            port_mark_broken(port, VQ_BROKEN);
            i++;
            break;
        }
    }
    tx_fill(vq, pkts, idx, resv, n_resv);
    return i;
}

/* Two passes, for the same reason as vhost_rx_burst: reserve the guest's
 * receive buffers for every frame of the burst (walking descriptors that
 * vq_prefetch already asked for), then copy the frames in, asking for
 * each destination buffer a few frames ahead. */
static void
vhost_tx_burst(struct port *port, unsigned qid, struct pkt *const *pkts,
               unsigned n, uint16_t *results, struct stats_dir *dir)
{
    struct vq *vq = &port_vhost_cast(port)->dev.vrings[VHU_RXQ(qid)].vq;
    unsigned i = 0;
    if (unlikely(gmem_faults(vq->mem))) {
        port_mark_broken(port, VQ_BAD_ADDR);
        goto out_down;
    }
    int avail = vq_begin_lazy(vq, n);
    if (unlikely(avail < 0)) {
        port_mark_broken(port, -avail);
        goto out_down;
    }
    vq_prefetch(vq, MIN(n, (unsigned) avail));

    i = vq->packed ? tx_copy_burst(port, vq, true, pkts, n, results)
                   : tx_copy_burst(port, vq, false, pkts, n, results);
    if (unlikely(gmem_faults(vq->mem))) {
        tx_fault(port, results, i);
        goto out_down;
    }
    vhost_publish(vq, dir);
    vq_prefetch_next(vq);

out_down:
    for (; i < n; i++) {
        results[i] = PKT_DROP(DROP_PORT_DOWN);
    }
}

/* ---- Control: the socket ----------------------------------------------- */

static uint64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
vhost_quiesce(struct vhu_dev *dev, void *aux)
{
    struct port *port = aux;
    port->env->quiesce(port->env, port);
}

static void
vhost_changed(struct vhu_dev *dev, void *aux)
{
    struct port *port = aux;
    port->env->changed(port->env, port);
}

static void
vhost_rarp(struct vhu_dev *dev, const uint8_t mac[6], void *aux)
{
    struct port *port = aux;
    port->env->learn(port->env, port, mac);
}

static const struct vhu_dev_ops vhost_dev_ops = {
    .quiesce = vhost_quiesce,
    .changed = vhost_changed,
    .rarp = vhost_rarp,
};

/* Drops the front end (if any).  'why' is NULL for an orderly hang-up.
 * A front end whose memory faulted (see rx_fault) is reported as such
 * whatever else happened, even if it hung up first: that is what the user
 * must learn. */
static void
vhost_drop_connection(struct port_vhost *pv, const char *why)
{
    struct port *port = &pv->up;
    if (!vhu_dev_is_connected(&pv->dev)) {
        return;
    }
    port->env->unwatch(port->env, &pv->conn_watch);
    char fault[96];
    uint64_t faults = gmem_faults(&pv->dev.mem);
    if (faults) {
        snprintf(fault, sizeof fault, "guest memory fault (%" PRIu64
                 " SIGBUS; memory file truncated?)", faults);
        why = fault;
    }
    if (why) {
        VLOG_WARN("port %s: disconnecting front end: %s", port->name, why);
        if (why != pv->dev.broken) {    /* no copy onto itself */
            snprintf(pv->dev.broken, sizeof pv->dev.broken, "%s", why);
        }
    } else {
        VLOG_INFO("port %s: front end disconnected", port->name);
        pv->dev.broken[0] = '\0';
    }
    char keep[sizeof pv->dev.broken];
    memcpy(keep, pv->dev.broken, sizeof keep);
    vhu_dev_disconnect(&pv->dev);
    memcpy(pv->dev.broken, keep, sizeof keep);
    gmem_reset_faults(&pv->dev.mem);    /* unmapped: the next one is new */
    WRITE_ONCE(port->broken, 0);
    pv->next_connect_ms = now_ms() + 1000;
    port->env->changed(port->env, port);
}

static void
vhost_conn_readable(struct port_watch *w, uint32_t events)
{
    struct port_vhost *pv = CONTAINER_OF(w, struct port_vhost, conn_watch);
    int err = vhu_dev_handle_readable(&pv->dev);
    if (err == -ECONNRESET) {
        vhost_drop_connection(pv, NULL);
    } else if (err) {
        vhost_drop_connection(pv, pv->dev.broken[0] ? pv->dev.broken
                                                    : strerror(-err));
    } else if (unlikely(gmem_faults(&pv->dev.mem))) {
        /* We fault here too (starting a ring writes its used flags): drop
         * the device before a worker polls the ring. */
        vhost_drop_connection(pv, "guest memory fault");
    }
}

static void
vhost_attach(struct port_vhost *pv, int sock)
{
    struct port *port = &pv->up;
    vhu_dev_attach(&pv->dev, sock);
    pv->dev.broken[0] = '\0';
    pv->conn_watch.fd = sock;
    pv->conn_watch.cb = vhost_conn_readable;
    port->env->watch(port->env, &pv->conn_watch);
    VLOG_INFO("port %s: front end connected on %s%s", port->name, pv->path,
              vhu_dev_offered_features(&pv->dev) & VHU_F_RING_PACKED
              ? "" : " (packed=off: split rings only)");
    port->env->changed(port->env, port);
}

static void
vhost_listen_readable(struct port_watch *w, uint32_t events)
{
    struct port_vhost *pv = CONTAINER_OF(w, struct port_vhost, listen_watch);
    int sock = accept4(pv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (sock < 0) {
        return;
    }
    if (vhu_dev_is_connected(&pv->dev)) {
        VLOG_WARN("port %s: refusing a second front end on %s (one is "
                  "connected)", pv->up.name, pv->path);
        close(sock);
        return;
    }
    vhost_attach(pv, sock);
}

static int
unix_addr(const char *path, struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sun->sun_path) {
        return -ENAMETOOLONG;
    }
    strcpy(sun->sun_path, path);
    return 0;
}

/* Server mode: a stale socket file left by a killed vuswitch is replaced;
 * a live one (someone answers) is not. */
static int
vhost_listen(struct port_vhost *pv, char *err, size_t err_size)
{
    struct sockaddr_un sun;
    int fd = -1, r = unix_addr(pv->path, &sun);
    if (r) {
        goto out_err;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        r = -errno;
        goto out_err;
    }
    if (connect(fd, (struct sockaddr *) &sun, sizeof sun) == 0) {
        r = -EADDRINUSE;
        goto out_err;
    }
    struct stat st;
    if (lstat(pv->path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        unlink(pv->path);
    }
    if (bind(fd, (struct sockaddr *) &sun, sizeof sun) < 0
        || listen(fd, 4) < 0) {
        r = -errno;
        goto out_err;
    }
    pv->listen_fd = fd;
    pv->listen_watch.fd = fd;
    pv->listen_watch.cb = vhost_listen_readable;
    pv->up.env->watch(pv->up.env, &pv->listen_watch);
    VLOG_INFO("port %s: listening on %s", pv->up.name, pv->path);
    return 0;

out_err:
    if (fd >= 0) {
        close(fd);
    }
    snprintf(err, err_size, "port %s: cannot listen on %s: %s%s", pv->up.name,
             pv->path, strerror(-r),
             r == -EADDRINUSE ? " (another process serves it)" : "");
    return r;
}

/* Client mode: one attempt; failures are retried by the tick. */
static void
vhost_try_connect(struct port_vhost *pv)
{
    struct sockaddr_un sun;
    if (unix_addr(pv->path, &sun)) {
        return;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return;
    }
    if (connect(fd, (struct sockaddr *) &sun, sizeof sun) < 0) {
        if (!pv->connect_failure_logged) {
            VLOG_INFO("port %s: %s: %s; retrying every second", pv->up.name,
                      pv->path, strerror(errno));
            pv->connect_failure_logged = true;
        }
        close(fd);
        pv->next_connect_ms = now_ms() + 1000;
        return;
    }
    pv->connect_failure_logged = false;
    vhost_attach(pv, fd);
}

static int
vhost_start(struct port *port, char *err, size_t err_size)
{
    struct port_vhost *pv = port_vhost_cast(port);
    if (pv->client) {
        vhost_try_connect(pv);
        return 0;
    }
    return vhost_listen(pv, err, err_size);
}

/* Kicks are counted without a syscall in the datapath: we busy-poll and
 * ask guests not to kick (VRING_USED_F_NO_NOTIFY), so the few kicks that
 * still come just accumulate in the eventfd, and the control thread reads
 * the total every tick.  UML's notification fds are pipes carrying one
 * 8-byte value per kick; reading 8 bytes at a time and summing the values
 * counts both.  The 'kicks' counters have this thread as single writer. */
static uint64_t
drain_kicks(int fd)
{
    enum { MAX_READS = 64 };    /* a front end filling a pipe cannot
                                   hold the control thread */
    uint64_t total = 0, value;
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    for (int i = 0; i < MAX_READS && poll(&pfd, 1, 0) == 1
                    && (pfd.revents & POLLIN)
                    && read(fd, &value, sizeof value) == sizeof value; i++) {
        total += value;
    }
    return total;
}

static void
vhost_count_kicks(struct port_vhost *pv)
{
    for (unsigned q = 0; q < pv->up.n_queues; q++) {
        struct stats_queue *sq = &pv->up.stats->queues[q];
        const struct vhu_vring *txr = &pv->dev.vrings[VHU_TXQ(q)];
        const struct vhu_vring *rxr = &pv->dev.vrings[VHU_RXQ(q)];
        if (txr->started && txr->kick_fd >= 0) {
            WRITE_ONCE(sq->rx.kicks, sq->rx.kicks + drain_kicks(txr->kick_fd));
        }
        if (rxr->started && rxr->kick_fd >= 0) {
            WRITE_ONCE(sq->tx.kicks, sq->tx.kicks + drain_kicks(rxr->kick_fd));
        }
    }
}

static void
vhost_tick(struct port *port)
{
    struct port_vhost *pv = port_vhost_cast(port);
    vhost_count_kicks(pv);
    uint32_t broken = READ_ONCE(port->broken);
    if (broken || gmem_faults(&pv->dev.mem)) {
        /* VQ_BROKEN: what the ring says cannot be followed any more. */
        vhost_drop_connection(pv, broken - 1 != VQ_BROKEN
                                  ? "guest ring corrupt"
                                  : vhu_dev_packed(&pv->dev)
                                  ? "guest ring corrupt (a chain with no end)"
                                  : "guest ring corrupt (index out of range)");
    }
    if (pv->client && !vhu_dev_is_connected(&pv->dev)
        && now_ms() >= pv->next_connect_ms) {
        vhost_try_connect(pv);
    }
}

static void
vhost_destroy(struct port *port)
{
    struct port_vhost *pv = port_vhost_cast(port);
    if (vhu_dev_is_connected(&pv->dev)) {
        port->env->unwatch(port->env, &pv->conn_watch);
    }
    vhu_dev_destroy(&pv->dev);
    if (pv->listen_fd >= 0) {
        port->env->unwatch(port->env, &pv->listen_watch);
        close(pv->listen_fd);
        unlink(pv->path);
    }
    free(pv);
}

/* ---- Control: state for workers and users ------------------------------ */

static void
vhost_queue_state(const struct port *port, unsigned qid, bool *rx_live,
                  bool *rx_discard, bool *tx_live)
{
    const struct port_vhost *pv = port_vhost_cast(port);
    const struct vhu_dev *dev = &pv->dev;
    bool ok = !READ_ONCE(port->broken);
    const struct vhu_vring *txr = &dev->vrings[VHU_TXQ(qid)];
    *rx_live = ok && vhu_vring_is_live(dev, VHU_TXQ(qid)) && txr->was_enabled;
    *rx_discard = !txr->enabled;
    *tx_live = ok && vhu_vring_is_live(dev, VHU_RXQ(qid))
               && dev->vrings[VHU_RXQ(qid)].enabled;
}

static const char *
vhost_state(const struct port_vhost *pv)
{
    const struct vhu_dev *dev = &pv->dev;
    if (!vhu_dev_is_connected(dev)) {
        if (dev->broken[0]) {
            return NULL;                /* "broken: REASON" */
        }
        return pv->client ? "down" : "listening";
    }
    for (unsigned q = 0; q < pv->up.n_queues; q++) {
        bool rx, discard, tx;
        vhost_queue_state(&pv->up, q, &rx, &discard, &tx);
        if (rx && tx) {
            return "up";
        }
    }
    return "connected";
}

static void
vhost_describe(const struct port *port, struct stats_port_info *info)
{
    const struct port_vhost *pv = port_vhost_cast(port);
    const struct vhu_dev *dev = &pv->dev;
    const char *state = vhost_state(pv);
    if (state) {
        snprintf(info->state, sizeof info->state, "%s", state);
    } else {
        snprintf(info->state, sizeof info->state, "broken: %.80s", dev->broken);
    }
    snprintf(info->path, sizeof info->path, "%s", pv->path);
    info->features = dev->features;
    info->protocol_features = dev->protocol_features;
    info->n_active_queues = vhu_dev_active_queue_pairs(dev);
    info->mtu = port->max_frame - 18;
    info->n_regions = dev->mem.n_regions;
    info->mem_size = gmem_total_size(&dev->mem);
    for (unsigned q = 0; q < port->n_queues && q < STATS_MAX_QUEUES; q++) {
        info->rx_ring_size[q] = dev->vrings[VHU_TXQ(q)].size;
        info->tx_ring_size[q] = dev->vrings[VHU_RXQ(q)].size;
    }
}

static int
vhost_mem_node(const struct port *port)
{
    return topo_node_of_gmem(&port_vhost_cast(port)->dev.mem);
}

const struct port_class port_vhost_class = {
    .type = "vhost",
    .rx_burst = vhost_rx_burst,
    .rx_release = vhost_rx_release,
    .tx_burst = vhost_tx_burst,
    .start = vhost_start,
    .destroy = vhost_destroy,
    .describe = vhost_describe,
    .queue_state = vhost_queue_state,
    .tick = vhost_tick,
    .mem_node = vhost_mem_node,
};

struct port *
port_vhost_create(const struct port_spec *spec, char *err, size_t err_size)
{
    struct port_vhost *pv = calloc(1, sizeof *pv);
    if (!pv) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    pv->up.class = &port_vhost_class;
    pv->up.n_queues = spec->n_queues;
    snprintf(pv->path, sizeof pv->path, "%s", spec->path);
    pv->client = spec->client;
    pv->listen_fd = -1;
    vhu_dev_init(&pv->dev, pv->up.name, spec->n_queues, &vhost_dev_ops,
                 &pv->up);
    if (spec->no_packed) {
        vhu_dev_withhold(&pv->dev, VHU_F_RING_PACKED);
    }
    return &pv->up;
}
