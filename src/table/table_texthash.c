/*
 * table_texthash - "texthash:/path": a source file read into memory, with
 * the semantics of an indexed table but no postmap step. The file is
 * re-read when it changes (inode, size or mtime), so daemons see edits
 * without a restart.
 *
 * Public: table_texthash_ops (via table_registry.c).
 * Bad input: as table_source_read (postmap's warnings; an unreadable file
 * is an open error).
 */
#include "lib/buf.h"
#include "lib/mem.h"
#include "table/table_hmap.h"
#include "table/table_impl.h"

struct texthash {
	struct table_hmap map;
	struct table_stamp stamp;
};

/* texthash_store - source entry callback: first duplicate wins */
static int texthash_store(const char *key, const char *value, void *ctx)
{
	struct texthash *th = ctx;

	return table_hmap_put(&th->map, key, value, false) ? TABLE_ENTRY_DUP : 0;
}

/* texthash_open - read the whole file */
static int texthash_open(struct table *t, const char *name, struct buf *err)
{
	struct table_source_opts o = { .fold = !(t->flags & TABLE_F_NOFOLD) };
	struct texthash *th = xcalloc(1, sizeof(*th));

	table_hmap_init(&th->map);
	table_stamp_get(name, &th->stamp);
	if (table_source_read(name, &o, texthash_store, th, err) < 0) {
		table_hmap_free(&th->map);
		free(th);
		return -1;
	}
	table_hmap_compact(&th->map);
	t->priv = th;
	return 0;
}

/* texthash_lookup - one probe in the in-memory map */
static enum table_status texthash_lookup(struct table *t, const char *key, struct buf *value)
{
	struct texthash *th = t->priv;
	const char *v = table_hmap_get(&th->map, key);

	if (v == NULL)
		return TABLE_NOTFOUND;
	buf_puts(value, v);
	return TABLE_FOUND;
}

/* texthash_close - release the map */
static void texthash_close(struct table *t)
{
	struct texthash *th = t->priv;

	table_hmap_free(&th->map);
	free(th);
	t->priv = NULL;
}

/* texthash_stale - did the source file change since it was read? */
static int texthash_stale(struct table *t)
{
	struct texthash *th = t->priv;

	return table_stamp_changed(t->name, &th->stamp);
}

/* texthash_iterate - every entry, in file order */
static int texthash_iterate(struct table *t, table_entry_fn fn, void *ctx)
{
	struct texthash *th = t->priv;

	for (size_t i = 0; i < th->map.n; i++)
		if (fn(table_hmap_key(&th->map, i), table_hmap_value(&th->map, i), ctx) < 0)
			return -1;
	return 0;
}

const struct table_ops table_texthash_ops = {
	.type = "texthash",
	.props = TABLE_P_FIXED,
	.open = texthash_open,
	.lookup = texthash_lookup,
	.close = texthash_close,
	.stale = texthash_stale,
	.iterate = texthash_iterate,
};
