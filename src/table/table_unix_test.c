/* table_unix_test - unix:passwd.byname and unix:group.byname against getpwnam/getgrnam. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "lib/buf.h"
#include "table/table.h"

/* the passwd(5) line of the user running the test, as the table must print it */
static void expected_passwd(struct buf *out, const struct passwd *pw)
{
	buf_printf(out, "%s:%s:%ld:%ld:%s:%s:%s", pw->pw_name, pw->pw_passwd, (long)pw->pw_uid,
		   (long)pw->pw_gid, pw->pw_gecos, pw->pw_dir, pw->pw_shell);
}

static void test_passwd_byname(void **state)
{
	struct buf err = BUF_INIT, value = BUF_INIT, want = BUF_INIT, upper = BUF_INIT;
	struct table *t = table_open("unix:passwd.byname", TABLE_F_FOLD, &err);
	struct passwd *pw = getpwuid(getuid());

	(void)state;
	assert_non_null(t);
	assert_non_null(pw);
	expected_passwd(&want, pw);
	assert_int_equal(table_lookup(t, pw->pw_name, &value), TABLE_FOUND);
	assert_string_equal(buf_cstr(&value), buf_cstr(&want));
	/* keys are folded as for every fixed table: ROOT finds root */
	for (const char *p = pw->pw_name; *p; p++)
		buf_putc(&upper, *p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	buf_reset(&value);
	assert_int_equal(table_lookup(t, buf_cstr(&upper), &value), TABLE_FOUND);
	assert_string_equal(buf_cstr(&value), buf_cstr(&want));
	buf_reset(&value);
	assert_int_equal(table_lookup(t, "no-such-user-outpost-test", &value), TABLE_NOTFOUND);
	assert_true(table_props(t) & TABLE_P_FIXED);
	table_close(&t);
	buf_free(&err);
	buf_free(&value);
	buf_free(&want);
	buf_free(&upper);
}

static void test_group_byname(void **state)
{
	struct buf err = BUF_INIT, value = BUF_INIT, want = BUF_INIT;
	struct table *t = table_open("unix:group.byname", TABLE_F_FOLD, &err);
	struct group *gr = getgrgid(getgid());

	(void)state;
	assert_non_null(t);
	assert_non_null(gr);
	buf_printf(&want, "%s:%s:%ld:", gr->gr_name, gr->gr_passwd, (long)gr->gr_gid);
	for (char **m = gr->gr_mem; *m; m++)
		buf_printf(&want, "%s%s", m == gr->gr_mem ? "" : ",", *m);
	assert_int_equal(table_lookup(t, gr->gr_name, &value), TABLE_FOUND);
	assert_string_equal(buf_cstr(&value), buf_cstr(&want));
	buf_reset(&value);
	assert_int_equal(table_lookup(t, "no-such-group-outpost-test", &value), TABLE_NOTFOUND);
	table_close(&t);
	buf_free(&err);
	buf_free(&value);
	buf_free(&want);
}

static void test_unknown_map(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	assert_null(table_open("unix:foo.byname", TABLE_F_FOLD, &err));
	assert_non_null(strstr(buf_cstr(&err), "unknown table: unix:foo.byname"));
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passwd_byname),
		cmocka_unit_test(test_group_byname),
		cmocka_unit_test(test_unknown_map),
	};

	return cmocka_run_group_tests_name("table_unix", tests, NULL, NULL);
}
