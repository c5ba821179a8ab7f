/*
 * smtpd_cmd_data - DATA: the data-stage restrictions, 354, message
 * content (dot-unstuffed, size-limited, CRLF.CRLF only), the
 * end-of-data restrictions, and the durable hand-off: the 250 is sent
 * only from cleanup_finish()'s callback, after the queue file is on disk.
 *
 * Public: smtpd_cmd_data, smtpd_data_line, smtpd_data_end.
 *
 * Bad input: "503 5.5.1 Error: need RCPT command", "554 5.5.1 Error: no
 * valid recipients", "552 5.3.4 Message size exceeds fixed limit" (the
 * content is read to its end and dropped). A bare LF never reaches here
 * with smtpd_forbid_bare_newline (the session refuses it), so only
 * <CR><LF>.<CR><LF> ends the message: no SMTP smuggling.
 */
#include <string.h>

#include "cleanup/cleanup.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "smtpd/smtpd.h"
#include "smtpd/smtpd_effects.h"
#include "smtpd/smtpd_reply.h"

/* reject_log - "QUEUEID: reject: STAGE from host[addr]: reply; from=<> to=<> …" */
static void reject_log(struct smtpd_session *s, const char *stage, const struct smtpd_verdict *v,
		       const char *reply)
{
	struct buf log = BUF_INIT;

	if (v && v->log.len)
		buf_set(&log, buf_cstr(&v->log));
	else
		buf_printf(&log, "%s; from=<%s> proto=%s helo=<%s>", reply,
			   s->sender ? s->sender : "", smtpd_proto_name(s), s->helo ? s->helo : "");
	smtpd_log_reject(s, stage, buf_cstr(&log));
	buf_free(&log);
}

/* data_checked - data-stage verdict: 354 or the rejection */
static void data_checked(void *ctx, struct smtpd_verdict *v)
{
	struct smtpd_session *s = ctx;

	s->run = NULL;
	if (v->decision != SMTPD_OK) {
		s->state = S_CMD;
		reject_log(s, "DATA", v, buf_cstr(&v->reply));
		smtpd_reply_error(s, buf_cstr(&v->reply));
		if (v->decision == SMTPD_DISCONNECT)
			smtpd_close_after_reply(s);
		smtpd_resume(s);
		return;
	}
	smtpd_effects_take(s, v);
	s->msg_size = 0;
	s->msg_too_big = false;
	s->data_error = false;
	s->data_cont = false;
	s->state = S_DATA;
	smtpd_reply(s, R_DATA_GO);
	smtpd_deadline_start(s);
	smtpd_resume(s);
}

/* smtpd_cmd_data - DATA */
void smtpd_cmd_data(struct smtpd_session *s, const struct smtpd_cmdline *c)
{
	struct smtpd_facts f;

	if (*c->arg) {
		smtpd_reply_error(s, R_DATA_SYNTAX);
		return;
	}
	/* Postfix's order: no MAIL is "need RCPT", MAIL without an accepted
	 * recipient is "no valid recipients". */
	if (s->sender == NULL) {
		smtpd_reply_error(s, R_NEED_RCPT);
		return;
	}
	if (s->rcpt_count == 0) {
		smtpd_reply_error(s, R_NO_VALID_RCPT);
		return;
	}
	s->state = S_WAIT;
	smtpd_fill_facts(s, &f);
	s->run = smtpd_check_run(s->checks, SMTPD_STAGE_DATA, &f, data_checked, s);
}

/* smtpd_data_line - one content line, or (cont) the next piece of an
 * over-long line, which cleanup joins to the piece before */
void smtpd_data_line(struct smtpd_session *s, const char *line, size_t len, bool cont)
{
	long limit = s->srv->set.message_size_limit;

	if (!cont && line[0] == '.') {
		if (len == 1) {
			smtpd_data_end(s);
			return;
		}
		line++;
		len--;
	}
	s->msg_size += (long)len + 2;
	if (limit > 0 && s->msg_size > limit)
		s->msg_too_big = true;
	if (s->msg_too_big || s->data_error || s->cleanup == NULL)
		return;
	if ((cont ? cleanup_line_cont(s->cleanup, line, len) : cleanup_line(s->cleanup, line, len)) != 0)
		s->data_error = true;
}

/* finished - the queue file is durable (or failed): the final reply */
static void finished(void *ctx, int status, const char *queue_id, const char *reply)
{
	struct smtpd_session *s = ctx;

	s->finishing = false;
	if (s->free_pending) {
		smtpd_session_release(s);
		return;
	}
	s->state = S_CMD;
	if (status == 0) {
		struct buf b = BUF_INIT;

		buf_printf(&b, R_QUEUED, queue_id);
		smtpd_reply_raw(s, buf_cstr(&b));
		buf_free(&b);
		s->delivered = true;
		smtpd_count_ok(s, VERB_DATA);
	} else {
		log_warn("%s: %s: queue file not committed: %s", queue_id ? queue_id : "NOQUEUE",
			 s->namaddr, reply ? reply : "");
		smtpd_reply_error(s, reply && *reply ? reply : R_QUEUE_WRITE);
	}
	smtpd_transaction_reset(s);
	smtpd_resume(s);
}

/* eod_checked - end-of-data verdict: commit the message or refuse it */
static void eod_checked(void *ctx, struct smtpd_verdict *v)
{
	struct smtpd_session *s = ctx;
	struct cleanup *c;

	s->run = NULL;
	if (v->decision != SMTPD_OK) {
		s->state = S_CMD;
		reject_log(s, "END-OF-MESSAGE", v, buf_cstr(&v->reply));
		smtpd_reply_error(s, buf_cstr(&v->reply));
		smtpd_transaction_reset(s);
		if (v->decision == SMTPD_DISCONNECT)
			smtpd_close_after_reply(s);
		smtpd_resume(s);
		return;
	}
	smtpd_effects_take(s, v);
	c = s->cleanup;
	s->cleanup = NULL;
	s->finishing = true;
	cleanup_finish(c, finished, s);
}

/* smtpd_data_end - "." seen: limits, end-of-data checks, then the commit */
void smtpd_data_end(struct smtpd_session *s)
{
	struct smtpd_facts f;

	s->state = S_WAIT;
	if (s->msg_too_big || s->data_error || s->cleanup == NULL) {
		const char *r = s->msg_too_big ? R_SIZE_LIMIT : R_QUEUE_WRITE;

		s->state = S_CMD;
		reject_log(s, "END-OF-MESSAGE", NULL, r);
		smtpd_reply_error(s, r);
		smtpd_transaction_reset(s);
		return;
	}
	smtpd_fill_facts(s, &f);
	f.size = s->msg_size;
	s->run = smtpd_check_run(s->checks, SMTPD_STAGE_END_OF_DATA, &f, eod_checked, s);
}
