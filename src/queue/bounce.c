/*
 * bounce - delivery status notifications (RFC 3461, 3462, 3464, and RFC
 * 6533 for SMTPUTF8 mail): failure reports ("bounces"), delay warnings and
 * success reports, built as multipart/report messages from MAILER-DAEMON
 * and queued like any other mail through the queue file writer.
 *
 * Who hears what (notify_classes, as in Postfix):
 *  - the sender, from <>: failures, delay warnings and success reports,
 *    within the recipients' NOTIFY (NEVER, or a list without the kind,
 *    leaves a recipient out);
 *  - with "bounce": bounce_notice_recipient gets a postmaster copy of each
 *    failure report, headers only, for every failed recipient;
 *  - with "delay": delay_notice_recipient gets a copy of each delay
 *    warning, headers only;
 *  - with "2bounce" (implied by "bounce"): a failure of mail from the null
 *    sender (a bounce that bounced) goes to 2bounce_notice_recipient with
 *    the whole message; without it the failure is dropped with a log line.
 * Postmaster notices come from double_bounce_sender, so a notice that
 * cannot be delivered is dropped with a log line, never reported again.
 * The returned content follows RET: HDRS returns the headers, FULL (and
 * the default) the message, cut at a line boundary within
 * bounce_size_limit; delay and success reports return headers only. For
 * SMTPUTF8 mail the parts are message/global-delivery-status and
 * message/global (or message/global-headers), and the notice is queued
 * as SMTPUTF8 itself.
 *
 * Public (qmgr_impl.h): bounce_notify.
 * Trouble: a notice that cannot be queued returns -1; the caller keeps the
 * original message and tries again later.
 */
#include "queue/qmgr_impl.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "mail/notify.h"

struct notice_text {
	const char *subject;
	const char *copy_subject;	/* the postmaster's */
	const char *action;
	const char *def_dsn;
	const char *intro;
};

static const struct notice_text texts[] = {
	[BOUNCE_FAILED] = { "Undelivered Mail Returned to Sender", "Postmaster Copy: Undelivered Mail",
			    "failed", "5.0.0",
			    "Your message could not be delivered to one or more of its\n"
			    "recipients; the mail system gave up on them for the reasons\n"
			    "below. The message itself (or its headers) follows at the end.\n" },
	[BOUNCE_DELAYED] = { "Delayed Mail (still being retried)", "Postmaster Warning: Delayed Mail",
			     "delayed", "4.0.0",
			     "This is only a warning: your message has not been delivered\n"
			     "to the recipients below yet. No action is needed; the mail\n"
			     "system keeps trying until the time shown in the report.\n" },
	[BOUNCE_DELIVERED] = { "Successful Mail Delivery Report", NULL /* never copied */,
			       "delivered", "2.0.0",
			       "You asked to be told when your message was delivered: it\n"
			       "reached the recipients below.\n" },
};

/* One notice to queue: what, to whom, and in which form. */
struct notice {
	enum bounce_kind kind;
	const char *to;
	const char *from;	/* "" for the sender's notices */
	bool postmaster;	/* for the postmaster: its subject and short text */
	bool headers_only;	/* a copy: the original's headers, whatever RET says */
};

/* rfc_date - "Sun, 22 Nov 2026 02:18:30 +0000" */
static void rfc_date(char *out, size_t size, time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, size, "%a, %d %b %Y %H:%M:%S %z", &tm);
}

/* cut_line - text with no line breaks, at most max bytes */
static void cut_line(struct buf *b, const char *s, size_t max)
{
	for (size_t i = 0; s && s[i] && i < max; i++)
		buf_putc(b, (unsigned char)s[i] < ' ' ? ' ' : s[i]);
}

/* is_double_bounce - the sender is the double-bounce address */
static bool is_double_bounce(struct qmgr *m, const char *sender)
{
	const char *db = config_str(m->cf, "double_bounce_sender");
	size_t n = strlen(db);

	return *sender && strncasecmp(sender, db, n) == 0 && (sender[n] == 0 || sender[n] == '@');
}

/* human_part - the text/plain explanation */
static void human_part(struct qmgr *m, struct buf *b, const struct notice *nt, struct qfile *q,
		       const struct queue_log_entry *v, size_t n, bool utf8)
{
	buf_printf(b, "Content-Description: Notification\nContent-Type: text/plain; charset=%s\n%s\n",
		   utf8 ? "utf-8" : "us-ascii", utf8 ? "Content-Transfer-Encoding: 8bit\n" : "");
	if (nt->postmaster)
		buf_printf(b, "A copy for the postmaster from the mail server %s\n"
			      "about a message from <%s>.\n\n",
			   m->myhostname, q->sender);
	else
		buf_printf(b, "A report from the mail server %s about a message\n"
			      "sent by you.\n\n%s\n",
			   m->myhostname, texts[nt->kind].intro);
	for (size_t i = 0; i < n; i++) {
		buf_printf(b, "<%s>: ", q->rcpt[v[i].index].address);
		cut_line(b, v[i].reply, 900);
		buf_puts(b, "\n\n");
	}
	if (!nt->postmaster)
		buf_puts(b, "Questions about this report go to the postmaster of the sending\n"
			    "domain; please include the report.\n\n");
}

/* smtp_code_at - p starts with a three-digit SMTP reply code */
static bool smtp_code_at(const char *p)
{
	return p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
	       p[2] <= '9' && (p[3] == ' ' || p[3] == '-' || p[3] == 0);
}

/* diagnostic - "smtp; 550 …" when the reply holds the remote server's
 * words ("host H said: 550 … (in reply to …)"), else our own text */
static void diagnostic(struct buf *b, const char *reply)
{
	const char *said = reply ? strstr(reply, " said: ") : NULL;
	const char *text = said ? said + 7 : reply ? reply : "";
	const char *tail;
	size_t n;

	if (!smtp_code_at(text)) {
		buf_puts(b, "Diagnostic-Code: X-Outpost; ");
		cut_line(b, reply, 900);
		buf_putc(b, '\n');
		return;
	}
	n = strlen(text);
	if ((tail = strstr(text, " (in reply to ")) != NULL && tail[strlen(tail) - 1] == ')')
		n = (size_t)(tail - text);
	buf_puts(b, "Diagnostic-Code: smtp; ");
	cut_line(b, text, n < 900 ? n : 900);
	buf_putc(b, '\n');
}

/* status_part - the machine-readable message/delivery-status */
static void status_part(struct qmgr *m, struct buf *b, enum bounce_kind kind, struct qfile *q,
			const struct queue_log_entry *v, size_t n, bool utf8)
{
	char date[64];
	const char *envid = qfile_attr(q, QATTR_ENVID);

	rfc_date(date, sizeof(date), q->arrival.tv_sec);
	buf_printf(b, "Content-Description: Delivery report\nContent-Type: message/%s\n%s\n"
		      "Reporting-MTA: dns; %s\nX-Outpost-Queue-ID: %s\nX-Outpost-Sender: rfc822; %s\n"
		      "Arrival-Date: %s\n",
		   utf8 ? "global-delivery-status" : "delivery-status",
		   utf8 ? "Content-Transfer-Encoding: 8bit\n" : "", m->myhostname, q->id, q->sender,
		   date);
	if (envid && *envid)
		buf_printf(b, "Original-Envelope-Id: %s\n", envid);
	for (size_t i = 0; i < n; i++) {
		const struct qfile_rcpt *r = &q->rcpt[v[i].index];
		const char *relay = v[i].relay ? v[i].relay : "none";
		const char *br = strchr(relay, '[');

		buf_printf(b, "\nFinal-Recipient: rfc822; %s\n", r->address);
		if (r->orcpt) {
			const char *semi = strchr(r->orcpt, ';');

			buf_printf(b, "Original-Recipient: %.*s; %s\n",
				   semi ? (int)(semi - r->orcpt) : 6, semi ? r->orcpt : "rfc822",
				   semi ? semi + 1 : r->orcpt);
		}
		buf_printf(b, "Action: %s\nStatus: %s\n", texts[kind].action,
			   v[i].dsn[0] ? v[i].dsn : texts[kind].def_dsn);
		if (strcmp(relay, "none") != 0 && strcmp(relay, "-") != 0 && br && br != relay)
			buf_printf(b, "Remote-MTA: dns; %.*s\n", (int)(br - relay), relay);
		diagnostic(b, v[i].reply);
		if (kind == BOUNCE_DELAYED) {
			rfc_date(date, sizeof(date), q->arrival.tv_sec + m->max_lifetime);
			buf_printf(b, "Will-Retry-Until: %s\n", date);
		}
		rfc_date(date, sizeof(date), v[i].when);
		buf_printf(b, "Last-Attempt-Date: %s\n", date);
	}
	buf_putc(b, '\n');
}

/* original_part - the returned message or its headers; true if 8-bit */
static bool original_part(struct qmgr *m, struct buf *b, bool full, struct qfile *q, bool utf8)
{
	struct buf text = BUF_INIT;
	size_t limit = m->bounce_size_limit > 0 ? (size_t)m->bounce_size_limit : 50000;
	bool eight = false;
	char *end;

	if (qfile_read_content(q, &text, limit) < 0)
		return false;
	if ((end = strstr(text.data, "\n\n")) != NULL && !full)
		buf_truncate(&text, (size_t)(end - text.data) + 1);
	else if (text.len < (size_t)q->content_length) {
		char *nl = memrchr(text.data, '\n', text.len);

		buf_truncate(&text, nl ? (size_t)(nl - text.data) + 1 : 0);
	}
	for (size_t i = 0; i < text.len; i++)
		eight |= (unsigned char)text.data[i] >= 0x80;
	buf_printf(b, "Content-Description: %s\nContent-Type: %s\n",
		   full ? "Undelivered Message" : "Message Headers",
		   utf8 ? (full ? "message/global" : "message/global-headers")
			: (full ? "message/rfc822" : "text/rfc822-headers"));
	if (eight)
		buf_puts(b, "Content-Transfer-Encoding: 8bit\n");
	buf_putc(b, '\n');
	buf_append(b, text.data, text.len);
	buf_free(&text);
	return eight;
}

/* wanted - recipients a notice may mention: the sender's within NOTIFY,
 * the postmaster's all */
static size_t wanted(const struct notice *nt, struct qfile *q, const struct queue_log_entry *v,
		     size_t n, struct queue_log_entry *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned nf;

		if (v[i].index >= q->nrcpt)
			continue;
		nf = nt->postmaster ? 0 : q->rcpt[v[i].index].notify;
		if (nf & QFILE_NOTIFY_NEVER)
			continue;
		if (nt->kind == BOUNCE_FAILED && nf && !(nf & QFILE_NOTIFY_FAILURE))
			continue;
		if (nt->kind == BOUNCE_DELAYED && nf && !(nf & QFILE_NOTIFY_DELAY))
			continue;
		out[k++] = v[i];
	}
	return k;
}

/* plan - the notices one report becomes (at most two) */
static size_t plan(struct qmgr *m, enum bounce_kind kind, struct qfile *q, struct notice *out)
{
	const char *dbs = config_str(m->cf, "double_bounce_sender");
	struct buf err = BUF_INIT;
	unsigned classes;
	size_t k = 0;

	if (notify_classes(m->cf, &classes, &err) < 0)	/* checked when qmgr started */
		classes = NOTIFY_RESOURCE | NOTIFY_SOFTWARE;
	buf_free(&err);
	if (is_double_bounce(m, q->sender)) {
		if (kind == BOUNCE_FAILED)
			log_info("%s: discarding undeliverable double bounce", q->id);
		return 0;
	}
	if (*q->sender == '\0') {
		if (kind != BOUNCE_FAILED)
			return 0;
		if (!(classes & NOTIFY_2BOUNCE)) {
			log_info("%s: undeliverable bounce discarded (notify_classes lacks 2bounce)",
				 q->id);
			return 0;
		}
		out[k++] = (struct notice){ kind, notify_recipient(m->cf, NOTIFY_2BOUNCE), dbs, true,
					    false };
		return k;
	}
	out[k++] = (struct notice){ kind, q->sender, "", false, false };
	if (kind == BOUNCE_FAILED && (classes & NOTIFY_BOUNCE))
		out[k++] = (struct notice){ kind, notify_recipient(m->cf, NOTIFY_BOUNCE), dbs, true,
					    true };
	if (kind == BOUNCE_DELAYED && (classes & NOTIFY_DELAY))
		out[k++] = (struct notice){ kind, notify_recipient(m->cf, NOTIFY_DELAY), dbs, true,
					    true };
	return k;
}

/* notice_body - the whole notice; true if it holds 8-bit text */
static bool notice_body(struct qmgr *m, const struct notice *nt, struct qfile *q,
			const struct queue_log_entry *v, size_t n, const char *id, struct buf *body)
{
	const char *ret = qfile_attr(q, QATTR_RET);
	const char *u8 = qfile_attr(q, QATTR_SMTPUTF8);
	bool utf8 = u8 && strcmp(u8, "1") == 0;
	bool full = nt->kind == BOUNCE_FAILED && !nt->headers_only &&
		    !(ret && strcasecmp(ret, "HDRS") == 0);
	struct buf parts = BUF_INIT, boundary = BUF_INIT;
	char date[64];
	bool eight;

	rfc_date(date, sizeof(date), time(NULL));
	buf_printf(&boundary, "%s.%lld/%s", id, (long long)time(NULL), m->myhostname);
	buf_printf(body, "From: MAILER-DAEMON@%s (Mail Delivery System)\nTo: %s\nSubject: %s\n"
			 "Date: %s\nMessage-Id: <%s@%s>\nAuto-Submitted: auto-replied\n"
			 "MIME-Version: 1.0\nContent-Type: multipart/report; "
			 "report-type=delivery-status;\n\tboundary=\"%s\"\n",
		   m->myhostname, nt->to,
		   nt->postmaster ? texts[nt->kind].copy_subject : texts[nt->kind].subject, date, id,
		   m->myhostname, boundary.data);
	buf_printf(&parts, "\nA delivery status report in MIME format (RFC 3464).\n\n--%s\n",
		   boundary.data);
	human_part(m, &parts, nt, q, v, n, utf8);
	buf_printf(&parts, "--%s\n", boundary.data);
	status_part(m, &parts, nt->kind, q, v, n, utf8);
	buf_printf(&parts, "--%s\n", boundary.data);
	eight = original_part(m, &parts, full, q, utf8) || utf8;
	buf_printf(&parts, "\n--%s--\n", boundary.data);
	buf_puts(body, eight ? "Content-Transfer-Encoding: 8bit\n" : "");
	buf_append(body, parts.data, parts.len);
	buf_free(&parts);
	buf_free(&boundary);
	return eight;
}

/* queue_notice - write one notice into incoming/ */
static int queue_notice(struct qmgr *m, const struct notice *nt, struct qfile *q,
			const struct queue_log_entry *v, size_t n, char *new_id, size_t idsize)
{
	static const char *const kinds[] = { "bounce", "delay", "success" };
	static const char *const words[] = { "non-delivery", "delay", "delivery status" };
	struct buf body = BUF_INIT, err = BUF_INIT;
	const char *u8 = qfile_attr(q, QATTR_SMTPUTF8);
	struct qfile_writer *w;
	int rc = -1;

	if ((w = qfile_create(m->qdir, "incoming", &err)) == NULL) {
		log_warn("%s: cannot create a notification: %s", q->id, buf_cstr(&err));
		goto out;
	}
	qfile_set_sender(w, nt->from);
	qfile_add_rcpt(w, nt->to, NULL, NULL, QFILE_NOTIFY_NEVER);
	qfile_add_attr(w, QATTR_NOTICE, nt->postmaster && !*q->sender ? "2bounce" : kinds[nt->kind]);
	if (u8 && strcmp(u8, "1") == 0)
		qfile_add_attr(w, QATTR_SMTPUTF8, "1");
	if (notice_body(m, nt, q, v, n, qfile_writer_id(w), &body))
		qfile_add_attr(w, QATTR_8BIT, "1");
	snprintf(new_id, idsize, "%s", qfile_writer_id(w));
	if (qfile_append(w, body.data, body.len) < 0 || qfile_commit(&w, &err) < 0) {
		log_warn("%s: cannot queue a notification: %s", q->id, buf_cstr(&err));
		qfile_abort(&w);
		goto out;
	}
	log_info("%s: %s %s notification: %s", q->id, nt->postmaster ? "postmaster" : "sender",
		 words[nt->kind], new_id);
	rc = 0;
out:
	buf_free(&body);
	buf_free(&err);
	return rc;
}

/* bounce_notify - queue the notices of one report for the listed recipients */
int bounce_notify(struct qmgr *m, struct qfile *q, enum bounce_kind kind,
		  const struct queue_log_entry *entries, size_t n, char *new_id, size_t idsize)
{
	struct queue_log_entry *v = xcalloc(n + 1, sizeof(*v));
	struct notice nts[2];
	size_t nn = plan(m, kind, q, nts);
	int rc = 0;

	for (size_t i = 0; i < nn && rc == 0; i++) {
		size_t k = wanted(&nts[i], q, entries, n, v);

		if (k > 0)
			rc = queue_notice(m, &nts[i], q, v, k, new_id, idsize);
	}
	free(v);
	return rc;
}
