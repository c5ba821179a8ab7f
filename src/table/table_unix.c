/*
 * table_unix - "unix:passwd.byname" and "unix:group.byname": the system's
 * account and group databases (through NSS), keyed by name, answering
 * with the passwd(5) or group(5) line. Postfix's default
 * local_recipient_maps uses the first to know which local users exist.
 *
 * Public: table_unix_ops (via table_registry.c).
 * Bad input: another map name is an open error naming the two known ones;
 * an NSS failure other than "no such entry" is a temporary failure.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/mem.h"
#include "table/table_impl.h"

enum unix_map { UNIX_PASSWD, UNIX_GROUP };

/* unix_open - which database */
static int unix_open(struct table *t, const char *name, struct buf *err)
{
	static enum unix_map maps[] = { UNIX_PASSWD, UNIX_GROUP };

	if (strcmp(name, "passwd.byname") == 0)
		t->priv = &maps[0];
	else if (strcmp(name, "group.byname") == 0)
		t->priv = &maps[1];
	else {
		buf_printf(err, "unknown table: unix:%s (expected unix:passwd.byname or unix:group.byname)",
			   name);
		return -1;
	}
	return 0;
}

/* unix_scratch - a buffer for the reentrant NSS calls, grown on ERANGE */
static char *unix_scratch(size_t *len)
{
	long hint = sysconf(_SC_GETPW_R_SIZE_MAX);

	*len = hint > 0 ? (size_t)hint : 4096;
	return xmalloc(*len);
}

/* unix_lookup_passwd - "name:passwd:uid:gid:gecos:dir:shell" */
static enum table_status unix_lookup_passwd(struct table *t, const char *key, struct buf *value)
{
	struct passwd pw, *res = NULL;
	size_t len;
	char *scratch = unix_scratch(&len);
	int rc;

	while ((rc = getpwnam_r(key, &pw, scratch, len, &res)) == ERANGE && len < (1u << 20)) {
		len *= 2;
		scratch = xreallocarray(scratch, len, 1);
	}
	if (rc != 0 && rc != ENOENT && rc != ESRCH) {
		table_set_error(t, "table %s: lookup of %s: %s", t->spec, key, strerror(rc));
		free(scratch);
		return TABLE_TEMPFAIL;
	}
	if (res != NULL)
		buf_printf(value, "%s:%s:%ld:%ld:%s:%s:%s", pw.pw_name, pw.pw_passwd,
			   (long)pw.pw_uid, (long)pw.pw_gid, pw.pw_gecos, pw.pw_dir, pw.pw_shell);
	free(scratch);
	return res ? TABLE_FOUND : TABLE_NOTFOUND;
}

/* unix_lookup_group - "name:passwd:gid:member,member" */
static enum table_status unix_lookup_group(struct table *t, const char *key, struct buf *value)
{
	struct group gr, *res = NULL;
	size_t len;
	char *scratch = unix_scratch(&len);
	int rc;

	while ((rc = getgrnam_r(key, &gr, scratch, len, &res)) == ERANGE && len < (1u << 20)) {
		len *= 2;
		scratch = xreallocarray(scratch, len, 1);
	}
	if (rc != 0 && rc != ENOENT && rc != ESRCH) {
		table_set_error(t, "table %s: lookup of %s: %s", t->spec, key, strerror(rc));
		free(scratch);
		return TABLE_TEMPFAIL;
	}
	if (res != NULL) {
		buf_printf(value, "%s:%s:%ld:", gr.gr_name, gr.gr_passwd, (long)gr.gr_gid);
		for (char **m = gr.gr_mem; m && *m; m++)
			buf_printf(value, "%s%s", m == gr.gr_mem ? "" : ",", *m);
	}
	free(scratch);
	return res ? TABLE_FOUND : TABLE_NOTFOUND;
}

/* unix_lookup - dispatch on the database */
static enum table_status unix_lookup(struct table *t, const char *key, struct buf *value)
{
	return *(enum unix_map *)t->priv == UNIX_PASSWD ? unix_lookup_passwd(t, key, value)
							 : unix_lookup_group(t, key, value);
}

/* unix_close - nothing of our own to release */
static void unix_close(struct table *t)
{
	t->priv = NULL;
}

const struct table_ops table_unix_ops = {
	.type = "unix",
	.props = TABLE_P_FIXED,
	.open = unix_open,
	.lookup = unix_lookup,
	.close = unix_close,
};
