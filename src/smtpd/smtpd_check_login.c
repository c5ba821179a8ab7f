/*
 * smtpd_check_login - the four *_sender_login_mismatch restrictions over
 * smtpd_sender_login_maps, exactly as Postfix (POSTFIX-SEMANTICS §3.8).
 *
 * Public (smtpd_check_impl.h): chk_login.
 *
 * The sender is rewritten in the local context (bare user -> user@$myorigin)
 * and searched in virtual(5) order (user+ext@domain, user@domain, user+ext
 * and user for local domains only, @domain); the first table with an answer
 * wins across the list (unionmap: members joined). The answer is a list of
 * SASL login names split on commas and/or white space, compared
 * case-insensitively. The null sender is never checked. A lookup failure
 * is "451 4.3.0 <sender>: Temporary lookup failure". With
 * smtpd_sasl_auth_enable = no the restrictions are skipped with a warning.
 */
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "smtpd/smtpd_check_impl.h"

/* owners - the login names that own sender; 1 found, 0 not, -1 failure */
static int owners(struct smtpd_check_run *r, const char *sender, struct strv *out)
{
	struct table_search_opts o;
	struct table_match m = { BUF_INIT, BUF_INIT };
	struct buf value = BUF_INIT;
	struct resolved res;
	enum table_status st;
	const char *why = NULL;

	resolved_init(&res);
	if (chk_resolve(r, sender, &res) < 0) {
		resolved_free(&res);
		return -1;
	}
	memset(&o, 0, sizeof(o));
	o.recipient_delimiter = r->c->recipient_delimiter;
	o.is_local_domain = resolve_local_domain_cb;
	o.ctx = r->c->rc;
	st = table_find(r->c->login_maps, TABLE_SEARCH_VIRTUAL, buf_cstr(&res.addr), &o,
			&value, &m);
	if (st == TABLE_FOUND) {
		chk_trace(r, "    smtpd_sender_login_maps: key \"%s\" -> \"%s\"",
			  buf_cstr(&m.key), buf_cstr(&value));
		str_split(buf_cstr(&value), STR_SEP_LIST, out, &why);
	} else if (st == TABLE_NOTFOUND) {
		chk_trace(r, "    smtpd_sender_login_maps: <%s> has no owner", buf_cstr(&res.addr));
	} else {
		log_warn("smtpd_sender_login_maps: lookup of <%s> failed: %s",
			 buf_cstr(&res.addr), table_list_error(r->c->login_maps));
		chk_trace(r, "    smtpd_sender_login_maps: lookup failed");
		chk_reject(r, 451, "4.3.0", "<%s>: Temporary lookup failure", sender);
	}
	resolved_free(&res);
	buf_free(&value);
	table_match_free(&m);
	return st == TABLE_TEMPFAIL ? -1 : st == TABLE_FOUND;
}

/* chk_login - reject_{,authenticated_,known_,unauthenticated_}sender_login_mismatch */
enum chk_status chk_login(struct smtpd_check_run *r, const struct chk_item *it)
{
	const char *sender = r->f.sender;
	const char *login = r->f.sasl_username;
	bool authenticated = login && *login;
	bool check_auth = it->op != OP_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH;
	bool check_unauth = it->op != OP_REJECT_AUTH_SENDER_LOGIN_MISMATCH;
	struct strv names = STRV_INIT;
	int found;

	if (!r->c->sasl_enabled) {
		log_warn("restriction `%s' ignored: no SASL support", it->name);
		chk_trace(r, "    ignored: smtpd_sasl_auth_enable = no");
		return CHK_DUNNO;
	}
	if (sender == NULL || *sender == '\0' || r->c->login_maps == NULL)
		return CHK_DUNNO;
	if (authenticated ? !check_auth : !check_unauth)
		return CHK_DUNNO;
	if ((found = owners(r, sender, &names)) < 0) {
		strv_free(&names);
		return CHK_REJECT;
	}
	if (!authenticated) {
		strv_free(&names);
		if (found)
			return chk_reject(r, 553, "5.7.1",
					  "<%s>: Sender address rejected: not logged in", sender);
		return CHK_DUNNO;
	}
	if (!found && it->op == OP_REJECT_KNOWN_SENDER_LOGIN_MISMATCH) {
		strv_free(&names);
		return CHK_DUNNO;
	}
	for (size_t i = 0; i < names.n; i++)
		if (strcasecmp(names.v[i], login) == 0) {
			chk_trace(r, "    login \"%s\" owns <%s>", login, sender);
			strv_free(&names);
			return CHK_DUNNO;
		}
	strv_free(&names);
	return chk_reject(r, 553, "5.7.1", "<%s>: Sender address rejected: not owned by user %s",
			  sender, login);
}
