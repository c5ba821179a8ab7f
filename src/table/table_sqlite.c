/*
 * table_sqlite - "sqlite:/path/to/file.cf": SQL lookups in an SQLite
 * database, configured as sqlite_table(5) describes.
 *
 * Public: table_sqlite_ops; sqlite_cf_parse, sqlite_cf_free, sqlite_expand
 * (table_sqlite.h, for tests and the fuzz target).
 *
 * The configuration file holds "name = value" lines (comments, blank lines
 * and indented continuation lines as in main.cf): dbpath, query,
 * result_format, domain, expansion_limit, and the legacy select_field,
 * table, where_field, additional_conditions. A lookup expands the query
 * with the (folded) key, SQL-quoting every substitution; each row's first
 * column is formatted with result_format and the results are joined with
 * ",". A query that needs a part the key lacks (%d without a domain, %2
 * with one label) is not run: "not found". More rows than expansion_limit
 * is a temporary failure, as is any database error.
 * Bad input: an unreadable file, a line without "=", a bad %-sequence or a
 * missing dbpath/query is an open error "FILE, line N: reason" or
 * "FILE: reason"; unknown parameter names are warned about.
 */
#include "table/table_sqlite.h"

#include <ctype.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "table/table_impl.h"

struct sqlite_table {
	struct sqlite_cf cf;
	sqlite3 *db;
	struct strv domains;		/* literal names, lower case */
	struct table **domain_tables;	/* type:table members of "domain" */
	size_t ndomain_tables;
	struct table_stamp stamp;	/* of the .cf file */
	struct buf query;
	struct buf row;
};

static const char *const sqlite_params[] = {
	"dbpath", "query", "result_format", "domain", "expansion_limit",
	"select_field", "table", "where_field", "additional_conditions", NULL,
};

/* sqlite_cf_free - release a parsed configuration */
void sqlite_cf_free(struct sqlite_cf *cf)
{
	xfree(&cf->dbpath);
	xfree(&cf->query);
	xfree(&cf->result_format);
	xfree(&cf->domain);
}

/* cf_check_template - only %% %s %u %d %S %U %D %1..%9 are allowed */
static int cf_check_template(const char *path, const char *name, const char *tmpl,
			     struct buf *err)
{
	for (const char *p = tmpl; (p = strchr(p, '%')) != NULL; p += 2) {
		if (p[1] == '\0' || strchr("%sudSUD123456789", p[1]) == NULL) {
			buf_printf(err, "%s: %s: invalid %%-sequence \"%%%.1s\" in \"%s\"", path,
				   name, p[1] ? p + 1 : "", tmpl);
			return -1;
		}
	}
	return 0;
}

/* cf_setting - store one "name = value" */
static int cf_setting(char **vals, const char *path, long lineno, char *line, struct buf *err)
{
	char *eq = strchr(line, '='), *name, *value;
	size_t i;

	if (eq == NULL) {
		buf_printf(err, "%s, line %ld: missing '=' after parameter name", path, lineno);
		return -1;
	}
	*eq = '\0';
	name = str_trim(line);
	value = str_trim(eq + 1);
	if (*name == '\0' || name[strcspn(name, STR_SPACE)] != '\0') {
		buf_printf(err, "%s, line %ld: bad parameter name \"%s\"", path, lineno, name);
		return -1;
	}
	for (i = 0; sqlite_params[i]; i++)
		if (strcmp(sqlite_params[i], name) == 0)
			break;
	if (sqlite_params[i] == NULL) {
		log_warn("%s, line %ld: unknown sqlite parameter \"%s\" ignored", path, lineno, name);
		return 0;
	}
	free(vals[i]);
	vals[i] = xstrdup(value);
	return 0;
}

/* cf_lines - walk logical lines of text, storing settings in vals */
static int cf_lines(const char *text, size_t len, const char *path, char **vals, struct buf *err)
{
	struct buf logical = BUF_INIT;
	long lineno = 0, start = 0;
	const char *p = text, *end = text + len;
	int rc = 0;

	while (rc == 0 && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *first = p;

		lineno++;
		if (memchr(p, '\0', n)) {
			buf_printf(err, "%s, line %ld: NUL character in line", path, lineno);
			rc = -1;
			break;
		}
		while (first < p + n && isspace((unsigned char)*first))
			first++;
		if (first < p + n && *first != '#') {
			if (first != p && logical.len > 0) {
				buf_putc(&logical, ' ');
			} else if (logical.len > 0) {
				rc = cf_setting(vals, path, start, logical.data, err);
				buf_reset(&logical);
			}
			if (logical.len == 0)
				start = lineno;
			buf_append(&logical, first, (size_t)(p + n - first));
		}
		p += n + (nl ? 1 : 0);
	}
	if (rc == 0 && logical.len > 0)
		rc = cf_setting(vals, path, start, logical.data, err);
	buf_free(&logical);
	return rc;
}

/* sqlite_cf_parse - a sqlite_table(5) file's text into cf */
int sqlite_cf_parse(const char *text, size_t len, const char *path, struct sqlite_cf *cf,
		    struct buf *err)
{
	char *vals[sizeof(sqlite_params) / sizeof(sqlite_params[0])] = { NULL };
	size_t nvals = sizeof(vals) / sizeof(vals[0]);
	int rc = cf_lines(text, len, path, vals, err);

	memset(cf, 0, sizeof(*cf));
	if (rc == 0 && (vals[0] == NULL || *vals[0] == '\0')) {
		buf_printf(err, "%s: missing dbpath", path);
		rc = -1;
	}
	if (rc == 0 && vals[1] == NULL) {
		if (vals[5] && vals[6] && vals[7]) {
			struct buf q = BUF_INIT;

			buf_printf(&q, "SELECT %s FROM %s WHERE %s = '%%s' %s", vals[5], vals[6],
				   vals[7], vals[8] ? vals[8] : "");
			vals[1] = buf_steal(&q);
		} else {
			buf_printf(err, "%s: missing query", path);
			rc = -1;
		}
	}
	if (rc == 0 && vals[4] && *vals[4]) {
		if (!str_is_digits(vals[4]) || str_parse_long(vals[4], &cf->expansion_limit) != 0) {
			buf_printf(err, "%s: expansion_limit: expected a number, not \"%s\"", path,
				   vals[4]);
			rc = -1;
		}
	}
	if (rc == 0) {
		cf->dbpath = vals[0];
		cf->query = vals[1];
		cf->result_format = vals[2] ? vals[2] : xstrdup("%s");
		cf->domain = vals[3] ? vals[3] : xstrdup("");
		vals[0] = vals[1] = vals[2] = vals[3] = NULL;
		if (cf_check_template(path, "query", cf->query, err) != 0 ||
		    cf_check_template(path, "result_format", cf->result_format, err) != 0) {
			sqlite_cf_free(cf);
			rc = -1;
		}
	}
	for (size_t i = 0; i < nvals; i++)
		free(vals[i]);
	return rc;
}

/* split_addr - user and domain of s at its last '@' (domain NULL if none) */
static void split_addr(const char *s, const char **user, size_t *ulen, const char **domain)
{
	const char *at = strrchr(s, '@');

	*user = s;
	*ulen = at ? (size_t)(at - s) : strlen(s);
	*domain = at ? at + 1 : NULL;
}

/* domain_label - the n-th label from the right (1 = top level), or NULL */
static const char *domain_label(const char *domain, int n, size_t *len)
{
	const char *p;

	if (domain == NULL || *domain == '\0')
		return NULL;
	p = domain + strlen(domain);
	for (int i = 1;; i++) {
		const char *dot = p;

		while (dot > domain && dot[-1] != '.')
			dot--;
		if (i == n) {
			*len = (size_t)(p - dot);
			return *len ? dot : NULL;
		}
		if (dot == domain)
			return NULL;
		p = dot - 1;
	}
}

/* expand_put - append s[0..n), doubling single quotes for SQL */
static void expand_put(struct buf *out, const char *s, size_t n, bool sql_quote)
{
	for (size_t i = 0; i < n; i++) {
		if (sql_quote && s[i] == '\'')
			buf_putc(out, '\'');
		buf_putc(out, s[i]);
	}
}

/*
 * sqlite_expand - format with value (%s %u %d) and key (%S %U %D %1..%9;
 * key NULL means value). Returns 1, or 0 when a needed part is missing
 * (an empty value, %u of "@domain", %d or %1 of an unqualified name, %3
 * of a two-label domain): then nothing is appended.
 */
int sqlite_expand(const char *format, const char *value, const char *key, bool sql_quote,
		  struct buf *out)
{
	const char *vu, *vd, *ku, *kd, *lab;
	size_t vul, kul, llen, mark = out->len;

	if (key == NULL)
		key = value;
	if (*value == '\0')
		return 0;
	split_addr(value, &vu, &vul, &vd);
	split_addr(key, &ku, &kul, &kd);
	for (const char *p = format; *p; p++) {
		if (*p != '%') {
			buf_putc(out, *p);
			continue;
		}
		switch (*++p) {
		case '%': buf_putc(out, '%'); break;
		case 's': expand_put(out, value, strlen(value), sql_quote); break;
		case 'S': expand_put(out, key, strlen(key), sql_quote); break;
		case 'u':
			if (vul == 0)
				goto suppress;
			expand_put(out, vu, vul, sql_quote);
			break;
		case 'U':
			if (kul == 0)
				goto suppress;
			expand_put(out, ku, kul, sql_quote);
			break;
		case 'd':
			if (vd == NULL || *vd == '\0')
				goto suppress;
			expand_put(out, vd, strlen(vd), sql_quote);
			break;
		case 'D':
			if (kd == NULL || *kd == '\0')
				goto suppress;
			expand_put(out, kd, strlen(kd), sql_quote);
			break;
		default:
			if (*p < '1' || *p > '9' || kd == NULL ||
			    (lab = domain_label(kd, *p - '0', &llen)) == NULL)
				goto suppress;
			expand_put(out, lab, llen, sql_quote);
			break;
		}
	}
	return 1;
suppress:
	buf_truncate(out, mark);
	return 0;
}

static void sqlite_close(struct table *t);

/* sqlite_domains - split the domain list into names and tables */
static int sqlite_domains(struct sqlite_table *p, const char *path, struct buf *err)
{
	struct strv items = STRV_INIT;
	const char *why;
	int rc = 0;

	if (str_split(p->cf.domain, STR_SEP_LIST, &items, &why) < 0) {
		buf_printf(err, "%s: domain: %s", path, why);
		return -1;
	}
	for (size_t i = 0; i < items.n && rc == 0; i++) {
		if (strchr(items.v[i], ':') == NULL) {
			strv_push_take(&p->domains, str_lower_dup(items.v[i]));
			continue;
		}
		struct table *dt = table_open(items.v[i], 0, err);

		if (dt == NULL) {
			rc = -1;
			break;
		}
		p->domain_tables = xreallocarray(p->domain_tables, p->ndomain_tables + 1,
						 sizeof(*p->domain_tables));
		p->domain_tables[p->ndomain_tables++] = dt;
	}
	strv_free(&items);
	return rc;
}

/* sqlite_read_cf - the whole configuration file into cf */
static int sqlite_read_cf(const char *path, struct sqlite_cf *cf, struct buf *err)
{
	struct buf text = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *fp = fopen(path, "r");
	int rc;

	if (fp == NULL) {
		buf_printf(err, "open %s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&text, chunk, n);
	if (ferror(fp)) {
		buf_printf(err, "read %s: %s", path, strerror(errno));
		fclose(fp);
		buf_free(&text);
		return -1;
	}
	fclose(fp);
	rc = sqlite_cf_parse(buf_cstr(&text), text.len, path, cf, err);
	buf_free(&text);
	return rc;
}

/* sqlite_open_any - parse the .cf file, open the database read-only */
static int sqlite_open_any(struct table *t, const char *name, struct buf *err)
{
	struct sqlite_table *p = xcalloc(1, sizeof(*p));

	t->priv = p;
	if (t->flags & TABLE_F_WRITE) {
		buf_printf(err, "sqlite:%s: update operation is not supported", name);
		return -1;
	}
	if (sqlite_read_cf(name, &p->cf, err) != 0)
		return -1;
	table_stamp_get(name, &p->stamp);
	if (sqlite_domains(p, name, err) != 0)
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

/* sqlite_domain_ok - the "domain" restriction: user@listed-domain only */
static int sqlite_domain_ok(struct table *t, struct sqlite_table *p, const char *key)
{
	const char *at = strrchr(key, '@');

	if (p->domains.n == 0 && p->ndomain_tables == 0)
		return 1;
	if (at == NULL || at == key || at[1] == '\0')
		return 0;
	if (strv_contains_case(&p->domains, at + 1))
		return 1;
	for (size_t i = 0; i < p->ndomain_tables; i++) {
		switch (table_lookup(p->domain_tables[i], at + 1, &p->row)) {
		case TABLE_FOUND:
			return 1;
		case TABLE_TEMPFAIL:
			table_set_error(t, "%s: domain lookup: %s", t->name,
					table_error(p->domain_tables[i]));
			return -1;
		case TABLE_NOTFOUND:
			break;
		}
	}
	return 0;
}

/* sqlite_rows - run the query, format and join the rows */
static enum table_status sqlite_rows(struct table *t, struct sqlite_table *p, const char *key,
				     struct buf *value)
{
	sqlite3_stmt *st = NULL;
	long count = 0;
	int rc;

	if (sqlite3_prepare_v2(p->db, buf_cstr(&p->query), -1, &st, NULL) != SQLITE_OK) {
		table_set_error(t, "%s: SQL error: %s", t->name, sqlite3_errmsg(p->db));
		return TABLE_TEMPFAIL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *col = (const char *)sqlite3_column_text(st, 0);
		size_t mark = value->len;

		if (col == NULL)
			continue;
		if (mark)
			buf_putc(value, ',');
		if (!sqlite_expand(p->cf.result_format, col, key, false, value)) {
			buf_truncate(value, mark);
			continue;
		}
		if (p->cf.expansion_limit > 0 && ++count > p->cf.expansion_limit) {
			sqlite3_finalize(st);
			log_warn("%s: Expansion limit exceeded for key '%s'", t->name, key);
			table_set_error(t, "%s: expansion limit %ld exceeded for key '%s'", t->name,
					p->cf.expansion_limit, key);
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
	int ok = sqlite_domain_ok(t, p, key);

	if (ok <= 0)
		return ok < 0 ? TABLE_TEMPFAIL : TABLE_NOTFOUND;
	buf_reset(&p->query);
	if (!sqlite_expand(p->cf.query, key, NULL, true, &p->query))
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
	for (size_t i = 0; i < p->ndomain_tables; i++)
		table_close(&p->domain_tables[i]);
	free(p->domain_tables);
	strv_free(&p->domains);
	sqlite_cf_free(&p->cf);
	buf_free(&p->query);
	buf_free(&p->row);
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
