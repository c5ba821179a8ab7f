/*
 * rewrite - address rewriting as Postfix's cleanup does it: the "local"
 * context (append_at_myorigin, append_dot_mydomain, bang paths, percent
 * hack), canonical(5) maps with canonical_classes, virtual(5) alias
 * expansion, masquerade_domains, generic(5) maps (the SMTP client's
 * smtp_generic_maps), and header addresses.
 *
 * Settings come in a plain struct (struct rewrite_cf) so the functions can
 * be tested without a main.cf; rewrite_cf_load() fills one from a config.
 * Tables are table lists searched with table_find(TABLE_SEARCH_VIRTUAL):
 * user+ext@domain, user@domain, user+ext and user (local domains only),
 * @domain.
 *
 * Errors: a table failure or an exceeded virtual_alias_* limit returns
 * REWRITE_DEFER with the reason in why, worded as Postfix logs it
 * ("unreasonable virtual_alias_maps map nesting for a@b -- message not
 * accepted, try again later"); the message must then not be accepted.
 */
#ifndef OUTPOST_MAIL_REWRITE_H
#define OUTPOST_MAIL_REWRITE_H

#include <stdbool.h>

#include "config/config.h"
#include "lib/buf.h"
#include "lib/str.h"
#include "table/table.h"

/* address classes (canonical_classes, masquerade_classes) */
#define REWRITE_ENV_SENDER	(1u << 0)
#define REWRITE_ENV_RECIPIENT	(1u << 1)
#define REWRITE_HDR_SENDER	(1u << 2)
#define REWRITE_HDR_RECIPIENT	(1u << 3)

enum rewrite_status {
	REWRITE_DEFER = -1,	/* table failure or limit: do not accept the message */
	REWRITE_OK = 0,
};

struct rewrite_cf {
	char *myorigin;
	char *mydomain;
	bool append_at_myorigin;
	bool append_dot_mydomain;
	bool swap_bangpath;
	bool allow_percent_hack;
	char *recipient_delimiter;
	bool propagate_canonical;	/* propagate_unmatched_extensions has "canonical" */
	bool propagate_virtual;		/* … has "virtual" */
	bool propagate_generic;		/* … has "generic" (smtp_generic_maps) */
	unsigned canonical_classes;
	unsigned sender_canonical_classes;
	unsigned recipient_canonical_classes;
	unsigned masquerade_classes;
	struct strv masquerade_domains;	/* "!sub.example.com" entries exempt */
	struct strv masquerade_exceptions;	/* local parts never masqueraded */
	long recursion_limit;
	long expansion_limit;
	long address_length_limit;
	struct table_list *canonical;
	struct table_list *sender_canonical;
	struct table_list *recipient_canonical;
	struct table_list *virtual_alias;
	/* local domain test for the virtual(5) search (myorigin, mydestination, …) */
	bool (*is_local_domain)(const char *domain, void *ctx);
	void *local_ctx;
};

void rewrite_cf_init(struct rewrite_cf *cf);
int rewrite_cf_load(struct rewrite_cf *rc, struct config *cf, struct buf *err);
void rewrite_cf_load_settings(struct rewrite_cf *rc, struct config *cf);
void rewrite_cf_free(struct rewrite_cf *cf);
unsigned rewrite_parse_classes(const char *value, struct buf *err);

void rewrite_local(const struct rewrite_cf *cf, const char *addr, struct buf *out);
int rewrite_canonical(const struct rewrite_cf *cf, struct table_list *maps,
		      const char *what, const char *addr, struct buf *out,
		      struct buf *why);
bool rewrite_masquerade(const struct rewrite_cf *cf, const char *addr,
			struct buf *out);
int rewrite_address(const struct rewrite_cf *cf, unsigned cls, const char *addr,
		    struct buf *out, struct buf *why);
int rewrite_virtual(const struct rewrite_cf *cf, const char *addr,
		    struct strv *out, struct buf *why);
int rewrite_map_lookup(const struct rewrite_cf *cf, struct table_list *maps,
		       const char *what, const char *addr, bool propagate,
		       struct strv *results, struct buf *why);
int rewrite_header(const struct rewrite_cf *cf, unsigned cls, const char *line,
		   size_t len, struct buf *out, bool *changed, struct buf *why);

/* One address (internal form) in, its replacement out; REWRITE_OK or REWRITE_DEFER. */
typedef int (*rewrite_addr_fn)(void *ctx, const char *addr, struct buf *out,
			       struct buf *why);
int rewrite_header_with(const char *line, size_t len, rewrite_addr_fn fn, void *ctx,
			struct buf *out, bool *changed, struct buf *why);
int rewrite_generic(const struct rewrite_cf *cf, struct table_list *maps,
		    const char *what, const char *addr, struct buf *out,
		    struct buf *why);

#endif
