/*
 * deliver - the delivery agents (src/deliver) and what they share.
 *
 * deliver_agents[] maps master.cf commands to agents: "smtp" and "lmtp"
 * (the client), "local" (aliases, .forward, mailbox), "virtual" (virtual
 * mailbox domains). error and discard are the queue module's. Each agent
 * fills every recipient's result (delivery.h); none of them exits or
 * aborts on bad mail: trouble becomes a deferral or a bounce with an
 * enhanced status code that says why.
 *
 * The helpers below are shared by the agents: per-recipient results,
 * reading the content range of the queue file, the headers prepended at
 * delivery (Return-Path, X-Original-To, Delivered-To), and running a
 * piece of delivery as another user (in a forked child when root).
 *
 * Public: deliver_agents[], deliver_agent_find, deliver_set, deliver_set_all,
 * deliver_content_read, deliver_prepend_headers, deliver_loop_check,
 * deliver_as_user, deliver_status_name, deliver_log_result,
 * deliver_set_resubmit, deliver_resubmit, deliver_exec.
 */
#ifndef OUTPOST_DELIVER_DELIVER_H
#define OUTPOST_DELIVER_DELIVER_H

#include <stdbool.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "mail/delivery.h"

extern const struct delivery_agent deliver_agents[];

const struct delivery_agent *deliver_agent_find(const char *command);

/* The agents (one file each). */
void deliver_local(struct delivery *d);
void deliver_virtual(struct delivery *d);
void deliver_smtp(struct delivery *d);
void deliver_lmtp(struct delivery *d);
void deliver_pipe(struct delivery *d);

/* Record one recipient's outcome: status from dsn's class digit. */
void deliver_set(struct delivery_rcpt *r, const char *dsn, const char *relay,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same outcome for every recipient still pending. */
void deliver_set_all(struct delivery *d, const char *dsn, const char *relay,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
const char *deliver_status_name(enum delivery_status st);

/* Log "QUEUEID: to=<…>, [orig_to=<…>,] relay=…, delay=…, delays=…, dsn=…, status=…". */
void deliver_log_result(const struct delivery *d, const struct delivery_rcpt *r);

/* The whole content (LF line ends) into out; -1 with errno on I/O error. */
int deliver_content_read(const struct delivery *d, struct buf *out);

/* Return-Path, X-Original-To (when it differs), Delivered-To. */
void deliver_prepend_headers(const struct delivery *d,
			     const struct delivery_rcpt *r, bool delivered_to,
			     struct buf *out);

/* A Delivered-To: header in content that names addr (case-insensitive): a loop. */
bool deliver_loop_check(const struct buf *content, const char *addr);

/*
 * Run fn(ctx, result) as uid/gid (with that user's supplementary groups
 * when name is non-NULL). As root this happens in a forked child that
 * changes identity and sends the result back through a pipe; otherwise it
 * runs in this process (the caller's identity is already unprivileged).
 * result is a small fixed record: status dsn and reply text.
 */
struct deliver_outcome {
	char dsn[16];		/* "" = not set: treated as 4.3.0 */
	char text[2048];	/* room for a command's output (pipe(8) keeps ~2000 bytes) */
};
typedef void (*deliver_as_fn)(void *ctx, struct deliver_outcome *out);
void deliver_as_user(uid_t uid, gid_t gid, const char *name, deliver_as_fn fn,
		     void *ctx, struct deliver_outcome *out);

/*
 * Mail that local delivery forwards (aliases, .forward, :include:) is a new
 * message and goes through cleanup like any local submission, so that
 * canonical(5), virtual(5) and masquerading reach the new recipients.
 * cleanup is a sibling module: the program that runs the agents (cli)
 * hands over the way in with deliver_set_resubmit(); without one,
 * forwarding defers.
 */
struct deliver_resubmit {
	const char *sender;		/* "" for the null sender */
	const char *envid, *ret;	/* DSN ENVID and RET, or NULL */
	bool smtputf8;
	bool body_8bit;			/* BODY=8BITMIME */
	const struct strv *rcpt;	/* the new recipients */
	const char *orcpt;		/* DSN ORCPT for each, or NULL */
	const char *original;		/* their original recipient, or NULL */
	unsigned notify;		/* QFILE_NOTIFY_* bits, 0 = not given */
	const char *prepend;		/* header lines to put on top, or "" */
	const struct buf *content;	/* the message, LF line ends */
};
/* 0 with the new queue ID, or -1 with the reason ("451 4.3.0 …") */
typedef int (*deliver_resubmit_fn)(struct config *cf, const struct deliver_resubmit *m,
				   struct buf *queue_id, struct buf *err);
void deliver_set_resubmit(deliver_resubmit_fn fn);
int deliver_resubmit(struct config *cf, const struct deliver_resubmit *m,
		     struct buf *queue_id, struct buf *err);

/*
 * Run a program with input on its standard input (deliver_exec.c), as the
 * caller's identity: stdout and stderr are collected together (the first
 * output_max bytes, 0 = 8192), a time limit kills its process group.
 * dir: where it runs; when it cannot be entered the command fails with
 * EX_TEMPFAIL if dir_required, else it runs in "/". -1 with errno when no
 * process could be started.
 */
struct deliver_exec {
	char *const *argv;	/* argv[0] is the program's path */
	char *const *envp;
	const char *dir;
	bool dir_required;
	long time_limit;	/* seconds; 0 = 1000 */
	size_t output_max;
};
struct deliver_exec_result {
	int status;		/* as from waitpid() */
	bool timed_out;
	struct buf output;	/* the caller frees it */
};
int deliver_exec(const struct deliver_exec *x, const struct buf *input,
		 struct deliver_exec_result *res);

/* Fill an outcome like deliver_set. */
void deliver_outcome_set(struct deliver_outcome *o, const char *dsn,
			 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
