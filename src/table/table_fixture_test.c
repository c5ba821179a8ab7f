/*
 * table_fixture_test - replays postmap 3.7 answers recorded for randomly
 * generated regexp, pcre, cidr and texthash tables
 * (tests/fixtures/table_random/postmap.txt, made by record.py there):
 * every query must give postmap's output and exit status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "outpost_build.h"
#include "table/table_test_util.h"

struct replay {
	char *type;
	struct buf text;	/* the table file */
	char *path, *spec;
	struct table *t;
	int queries, failures;
};

/* replay_open - write the table out and open it as postmap -q would see it */
static void replay_open(struct replay *r)
{
	struct buf err = BUF_INIT;

	r->path = tt_write(buf_cstr(&r->text));
	r->spec = tt_spec(r->type, r->path);
	r->t = table_open(r->spec, TABLE_F_EMPTY_OK, &err);
	buf_free(&err);
}

/* replay_close - forget the current table */
static void replay_close(struct replay *r)
{
	if (r->path) {
		table_close(&r->t);
		unlink(r->path);
		xfree(&r->path);
		xfree(&r->spec);
	}
	buf_reset(&r->text);
}

/* replay_query - "key<TAB>status<TAB>output" against the open table */
static void replay_query(struct replay *r, char *line, long lineno)
{
	char *key = line, *status, *want;
	struct buf v = BUF_INIT;
	int rc = 1;
	const char *got = "";

	if ((status = strchr(key, '\t')) == NULL || (want = strchr(status + 1, '\t')) == NULL)
		fail_msg("postmap.txt, line %ld: bad query line", lineno);
	*status++ = '\0';
	*want++ = '\0';
	if (r->path == NULL)
		replay_open(r);
	if (r->t && table_lookup(r->t, key, &v) == TABLE_FOUND) {
		rc = 0;
		got = buf_cstr(&v);
	}
	r->queries++;
	if (rc != atoi(status) || strcmp(got, want) != 0) {
		print_error("postmap.txt, line %ld: %s -q '%s' on\n%s\ngot %d '%s', postmap %s '%s'\n",
			    lineno, r->type, key, buf_cstr(&r->text), rc, got, status, want);
		r->failures++;
	}
	buf_free(&v);
}

static void test_replay(void **state)
{
	const char *file = OUTPOST_SOURCE_ROOT "/tests/fixtures/table_random/postmap.txt";
	FILE *fp = fopen(file, "r");
	struct replay r = { NULL, BUF_INIT, NULL, NULL, NULL, 0, 0 };
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;

	(void)state;
	assert_non_null(fp);
	tt_capture();	/* the tables warn a lot, on purpose */
	log_set_target(LOG_TARGET_FILE, "/dev/null");
	while ((n = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (strncmp(line, "table ", 6) == 0) {
			replay_close(&r);
			free(r.type);
			r.type = xstrdup(line + 6);
		} else if (strncmp(line, "| ", 2) == 0 || strcmp(line, "|") == 0) {
			buf_puts(&r.text, line[1] ? line + 2 : "");
			buf_putc(&r.text, '\n');
		} else if (strncmp(line, "query\t", 6) == 0) {
			replay_query(&r, line + 6, lineno);
		} else if (strcmp(line, "end") == 0) {
			replay_close(&r);
		} else {
			fail_msg("postmap.txt, line %ld: unknown line", lineno);
		}
	}
	replay_close(&r);
	log_set_target(LOG_TARGET_STDERR, NULL);
	log_set_hook(NULL, NULL);
	fclose(fp);
	free(line);
	free(r.type);
	buf_free(&r.text);
	print_message("%d postmap answers replayed\n", r.queries);
	assert_true(r.queries >= 600);
	assert_int_equal(r.failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
