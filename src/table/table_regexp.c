/*
 * table_regexp - "regexp:/path": POSIX extended regular expressions
 * (regcomp), in the file format of table_pattern.c.
 *
 * Flags, each toggling a default: i (case-insensitive by default), x
 * (extended syntax by default; x gives basic syntax), m (newline-sensitive
 * matching, off by default).
 *
 * Public: table_regexp_ops (via table_registry.c).
 * Bad input: see table_pattern.c; regcomp's message is the reason.
 */
#include <regex.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mem.h"
#include "table/table_pattern.h"

/* regexp_compile - flags i, x, m toggle ICASE, EXTENDED, NEWLINE */
static void *regexp_compile(const char *pattern, const char *flags, const char *where,
			    struct buf *err)
{
	int cflags = REG_EXTENDED | REG_ICASE, rc;
	regex_t *re;

	(void)where;
	for (const char *f = flags; *f; f++) {
		switch (*f) {
		case 'i':
			cflags ^= REG_ICASE;
			break;
		case 'x':
			cflags ^= REG_EXTENDED;
			break;
		case 'm':
			cflags ^= REG_NEWLINE;
			break;
		default:
			buf_printf(err, "unknown regexp option \"%c\"", *f);
			return NULL;
		}
	}
	re = xmalloc(sizeof(*re));
	if ((rc = regcomp(re, pattern, cflags)) != 0) {
		char msg[256];

		regerror(rc, re, msg, sizeof(msg));
		buf_puts(err, msg);
		free(re);
		return NULL;
	}
	return re;
}

/* regexp_groups - parenthesized subexpressions */
static size_t regexp_groups(const void *re)
{
	return ((const regex_t *)re)->re_nsub;
}

/* regexp_match - regexec, offsets copied into ovec */
static int regexp_match(void *re, const char *subject, size_t len, long *ovec, size_t novec,
			struct buf *err)
{
	regex_t *r = re;
	size_t n = r->re_nsub + 1 < novec ? r->re_nsub + 1 : novec;
	regmatch_t m[n];

	(void)len;
	(void)err;
	if (regexec(r, subject, n, m, 0) != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		ovec[2 * i] = m[i].rm_so;
		ovec[2 * i + 1] = m[i].rm_eo;
	}
	return 1;
}

/* regexp_free - release a compiled pattern */
static void regexp_free(void *re)
{
	regfree(re);
	free(re);
}

static const struct pattern_engine regexp_engine = {
	.what = "regexp",
	.compile = regexp_compile,
	.groups = regexp_groups,
	.match = regexp_match,
	.free = regexp_free,
};

/* regexp_open - read and compile the file */
static int regexp_open(struct table *t, const char *name, struct buf *err)
{
	(void)name;
	return pattern_open(t, &regexp_engine, err);
}

const struct table_ops table_regexp_ops = {
	.type = "regexp",
	.props = TABLE_P_PATTERN,
	.open = regexp_open,
	.lookup = pattern_lookup,
	.close = pattern_close,
	.stale = pattern_stale,
};
