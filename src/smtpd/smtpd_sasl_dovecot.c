/*
 * smtpd_sasl_dovecot - the client side of Dovecot's auth protocol (v1.x)
 * on smtpd_sasl_path: one connection per smtpd process, shared by every
 * session, with requests told apart by their id (see POSTFIX-SEMANTICS
 * §3.14 for the wire format).
 *
 * Public: smtpd_sasl_dovecot_new, smtpd_sasl_dovecot_ops.
 *
 * The connection is made at start and again whenever it is needed after
 * a loss; requests made while the handshake is running wait for it. The
 * mechanism list comes from the server's MECH lines (private ones never
 * offered). A lost connection fails the requests in flight with a
 * temporary error (454); FAIL's reason= is passed to the 535 reply;
 * code=temp_fail becomes a 454, which Postfix does not do but clients
 * deserve.
 *
 * Bad input: a server speaking another major version or the master
 * socket ("SPID" before "MECH") is logged as Postfix logs it and the
 * connection dropped.
 */
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "smtpd/smtpd_sasl_impl.h"

#define DOVECOT_MAX_MECHS 16
#define DOVECOT_TIMEOUT 10

struct dovecot {
	struct event_base *base;
	char *path;		/* "/path" or "inet:host:port" */
	char *service;
	struct bufferevent *bev;
	bool ready;		/* handshake done */
	bool saw_mech;
	unsigned next_id;
	struct sasl_mech mechs[DOVECOT_MAX_MECHS];
	size_t nmechs;
	struct req *reqs;	/* conversations with a request out or queued */
};

struct req {
	struct req *next;
	struct smtpd_sasl *s;
	unsigned id;
	struct buf pending;	/* line waiting for the handshake ("" = none) */
};

static void dc_connect(struct dovecot *d);

/* dc_find - the conversation with this id */
static struct req *dc_find(struct dovecot *d, unsigned id)
{
	for (struct req *r = d->reqs; r; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

/* dc_unlink - remove a request from the list */
static void dc_unlink(struct dovecot *d, struct req *r)
{
	for (struct req **pp = &d->reqs; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			return;
		}
	}
}

/* dc_fail_all - the connection is gone: every request fails temporarily */
static void dc_fail_all(struct dovecot *d, const char *why)
{
	struct req *r = d->reqs;

	d->reqs = NULL;
	while (r) {
		struct req *next = r->next;
		struct smtpd_sasl *s = r->s;

		r->next = NULL;
		r->id = 0;
		if (s)
			smtpd_sasl_report(s, SASL_TEMP, why);
		r = next;
	}
}

/* dc_drop - close the connection after an error */
static void dc_drop(struct dovecot *d, const char *why)
{
	if (d->bev)
		bufferevent_free(d->bev);
	d->bev = NULL;
	d->ready = false;
	d->saw_mech = false;
	dc_fail_all(d, why);
}

/* dc_send - one line to the server */
static void dc_send(struct dovecot *d, const char *line)
{
	evbuffer_add_printf(bufferevent_get_output(d->bev), "%s\n", line);
}

/* mech_flags - MECH line flags */
static unsigned mech_flags(char **f, size_t n)
{
	unsigned fl = 0;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(f[i], "plaintext") == 0)
			fl |= SASL_MECH_PLAINTEXT;
		else if (strcmp(f[i], "anonymous") == 0)
			fl |= SASL_MECH_ANONYMOUS;
		else if (strcmp(f[i], "private") == 0)
			fl |= SASL_MECH_PRIVATE;
	}
	return fl;
}

/* field - "name=value" among the fields, or NULL */
static const char *field(char **f, size_t n, const char *name)
{
	size_t l = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (strncmp(f[i], name, l) == 0 && f[i][l] == '=')
			return f[i] + l + 1;
	return NULL;
}

/* unescape - Dovecot's \001 escapes inside a value (in place) */
static void unescape(char *v)
{
	char *o = v;

	for (char *p = v; *p; p++) {
		if (*p == '\001' && p[1]) {
			p++;
			*o++ = *p == '0' ? '\0' : *p == 't' ? '\t' : *p == 'r' ? '\r' : *p == 'n' ? '\n' : '\001';
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

/* dc_flush_pending - the handshake is done: send queued AUTH lines */
static void dc_flush_pending(struct dovecot *d)
{
	for (struct req *r = d->reqs; r; r = r->next) {
		if (r->pending.len) {
			dc_send(d, buf_cstr(&r->pending));
			buf_reset(&r->pending);
		}
	}
}

/* dc_reply - OK / CONT / FAIL for one request */
static void dc_reply(struct dovecot *d, char **f, size_t n)
{
	unsigned id = n > 1 ? (unsigned)strtoul(f[1], NULL, 10) : 0;
	struct req *r = dc_find(d, id);
	struct smtpd_sasl *s;

	if (r == NULL || r->s == NULL)
		return;	/* another id, or abandoned: ignore */
	s = r->s;
	for (size_t i = 2; i < n; i++)
		unescape(f[i]);
	if (strcmp(f[0], "CONT") == 0) {
		smtpd_sasl_report(s, SASL_CONTINUE, n > 2 ? f[2] : "");
		return;
	}
	dc_unlink(d, r);
	r->id = 0;
	if (strcmp(f[0], "OK") == 0) {
		const char *user = field(f + 2, n - 2, "user");

		if (user && *user)
			smtpd_sasl_report(s, SASL_OK, user);
		else
			smtpd_sasl_report(s, SASL_FAIL, "authentication failure");
		return;
	}
	{
		const char *reason = field(f + 2, n - 2, "reason");
		const char *code = field(f + 2, n - 2, "code");
		bool temp = code && strcmp(code, "temp_fail") == 0;

		smtpd_sasl_report(s, temp ? SASL_TEMP : SASL_FAIL,
				  reason && *reason ? reason : "authentication failure");
	}
}

/* dc_line - one server line */
static void dc_line(struct dovecot *d, char *line)
{
	char *f[64];
	size_t n = 0;
	char *p = line;

	while (n < sizeof(f) / sizeof(f[0])) {
		f[n++] = p;
		p = strchr(p, '\t');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	if (strcmp(f[0], "VERSION") == 0) {
		if (n < 2 || strcmp(f[1], "1") != 0) {
			log_warn("SASL: Protocol version mismatch (%s vs. 1)", n > 1 ? f[1] : "?");
			dc_drop(d, "Authentication backend error");
		}
	} else if (strcmp(f[0], "MECH") == 0 && n > 1) {
		d->saw_mech = true;
		if (d->nmechs < DOVECOT_MAX_MECHS) {
			struct sasl_mech *m = &d->mechs[d->nmechs++];

			snprintf(m->name, sizeof(m->name), "%s", f[1]);
			m->flags = mech_flags(f + 2, n - 2);
		}
	} else if (strcmp(f[0], "SPID") == 0 && !d->saw_mech && d->nmechs == 0 && !d->ready) {
		/* auth-client sends SPID too; only a master socket lacks MECH later */
	} else if (strcmp(f[0], "DONE") == 0) {
		if (!d->saw_mech) {
			log_warn("SASL: Connected to wrong auth socket (auth-master instead of auth-client)");
			dc_drop(d, "Authentication backend error");
			return;
		}
		d->ready = true;
		dc_flush_pending(d);
	} else if (strcmp(f[0], "OK") == 0 || strcmp(f[0], "CONT") == 0 ||
		   strcmp(f[0], "FAIL") == 0) {
		dc_reply(d, f, n);
	}
	/* anything else (CUID, COOKIE, unknown) is ignored as the spec says */
}

/* dc_read - whole lines from the server */
static void dc_read(struct bufferevent *bev, void *ctx)
{
	struct dovecot *d = ctx;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t len;

	while (d->bev == bev && (line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		dc_line(d, line);
		free(line);
	}
	if (d->bev == bev && evbuffer_get_length(in) > 16384) {
		log_warn("SASL: line too long from %s", d->path);
		dc_drop(d, "Authentication backend error");
	}
}

/* dc_event - connected, closed, failed, or timed out */
static void dc_event(struct bufferevent *bev, short what, void *ctx)
{
	struct dovecot *d = ctx;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_TIMEOUT) {
		if (d->reqs == NULL && d->ready) {
			bufferevent_enable(d->bev, EV_READ);	/* idle: keep it */
			return;
		}
		log_warn("SASL: timeout talking to Dovecot auth server %s", d->path);
	} else if (what & BEV_EVENT_ERROR) {
		log_warn("SASL: Connect to Dovecot auth socket '%s' failed: %s", d->path,
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	}
	dc_drop(d, "Connection lost to authentication server");
}

/* dc_connect - start a connection and the handshake */
static void dc_connect(struct dovecot *d)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	struct timeval tv = { DOVECOT_TIMEOUT, 0 };
	struct buf hello = BUF_INIT;

	memset(&ss, 0, sizeof(ss));
	if (strncmp(d->path, "inet:", 5) == 0) {
		struct addrinfo hints, *ai = NULL;
		char host[256];
		const char *colon = strrchr(d->path + 5, ':');

		if (colon == NULL) {
			log_warn("SASL: bad smtpd_sasl_path \"%s\": need inet:host:port", d->path);
			return;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(colon - d->path - 5), d->path + 5);
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || ai == NULL) {
			log_warn("SASL: cannot resolve %s", d->path);
			return;
		}
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		sl = ai->ai_addrlen;
		freeaddrinfo(ai);
	} else {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;

		un->sun_family = AF_UNIX;
		if (strlen(d->path) >= sizeof(un->sun_path)) {
			log_warn("SASL: socket path too long: %s", d->path);
			return;
		}
		memcpy(un->sun_path, d->path, strlen(d->path) + 1);
		sl = sizeof(*un);
	}
	d->bev = bufferevent_socket_new(d->base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(d->bev, dc_read, NULL, dc_event, d);
	bufferevent_set_timeouts(d->bev, &tv, &tv);
	d->nmechs = 0;
	d->saw_mech = false;
	d->ready = false;
	d->next_id = 0;
	if (bufferevent_socket_connect(d->bev, (struct sockaddr *)&ss, (int)sl) < 0) {
		log_warn("SASL: Connect to Dovecot auth socket '%s' failed: %m", d->path);
		bufferevent_free(d->bev);
		d->bev = NULL;
		return;
	}
	bufferevent_enable(d->bev, EV_READ);
	buf_printf(&hello, "VERSION\t1\t1\nCPID\t%ld", (long)getpid());
	dc_send(d, buf_cstr(&hello));
	buf_free(&hello);
}

/* smtpd_sasl_dovecot_new - remember the socket and connect */
void *smtpd_sasl_dovecot_new(struct event_base *base, const char *path, const char *service,
			     struct buf *err)
{
	struct dovecot *d;

	if (path == NULL || *path == '\0') {
		buf_puts(err, "smtpd_sasl_path is empty");
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));
	d->base = base;
	d->path = xstrdup(path);
	d->service = xstrdup(service);
	dc_connect(d);
	return d;
}

/* dovecot_free - close */
static void dovecot_free(void *impl)
{
	struct dovecot *d = impl;

	dc_drop(d, "shutting down");
	free(d->path);
	free(d->service);
	free(d);
}

/* dovecot_mechs - as announced; reconnect if we have none */
static size_t dovecot_mechs(void *impl, const struct sasl_mech **out)
{
	struct dovecot *d = impl;

	if (d->bev == NULL)
		dc_connect(d);
	*out = d->mechs;
	return d->ready ? d->nmechs : 0;
}

/* known_mech - is this mechanism offered by the server? */
static bool known_mech(struct dovecot *d, const char *mech)
{
	for (size_t i = 0; i < d->nmechs; i++)
		if (strcasecmp(d->mechs[i].name, mech) == 0 && !(d->mechs[i].flags & SASL_MECH_PRIVATE))
			return true;
	return false;
}

/* valid_b64 - only base64 characters go to the server */
static bool valid_b64(const char *s)
{
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
	       strlen(s);
}

/* dc_submit - send now or after the handshake */
static void dc_submit(struct dovecot *d, struct req *r, const char *line)
{
	if (d->bev == NULL)
		dc_connect(d);
	if (d->bev == NULL) {
		dc_unlink(d, r);
		r->id = 0;
		smtpd_sasl_report(r->s, SASL_TEMP, "Can't connect to authentication server");
		return;
	}
	if (d->ready)
		dc_send(d, line);
	else
		buf_set(&r->pending, line);
}

/* dovecot_start - AUTH request */
static int dovecot_start(struct smtpd_sasl *s, const char *initial)
{
	struct dovecot *d = s->b->impl;
	struct req *r = xcalloc(1, sizeof(*r));
	struct buf line = BUF_INIT;

	r->s = s;
	s->state = r;
	if (d->ready && !known_mech(d, s->mech)) {
		smtpd_sasl_report(s, SASL_FAIL, "Invalid authentication mechanism");
		return 0;
	}
	if (initial && !valid_b64(initial)) {
		smtpd_sasl_report(s, SASL_FAIL, "Invalid base64 data in initial response");
		return 0;
	}
	r->id = ++d->next_id ? d->next_id : ++d->next_id;
	r->next = d->reqs;
	d->reqs = r;
	buf_printf(&line, "AUTH\t%u\t%s\tservice=%s\tnologin\tlip=%s\trip=%s", r->id, s->mech,
		   d->service, s->conn.server_addr, s->conn.client_addr);
	if (s->conn.server_port)
		buf_printf(&line, "\tlport=%d", s->conn.server_port);
	if (s->conn.client_port)
		buf_printf(&line, "\trport=%d", s->conn.client_port);
	if (s->conn.tls)
		buf_puts(&line, "\tsecured");
	if (initial)
		buf_printf(&line, "\tresp=%s", initial);
	dc_submit(d, r, buf_cstr(&line));
	buf_free(&line);
	return 0;
}

/* dovecot_step - CONT with the client's response */
static void dovecot_step(struct smtpd_sasl *s, const char *response)
{
	struct dovecot *d = s->b->impl;
	struct req *r = s->state;
	struct buf line = BUF_INIT;

	if (r == NULL || r->id == 0 || dc_find(d, r->id) == NULL) {
		smtpd_sasl_report(s, SASL_TEMP, "Connection lost to authentication server");
		return;
	}
	if (!valid_b64(response)) {
		dc_unlink(d, r);
		r->id = 0;
		smtpd_sasl_report(s, SASL_FAIL, "Invalid base64 data in continued response");
		return;
	}
	buf_printf(&line, "CONT\t%u\t%s", r->id, response);
	dc_submit(d, r, buf_cstr(&line));
	buf_free(&line);
}

/* dovecot_end - forget the conversation; late replies are ignored */
static void dovecot_end(struct smtpd_sasl *s)
{
	struct dovecot *d = s->b->impl;
	struct req *r = s->state;

	if (r == NULL)
		return;
	if (r->id)
		dc_unlink(d, r);
	buf_free(&r->pending);
	free(r);
	s->state = NULL;
}

const struct smtpd_sasl_ops smtpd_sasl_dovecot_ops = {
	dovecot_free, dovecot_mechs, dovecot_start, dovecot_step, dovecot_end,
};
