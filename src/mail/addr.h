/*
 * addr - RFC 5321 envelope address parsing, shared by smtpd, the
 * restriction engine, cleanup and the tools.
 *
 * addr_parse_path() reads the argument of MAIL FROM: / RCPT TO: (the part
 * after the colon): "<>", "<user@example.com>", quoted local parts
 * ("<\"a b\"@example.com>"), source routes ("<@a,@b:user@d>", route kept
 * apart and dropped from the address as RFC 5321 allows), address
 * literals ("user@[192.0.2.1]", "user@[IPv6:2001:db8::1]"), and 8-bit
 * UTF-8 (flagged, for the SMTPUTF8 check). Forms that matter to relay
 * decisions ("user%host@d", "host!user@d", "a@b@d") are kept as written
 * and flagged, never rewritten here.
 *
 * The address comes out in Postfix's internal form: the local part with
 * its quotes removed (addr_external() adds them back for logs and
 * replies). Whatever follows the closing '>' (ESMTP parameters) is left
 * for the caller.
 *
 * Bad input: the parse returns -1 and sets a short English reason
 * ("missing closing '>'", "bad character in domain") that smtpd appends to
 * its 501 reply. Nothing is logged here.
 */
#ifndef OUTPOST_MAIL_ADDR_H
#define OUTPOST_MAIL_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/str.h"

#define ADDR_MAX_LEN	512	/* longer paths are refused (RFC 5321: 256) */

/* parse flags */
#define ADDR_P_STRICT	(1u << 0)	/* strict_rfc821_envelopes: <> required, no spaces */

/* facts about a parsed address */
#define ADDR_F_NULL	(1u << 0)	/* "<>" */
#define ADDR_F_QUOTED	(1u << 1)	/* local part was a quoted string */
#define ADDR_F_ROUTE	(1u << 2)	/* "@a,@b:" source route was present */
#define ADDR_F_8BIT	(1u << 3)	/* non-ASCII bytes (valid UTF-8) */
#define ADDR_F_PERCENT	(1u << 4)	/* local part holds '%' */
#define ADDR_F_BANG	(1u << 5)	/* local part holds '!' */
#define ADDR_F_MULTI_AT	(1u << 6)	/* local part holds '@' */
#define ADDR_F_NODOMAIN	(1u << 7)	/* bare local part, no "@domain" */
#define ADDR_F_LITERAL	(1u << 8)	/* domain is an address literal [..] */
#define ADDR_F_BRACKETS	(1u << 9)	/* written inside < > */

struct addr_path {
	struct buf addr;	/* internal form, "" for <> */
	struct buf route;	/* "@a,@b" without the ':' ("" if none) */
	unsigned flags;
	size_t local_len;	/* bytes of addr before the last '@' (or all) */
};

void addr_path_init(struct addr_path *p);
void addr_path_free(struct addr_path *p);

int addr_parse_path(const char *in, unsigned pflags, struct addr_path *out,
		    const char **rest, const char **err);
int addr_parse_mailbox(const char *in, size_t len, struct addr_path *out,
		       const char **err);
void addr_external(const char *internal, struct buf *out);
bool addr_utf8_valid(const char *s, size_t len);
bool addr_domain_valid(const char *d, size_t len, bool allow_8bit);

/* RFC 5322 address lists (header values, virtual(5) results) */
int addr_list_split(const char *in, struct strv *out, const char **err);

#endif
