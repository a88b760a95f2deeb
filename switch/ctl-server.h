/* ctl-server.h -- the daemon side of the control socket that vuswitchctl
 * talks to.  Owned and driven by the control thread: it adds
 * ctl_server_fd() to its epoll set and calls ctl_server_run_once() each
 * time that fd is readable.  Nothing here is thread-safe, nothing here
 * needs to be: every callback runs on the control thread.
 *
 * Protocol (one request per connection, like a tiny HTTP/1.0):
 *
 *   client:  COMMAND [ARGS]\n            one line, at most 4096 bytes
 *   server:  {"ok":true, ...}\n          or {"ok":false,"error":"..."}\n
 *            then closes the connection.
 *
 *   add-port SPEC     SPEC as for --port (options.h); ARGS is the rest of
 *                     the line, spaces included (BPF filters).
 *   del-port NAME
 *   capture PORT DIRECTION FILE[,filter=BPF][,snaplen=N]
 *                     copy PORT's frames (DIRECTION rx, tx or both) into
 *                     the pcap file FILE (absolute path); see options.h
 *   capture-stop PORT {"ok":true,"packets":N,"sink_full":N}: what the
 *                     capture was offered and lost; the file is flushed
 *                     and closed when the reply is sent
 *   fdb               {"ok":true,"fdb":[{"mac":"..","port":"..","age":N}]}
 *   fdb-flush [PORT]  no PORT: every entry
 *   log-level [LEVEL] sets err|warn|info|debug; answers "log_level"
 *   stats-fd          {"ok":true} with a read-only fd of the stats segment
 *                     attached (SCM_RIGHTS) to the reply
 *   version           {"ok":true,"version":"X.Y.Z","pid":N}
 *
 * A client gets one second to send its request and one to read the reply;
 * a slow or silent client is dropped, so the control thread never blocks
 * longer than that.  Access control is the socket file's mode, 0660. */
#ifndef VU_CTL_SERVER_H
#define VU_CTL_SERVER_H 1

#include <stddef.h>

struct capture_spec;
struct json;
struct port_spec;

#define CTL_MAX_REQUEST 4096    /* bytes, newline included */

/* What the control thread does for the server.  'aux' is the pointer given
 * to ctl_server_create().  Callbacks that can fail return 0 or -errno and,
 * on failure, may put one line for the user in 'err' (else the server
 * uses strerror).  A NULL callback makes its command answer "not
 * supported". */
struct ctl_ops {
    /* add-port: 'spec' is already parsed and syntax-checked; duplicates
     * with existing ports, opening sockets etc. are the callback's job. */
    int (*add_port)(const struct port_spec *, char *err, size_t err_size,
                    void *aux);
    /* del-port: should return -ENOENT with a message for an unknown name. */
    int (*del_port)(const char *name, char *err, size_t err_size, void *aux);
    /* capture: starts copying the frames of spec->port into a pcap file.
     * Should return -ENOENT for an unknown port, -EEXIST if it is already
     * captured. */
    int (*capture)(const struct capture_spec *, char *err, size_t err_size,
                   void *aux);
    /* capture-stop: stops the capture of 'port' once no worker copies into
     * it any more, flushes and closes its file; adds "packets" and
     * "sink_full" (what it was offered, what it lost) to the reply 'j'.
     * Should return -ENOENT if the port has no capture. */
    int (*capture_stop)(const char *port, struct json *j, char *err,
                        size_t err_size, void *aux);
    /* fdb-flush: 'port' is NULL to flush every entry. */
    int (*fdb_flush)(const char *port, char *err, size_t err_size,
                     void *aux);
    /* fdb: writes the elements of the "fdb" array, one object per entry:
     * {"mac":"52:54:00:00:00:01","port":"vm1","age":3}.  The server writes
     * the key and the brackets around them. */
    void (*fdb_json)(struct json *, void *aux);
    /* stats-fd: returns a new read-only fd of the stats segment (from
     * stats_open_readonly()), which the server sends and then closes, or
     * -errno. */
    int (*get_stats_fd)(void *aux);
    /* rebalance: re-places queues on workers by load; writes "moved":N. */
    int (*rebalance)(struct json *, char *err, size_t err_size, void *aux);
    /* move-queue: gives queue pair 'q' of 'port' to worker 'w'. */
    int (*move_queue)(const char *port, unsigned q, unsigned w, char *err,
                      size_t err_size, void *aux);
};

struct ctl_server;

/* Listens on the UNIX socket 'path' (mode 0660).  When 'path' is in the
 * default directory /run/vuswitch, that directory is created if needed.
 * An existing socket file is replaced only if nobody answers on it (a
 * stale file left by a daemon that crashed); if another daemon is alive
 * there, or 'path' is not a socket, this fails.  Returns 0 and sets
 * '*serverp', or -errno with one line in 'err'.  'ops' and 'aux' must
 * outlive the server.  Control thread. */
int ctl_server_create(const char *path, const struct ctl_ops *ops, void *aux,
                      struct ctl_server **serverp, char *err,
                      size_t err_size);

/* The listening socket (non-blocking), to watch for EPOLLIN. */
int ctl_server_fd(const struct ctl_server *);

/* Serves at most one waiting client: accepts, reads its request, runs it,
 * replies and closes.  Blocks at most about 2 s (1 s per direction) on a
 * slow client.  Returns 1 if a client was served, 0 if none was waiting,
 * -errno if accept() failed.  Control thread. */
int ctl_server_run_once(struct ctl_server *);

/* Closes the socket and removes its file.  NULL is a no-op. */
void ctl_server_destroy(struct ctl_server *);

#endif /* ctl-server.h */
