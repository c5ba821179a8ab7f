/*
 * table_admin_test - the aliases(5) value normalisation postalias applies,
 * the postmap error texts of table_admin_build, and building an alias
 * table through the lmdb and cdb builders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "table/table_admin.h"
#include "table/table_test_util.h"

struct alias_case {
	const char *name;
	const char *in;
	const char *want;	/* as recorded from postalias 3.7 */
};

static const struct alias_case alias_cases[] = {
	{ "already normal", "Admin, bob", "Admin, bob" },
	{ "spaces around commas", "alice@example.com,bob@example.com ,  carol@example.com",
	  "alice@example.com, bob@example.com, carol@example.com" },
	{ "inner blanks collapsed", "x   y", "x y" },
	{ "comment kept", "x (comment) , y", "x (comment), y" },
	{ "quoted blanks kept", "<a@b>,  \"q  s\"@d", "<a@b>, \"q  s\"@d" },
	{ "comma inside quotes", "\"a,b\"@c, d", "\"a,b\"@c, d" },
	{ "comma inside angle brackets", "Name <a,b@c>, d", "Name <a,b@c>, d" },
	{ "empty elements kept", ",,e,,", ", , e, , " },
	{ "trailing comma", "f,", "f, " },
	{ "unterminated quote closed", "\"unterminated", "\"unterminated\"" },
	{ "command with quotes", "/var/mail/bob,  |\"/usr/bin/procmail -a x\"",
	  "/var/mail/bob, |\"/usr/bin/procmail -a x\"" },
	{ "include kept", ":include:/etc/x", ":include:/etc/x" },
	{ "tab as blank", "a\t,\tb", "a, b" },
};

static void test_alias_value(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(alias_cases) / sizeof(alias_cases[0]); i++) {
		const struct alias_case *c = &alias_cases[i];

		table_alias_value(c->in, &out);
		if (strcmp(buf_cstr(&out), c->want) != 0)
			fail_msg("case '%s': got '%s' want '%s'", c->name, buf_cstr(&out), c->want);
	}
	buf_free(&out);
}

static void test_build_errors(void **state)
{
	struct table_build_opts o = { .fold = true };
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(table_admin_build("nosuch:/x", &o, &err), -1);
	assert_string_equal(buf_cstr(&err), "unsupported dictionary type: nosuch");
	assert_int_equal(table_admin_build("regexp:/x", &o, &err), -1);
	assert_string_equal(buf_cstr(&err),
			    "unsupported dictionary type: regexp does not support bulk-mode creation.");
	assert_int_equal(table_admin_build("no-colon", &o, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "type:name"));
	buf_free(&err);
}

static void test_alias_build(void **state)
{
	static const char *const types[] = { "lmdb", "cdb", "hash" };
	struct table_build_opts o = { .fold = true, .alias_format = true };
	char *path = tt_write("Root: a,b\nbob: /var/mail/bob,\n  |\"cmd x\"\n\"Quoted Name\": c\n");
	struct buf err = BUF_INIT, idx = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		char *spec = tt_spec(types[i], path), *got;

		if (table_admin_build(spec, &o, &err) != 0)
			fail_msg("%s: %s", spec, buf_cstr(&err));
		got = tt_query(spec, 0, "ROOT");
		assert_string_equal(got, "a, b");
		free(got);
		got = tt_query(spec, 0, "bob");
		assert_string_equal(got, "/var/mail/bob, |\"cmd x\"");
		free(got);
		got = tt_query(spec, 0, "quoted name");
		assert_string_equal(got, "c");
		free(got);
		free(spec);
	}
	buf_printf(&idx, "%s.lmdb", path);
	unlink(buf_cstr(&idx));
	buf_reset(&idx);
	buf_printf(&idx, "%s.cdb", path);
	unlink(buf_cstr(&idx));
	unlink(path);
	free(path);
	buf_free(&idx);
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alias_value),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_alias_build),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
