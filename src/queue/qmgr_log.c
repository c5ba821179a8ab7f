/*
 * qmgr_log - the per-recipient delivery log line, in Postfix's grammar so
 * that log parsers (pflogsumm, fail2ban, …) keep working:
 *
 *   QUEUEID: to=<rcpt>, [orig_to=<orig>, ]relay=R, delay=T,
 *            delays=a/b/c/d, dsn=X.Y.Z, status=sent (reply)
 *
 * a: before the queue manager took the message, b: in the queue manager,
 * c: connection setup, d: transmission (both from the agent). Addresses
 * are logged in their external (quoted) form, as Postfix 3.5 and later
 * do by default (info_log_address_format = external).
 *
 * Public (qmgr_impl.h): qmgr_log_rcpt.
 */
#include "queue/qmgr_impl.h"

#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "mail/addr.h"

/* tv_diff - b - a in seconds, never negative */
static double tv_diff(const struct timeval *a, const struct timeval *b)
{
	double d = (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_usec - a->tv_usec) / 1e6;

	return d > 0 ? d : 0;
}

static const char *const status_names[] = { "pending", "sent", "deferred", "bounced" };

/* qmgr_log_rcpt - one line per recipient and attempt */
void qmgr_log_rcpt(struct qmgr *m, struct qmgr_msg *msg, size_t idx, const struct delivery_rcpt *r,
		   const struct timeval *start)
{
	const struct qfile_rcpt *qr = &msg->q->rcpt[idx];
	double a = tv_diff(&msg->q->arrival, &msg->active_time);
	double b = tv_diff(&msg->active_time, start);
	char sa[16], sb[16], sc[16], sd[16], st[16];
	struct buf orig = BUF_INIT, to = BUF_INIT, ext = BUF_INIT;
	const char *relay = buf_cstr(&r->relay);

	(void)m;
	qmgr_format_delay(sa, sizeof(sa), a);
	qmgr_format_delay(sb, sizeof(sb), b);
	qmgr_format_delay(sc, sizeof(sc), r->conn_delay);
	qmgr_format_delay(sd, sizeof(sd), r->xfer_delay);
	qmgr_format_delay(st, sizeof(st), a + b + r->conn_delay + r->xfer_delay);
	if (qr->original && strcmp(qr->original, qr->address) != 0) {
		addr_external(qr->original, &ext);
		buf_printf(&orig, "orig_to=<%s>, ", buf_cstr(&ext));
	}
	addr_external(qr->address, &to);
	log_info("%s: to=<%s>, %srelay=%s, delay=%s, delays=%s/%s/%s/%s, dsn=%s, status=%s (%s)",
		 msg->q->id, buf_cstr(&to), buf_cstr(&orig), *relay ? relay : "none", st, sa, sb,
		 sc, sd, r->dsn[0] ? r->dsn : "4.0.0",
		 status_names[r->status <= DELIVERY_BOUNCED ? r->status : 0], buf_cstr(&r->reply));
	buf_free(&orig);
	buf_free(&to);
	buf_free(&ext);
}
