/*
 * smtpd_cmd_ehlo - HELO and EHLO: the client's name, the helo-stage
 * restrictions, and the ESMTP keywords this session offers (minus
 * smtpd_discard_ehlo_keywords).
 *
 * Public: smtpd_cmd_helo, smtpd_cmd_ehlo.
 * Bad input: "501 Syntax: HELO hostname" / "501 Syntax: EHLO hostname".
 */
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "smtpd/smtpd.h"
#include "smtpd/smtpd_reply.h"
#include "smtpd/smtpd_sasl.h"

/* discarded - is this keyword in smtpd_discard_ehlo_keywords? */
static bool discarded(const struct smtpd_session *s, const char *kw)
{
	return strv_contains_case(&s->srv->set.discard_ehlo, kw);
}

/* add_kw - one "250-KEYWORD" line unless discarded */
static void add_kw(struct smtpd_session *s, struct strv *lines, const char *kw,
		   const char *text)
{
	if (!discarded(s, kw))
		strv_push(lines, text ? text : kw);
}

/* ehlo_reply - the multi-line 250 of EHLO */
static void ehlo_reply(struct smtpd_session *s)
{
	const struct smtpd_settings *set = &s->srv->set;
	struct strv lines = STRV_INIT;
	struct buf b = BUF_INIT;

	add_kw(s, &lines, "PIPELINING", NULL);
	if (set->message_size_limit > 0)
		buf_printf(&b, "SIZE %ld", set->message_size_limit);
	else
		buf_set(&b, "SIZE");
	add_kw(s, &lines, "SIZE", buf_cstr(&b));
	if (!set->disable_vrfy)
		add_kw(s, &lines, "VRFY", NULL);
	add_kw(s, &lines, "ETRN", NULL);
	if (!s->tls && s->srv->tls_ctx && set->tls_level != TLS_NONE)
		add_kw(s, &lines, "STARTTLS", NULL);
	if (smtpd_auth_offered(s)) {
		struct strv mechs = STRV_INIT;
		char *list;

		smtpd_sasl_mechs(s->srv->sasl, s->tls ? set->sasl_tls_noplaintext : set->sasl_noplaintext,
				 s->tls ? set->sasl_tls_noanonymous : set->sasl_noanonymous, &mechs);
		list = strv_join(&mechs, " ");
		buf_reset(&b);
		buf_printf(&b, "AUTH %s", list);
		if (mechs.n)	/* none known (backend down): say nothing */
			add_kw(s, &lines, "AUTH", buf_cstr(&b));
		if (mechs.n && set->broken_sasl_clients) {
			buf_reset(&b);
			buf_printf(&b, "AUTH=%s", list);
			add_kw(s, &lines, "AUTH", buf_cstr(&b));
		}
		free(list);
		strv_free(&mechs);
	}
	add_kw(s, &lines, "ENHANCEDSTATUSCODES", NULL);
	add_kw(s, &lines, "8BITMIME", NULL);
	add_kw(s, &lines, "DSN", NULL);
	if (set->smtputf8)
		add_kw(s, &lines, "SMTPUTF8", NULL);
	buf_reset(&b);
	buf_printf(&b, "250%c%s", lines.n ? '-' : ' ', set->myhostname);
	smtpd_reply_raw(s, buf_cstr(&b));
	for (size_t i = 0; i < lines.n; i++) {
		buf_reset(&b);
		buf_printf(&b, "250%c%s", i + 1 < lines.n ? '-' : ' ', lines.v[i]);
		smtpd_reply_raw(s, buf_cstr(&b));
	}
	smtpd_count_ok(s, s->last_verb);
	buf_free(&b);
	strv_free(&lines);
}

/* helo_checked - helo-stage verdict is in */
static void helo_checked(void *ctx, struct smtpd_verdict *v)
{
	struct smtpd_session *s = ctx;

	s->run = NULL;
	if (s->state == S_WAIT)
		s->state = S_CMD;
	if (v->decision != SMTPD_OK) {
		smtpd_log_reject(s, s->esmtp ? "EHLO" : "HELO",
				 v->log.len ? buf_cstr(&v->log) : buf_cstr(&v->reply));
		xfree(&s->helo);
		smtpd_reply_error(s, buf_cstr(&v->reply));
		if (v->decision == SMTPD_DISCONNECT)
			smtpd_close_after_reply(s);
	} else if (s->esmtp) {
		ehlo_reply(s);
	} else {
		smtpd_reply(s, "250 %s", s->srv->set.myhostname);
	}
	smtpd_resume(s);
}

/* utf8_seq_len - length of the valid UTF-8 sequence at p, 0 if none */
static size_t utf8_seq_len(const unsigned char *p)
{
	size_t n = *p >= 0xc2 && *p <= 0xdf ? 2 : *p >= 0xe0 && *p <= 0xef ? 3
		 : *p >= 0xf0 && *p <= 0xf4 ? 4 : 0;

	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * helo_neuter - the name goes into Received:, logs and policy requests:
 * like Postfix, control characters (a bare CR too), the characters that
 * could fake a header comment or an address, and 8-bit bytes that are not
 * UTF-8 (all 8-bit bytes without smtputf8_enable) become '?'.
 */
static void helo_neuter(char *name, bool utf8)
{
	for (unsigned char *p = (unsigned char *)name; *p; p++) {
		size_t n = *p >= 0x80 && utf8 ? utf8_seq_len(p) : 0;

		if (n > 0)
			p += n - 1;
		else if (*p < ' ' || *p >= 0x7f || strchr("<>()\\\";@", *p) != NULL)
			*p = '?';
	}
}

/* hello - shared HELO/EHLO: remember the name, reset, check */
static void hello(struct smtpd_session *s, const struct smtpd_cmdline *c, bool esmtp)
{
	struct smtpd_facts f;
	size_t n = strcspn(c->arg, " \t");

	if (n == 0) {
		smtpd_reply_error(s, esmtp ? R_EHLO_SYNTAX : R_HELO_SYNTAX);
		return;
	}
	smtpd_transaction_reset(s);
	free(s->helo);
	s->helo = xstrndup(c->arg, n);
	helo_neuter(s->helo, s->srv->set.smtputf8);
	s->esmtp = esmtp;
	s->state = S_WAIT;
	smtpd_fill_facts(s, &f);
	s->run = smtpd_check_run(s->checks, SMTPD_STAGE_HELO, &f, helo_checked, s);
}

/* smtpd_cmd_helo - HELO name */
void smtpd_cmd_helo(struct smtpd_session *s, const struct smtpd_cmdline *c)
{
	hello(s, c, false);
}

/* smtpd_cmd_ehlo - EHLO name */
void smtpd_cmd_ehlo(struct smtpd_session *s, const struct smtpd_cmdline *c)
{
	hello(s, c, true);
}
