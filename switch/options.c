/* options.c -- the daemon's command line and the port SPEC syntax (see
 * options.h).  Called by main() once at start and by the control server for
 * every `add-port SPEC`, so every message is one line that makes sense both
 * on a terminal and in a JSON error reply.
 *
 * SPEC options are separated by commas, and so a value cannot contain one.
 * That is no loss for BPF filters: pcap-filter(7) syntax has no commas, but
 * it does have spaces, which are kept as they are ("filter=tcp port 80"). */
#include <config.h>
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdb.h"
#include "util.h"

#define MAX_QUEUES STATS_MAX_QUEUES
#define MIN_MTU 68
#define MAX_CPU 1024
#define DEFAULT_SNAPLEN 262144  /* tcpdump's default: whole frames */
#define MAX_FDB_AGING (7u * 24 * 3600)

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t err_size, const char *fmt, ...)
{
    if (err && err_size) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(err, err_size, fmt, args);
        va_end(args);
    }
    return -EINVAL;
}

/* Parses a whole decimal string into [min, max]; no sign, no junk. */
static int
parse_uint(const char *s, unsigned long min, unsigned long max,
           unsigned long *out)
{
    if (*s < '0' || *s > '9') {
        return -EINVAL;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < min || v > max) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

/* ---- CPU lists ---------------------------------------------------------- */

static int
parse_cpu(const char *s, const char **endp)
{
    if (*s < '0' || *s > '9') {
        return -EINVAL;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || v >= MAX_CPU) {
        return -EINVAL;
    }
    *endp = end;
    return (int) v;
}

static int
add_cpu(int *cpus, unsigned *n, unsigned max, int cpu)
{
    for (unsigned i = 0; i < *n; i++) {
        if (cpus[i] == cpu) {
            return -EINVAL;
        }
    }
    if (*n >= max) {
        return -EINVAL;
    }
    cpus[(*n)++] = cpu;
    return 0;
}

int
cpu_list_parse(const char *s, int *cpus, unsigned max)
{
    unsigned n = 0;
    for (;;) {
        int lo = parse_cpu(s, &s), hi = lo;
        if (lo < 0) {
            return -EINVAL;
        }
        if (*s == '-') {
            hi = parse_cpu(s + 1, &s);
            if (hi < lo) {
                return -EINVAL;
            }
        }
        for (int cpu = lo; cpu <= hi; cpu++) {
            if (add_cpu(cpus, &n, max, cpu)) {
                return -EINVAL;
            }
        }
        if (*s == '\0') {
            return (int) n;
        }
        if (*s++ != ',') {
            return -EINVAL;
        }
    }
}

/* ---- Port SPECs --------------------------------------------------------- */

static bool
name_is_valid(const char *name, size_t len)
{
    if (len == 0 || len >= STATS_NAME_SIZE) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '.'
              || c == '-')) {
            return false;
        }
    }
    return true;
}

static const char *
type_options(enum port_type type)
{
    switch (type) {
    case PORT_VHOST: return "client, queues=N, mtu=N, packed=on|off";
    case PORT_TAP:   return "mtu=N";
    case PORT_PCAP:  return "filter=BPF, snaplen=N";
    }
    return "";
}

static const char *
type_name(enum port_type type)
{
    return type == PORT_VHOST ? "vhost" : type == PORT_TAP ? "tap" : "pcap";
}

/* Checks the path (socket, interface or file) of 'ps', already copied. */
static int
check_path(const struct port_spec *ps, size_t len, char *err, size_t es)
{
    if (len == 0) {
        return fail(err, es, "port '%s': empty %s", ps->name,
                    ps->type == PORT_TAP ? "interface name" : "path");
    }
    if (ps->type == PORT_VHOST && len >= VU_PATH_SIZE) {
        return fail(err, es, "port '%s': socket path too long (%zu bytes, "
                    "at most %d for a UNIX socket)", ps->name, len,
                    VU_PATH_SIZE - 1);
    }
    if (ps->type == PORT_TAP && len >= IFNAMSIZ) {
        return fail(err, es, "port '%s': interface name too long (%zu "
                    "bytes, at most %d)", ps->name, len, IFNAMSIZ - 1);
    }
    if (ps->type == PORT_PCAP && len >= VU_PATH_SIZE) {
        return fail(err, es, "port '%s': file path too long (%zu bytes, "
                    "at most %d)", ps->name, len, VU_PATH_SIZE - 1);
    }
    if (ps->type == PORT_TAP && (strchr(ps->path, '/') || ps->path[0] == '.'
                                 || strpbrk(ps->path, " \t\n:"))) {
        return fail(err, es, "port '%s': '%s' is not a valid interface name",
                    ps->name, ps->path);
    }
    return 0;
}

enum spec_key { KEY_CLIENT, KEY_QUEUES, KEY_MTU, KEY_PACKED, KEY_FILTER,
                KEY_SNAPLEN, N_KEYS };

/* Which port types take which option. */
static const struct {
    const char *name;
    unsigned types;             /* 1 << enum port_type */
} spec_keys[N_KEYS] = {
    [KEY_CLIENT] = { "client", 1u << PORT_VHOST },
    [KEY_QUEUES] = { "queues", 1u << PORT_VHOST },
    [KEY_MTU] = { "mtu", 1u << PORT_VHOST | 1u << PORT_TAP },
    [KEY_PACKED] = { "packed", 1u << PORT_VHOST },
    [KEY_FILTER] = { "filter", 1u << PORT_PCAP },
    [KEY_SNAPLEN] = { "snaplen", 1u << PORT_PCAP },
};

/* Stores 'value' (not NULL) of option 'key' into 'ps'. */
static int
set_option_value(struct port_spec *ps, enum spec_key key, const char *value,
                 char *err, size_t es)
{
    unsigned long v;
    switch (key) {
    case KEY_QUEUES:
        if (parse_uint(value, 1, MAX_QUEUES, &v)) {
            return fail(err, es, "port '%s': queues=%s out of range "
                        "(1..%d)", ps->name, value, MAX_QUEUES);
        }
        ps->n_queues = v;
        return 0;
    case KEY_MTU:
        if (parse_uint(value, MIN_MTU, VU_MAX_MTU, &v)) {
            return fail(err, es, "port '%s': mtu=%s out of range (%d..%d)",
                        ps->name, value, MIN_MTU, VU_MAX_MTU);
        }
        ps->mtu = v;
        return 0;
    case KEY_PACKED:
        if (strcmp(value, "on") && strcmp(value, "off")) {
            return fail(err, es, "port '%s': packed=%s: expected on or off",
                        ps->name, value);
        }
        ps->no_packed = !strcmp(value, "off");
        return 0;
    case KEY_FILTER:
        if (strlen(value) >= sizeof ps->filter) {
            return fail(err, es, "port '%s': filter too long (at most %zu "
                        "bytes)", ps->name, sizeof ps->filter - 1);
        }
        strcpy(ps->filter, value);
        return 0;
    case KEY_SNAPLEN:
        if (parse_uint(value, 1, DEFAULT_SNAPLEN, &v)) {
            return fail(err, es, "port '%s': snaplen=%s out of range "
                        "(1..%d)", ps->name, value, DEFAULT_SNAPLEN);
        }
        ps->snaplen = v;
        return 0;
    default:
        return fail(err, es, "port '%s': option '%s' takes no value",
                    ps->name, spec_keys[key].name);
    }
}

/* Parses one "KEY[=VALUE]" option of a SPEC into 'ps'.  'seen' is a bit
 * per key so that a key given twice is an error, not a silent override. */
static int
parse_one_option(struct port_spec *ps, char *opt, unsigned *seen,
                 char *err, size_t es)
{
    char *value = strchr(opt, '=');
    if (value) {
        *value++ = '\0';
    }

    enum spec_key k;
    for (k = 0; k < N_KEYS; k++) {
        if (!strcmp(opt, spec_keys[k].name)
            && (spec_keys[k].types & (1u << ps->type))) {
            break;
        }
    }
    if (k == N_KEYS) {
        return fail(err, es, "port '%s': unknown option '%s' for %s "
                    "(expected %s)", ps->name, opt, type_name(ps->type),
                    type_options(ps->type));
    }
    if (*seen & (1u << k)) {
        return fail(err, es, "port '%s': option '%s' given twice",
                    ps->name, opt);
    }
    *seen |= 1u << k;

    if (k == KEY_CLIENT && !value) {
        ps->client = true;
        return 0;
    }
    if (!value) {
        return fail(err, es, "port '%s': option '%s' needs a value "
                    "(%s=...)", ps->name, opt, opt);
    }
    return set_option_value(ps, k, value, err, es);
}

/* Splits "PATH[,OPT...]" (modified in place) and fills 'ps'. */
static int
parse_target(struct port_spec *ps, char *target, char *err, size_t es)
{
    char *opts = strchr(target, ',');
    if (opts) {
        *opts++ = '\0';
    }
    size_t len = strlen(target);
    if (len < sizeof ps->path) {
        memcpy(ps->path, target, len + 1);
    }
    int error = check_path(ps, len, err, es);
    if (error) {
        return error;
    }

    unsigned seen = 0;
    while (opts) {
        char *opt = opts;
        opts = strchr(opts, ',');
        if (opts) {
            *opts++ = '\0';
        }
        if (*opt == '\0') {
            return fail(err, es, "port '%s': empty option (stray comma?)",
                        ps->name);
        }
        error = parse_one_option(ps, opt, &seen, err, es);
        if (error) {
            return error;
        }
    }
    return 0;
}

static int
parse_type(const char *type, enum port_type *out)
{
    static const char *const names[] = { "vhost", "tap", "pcap" };
    static const enum port_type types[] = { PORT_VHOST, PORT_TAP, PORT_PCAP };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (!strcmp(type, names[i])) {
            *out = types[i];
            return 0;
        }
    }
    return -EINVAL;
}

int
port_spec_parse(const char *spec, struct port_spec *out, char *err,
                size_t es)
{
    char buf[1024];
    if (strlen(spec) >= sizeof buf) {
        return fail(err, es, "port spec too long (at most %zu bytes)",
                    sizeof buf - 1);
    }
    strcpy(buf, spec);

    char *eq = strchr(buf, '=');
    if (!eq) {
        return fail(err, es, "port spec '%s': missing '=' (expected "
                    "NAME=TYPE:PATH[,OPTION...])", spec);
    }
    *eq = '\0';
    struct port_spec ps = {
        .type = PORT_VHOST,
        .n_queues = 1,
        .mtu = VU_DEFAULT_MTU,
        .snaplen = DEFAULT_SNAPLEN,
    };
    if (!name_is_valid(buf, eq - buf)) {
        return fail(err, es, "port spec '%s': bad port name '%s' (1 to %d "
                    "of A-Z a-z 0-9 _ . -)", spec, buf, STATS_NAME_SIZE - 1);
    }
    strcpy(ps.name, buf);

    char *type = eq + 1, *colon = strchr(type, ':');
    if (!colon) {
        return fail(err, es, "port '%s': missing ':' after the type "
                    "(expected NAME=TYPE:PATH, TYPE vhost, tap or pcap)",
                    ps.name);
    }
    *colon = '\0';
    if (parse_type(type, &ps.type)) {
        return fail(err, es, "port '%s': unknown type '%s' (expected vhost, "
                    "tap or pcap)", ps.name, type);
    }

    int error = parse_target(&ps, colon + 1, err, es);
    if (!error) {
        *out = ps;
    }
    return error;
}

/* ---- Capture requests --------------------------------------------------- */

static int
parse_direction(const char *s, unsigned *dirs)
{
    static const char *const names[] = { "rx", "tx", "both" };
    static const unsigned values[] = { CAPTURE_RX, CAPTURE_TX, CAPTURE_BOTH };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (!strcmp(s, names[i])) {
            *dirs = values[i];
            return 0;
        }
    }
    return -EINVAL;
}

/* Cuts the first word (up to a space or tab) off '*s' in place. */
static char *
next_word(char **s)
{
    char *word = *s + strspn(*s, " \t");
    char *end = word + strcspn(word, " \t");
    *s = end + (*end ? 1 : 0);
    *end = '\0';
    return word;
}

int
capture_spec_parse(const char *line, struct capture_spec *out, char *err,
                   size_t es)
{
    char buf[1024];
    if (strlen(line) >= sizeof buf) {
        return fail(err, es, "capture request too long (at most %zu bytes)",
                    sizeof buf - 1);
    }
    strcpy(buf, line);
    char *rest = buf;
    const char *port = next_word(&rest);
    const char *dir = next_word(&rest);
    char *target = rest + strspn(rest, " \t");

    struct capture_spec cs = {
        .sink = {
            .type = PORT_PCAP,
            .n_queues = 1,
            .mtu = VU_MAX_MTU,
            .snaplen = DEFAULT_SNAPLEN,
        },
    };
    if (!name_is_valid(port, strlen(port))) {
        return fail(err, es, "capture: bad port name '%s' (1 to %d of A-Z "
                    "a-z 0-9 _ . -)", port, STATS_NAME_SIZE - 1);
    }
    strcpy(cs.port, port);
    if (parse_direction(dir, &cs.dirs)) {
        return fail(err, es, "capture of %s: bad direction '%s' (expected "
                    "rx, tx or both)", port, dir);
    }
    /* "capture:PORT", cut to fit: a name for the stats, never looked up
     * by the switch. */
    size_t len = MIN(strlen(CAPTURE_PREFIX) + strlen(port),
                     sizeof cs.sink.name - 1);
    memcpy(cs.sink.name, CAPTURE_PREFIX, strlen(CAPTURE_PREFIX));
    memcpy(cs.sink.name + strlen(CAPTURE_PREFIX), port,
           len - strlen(CAPTURE_PREFIX));
    cs.sink.name[len] = '\0';
    if (target[0] != '/') {
        return fail(err, es, "capture of %s: '%s' is not an absolute path "
                    "(the daemon does not share your working directory)",
                    port, target);
    }
    int error = parse_target(&cs.sink, target, err, es);
    if (!error) {
        *out = cs;
    }
    return error;
}

/* ---- The command line --------------------------------------------------- */

void
options_usage(void)
{
    printf(
"Usage: vuswitch [OPTION]... --port SPEC [--port SPEC]...\n"
"A poll-mode vhost-user-net switch: VMs, a TAP port and pcap sinks.\n"
"\n"
"Options:\n"
"  --port SPEC          add a port (repeat for more ports, at most %d)\n"
"  --cores LIST         pin one worker per CPU in LIST, e.g. 1, 1-3, 2,4\n"
"                       (default: one worker on the last online CPU)\n"
"  --control PATH       control socket for vuswitchctl\n"
"                       (default: %s)\n"
"  --log-level LEVEL    err, warn, info or debug (default: info)\n"
"  --fdb-aging SECONDS  forget MAC addresses not seen for that long\n"
"                       (default: %d)\n"
"  --rebalance-interval SECONDS\n"
"                       re-place queues on workers by load that often\n"
"                       (default: 0, never; see vuswitchctl rebalance)\n"
"  --help               print this help and exit\n"
"  --version            print the version and exit\n"
"\n"
"Port SPECs (options after commas; values cannot contain commas):\n"
"  NAME=vhost:SOCKET_PATH[,client][,queues=N][,mtu=N][,packed=on|off]\n"
"      vhost-user server socket (QEMU connects to it), or with 'client'\n"
"      connect to a front end that listens; N queue pairs (1..%d);\n"
"      packed=off offers split virtqueues only (default: on, both)\n"
"  NAME=tap:IFNAME[,mtu=N]\n"
"      the host kernel's stack through a TAP interface\n"
"  NAME=pcap:FILE[,filter=BPF][,snaplen=N]\n"
"      write frames matching the BPF expression to a capture file\n"
"  NAME is 1 to %d characters of A-Z a-z 0-9 _ . -; MTU is %d..%d\n"
"      (default %d).\n"
"\n"
"Examples:\n"
"  vuswitch --cores 2 --port vm1=vhost:/tmp/vm1.sock \\\n"
"           --port vm2=vhost:/tmp/vm2.sock,queues=2\n"
"  vuswitch --cores 1-2 --port a=vhost:/run/a.sock,client,mtu=9000 \\\n"
"           --port host=tap:vu0 \\\n"
"           --port 'cap=pcap:/tmp/cap.pcap,filter=tcp port 80'\n",
           STATS_MAX_PORTS, VU_DEFAULT_CONTROL, FDB_DEFAULT_AGING,
           MAX_QUEUES, STATS_NAME_SIZE - 1, MIN_MTU, VU_MAX_MTU,
           VU_DEFAULT_MTU);
}

/* Two ports may not share a name, nor a socket or file path, nor a TAP
 * interface (files and interfaces live in different name spaces). */
static int
check_duplicates(const struct options *o, const struct port_spec *ps,
                 char *err, size_t es)
{
    for (unsigned i = 0; i < o->n_ports; i++) {
        const struct port_spec *p = &o->ports[i];
        if (!strcmp(p->name, ps->name)) {
            return fail(err, es, "duplicate port name '%s'", ps->name);
        }
        if ((p->type == PORT_TAP) == (ps->type == PORT_TAP)
            && !strcmp(p->path, ps->path)) {
            return fail(err, es, "ports '%s' and '%s': duplicate %s '%s'",
                        p->name, ps->name,
                        ps->type == PORT_TAP ? "interface" : "path",
                        ps->path);
        }
    }
    return 0;
}

static int
add_port(struct options *o, const char *spec, char *err, size_t es)
{
    struct port_spec ps;
    if (o->n_ports >= STATS_MAX_PORTS) {
        return fail(err, es, "too many ports (at most %d)", STATS_MAX_PORTS);
    }
    int error = port_spec_parse(spec, &ps, err, es);
    if (!error) {
        error = check_duplicates(o, &ps, err, es);
    }
    if (!error) {
        o->ports[o->n_ports++] = ps;
    }
    return error;
}

enum { OPT_CORES = 256, OPT_CONTROL, OPT_LOG_LEVEL, OPT_FDB_AGING, OPT_PORT,
       OPT_REBALANCE };

/* Applies one option from getopt_long(); 'arg' is its argument. */
static int
apply_option(struct options *o, int c, const char *arg, char *err, size_t es)
{
    unsigned long v;
    int n;
    switch (c) {
    case OPT_CORES:
        n = cpu_list_parse(arg, o->cores, STATS_MAX_WORKERS);
        if (n <= 0) {
            return fail(err, es, "bad core list '%s' (expected CPU numbers "
                        "below %d like 1, 1-3 or 2,4, no repeats, at most "
                        "%d)", arg, MAX_CPU, STATS_MAX_WORKERS);
        }
        o->n_cores = n;
        return 0;
    case OPT_CONTROL:
        if (!*arg || strlen(arg) >= sizeof o->control_path) {
            return fail(err, es, "bad control socket path '%s' (1 to %zu "
                        "bytes for a UNIX socket)", arg,
                        sizeof o->control_path - 1);
        }
        strcpy(o->control_path, arg);
        return 0;
    case OPT_LOG_LEVEL:
        if (vlog_level_from_string(arg, &o->log_level)) {
            return fail(err, es, "bad log level '%s' (expected err, warn, "
                        "info or debug)", arg);
        }
        return 0;
    case OPT_FDB_AGING:
        if (parse_uint(arg, 1, MAX_FDB_AGING, &v)) {
            return fail(err, es, "bad --fdb-aging '%s' (expected seconds, "
                        "1..%u)", arg, MAX_FDB_AGING);
        }
        o->fdb_aging = v;
        return 0;
    case OPT_REBALANCE:
        if (parse_uint(arg, 0, 86400, &v)) {
            return fail(err, es, "bad --rebalance-interval '%s' (expected "
                        "seconds, 0..86400)", arg);
        }
        o->rebalance_interval = v;
        return 0;
    default:
        return add_port(o, arg, err, es);
    }
}

static void
options_init(struct options *o)
{
    memset(o, 0, sizeof *o);
    strcpy(o->control_path, VU_DEFAULT_CONTROL);
    o->log_level = VLL_INFO;
    o->fdb_aging = FDB_DEFAULT_AGING;
}

int
options_parse(int argc, char *argv[], struct options *o, char *err,
              size_t es)
{
    static const struct option longopts[] = {
        { "cores",     required_argument, NULL, OPT_CORES },
        { "control",   required_argument, NULL, OPT_CONTROL },
        { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
        { "fdb-aging", required_argument, NULL, OPT_FDB_AGING },
        { "rebalance-interval", required_argument, NULL, OPT_REBALANCE },
        { "port",      required_argument, NULL, OPT_PORT },
        { "help",      no_argument,       NULL, 'h' },
        { "version",   no_argument,       NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };

    options_init(o);
    optind = 0;                 /* glibc: full rescan, so tests can reparse */
    opterr = 0;                 /* we report errors ourselves, in 'err' */
    int c;
    while ((c = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
        const char *opt = argv[optind - 1];
        int error;
        switch (c) {
        case 'h':
            options_usage();
            return 1;
        case 'V':
            printf("vuswitch %s\n", PACKAGE_VERSION);
            return 1;
        case ':':
            return fail(err, es, "option '%s' needs an argument (see "
                        "--help)", opt);
        case '?':
            if (optopt > 0 && optopt < 256) {   /* a short option */
                return fail(err, es, "unknown option '-%c' (see --help)",
                            optopt);
            }
            return fail(err, es, "unknown option '%s' (see --help)", opt);
        default:
            error = apply_option(o, c, optarg, err, es);
            if (error) {
                return error;
            }
        }
    }
    if (optind < argc) {
        return fail(err, es, "unexpected argument '%s' (ports are given "
                    "with --port SPEC)", argv[optind]);
    }
    if (o->n_ports == 0) {
        return fail(err, es, "no ports given (add one with --port "
                    "NAME=vhost:SOCKET_PATH; see --help)");
    }
    return 0;
}
