/*
 * acct_cli - shared plumbing of the account-management commands
 * (cmd_account.c, cmd_sender.c, cmd_alias_manage.c).
 */
#ifndef OUTPOST_CLI_ACCT_CLI_H
#define OUTPOST_CLI_ACCT_CLI_H

#include <stdbool.h>

#include "cli/accounts.h"
#include "config/config.h"

int acct_cli_open(int argc, char **argv, bool for_write, struct acct_store *st,
		  struct config **cfp, int *optind_out);
int acct_cli_usage(const char *usage);
int acct_cli_strcmp(const void *a, const void *b);
int cmd_alias_manage(int argc, char **argv);

#endif
