/*
 * smtpd_sasl - the backend-neutral half of AUTH (see smtpd_sasl.h):
 * backend choice, mechanism filtering by smtpd_sasl_security_options,
 * and conversation bookkeeping.
 *
 * Public: smtpd_sasl_backend_new, smtpd_sasl_backend_free,
 * smtpd_sasl_mechs, smtpd_sasl_start, smtpd_sasl_step, smtpd_sasl_free,
 * smtpd_sasl_report.
 *
 * Bad input: an unknown backend type or a backend that cannot start is
 * reported through err; an unknown mechanism fails the conversation with
 * "Invalid authentication mechanism", as Postfix says.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/mem.h"
#include "smtpd/smtpd_sasl_impl.h"

/* smtpd_sasl_backend_new - "dovecot" or "internal" */
struct smtpd_sasl_backend *smtpd_sasl_backend_new(struct config *cf, struct event_base *base,
						  const char *type, const char *path,
						  const char *service, struct buf *err)
{
	struct smtpd_sasl_backend *b = xcalloc(1, sizeof(*b));

	if (strcmp(type, "dovecot") == 0) {
		b->ops = &smtpd_sasl_dovecot_ops;
		b->impl = smtpd_sasl_dovecot_new(base, path, service, err);
	} else if (strcmp(type, "internal") == 0) {
		b->ops = &smtpd_sasl_internal_ops;
		b->impl = smtpd_sasl_internal_new(cf, base, err);
	} else {
		buf_printf(err, "unsupported smtpd_sasl_type \"%s\"", type);
	}
	if (b->impl == NULL) {
		free(b);
		return NULL;
	}
	return b;
}

/* smtpd_sasl_backend_free - close the backend */
void smtpd_sasl_backend_free(struct smtpd_sasl_backend **bp)
{
	if (*bp == NULL)
		return;
	(*bp)->ops->free((*bp)->impl);
	xfree(bp);
}

/* smtpd_sasl_mechs - mechanisms to offer after the security options */
void smtpd_sasl_mechs(struct smtpd_sasl_backend *b, bool noplaintext, bool noanonymous,
		      struct strv *out)
{
	const struct sasl_mech *m;
	size_t n = b->ops->mechs(b->impl, &m);

	for (size_t i = 0; i < n; i++) {
		if ((m[i].flags & SASL_MECH_PRIVATE) ||
		    (noplaintext && (m[i].flags & SASL_MECH_PLAINTEXT)) ||
		    (noanonymous && (m[i].flags & SASL_MECH_ANONYMOUS)))
			continue;
		strv_push(out, m[i].name);
	}
}

/* smtpd_sasl_report - deliver one step's result */
void smtpd_sasl_report(struct smtpd_sasl *s, enum sasl_result r, const char *text)
{
	if (s->fn)
		s->fn(s->ctx, r, text);
}

/* smtpd_sasl_start - begin a conversation (in *slot before any callback) */
void smtpd_sasl_start(struct smtpd_sasl_backend *b, const struct smtpd_sasl_conn *conn,
		      const char *mech, const char *initial, smtpd_sasl_fn fn, void *ctx,
		      struct smtpd_sasl **slot)
{
	struct smtpd_sasl *s = xcalloc(1, sizeof(*s));
	size_t i;

	s->b = b;
	s->conn = *conn;
	snprintf(s->client_addr, sizeof(s->client_addr), "%s", conn->client_addr ? conn->client_addr : "");
	snprintf(s->server_addr, sizeof(s->server_addr), "%s", conn->server_addr ? conn->server_addr : "");
	s->conn.client_addr = s->client_addr;
	s->conn.server_addr = s->server_addr;
	for (i = 0; mech[i] && i + 1 < sizeof(s->mech); i++)
		s->mech[i] = (char)(mech[i] >= 'a' && mech[i] <= 'z' ? mech[i] - 32 : mech[i]);
	s->mech[i] = '\0';
	s->fn = fn;
	s->ctx = ctx;
	*slot = s;
	b->ops->start(s, initial);	/* s may be gone when this returns */
}

/* smtpd_sasl_step - the client's next response (base64) */
void smtpd_sasl_step(struct smtpd_sasl *s, const char *response)
{
	s->b->ops->step(s, response);
}

/* smtpd_sasl_free - end the conversation; no callback after this */
void smtpd_sasl_free(struct smtpd_sasl **sp)
{
	struct smtpd_sasl *s = *sp;

	if (s == NULL)
		return;
	s->fn = NULL;
	s->b->ops->end(s);
	xfree(sp);
}
