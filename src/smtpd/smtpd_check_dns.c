/*
 * smtpd_check_dns - restrictions that ask the DNS: reject_unknown_*
 * (helo, sender/recipient domain, client names), DNS block lists
 * (reject_rbl_client, reject_rhsbl_*) and allow lists (permit_dnswl_client,
 * permit_rhswl_client).
 *
 * Public (smtpd_check_impl.h): chk_dns_new, chk_dns_free, chk_dns.
 *
 * Lookups are asynchronous: c-ares runs on the smtpd event base (its
 * sockets watched by libevent, its timeouts by one timer). A restriction
 * that needs an answer not yet known starts the query and returns
 * CHK_PENDING; the answer goes into the run's cache and the same
 * restriction runs again. Name servers come from dns_servers
 * ("127.0.0.1:5353", empty = /etc/resolv.conf).
 *
 * Bad input: an unusable dns_servers value fails chk_dns_new() with the
 * parameter name. A DNS failure is temporary: the *_tempfail_action of
 * Postfix (defer_if_permit) for reject_unknown_*, no decision for lists.
 */
#include <arpa/inet.h>
#include <ares.h>
#include <arpa/nameser.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "smtpd/smtpd_check_impl.h"

#define DNS_FOUND	1
#define DNS_NOTFOUND	0
#define DNS_TEMPFAIL	(-1)

struct dns_sock {
	ares_socket_t fd;
	struct event *ev;
};

struct chk_dns {
	struct smtpd_checks *c;
	ares_channel channel;
	bool ready;
	struct dns_sock *socks;
	size_t nsocks;
	struct event *timer;
};

struct dns_req {
	struct chk_dns *d;
	struct smtpd_check_run *run;	/* NULL once the run went away */
	char *key;			/* cache key "TYPE name" */
	int type;
};

/* dns_arm_timer - wake c-ares for its next retransmission or timeout */
static void dns_arm_timer(struct chk_dns *d);
static int lookup(struct smtpd_check_run *r, int type, const char *name, const char **value);

/* on_sock - a watched socket is ready: let c-ares read or write */
static void on_sock(evutil_socket_t fd, short what, void *arg)
{
	struct chk_dns *d = arg;

	ares_process_fd(d->channel, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
			(what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	dns_arm_timer(d);
}

/* on_timer - retransmissions and timeouts */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct chk_dns *d = arg;

	(void)fd;
	(void)what;
	ares_process_fd(d->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	dns_arm_timer(d);
}

static void dns_arm_timer(struct chk_dns *d)
{
	struct timeval tv, *tvp;

	if (d->timer == NULL)
		return;
	tvp = ares_timeout(d->channel, NULL, &tv);
	if (tvp)
		evtimer_add(d->timer, tvp);
	else
		evtimer_del(d->timer);
}

/* on_sock_state - c-ares opens, closes or changes interest in a socket */
static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct chk_dns *d = data;
	size_t i;

	for (i = 0; i < d->nsocks; i++)
		if (d->socks[i].fd == fd)
			break;
	if (i < d->nsocks) {
		event_free(d->socks[i].ev);
		d->socks[i] = d->socks[--d->nsocks];
	}
	if (!readable && !writable)
		return;
	d->socks = xreallocarray(d->socks, d->nsocks + 1, sizeof(*d->socks));
	d->socks[d->nsocks].fd = fd;
	d->socks[d->nsocks].ev = event_new(d->c->base, fd,
					   (short)(EV_PERSIST | (readable ? EV_READ : 0) |
						   (writable ? EV_WRITE : 0)),
					   on_sock, d);
	event_add(d->socks[d->nsocks].ev, NULL);
	d->nsocks++;
}

/* chk_dns_new - a resolver on the event base (none offline or without a base) */
struct chk_dns *chk_dns_new(struct smtpd_checks *c, struct buf *err)
{
	struct chk_dns *d = xcalloc(1, sizeof(*d));
	struct ares_options opt;
	struct strv servers = STRV_INIT;
	char *csv;
	int rc;

	d->c = c;
	if (c->base == NULL)
		return d;	/* lint and tools: DNS restrictions give no decision */
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		buf_puts(err, "c-ares: library initialization failed");
		free(d);
		return NULL;
	}
	memset(&opt, 0, sizeof(opt));
	opt.sock_state_cb = on_sock_state;
	opt.sock_state_cb_data = d;
	opt.timeout = 5000;
	opt.tries = 2;
	rc = ares_init_options(&d->channel, &opt,
			       ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS) {
		buf_printf(err, "c-ares: %s", ares_strerror(rc));
		free(d);
		return NULL;
	}
	config_list(c->cf, "dns_servers", &servers);
	if (servers.n > 0) {
		csv = strv_join(&servers, ",");
		rc = ares_set_servers_ports_csv(d->channel, csv);
		if (rc != ARES_SUCCESS) {
			buf_printf(err, "dns_servers: \"%s\": %s", csv, ares_strerror(rc));
			free(csv);
			strv_free(&servers);
			ares_destroy(d->channel);
			free(d);
			return NULL;
		}
		free(csv);
	}
	strv_free(&servers);
	d->timer = evtimer_new(c->base, on_timer, d);
	d->ready = true;
	return d;
}

/* chk_dns_free - queries still in flight are answered ARES_EDESTRUCTION */
void chk_dns_free(struct chk_dns **dp)
{
	struct chk_dns *d = *dp;

	if (d == NULL)
		return;
	if (d->ready)
		ares_destroy(d->channel);
	for (size_t i = 0; i < d->nsocks; i++)
		event_free(d->socks[i].ev);
	free(d->socks);
	if (d->timer)
		event_free(d->timer);
	xfree(dp);
}

/* answer_text - the records of an answer, one per line, for the cache */
static void answer_text(int type, unsigned char *abuf, int alen, struct buf *out, int *status)
{
	*status = DNS_FOUND;
	if (type == ns_t_a || type == ns_t_aaaa) {
		struct hostent *he = NULL;
		int rc = type == ns_t_a ? ares_parse_a_reply(abuf, alen, &he, NULL, NULL)
					: ares_parse_aaaa_reply(abuf, alen, &he, NULL, NULL);
		char ip[INET6_ADDRSTRLEN];

		if (rc != ARES_SUCCESS) {
			*status = rc == ARES_ENODATA ? DNS_NOTFOUND : DNS_TEMPFAIL;
			return;
		}
		for (char **p = he->h_addr_list; p && *p; p++)
			if (inet_ntop(he->h_addrtype, *p, ip, sizeof(ip)))
				buf_printf(out, "%s\n", ip);
		ares_free_hostent(he);
	} else if (type == ns_t_mx) {
		struct ares_mx_reply *mx = NULL;
		int rc = ares_parse_mx_reply(abuf, alen, &mx);

		if (rc != ARES_SUCCESS) {
			*status = rc == ARES_ENODATA ? DNS_NOTFOUND : DNS_TEMPFAIL;
			return;
		}
		for (struct ares_mx_reply *m = mx; m; m = m->next)
			buf_printf(out, "%u %s\n", m->priority, m->host);
		ares_free_data(mx);
	} else if (type == ns_t_ns) {
		struct hostent *he = NULL;
		int rc = ares_parse_ns_reply(abuf, alen, &he);

		if (rc != ARES_SUCCESS) {
			*status = rc == ARES_ENODATA ? DNS_NOTFOUND : DNS_TEMPFAIL;
			return;
		}
		for (char **p = he->h_aliases; p && *p; p++)
			buf_printf(out, "%s\n", *p);
		ares_free_hostent(he);
	} else if (type == ns_t_txt) {
		struct ares_txt_reply *txt = NULL;
		int rc = ares_parse_txt_reply(abuf, alen, &txt);

		if (rc != ARES_SUCCESS) {
			*status = rc == ARES_ENODATA ? DNS_NOTFOUND : DNS_TEMPFAIL;
			return;
		}
		for (struct ares_txt_reply *t = txt; t; t = t->next)
			buf_printf(out, "%.*s\n", (int)t->length, (const char *)t->txt);
		ares_free_data(txt);
	}
}

/* on_answer - store the answer in the run's cache and evaluate on */
static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_req *q = arg;
	struct buf text = BUF_INIT;
	int st;

	(void)timeouts;
	if (status == ARES_SUCCESS)
		answer_text(q->type, abuf, alen, &text, &st);
	else if (status == ARES_ENOTFOUND || status == ARES_ENODATA)
		st = DNS_NOTFOUND;
	else
		st = DNS_TEMPFAIL;
	if (q->run && status != ARES_EDESTRUCTION && status != ARES_ECANCELLED) {
		chk_cache_put(q->run, q->key, st, buf_cstr(&text));
		chk_trace(q->run, "    dns %s: %s", q->key,
			  st == DNS_FOUND ? "found" : st == DNS_NOTFOUND ? "not found" : "failed");
		if (q->run->in_eval)	/* answered inside ares_query(): lookup() picks it up */
			q->run->pending = NULL;
		else
			chk_resume(q->run);	/* may free the run */
	}
	buf_free(&text);
	free(q->key);
	free(q);
}

/* cancel_req - the run is going away; the answer, when it comes, is dropped */
static void cancel_req(void *pending)
{
	struct dns_req *q = pending;

	q->run = NULL;
}

/*
 * lookup - the cached answer of (type, name), or start the query: returns
 * DNS_FOUND / DNS_NOTFOUND / DNS_TEMPFAIL, or 2 for "pending".
 */
int chk_dns_lookup(struct smtpd_check_run *r, int type, const char *name, const char **value)
{
	if (r->c->offline || r->c->dns == NULL || !r->c->dns->ready)
		return DNS_NOTFOUND;
	return lookup(r, type, name, value);
}

static int lookup(struct smtpd_check_run *r, int type, const char *name, const char **value)
{
	struct chk_dns *d = r->c->dns;
	struct buf key = BUF_INIT;
	struct chk_cached *hit;
	struct dns_req *q;

	buf_printf(&key, "%s %s", type == ns_t_a ? "A" : type == ns_t_aaaa ? "AAAA"
		   : type == ns_t_mx ? "MX" : type == ns_t_ns ? "NS" : "TXT", name);
	if ((hit = chk_cache_find(r, buf_cstr(&key))) != NULL) {
		buf_free(&key);
		*value = hit->value;
		return hit->status;
	}
	q = xcalloc(1, sizeof(*q));
	q->d = d;
	q->run = r;
	q->type = type;
	q->key = buf_steal(&key);
	r->pending = q;
	r->pending_cancel = cancel_req;
	key = (struct buf)BUF_INIT;
	buf_set(&key, q->key);
	ares_query(d->channel, name, ns_c_in, type, on_answer, q);
	dns_arm_timer(d);
	if ((hit = chk_cache_find(r, buf_cstr(&key))) != NULL) {
		buf_free(&key);
		*value = hit->value;
		return hit->status;
	}
	buf_free(&key);
	return 2;
}

/* host_exists - A, AAAA or MX records: found, not found, tempfail, or 2 pending */
static int host_exists(struct smtpd_check_run *r, const char *name, bool mx_too)
{
	static const int types[] = { ns_t_mx, ns_t_a, ns_t_aaaa };
	bool failed = false;

	for (size_t i = mx_too ? 0 : 1; i < 3; i++) {
		const char *v = NULL;
		int st = lookup(r, types[i], name, &v);

		if (st == 2 || st == DNS_FOUND)
			return st;
		if (st == DNS_TEMPFAIL)
			failed = true;
	}
	return failed ? DNS_TEMPFAIL : DNS_NOTFOUND;
}

/* reverse_ip - "1.2.3.4" -> "4.3.2.1", IPv6 as reversed nibbles */
static bool reverse_ip(const char *addr, struct buf *out)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, addr, a) == 1) {
		buf_printf(out, "%u.%u.%u.%u", a[3], a[2], a[1], a[0]);
		return true;
	}
	if (inet_pton(AF_INET6, addr, a) == 1) {
		for (int i = 15; i >= 0; i--)
			buf_printf(out, "%x.%x%s", a[i] & 0xf, a[i] >> 4, i ? "." : "");
		return true;
	}
	return false;
}

/* octet_match - one octet against "N" or "[A..B]" / "[A;B;C]" */
static bool octet_match(const char *pat, const char *val)
{
	long v, a, b;

	if (str_parse_long(val, &v) < 0)
		return false;
	if (pat[0] != '[')
		return strcmp(pat, val) == 0;
	if (sscanf(pat, "[%ld..%ld]", &a, &b) == 2)
		return v >= a && v <= b;
	for (const char *p = pat + 1; *p && *p != ']';) {
		if (sscanf(p, "%ld", &a) == 1 && a == v)
			return true;
		p += strcspn(p, ";]");
		if (*p == ';')
			p++;
	}
	return false;
}

/* filter_match - an A answer against the "=127.0.0.[2..11]" part of a list */
static bool filter_match(const char *filter, const char *addr)
{
	char fbuf[128], abuf[64];
	char *fc = fbuf, *ac = abuf, *f, *v;

	snprintf(fbuf, sizeof(fbuf), "%s", filter);
	snprintf(abuf, sizeof(abuf), "%s", addr);
	for (int i = 0; i < 4; i++) {
		f = str_token(&fc, ".");
		v = str_token(&ac, ".");
		if (f == NULL || v == NULL || !octet_match(f, v))
			return false;
	}
	return true;
}

/* list_hit - is name listed in the DNS list spec ("domain[=filter]")? */
static int list_hit(struct smtpd_check_run *r, const char *spec, const char *name,
		    struct buf *domain, struct buf *reason)
{
	const char *eq = strchr(spec, '=');
	struct buf q = BUF_INIT;
	const char *v = NULL;
	int st;

	buf_reset(domain);
	buf_append(domain, spec, eq ? (size_t)(eq - spec) : strlen(spec));
	buf_printf(&q, "%s.%s", name, buf_cstr(domain));
	st = lookup(r, ns_t_a, buf_cstr(&q), &v);
	if (st == DNS_FOUND && eq) {
		struct strv addrs = STRV_INIT;
		const char *why = NULL;
		bool any = false;

		str_split(v, "\n", &addrs, &why);
		for (size_t i = 0; i < addrs.n && !any; i++)
			any = filter_match(eq + 1, addrs.v[i]);
		strv_free(&addrs);
		if (!any)
			st = DNS_NOTFOUND;
	}
	if (st == DNS_FOUND && reason) {
		int ts = lookup(r, ns_t_txt, buf_cstr(&q), &v);

		if (ts == 2)
			st = 2;
		else if (ts == DNS_FOUND) {
			buf_set(reason, v);
			while (reason->len && reason->data[reason->len - 1] == '\n')
				buf_truncate(reason, reason->len - 1);
			for (size_t i = 0; i < reason->len; i++)
				if (reason->data[i] == '\n')
					reason->data[i] = ' ';
		}
	}
	buf_free(&q);
	return st;
}

/* domain_of - the domain of an address, or "" */
static const char *domain_of(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at ? at + 1 : "";
}

/* blocklist - reject_rbl_client and reject_rhsbl_* */
static enum chk_status blocklist(struct smtpd_check_run *r, const struct chk_item *it,
				 const char *what_class, const char *what, const char *key)
{
	struct buf domain = BUF_INIT, reason = BUF_INIT;
	int st;
	enum chk_status result = CHK_DUNNO;

	if (key == NULL || *key == '\0' || strcasecmp(key, "unknown") == 0)
		return CHK_DUNNO;
	st = list_hit(r, it->arg, key, &domain, &reason);
	if (st == 2)
		result = CHK_PENDING;
	else if (st == DNS_FOUND)
		result = chk_reject(r, r->c->code.maps_rbl, "5.7.1",
				    "Service unavailable; %s [%s] blocked using %s%s%s",
				    what_class, what, buf_cstr(&domain), reason.len ? "; " : "",
				    buf_cstr(&reason));
	buf_free(&domain);
	buf_free(&reason);
	return result;
}

/* allowlist - permit_dnswl_client / permit_rhswl_client */
static enum chk_status allowlist(struct smtpd_check_run *r, const struct chk_item *it,
				 const char *key)
{
	struct buf domain = BUF_INIT;
	int st;

	if (key == NULL || *key == '\0' || strcasecmp(key, "unknown") == 0)
		return CHK_DUNNO;
	st = list_hit(r, it->arg, key, &domain, NULL);
	buf_free(&domain);
	if (st == 2)
		return CHK_PENDING;
	if (st == DNS_TEMPFAIL) {
		chk_set_deferral(r, &r->dir, 450, "4.7.1", "<%s>: %s rejected: Service unavailable",
				 buf_cstr(&r->namaddr), "Client host");
		return CHK_DUNNO;
	}
	return st == DNS_FOUND ? CHK_OK : CHK_DUNNO;
}

/* unknown_domain - reject_unknown_sender_domain / _recipient_domain */
static enum chk_status unknown_domain(struct smtpd_check_run *r, const char *addr, bool sender)
{
	const char *cls = sender ? "Sender address" : "Recipient address";
	const char *dom;
	struct resolved res;
	int st;

	if (addr == NULL || *addr == '\0')
		return CHK_DUNNO;
	resolved_init(&res);
	if (chk_resolve(r, addr, &res) < 0) {
		resolved_free(&res);
		return CHK_REJECT;
	}
	/* only domains we are not the final destination for */
	if (res.cls == RESOLVE_CLASS_LOCAL || res.cls == RESOLVE_CLASS_VIRTUAL_ALIAS ||
	    res.cls == RESOLVE_CLASS_VIRTUAL_MAILBOX) {
		resolved_free(&res);
		return CHK_DUNNO;
	}
	dom = domain_of(buf_cstr(&res.addr));
	if (*dom == '[' || *dom == '\0') {
		resolved_free(&res);
		return CHK_DUNNO;
	}
	st = host_exists(r, dom, true);
	resolved_free(&res);
	if (st == 2)
		return CHK_PENDING;
	if (st == DNS_FOUND)
		return CHK_DUNNO;
	if (st == DNS_TEMPFAIL) {
		chk_set_deferral(r, &r->dip, 450, sender ? "4.1.8" : "4.1.2",
				 "<%s>: %s rejected: Domain not found", addr, cls);
		return CHK_DUNNO;
	}
	return chk_reject(r, r->c->code.unknown_address, sender ? "4.1.8" : "4.1.2",
			  "<%s>: %s rejected: Domain not found", addr, cls);
}

/* unknown_helo - reject_unknown_helo_hostname */
static enum chk_status unknown_helo(struct smtpd_check_run *r)
{
	const char *helo = r->f.helo;
	int st;

	if (helo == NULL || *helo == '\0' || helo[0] == '[')
		return CHK_DUNNO;
	st = host_exists(r, helo, true);
	if (st == 2)
		return CHK_PENDING;
	if (st == DNS_FOUND)
		return CHK_DUNNO;
	if (st == DNS_TEMPFAIL) {
		chk_set_deferral(r, &r->dip, 450, "4.7.1", "<%s>: Helo command rejected: Host not found",
				 helo);
		return CHK_DUNNO;
	}
	return chk_reject(r, r->c->code.unknown_hostname, "4.7.1",
			  "<%s>: Helo command rejected: Host not found", helo);
}

/* chk_dns - the DNS restrictions */
enum chk_status chk_dns(struct smtpd_check_run *r, const struct chk_item *it)
{
	const struct smtpd_facts *f = &r->f;
	struct buf rev = BUF_INIT;
	enum chk_status st;

	/* the client-name checks use what smtpd already looked up */
	if (it->op == OP_REJECT_UNKNOWN_CLIENT_HOSTNAME) {
		if (f->client_name && strcasecmp(f->client_name, "unknown") != 0)
			return CHK_DUNNO;
		return chk_reject(r, r->c->code.unknown_client, "4.7.25",
				  "Client host rejected: cannot find your hostname, [%s]",
				  f->client_addr ? f->client_addr : "unknown");
	}
	if (it->op == OP_REJECT_UNKNOWN_REVERSE_CLIENT_HOSTNAME) {
		if (f->reverse_name && strcasecmp(f->reverse_name, "unknown") != 0)
			return CHK_DUNNO;
		return chk_reject(r, r->c->code.unknown_client, "4.7.25",
				  "Client host rejected: cannot find your reverse hostname, [%s]",
				  f->client_addr ? f->client_addr : "unknown");
	}
	if (r->c->offline || r->c->dns == NULL || !r->c->dns->ready) {
		chk_trace(r, "    DNS not consulted (no resolver here): no decision");
		return CHK_DUNNO;
	}
	switch (it->op) {
	case OP_REJECT_UNKNOWN_HELO_HOSTNAME:
		return unknown_helo(r);
	case OP_REJECT_UNKNOWN_SENDER_DOMAIN:
		return unknown_domain(r, f->sender, true);
	case OP_REJECT_UNKNOWN_RECIPIENT_DOMAIN:
		return unknown_domain(r, f->recipient, false);
	case OP_REJECT_RBL_CLIENT:
		if (f->client_addr == NULL || !reverse_ip(f->client_addr, &rev))
			return CHK_DUNNO;
		st = blocklist(r, it, "Client host", f->client_addr, buf_cstr(&rev));
		buf_free(&rev);
		return st;
	case OP_PERMIT_DNSWL_CLIENT:
		if (f->client_addr == NULL || !reverse_ip(f->client_addr, &rev))
			return CHK_DUNNO;
		st = allowlist(r, it, buf_cstr(&rev));
		buf_free(&rev);
		return st;
	case OP_REJECT_RHSBL_CLIENT:
		return blocklist(r, it, "Client host", f->client_name, f->client_name);
	case OP_REJECT_RHSBL_REVERSE_CLIENT:
		return blocklist(r, it, "Unverified Client host", f->reverse_name, f->reverse_name);
	case OP_REJECT_RHSBL_HELO:
		return blocklist(r, it, "Helo command", f->helo, f->helo);
	case OP_REJECT_RHSBL_SENDER:
		return blocklist(r, it, "Sender address", f->sender, domain_of(f->sender));
	case OP_REJECT_RHSBL_RECIPIENT:
		return blocklist(r, it, "Recipient address", f->recipient, domain_of(f->recipient));
	case OP_PERMIT_RHSWL_CLIENT:
		return allowlist(r, it, f->client_name);
	default:
		break;
	}
	return CHK_DUNNO;
}
