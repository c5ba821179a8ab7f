/*
 * table_static - "static:value" and "static:{ text with spaces }": every
 * key finds the same value. Also "fail:name", which fails every lookup
 * (a placeholder that defers mail rather than letting it through).
 *
 * Public: table_static_ops, table_fail_ops (via table_registry.c).
 * Bad input: "static:{" without its '}' is an open error.
 */
#include <string.h>

#include "lib/buf.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "table/table_impl.h"

/* static_open - keep the (unbraced) value */
static int static_open(struct table *t, const char *name, struct buf *err)
{
	char *copy = xstrdup(name), *v = copy;
	const char *serr;

	if (*str_trim(copy) == '{' && (v = str_unbrace(copy, &serr)) == NULL) {
		buf_printf(err, "bad static:name syntax: missing '}' in \"%s\"", name);
		free(copy);
		return -1;
	}
	t->priv = xstrdup(v);
	free(copy);
	return 0;
}

/* static_lookup - the value, whatever the key */
static enum table_status static_lookup(struct table *t, const char *key, struct buf *value)
{
	(void)key;
	buf_puts(value, t->priv);
	return TABLE_FOUND;
}

/* static_close - release the value */
static void static_close(struct table *t)
{
	xfree(&t->priv);
}

const struct table_ops table_static_ops = {
	.type = "static",
	.props = TABLE_P_FIXED,
	.open = static_open,
	.lookup = static_lookup,
	.close = static_close,
};

/* fail_open - nothing to keep */
static int fail_open(struct table *t, const char *name, struct buf *err)
{
	(void)t;
	(void)name;
	(void)err;
	return 0;
}

/* fail_lookup - always a temporary failure */
static enum table_status fail_lookup(struct table *t, const char *key, struct buf *value)
{
	(void)key;
	(void)value;
	table_set_error(t, "table %s: lookup failed (a fail: table always fails)", t->spec);
	return TABLE_TEMPFAIL;
}

/* fail_close - nothing to release */
static void fail_close(struct table *t)
{
	(void)t;
}

const struct table_ops table_fail_ops = {
	.type = "fail",
	.props = TABLE_P_FIXED,
	.open = fail_open,
	.lookup = fail_lookup,
	.close = fail_close,
};
