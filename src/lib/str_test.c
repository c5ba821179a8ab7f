/* str_test - trimming, tokenizers with braces, string vectors, numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/mem.h"
#include "lib/str.h"

static void test_trim_lower(void **state)
{
	char s[] = "  Hello World \t\n";

	(void)state;
	assert_string_equal(str_lower(str_trim(s)), "hello world");
	assert_true(str_has_prefix("smtpd_foo", "smtpd_"));
	assert_false(str_has_prefix("smtp", "smtpd_"));
	assert_true(str_has_suffix("main.cf", ".cf"));
	assert_true(str_is_blank(" \t"));
	assert_true(str_is_digits("0123"));
	assert_false(str_is_digits("12a"));
	assert_false(str_is_digits(""));
}

struct split_case {
	const char *name;
	const char *input;
	const char *joined;	/* tokens joined by '|', NULL when an error */
};

static const struct split_case split_cases[] = {
	{ "plain", "a, b c,,d", "a|b|c|d" },
	{ "inline", "inline:{a=b, c=d}, hash:x", "inline:{a=b, c=d}|hash:x" },
	{ "nested", "unionmap:{inline:{a=1}, static:x} y", "unionmap:{inline:{a=1}, static:x}|y" },
	{ "policy", "check_policy_service { inet:h:1, timeout=5s }, permit",
	  "check_policy_service|{ inet:h:1, timeout=5s }|permit" },
	{ "empty", "  ,, ", "" },
	{ "unbalanced open", "inline:{a=b", NULL },
	{ "unbalanced close", "a}", NULL },
};

static void test_split(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
		const struct split_case *c = &split_cases[i];
		struct strv sv = STRV_INIT;
		const char *err;
		int rc = str_split(c->input, STR_SEP_LIST, &sv, &err);

		if (c->joined == NULL) {
			assert_int_equal(rc, -1);
			assert_non_null(err);
		} else {
			char *j = strv_join(&sv, "|");

			assert_int_equal(rc, 0);
			if (strcmp(j, c->joined) != 0)
				fail_msg("case %s: got '%s' want '%s'", c->name, j, c->joined);
			free(j);
		}
		strv_free(&sv);
	}
}

static void test_unbrace(void **state)
{
	char a[] = "  { name = value with spaces }  ";
	char b[] = "plain ";
	char c[] = "{ open";
	const char *err;

	(void)state;
	assert_string_equal(str_unbrace(a, &err), "name = value with spaces");
	assert_string_equal(str_unbrace(b, &err), "plain");
	assert_null(str_unbrace(c, &err));
	assert_non_null(err);
}

static void test_strv_and_long(void **state)
{
	struct strv sv = STRV_INIT;
	long v;

	(void)state;
	strv_push(&sv, "One");
	strv_push(&sv, "two");
	assert_true(strv_contains(&sv, "two"));
	assert_false(strv_contains(&sv, "one"));
	assert_true(strv_contains_case(&sv, "one"));
	assert_null(sv.v[sv.n]);
	strv_free(&sv);
	assert_int_equal(str_parse_long("123", &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(str_parse_long("12x", &v), -1);
	assert_int_equal(str_parse_long("", &v), -1);
	assert_int_equal(str_parse_long("99999999999999999999999", &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trim_lower),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_unbrace),
		cmocka_unit_test(test_strv_and_long),
	};

	return cmocka_run_group_tests_name("str", tests, NULL, NULL);
}
