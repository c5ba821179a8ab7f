/*
 * table_source_test - the source-file reader against what postmap 3.7
 * does with the same text (recorded by hand with postmap -s / postalias).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "table/table_impl.h"
#include "table/table_test_util.h"

struct scase {
	const char *name;
	const char *text;
	struct table_source_opts o;
	const char *entries;	/* "key=value;" for each call, in order */
	const char *warnings;	/* expected warnings, with FILE for the path */
	int rc;
	const char *error;	/* expected err (FILE for the path) when rc < 0 */
};

static const struct scase scases[] = {
	{ "plain", "a 1\nb   two   words   \n", { .fold = true }, "a=1;b=two   words;", "", 0, NULL },
	{ "comments and blanks", "# c\n\n  # indented\na 1\n", { .fold = true }, "a=1;", "", 0, NULL },
	{ "continuation kept verbatim", "c x\n     \t  y  \n    z\n", { .fold = true },
	  "c=x     \t  y      z;", "", 0, NULL },
	{ "continuation over comments", "k v\n#c\n  cont\n\n  cont2\n", { .fold = true },
	  "k=v  cont  cont2;", "", 0, NULL },
	{ "no value warns", "a 1\nlonely\n", { .fold = true }, "a=1;",
	  "FILE, line 2: expected format: key whitespace value -- ignoring this line\n", 0, NULL },
	{ "no value strict", "a 1\nlonely\n", { .fold = true, .strict = true }, "a=1;", "", -1,
	  "FILE, line 2: expected format: key whitespace value" },
	{ "key becomes value via continuation", "novalue\n  cont more\n", { .fold = true },
	  "novalue=cont more;", "", 0, NULL },
	{ "leading whitespace first", "  leading x\nk v\n", { .fold = true }, "k=v;",
	  "FILE: logical line must not start with whitespace: \"  leading x\"\n", 0, NULL },
	{ "fold", "Alice@Example.COM Bob@Example.COM\n", { .fold = true },
	  "alice@example.com=Bob@Example.COM;", "", 0, NULL },
	{ "nofold", "Alice@Example.COM x\n", { .fold = false }, "Alice@Example.COM=x;", "", 0,
	  NULL },
	{ "alias look warns", "key: value, v2\n", { .fold = true }, "key:=value, v2;",
	  "FILE, line 1: record is in \"key: value\" format; is this an alias file?\n", 0, NULL },
	{ "crlf", "a 1\r\nb 2\r\n", { .fold = true }, "a=1;b=2;", "", 0, NULL },
	{ "alias format", "Root: a, b\nfoo:bar\n\"quoted name\": c\nx : y\n  , z\ntwo words: v\n",
	  { .fold = true, .alias_format = true },
	  "root=a, b;foo=bar;quoted name=c;x=y  , z;two words=v;", "", 0, NULL },
	{ "alias malformed", "bad line\nempty:\n: nokey\n", { .fold = true, .alias_format = true },
	  "",
	  "FILE, line 1: need name:value pair -- ignoring this line\n"
	  "FILE, line 2: need name:value pair -- ignoring this line\n"
	  "FILE, line 3: need name:value pair -- ignoring this line\n",
	  0, NULL },
};

struct collect {
	struct buf out;
	int dup_every;	/* pretend every key after the first is a duplicate */
	int n;
};

static int collect_fn(const char *key, const char *value, void *ctx)
{
	struct collect *c = ctx;

	buf_printf(&c->out, "%s=%s;", key, value);
	if (c->dup_every && c->n++ > 0)
		return TABLE_ENTRY_DUP;
	return 0;
}

/* subst - replace every FILE by path */
static char *subst(const char *text, const char *path)
{
	struct buf b = BUF_INIT;

	for (const char *p = text; *p;) {
		if (strncmp(p, "FILE", 4) == 0) {
			buf_puts(&b, path);
			p += 4;
		} else {
			buf_putc(&b, *p++);
		}
	}
	buf_puts(&b, "");
	return buf_steal(&b);
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scases) / sizeof(scases[0]); i++) {
		const struct scase *c = &scases[i];
		char *path = tt_write(c->text);
		struct collect col = { BUF_INIT, 0, 0 };
		struct buf err = BUF_INIT;
		char *want;
		int rc;

		tt_capture();
		rc = table_source_read(path, &c->o, collect_fn, &col, &err);
		if (rc != c->rc)
			fail_msg("case '%s': rc %d want %d (%s)", c->name, rc, c->rc, buf_cstr(&err));
		if (strcmp(buf_cstr(&col.out), c->entries) != 0)
			fail_msg("case '%s': entries '%s' want '%s'", c->name, buf_cstr(&col.out),
				 c->entries);
		want = subst(c->warnings, path);
		if (strcmp(buf_cstr(&tt_warnings), want) != 0)
			fail_msg("case '%s': warnings '%s' want '%s'", c->name,
				 buf_cstr(&tt_warnings), want);
		free(want);
		if (c->error) {
			want = subst(c->error, path);
			assert_string_equal(buf_cstr(&err), want);
			free(want);
		}
		unlink(path);
		free(path);
		buf_free(&col.out);
		buf_free(&err);
	}
	log_set_hook(NULL, NULL);
}

static void test_duplicates(void **state)
{
	char *path = tt_write("a 1\nb 2\n  more\nb 3\n");
	struct table_source_opts o = { .fold = true };
	struct collect col = { BUF_INIT, 1, 0 };
	struct buf err = BUF_INIT, want = BUF_INIT;

	(void)state;
	tt_capture();
	assert_int_equal(table_source_read(path, &o, collect_fn, &col, &err), 0);
	buf_printf(&want, "%s, line 2: duplicate entry: \"b\"\n%s, line 4: duplicate entry: \"b\"\n",
		   path, path);
	assert_string_equal(buf_cstr(&tt_warnings), buf_cstr(&want));
	o.quiet_dups = true;
	tt_capture();
	col.n = 0;
	assert_int_equal(table_source_read(path, &o, collect_fn, &col, &err), 0);
	assert_string_equal(buf_cstr(&tt_warnings), "");
	o.quiet_dups = false;
	o.replace_dups = true;
	tt_capture();
	col.n = 0;
	assert_int_equal(table_source_read(path, &o, collect_fn, &col, &err), 0);
	assert_string_equal(buf_cstr(&tt_warnings), "");
	log_set_hook(NULL, NULL);
	unlink(path);
	free(path);
	buf_free(&col.out);
	buf_free(&err);
	buf_free(&want);
}

static int stop_fn(const char *key, const char *value, void *ctx)
{
	(void)key;
	(void)value;
	(void)ctx;
	return -1;
}

static void test_errors(void **state)
{
	struct table_source_opts o = { .fold = true };
	struct buf err = BUF_INIT, want = BUF_INIT;
	char *path = tt_write("a 1\n");

	(void)state;
	assert_int_equal(table_source_read("/nonexistent/x", &o, stop_fn, NULL, &err), -1);
	assert_string_equal(buf_cstr(&err), "open /nonexistent/x: No such file or directory");
	assert_int_equal(table_source_read(path, &o, stop_fn, NULL, &err), -1);
	buf_printf(&want, "%s, line 1: cannot store entry \"a\"", path);
	assert_string_equal(buf_cstr(&err), buf_cstr(&want));
	unlink(path);
	free(path);
	buf_free(&err);
	buf_free(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
