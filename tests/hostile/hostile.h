/* hostile.h -- the scripted hostile vhost-user front end (issue 6): the
 * harness that scenarios share.  hostile.c holds main, the connection,
 * stats and verdict helpers; hostile-msg.c the message-level scenarios;
 * hostile-guest.c the hostile guest (its memory and rings, hg_*), the
 * per-chain scenarios and the table of all guest-level ones;
 * hostile-packed.c the same guest on packed rings and their scenarios;
 * hostile-fds.c the scenarios with file descriptors that misbehave once
 * handed over; hostile-load.c GET_VRING_BASE under load and the flooder.
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

#include <linux/virtio_ring.h>
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
extern const struct scenario h_packed_scenarios[];   /* hostile-packed.c */

/* The flooder of tests/integration/isolation.sh (hostile-load.c): for
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

/* ---- The hostile guest (hostile-guest.c). ----
 *
 * A legitimate front end set up over a fresh connection, whose memory and
 * rings the guest-level scenarios then abuse.  Its memory (memfds named
 * "hostile-r0/r1/r2"; the peer's "hpeer-r0"):
 *
 *   R0  1 MiB at GPA 0x40000000            R1  64 KiB, adjacent to R0
 *   +--------+--------+----------+--------------+--------------+--------+
 *   | rx ring| tx ring| indirect | tx buffers   | rx buffers   | canary |
 *   | 0x0000 | 0x3000 | 0x10000  | 0x20000      | 0x80000      | 0xe0000|
 *   +--------+--------+----------+--------------+--------------+--------+
 *   then a hole (unmapped GPA 0x40110000), and
 *   R2  2 GiB sparse at GPA 0x100000000, for lengths near 2^32.
 *
 * Every byte a frame can be read from is 0x02, so any frame the switch
 * parses has destination = source = 02:02:02:02:02:02, which it learns on
 * the hostile port itself: a frame it accepts is dropped as
 * no_destination and nothing the hostile guest sends ever reaches another
 * port (the legitimate pair's conservation check stays exact). */

#define HG_RING_SIZE 256u       /* ring entries */
#define HG_BUF_SIZE 1536u
#define HG_HDR 12u              /* virtio-net header (VERSION_1) */
#define HG_FRAME 60u            /* frame bytes the tx cases send */

#define HG_R0_GPA 0x40000000ull
#define HG_R0_SIZE 0x100000ull
#define HG_R1_GPA (HG_R0_GPA + HG_R0_SIZE)
#define HG_R1_SIZE 0x10000ull
#define HG_HOLE_GPA (HG_R1_GPA + HG_R1_SIZE)
#define HG_R2_GPA 0x100000000ull
#define HG_R2_SIZE 0x80000000ull

#define HG_OFF_RX 0x0u
#define HG_OFF_TX 0x3000u
#define HG_OFF_IND 0x10000u
#define HG_IND_SIZE 0x10000u
#define HG_OFF_TXBUF 0x20000u
#define HG_OFF_RXBUF 0x80000u
#define HG_OFF_CANARY 0xe0000u
#define HG_IND_GPA (HG_R0_GPA + HG_OFF_IND)

#define HG_MAC_H 0x02           /* every byte of the hostile guest's frames */
#define HG_MAC_G 0x06           /* the peer's source address bytes */
#define HG_FILL_RX 0xaa         /* receive buffers before the switch writes */

/* What a chain must come to, besides a drop reason (DROP_*). */
#define HG_ACCEPT (-1)          /* tx: no_destination; rx: delivered */
#define HG_BROKEN (-2)          /* ring-level: the device is dropped */

struct hg_ring {
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;
    uint16_t avail_idx;         /* our shadow of avail->idx (packed: how
                                 * many chains we made available) */
    uint32_t buf_off;           /* its buffers in R0 */
    bool writable;              /* the device writes (guest receive) */
    /* A packed ring (hg_guest_open_packed) lies where the split one would:
     * its table at 'desc', its driver event area at 'avail', its device
     * event area at 'used'. */
    bool packed;
    struct vring_packed_desc *pdesc;
    uint16_t slot;              /* the next slot we make available */
    bool wrap;                  /* our wrap counter at 'slot' */
    uint16_t base;              /* what SET_VRING_BASE said */
};

/* The scenario's thread owns it; a scenario may hand one ring (and what
 * it points to) to a thread of its own for a while. */
struct hg_guest {
    struct hctx *ctx;
    const char *port;
    bool peer;
    int sock;
    unsigned n_regions;
    int mfd[3];
    uint8_t *mem[3];
    uint64_t gpa[3], size[3];
    int kick[2], call[2];
    struct hg_ring rx, tx;      /* queue 0, queue 1 */
};

/* A well-behaved set-up over a fresh connection: the hostile guest (all
 * three regions) or, with 'peer', the peer (R0 only) on --peer-socket;
 * 'indirect' negotiates INDIRECT_DESC.  0, or fails the scenario with
 * nothing left open. */
int hg_guest_open(struct hctx *, struct hg_guest *, bool peer,
                  bool indirect);
/* The same for the hostile guest on packed rings (VIRTIO_F_RING_PACKED):
 * both rings start at 'base', 0x8000 (slot 0, wrap counter 1) as QEMU
 * says for a new ring, or 0 as UML does; either way the guest's wrap
 * counter starts at 1 (hostile-packed.c posts on them). */
int hg_guest_open_packed(struct hctx *, struct hg_guest *, bool indirect,
                         uint16_t base);
/* Hangs up (if still connected) and releases the memory and fds. */
void hg_guest_free(struct hg_guest *);
/* Stops both rings as QEMU does (GET_VRING_BASE) and, with 'check', that
 * the bases match what we made available: every chain was consumed (and,
 * packed, given back).  Then hg_guest_free. */
int hg_guest_close(struct hg_guest *, bool check);
/* The end of a scenario that used 'g': if 'res' is 0 so far, the daemon
 * must still answer on g's connection and the rings close with matching
 * bases (hg_guest_close with check); otherwise g is just freed.  Returns
 * the scenario's result. */
int hg_guest_finish(struct hctx *, struct hg_guest *, int res);
/* Sets ring 'q' up where 'r' says, 'size' entries from 'base' (NUM, BASE,
 * ADDR, KICK, each acknowledged); the caller adds CALL or ENABLE.  0 or
 * the first non-zero acknowledgement / error. */
int64_t hg_ring_setup(struct hg_guest *, uint32_t q, const struct hg_ring *,
                      uint16_t size, uint16_t base);

/* ---- The hostile guest's rings. ---- */

/* The byte at offset 'off' of R0, and buffer 'i' of ring 'r' as a GPA. */
uint8_t *hg_r0(const struct hg_guest *, uint64_t off);
uint64_t hg_buf_gpa(const struct hg_ring *, unsigned i);
void hg_set_desc(struct vring_desc *, uint64_t addr, uint32_t len,
                 uint16_t flags, uint16_t next);
/* Makes 'n' heads available and publishes the avail index. */
void hg_ring_post(struct hg_ring *, const uint16_t *heads, unsigned n);
/* The used index, as the switch last published it. */
uint16_t hg_ring_used(const struct hg_ring *);
/* The peer's transmit side: keeps frames in flight towards the hostile
 * guest.  Descriptor i always holds frame i. */
void hg_peer_pump(struct hg_guest *peer);
/* Waits until the switch has given back everything made available on 'r',
 * pumping the peer (if any) meanwhile.  0 or -ETIMEDOUT. */
int hg_ring_wait_all_used(struct hg_ring *, struct hg_guest *peer,
                          int timeout_ms);
/* One frame to teach the switch that 02:02:02:02:02:02 is behind the
 * hostile port, so that the peer's frames go there.  0 or fails. */
int hg_learn_mac(struct hctx *, struct hg_guest *);

/* ---- Verdicts on chains. ---- */

/* Waits for the switch to drop 'g' for a ring-level violation ("broken:
 * guest ring corrupt..."), pumping the peer (if any) so that a receive
 * ring gets looked at.  Closes g's connection; 0 or fails. */
int hg_expect_dropped(struct hctx *, struct hg_guest *, struct hg_guest *peer);

/* The sum of all drop reasons of one direction. */
uint64_t hg_drops_sum(const struct stats_dir *);
/* The used entries of the last 'n' chains posted on 'r' ('heads'): ids in
 * order, lengths as 'expect' (DROP_* or HG_ACCEPT) wants.  0 or fails. */
int hg_check_used(struct hctx *, const struct hg_ring *,
                  const uint16_t *heads, unsigned n, int expect);

/* ---- Guest-level scenarios listed in h_guest_scenarios (hostile-guest.c)
 * but written elsewhere.  'arg' chooses the variant. ---- */

/* hostile-fds.c: R0's memfd truncated under the switch's mappings. */
enum { HG_TR_RINGS, HG_TR_TX_BUFFERS, HG_TR_RX_BUFFERS };
int hg_s_truncate(struct hctx *, const void *arg);
/* hostile-fds.c: a kick, call or error fd that is no eventfd. */
enum { HG_NF_KICK_ZERO, HG_NF_KICK_TIMER, HG_NF_KICK_FILE, HG_NF_CALL_FILE,
       HG_NF_CALL_ZERO, HG_NF_ERR_ZERO };
int hg_s_bad_notify_fd(struct hctx *, const void *arg);
/* hostile-load.c: GET_VRING_BASE under full load, 'arg' rounds. */
int hg_s_vring_base_load(struct hctx *, const void *arg);

#endif /* hostile.h */
