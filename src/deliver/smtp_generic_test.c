/*
 * smtp_generic_test - smtp_generic_maps against the cases recorded from
 * Postfix 3.7's smtp(8) (tests/fixtures/generic/NAME.case, see record.py
 * there): the envelope and the headers as the next hop received them.
 * No Postfix and no network are needed here.
 *
 * A case has [main.cf] (over base.cf), [generic] (the table), [message]
 * (mail, rcpt, header and body lines; "\n" and "\t" escapes inside a
 * header) and [expect] (what the sink got, Received: and Subject: left
 * out). Headers that cleanup drops (Bcc, Resent-Bcc) never reach smtp and
 * are left out of the message here too.
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

#include "deliver/smtp.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "mail/addr.h"
#include "mail/header.h"
#include "outpost_build.h"

#define FIXTURES OUTPOST_SOURCE_ROOT "/tests/fixtures/generic"

/* section_lines - the lines of one [section] of a case file */
static void section_lines(const char *path, const char *section, struct strv *out)
{
	FILE *fp = fopen(path, "r");
	char line[4096];
	bool in = false;

	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '[' && line[strlen(line) - 1] == ']') {
			in = strncmp(line + 1, section, strlen(section)) == 0 &&
			     line[1 + strlen(section)] == ']';
			continue;
		}
		if (in)
			strv_push(out, line);
	}
	fclose(fp);
}

/* unescape - "\n" and "\t" in a case's header line */
static void unescape(const char *s, struct buf *out)
{
	buf_reset(out);
	for (; *s; s++) {
		if (s[0] == '\\' && (s[1] == 'n' || s[1] == 't')) {
			buf_putc(out, s[1] == 'n' ? '\n' : '\t');
			s++;
		} else {
			buf_putc(out, *s);
		}
	}
}

/* escape - the inverse, for comparing with [expect] */
static void escape(const char *s, size_t len, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			buf_puts(out, "\\n");
		else if (s[i] == '\t')
			buf_puts(out, "\\t");
		else
			buf_putc(out, s[i]);
	}
}

/* value_of - "key: value" -> value when the line has that key */
static const char *value_of(const char *line, const char *key)
{
	size_t n = strlen(key);

	return strncmp(line, key, n) == 0 && line[n] == ':' ? line + n + (line[n + 1] ? 2 : 1) : NULL;
}

/* load_config - base.cf, the case's [main.cf] and the table path */
static struct config *load_config(const char *path, const char *table)
{
	struct strv base = STRV_INIT, over = STRV_INIT;
	struct buf text = BUF_INIT, err = BUF_INIT;
	struct config *cf;

	section_lines(path, "main.cf", &over);
	{
		FILE *fp = fopen(FIXTURES "/base.cf", "r");
		char line[1024];

		assert_non_null(fp);
		while (fgets(line, sizeof(line), fp))
			if (line[0] != '#')
				buf_puts(&text, line);
		fclose(fp);
	}
	for (size_t i = 0; i < over.n; i++)
		buf_printf(&text, "%s\n", over.v[i]);
	buf_printf(&text, "smtp_generic_maps = texthash:%s\n", table);
	cf = config_load_text(text.data, text.len, NULL, 0, &err);
	if (cf == NULL)
		fail_msg("%s: %s", path, buf_cstr(&err));
	strv_free(&base);
	strv_free(&over);
	buf_free(&text);
	buf_free(&err);
	return cf;
}

/* write_table - the [generic] section as a texthash source */
static void write_table(const char *path, const char *table)
{
	struct strv lines = STRV_INIT;
	FILE *fp = fopen(table, "w");

	assert_non_null(fp);
	section_lines(path, "generic", &lines);
	for (size_t i = 0; i < lines.n; i++)
		fprintf(fp, "%s\n", lines.v[i]);
	fclose(fp);
	strv_free(&lines);
}

/* map_env - one envelope address as smtp sends it */
static void map_env(struct smtp_generic *g, const char *addr, const char *key,
		    struct strv *out)
{
	struct buf a = BUF_INIT, ext = BUF_INIT, line = BUF_INIT, err = BUF_INIT;

	assert_int_equal(smtp_generic_addr(g, addr, &a, &err), 0);
	addr_external(buf_cstr(&a), &ext);
	buf_printf(&line, "%s: %s", key, ext.len ? buf_cstr(&ext) : "<>");
	strv_push(out, buf_cstr(&line));
	buf_free(&a);
	buf_free(&ext);
	buf_free(&line);
	buf_free(&err);
}

/* result_lines - the content after mapping, as [expect] lines */
static void result_lines(const struct buf *content, struct strv *got)
{
	const char *p = content->data, *end = p + content->len;
	struct buf one = BUF_INIT;

	while (p < end && *p != '\n') {
		const char *q = p;
		const struct header_info *h;

		while ((q = memchr(q, '\n', (size_t)(end - q))) != NULL && q + 1 < end &&
		       (q[1] == ' ' || q[1] == '\t'))
			q++;
		if (q == NULL)
			q = end;
		h = header_classify(p, (size_t)(q - p));
		if (h == NULL || h->id != HDR_RECEIVED) {
			if (strncmp(p, "Subject:", 8) != 0) {
				struct buf line = BUF_INIT;

				escape(p, (size_t)(q - p), &one);
				buf_printf(&line, "header: %s", buf_cstr(&one));
				strv_push(got, buf_cstr(&line));
				buf_free(&line);
			}
		}
		p = q < end ? q + 1 : end;
	}
	if (p < end)
		p++;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct buf line = BUF_INIT;

		if (nl == NULL)
			nl = end;
		buf_printf(&line, "body: %.*s", (int)(nl - p), p);
		strv_push(got, buf_cstr(&line));
		buf_free(&line);
		p = nl + 1;
	}
	buf_free(&one);
}

/* cmp_str - qsort on strings */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* run_case - one recorded case */
static void run_case(const char *path)
{
	char dir[] = "/tmp/generic_testXXXXXX", table[600];
	struct strv msg = STRV_INIT, expect = STRV_INIT, got = STRV_INIT;
	struct buf content = BUF_INIT, out = BUF_INIT, err = BUF_INIT, tmp = BUF_INIT;
	struct config *cf;
	struct smtp_generic *g;
	size_t first_rcpt, nrcpt = 0;
	const char *name = strrchr(path, '/') + 1;
	bool changed;

	assert_non_null(mkdtemp(dir));
	snprintf(table, sizeof(table), "%s/generic", dir);
	write_table(path, table);
	cf = load_config(path, table);
	g = smtp_generic_open(cf, false, &err);
	if (g == NULL)
		fail_msg("%s: %s", path, buf_cstr(&err));
	section_lines(path, "message", &msg);
	section_lines(path, "expect", &expect);
	for (size_t i = 0; i < msg.n; i++) {
		const char *v;

		if ((v = value_of(msg.v[i], "mail")) != NULL)
			map_env(g, strcmp(v, "<>") == 0 ? "" : v, "mail", &got);
	}
	first_rcpt = got.n;
	for (size_t i = 0; i < msg.n; i++) {
		const char *v;

		if ((v = value_of(msg.v[i], "rcpt")) != NULL) {
			map_env(g, v, "rcpt", &got);
			nrcpt++;
		} else if ((v = value_of(msg.v[i], "header")) != NULL) {
			const struct header_info *h;

			unescape(v, &tmp);
			h = header_classify(tmp.data, tmp.len);
			if (h == NULL || !(h->flags & HDR_F_DROP))
				buf_printf(&content, "%s\n", buf_cstr(&tmp));
		}
	}
	/* the sink saw recipients in queue order: compare them as a set */
	qsort(got.v + first_rcpt, nrcpt, sizeof(char *), cmp_str);
	qsort(expect.v + first_rcpt, nrcpt, sizeof(char *), cmp_str);
	buf_printf(&content, "Subject: %.*s\n\n", (int)(strlen(name) - 5), name);
	for (size_t i = 0; i < msg.n; i++) {
		const char *v = value_of(msg.v[i], "body");

		if (v)
			buf_printf(&content, "%s\n", v);
	}
	assert_int_equal(smtp_generic_content(g, &content, &out, &changed, &err), 0);
	result_lines(changed ? &out : &content, &got);
	for (size_t i = 0; i < expect.n || i < got.n; i++) {
		const char *e = i < expect.n ? expect.v[i] : "(nothing)";
		const char *o = i < got.n ? got.v[i] : "(nothing)";

		if (strcmp(e, o) != 0)
			fail_msg("%s: line %zu\n expected: %s\n      got: %s", name, i + 1, e, o);
	}
	smtp_generic_close(&g);
	config_free(&cf);
	unlink(table);
	rmdir(dir);
	strv_free(&msg);
	strv_free(&expect);
	strv_free(&got);
	buf_free(&content);
	buf_free(&out);
	buf_free(&err);
	buf_free(&tmp);
}

/* test_case - one recorded case, named by the prestate */
static void test_case(void **state)
{
	struct buf path = BUF_INIT;

	buf_printf(&path, "%s/%s.case", FIXTURES, (const char *)*state);
	run_case(buf_cstr(&path));
	buf_free(&path);
}

/* test_no_maps - without the parameter nothing is opened or changed */
static void test_no_maps(void **state)
{
	struct buf err = BUF_INIT, a = BUF_INIT;
	struct config *cf = config_load_text("", 0, NULL, 0, &err);

	(void)state;
	assert_non_null(cf);
	assert_null(smtp_generic_open(cf, false, &err));
	assert_int_equal(err.len, 0);
	assert_int_equal(smtp_generic_addr(NULL, "joe@example.com", &a, &err), 0);
	assert_string_equal(buf_cstr(&a), "joe@example.com");
	config_free(&cf);
	buf_free(&err);
	buf_free(&a);
}

/* test_body_untouched - a header-like line after the blank line stays */
static void test_body_untouched(void **state)
{
	char dir[] = "/tmp/generic_testXXXXXX", table[600], main_cf[700];
	struct buf err = BUF_INIT, in = BUF_INIT, out = BUF_INIT;
	struct config *cf;
	struct smtp_generic *g;
	FILE *fp;
	bool changed;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(table, sizeof(table), "%s/generic", dir);
	fp = fopen(table, "w");
	assert_non_null(fp);
	fputs("@example.com @isp.test\n", fp);
	fclose(fp);
	snprintf(main_cf, sizeof(main_cf), "lmtp_generic_maps = texthash:%s\n", table);
	cf = config_load_text(main_cf, strlen(main_cf), NULL, 0, &err);
	assert_non_null(cf);
	g = smtp_generic_open(cf, true, &err);
	assert_non_null(g);
	/* no final newline; a non-header line ends the headers */
	buf_puts(&in, "To: a@example.com\nnot a header a@example.com\nFrom: b@example.com");
	assert_int_equal(smtp_generic_content(g, &in, &out, &changed, &err), 0);
	assert_true(changed);
	assert_string_equal(buf_cstr(&out),
			    "To: a@isp.test\nnot a header a@example.com\nFrom: b@example.com");
	buf_set(&in, "Subject: a@example.com\n\nTo: a@example.com\n");
	assert_int_equal(smtp_generic_content(g, &in, &out, &changed, &err), 0);
	assert_false(changed);
	assert_string_equal(buf_cstr(&out), buf_cstr(&in));
	smtp_generic_close(&g);
	config_free(&cf);
	unlink(table);
	rmdir(dir);
	buf_free(&err);
	buf_free(&in);
	buf_free(&out);
}

/* a recorded case as a test of its own name */
#define RECORDED(name) { "case " name, test_case, NULL, NULL, (void *)(name) }

int main(void)
{
	const struct CMUnitTest tests[] = {
		RECORDED("order"),
		RECORDED("nullsender"),
		RECORDED("which"),
		RECORDED("syntax"),
		RECORDED("extension"),
		RECORDED("extension-propagate"),
		RECORDED("utf8"),
		RECORDED("nested"),
		cmocka_unit_test(test_no_maps),
		cmocka_unit_test(test_body_untouched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
