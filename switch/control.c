/* control.c -- the control thread.
 *
 * Everything that is not the datapath happens here, on one thread, in one
 * epoll loop: vhost-user messages (through each port's watches), the
 * control socket (vuswitchctl), SIGINT/SIGTERM (signalfd) and a 100 ms
 * timer (the MAC-aging clock, client reconnects, ports a worker found
 * broken).
 *
 * Placement.  Queue pair q of port p belongs to worker (p + q) mod
 * n_workers: that worker polls its receive side and is the only one that
 * transmits into it.  Whenever a port's state changes, republish() builds
 * a fresh configuration for every worker from the live queues and hands it
 * over with the ownership handshake (worker_reconfigure waits for the ack),
 * then frees the retired one.  A port being reconfigured is "quiesced":
 * left out of every configuration until its device reports the change done.
 *
 * NUMA.  On a machine with more than one node, placement knows each
 * worker's node, and every time a port reports a change the control thread
 * asks for the node of its guest memory (which changes only with the
 * memory table); when that node is new, the port's queues that sit on
 * workers of another node move to workers of this one, through the same
 * handshake as a rebalance (DPDK's vhost library likewise re-homes a
 * ring's metadata on SET_VRING_ADDR, OVS re-places a vhost port's rx
 * queues when its node changes).  On one node none of this happens.
 *
 * Captures (vuswitchctl capture PORT FILE).  A capture is a pcap port that
 * is not part of the switching fabric: it is not in ports[] (nothing is
 * placed on it, floods to it or is learnt on it), but it has a stats slot
 * of its own, named "capture:PORT", where `vuswitchctl stats` shows what
 * it was offered (tx_packets) and what it lost (drops.sink_full).  It has
 * one queue per worker: republish() gives every worker's configuration a
 * mirror entry for the captured port naming the worker's own queue, so
 * each of the capture's rings has exactly one producer.  Stopping it is
 * the handshake again: republish without the mirror, and only after every
 * worker acked, destroy the sink (its writer drains the rings, flushes
 * and closes the file).
 */
#include <config.h>
#include "control.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "ctl-server.h"
#include "fdb.h"
#include "json.h"
#include "log.h"
#include "placement.h"
#include "port.h"
#include "stats.h"
#include "topo.h"
#include "worker.h"

#define TICK_MS 100

/* A capture of one port's frames; see the top of the file. */
struct capture {
    struct port *sink;              /* pcap port outside the fabric, NULL */
    bool rx, tx;                    /* directions copied */
};

struct control {
    struct port_env env;            /* first: ports' callbacks cast back */
    int epfd;
    struct port_watch signal_watch;
    struct port_watch timer_watch;
    struct port_watch ctl_watch;
    struct ctl_server *ctl;
    struct stats_segment *stats;
    int stats_fd;
    struct fdb *fdb;
    uint32_t clock_sec;             /* read by workers (MAC aging) */
    unsigned n_workers;
    struct worker *workers[STATS_MAX_WORKERS];
    struct port *ports[STATS_MAX_PORTS];
    bool quiesced[STATS_MAX_PORTS];
    struct capture captures[STATS_MAX_PORTS];   /* by captured port id */
    struct placement placement;
    uint64_t load_seen[STATS_MAX_PORTS][STATS_MAX_QUEUES]; /* at last plan */
    bool numa;                      /* more than one node: follow memory */
    unsigned rebalance_ticks;       /* --rebalance-interval, in ticks */
    unsigned ticks;
    bool stopping;
};

static struct control *
control_of(struct port_env *env)
{
    return CONTAINER_OF(env, struct control, env);
}

/* ---- Placement and the handshake --------------------------------------- */


/* Adds queue pair 'q' of 'port' to the configurations it belongs in. */
static void
place_queue(struct control *c, struct port *port, unsigned q,
            struct worker_conf **confs)
{
    bool rx_live, rx_discard, tx_live;
    port->class->queue_state(port, q, &rx_live, &rx_discard, &tx_live);
    int owner = placement_owner(&c->placement, port->id, q);
    struct stats_port_info *info = &port->stats->info;
    if (owner == PLACE_NONE) {      /* moving between workers */
        rx_live = tx_live = false;
    }
    unsigned w = owner == PLACE_NONE ? 0 : (unsigned) owner;

    info->rx_owner[q] = rx_live ? (int16_t) w : -1;
    info->tx_owner[q] = tx_live ? (int16_t) w : -1;
    if (rx_live) {
        struct worker_rxq *rxq = &confs[w]->rxqs[confs[w]->n_rxqs++];
        rxq->port = port;
        rxq->qid = q;
        rxq->discard = rx_discard;
        rxq->stats = &port->stats->queues[q].rx;
    }
    struct worker_txq *txq = &confs[w]->txqs[port->id];
    if (tx_live && !txq->port) {
        txq->port = port;
        txq->qid = q;
        txq->stats = &port->stats->queues[q].tx;
        confs[w]->flood[confs[w]->n_flood++] = port->id;
    }
}

/* A worker that owns no transmit queue of a port hands its frames for that
 * port to one that does. */
static void
place_remotes(struct control *c, struct worker_conf **confs)
{
    for (unsigned p = 0; p < STATS_MAX_PORTS; p++) {
        int owner = -1;
        for (unsigned w = 0; w < c->n_workers && owner < 0; w++) {
            if (confs[w]->txqs[p].port) {
                owner = (int) w;
            }
        }
        for (unsigned w = 0; w < c->n_workers; w++) {
            confs[w]->remote[p] = -1;
            if (owner >= 0 && !confs[w]->txqs[p].port) {
                confs[w]->remote[p] = (int8_t) owner;
                confs[w]->flood[confs[w]->n_flood++] = p;
            }
        }
    }
}

/* Every worker copies the frames of a captured port into its own queue of
 * the capture's sink. */
static void
place_mirrors(struct control *c, struct worker_conf **confs)
{
    for (unsigned p = 0; p < STATS_MAX_PORTS; p++) {
        const struct capture *cap = &c->captures[p];
        if (!cap->sink) {
            continue;
        }
        for (unsigned w = 0; w < c->n_workers; w++) {
            confs[w]->mirrors[p] = (struct worker_mirror) {
                .sink = cap->sink,
                .qid = (uint16_t) w,
                .rx = cap->rx,
                .tx = cap->tx,
                .stats = &cap->sink->stats->queues[w].tx,
            };
        }
    }
}

static void
republish(struct control *c)
{
    struct worker_conf *confs[STATS_MAX_WORKERS];
    size_t size = sizeof(struct worker_conf)
                  + WORKER_MAX_RXQS * sizeof(struct worker_rxq);
    for (unsigned w = 0; w < c->n_workers; w++) {
        confs[w] = calloc(1, size);
        if (!confs[w]) {
            VLOG_ERR("out of memory building worker configurations");
            abort();
        }
    }
    for (unsigned p = 0; p < STATS_MAX_PORTS; p++) {
        struct port *port = c->ports[p];
        if (!port || c->quiesced[p]) {
            continue;
        }
        stats_port_info_begin(&port->stats->info);
        for (unsigned q = 0; q < port->n_queues; q++) {
            place_queue(c, port, q, confs);
        }
        stats_port_info_end(&port->stats->info);
    }
    place_remotes(c, confs);
    place_mirrors(c, confs);
    for (unsigned w = 0; w < c->n_workers; w++) {
        free(worker_reconfigure(c->workers[w], confs[w]));
    }
}

static void
env_quiesce(struct port_env *env, struct port *port)
{
    struct control *c = control_of(env);
    if (!c->quiesced[port->id]) {
        c->quiesced[port->id] = true;
        republish(c);
    }
}

static void follow_memory(struct control *, struct port *);

static void
env_changed(struct port_env *env, struct port *port)
{
    struct control *c = control_of(env);
    c->quiesced[port->id] = false;
    if (c->ports[port->id] == port) {
        if (c->numa) {
            follow_memory(c, port);
        }
        republish(c);
        port_publish_info(port);
    }
}

static void
env_learn(struct port_env *env, struct port *port, const uint8_t mac[6])
{
    struct control *c = control_of(env);
    fdb_learn(c->fdb, mac, port->id, READ_ONCE(c->clock_sec));
}

static void
env_watch(struct port_env *env, struct port_watch *w)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };
    if (epoll_ctl(control_of(env)->epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0) {
        VLOG_ERR("epoll_ctl(ADD, fd %d): %s", w->fd, strerror(errno));
    }
}

static void
env_unwatch(struct port_env *env, struct port_watch *w)
{
    epoll_ctl(control_of(env)->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

/* ---- Ports -------------------------------------------------------------- */

static struct port *
find_port(const struct control *c, const char *name)
{
    for (unsigned p = 0; p < STATS_MAX_PORTS; p++) {
        if (c->ports[p] && !strcmp(c->ports[p]->name, name)) {
            return c->ports[p];
        }
    }
    return NULL;
}

/* A stats slot that neither a port nor a capture holds, reset for a new
 * owner.  Returns its index, or -ENOSPC with a message in 'err'. */
static int
take_slot(struct control *c, char *err, size_t err_size)
{
    bool held[STATS_MAX_PORTS];
    for (unsigned p = 0; p < STATS_MAX_PORTS; p++) {
        held[p] = c->ports[p] != NULL;
    }
    for (unsigned p = 0; p < STATS_MAX_PORTS; p++) {
        if (c->captures[p].sink) {
            held[c->captures[p].sink->id] = true;
        }
    }
    unsigned id = 0;
    while (id < STATS_MAX_PORTS && held[id]) {
        id++;
    }
    if (id == STATS_MAX_PORTS) {
        snprintf(err, err_size, "too many ports and captures (at most %d)",
                 STATS_MAX_PORTS);
        return -ENOSPC;
    }
    struct stats_port *slot = &c->stats->ports[id];
    uint64_t generation = slot->info.generation;
    memset(slot, 0, sizeof *slot);
    slot->info.generation = generation + 1;
    return (int) id;
}

static int
add_port(struct control *c, const struct port_spec *spec, char *err,
         size_t err_size)
{
    if (find_port(c, spec->name)) {
        snprintf(err, err_size, "port %s already exists", spec->name);
        return -EEXIST;
    }
    int id = take_slot(c, err, err_size);
    if (id < 0) {
        return id;
    }

    struct port *port;
    int r = port_create(spec, (uint16_t) id, &c->env, &c->stats->ports[id],
                        &port, err, err_size);
    if (r) {
        return r;
    }
    c->ports[id] = port;
    c->quiesced[id] = true;         /* until start() is done */
    placement_add_port(&c->placement, (unsigned) id, port->n_queues);
    memset(c->load_seen[id], 0, sizeof c->load_seen[id]);
    r = port->class->start(port, err, err_size);
    if (r) {
        c->ports[id] = NULL;
        placement_remove_port(&c->placement, (unsigned) id);
        port->class->destroy(port);
        return r;
    }
    env_changed(&c->env, port);
    VLOG_INFO("port %s: added (%s)", spec->name, spec->path);
    return 0;
}

/* Marks the stats slot of a port or capture that is going away. */
static void
release_slot(struct port *port)
{
    struct stats_port_info *info = &port->stats->info;
    stats_port_info_begin(info);
    info->in_use = 0;
    stats_port_info_end(info);
}

/* ---- Captures ----------------------------------------------------------- */

/* Starts copying the frames of 'port' into a new pcap sink. */
static int
start_capture(struct control *c, struct port *port,
              const struct capture_spec *spec, char *err, size_t err_size)
{
    if (c->n_workers > STATS_MAX_QUEUES) {
        snprintf(err, err_size, "a capture needs a queue per worker: at most "
                 "%d workers", STATS_MAX_QUEUES);
        return -EOPNOTSUPP;
    }
    int id = take_slot(c, err, err_size);
    if (id < 0) {
        return id;
    }
    struct port_spec sink_spec = spec->sink;
    sink_spec.n_queues = c->n_workers;
    struct port *sink;
    int r = port_create(&sink_spec, (uint16_t) id, &c->env,
                        &c->stats->ports[id], &sink, err, err_size);
    if (r) {
        return r;
    }
    r = sink->class->start(sink, err, err_size);
    if (r) {
        sink->class->destroy(sink);
        return r;
    }

    port_publish_info(sink);
    struct stats_port_info *info = &sink->stats->info;
    stats_port_info_begin(info);
    for (unsigned q = 0; q < sink->n_queues; q++) {
        info->rx_owner[q] = -1;
        info->tx_owner[q] = (int16_t) q;
    }
    stats_port_info_end(info);

    c->captures[port->id] = (struct capture) {
        .sink = sink,
        .rx = spec->dirs & CAPTURE_RX,
        .tx = spec->dirs & CAPTURE_TX,
    };
    republish(c);
    return 0;
}

/* Stops the capture of 'port': once no worker copies into the sink any
 * more, reads its totals ('packets' offered, 'sink_full' lost; either may
 * be NULL) and destroys it, which flushes and closes the file. */
static void
stop_capture(struct control *c, struct port *port, uint64_t *packets,
             uint64_t *sink_full)
{
    struct capture *cap = &c->captures[port->id];
    struct port *sink = cap->sink;
    *cap = (struct capture) { NULL, false, false };
    republish(c);

    struct stats_dir rx, tx;
    stats_port_sum(sink->stats, &rx, &tx);
    if (packets) {
        *packets = tx.packets;
    }
    if (sink_full) {
        *sink_full = tx.drops[DROP_SINK_FULL];
    }
    VLOG_INFO("port %s: capture stopped: %" PRIu64 " frames offered, %"
              PRIu64 " lost (sink_full)", port->name, tx.packets,
              tx.drops[DROP_SINK_FULL]);
    release_slot(sink);
    sink->class->destroy(sink);
}

static void
remove_port(struct control *c, struct port *port)
{
    if (c->captures[port->id].sink) {
        stop_capture(c, port, NULL, NULL);
    }
    env_quiesce(&c->env, port);
    c->ports[port->id] = NULL;
    c->quiesced[port->id] = false;
    placement_remove_port(&c->placement, port->id);
    fdb_flush(c->fdb, port->id);
    release_slot(port);
    port->class->destroy(port);
}

/* ---- Moving queues between workers ------------------------------------- */

/* Gives each queue the owner 'plan' names.  Each moving queue goes in two
 * handshakes: first it is left out of all configurations (its old owner
 * lets go and acknowledges), then its new owner takes it.  So no ring ever
 * has two owners, and a queue's frames stay in order: the new owner starts
 * where the old one stopped.  Queues move one at a time, so that a port
 * with several queues always has one that some worker transmits into
 * (frames for a port that has none are dropped as port_down or
 * no_destination).  Returns how many queues moved. */
static unsigned
apply_plan(struct control *c, placement_plan_t plan)
{
    unsigned moved = 0;
    for (unsigned p = 0; p < STATS_MAX_PORTS; p++) {
        for (unsigned q = 0; q < c->placement.n_queues[p]; q++) {
            if (plan[p][q] == c->placement.owner[p][q]) {
                continue;
            }
            c->placement.owner[p][q] = PLACE_NONE;
            republish(c);
            c->placement.owner[p][q] = plan[p][q];
            republish(c);
            moved++;
        }
    }
    if (moved) {
        for (unsigned p = 0; p < STATS_MAX_PORTS; p++) {
            if (c->ports[p]) {
                port_publish_info(c->ports[p]);
            }
        }
    }
    return moved;
}

/* Moves the queues of 'port' to the workers on its guest memory's node if
 * that node is new (a memory table arrived) and they are elsewhere. */
static void
follow_memory(struct control *c, struct port *port)
{
    int node = port_mem_node(port);
    if (node == placement_port_node(&c->placement, port->id)) {
        return;
    }
    placement_plan_t plan;
    unsigned moves = placement_set_port_node(&c->placement, port->id, node,
                                             plan);
    if (node < 0) {
        return;
    }
    if (!placement_node_has_workers(&c->placement, node)) {
        VLOG_WARN("port %s: guest memory on NUMA node %d, where no worker "
                  "runs: its frames cross nodes", port->name, node);
    } else {
        VLOG_INFO("port %s: guest memory on NUMA node %d", port->name, node);
    }
    if (moves) {
        apply_plan(c, plan);
        VLOG_INFO("port %s: moved %u queue(s) to workers on node %d",
                  port->name, moves, node);
    }
}

/* Plans from the frames each queue carried (both directions) since the
 * last plan. */
static unsigned
rebalance(struct control *c)
{
    uint64_t load[STATS_MAX_PORTS][STATS_MAX_QUEUES];
    placement_plan_t plan;
    for (unsigned p = 0; p < STATS_MAX_PORTS; p++) {
        for (unsigned q = 0; q < c->placement.n_queues[p]; q++) {
            const struct stats_queue *sq = &c->stats->ports[p].queues[q];
            uint64_t now = READ_ONCE(sq->rx.packets) + READ_ONCE(sq->tx.packets);
            load[p][q] = now - c->load_seen[p][q];
            c->load_seen[p][q] = now;
        }
    }
    placement_plan(&c->placement, load, plan);
    unsigned moved = apply_plan(c, plan);
    if (moved) {
        VLOG_INFO("rebalance: moved %u queue(s) between workers", moved);
    }
    return moved;
}

/* ---- The control socket ------------------------------------------------- */

static int
ctl_add_port(const struct port_spec *spec, char *err, size_t err_size,
             void *aux)
{
    return add_port(aux, spec, err, err_size);
}

static int
ctl_del_port(const char *name, char *err, size_t err_size, void *aux)
{
    struct control *c = aux;
    struct port *port = find_port(c, name);
    if (!port) {
        snprintf(err, err_size, "no port named %s", name);
        return -ENOENT;
    }
    remove_port(c, port);
    VLOG_INFO("port %s: deleted", name);
    return 0;
}

static int
ctl_capture(const struct capture_spec *spec, char *err, size_t err_size,
            void *aux)
{
    struct control *c = aux;
    struct port *port = find_port(c, spec->port);
    if (!port) {
        snprintf(err, err_size, "no port named %s", spec->port);
        return -ENOENT;
    }
    const struct capture *cap = &c->captures[port->id];
    if (cap->sink) {
        snprintf(err, err_size, "port %s is already being captured (into "
                 "%s); stop that capture first", port->name, cap->sink->name);
        return -EEXIST;
    }
    int r = start_capture(c, port, spec, err, err_size);
    if (!r) {
        VLOG_INFO("port %s: capturing %s into %s%s%s%s", port->name,
                  spec->dirs == CAPTURE_BOTH ? "rx and tx"
                  : spec->dirs == CAPTURE_RX ? "rx" : "tx",
                  spec->sink.path, spec->sink.filter[0] ? " (filter '" : "",
                  spec->sink.filter, spec->sink.filter[0] ? "')" : "");
    }
    return r;
}

static int
ctl_capture_stop(const char *name, struct json *j, char *err,
                 size_t err_size, void *aux)
{
    struct control *c = aux;
    struct port *port = find_port(c, name);
    if (!port) {
        snprintf(err, err_size, "no port named %s", name);
        return -ENOENT;
    }
    if (!c->captures[port->id].sink) {
        snprintf(err, err_size, "port %s is not being captured", name);
        return -ENOENT;
    }
    uint64_t packets, sink_full;
    stop_capture(c, port, &packets, &sink_full);
    json_kv_u64(j, "packets", packets);
    json_kv_u64(j, "sink_full", sink_full);
    return 0;
}

static int
ctl_fdb_flush(const char *name, char *err, size_t err_size, void *aux)
{
    struct control *c = aux;
    if (!name) {
        fdb_flush(c->fdb, -1);
        return 0;
    }
    struct port *port = find_port(c, name);
    if (!port) {
        snprintf(err, err_size, "no port named %s", name);
        return -ENOENT;
    }
    fdb_flush(c->fdb, port->id);
    return 0;
}

struct fdb_json_ctx {
    struct control *c;
    struct json *j;
};

static void
fdb_json_entry(const uint8_t mac[6], uint16_t port_id, uint32_t age,
               void *aux)
{
    struct fdb_json_ctx *ctx = aux;
    const struct port *port = port_id < STATS_MAX_PORTS
                              ? ctx->c->ports[port_id] : NULL;
    char text[18];
    snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x",
             mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    json_object_begin(ctx->j);
    json_kv_string(ctx->j, "mac", text);
    json_kv_string(ctx->j, "port", port ? port->name : "?");
    json_kv_u64(ctx->j, "age", age);
    json_object_end(ctx->j);
}

static void
ctl_fdb_json(struct json *j, void *aux)
{
    struct fdb_json_ctx ctx = { aux, j };
    fdb_dump(ctx.c->fdb, READ_ONCE(ctx.c->clock_sec), fdb_json_entry, &ctx);
}

static int
ctl_stats_fd(void *aux)
{
    return stats_open_readonly(((struct control *) aux)->stats_fd);
}

static int
ctl_rebalance(struct json *j, char *err, size_t err_size, void *aux)
{
    json_kv_u64(j, "moved", rebalance(aux));
    return 0;
}

static int
ctl_move_queue(const char *name, unsigned q, unsigned w, char *err,
               size_t err_size, void *aux)
{
    struct control *c = aux;
    struct port *port = find_port(c, name);
    if (!port) {
        snprintf(err, err_size, "no port named %s", name);
        return -ENOENT;
    }
    if (q >= port->n_queues || w >= c->n_workers) {
        snprintf(err, err_size, "port %s has queues 0..%u and there are "
                 "workers 0..%u", name, port->n_queues - 1, c->n_workers - 1);
        return -EINVAL;
    }
    placement_plan_t plan;
    memcpy(plan, c->placement.owner, sizeof plan);
    plan[port->id][q] = (int8_t) w;
    if (apply_plan(c, plan)) {
        VLOG_INFO("port %s: queue %u moved to worker %u", name, q, w);
    }
    return 0;
}

static const struct ctl_ops ctl_ops = {
    .rebalance = ctl_rebalance,
    .move_queue = ctl_move_queue,
    .add_port = ctl_add_port,
    .del_port = ctl_del_port,
    .capture = ctl_capture,
    .capture_stop = ctl_capture_stop,
    .fdb_flush = ctl_fdb_flush,
    .fdb_json = ctl_fdb_json,
    .get_stats_fd = ctl_stats_fd,
};

/* ---- Loop --------------------------------------------------------------- */

static uint32_t
monotonic_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t) ts.tv_sec + 1;    /* never 0: 0 means "never" */
}

static void
on_timer(struct port_watch *w, uint32_t events)
{
    struct control *c = CONTAINER_OF(w, struct control, timer_watch);
    uint64_t expirations;
    if (read(w->fd, &expirations, sizeof expirations) < 0) {
        return;
    }
    WRITE_ONCE(c->clock_sec, monotonic_sec());
    if (c->rebalance_ticks && ++c->ticks % c->rebalance_ticks == 0) {
        rebalance(c);
    }
    for (unsigned p = 0; p < STATS_MAX_PORTS; p++) {
        if (c->ports[p] && c->ports[p]->class->tick) {
            c->ports[p]->class->tick(c->ports[p]);
        }
        struct port *sink = c->captures[p].sink;
        if (sink && sink->class->tick) {
            sink->class->tick(sink);
        }
    }
}

static void
on_signal(struct port_watch *w, uint32_t events)
{
    struct control *c = CONTAINER_OF(w, struct control, signal_watch);
    struct signalfd_siginfo si;
    if (read(w->fd, &si, sizeof si) == sizeof si) {
        VLOG_INFO("%s received, stopping", strsignal(si.ssi_signo));
        c->stopping = true;
    }
}

static void
on_ctl(struct port_watch *w, uint32_t events)
{
    struct control *c = CONTAINER_OF(w, struct control, ctl_watch);
    ctl_server_run_once(c->ctl);
}

int
control_run(struct control *c)
{
    while (!c->stopping) {
        struct epoll_event evs[16];
        int n = epoll_wait(c->epfd, evs, 16, -1);
        if (n < 0 && errno != EINTR) {
            VLOG_ERR("epoll_wait: %s", strerror(errno));
            return -errno;
        }
        for (int i = 0; i < n && !c->stopping; i++) {
            struct port_watch *w = evs[i].data.ptr;
            w->cb(w, evs[i].events);
        }
    }
    return 0;
}

/* ---- Setup and teardown ------------------------------------------------- */

static int
setup_loop_fds(struct control *c)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    c->signal_watch.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    c->signal_watch.cb = on_signal;

    c->timer_watch.fd = timerfd_create(CLOCK_MONOTONIC,
                                       TFD_CLOEXEC | TFD_NONBLOCK);
    c->timer_watch.cb = on_timer;
    struct itimerspec its = {
        .it_interval = { 0, TICK_MS * 1000000L },
        .it_value = { 0, TICK_MS * 1000000L },
    };
    if (c->signal_watch.fd < 0 || c->timer_watch.fd < 0
        || timerfd_settime(c->timer_watch.fd, 0, &its, NULL) < 0) {
        return -errno;
    }
    env_watch(&c->env, &c->signal_watch);
    env_watch(&c->env, &c->timer_watch);
    return 0;
}

static int
last_online_cpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int) n - 1 : 0;
}

static int
start_workers(struct control *c, const struct options *opts, char *err,
              size_t err_size)
{
    int default_cpu = last_online_cpu();
    c->n_workers = opts->n_cores ? opts->n_cores : 1;
    c->stats->hdr.n_workers = c->n_workers;
    for (unsigned i = 0; i < c->n_workers; i++) {
        int cpu = opts->n_cores ? opts->cores[i] : default_cpu;
        int r = worker_create(i, cpu, c->fdb, &c->clock_sec,
                              &c->stats->workers[i], &c->workers[i]);
        if (r) {
            snprintf(err, err_size, "cannot start worker on cpu %d: %s", cpu,
                     strerror(-r));
            c->n_workers = i;
            return r;
        }
    }
    int r = worker_connect_all(c->workers, c->n_workers);
    if (r) {
        snprintf(err, err_size, "cannot create the rings between workers: %s",
                 strerror(-r));
    }
    return r;
}

/* Keeps the control thread off the workers' CPUs when there is another. */
static void
pin_control_thread(const struct control *c)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    for (long cpu = 0; cpu < n && cpu < CPU_SETSIZE; cpu++) {
        CPU_SET(cpu, &set);
    }
    for (unsigned w = 0; w < c->n_workers; w++) {
        CPU_CLR(worker_cpu(c->workers[w]), &set);
    }
    if (CPU_COUNT(&set)) {
        pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    }
}

/* Tells placement each worker's node when there is more than one node;
 * either way, logs the topology once. */
static void
setup_numa(struct control *c)
{
    int n_nodes = topo_n_nodes();
    if (n_nodes <= 1) {
        VLOG_INFO("NUMA: one node, queue placement ignores memory locality");
        return;
    }
    int nodes[STATS_MAX_WORKERS];
    for (unsigned w = 0; w < c->n_workers; w++) {
        nodes[w] = topo_node_of_cpu(worker_cpu(c->workers[w]));
        VLOG_INFO("NUMA: worker %u on cpu %d, node %d", w,
                  worker_cpu(c->workers[w]), nodes[w]);
    }
    placement_set_worker_nodes(&c->placement, nodes);
    c->numa = true;
    VLOG_INFO("NUMA: %d nodes, a port's queues prefer workers on the node "
              "of its guest memory", n_nodes);
}

int
control_create(const struct options *opts, struct control **cp, char *err,
               size_t err_size)
{
    struct control *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    c->env = (struct port_env) {
        env_watch, env_unwatch, env_quiesce, env_changed, env_learn,
    };
    c->clock_sec = monotonic_sec();
    c->stats_fd = -1;
    c->epfd = epoll_create1(EPOLL_CLOEXEC);

    int r = stats_create(&c->stats, &c->stats_fd);
    if (r) {
        snprintf(err, err_size, "cannot create the stats segment: %s",
                 strerror(-r));
        goto out_destroy;
    }
    c->fdb = fdb_create(8192, opts->fdb_aging);
    if (!c->fdb || c->epfd < 0 || (r = setup_loop_fds(c)) != 0) {
        snprintf(err, err_size, "cannot set up the control thread: %s",
                 strerror(r ? -r : ENOMEM));
        goto out_destroy;
    }
    r = ctl_server_create(opts->control_path, &ctl_ops, c, &c->ctl, err,
                          err_size);
    if (r) {
        goto out_destroy;
    }
    c->ctl_watch.fd = ctl_server_fd(c->ctl);
    c->ctl_watch.cb = on_ctl;
    env_watch(&c->env, &c->ctl_watch);

    r = start_workers(c, opts, err, err_size);
    if (r) {
        goto out_destroy;
    }
    pin_control_thread(c);
    placement_init(&c->placement, c->n_workers);
    setup_numa(c);
    c->rebalance_ticks = opts->rebalance_interval * (1000 / TICK_MS);
    for (unsigned i = 0; i < opts->n_ports; i++) {
        r = add_port(c, &opts->ports[i], err, err_size);
        if (r) {
            goto out_destroy;
        }
    }
    *cp = c;
    return 0;

out_destroy:
    control_destroy(c);
    return r ? r : -ENOMEM;
}

void
control_destroy(struct control *c)
{
    if (!c) {
        return;
    }
    for (unsigned p = 0; p < STATS_MAX_PORTS; p++) {
        if (c->ports[p]) {
            remove_port(c, c->ports[p]);
        }
    }
    for (unsigned w = 0; w < c->n_workers; w++) {
        worker_stop(c->workers[w]);     /* all, before any ring is freed */
    }
    for (unsigned w = 0; w < c->n_workers; w++) {
        worker_destroy(c->workers[w]);
    }
    ctl_server_destroy(c->ctl);
    fdb_destroy(c->fdb);
    if (c->signal_watch.fd > 0) {
        close(c->signal_watch.fd);
    }
    if (c->timer_watch.fd > 0) {
        close(c->timer_watch.fd);
    }
    if (c->epfd >= 0) {
        close(c->epfd);
    }
    if (c->stats_fd >= 0) {
        close(c->stats_fd);
    }
    free(c);
}
