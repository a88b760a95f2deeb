/* test-port-tap.c -- the TAP port behind the port interface, against the
 * real kernel: frames the kernel sends arrive through rx_burst, frames
 * given to tx_burst reach the kernel, the host resolves and reaches an
 * address "behind the switch", tx buffers running out and the kernel
 * dropping what we read too slowly are counted, link state, persistent
 * TAPs, clear errors.
 *
 * Needs root, /dev/net/tun and iproute2 (`ip`); exits 77 without them.
 * Everything happens in a network namespace of its own (vutest-tap),
 * created and deleted here: no interface or address touches the host's. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cunit.h"
#include "port-tap.h"
#include "port.h"

#define NETNS "vutest-tap"         /* and NETNS "2" */
#define IFNAME "vutst0"
#define ETH_TEST 0x88b5             /* IEEE "local experimental" */

/* ---- A tiny fake of what the control thread offers ports --------------- */

static void env_watch(struct port_env *e, struct port_watch *w) {}
static void env_unwatch(struct port_env *e, struct port_watch *w) {}
static void env_quiesce(struct port_env *e, struct port *p) {}
static unsigned n_changed;
static void env_changed(struct port_env *e, struct port *p) { n_changed++; }
static void env_learn(struct port_env *e, struct port *p,
                      const uint8_t mac[6]) {}

static struct port_env env = {
    env_watch, env_unwatch, env_quiesce, env_changed, env_learn,
};
static struct stats_port stats;
static struct vq_seg pool[PORT_SEG_POOL];

/* Creates a TAP port with port_create(), not started. */
static struct port *
make_port(const char *ifname)
{
    struct port_spec spec = { .type = PORT_TAP, .n_queues = 1, .mtu = 1500 };
    snprintf(spec.name, sizeof spec.name, "host");
    snprintf(spec.path, sizeof spec.path, "%s", ifname);
    char err[256];
    struct port *port = NULL;
    memset(&stats, 0, sizeof stats);
    CU_ASSERT_EQUAL_FATAL(port_create(&spec, 2, &env, &stats, &port, err,
                                      sizeof err), 0);
    return port;
}

static struct port *
start_port(const char *ifname)
{
    struct port *port = make_port(ifname);
    char err[256] = "";
    int r = port->class->start(port, err, sizeof err);
    if (r) {
        fprintf(stderr, "start: %s\n", err);
    }
    CU_ASSERT_EQUAL_FATAL(r, 0);
    return port;
}

static double
now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
run(const char *cmd)
{
    int r = system(cmd);
    if (r != 0) {
        fprintf(stderr, "'%s' failed (%d)\n", cmd, r);
    }
    return r;
}

/* ---- Frames and the kernel side ---------------------------------------- */

static const uint8_t guest_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

static void
build_frame(uint8_t *f, uint32_t len, uint32_t seq)
{
    memset(f, 0xff, 6);
    memcpy(f + 6, guest_mac, 6);
    f[12] = ETH_TEST >> 8;
    f[13] = ETH_TEST & 0xff;
    for (uint32_t i = 14; i < len; i++) {
        f[i] = (uint8_t) (seq + i);
    }
    memcpy(f + 14, &seq, 4);
}

/* An AF_PACKET socket on the interface: what it sends, the kernel gives to
 * the TAP (our rx); it sees what we write to the TAP (our tx). */
static int
packet_socket(const char *ifname)
{
    int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    CU_ASSERT_FATAL(s >= 0);
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_protocol = htons(ETH_P_ALL),
        .sll_ifindex = (int) if_nametoindex(ifname),
    };
    CU_ASSERT_FATAL(bind(s, (struct sockaddr *) &sll, sizeof sll) == 0);
    int one = 1;        /* straight to the driver: no qdisc in between */
    setsockopt(s, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
    return s;
}

/* Receives frames of 'type' (not our own outgoing ones) for up to 'ms'. */
static int
packet_recv(int s, uint16_t type, uint8_t *buf, size_t size, int ms)
{
    double end = now_sec() + ms / 1000.0;
    while (now_sec() < end) {
        struct pollfd pfd = { .fd = s, .events = POLLIN };
        if (poll(&pfd, 1, 10) <= 0) {
            continue;
        }
        struct sockaddr_ll from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(s, buf, size, 0, (struct sockaddr *) &from,
                             &fromlen);
        if (n >= 14 && from.sll_pkttype != PACKET_OUTGOING
            && buf[12] == type >> 8 && buf[13] == (type & 0xff)) {
            return (int) n;
        }
    }
    return -1;
}

/* ---- Polling the port like a worker ------------------------------------ */

struct rxed {
    unsigned n_total;               /* every frame rx_burst returned */
    unsigned n_bad;                 /* returned with 'drop' set */
    unsigned n;                     /* frames of the wanted type */
    uint32_t len[64];
    uint8_t data[64][1600];
};

/* Polls rx_burst until 'want' frames of ethertype 'type' came, or none at
 * all came for 'idle_ms'.  Counts received frames into 'dir' like the
 * worker does, and releases every burst. */
static void
rx_poll(struct port *port, uint16_t type, unsigned want, int idle_ms,
        struct rxed *r, struct stats_dir *dir)
{
    struct pkt pkts[PORT_BURST];
    double last = now_sec();
    memset(r, 0, sizeof *r);
    while (r->n < want && now_sec() - last < idle_ms / 1000.0) {
        unsigned n = port->class->rx_burst(port, 0, pkts, PORT_BURST, pool);
        if (!n) {
            usleep(200);
            continue;
        }
        last = now_sec();
        WRITE_ONCE(dir->packets, dir->packets + n);
        for (unsigned i = 0; i < n; i++) {
            const struct pkt *p = &pkts[i];
            r->n_total++;
            if (p->drop) {
                r->n_bad++;
                continue;
            }
            CU_ASSERT_EQUAL(p->n_segs, 1);
            CU_ASSERT(!memcmp(p->addrs, p->segs[0].addr, PORT_ETH_ADDRS));
            const uint8_t *f = p->segs[0].addr;
            if (f[12] == type >> 8 && f[13] == (type & 0xff)) {
                if (r->n < 64) {
                    r->len[r->n] = p->len;
                    memcpy(r->data[r->n], f, MIN(p->len, 1600));
                }
                r->n++;
            }
        }
        port->class->rx_release(port, 0, pkts, n, dir);
    }
}

/* ---- Tests ------------------------------------------------------------- */

static void
test_start_describe_destroy(void)
{
    struct port *port = start_port(IFNAME);
    CU_ASSERT(if_nametoindex(IFNAME) != 0);

    struct stats_port_info info;
    memset(&info, 0, sizeof info);
    port->class->describe(port, &info);
    CU_ASSERT_STRING_EQUAL(info.state, "up");
    CU_ASSERT_STRING_EQUAL(info.path, IFNAME);
    CU_ASSERT_EQUAL(info.mtu, 1500);
    bool rx, discard, tx;
    port->class->queue_state(port, 0, &rx, &discard, &tx);
    CU_ASSERT(rx && !discard && tx);

    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, IFNAME);
    CU_ASSERT(ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu == 1500);
    close(s);

    port->class->destroy(port);
    CU_ASSERT_EQUAL(if_nametoindex(IFNAME), 0);  /* not persistent: gone */
}

static void
test_rx_frames_from_kernel(void)
{
    struct port *port = start_port(IFNAME);
    int s = packet_socket(IFNAME);
    static const uint32_t sizes[5] = { 60, 61, 500, 1514, 64 };
    uint8_t frames[5][1514];
    for (unsigned i = 0; i < 5; i++) {
        build_frame(frames[i], sizes[i], i);
        CU_ASSERT(send(s, frames[i], sizes[i], 0) == (ssize_t) sizes[i]);
    }
    static struct rxed r;
    rx_poll(port, ETH_TEST, 5, 2000, &r, &stats.queues[0].rx);
    CU_ASSERT_EQUAL_FATAL(r.n, 5);
    CU_ASSERT_EQUAL(r.n_bad, 0);
    for (unsigned i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(r.len[i], sizes[i]);
        CU_ASSERT(!memcmp(r.data[i], frames[i], sizes[i]));
    }
    close(s);
    port->class->destroy(port);
}

static void
test_tx_frames_to_kernel(void)
{
    struct port *port = start_port(IFNAME);
    int s = packet_socket(IFNAME);
    static uint8_t frames[4][1600];
    static const uint32_t sizes[4] = { 60, 333, 1518, 1519 };
    struct vq_seg segs[4][2];
    struct pkt pkt[4], *pkts[4];
    for (unsigned i = 0; i < 4; i++) {
        build_frame(frames[i], sizes[i], 100 + i);
        segs[i][0] = (struct vq_seg) { frames[i], 20 };
        segs[i][1] = (struct vq_seg) { frames[i] + 20, sizes[i] - 20 };
        pkt[i] = (struct pkt) { .segs = segs[i], .n_segs = 2,
                                .len = sizes[i] };
        pkts[i] = &pkt[i];
    }
    uint16_t results[4] = { 9, 9, 9, 9 };
    port->class->tx_burst(port, 0, pkts, 4, results, &stats.queues[0].tx);
    CU_ASSERT_EQUAL(results[0], 0);
    CU_ASSERT_EQUAL(results[1], 0);
    CU_ASSERT_EQUAL(results[2], 0);         /* 1500 + 18: fits */
    CU_ASSERT_EQUAL(results[3], PKT_DROP(DROP_MTU_EXCEEDED));

    uint8_t buf[2048];
    for (unsigned i = 0; i < 3; i++) {
        int n = packet_recv(s, ETH_TEST, buf, sizeof buf, 2000);
        CU_ASSERT_EQUAL_FATAL(n, (int) sizes[i]);
        CU_ASSERT(!memcmp(buf, frames[i], sizes[i]));
    }
    CU_ASSERT_EQUAL(packet_recv(s, ETH_TEST, buf, sizeof buf, 100), -1);
    close(s);
    port->class->destroy(port);
}

/* More frames in one burst than there are tx buffers: the rest is counted
 * as sink_full, and the buffers come back once the writes completed. */
static void
test_tx_sink_full(void)
{
    struct port *port = start_port(IFNAME);
    enum { N = 200 };
    static uint8_t frame[100];
    build_frame(frame, sizeof frame, 7);
    struct vq_seg seg = { frame, sizeof frame };
    struct pkt pkt = { .segs = &seg, .n_segs = 1, .len = sizeof frame };
    static struct pkt *pkts[N];
    static uint16_t results[N];
    for (unsigned i = 0; i < N; i++) {
        pkts[i] = &pkt;
    }
    port->class->tx_burst(port, 0, pkts, N, results, &stats.queues[0].tx);
    unsigned ok = 0, full = 0;
    for (unsigned i = 0; i < N; i++) {
        ok += results[i] == 0;
        full += results[i] == PKT_DROP(DROP_SINK_FULL);
    }
    CU_ASSERT(ok >= 64 && ok < N);
    CU_ASSERT_EQUAL(ok + full, N);

    usleep(50000);
    port->class->tx_burst(port, 0, pkts, 32, results, &stats.queues[0].tx);
    for (unsigned i = 0; i < 32; i++) {
        CU_ASSERT_EQUAL(results[i], 0);
    }
    port->class->destroy(port);
}

/* The kernel queues only so many frames for a TAP reader; beyond that it
 * drops them.  Those drops show up in the port's rx counters as sink_full,
 * so that every frame the kernel sent is accounted for. */
static void
test_rx_kernel_drops_counted(void)
{
    struct port *port = start_port(IFNAME);
    struct stats_dir *dir = &stats.queues[0].rx;
    struct pkt pkts[PORT_BURST];
    CU_ASSERT_EQUAL(port->class->rx_burst(port, 0, pkts, PORT_BURST, pool),
                    0);                     /* arms the reads */
    int s = packet_socket(IFNAME);
    enum { N = 3000 };
    uint8_t frame[200];
    unsigned refused = 0;           /* the driver said it dropped them */
    for (unsigned i = 0; i < N; i++) {
        build_frame(frame, sizeof frame, i);
        refused += send(s, frame, sizeof frame, 0) != sizeof frame;
    }
    port->class->tick(port);                /* reads the kernel's count */

    static struct rxed r;
    rx_poll(port, ETH_TEST, N, 300, &r, dir);
    uint64_t drops = dir->drops[DROP_SINK_FULL];
    printf("(%u read, %llu dropped by the kernel) ", r.n,
           (unsigned long long) drops);
    CU_ASSERT(drops > 0);
    CU_ASSERT(refused <= drops);
    CU_ASSERT_EQUAL(r.n_total, r.n);        /* nothing else on the wire */
    CU_ASSERT_EQUAL(r.n + drops, N);
    CU_ASSERT_EQUAL(dir->packets, N);       /* rx = forwarded + drops */
    close(s);
    port->class->destroy(port);
}

/* The host talks to an address behind the switch: its ARP request comes
 * out of rx_burst, our reply goes in through tx_burst, and then the
 * datagram the host had queued arrives addressed to the "guest". */
static void
test_host_reaches_guest(void)
{
    struct port *port = start_port(IFNAME);
    CU_ASSERT_FATAL(run("ip addr add 10.99.0.1/24 dev " IFNAME) == 0);
    int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
    inet_pton(AF_INET, "10.99.0.2", &to.sin_addr);
    CU_ASSERT(sendto(u, "hello", 5, 0, (struct sockaddr *) &to, sizeof to)
              == 5);

    static struct rxed r;
    rx_poll(port, ETHERTYPE_ARP, 1, 2000, &r, &stats.queues[0].rx);
    CU_ASSERT_EQUAL_FATAL(r.n, 1);
    const uint8_t *req = r.data[0];
    CU_ASSERT(!memcmp(req, "\xff\xff\xff\xff\xff\xff", 6));
    CU_ASSERT(!memcmp(req + 38, "\x0a\x63\x00\x02", 4));   /* who-has .2 */
    uint8_t host_mac[6];
    memcpy(host_mac, req + 6, 6);

    uint8_t reply[60] = { 0 };
    memcpy(reply, host_mac, 6);
    memcpy(reply + 6, guest_mac, 6);
    memcpy(reply + 12, "\x08\x06\x00\x01\x08\x00\x06\x04\x00\x02", 10);
    memcpy(reply + 22, guest_mac, 6);
    memcpy(reply + 28, "\x0a\x63\x00\x02", 4);
    memcpy(reply + 32, host_mac, 6);
    memcpy(reply + 38, "\x0a\x63\x00\x01", 4);
    struct vq_seg seg = { reply, sizeof reply };
    struct pkt pkt = { .segs = &seg, .n_segs = 1, .len = sizeof reply };
    struct pkt *pp = &pkt;
    uint16_t result = 9;
    port->class->tx_burst(port, 0, &pp, 1, &result, &stats.queues[0].tx);
    CU_ASSERT_EQUAL(result, 0);

    rx_poll(port, ETHERTYPE_IP, 1, 2000, &r, &stats.queues[0].rx);
    CU_ASSERT_EQUAL_FATAL(r.n, 1);
    const uint8_t *ip = r.data[0] + 14;
    CU_ASSERT(!memcmp(r.data[0], guest_mac, 6));
    CU_ASSERT_EQUAL(ip[9], 17);                             /* UDP */
    CU_ASSERT(!memcmp(ip + 16, "\x0a\x63\x00\x02", 4));
    CU_ASSERT(!memcmp(ip + 28, "hello", 5));
    close(u);
    port->class->destroy(port);
}

/* The administrator sets the TAP down: the tick notices, the port says so,
 * and its transmit side stops being live (frames for it: port_down). */
static void
test_link_state(void)
{
    struct port *port = start_port(IFNAME);
    struct stats_port_info info;
    bool rx, discard, tx;
    unsigned changes = n_changed;

    CU_ASSERT_FATAL(run("ip link set " IFNAME " down") == 0);
    port->class->tick(port);
    CU_ASSERT_EQUAL(n_changed, changes + 1);
    port->class->describe(port, &info);
    CU_ASSERT_STRING_EQUAL(info.state, "down");
    port->class->queue_state(port, 0, &rx, &discard, &tx);
    CU_ASSERT(rx && !tx);

    port->class->tick(port);                /* no change, no republish */
    CU_ASSERT_EQUAL(n_changed, changes + 1);

    CU_ASSERT_FATAL(run("ip link set " IFNAME " up") == 0);
    port->class->tick(port);
    CU_ASSERT_EQUAL(n_changed, changes + 2);
    port->class->describe(port, &info);
    CU_ASSERT_STRING_EQUAL(info.state, "up");
    port->class->queue_state(port, 0, &rx, &discard, &tx);
    CU_ASSERT(rx && tx);
    port->class->destroy(port);
}

/* A TAP moved to another network namespace keeps working through our fd,
 * but we cannot read its link state there: it counts as up (even when the
 * last sample before the move said down, as a sample taken during the move
 * does).  Back in our namespace, its real state counts again. */
static void
test_moved_to_other_netns(void)
{
    struct port *port = start_port(IFNAME);
    struct stats_port_info info;
    bool rx, discard, tx;
    unsigned changes = n_changed;

    CU_ASSERT_FATAL(run("ip link set " IFNAME " down") == 0);
    port->class->tick(port);
    CU_ASSERT_FATAL(run("ip netns del " NETNS "2 2>/dev/null; "
                        "ip netns add " NETNS "2 && "
                        "ip link set " IFNAME " netns " NETNS "2") == 0);
    port->class->tick(port);
    CU_ASSERT_EQUAL(n_changed, changes + 2);
    port->class->describe(port, &info);
    CU_ASSERT_STRING_EQUAL(info.state, "up (other netns)");
    port->class->queue_state(port, 0, &rx, &discard, &tx);
    CU_ASSERT(rx && tx);
    port->class->tick(port);                /* no change, no republish */
    CU_ASSERT_EQUAL(n_changed, changes + 2);

    CU_ASSERT(run("ip -n " NETNS "2 link set " IFNAME " netns " NETNS) == 0);
    port->class->tick(port);
    CU_ASSERT_EQUAL(n_changed, changes + 3);
    port->class->describe(port, &info);
    CU_ASSERT_STRING_EQUAL(info.state, "down");     /* a move sets it down */
    port->class->destroy(port);
    run("ip netns del " NETNS "2");
}

/* A persistent TAP made beforehand (ip tuntap add) is attached to, used,
 * and left in place by destroy. */
static void
test_persistent_tap(void)
{
    CU_ASSERT_FATAL(run("ip tuntap add dev vutst1 mode tap") == 0);
    struct port *port = start_port("vutst1");
    int s = packet_socket("vutst1");
    uint8_t frame[80];
    build_frame(frame, sizeof frame, 42);
    CU_ASSERT(send(s, frame, sizeof frame, 0) == sizeof frame);
    static struct rxed r;
    rx_poll(port, ETH_TEST, 1, 2000, &r, &stats.queues[0].rx);
    CU_ASSERT_EQUAL(r.n, 1);
    close(s);
    port->class->destroy(port);
    CU_ASSERT(if_nametoindex("vutst1") != 0);
    run("ip tuntap del dev vutst1 mode tap");
}

/* The interface is deleted under the port: its reads fail, the port says
 * it is broken and stops being live, and destroy still works. */
static void
test_interface_deleted(void)
{
    struct port *port = start_port(IFNAME);
    struct pkt pkts[PORT_BURST];
    port->class->rx_burst(port, 0, pkts, PORT_BURST, pool);   /* arm */
    CU_ASSERT_FATAL(run("ip link del " IFNAME) == 0);
    for (int i = 0; i < 100 && !READ_ONCE(port->broken); i++) {
        CU_ASSERT_EQUAL(port->class->rx_burst(port, 0, pkts, PORT_BURST,
                                              pool), 0);
        usleep(10000);
    }
    CU_ASSERT(READ_ONCE(port->broken) != 0);
    unsigned changes = n_changed;
    port->class->tick(port);
    CU_ASSERT(n_changed > changes);
    struct stats_port_info info;
    port->class->describe(port, &info);
    CU_ASSERT_EQUAL(strncmp(info.state, "broken: ", 8), 0);
    bool rx, discard, tx;
    port->class->queue_state(port, 0, &rx, &discard, &tx);
    CU_ASSERT(!rx && !tx);
    port->class->destroy(port);
}

static void
test_errors(void)
{
    char err[256] = "";
    struct port *port = make_port("lo");
    CU_ASSERT(port->class->start(port, err, sizeof err) < 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "port host: cannot create or attach "
                                       "TAP lo"));
    port->class->destroy(port);

    port = make_port("a-name-too-long-for-linux");
    CU_ASSERT_EQUAL(port->class->start(port, err, sizeof err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "interface name"));
    port->class->destroy(port);
    port_tap_class.destroy(NULL);
}

/* Threads of this process, kernel io_uring workers (iou-wrk-*) included. */
static unsigned
count_threads(void)
{
    char cmd[64], out[32] = "";
    snprintf(cmd, sizeof cmd, "ls /proc/%d/task | wc -l", (int) getpid());
    FILE *f = popen(cmd, "r");
    if (!f || !fgets(out, sizeof out, f)) {
        out[0] = '\0';
    }
    if (f) {
        pclose(f);
    }
    return (unsigned) atoi(out);
}

/* The port's reads wait for frames in the kernel as polls: no kernel
 * worker thread is parked per pending read. */
static void
test_reads_park_no_threads(void)
{
    struct port *port = start_port(IFNAME);
    struct pkt pkts[PORT_BURST];
    unsigned before = count_threads();
    CU_ASSERT_EQUAL(port->class->rx_burst(port, 0, pkts, PORT_BURST, pool),
                    0);                     /* arms TAP_RX_BUFS reads */
    usleep(100000);
    CU_ASSERT_EQUAL(count_threads(), before);
    port->class->destroy(port);
}

/* Like the daemon: started on one thread, polled by another that never
 * sleeps nor makes a syscall of its own (the reads complete through the
 * kernel's task work for that thread: IORING_SQ_TASKRUN). */
struct busy_worker {
    struct port *port;
    unsigned want;
    struct rxed r;
};

static void *
busy_worker_main(void *bw_)
{
    struct busy_worker *bw = bw_;
    struct pkt pkts[PORT_BURST];
    static struct vq_seg wpool[PORT_SEG_POOL];
    struct stats_dir dir;
    memset(&dir, 0, sizeof dir);
    double end = now_sec() + 5;
    while (bw->r.n < bw->want && now_sec() < end) {
        unsigned n = bw->port->class->rx_burst(bw->port, 0, pkts, PORT_BURST,
                                               wpool);
        unsigned got = bw->r.n;
        for (unsigned i = 0; i < n; i++) {
            const uint8_t *f = pkts[i].segs[0].addr;
            got += !pkts[i].drop && f[12] == ETH_TEST >> 8
                   && f[13] == (ETH_TEST & 0xff);
        }
        WRITE_ONCE(bw->r.n, got);
        if (n) {
            bw->port->class->rx_release(bw->port, 0, pkts, n, &dir);
        }
    }
    return NULL;
}

static void
test_polled_from_another_thread(void)
{
    static struct busy_worker bw;
    memset(&bw, 0, sizeof bw);
    bw.port = start_port(IFNAME);
    bw.want = 2000;
    pthread_t t;
    CU_ASSERT_FATAL(pthread_create(&t, NULL, busy_worker_main, &bw) == 0);
    int s = packet_socket(IFNAME);
    uint8_t frame[300];
    for (unsigned i = 0; i < bw.want; i++) {
        build_frame(frame, sizeof frame, i);
        send(s, frame, sizeof frame, 0);
        /* In chunks, each received before the next is sent: the kernel's
         * queue never overflows, however the threads get scheduled. */
        double end = now_sec() + 2;
        while (i % 64 == 63 && READ_ONCE(bw.r.n) <= i && now_sec() < end) {
            usleep(100);
        }
    }
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(bw.r.n, bw.want);
    close(s);
    bw.port->class->destroy(bw.port);
    CU_ASSERT_EQUAL(if_nametoindex(IFNAME), 0);
}

static const struct cunit_test tests[] = {
    CUNIT_TEST(test_start_describe_destroy),
    CUNIT_TEST(test_rx_frames_from_kernel),
    CUNIT_TEST(test_tx_frames_to_kernel),
    CUNIT_TEST(test_tx_sink_full),
    CUNIT_TEST(test_rx_kernel_drops_counted),
    CUNIT_TEST(test_host_reaches_guest),
    CUNIT_TEST(test_link_state),
    CUNIT_TEST(test_moved_to_other_netns),
    CUNIT_TEST(test_persistent_tap),
    CUNIT_TEST(test_reads_park_no_threads),
    CUNIT_TEST(test_polled_from_another_thread),
    CUNIT_TEST(test_interface_deleted),
    CUNIT_TEST(test_errors),
};

/* Enters a fresh network namespace; IPv6 off in it, so that the kernel
 * sends nothing on its own (no router solicitations, no MLD). */
static int
enter_netns(void)
{
    if (system("ip netns del " NETNS " 2>/dev/null; ip netns add " NETNS)) {
        return -1;
    }
    int fd = open("/run/netns/" NETNS, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
        perror("setns " NETNS);
        return -1;
    }
    close(fd);
    static const char *const knobs[] = {
        "/proc/sys/net/ipv6/conf/all/disable_ipv6",
        "/proc/sys/net/ipv6/conf/default/disable_ipv6",
    };
    for (size_t i = 0; i < ARRAY_SIZE(knobs); i++) {
        FILE *f = fopen(knobs[i], "w");     /* absent without IPv6: fine */
        if (f) {
            fputs("1\n", f);
            fclose(f);
        }
    }
    return 0;
}

int
main(void)
{
    if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK)
        || system("ip -V >/dev/null 2>&1")) {
        fprintf(stderr, "skipped: needs root, /dev/net/tun and iproute2\n");
        return 77;
    }
    int host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (host_ns < 0 || enter_netns()) {
        run("ip netns del " NETNS " 2>/dev/null");
        return 1;
    }
    int rc = cunit_run("port-tap", tests, ARRAY_SIZE(tests));
    if (setns(host_ns, CLONE_NEWNET) < 0) {
        perror("setns back");
        rc = 1;
    }
    run("ip netns del " NETNS);
    return rc;
}
