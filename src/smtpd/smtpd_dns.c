/*
 * smtpd_dns - client name lookup with c-ares on the libevent loop (see
 * smtpd_dns.h).
 *
 * Public: smtpd_dns_new, smtpd_dns_free, smtpd_dns_client_name,
 * smtpd_dns_cancel.
 *
 * c-ares tells us which sockets it wants watched (sock_state_cb); each gets
 * one libevent event, and one timer drives c-ares' retransmissions. A
 * cancelled request stays allocated until c-ares answers, with its
 * callback cleared. Name servers come from /etc/resolv.conf or Outpost's
 * dns_servers parameter (set by the caller through smtpd_dns_servers()).
 *
 * Bad input: a failed or mismatching lookup is not an error; the client
 * is "unknown", as in Postfix.
 */
#include "smtpd/smtpd_dns.h"

#include <arpa/inet.h>
#include <ares.h>
#include <netdb.h>
#include <string.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/mem.h"

struct dns_sock {
	struct dns_sock *next;
	int fd;
	struct event *ev;
	struct smtpd_dns *d;
};

struct smtpd_dns {
	struct event_base *base;
	ares_channel ch;
	struct event *timer;
	struct dns_sock *socks;
};

struct smtpd_dns_req {
	struct smtpd_dns *d;
	smtpd_dns_name_fn fn;
	void *ctx;
	int family;
	unsigned char addr[16];
	char *ptr;
};

static void dns_rearm(struct smtpd_dns *d);

/* sock_ready - a c-ares socket is readable or writable */
static void sock_ready(evutil_socket_t fd, short what, void *arg)
{
	struct dns_sock *s = arg;
	struct smtpd_dns *d = s->d;

	ares_process_fd(d->ch, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
			(what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	dns_rearm(d);
}

/* timer_fired - c-ares retransmission and timeout work */
static void timer_fired(evutil_socket_t fd, short what, void *arg)
{
	struct smtpd_dns *d = arg;

	(void)fd;
	(void)what;
	ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	dns_rearm(d);
}

/* dns_rearm - next c-ares timeout */
static void dns_rearm(struct smtpd_dns *d)
{
	struct timeval tv, *tvp;

	if (d->socks == NULL) {
		evtimer_del(d->timer);
		return;
	}
	tvp = ares_timeout(d->ch, NULL, &tv);
	if (tvp)
		evtimer_add(d->timer, tvp);
}

/* sock_state - c-ares opens, closes or changes interest in a socket */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct smtpd_dns *d = data;
	struct dns_sock **pp = &d->socks, *s;

	while ((s = *pp) != NULL && s->fd != fd)
		pp = &s->next;
	if (!readable && !writable) {
		if (s) {
			*pp = s->next;
			event_free(s->ev);
			free(s);
		}
		return;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		s->fd = fd;
		s->d = d;
		s->next = d->socks;
		d->socks = s;
	} else {
		event_free(s->ev);
	}
	s->ev = event_new(d->base, fd, (short)(EV_PERSIST | (readable ? EV_READ : 0) |
					       (writable ? EV_WRITE : 0)), sock_ready, s);
	event_add(s->ev, NULL);
}

/* smtpd_dns_new - a resolver channel on the loop */
struct smtpd_dns *smtpd_dns_new(struct event_base *base, struct buf *err)
{
	struct smtpd_dns *d = xcalloc(1, sizeof(*d));
	struct ares_options o;
	int r;

	memset(&o, 0, sizeof(o));
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = d;
	o.timeout = 3000;
	o.tries = 2;
	r = ares_library_init(ARES_LIB_INIT_ALL);
	if (r == ARES_SUCCESS)
		r = ares_init_options(&d->ch, &o,
				      ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (r != ARES_SUCCESS) {
		buf_printf(err, "c-ares: %s", ares_strerror(r));
		free(d);
		return NULL;
	}
	d->base = base;
	d->timer = evtimer_new(base, timer_fired, d);
	return d;
}

/* smtpd_dns_servers - use these servers ("host[:port],…") instead of resolv.conf */
int smtpd_dns_servers(struct smtpd_dns *d, const char *csv)
{
	return ares_set_servers_ports_csv(d->ch, csv) == ARES_SUCCESS ? 0 : -1;
}

/* smtpd_dns_free - cancel everything and close */
void smtpd_dns_free(struct smtpd_dns **dp)
{
	struct smtpd_dns *d = *dp;

	if (d == NULL)
		return;
	ares_destroy(d->ch);
	while (d->socks) {
		struct dns_sock *s = d->socks;

		d->socks = s->next;
		event_free(s->ev);
		free(s);
	}
	event_free(d->timer);
	xfree(dp);
}

/* req_done - report once and free */
static void req_done(struct smtpd_dns_req *r, const char *name)
{
	if (r->fn)
		r->fn(r->ctx, name, r->ptr);
	free(r->ptr);
	free(r);
}

/* forward_done - does the PTR name resolve back to the client? */
static void forward_done(void *arg, int status, int timeouts, struct hostent *h)
{
	struct smtpd_dns_req *r = arg;
	size_t alen = r->family == AF_INET ? 4 : 16;

	(void)timeouts;
	if (status == ARES_SUCCESS && h && h->h_addrtype == r->family) {
		for (char **a = h->h_addr_list; *a; a++) {
			if (memcmp(*a, r->addr, alen) == 0) {
				req_done(r, r->ptr);
				return;
			}
		}
	}
	req_done(r, NULL);
}

/* ptr_done - the PTR answer; confirm it forward */
static void ptr_done(void *arg, int status, int timeouts, struct hostent *h)
{
	struct smtpd_dns_req *r = arg;

	(void)timeouts;
	if (status != ARES_SUCCESS || h == NULL || h->h_name == NULL || r->fn == NULL ||
	    status == ARES_EDESTRUCTION) {
		req_done(r, NULL);
		return;
	}
	struct smtpd_dns *d = r->d;	/* r may be gone when the call returns */

	r->ptr = xstrdup(h->h_name);
	ares_gethostbyname(d->ch, r->ptr, r->family, forward_done, r);
	dns_rearm(d);
}

/* smtpd_dns_client_name - start PTR + forward confirmation */
struct smtpd_dns_req *smtpd_dns_client_name(struct smtpd_dns *d, const struct sockaddr *sa,
					    smtpd_dns_name_fn fn, void *ctx)
{
	struct smtpd_dns_req *r = xcalloc(1, sizeof(*r));

	r->d = d;
	r->fn = fn;
	r->ctx = ctx;
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			r->family = AF_INET;
			memcpy(r->addr, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			r->family = AF_INET6;
			memcpy(r->addr, &s6->sin6_addr, 16);
		}
	} else if (sa->sa_family == AF_INET) {
		r->family = AF_INET;
		memcpy(r->addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else {
		fn(ctx, NULL, NULL);
		free(r);
		return NULL;
	}
	ares_gethostbyaddr(d->ch, r->addr, r->family == AF_INET ? 4 : 16, r->family, ptr_done, r);
	dns_rearm(d);
	return r;
}

/* smtpd_dns_cancel - the session is gone: never call back */
void smtpd_dns_cancel(struct smtpd_dns_req **rp)
{
	if (*rp)
		(*rp)->fn = NULL;
	*rp = NULL;
}
