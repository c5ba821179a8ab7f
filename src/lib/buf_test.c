/* buf_test - growable buffer: appends, printf, truncation, stealing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/buf.h"

static void test_append_and_grow(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_string_equal(buf_cstr(&b), "");
	for (int i = 0; i < 1000; i++)
		buf_putc(&b, 'a' + i % 26);
	assert_int_equal(b.len, 1000);
	assert_int_equal(b.data[1000], '\0');
	assert_int_equal(b.data[26], 'a');
	buf_free(&b);
	assert_null(b.data);
}

static void test_printf_and_truncate(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_puts(&b, "x=");
	buf_printf(&b, "%d/%s", 42, "y");
	assert_string_equal(buf_cstr(&b), "x=42/y");
	buf_truncate(&b, 2);
	assert_string_equal(buf_cstr(&b), "x=");
	buf_truncate(&b, 10);
	assert_string_equal(buf_cstr(&b), "x=");
	buf_set(&b, "new");
	assert_string_equal(buf_cstr(&b), "new");
	buf_free(&b);
}

static void test_printf_grows(void **state)
{
	struct buf b = BUF_INIT;
	char big[300];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int i = 0; i < 60; i++)
		buf_putc(&b, 'a');
	/* longer than the free space: the retry must produce the whole text */
	buf_printf(&b, "[%s]%d", big, 7);
	assert_int_equal(b.len, 60 + 1 + 299 + 1 + 1);
	assert_int_equal(b.data[60], '[');
	assert_int_equal(b.data[60 + 300], ']');
	assert_string_equal(b.data + b.len - 1, "7");
	buf_free(&b);
}

static void test_binary_and_steal(void **state)
{
	struct buf b = BUF_INIT;
	char *s;

	(void)state;
	buf_append(&b, "a\0b", 3);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 3);
	s = buf_steal(&b);
	assert_null(b.data);
	assert_int_equal(s[0], 'a');
	free(s);
	s = buf_steal(&b);
	assert_string_equal(s, "");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_grow),
		cmocka_unit_test(test_printf_and_truncate),
		cmocka_unit_test(test_printf_grows),
		cmocka_unit_test(test_binary_and_steal),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
