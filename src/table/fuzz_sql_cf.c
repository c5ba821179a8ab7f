/*
 * fuzz_sql_cf - libFuzzer target: the input as an SQL table's
 * configuration (read as sqlite_table(5), pgsql_table(5) and
 * mysql_table(5)), then the templates expanded with fixed keys and values.
 */
#include <stddef.h>
#include <stdint.h>

#include "lib/log.h"
#include "table/table_dictcf.h"
#include "table/table_sqlcf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* quiet - fuzzing warnings are noise */
static void quiet(enum log_level level, const char *text, void *ctx)
{
	(void)level;
	(void)text;
	(void)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = { "sqlite", "pgsql", "mysql" };
	struct buf err = BUF_INIT, out = BUF_INIT;

	log_set_hook(quiet, NULL);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct sql_cf cf;

		if (sql_cf_parse((const char *)data, size, "fuzz.cf", types[i], &cf, &err) != 0)
			continue;
		if (cf.dbpath == NULL && cf.hosts.n == 0)
			__builtin_trap();
		dictcf_expand(cf.query, "o'brien@mail.example.com", NULL, dictcf_quote_sql, NULL,
			      &out);
		dictcf_expand(cf.result_format, "x@y", "user@a.b.c.d.e.f.g.h.i.j", NULL, NULL, &out);
		dictcf_expand(cf.query, "@", NULL, dictcf_quote_sql, NULL, &out);
		sql_cf_free(&cf);
	}
	buf_free(&err);
	buf_free(&out);
	return 0;
}
