/*
 * master_cf - master.cf syntax: one service per logical line.
 *
 * Columns: service type private unpriv chroot wakeup maxproc command
 * [args…]. "-" takes the default; wakeup may end in "?"; "-o name=value"
 * and "-o { name = value with spaces }" override main.cf for that service.
 * Continuation lines and comments work as in main.cf.
 *
 * Public: master_cf_parse, master_cf_read, master_cf_free,
 * master_service_copy, master_service_release.
 * Bad input: too few columns, an unknown service type, a flag that is not
 * y/n/-, a bad wakeup or process limit, a "-o" without name=value, or
 * unbalanced braces: one "FILE:LINE: …" line each in err, parsing goes on.
 */
#include "config/master_cf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/mainfile.h"
#include "lib/mem.h"

static const char *const master_types[] = { "inet", "unix", "unix-dgram", "fifo", "pass", NULL };

/* flag_value - y/n/- into 1/0/def */
static int flag_value(const char *s, int def, int *out)
{
	if (strcmp(s, "-") == 0)
		*out = def;
	else if (strcmp(s, "y") == 0)
		*out = 1;
	else if (strcmp(s, "n") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* svc_fail - one error line */
static int svc_fail(struct buf *err, const char *file, int line, const char *fmt, const char *arg)
{
	buf_printf(err, "%s:%d: ", file, line);
	buf_printf(err, fmt, arg);
	buf_putc(err, '\n');
	return -1;
}

/* parse_override - "name=value" or "{ name = value }" into name and value */
static int parse_override(char *tok, struct master_service *svc, const char *file, int line,
			  struct buf *err)
{
	const char *uerr;
	char *text = str_unbrace(tok, &uerr), *eq, *name, *value;
	struct buf word = BUF_INIT;

	if (text == NULL)
		return svc_fail(err, file, line, "-o %s", uerr);
	if ((eq = strchr(text, '=')) == NULL)
		return svc_fail(err, file, line, "-o \"%s\": expected name=value", text);
	*eq = '\0';
	name = str_trim(text);
	value = str_trim(eq + 1);
	if (!mainfile_valid_name(name))
		return svc_fail(err, file, line, "-o: bad parameter name \"%s\"", name);
	strv_push(&svc->opt_names, name);
	strv_push(&svc->opt_values, value);
	strv_push(&svc->words, "-o");
	if (strpbrk(value, STR_SPACE) != NULL)
		buf_printf(&word, "{%s=%s}", name, value);
	else
		buf_printf(&word, "%s=%s", name, value);
	strv_push_take(&svc->words, buf_steal(&word));
	return 0;
}

/* parse_columns - the seven fixed columns */
static int parse_columns(struct master_service *svc, char **col, const char *file, int line,
			 struct buf *err)
{
	const char *const *t;
	int rc = 0;
	char *end;

	for (t = master_types; *t; t++)
		if (strcmp(*t, col[1]) == 0)
			break;
	if (*t == NULL)
		rc = svc_fail(err, file, line, "unknown service type \"%s\" (expected inet, unix, unix-dgram, fifo or pass)",
			      col[1]);
	if (flag_value(col[2], 1, &svc->private_) < 0)
		rc = svc_fail(err, file, line, "private: expected y, n or -, not \"%s\"", col[2]);
	if (flag_value(col[3], 1, &svc->unpriv) < 0)
		rc = svc_fail(err, file, line, "unpriv: expected y, n or -, not \"%s\"", col[3]);
	if (flag_value(col[4], 0, &svc->chroot) < 0)
		rc = svc_fail(err, file, line, "chroot: expected y, n or -, not \"%s\"", col[4]);
	svc->wakeup = 0;
	if (strcmp(col[5], "-") != 0) {
		errno = 0;
		svc->wakeup = strtol(col[5], &end, 10);
		if (*end == '?') {
			svc->wakeup_if_used = true;
			end++;
		}
		if (errno || end == col[5] || *end || svc->wakeup < 0 || !isdigit((unsigned char)col[5][0]))
			rc = svc_fail(err, file, line, "wakeup: expected seconds, seconds? or -, not \"%s\"",
				      col[5]);
	}
	svc->maxproc = -1;
	if (strcmp(col[6], "-") != 0 && (str_parse_long(col[6], &svc->maxproc) < 0 || svc->maxproc < 0))
		rc = svc_fail(err, file, line, "maxproc: expected a number or -, not \"%s\"", col[6]);
	return rc;
}

/* logical_service - one logical line into a service */
static int logical_service(char *text, const char *file, int line, struct master_services *out,
			   struct buf *err)
{
	struct master_service svc;
	char *cursor = text, *tok, *col[8];
	const char *terr = NULL;
	int i, rc;

	memset(&svc, 0, sizeof(svc));
	for (i = 0; i < 8 && (tok = str_token_braced(&cursor, STR_SPACE, &terr)) != NULL; i++)
		col[i] = tok;
	if (terr)
		return svc_fail(err, file, line, "%s", terr);
	if (i < 8)
		return svc_fail(err, file, line, "expected at least 8 columns (service type private unpriv chroot wakeup maxproc command), got: \"%.60s\"",
				text);
	rc = parse_columns(&svc, col, file, line, err);
	svc.name = xstrdup(col[0]);
	svc.type = xstrdup(col[1]);
	for (i = 0; i < 7; i++)
		svc.fields[i] = xstrdup(col[i]);
	svc.command = xstrdup(col[7]);
	strv_push(&svc.words, col[7]);
	while ((tok = str_token_braced(&cursor, STR_SPACE, &terr)) != NULL) {
		if (strcmp(tok, "-o") == 0 || (str_has_prefix(tok, "-o") && tok[2] != '\0')) {
			char *pair = tok[2] ? tok + 2 : str_token_braced(&cursor, STR_SPACE, &terr);

			if (pair == NULL) {
				rc = svc_fail(err, file, line, "%s", terr ? terr : "-o without name=value");
				break;
			}
			if (parse_override(pair, &svc, file, line, err) < 0)
				rc = -1;
			continue;
		}
		strv_push(&svc.args, tok);
		strv_push(&svc.words, tok);
	}
	if (terr)
		rc = svc_fail(err, file, line, "%s", terr);
	svc.file = xstrdup(file);
	svc.line = line;
	if (rc < 0) {
		master_service_release(&svc);
		return -1;
	}
	if (out->n == out->cap) {
		out->cap = out->cap ? out->cap * 2 : 16;
		out->v = xreallocarray(out->v, out->cap, sizeof(*out->v));
	}
	out->v[out->n++] = svc;
	return 0;
}

/* master_cf_parse - parse len bytes of master.cf; -1 with err lines */
int master_cf_parse(const char *text, size_t len, const char *file,
		    struct master_services *out, struct buf *err)
{
	struct buf logical = BUF_INIT;
	const char *p = text, *end = text + len;
	int lineno = 0, start = 0, rc = 0;
	size_t i;

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
		if (isspace((unsigned char)line[0]) && start) {
			buf_putc(&logical, ' ');
			buf_puts(&logical, t);
			free(line);
			continue;
		}
		if (start && logical_service(logical.data, file, start, out, err) < 0)
			rc = -1;
		buf_set(&logical, t);
		start = lineno;
		free(line);
	}
	if (start && logical_service(logical.data, file, start, out, err) < 0)
		rc = -1;
	buf_free(&logical);
	for (i = 0; i + 1 < out->n; i++) {
		size_t j;

		for (j = i + 1; j < out->n; j++)
			if (strcmp(out->v[i].name, out->v[j].name) == 0 &&
			    strcmp(out->v[i].type, out->v[j].type) == 0) {
				buf_printf(err, "%s:%d: duplicate service %s/%s (first defined at line %d)\n",
					   file, out->v[j].line, out->v[j].name, out->v[j].type,
					   out->v[i].line);
				rc = -1;
			}
	}
	return rc;
}

/* master_cf_read - read and parse a master.cf file */
int master_cf_read(const char *path, struct master_services *out, struct buf *err)
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
	fclose(fp);
	rc = master_cf_parse(buf_cstr(&text), text.len, path, out, err);
	buf_free(&text);
	return rc;
}

/* strv_copy - append every string of src to dst */
static void strv_copy(struct strv *dst, const struct strv *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		strv_push(dst, src->v[i]);
}

/* master_service_copy - deep copy */
void master_service_copy(struct master_service *dst, const struct master_service *src)
{
	int i;

	*dst = *src;
	dst->name = xstrdup(src->name);
	dst->type = xstrdup(src->type);
	dst->command = xstrdup(src->command);
	dst->file = xstrdup(src->file);
	for (i = 0; i < 7; i++)
		dst->fields[i] = xstrdup(src->fields[i]);
	memset(&dst->args, 0, sizeof(dst->args));
	memset(&dst->opt_names, 0, sizeof(dst->opt_names));
	memset(&dst->opt_values, 0, sizeof(dst->opt_values));
	memset(&dst->words, 0, sizeof(dst->words));
	strv_copy(&dst->args, &src->args);
	strv_copy(&dst->opt_names, &src->opt_names);
	strv_copy(&dst->opt_values, &src->opt_values);
	strv_copy(&dst->words, &src->words);
}

/* master_service_release - free the members of one service */
void master_service_release(struct master_service *svc)
{
	int i;

	free(svc->name);
	free(svc->type);
	free(svc->command);
	free(svc->file);
	for (i = 0; i < 7; i++)
		free(svc->fields[i]);
	strv_free(&svc->args);
	strv_free(&svc->opt_names);
	strv_free(&svc->opt_values);
	strv_free(&svc->words);
	memset(svc, 0, sizeof(*svc));
}

/* master_cf_free - release every service */
void master_cf_free(struct master_services *svcs)
{
	size_t i;

	for (i = 0; i < svcs->n; i++)
		master_service_release(&svcs->v[i]);
	free(svcs->v);
	svcs->v = NULL;
	svcs->n = svcs->cap = 0;
}

/* config_master_format - postconf -M layout: columns, then command words */
void config_master_format(const struct master_service *svc, bool fold, struct buf *out)
{
	static const size_t column[] = { 0, 11, 17, 25, 33, 41, 49, 57 };
	size_t start = out->len, line_start = out->len, i;

	for (i = 0; i < 8; i++) {
		const char *word = i < 7 ? svc->fields[i] : svc->words.v[0];
		size_t col = out->len - start;

		if (i > 0) {
			if (col < column[i])
				while (out->len - start < column[i])
					buf_putc(out, ' ');
			else
				buf_putc(out, ' ');
		}
		buf_puts(out, word);
	}
	for (i = 1; i < svc->words.n; i++) {
		const char *w = svc->words.v[i];

		if (fold && strcmp(w, "-o") == 0 && i + 1 < svc->words.n) {
			buf_puts(out, "\n    -o ");
			line_start = out->len - 7;
			buf_puts(out, svc->words.v[++i]);
			continue;
		}
		if (fold && out->len - line_start + 1 + strlen(w) >= 80) {
			buf_puts(out, "\n    ");
			line_start = out->len - 4;
			buf_puts(out, w);
			continue;
		}
		buf_putc(out, ' ');
		buf_puts(out, w);
	}
}

/* config_master_parse_entry - one service from text (for -Me) */
struct master_service *config_master_parse_entry(const char *text, struct buf *err)
{
	struct master_services svcs = { NULL, 0, 0 };
	struct master_service *svc;

	if (master_cf_parse(text, strlen(text), "-Me", &svcs, err) < 0 || svcs.n != 1) {
		if (svcs.n != 1 && err->len == 0)
			buf_printf(err, "-Me: expected exactly one service entry\n");
		master_cf_free(&svcs);
		return NULL;
	}
	svc = xmalloc(sizeof(*svc));
	*svc = svcs.v[0];
	free(svcs.v);
	return svc;
}

/* config_master_entry_free - release a parsed entry */
void config_master_entry_free(struct master_service **svcp)
{
	if (*svcp == NULL)
		return;
	master_service_release(*svcp);
	xfree(svcp);
}
