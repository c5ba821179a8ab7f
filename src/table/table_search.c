/*
 * table_search - the derived-key searches of access(5), virtual(5) /
 * canonical(5) and transport(5) over a table list.
 *
 * Public: table_find, table_match_free.
 *
 * Keys, most specific first ("partial" keys go to fixed tables only; an
 * extension is stripped only when a recipient_delimiter character occurs
 * in the localpart after its first character, at the first such
 * character; postmaster, mailer-daemon and the double-bounce name are
 * never split, nor, when '-' is a delimiter, owner-* and *-request unless
 * split_owner_request):
 *
 *   ACCESS  user+ext@dom; user@dom (p); dom, then parents (p); user+ext@ (p);
 *           user@ (p). Parents: "example.com", "com" when
 *           parent_matches_subdomains, else ".example.com", ".com"; none
 *           for an address literal ("[192.0.2.1]").
 *   VIRTUAL user+ext@dom; user@dom (p); when is_local_domain(dom):
 *           user+ext (p), user (p); @dom (p).
 *   TRANSPORT user+ext@dom; user@dom (p); dom (p); parents as above (p); * (p).
 *   HOST    a name: name, then parents (p). An IPv4 address: 1.2.3.4,
 *           1.2.3 (p), 1.2 (p), 1 (p); IPv6: the address, then cut at
 *           each ':' from the right (p). "[addr]" is accepted.
 *
 * A query without '@' (ACCESS/VIRTUAL/TRANSPORT) gets the full key, then
 * the extension-stripped localpart (p).
 *
 * Bad input: none is rejected; an empty query is looked up as given.
 * Lookup errors return TABLE_TEMPFAIL (reason in table_list_error).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "table/table_impl.h"

struct search {
	struct table_list *l;
	const struct table_search_opts *o;
	struct buf *value;
	struct table_match *match;
	struct buf key;
	const char *ext;	/* the extension with its delimiter, "" when none */
	enum table_status st;
};

/* search_try - one key against every table; true when the search is over */
static bool search_try(struct search *s, const char *key, bool partial, bool without_ext)
{
	for (size_t i = 0; i < s->l->n; i++) {
		struct table *t = s->l->v[i];
		enum table_status st;

		if (partial && !(table_props(t) & TABLE_P_FIXED))
			continue;
		st = table_lookup(t, key, s->value);
		if (s->o->trace)
			s->o->trace(key, table_spec(t), st, buf_cstr(s->value), s->o->trace_ctx);
		if (st == TABLE_NOTFOUND)
			continue;
		s->st = st;
		if (st == TABLE_TEMPFAIL) {
			buf_set(&s->l->err, table_error(t));
		} else if (s->match) {
			buf_set(&s->match->key, key);
			buf_set(&s->match->extension, without_ext ? s->ext : "");
		}
		return true;
	}
	return false;
}

/* search_tryf - build a key with printf and try it */
__attribute__((format(printf, 4, 5)))
static bool search_tryf(struct search *s, bool partial, bool without_ext, const char *fmt, ...)
{
	va_list ap;

	buf_reset(&s->key);
	va_start(ap, fmt);
	buf_vprintf(&s->key, fmt, ap);
	va_end(ap);
	return search_try(s, buf_cstr(&s->key), partial, without_ext);
}

/* search_no_split - localparts whose extension is never stripped */
static bool search_no_split(const char *local, size_t n, const struct table_search_opts *o)
{
	const char *dbl = o->double_bounce_sender ? o->double_bounce_sender : "double-bounce";
	const char *delims = o->recipient_delimiter;

	if ((n == 10 && strncasecmp(local, "postmaster", n) == 0) ||
	    (n == 13 && strncasecmp(local, "mailer-daemon", n) == 0) ||
	    (n == strlen(dbl) && strncasecmp(local, dbl, n) == 0))
		return true;
	if (strchr(delims, '-') && !o->split_owner_request) {
		if (n >= 6 && strncasecmp(local, "owner-", 6) == 0)
			return true;
		if (n > 8 && strncasecmp(local + n - 8, "-request", 8) == 0)
			return true;
	}
	return false;
}

/* search_split - length of the localpart without its extension (n if none) */
static size_t search_split(const char *local, size_t n, const struct table_search_opts *o)
{
	const char *delims = o->recipient_delimiter;

	if (delims == NULL || *delims == '\0' || search_no_split(local, n, o))
		return n;
	for (size_t i = 1; i < n; i++)
		if (strchr(delims, local[i]))
			return i;
	return n;
}

/* search_parents - dom's parent domains, in the style the options ask for */
static bool search_parents(struct search *s, const char *dom)
{
	if (*dom == '[')	/* an address literal has no parents */
		return false;
	for (const char *dot = strchr(dom, '.'); dot && dot[1]; dot = strchr(dot + 1, '.')) {
		const char *key = s->o->parent_matches_subdomains ? dot + 1 : dot;

		if (search_try(s, key, true, true))
			return true;
	}
	return false;
}

/* search_address - ACCESS, VIRTUAL and TRANSPORT on an address */
static void search_address(struct search *s, enum table_search how, const char *query)
{
	const char *at = strrchr(query, '@');
	size_t llen = at ? (size_t)(at - query) : strlen(query);
	size_t base = search_split(query, llen, s->o);
	bool split = base < llen;
	const char *dom = at ? at + 1 : NULL;
	struct buf ext = BUF_INIT;

	buf_append(&ext, query + base, llen - base);
	buf_puts(&ext, "");
	s->ext = buf_cstr(&ext);
	if (search_try(s, query, false, false))
		goto out;
	if (dom == NULL) {
		if (split)
			search_tryf(s, true, true, "%.*s", (int)base, query);
		goto out;
	}
	if (split && search_tryf(s, true, true, "%.*s@%s", (int)base, query, dom))
		goto out;
	switch (how) {
	case TABLE_SEARCH_ACCESS:
		if (search_try(s, dom, true, true) || search_parents(s, dom))
			break;
		if (search_tryf(s, true, false, "%.*s@", (int)llen, query))
			break;
		if (split)
			search_tryf(s, true, true, "%.*s@", (int)base, query);
		break;
	case TABLE_SEARCH_VIRTUAL:
		if (s->o->is_local_domain && s->o->is_local_domain(dom, s->o->ctx)) {
			if (search_tryf(s, true, false, "%.*s", (int)llen, query))
				break;
			if (split && search_tryf(s, true, true, "%.*s", (int)base, query))
				break;
		}
		search_tryf(s, true, true, "@%s", dom);
		break;
	case TABLE_SEARCH_TRANSPORT:
		if (search_try(s, dom, true, true) || search_parents(s, dom))
			break;
		search_try(s, "*", true, true);
		break;
	case TABLE_SEARCH_HOST:
		break;
	}
out:
	buf_free(&ext);
	s->ext = "";
}

/* search_host - HOST: a name with its parents, or an address cut short */
static void search_host(struct search *s, const char *query)
{
	unsigned char bin[16];
	char addr[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(query);
	char sep;

	s->ext = "";
	snprintf(addr, sizeof(addr), "%s", query);
	if (n >= 2 && query[0] == '[' && query[n - 1] == ']' && n - 2 < sizeof(addr))
		snprintf(addr, sizeof(addr), "%.*s", (int)(n - 2), query + 1);
	if (inet_pton(AF_INET, addr, bin) == 1) {
		sep = '.';
	} else if (inet_pton(AF_INET6, addr, bin) == 1) {
		inet_ntop(AF_INET6, bin, addr, sizeof(addr));
		sep = ':';
	} else {
		if (!search_try(s, query, false, false))
			search_parents(s, query);
		return;
	}
	for (bool partial = false;; partial = true) {
		char *cut;

		if (search_try(s, addr, partial, false))
			return;
		if ((cut = strrchr(addr, sep)) == NULL)
			return;
		*cut = '\0';
		if (addr[0] == '\0')
			return;
	}
}

/* table_find - the derived-key search of `how` (see the file comment) */
enum table_status table_find(struct table_list *l, enum table_search how, const char *query,
			     const struct table_search_opts *o, struct buf *value,
			     struct table_match *match)
{
	static const struct table_search_opts defaults;
	struct search s = { l, o ? o : &defaults, value, match, BUF_INIT, "", TABLE_NOTFOUND };

	buf_reset(&l->err);
	buf_reset(value);
	if (match) {
		buf_set(&match->key, "");
		buf_set(&match->extension, "");
	}
	if (how == TABLE_SEARCH_HOST)
		search_host(&s, query);
	else
		search_address(&s, how, query);
	if (s.st != TABLE_FOUND)
		buf_reset(value);
	buf_free(&s.key);
	return s.st;
}

/* table_match_free - release the buffers of a match */
void table_match_free(struct table_match *m)
{
	buf_free(&m->key);
	buf_free(&m->extension);
}
