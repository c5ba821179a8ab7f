/*
 * cmd_sender - `outpost sender allow|deny|list|who|can`: send-as grants,
 * and the ownership question asked both ways.
 *
 * `who ADDRESS` answers with the server's own lookup: the submission
 * service's smtpd_sender_login_maps searched in virtual(5) order by the
 * table engine, exactly as reject_*_sender_login_mismatch does, and names
 * the store's rule behind each owner. `can LOGIN` lists what a login may
 * send as: its account, the aliases it receives, and its grants.
 *
 * Public: cmd_sender.
 * Bad input: a one-line error, a usage line, a non-zero exit, nothing written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/acct_cli.h"
#include "cli/commands.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "table/table.h"

#define SENDER_USAGE \
	"sender [-c DIR] allow|deny LOGIN ADDRESS|@DOMAIN | list [LOGIN] | who ADDRESS | can LOGIN"

/* sender_is_local - myorigin and mydestination decide bare-localpart keys */
static bool sender_is_local(const char *domain, void *ctx)
{
	struct config *cf = ctx;
	struct strv dest = STRV_INIT;
	bool local;

	if (str_eq_case(domain, config_str(cf, "myorigin")))
		return true;
	config_list(cf, "mydestination", &dest);
	local = strv_contains_case(&dest, domain);
	strv_free(&dest);
	return local;
}

/* sender_rules - the store's reasons why login may send as addr */
static void sender_rules(const struct acct_store *st, const char *addr, struct strv *out)
{
	const char *at = strrchr(addr, '@');
	struct strv owners = STRV_INIT;
	struct buf line = BUF_INIT;
	struct buf base = BUF_INIT;
	const char *plus;

	/* the address without its extension, as the search strips it */
	buf_set(&base, addr);
	if (at && *st->delimiters &&
	    (plus = strpbrk(addr, st->delimiters)) != NULL && plus < at) {
		buf_reset(&base);
		buf_append(&base, addr, (size_t)(plus - addr));
		buf_puts(&base, at);
	}
	if (acct_get(&st->accounts, buf_cstr(&base))) {
		buf_printf(&line, "%s: own account", buf_cstr(&base));
		strv_push(out, buf_cstr(&line));
	}
	acct_alias_owners(st, buf_cstr(&base), &owners);
	for (size_t i = 0; i < owners.n; i++) {
		buf_reset(&line);
		buf_printf(&line, "%s: receives alias %s", owners.v[i], buf_cstr(&base));
		strv_push(out, buf_cstr(&line));
	}
	for (size_t i = 0; i < st->senders.n; i++) {
		const struct acct_entry *e = &st->senders.e[i];
		bool hit = strcmp(e->value, buf_cstr(&base)) == 0 ||
			   (e->value[0] == '@' && at && str_eq_case(e->value + 1, at + 1));

		if (hit) {
			buf_reset(&line);
			buf_printf(&line, "%s: granted %s", e->key, e->value);
			strv_push(out, buf_cstr(&line));
		}
	}
	strv_free(&owners);
	buf_free(&line);
	buf_free(&base);
}

/* sender_who - owners per the server's lookup, then the rules behind them */
static int sender_who(struct acct_store *st, struct config *base_cf, const char *addr)
{
	struct table_search_opts o;
	struct table_list *maps;
	struct table_match m = { BUF_INIT, BUF_INIT };
	struct buf err = BUF_INIT, value = BUF_INIT;
	struct strv rules = STRV_INIT;
	struct config *cf = config_for_service(base_cf, "submission", &err);
	const char *spec;
	enum table_status found;
	int rc = 0;

	if (cf == NULL) {
		buf_reset(&err);
		cf = base_cf;
	}
	spec = config_str(cf, "smtpd_sender_login_maps");
	if (*spec == '\0') {
		printf("%s: smtpd_sender_login_maps is empty: any authenticated login may send as it\n", addr);
		goto out;
	}
	if ((maps = table_list_open(spec, TABLE_F_FOLD, &err)) == NULL) {
		log_warn("smtpd_sender_login_maps: %s", buf_cstr(&err));
		rc = 1;
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.recipient_delimiter = config_str(cf, "recipient_delimiter");
	o.is_local_domain = sender_is_local;
	o.ctx = cf;
	found = table_find(maps, TABLE_SEARCH_VIRTUAL, addr, &o, &value, &m);
	if (found == TABLE_TEMPFAIL) {
		log_warn("lookup of %s failed: %s (the server answers 4xx)", addr,
			 table_list_error(maps));
		rc = 1;
	} else if (found == TABLE_NOTFOUND) {
		printf("%s: no owner: authenticated logins are refused "
		       "(reject_authenticated_sender_login_mismatch), unknown-owner rules apply\n", addr);
	} else {
		printf("%s: may be sent as by %s (key %s)\n", addr, buf_cstr(&value), buf_cstr(&m.key));
		sender_rules(st, addr, &rules);
		for (size_t i = 0; i < rules.n; i++)
			printf("  %s\n", rules.v[i]);
	}
	table_list_close(&maps);
out:
	if (cf != base_cf)
		config_free(&cf);
	strv_free(&rules);
	table_match_free(&m);
	buf_free(&value);
	buf_free(&err);
	return rc;
}

/* sender_can - what a login may send as, per the store */
static int sender_can(const struct acct_store *st, const char *login)
{
	if (acct_get(&st->accounts, login) == NULL) {
		log_warn("no such account: %s", login);
		return 1;
	}
	printf("%s: own account", login);
	if (*st->delimiters)
		printf(" (and %s with any extension after '%c')", login, st->delimiters[0]);
	printf("\n");
	for (size_t i = 0; i < st->aliases.n; i++) {
		struct strv owners = STRV_INIT;

		if (st->aliases.e[i].key[0] == '@')
			continue;
		acct_alias_owners(st, st->aliases.e[i].key, &owners);
		if (strv_contains(&owners, login))
			printf("%s: receives this alias\n", st->aliases.e[i].key);
		strv_free(&owners);
	}
	for (size_t i = 0; i < st->senders.n; i++)
		if (strcmp(st->senders.e[i].key, login) == 0)
			printf("%s: granted%s\n", st->senders.e[i].value,
			       st->senders.e[i].value[0] == '@' ? " (every address of the domain)" : "");
	return 0;
}

/* sender_grant - allow or deny one grant */
static int sender_grant(struct acct_store *st, bool allow, const char *login, const char *what)
{
	if (allow && acct_get(&st->accounts, login) == NULL) {
		log_warn("no such account: %s (a grant needs a login that exists)", login);
		return 1;
	}
	if (allow) {
		if (acct_has_pair(&st->senders, login, what)) {
			log_warn("%s may already send as %s", login, what);
			return 1;
		}
		acct_add(&st->senders, login, what);	/* a login may hold several */
		return 0;
	}
	if (!acct_del_pair(&st->senders, login, what)) {
		log_warn("%s has no grant for %s", login, what);
		return 1;
	}
	return 0;
}

/* cmd_sender - send-as grants and ownership questions */
int cmd_sender(int argc, char **argv)
{
	struct acct_store st;
	struct config *cf = NULL;
	struct buf err = BUF_INIT;
	const char *verb;
	char *a1 = NULL, *a2 = NULL;
	int i, nargs, rc = 1;
	bool write;

	for (i = 1; i < argc && argv[i][0] == '-'; i += strcmp(argv[i], "-c") == 0 ? 2 : 1)
		;
	if (i >= argc)
		return acct_cli_usage(SENDER_USAGE);
	verb = argv[i];
	nargs = argc - i - 1;
	write = strcmp(verb, "allow") == 0 || strcmp(verb, "deny") == 0;
	if ((write && nargs != 2) || (strcmp(verb, "list") == 0 && nargs > 1) ||
	    ((strcmp(verb, "who") == 0 || strcmp(verb, "can") == 0) && nargs != 1))
		return acct_cli_usage(SENDER_USAGE);
	if (!write && strcmp(verb, "list") != 0 && strcmp(verb, "who") != 0 &&
	    strcmp(verb, "can") != 0) {
		log_warn("unknown sender command \"%s\"", verb);
		return acct_cli_usage(SENDER_USAGE);
	}
	if (nargs >= 1) {
		a1 = str_lower_dup(argv[i + 1]);
		if (acct_check_address(a1, false, &err) < 0)
			goto bad;
	}
	if (nargs == 2) {
		a2 = str_lower_dup(argv[i + 2]);
		if (acct_check_address(a2, true, &err) < 0)
			goto bad;
	}
	switch (acct_cli_open(argc, argv, write, &st, &cf, &i)) {
	case -2:
		free(a1);
		free(a2);
		return acct_cli_usage(SENDER_USAGE);
	case -1:
		free(a1);
		free(a2);
		return 1;
	}
	if (write) {
		rc = sender_grant(&st, strcmp(verb, "allow") == 0, a1, a2);
		if (rc == 0 && acct_commit(&st, &err) < 0) {
			log_warn("%s", buf_cstr(&err));
			rc = 1;
		}
	} else if (strcmp(verb, "list") == 0) {
		for (size_t k = 0; k < st.senders.n; k++)
			if (a1 == NULL || strcmp(a1, st.senders.e[k].key) == 0)
				printf("%s %s\n", st.senders.e[k].key, st.senders.e[k].value);
		rc = 0;
	} else if (strcmp(verb, "who") == 0) {
		rc = sender_who(&st, cf, a1);
	} else {
		rc = sender_can(&st, a1);
	}
	acct_close(&st);
	config_free(&cf);
	buf_free(&err);
	free(a1);
	free(a2);
	return rc;
bad:
	log_warn("%s", buf_cstr(&err));
	buf_free(&err);
	free(a1);
	free(a2);
	return acct_cli_usage(SENDER_USAGE);
}
