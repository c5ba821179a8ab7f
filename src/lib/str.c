/*
 * str - string helpers: trimming, case, cursor tokenizers, string vectors.
 *
 * Public: strv_push, strv_push_take, strv_free, strv_join, strv_contains,
 * strv_contains_case, str_trim, str_lower, str_lower_dup, str_has_prefix,
 * str_has_suffix, str_eq_case, str_is_blank, str_is_digits, str_token,
 * str_token_braced, str_split, str_unbrace, str_parse_long.
 * Bad input: unbalanced braces make the braced tokenizers return NULL with
 * *err set to a short English reason.
 */
#include "lib/str.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/mem.h"

/* strv_push_take - append a string the vector now owns */
void strv_push_take(struct strv *sv, char *s)
{
	if (sv->n + 2 > sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = xreallocarray(sv->v, sv->cap, sizeof(*sv->v));
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

/* strv_push - append a copy */
void strv_push(struct strv *sv, const char *s)
{
	strv_push_take(sv, xstrdup(s));
}

/* strv_free - free every string and the vector */
void strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

/* strv_join - one newly allocated string with sep between elements */
char *strv_join(const struct strv *sv, const char *sep)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < sv->n; i++) {
		if (i)
			buf_puts(&b, sep);
		buf_puts(&b, sv->v[i]);
	}
	return buf_steal(&b);
}

/* strv_contains - exact membership */
bool strv_contains(const struct strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

/* strv_contains_case - case-insensitive membership */
bool strv_contains_case(const struct strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcasecmp(sv->v[i], s) == 0)
			return true;
	return false;
}

/* str_trim - cut leading and trailing white space in place */
char *str_trim(char *s)
{
	char *end;

	while (*s && isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* str_lower - ASCII lower case in place (mail keys are folded this way) */
char *str_lower(char *s)
{
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/* str_lower_dup - lower-cased copy */
char *str_lower_dup(const char *s)
{
	return str_lower(xstrdup(s));
}

/* str_has_prefix - does s start with prefix */
bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* str_has_suffix - does s end with suffix */
bool str_has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* str_eq_case - ASCII case-insensitive equality */
bool str_eq_case(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* str_is_blank - empty or only white space */
bool str_is_blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

/* str_is_digits - non-empty and all decimal digits */
bool str_is_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* str_token - next token separated by any of delims, or NULL at the end */
char *str_token(char **cursor, const char *delims)
{
	char *start = *cursor + strspn(*cursor, delims);
	char *end;

	if (*start == '\0') {
		*cursor = start;
		return NULL;
	}
	end = start + strcspn(start, delims);
	if (*end)
		*end++ = '\0';
	*cursor = end;
	return start;
}

/*
 * str_token_braced - like str_token, but delimiters inside balanced braces
 * do not split. A NULL return with *err set means unbalanced braces.
 */
char *str_token_braced(char **cursor, const char *delims, const char **err)
{
	char *start = *cursor + strspn(*cursor, delims);
	char *p;
	int depth = 0;

	*err = NULL;
	if (*start == '\0') {
		*cursor = start;
		return NULL;
	}
	for (p = start; *p; p++) {
		if (*p == '{')
			depth++;
		else if (*p == '}') {
			if (--depth < 0) {
				*err = "unbalanced '}'";
				return NULL;
			}
		} else if (depth == 0 && strchr(delims, *p))
			break;
	}
	if (depth > 0) {
		*err = "missing '}'";
		return NULL;
	}
	if (*p)
		*p++ = '\0';
	*cursor = p;
	return start;
}

/* str_split - split a copy of s into out; returns -1 with *err on bad braces */
int str_split(const char *s, const char *delims, struct strv *out, const char **err)
{
	char *copy = xstrdup(s);
	char *cursor = copy;
	char *tok;

	*err = NULL;
	while ((tok = str_token_braced(&cursor, delims, err)) != NULL)
		strv_push(out, tok);
	free(copy);
	return *err ? -1 : 0;
}

/*
 * str_unbrace - "{ text }" -> "text" (trimmed), in place; text without
 * braces is only trimmed. Returns NULL with *err on a missing '}' or
 * trailing garbage after the closing brace.
 */
char *str_unbrace(char *s, const char **err)
{
	char *end;

	*err = NULL;
	s = str_trim(s);
	if (*s != '{')
		return s;
	end = s + strlen(s) - 1;
	if (*end != '}') {
		*err = "syntax error: missing '}' or text after it";
		return NULL;
	}
	*end = '\0';
	return str_trim(s + 1);
}

/* str_parse_long - strict decimal parse; -1 on junk or overflow */
int str_parse_long(const char *s, long *out)
{
	char *end;
	long v;

	if (*s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end != '\0' || end == s)
		return -1;
	*out = v;
	return 0;
}
