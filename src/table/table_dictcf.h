/*
 * table_dictcf - what the tables configured by a ".cf" file share
 * (sqlite:, pgsql:, mysql:, ldap:): the "name = value" file format, the
 * %-expansion of queries and result formats, the "domain" restriction and
 * the joining of results under expansion_limit. Internal to src/table.
 */
#ifndef OUTPOST_TABLE_TABLE_DICTCF_H
#define OUTPOST_TABLE_TABLE_DICTCF_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/str.h"

struct table;

/*
 * dictcf_parse - "name = value" lines (comments, blank lines, indented
 * continuation lines as in main.cf); vals[i] (malloc'd, last setting wins)
 * for names[i] (NULL-terminated). Unknown names are warned about as
 * "unknown TYPE parameter". Returns 0, or -1 with "PATH, line N: reason".
 */
int dictcf_parse(const char *text, size_t len, const char *path, const char *type,
		 const char *const *names, char **vals, struct buf *err);
/* dictcf_read - a whole file into text; -1 with "open PATH: reason" */
int dictcf_read(const char *path, struct buf *text, struct buf *err);
/* dictcf_free_vals - free vals[0..n) and clear them */
void dictcf_free_vals(char **vals, size_t n);
/* dictcf_template_ok - only %% %s %u %d %S %U %D %1..%9 in tmpl */
int dictcf_template_ok(const char *path, const char *name, const char *tmpl, struct buf *err);
/* dictcf_number - a non-negative decimal setting (NULL or "" = dflt) */
int dictcf_number(const char *path, const char *name, const char *s, long dflt, long *out,
		  struct buf *err);
/* dictcf_bool - "yes"/"no" (also true/false, 1/0); NULL or "" = dflt */
int dictcf_bool(const char *path, const char *name, const char *s, bool dflt, bool *out,
		struct buf *err);

/* Quoting of key parts substituted into a query (SQL, LDAP filter, DN). */
typedef void (*dictcf_quote_fn)(struct buf *out, const char *s, size_t n, void *ctx);
void dictcf_quote_sql(struct buf *out, const char *s, size_t n, void *ctx);

/*
 * dictcf_expand - format with value (%s %u %d) and key (%S %U %D %1..%9;
 * key NULL means value), each part passed through quote (NULL: as is).
 * Returns 1, or 0 when a needed part is missing (an empty value, %u of
 * "@domain", %d or %1 of an unqualified name, %3 of a two-label domain):
 * then nothing is appended.
 */
int dictcf_expand(const char *format, const char *value, const char *key,
		  dictcf_quote_fn quote, void *qctx, struct buf *out);

/* The "domain" restriction: literal names and type:table members. */
struct dictcf_domain {
	struct strv names;	/* lower case */
	struct table **tables;
	size_t ntables;
	struct buf scratch;
};

int dictcf_domain_open(struct dictcf_domain *d, const char *list, const char *path,
		       struct buf *err);
/* dictcf_domain_ok - 1 key may be looked up, 0 not (not found), -1 error set on t */
int dictcf_domain_ok(struct table *t, struct dictcf_domain *d, const char *key);
void dictcf_domain_free(struct dictcf_domain *d);

/* One lookup's results: formatted, joined with ",", counted. */
struct dictcf_result {
	const char *format;	/* result_format */
	long limit;		/* expansion_limit; 0 = none */
	const char *key;	/* the looked-up key, for %S %U %D %1..%9 */
	long count;
	struct buf *value;	/* the joined answer so far */
};

/*
 * dictcf_result_add - one raw value (NULL or "" is skipped with Postfix's
 * warning "empty lookup result ... ignored"): 0, or -1
 * with t's error set when it exceeds the expansion limit.
 */
int dictcf_result_add(struct table *t, struct dictcf_result *r, const char *item);

#endif
