/*
 * mem - the one allocator wrapper: never returns NULL, checks size arithmetic.
 *
 * Out of memory and size overflow are fatal (log_panic): there is no sane
 * recovery for an MTA that cannot allocate a few bytes.
 */
#ifndef OUTPOST_LIB_MEM_H
#define OUTPOST_LIB_MEM_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);

/* xfree - free *pp and clear it */
#define xfree(pp) do { free(*(pp)); *(pp) = NULL; } while (0)

#include <stdlib.h>

#endif
