/*
 * fuzz_header - libFuzzer target for the header parser: any bytes are
 * split into lines, classified, unfolded and parsed as an address list;
 * no crash, every address span lies inside the text in order, and a
 * header rendered again from its parsed addresses keeps its name.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/mem.h"
#include "mail/header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput - one input as a header block */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct buf unfolded = BUF_INIT, tmp = BUF_INIT, l = BUF_INIT, d = BUF_INIT;
	struct header_addrs list = HEADER_ADDRS_INIT;
	size_t pos = 0;

	while (pos < size) {
		const char *nl = memchr(s + pos, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - (s + pos)) : size - pos;
		size_t off = header_value_offset(s + pos, len);

		if (off > len)
			__builtin_trap();
		(void)header_classify(s + pos, len);
		pos += len + 1;
	}
	header_unfold(s, size, &unfolded);
	if (unfolded.len > size)
		__builtin_trap();
	header_addrs_parse(s, size, &list);
	for (size_t i = 0; i < list.n; i++) {
		if (list.v[i].start > list.v[i].end || list.v[i].end > size ||
		    (i > 0 && list.v[i].start < list.v[i - 1].end))
			__builtin_trap();
		header_addr_externalize(list.v[i].addr, &tmp);
		header_addr_split(list.v[i].addr, &l, &d);
	}
	header_addrs_free(&list);
	{
		/* render "To:" + text again from its parsed addresses */
		struct buf line = BUF_INIT, out = BUF_INIT;
		struct header_addrs l1 = HEADER_ADDRS_INIT;

		buf_puts(&line, "To:");
		buf_append(&line, s, size);
		header_addrs_parse(line.data + 3, line.len - 3, &l1);
		header_addrs_render(line.data, line.len, &l1, NULL, &out);
		if (out.len < 4 || memcmp(out.data, "To: ", 4) != 0)
			__builtin_trap();
		header_addrs_free(&l1);
		buf_free(&line);
		buf_free(&out);
	}
	{
		char *z = xstrndup(s, size);

		header_addr_internalize(z, &tmp);
		free(z);
	}
	buf_free(&unfolded);
	buf_free(&tmp);
	buf_free(&l);
	buf_free(&d);
	return 0;
}
