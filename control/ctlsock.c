/*
 * control/ctlsock.c: the operator socket (see ctlsock.h). Control process,
 * the loop's thread. No client can stall the loop: a connection is read
 * as its octets come (EPOLLIN; the line within CMD_DEADLINE_MS) and
 * answered as the client reads (EPOLLOUT; cut off after WRITE_IDLE_MS
 * without progress). An answer that comes later (ctl_sock_defer()) is
 * written as a direct one (ctl_sock_reply(), ctl_sock_reply_async()) in a
 * free slot, counted as an unknown user's (never one of the last
 * CONN_RESERVED); with none, no memory, or the socket being freed, while
 * the loop waits (CTL_SOCK_REPLY_MS at most). At most CONN_MAX
 * connections; a user other than root and control's own (a member of
 * control.socket-group) at most CONN_PER_UID_MAX, and never the last
 * CONN_RESERVED free ones, so no group member can lock root out.
 */
#include "control/ctlsock.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CMD_MAX 1200 /* a command and a name in presentation form (\DDD) */
#define CMD_DEADLINE_MS 2000	/* from accept to the whole command line */
#define WRITE_IDLE_MS 10000	/* an answer's client reading nothing */
#define CONN_MAX 32
#define CONN_PER_UID_MAX 8	/* a user other than root or ours: at most this
				   many at once ... */
#define CONN_RESERVED 4		/* ... and never the last free ones: a group
				   member cannot lock root out */
#define ACCEPT_RETRY_MS 100	/* out of descriptors: accept again later */

struct conn {
	struct ctl_sock *s;
	int fd;			/* -1: free */
	uid_t uid;		/* the peer's (SO_PEERCRED) */
	char cmd[CMD_MAX];
	size_t n;
	char *out;		/* the answer being written */
	size_t len, off;
	struct ctl_timer deadline;
};

struct ctl_sock {
	struct ctl_loop *loop;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ctl_sock_cb cb;
	void *arg;
	int cur;		/* the connection a callback answers, or -1 */
	bool deferred;		/* ... which it answers later */
	struct ctl_timer retry;	/* accept again after EMFILE */
	struct conn conns[CONN_MAX];
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

/* The answer written while the loop waits (CTL_SOCK_REPLY_MS in all): when
 * no connection slot or no memory is left for it. */
static void reply_blocking(int fd, const char *text, size_t len)
{
	uint64_t end = ctl_now_ms() + CTL_SOCK_REPLY_MS;

	/* non-blocking, each wait bounded by what is left of the whole */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, text + off, len - off);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		uint64_t now = ctl_now_ms();
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		if (w == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) || now >= end ||
		    poll(&p, 1, (int)(end - now)) <= 0)
			break;
	}
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

/* c is done (answered, cut off, or handed to a deferred answer: keep_fd). */
static void conn_end(struct conn *c, bool keep_fd)
{
	ctl_timer_cancel(c->s->loop, &c->deadline);
	ctl_loop_unwatch(c->s->loop, c->fd);
	if (!keep_fd)
		close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
}

static void conn_expired(struct ctl_loop *loop, void *arg)
{
	(void)loop;
	conn_end(arg, false);
}

/* The deadline from now (a step's: the line in, or a write's progress). */
static bool conn_deadline(struct conn *c, uint32_t ms)
{
	return ctl_timer_add(c->s->loop, &c->deadline, ms, conn_expired, c) == 0;
}

static void conn_io(struct ctl_loop *loop, int fd, uint32_t events, void *arg);

/* Writes what the client takes now; the rest when it can take more. */
static void conn_write(struct conn *c)
{
	bool moved = false;

	while (c->off < c->len) {
		ssize_t w = write(c->fd, c->out + c->off, c->len - c->off);
		if (w > 0) {
			c->off += (size_t)w;
			moved = true;
			continue;
		}
		/* the client reads slowly: the rest when it can take it, as
		 * long as it takes some every WRITE_IDLE_MS */
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    (!moved || conn_deadline(c, WRITE_IDLE_MS)) &&
		    ctl_loop_watch(c->s->loop, c->fd, EPOLLOUT, conn_io, c) == 0)
			return;
		break;
	}
	conn_end(c, false);
}

/* The command line is in: its answer, now or later. */
static void conn_command(struct conn *c)
{
	struct ctl_sock *s = c->s;
	char *cmd = c->cmd;

	cmd[c->n] = 0;
	/* one line: the command and its arguments, separated by blanks */
	cmd[strcspn(cmd, "\r\n")] = 0;
	for (size_t e = strlen(cmd); e && (cmd[e - 1] == ' ' || cmd[e - 1] == '\t');)
		cmd[--e] = 0;
	FILE *f = open_memstream(&c->out, &c->len);
	if (!f) {
		conn_end(c, false);
		return;
	}
	/* nothing of the loop's may touch c while the callback runs (it may
	 * answer a deferral and close the descriptor before it returns) */
	ctl_loop_unwatch(s->loop, c->fd);
	ctl_timer_cancel(s->loop, &c->deadline);
	s->cur = c->fd;
	s->deferred = false;
	int r = s->cb(s->arg, cmd, f);
	s->cur = -1;
	if (r)
		fprintf(f, "error: unknown command \"%s\" (try: stats, status, reload, "
			   "reload-policy [ZONE], flush NAME, flush-zone NAME, flush-negative, "
			   "flush-all, dump-delegations [NAME], lookup-delegation NAME, servers, "
			   "lookup NAME [TYPE], dump-cache [--control] [NAME], set-log-level LEVEL)\n",
			cmd);
	fclose(f);
	if (s->deferred) { /* the descriptor is the callback's now */
		free(c->out);
		c->out = NULL;
		c->fd = -1;
		return;
	}
	c->off = 0;
	if (!conn_deadline(c, WRITE_IDLE_MS)) {
		conn_end(c, false);
		return;
	}
	conn_write(c);
}

void ctl_sock_reply_async(struct ctl_sock *s, int fd, char *text, size_t len)
{
	struct conn *c = NULL;
	unsigned nfree = 0;

	for (unsigned i = 0; s && i < CONN_MAX; i++)
		if (s->conns[i].fd < 0 && nfree++ == 0)
			c = &s->conns[i];
	/* the uid unknown: as the least trusted's, never one of the last
	 * CONN_RESERVED free slots (root's); a socket being freed (s NULL):
	 * written now */
	if (c && nfree > CONN_RESERVED) {
		*c = (struct conn){ .s = s, .fd = fd, .uid = (uid_t)-1, .out = text, .len = len };
		ctl_timer_init(&c->deadline);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		if (conn_deadline(c, WRITE_IDLE_MS)) {
			conn_write(c);
			return;
		}
		c->fd = -1; /* no memory for its timer: written now */
		c->out = NULL;
	}
	reply_blocking(fd, text, len);
	free(text);
}

void ctl_sock_reply(struct ctl_sock *s, int fd, const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);

	if (!copy) {
		reply_blocking(fd, text, len);
		return;
	}
	memcpy(copy, text, len);
	ctl_sock_reply_async(s, fd, copy, len);
}

static void conn_io(struct ctl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;
	(void)loop;
	(void)fd;
	(void)events;

	if (c->out) {
		conn_write(c);
		return;
	}
	for (;;) {
		ssize_t r = read(c->fd, c->cmd + c->n, sizeof(c->cmd) - 1 - c->n);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; /* more later */
		if (r < 0) { /* gone: what it sent is not a command to run */
			conn_end(c, false);
			return;
		}
		if (r > 0)
			c->n += (size_t)r;
		if (r > 0 && !memchr(c->cmd, '\n', c->n) && c->n < sizeof(c->cmd) - 1)
			continue;
		break;
	}
	if (c->n == sizeof(c->cmd) - 1 && !memchr(c->cmd, '\n', c->n)) {
		/* not cut into a command of its first octets */
		static const char too_long[] = "error: the command line is too long\n";
		c->out = strdup(too_long);
		c->len = c->out ? sizeof(too_long) - 1 : 0;
		c->off = 0;
		ctl_loop_unwatch(c->s->loop, c->fd);
		conn_write(c);
		return;
	}
	conn_command(c); /* a whole line, or the client's end of input */
}

static void accept_ready(struct ctl_loop *loop, int fd, uint32_t events, void *arg);

static void accept_again(struct ctl_loop *loop, void *arg)
{
	struct ctl_sock *s = arg;

	if (ctl_loop_watch(loop, s->fd, EPOLLIN, accept_ready, s))
		ctl_timer_add(loop, &s->retry, ACCEPT_RETRY_MS, accept_again, s);
}

static void accept_ready(struct ctl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ctl_sock *s = arg;
	(void)events;

	for (;;) {
		int fdc = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fdc < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
				errno == ENOBUFS)) {
			/* the connection waits in the backlog; a level-triggered
			 * listener would wake the loop at once, again and again */
			ctl_loop_unwatch(loop, s->fd);
			ctl_timer_add(loop, &s->retry, ACCEPT_RETRY_MS, accept_again, s);
			return;
		}
		if (fdc < 0)
			return;
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		if (getsockopt(fdc, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0)
			cred.uid = (uid_t)-1; /* not known: the least trusted */
		bool trusted = cred.uid == 0 || cred.uid == geteuid();
		struct conn *c = NULL;
		unsigned nfree = 0, mine = 0;
		for (unsigned i = 0; i < CONN_MAX; i++) {
			if (s->conns[i].fd < 0) {
				nfree++;
				if (!c)
					c = &s->conns[i];
			} else if (s->conns[i].uid == cred.uid) {
				mine++;
			}
		}
		if (!c || (!trusted && (mine >= CONN_PER_UID_MAX || nfree <= CONN_RESERVED))) {
			/* as many operators as that are a client too many */
			static const char busy[] = "error: too many operator connections\n";
			if (write(fdc, busy, sizeof(busy) - 1) < 0) {
				/* nothing more to tell it */
			}
			close(fdc);
			continue;
		}
		*c = (struct conn){ .s = s, .fd = fdc, .uid = cred.uid };
		ctl_timer_init(&c->deadline);
		if (ctl_loop_watch(loop, fdc, EPOLLIN, conn_io, c) ||
		    !conn_deadline(c, CMD_DEADLINE_MS)) {
			conn_end(c, false);
			continue;
		}
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
	for (unsigned i = 0; i < CONN_MAX; i++)
		s->conns[i].fd = -1;
	ctl_timer_init(&s->retry);
	snprintf(s->path, sizeof(s->path), "%s", path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	/* The directory may not exist on a fresh machine (/run/bailiwick):
	 * searchable by all (the socket's own mode decides who connects, so
	 * that socket-group's members can reach it) */
	char dir[sizeof(sun.sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0755);
	}
	bool bound = false;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		goto fail;
	unlink(path);
	/* made with no permission at all, given its mode and group before it
	 * listens: no connection can be queued by someone the mode keeps out */
	mode_t old = umask(0777);
	bound = bind(s->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	umask(old);
	if (!bound || (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid)) ||
	    chmod(path, mode & 0777) || listen(s->fd, 16) ||
	    ctl_loop_watch(loop, s->fd, EPOLLIN, accept_ready, s))
		goto fail;
	return s;
fail:
	snprintf(err, errlen, "control.socket %s: %s", path, strerror(errno));
	*code = CTL_E_SOCKET;
	if (bound)
		unlink(path);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return NULL;
}

void ctl_sock_free(struct ctl_sock *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < CONN_MAX; i++)
		if (s->conns[i].fd >= 0)
			conn_end(&s->conns[i], false);
	ctl_timer_cancel(s->loop, &s->retry);
	ctl_loop_unwatch(s->loop, s->fd);
	close(s->fd);
	unlink(s->path);
	free(s);
}
