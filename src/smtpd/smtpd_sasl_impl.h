/*
 * smtpd_sasl_impl - what a SASL backend implements (smtpd_sasl_dovecot.c,
 * smtpd_sasl_internal.c) behind smtpd_sasl.h.
 */
#ifndef OUTPOST_SMTPD_SMTPD_SASL_IMPL_H
#define OUTPOST_SMTPD_SMTPD_SASL_IMPL_H

#include "smtpd/smtpd_sasl.h"

#define SASL_MECH_PLAINTEXT	(1u << 0)
#define SASL_MECH_ANONYMOUS	(1u << 1)
#define SASL_MECH_PRIVATE	(1u << 2)

struct sasl_mech {
	char name[32];
	unsigned flags;
};

struct smtpd_sasl_ops {
	void (*free)(void *impl);
	/* mechanisms known now (a remote backend may not know them yet) */
	size_t (*mechs)(void *impl, const struct sasl_mech **out);
	int (*start)(struct smtpd_sasl *s, const char *initial);
	void (*step)(struct smtpd_sasl *s, const char *response);
	void (*end)(struct smtpd_sasl *s);	/* conversation abandoned or done */
};

struct smtpd_sasl_backend {
	const struct smtpd_sasl_ops *ops;
	void *impl;
};

struct smtpd_sasl {
	struct smtpd_sasl_backend *b;
	struct smtpd_sasl_conn conn;
	char client_addr[64], server_addr[64];
	char mech[32];
	smtpd_sasl_fn fn;
	void *ctx;
	void *state;		/* backend's per-conversation data */
};

void *smtpd_sasl_dovecot_new(struct event_base *base, const char *path, const char *service,
			     struct buf *err);
extern const struct smtpd_sasl_ops smtpd_sasl_dovecot_ops;
void *smtpd_sasl_internal_new(struct config *cf, struct event_base *base, struct buf *err);
extern const struct smtpd_sasl_ops smtpd_sasl_internal_ops;

/* smtpd_sasl_report - deliver one result to the session */
void smtpd_sasl_report(struct smtpd_sasl *s, enum sasl_result r, const char *text);

#endif
