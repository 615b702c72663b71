/*
 * control/ctlsock.h: the operator socket (control.socket, a unix stream
 * socket) that bailiwick-ctl talks to. One command line per connection
 * ("stats", "status"); the answer is text, then the connection closes.
 * Minimal on purpose: the operability issue extends it. Control process,
 * the loop's thread.
 */
#ifndef BW_CONTROL_CTLSOCK_H
#define BW_CONTROL_CTLSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "control/loop.h"

/* Writes the answer to one command (its first word) to f; returns 0, or
 * CTL_E_UNKNOWN_COMMAND (the socket then answers "error: ..."). */
typedef int (*ctl_sock_cb)(void *arg, const char *cmd, FILE *f);

struct ctl_sock;

/*
 * Called from a command's callback: its answer comes later. The
 * connection is the caller's (a descriptor) until ctl_sock_reply() or
 * ctl_sock_reply_async() takes it back. -1 when not called from a callback.
 */
int ctl_sock_defer(struct ctl_sock *s);
/* Takes a deferral back: the callback answers now, through its FILE. */
void ctl_sock_undefer(struct ctl_sock *s);
/*
 * A deferred answer of any size, written as the client reads, like a
 * direct answer (the loop never waits; cut off after WRITE_IDLE_MS without
 * progress), in a free connection slot, then the connection closed.
 * ctl_sock_reply_async(): text is malloc'd, s's from now on;
 * ctl_sock_reply(): a copy of text is made. With no slot left (the last
 * CONN_RESERVED are root's), no memory, or s NULL (the socket freed: at
 * exit), the answer is written while the loop waits, CTL_SOCK_REPLY_MS at
 * most.
 */
#define CTL_SOCK_REPLY_MS 2000
void ctl_sock_reply(struct ctl_sock *s, int fd, const char *text, size_t len);
void ctl_sock_reply_async(struct ctl_sock *s, int fd, char *text, size_t len);

/* Whether the command line cmd is verb (its first word), and *arg: the
 * rest after the blanks (NULL: nothing). */
bool ctl_sock_verb(const char *cmd, const char *verb, const char **arg);

/* Listens on path (a stale socket file there is replaced) with the
 * permission bits mode, owned by group (a name or a number; "" or NULL:
 * the process's). NULL with *code set (CTL_E_SOCKET, CTL_E_NOMEM) and a
 * line in err naming the key. */
struct ctl_sock *ctl_sock_new(struct ctl_loop *loop, const char *path, unsigned mode,
			      const char *group, ctl_sock_cb cb, void *arg, int *code, char *err,
			      size_t errlen);
void ctl_sock_free(struct ctl_sock *s);

#endif
