/*
 * fuzz_cidr_table - libFuzzer target for the cidr: file parser and
 * lookup walk: any bytes become a cidr table, opened leniently, strictly
 * and without folding, then queried; no crash, no leak, no empty found
 * value, no error without a reason.
 */
#include <stddef.h>
#include <stdint.h>

#include "table/table_fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput - one input as a cidr table file */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_table_file("cidr", data, size);
	return 0;
}
