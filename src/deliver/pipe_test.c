/*
 * pipe_test - pipe(8) command attributes (pipe_conf.c), the user= checks,
 * and argv= macro expansion (pipe_expand.c), as named table cases. The
 * expected argv values follow what Postfix 3.7's pipe(8) gave a command
 * (tests/fixtures/pipe/cases.json); the agent itself is tested end to end
 * in tests/e2e/test_deliver_pipe.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deliver/pipe.h"
#include "lib/buf.h"
#include "lib/str.h"

/* parse - a master.cf tail split as master_cf does */
static int parse(const char *line, struct pipe_conf *pc, struct buf *err)
{
	struct strv w = STRV_INIT;
	const char *e;
	int rc;

	assert_int_equal(str_split(line, STR_SPACE, &w, &e), 0);
	rc = pipe_conf_parse(w.v, w.n, pc, err);
	strv_free(&w);
	return rc;
}

static const struct attr_case {
	const char *name, *line;
	const char *err;	/* NULL: parses */
	unsigned flags;
	const char *user, *group, *argv, *eol, *null_sender, *dir;
	long long size;
} attr_cases[] = {
	{ "dovecot", "flags=DRhu user=vmail:mail argv=/usr/lib/dovecot/dovecot-lda -f ${sender} -d ${recipient}",
	  NULL, PIPE_F_DELIVERED | PIPE_F_RETURN | PIPE_F_FOLD_HOST | PIPE_F_FOLD_USER, "vmail",
	  "mail", "/usr/lib/dovecot/dovecot-lda|-f|${sender}|-d|${recipient}", "\n",
	  "MAILER-DAEMON", NULL, 0 },
	{ "all flags and attributes",
	  "flags=BDFORXhqu.> size=1000 directory=/tmp eol=\\r\\n null_sender= user=nobody argv=/bin/cat",
	  NULL, 0x7ff, "nobody", NULL, "/bin/cat", "\r\n", "", "/tmp", 1000 },
	{ "braced argument", "user=nobody argv=/bin/sh -c { exec cat > /dev/null }", NULL, 0,
	  "nobody", NULL, "/bin/sh|-c|exec cat > /dev/null", "\n", "MAILER-DAEMON", NULL, 0 },
	{ "argv takes the rest, even name=value", "user=nobody argv=/bin/x user=root flags=Z",
	  NULL, 0, "nobody", NULL, "/bin/x|user=root|flags=Z", "\n", "MAILER-DAEMON", NULL, 0 },
	{ "octal eol", "eol=\\015\\012 user=nobody argv=/bin/x", NULL, 0, "nobody", NULL,
	  "/bin/x", "\r\n", "MAILER-DAEMON", NULL, 0 },
	{ .name = "no argv", .line = "flags=R user=nobody", .err = "missing argv= attribute" },
	{ .name = "empty argv", .line = "user=nobody argv=", .err = "missing argv= attribute" },
	{ .name = "no user", .line = "argv=/bin/cat", .err = "missing user= attribute" },
	{ .name = "empty group", .line = "user=nobody: argv=/bin/cat", .err = "expected user=NAME or user=NAME:GROUP" },
	{ .name = "unknown flag", .line = "flags=Rz user=nobody argv=/bin/cat", .err = "unknown flag 'z'" },
	{ .name = "unknown attribute", .line = "usr=nobody argv=/bin/cat",
	  .err = "unknown attribute \"usr=\"" },
	{ .name = "not name=value", .line = "nobody argv=/bin/cat", .err = "expected name=value" },
	{ .name = "bad size", .line = "size=10k user=nobody argv=/bin/cat", .err = "expected a positive number" },
	{ .name = "bad eol escape", .line = "eol=\\q user=nobody argv=/bin/cat", .err = "bad escape" },
	{ .name = "chroot", .line = "chroot=/var/spool user=nobody argv=/bin/cat", .err = "chroot= is not supported" },
};

/* test_attributes - every attr_cases entry */
static void test_attributes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(attr_cases) / sizeof(attr_cases[0]); i++) {
		const struct attr_case *c = &attr_cases[i];
		struct pipe_conf pc;
		struct buf err = BUF_INIT;
		char *argv;
		int rc = parse(c->line, &pc, &err);

		print_message("case: %s\n", c->name);
		if (c->err) {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(buf_cstr(&err), c->err));
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(pc.flags, c->flags);
			assert_string_equal(pc.user, c->user);
			if (c->group)
				assert_string_equal(pc.group, c->group);
			else
				assert_null(pc.group);
			argv = strv_join(&pc.argv, "|");
			assert_string_equal(argv, c->argv);
			free(argv);
			assert_string_equal(buf_cstr(&pc.eol), c->eol);
			assert_string_equal(pc.null_sender, c->null_sender);
			if (c->dir)
				assert_string_equal(pc.directory, c->dir);
			else
				assert_null(pc.directory);
			assert_int_equal(pc.size_limit, c->size);
		}
		pipe_conf_free(&pc);
		buf_free(&err);
	}
}

/* test_identity - user= refusals: root, the mail_owner, unknown names */
static void test_identity(void **state)
{
	static const struct {
		const char *line, *owner, *err;
	} cases[] = {
		{ "user=nobody argv=/x", "postfix", NULL },
		{ "user=root argv=/x", "postfix", "root privileges" },
		{ "user=nobody:root argv=/x", "postfix", "root privileges" },
		{ "user=nobody argv=/x", "nobody", "mail system owner (mail_owner = nobody)" },
		{ "user=no-such-user-xyz argv=/x", "postfix", "no such user" },
		{ "user=nobody:no-such-group-xyz argv=/x", "postfix", "no such group" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pipe_conf pc;
		struct buf err = BUF_INIT;
		uid_t uid;
		gid_t gid;
		int rc;

		assert_int_equal(parse(cases[i].line, &pc, &err), 0);
		rc = pipe_conf_identity(&pc, cases[i].owner, &uid, &gid, &err);
		print_message("case: %s (mail_owner %s)\n", cases[i].line, cases[i].owner);
		if (cases[i].err) {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(buf_cstr(&err), cases[i].err));
		} else {
			assert_int_equal(rc, 0);
			assert_int_not_equal(uid, 0);
		}
		pipe_conf_free(&pc);
		buf_free(&err);
	}
}

static const char *const two_rcpt[] = { "Two@pipe.test", "User+Ext@Pipe.TEST" };
static const char *const one_rcpt[] = { "Mixed.Case+Tag@Pipe.test" };
static const char *const quoted_rcpt[] = { "Plain@Pipe.Test", "odd user@pipe.test" };
static const char *const orig_rcpt[] = { "Alias@Example.ORG" };

static const struct expand_case {
	const char *name;
	unsigned flags;
	const char *sender;
	const char *const *rcpt, *const *orig;
	size_t nrcpt;
	const char *argv;	/* words separated by '|' */
	const char *want;	/* '|'-joined, or an error's text */
	bool fails;
} expand_cases[] = {
	{ "per recipient words multiply (Postfix: multi_hu)", PIPE_F_FOLD_HOST | PIPE_F_FOLD_USER,
	  "Sender@Example.ORG", two_rcpt, NULL, 2, "-f|${sender}|-d|${recipient}",
	  "-f|Sender@Example.ORG|-d|two@pipe.test|user+ext@pipe.test" , false },
	{ "parts of the address (Postfix: macros)", 0, "Sender@Example.ORG", one_rcpt, NULL, 1,
	  "${user}|${extension}|${domain}|${mailbox}|${nexthop}|${original_recipient}|$$x|"
	  "pre-${user}-post|$user|$(domain)",
	  "Mixed.Case|Tag|Pipe.test|Mixed.Case+Tag|NextHop.Example|Mixed.Case+Tag@Pipe.test|$x|"
	  "pre-Mixed.Case-post|Mixed.Case|Pipe.test" , false },
	{ "h folds domain and nexthop, u local parts", PIPE_F_FOLD_HOST | PIPE_F_FOLD_USER,
	  "S@X", one_rcpt, NULL, 1, "${domain}|${nexthop}|${user}|${extension}|${recipient}",
	  "pipe.test|nexthop.example|mixed.case|tag|mixed.case+tag@pipe.test" , false },
	{ "q quotes local parts that need it (Postfix: null_sender_q)",
	  PIPE_F_QUOTE | PIPE_F_FOLD_HOST | PIPE_F_FOLD_USER, "", quoted_rcpt, NULL, 2,
	  "${sender}|${recipient}|${original_recipient}",
	  "|plain@pipe.test|\"odd user\"@pipe.test|plain@pipe.test|\"odd user\"@pipe.test", false },
	{ "q leaves the user part alone", PIPE_F_QUOTE, "a b@x", quoted_rcpt + 1, NULL, 1,
	  "${sender}|${user}|${mailbox}", "\"a b\"@x|odd user|odd user", false },
	{ "original recipient", 0, "s@x", one_rcpt, orig_rcpt, 1, "${original_recipient}",
	  "Alias@Example.ORG" , false },
	{ "no extension is an empty word", 0, "s@x", two_rcpt, NULL, 1, "E=${extension}|${extension}",
	  "E=|" , false },
	{ "domain is per recipient", 0, "s@x", two_rcpt, NULL, 2, "d=${domain}",
	  "d=pipe.test|d=Pipe.TEST" , false },
	{ "message facts", 0, "s@x", one_rcpt, NULL, 1,
	  "${queue_id}|${size}|${client_address}|${client_hostname}|${client_port}|${client_helo}|"
	  "${client_protocol}|${sasl_method}|${sasl_username}|${sasl_sender}",
	  "QID|345|127.0.0.1|unknown|40000|client.helo.test|ESMTP|PLAIN|alice|" , false },
	{ "unknown macro", 0, "s@x", one_rcpt, NULL, 1, "${foo}", "unknown macro name \"foo\"",
	  true },
	{ "bare name that is not a macro", 0, "s@x", one_rcpt, NULL, 1, "$recipient_x",
	  "unknown macro name \"recipient_x\"", true },
	{ "Postfix 3.7 has no ${name?text}", 0, "s@x", one_rcpt, NULL, 1, "${sender?x}",
	  "bad macro syntax", true },
	{ "lone dollar", 0, "s@x", one_rcpt, NULL, 1, "cost$", "bad macro syntax", true },
	{ "unclosed brace", 0, "s@x", one_rcpt, NULL, 1, "${sender", "bad macro syntax", true },
};

/* split_bars - "a|b||c" into words, empty ones kept (no brace rules) */
static void split_bars(const char *s, struct strv *out)
{
	for (;;) {
		size_t n = strcspn(s, "|");
		char *w = strndup(s, n);

		assert_non_null(w);
		strv_push_take(out, w);
		if (s[n] == 0)
			return;
		s += n + 1;
	}
}

/* test_expand - every expand_cases entry */
static void test_expand(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(expand_cases) / sizeof(expand_cases[0]); i++) {
		const struct expand_case *c = &expand_cases[i];
		struct pipe_vars v = {
			.sender = c->sender, .nexthop = "NextHop.Example", .queue_id = "QID",
			.size = "345", .client_address = "127.0.0.1", .client_hostname = "unknown",
			.client_port = "40000", .client_helo = "client.helo.test",
			.client_protocol = "ESMTP", .sasl_method = "PLAIN", .sasl_username = "alice",
			.delimiters = "+", .nrcpt = c->nrcpt, .rcpt = c->rcpt,
			.original = c->orig ? c->orig : c->rcpt,
		};
		struct strv argv = STRV_INIT, out = STRV_INIT;
		struct buf err = BUF_INIT;
		char *got;
		int rc;

		print_message("case: %s\n", c->name);
		split_bars(c->argv, &argv);
		rc = pipe_expand(&argv, c->flags, &v, &out, &err);
		if (c->fails) {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(buf_cstr(&err), c->want));
		} else {
			assert_int_equal(rc, 0);
			got = strv_join(&out, "|");
			assert_string_equal(got, c->want);
			free(got);
		}
		strv_free(&argv);
		strv_free(&out);
		buf_free(&err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_expand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
