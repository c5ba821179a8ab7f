/*
 * table_pgsql - "pgsql:/path/to/file.cf": SQL lookups in PostgreSQL,
 * configured as pgsql_table(5) describes (libpq).
 *
 * Public: table_pgsql_ops (via table_registry.c).
 *
 * The configuration (table_sqlcf.c) names hosts, user, password, dbname,
 * query (or the legacy select_function / select_field, table,
 * where_field, additional_conditions), result_format, domain and
 * expansion_limit. "hosts" entries are a postgresql:// URI, "unix:/dir"
 * (complete in itself: user, password and dbname are not added to it, as
 * in Postfix), "unix:/dir" or "/dir" (the socket directory), or
 * "[inet:]host[:port]"; they are
 * tried in order (Postfix: in random order) until one connects, each
 * failure logged, and the connection is kept (closed
 * after a minute unused). A lookup expands the query with the folded key,
 * escaping every substitution with the server's own rules
 * (PQescapeStringConn); every field of every row is formatted with
 * result_format and joined with ",". When the query fails because the
 * connection broke (a restarted server), it is run once more on a new
 * connection.
 *
 * Bad input: what sql_cf_read rejects is an open error; no reachable
 * server, a failed query and more results than expansion_limit are
 * temporary lookup failures with the server's reason.
 */
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "table/table_dictcf.h"
#include "table/table_impl.h"
#include "table/table_sqlcf.h"

#define PGSQL_IDLE		60	/* seconds before an unused connection is closed */
#define PGSQL_CONNECT_TIMEOUT	"10"	/* seconds, per host */

struct pgsql_table {
	struct sql_base b;	/* first: sql_base_stale reads it */
	PGconn *conn;
	time_t used;		/* last lookup on conn */
};

static void pgsql_close(struct table *t);

/* pgsql_open - parse the .cf file; the first lookup connects */
static int pgsql_open(struct table *t, const char *name, struct buf *err)
{
	struct pgsql_table *p = xcalloc(1, sizeof(*p));

	t->priv = p;
	if (sql_base_open(&p->b, t, name, "pgsql", err) == 0)
		return 0;
	pgsql_close(t);
	return -1;
}

/* pgsql_host_params - one "hosts" entry as libpq host/port (or a URI) */
static void pgsql_host_params(const char *entry, char **host, char **port, bool *uri)
{
	const char *colon;

	*port = NULL;
	*uri = str_has_prefix(entry, "postgresql://") || str_has_prefix(entry, "postgres://");
	if (*uri) {
		*host = xstrdup(entry);
		return;
	}
	if (str_has_prefix(entry, "unix:") || str_has_prefix(entry, "inet:"))
		entry += 5;
	colon = strrchr(entry, ':');
	if (entry[0] != '/' && colon && colon[1] && str_is_digits(colon + 1) &&
	    strchr(entry, ':') == colon) {
		*host = xstrndup(entry, (size_t)(colon - entry));
		*port = xstrdup(colon + 1);
	} else {
		*host = xstrdup(entry);
	}
}

/* pgsql_connect_one - one host; the connection, or NULL with err */
static PGconn *pgsql_connect_one(struct pgsql_table *p, const char *entry, struct buf *err)
{
	const char *keys[8], *vals[8];
	char *host, *port;
	bool uri;
	int n = 0;
	PGconn *c;

	pgsql_host_params(entry, &host, &port, &uri);
	keys[n] = "dbname", vals[n++] = uri ? host : p->b.cf.dbname;
	if (!uri) {	/* a URI says it all: user, password and dbname are not added */
		keys[n] = "host", vals[n++] = host;
		if (port)
			keys[n] = "port", vals[n++] = port;
		if (p->b.cf.user)
			keys[n] = "user", vals[n++] = p->b.cf.user;
		if (p->b.cf.password)
			keys[n] = "password", vals[n++] = p->b.cf.password;
	}
	keys[n] = "connect_timeout", vals[n++] = PGSQL_CONNECT_TIMEOUT;
	keys[n] = NULL, vals[n] = NULL;
	c = PQconnectdbParams(keys, vals, uri);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		const char *why = c ? str_trim(PQerrorMessage(c)) : "out of memory";

		log_warn("connect to pgsql server %s: %s", entry, why);
		buf_printf(err, "%s%s: %s", err->len ? "; " : "", entry, why);
		PQfinish(c);
		c = NULL;
	}
	free(host);
	free(port);
	return c;
}

/* pgsql_connect - keep a fresh connection, else try the hosts in order */
static int pgsql_connect(struct table *t, struct pgsql_table *p)
{
	struct buf err = BUF_INIT;
	time_t now = time(NULL);

	if (p->conn && (PQstatus(p->conn) != CONNECTION_OK || now - p->used > PGSQL_IDLE)) {
		PQfinish(p->conn);
		p->conn = NULL;
	}
	for (size_t i = 0; p->conn == NULL && i < p->b.cf.hosts.n; i++)
		p->conn = pgsql_connect_one(p, p->b.cf.hosts.v[i], &err);
	if (p->conn == NULL)
		table_set_error(t, "%s: cannot connect to any server: %s", t->name, buf_cstr(&err));
	buf_free(&err);
	p->used = now;
	return p->conn ? 0 : -1;
}

/* pgsql_quote - a key part escaped for a '...' literal on this connection */
static void pgsql_quote(struct buf *out, const char *s, size_t n, void *ctx)
{
	int error = 0;

	/* on an invalid multibyte sequence the output is still complete, and
	   the server rejects the query: a temporary failure, not a match */
	buf_reserve(out, 2 * n + 1);
	out->len += PQescapeStringConn(ctx, out->data + out->len, s, n, &error);
	out->data[out->len] = '\0';
}

/* pgsql_rows - every field of every row, formatted and joined */
static enum table_status pgsql_rows(struct table *t, struct pgsql_table *p, PGresult *res,
				    const char *key, struct buf *value)
{
	struct dictcf_result r = { p->b.cf.result_format, p->b.cf.expansion_limit, key, 0, value };
	int rows = PQntuples(res), cols = PQnfields(res);

	for (int i = 0; i < rows; i++)
		for (int j = 0; j < cols; j++)
			if (dictcf_result_add(t, &r, PQgetisnull(res, i, j) ? NULL
							 : PQgetvalue(res, i, j)) != 0)
				return TABLE_TEMPFAIL;
	return value->len ? TABLE_FOUND : TABLE_NOTFOUND;
}

/* pgsql_query - expand and run on the current connection; NULL if suppressed */
static PGresult *pgsql_query(struct pgsql_table *p, const char *key, bool *suppressed)
{
	buf_reset(&p->b.query);
	*suppressed = !dictcf_expand(p->b.cf.query, key, NULL, pgsql_quote, p->conn, &p->b.query);
	return *suppressed ? NULL : PQexec(p->conn, buf_cstr(&p->b.query));
}

/* pgsql_lookup - domain check, connection, query (again after a broken connection) */
static enum table_status pgsql_lookup(struct table *t, const char *key, struct buf *value)
{
	struct pgsql_table *p = t->priv;
	int ok = dictcf_domain_ok(t, &p->b.domain, key);
	enum table_status st;
	PGresult *res = NULL;
	bool suppressed;

	if (ok <= 0)
		return ok < 0 ? TABLE_TEMPFAIL : TABLE_NOTFOUND;
	for (int attempt = 0; attempt < 2; attempt++) {
		PQclear(res);
		if (pgsql_connect(t, p) != 0)
			return TABLE_TEMPFAIL;
		res = pgsql_query(p, key, &suppressed);
		if (suppressed)
			return TABLE_NOTFOUND;
		if (res && PQresultStatus(res) == PGRES_TUPLES_OK)
			break;
		if (PQstatus(p->conn) == CONNECTION_OK)
			break;	/* the query itself failed: no use repeating it */
	}
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		table_set_error(t, "%s: query failed: %s", t->name,
				str_trim(res ? PQresultErrorMessage(res) : PQerrorMessage(p->conn)));
		PQclear(res);
		return TABLE_TEMPFAIL;
	}
	st = pgsql_rows(t, p, res, key, value);
	PQclear(res);
	return st;
}

/* pgsql_close - hang up and release */
static void pgsql_close(struct table *t)
{
	struct pgsql_table *p = t->priv;

	if (p == NULL)
		return;
	PQfinish(p->conn);
	sql_base_free(&p->b);
	free(p);
	t->priv = NULL;
}

const struct table_ops table_pgsql_ops = {
	.type = "pgsql",
	.props = TABLE_P_FIXED,
	.open = pgsql_open,
	.lookup = pgsql_lookup,
	.close = pgsql_close,
	.stale = sql_base_stale,
};
