/* vhu-dev.h -- one vhost-user net device (the backend side): the state
 * machine driven by a front end's messages.
 *
 * A device lives as long as its port.  A front end connects (the caller,
 * which owns the listening or connecting socket, hands the connected socket
 * to vhu_dev_attach()), negotiates features, shares its memory, configures
 * and kicks rings, and goes away; vhu_dev_disconnect() brings the device
 * back to its initial state, ready for the next connection.
 *
 * Ring states (vhost-user.rst, "Ring states"):
 *   stopped --(SET_VRING_KICK)--> started --(GET_VRING_BASE)--> stopped
 *   enabled by SET_VRING_ENABLE 1 (initially enabled unless
 *   VHOST_USER_F_PROTOCOL_FEATURES was negotiated).
 * A vring is *live*, i.e. a worker may poll it, when it is started, its
 * size and addresses are set and translate into the current memory map,
 * and the device is not broken.  A transmit ring that the front end
 * disables after having enabled it is still polled and its frames
 * discarded (counted as ring_disabled), as the spec asks.  A ring that has
 * not been enabled yet is not polled at all: SET_VRING_ENABLE is not
 * acknowledged, so a front end may queue frames before we have read it,
 * and those must wait, not be thrown away (DPDK's virtio-user does this
 * when it starts forwarding).
 *
 * Workers.  Before the device changes anything a worker may read (the
 * memory map, a vring's pointers, indexes or call fd, the negotiated
 * features) it calls ops->quiesce(), which must return only once no worker
 * uses any vring of this device.  After the change it calls ops->changed(),
 * after which the owner of the device republishes the live vrings to the
 * workers.  So GET_VRING_BASE replies only after the worker left the ring,
 * and memory is unmapped only when nobody reads it.
 *
 * Untrusted input: every request is validated (vhu_msg_validate, then
 * values: vring index < 2 * n_queue_pairs checked on the 32-bit value
 * before use, ring size a power of two <= 32768, regions checked by gmem).
 * A violation makes vhu_dev_handle_*() return an error with dev->broken set
 * to the reason; the caller disconnects the device and logs the reason.
 *
 * Control thread only. */
#ifndef VU_VHU_DEV_H
#define VU_VHU_DEV_H 1

#include <stdbool.h>
#include <stdint.h>

#include "gmem.h"
#include "vhu-msg.h"
#include "vq.h"

#define VHU_MAX_QUEUE_PAIRS 16
#define VHU_MAX_VRINGS (2 * VHU_MAX_QUEUE_PAIRS)

/* Ring 2*q is the guest's receive queue q (we transmit into it), ring
 * 2*q+1 its transmit queue q (we receive from it). */
#define VHU_RXQ(q) (2u * (q))
#define VHU_TXQ(q) (2u * (q) + 1)

/* What we offer (virtio feature bits), at most: see
 * vhu_dev_offered_features() for what one device offers.  Never
 * VIRTIO_NET_F_CTRL_VQ: we do not serve a control virtqueue.  QEMU's
 * device model would serve it, but UML hands our features straight to the
 * guest's virtio_net, which then waits forever for its control commands. */
#define VHU_OFFERED_FEATURES                                    \
    ((1ULL << 32 /* VIRTIO_F_VERSION_1 */)                      \
     | (1ULL << 15 /* VIRTIO_NET_F_MRG_RXBUF */)                \
     | (1ULL << 28 /* VIRTIO_RING_F_INDIRECT_DESC */)           \
     | (1ULL << 29 /* VIRTIO_RING_F_EVENT_IDX */)               \
     | VHU_F_RING_PACKED                                        \
     | (1ULL << 35 /* VIRTIO_F_IN_ORDER */)                     \
     | VHU_F_NET_MQ                                             \
     | (1ULL << VHU_F_PROTOCOL_FEATURES))

/* VIRTIO_NET_F_MQ: offered only by a device with more than one queue
 * pair.  The virtio spec makes MQ depend on CTRL_VQ, and Linux's
 * virtio_net refuses a device that offers MQ without it ("device
 * advertises feature VIRTIO_NET_F_MQ but not VIRTIO_NET_F_CTRL_VQ", probe
 * fails with -EINVAL): that is what UML sees.  QEMU and DPDK virtio-user
 * need MQ from us only to use several queue pairs. */
#define VHU_F_NET_MQ (1ULL << 22)

#define VHU_F_RING_PACKED (1ULL << 34)

#define VHU_OFFERED_PROTOCOL_FEATURES                           \
    ((1ULL << VHU_PROTOCOL_F_MQ)                                \
     | (1ULL << VHU_PROTOCOL_F_REPLY_ACK)                       \
     | (1ULL << VHU_PROTOCOL_F_NET_MTU)                         \
     | (1ULL << VHU_PROTOCOL_F_RARP)                            \
     | (1ULL << VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS)             \
     | (1ULL << VHU_PROTOCOL_F_BACKEND_REQ))

struct vhu_dev;

struct vhu_dev_ops {
    /* Returns once no worker uses any vring of 'dev'. */
    void (*quiesce)(struct vhu_dev *, void *aux);
    /* The set of live vrings, or their configuration, may have changed. */
    void (*changed)(struct vhu_dev *, void *aux);
    /* SEND_RARP: the guest behind this device has MAC 'mac'. May be NULL. */
    void (*rarp)(struct vhu_dev *, const uint8_t mac[6], void *aux);
};

struct vhu_vring {
    struct vq vq;               /* datapath state, see vq.h */
    uint16_t size;              /* SET_VRING_NUM, 0 if unset */
    uint32_t base;              /* SET_VRING_BASE (packed: vq_setup_packed's
                                 * form) */
    bool addr_set;              /* SET_VRING_ADDR received */
    uint64_t desc_qva, avail_qva, used_qva;
    int kick_fd;                /* -1 if none (or polling) */
    int call_fd;                /* -1 if none */
    int err_fd;                 /* -1 if none */
    bool started;               /* kicked and not stopped */
    bool enabled;               /* SET_VRING_ENABLE */
    bool was_enabled;           /* enabled at some point since it started */
    bool mapped;                /* vq points into the current memory map */
};

struct vhu_dev {
    const char *name;           /* for log lines; owned by the caller */
    const struct vhu_dev_ops *ops;
    void *aux;
    unsigned n_queue_pairs;     /* what GET_QUEUE_NUM answers */
    uint64_t withheld;          /* features not offered (vhu_dev_withhold) */

    int sock;                   /* connected front end, -1 if none */
    uint64_t features;          /* negotiated (SET_FEATURES) */
    uint64_t protocol_features; /* negotiated */
    bool features_set;
    uint32_t mtu;               /* NET_SET_MTU, 0 if never set */
    int backend_req_fd;         /* SET_BACKEND_REQ_FD, -1 if none */
    struct gmem mem;
    struct vhu_vring vrings[VHU_MAX_VRINGS];

    char broken[128];           /* why the last connection was dropped */
    uint64_t n_msgs;            /* messages handled, for stats */
};

/* Initializes 'dev' without a connection.  'n_queue_pairs' is clamped to
 * 1..VHU_MAX_QUEUE_PAIRS. */
void vhu_dev_init(struct vhu_dev *, const char *name, unsigned n_queue_pairs,
                  const struct vhu_dev_ops *, void *aux);

/* Stops offering the virtio 'features' (VHU_F_RING_PACKED: a port
 * configured with packed=off), from the next GET_FEATURES on. */
void vhu_dev_withhold(struct vhu_dev *, uint64_t features);

/* Gives 'dev' the connected socket 'sock' (it sets the receive timeout).
 * The device owns it until vhu_dev_disconnect().  The device must not be
 * connected. */
void vhu_dev_attach(struct vhu_dev *, int sock);

/* Reads one message from the socket and handles it.  Returns 0, or -errno
 * when the connection must be dropped: -ECONNRESET when the front end hung
 * up, -EPROTO (or another code) for a violation, with dev->broken set.  The
 * caller then calls vhu_dev_disconnect(). */
int vhu_dev_handle_readable(struct vhu_dev *);

/* Handles one received message (validated here), replying on dev->sock
 * when the request has a reply or NEED_REPLY asks for an ack.  Takes the
 * message's fds it uses and closes the rest.  Returns like
 * vhu_dev_handle_readable(). */
int vhu_dev_handle_msg(struct vhu_dev *, struct vhu_msg *);

/* Quiesces, stops every ring, unmaps memory, closes the socket and every
 * fd, and resets the negotiated state.  No-op if not connected. */
void vhu_dev_disconnect(struct vhu_dev *);

/* Frees everything (disconnects first).  'dev' itself is the caller's. */
void vhu_dev_destroy(struct vhu_dev *);

/* Whether a worker may poll vring 'idx' now (see above). */
bool vhu_vring_is_live(const struct vhu_dev *, unsigned idx);

bool vhu_dev_is_connected(const struct vhu_dev *);

/* Whether the front end chose packed virtqueues (VIRTIO_F_RING_PACKED). */
bool vhu_dev_packed(const struct vhu_dev *);

/* The virtio features GET_FEATURES answers: VHU_OFFERED_FEATURES, without
 * VHU_F_NET_MQ on a single-queue-pair device, nor what was withheld. */
uint64_t vhu_dev_offered_features(const struct vhu_dev *);

/* How many queue pairs the front end uses now (a ring of the pair started
 * and enabled), for stats. */
unsigned vhu_dev_active_queue_pairs(const struct vhu_dev *);

#endif /* vhu-dev.h */
