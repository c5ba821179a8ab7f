/*
 * smtpd_cmd_rcpt - RCPT TO: recipient, DSN parameters, recipient limits,
 * the recipient-stage restrictions (with delayed client/helo/sender
 * checks), and on the first accepted recipient the queue file.
 *
 * Public: smtpd_cmd_rcpt.
 * Bad input: Postfix's 501/503/452/553 replies; rejections are logged as
 * "NOQUEUE: reject: RCPT from host[addr]: …; from=<…> to=<…> proto=… helo=<…>".
 */
#include <string.h>
#include <time.h>

#include "cleanup/cleanup.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "smtpd/smtpd.h"
#include "smtpd/smtpd_anvil.h"
#include "smtpd/smtpd_effects.h"
#include "smtpd/smtpd_reply.h"

/* client_facts - what cleanup records about the client (tls: storage) */
static void client_facts(struct smtpd_session *s, struct cleanup_client *cc, struct buf *tls)
{
	memset(cc, 0, sizeof(*cc));
	cc->addr = s->addr;
	cc->name = s->name;
	cc->reverse_name = s->reverse_name;
	cc->port = s->port;
	cc->helo = s->helo;
	cc->proto = smtpd_proto_name(s);
	cc->sasl_method = s->sasl_method;
	cc->sasl_username = s->sasl_username;
	if (s->srv->set.tls_received_header && s->tls) {
		smtpd_tls_received(s, tls);
		cc->tls_summary = buf_cstr(tls);
	}
	cc->server_name = s->srv->set.myhostname;
}

/* open_queue_file - first accepted recipient: start the message */
static bool open_queue_file(struct smtpd_session *s)
{
	struct cleanup_client cc;
	struct buf err = BUF_INIT;
	struct buf line = BUF_INIT;
	struct buf tls = BUF_INIT;

	client_facts(s, &cc, &tls);
	s->cleanup = cleanup_open(s->srv->cf, &cc, &err);
	buf_free(&tls);
	if (s->cleanup == NULL) {
		log_warn("%s: cannot open queue file: %s", s->namaddr, buf_cstr(&err));
		smtpd_reply_error(s, err.len ? buf_cstr(&err) : R_QUEUE_WRITE);
		buf_free(&err);
		return false;
	}
	buf_free(&err);
	free(s->queue_id);
	s->queue_id = xstrdup(cleanup_queue_id(s->cleanup));
	buf_printf(&line, "%s: client=%s", s->queue_id, s->namaddr);
	if (s->sasl_username)
		buf_printf(&line, ", sasl_method=%s, sasl_username=%s", s->sasl_method,
			   s->sasl_username);
	if (s->mail.auth_given && s->mail.auth.len)
		buf_printf(&line, ", sasl_sender=%s", buf_cstr(&s->mail.auth));
	log_info("%s", buf_cstr(&line));
	buf_free(&line);
	cleanup_sender(s->cleanup, s->sender, s->mail.ret.len ? buf_cstr(&s->mail.ret) : NULL,
		       s->mail.envid.len ? buf_cstr(&s->mail.envid) : NULL, s->mail.size,
		       s->mail.smtputf8);
	cleanup_body_8bit(s->cleanup, s->mail.body_8bit);
	smtpd_effects_flush(s);
	return true;
}

/* rcpt_checked - recipient-stage verdict is in */
static void rcpt_checked(void *ctx, struct smtpd_verdict *v)
{
	struct smtpd_session *s = ctx;

	s->run = NULL;
	if (s->state == S_WAIT)
		s->state = S_CMD;
	if (v->decision == SMTPD_OK) {
		if (s->cleanup != NULL || open_queue_file(s)) {
			smtpd_effects_take(s, v);
			cleanup_recipient(s->cleanup, s->rcpt,
					  s->rcptp.orcpt.len ? buf_cstr(&s->rcptp.orcpt) : NULL,
					  s->rcptp.notify);
			s->rcpt_count++;
			smtpd_reply(s, R_RCPT_OK);
		}
	} else {
		struct buf log = BUF_INIT;

		if (v->log.len)
			buf_set(&log, buf_cstr(&v->log));
		else
			buf_printf(&log, "%s; from=<%s> to=<%s> proto=%s helo=<%s>",
				   buf_cstr(&v->reply), s->sender, s->rcpt, smtpd_proto_name(s),
				   s->helo ? s->helo : "");
		smtpd_log_reject(s, "RCPT", buf_cstr(&log));
		buf_free(&log);
		smtpd_reply_error(s, buf_cstr(&v->reply));
		if (v->decision == SMTPD_DISCONNECT)
			smtpd_close_after_reply(s);
	}
	xfree(&s->rcpt);
	smtpd_mailparams_free(&s->rcptp);
	smtpd_mailparams_init(&s->rcptp);
	smtpd_resume(s);
}

/* rcpt_limits - smtpd_recipient_limit and the recipient rate */
static bool rcpt_limits(struct smtpd_session *s)
{
	const struct smtpd_settings *set = &s->srv->set;

	if (set->recipient_limit > 0 && s->rcpt_count >= (size_t)set->recipient_limit) {
		/* RFC 5321 4.5.3.1.10: the client retries the rest later; only
		 * past smtpd_recipient_overshoot_limit is it an error. */
		if (++s->rcpt_overshoot > (size_t)set->recipient_overshoot_limit)
			smtpd_reply_error(s, R_TOO_MANY_RCPT);
		else
			smtpd_reply_raw(s, R_TOO_MANY_RCPT);
		return false;
	}
	if (set->rcpt_rate_limit > 0 && !s->limit_exempt) {
		unsigned n = smtpd_anvil_event(s->srv->anvil, s->addr, ANVIL_RCPT, time(NULL));

		if (n > (unsigned)set->rcpt_rate_limit) {
			log_warn("Recipient address rate limit exceeded: %u from %s for service %s",
				 n, s->namaddr, s->srv->service);
			smtpd_reply(s, R_RCPT_RATE, s->addr);
			s->errors++;
			return false;
		}
	}
	return true;
}

/* smtpd_cmd_rcpt - RCPT TO:<recipient> [NOTIFY=… ORCPT=…] */
void smtpd_cmd_rcpt(struct smtpd_session *s, const struct smtpd_cmdline *c)
{
	struct buf reply = BUF_INIT;
	struct smtpd_facts f;
	unsigned allow;

	if (s->sender == NULL) {
		smtpd_reply_error(s, R_NEED_MAIL);
		return;
	}
	if (smtpd_tls_required(s))
		return;
	s->rcpt_tried++;
	allow = smtpd_parse_allow(s);
	if (!s->mail.smtputf8)
		allow &= ~SMTPD_PARSE_SMTPUTF8;
	smtpd_mailparams_free(&s->rcptp);
	smtpd_mailparams_init(&s->rcptp);
	if (smtpd_parse_rcpt(c->arg, allow, &s->rcptp, &reply) < 0) {
		smtpd_reply_error(s, buf_cstr(&reply));
		buf_free(&reply);
		return;
	}
	buf_free(&reply);
	if (!rcpt_limits(s))
		return;
	free(s->rcpt);
	s->rcpt = xstrdup(buf_cstr(&s->rcptp.path.addr));
	s->state = S_WAIT;
	smtpd_fill_facts(s, &f);
	s->run = smtpd_check_run(s->checks, SMTPD_STAGE_RCPT, &f, rcpt_checked, s);
}
