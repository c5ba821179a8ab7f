/*
 * fuzz_ldap_cf - libFuzzer target: the input as an ldap_table(5)
 * configuration, then its templates expanded with the LDAP quoting rules.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/log.h"
#include "table/table_dictcf.h"
#include "table/table_ldapcf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* quiet - fuzzing warnings are noise */
static void quiet(enum log_level level, const char *text, void *ctx)
{
	(void)level;
	(void)text;
	(void)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ldap_cf cf;
	struct buf err = BUF_INIT, out = BUF_INIT;

	log_set_hook(quiet, NULL);
	if (ldap_cf_parse((const char *)data, size, "fuzz.cf", &cf, &err) == 0) {
		if (cf.uris == NULL || strncmp(cf.uris, "", 1) == 0 || cf.recursion_limit == 0)
			__builtin_trap();
		dictcf_expand(cf.query_filter, "a*(b)\\c@x.example", NULL, ldapcf_quote_filter, NULL,
			      &out);
		dictcf_expand(cf.search_base, " #o,b+r@mail.example.com ", NULL, ldapcf_quote_dn,
			      NULL, &out);
		dictcf_expand(cf.result_format, "v@w", "k@a.b.c", NULL, NULL, &out);
		ldap_cf_free(&cf);
	} else if (err.len == 0) {
		__builtin_trap();
	}
	buf_free(&err);
	buf_free(&out);
	return 0;
}
