/*
 * control/upstream_ports.c: source ports of the upstream module (RFC 5452;
 * see upstream_int.h): the configured range minus the exclusions (conf/'s
 * cfg_port_drawable(): never 53), a uniform draw for every UDP query that
 * avoids the ports drawn last, and the bind that takes it. Control
 * process: a context's loop's thread; the drawing (struct up_ports, one
 * for every context that shares it) under its mutex.
 */
#include "control/upstream_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "control/rng.h"

/* The range minus the exclusions, as a table to draw from. */
int up_ports_init(struct up_ctx *c)
{
	const struct up_config *cfg = &c->cfg;
	struct up_ports *pp = calloc(1, sizeof(*pp));

	if (!pp)
		return CTL_E_NOMEM;
	c->pp = pp;
	pp->refs = 1;
	pthread_mutex_init(&pp->mu, NULL);
	pp->ports = malloc(((size_t)cfg->port_max - cfg->port_min + 1) * sizeof(*pp->ports));
	if (!pp->ports)
		return CTL_E_NOMEM;
	for (uint32_t p = cfg->port_min; p <= cfg->port_max; p++)
		if (cfg_port_drawable(p, cfg->exclude, cfg->n_exclude))
			pp->ports[pp->nports++] = (uint16_t)p;
	pp->recent_max = pp->nports / RECENT_SHARE < RECENT_PORTS ? pp->nports / RECENT_SHARE
								    : RECENT_PORTS;
	return pp->nports ? 0 : CTL_E_INVAL;
}

void up_ports_release(struct up_ctx *c)
{
	struct up_ports *pp = c->pp;

	c->pp = NULL;
	if (!pp || __atomic_sub_fetch(&pp->refs, 1, __ATOMIC_ACQ_REL))
		return;
	pthread_mutex_destroy(&pp->mu);
	free(pp->ports);
	free(pp);
}

int up_share_ports(struct up_ctx *c, struct up_ctx *from)
{
	const struct up_config *a = &c->cfg, *b = &from->cfg;

	if (a->port_min != b->port_min || a->port_max != b->port_max ||
	    a->n_exclude != b->n_exclude ||
	    memcmp(a->exclude, b->exclude, a->n_exclude * sizeof(a->exclude[0])))
		return CTL_E_INVAL;
	if (c->pp == from->pp)
		return 0;
	up_ports_release(c);
	__atomic_add_fetch(&from->pp->refs, 1, __ATOMIC_ACQ_REL);
	c->pp = from->pp;
	return 0;
}

/*
 * Binds fd to the family's source address on a port drawn uniformly from
 * the range minus the exclusions; a port in use (or not ours to take)
 * means another draw.
 */
static bool recent(const struct up_ports *pp, uint16_t p)
{
	return pp->recent_map[p / 64] >> (p % 64) & 1;
}

static void remember(struct up_ports *pp, uint16_t p)
{
	pthread_mutex_lock(&pp->mu);
	if (pp->recent_max) {
		uint16_t old = pp->recent[pp->recent_next];
		if (old)
			pp->recent_map[old / 64] &= ~(UINT64_C(1) << (old % 64));
		pp->recent[pp->recent_next] = p;
		pp->recent_map[p / 64] |= UINT64_C(1) << (p % 64);
		pp->recent_next = (pp->recent_next + 1) % pp->recent_max;
	}
	pthread_mutex_unlock(&pp->mu);
}

/*
 * A port drawn uniformly from the range minus the exclusions, again while
 * it is one of the last few drawn (at most 1/16 of the range is avoided
 * that way: under 0.1 bit of entropy for the default range).
 */
static uint16_t draw_port(struct up_ports *pp)
{
	/* (ports and nports never change: the draws need no lock, and the
	 * random bytes' refill, a system call, is not made under it) */
	uint16_t p = pp->ports[up_rng_below(pp->nports)];

	for (int i = 0; i < RECENT_REDRAWS; i++) {
		pthread_mutex_lock(&pp->mu);
		bool again = recent(pp, p);
		pthread_mutex_unlock(&pp->mu);
		if (!again)
			break;
		p = pp->ports[up_rng_below(pp->nports)];
	}
	return p;
}

static int bind_random(struct up_ctx *c, int fd, uint8_t family,
		       uint16_t *port)
{
	for (uint32_t a = 0; a < c->cfg.bind_attempts; a++) {
		uint16_t p = draw_port(c->pp);
		struct sockaddr_storage ss;
		socklen_t len;
		if (family == AF_INET) {
			struct sockaddr_in sin = c->cfg.src4;
			sin.sin_family = AF_INET;
			sin.sin_port = htons(p);
			memcpy(&ss, &sin, sizeof(sin));
			len = sizeof(sin);
		} else {
			struct sockaddr_in6 sin6 = c->cfg.src6;
			sin6.sin6_family = AF_INET6;
			sin6.sin6_port = htons(p);
			memcpy(&ss, &sin6, sizeof(sin6));
			len = sizeof(sin6);
		}
		if (bind(fd, (struct sockaddr *)&ss, len) == 0) {
			*port = p;
			remember(c->pp, p);
			return 0;
		}
		if (errno != EADDRINUSE && errno != EACCES)
			return CTL_E_SYSTEM;
		c->cnt.bind_retries++;
	}
	c->cnt.bind_failures++;
	errno = EADDRINUSE;
	return CTL_E_SYSTEM;
}

/* A UDP socket of the family on a fresh random port, or CTL_E_SYSTEM (errno:
 * why; EADDRINUSE when every draw was taken). */
int up_udp_open(struct up_ctx *c, uint8_t family, uint16_t *port)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, r;

	if (fd < 0)
		return CTL_E_SYSTEM;
	/* An IPv6 query socket is for IPv6 servers: v4-mapped traffic
	 * would take a port from the IPv4 side too. */
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) {
		r = errno;
		close(fd);
		errno = r;
		return CTL_E_SYSTEM;
	}
	if ((r = bind_random(c, fd, family, port)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return r;
	}
	return fd;
}

void up_udp_close(struct up_ctx *c, struct query *q)
{
	if (q->udp_fd < 0)
		return;
	ctl_loop_close(c->loop, q->udp_fd);
	q->udp_fd = -1;
	c->cnt.udp_sockets--;
}

