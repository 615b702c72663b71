/*
 * control/upstream_srv.c: the per-server table of the upstream module (see
 * upstream_int.h): fixed size, chained buckets under a secret hash key, LRU
 * eviction that gives up cookie servers last; per server the client cookie
 * (rotated), the server cookie learnt for it, whether it returns cookies,
 * its 0x20 record and its count of near misses. Control process, the
 * loop's thread.
 */
#include "control/upstream_int.h"

#include "control/rng.h"

/*
 * Server addresses come from referrals, which an attacker can choose, so
 * the bucket index is keyed with a secret drawn at start.
 */
static uint32_t srv_hash(const struct up_ctx *c, uint8_t family,
			 const uint8_t *addr, size_t len)
{
	uint64_t h = c->hash_key[0] ^ family;

	for (size_t i = 0; i < len; i++) {
		h ^= addr[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	h ^= c->hash_key[1];
	h *= 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32) & (c->nbucket - 1);
}

static void lru_unlink(struct up_ctx *c, uint32_t i)
{
	struct server *s = &c->srv[i];

	if (s->lprev != NONE)
		c->srv[s->lprev].lnext = s->lnext;
	else
		c->lru_head = s->lnext;
	if (s->lnext != NONE)
		c->srv[s->lnext].lprev = s->lprev;
	else
		c->lru_tail = s->lprev;
}

static void lru_push(struct up_ctx *c, uint32_t i)
{
	struct server *s = &c->srv[i];

	s->lprev = NONE;
	s->lnext = c->lru_head;
	if (c->lru_head != NONE)
		c->srv[c->lru_head].lprev = i;
	c->lru_head = i;
	if (c->lru_tail == NONE)
		c->lru_tail = i;
}

static void bucket_unlink(struct up_ctx *c, uint32_t i)
{
	struct server *s = &c->srv[i];
	size_t len = s->family == AF_INET ? 4 : 16;
	uint32_t *p = &c->bucket[srv_hash(c, s->family, s->addr, len)];

	while (*p != NONE && *p != i)
		p = &c->srv[*p].hnext;
	if (*p == i)
		*p = s->hnext;
}

/* A new client cookie; whether the server sends cookies stays known. */
static void srv_new_cookie(struct server *s, uint64_t now)
{
	up_rng_buf(s->client_cookie, sizeof(s->client_cookie));
	s->cookie_born_ms = now;
	s->server_cookie_len = 0;
}

/*
 * The entry to give up for a new server: the least recently used of the
 * last EVICT_SCAN that does not send cookies, else the least recently
 * used. Whoever makes us ask many new addresses (a referral with many
 * glue records, random names) pushes entries out; a server's cookie mark
 * is what keeps its replies unforgeable, so it goes last.
 */
static uint32_t evict_one(struct up_ctx *c)
{
	uint32_t i = c->lru_tail;

	for (unsigned n = 0; i != NONE && n < EVICT_SCAN; n++, i = c->srv[i].lprev)
		if (!c->srv[i].cookie_seen)
			return i;
	return c->lru_tail;
}

/* The entry for the address of ss; created (evicting the LRU) when create. */
const struct server *up_srv_peek(const struct up_ctx *c, const struct sockaddr_storage *ss)
{
	size_t len;
	const uint8_t *a = up_sa_addr(ss, &len);
	uint8_t fam = (uint8_t)ss->ss_family;

	for (uint32_t i = c->bucket[srv_hash(c, fam, a, len)]; i != NONE; i = c->srv[i].hnext)
		if (c->srv[i].family == fam && !memcmp(c->srv[i].addr, a, len))
			return &c->srv[i];
	return NULL;
}

struct server *up_srv_get(struct up_ctx *c,
			      const struct sockaddr_storage *ss, bool create)
{
	size_t len;
	const uint8_t *a = up_sa_addr(ss, &len);
	uint8_t fam = (uint8_t)ss->ss_family;
	uint32_t b = srv_hash(c, fam, a, len);
	uint64_t now = ctl_now_ms();
	uint32_t i;

	for (i = c->bucket[b]; i != NONE; i = c->srv[i].hnext) {
		struct server *s = &c->srv[i];
		if (s->family == fam && !memcmp(s->addr, a, len))
			break;
	}
	if (i == NONE) {
		if (!create)
			return NULL;
		if (c->nsrv < c->cfg.max_servers) {
			i = c->nsrv++;
		} else {
			i = evict_one(c);
			lru_unlink(c, i);
			bucket_unlink(c, i);
			c->cnt.server_evictions++;
		}
		struct server *s = &c->srv[i];
		memset(s, 0, sizeof(*s));
		s->family = fam;
		memcpy(s->addr, a, len);
		srv_new_cookie(s, now);
		s->hnext = c->bucket[b];
		c->bucket[b] = i;
		lru_push(c, i);
	} else {
		lru_unlink(c, i);
		lru_push(c, i);
	}
	struct server *s = &c->srv[i];
	/* Rotation bounds how long one cookie can link our queries. */
	if (now - s->cookie_born_ms >= (uint64_t)c->cfg.cookie_rotate_s * 1000u) {
		srv_new_cookie(s, now);
		c->cnt.cookie_rotations++;
	}
	if (s->no_0x20_until_ms && now >= s->no_0x20_until_ms)
		s->no_0x20_until_ms = 0;
	/* a server that stopped sending cookies is believed without them an
	 * hour after the last one (until then its replies come over TCP) */
	if (s->cookie_seen && now - s->cookie_seen_ms >= (uint64_t)c->cfg.cookie_mark_s * 1000u)
		s->cookie_seen = false;
	return s;
}

