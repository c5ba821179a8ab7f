/*
 * table_source - read a table source file ("key value" lines) the way
 * postmap does, for texthash and the builders of indexed tables, and
 * aliases(5) files ("name: value") for outpost alias.
 *
 * Public: table_source_read, table_source_lines.
 *
 * Format: '#' lines (after optional whitespace) and blank lines are
 * skipped; a line that starts with whitespace continues the previous
 * logical line (the newline is dropped, the text kept); the key ends at
 * the first whitespace (aliases: at the first ':' outside double quotes),
 * the value is the rest without surrounding whitespace. No quoting
 * conventions otherwise.
 *
 * Bad input, as postmap reports it: a logical line that starts with
 * whitespace, a key without a value, a duplicate key ("FILE, line N:
 * duplicate entry") and a table line that looks like an alias are
 * warnings; opts->strict turns the malformed-line warnings into errors
 * (err = "FILE, line N: reason", return -1). Unreadable files are errors.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "table/table_impl.h"

struct source_state {
	const char *path;
	const struct table_source_opts *o;
	table_entry_fn fn;
	void *ctx;
	struct buf *err;
};

/* source_malformed - warn (postmap style) or fail in strict mode */
static int source_malformed(struct source_state *s, long lineno, const char *why)
{
	if (s->o->strict) {
		buf_printf(s->err, "%s, line %ld: %s", s->path, lineno, why);
		return -1;
	}
	log_warn("%s, line %ld: %s -- ignoring this line", s->path, lineno, why);
	return 0;
}

/* source_alias_key - split "name: value"; name may be "quoted"; NULL if none */
static char *source_alias_split(char *line, char **value)
{
	bool quoted = false;
	char *p;

	for (p = line; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '\\' && p[1])
			p++;
		else if (*p == ':' && !quoted)
			break;
	}
	if (*p != ':')
		return NULL;
	*p = '\0';
	*value = str_trim(p + 1);
	line = str_trim(line);
	if (line[0] == '"' && strlen(line) >= 2 && line[strlen(line) - 1] == '"') {
		line[strlen(line) - 1] = '\0';
		line++;
	}
	return line;
}

/* source_entry - one logical line: split, check, fold, hand over */
static int source_entry(struct source_state *s, char *line, long lineno)
{
	char *key, *value;
	int rc;

	if (s->o->alias_format) {
		key = source_alias_split(line, &value);
		if (key == NULL || *key == '\0' || *value == '\0')
			return source_malformed(s, lineno, "need name:value pair");
	} else {
		key = line;
		value = key + strcspn(key, STR_SPACE);
		if (*value)
			*value++ = '\0';
		value = str_trim(value);
		if (*value == '\0')
			return source_malformed(s, lineno, "expected format: key whitespace value");
		if (key[strlen(key) - 1] == ':')
			log_warn("%s, line %ld: record is in \"key: value\" format; is this an alias file?",
				 s->path, lineno);
	}
	if (s->o->fold)
		str_lower(key);
	rc = s->fn(key, value, s->ctx);
	if (rc == TABLE_ENTRY_DUP) {
		if (!s->o->quiet_dups && !s->o->replace_dups)
			log_warn("%s, line %ld: duplicate entry: \"%s\"", s->path, lineno, key);
		return 0;
	}
	if (rc < 0) {
		if (s->err->len == 0)
			buf_printf(s->err, "%s, line %ld: cannot store entry \"%s\"", s->path,
				   lineno, key);
		return -1;
	}
	return 0;
}

/* source_line - one logical line of a key/value source */
static int source_line(char *line, long lineno, void *ctx)
{
	return source_entry(ctx, line, lineno);
}

/* table_source_read - call fn for every entry of a source file */
int table_source_read(const char *path, const struct table_source_opts *o, table_entry_fn fn,
		      void *ctx, struct buf *err)
{
	struct source_state s = { path, o, fn, ctx, err };

	return table_source_lines(path, source_line, &s, err);
}

/* lines_flush - hand over the pending logical line, if any */
static int lines_flush(struct buf *logical, long lineno, table_line_fn fn, void *ctx)
{
	int rc = 0;

	if (logical->len > 0) {
		char *line = logical->data;
		size_t n = strlen(line);

		while (n > 0 && isspace((unsigned char)line[n - 1]))
			line[--n] = '\0';
		if (n > 0)
			rc = fn(line, lineno, ctx);
	}
	buf_reset(logical);
	return rc;
}

/*
 * table_source_lines - call fn for every logical line (comments, blank
 * lines and continuations handled; trailing whitespace removed), with the
 * number of its first physical line. fn returns -1 to stop (it fills err).
 */
int table_source_lines(const char *path, table_line_fn fn, void *ctx, struct buf *err)
{
	struct buf logical = BUF_INIT;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0, start = 0;
	int rc = 0;
	FILE *fp;

	buf_reset(err);
	if ((fp = fopen(path, "r")) == NULL) {
		buf_printf(err, "open %s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && (n = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		if ((size_t)n != strlen(line)) {
			buf_printf(err, "%s, line %ld: NUL character in line", path, lineno);
			rc = -1;
			break;
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		const char *first = line + strspn(line, STR_SPACE);

		if (*first == '\0' || *first == '#')
			continue;
		if (first != line) {
			if (logical.len == 0)
				log_warn("%s: logical line must not start with whitespace: \"%s\"",
					 path, line);
			else
				buf_puts(&logical, line);
			continue;
		}
		rc = lines_flush(&logical, start, fn, ctx);
		start = lineno;
		buf_puts(&logical, line);
	}
	if (rc == 0 && ferror(fp)) {
		buf_printf(err, "read %s: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc == 0)
		rc = lines_flush(&logical, start, fn, ctx);
	fclose(fp);
	free(line);
	buf_free(&logical);
	return rc;
}
