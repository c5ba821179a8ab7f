/*
 * table_litindex - a multi-literal prefilter for pattern tables.
 *
 * Public (to table_pattern.c): lit_index_new, lit_index_add,
 * lit_index_done, lit_index_size, lit_index_scan, lit_index_free.
 *
 * Literals are stored folded to ASCII lower case, and subjects are folded
 * the same way, so a hit is a necessary (not sufficient) condition for
 * both case-sensitive and case-insensitive rules; the regex engine decides.
 * For each distinct literal length L the subject's L-byte windows are
 * hashed with a rolling hash and looked up in one open-addressing table;
 * a hash hit is confirmed with memcmp, then every rule filed under that
 * literal is marked. Cost per subject: O(subject length x distinct
 * lengths), independent of the number of rules.
 * Bad input: none (literals come from compiled patterns).
 */
#include "table/table_litindex.h"

#include <string.h>

#include "lib/mem.h"

#define LIT_BASE 0x100000001b3ull	/* odd multiplier of the rolling hash */
#define LIT_NONE UINT32_MAX

struct lit_entry {
	char *lit;		/* folded */
	uint32_t len;
	uint32_t head;		/* first rule filed under this literal */
	uint64_t hash;
};

struct lit_index {
	struct lit_entry *slots;	/* open addressing; lit NULL = empty */
	size_t cap, n;			/* cap is a power of two */
	uint32_t *next;			/* per rule: next rule with the same literal */
	size_t nnext;
	size_t lens[64];		/* distinct literal lengths */
	uint64_t pow[64];		/* LIT_BASE^(len-1), to drop a window's first byte */
	size_t nlens;
	size_t maxlen;
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

/* lit_mix - slot number of a hash */
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
static struct lit_entry *lit_find(struct lit_entry *slots, size_t cap, const char *lit,
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
	if (x->nlens == sizeof(x->lens) / sizeof(x->lens[0]))
		return false;
	x->lens[x->nlens++] = len;
	if (len > x->maxlen)
		x->maxlen = len;
	return true;
}

/*
 * lit_index_add - file rule under lit; false if it cannot be filed (empty
 * literal, too many distinct lengths): the caller must then try that rule
 * on every subject.
 */
bool lit_index_add(struct lit_index *x, const char *lit, size_t len, uint32_t rule)
{
	unsigned char *f;
	struct lit_entry *e;
	uint64_t h;

	if (len == 0 || len > UINT32_MAX || rule == LIT_NONE || !lit_add_len(x, len))
		return false;
	f = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		f[i] = lit_fold((unsigned char)lit[i]);
	f[len] = '\0';
	h = lit_hash(f, len);
	if (2 * (x->n + 1) > x->cap)
		lit_grow(x);
	e = lit_find(x->slots, x->cap, (const char *)f, len, h);
	if (rule >= x->nnext) {
		size_t n = x->nnext ? x->nnext : 16;

		while (n <= rule)
			n *= 2;
		x->next = xreallocarray(x->next, n, sizeof(*x->next));
		for (size_t i = x->nnext; i < n; i++)
			x->next[i] = LIT_NONE;
		x->nnext = n;
	}
	if (e->lit == NULL) {
		e->lit = (char *)f;
		e->len = (uint32_t)len;
		e->hash = h;
		e->head = LIT_NONE;
		x->n++;
	} else {
		free(f);
	}
	x->next[rule] = e->head;	/* order within a list does not matter */
	e->head = rule;
	return true;
}

/* lit_index_done - precompute the powers for the rolling windows */
void lit_index_done(struct lit_index *x)
{
	for (size_t i = 0; i < x->nlens; i++) {
		uint64_t p = 1;

		for (size_t k = 1; k < x->lens[i]; k++)
			p *= LIT_BASE;
		x->pow[i] = p;
	}
}

/* lit_index_size - distinct literals held */
size_t lit_index_size(const struct lit_index *x)
{
	return x->n;
}

/* lit_mark - a window hashed to h: mark the rules of a literal equal to it */
static void lit_mark(const struct lit_index *x, const unsigned char *w, size_t len, uint64_t h,
		     uint32_t *mark, uint32_t gen)
{
	for (size_t i = lit_slot(h, x->cap);; i = (i + 1) & (x->cap - 1)) {
		const struct lit_entry *e = &x->slots[i];

		if (e->lit == NULL)
			return;
		if (e->hash == h && e->len == len && memcmp(e->lit, w, len) == 0) {
			for (uint32_t r = e->head; r != LIT_NONE; r = x->next[r])
				mark[r] = gen;
			return;
		}
	}
}

/* lit_index_scan - mark[rule] = gen for every rule whose literal occurs in subject */
void lit_index_scan(const struct lit_index *x, const char *subject, size_t len, uint32_t *mark,
		    uint32_t gen)
{
	unsigned char small[256], *f = small;

	if (x->n == 0 || len == 0)
		return;
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
			lit_mark(x, f + i, L, h, mark, gen);
			if (i + L >= len)
				break;
			h = (h - f[i] * p) * LIT_BASE + f[i + L];
		}
	}
	if (f != small)
		free(f);
}

/* lit_index_free - release the index and clear the caller's pointer */
void lit_index_free(struct lit_index **xp)
{
	struct lit_index *x = *xp;

	if (x == NULL)
		return;
	for (size_t i = 0; i < x->cap; i++)
		free(x->slots[i].lit);
	free(x->slots);
	free(x->next);
	free(x);
	*xp = NULL;
}
