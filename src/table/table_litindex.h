/*
 * table_litindex - which of many literal strings occur in a subject, in
 * one pass per distinct literal length (Rabin-Karp rolling hashes, ASCII
 * case folded). regexp: and pcre: file each rule under the literals that
 * all its matches contain, so a key is handed to the regex engine only for
 * the rules whose literals it contains. Internal to src/table.
 */
#ifndef OUTPOST_TABLE_TABLE_LITINDEX_H
#define OUTPOST_TABLE_TABLE_LITINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lit_index;

struct lit_index *lit_index_new(void);
bool lit_index_add(struct lit_index *x, const char *lit, size_t len, uint32_t rule);
size_t lit_index_rules(const struct lit_index *x, const char *lit, size_t len);
bool lit_index_rule_done(struct lit_index *x, uint32_t rule);
void lit_index_done(struct lit_index *x);
const uint32_t *lit_index_scan(struct lit_index *x, const char *subject, size_t len, size_t *n);
void lit_index_free(struct lit_index **xp);

#endif
