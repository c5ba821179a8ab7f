/*
 * table_index - helpers shared by the indexed table types (lmdb, cdb).
 *
 * Public (table/ only): table_index_path, table_index_warn_older, table_index_tempfile,
 * table_index_commit, table_index_lock, table_index_fold,
 * table_index_set_nul, table_index_nul.
 *
 * An index is never modified where readers can see it: writers fill a
 * temporary file beside it and rename it into place, so a reader holds
 * either the old or the new file, whole. Bad input: failures fill err with
 * "path: reason" and return -1.
 */
#include "table/table_index.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

static enum table_nul index_nul = TABLE_NUL_DEFAULT;

/* table_index_set_nul - writer convention chosen by -N / -n */
void table_index_set_nul(enum table_nul mode)
{
	index_nul = mode;
}

/* table_index_nul - the writer convention in force */
enum table_nul table_index_nul(void)
{
	return index_nul;
}

/* table_index_path - "name" + "suffix" */
void table_index_path(struct buf *out, const char *name, const char *suffix)
{
	buf_set(out, name);
	buf_puts(out, suffix);
}

/* table_index_warn_older - the source was edited but not rebuilt */
void table_index_warn_older(const char *index_path, const char *source_path)
{
	struct stat ib, sb;

	if (stat(index_path, &ib) != 0 || stat(source_path, &sb) != 0)
		return;
	if (sb.st_mtime > ib.st_mtime)
		log_warn("database %s is older than source file %s", index_path, source_path);
}

/* table_index_tempfile - create an empty private file beside path */
int table_index_tempfile(const char *path, struct buf *tmp, struct buf *err)
{
	int fd;

	buf_set(tmp, path);
	buf_puts(tmp, ".tmpXXXXXX");
	if ((fd = mkstemp(tmp->data)) < 0) {
		buf_printf(err, "create temporary file %s: %s", buf_cstr(tmp), strerror(errno));
		return -1;
	}
	return fd;
}

/* table_index_commit - flush tmp to disk and rename it over path */
int table_index_commit(const char *tmp, const char *path, struct buf *err)
{
	int fd = open(tmp, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) != 0) {
		buf_printf(err, "sync %s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		buf_printf(err, "rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/*
 * table_index_lock - serialise writers of one table (never readers): an
 * exclusive flock on the source file NAME, held until the returned fd is
 * closed. No source file (a table made only with -i) means no lock: -2.
 */
int table_index_lock(const char *source, struct buf *err)
{
	int fd = open(source, O_RDONLY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		return -2;
	if (fd < 0) {
		buf_printf(err, "open %s: %s", source, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX) != 0) {
		buf_printf(err, "lock %s: %s", source, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* table_index_fold - copy key into out, lower-cased when fold is set */
void table_index_fold(struct buf *out, const char *key, bool fold)
{
	size_t n = strlen(key);

	buf_reset(out);
	buf_append(out, key, n);
	if (fold) {
		for (size_t i = 0; i < n; i++)
			out->data[i] = (char)tolower((unsigned char)out->data[i]);
	}
}
