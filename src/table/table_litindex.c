/*
 * table_litindex - a multi-literal prefilter for pattern tables.
 *
 * Public (to table_pattern.c): lit_index_new, lit_index_add,
 * lit_index_rules, lit_index_rule_done, lit_index_done, lit_index_scan,
 * lit_index_free.
 *
 * Literals are stored folded to ASCII lower case, and subjects are folded
 * the same way, so "all of a rule's literals occur" is a necessary (not
 * sufficient) condition for both case-sensitive and case-insensitive
 * rules; the regex engine decides. For each distinct literal length L the
 * subject's L-byte windows are hashed with a rolling hash and looked up in
 * one open-addressing table; a hash hit is confirmed with memcmp, and each
 * rule filed under that literal counts it once per subject. Cost per
 * subject: O(subject length x distinct lengths), whatever the rule count.
 * Bad input: none (literals come from compiled patterns).
 */
#include "table/table_litindex.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"

#define LIT_BASE 0x100000001b3ull	/* odd multiplier of the rolling hash */
#define LIT_MAX_LENS 64

struct lit_entry {
	char *lit;		/* folded; NULL = empty slot */
	uint32_t len;
	uint32_t seen;		/* gen of the last subject that contained it */
	uint64_t hash;
	uint32_t *rules;	/* rules filed under it, in filing order */
	size_t nrules;
};

struct lit_rule {
	uint32_t gen;		/* subject that last hit one of its literals */
	uint8_t hits;		/* distinct literals found in that subject */
	uint8_t need;		/* distinct literals filed */
	bool failed;		/* a literal could not be filed: not indexed */
};

struct lit_index {
	struct lit_entry *slots;	/* open addressing */
	size_t cap, n;			/* cap is a power of two */
	struct lit_rule *rules;
	size_t nrules;
	size_t lens[LIT_MAX_LENS];	/* distinct literal lengths */
	uint64_t pow[LIT_MAX_LENS];	/* LIT_BASE^(len-1), to drop a window's first byte */
	size_t nlens;
	uint32_t gen;			/* current subject */
	uint32_t *cands;		/* rules whose literals all occur, ascending */
	size_t ncands;
};

/* lit_fold - ASCII lower case, as the literal checks of table_regexp_lit.c */
static inline unsigned char lit_fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* lit_hash - rolling hash of a folded string */
static uint64_t lit_hash(const unsigned char *s, size_t len)
{
	uint64_t h = 0;

	for (size_t i = 0; i < len; i++)
		h = h * LIT_BASE + s[i];
	return h;
}

/* lit_slot - first slot to probe for a hash */
static inline size_t lit_slot(uint64_t h, size_t cap)
{
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (size_t)h & (cap - 1);
}

/* lit_index_new - an empty index */
struct lit_index *lit_index_new(void)
{
	struct lit_index *x = xcalloc(1, sizeof(*x));

	x->cap = 16;
	x->slots = xcalloc(x->cap, sizeof(*x->slots));
	return x;
}

/* lit_find - the slot holding lit, or the empty slot where it belongs */
static struct lit_entry *lit_find(struct lit_entry *slots, size_t cap, const void *lit,
				  size_t len, uint64_t h)
{
	for (size_t i = lit_slot(h, cap);; i = (i + 1) & (cap - 1)) {
		struct lit_entry *e = &slots[i];

		if (e->lit == NULL ||
		    (e->hash == h && e->len == len && memcmp(e->lit, lit, len) == 0))
			return e;
	}
}

/* lit_grow - double the table when it is half full */
static void lit_grow(struct lit_index *x)
{
	size_t cap = x->cap * 2;
	struct lit_entry *slots = xcalloc(cap, sizeof(*slots));

	for (size_t i = 0; i < x->cap; i++)
		if (x->slots[i].lit)
			*lit_find(slots, cap, x->slots[i].lit, x->slots[i].len,
				  x->slots[i].hash) = x->slots[i];
	free(x->slots);
	x->slots = slots;
	x->cap = cap;
}

/* lit_add_len - remember a distinct length; false if there are too many */
static bool lit_add_len(struct lit_index *x, size_t len)
{
	for (size_t i = 0; i < x->nlens; i++)
		if (x->lens[i] == len)
			return true;
	if (x->nlens == LIT_MAX_LENS)
		return false;
	x->lens[x->nlens++] = len;
	return true;
}

/* lit_rule - the record of rule, growing the array as needed */
static struct lit_rule *lit_rule(struct lit_index *x, uint32_t rule)
{
	if (rule >= x->nrules) {
		size_t n = x->nrules ? x->nrules : 16;

		while (n <= rule)
			n *= 2;
		x->rules = xreallocarray(x->rules, n, sizeof(*x->rules));
		memset(x->rules + x->nrules, 0, (n - x->nrules) * sizeof(*x->rules));
		x->nrules = n;
	}
	return &x->rules[rule];
}

/*
 * lit_index_add - file rule under lit (rules in increasing order); false
 * if it cannot be (empty, or too many distinct lengths or literals), and
 * lit_index_rule_done then leaves the rule unindexed.
 */
bool lit_index_add(struct lit_index *x, const char *lit, size_t len, uint32_t rule)
{
	struct lit_rule *r = lit_rule(x, rule);
	struct lit_entry *e;
	unsigned char *f;
	uint64_t h;

	if (len == 0 || len > UINT32_MAX || r->need == UINT8_MAX || !lit_add_len(x, len)) {
		r->failed = true;
		return false;
	}
	f = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		f[i] = lit_fold((unsigned char)lit[i]);
	f[len] = '\0';
	h = lit_hash(f, len);
	if (2 * (x->n + 1) > x->cap)
		lit_grow(x);
	e = lit_find(x->slots, x->cap, f, len, h);
	if (e->lit == NULL) {
		e->lit = (char *)f;
		e->len = (uint32_t)len;
		e->hash = h;
		x->n++;
	} else {
		free(f);
		if (e->nrules > 0 && e->rules[e->nrules - 1] == rule)
			return true;	/* the same literal twice in one rule */
	}
	e->rules = xreallocarray(e->rules, e->nrules + 1, sizeof(*e->rules));
	e->rules[e->nrules++] = rule;
	r->need++;
	return true;
}

/* lit_index_rules - how many rules are filed under lit (ASCII case ignored) */
size_t lit_index_rules(const struct lit_index *x, const char *lit, size_t len)
{
	unsigned char small[256];
	const struct lit_entry *e;

	if (len == 0 || len > sizeof(small))
		return 0;
	for (size_t i = 0; i < len; i++)
		small[i] = lit_fold((unsigned char)lit[i]);
	e = lit_find(x->slots, x->cap, small, len, lit_hash(small, len));
	return e->lit ? e->nrules : 0;
}

/* lit_index_rule_done - is rule indexed (some literal filed, none failed)? */
bool lit_index_rule_done(struct lit_index *x, uint32_t rule)
{
	struct lit_rule *r = lit_rule(x, rule);

	return r->need > 0 && !r->failed;
}

/* lit_index_done - precompute the powers for the rolling windows */
void lit_index_done(struct lit_index *x)
{
	x->cands = xcalloc(x->nrules ? x->nrules : 1, sizeof(*x->cands));
	for (size_t i = 0; i < x->nlens; i++) {
		uint64_t p = 1;

		for (size_t k = 1; k < x->lens[i]; k++)
			p *= LIT_BASE;
		x->pow[i] = p;
	}
}

/* lit_hit - a window hashed to h: count it once for the rules of an equal literal */
static void lit_hit(struct lit_index *x, const unsigned char *w, size_t len, uint64_t h)
{
	for (size_t i = lit_slot(h, x->cap);; i = (i + 1) & (x->cap - 1)) {
		struct lit_entry *e = &x->slots[i];

		if (e->lit == NULL)
			return;
		if (e->hash != h || e->len != len || memcmp(e->lit, w, len) != 0)
			continue;
		if (e->seen == x->gen)
			return;
		e->seen = x->gen;
		for (size_t k = 0; k < e->nrules; k++) {
			struct lit_rule *r = &x->rules[e->rules[k]];

			if (r->gen != x->gen) {
				r->gen = x->gen;
				r->hits = 0;
			}
			if (++r->hits == r->need)
				x->cands[x->ncands++] = e->rules[k];
		}
		return;
	}
}

/* lit_index_new_gen - next subject; on wrap-around forget every old stamp */
static void lit_index_new_gen(struct lit_index *x)
{
	if (++x->gen != 0)
		return;
	for (size_t i = 0; i < x->cap; i++)
		x->slots[i].seen = 0;
	for (size_t i = 0; i < x->nrules; i++)
		x->rules[i].gen = 0;
	x->gen = 1;
}

/* lit_cmp - ascending rule numbers */
static int lit_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/*
 * lit_index_scan - the rules (ascending) whose literals all occur in
 * subject; *n of them; valid until the next scan
 */
const uint32_t *lit_index_scan(struct lit_index *x, const char *subject, size_t len, size_t *n)
{
	unsigned char small[256], *f = small;

	lit_index_new_gen(x);
	x->ncands = 0;
	*n = 0;
	if (x->n == 0 || len == 0)
		return x->cands;
	if (len > sizeof(small))
		f = xmalloc(len);
	for (size_t i = 0; i < len; i++)
		f[i] = lit_fold((unsigned char)subject[i]);
	for (size_t l = 0; l < x->nlens; l++) {
		size_t L = x->lens[l];
		uint64_t h, p = x->pow[l];

		if (L > len)
			continue;
		h = lit_hash(f, L);
		for (size_t i = 0;; i++) {
			lit_hit(x, f + i, L, h);
			if (i + L >= len)
				break;
			h = (h - f[i] * p) * LIT_BASE + f[i + L];
		}
	}
	if (f != small)
		free(f);
	if (x->ncands > 1)
		qsort(x->cands, x->ncands, sizeof(*x->cands), lit_cmp);
	*n = x->ncands;
	return x->cands;
}

/* lit_index_free - release the index and clear the caller's pointer */
void lit_index_free(struct lit_index **xp)
{
	struct lit_index *x = *xp;

	if (x == NULL)
		return;
	for (size_t i = 0; i < x->cap; i++) {
		free(x->slots[i].lit);
		free(x->slots[i].rules);
	}
	free(x->slots);
	free(x->rules);
	free(x->cands);
	free(x);
	*xp = NULL;
}
