/*
 * qmgr_sched_test - backoff, the concurrency window and delay formatting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "queue/qmgr.h"

struct backoff_case {
	const char *name;
	long age, min, max, want;
};

static const struct backoff_case backoff_cases[] = {
	{ "new message waits the minimum", 0, 300, 4000, 300 },
	{ "young message waits the minimum", 120, 300, 4000, 300 },
	{ "waits as long as it already waited", 1000, 300, 4000, 1000 },
	{ "doubling: after 2000s wait 2000s", 2000, 300, 4000, 2000 },
	{ "capped at the maximum", 86400, 300, 4000, 4000 },
	{ "max below min means min", 50, 300, 100, 300 },
};

static void test_backoff(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(backoff_cases) / sizeof(backoff_cases[0]); i++) {
		const struct backoff_case *c = &backoff_cases[i];
		long got = qmgr_backoff(c->age, c->min, c->max);

		if (got != c->want)
			fail_msg("case %s: got %ld, want %ld", c->name, got, c->want);
	}
}

static void test_slow_start(void **state)
{
	struct qmgr_window w;

	(void)state;
	qmgr_window_init(&w, 5, 20, 1, 1, 1);
	assert_true(qmgr_window_allows(&w, 4));
	assert_false(qmgr_window_allows(&w, 5));
	for (int i = 0; i < 5; i++)	/* one cohort of successes: +1 */
		qmgr_window_success(&w);
	assert_true(qmgr_window_allows(&w, 5));
	for (int i = 0; i < 1000; i++)
		qmgr_window_success(&w);
	assert_true(qmgr_window_allows(&w, 19));
	assert_false(qmgr_window_allows(&w, 20));	/* the limit holds */
}

static void test_dead_after_failed_cohort(void **state)
{
	struct qmgr_window w;
	int n = 0;

	(void)state;
	qmgr_window_init(&w, 5, 20, 1, 1, 1);
	while (!qmgr_window_failure(&w))
		n++;
	/* a cohort is about a window's worth of failures */
	assert_true(n >= 2 && n <= 5);
	assert_true(qmgr_window_allows(&w, 0));	/* never below one */
}

static void test_success_resets_failures(void **state)
{
	struct qmgr_window w;
	int n = 1;

	(void)state;
	qmgr_window_init(&w, 2, 20, 2, 1, 1);
	assert_false(qmgr_window_failure(&w));
	qmgr_window_success(&w);
	assert_true(w.failed == 0);
	/* two cohorts of a shrinking window: three to six failures in a row */
	while (!qmgr_window_failure(&w))
		n++;
	assert_true(n >= 3 && n <= 6);
}

static void test_unlimited(void **state)
{
	struct qmgr_window w;

	(void)state;
	qmgr_window_init(&w, 1, 0, 1, 1, 1);
	for (int i = 0; i < 100; i++)
		qmgr_window_success(&w);
	assert_true(qmgr_window_allows(&w, 10));
}

struct delay_case {
	double s;
	const char *want;
};

static void test_delay_format(void **state)
{
	static const struct delay_case cases[] = {
		{ 0, "0" }, { 0.001, "0" }, { 0.02, "0.02" }, { 0.456, "0.46" },
		{ 1.234, "1.2" }, { 9.4, "9.4" }, { 33.3, "33" }, { 7200.4, "7200" },
	};
	char out[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		qmgr_format_delay(out, sizeof(out), cases[i].s);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("delay %g: got %s, want %s", cases[i].s, out, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_slow_start),
		cmocka_unit_test(test_dead_after_failed_cohort),
		cmocka_unit_test(test_success_resets_failures),
		cmocka_unit_test(test_unlimited),
		cmocka_unit_test(test_delay_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
