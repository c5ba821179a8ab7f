/*
 * smtpd_anvil_test - per-client counts and windowed rates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "smtpd/smtpd_anvil.h"

/* test_counts - concurrency goes up and down per address */
static void test_counts(void **state)
{
	struct smtpd_anvil *a = smtpd_anvil_new(60);
	unsigned rate;

	(void)state;
	assert_int_equal(smtpd_anvil_connect(a, "192.0.2.1", 1000, &rate), 1);
	assert_int_equal(smtpd_anvil_connect(a, "192.0.2.1", 1000, &rate), 2);
	assert_int_equal(rate, 2);
	assert_int_equal(smtpd_anvil_connect(a, "192.0.2.2", 1000, &rate), 1);
	smtpd_anvil_disconnect(a, "192.0.2.1", 1001);
	assert_int_equal(smtpd_anvil_connect(a, "192.0.2.1", 1002, &rate), 2);
	assert_int_equal(rate, 3);
	smtpd_anvil_free(&a);
	assert_null(a);
}

/* test_rates - events reset when the window has passed */
static void test_rates(void **state)
{
	struct smtpd_anvil *a = smtpd_anvil_new(60);

	(void)state;
	assert_int_equal(smtpd_anvil_event(a, "2001:db8::1", ANVIL_MAIL, 100), 1);
	assert_int_equal(smtpd_anvil_event(a, "2001:db8::1", ANVIL_MAIL, 120), 2);
	assert_int_equal(smtpd_anvil_event(a, "2001:db8::1", ANVIL_RCPT, 120), 1);
	assert_int_equal(smtpd_anvil_event(a, "2001:db8::1", ANVIL_MAIL, 161), 1);
	smtpd_anvil_free(&a);
}

/* test_prune - idle clients leave the table once their window expires */
static void test_prune(void **state)
{
	struct smtpd_anvil *a = smtpd_anvil_new(10);
	unsigned rate;
	char addr[32];

	(void)state;
	for (int i = 0; i < 5000; i++) {
		snprintf(addr, sizeof(addr), "10.0.%d.%d", i / 256, i % 256);
		smtpd_anvil_connect(a, addr, 0, &rate);
		smtpd_anvil_disconnect(a, addr, 0);
	}
	assert_int_equal(smtpd_anvil_size(a), 5000);
	for (int i = 0; i < 5000; i++) {
		snprintf(addr, sizeof(addr), "10.1.%d.%d", i / 256, i % 256);
		smtpd_anvil_event(a, addr, ANVIL_AUTHFAIL, 100);
	}
	assert_int_equal(smtpd_anvil_size(a), 5000);	/* the old ones are gone */
	smtpd_anvil_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_prune),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
