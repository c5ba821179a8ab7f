/*
 * table_union - "unionmap:{type:name, ...}" and "pipemap:{type:name, ...}".
 *
 * unionmap gives each query to every member in order and joins all the
 * results with a bare "," (no de-duplication); it finds nothing only when
 * no member does. pipemap feeds the result of each member as the query of
 * the next; the last member's result is the answer, and any member that
 * finds nothing ends the pipeline with nothing. In both, a member's lookup
 * error aborts the lookup with that error, and the first member decides
 * whether the whole is a fixed-string or a pattern table (so
 * unionmap:{pcre:..., texthash:...} never sees partial keys).
 *
 * Public: table_unionmap_ops, table_pipemap_ops (via table_registry.c).
 * Bad input: a name that is not a non-empty braced list opens a table
 * whose every lookup fails with 'bad syntax: "unionmap:x"; need
 * "unionmap:{type:name...}"' (warned once at open); a member that cannot
 * be opened makes the open fail with that member's reason.
 */
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "table/table_impl.h"

struct multi {
	struct table **v;
	size_t n;
	char *syntax_error;	/* set: every lookup fails with this */
	struct buf a, b;	/* pipemap: alternating query/result buffers */
};

/* multi_open - open the members, or remember the syntax error */
static int multi_open(struct table *t, const char *name, const char *type, struct buf *err)
{
	struct multi *m = xcalloc(1, sizeof(*m));
	struct strv sv = STRV_INIT;
	char *copy = xstrdup(name), *body = str_trim(copy);
	const char *serr;

	t->priv = m;
	if (*body != '{' || (body = str_unbrace(body, &serr)) == NULL ||
	    str_split(body, STR_SEP_LIST, &sv, &serr) < 0 || sv.n == 0) {
		struct buf msg = BUF_INIT;

		buf_printf(&msg, "bad syntax: \"%s\"; need \"%s:{type:name...}\"", t->spec, type);
		log_warn("%s", buf_cstr(&msg));
		m->syntax_error = buf_steal(&msg);
		t->props = TABLE_P_FIXED;
		goto out;
	}
	m->v = xcalloc(sv.n, sizeof(*m->v));
	for (size_t i = 0; i < sv.n; i++) {
		if ((m->v[m->n] = table_open(sv.v[i], t->flags, err)) == NULL) {
			strv_free(&sv);
			free(copy);
			return -1;
		}
		m->n++;
	}
	t->props = table_props(m->v[0]);
out:
	strv_free(&sv);
	free(copy);
	return 0;
}

/* multi_close - close every member */
static void multi_close(struct table *t)
{
	struct multi *m = t->priv;

	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		table_close(&m->v[i]);
	free(m->v);
	free(m->syntax_error);
	buf_free(&m->a);
	buf_free(&m->b);
	free(m);
	t->priv = NULL;
}

/* multi_member_error - pass a member's failure up as ours */
static enum table_status multi_member_error(struct table *t, const struct table *member)
{
	table_set_error(t, "%s", table_error(member));
	return TABLE_TEMPFAIL;
}

/* union_open - "unionmap:{...}" */
static int union_open(struct table *t, const char *name, struct buf *err)
{
	if (multi_open(t, name, "unionmap", err) < 0) {
		multi_close(t);
		return -1;
	}
	return 0;
}

/* union_lookup - every member's result, joined by "," */
static enum table_status union_lookup(struct table *t, const char *key, struct buf *value)
{
	struct multi *m = t->priv;
	bool found = false;

	if (m->syntax_error) {
		table_set_error(t, "%s", m->syntax_error);
		return TABLE_TEMPFAIL;
	}
	for (size_t i = 0; i < m->n; i++) {
		switch (table_lookup(m->v[i], key, &m->a)) {
		case TABLE_TEMPFAIL:
			return multi_member_error(t, m->v[i]);
		case TABLE_NOTFOUND:
			break;
		case TABLE_FOUND:
			if (found)
				buf_putc(value, ',');
			buf_append(value, m->a.data, m->a.len);
			found = true;
			break;
		}
	}
	return found ? TABLE_FOUND : TABLE_NOTFOUND;
}

/* pipe_open - "pipemap:{...}" */
static int pipe_open(struct table *t, const char *name, struct buf *err)
{
	if (multi_open(t, name, "pipemap", err) < 0) {
		multi_close(t);
		return -1;
	}
	return 0;
}

/* pipe_lookup - each result is the next member's query */
static enum table_status pipe_lookup(struct table *t, const char *key, struct buf *value)
{
	struct multi *m = t->priv;
	struct buf *in = &m->a, *out = &m->b, *swap;

	if (m->syntax_error) {
		table_set_error(t, "%s", m->syntax_error);
		return TABLE_TEMPFAIL;
	}
	buf_set(in, key);
	for (size_t i = 0; i < m->n; i++) {
		switch (table_lookup(m->v[i], buf_cstr(in), out)) {
		case TABLE_TEMPFAIL:
			return multi_member_error(t, m->v[i]);
		case TABLE_NOTFOUND:
			return TABLE_NOTFOUND;
		case TABLE_FOUND:
			swap = in;
			in = out;
			out = swap;
			break;
		}
	}
	buf_append(value, in->data, in->len);
	return TABLE_FOUND;
}

const struct table_ops table_unionmap_ops = {
	.type = "unionmap",
	.props = TABLE_P_FIXED,
	.open = union_open,
	.lookup = union_lookup,
	.close = multi_close,
};

const struct table_ops table_pipemap_ops = {
	.type = "pipemap",
	.props = TABLE_P_FIXED,
	.open = pipe_open,
	.lookup = pipe_lookup,
	.close = multi_close,
};
