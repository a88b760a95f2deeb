/* vuswitchctl.c -- the command-line client of a running vuswitch.
 *
 * Two channels (see switch/ctl-server.h and lib/stats.h):
 *   - the control socket, one request per connection, for commands that
 *     change things (add-port, del-port, capture, capture-stop, fdb-flush,
 *     log-level) and for the MAC table (fdb);
 *   - the stats segment, which `stats` and `ports` get once with the
 *     `stats-fd` request and then read on their own, so that `stats
 *     --watch` costs the daemon nothing per refresh.
 *
 * The command line is parsed by ctl-args.c, which knows every command;
 * this file runs what it describes.
 *
 * Exit codes: 0 success, 1 error (no daemon, refused request), 2 usage. */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl-args.h"
#include "json.h"
#include "stats.h"
#include "util.h"

#define MAX_REQUEST 4096
#define REPLY_TIMEOUT_SEC 30    /* del-port, capture-stop wait for the
                                   workers */

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2 };

static const char *control_path;

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int code, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fputs("vuswitchctl: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    exit(code);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fputs("vuswitchctl: ", stderr);
    vfprintf(stderr, fmt, args);
    fputs(" (see vuswitchctl --help)\n", stderr);
    va_end(args);
    exit(EXIT_USAGE);
}

/* ---- Talking to the daemon ---------------------------------------------- */

static int
connect_daemon(void)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    if (strlen(control_path) >= sizeof sun.sun_path) {
        die(EXIT_ERROR, "control socket path too long: %s", control_path);
    }
    strcpy(sun.sun_path, control_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        die(EXIT_ERROR, "socket: %s", strerror(errno));
    }
    if (connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        int e = errno;
        die(EXIT_ERROR, "cannot connect to %s: %s (%s)", control_path,
            strerror(e), e == EACCES || e == EPERM
            ? "are you root or in the socket's group?"
            : "is vuswitch running?");
    }
    struct timeval tv = { REPLY_TIMEOUT_SEC, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

/* Appends what one recvmsg() brings to 'buf'; keeps an attached fd. */
static ssize_t
receive_some(int fd, char *buf, size_t size, int *passed_fd)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = { buf, size };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = control.buf,
                          .msg_controllen = sizeof control.buf };
    ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS
        && c->cmsg_len == CMSG_LEN(sizeof(int)) && *passed_fd < 0) {
        memcpy(passed_fd, CMSG_DATA(c), sizeof(int));
    }
    return n;
}

/* Sends one request line and returns the daemon's parsed reply, which
 * said "ok" (a refusal ends the program with the daemon's message).
 * '*passed_fd' (if not NULL) gets the fd the daemon attached, or -1. */
static void
request(const char *line, struct json_value *reply, int *passed_fd)
{
    int fd = connect_daemon();
    char req[MAX_REQUEST + 1];
    int n = snprintf(req, sizeof req, "%s\n", line);
    if (n < 0 || n >= (int) sizeof req) {
        usage_error("request too long (at most %d bytes)", MAX_REQUEST);
    }
    if (send(fd, req, n, MSG_NOSIGNAL) != n) {
        die(EXIT_ERROR, "cannot send to %s: %s", control_path,
            strerror(errno));
    }

    size_t cap = 0, len = 0;
    char *buf = NULL;
    int fd_in = -1;
    for (;;) {
        if (len + 1 >= cap) {
            cap = cap ? 2 * cap : 4096;
            char *bigger = realloc(buf, cap);
            if (!bigger) {
                die(EXIT_ERROR, "out of memory");
            }
            buf = bigger;
        }
        ssize_t got = receive_some(fd, buf + len, cap - 1 - len, &fd_in);
        if (got < 0) {
            die(EXIT_ERROR, "no reply from %s: %s", control_path,
                errno == EAGAIN ? "timed out" : strerror(errno));
        }
        if (got == 0) {
            break;
        }
        len += got;
    }
    close(fd);

    char err[128];
    if (len == 0 || json_parse(buf, len, reply, err, sizeof err)) {
        die(EXIT_ERROR, "bad reply from %s: %s", control_path,
            len ? err : "empty (is it a vuswitch control socket?)");
    }
    free(buf);
    if (!json_get_bool(reply, "ok", false)) {
        const char *msg = json_get_string(reply, "error");
        die(EXIT_ERROR, "%s", msg ? msg : "request failed");
    }
    if (passed_fd) {
        *passed_fd = fd_in;
    } else if (fd_in >= 0) {
        close(fd_in);
    }
}

/* The request line: the command's name, then its operands. */
static void
join_request(char *line, size_t size, const struct ctl_args *a)
{
    size_t len = snprintf(line, size, "%s", a->name);
    for (int i = 0; i < a->n_operands; i++) {
        int n = snprintf(line + len, size - len, " %s", a->operands[i]);
        if (n < 0 || (size_t) n >= size - len) {
            usage_error("request too long (at most %d bytes)", MAX_REQUEST);
        }
        len += n;
    }
}

/* Sends a command whose reply is just "ok". */
static int
simple_command(const struct ctl_args *a)
{
    char line[MAX_REQUEST];
    struct json_value reply;
    join_request(line, sizeof line, a);
    request(line, &reply, NULL);
    json_value_free(&reply);
    return EXIT_OK;
}

/* ---- The stats segment -------------------------------------------------- */

static const struct stats_segment *
map_stats(void)
{
    struct json_value reply;
    int fd;
    request("stats-fd", &reply, &fd);
    json_value_free(&reply);
    if (fd < 0) {
        die(EXIT_ERROR, "the daemon sent no stats segment");
    }
    const struct stats_segment *seg;
    int error = stats_map_readonly(fd, &seg);
    if (error) {
        die(EXIT_ERROR, "cannot map the stats segment: %s", error == -EPROTO
            ? "unknown layout (do vuswitch and vuswitchctl versions differ?)"
            : strerror(-error));
    }
    close(fd);
    return seg;
}

struct port_snap {
    bool used;
    struct stats_port_info info;
    struct stats_dir rx, tx;                    /* over all queues */
    struct stats_dir qrx[STATS_MAX_QUEUES], qtx[STATS_MAX_QUEUES];
};

struct snapshot {
    double time;                                /* CLOCK_MONOTONIC, s */
    struct port_snap ports[STATS_MAX_PORTS];
    struct stats_worker workers[STATS_MAX_WORKERS];
};

static double
now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
dir_copy(struct stats_dir *dst, const struct stats_dir *src)
{
    dst->packets = READ_ONCE(src->packets);
    dst->bytes = READ_ONCE(src->bytes);
    for (int r = 0; r < N_DROP_REASONS; r++) {
        dst->drops[r] = READ_ONCE(src->drops[r]);
    }
    dst->notify_sent = READ_ONCE(src->notify_sent);
    dst->notify_suppressed = READ_ONCE(src->notify_suppressed);
    dst->kicks = READ_ONCE(src->kicks);
    dst->flooded = READ_ONCE(src->flooded);
}

static void
take_snapshot(const struct stats_segment *seg, struct snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->time = now_sec();
    for (int p = 0; p < STATS_MAX_PORTS; p++) {
        struct port_snap *ps = &s->ports[p];
        const struct stats_port *port = &seg->ports[p];
        if (stats_port_info_read(&port->info, &ps->info) || !ps->info.in_use) {
            continue;
        }
        ps->used = true;
        ps->info.name[STATS_NAME_SIZE - 1] = '\0';
        ps->info.type[sizeof ps->info.type - 1] = '\0';
        ps->info.state[STATS_STATE_SIZE - 1] = '\0';
        ps->info.path[sizeof ps->info.path - 1] = '\0';
        ps->info.n_queues = MIN(ps->info.n_queues, STATS_MAX_QUEUES);
        stats_port_sum(port, &ps->rx, &ps->tx);
        for (int q = 0; q < STATS_MAX_QUEUES; q++) {
            dir_copy(&ps->qrx[q], &port->queues[q].rx);
            dir_copy(&ps->qtx[q], &port->queues[q].tx);
        }
    }
    for (int w = 0; w < STATS_MAX_WORKERS; w++) {
        const struct stats_worker *src = &seg->workers[w];
        struct stats_worker *dst = &s->workers[w];
        dst->frames = READ_ONCE(src->frames);
        dst->busy_cycles = READ_ONCE(src->busy_cycles);
        dst->idle_cycles = READ_ONCE(src->idle_cycles);
        dst->bursts = READ_ONCE(src->bursts);
        dst->stalled_cycles = READ_ONCE(src->stalled_cycles);
        dst->stalls = READ_ONCE(src->stalls);
        dst->handoff_lost = READ_ONCE(src->handoff_lost);
        dst->cpu = READ_ONCE(src->cpu);
        dst->in_use = READ_ONCE(src->in_use);
    }
}

/* ---- stats --json ------------------------------------------------------- */

static void
json_drops(struct json *j, const char *key, const struct stats_dir *a,
           const struct stats_dir *b)
{
    json_key(j, key);
    json_object_begin(j);
    for (int r = 0; r < N_DROP_REASONS; r++) {
        json_kv_u64(j, stats_drop_names[r], a->drops[r]
                                            + (b ? b->drops[r] : 0));
    }
    json_object_end(j);
}

static void
json_queue(struct json *j, const struct port_snap *ps, int q)
{
    const struct stats_dir *rx = &ps->qrx[q], *tx = &ps->qtx[q];
    json_object_begin(j);
    json_kv_i64(j, "id", q);
    json_kv_u64(j, "rx_packets", rx->packets);
    json_kv_u64(j, "rx_bytes", rx->bytes);
    json_kv_u64(j, "tx_packets", tx->packets);
    json_kv_u64(j, "tx_bytes", tx->bytes);
    json_kv_u64(j, "rx_dropped", stats_dir_dropped(rx));
    json_kv_u64(j, "tx_dropped", stats_dir_dropped(tx));
    json_kv_u64(j, "rx_flooded", rx->flooded);
    json_drops(j, "rx_drops", rx, NULL);
    json_drops(j, "tx_drops", tx, NULL);
    json_kv_u64(j, "notify_sent", rx->notify_sent + tx->notify_sent);
    json_kv_u64(j, "notify_suppressed",
                rx->notify_suppressed + tx->notify_suppressed);
    json_kv_u64(j, "kicks", rx->kicks + tx->kicks);
    json_kv_i64(j, "rx_worker", ps->info.rx_owner[q]);
    json_kv_i64(j, "tx_worker", ps->info.tx_owner[q]);
    json_object_end(j);
}

static void
json_port_stats(struct json *j, const struct port_snap *ps)
{
    json_object_begin(j);
    json_kv_string(j, "name", ps->info.name);
    json_kv_string(j, "type", ps->info.type);
    json_kv_string(j, "state", ps->info.state);
    json_kv_u64(j, "rx_packets", ps->rx.packets);
    json_kv_u64(j, "rx_bytes", ps->rx.bytes);
    json_kv_u64(j, "tx_packets", ps->tx.packets);
    json_kv_u64(j, "tx_bytes", ps->tx.bytes);
    json_kv_u64(j, "rx_dropped", stats_dir_dropped(&ps->rx));
    json_kv_u64(j, "tx_dropped", stats_dir_dropped(&ps->tx));
    json_kv_u64(j, "rx_flooded", ps->rx.flooded);
    json_drops(j, "drops", &ps->rx, &ps->tx);
    json_key(j, "queues");
    json_array_begin(j);
    for (unsigned q = 0; q < ps->info.n_queues; q++) {
        json_queue(j, ps, q);
    }
    json_array_end(j);
    json_object_end(j);
}

static void
print_stats_json(const struct snapshot *s, bool pretty)
{
    struct json j;
    json_init(&j, pretty);
    json_object_begin(&j);
    json_key(&j, "ports");
    json_array_begin(&j);
    for (int p = 0; p < STATS_MAX_PORTS; p++) {
        if (s->ports[p].used) {
            json_port_stats(&j, &s->ports[p]);
        }
    }
    json_array_end(&j);
    json_key(&j, "workers");
    json_array_begin(&j);
    for (int w = 0; w < STATS_MAX_WORKERS; w++) {
        const struct stats_worker *wk = &s->workers[w];
        if (wk->in_use) {
            json_object_begin(&j);
            json_kv_i64(&j, "id", w);
            json_kv_i64(&j, "cpu", wk->cpu);
            json_kv_u64(&j, "frames", wk->frames);
            json_kv_u64(&j, "busy_cycles", wk->busy_cycles);
            json_kv_u64(&j, "idle_cycles", wk->idle_cycles);
            json_kv_u64(&j, "bursts", wk->bursts);
            json_kv_u64(&j, "stalled_cycles", wk->stalled_cycles);
            json_kv_u64(&j, "stalls", wk->stalls);
            json_kv_u64(&j, "handoff_lost", wk->handoff_lost);
            json_object_end(&j);
        }
    }
    json_array_end(&j);
    json_object_end(&j);
    if (json_error(&j)) {
        die(EXIT_ERROR, "out of memory");
    }
    printf("%s\n", json_text(&j));
    json_destroy(&j);
}

/* ---- stats, human ------------------------------------------------------- */

static const char *
uptime(uint64_t start, char *buf, size_t size)
{
    uint64_t now = time(NULL), t = now > start ? now - start : 0;
    if (t >= 86400) {
        snprintf(buf, size, "%" PRIu64 "d%02" PRIu64 "h", t / 86400,
                 t / 3600 % 24);
    } else {
        snprintf(buf, size, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, t / 3600,
                 t / 60 % 60, t % 60);
    }
    return buf;
}

static void
print_header(FILE *out, const struct stats_segment *seg)
{
    char up[32];
    fprintf(out, "vuswitch pid %" PRId64 ", up %s, TSC %.2f GHz\n\n",
            seg->hdr.pid, uptime(seg->hdr.start_time, up, sizeof up),
            seg->hdr.tsc_hz / 1e9);
}

/* Rates of 'cur' against 'prev' for the same port (same generation). */
static bool
port_rates(const struct port_snap *cur, const struct port_snap *prev,
           double dt, double rates[4])
{
    if (!prev || !prev->used || prev->info.generation != cur->info.generation
        || dt <= 0) {
        return false;
    }
    rates[0] = (cur->rx.packets - prev->rx.packets) / dt;
    rates[1] = (cur->rx.bytes - prev->rx.bytes) * 8 / dt / 1e6;
    rates[2] = (cur->tx.packets - prev->tx.packets) / dt;
    rates[3] = (cur->tx.bytes - prev->tx.bytes) * 8 / dt / 1e6;
    return true;
}

static void
print_port_drops(FILE *out, const struct port_snap *ps)
{
    bool any = false;
    for (int r = 0; r < N_DROP_REASONS; r++) {
        uint64_t rx = ps->rx.drops[r], tx = ps->tx.drops[r];
        if (rx + tx) {
            fprintf(out, "%s %s=%" PRIu64, any ? "" : "    drops:",
                    stats_drop_names[r], rx + tx);
            any = true;
        }
    }
    if (any) {
        fputc('\n', out);
    }
}

static void
print_ports_table(FILE *out, const struct snapshot *s,
                  const struct snapshot *prev)
{
    double dt = prev ? s->time - prev->time : 0;
    fprintf(out, "%-16s %-5s %-12s %14s %14s %10s %10s", "PORT", "TYPE",
            "STATE", "RX_PACKETS", "TX_PACKETS", "RX_DROP", "TX_DROP");
    fprintf(out, prev ? " %12s %9s %12s %9s\n" : "\n", "RX_PPS", "RX_Mb/s",
            "TX_PPS", "TX_Mb/s");
    for (int p = 0; p < STATS_MAX_PORTS; p++) {
        const struct port_snap *ps = &s->ports[p];
        if (!ps->used) {
            continue;
        }
        fprintf(out, "%-16s %-5s %-12s %14" PRIu64 " %14" PRIu64 " %10"
                PRIu64 " %10" PRIu64, ps->info.name, ps->info.type,
                ps->info.state, ps->rx.packets, ps->tx.packets,
                stats_dir_dropped(&ps->rx), stats_dir_dropped(&ps->tx));
        double r[4];
        if (prev && port_rates(ps, &prev->ports[p], dt, r)) {
            fprintf(out, " %12.0f %9.1f %12.0f %9.1f", r[0], r[1], r[2], r[3]);
        } else if (prev) {
            fprintf(out, " %12s %9s %12s %9s", "-", "-", "-", "-");
        }
        fputc('\n', out);
        print_port_drops(out, ps);
        if (ps->rx.flooded) {
            fprintf(out, "    flooded: %" PRIu64 " (broadcast, multicast, "
                    "unknown destination)\n", ps->rx.flooded);
        }
    }
}

/* Busy % and cycles per frame, over the last interval when 'prev' is
 * given, since the start otherwise. */
static void
print_workers_table(FILE *out, const struct snapshot *s,
                    const struct snapshot *prev)
{
    fprintf(out, "\n%-6s %4s %16s %7s %8s %12s\n", "WORKER", "CPU",
            prev ? "FRAMES/s" : "FRAMES", "BUSY%", "STALLED%",
            "CYCLES/FRAME");
    for (int w = 0; w < STATS_MAX_WORKERS; w++) {
        const struct stats_worker *c = &s->workers[w];
        const struct stats_worker *p = prev ? &prev->workers[w] : NULL;
        if (!c->in_use) {
            continue;
        }
        uint64_t frames = c->frames - (p ? p->frames : 0);
        uint64_t busy = c->busy_cycles - (p ? p->busy_cycles : 0);
        uint64_t idle = c->idle_cycles - (p ? p->idle_cycles : 0);
        uint64_t stalled = c->stalled_cycles - (p ? p->stalled_cycles : 0);
        uint64_t all = busy + idle + stalled;
        double dt = p ? s->time - prev->time : 1;
        fprintf(out, "%-6d %4d %16.0f", w, c->cpu, dt > 0 ? frames / dt : 0);
        if (all) {
            fprintf(out, " %6.1f%% %7.1f%%", 100.0 * busy / all,
                    100.0 * stalled / all);
        } else {
            fprintf(out, " %7s %8s", "-", "-");
        }
        if (frames) {
            fprintf(out, " %12" PRIu64 "\n", busy / frames);
        } else {
            fprintf(out, " %12s\n", "-");
        }
    }
}

static void
print_stats_human(FILE *out, const struct stats_segment *seg,
                  const struct snapshot *s, const struct snapshot *prev)
{
    print_header(out, seg);
    print_ports_table(out, s, prev);
    print_workers_table(out, s, prev);
}

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
    (void) sig;
    interrupted = 1;
}

/* True if the daemon that was alive at the start has exited: its counters
 * are frozen and watching them would mislead. */
static bool
daemon_gone(pid_t pid, bool was_visible)
{
    return was_visible && kill(pid, 0) && errno == ESRCH;
}

/* Redraws like top: the whole screen is composed first and written in one
 * go, so that it does not flicker. */
static int
watch_stats(const struct stats_segment *seg, bool json, double interval)
{
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    struct snapshot *snaps = malloc(2 * sizeof *snaps);
    if (!snaps) {
        die(EXIT_ERROR, "out of memory");
    }
    pid_t pid = seg->hdr.pid;
    bool visible = pid > 0 && kill(pid, 0) == 0;
    struct snapshot *cur = &snaps[0], *prev = NULL;
    while (!interrupted) {
        take_snapshot(seg, cur);
        if (json) {
            print_stats_json(cur, false);
        } else {
            char *screen;
            size_t size;
            FILE *out = open_memstream(&screen, &size);
            if (!out) {
                die(EXIT_ERROR, "out of memory");
            }
            fputs("\033[H\033[2J", out);
            print_stats_human(out, seg, cur, prev);
            fprintf(out, "\n(every %gs, Ctrl-C to quit)\n", interval);
            fclose(out);
            fwrite(screen, 1, size, stdout);
            free(screen);
        }
        fflush(stdout);
        if (daemon_gone(pid, visible)) {
            free(snaps);
            die(EXIT_ERROR, "vuswitch (pid %d) has exited", (int) pid);
        }
        prev = cur;
        cur = cur == &snaps[0] ? &snaps[1] : &snaps[0];
        struct timespec ts = { (time_t) interval,
                               (long) ((interval - (time_t) interval) * 1e9) };
        nanosleep(&ts, NULL);   /* a signal cuts it short */
    }
    free(snaps);
    return EXIT_OK;
}

static int
cmd_stats(const struct ctl_args *a)
{
    const struct stats_segment *seg = map_stats();
    if (a->watch > 0) {
        return watch_stats(seg, a->json, a->watch);
    }
    struct snapshot *s = malloc(sizeof *s);
    if (!s) {
        die(EXIT_ERROR, "out of memory");
    }
    take_snapshot(seg, s);
    if (a->json) {
        print_stats_json(s, true);
    } else {
        print_stats_human(stdout, seg, s, NULL);
    }
    free(s);
    return EXIT_OK;
}

/* ---- ports -------------------------------------------------------------- */

struct bit_name {
    int bit;
    const char *name;
};

static const struct bit_name feature_names[] = {
    { 0, "CSUM" }, { 1, "GUEST_CSUM" }, { 3, "MTU" }, { 5, "MAC" },
    { 7, "GUEST_TSO4" }, { 11, "HOST_TSO4" }, { 15, "MRG_RXBUF" },
    { 16, "STATUS" }, { 17, "CTRL_VQ" }, { 22, "MQ" },
    { 28, "INDIRECT_DESC" }, { 29, "EVENT_IDX" }, { 30, "PROTOCOL_FEATURES" },
    { 32, "VERSION_1" }, { 33, "ACCESS_PLATFORM" }, { 34, "RING_PACKED" },
    { 35, "IN_ORDER" },
    { -1, NULL },
};

static const struct bit_name protocol_names[] = {
    { 0, "MQ" }, { 1, "LOG_SHMFD" }, { 2, "RARP" }, { 3, "REPLY_ACK" },
    { 4, "NET_MTU" }, { 5, "BACKEND_REQ" }, { 9, "CONFIG" },
    { 15, "CONFIGURE_MEM_SLOTS" }, { 16, "STATUS" }, { -1, NULL },
};

static void
print_bits(const char *label, uint64_t value, const struct bit_name *names)
{
    printf("  %-10s 0x%016" PRIx64, label, value);
    bool any = false;
    for (const struct bit_name *b = names; b->name; b++) {
        if (value & (1ull << b->bit)) {
            printf("%s%s", any ? " " : " (", b->name);
            any = true;
        }
    }
    printf("%s\n", any ? ")" : "");
}

static const char *
owner(int16_t w, char *buf, size_t size)
{
    if (w < 0) {
        return "none";
    }
    snprintf(buf, size, "%d", w);
    return buf;
}

static void
print_port_human(const struct stats_port_info *i)
{
    printf("%s (%s): %s\n", i->name, i->type, i->state);
    printf("  %-10s %s\n", "path:", i->path);
    printf("  %-10s %u\n", "mtu:", i->mtu);
    if (!strcmp(i->type, "vhost")) {
        print_bits("features:", i->features, feature_names);
        print_bits("protocol:", i->protocol_features, protocol_names);
    }
    printf("  %-10s %u configured, %u active\n", "queues:", i->n_queues,
           i->n_active_queues);
    for (unsigned q = 0; q < i->n_queues; q++) {
        char a[8], b[8];
        printf("    %2u: rx ring %u on worker %s, tx ring %u on worker %s\n",
               q, i->rx_ring_size[q], owner(i->rx_owner[q], a, sizeof a),
               i->tx_ring_size[q], owner(i->tx_owner[q], b, sizeof b));
    }
    if (!strcmp(i->type, "vhost")) {
        printf("  %-10s %u regions, %.1f MiB\n", "memory:", i->n_regions,
               i->mem_size / 1048576.0);
        if (i->numa_node >= 0) {
            printf("  %-10s %d\n", "numa node:", i->numa_node);
        }
    }
}

static void
json_port_info(struct json *j, const struct stats_port_info *i)
{
    json_object_begin(j);
    json_kv_string(j, "name", i->name);
    json_kv_string(j, "type", i->type);
    json_kv_string(j, "state", i->state);
    json_kv_string(j, "path", i->path);
    json_kv_u64(j, "features", i->features);
    json_kv_u64(j, "protocol_features", i->protocol_features);
    json_kv_u64(j, "mtu", i->mtu);
    json_kv_u64(j, "n_queues", i->n_queues);
    json_kv_u64(j, "n_active_queues", i->n_active_queues);
    json_kv_u64(j, "n_regions", i->n_regions);
    json_kv_u64(j, "mem_size", i->mem_size);
    json_kv_i64(j, "numa_node", i->numa_node);
    json_key(j, "queues");
    json_array_begin(j);
    for (unsigned q = 0; q < i->n_queues; q++) {
        json_object_begin(j);
        json_kv_i64(j, "id", q);
        json_kv_u64(j, "rx_ring_size", i->rx_ring_size[q]);
        json_kv_u64(j, "tx_ring_size", i->tx_ring_size[q]);
        json_kv_i64(j, "rx_worker", i->rx_owner[q]);
        json_kv_i64(j, "tx_worker", i->tx_owner[q]);
        json_object_end(j);
    }
    json_array_end(j);
    json_object_end(j);
}

static int
cmd_ports(const struct ctl_args *a)
{
    bool json = a->json;
    const struct stats_segment *seg = map_stats();
    struct snapshot *s = malloc(sizeof *s);
    if (!s) {
        die(EXIT_ERROR, "out of memory");
    }
    take_snapshot(seg, s);

    struct json j;
    json_init(&j, true);
    json_object_begin(&j);
    json_key(&j, "ports");
    json_array_begin(&j);
    bool first = true;
    for (int p = 0; p < STATS_MAX_PORTS; p++) {
        if (!s->ports[p].used) {
            continue;
        }
        if (json) {
            json_port_info(&j, &s->ports[p].info);
        } else {
            printf(first ? "" : "\n");
            print_port_human(&s->ports[p].info);
        }
        first = false;
    }
    json_array_end(&j);
    json_object_end(&j);
    if (json) {
        printf("%s\n", json_text(&j));
    } else if (first) {
        printf("no ports\n");
    }
    json_destroy(&j);
    free(s);
    return EXIT_OK;
}

/* ---- fdb ---------------------------------------------------------------- */

static int
compare_entries(const void *a_, const void *b_)
{
    const struct json_value *a = a_, *b = b_;
    const char *pa = json_get_string(a, "port"), *pb = json_get_string(b, "port");
    int c = strcmp(pa ? pa : "", pb ? pb : "");
    if (c) {
        return c;
    }
    const char *ma = json_get_string(a, "mac"), *mb = json_get_string(b, "mac");
    return strcmp(ma ? ma : "", mb ? mb : "");
}

static int
cmd_fdb(const struct ctl_args *a)
{
    bool json = a->json;
    struct json_value reply;
    request("fdb", &reply, NULL);
    struct json_value *fdb = (struct json_value *) json_get(&reply, "fdb");
    if (!fdb || fdb->type != JSON_ARRAY) {
        die(EXIT_ERROR, "bad reply from %s: no \"fdb\" array", control_path);
    }
    qsort(fdb->u.c.items, fdb->u.c.n, sizeof *fdb->u.c.items,
          compare_entries);

    struct json j;
    json_init(&j, true);
    json_object_begin(&j);
    json_key(&j, "fdb");
    json_array_begin(&j);
    if (!json) {
        printf("%-17s  %-16s %6s\n", "MAC", "PORT", "AGE");
    }
    for (size_t i = 0; i < fdb->u.c.n; i++) {
        const struct json_value *e = &fdb->u.c.items[i];
        const char *mac = json_get_string(e, "mac");
        const char *port = json_get_string(e, "port");
        int64_t age = json_get_int(e, "age", -1);
        if (json) {
            json_object_begin(&j);
            json_kv_string(&j, "mac", mac ? mac : "");
            json_kv_string(&j, "port", port ? port : "");
            json_kv_i64(&j, "age", age);
            json_object_end(&j);
        } else {
            printf("%-17s  %-16s %6" PRId64 "\n", mac ? mac : "?",
                   port ? port : "?", age);
        }
    }
    json_array_end(&j);
    json_object_end(&j);
    if (json) {
        printf("%s\n", json_text(&j));
    }
    json_destroy(&j);
    json_value_free(&reply);
    return EXIT_OK;
}

/* ---- Other commands ----------------------------------------------------- */

static int
cmd_rebalance(const struct ctl_args *a)
{
    struct json_value reply;
    request(a->name, &reply, NULL);
    printf("moved %" PRId64 " queue(s)\n", json_get_int(&reply, "moved", 0));
    json_value_free(&reply);
    return EXIT_OK;
}

/* FILE as the daemon must see it: absolute (its working directory is not
 * ours). */
static void
absolute_path(const char *file, char *out, size_t size)
{
    char cwd[4096];
    int n;
    if (file[0] == '/') {
        n = snprintf(out, size, "%s", file);
    } else if (getcwd(cwd, sizeof cwd)) {
        n = snprintf(out, size, "%s/%s", strcmp(cwd, "/") ? cwd : "", file);
    } else {
        die(EXIT_ERROR, "cannot get the current directory: %s",
            strerror(errno));
    }
    if (n < 0 || (size_t) n >= size) {
        usage_error("capture: file path too long: %s", file);
    }
}

static int
cmd_capture(const struct ctl_args *a)
{
    const char *port = a->operands[0];
    char path[MAX_REQUEST], line[MAX_REQUEST];
    absolute_path(a->operands[1], path, sizeof path);
    /* The request carries FILE and the options as a port SPEC does. */
    int n = snprintf(line, sizeof line, "capture %s %s %s%s%s%s%s", port,
                     a->direction, path, a->filter ? ",filter=" : "",
                     a->filter ? a->filter : "",
                     a->snaplen ? ",snaplen=" : "",
                     a->snaplen ? a->snaplen : "");
    if (n < 0 || (size_t) n >= sizeof line || strchr(line, '\n')) {
        usage_error("capture: request too long or with a newline");
    }
    struct json_value reply;
    request(line, &reply, NULL);
    json_value_free(&reply);
    printf("capturing %s (%s) into %s; stop with: vuswitchctl capture-stop "
           "%s\n", port, a->direction, path, port);
    return EXIT_OK;
}

static int
cmd_capture_stop(const struct ctl_args *a)
{
    char line[MAX_REQUEST];
    struct json_value reply;
    join_request(line, sizeof line, a);
    request(line, &reply, NULL);
    printf("capture of %s stopped: %" PRId64 " frames, %" PRId64
           " lost (sink_full)\n", a->operands[0],
           json_get_int(&reply, "packets", 0),
           json_get_int(&reply, "sink_full", 0));
    json_value_free(&reply);
    return EXIT_OK;
}

static int
cmd_log_level(const struct ctl_args *a)
{
    char line[MAX_REQUEST];
    struct json_value reply;
    join_request(line, sizeof line, a);
    request(line, &reply, NULL);
    if (a->n_operands == 0) {
        const char *level = json_get_string(&reply, "log_level");
        printf("%s\n", level ? level : "?");
    }
    json_value_free(&reply);
    return EXIT_OK;
}

static int
cmd_version(void)
{
    struct json_value reply;
    request("version", &reply, NULL);
    const char *v = json_get_string(&reply, "version");
    printf("vuswitch %s (pid %" PRId64 ")\nvuswitchctl %s\n", v ? v : "?",
           json_get_int(&reply, "pid", 0), PACKAGE_VERSION);
    json_value_free(&reply);
    return EXIT_OK;
}

int
main(int argc, char *argv[])
{
    struct ctl_args a;
    char err[512];
    if (ctl_args_parse(argc, argv, getenv("VUSWITCH_CONTROL"), &a, err,
                       sizeof err)) {
        fprintf(stderr, "vuswitchctl: %s (see vuswitchctl --help)\n", err);
        return EXIT_USAGE;
    }
    control_path = a.control;
    switch (a.command) {
    case CTL_HELP:
        ctl_args_usage(stdout);
        return EXIT_OK;
    case CTL_TOOL_VERSION:
        printf("vuswitchctl %s\n", PACKAGE_VERSION);
        return EXIT_OK;
    case CTL_STATS:         return cmd_stats(&a);
    case CTL_PORTS:         return cmd_ports(&a);
    case CTL_FDB:           return cmd_fdb(&a);
    case CTL_CAPTURE:       return cmd_capture(&a);
    case CTL_CAPTURE_STOP:  return cmd_capture_stop(&a);
    case CTL_REBALANCE:     return cmd_rebalance(&a);
    case CTL_LOG_LEVEL:     return cmd_log_level(&a);
    case CTL_VERSION:       return cmd_version();
    case CTL_ADD_PORT:
    case CTL_DEL_PORT:
    case CTL_FDB_FLUSH:
    case CTL_MOVE_QUEUE:
        return simple_command(&a);
    }
    return EXIT_USAGE;
}
