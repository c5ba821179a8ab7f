/*
 * table_ldapcf - the configuration of ldap: tables (ldap_table(5)),
 * parsed without the LDAP library, for the table type, the unit test and
 * the fuzz target. Internal to src/table.
 */
#ifndef OUTPOST_TABLE_TABLE_LDAPCF_H
#define OUTPOST_TABLE_TABLE_LDAPCF_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/str.h"

enum ldapcf_scope { LDAPCF_SCOPE_BASE, LDAPCF_SCOPE_ONE, LDAPCF_SCOPE_SUB };

struct ldap_cf {
	char *uris;		/* server_host as space-separated LDAP URLs */
	long timeout;		/* seconds, per operation */
	char *search_base;	/* template (%-expansions with RFC 2253 quoting) */
	char *query_filter;	/* template (RFC 2254 quoting) */
	char *result_format;	/* template applied to each value */
	char *domain;		/* comma/space list: names or type:table; "" = any */
	struct strv result_attribute;
	struct strv special_result_attribute;	/* DNs or LDAP URLs to follow */
	struct strv terminal_result_attribute;	/* when present: only these */
	struct strv leaf_result_attribute;	/* only from entries without special ones */
	enum ldapcf_scope scope;
	bool bind;		/* simple bind with bind_dn / bind_pw */
	char *bind_dn;
	char *bind_pw;
	long recursion_limit;
	long expansion_limit;	/* 0 = none; more values is a temporary failure */
	long size_limit;	/* entries per search; 0 = none */
	long dereference;	/* 0..3 */
	bool chase_referrals;
	long version;		/* 2 or 3 */
	bool start_tls;
	char *tls_ca_cert_file;
	char *tls_ca_cert_dir;
	char *tls_cert;
	char *tls_key;
	bool tls_require_cert;
	char *tls_cipher_suite;
};

int ldap_cf_parse(const char *text, size_t len, const char *path, struct ldap_cf *cf,
		  struct buf *err);
int ldap_cf_read(const char *path, struct ldap_cf *cf, struct buf *err);
void ldap_cf_free(struct ldap_cf *cf);

/* Quoting of key parts: RFC 2254 for filters, RFC 2253 for DNs (dictcf_quote_fn). */
void ldapcf_quote_filter(struct buf *out, const char *s, size_t n, void *ctx);
void ldapcf_quote_dn(struct buf *out, const char *s, size_t n, void *ctx);

#endif
