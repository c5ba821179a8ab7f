/*
 * fuzz_main_cf - libFuzzer target: main.cf text through the parser, the
 * expansion of every value, validation, the getters and the lints.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/config.h"
#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* quiet - drop warnings (getters warn on values they cannot expand) */
static void quiet(enum log_level level, const char *text, void *ctx)
{
	(void)level;
	(void)text;
	(void)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT;
	struct strv out = STRV_INIT, items = STRV_INIT;
	struct config *cf;
	const struct config_setting *set;
	size_t i, n;

	static int ready;

	if (!ready) {
		log_set_hook(quiet, NULL);
		log_set_target(LOG_TARGET_FILE, "/dev/null");
		ready = 1;
	}
	cf = config_load_text((const char *)data, size, NULL, 0, &err);
	if (cf) {
		set = config_settings(cf, &n);
		for (i = 0; i < n; i++) {
			(void)config_str(cf, set[i].name);
			(void)config_time(cf, set[i].name);
			config_list(cf, set[i].name, &items);
		}
		config_lint(cf, &out);
		config_lint_hints(cf, &out);
		config_free(&cf);
	}
	strv_free(&out);
	strv_free(&items);
	buf_free(&err);
	return 0;
}
