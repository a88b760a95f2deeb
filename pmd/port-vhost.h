/* port-vhost.h -- the vhost-user port: a guest's virtio-net device whose
 * backend we are.  See port-vhost.c. */
#ifndef VU_PORT_VHOST_H
#define VU_PORT_VHOST_H 1

#include "port.h"

extern const struct port_class port_vhost_class;

/* Control thread: allocates a vhost port for 'spec' (not started). */
struct port *port_vhost_create(const struct port_spec *, char *err,
                               size_t err_size);

/* Worker, through port_end_pass(): the notification checks the vhost
 * rings this thread published in its pass owe, behind one fence. */
void port_vhost_end_pass(void);

#endif /* port-vhost.h */
