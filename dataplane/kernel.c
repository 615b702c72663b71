/*
 * dataplane/kernel.c: the kernel side of an exception TAP (see dp.h), set
 * up once at start on the main thread: every service address of the port
 * with its prefix (rtnetlink RTM_NEWADDR, so a port with several IPv4
 * addresses, an appliance's link address and an anycast service address,
 * has them all: SIOCSIFADDR sets one), then the link up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "conf/config.h"
#include "dataplane/dp.h"

struct addr_req {
	struct nlmsghdr h;
	struct ifaddrmsg ifa;
	char attrs[2 * RTA_SPACE(16)];
};

static void put_attr(struct addr_req *req, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)req + NLMSG_ALIGN(req->h.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	req->h.nlmsg_len = NLMSG_ALIGN(req->h.nlmsg_len) + (unsigned)RTA_SPACE(len);
}

/* One address on ifindex: 0, or an errno. EEXIST (the interface has the
 * address already: someone put it there) is no error; an address with
 * another prefix length is left as it is, and an address no longer in
 * the configuration is not removed (the TAP goes with the dataplane, so
 * a new one has only ours). */
static int add_address(int nl, int ifindex, const struct cfg_prefix *a, uint32_t seq)
{
	struct addr_req req;
	size_t alen = a->a.family == AF_INET ? 4 : 16;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifa));
	req.h.nlmsg_type = RTM_NEWADDR;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	req.h.nlmsg_seq = seq;
	req.ifa.ifa_family = (uint8_t)a->a.family;
	req.ifa.ifa_prefixlen = a->len;
	req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	req.ifa.ifa_index = (uint32_t)ifindex;
	/* IFA_LOCAL is the address; IFA_ADDRESS the same on a link that is
	 * not point-to-point (IPv6 reads IFA_ADDRESS) */
	put_attr(&req, IFA_LOCAL, a->a.addr, alen);
	put_attr(&req, IFA_ADDRESS, a->a.addr, alen);
	if (send(nl, &req, req.h.nlmsg_len, 0) < 0)
		return errno;
	for (;;) {
		char buf[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
		ssize_t got = recv(nl, buf, sizeof(buf), 0);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return errno == EAGAIN ? ETIMEDOUT : errno;
		/* (by hand: NLMSG_NEXT's length can wrap on a last message
		 * that is not padded) */
		size_t n = (size_t)got;
		for (size_t off = 0; off + sizeof(struct nlmsghdr) <= n;) {
			struct nlmsghdr *h = (struct nlmsghdr *)(buf + off);

			if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > n - off)
				break;
			off += NLMSG_ALIGN(h->nlmsg_len);
			if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
				return EPROTO;
			int e = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
			return e == EEXIST ? 0 : e;
		}
	}
}

int dp_kernel_iface(const struct cfg_port *cp, char *err, size_t errlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 2 };
	struct ifreq ifr = { 0 };
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int s4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1, e = 0;

	if (nl < 0 || s4 < 0 || bind(nl, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		snprintf(err, errlen, "exception interface %s: netlink: %s", cp->exception,
			 strerror(errno));
		goto out;
	}
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", cp->exception);
	if (ioctl(s4, SIOCGIFINDEX, &ifr) < 0) {
		snprintf(err, errlen, "exception interface %s: %s", cp->exception, strerror(errno));
		goto out;
	}
	for (unsigned i = 0; i < cp->n_addresses; i++)
		if ((e = add_address(nl, ifr.ifr_ifindex, &cp->addresses[i], i + 1))) {
			const struct cfg_prefix *a = &cp->addresses[i];
			char text[INET6_ADDRSTRLEN];

			if (!inet_ntop(a->a.family, a->a.addr, text, sizeof(text)))
				snprintf(text, sizeof(text), "#%u", i + 1);
			snprintf(err, errlen, "exception interface %s: address %s/%u: %s",
				 cp->exception, text, a->len, strerror(e));
			goto out;
		}
	if (ioctl(s4, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(s4, SIOCSIFFLAGS, &ifr) < 0)) {
		snprintf(err, errlen, "exception interface %s: %s", cp->exception, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (nl >= 0)
		close(nl);
	if (s4 >= 0)
		close(s4);
	return rc;
}
