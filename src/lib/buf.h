/*
 * buf - the growable string/byte buffer used for all text.
 *
 * Invariant: data is always NUL-terminated at data[len], so buf_cstr() is
 * free; len may include embedded NULs for binary use.
 */
#ifndef OUTPOST_LIB_BUF_H
#define OUTPOST_LIB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, int c);
void buf_set(struct buf *b, const char *s);
void buf_truncate(struct buf *b, size_t len);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
char *buf_steal(struct buf *b);

/* buf_cstr - the contents as a C string ("" for an unused buffer) */
static inline const char *buf_cstr(const struct buf *b)
{
	return b->data ? b->data : "";
}

#endif
