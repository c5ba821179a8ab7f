/*
 * fuzz_addr - libFuzzer target for the RFC 5321 path parser and the
 * RFC 5322 list splitter: any bytes in, no crash, and a parsed address
 * survives addr_external() and a re-parse of its external form.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/mem.h"
#include "mail/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput - one input, both strict and lenient */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	struct addr_path p, q;
	struct strv sv = STRV_INIT;
	struct buf ext = BUF_INIT, again = BUF_INIT;
	const char *rest, *err;

	addr_path_init(&p);
	addr_path_init(&q);
	for (unsigned f = 0; f < 2; f++) {
		if (addr_parse_path(s, f ? ADDR_P_STRICT : 0, &p, &rest, &err) == 0 &&
		    !(p.flags & ADDR_F_NULL)) {
			addr_external(buf_cstr(&p.addr), &ext);
			if (ext.len > ADDR_MAX_LEN)	/* quoting made it too long */
				continue;
			buf_printf(&again, "<%s>", buf_cstr(&ext));
			if (addr_parse_path(buf_cstr(&again), 0, &q, &rest, &err) != 0 ||
			    strcmp(buf_cstr(&q.addr), buf_cstr(&p.addr)) != 0)
				__builtin_trap();
			buf_reset(&again);
		}
	}
	(void)addr_list_split(s, &sv, &err);
	strv_free(&sv);
	buf_free(&ext);
	buf_free(&again);
	addr_path_free(&p);
	addr_path_free(&q);
	free(s);
	return 0;
}
