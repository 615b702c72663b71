/*
 * control/dnstap.c: dnstap output (see dnstap.h). Control process: the
 * loop's thread, and the other control threads' upstream messages
 * (control/pool.h), one at a time through mu (libfstrm's input queue has
 * one producer); libfstrm's I/O thread does the writing.
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
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <sys/uio.h>
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
#define QUEUE_BYTES_MAX (64u << 20) /* frames waiting for the writer, at most */

struct ctl_dnstap {
	struct fstrm_iothr *iothr;
	struct fstrm_iothr_queue *ioq;
	uint64_t queued_bytes;		/* frames libfstrm holds (atomic: its
					   thread frees them) */
	bool destroyed;			/* (atomic) */
	uint32_t sample, left;
	bool want[CTL_DNSTAP_CLIENT_RESPONSE + 1];
	pthread_mutex_t mu;		/* the queue's producer side and st */
	struct ctl_dnstap_stats st;
	char identity[CFG_DNSTAP_TEXT_MAX];
	char version[CFG_DNSTAP_TEXT_MAX];
};

/* A frame handed to libfstrm: its length before it, for the byte budget. */
struct frame {
	struct ctl_dnstap *t;
	size_t len;
	alignas(16) uint8_t data[];
};

static void frame_free(void *buf, void *arg)
{
	struct frame *f = (struct frame *)((uint8_t *)buf - offsetof(struct frame, data));

	(void)arg;
	__atomic_fetch_sub(&f->t->queued_bytes, f->len, __ATOMIC_RELAXED);
	free(f);
}

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

/* The encoding of m in a malloc'ed buffer, after head octets left free. */
static uint8_t *pack(const struct ctl_dnstap_msg *m, const char *identity, const char *version,
		     size_t head, size_t *len)
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
	uint8_t *buf = malloc(head + n);
	if (!buf)
		return NULL;
	*len = dnstap__dnstap__pack(&d, buf + head);
	return buf;
}

uint8_t *ctl_dnstap_encode(const struct ctl_dnstap_msg *m, const char *identity,
			   const char *version, size_t *len)
{
	return pack(m, identity, version, 0, len);
}

/*
 * The file's transport (libfstrm's own opens with fopen(path, "w"), also
 * when it reopens after a write error, which would wipe what the file
 * held): every open keeps what is there under PATH.YYYYMMDD-HHMMSS (UTC;
 * .1, .2 ... when that is taken: a name is never reused), then starts a new
 * file. A frame stream is one header, frames, one trailer, so a file is
 * never appended to. Runs on libfstrm's I/O thread; never logs.
 */
struct tapfile {
	char path[CFG_PATH_MAX];
	int fd;
};

static int keep_previous(const char *path)
{
	struct stat sb;
	char to[CFG_PATH_MAX + 48], stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0)
		return 0; /* nothing to keep (a symbolic link fails to open) */
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	for (unsigned i = 0; i < 1000; i++) {
		if (i)
			snprintf(to, sizeof(to), "%s.%s.%u", path, stamp, i);
		else
			snprintf(to, sizeof(to), "%s.%s", path, stamp);
		if (link(path, to) == 0)
			return unlink(path);
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

static fstrm_res tapfile_open(void *obj)
{
	struct tapfile *f = obj;

	if (keep_previous(f->path))
		return fstrm_res_failure;
	f->fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	return f->fd < 0 ? fstrm_res_failure : fstrm_res_success;
}

static fstrm_res tapfile_close(void *obj)
{
	struct tapfile *f = obj;

	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	return fstrm_res_success;
}

static fstrm_res tapfile_destroy(void *obj)
{
	tapfile_close(obj);
	free(obj);
	return fstrm_res_success;
}

static fstrm_res tapfile_write(void *obj, const struct iovec *iov, int iovcnt)
{
	struct tapfile *f = obj;
	struct iovec v[IOV_MAX];
	int n = iovcnt < IOV_MAX ? iovcnt : IOV_MAX;

	if (iovcnt > IOV_MAX)
		return fstrm_res_failure;
	memcpy(v, iov, sizeof(v[0]) * (size_t)n);
	for (int i = 0; i < n;) {
		ssize_t w = writev(f->fd, v + i, n - i);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return fstrm_res_failure;
		while (i < n && (size_t)w >= v[i].iov_len)
			w -= (ssize_t)v[i++].iov_len;
		if (i < n) {
			v[i].iov_base = (uint8_t *)v[i].iov_base + w;
			v[i].iov_len -= (size_t)w;
		}
	}
	return fstrm_res_success;
}

static struct fstrm_writer *file_writer(const char *path, const struct fstrm_writer_options *wopt,
					char *err, size_t errlen)
{
	/* what cannot be opened is an error now, not a silent loss */
	struct stat sb;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
		      0640);
	if (fd < 0) {
		snprintf(err, errlen, "dnstap.file: %s: %m", path);
		return NULL;
	}
	bool regular = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
	close(fd);
	if (!regular) {
		snprintf(err, errlen, "dnstap.file: %s: not a regular file", path);
		return NULL;
	}
	struct tapfile *f = calloc(1, sizeof(*f));
	struct fstrm_rdwr *rw = f ? fstrm_rdwr_init(f) : NULL;
	if (!rw) {
		free(f);
		snprintf(err, errlen, "dnstap: out of memory");
		return NULL;
	}
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->fd = -1;
	fstrm_rdwr_set_open(rw, tapfile_open);
	fstrm_rdwr_set_close(rw, tapfile_close);
	fstrm_rdwr_set_destroy(rw, tapfile_destroy);
	fstrm_rdwr_set_write(rw, tapfile_write);
	struct fstrm_writer *w = fstrm_writer_init(wopt, &rw);
	if (!w) {
		fstrm_rdwr_destroy(&rw);
		snprintf(err, errlen, "dnstap: out of memory");
	}
	return w;
}

struct ctl_dnstap *ctl_dnstap_new(const struct cfg *cfg, char *err, size_t errlen)
{
	struct ctl_dnstap *t = calloc(1, sizeof(*t));
	struct fstrm_writer_options *wopt = fstrm_writer_options_init();
	struct fstrm_unix_writer_options *uopt = NULL;
	struct fstrm_iothr_options *iopt = fstrm_iothr_options_init();
	struct fstrm_writer *w = NULL;
	const char *path = cfg->dnstap.socket[0] ? cfg->dnstap.socket : cfg->dnstap.file;

	if (!t || !wopt || !iopt) {
		snprintf(err, errlen, "dnstap: out of memory");
		goto fail;
	}
	pthread_mutex_init(&t->mu, NULL);
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
		if (!(w = fstrm_unix_writer_init(uopt, wopt)))
			goto nomem;
	} else if (!(w = file_writer(path, wopt, err, errlen))) {
		goto fail;
	}
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
	if (t && t->iothr)
		fstrm_iothr_destroy(&t->iothr);
	free(t);
	return NULL;
}

static void *destroy_thread(void *arg)
{
	struct ctl_dnstap *t = arg;

	fstrm_iothr_destroy(&t->iothr);
	__atomic_store_n(&t->destroyed, true, __ATOMIC_RELEASE);
	return NULL;
}

bool ctl_dnstap_free(struct ctl_dnstap *t, uint32_t wait_ms)
{
	pthread_t th;

	if (!t)
		return true;
	/* libfstrm's socket I/O blocks without a timeout: a reader that
	 * accepted and stopped reading holds its thread, and its join, for
	 * good. The join runs aside, and is given up after wait_ms. */
	if (pthread_create(&th, NULL, destroy_thread, t) != 0)
		return false;
	for (uint32_t ms = 0; !__atomic_load_n(&t->destroyed, __ATOMIC_ACQUIRE); ms += 10) {
		if (ms >= wait_ms) {
			pthread_detach(th);
			return false; /* t stays: the thread may still use it */
		}
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	pthread_join(th, NULL);
	free(t);
	return true;
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

	if (!ctl_dnstap_wants(t, m->type))
		return;
	if (__atomic_load_n(&t->queued_bytes, __ATOMIC_RELAXED) >= QUEUE_BYTES_MAX) {
		pthread_mutex_lock(&t->mu);
		t->st.dropped++;
		pthread_mutex_unlock(&t->mu);
		return;
	}
	struct frame *f = (struct frame *)pack(m, t->identity, t->version, sizeof(*f), &len);
	pthread_mutex_lock(&t->mu);
	if (!f) {
		t->st.failed++;
		pthread_mutex_unlock(&t->mu);
		return;
	}
	f->t = t;
	f->len = len;
	__atomic_fetch_add(&t->queued_bytes, len, __ATOMIC_RELAXED);
	if (fstrm_iothr_submit(t->iothr, t->ioq, f->data, len, frame_free, NULL) !=
	    fstrm_res_success) {
		__atomic_fetch_sub(&t->queued_bytes, len, __ATOMIC_RELAXED);
		free(f);
		t->st.dropped++;
		pthread_mutex_unlock(&t->mu);
		return;
	}
	t->st.messages++;
	pthread_mutex_unlock(&t->mu);
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
		.query_ns = now - age_us * 1000,
		.response_ns = reply ? now : 0,
		.msg = msg,
		.len = len,
		.zone = zone,
	};
	ctl_dnstap_send(arg, &m);
}

void ctl_dnstap_get_stats(const struct ctl_dnstap *t, struct ctl_dnstap_stats *st)
{
	if (t) {
		pthread_mutex_lock((pthread_mutex_t *)&t->mu);
		*st = t->st;
		pthread_mutex_unlock((pthread_mutex_t *)&t->mu);
	} else
		memset(st, 0, sizeof(*st));
}
