/*
 * smtpd - the SMTP server's internal interfaces: the per-process server,
 * the per-connection session, and the functions the verb files
 * (smtpd_cmd_*.c) share with the session engine (smtpd_session.c).
 *
 * One process runs one libevent loop and holds every session; nothing
 * blocks: restriction checks, SASL, DNS and the queue commit complete
 * through callbacks, and while one is outstanding the session simply stops
 * reading commands (the others carry on).
 */
#ifndef OUTPOST_SMTPD_SMTPD_H
#define OUTPOST_SMTPD_SMTPD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include "config/config.h"
#include "lib/buf.h"
#include "lib/str.h"
#include "smtpd/smtpd_check.h"
#include "smtpd/smtpd_parse.h"

struct event_base;
struct event;
struct bufferevent;
struct evbuffer;
struct ssl_ctx_st;
struct ssl_st;
struct cleanup;
struct smtpd_anvil;
struct smtpd_sasl;
struct smtpd_sasl_backend;
struct smtpd_dns;
struct smtpd_dns_req;
struct resolve_list;

enum tls_level { TLS_NONE, TLS_MAY, TLS_ENCRYPT };

/* main.cf settings, read once per process (smtpd_settings.c) */
struct smtpd_settings {
	char *myhostname;
	char *banner;
	long line_length_limit;
	long message_size_limit;
	long recipient_limit;
	long recipient_overshoot_limit;
	long hard_error_limit;
	long soft_error_limit;
	long error_sleep_time;
	long timeout;
	long junk_command_limit;
	bool forbid_unauth_pipelining;
	bool forbid_bare_newline;
	bool strict_rfc821;
	bool peername_lookup;
	bool disable_vrfy;
	bool helo_required;
	bool per_request_deadline;
	long min_data_rate;
	long greet_pause;
	long conn_count_limit;
	long conn_rate_limit;
	long msg_rate_limit;
	long rcpt_rate_limit;
	long auth_rate_limit;
	long rate_time_unit;
	long auth_fail_limit;
	long auth_fail_delay;
	struct strv discard_ehlo;
	bool smtputf8;
	bool strict_smtputf8;
	/* TLS */
	enum tls_level tls_level;
	bool tls_wrapper;
	bool tls_received_header;
	bool tls_ask_ccert;
	char *tls_fingerprint_digest;
	bool tls_auth_only;
	/* SASL */
	bool sasl_enable;
	char *sasl_type;
	char *sasl_path;
	char *sasl_service;
	bool sasl_noplaintext, sasl_noanonymous;
	bool sasl_tls_noplaintext, sasl_tls_noanonymous;
	bool broken_sasl_clients;
	char *sasl_password_maps;
	/* postmaster notices */
	unsigned notify_classes;	/* NOTIFY_* (mail/notify.h) */
	long history_flush;		/* smtpd_history_flush_threshold */
};

/* one process: its listeners, settings and shared services */
struct smtpd_server {
	struct event_base *base;
	struct config *cf;
	const char *service;
	struct smtpd_settings set;
	struct ssl_ctx_st *tls_ctx;
	struct smtpd_checks *checks;
	struct smtpd_anvil *anvil;
	struct smtpd_sasl_backend *sasl;
	struct smtpd_dns *dns;
	struct resolve_list *limit_exceptions;	/* smtpd_client_event_limit_exceptions */
	struct resolve_list *bare_nl_exceptions;	/* smtpd_forbid_bare_newline_exclusions */
	struct event *sigterm, *sighup;
	struct evconnlistener **listeners;
	size_t nlisteners;
	size_t nsessions;
	bool stopping;
};

enum smtpd_state {
	S_GREET,	/* waiting out smtpd_greet_pause / checks before 220 */
	S_CMD,		/* reading commands */
	S_DATA,		/* reading message content */
	S_AUTH,		/* reading an AUTH response line */
	S_WAIT,		/* an async step is outstanding; input waits */
	S_STARTTLS,	/* flushing "220 Ready to start TLS" */
	S_TLS,		/* TLS handshake in progress */
	S_CLOSE,	/* flushing the last reply, then close */
};

/* per-verb counters for the "disconnect from" line */
struct smtpd_count {
	unsigned ok;	/* wide enough for a pipelining flood's counts */
	unsigned total;
};

struct smtpd_session {
	struct smtpd_server *srv;
	struct bufferevent *bev;
	struct event *timer;	/* greet pause, error sleep, auth delay, close */
	struct event *deadline_ev;	/* smtpd_per_request_deadline only */
	double deadline;	/* monotonic seconds */
	int fd;
	enum smtpd_state state;
	char addr[INET6_ADDRSTRLEN];
	char server_addr[INET6_ADDRSTRLEN];
	int port, server_port;
	char *name;		/* verified client name or "unknown" */
	char *reverse_name;	/* PTR name or "unknown" */
	char *namaddr;		/* "name[addr]" for logs */
	struct smtpd_dns_req *dns_req;	/* client name lookup in flight */
	bool dns_done;
	bool limit_exempt;	/* in smtpd_client_event_limit_exceptions */
	bool bare_nl_ok;	/* in smtpd_forbid_bare_newline_exclusions */
	bool wrapper_pending;	/* wrapper mode: greet when the handshake ends */
	char *helo;
	bool esmtp;
	bool tls;
	struct ssl_st *ssl;	/* TLS session once STARTTLS or wrapper mode */
	char *tls_info;		/* "TLSv1.3 with cipher X (256/256 bits)" */
	char *tls_protocol, *tls_cipher;
	int tls_bits;
	char *ccert_fingerprint, *ccert_pkey_fingerprint, *ccert_subject, *ccert_issuer;
	bool ccert_verified;
	/* AUTH */
	struct smtpd_sasl *sasl;
	char *sasl_method, *sasl_username;
	char sasl_method_try[32];	/* mechanism of the AUTH in progress */
	unsigned auth_failures;
	/* transaction */
	char *sender;		/* NULL before MAIL; "" = null sender */
	struct smtpd_mailparams mail;
	size_t rcpt_count;	/* accepted recipients */
	size_t rcpt_tried;
	size_t rcpt_overshoot;	/* RCPTs past smtpd_recipient_limit */
	char *rcpt;		/* current RCPT being checked */
	char *etrn_domain;
	struct smtpd_mailparams rcptp;
	struct cleanup *cleanup;
	char *queue_id;
	struct smtpd_check_session *checks;
	struct smtpd_check_run *run;
	struct smtpd_verdict pending;	/* side effects waiting for the queue file */
	struct smtpd_verdict connect_verdict;	/* a client-stage reject repeats */
	bool connect_rejected;
	/* DATA */
	long msg_size;
	bool msg_too_big;
	bool data_error;
	int data_hdr_state;	/* 0 = in headers, 1 = in body */
	struct timespec deadline_start;
	/* error accounting */
	unsigned errors;
	unsigned junk;
	bool pipelining_violation;
	struct smtpd_count count[VERB_COUNT];
	unsigned commands_ok, commands_total;
	enum smtpd_verb last_verb;	/* for "lost connection after X" */
	bool delivered;		/* mail was accepted in this session */
	bool finishing;		/* cleanup_finish() outstanding */
	bool free_pending;	/* client gone while finishing */
	bool in_read;		/* inside the read loop (no re-entry) */
	bool out_blocked;	/* replies piled up unread: input paused */
	bool data_cont;		/* the last DATA piece ended without LF */
	bool closing;
	/* postmaster notices (notify_classes) */
	struct buf transcript;	/* " In:  …" / " Out: …" lines since the last flush */
	unsigned transcript_lines;
	unsigned notice_errors;	/* NOTIFY_* classes of the error replies sent */
};

/* postmaster notices about sessions (smtpd_notice.c) */
void smtpd_notice_in(struct smtpd_session *s, const char *line, enum smtpd_verb v);
void smtpd_notice_out(struct smtpd_session *s, const char *text);
void smtpd_notice_flush(struct smtpd_session *s);
void smtpd_notice_send(struct smtpd_session *s);

/* session engine (smtpd_session.c) */
void smtpd_session_start(struct smtpd_server *srv, int fd, const struct sockaddr *sa,
			 socklen_t salen);
void smtpd_reply(struct smtpd_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void smtpd_reply_raw(struct smtpd_session *s, const char *text);
void smtpd_reply_error(struct smtpd_session *s, const char *text);
void smtpd_resume(struct smtpd_session *s);
void smtpd_close_after_reply(struct smtpd_session *s);
void smtpd_fill_facts(struct smtpd_session *s, struct smtpd_facts *f);
void smtpd_transaction_reset(struct smtpd_session *s);
void smtpd_log_reject(struct smtpd_session *s, const char *stage, const char *log_text);
const char *smtpd_proto_name(const struct smtpd_session *s);
void smtpd_count_ok(struct smtpd_session *s, enum smtpd_verb v);
bool smtpd_client_listed(struct resolve_list *l, const char *param, const char *addr);
void smtpd_deadline_start(struct smtpd_session *s);
void smtpd_deadline_credit(struct smtpd_session *s, size_t bytes);
void smtpd_session_timeout(struct smtpd_session *s);
bool smtpd_connection_limits(struct smtpd_server *srv, int fd, const char *addr, bool exempt);
void smtpd_session_release(struct smtpd_session *s);
unsigned smtpd_parse_allow(const struct smtpd_session *s);
bool smtpd_tls_required(struct smtpd_session *s);

/* verbs (one file each; each returns after queueing its reply or going async) */
void smtpd_cmd_helo(struct smtpd_session *s, const struct smtpd_cmdline *c);
void smtpd_cmd_ehlo(struct smtpd_session *s, const struct smtpd_cmdline *c);
void smtpd_cmd_mail(struct smtpd_session *s, const struct smtpd_cmdline *c);
void smtpd_cmd_rcpt(struct smtpd_session *s, const struct smtpd_cmdline *c);
void smtpd_cmd_data(struct smtpd_session *s, const struct smtpd_cmdline *c);
void smtpd_data_line(struct smtpd_session *s, const char *line, size_t len, bool cont);
void smtpd_data_end(struct smtpd_session *s);
void smtpd_cmd_rset(struct smtpd_session *s, const struct smtpd_cmdline *c);
void smtpd_cmd_noop(struct smtpd_session *s, const struct smtpd_cmdline *c);
void smtpd_cmd_quit(struct smtpd_session *s, const struct smtpd_cmdline *c);
void smtpd_cmd_vrfy(struct smtpd_session *s, const struct smtpd_cmdline *c);
void smtpd_cmd_etrn(struct smtpd_session *s, const struct smtpd_cmdline *c);
void smtpd_cmd_starttls(struct smtpd_session *s, const struct smtpd_cmdline *c);
void smtpd_cmd_auth(struct smtpd_session *s, const struct smtpd_cmdline *c);
void smtpd_auth_line(struct smtpd_session *s, const char *line);
bool smtpd_auth_offered(const struct smtpd_session *s);

/* settings (smtpd_settings.c) */
int smtpd_settings_load(struct config *cf, struct smtpd_settings *set, struct buf *err);
void smtpd_settings_free(struct smtpd_settings *set);

/* TLS (smtpd_tls.c) */
struct ssl_ctx_st *smtpd_tls_ctx_new(struct config *cf, const struct smtpd_settings *set,
				     struct buf *err);
void smtpd_tls_ctx_free(struct ssl_ctx_st **ctxp);
int smtpd_tls_start(struct smtpd_session *s, bool wrapper);
void smtpd_session_callbacks(struct smtpd_session *s);
void smtpd_tls_handshake_done(struct smtpd_session *s);
void smtpd_tls_session_free(struct smtpd_session *s);
void smtpd_tls_received(const struct smtpd_session *s, struct buf *out);

#endif
