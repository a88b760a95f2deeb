/* fuzz-vhu-msg.c -- libFuzzer target: the vhost-user message framing,
 * validation and device state machine (lib/vhu-msg.c, lib/vhu-dev.c, and
 * through them lib/gmem.c and lib/vq.c's ring set-up).
 *
 * The input is a script of records that become the byte stream (and file
 * descriptors) a front end sends over a UNIX socketpair; the other end is
 * attached to a vhu_dev with no-op ops, and vhu_dev_handle_readable() runs
 * until the device drops the connection or the stream ends, the way
 * pmd/port-vhost.c drives it.
 *
 *   record  = op:u8 ...
 *   op % 4 == 3          the connection ends here; the next records go to
 *                        a new one (the device is disconnected in between)
 *   op % 4 == 0, 1, 2    a chunk: len:u16le (mod 600) and len bytes, sent
 *                        with (op >> 2) % 24 fds, each made from one spec
 *                        byte (below); 0: one sendmsg; 1: split in two
 *                        sends at half, fds on the first; 2: fds on the
 *                        second
 *   fd spec byte b:      b >> 5 == 0..3: a memfd of fd_sizes[b & 31]
 *                        bytes; 4: an eventfd; 5: a pipe's read end;
 *                        6: a socket; 7: /dev/null
 *
 * Oracles besides the sanitizers: once the device is disconnected after
 * each input, the process has exactly the descriptors it had before (no
 * fd the front end passed, nor any the device opened, is left) and no
 * guest memory stays mapped.
 *
 * Build: tests/fuzz/build.sh.  Run: see tests/integration/fuzz.sh. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "vhu-dev.h"

#define MAX_CHUNK 600
#define MAX_FDS_PER_CHUNK 24

static const uint32_t fd_sizes[32] = {
    0, 1, 12, 4095, 4096, 4097, 8192, 12288, 16384, 32768, 65536, 65537,
    131072, 262144, 1 << 20, 2 << 20, 4096, 4096, 8192, 8192, 16384, 16384,
    65536, 65536, 1 << 20, 1 << 20, 24576, 40960, 49152, 98304, 196608,
    3 << 20,
};

static void quiesce(struct vhu_dev *dev, void *aux) { (void) dev; (void) aux; }
static void changed(struct vhu_dev *dev, void *aux) { (void) dev; (void) aux; }
static void rarp(struct vhu_dev *dev, const uint8_t mac[6], void *aux)
{
    (void) dev; (void) mac; (void) aux;
}

static const struct vhu_dev_ops ops = { quiesce, changed, rarp };

static int
count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d) {
        abort();
    }
    while (readdir(d)) {
        n++;
    }
    closedir(d);
    return n;
}

/* A cursor over the input. */
struct in {
    const uint8_t *p;
    size_t left;
};

static bool
take(struct in *in, void *out, size_t n)
{
    if (in->left < n) {
        memset(out, 0, n);
        return false;
    }
    memcpy(out, in->p, n);
    in->p += n;
    in->left -= n;
    return true;
}

static int
make_fd(uint8_t spec, int *extra)
{
    int p[2];

    *extra = -1;
    switch (spec >> 5) {
    case 4:
        return eventfd(0, EFD_CLOEXEC);
    case 5:
        if (pipe2(p, O_CLOEXEC)) {
            return -1;
        }
        *extra = p[1];
        return p[0];
    case 6:
        return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    case 7:
        return open("/dev/null", O_RDWR | O_CLOEXEC);
    default: {
        int fd = memfd_create("fuzz-guest", MFD_CLOEXEC);
        if (fd >= 0 && ftruncate(fd, fd_sizes[spec & 31])) {
            close(fd);
            return -1;
        }
        return fd;
    }
    }
}

static void
send_part(int sock, const uint8_t *buf, size_t len, const int *fds,
          unsigned n_fds)
{
    union {
        char buf[CMSG_SPACE(MAX_FDS_PER_CHUNK * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = { (void *) buf, len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (!len) {
        return;                 /* fds need a byte to ride on */
    }
    if (n_fds) {
        memset(&control, 0, sizeof control);
        mh.msg_control = control.buf;
        mh.msg_controllen = CMSG_SPACE(n_fds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, n_fds * sizeof(int));
    }
    /* The socket buffer holds far more than an input: never blocks. */
    (void) sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Writes the records of one connection into 'sock'.  Returns false at the
 * end of the input. */
static bool
write_connection(struct in *in, int sock)
{
    uint8_t op;

    while (take(in, &op, 1)) {
        if (op % 4 == 3) {
            return true;
        }
        uint16_t len;
        uint8_t buf[MAX_CHUNK];
        take(in, &len, sizeof len);
        len %= MAX_CHUNK;
        if (len > in->left) {
            len = (uint16_t) in->left;
        }
        take(in, buf, len);

        int fds[MAX_FDS_PER_CHUNK], extras[MAX_FDS_PER_CHUNK];
        unsigned n_fds = (op >> 2) % (MAX_FDS_PER_CHUNK + 1);
        unsigned n = 0;
        for (unsigned i = 0; i < n_fds; i++) {
            uint8_t spec;
            if (!take(in, &spec, 1)) {
                break;
            }
            fds[n] = make_fd(spec, &extras[n]);
            if (fds[n] >= 0) {
                n++;
            } else if (extras[n] >= 0) {
                close(extras[n]);
            }
        }
        size_t half = len / 2;
        switch (op % 4) {
        case 0:
            send_part(sock, buf, len, fds, n);
            break;
        case 1:
            send_part(sock, buf, half, fds, n);
            send_part(sock, buf + half, len - half, NULL, 0);
            break;
        default:
            send_part(sock, buf, half, NULL, 0);
            send_part(sock, buf + half, len - half, fds, n);
            break;
        }
        for (unsigned i = 0; i < n; i++) {
            close(fds[i]);
            if (extras[i] >= 0) {
                close(extras[i]);
            }
        }
    }
    return false;
}

static void
drain(int sock)
{
    char buf[4096];
    while (recv(sock, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    static struct vhu_dev dev;
    struct in in = { data, size };
    bool more = true;

    if (!ready) {
        vlog_set_level(getenv("FUZZ_LOG") ? VLL_DBG : VLL_ERR);
        ready = true;
    }
    /* Counted per input: libFuzzer itself opens descriptors between
     * inputs (the symbolizer's pipes when it reports a new function). */
    int baseline = count_fds();
    vhu_dev_init(&dev, "fuzz", 2, &ops, NULL);
    for (unsigned conn = 0; more && conn < 16; conn++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
            abort();
        }
        int big = 4 << 20;
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
        setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
        setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
        more = write_connection(&in, sv[0]);
        /* The stream ends here: a message cut short meets EOF at once,
         * not the device's receive timeout. */
        shutdown(sv[0], SHUT_WR);
        vhu_dev_attach(&dev, sv[1]);
        for (unsigned i = 0; i < 4096; i++) {
            int err = vhu_dev_handle_readable(&dev);
            drain(sv[0]);
            if (err) {
                break;
            }
        }
        vhu_dev_disconnect(&dev);
        close(sv[0]);
        if (dev.mem.n_regions || dev.sock >= 0) {
            fprintf(stderr, "disconnect left %u regions, socket %d\n",
                    dev.mem.n_regions, dev.sock);
            abort();
        }
    }
    vhu_dev_destroy(&dev);
    int now = count_fds();
    if (now != baseline) {
        fprintf(stderr, "fd leak: %d open before, %d after\n", baseline,
                now);
        abort();
    }
    return 0;
}
