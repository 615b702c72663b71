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
 * dump-delegations [NAME], lookup-delegation NAME, servers.
 */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/bailiwick/control.sock"

int main(int argc, char **argv)
{
	const char *path = DEFAULT_SOCKET;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[4096];
	int opt;

	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("bailiwick-ctl %s\n", BW_VERSION);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--help"))
		argv[1] = (char *)"-h";
	while ((opt = getopt(argc, argv, "s:h")) != -1) {
		if (opt == 's') {
			path = optarg;
		} else {
			fprintf(opt == 'h' ? stdout : stderr,
				"usage: bailiwick-ctl [-s SOCKET] COMMAND\n"
				"  -s SOCKET  control.socket of the configuration (default %s)\n"
				"  COMMAND    stats | status | reload | reload-policy [ZONE]\n"
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
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		if (first && r >= 6 && !memcmp(buf, "error:", 6))
			rc = 1;
		else if (first)
			rc = 0;
		first = false;
		fwrite(buf, 1, (size_t)r, stdout);
	}
	close(fd);
	return rc;
}
