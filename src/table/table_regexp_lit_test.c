/*
 * table_regexp_lit_test - the required-literal pre-check: named cases,
 * then a differential run: for random patterns and subjects, whenever
 * regexec matches, the pre-check must have said the literal is present.
 */
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
	const char *lits;	/* the literals joined by '|'; "" = none */
};

static const struct lcase lcases[] = {
	{ "^user5[a-z]*@example5\\.com$", "user5|@example5.com" },
	{ "abc", "abc" },
	{ "ab*c", "" /* single characters are not worth it */ },
	{ "ab+cd", "cd" },
	{ "abc?de", "ab|de" },
	{ "ab{2}cd", "cd" },
	{ "ab{0,1}cd", "cd" },
	{ "a|bcdef", "" },
	{ "(a|b)xyz", "xyz" },
	{ "x(ab)*yz", "yz" },
	{ "[abc]def", "def" },
	{ "[]x]yz", "yz" },
	{ "[[:alpha:]]+klm", "klm" },
	{ "\\.com$", ".com" },
	{ "\\bword", "word" },
	{ "\\<ab", "ab" },
	{ "a\\|bc", "bc" },
	{ "a.bc", "bc" },
	{ "*abc", "" },
	{ "ab{x}cd", "" },
	{ "ab{,3}cd", "" },
	{ "ab)cd", "" },
	{ "caf\xc3\xa9s", "" },
	{ "", "" },
	{ "^$", "" },
	{ "ab.cd.ef.gh.ij.kl", "ab|cd|ef|gh" },
};

static void test_cases(void **state)
{
	struct strv lits = STRV_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(lcases) / sizeof(lcases[0]); i++) {
		const struct lcase *c = &lcases[i];
		char *got;

		regexp_required_literals(c->pattern, &lits);
		got = lits.n ? strv_join(&lits, "|") : xstrdup("");
		if (strcmp(got, c->lits) != 0)
			fail_msg("pattern '%s': got '%s' want '%s'", c->pattern, got, c->lits);
		free(got);
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
		if (regexp_required_literals(buf_cstr(&pat), &lits)) {
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_differential),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
