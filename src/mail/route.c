/*
 * route - transport and next-hop selection for one recipient, with
 * Postfix's precedence (see route.h for the rules).
 *
 * Public: route_init, route_free, route_class_name, route_source_name,
 * route_resolve.
 * Bad input: table failures come back as ROUTE_TEMPFAIL with a reason;
 * an empty sender-dependent result is logged and ignored, as Postfix does.
 */
#include "mail/route.h"

#include <string.h>

#include "lib/log.h"
#include "lib/str.h"

/* route_init - an empty route */
void route_init(struct route *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->transport);
	buf_init(&r->nexthop);
	buf_init(&r->reason);
}

/* route_free - release a route's buffers */
void route_free(struct route *r)
{
	buf_free(&r->transport);
	buf_free(&r->nexthop);
	buf_free(&r->reason);
}

/* route_class_name - Postfix's word for an address class */
const char *route_class_name(enum route_class cls)
{
	switch (cls) {
	case ROUTE_CLASS_LOCAL:
		return "local";
	case ROUTE_CLASS_VIRTUAL_ALIAS:
		return "alias";
	case ROUTE_CLASS_VIRTUAL_MAILBOX:
		return "virtual";
	case ROUTE_CLASS_RELAY:
		return "relay";
	case ROUTE_CLASS_DEFAULT:
		return "default";
	}
	return "?";
}

/* route_source_name - where a nexthop came from, for traces */
const char *route_source_name(enum route_source src)
{
	static const char *const names[] = {
		[ROUTE_FROM_DOMAIN] = "recipient domain",
		[ROUTE_FROM_MYHOSTNAME] = "myhostname",
		[ROUTE_FROM_RELAYHOST] = "relayhost",
		[ROUTE_FROM_SENDER_RELAYHOST] = "sender_dependent_relayhost_maps",
		[ROUTE_FROM_CLASS_TRANSPORT] = "address class transport",
		[ROUTE_FROM_SENDER_TRANSPORT] = "sender_dependent_default_transport_maps",
		[ROUTE_FROM_TRANSPORT_MAPS] = "transport_maps",
		[ROUTE_FROM_CLASS_ERROR] = "virtual alias class",
	};
	if ((unsigned)src < sizeof(names) / sizeof(names[0]) && names[src])
		return names[src];
	return "?";
}

/* split_transport - "transport:nexthop" at the first colon; no colon = transport only */
static void split_transport(const char *value, struct buf *transport,
			    struct buf *nexthop)
{
	const char *colon = strchr(value, ':');

	buf_reset(transport);
	buf_reset(nexthop);
	if (colon == NULL) {
		buf_puts(transport, value);
		return;
	}
	buf_append(transport, value, (size_t)(colon - value));
	buf_puts(nexthop, colon + 1);
}

/* sender_lookup - a sender-dependent map: DUNNO and empty results count as not found */
static enum table_status sender_lookup(const struct route_params *p,
				       enum route_map map, const char *sender,
				       const char *null_key, struct buf *value,
				       struct buf *reason)
{
	const char *key = *sender ? sender : null_key;
	enum table_status st;

	if (p->lookup == NULL || key == NULL || *key == 0)
		return TABLE_NOTFOUND;
	st = p->lookup(p->lookup_ctx, map, key, value, reason);
	if (st != TABLE_FOUND)
		return st;
	if (str_eq_case(buf_cstr(value), "DUNNO"))
		return TABLE_NOTFOUND;
	if (str_is_blank(buf_cstr(value))) {
		log_warn("%s lookup of %s returns an empty result; ignoring it",
			 map == ROUTE_MAP_SENDER_RELAYHOST
				 ? "sender_dependent_relayhost_maps"
				 : "sender_dependent_default_transport_maps",
			 key);
		return TABLE_NOTFOUND;
	}
	return TABLE_FOUND;
}

/* remote_nexthop - nexthop of a relay/default class route without one of its own */
static enum route_status remote_nexthop(const struct route_params *p,
					const char *sender, const char *domain,
					struct route *r)
{
	struct buf value = BUF_INIT;
	enum table_status st;

	st = sender_lookup(p, ROUTE_MAP_SENDER_RELAYHOST, sender,
			   p->empty_address_relayhost_key, &value, &r->reason);
	if (st == TABLE_TEMPFAIL) {
		buf_free(&value);
		return ROUTE_TEMPFAIL;
	}
	if (st == TABLE_FOUND) {
		buf_set(&r->nexthop, buf_cstr(&value));
		r->source = ROUTE_FROM_SENDER_RELAYHOST;
	} else if (p->relayhost && *p->relayhost) {
		buf_set(&r->nexthop, p->relayhost);
		r->source = ROUTE_FROM_RELAYHOST;
	} else {
		buf_set(&r->nexthop, domain);
		r->source = ROUTE_FROM_DOMAIN;
	}
	buf_free(&value);
	return ROUTE_OK;
}

/* class_route - the transport and nexthop of the address class, before transport_maps */
static enum route_status class_route(const struct route_params *p,
				     const char *sender, const char *domain,
				     struct route *r)
{
	struct buf value = BUF_INIT;
	const char *tr;
	enum table_status st;

	r->source = ROUTE_FROM_CLASS_TRANSPORT;
	switch (r->cls) {
	case ROUTE_CLASS_LOCAL:
		split_transport(p->local_transport, &r->transport, &r->nexthop);
		if (r->nexthop.len == 0) {
			buf_set(&r->nexthop, p->myhostname);
			r->source = ROUTE_FROM_MYHOSTNAME;
		}
		return ROUTE_OK;
	case ROUTE_CLASS_VIRTUAL_ALIAS:
		buf_set(&r->transport, "error");
		buf_set(&r->nexthop, "5.1.1 User unknown");
		if (p->show_unknown_table)
			buf_puts(&r->nexthop, " in virtual alias table");
		r->source = ROUTE_FROM_CLASS_ERROR;
		return ROUTE_OK;
	case ROUTE_CLASS_VIRTUAL_MAILBOX:
		split_transport(p->virtual_transport, &r->transport, &r->nexthop);
		if (r->nexthop.len == 0) {
			buf_set(&r->nexthop, domain);
			r->source = ROUTE_FROM_DOMAIN;
		}
		return ROUTE_OK;
	case ROUTE_CLASS_RELAY:
		tr = p->relay_transport;
		break;
	case ROUTE_CLASS_DEFAULT:
	default:
		tr = p->default_transport;
		st = sender_lookup(p, ROUTE_MAP_SENDER_TRANSPORT, sender,
				   p->empty_address_default_transport_key, &value,
				   &r->reason);
		if (st == TABLE_TEMPFAIL) {
			buf_free(&value);
			return ROUTE_TEMPFAIL;
		}
		if (st == TABLE_FOUND) {
			tr = buf_cstr(&value);
			r->source = ROUTE_FROM_SENDER_TRANSPORT;
		}
		break;
	}
	split_transport(tr, &r->transport, &r->nexthop);
	buf_free(&value);
	if (r->nexthop.len > 0)
		return ROUTE_OK;
	return remote_nexthop(p, sender, domain, r);
}

/* apply_transport_maps - transport(5) override with its empty-field rules */
static enum route_status apply_transport_maps(const struct route_params *p,
					      const char *key, const char *domain,
					      struct route *r)
{
	struct buf value = BUF_INIT, tr = BUF_INIT, nh = BUF_INIT;
	enum table_status st;

	if (p->lookup == NULL)
		return ROUTE_OK;
	st = p->lookup(p->lookup_ctx, ROUTE_MAP_TRANSPORT, key, &value, &r->reason);
	if (st == TABLE_FOUND) {
		split_transport(buf_cstr(&value), &tr, &nh);
		if (tr.len > 0) {
			buf_set(&r->transport, buf_cstr(&tr));
			buf_set(&r->nexthop, nh.len > 0 ? buf_cstr(&nh) : domain);
			r->source = nh.len > 0 ? ROUTE_FROM_TRANSPORT_MAPS
					       : ROUTE_FROM_DOMAIN;
		} else if (nh.len > 0) {
			buf_set(&r->nexthop, buf_cstr(&nh));
			r->source = ROUTE_FROM_TRANSPORT_MAPS;
		}
	}
	buf_free(&value);
	buf_free(&tr);
	buf_free(&nh);
	return st == TABLE_TEMPFAIL ? ROUTE_TEMPFAIL : ROUTE_OK;
}

/* route_resolve - transport and nexthop for rcpt, mail from sender ("" = null) */
enum route_status route_resolve(const struct route_params *p,
				const char *sender, const char *rcpt,
				struct route *out)
{
	struct buf addr = BUF_INIT, domain = BUF_INIT;
	const char *at;
	enum route_status rs = ROUTE_TEMPFAIL;

	buf_reset(&out->transport);
	buf_reset(&out->nexthop);
	buf_reset(&out->reason);
	if (*rcpt == 0)
		buf_printf(&addr, "%s@%s", p->empty_address_recipient, p->myhostname);
	else
		buf_set(&addr, rcpt);
	at = strrchr(buf_cstr(&addr), '@');
	if (at != NULL && at[1] != 0) {
		buf_set(&domain, at + 1);
		str_lower(domain.data);
	}
	if (domain.len == 0) {
		out->cls = ROUTE_CLASS_LOCAL;
		buf_set(&domain, p->myhostname);	/* as after @$myorigin appending */
	} else if (p->classify(p->classify_ctx, buf_cstr(&addr), &out->cls,
			       &out->reason) < 0) {
		goto done;
	}
	if (class_route(p, sender, buf_cstr(&domain), out) != ROUTE_OK)
		goto done;
	if (out->cls != ROUTE_CLASS_VIRTUAL_ALIAS
	    && apply_transport_maps(p, buf_cstr(&addr), buf_cstr(&domain), out) != ROUTE_OK)
		goto done;
	rs = ROUTE_OK;
done:
	buf_free(&addr);
	buf_free(&domain);
	return rs;
}
