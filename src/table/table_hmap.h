/*
 * table_hmap - an in-memory string map for the tables that read their
 * whole source (texthash, inline): open addressing over one arena of
 * "key\0value\0" records, so a million entries cost a few allocations that
 * grow by doubling, and a lookup costs one hash, a probe or two in the
 * slot array (which holds a hash tag and the record's offset) and one
 * visit to the record. Replacing a value is linear in the entry count
 * (only small inline: tables do it).
 * Internal to src/table.
 */
#ifndef OUTPOST_TABLE_TABLE_HMAP_H
#define OUTPOST_TABLE_TABLE_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct table_hmap_ent {
	size_t off;	/* key at arena + off, value after its NUL */
	uint64_t hash;
};

struct table_hmap {
	struct table_hmap_ent *ents;	/* in insertion order */
	size_t n, ents_cap;
	uint64_t *slots;		/* 0 = empty, else hash tag << 40 | (offset + 1) */
	size_t mask;			/* slot count - 1 */
	char *arena;
	size_t arena_len, arena_cap;
};

void table_hmap_init(struct table_hmap *h);
void table_hmap_free(struct table_hmap *h);
int table_hmap_put(struct table_hmap *h, const char *key, const char *value, bool replace);
const char *table_hmap_get(const struct table_hmap *h, const char *key);
void table_hmap_compact(struct table_hmap *h);
/* table_hmap_key/value - the i-th entry, in insertion order */
const char *table_hmap_key(const struct table_hmap *h, size_t i);
const char *table_hmap_value(const struct table_hmap *h, size_t i);

#endif
