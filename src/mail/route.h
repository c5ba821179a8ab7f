/*
 * route - which transport and next hop a recipient goes to, as Postfix's
 * trivial-rewrite resolves it (transport(5), postconf(5)).
 *
 * Inputs: the recipient (after virtual alias expansion), the envelope
 * sender, and the recipient's address class (local, virtual alias,
 * virtual mailbox, relay, default) from the address resolver. Steps:
 *
 *   local          local_transport; nexthop from it, else $myhostname
 *   virtual alias  error:5.1.1 User unknown in virtual alias table
 *   virtual mbox   virtual_transport; nexthop from it, else the domain
 *   relay          relay_transport; nexthop from relay_transport, else
 *                  sender_dependent_relayhost_maps, relayhost, domain
 *   default        sender_dependent_default_transport_maps, else
 *                  default_transport; nexthop from that result, else
 *                  sender_dependent_relayhost_maps, relayhost, domain
 *
 * then transport_maps (transport(5) search: user+ext@domain, user@domain,
 * domain, .parent, *) overrides, except for the virtual alias class:
 * "transport:nexthop" replaces both, "transport:" resets the nexthop to
 * the recipient domain, ":nexthop" keeps the transport, ":" changes
 * nothing. DUNNO from a sender-dependent map means "not found" and stops
 * its search. The null recipient is looked up as
 * $empty_address_recipient@$myhostname; the null sender as
 * $empty_address_relayhost_maps_lookup_key (and "<>" for the default
 * transport maps), as Postfix does.
 *
 * The logic (route_resolve) sees tables and the address class through
 * callbacks, so it is tested without files; route_conf.c builds those
 * callbacks from a struct config and real table lists.
 *
 * Public: route_resolve, route_init, route_free, route_class_name,
 * route_open, route_close, route_lookup.
 * Errors: a table lookup failure gives ROUTE_TEMPFAIL with the reason in
 * route->reason; callers defer ("4.3.0 …"), never bounce.
 */
#ifndef OUTPOST_MAIL_ROUTE_H
#define OUTPOST_MAIL_ROUTE_H

#include <stdbool.h>

#include "config/config.h"
#include "lib/buf.h"
#include "table/table.h"

enum route_class {
	ROUTE_CLASS_LOCAL,		/* mydestination, inet_interfaces, proxy_interfaces */
	ROUTE_CLASS_VIRTUAL_ALIAS,	/* virtual_alias_domains */
	ROUTE_CLASS_VIRTUAL_MAILBOX,	/* virtual_mailbox_domains */
	ROUTE_CLASS_RELAY,		/* relay_domains */
	ROUTE_CLASS_DEFAULT,		/* everything else */
};

/* The tables route_resolve() consults. */
enum route_map {
	ROUTE_MAP_TRANSPORT,		/* transport_maps, transport(5) search */
	ROUTE_MAP_SENDER_RELAYHOST,	/* sender_dependent_relayhost_maps, virtual(5) search */
	ROUTE_MAP_SENDER_TRANSPORT,	/* sender_dependent_default_transport_maps */
};

/* Where the final nexthop came from (for `outpost explain` and tests). */
enum route_source {
	ROUTE_FROM_DOMAIN,		/* the recipient domain */
	ROUTE_FROM_MYHOSTNAME,		/* local class default */
	ROUTE_FROM_RELAYHOST,
	ROUTE_FROM_SENDER_RELAYHOST,
	ROUTE_FROM_CLASS_TRANSPORT,	/* nexthop part of local/virtual/relay/default_transport */
	ROUTE_FROM_SENDER_TRANSPORT,
	ROUTE_FROM_TRANSPORT_MAPS,
	ROUTE_FROM_CLASS_ERROR,		/* virtual alias class error text */
};

enum route_status {
	ROUTE_TEMPFAIL = -1,
	ROUTE_OK = 0,
};

struct route_params {
	const char *local_transport;	/* "local:$myhostname" */
	const char *virtual_transport;	/* "virtual" */
	const char *relay_transport;	/* "relay" */
	const char *default_transport;	/* "smtp" */
	const char *relayhost;		/* "" or "[smtp.example.com]:587" */
	const char *myhostname;
	const char *empty_address_recipient;		/* "MAILER-DAEMON" */
	const char *empty_address_relayhost_key;	/* "<>" */
	const char *empty_address_default_transport_key; /* "<>" */
	bool show_unknown_table;	/* show_user_unknown_table_name */
	/* address class of a recipient with a domain: 0, or -1 with reason */
	int (*classify)(void *ctx, const char *addr, enum route_class *cls,
			struct buf *reason);
	void *classify_ctx;
	/* Derived-key search in one of the maps: TABLE_FOUND with value,
	 * TABLE_NOTFOUND (also when the map is not configured), or
	 * TABLE_TEMPFAIL with reason. */
	enum table_status (*lookup)(void *ctx, enum route_map map,
				    const char *key, struct buf *value,
				    struct buf *reason);
	void *lookup_ctx;
};

struct route {
	enum route_class cls;
	struct buf transport;	/* master.cf service name: "smtp", "relay", "local", "error" … */
	struct buf nexthop;	/* "example.com", "[h]:587", "unix:/path", error text */
	enum route_source source;
	struct buf reason;	/* ROUTE_TEMPFAIL: what failed */
};

void route_init(struct route *r);
void route_free(struct route *r);
const char *route_class_name(enum route_class cls);
const char *route_source_name(enum route_source src);
enum route_status route_resolve(const struct route_params *p,
				const char *sender, const char *rcpt,
				struct route *out);

/* route_conf.c: the same over a loaded configuration. */
struct route_ctx;
struct route_ctx *route_open(struct config *cf, struct buf *err);
enum route_status route_lookup(struct route_ctx *rc, const char *sender,
			       const char *rcpt, struct route *out);
void route_close(struct route_ctx **rcp);

#endif
