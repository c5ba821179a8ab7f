/*
 * smtpd_notice - postmaster notices about SMTP sessions (notify_classes).
 *
 * While notify_classes names a class smtpd reports (bounce, policy,
 * protocol, resource), the session keeps a transcript (flushed past smtpd_history_flush_threshold lines at EHLO,
 * RSET and the end of DATA; AUTH arguments left out) and the classes of
 * its error replies, judged by their enhanced status codes; at the end a
 * session with an error of a listed class sends the transcript to
 * error_notice_recipient (bounce_notice_recipient when only "bounce"
 * errors matched) through cleanup, from double_bounce_sender. The
 * session code calls in here for each command line and reply and at its
 * end; the wording of the notice is ours, its shape Postfix's.
 *
 * Public (smtpd.h): smtpd_notice_in, smtpd_notice_out, smtpd_notice_flush,
 * smtpd_notice_send.
 * Trouble: a notice that cannot be queued is logged as a warning; the
 * session it is about has ended already.
 */
#include "smtpd/smtpd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup/cleanup.h"
#include "lib/log.h"
#include "mail/notify.h"

#define NOTICE_CLASSES (NOTIFY_BOUNCE | NOTIFY_POLICY | NOTIFY_PROTOCOL | NOTIFY_RESOURCE)
#define TRANSCRIPT_MAX	5000	/* lines; a client that never flushes stops adding */

/* notice_class - the notify_classes class of an error reply, from its
 * enhanced status code as Postfix's smtpd flags such errors: syntax and
 * sequence protocol, X.3.0/X.3.1 (queue file, disk space) resource, an
 * unknown address or a too big message bounce, other rejects policy.
 * Nothing smtpd says is "software" in Postfix 3.7's sense. */
static unsigned notice_class(const char *r)
{
	unsigned subject, detail;
	char cls;

	if ((r[0] != '4' && r[0] != '5') || strlen(r) < 5)
		return 0;
	if (sscanf(r + 4, "%c.%u.%u", &cls, &subject, &detail) != 3 || cls != r[0])
		return r[0] == '5' ? NOTIFY_PROTOCOL : 0;	/* "501 Syntax: HELO hostname" */
	if (subject == 5 || subject == 6 || (subject == 1 && (detail == 3 || detail == 7)))
		return NOTIFY_PROTOCOL;
	if (subject == 3)	/* a restriction's broken table (X.3.5) is policy too */
		return detail <= 1 ? NOTIFY_RESOURCE : detail == 4 ? NOTIFY_BOUNCE
		       : detail == 5 ? NOTIFY_POLICY : 0;
	if (subject == 1 && detail <= 1 && cls == '5')
		return NOTIFY_BOUNCE;
	return subject == 1 || subject == 2 || subject == 7 ? NOTIFY_POLICY : 0;
}

/* transcript_add - one line of the session, for a postmaster notice */
static void transcript_add(struct smtpd_session *s, const char *dir, const char *text,
			   size_t len)
{
	if (!(s->srv->set.notify_classes & NOTICE_CLASSES) || s->transcript_lines >= TRANSCRIPT_MAX)
		return;
	buf_printf(&s->transcript, " %s %.*s\n", dir, (int)(len < 1000 ? len : 1000), text);
	s->transcript_lines++;
}

/* smtpd_notice_flush - drop a long history (EHLO, RSET, end of DATA) */
void smtpd_notice_flush(struct smtpd_session *s)
{
	if (s->transcript_lines > (unsigned long)s->srv->set.history_flush) {
		buf_free(&s->transcript);
		s->transcript_lines = 0;
	}
}

/* smtpd_notice_in - a command line; of AUTH only the verb and mechanism,
 * never a credential */
void smtpd_notice_in(struct smtpd_session *s, const char *line, enum smtpd_verb v)
{
	const char *sp = strchr(line, ' ');
	const char *end = v == VERB_AUTH && sp ? strchr(sp + 1, ' ') : NULL;

	if (v == VERB_EHLO)
		smtpd_notice_flush(s);
	transcript_add(s, "In: ", line, end ? (size_t)(end - line) : strlen(line));
}

/* smtpd_notice_out - a reply line: recorded, and its error class noted */
void smtpd_notice_out(struct smtpd_session *s, const char *text)
{
	transcript_add(s, "Out:", text, strlen(text));
	s->notice_errors |= notice_class(text);
}

/* notice_done - the transcript notice is queued, or not */
static void notice_done(void *ctx, int status, const char *queue_id, const char *reply)
{
	char *what = ctx;

	if (status == 0)
		log_info("%s: postmaster notice %s", queue_id, what);
	else
		log_warn("cannot queue a postmaster notice %s: %s", what, reply ? reply : "");
	free(what);
}

/* notice_line - one formatted line of the notice into cleanup */
static void notice_line(struct cleanup *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void notice_line(struct cleanup *c, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&line, fmt, ap);
	va_end(ap);
	cleanup_line(c, buf_cstr(&line), line.len);
	buf_free(&line);
}

/* smtpd_notice_send - the transcript to the postmaster, when notify_classes
 * asks; the session's transcript is released either way */
void smtpd_notice_send(struct smtpd_session *s)
{
	unsigned hit = s->notice_errors & s->srv->set.notify_classes;
	const char *to = notify_recipient(s->srv->cf, hit & ~NOTIFY_BOUNCE ? NOTIFY_POLICY
									    : NOTIFY_BOUNCE);
	struct cleanup_client cc = { .proto = "local", .name = "localhost" };
	struct buf err = BUF_INIT, what = BUF_INIT;
	struct cleanup *c;
	const char *p, *nl;

	if (hit == 0) {
		buf_free(&s->transcript);
		return;
	}
	if ((c = cleanup_open(s->srv->cf, &cc, &err)) == NULL) {
		log_warn("cannot queue a postmaster notice about %s: %s", s->namaddr,
			 buf_cstr(&err));
		buf_free(&err);
		buf_free(&s->transcript);
		return;
	}
	cleanup_sender(c, config_str(s->srv->cf, "double_bounce_sender"), NULL, NULL, 0, false);
	cleanup_recipient(c, to, NULL, CLEANUP_NOTIFY_NEVER);
	notice_line(c, "From: Mail Delivery System <MAILER-DAEMON@%s>", s->srv->set.myhostname);
	notice_line(c, "To: Postmaster <%s>", to);
	notice_line(c, "Subject: Outpost SMTP server: errors from %s", s->namaddr);
	notice_line(c, "%s", "");
	notice_line(c, "The SMTP session with %s went as follows.", s->namaddr);
	notice_line(c, "%s", "");
	for (p = buf_cstr(&s->transcript); *p; p = nl + 1) {
		nl = strchr(p, '\n');
		cleanup_line(c, p, (size_t)(nl - p));
	}
	notice_line(c, "%s", "");
	notice_line(c, "The mail log of %s has the details.", s->srv->set.myhostname);
	buf_printf(&what, "to=<%s> client=%s", to, s->namaddr);
	cleanup_finish(c, notice_done, buf_steal(&what));
	buf_free(&err);
	buf_free(&s->transcript);
}
