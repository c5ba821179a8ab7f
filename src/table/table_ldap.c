/*
 * table_ldap - "ldap:/path/to/file.cf": directory lookups, configured as
 * ldap_table(5) describes (OpenLDAP's libldap).
 *
 * Public: table_ldap_ops (via table_registry.c).
 *
 * A lookup expands search_base (RFC 2253 quoting) and query_filter (RFC
 * 2254 quoting) with the folded key and searches with the configured
 * scope; of each entry found it takes the values of result_attribute, of
 * leaf_result_attribute when the entry has no special attribute, and
 * follows the DNs and LDAP URLs in special_result_attribute (to
 * recursion_limit levels). An entry with a terminal_result_attribute
 * gives only those values. Every value is formatted with result_format
 * and the results joined with ",". The server_host URLs are tried in
 * order (libldap's failover); the connection is kept, and when it is
 * found broken (a restarted server) the lookup runs once more on a new
 * one.
 *
 * Bad input: what ldap_cf_read rejects is an open error. No reachable
 * server, a failed bind, a search error, more entries than size_limit,
 * more values than expansion_limit and a recursion deeper than
 * recursion_limit are temporary lookup failures, and so is a search base
 * that does not exist, unless it was made from the key (then: not found),
 * as in Postfix.
 */
#include <lber.h>
#include <ldap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "lib/mem.h"
#include "lib/str.h"
#include "table/table_dictcf.h"
#include "table/table_impl.h"
#include "table/table_ldapcf.h"

#define LDAP_BROKEN	2	/* a search result: the connection is gone */

struct ldap_table {
	struct ldap_cf cf;
	struct dictcf_domain domain;
	struct table_stamp stamp;	/* of the .cf file */
	LDAP *ld;
	char **attrs;			/* every attribute asked for, NULL-terminated */
	struct buf base;
	struct buf filter;
};

/* One lookup in progress. */
struct ldap_table_walk {
	struct table *t;
	struct ldap_table *p;
	struct dictcf_result r;
};

static void ldap_table_close(struct table *t);

/* ldap_table_all_attrs - result, special, terminal and leaf attributes, once each */
static char **ldap_table_all_attrs(const struct ldap_cf *cf)
{
	const struct strv *lists[] = {
		&cf->result_attribute, &cf->special_result_attribute,
		&cf->terminal_result_attribute, &cf->leaf_result_attribute,
	};
	size_t n = 0, total = 0;
	char **v;

	for (size_t i = 0; i < 4; i++)
		total += lists[i]->n;
	v = xcalloc(total + 2, sizeof(*v));
	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < lists[i]->n; j++) {
			size_t k = 0;

			while (k < n && !str_eq_case(v[k], lists[i]->v[j]))
				k++;
			if (k == n)
				v[n++] = lists[i]->v[j];
		}
	if (n == 0)	/* nothing wanted: ask for no attributes at all */
		v[n++] = LDAP_NO_ATTRS;
	return v;
}

/* ldap_table_open - parse the .cf file; the first lookup connects */
static int ldap_table_open(struct table *t, const char *name, struct buf *err)
{
	struct ldap_table *p = xcalloc(1, sizeof(*p));

	t->priv = p;
	if (t->flags & TABLE_F_WRITE)
		buf_printf(err, "ldap:%s: update operation is not supported", name);
	else if (ldap_cf_read(name, &p->cf, err) == 0 &&
		 dictcf_domain_open(&p->domain, p->cf.domain, name, err) == 0) {
		table_stamp_get(name, &p->stamp);
		p->attrs = ldap_table_all_attrs(&p->cf);
		return 0;
	}
	ldap_table_close(t);
	return -1;
}

/* ldap_table_tls_options - the tls_* files and the certificate check, before connecting */
static void ldap_table_tls_options(LDAP *ld, const struct ldap_cf *cf)
{
	int require = cf->tls_require_cert ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER, zero = 0;

	if (cf->tls_ca_cert_file)
		ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, cf->tls_ca_cert_file);
	if (cf->tls_ca_cert_dir)
		ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTDIR, cf->tls_ca_cert_dir);
	if (cf->tls_cert)
		ldap_set_option(ld, LDAP_OPT_X_TLS_CERTFILE, cf->tls_cert);
	if (cf->tls_key)
		ldap_set_option(ld, LDAP_OPT_X_TLS_KEYFILE, cf->tls_key);
	if (cf->tls_cipher_suite)
		ldap_set_option(ld, LDAP_OPT_X_TLS_CIPHER_SUITE, cf->tls_cipher_suite);
	ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &require);
	ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
}

/* ldap_table_connect - a handle with the options set, StartTLS and the bind done */
static int ldap_table_connect(struct table *t, struct ldap_table *p)
{
	struct timeval tv = { p->cf.timeout, 0 };
	int version = (int)p->cf.version, deref = (int)p->cf.dereference, rc;
	struct berval cred;

	if (p->ld)
		return 0;
	if ((rc = ldap_initialize(&p->ld, p->cf.uris)) != LDAP_SUCCESS) {
		table_set_error(t, "%s: server_host %s: %s", t->name, p->cf.uris, ldap_err2string(rc));
		return -1;
	}
	ldap_set_option(p->ld, LDAP_OPT_PROTOCOL_VERSION, &version);
	ldap_set_option(p->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	ldap_set_option(p->ld, LDAP_OPT_TIMEOUT, &tv);
	ldap_set_option(p->ld, LDAP_OPT_DEREF, &deref);
	ldap_set_option(p->ld, LDAP_OPT_REFERRALS, p->cf.chase_referrals ? LDAP_OPT_ON : LDAP_OPT_OFF);
	ldap_table_tls_options(p->ld, &p->cf);
	rc = p->cf.start_tls ? ldap_start_tls_s(p->ld, NULL, NULL) : LDAP_SUCCESS;
	if (rc == LDAP_SUCCESS && p->cf.bind) {
		cred.bv_val = p->cf.bind_pw;
		cred.bv_len = strlen(p->cf.bind_pw);
		rc = ldap_sasl_bind_s(p->ld, p->cf.bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	}
	if (rc != LDAP_SUCCESS) {
		table_set_error(t, "%s: %s %s: %s", t->name, p->cf.start_tls ? "StartTLS or bind" : "bind",
				p->cf.uris, ldap_err2string(rc));
		ldap_unbind_ext_s(p->ld, NULL, NULL);
		p->ld = NULL;
		return -1;
	}
	return 0;
}

/* ldap_table_in - attr is in the list (names compare without case) */
static bool ldap_table_in(const struct strv *list, const char *attr)
{
	for (size_t i = 0; i < list->n; i++)
		if (str_eq_case(list->v[i], attr))
			return true;
	return false;
}

/* ldap_table_entry_has - the entry has a value for some attribute of list */
static bool ldap_table_entry_has(LDAP *ld, LDAPMessage *e, const struct strv *list)
{
	for (size_t i = 0; i < list->n; i++) {
		struct berval **vals = ldap_get_values_len(ld, e, list->v[i]);
		bool has = vals && vals[0];

		ldap_value_free_len(vals);
		if (has)
			return true;
	}
	return false;
}

static int ldap_table_search_walk(struct ldap_table_walk *w, const char *base, int scope, const char *filter,
			    char **attrs, long depth);

/* ldap_table_follow - a special attribute's value: a DN or an LDAP URL */
static int ldap_table_follow(struct ldap_table_walk *w, const char *value, long depth)
{
	LDAPURLDesc *url = NULL;
	int rc;

	if (depth >= w->p->cf.recursion_limit) {
		table_set_error(w->t, "%s: recursion limit %ld exceeded following \"%s\"",
				w->t->name, w->p->cf.recursion_limit, value);
		return -1;
	}
	if (!ldap_is_ldap_url(value))
		return ldap_table_search_walk(w, value, LDAP_SCOPE_BASE, "(objectclass=*)", w->p->attrs,
					depth + 1);
	if (ldap_url_parse(value, &url) != LDAP_URL_SUCCESS) {
		table_set_error(w->t, "%s: bad LDAP URL \"%s\"", w->t->name, value);
		return -1;
	}
	/* a URL's own attribute list narrows ours; none means all of ours */
	char **attrs = w->p->attrs, **both = NULL;

	if (url->lud_attrs && url->lud_attrs[0]) {
		size_t n = 0;

		for (char **a = url->lud_attrs; *a; a++)
			n++;
		both = xcalloc(n + 2, sizeof(*both));
		n = 0;
		for (char **a = url->lud_attrs; *a; a++)
			for (char **m = w->p->attrs; *m; m++)
				if (str_eq_case(*a, *m))
					both[n++] = *m;
		if (n == 0)
			both[n++] = LDAP_NO_ATTRS;
		attrs = both;
	}
	rc = ldap_table_search_walk(w, url->lud_dn ? url->lud_dn : "", url->lud_scope,
			      url->lud_filter ? url->lud_filter : "(objectclass=*)", attrs, depth + 1);
	free(both);
	ldap_free_urldesc(url);
	return rc;
}

/* ldap_table_add_values - one attribute's values into the result */
static int ldap_table_add_values(struct ldap_table_walk *w, struct berval **vals)
{
	for (size_t i = 0; vals && vals[i]; i++) {
		char *v = xstrndup(vals[i]->bv_val, vals[i]->bv_len);
		int rc = dictcf_result_add(w->t, &w->r, v);

		free(v);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* ldap_table_entry - the values one entry contributes, in the server's attribute order */
static int ldap_table_entry(struct ldap_table_walk *w, LDAPMessage *e, long depth)
{
	const struct ldap_cf *cf = &w->p->cf;
	LDAP *ld = w->p->ld;
	bool terminal = ldap_table_entry_has(ld, e, &cf->terminal_result_attribute);
	bool special = !terminal && ldap_table_entry_has(ld, e, &cf->special_result_attribute);
	BerElement *ber = NULL;
	int rc = 0;

	for (char *a = ldap_first_attribute(ld, e, &ber); a && rc == 0;
	     a = ldap_next_attribute(ld, e, ber)) {
		struct berval **vals = ldap_get_values_len(ld, e, a);

		if (terminal ? ldap_table_in(&cf->terminal_result_attribute, a)
			     : ldap_table_in(&cf->result_attribute, a) ||
				       (!special && ldap_table_in(&cf->leaf_result_attribute, a)))
			rc = ldap_table_add_values(w, vals);
		if (!terminal && rc == 0 && ldap_table_in(&cf->special_result_attribute, a))
			for (size_t i = 0; vals && vals[i] && rc == 0; i++) {
				char *v = xstrndup(vals[i]->bv_val, vals[i]->bv_len);

				rc = ldap_table_follow(w, v, depth);
				free(v);
			}
		ldap_value_free_len(vals);
		ldap_memfree(a);
	}
	ber_free(ber, 0);
	return rc;
}

/*
 * ldap_table_search_result - what a search's result code means for the
 * lookup. A missing base is "not found" when it came from the key (a
 * %-expansion of search_base, or a DN being followed), else an error, as
 * in Postfix.
 */
static int ldap_table_search_result(struct ldap_table_walk *w, int rc, const char *base,
				    long depth)
{
	switch (rc) {
	case LDAP_SUCCESS:
		return 0;
	case LDAP_NO_SUCH_OBJECT:
		if (depth > 0 || strchr(w->p->cf.search_base, '%') != NULL)
			return 0;
		table_set_error(w->t, "%s: search base '%s' not found: %s", w->t->name, base,
				ldap_err2string(rc));
		return -1;
	case LDAP_SERVER_DOWN:
	case LDAP_CONNECT_ERROR:
	case LDAP_UNAVAILABLE:
	case LDAP_BUSY:
		table_set_error(w->t, "%s: search %s: %s", w->t->name, base, ldap_err2string(rc));
		return LDAP_BROKEN;
	default:
		table_set_error(w->t, "%s: search %s: %s", w->t->name, base, ldap_err2string(rc));
		return -1;
	}
}

/* ldap_table_search_walk - one search and every entry it finds */
static int ldap_table_search_walk(struct ldap_table_walk *w, const char *base, int scope, const char *filter,
			    char **attrs, long depth)
{
	struct timeval tv = { w->p->cf.timeout, 0 };
	LDAPMessage *res = NULL;
	int rc = ldap_search_ext_s(w->p->ld, base, scope, filter, attrs, 0, NULL, NULL, &tv,
				   (int)w->p->cf.size_limit, &res);

	rc = ldap_table_search_result(w, rc, base, depth);
	for (LDAPMessage *e = res ? ldap_first_entry(w->p->ld, res) : NULL; e && rc == 0;
	     e = ldap_next_entry(w->p->ld, e))
		rc = ldap_table_entry(w, e, depth);
	ldap_msgfree(res);
	return rc;
}

/* ldap_table_scope_of - the library's scope constant */
static int ldap_table_scope_of(enum ldapcf_scope s)
{
	return s == LDAPCF_SCOPE_BASE ? LDAP_SCOPE_BASE
	       : s == LDAPCF_SCOPE_ONE ? LDAP_SCOPE_ONELEVEL : LDAP_SCOPE_SUBTREE;
}

/* ldap_table_lookup - domain check, expansion, search (again on a broken connection) */
static enum table_status ldap_table_lookup(struct table *t, const char *key, struct buf *value)
{
	struct ldap_table *p = t->priv;
	struct ldap_table_walk w = { t, p, { p->cf.result_format, p->cf.expansion_limit, key, 0, value } };
	int ok = dictcf_domain_ok(t, &p->domain, key), rc = LDAP_BROKEN;

	if (ok <= 0)
		return ok < 0 ? TABLE_TEMPFAIL : TABLE_NOTFOUND;
	buf_reset(&p->base);
	buf_reset(&p->filter);
	if ((*p->cf.search_base &&
	     !dictcf_expand(p->cf.search_base, key, NULL, ldapcf_quote_dn, NULL, &p->base)) ||
	    !dictcf_expand(p->cf.query_filter, key, NULL, ldapcf_quote_filter, NULL, &p->filter))
		return TABLE_NOTFOUND;
	for (int attempt = 0; attempt < 2 && rc == LDAP_BROKEN; attempt++) {
		if (attempt > 0) {
			ldap_unbind_ext_s(p->ld, NULL, NULL);
			p->ld = NULL;
		}
		if (ldap_table_connect(t, p) != 0)
			return TABLE_TEMPFAIL;
		buf_reset(value);
		w.r.count = 0;
		rc = ldap_table_search_walk(&w, buf_cstr(&p->base), ldap_table_scope_of(p->cf.scope),
				      buf_cstr(&p->filter), p->attrs, 0);
	}
	if (rc != 0)
		return TABLE_TEMPFAIL;
	return value->len ? TABLE_FOUND : TABLE_NOTFOUND;
}

/* ldap_table_close - unbind and release */
static void ldap_table_close(struct table *t)
{
	struct ldap_table *p = t->priv;

	if (p == NULL)
		return;
	if (p->ld)
		ldap_unbind_ext_s(p->ld, NULL, NULL);
	free(p->attrs);
	dictcf_domain_free(&p->domain);
	ldap_cf_free(&p->cf);
	buf_free(&p->base);
	buf_free(&p->filter);
	free(p);
	t->priv = NULL;
}

/* ldap_table_stale - the .cf file changed (the directory itself is live) */
static int ldap_table_stale(struct table *t)
{
	struct ldap_table *p = t->priv;

	return table_stamp_changed(t->name, &p->stamp);
}

const struct table_ops table_ldap_ops = {
	.type = "ldap",
	.props = TABLE_P_FIXED,
	.open = ldap_table_open,
	.lookup = ldap_table_lookup,
	.close = ldap_table_close,
	.stale = ldap_table_stale,
};
