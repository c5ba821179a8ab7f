/*
 * table_texthash_test - lookups, folding, duplicates, reload on change,
 * and a million entries looked up in microseconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "table/table_test_util.h"

static const char source[] = "Alice@Example.com alice@example.com\n"
			     "foo bar\n"
			     "foo baz\n"
			     "long first\n"
			     " second part\n"
			     "key: value, v2\n"
			     "x\ty\n";

struct tcase {
	const char *name;
	unsigned flags;
	const char *key;
	const char *want;
};

static const struct tcase tcases[] = {
	{ "folded source key", 0, "alice@example.com", "alice@example.com" },
	{ "folded query", 0, "ALICE@EXAMPLE.COM", "alice@example.com" },
	{ "nofold misses", TABLE_F_NOFOLD, "alice@example.com", "-" },
	{ "nofold exact", TABLE_F_NOFOLD, "Alice@Example.com", "alice@example.com" },
	{ "first duplicate wins", 0, "foo", "bar" },
	{ "continuation", 0, "long", "first second part" },
	{ "alias-looking key keeps colon", 0, "key:", "value, v2" },
	{ "alias-looking key", 0, "key", "-" },
	{ "tab separator", 0, "x", "y" },
	{ "absent", 0, "nobody", "-" },
};

static void test_lookups(void **state)
{
	char *path = tt_write(source), *spec = tt_spec("texthash", path);

	(void)state;
	tt_capture();
	for (size_t i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++) {
		const struct tcase *c = &tcases[i];
		char *got = tt_query(spec, c->flags, c->key);

		if (strcmp(got, c->want) != 0)
			fail_msg("case '%s': got '%s' want '%s'", c->name, got, c->want);
		free(got);
	}
	assert_non_null(strstr(buf_cstr(&tt_warnings), ", line 3: duplicate entry: \"foo\""));
	log_set_hook(NULL, NULL);
	unlink(path);
	free(path);
	free(spec);
}

static void test_missing_file(void **state)
{
	char *got = tt_query("texthash:/nonexistent/table", 0, "k");

	(void)state;
	assert_string_equal(got, "!OPEN:open /nonexistent/table: No such file or directory");
	free(got);
}

static void test_reload(void **state)
{
	char *path = tt_write("a 1\n"), *spec = tt_spec("texthash", path);
	struct buf err = BUF_INIT, v = BUF_INIT;
	struct table *t = table_open(spec, 0, &err);

	(void)state;
	assert_non_null(t);
	assert_int_equal(table_lookup(t, "a", &v), TABLE_FOUND);
	assert_string_equal(buf_cstr(&v), "1");
	tt_rewrite(path, "a 2\nb 3 and more\n");
	sleep(1);	/* checks happen at most once a second */
	assert_int_equal(table_lookup(t, "a", &v), TABLE_FOUND);
	assert_string_equal(buf_cstr(&v), "2");
	assert_int_equal(table_lookup(t, "b", &v), TABLE_FOUND);
	/* a vanished file keeps the old contents, with a warning */
	tt_capture();
	unlink(path);
	sleep(1);
	assert_int_equal(table_lookup(t, "b", &v), TABLE_FOUND);
	assert_string_equal(buf_cstr(&v), "3 and more");
	assert_non_null(strstr(buf_cstr(&tt_warnings), "cannot be reloaded"));
	log_set_hook(NULL, NULL);
	table_close(&t);
	assert_null(t);
	free(path);
	free(spec);
	buf_free(&err);
	buf_free(&v);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);	/* CPU time: a busy machine does not count */
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* limit per lookup: generous, the machine may be shared and sanitizers slow */
#if defined(__SANITIZE_ADDRESS__)
#define LOOKUP_US_LIMIT 50.0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOOKUP_US_LIMIT 50.0
#endif
#endif
#ifndef LOOKUP_US_LIMIT
#define LOOKUP_US_LIMIT 10.0
#endif

static void test_million(void **state)
{
	enum { N = 1000000, Q = 100000 };
	char tmpl[] = "/tmp/outpost-table-test-XXXXXX";
	int fd = mkstemp(tmpl);
	FILE *fp = fdopen(fd, "w");
	struct buf err = BUF_INIT, v = BUF_INIT;
	char (*keys)[32] = xcalloc(Q, sizeof(*keys));
	struct table *t;
	char *spec;
	double t0, per;

	(void)state;
	assert_non_null(fp);
	for (int i = 0; i < N; i++)
		fprintf(fp, "user%d@example.com destination%d@example.net\n", i, i);
	fclose(fp);
	for (int i = 0; i < Q; i++)
		snprintf(keys[i], sizeof(keys[i]), "User%d@Example.com", (int)(((long)i * 7919) % N));
	spec = tt_spec("texthash", tmpl);
	t = table_open(spec, 0, &err);
	assert_non_null(t);
	t0 = now_seconds();
	for (int round = 0; round < 10; round++)
		for (int i = 0; i < Q; i++)
			if (table_lookup(t, keys[i], &v) != TABLE_FOUND)
				fail_msg("key %s not found", keys[i]);
	per = (now_seconds() - t0) / (10.0 * Q) * 1e6;
	print_message("texthash: %.3f us per lookup over %d entries\n", per, N);
	assert_true(per < LOOKUP_US_LIMIT);
	assert_int_equal(table_lookup(t, "user1000000@example.com", &v), TABLE_NOTFOUND);
	table_close(&t);
	unlink(tmpl);
	free(spec);
	free(keys);
	buf_free(&err);
	buf_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_million),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
