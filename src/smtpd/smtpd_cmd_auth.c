/*
 * smtpd_cmd_auth - AUTH (RFC 4954): when it is offered, the 334
 * challenge/response exchange with the SASL backend, rate limits and the
 * delay on failures, and the authenticated identity for restrictions.
 *
 * Public: smtpd_cmd_auth, smtpd_auth_line, smtpd_auth_offered.
 *
 * Bad input: Postfix's replies — 503 (not enabled, before EHLO, during a
 * transaction, already authenticated), 501 (syntax, "*" abort), 535 with
 * the backend's reason, 454 for a backend that cannot answer, 450 over
 * smtpd_client_auth_rate_limit. Each failure is logged the way fail2ban
 * filters for Postfix expect ("warning: host[addr]: SASL LOGIN
 * authentication failed: …"); after smtpd_sasl_failure_limit failures
 * from one client within anvil_rate_time_unit the session ends with 421.
 */
#include <string.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "smtpd/smtpd.h"
#include "smtpd/smtpd_anvil.h"
#include "smtpd/smtpd_reply.h"
#include "smtpd/smtpd_sasl.h"

/* smtpd_auth_offered - AUTH is advertised and accepted in this session */
bool smtpd_auth_offered(const struct smtpd_session *s)
{
	const struct smtpd_settings *set = &s->srv->set;

	return set->sasl_enable && s->srv->sasl && (s->tls || !set->tls_auth_only);
}

/* fail_delay_done - the pause after a failure is over: tell the client */
static void fail_delay_done(evutil_socket_t fd, short what, void *ctx)
{
	struct smtpd_session *s = ctx;

	(void)fd;
	(void)what;
	s->state = S_CMD;
	bufferevent_enable(s->bev, EV_WRITE);
	smtpd_resume(s);
}

/* auth_failed - 535 after a pause; 421 past the failure limit */
static void auth_failed(struct smtpd_session *s, const char *reason)
{
	const struct smtpd_settings *set = &s->srv->set;
	struct buf b = BUF_INIT;
	unsigned n = smtpd_anvil_event(s->srv->anvil, s->addr, ANVIL_AUTHFAIL, time(NULL));

	log_warn("%s: SASL %s authentication failed: %s", s->namaddr, s->sasl_method_try,
		 reason);
	buf_printf(&b, R_AUTH_FAILED, reason);
	smtpd_reply_error(s, buf_cstr(&b));
	buf_free(&b);
	if (s->closing)
		return;
	if (set->auth_fail_limit > 0 && n >= (unsigned)set->auth_fail_limit) {
		log_warn("%s: too many failed AUTH attempts (%u)", s->namaddr, n);
		smtpd_reply(s, R_AUTH_FAIL_LIMIT, set->myhostname);
		smtpd_close_after_reply(s);
		return;
	}
	if (set->auth_fail_delay > 0) {
		/* Hold the 535 back: the reply sits in the output buffer, which we
		 * do not flush until the pause ends. */
		struct timeval tv = { set->auth_fail_delay, 0 };

		s->state = S_WAIT;
		bufferevent_disable(s->bev, EV_WRITE);
		evtimer_del(s->timer);
		evtimer_assign(s->timer, s->srv->base, fail_delay_done, s);
		evtimer_add(s->timer, &tv);
		return;
	}
	s->state = S_CMD;
}

/* sasl_result - one step of the backend's conversation */
static void sasl_result(void *ctx, enum sasl_result r, const char *text)
{
	struct smtpd_session *s = ctx;
	struct buf b = BUF_INIT;

	switch (r) {
	case SASL_CONTINUE:
		buf_printf(&b, R_AUTH_CHALLENGE, text);
		smtpd_reply_raw(s, buf_cstr(&b));
		s->state = S_AUTH;
		break;
	case SASL_OK:
		smtpd_sasl_free(&s->sasl);
		free(s->sasl_username);
		s->sasl_username = xstrdup(text);
		free(s->sasl_method);
		s->sasl_method = xstrdup(s->sasl_method_try);
		smtpd_reply_raw(s, R_AUTH_OK);
		smtpd_count_ok(s, VERB_AUTH);
		s->state = S_CMD;
		break;
	case SASL_TEMP:
		smtpd_sasl_free(&s->sasl);
		log_warn("%s: SASL %s authentication failed: %s", s->namaddr, s->sasl_method_try, text);
		buf_printf(&b, R_AUTH_TEMP, text);
		smtpd_reply_error(s, buf_cstr(&b));
		if (!s->closing)
			s->state = S_CMD;
		break;
	case SASL_FAIL:
		smtpd_sasl_free(&s->sasl);
		auth_failed(s, text);
		break;
	}
	buf_free(&b);
	if (s->state != S_WAIT)
		smtpd_resume(s);
}

/* auth_refused - the protocol checks of RFC 4954 and Postfix */
static bool auth_refused(struct smtpd_session *s)
{
	const char *r = NULL;

	if (!smtpd_auth_offered(s))
		r = R_AUTH_NOT_ENABLED;
	else if (s->helo == NULL)
		r = R_SEND_HELO;
	else if (s->sasl_username)
		r = R_AUTH_ALREADY;
	else if (s->sender)
		r = R_AUTH_IN_MAIL;
	if (r)
		smtpd_reply_error(s, r);
	return r != NULL;
}

/* auth_rate_ok - smtpd_client_auth_rate_limit */
static bool auth_rate_ok(struct smtpd_session *s)
{
	long limit = s->srv->set.auth_rate_limit;
	unsigned n;

	if (limit <= 0 || s->limit_exempt)
		return true;
	n = smtpd_anvil_event(s->srv->anvil, s->addr, ANVIL_AUTH, time(NULL));
	if (n <= (unsigned)limit)
		return true;
	log_warn("AUTH command rate limit exceeded: %u from %s for service %s", n, s->namaddr,
		 s->srv->service);
	smtpd_reply(s, R_AUTH_RATE, s->addr);
	s->errors++;
	return false;
}

/* smtpd_cmd_auth - AUTH mechanism [initial-response] */
void smtpd_cmd_auth(struct smtpd_session *s, const struct smtpd_cmdline *c)
{
	struct smtpd_sasl_conn conn;
	char mech[32];
	const char *initial;
	size_t n = strcspn(c->arg, " ");

	if (auth_refused(s))
		return;
	if (n == 0 || n >= sizeof(mech)) {
		smtpd_reply_error(s, R_AUTH_SYNTAX);
		return;
	}
	if (!auth_rate_ok(s))
		return;
	memcpy(mech, c->arg, n);
	mech[n] = '\0';
	for (char *p = mech; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	initial = c->arg[n] ? c->arg + n + 1 : NULL;
	if (initial && strcmp(initial, "=") == 0)
		initial = "";	/* RFC 4954: "=" is an empty initial response */
	snprintf(s->sasl_method_try, sizeof(s->sasl_method_try), "%s", mech);
	memset(&conn, 0, sizeof(conn));
	conn.client_addr = s->addr;
	conn.server_addr = s->server_addr;
	conn.client_port = s->port;
	conn.server_port = s->server_port;
	conn.tls = s->tls;
	s->state = S_WAIT;
	smtpd_sasl_start(s->srv->sasl, &conn, mech, initial, sasl_result, s, &s->sasl);
}

/* smtpd_auth_line - the client's answer to a 334 */
void smtpd_auth_line(struct smtpd_session *s, const char *line)
{
	if (strcmp(line, "*") == 0) {
		smtpd_sasl_free(&s->sasl);
		log_warn("%s: SASL %s authentication aborted", s->namaddr, s->sasl_method_try);
		s->state = S_CMD;
		smtpd_reply_error(s, R_AUTH_ABORTED);
		return;
	}
	if (strlen(line) > 12288) {
		smtpd_sasl_free(&s->sasl);
		s->state = S_CMD;
		smtpd_reply_error(s, R_AUTH_TOO_LONG);
		return;
	}
	s->state = S_WAIT;
	smtpd_sasl_step(s->sasl, line);
}
