/*
 * smtp_util_test - the SMTP client's small pure pieces: xtext, enhanced
 * status codes from replies, dot-stuffing, base64, mechanism choice under
 * the security options, and address ordering by family preference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "deliver/smtp.h"

/* test_xtext - RFC 3461 encoding */
static void test_xtext(void **state)
{
	static const struct { const char *name, *in, *out; } cases[] = {
		{ "plain", "user@example.org", "user@example.org" },
		{ "plus and equals", "a+b=c", "a+2Bb+3Dc" },
		{ "space and controls", "a b\t", "a+20b+09" },
		{ "8-bit", "\xc3\xa9", "+C3+A9" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf out = BUF_INIT;
		smtp_xtext(cases[i].in, &out);
		if (strcmp(buf_cstr(&out), cases[i].out) != 0)
			fail_msg("%s: got \"%s\"", cases[i].name, buf_cstr(&out));
		buf_free(&out);
	}
}

/* test_reply_dsn - the server's own code when it matches the reply class */
static void test_reply_dsn(void **state)
{
	static const struct { const char *name; int code; const char *reply, *dsn; } cases[] = {
		{ "enhanced 2xx", 250, "250 2.0.0 Ok: queued as X", "2.0.0" },
		{ "enhanced 5xx", 550, "550 5.1.1 <u@x>: Recipient address rejected", "5.1.1" },
		{ "no enhanced code", 451, "451 try later", "4.0.0" },
		{ "class mismatch is ignored", 550, "550 4.1.1 odd", "5.0.0" },
		{ "three-digit detail", 554, "554 5.7.123 policy", "5.7.123" },
		{ "code glued to text", 250, "250 2.0.0x", "2.0.0" },
		{ "short reply", 421, "421", "4.0.0" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char dsn[16];
		smtp_reply_dsn(cases[i].code, cases[i].reply, dsn);
		if (strcmp(dsn, cases[i].dsn) != 0)
			fail_msg("%s: got %s", cases[i].name, dsn);
	}
}

/* test_stuff - CRLF, leading dots doubled, final dot, no doubled CR */
static void test_stuff(void **state)
{
	static const struct { const char *name, *in, *out; } cases[] = {
		{ "empty", "", ".\r\n" },
		{ "lines", "a\nb\n", "a\r\nb\r\n.\r\n" },
		{ "leading dots", ".x\n..y\n", "..x\r\n...y\r\n.\r\n" },
		{ "lone dot line", "a\n.\nb\n", "a\r\n..\r\nb\r\n.\r\n" },
		{ "no final newline", "a\nb", "a\r\nb\r\n.\r\n" },
		{ "already CRLF", "a\r\nb\r\n", "a\r\nb\r\n.\r\n" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf in = BUF_INIT, out = BUF_INIT;
		buf_set(&in, cases[i].in);
		smtp_stuff(&in, &out);
		if (strcmp(buf_cstr(&out), cases[i].out) != 0)
			fail_msg("%s: got \"%s\"", cases[i].name, buf_cstr(&out));
		buf_free(&in);
		buf_free(&out);
	}
}

/* test_base64 - PLAIN's initial response */
static void test_base64(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	smtp_base64("\0user\0pass", 10, &out);
	assert_string_equal(buf_cstr(&out), "AHVzZXIAcGFzcw==");
	buf_free(&out);
}

/* test_sasl_choose - Postfix's noplaintext default leaves no mechanism */
static void test_sasl_choose(void **state)
{
	struct smtp_settings s = { .sasl_mech_filter = "", .sasl_opts = "noplaintext, noanonymous",
				   .sasl_tls_opts = "noanonymous" };
	struct buf why = BUF_INIT;

	(void)state;
	assert_null(smtp_sasl_choose(&s, "PLAIN LOGIN", false, &why));
	assert_non_null(strstr(buf_cstr(&why), "no mechanism available"));
	assert_string_equal(smtp_sasl_choose(&s, "LOGIN PLAIN", true, &why), "PLAIN");
	assert_string_equal(smtp_sasl_choose(&s, "LOGIN PLAIN CRAM-MD5", false, &why), "CRAM-MD5");
	s.sasl_opts = "nodictionary, noplaintext";
	assert_null(smtp_sasl_choose(&s, "CRAM-MD5 PLAIN", false, &why));
	s.sasl_mech_filter = "login";
	assert_string_equal(smtp_sasl_choose(&s, "PLAIN LOGIN", true, &why), "LOGIN");
	assert_null(smtp_sasl_choose(&s, "CRAM-MD5", true, &why));
	buf_free(&why);
}

/* test_cram_md5 - RFC 2195's example exchange */
static void test_cram_md5(void **state)
{
	struct buf user = BUF_INIT, pass = BUF_INIT, out = BUF_INIT;

	(void)state;
	buf_set(&user, "tim");
	buf_set(&pass, "tanstaaftanstaaf");
	assert_int_equal(smtp_cram_md5("PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
				       &user, &pass, &out), 0);
	assert_string_equal(buf_cstr(&out), "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
	buf_reset(&out);
	assert_int_equal(smtp_cram_md5("not base64!", &user, &pass, &out), -1);
	buf_free(&user);
	buf_free(&pass);
	buf_free(&out);
}

/* host4/host6 - test addresses */
static struct smtp_host host(int family, int n)
{
	struct smtp_host h = { 0 };

	h.sa.ss_family = (sa_family_t)family;
	h.pref = n;
	return h;
}

/* test_hosts_order - preferred family first, every address kept */
static void test_hosts_order(void **state)
{
	struct smtp_host v[5] = { host(AF_INET, 1), host(AF_INET6, 2), host(AF_INET, 3),
				  host(AF_INET6, 4), host(AF_INET, 5) };
	int seen = 0;

	(void)state;
	smtp_hosts_order(v, 5, AF_INET6);
	assert_int_equal(v[0].sa.ss_family, AF_INET6);
	assert_int_equal(v[1].sa.ss_family, AF_INET6);
	for (int i = 2; i < 5; i++)
		assert_int_equal(v[i].sa.ss_family, AF_INET);
	for (int i = 0; i < 5; i++)
		seen |= 1 << v[i].pref;
	assert_int_equal(seen, 0x3e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xtext),
		cmocka_unit_test(test_reply_dsn),
		cmocka_unit_test(test_stuff),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_sasl_choose),
		cmocka_unit_test(test_cram_md5),
		cmocka_unit_test(test_hosts_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
