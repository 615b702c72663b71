/*
 * control/ctl.c: bailiwick-ctl [-s SOCKET] COMMAND, the operator CLI. Sends
 * one command line to the control process's socket and prints the answer.
 * Exit 0 when the answer came and was not an error, 1 otherwise. Commands
 * today: stats (every counter, dataplane workers summed), status,
 * reload (the configuration file read again: what may change at run time
 * applied in both processes, what needs a restart named),
 * reload-policy [ZONE] (the policy zones' files read again, or refreshed
 * from their primaries), flush NAME | flush-zone NAME | flush-negative |
 * flush-all (both processes' caches; the answer comes when they are done),
 * dump-delegations [NAME], lookup-delegation NAME, servers. With --json
 * the answer is one JSON object: stats and status as their keys and values
 * ("stat KEY N" lines: "KEY": N), the other verbs as {"text": "..."}; an
 * error as {"error": "..."}.
 */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/bailiwick/control.sock"

static void json_string(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
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
				"                             EDNS, cookies\n",
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
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		fprintf(stderr, "bailiwick-ctl: %s: %s (is bailiwick-control running?)\n", path,
			strerror(errno));
		return 1;
	}
	/* the command and its arguments, one line */
	size_t n = 0;
	for (int i = optind; i < argc; i++) {
		int w = snprintf(buf + n, sizeof(buf) - n, "%s%s", i > optind ? " " : "", argv[i]);
		if (w < 0 || (size_t)w >= sizeof(buf) - n - 1 || strpbrk(argv[i], "\r\n")) {
			fprintf(stderr, "bailiwick-ctl: the command is too long or has a line break\n");
			return 2;
		}
		n += (size_t)w;
	}
	buf[n++] = '\n';
	if (write(fd, buf, n) != (ssize_t)n) {
		fprintf(stderr, "bailiwick-ctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	shutdown(fd, SHUT_WR);
	int rc = 1;
	ssize_t r;
	bool first = true;
	char *all = NULL;
	size_t len = 0;
	FILE *keep = json ? open_memstream(&all, &len) : NULL;
	if (json && !keep) {
		fprintf(stderr, "bailiwick-ctl: out of memory\n");
		return 1;
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		if (first && r >= 6 && !memcmp(buf, "error:", 6))
			rc = 1;
		else if (first)
			rc = 0;
		first = false;
		fwrite(buf, 1, (size_t)r, keep ? keep : stdout);
	}
	close(fd);
	if (keep) {
		fclose(keep);
		const char *verb = argv[optind];
		print_json(all, len, !strcmp(verb, "stats") || !strcmp(verb, "status"),
			   len >= 7 && !memcmp(all, "error: ", 7));
		free(all);
	}
	return rc;
}
