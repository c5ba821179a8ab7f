/*
 * qfile_read - queue file reader and in-place status updates (format:
 * qfile.h).
 *
 * Public: qfile_open, qfile_open_fd, qfile_parse, qfile_free, qfile_attr,
 * qfile_set_rcpt_status, qfile_set_warned, qfile_sync, qfile_read_content,
 * qfile_pending.
 *
 * Bad input: every record's length and terminator are checked, as are the
 * header's offsets against the file size and the order of records; any
 * mismatch makes the file corrupt (QFILE_ERR_CORRUPT with the reason and
 * the byte offset in err). The content itself is never parsed here.
 */
#include "mail/qfile.h"
#include "mail/qfile_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/mem.h"

struct rec {
	int type;
	const char *data;
	size_t len;
	off_t offset;		/* file offset of data */
};

/* rec_next - take one record from *p..end; -1 with a reason if torn */
static int rec_next(const char **p, const char *end, off_t base, const char *start,
		    struct rec *r, struct buf *err)
{
	const char *s = *p;
	size_t len = 0;

	if (end - s < QFILE_REC_OVERHEAD) {
		buf_printf(err, "truncated record at offset %lld",
			   (long long)(base + (s - start)));
		return -1;
	}
	for (int i = 1; i <= 10; i++) {
		if (s[i] < '0' || s[i] > '9') {
			buf_printf(err, "bad record length at offset %lld",
				   (long long)(base + (s - start)));
			return -1;
		}
		len = len * 10 + (size_t)(s[i] - '0');
	}
	if (s[11] != ':' || len > (size_t)(end - s) - QFILE_REC_OVERHEAD ||
	    s[12 + len] != '\n') {
		buf_printf(err, "bad record '%c' at offset %lld", s[0] > ' ' ? s[0] : '?',
			   (long long)(base + (s - start)));
		return -1;
	}
	r->type = (unsigned char)s[0];
	r->data = s + 12;
	r->len = len;
	r->offset = base + (s - start) + 12;
	*p = s + QFILE_REC_OVERHEAD + len;
	return 0;
}

/* fixed_digits - n decimal digits, nothing else */
static int fixed_digits(const char *p, int n, long long *out)
{
	*out = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		*out = *out * 10 + (p[i] - '0');
	}
	return 0;
}

/* parse_header - the H record and the C record's head (first 60 bytes) */
static int parse_header(struct qfile *q, const char *data, size_t len, struct buf *err)
{
	const char *p = data;
	struct rec r;
	long long env, clen, clen2;

	if (len < QFILE_DATA_START) {
		buf_puts(err, "file shorter than its header");
		return -1;
	}
	if (rec_next(&p, data + QFILE_HDR_SIZE, 0, data, &r, err) < 0)
		return -1;
	if (r.type != QREC_HEADER || r.len != QFILE_HDR_DATA || memcmp(r.data, "v1 env=", 7) ||
	    fixed_digits(r.data + 7, 12, &env) < 0 || memcmp(r.data + 19, " len=", 5) ||
	    fixed_digits(r.data + 24, 12, &clen) < 0) {
		buf_puts(err, "bad or unsupported header record");
		return -1;
	}
	if (env == 0) {
		buf_puts(err, "unfinished file (no envelope offset)");
		return -1;
	}
	if (data[QFILE_HDR_SIZE] != QREC_CONTENT ||
	    fixed_digits(data + QFILE_HDR_SIZE + 1, 10, &clen2) < 0 || clen2 != clen ||
	    data[QFILE_DATA_START - 1] != ':' || env != QFILE_DATA_START + clen + 1) {
		buf_puts(err, "header does not match the content record");
		return -1;
	}
	q->content_offset = QFILE_DATA_START;
	q->content_length = clen;
	return 0;
}

/* dup_data - a record's data as a C string; embedded NULs are refused */
static char *dup_data(const struct rec *r, struct buf *err)
{
	if (memchr(r->data, 0, r->len)) {
		buf_printf(err, "NUL byte in record '%c' at offset %lld", r->type,
			   (long long)r->offset);
		return NULL;
	}
	return xstrndup(r->data, r->len);
}

/* parse_time - "SECONDS.MICROS" */
static int parse_time(struct qfile *q, const struct rec *r, struct buf *err)
{
	char tmp[40];
	long long sec;
	long usec;
	char extra;

	if (r->len == 0 || r->len >= sizeof(tmp))
		goto bad;
	memcpy(tmp, r->data, r->len);
	tmp[r->len] = 0;
	if (sscanf(tmp, "%lld.%6ld%c", &sec, &usec, &extra) != 2 || sec < 0 || usec < 0)
		goto bad;
	q->arrival.tv_sec = (time_t)sec;
	q->arrival.tv_usec = usec;
	return 0;
bad:
	buf_printf(err, "bad arrival time at offset %lld", (long long)r->offset);
	return -1;
}

/* add_rcpt - start a recipient from an R record */
static struct qfile_rcpt *add_rcpt(struct qfile *q, size_t *cap)
{
	struct qfile_rcpt *rc;

	if (q->nrcpt == *cap) {
		*cap = *cap ? 2 * *cap : 8;
		q->rcpt = xreallocarray(q->rcpt, *cap, sizeof(*q->rcpt));
	}
	rc = &q->rcpt[q->nrcpt++];
	memset(rc, 0, sizeof(*rc));
	rc->status = 0;
	return rc;
}

/* parse_rcpt_part - O, G, N or D for the current recipient */
static int parse_rcpt_part(struct qfile_rcpt *rc, const struct rec *r, struct buf *err)
{
	char **slot = r->type == QREC_ORCPT ? &rc->orcpt : &rc->original;

	switch (r->type) {
	case QREC_ORCPT:
	case QREC_ORIGINAL:
		if (*slot || rc->status)
			break;
		return (*slot = dup_data(r, err)) ? 0 : -1;
	case QREC_NOTIFY:
		if (r->len == 0 || r->len > 2 || rc->status)
			break;
		rc->notify = 0;
		for (size_t i = 0; i < r->len; i++) {
			if (r->data[i] < '0' || r->data[i] > '9')
				goto bad;
			rc->notify = rc->notify * 10 + (unsigned)(r->data[i] - '0');
		}
		if (rc->notify > 15)
			break;
		return 0;
	case QREC_STATUS:
		if (r->len != 1 || rc->status ||
		    (r->data[0] != QFILE_RCPT_PENDING && r->data[0] != QFILE_RCPT_SENT &&
		     r->data[0] != QFILE_RCPT_BOUNCED))
			break;
		rc->status = r->data[0];
		rc->status_offset = r->offset;
		return 0;
	}
bad:
	buf_printf(err, "misplaced or bad record '%c' at offset %lld", r->type,
		   (long long)r->offset);
	return -1;
}

/* parse_attr - "name=value" */
static int parse_attr(struct qfile *q, const struct rec *r, struct buf *err)
{
	char *s = dup_data(r, err);
	char *eq;

	if (s == NULL)
		return -1;
	if ((eq = strchr(s, '=')) == NULL || eq == s) {
		buf_printf(err, "bad attribute at offset %lld", (long long)r->offset);
		free(s);
		return -1;
	}
	*eq = 0;
	strv_push(&q->attr_names, s);
	strv_push(&q->attr_values, eq + 1);
	free(s);
	return 0;
}

/* parse_one - dispatch one envelope record; *rc is the open recipient */
static int parse_one(struct qfile *q, const struct rec *r, struct qfile_rcpt **rc,
		     size_t *cap, int *seen, struct buf *err)
{
	switch (r->type) {
	case QREC_TIME:
		if (*seen & 1)
			break;
		*seen |= 1;
		return parse_time(q, r, err);
	case QREC_SENDER:
		if (*seen & 2 || *rc)
			break;
		*seen |= 2;
		return (q->sender = dup_data(r, err)) ? 0 : -1;
	case QREC_ATTR:
		if (*rc)
			break;
		return parse_attr(q, r, err);
	case QREC_WARNED:
		if (*seen & 4 || *rc || r->len != 1 || (r->data[0] != '0' && r->data[0] != '1'))
			break;
		*seen |= 4;
		q->warned = r->data[0] == '1';
		q->warned_offset = r->offset;
		return 0;
	case QREC_RCPT:
		if (*rc && (*rc)->status == 0)
			break;
		*rc = add_rcpt(q, cap);
		return ((*rc)->address = dup_data(r, err)) ? 0 : -1;
	case QREC_ORCPT:
	case QREC_ORIGINAL:
	case QREC_NOTIFY:
	case QREC_STATUS:
		if (*rc == NULL)
			break;
		return parse_rcpt_part(*rc, r, err);
	}
	buf_printf(err, "unexpected record '%c' at offset %lld", r->type > ' ' ? r->type : '?',
		   (long long)r->offset);
	return -1;
}

/* parse_envelope - records from T to E; E must end the file */
static int parse_envelope(struct qfile *q, const char *data, size_t len, off_t base,
			  struct buf *err)
{
	const char *p = data, *end = data + len;
	struct qfile_rcpt *rc = NULL;
	size_t cap = 0;
	int seen = 0;
	struct rec r;

	for (;;) {
		if (rec_next(&p, end, base, data, &r, err) < 0)
			return -1;
		if (r.type == QREC_END)
			break;
		if (parse_one(q, &r, &rc, &cap, &seen, err) < 0)
			return -1;
	}
	if (r.len != 0 || p != end) {
		buf_printf(err, "data after the end record at offset %lld", (long long)r.offset);
		return -1;
	}
	if (seen != 7 || (rc && rc->status == 0)) {
		buf_puts(err, "envelope incomplete (time, sender, warning flag or status missing)");
		return -1;
	}
	return 0;
}

/* qfile_parse - a whole file image, as qfile_open checks it */
int qfile_parse(struct qfile *q, const char *data, size_t len, struct buf *err)
{
	off_t env;

	if (parse_header(q, data, len, err) < 0)
		return -1;
	env = q->content_offset + q->content_length + 1;
	if ((off_t)len < env || data[env - 1] != '\n') {
		buf_puts(err, "content record truncated");
		return -1;
	}
	q->file_size = (off_t)len;
	return parse_envelope(q, data + env, len - (size_t)env, env, err);
}

/* pread_all - exactly n bytes or -1 */
static int pread_all(int fd, char *p, size_t n, off_t off)
{
	while (n > 0) {
		ssize_t k = pread(fd, p, n, off);

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

/* read_envelope - header, the byte after the content, then the envelope */
static int read_envelope(struct qfile *q, int *why, struct buf *err)
{
	char head[QFILE_DATA_START];
	char nl;
	off_t env;
	char *data;
	int rc;

	*why = QFILE_ERR_CORRUPT;
	if (q->file_size < QFILE_DATA_START) {
		buf_puts(err, "file shorter than its header");
		return -1;
	}
	if (pread_all(q->fd, head, sizeof(head), 0) < 0 ||
	    parse_header(q, head, sizeof(head), err) < 0)
		return -1;
	env = q->content_offset + q->content_length + 1;
	if (env > q->file_size || pread_all(q->fd, &nl, 1, env - 1) < 0 || nl != '\n') {
		buf_puts(err, "content record truncated");
		return -1;
	}
	if (q->file_size - env > 64L * 1024 * 1024) {
		buf_puts(err, "envelope too large");
		return -1;
	}
	data = xmalloc((size_t)(q->file_size - env) + 1);
	rc = pread_all(q->fd, data, (size_t)(q->file_size - env), env);
	if (rc < 0) {
		*why = QFILE_ERR_IO;
		buf_printf(err, "read: %s", strerror(errno));
	} else
		rc = parse_envelope(q, data, (size_t)(q->file_size - env), env, err);
	free(data);
	return rc;
}

/* qfile_open - open and check a queue file */
struct qfile *qfile_open(const char *path, bool writable, int *why, struct buf *err)
{
	int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		*why = QFILE_ERR_IO;
		buf_printf(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	return qfile_open_fd(fd, path, why, err);
}

/* qfile_open_fd - the same for a descriptor already open, which the result owns */
struct qfile *qfile_open_fd(int fd, const char *path, int *why, struct buf *err)
{
	struct qfile *q = xcalloc(1, sizeof(*q));
	const char *base = strrchr(path, '/');
	struct stat st;

	q->path = xstrdup(path);
	snprintf(q->id, sizeof(q->id), "%s", base ? base + 1 : path);
	q->fd = fd;
	if (fstat(q->fd, &st) < 0) {
		*why = QFILE_ERR_IO;
		buf_printf(err, "%s: %s", path, strerror(errno));
		qfile_free(&q);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = QFILE_ERR_CORRUPT;
		buf_printf(err, "%s: not a regular file", path);
		qfile_free(&q);
		return NULL;
	}
	q->file_size = st.st_size;
	if (read_envelope(q, why, err) < 0) {
		qfile_free(&q);
		return NULL;
	}
	return q;
}

/* qfile_free - close and release */
void qfile_free(struct qfile **qp)
{
	struct qfile *q = *qp;

	if (q == NULL)
		return;
	if (q->fd >= 0)
		close(q->fd);
	for (size_t i = 0; i < q->nrcpt; i++) {
		xfree(&q->rcpt[i].address);
		xfree(&q->rcpt[i].orcpt);
		xfree(&q->rcpt[i].original);
	}
	xfree(&q->rcpt);
	strv_free(&q->attr_names);
	strv_free(&q->attr_values);
	xfree(&q->sender);
	xfree(&q->path);
	xfree(qp);
}

/* qfile_attr - an attribute's value or NULL */
const char *qfile_attr(const struct qfile *q, const char *name)
{
	for (size_t i = 0; i < q->attr_names.n; i++)
		if (strcmp(q->attr_names.v[i], name) == 0)
			return q->attr_values.v[i];
	return NULL;
}

/* qfile_set_rcpt_status - one byte in place; durable after qfile_sync() */
int qfile_set_rcpt_status(struct qfile *q, size_t i, char status)
{
	if (i >= q->nrcpt)
		return -1;
	if (pwrite(q->fd, &status, 1, q->rcpt[i].status_offset) != 1)
		return -1;
	q->rcpt[i].status = status;
	return 0;
}

/* qfile_set_warned - the delay warning went out */
int qfile_set_warned(struct qfile *q)
{
	if (pwrite(q->fd, "1", 1, q->warned_offset) != 1)
		return -1;
	q->warned = true;
	return 0;
}

/* qfile_sync - make in-place updates durable */
int qfile_sync(struct qfile *q)
{
	return fdatasync(q->fd);
}

/* qfile_read_content - the message text, at most max bytes (0 = all) */
int qfile_read_content(const struct qfile *q, struct buf *out, size_t max)
{
	size_t n = (size_t)q->content_length;

	if (max && n > max)
		n = max;
	buf_reserve(out, n);
	if (pread_all(q->fd, out->data + out->len, n, q->content_offset) < 0)
		return -1;
	out->len += n;
	out->data[out->len] = 0;
	return 0;
}

/* qfile_pending - recipients still to be tried */
size_t qfile_pending(const struct qfile *q)
{
	size_t n = 0;

	for (size_t i = 0; i < q->nrcpt; i++)
		n += q->rcpt[i].status == QFILE_RCPT_PENDING;
	return n;
}
