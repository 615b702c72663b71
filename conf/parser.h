/*
 * conf/parser.h: the YAML toolkit under conf/config.c's schema, private to
 * conf/ (nothing outside includes it): the walking context (struct ctx) with
 * the key path every message names, the one error format
 * (FILE:LINE:COLUMN: KEY.PATH: what), the walk of a mapping against the keys
 * it knows, and the readers of each kind of value with the syntax rules of
 * conf/config.h. It knows no key of the configuration: which keys exist,
 * their bounds and defaults are the schema's. Same threads as config.h:
 * control process and dataplane main thread; a context is one parse's.
 */
#ifndef BW_CONF_PARSER_H
#define BW_CONF_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <yaml.h>

#include "conf/config.h"

#define KEY_PATH_MAX 256	/* longest key path named in a message */
#define SHOW_MAX 40		/* octets of a bad value quoted in a message */

struct ctx {
	yaml_document_t *doc;
	struct cfg *cfg;	/* the private copy the schema fills */
	const char *text;	/* the input, for positions libyaml gives as offsets */
	size_t len;
	const char *name;
	char *err;
	size_t errlen;
	int rc;			/* first error, 0 while none */
	size_t plen;
	char path[KEY_PATH_MAX];
	char show[SHOW_MAX * 4 + 8];
};

/*
 * Records the first error: "name:line:column: key.path: text". Later calls
 * keep the first, so a caller may always just return what this returns.
 */
int cfgp_fail(struct ctx *x, yaml_mark_t m, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * The key path: push a key or a list index, and pop back to what the push
 * returned once the value is read (a failed read leaves the path as it is,
 * for the message already written).
 */
size_t cfgp_push_key(struct ctx *x, const unsigned char *key, size_t len);
size_t cfgp_push_index(struct ctx *x, size_t i);
void cfgp_pop(struct ctx *x, size_t saved);

/* What a node is, as messages name it: "a mapping", "a list", ... */
const char *cfgp_kind(const yaml_node_t *n);
/* A scalar as messages quote it: "text", control octets escaped, long
 * values shortened (valid until the next call). */
const char *cfgp_show(struct ctx *x, const yaml_node_t *n);

/* --- mappings and lists ---------------------------------------------- */

struct cfgp_map_walk {
	const char *const *keys;	/* the keys this mapping knows */
	size_t nkeys;
	yaml_node_t **seen_key;		/* per key: its key node once seen */
	yaml_node_t **val;		/* per key: its value node */
};

/*
 * Checks that n is a mapping of known, distinct string keys and fills
 * w->val[] (NULL for keys the file leaves out). The first bad key is the
 * error; its path names it.
 */
int cfgp_walk_map(struct ctx *x, yaml_node_t *n, struct cfgp_map_walk *w);

/*
 * Declares, in a section's function, the keys its mapping knows (name_keys)
 * and the per-key value array (name, filled by cfgp_walk_map) with its walk.
 */
#define MAP_WALK(name, ...)                                                    \
	static const char *const name##_keys[] = { __VA_ARGS__ };              \
	yaml_node_t *name##_seen[sizeof(name##_keys) / sizeof(char *)];        \
	yaml_node_t *name[sizeof(name##_keys) / sizeof(char *)];               \
	struct cfgp_map_walk name##_walk = {                                   \
		name##_keys, sizeof(name##_keys) / sizeof(char *),             \
		name##_seen, name,                                             \
	}

/*
 * Runs call (which sees the value as v) for key i of the walk w when the
 * file has that key, with the key on the path for messages; the key's name
 * comes from the walk's table (w_keys, declared by MAP_WALK). Returns from
 * the enclosing function on the first error. Needs the context named x.
 */
#define FIELD(w, i, call)                                                      \
	do {                                                                   \
		if ((w)[i]) {                                                  \
			size_t saved_ = cfgp_push_key(x,                       \
				(const unsigned char *)w##_keys[i],            \
				strlen(w##_keys[i]));                          \
			yaml_node_t *v = (w)[i];                               \
			int r_ = (call);                                       \
			if (r_)                                                \
				return r_;                                     \
			cfgp_pop(x, saved_);                                   \
		}                                                              \
	} while (0)

/* A missing required key, reported at the mapping that lacks it. */
int cfgp_missing(struct ctx *x, yaml_mark_t m, const char *key);

/*
 * Checks that n is a list of at most max elements (what names them in the
 * message); *count is its length. cfgp_item() is element i < *count.
 */
int cfgp_list(struct ctx *x, yaml_node_t *n, size_t max, const char *what,
	      size_t *count);
yaml_node_t *cfgp_item(struct ctx *x, yaml_node_t *list, size_t i);

/* --- values ---------------------------------------------------------- */

/*
 * Each reader checks that n is a non-empty, untagged scalar and reads it
 * into its output, or returns the code cfgp_fail() recorded; the output is
 * written only on success unless said otherwise. what and unit name the
 * expected value in messages ("a number of seconds").
 */

/* A string (plain or quoted) copied NUL-terminated into dst (cap octets). */
int cfgp_get_string(struct ctx *x, yaml_node_t *n, char *dst, size_t cap,
		    const char *what);
/* cfgp_get_string() of an absolute path (dst written even when relative). */
int cfgp_get_path(struct ctx *x, yaml_node_t *n, char *dst, size_t cap);
/* A number lo..hi (unquoted decimal digits). */
int cfgp_get_u32(struct ctx *x, yaml_node_t *n, uint32_t lo, uint32_t hi,
		 const char *unit, uint32_t *out);
/* true or false, unquoted. */
int cfgp_get_bool(struct ctx *x, yaml_node_t *n, bool *out);
/* One of names[]; *out is its index. */
int cfgp_get_enum(struct ctx *x, yaml_node_t *n, const char *const *names,
		  size_t count, const char *what, uint8_t *out);
/* Octets with an optional binary suffix K, M or G, lo..hi (messages give
 * the range as lo in M and hi in G). */
int cfgp_get_size(struct ctx *x, yaml_node_t *n, uint64_t lo, uint64_t hi,
		  uint64_t *out);

/* What a prefix names: a network (host bits are an error, /LEN optional)
 * or an interface address (host bits are the point, /LEN required). */
enum cfgp_prefix_kind {
	CFGP_PREFIX_ACL,
	CFGP_PREFIX_IFACE,
};

/*
 * ADDR/LEN. For access control a bare address is a host (/32, /128) and an
 * IPv4-mapped IPv6 prefix of /96 or longer becomes the IPv4 prefix it
 * denotes, as the matcher sees mapped clients; elsewhere a mapped address
 * names an IPv4 interface ambiguously and is refused. *p may be written on
 * error.
 */
int cfgp_get_prefix(struct ctx *x, yaml_node_t *n, enum cfgp_prefix_kind k,
		    struct cfg_prefix *p);
/* A plain IPv4 or IPv6 address, not IPv4-mapped; *a may be written on
 * error. */
int cfgp_get_addr(struct ctx *x, yaml_node_t *n, struct cfg_addr *a);
/*
 * ADDR@PORT with ADDR IPv4, [IPv6] or bare IPv6 (IPv6 has no '@', so the
 * separator is never ambiguous) and the port optional (53); e->a may be
 * written on error.
 */
int cfgp_get_endpoint(struct ctx *x, yaml_node_t *n, struct cfg_endpoint *e);
/* Unix seconds, or an RFC 3339 time; 1970-01-01..9999-12-31. */
int cfgp_get_time(struct ctx *x, yaml_node_t *n, int64_t *out);

/* inet_pton into a, the family chosen by the text (a ':' means IPv6). */
bool cfgp_parse_ip(const char *s, struct cfg_addr *a);

/* --- the schema ------------------------------------------------------ */

/*
 * Defined by conf/config.c: reads the document's top node (NULL for an
 * empty stream) into x->cfg, which holds the defaults. The one call from
 * the parser into the schema, made by cfg_parse().
 */
int cfgp_root(struct ctx *x, yaml_node_t *n);

/* Sections and lists of conf/config.c and conf/config_ops.c that the other
 * file calls: each reads node n into x->cfg. cfgp_endpoints(): a list of
 * ADDR@PORT of at most max, each once, into e and *count. */
int cfgp_endpoints(struct ctx *x, yaml_node_t *n, struct cfg_endpoint *e, size_t max,
		   size_t *count);
int cfgp_control(struct ctx *x, yaml_node_t *n);
int cfgp_metrics(struct ctx *x, yaml_node_t *n);
int cfgp_dnstap(struct ctx *x, yaml_node_t *n);
int cfgp_log(struct ctx *x, yaml_node_t *n);

#endif
