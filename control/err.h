/*
 * control/err.h: error codes of the control process's modules, one list
 * like dns/err.h (-10xx), cache/err.h (-20xx) and conf/ (-30xx), in their
 * own range (-50xx). The convention every control module follows:
 * functions return 0 (or a count) on success and a negative CTL_E_* code on
 * failure; a constructor returns NULL, and when it can fail for more than
 * memory it also sets *err (or *code) to a code. Never -1, never
 * a negative errno: where a system call failed the code says so
 * (CTL_E_SYSTEM) and errno keeps the kernel's reason. Where the operator
 * needs the specifics (which line of a file, which listen address, why the
 * dataplane was refused), the function also writes one line into the
 * caller's buffer, as conf/ does; only the programs' main.c (the edge)
 * print. Any thread.
 */
#ifndef BW_CONTROL_ERR_H
#define BW_CONTROL_ERR_H

#define CTL_ERRORS(X)                                                          \
	X(CTL_E_NOMEM, -5001, "out of memory")                                 \
	X(CTL_E_INVAL, -5002, "invalid argument")                              \
	X(CTL_E_SYSTEM, -5003, "a system call failed")                         \
	X(CTL_E_FULL, -5004, "no room: every slot is taken")                   \
	X(CTL_E_FAMILY, -5005, "address family not usable here")              \
	X(CTL_E_NAME, -5006, "not a domain name in wire form")                 \
	X(CTL_E_NO_NS, -5007, "a referral without name servers")               \
	X(CTL_E_HINTS, -5008, "the root hints are unusable")                   \
	X(CTL_E_LISTEN, -5009, "cannot serve a listen address")                \
	X(CTL_E_SOCKET, -5010, "cannot serve the operator socket")             \
	X(CTL_E_NO_DATAPLANE, -5011, "the dataplane is not there")             \
	X(CTL_E_ABI, -5012, "the dataplane speaks another shared-memory ABI")  \
	X(CTL_E_CONFIG_FILE, -5013, "the dataplane read another configuration file") \
	X(CTL_E_ATTACHED, -5014, "another control is attached to the dataplane") \
	X(CTL_E_UNKNOWN_COMMAND, -5015, "unknown operator command")           \
	X(CTL_E_ANCHOR, -5016, "the trust anchor file is unusable")          \
	X(CTL_E_POLICY, -5017, "the policy zone is unusable")                 \
	X(CTL_E_TSIG, -5018, "a TSIG signature is missing, wrong or refused")  \
	X(CTL_E_XFR, -5019, "the zone transfer failed")                        \
	X(CTL_E_METRICS, -5020, "cannot serve the metrics address")

enum ctl_err {
	CTL_OK = 0,
#define CTL_ERR_ENUM(name, value, text) name = value,
	CTL_ERRORS(CTL_ERR_ENUM)
#undef CTL_ERR_ENUM
};

/*
 * The errno a code stands for where a reason must be told as one (a
 * query's network failure, struct up_result.err): the kernel's for
 * CTL_E_SYSTEM (errno must still hold it), ENOMEM, EINVAL, else EIO.
 */
int ctl_err_errno(int code);

/* Static text for a code (never NULL; unknown codes get a generic text). */
const char *ctl_strerror(int err);

#endif
