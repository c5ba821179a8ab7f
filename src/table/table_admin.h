/*
 * table_admin - what `outpost map` and `outpost alias` need beyond lookups:
 * build an index from its source file, list every entry, update or delete
 * entries in place (through a copy, see table_index.c), and the NUL
 * convention of writers (-N/-n).
 *
 * Public: table_admin_build, table_admin_iterate, table_admin_update,
 * table_admin_remove, table_admin_commit, table_admin_set_nul,
 * table_admin_read_source, table_alias_value.
 */
#ifndef OUTPOST_TABLE_TABLE_ADMIN_H
#define OUTPOST_TABLE_TABLE_ADMIN_H

#include <stdbool.h>

#include "lib/buf.h"
#include "table/table.h"

struct table_build_opts {
	bool fold;		/* lower-case keys (postmap without -f) */
	bool replace_dups;	/* -r: last duplicate wins */
	bool quiet_dups;	/* -w: no duplicate warnings */
	bool alias_format;	/* aliases(5) source: "name: value" */
};

/*
 * Called once per entry; non-zero stops the walk and is returned. While
 * reading a source, TABLE_ADMIN_DUP says "key already present" (the reader
 * warns with file and line unless quiet_dups).
 */
#define TABLE_ADMIN_DUP 1
typedef int (*table_admin_fn)(const char *key, const char *value, void *ctx);

/* Writers: 0 = the type's default, 1 = with a trailing NUL (-N), -1 = without (-n). */
void table_admin_set_nul(int nul);

int table_admin_build(const char *spec, const struct table_build_opts *o, struct buf *err);
int table_admin_iterate(struct table *t, table_admin_fn fn, void *ctx, struct buf *err);
int table_admin_update(struct table *t, const char *key, const char *value, struct buf *err);
int table_admin_remove(struct table *t, const char *key, struct buf *err);
int table_admin_commit(struct table *t, struct buf *err);
/* aliases(5) right-hand side as postalias stores it: "a,b ,  c" -> "a, b, c" */
void table_alias_value(const char *value, struct buf *out);

int table_admin_read_source(const char *path, const struct table_build_opts *o,
			    table_admin_fn fn, void *ctx, struct buf *err);

#endif
