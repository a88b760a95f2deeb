/* port-tap.h -- the TAP port: the host kernel's network stack as a switch
 * port, through a TAP interface driven with io_uring.  See port-tap.c. */
#ifndef VU_PORT_TAP_H
#define VU_PORT_TAP_H 1

#include "port.h"

extern const struct port_class port_tap_class;

/* Control thread: allocates a TAP port for 'spec' (spec->path is the
 * interface name).  Nothing is opened until start().  Returns NULL (with a
 * message in 'err') when out of memory. */
struct port *port_tap_create(const struct port_spec *, char *err,
                             size_t err_size);

#endif /* port-tap.h */
