/*
 * qmgr_run - running deliveries: pick the next entry fairly among
 * destinations, hand it to an idle worker of the transport (forking one
 * when the transport has room, qmgr_worker.c), read per-recipient results
 * back, record them in the queue file and the logs, and feed the
 * destination's concurrency window.
 *
 * Public (qmgr_impl.h): qmgr_schedule, qmgr_apply_result, qmgr_defer_entry,
 * qmgr_workers_close.
 * Trouble: an agent that dies or leaves a recipient without a result
 * defers that recipient (4.3.0), so a crash never loses or bounces mail;
 * a transport without an agent defers with "mail transport unavailable".
 */
#include "queue/qmgr_impl.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mem.h"

/* entry_done - one less entry for its message; the last one decides */
static void entry_done(struct qmgr *m, struct qmgr_entry **ep)
{
	struct qmgr_msg *msg = (*ep)->msg;

	qmgr_entry_free(ep);
	if (--msg->refs == 0)
		qmgr_msg_done(m, msg);
}

/* set_result - fill one delivery_rcpt's outcome */
static void set_result(struct delivery_rcpt *r, enum delivery_status st, const char *dsn,
		       const char *relay, const char *reply)
{
	r->status = st;
	snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
	buf_set(&r->relay, relay);
	buf_set(&r->reply, reply);
}

/* record_rcpt - log and persist one recipient's outcome; true if the
 * queue file changed. Notices are logged durably before the status byte
 * says done, so a crash in between repeats the delivery, not loses a DSN. */
static bool record_rcpt(struct qmgr *m, struct qmgr_msg *msg, struct delivery_rcpt *r,
			const struct timeval *start)
{
	const struct qfile_rcpt *qr = &msg->q->rcpt[r->index];
	const char *id = msg->q->id;
	time_t now = time(NULL);

	if (r->status == DELIVERY_PENDING)
		set_result(r, DELIVERY_DEFERRED, "4.3.0", "none",
			   "delivery agent left the recipient unprocessed");
	qmgr_log_rcpt(m, msg, r->index, r, start);
	switch (r->status) {
	case DELIVERY_SENT:
		if ((qr->notify & QFILE_NOTIFY_SUCCESS) &&
		    queue_log_append(m->qdir, QUEUE_LOG_BOUNCE, id, r->index, QLOG_DELIVERED, r->dsn,
				     now, buf_cstr(&r->relay), buf_cstr(&r->reply), true) < 0)
			return false;	/* try again rather than lose the notice */
		return qfile_set_rcpt_status(msg->q, r->index, QFILE_RCPT_SENT) == 0;
	case DELIVERY_BOUNCED:
		if (queue_log_append(m->qdir, QUEUE_LOG_BOUNCE, id, r->index, QLOG_FAILED, r->dsn, now,
				     buf_cstr(&r->relay), buf_cstr(&r->reply), true) < 0)
			return false;
		return qfile_set_rcpt_status(msg->q, r->index, QFILE_RCPT_BOUNCED) == 0;
	default:
		queue_log_append(m->qdir, QUEUE_LOG_DEFER, id, r->index, QLOG_DEFERRED, r->dsn, now,
				 buf_cstr(&r->relay), buf_cstr(&r->reply), false);
		msg->deferred = true;
		return false;
	}
}

/* qmgr_apply_result - results of one entry; then the entry is gone */
void qmgr_apply_result(struct qmgr *m, struct qmgr_entry *e, struct delivery *d,
		       const struct timeval *start)
{
	bool changed = false;

	for (size_t i = 0; i < d->nrcpt; i++)
		changed |= record_rcpt(m, e->msg, &d->rcpt[i], start);
	/* The status bytes must be durable only while other deliveries of the
	 * message are still running; when this was the last one, the message
	 * is removed or deferred next, and deferring syncs the file itself.
	 * A crash before the removal is durable repeats these deliveries at
	 * worst (at least once), it never loses one. */
	if (changed && e->msg->refs > 1 && qfile_sync(e->msg->q) < 0)
		log_warn("%s: sync queue file: %m", e->msg->q->id);
	entry_done(m, &e);
}

/* qmgr_defer_entry - defer every recipient of an entry without trying */
void qmgr_defer_entry(struct qmgr *m, struct qmgr_entry *e, const char *dsn, const char *reason,
		      const char *relay)
{
	struct timeval now;

	gettimeofday(&now, NULL);
	for (size_t i = 0; i < e->nrcpt; i++) {
		struct delivery_rcpt r = { .index = e->rcpt[i] };

		r.address = e->msg->q->rcpt[e->rcpt[i]].address;
		r.original = e->msg->q->rcpt[e->rcpt[i]].original;
		set_result(&r, DELIVERY_DEFERRED, dsn, relay, reason);
		record_rcpt(m, e->msg, &r, &now);
		buf_free(&r.relay);
		buf_free(&r.reply);
	}
	entry_done(m, &e);
}

/* build_delivery - the request an agent sees */
static void build_delivery(struct qmgr *m, struct qmgr_entry *e, struct delivery *d)
{
	struct qfile *q = e->msg->q;
	struct timeval now;
	const char *v;

	gettimeofday(&now, NULL);
	memset(d, 0, sizeof(*d));
	d->queue_id = q->id;
	d->transport = e->dest->tp->name;
	d->nexthop = e->dest->nexthop;
	d->cf = e->dest->tp->cf ? e->dest->tp->cf : m->cf;
	d->sender = q->sender;
	d->envid = qfile_attr(q, QATTR_ENVID);
	d->ret = qfile_attr(q, QATTR_RET);
	d->smtputf8 = (v = qfile_attr(q, QATTR_SMTPUTF8)) && strcmp(v, "1") == 0;
	d->body_8bit = (v = qfile_attr(q, QATTR_8BIT)) && strcmp(v, "1") == 0;
	d->arrival = q->arrival.tv_sec;
	d->queue_delay = (double)(now.tv_sec - q->arrival.tv_sec) +
			 (double)(now.tv_usec - q->arrival.tv_usec) / 1e6;
	d->content_fd = q->fd;
	d->content_offset = q->content_offset;
	d->content_length = q->content_length;
	d->nrcpt = e->nrcpt;
	d->rcpt = xcalloc(e->nrcpt, sizeof(*d->rcpt));
	for (size_t i = 0; i < e->nrcpt; i++) {
		const struct qfile_rcpt *r = &q->rcpt[e->rcpt[i]];

		d->rcpt[i].address = r->address;
		d->rcpt[i].orcpt = r->orcpt;
		d->rcpt[i].original = r->original;
		d->rcpt[i].notify = r->notify;
		d->rcpt[i].index = e->rcpt[i];
	}
}

/* pop_entry - first queued entry of a destination */
static struct qmgr_entry *pop_entry(struct qmgr_dest *d)
{
	struct qmgr_entry *e = d->head;

	d->head = e->next;
	d->queued--;
	if (d->head == NULL) {
		d->tail = &d->head;
		d->last = NULL;
	}
	e->next = NULL;
	return e;
}

/* delivery_free - results and the array */
static void delivery_free(struct delivery *d)
{
	for (size_t i = 0; i < d->nrcpt; i++) {
		buf_free(&d->rcpt[i].reply);
		buf_free(&d->rcpt[i].relay);
	}
	xfree(&d->rcpt);
}

/* parse_results - "INDEX STATUS DSN CONN XFER RELAY REPLY" lines */
static void parse_results(const struct buf *in, struct delivery *d)
{
	char *copy = xstrdup(buf_cstr(in));
	char *cur = copy;
	char *line;

	while (cur && (line = strsep(&cur, "\n")) != NULL) {
		char *f[6], *p = line;
		long idx, st;
		int k;

		for (k = 0; k < 6 && (f[k] = str_token(&p, " ")) != NULL; k++)
			;
		if (k < 6 || str_parse_long(f[0], &idx) < 0 || str_parse_long(f[1], &st) < 0)
			continue;
		for (size_t i = 0; i < d->nrcpt; i++) {
			struct delivery_rcpt *r = &d->rcpt[i];

			if (r->index != (size_t)idx || st < DELIVERY_SENT || st > DELIVERY_BOUNCED)
				continue;
			set_result(r, (enum delivery_status)st, strcmp(f[2], "-") ? f[2] : "",
				   strcmp(f[5], "-") ? f[5] : "none", p ? p : "");
			r->conn_delay = strtod(f[3], NULL);
			r->xfer_delay = strtod(f[4], NULL);
		}
	}
	free(copy);
}

/* feedback - the destination's window learns from this delivery */
static void feedback(struct qmgr *m, struct qmgr_dest *dest, const struct delivery *d)
{
	bool reached = false;

	for (size_t i = 0; i < d->nrcpt && !reached; i++) {
		const char *relay = buf_cstr(&d->rcpt[i].relay);

		reached = d->rcpt[i].status == DELIVERY_SENT || d->rcpt[i].status == DELIVERY_BOUNCED ||
			  (*relay && strcmp(relay, "none") != 0);
	}
	if (reached) {
		qmgr_window_success(&dest->win);
		return;
	}
	if (qmgr_window_failure(&dest->win) && d->nrcpt > 0) {
		dest->dead_until = time(NULL) + m->min_backoff;
		snprintf(dest->dead_dsn, sizeof(dest->dead_dsn), "%s",
			 d->rcpt[0].dsn[0] ? d->rcpt[0].dsn : "4.4.1");
		xfree(&dest->dead_reason);
		dest->dead_reason = xstrdup(buf_cstr(&d->rcpt[0].reply));
		log_info("%s: destination %s marked dead for %lds: %s", dest->tp->name,
			 dest->nexthop, m->min_backoff, dest->dead_reason);
	}
}

/* finish_entry - the results of a worker's request; status is the
 * worker's wait status when it died, or -1 when it answered in full */
static void finish_entry(struct qmgr *m, struct qmgr_worker *w, int status)
{
	struct qmgr_entry *e = w->entry;
	struct qmgr_dest *dest = e->dest;
	struct delivery d;

	w->entry = NULL;
	dest->active--;
	dest->tp->active--;
	build_delivery(m, e, &d);
	parse_results(&w->in, &d);
	buf_reset(&w->in);
	for (size_t i = 0; i < d.nrcpt; i++) {
		struct buf why = BUF_INIT;

		if (d.rcpt[i].status != DELIVERY_PENDING)
			continue;
		if (status != -1 && WIFSIGNALED(status))
			buf_printf(&why, "delivery agent %s was killed by signal %d", dest->tp->name,
				   WTERMSIG(status));
		else if (status != -1)
			buf_printf(&why, "delivery agent %s exited with status %d and no result",
				   dest->tp->name, WEXITSTATUS(status));
		else
			buf_printf(&why, "delivery agent %s left the recipient unprocessed",
				   dest->tp->name);
		set_result(&d.rcpt[i], DELIVERY_DEFERRED, "4.3.0", "none", why.data);
		buf_free(&why);
	}
	feedback(m, dest, &d);
	qmgr_apply_result(m, e, &d, &w->start);
	delivery_free(&d);
}

/* worker_retire - no more requests: the worker sees end of file and
 * exits, and we reap it when its end closes */
static void worker_retire(struct qmgr_worker *w)
{
	if (w->retiring)
		return;
	w->retiring = true;
	w->tp->nworkers--;
	shutdown(w->fd, SHUT_WR);
}

/* worker_gone - its socket closed: reap it, settle what it had */
static void worker_gone(struct qmgr *m, struct qmgr_worker *w)
{
	struct qmgr_transport *tp = w->tp;
	int status = 0;

	for (struct qmgr_worker **pp = &tp->workers; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	if (!w->retiring)
		tp->nworkers--;
	event_free(w->ev);
	close(w->fd);
	while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
		;
	if (w->entry)
		finish_entry(m, w, status);
	buf_free(&w->in);
	free(w);
}

/* reply_complete - the worker's answer ends with its "." line */
static bool reply_complete(const struct buf *in)
{
	return (in->len == 2 && memcmp(in->data, ".\n", 2) == 0) ||
	       (in->len > 2 && memcmp(in->data + in->len - 3, "\n.\n", 3) == 0);
}

/* on_worker_read - results arriving from a worker, or its end */
static void on_worker_read(evutil_socket_t fd, short what, void *arg)
{
	struct qmgr_worker *w = arg;
	struct qmgr *m = w->m;
	char tmp[4096];
	ssize_t n;

	(void)what;
	n = read(fd, tmp, sizeof(tmp));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		worker_gone(m, w);
		qmgr_schedule(m);
		return;
	}
	if (w->entry == NULL)
		return;		/* chatter from an idle worker: ignored */
	buf_append(&w->in, tmp, (size_t)n);
	if (!reply_complete(&w->in))
		return;
	finish_entry(m, w, -1);
	w->idle_since = time(NULL);
	if (w->max_use > 0 && ++w->uses >= w->max_use)
		worker_retire(w);
	qmgr_schedule(m);
}

/* idle_worker - an idle worker of tp, forking one when there is room */
static struct qmgr_worker *idle_worker(struct qmgr *m, struct qmgr_transport *tp)
{
	struct qmgr_worker *w;

	for (w = tp->workers; w; w = w->next)
		if (w->entry == NULL && !w->retiring)
			return w;
	if (tp->nworkers >= tp->proc_limit || (w = qmgr_worker_spawn(m, tp)) == NULL)
		return NULL;
	fcntl(w->fd, F_SETFL, O_NONBLOCK);
	w->ev = event_new(m->base, w->fd, EV_READ | EV_PERSIST, on_worker_read, w);
	event_add(w->ev, NULL);
	return w;
}

/* start_entry - hand one entry to an idle worker; false if none could
 * be had (the entry stays queued) */
static bool start_entry(struct qmgr *m, struct qmgr_dest *dest)
{
	struct qmgr_worker *w = idle_worker(m, dest->tp);
	struct qmgr_entry *e;
	struct delivery d;
	int rc;

	if (w == NULL)
		return false;
	e = pop_entry(dest);
	build_delivery(m, e, &d);
	/* the socket is non-blocking for reads; a request goes out whole */
	fcntl(w->fd, F_SETFL, 0);
	rc = qmgr_worker_send(w->fd, &d);
	fcntl(w->fd, F_SETFL, O_NONBLOCK);
	delivery_free(&d);
	if (rc < 0) {
		log_warn("%s: cannot pass a request to delivery agent %s: %m", e->msg->q->id,
			 dest->tp->name);
		worker_retire(w);
		qmgr_defer_entry(m, e, "4.3.0", "cannot reach the delivery agent", "none");
		return true;
	}
	w->entry = e;
	gettimeofday(&w->start, NULL);
	dest->active++;
	dest->tp->active++;
	return true;
}

/* expire_idle - workers idle longer than max_idle go */
static void expire_idle(struct qmgr *m, struct qmgr_transport *tp, time_t now)
{
	for (struct qmgr_worker *w = tp->workers; w; w = w->next)
		if (w->entry == NULL && !w->retiring && now - w->idle_since >= m->max_idle)
			worker_retire(w);
}

/* qmgr_workers_close - at exit: every worker sees end of file; one busy
 * with a request finishes it (the result is lost, so the delivery is
 * repeated later: at least once, never lost) */
void qmgr_workers_close(struct qmgr *m)
{
	for (struct qmgr_transport *tp = m->transports; tp; tp = tp->next)
		while (tp->workers) {
			struct qmgr_worker *w = tp->workers;

			tp->workers = w->next;
			event_free(w->ev);
			close(w->fd);
			if (w->entry)
				qmgr_entry_free(&w->entry);
			buf_free(&w->in);
			free(w);
		}
}

/* defer_dead - a dead destination's queue is deferred at once */
static void defer_dead(struct qmgr *m, struct qmgr_dest *d)
{
	struct buf why = BUF_INIT;

	buf_printf(&why, "delivery temporarily suspended: %s",
		   d->dead_reason ? d->dead_reason : "destination not reachable");
	while (d->head)
		qmgr_defer_entry(m, pop_entry(d), d->dead_dsn[0] ? d->dead_dsn : "4.4.1", why.data,
				 "none");
	buf_free(&why);
}

/* pick_dest - the next destination after the cursor with work and room */
static struct qmgr_dest *pick_dest(struct qmgr_transport *tp)
{
	struct qmgr_dest *start = tp->cursor && tp->cursor->next ? tp->cursor->next : tp->dests;
	struct qmgr_dest *d = start;

	if (d == NULL)
		return NULL;
	do {
		if (d->head && d->dead_until == 0 && qmgr_window_allows(&d->win, d->active)) {
			tp->cursor = d;
			return d;
		}
		d = d->next ? d->next : tp->dests;
	} while (d != start);
	return NULL;
}

/* revive_or_defer - dead destinations: defer their work or bring them back */
static void revive_or_defer(struct qmgr *m, struct qmgr_transport *tp, time_t now)
{
	for (struct qmgr_dest *d = tp->dests; d; d = d->next) {
		if (d->dead_until && d->dead_until <= now) {
			d->dead_until = 0;
			qmgr_window_init(&d->win, tp->initial, tp->dest_limit, tp->cohort_limit, 1, 1);
		}
		if (d->dead_until && d->head)
			defer_dead(m, d);
	}
}

/* qmgr_schedule - start as many deliveries as the limits allow */
void qmgr_schedule(struct qmgr *m)
{
	time_t now = time(NULL);

	for (struct qmgr_transport *tp = m->transports; tp; tp = tp->next) {
		struct qmgr_dest *d;

		revive_or_defer(m, tp, now);
		expire_idle(m, tp, now);
		if (tp->agent == NULL) {
			for (d = tp->dests; d; d = d->next)
				while (d->head)
					qmgr_defer_entry(m, pop_entry(d), "4.3.0",
							 "mail transport unavailable", "none");
			continue;
		}
		while (tp->active < tp->proc_limit && (d = pick_dest(tp)) != NULL)
			if (!start_entry(m, d))
				break;
	}
}
