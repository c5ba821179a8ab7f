/*
 * fuzz_pipe_expand - libFuzzer target for pipe(8) argv expansion with
 * addresses as the network supplies them (quoting, case folding,
 * extension splitting) and with macro syntax of any shape. Input: one
 * byte of flags, then lines: the argv words (space-separated), the
 * sender, and up to 64 recipients.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "deliver/pipe.h"
#include "lib/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strv lines = STRV_INIT, argv = STRV_INIT, out = STRV_INIT;
	struct buf err = BUF_INIT;
	const char *p, *end, *e;
	unsigned flags;

	if (size < 1)
		return 0;
	flags = data[0] | (data[0] & 1u) << 8;	/* bits 6, 7, 8: h, q, u */
	p = (const char *)data + 1;
	end = (const char *)data + size;
	while (p < end && lines.n < 66) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		strv_push_take(&lines, xstrndup(p, len));
		p += len + (nl != NULL);
	}
	if (lines.n >= 2 && str_split(lines.v[0], " ", &argv, &e) == 0) {
		struct pipe_vars v = {
			.sender = lines.v[1], .nexthop = "Example.COM", .queue_id = "Q",
			.size = "1", .delimiters = "+-", .nrcpt = lines.n - 2,
			.rcpt = (const char *const *)lines.v + 2,
			.original = (const char *const *)lines.v + 2,
		};
		pipe_expand(&argv, flags, &v, &out, &err);
	}
	strv_free(&lines);
	strv_free(&argv);
	strv_free(&out);
	buf_free(&err);
	return 0;
}
