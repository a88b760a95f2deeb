/* test-options.c -- the daemon's command line and the port SPEC syntax:
 * what users type must be accepted, and every mistake must be refused with
 * a message that names it. */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cunit.h"
#include "fdb.h"
#include "options.h"

static char err[512];

/* Parses a NULL-terminated argument list (argv[0] is added). */
static int
parse(struct options *o, const char *first, ...)
{
    char *argv[64] = { (char *) "vuswitch" };
    int argc = 1;
    va_list args;
    va_start(args, first);
    for (const char *a = first; a && argc < 63; a = va_arg(args, const char *)) {
        argv[argc++] = (char *) a;
    }
    va_end(args);
    argv[argc] = NULL;
    err[0] = '\0';
    return options_parse(argc, argv, o, err, sizeof err);
}

static int
spec(struct port_spec *ps, const char *s)
{
    err[0] = '\0';
    return port_spec_parse(s, ps, err, sizeof err);
}

/* Expects 'text' to fail with a message containing 'needle'. */
static void
spec_fails(const char *text, const char *needle)
{
    struct port_spec ps;
    int r = spec(&ps, text);
    CU_ASSERT_EQUAL(r, -EINVAL);
    if (!strstr(err, needle)) {
        fprintf(stderr, "\nspec '%s': error '%s' lacks '%s'\n", text, err,
                needle);
        CU_FAIL("error message");
    }
    CU_ASSERT_PTR_NULL(strchr(err, '\n'));
}

static void
test_spec_vhost(void)
{
    struct port_spec ps;
    CU_ASSERT_EQUAL(spec(&ps, "vm1=vhost:/tmp/vm1.sock"), 0);
    CU_ASSERT_STRING_EQUAL(ps.name, "vm1");
    CU_ASSERT_EQUAL(ps.type, PORT_VHOST);
    CU_ASSERT_STRING_EQUAL(ps.path, "/tmp/vm1.sock");
    CU_ASSERT_FALSE(ps.client);
    CU_ASSERT_EQUAL(ps.n_queues, 1);
    CU_ASSERT_EQUAL(ps.mtu, VU_DEFAULT_MTU);
    CU_ASSERT_FALSE(ps.no_packed);

    CU_ASSERT_EQUAL(spec(&ps, "A.b_c-9=vhost:/run/x.sock,client,queues=16,"
                         "mtu=9000"), 0);
    CU_ASSERT_STRING_EQUAL(ps.name, "A.b_c-9");
    CU_ASSERT_TRUE(ps.client);
    CU_ASSERT_EQUAL(ps.n_queues, 16);
    CU_ASSERT_EQUAL(ps.mtu, 9000);

    CU_ASSERT_EQUAL(spec(&ps, "q=vhost:rel.sock,packed=off"), 0);
    CU_ASSERT_TRUE(ps.no_packed);
    CU_ASSERT_EQUAL(spec(&ps, "q=vhost:rel.sock,packed=on"), 0);
    CU_ASSERT_FALSE(ps.no_packed);

    CU_ASSERT_EQUAL(spec(&ps, "q=vhost:rel.sock,queues=1,mtu=68"), 0);
    CU_ASSERT_EQUAL(spec(&ps, "q=vhost:rel.sock,mtu=9710"), 0);
}

static void
test_spec_tap_pcap(void)
{
    struct port_spec ps;
    CU_ASSERT_EQUAL(spec(&ps, "host=tap:vu0"), 0);
    CU_ASSERT_EQUAL(ps.type, PORT_TAP);
    CU_ASSERT_STRING_EQUAL(ps.path, "vu0");
    CU_ASSERT_EQUAL(ps.mtu, VU_DEFAULT_MTU);
    CU_ASSERT_EQUAL(spec(&ps, "host=tap:vu0,mtu=9000"), 0);
    CU_ASSERT_EQUAL(ps.mtu, 9000);

    CU_ASSERT_EQUAL(spec(&ps, "cap=pcap:/tmp/a.pcap"), 0);
    CU_ASSERT_EQUAL(ps.type, PORT_PCAP);
    CU_ASSERT_STRING_EQUAL(ps.filter, "");
    CU_ASSERT(ps.snaplen >= 65535);

    /* A BPF filter keeps its spaces. */
    CU_ASSERT_EQUAL(spec(&ps, "cap=pcap:/tmp/a.pcap,filter=tcp port 80 and "
                         "not host 10.0.0.1,snaplen=96"), 0);
    CU_ASSERT_STRING_EQUAL(ps.filter, "tcp port 80 and not host 10.0.0.1");
    CU_ASSERT_EQUAL(ps.snaplen, 96);
    CU_ASSERT_EQUAL(spec(&ps, "cap=pcap:/tmp/a.pcap,snaplen=128,filter=udp"),
                    0);
    CU_ASSERT_STRING_EQUAL(ps.filter, "udp");
}

static void
test_spec_errors(void)
{
    spec_fails("a=vhots:/tmp/a.sock",
               "port 'a': unknown type 'vhots' (expected vhost, tap or pcap)");
    spec_fails("vhost:/tmp/a.sock", "missing '='");
    spec_fails("a=/tmp/a.sock", "missing ':'");
    spec_fails("=vhost:/tmp/a.sock", "bad port name");
    spec_fails("a b=vhost:/tmp/a.sock", "bad port name");
    spec_fails("a/b=vhost:/tmp/a.sock", "bad port name");
    spec_fails("abcdefghijabcdefghijabcdefghijab=vhost:/x", "bad port name");
    spec_fails("a=vhost:", "empty path");
    spec_fails("a=vhost:/tmp/a.sock,queues=0", "queues=0 out of range");
    spec_fails("a=vhost:/tmp/a.sock,queues=17", "queues=17 out of range");
    spec_fails("a=vhost:/tmp/a.sock,queues=x", "out of range");
    spec_fails("a=vhost:/tmp/a.sock,queues=-1", "out of range");
    spec_fails("a=vhost:/tmp/a.sock,queues", "needs a value");
    spec_fails("a=vhost:/tmp/a.sock,mtu=67", "mtu=67 out of range");
    spec_fails("a=vhost:/tmp/a.sock,mtu=9711", "out of range");
    spec_fails("a=vhost:/tmp/a.sock,client=1", "takes no value");
    spec_fails("a=vhost:/tmp/a.sock,bogus", "unknown option 'bogus' for vhost");
    spec_fails("a=vhost:/tmp/a.sock,,client", "empty option");
    spec_fails("a=vhost:/tmp/a.sock,mtu=1500,mtu=9000", "given twice");
    spec_fails("a=vhost:/tmp/a.sock,filter=tcp", "unknown option 'filter'");
    spec_fails("a=vhost:/tmp/a.sock,packed=no",
               "port 'a': packed=no: expected on or off");
    spec_fails("a=vhost:/tmp/a.sock,packed", "needs a value");
    spec_fails("a=tap:vu0,queues=2", "unknown option 'queues' for tap");
    spec_fails("a=tap:vu0,packed=off", "unknown option 'packed' for tap");
    spec_fails("a=tap:eth0/1", "not a valid interface name");
    spec_fails("a=tap:abcdefghijklmnop", "interface name too long");
    spec_fails("a=pcap:/tmp/a.pcap,mtu=1500", "unknown option 'mtu' for pcap");
    spec_fails("a=pcap:/tmp/a.pcap,snaplen=0", "out of range");

    char text[256];
    char longpath[120];
    memset(longpath, 'x', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = '\0';
    snprintf(text, sizeof text, "a=vhost:/%s", longpath);
    spec_fails(text, "socket path too long (120 bytes, at most 107 for a "
               "UNIX socket)");

    /* 107 bytes is the longest socket path that fits. */
    struct port_spec ps;
    longpath[106] = '\0';
    snprintf(text, sizeof text, "a=vhost:/%s", longpath);
    CU_ASSERT_EQUAL(spec(&ps, text), 0);
    CU_ASSERT_EQUAL(strlen(ps.path), 107);
}

static void
test_cpu_list(void)
{
    int cpus[STATS_MAX_WORKERS];
    CU_ASSERT_EQUAL(cpu_list_parse("1", cpus, 32), 1);
    CU_ASSERT_EQUAL(cpus[0], 1);
    CU_ASSERT_EQUAL(cpu_list_parse("1-3", cpus, 32), 3);
    CU_ASSERT(cpus[0] == 1 && cpus[1] == 2 && cpus[2] == 3);
    CU_ASSERT_EQUAL(cpu_list_parse("2,4", cpus, 32), 2);
    CU_ASSERT(cpus[0] == 2 && cpus[1] == 4);
    CU_ASSERT_EQUAL(cpu_list_parse("0,2-3,7", cpus, 32), 4);
    CU_ASSERT(cpus[0] == 0 && cpus[1] == 2 && cpus[2] == 3 && cpus[3] == 7);
    CU_ASSERT_EQUAL(cpu_list_parse("5-5", cpus, 32), 1);
    CU_ASSERT_EQUAL(cpu_list_parse("1023", cpus, 32), 1);

    const char *bad[] = { "", ",", "1,", ",1", "1,,2", "3-1", "1-", "-1",
                          "a", "1a", "1 2", "1024", "1,1", "1-3,2", "+1",
                          "0-40" /* more than max */ };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (cpu_list_parse(bad[i], cpus, 32) != -EINVAL) {
            fprintf(stderr, "\ncpu list '%s' accepted\n", bad[i]);
            CU_FAIL("bad cpu list accepted");
        }
    }
    CU_ASSERT_EQUAL(cpu_list_parse("0-3", cpus, 3), -EINVAL);
}

static void
test_defaults(void)
{
    struct options o;
    CU_ASSERT_EQUAL(parse(&o, "--port", "a=vhost:/tmp/a.sock", NULL), 0);
    CU_ASSERT_EQUAL(o.n_cores, 0);
    CU_ASSERT_STRING_EQUAL(o.control_path, VU_DEFAULT_CONTROL);
    CU_ASSERT_EQUAL(o.log_level, VLL_INFO);
    CU_ASSERT_EQUAL(o.fdb_aging, FDB_DEFAULT_AGING);
    CU_ASSERT_EQUAL(o.n_ports, 1);
    CU_ASSERT_STRING_EQUAL(o.ports[0].name, "a");
}

static void
test_full_command_line(void)
{
    struct options o;
    int r = parse(&o, "--cores", "1-2", "--control", "/tmp/ctl.sock",
                  "--log-level", "debug", "--fdb-aging=60",
                  "--port", "a=vhost:/tmp/a.sock,queues=2",
                  "--port=b=vhost:/tmp/b.sock,client",
                  "--port", "host=tap:vu0",
                  "--port", "cap=pcap:/tmp/a.pcap,filter=icmp", NULL);
    CU_ASSERT_EQUAL(r, 0);
    if (r) {
        fprintf(stderr, "\n%s\n", err);
        return;
    }
    CU_ASSERT_EQUAL(o.n_cores, 2);
    CU_ASSERT(o.cores[0] == 1 && o.cores[1] == 2);
    CU_ASSERT_STRING_EQUAL(o.control_path, "/tmp/ctl.sock");
    CU_ASSERT_EQUAL(o.log_level, VLL_DBG);
    CU_ASSERT_EQUAL(o.fdb_aging, 60);
    CU_ASSERT_EQUAL(o.n_ports, 4);
    CU_ASSERT_EQUAL(o.ports[0].n_queues, 2);
    CU_ASSERT_TRUE(o.ports[1].client);
    CU_ASSERT_EQUAL(o.ports[2].type, PORT_TAP);
    CU_ASSERT_STRING_EQUAL(o.ports[3].filter, "icmp");
}

static void
cmdline_fails(const char *needle, const char *a1, const char *a2,
              const char *a3, const char *a4)
{
    struct options o;
    int r = parse(&o, a1, a2, a3, a4, NULL);
    CU_ASSERT_EQUAL(r, -EINVAL);
    if (!strstr(err, needle)) {
        fprintf(stderr, "\nerror '%s' lacks '%s'\n", err, needle);
        CU_FAIL("error message");
    }
}

static void
test_command_line_errors(void)
{
    cmdline_fails("no ports given", "--cores", "1", NULL, NULL);
    cmdline_fails("no ports given", NULL, NULL, NULL, NULL);
    cmdline_fails("duplicate port name 'a'", "--port", "a=vhost:/tmp/a",
                  "--port", "a=vhost:/tmp/b");
    cmdline_fails("duplicate path '/tmp/a'", "--port", "a=vhost:/tmp/a",
                  "--port", "b=vhost:/tmp/a");
    cmdline_fails("duplicate path '/tmp/a'", "--port", "a=vhost:/tmp/a",
                  "--port", "b=pcap:/tmp/a");
    cmdline_fails("duplicate interface 'vu0'", "--port", "a=tap:vu0",
                  "--port", "b=tap:vu0");
    cmdline_fails("bad core list '1-'", "--cores", "1-", "--port",
                  "a=vhost:/tmp/a");
    cmdline_fails("bad log level 'loud'", "--log-level", "loud", "--port",
                  "a=vhost:/tmp/a");
    cmdline_fails("bad --fdb-aging '0'", "--fdb-aging", "0", "--port",
                  "a=vhost:/tmp/a");
    cmdline_fails("unknown option '--bogus'", "--bogus", "--port",
                  "a=vhost:/tmp/a", NULL);
    cmdline_fails("unknown option '-x'", "-x", NULL, NULL, NULL);
    cmdline_fails("needs an argument", "--port", NULL, NULL, NULL);
    cmdline_fails("unexpected argument 'extra'", "--port", "a=vhost:/tmp/a",
                  "extra", NULL);
    cmdline_fails("unknown type 'vhots'", "--port", "a=vhots:/tmp/a", NULL,
                  NULL);
    cmdline_fails("control socket path", "--control", "", "--port",
                  "a=vhost:/tmp/a");

    /* A tap interface and a file may share a name: different spaces. */
    struct options o;
    CU_ASSERT_EQUAL(parse(&o, "--port", "a=tap:vu0", "--port",
                          "b=pcap:vu0", NULL), 0);
}

static void
test_too_many_ports(void)
{
    char *argv[2 * STATS_MAX_PORTS + 4] = { (char *) "vuswitch" };
    char specs[STATS_MAX_PORTS + 1][64];
    int argc = 1;
    for (int i = 0; i <= STATS_MAX_PORTS; i++) {
        snprintf(specs[i], sizeof specs[i], "p%d=vhost:/tmp/p%d", i, i);
        argv[argc++] = (char *) "--port";
        argv[argc++] = specs[i];
    }
    struct options o;
    CU_ASSERT_EQUAL(options_parse(argc - 2, argv, &o, err, sizeof err), 0);
    CU_ASSERT_EQUAL(o.n_ports, STATS_MAX_PORTS);
    CU_ASSERT_EQUAL(options_parse(argc, argv, &o, err, sizeof err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "too many ports"));
}

/* --help and --version print to stdout and ask the caller to exit 0. */
static void
test_help_version(void)
{
    struct options o;
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    FILE *sink = tmpfile();
    dup2(fileno(sink), STDOUT_FILENO);
    int r_help = parse(&o, "--help", NULL);
    int r_version = parse(&o, "--port", "a=vhost:/tmp/a", "--version", NULL);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);

    char text[4096] = "";
    rewind(sink);
    size_t n = fread(text, 1, sizeof text - 1, sink);
    text[n] = '\0';
    fclose(sink);
    CU_ASSERT_EQUAL(r_help, 1);
    CU_ASSERT_EQUAL(r_version, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "Usage: vuswitch"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "NAME=vhost:SOCKET_PATH"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "Examples:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "vuswitch " PACKAGE_VERSION));
}

static int
capture(struct capture_spec *cs, const char *s)
{
    err[0] = '\0';
    return capture_spec_parse(s, cs, err, sizeof err);
}

static void
capture_fails(const char *text, const char *needle)
{
    struct capture_spec cs;
    CU_ASSERT_EQUAL(capture(&cs, text), -EINVAL);
    if (!strstr(err, needle)) {
        fprintf(stderr, "\ncapture '%s': error '%s' lacks '%s'\n", text, err,
                needle);
        CU_FAIL("error message");
    }
    CU_ASSERT_PTR_NULL(strchr(err, '\n'));
}

/* What `vuswitchctl capture` sends: PORT DIRECTION FILE[,OPTION...]; the
 * sink is a pcap spec named after the port. */
static void
test_capture_spec(void)
{
    struct capture_spec cs;
    CU_ASSERT_EQUAL(capture(&cs, "vm1 both /tmp/vm1.pcap"), 0);
    CU_ASSERT_STRING_EQUAL(cs.port, "vm1");
    CU_ASSERT_EQUAL(cs.dirs, CAPTURE_RX | CAPTURE_TX);
    CU_ASSERT_EQUAL(cs.sink.type, PORT_PCAP);
    CU_ASSERT_STRING_EQUAL(cs.sink.name, "capture:vm1");
    CU_ASSERT_STRING_EQUAL(cs.sink.path, "/tmp/vm1.pcap");
    CU_ASSERT_STRING_EQUAL(cs.sink.filter, "");
    CU_ASSERT(cs.sink.snaplen >= 65535);
    CU_ASSERT(cs.sink.mtu >= 9000);     /* a capture takes any frame */

    CU_ASSERT_EQUAL(capture(&cs, "a rx /x.pcap,filter=udp port 9 and not "
                            "host 10.0.0.1,snaplen=96"), 0);
    CU_ASSERT_EQUAL(cs.dirs, CAPTURE_RX);
    CU_ASSERT_STRING_EQUAL(cs.sink.filter, "udp port 9 and not host 10.0.0.1");
    CU_ASSERT_EQUAL(cs.sink.snaplen, 96);
    CU_ASSERT_EQUAL(capture(&cs, "a  tx\t/run/fifo"), 0);
    CU_ASSERT_EQUAL(cs.dirs, CAPTURE_TX);
    CU_ASSERT_STRING_EQUAL(cs.sink.path, "/run/fifo");

    /* The longest port name still gives a name that fits, cut. */
    CU_ASSERT_EQUAL(capture(&cs, "abcdefghijabcdefghijabcdefghija both /c"),
                    0);
    CU_ASSERT_STRING_EQUAL(cs.sink.name, "capture:abcdefghijabcdefghijabc");

    capture_fails("", "bad port name ''");
    capture_fails("a/b both /x", "bad port name 'a/b'");
    capture_fails("a", "bad direction ''");
    capture_fails("a in /x", "bad direction 'in' (expected rx, tx or both)");
    capture_fails("a both", "'' is not an absolute path");
    capture_fails("a both x.pcap", "'x.pcap' is not an absolute path");
    capture_fails("a both /x,mtu=9000", "unknown option 'mtu' for pcap");
    capture_fails("a both /x,snaplen=0", "out of range");
}

static const struct cunit_test tests[] = {
    CUNIT_TEST(test_spec_vhost),
    CUNIT_TEST(test_spec_tap_pcap),
    CUNIT_TEST(test_spec_errors),
    CUNIT_TEST(test_capture_spec),
    CUNIT_TEST(test_cpu_list),
    CUNIT_TEST(test_defaults),
    CUNIT_TEST(test_full_command_line),
    CUNIT_TEST(test_command_line_errors),
    CUNIT_TEST(test_too_many_ports),
    CUNIT_TEST(test_help_version),
};

CUNIT_MAIN("options", tests)
