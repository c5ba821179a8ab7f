/*
 * fuzz_smtp_generic - libFuzzer target for smtp_generic_maps header
 * rewriting: message content from the queue (headers written by anyone
 * who can send mail) split into logical headers, address headers parsed,
 * mapped through an inline: table and written back. The output must keep
 * the body: everything after the first blank line is compared.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* body_of - what follows the first empty line (NULL: no body) */
static const char *body_of(const struct buf *b, size_t *len)
{
	const char *p = b->data, *end = p + b->len;

	if (b->len > 0 && p[0] == '\n') {
		*len = b->len - 1;
		return p + 1;
	}
	for (const char *q = p; q + 1 < end; q++) {
		if (q[0] == '\n' && q[1] == '\n') {
			*len = (size_t)(end - q - 2);
			return q + 2;
		}
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char main_cf[] =
		"mydestination = example.com\n"
		"recipient_delimiter = +\n"
		"propagate_unmatched_extensions = canonical, virtual, generic\n"
		"smtp_generic_maps = inline:{ joe@example.com=joe@isp.test, "
		"@example.com=@isp.test, { joe = \"j q\"@isp.test } }\n";
	static struct config *cf;
	static struct smtp_generic *g;
	struct buf in = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
	const char *b1, *b2;
	size_t l1 = 0, l2 = 0;
	bool changed;

	if (cf == NULL) {
		cf = config_load_text(main_cf, sizeof(main_cf) - 1, NULL, 0, &err);
		if (cf == NULL || (g = smtp_generic_open(cf, false, &err)) == NULL)
			abort();
	}
	buf_append(&in, (const char *)data, size);
	if (smtp_generic_content(g, &in, &out, &changed, &err) == 0 && changed) {
		b1 = body_of(&in, &l1);
		b2 = body_of(&out, &l2);
		if ((b1 == NULL) != (b2 == NULL) || l1 != l2 || (b1 && memcmp(b1, b2, l1) != 0))
			abort();
	}
	buf_free(&in);
	buf_free(&out);
	buf_free(&err);
	return 0;
}
