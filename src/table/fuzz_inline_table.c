/*
 * fuzz_inline_table - libFuzzer target for the specs parsed from a
 * parameter value: the input (up to its first NUL) is used as
 * "inline:{INPUT}", "inline:INPUT", "static:INPUT", "randmap:{INPUT}",
 * "unionmap:{INPUT}", "pipemap:{INPUT}" and as a table list; no crash, no
 * leak, consistent three-state answers.
 */
#include <stddef.h>
#include <stdint.h>

#include <ctype.h>
#include <stdbool.h>

#include "table/table_fuzz_util.h"
#include "table/table_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_list - the input as a whole parameter value */
static void fuzz_list(const char *value)
{
	struct buf err = BUF_INIT, v = BUF_INIT;
	struct table_list *l = table_list_open(value, 0, &err);

	if (l == NULL) {
		if (err.len == 0)
			__builtin_trap();
	} else {
		for (size_t i = 0; i < sizeof(fuzz_keys) / sizeof(fuzz_keys[0]); i++)
			if (table_list_lookup(l, fuzz_keys[i], i % 2, &v, NULL) == TABLE_TEMPFAIL &&
			    table_list_error(l)[0] == '\0')
				__builtin_trap();
		table_list_close(&l);
	}
	buf_free(&err);
	buf_free(&v);
}

/*
 * fuzz_safe - false when the text names a registered type other than the
 * memory-only ones: file and network tables would touch the outside world.
 */
static bool fuzz_safe(const char *text)
{
	static const char *const ok[] = { "inline", "static", "fail", "environ", "randmap",
					  "unionmap", "pipemap" };

	for (const char *c = strchr(text, ':'); c; c = strchr(c + 1, ':')) {
		const char *w = c;
		char *word;
		bool allowed = false;

		while (w > text && isalnum((unsigned char)w[-1]))
			w--;
		word = xstrndup(w, (size_t)(c - w));
		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			allowed |= strcmp(word, ok[i]) == 0;
		if (!allowed && table_type_find(word) != NULL) {
			free(word);
			return false;
		}
		free(word);
	}
	return true;
}

/* LLVMFuzzerTestOneInput - one input as inline text */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const forms[] = { "inline:{%s}", "inline:%s", "static:%s",
					     "randmap:{%s}", "unionmap:{%s}", "pipemap:{%s}" };
	char *text = xstrndup((const char *)data, size);
	struct buf spec = BUF_INIT;

	(void)fuzz_path();	/* silences warnings */
	if (!fuzz_safe(text)) {
		free(text);
		return 0;
	}
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		buf_reset(&spec);
		buf_printf(&spec, forms[i], text);
		fuzz_query_spec(buf_cstr(&spec), data, 0);
	}
	fuzz_list(text);
	buf_free(&spec);
	free(text);
	return 0;
}
