/*
 * smtpd_check_policy - check_policy_service: Postfix's policy delegation
 * protocol (SMTPD_POLICY_README) over persistent connections on the event
 * loop.
 *
 * Public (smtpd_check_impl.h): chk_policy_new, chk_policy_free, chk_policy.
 *
 * A request is "name=value" lines and an empty line; the answer one
 * "action=…" line and an empty line, applied as an access(5) action in the
 * list's reply context. One connection per policy server, one request on
 * it at a time (others wait in line); it is kept for max_idle, at most
 * max_ttl, and request_limit requests. A timeout, a lost connection or a
 * reply without action is retried try_limit times, retry_delay apart,
 * then default_action applies. Settings come from smtpd_policy_service_*
 * or per call: check_policy_service { inet:host:port, timeout=10s,
 * default_action=DUNNO, policy_context=submission, { name = value } }.
 *
 * Bad input: an unknown option, a bad time or an endpoint that is neither
 * inet:host:port nor unix:path fails chk_policy_new() with the reason.
 */
#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "outpost_build.h"
#include "smtpd/smtpd_check_impl.h"

struct policy_req;

struct chk_policy {
	struct smtpd_checks *c;
	char *spec;		/* as written, for logs and traces */
	char *endpoint;		/* inet:host:port or unix:/path */
	long timeout, max_idle, max_ttl, retry_delay, try_limit, request_limit;
	char *default_action;
	char *context;
	/* the connection */
	struct bufferevent *bev;
	bool connected;
	time_t born;
	long served;
	struct event *idle;
	struct policy_req *head, *tail;	/* head is on the wire */
};

struct policy_req {
	struct chk_policy *p;
	struct smtpd_check_run *run;	/* NULL when the run went away */
	char *key;			/* cache key in the run */
	struct buf text;		/* the request */
	long tries;
	bool sent;
	struct event *retry;
	struct policy_req *next;
};

/* parse_time - "10", "10s", "5m", "1h", "1d", "1w" in seconds; -1 if bad */
static long parse_time(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || v < 0)
		return -1;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		v *= 60;
		break;
	case 'h':
		v *= 3600;
		break;
	case 'd':
		v *= 86400;
		break;
	case 'w':
		v *= 604800;
		break;
	default:
		return -1;
	}
	return end[0] && end[1] ? -1 : v;
}

/* set_option - one "name=value" of a { … } group */
static int set_option(struct chk_policy *p, const char *name, const char *value,
		      struct buf *err)
{
	long v;

	if (strcmp(name, "default_action") == 0) {
		free(p->default_action);
		p->default_action = xstrdup(value);
		return 0;
	}
	if (strcmp(name, "policy_context") == 0) {
		free(p->context);
		p->context = xstrdup(value);
		return 0;
	}
	if (strcmp(name, "try_limit") == 0 || strcmp(name, "request_limit") == 0) {
		if (str_parse_long(value, &v) < 0 || v < 0) {
			buf_printf(err, "%s: bad number \"%s\"", name, value);
			return -1;
		}
		*(name[0] == 't' ? &p->try_limit : &p->request_limit) = v;
		return 0;
	}
	if ((v = parse_time(value)) < 0 &&
	    (strcmp(name, "timeout") == 0 || strcmp(name, "max_idle") == 0 ||
	     strcmp(name, "max_ttl") == 0 || strcmp(name, "retry_delay") == 0)) {
		buf_printf(err, "%s: bad time \"%s\"", name, value);
		return -1;
	}
	if (strcmp(name, "timeout") == 0)
		p->timeout = v;
	else if (strcmp(name, "max_idle") == 0)
		p->max_idle = v;
	else if (strcmp(name, "max_ttl") == 0)
		p->max_ttl = v;
	else if (strcmp(name, "retry_delay") == 0)
		p->retry_delay = v;
	else {
		buf_printf(err, "unknown option \"%s\" (timeout, max_idle, max_ttl, try_limit, "
			   "retry_delay, request_limit, default_action, policy_context)", name);
		return -1;
	}
	return 0;
}

/* parse_group - "{ endpoint, name=value, { name = value with spaces } }" */
static int parse_group(struct chk_policy *p, const char *arg, struct buf *err)
{
	char *copy = xstrdup(arg);
	const char *why = NULL;
	char *body = str_unbrace(copy, &why);
	struct strv w = STRV_INIT;
	int rc = 0;

	if (body == NULL || str_split(body, ", \t\r\n", &w, &why) < 0) {
		buf_printf(err, "%s", why ? why : "bad braces");
		free(copy);
		strv_free(&w);
		return -1;
	}
	for (size_t i = 0; i < w.n && rc == 0; i++) {
		char *item = w.v[i], *eq;

		if (item[0] == '{') {
			const char *why2 = NULL;
			char *inner = str_unbrace(item, &why2);

			if (inner == NULL) {
				buf_printf(err, "%s", why2 ? why2 : "bad braces");
				rc = -1;
				break;
			}
			item = str_trim(inner);
		}
		if ((eq = strchr(item, '=')) == NULL) {
			if (p->endpoint) {
				buf_printf(err, "\"%s\": two servers in one group", item);
				rc = -1;
			} else
				p->endpoint = xstrdup(item);
			continue;
		}
		*eq++ = '\0';
		rc = set_option(p, str_trim(item), str_trim(eq), err);
	}
	if (rc == 0 && p->endpoint == NULL) {
		buf_puts(err, "no server (inet:host:port or unix:path) in the group");
		rc = -1;
	}
	strv_free(&w);
	free(copy);
	return rc;
}

/* chk_policy_new - one policy client; owned by the checks */
struct chk_policy *chk_policy_new(struct smtpd_checks *c, const char *arg, struct buf *err)
{
	struct chk_policy *p = xcalloc(1, sizeof(*p));
	struct config *cf = c->cf;

	p->c = c;
	p->spec = xstrdup(arg);
	p->timeout = config_time(cf, "smtpd_policy_service_timeout");
	p->max_idle = config_time(cf, "smtpd_policy_service_max_idle");
	p->max_ttl = config_time(cf, "smtpd_policy_service_max_ttl");
	p->retry_delay = config_time(cf, "smtpd_policy_service_retry_delay");
	p->try_limit = config_int(cf, "smtpd_policy_service_try_limit");
	p->request_limit = config_int(cf, "smtpd_policy_service_request_limit");
	p->default_action = xstrdup(config_str(cf, "smtpd_policy_service_default_action"));
	p->context = xstrdup(config_str(cf, "smtpd_policy_service_policy_context"));
	if (arg[0] == '{') {
		if (parse_group(p, arg, err) < 0)
			goto bad;
	} else {
		p->endpoint = xstrdup(arg);
	}
	if (!str_has_prefix(p->endpoint, "inet:") && !str_has_prefix(p->endpoint, "unix:")) {
		buf_printf(err, "\"%s\": expected inet:host:port or unix:path", p->endpoint);
		goto bad;
	}
	if (p->try_limit < 1)
		p->try_limit = 1;
	c->policies = xreallocarray(c->policies, c->npolicies + 1, sizeof(*c->policies));
	c->policies[c->npolicies++] = p;
	return p;
bad:
	chk_policy_free(&p);
	return NULL;
}

/* req_free - a request and its retry timer */
static void req_free(struct policy_req *q)
{
	if (q->retry)
		event_free(q->retry);
	buf_free(&q->text);
	free(q->key);
	free(q);
}

/* disconnect - drop the connection (the server or we are done with it) */
static void disconnect(struct chk_policy *p)
{
	if (p->bev)
		bufferevent_free(p->bev);
	p->bev = NULL;
	p->connected = false;
	p->served = 0;
	if (p->idle)
		evtimer_del(p->idle);
}

/* chk_policy_free - close the connection; waiting runs are never answered */
void chk_policy_free(struct chk_policy **pp)
{
	struct chk_policy *p = *pp;

	if (p == NULL)
		return;
	disconnect(p);
	while (p->head) {
		struct policy_req *q = p->head;

		p->head = q->next;
		if (q->run) {
			q->run->pending = NULL;
			q->run->pending_cancel = NULL;
		}
		req_free(q);
	}
	if (p->idle)
		event_free(p->idle);
	free(p->spec);
	free(p->endpoint);
	free(p->default_action);
	free(p->context);
	xfree(pp);
}

static void send_next(struct chk_policy *p);

/* deliver - hand the head request its action and move on */
static void deliver(struct chk_policy *p, const char *action, const char *why)
{
	struct policy_req *q = p->head;
	struct smtpd_check_run *run;

	if (q == NULL)
		return;
	p->head = q->next;
	if (p->head == NULL)
		p->tail = NULL;
	run = q->run;
	if (run) {
		chk_cache_put(run, q->key, 0, action);
		chk_trace(run, "    policy %s: %s%s%s", p->endpoint, action, why ? " — " : "",
			  why ? why : "");
	}
	req_free(q);
	if (p->head)
		send_next(p);
	if (run && run->in_eval)	/* failed inside chk_policy(): it reads the cache */
		run->pending = NULL;
	else if (run)
		chk_resume(run);	/* may free the run */
}

/* on_retry - retry_delay is over: send the head request again */
static void on_retry(evutil_socket_t fd, short what, void *arg);

/* trouble - timeout, lost connection, bad reply: retry, then default_action */
static void trouble(struct chk_policy *p, const char *why)
{
	struct policy_req *q = p->head;

	log_warn("check_policy_service %s: %s", p->endpoint, why);
	disconnect(p);
	if (q == NULL)
		return;
	if (++q->tries < p->try_limit) {
		struct timeval tv = { p->retry_delay, 0 };

		q->sent = false;
		if (q->retry == NULL)
			q->retry = evtimer_new(p->c->base, on_retry, p);
		evtimer_add(q->retry, &tv);
		return;
	}
	deliver(p, p->default_action, why);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	send_next(arg);
}

/* on_read - collect "name=value" lines up to the empty line */
static void on_read(struct bufferevent *bev, void *arg)
{
	struct chk_policy *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct buf action = BUF_INIT;
	bool have = false, end = false;
	char *line;
	size_t len;

	if (p->head == NULL || !p->head->sent) {
		trouble(p, "unexpected data from the server");
		return;
	}
	/* the whole reply must be there: look for the blank line first */
	{
		struct evbuffer_ptr pos = evbuffer_search(in, "\n\n", 2, NULL);

		if (pos.pos < 0) {
			if (evbuffer_get_length(in) > 100000)
				trouble(p, "reply too long");
			return;
		}
	}
	while (!end && (line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		if (len == 0)
			end = true;
		else if (!have && strncasecmp(line, "action=", 7) == 0) {
			buf_set(&action, line + 7);
			have = true;
		}
		free(line);
	}
	p->served++;
	if (!have) {
		buf_free(&action);
		trouble(p, "reply without action=");
		return;
	}
	if ((p->request_limit > 0 && p->served >= p->request_limit) ||
	    time(NULL) - p->born >= p->max_ttl)
		disconnect(p);
	else if (p->idle) {
		struct timeval tv = { p->max_idle, 0 };

		evtimer_add(p->idle, &tv);
	}
	deliver(p, buf_cstr(&action), NULL);
	buf_free(&action);
}

/* on_event - connected, or timeout / EOF / error (then retry) */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct chk_policy *p = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		p->connected = true;
		return;
	}
	trouble(p, (what & BEV_EVENT_TIMEOUT) ? "timeout" : (what & BEV_EVENT_EOF)
		? "connection closed by the server" : "connection failed");
}

/* on_idle - max_idle without requests: close the connection */
static void on_idle(evutil_socket_t fd, short what, void *arg)
{
	struct chk_policy *p = arg;

	(void)fd;
	(void)what;
	if (p->head == NULL)
		disconnect(p);
}

/* connect_server - open the connection (non-blocking) */
static int connect_server(struct chk_policy *p)
{
	struct sockaddr_storage ss;
	socklen_t slen = 0;
	struct timeval tv = { p->timeout, 0 };

	memset(&ss, 0, sizeof(ss));
	if (str_has_prefix(p->endpoint, "unix:")) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
		const char *path = p->endpoint + 5;
		struct buf full = BUF_INIT;

		if (path[0] != '/')	/* unix:private/name: under the queue directory */
			buf_printf(&full, "%s/%s", config_str(p->c->cf, "queue_directory"), path);
		else
			buf_set(&full, path);
		sun->sun_family = AF_UNIX;
		if (full.len >= sizeof(sun->sun_path)) {
			buf_free(&full);
			return -1;
		}
		memcpy(sun->sun_path, full.data, full.len + 1);
		slen = sizeof(*sun);
		buf_free(&full);
	} else {
		char *hp = xstrdup(p->endpoint + 5), *colon = strrchr(hp, ':');
		struct addrinfo hints, *ai = NULL;
		char *host = hp;

		if (colon == NULL) {
			free(hp);
			return -1;
		}
		*colon = '\0';
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			host[strlen(host) - 1] = '\0';
			host++;
		}
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || ai == NULL) {
			free(hp);
			return -1;
		}
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		slen = ai->ai_addrlen;
		freeaddrinfo(ai);
		free(hp);
	}
	p->bev = bufferevent_socket_new(p->c->base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(p->bev, on_read, NULL, on_event, p);
	bufferevent_set_timeouts(p->bev, &tv, &tv);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&ss, (int)slen) < 0) {
		bufferevent_free(p->bev);
		p->bev = NULL;
		return -1;
	}
	p->born = time(NULL);
	p->served = 0;
	if (p->idle == NULL)
		p->idle = evtimer_new(p->c->base, on_idle, p);
	return 0;
}

/* send_next - put the head request on the wire (connecting first) */
static void send_next(struct chk_policy *p)
{
	struct policy_req *q = p->head;

	if (q == NULL || q->sent)
		return;
	if (p->bev == NULL && connect_server(p) < 0) {
		trouble(p, "cannot connect");
		return;
	}
	if (p->idle)
		evtimer_del(p->idle);
	q->sent = true;
	bufferevent_write(p->bev, q->text.data, q->text.len);
}

/* cancel_req - the run went away: its answer is dropped when it comes */
static void cancel_req(void *pending)
{
	struct policy_req *q = pending;

	q->run = NULL;
}

/* attr - one name=value line; unavailable values are empty */
static void attr(struct buf *b, const char *name, const char *value)
{
	const char *v = value ? value : "";

	buf_printf(b, "%s=", name);
	for (; *v; v++)	/* values carry no newlines */
		buf_putc(b, *v == '\n' || *v == '\r' ? ' ' : *v);
	buf_putc(b, '\n');
}

/* build_request - every attribute of SMTPD_POLICY_README, unknown ones empty */
static void build_request(struct smtpd_check_run *r, const struct chk_policy *p, struct buf *b)
{
	const struct smtpd_facts *f = &r->f;
	bool message_end = r->stage == SMTPD_STAGE_DATA || r->stage == SMTPD_STAGE_END_OF_DATA;
	char num[32];

	attr(b, "request", "smtpd_access_policy");
	attr(b, "protocol_state", chk_stage_name(r));
	attr(b, "protocol_name", f->protocol ? f->protocol : "SMTP");
	attr(b, "helo_name", f->helo);
	attr(b, "queue_id", f->queue_id);
	attr(b, "sender", f->sender);
	attr(b, "recipient", (r->stage == SMTPD_STAGE_RCPT || r->stage == SMTPD_STAGE_VRFY ||
			      (message_end && f->recipient_count == 1)) ? f->recipient : NULL);
	snprintf(num, sizeof(num), "%zu", message_end ? f->recipient_count : 0);
	attr(b, "recipient_count", num);
	attr(b, "client_address", f->client_addr);
	attr(b, "client_name", f->client_name);
	attr(b, "reverse_client_name", f->reverse_name);
	attr(b, "instance", f->instance ? f->instance : buf_cstr(&r->s->instance));
	attr(b, "sasl_method", f->sasl_method);
	attr(b, "sasl_username", f->sasl_username);
	attr(b, "sasl_sender", f->sasl_sender);
	snprintf(num, sizeof(num), "%ld", f->size > 0 ? f->size : 0);
	attr(b, "size", num);
	attr(b, "ccert_subject", f->ccert_subject);
	attr(b, "ccert_issuer", f->ccert_issuer);
	attr(b, "ccert_fingerprint", f->ccert_fingerprint);
	attr(b, "ccert_pubkey_fingerprint", f->ccert_pubkey_fingerprint);
	attr(b, "encryption_protocol", f->tls ? f->tls_protocol : NULL);
	attr(b, "encryption_cipher", f->tls ? f->tls_cipher : NULL);
	snprintf(num, sizeof(num), "%d", f->tls ? f->tls_bits : 0);
	attr(b, "encryption_keysize", num);
	attr(b, "etrn_domain", f->etrn_domain);
	attr(b, "stress", f->stress);
	snprintf(num, sizeof(num), "%d", f->client_port);
	attr(b, "client_port", num);
	attr(b, "policy_context", p->context);
	attr(b, "server_address", f->server_addr);
	snprintf(num, sizeof(num), "%d", f->server_port);
	attr(b, "server_port", num);
	attr(b, "compatibility_level", config_str(r->c->cf, "compatibility_level"));
	attr(b, "mail_version", OUTPOST_VERSION);
	attr(b, "tls_sni", NULL);	/* 3.12; smtpd does not pass the SNI name yet */
	buf_putc(b, '\n');
}

/* chk_policy - ask the server (or use its answer from earlier in this run) */
enum chk_status chk_policy(struct smtpd_check_run *r, const struct chk_item *it)
{
	struct chk_policy *p = it->policy;
	struct buf req = BUF_INIT, key = BUF_INIT;
	struct chk_cached *hit;
	struct policy_req *q;
	enum chk_status st;

	if (r->c->offline) {
		chk_trace(r, "    policy server not consulted here: no decision");
		return CHK_DUNNO;
	}
	if (r->c->base == NULL)
		return chk_tempfail(r, "check_policy_service needs an event loop");
	/* one instance per message, as Postfix: same value for all its requests */
	buf_reset(&r->s->instance);
	buf_printf(&r->s->instance, "%lx.%lx.%lu", (unsigned long)getpid(),
		   (unsigned long)(size_t)r->s & 0xffffff, r->s->serial);
	build_request(r, p, &req);
	buf_printf(&key, "policy %s\n%s", p->spec, buf_cstr(&req));
	if ((hit = chk_cache_find(r, buf_cstr(&key))) != NULL) {
		char *action = xstrdup(hit->value);

		buf_free(&req);
		buf_free(&key);
		st = chk_action(r, action, "check_policy_service", r->reply_name, r->reply_class,
				false);
		free(action);
		return st;
	}
	q = xcalloc(1, sizeof(*q));
	q->p = p;
	q->run = r;
	q->key = xstrdup(buf_cstr(&key));
	q->text = req;
	if (p->tail)
		p->tail->next = q;
	else
		p->head = q;
	p->tail = q;
	r->pending = q;
	r->pending_cancel = cancel_req;
	if (p->head == q)
		send_next(p);	/* may answer at once (default_action) */
	hit = chk_cache_find(r, buf_cstr(&key));
	buf_free(&key);
	if (hit != NULL) {
		char *action = xstrdup(hit->value);

		st = chk_action(r, action, "check_policy_service", r->reply_name, r->reply_class,
				false);
		free(action);
		return st;
	}
	return CHK_PENDING;
}
