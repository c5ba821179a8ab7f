/*
 * resolve_list - Postfix-style match lists of domains and networks
 * (mydestination, relay_domains, virtual_*_domains, mynetworks, …).
 *
 * Public: resolve_list_new, resolve_list_free, resolve_list_empty,
 * resolve_list_match_domain, resolve_list_match_host, resolve_parent_style.
 *
 * Entries are tried left to right; the first that matches decides, and a
 * "!" entry that matches means "no match". "/path" includes the patterns
 * of a file, "type:name" is looked up in a table (the value is ignored),
 * "1.2.3.0/24" or "[2001:db8::]/32" are networks, anything else a domain
 * pattern (".example.com" = subdomains only; "example.com" = itself, and
 * its subdomains when the parameter is in parent_domain_matches_subdomains).
 *
 * Bad input: resolve_list_new() reports a bad CIDR, an unreadable file or
 * a table that does not open, prefixed with the parameter name.
 */
#include "mail/resolve.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/mem.h"
#include "lib/str.h"
#include "table/table.h"

enum entry_kind { ENTRY_DOMAIN, ENTRY_NET, ENTRY_TABLE };

struct entry {
	enum entry_kind kind;
	bool negate;
	char *pattern;		/* lower case domain pattern, or table spec */
	struct table *table;
	int family;		/* ENTRY_NET */
	unsigned char net[16];
	int bits;
};

struct resolve_list {
	char *param;
	bool parent;
	struct entry *v;
	size_t n;
};

/* is_table_spec - "type:name" with a plausible type word (not an IPv6 address) */
static bool is_table_spec(const char *s)
{
	const char *colon = strchr(s, ':');

	if (colon == NULL || colon == s || !isalpha((unsigned char)s[0]))
		return false;
	for (const char *p = s; p < colon; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return false;
	/* "fe80:..." would pass the above: a type is never all hex digits + ':' + ':' */
	return colon[1] != ':' && colon[1] != '\0';
}

/* parse_net - "a.b.c.d[/n]", "[v6][/n]", "v6/n"; 1 on success */
static int parse_net(const char *s, struct entry *e)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *slash = strrchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	long bits = -1;

	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		s++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return 0;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, e->net) == 1)
		e->family = AF_INET;
	else if (inet_pton(AF_INET6, host, e->net) == 1)
		e->family = AF_INET6;
	else
		return 0;
	if (slash) {
		if (!str_is_digits(slash + 1) || str_parse_long(slash + 1, &bits) < 0)
			return -1;
		if (bits > (e->family == AF_INET ? 32 : 128))
			return -1;
	}
	e->bits = bits < 0 ? (e->family == AF_INET ? 32 : 128) : (int)bits;
	/* Postfix refuses "1.2.3.4/24": host bits must be zero */
	for (int i = e->bits; i < (e->family == AF_INET ? 32 : 128); i++)
		if (e->net[i / 8] & (0x80 >> (i % 8)))
			return -1;
	return 1;
}

static int add_entries(struct resolve_list *l, const char *value, int depth,
		       struct buf *err);

/* add_file - include the patterns of a "/path" entry */
static int add_file(struct resolve_list *l, const char *path, bool negate,
		    int depth, struct buf *err)
{
	FILE *fp;
	char line[4096];
	struct buf text = BUF_INIT;
	int rc;

	if (negate) {
		buf_printf(err, "%s: \"!%s\": negated file patterns are not supported",
			   l->param, path);
		return -1;
	}
	if (depth > 10 || (fp = fopen(path, "r")) == NULL) {
		buf_printf(err, "%s: open %s: %s", l->param, path,
			   depth > 10 ? "too deeply nested" : strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *hash = strchr(line, '#');

		if (hash)
			*hash = '\0';
		buf_puts(&text, line);
		buf_putc(&text, ' ');
	}
	fclose(fp);
	rc = add_entries(l, buf_cstr(&text), depth + 1, err);
	buf_free(&text);
	return rc;
}

/* add_entry - one pattern of the list */
static int add_entry(struct resolve_list *l, const char *tok, int depth,
		     struct buf *err)
{
	struct entry e;
	bool negate = false;
	int rc;

	memset(&e, 0, sizeof(e));
	while (*tok == '!') {
		negate = !negate;
		tok++;
	}
	if (*tok == '\0')
		return 0;
	if (*tok == '/')
		return add_file(l, tok, negate, depth, err);
	e.negate = negate;
	if ((rc = parse_net(tok, &e)) != 0) {
		if (rc < 0) {
			buf_printf(err, "%s: bad network pattern \"%s\"", l->param, tok);
			return -1;
		}
		e.kind = ENTRY_NET;
	} else if (is_table_spec(tok)) {
		struct buf terr = BUF_INIT;

		e.kind = ENTRY_TABLE;
		e.table = table_open(tok, TABLE_F_FOLD, &terr);
		if (e.table == NULL) {
			buf_printf(err, "%s: %s", l->param, buf_cstr(&terr));
			buf_free(&terr);
			return -1;
		}
		buf_free(&terr);
		e.pattern = xstrdup(tok);
	} else {
		e.kind = ENTRY_DOMAIN;
		e.pattern = str_lower_dup(tok);
		if (str_has_suffix(e.pattern, ".") && strlen(e.pattern) > 1)
			e.pattern[strlen(e.pattern) - 1] = '\0';
	}
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = e;
	return 0;
}

/* add_entries - split a value on commas and white space, keeping { } whole */
static int add_entries(struct resolve_list *l, const char *value, int depth,
		       struct buf *err)
{
	struct strv toks = STRV_INIT;
	const char *why = NULL;
	int rc = 0;

	if (str_split(value, STR_SEP_LIST, &toks, &why) < 0) {
		buf_printf(err, "%s: %s", l->param, why);
		strv_free(&toks);
		return -1;
	}
	for (size_t i = 0; i < toks.n && rc == 0; i++)
		rc = add_entry(l, toks.v[i], depth, err);
	strv_free(&toks);
	return rc;
}

/* resolve_list_new - parse a match list; NULL with err on bad input */
struct resolve_list *resolve_list_new(const char *param, const char *value,
				      bool parent, struct buf *err)
{
	struct resolve_list *l = xcalloc(1, sizeof(*l));

	l->param = xstrdup(param);
	l->parent = parent;
	if (add_entries(l, value ? value : "", 0, err) < 0)
		resolve_list_free(&l);
	return l;
}

/* resolve_list_free - close tables and free */
void resolve_list_free(struct resolve_list **lp)
{
	struct resolve_list *l = *lp;

	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++) {
		xfree(&l->v[i].pattern);
		if (l->v[i].table)
			table_close(&l->v[i].table);
	}
	free(l->v);
	free(l->param);
	xfree(lp);
}

/* resolve_list_empty - no entries at all (e.g. relay_recipient_maps unset) */
bool resolve_list_empty(const struct resolve_list *l)
{
	return l == NULL || l->n == 0;
}

/* domain_pattern_match - one domain pattern against a lower-case name */
static bool domain_pattern_match(const struct resolve_list *l, const char *pat,
				 const char *name)
{
	size_t pl = strlen(pat), nl = strlen(name);

	if (strcmp(pat, name) == 0)
		return true;
	if (pat[0] == '.')	/* ".example.com": strict subdomains */
		return nl > pl && strcmp(name + nl - pl, pat) == 0;
	if (l->parent && nl > pl && name[nl - pl - 1] == '.')
		return strcmp(name + nl - pl, pat) == 0;
	return false;
}

/* table_domain_match - name, then parents ("example.com" or ".example.com" style) */
static int table_domain_match(struct resolve_list *l, struct entry *e,
			      const char *name, struct buf *err)
{
	struct buf val = BUF_INIT;
	enum table_status st = table_lookup(e->table, name, &val);
	const char *p = name;

	while (st == TABLE_NOTFOUND && (p = strchr(p + 1, '.')) != NULL)
		st = table_lookup(e->table, l->parent ? p + 1 : p, &val);
	buf_free(&val);
	if (st == TABLE_TEMPFAIL) {
		buf_printf(err, "%s: %s: lookup of \"%s\" failed: %s", l->param,
			   e->pattern, name, table_error(e->table));
		return -1;
	}
	return st == TABLE_FOUND;
}

/* resolve_list_match_domain - 1 match, 0 none, -1 table failure */
int resolve_list_match_domain(struct resolve_list *l, const char *domain,
			      struct buf *err)
{
	return resolve_list_match_host(l, domain, NULL, err);
}

/* net_match - address string inside a network entry */
static bool net_match(const struct entry *e, const char *addr)
{
	unsigned char a[16];
	const char *p = addr;
	char tmp[INET6_ADDRSTRLEN + 2];
	size_t len = strlen(addr);

	if (len >= 2 && addr[0] == '[' && addr[len - 1] == ']' && len - 2 < sizeof(tmp)) {
		memcpy(tmp, addr + 1, len - 2);
		tmp[len - 2] = '\0';
		p = tmp;
	}
	if (inet_pton(e->family, p, a) != 1) {
		/* an IPv4 entry also matches the IPv4-mapped IPv6 form */
		if (e->family == AF_INET && strncasecmp(p, "::ffff:", 7) == 0)
			return net_match(e, p + 7);
		return false;
	}
	for (int i = 0; i < e->bits; i++) {
		unsigned char m = (unsigned char)(0x80 >> (i % 8));

		if ((a[i / 8] & m) != (e->net[i / 8] & m))
			return false;
	}
	return true;
}

/*
 * resolve_list_match_host - a client (name and/or address) against the
 * list; name patterns see the name, networks the address, tables both.
 */
int resolve_list_match_host(struct resolve_list *l, const char *name,
			    const char *addr, struct buf *err)
{
	char *lname = name ? str_lower_dup(name) : NULL;
	int result = 0;

	if (lname && str_has_suffix(lname, ".") && strlen(lname) > 1)
		lname[strlen(lname) - 1] = '\0';
	for (size_t i = 0; l && i < l->n; i++) {
		struct entry *e = &l->v[i];
		int m = 0;

		switch (e->kind) {
		case ENTRY_DOMAIN:
			m = lname && *lname && domain_pattern_match(l, e->pattern, lname);
			break;
		case ENTRY_NET:
			m = (addr && net_match(e, addr)) ||
			    (!addr && lname && net_match(e, lname));
			break;
		case ENTRY_TABLE:
			if (addr) {
				struct buf val = BUF_INIT;
				enum table_status st = table_lookup(e->table, addr, &val);

				buf_free(&val);
				if (st == TABLE_TEMPFAIL) {
					buf_printf(err, "%s: %s: lookup of \"%s\" failed: %s",
						   l->param, e->pattern, addr,
						   table_error(e->table));
					m = -1;
				} else
					m = st == TABLE_FOUND;
			}
			if (m == 0 && lname && *lname && strcmp(lname, "unknown") != 0)
				m = table_domain_match(l, e, lname, err);
			break;
		}
		if (m < 0) {
			result = -1;
			break;
		}
		if (m) {
			result = e->negate ? 0 : 1;
			break;
		}
	}
	free(lname);
	return result;
}

/* resolve_parent_style - is FEATURE named in parent_domain_matches_subdomains? */
bool resolve_parent_style(struct config *cf, const char *feature)
{
	struct strv v = STRV_INIT;
	bool yes;

	config_list(cf, "parent_domain_matches_subdomains", &v);
	yes = strv_contains(&v, feature);
	strv_free(&v);
	return yes;
}
