/*
 * fuzz_netmap_reply - libFuzzer target: the input as what a tcp: or
 * socketmap: server answered (a socketmap netstring payload, a tcp_table
 * reply line), and as a key for the tcp: request encoding.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/mem.h"
#include "table/table_netmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check - one parse: a failure always says why; success never does */
static void check(enum table_status st, const struct buf *why)
{
	if ((st == TABLE_TEMPFAIL) != (why->len > 0))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf v = BUF_INIT, why = BUF_INIT;
	char *key = xstrndup((const char *)data, size);

	check(socketmap_parse_reply((const char *)data, size, &v, &why), &why);
	buf_reset(&v);
	buf_reset(&why);
	check(tcp_parse_reply((const char *)data, size, &v, &why), &why);
	buf_reset(&v);
	tcp_encode(key, &v);
	if (strpbrk(buf_cstr(&v), " \t\r\n") != NULL)
		__builtin_trap();
	free(key);
	buf_free(&v);
	buf_free(&why);
	return 0;
}
