/*
 * header_test - header line recognition, unfolding and address lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "mail/header.h"

struct name_case {
	const char *what;
	const char *line;
	size_t name_len;
	enum header_id id;
};

static const struct name_case name_cases[] = {
	{ "simple", "Subject: hi", 7, HDR_OTHER },
	{ "known, odd case", "fROM: a@b", 4, HDR_FROM },
	{ "space before colon", "To : a@b", 2, HDR_TO },
	{ "empty value", "Cc:", 2, HDR_CC },
	{ "continuation line", " folded: no", 0, HDR_OTHER },
	{ "no colon", "From a@b Sat Jan", 0, HDR_OTHER },
	{ "empty name", ": x", 0, HDR_OTHER },
	{ "body text", "hello world", 0, HDR_OTHER },
	{ "message-id", "Message-Id: <x@y>", 10, HDR_MESSAGE_ID },
	{ "mime", "MIME-Version: 1.0", 12, HDR_MIME_VERSION },
	{ "resent", "Resent-Bcc: x", 10, HDR_RESENT_BCC },
	{ "x-original-to", "X-Original-To: x", 13, HDR_X_ORIGINAL_TO },
	{ "prefix of known", "Fro: x", 3, HDR_OTHER },
	{ "longer than known", "Fromm: x", 5, HDR_OTHER },
};

/* test_header_names - name length and classification per case */
static void test_header_names(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
		const struct name_case *c = &name_cases[i];
		size_t len = strlen(c->line);
		const struct header_info *h = header_classify(c->line, len);

		print_message("case: %s\n", c->what);
		assert_int_equal(header_name_len(c->line, len), c->name_len);
		assert_int_equal(h ? h->id : HDR_OTHER, c->id);
	}
}

/* test_header_table_sorted - every known name is found by the search */
static void test_header_table_sorted(void **state)
{
	static const char *names[] = {
		"Apparently-To", "Bcc", "Cc", "Content-Description",
		"Content-Disposition", "Content-ID", "Content-Length",
		"Content-Transfer-Encoding", "Content-Type", "Date",
		"Delivered-To", "Disposition-Notification-To", "Errors-To",
		"From", "Mail-Followup-To", "Mail-Reply-To", "Message-ID",
		"MIME-Version", "Received", "Reply-To", "Resent-Bcc",
		"Resent-Cc", "Resent-Date", "Resent-From", "Resent-Message-ID",
		"Resent-Reply-To", "Resent-Sender", "Resent-To", "Return-Path",
		"Return-Receipt-To", "Sender", "To", "X-Original-To",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct header_info *h = header_find(names[i], strlen(names[i]));

		print_message("name: %s\n", names[i]);
		assert_non_null(h);
		assert_string_equal(h->name, names[i]);
	}
}

/* test_header_value_offset - the value starts after colon and blanks */
static void test_header_value_offset(void **state)
{
	(void)state;
	assert_int_equal(header_value_offset("Subject:  hi", 12), 10);
	assert_int_equal(header_value_offset("To :x", 5), 4);
	assert_int_equal(header_value_offset("Cc:", 3), 3);
	assert_int_equal(header_value_offset("nothing", 7), 0);
}

/* test_header_unfold - line breaks before white space go, others stay */
static void test_header_unfold(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "X-Foo: bar\n  baz", "X-Foo: bar  baz" },
		{ "X-Foo: bar\r\n\tbaz", "X-Foo: bar\tbaz" },
		{ "X-Foo: bar", "X-Foo: bar" },
		{ "X-Foo: a\nb", "X-Foo: a\nb" },
		{ "X-Foo: a\n", "X-Foo: a\n" },
	};
	struct buf out = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		header_unfold(cases[i].in, strlen(cases[i].in), &out);
		assert_string_equal(buf_cstr(&out), cases[i].out);
	}
	buf_free(&out);
}

struct list_case {
	const char *what;
	const char *text;
	const char *addrs[4];	/* internal form */
	const char *spans[4];	/* source text of each addr-spec */
};

static const struct list_case list_cases[] = {
	{ "bare", "a@b.example", { "a@b.example" }, { "a@b.example" } },
	{ "two bare", "a@x, b@y", { "a@x", "b@y" }, { "a@x", "b@y" } },
	{ "display name", "John Doe <john@x>", { "john@x" }, { "john@x" } },
	{ "quoted display with comma", "\"Doe, John\" <john@x>, c@y",
	  { "john@x", "c@y" }, { "john@x", "c@y" } },
	{ "comment after", "user@x (The User)", { "user@x" }, { "user@x" } },
	{ "comment inside", "user(c)@x", { "user@x" }, { "user(c)@x" } },
	{ "quoted local part", "\"john doe\"@x", { "john doe@x" },
	  { "\"john doe\"@x" } },
	{ "null address", "<>", { "" }, { "" } },
	{ "unqualified", "alice", { "alice" }, { "alice" } },
	{ "group", "friends: a@x, b@y;, c@z", { "a@x", "b@y", "c@z" },
	  { "a@x", "b@y", "c@z" } },
	{ "empty group", "undisclosed-recipients:;", { NULL }, { NULL } },
	{ "source route", "<@r1,@r2:u@d>", { "u@d" }, { "u@d" } },
	{ "unterminated quote", "\"abc <x@y>", { "abc <x@y>" },
	  { "\"abc <x@y>" } },
	{ "unterminated angle", "Name <x@y", { "x@y" }, { "x@y" } },
	{ "domain literal", "u@[192.0.2.1]", { "u@[192.0.2.1]" },
	  { "u@[192.0.2.1]" } },
	{ "spaces around dots", "a . b @ x", { "a.b@x" }, { "a . b @ x" } },
	{ "empty", "", { NULL }, { NULL } },
	{ "commas only", " , ,", { NULL }, { NULL } },
};

/* test_addr_list_parse - addresses and spans per case */
static void test_addr_list_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(list_cases) / sizeof(list_cases[0]); i++) {
		const struct list_case *c = &list_cases[i];
		struct header_addrs l = HEADER_ADDRS_INIT;
		size_t n = 0;

		print_message("case: %s\n", c->what);
		header_addrs_parse(c->text, strlen(c->text), &l);
		while (n < 4 && c->addrs[n])
			n++;
		assert_int_equal(l.n, n);
		for (size_t j = 0; j < n; j++) {
			assert_string_equal(l.v[j].addr, c->addrs[j]);
			assert_int_equal(l.v[j].end - l.v[j].start, strlen(c->spans[j]));
			assert_memory_equal(c->text + l.v[j].start, c->spans[j],
					    strlen(c->spans[j]));
		}
		header_addrs_free(&l);
	}
}

/* test_addr_forms - internal/external conversions and splitting */
static void test_addr_forms(void **state)
{
	static const struct {
		const char *ext, *intl, *back;
	} cases[] = {
		{ "user@x", "user@x", "user@x" },
		{ "\"john doe\"@x", "john doe@x", "\"john doe\"@x" },
		{ "\"a\\\"b\"@x", "a\"b@x", "\"a\\\"b\"@x" },
		{ "\"plain\"@x", "plain@x", "plain@x" },
		{ "a..b@x", "a..b@x", "\"a..b\"@x" },
		{ "", "", "" },
		{ "first.last+tag@x", "first.last+tag@x", "first.last+tag@x" },
	};
	struct buf out = BUF_INIT, l = BUF_INIT, d = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		header_addr_internalize(cases[i].ext, &out);
		assert_string_equal(buf_cstr(&out), cases[i].intl);
		header_addr_externalize(cases[i].intl, &out);
		assert_string_equal(buf_cstr(&out), cases[i].back);
	}
	header_addr_split("a@b@c", &l, &d);
	assert_string_equal(buf_cstr(&l), "a@b");
	assert_string_equal(buf_cstr(&d), "c");
	header_addr_split("local", &l, &d);
	assert_string_equal(buf_cstr(&l), "local");
	assert_string_equal(buf_cstr(&d), "");
	buf_free(&out);
	buf_free(&l);
	buf_free(&d);
}

/* display names as Postfix's cleanup writes them (tests/fixtures/fullname) */
static void test_phrase(void **state)
{
	static const struct {
		const char *label, *name, *want;
	} cases[] = {
		{ "plain", "John Public", "John Public" },
		{ "dot quotes all", "John Q. Public", "\"John Q. Public\"" },
		{ "escapes", "a \"q\" b\\x", "\"a \\\"q\\\" b\\\\x\"" },
		{ "bang", "a!b", "\"a!b\"" },
		{ "atext", "a#$&*+/=?^_`{|}~-b'c", "a#$&*+/=?^_`{|}~-b'c" },
		{ "spaces collapse", "  spaced \t  name  ", "spaced name" },
		{ "spaces kept when quoted", "a  .  b", "\"a  .  b\"" },
		{ "line break is a space", "a\r\n.b", "\"a  .b\"" },
		{ "control word", "ctl\tname\001x", "ctl \"name\001x\"" },
		{ "utf-8", "N\xc3\xa4me", "N\xc3\xa4me" },
		{ "blank", "   ", "" },
	};
	struct buf out = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		header_phrase_externalize(cases[i].name, &out);
		if (strcmp(buf_cstr(&out), cases[i].want) != 0)
			fail_msg("%s: got [%s], want [%s]", cases[i].label, buf_cstr(&out),
				 cases[i].want);
	}
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_names),
		cmocka_unit_test(test_header_table_sorted),
		cmocka_unit_test(test_header_value_offset),
		cmocka_unit_test(test_header_unfold),
		cmocka_unit_test(test_addr_list_parse),
		cmocka_unit_test(test_addr_forms),
		cmocka_unit_test(test_phrase),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
