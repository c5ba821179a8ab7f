/*
 * table_test - the generic layer: type:name parsing, case folding, the
 * empty-result rule, inline/static/fail, and table lists (first match
 * wins, partial keys only to fixed tables, errors stop the search).
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "table/table_impl.h"
#include "table/table_test_util.h"

struct qcase {
	const char *name;
	const char *spec;
	unsigned flags;
	const char *key;
	const char *want;	/* value, "-" not found, "!ERR", "!OPEN" */
};

static const struct qcase qcases[] = {
	{ "no colon", "texthash", 0, "k", "!OPEN" },
	{ "empty name", "static:", 0, "k", "!OPEN" },
	{ "unknown type", "nosuch:x", 0, "k", "!OPEN" },
	{ "static", "static:Hello", 0, "x", "Hello" },
	{ "static braced", "static:{ a b }", 0, "x", "a b" },
	{ "static unbalanced", "static:{ a b", 0, "x", "!OPEN" },
	{ "static empty braces", "static:{}", 0, "x", "!ERR" },
	{ "fail", "fail:x", 0, "x", "!ERR" },
	{ "inline", "inline:{a=1, b=2}", 0, "b", "2" },
	{ "inline folds key", "inline:{ a=1 }", 0, "A", "1" },
	{ "inline nofold", "inline:{ a=1 }", TABLE_F_NOFOLD, "A", "-" },
	{ "inline nofold exact", "inline:{ Ab=1 }", TABLE_F_NOFOLD, "Ab", "1" },
	{ "inline folds source key", "inline:{ Ab=1 }", 0, "ab", "1" },
	{ "inline spaces", "inline:{ { a = b c }, B=x }", 0, "a", "b c" },
	{ "inline spaces 2", "inline:{ { a = b c }, B=x }", 0, "b", "x" },
	{ "inline last dup wins", "inline:{ a=1, a=2 }", 0, "a", "2" },
	{ "inline empty value", "inline:{a=}", 0, "a", "!ERR" },
	{ "empty value, postmap mode", "inline:{a=}", TABLE_F_EMPTY_OK, "a", "" },
	{ "utf8 key", "static:x", TABLE_F_UTF8, "\xc3\xa9", "x" },
	{ "latin-1 key", "static:x", TABLE_F_UTF8, "\xe9", "-" },
	{ "latin-1 key, no check", "static:x", 0, "\xe9", "x" },
	{ "overlong", "static:x", TABLE_F_UTF8, "\xc0\xaf", "-" },
	{ "surrogate", "static:x", TABLE_F_UTF8, "\xed\xa0\x80", "-" },
	{ "truncated", "static:x", TABLE_F_UTF8, "a\xe2\x82", "-" },
	{ "4 bytes", "static:x", TABLE_F_UTF8, "\xf0\x9f\x98\x80", "x" },
	{ "above U+10FFFF", "static:x", TABLE_F_UTF8, "\xf4\x90\x80\x80", "-" },
	{ "inline no equals", "inline:{a}", 0, "a", "!OPEN" },
	{ "inline bare words", "inline:{ a = b c }", 0, "a", "!OPEN" },
	{ "inline unbraced", "inline:a=1", 0, "a", "!OPEN" },
	{ "inline empty", "inline:{}", 0, "a", "!OPEN" },
	{ "inline unbalanced", "inline:{a=1", 0, "a", "!OPEN" },
	{ "inline extra brace", "inline:{a=1}}", 0, "a", "!OPEN" },
	{ "inline not found", "inline:{a=1}", 0, "z", "-" },
};

static void test_queries(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(qcases) / sizeof(qcases[0]); i++) {
		const struct qcase *c = &qcases[i];
		char *got = tt_query(c->spec, c->flags, c->key);

		if (!tt_matches(got, c->want))
			fail_msg("case '%s': %s -q %s: got '%s' want '%s'", c->name, c->spec, c->key,
				 got, c->want);
		free(got);
	}
}

static void test_messages(void **state)
{
	(void)state;
	char *got = tt_query("inline:{a=}", 0, "a");

	assert_string_equal(got, "!ERR:table inline:{a=}: key a: empty string result is not allowed");
	free(got);
	got = tt_query("inline:{a}", 0, "a");
	assert_string_equal(got, "!OPEN:missing '=' after attribute name: \"inline:{a}\"; "
				 "need \"inline:{name=value...}\"");
	free(got);
	got = tt_query("static:", 0, "a");
	assert_string_equal(got, "!OPEN:expecting \"type:name\" form instead of \"static:\"");
	free(got);
	got = tt_query("nosuch:x", 0, "a");
	assert_string_equal(got, "!OPEN:unsupported dictionary type: nosuch");
	free(got);
}

struct lcase {
	const char *name;
	const char *list;
	const char *key;
	bool partial;
	const char *want;	/* value, "-", "!ERR" */
	int answered;		/* index of the answering table, -1 for none */
};

static const struct lcase lcases[] = {
	{ "first wins", "inline:{a=1}, inline:{a=2}", "a", false, "1", 0 },
	{ "falls through", "inline:{b=1}, inline:{a=2}", "a", false, "2", 1 },
	{ "not found", "inline:{b=1}, inline:{c=2}", "a", false, "-", -1 },
	{ "error stops", "inline:{b=1}, fail:x, inline:{a=2}", "a", false, "!ERR", 1 },
	{ "error after hit unseen", "inline:{a=1}, fail:x", "a", false, "1", 0 },
	{ "braces kept whole", "inline:{ b=1, { a = x y } }  static:z", "a", false, "x y", 0 },
	{ "empty value is error", "inline:{a=}, static:z", "a", false, "!ERR", 0 },
	{ "empty list", "", "a", false, "-", -1 },
	{ "folding per table", "inline:{ Ab=1 }", "AB", false, "1", 0 },
};

static void test_lists(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(lcases) / sizeof(lcases[0]); i++) {
		const struct lcase *c = &lcases[i];
		struct buf err = BUF_INIT, v = BUF_INIT;
		struct table_list *l = table_list_open(c->list, 0, &err);
		const struct table *who;
		enum table_status st;
		const char *got;

		if (l == NULL)
			fail_msg("case '%s': open: %s", c->name, buf_cstr(&err));
		st = table_list_lookup(l, c->key, c->partial, &v, &who);
		got = st == TABLE_FOUND ? buf_cstr(&v) : st == TABLE_NOTFOUND ? "-" : "!ERR";
		if (strcmp(got, c->want) != 0)
			fail_msg("case '%s': got '%s' want '%s'", c->name, got, c->want);
		if (c->answered < 0)
			assert_null(who);
		else if (who != table_list_member(l, (size_t)c->answered))
			fail_msg("case '%s': wrong answering table", c->name);
		if (st == TABLE_TEMPFAIL)
			assert_true(strlen(table_list_error(l)) > 0);
		table_list_close(&l);
		assert_null(l);
		buf_free(&err);
		buf_free(&v);
	}
}

static void test_key_inside_value(void **state)
{
	struct buf err = BUF_INIT, v = BUF_INIT;
	struct table *t = table_open("inline:{a=b, b=c}", 0, &err);

	(void)state;
	assert_non_null(t);
	assert_int_equal(table_lookup(t, "a", &v), TABLE_FOUND);
	assert_int_equal(table_lookup(t, buf_cstr(&v), &v), TABLE_FOUND);
	assert_string_equal(buf_cstr(&v), "c");
	table_close(&t);
	t = table_open("inline:{a=b, b=c}", TABLE_F_NOFOLD, &err);
	assert_int_equal(table_lookup(t, "a", &v), TABLE_FOUND);
	assert_int_equal(table_lookup(t, buf_cstr(&v), &v), TABLE_FOUND);
	assert_string_equal(buf_cstr(&v), "c");
	table_close(&t);
	buf_free(&err);
	buf_free(&v);
}

static void test_list_open_errors(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	assert_null(table_list_open("inline:{a=1}, nosuch:x", 0, &err));
	assert_string_equal(buf_cstr(&err), "unsupported dictionary type: nosuch");
	assert_null(table_list_open("inline:{a=1", 0, &err));
	assert_true(strstr(buf_cstr(&err), "missing '}'") != NULL);
	buf_free(&err);
}

/* every byte value at every offset of an 8-byte word, against tolower in the C locale */
static void test_fold_copy(void **state)
{
	char src[300], dst[300];

	(void)state;
	for (size_t off = 0; off < 9; off++) {
		size_t n = off + 256;

		memset(src, 'Q', sizeof(src));
		for (int c = 0; c < 256; c++)
			src[off + (size_t)c] = (char)c;
		table_fold_copy(dst, src, n);
		for (size_t i = 0; i < n; i++)
			assert_int_equal((unsigned char)dst[i], tolower((unsigned char)src[i]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queries),
		cmocka_unit_test(test_fold_copy),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_key_inside_value),
		cmocka_unit_test(test_list_open_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
