/* test-port-pcap.c -- the pcap sink port behind the port interface: frames
 * in through tx_burst, read back from the file with libpcap; snaplen and
 * filter; a bad filter is a clear start error; a FIFO nobody reads fills
 * the ring and costs counted drops, never a blocked tx_burst; a port with
 * several queues (a capture's sink) takes frames from several threads at
 * once, and the file is readable while they write.
 *
 * Needs nothing special (no root): files live in a mkdtemp directory. */
#include <config.h>

#include <errno.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cunit.h"
#include "port-pcap.h"
#include "port.h"

static char dir[64];

/* ---- A tiny fake of what the control thread offers ports --------------- */

static void env_watch(struct port_env *e, struct port_watch *w) {}
static void env_unwatch(struct port_env *e, struct port_watch *w) {}
static void env_quiesce(struct port_env *e, struct port *p) {}
static void env_changed(struct port_env *e, struct port *p) {}
static void env_learn(struct port_env *e, struct port *p,
                      const uint8_t mac[6]) {}

static struct port_env env = {
    env_watch, env_unwatch, env_quiesce, env_changed, env_learn,
};
static struct stats_port stats;

/* Creates a pcap port with port_create(), not started. */
static struct port *
make_port_queues(const char *file, const char *filter, unsigned snaplen,
                 unsigned n_queues)
{
    struct port_spec spec = {
        .type = PORT_PCAP, .n_queues = n_queues, .mtu = 1500,
        .snaplen = snaplen ? snaplen : 262144,
    };
    snprintf(spec.name, sizeof spec.name, "cap");
    snprintf(spec.path, sizeof spec.path, "%s/%s", dir, file);
    snprintf(spec.filter, sizeof spec.filter, "%s", filter ? filter : "");
    char err[256];
    struct port *port = NULL;
    memset(&stats, 0, sizeof stats);
    CU_ASSERT_EQUAL_FATAL(port_create(&spec, 1, &env, &stats, &port, err,
                                      sizeof err), 0);
    return port;
}

static struct port *
make_port(const char *file, const char *filter, unsigned snaplen)
{
    return make_port_queues(file, filter, snaplen, 1);
}

static struct port *
start_port_queues(const char *file, const char *filter, unsigned snaplen,
                  unsigned n_queues)
{
    struct port *port = make_port_queues(file, filter, snaplen, n_queues);
    char err[256] = "";
    int r = port->class->start(port, err, sizeof err);
    if (r) {
        fprintf(stderr, "start: %s\n", err);
    }
    CU_ASSERT_EQUAL_FATAL(r, 0);
    return port;
}

static struct port *
start_port(const char *file, const char *filter, unsigned snaplen)
{
    return start_port_queues(file, filter, snaplen, 1);
}

static double
now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- Frames ------------------------------------------------------------ */

enum kind { UDP, TCP, ARP };

/* An Ethernet frame of 'len' bytes: IPv4 UDP or TCP, or ARP; the payload
 * carries 'seq' so that each frame is recognisable in the file. */
static void
build_frame(uint8_t *f, uint32_t len, enum kind kind, uint32_t seq)
{
    static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0, 2,
                                      0x02, 0, 0, 0, 0, 1 };
    memset(f, 0, len);
    memcpy(f, macs, 12);
    f[12] = 0x08;
    f[13] = kind == ARP ? 0x06 : 0x00;
    if (kind != ARP) {
        uint8_t *ip = f + 14;
        ip[0] = 0x45;
        ip[2] = (uint8_t) ((len - 14) >> 8);
        ip[3] = (uint8_t) (len - 14);
        ip[8] = 64;
        ip[9] = kind == UDP ? 17 : 6;
        memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    }
    for (uint32_t i = 42; i < len; i++) {
        f[i] = (uint8_t) (seq * 7 + i);
    }
    if (len >= 46) {
        memcpy(f + 42, &seq, 4);
    }
}

/* One frame in two pieces, as a guest's descriptor chain could give it. */
struct tframe {
    uint8_t bytes[9800];
    struct vq_seg segs[2];
    struct pkt pkt;
};

static void
tframe_init(struct tframe *t, uint32_t len, enum kind kind, uint32_t seq)
{
    build_frame(t->bytes, len, kind, seq);
    uint32_t cut = len / 3;
    t->segs[0] = (struct vq_seg) { t->bytes, cut };
    t->segs[1] = (struct vq_seg) { t->bytes + cut, len - cut };
    t->pkt = (struct pkt) { .segs = t->segs, .n_segs = 2, .len = len };
    memcpy(t->pkt.addrs, t->bytes, PORT_ETH_ADDRS);
}

static uint16_t
send_one(struct port *port, struct tframe *t)
{
    struct pkt *p = &t->pkt;
    uint16_t result = 0xffff;
    port->class->tx_burst(port, 0, &p, 1, &result, &stats.queues[0].tx);
    return result;
}

/* ---- Reading the file back --------------------------------------------- */

struct capture {
    unsigned n;
    uint32_t caplen[64], len[64];
    uint8_t first[64][64];
};

static int
read_capture(const char *file, struct capture *cap)
{
    char path[128], errbuf[PCAP_ERRBUF_SIZE];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    pcap_t *p = pcap_open_offline(path, errbuf);
    if (!p) {
        fprintf(stderr, "pcap_open_offline: %s\n", errbuf);
        return -1;
    }
    memset(cap, 0, sizeof *cap);
    struct pcap_pkthdr *h;
    const u_char *data;
    while (pcap_next_ex(p, &h, &data) == 1) {
        if (cap->n < 64) {
            cap->caplen[cap->n] = h->caplen;
            cap->len[cap->n] = h->len;
            memcpy(cap->first[cap->n], data, MIN(h->caplen, 64));
        }
        cap->n++;
    }
    int dlt = pcap_datalink(p);
    pcap_close(p);
    return dlt == DLT_EN10MB ? 0 : -1;
}

/* ---- Tests ------------------------------------------------------------- */

static void
test_frames_written(void)
{
    struct port *port = start_port("a.pcap", NULL, 0);
    bool rx, discard, tx;
    port->class->queue_state(port, 0, &rx, &discard, &tx);
    CU_ASSERT(!rx && !discard && tx);

    static struct tframe t[3];
    static const uint32_t sizes[3] = { 60, 342, 1514 };
    struct pkt *pkts[3];
    uint16_t results[3] = { 9, 9, 9 };
    for (unsigned i = 0; i < 3; i++) {
        tframe_init(&t[i], sizes[i], UDP, i);
        pkts[i] = &t[i].pkt;
    }
    port->class->tx_burst(port, 0, pkts, 3, results, &stats.queues[0].tx);
    CU_ASSERT(!results[0] && !results[1] && !results[2]);
    port->class->destroy(port);

    struct capture cap;
    CU_ASSERT_EQUAL_FATAL(read_capture("a.pcap", &cap), 0);
    CU_ASSERT_EQUAL_FATAL(cap.n, 3);
    for (unsigned i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(cap.caplen[i], sizes[i]);
        CU_ASSERT_EQUAL(cap.len[i], sizes[i]);
        CU_ASSERT(!memcmp(cap.first[i], t[i].bytes, MIN(sizes[i], 64)));
    }
}

static void
test_snaplen(void)
{
    struct port *port = start_port("snap.pcap", NULL, 64);
    static struct tframe t;
    tframe_init(&t, 1000, TCP, 5);
    CU_ASSERT_EQUAL(send_one(port, &t), 0);
    port->class->destroy(port);

    struct capture cap;
    CU_ASSERT_EQUAL_FATAL(read_capture("snap.pcap", &cap), 0);
    CU_ASSERT_EQUAL_FATAL(cap.n, 1);
    CU_ASSERT_EQUAL(cap.caplen[0], 64);
    CU_ASSERT_EQUAL(cap.len[0], 1000);
    CU_ASSERT(!memcmp(cap.first[0], t.bytes, 64));
}

/* filter=udp keeps the UDP frames; the others are "delivered" (result 0:
 * filtering is not a loss of the switch) but not written. */
static void
test_filter_udp(void)
{
    struct port *port = start_port("udp.pcap", "udp", 0);
    static struct tframe t[6];
    static const enum kind kinds[6] = { UDP, TCP, ARP, UDP, TCP, UDP };
    struct pkt *pkts[6];
    uint16_t results[6];
    for (unsigned i = 0; i < 6; i++) {
        tframe_init(&t[i], 100 + i, kinds[i], i);
        pkts[i] = &t[i].pkt;
        results[i] = 9;
    }
    port->class->tx_burst(port, 0, pkts, 6, results, &stats.queues[0].tx);
    for (unsigned i = 0; i < 6; i++) {
        CU_ASSERT_EQUAL(results[i], 0);
    }
    port->class->destroy(port);

    struct capture cap;
    CU_ASSERT_EQUAL_FATAL(read_capture("udp.pcap", &cap), 0);
    CU_ASSERT_EQUAL_FATAL(cap.n, 3);
    CU_ASSERT_EQUAL(cap.len[0], 100);
    CU_ASSERT_EQUAL(cap.len[1], 103);
    CU_ASSERT_EQUAL(cap.len[2], 105);
}

static void
test_bad_filter(void)
{
    struct port *port = make_port("bad.pcap", "udp and bogus", 0);
    char err[256] = "";
    int r = port->class->start(port, err, sizeof err);
    CU_ASSERT_EQUAL(r, -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "port cap: bad filter 'udp and bogus'"));
    CU_ASSERT(strlen(err) > strlen("port cap: bad filter 'udp and bogus': "));
    bool rx, discard, tx;
    port->class->queue_state(port, 0, &rx, &discard, &tx);
    CU_ASSERT(!rx && !tx);
    port->class->destroy(port);
}

static void
test_bad_path(void)
{
    struct port *port = make_port("no/such/dir.pcap", NULL, 0);
    char err[256] = "";
    CU_ASSERT_EQUAL(port->class->start(port, err, sizeof err), -ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no/such/dir.pcap"));
    port->class->destroy(port);
}

/* The file is readable (tcpdump -r) while the port runs: the writer
 * flushes at least every 100 ms. */
static void
test_flushed_while_running(void)
{
    struct port *port = start_port("live.pcap", NULL, 0);
    static struct tframe t;
    tframe_init(&t, 200, UDP, 1);
    CU_ASSERT_EQUAL(send_one(port, &t), 0);
    struct capture cap = { 0 };
    for (int i = 0; i < 50 && cap.n == 0; i++) {
        usleep(20000);
        read_capture("live.pcap", &cap);
    }
    CU_ASSERT_EQUAL(cap.n, 1);
    CU_ASSERT_EQUAL(cap.len[0], 200);

    struct stats_port_info info;
    memset(&info, 0, sizeof info);
    port->class->describe(port, &info);
    CU_ASSERT_STRING_EQUAL(info.state, "up");
    CU_ASSERT_PTR_NOT_NULL(strstr(info.path, "live.pcap"));
    port->class->destroy(port);
}

/* More than the ring holds, in frames of varying size: every record wraps
 * around the ring at some point.  The test retries a frame the ring had no
 * room for, so that all of them must come out, in order. */
static void
test_ring_wraps(void)
{
    struct port *port = start_port("wrap.pcap", NULL, 0);
    static struct tframe t;
    const unsigned n = 12000;
    unsigned full = 0;
    for (unsigned i = 0; i < n; i++) {
        tframe_init(&t, 60 + (i * 131) % 1455, UDP, i);
        while (send_one(port, &t) == PKT_DROP(DROP_SINK_FULL)) {
            full++;
            usleep(100);
        }
    }
    port->class->destroy(port);

    char path[128], errbuf[PCAP_ERRBUF_SIZE];
    snprintf(path, sizeof path, "%s/wrap.pcap", dir);
    pcap_t *p = pcap_open_offline(path, errbuf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    struct pcap_pkthdr *h;
    const u_char *data;
    unsigned i = 0, bad = 0;
    while (pcap_next_ex(p, &h, &data) == 1) {
        uint32_t len = 60 + (i * 131) % 1455;
        build_frame(t.bytes, len, UDP, i);
        bad += h->len != len || h->caplen != len || memcmp(data, t.bytes, len);
        i++;
    }
    pcap_close(p);
    CU_ASSERT_EQUAL(i, n);
    CU_ASSERT_EQUAL(bad, 0);
    printf("(%u ring-full retries) ", full);
}

/* A FIFO that nobody reads: start does not block, tx_burst never blocks,
 * the ring fills and then frames are dropped with DROP_SINK_FULL -- except
 * frames the filter rejects, which are no loss.  destroy() returns. */
static void
test_fifo_without_reader(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/fifo", dir);
    CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);
    alarm(30);                      /* a hang fails the test, not CI */
    double t0 = now_sec();
    struct port *port = start_port("fifo", "udp", 0);
    CU_ASSERT(now_sec() - t0 < 1);

    static struct tframe udp, tcp;
    tframe_init(&udp, 1514, UDP, 0);
    tframe_init(&tcp, 1514, TCP, 0);
    struct pkt *pkts[32];
    uint16_t results[32];
    for (unsigned i = 0; i < 32; i++) {
        pkts[i] = &udp.pkt;
    }
    /* Until full; then again once the writer surely got stuck (the first
     * time it may still have been busy copying out). */
    unsigned accepted = 0;
    double slowest = 0;
    for (int round = 0; round < 2; round++) {
        unsigned full = 0, sent = 0;
        while (!full && sent < 200000) {
            double b0 = now_sec();
            port->class->tx_burst(port, 0, pkts, 32, results,
                                  &stats.queues[0].tx);
            slowest = MAX(slowest, now_sec() - b0);
            for (unsigned i = 0; i < 32; i++) {
                full += results[i] == PKT_DROP(DROP_SINK_FULL);
                accepted += !results[i];
            }
            sent += 32;
        }
        CU_ASSERT(full > 0);
        usleep(200000);
    }
    CU_ASSERT(slowest < 0.1);
    /* About ring + pipe + stdio buffer worth of frames got in. */
    CU_ASSERT(accepted > 5000 && accepted < 9000);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(send_one(port, &tcp), 0);
        CU_ASSERT_EQUAL(send_one(port, &udp), PKT_DROP(DROP_SINK_FULL));
    }

    t0 = now_sec();
    port->class->destroy(port);
    CU_ASSERT(now_sec() - t0 < 2);
    alarm(0);
    unlink(path);
}

/* Pushes UDP frames until the ring is full, twice (see the FIFO test). */
static void
fill_ring(struct port *port, struct tframe *t)
{
    struct pkt *pkts[32];
    uint16_t results[32];
    for (unsigned i = 0; i < 32; i++) {
        pkts[i] = &t->pkt;
    }
    for (int round = 0; round < 2; round++) {
        unsigned full = 0;
        for (unsigned sent = 0; !full && sent < 200000; sent += 32) {
            port->class->tx_burst(port, 0, pkts, 32, results,
                                  &stats.queues[0].tx);
            for (unsigned i = 0; i < 32; i++) {
                full += results[i] == PKT_DROP(DROP_SINK_FULL);
            }
        }
        CU_ASSERT(full > 0);
        usleep(200000);
    }
}

/* A full disk (a 256 KiB tmpfs, in a mount namespace of our own): the
 * writer waits and retries, the port says it is stalled, the ring fills
 * and frames are dropped with DROP_SINK_FULL; destroy does not hang.
 * Needs root (mount); says so and passes trivially without. */
static void
test_disk_full(void)
{
    char mnt[128];
    snprintf(mnt, sizeof mnt, "%s/small", dir);
    if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0
        || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
        || mkdir(mnt, 0700) < 0
        || mount("tmpfs", mnt, "tmpfs", 0, "size=256k") < 0) {
        printf("(skipped: needs root) ");
        return;
    }
    alarm(30);
    struct port *port = start_port("small/x.pcap", NULL, 0);
    static struct tframe t;
    tframe_init(&t, 1514, UDP, 0);
    fill_ring(port, &t);
    CU_ASSERT_EQUAL(send_one(port, &t), PKT_DROP(DROP_SINK_FULL));

    struct stats_port_info info;
    memset(&info, 0, sizeof info);
    port->class->describe(port, &info);
    CU_ASSERT_STRING_EQUAL(info.state, "stalled: No space left on device");
    port->class->tick(port);

    double t0 = now_sec();
    port->class->destroy(port);
    CU_ASSERT(now_sec() - t0 < 2);
    alarm(0);
    umount(mnt);
}

/* A capture's sink: one queue (one ring) per worker.  Two threads write
 * into their own queue at once, while the file is read again and again:
 * every frame of each comes out, in its order, and the file is always a
 * capture that tcpdump opens.  (Its end may be a record cut in half only
 * while a write() is under way: the writer hands whole records to the
 * kernel, but a reader can see a write half done.) */
struct producer {
    struct port *port;
    unsigned qid;
    unsigned n;
    pthread_t thread;
};

static void *
producer_main(void *p_)
{
    struct producer *p = p_;
    static struct tframe t[2];      /* one per queue */
    struct tframe *f = &t[p->qid];
    for (unsigned i = 0; i < p->n; i++) {
        tframe_init(f, 1000 + p->qid * 100 + i % 64, UDP,
                    p->qid << 24 | i);
        struct pkt *pkt = &f->pkt;
        uint16_t result;
        do {
            p->port->class->tx_burst(p->port, p->qid, &pkt, 1, &result,
                                     &stats.queues[p->qid].tx);
        } while (result == PKT_DROP(DROP_SINK_FULL) && !usleep(100));
    }
    return NULL;
}

/* Reads the whole file; returns the frames, -1 if it ends in a cut record,
 * -2 if it is not a capture file. */
static int
count_whole_records(const char *file)
{
    char path[128], errbuf[PCAP_ERRBUF_SIZE];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    pcap_t *p = pcap_open_offline(path, errbuf);
    if (!p) {
        return -2;
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    int n = 0, r;
    while ((r = pcap_next_ex(p, &h, &data)) == 1) {
        n++;
    }
    pcap_close(p);
    return r == PCAP_ERROR_BREAK ? n : -1;
}

static void
test_queues_and_live_reads(void)
{
    struct port *port = start_port_queues("two.pcap", NULL, 0, 2);
    CU_ASSERT_EQUAL(port->n_queues, 2);
    struct producer prod[2] = {
        { port, 0, 20000, 0 }, { port, 1, 20000, 0 },
    };
    for (unsigned q = 0; q < 2; q++) {
        CU_ASSERT_EQUAL_FATAL(pthread_create(&prod[q].thread, NULL,
                                             producer_main, &prod[q]), 0);
    }
    unsigned reads = 0, cut = 0, unreadable = 0;
    for (bool done = false; !done; reads++) {
        done = pthread_tryjoin_np(prod[0].thread, NULL) == 0;
        if (done) {
            pthread_join(prod[1].thread, NULL);
        }
        int n = count_whole_records("two.pcap");
        cut += n == -1;
        unreadable += n == -2;
    }
    /* Once the writer is idle (it flushes within 100 ms), all of it. */
    usleep(300000);
    CU_ASSERT_EQUAL(count_whole_records("two.pcap"), 40000);
    port->class->destroy(port);
    CU_ASSERT_EQUAL(unreadable, 0);
    printf("(%u reads, %u during a write) ", reads, cut);

    char path[128], errbuf[PCAP_ERRBUF_SIZE];
    snprintf(path, sizeof path, "%s/two.pcap", dir);
    pcap_t *p = pcap_open_offline(path, errbuf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    struct pcap_pkthdr *h;
    const u_char *data;
    unsigned next[2] = { 0, 0 }, bad = 0;
    while (pcap_next_ex(p, &h, &data) == 1) {
        uint32_t tag;
        memcpy(&tag, data + 42, 4);
        unsigned q = tag >> 24, i = tag & 0xffffff;
        bad += q > 1 || i != next[q]
               || h->len != 1000 + q * 100 + i % 64;
        if (q <= 1) {
            next[q]++;
        }
    }
    pcap_close(p);
    CU_ASSERT_EQUAL(next[0], 20000);
    CU_ASSERT_EQUAL(next[1], 20000);
    CU_ASSERT_EQUAL(bad, 0);
}

static const struct cunit_test tests[] = {
    CUNIT_TEST(test_frames_written),
    CUNIT_TEST(test_snaplen),
    CUNIT_TEST(test_filter_udp),
    CUNIT_TEST(test_bad_filter),
    CUNIT_TEST(test_bad_path),
    CUNIT_TEST(test_flushed_while_running),
    CUNIT_TEST(test_ring_wraps),
    CUNIT_TEST(test_queues_and_live_reads),
    CUNIT_TEST(test_fifo_without_reader),
    CUNIT_TEST(test_disk_full),
};

int
main(void)
{
    snprintf(dir, sizeof dir, "/tmp/test-port-pcap.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    int rc = cunit_run("port-pcap", tests, ARRAY_SIZE(tests));
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
    return rc;
}
