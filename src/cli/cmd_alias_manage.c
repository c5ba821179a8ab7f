/*
 * cmd_alias_manage - `outpost alias add|del|list`: aliases of managed
 * domains (targets: accounts, other aliases, external addresses; "@domain"
 * is a catch-all that only catches addresses with no account or alias).
 *
 * Public: cmd_alias_manage (called by `outpost alias` for these verbs).
 * Bad input: a one-line error, a usage line, a non-zero exit, nothing written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/acct_cli.h"
#include "lib/log.h"
#include "lib/mem.h"

#define ALIAS_USAGE "alias [-c DIR] add ALIAS TARGET[,TARGET...] | del ALIAS [TARGET] | list [ALIAS]"

/* alias_parse_targets - split and validate a target list */
static int alias_parse_targets(const char *alias, const char *list, struct strv *out)
{
	struct buf err = BUF_INIT;
	const char *why;

	if (str_split(list, STR_SEP_LIST, out, &why) < 0 || out->n == 0) {
		log_warn("no targets given for %s", alias);
		return -1;
	}
	for (size_t i = 0; i < out->n; i++) {
		str_lower(out->v[i]);
		if (acct_check_address(out->v[i], false, &err) < 0) {
			log_warn("%s", buf_cstr(&err));
			buf_free(&err);
			return -1;
		}
		if (strcmp(out->v[i], alias) == 0) {
			log_warn("alias %s cannot point to itself", alias);
			return -1;
		}
	}
	buf_free(&err);
	return 0;
}

/* alias_add - merge targets into an alias */
static int alias_add(struct acct_store *st, const char *alias, const char *list)
{
	struct strv targets = STRV_INIT, merged = STRV_INIT;
	const char *old = acct_get(&st->aliases, alias);
	const char *why;
	char *joined;
	int rc = -1;

	if (acct_get(&st->accounts, alias)) {
		log_warn("%s is an account: an alias would take its mail away (first match wins); "
			 "use `outpost sender allow` to let others send as it", alias);
		return -1;
	}
	if (alias_parse_targets(alias, list, &targets) < 0)
		goto out;
	if (old)
		(void)str_split(old, STR_SEP_LIST, &merged, &why);
	for (size_t i = 0; i < targets.n; i++) {
		if (strv_contains(&merged, targets.v[i])) {
			log_warn("%s already points to %s", alias, targets.v[i]);
			goto out;
		}
		strv_push(&merged, targets.v[i]);
	}
	joined = strv_join(&merged, ",");
	acct_set(&st->aliases, alias, joined);
	free(joined);
	rc = 0;
out:
	strv_free(&targets);
	strv_free(&merged);
	return rc;
}

/* alias_del - remove an alias, or one of its targets */
static int alias_del(struct acct_store *st, const char *alias, const char *target)
{
	const char *old = acct_get(&st->aliases, alias);
	struct strv cur = STRV_INIT, keep = STRV_INIT;
	const char *why;
	char *t, *joined;
	int rc = -1;

	if (old == NULL) {
		log_warn("no such alias: %s", alias);
		return -1;
	}
	if (target == NULL) {
		acct_del(&st->aliases, alias);
		return 0;
	}
	t = str_lower_dup(target);
	(void)str_split(old, STR_SEP_LIST, &cur, &why);
	for (size_t i = 0; i < cur.n; i++)
		if (strcmp(cur.v[i], t) != 0)
			strv_push(&keep, cur.v[i]);
	if (keep.n == cur.n) {
		log_warn("alias %s does not point to %s", alias, t);
	} else {
		if (keep.n == 0) {
			acct_del(&st->aliases, alias);
		} else {
			joined = strv_join(&keep, ",");
			acct_set(&st->aliases, alias, joined);
			free(joined);
		}
		rc = 0;
	}
	free(t);
	strv_free(&cur);
	strv_free(&keep);
	return rc;
}

/* cmd_alias_manage - add, delete or list managed aliases */
int cmd_alias_manage(int argc, char **argv)
{
	struct acct_store st;
	struct config *cf = NULL;
	struct buf err = BUF_INIT;
	char *alias = NULL;
	const char *verb;
	int i, rc = 1, nargs;

	for (i = 1; i < argc && argv[i][0] == '-'; i += strcmp(argv[i], "-c") == 0 ? 2 : 1)
		;
	if (i >= argc)
		return acct_cli_usage(ALIAS_USAGE);
	verb = argv[i];
	nargs = argc - i - 1;
	if ((strcmp(verb, "add") == 0 && nargs != 2) ||
	    (strcmp(verb, "del") == 0 && (nargs < 1 || nargs > 2)) ||
	    (strcmp(verb, "list") == 0 && nargs > 1))
		return acct_cli_usage(ALIAS_USAGE);
	if (nargs >= 1) {
		alias = str_lower_dup(argv[i + 1]);
		if (acct_check_address(alias, true, &err) < 0) {
			log_warn("%s", buf_cstr(&err));
			buf_free(&err);
			free(alias);
			return acct_cli_usage(ALIAS_USAGE);
		}
	}
	switch (acct_cli_open(argc, argv, strcmp(verb, "list") != 0, &st, &cf, &i)) {
	case -2:
		free(alias);
		return acct_cli_usage(ALIAS_USAGE);
	case -1:
		free(alias);
		return 1;
	}
	if (strcmp(verb, "list") == 0) {
		rc = 0;
		for (size_t k = 0; k < st.aliases.n; k++)
			if (alias == NULL || strcmp(alias, st.aliases.e[k].key) == 0)
				printf("%s %s\n", st.aliases.e[k].key, st.aliases.e[k].value);
		if (alias && acct_get(&st.aliases, alias) == NULL) {
			log_warn("no such alias: %s", alias);
			rc = 1;
		}
	} else if (strcmp(verb, "add") == 0) {
		rc = alias_add(&st, alias, argv[argc - 1]) == 0 ? 0 : 1;
	} else {
		rc = alias_del(&st, alias, nargs == 2 ? argv[argc - 1] : NULL) == 0 ? 0 : 1;
	}
	if (rc == 0 && strcmp(verb, "list") != 0 && acct_commit(&st, &err) < 0) {
		log_warn("%s", buf_cstr(&err));
		rc = 1;
	}
	acct_close(&st);
	config_free(&cf);
	buf_free(&err);
	free(alias);
	return rc;
}
