/* ctl-args.h -- vuswitchctl's command line, parsed without side effects.
 *
 *   vuswitchctl [--control PATH] COMMAND [ARGS]
 *   vuswitchctl --help | --version
 *
 * ctl_args_parse() turns argv and the value of $VUSWITCH_CONTROL into a
 * struct ctl_args: which command, which socket, which options.  It opens
 * nothing, prints nothing and never exits, so that tests/test-ctl-args.c
 * can check every accepted and refused command line; vuswitchctl.c runs
 * what it describes.  The command table here is also what --help prints,
 * so the help cannot forget a command. */
#ifndef VU_CTL_ARGS_H
#define VU_CTL_ARGS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CTL_DEFAULT_CONTROL "/run/vuswitch/control.sock"
#define CTL_MAX_OPERANDS 3          /* move-queue PORT QUEUE WORKER */
#define CTL_WATCH_MIN 0.01          /* seconds */
#define CTL_WATCH_MAX 86400

enum ctl_command {
    CTL_HELP,                       /* --help, -h, or COMMAND --help */
    CTL_TOOL_VERSION,               /* --version, -V: this tool only */
    CTL_STATS,
    CTL_PORTS,
    CTL_FDB,
    CTL_ADD_PORT,
    CTL_DEL_PORT,
    CTL_CAPTURE,
    CTL_CAPTURE_STOP,
    CTL_FDB_FLUSH,
    CTL_REBALANCE,
    CTL_MOVE_QUEUE,
    CTL_LOG_LEVEL,
    CTL_VERSION,                    /* the daemon's and this tool's */
};

/* Options a command accepts after its name. */
enum {
    CTL_OPT_JSON = 1 << 0,          /* --json */
    CTL_OPT_WATCH = 1 << 1,         /* --watch SECONDS */
    CTL_OPT_CAPTURE = 1 << 2,       /* --direction, --filter, --snaplen */
};

/* One daemon command as --help and man/vuswitchctl.8 show it. */
struct ctl_command_info {
    enum ctl_command id;
    const char *name;
    const char *syntax;             /* "NAME ARGS", as in the man page */
    const char *help;               /* '\n' between lines */
    int min_operands, max_operands;
    bool blanks_in_last;            /* the last operand may hold spaces
                                       (a SPEC, a FILE); others are one
                                       word, as the daemon splits them */
    unsigned options;               /* CTL_OPT_* */
};

extern const struct ctl_command_info ctl_commands[];
extern const size_t ctl_n_commands;

/* A parsed command line.  Strings point into argv or are literals. */
struct ctl_args {
    enum ctl_command command;
    const char *name;               /* the command's name; NULL for
                                       CTL_HELP and CTL_TOOL_VERSION */
    const char *control;            /* --control, else $VUSWITCH_CONTROL,
                                       else CTL_DEFAULT_CONTROL; NULL for
                                       CTL_HELP and CTL_TOOL_VERSION */
    bool json;
    double watch;                   /* seconds between refreshes; 0: once */
    const char *direction;          /* capture: "rx", "tx" or "both" */
    const char *filter;             /* capture: pcap-filter EXPR or NULL */
    const char *snaplen;            /* capture: decimal digits or NULL */
    int n_operands;
    const char *operands[CTL_MAX_OPERANDS];   /* in order, options removed */
};

/* Parses argv[1..argc) with 'env_control' the value of $VUSWITCH_CONTROL
 * (or NULL).  Returns 0 and fills '*args', or -EINVAL for bad usage with a
 * one-line message in 'err' (without the program name) and '*args'
 * untouched.  Any thread. */
int ctl_args_parse(int argc, char *argv[], const char *env_control,
                   struct ctl_args *args, char *err, size_t err_size);

/* Writes the --help text to 'out'. */
void ctl_args_usage(FILE *out);

#endif
