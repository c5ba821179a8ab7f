/*
 * fuzz_smtp_reply - libFuzzer target for what remote servers send: reply
 * lines (multi-line assembly, code checks), EHLO keywords and the
 * enhanced status code taken from a reply.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "deliver/smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply r;
	struct smtp_ehlo e = { .mechs = BUF_INIT };
	const char *p = (const char *)data, *end = p + size;
	char dsn[16];

	smtp_reply_init(&r);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);
		int st = smtp_reply_line(&r, p, len && p[len - 1] == '\r' ? len - 1 : len);

		if (st != 0) {
			if (st > 0) {
				smtp_ehlo_parse(&r, &e);
				smtp_reply_dsn(r.code, buf_cstr(&r.text), dsn);
			}
			smtp_reply_reset(&r);
		}
		p += len + (eol ? 1 : 0);
	}
	smtp_reply_free(&r);
	buf_free(&e.mechs);
	return 0;
}
