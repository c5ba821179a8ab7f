/*
 * smtpd_cmd_mail - MAIL FROM: sender, ESMTP parameters, size and rate
 * limits, then the sender-stage restrictions.
 *
 * Public: smtpd_cmd_mail, smtpd_parse_allow, smtpd_tls_required.
 * Bad input: Postfix's 501/503/552/555 replies (smtpd_reply.h).
 */
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "smtpd/smtpd.h"
#include "smtpd/smtpd_anvil.h"
#include "smtpd/smtpd_effects.h"
#include "smtpd/smtpd_reply.h"

/* smtpd_parse_allow - which ESMTP parameters this session accepts */
unsigned smtpd_parse_allow(const struct smtpd_session *s)
{
	const struct smtpd_settings *set = &s->srv->set;
	unsigned allow = SMTPD_PARSE_8BITMIME | SMTPD_PARSE_AUTH;

	if (!strv_contains_case(&set->discard_ehlo, "DSN"))
		allow |= SMTPD_PARSE_DSN;
	if (set->smtputf8)
		allow |= SMTPD_PARSE_SMTPUTF8;
	if (set->strict_rfc821)
		allow |= SMTPD_PARSE_STRICT;
	if (set->strict_smtputf8)
		allow |= SMTPD_PARSE_STRICT_UTF8;
	return allow;
}

/* smtpd_tls_required - smtpd_tls_security_level = encrypt without TLS yet */
bool smtpd_tls_required(struct smtpd_session *s)
{
	if (s->srv->set.tls_level != TLS_ENCRYPT || s->tls)
		return false;
	smtpd_reply_error(s, R_TLS_REQUIRED);
	return true;
}

/* mail_checked - sender-stage verdict is in */
static void mail_checked(void *ctx, struct smtpd_verdict *v)
{
	struct smtpd_session *s = ctx;

	s->run = NULL;
	if (s->state == S_WAIT)
		s->state = S_CMD;
	if (v->decision == SMTPD_OK) {
		smtpd_effects_take(s, v);
		smtpd_reply(s, R_SENDER_OK);
	} else {
		struct buf log = BUF_INIT;

		if (v->log.len)
			buf_set(&log, buf_cstr(&v->log));
		else
			buf_printf(&log, "%s; from=<%s> proto=%s helo=<%s>", buf_cstr(&v->reply),
				   s->sender, smtpd_proto_name(s), s->helo ? s->helo : "");
		smtpd_log_reject(s, "MAIL", buf_cstr(&log));
		buf_free(&log);
		xfree(&s->sender);
		smtpd_reply_error(s, buf_cstr(&v->reply));
		if (v->decision == SMTPD_DISCONNECT)
			smtpd_close_after_reply(s);
	}
	smtpd_resume(s);
}

/* size_ok - SIZE= against message_size_limit */
static bool size_ok(struct smtpd_session *s)
{
	long limit = s->srv->set.message_size_limit;

	if (limit <= 0 || s->mail.size <= limit)
		return true;
	log_info("NOQUEUE: reject: MAIL from %s: %s; from=<%s> proto=%s helo=<%s>", s->namaddr,
		 R_SIZE_LIMIT, buf_cstr(&s->mail.path.addr), smtpd_proto_name(s),
		 s->helo ? s->helo : "");
	smtpd_reply_error(s, R_SIZE_LIMIT);
	return false;
}

/* rate_ok - smtpd_client_message_rate_limit */
static bool rate_ok(struct smtpd_session *s)
{
	long limit = s->srv->set.msg_rate_limit;
	unsigned n;

	if (limit <= 0 || s->limit_exempt)
		return true;
	n = smtpd_anvil_event(s->srv->anvil, s->addr, ANVIL_MAIL, time(NULL));
	if (n <= (unsigned)limit)
		return true;
	log_warn("Message delivery request rate limit exceeded: %u from %s for service %s", n,
		 s->namaddr, s->srv->service);
	smtpd_reply(s, R_MAIL_RATE, s->addr);
	s->errors++;
	return false;
}

/* smtpd_cmd_mail - MAIL FROM:<sender> [SIZE=n BODY=… AUTH=… RET=… ENVID=… SMTPUTF8] */
void smtpd_cmd_mail(struct smtpd_session *s, const struct smtpd_cmdline *c)
{
	struct buf reply = BUF_INIT;
	struct smtpd_facts f;

	if (s->srv->set.helo_required && s->helo == NULL) {
		smtpd_reply_error(s, R_SEND_HELO);
		return;
	}
	if (s->sender) {
		smtpd_reply_error(s, R_NESTED_MAIL);
		return;
	}
	if (smtpd_tls_required(s))
		return;
	smtpd_transaction_reset(s);
	if (smtpd_parse_mail(c->arg, smtpd_parse_allow(s), &s->mail, &reply) < 0) {
		smtpd_reply_error(s, buf_cstr(&reply));
		buf_free(&reply);
		smtpd_mailparams_free(&s->mail);
		smtpd_mailparams_init(&s->mail);
		return;
	}
	buf_free(&reply);
	if (!size_ok(s) || !rate_ok(s)) {
		smtpd_mailparams_free(&s->mail);
		smtpd_mailparams_init(&s->mail);
		return;
	}
	/* RFC 4954: AUTH= from an unauthenticated client is not trusted. */
	if (s->mail.auth_given && s->sasl_username == NULL)
		buf_reset(&s->mail.auth);
	s->sender = xstrdup(buf_cstr(&s->mail.path.addr));
	s->state = S_WAIT;
	smtpd_fill_facts(s, &f);
	s->run = smtpd_check_run(s->checks, SMTPD_STAGE_MAIL, &f, mail_checked, s);
}
