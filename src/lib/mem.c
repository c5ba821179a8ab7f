/*
 * mem - allocation wrappers that never return NULL.
 *
 * Public: xmalloc, xcalloc, xreallocarray, xstrdup, xstrndup, xmemdup.
 * Bad input: a size that overflows, or exhausted memory, is a panic.
 */
#include "lib/mem.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

/* xmalloc - malloc that never fails; zero bytes still yields a pointer */
void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		log_panic("out of memory allocating %zu bytes", size);
	return p;
}

/* xcalloc - zeroed array allocation with overflow check */
void *xcalloc(size_t nmemb, size_t size)
{
	size_t total;
	void *p;

	if (__builtin_mul_overflow(nmemb, size, &total))
		log_panic("allocation size overflow: %zu * %zu", nmemb, size);
	p = calloc(total ? total : 1, 1);
	if (p == NULL)
		log_panic("out of memory allocating %zu bytes", total);
	return p;
}

/* xreallocarray - resize an array with overflow check */
void *xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	size_t total;
	void *p;

	if (__builtin_mul_overflow(nmemb, size, &total))
		log_panic("allocation size overflow: %zu * %zu", nmemb, size);
	p = realloc(ptr, total ? total : 1);
	if (p == NULL)
		log_panic("out of memory allocating %zu bytes", total);
	return p;
}

/* xstrdup - duplicate a string */
char *xstrdup(const char *s)
{
	return xmemdup(s, strlen(s) + 1);
}

/* xstrndup - duplicate at most n bytes of a string, always terminated */
char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* xmemdup - duplicate a block of bytes */
void *xmemdup(const void *src, size_t n)
{
	void *p = xmalloc(n);

	if (n)
		memcpy(p, src, n);
	return p;
}
