/*
 * notify_test - notify_classes parsing and the notice recipients.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "lib/buf.h"
#include "mail/notify.h"

/* test_classes - named cases: value, bits or -1 */
static void test_classes(void **state)
{
	static const struct {
		const char *label, *value;
		int rc;
		unsigned mask;
	} cases[] = {
		{ "default", NULL, 0, NOTIFY_RESOURCE | NOTIFY_SOFTWARE },
		{ "empty", "", 0, 0 },
		{ "bounce implies 2bounce", "bounce", 0, NOTIFY_BOUNCE | NOTIFY_2BOUNCE },
		{ "all, any case", "Bounce, 2bounce delay,policy protocol resource software data", 0,
		  0xff },
		{ "unknown", "delay, nonsense", -1, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf err = BUF_INIT;
		struct config *cf = config_load_text("", 0, "", 0, &err);
		unsigned mask = 0;
		int rc;

		if (cases[i].value)
			assert_int_equal(config_set(cf, "notify_classes", cases[i].value, &err), 0);
		rc = notify_classes(cf, &mask, &err);
		if (rc != cases[i].rc || (rc == 0 && mask != cases[i].mask))
			fail_msg("%s: rc %d mask %#x (%s)", cases[i].label, rc, mask, buf_cstr(&err));
		if (rc < 0 && strstr(buf_cstr(&err), "\"nonsense\"") == NULL)
			fail_msg("%s: error does not name the class: %s", cases[i].label,
				 buf_cstr(&err));
		config_free(&cf);
		buf_free(&err);
	}
}

/* test_recipients - each class has its parameter */
static void test_recipients(void **state)
{
	struct buf err = BUF_INIT;
	struct config *cf = config_load_text("", 0, "", 0, &err);

	(void)state;
	config_set(cf, "bounce_notice_recipient", "b@x", &err);
	config_set(cf, "2bounce_notice_recipient", "bb@x", &err);
	config_set(cf, "delay_notice_recipient", "d@x", &err);
	config_set(cf, "error_notice_recipient", "e@x", &err);
	assert_string_equal(notify_recipient(cf, NOTIFY_BOUNCE), "b@x");
	assert_string_equal(notify_recipient(cf, NOTIFY_2BOUNCE), "bb@x");
	assert_string_equal(notify_recipient(cf, NOTIFY_DELAY), "d@x");
	assert_string_equal(notify_recipient(cf, NOTIFY_PROTOCOL), "e@x");
	assert_string_equal(notify_recipient(cf, NOTIFY_SOFTWARE), "e@x");
	config_free(&cf);
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_recipients),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
