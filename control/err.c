/*
 * control/err.c: texts of the control modules' error codes. Any thread.
 */
#include "control/err.h"

#include <errno.h>

int ctl_err_errno(int code)
{
	switch (code) {
	case CTL_E_SYSTEM:
		return errno;
	case CTL_E_NOMEM:
		return ENOMEM;
	case CTL_E_INVAL:
		return EINVAL;
	default:
		return EIO;
	}
}

const char *ctl_strerror(int err)
{
	switch (err) {
	case CTL_OK:
		return "success";
#define CTL_ERR_CASE(name, value, text) case name: return text;
	CTL_ERRORS(CTL_ERR_CASE)
#undef CTL_ERR_CASE
	default:
		return "unknown control error";
	}
}
