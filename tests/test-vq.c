/* test-vq.c -- the device side of a split virtqueue against a hostile
 * guest.  A small in-test "driver" lays out desc/avail/used in fake guest
 * memory (memfds added to a gmem map) and posts chains; the tests check the
 * walk's validation, the receive copy, publication and notification.
 * Needs nothing special to run.  Guest memory: vq-guest.h. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_net.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cunit.h"
#include "vq-guest.h"
#include "vq.h"

#define DESC_GPA 0x10000
#define AVAIL_GPA 0x30000
#define USED_GPA 0x40000
#define TABLE_GPA 0x60000               /* indirect tables */
#define DATA_GPA 0x80000                /* buffers */

#define F_NEXT VRING_DESC_F_NEXT
#define F_WRITE VRING_DESC_F_WRITE
#define F_INDIRECT VRING_DESC_F_INDIRECT

struct guest {
    struct gmem mem;
    struct vq vq;
    uint16_t avail_idx;     /* the driver's shadow of avail.idx */
};

static struct vq_seg segs[VQ_MAX_SEGS];

static void *
gva(struct guest *g, uint64_t gpa)
{
    return gmem_va(&g->mem, gpa);
}

/* Sets up memory and a ring of 'size' entries (TX-like defaults: 12-byte
 * header, INDIRECT on, no EVENT_IDX, no MRG_RXBUF, no call fd). */
static void
guest_init(struct guest *g, uint16_t size)
{
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;

    memset(g, 0, sizeof *g);
    vq_guest_mem(&g->mem);
    CU_ASSERT_EQUAL_FATAL(
        vq_translate_rings(&g->mem, size, QVA_BASE + DESC_GPA,
                           QVA_BASE + AVAIL_GPA, QVA_BASE + USED_GPA,
                           &desc, &avail, &used), 0);
    CU_ASSERT_EQUAL_FATAL(vq_setup(&g->vq, &g->mem, size, desc, avail, used,
                                   0), 0);
    g->vq.hdr_size = 12;
    g->vq.indirect = true;
    g->vq.call_fd = -1;
}

static void
guest_fini(struct guest *g)
{
    if (g->vq.call_fd >= 0) {
        close(g->vq.call_fd);
    }
    gmem_clear(&g->mem);
}

static void
put_desc(struct vring_desc *table, uint16_t i, uint64_t addr, uint32_t len,
         uint16_t flags, uint16_t next)
{
    struct vring_desc d = { addr, len, flags, next };

    memcpy((char *) table + 16 * i, &d, sizeof d);  /* may be misaligned */
}

static void
set_desc(struct guest *g, uint16_t i, uint64_t addr, uint32_t len,
         uint16_t flags, uint16_t next)
{
    put_desc(g->vq.desc, i, addr, len, flags, next);
}

static void
post(struct guest *g, uint16_t head)
{
    g->vq.avail->ring[g->avail_idx & g->vq.mask] = head;
    g->avail_idx++;
    STORE_RELEASE(g->vq.avail->idx, g->avail_idx);
}

/* Posts one single-buffer chain using descriptor 'i'. */
static void
post_buf(struct guest *g, uint16_t i, uint64_t addr, uint32_t len,
         uint16_t flags)
{
    set_desc(g, i, addr, len, flags, 0);
    post(g, i);
}

/* Pops the next chain of a ring; expects 'expect' (0 or -VQ_...). */
static int
pop(struct guest *g, bool writable, unsigned max_segs, struct vq_chain *c)
{
    CU_ASSERT(vq_begin(&g->vq) >= 0);
    return vq_pop(&g->vq, writable, segs, max_segs, c);
}

/* Posts 'head' and checks that popping it fails with 'err', consumes it,
 * and can be given back with length 0. */
static void
expect_bad(struct guest *g, uint16_t head, bool writable, int err)
{
    struct vq_chain c = { .id = 0xffff };
    uint16_t last = g->vq.last_avail;

    post(g, head);
    int got = pop(g, writable, VQ_MAX_SEGS, &c);
    CU_ASSERT_EQUAL(got, err);
    if (got != err) {
        fprintf(stderr, "\n  head %u: got %d, expected %d\n", head, got, err);
    }
    CU_ASSERT_EQUAL(c.id, head);
    CU_ASSERT_EQUAL(g->vq.last_avail, (uint16_t) (last + 1));
    vq_push(&g->vq, c.id, 0);
    vq_end(&g->vq);
    struct vring_used_elem *e = &g->vq.used->ring[last & g->vq.mask];
    CU_ASSERT_EQUAL(e->id, head);
    CU_ASSERT_EQUAL(e->len, 0);
}

static void
expect_seg(unsigned i, void *addr, uint32_t len)
{
    CU_ASSERT_PTR_EQUAL(segs[i].addr, addr);
    CU_ASSERT_EQUAL(segs[i].len, len);
}

static void
test_rings_translate(void)
{
    struct guest g;
    struct vring_desc *d = NULL;
    struct vring_avail *a = NULL;
    struct vring_used *u = NULL;
    const uint64_t q = QVA_BASE;

    guest_init(&g, 256);
    const struct gmem *m = &g.mem;
    CU_ASSERT_PTR_EQUAL(g.vq.desc, gva(&g, DESC_GPA));
    CU_ASSERT_EQUAL(vq_translate_rings(m, 256, q + DESC_GPA + 8,
                                       q + AVAIL_GPA, q + USED_GPA,
                                       &d, &a, &u), -EINVAL);
    CU_ASSERT_EQUAL(vq_translate_rings(m, 256, q + DESC_GPA,
                                       q + AVAIL_GPA + 1, q + USED_GPA,
                                       &d, &a, &u), -EINVAL);
    CU_ASSERT_EQUAL(vq_translate_rings(m, 256, q + DESC_GPA,
                                       q + AVAIL_GPA, q + USED_GPA + 2,
                                       &d, &a, &u), -EINVAL);
    CU_ASSERT_EQUAL(vq_translate_rings(m, 3, q + DESC_GPA, q + AVAIL_GPA,
                                       q + USED_GPA, &d, &a, &u), -EINVAL);
    CU_ASSERT_EQUAL(vq_translate_rings(m, 0, q + DESC_GPA, q + AVAIL_GPA,
                                       q + USED_GPA, &d, &a, &u), -EINVAL);
    /* Unmapped, or running off the end of A (B is not next in QVA). */
    CU_ASSERT_EQUAL(vq_translate_rings(m, 256, 0x1000, q + AVAIL_GPA,
                                       q + USED_GPA, &d, &a, &u), -EFAULT);
    CU_ASSERT_EQUAL(vq_translate_rings(m, 256, q + MiB - 16 * 255,
                                       q + AVAIL_GPA, q + USED_GPA,
                                       &d, &a, &u), -EFAULT);
    CU_ASSERT_EQUAL(vq_translate_rings(m, 256, q + DESC_GPA,
                                       q + MiB - (4 + 2 * 256), q + USED_GPA,
                                       &d, &a, &u), -EFAULT);
    CU_ASSERT_EQUAL(vq_translate_rings(m, 256, q + DESC_GPA, q + AVAIL_GPA,
                                       q + MiB - (4 + 8 * 256), &d, &a, &u),
                    -EFAULT);
    /* Aligned QVA in B is misaligned in our VA (mmap_offset 4098). */
    CU_ASSERT_EQUAL(vq_translate_rings(m, 256, q + DESC_GPA, q + AVAIL_GPA,
                                       q + MiB + 0x100, &d, &a, &u), -EINVAL);
    CU_ASSERT_PTR_NULL(d);      /* untouched on failure */
    /* Exactly fitting at the end of A is fine. */
    CU_ASSERT_EQUAL(vq_translate_rings(m, 256, q + DESC_GPA,
                                       q + MiB - (6 + 2 * 256), q + USED_GPA,
                                       &d, &a, &u), 0);
    CU_ASSERT_PTR_EQUAL(a, gva(&g, MiB - (6 + 2 * 256)));

    struct vq vq;
    d = g.vq.desc;
    a = g.vq.avail;
    u = g.vq.used;
    CU_ASSERT_EQUAL(vq_setup(&vq, m, 0, d, a, u, 0), -EINVAL);
    CU_ASSERT_EQUAL(vq_setup(&vq, m, 12, d, a, u, 0), -EINVAL);
    CU_ASSERT_EQUAL(vq_setup(&vq, m, 256, (void *) ((char *) d + 8), a, u,
                             0), -EINVAL);
    CU_ASSERT_EQUAL(vq_setup(&vq, m, VQ_MAX_SIZE, d, a, u, 7), 0);
    CU_ASSERT_EQUAL(vq_get_base(&vq), 7);
    guest_fini(&g);
}

static void
test_start(void)
{
    struct guest g;

    guest_init(&g, 256);
    vq_start(&g.vq);
    CU_ASSERT_EQUAL(g.vq.used->flags, VRING_USED_F_NO_NOTIFY);
    guest_fini(&g);
}

static void
test_simple_chain(void)
{
    struct guest g;
    struct vq_chain c;

    guest_init(&g, 256);
    set_desc(&g, 3, DATA_GPA, 12, F_NEXT, 9);
    set_desc(&g, 9, DATA_GPA + 100, 100, 0, 0);
    post(&g, 3);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), 1);
    CU_ASSERT_EQUAL(vq_pop(&g.vq, false, segs, VQ_MAX_SEGS, &c), 0);
    CU_ASSERT_EQUAL(c.id, 3);
    CU_ASSERT_EQUAL(c.n_segs, 2);
    CU_ASSERT_EQUAL(c.len, 112);
    expect_seg(0, gva(&g, DATA_GPA), 12);
    expect_seg(1, gva(&g, DATA_GPA + 100), 100);
    CU_ASSERT_EQUAL(vq_pop(&g.vq, false, segs, VQ_MAX_SEGS, &c), -VQ_EMPTY);

    vq_push(&g.vq, c.id, 0);
    CU_ASSERT_EQUAL(g.vq.used->idx, 0);     /* not before vq_end */
    CU_ASSERT_EQUAL(vq_end(&g.vq), VQ_NOTIFY_SUPPRESSED);   /* no call fd */
    CU_ASSERT_EQUAL(g.vq.used->idx, 1);
    CU_ASSERT_EQUAL(g.vq.used->ring[0].id, 3);
    CU_ASSERT_EQUAL(vq_end(&g.vq), VQ_NOTIFY_NONE);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), 0);
    guest_fini(&g);
}

/* A guest may split even the virtio-net header byte by byte. */
static void
test_header_split(void)
{
    struct guest g;
    struct vq_chain c;
    uint8_t *data;

    guest_init(&g, 256);
    data = gva(&g, DATA_GPA);

    for (int i = 0; i < 12; i++) {
        data[3 * i] = i;
        set_desc(&g, i, DATA_GPA + 3 * i, 1, F_NEXT, i + 1);
    }
    for (int i = 0; i < 50; i++) {
        data[100 + i] = 12 + i;
    }
    set_desc(&g, 12, DATA_GPA + 100, 50, 0, 0);
    post(&g, 0);
    CU_ASSERT_EQUAL_FATAL(pop(&g, false, VQ_MAX_SEGS, &c), 0);
    CU_ASSERT_EQUAL(c.n_segs, 13);
    CU_ASSERT_EQUAL(c.len, 62);

    uint8_t out[62];
    CU_ASSERT_EQUAL(vq_segs_copy_out(segs, c.n_segs, 0, out, 62), 62);
    for (int i = 0; i < 62; i++) {
        CU_ASSERT_EQUAL(out[i], i);
    }
    CU_ASSERT_EQUAL(vq_segs_copy_out(segs, c.n_segs, 10, out, 5), 5);
    CU_ASSERT(out[0] == 10 && out[4] == 14);
    CU_ASSERT_EQUAL(vq_segs_copy_out(segs, c.n_segs, 60, out, 5), 2);
    CU_ASSERT_EQUAL(vq_segs_copy_out(segs, c.n_segs, 62, out, 5), 0);

    struct vq_seg *s = segs;
    CU_ASSERT_EQUAL(vq_segs_skip(&s, c.n_segs, 12), 1);
    CU_ASSERT_PTR_EQUAL(s, &segs[12]);
    CU_ASSERT_EQUAL(s->len, 50);
    CU_ASSERT_EQUAL(*s->addr, 12);
    CU_ASSERT_EQUAL(vq_segs_skip(&s, 1, 51), -1);
    CU_ASSERT_PTR_EQUAL(s, &segs[12]);          /* untouched */
    CU_ASSERT_EQUAL(vq_segs_skip(&s, 1, 8), 1);
    CU_ASSERT(s->len == 42 && *s->addr == 20);
    CU_ASSERT_EQUAL(vq_segs_skip(&s, 1, 42), 0);
    guest_fini(&g);
}

/* Writes a 3-entry indirect table at 'gpa': 12 + 100 + 20 bytes, walked
 * out of order (0 -> 2 -> 1). */
static void
put_table3(struct guest *g, uint64_t gpa, uint16_t flags)
{
    struct vring_desc *t = gva(g, gpa);
    put_desc(t, 0, DATA_GPA, 12, F_NEXT | flags, 2);
    put_desc(t, 2, DATA_GPA + 100, 100, F_NEXT | flags, 1);
    put_desc(t, 1, DATA_GPA + 300, 20, flags, 0);
}

static void
test_indirect(void)
{
    struct guest g;
    struct vq_chain c;

    guest_init(&g, 256);
    put_table3(&g, TABLE_GPA, 0);
    /* The direction flag of the indirect descriptor itself is ignored. */
    set_desc(&g, 5, TABLE_GPA, 48, F_INDIRECT | F_WRITE, 0);
    post(&g, 5);
    CU_ASSERT_EQUAL_FATAL(pop(&g, false, VQ_MAX_SEGS, &c), 0);
    CU_ASSERT_EQUAL(c.id, 5);
    CU_ASSERT_EQUAL(c.n_segs, 3);
    CU_ASSERT_EQUAL(c.len, 132);
    expect_seg(1, gva(&g, DATA_GPA + 100), 100);
    expect_seg(2, gva(&g, DATA_GPA + 300), 20);

    /* Normal descriptors, then one indirect: allowed.  The table need not
     * be 16-byte aligned. */
    put_table3(&g, TABLE_GPA + 0x1004, 0);
    set_desc(&g, 6, DATA_GPA + 500, 7, F_NEXT, 7);
    set_desc(&g, 7, TABLE_GPA + 0x1004, 48, F_INDIRECT, 0);
    post(&g, 6);
    CU_ASSERT_EQUAL(pop(&g, false, VQ_MAX_SEGS, &c), 0);
    CU_ASSERT_EQUAL(c.n_segs, 4);
    CU_ASSERT_EQUAL(c.len, 139);

    /* A table of exactly 'size' entries, all chained, is fine. */
    struct vring_desc *t = gva(&g, TABLE_GPA + 0x2000);
    for (int i = 0; i < 256; i++) {
        put_desc(t, i, DATA_GPA + i, 1, i < 255 ? F_NEXT : 0, i + 1);
    }
    set_desc(&g, 8, TABLE_GPA + 0x2000, 16 * 256, F_INDIRECT, 0);
    post(&g, 8);
    CU_ASSERT_EQUAL(pop(&g, false, VQ_MAX_SEGS, &c), 0);
    CU_ASSERT_EQUAL(c.n_segs, 256);
    CU_ASSERT_EQUAL(c.len, 256);
    guest_fini(&g);
}

static void
test_indirect_bad(void)
{
    struct guest g;
    const uint32_t lens[] = { 0, 15, 17, 40, 16 * 257 };

    guest_init(&g, 256);
    put_table3(&g, TABLE_GPA, 0);
    for (unsigned i = 0; i < ARRAY_SIZE(lens); i++) {
        set_desc(&g, 1, TABLE_GPA, lens[i], F_INDIRECT, 0);
        expect_bad(&g, 1, false, -VQ_BAD_DESC);
    }
    /* INDIRECT with NEXT. */
    set_desc(&g, 1, TABLE_GPA, 48, F_INDIRECT | F_NEXT, 2);
    set_desc(&g, 2, DATA_GPA, 10, 0, 0);
    expect_bad(&g, 1, false, -VQ_BAD_DESC);
    /* Not negotiated. */
    set_desc(&g, 1, TABLE_GPA, 48, F_INDIRECT, 0);
    g.vq.indirect = false;
    expect_bad(&g, 1, false, -VQ_BAD_DESC);
    g.vq.indirect = true;
    /* Table unmapped, or straddling A and B (must be in one region). */
    set_desc(&g, 1, 3 * MiB, 48, F_INDIRECT, 0);
    expect_bad(&g, 1, false, -VQ_BAD_ADDR);
    set_desc(&g, 1, MiB - 32, 48, F_INDIRECT, 0);
    expect_bad(&g, 1, false, -VQ_BAD_ADDR);

    /* Inside the table: nesting, next out of the table, a loop, a buffer
     * of the wrong direction. */
    struct vring_desc *t = gva(&g, TABLE_GPA);
    set_desc(&g, 1, TABLE_GPA, 48, F_INDIRECT, 0);
    put_desc(t, 1, TABLE_GPA + 0x1000, 16, F_INDIRECT, 0);
    expect_bad(&g, 1, false, -VQ_BAD_DESC);
    put_table3(&g, TABLE_GPA, 0);
    put_desc(t, 1, DATA_GPA, 20, F_NEXT, 3);
    expect_bad(&g, 1, false, -VQ_BAD_DESC);
    put_desc(t, 1, DATA_GPA, 20, F_NEXT, 0);
    expect_bad(&g, 1, false, -VQ_BAD_DESC);
    put_desc(t, 1, DATA_GPA, 20, F_WRITE, 0);
    expect_bad(&g, 1, false, -VQ_BAD_DESC);
    guest_fini(&g);
}

static void
test_loops(void)
{
    struct guest g;

    guest_init(&g, 256);
    set_desc(&g, 4, DATA_GPA, 10, F_NEXT, 4);               /* self */
    expect_bad(&g, 4, false, -VQ_BAD_DESC);
    set_desc(&g, 4, DATA_GPA, 10, F_NEXT, 5);               /* 2-cycle */
    set_desc(&g, 5, DATA_GPA, 10, F_NEXT, 4);
    expect_bad(&g, 4, false, -VQ_BAD_DESC);
    for (int i = 0; i < 256; i++) {                         /* whole ring */
        set_desc(&g, i, DATA_GPA + i, 1, F_NEXT, (i + 1) % 256);
    }
    expect_bad(&g, 17, false, -VQ_BAD_DESC);
    set_desc(&g, 4, DATA_GPA, 10, F_NEXT, 256);             /* past end */
    expect_bad(&g, 4, false, -VQ_BAD_DESC);
    set_desc(&g, 4, DATA_GPA, 10, F_NEXT, 0xffff);
    expect_bad(&g, 4, false, -VQ_BAD_DESC);
    guest_fini(&g);
}

/* A chain through every descriptor of the ring is legal; one more hop
 * would be a loop (test_loops). */
static void
test_chain_of_ring_size(void)
{
    struct guest g;
    struct vq_chain c;

    guest_init(&g, 256);
    for (int i = 0; i < 256; i++) {
        uint16_t idx = (i + 100) % 256;
        set_desc(&g, idx, DATA_GPA + i, 1, i < 255 ? F_NEXT : 0,
                 (idx + 1) % 256);
    }
    post(&g, 100);
    CU_ASSERT_EQUAL(pop(&g, false, VQ_MAX_SEGS, &c), 0);
    CU_ASSERT_EQUAL(c.n_segs, 256);
    CU_ASSERT_EQUAL(c.len, 256);
    expect_seg(255, gva(&g, DATA_GPA + 255), 1);
    /* More pieces than the caller has room for. */
    post(&g, 100);
    CU_ASSERT_EQUAL(pop(&g, false, 255, &c), -VQ_BAD_DESC);
    CU_ASSERT_EQUAL(c.id, 100);
    guest_fini(&g);
}

static void
test_addresses(void)
{
    struct guest g;
    struct vq_chain c;

    guest_init(&g, 256);
    set_desc(&g, 0, 3 * MiB, 10, 0, 0);                     /* hole */
    expect_bad(&g, 0, false, -VQ_BAD_ADDR);
    set_desc(&g, 0, 2 * MiB - 10, 20, 0, 0);                /* B into hole */
    expect_bad(&g, 0, false, -VQ_BAD_ADDR);
    set_desc(&g, 0, 0, 0xffffffff, 0, 0);
    expect_bad(&g, 0, false, -VQ_BAD_ADDR);
    set_desc(&g, 0, UINT64_MAX - 10, 100, 0, 0);            /* wraps */
    expect_bad(&g, 0, false, -VQ_BAD_ADDR);
    /* ... even when both ends of the address space are mapped. */
    struct gmem_region_desc top = { UINT64_MAX - 4095, 4096, 0x1000000, 0 };
    CU_ASSERT_EQUAL_FATAL(gmem_add(&g.mem, &top, make_memfd(4096)), 0);
    expect_bad(&g, 0, false, -VQ_BAD_ADDR);
    set_desc(&g, 0, UINT64_MAX - 10, 11, 0, 0);             /* ends at top */
    post(&g, 0);
    CU_ASSERT_EQUAL(pop(&g, false, VQ_MAX_SEGS, &c), 0);
    CU_ASSERT_EQUAL(c.len, 11);
    set_desc(&g, 0, 5 * MiB - 4, 8, 0, 0);                  /* C's end */
    expect_bad(&g, 0, false, -VQ_BAD_ADDR);
    /* A bad buffer after good ones still reports the head. */
    set_desc(&g, 0, DATA_GPA, 10, F_NEXT, 1);
    set_desc(&g, 1, 3 * MiB, 10, 0, 0);
    expect_bad(&g, 0, false, -VQ_BAD_ADDR);

    /* From A into B: adjacent in GPA, not in our VA, so two pieces. */
    set_desc(&g, 0, MiB - 100, 300, 0, 0);
    post(&g, 0);
    CU_ASSERT_EQUAL_FATAL(pop(&g, false, VQ_MAX_SEGS, &c), 0);
    CU_ASSERT_EQUAL(c.n_segs, 2);
    CU_ASSERT_EQUAL(c.len, 300);
    expect_seg(0, gva(&g, MiB - 100), 100);
    expect_seg(1, gva(&g, MiB), 200);
    CU_ASSERT_PTR_NOT_EQUAL(segs[0].addr + 100, segs[1].addr);

    /* Zero-length buffers are allowed and give no piece, even unmapped. */
    set_desc(&g, 0, 3 * MiB, 0, F_NEXT, 1);
    set_desc(&g, 1, DATA_GPA, 10, F_NEXT, 2);
    set_desc(&g, 2, DATA_GPA, 0, 0, 0);
    post(&g, 0);
    CU_ASSERT_EQUAL_FATAL(pop(&g, false, VQ_MAX_SEGS, &c), 0);
    CU_ASSERT_EQUAL(c.n_segs, 1);
    CU_ASSERT_EQUAL(c.len, 10);
    guest_fini(&g);
}

/* Lengths are 32-bit but their sum is not: four 1 GiB buffers over the
 * same (sparse) memory must not wrap the chain length to 0. */
static void
test_total_over_4g(void)
{
    struct guest g;
    struct vq_chain c;
    const uint64_t big = 4 * GiB;

    guest_init(&g, 256);
    add_region(&g.mem, big, GiB, 0);
    for (int i = 0; i < 4; i++) {
        set_desc(&g, i, big, GiB, i < 3 ? F_NEXT : 0, i + 1);
    }
    expect_bad(&g, 0, false, -VQ_BAD_DESC);
    set_desc(&g, 3, big, GiB - 1, 0, 0);
    post(&g, 0);
    CU_ASSERT_EQUAL(pop(&g, false, VQ_MAX_SEGS, &c), 0);
    CU_ASSERT_EQUAL(c.len, 0xffffffffU);
    CU_ASSERT_EQUAL(c.n_segs, 4);
    guest_fini(&g);
}

static void
test_direction(void)
{
    struct guest g;
    struct vq_chain c;

    guest_init(&g, 256);
    set_desc(&g, 0, DATA_GPA, 10, F_WRITE, 0);
    expect_bad(&g, 0, false, -VQ_BAD_DESC);     /* writable on TX */
    set_desc(&g, 0, DATA_GPA, 10, 0, 0);
    expect_bad(&g, 0, true, -VQ_BAD_DESC);      /* read-only on RX */
    set_desc(&g, 0, DATA_GPA, 10, F_WRITE | F_NEXT, 1);
    set_desc(&g, 1, DATA_GPA, 10, 0, 0);
    expect_bad(&g, 0, true, -VQ_BAD_DESC);      /* mixed */
    set_desc(&g, 1, DATA_GPA, 10, F_WRITE, 0);
    post(&g, 0);
    CU_ASSERT_EQUAL(pop(&g, true, VQ_MAX_SEGS, &c), 0);
    CU_ASSERT_EQUAL(c.len, 20);
    guest_fini(&g);
}

static void
test_broken(void)
{
    struct guest g;
    struct vq_chain c;

    guest_init(&g, 256);
    STORE_RELEASE(g.vq.avail->idx, 257);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), -VQ_BROKEN);
    STORE_RELEASE(g.vq.avail->idx, 0xffff);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), -VQ_BROKEN);
    for (int i = 0; i < 256; i++) {
        post_buf(&g, i, DATA_GPA, 1, 0);
    }
    CU_ASSERT_EQUAL(vq_begin(&g.vq), 256);
    g.vq.avail->ring[0] = 256;                  /* head >= size */
    CU_ASSERT_EQUAL(vq_pop(&g.vq, false, segs, VQ_MAX_SEGS, &c),
                    -VQ_BROKEN);
    g.vq.avail->ring[0] = 0xffff;
    CU_ASSERT_EQUAL(vq_pop(&g.vq, false, segs, VQ_MAX_SEGS, &c),
                    -VQ_BROKEN);
    CU_ASSERT_EQUAL(g.vq.last_avail, 0);
    guest_fini(&g);
}

/* Indexes are free-running 16-bit counters: start near the wrap. */
static void
test_index_wrap(void)
{
    struct guest g;
    struct vq_chain c;

    guest_init(&g, 8);
    CU_ASSERT_EQUAL_FATAL(vq_setup(&g.vq, &g.mem, 8, g.vq.desc, g.vq.avail,
                                   g.vq.used, 65533), 0);
    g.avail_idx = 65533;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 8; i++) {
            post_buf(&g, i, DATA_GPA + i, 1, 0);
        }
        CU_ASSERT_EQUAL(vq_begin(&g.vq), 8);
        for (int i = 0; i < 8; i++) {
            CU_ASSERT_EQUAL(vq_pop(&g.vq, false, segs, 4, &c), 0);
            CU_ASSERT_EQUAL(c.id, i);
            vq_push(&g.vq, c.id, 0);
        }
        vq_end(&g.vq);
        CU_ASSERT_EQUAL(g.vq.used->idx, g.avail_idx);
    }
    CU_ASSERT_EQUAL(vq_get_base(&g.vq), (uint16_t) (65533 + 24));
    guest_fini(&g);
}

static void
expect_used(struct guest *g, uint16_t i, uint16_t head, uint32_t len)
{
    struct vring_used_elem *e = &g->vq.used->ring[i & g->vq.mask];
    CU_ASSERT_EQUAL(e->id, head);
    CU_ASSERT_EQUAL(e->len, len);
}

static void
test_enqueue_mergeable(void)
{
    struct guest g;
    uint8_t *frame = make_frame(9000);
    struct vq_seg src[3] = {
        { frame, 1000 }, { frame + 1000, 5000 }, { frame + 6000, 3000 },
    };

    guest_init(&g, 256);
    g.vq.mrg_rxbuf = true;
    for (int i = 0; i < 4; i++) {
        post_buf(&g, 10 + i, DATA_GPA + i * 4096, 4096, F_WRITE);
    }
    CU_ASSERT_EQUAL(vq_begin(&g.vq), 4);
    CU_ASSERT_EQUAL_FATAL(vq_enqueue(&g.vq, src, 3, 9000), 0);
    CU_ASSERT_EQUAL(g.vq.last_avail, 3);
    CU_ASSERT_EQUAL(g.vq.used->idx, 0);
    vq_end(&g.vq);
    CU_ASSERT_EQUAL(g.vq.used->idx, 3);
    expect_used(&g, 0, 10, 4096);
    expect_used(&g, 1, 11, 4096);
    expect_used(&g, 2, 12, 9012 - 8192);

    struct virtio_net_hdr_mrg_rxbuf *h = gva(&g, DATA_GPA);
    uint8_t zero[10] = { 0 };
    CU_ASSERT_EQUAL(memcmp(h, zero, 10), 0);
    CU_ASSERT_EQUAL(h->num_buffers, 3);
    CU_ASSERT_EQUAL(memcmp((uint8_t *) h + 12, frame, 9000), 0);
    free(frame);
    guest_fini(&g);
}

/* One chain whose header is split in 1-byte pieces and whose data buffer
 * straddles regions A and B. */
static void
test_enqueue_pieces(void)
{
    struct guest g;
    uint8_t *frame = make_frame(1500);
    struct vq_seg src = { frame, 1500 };
    uint8_t *data = NULL;

    guest_init(&g, 256);
    data = gva(&g, DATA_GPA);
    memset(data, 0xee, 64);
    for (int i = 0; i < 12; i++) {
        set_desc(&g, i, DATA_GPA + 2 * i, 1, F_WRITE | F_NEXT, i + 1);
    }
    set_desc(&g, 12, MiB - 1000, 2000, F_WRITE, 0);
    post(&g, 0);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), 1);
    CU_ASSERT_EQUAL_FATAL(vq_enqueue(&g.vq, &src, 1, 1500), 0);
    vq_end(&g.vq);
    expect_used(&g, 0, 0, 1512);
    for (int i = 0; i < 12; i++) {
        CU_ASSERT_EQUAL(data[2 * i], i == 10 ? 1 : 0);  /* num_buffers 1 */
        CU_ASSERT_EQUAL(data[2 * i + 1], 0xee);
    }
    CU_ASSERT_EQUAL(memcmp(gva(&g, MiB - 1000), frame, 1000), 0);
    CU_ASSERT_EQUAL(memcmp(gva(&g, MiB), frame + 1000, 500), 0);

    /* A 10-byte header (legacy, no num_buffers). */
    g.vq.hdr_size = 10;
    memset(data, 0xee, 64);
    post_buf(&g, 20, DATA_GPA, 100, F_WRITE);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), 1);
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, 60), 0);
    vq_end(&g.vq);
    expect_used(&g, 1, 20, 70);
    CU_ASSERT(data[9] == 0 && data[10] == frame[0]);
    free(frame);
    guest_fini(&g);
}

/* The common copy (one source piece, one buffer) at every alignment of
 * the buffer within a cache line and lengths around 16-byte chunks and
 * cache lines: the frame arrives intact behind a correct header (a stale
 * one is rewritten), nothing is written past the end of the buffer, and
 * nothing is read past the end of the source (it ends where a page
 * without access begins: a read past it faults). */
static void
test_enqueue_layouts(void)
{
    static const uint32_t lens[] = { 14, 15, 16, 17, 31, 32, 33, 47, 52,
                                     53, 60, 63, 64, 65, 100, 1500 };
    struct guest g;
    uint8_t *frame = make_frame(1500);

    long page = sysconf(_SC_PAGESIZE);
    uint8_t *src_map = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CU_ASSERT_FATAL(src_map != MAP_FAILED);
    CU_ASSERT_FATAL(mprotect(src_map + 2 * page, page, PROT_NONE) == 0);

    guest_init(&g, 256);
    uint16_t head = 0;
    for (uint32_t off = 0; off < 64; off++) {
        for (size_t l = 0; l < ARRAY_SIZE(lens); l++) {
            for (uint32_t slack = 0; slack < 20; slack += 19) {
                uint32_t len = lens[l], room = 12 + len + slack;
                uint64_t gpa = DATA_GPA + 4096 + off;
                uint8_t *buf = gva(&g, gpa);
                memset(buf - 64, 0xee, room + 128);
                uint8_t *end = src_map + 2 * page;
                memcpy(end - len, frame, len);
                struct vq_seg src = { end - len, len };

                post_buf(&g, head % 256, gpa, room, F_WRITE);
                CU_ASSERT_FATAL(vq_begin(&g.vq) >= 1);
                CU_ASSERT_EQUAL_FATAL(vq_enqueue(&g.vq, &src, 1, len), 0);
                vq_end(&g.vq);
                expect_used(&g, head, head % 256, 12 + len);
                head++;

                static const uint8_t hdr[12] = { [10] = 1 };
                CU_ASSERT_EQUAL(memcmp(buf, hdr, 12), 0);
                CU_ASSERT_EQUAL(memcmp(buf + 12, frame, len), 0);
                for (int i = 1; i <= 64; i++) {
                    CU_ASSERT_EQUAL(buf[-i], 0xee);
                    CU_ASSERT_EQUAL(buf[room + i - 1], 0xee);
                }
            }
        }
    }
    munmap(src_map, 3 * page);
    free(frame);
    guest_fini(&g);
}

/* Used entries are batched (VQ_SHADOW at a time) and all written by
 * vq_end(), in order, across the batch boundaries; a mergeable frame that
 * runs out of buffers after more chains than a batch holds takes none of
 * them. */
static void
test_push_batched(void)
{
    struct guest g;

    guest_init(&g, 256);
    for (int i = 0; i < 150; i++) {
        vq_push(&g.vq, (uint16_t) (i * 7 % 256), (uint32_t) i);
    }
    CU_ASSERT_EQUAL(g.vq.used->idx, 0);
    vq_end(&g.vq);
    CU_ASSERT_EQUAL(g.vq.used->idx, 150);
    for (int i = 0; i < 150; i++) {
        expect_used(&g, (uint16_t) i, (uint16_t) (i * 7 % 256), (uint32_t) i);
    }

    /* 100 buffers of 16 bytes cannot hold 2000: nothing is consumed, and
     * the next frame gets the same buffers and used positions. */
    uint8_t *frame = make_frame(2000);
    struct vq_seg src = { frame, 2000 };
    g.vq.mrg_rxbuf = true;
    for (int i = 0; i < 100; i++) {
        post_buf(&g, (uint16_t) i, DATA_GPA + 16 * i, 16, F_WRITE);
    }
    CU_ASSERT_EQUAL(vq_begin(&g.vq), 100);
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, 2000), -VQ_NO_BUFS);
    CU_ASSERT_EQUAL(g.vq.used_idx, 150);
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, 100), 0);
    vq_end(&g.vq);
    CU_ASSERT_EQUAL(g.vq.used->idx, 150 + 7);       /* 112 bytes: 7 x 16 */
    for (int i = 0; i < 7; i++) {
        expect_used(&g, (uint16_t) (150 + i), (uint16_t) i, 16);
    }
    for (int i = 0; i < 150; i++) {     /* the abandoned frame wrote none */
        expect_used(&g, (uint16_t) i, (uint16_t) (i * 7 % 256), (uint32_t) i);
    }
    free(frame);
    guest_fini(&g);
}

static void
test_enqueue_too_big(void)
{
    struct guest g;
    uint8_t *frame = make_frame(2000);
    struct vq_seg src = { frame, 2000 };

    guest_init(&g, 256);
    post_buf(&g, 7, DATA_GPA, 1500, F_WRITE);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), 1);
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, 2000), -VQ_TOO_BIG);
    CU_ASSERT_EQUAL(g.vq.last_avail, 0);
    CU_ASSERT_EQUAL(g.vq.used_idx, 0);
    CU_ASSERT_EQUAL(vq_end(&g.vq), VQ_NOTIFY_NONE);
    /* The header counts: 1488 + 12 fits exactly, 1489 does not. */
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, 1489), -VQ_TOO_BIG);
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, 1488), 0);
    CU_ASSERT_EQUAL(vq_end(&g.vq), VQ_NOTIFY_SUPPRESSED);
    expect_used(&g, 0, 7, 1500);
    CU_ASSERT_EQUAL(memcmp((uint8_t *) gva(&g, DATA_GPA) + 12, frame, 1488),
                    0);
    free(frame);
    guest_fini(&g);
}

static void
test_enqueue_no_bufs(void)
{
    struct guest g;
    uint8_t *frame = make_frame(9000);
    struct vq_seg src = { frame, 9000 };

    guest_init(&g, 256);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), 0);
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, 60), -VQ_NO_BUFS);

    /* Mergeable: two 4 KiB buffers cannot hold 9012 bytes; both stay. */
    g.vq.mrg_rxbuf = true;
    post_buf(&g, 0, DATA_GPA, 4096, F_WRITE);
    post_buf(&g, 1, DATA_GPA + 4096, 4096, F_WRITE);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), 2);
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, 9000), -VQ_NO_BUFS);
    CU_ASSERT_EQUAL(g.vq.last_avail, 0);
    CU_ASSERT_EQUAL(g.vq.used_idx, 0);
    CU_ASSERT_EQUAL(vq_end(&g.vq), VQ_NOTIFY_NONE);
    /* Once a third arrives, the frame goes. */
    post_buf(&g, 2, DATA_GPA + 8192, 4096, F_WRITE);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), 3);
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, 9000), 0);
    vq_end(&g.vq);
    CU_ASSERT_EQUAL(g.vq.used->idx, 3);
    free(frame);
    guest_fini(&g);
}

/* A bad receive chain mid-frame: everything consumed goes back empty. */
static void
test_enqueue_bad_chain(void)
{
    struct guest g;
    uint8_t *frame = make_frame(9000);
    struct vq_seg src = { frame, 9000 };

    guest_init(&g, 256);
    g.vq.mrg_rxbuf = true;
    post_buf(&g, 0, DATA_GPA, 4096, F_WRITE);
    post_buf(&g, 1, DATA_GPA + 4096, 4096, 0);          /* read-only */
    post_buf(&g, 2, DATA_GPA + 8192, 4096, F_WRITE);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), 3);
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, 9000), -VQ_BAD_DESC);
    CU_ASSERT_EQUAL(g.vq.last_avail, 2);
    vq_end(&g.vq);
    CU_ASSERT_EQUAL(g.vq.used->idx, 2);
    expect_used(&g, 0, 0, 0);
    expect_used(&g, 1, 1, 0);

    /* Unmapped first buffer. */
    post_buf(&g, 3, 3 * MiB, 4096, F_WRITE);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), 2);
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, 100), 0);   /* uses 2 */
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, 100), -VQ_BAD_ADDR);
    vq_end(&g.vq);
    expect_used(&g, 2, 2, 112);
    expect_used(&g, 3, 3, 0);
    CU_ASSERT_EQUAL(g.vq.used->idx, 4);

    /* A broken ring is reported as such. */
    post(&g, 300);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), 1);
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, 100), -VQ_BROKEN);
    free(frame);
    guest_fini(&g);
}

/* Completes 'n' chains in one burst; returns vq_end()'s verdict. */
static enum vq_notify
complete(struct guest *g, int n)
{
    struct vq_chain c;

    for (int i = 0; i < n; i++) {
        post_buf(g, i, DATA_GPA, 10, 0);
    }
    CU_ASSERT_EQUAL(vq_begin(&g->vq), n);
    for (int i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(vq_pop(&g->vq, false, segs, 4, &c), 0);
        vq_push(&g->vq, c.id, 0);
    }
    uint16_t before = g->vq.used->idx;
    enum vq_notify r = vq_end(&g->vq);
    CU_ASSERT_EQUAL(g->vq.used->idx, (uint16_t) (before + n));
    return r;
}

static void
test_event_idx(void)
{
    struct guest g;

    guest_init(&g, 256);
    g.vq.event_idx = true;
    g.vq.call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    CU_ASSERT_FATAL(g.vq.call_fd >= 0);
    uint16_t *used_event = &g.vq.avail->ring[256];

    /* The first publication always signals (no history). */
    *used_event = 100;
    CU_ASSERT_EQUAL(complete(&g, 1), VQ_NOTIFY_SENT);       /* used 1 */
    CU_ASSERT_EQUAL(read_event(g.vq.call_fd), 1);
    /* Guest wants a signal once entry 5 is used (used.idx passes 5). */
    *used_event = 5;
    CU_ASSERT_EQUAL(complete(&g, 1), VQ_NOTIFY_SUPPRESSED); /* used 2 */
    CU_ASSERT_EQUAL(complete(&g, 3), VQ_NOTIFY_SUPPRESSED); /* used 5 */
    CU_ASSERT_EQUAL(read_event(g.vq.call_fd), 0);
    CU_ASSERT_EQUAL(complete(&g, 1), VQ_NOTIFY_SENT);       /* used 6 */
    CU_ASSERT_EQUAL(read_event(g.vq.call_fd), 1);
    /* A burst that jumps over used_event signals too. */
    *used_event = 8;
    CU_ASSERT_EQUAL(complete(&g, 10), VQ_NOTIFY_SENT);      /* used 16 */
    CU_ASSERT_EQUAL(complete(&g, 1), VQ_NOTIFY_SUPPRESSED);
    /* NO_INTERRUPT is ignored with EVENT_IDX. */
    g.vq.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
    *used_event = 17;
    CU_ASSERT_EQUAL(complete(&g, 1), VQ_NOTIFY_SENT);       /* used 18 */
    CU_ASSERT_EQUAL(read_event(g.vq.call_fd), 2);
    guest_fini(&g);
}

static void
test_no_interrupt(void)
{
    struct guest g;

    guest_init(&g, 256);
    g.vq.call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    CU_ASSERT_FATAL(g.vq.call_fd >= 0);
    g.vq.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
    CU_ASSERT_EQUAL(complete(&g, 3), VQ_NOTIFY_SUPPRESSED);
    CU_ASSERT_EQUAL(read_event(g.vq.call_fd), 0);
    g.vq.avail->flags = 0;
    CU_ASSERT_EQUAL(complete(&g, 2), VQ_NOTIFY_SENT);
    CU_ASSERT_EQUAL(read_event(g.vq.call_fd), 1);
    CU_ASSERT_EQUAL(vq_end(&g.vq), VQ_NOTIFY_NONE);
    guest_fini(&g);
}

/* used.idx moves once per burst, whatever the burst size. */
static void
test_publish_once(void)
{
    struct guest g;
    struct vq_chain c;
    uint8_t frame[64] = { 1 };
    struct vq_seg src = { frame, sizeof frame };

    guest_init(&g, 256);
    for (int i = 0; i < 32; i++) {
        post_buf(&g, i, DATA_GPA + 256 * i, 256, F_WRITE);
    }
    CU_ASSERT_EQUAL(vq_begin(&g.vq), 32);
    for (int i = 0; i < 16; i++) {
        CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, sizeof frame), 0);
    }
    for (int i = 0; i < 16; i++) {
        CU_ASSERT_EQUAL(vq_pop(&g.vq, true, segs, 4, &c), 0);
        vq_push(&g.vq, c.id, 0);
        CU_ASSERT_EQUAL(g.vq.used->idx, 0);
    }
    vq_end(&g.vq);
    CU_ASSERT_EQUAL(g.vq.used->idx, 32);
    guest_fini(&g);
}

/* The receive side reads avail.idx only when what it saw runs out
 * (vq_begin_lazy, vq_reserve): across the 16-bit wrap of the indexes, and
 * with buffers the guest posts after the burst started, every frame still
 * finds a buffer, and a burst of reserved frames is filled in later. */
static void
test_reserve_lazy_wrap(void)
{
    struct guest g;
    struct vq_seg pool[64];
    struct vq_resv resv[8];
    uint8_t frame[60];
    struct vq_seg src = { frame, sizeof frame };
    uint16_t base = 0xfffc;

    guest_init(&g, 256);
    vq_setup(&g.vq, &g.mem, 256, g.vq.desc, g.vq.avail, g.vq.used, base);
    g.avail_idx = base;
    for (int i = 0; i < 4; i++) {
        post_buf(&g, i, DATA_GPA + 256 * i, 256, F_WRITE);
    }
    CU_ASSERT_EQUAL(vq_begin_lazy(&g.vq, 8), 4);
    for (int i = 4; i < 8; i++) {       /* after the burst began */
        post_buf(&g, i, DATA_GPA + 256 * i, 256, F_WRITE);
    }
    for (int i = 0; i < 8; i++) {
        CU_ASSERT_EQUAL(vq_reserve(&g.vq, sizeof frame, pool + i, 1,
                                   &resv[i]), 0);
    }
    CU_ASSERT_EQUAL(vq_reserve(&g.vq, sizeof frame, pool + 8, 1, &resv[0]),
                    -VQ_NO_BUFS);
    for (int i = 0; i < 8; i++) {
        memset(frame, 0x10 + i, sizeof frame);
        vq_fill(&g.vq, &resv[i], &src, 1);
    }
    vq_end(&g.vq);
    CU_ASSERT_EQUAL(g.vq.used->idx, (uint16_t) (base + 8));
    for (int i = 0; i < 8; i++) {
        const uint8_t *buf = gva(&g, DATA_GPA + 256 * i);
        const struct vring_used_elem *e =
            &g.vq.used->ring[(uint16_t) (base + i) & g.vq.mask];
        CU_ASSERT_EQUAL(e->id, i);
        CU_ASSERT_EQUAL(e->len, 12 + sizeof frame);
        CU_ASSERT_EQUAL(buf[10], 1);            /* num_buffers */
        CU_ASSERT_EQUAL(buf[12], 0x10 + i);
        CU_ASSERT_EQUAL(buf[12 + sizeof frame - 1], 0x10 + i);
    }
    /* Enough left from the last read: avail.idx is not read again, so a
     * corrupt value there goes unnoticed until it is needed. */
    for (int i = 8; i < 12; i++) {
        post_buf(&g, i, DATA_GPA + 256 * i, 256, F_WRITE);
    }
    CU_ASSERT_EQUAL(vq_begin_lazy(&g.vq, 2), 4);
    g.vq.avail->idx = g.avail_idx + 300;
    CU_ASSERT_EQUAL(vq_begin_lazy(&g.vq, 2), 4);
    CU_ASSERT_EQUAL(vq_begin_lazy(&g.vq, 8), -VQ_BROKEN);
    guest_fini(&g);
}

/* A pipe works as a call fd; a full or reader-less one is not an error. */
static void
test_notify_pipe(void)
{
    struct guest g;
    int fds[2];
    uint64_t v = 0;

    guest_init(&g, 256);
    CU_ASSERT_FATAL(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
    g.vq.call_fd = fds[1];
    CU_ASSERT_EQUAL(complete(&g, 1), VQ_NOTIFY_SENT);
    CU_ASSERT_EQUAL(read(fds[0], &v, sizeof v), sizeof v);
    CU_ASSERT_EQUAL(v, 1);
    CU_ASSERT_FATAL(fcntl(fds[1], F_SETPIPE_SZ, 4096) >= 0);
    for (int i = 0; i < 1000; i++) {                        /* fills it */
        CU_ASSERT_EQUAL(complete(&g, 1), VQ_NOTIFY_SENT);
    }
    close(fds[0]);
    signal(SIGPIPE, SIG_IGN);
    CU_ASSERT_EQUAL(complete(&g, 1), VQ_NOTIFY_SENT);       /* EPIPE */
    guest_fini(&g);
}

static const struct cunit_test tests[] = {
    CUNIT_TEST(test_rings_translate),
    CUNIT_TEST(test_start),
    CUNIT_TEST(test_simple_chain),
    CUNIT_TEST(test_header_split),
    CUNIT_TEST(test_indirect),
    CUNIT_TEST(test_indirect_bad),
    CUNIT_TEST(test_loops),
    CUNIT_TEST(test_chain_of_ring_size),
    CUNIT_TEST(test_addresses),
    CUNIT_TEST(test_total_over_4g),
    CUNIT_TEST(test_direction),
    CUNIT_TEST(test_broken),
    CUNIT_TEST(test_index_wrap),
    CUNIT_TEST(test_enqueue_mergeable),
    CUNIT_TEST(test_enqueue_pieces),
    CUNIT_TEST(test_enqueue_layouts),
    CUNIT_TEST(test_push_batched),
    CUNIT_TEST(test_enqueue_too_big),
    CUNIT_TEST(test_enqueue_no_bufs),
    CUNIT_TEST(test_enqueue_bad_chain),
    CUNIT_TEST(test_event_idx),
    CUNIT_TEST(test_no_interrupt),
    CUNIT_TEST(test_publish_once),
    CUNIT_TEST(test_reserve_lazy_wrap),
    CUNIT_TEST(test_notify_pipe),
};

CUNIT_MAIN("vq", tests)
