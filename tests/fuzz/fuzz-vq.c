/* fuzz-vq.c -- libFuzzer target: the virtqueue walkers, split (lib/vq.c)
 * and packed (lib/vq-packed.c), over a fake guest memory map (lib/gmem.c) of two regions built from
 * memfds, adjacent in guest-physical space, with nothing mapped around:
 *
 *   GPA 0x10000  region A, 64 KiB:  desc table | avail ring | used ring |
 *                                   bytes from the input ...
 *                (packed: table | driver event area | device event area)
 *   GPA 0x20000  region B, 64 KiB:  bytes from the input ...
 *   GPA 0x30000  nothing
 *
 * Input: a 6-byte header, then the descriptor table (16 * size bytes),
 * then the avail ring (flags, idx, ring[size], used_event), then the rest
 * of A and B, cyclically.
 *
 *   byte 0   ring size = 1 << (b % 9)          (1..256; packed: b + 1)
 *   byte 1   bit 0 INDIRECT_DESC, 1 EVENT_IDX, 2 MRG_RXBUF, 3 10-byte
 *            header, 4 pop as a receive ring (writable buffers), 5 map the
 *            main table's addresses into [0x10000, 0x30100) (so that the
 *            fuzzer need not find the map first), 6 a packed ring
 *   byte 2-3 base: where our indexes start (u16le; packed: slot modulo
 *            the size, bit 15 the wrap counter)
 *   byte 4-5 length of the frame vq_enqueue() copies (mod 9400)
 *
 * Each input: vq_begin / vq_prefetch / vq_pop until the ring is empty or
 * broken / vq_push / vq_end as a worker's receive burst does; then, on the
 * same memory, vq_begin / vq_enqueue until it fails / vq_end as a
 * transmit burst does.  Oracles besides the sanitizers: every piece vq_pop
 * returns lies inside one region and the pieces add up to the chain's
 * length; a bad chain's head is in range (split); and the first vq_enqueue
 * changes no guest byte outside the buffers of the chains available (found
 * by a vq_pop pre-pass on a copy of the queue) and the used ring (packed:
 * the table).
 *
 * Build: tests/fuzz/build.sh.  Run: see tests/integration/fuzz.sh. */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gmem.h"
#include "log.h"
#include "vq.h"

#define A_GPA 0x10000ull
#define B_GPA 0x20000ull
#define REGION_SIZE 0x10000u
#define OFF_AVAIL 4096u
#define OFF_USED 8192u
#define OFF_DATA 12288u
#define MAX_FRAME 9400u

static struct gmem mem;
static uint8_t *a_mem, *b_mem;     /* our own view of the two memfds */
static uint8_t *a_va, *b_va;       /* where gmem mapped them */
static uint8_t snapshot[2][REGION_SIZE];
static uint8_t frame[MAX_FRAME];

static uint8_t *
map_region(uint64_t gpa, uint8_t **va)
{
    int fd = memfd_create("fuzz-vq", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, REGION_SIZE)) {
        abort();
    }
    uint8_t *p = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                      fd, 0);
    struct gmem_region_desc d = { gpa, REGION_SIZE, gpa + 0x7f0000000000ull,
                                  0 };
    int dup_fd = dup(fd);
    if (p == MAP_FAILED || dup_fd < 0 || gmem_add(&mem, &d, dup_fd)) {
        abort();
    }
    close(fd);
    *va = gmem_gpa_to_va(&mem, NULL, gpa, REGION_SIZE);
    return p;
}

static void
setup(void)
{
    vlog_set_level(VLL_ERR);
    gmem_init(&mem);
    a_mem = map_region(A_GPA, &a_va);
    b_mem = map_region(B_GPA, &b_va);
    for (unsigned i = 0; i < MAX_FRAME; i++) {
        frame[i] = (uint8_t) (i * 7 + 1);
    }
}

static bool
inside(const uint8_t *p, uint32_t len, const uint8_t *base)
{
    return p >= base && p <= base + REGION_SIZE
           && len <= (size_t) (base + REGION_SIZE - p);
}

static void
check_segs(const struct vq_seg *segs, const struct vq_chain *c,
           unsigned max_segs)
{
    uint64_t total = 0;
    if (c->n_segs > max_segs) {
        abort();
    }
    for (unsigned i = 0; i < c->n_segs; i++) {
        if (!segs[i].len || (!inside(segs[i].addr, segs[i].len, a_va)
                             && !inside(segs[i].addr, segs[i].len, b_va))) {
            fprintf(stderr, "piece %u outside guest memory\n", i);
            abort();
        }
        total += segs[i].len;
    }
    if (total != c->len) {
        abort();
    }
}

static void
fill(const uint8_t **p, size_t *left, uint8_t *dst, size_t n)
{
    size_t k = *left < n ? *left : n;
    memcpy(dst, *p, k);
    memset(dst + k, 0, n - k);
    *p += k;
    *left -= k;
}

static void
vq_init(struct vq *vq, uint16_t size, uint8_t flags, uint16_t base)
{
    memset(vq, 0, sizeof *vq);
    if (flags & 64) {
        uint32_t b = (base & 0x7fff) % size | (base & 0x8000);
        if (vq_setup_packed(vq, &mem, size,
                            (struct vring_packed_desc *) a_va,
                            (void *) (a_va + OFF_AVAIL),
                            (void *) (a_va + OFF_USED), b)) {
            abort();
        }
    } else if (vq_setup(vq, &mem, size, (struct vring_desc *) a_va,
                        (struct vring_avail *) (a_va + OFF_AVAIL),
                        (struct vring_used *) (a_va + OFF_USED), base)) {
        abort();
    }
    vq->indirect = flags & 1;
    vq->event_idx = flags & 2;
    vq->mrg_rxbuf = flags & 4;
    vq->hdr_size = flags & 8 ? 10 : 12;
    vq->call_fd = -1;
}

/* The receive side of a worker: pop everything, give it back. */
static void
run_pop(struct vq *vq, bool writable)
{
    static struct vq_seg segs[VQ_MAX_SEGS];
    int n = vq_begin(vq);
    if (n < 0) {
        return;
    }
    vq_prefetch(vq, 32);
    unsigned max_segs = writable ? VQ_MAX_SEGS : 512;
    for (int i = 0; i <= n; i++) {
        struct vq_chain c;
        int err = vq_pop(vq, writable, segs, max_segs, &c);
        if (err == -VQ_EMPTY || err == -VQ_BROKEN) {
            break;
        }
        if (!vq->packed && c.id >= vq->size) {
            abort();
        }
        if (!err) {
            check_segs(segs, &c, max_segs);
            /* Touch every byte, as a copy would. */
            uint8_t sum = 0;
            for (unsigned s = 0; s < c.n_segs; s++) {
                for (uint32_t k = 0; k < segs[s].len; k += 64) {
                    sum ^= segs[s].addr[k];
                }
            }
            (void) sum;
        } else if (err != -VQ_BAD_DESC && err != -VQ_BAD_ADDR) {
            abort();
        }
        vq_push(vq, c.id, 0);
    }
    vq_end(vq);
}

/* Marks in 'ok' the bytes the chains available on (a copy of) 'vq' may
 * get written, as vq_enqueue would find them. */
static void
allowed_bytes(const struct vq *vq, bool ok[2][REGION_SIZE])
{
    static struct vq_seg segs[VQ_MAX_SEGS];
    struct vq copy = *vq;

    memset(ok, 0, 2 * REGION_SIZE);
    for (unsigned i = 0; i <= vq->size; i++) {
        struct vq_chain c;
        int err = vq_pop(&copy, true, segs, VQ_MAX_SEGS, &c);
        if (err == -VQ_EMPTY || err == -VQ_BROKEN) {
            break;
        }
        for (unsigned s = 0; !err && s < c.n_segs; s++) {
            int r = inside(segs[s].addr, segs[s].len, a_va) ? 0 : 1;
            size_t off = segs[s].addr - (r ? b_va : a_va);
            memset(&ok[r][off], 1, segs[s].len);
        }
    }
    if (vq->packed) {
        memset(&ok[0][0], 1, 16 * (size_t) vq->size);  /* used entries */
    } else {
        /* used ring: flags, idx, ring[size] */
        memset(&ok[0][OFF_USED], 1, 4 + 8 * (size_t) vq->size);
    }
}

static void
check_writes(bool ok[2][REGION_SIZE])
{
    for (int r = 0; r < 2; r++) {
        const uint8_t *now = r ? b_mem : a_mem;
        for (unsigned i = 0; i < REGION_SIZE; i++) {
            if (i % 1024 == 0 && !memcmp(now + i, snapshot[r] + i, 1024)) {
                i += 1023;      /* an unchanged kilobyte */
                continue;
            }
            if (now[i] != snapshot[r][i] && !ok[r][i]) {
                fprintf(stderr, "vq_enqueue wrote region %c byte %#x\n",
                        'A' + r, i);
                abort();
            }
        }
    }
}

static void
run_enqueue(struct vq *vq, uint32_t len)
{
    static bool ok[2][REGION_SIZE];
    struct vq_seg src[3] = {
        { frame, len / 3 }, { frame + len / 3, len / 3 },
        { frame + 2 * (len / 3), len - 2 * (len / 3) },
    };

    int n = vq_begin(vq);
    if (n < 0) {
        return;
    }
    allowed_bytes(vq, ok);
    memcpy(snapshot[0], a_mem, REGION_SIZE);
    memcpy(snapshot[1], b_mem, REGION_SIZE);
    for (int i = 0; i <= n; i++) {
        int err = vq_enqueue(vq, src, 3, len);
        if (i == 0) {
            /* One frame pops all its chains before writing anything, so
             * the pre-pass saw exactly those.  (Later frames may find
             * descriptors the first one overwrote: a guest may point a
             * buffer at its own tables.) */
            check_writes(ok);
        }
        if (err && err != -VQ_BAD_DESC && err != -VQ_BAD_ADDR) {
            break;
        }
    }
    vq_end(vq);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    uint8_t hdr[6] = { 0 };

    if (!ready) {
        setup();
        ready = true;
    }
    memcpy(hdr, data, size < 6 ? size : 6);
    const uint8_t *p = data + (size < 6 ? size : 6);
    size_t left = size < 6 ? 0 : size - 6;
    uint8_t flags = hdr[1];
    uint16_t ring = flags & 64 ? hdr[0] + 1u
                               : (uint16_t) (1u << (hdr[0] % 9));
    uint16_t base = (uint16_t) (hdr[2] | hdr[3] << 8);
    uint32_t len = (uint32_t) (hdr[4] | hdr[5] << 8) % MAX_FRAME;

    /* Lay out the guest's memory. */
    fill(&p, &left, a_mem, 16u * ring);
    memset(a_mem + 16u * ring, 0, OFF_AVAIL - 16u * ring);
    fill(&p, &left, a_mem + OFF_AVAIL, flags & 64 ? 4 : 6 + 2u * ring);
    memset(a_mem + OFF_USED, 0, OFF_DATA - OFF_USED);
    fill(&p, &left, a_mem + OFF_DATA, REGION_SIZE - OFF_DATA);
    fill(&p, &left, b_mem, REGION_SIZE);
    if (flags & 32) {
        struct vring_desc *d = (struct vring_desc *) a_mem;
        for (unsigned i = 0; i < ring; i++) {
            d[i].addr = A_GPA + d[i].addr % (2 * REGION_SIZE + 256);
        }
    }
    uint8_t saved[OFF_DATA];
    memcpy(saved, a_mem, OFF_DATA);

    struct vq vq;
    vq_init(&vq, ring, flags, base);
    run_pop(&vq, flags & 16);

    /* The same chains, now as receive buffers. */
    memcpy(a_mem, saved, OFF_DATA);
    vq_init(&vq, ring, flags, base);
    run_enqueue(&vq, len);
    return 0;
}
