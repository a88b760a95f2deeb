/* vu-channels.c -- `ethtool -l/-L IFACE combined N` for the test guest.
 *
 *   vu-channels IFACE            prints the channel counts
 *   vu-channels IFACE COMBINED   sets the combined count, then prints them
 *
 * Output, one line: "combined=N max_combined=M" (what the driver reports
 * after the change).  Exit status 0, or 1 with the error on stderr.
 *
 * The guest image (tests/vm/build-guest.sh) is a busybox initramfs, and
 * busybox has no ethtool; Debian's ethtool would need its shared libraries
 * in the image too.  This helper is built with `gcc -static` by
 * build-guest.sh and installed as /bin/vu-channels.  guest-init's
 * vu_channels wraps it for the tests (qemu-queues-later.sh): for
 * virtio-net, setting the combined count is what makes the guest driver
 * send VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, which QEMU turns into
 * SET_VRING_ENABLE messages to the vhost-user backend. */
#include <errno.h>
#include <limits.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* One SIOCETHTOOL request on 'ifname'.  Returns 0 or -errno. */
static int
channels_ioctl(int fd, const char *ifname, struct ethtool_channels *ch)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    ifr.ifr_data = (void *) ch;
    return ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
}

static int
parse_count(const char *s, unsigned *out)
{
    char *end;

    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v == 0 || v > UINT_MAX) {
        return -EINVAL;
    }
    *out = (unsigned) v;
    return 0;
}

int
main(int argc, char *argv[])
{
    struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
    unsigned want = 0;
    int fd, err;

    if (argc < 2 || argc > 3 || strlen(argv[1]) >= IFNAMSIZ
        || (argc == 3 && parse_count(argv[2], &want))) {
        fprintf(stderr, "usage: vu-channels IFACE [COMBINED]\n");
        return 1;
    }
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("vu-channels: socket");
        return 1;
    }
    err = channels_ioctl(fd, argv[1], &ch);
    if (!err && argc == 3) {
        /* The driver rejects counts above its maximum itself (-EINVAL);
         * keep the other counts as they are. */
        ch.cmd = ETHTOOL_SCHANNELS;
        ch.combined_count = want;
        err = channels_ioctl(fd, argv[1], &ch);
        if (!err) {
            ch.cmd = ETHTOOL_GCHANNELS;
            err = channels_ioctl(fd, argv[1], &ch);
        }
    }
    close(fd);
    if (err) {
        fprintf(stderr, "vu-channels: %s: %s\n", argv[1], strerror(-err));
        return 1;
    }
    printf("combined=%u max_combined=%u\n", ch.combined_count,
           ch.max_combined);
    return 0;
}
