/* control.h -- the control thread: one epoll loop over the ports' sockets,
 * the control socket, signals and a 100 ms timer; it owns the ports, the
 * workers and the placement of queues on workers. */
#ifndef VU_CONTROL_H
#define VU_CONTROL_H 1

#include "options.h"

struct control;

/* Creates the switch described by 'opts': stats segment, MAC table,
 * control socket, ports (started: sockets listening or connecting) and
 * workers.  Returns 0 and sets '*cp', or -errno with one line in 'err'. */
int control_create(const struct options *, struct control **cp,
                   char *err, size_t err_size);

/* Runs the loop until SIGINT or SIGTERM.  Returns 0. */
int control_run(struct control *);

/* Stops the workers, closes and unlinks every socket, frees everything.
 * NULL is a no-op. */
void control_destroy(struct control *);

#endif /* control.h */
