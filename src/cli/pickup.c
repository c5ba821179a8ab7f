/*
 * pickup - the service that takes local submissions from maildrop/ (where
 * sendmail(1) leaves them) and feeds them through cleanup, so that locally
 * submitted mail is rewritten and checked like mail from smtpd, then
 * removes the maildrop file once cleanup reports the new queue file
 * durable. It lives in the cli layer because it joins two siblings (queue
 * files and cleanup).
 *
 * Trust: a maildrop file is written by any local user. Only the envelope
 * (sender, recipients, NOTIFY/ORCPT, ENVID, RET, BODY), the full name for
 * an added From: header, and the content are taken from it; who submitted
 * it comes from the file's owner, never from the file, and every other
 * attribute in it is ignored.
 *
 * Wake-ups: "W" lines on the FIFO public/pickup (sendmail writes one), and
 * a scan every second as a safety net.
 *
 * Public: cli_pickup_main (queue_services.h).
 * Trouble: a maildrop file that fails its checks goes to corrupt/ with a
 * log line; a temporary cleanup failure (4xx) leaves it for a later try; a
 * permanent rejection (5xx) moves it to corrupt/ with the reply logged, so
 * nothing a user submitted vanishes without trace.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup/cleanup.h"
#include "cli/queue_services.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "mail/qfile.h"
#include "queue/queue.h"

struct pickup {
	struct config *cf;
	struct event_base *base;
	char *qdir;
	struct event *tick;
	struct event *fifo_ev;
	int fifo_fd;
	bool busy;
	char id[QFILE_ID_MAX];	/* the maildrop file in cleanup now */
	uid_t uid;
	char *sender;
	time_t retry_at;	/* after a temporary failure */
};

static void pickup_scan(struct pickup *p);

/* owner_name - login of a uid, or "uid N" */
static void owner_name(uid_t uid, struct buf *out)
{
	struct passwd *pw = getpwuid(uid);

	if (pw && pw->pw_name)
		buf_puts(out, pw->pw_name);
	else
		buf_printf(out, "uid%ld", (long)uid);
}

/* on_done - cleanup finished one message */
static void on_done(void *ctx, int status, const char *queue_id, const char *reply)
{
	struct pickup *p = ctx;
	struct buf path = BUF_INIT;

	queue_path(&path, p->qdir, QUEUE_MAILDROP, p->id);
	if (status == 0) {
		if (unlink(path.data) < 0)
			log_warn("%s: remove maildrop file: %m", p->id);
		log_info("%s: uid=%ld from=<%s>", queue_id, (long)p->uid, p->sender);
	} else if (reply && reply[0] == '5') {
		log_warn("%s: local submission rejected: %s", p->id, reply);
		queue_to_corrupt(p->qdir, QUEUE_MAILDROP, p->id, reply);
	} else {
		log_warn("%s: cannot queue the local submission now, will retry: %s", p->id,
			 reply ? reply : "(no reason)");
		p->retry_at = time(NULL) + 10;
	}
	buf_free(&path);
	xfree(&p->sender);
	p->busy = false;
	event_active(p->tick, EV_TIMEOUT, 0);
}

/* feed_content - the content, line by line, into cleanup */
static int feed_content(struct cleanup *c, struct qfile *q)
{
	struct buf text = BUF_INIT;
	int rc;

	if (qfile_read_content(q, &text, 0) < 0) {
		buf_free(&text);
		return -1;
	}
	rc = cleanup_text(c, text.data ? text.data : "", text.len);
	buf_free(&text);
	return rc;
}

/* take_one - one maildrop file into cleanup; false if none was started */
static bool take_one(struct pickup *p, const char *id)
{
	struct buf path = BUF_INIT, err = BUF_INIT, user = BUF_INIT;
	struct cleanup_client cl = { 0 };
	struct cleanup *c;
	struct qfile *q;
	struct stat st;
	int why;
	const char *v;

	queue_path(&path, p->qdir, QUEUE_MAILDROP, id);
	q = qfile_open(path.data, false, &why, &err);
	if (q == NULL || fstat(q->fd, &st) < 0) {
		if (q == NULL && why == QFILE_ERR_CORRUPT)
			queue_to_corrupt(p->qdir, QUEUE_MAILDROP, id, buf_cstr(&err));
		qfile_free(&q);
		buf_free(&path);
		buf_free(&err);
		return false;
	}
	owner_name(st.st_uid, &user);
	cl.proto = "local";
	cl.name = "localhost";
	cl.local_user = user.data;
	buf_reset(&err);
	if ((c = cleanup_open(p->cf, &cl, &err)) == NULL) {
		log_warn("%s: cleanup unavailable, will retry: %s", id, buf_cstr(&err));
		p->retry_at = time(NULL) + 10;
		qfile_free(&q);
		buf_free(&path);
		buf_free(&err);
		buf_free(&user);
		return false;
	}
	cleanup_sender(c, q->sender, qfile_attr(q, QATTR_RET), qfile_attr(q, QATTR_ENVID),
		       (long)q->content_length,
		       (v = qfile_attr(q, QATTR_SMTPUTF8)) && strcmp(v, "1") == 0);
	cleanup_body_8bit(c, (v = qfile_attr(q, QATTR_8BIT)) && strcmp(v, "1") == 0);
	cleanup_full_name(c, qfile_attr(q, QATTR_FULLNAME));
	for (size_t i = 0; i < q->nrcpt; i++)
		cleanup_recipient(c, q->rcpt[i].address, q->rcpt[i].orcpt, q->rcpt[i].notify);
	p->busy = true;
	p->uid = st.st_uid;
	p->sender = xstrdup(q->sender);
	snprintf(p->id, sizeof(p->id), "%s", id);
	if (feed_content(c, q) < 0) {
		cleanup_abort(&c);
		on_done(p, -1, NULL, "451 4.3.0 cannot read the maildrop file");
	} else
		cleanup_finish(c, on_done, p);
	qfile_free(&q);
	buf_free(&path);
	buf_free(&err);
	buf_free(&user);
	return true;
}

/* pickup_scan - start the oldest maildrop file, if idle */
static void pickup_scan(struct pickup *p)
{
	struct strv ids = STRV_INIT;

	if (p->busy || time(NULL) < p->retry_at)
		return;
	queue_scan(p->qdir, QUEUE_MAILDROP, &ids);
	for (size_t i = 0; i < ids.n && !p->busy; i++)
		if (take_one(p, ids.v[i]))
			break;
	strv_free(&ids);
}

/* on_tick - timer or explicit activation */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pickup_scan(arg);
}

/* on_fifo - drain wake-ups, then scan */
static void on_fifo(evutil_socket_t fd, short what, void *arg)
{
	char tmp[512];

	(void)what;
	while (read(fd, tmp, sizeof(tmp)) > 0)
		;
	pickup_scan(arg);
}

/* on_signal - stop; a message in cleanup stays in maildrop/ until done */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct pickup *p = arg;

	(void)sig;
	(void)what;
	event_base_loopbreak(p->base);
}

/* open_fifo - public/pickup, unless the master passed it */
static int open_fifo(const char *qdir, const int *fds, size_t nfds)
{
	struct buf path = BUF_INIT;
	int fd;

	if (nfds > 0 && fds[0] >= 0)
		return fds[0];
	buf_printf(&path, "%s/public/pickup", qdir);
	if (mkfifo(path.data, 0622) < 0 && errno != EEXIST)
		log_fatal("mkfifo %s: %m", path.data);
	(void)chmod(path.data, 0622);
	/* read-write: the FIFO never reports end-of-file to us */
	if ((fd = open(path.data, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
		log_fatal("open %s: %m", path.data);
	buf_free(&path);
	return fd;
}

/* cli_pickup_main - run until SIGTERM */
int cli_pickup_main(struct config *cf, const struct master_service *svc, const int *fds,
		    size_t nfds)
{
	struct pickup p = { 0 };
	struct buf err = BUF_INIT;
	struct timeval one = { 1, 0 };
	struct event *sig_term, *sig_int;

	(void)svc;
	p.cf = cf;
	p.qdir = xstrdup(config_str(cf, "queue_directory"));
	if (queue_init_dirs(p.qdir, &err) < 0)
		log_fatal("queue_directory: %s", err.data);
	signal(SIGPIPE, SIG_IGN);
	if ((p.base = event_base_new()) == NULL)
		log_fatal("event_base_new failed");
	if (cleanup_init(p.base, cf, &err) < 0)
		log_fatal("cleanup: %s", buf_cstr(&err));
	queue_purge_incomplete(p.qdir, QUEUE_MAILDROP, 3600);
	p.fifo_fd = open_fifo(p.qdir, fds, nfds);
	fcntl(p.fifo_fd, F_SETFL, O_NONBLOCK);
	p.fifo_ev = event_new(p.base, p.fifo_fd, EV_READ | EV_PERSIST, on_fifo, &p);
	p.tick = event_new(p.base, -1, EV_PERSIST, on_tick, &p);
	sig_term = evsignal_new(p.base, SIGTERM, on_signal, &p);
	sig_int = evsignal_new(p.base, SIGINT, on_signal, &p);
	event_add(p.fifo_ev, NULL);
	event_add(p.tick, &one);
	event_add(sig_term, NULL);
	event_add(sig_int, NULL);
	pickup_scan(&p);
	event_base_dispatch(p.base);
	event_free(p.fifo_ev);
	event_free(p.tick);
	event_free(sig_term);
	event_free(sig_int);
	if (nfds == 0)
		close(p.fifo_fd);
	event_base_free(p.base);
	xfree(&p.sender);
	free(p.qdir);
	buf_free(&err);
	return 0;
}
