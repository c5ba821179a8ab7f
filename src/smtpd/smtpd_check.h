/*
 * smtpd_check - Postfix's restriction lists (smtpd_*_restrictions) as a
 * library over a transaction's facts, separate from the network code, so
 * `outpost explain` and tests replay a transaction through the same code.
 *
 * The engine is asynchronous: a policy service, a DNS lookup or a network
 * table may take time, so a check completes through a callback. The
 * callback may run before smtpd_check_run() returns (all-local lookups);
 * callers must allow for that. smtpd_check_cancel() guarantees the callback
 * never runs afterwards (client went away).
 *
 * Bad configuration (unknown restriction, bad table) is reported by
 * smtpd_checks_new() with the parameter name; at run time a table or
 * policy failure becomes a 4xx verdict ("451 4.3.5 Server configuration
 * error"), never a silent permit.
 */
#ifndef OUTPOST_SMTPD_SMTPD_CHECK_H
#define OUTPOST_SMTPD_SMTPD_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "lib/buf.h"
#include "lib/str.h"

struct event_base;

enum smtpd_stage {
	SMTPD_STAGE_CONNECT,	/* smtpd_client_restrictions (unless delayed) */
	SMTPD_STAGE_HELO,	/* smtpd_helo_restrictions (unless delayed) */
	SMTPD_STAGE_MAIL,	/* smtpd_sender_restrictions (unless delayed) */
	SMTPD_STAGE_RCPT,	/* (delayed lists), relay, recipient */
	SMTPD_STAGE_DATA,	/* smtpd_data_restrictions */
	SMTPD_STAGE_END_OF_DATA,	/* smtpd_end_of_data_restrictions */
	SMTPD_STAGE_ETRN,
	SMTPD_STAGE_VRFY,
};

/*
 * Everything the restrictions may look at. Strings may be NULL. Addresses
 * are in internal form, as mail/addr.h parses them: quotes removed, source
 * route dropped ("<\"a b\"@x>" is "a b@x"); replies echo that form, as
 * Postfix does. client_name / reverse_name "unknown" (or NULL) when the
 * lookup failed. At DATA / END-OF-DATA, recipient should hold the
 * recipient when there is exactly one (policy servers get it then).
 */
struct smtpd_facts {
	const char *client_addr;	/* "192.0.2.1", "2001:db8::1" */
	const char *client_name;	/* verified name or "unknown" */
	const char *reverse_name;	/* PTR name or "unknown" */
	int client_port;
	const char *server_addr;
	int server_port;
	const char *helo;
	const char *protocol;		/* "SMTP" / "ESMTP" */
	bool tls;
	const char *tls_protocol;
	const char *tls_cipher;
	int tls_bits;
	const char *ccert_subject;
	const char *ccert_issuer;
	const char *ccert_fingerprint;
	const char *ccert_pubkey_fingerprint;
	bool ccert_verified;
	const char *sasl_method;
	const char *sasl_username;
	const char *sasl_sender;	/* MAIL FROM AUTH= */
	const char *sender;		/* NULL before MAIL; "" = null sender */
	const char *recipient;		/* current RCPT (RCPT stage) */
	size_t recipient_count;
	long size;			/* MAIL SIZE=, or actual at END-OF-DATA */
	const char *queue_id;
	const char *instance;		/* per-message id for policy servers */
	const char *service;		/* master.cf service name */
	const char *etrn_domain;
	bool pipelining_violation;	/* client sent ahead without PIPELINING */
	const char *stress;		/* "yes" under stress, else NULL */
};

enum smtpd_decision {
	SMTPD_OK,		/* go on (list ended, or permit) */
	SMTPD_REJECT,		/* 5xx: reply in verdict.reply */
	SMTPD_DEFER,		/* 4xx: reply in verdict.reply */
	SMTPD_DISCONNECT,	/* 421/521: reply, then close */
};

/* Result of one stage, with access(5) side effects to apply to the message. */
struct smtpd_verdict {
	enum smtpd_decision decision;
	struct buf reply;	/* full reply "554 5.7.1 <x@y>: Relay access denied" */
	struct buf log;		/* what to log after "NOQUEUE: reject: RCPT from …: " */
	/* side effects collected while evaluating (cleanup.h actions) */
	struct strv prepend;	/* PREPEND headers */
	struct strv bcc;
	struct buf hold;	/* HOLD reason, "" if not held; set => hold */
	bool hold_set;
	bool discard;
	struct buf filter;	/* FILTER transport:nexthop */
	struct buf redirect;	/* REDIRECT address */
	struct strv warnings;	/* WARN/INFO texts, and reject_warning lines */
};

struct smtpd_checks;
struct smtpd_check_run;

typedef void (*smtpd_check_done_fn)(void *ctx, struct smtpd_verdict *v);

struct smtpd_checks *smtpd_checks_new(struct config *cf, struct event_base *base,
				      struct buf *err);
void smtpd_checks_free(struct smtpd_checks **cp);

/*
 * Per-session state (DEFER_IF_PERMIT memory, policy instance, DISCARD).
 * Call smtpd_check_session_reset() at each new MAIL (and RSET): it ends the
 * message's sender-level memory and starts a new policy "instance". Once a
 * verdict carried discard, the rest of that message is accepted unchecked
 * (as Postfix does).
 */
struct smtpd_check_session *smtpd_check_session_new(struct smtpd_checks *c);
void smtpd_check_session_free(struct smtpd_check_session **sp);
void smtpd_check_session_reset(struct smtpd_check_session *s);	/* RSET / new MAIL */

/*
 * Evaluate one stage. Returns NULL when the verdict was already delivered
 * through done (all-local lookups: the usual case), else a handle for
 * smtpd_check_cancel(). The verdict passed to done is valid only during
 * the call (copy what you keep); the run frees itself afterwards.
 * Strings in f are copied: the caller may change them at once.
 * Stage rules: MAIL answers "503 5.5.1 Error: send HELO/EHLO first" when
 * smtpd_helo_required = yes and f->helo is unset; with smtpd_delay_reject
 * = yes (default) CONNECT, HELO and MAIL evaluate nothing and RCPT runs
 * client, helo, sender, relay, recipient lists and the unlisted-recipient
 * check (smtpd_reject_unlisted_recipient).
 */
struct smtpd_check_run *smtpd_check_run(struct smtpd_check_session *s,
					enum smtpd_stage stage,
					const struct smtpd_facts *f,
					smtpd_check_done_fn done, void *ctx);
void smtpd_check_cancel(struct smtpd_check_run **rp);

/* Append one line per restriction evaluated, table key tried and decision
 * to trace (for `outpost explain`); NULL stops tracing. */
void smtpd_check_session_trace(struct smtpd_check_session *s, struct strv *trace);

/*
 * `outpost check` lints (cli/checks.c): run the restrictions of main.cf and
 * of every smtpd service for a stranger trying every relay trick; append
 * one "FILE, line N: …" line per finding to out and return their number.
 */
int smtpd_check_lint_relay(struct config *cf, struct strv *out);
int smtpd_check_lint_order(struct config *cf, struct strv *out);

void smtpd_verdict_init(struct smtpd_verdict *v);
void smtpd_verdict_free(struct smtpd_verdict *v);

#endif
