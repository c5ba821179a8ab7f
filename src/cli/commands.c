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
	{ "start", NULL, cmd_start, "start the mail system (-f: in the foreground)" },
	{ "stop", NULL, cmd_stop, "stop the running mail system" },
	{ "reload", NULL, cmd_reload, "re-read the configuration (SIGHUP to the master)" },
	{ "status", NULL, cmd_status, "is the mail system running? (exit 0 if so)" },
	{ "account", NULL, cmd_account, "add, delete, list mailbox accounts; set passwords" },
	{ "alias", NULL, cmd_alias, "aliases(5) tables (postalias); add, del, list managed aliases" },
	{ "domain", NULL, cmd_domain, "list the domains served by accounts and aliases" },
	{ "sender", NULL, cmd_sender, "send-as grants; who may send as an address, and what a login may" },
	{ "conf", NULL, cmd_conf, "show or change main.cf and master.cf (postconf)" },
	{ "check", NULL, cmd_check, "check the configuration; lint for common traps" },
	{ "explain", NULL, cmd_explain, "replay a transaction through the restrictions and show why it ends as it does" },
	{ "map", NULL, cmd_map, "build and query lookup tables (postmap)" },
	{ "newaliases", "newaliases", cmd_newaliases, "rebuild the alias_database tables (newaliases)" },
	{ "queue", NULL, cmd_queue, "list, show, flush, delete, hold, release, requeue queued mail" },
	{ "mailq", "mailq", cmd_mailq, "list the mail queue (mailq)" },
	{ "deliver-test", NULL, cmd_deliver_test, "(testing) route recipients or run a delivery agent on a message file" },
	{ "sendmail", "sendmail", cmd_sendmail, "submit mail from local programs (sendmail -t, -f, -bs, -bp, -q)" },
	{ NULL, NULL, NULL, NULL },
};
