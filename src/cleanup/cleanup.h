/*
 * cleanup - turns one incoming message (envelope + content) into a durable
 * queue file: Received: header, rewriting (canonical, virtual aliases,
 * masquerading), header/body checks, duplicate recipients, then write and
 * fsync (group commit) before the caller may say 250.
 *
 * Used in-process by smtpd (event-driven), by local submission
 * (sendmail/pickup) and by local delivery for the mail it forwards
 * (aliases, .forward: proto "local", internal, as Postfix's local(8)
 * hands such mail to cleanup: rewritten, not checked again). Content arrives one logical line at a time, without
 * the line terminator, already dot-unstuffed; the rest of an over-long
 * line that the reader had to cut goes to cleanup_line_cont(), which joins
 * it to the line before (no line break is added).
 *
 * Errors: cleanup_open() returns NULL with err holding an SMTP reply
 * ("451 4.3.0 …", "452 4.3.1 Insufficient system storage"). The done
 * callback of cleanup_finish() gets either status 0 and the queue ID, or a
 * non-zero status with the full SMTP reply to send. Nothing accepted is
 * lost: a failed finish leaves no queue file behind; a successful one is
 * on disk before the callback runs.
 *
 * Content errors (size, hop count, header/body check REJECT, alias
 * expansion trouble, write errors) stick to the message: cleanup_line()
 * keeps returning 0 and cleanup_finish() reports the reply below. Without
 * an event loop (cleanup_init(NULL, …)) the commit is synchronous and
 * cleanup_finish_sync() returns the outcome directly.
 *
 * Headers of clients matched by local_header_rewrite_clients (and of
 * local submission) get their addresses rewritten and missing
 * Message-ID/Date/From added, as Postfix does; others only when
 * always_add_missing_headers / remote_header_rewrite_domain say so.
 */
#ifndef OUTPOST_CLEANUP_CLEANUP_H
#define OUTPOST_CLEANUP_CLEANUP_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "lib/buf.h"

struct event_base;

/* What smtpd knows about the client; all strings may be NULL. */
struct cleanup_client {
	const char *addr;		/* "192.0.2.1" / "2001:db8::1" */
	const char *name;		/* verified client name or "unknown" */
	const char *reverse_name;	/* PTR name, unverified */
	int port;
	const char *helo;
	const char *proto;		/* SMTP ESMTP ESMTPS ESMTPA ESMTPSA, or "local" */
	const char *sasl_method;
	const char *sasl_username;
	const char *tls_summary;	/* "(using TLSv1.3 with cipher … (256/256 bits))" */
	const char *server_name;	/* myhostname of the receiving service */
	const char *local_user;		/* sendmail: the submitting login */
	bool internal;			/* mail the system sends on itself (local(8)
					 * forwarding): no header/body checks */
};

/* DSN NOTIFY bits (RFC 3461) */
#define CLEANUP_NOTIFY_NEVER	(1u << 0)
#define CLEANUP_NOTIFY_SUCCESS	(1u << 1)
#define CLEANUP_NOTIFY_FAILURE	(1u << 2)
#define CLEANUP_NOTIFY_DELAY	(1u << 3)

/* Replies cleanup_finish() reports (Postfix's wording). */
#define CLEANUP_R_WRITE		"451 4.3.0 Error: queue file write error"
#define CLEANUP_R_NOSPACE	"452 4.3.1 Insufficient system storage"
#define CLEANUP_R_SIZE		"552 5.3.4 Message size exceeds fixed limit"
#define CLEANUP_R_HOPS		"554 5.4.0 Error: too many hops"
#define CLEANUP_R_ALIAS		"451 4.6.0 Alias expansion error"
#define CLEANUP_R_CONTENT	"550 5.7.1 message content rejected"
#define CLEANUP_R_NORCPT	"554 5.5.1 Error: no valid recipients"

struct cleanup;

typedef void (*cleanup_done_fn)(void *ctx, int status, const char *queue_id,
				const char *reply);

int cleanup_init(struct event_base *base, struct config *cf, struct buf *err);
struct cleanup *cleanup_open(struct config *cf, const struct cleanup_client *c,
			     struct buf *err);
const char *cleanup_queue_id(const struct cleanup *c);
void cleanup_sender(struct cleanup *c, const char *sender, const char *ret,
		    const char *envid, long declared_size, bool smtputf8);
/* BODY=8BITMIME was declared: kept in the queue file, so that the SMTP
 * client declares it again on the way out. */
void cleanup_body_8bit(struct cleanup *c, bool yes);
void cleanup_recipient(struct cleanup *c, const char *rcpt, const char *orcpt,
		       unsigned notify);
/* The same with the original recipient kept from an earlier queue file. */
void cleanup_recipient_orig(struct cleanup *c, const char *rcpt, const char *orcpt,
			    unsigned notify, const char *original);
/* cleanup_full_name - the submitter's full name, for a From: header that
 * cleanup adds (local submission) */
void cleanup_full_name(struct cleanup *c, const char *name);
int cleanup_line(struct cleanup *c, const char *line, size_t len);
int cleanup_line_cont(struct cleanup *c, const char *text, size_t len);
int cleanup_text(struct cleanup *c, const char *text, size_t len);

/* Actions from access tables and policy services (access(5)). */
void cleanup_hold(struct cleanup *c, const char *reason);
void cleanup_discard(struct cleanup *c, const char *reason);
void cleanup_filter(struct cleanup *c, const char *transport_nexthop);
void cleanup_redirect(struct cleanup *c, const char *address);
void cleanup_bcc(struct cleanup *c, const char *address);
void cleanup_prepend(struct cleanup *c, const char *header);

void cleanup_finish(struct cleanup *c, cleanup_done_fn done, void *ctx);
int cleanup_finish_sync(struct cleanup *c, struct buf *queue_id, struct buf *reply);
void cleanup_abort(struct cleanup **cp);
void cleanup_shutdown(void);

#endif
