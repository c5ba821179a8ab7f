/*
 * table_sqlcf_test - the SQL tables' configuration parser for each type:
 * which parameters a type accepts, defaults, the legacy query forms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "table/table_sqlcf.h"
#include "table/table_test_util.h"

struct cf_case {
	const char *name;
	const char *type;
	const char *text;
	/* "hosts|user|dbname|query|option_group|require_result_set" or "!error" */
	const char *want;
	const char *warning;	/* a warning that must be logged, or NULL */
};

static const struct cf_case cf_cases[] = {
	{ "pgsql defaults", "pgsql", "query = SELECT 1\n", "localhost|-|-|SELECT 1|client|1", NULL },
	{ "pgsql hosts in order", "pgsql",
	  "hosts = inet:a:5432, b unix:/run/pg\nuser = u\ndbname = d\nquery = q\n",
	  "inet:a:5432 b unix:/run/pg|u|d|q|client|1", NULL },
	{ "pgsql select_function", "pgsql", "select_function = f\n", "localhost|-|-|SELECT f('%s')|client|1", NULL },
	{ "query beats select_function", "pgsql", "select_function = f\nquery = q\n", "localhost|-|-|q|client|1", NULL },
	{ "select_function is not mysql's", "mysql", "select_function = f\nquery = q\n",
	  "localhost|-|-|q|client|1", "unknown mysql parameter \"select_function\"" },
	{ "mysql options", "mysql",
	  "hosts = 127.0.0.1\nquery = q\noption_group =\nrequire_result_set = no\n",
	  "127.0.0.1|-|-|q||0", NULL },
	{ "empty option_group stays empty", "mysql", "query = q\noption_group =\n",
	  "localhost|-|-|q||1", NULL },
	{ "bad boolean", "mysql", "query = q\nrequire_result_set = maybe\n", "!require_result_set: expected yes or no", NULL },
	{ "dbpath is sqlite's", "pgsql", "dbpath = /x\nquery = q\n", "localhost|-|-|q|client|1",
	  "unknown pgsql parameter \"dbpath\"" },
	{ "hosts is not sqlite's", "sqlite", "dbpath = /x\nhosts = h\nquery = q\n", "|-|-|q|client|1",
	  "unknown sqlite parameter \"hosts\"" },
	{ "legacy fields", "mysql", "select_field = a\ntable = t\nwhere_field = k\n",
	  "localhost|-|-|SELECT a FROM t WHERE k = '%s' |client|1", NULL },
	{ "missing query", "pgsql", "hosts = h\n", "!missing query", NULL },
	{ "bad limit", "mysql", "query = q\nexpansion_limit = -1\n", "!expansion_limit", NULL },
	{ "bad template", "pgsql", "query = q %z\n", "!invalid %-sequence", NULL },
};

/* describe - the fields a case compares */
static void describe(const struct sql_cf *cf, struct buf *out)
{
	char *hosts = strv_join(&cf->hosts, " ");

	buf_printf(out, "%s|%s|%s|%s|%s|%d", hosts, cf->user ? cf->user : "-",
		   cf->dbname ? cf->dbname : "-", cf->query,
		   cf->option_group == NULL ? "-" : *cf->option_group ? cf->option_group : "",
		   cf->require_result_set);
	free(hosts);
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cf_cases) / sizeof(cf_cases[0]); i++) {
		const struct cf_case *c = &cf_cases[i];
		struct sql_cf cf;
		struct buf err = BUF_INIT, got = BUF_INIT;

		int rc;

		tt_capture();
		rc = sql_cf_parse(c->text, strlen(c->text), "t.cf", c->type, &cf, &err);
		if (rc == 0) {
			describe(&cf, &got);
			sql_cf_free(&cf);
		}
		log_set_hook(NULL, NULL);
		tt_parsed(c->name, rc, &got, &err, c->want);
		if (c->warning && strstr(buf_cstr(&tt_warnings), c->warning) == NULL)
			fail_msg("case '%s': no warning '%s' in '%s'", c->name, c->warning,
				 buf_cstr(&tt_warnings));
		buf_free(&err);
		buf_free(&got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
