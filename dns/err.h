/*
 * dns/err.h: error codes of the dns/ library. Functions return 0 (or a
 * length or count) on success and a negative code on failure: negative errno
 * values are never used here, every failure is a domain code below -1000 so
 * that a test can assert the exact reason an input was rejected. Any thread.
 */
#ifndef BW_DNS_ERR_H
#define BW_DNS_ERR_H

#define DNS_ERRORS(X)                                                          \
	X(DNS_E_TRUNC, -1001, "input ends inside a field")                     \
	X(DNS_E_LABEL_LEN, -1002, "label longer than 63 octets or reserved label type") \
	X(DNS_E_NAME_LEN, -1003, "name longer than 255 octets")                \
	X(DNS_E_PTR_FORWARD, -1004, "compression pointer points forward")     \
	X(DNS_E_PTR_LOOP, -1005, "compression pointer loops")                  \
	X(DNS_E_PTR_HEADER, -1006, "compression pointer into the header")     \
	X(DNS_E_PTR_NOT_ALLOWED, -1007, "compressed name where compression is not allowed") \
	X(DNS_E_HEADER, -1008, "message shorter than the header")             \
	X(DNS_E_QDCOUNT, -1009, "more than one question, or a query without one") \
	X(DNS_E_RDLEN, -1010, "RDLENGTH runs past the end of the message")    \
	X(DNS_E_TRAILING, -1011, "octets after the last record")              \
	X(DNS_E_RDATA_LEN, -1012, "RDATA length does not fit its type")       \
	X(DNS_E_TXT_STRING, -1013, "character-string runs past its RDATA")    \
	X(DNS_E_BITMAP, -1014, "malformed type bitmap")                       \
	X(DNS_E_DS_DIGEST, -1015, "DS digest length does not fit its digest type") \
	X(DNS_E_NSEC3, -1016, "malformed NSEC3 salt or hash")                 \
	X(DNS_E_OPT_OWNER, -1017, "OPT owner is not the root")                \
	X(DNS_E_OPT_SECTION, -1018, "OPT outside the additional section")     \
	X(DNS_E_OPT_DUP, -1019, "more than one OPT record")                   \
	X(DNS_E_OPT_LEN, -1020, "EDNS option runs past the OPT RDATA")        \
	X(DNS_E_COOKIE_LEN, -1021, "EDNS cookie of invalid length")           \
	X(DNS_E_SPACE, -1022, "output buffer too small")                     \
	X(DNS_E_ORDER, -1023, "record added to a section already closed")     \
	X(DNS_E_SYNTAX, -1024, "presentation-format syntax error")            \
	X(DNS_E_INVAL, -1025, "invalid argument")                             \
	X(DNS_E_QUERY_SHAPE, -1026, "query with records other than one OPT") \
	X(DNS_E_PTR_OVERRUN, -1027, "name behind a compression pointer runs into the name that points")

enum dns_err {
	DNS_OK = 0,
#define DNS_ERR_ENUM(name, value, text) name = value,
	DNS_ERRORS(DNS_ERR_ENUM)
#undef DNS_ERR_ENUM
};

/* Static text for a code (never NULL; unknown codes get a generic text). */
const char *dns_strerror(int err);

#endif
