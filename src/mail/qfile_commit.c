/*
 * qfile_commit - group commit: many queue files made durable together.
 *
 * One fsync costs a disk flush; at hundreds of messages per second those
 * flushes, not the CPU, bound an MTA. The committer lets each SMTP session
 * hand over its finished file and carry on; a background thread (one of a
 * few, so a new batch can start while another is syncing) takes every
 * file waiting at that moment and makes all of them durable with one
 * syncfs(2) (falling back to fsync per file and directory where syncfs
 * fails), and reports back
 * through an eventfd watched by the caller's libevent loop. The done
 * callbacks therefore always run in the loop's thread, never re-entrantly
 * from qfile_commit_async().
 *
 * Public: qfile_committer_new, qfile_committer_free, qfile_commit_async.
 * Trouble: a failed write, sync or rename is reported per file as a 4xx
 * reply; its temporary file is removed.
 */
#include "mail/qfile.h"
#include "mail/qfile_impl.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mem.h"

struct commit_job {
	struct qfile_writer *w;
	qfile_commit_fn done;
	void *ctx;
	int status;		/* 0 or an errno */
	struct commit_job *next;
};

#define COMMIT_THREADS 4	/* a new batch may start while others sync */

struct qfile_committer {
	pthread_t thread[COMMIT_THREADS];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct commit_job *todo, **todo_tail;
	struct commit_job *done, **done_tail;
	bool stop;
	int evfd;
	struct event *ev;
};

/* sync_batch - every file of the batch, with its directory entry, to
 * disk: one syncfs(2) covers them all; where it fails, fsync each file and
 * each directory once */
static void sync_batch(struct commit_job *batch)
{
	struct commit_job *j, *k;
	int fd = -1;

	for (j = batch; j; j = j->next)
		if (j->status == 0) {
			fd = j->w->fd;
			break;
		}
	if (fd < 0)
		return;
	/* one file: fsync writes just it (and, on journaling file systems,
	 * the directory entry made in the same transaction); several: one
	 * syncfs instead of a flush each */
	if (batch->next == NULL ? fsync(fd) == 0 : syncfs(fd) == 0)
		return;
	for (j = batch; j; j = j->next)
		if (j->status == 0 && fsync(j->w->fd) < 0)
			j->status = errno;
	for (j = batch; j; j = j->next) {
		bool seen = false;

		if (j->status != 0 || j->w->dir_path_only)
			continue;
		for (k = batch; k != j; k = k->next)
			if (strcmp(k->w->dir, j->w->dir) == 0)
				seen = true;
		if (!seen && fsync(j->w->dirfd) < 0) {
			int e = errno;

			for (k = j; k; k = k->next)
				if (k->status == 0 && strcmp(k->w->dir, j->w->dir) == 0)
					k->status = e;
		}
	}
}

/* committer_thread - take everything waiting, make it durable, report */
static void *committer_thread(void *arg)
{
	struct qfile_committer *c = arg;
	uint64_t one = 1;

	for (;;) {
		struct commit_job *batch, *last;

		pthread_mutex_lock(&c->mu);
		while (c->todo == NULL && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->todo == NULL) {
			pthread_mutex_unlock(&c->mu);
			break;
		}
		batch = c->todo;
		c->todo = NULL;
		c->todo_tail = &c->todo;
		pthread_mutex_unlock(&c->mu);

		sync_batch(batch);
		for (struct commit_job *j = batch; j; j = j->next)
			if (j->status == 0)
				qfile_writer_done(j->w);

		for (last = batch; last->next; last = last->next)
			;
		pthread_mutex_lock(&c->mu);
		*c->done_tail = batch;
		c->done_tail = &last->next;
		pthread_mutex_unlock(&c->mu);
		if (write(c->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_warn("committer: eventfd write: %m");
	}
	return NULL;
}

/* run_done - call back every finished job (in the loop's thread) */
static void run_done(struct qfile_committer *c)
{
	struct commit_job *list, *j;
	const char *wake_dir = NULL;
	char *wake = NULL;

	pthread_mutex_lock(&c->mu);
	list = c->done;
	c->done = NULL;
	c->done_tail = &c->done;
	pthread_mutex_unlock(&c->mu);
	for (j = list; j; j = j->next)
		if (j->status == 0 && strcmp(j->w->subdir, "incoming") == 0)
			wake_dir = j->w->queue_dir;
	if (wake_dir)
		wake = xstrdup(wake_dir);
	while ((j = list) != NULL) {
		list = j->next;
		if (j->status != 0 && j->w->error == 0)
			j->w->error = j->status;
		if (j->status == 0)
			j->done(j->ctx, 0, j->w->id, NULL);
		else
			j->done(j->ctx, -1, NULL, qfile_errno_reply(j->status));
		qfile_writer_free(&j->w);
		free(j);
	}
	if (wake)
		(void)qfile_wakeup(wake, "W");
	xfree(&wake);
}

/* on_event - the eventfd became readable */
static void on_event(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;

	(void)what;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("committer: eventfd read: %m");
	run_done(arg);
}

/* qfile_committer_new - start the thread and watch its eventfd in base */
struct qfile_committer *qfile_committer_new(struct event_base *base)
{
	struct qfile_committer *c = xcalloc(1, sizeof(*c));
	int rc;

	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->todo_tail = &c->todo;
	c->done_tail = &c->done;
	if ((c->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		log_fatal("committer: eventfd: %m");
	c->ev = event_new(base, c->evfd, EV_READ | EV_PERSIST, on_event, c);
	if (c->ev == NULL || event_add(c->ev, NULL) < 0)
		log_fatal("committer: cannot watch eventfd");
	for (int i = 0; i < COMMIT_THREADS; i++)
		if ((rc = pthread_create(&c->thread[i], NULL, committer_thread, c)) != 0)
			log_fatal("committer: pthread_create: %s", strerror(rc));
	return c;
}

/* qfile_committer_free - finish what was handed over, then stop */
void qfile_committer_free(struct qfile_committer **cp)
{
	struct qfile_committer *c = *cp;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	for (int i = 0; i < COMMIT_THREADS; i++)
		pthread_join(c->thread[i], NULL);
	run_done(c);
	event_free(c->ev);
	close(c->evfd);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	xfree(cp);
}

/* qfile_commit_async - finish the file now; durability comes later */
void qfile_commit_async(struct qfile_committer *c, struct qfile_writer **wp,
			qfile_commit_fn done, void *ctx)
{
	struct commit_job *j = xcalloc(1, sizeof(*j));

	j->w = *wp;
	*wp = NULL;
	j->done = done;
	j->ctx = ctx;
	if (qfile_writer_finish(j->w) < 0)
		j->status = j->w->error;
	pthread_mutex_lock(&c->mu);
	*c->todo_tail = j;
	c->todo_tail = &j->next;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}
