/*
 * table_admin - build, list and update tables for `outpost map` and
 * `outpost alias`, on top of the per-type operations.
 *
 * Public: table_admin_build, table_admin_iterate, table_admin_update,
 * table_admin_remove, table_admin_commit, table_admin_set_nul,
 * table_admin_read_source, table_alias_value.
 *
 * Bad input: a type that cannot do the operation asked is an error in
 * postmap's words ("unsupported dictionary type: texthash does not support
 * bulk-mode creation.", "table cdb:x: update operation is not supported");
 * source-file problems come back as "FILE, line N: reason".
 */
#include "table/table_admin.h"

#include <string.h>

#include "lib/mem.h"
#include "table/table_impl.h"
#include "table/table_index.h"

_Static_assert(TABLE_ADMIN_DUP == TABLE_ENTRY_DUP, "duplicate signal differs");

/* table_admin_set_nul - -N (1), -n (-1) or the type's default (0) */
void table_admin_set_nul(int nul)
{
	table_index_set_nul(nul > 0 ? TABLE_NUL_YES : nul < 0 ? TABLE_NUL_NO : TABLE_NUL_DEFAULT);
}

/* admin_source_opts - the reader's options from ours */
static struct table_source_opts admin_source_opts(const struct table_build_opts *o)
{
	struct table_source_opts so = {
		.fold = o->fold,
		.replace_dups = o->replace_dups,
		.quiet_dups = o->quiet_dups,
		.alias_format = o->alias_format,
	};
	return so;
}

/* table_admin_build - "type:name": write name's index from name */
int table_admin_build(const char *spec, const struct table_build_opts *o, struct buf *err)
{
	const char *colon = strchr(spec, ':');
	const struct table_ops *ops;
	struct table_source_opts so = admin_source_opts(o);
	char *type;

	buf_reset(err);
	if (colon == NULL || colon == spec || colon[1] == '\0') {
		buf_printf(err, "expecting \"type:name\" form instead of \"%s\"", spec);
		return -1;
	}
	type = xstrndup(spec, (size_t)(colon - spec));
	ops = table_type_find(type);
	if (ops == NULL || ops->build == NULL) {
		buf_printf(err, ops ? "unsupported dictionary type: %s does not support "
				      "bulk-mode creation."
				    : "unsupported dictionary type: %s",
			   type);
		free(type);
		return -1;
	}
	free(type);
	return ops->build(colon + 1, &so, err);
}

/* table_admin_iterate - every entry of an opened table */
int table_admin_iterate(struct table *t, table_admin_fn fn, void *ctx, struct buf *err)
{
	int rc;

	if (t->ops->iterate == NULL) {
		buf_printf(err, "table %s: sequence operation is not supported", t->spec);
		return -1;
	}
	buf_reset(&t->errmsg);
	rc = t->ops->iterate(t, fn, ctx);
	if (rc < 0 && t->errmsg.len)
		buf_set(err, buf_cstr(&t->errmsg));
	return rc;
}

/* table_admin_update - insert or replace one entry (table opened TABLE_F_WRITE) */
int table_admin_update(struct table *t, const char *key, const char *value, struct buf *err)
{
	if (t->ops->update == NULL) {
		buf_printf(err, "table %s: update operation is not supported", t->spec);
		return -1;
	}
	return t->ops->update(t, key, value, err);
}

/* table_admin_remove - 1 removed, 0 absent, -1 error */
int table_admin_remove(struct table *t, const char *key, struct buf *err)
{
	if (t->ops->remove == NULL) {
		buf_printf(err, "table %s: delete operation is not supported", t->spec);
		return -1;
	}
	return t->ops->remove(t, key, err);
}

/* table_admin_commit - publish a writer's changes (before table_close) */
int table_admin_commit(struct table *t, struct buf *err)
{
	return table_lmdb_commit(t, err);
}

/* table_admin_read_source - entries of a source file, as a builder sees them */
int table_admin_read_source(const char *path, const struct table_build_opts *o,
			    table_admin_fn fn, void *ctx, struct buf *err)
{
	struct table_source_opts so = admin_source_opts(o);

	return table_source_read(path, &so, fn, ctx, err);
}

/* alias_element - one trimmed list element, inner blanks outside quotes collapsed */
static void alias_element(const char *s, size_t n, struct buf *out)
{
	bool quoted = false, blank = false;
	size_t start = out->len;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!quoted && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
			blank = out->len > start;
			continue;
		}
		if (blank)
			buf_putc(out, ' ');
		blank = false;
		if (c == '"')
			quoted = !quoted;
		else if (c == '\\' && quoted && i + 1 < n)
			buf_putc(out, s[i++]);
		buf_putc(out, s[i]);
	}
	if (quoted)
		buf_putc(out, '"');
}

/*
 * table_alias_value - split at commas outside quotes, comments and <...>,
 * trim each element, and join them with ", ", keeping empty elements, as
 * postalias stores an aliases(5) value.
 */
void table_alias_value(const char *value, struct buf *out)
{
	const char *p = value, *elem = value;
	bool quoted = false;
	int depth = 0;

	buf_reset(out);
	for (;; p++) {
		if (*p == '\0' || (*p == ',' && !quoted && depth == 0)) {
			if (elem != value)
				buf_puts(out, ", ");
			alias_element(elem, (size_t)(p - elem), out);
			if (*p == '\0')
				break;
			elem = p + 1;
		} else if (*p == '"') {
			quoted = !quoted;
		} else if (*p == '\\' && quoted && p[1]) {
			p++;
		} else if (!quoted && (*p == '(' || *p == '<')) {
			depth++;
		} else if (!quoted && (*p == ')' || *p == '>') && depth > 0) {
			depth--;
		}
	}
}
