/*
 * table_lmdb_test - lmdb (and hash/btree/dbm) tables: build, lookups,
 * duplicates, NUL conventions, incremental updates, the "older than
 * source" warning, reload after a rebuild, and a million entries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <malloc.h>
#include <sys/stat.h>
#include <time.h>
#include <utime.h>
#include <cmocka.h>

#include "table/table_admin.h"
#include "table/table_impl.h"
#include "table/table_test_util.h"

static const char source[] = "Alice@Example.com alice@example.com\n"
			     "foo bar\n"
			     "foo baz\n"
			     "# comment\n"
			     "long first\n"
			     " second part\n"
			     "sp  two  words \n"
			     "x\ty\n";

struct tcase {
	const char *name;
	const char *type;
	bool nofold_build;	/* postmap -f */
	bool replace;		/* postmap -r */
	int nul;		/* -N 1 / -n -1 */
	unsigned flags;		/* open flags */
	const char *key;
	const char *want;
};

static const struct tcase tcases[] = {
	{ "folded source key", "lmdb", false, false, 0, 0, "alice@example.com", "alice@example.com" },
	{ "folded query", "lmdb", false, false, 0, 0, "ALICE@example.COM", "alice@example.com" },
	{ "first duplicate wins", "lmdb", false, false, 0, 0, "foo", "bar" },
	{ "-r: last duplicate wins", "lmdb", false, true, 0, 0, "foo", "baz" },
	{ "continuation line", "lmdb", false, false, 0, 0, "long", "first second part" },
	{ "inner spaces kept", "lmdb", false, false, 0, 0, "sp", "two  words" },
	{ "tab separator", "lmdb", false, false, 0, 0, "x", "y" },
	{ "absent key", "lmdb", false, false, 0, 0, "nobody", "-" },
	{ "comment is no key", "lmdb", false, false, 0, 0, "#", "-" },
	{ "-f build, exact query", "lmdb", true, false, 0, TABLE_F_NOFOLD, "Alice@Example.com",
	  "alice@example.com" },
	{ "-f build, folded query misses", "lmdb", true, false, 0, TABLE_F_NOFOLD,
	  "alice@example.com", "-" },
	{ "-N keys with NUL", "lmdb", false, false, 1, 0, "foo", "bar" },
	{ "-n keys without NUL", "lmdb", false, false, -1, 0, "foo", "bar" },
	{ "hash is lmdb", "hash", false, false, 0, 0, "foo", "bar" },
	{ "btree is lmdb", "btree", false, false, 0, 0, "x", "y" },
	{ "dbm is lmdb", "dbm", false, false, 0, 0, "long", "first second part" },
};

/* build - write spec's index with postmap-like options */
static void build(const char *spec, bool fold, bool replace, int nul)
{
	struct table_build_opts o = { .fold = fold, .replace_dups = replace };
	struct buf err = BUF_INIT;

	table_admin_set_nul(nul);
	if (table_admin_build(spec, &o, &err) != 0)
		fail_msg("build %s: %s", spec, buf_cstr(&err));
	table_admin_set_nul(0);
	buf_free(&err);
}

/* index_unlink - remove NAME.lmdb */
static void index_unlink(const char *path)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s.lmdb", path);
	unlink(buf_cstr(&b));
	buf_free(&b);
}

static void test_lookups(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++) {
		const struct tcase *c = &tcases[i];
		char *path = tt_write(source), *spec = tt_spec(c->type, path);
		char *got;

		tt_capture();
		build(spec, !c->nofold_build, c->replace, c->nul);
		got = tt_query(spec, c->flags, c->key);
		if (strcmp(got, c->want) != 0)
			fail_msg("case '%s': got '%s' want '%s'", c->name, got, c->want);
		if (!c->replace && strstr(buf_cstr(&tt_warnings), ", line 3: duplicate entry: \"foo\"") == NULL)
			fail_msg("case '%s': no duplicate warning in '%s'", c->name,
				 buf_cstr(&tt_warnings));
		log_set_hook(NULL, NULL);
		free(got);
		index_unlink(path);
		unlink(path);
		free(path);
		free(spec);
	}
}

static void test_errors(void **state)
{
	struct table_build_opts o = { .fold = true };
	struct buf err = BUF_INIT;
	char *got;

	(void)state;
	got = tt_query("lmdb:/nonexistent/table", 0, "k");
	assert_string_equal(got, "!OPEN:open database /nonexistent/table.lmdb: No such file or directory");
	free(got);
	assert_int_equal(table_admin_build("lmdb:/nonexistent/table", &o, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "/nonexistent/table"));
	assert_int_equal(table_admin_build("texthash:/etc/hosts", &o, &err), -1);
	assert_string_equal(buf_cstr(&err),
			    "unsupported dictionary type: texthash does not support bulk-mode creation.");
	buf_free(&err);
}

static void test_older_than_source(void **state)
{
	char *path = tt_write("a 1\n"), *spec = tt_spec("lmdb", path);
	struct utimbuf later = { time(NULL) + 100, time(NULL) + 100 };
	char *got;

	(void)state;
	build(spec, true, false, 0);
	assert_int_equal(utime(path, &later), 0);
	tt_capture();
	got = tt_query(spec, 0, "a");
	assert_string_equal(got, "1");
	assert_non_null(strstr(buf_cstr(&tt_warnings), ".lmdb is older than source file "));
	log_set_hook(NULL, NULL);
	free(got);
	index_unlink(path);
	unlink(path);
	free(path);
	free(spec);
}

static void test_reload_after_rebuild(void **state)
{
	char *path = tt_write("a 1\n"), *spec = tt_spec("lmdb", path);
	struct buf err = BUF_INIT, v = BUF_INIT;
	struct table *t;

	(void)state;
	build(spec, true, false, 0);
	t = table_open(spec, 0, &err);
	assert_non_null(t);
	assert_int_equal(table_lookup(t, "a", &v), TABLE_FOUND);
	tt_rewrite(path, "a 2\nb 3\n");
	build(spec, true, false, 0);
	t->checked = 0;		/* skip the staleness-check throttle */
	assert_int_equal(table_lookup(t, "a", &v), TABLE_FOUND);
	assert_string_equal(buf_cstr(&v), "2");
	assert_int_equal(table_lookup(t, "b", &v), TABLE_FOUND);
	table_close(&t);
	buf_free(&err);
	buf_free(&v);
	index_unlink(path);
	unlink(path);
	free(path);
	free(spec);
}

struct collect {
	struct buf out;
};

static int collect_entry(const char *key, const char *value, void *ctx)
{
	struct collect *c = ctx;

	buf_printf(&c->out, "%s=%s;", key, value);
	return 0;
}

static void test_update_remove_iterate(void **state)
{
	char *path = tt_write("a 1\nb 2\n"), *spec = tt_spec("lmdb", path);
	struct buf err = BUF_INIT, v = BUF_INIT;
	struct collect c = { BUF_INIT };
	struct table *w, *r;

	(void)state;
	build(spec, true, false, 0);
	r = table_open(spec, 0, &err);
	assert_non_null(r);
	w = table_open(spec, TABLE_F_WRITE, &err);
	assert_non_null(w);
	assert_int_equal(table_admin_update(w, "C", "3", &err), 0);
	assert_int_equal(table_admin_remove(w, "a", &err), 1);
	assert_int_equal(table_admin_remove(w, "zz", &err), 0);
	/* not visible to readers before the commit */
	assert_int_equal(table_lookup(r, "c", &v), TABLE_NOTFOUND);
	assert_int_equal(table_admin_commit(w, &err), 0);
	table_close(&w);
	r->checked = 0;
	assert_int_equal(table_lookup(r, "c", &v), TABLE_FOUND);
	assert_string_equal(buf_cstr(&v), "3");
	assert_int_equal(table_lookup(r, "a", &v), TABLE_NOTFOUND);
	assert_int_equal(table_admin_iterate(r, collect_entry, &c, &err), 0);
	assert_string_equal(buf_cstr(&c.out), "b=2;c=3;");
	/* a writer closed without commit changes nothing */
	w = table_open(spec, TABLE_F_WRITE, &err);
	assert_int_equal(table_admin_remove(w, "b", &err), 1);
	table_close(&w);
	r->checked = 0;
	assert_int_equal(table_lookup(r, "b", &v), TABLE_FOUND);
	table_close(&r);
	buf_free(&c.out);
	buf_free(&err);
	buf_free(&v);
	index_unlink(path);
	unlink(path);
	free(path);
	free(spec);
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_million(void **state)
{
	enum { N = 1000000 };
	char tmpl[] = "/tmp/outpost-lmdb-million-XXXXXX";
	int fd = mkstemp(tmpl);
	FILE *fp = fdopen(fd, "w");
	char *spec = tt_spec("lmdb", tmpl);
	struct buf err = BUF_INIT, v = BUF_INIT;
	struct table *t;
	char key[64];
	size_t heap_before;
	double t0, per_lookup;

	(void)state;
	assert_non_null(fp);
	for (int i = 0; i < N; i++)
		fprintf(fp, "user%d@example.com value%d\n", i, i);
	fclose(fp);
	build(spec, true, false, 0);
	t = table_open(spec, 0, &err);
	assert_non_null(t);
	snprintf(key, sizeof(key), "user1@example.com");
	assert_int_equal(table_lookup(t, key, &v), TABLE_FOUND);
	heap_before = mallinfo2().uordblks;
	t0 = now_sec();
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "user%d@example.com", (int)(((long)i * 7919) % N));
		if (table_lookup(t, key, &v) != TABLE_FOUND)
			fail_msg("key %s missing", key);
	}
	per_lookup = (now_sec() - t0) / N;
	print_message("lmdb: %.2f us per lookup in %d entries\n", per_lookup * 1e6, N);
	assert_true(per_lookup < 20e-6);
	assert_true(mallinfo2().uordblks <= heap_before);
	assert_int_equal(table_lookup(t, "user-1@example.com", &v), TABLE_NOTFOUND);
	table_close(&t);
	buf_free(&err);
	buf_free(&v);
	index_unlink(tmpl);
	unlink(tmpl);
	free(spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_older_than_source),
		cmocka_unit_test(test_reload_after_rebuild),
		cmocka_unit_test(test_update_remove_iterate),
		cmocka_unit_test(test_million),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
