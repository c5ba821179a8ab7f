/*
 * table_union_test - unionmap and pipemap (POSTFIX-SEMANTICS 3.7), and
 * debug:/proxy: wrapping, and the sender-login postmortem: a table list stops at the first table that
 * knows the key, a unionmap asks every member. Answers recorded with
 * postmap 3.7 -q.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "table/table_test_util.h"

struct ucase {
	const char *name;
	const char *spec;
	const char *key;
	const char *want;	/* value, "-", "!ERR" (lookup fails), "!OPEN" */
};

static const struct ucase ucases[] = {
	{ "union joins with bare comma", "unionmap:{static:one,inline:{foo=two}}", "foo", "one,two" },
	{ "union one member", "unionmap:{static:one,inline:{foo=two}}", "x", "one" },
	{ "union nothing", "unionmap:{inline:{a=1}, inline:{b=2}}", "c", "-" },
	{ "union no dedup", "unionmap:{static:y, static:y}", "c", "y,y" },
	{ "union folds when first is fixed", "unionmap:{inline:{x=1}, static:y}", "X", "1,y" },
	{ "union error propagates", "unionmap:{fail:x,static:y}", "foo", "!ERR" },
	{ "union error after hit", "unionmap:{static:y,fail:x}", "foo", "!ERR" },
	{ "union empty member result", "unionmap:{inline:{a=}, static:y}", "a", "!ERR" },
	{ "union syntax empty", "unionmap:{}", "foo", "!ERR" },
	{ "union syntax unbraced", "unionmap:x", "foo", "!ERR" },
	{ "union bad member type", "unionmap:{static:y, nosuch:x}", "foo", "!OPEN" },
	{ "pipe", "pipemap:{inline:{foo=bar},inline:{bar=baz}}", "foo", "baz" },
	{ "pipe folds between stages", "pipemap:{inline:{x=A},inline:{a=b}}", "X", "b" },
	{ "pipe single member", "pipemap:{inline:{foo=bar}}", "foo", "bar" },
	{ "pipe breaks", "pipemap:{inline:{foo=bar},inline:{nope=baz}}", "foo", "-" },
	{ "pipe first misses", "pipemap:{inline:{foo=bar},inline:{bar=baz}}", "x", "-" },
	{ "pipe empty result", "pipemap:{inline:{foo=bar},inline:{bar=}}", "foo", "!ERR" },
	{ "pipe error", "pipemap:{fail:x,inline:{bar=}}", "foo", "!ERR" },
	{ "pipe error later", "pipemap:{inline:{x=a}, fail:f}", "x", "!ERR" },
	{ "pipe syntax", "pipemap:x", "foo", "!ERR" },
	{ "nested", "unionmap:{pipemap:{inline:{a=b},inline:{b=c}}, static:d}", "a", "c,d" },
	{ "environ folded", "environ:x", "OUTPOST_TEST_VAR", "-" },
	{ "environ lower", "environ:x", "outpost_test_lower", "lower-value" },
	{ "randmap one", "randmap:{a}", "x", "a" },
	{ "randmap braces kept", "randmap:{ {a b} }", "x", "{a b}" },
	{ "randmap empty", "randmap:{}", "x", "!OPEN" },
	{ "randmap unbraced", "randmap:a", "x", "!OPEN" },
	{ "debug found", "debug:inline:{a=1}", "A", "1" },
	{ "debug not found", "debug:inline:{a=1}", "b", "-" },
	{ "debug error", "debug:fail:x", "b", "!ERR" },
	{ "debug bad inner", "debug:nosuch:x", "b", "!OPEN" },
	{ "debug inside union", "unionmap:{debug:static:a, static:b}", "k", "a,b" },
	{ "proxy passes through", "proxy:inline:{a=1}", "A", "1" },
	{ "proxy error", "proxy:fail:x", "A", "!ERR" },
	{ "proxy bad inner", "proxy:nosuch:x", "A", "!OPEN" },
};

static void test_cases(void **state)
{
	(void)state;
	setenv("OUTPOST_TEST_VAR", "upper", 1);
	setenv("outpost_test_lower", "lower-value", 1);
	tt_capture();
	for (size_t i = 0; i < sizeof(ucases) / sizeof(ucases[0]); i++) {
		const struct ucase *c = &ucases[i];
		char *got = tt_query(c->spec, 0, c->key);

		if (!tt_matches(got, c->want))
			fail_msg("case '%s': got '%s' want '%s'", c->name, got, c->want);
		free(got);
	}
	log_set_hook(NULL, NULL);
}

static void test_messages(void **state)
{
	char *got;

	(void)state;
	tt_capture();
	got = tt_query("unionmap:x", 0, "a");
	assert_string_equal(got, "!ERR:bad syntax: \"unionmap:x\"; need \"unionmap:{type:name...}\"");
	free(got);
	assert_non_null(strstr(buf_cstr(&tt_warnings), "need \"unionmap:{type:name...}\""));
	got = tt_query("pipemap:{inline:{x=a}, fail:f}", 0, "x");
	assert_string_equal(got, "!ERR:table fail:f: lookup failed (a fail: table always fails)");
	free(got);
	got = tt_query("unionmap:{static:y, nosuch:x}", 0, "x");
	assert_string_equal(got, "!OPEN:unsupported dictionary type: nosuch");
	free(got);
	log_set_hook(NULL, NULL);
}

static void test_randmap_spread(void **state)
{
	struct buf err = BUF_INIT, v = BUF_INIT;
	struct table *t = table_open("randmap:{a, b, b}", 0, &err);
	int a = 0, b = 0;

	(void)state;
	assert_non_null(t);
	for (int i = 0; i < 3000; i++) {
		assert_int_equal(table_lookup(t, "k", &v), TABLE_FOUND);
		if (strcmp(buf_cstr(&v), "a") == 0)
			a++;
		else if (strcmp(buf_cstr(&v), "b") == 0)
			b++;
	}
	assert_int_equal(a + b, 3000);
	assert_true(a > 700 && a < 1300);	/* weight 1 of 3 */
	table_close(&t);
	buf_free(&err);
	buf_free(&v);
}

/* files of the sender-login postmortem */
struct login_files {
	char *hash, *pcre;
	char *list, *union_fixed, *union_pattern;
};

static void login_setup(struct login_files *f)
{
	struct buf b = BUF_INIT;

	f->hash = tt_write("alice@example.com alice@example.com\n");
	f->pcre = tt_write("/.*@example\\.com/ admin@example.com\n");
	buf_printf(&b, "texthash:%s, pcre:%s", f->hash, f->pcre);
	f->list = buf_steal(&b);
	buf_printf(&b, "unionmap:{texthash:%s, pcre:%s}", f->hash, f->pcre);
	f->union_fixed = buf_steal(&b);
	buf_printf(&b, "unionmap:{pcre:%s, texthash:%s}", f->pcre, f->hash);
	f->union_pattern = buf_steal(&b);
}

static void login_teardown(struct login_files *f)
{
	unlink(f->hash);
	unlink(f->pcre);
	free(f->hash);
	free(f->pcre);
	free(f->list);
	free(f->union_fixed);
	free(f->union_pattern);
}

/* list_query - look key up in a table list, as a string */
static char *list_query(const char *value, const char *key, bool partial)
{
	struct buf err = BUF_INIT, v = BUF_INIT;
	struct table_list *l = table_list_open(value, 0, &err);
	char *out;

	assert_non_null(l);
	switch (table_list_lookup(l, key, partial, &v, NULL)) {
	case TABLE_FOUND:
		out = xstrdup(buf_cstr(&v));
		break;
	case TABLE_NOTFOUND:
		out = xstrdup("-");
		break;
	default:
		out = xstrdup("!ERR");
	}
	table_list_close(&l);
	buf_free(&err);
	buf_free(&v);
	return out;
}

struct lcase {
	const char *name;
	int which;	/* 0 list, 1 union (texthash first), 2 union (pcre first) */
	const char *key;
	bool partial;
	const char *want;
};

static const struct lcase lcases[] = {
	{ "list: alice's own entry shadows the pattern", 0, "alice@example.com", false,
	  "alice@example.com" },
	{ "list: bob only via pattern", 0, "bob@example.com", false, "admin@example.com" },
	{ "list: partial key skips pcre", 0, "@example.com", true, "-" },
	{ "union: both owners", 1, "alice@example.com", false, "alice@example.com,admin@example.com" },
	{ "union: bob", 1, "bob@example.com", false, "admin@example.com" },
	{ "union: fixed first gets partial keys, pcre too", 1, "@example.com", true,
	  "admin@example.com" },
	{ "union pcre first: order follows members", 2, "alice@example.com", false,
	  "admin@example.com,alice@example.com" },
	{ "union pcre first: no partial keys", 2, "@example.com", true, "-" },
	{ "union pcre first: no partial keys even for texthash", 2, "alice@example.com", true, "-" },
};

static void test_sender_login_postmortem(void **state)
{
	struct login_files f;

	(void)state;
	login_setup(&f);
	for (size_t i = 0; i < sizeof(lcases) / sizeof(lcases[0]); i++) {
		const struct lcase *c = &lcases[i];
		const char *spec = c->which == 0 ? f.list : c->which == 1 ? f.union_fixed
									   : f.union_pattern;
		char *got = list_query(spec, c->key, c->partial);

		if (strcmp(got, c->want) != 0)
			fail_msg("case '%s': got '%s' want '%s'", c->name, got, c->want);
		free(got);
	}
	login_teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_randmap_spread),
		cmocka_unit_test(test_sender_login_postmortem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
