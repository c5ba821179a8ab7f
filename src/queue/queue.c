/*
 * queue - queue store: state directories, moves, scans and per-message
 * delivery logs (see queue.h for the layout).
 *
 * Public: queue_state_name, queue_state_parse, queue_init_dirs, queue_path,
 * queue_find, queue_move, queue_scan, queue_remove, queue_to_corrupt,
 * queue_log_append, queue_log_read, queue_log_free, queue_log_last,
 * queue_log_unlink, queue_purge_incomplete.
 * Bad input: IDs that are not queue IDs are never turned into paths
 * (ENOENT); log lines that do not parse are skipped with a warning.
 */
#include "queue/queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "mail/qfile.h"

static const char *const state_names[QUEUE_NSTATES] = {
	"maildrop", "incoming", "active", "deferred", "hold", "corrupt",
};

/* queue_state_name - directory name of a state */
const char *queue_state_name(enum queue_state st)
{
	return st < QUEUE_NSTATES ? state_names[st] : "?";
}

/* queue_state_parse - state by name, -1 if unknown */
int queue_state_parse(const char *name)
{
	for (int i = 0; i < QUEUE_NSTATES; i++)
		if (strcmp(state_names[i], name) == 0)
			return i;
	return -1;
}

struct dir_mode {
	const char *name;
	mode_t mode;
};

static const struct dir_mode dir_modes[] = {
	{ "maildrop", 01733 },	/* anyone may drop, nobody may list */
	{ "incoming", 0700 }, { "active", 0700 }, { "deferred", 0700 },
	{ "hold", 0700 }, { "corrupt", 0700 }, { "defer", 0700 },
	{ "bounce", 0700 }, { "public", 0755 }, { "pid", 0755 },
};

/* queue_init_dirs - create what is missing; existing modes are kept */
int queue_init_dirs(const char *qdir, struct buf *err)
{
	struct buf path = BUF_INIT;
	int rc = 0;

	if (mkdir(qdir, 0755) < 0 && errno != EEXIST) {
		buf_printf(err, "%s: %s", qdir, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(dir_modes) / sizeof(dir_modes[0]) && rc == 0; i++) {
		buf_reset(&path);
		buf_printf(&path, "%s/%s", qdir, dir_modes[i].name);
		if (mkdir(path.data, dir_modes[i].mode) == 0)
			(void)chmod(path.data, dir_modes[i].mode);	/* past the umask */
		else if (errno != EEXIST) {
			buf_printf(err, "%s: %s", path.data, strerror(errno));
			rc = -1;
		}
	}
	buf_free(&path);
	return rc;
}

/* queue_path - QDIR/STATE/ID */
void queue_path(struct buf *out, const char *qdir, enum queue_state st, const char *id)
{
	buf_reset(out);
	buf_printf(out, "%s/%s/%s", qdir, queue_state_name(st), id);
}

/* queue_find - which state holds this ID */
int queue_find(const char *qdir, const char *id, enum queue_state *st)
{
	struct buf path = BUF_INIT;
	int rc = -1;

	errno = ENOENT;
	if (!qfile_valid_id(id))
		return -1;
	for (int i = 0; i < QUEUE_NSTATES && rc < 0; i++) {
		struct stat sb;

		queue_path(&path, qdir, (enum queue_state)i, id);
		if (stat(path.data, &sb) == 0) {
			*st = (enum queue_state)i;
			rc = 0;
		}
	}
	buf_free(&path);
	if (rc < 0)
		errno = ENOENT;
	return rc;
}

/* queue_move - rename between states (not fsynced: qmgr recovers states) */
int queue_move(const char *qdir, const char *id, enum queue_state from, enum queue_state to)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	int rc;

	queue_path(&a, qdir, from, id);
	queue_path(&b, qdir, to, id);
	rc = rename(a.data, b.data);
	buf_free(&a);
	buf_free(&b);
	return rc;
}

/* cmp_str - qsort helper */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* queue_scan - valid IDs in a state, oldest first (IDs sort by age) */
int queue_scan(const char *qdir, enum queue_state st, struct strv *ids)
{
	struct buf path = BUF_INIT;
	struct dirent *e;
	DIR *d;

	buf_printf(&path, "%s/%s", qdir, queue_state_name(st));
	d = opendir(path.data);
	buf_free(&path);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		struct stat sb;

		if (!qfile_valid_id(e->d_name))
			continue;
		/* new mail is visible once complete (qfile.h) */
		if ((st == QUEUE_INCOMING || st == QUEUE_MAILDROP) &&
		    (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		     !(sb.st_mode & QFILE_COMPLETE_BIT)))
			continue;
		strv_push(ids, e->d_name);
	}
	closedir(d);
	if (ids->n > 1)
		qsort(ids->v, ids->n, sizeof(char *), cmp_str);
	return 0;
}

/* queue_purge_incomplete - files a crashed writer left unfinished in a
 * state that receives new mail, older than max_age seconds */
void queue_purge_incomplete(const char *qdir, enum queue_state st, long max_age)
{
	struct buf path = BUF_INIT;
	struct dirent *e;
	time_t now = time(NULL);
	DIR *d;

	buf_printf(&path, "%s/%s", qdir, queue_state_name(st));
	d = opendir(path.data);
	buf_free(&path);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		struct stat sb;
		bool tmp = strncmp(e->d_name, "tmp.", 4) == 0;

		if ((!tmp && !qfile_valid_id(e->d_name)) ||
		    fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(sb.st_mode) || (!tmp && (sb.st_mode & QFILE_COMPLETE_BIT)) ||
		    now - sb.st_mtime < max_age)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			log_warn("%s: removed an unfinished queue file from %s (left by a crash)",
				 e->d_name, queue_state_name(st));
	}
	closedir(d);
}

/* queue_log_unlink - drop both logs of a message */
void queue_log_unlink(const char *qdir, const char *id)
{
	struct buf path = BUF_INIT;

	buf_printf(&path, "%s/%s/%s", qdir, QUEUE_LOG_DEFER, id);
	(void)unlink(path.data);
	buf_reset(&path);
	buf_printf(&path, "%s/%s/%s", qdir, QUEUE_LOG_BOUNCE, id);
	(void)unlink(path.data);
	buf_free(&path);
}

/* queue_remove - the message and its logs */
int queue_remove(const char *qdir, const char *id, enum queue_state st)
{
	struct buf path = BUF_INIT;
	int rc;

	queue_path(&path, qdir, st, id);
	rc = unlink(path.data);
	buf_free(&path);
	if (rc == 0)
		queue_log_unlink(qdir, id);
	return rc;
}

/* queue_to_corrupt - set a bad file aside, loudly */
void queue_to_corrupt(const char *qdir, enum queue_state st, const char *id, const char *reason)
{
	if (queue_move(qdir, id, st, QUEUE_CORRUPT) == 0)
		log_warn("%s: corrupt queue file in %s, moved to corrupt/: %s", id,
			 queue_state_name(st), reason);
	else
		log_warn("%s: corrupt queue file in %s (%s), and moving it failed: %m", id,
			 queue_state_name(st), reason);
}

/* clean_field - one log field: no line breaks, tabs or (for relay) spaces */
static void clean_field(struct buf *b, const char *s, bool spaces_ok)
{
	if (s == NULL || *s == 0) {
		buf_putc(b, '-');
		return;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		buf_putc(b, c < ' ' || c == 0x7f || (!spaces_ok && c == ' ') ? '_' : c);
	}
}

/* queue_log_append - one line; sync makes it durable before the caller acts */
int queue_log_append(const char *qdir, const char *kind, const char *id, size_t index,
		     char status, const char *dsn, time_t when, const char *relay,
		     const char *reply, bool sync)
{
	struct buf path = BUF_INIT, line = BUF_INIT;
	int fd, rc = -1;

	buf_printf(&path, "%s/%s/%s", qdir, kind, id);
	buf_printf(&line, "%zu %c ", index, status);
	clean_field(&line, dsn, false);
	buf_printf(&line, " %lld ", (long long)when);
	clean_field(&line, relay, false);
	buf_putc(&line, ' ');
	clean_field(&line, reply, true);
	buf_putc(&line, '\n');
	fd = open(path.data, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (write(fd, line.data, line.len) == (ssize_t)line.len &&
		    (!sync || fdatasync(fd) == 0))
			rc = 0;
		close(fd);
	}
	if (rc < 0)
		log_warn("%s: append to %s: %m", id, path.data);
	buf_free(&path);
	buf_free(&line);
	return rc;
}

/* parse_log_line - "INDEX STATUS DSN WHEN RELAY REPLY..." */
static int parse_log_line(char *line, struct queue_log_entry *e)
{
	char *cur = line, *f[5];
	long v;

	for (int i = 0; i < 5; i++)
		if ((f[i] = str_token(&cur, " ")) == NULL)
			return -1;
	if (str_parse_long(f[0], &v) < 0 || v < 0 || strlen(f[1]) != 1 ||
	    strlen(f[2]) >= sizeof(e->dsn))
		return -1;
	e->index = (size_t)v;
	e->status = f[1][0];
	snprintf(e->dsn, sizeof(e->dsn), "%s", strcmp(f[2], "-") ? f[2] : "");
	if (str_parse_long(f[3], &v) < 0)
		return -1;
	e->when = (time_t)v;
	e->relay = xstrdup(f[4]);
	e->reply = xstrdup(cur ? cur : "");
	return 0;
}

/* queue_log_read - every entry, in order (missing log = empty) */
int queue_log_read(const char *qdir, const char *kind, const char *id, struct queue_log *out)
{
	struct buf path = BUF_INIT;
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t n;
	FILE *fp;

	out->v = NULL;
	out->n = 0;
	buf_printf(&path, "%s/%s/%s", qdir, kind, id);
	fp = fopen(path.data, "re");
	buf_free(&path);
	if (fp == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((n = getline(&line, &cap, fp)) > 0) {
		struct queue_log_entry e = { 0 };

		if (line[n - 1] == '\n')
			line[n - 1] = 0;
		if (parse_log_line(line, &e) < 0) {
			log_warn("%s: skipping bad %s log line", id, kind);
			continue;
		}
		if (out->n == alloc) {
			alloc = alloc ? 2 * alloc : 8;
			out->v = xreallocarray(out->v, alloc, sizeof(*out->v));
		}
		out->v[out->n++] = e;
	}
	free(line);
	fclose(fp);
	return 0;
}

/* queue_log_free - release entries */
void queue_log_free(struct queue_log *log)
{
	for (size_t i = 0; i < log->n; i++) {
		xfree(&log->v[i].relay);
		xfree(&log->v[i].reply);
	}
	xfree(&log->v);
	log->n = 0;
}

/* queue_log_last - the latest entry for a recipient, or NULL */
const struct queue_log_entry *queue_log_last(const struct queue_log *log, size_t index)
{
	for (size_t i = log->n; i > 0; i--)
		if (log->v[i - 1].index == index)
			return &log->v[i - 1];
	return NULL;
}
