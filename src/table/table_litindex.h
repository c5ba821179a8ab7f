/*
 * table_litindex - which of many literal strings occur in a subject, in
 * one pass per distinct literal length (Rabin-Karp rolling hashes, ASCII
 * case folded). regexp: and pcre: index each rule by one literal that all
 * its matches contain, so a key is handed to the regex engine only for the
 * rules whose literal it contains. Internal to src/table.
 */
#ifndef OUTPOST_TABLE_TABLE_LITINDEX_H
#define OUTPOST_TABLE_TABLE_LITINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lit_index;

struct lit_index *lit_index_new(void);
bool lit_index_add(struct lit_index *x, const char *lit, size_t len, uint32_t rule);
void lit_index_done(struct lit_index *x);
size_t lit_index_size(const struct lit_index *x);
void lit_index_scan(const struct lit_index *x, const char *subject, size_t len, uint32_t *mark,
		    uint32_t gen);
void lit_index_free(struct lit_index **xp);

#endif
