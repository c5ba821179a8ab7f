/*
 * smtp_session - one SMTP or LMTP session with one host, event-driven
 * (libevent bufferevents; OpenSSL filter for STARTTLS and wrapper mode).
 *
 * greeting → EHLO/LHLO (HELO when EHLO is refused) → STARTTLS when the
 * TLS level asks for it or it is offered at "may" → EHLO again → AUTH when
 * credentials exist and the server offers a mechanism we may use → MAIL
 * (SIZE, BODY, RET, ENVID, SMTPUTF8) → RCPT per recipient (NOTIFY, ORCPT)
 * → DATA → content (CRLF, dot-stuffed) → "." → reply (LMTP: one per
 * accepted recipient) → QUIT. With PIPELINING, MAIL, every RCPT and DATA
 * go out together and the replies are matched in order.
 *
 * Results: a 2xx/4xx/5xx reply settles the recipients it concerns (sent,
 * deferred, bounced) with the server's reply and the command it answered,
 * as Postfix words it. Trouble with the host itself (connect, greeting,
 * TLS, AUTH, lost connection, timeout) before the message went out leaves
 * the recipients pending and marks the host failed, so the caller tries
 * the next one; after the final dot they are deferred ("message may be
 * sent more than once").
 *
 * Public: smtp_session_run.
 */
#include "deliver/smtp.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "mail/addr.h"

enum step {
	ST_GREETING, ST_EHLO, ST_HELO, ST_STARTTLS, ST_AUTH, ST_AUTH_USER,
	ST_AUTH_PASS, ST_AUTH_CRAM, ST_MAIL, ST_RCPT, ST_DATA, ST_DOT, ST_RSET, ST_QUIT,
};

static const char *const step_cmd[] = {
	[ST_GREETING] = "initial greeting", [ST_EHLO] = "EHLO", [ST_HELO] = "HELO",
	[ST_STARTTLS] = "STARTTLS", [ST_AUTH] = "AUTH", [ST_AUTH_USER] = "AUTH",
	[ST_AUTH_PASS] = "AUTH", [ST_AUTH_CRAM] = "AUTH", [ST_MAIL] = "MAIL FROM", [ST_RCPT] = "RCPT TO",
	[ST_DATA] = "DATA", [ST_DOT] = "end of DATA", [ST_RSET] = "RSET", [ST_QUIT] = "QUIT",
};

static const char *const step_doing[] = {
	[ST_GREETING] = "receiving the initial server greeting",
	[ST_EHLO] = "performing the EHLO handshake", [ST_HELO] = "performing the HELO handshake",
	[ST_STARTTLS] = "sending STARTTLS", [ST_AUTH] = "performing the AUTH handshake",
	[ST_AUTH_USER] = "performing the AUTH handshake",
	[ST_AUTH_PASS] = "performing the AUTH handshake",
	[ST_AUTH_CRAM] = "performing the AUTH handshake", [ST_MAIL] = "sending MAIL FROM",
	[ST_RCPT] = "sending RCPT TO", [ST_DATA] = "sending DATA command",
	[ST_DOT] = "sending end of data -- message may be sent more than once",
	[ST_RSET] = "sending RSET", [ST_QUIT] = "sending QUIT",
};

struct pend {
	enum step step;
	size_t rcpt;
};

struct sess {
	struct event_base *base;
	const struct smtp_settings *s;
	struct delivery *d;
	const struct smtp_host *h;
	const char *nexthop_domain;
	enum smtp_rcpt_state *states;
	const struct buf *content;
	struct smtp_session_result *res;
	struct bufferevent *bev;
	SSL *ssl;
	bool tls, tls_started, finished, dot_sent, quit_sent, mail_failed;
	struct buf level, relay, reply, user, pass, mechs;
	struct smtp_reply rp;	/* the reply being read */
	int code;
	struct pend *q;
	size_t qhead, qtail, qcap;
	bool pipelining, dsn, eightbit, smtputf8, starttls, esmtp, greeted;
	long size_limit;
	bool size_ext;
	size_t next_rcpt, naccepted;
	struct timespec t0, t_mail;
	bool reused;		/* taken from the connection cache */
	int replies;		/* replies seen on this session */
	struct buf key;		/* connection cache key */
};

/*
 * The connection cache: one idle connection per agent process, kept after
 * a delivery (RSET answered 250) for the next delivery to the same host
 * with the same TLS level and HELO name, at most smtp_connection_cache_time_limit
 * idle. Sender-dependent authentication turns it off (each sender may need
 * other credentials), as in Postfix. The peer sees the connection end
 * without QUIT when the process exits, as with Postfix's scache.
 */
static struct {
	struct bufferevent *bev;
	struct buf key;
	time_t since;
	long limit;		/* smtp_connection_cache_time_limit when stored */
	bool tls, pipelining, dsn, eightbit, smtputf8, size_ext;
	long size_limit;
} cached;

/* smtp_session_cache_drop - close the cached connection, if any */
void smtp_session_cache_drop(void)
{
	if (cached.bev)
		bufferevent_free(cached.bev);
	cached.bev = NULL;
	buf_free(&cached.key);
}

/* smtp_session_cache_expire - close the cached connection once it has
 * been idle longer than its time limit (called while the agent waits) */
void smtp_session_cache_expire(void)
{
	if (cached.bev && time(NULL) - cached.since > cached.limit)
		smtp_session_cache_drop();
}

/* now - monotonic seconds */
static double now(const struct timespec *since)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - since->tv_sec) + (t.tv_nsec - since->tv_nsec) / 1e9;
}

/* finish - leave the event loop */
static void finish(struct sess *ss)
{
	ss->finished = true;
	event_base_loopexit(ss->base, NULL);
}

/* host_fail - the host is unusable for what is still pending */
static void host_fail(struct sess *ss, const char *dsn, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void host_fail(struct sess *ss, const char *dsn, const char *fmt, ...)
{
	va_list ap;

	ss->res->host_failed = true;
	snprintf(ss->res->dsn, sizeof(ss->res->dsn), "%s", dsn);
	buf_reset(&ss->res->text);
	va_start(ap, fmt);
	buf_vprintf(&ss->res->text, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < ss->d->nrcpt; i++)
		if (ss->states[i] == RCPT_ACCEPTED)
			ss->states[i] = RCPT_TODO;	/* not delivered here: try elsewhere */
	finish(ss);
}

/* set_rcpt - one recipient's final word from this session */
static void set_rcpt(struct sess *ss, size_t i, const char *dsn, const char *text)
{
	struct delivery_rcpt *r = &ss->d->rcpt[i];

	deliver_set(r, dsn, buf_cstr(&ss->relay), "%s", text);
	r->conn_delay = ss->t_mail.tv_sec ? (double)(ss->t_mail.tv_sec - ss->t0.tv_sec)
						    + (ss->t_mail.tv_nsec - ss->t0.tv_nsec) / 1e9
					  : now(&ss->t0);
	r->xfer_delay = now(&ss->t0) - r->conn_delay;
	ss->states[i] = RCPT_DONE;
}

/* said - "host H[IP] said: REPLY (in reply to CMD command)" */
static void said(struct sess *ss, enum step st, struct buf *out)
{
	buf_printf(out, "host %s[%s] said: %s (in reply to %s command)", ss->h->name,
		   ss->h->addr_text, buf_cstr(&ss->reply), step_cmd[st]);
}

/* reply_rcpt - settle recipient i with the current reply */
static void reply_rcpt(struct sess *ss, size_t i, enum step st)
{
	struct buf text = BUF_INIT;
	char dsn[16];

	smtp_reply_dsn(ss->code, buf_cstr(&ss->reply), dsn);
	if (ss->code / 100 == 2)
		buf_set(&text, buf_cstr(&ss->reply));
	else
		said(ss, st, &text);
	set_rcpt(ss, i, dsn, buf_cstr(&text));
	buf_free(&text);
}

/* settle_all - every recipient in a given state gets the current reply */
static void settle_all(struct sess *ss, enum smtp_rcpt_state which, enum step st)
{
	for (size_t i = 0; i < ss->d->nrcpt; i++)
		if (ss->states[i] == which)
			reply_rcpt(ss, i, st);
}

/* timeout_of - seconds to wait for the reply to a step */
static long timeout_of(const struct sess *ss, enum step st)
{
	const struct smtp_settings *s = ss->s;

	switch (st) {
	case ST_GREETING: case ST_EHLO: case ST_HELO: case ST_AUTH: case ST_AUTH_USER:
	case ST_AUTH_PASS: case ST_AUTH_CRAM:
		return s->helo_timeout;
	case ST_STARTTLS:
		return s->starttls_timeout;
	case ST_MAIL:
		return s->mail_timeout;
	case ST_RCPT:
		return s->rcpt_timeout;
	case ST_DATA:
		return s->data_init_timeout;
	case ST_DOT:
		return s->data_done_timeout;
	case ST_RSET:
	case ST_QUIT:
		return s->quit_timeout;
	}
	return 300;
}

/* arm - read timeout for the reply now awaited */
static void arm(struct sess *ss)
{
	enum step st = ss->qhead < ss->qtail ? ss->q[ss->qhead].step : ST_GREETING;
	struct timeval rt = { timeout_of(ss, st), 0 };
	struct timeval wt = { ss->s->data_xfer_timeout, 0 };

	bufferevent_set_timeouts(ss->bev, &rt, &wt);
}

/* expect - one more reply awaited, for step st (and recipient rcpt) */
static void expect(struct sess *ss, enum step st, size_t rcpt)
{
	if (ss->qtail == ss->qcap) {
		ss->qcap = ss->qcap ? ss->qcap * 2 : 16;
		ss->q = xreallocarray(ss->q, ss->qcap, sizeof(*ss->q));
	}
	ss->q[ss->qtail++] = (struct pend){ st, rcpt };
	if (ss->qtail - ss->qhead == 1)
		arm(ss);
}

/* send_cmd - write a command line and expect its reply */
static void send_cmd(struct sess *ss, enum step st, size_t rcpt, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void send_cmd(struct sess *ss, enum step st, size_t rcpt, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&line, fmt, ap);
	va_end(ap);
	buf_puts(&line, "\r\n");
	bufferevent_write(ss->bev, line.data, line.len);
	buf_free(&line);
	expect(ss, st, rcpt);
}

/* send_quit - polite goodbye; the session ends at its reply or at EOF */
static void send_quit(struct sess *ss)
{
	if (ss->quit_sent)
		return;
	ss->quit_sent = true;
	send_cmd(ss, ST_QUIT, 0, "QUIT");
}

/* send_mail - MAIL FROM with the extensions the server has */
static void send_mail(struct sess *ss)
{
	struct buf cmd = BUF_INIT;
	const struct delivery *d = ss->d;

	clock_gettime(CLOCK_MONOTONIC, &ss->t_mail);
	buf_printf(&cmd, "MAIL FROM:<%s>", ss->s->env.v[0]);
	if (ss->size_ext)
		buf_printf(&cmd, " SIZE=%lld", (long long)d->content_length);
	if (ss->eightbit && d->body_8bit)
		buf_puts(&cmd, " BODY=8BITMIME");
	if (ss->dsn && d->ret)
		buf_printf(&cmd, " RET=%s", d->ret);
	if (ss->dsn && d->envid) {
		buf_puts(&cmd, " ENVID=");
		smtp_xtext(d->envid, &cmd);
	}
	if (ss->smtputf8 && d->smtputf8)
		buf_puts(&cmd, " SMTPUTF8");
	send_cmd(ss, ST_MAIL, 0, "%s", buf_cstr(&cmd));
	buf_free(&cmd);
}

/* send_rcpt - RCPT TO for recipient i, with DSN parameters */
static void send_rcpt(struct sess *ss, size_t i)
{
	const struct delivery_rcpt *r = &ss->d->rcpt[i];
	struct buf cmd = BUF_INIT;

	buf_printf(&cmd, "RCPT TO:<%s>", ss->s->env.v[1 + i]);
	if (ss->dsn && r->notify) {
		bool first = true;
		buf_puts(&cmd, " NOTIFY=");
		if (r->notify & 1u) {
			buf_puts(&cmd, "NEVER");
		} else {
			static const char *const names[] = { NULL, "SUCCESS", "FAILURE", "DELAY" };
			for (unsigned b = 1; b < 4; b++) {
				if (r->notify & (1u << b)) {
					buf_printf(&cmd, "%s%s", first ? "" : ",", names[b]);
					first = false;
				}
			}
		}
	}
	if (ss->dsn && r->orcpt && strncasecmp(r->orcpt, "rfc822;", 7) == 0) {
		buf_puts(&cmd, " ORCPT=rfc822;");
		smtp_xtext(r->orcpt + 7, &cmd);
	}
	send_cmd(ss, ST_RCPT, i, "%s", buf_cstr(&cmd));
	buf_free(&cmd);
}

/* next_todo - the next recipient to send from index i, or nrcpt */
static size_t next_todo(const struct sess *ss, size_t i)
{
	while (i < ss->d->nrcpt && ss->states[i] != RCPT_TODO)
		i++;
	return i;
}

/* start_transaction - MAIL, and with PIPELINING every RCPT and DATA too */
static void start_transaction(struct sess *ss)
{
	if (ss->d->smtputf8 && !ss->smtputf8) {
		struct buf t = BUF_INIT;
		buf_printf(&t, "SMTPUTF8 is required, but was not offered by host %s[%s]",
			   ss->h->name, ss->h->addr_text);
		for (size_t i = 0; i < ss->d->nrcpt; i++)
			if (ss->states[i] == RCPT_TODO)
				set_rcpt(ss, i, "5.6.7", buf_cstr(&t));
		buf_free(&t);
		send_quit(ss);
		return;
	}
	if (ss->size_limit > 0 && ss->d->content_length > ss->size_limit) {
		struct buf t = BUF_INIT;
		buf_printf(&t, "message size %lld exceeds size limit %ld of server %s[%s]",
			   (long long)ss->d->content_length, ss->size_limit, ss->h->name,
			   ss->h->addr_text);
		for (size_t i = 0; i < ss->d->nrcpt; i++)
			if (ss->states[i] == RCPT_TODO)
				set_rcpt(ss, i, "5.3.4", buf_cstr(&t));
		buf_free(&t);
		send_quit(ss);
		return;
	}
	send_mail(ss);
	ss->next_rcpt = next_todo(ss, 0);
	if (!ss->pipelining)
		return;
	for (size_t i = ss->next_rcpt; i < ss->d->nrcpt; i = next_todo(ss, i + 1))
		send_rcpt(ss, i);
	ss->next_rcpt = ss->d->nrcpt;
	send_cmd(ss, ST_DATA, 0, "DATA");
}

/* after_hello - STARTTLS, AUTH or the transaction */
static void after_hello(struct sess *ss);

/* tls_verify_name - the name a verified certificate must carry */
static const char *tls_verify_name(const struct sess *ss)
{
	return strcmp(buf_cstr(&ss->level), "secure") == 0 ? ss->nexthop_domain : ss->h->name;
}

/* tls_done - handshake finished: check the peer as the level asks, log, EHLO again */
static void tls_done(struct sess *ss)
{
	X509 *peer = SSL_get1_peer_certificate(ss->ssl);
	bool chain = peer && SSL_get_verify_result(ss->ssl) == X509_V_OK;
	bool name = chain && X509_check_host(peer, tls_verify_name(ss), 0, 0, NULL) == 1;
	const char *trust = name ? "Verified" : chain ? "Trusted" : "Untrusted";
	const SSL_CIPHER *c = SSL_get_current_cipher(ss->ssl);
	int alg = 0, bits = SSL_CIPHER_get_bits(c, &alg);
	bool must_verify = strcmp(buf_cstr(&ss->level), "verify") == 0
			   || strcmp(buf_cstr(&ss->level), "secure") == 0;

	log_info("%s TLS connection established to %s: %s with cipher %s (%d/%d bits)", trust,
		 buf_cstr(&ss->relay), SSL_get_version(ss->ssl), SSL_CIPHER_get_name(c), bits, alg);
	if (peer)
		X509_free(peer);
	if (must_verify && !name) {
		host_fail(ss, "4.7.5", "Server certificate not %s for %s[%s]: %s",
			  chain ? "verified" : "trusted", ss->h->name, ss->h->addr_text,
			  chain ? "name does not match" : X509_verify_cert_error_string(
								 SSL_get_verify_result(ss->ssl)));
		return;
	}
	ss->tls = true;
	if (ss->s->tls_wrapper)
		return;	/* the greeting comes next */
	ss->esmtp = false;
	send_cmd(ss, ST_EHLO, 0, "%s %s", ss->s->lmtp ? "LHLO" : "EHLO", ss->s->helo_name);
}

static void on_read(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

/* tls_start - put an OpenSSL filter on the connection */
static void tls_start(struct sess *ss)
{
	const char *sni = ss->s->tls_servername;
	struct bufferevent *tb;

	if (smtp_tls_ctx_get(ss->s->tls) == NULL || (ss->ssl = SSL_new(ss->s->tls->ctx)) == NULL) {
		host_fail(ss, "4.7.5", "TLS is required, but our TLS engine is unavailable");
		return;
	}
	if (strcmp(sni, "hostname") == 0)
		sni = ss->h->name;
	else if (strcmp(sni, "nexthop") == 0)
		sni = ss->nexthop_domain;
	if (*sni) {
		char name[256];	/* the macro takes a non-const pointer */
		snprintf(name, sizeof(name), "%s", sni);
		SSL_set_tlsext_host_name(ss->ssl, name);
	}
	tb = bufferevent_openssl_filter_new(ss->base, ss->bev, ss->ssl, BUFFEREVENT_SSL_CONNECTING,
					    BEV_OPT_CLOSE_ON_FREE);
	if (tb == NULL) {
		host_fail(ss, "4.7.5", "cannot start TLS with %s[%s]", ss->h->name, ss->h->addr_text);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(tb, 1);
	ss->bev = tb;
	ss->tls_started = true;
	bufferevent_setcb(tb, on_read, NULL, on_event, ss);
	bufferevent_enable(tb, EV_READ | EV_WRITE);
	{
		struct timeval t = { ss->s->starttls_timeout, 0 };
		bufferevent_set_timeouts(tb, &t, &t);
	}
}

/* parse_ehlo - the extensions of an EHLO reply */
static void parse_ehlo(struct sess *ss)
{
	struct smtp_ehlo e = { .mechs = BUF_INIT };

	smtp_ehlo_parse(&ss->rp, &e);
	ss->esmtp = true;
	ss->pipelining = e.pipelining;
	ss->dsn = e.dsn;
	ss->eightbit = e.eightbit;
	ss->smtputf8 = e.smtputf8;
	ss->starttls = e.starttls;
	ss->size_ext = e.size_ext;
	ss->size_limit = e.size_limit;
	buf_set(&ss->mechs, buf_cstr(&e.mechs));
	buf_free(&e.mechs);
}

/* want_tls - does this session go for STARTTLS now? */
static bool want_tls(struct sess *ss)
{
	const char *lv = buf_cstr(&ss->level);

	if (ss->tls || ss->tls_started || strcmp(lv, "none") == 0)
		return false;
	if (strcmp(lv, "may") == 0)
		return ss->starttls && smtp_tls_ctx_get(ss->s->tls) != NULL;
	return true;	/* encrypt, verify, secure */
}

/* start_auth - AUTH when credentials and a usable mechanism exist */
static bool start_auth(struct sess *ss)
{
	struct buf err = BUF_INIT, why = BUF_INIT, b64 = BUF_INIT, plain = BUF_INIT;
	const char *mech;
	int found;

	if (!ss->s->sasl_enable || ss->mechs.len == 0 || ss->user.len)
		return false;
	found = smtp_sasl_credentials(ss->s, ss->d->sender, ss->h->name, ss->h->dest, &ss->user,
				      &ss->pass, &err);
	if (found < 0) {
		host_fail(ss, "4.3.0", "%s", buf_cstr(&err));
		goto done;
	}
	if (found == 0)
		goto none;
	if ((mech = smtp_sasl_choose(ss->s, buf_cstr(&ss->mechs), ss->tls, &why)) == NULL) {
		host_fail(ss, "4.7.0", "SASL authentication failed; cannot authenticate to server %s[%s]: %s",
			  ss->h->name, ss->h->addr_text, buf_cstr(&why));
		goto done;
	}
	if (strcmp(mech, "PLAIN") == 0) {
		buf_putc(&plain, 0);
		buf_append(&plain, ss->user.data, ss->user.len);
		buf_putc(&plain, 0);
		buf_append(&plain, buf_cstr(&ss->pass), ss->pass.len);
		smtp_base64(plain.data, plain.len, &b64);
		send_cmd(ss, ST_AUTH, 0, "AUTH PLAIN %s", buf_cstr(&b64));
	} else if (strcmp(mech, "CRAM-MD5") == 0) {
		send_cmd(ss, ST_AUTH_CRAM, 0, "AUTH CRAM-MD5");
	} else {
		send_cmd(ss, ST_AUTH_USER, 0, "AUTH LOGIN");
	}
done:
	buf_free(&err);
	buf_free(&why);
	buf_free(&b64);
	buf_free(&plain);
	return true;
none:
	buf_free(&err);
	buf_free(&why);
	return false;
}

/* after_hello - STARTTLS, AUTH, then the transaction */
static void after_hello(struct sess *ss)
{
	const char *lv = buf_cstr(&ss->level);

	if (want_tls(ss)) {
		if (!ss->starttls) {
			host_fail(ss, "4.7.4", "TLS is required, but was not offered by host %s[%s]",
				  ss->h->name, ss->h->addr_text);
			return;
		}
		send_cmd(ss, ST_STARTTLS, 0, "STARTTLS");
		return;
	}
	if (!ss->tls && strcmp(lv, "none") != 0 && strcmp(lv, "may") != 0) {
		host_fail(ss, "4.7.4", "TLS is required, but was not offered by host %s[%s]",
			  ss->h->name, ss->h->addr_text);
		return;
	}
	if (start_auth(ss))
		return;
	start_transaction(ss);
}

/* auth_reply - AUTH PLAIN / LOGIN steps */
static void auth_reply(struct sess *ss, enum step st)
{
	struct buf b64 = BUF_INIT;

	if (ss->code == 334 && st == ST_AUTH_CRAM) {
		if (smtp_cram_md5(buf_cstr(&ss->reply) + (ss->reply.len > 4 ? 4 : ss->reply.len),
				  &ss->user, &ss->pass, &b64) < 0) {
			host_fail(ss, "4.7.0", "SASL authentication failed; server %s[%s] sent a bad CRAM-MD5 challenge",
				  ss->h->name, ss->h->addr_text);
		} else {
			send_cmd(ss, ST_AUTH, 0, "%s", buf_cstr(&b64));
		}
	} else if (ss->code == 334 && st == ST_AUTH_USER) {
		smtp_base64(ss->user.data ? ss->user.data : "", ss->user.len, &b64);
		send_cmd(ss, ST_AUTH_PASS, 0, "%s", buf_cstr(&b64));
	} else if (ss->code == 334 && st == ST_AUTH_PASS) {
		smtp_base64(ss->pass.data ? ss->pass.data : "", ss->pass.len, &b64);
		send_cmd(ss, ST_AUTH, 0, "%s", buf_cstr(&b64));
	} else if (ss->code / 100 == 2) {
		start_transaction(ss);
	} else {
		char dsn[16];
		smtp_reply_dsn(ss->code, buf_cstr(&ss->reply), dsn);
		if (dsn[0] == '5' && ss->s->sasl_soft_bounce)
			dsn[0] = '4';
		host_fail(ss, dsn, "SASL authentication failed; server %s[%s] said: %s", ss->h->name,
			  ss->h->addr_text, buf_cstr(&ss->reply));
	}
	buf_free(&b64);
}

/* data_reply - 354: send the content, else settle the accepted recipients */
static void data_reply(struct sess *ss)
{
	struct buf out = BUF_INIT;

	if (ss->code != 354) {
		settle_all(ss, RCPT_ACCEPTED, ST_DATA);
		send_quit(ss);
		return;
	}
	if (ss->naccepted == 0) {
		send_cmd(ss, ST_DOT, ss->d->nrcpt, ".");
		return;
	}
	smtp_stuff(ss->content, &out);
	out.len -= 3;	/* the final ".\r\n" goes with send_cmd to expect its reply */
	bufferevent_write(ss->bev, out.data, out.len);
	buf_free(&out);
	ss->dot_sent = true;
	if (!ss->s->lmtp) {
		send_cmd(ss, ST_DOT, ss->d->nrcpt, ".");
		return;
	}
	bufferevent_write(ss->bev, ".\r\n", 3);
	for (size_t i = 0; i < ss->d->nrcpt; i++)	/* LMTP: one reply per accepted recipient */
		if (ss->states[i] == RCPT_ACCEPTED)
			expect(ss, ST_DOT, i);
}

/* park - keep this connection for the next delivery and end the session */
static void park(struct sess *ss)
{
	smtp_session_cache_drop();
	bufferevent_setcb(ss->bev, NULL, NULL, NULL, NULL);
	bufferevent_disable(ss->bev, EV_READ | EV_WRITE);
	cached.bev = ss->bev;
	buf_set(&cached.key, buf_cstr(&ss->key));
	cached.since = time(NULL);
	cached.limit = ss->s->cache_idle;
	cached.tls = ss->tls;
	cached.pipelining = ss->pipelining;
	cached.dsn = ss->dsn;
	cached.eightbit = ss->eightbit;
	cached.smtputf8 = ss->smtputf8;
	cached.size_ext = ss->size_ext;
	cached.size_limit = ss->size_limit;
	ss->bev = NULL;
	finish(ss);
}

/* dispatch - one complete reply for the oldest outstanding command */
static void dispatch(struct sess *ss)
{
	struct pend p = ss->qhead < ss->qtail ? ss->q[ss->qhead++] : (struct pend){ ST_GREETING, 0 };
	int cls = ss->code / 100;
	char dsn[16];

	if (p.step == ST_GREETING && ss->greeted) {
		host_fail(ss, "4.5.0", "host %s[%s] sent an unexpected reply: %s", ss->h->name,
			  ss->h->addr_text, buf_cstr(&ss->reply));
		return;
	}
	ss->greeted = true;

	if (ss->qhead < ss->qtail)
		arm(ss);
	switch (p.step) {
	case ST_GREETING:
		if (cls == 5 && !ss->s->skip_5xx_greeting) {
			/* smtp_skip_5xx_greeting = no: the refusal is final */
			struct buf t = BUF_INIT;
			smtp_reply_dsn(ss->code, buf_cstr(&ss->reply), dsn);
			buf_printf(&t, "host %s[%s] refused to talk to me: %s", ss->h->name,
				   ss->h->addr_text, buf_cstr(&ss->reply));
			for (size_t i = 0; i < ss->d->nrcpt; i++)
				if (ss->states[i] == RCPT_TODO)
					set_rcpt(ss, i, dsn, buf_cstr(&t));
			buf_free(&t);
			send_quit(ss);
			return;
		}
		if (cls != 2) {
			smtp_reply_dsn(ss->code, buf_cstr(&ss->reply), dsn);
			host_fail(ss, dsn, "host %s[%s] refused to talk to me: %s", ss->h->name,
				  ss->h->addr_text, buf_cstr(&ss->reply));
			return;
		}
		send_cmd(ss, ST_EHLO, 0, "%s %s", ss->s->lmtp ? "LHLO" : "EHLO", ss->s->helo_name);
		return;
	case ST_EHLO:
		if (cls != 2) {
			if (ss->s->lmtp || ss->tls) {
				smtp_reply_dsn(ss->code, buf_cstr(&ss->reply), dsn);
				host_fail(ss, dsn, "host %s[%s] said: %s (in reply to %s command)",
					  ss->h->name, ss->h->addr_text, buf_cstr(&ss->reply),
					  ss->s->lmtp ? "LHLO" : "EHLO");
				return;
			}
			send_cmd(ss, ST_HELO, 0, "HELO %s", ss->s->helo_name);
			return;
		}
		parse_ehlo(ss);
		after_hello(ss);
		return;
	case ST_HELO:
		if (cls != 2) {
			smtp_reply_dsn(ss->code, buf_cstr(&ss->reply), dsn);
			host_fail(ss, dsn, "host %s[%s] said: %s (in reply to HELO command)", ss->h->name,
				  ss->h->addr_text, buf_cstr(&ss->reply));
			return;
		}
		after_hello(ss);
		return;
	case ST_STARTTLS:
		if (cls != 2 && strcmp(buf_cstr(&ss->level), "may") == 0) {
			buf_set(&ss->level, "none");	/* opportunistic: carry on in plaintext */
			after_hello(ss);
			return;
		}
		if (cls != 2) {
			host_fail(ss, "4.7.5", "host %s[%s] said: %s (in reply to STARTTLS command)",
				  ss->h->name, ss->h->addr_text, buf_cstr(&ss->reply));
			return;
		}
		tls_start(ss);
		return;
	case ST_AUTH:
	case ST_AUTH_USER:
	case ST_AUTH_PASS:
	case ST_AUTH_CRAM:
		auth_reply(ss, p.step);
		return;
	case ST_MAIL:
		if (ss->reused && ss->replies == 1 && ss->code == 421) {
			ss->res->reused_dead = true;	/* it timed out while idle */
			host_fail(ss, "4.4.2", "cached connection to %s was closed", buf_cstr(&ss->relay));
			return;
		}
		if (cls != 2) {
			ss->mail_failed = true;
			smtp_reply_dsn(ss->code, buf_cstr(&ss->reply), dsn);
			if (ss->code == 530 && ss->s->sasl_enable && ss->s->sasl_soft_bounce
			    && ss->user.len == 0) {
				/* the server wants AUTH we could not give: fixable by the admin */
				struct buf t = BUF_INIT;
				said(ss, ST_MAIL, &t);
				for (size_t i = 0; i < ss->d->nrcpt; i++)
					if (ss->states[i] == RCPT_TODO)
						set_rcpt(ss, i, "4.7.0", buf_cstr(&t));
				buf_free(&t);
			} else {
				settle_all(ss, RCPT_TODO, ST_MAIL);
			}
			if (!ss->pipelining)
				send_quit(ss);
			return;
		}
		if (!ss->pipelining && ss->next_rcpt < ss->d->nrcpt) {
			send_rcpt(ss, ss->next_rcpt);
			ss->next_rcpt = next_todo(ss, ss->next_rcpt + 1);
		}
		return;
	case ST_RCPT:
		if (ss->mail_failed)
			return;
		if (cls == 2) {
			ss->states[p.rcpt] = RCPT_ACCEPTED;
			ss->naccepted++;
		} else {
			reply_rcpt(ss, p.rcpt, ST_RCPT);
		}
		if (!ss->pipelining) {
			if (ss->next_rcpt < ss->d->nrcpt) {
				send_rcpt(ss, ss->next_rcpt);
				ss->next_rcpt = next_todo(ss, ss->next_rcpt + 1);
			} else if (ss->naccepted > 0) {
				send_cmd(ss, ST_DATA, 0, "DATA");
			} else {
				send_quit(ss);
			}
		}
		return;
	case ST_DATA:
		if (ss->mail_failed) {
			send_quit(ss);
			return;
		}
		data_reply(ss);
		return;
	case ST_DOT:
		if (ss->s->lmtp && p.rcpt < ss->d->nrcpt) {
			reply_rcpt(ss, p.rcpt, ST_DOT);
			if (ss->qhead == ss->qtail)
				send_quit(ss);
			return;
		}
		settle_all(ss, RCPT_ACCEPTED, ST_DOT);
		if (ss->s->cache && !ss->s->lmtp)
			send_cmd(ss, ST_RSET, 0, "RSET");
		else
			send_quit(ss);
		return;
	case ST_RSET:
		if (cls != 2) {
			send_quit(ss);
			return;
		}
		park(ss);
		return;
	case ST_QUIT:
		finish(ss);
		return;
	}
}

/* on_read - assemble replies (multi-line "250-…") and dispatch them */
static void on_read(struct bufferevent *bev, void *arg)
{
	struct sess *ss = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t len;

	while (!ss->finished && (line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF)) != NULL) {
		int st = smtp_reply_line(&ss->rp, line, len);

		free(line);
		if (st < 0) {
			host_fail(ss, "4.5.0", "host %s[%s] sent a malformed reply", ss->h->name,
				  ss->h->addr_text);
			return;
		}
		if (st == 0)
			continue;
		ss->code = ss->rp.code;
		ss->replies++;
		buf_set(&ss->reply, buf_cstr(&ss->rp.text));
		dispatch(ss);
		smtp_reply_reset(&ss->rp);
	}
	if (evbuffer_get_length(in) > 65536 && !ss->finished)
		host_fail(ss, "4.5.0", "host %s[%s] sent an overlong reply line", ss->h->name,
			  ss->h->addr_text);
}

/* on_event - connected, TLS done, EOF, error, timeout */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct sess *ss = arg;
	enum step st = ss->qhead < ss->qtail ? ss->q[ss->qhead].step : ST_GREETING;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		struct timeval gt = { ss->s->helo_timeout, 0 };
		if (ss->tls_started) {
			tls_done(ss);
			if (ss->s->tls_wrapper && !ss->finished)
				bufferevent_set_timeouts(ss->bev, &gt, NULL);
		} else if (ss->s->tls_wrapper) {
			tls_start(ss);
		} else {
			bufferevent_set_timeouts(ss->bev, &gt, NULL);
		}
		return;
	}
	if (ss->quit_sent && st == ST_QUIT) {
		finish(ss);
		return;
	}
	if (ss->reused && ss->replies == 0) {
		ss->res->reused_dead = true;	/* the server closed it while idle */
		host_fail(ss, "4.4.2", "cached connection to %s was closed", buf_cstr(&ss->relay));
		return;
	}
	if (ss->code == 0 && (what & BEV_EVENT_ERROR) && !ss->tls_started) {
		int e = EVUTIL_SOCKET_ERROR();
		host_fail(ss, "4.4.1", "connect to %s: %s", buf_cstr(&ss->relay),
			  e ? evutil_socket_error_to_string(e) : "connection failed");
		return;
	}
	if (ss->code == 0 && (what & BEV_EVENT_TIMEOUT) && !ss->tls_started) {
		host_fail(ss, "4.4.1", "connect to %s: Connection timed out", buf_cstr(&ss->relay));
		return;
	}
	if (ss->tls_started && !ss->tls) {
		log_info("SSL_connect error to %s", buf_cstr(&ss->relay));
		host_fail(ss, "4.7.5", "Cannot start TLS: handshake failure");
		return;
	}
	if (ss->dot_sent) {
		struct buf t = BUF_INIT;
		buf_printf(&t, "%s with %s[%s] while %s",
			   (what & BEV_EVENT_TIMEOUT) ? "conversation" : "lost connection",
			   ss->h->name, ss->h->addr_text, step_doing[ST_DOT]);
		if (what & BEV_EVENT_TIMEOUT) {
			buf_reset(&t);
			buf_printf(&t, "conversation with %s[%s] timed out while %s", ss->h->name,
				   ss->h->addr_text, step_doing[ST_DOT]);
		}
		for (size_t i = 0; i < ss->d->nrcpt; i++)
			if (ss->states[i] == RCPT_ACCEPTED)
				set_rcpt(ss, i, "4.4.2", buf_cstr(&t));
		buf_free(&t);
		finish(ss);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		host_fail(ss, "4.4.2", "conversation with %s[%s] timed out while %s", ss->h->name,
			  ss->h->addr_text, step_doing[st]);
	else
		host_fail(ss, "4.4.2", "lost connection with %s[%s] while %s", ss->h->name,
			  ss->h->addr_text, step_doing[st]);
}

/* smtp_session_run - one connection to h; states say which recipients to send */
void smtp_session_run(struct event_base *base, const struct smtp_settings *s,
		      struct delivery *d, const char *nexthop_domain,
		      const struct smtp_host *h, enum smtp_rcpt_state *states,
		      const struct buf *content, struct smtp_session_result *res)
{
	struct sess ss = { .base = base, .s = s, .d = d, .h = h, .nexthop_domain = nexthop_domain,
			   .states = states, .content = content, .res = res };
	struct buf err = BUF_INIT;
	struct timeval ct = { s->connect_timeout > 0 ? s->connect_timeout : 30, 0 };
	struct sockaddr_storage sa;

	smtp_reply_init(&ss.rp);
	clock_gettime(CLOCK_MONOTONIC, &ss.t0);
	res->host_failed = false;
	if (h->port)
		buf_printf(&ss.relay, "%s[%s]:%d", h->name, h->addr_text, h->port);
	else
		buf_printf(&ss.relay, "%s[%s]", h->name, h->addr_text);
	smtp_tls_level(d->cf, s->lmtp ? "lmtp" : "smtp", h->dest, &ss.level, &err);
	if (s->tls_wrapper && (strcmp(buf_cstr(&ss.level), "none") == 0
			       || strcmp(buf_cstr(&ss.level), "may") == 0))
		buf_set(&ss.level, "encrypt");
	if (strcmp(buf_cstr(&ss.level), "tempfail") == 0) {
		res->host_failed = true;
		snprintf(res->dsn, sizeof(res->dsn), "4.3.0");
		buf_set(&res->text, buf_cstr(&err));
		goto done;
	}
	res->reused_dead = false;
	buf_printf(&ss.key, "%s|%s|%s", buf_cstr(&ss.relay), buf_cstr(&ss.level), s->helo_name);
	if (cached.bev && (!s->cache || strcmp(buf_cstr(&cached.key), buf_cstr(&ss.key)) != 0
			   || time(NULL) - cached.since > s->cache_idle))
		smtp_session_cache_drop();
	if (cached.bev) {
		ss.bev = cached.bev;
		cached.bev = NULL;
		ss.reused = ss.greeted = ss.esmtp = true;
		ss.tls = cached.tls;
		ss.pipelining = cached.pipelining;
		ss.dsn = cached.dsn;
		ss.eightbit = cached.eightbit;
		ss.smtputf8 = cached.smtputf8;
		ss.size_ext = cached.size_ext;
		ss.size_limit = cached.size_limit;
		bufferevent_setcb(ss.bev, on_read, NULL, on_event, &ss);
		bufferevent_enable(ss.bev, EV_READ | EV_WRITE);
		log_info("reusing the connection to %s", buf_cstr(&ss.relay));
		start_transaction(&ss);
		if (!ss.finished)
			event_base_dispatch(base);
		goto after;
	}
	ss.bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(ss.bev, on_read, NULL, on_event, &ss);
	bufferevent_set_timeouts(ss.bev, &ct, &ct);
	bufferevent_enable(ss.bev, EV_READ | EV_WRITE);
	memcpy(&sa, &h->sa, sizeof(sa));
	if (bufferevent_socket_connect(ss.bev, (struct sockaddr *)&sa, (int)h->salen) < 0) {
		host_fail(&ss, "4.4.1", "connect to %s: %s", buf_cstr(&ss.relay), strerror(errno));
	} else {
		event_base_dispatch(base);
	}
after:
	res->data_sent = ss.dot_sent;
	if (ss.bev)
		bufferevent_free(ss.bev);
done:
	buf_free(&err);
	buf_free(&ss.level);
	buf_free(&ss.relay);
	buf_free(&ss.reply);
	buf_free(&ss.user);
	buf_free(&ss.pass);
	buf_free(&ss.mechs);
	smtp_reply_free(&ss.rp);
	buf_free(&ss.key);
	xfree(&ss.q);
}
