/*
 * control/ctl.c: bailiwick-ctl [-s SOCKET] COMMAND, the operator CLI. Sends
 * one command line to the control process's socket and prints the answer.
 * Exit 0 when the answer came and was not an error, 1 otherwise (2: a
 * usage error). Commands
 * today: stats (every counter, dataplane workers summed), status,
 * reload (the configuration file read again: what may change at run time
 * applied in both processes, what needs a restart named),
 * reload-policy [ZONE] (the policy zones' files read again, or refreshed
 * from their primaries), flush NAME | flush-zone NAME | flush-negative |
 * flush-all (both processes' caches; the answer comes when they are done),
 * dump-delegations [NAME], lookup-delegation NAME, servers. With --json
 * the answer is one JSON object: stats and status as their keys and values
 * ("stat KEY N" lines: "KEY": N), the table views (servers,
 * dump-delegations, lookup-delegation, dump-cache, lookup) field by field
 * as control writes them, the other verbs as {"text": "..."}; an
 * error as {"error": "..."}. top [-d SECONDS] [-n COUNT] asks for the
 * counters every SECONDS and shows rates per worker (like top; one block
 * per round when standard output is not a terminal), COUNT times or until
 * interrupted.
 */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conf/cpu.h"
#include "control/jsonw.h"

#define DEFAULT_SOCKET "/run/bailiwick/control.sock"

static void json_string(const char *s, size_t n)
{
	jw_escape(stdout, s, n);
}

static bool json_number(const char *s, size_t n)
{
	size_t i = n && s[0] == '-';

	if (i == n || n > 20 || (s[i] == '0' && n > i + 1))
		return false;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/*
 * The answer text[0..len) as one JSON object: "KEY VALUE" lines (stats'
 * "stat KEY VALUE" and "info KEY TEXT", status' lines) as members when
 * keyed is set, else the whole text as "text"; an error as "error".
 */
static void print_json(const char *text, size_t len, bool keyed, bool error)
{
	if (error || !keyed) {
		fputs(error ? "{\"error\": " : "{\"text\": ", stdout);
		size_t n = len;
		if (error) { /* one line, without "error: " */
			text += 7;
			n = strcspn(text, "\n");
		}
		json_string(text, n);
		fputs("}\n", stdout);
		return;
	}
	bool first = true;
	putchar('{');
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *k = p;
		if ((ll > 5 && !memcmp(p, "stat ", 5)) || (ll > 5 && !memcmp(p, "info ", 5)))
			k += 5;
		const char *sp = memchr(k, ' ', (size_t)(p + ll - k));
		if (sp) {
			const char *v = sp + 1;
			size_t vl = (size_t)(p + ll - v);
			printf("%s\n  ", first ? "" : ",");
			json_string(k, (size_t)(sp - k));
			fputs(": ", stdout);
			if (json_number(v, vl))
				fwrite(v, 1, vl, stdout);
			else
				json_string(v, vl);
			first = false;
		}
		p += ll + 1;
	}
	fputs("\n}\n", stdout);
}

/*
 * Sends line (the command, '\n' ended) to the control socket at path and
 * writes the answer to out. 0: an answer; 1: an "error:" answer; -1: no
 * answer (the reason on stderr).
 */
static int ask(const char *path, const char *line, FILE *out)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[4096];
	size_t n = strlen(line);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		fprintf(stderr, "bailiwick-ctl: %s: %s (is bailiwick-control running?)\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (write(fd, line, n) != (ssize_t)n) {
		fprintf(stderr, "bailiwick-ctl: %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	shutdown(fd, SHUT_WR);
	int rc = -1;
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		if (rc < 0)
			rc = r >= 6 && !memcmp(buf, "error:", 6);
		fwrite(buf, 1, (size_t)r, out);
	}
	close(fd);
	if (rc < 0)
		fprintf(stderr, "bailiwick-ctl: %s: no answer\n", path);
	return rc;
}

/* --- top ------------------------------------------------------------------- */

struct sample {
	char *text;		/* the stat lines */
	size_t len;
	double t;		/* CLOCK_MONOTONIC, seconds */
};

static bool take(const char *path, struct sample *s)
{
	FILE *f = open_memstream(&s->text, &s->len);
	struct timespec ts;

	if (!f)
		return false;
	int rc = ask(path, "stats\n", f);
	fclose(f);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	return rc == 0;
}

/* "stat KEY N" of s; -1 when it has none. */
static double value(const struct sample *s, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = s->text, *end = s->text + s->len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (ll > 5 + kl && !memcmp(p, "stat ", 5) && !memcmp(p + 5, key, kl) &&
		    p[5 + kl] == ' ')
			return strtod(p + 6 + kl, NULL);
		p += ll + 1;
	}
	return -1;
}

/* KEY's rate from a to b (per second), 0 when either lacks it. */
static double rate(const struct sample *a, const struct sample *b, const char *key)
{
	double x = value(a, key), y = value(b, key);

	return x < 0 || y < 0 || y < x || b->t <= a->t ? 0 : (y - x) / (b->t - a->t);
}

static void top_screen(const struct sample *a, const struct sample *b, unsigned round,
		       double every, bool tty)
{
	double workers = value(b, "dataplane.workers"), tsc = value(b, "dataplane.tsc_hz");
	char k[96];

	if (tty)
		fputs("\033[H\033[2J", stdout);
	printf("bailiwick-ctl top: every %.1f s, round %u\n", every, round);
	printf("control: questions/s %.0f (UDP %.0f, TCP %.0f, from its cache %.0f)  "
	       "resolutions/s %.0f  SERVFAIL/s %.0f  upstream queries/s %.0f  in progress %.0f\n",
	       rate(a, b, "server.udp_queries") + rate(a, b, "server.tcp_queries"),
	       rate(a, b, "server.udp_queries"), rate(a, b, "server.tcp_queries"),
	       rate(a, b, "server.cache_hits"),
	       rate(a, b, "iter.requests"), rate(a, b, "iter.servfail"),
	       rate(a, b, "upstream.sent_udp") + rate(a, b, "upstream.sent_tcp"),
	       value(b, "iter.outstanding") < 0 ? 0 : value(b, "iter.outstanding"));
	if (workers <= 0) {
		printf("standalone: no dataplane workers\n");
		fflush(stdout);
		return;
	}
	printf("%-7s %11s %11s %11s %10s %10s %7s %7s %9s\n", "worker", "queries/s", "hits/s",
	       "misses/s", "nsec/s", "drops/s", "hit %", "busy %", "cyc/query");
	double tq = 0, th = 0, tm = 0, tn = 0, td = 0, tb = 0, tc = 0;
	for (unsigned w = 0; w < (unsigned)workers && w < 1024; w++) {
#define R(name) (snprintf(k, sizeof(k), "dataplane.worker%u." name, w), rate(a, b, k))
		double q = R("queries"), h = R("hits"), m = R("misses"), n = R("nsec_synth");
		double d = R("dns_dropped") + R("tx_dropped") + R("frame_dropped");
		double busy = R("busy_cycles"), cyc = R("dns_cycles");
#undef R
		printf("%-7u %11.0f %11.0f %11.0f %10.0f %10.0f %7.1f %7.1f %9.0f\n", w, q, h, m, n,
		       d, q > 0 ? 100 * h / q : 0, tsc > 0 ? 100 * busy / tsc : 0,
		       q > 0 ? cyc / q : 0);
		tq += q, th += h, tm += m, tn += n, td += d, tb += busy, tc += cyc;
	}
	printf("%-7s %11.0f %11.0f %11.0f %10.0f %10.0f %7.1f %7.1f %9.0f\n", "all", tq, th, tm,
	       tn, td, tq > 0 ? 100 * th / tq : 0,
	       tsc > 0 ? 100 * tb / tsc / workers : 0, tq > 0 ? tc / tq : 0);
	fflush(stdout);
}

static volatile sig_atomic_t interrupted;

static void on_int(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int top(const char *path, int argc, char **argv)
{
	double every = 1;
	long count = 0; /* 0: until interrupted */
	struct sample a = { 0 }, b = { 0 };

	for (int i = 1; i < argc; i++) {
		char *end = NULL;
		if (!strcmp(argv[i], "-d") && i + 1 < argc) {
			every = strtod(argv[++i], &end);
			if (*end || !(every >= 0.1 && every <= 3600)) {
				fprintf(stderr, "bailiwick-ctl: top -d: 0.1 to 3600 seconds\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			count = strtol(argv[++i], &end, 10);
			if (*end || count < 1 || count > 1000000) {
				fprintf(stderr, "bailiwick-ctl: top -n: 1 to 1000000 rounds\n");
				return 2;
			}
		} else {
			fprintf(stderr, "bailiwick-ctl: top [-d SECONDS] [-n COUNT]\n");
			return 2;
		}
	}
	signal(SIGINT, on_int);
	signal(SIGTERM, on_int);
	bool tty = isatty(STDOUT_FILENO);
	if (!take(path, &a))
		return 1;
	for (unsigned round = 1; !interrupted && (!count || round <= count); round++) {
		struct timespec ts = { (time_t)every, (long)((every - floor(every)) * 1e9) };
		nanosleep(&ts, NULL);
		if (interrupted)
			break;
		free(b.text);
		b.text = NULL;
		if (!take(path, &b)) {
			free(a.text);
			free(b.text);
			return 1;
		}
		top_screen(&a, &b, round, every, tty);
		free(a.text);
		a = b;
		b.text = NULL;
	}
	free(a.text);
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = DEFAULT_SOCKET;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	static const struct option longs[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char buf[4096];
	bool json = false;
	int opt;

	/* "+": options end at the command (stats --reset is the command's) */
	while ((opt = getopt_long(argc, argv, "+s:hj", longs, NULL)) != -1) {
		if (opt == 's') {
			path = optarg;
		} else if (opt == 'j') {
			json = true;
		} else if (opt == 'V') {
			printf("bailiwick-ctl %s\n", BW_VERSION);
			return 0;
		} else {
			fprintf(opt == 'h' ? stdout : stderr,
				"usage: bailiwick-ctl [-s SOCKET] [--json] COMMAND\n"
				"  -s SOCKET  control.socket of the configuration (default %s)\n"
				"  -j, --json the answer as one JSON object\n"
				"  COMMAND    stats [--reset] | status | reload | reload-policy [ZONE]\n"
				"             stats --reset   the counters, then count again from 0\n"
				"                             (for stats only: metrics never go back)\n"
				"             flush NAME      cached answers for NAME, its delegation,\n"
				"                             the NSEC ranges that could deny it\n"
				"             flush-zone NAME the same for NAME and every name below\n"
				"             flush-negative  negative answers and NSEC ranges\n"
				"             flush-all       every cached answer, range and delegation\n"
				"             dump-delegations [NAME]  the cuts held (at or below NAME)\n"
				"             lookup-delegation NAME   the cut a resolution of NAME\n"
				"                                      starts from, and those above it\n"
				"             servers         upstream servers: RTT, timeouts, hold-down,\n"
				"                             EDNS, cookies\n"
				"             top [-d SECONDS] [-n COUNT]  rates per worker, refreshed\n"
				"                             every SECONDS (1), COUNT times (until ^C)\n"
				"             lookup NAME [TYPE]  the client cache's answer\n"
				"             dump-cache [--control] [NAME]  the client cache (at or\n"
				"                             below NAME); --control: control's own\n"
				"             set-log-level LEVEL err, warning, notice, info or debug\n"
				"                             (until the next reload or restart)\n",
				DEFAULT_SOCKET);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "bailiwick-ctl: no command (-h lists them)\n");
		return 2;
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "bailiwick-ctl: %s: path too long\n", path);
		return 2;
	}
	if (!strcmp(argv[optind], "top"))
		return top(path, argc - optind, argv + optind);
	/* the command and its arguments, one line; a table view's with
	 * --json asked for as JSON ("json VERB ...": control writes it field
	 * by field) */
	static const char *const tables[] = { "servers", "dump-delegations", "lookup-delegation",
					      "dump-cache", "lookup" };
	bool table = false;
	for (size_t i = 0; json && i < sizeof(tables) / sizeof(tables[0]); i++)
		table = table || !strcmp(argv[optind], tables[i]);
	size_t n = table ? (size_t)snprintf(buf, sizeof(buf), "json ") : 0;
	for (int i = optind; i < argc; i++) {
		int w = snprintf(buf + n, sizeof(buf) - n, "%s%s", i > optind ? " " : "", argv[i]);
		if (w < 0 || (size_t)w >= sizeof(buf) - n - 1 || strpbrk(argv[i], "\r\n")) {
			fprintf(stderr, "bailiwick-ctl: the command is too long or has a line break\n");
			return 2;
		}
		n += (size_t)w;
	}
	buf[n++] = '\n';
	buf[n] = 0;
	char *all = NULL;
	size_t len = 0;
	FILE *keep = json ? open_memstream(&all, &len) : NULL;
	if (json && !keep) {
		fprintf(stderr, "bailiwick-ctl: out of memory\n");
		return 1;
	}
	int rc = ask(path, buf, keep ? keep : stdout);
	if (rc < 0)
		rc = 1;
	if (keep) {
		fclose(keep);
		const char *verb = argv[optind];
		bool error = len >= 7 && !memcmp(all, "error: ", 7);
		if (table && !error)
			fwrite(all, 1, len, stdout); /* JSON already */
		else
			print_json(all, len, !strcmp(verb, "stats") || !strcmp(verb, "status"),
				   error);
		free(all);
	}
	return rc;
}
