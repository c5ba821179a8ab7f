/*
 * table_pattern_test - the body of table_regexp_test and table_pcre_test
 * (test code only): TYPE names the table type, WANT the expectation field.
 */
static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
		const struct pcase *c = &pcases[i];
		char *path = tt_write(c->text), *spec = tt_spec(TYPE, path), *got;

		tt_capture();
		got = tt_query(spec, 0, c->key);
		if (!tt_matches(got, c->WANT))
			fail_msg("case '%s': got '%s' want '%s'", c->name, got, c->WANT);
		if (c->warning && strstr(buf_cstr(&tt_warnings), c->warning) == NULL)
			fail_msg("case '%s': no warning '%s' in '%s'", c->name, c->warning,
				 buf_cstr(&tt_warnings));
		/* a warned-about rule fails the open in strict mode */
		free(got);
		got = tt_query(spec, TABLE_F_STRICT, c->key);
		if (c->warning && strstr(c->warning, "extra text") == NULL &&
		    strstr(c->warning, "no replacement") == NULL && strncmp(got, "!OPEN:", 6) != 0)
			fail_msg("case '%s' strict: got '%s'", c->name, got);
		free(got);
		unlink(path);
		free(path);
		free(spec);
	}
	log_set_hook(NULL, NULL);
}

static void test_messages(void **state)
{
	char *path = tt_write("/a/ x\n/^(a/ y\n"), *spec = tt_spec(TYPE, path), *got;
	struct buf want = BUF_INIT;

	(void)state;
	got = tt_query(spec, TABLE_F_STRICT, "a");
	buf_printf(&want, "!OPEN:" TYPE " map %s, line 2: ", path);
	if (strncmp(got, buf_cstr(&want), want.len) != 0)
		fail_msg("got '%s' want prefix '%s'", got, buf_cstr(&want));
	free(got);
	got = tt_query(TYPE ":/nonexistent", 0, "a");
	assert_string_equal(got, "!OPEN:open /nonexistent: No such file or directory");
	free(got);
	unlink(path);
	free(path);
	free(spec);
	buf_free(&want);
}

static void test_reload_and_props(void **state)
{
	char *path = tt_write("/^a/ 1\n"), *spec = tt_spec(TYPE, path);
	struct buf err = BUF_INIT, v = BUF_INIT;
	struct table *t = table_open(spec, 0, &err);

	(void)state;
	assert_non_null(t);
	assert_int_equal(table_props(t), TABLE_P_PATTERN);
	/* pattern tables see the key as given: no folding */
	assert_int_equal(table_lookup(t, "A", &v), TABLE_FOUND);
	tt_rewrite(path, "/^a/ 2\n");
	sleep(1);
	assert_int_equal(table_lookup(t, "a", &v), TABLE_FOUND);
	assert_string_equal(buf_cstr(&v), "2");
	table_close(&t);
	unlink(path);
	free(path);
	free(spec);
	buf_free(&err);
	buf_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_reload_and_props),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
