/*
 * fuzz_master_cf - libFuzzer target: master.cf text through the parser,
 * each service's configuration view, and the -M formatter.
 */
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* quiet - drop warnings */
static void quiet(enum log_level level, const char *text, void *ctx)
{
	(void)level;
	(void)text;
	(void)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char main_cf[] = "mua = permit_sasl_authenticated, reject\n";
	struct buf err = BUF_INIT, out = BUF_INIT;
	const struct master_service *svcs;
	struct config *cf;
	size_t i, n;

	static int ready;

	if (!ready) {
		log_set_hook(quiet, NULL);
		log_set_target(LOG_TARGET_FILE, "/dev/null");
		ready = 1;
	}
	cf = config_load_text(main_cf, sizeof(main_cf) - 1, (const char *)data, size, &err);
	if (cf) {
		svcs = config_services(cf, &n);
		for (i = 0; i < n; i++) {
			struct config *scf = config_for_master_service(cf, &svcs[i], &err);

			config_master_format(&svcs[i], i % 2 == 0, &out);
			config_free(&scf);
		}
		config_free(&cf);
	}
	buf_free(&out);
	buf_free(&err);
	return 0;
}
