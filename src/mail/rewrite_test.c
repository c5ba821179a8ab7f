/*
 * rewrite_test - the rewrite functions against cases recorded from Postfix
 * 3.7 (tests/fixtures/rewrite/NAME.case, see record.py there), plus unit
 * cases for the pieces. No Postfix is needed here.
 *
 * A case file has sections: [main.cf] (over base.cf), one per table
 * ([virtual], [canonical], …, written as texthash files), [message]
 * (sender, rcpt and header lines) and [expect] (what Postfix queued).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "mail/header.h"
#include "mail/rewrite.h"
#include "outpost_build.h"

#define FIXTURES OUTPOST_SOURCE_ROOT "/tests/fixtures/rewrite"

struct case_file {
	struct strv names;	/* section name per line */
	struct strv lines;
};

/* read_case - every line with the section it belongs to */
static void read_case(const char *path, struct case_file *c)
{
	FILE *fp = fopen(path, "r");
	char line[4096];
	char section[64] = "";

	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '[' && line[strlen(line) - 1] == ']') {
			snprintf(section, sizeof(section), "%.*s", (int)strlen(line) - 2, line + 1);
			continue;
		}
		if (line[0] == '#' && section[0] == '\0')
			continue;
		strv_push(&c->names, section);
		strv_push(&c->lines, line);
	}
	fclose(fp);
}

struct local_domains {
	struct strv mydestination;
	const char *myorigin;
};

/* is_local - mydestination or myorigin, as resolve.h decides in daemons */
static bool is_local(const char *domain, void *ctx)
{
	struct local_domains *ld = ctx;

	return strv_contains_case(&ld->mydestination, domain) ||
	       str_eq_case(domain, ld->myorigin);
}

/* set_param - the main.cf names the cases use */
static void set_param(struct rewrite_cf *cf, struct local_domains *ld,
		      const char *dir, const char *name, const char *value)
{
	const char *serr = NULL;

	if (strcmp(name, "myorigin") == 0) {
		free(cf->myorigin);
		cf->myorigin = xstrdup(strcmp(value, "$mydomain") == 0 ? cf->mydomain : value);
		ld->myorigin = cf->myorigin;
	} else if (strcmp(name, "myhostname") == 0) {
		/* not used by rewriting */
	} else if (strcmp(name, "mydomain") == 0) {
		free(cf->mydomain);
		cf->mydomain = xstrdup(value);
	} else if (strcmp(name, "mydestination") == 0) {
		str_split(value, STR_SEP_LIST, &ld->mydestination, &serr);
	} else if (strcmp(name, "recipient_delimiter") == 0) {
		free(cf->recipient_delimiter);
		cf->recipient_delimiter = xstrdup(value);
	} else if (strcmp(name, "append_dot_mydomain") == 0) {
		cf->append_dot_mydomain = strcmp(value, "yes") == 0;
	} else if (strcmp(name, "propagate_unmatched_extensions") == 0) {
		cf->propagate_canonical = strstr(value, "canonical") != NULL;
		cf->propagate_virtual = strstr(value, "virtual") != NULL;
	} else if (strcmp(name, "canonical_classes") == 0) {
		cf->canonical_classes = rewrite_parse_classes(value, NULL);
	} else if (strcmp(name, "masquerade_classes") == 0) {
		cf->masquerade_classes = rewrite_parse_classes(value, NULL);
	} else if (strcmp(name, "masquerade_domains") == 0) {
		str_split(value, STR_SEP_LIST, &cf->masquerade_domains, &serr);
	} else if (strcmp(name, "masquerade_exceptions") == 0) {
		str_split(value, STR_SEP_LIST, &cf->masquerade_exceptions, &serr);
	} else if (strcmp(name, "virtual_alias_recursion_limit") == 0) {
		cf->recursion_limit = atol(value);
	} else if (strcmp(name, "virtual_alias_expansion_limit") == 0) {
		cf->expansion_limit = atol(value);
	} else if (strstr(name, "_maps") != NULL) {
		struct buf spec = BUF_INIT, err = BUF_INIT;
		struct table_list *l;

		assert_true(str_has_prefix(value, "texthash:"));
		buf_printf(&spec, "texthash:%s/%s", dir, value + 9);
		l = table_list_open(buf_cstr(&spec), TABLE_F_FOLD, &err);
		if (l == NULL)
			fail_msg("%s: %s", buf_cstr(&spec), buf_cstr(&err));
		if (strcmp(name, "virtual_alias_maps") == 0)
			cf->virtual_alias = l;
		else if (strcmp(name, "canonical_maps") == 0)
			cf->canonical = l;
		else if (strcmp(name, "sender_canonical_maps") == 0)
			cf->sender_canonical = l;
		else if (strcmp(name, "recipient_canonical_maps") == 0)
			cf->recipient_canonical = l;
		buf_free(&spec);
		buf_free(&err);
	} else {
		fail_msg("case uses a setting the test does not know: %s", name);
	}
}

/* apply_settings - "name = value" lines of one section */
static void apply_settings(struct rewrite_cf *cf, struct local_domains *ld,
			   const char *dir, const struct case_file *c, const char *section)
{
	for (size_t i = 0; i < c->lines.n; i++) {
		char *line, *eq;

		if (strcmp(c->names.v[i], section) != 0 || strchr(c->lines.v[i], '=') == NULL ||
		    c->lines.v[i][0] == '#')
			continue;
		line = xstrdup(c->lines.v[i]);
		eq = strchr(line, '=');
		*eq = '\0';
		set_param(cf, ld, dir, str_trim(line), str_trim(eq + 1));
		free(line);
	}
}

/* write_tables - each table section as a texthash source in dir */
static void write_tables(const char *dir, const struct case_file *c)
{
	static const char *tables[] = { "virtual", "canonical", "sender_canonical",
					"recipient_canonical" };

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		char path[512];
		FILE *fp;

		snprintf(path, sizeof(path), "%s/%s", dir, tables[t]);
		fp = fopen(path, "w");
		assert_non_null(fp);
		for (size_t i = 0; i < c->lines.n; i++)
			if (strcmp(c->names.v[i], tables[t]) == 0)
				fprintf(fp, "%s\n", c->lines.v[i]);
		fclose(fp);
	}
}

/* escape_folds - a header with its line breaks shown as the fixture does */
static void escape_folds(const char *s, struct buf *out)
{
	buf_reset(out);
	for (; *s; s++) {
		if (*s == '\n') {
			buf_puts(out, "\\n");
			if (s[1] == '\t') {
				buf_puts(out, "\\t");
				s++;
			}
			continue;
		}
		buf_putc(out, *s);
	}
}

/* run_message - the cleanup pipeline over [message]; one line per result */
static void run_message(const struct rewrite_cf *cf, const struct case_file *c,
			struct strv *got)
{
	struct buf out = BUF_INIT, why = BUF_INIT, line = BUF_INIT, esc = BUF_INIT;
	struct strv seen = STRV_INIT, results = STRV_INIT, lines = STRV_INIT;

	for (size_t i = 0; i < c->lines.n; i++) {
		const char *l = c->lines.v[i];

		if (strcmp(c->names.v[i], "message") != 0)
			continue;
		if (str_has_prefix(l, "sender: ")) {
			if (rewrite_address(cf, REWRITE_ENV_SENDER, l + 8, &out, &why) < 0)
				goto defer;
			buf_reset(&line);
			buf_printf(&line, "sender: %s", buf_cstr(&out));
			strv_push(&lines, buf_cstr(&line));
		} else if (str_has_prefix(l, "rcpt: ")) {
			if (rewrite_address(cf, REWRITE_ENV_RECIPIENT, l + 6, &out, &why) < 0 ||
			    rewrite_virtual(cf, buf_cstr(&out), &results, &why) < 0)
				goto defer;
			for (size_t j = 0; j < results.n; j++) {
				char *key;

				buf_reset(&line);
				buf_printf(&line, "rcpt: %s -> %s", l + 6, results.v[j]);
				key = str_lower_dup(buf_cstr(&line));
				if (!strv_contains(&seen, key))
					strv_push(&lines, buf_cstr(&line));
				strv_push_take(&seen, key);
			}
			strv_free(&results);
		} else if (str_has_prefix(l, "header: ")) {
			const struct header_info *h = header_classify(l + 8, strlen(l + 8));
			bool changed;

			if (h && (h->flags & HDR_F_DROP))
				continue;
			buf_set(&out, l + 8);
			if (h && (h->flags & (HDR_F_SENDER | HDR_F_RECIPIENT))) {
				unsigned cls = (h->flags & HDR_F_SENDER) ? REWRITE_HDR_SENDER
									  : REWRITE_HDR_RECIPIENT;

				if (rewrite_header(cf, cls, l + 8, strlen(l + 8), &out, &changed,
						   &why) < 0)
					goto defer;
			}
			escape_folds(buf_cstr(&out), &esc);
			buf_reset(&line);
			buf_printf(&line, "header: %s", buf_cstr(&esc));
			strv_push(&lines, buf_cstr(&line));
		}
	}
	/* Postfix queues the sender first, recipients, then the content */
	for (size_t pass = 0; pass < 3; pass++)
		for (size_t i = 0; i < lines.n; i++)
			if (str_has_prefix(lines.v[i], pass == 0 ? "sender:" :
						       pass == 1 ? "rcpt:" : "header:"))
				strv_push(got, lines.v[i]);
	goto done;
defer:
	buf_reset(&line);
	buf_printf(&line, "defer: %s", buf_cstr(&why));
	strv_push(got, buf_cstr(&line));
done:
	strv_free(&seen);
	strv_free(&results);
	strv_free(&lines);
	buf_free(&out);
	buf_free(&why);
	buf_free(&line);
	buf_free(&esc);
}

/* run_case - one fixture file */
static void run_case(const char *name)
{
	struct case_file c = { STRV_INIT, STRV_INIT }, base = { STRV_INIT, STRV_INIT };
	struct local_domains ld = { STRV_INIT, NULL };
	struct rewrite_cf cf;
	struct strv got = STRV_INIT, want = STRV_INIT;
	char path[512], dir[] = "/tmp/rewrite_test.XXXXXX";

	print_message("case: %s\n", name);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	read_case(path, &c);
	read_case(FIXTURES "/base.cf", &base);
	rewrite_cf_init(&cf);
	cf.is_local_domain = is_local;
	cf.local_ctx = &ld;
	ld.myorigin = cf.myorigin;
	write_tables(dir, &c);
	apply_settings(&cf, &ld, dir, &base, "");
	apply_settings(&cf, &ld, dir, &c, "main.cf");
	run_message(&cf, &c, &got);
	for (size_t i = 0; i < c.lines.n; i++)
		if (strcmp(c.names.v[i], "expect") == 0 && c.lines.v[i][0])
			strv_push(&want, c.lines.v[i]);
	for (size_t i = 0; i < want.n || i < got.n; i++) {
		const char *w = i < want.n ? want.v[i] : "(nothing)";
		const char *g = i < got.n ? got.v[i] : "(nothing)";

		if (strcmp(w, g) != 0)
			fail_msg("%s line %zu:\n want %s\n got  %s", name, i + 1, w, g);
	}
	rewrite_cf_free(&cf);
	strv_free(&ld.mydestination);
	strv_free(&got);
	strv_free(&want);
	strv_free(&c.names);
	strv_free(&c.lines);
	strv_free(&base.names);
	strv_free(&base.lines);
	{
		static const char *tables[] = { "virtual", "canonical", "sender_canonical",
						"recipient_canonical" };

		for (size_t t = 0; t < 4; t++) {
			snprintf(path, sizeof(path), "%s/%s", dir, tables[t]);
			unlink(path);
		}
		rmdir(dir);
	}
}

/* test_fixtures - every recorded case */
static void test_fixtures(void **state)
{
	DIR *d = opendir(FIXTURES);
	struct dirent *e;
	struct strv names = STRV_INIT;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (str_has_suffix(e->d_name, ".case"))
			strv_push(&names, e->d_name);
	closedir(d);
	assert_true(names.n >= 15);
	for (size_t i = 0; i < names.n; i++)
		run_case(names.v[i]);
	strv_free(&names);
}

/* test_local - the "local" context on its own */
static void test_local(void **state)
{
	static const struct {
		const char *in, *out;
		bool dot;
	} cases[] = {
		{ "user", "user@example.com", false },
		{ "user@host", "user@host", false },
		{ "user@host", "user@host.example.com", true },
		{ "user@[192.0.2.1]", "user@[192.0.2.1]", true },
		{ "host!user", "user@host", false },
		{ "user%remote", "user@remote", false },
		{ "user@example.org.", "user@example.org", false },
		{ "@r1,@r2:user@d.example", "user@d.example", false },
		{ "", "", false },
	};
	struct rewrite_cf cf;
	struct buf out = BUF_INIT;

	(void)state;
	rewrite_cf_init(&cf);
	free(cf.myorigin);
	free(cf.mydomain);
	cf.myorigin = xstrdup("example.com");
	cf.mydomain = xstrdup("example.com");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cf.append_dot_mydomain = cases[i].dot;
		rewrite_local(&cf, cases[i].in, &out);
		assert_string_equal(buf_cstr(&out), cases[i].out);
	}
	rewrite_cf_free(&cf);
	buf_free(&out);
}

/* test_classes - class lists parse; unknown names are errors */
static void test_classes(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(rewrite_parse_classes("envelope_sender, header_recipient", &err),
			 REWRITE_ENV_SENDER | REWRITE_HDR_RECIPIENT);
	assert_int_equal(rewrite_parse_classes("", &err), 0);
	assert_int_equal(rewrite_parse_classes("envelope_sender, bogus", &err), (unsigned)-1);
	assert_string_equal(buf_cstr(&err), "unknown address class \"bogus\"");
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_fixtures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
