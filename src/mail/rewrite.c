/*
 * rewrite - canonical(5), virtual(5), masquerading and the "local" rewrite
 * context, matching what Postfix 3.7's cleanup records (see the cases in
 * tests/fixtures/rewrite/).
 *
 * Public: rewrite_cf_init, rewrite_cf_load, rewrite_cf_free,
 * rewrite_parse_classes, rewrite_local, rewrite_canonical,
 * rewrite_masquerade, rewrite_address, rewrite_virtual, rewrite_header,
 * rewrite_header_with, rewrite_generic, rewrite_map_lookup,
 * rewrite_cf_load_settings.
 *
 * Bad input: an unknown class name in *_classes fails rewrite_cf_load()
 * with "name: unknown address class \"x\""; a table failure or a
 * virtual_alias_* limit makes the call return REWRITE_DEFER with why set.
 */
#include "mail/rewrite.h"

#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "mail/header.h"

#define CANONICAL_MAX_NESTING	100	/* canonical results are mapped again */

/* rewrite_cf_init - defaults as in Postfix with compatibility_level 3.6 */
void rewrite_cf_init(struct rewrite_cf *cf)
{
	memset(cf, 0, sizeof(*cf));
	cf->myorigin = xstrdup("localdomain");
	cf->mydomain = xstrdup("localdomain");
	cf->append_at_myorigin = true;
	cf->swap_bangpath = true;
	cf->allow_percent_hack = true;
	cf->recipient_delimiter = xstrdup("");
	cf->propagate_canonical = cf->propagate_virtual = true;
	cf->canonical_classes = REWRITE_ENV_SENDER | REWRITE_ENV_RECIPIENT |
				REWRITE_HDR_SENDER | REWRITE_HDR_RECIPIENT;
	cf->sender_canonical_classes = REWRITE_ENV_SENDER | REWRITE_HDR_SENDER;
	cf->recipient_canonical_classes = REWRITE_ENV_RECIPIENT | REWRITE_HDR_RECIPIENT;
	cf->masquerade_classes = REWRITE_ENV_SENDER | REWRITE_HDR_SENDER |
				 REWRITE_HDR_RECIPIENT;
	cf->recursion_limit = cf->expansion_limit = cf->address_length_limit = 1000;
}

/* rewrite_parse_classes - "envelope_sender, header_recipient" to bits */
unsigned rewrite_parse_classes(const char *value, struct buf *err)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
		{ "envelope_sender", REWRITE_ENV_SENDER },
		{ "envelope_recipient", REWRITE_ENV_RECIPIENT },
		{ "header_sender", REWRITE_HDR_SENDER },
		{ "header_recipient", REWRITE_HDR_RECIPIENT },
	};
	char *copy = xstrdup(value), *cur = copy, *tok;
	unsigned bits = 0;

	while ((tok = str_token(&cur, STR_SEP_LIST)) != NULL) {
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (str_eq_case(tok, names[i].name))
				break;
		if (i == sizeof(names) / sizeof(names[0])) {
			if (err)
				buf_printf(err, "unknown address class \"%s\"", tok);
			free(copy);
			return (unsigned)-1;
		}
		bits |= names[i].bit;
	}
	free(copy);
	return bits;
}

/* load_classes - one *_classes parameter */
static int load_classes(struct config *cf, const char *name, unsigned *out,
			struct buf *err)
{
	struct buf why = BUF_INIT;
	unsigned bits = rewrite_parse_classes(config_str(cf, name), &why);

	if (bits == (unsigned)-1) {
		buf_printf(err, "%s: %s", name, buf_cstr(&why));
		buf_free(&why);
		return -1;
	}
	*out = bits;
	return 0;
}

/* load_maps - open a *_maps parameter, NULL when empty */
static int load_maps(struct config *cf, const char *name, struct table_list **out,
		     struct buf *err)
{
	const char *v = config_str(cf, name);
	struct buf why = BUF_INIT;

	*out = NULL;
	if (str_is_blank(v))
		return 0;
	*out = table_list_open(v, TABLE_F_FOLD, &why);
	if (*out == NULL) {
		buf_printf(err, "%s: %s", name, buf_cstr(&why));
		buf_free(&why);
		return -1;
	}
	return 0;
}

/* rewrite_cf_load_settings - everything but the tables and classes, for
 * users of rewrite_map_lookup() that bring their own maps (smtp_generic_maps) */
void rewrite_cf_load_settings(struct rewrite_cf *rc, struct config *cf)
{
	struct strv prop = STRV_INIT;

	rewrite_cf_free(rc);
	rewrite_cf_init(rc);
	free(rc->myorigin);
	free(rc->mydomain);
	free(rc->recipient_delimiter);
	rc->myorigin = str_lower_dup(config_str(cf, "myorigin"));
	rc->mydomain = str_lower_dup(config_str(cf, "mydomain"));
	rc->recipient_delimiter = xstrdup(config_str(cf, "recipient_delimiter"));
	rc->append_at_myorigin = config_bool(cf, "append_at_myorigin");
	rc->append_dot_mydomain = config_bool(cf, "append_dot_mydomain");
	rc->swap_bangpath = config_bool(cf, "swap_bangpath");
	rc->allow_percent_hack = config_bool(cf, "allow_percent_hack");
	config_list(cf, "propagate_unmatched_extensions", &prop);
	rc->propagate_canonical = strv_contains_case(&prop, "canonical");
	rc->propagate_virtual = strv_contains_case(&prop, "virtual");
	rc->propagate_generic = strv_contains_case(&prop, "generic");
	strv_free(&prop);
	config_list(cf, "masquerade_domains", &rc->masquerade_domains);
	config_list(cf, "masquerade_exceptions", &rc->masquerade_exceptions);
	rc->recursion_limit = config_int(cf, "virtual_alias_recursion_limit");
	rc->expansion_limit = config_int(cf, "virtual_alias_expansion_limit");
	rc->address_length_limit = config_int(cf, "virtual_alias_address_length_limit");
}

/* rewrite_cf_load - settings and tables from main.cf */
int rewrite_cf_load(struct rewrite_cf *rc, struct config *cf, struct buf *err)
{
	rewrite_cf_load_settings(rc, cf);
	if (load_classes(cf, "canonical_classes", &rc->canonical_classes, err) < 0 ||
	    load_classes(cf, "sender_canonical_classes", &rc->sender_canonical_classes, err) < 0 ||
	    load_classes(cf, "recipient_canonical_classes", &rc->recipient_canonical_classes, err) < 0 ||
	    load_classes(cf, "masquerade_classes", &rc->masquerade_classes, err) < 0 ||
	    load_maps(cf, "canonical_maps", &rc->canonical, err) < 0 ||
	    load_maps(cf, "sender_canonical_maps", &rc->sender_canonical, err) < 0 ||
	    load_maps(cf, "recipient_canonical_maps", &rc->recipient_canonical, err) < 0 ||
	    load_maps(cf, "virtual_alias_maps", &rc->virtual_alias, err) < 0)
		return -1;
	return 0;
}

/* rewrite_cf_free - tables and strings; the struct may be loaded again */
void rewrite_cf_free(struct rewrite_cf *cf)
{
	xfree(&cf->myorigin);
	xfree(&cf->mydomain);
	xfree(&cf->recipient_delimiter);
	strv_free(&cf->masquerade_domains);
	strv_free(&cf->masquerade_exceptions);
	if (cf->canonical)
		table_list_close(&cf->canonical);
	if (cf->sender_canonical)
		table_list_close(&cf->sender_canonical);
	if (cf->recipient_canonical)
		table_list_close(&cf->recipient_canonical);
	if (cf->virtual_alias)
		table_list_close(&cf->virtual_alias);
}

/* rewrite_local - the "local" context: routes, bang paths, percent hack,
 * @myorigin for bare names, .mydomain for single-label domains */
void rewrite_local(const struct rewrite_cf *cf, const char *addr, struct buf *out)
{
	const char *colon, *at;
	char *bang, *pct;

	buf_reset(out);
	if (addr[0] == '@' && (colon = strchr(addr, ':')) != NULL)
		addr = colon + 1;	/* "@a,@b:user@d" */
	buf_puts(out, addr);
	if (out->len == 0)
		return;
	if (strrchr(out->data, '@') == NULL) {
		if (cf->swap_bangpath && (bang = strchr(out->data, '!')) != NULL &&
		    bang > out->data && bang[1] != '\0') {
			struct buf swapped = BUF_INIT;

			buf_printf(&swapped, "%s@%.*s", bang + 1, (int)(bang - out->data),
				   out->data);
			buf_set(out, buf_cstr(&swapped));
			buf_free(&swapped);
		} else if (cf->allow_percent_hack &&
			   (pct = strrchr(out->data, '%')) != NULL) {
			*pct = '@';
		}
	}
	at = strrchr(out->data, '@');
	if (at == NULL) {
		if (cf->append_at_myorigin && cf->myorigin && *cf->myorigin)
			buf_printf(out, "@%s", cf->myorigin);
		return;
	}
	if (out->len > 0 && out->data[out->len - 1] == '.' && at[1] != '\0')
		buf_truncate(out, out->len - 1);	/* "user@example.com." */
	at = strrchr(out->data, '@');
	if (cf->append_dot_mydomain && at[1] != '[' && at[1] != '\0' &&
	    strchr(at + 1, '.') == NULL && cf->mydomain && *cf->mydomain)
		buf_printf(out, ".%s", cf->mydomain);
}

/* search_opts - table_find() options from our settings */
static struct table_search_opts search_opts(const struct rewrite_cf *cf)
{
	struct table_search_opts o;

	memset(&o, 0, sizeof(o));
	o.recipient_delimiter = cf->recipient_delimiter;
	o.is_local_domain = cf->is_local_domain;
	o.ctx = cf->local_ctx;
	return o;
}

/* insert_extension - "user@d" + "+ext" -> "user+ext@d" */
static void insert_extension(const char *addr, const char *delim_ext, struct buf *out)
{
	const char *at = strrchr(addr, '@');

	buf_reset(out);
	if (at == NULL) {
		buf_printf(out, "%s%s", addr, delim_ext);
		return;
	}
	buf_printf(out, "%.*s%s%s", (int)(at - addr), addr, delim_ext, at);
}

/* delimited_extension - the stripped extension with its delimiter
 * (table_find reports it so; a bare one gets the first delimiter) */
static void delimited_extension(const struct rewrite_cf *cf, const char *ext,
				struct buf *out)
{
	buf_reset(out);
	if (*ext == '\0')
		return;
	if (cf->recipient_delimiter && *cf->recipient_delimiter &&
	    strchr(cf->recipient_delimiter, *ext) == NULL)
		buf_putc(out, *cf->recipient_delimiter);
	buf_puts(out, ext);
}

/* rewrite_map_lookup - one virtual(5)-style lookup; the result as a list
 * of internal-form addresses, with @domain, extension and local rewriting
 * applied. Returns 1 found, 0 not found, -1 table failure (why set). */
int rewrite_map_lookup(const struct rewrite_cf *cf, struct table_list *maps,
		      const char *what, const char *addr, bool propagate,
		      struct strv *results, struct buf *why)
{
	struct table_search_opts o = search_opts(cf);
	struct table_match m = { BUF_INIT, BUF_INIT };
	struct buf value = BUF_INIT, tmp = BUF_INIT, ext = BUF_INIT, one = BUF_INIT;
	struct header_addrs list = HEADER_ADDRS_INIT;
	enum table_status st;
	int ret = 0;

	st = table_find(maps, TABLE_SEARCH_VIRTUAL, addr, &o, &value, &m);
	if (st == TABLE_TEMPFAIL) {
		buf_printf(why, "%s map lookup problem for %s -- message not accepted, try again later",
			   what, addr);
		ret = -1;
		goto out;
	}
	if (st == TABLE_NOTFOUND)
		goto out;
	ret = 1;
	if (value.data[0] == '@') {
		/* "@domain": the same local part in another domain */
		const char *at = strrchr(addr, '@');

		buf_printf(&tmp, "%.*s%s", (int)(at ? at - addr : (long)strlen(addr)),
			   addr, value.data);
		if (propagate && m.extension.len > 0) {
			/* the local part of addr still has its extension */
			propagate = false;
		}
		/* the table value is in external form: quote the local part */
		header_addr_externalize(buf_cstr(&tmp), &value);
	}
	if (propagate)
		delimited_extension(cf, buf_cstr(&m.extension), &ext);
	header_addrs_parse(value.data, value.len, &list);
	for (size_t i = 0; i < list.n; i++) {
		const char *a = list.v[i].addr;

		if (ext.len > 0) {
			insert_extension(a, ext.data, &tmp);
			a = tmp.data;
		}
		rewrite_local(cf, a, &one);
		strv_push(results, buf_cstr(&one));
	}
out:
	header_addrs_free(&list);
	table_match_free(&m);
	buf_free(&value);
	buf_free(&tmp);
	buf_free(&ext);
	buf_free(&one);
	return ret;
}

/* rewrite_canonical - 1:1 mapping, applied again to its result until it
 * maps to itself or is not found. 0 ok, REWRITE_DEFER on table failure. */
int rewrite_canonical(const struct rewrite_cf *cf, struct table_list *maps,
		      const char *what, const char *addr, struct buf *out,
		      struct buf *why)
{
	struct strv results = STRV_INIT;

	buf_set(out, addr);
	if (maps == NULL || *addr == '\0')
		return REWRITE_OK;
	for (int n = 0; n < CANONICAL_MAX_NESTING; n++) {
		int st = rewrite_map_lookup(cf, maps, what, buf_cstr(out), cf->propagate_canonical,
				    &results, why);

		if (st < 0) {
			strv_free(&results);
			return REWRITE_DEFER;
		}
		if (st == 0 || results.n == 0) {
			strv_free(&results);
			return REWRITE_OK;
		}
		if (results.n > 1)
			log_warn("multi-valued %s entry for %s", what, buf_cstr(out));
		if (strcasecmp(results.v[0], buf_cstr(out)) == 0) {
			buf_set(out, results.v[0]);
			strv_free(&results);
			return REWRITE_OK;
		}
		buf_set(out, results.v[0]);
		strv_free(&results);
	}
	log_warn("unreasonable %s map nesting for %s", what, addr);
	return REWRITE_OK;
}

/* rewrite_masquerade - strip subdomains per masquerade_domains; true if changed */
bool rewrite_masquerade(const struct rewrite_cf *cf, const char *addr,
			struct buf *out)
{
	const char *at = strrchr(addr, '@');
	size_t dlen;

	buf_set(out, addr);
	if (at == NULL || cf->masquerade_domains.n == 0)
		return false;
	for (size_t i = 0; i < cf->masquerade_exceptions.n; i++) {
		const char *ex = cf->masquerade_exceptions.v[i];

		if (strlen(ex) == (size_t)(at - addr) &&
		    strncasecmp(ex, addr, (size_t)(at - addr)) == 0)
			return false;
	}
	dlen = strlen(at + 1);
	for (size_t i = 0; i < cf->masquerade_domains.n; i++) {
		const char *m = cf->masquerade_domains.v[i];
		bool exempt = (*m == '!');
		size_t mlen;

		if (exempt)
			m++;
		mlen = strlen(m);
		if (mlen == 0)
			continue;
		if (mlen == dlen && strcasecmp(m, at + 1) == 0)
			return false;
		if (mlen < dlen && at[1 + dlen - mlen - 1] == '.' &&
		    strcasecmp(m, at + 1 + dlen - mlen) == 0) {
			if (exempt)
				return false;
			buf_reset(out);
			buf_printf(out, "%.*s@%s", (int)(at - addr), addr, m);
			return true;
		}
	}
	return false;
}

/* rewrite_address - local context, canonical maps and masquerading for one
 * address of class cls (one REWRITE_* bit) */
int rewrite_address(const struct rewrite_cf *cf, unsigned cls, const char *addr,
		    struct buf *out, struct buf *why)
{
	bool sender = (cls & (REWRITE_ENV_SENDER | REWRITE_HDR_SENDER)) != 0;
	struct table_list *specific = sender ? cf->sender_canonical : cf->recipient_canonical;
	unsigned specific_classes = sender ? cf->sender_canonical_classes
					   : cf->recipient_canonical_classes;
	const char *specific_name = sender ? "sender_canonical_maps"
					   : "recipient_canonical_maps";
	struct buf tmp = BUF_INIT;
	int ret = REWRITE_OK;

	rewrite_local(cf, addr, out);
	if (specific && (specific_classes & cls)) {
		buf_set(&tmp, buf_cstr(out));
		ret = rewrite_canonical(cf, specific, specific_name, tmp.data, out, why);
	}
	if (ret == REWRITE_OK && cf->canonical && (cf->canonical_classes & cls)) {
		buf_set(&tmp, buf_cstr(out));
		ret = rewrite_canonical(cf, cf->canonical, "canonical_maps", tmp.data,
					out, why);
	}
	if (ret == REWRITE_OK && (cf->masquerade_classes & cls)) {
		buf_set(&tmp, buf_cstr(out));
		rewrite_masquerade(cf, tmp.data, out);
	}
	buf_free(&tmp);
	return ret;
}

/* already_self - addr is in the list of addresses that expanded to themselves */
static bool already_self(const struct strv *self, const char *addr)
{
	return strv_contains_case(self, addr);
}

/* rewrite_virtual - expand one recipient through virtual_alias_maps into
 * out (appended). An address whose result holds itself is kept and not
 * expanded again; nesting and the number of addresses are bounded. */
int rewrite_virtual(const struct rewrite_cf *cf, const char *addr,
		    struct strv *out, struct buf *why)
{
	struct strv argv = STRV_INIT, self = STRV_INIT, results = STRV_INIT;
	int ret = REWRITE_OK;

	strv_push(&argv, addr);
	for (size_t i = 0; cf->virtual_alias && i < argv.n && ret == REWRITE_OK; i++) {
		if ((long)argv.n > cf->expansion_limit) {
			buf_printf(why, "unreasonable virtual_alias_maps map expansion size for %s -- message not accepted, try again later",
				   addr);
			ret = REWRITE_DEFER;
			break;
		}
		for (long count = 0;; count++) {
			if (already_self(&self, argv.v[i]))
				break;
			if (count >= cf->recursion_limit) {
				buf_printf(why, "unreasonable virtual_alias_maps map nesting for %s -- message not accepted, try again later",
					   addr);
				ret = REWRITE_DEFER;
				break;
			}
			int st = rewrite_map_lookup(cf, cf->virtual_alias, "virtual_alias_maps",
					    argv.v[i], cf->propagate_virtual, &results, why);
			if (st < 0) {
				ret = REWRITE_DEFER;
				break;
			}
			if (st == 0)
				break;
			char *lhs = xstrdup(argv.v[i]);
			for (size_t j = 0; j < results.n; j++) {
				if ((long)strlen(results.v[j]) > cf->address_length_limit) {
					buf_printf(why, "unreasonable virtual_alias_maps result %.300s... -- message not accepted, try again later",
						   results.v[j]);
					ret = REWRITE_DEFER;
					break;
				}
				if (j == 0) {
					free(argv.v[i]);
					argv.v[i] = xstrdup(results.v[0]);
				} else {
					strv_push(&argv, results.v[j]);
				}
				if (strcasecmp(lhs, results.v[j]) == 0)
					strv_push(&self, lhs);
			}
			free(lhs);
			strv_free(&results);
			if (ret != REWRITE_OK)
				break;
		}
	}
	if (ret == REWRITE_OK)
		for (size_t i = 0; i < argv.n; i++)
			strv_push(out, argv.v[i]);
	strv_free(&argv);
	strv_free(&self);
	strv_free(&results);
	return ret;
}

/* rewrite_header_with - rewrite the addresses of one header line with fn
 * (one address in, its replacement out); out holds the new line (rendered
 * as Postfix does) when *changed, else a copy of the line. The null
 * address "<>" is left alone. */
int rewrite_header_with(const char *line, size_t len, rewrite_addr_fn fn, void *ctx,
			struct buf *out, bool *changed, struct buf *why)
{
	const char *colon = memchr(line, ':', len);
	struct header_addrs list = HEADER_ADDRS_INIT;
	struct buf one = BUF_INIT;
	char **repl;
	int ret = REWRITE_OK;

	*changed = false;
	buf_reset(out);
	buf_append(out, line, len);
	if (colon == NULL || header_name_len(line, len) == 0)
		return REWRITE_OK;
	header_addrs_parse(colon + 1, len - (size_t)(colon + 1 - line), &list);
	repl = xcalloc(list.n + 1, sizeof(*repl));
	for (size_t i = 0; i < list.n && ret == REWRITE_OK; i++) {
		if (list.v[i].addr[0] == '\0')
			continue;
		ret = fn(ctx, list.v[i].addr, &one, why);
		if (ret == REWRITE_OK && strcmp(buf_cstr(&one), list.v[i].addr) != 0) {
			repl[i] = buf_steal(&one);
			*changed = true;
		}
	}
	if (ret == REWRITE_OK && *changed)
		header_addrs_render(line, len, &list, repl, out);
	for (size_t i = 0; i < list.n; i++)
		free(repl[i]);
	free(repl);
	header_addrs_free(&list);
	buf_free(&one);
	return ret;
}

/* What rewrite_header() hands to its per-address function. */
struct class_ctx {
	const struct rewrite_cf *cf;
	unsigned cls;
};

/* class_addr - rewrite_address() as a rewrite_addr_fn */
static int class_addr(void *ctx, const char *addr, struct buf *out, struct buf *why)
{
	const struct class_ctx *k = ctx;

	return rewrite_address(k->cf, k->cls, addr, out, why);
}

/* rewrite_header - rewrite the addresses of one header line of class cls
 * (REWRITE_HDR_SENDER or REWRITE_HDR_RECIPIENT); out holds the new line
 * (rendered as Postfix does) when *changed, else a copy of the line */
int rewrite_header(const struct rewrite_cf *cf, unsigned cls, const char *line,
		   size_t len, struct buf *out, bool *changed, struct buf *why)
{
	struct class_ctx k = { cf, cls };

	return rewrite_header_with(line, len, class_addr, &k, out, changed, why);
}

/* rewrite_generic - one 1:1 lookup in generic(5) style maps (no
 * recursion): the first address of the result, else addr unchanged.
 * REWRITE_OK, or REWRITE_DEFER on table failure. */
int rewrite_generic(const struct rewrite_cf *cf, struct table_list *maps,
		    const char *what, const char *addr, struct buf *out,
		    struct buf *why)
{
	struct strv results = STRV_INIT;
	int st;

	buf_set(out, addr);
	if (maps == NULL || *addr == '\0')
		return REWRITE_OK;
	st = rewrite_map_lookup(cf, maps, what, addr, cf->propagate_generic, &results, why);
	if (st < 0) {
		strv_free(&results);
		return REWRITE_DEFER;
	}
	if (st > 0 && results.n > 0) {
		if (results.n > 1)
			log_warn("multi-valued %s entry for %s", what, addr);
		buf_set(out, results.v[0]);
	}
	strv_free(&results);
	return REWRITE_OK;
}
