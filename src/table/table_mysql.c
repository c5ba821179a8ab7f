/*
 * table_mysql - "mysql:/path/to/file.cf": SQL lookups in MySQL or
 * MariaDB, configured as mysql_table(5) describes (libmariadb).
 *
 * Public: table_mysql_ops (via table_registry.c).
 *
 * The configuration (table_sqlcf.c) names hosts, user, password, dbname,
 * query (or the legacy select_field, table, where_field,
 * additional_conditions), result_format, domain, expansion_limit,
 * option_file, option_group, require_result_set and the tls_* settings.
 * "hosts" entries are "unix:/path/to/socket" or "[inet:]host[:port]"; the
 * UNIX-domain ones are tried first, then the others, each in the order
 * written (Postfix: in random order), each failure logged. The connection
 * is kept, and closed after a minute unused. A lookup expands the query
 * with the folded key, escaping every substitution for the connection's
 * character set (mysql_real_escape_string: quotes and backslashes); every
 * field of every row is formatted with result_format and joined with
 * "," (NULL fields are skipped; empty ones with a warning). A stored procedure (query = CALL ...) may return one result set;
 * none at all is an error unless require_result_set = no. When the
 * query fails because the connection broke (a restarted server), it is
 * run once more on a new connection.
 *
 * Bad input: what sql_cf_read rejects is an open error; no reachable
 * server, a failed query and more results than expansion_limit are
 * temporary lookup failures with the server's reason.
 */
#include <errmsg.h>
#include <mysql.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "table/table_dictcf.h"
#include "table/table_impl.h"
#include "table/table_sqlcf.h"

#define MYSQL_IDLE	60	/* seconds before an unused connection is closed */
#define MYSQL_TIMEOUT	10	/* seconds: connect, and each read or write */

struct mysql_table {
	struct sql_base b;	/* first: sql_base_stale reads it */
	MYSQL *conn;
	time_t used;		/* last lookup on conn */
};

static void mysql_table_close(struct table *t);

/* mysql_table_open - parse the .cf file; the first lookup connects */
static int mysql_table_open(struct table *t, const char *name, struct buf *err)
{
	struct mysql_table *p = xcalloc(1, sizeof(*p));

	t->priv = p;
	if (sql_base_open(&p->b, t, name, "mysql", err) == 0)
		return 0;
	mysql_table_close(t);
	return -1;
}

/* mysql_options_set - time limits, option files, TLS, on a fresh handle */
static void mysql_options_set(struct mysql_table *p, MYSQL *m)
{
	unsigned timeout = MYSQL_TIMEOUT;
	my_bool verify = p->b.cf.tls_verify_cert;

	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
	if (p->b.cf.option_file && *p->b.cf.option_file)
		mysql_options(m, MYSQL_READ_DEFAULT_FILE, p->b.cf.option_file);
	if (p->b.cf.option_group && *p->b.cf.option_group)
		mysql_options(m, MYSQL_READ_DEFAULT_GROUP, p->b.cf.option_group);
	if (p->b.cf.tls_cert_file || p->b.cf.tls_key_file || p->b.cf.tls_CAfile || p->b.cf.tls_CApath ||
	    p->b.cf.tls_ciphers)
		mysql_ssl_set(m, p->b.cf.tls_key_file, p->b.cf.tls_cert_file, p->b.cf.tls_CAfile,
			      p->b.cf.tls_CApath, p->b.cf.tls_ciphers);
	if (verify)
		mysql_options(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
}

/* mysql_connect_one - one "hosts" entry; the handle, or NULL with err */
static MYSQL *mysql_connect_one(struct mysql_table *p, const char *entry, struct buf *err)
{
	const char *socket = NULL, *colon;
	char *host = NULL;
	unsigned port = 0;
	long n;
	MYSQL *m = mysql_init(NULL);

	if (m == NULL) {
		buf_printf(err, "%s%s: out of memory", err->len ? "; " : "", entry);
		return NULL;
	}
	if (str_has_prefix(entry, "unix:")) {
		socket = entry + 5;
	} else {
		const char *hp = str_has_prefix(entry, "inet:") ? entry + 5 : entry;

		colon = strrchr(hp, ':');
		if (colon && str_is_digits(colon + 1) && str_parse_long(colon + 1, &n) == 0 &&
		    n > 0 && n < 65536) {
			host = xstrndup(hp, (size_t)(colon - hp));
			port = (unsigned)n;
		} else {
			host = xstrdup(hp);
		}
	}
	mysql_options_set(p, m);
	if (mysql_real_connect(m, socket ? "localhost" : host, p->b.cf.user, p->b.cf.password,
			       p->b.cf.dbname, port, socket, CLIENT_MULTI_RESULTS) == NULL) {
		log_warn("connect to mysql server %s: %s", entry, mysql_error(m));
		buf_printf(err, "%s%s: %s", err->len ? "; " : "", entry, mysql_error(m));
		mysql_close(m);
		m = NULL;
	}
	free(host);
	return m;
}

/* mysql_connect - keep a fresh connection, else try unix: hosts, then the rest */
static int mysql_connect(struct table *t, struct mysql_table *p)
{
	struct buf err = BUF_INIT;
	time_t now = time(NULL);

	if (p->conn && now - p->used > MYSQL_IDLE) {
		mysql_close(p->conn);
		p->conn = NULL;
	}
	for (int unix_pass = 1; unix_pass >= 0; unix_pass--)
		for (size_t i = 0; p->conn == NULL && i < p->b.cf.hosts.n; i++)
			if (str_has_prefix(p->b.cf.hosts.v[i], "unix:") == (unix_pass == 1))
				p->conn = mysql_connect_one(p, p->b.cf.hosts.v[i], &err);
	if (p->conn == NULL)
		table_set_error(t, "%s: cannot connect to any server: %s", t->name, buf_cstr(&err));
	buf_free(&err);
	p->used = now;
	return p->conn ? 0 : -1;
}

/* mysql_quote - a key part escaped for a '...' literal on this connection */
static void mysql_quote(struct buf *out, const char *s, size_t n, void *ctx)
{
	buf_reserve(out, 2 * n + 1);
	out->len += mysql_real_escape_string(ctx, out->data + out->len, s, (unsigned long)n);
	out->data[out->len] = '\0';
}

/* mysql_rows - every field of every row, formatted and joined */
static int mysql_rows(struct table *t, struct mysql_table *p, MYSQL_RES *res, const char *key,
		      struct buf *value)
{
	struct dictcf_result r = { p->b.cf.result_format, p->b.cf.expansion_limit, key, 0, value };
	unsigned cols = mysql_num_fields(res);
	MYSQL_ROW row;

	while ((row = mysql_fetch_row(res)) != NULL)
		for (unsigned j = 0; j < cols; j++)	/* NULL: skipped quietly, as Postfix */
			if (row[j] != NULL && dictcf_result_add(t, &r, row[j]) != 0)
				return -1;
	return 0;
}

/* mysql_drain - the rest of a CALL's results; more than one set is an error */
static int mysql_drain(MYSQL *m)
{
	int extra = 0, rc;

	while ((rc = mysql_next_result(m)) == 0) {
		MYSQL_RES *res = mysql_store_result(m);

		if (res) {
			extra++;
			mysql_free_result(res);
		}
	}
	return rc > 0 ? -1 : extra;
}

/* mysql_broken - the error means the connection is gone (worth a new one) */
static int mysql_broken(MYSQL *m)
{
	unsigned e = mysql_errno(m);

	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST || e == 4031 /* idle timeout */;
}

/* mysql_run - query and results on the open connection: 0, 1 (error), 2 (broken) */
static int mysql_run(struct table *t, struct mysql_table *p, const char *key, struct buf *value)
{
	MYSQL_RES *res;
	int rc = 0;

	if (mysql_real_query(p->conn, p->b.query.data, p->b.query.len) != 0)
		goto fail;
	res = mysql_store_result(p->conn);
	if (res == NULL && mysql_field_count(p->conn) != 0)
		goto fail;
	if (res == NULL && p->b.cf.require_result_set) {
		table_set_error(t, "%s: query returned no result set", t->name);
		rc = 1;
	}
	if (res && mysql_rows(t, p, res, key, value) != 0)
		rc = 1;
	mysql_free_result(res);
	if (mysql_drain(p->conn) != 0 && rc == 0) {
		table_set_error(t, "%s: query returned more than one result set", t->name);
		rc = 1;
	}
	return rc;
fail:
	table_set_error(t, "%s: query failed: %s", t->name, mysql_error(p->conn));
	return mysql_broken(p->conn) ? 2 : 1;
}

/* mysql_table_lookup - domain check, connection, query (again after a broken connection) */
static enum table_status mysql_table_lookup(struct table *t, const char *key, struct buf *value)
{
	struct mysql_table *p = t->priv;
	int ok = dictcf_domain_ok(t, &p->b.domain, key), rc = 2;

	if (ok <= 0)
		return ok < 0 ? TABLE_TEMPFAIL : TABLE_NOTFOUND;
	for (int attempt = 0; attempt < 2 && rc == 2; attempt++) {
		if (rc == 2 && attempt > 0) {
			mysql_close(p->conn);
			p->conn = NULL;
		}
		if (mysql_connect(t, p) != 0)
			return TABLE_TEMPFAIL;
		buf_reset(&p->b.query);
		if (!dictcf_expand(p->b.cf.query, key, NULL, mysql_quote, p->conn, &p->b.query))
			return TABLE_NOTFOUND;
		buf_reset(value);
		rc = mysql_run(t, p, key, value);
	}
	if (rc != 0)
		return TABLE_TEMPFAIL;
	return value->len ? TABLE_FOUND : TABLE_NOTFOUND;
}

/* mysql_table_close - hang up and release */
static void mysql_table_close(struct table *t)
{
	struct mysql_table *p = t->priv;

	if (p == NULL)
		return;
	if (p->conn)
		mysql_close(p->conn);
	sql_base_free(&p->b);
	free(p);
	t->priv = NULL;
}

const struct table_ops table_mysql_ops = {
	.type = "mysql",
	.props = TABLE_P_FIXED,
	.open = mysql_table_open,
	.lookup = mysql_table_lookup,
	.close = mysql_table_close,
	.stale = sql_base_stale,
};
