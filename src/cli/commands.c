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
	{ "map", NULL, cmd_map, "build and query lookup tables (postmap)" },
	{ "conf", NULL, cmd_conf, "show or change main.cf and master.cf (postconf)" },
	{ "check", NULL, cmd_check, "check the configuration; lint for common traps" },
	{ "queue", NULL, cmd_queue, "list, show, flush, delete, hold, release, requeue queued mail" },
	{ "mailq", "mailq", cmd_mailq, "list the mail queue (mailq)" },
	{ "deliver-test", NULL, cmd_deliver_test, "(testing) route recipients or run a delivery agent on a message file" },
	{ NULL, NULL, NULL, NULL },
};
