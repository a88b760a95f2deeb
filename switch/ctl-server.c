/* ctl-server.c -- the control socket (see ctl-server.h).  Runs on the
 * control thread, between vhost-user messages: every wait is bounded by a
 * deadline, and a client that misbehaves loses its connection, never the
 * daemon its time. */
#include <config.h>
#include "ctl-server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "options.h"
#include "util.h"

#define CTL_DEFAULT_DIR "/run/vuswitch"
#define CTL_TIMEOUT_MS 1000     /* per direction, per client */

struct ctl_server {
    int fd;                     /* listening, non-blocking */
    char path[sizeof ((struct sockaddr_un *) 0)->sun_path];
    const struct ctl_ops *ops;
    void *aux;
};

static int __attribute__((format(printf, 4, 5)))
fail(int error, char *err, size_t err_size, const char *fmt, ...)
{
    if (err && err_size) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(err, err_size, fmt, args);
        va_end(args);
    }
    return error;
}

/* ---- Setting up the socket ---------------------------------------------- */

/* mkdir -p for the default directory only: a path the user chose is the
 * user's to create, and a typo there should fail rather than sprout
 * directories. */
static int
make_default_dir(const char *path)
{
    size_t n = strlen(CTL_DEFAULT_DIR);
    if (strncmp(path, CTL_DEFAULT_DIR "/", n + 1) || strchr(path + n + 1, '/')) {
        return 0;
    }
    if (mkdir("/run", 0755) && errno != EEXIST) {
        return -errno;
    }
    if (mkdir(CTL_DEFAULT_DIR, 0755) && errno != EEXIST) {
        return -errno;
    }
    return 0;
}

static void
make_addr(struct sockaddr_un *sun, const char *path)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    strcpy(sun->sun_path, path);
}

/* Whether a daemon answers on 'path': 1 yes, 0 no (stale), or -errno.  A
 * non-blocking probe, so that a live daemon with a full backlog counts as
 * alive (EAGAIN) instead of blocking us. */
static int
socket_is_alive(const char *path)
{
    struct sockaddr_un sun;
    make_addr(&sun, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    int r = connect(fd, (struct sockaddr *) &sun, sizeof sun);
    int error = r ? errno : 0;
    close(fd);
    if (!r || error == EAGAIN) {
        return 1;
    }
    return error == ECONNREFUSED ? 0 : -error;
}

/* Binds 'fd' to 'path', replacing a stale socket file left by a daemon
 * that died without cleaning up. */
static int
bind_or_replace(int fd, const char *path, char *err, size_t es)
{
    struct sockaddr_un sun;
    make_addr(&sun, path);
    if (!bind(fd, (struct sockaddr *) &sun, sizeof sun)) {
        return 0;
    }
    if (errno != EADDRINUSE) {
        return fail(-errno, err, es, "cannot bind control socket %s: %s",
                    path, strerror(errno));
    }

    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
        return fail(-EEXIST, err, es, "control socket %s: the file exists "
                    "and is not a socket", path);
    }
    int alive = socket_is_alive(path);
    if (alive > 0) {
        return fail(-EADDRINUSE, err, es, "control socket %s: another "
                    "vuswitch is running there", path);
    }
    if (alive < 0 && alive != -ENOENT) {
        return fail(alive, err, es, "control socket %s: %s", path,
                    strerror(-alive));
    }
    VLOG_INFO("control socket %s: replacing a stale socket file", path);
    if (unlink(path) && errno != ENOENT) {
        return fail(-errno, err, es, "cannot remove stale control socket "
                    "%s: %s", path, strerror(errno));
    }
    if (bind(fd, (struct sockaddr *) &sun, sizeof sun)) {
        return fail(-errno, err, es, "cannot bind control socket %s: %s",
                    path, strerror(errno));
    }
    return 0;
}

int
ctl_server_create(const char *path, const struct ctl_ops *ops, void *aux,
                  struct ctl_server **serverp, char *err, size_t es)
{
    struct ctl_server *s = calloc(1, sizeof *s);
    if (!s) {
        return fail(-ENOMEM, err, es, "out of memory");
    }
    if (!*path || strlen(path) >= sizeof s->path) {
        free(s);
        return fail(-ENAMETOOLONG, err, es, "control socket path '%s': "
                    "1 to %zu bytes for a UNIX socket", path,
                    sizeof s->path - 1);
    }
    strcpy(s->path, path);
    s->ops = ops;
    s->aux = aux;

    int error = make_default_dir(path);
    if (error) {
        fail(error, err, es, "cannot create %s: %s", CTL_DEFAULT_DIR,
             strerror(-error));
        goto out_free;
    }
    s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        error = fail(-errno, err, es, "socket: %s", strerror(errno));
        goto out_free;
    }
    error = bind_or_replace(s->fd, path, err, es);
    if (error) {
        goto out_close;
    }
    /* Nobody can connect before listen(), so the window between bind()
     * (mode from the umask) and chmod() is harmless. */
    if (chmod(path, 0660) || listen(s->fd, 16)) {
        error = fail(-errno, err, es, "control socket %s: %s", path,
                     strerror(errno));
        goto out_unlink;
    }
    VLOG_INFO("control socket listening on %s", path);
    *serverp = s;
    return 0;

out_unlink:
    unlink(path);
out_close:
    close(s->fd);
out_free:
    free(s);
    return error;
}

int
ctl_server_fd(const struct ctl_server *s)
{
    return s->fd;
}

void
ctl_server_destroy(struct ctl_server *s)
{
    if (s) {
        close(s->fd);
        unlink(s->path);
        free(s);
    }
}

/* ---- One client --------------------------------------------------------- */

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until 'fd' is ready for 'events' or 'deadline' (ms) passed.
 * Returns 0 or -ETIMEDOUT / -errno. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            return -ETIMEDOUT;
        }
        struct pollfd pfd = { .fd = fd, .events = events };
        int n = poll(&pfd, 1, (int) left);
        if (n > 0) {
            return 0;
        }
        if (n < 0 && errno != EINTR) {
            return -errno;
        }
    }
}

/* Reads one request line into 'buf' (NUL-terminated, newline removed).
 * Returns its length or -errno: -EMSGSIZE if longer than the limit,
 * -ETIMEDOUT if the client was too slow, -EBADMSG for a NUL byte,
 * -ENODATA if it closed without sending anything. */
static int
read_request(int fd, char *buf, size_t size)
{
    int64_t deadline = now_ms() + CTL_TIMEOUT_MS;
    size_t len = 0;
    for (;;) {
        char *nl = memchr(buf, '\n', len);
        if (nl || len == size - 1) {
            if (!nl) {
                return -EMSGSIZE;
            }
            len = nl - buf;
            break;
        }
        int error = wait_fd(fd, POLLIN, deadline);
        if (error) {
            return error;
        }
        ssize_t n = recv(fd, buf + len, size - 1 - len, 0);
        if (n == 0) {
            if (len == 0) {
                return -ENODATA;    /* a liveness probe: connect, close */
            }
            break;              /* EOF ends the request as well */
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return -errno;
        }
        len += n > 0 ? n : 0;
    }
    buf[len] = '\0';
    if (strlen(buf) != len) {
        return -EBADMSG;
    }
    while (len && (buf[len - 1] == '\r' || buf[len - 1] == ' '
                   || buf[len - 1] == '\t')) {
        buf[--len] = '\0';
    }
    return (int) len;
}

/* Sends 'len' bytes of 'text', with 'pass_fd' (if >= 0) attached to the
 * first byte, within the deadline. */
static int
send_reply(int fd, const char *text, size_t len, int pass_fd)
{
    int64_t deadline = now_ms() + CTL_TIMEOUT_MS;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    size_t sent = 0;
    while (sent < len) {
        struct iovec iov = { (char *) text + sent, len - sent };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (pass_fd >= 0 && sent == 0) {
            memset(&control, 0, sizeof control);
            msg.msg_control = control.buf;
            msg.msg_controllen = sizeof control.buf;
            struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
            cmsg->cmsg_level = SOL_SOCKET;
            cmsg->cmsg_type = SCM_RIGHTS;
            cmsg->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(cmsg), &pass_fd, sizeof(int));
        }
        ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (n > 0) {
            sent += n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return -errno;
        }
        int error = wait_fd(fd, POLLOUT, deadline);
        if (error) {
            return error;
        }
    }
    return 0;
}

/* ---- Commands ----------------------------------------------------------- */

/* A command handler: adds its members to the reply 'j' (an object with
 * "ok":true already in it), or returns -errno with a message in 'err'.
 * 'args' is the rest of the line, trimmed, "" if none.  'pass_fd' is set
 * to an fd to attach to the reply. */
struct ctl_request {
    struct ctl_server *server;
    const char *args;
    struct json *j;
    char *err;
    size_t err_size;
    int pass_fd;
};

static int
not_supported(struct ctl_request *r, const char *cmd)
{
    return fail(-EOPNOTSUPP, r->err, r->err_size,
                "'%s' is not supported by this daemon", cmd);
}

static int
cmd_add_port(struct ctl_request *r)
{
    struct ctl_server *s = r->server;
    struct port_spec spec;
    int error = port_spec_parse(r->args, &spec, r->err, r->err_size);
    if (error) {
        return error;
    }
    if (!s->ops->add_port) {
        return not_supported(r, "add-port");
    }
    return s->ops->add_port(&spec, r->err, r->err_size, s->aux);
}

static int
cmd_del_port(struct ctl_request *r)
{
    struct ctl_server *s = r->server;
    if (!s->ops->del_port) {
        return not_supported(r, "del-port");
    }
    return s->ops->del_port(r->args, r->err, r->err_size, s->aux);
}

static int
cmd_capture(struct ctl_request *r)
{
    struct ctl_server *s = r->server;
    struct capture_spec spec;
    int error = capture_spec_parse(r->args, &spec, r->err, r->err_size);
    if (error) {
        return error;
    }
    if (!s->ops->capture) {
        return not_supported(r, "capture");
    }
    return s->ops->capture(&spec, r->err, r->err_size, s->aux);
}

static int
cmd_capture_stop(struct ctl_request *r)
{
    struct ctl_server *s = r->server;
    if (!s->ops->capture_stop) {
        return not_supported(r, "capture-stop");
    }
    return s->ops->capture_stop(r->args, r->j, r->err, r->err_size, s->aux);
}

static int
cmd_fdb(struct ctl_request *r)
{
    struct ctl_server *s = r->server;
    if (!s->ops->fdb_json) {
        return not_supported(r, "fdb");
    }
    json_key(r->j, "fdb");
    json_array_begin(r->j);
    s->ops->fdb_json(r->j, s->aux);
    json_array_end(r->j);
    return 0;
}

static int
cmd_fdb_flush(struct ctl_request *r)
{
    struct ctl_server *s = r->server;
    if (!s->ops->fdb_flush) {
        return not_supported(r, "fdb-flush");
    }
    return s->ops->fdb_flush(*r->args ? r->args : NULL, r->err, r->err_size,
                             s->aux);
}

static int
cmd_rebalance(struct ctl_request *r)
{
    struct ctl_server *s = r->server;
    if (!s->ops->rebalance) {
        return not_supported(r, "rebalance");
    }
    return s->ops->rebalance(r->j, r->err, r->err_size, s->aux);
}

/* move-queue PORT QUEUE WORKER */
static int
cmd_move_queue(struct ctl_request *r)
{
    struct ctl_server *s = r->server;
    char port[STATS_NAME_SIZE + 1];
    unsigned q, w;
    int end = 0;
    if (!s->ops->move_queue) {
        return not_supported(r, "move-queue");
    }
    if (sscanf(r->args, "%32s %u %u %n", port, &q, &w, &end) != 3
        || r->args[end]) {
        return fail(-EINVAL, r->err, r->err_size,
                    "usage: move-queue PORT QUEUE WORKER");
    }
    return s->ops->move_queue(port, q, w, r->err, r->err_size, s->aux);
}

static int
cmd_log_level(struct ctl_request *r)
{
    if (*r->args) {
        enum vlog_level level;
        if (vlog_level_from_string(r->args, &level)) {
            return fail(-EINVAL, r->err, r->err_size, "bad log level '%s' "
                        "(expected err, warn, info or debug)", r->args);
        }
        vlog_set_level(level);
        VLOG_INFO("log level set to %s", vlog_level_to_string(level));
    }
    json_kv_string(r->j, "log_level", vlog_level_to_string(vlog_get_level()));
    return 0;
}

static int
cmd_stats_fd(struct ctl_request *r)
{
    struct ctl_server *s = r->server;
    if (!s->ops->get_stats_fd) {
        return not_supported(r, "stats-fd");
    }
    int fd = s->ops->get_stats_fd(s->aux);
    if (fd < 0) {
        return fail(fd, r->err, r->err_size, "cannot open the stats "
                    "segment: %s", strerror(-fd));
    }
    r->pass_fd = fd;
    return 0;
}

static int
cmd_version(struct ctl_request *r)
{
    json_kv_string(r->j, "version", PACKAGE_VERSION);
    json_kv_i64(r->j, "pid", getpid());
    return 0;
}

enum ctl_args { ARGS_NONE, ARGS_ONE, ARGS_OPTIONAL_ONE, ARGS_LINE };

static const struct ctl_command {
    const char *name;
    enum ctl_args args;
    const char *usage;
    int (*run)(struct ctl_request *);
} commands[] = {
    { "add-port", ARGS_LINE, "add-port SPEC", cmd_add_port },
    { "del-port", ARGS_ONE, "del-port NAME", cmd_del_port },
    { "capture", ARGS_LINE,
      "capture PORT rx|tx|both FILE[,filter=BPF][,snaplen=N]", cmd_capture },
    { "capture-stop", ARGS_ONE, "capture-stop PORT", cmd_capture_stop },
    { "fdb", ARGS_NONE, "fdb", cmd_fdb },
    { "rebalance", ARGS_NONE, "rebalance", cmd_rebalance },
    { "move-queue", ARGS_LINE, "move-queue PORT QUEUE WORKER", cmd_move_queue },
    { "fdb-flush", ARGS_OPTIONAL_ONE, "fdb-flush [PORT]", cmd_fdb_flush },
    { "log-level", ARGS_OPTIONAL_ONE, "log-level [LEVEL]", cmd_log_level },
    { "stats-fd", ARGS_NONE, "stats-fd", cmd_stats_fd },
    { "version", ARGS_NONE, "version", cmd_version },
};

static bool
args_fit(enum ctl_args kind, const char *args)
{
    bool one_word = *args && !strpbrk(args, " \t");
    switch (kind) {
    case ARGS_NONE:         return !*args;
    case ARGS_ONE:          return one_word;
    case ARGS_OPTIONAL_ONE: return !*args || one_word;
    case ARGS_LINE:         return *args;
    }
    return false;
}

/* Splits "COMMAND ARGS" in place and runs it. */
static int
dispatch(struct ctl_request *r, char *line)
{
    char *args = line + strcspn(line, " \t");
    if (*args) {
        *args++ = '\0';
        args += strspn(args, " \t");
    }
    r->args = args;

    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        const struct ctl_command *c = &commands[i];
        if (!strcmp(line, c->name)) {
            if (!args_fit(c->args, args)) {
                return fail(-EINVAL, r->err, r->err_size, "usage: %s",
                            c->usage);
            }
            return c->run(r);
        }
    }
    return fail(-EINVAL, r->err, r->err_size, "unknown command '%s' "
                "(expected add-port, del-port, capture, capture-stop, fdb, "
                "fdb-flush, rebalance, move-queue, log-level, stats-fd or "
                "version)", line);
}

static void
error_reply(struct json *j, const char *msg)
{
    json_destroy(j);
    json_init(j, false);
    json_object_begin(j);
    json_kv_bool(j, "ok", false);
    json_kv_string(j, "error", msg);
    json_object_end(j);
}

/* Sends the reply in 'j' plus a newline, with the fd to pass if any. */
static void
send_json(int fd, const struct json *j, int pass_fd)
{
    size_t n = json_length(j);
    char *text = malloc(n + 1);
    if (text) {
        memcpy(text, json_text(j), n);
        text[n] = '\n';
        int error = send_reply(fd, text, n + 1, pass_fd);
        if (error) {
            VLOG_DBG("control: cannot send the reply: %s", strerror(-error));
        }
        free(text);
    }
}

/* Answers one request, or the reason 'len' (-errno) why it is unreadable. */
static void
serve(struct ctl_server *s, int fd, char *line, int len)
{
    char err[512] = "";
    struct json j;
    struct ctl_request r = { s, "", &j, err, sizeof err, -1 };
    json_init(&j, false);
    json_object_begin(&j);
    json_kv_bool(&j, "ok", true);

    int error = len >= 0 ? dispatch(&r, line)
                : len == -EMSGSIZE
                ? fail(len, err, sizeof err, "request too long (at most %d "
                       "bytes)", CTL_MAX_REQUEST)
                : fail(len, err, sizeof err, "bad request: %s",
                       len == -EBADMSG ? "NUL byte" : strerror(-len));
    if (!error) {
        json_object_end(&j);
        error = json_error(&j);
        if (error) {
            snprintf(err, sizeof err, "out of memory for the reply");
        }
    }
    if (error) {
        if (!*err) {
            snprintf(err, sizeof err, "%s", strerror(-error));
        }
        VLOG_INFO("control: %s%s%s: %s", len >= 0 ? line : "request",
                  *r.args ? " " : "", r.args, err);
        error_reply(&j, err);
        if (r.pass_fd >= 0) {
            close(r.pass_fd);
            r.pass_fd = -1;
        }
    }
    send_json(fd, &j, r.pass_fd);
    json_destroy(&j);
    if (r.pass_fd >= 0) {
        close(r.pass_fd);
    }
}

int
ctl_server_run_once(struct ctl_server *s)
{
    int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) {
            return 0;
        }
        int error = errno;      /* e.g. EMFILE: retried on the next EPOLLIN */
        VLOG_RL(VLL_WARN, "control socket: accept: %s", strerror(error));
        return -error;
    }

    char line[CTL_MAX_REQUEST + 1];
    int len = read_request(fd, line, sizeof line);
    if (len == -ETIMEDOUT || len == -ECONNRESET || len == -ENODATA) {
        VLOG_DBG("control: client %s", len == -ENODATA ? "sent nothing"
                 : "gave up or was too slow");
    } else {
        VLOG_DBG("control: request '%s'", len >= 0 ? line : "?");
        serve(s, fd, line, len);
    }
    close(fd);
    return 1;
}
