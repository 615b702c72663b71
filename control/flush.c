/*
 * control/flush.c: the operator's flush verbs (flush.h). Control's own
 * parts are flushed where they are (its cache by its loop's trim, a slice
 * between rounds of events; its NSEC store and delegation table at once);
 * the dataplane's caches through shm.h's flush request, one at a time.
 * The answer waits until both have looked at every entry, so that a
 * question asked after bailiwick-ctl returns is resolved again.
 */
#include "control/flush.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/err.h"
#include "control/iter.h"
#include "dns/name.h"
#include "shm/shm.h"

#define FLUSH_WAIT_MS 10000
#define NAME_STR_MAX 1024 /* a name in presentation form, \DDD and all */

struct flush_req {
	struct ctl_flush_parts x;
	int fd;
	struct ctl_timer wait;
	unsigned waited_ms;
	uint64_t seq;		/* the dataplane's flush (0: none) */
	uint64_t entries, cuts, zones;	/* control's (entries: flush-all's) */
	char what[NAME_STR_MAX + 32];
};

static void flush_wait(struct ctl_loop *loop, void *arg)
{
	struct flush_req *q = arg;
	uint64_t mine = 0, dp_removed = 0, dp_zones = 0;
	bool busy = cache_flush_busy(q->x.cache, &mine);
	bool dp_done = !q->seq || ctl_dp_lost(q->x.dp) ||
		       ctl_dp_flush_done(q->x.dp, q->seq, &dp_removed, &dp_zones);
	char text[512];
	int n;

	if ((busy || !dp_done) && q->waited_ms < FLUSH_WAIT_MS) {
		q->waited_ms += 10;
		ctl_timer_add(loop, &q->wait, 10, flush_wait, q);
		return;
	}
	if (busy || !dp_done)
		n = snprintf(text, sizeof(text),
			     "error: %s: not done in %u ms (%s goes on with it)\n", q->what,
			     FLUSH_WAIT_MS, busy ? "control" : "the dataplane");
	else if (q->seq && ctl_dp_lost(q->x.dp))
		n = snprintf(text, sizeof(text), "error: %s: the dataplane is gone\n", q->what);
	else
		n = snprintf(text, sizeof(text),
			     "ok %s: %llu cache entries, %llu NSEC zones, %llu delegations\n",
			     q->what, (unsigned long long)(q->entries + mine + dp_removed),
			     (unsigned long long)(q->zones + dp_zones),
			     (unsigned long long)q->cuts);
	ctl_sock_reply(q->fd, text, (size_t)n);
	free(q);
}

/* The verb's word and its one argument (NULL: none); false when cmd is
 * not verb. */
static bool verb(const char *cmd, const char *v, const char **arg)
{
	size_t n = strlen(v);

	if (strncmp(cmd, v, n) || (cmd[n] && cmd[n] != ' ' && cmd[n] != '\t'))
		return false;
	cmd += n;
	while (*cmd == ' ' || *cmd == '\t')
		cmd++;
	*arg = *cmd ? cmd : NULL;
	return true;
}

int ctl_flush_command(const struct ctl_flush_parts *x, const char *cmd, FILE *f)
{
	const char *arg;
	unsigned mode;

	if (verb(cmd, "flush", &arg))
		mode = SHM_FLUSH_NAME;
	else if (verb(cmd, "flush-zone", &arg))
		mode = SHM_FLUSH_ZONE;
	else if (verb(cmd, "flush-negative", &arg))
		mode = SHM_FLUSH_NEGATIVE;
	else if (verb(cmd, "flush-all", &arg))
		mode = SHM_FLUSH_ALL;
	else
		return CTL_E_UNKNOWN_COMMAND;

	bool named = mode == SHM_FLUSH_NAME || mode == SHM_FLUSH_ZONE;
	uint8_t name[DNS_NAME_MAX];
	struct flush_req *q;

	if (named && (!arg || strpbrk(arg, " \t"))) {
		fprintf(f, "error: %s NAME: one domain name\n", cmd);
		return 0;
	}
	if (!named && arg) {
		fprintf(f, "error: %s takes no argument\n",
			mode == SHM_FLUSH_ALL ? "flush-all" : "flush-negative");
		return 0;
	}
	if (named) {
		uint8_t given[DNS_NAME_MAX];

		if (dns_name_from_str(arg, given) < 0) {
			fprintf(f, "error: \"%s\" is not a domain name\n", arg);
			return 0;
		}
		dns_name_copy_lower(name, given);
	}
	if (cache_flush_busy(x->cache, NULL)) {
		fprintf(f, "error: a flush is in progress; nothing changed (flush again)\n");
		return 0;
	}
	if (!(q = calloc(1, sizeof(*q)))) {
		fprintf(f, "error: out of memory; nothing changed\n");
		return 0;
	}
	q->x = *x;
	if (x->dp && !(q->seq = ctl_dp_flush(x->dp, mode, named ? name : NULL))) {
		free(q);
		fprintf(f, "error: the dataplane has a flush in progress; nothing changed "
			   "(flush again)\n");
		return 0;
	}
	if (named) {
		char s[NAME_STR_MAX];

		dns_name_to_str(name, s, sizeof(s));
		snprintf(q->what, sizeof(q->what), "%s %s",
			 mode == SHM_FLUSH_NAME ? "flushed" : "flushed the zone", s);
	} else {
		snprintf(q->what, sizeof(q->what), "%s",
			 mode == SHM_FLUSH_ALL ? "flushed everything" : "flushed negative answers");
	}
	int zones = 0;
	switch (mode) {
	case SHM_FLUSH_NAME:
	case SHM_FLUSH_ZONE:
		cache_flush_names(x->cache, mode == SHM_FLUSH_NAME ? CACHE_FLUSH_NAME
								   : CACHE_FLUSH_ZONE,
				  name, ctl_iter_now());
		q->cuts = ctl_deleg_flush(x->deleg, name, mode == SHM_FLUSH_ZONE);
		zones = x->nsec ? cache_nsec_flush_under(x->nsec, name) : 0;
		break;
	case SHM_FLUSH_NEGATIVE:
		cache_flush_names(x->cache, CACHE_FLUSH_NEGATIVE, NULL, ctl_iter_now());
		zones = x->nsec ? cache_nsec_flush(x->nsec) : 0;
		break;
	case SHM_FLUSH_ALL: {
		struct cache_stats st;

		cache_get_stats(x->cache, &st);
		/* the epoch makes every entry a miss at once: counted now */
		cache_flush_epoch(x->cache);
		q->entries = st.entries;
		q->cuts = ctl_deleg_flush(x->deleg, NULL, true);
		zones = x->nsec ? cache_nsec_flush(x->nsec) : 0;
		break;
	}
	}
	q->zones = zones > 0 ? (uint64_t)zones : 0;
	if ((q->fd = ctl_sock_defer(x->sock)) < 0) {
		free(q);
		fprintf(f, "error: internal: no connection to answer on\n");
		return 0;
	}
	ctl_timer_init(&q->wait);
	flush_wait(x->loop, q);
	return 0;
}
