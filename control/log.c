/*
 * control/log.c: control's log section, counters and query log (see
 * log.h). Control process, the loop's thread.
 */
#include "control/log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/msg.h"
#include "dns/name.h"
#include "dns/print.h"
#include "dns/query.h"
#include "dns/wire.h"

static struct {
	uint32_t query_sample, query_left;
	uint64_t queries;
} lg;

void ctl_log_configure(const struct cfg *cfg)
{
	cfg_log_configure(cfg->log.level, cfg->log.target);
	if (lg.query_sample != cfg->log.query_sample)
		lg.query_sample = lg.query_left = cfg->log.query_sample;
}

bool ctl_log_set_level_verb(const char *lvl, bool with_dp, FILE *f)
{
	unsigned i = 0, was = cfg_log_get_level();

	while (lvl && i < CFG_LOG_LEVELS && strcmp(lvl, cfg_log_levels[i]))
		i++;
	if (!lvl || i == CFG_LOG_LEVELS) {
		fprintf(f, "error: set-log-level LEVEL: LEVEL is one of err, warning, notice, "
			   "info, debug\n");
		return false;
	}
	cfg_log(CFG_LOG_NOTICE, "log level %s (was %s): bailiwick-ctl set-log-level",
		cfg_log_levels[i], cfg_log_levels[was]);
	cfg_log_set_level(i);
	if (!cfg_log_on(CFG_LOG_NOTICE) || was < CFG_LOG_NOTICE)
		cfg_log(i, "log level %s (was %s): bailiwick-ctl set-log-level", cfg_log_levels[i],
			cfg_log_levels[was]);
	fprintf(f, "log level %s (was %s)%s until the next reload or restart\n",
		cfg_log_levels[i], cfg_log_levels[was],
		with_dp ? ", the dataplane's too," : "");
	return true;
}

bool ctl_log_query_sample(void)
{
	if (!lg.query_sample || !cfg_log_on(CFG_LOG_INFO))
		return false;
	if (--lg.query_left)
		return false;
	lg.query_left = lg.query_sample;
	return true;
}

void ctl_log_query(const char *via, int family, const uint8_t *addr, uint16_t port, bool tcp,
		   const uint8_t *msg, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?", name[4 * DNS_NAME_MAX + 1], type[16], class[16];
	struct dns_query q;

	if (!cfg_log_on(CFG_LOG_INFO) || !cfg_log_busy_ok())
		return;
	inet_ntop(family, addr, a, sizeof(a));
	lg.queries++;
	if (dns_query_parse(&q, msg, len) != 0 ||
	    dns_name_to_str(dns_query_qname(&q), name, sizeof(name)) < 0) {
		cfg_log(CFG_LOG_INFO, "query %s#%u %s: not a query (%zu octets) (%s)", a, port,
			tcp ? "TCP" : "UDP", len, via);
		return;
	}
	dns_type_to_str(q.qtype, type, sizeof(type));
	dns_class_to_str(q.qclass, class, sizeof(class));
	cfg_log(CFG_LOG_INFO, "query %s#%u %s %s %s %s%s%s%s%s id %u (%s)", a, port,
		tcp ? "TCP" : "UDP", name, type, class, (q.flags & DNS_F_RD) ? " +RD" : "",
		(q.flags & DNS_F_CD) ? " +CD" : "",
		q.has_edns && (q.edns.flags & DNS_EDNS_F_DO) ? " +DO" : "",
		q.has_edns ? "" : " -EDNS", q.id, via);
}

/* "NAME TYPE" of a name and type, for the debug lines */
static void name_type(const uint8_t *name, uint16_t type, char *buf, size_t size)
{
	char n[4 * DNS_NAME_MAX + 1] = "?", t[16];

	if (name)
		dns_name_to_str(name, n, sizeof(n));
	dns_type_to_str(type, t, sizeof(t));
	snprintf(buf, size, "%s %s", n, t);
}

void ctl_log_upstream(bool reply, const struct sockaddr_storage *server,
		      uint16_t local_port, bool tcp, const uint8_t *msg, size_t len,
		      uint64_t age_us, const uint8_t *zone)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)server;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)server;
	bool v6 = server->ss_family == AF_INET6;
	char a[INET6_ADDRSTRLEN] = "?", q[4 * DNS_NAME_MAX + 32], z[4 * DNS_NAME_MAX + 1] = "?";
	struct dns_msg m;

	if (!cfg_log_on(CFG_LOG_DEBUG) || !cfg_log_busy_ok())
		return;
	inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ? (const void *)&sin6->sin6_addr
					      : (const void *)&sin->sin_addr, a, sizeof(a));
	uint16_t port = ntohs(v6 ? sin6->sin6_port : sin->sin_port);
	if (zone)
		dns_name_to_str(zone, z, sizeof(z));
	if (dns_msg_parse(&m, msg, len) || !m.qname_len) {
		cfg_log(CFG_LOG_DEBUG, "upstream %s %s#%u %s: not a message (%zu octets)",
			reply ? "reply from" : "query to", a, port, tcp ? "TCP" : "UDP", len);
		return;
	}
	name_type(m.qname, m.qtype, q, sizeof(q));
	if (!reply && tcp) {
		cfg_log(CFG_LOG_DEBUG, "upstream query %s to %s#%u TCP (zone %s)", q, a, port, z);
		return;
	}
	if (!reply) {
		cfg_log(CFG_LOG_DEBUG, "upstream query %s to %s#%u UDP from port %u (zone %s)", q,
			a, port, local_port, z);
		return;
	}
	const char *rc = dns_rcode_str(m.rcode);
	cfg_log(CFG_LOG_DEBUG, "upstream reply %s from %s#%u %s: %s%s%s, %u/%u/%u records, "
			       "after %llu us (zone %s)",
		q, a, port, tcp ? "TCP" : "UDP", rc ? rc : "rcode?",
		(m.hdr.flags & DNS_F_AA) ? " aa" : "", (m.hdr.flags & DNS_F_TC) ? " tc" : "",
		m.hdr.count[1], m.hdr.count[2], m.hdr.count[3], (unsigned long long)age_us, z);
}

void ctl_log_resolved(const char *via, const uint8_t *qname, uint16_t qtype, int rcode,
		      const uint8_t *msg, size_t len, bool stale)
{
	char q[4 * DNS_NAME_MAX + 32];
	struct dns_msg m;
	bool parsed;

	if (!cfg_log_on(CFG_LOG_DEBUG) || !cfg_log_busy_ok())
		return;
	name_type(qname, qtype, q, sizeof(q));
	parsed = msg && !dns_msg_parse(&m, msg, len);
	const char *rc = dns_rcode_str((uint16_t)rcode);
	cfg_log(CFG_LOG_DEBUG, "resolved %s: %s, %u answers%s%s (%s)", q, rc ? rc : "rcode?",
		parsed ? m.hdr.count[1] : 0, parsed && (m.hdr.flags & DNS_F_AD) ? ", AD" : "",
		stale ? ", stale" : "", via);
}

void ctl_log_get_stats(struct ctl_log_stats *st)
{
	struct cfg_log_stats e;

	cfg_log_get_stats(&e);
	st->messages = e.messages;
	st->suppressed = e.suppressed;
	st->queries = lg.queries;
	st->busy_dropped = e.busy_dropped;
}
