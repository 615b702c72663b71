/*
 * control/privs.h: giving up root (control.user). Control process, at
 * start, once every socket is bound and every file it needs as root is
 * open; standalone only (conf/ refuses control.user with a dataplane).
 */
#ifndef BW_CONTROL_PRIVS_H
#define BW_CONTROL_PRIVS_H

#include <stddef.h>

/*
 * Becomes user (a name): its group and supplementary groups, then its
 * uid, for every thread of the process, with no way back (checked:
 * setuid(0) must fail) and no new privileges from exec (a re-exec runs as
 * the user). 0, or -1 with one line in err naming what failed.
 */
int ctl_drop_privileges(const char *user, char *err, size_t errlen);

#endif
