/*
 * qfile - the queue file: one message (envelope + content) on disk, its
 * writer (with group commit) and its reader.
 *
 * Format (version 1). A file is a sequence of records, each
 *
 *	TYPE LEN10 ':' DATA '\n'
 *
 * where TYPE is one byte, LEN10 the DATA length as exactly 10 decimal digits,
 * and the '\n' after DATA is checked, so a torn or damaged record is always
 * detected. Order:
 *
 *	H  header, fixed width: "v1 env=OFFSET12 len=CONTENT12"; OFFSET is where
 *	   the envelope starts, 0 while the file is being written
 *	C  the message content, raw: RFC 5322 text with LF line ends; DATA is
 *	   exactly the byte range a delivery agent reads (content_offset/length)
 *	T  arrival time "SECONDS.MICROSECONDS"
 *	S  envelope sender ("" for the null sender)
 *	A  attribute "name=value" (client facts, SASL, ENVID, RET, flags, …)
 *	W  delay-warning flag, one byte '0'/'1', updated in place
 *	R  recipient address; followed by its own
 *	O  ORCPT ("rfc822;user@example"), optional
 *	G  original recipient, optional
 *	N  NOTIFY bits (decimal, QFILE_NOTIFY_* = CLEANUP_NOTIFY_*)
 *	D  status, one byte, updated in place: QFILE_RCPT_PENDING, _SENT,
 *	   _BOUNCED; a recipient not pending is never tried again
 *	E  end of envelope (empty); anything missing makes the file corrupt
 *
 * Crash safety. The writer creates DIR/tmp.PID.N, learns its inode, and
 * renames it at once to DIR/QUEUEID (the ID is known from then on). The
 * file is incomplete while its owner-execute bit is clear; readers that
 * scan incoming/ and maildrop/ skip such files. At commit the writer adds
 * the envelope and the header, sets the execute bit, and makes file and
 * directory entry durable: qfile_commit() fsyncs both; the group committer
 * fsyncs a lone file (its directory entry is in the same journal
 * transaction on ext4/XFS, as Postfix relies on too) and covers a batch of
 * several with one syncfs(2).
 * Only then does the commit report success. A crash before that leaves an
 * incomplete file (never delivered, removed later by qmgr) or a complete
 * one that was never acknowledged (delivered: at most a duplicate, never a
 * loss). Status bytes are changed with pwrite(2) of one byte and
 * qfile_sync().
 *
 * Queue IDs use Postfix's long form (enable_long_queue_ids = yes):
 * arrival seconds and microseconds in base 52, a 'z', then the file's
 * inode number in base 51 — unique while the file exists, sortable by age.
 *
 * Errors: writer calls that fail put an SMTP-style reply into err
 * ("452 4.3.1 Insufficient system storage" for a full disk, "451 4.3.0 …"
 * otherwise) and leave nothing visible behind. qfile_open() returns NULL
 * and sets *why to QFILE_ERR_CORRUPT (the caller moves the file to
 * corrupt/ and logs) or QFILE_ERR_IO (missing file, permissions).
 */
#ifndef OUTPOST_MAIL_QFILE_H
#define OUTPOST_MAIL_QFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/time.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "lib/str.h"

struct event_base;

/* Record types (the queue file's wire names). */
#define QREC_HEADER	'H'
#define QREC_CONTENT	'C'
#define QREC_TIME	'T'
#define QREC_SENDER	'S'
#define QREC_ATTR	'A'
#define QREC_WARNED	'W'
#define QREC_RCPT	'R'
#define QREC_ORCPT	'O'
#define QREC_ORIGINAL	'G'
#define QREC_NOTIFY	'N'
#define QREC_STATUS	'D'
#define QREC_END	'E'

/* Per-recipient status bytes (QREC_STATUS). */
#define QFILE_RCPT_PENDING	'P'
#define QFILE_RCPT_SENT		'S'	/* delivered, discarded or relayed */
#define QFILE_RCPT_BOUNCED	'B'	/* failed; recorded in the bounce log */

/* DSN NOTIFY bits, equal to CLEANUP_NOTIFY_* (cleanup.h). */
#define QFILE_NOTIFY_NEVER	(1u << 0)
#define QFILE_NOTIFY_SUCCESS	(1u << 1)
#define QFILE_NOTIFY_FAILURE	(1u << 2)
#define QFILE_NOTIFY_DELAY	(1u << 3)

/* Well-known attribute names (QREC_ATTR). */
#define QATTR_ENVID		"envid"
#define QATTR_RET		"ret"		/* FULL or HDRS */
#define QATTR_SMTPUTF8		"smtputf8"	/* "1" */
#define QATTR_8BIT		"body_8bit"	/* "1" */
#define QATTR_CLIENT_ADDR	"client_address"
#define QATTR_CLIENT_NAME	"client_name"
#define QATTR_REVERSE_NAME	"reverse_client_name"
#define QATTR_CLIENT_PORT	"client_port"
#define QATTR_HELO		"helo_name"
#define QATTR_PROTO		"protocol_name"
#define QATTR_SASL_METHOD	"sasl_method"
#define QATTR_SASL_USERNAME	"sasl_username"
#define QATTR_LOCAL_USER	"local_user"
#define QATTR_HOLD		"hold_reason"
#define QATTR_FILTER		"content_filter"	/* transport:nexthop */
#define QATTR_REDIRECT		"redirect"
#define QATTR_FULLNAME		"full_name"	/* sendmail -F */
#define QATTR_NOTICE		"notice"	/* "bounce", "delay", "success", "2bounce" */

#define QFILE_ERR_IO		1
#define QFILE_ERR_CORRUPT	2

#define QFILE_ID_MAX		32

/* a file in incoming/ or maildrop/ is complete when its mode has this */
#define QFILE_COMPLETE_BIT	0100

/* ---- writer ---- */

struct qfile_writer;

/* qfile_create - start a message in queue_dir/subdir (e.g. "incoming");
 * mode 0600 (0644 in maildrop, for pickup), plus u+x once complete */
struct qfile_writer *qfile_create(const char *queue_dir, const char *subdir,
				  struct buf *err);
const char *qfile_writer_id(const struct qfile_writer *w);
void qfile_set_sender(struct qfile_writer *w, const char *sender);
void qfile_set_arrival(struct qfile_writer *w, const struct timeval *tv);
void qfile_add_attr(struct qfile_writer *w, const char *name, const char *value);
size_t qfile_add_rcpt(struct qfile_writer *w, const char *address, const char *orcpt,
		      const char *original, unsigned notify);
size_t qfile_writer_nrcpt(const struct qfile_writer *w);
/* one logical content line, without its terminator; LF is added */
int qfile_append_line(struct qfile_writer *w, const char *line, size_t len);
/* raw content bytes (must end with LF by commit time, added if not) */
int qfile_append(struct qfile_writer *w, const char *data, size_t len);
off_t qfile_writer_size(const struct qfile_writer *w);
/* qfile_writer_error - the SMTP reply for a failed write so far, or NULL
 * ("452 4.3.1 Insufficient system storage" for a full disk) */
const char *qfile_writer_error(const struct qfile_writer *w);

/* qfile_commit - synchronous: durable and visible on return 0; frees *wp */
int qfile_commit(struct qfile_writer **wp, struct buf *err);
/* qfile_abort - remove the unfinished file; frees *wp */
void qfile_abort(struct qfile_writer **wp);

/* Group commit: one committer per event loop; a background thread makes a
 * whole batch durable with one syncfs(2) and calls each done callback back
 * in the loop's thread. status 0: durable, queue_id valid during the call;
 * else reply holds the SMTP reply (4xx) and nothing was queued. */
typedef void (*qfile_commit_fn)(void *ctx, int status, const char *queue_id,
				const char *reply);
struct qfile_committer;

struct qfile_committer *qfile_committer_new(struct event_base *base);
void qfile_committer_free(struct qfile_committer **cp);
/* qfile_commit_async - hand *wp to the committer (it owns and frees it) */
void qfile_commit_async(struct qfile_committer *c, struct qfile_writer **wp,
			qfile_commit_fn done, void *ctx);

/* qfile_wakeup - tell a running qmgr (queue_dir/public/qmgr FIFO) that
 * something changed; cmd is one line such as "W" (new mail), "F" (flush
 * all"), "F example.com", "I QUEUEID". Returns -1 with errno: ENXIO or
 * ENOENT when no qmgr listens, EACCES when we may not reach it. */
int qfile_wakeup(const char *queue_dir, const char *cmd);
/* qfile_notify - the same for another FIFO service ("pickup") */
int qfile_notify(const char *queue_dir, const char *service, const char *cmd);

/* ---- reader ---- */

struct qfile_rcpt {
	char *address;
	char *orcpt;		/* NULL when absent */
	char *original;		/* NULL when absent */
	unsigned notify;
	char status;		/* QFILE_RCPT_* */
	off_t status_offset;	/* file offset of the status byte */
};

struct qfile {
	char *path;
	char id[QFILE_ID_MAX];	/* basename of path */
	int fd;
	off_t file_size;
	off_t content_offset;
	off_t content_length;
	struct timeval arrival;
	char *sender;
	struct strv attr_names;
	struct strv attr_values;
	bool warned;
	off_t warned_offset;
	size_t nrcpt;
	struct qfile_rcpt *rcpt;
};

/* qfile_open - read and check a committed file; writable allows updates */
struct qfile *qfile_open(const char *path, bool writable, int *why, struct buf *err);
/* qfile_open_fd - the same from an open descriptor (owned by the result;
 * path only names it in messages) */
struct qfile *qfile_open_fd(int fd, const char *path, int *why, struct buf *err);
/* qfile_parse - check a file image in memory (used by qfile_open and fuzzing) */
int qfile_parse(struct qfile *q, const char *data, size_t len, struct buf *err);
void qfile_free(struct qfile **qp);
const char *qfile_attr(const struct qfile *q, const char *name);
int qfile_set_rcpt_status(struct qfile *q, size_t i, char status);
int qfile_set_warned(struct qfile *q);
int qfile_sync(struct qfile *q);
/* qfile_read_content - the content bytes into out (bounded by max, 0=all) */
int qfile_read_content(const struct qfile *q, struct buf *out, size_t max);
size_t qfile_pending(const struct qfile *q);

/* ---- queue IDs ---- */

/* qfile_make_id - the long queue ID for an arrival time and inode number */
void qfile_make_id(char out[QFILE_ID_MAX], const struct timeval *tv, unsigned long inode);
bool qfile_valid_id(const char *id);
/* qfile_id_time - arrival seconds encoded in a queue ID (-1 if invalid) */
long long qfile_id_time(const char *id);

#endif
