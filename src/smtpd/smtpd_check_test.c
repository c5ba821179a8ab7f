/*
 * smtpd_check_test - configuration errors of the restriction engine, one
 * named case each: what main.cf says and the error smtpd_checks_new()
 * must report (with the parameter name), or that it must load. Decisions
 * themselves are covered by the golden files of tests/fixtures/restrictions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/log.h"
#include "smtpd/smtpd_check.h"

struct pcase {
	const char *name;
	const char *main_cf;	/* appended to a minimal main.cf */
	const char *error;	/* substring of the error, NULL = loads */
};

static const struct pcase cases[] = {
	{ "defaults load", "", NULL },
	{ "unknown restriction", "smtpd_recipient_restrictions = permit_mynetwork, reject\n",
	  "smtpd_recipient_restrictions: unknown restriction \"permit_mynetwork\"" },
	{ "missing table", "smtpd_sender_restrictions = check_sender_access\n",
	  "smtpd_sender_restrictions: restriction \"check_sender_access\" needs a type:table argument" },
	{ "not a table", "smtpd_client_restrictions = check_client_access permit\n",
	  "smtpd_client_restrictions: check_client_access: \"permit\" is not a type:table" },
	{ "unsupported restriction", "smtpd_recipient_restrictions = permit_mx_backup, reject\n",
	  "restriction \"permit_mx_backup\" is not supported by Outpost" },
	{ "class not defined", "smtpd_restriction_classes = strict\n",
	  "class \"strict\" is not defined in main.cf" },
	{ "class named like a restriction", "smtpd_restriction_classes = reject\n",
	  "\"reject\" is the name of a restriction" },
	{ "classes may name later classes",
	  "smtpd_restriction_classes = a, b\na = b\nb = reject\n"
	  "smtpd_sender_restrictions = a\n", NULL },
	{ "unbalanced braces", "smtpd_recipient_restrictions = { permit, reject\n",
	  "missing '}'" },
	{ "policy: bad time",
	  "smtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:9, timeout=x }, reject\n",
	  "timeout: bad time \"x\"" },
	{ "policy: unknown option",
	  "smtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:9, color=red }, reject\n",
	  "unknown option \"color\"" },
	{ "policy: bad endpoint",
	  "smtpd_recipient_restrictions = check_policy_service tcp:127.0.0.1:9, reject\n",
	  "expected inet:host:port or unix:path" },
	{ "nothing can refuse",
	  "smtpd_relay_restrictions = permit_mynetworks\nsmtpd_recipient_restrictions = permit\n",
	  "so any client could relay mail; refusing to run" },
	{ "pre-2.10 style loads",
	  "smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = permit_mynetworks, "
	  "reject_unauth_destination\n", NULL },
	{ "bad mynetworks", "mynetworks = 10.0.0.1/8\n", "mynetworks: bad network pattern \"10.0.0.1/8\"" },
	{ "bad login map", "smtpd_sender_login_maps = nosuch:/x\n", "smtpd_sender_login_maps:" },
};

static void quiet(enum log_level level, const char *text, void *ctx)
{
	(void)level;
	(void)text;
	(void)ctx;
}

static void test_config_errors(void **state)
{
	char dir[] = "/tmp/smtpd_check_test.XXXXXX";
	char path[300];

	(void)state;
	log_set_hook(quiet, NULL);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/master.cf", dir);
	fclose(fopen(path, "w"));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		struct buf err = BUF_INIT;
		struct config *cf;
		struct smtpd_checks *chk;
		FILE *fp;

		snprintf(path, sizeof(path), "%s/main.cf", dir);
		fp = fopen(path, "w");
		fprintf(fp, "compatibility_level = 3.6\nmyhostname = mail.example.com\n"
			"mydomain = example.com\nlocal_recipient_maps =\n%s", c->main_cf);
		fclose(fp);
		cf = config_load(dir, &err);
		if (cf == NULL && c->error && strstr(buf_cstr(&err), c->error)) {
			buf_free(&err);	/* the config layer already refuses it: fine */
			continue;
		}
		if (cf == NULL)
			fail_msg("%s: config: %s", c->name, buf_cstr(&err));
		chk = smtpd_checks_new(cf, NULL, &err);
		if (c->error == NULL && chk == NULL)
			fail_msg("%s: should load, got: %s", c->name, buf_cstr(&err));
		if (c->error != NULL && chk != NULL)
			fail_msg("%s: should fail with \"%s\"", c->name, c->error);
		if (c->error != NULL && strstr(buf_cstr(&err), c->error) == NULL)
			fail_msg("%s: error \"%s\" lacks \"%s\"", c->name, buf_cstr(&err), c->error);
		smtpd_checks_free(&chk);
		config_free(&cf);
		buf_free(&err);
	}
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_errors),
	};

	log_init("smtpd_check_test");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
