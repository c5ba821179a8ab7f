/*
 * table_regexp - "regexp:/path": POSIX extended regular expressions
 * (regcomp), in the file format of table_pattern.c.
 *
 * Flags, each toggling a default: i (case-insensitive by default), x
 * (extended syntax by default; x gives basic syntax), m (newline-sensitive
 * matching, off by default).
 *
 * glibc's regexec is slow, so each pattern gets a pre-check when possible
 * (table_regexp_lit.c): literals that every match contains; keys without
 * one of them skip regexec. Only in the C locale, where REG_ICASE is ASCII-only.
 *
 * Public: table_regexp_ops (via table_registry.c).
 * Bad input: see table_pattern.c; regcomp's message is the reason.
 */
#include <locale.h>
#include <regex.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "table/table_pattern.h"
#include "table/table_regexp_lit.h"

struct regexp_rule {
	regex_t re;
	struct strv lits;	/* required literals (none: always run regexec) */
	size_t litlen[REGEXP_MAX_LITERALS];
	bool icase;
};

/* regexp_c_locale - is character handling plain ASCII? */
static bool regexp_c_locale(void)
{
	const char *l = setlocale(LC_CTYPE, NULL);

	return l == NULL || strcmp(l, "C") == 0 || strcmp(l, "POSIX") == 0;
}

/* regexp_compile - flags i, x, m toggle ICASE, EXTENDED, NEWLINE */
static void *regexp_compile(const char *pattern, const char *flags, const char *where,
			    struct buf *err)
{
	int cflags = REG_EXTENDED | REG_ICASE, rc;
	struct regexp_rule *r;

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
	r = xcalloc(1, sizeof(*r));
	if ((rc = regcomp(&r->re, pattern, cflags)) != 0) {
		char msg[256];

		regerror(rc, &r->re, msg, sizeof(msg));
		buf_puts(err, msg);
		free(r);
		return NULL;
	}
	if ((cflags & REG_EXTENDED) && regexp_c_locale() &&
	    regexp_required_literals(pattern, false, &r->lits)) {
		for (size_t i = 0; i < r->lits.n; i++)
			r->litlen[i] = strlen(r->lits.v[i]);
		r->icase = cflags & REG_ICASE;
	}
	return r;
}

/* regexp_groups - parenthesized subexpressions */
static size_t regexp_groups(const void *re)
{
	return ((const struct regexp_rule *)re)->re.re_nsub;
}

/* regexp_match - regexec, offsets copied into ovec */
static int regexp_match(void *re, const char *subject, size_t len, long *ovec, size_t novec,
			struct buf *err)
{
	struct regexp_rule *r = re;
	size_t n = r->re.re_nsub + 1 < novec ? r->re.re_nsub + 1 : novec;
	regmatch_t m[n];

	(void)err;
	for (size_t i = 0; i < r->lits.n; i++)
		if (!regexp_lit_present(subject, len, r->lits.v[i], r->litlen[i], r->icase))
			return 0;
	if (regexec(&r->re, subject, n, m, 0) != 0)
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
	struct regexp_rule *r = re;

	regfree(&r->re);
	strv_free(&r->lits);
	free(r);
}

/* regexp_literal - the i-th required literal, for the table's index */
static const char *regexp_literal(const void *re, size_t i, size_t *len)
{
	const struct regexp_rule *r = re;

	if (i >= r->lits.n)
		return NULL;
	*len = r->litlen[i];
	return r->lits.v[i];
}

static const struct pattern_engine regexp_engine = {
	.what = "regexp",
	.compile = regexp_compile,
	.groups = regexp_groups,
	.match = regexp_match,
	.free = regexp_free,
	.literal = regexp_literal,
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
