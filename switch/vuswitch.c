/* vuswitch.c -- the daemon's main: parse the command line, build the
 * switch, run the control loop until SIGINT/SIGTERM, tear down cleanly. */
#include <config.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "control.h"
#include "log.h"
#include "options.h"

int
main(int argc, char *argv[])
{
    static struct options opts;
    char err[256];

    int r = options_parse(argc, argv, &opts, err, sizeof err);
    if (r > 0) {
        return EXIT_SUCCESS;
    }
    if (r < 0) {
        fprintf(stderr, "vuswitch: %s\n", err);
        return 2;
    }
    vlog_set_level(opts.log_level);

    /* Signals are taken by the control thread's signalfd; every thread
     * started from here on inherits the mask.  A write to a front end
     * that hung up must not kill us either. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct control *control;
    r = control_create(&opts, &control, err, sizeof err);
    if (r) {
        fprintf(stderr, "vuswitch: %s\n", err);
        return EXIT_FAILURE;
    }
    VLOG_INFO("vuswitch %s running: %u port(s), control socket %s",
              PACKAGE_VERSION, opts.n_ports, opts.control_path);
    control_run(control);
    control_destroy(control);
    VLOG_INFO("stopped");
    return EXIT_SUCCESS;
}
