/* vhu-dev.c -- one vhost-user net device, backend side: the state machine
 * that a front end (QEMU, DPDK virtio-user, UML, vupktgen) drives with its
 * messages.  See vhu-dev.h for the ring states and the worker handshake.
 * The owner is the vhost-user port (pmd/port-vhost.c), on the control
 * thread.
 *
 * A message goes through vhu_dev_handle_msg():
 *
 *   validate (vhu-msg.c: sizes, fd counts) --bad--> broken, no handler runs
 *      |
 *   handler: checks values (ring index on the full u32, ring size, regions)
 *      |    returns 0 (done), a positive errno (refused, the connection
 *      |    stays: the front end hears a nonzero ack if it asked), or a
 *      |    negative errno (broken: the caller disconnects)
 *      |
 *   leftover fds closed; REPLY_ACK answered exactly once if asked for and
 *   the request has no reply of its own
 *
 * What workers see.  A worker reads a vring only while it is published
 * live (vhu_vring_is_live() when the owner last republished).  Anything a
 * worker may read -- the memory map, vq pointers and indexes, call fd,
 * negotiated features -- changes only between ops->quiesce() and
 * ops->changed().  dev_quiesce() skips the handshake when no ring is
 * started, since then no ring can be published.
 *
 * Ring lifetime:
 *
 *   reset --NUM/BASE/ADDR--> configured --KICK--> started --GET_VRING_BASE
 *     ^                          ^                  |  (reply: last avail)
 *     |                          +---NUM/BASE/ADDR--+  (stops it too; the
 *     +-- RESET_OWNER, disconnect                      next KICK restarts)
 *
 * A started ring is live while its three parts translate into the current
 * memory map.  A map change (SET_MEM_TABLE, ADD/REM_MEM_REG) re-translates
 * started rings in place, keeping their indexes; a ring whose memory went
 * away stays started but is not live until a later map change brings it
 * back (QEMU's REM-then-ADD sequences pass through such states). */
#include <config.h>

#include "vhu-dev.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* Feature bits that change how we touch a ring. */
#define F_MRG_RXBUF     15
#define F_INDIRECT_DESC 28
#define F_EVENT_IDX     29
#define F_VERSION_1     32
#define F_RING_PACKED   34
#define F_IN_ORDER      35

#define HAS(features, bit) (((features) >> (bit)) & 1)

/* A message must arrive whole within this, or the front end is dropped:
 * the control thread serves every port and must not hang on one. */
#define SOCK_TIMEOUT_MS 1000

#define MTU_MIN 68
#define MTU_MAX 65535

static void
close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static void
replace_fd(int *fd, int new_fd)
{
    close_fd(fd);
    *fd = new_fd;
}

static unsigned
vring_index(const struct vhu_dev *dev, const struct vhu_vring *vr)
{
    return (unsigned) (vr - dev->vrings);
}

static bool
dev_any_started(const struct vhu_dev *dev)
{
    for (unsigned i = 0; i < VHU_MAX_VRINGS; i++) {
        if (dev->vrings[i].started) {
            return true;
        }
    }
    return false;
}

/* Waits until no worker uses this device, if one could be. */
static void
dev_quiesce(struct vhu_dev *dev)
{
    if (dev_any_started(dev) && dev->ops && dev->ops->quiesce) {
        dev->ops->quiesce(dev, dev->aux);
    }
}

static void
dev_changed(struct vhu_dev *dev)
{
    if (dev->ops && dev->ops->changed) {
        dev->ops->changed(dev, dev->aux);
    }
}

/* Records why the connection must go and returns -EPROTO.  No ring is
 * live from here on, so that whoever asks before the caller disconnects
 * gets the right answer; the caller logs the reason. */
static int __attribute__((format(printf, 2, 3)))
dev_break(struct vhu_dev *dev, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    vsnprintf(dev->broken, sizeof dev->broken, fmt, args);
    va_end(args);
    for (unsigned i = 0; i < VHU_MAX_VRINGS; i++) {
        dev->vrings[i].started = false;
    }
    VLOG_DBG("%s: %s", dev->name, dev->broken);
    return -EPROTO;
}

/* ---- Rings. ---- */

static void
vring_reset(struct vhu_vring *vr)
{
    close_fd(&vr->kick_fd);
    close_fd(&vr->call_fd);
    close_fd(&vr->err_fd);
    memset(vr, 0, sizeof *vr);
    vr->kick_fd = vr->call_fd = vr->err_fd = -1;
    vr->vq.call_fd = -1;
}

static void
vring_apply_features(const struct vhu_dev *dev, struct vhu_vring *vr)
{
    uint64_t f = dev->features;

    /* virtio 1.x always has num_buffers; legacy only with MRG_RXBUF. */
    vr->vq.hdr_size = HAS(f, F_VERSION_1) || HAS(f, F_MRG_RXBUF) ? 12 : 10;
    vr->vq.event_idx = HAS(f, F_EVENT_IDX);
    vr->vq.indirect = HAS(f, F_INDIRECT_DESC);
    vr->vq.mrg_rxbuf = HAS(f, F_MRG_RXBUF);
    vr->vq.in_order = HAS(f, F_IN_ORDER);
    /* The guest's transmit rings (odd indexes): nothing is written there,
     * so a used entry's length tells it nothing. */
    vr->vq.batch_used = vr->vq.in_order && vring_index(dev, vr) % 2 == 1;
}

/* Returns ring 'index', or NULL with the device broken.  The index is
 * checked as the 32-bit value from the wire: narrowing it first would let
 * 0x10000 alias ring 0. */
static struct vhu_vring *
vring_get(struct vhu_dev *dev, uint32_t index)
{
    if (index >= 2 * dev->n_queue_pairs) {
        dev_break(dev, "vring index %" PRIu32 " out of range (%u queue "
                  "pairs)", index, dev->n_queue_pairs);
        return NULL;
    }
    return &dev->vrings[index];
}

/* The three parts of a ring in our address space: split (desc, avail,
 * used) or packed (table, driver and device event areas).  A started ring
 * keeps the layout it started with, whatever SET_FEATURES says later:
 * checked against the other layout's sizes, a split ring's avail and used
 * rings could run past the end of guest memory. */
struct vring_parts {
    void *desc, *avail, *used;
};

bool
vhu_dev_packed(const struct vhu_dev *dev)
{
    return HAS(dev->features, F_RING_PACKED);
}

static int
vring_translate(const struct vhu_dev *dev, const struct vhu_vring *vr,
                bool packed, struct vring_parts *p)
{
    if (packed) {
        return vq_translate_rings_packed(
            &dev->mem, vr->size, vr->desc_qva, vr->avail_qva, vr->used_qva,
            (struct vring_packed_desc **) &p->desc,
            (struct vring_packed_desc_event **) &p->avail,
            (struct vring_packed_desc_event **) &p->used);
    }
    return vq_translate_rings(&dev->mem, vr->size, vr->desc_qva,
                              vr->avail_qva, vr->used_qva,
                              (struct vring_desc **) &p->desc,
                              (struct vring_avail **) &p->avail,
                              (struct vring_used **) &p->used);
}

/* Stops a started ring; the caller has quiesced.  Its position is kept as
 * the base that GET_VRING_BASE reports and the next start resumes from. */
static void
vring_stop(struct vhu_dev *dev, struct vhu_vring *vr)
{
    if (vr->started) {
        vr->base = vq_get_base(&vr->vq);
        vr->started = false;
        vr->mapped = false;
        vr->was_enabled = false;
        VLOG_INFO("%s: vring %u stopped at %#" PRIx32, dev->name,
                  vring_index(dev, vr), vr->base);
    }
}

/* Before a SET_VRING_NUM/BASE/ADDR: a started ring is stopped first (no
 * front end we know reconfigures a running ring, but UML re-sends the
 * whole setup when its driver is reloaded); the next KICK restarts it.
 * Returns true if the caller must call dev_changed() afterwards. */
static bool
vring_begin_change(struct vhu_dev *dev, struct vhu_vring *vr)
{
    if (!vr->started) {
        return false;
    }
    dev_quiesce(dev);
    vring_stop(dev, vr);
    return true;
}

static int
vring_start(struct vhu_dev *dev, struct vhu_vring *vr)
{
    unsigned idx = vring_index(dev, vr);
    struct vring_parts p;

    if (!vr->size || !vr->addr_set) {
        return dev_break(dev, "vring %u kicked before its size and "
                         "addresses were set", idx);
    }
    if (!vhu_dev_packed(dev) && (vr->size & (vr->size - 1))) {
        return dev_break(dev, "vring %u: size %u is not a power of two "
                         "(only a packed ring may have that)", idx,
                         vr->size);
    }
    int err = vring_translate(dev, vr, vhu_dev_packed(dev), &p);
    if (!err && vhu_dev_packed(dev)) {
        err = vq_setup_packed(&vr->vq, &dev->mem, vr->size, p.desc, p.avail,
                              p.used, vr->base);
        if (err) {
            return dev_break(dev, "vring %u: base %#" PRIx32 " is outside "
                             "the ring (size %u)", idx, vr->base, vr->size);
        }
    } else if (!err) {
        err = vq_setup(&vr->vq, &dev->mem, vr->size, p.desc, p.avail, p.used,
                       (uint16_t) vr->base);
    }
    if (err) {
        return dev_break(dev, "vring %u: rings not in guest memory (%s)",
                         idx, strerror(-err));
    }
    /* Not live yet, so no worker reads it: no quiesce needed. */
    vring_apply_features(dev, vr);
    vr->vq.call_fd = vr->call_fd;
    vq_start(&vr->vq);
    vr->started = vr->mapped = true;
    /* vhost-user.rst, "Ring states": without protocol features a ring is
     * enabled when it starts; with them it waits for SET_VRING_ENABLE. */
    if (!HAS(dev->features, VHU_F_PROTOCOL_FEATURES)) {
        vr->enabled = true;
    }
    vr->was_enabled |= vr->enabled;
    VLOG_INFO("%s: vring %u started: %s, size %u, base %#" PRIx32 "%s",
              dev->name, idx, vr->vq.packed ? "packed" : "split", vr->size,
              vr->base, vr->enabled ? "" : " (disabled)");
    dev_changed(dev);
    return 0;
}

/* After a memory map change (quiesced): points each started ring into the
 * new map, keeping its indexes, or marks it unmapped.  Every translation
 * cache is dropped: it may point at a region slot that now holds another
 * region. */
static void
dev_remap_rings(struct vhu_dev *dev)
{
    for (unsigned i = 0; i < VHU_MAX_VRINGS; i++) {
        struct vhu_vring *vr = &dev->vrings[i];
        struct vring_parts p;

        vr->vq.cache.last = NULL;
        if (!vr->started) {
            continue;
        }
        if (vring_translate(dev, vr, vr->vq.packed, &p)) {
            if (vr->mapped) {
                VLOG_WARN("%s: vring %u is outside guest memory now; not "
                          "polled until it is mapped again", dev->name, i);
            }
            vr->mapped = false;
            continue;
        }
        if (vr->vq.packed) {
            vr->vq.pdesc = p.desc;
            vr->vq.driver_event = p.avail;
            vr->vq.device_event = p.used;
        } else {
            vr->vq.desc = p.desc;
            vr->vq.avail = p.avail;
            vr->vq.used = p.used;
        }
        vr->vq.mem = &dev->mem;
        vr->mapped = true;
        vq_start(&vr->vq);
    }
}

/* ---- Replies. ---- */

static int
dev_reply(struct vhu_dev *dev, const struct vhu_msg *msg,
          const void *payload, uint32_t size)
{
    int err = vhu_msg_reply(dev->sock, msg->request, payload, size);
    if (err) {
        dev_break(dev, "cannot send reply: %s", strerror(-err));
    }
    return err;
}

static int
dev_reply_u64(struct vhu_dev *dev, const struct vhu_msg *msg, uint64_t v)
{
    return dev_reply(dev, msg, &v, sizeof v);
}

static bool
dev_reply_ack_negotiated(const struct vhu_dev *dev)
{
    return HAS(dev->protocol_features, VHU_PROTOCOL_F_REPLY_ACK);
}

/* ---- Request handlers.  See the top of the file for return values. ---- */

static int
h_get_features(struct vhu_dev *dev, struct vhu_msg *msg)
{
    return dev_reply_u64(dev, msg, vhu_dev_offered_features(dev));
}

static int
h_set_features(struct vhu_dev *dev, struct vhu_msg *msg)
{
    uint64_t f = msg->payload.u64;
    uint64_t offered = vhu_dev_offered_features(dev);

    if (f & ~offered) {
        return dev_break(dev, "features %#" PRIx64 " were not offered",
                         f & ~offered);
    }
    /* QEMU sends this once per queue pair, the later ones while the first
     * pair runs; the value is the same, but workers read the result. */
    dev_quiesce(dev);
    dev->features = f;
    dev->features_set = true;
    for (unsigned i = 0; i < VHU_MAX_VRINGS; i++) {
        vring_apply_features(dev, &dev->vrings[i]);
    }
    dev_changed(dev);
    VLOG_DBG("%s: features %#" PRIx64, dev->name, f);
    return 0;
}

static int
h_set_owner(struct vhu_dev *dev, struct vhu_msg *msg)
{
    return 0;
}

/* Deprecated; vhost-user.rst recommends treating it as "disable all
 * rings" and warns that discarding connection state breaks front ends.
 * QEMU sends it on device reset and goes on using the protocol features
 * it negotiated at connect time (it would wait forever for a REPLY_ACK we
 * no longer sent), so those, the memory map and the backend channel stay;
 * rings and virtio features are reset. */
static int
h_reset_owner(struct vhu_dev *dev, struct vhu_msg *msg)
{
    dev_quiesce(dev);
    for (unsigned i = 0; i < VHU_MAX_VRINGS; i++) {
        vring_reset(&dev->vrings[i]);
    }
    dev->features = 0;
    dev->features_set = false;
    dev_changed(dev);
    VLOG_INFO("%s: RESET_OWNER: rings reset", dev->name);
    return 0;
}

static int
h_get_protocol_features(struct vhu_dev *dev, struct vhu_msg *msg)
{
    return dev_reply_u64(dev, msg, VHU_OFFERED_PROTOCOL_FEATURES);
}

static int
h_set_protocol_features(struct vhu_dev *dev, struct vhu_msg *msg)
{
    uint64_t f = msg->payload.u64;

    if (f & ~VHU_OFFERED_PROTOCOL_FEATURES) {
        return dev_break(dev, "protocol features %#" PRIx64 " were not "
                         "offered", f & ~(uint64_t) VHU_OFFERED_PROTOCOL_FEATURES);
    }
    dev->protocol_features = f;
    VLOG_DBG("%s: protocol features %#" PRIx64, dev->name, f);
    return 0;
}

static int
h_get_queue_num(struct vhu_dev *dev, struct vhu_msg *msg)
{
    return dev_reply_u64(dev, msg, dev->n_queue_pairs);
}

/* Maps region 'r' with fd number 'i' of 'msg'.  Every failure breaks the
 * device: an overlapping region or a short file is a front-end bug we
 * cannot work around, and QEMU treats a nack here as fatal anyway. */
static int
dev_add_region(struct vhu_dev *dev, const struct vhu_mem_region *r,
               struct vhu_msg *msg, unsigned i)
{
    struct gmem_region_desc d = {
        .gpa = r->gpa,
        .size = r->size,
        .qva = r->qva,
        .mmap_offset = r->mmap_offset,
    };
    int fd = vhu_msg_take_fd(msg, i);
    int err = gmem_add(&dev->mem, &d, fd);

    if (err) {
        if (fd >= 0) {
            close(fd);
        }
        return dev_break(dev, "region gpa %#" PRIx64 " size %#" PRIx64
                         " offset %#" PRIx64 ": %s", r->gpa, r->size,
                         r->mmap_offset, strerror(-err));
    }
    return 0;
}

static void
log_memory(const struct vhu_dev *dev)
{
    VLOG_INFO("%s: guest memory: %u regions, %" PRIu64 " MiB", dev->name,
              dev->mem.n_regions, gmem_total_size(&dev->mem) >> 20);
}

/* Replaces the whole map.  The fds not used because an earlier region
 * failed are closed by the caller with the rest of the message. */
static int
h_set_mem_table(struct vhu_dev *dev, struct vhu_msg *msg)
{
    const struct vhu_mem_table *t = &msg->payload.mem;
    int err = 0;

    dev_quiesce(dev);
    gmem_clear(&dev->mem);
    for (unsigned i = 0; i < t->n_regions && !err; i++) {
        err = dev_add_region(dev, &t->regions[i], msg, i);
    }
    if (err) {
        gmem_clear(&dev->mem);
    }
    dev_remap_rings(dev);
    dev_changed(dev);
    if (!err) {
        log_memory(dev);
    }
    return err;
}

static int
h_get_max_mem_slots(struct vhu_dev *dev, struct vhu_msg *msg)
{
    return dev_reply_u64(dev, msg, VHU_MAX_MEM_SLOTS);
}

/* The mapped region with the guest-physical and front-end addresses and
 * size of 'r' (what REM_MEM_REG matches on), or NULL. */
static struct gmem_region *
find_region(struct vhu_dev *dev, const struct vhu_mem_region *r)
{
    for (unsigned i = 0; i < dev->mem.n_regions; i++) {
        struct gmem_region *g = &dev->mem.regions[i];
        if (g->gpa == r->gpa && g->size == r->size && g->qva == r->qva) {
            return g;
        }
    }
    return NULL;
}

static int
h_add_mem_reg(struct vhu_dev *dev, struct vhu_msg *msg)
{
    /* QEMU runs one vhost device per queue pair over the same socket and
     * each adds every region: an identical region is shared, counted, and
     * unmapped only when the last of them removes it. */
    struct gmem_region *same = find_region(dev, &msg->payload.mem_reg.region);
    if (same) {
        same->users++;
        vhu_msg_close_fds(msg);
        return 0;
    }
    dev_quiesce(dev);
    int err = dev_add_region(dev, &msg->payload.mem_reg.region, msg, 0);
    dev_remap_rings(dev);
    dev_changed(dev);
    if (!err) {
        log_memory(dev);
    }
    return err;
}

/* An unknown region is refused, not fatal: the map is unchanged and the
 * front end learns it from the ack. */
static int
h_rem_mem_reg(struct vhu_dev *dev, struct vhu_msg *msg)
{
    const struct vhu_mem_region *r = &msg->payload.mem_reg.region;
    struct gmem_region_desc d = {
        .gpa = r->gpa,
        .size = r->size,
        .qva = r->qva,
    };

    /* vhost-user.rst: a passed fd must be closed without being used. */
    vhu_msg_close_fds(msg);
    struct gmem_region *same = find_region(dev, r);
    if (same && same->users > 1) {
        same->users--;
        return 0;
    }
    dev_quiesce(dev);
    int err = gmem_remove(&dev->mem, &d);
    dev_remap_rings(dev);
    dev_changed(dev);
    if (err) {
        VLOG_WARN("%s: REM_MEM_REG: no region gpa %#" PRIx64 " size %#"
                  PRIx64 " qva %#" PRIx64, dev->name, r->gpa, r->size,
                  r->qva);
        return -err;
    }
    log_memory(dev);
    return 0;
}

static int
h_set_vring_num(struct vhu_dev *dev, struct vhu_msg *msg)
{
    struct vhu_vring *vr = vring_get(dev, msg->payload.state.index);
    uint32_t num = msg->payload.state.num;

    if (!vr) {
        return -EPROTO;
    }
    /* A packed ring may have any size, a split one needs a power of two
     * (checked again when the ring starts: features may change). */
    bool pow2 = !(num & (num - 1));
    if (!num || num > VQ_MAX_SIZE || (!vhu_dev_packed(dev) && !pow2)) {
        return dev_break(dev, "vring %u: size %" PRIu32 " is not %sin "
                         "1..%u", vring_index(dev, vr), num,
                         vhu_dev_packed(dev) ? "" : "a power of two ",
                         VQ_MAX_SIZE);
    }
    bool changed = vring_begin_change(dev, vr);
    vr->size = (uint16_t) num;      /* <= 32768, checked above */
    if (changed) {
        dev_changed(dev);
    }
    return 0;
}

static int
h_set_vring_addr(struct vhu_dev *dev, struct vhu_msg *msg)
{
    const struct vhu_vring_addr *a = &msg->payload.addr;
    struct vhu_vring *vr = vring_get(dev, a->index);
    struct vring_parts p;
    int err = 0;

    if (!vr) {
        return -EPROTO;
    }
    /* a->flags only asks for dirty logging, which needs VHOST_F_LOG_ALL:
     * never offered, so never used. */
    bool changed = vring_begin_change(dev, vr);
    vr->desc_qva = a->desc_qva;
    vr->avail_qva = a->avail_qva;
    vr->used_qva = a->used_qva;
    vr->addr_set = true;
    /* Checked now if we can, so that the error names this request; KICK
     * translates again (the map may change in between). */
    if (vr->size && dev->mem.n_regions) {
        err = vring_translate(dev, vr, vhu_dev_packed(dev), &p);
        if (err) {
            err = dev_break(dev, "vring %u: addresses desc %#" PRIx64
                            " avail %#" PRIx64 " used %#" PRIx64 " not in "
                            "guest memory (%s)", vring_index(dev, vr),
                            a->desc_qva, a->avail_qva, a->used_qva,
                            strerror(-err));
        }
    }
    if (changed) {
        dev_changed(dev);
    }
    return err;
}

static int
h_set_vring_base(struct vhu_dev *dev, struct vhu_msg *msg)
{
    struct vhu_vring *vr = vring_get(dev, msg->payload.state.index);
    uint32_t base = msg->payload.state.num;

    if (!vr) {
        return -EPROTO;
    }
    /* Split: an index.  Packed: two positions with their wrap counters
     * (vq_setup_packed checks them against the size when the ring
     * starts). */
    if (!vhu_dev_packed(dev) && base > UINT16_MAX) {
        return dev_break(dev, "vring %u: base %" PRIu32 " above 65535",
                         vring_index(dev, vr), base);
    }
    bool changed = vring_begin_change(dev, vr);
    vr->base = base;
    if (changed) {
        dev_changed(dev);
    }
    return 0;
}

/* Stops the ring and reports where the guest should resume.  The reply
 * goes out only once no worker touches the ring: the front end may unmap
 * the memory as soon as it has the answer. */
static int
h_get_vring_base(struct vhu_dev *dev, struct vhu_msg *msg)
{
    struct vhu_vring *vr = vring_get(dev, msg->payload.state.index);

    if (!vr) {
        return -EPROTO;
    }
    if (vr->started) {
        dev_quiesce(dev);
        vring_stop(dev, vr);
        dev_changed(dev);
    }
    struct vhu_vring_state state = {
        .index = msg->payload.state.index,
        .num = vr->base,
    };
    int err = dev_reply(dev, msg, &state, sizeof state);
    /* The spec stops the ring here; the next start brings a new kick. */
    close_fd(&vr->kick_fd);
    return err;
}

/* The fd of a KICK/CALL/ERR message, or -1 for "none" (NOFD). */
static int
take_vring_fd(struct vhu_msg *msg)
{
    return msg->payload.u64 & VHU_VRING_NOFD_MASK ? -1
                                                  : vhu_msg_take_fd(msg, 0);
}

/* KICK/CALL/ERR fds must be eventfds (QEMU, DPDK), pipes or sockets (UML).
 * Anything else hurts: the control thread reads kick fds until they are
 * empty, which /dev/zero, a regular file or a timerfd firing every
 * nanosecond never are; workers write call fds, and a regular file grows
 * by 8 bytes per notification, a device may block.  Without /proc an
 * eventfd cannot be told from other anonymous inodes: those pass. */
static bool
notify_fd_ok(int fd)
{
    static const char eventfd_link[] = "anon_inode:[eventfd]";
    char path[32], target[sizeof eventfd_link + 1];
    struct stat st;

    if (fstat(fd, &st)) {
        return false;
    }
    if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
        return true;
    }
    if (st.st_mode & S_IFMT) {
        return false;           /* a file, device or directory */
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, target, sizeof target);
    return n < 0 || (n == sizeof eventfd_link - 1
                     && !memcmp(target, eventfd_link, (size_t) n));
}

/* Ring 'msg' names, for KICK/CALL/ERR; NULL with the device broken if the
 * index or the fd is bad. */
static struct vhu_vring *
vring_get_notify(struct vhu_dev *dev, struct vhu_msg *msg, const char *what)
{
    struct vhu_vring *vr = vring_get(dev, msg->payload.u64
                                          & VHU_VRING_IDX_MASK);
    if (vr && !(msg->payload.u64 & VHU_VRING_NOFD_MASK)
        && msg->n_fds && !notify_fd_ok(msg->fds[0])) {
        dev_break(dev, "vring %u: %s fd is not an eventfd, pipe or socket",
                  vring_index(dev, vr), what);
        return NULL;
    }
    return vr;
}

static int
h_set_vring_kick(struct vhu_dev *dev, struct vhu_msg *msg)
{
    struct vhu_vring *vr = vring_get_notify(dev, msg, "kick");
    if (!vr) {
        return -EPROTO;
    }
    /* We poll, so the fd is only kept (and closed when replaced). */
    replace_fd(&vr->kick_fd, take_vring_fd(msg));
    if (vr->started) {
        return 0;               /* a new kick fd for a running ring */
    }
    return vring_start(dev, vr);
}

/* A worker writes the call fd (vq_end()) and must never block there.  An
 * eventfd does not block in practice (its counter would have to reach
 * 2^64 - 1).  UML's call fd is the write end of a UNIX stream socketpair
 * (its os_pipe(): SIGIO does not work with eventfds), blocking, and full
 * after about 280 notifications the guest has not read (default socket
 * buffer), e.g. while its process is stopped: the worker, and every port
 * it serves, would hang.  UML closes its copy of that end once sent, so
 * making ours non-blocking changes nothing for the front end; vq_end()
 * ignores EAGAIN (a wakeup is pending anyway) and EPIPE (the guest is
 * gone).  Only sockets and pipes are touched: a front end may share an
 * eventfd's file description with its own reader. */
static void
call_fd_make_nonblocking(const struct vhu_dev *dev, int fd)
{
    struct stat st;

    if (fd < 0 || fstat(fd, &st)
        || !(S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode))) {
        return;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || (!(flags & O_NONBLOCK)
                      && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)) {
        VLOG_WARN("%s: cannot make call fd non-blocking: %s", dev->name,
                  strerror(errno));
    }
}

static int
h_set_vring_call(struct vhu_dev *dev, struct vhu_msg *msg)
{
    struct vhu_vring *vr = vring_get_notify(dev, msg, "call");
    if (!vr) {
        return -EPROTO;
    }
    int fd = take_vring_fd(msg);
    call_fd_make_nonblocking(dev, fd);
    /* A worker may be writing to the old fd: QEMU swaps call fds on a
     * running ring whenever the guest masks or unmasks its interrupt. */
    bool live = vr->started;
    if (live) {
        dev_quiesce(dev);
    }
    replace_fd(&vr->call_fd, fd);
    vr->vq.call_fd = vr->call_fd;
    if (live) {
        dev_changed(dev);
    }
    return 0;
}

static int
h_set_vring_err(struct vhu_dev *dev, struct vhu_msg *msg)
{
    struct vhu_vring *vr = vring_get_notify(dev, msg, "error");
    if (!vr) {
        return -EPROTO;
    }
    replace_fd(&vr->err_fd, take_vring_fd(msg));
    return 0;
}

static int
h_set_vring_enable(struct vhu_dev *dev, struct vhu_msg *msg)
{
    struct vhu_vring *vr = vring_get(dev, msg->payload.state.index);

    if (!vr) {
        return -EPROTO;
    }
    bool live = vr->started;
    if (live) {
        dev_quiesce(dev);
    }
    vr->enabled = msg->payload.state.num != 0;
    vr->was_enabled |= vr->enabled;
    if (live) {
        dev_changed(dev);
    }
    VLOG_DBG("%s: vring %u %s", dev->name, vring_index(dev, vr),
             vr->enabled ? "enabled" : "disabled");
    return 0;
}

/* The u64 holds the guest's MAC in its first 6 bytes (QEMU copies them
 * in memory order), sent after a migration. */
static int
h_send_rarp(struct vhu_dev *dev, struct vhu_msg *msg)
{
    uint8_t mac[6];

    memcpy(mac, msg->payload.bytes, sizeof mac);
    VLOG_INFO("%s: SEND_RARP for %02x:%02x:%02x:%02x:%02x:%02x", dev->name,
              mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    if (dev->ops && dev->ops->rarp) {
        dev->ops->rarp(dev, mac, dev->aux);
    }
    return 0;
}

/* vhost-user.rst: with REPLY_ACK the back end must answer zero for a valid
 * MTU, nonzero otherwise; an invalid one is refused, not fatal. */
static int
h_net_set_mtu(struct vhu_dev *dev, struct vhu_msg *msg)
{
    uint64_t mtu = msg->payload.u64;

    if (mtu < MTU_MIN || mtu > MTU_MAX) {
        VLOG_WARN("%s: NET_SET_MTU %" PRIu64 " refused (not in %d..%d)",
                  dev->name, mtu, MTU_MIN, MTU_MAX);
        return EINVAL;
    }
    dev->mtu = (uint32_t) mtu;
    VLOG_INFO("%s: MTU %" PRIu64, dev->name, mtu);
    return 0;
}

static int
h_set_backend_req_fd(struct vhu_dev *dev, struct vhu_msg *msg)
{
    replace_fd(&dev->backend_req_fd, vhu_msg_take_fd(msg, 0));
    return 0;
}

/* We never offer PROTOCOL_F_CONFIG, so no conforming front end asks
 * (QEMU and UML check the bit first).  vhost-user.rst: "vhost-user
 * back-end uses zero length of payload to indicate an error", so a stray
 * GET_CONFIG gets a reply with no payload -- an error the front end can
 * report -- and the connection stays, as DPDK does. */
static int
h_get_config(struct vhu_dev *dev, struct vhu_msg *msg)
{
    VLOG_WARN("%s: GET_CONFIG refused (config space not offered)",
              dev->name);
    return dev_reply(dev, msg, NULL, 0);
}

/* Same reasoning; SET_CONFIG has no reply, so it is refused with a
 * nonzero ack if the front end asked for one. */
static int
h_set_config(struct vhu_dev *dev, struct vhu_msg *msg)
{
    VLOG_WARN("%s: SET_CONFIG refused (config space not offered)",
              dev->name);
    return EOPNOTSUPP;
}

struct handler {
    int (*fn)(struct vhu_dev *, struct vhu_msg *);
    bool has_reply;             /* answers on its own: no REPLY_ACK */
};

static const struct handler handlers[VHU_REQUEST_MAX] = {
    [VHU_GET_FEATURES] = { h_get_features, true },
    [VHU_SET_FEATURES] = { h_set_features, false },
    [VHU_SET_OWNER] = { h_set_owner, false },
    [VHU_RESET_OWNER] = { h_reset_owner, false },
    [VHU_SET_MEM_TABLE] = { h_set_mem_table, false },
    [VHU_SET_VRING_NUM] = { h_set_vring_num, false },
    [VHU_SET_VRING_ADDR] = { h_set_vring_addr, false },
    [VHU_SET_VRING_BASE] = { h_set_vring_base, false },
    [VHU_GET_VRING_BASE] = { h_get_vring_base, true },
    [VHU_SET_VRING_KICK] = { h_set_vring_kick, false },
    [VHU_SET_VRING_CALL] = { h_set_vring_call, false },
    [VHU_SET_VRING_ERR] = { h_set_vring_err, false },
    [VHU_GET_PROTOCOL_FEATURES] = { h_get_protocol_features, true },
    [VHU_SET_PROTOCOL_FEATURES] = { h_set_protocol_features, false },
    [VHU_GET_QUEUE_NUM] = { h_get_queue_num, true },
    [VHU_SET_VRING_ENABLE] = { h_set_vring_enable, false },
    [VHU_SEND_RARP] = { h_send_rarp, false },
    [VHU_NET_SET_MTU] = { h_net_set_mtu, false },
    [VHU_SET_BACKEND_REQ_FD] = { h_set_backend_req_fd, false },
    [VHU_GET_CONFIG] = { h_get_config, true },
    [VHU_SET_CONFIG] = { h_set_config, false },
    [VHU_GET_MAX_MEM_SLOTS] = { h_get_max_mem_slots, true },
    [VHU_ADD_MEM_REG] = { h_add_mem_reg, false },
    [VHU_REM_MEM_REG] = { h_rem_mem_reg, false },
};

/* ---- Dispatch. ---- */

/* Puts the request name in front of the reason a handler gave. */
static void
prefix_broken(struct vhu_dev *dev, const struct vhu_msg *msg)
{
    char reason[sizeof dev->broken];

    memcpy(reason, dev->broken, sizeof reason);
    snprintf(dev->broken, sizeof dev->broken, "%s: %s",
             vhu_request_name(msg->request), reason);
}

/* REPLY_ACK: one u64, zero for success.  'acks' is whether REPLY_ACK was
 * negotiated before the request ran or is after it: UML sets NEED_REPLY on
 * the very SET_PROTOCOL_FEATURES that enables REPLY_ACK and waits for the
 * answer. */
static int
dev_ack(struct vhu_dev *dev, const struct vhu_msg *msg, bool acks,
        int result)
{
    if (!(msg->flags & VHU_FLAG_NEED_REPLY)
        || !(acks || dev_reply_ack_negotiated(dev))) {
        return result;
    }
    int err = vhu_msg_reply(dev->sock, msg->request,
                            &(uint64_t) { result != 0 }, sizeof(uint64_t));
    if (err && result >= 0) {
        dev_break(dev, "%s: cannot send ack: %s",
                  vhu_request_name(msg->request), strerror(-err));
        return err;
    }
    return result;
}

int
vhu_dev_handle_msg(struct vhu_dev *dev, struct vhu_msg *msg)
{
    const struct handler *h = NULL;
    bool acks = dev_reply_ack_negotiated(dev);
    const char *why;
    int result;

    dev->n_msgs++;
    VLOG_DBG("%s: %s (flags %#" PRIx32 ", %" PRIu32 " bytes, %u fds)",
             dev->name, vhu_request_name(msg->request), msg->flags,
             msg->size, msg->n_fds);
    if (msg->request < VHU_REQUEST_MAX) {
        h = &handlers[msg->request];
    }
    if (vhu_msg_validate(msg, &why)) {
        result = dev_break(dev, "%s (%" PRIu32 "): %s",
                           vhu_request_name(msg->request), msg->request,
                           why);
    } else if (!h || !h->fn) {
        result = dev_break(dev, "%s (%" PRIu32 "): request not supported",
                           vhu_request_name(msg->request), msg->request);
    } else {
        result = h->fn(dev, msg);
        if (result < 0) {
            prefix_broken(dev, msg);
        }
    }
    vhu_msg_close_fds(msg);
    /* A request with its own reply sent it (or failed); any other gets
     * its ack, a failing one included, so that the front end reports our
     * refusal instead of a hang-up. */
    if (!h || !h->has_reply) {
        result = dev_ack(dev, msg, acks, result);
    }
    return result < 0 ? result : 0;
}

int
vhu_dev_handle_readable(struct vhu_dev *dev)
{
    struct vhu_msg msg;

    if (dev->sock < 0) {
        return -ENOTCONN;
    }
    int err = vhu_msg_recv(dev->sock, &msg);
    if (err == -EAGAIN) {
        return 0;               /* nothing there after all */
    }
    if (err == -ECONNRESET) {
        snprintf(dev->broken, sizeof dev->broken, "front end hung up");
        return err;
    }
    if (err) {
        dev_break(dev, "receiving a message: %s", err == -EPROTO
                  ? "bad header, size or fds" : strerror(-err));
        return err;
    }
    return vhu_dev_handle_msg(dev, &msg);
}

/* ---- Life cycle. ---- */

void
vhu_dev_init(struct vhu_dev *dev, const char *name, unsigned n_queue_pairs,
             const struct vhu_dev_ops *ops, void *aux)
{
    memset(dev, 0, sizeof *dev);
    dev->name = name;
    dev->ops = ops;
    dev->aux = aux;
    dev->n_queue_pairs = MIN(MAX(n_queue_pairs, 1u),
                             (unsigned) VHU_MAX_QUEUE_PAIRS);
    dev->sock = -1;
    dev->backend_req_fd = -1;
    gmem_init(&dev->mem);
    for (unsigned i = 0; i < VHU_MAX_VRINGS; i++) {
        dev->vrings[i].kick_fd = -1;    /* vring_reset() closes fds */
        dev->vrings[i].call_fd = -1;
        dev->vrings[i].err_fd = -1;
        vring_reset(&dev->vrings[i]);
    }
}

void
vhu_dev_withhold(struct vhu_dev *dev, uint64_t features)
{
    dev->withheld |= features;
}

/* The socket is made blocking with timeouts: vhu_msg_recv() then reads a
 * message split over several segments without spinning, and a front end
 * that stops mid-message (or stops reading our replies) costs us at most
 * SOCK_TIMEOUT_MS.  One message is read per vhu_dev_handle_readable(), so
 * the caller's poll loop must be level-triggered. */
void
vhu_dev_attach(struct vhu_dev *dev, int sock)
{
    struct timeval tv = {
        .tv_sec = SOCK_TIMEOUT_MS / 1000,
        .tv_usec = (SOCK_TIMEOUT_MS % 1000) * 1000,
    };

    assert(dev->sock < 0);
    int flags = fcntl(sock, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK)) {
        fcntl(sock, F_SETFL, flags & ~O_NONBLOCK);
    }
    if (setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv)
        || setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv)) {
        VLOG_WARN("%s: cannot set socket timeouts: %s", dev->name,
                  strerror(errno));
    }
    dev->sock = sock;
}

/* True if a disconnect has nothing to release. */
static bool
dev_is_clean(const struct vhu_dev *dev)
{
    if (dev->sock >= 0 || dev->backend_req_fd >= 0 || dev->mem.n_regions) {
        return false;
    }
    for (unsigned i = 0; i < VHU_MAX_VRINGS; i++) {
        const struct vhu_vring *vr = &dev->vrings[i];
        if (vr->started || vr->kick_fd >= 0 || vr->call_fd >= 0
            || vr->err_fd >= 0) {
            return false;
        }
    }
    return true;
}

void
vhu_dev_disconnect(struct vhu_dev *dev)
{
    if (dev_is_clean(dev)) {
        return;
    }
    /* Unconditional: dev_break() may have marked the rings stopped while
     * workers still poll them. */
    if (dev->ops && dev->ops->quiesce) {
        dev->ops->quiesce(dev, dev->aux);
    }
    for (unsigned i = 0; i < VHU_MAX_VRINGS; i++) {
        vring_reset(&dev->vrings[i]);
    }
    gmem_clear(&dev->mem);
    close_fd(&dev->backend_req_fd);
    close_fd(&dev->sock);
    dev->features = 0;
    dev->protocol_features = 0;
    dev->features_set = false;
    dev->mtu = 0;
    dev_changed(dev);
    VLOG_DBG("%s: disconnected", dev->name);
}

void
vhu_dev_destroy(struct vhu_dev *dev)
{
    if (dev) {
        vhu_dev_disconnect(dev);
    }
}

bool
vhu_vring_is_live(const struct vhu_dev *dev, unsigned idx)
{
    if (idx >= 2 * dev->n_queue_pairs || dev->sock < 0) {
        return false;
    }
    const struct vhu_vring *vr = &dev->vrings[idx];
    return vr->started && vr->mapped && vr->size && vr->addr_set;
}

bool
vhu_dev_is_connected(const struct vhu_dev *dev)
{
    return dev->sock >= 0;
}

uint64_t
vhu_dev_offered_features(const struct vhu_dev *dev)
{
    uint64_t f = VHU_OFFERED_FEATURES & ~dev->withheld;
    if (dev->n_queue_pairs < 2) {
        f &= ~VHU_F_NET_MQ;     /* see vhu-dev.h: MQ needs CTRL_VQ */
    }
    return f;
}

/* QEMU starts the rings of every queue pair the device has, but enables
 * only those the guest driver uses (min(queue pairs, vCPUs) for Linux at
 * boot, then whatever `ethtool -L` sets): started alone would count pairs
 * that carry nothing. */
unsigned
vhu_dev_active_queue_pairs(const struct vhu_dev *dev)
{
    unsigned n = 0;
    for (unsigned q = 0; q < dev->n_queue_pairs; q++) {
        const struct vhu_vring *rx = &dev->vrings[VHU_RXQ(q)];
        const struct vhu_vring *tx = &dev->vrings[VHU_TXQ(q)];
        if ((rx->started && rx->enabled) || (tx->started && tx->enabled)) {
            n++;
        }
    }
    return n;
}
