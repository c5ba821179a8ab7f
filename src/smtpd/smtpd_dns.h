/*
 * smtpd_dns - the client's name, asynchronously (c-ares on the event loop):
 * PTR lookup of the address, then a forward lookup of each PTR name; the
 * name is "verified" when a forward answer contains the client address
 * (smtpd_peername_lookup). Temporary failures and mismatches leave
 * "unknown", as Postfix does.
 */
#ifndef OUTPOST_SMTPD_SMTPD_DNS_H
#define OUTPOST_SMTPD_SMTPD_DNS_H

#include <sys/socket.h>

#include "lib/buf.h"

struct event_base;
struct smtpd_dns;
struct smtpd_dns_req;

/* name: verified name or NULL; reverse: PTR name or NULL */
typedef void (*smtpd_dns_name_fn)(void *ctx, const char *name, const char *reverse);

struct smtpd_dns *smtpd_dns_new(struct event_base *base, struct buf *err);
void smtpd_dns_free(struct smtpd_dns **dp);
struct smtpd_dns_req *smtpd_dns_client_name(struct smtpd_dns *d, const struct sockaddr *sa,
					    smtpd_dns_name_fn fn, void *ctx);
void smtpd_dns_cancel(struct smtpd_dns_req **rp);
int smtpd_dns_servers(struct smtpd_dns *d, const char *csv);

#endif
