/*
 * smtpd_limits - the clocks and counters that end sessions: smtpd_timeout
 * replies, smtpd_per_request_deadline with smtpd_min_data_rate, and the
 * per-client connection count and rate limits checked before a session
 * exists (with smtpd_client_event_limit_exceptions).
 *
 * Public: smtpd_session_timeout, smtpd_deadline_start,
 * smtpd_deadline_credit, smtpd_client_listed, smtpd_connection_limits.
 *
 * Bad input: a client over a limit gets Postfix's 421 and a warning
 * naming it and the service; a client out of time gets "421 4.4.2 … Error:
 * timeout exceeded" and "timeout after X from host[addr]".
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "mail/resolve.h"
#include "smtpd/smtpd.h"
#include "smtpd/smtpd_anvil.h"
#include "smtpd/smtpd_reply.h"

/* mono_now - monotonic clock in seconds */
static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* smtpd_session_timeout - the client took too long: 421 and close */
void smtpd_session_timeout(struct smtpd_session *s)
{
	if (s->state == S_DATA)
		log_info("timeout after DATA (%ld bytes) from %s", s->msg_size, s->namaddr);
	else
		log_info("timeout after %s from %s", s->commands_total ? smtpd_verb_name(s->last_verb)
			 : "CONNECT", s->namaddr);
	smtpd_reply(s, R_TIMEOUT, s->srv->set.myhostname);
	smtpd_close_after_reply(s);
}

/* deadline_fired - smtpd_per_request_deadline ran out */
static void deadline_fired(evutil_socket_t fd, short what, void *ctx)
{
	struct smtpd_session *s = ctx;

	(void)fd;
	(void)what;
	if (s->closing || (s->state != S_CMD && s->state != S_DATA && s->state != S_AUTH))
		return;
	smtpd_session_timeout(s);
}

/* deadline_arm - (re)schedule the deadline timer */
static void deadline_arm(struct smtpd_session *s)
{
	double left = s->deadline - mono_now();
	struct timeval tv;

	if (s->deadline_ev == NULL)
		return;
	if (left < 0)
		left = 0;
	tv.tv_sec = (time_t)left;
	tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6);
	evtimer_add(s->deadline_ev, &tv);
}

/* smtpd_deadline_start - a new request: smtpd_timeout to receive it whole */
void smtpd_deadline_start(struct smtpd_session *s)
{
	if (!s->srv->set.per_request_deadline)
		return;
	if (s->deadline_ev == NULL)
		s->deadline_ev = evtimer_new(s->srv->base, deadline_fired, s);
	s->deadline = mono_now() + (double)s->srv->set.timeout;
	deadline_arm(s);
}

/* smtpd_deadline_credit - DATA: each byte received buys 1/smtpd_min_data_rate s */
void smtpd_deadline_credit(struct smtpd_session *s, size_t bytes)
{
	if (s->deadline_ev == NULL || s->srv->set.min_data_rate <= 0)
		return;
	s->deadline += (double)bytes / (double)s->srv->set.min_data_rate;
	deadline_arm(s);
}

/* refuse_early - over a connection limit before any session state exists */
static void refuse_early(struct smtpd_server *srv, int fd, const char *reply)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s\r\n", reply);
	if (write(fd, b.data, b.len) < 0) {
		/* the client is gone already; nothing to tell it */
	}
	buf_free(&b);
	close(fd);
	(void)srv;
}

/* smtpd_client_listed - is the client address in this list (param names it)? */
bool smtpd_client_listed(struct resolve_list *l, const char *param, const char *addr)
{
	struct buf err = BUF_INIT;
	int m;

	if (l == NULL)
		return false;
	m = resolve_list_match_host(l, "unknown", addr, &err);
	if (m < 0)
		log_warn("%s: %s", param, buf_cstr(&err));
	buf_free(&err);
	return m == 1;
}

/* smtpd_connection_limits - smtpd_client_connection_count/rate_limit */
bool smtpd_connection_limits(struct smtpd_server *srv, int fd, const char *addr, bool exempt)
{
	const struct smtpd_settings *set = &srv->set;
	unsigned rate;
	unsigned n = smtpd_anvil_connect(srv->anvil, addr, time(NULL), &rate);
	struct buf r = BUF_INIT;

	if (exempt)
		return true;
	if (set->conn_count_limit > 0 && n > (unsigned)set->conn_count_limit) {
		log_warn("Connection concurrency limit exceeded: %u from unknown[%s] for service %s",
			 n, addr, srv->service);
		buf_printf(&r, R_TOO_MANY_CONN, set->myhostname, addr);
	} else if (set->conn_rate_limit > 0 && rate > (unsigned)set->conn_rate_limit) {
		log_warn("Connection rate limit exceeded: %u from unknown[%s] for service %s",
			 rate, addr, srv->service);
		buf_printf(&r, R_CONN_RATE, set->myhostname, addr);
	}
	if (r.len == 0)
		return true;
	smtpd_anvil_disconnect(srv->anvil, addr, time(NULL));
	refuse_early(srv, fd, buf_cstr(&r));
	buf_free(&r);
	return false;
}

