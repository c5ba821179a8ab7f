/*
 * smtpd_check_dnsaccess - check_{client,reverse_client,helo,sender,
 * recipient}_{mx,ns,a}_access: access(5) tables searched for the mail
 * servers (MX), name servers (NS) or addresses (A/AAAA) that the DNS gives
 * for a domain, as Postfix does ("block senders whose MX lives in a bogon
 * network").
 *
 * Public (smtpd_check_impl.h): chk_dns_access.
 *
 * MX: the MX hosts of the domain (the domain itself when it has no MX);
 * NS: the name servers of the domain, or of the nearest parent that has
 * some; each host name is searched (with parent domains), then each of its
 * addresses. A: the domain's own addresses only. As in Postfix, OK is not
 * allowed from these tables (it would let a spammer whitelist himself with
 * his own DNS): it is ignored with a warning; use DUNNO to exempt hosts.
 * A DNS failure defers if the mail would otherwise be accepted.
 */
#include <arpa/nameser.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "smtpd/smtpd_check_impl.h"

#define DNS_FOUND	1
#define DNS_NOTFOUND	0
#define DNS_TEMPFAIL	(-1)
#define MAX_HOSTS	10

enum kind { KIND_MX, KIND_NS, KIND_A };

/* subject - what the restriction looks at and whose name a refusal carries */
static const char *subject(struct smtpd_check_run *r, enum chk_op op, const char **name,
			   const char **cls)
{
	const struct smtpd_facts *f = &r->f;
	const char *at;

	switch (op) {
	case OP_CHECK_CLIENT_MX_ACCESS:
	case OP_CHECK_CLIENT_NS_ACCESS:
	case OP_CHECK_CLIENT_A_ACCESS:
		*name = buf_cstr(&r->namaddr);
		*cls = "Client host";
		return f->client_name;
	case OP_CHECK_REVERSE_CLIENT_MX_ACCESS:
	case OP_CHECK_REVERSE_CLIENT_NS_ACCESS:
	case OP_CHECK_REVERSE_CLIENT_A_ACCESS:
		*name = buf_cstr(&r->namaddr);
		*cls = "Client host";
		return f->reverse_name;
	case OP_CHECK_HELO_MX_ACCESS:
	case OP_CHECK_HELO_NS_ACCESS:
	case OP_CHECK_HELO_A_ACCESS:
		*name = f->helo;
		*cls = "Helo command";
		return f->helo;
	case OP_CHECK_SENDER_MX_ACCESS:
	case OP_CHECK_SENDER_NS_ACCESS:
	case OP_CHECK_SENDER_A_ACCESS:
		*name = f->sender;
		*cls = "Sender address";
		at = f->sender ? strrchr(f->sender, '@') : NULL;
		return at ? at + 1 : NULL;
	default:
		*name = f->recipient;
		*cls = "Recipient address";
		at = f->recipient ? strrchr(f->recipient, '@') : NULL;
		return at ? at + 1 : NULL;
	}
}

/* kind_of - which records the restriction follows */
static enum kind kind_of(enum chk_op op)
{
	switch (op) {
	case OP_CHECK_CLIENT_MX_ACCESS:
	case OP_CHECK_REVERSE_CLIENT_MX_ACCESS:
	case OP_CHECK_HELO_MX_ACCESS:
	case OP_CHECK_SENDER_MX_ACCESS:
	case OP_CHECK_RECIPIENT_MX_ACCESS:
		return KIND_MX;
	case OP_CHECK_CLIENT_NS_ACCESS:
	case OP_CHECK_REVERSE_CLIENT_NS_ACCESS:
	case OP_CHECK_HELO_NS_ACCESS:
	case OP_CHECK_SENDER_NS_ACCESS:
	case OP_CHECK_RECIPIENT_NS_ACCESS:
		return KIND_NS;
	default:
		return KIND_A;
	}
}

/* hosts - the server names to check; DNS status or CHK_DNS_PENDING */
static int hosts(struct smtpd_check_run *r, enum kind k, const char *domain, struct strv *out)
{
	const char *v = NULL;
	int st;

	if (k == KIND_A) {
		strv_push(out, domain);
		return DNS_FOUND;
	}
	if (k == KIND_MX) {
		st = chk_dns_lookup(r, ns_t_mx, domain, &v);
		if (st == DNS_FOUND) {
			struct strv lines = STRV_INIT;
			const char *why = NULL;

			str_split(v, "\n", &lines, &why);
			for (size_t i = 0; i < lines.n && out->n < MAX_HOSTS; i++) {
				const char *host = strchr(lines.v[i], ' ');

				if (host && host[1] && strcmp(host + 1, ".") != 0)
					strv_push(out, host + 1);
			}
			strv_free(&lines);
		} else if (st == DNS_NOTFOUND) {
			strv_push(out, domain);	/* no MX: the domain is its own server */
			st = DNS_FOUND;
		}
		return st;
	}
	/* NS: this domain, else the nearest parent that has name servers */
	for (const char *d = domain; d && *d; d = strchr(d, '.') ? strchr(d, '.') + 1 : NULL) {
		st = chk_dns_lookup(r, ns_t_ns, d, &v);
		if (st == DNS_FOUND) {
			const char *why = NULL;

			str_split(v, "\n", out, &why);
			while (out->n > MAX_HOSTS)
				free(out->v[--out->n]), out->v[out->n] = NULL;
			return DNS_FOUND;
		}
		if (st != DNS_NOTFOUND)
			return st;
		if (strchr(d, '.') == NULL)
			break;
	}
	return DNS_NOTFOUND;
}

/* search - one key in the table; the action's status, or CHK_DUNNO to go on */
static enum chk_status search(struct smtpd_check_run *r, const struct chk_item *it,
			      const char *key, const char *name, const char *cls, bool *stop)
{
	struct table_search_opts o;
	struct table_match m = { BUF_INIT, BUF_INIT };
	struct buf value = BUF_INIT;
	enum table_status st;
	enum chk_status result = CHK_DUNNO;

	memset(&o, 0, sizeof(o));
	o.parent_matches_subdomains = r->c->access_parent;
	st = table_find(it->table, TABLE_SEARCH_HOST, key, &o, &value, &m);
	chk_trace(r, "    %s: \"%s\" %s%s%s", it->arg, key,
		  st == TABLE_FOUND ? "found \"" : st == TABLE_NOTFOUND ? "not found" : "FAILED",
		  st == TABLE_FOUND ? buf_cstr(&value) : "", st == TABLE_FOUND ? "\"" : "");
	if (st == TABLE_TEMPFAIL) {
		struct buf w = BUF_INIT;

		buf_printf(&w, "%s: %s lookup of \"%s\" failed: %s", it->name, it->arg, key,
			   table_list_error(it->table));
		chk_tempfail(r, buf_cstr(&w));
		buf_free(&w);
		*stop = true;
		result = CHK_REJECT;
	} else if (st == TABLE_FOUND) {
		const char *v = buf_cstr(&value);
		size_t len = strcspn(v, " \t");

		if ((len == 2 && strncasecmp(v, "OK", 2) == 0) || (*v && str_is_digits(v))) {
			log_warn("%s: %s: OK is not allowed for %s (use DUNNO to exempt a host)",
				 it->arg, key, it->name);
		} else {
			result = chk_action(r, v, it->arg, name, cls, false);
			*stop = true;	/* DUNNO also ends the search, as with any access table */
		}
	}
	buf_free(&value);
	table_match_free(&m);
	return result;
}

/* chk_dns_access - the MX / NS / A access restrictions */
enum chk_status chk_dns_access(struct smtpd_check_run *r, const struct chk_item *it)
{
	const char *name = NULL, *cls = NULL;
	const char *domain = subject(r, it->op, &name, &cls);
	enum kind k = kind_of(it->op);
	struct strv list = STRV_INIT;
	enum chk_status result = CHK_DUNNO;
	bool stop = false;
	int st;

	if (r->c->offline) {
		chk_trace(r, "    DNS not consulted here: no decision");
		return CHK_DUNNO;
	}
	if (domain == NULL || *domain == '\0' || domain[0] == '[' ||
	    strcasecmp(domain, "unknown") == 0)
		return CHK_DUNNO;
	st = hosts(r, k, domain, &list);
	if (st == CHK_DNS_PENDING) {
		strv_free(&list);
		return CHK_PENDING;
	}
	if (st == DNS_TEMPFAIL) {
		chk_set_deferral(r, &r->dip, 450, "4.4.3", "<%s>: %s rejected: Temporary lookup failure",
				 name, cls);
		strv_free(&list);
		return CHK_DUNNO;
	}
	for (size_t i = 0; i < list.n && !stop; i++) {
		const char *v = NULL;
		static const int types[] = { ns_t_a, ns_t_aaaa };

		if (k != KIND_A) {
			result = search(r, it, list.v[i], name, cls, &stop);
			if (stop)
				break;
		}
		for (int t = 0; t < 2 && !stop; t++) {
			int ds = chk_dns_lookup(r, types[t], list.v[i], &v);

			if (ds == CHK_DNS_PENDING) {
				strv_free(&list);
				return CHK_PENDING;
			}
			if (ds == DNS_FOUND) {
				struct strv addrs = STRV_INIT;
				const char *why = NULL;

				str_split(v, "\n", &addrs, &why);
				for (size_t a = 0; a < addrs.n && !stop; a++)
					result = search(r, it, addrs.v[a], name, cls, &stop);
				strv_free(&addrs);
			}
		}
	}
	strv_free(&list);
	return result;
}
