/*
 * table_search_test - the key sequences of the derived-key searches
 * (recorded through the trace callback), first-hit rules across a list,
 * extensions, and the sender-login postmortem as a virtual search.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "table/table_test_util.h"

/* trace_keys - "key" for a fixed table, "key~" for a pattern one, ' '-joined */
static void trace_keys(const char *key, const char *spec, enum table_status st, const char *value,
		       void *ctx)
{
	struct buf *b = ctx;

	(void)st;
	(void)value;
	if (b->len)
		buf_putc(b, ' ');
	buf_puts(b, key);
	if (strncmp(spec, "pcre:", 5) == 0 || strncmp(spec, "regexp:", 7) == 0 ||
	    strncmp(spec, "cidr:", 5) == 0)
		buf_putc(b, '~');
}

static bool local_example(const char *domain, void *ctx)
{
	(void)ctx;
	return strcasecmp(domain, "example.com") == 0;
}

struct kcase {
	const char *name;
	enum table_search how;
	const char *query;
	const char *delim;
	bool pdms;
	bool split_owner;
	const char *keys;	/* every key tried, in order, in a list of one empty fixed table */
};

static const struct kcase kcases[] = {
	{ "access full", TABLE_SEARCH_ACCESS, "user+ext@sub.example.com", "+", true, false,
	  "user+ext@sub.example.com user@sub.example.com sub.example.com example.com com "
	  "user+ext@ user@" },
	{ "access no pdms", TABLE_SEARCH_ACCESS, "user+ext@sub.example.com", "+", false, false,
	  "user+ext@sub.example.com user@sub.example.com sub.example.com .example.com .com "
	  "user+ext@ user@" },
	{ "access no delimiter", TABLE_SEARCH_ACCESS, "user+ext@example.com", NULL, true, false,
	  "user+ext@example.com example.com com user+ext@" },
	{ "access delimiter absent", TABLE_SEARCH_ACCESS, "user@example.com", "+", true, false,
	  "user@example.com example.com com user@" },
	{ "delimiter set, first wins", TABLE_SEARCH_ACCESS, "a-b+c@x.org", "+-", true, false,
	  "a-b+c@x.org a@x.org x.org org a-b+c@ a@" },
	{ "leading delimiter kept", TABLE_SEARCH_VIRTUAL, "+a@x.org", "+", false, false,
	  "+a@x.org @x.org" },
	{ "virtual remote", TABLE_SEARCH_VIRTUAL, "user+ext@remote.org", "+", false, false,
	  "user+ext@remote.org user@remote.org @remote.org" },
	{ "virtual local", TABLE_SEARCH_VIRTUAL, "user+ext@example.com", "+", false, false,
	  "user+ext@example.com user@example.com user+ext user @example.com" },
	{ "virtual local no ext", TABLE_SEARCH_VIRTUAL, "user@example.com", "+", false, false,
	  "user@example.com user @example.com" },
	{ "postmaster with extension splits", TABLE_SEARCH_VIRTUAL, "postmaster+x@remote.org", "+",
	  false, false, "postmaster+x@remote.org postmaster@remote.org @remote.org" },
	{ "mailer-daemon unsplit", TABLE_SEARCH_VIRTUAL, "MAILER-DAEMON@remote.org", "-", false,
	  false, "MAILER-DAEMON@remote.org @remote.org" },
	{ "split at the first delimiter", TABLE_SEARCH_VIRTUAL, "post+master@remote.org", "+", false, false,
	  "post+master@remote.org post@remote.org @remote.org" },
	{ "mailer-daemon-x splits", TABLE_SEARCH_VIRTUAL, "mailer-daemon-x@remote.org", "-", false,
	  false, "mailer-daemon-x@remote.org mailer@remote.org @remote.org" },
	{ "owner- unsplit", TABLE_SEARCH_VIRTUAL, "owner-list@remote.org", "-", false, false,
	  "owner-list@remote.org @remote.org" },
	{ "-request unsplit", TABLE_SEARCH_VIRTUAL, "list-request@remote.org", "-", false, false,
	  "list-request@remote.org @remote.org" },
	{ "owner- split when not special", TABLE_SEARCH_VIRTUAL, "owner-list@remote.org", "-",
	  false, true, "owner-list@remote.org owner@remote.org @remote.org" },
	{ "owner- split when - not a delimiter", TABLE_SEARCH_VIRTUAL, "owner+x@remote.org", "+",
	  false, false, "owner+x@remote.org owner@remote.org @remote.org" },
	{ "double-bounce unsplit", TABLE_SEARCH_VIRTUAL, "double-bounce@remote.org", "-", false,
	  true, "double-bounce@remote.org @remote.org" },
	{ "transport", TABLE_SEARCH_TRANSPORT, "user+ext@sub.example.com", "+", false, false,
	  "user+ext@sub.example.com user@sub.example.com sub.example.com .example.com .com *" },
	{ "transport pdms", TABLE_SEARCH_TRANSPORT, "u@a.b.c", NULL, true, false,
	  "u@a.b.c a.b.c b.c c *" },
	{ "bare user", TABLE_SEARCH_VIRTUAL, "user+ext", "+", false, false, "user+ext user" },
	{ "address literal", TABLE_SEARCH_ACCESS, "u@[192.0.2.1]", NULL, true, false,
	  "u@[192.0.2.1] [192.0.2.1] u@" },
	{ "null sender key", TABLE_SEARCH_ACCESS, "<>", "+", true, false, "<>" },
	{ "host name", TABLE_SEARCH_HOST, "mail.sub.example.com", NULL, true, false,
	  "mail.sub.example.com sub.example.com example.com com" },
	{ "host name no pdms", TABLE_SEARCH_HOST, "mail.example.com", NULL, false, false,
	  "mail.example.com .example.com .com" },
	{ "host ipv4", TABLE_SEARCH_HOST, "192.0.2.17", NULL, true, false,
	  "192.0.2.17 192.0.2 192.0 192" },
	{ "host ipv4 bracketed", TABLE_SEARCH_HOST, "[192.0.2.17]", NULL, true, false,
	  "192.0.2.17 192.0.2 192.0 192" },
	{ "host ipv6", TABLE_SEARCH_HOST, "2001:DB8:0:0:1::1", NULL, true, false,
	  "2001:db8::1:0:0:1 2001:db8::1:0:0 2001:db8::1:0 2001:db8::1 2001:db8: 2001:db8 2001" },
};

static void test_key_sequences(void **state)
{
	struct buf err = BUF_INIT, v = BUF_INIT, trace = BUF_INIT;
	struct table_list *l = table_list_open("inline:{nothing=here}", 0, &err);

	(void)state;
	assert_non_null(l);
	for (size_t i = 0; i < sizeof(kcases) / sizeof(kcases[0]); i++) {
		const struct kcase *c = &kcases[i];
		struct table_search_opts o = {
			.recipient_delimiter = c->delim,
			.parent_matches_subdomains = c->pdms,
			.split_owner_request = c->split_owner,
			.is_local_domain = local_example,
			.trace = trace_keys,
			.trace_ctx = &trace,
		};

		buf_reset(&trace);
		assert_int_equal(table_find(l, c->how, c->query, &o, &v, NULL), TABLE_NOTFOUND);
		if (strcmp(buf_cstr(&trace), c->keys) != 0)
			fail_msg("case '%s':\n got  '%s'\n want '%s'", c->name, buf_cstr(&trace),
				 c->keys);
	}
	table_list_close(&l);
	buf_free(&err);
	buf_free(&v);
	buf_free(&trace);
}

struct fcase {
	const char *name;
	const char *list;
	enum table_search how;
	const char *query;
	const char *want;	/* value, "-" or "!ERR" */
	const char *key;	/* matched key */
	const char *ext;	/* stripped extension */
};

static const struct fcase fcases[] = {
	{ "exact beats domain", "inline:{a@x.org=1, x.org=2}", TABLE_SEARCH_ACCESS, "a@x.org", "1",
	  "a@x.org", "" },
	{ "each key through every table first", "inline:{x.org=domain}, inline:{a@x.org=addr}",
	  TABLE_SEARCH_ACCESS, "a@x.org", "addr", "a@x.org", "" },
	{ "extension stripped", "inline:{a@x.org=1}", TABLE_SEARCH_VIRTUAL, "a+tag@x.org", "1",
	  "a@x.org", "+tag" },
	{ "catch-all keeps extension", "inline:{@x.org=all}", TABLE_SEARCH_VIRTUAL, "a+tag@x.org",
	  "all", "@x.org", "+tag" },
	{ "full key keeps no extension", "inline:{a+tag@x.org=1}", TABLE_SEARCH_VIRTUAL,
	  "a+tag@x.org", "1", "a+tag@x.org", "" },
	{ "dunno stops the walk", "inline:{a@x.org=DUNNO, x.org=REJECT}", TABLE_SEARCH_ACCESS,
	  "a@x.org", "DUNNO", "a@x.org", "" },
	{ "error stops", "inline:{x.org=1}, fail:f", TABLE_SEARCH_ACCESS, "a@x.org", "!ERR", "",
	  "" },
	{ "error before hit in later table", "fail:f, inline:{a@x.org=1}", TABLE_SEARCH_ACCESS,
	  "a@x.org", "!ERR", "", "" },
	{ "parent", "inline:{example.com=OK}", TABLE_SEARCH_ACCESS, "u@mx.example.com", "OK",
	  "example.com", "" },
	{ "wildcard transport", "inline:{*=relay:[h]}", TABLE_SEARCH_TRANSPORT, "u@x.org",
	  "relay:[h]", "*", "" },
	{ "host octets", "inline:{192.0=REJECT}", TABLE_SEARCH_HOST, "192.0.2.1", "REJECT", "192.0",
	  "" },
	{ "fold", "inline:{user@x.org=1}", TABLE_SEARCH_VIRTUAL, "User@X.ORG", "1", "User@X.ORG",
	  "" },
};

static void test_finds(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fcases) / sizeof(fcases[0]); i++) {
		const struct fcase *c = &fcases[i];
		struct buf err = BUF_INIT, v = BUF_INIT;
		struct table_list *l = table_list_open(c->list, 0, &err);
		struct table_match m = { BUF_INIT, BUF_INIT };
		struct table_search_opts o = { .recipient_delimiter = "+",
					       .parent_matches_subdomains = true };
		enum table_status st;
		const char *got;

		assert_non_null(l);
		st = table_find(l, c->how, c->query, &o, &v, &m);
		got = st == TABLE_FOUND ? buf_cstr(&v) : st == TABLE_NOTFOUND ? "-" : "!ERR";
		if (strcmp(got, c->want) != 0)
			fail_msg("case '%s': got '%s' want '%s'", c->name, got, c->want);
		if (st == TABLE_TEMPFAIL) {
			assert_true(strlen(table_list_error(l)) > 0);
		} else if (strcmp(buf_cstr(&m.key), c->key) != 0 ||
			   strcmp(buf_cstr(&m.extension), c->ext) != 0) {
			fail_msg("case '%s': matched '%s' ext '%s', want '%s' '%s'", c->name,
				 buf_cstr(&m.key), buf_cstr(&m.extension), c->key, c->ext);
		}
		table_match_free(&m);
		table_list_close(&l);
		buf_free(&err);
		buf_free(&v);
	}
}

/*
 * The sender-login postmortem as smtpd_sender_login_maps sees it: a
 * virtual-style search over a list, a union whose first member is fixed,
 * and a union whose first member is a pattern (no partial keys at all).
 */
static void test_sender_login_virtual(void **state)
{
	char *hash = tt_write("alice@example.com alice@example.com\n@example.org owner@example.org\n");
	char *pcre = tt_write("/.*@example\\.com/ admin@example.com\n");
	struct buf spec = BUF_INIT, err = BUF_INIT, v = BUF_INIT, trace = BUF_INIT;
	struct table_search_opts o = { .recipient_delimiter = "+", .trace = trace_keys,
				       .trace_ctx = &trace };
	struct table_list *l;

	(void)state;
	/* list: alice's own entry answers first; admin is never asked */
	buf_printf(&spec, "texthash:%s, pcre:%s", hash, pcre);
	l = table_list_open(buf_cstr(&spec), 0, &err);
	assert_int_equal(table_find(l, TABLE_SEARCH_VIRTUAL, "alice@example.com", &o, &v, NULL),
			 TABLE_FOUND);
	assert_string_equal(buf_cstr(&v), "alice@example.com");
	/* the full tagged key reaches the pcre first: it wins over alice's entry */
	assert_int_equal(table_find(l, TABLE_SEARCH_VIRTUAL, "alice+tag@example.com", &o, &v, NULL),
			 TABLE_FOUND);
	assert_string_equal(buf_cstr(&v), "admin@example.com");
	table_list_close(&l);

	/* union, fixed first: both owners; @domain entries reach every member */
	buf_reset(&spec);
	buf_printf(&spec, "unionmap:{texthash:%s, pcre:%s}", hash, pcre);
	l = table_list_open(buf_cstr(&spec), 0, &err);
	assert_int_equal(table_find(l, TABLE_SEARCH_VIRTUAL, "alice@example.com", &o, &v, NULL),
			 TABLE_FOUND);
	assert_string_equal(buf_cstr(&v), "alice@example.com,admin@example.com");
	assert_int_equal(table_find(l, TABLE_SEARCH_VIRTUAL, "bob@example.org", &o, &v, NULL),
			 TABLE_FOUND);
	assert_string_equal(buf_cstr(&v), "owner@example.org");
	table_list_close(&l);

	/* union, pattern first: only the full key is ever tried */
	buf_reset(&spec);
	buf_printf(&spec, "unionmap:{pcre:%s, texthash:%s}", pcre, hash);
	l = table_list_open(buf_cstr(&spec), 0, &err);
	buf_reset(&trace);
	assert_int_equal(table_find(l, TABLE_SEARCH_VIRTUAL, "bob+x@example.org", &o, &v, NULL),
			 TABLE_NOTFOUND);
	assert_string_equal(buf_cstr(&trace), "bob+x@example.org");
	table_list_close(&l);

	unlink(hash);
	unlink(pcre);
	free(hash);
	free(pcre);
	buf_free(&spec);
	buf_free(&err);
	buf_free(&v);
	buf_free(&trace);
}

static void test_partial_keys_skip_patterns(void **state)
{
	char *re = tt_write("/./ pattern\n");
	struct buf spec = BUF_INIT, err = BUF_INIT, v = BUF_INIT, trace = BUF_INIT;
	struct table_search_opts o = { .recipient_delimiter = "+", .trace = trace_keys,
				       .trace_ctx = &trace, .parent_matches_subdomains = true };
	struct table_list *l;

	(void)state;
	buf_printf(&spec, "regexp:%s, inline:{nothing=here}", re);
	l = table_list_open(buf_cstr(&spec), 0, &err);
	assert_non_null(l);
	assert_int_equal(table_find(l, TABLE_SEARCH_HOST, "10.1.2.3", &o, &v, NULL), TABLE_FOUND);
	assert_string_equal(buf_cstr(&trace), "10.1.2.3~");
	buf_reset(&trace);
	table_list_close(&l);
	buf_reset(&spec);
	buf_printf(&spec, "inline:{nothing=here}, regexp:%s", re);
	l = table_list_open(buf_cstr(&spec), 0, &err);
	assert_int_equal(table_find(l, TABLE_SEARCH_ACCESS, "a+b@x.org", &o, &v, NULL), TABLE_FOUND);
	assert_string_equal(buf_cstr(&trace), "a+b@x.org a+b@x.org~");
	table_list_close(&l);
	/* wrappers keep the pattern property of what they wrap */
	buf_reset(&trace);
	buf_reset(&spec);
	buf_printf(&spec, "proxy:regexp:%s, debug:regexp:%s", re, re);
	l = table_list_open(buf_cstr(&spec), 0, &err);
	assert_non_null(l);
	assert_int_equal(table_props(table_list_member(l, 0)), TABLE_P_PATTERN);
	assert_int_equal(table_props(table_list_member(l, 1)), TABLE_P_PATTERN);
	assert_int_equal(table_find(l, TABLE_SEARCH_VIRTUAL, "a+b@x.org", &o, &v, NULL),
			 TABLE_FOUND);
	table_list_close(&l);
	unlink(re);
	free(re);
	buf_free(&spec);
	buf_free(&err);
	buf_free(&v);
	buf_free(&trace);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_sequences),
		cmocka_unit_test(test_finds),
		cmocka_unit_test(test_sender_login_virtual),
		cmocka_unit_test(test_partial_keys_skip_patterns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
