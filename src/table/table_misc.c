/*
 * table_misc - the small tables with no file: "environ:name" (the process
 * environment; keys are folded like any fixed table, as in Postfix, so
 * only lower-case variable names are found unless TABLE_F_NOFOLD), and
 * "randmap:{a, b, ...}" (a random element per lookup; repeat an element
 * to weight it; elements are kept as written, braces included, as
 * Postfix does).
 *
 * Public: table_environ_ops, table_randmap_ops (via table_registry.c).
 * Bad input: randmap without a non-empty braced list is an open error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "table/table_impl.h"

/* environ_open - nothing to keep */
static int environ_open(struct table *t, const char *name, struct buf *err)
{
	(void)t;
	(void)name;
	(void)err;
	return 0;
}

/* environ_lookup - getenv */
static enum table_status environ_lookup(struct table *t, const char *key, struct buf *value)
{
	const char *v = getenv(key);

	(void)t;
	if (v == NULL)
		return TABLE_NOTFOUND;
	buf_puts(value, v);
	return TABLE_FOUND;
}

/* environ_close - nothing to release */
static void environ_close(struct table *t)
{
	(void)t;
}

const struct table_ops table_environ_ops = {
	.type = "environ",
	.props = TABLE_P_FIXED,
	.open = environ_open,
	.lookup = environ_lookup,
	.close = environ_close,
};

/* randmap_open - the elements of the braced list */
static int randmap_open(struct table *t, const char *name, struct buf *err)
{
	struct strv *sv = xcalloc(1, sizeof(*sv));
	char *copy = xstrdup(name), *body = str_trim(copy);
	const char *serr;

	if (*body != '{' || (body = str_unbrace(body, &serr)) == NULL ||
	    str_split(body, STR_SEP_LIST, sv, &serr) < 0 || sv->n == 0) {
		buf_printf(err, "bad syntax: \"%s\"; need \"randmap:{value...}\"", t->spec);
		strv_free(sv);
		free(sv);
		free(copy);
		return -1;
	}
	free(copy);
	t->priv = sv;
	return 0;
}

/* randmap_lookup - any element, whatever the key */
static enum table_status randmap_lookup(struct table *t, const char *key, struct buf *value)
{
	struct strv *sv = t->priv;

	(void)key;
	buf_puts(value, sv->v[arc4random_uniform((uint32_t)sv->n)]);
	return TABLE_FOUND;
}

/* randmap_close - release the elements */
static void randmap_close(struct table *t)
{
	strv_free(t->priv);
	xfree(&t->priv);
}

const struct table_ops table_randmap_ops = {
	.type = "randmap",
	.props = TABLE_P_PATTERN,
	.open = randmap_open,
	.lookup = randmap_lookup,
	.close = randmap_close,
};
