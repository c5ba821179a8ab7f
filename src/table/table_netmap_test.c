/*
 * table_netmap_test - what tcp: and socketmap: make of the bytes a server
 * sends (no network here: the e2e tests talk to real servers), how tcp:
 * encodes keys, and which names open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "table/table_netmap.h"
#include "table/table_test_util.h"

struct reply_case {
	const char *name;
	const char *reply;
	const char *want;	/* value, "-" not found, "!why" temporary failure */
};

static const struct reply_case socketmap_cases[] = {
	{ "found", "OK alice@mail", "alice@mail" },
	{ "found with spaces", "OK a b  c", "a b  c" },
	{ "found empty (table.c rejects it)", "OK ", "" },
	{ "OK without a space finds nothing", "OK", "-" },
	{ "not found", "NOTFOUND ", "-" },
	{ "not found, bare", "NOTFOUND", "-" },
	{ "temporary", "TEMP busy", "!socketmap server temporary error: busy" },
	{ "timeout", "TIMEOUT slow", "!socketmap server timeout error: slow" },
	{ "permanent is a lookup error too", "PERM gone", "!socketmap server permanent error: gone" },
	{ "unknown status", "MAYBE so", "!socketmap server unknown error: MAYBE so" },
	{ "lower-case status is unknown", "ok x", "!socketmap server unknown error: ok x" },
	{ "empty reply", "", "!socketmap server unknown error: " },
};

static const struct reply_case tcp_cases[] = {
	{ "found", "200 alice@mail", "alice@mail" },
	{ "decoded", "200 a%20b%2cc%41%25", "a b,cA%" },
	{ "empty (table.c rejects it)", "200 ", "" },
	{ "not found", "500 no such key", "-" },
	{ "temporary", "400 try later", "!server error: try later" },
	{ "other status", "300 what", "!bad status code: 300 what" },
	{ "no space", "200", "!malformed reply: 200" },
	{ "no space before text", "200x", "!malformed reply: 200x" },
	{ "short %XX", "200 ab%4", "!malformed reply: 200 ab%4" },
	{ "bad %XX", "200 a%zz", "!malformed reply: 200 a%zz" },
	{ "lone percent", "200 100%", "!malformed reply: 200 100%" },
	{ "not a number", "2x0 a", "!malformed reply: 2x0 a" },
};

/* outcome - the case's notation for a parse result */
static void outcome(enum table_status st, const struct buf *v, const struct buf *why,
		    struct buf *out)
{
	if (st == TABLE_FOUND)
		buf_append(out, v->data, v->len);
	else if (st == TABLE_NOTFOUND)
		buf_puts(out, "-");
	else
		buf_printf(out, "!%s", buf_cstr(why));
}

/* run_cases - each reply through parse, compared with want */
static void run_cases(const struct reply_case *cases, size_t n, bool tcp)
{
	for (size_t i = 0; i < n; i++) {
		struct buf v = BUF_INIT, why = BUF_INIT, got = BUF_INIT;
		size_t len = strlen(cases[i].reply);
		enum table_status st = tcp ? tcp_parse_reply(cases[i].reply, len, &v, &why)
					   : socketmap_parse_reply(cases[i].reply, len, &v, &why);

		outcome(st, &v, &why, &got);
		if (strcmp(buf_cstr(&got), cases[i].want) != 0)
			fail_msg("case '%s': got '%s' want '%s'", cases[i].name, buf_cstr(&got),
				 cases[i].want);
		buf_free(&v);
		buf_free(&why);
		buf_free(&got);
	}
}

static void test_socketmap_replies(void **state)
{
	(void)state;
	run_cases(socketmap_cases, sizeof(socketmap_cases) / sizeof(socketmap_cases[0]), false);
}

static void test_tcp_replies(void **state)
{
	(void)state;
	run_cases(tcp_cases, sizeof(tcp_cases) / sizeof(tcp_cases[0]), true);
}

static void test_tcp_encode(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	tcp_encode("a b%c\td,e@f\x7f\xc3\xbc~", &out);
	assert_string_equal(buf_cstr(&out), "a%20b%25c%09d,e@f%7F%C3%BC~");
	buf_free(&out);
}

static void test_open(void **state)
{
	static const struct {
		const char *spec;
		const char *want;	/* "" opens, else a substring of the error */
	} cases[] = {
		{ "socketmap:inet:127.0.0.1:9:map", "" },
		{ "socketmap:inet:[::1]:9:map", "" },
		{ "socketmap:unix:/run/sm.sock:map", "" },
		{ "socketmap:inet:127.0.0.1:9", "socketmap:inet:127.0.0.1:9: bad endpoint" },
		{ "socketmap:inet:map", "expected socketmap:inet:host:port:name" },
		{ "socketmap:unix:/path", "expected socketmap:inet" },
		{ "socketmap:127.0.0.1:9:map", "expected socketmap:inet" },
		{ "socketmap:inet:hostonly:map", "expected host:port" },
		{ "socketmap:unix::map", "empty or overlong socket path" },
		{ "tcp:127.0.0.1:9", "" },
		{ "tcp:inet:localhost:smtp", "" },
		{ "tcp:[::1]:9", "" },
		{ "tcp:hostonly", "tcp:hostonly: bad endpoint" },
		{ "tcp:[::1]9", "bad endpoint" },
		{ "tcp:host:", "bad endpoint" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf err = BUF_INIT;
		struct table *t = table_open(cases[i].spec, 0, &err);

		if (cases[i].want[0] == '\0' ? t == NULL : strstr(buf_cstr(&err), cases[i].want) == NULL)
			fail_msg("%s: got '%s' want '%s'", cases[i].spec, buf_cstr(&err), cases[i].want);
		if (t) {
			assert_int_equal(table_props(t), TABLE_P_PATTERN);
			table_close(&t);
		}
		buf_free(&err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socketmap_replies),
		cmocka_unit_test(test_tcp_replies),
		cmocka_unit_test(test_tcp_encode),
		cmocka_unit_test(test_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
