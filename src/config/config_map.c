/*
 * config_map - open-addressing hash map from strings to pointers.
 *
 * Public: cmap_get, cmap_put, cmap_del, cmap_free.
 * Bad input: none; keys are any C strings.
 */
#include "config/config_map.h"

#include <stdint.h>
#include <string.h>

#include "lib/mem.h"

/* cmap_hash - FNV-1a, good enough for parameter names */
static size_t cmap_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* cmap_find - the slot holding key, or the empty slot where it would go */
static struct cmap_slot *cmap_find(const struct cmap *m, const char *key)
{
	size_t i = cmap_hash(key) & (m->cap - 1);

	while (m->slots[i].key && strcmp(m->slots[i].key, key) != 0)
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

/* cmap_grow - double the table to keep probes short */
static void cmap_grow(struct cmap *m)
{
	struct cmap old = *m;
	size_t i;

	m->cap = old.cap ? old.cap * 2 : 64;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (i = 0; i < old.cap; i++)
		if (old.slots[i].key)
			*cmap_find(m, old.slots[i].key) = old.slots[i];
	free(old.slots);
}

/* cmap_get - the value stored under key, or NULL */
void *cmap_get(const struct cmap *m, const char *key)
{
	if (m->cap == 0)
		return NULL;
	return cmap_find(m, key)->value;
}

/* cmap_put - store value under key; returns the value it replaced */
void *cmap_put(struct cmap *m, const char *key, void *value)
{
	struct cmap_slot *s;
	void *old;

	if ((m->n + 1) * 2 > m->cap)
		cmap_grow(m);
	s = cmap_find(m, key);
	if (s->key == NULL) {
		s->key = xstrdup(key);
		s->value = value;
		m->n++;
		return NULL;
	}
	old = s->value;
	s->value = value;
	return old;
}

/* cmap_del - remove key; returns its value. Re-seats the probe chain. */
void *cmap_del(struct cmap *m, const char *key)
{
	struct cmap_slot *s;
	void *old;
	size_t i, j;

	if (m->cap == 0)
		return NULL;
	s = cmap_find(m, key);
	if (s->key == NULL)
		return NULL;
	old = s->value;
	free(s->key);
	s->key = NULL;
	s->value = NULL;
	m->n--;
	i = (size_t)(s - m->slots);
	for (j = (i + 1) & (m->cap - 1); m->slots[j].key; j = (j + 1) & (m->cap - 1)) {
		struct cmap_slot moved = m->slots[j];

		m->slots[j].key = NULL;
		m->slots[j].value = NULL;
		*cmap_find(m, moved.key) = moved;
	}
	return old;
}

/* cmap_free - release keys, and values through free_value when given */
void cmap_free(struct cmap *m, void (*free_value)(void *))
{
	size_t i;

	for (i = 0; i < m->cap; i++) {
		if (m->slots[i].key == NULL)
			continue;
		free(m->slots[i].key);
		if (free_value)
			free_value(m->slots[i].value);
	}
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}
