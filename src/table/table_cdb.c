/*
 * table_cdb - constant databases (tinycdb): type cdb, index file NAME.cdb.
 *
 * Public: table_cdb_ops.
 *
 * A cdb file is written once and never changed: `outpost map cdb:NAME`
 * writes a copy beside NAME.cdb and renames it into place; incremental
 * updates (-i, -d) are refused, as in Postfix. Lookups read the cdb format
 * straight from tinycdb's map of the file (no copy, no allocation per
 * lookup); tinycdb builds and lists. Keys and values are written
 * without a trailing NUL (postmap's default for cdb) unless -N; lookups
 * accept both forms. Unlike postmap, -s can list a cdb table.
 * Bad input: a missing or corrupt file is "open database NAME.cdb: reason";
 * read errors during lookups are temporary failures.
 */
#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "table/table_admin.h"
#include "table/table_impl.h"
#include "table/table_index.h"

#define CDB_SUFFIX ".cdb"
#define CDB_HINTS 4		/* hinted keys remembered (the batch loop hints 2 ahead) */
#define CDB_HINT_KEY 64		/* longest key remembered */

struct cdb_table {
	struct cdb cdb;
	int fd;
	bool mapped;		/* cdb_init succeeded */
	struct buf path;	/* NAME.cdb */
	struct table_stamp stamp;
	int nul;		/* -1 unknown, 1 keys end in NUL, 0 they do not */
	bool hinted;		/* cdb_table_prefetch: a slot is on its way */
	uint32_t hint_h;	/* its key's hash */
	uint64_t hint_slot;	/* its offset in the map */
	struct cdb_hint {	/* the last hinted keys, folded, with their hashes */
		char key[CDB_HINT_KEY];
		uint32_t len, h;	/* len 0: empty */
	} ring[CDB_HINTS];
	unsigned ring_next;
};

/* cdb_table_open - map NAME.cdb read-only */
static int cdb_table_open_any(struct table *t, const char *name, struct buf *err)
{
	struct cdb_table *p = xcalloc(1, sizeof(*p));

	t->priv = p;
	p->fd = -1;
	p->nul = -1;
	table_index_path(&p->path, name, CDB_SUFFIX);
	if (t->flags & TABLE_F_WRITE) {
		buf_printf(err, "cdb:%s: a cdb table cannot be updated in place; "
				"edit %s and rebuild it", name, name);
		return -1;
	}
	p->fd = open(buf_cstr(&p->path), O_RDONLY | O_CLOEXEC);
	if (p->fd < 0 || table_stamp_get(buf_cstr(&p->path), &p->stamp) != 0) {
		buf_printf(err, "open database %s: %s", buf_cstr(&p->path), strerror(errno));
		return -1;
	}
	if (cdb_init(&p->cdb, p->fd) != 0) {
		buf_printf(err, "open database %s: %s", buf_cstr(&p->path),
			   errno ? strerror(errno) : "not a cdb file");
		return -1;
	}
	p->mapped = true;
	table_index_warn_older(buf_cstr(&p->path), name);
	return 0;
}

static void cdb_table_close(struct table *t);

/* cdb_table_open - as cdb_table_open_any; on failure nothing is left allocated */
static int cdb_table_open(struct table *t, const char *name, struct buf *err)
{
	if (cdb_table_open_any(t, name, err) == 0)
		return 0;
	cdb_table_close(t);
	return -1;
}

/* cdb_u32 - the little-endian 32-bit number at p */
static inline uint32_t cdb_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * cdb_probe - find key (len bytes, hash h) in the mapped file: 1 found
 * (*v, *vlen point into the map), 0 not, -1 corrupt. Read in place, no
 * copies: the 2048-byte header holds 256 (position, slot count) pairs; the
 * hash's low byte picks one table, the rest picks the first slot; slots
 * are (hash, record position) pairs, probed in order with wrap-around
 * until an empty one; a record is key length, value length, key, value.
 */
static int cdb_probe(const struct cdb_table *p, const char *key, uint32_t len, uint32_t h,
		     const char **v, uint32_t *vlen)
{
	const unsigned char *m = p->cdb.cdb_mem;
	uint64_t size = p->cdb.cdb_fsize;
	uint32_t tpos = cdb_u32(m + (h & 255) * 8), nslots = cdb_u32(m + (h & 255) * 8 + 4);
	uint64_t start, slot, end;

	if (nslots == 0)
		return 0;
	start = tpos;
	end = start + (uint64_t)nslots * 8;
	if (end > size)
		return -1;
	slot = start + (uint64_t)((h >> 8) % nslots) * 8;
	for (uint32_t n = 0; n < nslots; n++) {
		uint32_t sh = cdb_u32(m + slot), rpos = cdb_u32(m + slot + 4);

		if (rpos == 0)
			return 0;
		if (sh == h) {
			uint32_t klen, dlen;

			if ((uint64_t)rpos + 8 > size)
				return -1;
			klen = cdb_u32(m + rpos);
			dlen = cdb_u32(m + rpos + 4);
			if ((uint64_t)rpos + 8 + klen + dlen > size)
				return -1;
			if (klen == len && memcmp(m + rpos + 8, key, len) == 0) {
				*v = (const char *)m + rpos + 8 + klen;
				*vlen = dlen;
				return 1;
			}
		}
		if ((slot += 8) == end)
			slot = start;
	}
	return 0;
}

/* cdb_hinted_hash - the hash of key if it was hinted lately (saves hashing twice) */
static bool cdb_hinted_hash(const struct cdb_table *p, const char *key, uint32_t *len,
			    uint32_t *h)
{
	for (unsigned i = 0; i < CDB_HINTS; i++) {
		const struct cdb_hint *r = &p->ring[i];

		if (r->len > 0 && strncmp(r->key, key, r->len) == 0 && key[r->len] == '\0') {
			*len = r->len;
			*h = r->h;
			return true;
		}
	}
	return false;
}

/*
 * cdb_table_lookup - both NUL conventions until one answers, then that one.
 * The key arrives folded (table_lookup); the value points into the map.
 */
static enum table_status cdb_table_lookup(struct table *t, const char *key, struct buf *value)
{
	struct cdb_table *p = t->priv;
	uint32_t h = 5381, len = 0, vlen = 0;
	const char *v = NULL;
	int rc = 0;

	if (!cdb_hinted_hash(p, key, &len, &h)) {
		for (const unsigned char *k = (const unsigned char *)key; *k; k++, len++)
			h = ((h << 5) + h) ^ *k;	/* cdb's hash (D. J. Bernstein) */
	}
	if (len == UINT32_MAX)
		return TABLE_NOTFOUND;
	if (p->nul != 1 && (rc = cdb_probe(p, key, len, h, &v, &vlen)) > 0)
		p->nul = 0;
	if (rc == 0 && p->nul != 0 && (rc = cdb_probe(p, key, len + 1, (h << 5) + h, &v, &vlen)) > 0)
		p->nul = 1;	/* the key's NUL is part of the stored key */
	if (rc == 0)
		return TABLE_NOTFOUND;
	if (rc < 0) {
		table_set_error(t, "%s: read error", buf_cstr(&p->path));
		return TABLE_TEMPFAIL;
	}
	if (vlen > 0 && v[vlen - 1] == '\0')
		vlen--;
	buf_reset(value);
	buf_append(value, v, vlen);
	return TABLE_FOUND;
}

/*
 * cdb_table_prefetch - a two-step pipeline over the hinted keys: start
 * loading this key's first slot, and, for the key hinted before (whose
 * slot should have arrived by now), the record that slot points to; so
 * the two dependent memory waits of a lookup overlap earlier lookups
 */
static void cdb_table_prefetch(struct table *t, const char *key, size_t len, bool fold)
{
	struct cdb_table *p = t->priv;
	const unsigned char *m = p->cdb.cdb_mem;
	uint64_t size = p->cdb.cdb_fsize;
	uint32_t h = 5381, nslots, tpos;

	if (p->hinted) {
		const unsigned char *slot = m + p->hint_slot;
		uint32_t rpos = cdb_u32(slot + 4);

		if (cdb_u32(slot) == p->hint_h && rpos != 0 && (uint64_t)rpos + 8 <= size)
			__builtin_prefetch(m + rpos);
		p->hinted = false;
	}
	struct cdb_hint *r = &p->ring[p->ring_next++ % CDB_HINTS];
	unsigned char *d = (unsigned char *)r->key;

	r->len = 0;
	if (len == 0 || len > CDB_HINT_KEY)
		return;	/* rare: such a key is simply not hinted */
	if (fold)
		table_fold_copy(r->key, key, len);
	else
		memcpy(r->key, key, len);
	for (size_t i = 0; i < len; i++)
		h = ((h << 5) + h) ^ d[i];
	r->len = (uint32_t)len;
	r->h = h;
	if (p->nul == 1)
		h = (h << 5) + h;
	tpos = cdb_u32(m + (h & 255) * 8);
	nslots = cdb_u32(m + (h & 255) * 8 + 4);
	if (nslots == 0 || (uint64_t)tpos + (uint64_t)nslots * 8 > size)
		return;
	p->hint_slot = tpos + (uint64_t)((h >> 8) % nslots) * 8;
	p->hint_h = h;
	p->hinted = true;
	__builtin_prefetch(m + p->hint_slot);
}

/* cdb_table_close - unmap and forget */
static void cdb_table_close(struct table *t)
{
	struct cdb_table *p = t->priv;

	if (p == NULL)
		return;
	if (p->mapped)
		cdb_free(&p->cdb);
	if (p->fd >= 0)
		close(p->fd);
	buf_free(&p->path);
	free(p);
	t->priv = NULL;
}

/* cdb_table_stale - NAME.cdb was replaced since we mapped it */
static int cdb_table_stale(struct table *t)
{
	struct cdb_table *p = t->priv;

	return table_stamp_changed(buf_cstr(&p->path), &p->stamp);
}

/* cdb_table_iterate - every record in file order, trailing NULs removed */
static int cdb_table_iterate(struct table *t, table_entry_fn fn, void *ctx)
{
	struct cdb_table *p = t->priv;
	struct buf k = BUF_INIT, v = BUF_INIT;
	unsigned pos;
	int rc, ret = 0;

	cdb_seqinit(&pos, &p->cdb);
	while (ret == 0 && (rc = cdb_seqnext(&pos, &p->cdb)) > 0) {
		const char *kp = cdb_get(&p->cdb, cdb_keylen(&p->cdb), cdb_keypos(&p->cdb));
		const char *vp = cdb_get(&p->cdb, cdb_datalen(&p->cdb), cdb_datapos(&p->cdb));
		unsigned kl = cdb_keylen(&p->cdb), vl = cdb_datalen(&p->cdb);

		if (kp == NULL || vp == NULL) {
			rc = -1;
			break;
		}
		if (kl && kp[kl - 1] == '\0')
			kl--;
		if (vl && vp[vl - 1] == '\0')
			vl--;
		buf_reset(&k);
		buf_reset(&v);
		buf_append(&k, kp, kl);
		buf_append(&v, vp, vl);
		ret = fn(buf_cstr(&k), buf_cstr(&v), ctx);
	}
	buf_free(&k);
	buf_free(&v);
	if (ret == 0 && rc < 0) {
		table_set_error(t, "%s: read error", buf_cstr(&p->path));
		return -1;
	}
	return ret;
}

struct cdb_build {
	struct cdb_make make;
	const struct table_source_opts *o;
	bool nul;
	int failed;		/* errno of a write failure */
	struct buf alias;	/* aliases(5) value as postalias stores it */
	/*
	 * Hashes seen so far, one bit each: tinycdb's duplicate check scans
	 * every record with the same low hash byte (quadratic on a million
	 * keys), so it runs only when this filter says "maybe seen".
	 */
	unsigned char *seen;
	uint32_t seen_mask;
};

/* cdb_seen_init - half a bit per source byte (16 per 32-byte line), 64 Kbit..256 Mbit */
static void cdb_seen_init(struct cdb_build *b, const char *source)
{
	struct stat sb;
	uint64_t want = 1u << 16, bits = 1u << 16;

	if (stat(source, &sb) == 0 && sb.st_size > 0)
		want = (uint64_t)sb.st_size / 2;
	while (bits < want && bits < (1u << 28))
		bits <<= 1;
	b->seen = xcalloc(bits / 8, 1);
	b->seen_mask = (uint32_t)(bits - 1);
}

/* cdb_seen - true if h may have been added before; marks it */
static bool cdb_seen(struct cdb_build *b, unsigned h)
{
	uint32_t bit = h & b->seen_mask;
	bool was = b->seen[bit >> 3] & (1u << (bit & 7));

	b->seen[bit >> 3] |= (unsigned char)(1u << (bit & 7));
	return was;
}

/* cdb_build_entry - one source entry; first duplicate wins unless -r */
static int cdb_build_entry(const char *key, const char *value, void *ctx)
{
	struct cdb_build *b = ctx;

	if (b->o->alias_format) {
		table_alias_value(value, &b->alias);
		value = buf_cstr(&b->alias);
	}
	unsigned kl = (unsigned)strlen(key) + b->nul, vl = (unsigned)strlen(value) + b->nul;
	int mode = !cdb_seen(b, cdb_hash(key, kl))
			   ? CDB_PUT_ADD
			   : b->o->replace_dups ? CDB_PUT_REPLACE : CDB_PUT_INSERT;
	int rc = cdb_make_put(&b->make, key, kl, value, vl, mode);

	if (rc < 0) {
		b->failed = errno ? errno : EIO;
		return -1;
	}
	return rc > 0 && !b->o->replace_dups ? TABLE_ENTRY_DUP : 0;
}

/* cdb_table_build - NAME.cdb from NAME, atomically */
static int cdb_table_build(const char *name, const struct table_source_opts *o, struct buf *err)
{
	struct cdb_build b = { .o = o };
	struct buf path = BUF_INIT, tmp = BUF_INIT;
	int fd, lock, ret = -1;

	b.nul = table_index_nul() == TABLE_NUL_YES;
	cdb_seen_init(&b, name);
	table_index_path(&path, name, CDB_SUFFIX);
	if ((lock = table_index_lock(name, err)) == -1)
		goto out;
	if ((fd = table_index_tempfile(buf_cstr(&path), &tmp, err)) < 0)
		goto out;
	cdb_make_start(&b.make, fd);
	if (table_source_read(name, o, cdb_build_entry, &b, err) != 0) {
		if (b.failed)
			buf_printf(err, "write %s: %s", buf_cstr(&tmp), strerror(b.failed));
		cdb_make_finish(&b.make);
	} else if (cdb_make_finish(&b.make) != 0) {
		buf_printf(err, "write %s: %s", buf_cstr(&tmp), strerror(errno));
	} else {
		ret = 0;
	}
	close(fd);
	if (ret == 0)
		ret = table_index_commit(buf_cstr(&tmp), buf_cstr(&path), err);
	else
		unlink(buf_cstr(&tmp));
out:
	if (lock >= 0)
		close(lock);
	buf_free(&path);
	buf_free(&tmp);
	buf_free(&b.alias);
	free(b.seen);
	return ret;
}

const struct table_ops table_cdb_ops = {
	.type = "cdb",
	.props = TABLE_P_FIXED,
	.open = cdb_table_open,
	.lookup = cdb_table_lookup,
	.prefetch = cdb_table_prefetch,
	.close = cdb_table_close,
	.stale = cdb_table_stale,
	.build = cdb_table_build,
	.iterate = cdb_table_iterate,
};
