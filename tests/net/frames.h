/*
 * tests/net/frames.h: frames written by hand for the tests of the frame
 * layer and of the worker's dispatch: a byte writer, a byte-at-a-time
 * reference checksum, and UDP, ICMP echo, neighbour solicitation and ARP
 * frames between a client and a server. Nothing here is shared with
 * net/pkt.c, so a mistake in the library cannot hide in the test.
 */
#ifndef BW_TESTS_NET_FRAMES_H
#define BW_TESTS_NET_FRAMES_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define FRAME_MAX 2048

static const uint8_t MAC_C[6] = { 0x02, 0, 0, 0, 0, 0x0c };	/* client */
static const uint8_t MAC_S[6] = { 0x02, 0, 0, 0, 0, 0x05 };	/* server */
static const uint8_t IP4_C[4] = { 192, 0, 2, 10 };
static const uint8_t IP4_S[4] = { 198, 18, 0, 1 };
static const uint8_t IP6_C[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };
static const uint8_t IP6_S[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
static const uint8_t IP6_ANY[16] = { 0 };
static const uint8_t IP6_ALL_NODES[16] = { 0xff, 0x02, [15] = 1 };
/* ff02::1:ff00:1, the solicited-node address of IP6_S */
static const uint8_t IP6_SNM_S[16] = { 0xff, 0x02, [11] = 1, 0xff, 0, 0, 1 };
static const uint8_t DNS_PAYLOAD[29] = {
	0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	3, 'w', 'w', 'w', 3, 'l', 'a', 'b', 0, 0, 1, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd,
};

/* ------------------------------------------------------------------ */
/* Reference implementations and frame writing. */

static inline uint16_t ref_cksum(const uint8_t *b, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += i % 2 ? b[i] : (uint32_t)b[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Over an L4 segment with its pseudo-header; 0 for a correct checksum. */
static inline uint16_t ref_l4_cksum(int family, const uint8_t *src, const uint8_t *dst,
			     uint8_t proto, const uint8_t *l4, size_t n)
{
	static uint8_t buf[40 + 65536];
	size_t al = family == 6 ? 16 : 4, o = 0;

	memcpy(buf, src, al);
	memcpy(buf + al, dst, al);
	o = 2 * al;
	if (family == 6) {
		buf[o++] = (uint8_t)(n >> 24);
		buf[o++] = (uint8_t)(n >> 16);
		buf[o++] = (uint8_t)(n >> 8);
		buf[o++] = (uint8_t)n;
		buf[o++] = 0;
		buf[o++] = 0;
		buf[o++] = 0;
		buf[o++] = proto;
	} else {
		buf[o++] = 0;
		buf[o++] = proto;
		buf[o++] = (uint8_t)(n >> 8);
		buf[o++] = (uint8_t)n;
	}
	memcpy(buf + o, l4, n);
	return ref_cksum(buf, o + n);
}

static inline uint16_t rd16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline void wr16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

struct frame {
	uint8_t b[FRAME_MAX];
	size_t n;
};

static inline void put(struct frame *f, const void *p, size_t n)
{
	cr_assert(f->n + n <= sizeof(f->b));
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static inline void put8(struct frame *f, uint8_t v)
{
	put(f, &v, 1);
}

static inline void put16(struct frame *f, uint16_t v)
{
	uint8_t b[2];

	wr16(b, v);
	put(f, b, 2);
}

/* How to wrap an L4 segment; zero fields mean the usual. */
struct wrap {
	int family;		/* 4 or 6 */
	bool vlan;
	uint16_t tci;
	const uint8_t *src, *dst;	/* default: client to server */
	const uint8_t *dst_mac;
	uint8_t ttl;		/* default 64 */
	uint16_t frag;		/* IPv4 flags and offset field */
	const uint8_t *opts;	/* IPv4 options, or IPv6 extension headers */
	size_t opts_len;
	uint8_t first_nh;	/* IPv6 with extension headers: the first one */
	int len_delta;		/* added to the IP length field */
	size_t pad;		/* Ethernet padding after the datagram */
};

static const uint8_t *w_src(const struct wrap *w)
{
	return w->src ? w->src : w->family == 6 ? IP6_C : IP4_C;
}

static const uint8_t *w_dst(const struct wrap *w)
{
	return w->dst ? w->dst : w->family == 6 ? IP6_S : IP4_S;
}

static inline void eth(struct frame *f, const struct wrap *w, uint16_t type)
{
	f->n = 0;
	put(f, w->dst_mac ? w->dst_mac : MAC_S, 6);
	put(f, MAC_C, 6);
	if (w->vlan) {
		put16(f, 0x8100);
		put16(f, w->tci);
	}
	put16(f, type);
}

/* The whole frame around an L4 segment of protocol proto. */
static inline void ip_frame(struct frame *f, const struct wrap *w, uint8_t proto,
		     const uint8_t *l4, size_t l4_len)
{
	uint8_t ttl = w->ttl ? w->ttl : 64;

	eth(f, w, w->family == 6 ? 0x86dd : 0x0800);
	size_t ip = f->n;
	if (w->family == 6) {
		put8(f, 0x60);
		put8(f, 0);
		put16(f, 0);
		put16(f, (uint16_t)((int)(w->opts_len + l4_len) + w->len_delta));
		put8(f, w->opts_len ? w->first_nh : proto);
		put8(f, ttl);
		put(f, w_src(w), 16);
		put(f, w_dst(w), 16);
	} else {
		put8(f, (uint8_t)(0x40 | (20 + w->opts_len) / 4));
		put8(f, 0);
		put16(f, (uint16_t)((int)(20 + w->opts_len + l4_len) + w->len_delta));
		put16(f, 0x4242);
		put16(f, w->frag);
		put8(f, ttl);
		put8(f, proto);
		put16(f, 0);
		put(f, w_src(w), 4);
		put(f, w_dst(w), 4);
	}
	if (w->opts_len)
		put(f, w->opts, w->opts_len);
	if (w->family == 4)
		wr16(f->b + ip + 10, ref_cksum(f->b + ip, 20 + w->opts_len));
	put(f, l4, l4_len);
	for (size_t i = 0; i < w->pad; i++)
		put8(f, 0xee);
}

/* A UDP segment with its checksum for w's addresses. */
static inline size_t udp_seg(uint8_t *out, const struct wrap *w, uint16_t sport,
		      uint16_t dport, const uint8_t *payload, size_t n)
{
	wr16(out, sport);
	wr16(out + 2, dport);
	wr16(out + 4, (uint16_t)(8 + n));
	wr16(out + 6, 0);
	memcpy(out + 8, payload, n);
	wr16(out + 6, ref_l4_cksum(w->family, w_src(w), w_dst(w), 17, out, 8 + n));
	return 8 + n;
}

static inline void udp_frame(struct frame *f, const struct wrap *w)
{
	uint8_t seg[FRAME_MAX];
	size_t n = udp_seg(seg, w, 40000, 53, DNS_PAYLOAD, sizeof(DNS_PAYLOAD));

	ip_frame(f, w, 17, seg, n);
}

/* ICMPv4 or ICMPv6 message with its checksum, 8-octet header. */
static inline size_t icmp_msg(uint8_t *out, const struct wrap *w, uint8_t type,
		       uint8_t code, uint32_t rest, const uint8_t *body, size_t n)
{
	out[0] = type;
	out[1] = code;
	wr16(out + 2, 0);
	wr16(out + 4, (uint16_t)(rest >> 16));
	wr16(out + 6, (uint16_t)rest);
	memcpy(out + 8, body, n);
	if (w->family == 6)
		wr16(out + 2, ref_l4_cksum(6, w_src(w), w_dst(w), 58, out, 8 + n));
	else
		wr16(out + 2, ref_cksum(out, 8 + n));
	return 8 + n;
}

static inline void echo_frame(struct frame *f, const struct wrap *w, size_t n)
{
	uint8_t body[256], m[300];

	for (size_t i = 0; i < n; i++)
		body[i] = (uint8_t)(i * 7 + 1);
	size_t len = icmp_msg(m, w, w->family == 6 ? 128 : 8, 0, 0x0abc0001, body, n);
	ip_frame(f, w, w->family == 6 ? 58 : 1, m, len);
}

/*
 * A neighbour solicitation for IP6_S: from the client with a source
 * link-layer option, or from :: to the solicited-node address without one.
 */
static inline void ns_frame(struct frame *f, struct wrap *w, bool dad)
{
	uint8_t body[16 + 8], m[64];
	size_t n = 16;

	w->family = 6;
	if (!w->ttl)
		w->ttl = 255;
	w->dst = IP6_SNM_S;
	if (dad)
		w->src = IP6_ANY;
	memcpy(body, IP6_S, 16);
	if (!dad) {
		body[16] = 1;
		body[17] = 1;
		memcpy(body + 18, MAC_C, 6);
		n += 8;
	}
	size_t len = icmp_msg(m, w, 135, 0, 0, body, n);
	ip_frame(f, w, 58, m, len);
}

static inline void arp_frame(struct frame *f, const struct wrap *w, uint16_t op)
{
	static const uint8_t zero[6];

	eth(f, w, 0x0806);
	put16(f, 1);
	put16(f, 0x0800);
	put8(f, 6);
	put8(f, 4);
	put16(f, op);
	put(f, MAC_C, 6);
	put(f, IP4_C, 4);
	put(f, zero, 6);
	put(f, IP4_S, 4);
	for (size_t i = 0; i < w->pad; i++)
		put8(f, 0xee);
}

#endif
