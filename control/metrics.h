/*
 * control/metrics.h: the counters of "bailiwick-ctl stats" for
 * monitoring systems. The stat lines stay the one list of what is counted
 * ("stat GROUP.NAME VALUE", with GROUP.workerN.NAME per worker,
 * GROUP.NAME[ZONE] per zone, dataplane.drop_CODE per drop reason, and
 * control/hist.h's histograms); this module renders them in the
 * Prometheus text exposition format (0.0.4) and serves that over HTTP
 * (metrics.listen, libmicrohttpd driven by control's loop), and takes the
 * counters' differences for "stats --reset". Control process, the loop's
 * thread.
 */
#ifndef BW_CONTROL_METRICS_H
#define BW_CONTROL_METRICS_H

#include <stddef.h>
#include <stdio.h>

#include "conf/config.h"
#include "control/loop.h"

/*
 * Renders the stat lines in text[0..len) to f as Prometheus metrics
 * named bailiwick_GROUP_NAME (counters with _total, histograms in seconds),
 * each family once with its HELP and TYPE, labels worker, port, zone,
 * name, reason, le. Returns how many stat lines had no description here
 * (rendered untyped, "no description" in their HELP) or could not be
 * rendered at all (left out): the endpoint exports the count as
 * bailiwick_metrics_undescribed_lines, and the tests keep it 0.
 */
unsigned ctl_metrics_render(const char *text, size_t len, FILE *f);

/*
 * The stat lines in text[0..len) to f with each counter's value less its
 * value in base[0..blen) (the lines of an earlier call; a counter that
 * went backwards, a restart, shows its value); gauges as they are.
 */
void ctl_metrics_since(const char *text, size_t len, const char *base, size_t blen, FILE *f);

/* Writes the stat lines ("stats") to f. */
typedef void (*ctl_metrics_fill)(void *arg, FILE *f);

struct ctl_metrics;

/*
 * Serves GET /metrics on at (HTTP/1.1, at most 16 connections, 4 from one
 * address, each closed after 10 s without progress); fill writes the stat
 * lines for a scrape. No access control of its own: bind it to a loopback
 * or management address. NULL with *code (CTL_E_METRICS, CTL_E_NOMEM)
 * and a line in err naming the address.
 */
struct ctl_metrics *ctl_metrics_new(struct ctl_loop *loop, const struct cfg_endpoint *at,
				    ctl_metrics_fill fill, void *arg, int *code, char *err,
				    size_t errlen);
void ctl_metrics_free(struct ctl_metrics *m);

#endif
