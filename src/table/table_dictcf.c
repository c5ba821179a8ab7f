/*
 * table_dictcf - the parts every ".cf"-configured table shares: sqlite:,
 * pgsql:, mysql: and ldap: read the same "name = value" files, expand
 * their queries and result formats with the same %-sequences, honour the
 * same "domain" list and join results the same way (comma, with
 * expansion_limit making an overlong answer a temporary failure).
 *
 * Public (table_dictcf.h): dictcf_parse, dictcf_read, dictcf_free_vals,
 * dictcf_template_ok, dictcf_number, dictcf_bool, dictcf_quote_sql,
 * dictcf_expand, dictcf_domain_open, dictcf_domain_ok, dictcf_domain_free,
 * dictcf_result_add.
 *
 * Bad input: a line without "=", a bad parameter name, a NUL byte, a bad
 * %-sequence or a malformed number or boolean is an error "PATH, line N:
 * reason" or "PATH: name: reason"; unknown parameter names are warned
 * about and ignored, as Postfix does.
 */
#include "table/table_dictcf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "table/table_impl.h"

/* dictcf_setting - store one "name = value" */
static int dictcf_setting(const char *path, long lineno, char *line, const char *type,
			  const char *const *names, char **vals, struct buf *err)
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
	for (i = 0; names[i]; i++)
		if (strcmp(names[i], name) == 0)
			break;
	if (names[i] == NULL) {
		log_warn("%s, line %ld: unknown %s parameter \"%s\" ignored", path, lineno, type,
			 name);
		return 0;
	}
	free(vals[i]);
	vals[i] = xstrdup(value);
	return 0;
}

/* dictcf_parse - walk the logical lines of text, storing settings in vals */
int dictcf_parse(const char *text, size_t len, const char *path, const char *type,
		 const char *const *names, char **vals, struct buf *err)
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
				rc = dictcf_setting(path, start, logical.data, type, names, vals, err);
				buf_reset(&logical);
			}
			if (logical.len == 0)
				start = lineno;
			buf_append(&logical, first, (size_t)(p + n - first));
		}
		p += n + (nl ? 1 : 0);
	}
	if (rc == 0 && logical.len > 0)
		rc = dictcf_setting(path, start, logical.data, type, names, vals, err);
	buf_free(&logical);
	return rc;
}

/* dictcf_read - the whole configuration file */
int dictcf_read(const char *path, struct buf *text, struct buf *err)
{
	char chunk[4096];
	size_t n;
	FILE *fp = fopen(path, "r");

	if (fp == NULL) {
		buf_printf(err, "open %s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(text, chunk, n);
	if (ferror(fp)) {
		buf_printf(err, "read %s: %s", path, strerror(errno));
		fclose(fp);
		return -1;
	}
	fclose(fp);
	return 0;
}

/* dictcf_free_vals - release what dictcf_parse stored */
void dictcf_free_vals(char **vals, size_t n)
{
	for (size_t i = 0; i < n; i++)
		xfree(&vals[i]);
}

/* dictcf_template_ok - only %% %s %u %d %S %U %D %1..%9 are allowed */
int dictcf_template_ok(const char *path, const char *name, const char *tmpl, struct buf *err)
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

/* dictcf_number - a non-negative decimal setting */
int dictcf_number(const char *path, const char *name, const char *s, long dflt, long *out,
		  struct buf *err)
{
	if (s == NULL || *s == '\0') {
		*out = dflt;
		return 0;
	}
	if (!str_is_digits(s) || str_parse_long(s, out) != 0) {
		buf_printf(err, "%s: %s: expected a number, not \"%s\"", path, name, s);
		return -1;
	}
	return 0;
}

/* dictcf_bool - Postfix's boolean words */
int dictcf_bool(const char *path, const char *name, const char *s, bool dflt, bool *out,
		struct buf *err)
{
	static const char *const yes[] = { "yes", "true", "1", NULL };
	static const char *const no[] = { "no", "false", "0", NULL };

	*out = dflt;
	if (s == NULL || *s == '\0')
		return 0;
	for (size_t i = 0; yes[i]; i++) {
		if (str_eq_case(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (str_eq_case(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	buf_printf(err, "%s: %s: expected yes or no, not \"%s\"", path, name, s);
	return -1;
}

/* dictcf_quote_sql - single quotes doubled (standard SQL string literals) */
void dictcf_quote_sql(struct buf *out, const char *s, size_t n, void *ctx)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\'')
			buf_putc(out, '\'');
		buf_putc(out, s[i]);
	}
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

/* expand_put - append s[0..n) through the quoting function */
static void expand_put(struct buf *out, const char *s, size_t n, dictcf_quote_fn quote,
		       void *qctx)
{
	if (quote)
		quote(out, s, n, qctx);
	else
		buf_append(out, s, n);
}

/* dictcf_expand - the %-sequences of queries and result formats */
int dictcf_expand(const char *format, const char *value, const char *key,
		  dictcf_quote_fn quote, void *qctx, struct buf *out)
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
		case 's': expand_put(out, value, strlen(value), quote, qctx); break;
		case 'S': expand_put(out, key, strlen(key), quote, qctx); break;
		case 'u':
			if (vul == 0)
				goto suppress;
			expand_put(out, vu, vul, quote, qctx);
			break;
		case 'U':
			if (kul == 0)
				goto suppress;
			expand_put(out, ku, kul, quote, qctx);
			break;
		case 'd':
			if (vd == NULL || *vd == '\0')
				goto suppress;
			expand_put(out, vd, strlen(vd), quote, qctx);
			break;
		case 'D':
			if (kd == NULL || *kd == '\0')
				goto suppress;
			expand_put(out, kd, strlen(kd), quote, qctx);
			break;
		default:
			if (*p < '1' || *p > '9' || kd == NULL ||
			    (lab = domain_label(kd, *p - '0', &llen)) == NULL)
				goto suppress;
			expand_put(out, lab, llen, quote, qctx);
			break;
		}
	}
	return 1;
suppress:
	buf_truncate(out, mark);
	return 0;
}

/* dictcf_domain_open - split the domain list into names and tables */
int dictcf_domain_open(struct dictcf_domain *d, const char *list, const char *path,
		       struct buf *err)
{
	struct strv items = STRV_INIT;
	const char *why;
	int rc = 0;

	memset(d, 0, sizeof(*d));
	if (list == NULL)
		return 0;
	if (str_split(list, STR_SEP_LIST, &items, &why) < 0) {
		buf_printf(err, "%s: domain: %s", path, why);
		strv_free(&items);
		return -1;
	}
	for (size_t i = 0; i < items.n && rc == 0; i++) {
		if (strchr(items.v[i], ':') == NULL) {
			strv_push_take(&d->names, str_lower_dup(items.v[i]));
			continue;
		}
		struct table *dt = table_open(items.v[i], 0, err);

		if (dt == NULL) {
			rc = -1;
			break;
		}
		d->tables = xreallocarray(d->tables, d->ntables + 1, sizeof(*d->tables));
		d->tables[d->ntables++] = dt;
	}
	strv_free(&items);
	return rc;
}

/* dictcf_domain_ok - the "domain" restriction: user@listed-domain only */
int dictcf_domain_ok(struct table *t, struct dictcf_domain *d, const char *key)
{
	const char *at = strrchr(key, '@');

	if (d->names.n == 0 && d->ntables == 0)
		return 1;
	if (at == NULL || at == key || at[1] == '\0')
		return 0;
	if (strv_contains_case(&d->names, at + 1))
		return 1;
	for (size_t i = 0; i < d->ntables; i++) {
		switch (table_lookup(d->tables[i], at + 1, &d->scratch)) {
		case TABLE_FOUND:
			return 1;
		case TABLE_TEMPFAIL:
			table_set_error(t, "%s: domain lookup: %s", t->name,
					table_error(d->tables[i]));
			return -1;
		case TABLE_NOTFOUND:
			break;
		}
	}
	return 0;
}

/* dictcf_domain_free - close the member tables */
void dictcf_domain_free(struct dictcf_domain *d)
{
	for (size_t i = 0; i < d->ntables; i++)
		table_close(&d->tables[i]);
	free(d->tables);
	d->tables = NULL;
	d->ntables = 0;
	strv_free(&d->names);
	buf_free(&d->scratch);
}

/* dictcf_result_add - format one value into the joined answer */
int dictcf_result_add(struct table *t, struct dictcf_result *r, const char *item)
{
	size_t mark = r->value->len;

	if (item == NULL || *item == '\0') {
		log_warn("table \"%s\": empty lookup result for: \"%s\" -- ignored", t->spec,
			 r->key);
		return 0;
	}
	if (mark)
		buf_putc(r->value, ',');
	if (!dictcf_expand(r->format, item, r->key, NULL, NULL, r->value)) {
		buf_truncate(r->value, mark);
		return 0;
	}
	if (r->limit > 0 && ++r->count > r->limit) {
		log_warn("%s: Expansion limit exceeded for key '%s'", t->name, r->key);
		table_set_error(t, "%s: expansion limit %ld exceeded for key '%s'", t->name,
				r->limit, r->key);
		return -1;
	}
	return 0;
}
