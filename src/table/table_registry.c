/*
 * table_registry - which "type" in "type:name" is served by which
 * struct table_ops. One line per type in each of the two lists below:
 * declare the ops, then name them. Aliases (hash, btree, dbm served by
 * the lmdb code) are extra rows that point at the same ops.
 *
 * Public: table_type_find. Bad input: an unknown type returns NULL and
 * table_open reports "unsupported dictionary type" (postmap's words).
 */
#include <string.h>

#include "table/table_impl.h"

extern const struct table_ops table_texthash_ops;
extern const struct table_ops table_inline_ops;
extern const struct table_ops table_static_ops;
extern const struct table_ops table_fail_ops;
extern const struct table_ops table_environ_ops;
extern const struct table_ops table_randmap_ops;
extern const struct table_ops table_regexp_ops;
extern const struct table_ops table_pcre_ops;
extern const struct table_ops table_cidr_ops;
extern const struct table_ops table_unionmap_ops;
extern const struct table_ops table_pipemap_ops;
extern const struct table_ops table_debug_ops;
extern const struct table_ops table_proxy_ops;
extern const struct table_ops table_lmdb_ops, table_hash_ops, table_btree_ops, table_dbm_ops;
extern const struct table_ops table_cdb_ops;
extern const struct table_ops table_sqlite_ops;
extern const struct table_ops table_unix_ops;
extern const struct table_ops table_socketmap_ops;
extern const struct table_ops table_tcp_ops;
extern const struct table_ops table_pgsql_ops;
extern const struct table_ops table_mysql_ops;
extern const struct table_ops table_ldap_ops;

static const struct {
	const char *type;
	const struct table_ops *ops;
} table_types[] = {
	{ "texthash", &table_texthash_ops },
	{ "inline", &table_inline_ops },
	{ "static", &table_static_ops },
	{ "fail", &table_fail_ops },
	{ "environ", &table_environ_ops },
	{ "randmap", &table_randmap_ops },
	{ "regexp", &table_regexp_ops },
	{ "pcre", &table_pcre_ops },
	{ "cidr", &table_cidr_ops },
	{ "unionmap", &table_unionmap_ops },
	{ "pipemap", &table_pipemap_ops },
	{ "debug", &table_debug_ops },
	{ "proxy", &table_proxy_ops },
	{ "lmdb", &table_lmdb_ops }, { "hash", &table_hash_ops }, { "btree", &table_btree_ops }, { "dbm", &table_dbm_ops },
	{ "cdb", &table_cdb_ops },
	{ "sqlite", &table_sqlite_ops },
	{ "unix", &table_unix_ops },
	{ "socketmap", &table_socketmap_ops },
	{ "tcp", &table_tcp_ops },
	{ "pgsql", &table_pgsql_ops },
	{ "mysql", &table_mysql_ops },
	{ "ldap", &table_ldap_ops },
};

/* table_type_find - the ops serving a type name, or NULL */
const struct table_ops *table_type_find(const char *type)
{
	for (size_t i = 0; i < sizeof(table_types) / sizeof(table_types[0]); i++)
		if (strcmp(table_types[i].type, type) == 0)
			return table_types[i].ops;
	return NULL;
}
