/*
 * dns/err.c: texts for the dns/ library's error codes. Any thread.
 */
#include "err.h"

const char *dns_strerror(int err)
{
	switch (err) {
	case DNS_OK:
		return "success";
#define DNS_ERR_CASE(name, value, text) case name: return text;
	DNS_ERRORS(DNS_ERR_CASE)
#undef DNS_ERR_CASE
	default:
		return "unknown error";
	}
}
