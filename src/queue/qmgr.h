/*
 * qmgr - the queue manager: takes committed messages from incoming/ (and,
 * when due, deferred/), routes every recipient to (transport, nexthop),
 * runs delivery agents in worker processes it keeps (qmgr_worker.c) with
 * per-transport and per-destination concurrency, records each recipient's result in the
 * queue file, retries with backoff, and sends DSNs (bounce.c).
 *
 * Agents: the cli layer registers the delivery agents it links in
 * (qmgr_register_agents) before the master starts qmgr; qmgr adds its own
 * `error` and `discard`. A transport (master.cf service name) maps to its
 * agent by the service's command ("smtp", "local", …), or by its own name
 * when master.cf has no such service.
 *
 * Control: the FIFO queue_directory/public/qmgr takes one command per line:
 *	W            new mail in incoming/ or maildrop/
 *	F            flush: everything deferred is due now
 *	F DOMAIN     flush deferred mail with a recipient in DOMAIN
 *	I QUEUEID    this message is due now
 *
 * Public: qmgr_service_main, qmgr_register_agents, qmgr_backoff,
 * qmgr_window_*, qmgr_format_delay.
 */
#ifndef OUTPOST_QUEUE_QMGR_H
#define OUTPOST_QUEUE_QMGR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config/config.h"
#include "mail/delivery.h"

/* qmgr_register_agents - agents available to transports (copied); stops
 * at n or at an entry with a NULL command, so (size_t)-1 takes a
 * NULL-terminated table such as deliver_agents[] */
void qmgr_register_agents(const struct delivery_agent *agents, size_t n);
const struct delivery_agent *qmgr_find_agent(const char *command);

/* the master's entry point; fds are the service's listeners (the FIFO) */
int qmgr_service_main(struct config *cf, const struct master_service *svc, const int *fds,
		      size_t nfds);

/* ---- pure scheduling parts (qmgr_sched.c), unit-tested ---- */

/* qmgr_backoff - seconds until the next attempt of a message this old:
 * its age, clamped to [min, max], so waits double as the message ages */
long qmgr_backoff(long age, long min_backoff, long max_backoff);

/* Per-destination concurrency window with slow start: it starts at the
 * initial concurrency, grows by positive/window per success up to the
 * limit, shrinks by negative/window per failure down to 1; after
 * failed_cohort_limit consecutive failed cohorts (window's worth of
 * failures) the destination counts as dead. */
struct qmgr_window {
	double window;
	double failed;		/* failed pseudo-cohorts in a row */
	long limit;		/* 0 = no limit */
	long cohort_limit;
	double positive;
	double negative;
};

void qmgr_window_init(struct qmgr_window *w, long initial, long limit, long cohort_limit,
		      double positive, double negative);
void qmgr_window_success(struct qmgr_window *w);
/* returns true when the destination is now dead */
bool qmgr_window_failure(struct qmgr_window *w);
/* may another delivery start with `active` running? */
bool qmgr_window_allows(const struct qmgr_window *w, long active);

/* qmgr_format_delay - Postfix's delay style: "0", "0.46", "1.2", "33" */
void qmgr_format_delay(char *out, size_t size, double seconds);

#endif
