/*
 * route_conf - route_resolve() over a loaded configuration: main.cf's
 * transport parameters, the three maps opened as table lists, and the
 * address class from the resolver (resolve.h).
 *
 * Public: route_open, route_lookup, route_close.
 * Errors: route_open() fills err with "parameter: type:name: reason" when a
 * map cannot be opened; lookups that fail give ROUTE_TEMPFAIL.
 */
#include "mail/route.h"

#include "lib/mem.h"
#include "mail/resolve.h"

struct route_ctx {
	struct config *cf;
	struct resolve_ctx *resolve;
	struct table_list *maps[3];	/* by enum route_map; NULL = not configured */
	struct table_search_opts opts;
	struct route_params params;
	/* parameter values, copied so that they outlive config expansions */
	char *strs[10];
};

static const char *const map_params[3] = {
	[ROUTE_MAP_TRANSPORT] = "transport_maps",
	[ROUTE_MAP_SENDER_RELAYHOST] = "sender_dependent_relayhost_maps",
	[ROUTE_MAP_SENDER_TRANSPORT] = "sender_dependent_default_transport_maps",
};

/* conf_classify - address class through the shared resolver */
static int conf_classify(void *ctx, const char *addr, enum route_class *cls,
			 struct buf *reason)
{
	struct route_ctx *rc = ctx;
	struct resolved r;
	int ret = 0;

	resolved_init(&r);
	if (resolve_addr(rc->resolve, addr, &r) != RESOLVE_OK) {
		buf_printf(reason, "address resolver: %s", buf_cstr(&r.error));
		ret = -1;
	} else {
		switch (r.cls) {
		case RESOLVE_CLASS_LOCAL:
			*cls = ROUTE_CLASS_LOCAL;
			break;
		case RESOLVE_CLASS_VIRTUAL_ALIAS:
			*cls = ROUTE_CLASS_VIRTUAL_ALIAS;
			break;
		case RESOLVE_CLASS_VIRTUAL_MAILBOX:
			*cls = ROUTE_CLASS_VIRTUAL_MAILBOX;
			break;
		case RESOLVE_CLASS_RELAY:
			*cls = ROUTE_CLASS_RELAY;
			break;
		case RESOLVE_CLASS_DEFAULT:
		default:
			*cls = ROUTE_CLASS_DEFAULT;
			break;
		}
	}
	resolved_free(&r);
	return ret;
}

/* conf_lookup - transport(5) search for transport_maps, virtual(5) search for sender maps */
static enum table_status conf_lookup(void *ctx, enum route_map map,
				     const char *key, struct buf *value,
				     struct buf *reason)
{
	struct route_ctx *rc = ctx;
	struct table_list *l = rc->maps[map];
	enum table_status st;

	if (l == NULL)
		return TABLE_NOTFOUND;
	st = table_find(l, map == ROUTE_MAP_TRANSPORT ? TABLE_SEARCH_TRANSPORT
						      : TABLE_SEARCH_VIRTUAL,
			key, &rc->opts, value, NULL);
	if (st == TABLE_TEMPFAIL)
		buf_printf(reason, "%s lookup of %s failed: %s", map_params[map],
			   key, table_list_error(l));
	return st;
}

/* keep - a copy of a parameter's expanded value */
static const char *keep(struct route_ctx *rc, int i, const char *name)
{
	rc->strs[i] = xstrdup(config_str(rc->cf, name));
	return rc->strs[i];
}

/* route_open - routing over cf; NULL with err when a table cannot be opened */
struct route_ctx *route_open(struct config *cf, struct buf *err)
{
	struct route_ctx *rc = xcalloc(1, sizeof(*rc));
	struct route_params *p = &rc->params;

	rc->cf = cf;
	if ((rc->resolve = resolve_new(cf, err)) == NULL)
		goto fail;
	for (int m = 0; m < 3; m++) {
		const char *v = config_str(cf, map_params[m]);
		struct buf e = BUF_INIT;

		if (str_is_blank(v))
			continue;
		rc->maps[m] = table_list_open(v, TABLE_F_FOLD, &e);
		if (rc->maps[m] == NULL) {
			buf_printf(err, "%s: %s", map_params[m], buf_cstr(&e));
			buf_free(&e);
			goto fail;
		}
		buf_free(&e);
	}
	rc->opts.recipient_delimiter = keep(rc, 0, "recipient_delimiter");
	rc->opts.parent_matches_subdomains = resolve_parent_style(cf, "transport_maps");
	rc->opts.is_local_domain = resolve_local_domain_cb;
	rc->opts.ctx = rc->resolve;
	p->local_transport = keep(rc, 1, "local_transport");
	p->virtual_transport = keep(rc, 2, "virtual_transport");
	p->relay_transport = keep(rc, 3, "relay_transport");
	p->default_transport = keep(rc, 4, "default_transport");
	p->relayhost = keep(rc, 5, "relayhost");
	p->myhostname = keep(rc, 6, "myhostname");
	p->empty_address_recipient = keep(rc, 7, "empty_address_recipient");
	p->empty_address_relayhost_key = keep(rc, 8, "empty_address_relayhost_maps_lookup_key");
	p->empty_address_default_transport_key =
		keep(rc, 9, "empty_address_default_transport_maps_lookup_key");
	p->show_unknown_table = config_bool(cf, "show_user_unknown_table_name");
	p->classify = conf_classify;
	p->classify_ctx = rc;
	p->lookup = conf_lookup;
	p->lookup_ctx = rc;
	return rc;
fail:
	route_close(&rc);
	return NULL;
}

/* route_lookup - route one recipient of mail from sender */
enum route_status route_lookup(struct route_ctx *rc, const char *sender,
			       const char *rcpt, struct route *out)
{
	return route_resolve(&rc->params, sender, rcpt, out);
}

/* route_close - release tables and the resolver */
void route_close(struct route_ctx **rcp)
{
	struct route_ctx *rc = *rcp;

	if (rc == NULL)
		return;
	for (int m = 0; m < 3; m++)
		if (rc->maps[m])
			table_list_close(&rc->maps[m]);
	if (rc->resolve)
		resolve_free(&rc->resolve);
	for (size_t i = 0; i < sizeof(rc->strs) / sizeof(rc->strs[0]); i++)
		xfree(&rc->strs[i]);
	xfree(rcp);
}
