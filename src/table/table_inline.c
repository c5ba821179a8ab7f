/*
 * table_inline - "inline:{ key=value, { key = text with spaces } }": a
 * small table written in the parameter value itself.
 *
 * Public: table_inline_ops (via table_registry.c).
 * Bad input: a name not in braces, an empty list, unbalanced braces or an
 * element without '=' is an open error worded like Postfix's. A later
 * duplicate replaces an earlier one, as in Postfix.
 */
#include <string.h>

#include "lib/buf.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "table/table_hmap.h"
#include "table/table_impl.h"

/* inline_parse - fill map from the braced list; -1 with err on bad syntax */
static int inline_parse(struct table *t, struct table_hmap *map, struct buf *err)
{
	struct strv sv = STRV_INIT;
	char *copy = xstrdup(t->name), *body;
	const char *serr;
	int rc = -1;

	body = str_trim(copy);
	if (*body != '{' || (body = str_unbrace(body, &serr)) == NULL ||
	    str_split(body, STR_SEP_LIST, &sv, &serr) < 0 || sv.n == 0) {
		buf_printf(err, "bad syntax: \"%s\"; need \"inline:{name=value...}\"", t->spec);
		goto out;
	}
	for (size_t i = 0; i < sv.n; i++) {
		char *item = sv.v[i], *eq, *key;

		if (*item == '{' && (item = str_unbrace(item, &serr)) == NULL) {
			buf_printf(err, "bad syntax: \"%s\"; need \"inline:{name=value...}\"",
				   t->spec);
			goto out;
		}
		if ((eq = strchr(item, '=')) == NULL || eq == item) {
			buf_printf(err,
				   "missing '=' after attribute name: \"%s\"; need \"inline:{name=value...}\"",
				   t->spec);
			goto out;
		}
		*eq = '\0';
		key = str_trim(item);
		if (!(t->flags & TABLE_F_NOFOLD))
			str_lower(key);
		table_hmap_put(map, key, str_trim(eq + 1), true);
	}
	rc = 0;
out:
	strv_free(&sv);
	free(copy);
	return rc;
}

/* inline_open - parse once; nothing to reload */
static int inline_open(struct table *t, const char *name, struct buf *err)
{
	struct table_hmap *map = xcalloc(1, sizeof(*map));

	(void)name;
	table_hmap_init(map);
	if (inline_parse(t, map, err) < 0) {
		table_hmap_free(map);
		free(map);
		return -1;
	}
	t->priv = map;
	return 0;
}

/* inline_lookup - one probe */
static enum table_status inline_lookup(struct table *t, const char *key, struct buf *value)
{
	const char *v = table_hmap_get(t->priv, key);

	if (v == NULL)
		return TABLE_NOTFOUND;
	buf_puts(value, v);
	return TABLE_FOUND;
}

/* inline_close - release the map */
static void inline_close(struct table *t)
{
	struct table_hmap *map = t->priv;

	table_hmap_free(map);
	free(map);
	t->priv = NULL;
}

/* inline_iterate - every entry, in the order written */
static int inline_iterate(struct table *t, table_entry_fn fn, void *ctx)
{
	struct table_hmap *map = t->priv;

	for (size_t i = 0; i < map->n; i++)
		if (fn(table_hmap_key(map, i), table_hmap_value(map, i), ctx) < 0)
			return -1;
	return 0;
}

const struct table_ops table_inline_ops = {
	.type = "inline",
	.props = TABLE_P_FIXED,
	.open = inline_open,
	.lookup = inline_lookup,
	.close = inline_close,
	.iterate = inline_iterate,
};
