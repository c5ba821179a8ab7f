/*
 * cmd_account - `outpost account add|del|list|passwd ADDRESS|rebuild` and
 * `outpost domain list`: mailbox accounts with yescrypt password hashes.
 *
 * Public: cmd_account, cmd_domain, acct_cli_open, acct_cli_usage.
 * Bad input: a one-line error, a usage line, exit status 2 (usage) or 1
 * (refused), and nothing written.
 */
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/accounts.h"
#include "cli/acct_cli.h"
#include "cli/commands.h"
#include "config/config.h"
#include "lib/log.h"
#include "lib/mem.h"

/* acct_cli_usage - print a usage line and return the usage exit status */
int acct_cli_usage(const char *usage)
{
	fprintf(stderr, "usage: outpost %s\n", usage);
	return 2;
}

/*
 * acct_cli_open - parse "-c DIR", load main.cf, open the account store.
 * On return *optind_out is the index of the verb in argv.
 */
int acct_cli_open(int argc, char **argv, bool for_write, struct acct_store *st,
		  struct config **cfp, int *optind_out)
{
	const char *dir = getenv("OUTPOST_CONFIG_DIR");
	struct buf err = BUF_INIT;
	struct config *cf;
	int i = 1;

	if (dir == NULL)
		dir = CONFIG_DEFAULT_DIR;
	while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "--password") != 0) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			dir = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-v") == 0) {
			log_set_verbose(log_verbose_level() + 1);
			i++;
		} else {
			log_warn("unknown option \"%s\"", argv[i]);
			return -2;
		}
	}
	*optind_out = i;
	if ((cf = config_load(dir, &err)) == NULL) {
		log_warn("%s", buf_cstr(&err));
		buf_free(&err);
		return -1;
	}
	if (acct_open(st, config_str(cf, "account_directory"),
		      config_str(cf, "recipient_delimiter"), config_str(cf, "account_backend"),
		      for_write, &err) < 0) {
		log_warn("%s", buf_cstr(&err));
		buf_free(&err);
		acct_close(st);
		config_free(&cf);
		return -1;
	}
	*cfp = cf;
	return 0;
}

/* acct_read_password - from --password, a terminal prompt (twice), or stdin */
static char *acct_read_password(const char *given)
{
	char *line = NULL, *again = NULL;
	size_t cap = 0, cap2 = 0;
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO);

	if (given) {
		log_warn("a password on the command line is visible to other users (ps, shell history); "
			 "prefer the prompt or standard input");
		return xstrdup(given);
	}
	if (tty) {
		fprintf(stderr, "Password: ");
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	if (getline(&line, &cap, stdin) < 0) {
		free(line);
		line = NULL;
	} else if (tty) {
		fprintf(stderr, "\nRetype password: ");
		if (getline(&again, &cap2, stdin) < 0 || strcmp(again, line) != 0) {
			free(line);
			line = NULL;
			fprintf(stderr, "\n");
			log_warn("passwords do not match");
		}
		free(again);
	}
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (line)
		line[strcspn(line, "\r\n")] = '\0';
	return line;
}

/* acct_hash_password - yescrypt with a fresh salt */
static char *acct_hash_password(const char *password)
{
	char *salt = crypt_gensalt_ra("$y$", 0, NULL, 0);
	struct crypt_data *data = xcalloc(1, sizeof(*data));
	char *hash = NULL;
	const char *h;

	if (salt == NULL)
		log_fatal("cannot make a yescrypt salt: %m");
	h = crypt_r(password, salt, data);
	if (h == NULL || h[0] == '*')
		log_fatal("yescrypt hashing failed: %m");
	hash = xstrdup(h);
	explicit_bzero(data, sizeof(*data));
	free(data);
	free(salt);
	return hash;
}

/* acct_set_password - read, validate and hash a password into the store */
static int acct_set_password(struct acct_store *st, const char *addr, const char *given)
{
	char *pw = acct_read_password(given);
	char *hash;

	if (pw == NULL || *pw == '\0') {
		log_warn("no password given (empty input)");
		free(pw);
		return -1;
	}
	hash = acct_hash_password(pw);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	acct_set(&st->accounts, addr, hash);
	free(hash);
	return 0;
}

#define ACCOUNT_USAGE "account [-c DIR] add|del|passwd ADDRESS [--password PW] | list | rebuild"

/* cmd_account - manage mailbox accounts */
int cmd_account(int argc, char **argv)
{
	struct acct_store st;
	struct config *cf = NULL;
	struct buf err = BUF_INIT;
	const char *verb, *given = NULL;
	char *addr = NULL;
	int i, rc = 1;
	bool write;

	for (i = 1; i < argc && argv[i][0] == '-'; i += strcmp(argv[i], "-c") == 0 ? 2 : 1)
		;
	if (i >= argc)
		return acct_cli_usage(ACCOUNT_USAGE);
	verb = argv[i];
	if (strcmp(verb, "list") == 0 || strcmp(verb, "rebuild") == 0) {
		if (argc != i + 1)
			return acct_cli_usage(ACCOUNT_USAGE);
	} else if (strcmp(verb, "add") == 0 || strcmp(verb, "passwd") == 0) {
		if (argc == i + 4 && strcmp(argv[i + 2], "--password") == 0)
			given = argv[i + 3];
		else if (argc != i + 2)
			return acct_cli_usage(ACCOUNT_USAGE);
	} else if (strcmp(verb, "del") == 0) {
		if (argc != i + 2)
			return acct_cli_usage(ACCOUNT_USAGE);
	} else {
		log_warn("unknown account command \"%s\"", verb);
		return acct_cli_usage(ACCOUNT_USAGE);
	}
	if (i + 1 < argc) {
		addr = str_lower_dup(argv[i + 1]);
		if (acct_check_address(addr, false, &err) < 0) {
			log_warn("%s", buf_cstr(&err));
			free(addr);
			buf_free(&err);
			return acct_cli_usage(ACCOUNT_USAGE);
		}
	}
	write = strcmp(verb, "list") != 0;
	switch (acct_cli_open(argc, argv, write, &st, &cf, &i)) {
	case -2:
		free(addr);
		return acct_cli_usage(ACCOUNT_USAGE);
	case -1:
		free(addr);
		return 1;
	}
	if (strcmp(verb, "list") == 0) {
		for (size_t k = 0; k < st.accounts.n; k++)
			printf("%s\n", st.accounts.e[k].key);
		rc = 0;
	} else if (strcmp(verb, "rebuild") == 0) {
		rc = 0;		/* the commit below regenerates every table */
	} else if (strcmp(verb, "add") == 0) {
		if (acct_get(&st.accounts, addr))
			log_warn("account %s already exists", addr);
		else if (acct_get(&st.aliases, addr))
			log_warn("%s is an alias; delete the alias first (outpost alias del %s)", addr, addr);
		else if (acct_set_password(&st, addr, given) == 0)
			rc = 0;
	} else if (strcmp(verb, "passwd") == 0) {
		if (acct_get(&st.accounts, addr) == NULL)
			log_warn("no such account: %s", addr);
		else if (acct_set_password(&st, addr, given) == 0)
			rc = 0;
	} else {
		if (!acct_del(&st.accounts, addr)) {
			log_warn("no such account: %s", addr);
		} else {
			if (acct_del(&st.senders, addr))
				log_info("removed the send-as grants of %s", addr);
			rc = 0;
		}
	}
	if (rc == 0 && write && acct_commit(&st, &err) < 0) {
		log_warn("%s", buf_cstr(&err));
		rc = 1;
	}
	acct_close(&st);
	config_free(&cf);
	buf_free(&err);
	free(addr);
	return rc;
}

/* cmd_domain - `outpost domain list`: domains served, from accounts and aliases */
int cmd_domain(int argc, char **argv)
{
	struct acct_store st;
	struct config *cf = NULL;
	struct strv doms = STRV_INIT;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i += strcmp(argv[i], "-c") == 0 ? 2 : 1)
		;
	if (i + 1 != argc || strcmp(argv[i], "list") != 0)
		return acct_cli_usage("domain [-c DIR] list");
	switch (acct_cli_open(argc, argv, false, &st, &cf, &i)) {
	case -2:
		return acct_cli_usage("domain [-c DIR] list");
	case -1:
		return 1;
	}
	for (int pass = 0; pass < 2; pass++) {
		const struct acct_file *f = pass ? &st.aliases : &st.accounts;

		for (size_t k = 0; k < f->n; k++) {
			char *d = acct_domain_of(f->e[k].key);

			if (!strv_contains(&doms, d))
				strv_push(&doms, d);
			free(d);
		}
	}
	if (doms.n > 1)
		qsort(doms.v, doms.n, sizeof(char *), acct_cli_strcmp);
	for (size_t k = 0; k < doms.n; k++)
		printf("%s\n", doms.v[k]);
	strv_free(&doms);
	acct_close(&st);
	config_free(&cf);
	return 0;
}

/* acct_cli_strcmp - qsort comparator for string vectors */
int acct_cli_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}
