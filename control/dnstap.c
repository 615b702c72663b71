/*
 * control/dnstap.c: dnstap output (see dnstap.h). Control process, the
 * loop's thread; libfstrm's I/O thread does the writing.
 *
 * Nothing here may stall the loop: libfstrm's queue is a fixed ring the
 * I/O thread empties; a full one (the reader is slow, gone, or never
 * came) drops the message, counted. Frames carry no pointers into our
 * memory: each is its own malloc'ed buffer, freed by libfstrm once
 * written or discarded.
 */
#include "control/dnstap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fstrm.h>

#include "conf/config.h"
#include "dns/name.h"
#include "dnstap.pb-c.h"

#define CONTENT_TYPE "protobuf:dnstap.Dnstap"
#define QUEUE_SIZE 16384	/* libfstrm's largest input queue */
#define REOPEN_S 2		/* a gone reader's socket is tried again this often */

struct ctl_dnstap {
	struct fstrm_iothr *iothr;
	struct fstrm_iothr_queue *ioq;
	uint32_t sample, left;
	bool want[CTL_DNSTAP_CLIENT_RESPONSE + 1];
	struct ctl_dnstap_stats st;
	char identity[CFG_DNSTAP_TEXT_MAX];
	char version[CFG_DNSTAP_TEXT_MAX];
};

uint64_t ctl_dnstap_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void bytes(protobuf_c_boolean *has, ProtobufCBinaryData *f, const void *p, size_t len)
{
	*has = p != NULL;
	f->data = (uint8_t *)(uintptr_t)p;
	f->len = p ? len : 0;
}

uint8_t *ctl_dnstap_encode(const struct ctl_dnstap_msg *m, const char *identity,
			   const char *version, size_t *len)
{
	Dnstap__Dnstap d = DNSTAP__DNSTAP__INIT;
	Dnstap__Message msg = DNSTAP__MESSAGE__INIT;
	size_t alen = m->family == AF_INET6 ? 16 : 4;
	bool query = m->type == CTL_DNSTAP_CLIENT_QUERY || m->type == CTL_DNSTAP_RESOLVER_QUERY;

	d.type = DNSTAP__DNSTAP__TYPE__MESSAGE;
	d.message = &msg;
	if (identity[0])
		bytes(&d.has_identity, &d.identity, identity, strlen(identity));
	if (version[0])
		bytes(&d.has_version, &d.version, version, strlen(version));
	msg.type = (Dnstap__Message__Type)m->type;
	msg.has_socket_family = true;
	msg.socket_family = m->family == AF_INET6 ? DNSTAP__SOCKET_FAMILY__INET6
						  : DNSTAP__SOCKET_FAMILY__INET;
	msg.has_socket_protocol = true;
	msg.socket_protocol = m->tcp ? DNSTAP__SOCKET_PROTOCOL__TCP : DNSTAP__SOCKET_PROTOCOL__UDP;
	bytes(&msg.has_query_address, &msg.query_address, m->query_addr, alen);
	bytes(&msg.has_response_address, &msg.response_address, m->response_addr, alen);
	if (m->query_port) {
		msg.has_query_port = true;
		msg.query_port = m->query_port;
	}
	if (m->response_port) {
		msg.has_response_port = true;
		msg.response_port = m->response_port;
	}
	if (m->query_ns) {
		msg.has_query_time_sec = msg.has_query_time_nsec = true;
		msg.query_time_sec = m->query_ns / 1000000000u;
		msg.query_time_nsec = (uint32_t)(m->query_ns % 1000000000u);
	}
	if (m->response_ns) {
		msg.has_response_time_sec = msg.has_response_time_nsec = true;
		msg.response_time_sec = m->response_ns / 1000000000u;
		msg.response_time_nsec = (uint32_t)(m->response_ns % 1000000000u);
	}
	if (query)
		bytes(&msg.has_query_message, &msg.query_message, m->msg, m->len);
	else
		bytes(&msg.has_response_message, &msg.response_message, m->msg, m->len);
	if (m->zone)
		bytes(&msg.has_query_zone, &msg.query_zone, m->zone, dns_name_len(m->zone));

	size_t n = dnstap__dnstap__get_packed_size(&d);
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		return NULL;
	*len = dnstap__dnstap__pack(&d, buf);
	return buf;
}

/*
 * libfstrm writes a file from its start (a frame stream is one header,
 * frames, one trailer: streams appended to each other are not read as
 * one), so an earlier run's file is kept under PATH.YYYYMMDD-HHMMSS (UTC;
 * .PID added when that is taken): a restart, or control attaching to a new
 * dataplane, loses nothing. 0, or -1 with a line in err.
 */
static int keep_previous(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	char to[CFG_PATH_MAX + 40], stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0)
		return 0;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(to, sizeof(to), "%s.%s", path, stamp);
	if (access(to, F_OK) == 0)
		snprintf(to, sizeof(to), "%s.%s.%d", path, stamp, (int)getpid());
	if (rename(path, to) != 0) {
		snprintf(err, errlen, "dnstap.file: %s: keeping the previous one as %s: %m",
			 path, to);
		return -1;
	}
	return 0;
}

struct ctl_dnstap *ctl_dnstap_new(const struct cfg *cfg, char *err, size_t errlen)
{
	struct ctl_dnstap *t = calloc(1, sizeof(*t));
	struct fstrm_writer_options *wopt = fstrm_writer_options_init();
	struct fstrm_unix_writer_options *uopt = NULL;
	struct fstrm_file_options *fopt = NULL;
	struct fstrm_iothr_options *iopt = fstrm_iothr_options_init();
	struct fstrm_writer *w = NULL;
	const char *path = cfg->dnstap.socket[0] ? cfg->dnstap.socket : cfg->dnstap.file;

	if (!t || !wopt || !iopt) {
		snprintf(err, errlen, "dnstap: out of memory");
		goto fail;
	}
	t->sample = t->left = cfg->dnstap.sample ? cfg->dnstap.sample : 1;
	t->want[CTL_DNSTAP_CLIENT_QUERY] = cfg->dnstap.client_queries;
	t->want[CTL_DNSTAP_CLIENT_RESPONSE] = cfg->dnstap.client_responses;
	t->want[CTL_DNSTAP_RESOLVER_QUERY] = cfg->dnstap.resolver_queries;
	t->want[CTL_DNSTAP_RESOLVER_RESPONSE] = cfg->dnstap.resolver_responses;
	if (cfg->dnstap.identity[0])
		snprintf(t->identity, sizeof(t->identity), "%s", cfg->dnstap.identity);
	else if (gethostname(t->identity, sizeof(t->identity) - 1) != 0)
		t->identity[0] = 0;
	snprintf(t->version, sizeof(t->version), "%s",
		 cfg->dnstap.version[0] ? cfg->dnstap.version : "bailiwick " BW_VERSION);

	fstrm_writer_options_add_content_type(wopt, CONTENT_TYPE, strlen(CONTENT_TYPE));
	if (cfg->dnstap.socket[0]) {
		if (!(uopt = fstrm_unix_writer_options_init()))
			goto nomem;
		fstrm_unix_writer_options_set_socket_path(uopt, path);
		w = fstrm_unix_writer_init(uopt, wopt);
	} else {
		if (keep_previous(path, err, errlen))
			goto fail;
		/* a file we cannot create is an error now, not a silent loss */
		FILE *f = fopen(path, "a");
		if (!f) {
			snprintf(err, errlen, "dnstap.file: %s: %m", path);
			goto fail;
		}
		fclose(f);
		if (!(fopt = fstrm_file_options_init()))
			goto nomem;
		fstrm_file_options_set_file_path(fopt, path);
		w = fstrm_file_writer_init(fopt, wopt);
	}
	if (!w)
		goto nomem;
	fstrm_iothr_options_set_input_queue_size(iopt, QUEUE_SIZE);
	fstrm_iothr_options_set_reopen_interval(iopt, REOPEN_S);
	fstrm_iothr_options_set_queue_model(iopt, FSTRM_IOTHR_QUEUE_MODEL_SPSC);
	if (!(t->iothr = fstrm_iothr_init(iopt, &w))) {
		snprintf(err, errlen, "dnstap: %s: the writer thread did not start", path);
		goto fail;
	}
	if (!(t->ioq = fstrm_iothr_get_input_queue(t->iothr))) {
		snprintf(err, errlen, "dnstap: no input queue");
		goto fail;
	}
	fstrm_iothr_options_destroy(&iopt);
	fstrm_writer_options_destroy(&wopt);
	if (uopt)
		fstrm_unix_writer_options_destroy(&uopt);
	if (fopt)
		fstrm_file_options_destroy(&fopt);
	return t;
nomem:
	snprintf(err, errlen, "dnstap: out of memory");
fail:
	if (w)
		fstrm_writer_destroy(&w);
	if (iopt)
		fstrm_iothr_options_destroy(&iopt);
	if (wopt)
		fstrm_writer_options_destroy(&wopt);
	if (uopt)
		fstrm_unix_writer_options_destroy(&uopt);
	if (fopt)
		fstrm_file_options_destroy(&fopt);
	ctl_dnstap_free(t);
	return NULL;
}

void ctl_dnstap_free(struct ctl_dnstap *t)
{
	if (!t)
		return;
	if (t->iothr)
		fstrm_iothr_destroy(&t->iothr);
	free(t);
}

bool ctl_dnstap_wants(const struct ctl_dnstap *t, enum ctl_dnstap_type type)
{
	return t && type <= CTL_DNSTAP_CLIENT_RESPONSE && t->want[type];
}

bool ctl_dnstap_sample(struct ctl_dnstap *t)
{
	if (!t || !(t->want[CTL_DNSTAP_CLIENT_QUERY] || t->want[CTL_DNSTAP_CLIENT_RESPONSE]))
		return false;
	if (--t->left)
		return false;
	t->left = t->sample;
	return true;
}

void ctl_dnstap_send(struct ctl_dnstap *t, const struct ctl_dnstap_msg *m)
{
	size_t len;
	uint8_t *buf;

	if (!ctl_dnstap_wants(t, m->type))
		return;
	if (!(buf = ctl_dnstap_encode(m, t->identity, t->version, &len))) {
		t->st.failed++;
		return;
	}
	if (fstrm_iothr_submit(t->iothr, t->ioq, buf, len, fstrm_free_wrapper, NULL) !=
	    fstrm_res_success) {
		free(buf);
		t->st.dropped++;
		return;
	}
	t->st.messages++;
}

void ctl_dnstap_upstream(void *arg, bool reply, const struct sockaddr_storage *server,
			 uint16_t local_port, bool tcp, const uint8_t *msg, size_t len,
			 uint64_t age_us, const uint8_t *zone)
{
	bool v6 = server->ss_family == AF_INET6;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)server;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)server;
	uint64_t now = ctl_dnstap_now_ns();
	struct ctl_dnstap_msg m = {
		.type = reply ? CTL_DNSTAP_RESOLVER_RESPONSE : CTL_DNSTAP_RESOLVER_QUERY,
		.family = v6 ? AF_INET6 : AF_INET,
		.tcp = tcp,
		.response_addr = v6 ? (const uint8_t *)&sin6->sin6_addr
				    : (const uint8_t *)&sin->sin_addr,
		.response_port = ntohs(v6 ? sin6->sin6_port : sin->sin_port),
		.query_port = local_port,
		.query_ns = reply ? now - age_us * 1000 : now,
		.response_ns = reply ? now : 0,
		.msg = msg,
		.len = len,
		.zone = zone,
	};
	ctl_dnstap_send(arg, &m);
}

void ctl_dnstap_get_stats(const struct ctl_dnstap *t, struct ctl_dnstap_stats *st)
{
	if (t)
		*st = t->st;
	else
		memset(st, 0, sizeof(*st));
}
