/* vupktgen.h -- state shared by vupktgen's command line and report
 * (vupktgen.c) and its traffic engine (vupktgen-run.c): the frame layout,
 * the latency histogram, the per-port counters.  One thread owns all of it:
 * vupktgen has no other. */
#ifndef VU_VUPKTGEN_H
#define VU_VUPKTGEN_H 1

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "frontend.h"

#define PG_MAX_PORTS   16
#define PG_BATCH_MAX   256
#define PG_MAX_FLOWS   60000
#define PG_MIN_FRAME   62       /* headers (42) + magic, seq, tsc (20) */
#define PG_MAX_FRAME   9728     /* vuswitch's largest MTU plus headers */
#define PG_MAX_SAMPLES 3600

/* Frame layout offsets. */
#define PG_OFF_IP      14
#define PG_OFF_UDP     34
#define PG_OFF_MAGIC   42
#define PG_OFF_SEQ     46       /* u64: sender port << 56 | sequence */
#define PG_OFF_TSC     54
#define PG_SEQ_MASK    ((1ull << 56) - 1)

/* ---- Latency histogram: log-linear, 32 sub-buckets per power of two
 * (about 3 % resolution), exact below 64 cycles. ---- */

#define PG_HIST_SUB_BITS 5
#define PG_HIST_SUB      (1u << PG_HIST_SUB_BITS)
#define PG_HIST_BUCKETS  (PG_HIST_SUB * 60)

struct pg_hist {
    uint64_t counts[PG_HIST_BUCKETS];
    uint64_t n, sum, min, max;
};

static inline unsigned
pg_hist_index(uint64_t v)
{
    if (v < 2 * PG_HIST_SUB) {
        return (unsigned) v;
    }
    unsigned msb = 63 - (unsigned) __builtin_clzll(v);
    unsigned e = msb - PG_HIST_SUB_BITS;
    return PG_HIST_SUB * (e + 1) + (unsigned) ((v >> e) - PG_HIST_SUB);
}

static inline void
pg_hist_add(struct pg_hist *h, uint64_t v)
{
    unsigned i = pg_hist_index(v);
    h->counts[i < PG_HIST_BUCKETS ? i : PG_HIST_BUCKETS - 1]++;
    h->n++;
    h->sum += v;
    if (v < h->min) {
        h->min = v;
    }
    if (v > h->max) {
        h->max = v;
    }
}

/* ---- Configuration and state. ---- */

struct pg_flow {
    uint8_t hdr[PG_OFF_MAGIC];  /* Ethernet, IPv4, UDP; lengths and IP
                                 * checksum zero */
    uint32_t csum_base;         /* IP header sum without total length */
};

struct pg_port {
    /* Configuration. */
    const char *path;
    bool listen;
    bool tx, rx;
    unsigned idx;
    uint8_t mac[6];
    struct fe_dev *dev;
    uint16_t *rx_ids;           /* scratch for reposting, ring size */

    /* Transmit. */
    struct pg_flow *flows;
    unsigned n_flows, flow;
    unsigned imix_pos;
    uint64_t seq;
    uint64_t tx_frames, tx_bytes, tx_hellos;
    bool tx_done;

    /* Receive. */
    uint64_t rx_frames, rx_bytes;       /* ours, intact */
    uint64_t rx_corrupt, rx_reordered, rx_misdelivered;
    uint64_t rx_hellos, rx_other, rx_other_bytes;
    uint64_t hello_from[PG_MAX_PORTS];
    uint64_t next_seq[PG_MAX_PORTS];
    uint64_t rx_last_tsc;
};

struct pg_sample {
    double t;                   /* seconds since traffic started */
    double tx_pps, rx_pps;
};

struct pg {
    /* Options. */
    struct pg_port ports[PG_MAX_PORTS];
    unsigned n_ports;
    struct fe_options fe;
    unsigned size;              /* fixed frame size, 0 with imix */
    bool imix;
    unsigned n_flows;
    bool flow_macs;
    double rate;                /* frames/s over all tx ports, 0 = max */
    uint64_t count;             /* frames per tx port, 0 = unlimited */
    double duration;            /* seconds, 0 = unlimited */
    unsigned batch;
    bool json;
    uint8_t mac_base[6];
    int cpu;
    double interval;
    unsigned linger_ms;
    unsigned hello_timeout_ms;
    int timeout_ms;
    bool expect_no_loss;
    bool check_payload;

    /* Run. */
    uint64_t hz;
    uint32_t magic;
    uint8_t *pattern;           /* PG_MAX_FRAME bytes, by frame offset */
    uint8_t *scratch;           /* reassembly of mergeable rx frames */
    double frames_per_cycle;    /* per tx port, 0 = unlimited */
    uint64_t t0, t_tx_end, t_end;
    unsigned n_tx_active;
    struct pg_hist hist;
    uint64_t busy_cycles;       /* in loop iterations that moved frames */
    uint64_t busy_frames;       /* frames (or rx buffers) they moved */
    struct pg_sample samples[PG_MAX_SAMPLES];
    unsigned n_samples;
    bool hellos_ok;
};

/* Set by SIGINT/SIGTERM: stop sending, linger, report. */
extern volatile sig_atomic_t pg_stop_requested;

/* vupktgen-run.c: builds the header templates of tx port 'p' (one per
 * flow).  Returns 0 or -ENOMEM. */
int pg_build_flows(struct pg *, struct pg_port *p);

/* vupktgen-run.c: the hello phase, then the traffic and linger phases
 * (see vupktgen.c).  They fill pg->hellos_ok, the counters, the
 * histogram and the samples. */
void pg_hello_phase(struct pg *);
void pg_run(struct pg *);

#endif /* vupktgen.h */
