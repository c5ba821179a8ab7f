/*
 * edit - change main.cf and master.cf in place, as `postconf -e/-#/-X`
 * and `postconf -Me/-M#/-MX` do.
 *
 * The file is read as physical lines grouped into logical lines (a line
 * starting with whitespace continues the one before; comments and blank
 * lines stand alone and are kept). A setting that exists is replaced where
 * it is (the first occurrence; later duplicates are dropped), commented
 * out, or removed; a new setting is appended. The result is written to a
 * temporary file beside the original, flushed, and renamed over it, so a
 * reader sees the old file or the new one, never half of each.
 *
 * Public: config_edit_main, config_edit_master.
 * Bad input: an unreadable or unwritable file is an error in err.
 */
#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/mem.h"

struct lline {
	struct buf text;	/* physical lines, each with its newline */
	char *key;		/* "name" or "service/type"; NULL: comment/blank */
};

struct lfile {
	struct lline *v;
	size_t n;
	size_t cap;
};

/* lfile_add - a new logical line */
static struct lline *lfile_add(struct lfile *f)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->v = xreallocarray(f->v, f->cap, sizeof(*f->v));
	}
	memset(&f->v[f->n], 0, sizeof(f->v[0]));
	return &f->v[f->n++];
}

/* lfile_free - release every line */
static void lfile_free(struct lfile *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		buf_free(&f->v[i].text);
		free(f->v[i].key);
	}
	free(f->v);
}

/* key_of - the identity of a logical line's first physical line */
static char *key_of(const char *line, int master)
{
	char *copy = xstrdup(line), *cursor = copy, *a, *b, *key = NULL;
	struct buf k = BUF_INIT;

	if (master) {
		a = str_token(&cursor, STR_SPACE);
		b = a ? str_token(&cursor, STR_SPACE) : NULL;
		if (b) {
			buf_printf(&k, "%s/%s", a, b);
			key = buf_steal(&k);
		}
	} else if ((a = strchr(copy, '=')) != NULL) {
		*a = '\0';
		key = xstrdup(str_trim(copy));
	}
	free(copy);
	return key;
}

/* lfile_read - group a file into logical lines; a missing file is empty */
static int lfile_read(const char *path, int master, struct lfile *f, struct buf *err)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct lline *cur = NULL;

	if (fp == NULL) {
		if (errno == ENOENT)
			return 0;
		buf_printf(err, "%s: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, fp)) > 0) {
		const char *t = line + strspn(line, " \t\r\n");
		int blank = *t == '\0' || *t == '#';

		if (*t == '#' && cur && cur->key) {
			/* a comment inside a logical line stays part of it */
			buf_append(&cur->text, line, (size_t)n);
		} else if (!blank && (line[0] == ' ' || line[0] == '\t') && cur && cur->key) {
			buf_append(&cur->text, line, (size_t)n);
		} else if (blank) {
			cur = lfile_add(f);
			buf_append(&cur->text, line, (size_t)n);
			cur = NULL;
		} else {
			cur = lfile_add(f);
			buf_append(&cur->text, line, (size_t)n);
			cur->key = key_of(line, master);
		}
		if (line[n - 1] != '\n')
			buf_putc(&f->v[f->n - 1].text, '\n');
	}
	free(line);
	fclose(fp);
	return 0;
}

/* lfile_write - write atomically: temp file, fsync, rename */
static int lfile_write(const char *path, const struct lfile *f, struct buf *err)
{
	struct buf tmp = BUF_INIT;
	struct stat st;
	mode_t mode = 0644;
	size_t i;
	FILE *fp;
	int fd;

	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(buf_cstr(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || (fp = fdopen(fd, "w")) == NULL) {
		buf_printf(err, "%s: cannot create: %s\n", buf_cstr(&tmp), strerror(errno));
		if (fd >= 0)
			close(fd);
		buf_free(&tmp);
		return -1;
	}
	for (i = 0; i < f->n; i++)
		fwrite(f->v[i].text.data, 1, f->v[i].text.len, fp);
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0 || fclose(fp) != 0 ||
	    rename(buf_cstr(&tmp), path) != 0) {
		buf_printf(err, "%s: cannot write: %s\n", path, strerror(errno));
		unlink(buf_cstr(&tmp));
		buf_free(&tmp);
		return -1;
	}
	buf_free(&tmp);
	return 0;
}

/* comment_out - "#" before every physical line */
static void comment_out(struct lline *l)
{
	struct buf out = BUF_INIT;
	const char *p = buf_cstr(&l->text);

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);

		if (p[strspn(p, " \t")] != '#')
			buf_putc(&out, '#');
		buf_append(&out, p, n);
		p += n;
	}
	buf_free(&l->text);
	l->text = out;
	free(l->key);
	l->key = NULL;
}

/* keep_comments - only the comment lines embedded in a logical line */
static void keep_comments(struct lline *l, const char *replacement)
{
	struct buf out = BUF_INIT;
	const char *p = buf_cstr(&l->text);

	buf_puts(&out, replacement);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);

		if (p[strspn(p, " \t")] == '#')
			buf_append(&out, p, n);
		p += n;
	}
	buf_free(&l->text);
	l->text = out;
}

/* apply - one edit to the grouped file; text is the replacement */
static void apply(struct lfile *f, const char *key, const char *text, enum config_edit_op op)
{
	size_t i;
	int found = 0;

	for (i = 0; i < f->n; i++) {
		struct lline *l = &f->v[i];

		if (l->key == NULL || strcmp(l->key, key) != 0)
			continue;
		if (op == CONFIG_EDIT_COMMENT) {
			comment_out(l);
			continue;
		}
		if (op == CONFIG_EDIT_SET && !found) {
			keep_comments(l, text);
			found = 1;
			continue;
		}
		/* remove, or a later duplicate of a replaced setting */
		keep_comments(l, "");
		free(l->key);
		l->key = NULL;
	}
	if (op == CONFIG_EDIT_SET && !found) {
		struct lline *l = lfile_add(f);

		buf_set(&l->text, text);
		l->key = xstrdup(key);
	}
}

/* config_edit_main - set, comment out or remove main.cf settings */
int config_edit_main(const char *path, const struct strv *names, const struct strv *values,
		     enum config_edit_op op, struct buf *err)
{
	struct lfile f = { NULL, 0, 0 };
	struct buf text = BUF_INIT;
	size_t i;
	int rc;

	if (lfile_read(path, 0, &f, err) < 0) {
		lfile_free(&f);
		return -1;
	}
	for (i = 0; i < names->n; i++) {
		buf_reset(&text);
		if (op == CONFIG_EDIT_SET)
			buf_printf(&text, "%s = %s\n", names->v[i], values->v[i]);
		apply(&f, names->v[i], buf_cstr(&text), op);
	}
	buf_free(&text);
	rc = lfile_write(path, &f, err);
	lfile_free(&f);
	return rc;
}

/* config_edit_master - set (entries: full text), comment out or remove services */
int config_edit_master(const char *path, const struct strv *keys, const struct strv *entries,
		       enum config_edit_op op, struct buf *err)
{
	struct lfile f = { NULL, 0, 0 };
	size_t i;
	int rc;

	if (lfile_read(path, 1, &f, err) < 0) {
		lfile_free(&f);
		return -1;
	}
	for (i = 0; i < keys->n; i++)
		apply(&f, keys->v[i], op == CONFIG_EDIT_SET ? entries->v[i] : "", op);
	rc = lfile_write(path, &f, err);
	lfile_free(&f);
	return rc;
}
