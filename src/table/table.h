/*
 * table - Postfix-style lookup tables ("type:name") and table lists.
 *
 * Every lookup is three-state: found, not found, temporary failure. Only a
 * temporary failure becomes a 4xx or a deferral; it is never "not found".
 *
 * A table list ("texthash:/a, pcre:/b") is searched per key, table after
 * table: the first table that has the key wins. Partial keys derived from
 * an address (user@, @domain, domain, parents, bare user) go only to
 * fixed-string tables (TABLE_P_FIXED); pattern tables (regexp, pcre, cidr,
 * tcp, socketmap) see only the full key. unionmap/pipemap take the
 * property of their first member.
 *
 * The derived-key searches of access(5), virtual(5)/canonical(5) and
 * transport(5) live in table_search.c (table_find). Bad input: open
 * errors fill err with the reason ("FILE, line N: reason", "open FILE:
 * strerror", 'unsupported table type: x', ...) and return NULL; the caller
 * decides whether that is fatal. Bad rules in regexp/pcre/cidr files are
 * warned about and skipped like Postfix does, unless TABLE_F_STRICT.
 *
 * Empty results are errors (TABLE_TEMPFAIL, "empty string result is not
 * allowed"). A table whose file changed is re-read before the next lookup
 * (checked at most every 20 ms); if that fails, the old contents stay
 * and a warning is logged. A table (and a list) is for one thread at a
 * time.
 */
#ifndef OUTPOST_TABLE_TABLE_H
#define OUTPOST_TABLE_TABLE_H

#include <stdbool.h>

#include "lib/buf.h"

enum table_status {
	TABLE_TEMPFAIL = -1,	/* lookup error: defer, never "not found" */
	TABLE_NOTFOUND = 0,
	TABLE_FOUND = 1,
};

/* open flags */
#define TABLE_F_FOLD		(1u << 0)	/* (the default; no need to pass it) */
#define TABLE_F_NOFOLD		(1u << 1)	/* keep case (postmap -f) */
#define TABLE_F_CREATE		(1u << 2)	/* for writers: create if missing */
#define TABLE_F_WRITE		(1u << 3)	/* open for update (-i / -d) */
#define TABLE_F_STRICT		(1u << 4)	/* a bad rule in a pattern file fails the open
						   (default: warn and skip it, as Postfix) */
#define TABLE_F_EMPTY_OK	(1u << 5)	/* postmap -q compatibility: an empty result is
						   found (with a warning), not an error */
#define TABLE_F_UTF8		(1u << 6)	/* smtputf8_enable = yes: a key that is not valid
						   UTF-8 is not found (with a warning), as Postfix */

/* table properties */
#define TABLE_P_FIXED		(1u << 0)	/* fixed strings: receives partial keys */
#define TABLE_P_PATTERN		(1u << 1)	/* pattern table: full keys only */

struct table;
struct table_list;

struct table *table_open(const char *spec, unsigned flags, struct buf *err);
enum table_status table_lookup(struct table *t, const char *key, struct buf *value);
void table_prefetch(struct table *t, const char *key, size_t len);
const char *table_error(const struct table *t);
unsigned table_props(const struct table *t);
const char *table_spec(const struct table *t);
void table_close(struct table **tp);

struct table_list *table_list_open(const char *value, unsigned flags, struct buf *err);
enum table_status table_list_lookup(struct table_list *l, const char *key,
				    bool partial_key, struct buf *value,
				    const struct table **answered);
const char *table_list_error(const struct table_list *l);
size_t table_list_count(const struct table_list *l);
struct table *table_list_member(const struct table_list *l, size_t i);
void table_list_close(struct table_list **lp);

/* Derived-key searches (table_search.c). */
enum table_search {
	TABLE_SEARCH_ACCESS,	/* access(5) on an address: user+ext@d, user@d, d, parents, user+ext@, user@ */
	TABLE_SEARCH_VIRTUAL,	/* virtual(5)/canonical(5): user+ext@d, user@d, user+ext, user (local only), @d */
	TABLE_SEARCH_TRANSPORT,	/* transport(5): user+ext@d, user@d, d, .parents, * */
	TABLE_SEARCH_HOST,	/* access(5) on a host name or address: name+parents / IP octets */
};

/*
 * Options of a derived-key search. A zeroed struct is valid and means
 * Postfix's defaults where there is one (owner-request special handling
 * on, double-bounce named "double-bounce", no delimiter, no local domains).
 */
struct table_search_opts {
	const char *recipient_delimiter;	/* a set of characters; NULL or "" = none */
	bool parent_matches_subdomains;		/* "example.com" matches sub.example.com */
	bool split_owner_request;		/* owner_request_special = no: split
						   owner-* and *-request too */
	const char *double_bounce_sender;	/* never split; NULL = "double-bounce" */
	/* virtual search: is this domain local (myorigin, mydestination, interfaces)? */
	bool (*is_local_domain)(const char *domain, void *ctx);
	void *ctx;
	/* --trace: every (key, table) tried and its outcome */
	void (*trace)(const char *key, const char *table_spec,
		      enum table_status st, const char *value, void *ctx);
	void *trace_ctx;
};

/* What a derived-key search found, beyond the value. */
struct table_match {
	struct buf key;		/* the key that matched */
	struct buf extension;	/* the extension stripped to find it, with its
				   delimiter ("+foo"), or "" if the key kept it */
};

/*
 * table_find - try the keys of `how` for query, most specific first; each
 * key goes to every table of the list (partial keys only to fixed-string
 * tables) before the next key is tried. The first hit ends the search, so
 * an access(5) "DUNNO" found for a specific key naturally stops the
 * less specific ones: the caller treats that value as "not found". A
 * lookup error ends the search with TABLE_TEMPFAIL and the reason in
 * table_list_error(l). match (may be NULL) gets the key that matched and
 * the stripped extension, for propagate_unmatched_extensions.
 * o may be NULL (defaults). The key sequences are documented in
 * table_search.c.
 */
enum table_status table_find(struct table_list *l, enum table_search how,
			     const char *query, const struct table_search_opts *o,
			     struct buf *value, struct table_match *match);
void table_match_free(struct table_match *m);

#endif
