/*
 * table_ldapcf - read the ".cf" file of an ldap: table, as ldap_table(5)
 * describes: server_host/server_port (into LDAP URLs), search_base,
 * query_filter, result_format (or the older result_filter), domain, the
 * four *_result_attribute lists, scope, bind/bind_dn/bind_pw, the limits,
 * dereference, chase_referrals, version, start_tls and the tls_* files.
 * Also the two quoting rules of LDAP: filter values (RFC 2254) and DN
 * values (RFC 2253).
 *
 * Public: ldap_cf_parse, ldap_cf_read, ldap_cf_free, ldapcf_quote_filter,
 * ldapcf_quote_dn (table_ldapcf.h).
 *
 * Bad input: what dictcf_parse rejects; a bad %-sequence, number, boolean,
 * scope or bind method ("sasl" is not supported); version other than 2 or
 * 3; recursion_limit 0. Each is an error "PATH: reason". cache,
 * cache_expiry and cache_size are ignored with a warning, as in Postfix;
 * debuglevel, tls_random_file and the sasl_* settings are accepted and
 * ignored.
 */
#include "table/table_ldapcf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "table/table_dictcf.h"

enum ldap_param {
	L_SERVER_HOST, L_SERVER_PORT, L_TIMEOUT, L_SEARCH_BASE, L_QUERY_FILTER,
	L_RESULT_FORMAT, L_RESULT_FILTER, L_DOMAIN, L_RESULT_ATTRIBUTE, L_SPECIAL,
	L_TERMINAL, L_LEAF, L_SCOPE, L_BIND, L_BIND_DN, L_BIND_PW, L_RECURSION_LIMIT,
	L_EXPANSION_LIMIT, L_SIZE_LIMIT, L_DEREFERENCE, L_CHASE_REFERRALS, L_VERSION,
	L_START_TLS, L_TLS_CA_CERT_FILE, L_TLS_CA_CERT_DIR, L_TLS_CERT, L_TLS_KEY,
	L_TLS_REQUIRE_CERT, L_TLS_CIPHER_SUITE,
	/* accepted, not used */
	L_DEBUGLEVEL, L_TLS_RANDOM_FILE, L_SASL_MECHS, L_SASL_REALM, L_SASL_AUTHZ_ID,
	L_SASL_MINSSF, L_CACHE, L_CACHE_EXPIRY, L_CACHE_SIZE,
	L_COUNT
};

static const char *const ldap_params[L_COUNT + 1] = {
	"server_host", "server_port", "timeout", "search_base", "query_filter",
	"result_format", "result_filter", "domain", "result_attribute",
	"special_result_attribute", "terminal_result_attribute", "leaf_result_attribute",
	"scope", "bind", "bind_dn", "bind_pw", "recursion_limit", "expansion_limit",
	"size_limit", "dereference", "chase_referrals", "version", "start_tls",
	"tls_ca_cert_file", "tls_ca_cert_dir", "tls_cert", "tls_key", "tls_require_cert",
	"tls_cipher_suite", "debuglevel", "tls_random_file", "sasl_mechs", "sasl_realm",
	"sasl_authz_id", "sasl_minssf", "cache", "cache_expiry", "cache_size", NULL,
};

/* ldap_cf_free - release a parsed configuration */
void ldap_cf_free(struct ldap_cf *cf)
{
	char **strs[] = {
		&cf->uris, &cf->search_base, &cf->query_filter, &cf->result_format, &cf->domain,
		&cf->bind_dn, &cf->bind_pw, &cf->tls_ca_cert_file, &cf->tls_ca_cert_dir,
		&cf->tls_cert, &cf->tls_key, &cf->tls_cipher_suite,
	};

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		xfree(strs[i]);
	strv_free(&cf->result_attribute);
	strv_free(&cf->special_result_attribute);
	strv_free(&cf->terminal_result_attribute);
	strv_free(&cf->leaf_result_attribute);
}

/* ldap_uris - server_host entries as LDAP URLs; bare hosts get server_port */
static int ldap_uris(const char *hosts, long port, const char *path, struct ldap_cf *cf,
		     struct buf *err)
{
	struct strv items = STRV_INIT;
	struct buf out = BUF_INIT;
	const char *why;

	if (str_split(hosts, STR_SEP_LIST, &items, &why) < 0) {
		buf_printf(err, "%s: server_host: %s", path, why);
		strv_free(&items);
		return -1;
	}
	for (size_t i = 0; i < items.n; i++) {
		const char *h = items.v[i];

		if (out.len)
			buf_putc(&out, ' ');
		if (strstr(h, "://"))
			buf_puts(&out, h);
		else if (strchr(h, ':') && h[0] != '[')
			buf_printf(&out, "ldap://%s", h);
		else
			buf_printf(&out, "ldap://%s:%ld", h, port);
	}
	strv_free(&items);
	if (out.len == 0)
		buf_printf(&out, "ldap://localhost:%ld", port);
	cf->uris = buf_steal(&out);
	return 0;
}

/* ldap_attrs - an attribute list setting */
static int ldap_attrs(const char *s, const char *dflt, const char *path, const char *name,
		      struct strv *out, struct buf *err)
{
	const char *why;

	if (str_split(s ? s : dflt, STR_SEP_LIST, out, &why) < 0) {
		buf_printf(err, "%s: %s: %s", path, name, why);
		return -1;
	}
	return 0;
}

/* ldap_scope - sub, one or base */
static int ldap_scope(const char *s, const char *path, struct ldap_cf *cf, struct buf *err)
{
	if (s == NULL || *s == '\0' || str_eq_case(s, "sub"))
		cf->scope = LDAPCF_SCOPE_SUB;
	else if (str_eq_case(s, "one"))
		cf->scope = LDAPCF_SCOPE_ONE;
	else if (str_eq_case(s, "base"))
		cf->scope = LDAPCF_SCOPE_BASE;
	else {
		buf_printf(err, "%s: scope: expected sub, one or base, not \"%s\"", path, s);
		return -1;
	}
	return 0;
}

/* ldap_bind - yes/simple or no/none; sasl is refused */
static int ldap_bind(const char *s, const char *path, struct ldap_cf *cf, struct buf *err)
{
	if (s && (str_eq_case(s, "simple") || str_eq_case(s, "none"))) {
		cf->bind = str_eq_case(s, "simple");
		return 0;
	}
	if (s && str_eq_case(s, "sasl")) {
		buf_printf(err, "%s: bind = sasl is not supported (use simple binds over TLS)", path);
		return -1;
	}
	return dictcf_bool(path, "bind", s, true, &cf->bind, err);
}

/* ldap_numbers - the numeric and boolean settings */
static int ldap_numbers(char **vals, const char *path, struct ldap_cf *cf, struct buf *err)
{
	long port;

	if (dictcf_number(path, "server_port", vals[L_SERVER_PORT], 389, &port, err) != 0 ||
	    dictcf_number(path, "timeout", vals[L_TIMEOUT], 10, &cf->timeout, err) != 0 ||
	    dictcf_number(path, "recursion_limit", vals[L_RECURSION_LIMIT], 1000,
			  &cf->recursion_limit, err) != 0 ||
	    dictcf_number(path, "expansion_limit", vals[L_EXPANSION_LIMIT], 0,
			  &cf->expansion_limit, err) != 0 ||
	    dictcf_number(path, "size_limit", vals[L_SIZE_LIMIT], cf->expansion_limit,
			  &cf->size_limit, err) != 0 ||
	    dictcf_number(path, "dereference", vals[L_DEREFERENCE], 0, &cf->dereference,
			  err) != 0 ||
	    dictcf_number(path, "version", vals[L_VERSION], 3, &cf->version, err) != 0 ||
	    dictcf_bool(path, "chase_referrals", vals[L_CHASE_REFERRALS], false,
			&cf->chase_referrals, err) != 0 ||
	    dictcf_bool(path, "start_tls", vals[L_START_TLS], false, &cf->start_tls, err) != 0 ||
	    dictcf_bool(path, "tls_require_cert", vals[L_TLS_REQUIRE_CERT], false,
			&cf->tls_require_cert, err) != 0)
		return -1;
	if (cf->version != 2 && cf->version != 3) {
		buf_printf(err, "%s: version: expected 2 or 3, not %ld", path, cf->version);
		return -1;
	}
	if (cf->dereference > 3 || cf->recursion_limit == 0) {
		buf_printf(err, "%s: %s", path, cf->dereference > 3
			   ? "dereference: expected 0, 1, 2 or 3"
			   : "recursion_limit: must be a positive number");
		return -1;
	}
	if (port == 0 || port > 65535) {
		buf_printf(err, "%s: server_port: out of range: %ld", path, port);
		return -1;
	}
	return ldap_uris(vals[L_SERVER_HOST] ? vals[L_SERVER_HOST] : "localhost", port, path, cf,
			 err);
}

/* ldap_take - move vals[i] into *dst, or a copy of dflt */
static void ldap_take(char **vals, enum ldap_param i, char **dst, const char *dflt)
{
	*dst = vals[i] ? vals[i] : (dflt ? xstrdup(dflt) : NULL);
	vals[i] = NULL;
}

/* ldap_cf_settle - check and move the values into cf */
static int ldap_cf_settle(char **vals, const char *path, struct ldap_cf *cf, struct buf *err)
{
	static const enum ldap_param ignored[] = { L_CACHE, L_CACHE_EXPIRY, L_CACHE_SIZE };

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		if (vals[ignored[i]])
			log_warn("%s: %s is no longer supported: ignored", path,
				 ldap_params[ignored[i]]);
	if (vals[L_RESULT_FORMAT] == NULL && vals[L_RESULT_FILTER] != NULL)
		vals[L_RESULT_FORMAT] = xstrdup(vals[L_RESULT_FILTER]);
	if (ldap_numbers(vals, path, cf, err) != 0 || ldap_scope(vals[L_SCOPE], path, cf, err) != 0 ||
	    ldap_bind(vals[L_BIND], path, cf, err) != 0 ||
	    ldap_attrs(vals[L_RESULT_ATTRIBUTE], "maildrop", path, "result_attribute",
		       &cf->result_attribute, err) != 0 ||
	    ldap_attrs(vals[L_SPECIAL], "", path, "special_result_attribute",
		       &cf->special_result_attribute, err) != 0 ||
	    ldap_attrs(vals[L_TERMINAL], "", path, "terminal_result_attribute",
		       &cf->terminal_result_attribute, err) != 0 ||
	    ldap_attrs(vals[L_LEAF], "", path, "leaf_result_attribute", &cf->leaf_result_attribute,
		       err) != 0)
		return -1;
	ldap_take(vals, L_SEARCH_BASE, &cf->search_base, "");
	ldap_take(vals, L_QUERY_FILTER, &cf->query_filter, "mailacceptinggeneralid=%s");
	ldap_take(vals, L_RESULT_FORMAT, &cf->result_format, "%s");
	ldap_take(vals, L_DOMAIN, &cf->domain, "");
	ldap_take(vals, L_BIND_DN, &cf->bind_dn, "");
	ldap_take(vals, L_BIND_PW, &cf->bind_pw, "");
	ldap_take(vals, L_TLS_CA_CERT_FILE, &cf->tls_ca_cert_file, NULL);
	ldap_take(vals, L_TLS_CA_CERT_DIR, &cf->tls_ca_cert_dir, NULL);
	ldap_take(vals, L_TLS_CERT, &cf->tls_cert, NULL);
	ldap_take(vals, L_TLS_KEY, &cf->tls_key, NULL);
	ldap_take(vals, L_TLS_CIPHER_SUITE, &cf->tls_cipher_suite, NULL);
	if (strchr(cf->query_filter, '%') == NULL)
		log_warn("%s: Fixed query_filter %s is probably useless", path, cf->query_filter);
	return dictcf_template_ok(path, "search_base", cf->search_base, err) != 0 ||
	       dictcf_template_ok(path, "query_filter", cf->query_filter, err) != 0 ||
	       dictcf_template_ok(path, "result_format", cf->result_format, err) != 0 ? -1 : 0;
}

/* ldap_cf_parse - an ldap_table(5) file's text into cf */
int ldap_cf_parse(const char *text, size_t len, const char *path, struct ldap_cf *cf,
		  struct buf *err)
{
	char *vals[L_COUNT] = { NULL };
	int rc;

	memset(cf, 0, sizeof(*cf));
	rc = dictcf_parse(text, len, path, "ldap", ldap_params, vals, err);
	if (rc == 0)
		rc = ldap_cf_settle(vals, path, cf, err);
	if (rc != 0)
		ldap_cf_free(cf);
	dictcf_free_vals(vals, L_COUNT);
	return rc;
}

/* ldap_cf_read - parse the file at path */
int ldap_cf_read(const char *path, struct ldap_cf *cf, struct buf *err)
{
	struct buf text = BUF_INIT;
	int rc = dictcf_read(path, &text, err);

	if (rc == 0)
		rc = ldap_cf_parse(buf_cstr(&text), text.len, path, cf, err);
	else
		memset(cf, 0, sizeof(*cf));
	buf_free(&text);
	return rc;
}

/* ldapcf_quote_filter - RFC 2254: * ( ) \ and NUL as \XX */
void ldapcf_quote_filter(struct buf *out, const char *s, size_t n, void *ctx)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '*' || c == '(' || c == ')' || c == '\\' || c == '\0')
			buf_printf(out, "\\%02x", c);
		else
			buf_putc(out, c);
	}
}

/* ldapcf_quote_dn - RFC 2253: , + " \ < > ; and a leading # or space, a trailing space */
void ldapcf_quote_dn(struct buf *out, const char *s, size_t n, void *ctx)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if ((c != '\0' && strchr(",+\"\\<>;", c) != NULL) || (i == 0 && (c == '#' || c == ' ')) ||
		    (i == n - 1 && c == ' '))
			buf_putc(out, '\\');
		buf_putc(out, c);
	}
}
