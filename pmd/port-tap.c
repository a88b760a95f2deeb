/* port-tap.c -- the TAP port: the host's kernel network stack as a port.
 *
 * Control side (control thread): start() opens /dev/net/tun and binds it to
 * IFNAME with TUNSETIFF (IFF_TAP | IFF_NO_PI), which creates the interface
 * or attaches to an existing persistent one, sets its MTU and brings it up.
 * The tick re-reads the link state (a TAP the administrator set down gets
 * no frames from us: its queue stops being live and frames for it are
 * counted as port_down; one moved to another network namespace counts as
 * up, see tap_refresh_link) and the kernel's count of frames it dropped
 * because we read too slowly.  destroy() closes the fd; the kernel then
 * removes a TAP that is not persistent.
 *
 * Datapath (the worker that owns queue 0; one queue pair): io_uring, so that
 * a worker never blocks in read() and never makes a syscall per frame.
 *
 *   bufs: TAP_RX_BUFS receive buffers, then TAP_TX_BUFS transmit buffers,
 *         TAP_BUF_SIZE bytes each, registered once (READ_FIXED/WRITE_FIXED)
 *
 *      rx buffer life:  armed (READ_FIXED in flight on the tap fd)
 *                         -> completed (a CQE, moved to 'ready')
 *                         -> lent to the switch (rx_burst .. rx_release)
 *                         -> 'rearm' -> armed again, one submit per burst
 *      tx buffer life:  free -> WRITE_FIXED in flight -> CQE -> free
 *
 * Every CQE is reaped by reap(), called from both rx_burst and tx_burst:
 * with one ring for both directions a burst may find either kind, so
 * completed reads wait in 'ready' (a FIFO, at most TAP_RX_BUFS long since
 * that many reads exist) until rx_burst hands them out.  Peeking the CQ is
 * a memory read: no syscall when nothing completed.
 *
 * Reads are first armed by the worker's first rx_burst, not by start(): an
 * io_uring request belongs to the task that submitted it, and the kernel
 * finishes a read that had to wait for a frame with task work on that task.
 * The ring is set up with COOP_TASKRUN | TASKRUN_FLAG so that this work
 * does not interrupt a busy-polling worker with an IPI: the kernel raises
 * IORING_SQ_TASKRUN instead, and io_uring_peek_batch_cqe() enters the kernel
 * (once) only when that flag is up and the CQ is empty.
 *
 * The tap fd is O_NONBLOCK: io_uring then tries each read without blocking
 * and, when no frame is queued, arms a poll instead of parking a kernel
 * worker thread per pending read. */
#include <config.h>
#include "port-tap.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define TAP_RX_BUFS 128             /* reads kept in flight */
#define TAP_TX_BUFS 128             /* writes in flight at most */
#define TAP_N_BUFS (TAP_RX_BUFS + TAP_TX_BUFS)
#define TAP_BUF_SIZE 10240          /* > VU_MAX_MTU + Ethernet + VLAN */
#define TAP_RING_SIZE 256           /* SQ entries; the CQ gets twice that */
#define TAP_REAP_BATCH 64
#define TAP_CANCEL_TAG UINT64_MAX   /* user_data of destroy()'s cancel */

struct tap_done {                   /* a completed read */
    uint16_t buf;
    int32_t res;                    /* bytes read */
};

struct port_tap {
    struct port up;
    char ifname[IFNAMSIZ];
    unsigned mtu;

    /* Control thread only. */
    int fd;                         /* /dev/net/tun, -1 until started */
    int sock;                       /* AF_INET datagram socket for ioctls */
    bool link_up;                   /* IFF_UP and IFF_RUNNING, last seen */
    bool out_of_sight;              /* not in our network namespace now */
    bool read_error_logged;
    uint64_t kernel_drops_base;     /* the kernel's tx_dropped at start */

    /* Written by the control thread (tick), read by the worker. */
    uint64_t kernel_drops __cacheline_aligned;

    /* Written by the worker, read by the control thread. */
    int read_error __cacheline_aligned; /* errno of a failed read, 0 */

    /* The worker's own (set up by start() before any worker sees it). */
    struct io_uring ring __cacheline_aligned;
    uint8_t *bufs;                  /* TAP_N_BUFS * TAP_BUF_SIZE, mmap */
    bool armed;                     /* first reads submitted */
    unsigned n_reads;               /* reads in flight */
    uint64_t kernel_drops_seen;
    unsigned n_tx_free;
    uint16_t tx_free[TAP_TX_BUFS];  /* stack of free tx buffer indexes */
    unsigned n_rearm;
    uint16_t rearm[TAP_RX_BUFS];    /* rx buffers waiting to be re-armed */
    unsigned ready_head, ready_tail;    /* FIFO of completed reads */
    struct tap_done ready[TAP_RX_BUFS];
};

static struct port_tap *
port_tap_cast(const struct port *port)
{
    return CONTAINER_OF(port, struct port_tap, up);
}

static uint8_t *
tap_buf(const struct port_tap *pt, unsigned idx)
{
    return pt->bufs + (size_t) idx * TAP_BUF_SIZE;
}

/* ---- Datapath ---------------------------------------------------------- */

/* Files one completed read.  Errors that a retry cures re-arm the buffer;
 * anything else (the interface was deleted under us) leaves it idle and
 * marks the port broken: the tick reports it, and re-arming a read that
 * fails at once would only spin. */
static void
tap_read_done(struct port_tap *pt, uint16_t idx, int32_t res)
{
    pt->n_reads--;
    if (likely(res >= 0)) {
        struct tap_done *d = &pt->ready[pt->ready_tail++ % TAP_RX_BUFS];
        d->buf = idx;
        d->res = res;
    } else if (res == -EAGAIN || res == -EINTR || res == -ENOBUFS) {
        pt->rearm[pt->n_rearm++] = idx;
    } else if (res != -ECANCELED) {
        WRITE_ONCE(pt->read_error, -res);
        port_mark_broken(&pt->up, VQ_BROKEN);
    }
}

static void
tap_write_done(struct port_tap *pt, uint16_t idx, int32_t res)
{
    if (unlikely(res < 0)) {
        /* Already counted as delivered: all we can do is say so. */
        VLOG_RL(VLL_WARN, "port %s: write to %s failed: %s", pt->up.name,
                pt->ifname, strerror(-res));
    }
    pt->tx_free[pt->n_tx_free++] = idx;
}

/* Takes every completion the kernel posted.  No syscall unless the kernel
 * asked for one (IORING_SQ_TASKRUN with an empty CQ). */
static void
tap_reap(struct port_tap *pt)
{
    struct io_uring_cqe *cqes[TAP_REAP_BATCH];
    unsigned n;
    do {
        n = io_uring_peek_batch_cqe(&pt->ring, cqes, TAP_REAP_BATCH);
        for (unsigned i = 0; i < n; i++) {
            uint64_t idx = io_uring_cqe_get_data64(cqes[i]);
            if (idx < TAP_RX_BUFS) {
                tap_read_done(pt, (uint16_t) idx, cqes[i]->res);
            } else if (idx < TAP_N_BUFS) {
                tap_write_done(pt, (uint16_t) idx, cqes[i]->res);
            }
        }
        io_uring_cq_advance(&pt->ring, n);
    } while (n == TAP_REAP_BATCH);
}

/* Queues a read for each buffer in 'rearm' that the SQ has room for (the
 * rest stay listed for the next burst).  Returns the number queued. */
static unsigned
tap_arm(struct port_tap *pt)
{
    unsigned i;
    for (i = 0; i < pt->n_rearm; i++) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&pt->ring);
        if (unlikely(!sqe)) {
            break;
        }
        uint16_t idx = pt->rearm[i];
        io_uring_prep_read_fixed(sqe, pt->fd, tap_buf(pt, idx), TAP_BUF_SIZE,
                                 0, idx);
        io_uring_sqe_set_data64(sqe, idx);
    }
    pt->n_rearm -= i;
    pt->n_reads += i;
    memmove(pt->rearm, pt->rearm + i, pt->n_rearm * sizeof pt->rearm[0]);
    return i;
}

/* One io_uring_enter for everything queued in this burst; never waits.  A
 * failed submit leaves the entries in the SQ: the next submit retries. */
static void
tap_submit(struct port_tap *pt)
{
    int r = io_uring_submit(&pt->ring);
    if (unlikely(r < 0 && r != -EAGAIN && r != -EBUSY && r != -EINTR)) {
        VLOG_RL(VLL_WARN, "port %s: io_uring_submit: %s", pt->up.name,
                strerror(-r));
    }
}

static void
tap_arm_all(struct port_tap *pt)
{
    for (unsigned i = 0; i < TAP_RX_BUFS; i++) {
        pt->rearm[i] = (uint16_t) i;
    }
    pt->n_rearm = TAP_RX_BUFS;
    pt->armed = true;
}

static void
pkt_from_read(struct pkt *pkt, struct vq_seg *seg, uint8_t *buf,
              const struct tap_done *d)
{
    pkt->cookie = d->buf;
    pkt->len = (uint32_t) d->res;
    pkt->segs = seg;
    seg->addr = buf;
    seg->len = pkt->len;
    if (unlikely(pkt->len < 14)) {
        pkt->drop = PKT_DROP(DROP_HEADER_TOO_SHORT);
        pkt->n_segs = 0;
        return;
    }
    pkt->drop = 0;
    pkt->n_segs = 1;
    memcpy(pkt->addrs, buf, PORT_ETH_ADDRS);
}

static unsigned
tap_rx_burst(struct port *port, unsigned qid, struct pkt *pkts, unsigned n,
             struct vq_seg *pool)
{
    struct port_tap *pt = port_tap_cast(port);
    if (unlikely(!pt->armed)) {
        tap_arm_all(pt);
    }
    tap_reap(pt);
    if (unlikely(pt->n_rearm) && tap_arm(pt)) {
        tap_submit(pt);
    }

    unsigned i;
    n = MIN(n, PORT_SEG_POOL);
    for (i = 0; i < n && pt->ready_head != pt->ready_tail; i++) {
        const struct tap_done *d = &pt->ready[pt->ready_head++ % TAP_RX_BUFS];
        pkt_from_read(&pkts[i], &pool[i], tap_buf(pt, d->buf), d);
    }
    return i;
}

/* Frames the kernel dropped because we did not read fast enough: received
 * by the port and dropped, so that rx = forwarded + drops still holds. */
static void
tap_count_kernel_drops(struct port_tap *pt, struct stats_dir *dir)
{
    uint64_t drops = READ_ONCE(pt->kernel_drops);
    if (unlikely(drops != pt->kernel_drops_seen)) {
        uint64_t delta = drops - pt->kernel_drops_seen;
        pt->kernel_drops_seen = drops;
        WRITE_ONCE(dir->packets, dir->packets + delta);
        WRITE_ONCE(dir->drops[DROP_SINK_FULL],
                   dir->drops[DROP_SINK_FULL] + delta);
    }
}

static void
tap_rx_release(struct port *port, unsigned qid, struct pkt *pkts, unsigned n,
               struct stats_dir *dir)
{
    struct port_tap *pt = port_tap_cast(port);
    for (unsigned i = 0; i < n; i++) {
        pt->rearm[pt->n_rearm++] = (uint16_t) pkts[i].cookie;
    }
    if (tap_arm(pt)) {
        tap_submit(pt);
    }
    tap_count_kernel_drops(pt, dir);
}

/* Copies one frame into a free tx buffer and queues its write. */
static uint16_t
tap_queue_write(struct port_tap *pt, const struct pkt *pkt)
{
    if (unlikely(pkt->len > pt->up.max_frame)) {
        return PKT_DROP(DROP_MTU_EXCEEDED);
    }
    if (unlikely(!pt->n_tx_free)) {
        return PKT_DROP(DROP_SINK_FULL);
    }
    struct io_uring_sqe *sqe = io_uring_get_sqe(&pt->ring);
    if (unlikely(!sqe)) {
        return PKT_DROP(DROP_SINK_FULL);
    }
    uint16_t idx = pt->tx_free[--pt->n_tx_free];
    uint8_t *buf = tap_buf(pt, idx);
    vq_segs_copy_out(pkt->segs, pkt->n_segs, 0, buf, pkt->len);
    io_uring_prep_write_fixed(sqe, pt->fd, buf, pkt->len, 0, idx);
    io_uring_sqe_set_data64(sqe, idx);
    return 0;
}

static void
tap_tx_burst(struct port *port, unsigned qid, struct pkt *const *pkts,
             unsigned n, uint16_t *results, struct stats_dir *dir)
{
    struct port_tap *pt = port_tap_cast(port);
    tap_reap(pt);

    bool queued = false;
    for (unsigned i = 0; i < n; i++) {
        results[i] = tap_queue_write(pt, pkts[i]);
        queued |= !results[i];
    }
    if (queued) {
        tap_submit(pt);
    }
}

/* ---- Control: the interface -------------------------------------------- */

static int
tap_ifreq(struct port_tap *pt, unsigned long req, struct ifreq *ifr)
{
    snprintf(ifr->ifr_name, sizeof ifr->ifr_name, "%s", pt->ifname);
    return ioctl(pt->sock, req, ifr) < 0 ? -errno : 0;
}

/* Creates the interface or attaches to a persistent one. */
static int
tap_open(struct port_tap *pt, char *err, size_t err_size)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int r = -errno;
        snprintf(err, err_size, "port %s: /dev/net/tun: %s", pt->up.name,
                 strerror(-r));
        return r;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", pt->ifname);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int r = -errno;
        snprintf(err, err_size, "port %s: cannot create or attach TAP %s: %s%s",
                 pt->up.name, pt->ifname, strerror(-r),
                 r == -EINVAL ? " (not a TAP, or a multi-queue one?)"
                 : r == -EBUSY ? " (another process has it open)" : "");
        close(fd);
        return r;
    }
    pt->fd = fd;
    return 0;
}

/* Sets the MTU and IFF_UP. */
static int
tap_configure(struct port_tap *pt, char *err, size_t err_size)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_mtu = (int) pt->mtu;
    int r = tap_ifreq(pt, SIOCSIFMTU, &ifr);
    const char *what = "set MTU of";
    if (!r) {
        what = "bring up";
        r = tap_ifreq(pt, SIOCGIFFLAGS, &ifr);
    }
    if (!r && !(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        r = tap_ifreq(pt, SIOCSIFFLAGS, &ifr);
    }
    if (r) {
        snprintf(err, err_size, "port %s: cannot %s %s: %s", pt->up.name,
                 what, pt->ifname, strerror(-r));
    }
    return r;
}

/* The kernel's count of frames it could not queue to us (tx_dropped of the
 * interface, /proc/net/dev of our network namespace), or 0. */
static uint64_t
tap_read_kernel_drops(const struct port_tap *pt)
{
    FILE *f = fopen("/proc/thread-self/net/dev", "re");
    if (!f) {
        return 0;
    }
    char line[512];
    uint64_t drops = 0;
    size_t len = strlen(pt->ifname);
    while (fgets(line, sizeof line, f)) {
        const char *p = line + strspn(line, " ");
        if (!strncmp(p, pt->ifname, len) && p[len] == ':') {
            unsigned long long v[12];
            if (sscanf(p + len + 1, "%llu %llu %llu %llu %llu %llu %llu %llu "
                       "%llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                       &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
                       &v[11]) == 12) {
                drops = v[11];
            }
            break;
        }
    }
    fclose(f);
    return drops;
}

/* Re-reads IFF_UP / IFF_RUNNING.  Returns true if the state changed.
 *
 * An interface we cannot see any more was moved to another network
 * namespace (or deleted: then the reads fail and the port breaks).  A
 * moved TAP keeps working through our fd, and whoever moved it most likely
 * means to use it there, so its link counts as up from then on: we cannot
 * read its state, and a last sample taken during the move (which sets the
 * interface down before it leaves) would otherwise keep it "down" forever.
 * What a TAP that is really down cannot take, the kernel drops. */
static bool
tap_refresh_link(struct port_tap *pt)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    int r = tap_ifreq(pt, SIOCGIFFLAGS, &ifr);
    bool up, out_of_sight = r != 0;
    if (out_of_sight) {
        if (!pt->out_of_sight) {
            VLOG_INFO("port %s: %s: %s; moved to another network namespace? "
                      "Its link state is unknown from now on: frames are "
                      "sent to it as if it were up", pt->up.name, pt->ifname,
                      strerror(-r));
        }
        up = true;
    } else {
        up = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
    }
    bool changed = up != pt->link_up || out_of_sight != pt->out_of_sight;
    pt->link_up = up;
    pt->out_of_sight = out_of_sight;
    return changed;
}

/* ---- Control: the port interface --------------------------------------- */

static int
tap_setup_ring(struct port_tap *pt, char *err, size_t err_size)
{
    size_t size = (size_t) TAP_N_BUFS * TAP_BUF_SIZE;
    void *bufs = mmap(NULL, size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (bufs == MAP_FAILED) {
        int r = -errno;
        snprintf(err, err_size, "port %s: buffers: %s", pt->up.name,
                 strerror(-r));
        return r;
    }

    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
    int r = io_uring_queue_init_params(TAP_RING_SIZE, &pt->ring, &p);
    if (r == -EINVAL) {             /* kernel older than 5.19 */
        memset(&p, 0, sizeof p);
        r = io_uring_queue_init_params(TAP_RING_SIZE, &pt->ring, &p);
    }
    const char *what = "io_uring_queue_init";
    if (r) {
        goto out_unmap;
    }

    struct iovec iovs[TAP_N_BUFS];
    for (unsigned i = 0; i < TAP_N_BUFS; i++) {
        iovs[i].iov_base = (uint8_t *) bufs + (size_t) i * TAP_BUF_SIZE;
        iovs[i].iov_len = TAP_BUF_SIZE;
    }
    r = io_uring_register_buffers(&pt->ring, iovs, TAP_N_BUFS);
    what = "io_uring_register_buffers";
    if (r) {
        goto out_exit;
    }
    pt->bufs = bufs;
    return 0;

out_exit:
    io_uring_queue_exit(&pt->ring);
out_unmap:
    munmap(bufs, size);
    snprintf(err, err_size, "port %s: %s: %s", pt->up.name, what,
             strerror(-r));
    return r;
}

/* Control thread, no worker on the port: cancels the requests in flight
 * and waits for their completions.  Each holds a reference to the tun
 * file, and as long as one does, the kernel keeps the TAP attached: a port
 * re-added right away under the same name would find it busy. */
static void
tap_cancel_all(struct port_tap *pt)
{
    unsigned pending = pt->n_reads + (TAP_TX_BUFS - pt->n_tx_free);
    struct io_uring_sqe *sqe = io_uring_get_sqe(&pt->ring);
    if (!pending || !sqe) {
        return;
    }
    io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY
                                   | IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data64(sqe, TAP_CANCEL_TAG);
    io_uring_submit(&pt->ring);

    /* A read waiting for a frame completes through task work of the
     * worker that armed it: bounded wait, in case that worker is gone. */
    while (pending) {
        struct io_uring_cqe *cqe;
        struct __kernel_timespec ts = { .tv_sec = 1 };
        if (io_uring_wait_cqe_timeout(&pt->ring, &cqe, &ts)) {
            VLOG_WARN("port %s: %u requests on %s still in flight",
                      pt->up.name, pending, pt->ifname);
            break;
        }
        pending -= io_uring_cqe_get_data64(cqe) < TAP_N_BUFS;
        io_uring_cqe_seen(&pt->ring, cqe);
    }
}

static void
tap_undo_setup_ring(struct port_tap *pt)
{
    if (pt->bufs) {
        tap_cancel_all(pt);
        io_uring_queue_exit(&pt->ring);     /* cancels reads in flight */
        munmap(pt->bufs, (size_t) TAP_N_BUFS * TAP_BUF_SIZE);
        pt->bufs = NULL;
    }
}

static void
tap_reset_datapath(struct port_tap *pt)
{
    pt->armed = false;
    pt->n_reads = 0;
    pt->n_rearm = 0;
    pt->ready_head = pt->ready_tail = 0;
    pt->n_tx_free = TAP_TX_BUFS;
    for (unsigned i = 0; i < TAP_TX_BUFS; i++) {
        pt->tx_free[i] = (uint16_t) (TAP_RX_BUFS + i);
    }
    pt->kernel_drops = pt->kernel_drops_seen = 0;
}

static int
tap_start(struct port *port, char *err, size_t err_size)
{
    struct port_tap *pt = port_tap_cast(port);
    if (!pt->ifname[0]) {
        snprintf(err, err_size, "port %s: interface name empty or longer "
                 "than %d bytes", port->name, IFNAMSIZ - 1);
        return -EINVAL;
    }
    int r;
    pt->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (pt->sock < 0) {
        r = -errno;
        snprintf(err, err_size, "port %s: socket: %s", port->name,
                 strerror(-r));
        return r;
    }
    r = tap_open(pt, err, err_size);
    if (r) {
        goto out_sock;
    }
    r = tap_configure(pt, err, err_size);
    if (!r) {
        r = tap_setup_ring(pt, err, err_size);
    }
    if (r) {
        goto out_fd;
    }
    tap_reset_datapath(pt);
    tap_refresh_link(pt);
    pt->kernel_drops_base = tap_read_kernel_drops(pt);
    VLOG_INFO("port %s: TAP %s, mtu %u", port->name, pt->ifname, pt->mtu);
    return 0;

out_fd:
    close(pt->fd);
    pt->fd = -1;
out_sock:
    close(pt->sock);
    pt->sock = -1;
    return r;
}

static void
tap_destroy(struct port *port)
{
    if (!port) {
        return;
    }
    struct port_tap *pt = port_tap_cast(port);
    tap_undo_setup_ring(pt);
    if (pt->fd >= 0) {
        close(pt->fd);
    }
    if (pt->sock >= 0) {
        close(pt->sock);
    }
    free(pt);
}

static void
tap_tick(struct port *port)
{
    struct port_tap *pt = port_tap_cast(port);
    if (pt->fd < 0) {
        return;
    }
    bool changed = tap_refresh_link(pt);
    if (changed) {
        VLOG_INFO("port %s: %s is %s", port->name, pt->ifname,
                  pt->link_up ? "up" : "down");
    }
    int read_error = READ_ONCE(pt->read_error);
    if (read_error && !pt->read_error_logged) {
        VLOG_ERR("port %s: reading %s failed: %s; port stopped",
                 port->name, pt->ifname, strerror(read_error));
        pt->read_error_logged = true;
        changed = true;
    }
    uint64_t drops = tap_read_kernel_drops(pt);
    if (drops > pt->kernel_drops_base) {
        WRITE_ONCE(pt->kernel_drops, drops - pt->kernel_drops_base);
    }
    if (changed) {
        port->env->changed(port->env, port);
    }
}

static void
tap_queue_state(const struct port *port, unsigned qid, bool *rx_live,
                bool *rx_discard, bool *tx_live)
{
    const struct port_tap *pt = port_tap_cast(port);
    bool ok = pt->fd >= 0 && !READ_ONCE(port->broken);
    *rx_live = ok;
    *rx_discard = false;
    *tx_live = ok && pt->link_up;
}

static void
tap_describe(const struct port *port, struct stats_port_info *info)
{
    const struct port_tap *pt = port_tap_cast(port);
    int read_error = READ_ONCE(pt->read_error);
    if (read_error) {
        snprintf(info->state, sizeof info->state, "broken: read: %s",
                 strerror(read_error));
    } else {
        snprintf(info->state, sizeof info->state, "%s",
                 pt->fd < 0 ? "down" : pt->out_of_sight ? "up (other netns)"
                 : pt->link_up ? "up" : "down");
    }
    snprintf(info->path, sizeof info->path, "%s", pt->ifname);
    info->mtu = pt->mtu;
    info->n_active_queues = pt->fd >= 0 ? 1 : 0;
    info->rx_ring_size[0] = TAP_RX_BUFS;
    info->tx_ring_size[0] = TAP_TX_BUFS;
}

const struct port_class port_tap_class = {
    .type = "tap",
    .rx_burst = tap_rx_burst,
    .rx_release = tap_rx_release,
    .tx_burst = tap_tx_burst,
    .start = tap_start,
    .destroy = tap_destroy,
    .describe = tap_describe,
    .queue_state = tap_queue_state,
    .tick = tap_tick,
};

struct port *
port_tap_create(const struct port_spec *spec, char *err, size_t err_size)
{
    /* Aligned: its worker and control fields sit on separate lines. */
    struct port_tap *pt = aligned_alloc(CACHE_LINE_SIZE, sizeof *pt);
    if (!pt) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    memset(pt, 0, sizeof *pt);
    pt->up.class = &port_tap_class;
    pt->up.n_queues = 1;
    size_t len = strnlen(spec->path, sizeof spec->path);
    if (len < IFNAMSIZ) {           /* else start() reports it */
        memcpy(pt->ifname, spec->path, len);
    }
    pt->mtu = spec->mtu;
    pt->fd = -1;
    pt->sock = -1;
    return &pt->up;
}
