/*
 * table_sqlite_test - sqlite_table(5) files: parsing, %-expansion (with
 * SQL quoting and suppression), and lookups against a scratch database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include <cmocka.h>

#include "table/table_dictcf.h"
#include "table/table_sqlcf.h"
#include "table/table_test_util.h"

struct parse_case {
	const char *name;
	const char *text;
	const char *want;	/* "query|result_format|domain|limit" or "!error substring" */
};

static const struct parse_case parse_cases[] = {
	{ "minimal", "dbpath = /x.db\nquery = SELECT a FROM t WHERE k = '%s'\n",
	  "SELECT a FROM t WHERE k = '%s'|%s||0" },
	{ "comments, blanks, continuation",
	  "# c\n\ndbpath=/x.db\nquery = SELECT a\n   FROM t\n\tWHERE k='%s'\nresult_format = smtp:[%s]\n",
	  "SELECT a FROM t WHERE k='%s'|smtp:[%s]||0" },
	{ "domain and limit", "dbpath = d\nquery = q %u\ndomain = example.com, hash:/x\nexpansion_limit = 3\n",
	  "q %u|%s|example.com, hash:/x|3" },
	{ "legacy fields", "dbpath = d\nselect_field = dst\ntable = al\nwhere_field = src\nadditional_conditions = AND on = 1\n",
	  "SELECT dst FROM al WHERE src = '%s' AND on = 1|%s||0" },
	{ "last setting wins", "dbpath = d\nquery = a\nquery = b\n", "b|%s||0" },
	{ "missing dbpath", "query = q\n", "!missing dbpath" },
	{ "missing query", "dbpath = d\n", "!missing query" },
	{ "line without =", "dbpath = d\nquery\n", "!line 2: missing '='" },
	{ "bad percent", "dbpath = d\nquery = a %x\n", "!invalid %-sequence" },
	{ "percent at end", "dbpath = d\nquery = a %\n", "!invalid %-sequence" },
	{ "bad limit", "dbpath = d\nquery = q\nexpansion_limit = lots\n", "!expansion_limit" },
	{ "unknown parameter is only warned", "dbpath = d\nquery = q\nhosts = x\n", "q|%s||0" },
};

static void test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct sql_cf cf;
		struct buf err = BUF_INIT, got = BUF_INIT;

		int rc;

		tt_capture();
		rc = sql_cf_parse(c->text, strlen(c->text), "t.cf", "sqlite", &cf, &err);
		if (rc == 0) {
			buf_printf(&got, "%s|%s|%s|%ld", cf.query, cf.result_format, cf.domain,
				   cf.expansion_limit);
			sql_cf_free(&cf);
		}
		log_set_hook(NULL, NULL);
		tt_parsed(c->name, rc, &got, &err, c->want);
		buf_free(&err);
		buf_free(&got);
	}
}

struct expand_case {
	const char *name;
	const char *format;
	const char *value;
	const char *key;
	bool quote;
	const char *want;	/* NULL: suppressed */
};

static const struct expand_case expand_cases[] = {
	{ "plain %s", "k='%s'", "a@b.c", NULL, true, "k='a@b.c'" },
	{ "quote doubled", "k='%s'", "o'brien@x.org", NULL, true, "k='o''brien@x.org'" },
	{ "no quoting in results", "<%s>", "o'b", "k", false, "<o'b>" },
	{ "user and domain", "%u at %d", "alice@mail.example.com", NULL, true, "alice at mail.example.com" },
	{ "%u of bare name", "%u", "alice", NULL, true, "alice" },
	{ "%d of bare name suppressed", "%d", "alice", NULL, true, NULL },
	{ "%u of @domain suppressed", "%u", "@example.com", NULL, true, NULL },
	{ "labels from the right", "%1.%2.%3", "a@mail.example.com", NULL, true, "com.example.mail" },
	{ "missing label suppressed", "%4", "a@mail.example.com", NULL, true, NULL },
	{ "label of bare name suppressed", "%1", "example.com", NULL, true, NULL },
	{ "upper case uses the key", "%s %S %U %D %1", "v@w.x", "k@y.z", false, "v@w.x k@y.z k y.z z" },
	{ "percent literal", "100%%", "v", NULL, false, "100%" },
	{ "empty value suppressed", "%s", "", NULL, false, NULL },
};

static void test_expand(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(expand_cases) / sizeof(expand_cases[0]); i++) {
		const struct expand_case *c = &expand_cases[i];
		struct buf out = BUF_INIT;
		int rc;

		buf_puts(&out, "pre:");
		rc = dictcf_expand(c->format, c->value, c->key, c->quote ? dictcf_quote_sql : NULL, NULL, &out);
		if (c->want == NULL ? (rc != 0 || strcmp(buf_cstr(&out), "pre:") != 0)
				    : (rc != 1 || strcmp(out.data + 4, c->want) != 0))
			fail_msg("case '%s': rc %d got '%s' want '%s'", c->name, rc, buf_cstr(&out),
				 c->want ? c->want : "(suppressed)");
		buf_free(&out);
	}
}

struct lookup_case {
	const char *name;
	const char *cf;		/* after "dbpath = DB\n" */
	const char *key;
	const char *want;	/* value, "-" not found, "!ERR" temporary failure */
};

static const struct lookup_case lookup_cases[] = {
	{ "one row", "query = SELECT d FROM a WHERE s = '%s'\n", "alice@example.com", "alice@mail" },
	{ "rows joined", "query = SELECT d FROM a WHERE s = '%s' ORDER BY d\n", "team@example.com", "a@x,b@x,c@x" },
	{ "folded key", "query = SELECT d FROM a WHERE s = '%s'\n", "ALICE@EXAMPLE.COM", "alice@mail" },
	{ "absent", "query = SELECT d FROM a WHERE s = '%s'\n", "nobody@example.com", "-" },
	{ "quote injection stays data", "query = SELECT d FROM a WHERE s = '%s'\n", "x' OR '1'='1", "-" },
	{ "quoted key found", "query = SELECT d FROM a WHERE s = '%s'\n", "o'brien@example.com", "obrien@mail" },
	{ "NULL and empty rows skipped", "query = SELECT d FROM a WHERE s = '%s'\n", "holes@example.com", "kept" },
	{ "domain listed", "query = SELECT d FROM a WHERE s = '%s'\ndomain = example.com\n", "alice@example.com", "alice@mail" },
	{ "domain not listed", "query = SELECT d FROM a WHERE s = '%s'\ndomain = other.org\n", "alice@example.com", "-" },
	{ "domain: bare key", "query = SELECT d FROM a WHERE s = '%s'\ndomain = example.com\n", "alice", "-" },
	{ "domain via inline table", "query = SELECT d FROM a WHERE s = '%s'\ndomain = inline:{example.com=yes}\n", "alice@example.com", "alice@mail" },
	{ "result_format", "query = SELECT d FROM a WHERE s = '%s'\nresult_format = smtp:[%d] for %U\n", "alice@example.com", "smtp:[mail] for alice" },
	{ "suppressed query", "query = SELECT d FROM a WHERE s = '%u' AND x = '%d'\n", "alice", "-" },
	{ "limit within", "query = SELECT d FROM a WHERE s = '%s' ORDER BY d\nexpansion_limit = 3\n", "team@example.com", "a@x,b@x,c@x" },
	{ "limit exceeded", "query = SELECT d FROM a WHERE s = '%s'\nexpansion_limit = 2\n", "team@example.com", "!ERR" },
	{ "SQL error is a temporary failure", "query = SELECT d FROM nosuchtable WHERE s = '%s'\n", "alice@example.com", "!ERR" },
};

static char *make_db(void)
{
	char tmpl[] = "/tmp/outpost-sqlite-test-XXXXXX";
	int fd = mkstemp(tmpl);
	sqlite3 *db;
	char *msg = NULL;

	close(fd);
	assert_int_equal(sqlite3_open(tmpl, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
		"CREATE TABLE a (s TEXT, d TEXT);"
		"INSERT INTO a VALUES ('alice@example.com', 'alice@mail');"
		"INSERT INTO a VALUES ('team@example.com', 'b@x');"
		"INSERT INTO a VALUES ('team@example.com', 'a@x');"
		"INSERT INTO a VALUES ('team@example.com', 'c@x');"
		"INSERT INTO a VALUES ('o''brien@example.com', 'obrien@mail');"
		"INSERT INTO a VALUES ('holes@example.com', NULL);"
		"INSERT INTO a VALUES ('holes@example.com', '');"
		"INSERT INTO a VALUES ('holes@example.com', 'kept');",
		NULL, NULL, &msg), SQLITE_OK);
	sqlite3_close(db);
	return xstrdup(tmpl);
}

static void test_lookups(void **state)
{
	char *db = make_db();

	(void)state;
	for (size_t i = 0; i < sizeof(lookup_cases) / sizeof(lookup_cases[0]); i++) {
		const struct lookup_case *c = &lookup_cases[i];
		struct buf text = BUF_INIT;
		char *cf, *spec, *got;

		buf_printf(&text, "dbpath = %s\n%s", db, c->cf);
		cf = tt_write(buf_cstr(&text));
		spec = tt_spec("sqlite", cf);
		tt_capture();
		got = tt_query(spec, 0, c->key);
		log_set_hook(NULL, NULL);
		if (!tt_matches(got, c->want))
			fail_msg("case '%s': got '%s' want '%s'", c->name, got, c->want);
		free(got);
		unlink(cf);
		free(cf);
		free(spec);
		buf_free(&text);
	}
	unlink(db);
	free(db);
}

static void test_open_errors(void **state)
{
	char *got;

	(void)state;
	got = tt_query("sqlite:/nonexistent/x.cf", 0, "k");
	assert_string_equal(got, "!OPEN:open /nonexistent/x.cf: No such file or directory");
	free(got);
	char *cf = tt_write("dbpath = /nonexistent/db.sqlite\nquery = SELECT 1\n");
	char *spec = tt_spec("sqlite", cf);

	got = tt_query(spec, 0, "k");
	assert_non_null(strstr(got, "open database /nonexistent/db.sqlite"));
	free(got);
	unlink(cf);
	free(cf);
	free(spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_open_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
