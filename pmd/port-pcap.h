/* port-pcap.h -- the pcap sink port: frames the switch delivers to it are
 * written to a capture file (or FIFO) that tcpdump reads.  See
 * port-pcap.c. */
#ifndef VU_PORT_PCAP_H
#define VU_PORT_PCAP_H 1

#include "port.h"

extern const struct port_class port_pcap_class;

/* Control thread: allocates a pcap sink for 'spec' (spec->path is the file,
 * spec->filter an optional tcpdump expression, spec->snaplen the bytes kept
 * per frame, spec->n_queues its queues: one ring each, whose only producer
 * is the worker that transmits on that queue; 0 means 1).  Nothing is
 * opened until start().  Returns NULL (with a message in 'err') when out
 * of memory. */
struct port *port_pcap_create(const struct port_spec *, char *err,
                              size_t err_size);

#endif /* port-pcap.h */
