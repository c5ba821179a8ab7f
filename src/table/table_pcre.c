/*
 * table_pcre - "pcre:/path": Perl-compatible regular expressions (PCRE2,
 * JIT-compiled when the platform allows), in the file format of
 * table_pattern.c.
 *
 * Flags as pcre_table(5): i toggles case-insensitivity (on by default),
 * m multi-line, s dot matches newline, x extended, A anchored, E dollar
 * matches only at the end, U ungreedy; X is obsolete (warned, ignored).
 * Like regexp:, a pattern gets a literal pre-check when it has one
 * (table_regexp_lit.c), which saves most matcher calls in big tables.
 *
 * Public: table_pcre_ops (via table_registry.c).
 * Bad input: see table_pattern.c; "error in regex at offset N: reason". A
 * match-time failure (e.g. the match limit) is a TABLE_TEMPFAIL.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "table/table_pattern.h"
#include "table/table_regexp_lit.h"

struct pcre_rule {
	pcre2_code *code;
	pcre2_match_data *md;
	bool jit;		/* JIT-compiled: use the fast path without option checks */
	struct strv lits;	/* literals every match contains (table_regexp_lit.c) */
	size_t litlen[REGEXP_MAX_LITERALS];
	bool icase;
};

/* pcre_compile_rule - flags map onto PCRE2 options */
static void *pcre_compile_rule(const char *pattern, const char *flags, const char *where,
			       struct buf *err)
{
	uint32_t opts = PCRE2_CASELESS;
	struct pcre_rule *r;
	PCRE2_SIZE off;
	int ec;

	for (const char *f = flags; *f; f++) {
		switch (*f) {
		case 'i':
			opts ^= PCRE2_CASELESS;
			break;
		case 'm':
			opts ^= PCRE2_MULTILINE;
			break;
		case 's':
			opts ^= PCRE2_DOTALL;
			break;
		case 'x':
			opts ^= PCRE2_EXTENDED;
			break;
		case 'A':
			opts ^= PCRE2_ANCHORED;
			break;
		case 'E':
			opts ^= PCRE2_DOLLAR_ENDONLY;
			break;
		case 'U':
			opts ^= PCRE2_UNGREEDY;
			break;
		case 'X':
			log_warn("%s: ignoring obsolete regexp option \"X\"", where);
			break;
		default:
			buf_printf(err, "unknown regexp option \"%c\"", *f);
			return NULL;
		}
	}
	r = xcalloc(1, sizeof(*r));
	r->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &ec, &off, NULL);
	if (r->code == NULL) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		buf_printf(err, "error in regex at offset %zu: %s", (size_t)off, (char *)msg);
		free(r);
		return NULL;
	}
	r->jit = pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE) == 0;	/* else interpreted */
	if (!(opts & PCRE2_EXTENDED) && regexp_required_literals(pattern, true, &r->lits)) {
		for (size_t i = 0; i < r->lits.n; i++)
			r->litlen[i] = strlen(r->lits.v[i]);
		r->icase = opts & PCRE2_CASELESS;
	}
	r->md = pcre2_match_data_create_from_pattern(r->code, NULL);
	return r;
}

/* pcre_groups - capture groups of the pattern */
static size_t pcre_groups(const void *re)
{
	const struct pcre_rule *r = re;
	uint32_t n = 0;

	pcre2_pattern_info(r->code, PCRE2_INFO_CAPTURECOUNT, &n);
	return n;
}

/* pcre_match - one match; unset groups get -1 */
static int pcre_match(void *re, const char *subject, size_t len, long *ovec, size_t novec,
		      struct buf *err)
{
	struct pcre_rule *r = re;
	PCRE2_SIZE *ov;
	uint32_t n;
	int rc;

	for (size_t i = 0; i < r->lits.n; i++)
		if (!regexp_lit_present(subject, len, r->lits.v[i], r->litlen[i], r->icase))
			return 0;
	rc = r->jit ? pcre2_jit_match(r->code, (PCRE2_SPTR)subject, len, 0, 0, r->md, NULL)
		    : pcre2_match(r->code, (PCRE2_SPTR)subject, len, 0, 0, r->md, NULL);

	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(rc, msg, sizeof(msg));
		buf_printf(err, "matching error: %s", (char *)msg);
		return -1;
	}
	ov = pcre2_get_ovector_pointer(r->md);
	n = pcre2_get_ovector_count(r->md);
	for (size_t i = 0; i < novec && i < n; i++) {
		if (ov[2 * i] != PCRE2_UNSET) {
			ovec[2 * i] = (long)ov[2 * i];
			ovec[2 * i + 1] = (long)ov[2 * i + 1];
		} else {
			ovec[2 * i] = ovec[2 * i + 1] = -1;
		}
	}
	return 1;
}

/* pcre_free_rule - release code and match data */
static void pcre_free_rule(void *re)
{
	struct pcre_rule *r = re;

	pcre2_match_data_free(r->md);
	pcre2_code_free(r->code);
	strv_free(&r->lits);
	free(r);
}

/* pcre_literal - the i-th required literal, for the table's index */
static const char *pcre_literal(const void *re, size_t i, size_t *len)
{
	const struct pcre_rule *r = re;

	if (i >= r->lits.n)
		return NULL;
	*len = r->litlen[i];
	return r->lits.v[i];
}

static const struct pattern_engine pcre_engine = {
	.what = "pcre",
	.compile = pcre_compile_rule,
	.groups = pcre_groups,
	.match = pcre_match,
	.free = pcre_free_rule,
	.literal = pcre_literal,
};

/* pcre_open - read and compile the file */
static int pcre_open(struct table *t, const char *name, struct buf *err)
{
	(void)name;
	return pattern_open(t, &pcre_engine, err);
}

const struct table_ops table_pcre_ops = {
	.type = "pcre",
	.props = TABLE_P_PATTERN,
	.open = pcre_open,
	.lookup = pattern_lookup,
	.close = pattern_close,
	.stale = pattern_stale,
};
