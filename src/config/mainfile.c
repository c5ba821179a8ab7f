/*
 * mainfile - main.cf syntax: comments, continuation lines, name = value.
 *
 * A line whose first non-blank character is '#' is a comment, blank lines
 * are skipped, and a line starting with whitespace continues the previous
 * logical line (comments may sit between). '#' after a value is part of
 * the value, as in Postfix. Later settings of a name win.
 *
 * Public: mainfile_parse, mainfile_read, mainfile_free, mainfile_valid_name.
 * Bad input: a logical line without '=' or with a bad name is an error
 * "FILE:LINE: …" appended to err (parsing goes on to report them all); a
 * continuation with nothing to continue is a warning.
 */
#include "config/mainfile.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/mem.h"

/* mainfile_valid_name - letters, digits, '_' (and '-', '.', as Postfix allows in names) */
int mainfile_valid_name(const char *name)
{
	if (*name == '\0')
		return 0;
	for (; *name; name++)
		if (!isalnum((unsigned char)*name) && *name != '_' && *name != '-' && *name != '.')
			return 0;
	return 1;
}

/* entries_push - append one setting */
static void entries_push(struct cf_entries *out, const char *name, const char *value,
			 const char *file, int line, int last)
{
	struct cf_entry *e;

	if (out->n == out->cap) {
		out->cap = out->cap ? out->cap * 2 : 32;
		out->v = xreallocarray(out->v, out->cap, sizeof(*out->v));
	}
	e = &out->v[out->n++];
	e->name = xstrdup(name);
	e->value = xstrdup(value);
	e->file = xstrdup(file);
	e->line = line;
	e->last_line = last;
}

/* logical_line - split one joined logical line into name and value */
static int logical_line(char *text, const char *file, int line, int last,
			struct cf_entries *out, struct buf *err)
{
	char *eq = strchr(text, '=');
	char *name, *value;

	if (eq == NULL) {
		buf_printf(err, "%s:%d: missing '=' after parameter name: \"%.60s\"\n", file, line,
			   text);
		return -1;
	}
	*eq = '\0';
	name = str_trim(text);
	value = str_trim(eq + 1);
	if (!mainfile_valid_name(name)) {
		buf_printf(err, "%s:%d: bad parameter name: \"%.60s\"\n", file, line, name);
		return -1;
	}
	entries_push(out, name, value, file, line, last);
	return 0;
}

/* mainfile_parse - parse len bytes of main.cf text; 0, or -1 with err lines */
int mainfile_parse(const char *text, size_t len, const char *file, struct cf_entries *out,
		   struct buf *err, struct strv *warnings)
{
	struct buf logical = BUF_INIT;
	const char *p = text, *end = text + len;
	int lineno = 0, start = 0, last = 0, rc = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = xstrndup(p, n);
		char *t = str_trim(line);

		lineno++;
		p = nl ? nl + 1 : end;
		if (*t == '\0' || *t == '#') {
			free(line);
			continue;
		}
		if (isspace((unsigned char)line[0])) {
			if (start == 0) {
				if (warnings) {
					struct buf w = BUF_INIT;

					buf_printf(&w, "%s:%d: logical line must not start with whitespace: \"%.60s\"",
						   file, lineno, line);
					strv_push_take(warnings, buf_steal(&w));
				}
			} else {
				buf_putc(&logical, ' ');
				buf_puts(&logical, t);
				last = lineno;
			}
			free(line);
			continue;
		}
		if (start && logical_line(logical.data, file, start, last, out, err) < 0)
			rc = -1;
		buf_set(&logical, t);
		start = last = lineno;
		free(line);
	}
	if (start && logical_line(logical.data, file, start, last, out, err) < 0)
		rc = -1;
	buf_free(&logical);
	return rc;
}

/* mainfile_read - read and parse a main.cf file */
int mainfile_read(const char *path, struct cf_entries *out, struct buf *err,
		  struct strv *warnings)
{
	FILE *fp = fopen(path, "r");
	struct buf text = BUF_INIT;
	char chunk[4096];
	size_t n;
	int rc;

	if (fp == NULL) {
		buf_printf(err, "%s: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&text, chunk, n);
	if (ferror(fp)) {
		buf_printf(err, "%s: read error: %s\n", path, strerror(errno));
		fclose(fp);
		buf_free(&text);
		return -1;
	}
	fclose(fp);
	rc = mainfile_parse(buf_cstr(&text), text.len, path, out, err, warnings);
	buf_free(&text);
	return rc;
}

/* mainfile_free - release entries */
void mainfile_free(struct cf_entries *ents)
{
	size_t i;

	for (i = 0; i < ents->n; i++) {
		free(ents->v[i].name);
		free(ents->v[i].value);
		free(ents->v[i].file);
	}
	free(ents->v);
	ents->v = NULL;
	ents->n = ents->cap = 0;
}
