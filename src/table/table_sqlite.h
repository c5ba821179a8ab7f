/*
 * table_sqlite - sqlite: tables configured by sqlite_table(5) files.
 * The configuration parser and the %-expansion are exposed for the unit
 * test and the fuzz target. Internal to src/table.
 */
#ifndef OUTPOST_TABLE_TABLE_SQLITE_H
#define OUTPOST_TABLE_TABLE_SQLITE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

struct sqlite_cf {
	char *dbpath;		/* the database file */
	char *query;		/* template with %s %u %d %S %U %D %1..%9 %% */
	char *result_format;	/* template applied to each row's first column */
	char *domain;		/* comma/space list: names or type:table; "" = any */
	long expansion_limit;	/* 0 = none; more rows is a temporary failure */
};

int sqlite_cf_parse(const char *text, size_t len, const char *path, struct sqlite_cf *cf,
		    struct buf *err);
void sqlite_cf_free(struct sqlite_cf *cf);
int sqlite_expand(const char *format, const char *value, const char *key, bool sql_quote,
		  struct buf *out);

#endif
