/*
 * smtpd_parse_test - table-driven cases for the command parser: verbs,
 * MAIL/RCPT paths and parameters, with Postfix's reply texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup/cleanup.h"
#include "smtpd/smtpd_parse.h"

#define ALL (SMTPD_PARSE_DSN | SMTPD_PARSE_SMTPUTF8 | SMTPD_PARSE_8BITMIME | SMTPD_PARSE_AUTH)

struct mail_case {
	const char *name;
	const char *arg;
	unsigned allow;
	bool rcpt;
	const char *reply;	/* NULL = accepted */
	const char *addr;
	long size;
};

static const struct mail_case mail_cases[] = {
	{ "plain", "FROM:<a@b.example>", ALL, false, NULL, "a@b.example", -1 },
	{ "lower case keyword", "from:<a@b.example>", ALL, false, NULL, "a@b.example", -1 },
	{ "null sender", "FROM:<>", ALL, false, NULL, "", -1 },
	{ "size", "FROM:<a@b.example> SIZE=12345", ALL, false, NULL, "a@b.example", 12345 },
	{ "bad size", "FROM:<a@b.example> SIZE=12x", ALL, false, "501 5.5.4 Bad message size syntax", NULL, 0 },
	{ "no colon", "FROM <a@b.example>", ALL, false, "501 5.5.4 Syntax: MAIL FROM:<address>", NULL, 0 },
	{ "bad address", "FROM:<a@b.example", ALL, false, "501 5.1.7 Bad sender address syntax: missing closing '>'", NULL, 0 },
	{ "unknown option", "FROM:<a@b.example> FOO=bar", ALL, false, "555 5.5.4 Unsupported option: FOO=bar", NULL, 0 },
	{ "body 8bit", "FROM:<a@b.example> BODY=8BITMIME", ALL, false, NULL, "a@b.example", -1 },
	{ "body binary", "FROM:<a@b.example> BODY=BINARYMIME", ALL, false, "555 5.5.4 Unsupported option: BODY=BINARYMIME", NULL, 0 },
	{ "ret full", "FROM:<a@b.example> RET=FULL ENVID=abc+2Bdef", ALL, false, NULL, "a@b.example", -1 },
	{ "ret bad", "FROM:<a@b.example> RET=SOME", ALL, false, "501 5.5.4 Bad RET parameter syntax", NULL, 0 },
	{ "ret without dsn", "FROM:<a@b.example> RET=FULL", ALL & ~SMTPD_PARSE_DSN, false, "555 5.5.4 Unsupported option: RET=FULL", NULL, 0 },
	{ "envid bad xtext", "FROM:<a@b.example> ENVID=a+zz", ALL, false, "501 5.5.4 Bad ENVID parameter syntax", NULL, 0 },
	{ "utf8 strict without smtputf8", "FROM:<j\xc3\xb6rg@b.example>", ALL | SMTPD_PARSE_STRICT_UTF8, false, "553 5.6.7 Must declare SMTPUTF8 to send unicode address", NULL, 0 },
	{ "utf8 lenient without smtputf8", "FROM:<j\xc3\xb6rg@b.example>", ALL, false, NULL, "j\xc3\xb6rg@b.example", -1 },
	{ "utf8 with smtputf8", "FROM:<j\xc3\xb6rg@b.example> SMTPUTF8", ALL, false, NULL, "j\xc3\xb6rg@b.example", -1 },
	{ "two auth", "FROM:<a@b.example> AUTH=<> AUTH=<>", ALL, false, "503 5.5.4 Error: multiple AUTH= options", NULL, 0 },
	{ "strict bare", "FROM:a@b.example", ALL | SMTPD_PARSE_STRICT, false, "501 5.1.7 Bad sender address syntax: address must be enclosed in <>", NULL, 0 },
	{ "lenient bare", "FROM: a@b.example", ALL, false, NULL, "a@b.example", -1 },
	{ "rcpt plain", "TO:<u@d.example>", ALL, true, NULL, "u@d.example", -1 },
	{ "rcpt null", "TO:<>", ALL, true, "501 5.1.3 Bad recipient address syntax: empty address", NULL, 0 },
	{ "rcpt syntax", "TOO:<u@d.example>", ALL, true, "501 5.5.4 Syntax: RCPT TO:<address>", NULL, 0 },
	{ "rcpt notify", "TO:<u@d.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;u+40d.example", ALL, true, NULL, "u@d.example", -1 },
	{ "rcpt notify never mixed", "TO:<u@d.example> NOTIFY=NEVER,DELAY", ALL, true, "501 5.5.4 Error: Bad NOTIFY parameter syntax", NULL, 0 },
	{ "rcpt orcpt bad", "TO:<u@d.example> ORCPT=nosemicolon", ALL, true, "501 5.5.4 Error: Bad ORCPT parameter syntax", NULL, 0 },
	{ "rcpt size not allowed", "TO:<u@d.example> SIZE=1", ALL, true, "555 5.5.4 Unsupported option: SIZE=1", NULL, 0 },
	{ "rcpt source route", "TO:<@relay.example:u@d.example>", ALL, true, NULL, "u@d.example", -1 },
};

/* test_mail - MAIL and RCPT arguments */
static void test_mail(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(mail_cases) / sizeof(mail_cases[0]); i++) {
		const struct mail_case *c = &mail_cases[i];
		struct smtpd_mailparams m;
		struct buf reply = BUF_INIT;
		int r;

		print_message("case %s\n", c->name);
		smtpd_mailparams_init(&m);
		r = c->rcpt ? smtpd_parse_rcpt(c->arg, c->allow, &m, &reply)
			    : smtpd_parse_mail(c->arg, c->allow, &m, &reply);
		if (c->reply) {
			assert_int_equal(r, -1);
			assert_string_equal(buf_cstr(&reply), c->reply);
		} else {
			assert_int_equal(r, 0);
			assert_string_equal(buf_cstr(&m.path.addr), c->addr);
			assert_int_equal(m.size, c->size);
		}
		smtpd_mailparams_free(&m);
		buf_free(&reply);
	}
}

/* test_dsn_values - decoded DSN parameters */
static void test_dsn_values(void **state)
{
	struct smtpd_mailparams m;
	struct buf reply = BUF_INIT;

	(void)state;
	smtpd_mailparams_init(&m);
	assert_int_equal(smtpd_parse_mail("FROM:<a@b> RET=hdrs ENVID=x+2By", ALL, &m, &reply), 0);
	assert_string_equal(buf_cstr(&m.ret), "HDRS");
	assert_string_equal(buf_cstr(&m.envid), "x+y");
	smtpd_mailparams_free(&m);
	smtpd_mailparams_init(&m);
	assert_int_equal(smtpd_parse_rcpt("TO:<u@d> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;u+2Bx@d", ALL, &m, &reply), 0);
	assert_int_equal(m.notify, CLEANUP_NOTIFY_SUCCESS | CLEANUP_NOTIFY_DELAY);
	assert_string_equal(buf_cstr(&m.orcpt), "rfc822;u+x@d");
	smtpd_mailparams_free(&m);
	buf_free(&reply);
}

/* test_verbs - verb lookup and argument split */
static void test_verbs(void **state)
{
	static const struct {
		const char *line;
		enum smtpd_verb v;
		const char *arg;
	} cases[] = {
		{ "EHLO client.example", VERB_EHLO, "client.example" },
		{ "ehlo  x", VERB_EHLO, "x" },
		{ "MAIL FROM:<a@b>", VERB_MAIL, "FROM:<a@b>" },
		{ "QUIT", VERB_QUIT, "" },
		{ "STARTTLS", VERB_STARTTLS, "" },
		{ "GET / HTTP/1.0", VERB_HTTP, "/ HTTP/1.0" },
		{ "XYZZY", VERB_UNKNOWN, "" },
		{ "", VERB_UNKNOWN, "" },
		{ "MAILX FROM:<>", VERB_UNKNOWN, "FROM:<>" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smtpd_cmdline c;

		smtpd_parse_line(cases[i].line, &c);
		assert_int_equal(c.verb, cases[i].v);
		assert_string_equal(c.arg, cases[i].arg);
	}
}

/* test_base64 - round trips and rejects */
static void test_base64(void **state)
{
	struct buf b = BUF_INIT, d = BUF_INIT;

	(void)state;
	smtpd_base64_encode("\0user\0pass", 10, &b);
	assert_string_equal(buf_cstr(&b), "AHVzZXIAcGFzcw==");
	assert_int_equal(smtpd_base64_decode(b.data, b.len, &d), 0);
	assert_int_equal(d.len, 10);
	assert_memory_equal(d.data, "\0user\0pass", 10);
	assert_int_equal(smtpd_base64_decode("abc", 3, &d), -1);
	assert_int_equal(smtpd_base64_decode("ab=c", 4, &d), -1);
	assert_int_equal(smtpd_base64_decode("a*bc", 4, &d), -1);
	assert_int_equal(smtpd_base64_decode("", 0, &d), 0);
	buf_free(&b);
	buf_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mail),
		cmocka_unit_test(test_dsn_values),
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_base64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
