/*
 * smtp_generic - smtp_generic_maps / lmtp_generic_maps: the SMTP client
 * gives addresses that are only valid inside this site (joe@localhost,
 * a user of a private domain) a valid Internet form on the way out.
 *
 * generic(5) applies to the envelope (MAIL FROM, RCPT TO; never the null
 * sender) and to the addresses of the top-level message headers that
 * carry sender or recipient addresses (From, Sender, Reply-To, To, Cc,
 * Resent-*, Errors-To, Return-Receipt-To, Disposition-Notification-To,
 * Mail-Followup-To, Apparently-To), as Postfix's smtp(8) does. MIME part
 * headers, attached messages and the body pass untouched. Lookups follow
 * virtual(5)'s order (user+ext@domain, user@domain, user+ext and user for
 * local domains, @domain); "@domain" results keep the local part; the
 * extension survives only with "generic" in propagate_unmatched_extensions.
 * A header with a rewritten address is written again the way Postfix
 * does (header_addrs_render: re-quoted, re-spaced, folded past 69
 * columns); every other byte of the message is kept as it was, 8-bit and
 * UTF-8 included. The cases in tests/fixtures/generic/ were recorded from
 * Postfix 3.7.
 *
 * Public: smtp_generic_open, smtp_generic_addr, smtp_generic_content,
 * smtp_generic_close.
 * Errors: a table that cannot be opened or a failed lookup returns -1 with
 * the reason in err; the caller defers the delivery (4.3.0).
 */
#include "deliver/smtp.h"

#include <string.h>

#include "lib/mem.h"
#include "lib/str.h"
#include "mail/header.h"
#include "mail/resolve.h"
#include "mail/rewrite.h"

struct smtp_generic {
	char *param;			/* "smtp_generic_maps" or "lmtp_generic_maps" */
	struct table_list *maps;
	struct rewrite_cf rw;
	struct resolve_ctx *resolve;	/* which domains are local (user-only keys) */
};

/* local_domain - rewrite_cf's test for the "user" lookup keys */
static bool local_domain(const char *domain, void *ctx)
{
	struct smtp_generic *g = ctx;

	return resolve_is_local(g->resolve, domain) == 1;
}

/* smtp_generic_open - the maps of the transport; NULL without err when the
 * parameter is empty, NULL with err when a table cannot be opened */
struct smtp_generic *smtp_generic_open(struct config *cf, bool lmtp, struct buf *err)
{
	const char *param = lmtp ? "lmtp_generic_maps" : "smtp_generic_maps";
	const char *v = config_str(cf, param);
	struct smtp_generic *g;
	struct buf why = BUF_INIT;

	if (str_is_blank(v))
		return NULL;
	g = xcalloc(1, sizeof(*g));
	g->param = xstrdup(param);
	rewrite_cf_init(&g->rw);
	rewrite_cf_load_settings(&g->rw, cf);
	g->rw.is_local_domain = local_domain;
	g->rw.local_ctx = g;
	if ((g->maps = table_list_open(v, TABLE_F_FOLD, &why)) == NULL) {
		buf_printf(err, "%s: %s", param, buf_cstr(&why));
	} else if ((g->resolve = resolve_new(cf, &why)) == NULL) {
		buf_printf(err, "%s", buf_cstr(&why));
	}
	buf_free(&why);
	if (g->maps == NULL || g->resolve == NULL)
		smtp_generic_close(&g);
	return g;
}

/* smtp_generic_close - release */
void smtp_generic_close(struct smtp_generic **gp)
{
	struct smtp_generic *g = *gp;

	if (g == NULL)
		return;
	if (g->maps)
		table_list_close(&g->maps);
	if (g->resolve)
		resolve_free(&g->resolve);
	rewrite_cf_free(&g->rw);
	xfree(&g->param);
	xfree(gp);
}

/* smtp_generic_addr - one address in internal form, mapped (or as it was) */
int smtp_generic_addr(struct smtp_generic *g, const char *addr, struct buf *out,
		      struct buf *err)
{
	if (g == NULL) {
		buf_set(out, addr);
		return 0;
	}
	return rewrite_generic(&g->rw, g->maps, g->param, addr, out, err) == REWRITE_OK ? 0 : -1;
}

/* generic_fn - smtp_generic_addr as a rewrite_addr_fn */
static int generic_fn(void *ctx, const char *addr, struct buf *out, struct buf *why)
{
	return smtp_generic_addr(ctx, addr, out, why) == 0 ? REWRITE_OK : REWRITE_DEFER;
}

/* header_end - length of the logical header starting at p (through its
 * last line's LF), folded lines included */
static size_t header_end(const char *p, const char *end)
{
	const char *q = p;

	for (;;) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));

		if (nl == NULL)
			return (size_t)(end - p);
		q = nl + 1;
		if (q == end || (*q != ' ' && *q != '\t'))
			return (size_t)(q - p);
	}
}

/* smtp_generic_content - the message with its top-level address headers
 * mapped; *changed false means out is a plain copy. -1 with err on a
 * failed lookup. */
int smtp_generic_content(struct smtp_generic *g, const struct buf *in, struct buf *out,
			 bool *changed, struct buf *err)
{
	const char *p = in->data ? in->data : "", *end = p + in->len;
	struct buf line = BUF_INIT;
	int ret = 0;

	*changed = false;
	buf_reset(out);
	while (g && p < end && *p != '\n') {
		size_t n = header_end(p, end), len = n;
		const struct header_info *h;
		bool hit = false;

		if (header_name_len(p, n) == 0)
			break;	/* not a header: the body starts here, as in a MIME parser */
		if (p[len - 1] == '\n')
			len--;
		h = header_classify(p, len);
		if (h && (h->flags & (HDR_F_SENDER | HDR_F_RECIPIENT))) {
			if (rewrite_header_with(p, len, generic_fn, g, &line, &hit, err) != REWRITE_OK) {
				ret = -1;
				break;
			}
		}
		if (hit) {
			buf_append(out, line.data, line.len);
			buf_append(out, p + len, n - len);
			*changed = true;
		} else {
			buf_append(out, p, n);
		}
		p += n;
	}
	if (ret == 0)
		buf_append(out, p, (size_t)(end - p));
	buf_free(&line);
	return ret;
}
