/*
 * qmgr - the queue manager service: start-up recovery, the control FIFO,
 * the periodic scans, and the event loop that drives deliveries.
 *
 * Start-up: messages left in active/ by a crash go back to incoming/ (their
 * delivered recipients are marked in the file, so only the others are
 * tried again). Then incoming/ is scanned at once and on every "W" from the
 * FIFO (and once a second as a safety net), deferred/ every
 * queue_run_delay and on flush requests. (maildrop/ belongs to pickup,
 * which feeds local submissions through cleanup into incoming/.)
 *
 * Public: qmgr_service_main (qmgr.h).
 * Trouble: a bad queue_directory or routing configuration is fatal with the
 * reason; a FIFO that cannot be created is fatal (tools could not reach
 * us); everything about single messages is logged and carried on.
 */
#include "queue/qmgr_impl.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "mail/notify.h"
#include "mail/route.h"

/* recover_active - a crash left messages in active/: take them again */
static void recover_active(struct qmgr *m)
{
	struct strv ids = STRV_INIT;

	queue_purge_incomplete(m->qdir, QUEUE_INCOMING, 3600);
	queue_scan(m->qdir, QUEUE_ACTIVE, &ids);
	for (size_t i = 0; i < ids.n; i++)
		if (queue_move(m->qdir, ids.v[i], QUEUE_ACTIVE, QUEUE_INCOMING) < 0)
			log_warn("%s: cannot move from active to incoming: %m", ids.v[i]);
	if (ids.n)
		log_info("recovered %zu message%s from the active queue", ids.n,
			 ids.n == 1 ? "" : "s");
	strv_free(&ids);
}

/* run_command - one line from the FIFO */
static void run_command(struct qmgr *m, char *line)
{
	char *arg = strchr(line, ' ');

	if (arg)
		*arg++ = 0;
	if (strcmp(line, "W") == 0)
		m->scan_incoming = true;
	else if (strcmp(line, "F") == 0) {
		log_info("flush requested%s%s", arg ? " for " : "", arg ? arg : "");
		qmgr_scan_deferred(m, arg == NULL, arg, NULL);
		m->scan_incoming = true;
	} else if (strcmp(line, "I") == 0 && arg && qfile_valid_id(arg)) {
		qmgr_scan_deferred(m, false, NULL, arg);
		m->scan_incoming = true;
	} else if (*line)
		log_warn("ignoring unknown request \"%.40s\" on the qmgr FIFO", line);
}

/* on_fifo - requests from tools, cleanup and pickup */
static void on_fifo(evutil_socket_t fd, short what, void *arg)
{
	struct qmgr *m = arg;
	char tmp[4096];
	ssize_t n;
	char *nl;

	(void)what;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		buf_append(&m->fifo_buf, tmp, (size_t)n);
	while ((nl = memchr(m->fifo_buf.data ? m->fifo_buf.data : "", '\n', m->fifo_buf.len)) != NULL) {
		size_t len = (size_t)(nl - m->fifo_buf.data);
		char *line = xstrndup(m->fifo_buf.data, len);

		memmove(m->fifo_buf.data, nl + 1, m->fifo_buf.len - len - 1);
		buf_truncate(&m->fifo_buf, m->fifo_buf.len - len - 1);
		run_command(m, line);
		free(line);
	}
	if (m->fifo_buf.len > 4096)
		buf_reset(&m->fifo_buf);
	if (m->scan_incoming)
		qmgr_scan_incoming(m);
}

/* on_tick - once a second: safety-net scans and timed work */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct qmgr *m = arg;
	time_t now = time(NULL);

	(void)fd;
	(void)what;
	qmgr_scan_incoming(m);
	if (now >= m->next_deferred_scan) {
		m->next_deferred_scan = now + m->queue_run_delay;
		qmgr_scan_deferred(m, false, NULL, NULL);
	}
	qmgr_schedule(m);
}

/* on_signal - stop cleanly; busy workers finish their request on their own */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct qmgr *m = arg;

	(void)what;
	log_info("stopping on signal %d", (int)sig);
	event_base_loopbreak(m->base);
}

/* open_fifo - public/qmgr, ours unless the master passed it in */
static void open_fifo(struct qmgr *m, const int *fds, size_t nfds)
{
	struct buf path = BUF_INIT;

	buf_printf(&path, "%s/public/qmgr", m->qdir);
	if (nfds > 0 && fds[0] >= 0) {
		m->fifo_fd = fds[0];
	} else {
		if (mkfifo(path.data, 0622) < 0 && errno != EEXIST)
			log_fatal("mkfifo %s: %m", path.data);
		(void)chmod(path.data, 0622);
		if ((m->fifo_fd = open(path.data, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
			log_fatal("open %s: %m", path.data);
	}
	fcntl(m->fifo_fd, F_SETFL, O_NONBLOCK);
	/* our own writer keeps the FIFO from reporting end-of-file */
	m->fifo_wfd = open(path.data, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	buf_free(&path);
}

/* load_params - the main.cf settings qmgr works by */
static void load_params(struct qmgr *m)
{
	m->min_backoff = config_time(m->cf, "minimal_backoff_time");
	m->max_backoff = config_time(m->cf, "maximal_backoff_time");
	m->queue_run_delay = config_time(m->cf, "queue_run_delay");
	m->max_lifetime = config_time(m->cf, "maximal_queue_lifetime");
	m->bounce_lifetime = config_time(m->cf, "bounce_queue_lifetime");
	m->delay_warning = config_time(m->cf, "delay_warning_time");
	m->active_limit = config_int(m->cf, "qmgr_message_active_limit");
	m->bounce_size_limit = config_size(m->cf, "bounce_size_limit");
	m->max_idle = config_time(m->cf, "max_idle");
	m->myhostname = config_str(m->cf, "myhostname");
	if (m->queue_run_delay <= 0)
		m->queue_run_delay = 300;
	if (m->active_limit <= 0)
		m->active_limit = 20000;
	if (m->bounce_lifetime > m->max_lifetime)
		m->bounce_lifetime = m->max_lifetime;
}

/* free_all - release the model at exit (keeps sanitizers quiet) */
static void free_all(struct qmgr *m)
{
	qmgr_workers_close(m);
	while (m->transports) {
		struct qmgr_transport *tp = m->transports;

		m->transports = tp->next;
		while (tp->dests) {
			struct qmgr_dest *d = tp->dests;

			tp->dests = d->next;
			while (d->head) {
				struct qmgr_entry *e = d->head;

				d->head = e->next;
				qmgr_entry_free(&e);
			}
			free(d->nexthop);
			free(d->dead_reason);
			free(d);
		}
		config_free(&tp->cf);
		free(tp->name);
		free(tp);
	}
	while (m->msgs) {
		struct qmgr_msg *msg = m->msgs;

		m->msgs = msg->next;
		qfile_free(&msg->q);
		free(msg);
	}
	buf_free(&m->fifo_buf);
}

/* qmgr_service_main - run until SIGTERM */
int qmgr_service_main(struct config *cf, const struct master_service *svc, const int *fds,
		      size_t nfds)
{
	struct qmgr m = { 0 };
	struct buf err = BUF_INIT;
	struct event *sig_term, *sig_int;
	struct timeval one = { 1, 0 };
	char *qdir;

	(void)svc;
	m.cf = cf;
	qdir = xstrdup(config_str(cf, "queue_directory"));
	m.qdir = qdir;
	if (queue_init_dirs(m.qdir, &err) < 0)
		log_fatal("queue_directory: %s", err.data);
	if ((m.route = route_open(cf, &err)) == NULL)
		log_fatal("cannot set up routing: %s", buf_cstr(&err));
	load_params(&m);
	{
		unsigned classes;

		if (notify_classes(cf, &classes, &err) < 0)
			log_fatal("%s", buf_cstr(&err));
	}
	signal(SIGPIPE, SIG_IGN);
	m.base = event_base_new();
	if (m.base == NULL)
		log_fatal("event_base_new failed");
	recover_active(&m);
	open_fifo(&m, fds, nfds);
	m.fifo_ev = event_new(m.base, m.fifo_fd, EV_READ | EV_PERSIST, on_fifo, &m);
	m.tick_ev = event_new(m.base, -1, EV_PERSIST, on_tick, &m);
	sig_term = evsignal_new(m.base, SIGTERM, on_signal, &m);
	sig_int = evsignal_new(m.base, SIGINT, on_signal, &m);
	event_add(m.fifo_ev, NULL);
	event_add(m.tick_ev, &one);
	event_add(sig_term, NULL);
	event_add(sig_int, NULL);
	log_info("queue manager started: queue_directory=%s", m.qdir);
	on_tick(-1, 0, &m);
	event_base_dispatch(m.base);

	event_free(m.fifo_ev);
	event_free(m.tick_ev);
	event_free(sig_term);
	event_free(sig_int);
	if (m.fifo_wfd >= 0)
		close(m.fifo_wfd);
	if (nfds == 0)
		close(m.fifo_fd);
	route_close(&m.route);
	free_all(&m);
	event_base_free(m.base);
	buf_free(&err);
	free(qdir);
	return 0;
}
