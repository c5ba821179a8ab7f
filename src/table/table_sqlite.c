/*
 * table_sqlite - "sqlite:/path/to/file.cf": SQL lookups in an SQLite
 * database, configured as sqlite_table(5) describes.
 *
 * Public: table_sqlite_ops (via table_registry.c).
 *
 * The configuration (table_sqlcf.c) names dbpath, query, result_format,
 * domain and expansion_limit. A lookup expands the query with the
 * (folded) key, SQL-quoting every substitution; each row's first column
 * is formatted with result_format and the results are joined with ",". A
 * query that needs a part the key lacks (%d without a domain, %2 with one
 * label) is not run: "not found". More rows than expansion_limit is a
 * temporary failure, as is any database error.
 * Bad input: what sql_cf_read rejects, and a database that cannot be
 * opened, are open errors.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "table/table_dictcf.h"
#include "table/table_impl.h"
#include "table/table_sqlcf.h"

struct sqlite_table {
	struct sql_base b;	/* first: sql_base_stale reads it */
	sqlite3 *db;
};

static void sqlite_close(struct table *t);

/* sqlite_open_any - parse the .cf file, open the database read-only */
static int sqlite_open_any(struct table *t, const char *name, struct buf *err)
{
	struct sqlite_table *p = xcalloc(1, sizeof(*p));

	t->priv = p;
	if (sql_base_open(&p->b, t, name, "sqlite", err) != 0)
		return -1;
	if (sqlite3_open_v2(p->b.cf.dbpath, &p->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		buf_printf(err, "%s: open database %s: %s", name, p->b.cf.dbpath,
			   p->db ? sqlite3_errmsg(p->db) : "out of memory");
		return -1;
	}
	sqlite3_busy_timeout(p->db, 10000);
	return 0;
}

/* sqlite_open - as sqlite_open_any; on failure nothing is left allocated */
static int sqlite_open(struct table *t, const char *name, struct buf *err)
{
	if (sqlite_open_any(t, name, err) == 0)
		return 0;
	sqlite_close(t);
	return -1;
}

/* sqlite_rows - run the query, format and join the rows */
static enum table_status sqlite_rows(struct table *t, struct sqlite_table *p, const char *key,
				     struct buf *value)
{
	struct dictcf_result r = { p->b.cf.result_format, p->b.cf.expansion_limit, key, 0, value };
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(p->db, buf_cstr(&p->b.query), -1, &st, NULL) != SQLITE_OK) {
		table_set_error(t, "%s: SQL error: %s", t->name, sqlite3_errmsg(p->db));
		return TABLE_TEMPFAIL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (dictcf_result_add(t, &r, (const char *)sqlite3_column_text(st, 0)) != 0) {
			sqlite3_finalize(st);
			return TABLE_TEMPFAIL;
		}
	}
	if (rc != SQLITE_DONE) {
		table_set_error(t, "%s: SQL error: %s", t->name, sqlite3_errmsg(p->db));
		sqlite3_finalize(st);
		return TABLE_TEMPFAIL;
	}
	sqlite3_finalize(st);
	return value->len ? TABLE_FOUND : TABLE_NOTFOUND;
}

/* sqlite_lookup - domain check, query expansion, rows */
static enum table_status sqlite_lookup(struct table *t, const char *key, struct buf *value)
{
	struct sqlite_table *p = t->priv;
	int ok = dictcf_domain_ok(t, &p->b.domain, key);

	if (ok <= 0)
		return ok < 0 ? TABLE_TEMPFAIL : TABLE_NOTFOUND;
	buf_reset(&p->b.query);
	if (!dictcf_expand(p->b.cf.query, key, NULL, dictcf_quote_sql, NULL, &p->b.query))
		return TABLE_NOTFOUND;
	buf_reset(value);
	return sqlite_rows(t, p, key, value);
}

/* sqlite_close - close the database and the domain tables */
static void sqlite_close(struct table *t)
{
	struct sqlite_table *p = t->priv;

	if (p == NULL)
		return;
	if (p->db)
		sqlite3_close(p->db);
	sql_base_free(&p->b);
	free(p);
	t->priv = NULL;
}

const struct table_ops table_sqlite_ops = {
	.type = "sqlite",
	.props = TABLE_P_FIXED,
	.open = sqlite_open,
	.lookup = sqlite_lookup,
	.close = sqlite_close,
	.stale = sql_base_stale,
};
