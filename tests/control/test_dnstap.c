/*
 * tests/control/test_dnstap.c: dnstap output. The encoder's protobuf is
 * read back with the generated decoder (every field we set, and those we
 * leave out absent); the writer's file is read back with libfstrm's
 * reader (content type, every frame, in order); a full queue drops and
 * counts instead of blocking.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fstrm.h>

#include "conf/config.h"
#include "control/dnstap.h"
#include "dnstap.pb-c.h"

static const uint8_t query[] = {
	0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1,
};
static const uint8_t zone[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };

static Dnstap__Dnstap *decode(const struct ctl_dnstap_msg *m, const char *id, const char *ver)
{
	size_t len = 0;
	uint8_t *buf = ctl_dnstap_encode(m, id, ver, &len);

	cr_assert(buf && len > 0);
	Dnstap__Dnstap *d = dnstap__dnstap__unpack(NULL, len, buf);
	free(buf);
	cr_assert(d, "the encoding parses as a Dnstap message");
	cr_assert_eq(d->type, DNSTAP__DNSTAP__TYPE__MESSAGE);
	cr_assert(d->message);
	return d;
}

Test(dnstap, client_query_carries_addresses_ports_time_and_message)
{
	uint8_t client[4] = { 198, 18, 0, 7 }, us[4] = { 198, 18, 0, 1 };
	struct ctl_dnstap_msg m = {
		.type = CTL_DNSTAP_CLIENT_QUERY, .family = AF_INET,
		.query_addr = client, .response_addr = us,
		.query_port = 40000, .response_port = 53,
		.query_ns = 1764900000123456789ull,
		.msg = query, .len = sizeof(query),
	};
	Dnstap__Dnstap *d = decode(&m, "ns1", "bailiwick 9");
	Dnstap__Message *g = d->message;

	cr_assert(d->has_identity && d->identity.len == 3 && !memcmp(d->identity.data, "ns1", 3));
	cr_assert(d->has_version && d->version.len == 11);
	cr_assert_eq(g->type, DNSTAP__MESSAGE__TYPE__CLIENT_QUERY);
	cr_assert(g->has_socket_family && g->socket_family == DNSTAP__SOCKET_FAMILY__INET);
	cr_assert(g->has_socket_protocol && g->socket_protocol == DNSTAP__SOCKET_PROTOCOL__UDP);
	cr_assert(g->has_query_address && g->query_address.len == 4 &&
		  !memcmp(g->query_address.data, client, 4));
	cr_assert(g->has_response_address && !memcmp(g->response_address.data, us, 4));
	cr_assert(g->has_query_port && g->query_port == 40000);
	cr_assert(g->has_response_port && g->response_port == 53);
	cr_assert(g->has_query_time_sec && g->query_time_sec == 1764900000ull);
	cr_assert(g->has_query_time_nsec && g->query_time_nsec == 123456789u);
	cr_assert(g->has_query_message && g->query_message.len == sizeof(query) &&
		  !memcmp(g->query_message.data, query, sizeof(query)));
	cr_assert_not(g->has_response_message, "a query carries no response");
	cr_assert_not(g->has_response_time_sec, "nor a response time");
	cr_assert_not(g->has_query_zone);
	dnstap__dnstap__free_unpacked(d, NULL);
}

Test(dnstap, resolver_response_over_tcp_with_its_zone_and_no_unknowns)
{
	uint8_t server[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x35 };
	struct ctl_dnstap_msg m = {
		.type = CTL_DNSTAP_RESOLVER_RESPONSE, .family = AF_INET6, .tcp = true,
		.response_addr = server, .query_port = 0, .response_port = 53,
		.query_ns = 2000000000ull, .response_ns = 3000000001ull,
		.msg = query, .len = sizeof(query), .zone = zone,
	};
	Dnstap__Dnstap *d = decode(&m, "", "");
	Dnstap__Message *g = d->message;

	cr_assert_not(d->has_identity, "an empty identity is left out");
	cr_assert_not(d->has_version);
	cr_assert_eq(g->type, DNSTAP__MESSAGE__TYPE__RESOLVER_RESPONSE);
	cr_assert_eq(g->socket_family, DNSTAP__SOCKET_FAMILY__INET6);
	cr_assert_eq(g->socket_protocol, DNSTAP__SOCKET_PROTOCOL__TCP);
	cr_assert_not(g->has_query_address, "an address not known is left out");
	cr_assert_not(g->has_query_port, "a port not known is left out");
	cr_assert(g->has_response_address && g->response_address.len == 16 &&
		  !memcmp(g->response_address.data, server, 16));
	cr_assert(g->has_response_time_sec && g->response_time_sec == 3 &&
		  g->response_time_nsec == 1);
	cr_assert(g->has_query_time_sec && g->query_time_sec == 2 && g->query_time_nsec == 0);
	cr_assert(g->has_response_message && g->response_message.len == sizeof(query));
	cr_assert_not(g->has_query_message);
	cr_assert(g->has_query_zone && g->query_zone.len == sizeof(zone) &&
		  !memcmp(g->query_zone.data, zone, sizeof(zone)));
	dnstap__dnstap__free_unpacked(d, NULL);
}

static void config(struct cfg *c, const char *file)
{
	cfg_default(c);
	c->dnstap.enabled = true;
	snprintf(c->dnstap.file, sizeof(c->dnstap.file), "%s", file);
	snprintf(c->dnstap.identity, sizeof(c->dnstap.identity), "tester");
}

/* config() for a new empty file made from the template path. */
static void temp_config(struct cfg *c, char *path)
{
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	close(fd);
	config(c, path);
}

Test(dnstap, file_holds_every_frame_in_order_for_a_frame_streams_reader)
{
	char path[] = "/tmp/bw-dnstap-XXXXXX";
	static struct cfg c;
	char err[256];
	temp_config(&c, path);
	c.dnstap.resolver_responses = false;
	struct ctl_dnstap *t = ctl_dnstap_new(&c, err, sizeof(err));
	cr_assert(t, "%s", err);
	cr_assert(ctl_dnstap_wants(t, CTL_DNSTAP_CLIENT_QUERY));
	cr_assert_not(ctl_dnstap_wants(t, CTL_DNSTAP_RESOLVER_RESPONSE));
	cr_assert_not(ctl_dnstap_wants(NULL, CTL_DNSTAP_CLIENT_QUERY));
	uint8_t a[4] = { 127, 0, 0, 1 };
	for (unsigned i = 0; i < 100; i++) {
		uint8_t q[sizeof(query)];
		memcpy(q, query, sizeof(q));
		q[0] = (uint8_t)i; /* the id tells the order */
		struct ctl_dnstap_msg m = {
			.type = i % 2 ? CTL_DNSTAP_CLIENT_RESPONSE : CTL_DNSTAP_CLIENT_QUERY,
			.family = AF_INET, .query_addr = a, .response_addr = a,
			.query_port = 1000, .response_port = 53, .query_ns = ctl_dnstap_now_ns(),
			.msg = q, .len = sizeof(q),
		};
		ctl_dnstap_send(t, &m);
	}
	/* not wanted: not counted, not written */
	struct ctl_dnstap_msg skip = { .type = CTL_DNSTAP_RESOLVER_RESPONSE, .family = AF_INET,
				       .msg = query, .len = sizeof(query) };
	ctl_dnstap_send(t, &skip);
	struct ctl_dnstap_stats st;
	ctl_dnstap_get_stats(t, &st);
	cr_assert_eq(st.messages, 100);
	cr_assert_eq(st.dropped + st.failed, 0);
	ctl_dnstap_free(t, CTL_DNSTAP_FREE_WAIT_MS); /* flushes */

	struct fstrm_file_options *fopt = fstrm_file_options_init();
	fstrm_file_options_set_file_path(fopt, path);
	struct fstrm_reader_options *ropt = fstrm_reader_options_init();
	fstrm_reader_options_add_content_type(ropt, "protobuf:dnstap.Dnstap", 22);
	struct fstrm_reader *r = fstrm_file_reader_init(fopt, ropt);
	cr_assert(r);
	cr_assert_eq(fstrm_reader_open(r), fstrm_res_success,
		     "the file starts with a frame streams header of our content type");
	const uint8_t *data;
	size_t len;
	unsigned n = 0;
	while (fstrm_reader_read(r, &data, &len) == fstrm_res_success) {
		Dnstap__Dnstap *d = dnstap__dnstap__unpack(NULL, len, data);
		cr_assert(d && d->message);
		cr_assert(d->has_identity && d->identity.len == 6);
		Dnstap__Message *g = d->message;
		bool resp = n % 2;
		cr_assert_eq(g->type, resp ? DNSTAP__MESSAGE__TYPE__CLIENT_RESPONSE
					   : DNSTAP__MESSAGE__TYPE__CLIENT_QUERY);
		ProtobufCBinaryData *b = resp ? &g->response_message : &g->query_message;
		cr_assert_eq(b->len, sizeof(query));
		cr_assert_eq(b->data[0], n, "frame %u in order", n);
		dnstap__dnstap__free_unpacked(d, NULL);
		n++;
	}
	cr_assert_eq(n, 100, "every frame written and nothing else");
	fstrm_reader_destroy(&r);
	fstrm_reader_options_destroy(&ropt);
	fstrm_file_options_destroy(&fopt);
	unlink(path);
}

Test(dnstap, control_front_end_samples_one_in_n)
{
	char path[] = "/tmp/bw-dnstap-XXXXXX";
	static struct cfg c;
	char err[256];
	temp_config(&c, path);
	c.dnstap.sample = 10;
	struct ctl_dnstap *t = ctl_dnstap_new(&c, err, sizeof(err));
	cr_assert(t, "%s", err);
	unsigned picked = 0;
	for (unsigned i = 0; i < 1000; i++)
		picked += ctl_dnstap_sample(t);
	cr_assert_eq(picked, 100);
	cr_assert_not(ctl_dnstap_sample(NULL));
	ctl_dnstap_free(t, CTL_DNSTAP_FREE_WAIT_MS);
	c.dnstap.client_queries = c.dnstap.client_responses = false;
	t = ctl_dnstap_new(&c, err, sizeof(err));
	cr_assert(t, "%s", err);
	for (unsigned i = 0; i < 100; i++)
		cr_assert_not(ctl_dnstap_sample(t), "no client messages wanted: none sampled");
	ctl_dnstap_free(t, CTL_DNSTAP_FREE_WAIT_MS);
	unlink(path);
}

/* A configuration for dnstap to the socket /tmp/bw-dnstap-WHO-PID.sock. */
static void socket_config(struct cfg *c, const char *who)
{
	cfg_default(c);
	c->dnstap.enabled = true;
	snprintf(c->dnstap.socket, sizeof(c->dnstap.socket), "/tmp/bw-dnstap-%s-%d.sock", who,
		 (int)getpid());
}

Test(dnstap, an_absent_reader_drops_and_counts_without_blocking)
{
	static struct cfg c;
	char err[256];
	socket_config(&c, "nobody");
	struct ctl_dnstap *t = ctl_dnstap_new(&c, err, sizeof(err));
	cr_assert(t, "no reader yet is not an error: %s", err);
	struct ctl_dnstap_msg m = { .type = CTL_DNSTAP_RESOLVER_QUERY, .family = AF_INET,
				    .msg = query, .len = sizeof(query) };
	uint64_t t0 = ctl_dnstap_now_ns();
	for (unsigned i = 0; i < 40000; i++)
		ctl_dnstap_send(t, &m);
	struct ctl_dnstap_stats st;
	ctl_dnstap_get_stats(t, &st);
	cr_assert_eq(st.messages + st.dropped, 40000, "every message counted once");
	cr_assert_lt(ctl_dnstap_now_ns() - t0, 2000000000ull, "and nothing waited");
	cr_assert(ctl_dnstap_free(t, CTL_DNSTAP_FREE_WAIT_MS));
}

/* A reader that takes the connection and then says nothing (libfstrm
 * waits for its ACCEPT frame without a timeout). */
static void *mute_reader(void *arg)
{
	int ls = *(int *)arg, fd = accept(ls, NULL, NULL);
	sleep(3);
	if (fd >= 0)
		close(fd);
	return NULL;
}

Test(dnstap, a_reader_that_hangs_does_not_hold_the_exit)
{
	static struct cfg c;
	char err[256];
	socket_config(&c, "mute");
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", c.dnstap.socket);
	unlink(sun.sun_path);
	cr_assert_eq(bind(ls, (struct sockaddr *)&sun, sizeof(sun)), 0);
	cr_assert_eq(listen(ls, 4), 0);
	pthread_t th;
	pthread_create(&th, NULL, mute_reader, &ls);
	struct ctl_dnstap *t = ctl_dnstap_new(&c, err, sizeof(err));
	cr_assert(t, "%s", err);
	usleep(200 * 1000); /* libfstrm's thread is connected, waiting */
	uint64_t t0 = ctl_dnstap_now_ns();
	cr_assert_not(ctl_dnstap_free(t, 300), "the wait is given up");
	uint64_t ms = (ctl_dnstap_now_ns() - t0) / 1000000;
	cr_assert(ms >= 300 && ms < 1500, "%llu ms", (unsigned long long)ms);
	unlink(sun.sun_path);
}

Test(dnstap, a_symbolic_link_is_not_written_through)
{
	char dir[] = "/tmp/bw-dnstap-ln-XXXXXX", path[64], target[64];
	static struct cfg c;
	char err[256];
	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tap.fstrm", dir);
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	cr_assert_eq(symlink(target, path), 0);
	config(&c, path);
	cr_assert_null(ctl_dnstap_new(&c, err, sizeof(err)));
	cr_assert(strstr(err, "dnstap.file: "), "%s", err);
	cr_assert_neq(access(target, F_OK), 0, "nothing made through the link");
	unlink(path);
	rmdir(dir);
}

Test(dnstap, an_earlier_runs_file_is_kept_not_overwritten)
{
	char dir[] = "/tmp/bw-dnstap-dir-XXXXXX", path[64], cmd[128];
	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tap.fstrm", dir);
	static struct cfg c;
	char err[256];
	config(&c, path);
	for (unsigned run = 0; run < 3; run++) {
		struct ctl_dnstap *t = ctl_dnstap_new(&c, err, sizeof(err));
		cr_assert(t, "%s", err);
		ctl_dnstap_free(t, CTL_DNSTAP_FREE_WAIT_MS);
	}
	/* three runs in the same second: the file and two kept ones */
	snprintf(cmd, sizeof(cmd), "test $(ls %s | wc -l) = 3", dir);
	cr_assert_eq(system(cmd), 0, "every earlier file kept");
	snprintf(cmd, sizeof(cmd), "rm -r %s", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(dnstap, a_file_that_cannot_be_made_is_an_error)
{
	static struct cfg c;
	char err[256];
	config(&c, "/nonexistent-dir/tap.fstrm");
	cr_assert_null(ctl_dnstap_new(&c, err, sizeof(err)));
	cr_assert(strstr(err, "dnstap.file: /nonexistent-dir/tap.fstrm"), "%s", err);
}
