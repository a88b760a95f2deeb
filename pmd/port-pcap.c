/* port-pcap.c -- the pcap sink port: a port that only receives from the
 * switch, and writes what it receives to a pcap file (or FIFO).  The same
 * object is the sink of a runtime capture (vuswitchctl capture): then it
 * is not part of the switching fabric, and workers copy a port's frames
 * into it (see worker.h, struct worker_mirror).
 *
 * Two kinds of threads, one lockless ring per queue between them:
 *
 *   worker (tx_burst on queue q)            writer thread (one per port)
 *     truncate to snaplen, copy into ring q   drain rings -> pcap_dump()
 *     filter (pcap_offline_filter)            flush every 100 ms, and before
 *                                             a record would not fit in
 *                                             the stdio buffer
 *     publish head once per burst             publish tail per record
 *
 * Each ring has exactly one producer: the worker that owns queue q.  A
 * port of the fabric has one queue (one worker transmits to it, the others
 * hand their frames to that one); a capture has one queue per worker, so
 * that every worker that mirrors frames into it has a ring of its own.
 * The writer merges the rings by timestamp (of what is published when it
 * looks), so that the file reads in time order.
 *
 * The worker never waits for the writer: when the ring is full the frame is
 * dropped with DROP_SINK_FULL.  Only the writer blocks, on a slow disk or a
 * FIFO nobody reads, and even then it waits in poll() with an eventfd that
 * destroy() signals, so that a stuck sink never keeps the control thread
 * from removing the port.  A FIFO is opened read-write (Linux allows it):
 * opening it write-only would block until a reader appears, and holding a
 * read end ourselves means a reader that comes and goes never makes our
 * writes fail with EPIPE; when nobody reads, the pipe fills, the writer
 * waits, the ring fills, and the worker counts drops.
 *
 * A frame the filter rejects is reported as delivered (result 0): the port
 * did what it was configured to do with it, and the switch lost nothing.
 * So the port's tx packets count frames offered to the capture, not frames
 * in the file.
 *
 * The ring holds variable-size records, 16-byte aligned, so that a burst of
 * 64-byte frames does not cost snaplen bytes each:
 *
 *   data: [rec hdr|frame bytes..pad][rec hdr|frame..][PAD hdr| unused ]
 *          ^ tail & mask (writer)                    ^ head & mask (worker)
 *
 * A record that would not fit before the end of the data area is preceded
 * by a PAD header that tells the writer to skip to offset 0.  head and tail
 * count bytes forever (64 bits do not wrap); used = head - tail. */
#include <config.h>
#include "port-pcap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define PCAP_RING_SIZE (8u << 20)   /* bytes, a power of two */
#define PCAP_REC_PAD UINT32_MAX     /* caplen of a "skip to start" record */
#define PCAP_FLUSH_MS 100
#define PCAP_IDLE_MS 1              /* writer's sleep when the ring is empty */
#define PCAP_RETRY_MS 1000          /* retry period after a write error */
#define PCAP_HEADER_WAIT_MS 1000    /* start(): for the file header */
#define PCAP_STDIO_BUF (512u << 10) /* > the largest record (256 KiB) */
#define PCAP_FILE_REC_HDR 16        /* a record's header in the file */

struct pcap_rec {
    uint64_t ts_usec;               /* wall clock, microseconds */
    uint32_t caplen;                /* bytes that follow, or PCAP_REC_PAD */
    uint32_t len;                   /* length of the frame */
};

#define PCAP_REC_SIZE(caplen) \
    (((uint64_t) sizeof(struct pcap_rec) + (caplen) + 15) & ~(uint64_t) 15)

/* Single producer (the worker owning the queue), single consumer (the
 * writer thread). */
struct pcap_ring {
    uint64_t head __cacheline_aligned;  /* written by the worker */
    uint64_t tail_cache;                /* worker's copy of 'tail' */
    uint8_t *scratch;                   /* worker: filtering when full */
    uint64_t tail __cacheline_aligned;  /* written by the writer */
    uint8_t *data __cacheline_aligned;  /* read-only after start */
};

struct port_pcap {
    struct port up;
    char path[VU_PATH_SIZE];
    char filter[256];
    uint32_t snaplen;

    /* Set up by start(), read-only while the writer runs. */
    pcap_t *dead;                   /* for pcap_compile and the dumper */
    struct bpf_program prog;
    bool has_filter;
    int fd;                         /* the file, -1 until started */
    int stop_fd;                    /* eventfd: destroy() wakes the writer */
    pcap_dumper_t *dumper;
    pthread_t writer;
    bool writer_running;

    uint8_t *stdio_buf;             /* PCAP_STDIO_BUF bytes */
    size_t unflushed;               /* writer: bytes in the stdio buffer */

    /* Written by destroy(), read by the writer. */
    bool stop;
    /* Written by the writer, read by start(). */
    bool header_written;
    /* Written by the writer, read by the control thread. */
    int sink_error;                 /* errno of the last failed write, 0 */
    int published_error;            /* control thread: as last described */

    struct pcap_ring *rings;        /* up.n_queues, cache-line aligned */
};

static struct port_pcap *
port_pcap_cast(const struct port *port)
{
    return CONTAINER_OF(port, struct port_pcap, up);
}

/* ---- The ring ---------------------------------------------------------- */

/* Worker: room for a record of 'caplen' bytes at 'head', or NULL if the
 * ring is full.  '*advance' is what head must move by to publish it. */
static struct pcap_rec *
ring_reserve(struct pcap_ring *r, uint64_t head, uint32_t caplen,
             uint64_t *advance)
{
    uint64_t pos = head & (PCAP_RING_SIZE - 1);
    uint64_t contig = PCAP_RING_SIZE - pos;
    uint64_t need = PCAP_REC_SIZE(caplen);
    uint64_t total = need <= contig ? need : contig + need;
    if (PCAP_RING_SIZE - (head - r->tail_cache) < total) {
        r->tail_cache = LOAD_ACQUIRE(r->tail);
        if (PCAP_RING_SIZE - (head - r->tail_cache) < total) {
            return NULL;
        }
    }
    *advance = total;
    if (need > contig) {
        /* contig >= 16: every record, so every position, is 16-aligned. */
        ((struct pcap_rec *) (r->data + pos))->caplen = PCAP_REC_PAD;
        return (struct pcap_rec *) r->data;
    }
    return (struct pcap_rec *) (r->data + pos);
}

/* ---- Datapath ---------------------------------------------------------- */

static bool
pcap_accepts(const struct port_pcap *pp, const uint8_t *frame,
             uint32_t caplen, uint32_t len)
{
    struct pcap_pkthdr h = { .caplen = caplen, .len = len };
    return !pp->has_filter || pcap_offline_filter(&pp->prog, &h, frame);
}

/* Copies one frame into the ring at '*head' (not yet published). */
static uint16_t
pcap_push(struct port_pcap *pp, struct pcap_ring *r, uint64_t *head,
          const struct pkt *pkt, uint64_t ts_usec)
{
    uint32_t caplen = MIN(pkt->len, pp->snaplen);
    uint64_t advance;
    struct pcap_rec *rec = ring_reserve(r, *head, caplen, &advance);
    if (unlikely(!rec)) {
        /* Full.  Still, a frame the filter rejects is not a loss. */
        vq_segs_copy_out(pkt->segs, pkt->n_segs, 0, r->scratch, caplen);
        return pcap_accepts(pp, r->scratch, caplen, pkt->len)
               ? PKT_DROP(DROP_SINK_FULL) : 0;
    }
    uint8_t *frame = (uint8_t *) (rec + 1);
    vq_segs_copy_out(pkt->segs, pkt->n_segs, 0, frame, caplen);
    if (!pcap_accepts(pp, frame, caplen, pkt->len)) {
        return 0;                   /* filtered out: see the top comment */
    }
    rec->ts_usec = ts_usec;
    rec->caplen = caplen;
    rec->len = pkt->len;
    *head += advance;
    return 0;
}

static void
pcap_tx_burst(struct port *port, unsigned qid, struct pkt *const *pkts,
              unsigned n, uint16_t *results, struct stats_dir *dir)
{
    struct port_pcap *pp = port_pcap_cast(port);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);     /* vDSO: no syscall */
    uint64_t ts_usec = (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;

    struct pcap_ring *r = &pp->rings[qid];
    uint64_t head = r->head;
    for (unsigned i = 0; i < n; i++) {
        results[i] = pcap_push(pp, r, &head, pkts[i], ts_usec);
    }
    if (head != r->head) {
        STORE_RELEASE(r->head, head);
    }
}

/* Never called: the port has no receive queue (queue_state says so). */
static unsigned
pcap_rx_burst(struct port *port, unsigned qid, struct pkt *pkts, unsigned n,
              struct vq_seg *pool)
{
    return 0;
}

static void
pcap_rx_release(struct port *port, unsigned qid, struct pkt *pkts,
                unsigned n, struct stats_dir *dir)
{
}

/* ---- The writer thread ------------------------------------------------- */

static uint64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writer: sleeps until 'fd' is writable (if fd >= 0), 'timeout_ms' passed,
 * or destroy() asked us to stop.  Returns true if we must stop. */
static bool
writer_wait(struct port_pcap *pp, int fd, int timeout_ms)
{
    struct pollfd pfds[2] = {
        { .fd = pp->stop_fd, .events = POLLIN },
        { .fd = fd, .events = POLLOUT },
    };
    if (!LOAD_ACQUIRE(pp->stop)) {
        poll(pfds, fd >= 0 ? 2 : 1, timeout_ms);
    }
    return LOAD_ACQUIRE(pp->stop);
}

static void
writer_note_error(struct port_pcap *pp, int error)
{
    if (error != READ_ONCE(pp->sink_error)) {
        if (error) {
            VLOG_WARN("port %s: writing %s: %s; frames are dropped until it "
                      "recovers", pp->up.name, pp->path, strerror(error));
        } else {
            VLOG_INFO("port %s: writing %s again", pp->up.name, pp->path);
        }
        WRITE_ONCE(pp->sink_error, error);
    }
}

/* stdio's write function for the capture stream.  It waits instead of
 * failing: for room in a FIFO, or (full disk, I/O error) retrying every
 * second, so that stdio never sees an error and drops half a record; the
 * ring fills meanwhile and the worker counts the drops.  Fails only when
 * the port is being destroyed. */
static ssize_t
sink_write(void *pp_, const char *buf, size_t size)
{
    struct port_pcap *pp = pp_;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(pp->fd, buf + done, size - done);
        if (n > 0) {
            done += (size_t) n;
            writer_note_error(pp, 0);
        } else if (n < 0 && errno == EAGAIN) {
            if (writer_wait(pp, pp->fd, -1)) {
                break;
            }
        } else if (n == 0 || errno != EINTR) {
            writer_note_error(pp, n < 0 ? errno : EIO);
            if (writer_wait(pp, -1, PCAP_RETRY_MS)) {
                break;
            }
        }
    }
    return (ssize_t) done;
}

static int
sink_close(void *pp_)
{
    struct port_pcap *pp = pp_;
    int r = close(pp->fd);
    pp->fd = -1;
    return r;
}

/* Writer: hands the stdio buffer to the file. */
static void
writer_flush(struct port_pcap *pp)
{
    pcap_dump_flush(pp->dumper);
    pp->unflushed = 0;
}

/* Writer: the oldest record of 'r' before 'head', skipping (and
 * consuming) a PAD, or NULL if there is none. */
static const struct pcap_rec *
writer_peek(struct pcap_ring *r, uint64_t head)
{
    uint64_t tail = r->tail;
    if (tail == head) {
        return NULL;
    }
    uint64_t pos = tail & (PCAP_RING_SIZE - 1);
    const struct pcap_rec *rec = (const void *) (r->data + pos);
    if (rec->caplen != PCAP_REC_PAD) {
        return rec;
    }
    tail += PCAP_RING_SIZE - pos;
    STORE_RELEASE(r->tail, tail);
    return tail == head ? NULL : (const void *) r->data;
}

/* Writer: dumps every record published so far, the oldest first across
 * the rings.  Returns how many. */
static unsigned
writer_drain(struct port_pcap *pp)
{
    unsigned n_rings = pp->up.n_queues;
    uint64_t heads[STATS_MAX_QUEUES];
    for (unsigned q = 0; q < n_rings; q++) {
        heads[q] = LOAD_ACQUIRE(pp->rings[q].head);
    }
    unsigned n = 0;
    for (;;) {
        const struct pcap_rec *oldest = NULL;
        unsigned from = 0;
        for (unsigned q = 0; q < n_rings; q++) {
            const struct pcap_rec *rec = writer_peek(&pp->rings[q], heads[q]);
            if (rec && (!oldest || rec->ts_usec < oldest->ts_usec)) {
                oldest = rec;
                from = q;
            }
        }
        if (!oldest) {
            return n;
        }
        struct pcap_pkthdr h = {
            .ts.tv_sec = (time_t) (oldest->ts_usec / 1000000),
            .ts.tv_usec = (suseconds_t) (oldest->ts_usec % 1000000),
            .caplen = oldest->caplen,
            .len = oldest->len,
        };
        /* Flushing before stdio would, the file grows by whole records
         * only: tcpdump can read it at any time. */
        size_t size = PCAP_FILE_REC_HDR + oldest->caplen;
        if (pp->unflushed + size > PCAP_STDIO_BUF) {
            writer_flush(pp);
        }
        pp->unflushed += size;
        pcap_dump((u_char *) pp->dumper, &h, (const u_char *) (oldest + 1));
        struct pcap_ring *r = &pp->rings[from];
        /* Room for the worker at once. */
        STORE_RELEASE(r->tail, r->tail + PCAP_REC_SIZE(oldest->caplen));
        n++;
    }
}

static void *
writer_main(void *pp_)
{
    struct port_pcap *pp = pp_;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);     /* signals are main's */

    /* The file header now, so that the file is a valid (empty) capture
     * at once.  Here rather than in start(): a write may wait (start()
     * waits for this a little, see there). */
    writer_flush(pp);
    STORE_RELEASE(pp->header_written, true);
    uint64_t last_flush = now_ms();
    bool dirty = false;
    for (;;) {
        unsigned n = writer_drain(pp);
        dirty |= n > 0;
        uint64_t now = now_ms();
        if (dirty && now - last_flush >= PCAP_FLUSH_MS) {
            writer_flush(pp);
            dirty = false;
            last_flush = now;
        }
        if (!n && writer_wait(pp, -1, PCAP_IDLE_MS)) {
            break;
        }
    }
    writer_drain(pp);           /* destroy() runs after the last tx_burst */
    return NULL;
}

/* ---- Control ----------------------------------------------------------- */

static int
pcap_compile_filter(struct port_pcap *pp, char *err, size_t err_size)
{
    if (!pp->filter[0]) {
        return 0;
    }
    if (pcap_compile(pp->dead, &pp->prog, pp->filter, 1,
                     PCAP_NETMASK_UNKNOWN) < 0) {
        snprintf(err, err_size, "port %s: bad filter '%s': %s", pp->up.name,
                 pp->filter, pcap_geterr(pp->dead));
        return -EINVAL;
    }
    pp->has_filter = true;
    return 0;
}

/* Opens the file (FIFOs read-write: see the top comment) without ever
 * blocking, and puts the pcap file header in front. */
static int
pcap_open_sink(struct port_pcap *pp, char *err, size_t err_size)
{
    struct stat st;
    bool fifo = stat(pp->path, &st) == 0 && S_ISFIFO(st.st_mode);
    int flags = fifo ? O_RDWR : O_WRONLY | O_CREAT | O_TRUNC;
    int fd = open(pp->path, flags | O_NONBLOCK | O_CLOEXEC, 0644);
    if (fd < 0) {
        int r = -errno;
        snprintf(err, err_size, "port %s: cannot open %s: %s", pp->up.name,
                 pp->path, strerror(-r));
        return r;
    }
    static const cookie_io_functions_t sink_io = {
        .write = sink_write,
        .close = sink_close,
    };
    pp->fd = fd;
    FILE *f = fopencookie(pp, "w", sink_io);
    if (f) {
        /* Our own buffer: given NULL, glibc would ignore the size. */
        setvbuf(f, (char *) pp->stdio_buf, _IOFBF, PCAP_STDIO_BUF);
        pp->dumper = pcap_dump_fopen(pp->dead, f);
        if (!pp->dumper) {
            snprintf(err, err_size, "port %s: %s: %s", pp->up.name, pp->path,
                     pcap_geterr(pp->dead));
            fclose(f);              /* closes fd */
            return -EIO;
        }
        return 0;
    }
    close(fd);
    pp->fd = -1;
    snprintf(err, err_size, "port %s: out of memory", pp->up.name);
    return -ENOMEM;
}

/* One ring per queue, prefaulted so that a worker takes no page fault on
 * first use. */
static int
pcap_setup_buffers(struct port_pcap *pp, char *err, size_t err_size)
{
    unsigned n_rings = pp->up.n_queues;
    /* sizeof *pp->rings is a multiple of the line size (its members are
     * aligned): producer and consumer lines never share. */
    pp->rings = aligned_alloc(CACHE_LINE_SIZE, n_rings * sizeof *pp->rings);
    if (pp->rings) {
        memset(pp->rings, 0, n_rings * sizeof *pp->rings);
    }
    pp->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pp->stdio_buf = malloc(PCAP_STDIO_BUF);
    if (!pp->rings || pp->stop_fd < 0 || !pp->stdio_buf) {
        snprintf(err, err_size, "port %s: out of memory or file "
                 "descriptors", pp->up.name);
        return -ENOMEM;
    }
    for (unsigned q = 0; q < n_rings; q++) {
        struct pcap_ring *ring = &pp->rings[q];
        void *data = mmap(NULL, PCAP_RING_SIZE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (data == MAP_FAILED) {
            int r = -errno;
            snprintf(err, err_size, "port %s: cannot allocate its ring: %s",
                     pp->up.name, strerror(-r));
            return r;
        }
        ring->data = data;
        ring->scratch = malloc(pp->snaplen);
        if (!ring->scratch) {
            snprintf(err, err_size, "port %s: out of memory", pp->up.name);
            return -ENOMEM;
        }
    }
    return 0;
}

/* Releases everything start() set up, in any state start() left it. */
static void
pcap_undo_start(struct port_pcap *pp)
{
    /* First: the last flush below must not wait for a stuck sink either. */
    STORE_RELEASE(pp->stop, true);
    if (pp->writer_running) {
        uint64_t one = 1;
        if (write(pp->stop_fd, &one, sizeof one) < 0) {
            /* The writer also polls the stop flag every millisecond. */
        }
        pthread_join(pp->writer, NULL);
        pp->writer_running = false;
    }
    if (pp->dumper) {
        pcap_dump_close(pp->dumper);    /* flushes, closes fd */
        pp->dumper = NULL;
    }
    free(pp->stdio_buf);
    pp->stdio_buf = NULL;
    if (pp->has_filter) {
        pcap_freecode(&pp->prog);
        pp->has_filter = false;
    }
    if (pp->dead) {
        pcap_close(pp->dead);
        pp->dead = NULL;
    }
    if (pp->stop_fd >= 0) {
        close(pp->stop_fd);
        pp->stop_fd = -1;
    }
    for (unsigned q = 0; pp->rings && q < pp->up.n_queues; q++) {
        if (pp->rings[q].data) {
            munmap(pp->rings[q].data, PCAP_RING_SIZE);
        }
        free(pp->rings[q].scratch);
    }
    free(pp->rings);
    pp->rings = NULL;
}

static int
pcap_start(struct port *port, char *err, size_t err_size)
{
    struct port_pcap *pp = port_pcap_cast(port);
    int r = -ENOMEM;
    pp->dead = pcap_open_dead(DLT_EN10MB, (int) pp->snaplen);
    if (!pp->dead) {
        snprintf(err, err_size, "port %s: pcap_open_dead failed", port->name);
        goto out_undo;
    }
    r = pcap_compile_filter(pp, err, err_size);
    if (!r) {
        r = pcap_setup_buffers(pp, err, err_size);
    }
    if (!r) {
        r = pcap_open_sink(pp, err, err_size);
    }
    if (r) {
        goto out_undo;
    }
    r = -pthread_create(&pp->writer, NULL, writer_main, pp);
    if (r) {
        snprintf(err, err_size, "port %s: cannot start its writer thread: "
                 "%s", port->name, strerror(-r));
        goto out_undo;
    }
    pp->writer_running = true;
    char thread_name[16];
    snprintf(thread_name, sizeof thread_name, "pcap-%.10s", port->name);
    pthread_setname_np(pp->writer, thread_name);
    /* So that the file is a capture tcpdump reads as soon as the port
     * exists, unless the sink is stuck from the start (then the port says
     * "stalled" soon). */
    for (int ms = 0; ms < PCAP_HEADER_WAIT_MS; ms++) {
        if (LOAD_ACQUIRE(pp->header_written)) {
            break;
        }
        usleep(1000);
    }
    VLOG_INFO("port %s: writing to %s%s%s%s", port->name, pp->path,
              pp->has_filter ? " (filter '" : "", pp->filter,
              pp->has_filter ? "')" : "");
    return 0;

out_undo:
    pcap_undo_start(pp);
    return r;
}

static void
pcap_destroy(struct port *port)
{
    if (!port) {
        return;
    }
    struct port_pcap *pp = port_pcap_cast(port);
    pcap_undo_start(pp);
    free(pp);
}

static void
pcap_queue_state(const struct port *port, unsigned qid, bool *rx_live,
                 bool *rx_discard, bool *tx_live)
{
    const struct port_pcap *pp = port_pcap_cast(port);
    *rx_live = false;
    *rx_discard = false;
    *tx_live = pp->writer_running;
}

static void
pcap_describe(const struct port *port, struct stats_port_info *info)
{
    const struct port_pcap *pp = port_pcap_cast(port);
    int sink_error = READ_ONCE(pp->sink_error);
    if (!pp->writer_running) {
        snprintf(info->state, sizeof info->state, "down");
    } else if (sink_error) {
        snprintf(info->state, sizeof info->state, "stalled: %s",
                 strerror(sink_error));
    } else {
        snprintf(info->state, sizeof info->state, "up");
    }
    snprintf(info->path, sizeof info->path, "%s", pp->path);
    info->mtu = port->max_frame - 18;
    info->n_active_queues = pp->writer_running ? port->n_queues : 0;
}

/* Republishes the description when the writer got stuck or recovered
 * (the workers' view of the port does not change). */
static void
pcap_tick(struct port *port)
{
    struct port_pcap *pp = port_pcap_cast(port);
    int sink_error = READ_ONCE(pp->sink_error);
    if (sink_error != pp->published_error) {
        pp->published_error = sink_error;
        port_publish_info(port);
    }
}

const struct port_class port_pcap_class = {
    .type = "pcap",
    .rx_burst = pcap_rx_burst,
    .rx_release = pcap_rx_release,
    .tx_burst = pcap_tx_burst,
    .start = pcap_start,
    .destroy = pcap_destroy,
    .describe = pcap_describe,
    .queue_state = pcap_queue_state,
    .tick = pcap_tick,
};

struct port *
port_pcap_create(const struct port_spec *spec, char *err, size_t err_size)
{
    /* Workers write only the rings, allocated (aligned) by start(). */
    struct port_pcap *pp = calloc(1, sizeof *pp);
    if (!pp) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    pp->up.class = &port_pcap_class;
    pp->up.n_queues = spec->n_queues ? MIN(spec->n_queues, STATS_MAX_QUEUES)
                                     : 1;
    snprintf(pp->path, sizeof pp->path, "%s", spec->path);
    snprintf(pp->filter, sizeof pp->filter, "%s", spec->filter);
    pp->snaplen = spec->snaplen ? spec->snaplen : 262144;
    pp->fd = -1;
    pp->stop_fd = -1;
    return &pp->up;
}
