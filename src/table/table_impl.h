/*
 * table_impl - what a table type provides: one struct table_ops per type,
 * one line in table_registry.c. Only table/ files include this header.
 *
 * A new type touches table_foo.c, table_foo_test.c and one registry line.
 */
#ifndef OUTPOST_TABLE_TABLE_IMPL_H
#define OUTPOST_TABLE_TABLE_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "lib/buf.h"
#include "table/table.h"

struct table;

/* Entries as read from a source file, for builders and `outpost map`. */
struct table_source_opts {
	bool fold;		/* lower-case keys */
	bool replace_dups;	/* -r: last duplicate wins (else first, with a warning) */
	bool quiet_dups;	/* -w: no warning for duplicates */
	bool alias_format;	/* aliases(5): "key: value", key NUL-terminated (-N) */
	bool strict;		/* a malformed line is an error (else warned and skipped, as postmap) */
};

/*
 * The reader calls fn once per entry. fn returns 0 when stored,
 * TABLE_ENTRY_DUP when the key was already present (the reader then warns
 * "FILE, line N: duplicate entry" unless quiet_dups or replace_dups, as
 * postmap -w / -r; fn itself applies replace_dups), or -1 to stop reading
 * (the reader reports FILE, line N).
 */
#define TABLE_ENTRY_DUP 1
typedef int (*table_entry_fn)(const char *key, const char *value, void *ctx);

struct table_ops {
	const char *type;	/* "texthash" */
	unsigned props;		/* TABLE_P_FIXED or TABLE_P_PATTERN */
	/* open name; spec-level flags in t->flags; fill err and return -1 on error */
	int (*open)(struct table *t, const char *name, struct buf *err);
	enum table_status (*lookup)(struct table *t, const char *key, struct buf *value);
	void (*close)(struct table *t);
	/* optional: non-zero when the backing file changed and a reopen is due */
	int (*stale)(struct table *t);
	/* optional (indexed types): build name.suffix from the source file name */
	int (*build)(const char *name, const struct table_source_opts *o, struct buf *err);
	/* optional: every entry (outpost map -s) */
	int (*iterate)(struct table *t, table_entry_fn fn, void *ctx);
	/*
	 * optional: a hint that key (len bytes, not NUL-terminated; fold: to
	 * be folded as table_lookup will) is looked up next: start loading
	 * the memory that lookup will touch. No result, no errors.
	 */
	void (*prefetch)(struct table *t, const char *key, size_t len, bool fold);
	/* optional: incremental updates (outpost map -i / -d) */
	int (*update)(struct table *t, const char *key, const char *value, struct buf *err);
	int (*remove)(struct table *t, const char *key, struct buf *err);
};

struct table {
	const struct table_ops *ops;
	char *spec;		/* "texthash:/etc/outpost/virtual" as opened */
	char *name;		/* the part after "type:" */
	unsigned flags;		/* TABLE_F_* given to table_open */
	unsigned props;		/* TABLE_P_*: union/pipe copy their first member's */
	void *priv;		/* the type's own state */
	struct buf errmsg;	/* reason of the last TABLE_TEMPFAIL */
	int64_t checked;	/* last staleness check, monotonic ms (table.c) */
	struct buf fold;	/* scratch: the lower-cased key (a table is single-threaded) */
};

/* A file's identity, for stale(): inode, size and modification time. */
struct table_stamp {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

int table_stamp_get(const char *path, struct table_stamp *st);
bool table_stamp_changed(const char *path, struct table_stamp *st);
/* len bytes of src to dst, ASCII upper case folded to lower (as table keys are) */
void table_fold_copy(char *dst, const char *src, size_t len);

/* A table list (table.c); table_search.c walks it itself to trace each step. */
struct table_list {
	struct table **v;
	size_t n;
	struct buf err;	/* reason of the last TABLE_TEMPFAIL */
};

const struct table_ops *table_type_find(const char *type);
void table_set_error(struct table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The source-file reader shared by texthash, lmdb, cdb builders and aliases. */
int table_source_read(const char *path, const struct table_source_opts *o,
		      table_entry_fn fn, void *ctx, struct buf *err);

/*
 * The logical-line reader under it (comments, blank lines, continuation
 * lines), for the pattern files (regexp, pcre, cidr). fn may modify line;
 * it returns -1 to stop reading (having filled err), else 0.
 */
typedef int (*table_line_fn)(char *line, long lineno, void *ctx);
int table_source_lines(const char *path, table_line_fn fn, void *ctx, struct buf *err);

/*
 * table_syntax - report a bad rule of a pattern file: a warning (the rule
 * is skipped, as Postfix does) or, with TABLE_F_STRICT, an open error in
 * err. Returns 0 to go on, -1 to stop.
 */
int table_syntax(struct table *t, struct buf *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
