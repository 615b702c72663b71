/*
 * bench/gen.h: bailiwick-gen's library, everything of the load generator
 * that needs no EAL: the query file (dnsperf format), query templates, the
 * TSC token bucket, matching answers to sends (id + source port -> send
 * TSC), an HDR-style latency histogram, and the summary (JSON and a human
 * table). Used by bench/bailiwick-gen.c and tests/bench/test_gen.c.
 *
 * Threads: a struct gen_bucket, gen_inflight and gen_hist belong to one
 * lcore each; gen_hist_merge() and the summary run on the main lcore after
 * the workers stop. No allocation on the send/receive path.
 */
#ifndef BW_BENCH_GEN_H
#define BW_BENCH_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dns/wire.h"

/* --- the query file ------------------------------------------------------- */

/* One query template: the DNS message (header with id 0, RD set, the
 * question, an OPT with a 1232-octet buffer unless the file line says
 * otherwise), ready to copy into a frame; the id is written per send. */
struct gen_query {
	uint16_t len;
	uint8_t cls;		/* 0, or 1: at or below --split's name */
	uint8_t wire[DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11];
};

struct gen_queries {
	size_t n;
	struct gen_query *q;	/* n templates, in file order */
};

/*
 * Reads a dnsperf query file: one "NAME TYPE" per line (TYPE a mnemonic
 * such as A, AAAA, MX, TXT, NS, SOA, CNAME, PTR, SRV, DS, DNSKEY, ANY, or
 * TYPEnnn); blank lines and lines starting with '#' are skipped; an
 * optional third word "noedns" leaves the OPT out, "do" sets DO in it. Errors name the file,
 * the line and what is wrong (err, errlen) and return -1; 0 on success,
 * with every line's template in *qs (gen_queries_free() frees). An empty
 * file is an error.
 */
int gen_queries_load(struct gen_queries *qs, const char *path, char *err, size_t errlen);

/* The same from text in memory (name is what errors call it). */
int gen_queries_parse(struct gen_queries *qs, const char *text, size_t len,
		      const char *name, char *err, size_t errlen);

void gen_queries_free(struct gen_queries *qs);

/* Puts every template whose question name is suffix (wire form, any letter
 * case) or below it in class 1, the rest in class 0; returns how many are
 * in class 1. The summary then gives each class's answers and latency
 * apart (bailiwick-gen --split: hits and misses of one list). */
size_t gen_queries_split(struct gen_queries *qs, const uint8_t *suffix);

/* --- plans (--plan) ---------------------------------------------------------- */

/* One run of a plan: "QUERIES RATE SECONDS JSON" on a line; RATE is
 * queries/s, 0 for as fast as possible, or "search" for -S's search. */
struct gen_plan_step {
	char queries[1024];
	uint64_t rate;		/* queries/s; 0: as fast as possible */
	bool search;		/* -S: the maximum, then < 0.1 % lost */
	double seconds;		/* > 0 */
	char json[1024];
	bool nap;		/* the senders sleep when idle (no latency kept) */
};

/* One line of a plan file, "QUERIES RATE SECONDS JSON [nap]" ('#' starts a
 * comment): 1 with *st filled, 0 for a blank or comment line, -1 when it is
 * not four fields and an optional "nap", the rate is neither a decimal
 * number nor "search" or the duration not a positive, finite one. */
int gen_plan_parse(const char *line, struct gen_plan_step *st);

/* --- rate control ----------------------------------------------------------- */

/*
 * A token bucket on the TSC: rate tokens per second, at most burst saved
 * up. gen_bucket_take() returns how many of want (<= burst) may be sent at
 * TSC now, and takes them. rate 0 means no limit (always want).
 * Over any interval the bucket allows at most rate * seconds + burst.
 */
struct gen_bucket {
	uint64_t hz;		/* TSC ticks per second */
	uint64_t rate;		/* tokens per second; 0: unlimited */
	uint64_t burst;
	uint64_t last;		/* TSC of the last refill */
	uint64_t frac;		/* token fractions carried (units of 1/hz) */
	uint64_t tokens;
};

void gen_bucket_init(struct gen_bucket *b, uint64_t hz, uint64_t rate, uint64_t burst,
		     uint64_t now);
unsigned gen_bucket_take(struct gen_bucket *b, uint64_t now, unsigned want);

/* --- matching answers to sends ---------------------------------------------- */

/*
 * Queries in flight on one lcore: slot (id, source port index) -> the
 * send TSC. The generator gives each send the next (id, port) pair in a
 * cycle of GEN_IDS ids over nports source ports, so a slot is reused only
 * after GEN_IDS * nports sends. An answer older than that cannot be told
 * from the answer to the slot's new send: it is matched to the new send
 * (a short latency) and the new send's own answer then counts as a stray.
 * At 3 M queries/s and 64 ports per lcore that takes an answer 1.4 s late.
 * gen_inflight_answer() returns the latency in TSC
 * ticks and clears the slot, or UINT64_MAX for an answer that matches
 * nothing in flight (a duplicate, a late one, a stray).
 */
#define GEN_IDS 65536

struct gen_inflight {
	unsigned nports;
	uint64_t *sent;		/* GEN_IDS * nports send TSCs, 0: free */
	uint64_t next;		/* sends so far: the next slot */
};

int gen_inflight_init(struct gen_inflight *f, unsigned nports);
void gen_inflight_fini(struct gen_inflight *f);
/* The slot for the next send: its id and source port index; stores now
 * (< 2^63: a TSC) and the query's class (0 or 1). A slot still holding an
 * unanswered send counts it lost (*lost += 1). */
void gen_inflight_send(struct gen_inflight *f, uint64_t now, unsigned cls, uint16_t *id,
		       unsigned *port, uint64_t *lost);
/* cls (when not NULL) gets the answered send's class. */
uint64_t gen_inflight_answer(struct gen_inflight *f, uint16_t id, unsigned port,
			     uint64_t now, unsigned *cls);

/* --- latency histogram ---------------------------------------------------- */

/*
 * HDR-style: values in nanoseconds, recorded with at most 1/64 relative
 * error (64 linear sub-buckets per power of two) from 1 ns up to 2^40 ns;
 * larger values land in the last bucket. gen_hist_value_at() gives the
 * value at a percentile (0..100) as the upper edge of its bucket.
 */
#define GEN_HIST_SUB 64
#define GEN_HIST_POW 40
#define GEN_HIST_BUCKETS (GEN_HIST_SUB * (GEN_HIST_POW + 1))

struct gen_hist {
	uint64_t count;
	uint64_t min, max;	/* ns */
	uint64_t b[GEN_HIST_BUCKETS];
};

void gen_hist_init(struct gen_hist *h);
void gen_hist_record(struct gen_hist *h, uint64_t ns);
void gen_hist_merge(struct gen_hist *into, const struct gen_hist *h);
/* h less part, a histogram of some of the values h holds: the rest's
 * counts. Its min and max are h's, brought into the rest's first and last
 * buckets (so within a bucket's 1/64 of the truth; but for a max in the
 * open last bucket, which stays h's). */
void gen_hist_sub(struct gen_hist *h, const struct gen_hist *part);
uint64_t gen_hist_value_at(const struct gen_hist *h, double percentile);

/* --- the summary ------------------------------------------------------------ */

#define GEN_STALL_US 50	/* a sender's loop turns further apart: a stall */

struct gen_result {
	const char *mode;	/* "rate", "max", "search" */
	double seconds;
	uint64_t offered_rate;	/* queries/s asked for; 0: as fast as possible */
	uint64_t sent;
	uint64_t answered;
	uint64_t lost;		/* sent, never answered */
	uint64_t stray;		/* answers that matched nothing in flight */
	uint64_t truncated;	/* answers with TC=1 */
	uint64_t tx_full;	/* queries the port's transmit ring refused: not sent */
	uint64_t rcode[16];	/* answers by rcode */
	struct gen_hist lat;
	/* the senders' loop turns more than GEN_STALL_US apart (the sender off
	 * its CPU: latency then counts the generator's own delay too), their
	 * time and the longest; 0 in runs that nap */
	uint64_t stalls, stall_ns, stall_max_ns;
	/* with a split (gen_queries_split()): the text of its name, and
	 * each class's sends, answers and latency (class 0's the whole
	 * run's less class 1's: gen_hist_sub()); NULL: no classes */
	const char *split;
	struct gen_class {
		uint64_t sent, answered;
		struct gen_hist lat;
	} cls[2];
};

/* One JSON object (no trailing newline) with every field, rates derived
 * (sent/s, answered/s, answered share), the percentiles p50, p90, p99,
 * p99.9 and min/max in microseconds, and the rcodes by name. */
void gen_result_json(const struct gen_result *r, FILE *f);
/* The same as a human table. */
void gen_result_table(const struct gen_result *r, FILE *f);

#endif
