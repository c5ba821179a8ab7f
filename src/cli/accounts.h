/*
 * accounts - the account, alias and send-as store behind `outpost account`,
 * `outpost alias add|del|list`, `outpost sender` and `outpost domain`.
 *
 * Three source files in the account directory are the truth, each a plain
 * "key value" table that a human can read:
 *   accounts   address  password-hash         (smtpd_sasl_password_maps)
 *   aliases    alias    target,target,…       (@domain = catch-all)
 *   senders    login    address-or-@domain    (one send-as grant per line)
 * Every change rewrites them and regenerates the tables the daemons read
 * (vmailbox, domains, virtual, login-accounts, login-aliases, login-grants,
 * login-domains.regexp), each atomically (temp file, fsync, rename) under an
 * exclusive lock, so concurrent commands are safe and a running server picks
 * the change up on its next lookup, without a restart.
 *
 * Ownership for smtpd_sender_login_maps is the union of all sources: the
 * generated login-* tables are meant to be listed in one unionmap, so no
 * source shadows another (the first-match trap of plain table lists).
 * Domain grants are a regexp that matches full addresses without an
 * extension, so they are unioned with the owner's own entry at the
 * user@domain step of the search rather than shadowed by it.
 *
 * With account_backend = sqlite the same three sources live in one SQLite
 * database (accounts.sqlite: accounts, alias_targets, senders), written in
 * one transaction, and the generated tables are sqlite_table(5) files
 * (*.cf) whose queries give the same answers, so several instances can
 * share the database (accounts_sqlite.c).
 *
 * Errors: every function returns -1 with a one-line reason in err and
 * writes nothing.
 */
#ifndef OUTPOST_CLI_ACCOUNTS_H
#define OUTPOST_CLI_ACCOUNTS_H

#include <stdbool.h>

#include "lib/buf.h"
#include "lib/str.h"

struct acct_entry {
	char *key;
	char *value;
};

struct acct_file {
	struct acct_entry *e;
	size_t n;
	size_t cap;
};

struct acct_store {
	char *dir;		/* the account directory */
	bool sqlite;		/* account_backend = sqlite */
	struct sqlite3 *db;	/* open database (sqlite backend) */
	char *delimiters;	/* recipient_delimiter, for grants */
	int lock_fd;
	struct acct_file accounts;
	struct acct_file aliases;
	struct acct_file senders;
};

int acct_open(struct acct_store *st, const char *dir, const char *delimiters,
	      const char *backend, bool for_write, struct buf *err);
void acct_close(struct acct_store *st);
int acct_commit(struct acct_store *st, struct buf *err);

const char *acct_get(const struct acct_file *f, const char *key);
void acct_set(struct acct_file *f, const char *key, const char *value);
void acct_add(struct acct_file *f, const char *key, const char *value);
bool acct_del(struct acct_file *f, const char *key);
bool acct_del_pair(struct acct_file *f, const char *key, const char *value);
bool acct_has_pair(const struct acct_file *f, const char *key, const char *value);

int acct_check_address(const char *addr, bool allow_domain, struct buf *err);
char *acct_domain_of(const char *addr);
int acct_write_atomic(const char *dir, const char *name, const struct buf *text,
		      unsigned mode, struct buf *err);

/* accounts_sqlite.c */
int acct_sqlite_open(struct acct_store *st, bool for_write, struct buf *err);
int acct_sqlite_commit(struct acct_store *st, struct buf *err);
void acct_sqlite_close(struct acct_store *st);
void acct_alias_owners(const struct acct_store *st, const char *alias, struct strv *out);

#endif
