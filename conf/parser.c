/*
 * conf/parser.c: the YAML side of reading the configuration: cfg_load()
 * and cfg_parse() (the file, libyaml's document, the staged copy), the
 * messages and key paths, the walk of mappings and lists, and the readers
 * of numbers, sizes, booleans, strings, paths, addresses, prefixes,
 * endpoints and times; conf/config.c says which keys exist and what they
 * bound. Control process and dataplane main thread, may block (the file is
 * read here); never on a worker lcore.
 *
 * libyaml's document API loads the whole file into a node tree (flow and
 * block style give the same tree; aliases become shared nodes, so an alias
 * bomb costs nothing until walked). The schema's walk follows the schema,
 * not the tree, so the work is bounded whatever the file holds (config.c).
 * Values land in a private copy built over the defaults; the caller's
 * struct is replaced only when the whole file is valid (staged reload).
 */
#include "conf/parser.h"

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

#include <openssl/evp.h>

#define TEXT_MAX 128		/* addresses, numbers, times: longer is wrong */
#define TIME_MAX_S 253402300799LL /* 9999-12-31T23:59:59Z */

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
const char *cfgp_show(struct ctx *x, const yaml_node_t *n)
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

int cfgp_fail(struct ctx *x, yaml_mark_t m, int code, const char *fmt, ...)
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

size_t cfgp_push_key(struct ctx *x, const unsigned char *key, size_t len)
{
	size_t saved = x->plen;

	if (x->plen && x->plen + 1 < sizeof(x->path))
		x->path[x->plen++] = '.';
	if (x->plen < sizeof(x->path))
		x->plen += escape(x->path + x->plen, sizeof(x->path) - x->plen,
				  key, len, SHOW_MAX);
	return saved;
}

size_t cfgp_push_index(struct ctx *x, size_t i)
{
	size_t saved = x->plen;

	put(x->path, sizeof(x->path), &x->plen, "[%zu]", i);
	if (x->plen >= sizeof(x->path))
		x->plen = sizeof(x->path) - 1;
	return saved;
}

void cfgp_pop(struct ctx *x, size_t saved)
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

const char *cfgp_kind(const yaml_node_t *n)
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
		return cfgp_fail(x, n->start_mark, CFG_E_TYPE,
				 "explicit YAML tags are not supported");
	return 0;
}

static int want(struct ctx *x, const yaml_node_t *n, yaml_node_type_t type,
		const char *what)
{
	if (n->type != type || (type == YAML_SCALAR_NODE && is_null(n)))
		return cfgp_fail(x, n->start_mark, CFG_E_TYPE,
				 "expected %s, found %s", what, cfgp_kind(n));
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

int cfgp_walk_map(struct ctx *x, yaml_node_t *n, struct cfgp_map_walk *w)
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
			return cfgp_fail(x, k->start_mark, CFG_E_TYPE,
					 "expected a key, found %s",
					 cfgp_kind(k));
		size_t saved = cfgp_push_key(x, k->data.scalar.value,
					     k->data.scalar.length);
		if ((r = check_tag(x, k)))
			return r;
		for (i = 0; i < w->nkeys; i++)
			if (strlen(w->keys[i]) == k->data.scalar.length &&
			    memcmp(w->keys[i], k->data.scalar.value,
				   k->data.scalar.length) == 0)
				break;
		if (i == w->nkeys)
			return cfgp_fail(x, k->start_mark, CFG_E_UNKNOWN_KEY,
					 "unknown key");
		if (w->seen_key[i])
			return cfgp_fail(x, k->start_mark, CFG_E_DUPLICATE,
					 "duplicate key (first at %zu:%zu)",
					 w->seen_key[i]->start_mark.line + 1,
					 w->seen_key[i]->start_mark.column + 1);
		w->seen_key[i] = k;
		w->val[i] = node(x, p->value);
		cfgp_pop(x, saved);
	}
	return 0;
}

int cfgp_missing(struct ctx *x, yaml_mark_t m, const char *key)
{
	size_t saved = cfgp_push_key(x, (const unsigned char *)key,
				     strlen(key));
	int r = cfgp_fail(x, m, CFG_E_MISSING, "missing required key");

	cfgp_pop(x, saved);
	return r;
}

int cfgp_list(struct ctx *x, yaml_node_t *n, size_t max, const char *what,
	      size_t *count)
{
	int r = want(x, n, YAML_SEQUENCE_NODE, "a list");

	if (r)
		return r;
	*count = (size_t)(n->data.sequence.items.top -
			  n->data.sequence.items.start);
	if (*count > max)
		return cfgp_fail(x, cfgp_item(x, n, max)->start_mark,
				 CFG_E_LIMIT, "more than %zu %s", max, what);
	return 0;
}

yaml_node_t *cfgp_item(struct ctx *x, yaml_node_t *list, size_t i)
{
	return node(x, list->data.sequence.items.start[i]);
}

/* --- scalars --------------------------------------------------------- */

int cfgp_get_string(struct ctx *x, yaml_node_t *n, char *dst, size_t cap,
		    const char *what)
{
	int r = want(x, n, YAML_SCALAR_NODE, what);
	size_t len = n->data.scalar.length;

	if (r)
		return r;
	if (len == 0)
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE, "is empty");
	if (memchr(n->data.scalar.value, '\0', len))
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE,
				 "%s contains a NUL character", cfgp_show(x, n));
	if (len >= cap)
		return cfgp_fail(x, n->start_mark, CFG_E_LIMIT,
				 "%s is longer than %zu octets", cfgp_show(x, n),
				 cap - 1);
	memcpy(dst, n->data.scalar.value, len);
	dst[len] = '\0';
	return 0;
}

int cfgp_get_path(struct ctx *x, yaml_node_t *n, char *dst, size_t cap)
{
	int r = cfgp_get_string(x, n, dst, cap, "a path");

	if (!r && dst[0] != '/')
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE,
				 "%s is not an absolute path", cfgp_show(x, n));
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
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE, "%s is not %s",
				 cfgp_show(x, n), unit);
	if (v < lo || v > hi)
		return cfgp_fail(x, n->start_mark, CFG_E_RANGE,
				 "%.*s is out of range %llu..%llu",
				 (int)(n->data.scalar.length > SHOW_MAX
					  ? SHOW_MAX : n->data.scalar.length),
				 (const char *)n->data.scalar.value,
				 (unsigned long long)lo,
				 (unsigned long long)hi);
	*out = v;
	return 0;
}

int cfgp_get_u32(struct ctx *x, yaml_node_t *n, uint32_t lo, uint32_t hi,
		 const char *unit, uint32_t *out)
{
	uint64_t v = 0;
	int r = get_num(x, n, lo, hi, unit, &v);

	if (!r)
		*out = (uint32_t)v;
	return r;
}

int cfgp_get_bool(struct ctx *x, yaml_node_t *n, bool *out)
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
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE,
				 "%s is not a boolean (true or false)",
				 cfgp_show(x, n));
	return 0;
}

int cfgp_get_enum(struct ctx *x, yaml_node_t *n, const char *const *names,
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
	return cfgp_fail(x, n->start_mark, CFG_E_VALUE, "%s is not %s",
			 cfgp_show(x, n), what);
}

int cfgp_get_size(struct ctx *x, yaml_node_t *n, uint64_t lo, uint64_t hi,
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
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE, "%s is not %s",
				 cfgp_show(x, n), unit);
	if (v > (UINT64_MAX >> shift) || (v << shift) < lo || (v << shift) > hi)
		return cfgp_fail(x, n->start_mark, CFG_E_RANGE,
				 "%s is out of range %lluM..%lluG", cfgp_show(x, n),
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
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE, "%s is not %s",
				 cfgp_show(x, n), what);
	memcpy(buf, n->data.scalar.value, n->data.scalar.length);
	buf[n->data.scalar.length] = '\0';
	return 0;
}

bool cfgp_parse_ip(const char *s, struct cfg_addr *a)
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

int cfgp_get_prefix(struct ctx *x, yaml_node_t *n, enum cfgp_prefix_kind k,
		    struct cfg_prefix *p)
{
	const char *what = k == CFGP_PREFIX_ACL
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
	if ((!slash && k == CFGP_PREFIX_IFACE) || !cfgp_parse_ip(buf, &p->a) ||
	    (slash && !digits((const unsigned char *)slash + 1,
			      strlen(slash + 1), &len)))
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE, "%s is not %s",
				 cfgp_show(x, n), what);
	if (!slash)
		len = addr_bits(&p->a);
	if (len > addr_bits(&p->a))
		return cfgp_fail(x, n->start_mark, CFG_E_RANGE,
				 "%s: prefix length %llu is out of range 0..%u",
				 cfgp_show(x, n), (unsigned long long)len,
				 addr_bits(&p->a));
	p->len = (uint8_t)len;
	if (is_v4mapped(&p->a)) {
		if (k != CFGP_PREFIX_ACL)
			return cfgp_fail(x, n->start_mark, CFG_E_VALUE,
					 "%s is an IPv4-mapped address: write "
					 "the IPv4 address", cfgp_show(x, n));
		if (p->len >= 96) {
			memmove(p->a.addr, p->a.addr + 12, 4);
			memset(p->a.addr + 4, 0, 12);
			p->a.family = AF_INET;
			p->len = (uint8_t)(p->len - 96);
		}
	}
	if (k == CFGP_PREFIX_IFACE) {
		static const uint8_t zero[16];

		if (memcmp(p->a.addr, zero, addr_bits(&p->a) / 8) == 0)
			return cfgp_fail(x, n->start_mark, CFG_E_VALUE,
					 "%s: the unspecified address is not "
					 "an interface address", cfgp_show(x, n));
		return 0;
	}
	for (unsigned i = p->len; i < addr_bits(&p->a); i++)
		if (bit(p->a.addr, i)) {
			struct cfg_addr net = p->a;
			char text[INET6_ADDRSTRLEN];

			for (unsigned j = p->len; j < addr_bits(&net); j++)
				net.addr[j / 8] &= (uint8_t)~(0x80 >> (j % 8));
			print_addr(&net, text, sizeof(text));
			return cfgp_fail(x, n->start_mark, CFG_E_VALUE,
					 "%s has host bits set (the network "
					 "is %s/%u)", cfgp_show(x, n), text, p->len);
		}
	return 0;
}

int cfgp_get_addr(struct ctx *x, yaml_node_t *n, struct cfg_addr *a)
{
	static const char what[] = "an IPv4 or IPv6 address";
	char buf[TEXT_MAX];
	int r = get_text(x, n, buf, what);

	if (r)
		return r;
	if (!cfgp_parse_ip(buf, a))
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE, "%s is not %s",
				 cfgp_show(x, n), what);
	if (is_v4mapped(a))
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE,
				 "%s is an IPv4-mapped address: write the IPv4 "
				 "address", cfgp_show(x, n));
	return 0;
}

int cfgp_get_endpoint(struct ctx *x, yaml_node_t *n, struct cfg_endpoint *e)
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
	if (!cfgp_parse_ip(addr, &e->a) ||
	    (port && !digits((const unsigned char *)port, strlen(port), &v)))
		goto bad;
	if (v < 1 || v > 65535)
		return cfgp_fail(x, n->start_mark, CFG_E_RANGE,
				 "%s: port %llu is out of range 1..65535",
				 cfgp_show(x, n), (unsigned long long)v);
	if (is_v4mapped(&e->a))
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE,
				 "%s is an IPv4-mapped address: write the IPv4 "
				 "address", cfgp_show(x, n));
	e->port = (uint16_t)v;
	return 0;
bad:
	return cfgp_fail(x, n->start_mark, CFG_E_VALUE, "%s is not %s",
			 cfgp_show(x, n), what);
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

int cfgp_get_time(struct ctx *x, yaml_node_t *n, int64_t *out)
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
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE, "%s is not %s",
				 cfgp_show(x, n), what);
	if (t < 0 || t > TIME_MAX_S)
		goto range;
	*out = t;
	return 0;
range:
	return cfgp_fail(x, n->start_mark, CFG_E_RANGE,
			 "%s is out of range 1970-01-01T00:00:00Z.."
			 "9999-12-31T23:59:59Z", cfgp_show(x, n));
}

/* --- entry points ---------------------------------------------------- */

static int yaml_error(struct ctx *x, const yaml_parser_t *p)
{
	yaml_mark_t m = p->problem_mark;
	char ctx[96] = "";

	if (p->error == YAML_MEMORY_ERROR)
		return cfgp_fail(x, p->mark, CFG_E_NOMEM, "out of memory");
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
	return cfgp_fail(x, m, CFG_E_SYNTAX, "YAML syntax error: %s%s",
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
		/* The schema (config.c) reads the tree into x.cfg. */
		cfgp_root(&x, yaml_document_get_root_node(&doc));
		/* A second document would be ignored by every reader that
		 * stops at the first: refuse it rather than guess. */
		if (!x.rc) {
			if (!yaml_parser_load(&parser, &next)) {
				yaml_error(&x, &parser);
			} else {
				yaml_node_t *n = yaml_document_get_root_node(&next);

				if (n)
					cfgp_fail(&x, n->start_mark,
						  CFG_E_VALUE,
						  "a second YAML document: "
						  "the configuration is one "
						  "document");
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

