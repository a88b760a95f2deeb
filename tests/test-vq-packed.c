/* test-vq-packed.c -- the device side of a packed virtqueue (virtio 1.1,
 * 2.8; lib/vq-packed.c) against a hostile guest.  An in-test "driver" keeps
 * the table and the two event areas in fake guest memory (memfds in a gmem
 * map, as in test-vq.c), makes chains available as Linux does (head's flags
 * last, AVAIL/USED bits from its wrap counter) and reads used entries back
 * at its own used position, moved on by the slots each returned chain took:
 * a device that gets a slot or a lap wrong is caught there.  Needs nothing
 * special to run.  Guest memory: vq-guest.h. */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cunit.h"
#include "vq-guest.h"
#include "vq.h"

#define DESC_GPA 0x10000
#define DRIVER_GPA 0x30000              /* driver event area ("avail") */
#define DEVICE_GPA 0x40000              /* device event area ("used") */
#define TABLE_GPA 0x60000               /* indirect tables */
#define DATA_GPA 0x80000                /* buffers */

#define F_NEXT VRING_DESC_F_NEXT
#define F_WRITE VRING_DESC_F_WRITE
#define F_INDIRECT VRING_DESC_F_INDIRECT
#define F_AVAIL (1 << VRING_PACKED_DESC_F_AVAIL)
#define F_USED (1 << VRING_PACKED_DESC_F_USED)
#define WRAP 0x8000u                    /* wrap bit of a position */
#define MAX_ID 1024                     /* buffer ids the driver uses */

struct pguest {
    struct gmem mem;
    struct vq vq;
    uint16_t next;              /* driver: slot it makes available next */
    bool wrap;                  /* ... and that slot's wrap counter */
    uint16_t used_next;         /* driver: slot of the next used entry */
    bool used_wrap;             /* ... and the lap it is expected in */
    uint16_t n_bad;             /* chains expect_bad() posted (their ids) */
    uint16_t n_slots[MAX_ID];   /* slots the chain with each id took */
};

/* One buffer of a chain to post (post() adds NEXT). */
struct pbuf {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
};

static struct vq_seg segs[VQ_MAX_SEGS];

/* What vq_begin says when the next slot is ready. */
#define READY(g) MIN(VQ_PACKED_BURST, (g)->vq.size)

static void *
gva(struct pguest *g, uint64_t gpa)
{
    return gmem_va(&g->mem, gpa);
}

/* Memory and a packed ring of 'size' slots as a fresh front end hands it
 * over (base 0x8000), with TX-like defaults: 12-byte header, INDIRECT on,
 * no EVENT_IDX, no MRG_RXBUF, no call fd. */
static void
pg_init(struct pguest *g, uint16_t size)
{
    struct vring_packed_desc *desc;
    struct vring_packed_desc_event *driver, *device;

    memset(g, 0, sizeof *g);
    vq_guest_mem(&g->mem);
    CU_ASSERT_EQUAL_FATAL(
        vq_translate_rings_packed(&g->mem, size, QVA_BASE + DESC_GPA,
                                  QVA_BASE + DRIVER_GPA,
                                  QVA_BASE + DEVICE_GPA, &desc, &driver,
                                  &device), 0);
    CU_ASSERT_EQUAL_FATAL(vq_setup_packed(&g->vq, &g->mem, size, desc,
                                          driver, device, WRAP), 0);
    g->vq.hdr_size = 12;
    g->vq.indirect = true;
    g->vq.call_fd = -1;
    g->wrap = g->used_wrap = true;
}

static void
pg_fini(struct pguest *g)
{
    if (g->vq.call_fd >= 0) {
        close(g->vq.call_fd);
    }
    gmem_clear(&g->mem);
}

/* Sets the ring up again at 'base' (a reconnect), the driver unchanged. */
static int
pg_resetup(struct pguest *g, uint32_t base)
{
    return vq_setup_packed(&g->vq, &g->mem, g->vq.size, g->vq.pdesc,
                           g->vq.driver_event, g->vq.device_event, base);
}

static uint32_t
enc(uint16_t slot, bool wrap)
{
    return slot | (wrap ? WRAP : 0);
}

/* Moves a driver position on, flipping its wrap counter at the end. */
static void
step(const struct pguest *g, uint16_t *slot, bool *wrap, unsigned n)
{
    while (n--) {
        if (++*slot == g->vq.size) {
            *slot = 0;
            *wrap = !*wrap;
        }
    }
}

static void
put_slot(struct pguest *g, uint16_t slot, uint64_t addr, uint32_t len,
         uint16_t id, uint16_t flags)
{
    g->vq.pdesc[slot] = (struct vring_packed_desc) { addr, len, id, 0 };
    STORE_RELEASE(g->vq.pdesc[slot].flags, flags);
}

/* Makes 'b[0..n)' available as one chain with buffer id 'id': NEXT on all
 * but the last slot, the id in the last slot only (the others get a decoy,
 * to catch a device that reads the wrong one), each slot marked with the
 * wrap counter of its own lap, the head's flags written last. */
static void
post(struct pguest *g, const struct pbuf *b, unsigned n, uint16_t id)
{
    uint16_t head = g->next, head_flags = 0;

    for (unsigned i = 0; i < n; i++) {
        uint16_t flags = b[i].flags | (i + 1 < n ? F_NEXT : 0)
                         | (g->wrap ? F_AVAIL : F_USED);
        put_slot(g, g->next, b[i].addr, b[i].len, i + 1 < n ? 0xdead : id,
                 i ? flags : 0);
        head_flags = i ? head_flags : flags;
        step(g, &g->next, &g->wrap, 1);
    }
    g->n_slots[id % MAX_ID] = n;
    STORE_RELEASE(g->vq.pdesc[head].flags, head_flags);
}

static void
post1(struct pguest *g, uint64_t addr, uint32_t len, uint16_t flags,
      uint16_t id)
{
    struct pbuf b = { addr, len, flags };
    post(g, &b, 1, id);
}

/* Whether the device wrote a used entry at 'slot' in the lap 'wrap'. */
static bool
is_used(const struct pguest *g, uint16_t slot, bool wrap)
{
    uint16_t flags = LOAD_ACQUIRE(g->vq.pdesc[slot].flags);
    return (flags & (F_AVAIL | F_USED)) == (wrap ? F_AVAIL | F_USED : 0);
}

/* The driver reads its next used entry: published in the expected lap,
 * WRITE exactly when 'len' is not 0, with 'id' and 'len'.  The next one is
 * expected as many slots later as chain 'id' took. */
static void
expect_used(struct pguest *g, uint16_t id, uint32_t len)
{
    const struct vring_packed_desc *d = &g->vq.pdesc[g->used_next];
    uint16_t flags = LOAD_ACQUIRE(d->flags);
    uint16_t want = (g->used_wrap ? F_AVAIL | F_USED : 0)
                    | (len ? F_WRITE : 0);

    CU_ASSERT(flags == want && d->id == id && d->len == len);
    if (flags != want || d->id != id || d->len != len) {
        fprintf(stderr, "\n  slot %u: flags %#x id %u len %u, expected %#x "
                "%u %u\n", g->used_next, flags, d->id, d->len, want, id, len);
    }
    step(g, &g->used_next, &g->used_wrap, g->n_slots[id % MAX_ID]);
}

/* The device's positions agree with the driver's, and so does its base. */
static void
expect_positions(struct pguest *g)
{
    CU_ASSERT_EQUAL(g->vq.last_avail, g->next);
    CU_ASSERT_EQUAL(g->vq.avail_wrap, g->wrap);
    CU_ASSERT_EQUAL(g->vq.used_slot, g->used_next);
    CU_ASSERT_EQUAL(g->vq.used_wrap, g->used_wrap);
    CU_ASSERT_EQUAL(vq_get_base(&g->vq), enc(g->next, g->wrap)
                    | enc(g->used_next, g->used_wrap) << 16);
}

static int
pop(struct pguest *g, bool writable, struct vq_chain *c)
{
    return vq_pop(&g->vq, writable, segs, VQ_MAX_SEGS, c);
}

/* Pops a chain that must be buffer 'id', 'n_desc' slots, 'n_segs' pieces
 * of 'len' bytes in all, the first at 'gpa'. */
static void
pop_ok(struct pguest *g, bool writable, struct vq_chain *c, uint16_t id,
       uint32_t n_desc, uint16_t n_segs, uint32_t len, uint64_t gpa)
{
    CU_ASSERT_EQUAL_FATAL(pop(g, writable, c), 0);
    CU_ASSERT_EQUAL(c->id, id | n_desc << 16);
    CU_ASSERT(c->n_segs == n_segs && c->len == len);
    CU_ASSERT_PTR_EQUAL(segs[0].addr, gva(g, gpa));
}

/* Posts chain 'b[0..n)' and checks that popping it fails with 'err' yet
 * consumes every slot it took and reports its id, so that it goes back
 * with length 0, in its first slot. */
static void
expect_bad(struct pguest *g, const struct pbuf *b, unsigned n,
           bool writable, int err)
{
    struct vq_chain c = { .id = 0xffff };
    uint16_t id = 600 + g->n_bad++;

    post(g, b, n, id);
    int got = pop(g, writable, &c);
    CU_ASSERT_EQUAL(got, err);
    if (got != err) {
        fprintf(stderr, "\n  id %u: got %d, expected %d\n", id, got, err);
    }
    CU_ASSERT_EQUAL(c.id, id | n << 16);
    CU_ASSERT(g->vq.last_avail == g->next && g->vq.avail_wrap == g->wrap);
    vq_push(&g->vq, c.id, 0);
    vq_end(&g->vq);
    expect_used(g, id, 0);
}

/* vq_translate_rings_packed at offsets from QVA_BASE (the out-pointers
 * stay alone on failure). */
static int
translate(struct pguest *g, uint16_t size, uint64_t desc, uint64_t driver,
          uint64_t device)
{
    struct vring_packed_desc *d = NULL;
    struct vring_packed_desc_event *dr = NULL, *dv = NULL;
    int err = vq_translate_rings_packed(&g->mem, size, QVA_BASE + desc,
                                        QVA_BASE + driver, QVA_BASE + device,
                                        &d, &dr, &dv);
    CU_ASSERT(err ? !d && !dr && !dv
                  : d == gva(g, desc) && dr == gva(g, driver)
                    && dv == gva(g, device));
    return err;
}

/* vq_setup_packed on g's ring parts moved by 'dd', 'dr', 'dv' bytes. */
static int
setup(struct pguest *g, struct vq *vq, uint16_t size, int dd, int dr, int dv,
      uint32_t base)
{
    return vq_setup_packed(vq, &g->mem, size,
                           (void *) ((char *) g->vq.pdesc + dd),
                           (void *) ((char *) g->vq.driver_event + dr),
                           (void *) ((char *) g->vq.device_event + dv), base);
}

static void
test_setup(void)
{
    struct pguest g;
    struct vq vq;
    const uint64_t D = DESC_GPA, R = DRIVER_GPA, V = DEVICE_GPA;

    pg_init(&g, 8);
    CU_ASSERT_EQUAL(translate(&g, 0, D, R, V), -EINVAL);
    CU_ASSERT_EQUAL(translate(&g, VQ_MAX_SIZE + 1, D, R, V), -EINVAL);
    CU_ASSERT_EQUAL(translate(&g, 8, D + 8, R, V), -EINVAL);
    CU_ASSERT_EQUAL(translate(&g, 8, D, R + 2, V), -EINVAL);
    CU_ASSERT_EQUAL(translate(&g, 8, D, R, V + 2), -EINVAL);
    /* An aligned QVA in B is misaligned in our VA (mmap_offset 4098). */
    CU_ASSERT_EQUAL(translate(&g, 8, D, MiB + 0x100, V), -EINVAL);
    /* Unmapped, or the table running off the end of A. */
    CU_ASSERT_EQUAL(translate(&g, 8, 3 * MiB, R, V), -EFAULT);
    CU_ASSERT_EQUAL(translate(&g, 8, MiB - 16 * 7, R, V), -EFAULT);
    CU_ASSERT_EQUAL(translate(&g, 8, D, R, 3 * MiB), -EFAULT);
    /* Any size up to VQ_MAX_SIZE, a power of two or not. */
    CU_ASSERT_EQUAL(translate(&g, 3, D, R, V), 0);
    CU_ASSERT_EQUAL(translate(&g, 255, D, R, V), 0);
    CU_ASSERT_EQUAL(translate(&g, VQ_MAX_SIZE, D, R, V), 0);

    CU_ASSERT_EQUAL(setup(&g, &vq, 0, 0, 0, 0, WRAP), -EINVAL);
    CU_ASSERT_EQUAL(setup(&g, &vq, VQ_MAX_SIZE + 1, 0, 0, 0, WRAP), -EINVAL);
    CU_ASSERT_EQUAL(setup(&g, &vq, 8, 8, 0, 0, WRAP), -EINVAL);
    CU_ASSERT_EQUAL(setup(&g, &vq, 8, 0, 2, 0, WRAP), -EINVAL);
    CU_ASSERT_EQUAL(setup(&g, &vq, 8, 0, 0, 2, WRAP), -EINVAL);
    /* A slot outside the ring, on either side, in either lap. */
    const uint32_t bad[] = { 3 | WRAP, 3, (1 | WRAP) << 16 | 3,
                             (3 | WRAP) << 16 | WRAP, 3u << 16 | 1 };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        CU_ASSERT_EQUAL(setup(&g, &vq, 3, 0, 0, 0, bad[i]), -EINVAL);
    }
    /* The base comes back as set; a used half of 0 means "as avail". */
    const uint32_t bases[][2] = {
        { WRAP, WRAP << 16 | WRAP }, { 2, 2 << 16 | 2 },
        { (1 | WRAP) << 16 | 2, (1 | WRAP) << 16 | 2 },
        { 2 << 16 | (1 | WRAP), 2 << 16 | (1 | WRAP) },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
        CU_ASSERT_EQUAL(setup(&g, &vq, 3, 0, 0, 0, bases[i][0]), 0);
        CU_ASSERT(vq.packed && vq_get_base(&vq) == bases[i][1]);
    }
    CU_ASSERT_EQUAL(setup(&g, &vq, 255, 0, 0, 0, (7 | WRAP) << 16 | 254), 0);
    CU_ASSERT(vq.last_avail == 254 && !vq.avail_wrap);
    CU_ASSERT(vq.used_slot == 7 && vq.used_wrap);

    /* Started: the guest is told not to kick us; its area is not ours. */
    g.vq.driver_event->flags = VRING_PACKED_EVENT_FLAG_ENABLE;
    vq_start(&g.vq);
    CU_ASSERT_EQUAL(g.vq.device_event->flags,
                    VRING_PACKED_EVENT_FLAG_DISABLE);
    CU_ASSERT_EQUAL(g.vq.driver_event->flags,
                    VRING_PACKED_EVENT_FLAG_ENABLE);
    pg_fini(&g);
}

/* Base 0 (vq.h: UML sends it for a new ring) is settled by the guest's
 * first chain: a new ring's (wrap 1), or one some odd laps along. */
static void
test_base_zero(void)
{
    struct pguest g;
    struct vq_chain c;

    for (int lap = 1; lap >= 0; lap--) {
        pg_init(&g, 8);
        CU_ASSERT_EQUAL_FATAL(pg_resetup(&g, 0), 0);
        CU_ASSERT_EQUAL(vq_begin(&g.vq), 0);        /* nothing posted yet */
        g.wrap = g.used_wrap = lap;
        post1(&g, DATA_GPA, 10, 0, 3);
        CU_ASSERT_EQUAL(vq_begin(&g.vq), READY(&g));
        pop_ok(&g, false, &c, 3, 1, 1, 10, DATA_GPA);
        vq_push(&g.vq, c.id, 0);
        vq_end(&g.vq);
        expect_used(&g, 3, 0);
        expect_positions(&g);
        pg_fini(&g);
    }
}

static void
test_pop_simple(void)
{
    struct pguest g;
    struct vq_chain c;

    pg_init(&g, 64);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), 0);
    CU_ASSERT_EQUAL(pop(&g, false, &c), -VQ_EMPTY);
    post1(&g, DATA_GPA, 60, 0, 500);
    post1(&g, DATA_GPA + 1000, 1514, 0, 7);
    post1(&g, MiB - 100, 300, 0, 0);       /* A into B: two pieces */
    CU_ASSERT_EQUAL(vq_begin(&g.vq), READY(&g));
    pop_ok(&g, false, &c, 500, 1, 1, 60, DATA_GPA);
    pop_ok(&g, false, &c, 7, 1, 1, 1514, DATA_GPA + 1000);  /* cached */
    pop_ok(&g, false, &c, 0, 1, 2, 300, MiB - 100);
    CU_ASSERT(segs[0].len == 100 && segs[1].len == 200);
    CU_ASSERT_PTR_EQUAL(segs[1].addr, gva(&g, MiB));
    CU_ASSERT_EQUAL(pop(&g, false, &c), -VQ_EMPTY);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), 0);
    CU_ASSERT(g.vq.last_avail == 3 && g.vq.avail_wrap);

    /* Not ready: used in this lap, available in the other lap, blank. */
    const uint16_t stale[] = { F_AVAIL | F_USED, F_USED, 0 };
    for (size_t i = 0; i < ARRAY_SIZE(stale); i++) {
        put_slot(&g, 3, DATA_GPA, 10, 1, stale[i]);
        CU_ASSERT_EQUAL(vq_begin(&g.vq), 0);
        CU_ASSERT_EQUAL(pop(&g, false, &c), -VQ_EMPTY);
    }
    /* Only the head's flags say a chain is ready (the guest writes them
     * last): the rest is read as it is. */
    put_slot(&g, 4, DATA_GPA + 10, 10, 1, F_USED);
    put_slot(&g, 3, DATA_GPA, 10, 0xdead, F_AVAIL | F_NEXT);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), READY(&g));
    pop_ok(&g, false, &c, 1, 2, 2, 20, DATA_GPA);
    g.next = 5;

    /* vq_begin promises at most VQ_PACKED_BURST chains; pops go on. */
    for (int i = 0; i < 40; i++) {
        post1(&g, DATA_GPA + i, 1, 0, 100 + i);
    }
    CU_ASSERT_EQUAL(vq_begin(&g.vq), VQ_PACKED_BURST);
    CU_ASSERT_EQUAL(vq_begin_lazy(&g.vq, 5), 5);
    for (int i = 0; i < 40; i++) {
        pop_ok(&g, false, &c, 100 + i, 1, 1, 1, DATA_GPA + i);
    }
    CU_ASSERT_EQUAL(pop(&g, false, &c), -VQ_EMPTY);
    CU_ASSERT_EQUAL(g.vq.last_avail, 45);
    pg_fini(&g);
}

/* A chain's id is in its last slot; its used entry goes in its first, the
 * next chain's as many slots later as the chain took. */
static void
test_chain_next(void)
{
    struct pguest g;
    struct vq_chain c;
    const struct pbuf b3[3] = {
        { DATA_GPA, 12, 0 }, { DATA_GPA + 100, 100, 0 },
        { DATA_GPA + 300, 20, 0 },
    };
    const struct pbuf b2[2] = {
        { DATA_GPA + 400, 14, 0 }, { DATA_GPA + 500, 50, 0 },
    };

    pg_init(&g, 16);
    post(&g, b3, 3, 42);
    post(&g, b2, 2, 9);
    post1(&g, DATA_GPA + 600, 8, 0, 77);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), READY(&g));
    pop_ok(&g, false, &c, 42, 3, 3, 132, DATA_GPA);
    CU_ASSERT(segs[1].addr == gva(&g, DATA_GPA + 100) && segs[1].len == 100);
    CU_ASSERT(segs[2].addr == gva(&g, DATA_GPA + 300) && segs[2].len == 20);
    vq_push(&g.vq, c.id, 132);
    pop_ok(&g, false, &c, 9, 2, 2, 64, DATA_GPA + 400);
    vq_push(&g.vq, c.id, 0);
    pop_ok(&g, false, &c, 77, 1, 1, 8, DATA_GPA + 600);
    vq_push(&g.vq, c.id, 8);
    CU_ASSERT_EQUAL(g.vq.last_avail, 6);

    CU_ASSERT(!is_used(&g, 0, true));               /* not before vq_end */
    CU_ASSERT_EQUAL(vq_end(&g.vq), VQ_NOTIFY_SUPPRESSED);   /* no call fd */
    CU_ASSERT(g.vq.pdesc[3].id == 9 && g.vq.pdesc[5].id == 77);
    expect_used(&g, 42, 132);
    expect_used(&g, 9, 0);
    expect_used(&g, 77, 8);
    /* The other slots of the chains are the guest's, untouched. */
    CU_ASSERT_EQUAL(g.vq.pdesc[1].flags, F_AVAIL | F_NEXT);
    CU_ASSERT(g.vq.pdesc[2].flags == F_AVAIL
              && g.vq.pdesc[4].flags == F_AVAIL);
    expect_positions(&g);
    CU_ASSERT_EQUAL(vq_get_base(&g.vq), (6 | WRAP) << 16 | (6 | WRAP));
    CU_ASSERT_EQUAL(vq_end(&g.vq), VQ_NOTIFY_NONE);
    pg_fini(&g);
}

/* Bursts that each fill a ring of 3 or 5 slots (not a power of two) with
 * chains of 'lens' slots, cycled, so that chains meet the end of the ring
 * in every way; half way, the ring is set up again from its base as after
 * a reconnect. */
static void
test_wrap(void)
{
    static const struct {
        uint16_t size;
        unsigned n_lens, lens[8];
    } runs[] = {
        { 3, 6, { 2, 1, 1, 3, 1, 2 } },
        { 5, 7, { 1, 2, 3, 1, 4, 2, 5 } },
    };

    for (size_t r = 0; r < ARRAY_SIZE(runs); r++) {
        const uint16_t size = runs[r].size;
        unsigned k = 0, total = 0;
        uint16_t id = 0;
        struct pguest g;
        struct vq_chain c;

        pg_init(&g, size);
        for (int burst = 0; burst < 16; burst++) {
            uint16_t first = id;
            unsigned slots = 0, n;

            while (slots + (n = runs[r].lens[k % runs[r].n_lens]) <= size) {
                struct pbuf b[8];
                for (unsigned i = 0; i < n; i++) {
                    b[i] = (struct pbuf) { DATA_GPA + 16 * i, 8, 0 };
                }
                post(&g, b, n, id++);
                slots += n;
                k++;
            }
            CU_ASSERT_EQUAL(vq_begin(&g.vq), READY(&g));
            for (uint16_t i = first; i < id; i++) {
                CU_ASSERT_EQUAL_FATAL(pop(&g, false, &c), 0);
                CU_ASSERT(c.len == 8 * (c.id >> 16) && (uint16_t) c.id == i);
                vq_push(&g.vq, c.id, i % 3);
            }
            CU_ASSERT_EQUAL(pop(&g, false, &c), -VQ_EMPTY);
            vq_end(&g.vq);
            for (uint16_t i = first; i < id; i++) {
                expect_used(&g, i, i % 3);
            }
            expect_positions(&g);
            total += slots;
            if (burst == 8) {
                CU_ASSERT_EQUAL(pg_resetup(&g, vq_get_base(&g.vq)), 0);
            }
        }
        /* Where 'total' slots lead, whatever either side counted. */
        CU_ASSERT(total > 4u * size);
        CU_ASSERT_EQUAL(vq_get_base(&g.vq),
                        enc(total % size, (total / size) % 2 == 0) * 0x10001);
        pg_fini(&g);
    }
}

/* Writes a 3-entry indirect table at 'gpa': 12 + 100 + 20 bytes. */
static void
put_table3(struct pguest *g, uint64_t gpa, uint16_t flags)
{
    const struct vring_packed_desc t[3] = {
        { DATA_GPA, 12, 0, flags }, { DATA_GPA + 100, 100, 0, flags },
        { DATA_GPA + 300, 20, 0, flags },
    };
    memcpy(gva(g, gpa), t, sizeof t);   /* may be misaligned */
}

static void
test_indirect(void)
{
    struct pguest g;
    struct vq_chain c;

    pg_init(&g, 16);
    put_table3(&g, TABLE_GPA, 0);
    post1(&g, TABLE_GPA, 48, F_INDIRECT, 31);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), READY(&g));
    pop_ok(&g, false, &c, 31, 1, 3, 132, DATA_GPA);
    CU_ASSERT(segs[2].addr == gva(&g, DATA_GPA + 300) && segs[2].len == 20);
    vq_push(&g.vq, c.id, 0);
    /* Two entries of a table that is not 16-byte aligned, receive side. */
    put_table3(&g, TABLE_GPA + 0x1004, F_WRITE);
    post1(&g, TABLE_GPA + 0x1004, 32, F_INDIRECT, 32);
    pop_ok(&g, true, &c, 32, 1, 2, 112, DATA_GPA);
    vq_push(&g.vq, c.id, 112);
    vq_end(&g.vq);
    expect_used(&g, 31, 0);
    expect_used(&g, 32, 112);

    /* Each rejected, consumed, given back empty. */
    struct pbuf ind = { TABLE_GPA, 48, F_INDIRECT };
    put_table3(&g, TABLE_GPA, 0);
    g.vq.indirect = false;
    expect_bad(&g, &ind, 1, false, -VQ_BAD_DESC);
    g.vq.indirect = true;
    const uint32_t lens[] = { 0, 15, 40, 16 * 17 };
    for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
        struct pbuf b = { TABLE_GPA, lens[i], F_INDIRECT };
        expect_bad(&g, &b, 1, false, -VQ_BAD_DESC);
    }
    /* INDIRECT with NEXT (both slots go), INDIRECT after a plain slot. */
    const struct pbuf with_next[2] = { ind, { DATA_GPA, 10, 0 } };
    expect_bad(&g, with_next, 2, false, -VQ_BAD_DESC);
    const struct pbuf late[2] = { { DATA_GPA, 10, 0 }, ind };
    expect_bad(&g, late, 2, false, -VQ_BAD_DESC);
    /* In the table: nested, wrong direction, unmapped buffer. */
    struct vring_packed_desc *t = gva(&g, TABLE_GPA);
    t[1].flags = F_INDIRECT;
    expect_bad(&g, &ind, 1, false, -VQ_BAD_DESC);
    t[1].flags = F_WRITE;
    expect_bad(&g, &ind, 1, false, -VQ_BAD_DESC);
    t[1].flags = 0;
    t[1].addr = 3 * MiB;
    expect_bad(&g, &ind, 1, false, -VQ_BAD_ADDR);
    /* The table unmapped, or straddling A and B. */
    ind.addr = 3 * MiB;
    expect_bad(&g, &ind, 1, false, -VQ_BAD_ADDR);
    ind.addr = MiB - 32;
    expect_bad(&g, &ind, 1, false, -VQ_BAD_ADDR);
    expect_positions(&g);
    pg_fini(&g);
}

static void
test_hostile(void)
{
    struct pguest g;
    struct vq_chain c;

    pg_init(&g, 8);
    /* NEXT on every slot: the chain has no end, the ring is broken. */
    for (int i = 0; i < 8; i++) {
        put_slot(&g, i, DATA_GPA + i, 1, i, F_AVAIL | F_NEXT);
    }
    CU_ASSERT_EQUAL(pop(&g, false, &c), -VQ_BROKEN);
    CU_ASSERT(g.vq.last_avail == 0 && g.vq.avail_wrap);
    /* A chain of exactly 'size' slots is legal. */
    put_slot(&g, 7, DATA_GPA + 7, 1, 70, F_AVAIL);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), READY(&g));
    pop_ok(&g, false, &c, 70, 8, 8, 8, DATA_GPA);
    vq_push(&g.vq, c.id, 0);
    vq_end(&g.vq);
    g.wrap = false;
    g.n_slots[70] = 8;
    expect_used(&g, 70, 0);
    expect_positions(&g);

    /* A bad slot inside a chain: all of it goes, the next one is found. */
    const struct pbuf bad_dir[3] = {
        { DATA_GPA, 10, 0 }, { DATA_GPA + 16, 10, F_WRITE },
        { DATA_GPA + 32, 10, 0 },
    };
    expect_bad(&g, bad_dir, 3, false, -VQ_BAD_DESC);
    const struct pbuf bad_addr[3] = {
        { DATA_GPA, 10, 0 }, { 3 * MiB, 10, 0 }, { DATA_GPA + 32, 10, 0 },
    };
    expect_bad(&g, bad_addr, 3, false, -VQ_BAD_ADDR);
    post1(&g, DATA_GPA + 64, 10, 0, 5);
    pop_ok(&g, false, &c, 5, 1, 1, 10, DATA_GPA + 64);
    vq_push(&g.vq, c.id, 0);
    /* No room for a piece: the buffer is in the region just used, so the
     * one-slot fast path is the one that must notice. */
    post1(&g, DATA_GPA, 10, 0, 6);
    CU_ASSERT_EQUAL(vq_pop(&g.vq, false, segs, 0, &c), -VQ_BAD_DESC);
    CU_ASSERT_EQUAL(c.id, 6 | 1 << 16);
    vq_push(&g.vq, c.id, 0);
    vq_end(&g.vq);
    expect_used(&g, 5, 0);
    expect_used(&g, 6, 0);

    /* Outside guest memory: the hole, from B into it, past C, wrapping,
     * longer than A and B together. */
    const struct pbuf outside[] = {
        { 3 * MiB, 10, 0 }, { 2 * MiB - 10, 20, 0 }, { 5 * MiB - 4, 8, 0 },
        { UINT64_MAX - 10, 100, 0 }, { 0, 0xffffffff, 0 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(outside); i++) {
        expect_bad(&g, &outside[i], 1, false, -VQ_BAD_ADDR);
    }
    /* The wrong direction either way. */
    const struct pbuf w = { DATA_GPA, 10, F_WRITE }, r = { DATA_GPA, 10, 0 };
    expect_bad(&g, &w, 1, false, -VQ_BAD_DESC);
    expect_bad(&g, &r, 1, true, -VQ_BAD_DESC);
    expect_positions(&g);
    pg_fini(&g);
}

/* A chain without end must reach the port as -VQ_BROKEN through the calls
 * it makes (pmd/port-vhost.c): vq_begin then vq_pop on a transmit ring,
 * vq_enqueue on a receive ring (as for a split ring: test-vq's
 * test_enqueue_bad_chain). */
static void
test_endless_chain(void)
{
    struct pguest g;
    uint8_t frame[60] = { 0 };
    struct vq_seg src = { frame, sizeof frame };

    pg_init(&g, 8);
    for (int i = 0; i < 8; i++) {
        put_slot(&g, i, DATA_GPA + 64 * i, 64, i, F_AVAIL | F_NEXT | F_WRITE);
    }
    CU_ASSERT_EQUAL(vq_begin(&g.vq), READY(&g));
    CU_ASSERT_EQUAL(vq_pop(&g.vq, true, segs, VQ_MAX_SEGS, &(struct vq_chain) {
                        0 }), -VQ_BROKEN);
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, sizeof frame), -VQ_BROKEN);
    CU_ASSERT(g.vq.last_avail == 0 && g.vq.n_shadow == 0);
    pg_fini(&g);
}

/* The virtio-net header vq_fill writes: zeros but num_buffers. */
static void
expect_hdr(const uint8_t *buf, uint8_t num_buffers)
{
    const uint8_t hdr[12] = { [10] = num_buffers };
    CU_ASSERT_EQUAL(memcmp(buf, hdr, sizeof hdr), 0);
}

static void
test_enqueue(void)
{
    struct pguest g;
    uint8_t *frame = make_frame(2100);
    struct vq_seg src = { frame, 2100 };

    pg_init(&g, 16);
    uint8_t *buf = gva(&g, DATA_GPA);
    memset(buf, 0xee, 2048);
    post1(&g, DATA_GPA, 2048, F_WRITE, 50);
    post1(&g, DATA_GPA + 4096, 2048, F_WRITE, 51);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), READY(&g));
    CU_ASSERT_EQUAL_FATAL(vq_enqueue(&g.vq, &src, 1, 1500), 0);
    CU_ASSERT_EQUAL(g.vq.last_avail, 1);
    CU_ASSERT(!is_used(&g, 0, true));               /* not before vq_end */
    vq_end(&g.vq);
    expect_used(&g, 50, 1512);
    expect_hdr(buf, 1);
    CU_ASSERT(!memcmp(buf + 12, frame, 1500) && buf[1512] == 0xee);
    /* Without MRG_RXBUF a frame fits one chain, header included. */
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, 2037), -VQ_TOO_BIG);
    CU_ASSERT(g.vq.last_avail == 1 && g.vq.n_shadow == 0);
    CU_ASSERT_EQUAL(vq_end(&g.vq), VQ_NOTIFY_NONE);
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, 2036), 0);
    vq_end(&g.vq);
    expect_used(&g, 51, 2048);
    CU_ASSERT(!memcmp(gva(&g, DATA_GPA + 4096 + 12), frame, 2036));

    /* Mergeable, into buffers back to back in memory (so the bytes they
     * get are contiguous), one of them a chain of two slots. */
    const struct pbuf two[2] = {
        { DATA_GPA + 128, 32, F_WRITE }, { DATA_GPA + 160, 32, F_WRITE },
    };
    g.vq.mrg_rxbuf = true;
    post1(&g, DATA_GPA, 64, F_WRITE, 10);
    post1(&g, DATA_GPA + 64, 64, F_WRITE, 11);
    post(&g, two, 2, 12);
    post1(&g, DATA_GPA + 192, 64, F_WRITE, 13);
    CU_ASSERT_EQUAL(vq_begin(&g.vq), READY(&g));
    CU_ASSERT_EQUAL_FATAL(vq_enqueue(&g.vq, &src, 1, 200), 0);
    CU_ASSERT_EQUAL(g.vq.last_avail, 7);
    vq_end(&g.vq);
    expect_used(&g, 10, 64);
    expect_used(&g, 11, 64);
    expect_used(&g, 12, 64);
    expect_used(&g, 13, 212 - 192);
    expect_hdr(buf, 4);
    CU_ASSERT_EQUAL(memcmp(buf + 12, frame, 200), 0);

    /* A frame the buffers cannot hold takes none of them and publishes
     * nothing; the frame before it in the burst is not disturbed. */
    for (int i = 0; i < 3; i++) {
        post1(&g, DATA_GPA + 1024 + 64 * i, 64, F_WRITE, 14 + i);
    }
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, 40), 0);
    uint16_t used_idx = g.vq.used_idx, flags8 = g.vq.pdesc[8].flags;
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, 500), -VQ_NO_BUFS);
    CU_ASSERT(g.vq.last_avail == 8 && g.vq.avail_wrap);
    CU_ASSERT(g.vq.used_idx == used_idx && g.vq.n_shadow == 1);
    CU_ASSERT_EQUAL(vq_end(&g.vq), VQ_NOTIFY_SUPPRESSED);
    expect_used(&g, 14, 52);
    CU_ASSERT_EQUAL(g.vq.pdesc[8].flags, flags8);
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, 100), 0);
    vq_end(&g.vq);
    expect_used(&g, 15, 64);
    expect_used(&g, 16, 112 - 64);
    expect_hdr(gva(&g, DATA_GPA + 1024 + 64), 2);

    /* A bad chain mid-frame: what the frame took goes back empty. */
    post1(&g, DATA_GPA, 64, F_WRITE, 17);
    post1(&g, DATA_GPA + 64, 64, 0, 18);           /* read-only */
    post1(&g, DATA_GPA + 128, 64, F_WRITE, 19);
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, 150), -VQ_BAD_DESC);
    vq_end(&g.vq);
    expect_used(&g, 17, 0);
    expect_used(&g, 18, 0);
    CU_ASSERT(g.vq.last_avail == 12 && !is_used(&g, 12, true));
    free(frame);
    pg_fini(&g);
}

/* A frame may take at most VQ_PACKED_FRAME chains; one that needs more
 * takes none.  The ring starts in its last slot with a chain that runs
 * into the next lap, so that putting chains back must restore the lap. */
static void
test_enqueue_frame_limit(void)
{
    struct pguest g;
    const uint16_t size = VQ_PACKED_FRAME + 8;
    const uint32_t max = 32 + 16 * (VQ_PACKED_FRAME - 1) - 12;
    uint8_t *frame = make_frame(max + 1);
    struct vq_seg src = { frame, max + 1 };
    const struct pbuf two[2] = {
        { DATA_GPA, 16, F_WRITE }, { DATA_GPA + 16, 16, F_WRITE },
    };

    pg_init(&g, size);
    CU_ASSERT_EQUAL_FATAL(pg_resetup(&g, size - 1 + WRAP), 0);
    g.next = g.used_next = size - 1;
    g.vq.mrg_rxbuf = true;
    post(&g, two, 2, 99);
    for (int i = 0; i < VQ_PACKED_FRAME + 4; i++) {
        post1(&g, DATA_GPA + 32 + 16 * i, 16, F_WRITE, 100 + i);
    }
    CU_ASSERT_EQUAL(vq_begin(&g.vq), VQ_PACKED_BURST);
    CU_ASSERT_EQUAL(vq_enqueue(&g.vq, &src, 1, max + 1), -VQ_NO_BUFS);
    CU_ASSERT(g.vq.last_avail == size - 1 && g.vq.avail_wrap);
    CU_ASSERT_EQUAL(g.vq.n_shadow, 0);
    CU_ASSERT_EQUAL(vq_end(&g.vq), VQ_NOTIFY_NONE);
    CU_ASSERT(!is_used(&g, size - 1, true));
    CU_ASSERT_EQUAL_FATAL(vq_enqueue(&g.vq, &src, 1, max), 0);
    vq_end(&g.vq);
    expect_used(&g, 99, 32);
    for (int i = 0; i < VQ_PACKED_FRAME - 1; i++) {
        expect_used(&g, 100 + i, 16);
    }
    CU_ASSERT(g.vq.last_avail == VQ_PACKED_FRAME && !g.vq.avail_wrap);
    CU_ASSERT(g.vq.used_slot == g.used_next && !g.vq.used_wrap);
    expect_hdr(gva(&g, DATA_GPA), VQ_PACKED_FRAME);
    CU_ASSERT_EQUAL(memcmp(gva(&g, DATA_GPA + 12), frame, max), 0);
    free(frame);
    pg_fini(&g);
}

/* vq_reserve takes the buffers of a whole burst before vq_fill copies any
 * frame (pmd/port-vhost.c reserves up to PORT_BURST frames first).  On a
 * packed ring writing a used entry publishes it, so none may be written
 * before its frame is in the buffer: the caller fills what it reserved
 * when vq_reserve_ready says so.  Here 12 frames of 4 chains, 48 used
 * entries: the shadow (VQ_SHADOW) runs short after the ninth frame. */
static void
test_reserve_then_fill(void)
{
    struct pguest g;
    struct vq_seg pool[12 * 4];
    struct vq_resv resv[12];
    uint8_t *frame = make_frame(200);
    struct vq_seg src = { frame, 200 };
    int early = 0, filled = 0, filled_early = 0;

    pg_init(&g, 64);
    g.vq.mrg_rxbuf = true;
    for (int i = 0; i < 48; i++) {
        post1(&g, DATA_GPA + 64 * i, 64, F_WRITE, i);
    }
    for (int i = 0; i < 12; i++) {
        if (!vq_reserve_ready(&g.vq)) {
            for (; filled < i; filled++) {
                vq_fill(&g.vq, &resv[filled], &src, 1);
            }
            filled_early = filled;
        }
        CU_ASSERT_EQUAL_FATAL(vq_reserve(&g.vq, 200, pool + 4 * i, 4,
                                         &resv[i]), 0);
        CU_ASSERT_EQUAL(resv[i].n_chains, 4);
        for (int k = 4 * filled; k < 48; k++) {
            early += is_used(&g, k, true);
        }
    }
    CU_ASSERT_EQUAL(filled_early, 9);
    CU_ASSERT_EQUAL(early, 0);
    for (; filled < 12; filled++) {
        vq_fill(&g.vq, &resv[filled], &src, 1);
    }
    vq_end(&g.vq);
    for (int i = 0; i < 48; i++) {
        expect_used(&g, i, i % 4 == 3 ? 212 - 192 : 64);
    }
    for (int i = 0; i < 12; i++) {
        expect_hdr(gva(&g, DATA_GPA + 256 * i), 4);
        CU_ASSERT(!memcmp(gva(&g, DATA_GPA + 256 * i + 12), frame, 200));
    }
    free(frame);
    pg_fini(&g);
}

/* Completes 'n' one-slot chains in one burst; returns vq_end's verdict. */
static enum vq_notify
complete(struct pguest *g, int n)
{
    struct vq_chain c;

    for (int i = 0; i < n; i++) {
        post1(g, DATA_GPA, 10, 0, i);
    }
    CU_ASSERT_EQUAL(vq_begin(&g->vq), READY(g));
    for (int i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(pop(g, false, &c), 0);
        vq_push(&g->vq, c.id, 0);
    }
    enum vq_notify r = vq_end(&g->vq);
    for (int i = 0; i < n; i++) {
        expect_used(g, i, 0);
    }
    return r;
}

/* The guest's driver event area, on a ring of 16 slots; the comments say
 * which slots (and lap) each burst publishes. */
static void
test_notify(void)
{
    struct pguest g;

    pg_init(&g, 16);
    struct vring_packed_desc_event *ev = g.vq.driver_event;
    int fd = g.vq.call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(vq_end(&g.vq), VQ_NOTIFY_NONE);

    ev->flags = VRING_PACKED_EVENT_FLAG_DISABLE;
    CU_ASSERT_EQUAL(complete(&g, 1), VQ_NOTIFY_SUPPRESSED);     /* 0 */
    CU_ASSERT_EQUAL(read_event(fd), 0);
    ev->flags = VRING_PACKED_EVENT_FLAG_ENABLE;
    CU_ASSERT_EQUAL(complete(&g, 2), VQ_NOTIFY_SENT);           /* 1, 2 */
    CU_ASSERT_EQUAL(read_event(fd), 1);
    CU_ASSERT_EQUAL(vq_end(&g.vq), VQ_NOTIFY_NONE);
    /* DESC means nothing without EVENT_IDX: as ENABLE. */
    ev->flags = VRING_PACKED_EVENT_FLAG_DESC;
    ev->off_wrap = 12 | WRAP;
    CU_ASSERT_EQUAL(complete(&g, 1), VQ_NOTIFY_SENT);           /* 3 */

    /* EVENT_IDX: only a burst that writes the named slot, in its lap. */
    g.vq.event_idx = true;
    ev->off_wrap = 6 | WRAP;
    CU_ASSERT_EQUAL(complete(&g, 2), VQ_NOTIFY_SUPPRESSED);     /* 4, 5 */
    CU_ASSERT_EQUAL(complete(&g, 1), VQ_NOTIFY_SENT);           /* 6 */
    CU_ASSERT_EQUAL(complete(&g, 3), VQ_NOTIFY_SUPPRESSED);     /* 7..9 */
    ev->off_wrap = 11 | WRAP;
    CU_ASSERT_EQUAL(complete(&g, 4), VQ_NOTIFY_SENT);           /* 10..13 */
    ev->off_wrap = 1;                   /* slot 1 of the next lap */
    CU_ASSERT_EQUAL(complete(&g, 2), VQ_NOTIFY_SUPPRESSED);     /* 14, 15 */
    CU_ASSERT_EQUAL(complete(&g, 3), VQ_NOTIFY_SENT);   /* 0..2, wrap 0 */
    ev->off_wrap = 4 | WRAP;            /* the right slot, the last lap */
    CU_ASSERT_EQUAL(complete(&g, 3), VQ_NOTIFY_SUPPRESSED);     /* 3..5 */
    CU_ASSERT_EQUAL(read_event(fd), 4);
    /* Nobody to notify. */
    ev->flags = VRING_PACKED_EVENT_FLAG_ENABLE;
    g.vq.call_fd = -1;
    CU_ASSERT_EQUAL(complete(&g, 1), VQ_NOTIFY_SUPPRESSED);     /* 6 */
    g.vq.call_fd = fd;

    /* Set up again, the ring knows no history: its first publication
     * notifies wherever the guest's event slot is. */
    CU_ASSERT_EQUAL_FATAL(pg_resetup(&g, vq_get_base(&g.vq)), 0);
    ev->flags = VRING_PACKED_EVENT_FLAG_DESC;
    ev->off_wrap = 12;
    CU_ASSERT_EQUAL(complete(&g, 1), VQ_NOTIFY_SENT);           /* 7 */
    CU_ASSERT_EQUAL(complete(&g, 1), VQ_NOTIFY_SUPPRESSED);     /* 8 */
    CU_ASSERT_EQUAL(read_event(fd), 1);
    expect_positions(&g);
    pg_fini(&g);
}

/* More used entries in one burst than the shadow holds (VQ_SHADOW), from
 * chains of one and two slots: all reach the ring, in order, each in the
 * first slot of its chain. */
static void
test_shadow(void)
{
    struct pguest g;
    struct vq_chain c;
    const int n = VQ_SHADOW + 36;

    pg_init(&g, 256);
    for (int i = 0; i < n; i++) {
        const struct pbuf b[2] = {
            { DATA_GPA + 8 * i, 8, 0 }, { DATA_GPA + 1024 + 8 * i, 4, 0 },
        };
        post(&g, b, i % 10 == 9 ? 2 : 1, 300 + i);
    }
    for (int i = 0; i < n;) {
        int avail = vq_begin(&g.vq);
        CU_ASSERT_FATAL(avail > 0);
        for (; avail > 0 && i < n; avail--, i++) {    /* a bound only */
            CU_ASSERT_EQUAL_FATAL(pop(&g, false, &c), 0);
            CU_ASSERT_EQUAL((uint16_t) c.id, 300 + i);
            vq_push(&g.vq, c.id, i);
        }
    }
    vq_end(&g.vq);
    for (int i = 0; i < n; i++) {
        expect_used(&g, 300 + i, i);
    }
    expect_positions(&g);
    CU_ASSERT_EQUAL(g.vq.used_slot, n + n / 10);
    pg_fini(&g);
}

/* IN_ORDER on a guest's transmit ring (batch_used): a run of chains given
 * back without a length is one used entry, in the run's first slot, with
 * the id of its last chain; a chain with a length ends the run and gets
 * its own.  Without batch_used (a receive ring) every chain has one. */
static void
test_batch_used(void)
{
    struct pguest g;
    struct vq_chain c;

    for (int batch = 0; batch <= 1; batch++) {
        pg_init(&g, 8);
        g.vq.batch_used = batch;
        for (int lap = 0; lap < 3; lap++) {     /* 6 chains a lap: wraps */
            const struct pbuf b2[2] = {
                { DATA_GPA, 12, 0 }, { DATA_GPA + 64, 60, 0 },
            };
            post1(&g, DATA_GPA, 72, 0, 10);
            post(&g, b2, 2, 11);
            post1(&g, DATA_GPA, 72, 0, 12);
            post1(&g, DATA_GPA, 72, 0, 13);     /* given back with a length */
            post1(&g, DATA_GPA, 72, 0, 14);
            CU_ASSERT(vq_begin(&g.vq) > 0);
            for (int i = 0; i < 5; i++) {
                CU_ASSERT_EQUAL_FATAL(pop(&g, false, &c), 0);
                vq_push(&g.vq, c.id, (uint16_t) c.id == 13 ? 5 : 0);
            }
            CU_ASSERT_EQUAL(pop(&g, false, &c), -VQ_EMPTY);
            vq_end(&g.vq);
            if (batch) {
                /* 10, 11 (two slots), 12 in one entry; the slots of 11 and
                 * 12 are not written. */
                uint16_t first = g.used_next;
                bool wrap = g.used_wrap;
                g.n_slots[12] = 4;
                expect_used(&g, 12, 0);
                step(&g, &first, &wrap, 1);
                CU_ASSERT_FALSE(is_used(&g, first, wrap));
                g.n_slots[12] = 1;
            } else {
                expect_used(&g, 10, 0);
                expect_used(&g, 11, 0);
                expect_used(&g, 12, 0);
            }
            expect_used(&g, 13, 5);
            expect_used(&g, 14, 0);
            expect_positions(&g);
        }
        pg_fini(&g);
    }
}

static const struct cunit_test tests[] = {
    CUNIT_TEST(test_setup),
    CUNIT_TEST(test_batch_used),
    CUNIT_TEST(test_base_zero),
    CUNIT_TEST(test_pop_simple),
    CUNIT_TEST(test_chain_next),
    CUNIT_TEST(test_wrap),
    CUNIT_TEST(test_indirect),
    CUNIT_TEST(test_hostile),
    CUNIT_TEST(test_endless_chain),
    CUNIT_TEST(test_enqueue),
    CUNIT_TEST(test_enqueue_frame_limit),
    CUNIT_TEST(test_reserve_then_fill),
    CUNIT_TEST(test_notify),
    CUNIT_TEST(test_shadow),
};

CUNIT_MAIN("vq-packed", tests)
