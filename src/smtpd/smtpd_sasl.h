/*
 * smtpd_sasl - server-side SASL for AUTH PLAIN and LOGIN over two
 * backends: "dovecot" (Dovecot's auth-client protocol on smtpd_sasl_path,
 * asynchronous) and "internal" (crypt(3) hashes from the table named by
 * smtpd_sasl_password_maps).
 *
 * A conversation: smtpd_sasl_start() with the mechanism and the optional
 * initial response (base64, as the client sent it), then
 * smtpd_sasl_step() with each further client line. Each step ends in the
 * callback exactly once: SASL_CONTINUE with a base64 challenge, SASL_OK
 * with the authenticated user name, SASL_FAIL with a reason for the 535
 * reply, or SASL_TEMP with a reason for the 454 reply. The callback may run
 * before start/step returns.
 */
#ifndef OUTPOST_SMTPD_SMTPD_SASL_H
#define OUTPOST_SMTPD_SMTPD_SASL_H

#include <stdbool.h>

#include "config/config.h"
#include "lib/buf.h"

struct event_base;
struct smtpd_sasl_backend;
struct smtpd_sasl;

enum sasl_result { SASL_OK, SASL_CONTINUE, SASL_FAIL, SASL_TEMP };

typedef void (*smtpd_sasl_fn)(void *ctx, enum sasl_result r, const char *text);

/* what the backend may tell the authenticator about the connection */
struct smtpd_sasl_conn {
	const char *client_addr;
	const char *server_addr;
	int client_port, server_port;
	bool tls;
};

struct smtpd_sasl_backend *smtpd_sasl_backend_new(struct config *cf, struct event_base *base,
						  const char *type, const char *path,
						  const char *service, struct buf *err);
void smtpd_sasl_backend_free(struct smtpd_sasl_backend **bp);
void smtpd_sasl_mechs(struct smtpd_sasl_backend *b, bool noplaintext, bool noanonymous,
		      struct strv *out);
void smtpd_sasl_start(struct smtpd_sasl_backend *b, const struct smtpd_sasl_conn *conn,
		      const char *mech, const char *initial, smtpd_sasl_fn fn, void *ctx,
		      struct smtpd_sasl **slot);
void smtpd_sasl_step(struct smtpd_sasl *s, const char *response);
void smtpd_sasl_free(struct smtpd_sasl **sp);

#endif
