/* hostile.c -- a scripted hostile vhost-user front end (issue 6).
 *
 *   hostile --socket PATH --control CTLSOCK [--port NAME]
 *           [--peer-socket PATH --peer-port NAME]
 *           --scenario NAME[,NAME...]|PREFIX*|all [--repeat N] [--verbose]
 *   hostile --socket PATH --control CTLSOCK [--port NAME] --flood SECONDS
 *           [--idle]
 *   hostile --list
 *
 * Runs each scenario against port NAME (default "h") of a running vuswitch,
 * in a fresh connection, and asserts what the switch must do: the daemon
 * stays alive; the offending device is disconnected with its port state
 * "broken: REASON", or the bad frame is dropped, counted under the right
 * reason and its buffer given back in the used ring.  The optional peer
 * (port "g") is a well-behaved front end that sends frames to the hostile
 * port, for the scenarios that attack the receive direction.  --flood
 * runs the flooder of tests/integration/isolation.sh instead (h_flood).
 *
 * Exit status: 0 all passed (or skipped), 1 a scenario failed or the
 * daemon died, 2 usage.  One line per scenario on stdout.  With
 * HOSTILE_STACKS=1 the first failure also prints the daemon's threads and
 * their stacks (ps, top, gdb) to stderr: what was it doing instead of
 * answering?
 *
 * Used by tests/integration/hostile-frontend.sh; see hostile.h for the
 * harness. */
#include <config.h>

#include "hostile.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "vhu-dev.h"

/* ---- Verdicts and logging. ---- */

/* With HOSTILE_STACKS=1, the daemon's thread stacks at the first failure
 * of a run (gdb), to see what it was doing while it did not answer. */
static void
dump_daemon_stacks(const struct hctx *ctx)
{
    static bool done;
    if (done || !getenv("HOSTILE_STACKS") || ctx->daemon_pid <= 0) {
        return;
    }
    done = true;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "{ ps -L -o tid,psr,stat,pcpu,cls,rtprio,comm "
             "-p %d; top -b -n 1 -w 160 | head -20; gdb -p %d -batch -ex "
             "'thread apply all bt'; } 1>&2 2>/dev/null",
             (int) ctx->daemon_pid, (int) ctx->daemon_pid);
    if (system(cmd)) {
        /* best effort */
    }
}

int
h_fail(struct hctx *ctx, const char *fmt, ...)
{
    dump_daemon_stacks(ctx);
    if (!ctx->why[0]) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(ctx->why, sizeof ctx->why, fmt, args);
        va_end(args);
    }
    return -1;
}

void
h_log(struct hctx *ctx, const char *fmt, ...)
{
    if (ctx->verbose) {
        va_list args;
        va_start(args, fmt);
        fprintf(stderr, "  [%s] ", ctx->scenario ? ctx->scenario : "-");
        vfprintf(stderr, fmt, args);
        fputc('\n', stderr);
        va_end(args);
    }
}

uint64_t
h_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
h_sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
}

/* Alive means running, not a zombie the shell has not reaped yet. */
bool
h_daemon_alive(const struct hctx *ctx)
{
    char path[64], buf[256];

    if (ctx->daemon_pid <= 0 || kill(ctx->daemon_pid, 0)) {
        return false;
    }
    snprintf(path, sizeof path, "/proc/%d/stat", (int) ctx->daemon_pid);
    FILE *f = fopen(path, "r");
    if (!f) {
        return false;
    }
    bool alive = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    const char *p = strrchr(buf, ')');
    return alive && p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* ---- The stats segment. ---- */

/* Asks the control socket for the stats segment (like vuswitchctl). */
static int
map_stats(struct hctx *ctx)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    char buf[4096];
    size_t len = 0;
    int seg_fd = -1;

    if (strlen(ctx->control) >= sizeof sun.sun_path) {
        return -ENAMETOOLONG;
    }
    strcpy(sun.sun_path, ctx->control);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        int err = -errno;
        if (fd >= 0) {
            close(fd);
        }
        return err;
    }
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (send(fd, "stats-fd\n", 9, MSG_NOSIGNAL) != 9) {
        close(fd);
        return -EIO;
    }
    for (;;) {
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } control;
        struct iovec iov = { buf + len, sizeof buf - 1 - len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = control.buf,
                             .msg_controllen = sizeof control.buf };
        ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        if (n <= 0) {
            break;
        }
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        if (c && c->cmsg_type == SCM_RIGHTS && seg_fd < 0) {
            memcpy(&seg_fd, CMSG_DATA(c), sizeof seg_fd);
        }
        len += n;
        if (len >= sizeof buf - 1) {
            break;
        }
    }
    close(fd);
    if (seg_fd < 0) {
        return -EPROTO;
    }
    int err = stats_map_readonly(seg_fd, &ctx->seg);
    close(seg_fd);
    if (!err) {
        ctx->daemon_pid = (pid_t) ctx->seg->hdr.pid;
    }
    return err;
}

static const struct stats_port *
find_port(const struct hctx *ctx, const char *name,
          struct stats_port_info *info)
{
    for (unsigned i = 0; i < STATS_MAX_PORTS; i++) {
        const struct stats_port *p = &ctx->seg->ports[i];
        if (!READ_ONCE(p->info.in_use)) {
            continue;
        }
        /* -EAGAIN: the daemon was rewriting it (and may have been
         * preempted in the middle); look again. */
        int err, tries = 0;
        while ((err = stats_port_info_read(&p->info, info)) == -EAGAIN
               && tries++ < 2000) {
            h_sleep_ms(1);
        }
        if (err) {
            continue;
        }
        if (info->in_use && !strncmp(info->name, name, sizeof info->name)) {
            return p;
        }
    }
    return NULL;
}

int
h_port_state(const struct hctx *ctx, const char *name, char *buf,
             size_t size)
{
    struct stats_port_info info;
    if (!find_port(ctx, name, &info)) {
        snprintf(buf, size, "(no port %s)", name);
        return -ENOENT;
    }
    snprintf(buf, size, "%.*s", (int) sizeof info.state, info.state);
    return 0;
}

int
h_port_counters(const struct hctx *ctx, const char *name,
                struct stats_dir *rx, struct stats_dir *tx)
{
    struct stats_port_info info;
    const struct stats_port *p = find_port(ctx, name, &info);
    if (!p) {
        memset(rx, 0, sizeof *rx);
        memset(tx, 0, sizeof *tx);
        return -ENOENT;
    }
    stats_port_sum(p, rx, tx);
    return 0;
}

static bool
state_is_attached(const char *state)
{
    return !strcmp(state, "connected") || !strcmp(state, "up");
}

int
h_wait_idle(const struct hctx *ctx, const char *name)
{
    uint64_t deadline = h_now_ms() + H_STATE_MS;
    char state[STATS_STATE_SIZE + 1];

    do {
        if (h_port_state(ctx, name, state, sizeof state)) {
            return -ENOENT;
        }
        if (!state_is_attached(state)) {
            return 0;
        }
        h_sleep_ms(2);
    } while (h_now_ms() < deadline);
    return -ETIMEDOUT;
}

int
h_wait_state(const struct hctx *ctx, const char *name, const char *prefix,
             int timeout_ms, char *state, size_t size)
{
    uint64_t deadline = h_now_ms() + (uint64_t) timeout_ms;

    for (;;) {
        if (!h_port_state(ctx, name, state, size)
            && !strncmp(state, prefix, strlen(prefix))) {
            return 0;
        }
        if (h_now_ms() >= deadline) {
            return -ETIMEDOUT;
        }
        h_sleep_ms(2);
    }
}

/* ---- Connections. ---- */

int
h_connect_now(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };

    if (strlen(path) >= sizeof sun.sun_path) {
        return -ENAMETOOLONG;
    }
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    struct timeval tv = { H_REPLY_MS / 1000, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

int
h_connect(struct hctx *ctx, const char *path, const char *port)
{
    /* The switch serves one front end per port and refuses a second one:
     * the previous connection must be gone on its side first. */
    if (h_wait_idle(ctx, port)) {
        return h_fail(ctx, "port %s never became idle", port);
    }
    int fd = h_connect_now(path);
    if (fd < 0) {
        return h_fail(ctx, "connect %s: %s", path, strerror(-fd));
    }
    return fd;
}

int
h_send_raw(int fd, const void *buf, size_t len, const int *fds,
           unsigned n_fds)
{
    union {
        char buf[CMSG_SPACE(64 * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = { (void *) buf, len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (n_fds > 64) {
        return -EINVAL;
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
    ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
    if (n < 0) {
        return -errno;
    }
    return (size_t) n == len ? 0 : -EIO;
}

int
h_send(int fd, uint32_t request, uint32_t flags, const void *payload,
       uint32_t size, const int *fds, unsigned n_fds)
{
    uint8_t buf[VHU_MSG_HDR_SIZE + VHU_MAX_PAYLOAD];
    uint32_t hdr[3] = { request, flags, size };
    uint32_t len = MIN(size, VHU_MAX_PAYLOAD);

    memcpy(buf, hdr, sizeof hdr);
    if (len) {
        if (payload) {
            memcpy(buf + VHU_MSG_HDR_SIZE, payload, len);
        } else {
            memset(buf + VHU_MSG_HDR_SIZE, 0, len);
        }
    }
    return h_send_raw(fd, buf, VHU_MSG_HDR_SIZE + len, fds, n_fds);
}

int
h_recv(int fd, struct vhu_msg *msg, int timeout_ms)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int n = poll(&pfd, 1, timeout_ms);
    if (n < 0) {
        return -errno;
    }
    if (n == 0) {
        return -ETIMEDOUT;
    }
    int err = vhu_msg_recv(fd, msg);
    if (!err) {
        vhu_msg_close_fds(msg);     /* the switch passes none */
    }
    return err == -EPIPE ? -ECONNRESET : err;
}

int64_t
h_request_ack(int fd, uint32_t request, const void *payload, uint32_t size,
              const int *fds, unsigned n_fds)
{
    struct vhu_msg msg;
    int err = h_send(fd, request, VHU_FLAG_VERSION | VHU_FLAG_NEED_REPLY,
                     payload, size, fds, n_fds);
    if (!err) {
        err = h_recv(fd, &msg, H_REPLY_MS);
    }
    if (err) {
        return err;
    }
    if (msg.request != request || !(msg.flags & VHU_FLAG_REPLY)
        || msg.size != sizeof(uint64_t)) {
        return -EPROTO;
    }
    return msg.payload.u64 > INT64_MAX ? 1 : (int64_t) msg.payload.u64;
}

/* A request whose reply is a u64. */
static int
get_u64(int fd, uint32_t request, uint64_t *out)
{
    struct vhu_msg msg;
    int err = h_send(fd, request, VHU_FLAG_VERSION, NULL, 0, NULL, 0);
    if (!err) {
        err = h_recv(fd, &msg, H_REPLY_MS);
    }
    if (err) {
        return err;
    }
    if (msg.request != request || msg.size != sizeof(uint64_t)) {
        return -EPROTO;
    }
    *out = msg.payload.u64;
    return 0;
}

int
h_negotiate(struct hctx *ctx, int fd, uint64_t extra, uint64_t pf)
{
    uint64_t features, pfs;
    int err = get_u64(fd, VHU_GET_FEATURES, &features);
    if (err) {
        return h_fail(ctx, "GET_FEATURES: %s", strerror(-err));
    }
    uint64_t want = (1ull << 32) | (1ull << VHU_F_PROTOCOL_FEATURES) | extra;
    if ((features & want) != want) {
        return h_fail(ctx, "switch does not offer features %#llx",
                      (unsigned long long) (want & ~features));
    }
    err = get_u64(fd, VHU_GET_PROTOCOL_FEATURES, &pfs);
    if (err) {
        return h_fail(ctx, "GET_PROTOCOL_FEATURES: %s", strerror(-err));
    }
    if ((pfs & pf) != pf) {
        return h_fail(ctx, "switch does not offer protocol features %#llx",
                      (unsigned long long) (pf & ~pfs));
    }
    err = h_send(fd, VHU_SET_PROTOCOL_FEATURES, VHU_FLAG_VERSION, &pf,
                 sizeof pf, NULL, 0);
    if (err) {
        return h_fail(ctx, "SET_PROTOCOL_FEATURES: %s", strerror(-err));
    }
    bool acks = pf & (1ull << VHU_PROTOCOL_F_REPLY_ACK);
    int64_t r;
    if (acks) {
        r = h_request_ack(fd, VHU_SET_OWNER, NULL, 0, NULL, 0);
        if (!r) {
            r = h_request_ack(fd, VHU_SET_FEATURES, &want, sizeof want,
                              NULL, 0);
        }
    } else {
        r = h_send(fd, VHU_SET_OWNER, VHU_FLAG_VERSION, NULL, 0, NULL, 0);
        if (!r) {
            r = h_send(fd, VHU_SET_FEATURES, VHU_FLAG_VERSION, &want,
                       sizeof want, NULL, 0);
        }
    }
    if (r) {
        return h_fail(ctx, "SET_OWNER/SET_FEATURES refused (%lld)",
                      (long long) r);
    }
    return 0;
}

/* Reads and drops everything until EOF.  Returns 0 on EOF, -ETIMEDOUT if
 * the switch kept the connection open. */
static int
wait_eof(int fd, int timeout_ms)
{
    uint64_t deadline = h_now_ms() + (uint64_t) timeout_ms;
    char buf[4096];

    for (;;) {
        int left = (int) (deadline - MIN(deadline, h_now_ms()));
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (!left || poll(&pfd, 1, left) == 0) {
            return -ETIMEDOUT;
        }
        /* Fds the switch might pass are closed with the data. */
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            return 0;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return 0;
        }
    }
}

int
h_expect_broken(struct hctx *ctx, int fd, const char *substr)
{
    char state[STATS_STATE_SIZE + 1];
    int err = wait_eof(fd, H_REPLY_MS);
    close(fd);
    if (err) {
        return h_fail(ctx, "the switch kept the offending connection open");
    }
    /* The state is written right after the socket is closed. */
    if (h_wait_state(ctx, ctx->port, "broken: ", 5000, state, sizeof state)) {
        return h_fail(ctx, "connection dropped but port state is \"%s\", "
                      "not \"broken: ...\"%s", state,
                      strcmp(state, "listening") ? ""
                      : " (the switch lost the reason it logged)");
    }
    if (substr && !strstr(state, substr)) {
        return h_fail(ctx, "port state \"%s\" does not mention \"%s\"",
                      state, substr);
    }
    h_log(ctx, "%s", state);
    return 0;
}

int
h_expect_alive(struct hctx *ctx, int fd)
{
    struct vhu_msg msg;
    int err = h_send(fd, VHU_GET_FEATURES, VHU_FLAG_VERSION, NULL, 0, NULL, 0);
    if (!err) {
        err = h_recv(fd, &msg, H_REPLY_MS);
    }
    if (err) {
        char state[STATS_STATE_SIZE + 1];
        h_port_state(ctx, ctx->port, state, sizeof state);
        return h_fail(ctx, "connection not served any more (%s; state %s)",
                      strerror(-err), state);
    }
    if (msg.request != VHU_GET_FEATURES || msg.size != sizeof(uint64_t)) {
        return h_fail(ctx, "unexpected message %s (%u bytes) before the "
                      "GET_FEATURES reply: an extra reply?",
                      vhu_request_name(msg.request), msg.size);
    }
    return 0;
}

void
h_hangup(const struct hctx *ctx, int fd)
{
    if (fd < 0) {
        return;
    }
    shutdown(fd, SHUT_WR);
    wait_eof(fd, H_REPLY_MS);
    close(fd);
}

int
h_memfd(const char *name, uint64_t size)
{
    char full[64];
    snprintf(full, sizeof full, "hostile-%s", name);
    int fd = memfd_create(full, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        return -errno;
    }
    if (ftruncate(fd, (off_t) size)) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

/* ---- Running scenarios. ---- */

static void
stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
}

bool
h_stop_requested(void)
{
    sigset_t pending;
    return !sigpending(&pending) && (sigismember(&pending, SIGINT) == 1
                                     || sigismember(&pending, SIGTERM) == 1);
}

static const struct scenario *const tables[] = {
    h_msg_scenarios,
    h_guest_scenarios,
    h_packed_scenarios,
};

static bool
selected(const char *name, const char *spec)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *save, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (!strcmp(tok, "all") || !fnmatch(tok, name, 0)) {
            return true;
        }
    }
    return false;
}

static void
usage(int status)
{
    printf("Usage: hostile --socket PATH --control CTLSOCK [--port NAME]\n"
           "               [--peer-socket PATH] [--peer-port NAME]\n"
           "               --scenario NAME[,NAME...]|GLOB|all [--repeat N]"
           " [--verbose]\n"
           "       hostile --socket PATH --control CTLSOCK [--port NAME]\n"
           "               --flood SECONDS [--idle]\n"
           "       hostile --list\n"
           "A hostile vhost-user front end against a running vuswitch.\n");
    exit(status);
}

static void
list(void)
{
    for (size_t t = 0; t < ARRAY_SIZE(tables); t++) {
        for (const struct scenario *s = tables[t]; s->name; s++) {
            puts(s->name);
        }
    }
}

int
main(int argc, char *argv[])
{
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' },
        { "port", required_argument, NULL, 'p' },
        { "peer-socket", required_argument, NULL, 'S' },
        { "peer-port", required_argument, NULL, 'P' },
        { "control", required_argument, NULL, 'c' },
        { "scenario", required_argument, NULL, 'x' },
        { "repeat", required_argument, NULL, 'r' },
        { "flood", required_argument, NULL, 'f' },
        { "idle", no_argument, NULL, 'i' },
        { "list", no_argument, NULL, 'l' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct hctx ctx = { .port = "h", .peer_port = "g" };
    const char *spec = NULL;
    int repeat = 1, flood = 0, c;
    bool idle = false;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': ctx.sock_path = optarg; break;
        case 'p': ctx.port = optarg; break;
        case 'S': ctx.peer_path = optarg; break;
        case 'P': ctx.peer_port = optarg; break;
        case 'c': ctx.control = optarg; break;
        case 'x': spec = optarg; break;
        case 'r': repeat = atoi(optarg); break;
        case 'f': flood = atoi(optarg); break;
        case 'i': idle = true; break;
        case 'l': list(); return 0;
        case 'v': ctx.verbose = true; break;
        case 'h': usage(0); break;
        default: usage(2); break;
        }
    }
    if (!ctx.sock_path || !ctx.control || (!spec && flood <= 0)
        || repeat < 1) {
        usage(2);
    }
    signal(SIGPIPE, SIG_IGN);
    vlog_set_level(VLL_ERR);

    int err = map_stats(&ctx);
    if (err) {
        fprintf(stderr, "hostile: cannot read the stats of %s: %s\n",
                ctx.control, strerror(-err));
        return 1;
    }
    struct stats_port_info info;
    if (!find_port(&ctx, ctx.port, &info)) {
        fprintf(stderr, "hostile: the switch has no port %s\n", ctx.port);
        return 1;
    }
    ctx.n_queue_pairs = info.n_queues ? info.n_queues : 1;
    if (flood > 0) {
        sigset_t stop;
        stop_signals(&stop);
        sigprocmask(SIG_BLOCK, &stop, NULL);
        int res = h_flood(&ctx, (unsigned) flood, idle);
        if (!h_daemon_alive(&ctx)) {
            printf("FAIL flood: the daemon died\n");
            return 1;
        }
        if (res) {
            printf("FAIL %s: %s\n", ctx.scenario, ctx.why);
        }
        return res ? 1 : 0;
    }
    if (ctx.peer_path && !find_port(&ctx, ctx.peer_port, &info)) {
        fprintf(stderr, "hostile: the switch has no port %s\n",
                ctx.peer_port);
        return 1;
    }

    unsigned n_pass = 0, n_fail = 0, n_skip = 0;
    for (int r = 0; r < repeat; r++) {
        for (size_t t = 0; t < ARRAY_SIZE(tables); t++) {
            for (const struct scenario *s = tables[t]; s->name; s++) {
                if (!selected(s->name, spec)) {
                    continue;
                }
                ctx.scenario = s->name;
                ctx.why[0] = '\0';
                uint64_t t0 = h_now_ms();
                int res = s->run(&ctx, s->arg);
                if (!h_daemon_alive(&ctx)) {
                    printf("FAIL %s: the daemon died\n", s->name);
                    fflush(stdout);
                    return 1;
                }
                if (res == H_SKIP) {
                    printf("SKIP %s: %s\n", s->name, ctx.why);
                    n_skip++;
                } else if (res) {
                    printf("FAIL %s: %s\n", s->name,
                           ctx.why[0] ? ctx.why : "(no reason given)");
                    n_fail++;
                } else {
                    printf("PASS %s (%llu ms)\n", s->name,
                           (unsigned long long) (h_now_ms() - t0));
                    n_pass++;
                }
                fflush(stdout);
            }
        }
    }
    if (!n_pass && !n_fail && !n_skip) {
        fprintf(stderr, "hostile: no scenario matches %s (see --list)\n",
                spec);
        return 2;
    }
    printf("hostile: %u passed, %u failed, %u skipped\n", n_pass, n_fail,
           n_skip);
    /* Leave the port free for whoever comes next. */
    h_wait_idle(&ctx, ctx.port);
    return n_fail ? 1 : 0;
}
