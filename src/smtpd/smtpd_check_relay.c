/*
 * smtpd_check_relay - relay control and the restrictions that need no
 * table of their own: permit_mynetworks, permit_sasl_authenticated, TLS
 * client certificates, *_unauth_destination, recipient and sender
 * validation (smtpd_reject_unlisted_*), HELO and address syntax,
 * pipelining, multi-recipient bounces, plaintext sessions.
 *
 * Public (smtpd_check_impl.h): chk_resolve, chk_relay, chk_unlisted,
 * chk_simple.
 *
 * Bad input is the client's: each restriction answers with Postfix's reply
 * code and text. A table failure is a temporary 4xx, never a permit.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "smtpd/smtpd_check_impl.h"

/* chk_resolve - address class of addr; -1 (reply set) on a lookup failure */
int chk_resolve(struct smtpd_check_run *r, const char *addr, struct resolved *out)
{
	if (resolve_addr(r->c->rc, addr, out) == RESOLVE_TEMPFAIL) {
		log_warn("resolving <%s>: %s", addr, buf_cstr(&out->error));
		chk_trace(r, "    resolving <%s> failed: %s", addr, buf_cstr(&out->error));
		chk_reject(r, 451, "4.3.0", "<%s>: Temporary lookup failure", addr);
		return -1;
	}
	chk_trace(r, "    <%s> resolves to <%s>, class %s%s", addr, buf_cstr(&out->addr),
		  resolve_class_name(out->cls), out->routed ? ", sender-specified routing" : "");
	return 0;
}

/* chk_relay - permit_auth_destination, reject/defer_unauth_destination */
enum chk_status chk_relay(struct smtpd_check_run *r, const struct chk_item *it)
{
	struct resolved res;
	bool authorized;
	const char *rcpt = r->f.recipient;

	if (rcpt == NULL || *rcpt == '\0')
		return CHK_DUNNO;
	resolved_init(&res);
	if (chk_resolve(r, rcpt, &res) < 0) {
		resolved_free(&res);
		return CHK_REJECT;
	}
	/* routing left in the local part: the final destination is unknown */
	if (res.routed && !r->c->allow_untrusted_routing)
		authorized = false;
	else
		authorized = res.cls != RESOLVE_CLASS_DEFAULT;
	resolved_free(&res);
	switch (it->op) {
	case OP_PERMIT_AUTH_DESTINATION:
		return authorized ? CHK_OK : CHK_DUNNO;
	case OP_REJECT_UNAUTH_DESTINATION:
		if (authorized)
			return CHK_DUNNO;
		return chk_reject(r, r->c->code.relay, "5.7.1", "<%s>: Relay access denied", rcpt);
	default:
		if (authorized)
			return CHK_DUNNO;
		return chk_reject(r, r->c->code.relay - 100, "4.7.1", "<%s>: Relay access denied",
				  rcpt);
	}
}

/* in_maps - virtual(5)-order search; -1 after setting the 451 reply */
static int in_maps(struct smtpd_check_run *r, struct table_list *maps, const char *param,
		   const char *addr, const char *reply_name)
{
	struct table_search_opts o;
	struct buf value = BUF_INIT;
	struct table_match m = { BUF_INIT, BUF_INIT };
	enum table_status st;

	if (maps == NULL)
		return 0;
	memset(&o, 0, sizeof(o));
	o.recipient_delimiter = r->c->recipient_delimiter;
	o.is_local_domain = resolve_local_domain_cb;
	o.ctx = r->c->rc;
	st = table_find(maps, TABLE_SEARCH_VIRTUAL, addr, &o, &value, &m);
	chk_trace(r, "    %s: <%s> %s", param, addr,
		  st == TABLE_FOUND ? "found" : st == TABLE_NOTFOUND ? "not found" : "lookup failed");
	buf_free(&value);
	table_match_free(&m);
	if (st == TABLE_TEMPFAIL) {
		log_warn("%s: lookup of <%s> failed: %s", param, addr, table_list_error(maps));
		chk_reject(r, 451, "4.3.0", "<%s>: Temporary lookup failure", reply_name);
		return -1;
	}
	return st == TABLE_FOUND;
}

/*
 * chk_unlisted - is the address a known user of the domain class it is
 * in? (reject_unlisted_recipient/sender, smtpd_reject_unlisted_recipient)
 */
enum chk_status chk_unlisted(struct smtpd_check_run *r, bool sender)
{
	struct smtpd_checks *c = r->c;
	const char *addr = sender ? r->f.sender : r->f.recipient;
	const char *cls_name = sender ? "Sender address" : "Recipient address";
	const char *dsn = sender ? "5.1.0" : "5.1.1";
	struct resolved res;
	const char *a;
	int m, code = 0;
	const char *what = NULL;
	enum chk_status st = CHK_DUNNO;

	if (addr == NULL || *addr == '\0')
		return CHK_DUNNO;
	resolved_init(&res);
	if (chk_resolve(r, addr, &res) < 0) {
		resolved_free(&res);
		return CHK_REJECT;
	}
	a = buf_cstr(&res.addr);
	/* an address that is rewritten or aliased is known */
	if ((m = in_maps(r, c->canonical_maps, "canonical_maps", a, addr)) != 0 ||
	    (!sender && (m = in_maps(r, c->rcpt_canonical_maps, "recipient_canonical_maps", a, addr)) != 0) ||
	    (m = in_maps(r, c->virtual_alias_maps, "virtual_alias_maps", a, addr)) != 0) {
		resolved_free(&res);
		return m < 0 ? CHK_REJECT : CHK_DUNNO;
	}
	switch (res.cls) {
	case RESOLVE_CLASS_LOCAL:
		if (c->local_rcpt_maps == NULL)
			break;
		m = in_maps(r, c->local_rcpt_maps, "local_recipient_maps", a, addr);
		code = c->code.unknown_local;
		what = "User unknown in local recipient table";
		break;
	case RESOLVE_CLASS_VIRTUAL_ALIAS:
		m = 0;	/* virtual_alias_maps was searched above */
		code = c->code.unknown_virtual_alias;
		what = "User unknown in virtual alias table";
		break;
	case RESOLVE_CLASS_VIRTUAL_MAILBOX:
		m = in_maps(r, c->virtual_mailbox_maps, "virtual_mailbox_maps", a, addr);
		code = c->code.unknown_virtual_mailbox;
		what = "User unknown in virtual mailbox table";
		break;
	case RESOLVE_CLASS_RELAY:
		if (c->relay_rcpt_maps == NULL)
			break;
		m = in_maps(r, c->relay_rcpt_maps, "relay_recipient_maps", a, addr);
		code = c->code.unknown_relay;
		what = "User unknown in relay recipient table";
		break;
	case RESOLVE_CLASS_DEFAULT:
		break;
	}
	resolved_free(&res);
	if (what == NULL)
		return CHK_DUNNO;
	if (m < 0)
		return CHK_REJECT;
	if (m == 0)
		st = chk_reject(r, code, dsn, "<%s>: %s rejected: %s", addr, cls_name, what);
	return st;
}

/* valid_hostname - letters, digits, '-', '_' labels; not all-numeric */
static bool valid_hostname(const char *name)
{
	size_t len = strlen(name), label = 0;
	const char *last_label = name;
	bool digits_only = true;

	if (len == 0 || len > 255)
		return false;
	if (name[len - 1] == '.')
		len--;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch == '.') {
			if (label == 0 || name[i - 1] == '-')
				return false;
			label = 0;
			last_label = name + i + 1;
			continue;
		}
		if (!isalnum(ch) && ch != '-' && ch != '_')
			return false;
		if (ch == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	if (label == 0 || name[len - 1] == '-')
		return false;
	for (const char *p = last_label; p < name + len; p++)
		if (!isdigit((unsigned char)*p))
			digits_only = false;
	return !digits_only;
}

/* valid_literal - "[192.0.2.1]" or "[IPv6:2001:db8::1]" */
static bool valid_literal(const char *name)
{
	size_t len = strlen(name);
	char buf[64];
	unsigned char a[16];
	const char *p;

	if (len < 3 || name[0] != '[' || name[len - 1] != ']' || len - 2 >= sizeof(buf))
		return false;
	memcpy(buf, name + 1, len - 2);
	buf[len - 2] = '\0';
	p = buf;
	if (strncasecmp(p, "ipv6:", 5) == 0)
		return inet_pton(AF_INET6, p + 5, a) == 1;
	return inet_pton(AF_INET, p, a) == 1;
}

/* is_ip_address - a bare IPv4 or IPv6 address (valid, but not a hostname) */
static bool is_ip_address(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* fqdn_address - the domain of addr is a dotted hostname or a literal */
static bool fqdn_address(const char *addr)
{
	const char *at = strrchr(addr, '@');

	if (at == NULL || at[1] == '\0')
		return false;
	if (at[1] == '[')
		return valid_literal(at + 1);
	return strchr(at + 1, '.') != NULL && valid_hostname(at + 1);
}

/* permit_mynetworks - client in mynetworks (names, networks, tables) */
static enum chk_status permit_mynetworks(struct smtpd_check_run *r)
{
	struct buf err = BUF_INIT;
	int m = resolve_list_match_host(r->c->mynetworks, r->f.client_name,
					r->f.client_addr, &err);

	if (m < 0) {
		chk_tempfail(r, buf_cstr(&err));
		buf_free(&err);
		return CHK_REJECT;
	}
	buf_free(&err);
	return m ? CHK_OK : CHK_DUNNO;
}

/* permit_clientcerts - a verified certificate listed in relay_clientcerts */
static enum chk_status permit_clientcerts(struct smtpd_check_run *r)
{
	const char *fp[2] = { r->f.ccert_fingerprint, r->f.ccert_pubkey_fingerprint };
	struct buf value = BUF_INIT;

	if (!r->f.tls || !r->f.ccert_verified || r->c->relay_clientcerts == NULL)
		return CHK_DUNNO;
	for (int i = 0; i < 2; i++) {
		enum table_status st;

		if (fp[i] == NULL || *fp[i] == '\0')
			continue;
		st = table_list_lookup(r->c->relay_clientcerts, fp[i], false, &value, NULL);
		if (st == TABLE_TEMPFAIL) {
			buf_free(&value);
			return chk_tempfail(r, "relay_clientcerts lookup failed");
		}
		if (st == TABLE_FOUND) {
			buf_free(&value);
			return CHK_OK;
		}
	}
	buf_free(&value);
	return CHK_DUNNO;
}

/* chk_simple - restrictions decided from the facts alone */
enum chk_status chk_simple(struct smtpd_check_run *r, const struct chk_item *it)
{
	const struct smtpd_facts *f = &r->f;
	struct smtpd_checks *c = r->c;

	switch (it->op) {
	case OP_PERMIT_MYNETWORKS:
		return permit_mynetworks(r);
	case OP_PERMIT_SASL_AUTHENTICATED:
		return c->sasl_enabled && f->sasl_username && *f->sasl_username ? CHK_OK : CHK_DUNNO;
	case OP_PERMIT_TLS_CLIENTCERTS:
		return permit_clientcerts(r);
	case OP_PERMIT_TLS_ALL_CLIENTCERTS:
		return f->tls && f->ccert_verified ? CHK_OK : CHK_DUNNO;
	case OP_REJECT_UNAUTH_PIPELINING:
		if (!f->pipelining_violation)
			return CHK_DUNNO;
		return chk_reject(r, 503, "5.5.0",
				  "<%s>: %s rejected: Improper use of SMTP command pipelining",
				  r->reply_name, r->reply_class);
	case OP_REJECT_INVALID_HELO_HOSTNAME:
		if (f->helo == NULL || *f->helo == '\0')
			return CHK_DUNNO;
		if (f->helo[0] == '[') {
			if (valid_literal(f->helo))
				return CHK_DUNNO;
			return chk_reject(r, c->code.invalid_hostname, "5.5.2",
					  "<%s>: Helo command rejected: invalid ip address", f->helo);
		}
		if (valid_hostname(f->helo) || is_ip_address(f->helo))
			return CHK_DUNNO;
		return chk_reject(r, c->code.invalid_hostname, "5.5.2",
				  "<%s>: Helo command rejected: Invalid name", f->helo);
	case OP_REJECT_NON_FQDN_HELO_HOSTNAME:
		if (f->helo == NULL || *f->helo == '\0' || f->helo[0] == '[')
			return CHK_DUNNO;
		if (strchr(f->helo, '.') && valid_hostname(f->helo) &&
		    strcmp(strchr(f->helo, '.'), ".") != 0)
			return CHK_DUNNO;
		return chk_reject(r, c->code.non_fqdn, "5.5.2",
				  "<%s>: Helo command rejected: need fully-qualified hostname", f->helo);
	case OP_REJECT_NON_FQDN_SENDER:
		if (f->sender == NULL || *f->sender == '\0' || fqdn_address(f->sender))
			return CHK_DUNNO;
		return chk_reject(r, c->code.non_fqdn, "5.5.2",
				  "<%s>: Sender address rejected: need fully-qualified address",
				  f->sender);
	case OP_REJECT_NON_FQDN_RECIPIENT:
		if (f->recipient == NULL || *f->recipient == '\0' || fqdn_address(f->recipient))
			return CHK_DUNNO;
		return chk_reject(r, c->code.non_fqdn, "5.5.2",
				  "<%s>: Recipient address rejected: need fully-qualified address",
				  f->recipient);
	case OP_REJECT_UNLISTED_SENDER:
		return chk_unlisted(r, true);
	case OP_REJECT_UNLISTED_RECIPIENT:
		return chk_unlisted(r, false);
	case OP_REJECT_MULTI_RECIPIENT_BOUNCE:
		if (f->sender == NULL || *f->sender != '\0')
			return CHK_DUNNO;
		if (r->stage == SMTPD_STAGE_RCPT ? f->recipient_count < 1 : f->recipient_count < 2)
			return CHK_DUNNO;
		return chk_reject(r, c->code.multi_rcpt_bounce, "5.5.3",
				  "<%s>: %s rejected: Multi-recipient bounce",
				  r->reply_name, r->reply_class);
	case OP_REJECT_PLAINTEXT_SESSION:
		if (f->tls)
			return CHK_DUNNO;
		return chk_reject(r, c->code.plaintext, "4.7.1", "Session encryption is required");
	default:
		break;
	}
	log_warn("restriction %s: not handled", it->name);
	return chk_tempfail(r, "internal error: restriction not handled");
}
