/*
 * tests/fuzz/fuzz_fill.c: libFuzzer target for the cache writer's handling
 * of fill records (shm/shm.h checks, dataplane/fill.h insert, answer/reply.h
 * answer_resolved()), which come from another process.
 * The input is a compact record: octet 0 the fill's flags (bit 7: break
 * the record's header instead), 1 its rank, 2-3 its rcode, 4 the client's
 * qname length, 5 bit 0 EDNS and bit 1 DO, 6-7 the client's UDP size, 8-9
 * qtype, 10-11 qclass, 12-13 the client's header flags, then the qname,
 * then the message (beyond SHM_MSG_MAX: the record says truncated).
 * Runs with -detect_leaks=0 (fuzz_fill.options; see the end of
 * LLVMFuzzerTestOneInput). Properties on every input, beyond "no crash, no sanitizer report":
 * - shm_fill_check() refuses a broken header and takes a sound one;
 * - shm_miss_check() refuses a broken header, and a sound one exactly when
 *   the question name is a whole uncompressed name; shm_lookup_check()
 *   agrees with it; shm_found_check() takes a sound header, a length of 0
 *   or a whole header up to SHM_MSG_MAX, and a stale flag of 0 or 1 only;
 * - shm_tap_check() takes a tap record's header exactly when its kind
 *   (a query for dnstap, the log or both; a response for dnstap), family
 *   and message length are sound and its length agrees;
 * - after dp_fill_insert() the cache's invariants hold (cache_check());
 * - a stale fill without a message answers from the cache or not at all;
 * - the answer is a response to the client: at least a header, within the
 *   buffer, the client's id, QR set, the question octet for octet as the
 *   client spelled it, TC when the record said truncated.
 */
#define FUZZ_NAME "fuzz_fill"
#include "tests/fuzz/fuzz_cache.h"

#include <string.h>

#include "answer/reply.h"
#include "dataplane/fill.h"
#include "dns/name.h"
#include "dns/query.h"

static struct shm_fill f;
static uint8_t out[65535];

static void run(const uint8_t *data);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 14 || (size_t)14 + data[4] > size)
		return 0;
	memset(&f, 0, sizeof(f));
	f.h.type = SHM_REC_FILL;
	f.h.abi = SHM_ABI_VERSION;
	f.h.len = sizeof(f);
	bool broken = data[0] & 0x80;
	if (broken)
		f.h.len = (uint32_t)(sizeof(f) - 1 - data[1]);
	f.flags = data[0] & 0x0f; /* bits 4-5: time passed, bit 6: insert twice */
	f.rank = (uint8_t)(data[1] % 7);
	f.rcode = (uint16_t)(((data[2] << 8) | data[3]) & 0xfff);
	struct shm_client *c = &f.c;
	c->family = 4;
	c->qname_len = data[4];
	c->has_edns = data[5] & 1;
	c->edns_flags = (data[5] & 2) ? DNS_EDNS_F_DO : 0;
	c->udp_size = (uint16_t)((data[6] << 8) | data[7]);
	c->qtype = (uint16_t)((data[8] << 8) | data[9]);
	c->qclass = (uint16_t)((data[10] << 8) | data[11]);
	c->dns_flags = (uint16_t)((data[12] << 8) | data[13]);
	c->dns_id = 0x4242;
	memcpy(c->qname, data + 14, c->qname_len);
	size_t mlen = size - 14 - c->qname_len;
	if (mlen > SHM_MSG_MAX) {
		f.flags |= SHM_FILL_TRUNCATED;
		mlen = 0;
	}
	memcpy(f.msg, data + 14 + c->qname_len, mlen);
	f.msg_len = (uint16_t)mlen;

	run(data);
	/* Entries this input replaced wait for call_rcu's thread, which the
	 * leak checker takes for leaks (fuzz_fill.options turns it off: a
	 * barrier per input would cost 10 ms). The cache is emptied now and
	 * then so that inputs keep meeting both an empty and a full one. */
	if (data[1] == 0xff)
		cache_flush(cache);
	cache_reader_quiescent();
	return 0;
}

static void run(const uint8_t *data)
{
	struct shm_client *c = &f.c;
	bool broken = data[0] & 0x80;
	static struct shm_miss miss;

	miss.h = (struct shm_hdr){ SHM_REC_MISS, SHM_ABI_VERSION, sizeof(miss) - (broken ? 4 : 0) };
	miss.kind = SHM_MISS_CLIENT;
	miss.c = *c;
	int mc = shm_miss_check(&miss, 0, 1);
	check(broken ? mc != 0 :
	      (mc == 0) == (dns_name_check(c->qname, c->qname_len) == (int)c->qname_len),
	      "shm_miss_check on the header and the name");
	static struct shm_lookup lk;
	static struct shm_found fd;
	lk.h = (struct shm_hdr){ SHM_REC_LOOKUP, SHM_ABI_VERSION, sizeof(lk) - (broken ? 4 : 0) };
	lk.c = *c;
	check((shm_lookup_check(&lk) == 0) == (mc == 0), "shm_lookup_check agrees with the miss's");
	fd.h = (struct shm_hdr){ SHM_REC_FOUND, SHM_ABI_VERSION, sizeof(fd) - (broken ? 4 : 0) };
	fd.msg_len = f.msg_len | (uint16_t)((data[2] & 0x20) << 8);
	fd.stale = data[3] & 1 ? (uint8_t)(data[3] >> 1) : 0;
	check((shm_found_check(&fd) == 0) ==
		      (!broken && fd.msg_len <= SHM_MSG_MAX && fd.stale <= 1 &&
		       (fd.msg_len == 0 || fd.msg_len >= DNS_HDR_LEN)),
	      "shm_found_check on the header, length and stale flag");
	static struct shm_tap tap;
	tap.h = (struct shm_hdr){ SHM_REC_TAP, SHM_ABI_VERSION,
				  (uint32_t)(sizeof(tap) + f.msg_len + (broken ? 1 : 0)) };
	tap.kind = data[1];
	tap.family = data[2] & 7;
	tap.msg_len = f.msg_len;
	unsigned tk = tap.kind & SHM_TAP_KIND_MASK, tu = tap.kind & 0xf0;
	check((shm_tap_check(&tap) == 0) ==
		      (!broken &&
		       !(tu & ~(SHM_TAP_FOR_DNSTAP | SHM_TAP_FOR_LOG)) &&
		       ((tk == SHM_TAP_CLIENT_QUERY && tu) ||
			(tk == SHM_TAP_CLIENT_RESPONSE && tu == SHM_TAP_FOR_DNSTAP)) &&
		       (tap.family == 4 || tap.family == 6) && f.msg_len >= DNS_HDR_LEN &&
		       f.msg_len <= SHM_TAP_MSG_MAX),
	      "shm_tap_check on the kind, family and length");
	int ok = shm_fill_check(&f, 1);
	check(broken ? ok != 0 : (ok == 0) == (f.rank >= 1), "shm_fill_check on the header and rank");
	if (ok)
		return;
	uint8_t qbuf[SHM_QUERY_MAX];
	struct dns_query q;
	if (shm_client_query(c, qbuf, &q))
		return;
	/* an entry cached earlier for the same question (a stale one after a
	 * SERVFAIL, a fresh one answered instead of the message) */
	if (data[0] & 0x40)
		dp_fill_insert(cache, &f, 1);
	dp_fill_insert(cache, &f, 1 + (data[0] & 0x30) * 100);
	check(cache_check(cache) == 0, "cache invariants after the insert");
	size_t cap = ANSWER_EMPTY_MAX + data[7] * 8;
	uint32_t now = 1 + (data[0] & 0x30) * 100;
	size_t n = answer_resolved(cache, &q, now, f.msg, f.msg_len, f.rcode,
				   f.flags & SHM_FILL_STALE, f.flags & SHM_FILL_TRUNCATED, 1232,
				   out, cap);
	if (n == 0) {
		/* "serve it stale now" with nothing cached: nothing is sent */
		check((f.flags & SHM_FILL_STALE) && !f.msg_len && !(f.flags & SHM_FILL_TRUNCATED),
		      "no answer only for a stale fill without a message");
		return;
	}
	check(n >= DNS_HDR_LEN && n <= (cap > 65535 ? 65535 : cap), "answer length");
	check(dns_get16(out) == 0x4242, "the client's id");
	check(dns_get16(out + 2) & DNS_F_QR, "QR set");
	if (dns_get16(out + 4) == 1)
		check(memcmp(out + DNS_HDR_LEN, c->qname, c->qname_len) == 0,
		      "the question as the client spelled it");
	if (f.flags & SHM_FILL_TRUNCATED)
		check(dns_get16(out + 2) & DNS_F_TC, "TC when control said truncated");
}
