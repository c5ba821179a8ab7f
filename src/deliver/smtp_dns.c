/*
 * smtp_dns - from a nexthop ("example.com", "[mx.example.com]:587",
 * "a.example, b.example", "unix:/run/lmtp", "inet:host:24") to the list of
 * hosts to try, in order.
 *
 * MX records (c-ares; dns_servers overrides /etc/resolv.conf, for tests on
 * loopback) sorted by preference with equal preferences shuffled; no MX
 * records means the domain itself (implicit MX); a null MX (".") refuses
 * mail. "[host]" and LMTP destinations skip MX lookups. Addresses come from
 * A/AAAA lookups (or getaddrinfo with smtp_host_lookup = native), ordered
 * by smtp_address_preference within each MX host.
 *
 * Public: smtp_hosts_resolve, smtp_hosts_free, smtp_hosts_order.
 * Errors: when no host comes out, err gets Postfix's wording and code:
 * 4.4.3 for a lookup that may work later, 5.4.4 for a name that does not
 * exist, 5.1.10 for a null MX, 5.4.4/4.4.3 for a bad destination.
 */
#include "deliver/smtp.h"

#include <arpa/inet.h>
#include <ares.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/select.h>
#include <sys/un.h>
#include <time.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"

struct mx {
	char *name;
	int pref;
};

struct dns_state {
	int status;		/* ARES_* */
	bool done;
	struct mx *mx;
	size_t nmx;
	struct ares_addrinfo *ai;
};

/* rnd - a random number for shuffling */
static unsigned rnd(void)
{
	unsigned r = 0;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (unsigned)time(NULL) ^ (unsigned)rand();
	return r;
}

/* host_push - append a host */
static struct smtp_host *host_push(struct smtp_hosts *h)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 8;
		h->v = xreallocarray(h->v, h->cap, sizeof(*h->v));
	}
	memset(&h->v[h->n], 0, sizeof(h->v[h->n]));
	return &h->v[h->n++];
}

/* smtp_hosts_free - release a list */
void smtp_hosts_free(struct smtp_hosts *h)
{
	for (size_t i = 0; i < h->n; i++) {
		xfree(&h->v[i].name);
		xfree(&h->v[i].dest);
	}
	xfree(&h->v);
	h->n = h->cap = 0;
}

/* smtp_hosts_order - addresses of one host: preferred family first, else shuffled */
void smtp_hosts_order(struct smtp_host *v, size_t n, int family_pref)
{
	for (size_t i = n; i > 1; i--) {	/* shuffle, then stable partition */
		size_t j = rnd() % i;
		struct smtp_host t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
	if (family_pref == AF_UNSPEC)
		return;
	for (size_t i = 1; i < n; i++) {
		struct smtp_host t = v[i];
		size_t j = i;
		if (t.sa.ss_family != family_pref)
			continue;
		while (j > 0 && v[j - 1].sa.ss_family != family_pref) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = t;
	}
}

/* dns_wait - drive c-ares until its queries finish or time runs out */
static void dns_wait(ares_channel ch, long timeout)
{
	time_t deadline = time(NULL) + (timeout > 0 ? timeout : 30);

	for (;;) {
		fd_set r, w;
		struct timeval tv = { 1, 0 }, *tvp;
		int nfds;

		FD_ZERO(&r);
		FD_ZERO(&w);
		nfds = ares_fds(ch, &r, &w);
		if (nfds == 0)
			break;
		if (time(NULL) >= deadline) {
			ares_cancel(ch);
			break;
		}
		tvp = ares_timeout(ch, &tv, &tv);
		if (select(nfds, &r, &w, NULL, tvp) < 0 && errno != EINTR)
			break;
		ares_process(ch, &r, &w);
	}
}

/* mx_cb - collect MX records */
static void mx_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_state *st = arg;
	struct ares_mx_reply *mx = NULL;

	(void)timeouts;
	st->done = true;
	st->status = status;
	if (status != ARES_SUCCESS)
		return;
	st->status = ares_parse_mx_reply(abuf, alen, &mx);
	for (struct ares_mx_reply *m = mx; m; m = m->next) {
		st->mx = xreallocarray(st->mx, st->nmx + 1, sizeof(*st->mx));
		st->mx[st->nmx].name = xstrdup(m->host);
		st->mx[st->nmx].pref = m->priority;
		st->nmx++;
	}
	if (mx)
		ares_free_data(mx);
}

/* ai_cb - collect addresses */
static void ai_cb(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct dns_state *st = arg;

	(void)timeouts;
	st->done = true;
	st->status = status;
	st->ai = ai;
}

/* mx_cmp - by preference */
static int mx_cmp(const void *a, const void *b)
{
	return ((const struct mx *)a)->pref - ((const struct mx *)b)->pref;
}

/* dns_fail - Postfix's wording for a failed lookup */
static void dns_fail(struct smtp_dns_error *err, const char *name, const char *type,
		     int status)
{
	bool perm = status == ARES_ENOTFOUND || status == ARES_ENODATA;

	snprintf(err->dsn, sizeof(err->dsn), "%s", perm ? "5.4.4" : "4.4.3");
	buf_reset(&err->text);
	buf_printf(&err->text, "Host or domain name not found. Name service error for name=%s type=%s: %s",
		   name, type,
		   status == ARES_ENOTFOUND ? "Host not found"
		   : status == ARES_ENODATA ? "Host found but no data record of requested type"
					    : "Host not found, try again");
}

/* add_addrs - addresses of one host name, in preference order */
static int add_addrs(ares_channel ch, const struct smtp_dns_opts *o, const char *name,
		     int port, int pref, const char *dest, struct smtp_hosts *out,
		     struct smtp_dns_error *err)
{
	struct ares_addrinfo_hints hints = { .ai_socktype = SOCK_STREAM };
	struct dns_state st = { 0 };
	size_t first = out->n;

	hints.ai_family = o->ipv4 && o->ipv6 ? AF_UNSPEC : o->ipv6 ? AF_INET6 : AF_INET;
	if (o->use_dns) {
		ares_getaddrinfo(ch, name, NULL, &hints, ai_cb, &st);
		dns_wait(ch, o->timeout);
		if (!st.done)
			st.status = ARES_ETIMEOUT;
	} else {
		struct addrinfo h = { .ai_socktype = SOCK_STREAM, .ai_family = hints.ai_family }, *res = NULL;
		int rc = getaddrinfo(name, NULL, &h, &res);
		st.status = rc == 0 ? ARES_SUCCESS : rc == EAI_NONAME ? ARES_ENOTFOUND
				      : rc == EAI_NODATA ? ARES_ENODATA : ARES_ESERVFAIL;
		for (struct addrinfo *a = res; a; a = a->ai_next) {
			struct smtp_host *h2 = host_push(out);
			memcpy(&h2->sa, a->ai_addr, a->ai_addrlen);
			h2->salen = a->ai_addrlen;
		}
		if (res)
			freeaddrinfo(res);
	}
	if (st.status != ARES_SUCCESS) {
		dns_fail(err, name, o->ipv6 && !o->ipv4 ? "AAAA" : "A", st.status);
		return -1;
	}
	for (struct ares_addrinfo_node *n = st.ai ? st.ai->nodes : NULL; n; n = n->ai_next) {
		struct smtp_host *h = host_push(out);
		memcpy(&h->sa, n->ai_addr, n->ai_addrlen);
		h->salen = n->ai_addrlen;
	}
	if (st.ai)
		ares_freeaddrinfo(st.ai);
	for (size_t i = first; i < out->n; i++) {
		struct smtp_host *h = &out->v[i];
		h->name = xstrdup(name);
		h->dest = xstrdup(dest);
		h->port = port;
		h->pref = pref;
		if (h->sa.ss_family == AF_INET) {
			((struct sockaddr_in *)&h->sa)->sin_port = htons((uint16_t)port);
			inet_ntop(AF_INET, &((struct sockaddr_in *)&h->sa)->sin_addr, h->addr_text,
				  sizeof(h->addr_text));
		} else {
			((struct sockaddr_in6 *)&h->sa)->sin6_port = htons((uint16_t)port);
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&h->sa)->sin6_addr, h->addr_text,
				  sizeof(h->addr_text));
		}
	}
	smtp_hosts_order(out->v + first, out->n - first, o->family_pref);
	return 0;
}

/* resolve_mx - MX hosts of a domain, or the domain itself */
static int resolve_mx(ares_channel ch, const struct smtp_dns_opts *o, const char *domain,
		      int port, const char *dest, struct smtp_hosts *out,
		      struct smtp_dns_error *err)
{
	struct dns_state st = { 0 };
	int ret = -1, ok = 0;

	ares_query(ch, domain, C_IN, T_MX, mx_cb, &st);
	dns_wait(ch, o->timeout);
	if (!st.done)
		st.status = ARES_ETIMEOUT;
	if (st.status == ARES_ENODATA || (st.status == ARES_SUCCESS && st.nmx == 0))
		return add_addrs(ch, o, domain, port, 0, dest, out, err);	/* implicit MX */
	if (st.status != ARES_SUCCESS) {
		dns_fail(err, domain, "MX", st.status);
		goto done;
	}
	if (st.nmx == 1 && st.mx[0].name[0] == 0) {
		snprintf(err->dsn, sizeof(err->dsn), "5.1.10");
		buf_reset(&err->text);
		buf_printf(&err->text, "Domain %s does not accept mail (nullMX)", domain);
		goto done;
	}
	qsort(st.mx, st.nmx, sizeof(*st.mx), mx_cmp);
	for (size_t g = 0, end; g < st.nmx; g = end) {	/* random among equal preferences */
		for (end = g + 1; end < st.nmx && st.mx[end].pref == st.mx[g].pref; end++)
			;
		for (size_t i = end - g; i > 1; i--) {
			size_t j = rnd() % i;
			struct mx t = st.mx[g + i - 1];
			st.mx[g + i - 1] = st.mx[g + j];
			st.mx[g + j] = t;
		}
	}
	for (size_t i = 0; i < st.nmx; i++)
		if (add_addrs(ch, o, st.mx[i].name, port, st.mx[i].pref, dest, out, err) == 0)
			ok++;
	ret = ok > 0 ? 0 : -1;
done:
	for (size_t i = 0; i < st.nmx; i++)
		xfree(&st.mx[i].name);
	xfree(&st.mx);
	return ret;
}

/* parse_port - decimal or a service name; -1 if neither */
static int parse_port(const char *s)
{
	long v;
	struct servent *se;

	if (str_parse_long(s, &v) == 0)
		return v > 0 && v < 65536 ? (int)v : -1;
	se = getservbyname(s, "tcp");
	return se ? ntohs((uint16_t)se->s_port) : -1;
}

/* literal - "[192.0.2.1]" / "[ipv6:2001:db8::1]" as an address; false if a name */
static bool literal(const char *host, int port, const char *dest, struct smtp_hosts *out)
{
	struct in_addr a4;
	struct in6_addr a6;
	const char *h = strncasecmp(host, "ipv6:", 5) == 0 ? host + 5 : host;
	struct smtp_host *x;

	if (inet_pton(AF_INET, h, &a4) == 1) {
		x = host_push(out);
		struct sockaddr_in *sin = (struct sockaddr_in *)&x->sa;
		sin->sin_family = AF_INET;
		sin->sin_addr = a4;
		sin->sin_port = htons((uint16_t)port);
		x->salen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, h, &a6) == 1) {
		x = host_push(out);
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&x->sa;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = a6;
		sin6->sin6_port = htons((uint16_t)port);
		x->salen = sizeof(*sin6);
	} else {
		return false;
	}
	snprintf(x->addr_text, sizeof(x->addr_text), "%s", h);
	x->name = xstrdup(h);
	x->dest = xstrdup(dest);
	x->port = port;
	return true;
}

/* unix_host - an LMTP unix-domain socket */
static int unix_host(const char *path, const char *dest, struct smtp_hosts *out,
		     struct smtp_dns_error *err)
{
	struct smtp_host *x;
	struct sockaddr_un *sun;

	if (strlen(path) >= sizeof(sun->sun_path)) {
		snprintf(err->dsn, sizeof(err->dsn), "4.3.5");
		buf_printf(&err->text, "socket path too long: %s", path);
		return -1;
	}
	x = host_push(out);
	sun = (struct sockaddr_un *)&x->sa;
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, strlen(path) + 1);
	x->salen = sizeof(*sun);
	x->name = xstrdup(path);
	x->dest = xstrdup(dest);
	snprintf(x->addr_text, sizeof(x->addr_text), "%.63s", path);
	return 0;
}

/* channel - the process's resolver: started on first use (a literal
 * address or a socket path needs none) and kept for later deliveries of
 * this agent process while dns_servers stays the same */
static ares_channel channel(const struct smtp_dns_opts *o, struct smtp_dns_error *err)
{
	static ares_channel ch;
	static char *servers;
	const char *want = o->servers ? o->servers : "";
	struct ares_options ao = { .timeout = 2000, .tries = 2 };
	int rc;

	if (ch && strcmp(servers, want) == 0)
		return ch;
	if (ch)
		ares_destroy(ch);
	ch = NULL;
	xfree(&servers);
	rc = ares_init_options(&ch, &ao, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS) {
		ch = NULL;
		snprintf(err->dsn, sizeof(err->dsn), "4.3.0");
		buf_reset(&err->text);
		buf_printf(&err->text, "cannot start the DNS resolver: %s", ares_strerror(rc));
		return NULL;
	}
	if (*want && (rc = ares_set_servers_ports_csv(ch, want)) != ARES_SUCCESS) {
		snprintf(err->dsn, sizeof(err->dsn), "4.3.5");
		buf_reset(&err->text);
		buf_printf(&err->text, "mail system configuration error: dns_servers = %s: %s",
			   want, ares_strerror(rc));
		ares_destroy(ch);
		ch = NULL;
		return NULL;
	}
	servers = xstrdup(want);
	return ch;
}

/* one_dest - one nexthop entry */
static int one_dest(const struct smtp_dns_opts *o, const char *dest, struct smtp_hosts *out,
		    struct smtp_dns_error *err)
{
	ares_channel ch;
	struct buf host = BUF_INIT;
	const char *d = dest, *colon;
	bool bracket = false;
	int port = o->default_port, ret = -1;

	if (o->lmtp && str_has_prefix(d, "unix:"))
		return unix_host(d + 5, dest, out, err);
	if (o->lmtp && str_has_prefix(d, "inet:"))
		d += 5;
	if (*d == '[') {
		const char *close = strchr(d, ']');
		if (close == NULL)
			goto bad;
		buf_append(&host, d + 1, (size_t)(close - d - 1));
		bracket = true;
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] && !colon)
			goto bad;
	} else {
		colon = strrchr(d, ':');
		buf_append(&host, d, colon ? (size_t)(colon - d) : strlen(d));
	}
	if (colon && (port = parse_port(colon + 1)) < 0)
		goto bad;
	if (host.len == 0)
		goto bad;
	if (literal(buf_cstr(&host), port, dest, out))
		ret = 0;
	else if ((ch = channel(o, err)) == NULL)
		ret = -1;
	else if (bracket || o->lmtp || !o->use_mx)
		ret = add_addrs(ch, o, buf_cstr(&host), port, 0, dest, out, err);
	else
		ret = resolve_mx(ch, o, buf_cstr(&host), port, dest, out, err);
	buf_free(&host);
	return ret;
bad:
	snprintf(err->dsn, sizeof(err->dsn), "4.3.5");
	buf_reset(&err->text);
	buf_printf(&err->text, "mail system configuration error: bad nexthop destination \"%s\"", dest);
	buf_free(&host);
	return -1;
}

/* smtp_hosts_resolve - every host of a nexthop list, in the order to try */
int smtp_hosts_resolve(const char *nexthop, const struct smtp_dns_opts *o,
		       struct smtp_hosts *out, struct smtp_dns_error *err)
{
	struct strv dests = STRV_INIT;
	const char *e = NULL;

	if (str_split(nexthop, STR_SEP_LIST, &dests, &e) < 0 || dests.n == 0) {
		snprintf(err->dsn, sizeof(err->dsn), "4.3.5");
		buf_printf(&err->text, "mail system configuration error: bad nexthop \"%s\"", nexthop);
		strv_free(&dests);
		return -1;
	}
	for (size_t i = 0; i < dests.n; i++)
		one_dest(o, dests.v[i], out, err);	/* err keeps the last failure */
	strv_free(&dests);
	if (o->address_limit && out->n > o->address_limit) {
		for (size_t i = o->address_limit; i < out->n; i++) {
			xfree(&out->v[i].name);
			xfree(&out->v[i].dest);
		}
		out->n = o->address_limit;
	}
	return out->n > 0 ? 0 : -1;
}
