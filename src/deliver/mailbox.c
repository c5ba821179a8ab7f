/*
 * mailbox - Maildir and mbox writers for the local and virtual agents
 * (rules in mailbox.h).
 *
 * Public: mailbox_maildir_name, mailbox_from_line, mailbox_quote_from,
 * mailbox_lock_styles, mailbox_maildir_deliver, mailbox_mbox_deliver.
 * Bad input: an unknown lock style is an error for the caller to report;
 * delivery trouble becomes an outcome with an enhanced status code.
 */
#include "deliver/mailbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/str.h"

/* mailbox_maildir_name - unique Maildir file name; '/' and ':' in host escaped */
void mailbox_maildir_name(struct buf *out, const struct timeval *tv, pid_t pid,
			  unsigned long long rnd, const char *host)
{
	buf_reset(out);
	buf_printf(out, "%lld.M%ldP%ldR%llx.", (long long)tv->tv_sec,
		   (long)tv->tv_usec, (long)pid, rnd);
	for (const char *h = host; *h; h++) {
		if (*h == '/')
			buf_puts(out, "\\057");
		else if (*h == ':')
			buf_puts(out, "\\072");
		else
			buf_putc(out, *h);
	}
}

/* mailbox_from_line - "From sender  Sun Nov 22 02:24:36 2026\n", as Postfix writes it */
void mailbox_from_line(struct buf *out, const char *sender, time_t arrival)
{
	struct tm tm;
	char date[64];

	localtime_r(&arrival, &tm);
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
	buf_printf(out, "From %s  %s\n", *sender ? sender : "MAILER-DAEMON", date);
}

/* mailbox_quote_from - copy text, turning lines that start with "From " into ">From " */
void mailbox_quote_from(const char *text, size_t len, struct buf *out)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) + 1 : (size_t)(end - p);

		if (n >= 5 && memcmp(p, "From ", 5) == 0)
			buf_putc(out, '>');
		buf_append(out, p, n);
		p += n;
	}
}

/* mailbox_lock_styles - parse "fcntl, dotlock" (mailbox_delivery_lock) */
unsigned mailbox_lock_styles(const char *list, struct buf *err)
{
	struct strv v = STRV_INIT;
	unsigned styles = 0;
	const char *e = NULL;

	if (str_split(list, STR_SEP_LIST, &v, &e) < 0) {
		buf_printf(err, "bad lock style list \"%s\": %s", list, e ? e : "syntax");
		strv_free(&v);
		return 0;
	}
	for (size_t i = 0; i < v.n; i++) {
		if (strcmp(v.v[i], "fcntl") == 0)
			styles |= MAILBOX_LOCK_FCNTL;
		else if (strcmp(v.v[i], "flock") == 0)
			styles |= MAILBOX_LOCK_FLOCK;
		else if (strcmp(v.v[i], "dotlock") == 0)
			styles |= MAILBOX_LOCK_DOTLOCK;
		else {
			buf_printf(err, "unknown lock style \"%s\"", v.v[i]);
			styles = 0;
			break;
		}
	}
	strv_free(&v);
	return styles;
}

/* io_outcome - the enhanced status code Postfix gives a local write error */
static void io_outcome(struct deliver_outcome *o, int err, const char *what,
		       const char *path)
{
	if (err == EDQUOT || err == EFBIG)
		deliver_outcome_set(o, "5.2.2", "cannot %s %s: mailbox full (%s)", what,
				    path, strerror(err));
	else if (err == ENOSPC)
		deliver_outcome_set(o, "4.3.1", "cannot %s %s: %s", what, path,
				    strerror(err));
	else
		deliver_outcome_set(o, "4.3.0", "cannot %s %s: %s", what, path,
				    strerror(err));
}

/* write_all - write a whole buffer */
static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* make_dirs - mkdir -p with mode 0700 for what we create */
static int make_dirs(const char *path)
{
	struct buf b = BUF_INIT;
	int ret = 0;

	buf_set(&b, path);
	for (char *p = b.data + 1; ; p++) {
		if (*p == '/' || *p == 0) {
			char c = *p;
			*p = 0;
			if (mkdir(b.data, 0700) < 0 && errno != EEXIST) {
				ret = -1;
				break;
			}
			*p = c;
			if (c == 0)
				break;
		}
	}
	buf_free(&b);
	return ret;
}

/* fsync_dir - make a directory entry durable */
static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY), ret;

	if (fd < 0)
		return -1;
	ret = fsync(fd);
	close(fd);
	return ret;
}

/* maildir_write - tmp file, fsync, link into new/, fsync new/ */
static void maildir_write(const char *dir, const struct buf *headers,
			  const struct buf *content, struct deliver_outcome *o)
{
	struct buf name = BUF_INIT, tmp = BUF_INIT, new = BUF_INIT, sub = BUF_INIT;
	struct timeval tv;
	unsigned long long rnd = 0;
	char host[256];
	int fd = -1, err;

	gettimeofday(&tv, NULL);
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd ^= (unsigned long long)tv.tv_usec * 2654435761u;
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = 0;
	mailbox_maildir_name(&name, &tv, getpid(), rnd, host);
	buf_printf(&tmp, "%s/tmp/%s", dir, buf_cstr(&name));
	buf_printf(&new, "%s/new/%s", dir, buf_cstr(&name));
	for (const char *s = "tmp\0new\0cur\0"; *s; s += 4) {
		buf_reset(&sub);
		buf_printf(&sub, "%s/%s", dir, s);
		if (make_dirs(buf_cstr(&sub)) < 0) {
			io_outcome(o, errno, "create maildir directory", buf_cstr(&sub));
			goto done;
		}
	}
	if ((fd = open(buf_cstr(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		       0600)) < 0) {
		io_outcome(o, errno, "create maildir file", buf_cstr(&tmp));
		goto done;
	}
	if (write_all(fd, headers->data ? headers->data : "", headers->len) < 0
	    || write_all(fd, content->data ? content->data : "", content->len) < 0
	    || fsync(fd) < 0) {
		err = errno;
		close(fd);
		unlink(buf_cstr(&tmp));
		io_outcome(o, err, "write maildir file", buf_cstr(&tmp));
		goto done;
	}
	if (close(fd) < 0 || link(buf_cstr(&tmp), buf_cstr(&new)) < 0) {
		err = errno;
		unlink(buf_cstr(&tmp));
		io_outcome(o, err, "link maildir file", buf_cstr(&new));
		goto done;
	}
	unlink(buf_cstr(&tmp));
	buf_reset(&sub);
	buf_printf(&sub, "%s/new", dir);
	if (fsync_dir(buf_cstr(&sub)) < 0) {
		io_outcome(o, errno, "sync maildir directory", buf_cstr(&sub));
		goto done;
	}
	deliver_outcome_set(o, "2.0.0", "delivered to maildir");
done:
	buf_free(&name);
	buf_free(&tmp);
	buf_free(&new);
	buf_free(&sub);
}

/* mailbox_maildir_deliver - one message into a Maildir */
void mailbox_maildir_deliver(const char *dir, const struct buf *headers,
			     const struct buf *content, long size_limit,
			     struct deliver_outcome *o)
{
	if (size_limit > 0 && headers->len + content->len > (size_t)size_limit) {
		deliver_outcome_set(o, "5.2.2",
				    "cannot write maildir file in %s: message of %zu bytes exceeds the size limit of %ld",
				    dir, headers->len + content->len, size_limit);
		return;
	}
	maildir_write(dir, headers, content, o);
}

/* dotlock_take - create path.lock, removing a stale one; 0, or -1 with errno */
static int dotlock_take(const char *lock, long stale)
{
	struct stat st;
	int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == EEXIST && stat(lock, &st) == 0 && time(NULL) - st.st_mtime > stale)
		unlink(lock);	/* next attempt takes it */
	errno = EAGAIN;
	return -1;
}

/* mbox_lock - every configured lock, retried while busy; 0 or -1 with outcome */
static int mbox_lock(int fd, const char *path, const struct mbox_opts *opts,
		     struct buf *dotlock, struct deliver_outcome *o)
{
	int attempts = opts->lock_attempts > 0 ? opts->lock_attempts : 1;
	const char *what = "";

	for (int i = 0; i < attempts; i++) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		bool have_dot = false, have_fcntl = false;

		if (i > 0)
			sleep((unsigned)(opts->lock_delay > 0 ? opts->lock_delay : 1));
		if (opts->locks & MAILBOX_LOCK_DOTLOCK) {
			buf_reset(dotlock);
			buf_printf(dotlock, "%s.lock", path);
			if (dotlock_take(buf_cstr(dotlock), opts->stale_lock_time) < 0) {
				what = "dotlock";
				if (errno == EAGAIN)
					continue;
				break;
			}
			have_dot = true;
		}
		if ((opts->locks & MAILBOX_LOCK_FCNTL) && fcntl(fd, F_SETLK, &fl) < 0) {
			what = "fcntl lock";
			goto busy;
		}
		have_fcntl = (opts->locks & MAILBOX_LOCK_FCNTL) != 0;
		if ((opts->locks & MAILBOX_LOCK_FLOCK) && flock(fd, LOCK_EX | LOCK_NB) < 0) {
			what = "flock lock";
			goto busy;
		}
		return 0;
busy:
		if (have_fcntl) {
			fl.l_type = F_UNLCK;
			fcntl(fd, F_SETLK, &fl);
		}
		if (have_dot)
			unlink(buf_cstr(dotlock));
	}
	buf_reset(dotlock);
	deliver_outcome_set(o, "4.2.0", "cannot lock mailbox %s: %s held by another process",
			    path, what);
	return -1;
}

/* mbox_append - locked append with From_ line, quoting and a final blank line */
static void mbox_append(int fd, const char *path, const struct mbox_opts *opts,
			const struct buf *headers, const struct buf *content,
			struct deliver_outcome *o)
{
	struct buf text = BUF_INIT;
	struct stat st;
	int err;

	if (fstat(fd, &st) < 0) {
		io_outcome(o, errno, "stat mailbox", path);
		return;
	}
	mailbox_from_line(&text, opts->sender, opts->arrival);
	buf_append(&text, headers->data ? headers->data : "", headers->len);
	mailbox_quote_from(buf_cstr(content), content->len, &text);
	if (text.len > 0 && text.data[text.len - 1] != '\n')
		buf_putc(&text, '\n');
	buf_putc(&text, '\n');
	if (opts->size_limit > 0 && (long long)st.st_size + (long long)text.len > opts->size_limit) {
		deliver_outcome_set(o, "5.2.2",
				    "cannot update mailbox %s: mailbox full (size limit %ld bytes)",
				    path, opts->size_limit);
		goto done;
	}
	if (lseek(fd, 0, SEEK_END) < 0 || write_all(fd, text.data, text.len) < 0
	    || fsync(fd) < 0) {
		err = errno;
		if (ftruncate(fd, st.st_size) < 0) {
			/* nothing better to do: the original error is what matters */
		}
		io_outcome(o, err, "update mailbox", path);
		goto done;
	}
	deliver_outcome_set(o, "2.0.0", "delivered to mailbox");
done:
	buf_free(&text);
}

/* mailbox_mbox_deliver - one message appended to an mbox file */
void mailbox_mbox_deliver(const char *path, const struct mbox_opts *opts,
			  const struct buf *headers, const struct buf *content,
			  struct deliver_outcome *o)
{
	struct buf dotlock = BUF_INIT;
	struct stat st;
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		struct buf parent = BUF_INIT;
		const char *slash = strrchr(path, '/');
		if (slash && slash > path) {
			buf_append(&parent, path, (size_t)(slash - path));
			if (access(buf_cstr(&parent), F_OK) < 0)
				make_dirs(buf_cstr(&parent));	/* open() below reports failure */
		}
		buf_free(&parent);
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
		if (fd >= 0 && opts->chown_new && fchown(fd, opts->owner_uid, opts->owner_gid) < 0) {
			io_outcome(o, errno, "set owner of mailbox", path);
			close(fd);
			unlink(path);
			return;
		}
	}
	if (fd < 0) {
		io_outcome(o, errno, "open mailbox", path);
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		deliver_outcome_set(o, "5.2.0",
				    "cannot update mailbox %s: not a regular file with one link",
				    path);
		close(fd);
		return;
	}
	if (mbox_lock(fd, path, opts, &dotlock, o) == 0) {
		mbox_append(fd, path, opts, headers, content, o);
		if (dotlock.len)
			unlink(buf_cstr(&dotlock));
	}
	close(fd);	/* drops fcntl and flock locks */
	buf_free(&dotlock);
}
