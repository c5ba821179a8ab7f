/*
 * table - open "type:name" tables, look keys up, search table lists.
 *
 * Public: table_open, table_lookup, table_prefetch, table_error, table_props, table_spec,
 * table_close, table_list_open, table_list_lookup, table_list_error,
 * table_list_count, table_list_member, table_list_close; for table types:
 * table_set_error, table_syntax, table_stamp_get, table_stamp_changed,
 * table_fold_copy.
 *
 * Rules kept here, once for every type: keys of fixed-string tables are
 * folded to lower case unless TABLE_F_NOFOLD; an empty result is a
 * configuration error reported as TABLE_TEMPFAIL; a table whose backing
 * file changed is reopened before the next lookup (checked at most every
 * TABLE_CHECK_MS milliseconds, so a change made by `outpost account` or
 * postmap is seen by the next session, while a stream of lookups costs
 * few stat calls), and a failed reopen keeps the old contents with a
 * warning.
 *
 * Bad input: open errors fill err ("type:name: reason") and return NULL;
 * lookup errors return TABLE_TEMPFAIL with the reason in table_error().
 */
#include "table/table.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "table/table_impl.h"

#define TABLE_CHECK_MS	20

/* now_ms - a coarse monotonic clock in milliseconds (cheap: no syscall) */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* table_open - parse "type:name", find the type, let it open name */
struct table *table_open(const char *spec, unsigned flags, struct buf *err)
{
	const char *colon = strchr(spec, ':');
	const struct table_ops *ops;
	struct table *t;
	char *type;

	buf_reset(err);
	if (colon == NULL || colon == spec || colon[1] == '\0') {
		buf_printf(err, "expecting \"type:name\" form instead of \"%s\"", spec);
		return NULL;
	}
	type = xstrndup(spec, (size_t)(colon - spec));
	ops = table_type_find(type);
	if (ops == NULL) {
		buf_printf(err, "unsupported dictionary type: %s", type);
		free(type);
		return NULL;
	}
	free(type);
	t = xcalloc(1, sizeof(*t));
	t->ops = ops;
	t->spec = xstrdup(spec);
	t->name = xstrdup(colon + 1);
	t->flags = flags;
	t->props = ops->props;
	t->checked = now_ms();
	if (ops->open(t, t->name, err) < 0) {
		if (err->len == 0)
			buf_printf(err, "%s: cannot open table", spec);
		free(t->spec);
		free(t->name);
		free(t);
		return NULL;
	}
	return t;
}

/* table_refresh - reopen a table whose backing file changed */
static void table_refresh(struct table *t)
{
	struct table fresh;
	struct buf err = BUF_INIT;
	int64_t now;

	if (t->ops->stale == NULL)
		return;
	now = now_ms();
	if (now - t->checked < TABLE_CHECK_MS)
		return;
	t->checked = now;
	if (!t->ops->stale(t))
		return;
	memset(&fresh, 0, sizeof(fresh));
	fresh.ops = t->ops;
	fresh.spec = t->spec;
	fresh.name = t->name;
	fresh.flags = t->flags;
	fresh.props = t->ops->props;
	if (t->ops->open(&fresh, t->name, &err) < 0) {
		log_warn("%s: the file changed but cannot be reloaded: %s; keeping the previous contents",
			 t->spec, buf_cstr(&err));
	} else {
		t->ops->close(t);
		t->priv = fresh.priv;
		t->props = fresh.props;
		log_info("%s: reloaded after a change", t->spec);
	}
	buf_free(&fresh.errmsg);
	buf_free(&fresh.fold);
	buf_free(&err);
}

/* table_utf8_valid - well-formed UTF-8: no overlongs, surrogates or > U+10FFFF */
static bool table_utf8_valid(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s++;
		int more;
		unsigned cp, min;

		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			more = 1, cp = c & 0x1f, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			more = 2, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			more = 3, cp = c & 0x07, min = 0x10000;
		else
			return false;
		while (more-- > 0) {
			if ((*s & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (*s++ & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
	}
	return true;
}

/*
 * table_fold_copy - ASCII lower case, what str_lower does in the C locale
 * (Outpost never calls setlocale), eight bytes at a time: a byte gets 0x20
 * added when it lies in 'A'..'Z' (bytes >= 0x80 are left alone)
 */
void table_fold_copy(char *dst, const char *src, size_t len)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t x, low, ge_a, gt_z;

		memcpy(&x, src + i, 8);
		low = x & ~high;
		ge_a = low + ones * (0x80 - 'A');	/* high bit: byte >= 'A' */
		gt_z = low + ones * (0x7f - 'Z');	/* high bit: byte > 'Z' */
		x ^= ((ge_a & ~gt_z & ~x & high) >> 2);	/* 0x80 >> 2 = 0x20 */
		memcpy(dst + i, &x, 8);
	}
	for (; i < len; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
}

/* table_lookup - one key, three outcomes; the value is never "" on FOUND */
enum table_status table_lookup(struct table *t, const char *key, struct buf *value)
{
	const char *query = key;
	bool fold = (t->props & TABLE_P_FIXED) && !(t->flags & TABLE_F_NOFOLD);
	bool aliased = value->data && key >= value->data && key < value->data + value->cap;
	enum table_status st;

	buf_reset(&t->errmsg);
	if ((t->flags & TABLE_F_UTF8) && !table_utf8_valid((const unsigned char *)key)) {
		log_warn("%s: non-UTF-8 key \"%s\": not looked up", t->spec, key);
		buf_reset(value);
		return TABLE_NOTFOUND;
	}
	table_refresh(t);
	if (fold || aliased) {	/* a key inside value would be overwritten: copy it */
		size_t len = strlen(key);

		buf_reset(&t->fold);
		buf_reserve(&t->fold, len);
		if (fold)
			table_fold_copy(t->fold.data, key, len);
		else
			memcpy(t->fold.data, key, len);
		t->fold.len = len;
		t->fold.data[len] = '\0';
		query = key = buf_cstr(&t->fold);
	}
	buf_reset(value);
	st = t->ops->lookup(t, query, value);
	if (st == TABLE_TEMPFAIL && t->errmsg.len == 0)
		table_set_error(t, "table %s: lookup error", t->spec);
	if (st == TABLE_FOUND && value->len == 0) {
		table_set_error(t, "table %s: key %s: empty string result is not allowed",
				t->spec, query);
		if (t->flags & TABLE_F_EMPTY_OK) {
			log_warn("%s", table_error(t));
			return TABLE_FOUND;
		}
		st = TABLE_TEMPFAIL;
	}
	if (st != TABLE_FOUND)
		buf_reset(value);
	return st;
}

/*
 * table_prefetch - a batch caller's hint: key (len bytes) comes next, so a
 * type whose lookups wait on memory (cdb) can start loading it now
 */
void table_prefetch(struct table *t, const char *key, size_t len)
{
	if (t->ops->prefetch)
		t->ops->prefetch(t, key, len,
				 (t->props & TABLE_P_FIXED) && !(t->flags & TABLE_F_NOFOLD));
}

/* table_set_error - record why the last lookup failed */
void table_set_error(struct table *t, const char *fmt, ...)
{
	va_list ap;

	buf_reset(&t->errmsg);
	va_start(ap, fmt);
	buf_vprintf(&t->errmsg, fmt, ap);
	va_end(ap);
}

/* table_syntax - warn about a bad rule, or fail the open when strict */
int table_syntax(struct table *t, struct buf *err, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (t->flags & TABLE_F_STRICT) {
		buf_reset(err);
		buf_puts(err, buf_cstr(&msg));
		buf_free(&msg);
		return -1;
	}
	log_warn("%s", buf_cstr(&msg));
	buf_free(&msg);
	return 0;
}

/* table_error - why the last lookup returned TABLE_TEMPFAIL */
const char *table_error(const struct table *t)
{
	return buf_cstr(&t->errmsg);
}

/* table_props - TABLE_P_FIXED or TABLE_P_PATTERN */
unsigned table_props(const struct table *t)
{
	return t->props;
}

/* table_spec - "type:name" as opened */
const char *table_spec(const struct table *t)
{
	return t->spec;
}

/* table_close - release a table and clear the caller's pointer */
void table_close(struct table **tp)
{
	struct table *t = *tp;

	if (t == NULL)
		return;
	t->ops->close(t);
	buf_free(&t->errmsg);
	buf_free(&t->fold);
	free(t->spec);
	free(t->name);
	free(t);
	*tp = NULL;
}

/* table_stamp_get - remember a file's identity; -1 (zeroed stamp) if absent */
int table_stamp_get(const char *path, struct table_stamp *st)
{
	struct stat sb;

	memset(st, 0, sizeof(*st));
	if (stat(path, &sb) < 0)
		return -1;
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	st->size = sb.st_size;
	st->mtime = sb.st_mtim;
	return 0;
}

/* table_stamp_changed - true once per change of the file (updates st) */
bool table_stamp_changed(const char *path, struct table_stamp *st)
{
	struct table_stamp now;

	table_stamp_get(path, &now);
	if (now.dev == st->dev && now.ino == st->ino && now.size == st->size &&
	    now.mtime.tv_sec == st->mtime.tv_sec && now.mtime.tv_nsec == st->mtime.tv_nsec)
		return false;
	*st = now;
	return true;
}

/* table_list_open - open every "type:name" of a parameter value */
struct table_list *table_list_open(const char *value, unsigned flags, struct buf *err)
{
	struct strv sv = STRV_INIT;
	struct table_list *l;
	const char *serr;

	buf_reset(err);
	if (str_split(value, STR_SEP_LIST, &sv, &serr) < 0) {
		buf_printf(err, "table list \"%s\": %s", value, serr);
		strv_free(&sv);
		return NULL;
	}
	l = xcalloc(1, sizeof(*l));
	l->v = xcalloc(sv.n ? sv.n : 1, sizeof(*l->v));
	for (size_t i = 0; i < sv.n; i++) {
		l->v[i] = table_open(sv.v[i], flags, err);
		if (l->v[i] == NULL) {
			table_list_close(&l);
			break;
		}
		l->n++;
	}
	strv_free(&sv);
	return l;
}

/*
 * table_list_lookup - first table that has the key wins; a partial key
 * skips pattern tables; a lookup error stops the search and is returned.
 */
enum table_status table_list_lookup(struct table_list *l, const char *key, bool partial_key,
				    struct buf *value, const struct table **answered)
{
	buf_reset(&l->err);
	if (answered)
		*answered = NULL;
	for (size_t i = 0; i < l->n; i++) {
		struct table *t = l->v[i];
		enum table_status st;

		if (partial_key && !(t->props & TABLE_P_FIXED))
			continue;
		st = table_lookup(t, key, value);
		if (st == TABLE_NOTFOUND)
			continue;
		if (answered)
			*answered = t;
		if (st == TABLE_TEMPFAIL)
			buf_set(&l->err, table_error(t));
		return st;
	}
	buf_reset(value);
	return TABLE_NOTFOUND;
}

/* table_list_error - why the last list lookup returned TABLE_TEMPFAIL */
const char *table_list_error(const struct table_list *l)
{
	return buf_cstr(&l->err);
}

/* table_list_count - how many tables the list holds */
size_t table_list_count(const struct table_list *l)
{
	return l->n;
}

/* table_list_member - the i-th table (0-based), in list order */
struct table *table_list_member(const struct table_list *l, size_t i)
{
	return i < l->n ? l->v[i] : NULL;
}

/* table_list_close - close every member and clear the caller's pointer */
void table_list_close(struct table_list **lp)
{
	struct table_list *l = *lp;

	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		table_close(&l->v[i]);
	free(l->v);
	buf_free(&l->err);
	free(l);
	*lp = NULL;
}
