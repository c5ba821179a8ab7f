/*
 * table_cidr - "cidr:/path": IPv4 and IPv6 networks, first match wins.
 *
 * Lines: "NETWORK/LEN result", "ADDRESS result", "!NETWORK/LEN result"
 * (matches addresses outside the network), "if [!]NETWORK/LEN" ...
 * "endif". Addresses may be written in brackets ("[2001:db8::]/32",
 * "[2001:db8::/32]").
 * A query that is not an IP address finds nothing.
 *
 * Public: table_cidr_ops (via table_registry.c).
 * Bad input, as Postfix ("cidr map FILE, line N: reason: skipping this
 * rule", or an open error with TABLE_F_STRICT): bad address, bad mask
 * length, host bits set below the mask (with the network to use instead),
 * no result; ENDIF without IF is ignored, IF without ENDIF runs to the end.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <stdio.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "table/table_impl.h"

enum cidr_kind { CIDR_MATCH, CIDR_IF, CIDR_ENDIF };

struct cidr_rule {
	enum cidr_kind kind;
	bool negate;
	int family;
	unsigned char net[16];
	int bits;
	char *result;
	size_t skip;	/* CIDR_IF: index after its ENDIF */
	long line;
};

struct cidr {
	struct cidr_rule *rules;
	size_t n, cap;
	size_t *ifs, nifs;
	struct table_stamp stamp;
};

struct cidr_parse {
	struct table *t;
	struct cidr *c;
	struct buf *err;
};

/* cidr_addr - parse an address for family and bytes; 0 on success */
static int cidr_addr(const char *s, int *family, unsigned char *bytes)
{
	if (inet_pton(AF_INET, s, bytes) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, bytes) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

/* cidr_in - is addr inside net/bits */
static bool cidr_in(const unsigned char *addr, const unsigned char *net, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(addr, net, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));

	return (addr[full] & mask) == net[full];
}

/* cidr_network - parse "addr[/len]" into r; NULL or a reason */
static const char *cidr_network(char *spec, struct cidr_rule *r, struct buf *why)
{
	char *slash, *addr = spec, orig[256];
	long bits;
	int maxbits;
	unsigned char masked[16];

	snprintf(orig, sizeof(orig), "%s", addr);
	if (addr[0] == '[' && strchr(addr, '/') && addr[strlen(addr) - 1] == ']') {
		addr[strlen(addr) - 1] = '\0';	/* "[net/len]" */
		addr++;
	}
	slash = strchr(addr, '/');
	if (slash)
		*slash = '\0';
	if (*addr == '[') {
		size_t n = strlen(addr);

		if (n < 2 || addr[n - 1] != ']')
			goto bad;
		addr[n - 1] = '\0';
		addr++;
	}
	if (cidr_addr(addr, &r->family, r->net) < 0)
		goto bad;
	maxbits = r->family == AF_INET ? 32 : 128;
	if (slash == NULL) {
		r->bits = maxbits;
		return NULL;
	}
	*slash = '/';
	if (!str_is_digits(slash + 1) || str_parse_long(slash + 1, &bits) < 0) {
		buf_printf(why, "bad mask value in \"%s\"", orig);
		return buf_cstr(why);
	}
	if (bits > maxbits) {
		buf_printf(why, "bad mask length in \"%s\"", orig);
		return buf_cstr(why);
	}
	r->bits = (int)bits;
	memset(masked, 0, sizeof(masked));
	memcpy(masked, r->net, (size_t)(r->bits / 8));
	if (r->bits % 8)
		masked[r->bits / 8] = r->net[r->bits / 8] & (unsigned char)(0xff << (8 - r->bits % 8));
	if (memcmp(masked, r->net, (size_t)maxbits / 8) != 0) {
		char text[INET6_ADDRSTRLEN];

		inet_ntop(r->family, masked, text, sizeof(text));
		buf_printf(why,
			   "non-null host address bits in \"%s\", perhaps you should use \"%s/%d\" instead",
			   orig, text, r->bits);
		return buf_cstr(why);
	}
	return NULL;
bad:
	buf_printf(why, "bad address pattern: \"%s\"", orig);
	return buf_cstr(why);
}

/* cidr_add - append a rule */
static struct cidr_rule *cidr_add(struct cidr *c, const struct cidr_rule *r)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->rules = xreallocarray(c->rules, c->cap, sizeof(*c->rules));
	}
	c->rules[c->n] = *r;
	return &c->rules[c->n++];
}

/* cidr_keyword - word (any case) at the start of line, not followed by alnum */
static bool cidr_keyword(const char *line, const char *word)
{
	size_t n = strlen(word);

	return strncasecmp(line, word, n) == 0 && !isalnum((unsigned char)line[n]);
}

/* cidr_line - one logical line */
static int cidr_line(char *line, long lineno, void *ctx)
{
	struct cidr_parse *p = ctx;
	struct cidr *c = p->c;
	struct cidr_rule r = { .line = lineno };
	struct buf why = BUF_INIT;
	const char *bad;
	char *spec, *rest;
	bool is_if = false;
	int rc = 0;

	if (cidr_keyword(line, "endif")) {
		if (c->nifs == 0) {
			rc = table_syntax(p->t, p->err,
					  "cidr map %s, line %ld: ignoring ENDIF without matching IF",
					  p->t->name, lineno);
		} else {
			c->rules[c->ifs[--c->nifs]].skip = c->n + 1;
			r.kind = CIDR_ENDIF;
			cidr_add(c, &r);
		}
		return rc;
	}
	if (cidr_keyword(line, "if")) {
		is_if = true;
		line = str_trim(line + 2);
	}
	line += strspn(line, STR_SPACE);
	while (*line == '!') {	/* each '!' toggles, as in Postfix */
		r.negate = !r.negate;
		line++;
		line += strspn(line, STR_SPACE);
	}
	spec = line;
	rest = spec + strcspn(spec, STR_SPACE);
	if (*rest)
		*rest++ = '\0';
	rest = str_trim(rest);
	if ((bad = cidr_network(spec, &r, &why)) != NULL) {
		rc = table_syntax(p->t, p->err, "cidr map %s, line %ld: %s: skipping this rule",
				  p->t->name, lineno, bad);
	} else if (is_if) {
		if (*rest)
			log_warn("cidr map %s, line %ld: ignoring extra text after IF statement: \"%s\"",
				 p->t->name, lineno, rest);
		r.kind = CIDR_IF;
		cidr_add(c, &r);
		c->ifs = xreallocarray(c->ifs, c->nifs + 1, sizeof(*c->ifs));
		c->ifs[c->nifs++] = c->n - 1;
	} else if (*rest == '\0') {
		rc = table_syntax(p->t, p->err,
				  "cidr map %s, line %ld: no lookup result: skipping this rule",
				  p->t->name, lineno);
	} else {
		r.kind = CIDR_MATCH;
		r.result = xstrdup(rest);
		cidr_add(c, &r);
	}
	buf_free(&why);
	return rc;
}

/* cidr_free - release the rules */
static void cidr_free(struct cidr *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->rules[i].result);
	free(c->rules);
	free(c->ifs);
	free(c);
}

/* cidr_open - read the file */
static int cidr_open(struct table *t, const char *name, struct buf *err)
{
	struct cidr *c = xcalloc(1, sizeof(*c));
	struct cidr_parse p = { t, c, err };

	table_stamp_get(name, &c->stamp);
	if (table_source_lines(name, cidr_line, &p, err) < 0) {
		cidr_free(c);
		return -1;
	}
	while (c->nifs > 0) {
		struct cidr_rule *r = &c->rules[c->ifs[--c->nifs]];

		if (table_syntax(t, err, "cidr map %s, line %ld: IF has no matching ENDIF", name,
				 r->line) < 0) {
			cidr_free(c);
			return -1;
		}
		r->skip = c->n;
	}
	t->priv = c;
	return 0;
}

/* cidr_lookup - first rule whose network (or negation) holds the address */
static enum table_status cidr_lookup(struct table *t, const char *key, struct buf *value)
{
	struct cidr *c = t->priv;
	unsigned char addr[16];
	int family;
	size_t i = 0;

	if (cidr_addr(key, &family, addr) < 0)
		return TABLE_NOTFOUND;
	while (i < c->n) {
		const struct cidr_rule *r = &c->rules[i];
		bool m;

		if (r->kind == CIDR_ENDIF) {
			i++;
			continue;
		}
		/* another address family never matches, negated or not (as Postfix) */
		m = r->family == family && cidr_in(addr, r->net, r->bits) != r->negate;
		if (r->kind == CIDR_IF) {
			i = m ? i + 1 : r->skip;
			continue;
		}
		if (m) {
			buf_puts(value, r->result);
			return TABLE_FOUND;
		}
		i++;
	}
	return TABLE_NOTFOUND;
}

/* cidr_close - release the rules */
static void cidr_close(struct table *t)
{
	cidr_free(t->priv);
	t->priv = NULL;
}

/* cidr_stale - did the file change since it was read? */
static int cidr_stale(struct table *t)
{
	struct cidr *c = t->priv;

	return table_stamp_changed(t->name, &c->stamp);
}

const struct table_ops table_cidr_ops = {
	.type = "cidr",
	.props = TABLE_P_PATTERN,
	.open = cidr_open,
	.lookup = cidr_lookup,
	.close = cidr_close,
	.stale = cidr_stale,
};
