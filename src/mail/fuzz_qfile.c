/*
 * fuzz_qfile - libFuzzer target for the queue file reader: any byte string
 * must be either accepted as a consistent file or refused with a reason,
 * never read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mem.h"
#include "mail/qfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qfile *q = xcalloc(1, sizeof(*q));
	struct buf err = BUF_INIT;
	char *copy = xmemdup(data, size ? size : 1);	/* exact bounds for ASan */

	q->fd = -1;
	if (qfile_parse(q, copy, size, &err) == 0) {
		/* an accepted file must be self-consistent */
		if (q->content_offset + q->content_length > (off_t)size)
			__builtin_trap();
		for (size_t i = 0; i < q->nrcpt; i++)
			if (q->rcpt[i].address == NULL || q->rcpt[i].status_offset >= (off_t)size)
				__builtin_trap();
	} else if (err.len == 0) {
		__builtin_trap();	/* refusals always say why */
	}
	qfile_free(&q);
	buf_free(&err);
	free(copy);
	return 0;
}
