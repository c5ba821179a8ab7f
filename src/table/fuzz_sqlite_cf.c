/*
 * fuzz_sqlite_cf - libFuzzer target: sqlite_table(5) configuration text,
 * then both templates expanded with a fixed key and value.
 */
#include <stddef.h>
#include <stdint.h>

#include "lib/log.h"
#include "table/table_sqlite.h"

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
	struct sqlite_cf cf;
	struct buf err = BUF_INIT, out = BUF_INIT;

	log_set_hook(quiet, NULL);
	if (sqlite_cf_parse((const char *)data, size, "fuzz.cf", &cf, &err) == 0) {
		sqlite_expand(cf.query, "o'brien@mail.example.com", NULL, true, &out);
		sqlite_expand(cf.result_format, "x@y", "user@a.b.c.d.e.f.g.h.i.j", false, &out);
		sqlite_expand(cf.query, "@", NULL, true, &out);
		sqlite_cf_free(&cf);
	}
	buf_free(&err);
	buf_free(&out);
	return 0;
}
