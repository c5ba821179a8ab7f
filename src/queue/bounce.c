/*
 * bounce - delivery status notifications (RFC 3461, 3462, 3464): failure
 * reports ("bounces"), delay warnings and success reports, built as
 * multipart/report messages from MAILER-DAEMON and queued like any other
 * mail through the queue file writer (envelope sender <>).
 *
 * Who gets a failure report: the sender; for mail from the null sender
 * (a bounce that bounced), the 2bounce_notice_recipient when notify_classes
 * includes "2bounce", sent from double_bounce_sender; a failed double
 * bounce is dropped with a log line, never reported again. Recipients
 * with NOTIFY=NEVER, or a NOTIFY list without FAILURE, are left out.
 * The returned content follows RET: HDRS returns the headers, FULL (and
 * the default) the message, cut at a line boundary within
 * bounce_size_limit; delay and success reports return headers only.
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

struct notice_text {
	const char *subject;
	const char *action;
	const char *def_dsn;
	const char *intro;
};

static const struct notice_text texts[] = {
	[BOUNCE_FAILED] = { "Undelivered Mail Returned to Sender", "failed", "5.0.0",
			    "Your message could not be delivered to one or more of its\n"
			    "recipients; the mail system gave up on them for the reasons\n"
			    "below. The message itself (or its headers) follows at the end.\n" },
	[BOUNCE_DELAYED] = { "Delayed Mail (still being retried)", "delayed", "4.0.0",
			     "This is only a warning: your message has not been delivered\n"
			     "to the recipients below yet. No action is needed; the mail\n"
			     "system keeps trying until the time shown in the report.\n" },
	[BOUNCE_DELIVERED] = { "Successful Mail Delivery Report", "delivered", "2.0.0",
			       "You asked to be told when your message was delivered: it\n"
			       "reached the recipients below.\n" },
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
static void human_part(struct qmgr *m, struct buf *b, enum bounce_kind kind, struct qfile *q,
		       const struct queue_log_entry *v, size_t n)
{
	buf_printf(b, "Content-Description: Notification\nContent-Type: text/plain; "
		      "charset=us-ascii\n\nA report from the mail server %s about a message\n"
		      "sent by you.\n\n%s\n",
		   m->myhostname, texts[kind].intro);
	for (size_t i = 0; i < n; i++) {
		buf_printf(b, "<%s>: ", q->rcpt[v[i].index].address);
		cut_line(b, v[i].reply, 900);
		buf_puts(b, "\n\n");
	}
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
			const struct queue_log_entry *v, size_t n)
{
	char date[64];
	const char *envid = qfile_attr(q, QATTR_ENVID);

	rfc_date(date, sizeof(date), q->arrival.tv_sec);
	buf_printf(b, "Content-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
		      "Reporting-MTA: dns; %s\nX-Outpost-Queue-ID: %s\nX-Outpost-Sender: rfc822; %s\n"
		      "Arrival-Date: %s\n",
		   m->myhostname, q->id, q->sender, date);
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

/* original_part - the returned message or its headers */
static bool original_part(struct qmgr *m, struct buf *b, enum bounce_kind kind, struct qfile *q)
{
	const char *ret = qfile_attr(q, QATTR_RET);
	bool full = kind == BOUNCE_FAILED && !(ret && strcasecmp(ret, "HDRS") == 0);
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
		   full ? "message/rfc822" : "text/rfc822-headers");
	if (eight)
		buf_puts(b, "Content-Transfer-Encoding: 8bit\n");
	buf_putc(b, '\n');
	buf_append(b, text.data, text.len);
	buf_free(&text);
	return eight;
}

/* wanted - recipients this kind of notice may mention (NOTIFY) */
static size_t wanted(enum bounce_kind kind, struct qfile *q, const struct queue_log_entry *v,
		     size_t n, struct queue_log_entry *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned nf;

		if (v[i].index >= q->nrcpt)
			continue;
		nf = q->rcpt[v[i].index].notify;
		if (nf & QFILE_NOTIFY_NEVER)
			continue;
		if (kind == BOUNCE_FAILED && nf && !(nf & QFILE_NOTIFY_FAILURE))
			continue;
		out[k++] = v[i];
	}
	return k;
}

/* notice_rcpt - to whom, from whom; false when the notice is dropped */
static bool notice_rcpt(struct qmgr *m, enum bounce_kind kind, struct qfile *q,
			const char **to, const char **from, const char **who)
{
	struct strv classes = STRV_INIT;
	bool two;

	*from = "";
	*who = "sender";
	*to = q->sender;
	if (*q->sender && !is_double_bounce(m, q->sender))
		return true;
	if (kind != BOUNCE_FAILED || is_double_bounce(m, q->sender)) {
		if (kind == BOUNCE_FAILED)
			log_info("%s: discarding undeliverable double bounce", q->id);
		return false;
	}
	config_list(m->cf, "notify_classes", &classes);
	two = strv_contains_case(&classes, "2bounce");
	strv_free(&classes);
	if (!two) {
		log_info("%s: undeliverable bounce discarded (notify_classes lacks 2bounce)", q->id);
		return false;
	}
	*to = config_str(m->cf, "2bounce_notice_recipient");
	*from = config_str(m->cf, "double_bounce_sender");
	*who = "postmaster";
	return true;
}

/* bounce_notify - build and queue one notice for the listed recipients */
int bounce_notify(struct qmgr *m, struct qfile *q, enum bounce_kind kind,
		  const struct queue_log_entry *entries, size_t n, char *new_id, size_t idsize)
{
	struct queue_log_entry *v = xcalloc(n + 1, sizeof(*v));
	struct buf body = BUF_INIT, err = BUF_INIT, boundary = BUF_INIT;
	struct qfile_writer *w;
	const char *to, *from, *who;
	char date[64];
	bool eight;
	int rc = -1;

	n = wanted(kind, q, entries, n, v);
	if (n == 0 || !notice_rcpt(m, kind, q, &to, &from, &who)) {
		free(v);
		return 0;
	}
	if ((w = qfile_create(m->qdir, "incoming", &err)) == NULL) {
		log_warn("%s: cannot create a notification: %s", q->id, buf_cstr(&err));
		goto out;
	}
	qfile_set_sender(w, from);
	qfile_add_rcpt(w, to, NULL, NULL, QFILE_NOTIFY_NEVER);
	qfile_add_attr(w, QATTR_NOTICE, kind == BOUNCE_FAILED ? (*from ? "2bounce" : "bounce")
					: kind == BOUNCE_DELAYED ? "delay" : "success");
	rfc_date(date, sizeof(date), time(NULL));
	buf_printf(&boundary, "%s.%lld/%s", qfile_writer_id(w), (long long)time(NULL),
		   m->myhostname);
	buf_printf(&body, "From: MAILER-DAEMON@%s (Mail Delivery System)\nTo: %s\nSubject: %s\n"
			  "Date: %s\nMessage-Id: <%s@%s>\nAuto-Submitted: auto-replied\n"
			  "MIME-Version: 1.0\nContent-Type: multipart/report; "
			  "report-type=delivery-status;\n\tboundary=\"%s\"\n",
		   m->myhostname, to, texts[kind].subject, date, qfile_writer_id(w), m->myhostname,
		   boundary.data);
	{
		struct buf parts = BUF_INIT;

		buf_printf(&parts, "\nA delivery status report in MIME format (RFC 3464).\n\n--%s\n", boundary.data);
		human_part(m, &parts, kind, q, v, n);
		buf_printf(&parts, "--%s\n", boundary.data);
		status_part(m, &parts, kind, q, v, n);
		buf_printf(&parts, "--%s\n", boundary.data);
		eight = original_part(m, &parts, kind, q);
		buf_printf(&parts, "\n--%s--\n", boundary.data);
		buf_puts(&body, eight ? "Content-Transfer-Encoding: 8bit\n" : "");
		buf_append(&body, parts.data, parts.len);
		buf_free(&parts);
	}
	if (eight)
		qfile_add_attr(w, QATTR_8BIT, "1");
	snprintf(new_id, idsize, "%s", qfile_writer_id(w));
	if (qfile_append(w, body.data, body.len) < 0 || qfile_commit(&w, &err) < 0) {
		log_warn("%s: cannot queue a notification: %s", q->id, buf_cstr(&err));
		qfile_abort(&w);
		goto out;
	}
	log_info("%s: %s %s notification: %s", q->id, who,
		 kind == BOUNCE_FAILED ? "non-delivery" : kind == BOUNCE_DELAYED ? "delay"
										: "delivery status",
		 new_id);
	rc = 0;
out:
	free(v);
	buf_free(&body);
	buf_free(&err);
	buf_free(&boundary);
	return rc;
}
