/*
 * table_pattern - the file format and lookup walk of regexp: and pcre:.
 *
 * Public (to table_regexp.c, table_pcre.c): pattern_open, pattern_lookup,
 * pattern_close, pattern_stale.
 *
 * Rules are tried in file order; the first match wins. "if /p/" ...
 * "endif" (keywords in any case) guard the rules between them; "!" negates
 * a pattern (a negated rule's result may not use $n). Results are
 * substituted: $n, ${n}, $(n) become capture group n ("" if it did not
 * take part), $$ becomes $.
 *
 * Bad input, as Postfix: a bad rule (unknown flag, bad pattern, missing
 * delimiter, bad or out-of-range $n) is warned about as "TYPE map FILE,
 * line N: reason: skipping this rule" and skipped, or fails the open with
 * TABLE_F_STRICT; a rule without result gets "" (its lookups then fail);
 * an ENDIF without IF is ignored, an IF without ENDIF runs to the end.
 */
#include "table/table_pattern.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "table/table_litindex.h"

enum rule_kind { RULE_MATCH, RULE_IF, RULE_ENDIF };

struct rule {
	enum rule_kind kind;
	bool negate;
	bool indexed;	/* filed in pattern.lits: try only keys containing its literal */
	void *re;
	char *result;	/* RULE_MATCH: replacement text, checked at open */
	size_t skip;	/* RULE_IF: index of the rule after its ENDIF */
	long line;
};

struct pattern {
	const struct pattern_engine *eng;
	struct rule *rules;
	size_t n, cap;
	size_t *ifs;	/* open IF rule indices while parsing */
	size_t nifs;
	long *ovec;
	struct lit_index *lits;	/* rules by required literals (NULL: none indexed) */
	size_t *next_always;	/* [i]: first rule >= i the walk may not skip (n: none) */
	struct table_stamp stamp;
};

struct parse_ctx {
	struct table *t;
	struct pattern *p;
	struct buf *err;
};

/* keyword - does line start with word (any case) not followed by alnum */
static bool keyword(const char *line, const char *word)
{
	size_t n = strlen(word);

	return strncasecmp(line, word, n) == 0 && !isalnum((unsigned char)line[n]);
}

/*
 * split_pattern - "[!] Dpattern Dflags rest": NUL-terminate pattern and
 * flags in place; NULL with the reason in why on a missing delimiter
 * (worded as postmap words it).
 */
static char *split_pattern(char *s, bool *negate, char **flags, char **rest, struct buf *why)
{
	char delim, *pat, *p;

	*negate = false;
	s += strspn(s, STR_SPACE);
	if (*s == '\0' || isalnum((unsigned char)*s)) {	/* a word: not a rule */
		buf_set(why, "ignoring unrecognized request");
		return NULL;
	}
	while (*s == '!') {	/* each '!' toggles, as in Postfix */
		*negate = !*negate;
		s++;
		s += strspn(s, STR_SPACE);
	}
	delim = *s;	/* after a '!', any character, even a letter */
	if (delim == '\0') {
		buf_set(why, "no regexp");
		return NULL;
	}
	pat = ++s;
	for (p = pat; *p && *p != delim; p++)
		if (*p == '\\' && p[1])
			p++;
	if (*p != delim) {
		buf_printf(why, "no closing regexp delimiter \"%c\"", delim);
		return NULL;
	}
	*p++ = '\0';
	*flags = p;
	p += strcspn(p, STR_SPACE);
	if (*p)
		*p++ = '\0';
	*rest = str_trim(p);
	return pat;
}

/* check_result - validate $n references against the group count */
static int check_result(const char *r, size_t groups, bool negate, struct buf *why)
{
	for (const char *p = r; *p; p++) {
		const char *name, *end;
		char close = 0;

		if (*p != '$')
			continue;
		if (p[1] == '$') {
			p++;
			continue;
		}
		if (p[1] == '{' || p[1] == '(') {
			close = p[1] == '{' ? '}' : ')';
			name = p + 2;
			end = strchr(name, close);
			if (end == NULL) {
				buf_printf(why, "truncated replacement reference in \"%s\"", r);
				return -1;
			}
		} else {
			name = p + 1;
			for (end = name; isalnum((unsigned char)*end) || *end == '_'; end++)
				;
		}
		if (end == name) {
			buf_printf(why, "empty replacement reference in \"%s\"", r);
			return -1;
		}
		for (const char *q = name; q < end; q++)
			if (!isdigit((unsigned char)*q)) {
				buf_printf(why, "non-numeric replacement index \"%.*s\"",
					   (int)(end - name), name);
				return -1;
			}
		long n = strtol(name, NULL, 10);

		if (negate) {
			buf_puts(why, "$number found in negative match replacement text");
			return -1;
		}

		if (n < 1 || (size_t)n > groups || n >= PATTERN_MAX_GROUPS || end - name > 3) {
			buf_printf(why, "out of range replacement index \"%.*s\"",
				   (int)(end - name), name);
			return -1;
		}
		p = close ? end : end - 1;
	}
	return 0;
}

/* add_rule - append a parsed rule */
static struct rule *add_rule(struct pattern *p, enum rule_kind kind, long line)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->rules = xreallocarray(p->rules, p->cap, sizeof(*p->rules));
	}
	memset(&p->rules[p->n], 0, sizeof(p->rules[0]));
	p->rules[p->n].kind = kind;
	p->rules[p->n].line = line;
	return &p->rules[p->n++];
}

/* parse_line - one logical line of a regexp/pcre file */
static int parse_line(char *line, long lineno, void *ctx)
{
	struct parse_ctx *c = ctx;
	struct pattern *p = c->p;
	const char *what = p->eng->what, *file = c->t->name;
	struct buf where = BUF_INIT, reason = BUF_INIT;
	bool is_if = false, negate;
	char *pat, *flags, *rest;
	struct rule *r;
	void *re;
	int rc = 0;

	buf_printf(&where, "%s map %s, line %ld", what, file, lineno);
	if (keyword(line, "endif")) {
		if (p->nifs == 0) {
			rc = table_syntax(c->t, c->err, "%s: ignoring ENDIF without matching IF",
					  buf_cstr(&where));
			goto out;
		}
		p->rules[p->ifs[--p->nifs]].skip = p->n + 1;
		add_rule(p, RULE_ENDIF, lineno);
		goto out;
	}
	if (keyword(line, "if")) {
		is_if = true;
		line += 2;
	}
	pat = split_pattern(line, &negate, &flags, &rest, &reason);
	if (pat == NULL) {	/* postmap adds no "skipping" to a line that is no rule */
		rc = table_syntax(c->t, c->err, "%s: %s%s", buf_cstr(&where), buf_cstr(&reason),
				  str_has_prefix(buf_cstr(&reason), "ignoring") ? "" : ": skipping this rule");
		goto out;
	}
	re = p->eng->compile(pat, flags, buf_cstr(&where), &reason);
	if (re == NULL) {	/* a regex compile error: postmap's text has no "skipping" */
		rc = table_syntax(c->t, c->err, "%s: %s", buf_cstr(&where), buf_cstr(&reason));
		goto out;
	}
	if (is_if) {
		if (*rest)
			log_warn("%s: ignoring extra text after IF statement: \"%s\"",
				 buf_cstr(&where), rest);
		r = add_rule(p, RULE_IF, lineno);
		p->ifs = xreallocarray(p->ifs, p->nifs + 1, sizeof(*p->ifs));
		p->ifs[p->nifs++] = p->n - 1;
	} else {
		if (check_result(rest, p->eng->groups(re), negate, &reason) < 0) {
			p->eng->free(re);
			rc = table_syntax(c->t, c->err, "%s: %s: skipping this rule",
					  buf_cstr(&where), buf_cstr(&reason));
			goto out;
		}
		if (*rest == '\0')
			log_warn("%s: no replacement text: using empty string", buf_cstr(&where));
		r = add_rule(p, RULE_MATCH, lineno);
		r->result = xstrdup(rest);
	}
	r->re = re;
	r->negate = negate;
out:
	buf_free(&where);
	buf_free(&reason);
	return rc;
}

/* pattern_free - release every rule */
static void pattern_free(struct pattern *p)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->rules[i].re)
			p->eng->free(p->rules[i].re);
		free(p->rules[i].result);
	}
	free(p->rules);
	free(p->ifs);
	free(p->ovec);
	lit_index_free(&p->lits);
	free(p->next_always);
	free(p);
}

/*
 * pattern_pick - of a rule's literals, the one fewest rules share (a
 * literal many rules need, like ".com", is likely in many keys too), the
 * longest among those; NULL if the rule has none
 */
static const char *pattern_pick(const struct pattern *p, struct lit_index *all, void *re,
				size_t *len)
{
	const char *best = NULL, *lit;
	size_t best_n = 0, n, l;

	for (size_t k = 0; (lit = p->eng->literal(re, k, &l)) != NULL; k++) {
		n = lit_index_rules(all, lit, l);
		if (best == NULL || n < best_n || (n == best_n && l > *len)) {
			best = lit;
			best_n = n;
			*len = l;
		}
	}
	return best;
}

/*
 * pattern_index - file each rule under one of its engine's literals, so a
 * key is matched only against rules whose literal it contains (first match
 * still wins: the walk keeps file order and merely skips certain misses;
 * the engine checks the rule's other literals itself)
 */
static void pattern_index(struct pattern *p)
{
	struct lit_index *all, *x;
	size_t indexed = 0, len;
	const char *lit;

	if (p->eng->literal == NULL || p->n == 0 || p->n >= UINT32_MAX)
		return;
	all = lit_index_new();	/* every literal, to count how many rules share it */
	for (size_t i = 0; i < p->n; i++)
		if (p->rules[i].kind != RULE_ENDIF)
			for (size_t k = 0; (lit = p->eng->literal(p->rules[i].re, k, &len)); k++)
				lit_index_add(all, lit, len, (uint32_t)i);
	x = lit_index_new();
	for (size_t i = 0; i < p->n; i++) {
		struct rule *r = &p->rules[i];

		if (r->kind == RULE_ENDIF || (lit = pattern_pick(p, all, r->re, &len)) == NULL)
			continue;
		lit_index_add(x, lit, len, (uint32_t)i);
		r->indexed = lit_index_rule_done(x, (uint32_t)i);
		indexed += r->indexed;
	}
	lit_index_free(&all);
	if (indexed == 0) {
		lit_index_free(&x);
		return;
	}
	lit_index_done(x);
	p->lits = x;
	/* IFs and negated rules act even when their pattern cannot match */
	p->next_always = xreallocarray(NULL, p->n + 1, sizeof(*p->next_always));
	p->next_always[p->n] = p->n;
	for (size_t i = p->n; i-- > 0;) {
		const struct rule *r = &p->rules[i];
		bool skippable = r->kind == RULE_ENDIF ||
				 (r->kind == RULE_MATCH && r->indexed && !r->negate);

		p->next_always[i] = skippable ? p->next_always[i + 1] : i;
	}
}

/* pattern_open - read and compile the whole file */
int pattern_open(struct table *t, const struct pattern_engine *eng, struct buf *err)
{
	struct pattern *p = xcalloc(1, sizeof(*p));
	struct parse_ctx c = { t, p, err };

	p->eng = eng;
	table_stamp_get(t->name, &p->stamp);
	if (table_source_lines(t->name, parse_line, &c, err) < 0) {
		pattern_free(p);
		return -1;
	}
	while (p->nifs > 0) {
		struct rule *r = &p->rules[p->ifs[--p->nifs]];

		if (table_syntax(t, err, "%s map %s, line %ld: IF has no matching ENDIF",
				 eng->what, t->name, r->line) < 0) {
			pattern_free(p);
			return -1;
		}
		r->skip = p->n;
	}
	p->ovec = xcalloc(2 * PATTERN_MAX_GROUPS, sizeof(*p->ovec));
	pattern_index(p);
	t->priv = p;
	return 0;
}

/* expand - the result with $n replaced by the captured text */
static void expand(const char *r, const char *key, const long *ovec, struct buf *value)
{
	for (const char *p = r; *p; p++) {
		const char *name, *end;
		long n;

		if (*p != '$') {
			buf_putc(value, *p);
			continue;
		}
		if (p[1] == '$') {
			buf_putc(value, '$');
			p++;
			continue;
		}
		if (p[1] == '{' || p[1] == '(') {
			name = p + 2;
			end = strchr(name, p[1] == '{' ? '}' : ')');
			p = end;
		} else {
			name = p + 1;
			for (end = name; isdigit((unsigned char)*end); end++)
				;
			p = end - 1;
		}
		n = strtol(name, NULL, 10);
		if (ovec[2 * n] >= 0)
			buf_append(value, key + ovec[2 * n], (size_t)(ovec[2 * n + 1] - ovec[2 * n]));
	}
}

/*
 * pattern_next - the next rule from i on that the walk must look at: one
 * the index cannot rule out, or a candidate (cand, ascending, from *ci on)
 */
static size_t pattern_next(const struct pattern *p, size_t i, const uint32_t *cand, size_t ncand,
			   size_t *ci)
{
	size_t next;

	if (p->lits == NULL)
		return i;
	next = p->next_always[i];
	while (*ci < ncand && cand[*ci] < i)
		(*ci)++;
	if (*ci < ncand && cand[*ci] < next)
		next = cand[*ci];
	return next;
}

/* pattern_lookup - walk the rules; IFs that fail skip to their ENDIF */
enum table_status pattern_lookup(struct table *t, const char *key, struct buf *value)
{
	struct pattern *p = t->priv;
	size_t len = strlen(key), i = 0, ncand = 0, ci = 0;
	const uint32_t *cand = NULL;
	struct buf why = BUF_INIT;

	if (p->lits)
		cand = lit_index_scan(p->lits, key, len, &ncand);
	while ((i = pattern_next(p, i, cand, ncand, &ci)) < p->n) {
		struct rule *r = &p->rules[i];
		int m;

		if (r->kind == RULE_ENDIF) {
			i++;
			continue;
		}
		if (r->indexed && (ci >= ncand || cand[ci] != i))
			m = 0;	/* the key lacks a literal every match contains */
		else
			m = p->eng->match(r->re, key, len, p->ovec, PATTERN_MAX_GROUPS, &why);
		if (m < 0) {
			table_set_error(t, "%s map %s, line %ld: %s", p->eng->what, t->name,
					r->line, buf_cstr(&why));
			buf_free(&why);
			return TABLE_TEMPFAIL;
		}
		if (r->negate)
			m = !m;
		if (r->kind == RULE_IF) {
			i = m ? i + 1 : r->skip;
			continue;
		}
		if (m) {
			expand(r->result, key, p->ovec, value);
			buf_puts(value, "");
			buf_free(&why);
			return TABLE_FOUND;
		}
		i++;
	}
	buf_free(&why);
	return TABLE_NOTFOUND;
}

/* pattern_close - release the rules */
void pattern_close(struct table *t)
{
	pattern_free(t->priv);
	t->priv = NULL;
}

/* pattern_stale - did the file change since it was read? */
int pattern_stale(struct table *t)
{
	struct pattern *p = t->priv;

	return table_stamp_changed(t->name, &p->stamp);
}
