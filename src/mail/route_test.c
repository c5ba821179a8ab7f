/*
 * route_test - transport(5) result forms and Postfix's nexthop precedence,
 * with in-memory tables standing in for the table engine (the derived-key
 * search itself is the table module's and is tested there and end to end).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/str.h"
#include "mail/route.h"

struct entry {
	enum route_map map;
	const char *key;
	const char *value;	/* "TEMPFAIL" simulates a lookup error */
};

struct world {
	const char *mydestination[4];
	const char *virtual_alias[4];
	const char *virtual_mailbox[4];
	const char *relay[4];
	struct entry maps[8];
};

/* in_list - small domain list membership */
static bool in_list(const char *const *list, const char *domain)
{
	for (int i = 0; i < 4 && list[i]; i++)
		if (strcmp(list[i], domain) == 0)
			return true;
	return false;
}

/* fake_classify - address class from the world's domain lists */
static int fake_classify(void *ctx, const char *addr, enum route_class *cls,
			 struct buf *reason)
{
	const struct world *w = ctx;
	const char *domain = strrchr(addr, '@') + 1;

	(void)reason;
	if (in_list(w->mydestination, domain))
		*cls = ROUTE_CLASS_LOCAL;
	else if (in_list(w->virtual_alias, domain))
		*cls = ROUTE_CLASS_VIRTUAL_ALIAS;
	else if (in_list(w->virtual_mailbox, domain))
		*cls = ROUTE_CLASS_VIRTUAL_MAILBOX;
	else if (in_list(w->relay, domain))
		*cls = ROUTE_CLASS_RELAY;
	else
		*cls = ROUTE_CLASS_DEFAULT;
	return 0;
}

/* find_exact - one key in one map */
static const struct entry *find_exact(const struct world *w, enum route_map map,
				      const char *key)
{
	for (int i = 0; i < 8 && w->maps[i].key; i++)
		if (w->maps[i].map == map && strcmp(w->maps[i].key, key) == 0)
			return &w->maps[i];
	return NULL;
}

/* fake_lookup - a simplified derived-key search: full key, @domain / domain, .parents, * */
static enum table_status fake_lookup(void *ctx, enum route_map map,
				     const char *key, struct buf *value,
				     struct buf *reason)
{
	const struct world *w = ctx;
	const struct entry *e = find_exact(w, map, key);
	const char *at = strrchr(key, '@');

	if (e == NULL && at != NULL && map != ROUTE_MAP_TRANSPORT)
		e = find_exact(w, map, at);
	if (e == NULL && at != NULL && map == ROUTE_MAP_TRANSPORT) {
		const char *d = at + 1;
		e = find_exact(w, map, d);
		while (e == NULL && (d = strchr(d + 1, '.')) != NULL)
			e = find_exact(w, map, d);
		if (e == NULL)
			e = find_exact(w, map, "*");
	}
	if (e == NULL)
		return TABLE_NOTFOUND;
	if (strcmp(e->value, "TEMPFAIL") == 0) {
		buf_set(reason, "fake: lookup error");
		return TABLE_TEMPFAIL;
	}
	buf_set(value, e->value);
	return TABLE_FOUND;
}

struct route_case {
	const char *name;
	struct world world;
	const char *relayhost;
	const char *default_transport;
	const char *relay_transport;
	const char *local_transport;
	const char *sender;
	const char *rcpt;
	enum route_status status;
	const char *transport;
	const char *nexthop;
	enum route_class cls;
};

#define BASE_WORLD                                                        \
	.mydestination = { "mail.example.net", "localhost" },            \
	.virtual_alias = { "alias.example" },                              \
	.virtual_mailbox = { "vmail.example" },                            \
	.relay = { "relayed.example" }

static const struct route_case cases[] = {
	{ .name = "default class goes to the recipient domain",
	  .world = { BASE_WORLD }, .sender = "a@x.example", .rcpt = "u@remote.example",
	  .transport = "smtp", .nexthop = "remote.example", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "domain is lower-cased for the nexthop",
	  .world = { BASE_WORLD }, .sender = "a@x.example", .rcpt = "U@Remote.EXAMPLE",
	  .transport = "smtp", .nexthop = "remote.example", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "relayhost beats the recipient domain",
	  .world = { BASE_WORLD }, .relayhost = "[smarthost.example]:587",
	  .sender = "a@x.example", .rcpt = "u@remote.example",
	  .transport = "smtp", .nexthop = "[smarthost.example]:587", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "sender_dependent_relayhost_maps beats relayhost",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_SENDER_RELAYHOST, "notify@x.example", "[gw-a.example]:2525" } } },
	  .relayhost = "[smarthost.example]", .sender = "notify@x.example", .rcpt = "u@remote.example",
	  .transport = "smtp", .nexthop = "[gw-a.example]:2525", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "sender_dependent_relayhost_maps @domain entry",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_SENDER_RELAYHOST, "@x.example", "[gw-d.example]" } } },
	  .relayhost = "[smarthost.example]", .sender = "other@x.example", .rcpt = "u@remote.example",
	  .transport = "smtp", .nexthop = "[gw-d.example]", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "DUNNO in sender_dependent_relayhost_maps falls back to relayhost",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_SENDER_RELAYHOST, "notify@x.example", "DUNNO" },
		{ ROUTE_MAP_SENDER_RELAYHOST, "@x.example", "[gw-d.example]" } } },
	  .relayhost = "[smarthost.example]", .sender = "notify@x.example", .rcpt = "u@remote.example",
	  .transport = "smtp", .nexthop = "[smarthost.example]", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "null sender is looked up as <>",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_SENDER_RELAYHOST, "<>", "[bounces.example]" } } },
	  .relayhost = "[smarthost.example]", .sender = "", .rcpt = "u@remote.example",
	  .transport = "smtp", .nexthop = "[bounces.example]", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "default_transport nexthop beats sender relayhost",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_SENDER_RELAYHOST, "@x.example", "[gw-d.example]" } } },
	  .default_transport = "smtp:[outbound.example]", .relayhost = "[smarthost.example]",
	  .sender = "a@x.example", .rcpt = "u@remote.example",
	  .transport = "smtp", .nexthop = "[outbound.example]", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "sender_dependent_default_transport_maps beats default_transport",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_SENDER_TRANSPORT, "@x.example", "notify:[gw-n.example]" } } },
	  .default_transport = "smtp:[outbound.example]", .sender = "a@x.example",
	  .rcpt = "u@remote.example",
	  .transport = "notify", .nexthop = "[gw-n.example]", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "sender transport without nexthop takes relayhost",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_SENDER_TRANSPORT, "@x.example", "notify:" } } },
	  .relayhost = "[smarthost.example]", .sender = "a@x.example", .rcpt = "u@remote.example",
	  .transport = "notify", .nexthop = "[smarthost.example]", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "relay class uses relay_transport, not sender transport maps",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_SENDER_TRANSPORT, "@x.example", "notify:[gw-n.example]" } } },
	  .sender = "a@x.example", .rcpt = "u@relayed.example",
	  .transport = "relay", .nexthop = "relayed.example", .cls = ROUTE_CLASS_RELAY },
	{ .name = "relay class honours relayhost",
	  .world = { BASE_WORLD }, .relayhost = "[smarthost.example]",
	  .sender = "a@x.example", .rcpt = "u@relayed.example",
	  .transport = "relay", .nexthop = "[smarthost.example]", .cls = ROUTE_CLASS_RELAY },
	{ .name = "relay_transport nexthop beats relayhost",
	  .world = { BASE_WORLD }, .relayhost = "[smarthost.example]",
	  .relay_transport = "relay:[inside.example]",
	  .sender = "a@x.example", .rcpt = "u@relayed.example",
	  .transport = "relay", .nexthop = "[inside.example]", .cls = ROUTE_CLASS_RELAY },
	{ .name = "local class goes to local:$myhostname",
	  .world = { BASE_WORLD }, .relayhost = "[smarthost.example]",
	  .sender = "a@x.example", .rcpt = "root@localhost",
	  .transport = "local", .nexthop = "mail.example.net", .cls = ROUTE_CLASS_LOCAL },
	{ .name = "local_transport nexthop is kept",
	  .world = { BASE_WORLD }, .local_transport = "lmtp:unix:/run/dovecot/lmtp",
	  .sender = "a@x.example", .rcpt = "root@localhost",
	  .transport = "lmtp", .nexthop = "unix:/run/dovecot/lmtp", .cls = ROUTE_CLASS_LOCAL },
	{ .name = "virtual mailbox class goes to virtual:domain",
	  .world = { BASE_WORLD }, .relayhost = "[smarthost.example]",
	  .sender = "a@x.example", .rcpt = "u@vmail.example",
	  .transport = "virtual", .nexthop = "vmail.example", .cls = ROUTE_CLASS_VIRTUAL_MAILBOX },
	{ .name = "virtual alias class is user unknown, transport_maps ignored",
	  .world = { BASE_WORLD, .maps = { { ROUTE_MAP_TRANSPORT, "*", "smtp:[any.example]" } } },
	  .sender = "a@x.example", .rcpt = "nobody@alias.example",
	  .transport = "error", .nexthop = "5.1.1 User unknown in virtual alias table",
	  .cls = ROUTE_CLASS_VIRTUAL_ALIAS },
	{ .name = "transport_maps exact address with [host]:port",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_TRANSPORT, "u@remote.example", "smtp:[10.0.0.1]:2525" },
		{ ROUTE_MAP_TRANSPORT, "remote.example", "relay:[other.example]" } } },
	  .relayhost = "[smarthost.example]", .sender = "a@x.example", .rcpt = "u@remote.example",
	  .transport = "smtp", .nexthop = "[10.0.0.1]:2525", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "transport_maps domain entry",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_TRANSPORT, "remote.example", "relay:[other.example]" } } },
	  .sender = "a@x.example", .rcpt = "v@remote.example",
	  .transport = "relay", .nexthop = "[other.example]", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "transport_maps .parent entry for a subdomain",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_TRANSPORT, ".remote.example", "smtp:[sub-gw.example]" } } },
	  .sender = "a@x.example", .rcpt = "v@a.b.remote.example",
	  .transport = "smtp", .nexthop = "[sub-gw.example]", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "transport_maps wildcard",
	  .world = { BASE_WORLD, .maps = { { ROUTE_MAP_TRANSPORT, "*", "smtp:outbound-relay.example" } } },
	  .sender = "a@x.example", .rcpt = "v@far.example",
	  .transport = "smtp", .nexthop = "outbound-relay.example", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "transport_maps ':' changes nothing",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_TRANSPORT, "inside.example", ":" },
		{ ROUTE_MAP_TRANSPORT, "*", "smtp:outbound-relay.example" } } },
	  .relayhost = "[smarthost.example]", .sender = "a@x.example", .rcpt = "v@inside.example",
	  .transport = "smtp", .nexthop = "[smarthost.example]", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "transport_maps ':nexthop' keeps the class transport",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_TRANSPORT, "relayed.example", ":[gateway.example]" } } },
	  .sender = "a@x.example", .rcpt = "v@relayed.example",
	  .transport = "relay", .nexthop = "[gateway.example]", .cls = ROUTE_CLASS_RELAY },
	{ .name = "transport_maps 'transport:' resets nexthop to the recipient domain",
	  .world = { BASE_WORLD, .maps = { { ROUTE_MAP_TRANSPORT, "remote.example", "slow:" } } },
	  .relayhost = "[smarthost.example]", .sender = "a@x.example", .rcpt = "v@remote.example",
	  .transport = "slow", .nexthop = "remote.example", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "transport_maps result without a colon is a transport",
	  .world = { BASE_WORLD, .maps = { { ROUTE_MAP_TRANSPORT, "remote.example", "slow" } } },
	  .relayhost = "[smarthost.example]", .sender = "a@x.example", .rcpt = "v@remote.example",
	  .transport = "slow", .nexthop = "remote.example", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "transport_maps error: keeps colons in the text",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_TRANSPORT, ".bad.example", "error:5.7.1 no mail: really" } } },
	  .sender = "a@x.example", .rcpt = "v@x.bad.example",
	  .transport = "error", .nexthop = "5.7.1 no mail: really", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "transport_maps lmtp:unix:/path",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_TRANSPORT, "vmail.example", "lmtp:unix:/run/dovecot/lmtp" } } },
	  .sender = "a@x.example", .rcpt = "v@vmail.example",
	  .transport = "lmtp", .nexthop = "unix:/run/dovecot/lmtp", .cls = ROUTE_CLASS_VIRTUAL_MAILBOX },
	{ .name = "transport_maps list of nexthops kept as written",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_TRANSPORT, "remote.example", "smtp:bar.example, foo.example" } } },
	  .sender = "a@x.example", .rcpt = "v@remote.example",
	  .transport = "smtp", .nexthop = "bar.example, foo.example", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "transport_maps beats sender transport maps",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_SENDER_TRANSPORT, "@x.example", "notify:[gw-n.example]" },
		{ ROUTE_MAP_TRANSPORT, "remote.example", "smtp:[mx.remote.example]" } } },
	  .sender = "a@x.example", .rcpt = "v@remote.example",
	  .transport = "smtp", .nexthop = "[mx.remote.example]", .cls = ROUTE_CLASS_DEFAULT },
	{ .name = "transport_maps also routes local mail",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_TRANSPORT, "localhost", "lmtp:inet:127.0.0.1:24" } } },
	  .sender = "a@x.example", .rcpt = "root@localhost",
	  .transport = "lmtp", .nexthop = "inet:127.0.0.1:24", .cls = ROUTE_CLASS_LOCAL },
	{ .name = "null recipient is MAILER-DAEMON@myhostname",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_TRANSPORT, "MAILER-DAEMON@mail.example.net", "discard:" } } },
	  .sender = "a@x.example", .rcpt = "",
	  .transport = "discard", .nexthop = "mail.example.net", .cls = ROUTE_CLASS_LOCAL },
	{ .name = "transport_maps lookup failure is a temporary failure",
	  .world = { BASE_WORLD, .maps = { { ROUTE_MAP_TRANSPORT, "remote.example", "TEMPFAIL" } } },
	  .sender = "a@x.example", .rcpt = "v@remote.example", .status = ROUTE_TEMPFAIL },
	{ .name = "sender map lookup failure is a temporary failure",
	  .world = { BASE_WORLD, .maps = {
		{ ROUTE_MAP_SENDER_RELAYHOST, "@x.example", "TEMPFAIL" } } },
	  .sender = "a@x.example", .rcpt = "v@remote.example", .status = ROUTE_TEMPFAIL },
};

/* run_case - resolve one case and compare */
static void run_case(const struct route_case *c)
{
	struct world w = c->world;
	struct route_params p = {
		.local_transport = c->local_transport ? c->local_transport : "local:mail.example.net",
		.virtual_transport = "virtual",
		.relay_transport = c->relay_transport ? c->relay_transport : "relay",
		.default_transport = c->default_transport ? c->default_transport : "smtp",
		.relayhost = c->relayhost ? c->relayhost : "",
		.myhostname = "mail.example.net",
		.empty_address_recipient = "MAILER-DAEMON",
		.empty_address_relayhost_key = "<>",
		.empty_address_default_transport_key = "<>",
		.show_unknown_table = true,
		.classify = fake_classify,
		.classify_ctx = &w,
		.lookup = fake_lookup,
		.lookup_ctx = &w,
	};
	struct route r;
	enum route_status st;

	route_init(&r);
	st = route_resolve(&p, c->sender, c->rcpt, &r);
	if (st != c->status)
		fail_msg("%s: status %d, want %d (%s)", c->name, st, c->status,
			 buf_cstr(&r.reason));
	if (st == ROUTE_OK) {
		if (strcmp(buf_cstr(&r.transport), c->transport) != 0
		    || strcmp(buf_cstr(&r.nexthop), c->nexthop) != 0
		    || r.cls != c->cls)
			fail_msg("%s: got %s:%s (%s), want %s:%s (%s)", c->name,
				 buf_cstr(&r.transport), buf_cstr(&r.nexthop),
				 route_class_name(r.cls), c->transport, c->nexthop,
				 route_class_name(c->cls));
	} else if (r.reason.len == 0) {
		fail_msg("%s: temporary failure without a reason", c->name);
	}
	route_free(&r);
}

/* test_cases - every named case */
static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
