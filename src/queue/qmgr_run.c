/*
 * qmgr_run - running deliveries: pick the next entry fairly among
 * destinations, fork the transport's agent with a struct delivery, read
 * per-recipient results back over a pipe, record them in the queue file
 * and the logs, and feed the destination's concurrency window.
 *
 * Public (qmgr_impl.h): qmgr_schedule, qmgr_apply_result, qmgr_defer_entry.
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
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mem.h"

#define QMGR_BATCH_MAX	16

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

/* delivery_free - results and the array */
static void delivery_free(struct delivery *d)
{
	for (size_t i = 0; i < d->nrcpt; i++) {
		buf_free(&d->rcpt[i].reply);
		buf_free(&d->rcpt[i].relay);
	}
	xfree(&d->rcpt);
}

/* put_field - one result field: "-" if empty, no line breaks, and no
 * spaces where the field is not the last */
static void put_field(struct buf *b, const char *s, bool last)
{
	if (s == NULL || *s == 0) {
		buf_putc(b, '-');
		return;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < ' ' || c == 0x7f)
			c = ' ';
		if (c == ' ' && !last)
			c = '_';
		buf_putc(b, c);
	}
}

/* child_one - run the agent on one entry, append its result lines */
static void child_one(struct qmgr *m, struct qmgr_entry *e, size_t j, struct buf *out)
{
	struct delivery d;

	build_delivery(m, e, &d);
	e->dest->tp->agent->fn(&d);
	for (size_t i = 0; i < d.nrcpt; i++) {
		const struct delivery_rcpt *r = &d.rcpt[i];

		buf_printf(out, "%zu %zu %d %s %.6f %.6f ", j, r->index, (int)r->status,
			   r->dsn[0] ? r->dsn : "-", r->conn_delay, r->xfer_delay);
		put_field(out, buf_cstr(&r->relay), false);
		buf_putc(out, ' ');
		put_field(out, buf_cstr(&r->reply), true);
		buf_putc(out, '\n');
	}
	delivery_free(&d);
}

/* write_all - the whole buffer to fd, or exit */
static void write_all(int fd, struct buf *out)
{
	size_t off = 0;

	while (off < out->len) {
		ssize_t n = write(fd, out->data + off, out->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(1);
		off += (size_t)n;
	}
	buf_reset(out);
}

/* child_run - in the forked child: run the agent on each entry in turn,
 * reporting after each one, so a crash loses only the entry at hand */
static void __attribute__((noreturn)) child_run(struct qmgr *m, struct qmgr_job *job, int fd)
{
	struct buf out = BUF_INIT;
	struct buf name = BUF_INIT;
	long timeout = config_time(m->cf, "daemon_timeout");

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	buf_printf(&name, "outpost/%s", job->entries[0]->dest->tp->name);
	log_init(name.data);
	alarm((unsigned)(timeout > 0 ? timeout : 18000));
	for (size_t j = 0; j < job->nentries; j++) {
		child_one(m, job->entries[j], j, &out);
		write_all(fd, &out);
	}
	_exit(0);
}

/* parse_results - "ENTRY INDEX STATUS DSN CONN XFER RELAY REPLY" lines for entry j */
static void parse_results(struct qmgr_job *job, size_t j, struct delivery *d)
{
	char *copy = xstrdup(buf_cstr(&job->out));
	char *cur = copy;
	char *line;

	while (cur && (line = strsep(&cur, "\n")) != NULL) {
		char *f[7], *p = line;
		long ent, idx, st;
		int k;

		for (k = 0; k < 7 && (f[k] = str_token(&p, " ")) != NULL; k++)
			;
		if (k < 7 || str_parse_long(f[0], &ent) < 0 || ent != (long)j ||
		    str_parse_long(f[1], &idx) < 0 || str_parse_long(f[2], &st) < 0)
			continue;
		for (size_t i = 0; i < d->nrcpt; i++) {
			struct delivery_rcpt *r = &d->rcpt[i];

			if (r->index != (size_t)idx || st < DELIVERY_SENT || st > DELIVERY_BOUNCED)
				continue;
			set_result(r, (enum delivery_status)st, strcmp(f[3], "-") ? f[3] : "",
				   strcmp(f[6], "-") ? f[6] : "none", p ? p : "");
			r->conn_delay = strtod(f[4], NULL);
			r->xfer_delay = strtod(f[5], NULL);
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

/* finish_entry - results of entry j of a finished job */
static void finish_entry(struct qmgr *m, struct qmgr_job *job, size_t j, int status)
{
	struct qmgr_entry *e = job->entries[j];
	struct qmgr_dest *dest = e->dest;
	struct delivery d;

	build_delivery(m, e, &d);
	parse_results(job, j, &d);
	for (size_t i = 0; i < d.nrcpt; i++) {
		struct buf why = BUF_INIT;

		if (d.rcpt[i].status != DELIVERY_PENDING)
			continue;
		if (WIFSIGNALED(status))
			buf_printf(&why, "delivery agent %s was killed by signal %d", dest->tp->name,
				   WTERMSIG(status));
		else
			buf_printf(&why, "delivery agent %s exited with status %d and no result",
				   dest->tp->name, WEXITSTATUS(status));
		set_result(&d.rcpt[i], DELIVERY_DEFERRED, "4.3.0", "none", why.data);
		buf_free(&why);
	}
	feedback(m, dest, &d);
	qmgr_apply_result(m, e, &d, &job->start);
	delivery_free(&d);
}

/* job_finish - the agent closed its pipe: collect, apply, reschedule */
static void job_finish(struct qmgr *m, struct qmgr_job *job)
{
	struct qmgr_dest *dest = job->entries[0]->dest;
	int status = 0;

	event_free(job->ev);
	close(job->fd);
	while (waitpid(job->pid, &status, 0) < 0 && errno == EINTR)
		;
	dest->active--;
	dest->tp->active--;
	for (size_t j = 0; j < job->nentries; j++)
		finish_entry(m, job, j, status);
	buf_free(&job->out);
	free(job->entries);
	free(job);
	qmgr_schedule(m);
}

/* on_job_read - results arriving from an agent */
static void on_job_read(evutil_socket_t fd, short what, void *arg)
{
	struct qmgr_job *job = arg;
	char tmp[4096];
	ssize_t n;

	(void)what;
	n = read(fd, tmp, sizeof(tmp));
	if (n > 0) {
		buf_append(&job->out, tmp, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	job_finish(job->m, job);
}

/* start_job - fork the agent for the entries of one destination */
static void start_job(struct qmgr *m, struct qmgr_entry **entries, size_t n)
{
	struct qmgr_dest *dest = entries[0]->dest;
	struct qmgr_job *job = xcalloc(1, sizeof(*job));
	int fds[2];
	pid_t pid;

	job->m = m;
	job->entries = entries;
	job->nentries = n;
	if (pipe2(fds, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		for (size_t j = 0; j < n; j++)
			qmgr_defer_entry(m, entries[j], "4.3.0", "cannot start the delivery agent",
					 "none");
		free(entries);
		free(job);
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		child_run(m, job, fds[1]);
	}
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	job->pid = pid;
	job->fd = fds[0];
	gettimeofday(&job->start, NULL);
	job->ev = event_new(m->base, fds[0], EV_READ | EV_PERSIST, on_job_read, job);
	event_add(job->ev, NULL);
	dest->active++;
	dest->tp->active++;
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

/* batch_size - entries one agent process takes in turn: one while the
 * destination's queue is short, more when it is deep (saves a fork and,
 * for agents that keep connections, a connection per message) */
static size_t batch_size(const struct qmgr_dest *d)
{
	double per = (double)d->queued / (d->win.window > 1 ? d->win.window : 1);
	size_t n = per < 1 ? 1 : (size_t)per;

	return n > QMGR_BATCH_MAX ? QMGR_BATCH_MAX : n;
}

/* qmgr_schedule - start as many deliveries as the limits allow */
void qmgr_schedule(struct qmgr *m)
{
	time_t now = time(NULL);

	for (struct qmgr_transport *tp = m->transports; tp; tp = tp->next) {
		struct qmgr_dest *d;

		revive_or_defer(m, tp, now);
		if (tp->agent == NULL) {
			for (d = tp->dests; d; d = d->next)
				while (d->head)
					qmgr_defer_entry(m, pop_entry(d), "4.3.0",
							 "mail transport unavailable", "none");
			continue;
		}
		while (tp->active < tp->proc_limit && (d = pick_dest(tp)) != NULL) {
			size_t n = batch_size(d), k = 0;
			struct qmgr_entry **v = xcalloc(n, sizeof(*v));

			while (k < n && d->head)
				v[k++] = pop_entry(d);
			start_job(m, v, k);
		}
	}
}
