/*
 * qmgr_msg - messages in the queue manager: taking them in from incoming/
 * and deferred/, routing their recipients into destination entries, and
 * deciding their fate when the last entry is done (removed, deferred with
 * backoff, expired and bounced, notices sent).
 *
 * Public (qmgr_impl.h): qmgr_scan_incoming, qmgr_scan_deferred,
 * qmgr_msg_done, qmgr_entry_free, qmgr_transport_get.
 * Bad input: an unreadable queue file goes to corrupt/ with a warning; a
 * routing failure (table trouble) defers that recipient with 4.3.0.
 */
#include "queue/qmgr_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "mail/addr.h"
#include "mail/route.h"

/* transport_param - <transport>_SUFFIX when set, else the default param */
static long transport_param(struct config *cf, const char *tp, const char *suffix,
			    const char *def_name)
{
	struct buf name = BUF_INIT;
	long v;

	buf_printf(&name, "%s_%s", tp, suffix);
	if (config_is_set(cf, name.data) || param_lookup(name.data)) {
		if (str_parse_long(config_str(cf, name.data), &v) == 0 && v >= 0) {
			buf_free(&name);
			return v;
		}
	}
	buf_free(&name);
	return config_int(cf, def_name);
}

/* agent_for - the agent of a master.cf service, by its command */
static const struct delivery_agent *agent_for(struct qmgr *m, const char *name, long *maxproc)
{
	const struct master_service *svc = config_service(m->cf, name);
	const char *command = svc && svc->command ? svc->command : name;

	*maxproc = svc && svc->maxproc > 0 ? svc->maxproc : config_int(m->cf, "default_process_limit");
	if (*maxproc <= 0)
		*maxproc = 100;
	return qmgr_find_agent(command);
}

/* qmgr_transport_get - find or set up a transport by service name */
struct qmgr_transport *qmgr_transport_get(struct qmgr *m, const char *name)
{
	struct qmgr_transport *tp;
	struct buf err = BUF_INIT;

	for (tp = m->transports; tp; tp = tp->next)
		if (strcmp(tp->name, name) == 0)
			return tp;
	tp = xcalloc(1, sizeof(*tp));
	tp->name = xstrdup(name);
	tp->agent = agent_for(m, name, &tp->proc_limit);
	tp->cf = config_service(m->cf, name) ? config_for_service(m->cf, name, &err) : NULL;
	if (tp->cf == NULL && err.len)
		log_warn("transport %s: %s", name, err.data);
	tp->rcpt_limit = transport_param(m->cf, name, "destination_recipient_limit",
					 "default_destination_recipient_limit");
	tp->dest_limit = transport_param(m->cf, name, "destination_concurrency_limit",
					 "default_destination_concurrency_limit");
	tp->initial = transport_param(m->cf, name, "initial_destination_concurrency",
				      "initial_destination_concurrency");
	tp->cohort_limit = transport_param(m->cf, name, "destination_concurrency_failed_cohort_limit",
					   "default_destination_concurrency_failed_cohort_limit");
	if (tp->rcpt_limit <= 0)
		tp->rcpt_limit = 1000000;
	tp->next = m->transports;
	m->transports = tp;
	buf_free(&err);
	return tp;
}

/* dest_get - a transport's destination by nexthop */
static struct qmgr_dest *dest_get(struct qmgr *m, struct qmgr_transport *tp, const char *nexthop)
{
	struct qmgr_dest *d;

	(void)m;
	for (d = tp->dests; d; d = d->next)
		if (strcmp(d->nexthop, nexthop) == 0)
			return d;
	d = xcalloc(1, sizeof(*d));
	d->nexthop = xstrdup(nexthop);
	d->tp = tp;
	d->tail = &d->head;
	qmgr_window_init(&d->win, tp->initial, tp->dest_limit, tp->cohort_limit,
			 1, 1);
	d->next = tp->dests;
	tp->dests = d;
	return d;
}

/* qmgr_entry_free - an entry that is no longer queued */
void qmgr_entry_free(struct qmgr_entry **ep)
{
	if (*ep == NULL)
		return;
	xfree(&(*ep)->rcpt);
	xfree(ep);
}

/* entry_add - put recipient idx into the message's open entry for dest;
 * messages are routed one at a time, so that entry can only be the last */
static void entry_add(struct qmgr_msg *msg, struct qmgr_dest *d, size_t idx)
{
	struct qmgr_entry *e = d->last;

	if (e == NULL || e->msg != msg || (long)e->nrcpt >= d->tp->rcpt_limit) {
		e = xcalloc(1, sizeof(*e));
		e->msg = msg;
		e->dest = d;
		*d->tail = e;
		d->tail = &e->next;
		d->last = e;
		d->queued++;
		msg->refs++;
	}
	e->rcpt = xreallocarray(e->rcpt, e->nrcpt + 1, sizeof(size_t));
	e->rcpt[e->nrcpt++] = idx;
}

/* defer_rcpt_now - routing failed: record and count it as deferred */
static void defer_rcpt_now(struct qmgr *m, struct qmgr_msg *msg, size_t idx, const char *dsn,
			   const char *reason)
{
	struct delivery_rcpt r = { 0 };
	struct timeval now;

	gettimeofday(&now, NULL);
	r.address = msg->q->rcpt[idx].address;
	r.original = msg->q->rcpt[idx].original;
	r.status = DELIVERY_DEFERRED;
	snprintf(r.dsn, sizeof(r.dsn), "%s", dsn);
	buf_set(&r.reply, reason);
	buf_set(&r.relay, "none");
	qmgr_log_rcpt(m, msg, idx, &r, &now);
	queue_log_append(m->qdir, QUEUE_LOG_DEFER, msg->q->id, idx, QLOG_DEFERRED, dsn, now.tv_sec,
			 "none", reason, false);
	msg->deferred = true;
	buf_free(&r.reply);
	buf_free(&r.relay);
}

/* route_msg - every pending recipient into a destination entry */
static void route_msg(struct qmgr *m, struct qmgr_msg *msg)
{
	struct route rt;

	route_init(&rt);
	for (size_t i = 0; i < msg->q->nrcpt; i++) {
		const struct qfile_rcpt *r = &msg->q->rcpt[i];
		const char *filter = qfile_attr(msg->q, QATTR_FILTER);

		if (r->status != QFILE_RCPT_PENDING)
			continue;
		if (filter && *filter) {
			/* content_filter: transport:nexthop for every recipient */
			const char *colon = strchr(filter, ':');

			buf_reset(&rt.transport);
			buf_reset(&rt.nexthop);
			buf_append(&rt.transport, filter, colon ? (size_t)(colon - filter) : strlen(filter));
			buf_puts(&rt.nexthop, colon && colon[1] ? colon + 1 : m->myhostname);
		} else if (route_lookup(m->route, msg->q->sender, r->address, &rt) != ROUTE_OK) {
			struct buf why = BUF_INIT;

			buf_printf(&why, "address resolver failure: %s", buf_cstr(&rt.reason));
			defer_rcpt_now(m, msg, i, "4.3.0", why.data);
			buf_free(&why);
			continue;
		}
		entry_add(msg, dest_get(m, qmgr_transport_get(m, buf_cstr(&rt.transport)),
					buf_cstr(&rt.nexthop)), i);
	}
	route_free(&rt);
}

/* log_active - Postfix's "from=<>, size=, nrcpt= (queue active)" */
static void log_active(struct qmgr_msg *msg)
{
	struct buf from = BUF_INIT;

	addr_external(msg->q->sender, &from);
	log_info("%s: from=<%s>, size=%lld, nrcpt=%zu (queue active)", msg->q->id,
		 buf_cstr(&from), (long long)msg->q->content_length, msg->q->nrcpt);
	buf_free(&from);
}

/* msg_take - open a file moved to active/ and route it; from is where it
 * came from (a HOLD decided by cleanup applies to new mail only, so a
 * released message is not held again) */
static void msg_take(struct qmgr *m, const char *id, enum queue_state from)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	struct qmgr_msg *msg;
	struct qfile *q;
	int why;

	queue_path(&path, m->qdir, QUEUE_ACTIVE, id);
	q = qfile_open(path.data, true, &why, &err);
	buf_free(&path);
	if (q == NULL) {
		if (why == QFILE_ERR_CORRUPT)
			queue_to_corrupt(m->qdir, QUEUE_ACTIVE, id, buf_cstr(&err));
		else
			log_warn("%s: %s", id, buf_cstr(&err));
		buf_free(&err);
		return;
	}
	buf_free(&err);
	if (from == QUEUE_INCOMING && qfile_attr(q, QATTR_HOLD)) {
		if (queue_move(m->qdir, id, QUEUE_ACTIVE, QUEUE_HOLD) == 0)
			log_info("%s: placed on hold: %s", id, qfile_attr(q, QATTR_HOLD));
		qfile_free(&q);
		return;
	}
	msg = xcalloc(1, sizeof(*msg));
	msg->q = q;
	gettimeofday(&msg->active_time, NULL);
	msg->next = m->msgs;
	if (m->msgs)
		m->msgs->prev = msg;
	m->msgs = msg;
	m->nmsgs++;
	log_active(msg);
	route_msg(m, msg);
	if (msg->refs == 0)
		qmgr_msg_done(m, msg);
}

/* take_from - move due messages of a state into active/ */
static void take_from(struct qmgr *m, enum queue_state st)
{
	struct strv ids = STRV_INIT;

	queue_scan(m->qdir, st, &ids);
	for (size_t i = 0; i < ids.n && (long)m->nmsgs < m->active_limit; i++) {
		if (queue_move(m->qdir, ids.v[i], st, QUEUE_ACTIVE) < 0)
			continue;	/* taken away by a tool meanwhile */
		msg_take(m, ids.v[i], st);
	}
	strv_free(&ids);
}

/* qmgr_scan_incoming - new mail */
void qmgr_scan_incoming(struct qmgr *m)
{
	m->scan_incoming = false;
	take_from(m, QUEUE_INCOMING);
	qmgr_schedule(m);
}

/* rcpt_in_domain - has the message a pending recipient in domain? */
static bool rcpt_in_domain(const char *qdir, const char *id, const char *domain)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	struct qfile *q;
	bool hit = false;
	int why;

	queue_path(&path, qdir, QUEUE_DEFERRED, id);
	if ((q = qfile_open(path.data, false, &why, &err)) != NULL) {
		for (size_t i = 0; i < q->nrcpt && !hit; i++) {
			const char *at = strrchr(q->rcpt[i].address, '@');

			hit = q->rcpt[i].status == QFILE_RCPT_PENDING && at &&
			      str_eq_case(at + 1, domain);
		}
		qfile_free(&q);
	}
	buf_free(&path);
	buf_free(&err);
	return hit;
}

/* qmgr_scan_deferred - deferred mail that is due (or forced by a flush) */
void qmgr_scan_deferred(struct qmgr *m, bool all, const char *domain, const char *id)
{
	struct strv ids = STRV_INIT;
	struct buf path = BUF_INIT;
	time_t now = time(NULL);

	queue_scan(m->qdir, QUEUE_DEFERRED, &ids);
	for (size_t i = 0; i < ids.n && (long)m->nmsgs < m->active_limit; i++) {
		struct stat st;
		bool due;

		if (id)
			due = strcmp(ids.v[i], id) == 0;
		else if (domain)
			due = rcpt_in_domain(m->qdir, ids.v[i], domain);
		else if (all)
			due = true;
		else {
			queue_path(&path, m->qdir, QUEUE_DEFERRED, ids.v[i]);
			due = stat(path.data, &st) == 0 && st.st_mtime <= now;
		}
		if (due && queue_move(m->qdir, ids.v[i], QUEUE_DEFERRED, QUEUE_ACTIVE) == 0)
			msg_take(m, ids.v[i], QUEUE_DEFERRED);
	}
	if (all || domain || id) {	/* a flush also revives dead destinations */
		for (struct qmgr_transport *tp = m->transports; tp; tp = tp->next)
			for (struct qmgr_dest *d = tp->dests; d; d = d->next)
				d->dead_until = 0;
	}
	buf_free(&path);
	strv_free(&ids);
	qmgr_schedule(m);
}

/* msg_free - unlink from the list and release */
static void msg_free(struct qmgr *m, struct qmgr_msg *msg)
{
	if (msg->prev)
		msg->prev->next = msg->next;
	else
		m->msgs = msg->next;
	if (msg->next)
		msg->next->prev = msg->prev;
	m->nmsgs--;
	qfile_free(&msg->q);
	free(msg);
}

/* still_active - has a tool deleted or held the message meanwhile? */
static bool still_active(struct qmgr *m, struct qmgr_msg *msg)
{
	struct buf path = BUF_INIT;
	struct stat st;
	bool ok;

	queue_path(&path, m->qdir, QUEUE_ACTIVE, msg->q->id);
	ok = stat(path.data, &st) == 0;
	buf_free(&path);
	return ok;
}

/* send_notices - the DSNs recorded in the bounce log */
static int send_notices(struct qmgr *m, struct qmgr_msg *msg)
{
	struct queue_log log;
	struct queue_log_entry *failed, *sent;
	size_t nf = 0, ns = 0;
	char id[QFILE_ID_MAX];
	int rc = 0;

	if (queue_log_read(m->qdir, QUEUE_LOG_BOUNCE, msg->q->id, &log) < 0)
		return -1;
	failed = xcalloc(log.n + 1, sizeof(*failed));
	sent = xcalloc(log.n + 1, sizeof(*sent));
	for (size_t i = 0; i < log.n; i++) {
		if (log.v[i].status == QLOG_FAILED)
			failed[nf++] = log.v[i];
		else if (log.v[i].status == QLOG_DELIVERED)
			sent[ns++] = log.v[i];
	}
	if (nf && bounce_notify(m, msg->q, BOUNCE_FAILED, failed, nf, id, sizeof(id)) < 0)
		rc = -1;
	if (ns && rc == 0 && bounce_notify(m, msg->q, BOUNCE_DELIVERED, sent, ns, id, sizeof(id)) < 0)
		rc = -1;
	free(failed);
	free(sent);
	queue_log_free(&log);
	return rc;
}

/* expire_pending - too old: every pending recipient fails with its last reason */
static void expire_pending(struct qmgr *m, struct qmgr_msg *msg)
{
	struct buf from = BUF_INIT;
	struct queue_log dlog;
	time_t now = time(NULL);

	queue_log_read(m->qdir, QUEUE_LOG_DEFER, msg->q->id, &dlog);
	for (size_t i = 0; i < msg->q->nrcpt; i++) {
		const struct queue_log_entry *d = queue_log_last(&dlog, i);

		if (msg->q->rcpt[i].status != QFILE_RCPT_PENDING)
			continue;
		if (queue_log_append(m->qdir, QUEUE_LOG_BOUNCE, msg->q->id, i, QLOG_FAILED,
				     d && d->dsn[0] ? d->dsn : "4.4.7", now, d ? d->relay : "none",
				     d ? d->reply : "message expired in the queue", true) == 0)
			qfile_set_rcpt_status(msg->q, i, QFILE_RCPT_BOUNCED);
	}
	qfile_sync(msg->q);
	queue_log_free(&dlog);
	addr_external(msg->q->sender, &from);
	log_info("%s: from=<%s>, status=expired, returned to sender", msg->q->id, buf_cstr(&from));
	buf_free(&from);
}

/* delay_warning - once, when the message has waited delay_warning_time */
static void delay_warning(struct qmgr *m, struct qmgr_msg *msg, long age)
{
	struct queue_log dlog;
	struct queue_log_entry *v;
	size_t n = 0;
	char id[QFILE_ID_MAX];

	if (m->delay_warning <= 0 || msg->q->warned || age < m->delay_warning ||
	    *msg->q->sender == 0)
		return;
	queue_log_read(m->qdir, QUEUE_LOG_DEFER, msg->q->id, &dlog);
	v = xcalloc(msg->q->nrcpt + 1, sizeof(*v));
	for (size_t i = 0; i < msg->q->nrcpt; i++) {
		const struct qfile_rcpt *r = &msg->q->rcpt[i];
		const struct queue_log_entry *d = queue_log_last(&dlog, i);

		/* NOTIFY is bounce_notify's business: the postmaster's copy
		 * (notify_classes = delay) lists every delayed recipient */
		if (r->status != QFILE_RCPT_PENDING || d == NULL)
			continue;
		v[n++] = *d;
	}
	if (n == 0 || bounce_notify(m, msg->q, BOUNCE_DELAYED, v, n, id, sizeof(id)) == 0)
		qfile_set_warned(msg->q);
	free(v);
	queue_log_free(&dlog);
}

/* defer_msg - back to deferred/ with its next attempt as the mtime */
static void defer_msg(struct qmgr *m, struct qmgr_msg *msg, long age)
{
	struct buf path = BUF_INIT;
	struct timespec ts[2];
	long wait = qmgr_backoff(age, m->min_backoff, m->max_backoff);

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[1] = ts[0];
	ts[1].tv_sec += wait;
	ts[1].tv_nsec = 0;
	queue_path(&path, m->qdir, QUEUE_ACTIVE, msg->q->id);
	if (utimensat(AT_FDCWD, path.data, ts, 0) < 0)
		log_warn("%s: set retry time: %m", msg->q->id);
	if (queue_move(m->qdir, msg->q->id, QUEUE_ACTIVE, QUEUE_DEFERRED) < 0)
		log_warn("%s: move to deferred: %m", msg->q->id);
	buf_free(&path);
}

/* qmgr_msg_done - the last entry finished: decide the message's fate */
void qmgr_msg_done(struct qmgr *m, struct qmgr_msg *msg)
{
	long age = (long)(time(NULL) - msg->q->arrival.tv_sec);
	long lifetime = *msg->q->sender ? m->max_lifetime : m->bounce_lifetime;

	if (!still_active(m, msg)) {
		msg_free(m, msg);
		return;
	}
	if (qfile_pending(msg->q) > 0 && age >= lifetime)
		expire_pending(m, msg);
	if (qfile_pending(msg->q) > 0) {
		delay_warning(m, msg, age);
		qfile_sync(msg->q);
		defer_msg(m, msg, age);
	} else if (send_notices(m, msg) < 0) {
		/* keep it: the notice is retried on the next attempt */
		log_warn("%s: cannot queue the delivery status notification; will retry",
			 msg->q->id);
		defer_msg(m, msg, 0);
	} else if (queue_remove(m->qdir, msg->q->id, QUEUE_ACTIVE) == 0)
		log_info("%s: removed", msg->q->id);
	else
		log_warn("%s: remove: %m", msg->q->id);
	msg_free(m, msg);
}
