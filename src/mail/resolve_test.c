/*
 * resolve_test - address classes and sender-specified routing, table-driven:
 * each case is an address and what trivial-rewrite would make of it (the
 * relay decisions of tests/fixtures/restrictions were recorded from
 * Postfix and replay the same rules end to end). Also the match lists:
 * networks, negation, parent-domain style, tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mail/resolve.h"

static struct config *cf;
static struct resolve_ctx *rc;
static char dir[] = "/tmp/resolve_test.XXXXXX";

static int setup(void **state)
{
	char path[256];
	struct buf err = BUF_INIT;
	FILE *fp;

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/main.cf", dir);
	fp = fopen(path, "w");
	fprintf(fp, "compatibility_level = 3.6\nmyhostname = mail.example.com\n"
		"mydomain = example.com\nmyorigin = example.com\n"
		"mydestination = $myhostname, localhost, example.com\n"
		"inet_interfaces = 127.0.0.1\nproxy_interfaces = 198.51.100.1\n"
		"virtual_alias_domains = alias.example\n"
		"virtual_mailbox_domains = texthash:%s/vdomains\n"
		"relay_domains = !no.relay.example, relay.example, .sub.example\n", dir);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/vdomains", dir);
	fp = fopen(path, "w");
	fprintf(fp, "mbox.example x\n");
	fclose(fp);
	snprintf(path, sizeof(path), "%s/master.cf", dir);
	fclose(fopen(path, "w"));
	cf = config_load(dir, &err);
	if (cf == NULL) {
		fprintf(stderr, "%s", buf_cstr(&err));
		return -1;
	}
	rc = resolve_new(cf, &err);
	buf_free(&err);
	return rc ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	resolve_free(&rc);
	config_free(&cf);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

struct rcase {
	const char *name;
	const char *in;		/* internal form */
	const char *addr;	/* after rewriting */
	enum resolve_class cls;
	bool routed;
};

static const struct rcase cases[] = {
	{ "remote", "u@remote.example", "u@remote.example", RESOLVE_CLASS_DEFAULT, false },
	{ "case and dot", "U@Mail.Example.COM.", "U@mail.example.com", RESOLVE_CLASS_LOCAL, false },
	{ "bare user gets myorigin", "postmaster", "postmaster@example.com", RESOLVE_CLASS_LOCAL, false },
	{ "percent through local", "v%remote.example@example.com", "v@remote.example",
	  RESOLVE_CLASS_DEFAULT, false },
	{ "double percent", "v%remote.example%example.com@example.com", "v@remote.example",
	  RESOLVE_CLASS_DEFAULT, false },
	{ "bang through local", "remote.example!v@example.com", "v@remote.example",
	  RESOLVE_CLASS_DEFAULT, false },
	{ "quoted at through local", "v@remote.example@example.com", "v@remote.example",
	  RESOLVE_CLASS_DEFAULT, false },
	{ "percent at relay domain is routed", "v%remote.example@relay.example",
	  "v%remote.example@relay.example", RESOLVE_CLASS_RELAY, true },
	{ "bang at relay domain is routed", "remote.example!v@relay.example",
	  "remote.example!v@relay.example", RESOLVE_CLASS_RELAY, true },
	{ "source route dropped", "@example.com,@x.example:v@remote.example", "v@remote.example",
	  RESOLVE_CLASS_DEFAULT, false },
	{ "bare percent", "v%remote.example", "v@remote.example", RESOLVE_CLASS_DEFAULT, false },
	{ "bare bang", "remote.example!v", "v@remote.example", RESOLVE_CLASS_DEFAULT, false },
	{ "interface literal", "u@[127.0.0.1]", "u@[127.0.0.1]", RESOLVE_CLASS_LOCAL, false },
	{ "proxy interface literal", "u@[198.51.100.1]", "u@[198.51.100.1]", RESOLVE_CLASS_LOCAL,
	  false },
	{ "foreign literal", "u@[192.0.2.99]", "u@[192.0.2.99]", RESOLVE_CLASS_DEFAULT, false },
	{ "virtual alias domain", "u@alias.example", "u@alias.example",
	  RESOLVE_CLASS_VIRTUAL_ALIAS, false },
	{ "virtual mailbox domain from a table", "u@mbox.example", "u@mbox.example",
	  RESOLVE_CLASS_VIRTUAL_MAILBOX, false },
	{ "relay subdomain (parent style)", "u@x.relay.example", "u@x.relay.example",
	  RESOLVE_CLASS_RELAY, false },
	{ "negated relay subdomain", "u@no.relay.example", "u@no.relay.example",
	  RESOLVE_CLASS_DEFAULT, false },
	{ "dot pattern matches subdomains only", "u@a.sub.example", "u@a.sub.example",
	  RESOLVE_CLASS_RELAY, false },
	{ "dot pattern not the domain itself", "u@sub.example", "u@sub.example",
	  RESOLVE_CLASS_DEFAULT, false },
};

static void test_classes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rcase *c = &cases[i];
		struct resolved r;

		resolved_init(&r);
		assert_int_equal(resolve_addr(rc, c->in, &r), RESOLVE_OK);
		if (strcmp(buf_cstr(&r.addr), c->addr) != 0 || r.cls != c->cls ||
		    r.routed != c->routed)
			fail_msg("%s: <%s> -> <%s> %s%s, want <%s> %s%s", c->name, c->in,
				 buf_cstr(&r.addr), resolve_class_name(r.cls),
				 r.routed ? " routed" : "", c->addr, resolve_class_name(c->cls),
				 c->routed ? " routed" : "");
		resolved_free(&r);
	}
}

struct ncase {
	const char *name;
	const char *list;
	const char *host;
	const char *addr;
	int want;
};

static const struct ncase ncases[] = {
	{ "cidr v4", "192.168.0.0/16", NULL, "192.168.7.1", 1 },
	{ "cidr v4 miss", "192.168.0.0/16", NULL, "10.1.1.1", 0 },
	{ "bracketed v6", "[2001:db8::]/32", NULL, "2001:db8:1::5", 1 },
	{ "v4 matches mapped v6", "10.0.0.0/8", NULL, "::ffff:10.2.3.4", 1 },
	{ "negation first wins", "!10.9.0.0/16, 10.0.0.0/8", NULL, "10.9.1.1", 0 },
	{ "name pattern", "trusted.example", "mx.trusted.example", "203.0.113.1", 0 },
	{ "single address", "127.0.0.1", NULL, "127.0.0.1", 1 },
};

static void test_networks(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ncases) / sizeof(ncases[0]); i++) {
		const struct ncase *c = &ncases[i];
		struct buf err = BUF_INIT;
		struct resolve_list *l = resolve_list_new("mynetworks", c->list, false, &err);
		int m;

		if (l == NULL)
			fail_msg("%s: %s", c->name, buf_cstr(&err));
		m = resolve_list_match_host(l, c->host, c->addr, &err);
		if (m != c->want)
			fail_msg("%s: got %d want %d", c->name, m, c->want);
		resolve_list_free(&l);
		buf_free(&err);
	}
}

static void test_bad_lists(void **state)
{
	static const char *const bad[] = { "10.0.0.1/24", "10.0.0.0/33", "nosuchtype:/x", NULL };

	(void)state;
	for (const char *const *b = bad; *b; b++) {
		struct buf err = BUF_INIT;
		struct resolve_list *l = resolve_list_new("mynetworks", *b, false, &err);

		if (l != NULL)
			fail_msg("\"%s\" should not parse", *b);
		assert_true(strstr(buf_cstr(&err), "mynetworks") != NULL);
		buf_free(&err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_networks),
		cmocka_unit_test(test_bad_lists),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
