/*
 * fuzz_regexp_table - libFuzzer target for the regexp: file parser and
 * lookup walk: any bytes become a regexp table, opened leniently, strictly
 * and without folding, then queried; no crash, no leak, no empty found
 * value, no error without a reason.
 */
#include <stddef.h>
#include <stdint.h>

#include "table/table_fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput - one input as a regexp table file */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_table_file("regexp", data, size);
	return 0;
}
