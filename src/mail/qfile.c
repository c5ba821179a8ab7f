/*
 * qfile - queue file writer and queue IDs (format: qfile.h).
 *
 * Public: qfile_create, qfile_writer_id, qfile_set_sender, qfile_set_arrival,
 * qfile_add_attr, qfile_add_rcpt, qfile_writer_nrcpt, qfile_append_line,
 * qfile_append, qfile_writer_size, qfile_writer_error, qfile_commit,
 * qfile_abort, qfile_wakeup, qfile_notify, qfile_make_id, qfile_valid_id,
 * qfile_id_time; for qfile_commit.c:
 * qfile_writer_finish, qfile_writer_done, qfile_writer_free,
 * qfile_errno_reply.
 *
 * Bad input / trouble: a failed write is remembered and reported once, at
 * commit, as an SMTP reply (452 4.3.1 for a full disk); the temporary file
 * is then removed, so nothing half-written ever becomes visible.
 */
#include "mail/qfile.h"
#include "mail/qfile_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mem.h"

#define QFILE_FLUSH_AT	(64 * 1024)

static const char id_alpha[] = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";

/* put_base - fixed-width (width > 0) or minimal number in base radix */
static size_t put_base(char *out, unsigned long long v, unsigned radix, int width)
{
	char tmp[32];
	size_t n = 0;

	do {
		tmp[n++] = id_alpha[v % radix];
		v /= radix;
	} while (v > 0 && n < sizeof(tmp));
	while ((int)n < width)
		tmp[n++] = '0';
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* qfile_make_id - Postfix-style long queue ID: seconds, usec, 'z', inode */
void qfile_make_id(char out[QFILE_ID_MAX], const struct timeval *tv, unsigned long inode)
{
	size_t n = 0;

	n += put_base(out + n, (unsigned long long)tv->tv_sec, 52, 6);
	n += put_base(out + n, (unsigned long long)tv->tv_usec, 52, 4);
	out[n++] = 'z';
	n += put_base(out + n, inode, 51, 0);
	out[n] = 0;
}

/* alpha_value - position of c in the ID alphabet, -1 if absent */
static int alpha_value(int c)
{
	const char *p = c ? strchr(id_alpha, c) : NULL;

	return p ? (int)(p - id_alpha) : -1;
}

/* qfile_valid_id - shape check, so tools never build paths from junk */
bool qfile_valid_id(const char *id)
{
	size_t len = strlen(id);

	if (len < 12 || len >= QFILE_ID_MAX || id[10] != 'z')
		return false;
	for (size_t i = 0; i < len; i++) {
		int v = alpha_value((unsigned char)id[i]);

		if (i == 10)
			continue;
		if (v < 0 || (i > 10 && v >= 51))
			return false;
	}
	return true;
}

/* qfile_id_time - the arrival second encoded in a valid ID */
long long qfile_id_time(const char *id)
{
	long long t = 0;

	if (!qfile_valid_id(id))
		return -1;
	for (int i = 0; i < 6; i++)
		t = t * 52 + alpha_value((unsigned char)id[i]);
	return t;
}

/* qfile_errno_reply - the SMTP reply for a queue write failure */
const char *qfile_errno_reply(int err)
{
	switch (err) {
	case ENOSPC:
	case EDQUOT:
		return "452 4.3.1 Insufficient system storage";
	case EFBIG:
		return "552 5.3.4 Message file too big";
	default:
		return "451 4.3.0 Error: queue file write error";
	}
}

/* rec_put - append one record to b */
void qfile_rec_put(struct buf *b, int type, const char *data, size_t len)
{
	buf_printf(b, "%c%010zu:", type, len);
	buf_append(b, data, len);
	buf_putc(b, '\n');
}

/* writer_fail - remember the first failure */
static void writer_fail(struct qfile_writer *w, int err, const char *what)
{
	if (w->error == 0) {
		w->error = err ? err : EIO;
		log_warn("%s: %s: %s", w->tmp_path, what, strerror(w->error));
	}
}

/* writer_flush - push buffered bytes to the file */
static void writer_flush(struct qfile_writer *w)
{
	size_t off = 0;

	while (off < w->out.len && w->error == 0) {
		ssize_t n = write(w->fd, w->out.data + off, w->out.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			writer_fail(w, n < 0 ? errno : ENOSPC, "write");
			break;
		}
		off += (size_t)n;
		w->written += n;
	}
	buf_reset(&w->out);
}

/* qfile_create - a new temporary file; the ID is fixed from now on */
struct qfile_writer *qfile_create(const char *queue_dir, const char *subdir, struct buf *err)
{
	static unsigned long seq;
	struct qfile_writer *w = xcalloc(1, sizeof(*w));
	struct buf tmp = BUF_INIT;
	mode_t mode = strcmp(subdir, "maildrop") == 0 ? 0644 : 0600;
	struct stat st;

	w->queue_dir = xstrdup(queue_dir);
	w->subdir = xstrdup(subdir);
	w->fd = w->dirfd = -1;
	buf_printf(&tmp, "%s/%s", queue_dir, subdir);
	w->dir = buf_steal(&tmp);
	w->dirfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0 && errno == EACCES) {
		/* maildrop is write-only for submitters: no fsync of the
		 * directory; syncfs() stands in for it */
		w->dirfd = open(w->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		w->dir_path_only = true;
	}
	if (w->dirfd < 0) {
		buf_printf(err, "451 4.3.0 Error: queue directory %s: %s", w->dir, strerror(errno));
		log_warn("open %s: %m", w->dir);
		qfile_writer_free(&w);
		return NULL;
	}
	buf_printf(&tmp, "tmp.%ld.%lu", (long)getpid(), ++seq);
	w->tmp_name = buf_steal(&tmp);
	buf_printf(&tmp, "%s/%s", w->dir, w->tmp_name);
	w->tmp_path = buf_steal(&tmp);
	w->fd = openat(w->dirfd, w->tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (w->fd < 0 || fstat(w->fd, &st) < 0) {
		int e = errno;

		buf_puts(err, qfile_errno_reply(e));
		log_warn("create %s: %s", w->tmp_path, strerror(e));
		qfile_writer_free(&w);
		return NULL;
	}
	if (mode != 0600)
		(void)fchmod(w->fd, mode);	/* umask must not hide it from pickup */
	w->mode = mode;
	w->created = true;
	gettimeofday(&w->arrival, NULL);
	qfile_make_id(w->id, &w->arrival, (unsigned long)st.st_ino);
	/* the final name now: the file stays invisible to readers until its
	 * owner-execute bit says complete (set at commit, before the sync) */
	if (renameat2(w->dirfd, w->tmp_name, w->dirfd, w->id, RENAME_NOREPLACE) < 0) {
		int e = errno;

		buf_puts(err, qfile_errno_reply(e));
		log_warn("rename %s: %s", w->tmp_path, strerror(e));
		qfile_writer_free(&w);
		return NULL;
	}
	xfree(&w->tmp_name);
	xfree(&w->tmp_path);
	w->tmp_name = xstrdup(w->id);
	buf_printf(&tmp, "%s/%s", w->dir, w->id);
	w->tmp_path = buf_steal(&tmp);
	w->sender = xstrdup("");
	/* placeholders: header and content record heads are rewritten at commit */
	buf_printf(&w->out, "%c%010d:v1 env=%012d len=%012d\n", QREC_HEADER, QFILE_HDR_DATA, 0, 0);
	buf_printf(&w->out, "%c%010d:", QREC_CONTENT, 0);
	w->last_lf = true;
	return w;
}

/* qfile_writer_id - the queue ID this message will have */
const char *qfile_writer_id(const struct qfile_writer *w)
{
	return w->id;
}

/* qfile_set_sender - envelope sender; "" is the null sender */
void qfile_set_sender(struct qfile_writer *w, const char *sender)
{
	xfree(&w->sender);
	w->sender = xstrdup(sender ? sender : "");
}

/* qfile_set_arrival - override the arrival time (pickup keeps the original) */
void qfile_set_arrival(struct qfile_writer *w, const struct timeval *tv)
{
	w->arrival = *tv;
}

/* qfile_add_attr - one name=value fact; a repeated name keeps the last */
void qfile_add_attr(struct qfile_writer *w, const char *name, const char *value)
{
	for (size_t i = 0; i < w->attr_names.n; i++) {
		if (strcmp(w->attr_names.v[i], name) == 0) {
			xfree(&w->attr_values.v[i]);
			w->attr_values.v[i] = xstrdup(value ? value : "");
			return;
		}
	}
	strv_push(&w->attr_names, name);
	strv_push(&w->attr_values, value ? value : "");
}

/* qfile_add_rcpt - one recipient; returns its index in the file */
size_t qfile_add_rcpt(struct qfile_writer *w, const char *address, const char *orcpt,
		      const char *original, unsigned notify)
{
	struct qfile_rcpt *r;

	if (w->nrcpt == w->rcpt_cap) {
		w->rcpt_cap = w->rcpt_cap ? 2 * w->rcpt_cap : 4;
		w->rcpt = xreallocarray(w->rcpt, w->rcpt_cap, sizeof(*w->rcpt));
	}
	r = &w->rcpt[w->nrcpt];
	memset(r, 0, sizeof(*r));
	r->address = xstrdup(address);
	r->orcpt = orcpt ? xstrdup(orcpt) : NULL;
	r->original = original ? xstrdup(original) : NULL;
	r->notify = notify;
	r->status = QFILE_RCPT_PENDING;
	return w->nrcpt++;
}

/* qfile_writer_nrcpt - recipients so far */
size_t qfile_writer_nrcpt(const struct qfile_writer *w)
{
	return w->nrcpt;
}

/* qfile_append - raw content bytes */
int qfile_append(struct qfile_writer *w, const char *data, size_t len)
{
	if (w->error)
		return -1;
	if (len == 0)
		return 0;
	buf_append(&w->out, data, len);
	w->content_len += (off_t)len;
	w->last_lf = data[len - 1] == '\n';
	if (w->out.len >= QFILE_FLUSH_AT)
		writer_flush(w);
	return w->error ? -1 : 0;
}

/* qfile_append_line - one line; the LF terminator is ours */
int qfile_append_line(struct qfile_writer *w, const char *line, size_t len)
{
	if (w->error)
		return -1;
	buf_append(&w->out, line, len);
	buf_putc(&w->out, '\n');
	w->content_len += (off_t)len + 1;
	w->last_lf = true;
	if (w->out.len >= QFILE_FLUSH_AT)
		writer_flush(w);
	return w->error ? -1 : 0;
}

/* qfile_writer_size - content bytes so far (for message_size_limit) */
off_t qfile_writer_size(const struct qfile_writer *w)
{
	return w->content_len;
}

/* qfile_writer_error - a failed write, as the reply to give */
const char *qfile_writer_error(const struct qfile_writer *w)
{
	return w->error ? qfile_errno_reply(w->error) : NULL;
}

/* put_envelope - the records after the content */
static void put_envelope(struct qfile_writer *w, struct buf *b)
{
	struct buf t = BUF_INIT;

	buf_printf(&t, "%lld.%06ld", (long long)w->arrival.tv_sec, (long)w->arrival.tv_usec);
	qfile_rec_put(b, QREC_TIME, t.data, t.len);
	qfile_rec_put(b, QREC_SENDER, w->sender, strlen(w->sender));
	for (size_t i = 0; i < w->attr_names.n; i++) {
		buf_reset(&t);
		buf_printf(&t, "%s=%s", w->attr_names.v[i], w->attr_values.v[i]);
		qfile_rec_put(b, QREC_ATTR, t.data, t.len);
	}
	qfile_rec_put(b, QREC_WARNED, "0", 1);
	for (size_t i = 0; i < w->nrcpt; i++) {
		const struct qfile_rcpt *r = &w->rcpt[i];
		char st = r->status;

		qfile_rec_put(b, QREC_RCPT, r->address, strlen(r->address));
		if (r->orcpt)
			qfile_rec_put(b, QREC_ORCPT, r->orcpt, strlen(r->orcpt));
		if (r->original)
			qfile_rec_put(b, QREC_ORIGINAL, r->original, strlen(r->original));
		buf_reset(&t);
		buf_printf(&t, "%u", r->notify);
		qfile_rec_put(b, QREC_NOTIFY, t.data, t.len);
		qfile_rec_put(b, QREC_STATUS, &st, 1);
	}
	qfile_rec_put(b, QREC_END, "", 0);
	buf_free(&t);
}

/* pwrite_all - write at an offset, whole or fail */
static int pwrite_all(int fd, const char *p, size_t n, off_t off)
{
	while (n > 0) {
		ssize_t k = pwrite(fd, p, n, off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
		off += k;
	}
	return 0;
}

/* qfile_writer_finish - complete the file (not yet durable nor visible) */
int qfile_writer_finish(struct qfile_writer *w)
{
	char head[128];
	off_t env;

	if (w->error)
		return -1;
	if (w->content_len >= 9999999999LL) {
		writer_fail(w, EFBIG, "content");
		return -1;
	}
	if (!w->last_lf) {
		buf_putc(&w->out, '\n');
		w->content_len++;
	}
	buf_putc(&w->out, '\n');	/* terminator of the C record */
	env = QFILE_DATA_START + w->content_len + 1;
	put_envelope(w, &w->out);
	writer_flush(w);
	if (w->error)
		return -1;
	snprintf(head, sizeof(head), "%c%010d:v1 env=%012lld len=%012lld\n%c%010lld:",
		 QREC_HEADER, QFILE_HDR_DATA, (long long)env, (long long)w->content_len,
		 QREC_CONTENT, (long long)w->content_len);
	if (strlen(head) != QFILE_DATA_START)
		log_panic("qfile: header is %zu bytes, not %d", strlen(head), QFILE_DATA_START);
	if (pwrite_all(w->fd, head, QFILE_DATA_START, 0) < 0) {
		writer_fail(w, errno, "pwrite");
		return -1;
	}
	if (fchmod(w->fd, w->mode | S_IXUSR) < 0) {	/* complete */
		writer_fail(w, errno, "fchmod");
		return -1;
	}
	return 0;
}

/* qfile_writer_done - durable: the file is no longer ours to remove */
void qfile_writer_done(struct qfile_writer *w)
{
	w->created = false;
}

/* qfile_writer_free - close, remove an unpublished file, release memory */
void qfile_writer_free(struct qfile_writer **wp)
{
	struct qfile_writer *w = *wp;

	if (w == NULL)
		return;
	if (w->created && w->dirfd >= 0)
		(void)unlinkat(w->dirfd, w->tmp_name, 0);
	if (w->fd >= 0)
		close(w->fd);
	if (w->dirfd >= 0)
		close(w->dirfd);
	for (size_t i = 0; i < w->nrcpt; i++) {
		xfree(&w->rcpt[i].address);
		xfree(&w->rcpt[i].orcpt);
		xfree(&w->rcpt[i].original);
	}
	xfree(&w->rcpt);
	strv_free(&w->attr_names);
	strv_free(&w->attr_values);
	buf_free(&w->out);
	xfree(&w->sender);
	xfree(&w->queue_dir);
	xfree(&w->subdir);
	xfree(&w->dir);
	xfree(&w->tmp_name);
	xfree(&w->tmp_path);
	xfree(wp);
}

/* qfile_commit - finish, then file and directory entry durable */
int qfile_commit(struct qfile_writer **wp, struct buf *err)
{
	struct qfile_writer *w = *wp;
	int rc = -1;

	if (qfile_writer_finish(w) == 0) {
		if (fsync(w->fd) < 0 || (w->dir_path_only ? syncfs(w->fd) : fsync(w->dirfd)) < 0)
			writer_fail(w, errno, "sync");
		else {
			qfile_writer_done(w);
			rc = 0;
		}
	}
	if (rc < 0)
		buf_puts(err, qfile_errno_reply(w->error));
	else
		(void)qfile_wakeup(w->queue_dir, "W");
	qfile_writer_free(wp);
	return rc;
}

/* qfile_abort - drop an unfinished message */
void qfile_abort(struct qfile_writer **wp)
{
	qfile_writer_free(wp);
}

/* qfile_notify - one command line to queue_dir/public/SERVICE, never blocking */
int qfile_notify(const char *queue_dir, const char *service, const char *cmd)
{
	struct buf path = BUF_INIT;
	struct buf line = BUF_INIT;
	int fd, rc = -1;

	int saved;

	buf_printf(&path, "%s/public/%s", queue_dir, service);
	fd = open(path.data, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		buf_printf(&line, "%s\n", cmd);
		/* a full FIFO already holds a wake-up: that is success too */
		if (write(fd, line.data, line.len) == (ssize_t)line.len || errno == EAGAIN)
			rc = 0;
		close(fd);
	}
	saved = errno;
	buf_free(&path);
	buf_free(&line);
	errno = saved;
	return rc;
}

/* qfile_wakeup - tell qmgr */
int qfile_wakeup(const char *queue_dir, const char *cmd)
{
	return qfile_notify(queue_dir, "qmgr", cmd);
}
