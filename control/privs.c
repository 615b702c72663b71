/*
 * control/privs.c: giving up root (see privs.h). Control process, at start.
 */
#include "control/privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int ctl_drop_privileges(const char *user, char *err, size_t errlen)
{
	struct passwd pw, *p = NULL;
	char buf[4096];

	if (getpwnam_r(user, &pw, buf, sizeof(buf), &p) != 0 || !p) {
		snprintf(err, errlen, "control.user %s: no such user", user);
		return -1;
	}
	if (p->pw_uid == 0) {
		snprintf(err, errlen, "control.user %s: is root (uid 0): name another user", user);
		return -1;
	}
	/* glibc applies these to every thread of the process (the policy
	 * loader's, libfstrm's) */
	if (initgroups(user, p->pw_gid) != 0 || setgid(p->pw_gid) != 0 ||
	    setuid(p->pw_uid) != 0) {
		snprintf(err, errlen, "control.user %s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || geteuid() == 0) {
		snprintf(err, errlen, "control.user %s: root could be taken back", user);
		return -1;
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}
