/*
 * smtpd_check_parse - restriction lists as written in main.cf
 * ("permit_mynetworks, check_sender_access hash:/x, reject") into items.
 *
 * Public (smtpd_check_impl.h): chk_restriction_find, chk_list_parse,
 * chk_list_free, chk_table_get, chk_class_find.
 *
 * Words are separated by commas and/or white space; "{ … }" groups stay
 * whole (table specs such as inline:{…}, check_policy_service options, and
 * an inline nested list "{ permit_mynetworks, reject }"). A word that is
 * neither a restriction nor a name from smtpd_restriction_classes is an
 * error naming the parameter, as is a missing argument or a table that
 * does not open.
 */
#include <string.h>
#include <strings.h>

#include "lib/mem.h"
#include "lib/str.h"
#include "smtpd/smtpd_check_impl.h"

static const struct chk_restriction restrictions[] = {
	{ "permit", OP_PERMIT, ARG_NONE },
	{ "reject", OP_REJECT, ARG_NONE },
	{ "defer", OP_DEFER, ARG_NONE },
	{ "defer_if_permit", OP_DEFER_IF_PERMIT, ARG_NONE },
	{ "defer_if_reject", OP_DEFER_IF_REJECT, ARG_NONE },
	{ "warn_if_reject", OP_WARN_IF_REJECT, ARG_NONE },
	{ "permit_mynetworks", OP_PERMIT_MYNETWORKS, ARG_NONE },
	{ "permit_sasl_authenticated", OP_PERMIT_SASL_AUTHENTICATED, ARG_NONE },
	{ "permit_tls_clientcerts", OP_PERMIT_TLS_CLIENTCERTS, ARG_NONE },
	{ "permit_tls_all_clientcerts", OP_PERMIT_TLS_ALL_CLIENTCERTS, ARG_NONE },
	{ "permit_auth_destination", OP_PERMIT_AUTH_DESTINATION, ARG_NONE },
	{ "reject_unauth_destination", OP_REJECT_UNAUTH_DESTINATION, ARG_NONE },
	{ "defer_unauth_destination", OP_DEFER_UNAUTH_DESTINATION, ARG_NONE },
	{ "reject_unauth_pipelining", OP_REJECT_UNAUTH_PIPELINING, ARG_NONE },
	{ "reject_invalid_helo_hostname", OP_REJECT_INVALID_HELO_HOSTNAME, ARG_NONE },
	{ "reject_invalid_hostname", OP_REJECT_INVALID_HELO_HOSTNAME, ARG_NONE },
	{ "reject_non_fqdn_helo_hostname", OP_REJECT_NON_FQDN_HELO_HOSTNAME, ARG_NONE },
	{ "reject_non_fqdn_hostname", OP_REJECT_NON_FQDN_HELO_HOSTNAME, ARG_NONE },
	{ "reject_unknown_helo_hostname", OP_REJECT_UNKNOWN_HELO_HOSTNAME, ARG_NONE },
	{ "reject_unknown_hostname", OP_REJECT_UNKNOWN_HELO_HOSTNAME, ARG_NONE },
	{ "reject_non_fqdn_sender", OP_REJECT_NON_FQDN_SENDER, ARG_NONE },
	{ "reject_non_fqdn_recipient", OP_REJECT_NON_FQDN_RECIPIENT, ARG_NONE },
	{ "reject_unknown_sender_domain", OP_REJECT_UNKNOWN_SENDER_DOMAIN, ARG_NONE },
	{ "reject_unknown_recipient_domain", OP_REJECT_UNKNOWN_RECIPIENT_DOMAIN, ARG_NONE },
	{ "reject_unknown_client_hostname", OP_REJECT_UNKNOWN_CLIENT_HOSTNAME, ARG_NONE },
	{ "reject_unknown_client", OP_REJECT_UNKNOWN_CLIENT_HOSTNAME, ARG_NONE },
	{ "reject_unknown_reverse_client_hostname", OP_REJECT_UNKNOWN_REVERSE_CLIENT_HOSTNAME, ARG_NONE },
	{ "reject_rbl_client", OP_REJECT_RBL_CLIENT, ARG_DOMAIN },
	{ "reject_rhsbl_client", OP_REJECT_RHSBL_CLIENT, ARG_DOMAIN },
	{ "reject_rhsbl_reverse_client", OP_REJECT_RHSBL_REVERSE_CLIENT, ARG_DOMAIN },
	{ "reject_rhsbl_sender", OP_REJECT_RHSBL_SENDER, ARG_DOMAIN },
	{ "reject_rhsbl_helo", OP_REJECT_RHSBL_HELO, ARG_DOMAIN },
	{ "reject_rhsbl_recipient", OP_REJECT_RHSBL_RECIPIENT, ARG_DOMAIN },
	{ "permit_dnswl_client", OP_PERMIT_DNSWL_CLIENT, ARG_DOMAIN },
	{ "permit_rhswl_client", OP_PERMIT_RHSWL_CLIENT, ARG_DOMAIN },
	{ "reject_unlisted_sender", OP_REJECT_UNLISTED_SENDER, ARG_NONE },
	{ "reject_unlisted_recipient", OP_REJECT_UNLISTED_RECIPIENT, ARG_NONE },
	{ "check_recipient_maps", OP_REJECT_UNLISTED_RECIPIENT, ARG_NONE },
	{ "reject_multi_recipient_bounce", OP_REJECT_MULTI_RECIPIENT_BOUNCE, ARG_NONE },
	{ "reject_plaintext_session", OP_REJECT_PLAINTEXT_SESSION, ARG_NONE },
	{ "check_client_access", OP_CHECK_CLIENT_ACCESS, ARG_TABLE },
	{ "check_reverse_client_hostname_access", OP_CHECK_REVERSE_CLIENT_HOSTNAME_ACCESS, ARG_TABLE },
	{ "check_helo_access", OP_CHECK_HELO_ACCESS, ARG_TABLE },
	{ "check_sender_access", OP_CHECK_SENDER_ACCESS, ARG_TABLE },
	{ "check_recipient_access", OP_CHECK_RECIPIENT_ACCESS, ARG_TABLE },
	{ "check_sasl_access", OP_CHECK_SASL_ACCESS, ARG_TABLE },
	{ "check_ccert_access", OP_CHECK_CCERT_ACCESS, ARG_TABLE },
	{ "check_policy_service", OP_CHECK_POLICY_SERVICE, ARG_POLICY },
	{ "check_client_mx_access", OP_CHECK_CLIENT_MX_ACCESS, ARG_TABLE },
	{ "check_client_ns_access", OP_CHECK_CLIENT_NS_ACCESS, ARG_TABLE },
	{ "check_client_a_access", OP_CHECK_CLIENT_A_ACCESS, ARG_TABLE },
	{ "check_reverse_client_mx_access", OP_CHECK_REVERSE_CLIENT_MX_ACCESS, ARG_TABLE },
	{ "check_reverse_client_ns_access", OP_CHECK_REVERSE_CLIENT_NS_ACCESS, ARG_TABLE },
	{ "check_reverse_client_a_access", OP_CHECK_REVERSE_CLIENT_A_ACCESS, ARG_TABLE },
	{ "check_helo_mx_access", OP_CHECK_HELO_MX_ACCESS, ARG_TABLE },
	{ "check_helo_ns_access", OP_CHECK_HELO_NS_ACCESS, ARG_TABLE },
	{ "check_helo_a_access", OP_CHECK_HELO_A_ACCESS, ARG_TABLE },
	{ "check_sender_mx_access", OP_CHECK_SENDER_MX_ACCESS, ARG_TABLE },
	{ "check_sender_ns_access", OP_CHECK_SENDER_NS_ACCESS, ARG_TABLE },
	{ "check_sender_a_access", OP_CHECK_SENDER_A_ACCESS, ARG_TABLE },
	{ "check_recipient_mx_access", OP_CHECK_RECIPIENT_MX_ACCESS, ARG_TABLE },
	{ "check_recipient_ns_access", OP_CHECK_RECIPIENT_NS_ACCESS, ARG_TABLE },
	{ "check_recipient_a_access", OP_CHECK_RECIPIENT_A_ACCESS, ARG_TABLE },
	{ "reject_sender_login_mismatch", OP_REJECT_SENDER_LOGIN_MISMATCH, ARG_NONE },
	{ "reject_authenticated_sender_login_mismatch", OP_REJECT_AUTH_SENDER_LOGIN_MISMATCH, ARG_NONE },
	{ "reject_known_sender_login_mismatch", OP_REJECT_KNOWN_SENDER_LOGIN_MISMATCH, ARG_NONE },
	{ "reject_unauthenticated_sender_login_mismatch", OP_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH, ARG_NONE },
	{ NULL, 0, 0 },
};

/* Postfix restrictions Outpost knows but does not offer (say so, never ignore). */
static const char *const unsupported[] = {
	"permit_mx_backup", "reject_unverified_sender", "reject_unverified_recipient",
	"check_etrn_access", "reject_maps_rbl", "check_relay_domains", "permit_naked_ip_address",
	"sleep", NULL,
};

/* chk_restriction_find - a restriction by name (case-insensitive) */
const struct chk_restriction *chk_restriction_find(const char *name)
{
	for (const struct chk_restriction *r = restrictions; r->name; r++)
		if (strcasecmp(r->name, name) == 0)
			return r;
	return NULL;
}

/* chk_table_get - one table list per spec, shared by every restriction */
struct table_list *chk_table_get(struct smtpd_checks *c, const char *spec,
				 struct buf *err)
{
	struct table_list *t;

	for (size_t i = 0; i < c->table_specs.n; i++)
		if (strcmp(c->table_specs.v[i], spec) == 0)
			return c->tables[i];
	if ((t = table_list_open(spec, TABLE_F_FOLD, err)) == NULL)
		return NULL;
	c->tables = xreallocarray(c->tables, c->table_specs.n + 1, sizeof(*c->tables));
	c->tables[c->table_specs.n] = t;
	strv_push(&c->table_specs, spec);
	return t;
}

/* chk_class_find - a restriction class by name */
struct chk_list *chk_class_find(struct smtpd_checks *c, const char *name)
{
	for (size_t i = 0; i < c->class_names.n; i++)
		if (strcasecmp(c->class_names.v[i], name) == 0)
			return c->classes[i];
	return NULL;
}

/* is_unsupported - a Postfix restriction Outpost refuses rather than ignores */
static bool is_unsupported(const char *name)
{
	for (const char *const *u = unsupported; *u; u++)
		if (strcasecmp(*u, name) == 0)
			return true;
	return false;
}

/* parse_item - one restriction word (and its argument); index advanced */
static int parse_item(struct smtpd_checks *c, struct chk_list *l,
		      const struct strv *w, size_t *ip, struct buf *err)
{
	const char *word = w->v[*ip];
	const struct chk_restriction *rd;
	struct chk_item it;

	memset(&it, 0, sizeof(it));
	it.name = xstrdup(word);
	if (word[0] == '{') {
		const char *why = NULL;
		char *inner = xstrdup(word);
		char *body = str_unbrace(inner, &why);

		it.op = OP_CLASS;
		it.cls = body ? chk_list_parse(c, l->param, body, err) : NULL;
		if (body == NULL)
			buf_printf(err, "%s: \"%s\": %s", l->param, word, why ? why : "bad braces");
		free(inner);
		if (it.cls == NULL)
			goto bad;
		/* keep it so it is freed with the checks */
		c->dynamic = xreallocarray(c->dynamic, c->ndynamic + 1, sizeof(*c->dynamic));
		c->dynamic[c->ndynamic++] = it.cls;
		strv_push(&c->dynamic_keys, "");	/* never matches a table result */
	} else if ((rd = chk_restriction_find(word)) != NULL) {
		it.op = rd->op;
		if (rd->arg != ARG_NONE) {
			if (*ip + 1 >= w->n) {
				buf_printf(err, "%s: restriction \"%s\" needs %s", l->param, word,
					   rd->arg == ARG_TABLE ? "a type:table argument"
					   : rd->arg == ARG_DOMAIN ? "a DNS list domain"
					   : "a policy server (inet:host:port or unix:path)");
				goto bad;
			}
			it.arg = xstrdup(w->v[++*ip]);
		}
		if (rd->arg == ARG_TABLE) {
			struct buf terr = BUF_INIT;

			if (strchr(it.arg, ':') == NULL) {
				buf_printf(err, "%s: %s: \"%s\" is not a type:table", l->param,
					   word, it.arg);
				buf_free(&terr);
				goto bad;
			}
			it.table = chk_table_get(c, it.arg, &terr);
			if (it.table == NULL) {
				buf_printf(err, "%s: %s %s: %s", l->param, word, it.arg,
					   buf_cstr(&terr));
				buf_free(&terr);
				goto bad;
			}
			buf_free(&terr);
		} else if (rd->arg == ARG_POLICY) {
			struct buf perr = BUF_INIT;

			it.policy = chk_policy_new(c, it.arg, &perr);
			if (it.policy == NULL) {
				buf_printf(err, "%s: check_policy_service %s: %s", l->param,
					   it.arg, buf_cstr(&perr));
				buf_free(&perr);
				goto bad;
			}
			buf_free(&perr);
		}
	} else if (chk_class_find(c, word) != NULL || strv_contains_case(&c->class_names, word)) {
		it.op = OP_CLASS;	/* linked to its list by chk_link_classes */
	} else if (is_unsupported(word)) {
		buf_printf(err, "%s: restriction \"%s\" is not supported by Outpost", l->param, word);
		goto bad;
	} else {
		buf_printf(err, "%s: unknown restriction \"%s\"", l->param, word);
		goto bad;
	}
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = it;
	return 0;
bad:
	free(it.name);
	free(it.arg);
	return -1;
}

/* chk_list_parse - a restriction list; NULL with err naming param */
struct chk_list *chk_list_parse(struct smtpd_checks *c, const char *param,
				const char *value, struct buf *err)
{
	struct chk_list *l = xcalloc(1, sizeof(*l));
	struct strv w = STRV_INIT;
	const char *why = NULL;

	l->param = xstrdup(param);
	if (str_split(value ? value : "", STR_SEP_LIST, &w, &why) < 0) {
		buf_printf(err, "%s: %s", param, why);
		goto bad;
	}
	for (size_t i = 0; i < w.n; i++) {
		if (parse_item(c, l, &w, &i, err) < 0)
			goto bad;
		if (l->v[l->n - 1].op == OP_CLASS && l->v[l->n - 1].cls == NULL)
			l->v[l->n - 1].cls = chk_class_find(c, w.v[i]);
	}
	strv_free(&w);
	return l;
bad:
	strv_free(&w);
	chk_list_free(&l);
	return NULL;
}

/* chk_list_free - items, not the shared tables, classes or dynamic lists */
void chk_list_free(struct chk_list **lp)
{
	struct chk_list *l = *lp;

	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].arg);
	}
	free(l->v);
	free(l->param);
	xfree(lp);
}
