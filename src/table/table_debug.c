/*
 * table_debug - the wrappers: "debug:type:name" is the named table with
 * every lookup logged (key, then the value, "not found" or the error),
 * for finding out what a daemon really asks; "proxy:type:name" is the
 * named table itself (Postfix routes it through proxymap(8); Outpost has
 * no proxy process, so main.cf files written for Postfix keep working).
 * Both take the inner table's properties.
 *
 * Public: table_debug_ops, table_proxy_ops (via table_registry.c).
 * Bad input: the inner table's open error.
 */
#include "lib/buf.h"
#include "lib/log.h"
#include "table/table_impl.h"

/* debug_open - open the inner table */
static int debug_open(struct table *t, const char *name, struct buf *err)
{
	struct table *inner = table_open(name, t->flags, err);

	if (inner == NULL)
		return -1;
	t->priv = inner;
	t->props = table_props(inner);
	return 0;
}

/* debug_lookup - ask the inner table, log the exchange */
static enum table_status debug_lookup(struct table *t, const char *key, struct buf *value)
{
	struct table *inner = t->priv;
	enum table_status st = table_lookup(inner, key, value);

	switch (st) {
	case TABLE_FOUND:
		log_info("%s: lookup \"%s\" = \"%s\"", t->spec, key, buf_cstr(value));
		break;
	case TABLE_NOTFOUND:
		log_info("%s: lookup \"%s\": not found", t->spec, key);
		break;
	case TABLE_TEMPFAIL:
		log_info("%s: lookup \"%s\": error: %s", t->spec, key, table_error(inner));
		table_set_error(t, "%s", table_error(inner));
		break;
	}
	return st;
}

/* proxy_lookup - ask the inner table */
static enum table_status proxy_lookup(struct table *t, const char *key, struct buf *value)
{
	struct table *inner = t->priv;
	enum table_status st = table_lookup(inner, key, value);

	if (st == TABLE_TEMPFAIL)
		table_set_error(t, "%s", table_error(inner));
	return st;
}

/* debug_close - close the inner table */
static void debug_close(struct table *t)
{
	struct table *inner = t->priv;

	table_close(&inner);
	t->priv = NULL;
}

/* debug_iterate - the inner table's entries, if it can list them */
static int debug_iterate(struct table *t, table_entry_fn fn, void *ctx)
{
	struct table *inner = t->priv;

	if (inner->ops->iterate == NULL)
		return -1;
	return inner->ops->iterate(inner, fn, ctx);
}

const struct table_ops table_debug_ops = {
	.type = "debug",
	.props = TABLE_P_FIXED,
	.open = debug_open,
	.lookup = debug_lookup,
	.close = debug_close,
	.iterate = debug_iterate,
};

const struct table_ops table_proxy_ops = {
	.type = "proxy",
	.props = TABLE_P_FIXED,
	.open = debug_open,
	.lookup = proxy_lookup,
	.close = debug_close,
	.iterate = debug_iterate,
};
