/*
 * deliver_util - what every delivery agent shares: per-recipient results
 * and their log line, reading the queued content, the headers added at
 * delivery, mail-loop detection, and running a step as the recipient.
 *
 * Public: deliver_set, deliver_set_all, deliver_status_name,
 * deliver_log_result, deliver_content_read, deliver_prepend_headers,
 * deliver_loop_check, deliver_as_user, deliver_outcome_set,
 * deliver_set_resubmit, deliver_resubmit.
 * Bad input: none from the network here; I/O errors come back as -1 with
 * errno, identity changes that fail become a 4.3.0 outcome.
 */
#include "deliver/deliver.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/str.h"

static deliver_resubmit_fn resubmit_fn;	/* set by the program that runs the agents */

/* deliver_set_resubmit - how forwarded mail reaches cleanup in this process */
void deliver_set_resubmit(deliver_resubmit_fn fn)
{
	resubmit_fn = fn;
}

/* deliver_resubmit - a forwarded message into cleanup; -1 with err when
 * that fails or this program gave no way there */
int deliver_resubmit(struct config *cf, const struct deliver_resubmit *m,
		     struct buf *queue_id, struct buf *err)
{
	if (resubmit_fn == NULL) {
		buf_set(err, "451 4.3.0 mail forwarding is not available in this program");
		return -1;
	}
	return resubmit_fn(cf, m, queue_id, err);
}

/* status_of - delivery status from an enhanced status code's class */
static enum delivery_status status_of(const char *dsn)
{
	switch (dsn[0]) {
	case '2':
		return DELIVERY_SENT;
	case '5':
		return DELIVERY_BOUNCED;
	default:
		return DELIVERY_DEFERRED;
	}
}

/* set_v - fill one recipient from a format */
static void set_v(struct delivery_rcpt *r, const char *dsn, const char *relay,
		  const char *fmt, va_list ap)
{
	r->status = status_of(dsn);
	snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
	buf_reset(&r->reply);
	buf_vprintf(&r->reply, fmt, ap);
	if (relay) {
		buf_reset(&r->relay);
		buf_puts(&r->relay, relay);
	}
}

/* deliver_set - one recipient's outcome */
void deliver_set(struct delivery_rcpt *r, const char *dsn, const char *relay,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_v(r, dsn, relay, fmt, ap);
	va_end(ap);
}

/* deliver_set_all - the same outcome for every pending recipient */
void deliver_set_all(struct delivery *d, const char *dsn, const char *relay,
		     const char *fmt, ...)
{
	va_list ap;

	for (size_t i = 0; i < d->nrcpt; i++) {
		if (d->rcpt[i].status != DELIVERY_PENDING)
			continue;
		va_start(ap, fmt);
		set_v(&d->rcpt[i], dsn, relay, fmt, ap);
		va_end(ap);
	}
}

/* deliver_status_name - Postfix's status word */
const char *deliver_status_name(enum delivery_status st)
{
	switch (st) {
	case DELIVERY_SENT:
		return "sent";
	case DELIVERY_DEFERRED:
		return "deferred";
	case DELIVERY_BOUNCED:
		return "bounced";
	case DELIVERY_PENDING:
		break;
	}
	return "pending";
}

/* fmt_delay - Postfix's compact delay numbers: 0, 0.01 … 9.9, 10, 123 */
static void fmt_delay(struct buf *b, double v)
{
	if (v < 0.01)
		buf_puts(b, "0");
	else if (v < 10)
		buf_printf(b, "%.2g", v);
	else
		buf_printf(b, "%.0f", v);
}

/* deliver_log_result - the log line of one recipient's attempt */
void deliver_log_result(const struct delivery *d, const struct delivery_rcpt *r)
{
	struct buf line = BUF_INIT;
	double total = d->queue_delay + r->conn_delay + r->xfer_delay;

	buf_printf(&line, "%s: to=<%s>, ", d->queue_id ? d->queue_id : "NOQUEUE",
		   r->address);
	if (r->original && strcmp(r->original, r->address) != 0)
		buf_printf(&line, "orig_to=<%s>, ", r->original);
	buf_printf(&line, "relay=%s, delay=",
		   r->relay.len ? buf_cstr(&r->relay) : "none");
	fmt_delay(&line, total);
	buf_puts(&line, ", delays=");
	fmt_delay(&line, d->queue_delay);
	buf_puts(&line, "/0/");
	fmt_delay(&line, r->conn_delay);
	buf_putc(&line, '/');
	fmt_delay(&line, r->xfer_delay);
	buf_printf(&line, ", dsn=%s, status=%s (%s)", r->dsn,
		   deliver_status_name(r->status), buf_cstr(&r->reply));
	log_info("%s", buf_cstr(&line));
	buf_free(&line);
}

/* deliver_content_read - the queued message text */
int deliver_content_read(const struct delivery *d, struct buf *out)
{
	off_t done = 0;

	buf_reset(out);
	if (d->content_length < 0)
		return errno = EINVAL, -1;
	buf_reserve(out, (size_t)d->content_length + 1);
	while (done < d->content_length) {
		ssize_t n = pread(d->content_fd, out->data + done,
				  (size_t)(d->content_length - done),
				  d->content_offset + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;	/* queue file shorter than its record says */
			return -1;
		}
		done += n;
	}
	out->len = (size_t)done;
	out->data[out->len] = 0;
	return 0;
}

/* deliver_prepend_headers - headers a final delivery adds, in Postfix's order */
void deliver_prepend_headers(const struct delivery *d,
			     const struct delivery_rcpt *r, bool delivered_to,
			     struct buf *out)
{
	buf_printf(out, "Return-Path: <%s>\n", d->sender);
	if (r->original && *r->original)
		buf_printf(out, "X-Original-To: %s\n", r->original);
	if (delivered_to)
		buf_printf(out, "Delivered-To: %s\n", r->address);
}

/* deliver_loop_check - has this message already been delivered to addr? */
bool deliver_loop_check(const struct buf *content, const char *addr)
{
	const char *p = buf_cstr(content), *end = p + content->len;
	size_t alen = strlen(addr);

	while (p < end && *p != '\n') {	/* header section ends at the blank line */
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);

		if (len > 13 && strncasecmp(p, "Delivered-To:", 13) == 0) {
			const char *v = p + 13, *ve = p + len;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
				ve--;
			if ((size_t)(ve - v) == alen && strncasecmp(v, addr, alen) == 0)
				return true;
		}
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	return false;
}

/* deliver_outcome_set - fill an outcome */
void deliver_outcome_set(struct deliver_outcome *o, const char *dsn,
			 const char *fmt, ...)
{
	va_list ap;

	snprintf(o->dsn, sizeof(o->dsn), "%s", dsn);
	va_start(ap, fmt);
	vsnprintf(o->text, sizeof(o->text), fmt, ap);
	va_end(ap);
}

/* become - drop to uid/gid in a child; false with errno on failure */
static bool become(uid_t uid, gid_t gid, const char *name)
{
	if (name ? initgroups(name, gid) < 0 : setgroups(1, &gid) < 0)
		return false;
	if (setgid(gid) < 0 || setuid(uid) < 0)
		return false;
	return true;
}

/* deliver_as_user - run fn with the recipient's identity */
void deliver_as_user(uid_t uid, gid_t gid, const char *name, deliver_as_fn fn,
		     void *ctx, struct deliver_outcome *out)
{
	int fds[2], status;
	pid_t pid;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	if (geteuid() != 0 || uid == 0) {
		fn(ctx, out);
		return;
	}
	if (pipe(fds) < 0) {
		deliver_outcome_set(out, "4.3.0", "cannot create pipe: %m");
		return;
	}
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		deliver_outcome_set(out, "4.3.0", "cannot fork: %m");
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		if (!become(uid, gid, name))
			deliver_outcome_set(out, "4.3.0",
					    "cannot change to uid %ld gid %ld: %m",
					    (long)uid, (long)gid);
		else
			fn(ctx, out);
		if (write(fds[1], out, sizeof(*out)) != (ssize_t)sizeof(*out))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	do
		n = read(fds[0], out, sizeof(*out));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(*out)) {
		memset(out, 0, sizeof(*out));
		deliver_outcome_set(out, "4.3.0", "delivery process for uid %ld died",
				    (long)uid);
	}
	out->dsn[sizeof(out->dsn) - 1] = 0;
	out->text[sizeof(out->text) - 1] = 0;
}
