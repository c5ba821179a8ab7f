/*
 * qmgr_impl - the queue manager's in-memory model, shared by qmgr*.c.
 *
 * A message (qmgr_msg) in active/ is split into entries: one entry holds
 * some of its recipients for one destination (transport + nexthop), at most
 * the transport's recipient limit. Destinations queue entries FIFO; each
 * transport serves its destinations round-robin within its process limit
 * and each destination's concurrency window. When a message's last entry
 * finishes, it is removed, deferred or bounced (qmgr_msg_done).
 */
#ifndef OUTPOST_QUEUE_QMGR_IMPL_H
#define OUTPOST_QUEUE_QMGR_IMPL_H

#include <stdbool.h>
#include <sys/time.h>
#include <sys/types.h>

#include "config/config.h"
#include "lib/buf.h"
#include "mail/delivery.h"
#include "mail/qfile.h"
#include "queue/qmgr.h"
#include "queue/queue.h"

struct event_base;
struct event;
struct route_ctx;

struct qmgr_msg {
	struct qfile *q;
	struct timeval active_time;	/* when qmgr took it (delays a/b split) */
	int refs;			/* entries queued or running */
	bool deferred;			/* a recipient was deferred this round */
	bool gone;			/* file vanished (deleted or held by a tool) */
	struct qmgr_msg *prev, *next;
};

struct qmgr_entry {
	struct qmgr_msg *msg;
	struct qmgr_dest *dest;
	size_t *rcpt;			/* indexes into msg->q->rcpt */
	size_t nrcpt;
	struct qmgr_entry *next;
};

struct qmgr_dest {
	char *nexthop;
	struct qmgr_transport *tp;
	struct qmgr_entry *head, **tail;
	struct qmgr_entry *last;	/* tail entry, NULL when empty */
	long queued;			/* entries waiting */
	long active;
	struct qmgr_window win;
	time_t dead_until;		/* 0 = alive */
	char dead_dsn[16];
	char *dead_reason;
	struct qmgr_dest *next;
};

struct qmgr_transport {
	char *name;			/* master.cf service name */
	const struct delivery_agent *agent;
	struct config *cf;		/* main.cf with the service's -o overrides */
	long proc_limit;
	long active;
	long rcpt_limit;
	long dest_limit;
	long initial;
	long cohort_limit;
	struct qmgr_dest *dests;
	struct qmgr_dest *cursor;	/* round-robin position */
	struct qmgr_worker *workers;	/* agent processes, busy or idle */
	long nworkers;			/* of them not retiring */
	struct qmgr_transport *next;
};

struct qmgr_worker {			/* one agent process (qmgr_worker.c) */
	struct qmgr *m;
	struct qmgr_transport *tp;
	pid_t pid;
	int fd;				/* our end of its socketpair */
	struct event *ev;
	struct buf in;			/* result lines so far */
	struct qmgr_entry *entry;	/* the request in flight, NULL when idle */
	struct timeval start;
	time_t idle_since;
	long uses, max_use;
	bool retiring;			/* told to go: no more requests */
	struct qmgr_worker *next;
};

struct qmgr {
	struct config *cf;
	struct event_base *base;
	const char *qdir;
	struct route_ctx *route;
	struct qmgr_transport *transports;
	struct qmgr_msg *msgs;
	size_t nmsgs;
	int fifo_fd;
	int fifo_wfd;			/* keeps the FIFO open so reads never see EOF */
	struct event *fifo_ev;
	struct event *tick_ev;
	struct buf fifo_buf;
	time_t next_deferred_scan;
	bool scan_incoming;
	/* parameters */
	long min_backoff, max_backoff, queue_run_delay;
	long max_lifetime, bounce_lifetime, delay_warning;
	long active_limit;
	long max_idle;			/* seconds an idle worker is kept */
	long bounce_size_limit;
	const char *myhostname;
};

/* qmgr_msg.c */
void qmgr_scan_incoming(struct qmgr *m);
void qmgr_scan_deferred(struct qmgr *m, bool all, const char *domain, const char *id);
void qmgr_msg_done(struct qmgr *m, struct qmgr_msg *msg);
void qmgr_entry_free(struct qmgr_entry **ep);
struct qmgr_transport *qmgr_transport_get(struct qmgr *m, const char *name);

/* qmgr_run.c */
void qmgr_schedule(struct qmgr *m);
void qmgr_apply_result(struct qmgr *m, struct qmgr_entry *e, struct delivery *d,
		       const struct timeval *start);
void qmgr_defer_entry(struct qmgr *m, struct qmgr_entry *e, const char *dsn,
		      const char *reason, const char *relay);

/* qmgr_worker.c */
void qmgr_worker_encode(const struct delivery *d, struct buf *out);
int qmgr_worker_decode(const char *data, size_t len, struct delivery *d, struct strv *keep);
void qmgr_result_format(const struct delivery *d, struct buf *out);
int qmgr_worker_send(int sock, const struct delivery *d);
struct qmgr_worker *qmgr_worker_spawn(struct qmgr *m, struct qmgr_transport *tp);
void qmgr_workers_close(struct qmgr *m);

/* qmgr_log.c */
void qmgr_log_rcpt(struct qmgr *m, struct qmgr_msg *msg, size_t idx,
		   const struct delivery_rcpt *r, const struct timeval *start);

/* bounce.c */
enum bounce_kind { BOUNCE_FAILED, BOUNCE_DELAYED, BOUNCE_DELIVERED };
/* bounce_notify - queue a DSN for the given recipients; 0 or -1 */
int bounce_notify(struct qmgr *m, struct qfile *q, enum bounce_kind kind,
		  const struct queue_log_entry *entries, size_t n, char *new_id, size_t idsize);

/* qmgr_agents.c */
void qmgr_agent_error(struct delivery *d);
void qmgr_agent_discard(struct delivery *d);

#endif
