/*
 * table_hmap - in-memory string map (see table_hmap.h).
 *
 * Public: table_hmap_init, table_hmap_free, table_hmap_put, table_hmap_get,
 * table_hmap_key, table_hmap_value, table_hmap_compact. Replacing a value appends a new
 * record to the arena; sources rarely repeat keys, so the waste is small.
 */
#include "table/table_hmap.h"

#include <string.h>

#include "lib/log.h"
#include "lib/mem.h"

/* hmap_hash - FNV-1a, then a final mix so the low bits spread well */
static uint64_t hmap_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

/* table_hmap_init - an empty map */
void table_hmap_init(struct table_hmap *h)
{
	memset(h, 0, sizeof(*h));
}

/* table_hmap_free - release everything */
void table_hmap_free(struct table_hmap *h)
{
	free(h->ents);
	free(h->slots);
	free(h->arena);
	table_hmap_init(h);
}

#define SLOT_OFF_BITS 40
#define SLOT_OFF_MASK ((UINT64_C(1) << SLOT_OFF_BITS) - 1)

/* slot_make - the slot word for a record at off with this hash */
static inline uint64_t slot_make(uint64_t hash, size_t off)
{
	return (hash >> SLOT_OFF_BITS) << SLOT_OFF_BITS | ((uint64_t)off + 1);
}

/* slot_off - the record offset a slot points at */
static inline size_t slot_off(uint64_t slot)
{
	return (size_t)((slot & SLOT_OFF_MASK) - 1);
}

/* hmap_grow - double the slot array and re-place every entry */
static void hmap_grow(struct table_hmap *h)
{
	size_t nslots = h->mask ? (h->mask + 1) * 2 : 64;

	free(h->slots);
	h->slots = xcalloc(nslots, sizeof(*h->slots));
	h->mask = nslots - 1;
	for (size_t i = 0; i < h->n; i++) {
		size_t j = h->ents[i].hash & h->mask;

		while (h->slots[j])
			j = (j + 1) & h->mask;
		h->slots[j] = slot_make(h->ents[i].hash, h->ents[i].off);
	}
}

/* hmap_find - the slot holding key, or the empty slot where it belongs */
static size_t hmap_find(const struct table_hmap *h, const char *key, uint64_t hash)
{
	uint64_t tag = hash >> SLOT_OFF_BITS;
	size_t j = hash & h->mask;

	while (h->slots[j]) {
		uint64_t slot = h->slots[j];

		if (slot >> SLOT_OFF_BITS == tag && strcmp(h->arena + slot_off(slot), key) == 0)
			break;
		j = (j + 1) & h->mask;
	}
	return j;
}

/* hmap_store - append "key\0value\0" to the arena, return its offset */
static size_t hmap_store(struct table_hmap *h, const char *key, const char *value)
{
	size_t kl = strlen(key) + 1, vl = strlen(value) + 1, off = h->arena_len;

	if (h->arena_len + kl + vl > h->arena_cap) {
		size_t cap = h->arena_cap ? h->arena_cap : 4096;

		while (cap < h->arena_len + kl + vl)
			cap *= 2;
		h->arena = xreallocarray(h->arena, cap, 1);
		h->arena_cap = cap;
	}
	memcpy(h->arena + off, key, kl);
	memcpy(h->arena + off + kl, value, vl);
	h->arena_len += kl + vl;
	return off;
}

/* table_hmap_put - 0 when added, 1 when present (value replaced if asked) */
int table_hmap_put(struct table_hmap *h, const char *key, const char *value, bool replace)
{
	uint64_t hash = hmap_hash(key);
	size_t j, off;

	if ((h->n + 1) * 4 > (h->mask + 1) * 3 || h->mask == 0)
		hmap_grow(h);
	j = hmap_find(h, key, hash);
	if (h->slots[j]) {
		if (replace) {
			size_t old = slot_off(h->slots[j]);

			off = hmap_store(h, key, value);
			h->slots[j] = slot_make(hash, off);
			for (size_t i = 0; i < h->n; i++)
				if (h->ents[i].off == old)
					h->ents[i].off = off;
		}
		return 1;
	}
	if (h->n == h->ents_cap) {
		h->ents_cap = h->ents_cap ? h->ents_cap * 2 : 64;
		h->ents = xreallocarray(h->ents, h->ents_cap, sizeof(*h->ents));
	}
	off = hmap_store(h, key, value);
	if (off >= SLOT_OFF_MASK)
		log_panic("table_hmap_put: table text larger than 1 TB");
	h->ents[h->n].off = off;
	h->ents[h->n].hash = hash;
	h->slots[j] = slot_make(hash, off);
	h->n++;
	return 0;
}

/* table_hmap_get - the value stored under key, or NULL */
const char *table_hmap_get(const struct table_hmap *h, const char *key)
{
	uint64_t hash;
	size_t j;
	const char *k;

	if (h->n == 0)
		return NULL;
	hash = hmap_hash(key);
	j = hmap_find(h, key, hash);
	if (h->slots[j] == 0)
		return NULL;
	k = h->arena + slot_off(h->slots[j]);
	return k + strlen(k) + 1;
}

/* table_hmap_key - the key of the i-th entry */
const char *table_hmap_key(const struct table_hmap *h, size_t i)
{
	return h->arena + h->ents[i].off;
}

/* table_hmap_value - the value of the i-th entry */
const char *table_hmap_value(const struct table_hmap *h, size_t i)
{
	const char *k = h->arena + h->ents[i].off;

	return k + strlen(k) + 1;
}

/* table_hmap_compact - give back the growth slack once loading is done */
void table_hmap_compact(struct table_hmap *h)
{
	if (h->arena_len > 0 && h->arena_len < h->arena_cap) {
		h->arena = xreallocarray(h->arena, h->arena_len, 1);
		h->arena_cap = h->arena_len;
	}
	if (h->n > 0 && h->n < h->ents_cap) {
		h->ents = xreallocarray(h->ents, h->n, sizeof(*h->ents));
		h->ents_cap = h->n;
	}
}
