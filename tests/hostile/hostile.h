/* hostile.h -- the scripted hostile vhost-user front end (issue 6): the
 * harness that scenarios share.  hostile.c holds main, the connection,
 * stats and verdict helpers; hostile-msg.c the message-level scenarios;
 * hostile-guest.c the guest-memory-level ones.
 *
 * A scenario runs against one port of a live vuswitch (--socket, --port),
 * each in a fresh connection, and returns 0 (pass), -1 (fail, with
 * ctx->why set by h_fail) or H_SKIP.  After every scenario the harness
 * checks that the daemon is still alive.  The harness reads the daemon's
 * counters and port states straight from its stats segment (the
 * "stats-fd" control request), so checking costs the daemon nothing.
 *
 * Test tool only: single-threaded except where a scenario starts its own
 * guest thread. */
#ifndef VU_HOSTILE_H
#define VU_HOSTILE_H 1

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "stats.h"
#include "vhu-msg.h"

#define H_SKIP 77

/* Timeouts, in milliseconds.  They bound waits for what must happen, so
 * they cost nothing when the switch behaves; they are generous because a
 * loaded CI machine can hold a thread off a CPU for seconds. */
#define H_REPLY_MS  20000       /* a reply, or the switch hanging up */
#define H_STATE_MS  30000       /* a port state change */

struct hctx {
    const char *sock_path;      /* the hostile port's vhost-user socket */
    const char *port;           /* its name in the switch */
    const char *peer_path;      /* optional helper front end's socket */
    const char *peer_port;
    const char *control;        /* the daemon's control socket */
    const struct stats_segment *seg;
    pid_t daemon_pid;
    unsigned n_queue_pairs;     /* of the hostile port */
    bool verbose;
    const char *scenario;       /* running now */
    char why[512];              /* why the running scenario failed */
};

struct scenario {
    const char *name;
    int (*run)(struct hctx *, const void *arg);
    const void *arg;
};

/* Scenario tables (NULL-name terminated). */
extern const struct scenario h_msg_scenarios[];
extern const struct scenario h_guest_scenarios[];

/* The flooder of tests/integration/isolation.sh (hostile-guest.c): for
 * 'seconds', a legitimate device on the port that posts garbage chains at
 * full speed and kicks, and every second a ring-level violation; each
 * time the switch must drop the device, and it comes back.  At the end
 * the switch must have counted every chain it took as dropped, under the
 * reasons the garbage deserves.  With 'idle', the same device spins
 * without posting anything (the baseline).  SIGINT or SIGTERM ends it
 * early, with the same checks (main blocks them: h_stop_requested()).
 * Prints FLOOD lines; returns 0 or fails. */
int h_flood(struct hctx *, unsigned seconds, bool idle);
/* Whether SIGINT or SIGTERM is pending (blocked, so that no wait for a
 * reply is cut short). */
bool h_stop_requested(void);

/* ---- Verdicts. ---- */

/* Records why the scenario failed (the first reason wins) and returns -1. */
int h_fail(struct hctx *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void h_log(struct hctx *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool h_daemon_alive(const struct hctx *);

/* ---- The switch's view, from the stats segment. ---- */

/* Copies the state string of port 'name' ("listening", "up", "broken:
 * REASON"...) into 'buf'.  Returns 0 or -ENOENT. */
int h_port_state(const struct hctx *, const char *name, char *buf,
                 size_t size);
/* Port-level sums of both directions. */
int h_port_counters(const struct hctx *, const char *name,
                    struct stats_dir *rx, struct stats_dir *tx);
/* Waits until 'name' has no front end attached (state neither
 * "connected" nor "up").  Returns 0 or -ETIMEDOUT. */
int h_wait_idle(const struct hctx *, const char *name);
/* Waits until the state of 'name' starts with 'prefix'. */
int h_wait_state(const struct hctx *, const char *name, const char *prefix,
                 int timeout_ms, char *state, size_t size);

/* ---- Connections and messages. ---- */

/* Connects to 'path' once 'port' is idle.  Returns the socket or -1 with
 * the scenario failed. */
int h_connect(struct hctx *, const char *path, const char *port);
/* Connects without waiting for anything (rapid cycles). */
int h_connect_now(const char *path);

/* Sends a message with any header values; 'size' is what the header says,
 * min(size, VHU_MAX_PAYLOAD) bytes of 'payload' go out. */
int h_send(int fd, uint32_t request, uint32_t flags, const void *payload,
           uint32_t size, const int *fds, unsigned n_fds);
/* Sends raw bytes with optional fds in one sendmsg. */
int h_send_raw(int fd, const void *buf, size_t len, const int *fds,
               unsigned n_fds);
/* Receives one message within 'timeout_ms'.  0, -ECONNRESET on EOF,
 * -ETIMEDOUT, or another -errno. */
int h_recv(int fd, struct vhu_msg *, int timeout_ms);

/* Negotiates like QEMU: features (VERSION_1 | PROTOCOL_FEATURES | 'extra'),
 * protocol features 'pf' (REPLY_ACK at least, if the caller wants acks),
 * SET_OWNER.  Returns 0 or fails the scenario. */
int h_negotiate(struct hctx *, int fd, uint64_t extra, uint64_t pf);

/* Sends a SET_* request with NEED_REPLY and reads its ack: returns the
 * ack value (0 success), or -errno (no ack: hang-up, timeout). */
int64_t h_request_ack(int fd, uint32_t request, const void *payload,
                      uint32_t size, const int *fds, unsigned n_fds);

/* The offending connection must be dropped: reads (discarding) until EOF,
 * then checks the port's state says "broken: ..." and, if 'substr' is not
 * NULL, contains it.  Closes 'fd'.  0 or fails the scenario. */
int h_expect_broken(struct hctx *, int fd, const char *substr);
/* The connection must still be served: a GET_FEATURES gets its reply as
 * the very next message (so nothing else was queued before it). */
int h_expect_alive(struct hctx *, int fd);
/* Orderly hang-up: shuts down our side, waits for the switch to close its
 * side, closes 'fd'. */
void h_hangup(const struct hctx *, int fd);

/* ---- File descriptors to pass. ---- */

/* A memfd of 'size' bytes named "hostile-NAME" (the leak check in
 * hostile-frontend.sh looks for that name in the daemon's maps). */
int h_memfd(const char *name, uint64_t size);

uint64_t h_now_ms(void);
void h_sleep_ms(unsigned ms);

#endif /* hostile.h */
