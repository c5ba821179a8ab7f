/*
 * addr_test - table-driven cases for the RFC 5321 path parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mail/addr.h"

struct path_case {
	const char *name;
	const char *in;
	unsigned pflags;
	int ret;
	const char *addr;	/* expected internal form, or the error on failure */
	unsigned flags;		/* flags that must be set */
	const char *rest;
	const char *route;
};

static const struct path_case path_cases[] = {
	{ "plain", "<user@example.com>", 0, 0, "user@example.com", ADDR_F_BRACKETS, "", "" },
	{ "null", "<>", 0, 0, "", ADDR_F_NULL, "", "" },
	{ "null with params", "<> SIZE=10", 0, 0, "", ADDR_F_NULL, " SIZE=10", "" },
	{ "space before", " <a@b.c>", 0, 0, "a@b.c", 0, "", "" },
	{ "space before strict", " <a@b.c>", ADDR_P_STRICT, -1, "address must be enclosed in <>", 0, NULL, NULL },
	{ "bare", "a@b.c BODY=8BITMIME", 0, 0, "a@b.c", 0, " BODY=8BITMIME", "" },
	{ "bare strict", "a@b.c", ADDR_P_STRICT, -1, "address must be enclosed in <>", 0, NULL, NULL },
	{ "quoted", "<\"john doe\"@example.com>", 0, 0, "john doe@example.com", ADDR_F_QUOTED, "", "" },
	{ "quoted escapes", "<\"a\\\"b\"@x.org>", 0, 0, "a\"b@x.org", ADDR_F_QUOTED, "", "" },
	{ "quoted at", "<\"u@evil\"@example.com>", 0, 0, "u@evil@example.com", ADDR_F_QUOTED | ADDR_F_MULTI_AT, "", "" },
	{ "quoted gt", "<\"a>b\"@x.org>", 0, 0, "a>b@x.org", ADDR_F_QUOTED, "", "" },
	{ "route", "<@a.example,@b.example:user@d.example>", 0, 0, "user@d.example", ADDR_F_ROUTE, "", "@a.example,@b.example" },
	{ "route one", "<@a.example:u@d.example> NOTIFY=NEVER", 0, 0, "u@d.example", ADDR_F_ROUTE, " NOTIFY=NEVER", "@a.example" },
	{ "route no mailbox", "<@a.example:>", 0, -1, "source route without mailbox", 0, NULL, NULL },
	{ "route bad", "<@a.example;u@d>", 0, -1, "bad domain in source route", 0, NULL, NULL },
	{ "percent hack", "<user%other.example@example.com>", 0, 0, "user%other.example@example.com", ADDR_F_PERCENT, "", "" },
	{ "bang path", "<other.example!user@example.com>", 0, 0, "other.example!user@example.com", ADDR_F_BANG, "", "" },
	{ "double at", "<user@other.example@example.com>", 0, 0, "user@other.example@example.com", ADDR_F_MULTI_AT, "", "" },
	{ "no domain", "<postmaster>", 0, 0, "postmaster", ADDR_F_NODOMAIN, "", "" },
	{ "literal v4", "<u@[192.0.2.1]>", 0, 0, "u@[192.0.2.1]", ADDR_F_LITERAL, "", "" },
	{ "literal v6", "<u@[IPv6:2001:db8::1]>", 0, 0, "u@[IPv6:2001:db8::1]", ADDR_F_LITERAL, "", "" },
	{ "literal bad", "<u@[999.1.1.1]>", 0, -1, "bad domain syntax", 0, NULL, NULL },
	{ "trailing dot", "<u@example.com.>", 0, 0, "u@example.com", 0, "", "" },
	{ "utf8", "<j\xc3\xb6rg@b\xc3\xbc" "cher.de>", 0, 0, "j\xc3\xb6rg@b\xc3\xbc" "cher.de", ADDR_F_8BIT, "", "" },
	{ "bad utf8", "<j\xc3rg@x.de>", 0, -1, "malformed UTF-8 in address", 0, NULL, NULL },
	{ "missing gt", "<user@example.com", 0, -1, "missing closing '>'", 0, NULL, NULL },
	{ "text after gt", "<a@b.c>x", 0, -1, "text after closing '>'", 0, NULL, NULL },
	{ "empty bare", "", 0, -1, "empty address", 0, NULL, NULL },
	{ "empty local", "<@example.com>", 0, -1, "bad source route", 0, NULL, NULL },
	{ "empty domain", "<user@>", 0, -1, "empty domain", 0, NULL, NULL },
	{ "space in local", "<a b@c.d>", 0, -1, "bad character in local part", 0, NULL, NULL },
	{ "bad domain", "<a@exa mple.com>", 0, -1, "bad domain syntax", 0, NULL, NULL },
	{ "double dot domain", "<a@example..com>", 0, -1, "bad domain syntax", 0, NULL, NULL },
	{ "control", "<a\x01@b.c>", 0, -1, "control character in address", 0, NULL, NULL },
	{ "unterminated quote", "<\"abc@d.e>", 0, -1, "missing closing '>'", 0, NULL, NULL },
	{ "text after quote", "<\"a\"b@c.d>", 0, -1, "text after quoted local part", 0, NULL, NULL },
	{ "quoted at no domain", "<\"a@b\">", 0, -1, "'@' in local part without domain", 0, NULL, NULL },
	{ "two trailing dots", "<u@example.com..>", 0, -1, "bad domain syntax", 0, NULL, NULL },
	{ "comma in local", "<a,b@c.d>", 0, -1, "bad character in local part", 0, NULL, NULL },
};

/* test_path - every parse case */
static void test_path(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		const struct path_case *c = &path_cases[i];
		struct addr_path p;
		const char *rest = NULL, *err = NULL;
		int r;

		addr_path_init(&p);
		r = addr_parse_path(c->in, c->pflags, &p, &rest, &err);
		print_message("case %s\n", c->name);
		assert_int_equal(r, c->ret);
		if (r == 0) {
			assert_string_equal(buf_cstr(&p.addr), c->addr);
			assert_true((p.flags & c->flags) == c->flags);
			assert_string_equal(rest, c->rest);
			assert_string_equal(buf_cstr(&p.route), c->route);
		} else {
			assert_string_equal(err, c->addr);
		}
		addr_path_free(&p);
	}
}

/* test_external - quotes come back where needed */
static void test_external(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "user@example.com", "user@example.com" },
		{ "john doe@example.com", "\"john doe\"@example.com" },
		{ "a\"b@x.org", "\"a\\\"b\"@x.org" },
		{ "u@evil@example.com", "\"u@evil\"@example.com" },
		{ "", "" },
		{ "postmaster", "postmaster" },
	};
	struct buf b = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		addr_external(cases[i].in, &b);
		assert_string_equal(buf_cstr(&b), cases[i].out);
	}
	buf_free(&b);
}

/* test_list - RFC 5322 list splitting */
static void test_list(void **state)
{
	struct strv sv = STRV_INIT;
	const char *err = NULL;

	(void)state;
	assert_int_equal(addr_list_split("a@b, \"x, y\" <c@d>, (hi, there) e@f,,", &sv, &err), 0);
	assert_int_equal(sv.n, 3);
	assert_string_equal(sv.v[0], "a@b");
	assert_string_equal(sv.v[1], "\"x, y\" <c@d>");
	assert_string_equal(sv.v[2], "(hi, there) e@f");
	strv_free(&sv);
	assert_int_equal(addr_list_split("\"unterminated, x", &sv, &err), -1);
	assert_string_equal(err, "unbalanced quote");
	strv_free(&sv);
}

/* test_utf8 - decoder edge cases */
static void test_utf8(void **state)
{
	(void)state;
	assert_true(addr_utf8_valid("abc", 3));
	assert_true(addr_utf8_valid("\xe2\x82\xac", 3));
	assert_false(addr_utf8_valid("\xe2\x82", 2));
	assert_false(addr_utf8_valid("\xc0\xaf", 2));		/* overlong */
	assert_false(addr_utf8_valid("\xed\xa0\x80", 3));	/* surrogate */
	assert_true(addr_utf8_valid("\xf0\x9f\x98\x80", 4));
	assert_false(addr_utf8_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_external),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
