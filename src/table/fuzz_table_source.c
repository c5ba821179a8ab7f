/*
 * fuzz_table_source - libFuzzer target for the table source reader (the
 * texthash / lmdb / cdb source format and aliases(5)): any bytes are read
 * with every option combination and as a texthash table; no crash, no
 * leak, every entry has a non-empty key and value.
 */
#include <stddef.h>
#include <stdint.h>

#include "table/table_fuzz_util.h"
#include "table/table_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check_entry - the reader never hands over an empty key or value */
static int check_entry(const char *key, const char *value, void *ctx)
{
	size_t *n = ctx;

	if (*key == '\0' || *value == '\0')
		__builtin_trap();
	return (*n)++ % 3 == 2 ? TABLE_ENTRY_DUP : 0;
}

/* LLVMFuzzerTestOneInput - one input as a source file */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT;

	fuzz_write(data, size);
	for (unsigned bits = 0; bits < 16; bits++) {
		struct table_source_opts o = {
			.fold = bits & 1,
			.alias_format = bits & 2,
			.strict = bits & 4,
			.quiet_dups = bits & 8,
		};
		size_t n = 0;

		if (table_source_read(fuzz_path(), &o, check_entry, &n, &err) < 0 && err.len == 0)
			__builtin_trap();
	}
	buf_free(&err);
	fuzz_table_file("texthash", data, size);
	return 0;
}
