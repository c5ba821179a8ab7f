/*
 * table_ldapcf_test - ldap_table(5) files: defaults, server_host into
 * URLs, attribute lists, the words of scope and bind, bad settings, and
 * the two LDAP quoting rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "table/table_ldapcf.h"
#include "table/table_test_util.h"

struct cf_case {
	const char *name;
	const char *text;
	/* "uris|base|filter|format|result|special|scope|bind|limits" or "!error" */
	const char *want;
};

static const struct cf_case cf_cases[] = {
	{ "defaults", "search_base = dc=x\n",
	  "ldap://localhost:389|dc=x|mailacceptinggeneralid=%s|%s|maildrop||2|1|1000,0,0,3" },
	{ "hosts and port", "server_host = a, b:1389 ldaps://c:636/\nserver_port = 3389\n",
	  "ldap://a:3389 ldap://b:1389 ldaps://c:636/||mailacceptinggeneralid=%s|%s|maildrop||2|1|1000,0,0,3" },
	{ "attributes and words",
	  "query_filter = (mail=%s)\nresult_attribute = mailRoutingAddress, mailHost\n"
	  "special_result_attribute = member\nscope = one\nbind = none\nversion = 2\n",
	  "ldap://localhost:389||(mail=%s)|%s|mailRoutingAddress mailHost|member|1|0|1000,0,0,2" },
	{ "empty result_attribute", "result_attribute =\n",
	  "ldap://localhost:389||mailacceptinggeneralid=%s|%s|||2|1|1000,0,0,3" },
	{ "size_limit follows expansion_limit", "expansion_limit = 4\nbind = simple\nscope = base\n",
	  "ldap://localhost:389||mailacceptinggeneralid=%s|%s|maildrop||0|1|1000,4,4,3" },
	{ "result_filter is the old name", "result_filter = <%s>\n",
	  "ldap://localhost:389||mailacceptinggeneralid=%s|<%s>|maildrop||2|1|1000,0,0,3" },
	{ "result_format wins", "result_filter = <%s>\nresult_format = [%s]\n",
	  "ldap://localhost:389||mailacceptinggeneralid=%s|[%s]|maildrop||2|1|1000,0,0,3" },
	{ "sasl refused", "bind = sasl\n", "!bind = sasl is not supported" },
	{ "bad scope", "scope = everything\n", "!scope: expected sub, one or base" },
	{ "bad version", "version = 4\n", "!version: expected 2 or 3" },
	{ "zero recursion", "recursion_limit = 0\n", "!recursion_limit" },
	{ "bad dereference", "dereference = 9\n", "!dereference" },
	{ "bad port", "server_port = 70000\n", "!server_port" },
	{ "bad template", "query_filter = (a=%q)\n", "!invalid %-sequence" },
	{ "bad bool", "start_tls = sometimes\n", "!start_tls: expected yes or no" },
};

/* describe - the fields a case compares */
static void describe(const struct ldap_cf *cf, struct buf *out)
{
	char *res = strv_join(&cf->result_attribute, " ");
	char *spec = strv_join(&cf->special_result_attribute, " ");

	buf_printf(out, "%s|%s|%s|%s|%s|%s|%d|%d|%ld,%ld,%ld,%ld", cf->uris, cf->search_base,
		   cf->query_filter, cf->result_format, res, spec, (int)cf->scope, cf->bind,
		   cf->recursion_limit, cf->expansion_limit, cf->size_limit, cf->version);
	free(res);
	free(spec);
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cf_cases) / sizeof(cf_cases[0]); i++) {
		const struct cf_case *c = &cf_cases[i];
		struct ldap_cf cf;
		struct buf err = BUF_INIT, got = BUF_INIT;

		int rc;

		tt_capture();
		rc = ldap_cf_parse(c->text, strlen(c->text), "t.cf", &cf, &err);
		if (rc == 0) {
			describe(&cf, &got);
			ldap_cf_free(&cf);
		}
		log_set_hook(NULL, NULL);
		tt_parsed(c->name, rc, &got, &err, c->want);
		buf_free(&err);
		buf_free(&got);
	}
}

static void test_warnings(void **state)
{
	struct ldap_cf cf;
	struct buf err = BUF_INIT;
	const char *text = "query_filter = (objectClass=*)\ncache = yes\nbogus = 1\n";

	(void)state;
	tt_capture();
	assert_int_equal(ldap_cf_parse(text, strlen(text), "t.cf", &cf, &err), 0);
	log_set_hook(NULL, NULL);
	assert_non_null(strstr(buf_cstr(&tt_warnings), "Fixed query_filter (objectClass=*) is probably useless"));
	assert_non_null(strstr(buf_cstr(&tt_warnings), "cache is no longer supported"));
	assert_non_null(strstr(buf_cstr(&tt_warnings), "unknown ldap parameter \"bogus\""));
	ldap_cf_free(&cf);
	buf_free(&err);
}

static void test_quoting(void **state)
{
	struct buf f = BUF_INIT, d = BUF_INIT;
	const char *key = " a*(b)\\c,d+e\"f<g>h;i# ";

	(void)state;
	ldapcf_quote_filter(&f, key, strlen(key), NULL);
	assert_string_equal(buf_cstr(&f), " a\\2a\\28b\\29\\5cc,d+e\"f<g>h;i# ");
	ldapcf_quote_dn(&d, key, strlen(key), NULL);
	assert_string_equal(buf_cstr(&d), "\\ a*(b)\\\\c\\,d\\+e\\\"f\\<g\\>h\\;i#\\ ");
	buf_reset(&d);
	ldapcf_quote_dn(&d, "#x", 2, NULL);
	assert_string_equal(buf_cstr(&d), "\\#x");
	buf_free(&f);
	buf_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_quoting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
