/*
 * config_test - main.cf parsing, expansion, typed values, validation,
 * per-service overrides and lints, table-driven with named cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/value.h"
#include "lib/log.h"
#include "lib/mem.h"

static char tmpdir[64];

/* write_file - create dir/name with text */
static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* load - write main.cf/master.cf and load; err gets the errors */
static struct config *load(const char *main_cf, const char *master_cf, struct buf *err)
{
	char path[256];

	write_file("main.cf", main_cf);
	snprintf(path, sizeof(path), "%s/master.cf", tmpdir);
	unlink(path);
	if (master_cf)
		write_file("master.cf", master_cf);
	buf_reset(err);
	return config_load(tmpdir, err);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/config_test.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	log_init("config_test");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

struct expand_case {
	const char *name;
	const char *main_cf;
	const char *param;
	const char *want;
};

static const struct expand_case expand_cases[] = {
	{ "plain", "a = hello\n", "a", "hello" },
	{ "trimmed", "a =    spaced out   \n", "a", "spaced out" },
	{ "dollar name", "a = x\nb = <$a>\n", "b", "<x>" },
	{ "braced name", "a = x\nb = ${a}y\n", "b", "xy" },
	{ "paren name", "a = x\nb = $(a)y\n", "b", "xy" },
	{ "double dollar", "b = cost $$5\n", "b", "cost $5" },
	{ "undefined is empty", "b = [$nosuch]\n", "b", "[]" },
	{ "if set", "a = x\nb = ${a?yes}\n", "b", "yes" },
	{ "if set, unset", "b = ${a?yes}\n", "b", "" },
	{ "if unset", "b = ${a:dflt}\n", "b", "dflt" },
	{ "if unset, set", "a = x\nb = ${a:dflt}\n", "b", "" },
	{ "if else true", "a = x\nb = ${a?{one}:{two}}\n", "b", "one" },
	{ "if else false", "a =\nb = ${a?{one}:{two}}\n", "b", "two" },
	{ "nested value", "a = x\nc = C\nb = ${a?{<$c>}:{two}}\n", "b", "<C>" },
	{ "continuation", "a = one,\n   two\n# comment\n\tthree\n", "a", "one, two three" },
	{ "later wins", "a = 1\na = 2\n", "a", "2" },
	{ "hash in value", "a = x # y\n", "a", "x # y" },
	{ "default refers", "myhostname = mx.example.org\n", "mydestination",
	  "mx.example.org, localhost.example.org, localhost" },
	{ "mydomain from host", "myhostname = mx.example.org\n", "mydomain", "example.org" },
	{ "myhostname short + mydomain", "myhostname = mx\nb = $myhostname\n", "myorigin", "mx" },
	{ "compat relay_domains", "", "relay_domains", "" },
	{ "compat relay_domains old", "compatibility_level = 1\nmydestination = d.example\n",
	  "relay_domains", "d.example" },
	{ "compat relay restrictions", "", "smtpd_relay_restrictions",
	  "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination" },
	{ "relational ==", "a = x\nb = ${{$a} == {x} ? {eq} : {ne}}\n", "b", "eq" },
	{ "relational !=", "a = x\nb = ${{$a} != {x} ? {eq} : {ne}}\n", "b", "ne" },
	{ "relational <", "b = ${{2} < {10} ? {lt} : {ge}}\n", "b", "lt" },
	{ "relational <level", "b = ${{3.6} <level {3.10} ? {lt} : {ge}}\n", "b", "lt" },
	{ "stress default", "", "smtpd_timeout", "300s" },
	{ "stress on", "stress = yes\n", "smtpd_timeout", "10s" },
	{ "outpost default", "", "queue_directory", "/var/spool/outpost" },
	{ "mynetworks style host", "mynetworks_style = host\n", "mynetworks", NULL },
};

/* test_expand - each case yields its value (NULL: anything non-empty) */
static void test_expand(void **state)
{
	struct buf err = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(expand_cases) / sizeof(expand_cases[0]); i++) {
		const struct expand_case *c = &expand_cases[i];
		struct config *cf = load(c->main_cf, NULL, &err);
		const char *got;

		if (cf == NULL)
			fail_msg("%s: load failed: %s", c->name, buf_cstr(&err));
		got = config_str(cf, c->param);
		if (c->want ? strcmp(got, c->want) != 0 : *got == '\0')
			fail_msg("%s: %s = \"%s\", want \"%s\"", c->name, c->param, got,
				 c->want ? c->want : "(non-empty)");
		config_free(&cf);
		assert_null(cf);
	}
	buf_free(&err);
}

struct error_case {
	const char *name;
	const char *main_cf;
	const char *master_cf;
	const char *want1;	/* substrings of the error text */
	const char *want2;
};

static const struct error_case error_cases[] = {
	{ "no equals", "a = 1\nthis is wrong\n", NULL, "main.cf:2: missing '='", NULL },
	{ "bad boolean", "smtpd_tls_auth_only = maybe\n", NULL,
	  "main.cf:1: parameter smtpd_tls_auth_only: bad boolean value \"maybe\"", NULL },
	{ "bad time unit", "\nsmtpd_timeout = 5x\n", NULL,
	  "main.cf:2: parameter smtpd_timeout: bad time value \"5x\"", NULL },
	{ "bad number", "message_size_limit = 10M\n", NULL,
	  "parameter message_size_limit: bad number \"10M\"", NULL },
	{ "negative", "message_size_limit = -1\n", NULL, "below the minimum 0", NULL },
	{ "loop", "a = $b\nb = ${a}\n", NULL, "main.cf:1: parameter a: reference loop: $a -> $b -> $a",
	  "main.cf:2: parameter b: reference loop" },
	{ "self loop", "a = x$a\n", NULL, "reference loop: $a -> $a", NULL },
	{ "all errors listed", "smtpd_tls_auth_only = maybe\nx\nsmtpd_timeout = 5x\n", NULL,
	  "bad boolean", "bad time value" },
	{ "missing brace", "a = ${b\n", NULL, "main.cf:1: parameter a: missing '}'", NULL },
	{ "missing operator", "a = ${{1} ~ {2} ? {x}}\n", NULL, "parameter a: missing operator", NULL },
	{ "bad operator", "a = ${{1} =< {2} ? {x}}\n", NULL, "parameter a: unknown operator", NULL },
	{ "default broken by setting", "stress = 5\nsmtpd_timeout_x = 1\n", NULL, NULL, NULL },
	{ "bad list braces", "smtpd_recipient_restrictions = check_x { a\n", NULL,
	  "parameter smtpd_recipient_restrictions: missing '}'", NULL },
	{ "bad service type", "", "smtp inet n - n - - smtpd\nfoo tcp n - n - - smtpd\n",
	  "master.cf:2: unknown service type \"tcp\"", NULL },
	{ "short service", "", "smtp inet n - n\n", "master.cf:1: expected at least 8 columns", NULL },
	{ "bad flag", "", "smtp inet x - n - - smtpd\n", "master.cf:1: private: expected y, n or -",
	  NULL },
	{ "bad wakeup", "", "smtp inet n - n 5x - smtpd\n", "master.cf:1: wakeup", NULL },
	{ "bad -o", "", "smtp inet n - n - - smtpd -o nothing\n", "expected name=value", NULL },
	{ "bad -o value", "", "smtp inet n - n - - smtpd\n  -o smtpd_tls_auth_only=perhaps\n",
	  "service smtp/inet: ", "master.cf:1: parameter smtpd_tls_auth_only: bad boolean" },
	{ "override breaks a dependent", "my_t = 5\nsmtpd_timeout = ${my_t}s\n",
	  "smtp inet n - n - - smtpd -o my_t=x\n", "service smtp/inet: ",
	  "parameter smtpd_timeout: bad time value \"xs\"" },
	{ "duplicate service", "", "smtp inet n - n - - smtpd\nsmtp inet n - n - - smtpd\n",
	  "duplicate service smtp/inet", NULL },
};

/* test_errors - bad input fails to load, naming file and line */
static void test_errors(void **state)
{
	struct buf err = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct error_case *c = &error_cases[i];
		struct config *cf = load(c->main_cf, c->master_cf, &err);

		if (c->want1 == NULL) {
			/* "stress = 5" is a string; defaults using it stay valid */
			if (cf == NULL)
				fail_msg("%s: unexpected error: %s", c->name, buf_cstr(&err));
			config_free(&cf);
			continue;
		}
		if (cf != NULL)
			fail_msg("%s: loaded, want error \"%s\"", c->name, c->want1);
		if (strstr(buf_cstr(&err), c->want1) == NULL)
			fail_msg("%s: error \"%s\" lacks \"%s\"", c->name, buf_cstr(&err), c->want1);
		if (c->want2 && strstr(buf_cstr(&err), c->want2) == NULL)
			fail_msg("%s: error \"%s\" lacks \"%s\"", c->name, buf_cstr(&err), c->want2);
	}
	buf_free(&err);
}

struct typed_case {
	const char *name;
	const char *setting;
	const char *param;
	char kind;	/* b(ool) i(nt) t(ime) s(ize) */
	long want;
};

static const struct typed_case typed_cases[] = {
	{ "bool yes", "smtpd_use_tls = yes\n", "smtpd_use_tls", 'b', 1 },
	{ "bool NO", "smtpd_use_tls = NO\n", "smtpd_use_tls", 'b', 0 },
	{ "bool default", "", "smtpd_tls_auth_only", 'b', 1 },
	{ "int", "smtpd_recipient_limit = 42\n", "smtpd_recipient_limit", 'i', 42 },
	{ "time bare seconds", "smtpd_timeout = 45\n", "smtpd_timeout", 't', 45 },
	{ "time minutes", "smtpd_timeout = 2m\n", "smtpd_timeout", 't', 120 },
	{ "time hours", "smtpd_timeout = 1h\n", "smtpd_timeout", 't', 3600 },
	{ "time weeks", "maximal_queue_lifetime = 1w\n", "maximal_queue_lifetime", 't', 604800 },
	{ "time default unit days", "maximal_queue_lifetime = 2\n", "maximal_queue_lifetime", 't',
	  172800 },
	{ "time default", "", "maximal_queue_lifetime", 't', 432000 },
	{ "size", "message_size_limit = 1000\n", "message_size_limit", 's', 1000 },
	{ "unregistered bool", "my_flag = yes\nx = $my_flag\n", "my_flag", 'b', 1 },
};

/* test_typed - typed getters */
static void test_typed(void **state)
{
	struct buf err = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(typed_cases) / sizeof(typed_cases[0]); i++) {
		const struct typed_case *c = &typed_cases[i];
		struct config *cf = load(c->setting, NULL, &err);
		long got = 0;

		if (cf == NULL)
			fail_msg("%s: %s", c->name, buf_cstr(&err));
		switch (c->kind) {
		case 'b':
			got = config_bool(cf, c->param);
			break;
		case 'i':
			got = config_int(cf, c->param);
			break;
		case 't':
			got = config_time(cf, c->param);
			break;
		case 's':
			got = config_size(cf, c->param);
			break;
		}
		if (got != c->want)
			fail_msg("%s: got %ld want %ld", c->name, got, c->want);
		config_free(&cf);
	}
	buf_free(&err);
}

/* test_list - list splitting keeps braces */
static void test_list(void **state)
{
	struct buf err = BUF_INIT;
	struct strv items = STRV_INIT;
	struct config *cf;

	(void)state;
	cf = load("smtpd_recipient_restrictions = permit_mynetworks,reject_unauth_destination "
		  "check_policy_service { inet:127.0.0.1:9998, timeout=10s }\n",
		  NULL, &err);
	assert_non_null(cf);
	config_list(cf, "smtpd_recipient_restrictions", &items);
	assert_int_equal(items.n, 4);
	assert_string_equal(items.v[0], "permit_mynetworks");
	assert_string_equal(items.v[1], "reject_unauth_destination");
	assert_string_equal(items.v[2], "check_policy_service");
	assert_string_equal(items.v[3], "{ inet:127.0.0.1:9998, timeout=10s }");
	strv_free(&items);
	config_free(&cf);
	buf_free(&err);
}

static const char master_text[] =
	"# comment\n"
	"smtp      inet  n       -       y       -       -       smtpd\n"
	"127.0.0.1:2587 inet n - n - 5 smtpd -v\n"
	"  -o syslog_name=outpost/submission\n"
	"  -o { smtpd_client_restrictions = permit_sasl_authenticated, reject }\n"
	"  -o smtpd_tls_security_level=encrypt\n"
	"tlsmgr    unix  -       -       y       1000?   1       tlsmgr\n"
	"maildrop  unix  -       n       n       -       -       pipe\n"
	"  flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}\n";

/* test_master - master.cf columns, -o overrides, per-service views */
static void test_master(void **state)
{
	struct buf err = BUF_INIT;
	struct config *cf, *sub;
	const struct master_service *s;
	size_t n;

	(void)state;
	cf = load("default_process_limit = 77\nsmtpd_client_restrictions = permit\n", master_text,
		  &err);
	if (cf == NULL)
		fail_msg("%s", buf_cstr(&err));
	s = config_services(cf, &n);
	assert_int_equal(n, 4);
	assert_string_equal(s[0].name, "smtp");
	assert_int_equal(s[0].private_, 0);
	assert_int_equal(s[0].unpriv, 1);
	assert_int_equal(s[0].chroot, 1);
	assert_int_equal(s[0].maxproc, 77);
	assert_int_equal(s[0].line, 2);
	assert_string_equal(s[1].name, "127.0.0.1:2587");
	assert_int_equal(s[1].maxproc, 5);
	assert_int_equal(s[1].args.n, 1);
	assert_string_equal(s[1].args.v[0], "-v");
	assert_int_equal(s[1].opt_names.n, 3);
	assert_string_equal(s[1].opt_values.v[1], "permit_sasl_authenticated, reject");
	assert_int_equal(s[2].wakeup, 1000);
	assert_true(s[2].wakeup_if_used);
	assert_string_equal(s[3].command, "pipe");
	assert_int_equal(s[3].args.n, 5);
	assert_string_equal(s[3].args.v[4], "${recipient}");

	sub = config_for_service(cf, "127.0.0.1:2587", &err);
	assert_non_null(sub);
	assert_string_equal(config_str(sub, "smtpd_client_restrictions"),
			    "permit_sasl_authenticated, reject");
	assert_string_equal(config_str(sub, "syslog_name"), "outpost/submission");
	assert_string_equal(config_str(cf, "smtpd_client_restrictions"), "permit");
	assert_non_null(config_this_service(sub));
	config_free(&sub);
	assert_null(config_for_service(cf, "nosuch", &err));
	assert_non_null(strstr(buf_cstr(&err), "no service \"nosuch\""));
	config_free(&cf);
	buf_free(&err);
}

/* test_debian_master - the master.cf Debian ships parses as it is */
static void test_debian_master(void **state)
{
	static const char *const paths[] = { "/usr/share/postfix/master.cf.dist",
					      "/etc/postfix/master.cf" };
	struct buf err = BUF_INIT;
	size_t i, n;

	(void)state;
	for (i = 0; i < 2; i++) {
		char cmd[512];
		struct config *cf;

		if (access(paths[i], R_OK) != 0)
			continue;
		snprintf(cmd, sizeof(cmd), "cp %s %s/master.cf", paths[i], tmpdir);
		assert_int_equal(system(cmd), 0);
		write_file("main.cf", "");
		buf_reset(&err);
		cf = config_load(tmpdir, &err);
		if (cf == NULL)
			fail_msg("%s: %s", paths[i], buf_cstr(&err));
		config_services(cf, &n);
		assert_true(n > 10);
		config_free(&cf);
	}
	buf_free(&err);
}

/* test_set - runtime overrides validate and keep the old value on error */
static void test_set(void **state)
{
	struct buf err = BUF_INIT;
	struct config *cf = load("myhostname = a.example\n", NULL, &err);
	const char *before;

	(void)state;
	assert_non_null(cf);
	before = config_str(cf, "myorigin");
	assert_string_equal(before, "a.example");
	assert_int_equal(config_set(cf, "myhostname", "b.example", &err), 0);
	assert_string_equal(config_str(cf, "myorigin"), "b.example");
	assert_string_equal(before, "a.example"); /* old pointers stay valid */
	assert_int_equal(config_set(cf, "smtpd_timeout", "10q", &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "bad time value"));
	assert_int_equal(config_time(cf, "smtpd_timeout"), 300);
	assert_int_equal(config_set(cf, "a", "$b", &err), 0);
	assert_int_equal(config_set(cf, "b", "$a", &err), -1);
	assert_false(config_is_set(cf, "b"));
	assert_true(config_is_set(cf, "myhostname"));
	assert_false(config_is_set(cf, "config_directory"));
	config_free(&cf);
	buf_free(&err);
}

/* test_path - relative paths resolve against queue_directory */
static void test_path(void **state)
{
	struct buf err = BUF_INIT;
	struct config *cf = load("queue_directory = /q\n", NULL, &err);
	char *p;

	(void)state;
	assert_non_null(cf);
	p = config_path(cf, "private/auth");
	assert_string_equal(p, "/q/private/auth");
	free(p);
	p = config_path(cf, "/run/dovecot/auth");
	assert_string_equal(p, "/run/dovecot/auth");
	free(p);
	config_free(&cf);
	buf_free(&err);
}

struct lint_case {
	const char *name;
	const char *main_cf;
	const char *master_cf;
	int unknown;		/* how many unknown parameters */
	const char *want;	/* substring of some finding, or NULL */
};

static const struct lint_case lint_cases[] = {
	{ "clean", "myhostname = x.example\n", NULL, 0, NULL },
	{ "misspelled", "\nsmtp_sender_restrictions = reject\n", NULL, 1,
	  "main.cf, line 2: unused parameter: smtp_sender_restrictions=reject; did you mean "
	  "smtpd_sender_restrictions?" },
	{ "far from anything", "qqqqqqqqqqqqqqq = 1\n", NULL, 1,
	  "unused parameter: qqqqqqqqqqqqqqq=1" },
	{ "referenced", "mua_client_restrictions = permit\n",
	  "submission inet n - n - - smtpd -o smtpd_client_restrictions=$mua_client_restrictions\n",
	  0, NULL },
	{ "restriction class", "smtpd_restriction_classes = strict\nstrict = reject\n", NULL, 0,
	  NULL },
	{ "transport parameter", "relay_destination_concurrency_limit = 2\n",
	  "relay unix - - n - - smtp\n", 0, NULL },
	{ "unknown -o", "", "smtp inet n - n - - smtpd -o smtpd_tls_securty_level=may\n", 1,
	  "(service smtp/inet); did you mean smtpd_tls_security_level?" },
	{ "client cert on server", "smtpd_tls_security_level = may\nsmtp_tls_cert_file = /c.pem\n",
	  NULL, 0, "did you mean smtpd_tls_cert_file?" },
	{ "client sasl", "smtp_sasl_auth_enable = yes\n", NULL, 0,
	  "did you mean smtpd_sasl_auth_enable" },
	{ "wrappermode global", "smtpd_tls_wrappermode = yes\n", NULL, 0,
	  "set it with -o on the smtps" },
	{ "sasl maps, auth per service", "smtpd_sasl_password_maps = texthash:/p\n",
	  "submission inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes\n", 0, NULL },
	{ "sasl maps, no auth", "smtpd_sasl_password_maps = texthash:/p\n", NULL, 0,
	  "smtpd_sasl_auth_enable = no" },
	{ "bad port name", "", "nosuchport inet n - n - - smtpd\n127.0.0.1:99999 inet n - n - - smtpd\n", 0,
	  "service nosuchport: \"nosuchport\" is neither a port number" },
	{ "server tls no cert", "smtpd_tls_security_level = may\n", NULL, 0,
	  "STARTTLS will fail" },
};

/* test_lint - unknown parameters and other-side hints */
static void test_lint(void **state)
{
	struct buf err = BUF_INIT;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(lint_cases) / sizeof(lint_cases[0]); i++) {
		const struct lint_case *c = &lint_cases[i];
		struct config *cf = load(c->main_cf, c->master_cf, &err);
		struct strv out = STRV_INIT;
		int unknown;
		bool found = c->want == NULL;

		if (cf == NULL)
			fail_msg("%s: %s", c->name, buf_cstr(&err));
		unknown = config_lint(cf, &out);
		config_lint_hints(cf, &out);
		config_lint_services(cf, &out);
		for (j = 0; j < out.n; j++)
			if (c->want && strstr(out.v[j], c->want))
				found = true;
		if (unknown != c->unknown || !found || (c->want == NULL && out.n != 0))
			fail_msg("%s: %d unknown (want %d), findings: %s", c->name, unknown,
				 c->unknown, out.n ? out.v[0] : "(none)");
		strv_free(&out);
		config_free(&cf);
	}
	buf_free(&err);
}

/* test_registry - the registry knows Postfix's names and ours */
static void test_registry(void **state)
{
	const struct param_def *p;
	size_t n;

	(void)state;
	params_all(&n);
	assert_true(n > 1000);
	p = param_lookup("smtpd_tls_auth_only");
	assert_non_null(p);
	assert_string_equal(p->def, "yes");
	assert_non_null(p->doc);
	p = param_lookup("maximal_queue_lifetime");
	assert_int_equal(p->type, PARAM_TIME);
	assert_int_equal(p->unit, 'd');
	assert_int_equal(param_lookup("smtpd_use_tls")->type, PARAM_BOOL);
	assert_int_equal(param_lookup("message_size_limit")->type, PARAM_SIZE);
	assert_non_null(param_lookup("dns_servers"));
	assert_null(param_lookup("smtp_sender_restrictions"));
}

/* test_registry_defaults - constant defaults fit their own types (loads
 * only re-check defaults that refer to other parameters) */
static void test_registry_defaults(void **state)
{
	const struct param_def *const *all;
	struct buf why = BUF_INIT;
	size_t i, n;

	(void)state;
	all = params_all(&n);
	for (i = 0; i < n; i++) {
		if (all[i]->def == NULL || strchr(all[i]->def, '$'))
			continue;
		buf_reset(&why);
		if (value_check(all[i], all[i]->def, &why) < 0)
			fail_msg("%s: default \"%s\": %s", all[i]->name, all[i]->def, buf_cstr(&why));
		if (all[i]->doc == NULL && !strchr(all[i]->name, ' '))
			continue;
	}
	buf_free(&why);
}

/* test_logging - maillog_file and syslog_name shape the log lines */
static void test_logging(void **state)
{
	struct buf err = BUF_INIT, text = BUF_INIT, want = BUF_INIT;
	char path[128], line[512];
	struct config *cf;
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%s/maillog", tmpdir);
	buf_printf(&text, "maillog_file = %s\nsyslog_name = outpost/submission\n", path);
	cf = load(buf_cstr(&text), NULL, &err);
	assert_non_null(cf);
	assert_int_equal(config_apply_logging(cf, "smtpd", &err), 0);
	log_info("hello from the test");
	log_set_target(LOG_TARGET_STDERR, NULL);
	log_init("config_test");
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof(line), fp));
	fclose(fp);
	buf_printf(&want, " outpost/submission/smtpd[%ld]: hello from the test\n", (long)getpid());
	if (strstr(line, buf_cstr(&want)) == NULL)
		fail_msg("log line \"%s\" lacks \"%s\"", line, buf_cstr(&want));
	config_free(&cf);
	cf = load("maillog_file = /nonexistent/dir/log\n", NULL, &err);
	assert_non_null(cf);
	assert_int_equal(config_apply_logging(cf, "smtpd", &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "maillog_file /nonexistent/dir/log: cannot open"));
	log_init("config_test");
	config_free(&cf);
	buf_free(&err);
	buf_free(&text);
	buf_free(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand),	 cmocka_unit_test(test_errors),
		cmocka_unit_test(test_typed),	 cmocka_unit_test(test_list),
		cmocka_unit_test(test_master),	 cmocka_unit_test(test_debian_master),
		cmocka_unit_test(test_set),	 cmocka_unit_test(test_path),
		cmocka_unit_test(test_lint),	 cmocka_unit_test(test_registry),
		cmocka_unit_test(test_registry_defaults),
		cmocka_unit_test(test_logging),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
