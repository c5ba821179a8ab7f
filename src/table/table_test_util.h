/*
 * table_test_util - helpers shared by the table unit tests (test code
 * only): temporary files, one-shot lookups, captured warnings.
 */
#ifndef OUTPOST_TABLE_TABLE_TEST_UTIL_H
#define OUTPOST_TABLE_TABLE_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "table/table.h"

/* tt_write - write text to a fresh temporary file; caller unlinks and frees */
static inline char *tt_write(const char *text)
{
	char tmpl[] = "/tmp/outpost-table-test-XXXXXX";
	int fd = mkstemp(tmpl);
	size_t n = strlen(text);

	if (fd < 0 || write(fd, text, n) != (ssize_t)n)
		abort();
	close(fd);
	return xstrdup(tmpl);
}

/* tt_rewrite - replace a file's contents */
static inline void tt_rewrite(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL || fputs(text, fp) < 0 || fclose(fp) != 0)
		abort();
}

/* tt_spec - "type:path" */
static inline char *tt_spec(const char *type, const char *path)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s:%s", type, path);
	return buf_steal(&b);
}

/* captured warnings, joined by '\n' */
static struct buf tt_warnings;

static inline void tt_hook(enum log_level level, const char *text, void *ctx)
{
	(void)ctx;
	if (level == LOG_LEVEL_WARN) {
		buf_puts(&tt_warnings, text);
		buf_putc(&tt_warnings, '\n');
	}
}

/* tt_capture - start capturing warnings (and drop earlier ones) */
static inline void tt_capture(void)
{
	buf_reset(&tt_warnings);
	log_set_hook(tt_hook, NULL);
}

/* tt_query - open spec, look key up; "!ERR" / "!OPEN:reason" / "-" (not found) / value */
static inline char *tt_query(const char *spec, unsigned flags, const char *key)
{
	struct buf err = BUF_INIT, v = BUF_INIT, out = BUF_INIT;
	struct table *t = table_open(spec, flags, &err);

	if (t == NULL) {
		buf_printf(&out, "!OPEN:%s", buf_cstr(&err));
	} else {
		switch (table_lookup(t, key, &v)) {
		case TABLE_FOUND:
			buf_puts(&out, buf_cstr(&v));
			break;
		case TABLE_NOTFOUND:
			buf_puts(&out, "-");
			break;
		case TABLE_TEMPFAIL:
			buf_printf(&out, "!ERR:%s", table_error(t));
			break;
		}
		table_close(&t);
	}
	buf_free(&err);
	buf_free(&v);
	if (out.len == 0)
		buf_puts(&out, "");
	return buf_steal(&out);
}

/* tt_check - compare a result with an expectation; "!ERR"/"!OPEN" match prefixes */
static inline int tt_matches(const char *got, const char *want)
{
	if (strcmp(want, "!ERR") == 0 || strcmp(want, "!OPEN") == 0)
		return strncmp(got, want, strlen(want)) == 0;
	return strcmp(got, want) == 0;
}

/*
 * tt_parsed - a parser case's outcome: the description it built, or
 * "!" and the error; want is exact, or "!" and a substring of the error
 */
static inline void tt_parsed(const char *name, int rc, const struct buf *got,
			     const struct buf *err, const char *want)
{
	struct buf out = BUF_INIT;

	if (rc == 0)
		buf_puts(&out, buf_cstr(got));
	else
		buf_printf(&out, "!%s", buf_cstr(err));
	if (want[0] == '!' ? strstr(buf_cstr(&out), want + 1) == NULL
			   : strcmp(buf_cstr(&out), want) != 0)
		fail_msg("case '%s': got '%s' want '%s'", name, buf_cstr(&out), want);
	buf_free(&out);
}

#endif
