/*
 * qmgr_worker - persistent delivery agent processes.
 *
 * A worker is a child of qmgr that serves one transport. qmgr forks it
 * when the transport has work and no idle worker, then hands it one
 * delivery request at a time over a socketpair: the envelope as
 * length-prefixed fields, the open queue file passed along with
 * SCM_RIGHTS. The worker runs the transport's agent and answers with one
 * result line per recipient and a line holding ".". It serves max_use
 * requests and then exits; qmgr closes a worker idle for max_idle
 * seconds. So agents keep what they learnt between requests (the smtp
 * agent's cached connection) and qmgr forks once per max_use deliveries
 * rather than once per delivery, as Postfix's master-managed agents do.
 *
 * Wire format of a request: a 4-byte native-endian length N (sent with
 * the queue file's descriptor), then N bytes of fields, each "LEN:BYTES"
 * or "~" for a missing string. Fields, in order: queue_id sender envid ret
 * flags arrival queue_delay content_offset content_length nexthop nrcpt,
 * then per recipient: index address orcpt original notify.
 *
 * Public (qmgr_impl.h): qmgr_worker_encode, qmgr_worker_decode,
 * qmgr_worker_free_request, qmgr_worker_spawn, qmgr_worker_send,
 * qmgr_result_format.
 * Trouble: a worker that cannot read a request exits (qmgr defers the
 * recipients of the request in flight, 4.3.0); one that is killed or
 * times out (daemon_timeout) likewise.
 */
#include "queue/qmgr_impl.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mem.h"

#define REQUEST_MAX	(64u << 20)	/* sanity bound on one request */

/* put_str - one field; NULL as "~" */
static void put_str(struct buf *b, const char *s)
{
	if (s == NULL) {
		buf_putc(b, '~');
		return;
	}
	buf_printf(b, "%zu:", strlen(s));
	buf_puts(b, s);
}

/* put_num - a number field */
static void put_num(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_num(struct buf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	put_str(b, tmp);
}

/* qmgr_worker_encode - a delivery request's fields (not the descriptor) */
void qmgr_worker_encode(const struct delivery *d, struct buf *out)
{
	put_str(out, d->queue_id);
	put_str(out, d->sender);
	put_str(out, d->envid);
	put_str(out, d->ret);
	put_num(out, "%d", (d->smtputf8 ? 1 : 0) | (d->body_8bit ? 2 : 0));
	put_num(out, "%lld", (long long)d->arrival);
	put_num(out, "%.6f", d->queue_delay);
	put_num(out, "%lld", (long long)d->content_offset);
	put_num(out, "%lld", (long long)d->content_length);
	put_str(out, d->nexthop);
	put_num(out, "%zu", d->nrcpt);
	for (size_t i = 0; i < d->nrcpt; i++) {
		put_num(out, "%zu", d->rcpt[i].index);
		put_str(out, d->rcpt[i].address);
		put_str(out, d->rcpt[i].orcpt);
		put_str(out, d->rcpt[i].original);
		put_num(out, "%u", d->rcpt[i].notify);
	}
}

struct reader {
	const char *p, *end;
	struct strv *keep;	/* owns the decoded strings */
	bool bad;
};

/* get_str - the next field, owned by r->keep; NULL for "~" or on error */
static const char *get_str(struct reader *r)
{
	size_t len = 0;

	if (r->bad || r->p >= r->end)
		goto bad;
	if (*r->p == '~') {
		r->p++;
		return NULL;
	}
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
		if (len > REQUEST_MAX)
			goto bad;
		len = len * 10 + (size_t)(*r->p++ - '0');
	}
	if (r->p >= r->end || *r->p != ':' || (size_t)(r->end - r->p - 1) < len)
		goto bad;
	r->p++;
	strv_push_take(r->keep, xstrndup(r->p, len));
	r->p += len;
	return r->keep->v[r->keep->n - 1];
bad:
	r->bad = true;
	return NULL;
}

/* get_num - a numeric field as long long; 0 (and bad) when not a number */
static long long get_num(struct reader *r)
{
	const char *s = get_str(r);
	char *end;
	long long v;

	if (s == NULL) {
		r->bad = true;
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		r->bad = true;
	return v;
}

/* qmgr_worker_decode - fill d from a request's fields; strings live in keep.
 * 0, or -1 for a malformed request. d->cf, transport, content_fd are the
 * caller's. */
int qmgr_worker_decode(const char *data, size_t len, struct delivery *d, struct strv *keep)
{
	struct reader r = { data, data + len, keep, false };
	const char *s;
	long long flags, n;

	d->queue_id = get_str(&r);
	d->sender = get_str(&r);
	d->envid = get_str(&r);
	d->ret = get_str(&r);
	flags = get_num(&r);
	d->smtputf8 = flags & 1;
	d->body_8bit = (flags & 2) != 0;
	d->arrival = (time_t)get_num(&r);
	s = get_str(&r);
	d->queue_delay = s ? strtod(s, NULL) : 0;
	d->content_offset = (off_t)get_num(&r);
	d->content_length = (off_t)get_num(&r);
	d->nexthop = get_str(&r);
	n = get_num(&r);
	if (r.bad || d->queue_id == NULL || d->sender == NULL || n < 0 ||
	    (unsigned long long)n > len)
		return -1;
	d->nrcpt = (size_t)n;
	d->rcpt = xcalloc(d->nrcpt ? d->nrcpt : 1, sizeof(*d->rcpt));
	for (size_t i = 0; i < d->nrcpt && !r.bad; i++) {
		struct delivery_rcpt *rc = &d->rcpt[i];

		rc->index = (size_t)get_num(&r);
		rc->address = get_str(&r);
		rc->orcpt = get_str(&r);
		rc->original = get_str(&r);
		rc->notify = (unsigned)get_num(&r);
		if (rc->address == NULL)
			r.bad = true;
	}
	if (r.bad || r.p != r.end) {
		xfree(&d->rcpt);
		d->nrcpt = 0;
		return -1;
	}
	return 0;
}

/* put_field - one result field: "-" if empty, no line breaks, and no
 * spaces where the field is not the last */
static void put_field(struct buf *b, const char *s, bool last)
{
	if (s == NULL || *s == 0) {
		buf_putc(b, '-');
		return;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < ' ' || c == 0x7f)
			c = ' ';
		if (c == ' ' && !last)
			c = '_';
		buf_putc(b, c);
	}
}

/* qmgr_result_format - "INDEX STATUS DSN CONN XFER RELAY REPLY" lines and
 * the closing "." line */
void qmgr_result_format(const struct delivery *d, struct buf *out)
{
	for (size_t i = 0; i < d->nrcpt; i++) {
		const struct delivery_rcpt *r = &d->rcpt[i];

		buf_printf(out, "%zu %d %s %.6f %.6f ", r->index, (int)r->status,
			   r->dsn[0] ? r->dsn : "-", r->conn_delay, r->xfer_delay);
		put_field(out, buf_cstr(&r->relay), false);
		buf_putc(out, ' ');
		put_field(out, buf_cstr(&r->reply), true);
		buf_putc(out, '\n');
	}
	buf_puts(out, ".\n");
}

/* io_full - write (or read) exactly len bytes; 0, or -1 on failure or
 * end of file */
static int io_full(int fd, char *data, size_t len, bool writing)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = writing ? write(fd, data + off, len - off) : read(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* qmgr_worker_send - one request to a worker; 0 or -1 */
int qmgr_worker_send(int sock, const struct delivery *d)
{
	struct buf body = BUF_INIT;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	struct iovec iov;
	uint32_t len;
	ssize_t n;
	int rc = -1;

	qmgr_worker_encode(d, &body);
	len = (uint32_t)body.len;
	iov.iov_base = &len;
	iov.iov_len = sizeof(len);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	memset(cbuf, 0, sizeof(cbuf));
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &d->content_fd, sizeof(int));
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(len) && io_full(sock, body.data, body.len, true) == 0)
		rc = 0;
	buf_free(&body);
	return rc;
}

/* recv_request - the next request: its fields into body, its descriptor
 * into *fdp. 1 got one, 0 end of file, -1 trouble. */
static int recv_request(int sock, struct buf *body, int *fdp)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	struct iovec iov;
	uint32_t len;
	ssize_t n;

	*fdp = -1;
	iov.iov_base = &len;
	iov.iov_len = sizeof(len);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	for (cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fdp, CMSG_DATA(cm), sizeof(int));
	if (n < 0 || *fdp < 0 ||
	    ((size_t)n < sizeof(len) &&
	     io_full(sock, (char *)&len + n, sizeof(len) - (size_t)n, false) < 0) ||
	    len > REQUEST_MAX)
		return -1;
	buf_reset(body);
	buf_reserve(body, len);
	if (io_full(sock, body->data, len, false) < 0)
		return -1;
	body->len = len;
	body->data[len] = 0;
	return 1;
}

/* wait_request - block until a request (or EOF) is readable; while idle,
 * tell the agent once a second so it can let cached state age out */
static void wait_request(int sock, const struct delivery_agent *agent)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };

	for (;;) {
		int n = poll(&pfd, 1, agent->idle ? 1000 : -1);

		if (n > 0 || (n < 0 && errno != EINTR))
			return;
		if (n == 0)
			agent->idle();
	}
}

/* worker_main - the child: serve requests until EOF or max_use */
static void __attribute__((noreturn)) worker_main(struct qmgr_transport *tp, struct config *cf,
						  int sock, long max_use, long timeout)
{
	struct buf body = BUF_INIT, out = BUF_INIT, name = BUF_INIT;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	buf_printf(&name, "outpost/%s", tp->name);
	log_init(name.data);
	for (long used = 0; max_use <= 0 || used < max_use; used++) {
		struct delivery d = { 0 };
		struct strv keep = STRV_INIT;
		int fd, rc;

		wait_request(sock, tp->agent);
		if ((rc = recv_request(sock, &body, &fd)) <= 0) {
			if (rc < 0)
				log_warn("bad request from the queue manager");
			_exit(rc < 0);
		}
		if (qmgr_worker_decode(body.data, body.len, &d, &keep) < 0) {
			log_warn("malformed request from the queue manager");
			_exit(1);
		}
		d.transport = tp->name;
		d.cf = cf;
		d.content_fd = fd;
		alarm((unsigned)(timeout > 0 ? timeout : 18000));
		tp->agent->fn(&d);
		alarm(0);
		close(fd);
		qmgr_result_format(&d, &out);
		if (io_full(sock, out.data, out.len, true) < 0)
			_exit(1);
		buf_reset(&out);
		for (size_t i = 0; i < d.nrcpt; i++) {
			buf_free(&d.rcpt[i].reply);
			buf_free(&d.rcpt[i].relay);
		}
		xfree(&d.rcpt);
		strv_free(&keep);
	}
	_exit(0);
}

/* qmgr_worker_spawn - fork a worker for tp; NULL when that fails */
struct qmgr_worker *qmgr_worker_spawn(struct qmgr *m, struct qmgr_transport *tp)
{
	struct config *cf = tp->cf ? tp->cf : m->cf;
	long max_use = config_int(cf, "max_use");
	long timeout = config_time(m->cf, "daemon_timeout");
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return NULL;
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	if (pid == 0) {
		/* other workers must see EOF when qmgr closes them: drop our
		 * copies of their sockets, and of the FIFO */
		for (struct qmgr_transport *t = m->transports; t; t = t->next)
			for (struct qmgr_worker *w = t->workers; w; w = w->next)
				if (w->fd >= 0)
					close(w->fd);
		if (m->fifo_fd >= 0)
			close(m->fifo_fd);
		if (m->fifo_wfd >= 0)
			close(m->fifo_wfd);
		close(sv[0]);
		worker_main(tp, cf, sv[1], max_use, timeout);
	}
	close(sv[1]);
	{
		struct qmgr_worker *w = xcalloc(1, sizeof(*w));

		w->m = m;
		w->tp = tp;
		w->pid = pid;
		w->fd = sv[0];
		w->max_use = max_use;
		w->next = tp->workers;
		tp->workers = w;
		tp->nworkers++;
		return w;
	}
}
