/*
 * delivery - one delivery request from the scheduler (qmgr) to a delivery
 * agent, and the per-recipient results the agent fills in.
 *
 * The request carries everything an agent needs (envelope, content as a
 * byte range of an open queue file, the transport's configuration), so
 * agents never parse queue files. Agents run synchronously in a worker
 * process that qmgr forks and keeps for many requests (qmgr_worker.c), so
 * an agent may keep state between calls; it fills every recipient's
 * result before returning.
 *
 * Content: RFC 5322 text with LF line ends, exactly as queued (cleanup's
 * Received: header included); agents add Return-Path/Delivered-To and
 * convert to CRLF + dot-stuffing on the wire.
 */
#ifndef OUTPOST_MAIL_DELIVERY_H
#define OUTPOST_MAIL_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "config/config.h"
#include "lib/buf.h"

enum delivery_status {
	DELIVERY_PENDING = 0,	/* not tried (agent must not leave this) */
	DELIVERY_SENT,		/* 2xx: done; success DSN if NOTIFY=SUCCESS */
	DELIVERY_DEFERRED,	/* 4xx or local trouble: retry later */
	DELIVERY_BOUNCED,	/* 5xx: non-delivery notice to the sender */
};

struct delivery_rcpt {
	/* in */
	const char *address;	/* envelope recipient after rewriting */
	const char *orcpt;	/* DSN ORCPT ("rfc822;user@x") or NULL */
	const char *original;	/* recipient as first received (enable_original_recipient) */
	unsigned notify;	/* CLEANUP_NOTIFY_* bits from cleanup.h */
	size_t index;		/* position in the queue file */
	/* out */
	enum delivery_status status;
	char dsn[16];		/* enhanced status code "2.0.0", "4.4.1", "5.1.1" */
	struct buf reply;	/* "250 2.0.0 Ok: queued as X" / "delivered to maildir" */
	struct buf relay;	/* "mx.example.com[192.0.2.1]:25", "local", "virtual", "none" */
	double conn_delay;	/* seconds: connection setup (delays=a/b/c/d's c) */
	double xfer_delay;	/* seconds: transmission (d) */
};

struct delivery {
	const char *queue_id;
	const char *transport;	/* master.cf service name: smtp, relay, lmtp, local, virtual, error, discard, … */
	const char *nexthop;	/* "example.com", "[mx.example.com]:587", "unix:/path", error text, … */
	struct config *cf;	/* main.cf seen through the transport's -o overrides */
	const char *sender;	/* "" for the null sender */
	const char *envid;	/* DSN ENVID or NULL */
	const char *ret;	/* "FULL", "HDRS" or NULL */
	bool smtputf8;
	bool body_8bit;		/* BODY=8BITMIME */
	time_t arrival;
	double queue_delay;	/* seconds before this attempt (delays a + b) */
	int content_fd;		/* open queue file */
	off_t content_offset;	/* where the message text starts */
	off_t content_length;
	size_t nrcpt;
	struct delivery_rcpt *rcpt;
};

/* An agent: fill every rcpt[i].status/dsn/reply/relay. */
typedef void (*delivery_agent_fn)(struct delivery *d);
/* Called about once a second while an agent process waits for work, so
 * state kept between deliveries (a cached connection) can age out. */
typedef void (*delivery_idle_fn)(void);

/* A transport command name (master.cf "command" column) -> its agent. */
struct delivery_agent {
	const char *command;	/* "smtp", "lmtp", "local", "virtual", "error", "discard", "pipe" */
	delivery_agent_fn fn;
	delivery_idle_fn idle;	/* optional */
};

#endif
