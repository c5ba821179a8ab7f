/*
 * checks - the lints `outpost check` runs (and `outpost start` reports).
 *
 * A check appends one line per finding to out ("FILE, line N: text") and
 * returns how many findings it made. Findings of CHECK_ERROR checks make
 * `outpost check` exit non-zero; CHECK_WARN findings are only printed.
 * To add a lint, write the function anywhere under src/ and add one line to
 * checks[] in checks.c.
 */
#ifndef OUTPOST_CLI_CHECKS_H
#define OUTPOST_CLI_CHECKS_H

#include "config/config.h"

enum check_severity { CHECK_WARN, CHECK_ERROR };

struct check_def {
	const char *name;	/* short id, e.g. "unused-parameter" */
	enum check_severity severity;
	int (*fn)(struct config *cf, struct strv *out);
};

extern const struct check_def checks[];

int checks_run(struct config *cf, int quiet_warnings);

#endif
