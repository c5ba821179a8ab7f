/*
 * table_index - what the indexed table types (lmdb and its hash/btree/dbm
 * names, cdb) share: index file names, atomic replacement, change detection,
 * the "older than source" warning, and the trailing-NUL convention.
 * (Change detection uses table_stamp_get/table_stamp_changed of table.c.)
 *
 * Only table/ files include this header.
 */
#ifndef OUTPOST_TABLE_TABLE_INDEX_H
#define OUTPOST_TABLE_TABLE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "lib/buf.h"

/*
 * Whether keys and values carry a terminating NUL on disk (postmap -N/-n).
 * Readers accept both forms; writers use the type's default unless told.
 */
enum table_nul {
	TABLE_NUL_DEFAULT = 0,	/* lmdb/hash/btree/dbm: with NUL; cdb: without */
	TABLE_NUL_YES,		/* -N */
	TABLE_NUL_NO,		/* -n */
};

void table_index_path(struct buf *out, const char *name, const char *suffix);
void table_index_warn_older(const char *index_path, const char *source_path);
int table_index_tempfile(const char *path, struct buf *tmp, struct buf *err);
int table_index_commit(const char *tmp, const char *path, struct buf *err);
int table_index_lock(const char *source, struct buf *err);
void table_index_fold(struct buf *out, const char *key, bool fold);

/* Writers of lmdb-backed tables publish their copy with this (table_lmdb.c). */
struct table;
int table_lmdb_commit(struct table *t, struct buf *err);

/* Process-wide default for writers, set by `outpost map -N/-n`. */
void table_index_set_nul(enum table_nul mode);
enum table_nul table_index_nul(void);

#endif
