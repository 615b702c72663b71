/*
 * conf/config.h: the configuration file (YAML; the keys are the operator's
 * contract, conf/bailiwick.example.yaml lists every one) read by both
 * bailiwick-control and bailiwick-dataplane at start and on reload. Control process and dataplane main thread, may
 * block (cfg_load reads a file); never called from a worker loop. Functions
 * keep no state: any thread, concurrently on distinct structs.
 *
 * The parsed configuration is one fixed-size struct with documented bounds
 * (at most CFG_ACL_MAX rules, CFG_LISTEN_MAX listen addresses, ...): nothing
 * in it is allocated, so there is no free function, it may be copied with
 * memcpy, and a reload builds the new struct to the side and swaps it in.
 * A bound exceeded in the file is an error, never a silent truncation.
 *
 * Errors: the parse functions return 0 or a negative CFG_E_* code, and write
 * one line for the first error found into the caller's buffer (values are
 * checked in file order; checks between keys of one mapping and its missing
 * keys when that mapping ends):
 *   FILE:LINE:COLUMN: KEY.PATH: what is wrong
 * e.g. `bailiwick.yaml:7:15: cache.max-ttl: "abc" is not a number of
 * seconds`. Lines and columns count from 1; list elements are named by
 * their 0-based index (`access-control[1].prefix`). The library prints
 * nothing and never exits.
 *
 * Value syntax (the same everywhere):
 * - numbers are unquoted decimal digits: no sign, no leading zero, no
 *   fraction, no trailing text; values outside a key's range (overflow
 *   included) are range errors;
 * - booleans are unquoted true or false (YAML 1.1's yes/no/on/off are
 *   rejected: they mean strings in YAML 1.2 and surprise either way);
 * - sizes are numbers of octets with an optional binary suffix K, M or G;
 * - strings may be plain or quoted, must not be empty or contain NUL;
 *   paths must be absolute (the processes do not share a working directory
 *   with the operator's shell);
 * - an empty value, null or ~ is an error: leave a key out to get its
 *   default;
 * - explicit tags (!!int, !foo) are rejected; anchors and aliases work;
 *   flow style ({ a: 1 }, [ 1, 2 ]) and block style are equivalent;
 * - exactly one YAML document, whose top is a mapping; an empty file is an
 *   error because resolver.root-hints is required;
 * - IPv6 addresses need quotes where YAML would misread them: "[::1]@53" is
 *   a flow list unquoted, and "::/0" cannot start a plain flow scalar.
 */
#ifndef BW_CONF_CONFIG_H
#define BW_CONF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_ERRORS(X)                                                          \
	X(CFG_E_IO, -3001, "cannot read the configuration file")               \
	X(CFG_E_SYNTAX, -3002, "YAML syntax error")                            \
	X(CFG_E_UNKNOWN_KEY, -3003, "unknown key")                             \
	X(CFG_E_TYPE, -3004, "wrong kind of value (scalar, list or mapping)")  \
	X(CFG_E_VALUE, -3005, "bad value")                                     \
	X(CFG_E_RANGE, -3006, "number out of range")                           \
	X(CFG_E_DUPLICATE, -3007, "key or list element given twice")           \
	X(CFG_E_MISSING, -3008, "required key missing")                        \
	X(CFG_E_LIMIT, -3009, "a bound exceeded (list elements, string or file length)") \
	X(CFG_E_NOMEM, -3010, "out of memory")

enum cfg_err {
#define CFG_ERR_ENUM(name, value, text) name = value,
	CFG_ERRORS(CFG_ERR_ENUM)
#undef CFG_ERR_ENUM
};

/* Bounds of the fixed-size struct; exceeding one in a file is CFG_E_LIMIT. */
#define CFG_FILE_MAX (1u << 20)	   /* octets of a configuration file */
#define CFG_PATH_MAX 1024	   /* octets of a path, NUL included */
#define CFG_SOCKET_PATH_MAX 108	   /* sun_path of a unix socket, NUL included */
#define CFG_ACL_MAX 64		   /* access-control rules */
#define CFG_LISTEN_MAX 16	   /* listen addresses */
#define CFG_SOURCE_MAX 16	   /* resolver.upstream.source-addresses */
#define CFG_PORT_EXCLUDE_MAX 64	   /* resolver.upstream.ports.exclude */
#define CFG_QUERY_PREFIXES_MAX 64  /* resolver.do-not-query, resolver.do-query */
#define CFG_EAL_ARGS_MAX 64	   /* dataplane.eal arguments */
#define CFG_EAL_ARG_MAX 256	   /* octets of one EAL argument, NUL included */
#define CFG_PORTS_MAX 16	   /* dataplane.ports */
#define CFG_DEVICE_MAX 256	   /* octets of a port's device, NUL included */
#define CFG_PORT_ADDRS_MAX 8	   /* addresses of one port */
#define CFG_WORKERS_MAX 128	   /* dataplane.workers */
#define CFG_CONTROL_THREADS_MAX 64 /* control.threads */
#define CFG_LCORE_MAX 1023	   /* highest lcore id (the EAL checks its own) */
#define CFG_TTL_MAX_S 2147483647u  /* RFC 2181 8: TTLs are 31-bit */
#define CFG_POLICY_MAX 32	   /* policy zones */
#define CFG_ZONES_MAX 32	   /* stub-zones, forward-zones: each */
#define CFG_ZONE_SERVERS_MAX 16	   /* servers of one of them */
#define CFG_DNAME_MAX 254	   /* a domain name in text, NUL included */
#define CFG_TSIG_MAX 16		   /* tsig-keys */
#define CFG_TSIG_SECRET_MAX 128	   /* octets of a TSIG key's secret */
#define CFG_GROUP_MAX 64	   /* control.socket-group */
#define CFG_METRICS_PORT 9953	   /* metrics.listen without @PORT */
#define CFG_NOTIFY_LISTEN_MAX 4	   /* control.notify-listen */
#define CFG_DNSTAP_TEXT_MAX 256	   /* dnstap.identity, dnstap.version, NUL included */
#define CFG_DNSTAP_SAMPLE_MAX 1000000000u /* dnstap.sample: 1 in at most this */

enum cfg_qname_min {
	CFG_QMIN_OFF = 0,
	CFG_QMIN_RELAXED,	/* RFC 9156: fall back to the full name on errors */
	CFG_QMIN_STRICT,	/* no fallback: errors from a cut are final */
};

enum cfg_acl_action {
	CFG_ACL_ALLOW = 0,
	CFG_ACL_REFUSE,		/* answer REFUSED */
	CFG_ACL_DROP,		/* no answer */
};

/* log.level: syslog's priorities from LOG_ERR (3) on are these + 3 */
enum cfg_log_level {
	CFG_LOG_ERR = 0,
	CFG_LOG_WARNING,
	CFG_LOG_NOTICE,
	CFG_LOG_INFO,
	CFG_LOG_DEBUG,
	CFG_LOG_LEVELS
};
extern const char *const cfg_log_levels[CFG_LOG_LEVELS]; /* "err" .. "debug" */

enum cfg_log_target {
	CFG_LOG_STDERR = 0,
	CFG_LOG_SYSLOG,
	CFG_LOG_JOURNAL,
	CFG_LOG_TARGETS
};
extern const char *const cfg_log_targets[CFG_LOG_TARGETS]; /* "stderr" .. "journal" */

enum cfg_control_down {
	CFG_DOWN_SERVFAIL = 0,
	CFG_DOWN_DROP,
};

/* What a worker does with a miss control cannot take now (its ring full,
 * or the worker over dataplane.miss-budget). */
enum cfg_miss_overflow {
	CFG_OVERFLOW_SERVFAIL = 0,
	CFG_OVERFLOW_DROP,
};

#define CFG_MISS_BUDGET_MAX 10000000u	/* misses a second, per worker */

/* An IP address: family is AF_INET (addr[0..3]) or AF_INET6 (addr[0..15]). */
struct cfg_addr {
	uint8_t family;
	uint8_t addr[16];
};

/* A prefix: len is 0..32 (AF_INET) or 0..128 (AF_INET6). */
struct cfg_prefix {
	struct cfg_addr a;
	uint8_t len;
};

/* A socket address; port 1..65535. */
struct cfg_endpoint {
	struct cfg_addr a;
	uint16_t port;
};

struct cfg_acl_rule {
	struct cfg_prefix prefix;	/* host bits are zero */
	uint8_t action;			/* enum cfg_acl_action */
};

/* A DPDK port of the dataplane and its interface addresses. */
struct cfg_port {
	char device[CFG_DEVICE_MAX];	/* EAL device name or PCI address */
	unsigned n_addresses;		/* 1..CFG_PORT_ADDRS_MAX */
	struct cfg_prefix addresses[CFG_PORT_ADDRS_MAX]; /* host bits kept */
	/* exception: the kernel interface (a TAP) that gets what the workers
	 * do not answer; default bwexcN for element N. */
	char exception[16];
};

/* policy[].policy: what the zone's matches do. */
enum cfg_policy_override {
	CFG_POLICY_GIVEN = 0,	/* the zone's own actions */
	CFG_POLICY_NXDOMAIN,
	CFG_POLICY_NODATA,
	CFG_POLICY_PASSTHRU,
	CFG_POLICY_DROP,
	CFG_POLICY_TCP_ONLY,
	CFG_POLICY_CNAME,	/* every match a CNAME to policy[].cname */
};

#define CFG_EDE_NONE 0xffff

/* tsig-keys[].algorithm (RFC 8945 6: HMAC-SHA256 is the one to use;
 * HMAC-MD5 is not offered). */
enum cfg_tsig_alg {
	CFG_TSIG_HMAC_SHA256 = 0,
	CFG_TSIG_HMAC_SHA1,
	CFG_TSIG_HMAC_SHA224,
	CFG_TSIG_HMAC_SHA384,
	CFG_TSIG_HMAC_SHA512,
};

/* A TSIG key (RFC 8945), named by policy zones' key. */
struct cfg_tsig {
	char name[CFG_DNAME_MAX];	/* name: the key's name, required,
					   unique (as the primary knows it) */
	uint8_t alg;			/* algorithm: hmac-sha256 */
	uint8_t secret_len;		/* 1..CFG_TSIG_SECRET_MAX */
	uint8_t secret[CFG_TSIG_SECRET_MAX]; /* secret: base64, required */
};

/* One response policy zone (RPZ). */
struct cfg_policy {
	char name[CFG_DNAME_MAX];	/* name: the zone's origin, required,
					   unique; "rpz.example" or with the
					   final dot */
	/* file: the zone file; required without primary. With primary: where
	 * each transferred version is written (and read at start, so that a
	 * restart while the primary is down keeps the policy); optional. */
	char file[CFG_PATH_MAX];
	/* primary: ADDR@PORT to transfer the zone from (AXFR, then IXFR over
	 * TCP); NOTIFYs from its address are accepted (control.notify-listen).
	 * Refreshed by the SOA's refresh and retry timers (clamped to 5 s..1 d
	 * and 2 s..1 h). */
	bool has_primary;
	struct cfg_endpoint primary;
	/* key: the name of a tsig-keys element signing the transfers, SOA
	 * queries and NOTIFYs with the primary; -1: none */
	int8_t key;
	uint8_t override;		/* policy: given (enum cfg_policy_override) */
	bool log;			/* log: control logs its matches, false */
	uint16_t ede;			/* ede: blocked (15), censored (16),
					   filtered (17) or none (CFG_EDE_NONE);
					   blocked. RFC 8914, EDNS clients only */
	uint32_t max_ttl_s;		/* max-ttl: 0..CFG_TTL_MAX_S, 3600 */
	char cname[CFG_DNAME_MAX];	/* cname: required with policy: cname */
};

/* A stub or forward zone: questions at or below name go to servers (port
 * 53): authorities to iterate from (stub), or resolvers whose answer is
 * final (forward). */
struct cfg_zone {
	char name[CFG_DNAME_MAX];	/* name: required, not the root, unique
					   across both lists */
	unsigned n_servers;		/* servers: 1..CFG_ZONE_SERVERS_MAX */
	struct cfg_endpoint servers[CFG_ZONE_SERVERS_MAX];
	bool rd;			/* forward: recursion-desired, true */
};

/*
 * Every field, its key, range and default (cfg_default()). Ranges are
 * inclusive; a parsed struct holds nothing outside them.
 */
struct cfg {
	struct {
		char root_hints[CFG_PATH_MAX];	 /* root-hints: required */
		char trust_anchor[CFG_PATH_MAX]; /* trust-anchor: "" = no validation */
		uint8_t qname_min;		 /* qname-minimisation: relaxed */
		/* clock-scale: seconds of the TTL clock per real second,
		 * 1..3600, 1. Only for replaying traces in studies
		 * (bench/root-study): 24 h of a trace in minutes. With a
		 * dataplane its cache clock and control's run as one
		 * (shm_ctl.clock_base_ms). Upstream timeouts stay in real
		 * time; never for service. */
		uint32_t clock_scale;
		bool has_validation_time;	 /* validation-time given */
		int64_t validation_time;	 /* unix seconds, 0..253402300799 */
		/* NSEC3 with more iterations proves nothing: the answer is
		 * treated as insecure (RFC 9276 3.2). 0..2500, 100. */
		uint32_t nsec3_max_iterations;
		/* dnssec: the validator's clock and work limits (control/val.h). */
		struct {
			uint32_t skew_s;	   /* skew: 0..86400, 3600 */
			bool rsasha1;		   /* rsasha1: true (algorithms 5, 7) */
			uint32_t max_verifications; /* per question: 1..1000, 32 */
			uint32_t max_failures;	   /* failed ones: 1..1000, 8 */
			uint32_t max_nsec3_hashes; /* per question: 1..10000, 64 */
			bool log_bogus;		   /* a line per bogus answer: false */
		} dnssec;
		/* An upstream RRset with more records is refused, not cut
		 * (a cut RRset no longer matches its signature). 1..65535, 100. */
		uint32_t max_rrset_records;
		/* cache-size: the iterator's own cache (answers on the way: NS
		 * addresses, chain links) when a dataplane holds the client
		 * cache; standalone, cache.size is the one cache and this is
		 * unused. 1M..1024G, 64M. */
		uint64_t cache_size_bytes;
		/* Server addresses never asked (glue, NS addresses, hints):
		 * do-not-query (default: loopback, RFC 1918, 100.64/10,
		 * link-local, documentation, ULA), unless in do-query
		 * (default empty: a lab's authorities on 127/8, say). 0/8,
		 * multicast, 240/4, :: and the resolver's own addresses are
		 * never asked, whatever the lists say. */
		unsigned n_do_not_query;	 /* 0..CFG_QUERY_PREFIXES_MAX */
		struct cfg_prefix do_not_query[CFG_QUERY_PREFIXES_MAX];
		unsigned n_do_query;		 /* 0..CFG_QUERY_PREFIXES_MAX, 0 */
		struct cfg_prefix do_query[CFG_QUERY_PREFIXES_MAX];
		/* sibling-glue: a referral's addresses for NS names inside the
		 * parent zone but outside the cut reach that delegation's
		 * servers (RFC 9471); false: only glue inside the cut. true */
		bool sibling_glue;
		struct {
			uint32_t max_referrals;	       /* 1..255, 30 */
			uint32_t max_ns_per_referral;  /* 1..64, 6 */
			uint32_t max_upstream_queries; /* 1..10000, 100 */
			uint32_t max_cname_chain;      /* 0..255, 11 */
			uint32_t max_time_ms;	       /* 1..600000, 10000 */
			/* percent of the outstanding resolutions that may
			 * follow one zone's cut at once */
			uint32_t max_zone_share;       /* 1..100, 10 */
		} limits;
		struct {
			uint16_t edns_buffer;	 /* 512..4096, 1232 */
			bool use_0x20;		 /* true */
			bool cookies;		 /* true */
			uint32_t timeout_ms;	 /* 10..60000, 800 */
			uint32_t retries;	 /* 0..10, 2 */
			/* ports: a fresh source port for every UDP query,
			 * drawn from range minus exclude (at least one left) */
			uint16_t port_min;	 /* 1..65535, 1024; <= port_max */
			uint16_t port_max;	 /* 1..65535, 65535 */
			unsigned n_port_exclude; /* 0..CFG_PORT_EXCLUDE_MAX, 0 */
			uint16_t port_exclude[CFG_PORT_EXCLUDE_MAX][2]; /* first, last */
			unsigned n_source;	 /* 0..CFG_SOURCE_MAX, 0: kernel's choice */
			struct cfg_addr source[CFG_SOURCE_MAX];
		} upstream;
	} resolver;
	struct {
		uint64_t size_bytes;		/* size: 1M..1024G, 1G */
		uint32_t min_ttl_s;		/* 0..CFG_TTL_MAX_S, 0; <= max_ttl_s */
		uint32_t max_ttl_s;		/* 1..CFG_TTL_MAX_S, 86400 */
		uint32_t max_negative_ttl_s;	/* 0..CFG_TTL_MAX_S, 3600 */
		bool stale_enabled;		/* serve-stale.enabled: true */
		uint32_t max_stale_s;		/* 1..CFG_TTL_MAX_S, 86400 */
		uint32_t stale_answer_ttl_s;	/* 1..86400, 30 (RFC 8767) */
		uint32_t stale_client_timeout_ms; /* 0..60000, 1800 (RFC 8767) */
		bool prefetch_enabled;		/* prefetch.enabled: true */
		uint8_t prefetch_threshold_percent; /* 0..100, 10 */
		/* RFC 9520: a failed question is answered SERVFAIL (or stale)
		 * without resolving for failure-ttl, doubling when it fails
		 * again soon after, up to max-failure-ttl */
		uint32_t failure_ttl_s;		/* 1..30, 5; <= max */
		uint32_t max_failure_ttl_s;	/* 1..300, 30 */
		/* RFC 8198: validated NSEC/NSEC3 ranges answer NXDOMAIN and
		 * NODATA for names they cover. Default: on when a trust
		 * anchor is configured; true without one is an error */
		bool aggressive_nsec;
		bool aggressive_nsec_given;	/* (the file set it) */
	} cache;
	/* access-control: first match wins; no match refuses. Default:
	 * allow 127.0.0.0/8, allow ::1/128. */
	unsigned n_acl;				/* 0..CFG_ACL_MAX */
	struct cfg_acl_rule acl[CFG_ACL_MAX];
	/* policy: response policy zones, first match wins across zones (the
	 * RPZ draft's precedence); default none. */
	unsigned n_policy;			/* 0..CFG_POLICY_MAX */
	struct cfg_policy policy[CFG_POLICY_MAX];
	/* tsig-keys: default none */
	unsigned n_tsig;			/* 0..CFG_TSIG_MAX */
	struct cfg_tsig tsig[CFG_TSIG_MAX];
	/* stub-zones, forward-zones: default none */
	unsigned n_stub;			/* 0..CFG_ZONES_MAX */
	struct cfg_zone stub[CFG_ZONES_MAX];
	unsigned n_forward;			/* 0..CFG_ZONES_MAX */
	struct cfg_zone forward[CFG_ZONES_MAX];
	/* listen: default 127.0.0.1@53 and [::1]@53. */
	unsigned n_listen;			/* 1..CFG_LISTEN_MAX */
	struct cfg_endpoint listen[CFG_LISTEN_MAX];
	struct {
		char socket[CFG_SOCKET_PATH_MAX]; /* /run/bailiwick/control.sock */
		/* socket-mode: its permission bits (octal in the file), 0660;
		 * socket-group: the group that owns it (a name or a number),
		 * default none: the process's (root: the socket is root's) */
		uint32_t socket_mode;
		char socket_group[CFG_GROUP_MAX];
		/* user: the user (a name) control runs as once its sockets are
		 * bound and its files open; default none (it stays root).
		 * Standalone only: an EAL secondary maps the dataplane's
		 * hugepage files, which are root's, and re-attaches as root */
		char user[CFG_GROUP_MAX];
		/* notify-listen: UDP addresses where control takes NOTIFYs
		 * (RFC 1996) from policy zones' primaries; default none */
		unsigned n_notify;		  /* 0..CFG_NOTIFY_LISTEN_MAX */
		struct cfg_endpoint notify[CFG_NOTIFY_LISTEN_MAX];
		/* threads: control threads that resolve (control/pool.h),
		 * 1..CFG_CONTROL_THREADS_MAX; 0 (the default): the CPUs
		 * control may run on, less the dataplane's workers, at least
		 * one (control/main.c) */
		uint32_t threads;
	} control;
	/* metrics: the Prometheus endpoint (control/metrics.h); absent: none.
	 * listen without @PORT: CFG_METRICS_PORT */
	struct {
		bool enabled;
		struct cfg_endpoint listen;	/* listen: ADDR@PORT */
	} metrics;
	/* dnstap: copies of DNS messages (the standard dnstap.proto) in frame
	 * streams, to a reader's Unix socket or to a file; absent: none.
	 * Client messages are sampled: 1 query in sample (each worker, and
	 * control's own front end), with its response. Read at start only. */
	struct {
		bool enabled;
		char socket[CFG_SOCKET_PATH_MAX]; /* socket: a reader listens there */
		char file[CFG_PATH_MAX];	  /* file: or written here (one of the two) */
		char identity[CFG_DNSTAP_TEXT_MAX]; /* identity: "" = the host name */
		char version[CFG_DNSTAP_TEXT_MAX];  /* version: "" = "bailiwick VERSION" */
		uint32_t sample;		/* 1..CFG_DNSTAP_SAMPLE_MAX, 1 */
		bool client_queries;		/* client-queries: true */
		bool client_responses;		/* client-responses: true */
		bool resolver_queries;		/* resolver-queries: true */
		bool resolver_responses;	/* resolver-responses: true */
	} dnstap;
	/* log: control's messages (the dataplane's few go to its stdout and
	 * stderr). query-sample: 1 client query in N logged at info (each
	 * worker counts its own; control's front end too); 0: none. level
	 * and target change at a reload, query-sample needs a restart. */
	struct {
		uint8_t level;			/* enum cfg_log_level, info */
		uint8_t target;			/* enum cfg_log_target, stderr */
		uint32_t query_sample;		/* 0..CFG_DNSTAP_SAMPLE_MAX, 0 */
	} log;
	/* tcp: the TCP front end (control's listen sockets). A client is an
	 * IPv4 address or an IPv6 /64. A connection is closed when no whole
	 * query has come, and no answer has been read, for idle-timeout-ms. */
	struct {
		uint32_t max_connections;	/* 1..65536, 256 */
		uint32_t max_per_client;	/* 1..65536, 8 */
		uint32_t idle_timeout_ms;	/* 100..600000, 10000 */
	} tcp;
	struct {
		bool enabled;			/* the dataplane key is present */
		unsigned n_eal;			/* 0..CFG_EAL_ARGS_MAX, 0 */
		char eal[CFG_EAL_ARGS_MAX][CFG_EAL_ARG_MAX];
		unsigned n_ports;		/* 1..CFG_PORTS_MAX when enabled */
		struct cfg_port ports[CFG_PORTS_MAX];
		unsigned n_workers;		/* 1..CFG_WORKERS_MAX when enabled */
		uint16_t workers[CFG_WORKERS_MAX]; /* unique, 0..CFG_LCORE_MAX */
		/* control-down: what misses get while control is down:
		 * servfail (default) or drop. */
		uint8_t control_down;		/* enum cfg_control_down */
		/* miss-overflow: what a miss control cannot take gets:
		 * servfail (default) or drop; a stale entry is served
		 * instead when there is one (RFC 8767). */
		uint8_t miss_overflow;		/* enum cfg_miss_overflow */
		/* miss-budget: misses (and refreshes) a worker hands to
		 * control a second, a second's worth in hand at most;
		 * 0..CFG_MISS_BUDGET_MAX, 0 (none: only the ring's room) */
		uint32_t miss_budget;
	} dataplane;
};

/*
 * Fills every field with its default (root_hints is left empty: it has
 * none). Every octet is written, padding included, so that two structs with
 * the same settings compare equal with memcmp.
 */
void cfg_default(struct cfg *cfg);

/*
 * Parses the YAML text (len octets, need not be NUL-terminated; name is what
 * error messages call the file) over the defaults. On success returns 0 and
 * replaces *cfg; on failure returns a CFG_E_* code, leaves *cfg untouched
 * and writes one NUL-terminated line (truncated to errlen) to err (err may
 * be NULL when errlen is 0). The caller owns every argument.
 */
int cfg_parse(struct cfg *cfg, const char *text, size_t len,
	      const char *name, char *err, size_t errlen);

/*
 * cfg_parse() on the contents of the file at path (a regular file of at
 * most CFG_FILE_MAX octets; otherwise CFG_E_IO or CFG_E_LIMIT, with the
 * path and the reason in err).
 */
int cfg_load(struct cfg *cfg, const char *path, char *err, size_t errlen);

/* cfg_load() that also writes the SHA-256 of the file's octets (the ones
 * parsed) to sha256 (CFG_SHA256_LEN octets) on success: what tells two
 * processes that they read the same file. */
#define CFG_SHA256_LEN 32
int cfg_load_sha256(struct cfg *cfg, const char *path, uint8_t *sha256, char *err,
		    size_t errlen);

/*
 * Whether an upstream source port may be drawn, given n exclusion ranges
 * (first, last): never 53, whose replies would look like queries to us,
 * nor a port of any range. The one rule the configuration's check (some
 * port must be left) and control's port table share. Any thread.
 */
bool cfg_port_drawable(uint32_t port, const uint16_t (*exclude)[2], unsigned n);

/* The socket address of e (port in network order) in *ss: its length. */
struct sockaddr_storage;
unsigned cfg_endpoint_sockaddr(const struct cfg_endpoint *e, struct sockaddr_storage *ss);

/* Whether addr (p's family's length) lies in prefix p. Any thread. */
bool cfg_prefix_match(const struct cfg_prefix *p, const uint8_t *addr);

/* Static text for a code (never NULL). */
const char *cfg_strerror(int err);

#endif
