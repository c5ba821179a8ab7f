/*
 * smtpd_parse - the SMTP command line parser, free of any I/O so that it
 * can be fuzzed and unit-tested: verb lookup, MAIL FROM / RCPT TO paths
 * with their ESMTP parameters (RFC 1870 SIZE, RFC 6152 BODY, RFC 4954
 * AUTH=, RFC 3461 RET/ENVID/NOTIFY/ORCPT, RFC 6531 SMTPUTF8), xtext and
 * base64.
 *
 * Bad input: the functions return -1 and put the complete SMTP reply
 * (code, enhanced code, text) into the caller's buffer.
 */
#ifndef OUTPOST_SMTPD_SMTPD_PARSE_H
#define OUTPOST_SMTPD_SMTPD_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "mail/addr.h"

enum smtpd_verb {
	VERB_UNKNOWN = 0,
	VERB_HELO, VERB_EHLO, VERB_MAIL, VERB_RCPT, VERB_DATA, VERB_RSET,
	VERB_NOOP, VERB_QUIT, VERB_VRFY, VERB_ETRN, VERB_STARTTLS, VERB_AUTH,
	VERB_EXPN, VERB_BDAT, VERB_HTTP,	/* HTTP-looking junk: CONNECT, GET, POST */
	VERB_XCLIENT, VERB_XFORWARD,	/* Postfix's, for authorized hosts only: none here */
	VERB_COUNT
};

struct smtpd_cmdline {
	enum smtpd_verb verb;
	const char *name;	/* canonical upper-case verb, "unknown" if none */
	const char *arg;	/* text after the verb and one space ("" if none) */
};

/* MAIL FROM / RCPT TO with parameters */
struct smtpd_mailparams {
	struct addr_path path;
	long size;		/* SIZE=, -1 if not given */
	bool body_8bit;		/* BODY=8BITMIME */
	bool smtputf8;
	bool auth_given;
	struct buf auth;	/* AUTH= decoded ("" for <>) */
	struct buf ret;		/* RET=FULL|HDRS */
	struct buf envid;	/* ENVID= decoded */
	unsigned notify;	/* CLEANUP_NOTIFY_* bits, 0 = not given */
	struct buf orcpt;	/* ORCPT= as "rfc822;decoded" */
};

/* what the session allows (advertised features) */
#define SMTPD_PARSE_DSN		(1u << 0)
#define SMTPD_PARSE_SMTPUTF8	(1u << 1)
#define SMTPD_PARSE_8BITMIME	(1u << 2)
#define SMTPD_PARSE_STRICT	(1u << 3)	/* strict_rfc821_envelopes */
#define SMTPD_PARSE_AUTH	(1u << 4)	/* AUTH= accepted */
#define SMTPD_PARSE_STRICT_UTF8	(1u << 5)	/* strict_smtputf8: 8-bit needs SMTPUTF8 */

void smtpd_parse_line(const char *line, struct smtpd_cmdline *out);
const char *smtpd_verb_name(enum smtpd_verb v);
void smtpd_mailparams_init(struct smtpd_mailparams *m);
void smtpd_mailparams_free(struct smtpd_mailparams *m);
int smtpd_parse_mail(const char *arg, unsigned allow, struct smtpd_mailparams *m,
		     struct buf *reply);
int smtpd_parse_rcpt(const char *arg, unsigned allow, struct smtpd_mailparams *m,
		     struct buf *reply);
int smtpd_xtext_decode(const char *in, struct buf *out);
void smtpd_xtext_encode(const char *in, struct buf *out);
int smtpd_base64_decode(const char *in, size_t len, struct buf *out);
void smtpd_base64_encode(const void *in, size_t len, struct buf *out);

#endif
