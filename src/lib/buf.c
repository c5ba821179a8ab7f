/*
 * buf - growable NUL-terminated buffers.
 *
 * Public: buf_init, buf_free, buf_reset, buf_reserve, buf_append, buf_puts,
 * buf_putc, buf_set, buf_truncate, buf_printf, buf_vprintf, buf_steal.
 * Bad input: none; size overflow panics in the allocator.
 */
#include "lib/buf.h"

#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "lib/mem.h"

/* buf_init - make an empty buffer */
void buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/* buf_free - release storage; the buffer is empty and reusable afterwards */
void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

/* buf_reset - empty the buffer but keep its storage */
void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* buf_reserve - make room for extra more bytes plus the terminator */
void buf_reserve(struct buf *b, size_t extra)
{
	size_t need;
	size_t cap;

	if (__builtin_add_overflow(b->len, extra, &need) ||
	    __builtin_add_overflow(need, 1, &need))
		log_panic("buffer size overflow");
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need) {
		if (__builtin_mul_overflow(cap, 2, &cap))
			log_panic("buffer size overflow");
	}
	b->data = xreallocarray(b->data, cap, 1);
	b->cap = cap;
}

/* buf_append - add n bytes */
void buf_append(struct buf *b, const void *data, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* buf_puts - add a C string */
void buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

/* buf_putc - add one byte */
void buf_putc(struct buf *b, int c)
{
	buf_reserve(b, 1);
	b->data[b->len++] = (char)c;
	b->data[b->len] = '\0';
}

/* buf_set - replace the contents with a C string */
void buf_set(struct buf *b, const char *s)
{
	buf_reset(b);
	buf_puts(b, s);
}

/* buf_truncate - shorten to len bytes (no-op when already shorter) */
void buf_truncate(struct buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

/* buf_vprintf - append formatted text: print into the free space, grow and retry if short */
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	size_t room;
	int n;

	buf_reserve(b, 64);
	room = b->cap - b->len;
	va_copy(ap2, ap);
	n = vsnprintf(b->data + b->len, room, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		log_panic("buf_vprintf: bad format \"%s\"", fmt);
	if ((size_t)n >= room) {
		buf_reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

/* buf_printf - append formatted text */
void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* buf_steal - hand the storage to the caller as a C string; buffer is reset */
char *buf_steal(struct buf *b)
{
	char *s = b->data ? b->data : xstrdup("");

	buf_init(b);
	return s;
}
