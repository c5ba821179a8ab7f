/*
 * table_pattern - what regexp: and pcre: tables share: the file syntax
 * ("/pattern/flags result", "!/pattern/flags result", "if /pattern/flags"
 * ... "endif", any delimiter), the if/endif walk, and "$n" / "${n}" /
 * "$(n)" / "$$" substitution. The regex engine comes in through struct
 * pattern_engine. Internal to src/table.
 */
#ifndef OUTPOST_TABLE_TABLE_PATTERN_H
#define OUTPOST_TABLE_TABLE_PATTERN_H

#include <stddef.h>

#include "lib/buf.h"
#include "table/table_impl.h"

#define PATTERN_MAX_GROUPS 100

struct pattern_engine {
	const char *what;	/* "regexp" or "pcre", for messages */
	/* compile with flags; NULL with a reason in err ("unknown regexp option ...") */
	void *(*compile)(const char *pattern, const char *flags, const char *where,
			 struct buf *err);
	/* capture groups of a compiled pattern (not counting group 0) */
	size_t (*groups)(const void *re);
	/*
	 * 1 match (ovec[2i], ovec[2i+1] = start, end of group i, -1 if unset),
	 * 0 no match, -1 engine error (reason in err)
	 */
	int (*match)(void *re, const char *subject, size_t len, long *ovec, size_t novec,
		     struct buf *err);
	void (*free)(void *re);
	/*
	 * optional: the i-th literal (from 0) every match contains (ASCII
	 * case may differ), NULL after the last; keys without one of them
	 * skip match() (table_litindex.c)
	 */
	const char *(*literal)(const void *re, size_t i, size_t *len);
};

int pattern_open(struct table *t, const struct pattern_engine *eng, struct buf *err);
enum table_status pattern_lookup(struct table *t, const char *key, struct buf *value);
void pattern_close(struct table *t);
int pattern_stale(struct table *t);

#endif
