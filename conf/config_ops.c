/*
 * conf/config_ops.c: the operator's sections of the schema: control (the
 * operator socket, NOTIFY addresses), metrics, dnstap and log; called by
 * cfgp_root() in conf/config.c, whose rules they follow. Control process
 * and dataplane main thread; no I/O.
 */
#include "conf/config.h"

#include <stdio.h>
#include <string.h>

#include "conf/parser.h"

const char *const cfg_log_levels[CFG_LOG_LEVELS] = { "err", "warning", "notice", "info", "debug" };
const char *const cfg_log_targets[CFG_LOG_TARGETS] = { "stderr", "syslog", "journal" };

static int notify_list(struct ctx *x, yaml_node_t *n)
{
	size_t count;
	int r = cfgp_endpoints(x, n, x->cfg->control.notify, CFG_NOTIFY_LISTEN_MAX, &count);

	if (r)
		return r;
	x->cfg->control.n_notify = (unsigned)count;
	return 0;
}

/* A file's permission bits in octal ("0660", "660"), at most 0777. */
static int file_mode(struct ctx *x, yaml_node_t *n, uint32_t *out)
{
	char s[8];
	int r = cfgp_get_string(x, n, s, sizeof(s), "a file mode in octal (0660)");
	uint32_t m = 0;

	if (r)
		return r;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '7' || m > 0777 / 8)
			return cfgp_fail(x, n->start_mark, CFG_E_VALUE,
					 "%s is not a file mode in octal (0600, 0660, at most 0777)",
					 cfgp_show(x, n));
		m = m * 8 + (uint32_t)(*p - '0');
	}
	if (!s[0])
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE, "is empty: give a mode (0660)");
	*out = m;
	return 0;
}

int cfgp_control(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "socket", "notify-listen", "socket-mode", "socket-group", "user", "threads");
	int r = cfgp_walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, cfgp_get_path(x, v, x->cfg->control.socket,
				  sizeof(x->cfg->control.socket)));
	FIELD(k, 1, notify_list(x, v));
	FIELD(k, 2, file_mode(x, v, &x->cfg->control.socket_mode));
	FIELD(k, 4, cfgp_get_string(x, v, x->cfg->control.user, sizeof(x->cfg->control.user),
				    "a user name"));
	FIELD(k, 3, cfgp_get_string(x, v, x->cfg->control.socket_group,
				    sizeof(x->cfg->control.socket_group), "a group name or number"));
	FIELD(k, 5, cfgp_get_u32(x, v, 1, CFG_CONTROL_THREADS_MAX, "a number of threads",
				 &x->cfg->control.threads));
	return 0;
}

/* metrics.listen: ADDR@PORT; without @PORT, 9953 (not DNS's 53). */
static int metrics_listen(struct ctx *x, yaml_node_t *n)
{
	int r = cfgp_get_endpoint(x, n, &x->cfg->metrics.listen);

	if (!r && !memchr(n->data.scalar.value, '@', n->data.scalar.length))
		x->cfg->metrics.listen.port = CFG_METRICS_PORT;
	return r;
}

int cfgp_metrics(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "listen");
	int r = cfgp_walk_map(x, n, &k_walk);

	if (r)
		return r;
	if (!k[0])
		return cfgp_missing(x, n->start_mark, "listen");
	FIELD(k, 0, metrics_listen(x, v));
	x->cfg->metrics.enabled = true;
	return 0;
}

/* dnstap: a socket or a file, what to copy, and 1 in how many. */
int cfgp_dnstap(struct ctx *x, yaml_node_t *n)
{
	typeof(x->cfg->dnstap) *d = &x->cfg->dnstap;
	MAP_WALK(k, "socket", "file", "identity", "version", "sample", "client-queries",
		 "client-responses", "resolver-queries", "resolver-responses");
	int r = cfgp_walk_map(x, n, &k_walk);

	if (r)
		return r;
	if (k[0] && k[1])
		return cfgp_fail(x, k[1]->start_mark, CFG_E_VALUE,
				 "socket and file are both given: give one of the two");
	if (!k[0] && !k[1])
		return cfgp_fail(x, n->start_mark, CFG_E_MISSING,
				 "give socket (a reader's Unix socket) or file");
	FIELD(k, 0, cfgp_get_path(x, v, d->socket, sizeof(d->socket)));
	FIELD(k, 1, cfgp_get_path(x, v, d->file, sizeof(d->file)));
	FIELD(k, 2, cfgp_get_string(x, v, d->identity, sizeof(d->identity), "a string"));
	FIELD(k, 3, cfgp_get_string(x, v, d->version, sizeof(d->version), "a string"));
	FIELD(k, 4, cfgp_get_u32(x, v, 1, CFG_DNSTAP_SAMPLE_MAX,
				 "1 in how many client queries (1: every one)", &d->sample));
	FIELD(k, 5, cfgp_get_bool(x, v, &d->client_queries));
	FIELD(k, 6, cfgp_get_bool(x, v, &d->client_responses));
	FIELD(k, 7, cfgp_get_bool(x, v, &d->resolver_queries));
	FIELD(k, 8, cfgp_get_bool(x, v, &d->resolver_responses));
	d->enabled = true;
	return 0;
}

/* log: the level, where lines go, and the sampled query log. */
int cfgp_log(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "level", "target", "query-sample");
	int r = cfgp_walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, cfgp_get_enum(x, v, cfg_log_levels, CFG_LOG_LEVELS,
				  "one of err, warning, notice, info, debug", &x->cfg->log.level));
	FIELD(k, 1, cfgp_get_enum(x, v, cfg_log_targets, CFG_LOG_TARGETS,
				  "one of stderr, syslog, journal",
				  &x->cfg->log.target));
	FIELD(k, 2, cfgp_get_u32(x, v, 0, CFG_DNSTAP_SAMPLE_MAX,
				 "1 in how many client queries (0: none)", &x->cfg->log.query_sample));
	return 0;
}
