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
	struct sql_cf cf;
	sqlite3 *db;
	struct dictcf_domain domain;
	struct table_stamp stamp;	/* of the .cf file */
	struct buf query;
};

static void sqlite_close(struct table *t);

/* sqlite_open_any - parse the .cf file, open the database read-only */
static int sqlite_open_any(struct table *t, const char *name, struct buf *err)
{
	struct sqlite_table *p = xcalloc(1, sizeof(*p));

	t->priv = p;
	if (t->flags & TABLE_F_WRITE) {
		buf_printf(err, "sqlite:%s: update operation is not supported", name);
		return -1;
	}
	if (sql_cf_read(name, "sqlite", &p->cf, err) != 0)
		return -1;
	table_stamp_get(name, &p->stamp);
	if (dictcf_domain_open(&p->domain, p->cf.domain, name, err) != 0)
		return -1;
	if (sqlite3_open_v2(p->cf.dbpath, &p->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		buf_printf(err, "%s: open database %s: %s", name, p->cf.dbpath,
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
	struct dictcf_result r = { p->cf.result_format, p->cf.expansion_limit, key, 0, value };
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(p->db, buf_cstr(&p->query), -1, &st, NULL) != SQLITE_OK) {
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
	int ok = dictcf_domain_ok(t, &p->domain, key);

	if (ok <= 0)
		return ok < 0 ? TABLE_TEMPFAIL : TABLE_NOTFOUND;
	buf_reset(&p->query);
	if (!dictcf_expand(p->cf.query, key, NULL, dictcf_quote_sql, NULL, &p->query))
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
	dictcf_domain_free(&p->domain);
	sql_cf_free(&p->cf);
	buf_free(&p->query);
	free(p);
	t->priv = NULL;
}

/* sqlite_stale - the .cf file changed (the database itself is live) */
static int sqlite_stale(struct table *t)
{
	struct sqlite_table *p = t->priv;

	return table_stamp_changed(t->name, &p->stamp);
}

const struct table_ops table_sqlite_ops = {
	.type = "sqlite",
	.props = TABLE_P_FIXED,
	.open = sqlite_open,
	.lookup = sqlite_lookup,
	.close = sqlite_close,
	.stale = sqlite_stale,
};
