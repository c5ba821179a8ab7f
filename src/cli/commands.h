/*
 * commands - the `outpost` subcommands. Each lives in its own cmd_*.c and
 * has one line in the table of commands.c.
 *
 * A command gets argv with argv[0] = its own name and returns the process
 * exit status. Errors go to stderr as "outpost: fatal: …" (see lib/log.h).
 */
#ifndef OUTPOST_CLI_COMMANDS_H
#define OUTPOST_CLI_COMMANDS_H

typedef int (*command_fn)(int argc, char **argv);

struct command {
	const char *name;	/* subcommand, e.g. "conf" */
	const char *alias;	/* argv[0] basename that selects it, e.g. "mailq" */
	command_fn fn;
	const char *summary;	/* one line for `outpost help` */
};

extern const struct command commands[];

int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_account(int argc, char **argv);
int cmd_domain(int argc, char **argv);
int cmd_alias_manage(int argc, char **argv);
int cmd_sender(int argc, char **argv);
int cmd_conf(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_alias(int argc, char **argv);
int cmd_newaliases(int argc, char **argv);
int cmd_queue(int argc, char **argv);
int cmd_mailq(int argc, char **argv);
int cmd_deliver_test(int argc, char **argv);

int cmd_sendmail(int argc, char **argv);
#endif
