/* test-ctl-args.c -- vuswitchctl's command line (tools/ctl-args.c): every
 * command a user types must be understood as meant, every mistake refused
 * with a one-line message that names it (vuswitchctl then exits 2), and
 * --help and the man page must show each command with the same syntax. */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit.h"
#include "tools/ctl-args.h"

static char err[512];
static struct ctl_args args;

/* Parses a NULL-terminated argument list (argv[0] is added) with 'env' as
 * $VUSWITCH_CONTROL. */
static int
vparse(const char *env, const char *first, va_list ap)
{
    char *argv[32] = { (char *) "vuswitchctl" };
    int argc = 1;
    for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *)) {
        argv[argc++] = (char *) a;
    }
    argv[argc] = NULL;
    err[0] = '\0';
    memset(&args, 0xa5, sizeof args);
    return ctl_args_parse(argc, argv, env, &args, err, sizeof err);
}

static int
parse_env(const char *env, const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    int r = vparse(env, first, ap);
    va_end(ap);
    return r;
}

/* Without $VUSWITCH_CONTROL; expects success and returns the command. */
static enum ctl_command
ok(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    int r = vparse(NULL, first, ap);
    va_end(ap);
    if (r) {
        fprintf(stderr, "\n'%s ...' refused: %s\n", first, err);
        CU_FAIL("command line refused");
        return -1;
    }
    return args.command;
}

/* Expects the arguments to be refused with a message containing 'needle',
 * on one line, and 'args' left as it was. */
static void
fails(const char *needle, const char *first, ...)
{
    struct ctl_args poison;
    memset(&poison, 0xa5, sizeof poison);
    va_list ap;
    va_start(ap, first);
    int r = vparse(NULL, first, ap);
    va_end(ap);
    CU_ASSERT_EQUAL(r, -EINVAL);
    if (r != -EINVAL || !strstr(err, needle)) {
        fprintf(stderr, "\n'%s ...': error '%s' lacks '%s'\n",
                first ? first : "", err, needle);
        CU_FAIL("error message");
    }
    CU_ASSERT_PTR_NULL(strchr(err, '\n'));
    CU_ASSERT_EQUAL(memcmp(&args, &poison, sizeof args), 0);
}

static void
test_every_command(void)
{
    CU_ASSERT_EQUAL(ok("stats", NULL), CTL_STATS);
    CU_ASSERT_STRING_EQUAL(args.name, "stats");
    CU_ASSERT_FALSE(args.json);
    CU_ASSERT_EQUAL(args.watch, 0);
    CU_ASSERT_EQUAL(args.n_operands, 0);

    CU_ASSERT_EQUAL(ok("ports", NULL), CTL_PORTS);
    CU_ASSERT_FALSE(args.json);
    CU_ASSERT_EQUAL(ok("fdb", NULL), CTL_FDB);
    CU_ASSERT_STRING_EQUAL(args.name, "fdb");

    CU_ASSERT_EQUAL(ok("add-port", "vm3=vhost:/tmp/vm3.sock,queues=2", NULL),
                    CTL_ADD_PORT);
    CU_ASSERT_EQUAL(args.n_operands, 1);
    CU_ASSERT_STRING_EQUAL(args.operands[0],
                           "vm3=vhost:/tmp/vm3.sock,queues=2");
    /* A SPEC with a filter has spaces; quoted, it is one argument. */
    CU_ASSERT_EQUAL(ok("add-port", "cap=pcap:/tmp/c.pcap,filter=tcp port 80",
                       NULL), CTL_ADD_PORT);
    CU_ASSERT_STRING_EQUAL(args.operands[0],
                           "cap=pcap:/tmp/c.pcap,filter=tcp port 80");

    CU_ASSERT_EQUAL(ok("del-port", "vm3", NULL), CTL_DEL_PORT);
    CU_ASSERT_STRING_EQUAL(args.name, "del-port");
    CU_ASSERT_STRING_EQUAL(args.operands[0], "vm3");

    CU_ASSERT_EQUAL(ok("capture-stop", "vm1", NULL), CTL_CAPTURE_STOP);
    CU_ASSERT_STRING_EQUAL(args.operands[0], "vm1");

    CU_ASSERT_EQUAL(ok("fdb-flush", NULL), CTL_FDB_FLUSH);
    CU_ASSERT_EQUAL(args.n_operands, 0);
    CU_ASSERT_EQUAL(ok("fdb-flush", "vm1", NULL), CTL_FDB_FLUSH);
    CU_ASSERT_EQUAL(args.n_operands, 1);
    CU_ASSERT_STRING_EQUAL(args.operands[0], "vm1");

    CU_ASSERT_EQUAL(ok("rebalance", NULL), CTL_REBALANCE);
    CU_ASSERT_STRING_EQUAL(args.name, "rebalance");

    CU_ASSERT_EQUAL(ok("move-queue", "vm1", "3", "0", NULL), CTL_MOVE_QUEUE);
    CU_ASSERT_EQUAL(args.n_operands, 3);
    CU_ASSERT_STRING_EQUAL(args.operands[0], "vm1");
    CU_ASSERT_STRING_EQUAL(args.operands[1], "3");
    CU_ASSERT_STRING_EQUAL(args.operands[2], "0");

    CU_ASSERT_EQUAL(ok("log-level", NULL), CTL_LOG_LEVEL);
    CU_ASSERT_EQUAL(args.n_operands, 0);
    const char *levels[] = { "err", "warn", "info", "debug", "warning" };
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        CU_ASSERT_EQUAL(ok("log-level", levels[i], NULL), CTL_LOG_LEVEL);
        CU_ASSERT_STRING_EQUAL(args.operands[0], levels[i]);
    }

    CU_ASSERT_EQUAL(ok("version", NULL), CTL_VERSION);
    CU_ASSERT_STRING_EQUAL(args.name, "version");
}

/* The table is what --help shows and what the tests above cover. */
static void
test_table(void)
{
    CU_ASSERT_EQUAL(ctl_n_commands, 12);
    for (size_t c = 0; c < ctl_n_commands; c++) {
        const struct ctl_command_info *ci = &ctl_commands[c];
        size_t len = strlen(ci->name);
        CU_ASSERT_EQUAL(strncmp(ci->syntax, ci->name, len), 0);
        CU_ASSERT(ci->syntax[len] == ' ' || ci->syntax[len] == '\0');
        CU_ASSERT(ci->min_operands <= ci->max_operands);
        CU_ASSERT(ci->max_operands <= CTL_MAX_OPERANDS);
    }
}

static void
test_control_precedence(void)
{
    /* --control wins over the environment, which wins over the default. */
    CU_ASSERT_EQUAL(parse_env("/env.sock", "--control", "/opt.sock", "stats",
                              NULL), 0);
    CU_ASSERT_STRING_EQUAL(args.control, "/opt.sock");
    CU_ASSERT_EQUAL(parse_env("/env.sock", "--control=/eq.sock", "stats",
                              NULL), 0);
    CU_ASSERT_STRING_EQUAL(args.control, "/eq.sock");
    CU_ASSERT_EQUAL(parse_env("/env.sock", "stats", NULL), 0);
    CU_ASSERT_STRING_EQUAL(args.control, "/env.sock");
    CU_ASSERT_EQUAL(parse_env(NULL, "stats", NULL), 0);
    CU_ASSERT_STRING_EQUAL(args.control, CTL_DEFAULT_CONTROL);
    CU_ASSERT_STRING_EQUAL(args.control, "/run/vuswitch/control.sock");
    /* An exported but empty variable is as good as unset. */
    CU_ASSERT_EQUAL(parse_env("", "fdb", NULL), 0);
    CU_ASSERT_STRING_EQUAL(args.control, CTL_DEFAULT_CONTROL);
    /* The last --control counts. */
    CU_ASSERT_EQUAL(parse_env(NULL, "--control", "/a", "--control", "/b",
                              "fdb", NULL), 0);
    CU_ASSERT_STRING_EQUAL(args.control, "/b");
    /* Relative paths are the user's business (connect() resolves them). */
    CU_ASSERT_EQUAL(parse_env(NULL, "--control", "rel.sock", "fdb", NULL), 0);
    CU_ASSERT_STRING_EQUAL(args.control, "rel.sock");

    fails("--control needs a PATH", "--control", NULL);
    fails("--control needs a PATH", "--control=", "stats", NULL);
    fails("--control needs a PATH", "--control", "", "stats", NULL);
    fails("no command given", "--control", "/x.sock", NULL);
    /* Global options go before the command. */
    fails("stats: unknown option '--control'", "stats", "--control", "/x",
          NULL);
}

static void
test_json(void)
{
    CU_ASSERT_EQUAL(ok("stats", "--json", NULL), CTL_STATS);
    CU_ASSERT_TRUE(args.json);
    CU_ASSERT_EQUAL(args.watch, 0);
    CU_ASSERT_EQUAL(ok("ports", "--json", NULL), CTL_PORTS);
    CU_ASSERT_TRUE(args.json);
    CU_ASSERT_EQUAL(ok("fdb", "--json", "--json", NULL), CTL_FDB);
    CU_ASSERT_TRUE(args.json);

    fails("stats: unknown option '--jsonx'", "stats", "--jsonx", NULL);
    fails("stats: unknown option '--json=yes'", "stats", "--json=yes", NULL);
    fails("add-port: unknown option '--json'", "add-port", "--json", NULL);
    fails("rebalance: unknown option '--json'", "rebalance", "--json", NULL);
    fails("version: unknown option '--json'", "version", "--json", NULL);
    fails("unknown option '--json'", "--json", "stats", NULL);
}

static void
test_watch(void)
{
    CU_ASSERT_EQUAL(ok("stats", "--watch", "1", NULL), CTL_STATS);
    CU_ASSERT_EQUAL(args.watch, 1);
    CU_ASSERT_FALSE(args.json);
    CU_ASSERT_EQUAL(ok("stats", "--json", "--watch=0.5", NULL), CTL_STATS);
    CU_ASSERT_EQUAL(args.watch, 0.5);
    CU_ASSERT_TRUE(args.json);
    CU_ASSERT_EQUAL(ok("stats", "--watch", "0.01", "--json", NULL), CTL_STATS);
    CU_ASSERT_EQUAL(args.watch, 0.01);
    CU_ASSERT_TRUE(args.json);
    CU_ASSERT_EQUAL(ok("stats", "--watch", "86400", NULL), CTL_STATS);
    CU_ASSERT_EQUAL(args.watch, 86400);
    CU_ASSERT_EQUAL(ok("stats", "--watch", "2", "--watch", "3", NULL),
                    CTL_STATS);
    CU_ASSERT_EQUAL(args.watch, 3);

    const char *bad[] = { "0", "0.0", "-1", "-0.5", "0.001", "86401", "abc",
                          "1s", "", " ", "nan", "inf", "-inf", "1e9" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char needle[64];
        snprintf(needle, sizeof needle, "not '%s'", bad[i]);
        fails("stats: --watch needs SECONDS between 0.01 and 86400", "stats",
              "--watch", bad[i], NULL);
        fails(needle, "stats", "--watch", bad[i], NULL);
        char eq[64];
        snprintf(eq, sizeof eq, "--watch=%s", bad[i]);
        fails(needle, "stats", eq, NULL);
    }
    fails("stats: --watch needs SECONDS", "stats", "--watch", NULL);
    fails("stats: --watch needs SECONDS", "stats", "--json", "--watch", NULL);
    fails("ports: unknown option '--watch'", "ports", "--watch", "1", NULL);
    fails("fdb: unknown option '--watch=1'", "fdb", "--watch=1", NULL);
}

static void
test_unknown_command(void)
{
    fails("unknown command 'frobnicate'", "frobnicate", NULL);
    fails("(commands: stats, ports, fdb, add-port, del-port, capture, "
          "capture-stop, fdb-flush, rebalance, move-queue, log-level, "
          "version)", "stat", NULL);
    /* The daemon's internal request is not a user command. */
    fails("unknown command 'stats-fd'", "stats-fd", NULL);
    fails("unknown command 'STATS'", "STATS", NULL);
    fails("unknown command ''", "", NULL);
    fails("unknown option '--bogus'", "--bogus", "stats", NULL);
    fails("unknown option '-'", "-", NULL);
    fails("no command given", NULL);
}

static void
test_missing_and_extra(void)
{
    fails("add-port: missing argument (usage: add-port SPEC)", "add-port",
          NULL);
    fails("add-port: unexpected argument 'b=vhost:/b'", "add-port",
          "a=vhost:/a", "b=vhost:/b", NULL);
    fails("del-port: missing argument (usage: del-port NAME)", "del-port",
          NULL);
    fails("del-port: unexpected argument 'b'", "del-port", "a", "b", NULL);
    fails("capture-stop: missing argument (usage: capture-stop PORT)",
          "capture-stop", NULL);
    fails("capture-stop: unexpected argument 'b'", "capture-stop", "a", "b",
          NULL);
    fails("fdb-flush: unexpected argument 'b' (usage: fdb-flush [PORT])",
          "fdb-flush", "a", "b", NULL);
    fails("log-level: unexpected argument 'info'", "log-level", "debug",
          "info", NULL);
    fails("move-queue: missing argument (usage: move-queue PORT QUEUE "
          "WORKER)", "move-queue", "vm1", "1", NULL);
    fails("move-queue: missing argument", "move-queue", NULL);
    fails("move-queue: unexpected argument '4'", "move-queue", "vm1", "1",
          "2", "4", NULL);
    fails("capture: missing argument (usage: capture PORT FILE", "capture",
          "vm1", NULL);
    fails("capture: missing argument", "capture", NULL);
    fails("capture: unexpected argument 'c'", "capture", "a", "b", "c", NULL);
    fails("stats: unexpected argument 'vm1' (usage: stats [--json] "
          "[--watch SECONDS])", "stats", "vm1", NULL);
    fails("ports: unexpected argument 'x'", "ports", "x", NULL);
    fails("fdb: unexpected argument 'x'", "fdb", "x", NULL);
    fails("rebalance: unexpected argument 'now'", "rebalance", "now", NULL);
    fails("version: unexpected argument 'x'", "version", "x", NULL);
}

/* Arguments that are ours to check, and what a one-line request cannot
 * carry. */
static void
test_argument_checks(void)
{
    fails("move-queue: QUEUE must be a number, not 'x'", "move-queue", "vm1",
          "x", "0", NULL);
    fails("move-queue: WORKER must be a number, not '1x'", "move-queue",
          "vm1", "0", "1x", NULL);
    fails("move-queue: QUEUE must be a number, not '99999999999'",
          "move-queue", "vm1", "99999999999", "0", NULL);
    fails("move-queue: unknown option '-1'", "move-queue", "vm1", "-1", "0",
          NULL);
    fails("log-level: unknown level 'verbose' (err, warn, info or debug)",
          "log-level", "verbose", NULL);
    fails("del-port: 'a b' cannot contain a space", "del-port", "a b", NULL);
    fails("move-queue: 'a\tb' cannot contain a space", "move-queue", "a\tb",
          "1", "1", NULL);
    fails("del-port: empty argument", "del-port", "", NULL);
    fails("add-port: empty argument", "add-port", "", NULL);
    fails("add-port: arguments cannot contain a newline", "add-port",
          "a=vhost:/a\nfdb-flush", NULL);
    fails("fdb-flush: arguments cannot contain a newline", "fdb-flush",
          "a\n", NULL);
    fails("del-port: unknown option '--force'", "del-port", "--force", "a",
          NULL);
}

static void
test_capture(void)
{
    CU_ASSERT_EQUAL(ok("capture", "vm1", "vm1.pcap", NULL), CTL_CAPTURE);
    CU_ASSERT_STRING_EQUAL(args.name, "capture");
    CU_ASSERT_EQUAL(args.n_operands, 2);
    CU_ASSERT_STRING_EQUAL(args.operands[0], "vm1");
    CU_ASSERT_STRING_EQUAL(args.operands[1], "vm1.pcap");
    CU_ASSERT_STRING_EQUAL(args.direction, "both");
    CU_ASSERT_PTR_NULL(args.filter);
    CU_ASSERT_PTR_NULL(args.snaplen);

    /* Options anywhere after the command, in both forms. */
    CU_ASSERT_EQUAL(ok("capture", "--filter", "icmp or arp", "vm1",
                       "--direction=rx", "/tmp/my file.pcap", "--snaplen",
                       "96", NULL), CTL_CAPTURE);
    CU_ASSERT_STRING_EQUAL(args.operands[0], "vm1");
    CU_ASSERT_STRING_EQUAL(args.operands[1], "/tmp/my file.pcap");
    CU_ASSERT_STRING_EQUAL(args.direction, "rx");
    CU_ASSERT_STRING_EQUAL(args.filter, "icmp or arp");
    CU_ASSERT_STRING_EQUAL(args.snaplen, "96");
    CU_ASSERT_EQUAL(ok("capture", "vm1", "-", "--direction", "tx",
                       "--filter=udp", NULL), CTL_CAPTURE);
    CU_ASSERT_STRING_EQUAL(args.operands[1], "-");
    CU_ASSERT_STRING_EQUAL(args.direction, "tx");
    CU_ASSERT_STRING_EQUAL(args.filter, "udp");

    fails("capture: --direction is rx, tx or both, not 'in'", "capture",
          "vm1", "f", "--direction", "in", NULL);
    fails("capture: --direction needs a value", "capture", "vm1", "f",
          "--direction", NULL);
    fails("capture: --filter needs a value", "capture", "vm1", "f",
          "--filter", NULL);
    fails("capture: --snaplen needs a value", "capture", "vm1", "f",
          "--snaplen", NULL);
    fails("capture: --snaplen needs a number of bytes, not '96,filter=x'",
          "capture", "vm1", "f", "--snaplen", "96,filter=x", NULL);
    fails("capture: --snaplen needs a number of bytes, not ''", "capture",
          "vm1", "f", "--snaplen=", NULL);
    fails("capture: FILE and EXPR cannot contain a comma", "capture", "vm1",
          "a,b.pcap", NULL);
    fails("capture: FILE and EXPR cannot contain a comma", "capture", "vm1",
          "f", "--filter", "tcp,udp", NULL);
    fails("capture: arguments cannot contain a newline", "capture", "vm1",
          "f", "--filter", "tcp\nfdb-flush", NULL);
    fails("capture: 'vm 1' cannot contain a space", "capture", "vm 1", "f",
          NULL);
    fails("capture: unknown option '--snap'", "capture", "vm1", "f",
          "--snap", "9", NULL);
    fails("stats: unknown option '--filter'", "stats", "--filter", "x", NULL);
}

static void
test_help_version(void)
{
    CU_ASSERT_EQUAL(ok("--help", NULL), CTL_HELP);
    CU_ASSERT_PTR_NULL(args.name);
    CU_ASSERT_EQUAL(ok("-h", NULL), CTL_HELP);
    CU_ASSERT_EQUAL(ok("--version", NULL), CTL_TOOL_VERSION);
    CU_ASSERT_PTR_NULL(args.name);
    CU_ASSERT_EQUAL(ok("-V", NULL), CTL_TOOL_VERSION);
    /* What follows --help does not matter, even if it is wrong. */
    CU_ASSERT_EQUAL(ok("--help", "frobnicate", NULL), CTL_HELP);
    CU_ASSERT_EQUAL(ok("--control", "/x", "--help", NULL), CTL_HELP);
    CU_ASSERT_EQUAL(ok("--version", "--bogus", NULL), CTL_TOOL_VERSION);
    /* A command's --help is the general one. */
    CU_ASSERT_EQUAL(ok("stats", "--help", NULL), CTL_HELP);
    CU_ASSERT_EQUAL(ok("capture", "vm1", "-h", NULL), CTL_HELP);
    CU_ASSERT_EQUAL(ok("del-port", "--help", NULL), CTL_HELP);
    CU_ASSERT_PTR_NULL(args.name);
    /* The daemon's version is a command, not the tool's option. */
    CU_ASSERT_EQUAL(ok("version", NULL), CTL_VERSION);
    fails("unknown option '--helpme'", "--helpme", NULL);
}

/* --help lists every command with its syntax. */
static void
test_usage_text(void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    ctl_args_usage(out);
    fclose(out);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "Usage: vuswitchctl [--control PATH]"
                                  " COMMAND [ARGS]\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, CTL_DEFAULT_CONTROL));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "$VUSWITCH_CONTROL"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "--help, --version"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "0 success, 1 error, 2 bad usage"));
    for (size_t c = 0; c < ctl_n_commands; c++) {
        char line[256];
        snprintf(line, sizeof line, "\n  %s ", ctl_commands[c].syntax);
        char *at = strstr(text, line);
        if (!at) {
            snprintf(line, sizeof line, "\n  %s\n", ctl_commands[c].syntax);
            at = strstr(text, line);
        }
        if (!at) {
            fprintf(stderr, "\n--help lacks '%s'\n", ctl_commands[c].syntax);
            CU_FAIL("command missing from --help");
        }
    }
    /* Nothing wider than a terminal. */
    for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
        CU_ASSERT(strlen(l) <= 80);
    }
    free(text);
}

/* ---- man/vuswitchctl.8 ------------------------------------------------- */

/* The text a man(7) font macro line (.B, .BI, ...) shows: arguments split
 * on blanks outside double quotes, joined by a space for one-font macros
 * and directly for alternating ones (.BI, .BR, ...); font escapes
 * dropped, "\-" shown as "-". */
static void
render_macro_line(const char *line, char *out, size_t size)
{
    const char *p = line + 1 + strcspn(line + 1, " ");
    bool alternating = p - line == 3;
    size_t n = 0;
    bool first = true;
    while (*p) {
        p += strspn(p, " ");
        if (!*p) {
            break;
        }
        bool quoted = *p == '"';
        p += quoted;
        if (!first && !alternating && n + 1 < size) {
            out[n++] = ' ';
        }
        first = false;
        while (*p && (quoted ? *p != '"' : *p != ' ') && n + 1 < size) {
            if (p[0] == '\\' && p[1] == 'f' && p[2]) {
                p += 3;
            } else if (p[0] == '\\' && p[1] == '-') {
                out[n++] = '-';
                p += 2;
            } else {
                out[n++] = *p++;
            }
        }
        p += quoted && *p == '"';
    }
    out[n] = '\0';
}

static const struct ctl_command_info *
command_named(const char *text)
{
    for (size_t c = 0; c < ctl_n_commands; c++) {
        size_t len = strlen(ctl_commands[c].name);
        if (!strncmp(text, ctl_commands[c].name, len)
            && (text[len] == ' ' || !text[len])) {
            return &ctl_commands[c];
        }
    }
    return NULL;
}

/* Each entry of COMMANDS in the man page is a command with the syntax
 * --help shows, and each command has an entry. */
static void
test_man_page(void)
{
    const char *path = VU_TOP_SRCDIR "/man/vuswitchctl.8";
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "\ncannot open %s\n", path);
        CU_FAIL_FATAL("man page");
    }
    int seen[32] = { 0 };
    char line[1024], shown[1024];
    bool in_commands = false, after_tp = false;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!strncmp(line, ".SH", 3)) {
            in_commands = !strcmp(line, ".SH COMMANDS");
        }
        if (in_commands && after_tp) {
            render_macro_line(line, shown, sizeof shown);
            const struct ctl_command_info *ci = command_named(shown);
            if (!ci) {
                fprintf(stderr, "\nman page documents '%s', not a command\n",
                        shown);
                CU_FAIL("unknown command in the man page");
            } else if (strcmp(shown, ci->syntax)) {
                fprintf(stderr, "\nman page: '%s'\n--help:   '%s'\n", shown,
                        ci->syntax);
                CU_FAIL("man page and --help differ");
            } else {
                seen[ci - ctl_commands]++;
            }
        }
        after_tp = !strcmp(line, ".TP");
    }
    fclose(f);
    for (size_t c = 0; c < ctl_n_commands; c++) {
        if (seen[c] != 1) {
            fprintf(stderr, "\nman page has %d entries for '%s'\n", seen[c],
                    ctl_commands[c].name);
            CU_FAIL("command not documented once");
        }
    }
}

static const struct cunit_test tests[] = {
    CUNIT_TEST(test_every_command),
    CUNIT_TEST(test_table),
    CUNIT_TEST(test_control_precedence),
    CUNIT_TEST(test_json),
    CUNIT_TEST(test_watch),
    CUNIT_TEST(test_unknown_command),
    CUNIT_TEST(test_missing_and_extra),
    CUNIT_TEST(test_argument_checks),
    CUNIT_TEST(test_capture),
    CUNIT_TEST(test_help_version),
    CUNIT_TEST(test_usage_text),
    CUNIT_TEST(test_man_page),
};

CUNIT_MAIN("ctl-args", tests)
