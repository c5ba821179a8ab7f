/*
 * cmd_check - `outpost check [-c DIR]`: load the whole configuration
 * (main.cf, master.cf, every service's -o overrides) and run the lints.
 *
 * Public: cmd_check.
 * Bad input: configuration errors print "FILE:LINE: …" and exit 1; error
 * findings (unknown parameters) print as warnings and exit 1; warnings
 * alone exit 0.
 */
#include "cli/commands.h"

#include <stdio.h>
#include <unistd.h>

#include "cli/checks.h"
#include "config/config.h"
#include "lib/log.h"

/* cmd_check - entry point */
int cmd_check(int argc, char **argv)
{
	const char *dir = CONFIG_DEFAULT_DIR;
	struct buf err = BUF_INIT;
	struct config *cf;
	int ch, errors;

	while ((ch = getopt(argc, argv, "c:")) != -1) {
		switch (ch) {
		case 'c':
			dir = optarg;
			break;
		default:
			fprintf(stderr, "usage: outpost check [-c DIR]\n");
			return 2;
		}
	}
	if ((cf = config_load(dir, &err)) == NULL) {
		fprintf(stderr, "%s", buf_cstr(&err));
		buf_free(&err);
		return 1;
	}
	errors = checks_run(cf, 0);
	config_free(&cf);
	if (errors > 0) {
		fprintf(stderr, "outpost: %d problem%s in %s\n", errors, errors == 1 ? "" : "s", dir);
		return 1;
	}
	return 0;
}
