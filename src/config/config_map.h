/*
 * config_map - a string-keyed hash map (internal to src/config).
 *
 * Keys are copied; values are opaque pointers owned by the caller.
 */
#ifndef OUTPOST_CONFIG_CONFIG_MAP_H
#define OUTPOST_CONFIG_CONFIG_MAP_H

#include <stddef.h>

struct cmap_slot {
	char *key;
	void *value;
};

struct cmap {
	struct cmap_slot *slots;
	size_t cap;	/* power of two, or 0 */
	size_t n;
};

#define CMAP_INIT { NULL, 0, 0 }

void *cmap_get(const struct cmap *m, const char *key);
void *cmap_put(struct cmap *m, const char *key, void *value);
void *cmap_del(struct cmap *m, const char *key);
void cmap_free(struct cmap *m, void (*free_value)(void *));

#endif
