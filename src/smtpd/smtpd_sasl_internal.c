/*
 * smtpd_sasl_internal - Outpost's built-in SASL server: PLAIN and LOGIN
 * checked against crypt(3) hashes (yescrypt "$y$", sha512-crypt "$6$",
 * bcrypt "$2b$", anything libcrypt knows) found in the tables named by
 * smtpd_sasl_password_maps (key: login name, value: hash, optionally with
 * a Dovecot-style "{SCHEME}" prefix).
 *
 * Public: smtpd_sasl_internal_new, smtpd_sasl_internal_ops.
 *
 * Hashing is slow on purpose (tens of milliseconds for yescrypt), so each
 * check runs in a short-lived thread and reports back to the event loop
 * through a pipe: other sessions never wait for it. The table lookup
 * itself stays on the loop (tables are not shared across threads).
 *
 * Bad input: undecodable base64, a malformed PLAIN message, an unknown
 * login or a wrong password all fail with the same reply text, so the
 * reply never tells which part was wrong; a table error is a temporary
 * failure (454).
 */
#include <crypt.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "smtpd/smtpd_parse.h"
#include "smtpd/smtpd_sasl_impl.h"
#include "table/table.h"

#define PROMPT_USER "VXNlcm5hbWU6"	/* "Username:" */
#define PROMPT_PASS "UGFzc3dvcmQ6"	/* "Password:" */
#define FAIL_TEXT "authentication failure"

struct internal {
	struct event_base *base;
	struct table_list *maps;
	struct sasl_mech mechs[2];
};

struct job {
	pthread_t tid;
	int fd[2];
	struct event *ev;
	struct smtpd_sasl *s;	/* NULL once the conversation is abandoned */
	char *user, *pass, *hash;
	bool ok;
};

struct conv {
	int step;		/* LOGIN: 0 = want user name, 1 = want password */
	char *user;
	struct job *job;
};

/* smtpd_sasl_internal_new - open smtpd_sasl_password_maps */
void *smtpd_sasl_internal_new(struct config *cf, struct event_base *base, struct buf *err)
{
	const char *maps = config_str(cf, "smtpd_sasl_password_maps");
	struct internal *in;

	if (*maps == '\0') {
		buf_puts(err, "smtpd_sasl_type = internal needs smtpd_sasl_password_maps");
		return NULL;
	}
	in = xcalloc(1, sizeof(*in));
	in->base = base;
	in->maps = table_list_open(maps, 0, err);
	if (in->maps == NULL) {
		free(in);
		return NULL;
	}
	snprintf(in->mechs[0].name, sizeof(in->mechs[0].name), "PLAIN");
	in->mechs[0].flags = SASL_MECH_PLAINTEXT;
	snprintf(in->mechs[1].name, sizeof(in->mechs[1].name), "LOGIN");
	in->mechs[1].flags = SASL_MECH_PLAINTEXT;
	return in;
}

/* internal_free - close the tables */
static void internal_free(void *impl)
{
	struct internal *in = impl;

	table_list_close(&in->maps);
	free(in);
}

/* internal_mechs - PLAIN and LOGIN */
static size_t internal_mechs(void *impl, const struct sasl_mech **out)
{
	struct internal *in = impl;

	*out = in->mechs;
	return 2;
}

/* same - constant-time string equality */
static bool same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* worker - crypt_r off the event loop */
static void *worker(void *arg)
{
	struct job *j = arg;
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	const char *out = crypt_r(j->pass, j->hash, cd);

	j->ok = out && out[0] != '*' && same(out, j->hash);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	if (write(j->fd[1], "x", 1) < 0) {
		/* the loop side sees EOF on close below */
	}
	return NULL;
}

/* job_free - after the thread is joined */
static void job_free(struct job *j)
{
	event_free(j->ev);
	close(j->fd[0]);
	close(j->fd[1]);
	explicit_bzero(j->pass, strlen(j->pass));
	free(j->pass);
	free(j->hash);
	free(j->user);
	free(j);
}

/* job_done - the hash is checked: report unless abandoned */
static void job_done(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;
	struct smtpd_sasl *s = j->s;

	(void)fd;
	(void)what;
	pthread_join(j->tid, NULL);
	if (s) {
		struct conv *c = s->state;

		c->job = NULL;
		if (j->ok)
			smtpd_sasl_report(s, SASL_OK, j->user);
		else
			smtpd_sasl_report(s, SASL_FAIL, FAIL_TEXT);
	}
	job_free(j);
}

/* verify - look the user up and check the password in a thread */
static void verify(struct smtpd_sasl *s, const char *user, const char *pass)
{
	struct internal *in = s->b->impl;
	struct conv *c = s->state;
	struct buf hash = BUF_INIT;
	enum table_status st = TABLE_NOTFOUND;
	const char *h;
	struct job *j;

	if (*user && strlen(user) < 256)
		st = table_list_lookup(in->maps, user, false, &hash, NULL);
	if (st == TABLE_TEMPFAIL) {
		log_warn("smtpd_sasl_password_maps: lookup of %s failed: %s", user,
			 table_list_error(in->maps));
		buf_free(&hash);
		smtpd_sasl_report(s, SASL_TEMP, "Authentication backend error");
		return;
	}
	h = buf_cstr(&hash);
	if (h[0] == '{' && strchr(h, '}'))
		h = strchr(h, '}') + 1;
	j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->user = xstrdup(user);
	j->pass = xstrdup(pass);
	/* Unknown users still pay for one hash, so timing does not tell. */
	j->hash = xstrdup(st == TABLE_FOUND ? h : "$6$outpost$unknownuserunknownuserunknownuserunknownuserunknownuserunknownuse");
	buf_free(&hash);
	if (pipe(j->fd) < 0 || pthread_create(&j->tid, NULL, worker, j) != 0) {
		log_warn("cannot start password check: %m");
		if (j->fd[0] > 0) {
			close(j->fd[0]);
			close(j->fd[1]);
		}
		free(j->user);
		free(j->pass);
		free(j->hash);
		free(j);
		smtpd_sasl_report(s, SASL_TEMP, "Authentication backend error");
		return;
	}
	j->ev = event_new(in->base, j->fd[0], EV_READ, job_done, j);
	event_add(j->ev, NULL);
	c->job = j;
}

/* plain - RFC 4616: authzid NUL authcid NUL passwd */
static void plain(struct smtpd_sasl *s, const struct buf *msg)
{
	const char *p = msg->data ? msg->data : "";
	const char *end = p + msg->len;
	const char *authz = p, *authc, *pass;

	authc = memchr(p, '\0', msg->len);
	pass = authc ? memchr(authc + 1, '\0', (size_t)(end - authc - 1)) : NULL;
	if (authc == NULL || pass == NULL || memchr(pass + 1, '\0', (size_t)(end - pass - 1))) {
		smtpd_sasl_report(s, SASL_FAIL, FAIL_TEXT);
		return;
	}
	authc++;
	pass++;
	if (*authz && strcmp(authz, authc) != 0) {
		smtpd_sasl_report(s, SASL_FAIL, FAIL_TEXT);	/* no proxy logins */
		return;
	}
	verify(s, authc, pass);
}

/* decode - base64 into a NUL-terminated buffer */
static bool decode(const char *b64, struct buf *out)
{
	return smtpd_base64_decode(b64, strlen(b64), out) == 0;
}

/* internal_input - one client message (initial or continued) */
static void internal_input(struct smtpd_sasl *s, const char *b64, bool initial)
{
	struct conv *c = s->state;
	struct buf msg = BUF_INIT;

	if (!decode(b64, &msg)) {
		smtpd_sasl_report(s, SASL_FAIL, initial ? "Invalid base64 data in initial response"
							: "Invalid base64 data in continued response");
		buf_free(&msg);
		return;
	}
	if (strcmp(s->mech, "PLAIN") == 0) {
		plain(s, &msg);
	} else if (c->step == 0) {
		c->user = xstrndup(buf_cstr(&msg), msg.len);
		c->step = 1;
		smtpd_sasl_report(s, SASL_CONTINUE, PROMPT_PASS);
	} else {
		verify(s, c->user, buf_cstr(&msg));
	}
	if (msg.data)
		explicit_bzero(msg.data, msg.len);
	buf_free(&msg);
}

/* internal_start - AUTH PLAIN / LOGIN with an optional initial response */
static int internal_start(struct smtpd_sasl *s, const char *initial)
{
	s->state = xcalloc(1, sizeof(struct conv));
	if (strcmp(s->mech, "PLAIN") != 0 && strcmp(s->mech, "LOGIN") != 0) {
		smtpd_sasl_report(s, SASL_FAIL, "Invalid authentication mechanism");
		return 0;
	}
	if (initial)
		internal_input(s, initial, true);
	else
		smtpd_sasl_report(s, SASL_CONTINUE, strcmp(s->mech, "PLAIN") == 0 ? "" : PROMPT_USER);
	return 0;
}

/* internal_step - the client's next line */
static void internal_step(struct smtpd_sasl *s, const char *response)
{
	internal_input(s, response, false);
}

/* internal_end - forget the conversation; a running check reports to nobody */
static void internal_end(struct smtpd_sasl *s)
{
	struct conv *c = s->state;

	if (c == NULL)
		return;
	if (c->job)
		c->job->s = NULL;
	free(c->user);
	free(c);
	s->state = NULL;
}

const struct smtpd_sasl_ops smtpd_sasl_internal_ops = {
	internal_free, internal_mechs, internal_start, internal_step, internal_end,
};
