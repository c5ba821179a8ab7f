/*
 * table_cidr_test - cidr: tables against answers recorded from postmap
 * 3.7 -q on the same files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "table/table_test_util.h"

static const char c1[] = "192.168.1.0/24 net24\n"
			 "10.0.0.1 host\n"
			 "10.1.2.3/16 misaligned\n"
			 "!172.16.0.0/12 notpriv\n"
			 "2001:db8::/32 v6net\n"
			 "2001:DB8:1::1 v6host\n"
			 "0.0.0.0/0 all4\n";

static const char c2[] = "[2001:db8::]/32 br\n"
			 "if 10.0.0.0/8\n"
			 "10.1.0.0/16 ten-one\n"
			 "endif\n"
			 "10.0.0.0/8 ten\n"
			 "1.2.3.4/33 bad\n"
			 "1.2.3 short\n"
			 "foo bar\n"
			 "1.2.3.0/24\n"
			 "::ffff:1.2.3.4 mapped\n"
			 "1.2.3.0/24 a  b \n";

static const char c4[] = "[2001:db8::/32] a\n[1.2.3.4] b\n[1.2.3.0]/24 c\n";

static const char c5[] = "!!10.0.0.0/8 dbl\n! 10.0.0.0/8 sp\n";

static const char c3[] = "if !10.0.0.0/8\n::/0 inside\nendif\n::/0 outside\n";

struct ccase {
	const char *name;
	const char *text;
	const char *key;
	const char *want;
};

static const struct ccase ccases[] = {
	{ "net24", c1, "192.168.1.77", "net24" },
	{ "host", c1, "10.0.0.1", "host" },
	{ "misaligned skipped", c1, "10.1.0.1", "notpriv" },
	{ "misaligned exact", c1, "10.1.2.3", "notpriv" },
	{ "negated inside", c1, "172.16.5.5", "all4" },
	{ "negated outside", c1, "8.8.8.8", "notpriv" },
	{ "v6 net", c1, "2001:db8::5", "v6net" },
	{ "v6 first match", c1, "2001:db8:1::1", "v6net" },
	{ "v6 long form", c1, "2001:0db8:0001::1", "v6net" },
	{ "v6 no match, v4 negation ignored", c1, "::1", "-" },
	{ "not an address", c1, "foo", "-" },
	{ "v6 with v4 tail", c1, "2001:db8::1.2.3.4", "v6net" },
	{ "brackets in key", c1, "[1.2.3.4]", "-" },
	{ "bracketed network", c2, "2001:db8::1", "br" },
	{ "inside if", c2, "10.1.0.5", "ten-one" },
	{ "after if", c2, "10.2.0.5", "ten" },
	{ "bad lines skipped", c2, "1.2.3.4", "a  b" },
	{ "mapped v6", c2, "::ffff:1.2.3.4", "mapped" },
	{ "v4 is not mapped v6", c2, "1.2.3.5", "a  b" },
	{ "if with other family fails", c3, "::1", "outside" },
	{ "bracketed net/len", c4, "2001:db8::1", "a" },
	{ "double negation", c5, "10.1.1.1", "dbl" },
	{ "negation with space", c5, "11.1.1.1", "sp" },
	{ "bracketed address", c4, "1.2.3.4", "b" },
	{ "bracketed address/len", c4, "1.2.3.5", "c" },
};

static void test_cases(void **state)
{
	(void)state;
	tt_capture();
	for (size_t i = 0; i < sizeof(ccases) / sizeof(ccases[0]); i++) {
		const struct ccase *c = &ccases[i];
		char *path = tt_write(c->text), *spec = tt_spec("cidr", path);
		char *got = tt_query(spec, 0, c->key);

		if (strcmp(got, c->want) != 0)
			fail_msg("case '%s': %s: got '%s' want '%s'", c->name, c->key, got, c->want);
		free(got);
		unlink(path);
		free(path);
		free(spec);
	}
	log_set_hook(NULL, NULL);
}

struct wcase {
	const char *text;
	const char *warning;	/* after "cidr map FILE, line 1: " */
};

static const struct wcase wcases[] = {
	{ "10.1.2.3/16 x\n", "non-null host address bits in \"10.1.2.3/16\", perhaps you should "
			     "use \"10.1.0.0/16\" instead: skipping this rule" },
	{ "2001:db8::1/32 x\n", "non-null host address bits in \"2001:db8::1/32\", perhaps you "
				"should use \"2001:db8::/32\" instead: skipping this rule" },
	{ "1.2.3.4/33 x\n", "bad mask length in \"1.2.3.4/33\": skipping this rule" },
	{ "1.2.3.4/ x\n", "bad mask value in \"1.2.3.4/\": skipping this rule" },
	{ "1.2.3 x\n", "bad address pattern: \"1.2.3\": skipping this rule" },
	{ "1.2.3.0/24\n", "no lookup result: skipping this rule" },
	{ "endif\n", "ignoring ENDIF without matching IF" },
	{ "if 1.2.3.0/24\n", "IF has no matching ENDIF" },
};

static void test_warnings(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(wcases) / sizeof(wcases[0]); i++) {
		char *path = tt_write(wcases[i].text), *spec = tt_spec("cidr", path), *got;
		struct buf want = BUF_INIT;

		buf_printf(&want, "cidr map %s, line 1: %s\n", path, wcases[i].warning);
		tt_capture();
		got = tt_query(spec, 0, "1.2.3.4");
		free(got);
		if (strcmp(buf_cstr(&tt_warnings), buf_cstr(&want)) != 0)
			fail_msg("got '%s' want '%s'", buf_cstr(&tt_warnings), buf_cstr(&want));
		got = tt_query(spec, TABLE_F_STRICT, "1.2.3.4");
		buf_truncate(&want, want.len - 1);
		if (strncmp(got, "!OPEN:", 6) != 0 || strcmp(got + 6, buf_cstr(&want)) != 0)
			fail_msg("strict: got '%s' want '!OPEN:%s'", got, buf_cstr(&want));
		free(got);
		unlink(path);
		free(path);
		free(spec);
		buf_free(&want);
	}
	log_set_hook(NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_warnings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
