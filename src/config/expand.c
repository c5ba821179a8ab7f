/*
 * expand - evaluate $name references in a parameter value.
 *
 * Public: expand_text, expand_refs, expand_level_cmp.
 * Bad input: unbalanced braces, an empty name, text after a name, an
 * unknown operator or a non-numeric operand make expand_text return -1
 * with one line in err; nothing is half-expanded for the caller to use.
 * A '$' followed by anything that cannot start a name is kept literally.
 */
#include "config/expand.h"

#include <ctype.h>
#include <string.h>

#include "lib/mem.h"

#define EXPAND_MAX_DEPTH 64

struct expander {
	expand_lookup_fn lookup;
	void *ctx;
	struct buf *err;
	int depth;
};

static int expand_run(struct expander *ex, const char *text, size_t len, struct buf *out);

/* is_name_char - characters of a parameter name */
static int is_name_char(int c)
{
	return isalnum(c) || c == '_';
}

/* skip_space - past blanks */
static const char *skip_space(const char *p, const char *end)
{
	while (p < end && isspace((unsigned char)*p))
		p++;
	return p;
}

/*
 * match_close - for p pointing at an opening '{' or '(', the matching
 * closing character before end, or NULL.
 */
static const char *match_close(const char *p, const char *end)
{
	char open = *p, close = open == '{' ? '}' : ')';
	int depth = 0;

	for (; p < end; p++) {
		if (*p == open)
			depth++;
		else if (*p == close && --depth == 0)
			return p;
	}
	return NULL;
}

/* expand_fail - record one error line and return -1 */
static int expand_fail(struct expander *ex, const char *what, const char *text, size_t len)
{
	if (ex->err->len == 0)
		buf_printf(ex->err, "%s in \"%.*s\"", what, (int)(len > 80 ? 80 : len), text);
	return -1;
}

/* group - parse "{ … }" at *pp; returns the inside, trimmed of nothing */
static int group(struct expander *ex, const char **pp, const char *end, const char **in,
		 size_t *inlen)
{
	const char *p = skip_space(*pp, end), *close;

	if (p >= end || *p != '{' || (close = match_close(p, end)) == NULL)
		return expand_fail(ex, "expected '{text}'", *pp, (size_t)(end - *pp));
	*in = p + 1;
	*inlen = (size_t)(close - p - 1);
	*pp = close + 1;
	return 0;
}

/* lookup_name - expanded value of name through the caller's lookup */
static const char *lookup_name(struct expander *ex, const char *name, size_t len)
{
	char *copy = xstrndup(name, len);
	const char *v = ex->lookup(ex->ctx, copy, ex->err);

	free(copy);
	return v;
}

/* expand_sub - expand a piece of text into a fresh buffer */
static int expand_sub(struct expander *ex, const char *text, size_t len, struct buf *out)
{
	buf_reset(out);
	return expand_run(ex, text, len, out);
}

/* parse_long_n - decimal number of exactly len characters */
static int parse_long_n(const char *s, long *v)
{
	return str_parse_long(s, v);
}

/* expand_level_cmp - compare compatibility levels "3.6" vs "2" */
int expand_level_cmp(const char *a, const char *b, int *cmp)
{
	long pa[3] = { 0, 0, 0 }, pb[3] = { 0, 0, 0 };
	const char *s[2] = { a, b };
	long *dst[2] = { pa, pb };
	int i, k;

	for (i = 0; i < 2; i++) {
		const char *p = s[i];

		for (k = 0; k < 3; k++) {
			char *endp;

			if (!isdigit((unsigned char)*p))
				return -1;
			dst[i][k] = strtol(p, &endp, 10);
			p = endp;
			if (*p == '\0')
				break;
			if (*p != '.' || k == 2)
				return -1;
			p++;
		}
	}
	*cmp = 0;
	for (k = 0; k < 3 && *cmp == 0; k++)
		*cmp = pa[k] < pb[k] ? -1 : pa[k] > pb[k];
	return 0;
}

/* relation_true - evaluate "a op b" */
static int relation_true(struct expander *ex, const char *a, const char *op, size_t oplen,
			 const char *b, int *result)
{
	int level = oplen > 5 && strncmp(op + oplen - 5, "level", 5) == 0;
	size_t base = level ? oplen - 5 : oplen;
	int cmp;

	if (level) {
		if (expand_level_cmp(a, b, &cmp) < 0)
			return expand_fail(ex, "bad compatibility level operand", a, strlen(a));
	} else if (base == 2 && (op[0] == '=' || op[0] == '!') && op[1] == '=') {
		cmp = strcmp(a, b);
	} else {
		long la, lb;

		if (parse_long_n(a, &la) < 0 || parse_long_n(b, &lb) < 0)
			return expand_fail(ex, "non-numeric operand", op, oplen);
		cmp = la < lb ? -1 : la > lb;
	}
	if (base == 2 && op[0] == '=' && op[1] == '=')
		*result = cmp == 0;
	else if (base == 2 && op[0] == '!' && op[1] == '=')
		*result = cmp != 0;
	else if (base == 1 && op[0] == '<')
		*result = cmp < 0;
	else if (base == 2 && op[0] == '<' && op[1] == '=')
		*result = cmp <= 0;
	else if (base == 1 && op[0] == '>')
		*result = cmp > 0;
	else if (base == 2 && op[0] == '>' && op[1] == '=')
		*result = cmp >= 0;
	else
		return expand_fail(ex, "unknown operator", op, oplen);
	return 0;
}

/*
 * branches - parse "? {x} : {y}" (either part optional, not both) and
 * expand the chosen branch into out.
 */
static int branches(struct expander *ex, const char *p, const char *end, int truth,
		    struct buf *out)
{
	const char *yes = NULL, *no = NULL;
	size_t ylen = 0, nlen = 0;

	p = skip_space(p, end);
	if (p < end && *p == '?') {
		p++;
		if (group(ex, &p, end, &yes, &ylen) < 0)
			return -1;
		p = skip_space(p, end);
	}
	if (p < end && *p == ':') {
		p++;
		if (group(ex, &p, end, &no, &nlen) < 0)
			return -1;
		p = skip_space(p, end);
	}
	if (p != end || (yes == NULL && no == NULL))
		return expand_fail(ex, "expected '? {value} : {value}'", p, (size_t)(end - p));
	if (truth && yes)
		return expand_run(ex, yes, ylen, out);
	if (!truth && no)
		return expand_run(ex, no, nlen, out);
	return 0;
}

/* relational - "${{a} op {b} ? {x} : {y}}", inner is between ${ and } */
static int relational(struct expander *ex, const char *p, const char *end, struct buf *out)
{
	const char *a, *b, *op;
	size_t alen, blen, oplen;
	struct buf ea = BUF_INIT, eb = BUF_INIT;
	int truth = 0, rc = -1;

	if (group(ex, &p, end, &a, &alen) < 0)
		return -1;
	p = skip_space(p, end);
	op = p;
	while (p < end && strchr("=!<>", *p))
		p++;
	if (p == op)
		return expand_fail(ex, "missing operator", op, (size_t)(end - op));
	if ((size_t)(end - p) >= 5 && strncmp(p, "level", 5) == 0)
		p += 5;
	oplen = (size_t)(p - op);
	if (group(ex, &p, end, &b, &blen) < 0)
		return -1;
	if (expand_sub(ex, a, alen, &ea) == 0 && expand_sub(ex, b, blen, &eb) == 0) {
		char *sa = str_trim(ea.data ? ea.data : (char *)"");
		char *sb = str_trim(eb.data ? eb.data : (char *)"");

		if (relation_true(ex, sa, op, oplen, sb, &truth) == 0)
			rc = 0;
	}
	buf_free(&ea);
	buf_free(&eb);
	if (rc < 0)
		return -1;
	return branches(ex, p, end, truth, out);
}

/* conditional - "${name?value}", "${name:value}", "${name?{v}:{w}}" */
static int conditional(struct expander *ex, const char *val, const char *p, const char *end,
		       struct buf *out)
{
	int defined = *val != '\0';
	const char *q = skip_space(p + 1, end);

	if (q < end && *q == '{' && match_close(q, end) != NULL) {
		const char *close = match_close(q, end);
		const char *after = skip_space(close + 1, end);

		/* braced form: "{v}" or "{v}:{w}" (with '?'), "{w}" (with ':') */
		if (after == end || (*p == '?' && *after == ':'))
			return branches(ex, p, end, defined, out);
	}
	if ((*p == '?' && defined) || (*p == ':' && !defined))
		return expand_run(ex, p + 1, (size_t)(end - p - 1), out);
	return 0;
}

/* dollar - one "$…" at p; returns the position after it, NULL on error */
static const char *dollar(struct expander *ex, const char *p, const char *end, struct buf *out)
{
	const char *name, *close, *inner;
	const char *val;
	size_t nlen;

	p++; /* the '$' */
	if (p < end && *p == '$') {
		buf_putc(out, '$');
		return p + 1;
	}
	if (p < end && (*p == '{' || *p == '(')) {
		if ((close = match_close(p, end)) == NULL) {
			expand_fail(ex, *p == '{' ? "missing '}'" : "missing ')'", p - 1,
				    (size_t)(end - p + 1));
			return NULL;
		}
		inner = p + 1;
		if (*p == '{' && skip_space(inner, close) < close && *skip_space(inner, close) == '{')
			return relational(ex, skip_space(inner, close), close, out) < 0 ? NULL
											: close + 1;
		name = skip_space(inner, close);
		for (nlen = 0; name + nlen < close && is_name_char((unsigned char)name[nlen]); nlen++)
			;
		if (nlen == 0) {
			expand_fail(ex, "empty parameter name", p - 1, (size_t)(close - p + 2));
			return NULL;
		}
		if ((val = lookup_name(ex, name, nlen)) == NULL)
			return NULL;
		inner = skip_space(name + nlen, close);
		if (inner == close) {
			buf_puts(out, val);
			return close + 1;
		}
		if (*inner != '?' && *inner != ':') {
			expand_fail(ex, "unexpected text after parameter name", p - 1,
				    (size_t)(close - p + 2));
			return NULL;
		}
		return conditional(ex, val, inner, close, out) < 0 ? NULL : close + 1;
	}
	if (p < end && is_name_char((unsigned char)*p)) {
		for (nlen = 0; p + nlen < end && is_name_char((unsigned char)p[nlen]); nlen++)
			;
		if ((val = lookup_name(ex, p, nlen)) == NULL)
			return NULL;
		buf_puts(out, val);
		return p + nlen;
	}
	buf_putc(out, '$');
	return p;
}

/* expand_run - expand len bytes of text, appending to out */
static int expand_run(struct expander *ex, const char *text, size_t len, struct buf *out)
{
	const char *p = text, *end = text + len;
	int rc = 0;

	if (++ex->depth > EXPAND_MAX_DEPTH) {
		ex->depth--;
		return expand_fail(ex, "expansion nested too deeply", text, len);
	}
	while (p < end) {
		const char *dl = memchr(p, '$', (size_t)(end - p));

		if (dl == NULL) {
			buf_append(out, p, (size_t)(end - p));
			break;
		}
		buf_append(out, p, (size_t)(dl - p));
		if ((p = dollar(ex, dl, end, out)) == NULL) {
			rc = -1;
			break;
		}
	}
	ex->depth--;
	return rc;
}

/* expand_text - expand text into out (appended); -1 with err on bad syntax */
int expand_text(const char *text, expand_lookup_fn lookup, void *ctx, struct buf *out,
		struct buf *err)
{
	struct expander ex = { lookup, ctx, err, 0 };

	return expand_run(&ex, text, strlen(text), out);
}

/* expand_refs - every parameter name that text refers to, in order */
void expand_refs(const char *text, struct strv *names)
{
	const char *p = text;

	while ((p = strchr(p, '$')) != NULL) {
		size_t n;

		p++;
		if (*p == '$') {
			p++;
			continue;
		}
		if (*p == '{' || *p == '(')
			p++;
		while (isspace((unsigned char)*p))
			p++;
		for (n = 0; is_name_char((unsigned char)p[n]); n++)
			;
		if (n > 0) {
			char *name = xstrndup(p, n);

			if (!strv_contains(names, name))
				strv_push_take(names, name);
			else
				free(name);
		}
		p += n;
	}
}
