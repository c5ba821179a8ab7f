/*
 * smtpd_cmd_misc - the small verbs: RSET, NOOP, QUIT, VRFY, ETRN.
 *
 * Public: smtpd_cmd_rset, smtpd_cmd_noop, smtpd_cmd_quit, smtpd_cmd_vrfy,
 * smtpd_cmd_etrn.
 *
 * VRFY (unless disable_vrfy_command) runs the recipient restrictions on
 * the address and answers 252 like Postfix: it never confirms a mailbox.
 * ETRN is answered after the client/ETRN restrictions; this smtpd has no
 * fast-flush service, so no domain is eligible and the reply is Postfix's
 * "459 <domain>: service unavailable" rather than a pretended success.
 */
#include <string.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "smtpd/smtpd.h"
#include "smtpd/smtpd_reply.h"

/* smtpd_cmd_rset - RSET */
void smtpd_cmd_rset(struct smtpd_session *s, const struct smtpd_cmdline *c)
{
	if (*c->arg) {
		smtpd_reply_error(s, R_RSET_SYNTAX);
		return;
	}
	smtpd_transaction_reset(s);
	smtpd_reply(s, R_DONE);
}

/* smtpd_cmd_noop - NOOP (arguments are allowed and ignored, RFC 5321) */
void smtpd_cmd_noop(struct smtpd_session *s, const struct smtpd_cmdline *c)
{
	(void)c;
	smtpd_reply(s, R_DONE);
}

/* smtpd_cmd_quit - QUIT */
void smtpd_cmd_quit(struct smtpd_session *s, const struct smtpd_cmdline *c)
{
	(void)c;
	smtpd_reply(s, R_BYE);
	smtpd_close_after_reply(s);
}

/* vrfy_checked - recipient restrictions on the VRFY address */
static void vrfy_checked(void *ctx, struct smtpd_verdict *v)
{
	struct smtpd_session *s = ctx;

	s->run = NULL;
	s->state = S_CMD;
	if (v->decision == SMTPD_OK) {
		smtpd_reply(s, R_VRFY_OK, s->rcpt);
	} else {
		smtpd_log_reject(s, "VRFY", v->log.len ? buf_cstr(&v->log) : buf_cstr(&v->reply));
		smtpd_reply_error(s, buf_cstr(&v->reply));
		if (v->decision == SMTPD_DISCONNECT)
			smtpd_close_after_reply(s);
	}
	xfree(&s->rcpt);
	smtpd_resume(s);
}

/* smtpd_cmd_vrfy - VRFY address */
void smtpd_cmd_vrfy(struct smtpd_session *s, const struct smtpd_cmdline *c)
{
	struct smtpd_mailparams m;
	struct buf reply = BUF_INIT, arg = BUF_INIT;
	struct smtpd_facts f;
	const char *rest, *err;

	if (s->srv->set.disable_vrfy) {
		smtpd_reply_error(s, R_VRFY_DISABLED);
		return;
	}
	if (*c->arg == '\0') {
		smtpd_reply_error(s, s->srv->set.smtputf8 ? R_VRFY_SYNTAX_UTF8 : R_VRFY_SYNTAX);
		return;
	}
	smtpd_mailparams_init(&m);
	if (addr_parse_path(c->arg, 0, &m.path, &rest, &err) < 0 || *rest ||
	    (m.path.flags & ADDR_F_NULL)) {
		buf_printf(&reply, "%s", R_BAD_RCPT);
		smtpd_reply_error(s, buf_cstr(&reply));
		buf_free(&reply);
		smtpd_mailparams_free(&m);
		return;
	}
	buf_free(&arg);
	free(s->rcpt);
	s->rcpt = xstrdup(buf_cstr(&m.path.addr));
	smtpd_mailparams_free(&m);
	s->state = S_WAIT;
	smtpd_fill_facts(s, &f);
	s->run = smtpd_check_run(s->checks, SMTPD_STAGE_VRFY, &f, vrfy_checked, s);
}

/* etrn_checked - ETRN restrictions are in */
static void etrn_checked(void *ctx, struct smtpd_verdict *v)
{
	struct smtpd_session *s = ctx;

	s->run = NULL;
	s->state = S_CMD;
	if (v->decision == SMTPD_OK) {
		/* No fast-flush service: no domain is eligible, as Postfix says
		 * for domains outside fast_flush_domains. */
		struct buf b = BUF_INIT;

		buf_printf(&b, R_ETRN_UNAVAILABLE, s->etrn_domain ? s->etrn_domain : "");
		smtpd_reply_error(s, buf_cstr(&b));
		buf_free(&b);
	} else {
		smtpd_log_reject(s, "ETRN", v->log.len ? buf_cstr(&v->log) : buf_cstr(&v->reply));
		smtpd_reply_error(s, buf_cstr(&v->reply));
		if (v->decision == SMTPD_DISCONNECT)
			smtpd_close_after_reply(s);
	}
	smtpd_resume(s);
}

/* smtpd_cmd_etrn - ETRN domain */
void smtpd_cmd_etrn(struct smtpd_session *s, const struct smtpd_cmdline *c)
{
	struct smtpd_facts f;

	if (*c->arg == '\0' || strchr(c->arg, ' ')) {
		smtpd_reply_error(s, R_ETRN_SYNTAX);
		return;
	}
	if (s->helo == NULL && s->srv->set.helo_required) {
		smtpd_reply_error(s, "503 Error: send HELO/EHLO first");
		return;
	}
	if (s->sender) {
		smtpd_reply_error(s, "503 Error: MAIL transaction in progress");
		return;
	}
	free(s->etrn_domain);
	s->etrn_domain = xstrdup(c->arg);
	s->state = S_WAIT;
	smtpd_fill_facts(s, &f);
	f.etrn_domain = s->etrn_domain;
	s->run = smtpd_check_run(s->checks, SMTPD_STAGE_ETRN, &f, etrn_checked, s);
}
