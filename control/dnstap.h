/*
 * control/dnstap.h: copies of DNS messages for a collector, as the
 * standard dnstap.proto (protobuf-c, generated at build time from the
 * schema Debian ships) in frame streams (libfstrm, content type
 * "protobuf:dnstap.Dnstap"), written to a reader's Unix socket or to a
 * file (the dnstap section of the configuration). Client messages come
 * from the workers (sampled there, through their tap rings: dplink.c) and
 * from control's own front end (server.c); resolver messages from the
 * upstream module. A message is encoded on the caller's thread and handed
 * to libfstrm's I/O thread through its queue: nothing here blocks, and a
 * message the queue cannot take (a slow or absent reader) is dropped and
 * counted. Control process: the loop's thread, and every control thread's
 * upstream messages (ctl_dnstap_upstream(); handed over one at a time
 * under a mutex); the I/O thread is libfstrm's.
 */
#ifndef BW_CONTROL_DNSTAP_H
#define BW_CONTROL_DNSTAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;

/* dnstap.proto's Message.Type values we send. */
enum ctl_dnstap_type {
	CTL_DNSTAP_RESOLVER_QUERY = 3,
	CTL_DNSTAP_RESOLVER_RESPONSE = 4,
	CTL_DNSTAP_CLIENT_QUERY = 5,
	CTL_DNSTAP_CLIENT_RESPONSE = 6,
};

/*
 * One message as dnstap sees it. "query" is the side that asked (the
 * client; for a resolver message, us), "response" the side that answered
 * (us; the authority). Addresses are 4 or 16 octets by family, NULL when
 * not known; ports 0 when not known; times in ns since the epoch, 0 when
 * not known. msg is the query for a *_QUERY, the response for a
 * *_RESPONSE.
 */
struct ctl_dnstap_msg {
	enum ctl_dnstap_type type;
	int family;			/* AF_INET, AF_INET6 */
	bool tcp;
	const uint8_t *query_addr, *response_addr;
	uint16_t query_port, response_port;
	uint64_t query_ns, response_ns;
	const uint8_t *msg;
	size_t len;
	const uint8_t *zone;		/* resolver messages: the zone cut asked
					   (wire), or NULL */
};

#define CTL_DNSTAP_COUNTERS(X)						\
	X(messages, "dnstap messages handed to libfstrm's writer (which discards them while no reader is connected)") \
	X(dropped, "dnstap messages dropped: the writer's queue was full (a slow reader), or held 64 MiB") \
	X(failed, "dnstap messages not made: out of memory")

struct ctl_dnstap_stats {
#define X(name, text) uint64_t name;
	CTL_DNSTAP_COUNTERS(X)
#undef X
};

struct ctl_dnstap;

/*
 * The output cfg's dnstap section names (cfg->dnstap.enabled must be
 * set), with libfstrm's I/O thread started: a socket is connected (and
 * reconnected) by that thread, so a reader that is not there yet is not an
 * error; a file must be one we can open now (not a symbolic link), and
 * every open of it (at start, after a write error) keeps what it held as
 * FILE.YYYYMMDD-HHMMSS[.N] and starts a new one. NULL with one line in
 * err. The caller frees it.
 */
struct ctl_dnstap *ctl_dnstap_new(const struct cfg *cfg, char *err, size_t errlen);

/* Flushes what is queued (waits for the I/O thread) and frees; true. A
 * reader that stopped reading holds libfstrm's thread: after wait_ms the
 * wait is given up and false returned (t is left to the thread: the
 * process is about to exit or exec). NULL: true. */
bool ctl_dnstap_free(struct ctl_dnstap *t, uint32_t wait_ms);
#define CTL_DNSTAP_FREE_WAIT_MS 2000

/* Whether messages of type are to be sent (the configuration's choice);
 * false for a NULL t. */
bool ctl_dnstap_wants(const struct ctl_dnstap *t, enum ctl_dnstap_type type);

/* For control's own front end: whether this client query is one of the 1
 * in dnstap.sample copied (with its answer); false for a NULL t. */
bool ctl_dnstap_sample(struct ctl_dnstap *t);

/* Encodes m and queues it (counted: messages, dropped, failed). */
void ctl_dnstap_send(struct ctl_dnstap *t, const struct ctl_dnstap_msg *m);

void ctl_dnstap_get_stats(const struct ctl_dnstap *t, struct ctl_dnstap_stats *st);

/*
 * The Dnstap protobuf of m with identity and version (NUL-terminated, ""
 * leaves the field out): a malloc'ed buffer of *len octets, or NULL (out of
 * memory). For the writer and the tests.
 */
uint8_t *ctl_dnstap_encode(const struct ctl_dnstap_msg *m, const char *identity,
			   const char *version, size_t *len);

/*
 * The upstream module's tap (control/upstream.h's up_tap_cb, arg: the
 * struct ctl_dnstap): RESOLVER_QUERY and RESOLVER_RESPONSE messages, we
 * the query side (our UDP source port), the authority the response side,
 * the zone cut asked as query_zone.
 */
struct sockaddr_storage;
void ctl_dnstap_upstream(void *arg, bool reply, const struct sockaddr_storage *server,
			 uint16_t local_port, bool tcp, const uint8_t *msg, size_t len,
			 uint64_t age_us, const uint8_t *zone);

/* The wall clock (CLOCK_REALTIME) in ns since the epoch. */
uint64_t ctl_dnstap_now_ns(void);

#endif
