/*
 * tests/control/test_metrics.c: the stat lines as Prometheus metrics
 * (control/metrics.c): names, kinds and help from the modules' counter
 * lists, the worker, port, zone, reason and le labels, histograms in
 * seconds, label values escaped, each family once; and the counters'
 * differences of "stats --reset".
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "control/metrics.h"

static char *render(const char *lines, unsigned *unknown)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cr_assert(f);
	*unknown = ctl_metrics_render(lines, strlen(lines), f);
	fclose(f);
	return out;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p += n)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
			return true;
	return false;
}

static unsigned count(const char *text, const char *s)
{
	unsigned n = 0;

	for (const char *p = text; (p = strstr(p, s)); p += strlen(s))
		n++;
	return n;
}

Test(metrics, counters_get_total_help_and_type_from_their_lists)
{
	unsigned unknown;
	char *m = render("stat iter.requests 12\nstat iter.outstanding 3\n", &unknown);

	cr_expect_eq(unknown, 0);
	cr_expect(has_line(m, "# HELP bailiwick_iter_requests_total questions resolved (after "
			      "coalescing)"), "%s", m);
	cr_expect(has_line(m, "# TYPE bailiwick_iter_requests_total counter"), "%s", m);
	cr_expect(has_line(m, "bailiwick_iter_requests_total 12"), "%s", m);
	/* a gauge of a counter list: no _total */
	cr_expect(has_line(m, "# TYPE bailiwick_iter_outstanding gauge"), "%s", m);
	cr_expect(has_line(m, "bailiwick_iter_outstanding 3"), "%s", m);
	free(m);
}

Test(metrics, workers_and_ports_are_labels_and_each_family_comes_once)
{
	unsigned unknown;
	char *m = render("stat dataplane.hits 9\n"
			 "stat dataplane.worker0.rx 5\nstat dataplane.worker0.hits 4\n"
			 "stat dataplane.worker1.rx 6\nstat dataplane.worker1.hits 5\n"
			 "stat dataplane.port0.rx_packets 70\nstat dataplane.port0.link_up 1\n"
			 "stat dataplane.port0.xstat[rx_q0_packets] 70\n"
			 "stat dataplane.port1.xstat[rx_q0_packets] 2\n",
			 &unknown);

	cr_expect_eq(unknown, 0);
	cr_expect(has_line(m, "bailiwick_dataplane_hits_total 9"), "%s", m);
	cr_expect(has_line(m, "bailiwick_dataplane_worker_rx_total{worker=\"0\"} 5"), "%s", m);
	cr_expect(has_line(m, "bailiwick_dataplane_worker_rx_total{worker=\"1\"} 6"), "%s", m);
	cr_expect(has_line(m, "bailiwick_dataplane_worker_hits_total{worker=\"1\"} 5"), "%s", m);
	cr_expect_eq(count(m, "# TYPE bailiwick_dataplane_worker_rx_total counter"), 1, "%s", m);
	/* the worker's samples follow their family's TYPE, together */
	const char *t = strstr(m, "# TYPE bailiwick_dataplane_worker_rx_total");
	cr_assert(t);
	cr_expect(strstr(t, "{worker=\"1\"} 6") < strstr(t, "# TYPE bailiwick_dataplane_worker_hits"),
		  "%s", m);
	cr_expect(has_line(m, "bailiwick_dataplane_port_rx_packets_total{port=\"0\"} 70"), "%s", m);
	cr_expect(has_line(m, "bailiwick_dataplane_port_link_up{port=\"0\"} 1"), "%s", m);
	cr_expect(has_line(m, "bailiwick_dataplane_port_xstat_total{port=\"1\",name=\"rx_q0_packets\"} 2"),
		  "%s", m);
	free(m);
}

Test(metrics, zones_reasons_and_units)
{
	unsigned unknown;
	char *m = render("stat nsec_zone.answers[exa\\\"mple.] 7\n"
			 "stat dataplane.drop_4106 2\n"
			 "stat clock.resolver_s 100\nstat iter.limit_ns 1\n"
			 "info policy_zone.xfr_error[rpz] a text, not a number\n",
			 &unknown);

	cr_expect_eq(unknown, 0);
	/* a label value's backslash and quote escaped */
	cr_expect(has_line(m, "bailiwick_nsec_zone_answers_total{zone=\"exa\\\\\\\"mple.\"} 7"), "%s",
		  m);
	cr_expect(has_line(m, "bailiwick_dataplane_drop_total{reason=\"ip_csum\"} 2"), "%s", m);
	/* words promtool would read as units spelled out */
	cr_expect(has_line(m, "bailiwick_clock_resolver_seconds 100"), "%s", m);
	cr_expect(has_line(m, "bailiwick_iter_limit_nameserver_total 1"), "%s", m);
	cr_expect(!strstr(m, "xfr_error"), "%s", m);
	free(m);
}

Test(metrics, histograms_in_seconds)
{
	unsigned unknown;
	char *m = render("stat upstream.rtt_us_bucket[100] 1\nstat upstream.rtt_us_bucket[250000] 3\n"
			 "stat upstream.rtt_us_bucket[+Inf] 4\nstat upstream.rtt_us_sum 2500000\n"
			 "stat upstream.rtt_us_count 4\n",
			 &unknown);

	cr_expect_eq(unknown, 0);
	cr_expect(has_line(m, "# TYPE bailiwick_upstream_rtt_seconds histogram"), "%s", m);
	cr_expect(has_line(m, "bailiwick_upstream_rtt_seconds_bucket{le=\"0.0001\"} 1"), "%s", m);
	cr_expect(has_line(m, "bailiwick_upstream_rtt_seconds_bucket{le=\"0.25\"} 3"), "%s", m);
	cr_expect(has_line(m, "bailiwick_upstream_rtt_seconds_bucket{le=\"+Inf\"} 4"), "%s", m);
	cr_expect(has_line(m, "bailiwick_upstream_rtt_seconds_sum 2.500000"), "%s", m);
	cr_expect(has_line(m, "bailiwick_upstream_rtt_seconds_count 4"), "%s", m);
	free(m);
}

Test(metrics, an_undescribed_line_is_counted_and_untyped)
{
	unsigned unknown;
	char *m = render("stat newgroup.thing 1\nstat iter.requests 2\nnot a stat line\n"
			 "stat Upper.Case 3\nstat iter.requests x\n", &unknown);

	/* one untyped, two it cannot render at all (left out, counted) */
	cr_expect_eq(unknown, 3);
	cr_expect(!strstr(m, "Upper"), "%s", m);
	cr_expect(has_line(m, "# TYPE bailiwick_newgroup_thing untyped"), "%s", m);
	cr_expect(has_line(m, "bailiwick_iter_requests_total 2"), "%s", m);
	free(m);
}

/* ctl_metrics_since() of now against base (NULL: no reset yet). */
static char *since(const char *now, const char *base)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cr_assert(f);
	ctl_metrics_since(now, strlen(now), base, base ? strlen(base) : 0, f);
	fclose(f);
	return out;
}

Test(metrics, since_subtracts_counters_not_gauges)
{
	const char *base = "stat iter.requests 10\nstat iter.outstanding 5\n"
			   "stat dataplane.worker0.hits 100\nstat upstream.rtt_us_count 3\n";
	/* another order than the base's: found all the same */
	const char *now = "stat upstream.rtt_us_count 7\nstat iter.requests 15\n"
			  "stat iter.outstanding 2\nstat dataplane.worker0.hits 40\n"
			  "stat iter.answers 4\ninfo x.y text\n";
	char *out = since(now, base);

	cr_expect(has_line(out, "stat iter.requests 5"), "%s", out);
	cr_expect(has_line(out, "stat iter.outstanding 2"), "%s", out);
	/* went back (a dataplane restarted): its value since then */
	cr_expect(has_line(out, "stat dataplane.worker0.hits 40"), "%s", out);
	cr_expect(has_line(out, "stat upstream.rtt_us_count 4"), "%s", out);
	/* not in the base: as it is */
	cr_expect(has_line(out, "stat iter.answers 4"), "%s", out);
	cr_expect(has_line(out, "info x.y text"), "%s", out);
	free(out);
	/* no reset yet: the lines as they are */
	out = since(now, NULL);
	cr_expect_str_eq(out, now);
	free(out);
}
