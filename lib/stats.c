/* stats.c -- the statistics segment (see stats.h): created by the daemon's
 * main thread at start, handed read-only to vuswitchctl over the control
 * socket, read by it without any help from the daemon.
 *
 * The segment is a sealed memfd: nothing to clean up in /dev/shm when the
 * daemon dies, and no client can shrink it under the daemon's feet (which
 * would turn the workers' counter stores into SIGBUS). */
#include <config.h>
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tsc.h"

const char *const stats_drop_names[N_DROP_REASONS] = {
    [DROP_DST_RING_FULL] = "dst_ring_full",
    [DROP_NO_RX_BUFFERS] = "no_rx_buffers",
    [DROP_MTU_EXCEEDED] = "mtu_exceeded",
    [DROP_BAD_DESCRIPTOR] = "bad_descriptor",
    [DROP_BAD_ADDRESS] = "bad_address",
    [DROP_HEADER_TOO_SHORT] = "header_too_short",
    [DROP_PORT_DOWN] = "port_down",
    [DROP_RING_DISABLED] = "ring_disabled",
    [DROP_SINK_FULL] = "sink_full",
    [DROP_NO_DESTINATION] = "no_destination",
};

/* Fills a zeroed segment with what never changes, and marks every worker
 * and queue owner as "none" (0 would name worker 0). */
static void
stats_init(struct stats_segment *seg)
{
    struct stats_header *h = &seg->hdr;
    h->version = STATS_VERSION;
    h->size = sizeof *seg;
    h->max_ports = STATS_MAX_PORTS;
    h->max_queues = STATS_MAX_QUEUES;
    h->max_workers = STATS_MAX_WORKERS;
    h->tsc_hz = tsc_hz();
    h->pid = getpid();
    h->start_time = time(NULL);

    for (int w = 0; w < STATS_MAX_WORKERS; w++) {
        seg->workers[w].cpu = -1;
    }
    for (int p = 0; p < STATS_MAX_PORTS; p++) {
        struct stats_port_info *info = &seg->ports[p].info;
        for (int q = 0; q < STATS_MAX_QUEUES; q++) {
            info->rx_owner[q] = info->tx_owner[q] = -1;
        }
    }
    /* The magic last: a reader that sees it sees a complete header. */
    STORE_RELEASE(h->magic, STATS_MAGIC);
}

int
stats_create(struct stats_segment **segp, int *fdp)
{
    size_t size = sizeof(struct stats_segment);
    int fd = memfd_create("vuswitch-stats", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        return -errno;
    }
    int error = 0;
    if (ftruncate(fd, size) < 0
        || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) {
        error = -errno;
        goto out_close;
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        error = -errno;
        goto out_close;
    }
    stats_init(p);
    *segp = p;
    *fdp = fd;
    return 0;

out_close:
    close(fd);
    return error;
}

int
stats_open_readonly(int fd)
{
    /* Reopening through /proc gives a new open file description, so its
     * O_RDONLY access mode is enforced on whoever receives it: mmap with
     * PROT_WRITE and MAP_SHARED fails with EACCES. */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int ro = open(path, O_RDONLY | O_CLOEXEC);
    return ro < 0 ? -errno : ro;
}

static int
header_is_valid(const struct stats_header *h)
{
    return LOAD_ACQUIRE(h->magic) == STATS_MAGIC
           && h->version == STATS_VERSION
           && h->size == sizeof(struct stats_segment)
           && h->max_ports == STATS_MAX_PORTS
           && h->max_queues == STATS_MAX_QUEUES
           && h->max_workers == STATS_MAX_WORKERS;
}

int
stats_map_readonly(int fd, const struct stats_segment **segp)
{
    size_t size = sizeof(struct stats_segment);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        return -errno;
    }
    if (!S_ISREG(st.st_mode) || (size_t) st.st_size != size) {
        return -EPROTO;
    }
    void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        return -errno;
    }
    if (!header_is_valid(p)) {
        munmap(p, size);
        return -EPROTO;
    }
    *segp = p;
    return 0;
}

/* The sequence lock follows Boehm, "Can seqlocks get along with
 * programming language memory models?" (2012): the writer makes 'seq' odd,
 * a release fence keeps the data stores after it, and the final release
 * store publishes them; the reader's acquire fence keeps its data loads
 * before the second read of 'seq'.  There is a single writer (the control
 * thread), so plain increments of 'seq' suffice. */
void
stats_port_info_begin(struct stats_port_info *info)
{
    WRITE_ONCE(info->seq, info->seq + 1);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

void
stats_port_info_end(struct stats_port_info *info)
{
    STORE_RELEASE(info->seq, info->seq + 1);
}

int
stats_port_info_read(const struct stats_port_info *info,
                     struct stats_port_info *copy)
{
    for (int tries = 0; tries < 1000; tries++) {
        uint32_t seq = LOAD_ACQUIRE(info->seq);
        if (!(seq & 1)) {
            memcpy(copy, info, sizeof *copy);
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
            if (READ_ONCE(info->seq) == seq) {
                copy->seq = seq;
                return 0;
            }
        }
        cpu_relax();
    }
    return -EAGAIN;
}

static void
dir_add(struct stats_dir *sum, const struct stats_dir *d)
{
    sum->packets += READ_ONCE(d->packets);
    sum->bytes += READ_ONCE(d->bytes);
    for (int r = 0; r < N_DROP_REASONS; r++) {
        sum->drops[r] += READ_ONCE(d->drops[r]);
    }
    sum->notify_sent += READ_ONCE(d->notify_sent);
    sum->notify_suppressed += READ_ONCE(d->notify_suppressed);
    sum->kicks += READ_ONCE(d->kicks);
    sum->flooded += READ_ONCE(d->flooded);
}

void
stats_port_sum(const struct stats_port *port, struct stats_dir *rx,
               struct stats_dir *tx)
{
    /* Every queue, not just n_queues: a queue that is not configured
     * counts nothing, and a frame counted on it must not vanish. */
    memset(rx, 0, sizeof *rx);
    memset(tx, 0, sizeof *tx);
    for (int q = 0; q < STATS_MAX_QUEUES; q++) {
        dir_add(rx, &port->queues[q].rx);
        dir_add(tx, &port->queues[q].tx);
    }
}

uint64_t
stats_dir_dropped(const struct stats_dir *d)
{
    uint64_t sum = 0;
    for (int r = 0; r < N_DROP_REASONS; r++) {
        sum += READ_ONCE(d->drops[r]);
    }
    return sum;
}
