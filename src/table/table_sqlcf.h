/*
 * table_sqlcf - the configuration of the SQL tables (sqlite_table(5),
 * pgsql_table(5), mysql_table(5)): one parser, one struct, for the unit
 * tests, the fuzz target and the three table types. Internal to src/table.
 */
#ifndef OUTPOST_TABLE_TABLE_SQLCF_H
#define OUTPOST_TABLE_TABLE_SQLCF_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "table/table_dictcf.h"
#include "table/table_impl.h"

struct sql_cf {
	char *dbpath;		/* sqlite: the database file */
	struct strv hosts;	/* pgsql, mysql: as written, in order ("localhost" if unset) */
	char *user;
	char *password;
	char *dbname;
	char *query;		/* template with %s %u %d %S %U %D %1..%9 %% */
	char *result_format;	/* template applied to each value */
	char *domain;		/* comma/space list: names or type:table; "" = any */
	long expansion_limit;	/* 0 = none; more values is a temporary failure */
	char *option_file;	/* mysql: options file, NULL = the default my.cnf */
	char *option_group;	/* mysql: group read after [client]; "" = none */
	bool require_result_set;	/* mysql: no result set is an error (else not found) */
	char *tls_cert_file;	/* mysql: TLS client certificate, key, CAs, ciphers */
	char *tls_key_file;
	char *tls_CAfile;
	char *tls_CApath;
	char *tls_ciphers;
	bool tls_verify_cert;	/* mysql: check the server's name in its certificate */
};

/* type: "sqlite", "pgsql" or "mysql" (decides the accepted parameters) */
int sql_cf_parse(const char *text, size_t len, const char *path, const char *type,
		 struct sql_cf *cf, struct buf *err);
int sql_cf_read(const char *path, const char *type, struct sql_cf *cf, struct buf *err);
void sql_cf_free(struct sql_cf *cf);

/*
 * What every SQL table type keeps: the first member of its private
 * struct, so that sql_base_stale can serve as any type's stale().
 */
struct sql_base {
	struct sql_cf cf;
	struct dictcf_domain domain;
	struct table_stamp stamp;	/* of the .cf file: the database itself is live */
	struct buf query;		/* the expanded query */
};

/* sql_base_open - refuse updates, read the .cf file, open the domain tables */
int sql_base_open(struct sql_base *b, struct table *t, const char *name, const char *type,
		  struct buf *err);
void sql_base_free(struct sql_base *b);
int sql_base_stale(struct table *t);

#endif
