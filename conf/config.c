/*
 * conf/config.c: reads the YAML configuration into struct cfg. Control
 * process and dataplane main thread, may block; never on a worker lcore.
 *
 * libyaml's document API loads the whole file into a node tree (flow and
 * block style give the same tree; aliases become shared nodes, so an alias
 * bomb costs nothing until walked). The walk below follows the schema, not
 * the tree: it only descends into keys it knows and stops at the first
 * error, and every list it accepts has a bound, so the work is bounded by
 * the schema whatever the file holds, even with aliases that loop. Values
 * land in a private copy built over the defaults; the caller's struct is
 * replaced only when the whole file is valid (staged reload).
 */
#include "conf/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include <openssl/evp.h>

#define KEY_PATH_MAX 256	/* longest key path named in a message */
#define SHOW_MAX 40		/* octets of a bad value quoted in a message */
#define TEXT_MAX 128		/* addresses, numbers, times: longer is wrong */
#define TIME_MAX_S 253402300799LL /* 9999-12-31T23:59:59Z */

struct ctx {
	yaml_document_t *doc;
	struct cfg *cfg;
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

/* --- messages -------------------------------------------------------- */

/* Escapes what could break the one-line message: quotes, controls, 8-bit. */
static size_t escape(char *out, size_t cap, const unsigned char *s, size_t len,
		     size_t max)
{
	size_t o = 0;

	for (size_t i = 0; i < len && i < max && o + 5 < cap; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
		} else {
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		}
	}
	if (len > max && o + 4 < cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return o;
}

/* A scalar as the message quotes it: "text", escaped and shortened. */
static const char *show(struct ctx *x, const yaml_node_t *n)
{
	x->show[0] = '"';
	size_t o = 1 + escape(x->show + 1, sizeof(x->show) - 2,
			      n->data.scalar.value, n->data.scalar.length,
			      SHOW_MAX);
	x->show[o] = '"';
	x->show[o + 1] = '\0';
	return x->show;
}

static void put(char *buf, size_t cap, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t cap, size_t *pos, const char *fmt, ...)
{
	va_list ap;

	if (*pos >= cap)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *pos, cap - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n;
}

static int fail(struct ctx *x, yaml_mark_t m, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Records the first error: "name:line:column: key.path: text". Later calls
 * keep the first, so a caller may always just return what this returns.
 */
static int fail(struct ctx *x, yaml_mark_t m, int code, const char *fmt, ...)
{
	va_list ap;
	size_t pos = 0;

	if (x->rc)
		return x->rc;
	x->rc = code;
	if (!x->err || !x->errlen)
		return code;
	put(x->err, x->errlen, &pos, "%s:%zu:%zu: ", x->name, m.line + 1,
	    m.column + 1);
	if (x->plen)
		put(x->err, x->errlen, &pos, "%s: ", x->path);
	if (pos < x->errlen) {
		va_start(ap, fmt);
		vsnprintf(x->err + pos, x->errlen - pos, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* Messages without a position (the file cannot be read at all). */
static int fail_file(char *err, size_t errlen, const char *name, int code,
		     const char *what, int errnum)
{
	char text[128];

	if (err && errlen) {
		if (errnum) /* GNU strerror_r: thread-safe, returns the text */
			snprintf(err, errlen, "%s: %s: %s", name, what,
				 strerror_r(errnum, text, sizeof(text)));
		else
			snprintf(err, errlen, "%s: %s", name, what);
	}
	return code;
}

/* --- key path -------------------------------------------------------- */

static size_t push_key(struct ctx *x, const unsigned char *key, size_t len)
{
	size_t saved = x->plen;

	if (x->plen && x->plen + 1 < sizeof(x->path))
		x->path[x->plen++] = '.';
	if (x->plen < sizeof(x->path))
		x->plen += escape(x->path + x->plen, sizeof(x->path) - x->plen,
				  key, len, SHOW_MAX);
	return saved;
}

static size_t push_index(struct ctx *x, size_t i)
{
	size_t saved = x->plen;

	put(x->path, sizeof(x->path), &x->plen, "[%zu]", i);
	if (x->plen >= sizeof(x->path))
		x->plen = sizeof(x->path) - 1;
	return saved;
}

static void pop(struct ctx *x, size_t saved)
{
	x->plen = saved;
	x->path[saved] = '\0';
}

/* --- node kinds ------------------------------------------------------ */

static bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (n->data.scalar.length == strlen(nulls[i]) &&
		    memcmp(n->data.scalar.value, nulls[i],
			   n->data.scalar.length) == 0)
			return true;
	return false;
}

static const char *kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return is_null(n) ? "an empty value" : "a scalar";
	}
}

/*
 * The loader gives untagged nodes the default tag of their kind; anything
 * else was written in the file, and a tag would change what a value means.
 */
static int check_tag(struct ctx *x, const yaml_node_t *n)
{
	const char *want = n->type == YAML_MAPPING_NODE ? YAML_DEFAULT_MAPPING_TAG
			 : n->type == YAML_SEQUENCE_NODE ? YAML_DEFAULT_SEQUENCE_TAG
							 : YAML_DEFAULT_SCALAR_TAG;

	if (n->tag && strcmp((const char *)n->tag, want) != 0)
		return fail(x, n->start_mark, CFG_E_TYPE,
			    "explicit YAML tags are not supported");
	return 0;
}

static int want(struct ctx *x, const yaml_node_t *n, yaml_node_type_t type,
		const char *what)
{
	if (n->type != type || (type == YAML_SCALAR_NODE && is_null(n)))
		return fail(x, n->start_mark, CFG_E_TYPE, "expected %s, found %s",
			    what, kind(n));
	return check_tag(x, n);
}

static yaml_node_t *node(struct ctx *x, int id)
{
	yaml_node_t *n = yaml_document_get_node(x->doc, id);

	/* The loader links only nodes it made; a miss is a libyaml bug. */
	if (!n)
		abort();
	return n;
}

/* --- mappings and lists ---------------------------------------------- */

struct map_walk {
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
static int walk_map(struct ctx *x, yaml_node_t *n, struct map_walk *w)
{
	int r = want(x, n, YAML_MAPPING_NODE, "a mapping");

	if (r)
		return r;
	for (size_t i = 0; i < w->nkeys; i++)
		w->seen_key[i] = w->val[i] = NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(x, p->key);
		size_t i;

		if (k->type != YAML_SCALAR_NODE || is_null(k))
			return fail(x, k->start_mark, CFG_E_TYPE,
				    "expected a key, found %s", kind(k));
		size_t saved = push_key(x, k->data.scalar.value,
					k->data.scalar.length);
		if ((r = check_tag(x, k)))
			return r;
		for (i = 0; i < w->nkeys; i++)
			if (strlen(w->keys[i]) == k->data.scalar.length &&
			    memcmp(w->keys[i], k->data.scalar.value,
				   k->data.scalar.length) == 0)
				break;
		if (i == w->nkeys)
			return fail(x, k->start_mark, CFG_E_UNKNOWN_KEY,
				    "unknown key");
		if (w->seen_key[i])
			return fail(x, k->start_mark, CFG_E_DUPLICATE,
				    "duplicate key (first at %zu:%zu)",
				    w->seen_key[i]->start_mark.line + 1,
				    w->seen_key[i]->start_mark.column + 1);
		w->seen_key[i] = k;
		w->val[i] = node(x, p->value);
		pop(x, saved);
	}
	return 0;
}

/*
 * Declares, in a section's function, the keys its mapping knows (name_keys)
 * and the per-key value array (name, filled by walk_map) with its walk.
 */
#define MAP_WALK(name, ...)                                                    \
	static const char *const name##_keys[] = { __VA_ARGS__ };              \
	yaml_node_t *name##_seen[sizeof(name##_keys) / sizeof(char *)];        \
	yaml_node_t *name[sizeof(name##_keys) / sizeof(char *)];               \
	struct map_walk name##_walk = {                                        \
		name##_keys, sizeof(name##_keys) / sizeof(char *),             \
		name##_seen, name,                                             \
	}

/* A missing required key, reported at the mapping that lacks it. */
static int missing(struct ctx *x, yaml_mark_t m, const char *key)
{
	size_t saved = push_key(x, (const unsigned char *)key, strlen(key));
	int r = fail(x, m, CFG_E_MISSING, "missing required key");

	pop(x, saved);
	return r;
}

/* Checks that n is a list of at most max elements; returns the count. */
static int list(struct ctx *x, yaml_node_t *n, size_t max, const char *what,
		size_t *count)
{
	int r = want(x, n, YAML_SEQUENCE_NODE, "a list");

	if (r)
		return r;
	*count = (size_t)(n->data.sequence.items.top -
			  n->data.sequence.items.start);
	if (*count > max)
		return fail(x, node(x, n->data.sequence.items.start[max])->start_mark,
			    CFG_E_LIMIT, "more than %zu %s", max, what);
	return 0;
}

static yaml_node_t *item(struct ctx *x, yaml_node_t *list, size_t i)
{
	return node(x, list->data.sequence.items.start[i]);
}

/* --- scalars --------------------------------------------------------- */

/* A string value (plain or quoted), copied NUL-terminated into dst. */
static int get_string(struct ctx *x, yaml_node_t *n, char *dst, size_t cap,
		      const char *what)
{
	int r = want(x, n, YAML_SCALAR_NODE, what);
	size_t len = n->data.scalar.length;

	if (r)
		return r;
	if (len == 0)
		return fail(x, n->start_mark, CFG_E_VALUE, "is empty");
	if (memchr(n->data.scalar.value, '\0', len))
		return fail(x, n->start_mark, CFG_E_VALUE,
			    "%s contains a NUL character", show(x, n));
	if (len >= cap)
		return fail(x, n->start_mark, CFG_E_LIMIT,
			    "%s is longer than %zu octets", show(x, n), cap - 1);
	memcpy(dst, n->data.scalar.value, len);
	dst[len] = '\0';
	return 0;
}

static int get_path(struct ctx *x, yaml_node_t *n, char *dst, size_t cap)
{
	int r = get_string(x, n, dst, cap, "a path");

	if (!r && dst[0] != '/')
		return fail(x, n->start_mark, CFG_E_VALUE,
			    "%s is not an absolute path", show(x, n));
	return r;
}

/*
 * Unquoted decimal digits, no leading zero (YAML 1.1 reads 010 as octal),
 * into *v; false on anything else. Values beyond UINT64_MAX saturate, which
 * every caller's range then refuses.
 */
static bool digits(const unsigned char *s, size_t len, uint64_t *v)
{
	*v = 0;
	if (len == 0 || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		*v = *v > (UINT64_MAX - d) / 10 ? UINT64_MAX : *v * 10 + d;
	}
	return true;
}

static bool plain(const yaml_node_t *n)
{
	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* A number lo..hi; unit names it in messages ("a number of seconds"). */
static int get_num(struct ctx *x, yaml_node_t *n, uint64_t lo, uint64_t hi,
		   const char *unit, uint64_t *out)
{
	int r = want(x, n, YAML_SCALAR_NODE, unit);
	uint64_t v;

	if (r)
		return r;
	if (!plain(n) || !digits(n->data.scalar.value, n->data.scalar.length, &v))
		return fail(x, n->start_mark, CFG_E_VALUE, "%s is not %s",
			    show(x, n), unit);
	if (v < lo || v > hi)
		return fail(x, n->start_mark, CFG_E_RANGE,
			    "%.*s is out of range %llu..%llu",
			    (int)(n->data.scalar.length > SHOW_MAX
					  ? SHOW_MAX : n->data.scalar.length),
			    (const char *)n->data.scalar.value,
			    (unsigned long long)lo, (unsigned long long)hi);
	*out = v;
	return 0;
}

static int get_u32(struct ctx *x, yaml_node_t *n, uint32_t lo, uint32_t hi,
		   const char *unit, uint32_t *out)
{
	uint64_t v = 0;
	int r = get_num(x, n, lo, hi, unit, &v);

	if (!r)
		*out = (uint32_t)v;
	return r;
}

static int get_bool(struct ctx *x, yaml_node_t *n, bool *out)
{
	int r = want(x, n, YAML_SCALAR_NODE, "true or false");
	const char *s = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;

	if (r)
		return r;
	if (plain(n) && len == 4 && memcmp(s, "true", 4) == 0)
		*out = true;
	else if (plain(n) && len == 5 && memcmp(s, "false", 5) == 0)
		*out = false;
	else
		return fail(x, n->start_mark, CFG_E_VALUE,
			    "%s is not a boolean (true or false)", show(x, n));
	return 0;
}

/* One of names[]; *out is its index. */
static int get_enum(struct ctx *x, yaml_node_t *n, const char *const *names,
		    size_t count, const char *what, uint8_t *out)
{
	int r = want(x, n, YAML_SCALAR_NODE, what);

	if (r)
		return r;
	for (size_t i = 0; i < count; i++)
		if (n->data.scalar.length == strlen(names[i]) &&
		    memcmp(n->data.scalar.value, names[i],
			   n->data.scalar.length) == 0) {
			*out = (uint8_t)i;
			return 0;
		}
	return fail(x, n->start_mark, CFG_E_VALUE, "%s is not %s",
		    show(x, n), what);
}

/* Octets with an optional binary suffix K, M or G. */
static int get_size(struct ctx *x, yaml_node_t *n, uint64_t lo, uint64_t hi,
		    uint64_t *out)
{
	static const char unit[] = "a size (octets, or a number with K, M or G)";
	int r = want(x, n, YAML_SCALAR_NODE, unit);
	size_t len = n->data.scalar.length;
	const unsigned char *s = n->data.scalar.value;
	unsigned shift = 0;
	uint64_t v;

	if (r)
		return r;
	if (len > 1) {
		switch (s[len - 1]) {
		case 'K': shift = 10; break;
		case 'M': shift = 20; break;
		case 'G': shift = 30; break;
		default: break;
		}
	}
	if (!plain(n) || !digits(s, len - (shift ? 1 : 0), &v))
		return fail(x, n->start_mark, CFG_E_VALUE, "%s is not %s",
			    show(x, n), unit);
	if (v > (UINT64_MAX >> shift) || (v << shift) < lo || (v << shift) > hi)
		return fail(x, n->start_mark, CFG_E_RANGE,
			    "%s is out of range %lluM..%lluG", show(x, n),
			    (unsigned long long)(lo >> 20),
			    (unsigned long long)(hi >> 30));
	*out = v << shift;
	return 0;
}

/* --- addresses ------------------------------------------------------- */

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* A scalar copied for the address parsers, which want a C string. */
static int get_text(struct ctx *x, yaml_node_t *n, char *buf, const char *what)
{
	int r = want(x, n, YAML_SCALAR_NODE, what);

	if (r)
		return r;
	if (n->data.scalar.length >= TEXT_MAX ||
	    memchr(n->data.scalar.value, '\0', n->data.scalar.length))
		return fail(x, n->start_mark, CFG_E_VALUE, "%s is not %s",
			    show(x, n), what);
	memcpy(buf, n->data.scalar.value, n->data.scalar.length);
	buf[n->data.scalar.length] = '\0';
	return 0;
}

/* inet_pton, the family chosen by the text (a ':' means IPv6). */
static bool parse_ip(const char *s, struct cfg_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (strchr(s, ':')) {
		a->family = AF_INET6;
		return inet_pton(AF_INET6, s, a->addr) == 1;
	}
	a->family = AF_INET;
	return inet_pton(AF_INET, s, a->addr) == 1;
}

static unsigned addr_bits(const struct cfg_addr *a)
{
	return a->family == AF_INET ? 32 : 128;
}

static bool is_v4mapped(const struct cfg_addr *a)
{
	return a->family == AF_INET6 && memcmp(a->addr, v4mapped, 12) == 0;
}

static bool bit(const uint8_t *addr, unsigned i)
{
	return addr[i / 8] & (0x80 >> (i % 8));
}

static void print_addr(const struct cfg_addr *a, char *buf, size_t cap)
{
	if (!inet_ntop(a->family, a->addr, buf, (socklen_t)cap))
		snprintf(buf, cap, "?");
}

enum prefix_kind {
	PREFIX_ACL,		/* network: host bits are an error; /len optional */
	PREFIX_IFACE,		/* interface address: host bits are the point */
};

/*
 * ADDR/LEN. For access control a bare address is a host (/32, /128) and an
 * IPv4-mapped IPv6 prefix of /96 or longer becomes the IPv4 prefix it
 * denotes, as the matcher sees mapped clients; elsewhere a mapped address
 * names an IPv4 interface ambiguously and is refused.
 */
static int get_prefix(struct ctx *x, yaml_node_t *n, enum prefix_kind k,
		      struct cfg_prefix *p)
{
	const char *what = k == PREFIX_ACL
		? "a prefix (IPv4 or IPv6 CIDR)"
		: "an interface address with its prefix length (ADDR/LEN)";
	char buf[TEXT_MAX], *slash;
	uint64_t len;
	int r = get_text(x, n, buf, what);

	if (r)
		return r;
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if ((!slash && k == PREFIX_IFACE) || !parse_ip(buf, &p->a) ||
	    (slash && !digits((const unsigned char *)slash + 1,
			      strlen(slash + 1), &len)))
		return fail(x, n->start_mark, CFG_E_VALUE, "%s is not %s",
			    show(x, n), what);
	if (!slash)
		len = addr_bits(&p->a);
	if (len > addr_bits(&p->a))
		return fail(x, n->start_mark, CFG_E_RANGE,
			    "%s: prefix length %llu is out of range 0..%u",
			    show(x, n), (unsigned long long)len,
			    addr_bits(&p->a));
	p->len = (uint8_t)len;
	if (is_v4mapped(&p->a)) {
		if (k != PREFIX_ACL)
			return fail(x, n->start_mark, CFG_E_VALUE,
				    "%s is an IPv4-mapped address: write the "
				    "IPv4 address", show(x, n));
		if (p->len >= 96) {
			memmove(p->a.addr, p->a.addr + 12, 4);
			memset(p->a.addr + 4, 0, 12);
			p->a.family = AF_INET;
			p->len = (uint8_t)(p->len - 96);
		}
	}
	if (k == PREFIX_IFACE) {
		static const uint8_t zero[16];

		if (memcmp(p->a.addr, zero, addr_bits(&p->a) / 8) == 0)
			return fail(x, n->start_mark, CFG_E_VALUE,
				    "%s: the unspecified address is not an "
				    "interface address", show(x, n));
		return 0;
	}
	for (unsigned i = p->len; i < addr_bits(&p->a); i++)
		if (bit(p->a.addr, i)) {
			struct cfg_addr net = p->a;
			char text[INET6_ADDRSTRLEN];

			for (unsigned j = p->len; j < addr_bits(&net); j++)
				net.addr[j / 8] &= (uint8_t)~(0x80 >> (j % 8));
			print_addr(&net, text, sizeof(text));
			return fail(x, n->start_mark, CFG_E_VALUE,
				    "%s has host bits set (the network is %s/%u)",
				    show(x, n), text, p->len);
		}
	return 0;
}

/* A plain address (resolver.upstream.source-addresses). */
static int get_addr(struct ctx *x, yaml_node_t *n, struct cfg_addr *a)
{
	static const char what[] = "an IPv4 or IPv6 address";
	char buf[TEXT_MAX];
	int r = get_text(x, n, buf, what);

	if (r)
		return r;
	if (!parse_ip(buf, a))
		return fail(x, n->start_mark, CFG_E_VALUE, "%s is not %s",
			    show(x, n), what);
	if (is_v4mapped(a))
		return fail(x, n->start_mark, CFG_E_VALUE,
			    "%s is an IPv4-mapped address: write the IPv4 "
			    "address", show(x, n));
	return 0;
}

/*
 * ADDR@PORT with ADDR IPv4, [IPv6] or bare IPv6 (IPv6 has no '@', so the
 * separator is never ambiguous) and the port optional (53).
 */
static int get_endpoint(struct ctx *x, yaml_node_t *n, struct cfg_endpoint *e)
{
	static const char what[] =
		"ADDR@PORT (IPv4, [IPv6] or IPv6; @PORT optional)";
	char buf[TEXT_MAX], *addr = buf, *port = NULL;
	uint64_t v = 53;
	int r = get_text(x, n, buf, what);

	if (r)
		return r;
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close || (close[1] != '\0' && close[1] != '@'))
			goto bad;
		*close = '\0';
		addr = buf + 1;
		if (close[1] == '@')
			port = close + 2;
		if (!strchr(addr, ':'))
			goto bad;
	} else if ((port = strchr(buf, '@'))) {
		*port++ = '\0';
	}
	if (!parse_ip(addr, &e->a) ||
	    (port && !digits((const unsigned char *)port, strlen(port), &v)))
		goto bad;
	if (v < 1 || v > 65535)
		return fail(x, n->start_mark, CFG_E_RANGE,
			    "%s: port %llu is out of range 1..65535", show(x, n),
			    (unsigned long long)v);
	if (is_v4mapped(&e->a))
		return fail(x, n->start_mark, CFG_E_VALUE,
			    "%s is an IPv4-mapped address: write the IPv4 "
			    "address", show(x, n));
	e->port = (uint16_t)v;
	return 0;
bad:
	return fail(x, n->start_mark, CFG_E_VALUE, "%s is not %s", show(x, n),
		    what);
}

/* --- times ----------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

static bool leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* n fixed-width decimal digits at s; false unless all are digits. */
static bool fixed(const char *s, unsigned n, unsigned *v)
{
	*v = 0;
	for (unsigned i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return true;
}

/*
 * RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), 'T' also
 * 't' or ' ', 'Z' also 'z' (RFC 3339 5.6). The fraction is dropped; a leap
 * second counts as the next second's start.
 */
static bool rfc3339(const char *s, int64_t *t)
{
	static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30,
					  31, 31, 30, 31, 30, 31 };
	unsigned y, mo, d, h, mi, sec, oh = 0, om = 0;
	int sign = 0;

	if (strlen(s) < 20 || !fixed(s, 4, &y) || s[4] != '-' ||
	    !fixed(s + 5, 2, &mo) || s[7] != '-' || !fixed(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !fixed(s + 11, 2, &h) || s[13] != ':' || !fixed(s + 14, 2, &mi) ||
	    s[16] != ':' || !fixed(s + 17, 2, &sec))
		return false;
	s += 19;
	if (*s == '.') {
		if (s[1] < '0' || s[1] > '9')
			return false;
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	}
	if ((*s == 'Z' || *s == 'z') && s[1] == '\0') {
		sign = 0;
	} else if ((*s == '+' || *s == '-') && strlen(s) == 6 &&
		   fixed(s + 1, 2, &oh) && s[3] == ':' && fixed(s + 4, 2, &om)) {
		sign = *s == '+' ? 1 : -1;
	} else {
		return false;
	}
	if (mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 || mi > 59 ||
	    sec > 60 || oh > 23 || om > 59)
		return false;
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	     sign * (int64_t)(oh * 3600 + om * 60);
	return true;
}

/* resolver.validation-time: unix seconds, or an RFC 3339 time. */
static int get_time(struct ctx *x, yaml_node_t *n, int64_t *out)
{
	static const char what[] =
		"a unix time or an RFC 3339 time (2017-08-25T00:00:00Z)";
	char buf[TEXT_MAX];
	uint64_t v;
	int64_t t;
	int r = get_text(x, n, buf, what);

	if (r)
		return r;
	if (plain(n) && digits((unsigned char *)buf, strlen(buf), &v)) {
		if (v > TIME_MAX_S)
			goto range;
		*out = (int64_t)v;
		return 0;
	}
	if (!rfc3339(buf, &t))
		return fail(x, n->start_mark, CFG_E_VALUE, "%s is not %s",
			    show(x, n), what);
	if (t < 0 || t > TIME_MAX_S)
		goto range;
	*out = t;
	return 0;
range:
	return fail(x, n->start_mark, CFG_E_RANGE,
		    "%s is out of range 1970-01-01T00:00:00Z.."
		    "9999-12-31T23:59:59Z", show(x, n));
}

/* --- sections -------------------------------------------------------- */

/*
 * Runs call (which sees the value as v) for key i of the walk w when the
 * file has that key, with the key on the path for messages; the key's name
 * comes from the walk's table (w_keys, declared by MAP_WALK). Returns from
 * the enclosing function on the first error. Needs the context named x.
 */
#define FIELD(w, i, call)                                                      \
	do {                                                                   \
		if ((w)[i]) {                                                  \
			size_t saved_ = push_key(x,                            \
				(const unsigned char *)w##_keys[i],            \
				strlen(w##_keys[i]));                          \
			yaml_node_t *v = (w)[i];                               \
			int r_ = (call);                                       \
			if (r_)                                                \
				return r_;                                     \
			pop(x, saved_);                                        \
		}                                                              \
	} while (0)

static int limits(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "max-referrals", "max-ns-per-referral",
		 "max-upstream-queries", "max-cname-chain", "max-time-ms",
		 "max-zone-share");
	typeof(x->cfg->resolver.limits) *l = &x->cfg->resolver.limits;
	int r = walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, get_u32(x, v, 1, 255, "a number", &l->max_referrals));
	FIELD(k, 1, get_u32(x, v, 1, 64, "a number", &l->max_ns_per_referral));
	FIELD(k, 2, get_u32(x, v, 1, 10000, "a number",
			    &l->max_upstream_queries));
	FIELD(k, 3, get_u32(x, v, 0, 255, "a number", &l->max_cname_chain));
	FIELD(k, 4, get_u32(x, v, 1, 600000, "a number of milliseconds",
			    &l->max_time_ms));
	FIELD(k, 5, get_u32(x, v, 1, 100, "a percentage", &l->max_zone_share));
	return 0;
}

/* A list [FIRST, LAST] of two ports, FIRST <= LAST, into out. */
static int two_ports(struct ctx *x, yaml_node_t *n, uint16_t out[2])
{
	uint32_t pp[2];
	size_t count;
	int r = list(x, n, 2, "ports", &count);

	if (r)
		return r;
	if (count != 2)
		return fail(x, n->start_mark, CFG_E_VALUE,
			    "expected two ports [FIRST, LAST], found %zu", count);
	for (size_t i = 0; i < 2; i++) {
		size_t saved = push_index(x, i);

		if ((r = get_u32(x, item(x, n, i), 1, 65535, "a port", &pp[i])))
			return r;
		pop(x, saved);
	}
	if (pp[0] > pp[1])
		return fail(x, n->start_mark, CFG_E_VALUE,
			    "the first port (%u) is above the last (%u)", pp[0],
			    pp[1]);
	out[0] = (uint16_t)pp[0];
	out[1] = (uint16_t)pp[1];
	return 0;
}

/* exclude: ports (a number) and ranges ([FIRST, LAST]). */
static int port_exclude(struct ctx *x, yaml_node_t *n)
{
	typeof(x->cfg->resolver.upstream) *u = &x->cfg->resolver.upstream;
	size_t count;
	int r = list(x, n, CFG_PORT_EXCLUDE_MAX, "ports or ranges", &count);

	if (r)
		return r;
	for (size_t i = 0; i < count; i++) {
		size_t saved = push_index(x, i);
		yaml_node_t *e = item(x, n, i);
		uint16_t *pr = u->port_exclude[i];

		if (e->type == YAML_SEQUENCE_NODE) {
			if ((r = two_ports(x, e, pr)))
				return r;
		} else {
			uint32_t p;
			if ((r = get_u32(x, e, 1, 65535, "a port or a range [FIRST, LAST]", &p)))
				return r;
			pr[0] = pr[1] = (uint16_t)p;
		}
		pop(x, saved);
	}
	u->n_port_exclude = (unsigned)count;
	return 0;
}

/* The ports of the range that no exclusion takes. */
static uint32_t ports_left(const typeof(((struct cfg *)0)->resolver.upstream) *u)
{
	uint32_t left = 0;

	for (uint32_t p = u->port_min; p <= u->port_max; p++)
		left += cfg_port_drawable(p, u->port_exclude, u->n_port_exclude);
	return left;
}

static int upstream_ports(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "range", "exclude");
	typeof(x->cfg->resolver.upstream) *u = &x->cfg->resolver.upstream;
	uint16_t range[2] = { u->port_min, u->port_max };
	int r = walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, two_ports(x, v, range));
	u->port_min = range[0];
	u->port_max = range[1];
	FIELD(k, 1, port_exclude(x, v));
	if (ports_left(u) == 0)
		return fail(x, n->start_mark, CFG_E_VALUE,
			    "no port of %u..%u is left after the exclusions",
			    u->port_min, u->port_max);
	return 0;
}

static int source_addresses(struct ctx *x, yaml_node_t *n)
{
	typeof(x->cfg->resolver.upstream) *u = &x->cfg->resolver.upstream;
	size_t count;
	int r = list(x, n, CFG_SOURCE_MAX, "addresses", &count);

	if (r)
		return r;
	for (size_t i = 0; i < count; i++) {
		size_t saved = push_index(x, i);

		if ((r = get_addr(x, item(x, n, i), &u->source[i])))
			return r;
		for (size_t j = 0; j < i; j++)
			if (memcmp(&u->source[j], &u->source[i],
				   sizeof(u->source[i])) == 0)
				return fail(x, item(x, n, i)->start_mark,
					    CFG_E_DUPLICATE,
					    "same address as element %zu", j);
		pop(x, saved);
	}
	u->n_source = (unsigned)count;
	return 0;
}

static int upstream(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "edns-buffer", "use-0x20", "cookies", "timeout-ms",
		 "retries", "ports", "source-addresses");
	typeof(x->cfg->resolver.upstream) *u = &x->cfg->resolver.upstream;
	uint32_t edns = u->edns_buffer;
	int r = walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, get_u32(x, v, 512, 4096, "a number of octets", &edns));
	u->edns_buffer = (uint16_t)edns;
	FIELD(k, 1, get_bool(x, v, &u->use_0x20));
	FIELD(k, 2, get_bool(x, v, &u->cookies));
	FIELD(k, 3, get_u32(x, v, 10, 60000, "a number of milliseconds",
			    &u->timeout_ms));
	FIELD(k, 4, get_u32(x, v, 0, 10, "a number", &u->retries));
	FIELD(k, 5, upstream_ports(x, v));
	FIELD(k, 6, source_addresses(x, v));
	return 0;
}

/* A list of prefixes (do-not-query, do-query) into out; its count. */
static int prefix_list(struct ctx *x, yaml_node_t *n, struct cfg_prefix *out,
		       unsigned *nout)
{
	size_t count;
	int r = list(x, n, CFG_QUERY_PREFIXES_MAX, "prefixes", &count);

	if (r)
		return r;
	for (size_t i = 0; i < count; i++) {
		size_t saved = push_index(x, i);

		if ((r = get_prefix(x, item(x, n, i), PREFIX_ACL, &out[i])))
			return r;
		pop(x, saved);
	}
	*nout = (unsigned)count;
	return 0;
}

static int resolver(struct ctx *x, yaml_node_t *n)
{
	static const char *const qmin[] = { "off", "relaxed", "strict" };
	MAP_WALK(k, "root-hints", "trust-anchor", "qname-minimisation",
		 "validation-time", "nsec3-max-iterations", "max-rrset-records",
		 "limits", "upstream", "do-not-query", "do-query", "sibling-glue");
	typeof(x->cfg->resolver) *res = &x->cfg->resolver;
	int r = walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, get_path(x, v, res->root_hints, sizeof(res->root_hints)));
	FIELD(k, 1, get_path(x, v, res->trust_anchor,
			     sizeof(res->trust_anchor)));
	FIELD(k, 2, get_enum(x, v, qmin, 3, "one of off, relaxed, strict",
			     &res->qname_min));
	FIELD(k, 3, get_time(x, v, &res->validation_time));
	res->has_validation_time = k[3] != NULL;
	FIELD(k, 4, get_u32(x, v, 0, 2500, "a number",
			    &res->nsec3_max_iterations));
	FIELD(k, 5, get_u32(x, v, 1, 65535, "a number",
			    &res->max_rrset_records));
	FIELD(k, 6, limits(x, v));
	FIELD(k, 7, upstream(x, v));
	FIELD(k, 8, prefix_list(x, v, res->do_not_query, &res->n_do_not_query));
	FIELD(k, 9, prefix_list(x, v, res->do_query, &res->n_do_query));
	FIELD(k, 10, get_bool(x, v, &res->sibling_glue));
	if (!k[0])
		return missing(x, n->start_mark, "root-hints");
	return 0;
}

static int serve_stale(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "enabled", "max-stale", "answer-ttl", "client-timeout-ms");
	typeof(x->cfg->cache) *c = &x->cfg->cache;
	int r = walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, get_bool(x, v, &c->stale_enabled));
	FIELD(k, 1, get_u32(x, v, 1, CFG_TTL_MAX_S, "a number of seconds",
			    &c->max_stale_s));
	FIELD(k, 2, get_u32(x, v, 1, 86400, "a number of seconds",
			    &c->stale_answer_ttl_s));
	FIELD(k, 3, get_u32(x, v, 0, 60000, "a number of milliseconds",
			    &c->stale_client_timeout_ms));
	return 0;
}

static int prefetch(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "enabled", "threshold-percent");
	typeof(x->cfg->cache) *c = &x->cfg->cache;
	uint32_t pct = c->prefetch_threshold_percent;
	int r = walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, get_bool(x, v, &c->prefetch_enabled));
	FIELD(k, 1, get_u32(x, v, 0, 100, "a percentage", &pct));
	c->prefetch_threshold_percent = (uint8_t)pct;
	return 0;
}

/*
 * Key lo's value (lov) above key hi's (hiv) in one mapping (k and keys of
 * its walk): the error names the one of the two the file gave, lo first.
 */
static int above(struct ctx *x, yaml_node_t *const *k, const char *const *keys,
		 int lo, int hi, uint32_t lov, uint32_t hiv)
{
	int i = k[lo] ? lo : hi;
	size_t saved = push_key(x, (const unsigned char *)keys[i], strlen(keys[i]));
	int r = fail(x, k[i]->start_mark, CFG_E_VALUE, "%s (%u) is above %s (%u)", keys[lo],
		     lov, keys[hi], hiv);

	pop(x, saved);
	return r;
}

static int cache(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "size", "min-ttl", "max-ttl", "max-negative-ttl",
		 "serve-stale", "prefetch", "failure-ttl", "max-failure-ttl");
	typeof(x->cfg->cache) *c = &x->cfg->cache;
	int r = walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, get_size(x, v, 1ull << 20, 1ull << 40, &c->size_bytes));
	FIELD(k, 1, get_u32(x, v, 0, CFG_TTL_MAX_S, "a number of seconds",
			    &c->min_ttl_s));
	FIELD(k, 2, get_u32(x, v, 1, CFG_TTL_MAX_S, "a number of seconds",
			    &c->max_ttl_s));
	FIELD(k, 3, get_u32(x, v, 0, CFG_TTL_MAX_S, "a number of seconds",
			    &c->max_negative_ttl_s));
	FIELD(k, 4, serve_stale(x, v));
	FIELD(k, 5, prefetch(x, v));
	FIELD(k, 6, get_u32(x, v, 1, 30, "a number of seconds", &c->failure_ttl_s));
	FIELD(k, 7, get_u32(x, v, 1, 300, "a number of seconds", &c->max_failure_ttl_s));
	if (c->min_ttl_s > c->max_ttl_s)
		return above(x, k, k_keys, 1, 2, c->min_ttl_s, c->max_ttl_s);
	if (c->failure_ttl_s > c->max_failure_ttl_s)
		return above(x, k, k_keys, 6, 7, c->failure_ttl_s, c->max_failure_ttl_s);
	return 0;
}

static int tcp(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "max-connections", "max-per-client", "idle-timeout-ms");
	typeof(x->cfg->tcp) *t = &x->cfg->tcp;
	int r = walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, get_u32(x, v, 1, 65536, "a number", &t->max_connections));
	FIELD(k, 1, get_u32(x, v, 1, 65536, "a number", &t->max_per_client));
	FIELD(k, 2, get_u32(x, v, 100, 600000, "a number of milliseconds",
			    &t->idle_timeout_ms));
	return 0;
}

static int acl_rule(struct ctx *x, yaml_node_t *n, struct cfg_acl_rule *rule)
{
	static const char *const actions[] = { "allow", "refuse", "drop" };
	MAP_WALK(k, "prefix", "action");
	int r = walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, get_prefix(x, v, PREFIX_ACL, &rule->prefix));
	FIELD(k, 1, get_enum(x, v, actions, 3, "one of allow, refuse, drop",
			     &rule->action));
	if (!k[0])
		return missing(x, n->start_mark, "prefix");
	if (!k[1])
		return missing(x, n->start_mark, "action");
	return 0;
}

static int access_control(struct ctx *x, yaml_node_t *n)
{
	size_t count;
	int r = list(x, n, CFG_ACL_MAX, "rules", &count);

	if (r)
		return r;
	memset(x->cfg->acl, 0, sizeof(x->cfg->acl));
	for (size_t i = 0; i < count; i++) {
		size_t saved = push_index(x, i);

		if ((r = acl_rule(x, item(x, n, i), &x->cfg->acl[i])))
			return r;
		pop(x, saved);
	}
	x->cfg->n_acl = (unsigned)count;
	return 0;
}

static int listen_list(struct ctx *x, yaml_node_t *n)
{
	struct cfg_endpoint *e = x->cfg->listen;
	size_t count;
	int r = list(x, n, CFG_LISTEN_MAX, "addresses", &count);

	if (r)
		return r;
	if (count == 0)
		return fail(x, n->start_mark, CFG_E_VALUE,
			    "is empty: give at least one address");
	memset(e, 0, sizeof(x->cfg->listen));
	for (size_t i = 0; i < count; i++) {
		size_t saved = push_index(x, i);

		if ((r = get_endpoint(x, item(x, n, i), &e[i])))
			return r;
		for (size_t j = 0; j < i; j++)
			if (memcmp(&e[j], &e[i], sizeof(e[i])) == 0)
				return fail(x, item(x, n, i)->start_mark,
					    CFG_E_DUPLICATE,
					    "same address and port as element %zu",
					    j);
		pop(x, saved);
	}
	x->cfg->n_listen = (unsigned)count;
	return 0;
}

static int control(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "socket");
	int r = walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, get_path(x, v, x->cfg->control.socket,
			     sizeof(x->cfg->control.socket)));
	return 0;
}

static int eal(struct ctx *x, yaml_node_t *n)
{
	typeof(x->cfg->dataplane) *dp = &x->cfg->dataplane;
	size_t count;
	int r = list(x, n, CFG_EAL_ARGS_MAX, "arguments", &count);

	if (r)
		return r;
	for (size_t i = 0; i < count; i++) {
		size_t saved = push_index(x, i);

		if ((r = get_string(x, item(x, n, i), dp->eal[i],
				    sizeof(dp->eal[i]), "a string")))
			return r;
		pop(x, saved);
	}
	dp->n_eal = (unsigned)count;
	return 0;
}

static int port_addresses(struct ctx *x, yaml_node_t *n, struct cfg_port *p)
{
	size_t count;
	int r = list(x, n, CFG_PORT_ADDRS_MAX, "addresses", &count);

	if (r)
		return r;
	if (count == 0)
		return fail(x, n->start_mark, CFG_E_VALUE,
			    "is empty: give at least one address");
	for (size_t i = 0; i < count; i++) {
		size_t saved = push_index(x, i);

		if ((r = get_prefix(x, item(x, n, i), PREFIX_IFACE,
				    &p->addresses[i])))
			return r;
		pop(x, saved);
	}
	p->n_addresses = (unsigned)count;
	return 0;
}

static int port(struct ctx *x, yaml_node_t *n, struct cfg_port *p)
{
	MAP_WALK(k, "device", "addresses", "exception");
	int r = walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, get_string(x, v, p->device, sizeof(p->device),
			       "a device name"));
	FIELD(k, 1, port_addresses(x, v, p));
	FIELD(k, 2, get_string(x, v, p->exception, sizeof(p->exception),
			       "an interface name (at most 15 octets)"));
	if (k[2] && !p->exception[0])
		return fail(x, n->start_mark, CFG_E_VALUE,
			    "exception: is empty: give an interface name");
	if (!k[0])
		return missing(x, n->start_mark, "device");
	if (!k[1])
		return missing(x, n->start_mark, "addresses");
	return 0;
}

static int ports(struct ctx *x, yaml_node_t *n)
{
	typeof(x->cfg->dataplane) *dp = &x->cfg->dataplane;
	size_t count;
	int r = list(x, n, CFG_PORTS_MAX, "ports", &count);

	if (r)
		return r;
	if (count == 0)
		return fail(x, n->start_mark, CFG_E_VALUE,
			    "is empty: give at least one port");
	for (size_t i = 0; i < count; i++) {
		size_t saved = push_index(x, i);

		snprintf(dp->ports[i].exception, sizeof(dp->ports[i].exception),
			 "bwexc%u", (unsigned)(i % CFG_PORTS_MAX));
		if ((r = port(x, item(x, n, i), &dp->ports[i])))
			return r;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(dp->ports[j].exception, dp->ports[i].exception))
				return fail(x, item(x, n, i)->start_mark,
					    CFG_E_DUPLICATE,
					    "exception interface %s is already element %zu's",
					    dp->ports[i].exception, j);
		pop(x, saved);
	}
	dp->n_ports = (unsigned)count;
	return 0;
}

static int workers(struct ctx *x, yaml_node_t *n)
{
	typeof(x->cfg->dataplane) *dp = &x->cfg->dataplane;
	size_t count;
	int r = list(x, n, CFG_WORKERS_MAX, "workers", &count);

	if (r)
		return r;
	if (count == 0)
		return fail(x, n->start_mark, CFG_E_VALUE,
			    "is empty: give at least one lcore");
	for (size_t i = 0; i < count; i++) {
		size_t saved = push_index(x, i);
		uint32_t id;

		if ((r = get_u32(x, item(x, n, i), 0, CFG_LCORE_MAX,
				 "an lcore id", &id)))
			return r;
		for (size_t j = 0; j < i; j++)
			if (dp->workers[j] == id)
				return fail(x, item(x, n, i)->start_mark,
					    CFG_E_DUPLICATE,
					    "lcore %u is already element %zu",
					    id, j);
		dp->workers[i] = (uint16_t)id;
		pop(x, saved);
	}
	dp->n_workers = (unsigned)count;
	return 0;
}

static int dataplane(struct ctx *x, yaml_node_t *n)
{
	static const char *const down[] = { "servfail", "drop" };
	MAP_WALK(k, "eal", "ports", "workers", "control-down");
	int r = walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, eal(x, v));
	FIELD(k, 1, ports(x, v));
	FIELD(k, 2, workers(x, v));
	FIELD(k, 3, get_enum(x, v, down, 2, "one of servfail, drop",
			     &x->cfg->dataplane.control_down));
	if (!k[1])
		return missing(x, n->start_mark, "ports");
	if (!k[2])
		return missing(x, n->start_mark, "workers");
	x->cfg->dataplane.enabled = true;
	return 0;
}

static int root(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "resolver", "cache", "access-control", "listen", "control",
		 "dataplane", "tcp");
	static const yaml_mark_t start;
	int r;

	/* An empty stream has no node: every section takes its defaults. */
	if (!n)
		return missing(x, start, "resolver.root-hints");
	if (n->type != YAML_MAPPING_NODE)
		return fail(x, n->start_mark, CFG_E_TYPE,
			    "the configuration must be a mapping of sections, "
			    "found %s", kind(n));
	if ((r = walk_map(x, n, &k_walk)))
		return r;
	FIELD(k, 0, resolver(x, v));
	FIELD(k, 1, cache(x, v));
	FIELD(k, 2, access_control(x, v));
	FIELD(k, 3, listen_list(x, v));
	FIELD(k, 4, control(x, v));
	FIELD(k, 5, dataplane(x, v));
	FIELD(k, 6, tcp(x, v));
	if (!k[0])
		return missing(x, n->start_mark, "resolver.root-hints");
	return 0;
}

/* --- entry points ---------------------------------------------------- */

void cfg_default(struct cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->resolver.qname_min = CFG_QMIN_RELAXED;
	cfg->resolver.nsec3_max_iterations = 100;
	cfg->resolver.max_rrset_records = 100;
	cfg->resolver.limits.max_referrals = 30;
	cfg->resolver.limits.max_ns_per_referral = 6;
	cfg->resolver.limits.max_upstream_queries = 100;
	cfg->resolver.limits.max_cname_chain = 11;
	cfg->resolver.limits.max_time_ms = 10000;
	cfg->resolver.limits.max_zone_share = 10;
	cfg->resolver.sibling_glue = true;
	/* PowerDNS's dont-query: loopback, RFC 1918, shared, link-local,
	 * documentation, ULA (RFC 6890 special-purpose blocks) */
	static const char *const dnq[] = {
		"127.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16",
		"172.16.0.0/12", "192.168.0.0/16", "192.0.0.0/24", "192.0.2.0/24",
		"198.51.100.0/24", "203.0.113.0/24", "::1/128", "fc00::/7", "fe80::/10",
		"2001:db8::/32",
	};
	for (unsigned i = 0; i < sizeof(dnq) / sizeof(dnq[0]); i++) {
		struct cfg_prefix *p = &cfg->resolver.do_not_query[i];
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", dnq[i]);
		char *slash = strchr(buf, '/');
		*slash = '\0';
		parse_ip(buf, &p->a);
		p->len = (uint8_t)atoi(slash + 1);
	}
	cfg->resolver.n_do_not_query = sizeof(dnq) / sizeof(dnq[0]);
	cfg->resolver.upstream.edns_buffer = 1232;
	cfg->resolver.upstream.use_0x20 = true;
	cfg->resolver.upstream.cookies = true;
	cfg->resolver.upstream.timeout_ms = 800;
	cfg->resolver.upstream.retries = 2;
	cfg->resolver.upstream.port_min = 1024;
	cfg->resolver.upstream.port_max = 65535;
	cfg->cache.size_bytes = 1ull << 30;
	cfg->cache.min_ttl_s = 0;
	cfg->cache.max_ttl_s = 86400;
	cfg->cache.max_negative_ttl_s = 3600;
	cfg->cache.stale_enabled = true;
	cfg->cache.max_stale_s = 86400;
	cfg->cache.stale_answer_ttl_s = 30;
	cfg->cache.stale_client_timeout_ms = 1800;
	cfg->cache.prefetch_enabled = true;
	cfg->cache.prefetch_threshold_percent = 10;
	cfg->tcp.max_connections = 256;
	cfg->tcp.max_per_client = 8;
	cfg->tcp.idle_timeout_ms = 10000;
	cfg->cache.failure_ttl_s = 5;
	cfg->cache.max_failure_ttl_s = 30;
	cfg->n_acl = 2;
	cfg->acl[0].prefix.a.family = AF_INET;
	cfg->acl[0].prefix.a.addr[0] = 127;
	cfg->acl[0].prefix.len = 8;
	cfg->acl[0].action = CFG_ACL_ALLOW;
	cfg->acl[1].prefix.a.family = AF_INET6;
	cfg->acl[1].prefix.a.addr[15] = 1;
	cfg->acl[1].prefix.len = 128;
	cfg->acl[1].action = CFG_ACL_ALLOW;
	cfg->n_listen = 2;
	cfg->listen[0].a.family = AF_INET;
	memcpy(cfg->listen[0].a.addr, (const uint8_t[]){ 127, 0, 0, 1 }, 4);
	cfg->listen[0].port = 53;
	cfg->listen[1].a.family = AF_INET6;
	cfg->listen[1].a.addr[15] = 1;
	cfg->listen[1].port = 53;
	snprintf(cfg->control.socket, sizeof(cfg->control.socket), "%s",
		 "/run/bailiwick/control.sock");
}

static int yaml_error(struct ctx *x, const yaml_parser_t *p)
{
	yaml_mark_t m = p->problem_mark;
	char ctx[96] = "";

	if (p->error == YAML_MEMORY_ERROR)
		return fail(x, p->mark, CFG_E_NOMEM, "out of memory");
	/* The reader reports an octet offset, not a mark (it decodes ahead of
	 * the scanner): count the lines up to the offset in the input. */
	if (p->error == YAML_READER_ERROR) {
		size_t off = p->problem_offset < x->len ? p->problem_offset : x->len;

		memset(&m, 0, sizeof(m));
		for (size_t i = 0; i < off; i++) {
			if (x->text[i] == '\n') {
				m.line++;
				m.column = 0;
			} else if (((unsigned char)x->text[i] & 0xc0) != 0x80) {
				m.column++; /* characters, as libyaml's marks count */
			}
		}
	}
	if (p->context)
		snprintf(ctx, sizeof(ctx), " (%s at %zu:%zu)", p->context,
			 p->context_mark.line + 1, p->context_mark.column + 1);
	return fail(x, m, CFG_E_SYNTAX, "YAML syntax error: %s%s",
		    p->problem ? p->problem : "unknown problem", ctx);
}

int cfg_parse(struct cfg *cfg, const char *text, size_t len,
	      const char *name, char *err, size_t errlen)
{
	struct ctx x = { .name = name ? name : "(configuration)",
			 .text = text ? text : "", .len = text ? len : 0,
			 .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc, next;

	if (err && errlen)
		err[0] = '\0';
	if (len > CFG_FILE_MAX)
		return fail_file(err, errlen, x.name, CFG_E_LIMIT,
				 "larger than the 1 MiB a configuration may be", 0);
	x.cfg = malloc(sizeof(*x.cfg));
	if (!x.cfg)
		return fail_file(err, errlen, x.name, CFG_E_NOMEM,
				 "out of memory", 0);
	cfg_default(x.cfg);
	if (!yaml_parser_initialize(&parser)) {
		free(x.cfg);
		return fail_file(err, errlen, x.name, CFG_E_NOMEM,
				 "out of memory", 0);
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)x.text,
				     x.len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_error(&x, &parser);
	} else {
		x.doc = &doc;
		root(&x, yaml_document_get_root_node(&doc));
		/* A second document would be ignored by every reader that
		 * stops at the first: refuse it rather than guess. */
		if (!x.rc) {
			if (!yaml_parser_load(&parser, &next)) {
				yaml_error(&x, &parser);
			} else {
				yaml_node_t *n = yaml_document_get_root_node(&next);

				if (n)
					fail(&x, n->start_mark, CFG_E_VALUE,
					     "a second YAML document: the "
					     "configuration is one document");
				yaml_document_delete(&next);
			}
		}
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	if (!x.rc)
		memcpy(cfg, x.cfg, sizeof(*cfg));
	free(x.cfg);
	return x.rc;
}

int cfg_load_sha256(struct cfg *cfg, const char *path, uint8_t *sha256, char *err,
		    size_t errlen)
{
	struct stat st;
	char *buf;
	size_t len = 0;
	int fd, r;

	if (err && errlen)
		err[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail_file(err, errlen, path, CFG_E_IO, "cannot open", errno);
	if (fstat(fd, &st) != 0) {
		r = errno;
		close(fd);
		return fail_file(err, errlen, path, CFG_E_IO, "cannot stat", r);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail_file(err, errlen, path, CFG_E_IO,
				 "not a regular file", 0);
	}
	if (st.st_size > (off_t)CFG_FILE_MAX) {
		close(fd);
		return fail_file(err, errlen, path, CFG_E_LIMIT,
				 "larger than the 1 MiB a configuration may be", 0);
	}
	/* One octet more than the size: a file that grew is read to its cap
	 * and then refused as too large, not silently cut. */
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return fail_file(err, errlen, path, CFG_E_NOMEM, "out of memory", 0);
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = errno;
			close(fd);
			free(buf);
			return fail_file(err, errlen, path, CFG_E_IO,
					 "cannot read", r);
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > (size_t)st.st_size) {
			close(fd);
			free(buf);
			return fail_file(err, errlen, path, CFG_E_IO,
					 "changed while being read", 0);
		}
	}
	close(fd);
	uint8_t digest[CFG_SHA256_LEN];
	if (sha256 && !EVP_Digest(buf, len, digest, NULL, EVP_sha256(), NULL)) {
		free(buf);
		return fail_file(err, errlen, path, CFG_E_NOMEM, "cannot hash the file", 0);
	}
	r = cfg_parse(cfg, buf, len, path, err, errlen);
	if (r == 0 && sha256)
		memcpy(sha256, digest, sizeof(digest));
	free(buf);
	return r;
}

int cfg_load(struct cfg *cfg, const char *path, char *err, size_t errlen)
{
	return cfg_load_sha256(cfg, path, NULL, err, errlen);
}

bool cfg_port_drawable(uint32_t port, const uint16_t (*exclude)[2], unsigned n)
{
	if (port == 53)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (port >= exclude[i][0] && port <= exclude[i][1])
			return false;
	return true;
}

bool cfg_prefix_match(const struct cfg_prefix *p, const uint8_t *addr)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (memcmp(p->a.addr, addr, full) != 0)
		return false;
	return rest == 0 ||
	       ((p->a.addr[full] ^ addr[full]) & (uint8_t)(0xff00 >> rest)) == 0;
}

const char *cfg_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
#define CFG_ERR_CASE(name, value, text) case name: return text;
	CFG_ERRORS(CFG_ERR_CASE)
#undef CFG_ERR_CASE
	default:
		return "unknown configuration error";
	}
}
