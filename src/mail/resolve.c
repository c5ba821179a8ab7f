/*
 * resolve - address classes (local, virtual alias, virtual mailbox, relay,
 * default) and sender-specified routing, as Postfix's trivial-rewrite
 * computes them; see resolve.h for the rules.
 *
 * Public: resolve_new, resolve_free, resolved_init, resolved_free,
 * resolve_addr, resolve_class_name, resolve_is_local,
 * resolve_local_domain_cb, resolve_myorigin.
 *
 * Bad input: a bad list or table in the configuration makes resolve_new()
 * fail with "parameter: reason"; a lookup failure makes resolve_addr()
 * return RESOLVE_TEMPFAIL with the reason in out->error.
 */
#include "mail/resolve.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "lib/mem.h"
#include "lib/str.h"

struct resolve_ctx {
	char *myorigin;
	char *mydomain;
	bool percent_hack;
	bool swap_bangpath;
	bool append_dot_mydomain;
	struct resolve_list *mydestination;
	struct resolve_list *interfaces;	/* inet_interfaces + proxy_interfaces addresses */
	struct resolve_list *virtual_alias_domains;
	struct resolve_list *virtual_mailbox_domains;
	struct resolve_list *relay_domains;
};

/* interface_list - inet_interfaces (all = every local address) + proxy_interfaces */
static struct resolve_list *interface_list(struct config *cf, struct buf *err)
{
	struct strv v = STRV_INIT;
	struct buf text = BUF_INIT;
	struct resolve_list *l;

	config_list(cf, "inet_interfaces", &v);
	for (size_t i = 0; i < v.n; i++) {
		const char *w = v.v[i];

		if (strcasecmp(w, "all") == 0) {
			struct ifaddrs *ifa, *p;
			char host[INET6_ADDRSTRLEN];

			if (getifaddrs(&ifa) == 0) {
				for (p = ifa; p; p = p->ifa_next) {
					const void *a;

					if (!p->ifa_addr)
						continue;
					if (p->ifa_addr->sa_family == AF_INET)
						a = &((struct sockaddr_in *)(void *)p->ifa_addr)->sin_addr;
					else if (p->ifa_addr->sa_family == AF_INET6)
						a = &((struct sockaddr_in6 *)(void *)p->ifa_addr)->sin6_addr;
					else
						continue;
					if (inet_ntop(p->ifa_addr->sa_family, a, host, sizeof(host)))
						buf_printf(&text, "%s ", host);
				}
				freeifaddrs(ifa);
			}
		} else if (strcasecmp(w, "loopback-only") == 0) {
			buf_puts(&text, "127.0.0.1 ::1 ");
		} else {
			buf_printf(&text, "%s ", w);
		}
	}
	strv_free(&v);
	config_list(cf, "proxy_interfaces", &v);
	for (size_t i = 0; i < v.n; i++)
		buf_printf(&text, "%s ", v.v[i]);
	strv_free(&v);
	l = resolve_list_new("inet_interfaces", buf_cstr(&text), false, err);
	buf_free(&text);
	return l;
}

/* open_domain_list - one domain match list parameter */
static struct resolve_list *open_domain_list(struct config *cf, const char *param,
					     struct buf *err)
{
	return resolve_list_new(param, config_str(cf, param),
				resolve_parent_style(cf, param), err);
}

/* resolve_new - read the address-class parameters */
struct resolve_ctx *resolve_new(struct config *cf, struct buf *err)
{
	struct resolve_ctx *rc = xcalloc(1, sizeof(*rc));

	rc->myorigin = str_lower_dup(config_str(cf, "myorigin"));
	rc->mydomain = str_lower_dup(config_str(cf, "mydomain"));
	rc->percent_hack = config_bool(cf, "allow_percent_hack");
	rc->swap_bangpath = config_bool(cf, "swap_bangpath");
	rc->append_dot_mydomain = config_bool(cf, "append_dot_mydomain");
	if ((rc->mydestination = open_domain_list(cf, "mydestination", err)) == NULL ||
	    (rc->interfaces = interface_list(cf, err)) == NULL ||
	    (rc->virtual_alias_domains = open_domain_list(cf, "virtual_alias_domains", err)) == NULL ||
	    (rc->virtual_mailbox_domains = open_domain_list(cf, "virtual_mailbox_domains", err)) == NULL ||
	    (rc->relay_domains = open_domain_list(cf, "relay_domains", err)) == NULL)
		resolve_free(&rc);
	return rc;
}

/* resolve_free - release lists and tables */
void resolve_free(struct resolve_ctx **rp)
{
	struct resolve_ctx *rc = *rp;

	if (rc == NULL)
		return;
	resolve_list_free(&rc->mydestination);
	resolve_list_free(&rc->interfaces);
	resolve_list_free(&rc->virtual_alias_domains);
	resolve_list_free(&rc->virtual_mailbox_domains);
	resolve_list_free(&rc->relay_domains);
	free(rc->myorigin);
	free(rc->mydomain);
	xfree(rp);
}

/* resolved_init - an empty result (class default) */
void resolved_init(struct resolved *r)
{
	memset(r, 0, sizeof(*r));
	r->cls = RESOLVE_CLASS_DEFAULT;
}

/* resolved_free - release the buffers */
void resolved_free(struct resolved *r)
{
	buf_free(&r->addr);
	buf_free(&r->localpart);
	buf_free(&r->domain);
	buf_free(&r->error);
}

/* resolve_class_name - for traces and logs */
const char *resolve_class_name(enum resolve_class cls)
{
	switch (cls) {
	case RESOLVE_CLASS_LOCAL:
		return "local";
	case RESOLVE_CLASS_VIRTUAL_ALIAS:
		return "virtual_alias";
	case RESOLVE_CLASS_VIRTUAL_MAILBOX:
		return "virtual_mailbox";
	case RESOLVE_CLASS_RELAY:
		return "relay";
	case RESOLVE_CLASS_DEFAULT:
		break;
	}
	return "default";
}

/* resolve_myorigin - the domain bare users get */
const char *resolve_myorigin(const struct resolve_ctx *rc)
{
	return rc->myorigin;
}

/* resolve_is_local - 1 final destination, 0 not, -1 table failure */
int resolve_is_local(struct resolve_ctx *rc, const char *domain)
{
	struct buf err = BUF_INIT;
	size_t len = strlen(domain);
	int m;

	if (len > 2 && domain[0] == '[' && domain[len - 1] == ']') {
		char *lit = xstrndup(domain + 1, len - 2);
		const char *a = lit;

		if (strncasecmp(a, "ipv6:", 5) == 0)
			a += 5;
		m = resolve_list_match_host(rc->interfaces, NULL, a, &err);
		free(lit);
	} else {
		m = resolve_list_match_domain(rc->mydestination, domain, &err);
	}
	buf_free(&err);
	return m;
}

/* resolve_local_domain_cb - for virtual(5)-order searches: myorigin or local */
bool resolve_local_domain_cb(const char *domain, void *ctx)
{
	struct resolve_ctx *rc = ctx;

	return strcasecmp(domain, rc->myorigin) == 0 || resolve_is_local(rc, domain) == 1;
}

/* split_at - local part before sep, domain after ("a@b@c" at the last @) */
static void split_at(struct resolved *r, const char *s, const char *sep)
{
	buf_set(&r->localpart, "");
	buf_append(&r->localpart, s, (size_t)(sep - s));
	buf_set(&r->domain, sep + 1);
}

/* clean_domain - lower case, no trailing dot */
static void clean_domain(struct resolved *r)
{
	str_lower(r->domain.data ? r->domain.data : (char *)"");
	while (r->domain.len > 1 && r->domain.data[r->domain.len - 1] == '.')
		buf_truncate(&r->domain, r->domain.len - 1);
}

/*
 * reparse_local - take routing out of a local part whose domain was
 * stripped: "user@remote", "user%remote", "remote!user". 1 if found.
 */
static int reparse_local(struct resolve_ctx *rc, struct resolved *r)
{
	char *lp = xstrdup(buf_cstr(&r->localpart));
	char *p;
	int found = 1;

	if ((p = strrchr(lp, '@')) != NULL) {
		split_at(r, lp, p);
	} else if (rc->percent_hack && (p = strrchr(lp, '%')) != NULL) {
		split_at(r, lp, p);
	} else if (rc->swap_bangpath && (p = strchr(lp, '!')) != NULL && p != lp && p[1]) {
		*p = '\0';
		buf_set(&r->localpart, p + 1);
		buf_set(&r->domain, lp);
	} else {
		found = 0;
	}
	free(lp);
	if (found)
		clean_domain(r);
	return found;
}

/* rewrite_local_context - source route, bare user, bang path, percent hack */
static void rewrite_local_context(struct resolve_ctx *rc, const char *addr,
				  struct resolved *r)
{
	const char *at;

	/* "@hosta,@hostb:user@domain": Postfix drops the route */
	if (addr[0] == '@') {
		const char *colon = strchr(addr, ':');

		if (colon)
			addr = colon + 1;
	}
	if ((at = strrchr(addr, '@')) != NULL) {
		split_at(r, addr, at);
	} else {
		buf_set(&r->localpart, addr);
		buf_reset(&r->domain);
		if (!reparse_local(rc, r))
			buf_set(&r->domain, rc->myorigin);
	}
	clean_domain(r);
	if (rc->append_dot_mydomain && r->domain.len > 0 &&
	    strchr(buf_cstr(&r->domain), '.') == NULL && r->domain.data[0] != '[' &&
	    *rc->mydomain) {
		buf_putc(&r->domain, '.');
		buf_puts(&r->domain, rc->mydomain);
	}
}

/* classify - which domain list claims the domain; -1 on table failure */
static int classify(struct resolve_ctx *rc, struct resolved *r)
{
	const char *d = buf_cstr(&r->domain);
	int m;

	if ((m = resolve_is_local(rc, d)) != 0) {
		r->cls = RESOLVE_CLASS_LOCAL;
		return m;
	}
	if ((m = resolve_list_match_domain(rc->virtual_alias_domains, d, &r->error)) != 0) {
		r->cls = RESOLVE_CLASS_VIRTUAL_ALIAS;
		return m;
	}
	if ((m = resolve_list_match_domain(rc->virtual_mailbox_domains, d, &r->error)) != 0) {
		r->cls = RESOLVE_CLASS_VIRTUAL_MAILBOX;
		return m;
	}
	if ((m = resolve_list_match_domain(rc->relay_domains, d, &r->error)) != 0) {
		r->cls = RESOLVE_CLASS_RELAY;
		return m;
	}
	r->cls = RESOLVE_CLASS_DEFAULT;
	return 0;
}

/* resolve_addr - rewrite, strip local routing, classify */
enum resolve_status resolve_addr(struct resolve_ctx *rc, const char *addr,
				 struct resolved *out)
{
	int hops = 0;
	int local;

	buf_reset(&out->error);
	out->routed = false;
	rewrite_local_context(rc, addr ? addr : "", out);
	/* strip local domains while the local part still routes elsewhere */
	while ((local = resolve_is_local(rc, buf_cstr(&out->domain))) == 1 && hops++ < 100) {
		if (!reparse_local(rc, out))
			break;
	}
	if (local < 0) {
		buf_printf(&out->error, "mydestination lookup of \"%s\" failed",
			   buf_cstr(&out->domain));
		return RESOLVE_TEMPFAIL;
	}
	{
		const char *lp = buf_cstr(&out->localpart);

		out->routed = strchr(lp, '@') || strchr(lp, '%') || strchr(lp, '!');
	}
	buf_set(&out->addr, buf_cstr(&out->localpart));
	buf_putc(&out->addr, '@');
	buf_puts(&out->addr, buf_cstr(&out->domain));
	if (classify(rc, out) < 0)
		return RESOLVE_TEMPFAIL;
	return RESOLVE_OK;
}
