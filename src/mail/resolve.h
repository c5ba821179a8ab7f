/*
 * resolve - which class of destination an address belongs to, as Postfix's
 * trivial-rewrite decides it, for relay control (smtpd), recipient
 * validation and transport selection (qmgr / delivery).
 *
 * Addresses are in internal (unquoted) form: the SMTP `"a@b"@example.com`
 * arrives as `a@b@example.com`. Resolving rewrites in the "local" context
 * first: a source route (`@a,@b:user@c`) is dropped, a bare `user` becomes
 * `user@$myorigin` (or `user@site` for `site!user`, `user@dom` for
 * `user%dom`), the domain is lower-cased without a trailing dot. Then, as
 * long as the domain is local, it is stripped and the local part parsed
 * again (`user%remote@local`, `user@remote@local`, `remote!user@local`),
 * so routing through a local domain ends up at the remote domain. A local
 * part left holding `@`, `%` or `!` marks sender-specified routing, which
 * never counts as an authorized destination.
 *
 * Domain lists (mydestination, relay_domains, virtual_*_domains) and
 * network lists (mynetworks) follow Postfix's match lists: patterns, `!`
 * negation, `/file` inclusion, `type:table` lookups, parent-domain style
 * from parent_domain_matches_subdomains.
 *
 * Errors: resolve_new() fills err ("relay_domains: hash:/x: reason") and
 * returns NULL; a table failure during a lookup is RESOLVE_TEMPFAIL, never
 * a silent class change.
 */
#ifndef OUTPOST_MAIL_RESOLVE_H
#define OUTPOST_MAIL_RESOLVE_H

#include <stdbool.h>

#include "config/config.h"
#include "lib/buf.h"

enum resolve_class {
	RESOLVE_CLASS_LOCAL,		/* mydestination, interface literals */
	RESOLVE_CLASS_VIRTUAL_ALIAS,	/* virtual_alias_domains */
	RESOLVE_CLASS_VIRTUAL_MAILBOX,	/* virtual_mailbox_domains */
	RESOLVE_CLASS_RELAY,		/* relay_domains */
	RESOLVE_CLASS_DEFAULT,		/* anything else: the world */
};

enum resolve_status {
	RESOLVE_TEMPFAIL = -1,	/* a list lookup failed: try again later */
	RESOLVE_OK = 0,
};

struct resolved {
	struct buf addr;	/* localpart@domain after rewriting, internal form */
	struct buf localpart;
	struct buf domain;	/* lower case, no trailing dot */
	enum resolve_class cls;
	bool routed;		/* sender-specified routing left in the local part */
	struct buf error;	/* reason of a RESOLVE_TEMPFAIL */
};

/* A match list of domains or networks ("example.com, !x.example.com, hash:/t"). */
struct resolve_list;

struct resolve_ctx;

struct resolve_ctx *resolve_new(struct config *cf, struct buf *err);
void resolve_free(struct resolve_ctx **rp);

void resolved_init(struct resolved *r);
void resolved_free(struct resolved *r);
enum resolve_status resolve_addr(struct resolve_ctx *rc, const char *addr,
				 struct resolved *out);
const char *resolve_class_name(enum resolve_class cls);

/* Domain is final for us: mydestination or an interface [literal]. */
int resolve_is_local(struct resolve_ctx *rc, const char *domain);
/* is_local_domain callback for table_find(TABLE_SEARCH_VIRTUAL): myorigin too. */
bool resolve_local_domain_cb(const char *domain, void *ctx);
const char *resolve_myorigin(const struct resolve_ctx *rc);

/*
 * Match lists. parent: bare "example.com" also matches subdomains.
 * resolve_list_match_* return 1 (match), 0 (no match, or a "!" entry
 * matched first), -1 (table failure; err says which).
 */
struct resolve_list *resolve_list_new(const char *param, const char *value,
				      bool parent, struct buf *err);
void resolve_list_free(struct resolve_list **lp);
bool resolve_list_empty(const struct resolve_list *l);
int resolve_list_match_domain(struct resolve_list *l, const char *domain,
			      struct buf *err);
int resolve_list_match_host(struct resolve_list *l, const char *name,
			    const char *addr, struct buf *err);

/* parent_domain_matches_subdomains names this feature (e.g. "relay_domains"). */
bool resolve_parent_style(struct config *cf, const char *feature);

#endif
