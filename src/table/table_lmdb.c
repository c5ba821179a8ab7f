/*
 * table_lmdb - indexed tables stored in LMDB: types lmdb, hash, btree, dbm.
 *
 * Postfix keeps hash: and btree: in Berkeley DB and dbm: in NDBM; Outpost
 * stores all four the same way, in an LMDB file named "NAME.lmdb", so that
 * switching a table between these names needs no rebuild. The source file
 * NAME is read by table_source_read (keys folded unless postmap -f).
 *
 * Public: table_lmdb_ops, table_hash_ops, table_btree_ops, table_dbm_ops,
 * table_lmdb_commit.
 *
 * Readers map the file read-only, without LMDB's lock file (daemons may not
 * write beside /etc tables): this is safe because Outpost never changes an
 * index in place. A build, and -i/-d updates, fill a copy beside the index
 * and rename it over the old one; stale() notices the new file.
 * Keys and values are written with a trailing NUL (as postmap does on
 * Linux) unless -n; lookups accept both forms.
 * Bad input: a missing index is "open database NAME.lmdb: reason"; LMDB
 * errors during lookups are temporary failures, never "not found".
 */
#include <errno.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "table/table_admin.h"
#include "table/table_impl.h"
#include "table/table_index.h"

#define LMDB_SUFFIX ".lmdb"
#define LMDB_MIN_MAP ((size_t)256 << 20)

struct lmdb_table {
	MDB_env *env;
	MDB_txn *txn;		/* read txn for life, or the writer's txn */
	MDB_dbi dbi;
	struct buf path;	/* NAME.lmdb */
	struct buf key;		/* folded key, reused */
	struct table_stamp stamp;
	int nul;		/* -1 unknown, 1 keys end in NUL, 0 they do not */
	bool writer;
	struct buf tmp;		/* writer: the copy being filled */
	int lock_fd;
};

static void lmdb_close(struct table *t);

/* lmdb_set_err - "what path: lmdb reason" */
static void lmdb_set_err(struct buf *err, const char *what, const char *path, int rc)
{
	buf_printf(err, "%s %s: %s", what, path, rc == ENOENT ? strerror(rc) : mdb_strerror(rc));
}

/* lmdb_env_open - an environment on one file, no subdirectory, no lock file */
static int lmdb_env_open(MDB_env **envp, const char *path, unsigned flags, size_t mapsize)
{
	int rc;

	if ((rc = mdb_env_create(envp)) != 0)
		return rc;
	if (mapsize && (rc = mdb_env_set_mapsize(*envp, mapsize)) != 0)
		goto fail;
	if ((rc = mdb_env_open(*envp, path, flags | MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOTLS,
			       0644)) != 0)
		goto fail;
	return 0;
fail:
	mdb_env_close(*envp);
	*envp = NULL;
	return rc;
}

/* lmdb_map_size - address space for a writer: generous, it costs no memory */
static size_t lmdb_map_size(const char *path, size_t floor)
{
	struct stat sb;
	size_t want = LMDB_MIN_MAP;

	if (stat(path, &sb) == 0 && sb.st_size > 0)
		want += (size_t)sb.st_size * 16;
	return want > floor ? want : floor;
}

/* lmdb_writer_nul - the NUL convention for new entries */
static bool lmdb_writer_nul(int existing)
{
	enum table_nul mode = table_index_nul();

	if (mode == TABLE_NUL_YES)
		return true;
	if (mode == TABLE_NUL_NO)
		return false;
	return existing != 0;	/* unknown (-1) or with NUL (1): with NUL */
}

/* lmdb_open_writer - copy the index (if any) beside it and start a txn */
static int lmdb_open_writer(struct table *t, struct lmdb_table *p, struct buf *err)
{
	const char *path = buf_cstr(&p->path);
	MDB_env *src = NULL;
	int fd, rc;

	if ((p->lock_fd = table_index_lock(t->name, err)) == -1)
		return -1;
	if ((fd = table_index_tempfile(path, &p->tmp, err)) < 0)
		return -1;
	if (access(path, F_OK) == 0) {
		rc = lmdb_env_open(&src, path, MDB_RDONLY, 0);
		if (rc == 0)
			rc = mdb_env_copyfd2(src, fd, MDB_CP_COMPACT);
		if (src)
			mdb_env_close(src);
		if (rc != 0) {
			lmdb_set_err(err, "copy database", path, rc);
			close(fd);
			return -1;
		}
	} else if (!(t->flags & TABLE_F_CREATE)) {
		buf_printf(err, "open database %s: %s", path, strerror(ENOENT));
		close(fd);
		return -1;
	}
	close(fd);
	rc = lmdb_env_open(&p->env, buf_cstr(&p->tmp), MDB_NOSYNC,
			   lmdb_map_size(path, 0));
	if (rc == 0)
		rc = mdb_txn_begin(p->env, NULL, 0, &p->txn);
	if (rc == 0)
		rc = mdb_dbi_open(p->txn, NULL, MDB_CREATE, &p->dbi);
	if (rc != 0) {
		lmdb_set_err(err, "open database", buf_cstr(&p->tmp), rc);
		return -1;
	}
	p->writer = true;
	return 0;
}

/* lmdb_open - map NAME.lmdb (or start a writer with TABLE_F_WRITE) */
static int lmdb_open_any(struct table *t, const char *name, struct buf *err)
{
	struct lmdb_table *p = xcalloc(1, sizeof(*p));
	int rc;

	t->priv = p;
	p->nul = -1;
	p->lock_fd = -1;
	table_index_path(&p->path, name, LMDB_SUFFIX);
	if (t->flags & TABLE_F_WRITE)
		return lmdb_open_writer(t, p, err);
	if (table_stamp_get(buf_cstr(&p->path), &p->stamp) != 0) {
		buf_printf(err, "open database %s: %s", buf_cstr(&p->path), strerror(errno));
		return -1;
	}
	table_index_warn_older(buf_cstr(&p->path), name);
	rc = lmdb_env_open(&p->env, buf_cstr(&p->path), MDB_RDONLY, 0);
	if (rc == 0)
		rc = mdb_txn_begin(p->env, NULL, MDB_RDONLY, &p->txn);
	if (rc == 0)
		rc = mdb_dbi_open(p->txn, NULL, 0, &p->dbi);
	if (rc != 0) {
		lmdb_set_err(err, "open database", buf_cstr(&p->path), rc);
		return -1;
	}
	return 0;
}

/* lmdb_open - as lmdb_open_any; on failure nothing is left allocated */
static int lmdb_open(struct table *t, const char *name, struct buf *err)
{
	if (lmdb_open_any(t, name, err) == 0)
		return 0;
	lmdb_close(t);
	return -1;
}

/* lmdb_get - one probe, with or without the trailing NUL */
static int lmdb_get(struct lmdb_table *p, const char *k, size_t len, bool nul, MDB_val *v)
{
	MDB_val key = { len + (nul ? 1 : 0), (void *)(uintptr_t)k };

	return mdb_get(p->txn, p->dbi, &key, v);
}

/*
 * lmdb_lookup - both NUL conventions until one answers, then that one.
 * The key arrives folded (table_lookup); the value points into the map.
 */
static enum table_status lmdb_lookup(struct table *t, const char *key, struct buf *value)
{
	struct lmdb_table *p = t->priv;
	size_t len = strlen(key);
	MDB_val v;
	int rc = MDB_NOTFOUND;

	if (p->nul != 0) {
		rc = lmdb_get(p, key, len, true, &v);
		if (rc == 0 && !p->writer)
			p->nul = 1;
	}
	if (rc == MDB_NOTFOUND && p->nul != 1) {
		rc = lmdb_get(p, key, len, false, &v);
		if (rc == 0 && !p->writer)
			p->nul = 0;
	}
	if (rc == MDB_NOTFOUND)
		return TABLE_NOTFOUND;
	if (rc != 0) {
		table_set_error(t, "%s: lookup error: %s", buf_cstr(&p->path), mdb_strerror(rc));
		return TABLE_TEMPFAIL;
	}
	buf_reset(value);
	if (v.mv_size > 0 && ((const char *)v.mv_data)[v.mv_size - 1] == '\0')
		v.mv_size--;
	buf_append(value, v.mv_data, v.mv_size);
	return TABLE_FOUND;
}

/* lmdb_close - readers unmap; writers drop an uncommitted copy */
static void lmdb_close(struct table *t)
{
	struct lmdb_table *p = t->priv;

	if (p == NULL)
		return;
	if (p->txn)
		mdb_txn_abort(p->txn);
	if (p->env)
		mdb_env_close(p->env);
	if (p->writer && p->tmp.len)
		unlink(buf_cstr(&p->tmp));
	if (p->lock_fd >= 0)
		close(p->lock_fd);
	buf_free(&p->path);
	buf_free(&p->key);
	buf_free(&p->tmp);
	free(p);
	t->priv = NULL;
}

/*
 * table_lmdb_commit - make a writer's changes visible: commit, sync, rename.
 * Returns 0, or -1 with err filled (the old index is then untouched).
 */
int table_lmdb_commit(struct table *t, struct buf *err)
{
	struct lmdb_table *p = t->priv;
	int rc;

	if (t->ops->open != lmdb_open || p == NULL || !p->writer)
		return 0;
	rc = mdb_txn_commit(p->txn);
	p->txn = NULL;
	if (rc == 0)
		rc = mdb_env_sync(p->env, 1);
	mdb_env_close(p->env);
	p->env = NULL;
	if (rc != 0) {
		lmdb_set_err(err, "write database", buf_cstr(&p->tmp), rc);
		return -1;
	}
	if (table_index_commit(buf_cstr(&p->tmp), buf_cstr(&p->path), err) != 0)
		return -1;
	buf_reset(&p->tmp);
	return 0;
}

/* lmdb_stale - the index was replaced or rewritten since we mapped it */
static int lmdb_stale(struct table *t)
{
	struct lmdb_table *p = t->priv;

	return !p->writer && table_stamp_changed(buf_cstr(&p->path), &p->stamp);
}

/* lmdb_put - store one entry in the writer's txn */
static int lmdb_put(struct lmdb_table *p, const char *key, const char *value, unsigned flags)
{
	bool nul = lmdb_writer_nul(p->nul);
	MDB_val k = { strlen(key) + nul, (void *)(uintptr_t)key };
	MDB_val v = { strlen(value) + nul, (void *)(uintptr_t)value };

	return mdb_put(p->txn, p->dbi, &k, &v, flags);
}

/* lmdb_update - insert or replace (outpost map -i) */
static int lmdb_update(struct table *t, const char *key, const char *value, struct buf *err)
{
	struct lmdb_table *p = t->priv;
	int rc;

	table_index_fold(&p->key, key, !(t->flags & TABLE_F_NOFOLD));
	rc = lmdb_put(p, buf_cstr(&p->key), value, 0);
	if (rc != 0) {
		lmdb_set_err(err, "update database", buf_cstr(&p->path), rc);
		return -1;
	}
	return 0;
}

/* lmdb_remove - delete both NUL forms; 1 deleted, 0 absent, -1 error */
static int lmdb_remove(struct table *t, const char *key, struct buf *err)
{
	struct lmdb_table *p = t->priv;
	int found = 0;

	table_index_fold(&p->key, key, !(t->flags & TABLE_F_NOFOLD));
	for (int nul = 1; nul >= 0; nul--) {
		MDB_val k = { p->key.len + (size_t)nul, p->key.data };
		int rc = mdb_del(p->txn, p->dbi, &k, NULL);

		if (rc == 0)
			found = 1;
		else if (rc != MDB_NOTFOUND) {
			lmdb_set_err(err, "delete from database", buf_cstr(&p->path), rc);
			return -1;
		}
	}
	return found;
}

/* lmdb_iterate - every entry in key order, trailing NULs removed */
static int lmdb_iterate(struct table *t, table_entry_fn fn, void *ctx)
{
	struct lmdb_table *p = t->priv;
	struct buf k = BUF_INIT, v = BUF_INIT;
	MDB_cursor *cur;
	MDB_val mk, mv;
	int rc, ret = 0;

	if ((rc = mdb_cursor_open(p->txn, p->dbi, &cur)) != 0) {
		table_set_error(t, "%s: %s", buf_cstr(&p->path), mdb_strerror(rc));
		return -1;
	}
	for (rc = mdb_cursor_get(cur, &mk, &mv, MDB_FIRST); rc == 0 && ret == 0;
	     rc = mdb_cursor_get(cur, &mk, &mv, MDB_NEXT)) {
		buf_reset(&k);
		buf_reset(&v);
		if (mk.mv_size && ((char *)mk.mv_data)[mk.mv_size - 1] == '\0')
			mk.mv_size--;
		if (mv.mv_size && ((char *)mv.mv_data)[mv.mv_size - 1] == '\0')
			mv.mv_size--;
		buf_append(&k, mk.mv_data, mk.mv_size);
		buf_append(&v, mv.mv_data, mv.mv_size);
		ret = fn(buf_cstr(&k), buf_cstr(&v), ctx);
	}
	mdb_cursor_close(cur);
	buf_free(&k);
	buf_free(&v);
	if (ret == 0 && rc != MDB_NOTFOUND) {
		table_set_error(t, "%s: %s", buf_cstr(&p->path), mdb_strerror(rc));
		return -1;
	}
	return ret;
}

struct lmdb_build {
	struct lmdb_table *p;
	const struct table_source_opts *o;
	int rc;			/* first LMDB error */
	struct buf alias;	/* aliases(5) value as postalias stores it */
};

/* lmdb_build_entry - one source entry; first duplicate wins unless -r */
static int lmdb_build_entry(const char *key, const char *value, void *ctx)
{
	struct lmdb_build *b = ctx;
	int rc;

	if (b->o->alias_format) {
		table_alias_value(value, &b->alias);
		value = buf_cstr(&b->alias);
	}
	rc = lmdb_put(b->p, key, value, MDB_NOOVERWRITE);

	if (rc == MDB_KEYEXIST) {
		if (!b->o->replace_dups)
			return TABLE_ENTRY_DUP;
		rc = lmdb_put(b->p, key, value, 0);
	}
	b->rc = rc;
	return rc == 0 ? 0 : -1;
}

/* lmdb_build_once - fill a fresh copy; MDB_MAP_FULL makes the caller retry */
static int lmdb_build_once(const char *name, const struct table_source_opts *o,
			   size_t mapsize, struct buf *err)
{
	struct lmdb_table p = { .nul = -1, .lock_fd = -1 };
	struct lmdb_build b = { &p, o, 0, BUF_INIT };
	int fd, rc, ret = -1;

	table_index_path(&p.path, name, LMDB_SUFFIX);
	if ((fd = table_index_tempfile(buf_cstr(&p.path), &p.tmp, err)) < 0)
		goto out;
	close(fd);
	rc = lmdb_env_open(&p.env, buf_cstr(&p.tmp), MDB_NOSYNC, mapsize);
	if (rc == 0)
		rc = mdb_txn_begin(p.env, NULL, 0, &p.txn);
	if (rc == 0)
		rc = mdb_dbi_open(p.txn, NULL, MDB_CREATE, &p.dbi);
	if (rc != 0) {
		lmdb_set_err(err, "create database", buf_cstr(&p.tmp), rc);
		goto out;
	}
	p.writer = true;
	if (table_source_read(name, o, lmdb_build_entry, &b, err) != 0) {
		if (b.rc == MDB_MAP_FULL) {
			buf_reset(err);
			ret = 1;
		} else if (b.rc != 0)
			lmdb_set_err(err, "write database", buf_cstr(&p.tmp), b.rc);
		goto out;
	}
	rc = mdb_txn_commit(p.txn);
	p.txn = NULL;
	if (rc == MDB_MAP_FULL) {
		ret = 1;
		goto out;
	}
	if (rc == 0)
		rc = mdb_env_sync(p.env, 1);
	if (rc != 0) {
		lmdb_set_err(err, "write database", buf_cstr(&p.tmp), rc);
		goto out;
	}
	mdb_env_close(p.env);
	p.env = NULL;
	ret = table_index_commit(buf_cstr(&p.tmp), buf_cstr(&p.path), err);
	if (ret == 0)
		buf_reset(&p.tmp);
out:
	if (p.txn)
		mdb_txn_abort(p.txn);
	if (p.env)
		mdb_env_close(p.env);
	if (p.tmp.len)
		unlink(buf_cstr(&p.tmp));
	buf_free(&p.path);
	buf_free(&p.tmp);
	buf_free(&b.alias);
	return ret;
}

/* lmdb_build - build NAME.lmdb from NAME under one writer lock */
static int lmdb_build(const char *name, const struct table_source_opts *o, struct buf *err)
{
	size_t mapsize;
	int lock, rc;

	if ((lock = table_index_lock(name, err)) == -1)
		return -1;
	mapsize = lmdb_map_size(name, 0);
	while ((rc = lmdb_build_once(name, o, mapsize, err)) == 1)
		mapsize *= 2;
	if (lock >= 0)
		close(lock);
	return rc;
}

#define LMDB_OPS(TYPE)                                                           \
	{                                                                               \
		.type = TYPE, .props = TABLE_P_FIXED, .open = lmdb_open,                \
		.lookup = lmdb_lookup, .close = lmdb_close, .stale = lmdb_stale,        \
		.build = lmdb_build, .iterate = lmdb_iterate, .update = lmdb_update,         \
		.remove = lmdb_remove,                                                  \
	}

const struct table_ops table_lmdb_ops = LMDB_OPS("lmdb");
const struct table_ops table_hash_ops = LMDB_OPS("hash");
const struct table_ops table_btree_ops = LMDB_OPS("btree");
const struct table_ops table_dbm_ops = LMDB_OPS("dbm");
