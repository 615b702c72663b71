/*
 * control/flush.c: the operator's flush verbs (flush.h). Control's own
 * parts are flushed where they are (its cache by its loop's trim, a slice
 * between rounds of events; its NSEC store, delegation table, key table
 * and failure memory at once); then, once its own cache is done (until
 * then control could refill the workers from it), the dataplane's caches
 * through shm.h's flush request. The answer waits until both have looked
 * at every entry, so that a question asked after bailiwick-ctl returns is
 * resolved again.
 *
 * Left as they are: resolutions already in progress when the flush comes
 * (begun with the data flushed) fill the caches when they end.
 */
#include "control/flush.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/err.h"
#include "control/err.h"
#include "dns/name.h"
#include "shm/shm.h"

#define FLUSH_WAIT_MS 10000
#define NAME_STR_MAX 1024 /* a name in presentation form, \DDD and all */

struct flush_req {
	struct ctl_flush_parts x;
	int fd;
	struct ctl_timer wait;
	uint64_t started_ms;
	unsigned mode;		/* SHM_FLUSH_* */
	uint8_t name[DNS_NAME_MAX];
	uint64_t seq;		/* the dataplane's flush (0: not asked yet) */
	uint64_t entries, cuts, zones, keys; /* control's (entries: flush-all's) */
	int zones_rc;	/* cache_flush_stores()'s */
	const char *err;	/* control's part failed: why */
	char what[NAME_STR_MAX + 32];
};

static bool pending; /* one flush at a time */

static void answer(struct flush_req *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void answer(struct flush_req *q, const char *fmt, ...)
{
	char text[sizeof(q->what) + 200];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(text))
		n = (int)sizeof(text) - 1;
	ctl_sock_reply(q->x.sock, q->fd, text, (size_t)n);
	pending = false;
	free(q);
}

/* The dataplane's part asked for (0 when it has one in progress). */
static uint64_t ask_dataplane(const struct flush_req *q)
{
	bool named = q->mode == SHM_FLUSH_NAME || q->mode == SHM_FLUSH_ZONE;

	return ctl_dp_flush(q->x.dp, q->mode, named ? q->name : NULL);
}

static void flush_wait(struct ctl_loop *loop, void *arg)
{
	struct flush_req *q = arg;
	uint64_t mine = 0, dp_removed = 0, dp_zones = 0;
	uint32_t dp_status = SHM_FLUSH_OK;
	ctl_iter_cache_lock();
	bool busy = cache_flush_busy(q->x.cache, &mine);
	ctl_iter_cache_unlock();
	bool lost = q->x.dp && ctl_dp_lost(q->x.dp);
	bool dp_done = !q->x.dp || lost;

	if (!busy && !dp_done && !q->seq)
		q->seq = ask_dataplane(q);
	if (!dp_done && q->seq)
		dp_done = ctl_dp_flush_done(q->x.dp, q->seq, &dp_removed, &dp_zones, &dp_status);
	if ((busy || !dp_done) && ctl_now_ms() - q->started_ms < FLUSH_WAIT_MS &&
	    ctl_timer_add(loop, &q->wait, 10, flush_wait, q) == 0)
		return;
	if (busy || !dp_done) {
		/* no answer to wait for: the dataplane asked all the same
		 * (if it has not been yet), both go on */
		if (!q->seq && !lost && q->x.dp)
			q->seq = ask_dataplane(q);
		answer(q, "error: %s: not done in %llu ms (%s; it goes on%s)\n", q->what,
		       (unsigned long long)(ctl_now_ms() - q->started_ms),
		       busy ? "control's cache" : "the dataplane's cache",
		       q->x.dp && !q->seq ? ", but the dataplane had a flush in progress: "
					    "flush again" : "");
		return;
	}
	if (lost)
		answer(q, "error: %s: the dataplane is gone\n", q->what);
	else if (q->err)
		answer(q, "error: %s: %s\n", q->what, q->err);
	else if (dp_status == SHM_FLUSH_REFUSED)
		answer(q, "error: %s: the dataplane refused the request (writer.flush_rejected)\n",
		       q->what);
	else if (dp_status == SHM_FLUSH_NOMEM)
		answer(q, "error: %s: the dataplane's NSEC store: out of memory (its ranges stay)\n",
		       q->what);
	else
		answer(q, "ok %s: %llu cache entries, %llu NSEC zones, %llu delegations, "
			  "%llu key table entries\n",
		       q->what,
		       (unsigned long long)((q->mode == SHM_FLUSH_ALL ? q->entries : mine) +
					    dp_removed),
		       /* with a dataplane control's store is a copy of the
			* workers': their count */
		       (unsigned long long)(q->x.dp ? dp_zones : q->zones), (unsigned long long)q->cuts,
		       (unsigned long long)q->keys);
}

/* What only control holds, in every control thread. */
static void flush_one(void *arg, unsigned i, const struct ctl_pool_shard *s)
{
	struct flush_req *q = arg;
	bool named = q->mode == SHM_FLUSH_NAME || q->mode == SHM_FLUSH_ZONE;

	(void)i;
	if (named) {
		q->cuts += ctl_deleg_flush(s->deleg, q->name, q->mode == SHM_FLUSH_ZONE);
		q->keys += ctl_iter_flush(s->it, q->name, q->mode == SHM_FLUSH_ZONE);
	} else if (q->mode == SHM_FLUSH_ALL) {
		q->cuts += ctl_deleg_flush(s->deleg, NULL, true);
		q->keys += ctl_iter_flush(s->it, NULL, true);
	} else {
		ctl_iter_forget_failures(s->it);
	}
}

/* The caches, while every control thread is held still after its own
 * part went: none of them answers from what it knew before the flush
 * (what is already on its way back, as a resolution in progress with one
 * thread, still arrives: see the header). */
static void flush_caches(void *arg)
{
	struct flush_req *q = arg;
	bool named = q->mode == SHM_FLUSH_NAME || q->mode == SHM_FLUSH_ZONE;

	ctl_iter_cache_lock();
	q->zones_rc = cache_flush_stores(q->x.cache, q->x.nsec, q->mode, named ? q->name : NULL,
					 ctl_iter_now(), &q->entries);
	ctl_iter_cache_unlock();
}

int ctl_flush_command(const struct ctl_flush_parts *x, const char *cmd, FILE *f)
{
	static const char *const verbs[] = {
		[SHM_FLUSH_NAME] = "flush", [SHM_FLUSH_ZONE] = "flush-zone",
		[SHM_FLUSH_NEGATIVE] = "flush-negative", [SHM_FLUSH_ALL] = "flush-all",
	};
	const char *arg = NULL;
	unsigned mode = 0;

	for (unsigned m = SHM_FLUSH_NAME; m <= SHM_FLUSH_ALL && !mode; m++)
		if (ctl_sock_verb(cmd, verbs[m], &arg))
			mode = m;
	if (!mode)
		return CTL_E_UNKNOWN_COMMAND;

	bool named = mode == SHM_FLUSH_NAME || mode == SHM_FLUSH_ZONE;
	uint8_t given[DNS_NAME_MAX];
	struct flush_req *q;
	int r;

	if (named && (!arg || strpbrk(arg, " \t"))) {
		fprintf(f, "error: %s NAME: one domain name\n", verbs[mode]);
		return 0;
	}
	if (!named && arg) {
		fprintf(f, "error: %s takes no argument\n", verbs[mode]);
		return 0;
	}
	if (named && (r = dns_name_from_str(arg, given)) < 0) {
		fprintf(f, "error: \"%s\" is not a domain name (%s)\n", arg,
			r == DNS_E_LABEL_LEN  ? "a label over 63 octets"
			: r == DNS_E_NAME_LEN ? "over 255 octets"
					      : "an empty label or a bad escape");
		return 0;
	}
	ctl_iter_cache_lock();
	bool busy = cache_flush_busy(x->cache, NULL);
	ctl_iter_cache_unlock();
	if (pending || busy) {
		fprintf(f, "error: a flush is in progress; nothing changed (flush again)\n");
		return 0;
	}
	if (!(q = calloc(1, sizeof(*q)))) {
		fprintf(f, "error: out of memory; nothing changed\n");
		return 0;
	}
	q->x = *x;
	q->mode = mode;
	q->started_ms = ctl_now_ms();
	if (named) {
		char s[NAME_STR_MAX];

		dns_name_copy_lower(q->name, given);
		dns_name_to_str(q->name, s, sizeof(s));
		snprintf(q->what, sizeof(q->what), "%s %s",
			 mode == SHM_FLUSH_NAME ? "flushed" : "flushed the zone", s);
	} else {
		snprintf(q->what, sizeof(q->what), "%s",
			 mode == SHM_FLUSH_ALL ? "flushed everything" : "flushed negative answers");
	}
	/* what only control holds, in every thread, then the caches (the
	 * mode is the cache's: dplink.c), all threads held still */
	ctl_pool_all(x->pool, flush_one, flush_caches, q, false);
	int zones = q->zones_rc;
	if (zones < 0)
		q->err = zones == CACHE_E_NSEC_NOMEM ? "the NSEC store: out of memory (its ranges stay)"
						     : cache_strerror(zones);
	q->zones = zones > 0 ? (uint64_t)zones : 0;
	if ((q->fd = ctl_sock_defer(x->sock)) < 0) {
		free(q);
		fprintf(f, "error: internal: no connection to answer on\n");
		return 0;
	}
	pending = true;
	ctl_timer_init(&q->wait);
	flush_wait(x->loop, q);
	return 0;
}
