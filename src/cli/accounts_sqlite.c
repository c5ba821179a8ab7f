/*
 * accounts_sqlite - the account store in one SQLite database
 * (account_backend = sqlite), for several instances sharing one store.
 *
 * The database ($account_directory/accounts.sqlite) holds the same three
 * sources as the files backend, normalised: accounts(address, hash),
 * alias_targets(alias, target), senders(login, address). A writer takes the
 * database lock first (BEGIN IMMEDIATE: concurrent commands queue up) and
 * replaces the rows in the same transaction, so readers see all of a
 * change or none of it. The server reads the database live through
 * sqlite_table(5) files written here, one per generated table, whose
 * queries give the answers the files backend's tables give:
 *   vmailbox.cf domains.cf virtual.cf passwords.cf
 *   login-accounts.cf login-aliases.cf login-grants.cf login-domains.cf
 *
 * Public: acct_sqlite_open, acct_sqlite_commit, acct_sqlite_close.
 * Bad input: database errors come back as one line in err; the
 * transaction is rolled back and nothing changes.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "cli/accounts.h"
#include "lib/mem.h"

static const char acct_schema[] =
	"PRAGMA journal_mode = WAL;"
	"CREATE TABLE IF NOT EXISTS accounts (address TEXT PRIMARY KEY, hash TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS alias_targets (alias TEXT NOT NULL, target TEXT NOT NULL,"
	" PRIMARY KEY (alias, target));"
	"CREATE TABLE IF NOT EXISTS senders (login TEXT NOT NULL, address TEXT NOT NULL,"
	" PRIMARY KEY (login, address));";

/* One generated table: file name and the query that answers like it. */
struct acct_sql_table {
	const char *name;
	const char *query;
};

/*
 * The queries. %s is the lookup key, %u its local part, %d its domain; a
 * key without the part a query needs is "not found" without a query.
 * login-aliases follows alias chains to the accounts at their ends (UNION
 * ends cycles); a catch-all key grants no sending. login-domains matches a
 * full address without an extension (the delimiter test is appended).
 */
static const struct acct_sql_table acct_sql_tables[] = {
	{ "vmailbox.cf", "SELECT '%d/%u/' FROM accounts WHERE address = '%s'" },
	{ "domains.cf",
	  "SELECT 'managed' FROM accounts WHERE substr(address, instr(address, '@') + 1) = '%s' "
	  "UNION SELECT 'managed' FROM alias_targets WHERE substr(alias, instr(alias, '@') + 1) = '%s'" },
	{ "virtual.cf",
	  "SELECT target FROM alias_targets WHERE alias = '%s' "
	  "UNION ALL SELECT address FROM accounts WHERE address = '%s' "
	  "AND NOT EXISTS (SELECT 1 FROM alias_targets WHERE alias = '%s') "
	  "AND EXISTS (SELECT 1 FROM alias_targets WHERE alias = '@%d')" },
	{ "passwords.cf", "SELECT hash FROM accounts WHERE address = '%s'" },
	{ "login-accounts.cf", "SELECT address FROM accounts WHERE address = '%s'" },
	{ "login-aliases.cf",
	  "WITH RECURSIVE reach(addr) AS ("
	  "SELECT target FROM alias_targets WHERE alias = '%s' AND alias NOT LIKE '@%%' "
	  "UNION SELECT t.target FROM alias_targets t JOIN reach r ON t.alias = r.addr) "
	  "SELECT a.address FROM accounts a JOIN reach r ON a.address = r.addr" },
	{ "login-grants.cf", "SELECT login FROM senders WHERE address = '%s'" },
	{ "login-domains.cf", "SELECT login FROM senders WHERE address = '@%d'" },
};

/* acct_sql_error - the database's reason, after what we were doing */
static int acct_sql_error(struct acct_store *st, const char *what, struct buf *err)
{
	buf_printf(err, "%s/accounts.sqlite: %s: %s", st->dir, what,
		   st->db ? sqlite3_errmsg(st->db) : "cannot open");
	return -1;
}

/* acct_sql_load - read one two-column query into a file of pairs */
static int acct_sql_load(struct acct_store *st, const char *sql, struct acct_file *f,
			 bool group, struct buf *err)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return acct_sql_error(st, "read", err);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(stmt, 0);
		const char *v = (const char *)sqlite3_column_text(stmt, 1);
		const char *old;

		if (k == NULL || v == NULL)
			continue;
		if (group && (old = acct_get(f, k)) != NULL) {
			struct buf joined = BUF_INIT;

			buf_printf(&joined, "%s,%s", old, v);
			acct_set(f, k, buf_cstr(&joined));
			buf_free(&joined);
		} else {
			acct_add(f, k, v);
		}
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : acct_sql_error(st, "read", err);
}

/* acct_sqlite_open - open (create) the database, lock it for writers, load */
int acct_sqlite_open(struct acct_store *st, bool for_write, struct buf *err)
{
	struct buf path = BUF_INIT;
	int flags = for_write ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
	int rc;

	buf_printf(&path, "%s/accounts.sqlite", st->dir);
	rc = sqlite3_open_v2(buf_cstr(&path), &st->db, flags, NULL);
	buf_free(&path);
	if (rc != SQLITE_OK) {
		if (!for_write && rc == SQLITE_CANTOPEN) {	/* no store yet: empty */
			sqlite3_close(st->db);
			st->db = NULL;
			return 0;
		}
		return acct_sql_error(st, "open", err);
	}
	sqlite3_busy_timeout(st->db, 30000);
	if (for_write) {
		/* password hashes inside: owner only, like the accounts file */
		buf_printf(&path, "%s/accounts.sqlite", st->dir);
		(void)chmod(buf_cstr(&path), 0600);
		buf_free(&path);
	}
	if (for_write && (sqlite3_exec(st->db, acct_schema, NULL, NULL, NULL) != SQLITE_OK ||
			  sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK))
		return acct_sql_error(st, "lock", err);
	if (acct_sql_load(st, "SELECT address, hash FROM accounts ORDER BY address",
			  &st->accounts, false, err) < 0 ||
	    acct_sql_load(st, "SELECT alias, target FROM alias_targets ORDER BY alias, rowid",
			  &st->aliases, true, err) < 0 ||
	    acct_sql_load(st, "SELECT login, address FROM senders ORDER BY login, address",
			  &st->senders, false, err) < 0)
		return -1;
	return 0;
}

/* acct_sql_insert - write every pair of f with a two-parameter INSERT */
static int acct_sql_insert(struct acct_store *st, const char *sql, const struct acct_file *f,
			   bool split, struct buf *err)
{
	sqlite3_stmt *stmt;
	int rc = 0;

	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return acct_sql_error(st, "write", err);
	for (size_t i = 0; i < f->n && rc == 0; i++) {
		struct strv parts = STRV_INIT;
		const char *why;

		if (split)
			(void)str_split(f->e[i].value, STR_SEP_LIST, &parts, &why);
		else
			strv_push(&parts, f->e[i].value);
		for (size_t j = 0; j < parts.n && rc == 0; j++) {
			sqlite3_bind_text(stmt, 1, f->e[i].key, -1, SQLITE_STATIC);
			sqlite3_bind_text(stmt, 2, parts.v[j], -1, SQLITE_TRANSIENT);
			if (sqlite3_step(stmt) != SQLITE_DONE)
				rc = acct_sql_error(st, "write", err);
			sqlite3_reset(stmt);
		}
		strv_free(&parts);
	}
	sqlite3_finalize(stmt);
	return rc;
}

/* acct_sql_write_tables - the sqlite_table(5) files the server reads */
static int acct_sql_write_tables(struct acct_store *st, struct buf *err)
{
	struct buf text = BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < sizeof(acct_sql_tables) / sizeof(acct_sql_tables[0]) && rc == 0; i++) {
		buf_reset(&text);
		buf_printf(&text, "# Generated by outpost for account_backend = sqlite; do not edit.\n"
				  "dbpath = %s/accounts.sqlite\nquery = %s",
			   st->dir, acct_sql_tables[i].query);
		if (strcmp(acct_sql_tables[i].name, "login-domains.cf") == 0) {
			/* full addresses only, without an extension, as with files */
			buf_puts(&text, " AND '%u' <> ''");
			for (const char *d = st->delimiters; *d; d++)
				if (*d != '\'' && *d != '%')
					buf_printf(&text, " AND instr('%%u', '%c') = 0", *d);
		}
		buf_puts(&text, "\n");
		rc = acct_write_atomic(st->dir, acct_sql_tables[i].name, &text, 0644, err);
	}
	buf_free(&text);
	return rc;
}

/* acct_sqlite_commit - replace every row in the open transaction, then commit */
int acct_sqlite_commit(struct acct_store *st, struct buf *err)
{
	if (sqlite3_exec(st->db, "DELETE FROM accounts; DELETE FROM alias_targets; DELETE FROM senders",
			 NULL, NULL, NULL) != SQLITE_OK)
		return acct_sql_error(st, "write", err);
	if (acct_sql_insert(st, "INSERT INTO accounts VALUES (?, ?)", &st->accounts, false, err) < 0 ||
	    acct_sql_insert(st, "INSERT OR IGNORE INTO alias_targets VALUES (?, ?)", &st->aliases,
			    true, err) < 0 ||
	    acct_sql_insert(st, "INSERT OR IGNORE INTO senders VALUES (?, ?)", &st->senders,
			    false, err) < 0 ||
	    acct_sql_write_tables(st, err) < 0)
		return -1;
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return acct_sql_error(st, "commit", err);
	return 0;
}

/* acct_sqlite_close - roll back what was not committed, close */
void acct_sqlite_close(struct acct_store *st)
{
	if (st->db && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(st->db);
	st->db = NULL;
}
