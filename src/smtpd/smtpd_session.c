/*
 * smtpd_session - one SMTP connection on the event loop: greeting, line
 * reading, command dispatch, replies, timeouts, limits and the end of the
 * session with Postfix's "disconnect from" summary.
 *
 * Public: smtpd_session_start, smtpd_reply, smtpd_reply_raw,
 * smtpd_reply_error, smtpd_resume, smtpd_close_after_reply,
 * smtpd_fill_facts, smtpd_transaction_reset, smtpd_log_reject,
 * smtpd_proto_name, smtpd_count_ok.
 *
 * Memory: a session owns a small struct and a bufferevent whose buffers
 * grow only while data is in flight; an idle session after EHLO holds a
 * few hundred bytes plus the kernel socket. Input is read up to a high
 * watermark, so a client that floods while a check is outstanding is
 * simply not read from.
 *
 * Bad input: protocol errors get Postfix's replies; a bare LF (with
 * smtpd_forbid_bare_newline), a pipelining violation (with
 * smtpd_forbid_unauth_pipelining), a timeout or too many errors end the
 * session with a 4xx/5xx reply and a log line naming the client.
 */
#include "smtpd/smtpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <event2/event.h>

#include "cleanup/cleanup.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "mail/resolve.h"
#include "smtpd/smtpd_anvil.h"
#include "smtpd/smtpd_dns.h"
#include "smtpd/smtpd_effects.h"
#include "smtpd/smtpd_reply.h"
#include "smtpd/smtpd_sasl.h"

#define SMTPD_READ_HIWAT (64 * 1024)
#define SMTPD_WRITE_HIWAT (64 * 1024)

static void session_read(struct bufferevent *bev, void *ctx);
static void session_write(struct bufferevent *bev, void *ctx);
static void session_event(struct bufferevent *bev, short what, void *ctx);
static void session_free(struct smtpd_session *s);
static void session_greet(struct smtpd_session *s);

/* verb order of the "disconnect from" summary, as Postfix prints it */
static const enum smtpd_verb summary_order[] = {
	VERB_HELO, VERB_EHLO, VERB_STARTTLS, VERB_AUTH, VERB_MAIL, VERB_RCPT,
	VERB_DATA, VERB_BDAT, VERB_RSET, VERB_NOOP, VERB_VRFY, VERB_ETRN,
	VERB_QUIT, VERB_UNKNOWN,
};

/* smtpd_proto_name - SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA (Received: / logs) */
const char *smtpd_proto_name(const struct smtpd_session *s)
{
	if (!s->esmtp)
		return "SMTP";
	if (s->tls)
		return s->sasl_username ? "ESMTPSA" : "ESMTPS";
	return s->sasl_username ? "ESMTPA" : "ESMTP";
}

/* smtpd_count_ok - a command completed with a 2xx reply */
void smtpd_count_ok(struct smtpd_session *s, enum smtpd_verb v)
{
	s->count[v].ok++;
	s->commands_ok++;
}

/* smtpd_reply_raw - queue one reply line (CRLF added) */
void smtpd_reply_raw(struct smtpd_session *s, const char *text)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);

	smtpd_notice_out(s, text);
	evbuffer_add(out, text, strlen(text));
	evbuffer_add(out, "\r\n", 2);
	if (log_verbose_level() > 0)
		log_verbose("> %s: %s", s->namaddr, text);
}

/* smtpd_reply - formatted reply; a 2xx counts the current command as done */
void smtpd_reply(struct smtpd_session *s, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	smtpd_reply_raw(s, buf_cstr(&b));
	if (b.len && b.data[0] == '2' && s->last_verb != VERB_DATA && s->last_verb != VERB_AUTH &&
	    s->last_verb != VERB_STARTTLS)
		smtpd_count_ok(s, s->last_verb);
	buf_free(&b);
}

/* error_pause_done - the error sleep is over; read commands again */
static void error_pause_done(evutil_socket_t fd, short what, void *ctx)
{
	struct smtpd_session *s = ctx;

	(void)fd;
	(void)what;
	if (s->state == S_WAIT) {
		s->state = S_CMD;
		smtpd_resume(s);
	}
}

/* smtpd_reply_error - a 4xx/5xx reply that counts against the error limits */
void smtpd_reply_error(struct smtpd_session *s, const char *text)
{
	const struct smtpd_settings *set = &s->srv->set;

	smtpd_reply_raw(s, text);
	s->errors++;
	if (set->hard_error_limit > 0 && s->errors >= (unsigned)set->hard_error_limit) {
		log_info("too many errors after %s from %s", smtpd_verb_name(s->last_verb),
			 s->namaddr);
		smtpd_reply(s, R_TOO_MANY_ERRORS, set->myhostname);
		smtpd_close_after_reply(s);
		return;
	}
	if (s->errors > (unsigned)set->soft_error_limit && set->error_sleep_time > 0 &&
	    s->state == S_CMD) {
		struct timeval tv = { set->error_sleep_time, 0 };

		s->state = S_WAIT;
		evtimer_assign(s->timer, s->srv->base, error_pause_done, s);
		evtimer_add(s->timer, &tv);
	}
}

/* close_now - deferred end of a session with nothing left to send */
static void close_now(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	session_free(ctx);
}

/* smtpd_close_after_reply - flush what is queued, then end the session.
 * Never frees synchronously: callers up the stack still hold the session. */
void smtpd_close_after_reply(struct smtpd_session *s)
{
	struct timeval zero = { 0, 0 };

	if (s->state == S_CLOSE && s->closing)
		return;
	s->state = S_CLOSE;
	s->closing = true;
	bufferevent_disable(s->bev, EV_READ);
	if (s->run)
		smtpd_check_cancel(&s->run);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0) {
		evtimer_del(s->timer);
		evtimer_assign(s->timer, s->srv->base, close_now, s);
		evtimer_add(s->timer, &zero);
	}
}

/* verdict_log - what to log for a verdict: its log text, else its reply */
static const char *verdict_log(const struct smtpd_verdict *v)
{
	return v->log.len ? buf_cstr(&v->log) : buf_cstr(&v->reply);
}

/* smtpd_transaction_reset - forget the MAIL transaction (RSET, after DATA) */
void smtpd_transaction_reset(struct smtpd_session *s)
{
	if (s->run)
		smtpd_check_cancel(&s->run);
	if (s->cleanup)
		cleanup_abort(&s->cleanup);
	xfree(&s->sender);
	xfree(&s->rcpt);
	xfree(&s->queue_id);
	smtpd_mailparams_free(&s->mail);
	smtpd_mailparams_init(&s->mail);
	s->rcpt_count = 0;
	s->rcpt_tried = 0;
	s->rcpt_overshoot = 0;
	s->msg_size = 0;
	s->msg_too_big = false;
	s->data_error = false;
	smtpd_notice_flush(s);
	if (s->checks)
		smtpd_check_session_reset(s->checks);
	smtpd_effects_clear(s);
}

/* smtpd_fill_facts - the session as the restriction engine sees it */
void smtpd_fill_facts(struct smtpd_session *s, struct smtpd_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->client_addr = s->addr;
	f->client_name = s->name;
	f->reverse_name = s->reverse_name;
	f->client_port = s->port;
	f->server_addr = s->server_addr;
	f->server_port = s->server_port;
	f->helo = s->helo;
	f->protocol = s->esmtp ? "ESMTP" : "SMTP";
	f->tls = s->tls;
	f->tls_protocol = s->tls_protocol;
	f->tls_cipher = s->tls_cipher;
	f->tls_bits = s->tls_bits;
	f->ccert_subject = s->ccert_subject;
	f->ccert_issuer = s->ccert_issuer;
	f->ccert_fingerprint = s->ccert_fingerprint;
	f->ccert_pubkey_fingerprint = s->ccert_pkey_fingerprint;
	f->ccert_verified = s->ccert_verified;
	f->sasl_method = s->sasl_method;
	f->sasl_username = s->sasl_username;
	f->sasl_sender = s->mail.auth_given ? buf_cstr(&s->mail.auth) : NULL;
	f->sender = s->sender;
	f->recipient = s->rcpt;
	f->recipient_count = s->rcpt_count;
	f->size = s->mail.size;
	f->queue_id = s->queue_id;
	f->service = s->srv->service;
	f->pipelining_violation = s->pipelining_violation;
}

/* smtpd_log_reject - "NOQUEUE: reject: RCPT from host[addr]: …" */
void smtpd_log_reject(struct smtpd_session *s, const char *stage, const char *log_text)
{
	log_info("%s: reject: %s from %s: %s", s->queue_id ? s->queue_id : "NOQUEUE", stage,
		 s->namaddr, log_text);
}

/* smtpd_resume - an async step is done: go on with buffered input */
void smtpd_resume(struct smtpd_session *s)
{
	if (s->closing)
		return;
	bufferevent_enable(s->bev, EV_READ);
	if (s->in_read)
		return;	/* completed inside the command: the read loop goes on */
	if (evbuffer_get_length(bufferevent_get_input(s->bev)) > 0)
		session_read(s->bev, s);
}

/* improper_pipelining - the client talked ahead where RFC 2920 forbids it */
static bool improper_pipelining(struct smtpd_session *s, const char *after)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	char next[64];
	ev_ssize_t n;

	if (evbuffer_get_length(in) == 0)
		return false;
	s->pipelining_violation = true;
	if (!s->srv->set.forbid_unauth_pipelining)
		return false;
	n = evbuffer_copyout(in, next, sizeof(next) - 1);
	next[n < 0 ? 0 : n] = '\0';
	next[strcspn(next, "\r\n")] = '\0';
	for (char *p = next; *p; p++)
		if ((unsigned char)*p < ' ' || (unsigned char)*p > '~')
			*p = '?';
	log_info("improper command pipelining after %s from %s: %s", after, s->namaddr, next);
	smtpd_reply_raw(s, R_SYNC_ERROR);
	smtpd_close_after_reply(s);
	return true;
}

/* group_ends - commands after which a client must wait (RFC 2920 §3.1) */
static bool group_ends(enum smtpd_verb v)
{
	switch (v) {
	case VERB_MAIL:
	case VERB_RCPT:
	case VERB_RSET:
		return false;
	default:
		return true;
	}
}

/* rejected_by_client_stage - a client-stage reject answers every command */
static bool rejected_by_client_stage(struct smtpd_session *s, enum smtpd_verb v)
{
	if (!s->connect_rejected || v == VERB_QUIT || v == VERB_RSET || v == VERB_NOOP)
		return false;
	smtpd_reply_error(s, buf_cstr(&s->connect_verdict.reply));
	return true;
}

/* dispatch - one command line */
static void dispatch(struct smtpd_session *s, const char *line)
{
	struct smtpd_cmdline c;
	bool esmtp_before = s->esmtp;

	smtpd_parse_line(line, &c);
	smtpd_notice_in(s, line, c.verb);
	if (c.verb == VERB_EXPN)	/* not implemented, and Postfix calls it unknown */
		c.verb = VERB_UNKNOWN;
	if (line[strspn(line, " \t")] == '\0') {
		s->last_verb = VERB_UNKNOWN;
		s->count[VERB_UNKNOWN].total++;
		s->commands_total++;
		smtpd_reply_error(s, R_BAD_SYNTAX);
		return;
	}
	if (c.verb == VERB_XCLIENT || c.verb == VERB_XFORWARD) {
		/* No client is in smtpd_authorized_xclient/xforward_hosts. */
		c.verb = VERB_UNKNOWN;
		s->last_verb = c.verb;
		s->count[c.verb].total++;
		s->commands_total++;
		smtpd_reply_error(s, R_NOT_AUTHORIZED);
		return;
	}
	s->last_verb = c.verb;
	s->count[c.verb == VERB_HTTP ? VERB_UNKNOWN : c.verb].total++;
	s->commands_total++;
	if (log_verbose_level() > 0)
		log_verbose("< %s: %s", s->namaddr, line);
	if (c.verb == VERB_UNKNOWN || c.verb == VERB_BDAT || c.verb == VERB_HTTP) {
		if (c.verb == VERB_HTTP) {
			log_warn("non-SMTP command from %s: %.100s", s->namaddr, line);
			smtpd_reply_raw(s, R_UNRECOGNIZED);
			smtpd_close_after_reply(s);
			return;
		}
		smtpd_reply_error(s, c.verb == VERB_UNKNOWN ? R_UNRECOGNIZED : R_NOT_IMPLEMENTED);
		return;
	}
	if (rejected_by_client_stage(s, c.verb))
		return;
	if (c.verb == VERB_NOOP || c.verb == VERB_VRFY || c.verb == VERB_ETRN ||
	    c.verb == VERB_RSET) {
		if (++s->junk > (unsigned)s->srv->set.junk_command_limit &&
		    s->srv->set.junk_command_limit > 0 && !s->delivered)
			s->errors++;
	}
	switch (c.verb) {
	case VERB_HELO: smtpd_cmd_helo(s, &c); break;
	case VERB_EHLO: smtpd_cmd_ehlo(s, &c); break;
	case VERB_MAIL: smtpd_cmd_mail(s, &c); break;
	case VERB_RCPT: smtpd_cmd_rcpt(s, &c); break;
	case VERB_DATA: smtpd_cmd_data(s, &c); break;
	case VERB_RSET: smtpd_cmd_rset(s, &c); break;
	case VERB_NOOP: smtpd_cmd_noop(s, &c); break;
	case VERB_QUIT: smtpd_cmd_quit(s, &c); break;
	case VERB_VRFY: smtpd_cmd_vrfy(s, &c); break;
	case VERB_ETRN: smtpd_cmd_etrn(s, &c); break;
	case VERB_STARTTLS: smtpd_cmd_starttls(s, &c); break;
	case VERB_AUTH: smtpd_cmd_auth(s, &c); break;
	default: smtpd_reply_error(s, R_UNRECOGNIZED); break;
	}
	if (s->closing || c.verb == VERB_QUIT)
		return;
	/* Talking ahead is allowed only inside a PIPELINING group after EHLO. */
	if ((group_ends(c.verb) || !esmtp_before) && c.verb != VERB_STARTTLS)
		improper_pipelining(s, c.name);
}

/* bare_newline - a line ended in LF alone: refuse it (no SMTP smuggling) */
static void bare_newline(struct smtpd_session *s)
{
	log_info("disconnect: bare <LF> received from %s after %s", s->namaddr,
		 smtpd_verb_name(s->last_verb));
	smtpd_reply(s, R_BARE_LF, s->srv->set.myhostname);
	smtpd_close_after_reply(s);
}

/* overlong - a line longer than line_length_limit without LF */
static bool overlong(struct smtpd_session *s, struct evbuffer *in)
{
	size_t limit = (size_t)s->srv->set.line_length_limit;
	size_t have = evbuffer_get_length(in);

	if (have <= limit)
		return false;
	if (s->state == S_DATA) {
		/* Content: pass the piece on; cleanup joins the pieces of one line. */
		unsigned char *p = evbuffer_pullup(in, (ev_ssize_t)limit);

		smtpd_data_line(s, (const char *)p, limit, s->data_cont);
		s->data_cont = true;
		evbuffer_drain(in, limit);
		return true;
	}
	log_info("line too long after %s from %s", smtpd_verb_name(s->last_verb), s->namaddr);
	smtpd_reply_raw(s, R_LINE_TOO_LONG);
	smtpd_close_after_reply(s);
	return true;
}

/* one_line - take one complete line; false when none is buffered */
static bool one_line(struct smtpd_session *s, struct evbuffer *in)
{
	size_t eol_len = 0;
	struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
	size_t len, total;
	char *line;

	if (p.pos < 0)
		return overlong(s, in);
	total = (size_t)p.pos + eol_len;
	line = (char *)evbuffer_pullup(in, (ev_ssize_t)total);
	len = (size_t)p.pos;
	if (len == 0 || line[len - 1] != '\r') {
		if (s->srv->set.forbid_bare_newline && !s->bare_nl_ok) {
			evbuffer_drain(in, total);
			bare_newline(s);
			return false;
		}
	} else {
		len--;
	}
	if (len > (size_t)s->srv->set.line_length_limit && s->state != S_DATA) {
		evbuffer_drain(in, total);
		log_info("line too long after %s from %s", smtpd_verb_name(s->last_verb),
			 s->namaddr);
		smtpd_reply_error(s, R_LINE_TOO_LONG);
		return true;
	}
	if (s->state == S_DATA) {
		smtpd_deadline_credit(s, total);
		smtpd_data_line(s, line, len, s->data_cont);
		s->data_cont = false;
		evbuffer_drain(in, total);
		return true;
	}
	/* Commands: copy and drain first, so that what is left is what the
	 * client sent ahead (the pipelining checks look at it). */
	struct buf cmd = BUF_INIT;

	buf_append(&cmd, line, len);
	evbuffer_drain(in, total);
	if (memchr(cmd.data, '\0', len) != NULL) {
		s->last_verb = VERB_UNKNOWN;
		s->count[VERB_UNKNOWN].total++;
		s->commands_total++;
		smtpd_reply_error(s, R_BAD_SYNTAX);
	} else if (s->state == S_AUTH) {
		smtpd_auth_line(s, cmd.data);
	} else {
		dispatch(s, cmd.data);
	}
	buf_free(&cmd);
	return true;
}

/* ack_now - acknowledge the content read so far at once. A client that
 * writes the message and then ".<CR><LF>" in two writes (Nagle's rule)
 * holds the dot until its data is acknowledged, and Linux delays that ACK
 * by up to 40 ms: without this, most single messages wait 40 ms for their
 * 250. Quick-ACK mode lapses by itself, so it is renewed after each read. */
static void ack_now(struct smtpd_session *s)
{
#ifdef TCP_QUICKACK
	int one = 1;

	(void)setsockopt(s->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
#else
	(void)s;
#endif
}

/* session_read - run every complete line while the session accepts input */
static void session_read(struct bufferevent *bev, void *ctx)
{
	struct smtpd_session *s = ctx;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (s->state == S_GREET) {
		/* talked before the greeting */
		if (s->srv->set.forbid_unauth_pipelining || s->srv->set.greet_pause > 0) {
			s->last_verb = VERB_UNKNOWN;
			improper_pipelining(s, "CONNECT");
			if (s->closing) {
				evtimer_del(s->timer);
				return;
			}
		}
		s->pipelining_violation = true;
		return;
	}
	s->in_read = true;
	while (!s->closing && (s->state == S_CMD || s->state == S_DATA || s->state == S_AUTH)) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) > SMTPD_WRITE_HIWAT) {
			/* The client sends but does not read our replies: stop
			 * reading until it does (session_write resumes). */
			s->out_blocked = true;
			bufferevent_disable(bev, EV_READ);
			break;
		}
		if (!one_line(s, in))
			break;
	}
	s->in_read = false;
	if (s->state == S_DATA)
		ack_now(s);
	/* Everything buffered is answered: the next request's clock starts. */
	if (s->deadline_ev && !s->closing && s->state == S_CMD && evbuffer_get_length(in) == 0)
		smtpd_deadline_start(s);
}

/* session_write - output drained: finish a close */
static void session_write(struct bufferevent *bev, void *ctx)
{
	struct smtpd_session *s = ctx;

	(void)bev;
	if (s->state == S_CLOSE)
		session_free(s);
	else if (s->state == S_STARTTLS)
		smtpd_tls_start(s, false);
	else if (s->out_blocked) {
		s->out_blocked = false;
		smtpd_resume(s);
	}
}

/* session_event - EOF, errors, timeouts and the TLS handshake's end */
static void session_event(struct bufferevent *bev, short what, void *ctx)
{
	struct smtpd_session *s = ctx;
	const char *after = smtpd_verb_name(s->last_verb);

	(void)bev;
	if (s->state == S_TLS && (what & BEV_EVENT_CONNECTED)) {
		smtpd_tls_handshake_done(s);
		if (s->wrapper_pending) {
			s->wrapper_pending = false;
			session_greet(s);
		} else {
			smtpd_resume(s);
		}
		return;
	}
	if (s->state == S_TLS && (what & BEV_EVENT_ERROR)) {
		unsigned long e = bufferevent_get_openssl_error(s->bev);
		char text[256] = "lost connection";

		if (e)
			ERR_error_string_n(e, text, sizeof(text));
		log_info("SSL_accept error from %s: %s", s->namaddr, text);
		log_info("lost connection after %s from %s",
			 s->wrapper_pending ? "CONNECT" : "STARTTLS", s->namaddr);
		session_free(s);
		return;
	}
	if (s->state == S_GREET || s->commands_total == 0)
		after = "CONNECT";
	else if (s->state == S_DATA)
		after = "DATA";
	else if (s->state == S_AUTH)
		after = "AUTH";
	if (what & BEV_EVENT_TIMEOUT) {
		if (s->state == S_TLS) {
			/* no 421 through a handshake that never finished: it would never drain */
			log_info("timeout after %s from %s", s->wrapper_pending ? "CONNECT" : "STARTTLS",
				 s->namaddr);
			session_free(s);
			return;
		}
		if (s->state != S_CLOSE) {
			/* A peer that does not read either hits the write timeout. */
			smtpd_session_timeout(s);
			return;
		}
		log_info("timeout after %s from %s", after, s->namaddr);
		session_free(s);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (!s->closing)
		{
			if (s->state == S_DATA)
				log_info("lost connection after DATA (%ld bytes) from %s", s->msg_size,
					 s->namaddr);
			else
				log_info("lost connection after %s from %s", after, s->namaddr);
		}
		session_free(s);
	}
}

/* connect_checked - client-stage restrictions are in: greet */
static void connect_checked(void *ctx, struct smtpd_verdict *v)
{
	struct smtpd_session *s = ctx;

	s->run = NULL;
	if (v->decision == SMTPD_DISCONNECT) {
		smtpd_log_reject(s, "CONNECT", verdict_log(v));
		smtpd_reply_raw(s, buf_cstr(&v->reply));
		smtpd_close_after_reply(s);
		return;
	}
	if (v->decision != SMTPD_OK) {
		s->connect_rejected = true;
		buf_set(&s->connect_verdict.reply, buf_cstr(&v->reply));
		smtpd_log_reject(s, "CONNECT", verdict_log(v));
	}
	if (s->state == S_WAIT) {
		s->state = S_CMD;
		smtpd_resume(s);
	}
}

/* session_greet - 220 banner, then the client-stage checks */
static void session_greet(struct smtpd_session *s)
{
	struct smtpd_facts f;

	if (s->closing)
		return;
	{
		struct buf b = BUF_INIT;

		buf_printf(&b, R_GREETING, s->srv->set.banner);
		smtpd_reply_raw(s, buf_cstr(&b));
		buf_free(&b);
	}
	smtpd_deadline_start(s);
	s->state = S_WAIT;
	smtpd_fill_facts(s, &f);
	s->run = smtpd_check_run(s->checks, SMTPD_STAGE_CONNECT, &f, connect_checked, s);
}

/* greet_timer - smtpd_greet_pause is over, or the peer name is known */
static void greet_timer(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	session_greet(ctx);
}

/* peer_known - the client name lookup is done: log and greet */
static void peer_known(struct smtpd_session *s)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s[%s]", s->name, s->addr);
	free(s->namaddr);
	s->namaddr = buf_steal(&b);
	log_info("connect from %s", s->namaddr);
	if (s->srv->set.tls_wrapper) {
		smtpd_tls_start(s, true);	/* the handshake's end greets */
		return;
	}
	if (s->srv->set.greet_pause > 0) {
		struct timeval tv = { s->srv->set.greet_pause, 0 };

		evtimer_assign(s->timer, s->srv->base, greet_timer, s);
		evtimer_add(s->timer, &tv);
		return;
	}
	session_greet(s);
}

/* smtpd_session_callbacks - (re)attach our callbacks to s->bev */
void smtpd_session_callbacks(struct smtpd_session *s)
{
	bufferevent_setcb(s->bev, session_read, session_write, session_event, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, SMTPD_READ_HIWAT);
}

/* name_done - c-ares verdict on the client's name */
static void name_done(void *ctx, const char *name, const char *reverse)
{
	struct smtpd_session *s = ctx;

	s->dns_req = NULL;
	s->dns_done = true;
	if (name && *name) {
		free(s->name);
		s->name = xstrdup(name);
	}
	if (reverse && *reverse) {
		free(s->reverse_name);
		s->reverse_name = xstrdup(reverse);
	}
	peer_known(s);
}

/* sockaddr_text - numeric address and port */
static void sockaddr_text(const struct sockaddr *sa, char *addr, size_t alen, int *port)
{
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], addr, (socklen_t)alen);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, addr, (socklen_t)alen);
		*port = ntohs(s6->sin6_port);
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, addr, (socklen_t)alen);
		*port = ntohs(s4->sin_port);
	} else {
		snprintf(addr, alen, "127.0.0.1");	/* UNIX socket: local client */
		*port = 0;
	}
}

/* smtpd_session_start - a new connection from the listener */
void smtpd_session_start(struct smtpd_server *srv, int fd, const struct sockaddr *sa,
			 socklen_t salen)
{
	struct smtpd_session *s;
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	char addr[INET6_ADDRSTRLEN];
	int port = 0;
	bool exempt;

	(void)salen;
	sockaddr_text(sa, addr, sizeof(addr), &port);
	exempt = smtpd_client_listed(srv->limit_exceptions, "smtpd_client_event_limit_exceptions",
				     addr);
	if (!smtpd_connection_limits(srv, fd, addr, exempt))
		return;
	s = xcalloc(1, sizeof(*s));
	s->srv = srv;
	s->fd = fd;
	s->limit_exempt = exempt;
	s->bare_nl_ok = srv->set.forbid_bare_newline &&
			smtpd_client_listed(srv->bare_nl_exceptions,
					    "smtpd_forbid_bare_newline_exclusions", addr);
	memcpy(s->addr, addr, sizeof(addr));
	s->port = port;
	if (getsockname(fd, (struct sockaddr *)&local, &llen) == 0)
		sockaddr_text((struct sockaddr *)&local, s->server_addr, sizeof(s->server_addr),
			      &s->server_port);
	s->name = xstrdup("unknown");
	s->reverse_name = xstrdup("unknown");
	s->state = S_GREET;
	s->last_verb = VERB_UNKNOWN;
	smtpd_mailparams_init(&s->mail);
	smtpd_mailparams_init(&s->rcptp);
	smtpd_verdict_init(&s->connect_verdict);
	smtpd_verdict_init(&s->pending);
	s->checks = smtpd_check_session_new(srv->checks);
	s->timer = evtimer_new(srv->base, greet_timer, s);
	s->bev = bufferevent_socket_new(srv->base, fd, 0);
	smtpd_session_callbacks(s);
	{
		struct timeval tv = { srv->set.timeout, 0 };

		bufferevent_set_timeouts(s->bev, &tv, &tv);
	}
	bufferevent_enable(s->bev, EV_READ);
	srv->nsessions++;
	{
		struct buf b = BUF_INIT;

		buf_printf(&b, "unknown[%s]", s->addr);
		s->namaddr = buf_steal(&b);
	}
	if (srv->set.peername_lookup && srv->dns) {
		/* The answer may come at once (/etc/hosts): keep the handle only
		 * while the lookup is really in flight. */
		struct smtpd_dns_req *r = smtpd_dns_client_name(srv->dns, sa, name_done, s);

		if (!s->dns_done)
			s->dns_req = r;
	} else {
		peer_known(s);
	}
}

/* log_disconnect - "disconnect from host[addr] ehlo=1 mail=1 … commands=N" */
static void log_disconnect(struct smtpd_session *s)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < sizeof(summary_order) / sizeof(summary_order[0]); i++) {
		const struct smtpd_count *c = &s->count[summary_order[i]];
		struct buf name = BUF_INIT;

		if (c->total == 0)
			continue;
		buf_set(&name, smtpd_verb_name(summary_order[i]));
		for (char *p = name.data; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		if (c->ok == c->total)
			buf_printf(&b, " %s=%u", buf_cstr(&name), c->ok);
		else
			buf_printf(&b, " %s=%u/%u", buf_cstr(&name), c->ok, c->total);
		buf_free(&name);
	}
	if (s->commands_ok == s->commands_total && s->commands_total > 0)
		buf_printf(&b, " commands=%u", s->commands_ok);
	else
		buf_printf(&b, " commands=%u/%u", s->commands_ok, s->commands_total);
	log_info("disconnect from %s%s", s->namaddr, buf_cstr(&b));
	buf_free(&b);
}

/* smtpd_session_release - the deferred end of a session (see session_free) */
void smtpd_session_release(struct smtpd_session *s)
{
	s->free_pending = false;
	session_free(s);
}

/* session_free - end of a session, whatever the reason */
static void session_free(struct smtpd_session *s)
{
	struct smtpd_server *srv = s->srv;

	if (s->finishing) {
		/* cleanup_finish() still holds us as its context: wait for it. */
		s->free_pending = true;
		s->closing = true;
		s->state = S_CLOSE;
		bufferevent_disable(s->bev, EV_READ | EV_WRITE);
		bufferevent_setcb(s->bev, NULL, NULL, NULL, NULL);
		evtimer_del(s->timer);
		return;
	}

	if (s->dns_req)
		smtpd_dns_cancel(&s->dns_req);
	log_disconnect(s);
	smtpd_notice_send(s);
	smtpd_transaction_reset(s);
	if (s->sasl)
		smtpd_sasl_free(&s->sasl);
	smtpd_check_session_free(&s->checks);
	smtpd_verdict_free(&s->connect_verdict);
	smtpd_verdict_free(&s->pending);
	smtpd_mailparams_free(&s->mail);
	smtpd_mailparams_free(&s->rcptp);
	if (s->timer)
		event_free(s->timer);
	if (s->deadline_ev)
		event_free(s->deadline_ev);
	bufferevent_free(s->bev);
	smtpd_tls_session_free(s);
	close(s->fd);
	smtpd_anvil_disconnect(srv->anvil, s->addr, time(NULL));
	free(s->name);
	free(s->reverse_name);
	free(s->namaddr);
	free(s->helo);
	free(s->etrn_domain);
	free(s->sasl_method);
	free(s->sasl_username);
	free(s->ccert_fingerprint);
	free(s->ccert_pkey_fingerprint);
	free(s->ccert_subject);
	free(s->ccert_issuer);
	free(s);
	srv->nsessions--;
	if (srv->stopping && srv->nsessions == 0)
		event_base_loopexit(srv->base, NULL);
}
