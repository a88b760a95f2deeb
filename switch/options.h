/* options.h -- the daemon's command line and the port SPEC syntax shared
 * with `vuswitchctl add-port`.
 *
 *   vuswitch [--cores LIST] [--control PATH] [--log-level LEVEL]
 *            [--fdb-aging SECONDS] [--rebalance-interval SECONDS]
 *            --port SPEC...
 *   SPEC  NAME=vhost:SOCKET_PATH[,client][,queues=N][,mtu=N]
 *         NAME=tap:IFNAME[,mtu=N]
 *         NAME=pcap:FILE[,filter=BPF][,snaplen=N]
 *
 * Pure parsing: no sockets are opened and nothing is checked on disk here.
 * Any thread (the control thread parses add-port SPECs). */
#ifndef VU_OPTIONS_H
#define VU_OPTIONS_H 1

#include <stdbool.h>
#include <stddef.h>

#include "log.h"
#include "stats.h"

#define VU_DEFAULT_CONTROL "/run/vuswitch/control.sock"
#define VU_DEFAULT_MTU 1500
#define VU_MAX_MTU 9710         /* like OVS-DPDK's largest jumbo MTU */
#define VU_PATH_SIZE 108        /* sun_path */

enum port_type { PORT_VHOST, PORT_TAP, PORT_PCAP };

struct port_spec {
    char name[STATS_NAME_SIZE];     /* [A-Za-z0-9_.-]{1,31} */
    enum port_type type;
    char path[VU_PATH_SIZE];        /* socket, interface or file */
    bool client;                    /* vhost: connect instead of listen */
    unsigned n_queues;              /* vhost: queue pairs, 1..16 */
    bool no_packed;                 /* vhost: packed=off, split rings only */
    unsigned mtu;                   /* 68..VU_MAX_MTU */
    char filter[256];               /* pcap: BPF expression, "" = all */
    unsigned snaplen;               /* pcap: bytes kept per frame */
};

struct options {
    unsigned n_cores;
    int cores[STATS_MAX_WORKERS];   /* CPU of each worker */
    char control_path[VU_PATH_SIZE];
    enum vlog_level log_level;
    unsigned fdb_aging;             /* seconds */
    unsigned rebalance_interval;    /* seconds, 0: only on request */
    unsigned n_ports;
    struct port_spec ports[STATS_MAX_PORTS];
};

/* Parses argv.  Returns 0 on success; 1 if --help or --version was given
 * and printed (the caller exits 0); -EINVAL with one clear line (no
 * newline) in 'err' otherwise.  Defaults: one worker on the last online
 * CPU (n_cores == 0 means "pick it"), VU_DEFAULT_CONTROL, info, 300 s.
 * Rejects duplicate port names and duplicate paths. */
int options_parse(int argc, char *argv[], struct options *,
                  char *err, size_t err_size);

/* Parses one SPEC.  Returns 0 or -EINVAL with a message in 'err'. */
int port_spec_parse(const char *spec, struct port_spec *,
                    char *err, size_t err_size);

/* A runtime capture of a port's frames into a pcap file: the control
 * socket's request "capture PORT DIRECTION FILE[,filter=BPF][,snaplen=N]"
 * (what `vuswitchctl capture` sends), DIRECTION rx, tx or both. */
enum capture_dirs { CAPTURE_RX = 1, CAPTURE_TX = 2, CAPTURE_BOTH = 3 };
#define CAPTURE_PREFIX "capture:"

struct capture_spec {
    char port[STATS_NAME_SIZE];     /* the port whose frames are copied */
    unsigned dirs;                  /* CAPTURE_RX | CAPTURE_TX */
    struct port_spec sink;          /* type pcap: FILE (an absolute path),
                                       filter, snaplen; named
                                       "capture:PORT", cut to fit */
};

/* Parses the arguments of a capture request (after "capture ").  Returns
 * 0 or -EINVAL with a message in 'err'. */
int capture_spec_parse(const char *, struct capture_spec *,
                       char *err, size_t err_size);

/* Parses a CPU list like "1", "1-3", "2,4", "0,2-3" into 'cpus' (at most
 * 'max', no duplicates, each < 1024).  Returns the count or -EINVAL. */
int cpu_list_parse(const char *, int *cpus, unsigned max);

void options_usage(void);

#endif /* options.h */
