/*
 * control/ctlsock.c: the operator socket (see ctlsock.h). Control process,
 * the loop's thread. A command is short: a client gets CMD_TIMEOUT_MS to
 * send its line and its answer is written blocking (it is the operator's
 * own CLI on the same host; a client that does not read is cut off by
 * SO_SNDTIMEO).
 */
#include "control/ctlsock.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CMD_MAX 1200 /* a command and a name in presentation form (\DDD) */
#define CMD_TIMEOUT_MS 1000

struct ctl_sock {
	struct ctl_loop *loop;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ctl_sock_cb cb;
	void *arg;
	int cur;		/* the connection a callback answers, or -1 */
	bool deferred;		/* ... which it answers later */
};

int ctl_sock_defer(struct ctl_sock *s)
{
	if (s->cur < 0)
		return -1;
	s->deferred = true;
	return s->cur;
}

void ctl_sock_undefer(struct ctl_sock *s)
{
	s->deferred = false;
}

/* The whole answer, blocking (SO_SNDTIMEO bounds a client that does not
 * read). */
static void write_all(int fd, const char *text, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, text + off, len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

void ctl_sock_reply(int fd, const char *text, size_t len)
{
	write_all(fd, text, len);
	close(fd);
}

bool ctl_sock_verb(const char *cmd, const char *verb, const char **arg)
{
	size_t n = strlen(verb);

	if (strncmp(cmd, verb, n) || (cmd[n] && cmd[n] != ' ' && cmd[n] != '\t'))
		return false;
	cmd += n;
	while (*cmd == ' ' || *cmd == '\t')
		cmd++;
	*arg = *cmd ? cmd : NULL;
	return true;
}

/* One command on connection c; false when its answer comes later (the
 * connection then is the callback's). */
static bool serve(struct ctl_sock *s, int c)
{
	char cmd[CMD_MAX];
	size_t n = 0;
	struct timeval tv = { 0, CMD_TIMEOUT_MS * 1000 };

	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (n < sizeof(cmd) - 1) {
		ssize_t r = read(c, cmd + n, sizeof(cmd) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(cmd, '\n', n))
			break;
	}
	if (n == sizeof(cmd) - 1 && !memchr(cmd, '\n', n)) {
		/* not cut into a command of its first octets */
		static const char too_long[] = "error: the command line is too long\n";
		write_all(c, too_long, sizeof(too_long) - 1);
		return true;
	}
	cmd[n] = 0;
	/* one line: the command and its arguments, separated by blanks */
	cmd[strcspn(cmd, "\r\n")] = 0;
	for (size_t e = strlen(cmd); e && (cmd[e - 1] == ' ' || cmd[e - 1] == '\t');)
		cmd[--e] = 0;

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return true;
	s->cur = c;
	s->deferred = false;
	int r = s->cb(s->arg, cmd, f);
	s->cur = -1;
	if (r)
		fprintf(f, "error: unknown command \"%s\" (try: stats, status, reload, "
			   "reload-policy [ZONE], flush NAME, flush-zone NAME, flush-negative, "
			   "flush-all, dump-delegations [NAME], lookup-delegation NAME, servers, "
			   "lookup NAME [TYPE], dump-cache [NAME])\n",
			cmd);
	fclose(f);
	if (s->deferred) {
		free(text);
		return false;
	}
	write_all(c, text, len);
	free(text);
	return true;
}

static void accept_ready(struct ctl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ctl_sock *s = arg;
	(void)loop;
	(void)events;

	for (;;) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			return;
		if (serve(s, c))
			close(c);
	}
}

/* The group named by a name or a number. */
static bool group_id(const char *group, gid_t *gid)
{
	char *end;
	unsigned long n = strtoul(group, &end, 10);
	char buf[4096];
	struct group gr, *g = NULL;

	if (*group && !*end && n < (gid_t)-1) {
		*gid = (gid_t)n;
		return true;
	}
	if (getgrnam_r(group, &gr, buf, sizeof(buf), &g) || !g)
		return false;
	*gid = g->gr_gid;
	return true;
}

struct ctl_sock *ctl_sock_new(struct ctl_loop *loop, const char *path, unsigned mode,
			      const char *group, ctl_sock_cb cb, void *arg, int *code, char *err,
			      size_t errlen)
{
	struct ctl_sock *s = calloc(1, sizeof(*s));
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	gid_t gid = (gid_t)-1;

	if (s && group && *group && !group_id(group, &gid)) {
		snprintf(err, errlen, "control.socket-group %s: no such group", group);
		*code = CTL_E_SOCKET;
		free(s);
		return NULL;
	}

	if (!s || strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control.socket %s: %s", path,
			 s ? "path too long" : "out of memory");
		*code = s ? CTL_E_SOCKET : CTL_E_NOMEM;
		free(s);
		return NULL;
	}
	s->loop = loop;
	s->cur = -1;
	s->cb = cb;
	s->arg = arg;
	snprintf(s->path, sizeof(s->path), "%s", path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	/* The directory may not exist on a fresh machine (/run/bailiwick). */
	char dir[sizeof(sun.sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0750);
	}
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		goto fail;
	unlink(path);
	if (bind(s->fd, (struct sockaddr *)&sun, sizeof(sun)) || listen(s->fd, 16))
		goto fail;
	/* before the first client can connect (the socket listens already,
	 * but nothing accepts before the loop runs) */
	if (chmod(path, mode & 0777) || (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid)))
		goto fail;
	if (ctl_loop_watch(loop, s->fd, EPOLLIN, accept_ready, s))
		goto fail;
	return s;
fail:
	snprintf(err, errlen, "control.socket %s: %s", path, strerror(errno));
	*code = CTL_E_SOCKET;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return NULL;
}

void ctl_sock_free(struct ctl_sock *s)
{
	if (!s)
		return;
	ctl_loop_unwatch(s->loop, s->fd);
	close(s->fd);
	unlink(s->path);
	free(s);
}
