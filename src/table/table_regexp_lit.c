/*
 * table_regexp_lit - required literal of an extended regular expression.
 *
 * Public (to table_regexp.c): regexp_required_literals, regexp_lit_present.
 *
 * Conservative by design: only the top-level sequence is examined (any
 * top-level '|' gives up), groups, bracket expressions, '.', anchors and
 * backslash-letter escapes end a run, a quantified atom is dropped (it may
 * occur zero times or repeat), and anything unusual (a quantifier with
 * nothing before it, a '{' that is not an interval, an unmatched
 * parenthesis, a non-ASCII byte; for PCRE also any backslash-letter or
 * backslash-digit escape, "(?" and "(*") gives up. Giving up costs only speed:
 * the caller then always runs regexec.
 */
#include "table/table_regexp_lit.h"

#include <ctype.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"

/*
 * skip_bracket - p at '['; the character after its closing ']', or NULL.
 * In PCRE a backslash escapes inside the class; in POSIX it is literal.
 */
static const char *skip_bracket(const char *p, bool pcre)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p && *p != ']'; p++) {
		if (pcre && *p == '\\') {
			if (*++p == '\0')
				return NULL;
			continue;
		}
		if (*p == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
			char kind = p[1];
			const char *end = p + 2;

			while (*end && !(end[0] == kind && end[1] == ']'))
				end++;
			if (*end == '\0')
				return NULL;
			p = end + 1;
		}
	}
	return *p == ']' ? p + 1 : NULL;
}

/* skip_group - p at '('; the character after its ')', or NULL */
static const char *skip_group(const char *p, bool pcre)
{
	int depth = 0;

	for (; *p; p++) {
		if (*p == '\\') {
			if (*++p == '\0' || (pcre && *p == 'Q'))	/* \Q: quoting to \E */
				return NULL;
		} else if (*p == '[') {
			if ((p = skip_bracket(p, pcre)) == NULL)
				return NULL;
			p--;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')' && --depth == 0) {
			return p + 1;
		}
	}
	return NULL;
}

/* interval_end - p at '{'; the character after a valid "{m}", "{m,}", "{m,n}", or NULL */
static const char *interval_end(const char *p, bool *may_be_zero)
{
	const char *q = p + 1;
	long m = 0;

	if (!isdigit((unsigned char)*q))
		return NULL;
	while (isdigit((unsigned char)*q))
		m = m * 10 + (*q++ - '0');
	if (*q == ',') {
		q++;
		while (isdigit((unsigned char)*q))
			q++;
	}
	if (*q != '}')
		return NULL;
	*may_be_zero = m == 0;
	return q + 1;
}

/* keep_run - remember a run worth checking (two characters or more) */
static void keep_run(struct strv *lits, const struct buf *run)
{
	if (run->len >= 2 && lits->n < REGEXP_MAX_LITERALS)
		strv_push(lits, buf_cstr(run));
}

/*
 * regexp_required_literals - fill lits with literals every match contains
 * (in pattern order) for a POSIX extended or (pcre) a PCRE pattern without
 * the x flag; false (lits empty) when there is none worth checking or the
 * pattern is beyond this simple analysis.
 */
bool regexp_required_literals(const char *pattern, bool pcre, struct strv *lits)
{
	struct buf run = BUF_INIT;
	const char *p = pattern;
	bool ok = true;

	strv_free(lits);
	while (ok && *p) {
		const char *next;
		int c = -1;	/* the literal character of this atom, if any */

		if ((unsigned char)*p >= 0x80 || *p == '|' || *p == ')') {
			ok = false;
			break;
		}
		switch (*p) {
		case '(':
			/* PCRE "(?" and "(*" may change how the rest matches */
			next = pcre && (p[1] == '?' || p[1] == '*') ? NULL : skip_group(p, pcre);
			break;
		case '[':
			next = skip_bracket(p, pcre);
			break;
		case '\\':
			if (pcre && (p[1] == '\0' || isalnum((unsigned char)p[1]))) {
				next = NULL;	/* \x41, \Q..\E, \p{..}: beyond this analysis */
			} else if (p[1] == '\0' || isalnum((unsigned char)p[1]) ||
				   strchr("<>`'|", p[1]) || (unsigned char)p[1] >= 0x80) {
				next = p[1] ? p + 2 : NULL;
			} else {
				c = p[1];
				next = p + 2;
			}
			break;
		case '*':
		case '+':
		case '?':
		case '{':
			next = NULL;	/* a quantifier with nothing to quantify */
			break;
		case '.':
		case '^':
		case '$':
			next = p + 1;
			break;
		default:
			c = *p;
			next = p + 1;
		}
		if (next == NULL) {
			ok = false;
			break;
		}
		p = next;
		/* quantifiers: the atom may be absent or repeated, so it ends the run */
		bool quantified = false;

		while (*p == '*' || *p == '+' || *p == '?' || *p == '{') {
			bool zero = false;

			if (*p == '{') {
				if ((next = interval_end(p, &zero)) == NULL) {
					ok = false;
					break;
				}
				p = next;
			} else {
				p++;
			}
			quantified = true;
		}
		if (!ok)
			break;
		if (c >= 0 && !quantified) {
			buf_putc(&run, (char)c);
		} else {
			keep_run(lits, &run);
			buf_reset(&run);
		}
	}
	if (ok)
		keep_run(lits, &run);
	else
		strv_free(lits);
	buf_free(&run);
	return lits->n > 0;
}

/* lit_fold - ASCII-only lower case (regcomp's REG_ICASE in the C locale) */
static inline unsigned char lit_fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* regexp_lit_present - does subject contain lit (ASCII case-insensitively if icase) */
bool regexp_lit_present(const char *subject, size_t len, const char *lit, size_t litlen,
			bool icase)
{
	if (litlen > len)
		return false;
	if (!icase)
		return memmem(subject, len, lit, litlen) != NULL;
	for (size_t i = 0; i + litlen <= len; i++) {
		size_t j = 0;

		while (j < litlen &&
		       lit_fold((unsigned char)subject[i + j]) == lit_fold((unsigned char)lit[j]))
			j++;
		if (j == litlen)
			return true;
	}
	return false;
}
