/*
 * dns/name.c: wire-name parsing, comparison and presentation conversion.
 * Runs anywhere (worker hot path included): no I/O, no allocation, every loop
 * bounded by DNS_NAME_MAX octets or DNS_LABELS_MAX labels.
 *
 * Compression pointers are accepted only if they point strictly backwards
 * and, after the first jump, strictly before the previous jump's target, so
 * the octets a name reads never repeat and no input can loop. What a pointer
 * leads to must also end before the name that points (RFC 1035 4.1.4: "a
 * prior occurrence"): a name read through a pointer may not run on into its
 * own labels or the records after it. So every name of a message reads only
 * octets before its own end, and any run of whole records copied with the
 * message's question (a cached answer without its OPT, an answer behind a
 * client's question of the same length) still parses.
 */
#include "name.h"

#include "err.h"

#define LOWER_ROW(b)                                                           \
	(b) + 0, (b) + 1, (b) + 2, (b) + 3, (b) + 4, (b) + 5, (b) + 6, (b) + 7, \
	    (b) + 8, (b) + 9, (b) + 10, (b) + 11, (b) + 12, (b) + 13,          \
	    (b) + 14, (b) + 15

const uint8_t dns_lower[256] = {
	LOWER_ROW(0x00), LOWER_ROW(0x10), LOWER_ROW(0x20), LOWER_ROW(0x30),
	/* 0x40 '@', then 'A'..'O' become 'a'..'o' */
	0x40, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
	0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
	/* 'P'..'Z' become 'p'..'z', then '[' '\\' ']' '^' '_' */
	0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77,
	0x78, 0x79, 0x7a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
	LOWER_ROW(0x60), LOWER_ROW(0x70), LOWER_ROW(0x80), LOWER_ROW(0x90),
	LOWER_ROW(0xa0), LOWER_ROW(0xb0), LOWER_ROW(0xc0), LOWER_ROW(0xd0),
	LOWER_ROW(0xe0), LOWER_ROW(0xf0),
};

/* The general case: copies label by label while following pointers. */
static int parse_compressed(const uint8_t *msg, size_t msglen, size_t *pos,
			    uint8_t *out)
{
	size_t p = *pos;
	size_t limit = p; /* the next jump must land before this */
	size_t end = 0;
	size_t n = 0;

	for (;;) {
		if (p >= msglen)
			return DNS_E_TRUNC;
		/* behind a pointer: the label (or pointer) that starts at p
		 * must end before the name that pointed, checked below */
		if (end && p >= *pos)
			return DNS_E_PTR_OVERRUN;
		uint8_t c = msg[p];
		if (c == 0)
			break;
		if (c <= DNS_LABEL_MAX) {
			if ((size_t)c + 1 > msglen - p)
				return DNS_E_TRUNC;
			if (end && (size_t)c + 1 > *pos - p)
				return DNS_E_PTR_OVERRUN;
			if (n + c + 2 > DNS_NAME_MAX)
				return DNS_E_NAME_LEN;
			if (out)
				memcpy(out + n, msg + p, (size_t)c + 1);
			n += (size_t)c + 1;
			p += (size_t)c + 1;
			continue;
		}
		if ((c & DNS_PTR_MASK) != DNS_PTR_MASK)
			return DNS_E_LABEL_LEN;
		if (p + 1 >= msglen)
			return DNS_E_TRUNC;
		if (end && p + 2 > *pos)
			return DNS_E_PTR_OVERRUN;
		size_t target = (size_t)(c & 0x3f) << 8 | msg[p + 1];
		if (target > p)
			return DNS_E_PTR_FORWARD;
		if (target < DNS_HDR_LEN)
			return DNS_E_PTR_HEADER;
		if (target >= limit)
			return DNS_E_PTR_LOOP;
		if (end == 0)
			end = p + 2;
		limit = target;
		p = target;
	}
	if (out)
		out[n] = 0;
	*pos = end ? end : p + 1;
	return (int)n + 1;
}

int dns_name_parse(const uint8_t *msg, size_t msglen, size_t *pos,
		   uint8_t *out)
{
	/*
	 * Fast path for a name written in full (every question, most owners):
	 * scan the labels, then copy once. A pointer sends it to the general
	 * loop, which starts over and gives the same results and errors.
	 */
	int n = dns_name_scan(msg, msglen, *pos);

	if (n == 0)
		return parse_compressed(msg, msglen, pos, out);
	if (n > 0) {
		if (out)
			dns_copy(out, msg + *pos, (size_t)n);
		*pos += (size_t)n;
	}
	return n;
}

int dns_name_check(const uint8_t *wire, size_t len)
{
	size_t p = 0;

	for (;;) {
		if (p >= len)
			return DNS_E_TRUNC;
		uint8_t c = wire[p];
		if (c == 0)
			return (int)p + 1;
		if ((c & DNS_PTR_MASK) == DNS_PTR_MASK)
			return DNS_E_PTR_NOT_ALLOWED;
		if (c > DNS_LABEL_MAX)
			return DNS_E_LABEL_LEN;
		if ((size_t)c + 1 > len - p)
			return DNS_E_TRUNC;
		p += (size_t)c + 1;
		if (p + 1 > DNS_NAME_MAX)
			return DNS_E_NAME_LEN;
	}
}

size_t dns_name_len(const uint8_t *name)
{
	const uint8_t *p = name;

	while (*p)
		p += *p + 1;
	return (size_t)(p - name) + 1;
}

int dns_name_labels(const uint8_t *name)
{
	int n = 0;

	for (; *name; name += *name + 1)
		n++;
	return n;
}

void dns_name_lower(uint8_t *name)
{
	for (; *name; name += *name + 1)
		for (uint8_t i = 1; i <= *name; i++)
			name[i] = dns_lower[name[i]];
}

size_t dns_name_copy_lower(uint8_t *dst, const uint8_t *src)
{
	size_t len = dns_name_len(src);

	dns_copy_lower(dst, src, len);
	return len;
}

void dns_copy_lower(uint8_t *dst, const uint8_t *src, size_t len)
{
	uint64_t w;

	/* Length octets are below 'A', so one pass over every octet is safe. */
	if (len < 8) {
		for (size_t i = 0; i < len; i++)
			dst[i] = dns_lower[src[i]];
		return;
	}
	for (size_t i = 0; i + 8 < len; i += 8) {
		memcpy(&w, src + i, 8);
		w = dns_lower8(w);
		memcpy(dst + i, &w, 8);
	}
	memcpy(&w, src + len - 8, 8); /* the last word may overlap */
	w = dns_lower8(w);
	memcpy(dst + len - 8, &w, 8);
}

static bool lower_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (dns_lower[a[i]] != dns_lower[b[i]])
			return false;
	return true;
}

bool dns_name_equal(const uint8_t *a, const uint8_t *b)
{
	size_t len = dns_name_len(a);

	return len == dns_name_len(b) && lower_equal(a, b, len);
}

static int label_starts(const uint8_t *name, uint8_t *starts)
{
	int n = 0;

	for (size_t p = 0; name[p]; p += name[p] + 1)
		starts[n++] = (uint8_t)p;
	return n;
}

int dns_name_cmp(const uint8_t *a, const uint8_t *b)
{
	uint8_t sa[DNS_LABELS_MAX], sb[DNS_LABELS_MAX];
	int na = label_starts(a, sa);
	int nb = label_starts(b, sb);

	while (na > 0 && nb > 0) {
		const uint8_t *la = a + sa[--na];
		const uint8_t *lb = b + sb[--nb];
		uint8_t min = la[0] < lb[0] ? la[0] : lb[0];

		for (uint8_t i = 1; i <= min; i++) {
			int d = dns_lower[la[i]] - dns_lower[lb[i]];
			if (d)
				return d;
		}
		if (la[0] != lb[0])
			return la[0] - lb[0];
	}
	return na - nb;
}

bool dns_name_is_subdomain(const uint8_t *name, const uint8_t *zone)
{
	size_t ln = dns_name_len(name);
	size_t lz = dns_name_len(zone);
	size_t skip, p = 0;

	if (ln < lz)
		return false;
	skip = ln - lz;
	while (p < skip)
		p += name[p] + 1;
	return p == skip && lower_equal(name + skip, zone, lz);
}

static bool needs_backslash(uint8_t c)
{
	switch (c) {
	case '.': case '\\': case '"': case '(': case ')': case ';':
	case '@': case '$':
		return true;
	default:
		return false;
	}
}

int dns_name_to_str(const uint8_t *name, char *buf, size_t size)
{
	size_t n = 0;
	char tmp[5];

	if (size == 0)
		return DNS_E_SPACE;
	if (*name == 0) {
		if (size < 2) {
			buf[0] = 0;
			return DNS_E_SPACE;
		}
		buf[0] = '.';
		buf[1] = 0;
		return 1;
	}
	for (; *name; name += *name + 1) {
		for (uint8_t i = 1; i <= *name; i++) {
			uint8_t c = name[i];
			size_t k;

			if (c <= 0x20 || c >= 0x7f) {
				tmp[0] = '\\';
				tmp[1] = (char)('0' + c / 100);
				tmp[2] = (char)('0' + c / 10 % 10);
				tmp[3] = (char)('0' + c % 10);
				k = 4;
			} else if (needs_backslash(c)) {
				tmp[0] = '\\';
				tmp[1] = (char)c;
				k = 2;
			} else {
				tmp[0] = (char)c;
				k = 1;
			}
			if (n + k + 1 > size) {
				buf[n] = 0;
				return DNS_E_SPACE;
			}
			memcpy(buf + n, tmp, k);
			n += k;
		}
		if (n + 2 > size) {
			buf[n] = 0;
			return DNS_E_SPACE;
		}
		buf[n++] = '.';
	}
	buf[n] = 0;
	return (int)n;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int dns_name_from_str(const char *str, uint8_t *out)
{
	size_t n = 0;	  /* octets written */
	size_t lstart = 0; /* where the current label's length octet sits */
	const char *s = str;

	if (s[0] == '.' && s[1] == 0) {
		out[0] = 0;
		return 1;
	}
	if (*s == 0)
		return DNS_E_SYNTAX;
	out[0] = 0;
	n = 1;
	while (*s) {
		uint8_t c;

		if (*s == '.') {
			if (n == lstart + 1)
				return DNS_E_SYNTAX; /* empty label */
			lstart = n;
			if (n + 1 > DNS_NAME_MAX)
				return DNS_E_NAME_LEN;
			out[n++] = 0;
			s++;
			continue;
		}
		if (*s == '\\') {
			if (is_digit(s[1])) {
				if (!is_digit(s[2]) || !is_digit(s[3]))
					return DNS_E_SYNTAX;
				int v = (s[1] - '0') * 100 + (s[2] - '0') * 10 +
					(s[3] - '0');
				if (v > 255)
					return DNS_E_SYNTAX;
				c = (uint8_t)v;
				s += 4;
			} else if (s[1]) {
				c = (uint8_t)s[1];
				s += 2;
			} else {
				return DNS_E_SYNTAX;
			}
		} else {
			c = (uint8_t)*s++;
		}
		if (out[lstart] == DNS_LABEL_MAX)
			return DNS_E_LABEL_LEN;
		if (n + 1 > DNS_NAME_MAX - 1)
			return DNS_E_NAME_LEN;
		out[lstart]++;
		out[n++] = c;
	}
	if (n == lstart + 1) {
		/* Trailing dot: the open label is the root label. */
		return (int)n;
	}
	out[n++] = 0;
	return (int)n;
}
