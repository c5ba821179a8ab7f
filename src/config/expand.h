/*
 * expand - Postfix's $name expansion language, independent of main.cf.
 *
 * Forms: $name ${name} $(name) $$ ${name?value} ${name:value}
 * ${name?{value}:{value}} and ${{text} op {text} ? {value} : {value}} with
 * op one of == != < <= > >= (decimal) or ==level !=level <level <=level
 * >level >=level (compatibility levels such as 3.6).
 *
 * The caller supplies lookup(): it returns the already expanded value of a
 * name ("" when undefined), or NULL with err filled when that value cannot
 * be produced (for example a reference loop), which aborts the expansion.
 */
#ifndef OUTPOST_CONFIG_EXPAND_H
#define OUTPOST_CONFIG_EXPAND_H

#include "lib/buf.h"
#include "lib/str.h"

typedef const char *(*expand_lookup_fn)(void *ctx, const char *name, struct buf *err);

int expand_text(const char *text, expand_lookup_fn lookup, void *ctx, struct buf *out,
		struct buf *err);
void expand_refs(const char *text, struct strv *names);
int expand_level_cmp(const char *a, const char *b, int *cmp);

#endif
