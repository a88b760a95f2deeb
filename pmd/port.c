/* port.c -- creating ports by type, and publishing their description to
 * the stats segment.  Control thread only. */
#include <config.h>
#include "port.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "port-pcap.h"
#include "port-tap.h"
#include "port-vhost.h"

int
port_create(const struct port_spec *spec, uint16_t id, struct port_env *env,
            struct stats_port *stats, struct port **portp,
            char *err, size_t err_size)
{
    struct port *port;
    switch (spec->type) {
    case PORT_VHOST:
        port = port_vhost_create(spec, err, err_size);
        break;
    case PORT_TAP:
        port = port_tap_create(spec, err, err_size);
        break;
    case PORT_PCAP:
        port = port_pcap_create(spec, err, err_size);
        break;
    default:
        snprintf(err, err_size, "port %s: type not supported yet", spec->name);
        return -ENOTSUP;
    }
    if (!port) {
        return -ENOMEM;
    }
    port->env = env;
    port->id = id;
    snprintf(port->name, sizeof port->name, "%s", spec->name);
    port->max_frame = spec->mtu + 18;
    port->stats = stats;
    *portp = port;
    return 0;
}

void
port_end_pass(void)
{
    port_vhost_end_pass();
}

int
port_mem_node(const struct port *port)
{
    return port->class->mem_node ? port->class->mem_node(port) : -1;
}

void
port_publish_info(struct port *port)
{
    struct stats_port_info *info = &port->stats->info;
    stats_port_info_begin(info);
    info->in_use = 1;
    snprintf(info->name, sizeof info->name, "%s", port->name);
    snprintf(info->type, sizeof info->type, "%s", port->class->type);
    info->n_queues = port->n_queues;
    info->numa_node = (int16_t) port_mem_node(port);
    port->class->describe(port, info);
    stats_port_info_end(info);
}
