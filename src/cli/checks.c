/*
 * checks - the table of lints, one line each, and the loop that runs them.
 *
 * Public: checks[], checks_run.
 * Bad input: none; findings go to stderr as warnings (log_warn).
 */
#include "cli/checks.h"

#include <stddef.h>

#include "deliver/pipe.h"
#include "lib/log.h"
#include "smtpd/smtpd_check.h"

const struct check_def checks[] = {
	{ "unused-parameter", CHECK_ERROR, config_lint },
	{ "other-side", CHECK_WARN, config_lint_hints },
	{ "listen-address", CHECK_ERROR, config_lint_services },
	{ "open-relay", CHECK_ERROR, smtpd_check_lint_relay },
	{ "relay-order", CHECK_WARN, smtpd_check_lint_order },
	{ "pipe-service", CHECK_ERROR, pipe_lint },
	{ NULL, CHECK_WARN, NULL },
};

/* checks_run - every check; returns the number of error findings */
int checks_run(struct config *cf, int quiet_warnings)
{
	const struct check_def *c;
	int errors = 0;
	size_t i;

	for (c = checks; c->name; c++) {
		struct strv out = STRV_INIT;
		int n = c->fn(cf, &out);

		if (c->severity == CHECK_ERROR)
			errors += n;
		if (c->severity == CHECK_ERROR || !quiet_warnings)
			for (i = 0; i < out.n; i++)
				log_warn("%s", out.v[i]);
		strv_free(&out);
	}
	return errors;
}
