/* vhu-msg.h -- vhost-user messages: wire layout, framing over a UNIX
 * socket with file descriptors, and per-request validation.
 *
 * Wire format (QEMU docs/interop/vhost-user.rst), native endianness:
 *
 *   u32 request | u32 flags | u32 size | payload[size]   (+ SCM_RIGHTS fds)
 *   flags: bits 0-1 version (1), bit 2 reply, bit 3 need_reply
 *
 * Everything received here is untrusted.  vhu_msg_recv() bounds the size
 * and the fd count; vhu_msg_validate() checks that each request carries
 * exactly the payload and fds it must.  Callers of either may then read the
 * payload union member the request names without further size checks, but
 * must still check values (indexes, counts, addresses).
 *
 * Control thread only. */
#ifndef VU_VHU_MSG_H
#define VU_VHU_MSG_H 1

#include <stdint.h>

enum vhu_request {
    VHU_NONE = 0,
    VHU_GET_FEATURES = 1,
    VHU_SET_FEATURES = 2,
    VHU_SET_OWNER = 3,
    VHU_RESET_OWNER = 4,
    VHU_SET_MEM_TABLE = 5,
    VHU_SET_LOG_BASE = 6,
    VHU_SET_LOG_FD = 7,
    VHU_SET_VRING_NUM = 8,
    VHU_SET_VRING_ADDR = 9,
    VHU_SET_VRING_BASE = 10,
    VHU_GET_VRING_BASE = 11,
    VHU_SET_VRING_KICK = 12,
    VHU_SET_VRING_CALL = 13,
    VHU_SET_VRING_ERR = 14,
    VHU_GET_PROTOCOL_FEATURES = 15,
    VHU_SET_PROTOCOL_FEATURES = 16,
    VHU_GET_QUEUE_NUM = 17,
    VHU_SET_VRING_ENABLE = 18,
    VHU_SEND_RARP = 19,
    VHU_NET_SET_MTU = 20,
    VHU_SET_BACKEND_REQ_FD = 21,    /* a.k.a. SET_SLAVE_REQ_FD */
    VHU_IOTLB_MSG = 22,
    VHU_SET_VRING_ENDIAN = 23,
    VHU_GET_CONFIG = 24,
    VHU_SET_CONFIG = 25,
    VHU_GET_INFLIGHT_FD = 31,
    VHU_SET_INFLIGHT_FD = 32,
    VHU_RESET_DEVICE = 34,
    VHU_VRING_KICK = 35,
    VHU_GET_MAX_MEM_SLOTS = 36,
    VHU_ADD_MEM_REG = 37,
    VHU_REM_MEM_REG = 38,
    VHU_SET_STATUS = 39,
    VHU_GET_STATUS = 40,
    VHU_REQUEST_MAX
};

/* Protocol feature bits (GET/SET_PROTOCOL_FEATURES). */
enum {
    VHU_PROTOCOL_F_MQ = 0,
    VHU_PROTOCOL_F_LOG_SHMFD = 1,
    VHU_PROTOCOL_F_RARP = 2,
    VHU_PROTOCOL_F_REPLY_ACK = 3,
    VHU_PROTOCOL_F_NET_MTU = 4,
    VHU_PROTOCOL_F_BACKEND_REQ = 5,
    VHU_PROTOCOL_F_CROSS_ENDIAN = 6,
    VHU_PROTOCOL_F_CONFIG = 9,
    VHU_PROTOCOL_F_INFLIGHT_SHMFD = 12,
    VHU_PROTOCOL_F_RESET_DEVICE = 13,
    VHU_PROTOCOL_F_INBAND_NOTIFICATIONS = 14,
    VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15,
    VHU_PROTOCOL_F_STATUS = 16,
};

#define VHU_F_PROTOCOL_FEATURES 30      /* virtio feature bit */

#define VHU_FLAG_VERSION_MASK 0x3u
#define VHU_FLAG_VERSION      0x1u
#define VHU_FLAG_REPLY        (1u << 2)
#define VHU_FLAG_NEED_REPLY   (1u << 3)

#define VHU_VRING_IDX_MASK    0xffu      /* in u64 payload of KICK/CALL/ERR */
#define VHU_VRING_NOFD_MASK   (1u << 8)

#define VHU_MSG_HDR_SIZE       12u
#define VHU_MAX_FDS            8u       /* fds one message may carry */
#define VHU_MEM_TABLE_REGIONS  8u       /* regions in one SET_MEM_TABLE */
#define VHU_MAX_MEM_SLOTS      32u      /* GET_MAX_MEM_SLOTS answer */
#define VHU_CONFIG_MAX_SIZE    256u

struct vhu_vring_state {
    uint32_t index;
    uint32_t num;
};

struct vhu_vring_addr {
    uint32_t index;
    uint32_t flags;
    uint64_t desc_qva;
    uint64_t used_qva;
    uint64_t avail_qva;
    uint64_t log_gpa;
};

struct vhu_mem_region {
    uint64_t gpa;
    uint64_t size;
    uint64_t qva;
    uint64_t mmap_offset;
};

struct vhu_mem_table {
    uint32_t n_regions;
    uint32_t padding;
    struct vhu_mem_region regions[VHU_MEM_TABLE_REGIONS];
};

struct vhu_mem_reg {                /* ADD_MEM_REG, REM_MEM_REG */
    uint64_t padding;
    struct vhu_mem_region region;
};

struct vhu_config {
    uint32_t offset;
    uint32_t size;
    uint32_t flags;
    uint8_t data[VHU_CONFIG_MAX_SIZE];
};

#define VHU_CONFIG_HDR_SIZE 12u

union vhu_payload {
    uint64_t u64;
    struct vhu_vring_state state;
    struct vhu_vring_addr addr;
    struct vhu_mem_table mem;
    struct vhu_mem_reg mem_reg;
    struct vhu_config config;
    uint8_t bytes[sizeof(struct vhu_config)];
};

#define VHU_MAX_PAYLOAD ((uint32_t) sizeof(union vhu_payload))

struct vhu_msg {
    uint32_t request;
    uint32_t flags;
    uint32_t size;                  /* payload bytes actually present */
    union vhu_payload payload;
    int fds[VHU_MAX_FDS];           /* received fds; -1 once taken */
    unsigned n_fds;
};

/* Reads one message from 'sock'.  The socket should have a receive timeout
 * (SO_RCVTIMEO): a message started but not finished in time is an error,
 * so a stalled front end cannot hold the control thread.  Returns 0;
 * -ECONNRESET on EOF before the first byte; -EPROTO for a header with a bad
 * version or a size above VHU_MAX_PAYLOAD, or EOF inside a message; -errno
 * otherwise.  On any error no fd stays open.  On success the message owns
 * the fds it carries. */
int vhu_msg_recv(int sock, struct vhu_msg *);

/* Checks 'msg' against what its request must carry: exact payload size
 * (variable for SET_MEM_TABLE and config requests, checked against their
 * own counts), number of fds, version bits.  Returns 0, or -EPROTO and
 * points '*why' at a static explanation for the log. */
int vhu_msg_validate(const struct vhu_msg *, const char **why);

/* Closes every fd still owned by 'msg'. */
void vhu_msg_close_fds(struct vhu_msg *);

/* Takes fd number 'i' out of 'msg' (the caller owns it now); -1 if none. */
int vhu_msg_take_fd(struct vhu_msg *, unsigned i);

/* Sends a reply to 'request' with 'size' bytes of 'payload' (flags:
 * version 1 | reply).  Returns 0 or -errno. */
int vhu_msg_reply(int sock, uint32_t request, const void *payload,
                  uint32_t size);

/* Sends any message with optional fds (tests and front ends use it).
 * Returns 0 or -errno. */
int vhu_msg_send(int sock, const struct vhu_msg *, const int *fds,
                 unsigned n_fds);

/* "SET_MEM_TABLE" etc., or "UNKNOWN". */
const char *vhu_request_name(uint32_t request);

#endif /* vhu-msg.h */
