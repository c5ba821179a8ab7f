/*
 * table_regexp_lit_test - the required-literal pre-check: named cases,
 * then differential runs: for random patterns and subjects, whenever
 * regexec (POSIX) or PCRE2 matches, every literal must be present.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "table/table_regexp_lit.h"
#include "table/table_test_util.h"

struct lcase {
	const char *pattern;
	const char *lits;	/* POSIX: the literals joined by '|'; "" = none */
	const char *pcre_lits;	/* PCRE: the same, NULL when as POSIX */
};

static const struct lcase lcases[] = {
	{ "^user5[a-z]*@example5\\.com$", "user5|@example5.com", NULL },
	{ "abc", "abc", NULL },
	{ "ab*c", "", NULL /* single characters are not worth it */ },
	{ "ab+cd", "cd", NULL },
	{ "abc?de", "ab|de", NULL },
	{ "ab{2}cd", "cd", NULL },
	{ "ab{0,1}cd", "cd", NULL },
	{ "a|bcdef", "", NULL },
	{ "(a|b)xyz", "xyz", NULL },
	{ "x(ab)*yz", "yz", NULL },
	{ "[abc]def", "def", NULL },
	{ "[]x]yz", "yz", NULL },
	{ "[[:alpha:]]+klm", "klm", NULL },
	{ "\\.com$", ".com", NULL },
	{ "\\bword", "word", "" },
	{ "\\<ab", "ab", NULL },
	{ "a\\|bc", "bc", NULL },
	{ "a.bc", "bc", NULL },
	{ "*abc", "", NULL },
	{ "ab{x}cd", "", NULL },
	{ "ab{,3}cd", "", NULL },
	{ "ab)cd", "", NULL },
	{ "caf\xc3\xa9s", "", NULL },
	{ "", "", NULL },
	{ "^$", "", NULL },
	{ "ab.cd.ef.gh.ij.kl", "ab|cd|ef|gh", NULL },
	{ "[\\]x]abc", "x]abc" /* POSIX: '\' is in the class */, "abc" },
	{ "\\x41bc", "41bc" /* POSIX: a plain 'x' */, "" },
	{ "(?i)abc", "abc", "" },
	{ "ab(?:cd)?ef", "ab|ef", "" },
	{ "(a\\Q)\\E)bc", "", "" },
	{ "(\\d+)@example\\.com$", "@example.com", NULL },
	{ "\\Qa.b\\E", "", "" },
};

static void test_cases(void **state)
{
	struct strv lits = STRV_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(lcases) / sizeof(lcases[0]); i++) {
		const struct lcase *c = &lcases[i];
		char *got;

		for (int pcre = 0; pcre < 2; pcre++) {
			const char *want = pcre && c->pcre_lits ? c->pcre_lits : c->lits;

			regexp_required_literals(c->pattern, pcre, &lits);
			got = lits.n ? strv_join(&lits, "|") : xstrdup("");
			if (strcmp(got, want) != 0)
				fail_msg("pattern '%s' (pcre %d): got '%s' want '%s'", c->pattern, pcre,
					 got, want);
			free(got);
		}
	}
	strv_free(&lits);
	assert_true(regexp_lit_present("User@EXAMPLE.com", 16, "example.c", 9, true));
	assert_false(regexp_lit_present("User@EXAMPLE.com", 16, "example.c", 9, false));
	assert_false(regexp_lit_present("ab", 2, "abc", 3, true));
}

/* next_rand - a small deterministic generator */
static unsigned next_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

static void test_differential(void **state)
{
	static const char *const atoms[] = { "a", "b", "A", "c", ".", "[ab]", "[^a]", "(a|b)", "(ab)",
					     "\\.", "x", "^", "$", "[[:digit:]]", "1", "\\<", "-", "ab", "ba", "b-" };
	static const char *const quants[] = { "", "", "", "*", "+", "?", "{2}", "{0,1}", "{1,}" };
	static const char *const subjects[] = { "", "a", "ab", "abc", "AB.c", "xab1", "ba-ab",
						"aabbcc", "x.y", "1a", "c", "b-a.", "ABAB", "aXb" };
	struct buf pat = BUF_INIT;
	struct strv lits = STRV_INIT;
	unsigned seed = 42, checked = 0;

	(void)state;
	for (int n = 0; n < 60000; n++) {
		int natoms = 1 + (int)(next_rand(&seed) % 6);
		int icase = (int)(next_rand(&seed) % 2);
		regex_t re;

		buf_reset(&pat);
		buf_puts(&pat, "");
		for (int k = 0; k < natoms; k++) {
			buf_puts(&pat, atoms[next_rand(&seed) % (sizeof(atoms) / sizeof(atoms[0]))]);
			buf_puts(&pat, quants[next_rand(&seed) % (sizeof(quants) / sizeof(quants[0]))]);
		}
		if (regcomp(&re, buf_cstr(&pat), REG_EXTENDED | (icase ? REG_ICASE : 0)) != 0)
			continue;
		if (regexp_required_literals(buf_cstr(&pat), false, &lits)) {
			for (size_t s = 0; s < sizeof(subjects) / sizeof(subjects[0]); s++) {
				const char *subj = subjects[s];

				if (regexec(&re, subj, 0, NULL, 0) != 0)
					continue;
				for (size_t l = 0; l < lits.n; l++)
					if (!regexp_lit_present(subj, strlen(subj), lits.v[l],
								strlen(lits.v[l]), icase))
						fail_msg("pattern '%s' (icase %d) matches '%s' but "
							 "literal '%s' said no",
							 buf_cstr(&pat), icase, subj, lits.v[l]);
				checked++;
			}
		}
		regfree(&re);
	}
	print_message("%u matches checked\n", checked);
	assert_true(checked > 2000);
	buf_free(&pat);
	strv_free(&lits);
}

static void test_differential_pcre(void **state)
{
	static const char *const atoms[] = { "a", "b", "A", "c", ".", "[ab]", "[^a]", "(a|b)", "(ab)",
					     "\\.", "x", "^", "$", "\\d", "1", "\\b", "-", "ab", "ba",
					     "b-", "\\Q.a\\E", "(?i)a", "(?:ab)", "[\\]a]", "a{,2}",
					     "\\x41", "(?=b)", "\\Qa", "#", "\\E", "(?i:b)", "\\1" };
	static const char *const quants[] = { "", "", "", "*", "+", "?", "{2}", "{0,1}", "{1,}",
					      "*?", "++", "?+" };
	static const char *const subjects[] = { "", "a", "ab", "abc", "AB.c", "xab1", "ba-ab",
						"aabbcc", "x.y", "1a", "c", "b-a.", "ABAB", "aXb",
						"A]b", ".a", "aA", "#ab" };
	struct buf pat = BUF_INIT;
	struct strv lits = STRV_INIT;
	unsigned seed = 7, checked = 0;
	pcre2_match_data *md = pcre2_match_data_create(32, NULL);

	(void)state;
	for (int n = 0; n < 60000; n++) {
		int natoms = 1 + (int)(next_rand(&seed) % 6);
		int icase = (int)(next_rand(&seed) % 2);
		pcre2_code *re;
		PCRE2_SIZE off;
		int ec;

		buf_reset(&pat);
		buf_puts(&pat, "");
		for (int k = 0; k < natoms; k++) {
			buf_puts(&pat, atoms[next_rand(&seed) % (sizeof(atoms) / sizeof(atoms[0]))]);
			buf_puts(&pat, quants[next_rand(&seed) % (sizeof(quants) / sizeof(quants[0]))]);
		}
		re = pcre2_compile((PCRE2_SPTR)buf_cstr(&pat), PCRE2_ZERO_TERMINATED,
				   icase ? PCRE2_CASELESS : 0, &ec, &off, NULL);
		if (re == NULL)
			continue;
		if (regexp_required_literals(buf_cstr(&pat), true, &lits)) {
			for (size_t s = 0; s < sizeof(subjects) / sizeof(subjects[0]); s++) {
				const char *subj = subjects[s];

				if (pcre2_match(re, (PCRE2_SPTR)subj, strlen(subj), 0, 0, md, NULL) < 0)
					continue;
				for (size_t l = 0; l < lits.n; l++)
					if (!regexp_lit_present(subj, strlen(subj), lits.v[l],
								strlen(lits.v[l]), icase))
						fail_msg("pcre pattern '%s' (icase %d) matches '%s' but "
							 "literal '%s' said no",
							 buf_cstr(&pat), icase, subj, lits.v[l]);
				checked++;
			}
		}
		pcre2_code_free(re);
	}
	print_message("%u pcre matches checked\n", checked);
	assert_true(checked > 1000);
	pcre2_match_data_free(md);
	buf_free(&pat);
	strv_free(&lits);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_differential_pcre),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
