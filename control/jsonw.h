/*
 * control/jsonw.h: a JSON writer for the operator's table views
 * (bailiwick-ctl --json servers, dump-delegations, lookup-delegation,
 * dump-cache, lookup): members and elements written to a FILE as they
 * come, the commas kept by the writer. Strings are escaped (RFC 8259: ",
 * \ and control characters; other octets as they are: names and records
 * in presentation form are ASCII). Nesting deeper than JW_DEPTH_MAX
 * shares the last slot of state, never out of bounds, commas still right.
 * Control process, any thread.
 */
#ifndef BW_CONTROL_JSONW_H
#define BW_CONTROL_JSONW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JW_DEPTH_MAX 8

struct jw {
	FILE *f;
	unsigned depth;
	bool more[JW_DEPTH_MAX + 1];	/* a member or element is written at this depth */
};

/* key: the member's name inside an object; NULL inside an array or at the
 * top. jw_end() closes the innermost object or array (c: '}' or ']'); at
 * depth 0 it ends the line. */
void jw_init(struct jw *w, FILE *f);
void jw_object(struct jw *w, const char *key);
void jw_array(struct jw *w, const char *key);
void jw_end(struct jw *w, char c);
void jw_str(struct jw *w, const char *key, const char *s);
void jw_u64(struct jw *w, const char *key, uint64_t v);
void jw_i64(struct jw *w, const char *key, int64_t v);
void jw_bool(struct jw *w, const char *key, bool v);
void jw_null(struct jw *w, const char *key);

/* s[0..n) as a JSON string, quotes and escapes (bailiwick-ctl's own
 * members use it too). */
void jw_escape(FILE *f, const char *s, size_t n);

#endif
