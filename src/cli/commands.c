/*
 * commands - the table of `outpost` subcommands, one line each.
 *
 * Public: commands[].
 */
#include "cli/commands.h"

#include <stddef.h>

const struct command commands[] = {
	{ "help", NULL, cmd_help, "list the subcommands" },
	{ "version", NULL, cmd_version, "print the version" },
	{ NULL, NULL, NULL, NULL },
};
