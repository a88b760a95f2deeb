/* ctl-args.c -- vuswitchctl's command line (see ctl-args.h).
 *
 * Everything that can be refused without asking the daemon is refused
 * here, as bad usage (exit status 2): unknown commands and options,
 * missing and extra arguments, bad numbers, arguments the one-line request
 * could not carry (a newline; a comma or a space where the daemon splits
 * on one).  What only the daemon knows -- whether a port exists, whether a
 * SPEC is valid -- is left to it (exit status 1). */
#include <config.h>

#include "ctl-args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

const struct ctl_command_info ctl_commands[] = {
    { CTL_STATS, "stats", "stats [--json] [--watch SECONDS]",
      "counters of ports, queues and workers;\n"
      "--watch refreshes with rates (Ctrl-C)",
      0, 0, false, CTL_OPT_JSON | CTL_OPT_WATCH },
    { CTL_PORTS, "ports", "ports [--json]",
      "ports: state, features, queues, memory", 0, 0, false, CTL_OPT_JSON },
    { CTL_FDB, "fdb", "fdb [--json]", "the MAC table: MAC, port, age",
      0, 0, false, CTL_OPT_JSON },
    { CTL_ADD_PORT, "add-port", "add-port SPEC",
      "add a port (SPEC as for vuswitch --port;\nquote it if it has spaces)",
      1, 1, true, 0 },
    { CTL_DEL_PORT, "del-port", "del-port NAME", "remove a port",
      1, 1, false, 0 },
    { CTL_CAPTURE, "capture",
      "capture PORT FILE [--direction rx|tx|both] [--filter EXPR] "
      "[--snaplen N]",
      "copy PORT's frames into the pcap file\n"
      "FILE (or FIFO), like ovs-tcpdump;\n"
      "default: both directions, no filter",
      2, 2, true, CTL_OPT_CAPTURE },
    { CTL_CAPTURE_STOP, "capture-stop", "capture-stop PORT",
      "stop it; the file is complete", 1, 1, false, 0 },
    { CTL_FDB_FLUSH, "fdb-flush", "fdb-flush [PORT]",
      "forget learnt MACs (of one port)", 0, 1, false, 0 },
    { CTL_REBALANCE, "rebalance", "rebalance",
      "re-place queues on workers by load", 0, 0, false, 0 },
    { CTL_MOVE_QUEUE, "move-queue", "move-queue PORT QUEUE WORKER",
      "give one queue pair to a worker", 3, 3, false, 0 },
    { CTL_LOG_LEVEL, "log-level", "log-level [LEVEL]",
      "set (or show) err, warn, info, debug", 0, 1, false, 0 },
    { CTL_VERSION, "version", "version",
      "versions of the daemon and of this tool", 0, 0, false, 0 },
};
const size_t ctl_n_commands = sizeof ctl_commands / sizeof ctl_commands[0];

#define HELP_COLUMN 36

void
ctl_args_usage(FILE *out)
{
    fputs("Usage: vuswitchctl [--control PATH] COMMAND [ARGS]\n"
          "Show what a running vuswitch does and change its ports.\n"
          "\n"
          "Commands:\n", out);
    for (size_t c = 0; c < ctl_n_commands; c++) {
        const struct ctl_command_info *ci = &ctl_commands[c];
        /* A syntax too wide for the column gets a line of its own. */
        int col = fprintf(out, "  %s", ci->syntax);
        if (col > HELP_COLUMN - 2) {
            fputc('\n', out);
            col = 0;
        }
        for (const char *h = ci->help; *h;) {
            size_t n = strcspn(h, "\n");
            fprintf(out, "%*s%.*s\n", HELP_COLUMN - col, "", (int) n, h);
            col = 0;
            h += n + (h[n] == '\n');
        }
    }
    fprintf(out,
"\n"
"Options:\n"
"  --control PATH   the daemon's control socket (default: $VUSWITCH_CONTROL,\n"
"                   else %s)\n"
"  --help, --version\n"
"\n"
"Examples:\n"
"  vuswitchctl stats --watch 1\n"
"  vuswitchctl add-port 'cap=pcap:/tmp/cap.pcap,filter=tcp port 80'\n"
"  vuswitchctl capture vm1 vm1.pcap --filter 'icmp or arp'\n"
"Exit status: 0 success, 1 error, 2 bad usage.\n", CTL_DEFAULT_CONTROL);
}

static int __attribute__((format(printf, 3, 4)))
usage_fail(char *err, size_t size, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, size, fmt, args);
    va_end(args);
    return -EINVAL;
}

/* The value of option 'name' at argv[*i] ("--name VALUE" or
 * "--name=VALUE"): returns 1 and sets '*value' (NULL when VALUE is
 * missing), or 0 if argv[*i] is not that option. */
static int
option_value(const char *name, int argc, char *argv[], int *i,
             const char **value)
{
    size_t len = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, len) || (a[len] && a[len] != '=')) {
        return 0;
    }
    if (a[len] == '=') {
        *value = a + len + 1;
    } else {
        *value = *i + 1 < argc ? argv[++*i] : NULL;
    }
    return 1;
}

static bool
is_help(const char *a)
{
    return !strcmp(a, "--help") || !strcmp(a, "-h");
}

static bool
is_number(const char *s)
{
    return *s && strspn(s, "0123456789") == strlen(s) && strlen(s) <= 9;
}

/* --watch SECONDS: fractions allowed; 0 and negative make no sense for a
 * refresh interval, and a NaN must not slip through the range check. */
static int
parse_watch(const char *cmd, const char *v, double *watch, char *err,
            size_t es)
{
    char *end;
    double w = v ? strtod(v, &end) : 0;
    if (!v) {
        return usage_fail(err, es, "%s: --watch needs SECONDS", cmd);
    }
    if (!*v || *end || !(w >= CTL_WATCH_MIN && w <= CTL_WATCH_MAX)) {
        return usage_fail(err, es, "%s: --watch needs SECONDS between %g "
                          "and %d, not '%s'", cmd, CTL_WATCH_MIN,
                          CTL_WATCH_MAX, v);
    }
    *watch = w;
    return 0;
}

/* One option of command 'ci' at argv[*i]; returns 0, or -EINVAL. */
static int
parse_command_option(const struct ctl_command_info *ci, int argc,
                     char *argv[], int *i, struct ctl_args *a, char *err,
                     size_t es)
{
    static const char *const capture_options[] = {
        "--direction", "--filter", "--snaplen",
    };
    const char *v;
    if ((ci->options & CTL_OPT_JSON) && !strcmp(argv[*i], "--json")) {
        a->json = true;
        return 0;
    }
    if ((ci->options & CTL_OPT_WATCH)
        && option_value("--watch", argc, argv, i, &v)) {
        return parse_watch(ci->name, v, &a->watch, err, es);
    }
    for (size_t k = 0; (ci->options & CTL_OPT_CAPTURE) && k < 3; k++) {
        if (option_value(capture_options[k], argc, argv, i, &v)) {
            if (!v) {
                return usage_fail(err, es, "%s: %s needs a value", ci->name,
                                  capture_options[k]);
            }
            const char **slot = k == 0 ? &a->direction
                                : k == 1 ? &a->filter : &a->snaplen;
            *slot = v;
            return 0;
        }
    }
    return usage_fail(err, es, "%s: unknown option '%s'", ci->name,
                      argv[*i]);
}

/* What the daemon's one-line request cannot carry, and the numbers and
 * words that are ours to check. */
static int
check_command(const struct ctl_command_info *ci, const struct ctl_args *a,
              char *err, size_t es)
{
    for (int k = 0; k < a->n_operands; k++) {
        const char *o = a->operands[k];
        if (!*o) {
            return usage_fail(err, es, "%s: empty argument (usage: %s)",
                              ci->name, ci->syntax);
        }
        if (strpbrk(o, " \t") && !(ci->blanks_in_last
                                   && k == ci->max_operands - 1)) {
            return usage_fail(err, es, "%s: '%s' cannot contain a space "
                              "(usage: %s)", ci->name, o, ci->syntax);
        }
    }
    const char *texts[CTL_MAX_OPERANDS + 1] = { a->filter };
    memcpy(texts + 1, a->operands, a->n_operands * sizeof *a->operands);
    for (int k = 0; k <= a->n_operands; k++) {
        if (texts[k] && strchr(texts[k], '\n')) {
            return usage_fail(err, es, "%s: arguments cannot contain a "
                              "newline", ci->name);
        }
    }

    enum vlog_level level;
    switch (ci->id) {
    case CTL_MOVE_QUEUE:
        for (int k = 1; k < 3; k++) {
            if (!is_number(a->operands[k])) {
                return usage_fail(err, es, "move-queue: %s must be a "
                                  "number, not '%s'", k == 1 ? "QUEUE"
                                  : "WORKER", a->operands[k]);
            }
        }
        return 0;
    case CTL_LOG_LEVEL:
        if (a->n_operands && vlog_level_from_string(a->operands[0], &level)) {
            return usage_fail(err, es, "log-level: unknown level '%s' "
                              "(err, warn, info or debug)", a->operands[0]);
        }
        return 0;
    case CTL_CAPTURE:
        if (strcmp(a->direction, "rx") && strcmp(a->direction, "tx")
            && strcmp(a->direction, "both")) {
            return usage_fail(err, es, "capture: --direction is rx, tx or "
                              "both, not '%s'", a->direction);
        }
        if (a->snaplen && !is_number(a->snaplen)) {
            return usage_fail(err, es, "capture: --snaplen needs a number "
                              "of bytes, not '%s'", a->snaplen);
        }
        /* The request carries FILE and EXPR as a port SPEC does. */
        if (strchr(a->operands[1], ',') || (a->filter
                                             && strchr(a->filter, ','))) {
            return usage_fail(err, es, "capture: FILE and EXPR cannot "
                              "contain a comma");
        }
        return 0;
    default:
        return 0;
    }
}

/* COMMAND and what follows it, from argv[i]. */
static int
parse_command(int argc, char *argv[], int i, struct ctl_args *a, char *err,
              size_t es)
{
    const struct ctl_command_info *ci = NULL;
    for (size_t c = 0; c < ctl_n_commands && !ci; c++) {
        ci = !strcmp(argv[i], ctl_commands[c].name) ? &ctl_commands[c] : NULL;
    }
    if (!ci) {
        int n = snprintf(err, es, "unknown command '%s' (commands:", argv[i]);
        for (size_t c = 0; c < ctl_n_commands && n >= 0 && (size_t) n < es;
             c++) {
            n += snprintf(err + n, es - n, " %s%s", ctl_commands[c].name,
                          c + 1 < ctl_n_commands ? "," : ")");
        }
        return -EINVAL;
    }
    /* A command's --help is the general one. */
    for (int k = i + 1; k < argc; k++) {
        if (is_help(argv[k])) {
            a->command = CTL_HELP;
            return 0;
        }
    }
    a->command = ci->id;
    a->name = ci->name;
    a->direction = ci->id == CTL_CAPTURE ? "both" : NULL;
    for (i++; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] == '-' && arg[1]) {
            int error = parse_command_option(ci, argc, argv, &i, a, err, es);
            if (error) {
                return error;
            }
        } else if (a->n_operands < ci->max_operands) {
            a->operands[a->n_operands++] = arg;
        } else {
            return usage_fail(err, es, "%s: unexpected argument '%s' "
                              "(usage: %s)", ci->name, arg, ci->syntax);
        }
    }
    if (a->n_operands < ci->min_operands) {
        return usage_fail(err, es, "%s: missing argument (usage: %s)",
                          ci->name, ci->syntax);
    }
    return check_command(ci, a, err, es);
}

int
ctl_args_parse(int argc, char *argv[], const char *env_control,
               struct ctl_args *args, char *err, size_t es)
{
    struct ctl_args a = { .command = CTL_HELP };
    const char *control = NULL;
    int i;
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *v;
        if (is_help(argv[i])) {
            *args = a;
            return 0;
        } else if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
            a.command = CTL_TOOL_VERSION;
            *args = a;
            return 0;
        } else if (option_value("--control", argc, argv, &i, &v)) {
            if (!v || !*v) {
                return usage_fail(err, es, "--control needs a PATH");
            }
            control = v;
        } else {
            return usage_fail(err, es, "unknown option '%s'", argv[i]);
        }
    }
    /* An empty $VUSWITCH_CONTROL is taken as unset, as shells make it
     * easy to export one by mistake. */
    a.control = control ? control
                : env_control && *env_control ? env_control
                : CTL_DEFAULT_CONTROL;
    if (i >= argc) {
        return usage_fail(err, es, "no command given");
    }
    int error = parse_command(argc, argv, i, &a, err, es);
    if (!error) {
        *args = a;
    }
    return error;
}
