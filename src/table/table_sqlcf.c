/*
 * table_sqlcf - read the ".cf" file of an SQL table: sqlite_table(5),
 * pgsql_table(5) and mysql_table(5) share most parameters (query,
 * result_format, domain, expansion_limit and the legacy select_field,
 * table, where_field, additional_conditions); sqlite adds dbpath, the
 * servers add hosts, user, password, dbname, and each a few of its own.
 *
 * Public: sql_cf_parse, sql_cf_read, sql_cf_free, and for the table types
 * sql_base_open, sql_base_free, sql_base_stale (table_sqlcf.h).
 *
 * Bad input: what dictcf_parse rejects; a missing dbpath (sqlite) or
 * query (with no legacy fields to build one from), a bad %-sequence, a
 * bad number or boolean, a "hosts" list that does not split. Each is an
 * error "PATH: reason" or "PATH, line N: reason".
 */
#include "table/table_sqlcf.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "table/table_dictcf.h"

enum sql_param {
	P_QUERY, P_RESULT_FORMAT, P_DOMAIN, P_EXPANSION_LIMIT,
	P_SELECT_FIELD, P_TABLE, P_WHERE_FIELD, P_ADDITIONAL_CONDITIONS,
	P_DBPATH, P_HOSTS, P_USER, P_PASSWORD, P_DBNAME, P_SELECT_FUNCTION,
	P_OPTION_FILE, P_OPTION_GROUP, P_REQUIRE_RESULT_SET,
	P_TLS_CERT_FILE, P_TLS_KEY_FILE, P_TLS_CAFILE, P_TLS_CAPATH, P_TLS_CIPHERS,
	P_TLS_VERIFY_CERT,
	P_COUNT
};

#define T_SQLITE	1u
#define T_PGSQL		2u
#define T_MYSQL		4u
#define T_SERVER	(T_PGSQL | T_MYSQL)
#define T_ANY		(T_SQLITE | T_SERVER)

static const struct {
	const char *name;
	unsigned types;
} sql_params[P_COUNT] = {
	[P_QUERY] = { "query", T_ANY },
	[P_RESULT_FORMAT] = { "result_format", T_ANY },
	[P_DOMAIN] = { "domain", T_ANY },
	[P_EXPANSION_LIMIT] = { "expansion_limit", T_ANY },
	[P_SELECT_FIELD] = { "select_field", T_ANY },
	[P_TABLE] = { "table", T_ANY },
	[P_WHERE_FIELD] = { "where_field", T_ANY },
	[P_ADDITIONAL_CONDITIONS] = { "additional_conditions", T_ANY },
	[P_DBPATH] = { "dbpath", T_SQLITE },
	[P_HOSTS] = { "hosts", T_SERVER },
	[P_USER] = { "user", T_SERVER },
	[P_PASSWORD] = { "password", T_SERVER },
	[P_DBNAME] = { "dbname", T_SERVER },
	[P_SELECT_FUNCTION] = { "select_function", T_PGSQL },
	[P_OPTION_FILE] = { "option_file", T_MYSQL },
	[P_OPTION_GROUP] = { "option_group", T_MYSQL },
	[P_REQUIRE_RESULT_SET] = { "require_result_set", T_MYSQL },
	[P_TLS_CERT_FILE] = { "tls_cert_file", T_MYSQL },
	[P_TLS_KEY_FILE] = { "tls_key_file", T_MYSQL },
	[P_TLS_CAFILE] = { "tls_CAfile", T_MYSQL },
	[P_TLS_CAPATH] = { "tls_CApath", T_MYSQL },
	[P_TLS_CIPHERS] = { "tls_ciphers", T_MYSQL },
	[P_TLS_VERIFY_CERT] = { "tls_verify_cert", T_MYSQL },
};

/* sql_type_bit - which column of sql_params applies */
static unsigned sql_type_bit(const char *type)
{
	if (strcmp(type, "sqlite") == 0)
		return T_SQLITE;
	if (strcmp(type, "pgsql") == 0)
		return T_PGSQL;
	return T_MYSQL;
}

/* sql_cf_free - release a parsed configuration */
void sql_cf_free(struct sql_cf *cf)
{
	char **strs[] = {
		&cf->dbpath, &cf->user, &cf->password, &cf->dbname, &cf->query,
		&cf->result_format, &cf->domain, &cf->option_file, &cf->option_group,
		&cf->tls_cert_file, &cf->tls_key_file, &cf->tls_CAfile, &cf->tls_CApath,
		&cf->tls_ciphers,
	};

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		xfree(strs[i]);
	strv_free(&cf->hosts);
}

/* sql_legacy_query - the query the pre-2.2 parameters describe, or NULL */
static char *sql_legacy_query(char **vals)
{
	struct buf q = BUF_INIT;

	if (vals[P_SELECT_FUNCTION]) {
		buf_printf(&q, "SELECT %s('%%s')", vals[P_SELECT_FUNCTION]);
		return buf_steal(&q);
	}
	if (vals[P_SELECT_FIELD] == NULL || vals[P_TABLE] == NULL || vals[P_WHERE_FIELD] == NULL)
		return NULL;
	buf_printf(&q, "SELECT %s FROM %s WHERE %s = '%%s' %s", vals[P_SELECT_FIELD],
		   vals[P_TABLE], vals[P_WHERE_FIELD],
		   vals[P_ADDITIONAL_CONDITIONS] ? vals[P_ADDITIONAL_CONDITIONS] : "");
	return buf_steal(&q);
}

/* sql_take - move vals[i] into *dst, or a copy of dflt when unset */
static void sql_take(char **vals, enum sql_param i, char **dst, const char *dflt)
{
	*dst = vals[i] ? vals[i] : (dflt ? xstrdup(dflt) : NULL);
	vals[i] = NULL;
}

/* sql_cf_settle - check and move the values into cf */
static int sql_cf_settle(char **vals, const char *path, unsigned tbit, struct sql_cf *cf,
			 struct buf *err)
{
	const char *why;

	if (tbit == T_SQLITE && (vals[P_DBPATH] == NULL || *vals[P_DBPATH] == '\0')) {
		buf_printf(err, "%s: missing dbpath", path);
		return -1;
	}
	if (vals[P_QUERY] == NULL && (vals[P_QUERY] = sql_legacy_query(vals)) == NULL) {
		buf_printf(err, "%s: missing query", path);
		return -1;
	}
	if (dictcf_number(path, "expansion_limit", vals[P_EXPANSION_LIMIT], 0,
			  &cf->expansion_limit, err) != 0 ||
	    dictcf_bool(path, "require_result_set", vals[P_REQUIRE_RESULT_SET], true,
			&cf->require_result_set, err) != 0 ||
	    dictcf_bool(path, "tls_verify_cert", vals[P_TLS_VERIFY_CERT], false,
			&cf->tls_verify_cert, err) != 0 ||
	    dictcf_template_ok(path, "query", vals[P_QUERY], err) != 0 ||
	    (vals[P_RESULT_FORMAT] &&
	     dictcf_template_ok(path, "result_format", vals[P_RESULT_FORMAT], err) != 0))
		return -1;
	if (tbit != T_SQLITE) {
		if (str_split(vals[P_HOSTS] ? vals[P_HOSTS] : "localhost", STR_SEP_LIST,
			      &cf->hosts, &why) < 0) {
			buf_printf(err, "%s: hosts: %s", path, why);
			return -1;
		}
		if (cf->hosts.n == 0)
			strv_push(&cf->hosts, "localhost");
	}
	sql_take(vals, P_DBPATH, &cf->dbpath, NULL);
	sql_take(vals, P_USER, &cf->user, NULL);
	sql_take(vals, P_PASSWORD, &cf->password, NULL);
	sql_take(vals, P_DBNAME, &cf->dbname, NULL);
	sql_take(vals, P_QUERY, &cf->query, NULL);
	sql_take(vals, P_RESULT_FORMAT, &cf->result_format, "%s");
	sql_take(vals, P_DOMAIN, &cf->domain, "");
	sql_take(vals, P_OPTION_FILE, &cf->option_file, NULL);
	sql_take(vals, P_OPTION_GROUP, &cf->option_group, "client");
	sql_take(vals, P_TLS_CERT_FILE, &cf->tls_cert_file, NULL);
	sql_take(vals, P_TLS_KEY_FILE, &cf->tls_key_file, NULL);
	sql_take(vals, P_TLS_CAFILE, &cf->tls_CAfile, NULL);
	sql_take(vals, P_TLS_CAPATH, &cf->tls_CApath, NULL);
	sql_take(vals, P_TLS_CIPHERS, &cf->tls_ciphers, NULL);
	return 0;
}

/* sql_cf_parse - an SQL table's configuration text into cf */
int sql_cf_parse(const char *text, size_t len, const char *path, const char *type,
		 struct sql_cf *cf, struct buf *err)
{
	const char *names[P_COUNT + 1];
	char *vals[P_COUNT] = { NULL };
	unsigned tbit = sql_type_bit(type);
	int rc;

	memset(cf, 0, sizeof(*cf));
	for (size_t i = 0; i < P_COUNT; i++)
		names[i] = (sql_params[i].types & tbit) ? sql_params[i].name : "";
	names[P_COUNT] = NULL;
	rc = dictcf_parse(text, len, path, type, names, vals, err);
	if (rc == 0)
		rc = sql_cf_settle(vals, path, tbit, cf, err);
	if (rc != 0)
		sql_cf_free(cf);
	dictcf_free_vals(vals, P_COUNT);
	return rc;
}

/* sql_cf_read - parse the file at path */
int sql_cf_read(const char *path, const char *type, struct sql_cf *cf, struct buf *err)
{
	struct buf text = BUF_INIT;
	int rc = dictcf_read(path, &text, err);

	if (rc == 0)
		rc = sql_cf_parse(buf_cstr(&text), text.len, path, type, cf, err);
	else
		memset(cf, 0, sizeof(*cf));
	buf_free(&text);
	return rc;
}

/* sql_base_open - what every SQL type does first when opened */
int sql_base_open(struct sql_base *b, struct table *t, const char *name, const char *type,
		  struct buf *err)
{
	if (t->flags & TABLE_F_WRITE) {
		buf_printf(err, "%s:%s: update operation is not supported", type, name);
		return -1;
	}
	if (sql_cf_read(name, type, &b->cf, err) != 0)
		return -1;
	table_stamp_get(name, &b->stamp);
	return dictcf_domain_open(&b->domain, b->cf.domain, name, err);
}

/* sql_base_free - release what sql_base_open made */
void sql_base_free(struct sql_base *b)
{
	dictcf_domain_free(&b->domain);
	sql_cf_free(&b->cf);
	buf_free(&b->query);
}

/* sql_base_stale - the .cf file changed */
int sql_base_stale(struct table *t)
{
	struct sql_base *b = t->priv;

	return table_stamp_changed(t->name, &b->stamp);
}
