/*
 * main - the `outpost` program: dispatch to a subcommand by name, or by the
 * name it was invoked as (sendmail, mailq, newaliases are links to it).
 *
 * Public: main.
 * Bad input: an unknown subcommand prints the list and exits 2.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "lib/log.h"
#include "outpost_build.h"

/* cmd_help - list subcommands */
int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("usage: outpost COMMAND [options]\n\ncommands:\n");
	for (const struct command *c = commands; c->name; c++)
		printf("  %-10s %s\n", c->name, c->summary);
	return 0;
}

/* cmd_version - print the version */
int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("outpost %s\n", OUTPOST_VERSION);
	return 0;
}

/* find_command - by subcommand name or by invocation alias */
static const struct command *find_command(const char *name, int by_alias)
{
	for (const struct command *c = commands; c->name; c++) {
		if (by_alias ? (c->alias && strcmp(c->alias, name) == 0)
			     : strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	const struct command *c;

	base = base ? base + 1 : argv[0];
	if ((c = find_command(base, 1)) != NULL) {
		log_init(base);
		return c->fn(argc, argv);
	}
	log_init("outpost");
	if (argc < 2) {
		cmd_help(0, NULL);
		return 2;
	}
	if ((c = find_command(argv[1], 0)) == NULL) {
		log_warn("unknown command \"%s\"; run \"outpost help\"", argv[1]);
		return 2;
	}
	return c->fn(argc - 1, argv + 1);
}
