/*
 * qfile_impl - internals shared by the queue file writer, its group
 * committer and its reader. Not for use outside src/mail/qfile*.c.
 */
#ifndef OUTPOST_MAIL_QFILE_IMPL_H
#define OUTPOST_MAIL_QFILE_IMPL_H

#include <stdbool.h>
#include <sys/time.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "mail/qfile.h"

#define QFILE_REC_OVERHEAD	13	/* type, 10 digits, ":", LF */
#define QFILE_HDR_DATA		36	/* "v1 env=%012 len=%012" */
#define QFILE_HDR_SIZE		(QFILE_HDR_DATA + QFILE_REC_OVERHEAD)
#define QFILE_DATA_START	(QFILE_HDR_SIZE + QFILE_REC_OVERHEAD - 1)

struct qfile_writer {
	char *queue_dir;
	char *subdir;
	char *dir;		/* queue_dir/subdir */
	char *tmp_name;		/* current name, relative to dir (the ID after create) */
	char *tmp_path;
	char id[QFILE_ID_MAX];
	int fd;
	int dirfd;
	bool dir_path_only;	/* dirfd is O_PATH: sync with syncfs */
	bool created;		/* our file exists and must go on failure */
	mode_t mode;		/* without the completeness bit */
	int error;		/* first errno, 0 if fine */
	struct buf out;		/* bytes not yet written */
	off_t written;
	off_t content_len;
	bool last_lf;
	struct timeval arrival;
	char *sender;
	struct strv attr_names;
	struct strv attr_values;
	struct qfile_rcpt *rcpt;
	size_t nrcpt;
	size_t rcpt_cap;
};

void qfile_rec_put(struct buf *b, int type, const char *data, size_t len);
const char *qfile_errno_reply(int err);
int qfile_writer_finish(struct qfile_writer *w);
void qfile_writer_done(struct qfile_writer *w);
void qfile_writer_free(struct qfile_writer **wp);

#endif
