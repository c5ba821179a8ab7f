/*
 * table_litindex_test - the multi-literal prefilter: named cases, then a
 * differential run against a plain case-folding substring search.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <cmocka.h>

#include "table/table_litindex.h"

struct icase {
	const char *name;
	const char *rules[4];	/* per rule: literals joined by '|'; "" = not indexed */
	const char *subject;
	const char *want;	/* candidate rule numbers, e.g. "0 2" */
};

static const struct icase icases[] = {
	{ "one literal", { "abc", "xyz", NULL }, "--abc--", "0" },
	{ "case folded both ways", { "ABC", "xyz", NULL }, "--aBc--xYZ", "0 1" },
	{ "every literal needed", { "user5|.com", "user5|.org", NULL }, "user57@x.com", "0" },
	{ "shared literal", { ".com", ".com|xy", ".net", NULL }, "a.COM", "0" },
	{ "literal at both ends", { "ab", "yz", NULL }, "abxyz", "0 1" },
	{ "repeated in subject counts once", { "ab|cd", NULL }, "ababab", "" },
	{ "longer than subject", { "abcdef", NULL }, "abc", "" },
	{ "empty subject", { "ab", NULL }, "", "" },
	{ "ascending order", { "zz", "yy", "xx", NULL }, "xxyyzz", "0 1 2" },
};

/* build - one index from a case's rules */
static struct lit_index *build(const char *const *rules)
{
	struct lit_index *x = lit_index_new();

	for (uint32_t r = 0; r < 4 && rules[r]; r++) {
		for (const char *lit = rules[r]; *lit;) {
			size_t len = strcspn(lit, "|");

			lit_index_add(x, lit, len, r);
			lit += len + (lit[len] == '|');
		}
		assert_true(lit_index_rule_done(x, r));
	}
	lit_index_done(x);
	return x;
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(icases) / sizeof(icases[0]); i++) {
		struct lit_index *x = build(icases[i].rules);
		size_t n;
		const uint32_t *c = lit_index_scan(x, icases[i].subject, strlen(icases[i].subject), &n);
		char got[64] = "";

		for (size_t k = 0; k < n; k++) {
			size_t l = strlen(got);

			snprintf(got + l, sizeof(got) - l, "%s%u", k ? " " : "", (unsigned)c[k]);
		}
		print_message("%s\n", icases[i].name);
		assert_string_equal(got, icases[i].want);
		lit_index_free(&x);
		assert_null(x);
	}
}

/* has_fold - plain case-folding substring test */
static int has_fold(const char *s, const char *lit)
{
	size_t n = strlen(s), l = strlen(lit);

	for (size_t i = 0; i + l <= n; i++)
		if (strncasecmp(s + i, lit, l) == 0)
			return 1;
	return 0;
}

static void test_differential(void **state)
{
	static const char alpha[] = "abAB.-";
	char lits[200][4][6];
	unsigned seed = 20261122;

	(void)state;
	for (int round = 0; round < 20; round++) {
		struct lit_index *x = lit_index_new();
		int nlits[200];

		for (uint32_t r = 0; r < 200; r++) {
			nlits[r] = 1 + (int)(rand_r(&seed) % 3);
			for (int k = 0; k < nlits[r]; k++) {
				int len = 1 + (int)(rand_r(&seed) % 5);

				for (int j = 0; j < len; j++)
					lits[r][k][j] = alpha[rand_r(&seed) % 6];
				lits[r][k][len] = '\0';
				lit_index_add(x, lits[r][k], (size_t)len, r);
			}
			assert_true(lit_index_rule_done(x, r));
		}
		lit_index_done(x);
		for (int s = 0; s < 50; s++) {
			char subj[40];
			int len = (int)(rand_r(&seed) % 39);
			size_t n, k = 0;
			const uint32_t *c;

			for (int j = 0; j < len; j++)
				subj[j] = alpha[rand_r(&seed) % 6];
			subj[len] = '\0';
			c = lit_index_scan(x, subj, (size_t)len, &n);
			for (uint32_t r = 0; r < 200; r++) {
				int want = 1;

				for (int j = 0; j < nlits[r]; j++)
					want &= has_fold(subj, lits[r][j]);
				if (want) {
					assert_true(k < n);
					assert_int_equal(c[k], r);
					k++;
				}
			}
			assert_int_equal(k, n);
		}
		lit_index_free(&x);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_differential),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
