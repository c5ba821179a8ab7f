/*
 * queue - the queue store under queue_directory: message states as
 * directories, per-message delivery logs, and the moves between them.
 *
 * Layout (like Postfix's):
 *	maildrop/  local submissions (sendmail), world-writable and sticky
 *	incoming/  committed messages not yet seen by qmgr
 *	active/    messages qmgr is working on
 *	deferred/  waiting for a retry; the file's mtime is the next attempt
 *	hold/      kept aside until `outpost queue release`
 *	corrupt/   files that failed their checks (never deleted silently)
 *	defer/     per-message log of the last deferral reason per recipient
 *	bounce/    per-message log of recipients that need a DSN (failed,
 *	           or delivered with NOTIFY=SUCCESS)
 *	public/    qmgr's FIFO (public/qmgr), for wake-ups and flush requests
 *	pid/       process ID files
 *
 * A message file keeps its queue ID as its name in every state.
 *
 * Public: queue_state_name, queue_state_parse, queue_init_dirs, queue_path,
 * queue_find, queue_move, queue_scan, queue_remove, queue_to_corrupt,
 * queue_log_append, queue_log_read, queue_log_free, queue_log_last.
 * Errors: functions return -1 with errno set (ENOENT for an unknown ID);
 * queue_init_dirs fills err with the directory and reason.
 */
#ifndef OUTPOST_QUEUE_QUEUE_H
#define OUTPOST_QUEUE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/str.h"

enum queue_state {
	QUEUE_MAILDROP,
	QUEUE_INCOMING,
	QUEUE_ACTIVE,
	QUEUE_DEFERRED,
	QUEUE_HOLD,
	QUEUE_CORRUPT,
	QUEUE_NSTATES,
};

#define QUEUE_LOG_DEFER		"defer"
#define QUEUE_LOG_BOUNCE	"bounce"

/* Statuses in the logs. */
#define QLOG_DEFERRED	'D'
#define QLOG_FAILED	'F'
#define QLOG_DELIVERED	'S'	/* success notice wanted */

struct queue_log_entry {
	size_t index;		/* recipient position in the queue file */
	char status;		/* QLOG_* */
	char dsn[16];
	time_t when;
	char *relay;
	char *reply;
};

struct queue_log {
	struct queue_log_entry *v;
	size_t n;
};

const char *queue_state_name(enum queue_state st);
int queue_state_parse(const char *name);
int queue_init_dirs(const char *qdir, struct buf *err);
void queue_path(struct buf *out, const char *qdir, enum queue_state st, const char *id);
int queue_find(const char *qdir, const char *id, enum queue_state *st);
int queue_move(const char *qdir, const char *id, enum queue_state from, enum queue_state to);
int queue_scan(const char *qdir, enum queue_state st, struct strv *ids);
int queue_remove(const char *qdir, const char *id, enum queue_state st);
void queue_to_corrupt(const char *qdir, enum queue_state st, const char *id,
		      const char *reason);

int queue_log_append(const char *qdir, const char *kind, const char *id, size_t index,
		     char status, const char *dsn, time_t when, const char *relay,
		     const char *reply, bool sync);
int queue_log_read(const char *qdir, const char *kind, const char *id, struct queue_log *out);
void queue_log_free(struct queue_log *log);
const struct queue_log_entry *queue_log_last(const struct queue_log *log, size_t index);
void queue_log_unlink(const char *qdir, const char *id);
void queue_purge_incomplete(const char *qdir, enum queue_state st, long max_age);

#endif
