/*
 * str - small string helpers shared by every parser (no mail knowledge).
 *
 * Tokenizers replace strtok: they take a cursor, never hidden state.
 * str_token_braced() keeps Postfix's "{ … }" groups inside one token, so
 * "inline:{a=b, c=d}" or "check_policy_service { inet:h:p, timeout=5s }"
 * stay whole.
 */
#ifndef OUTPOST_LIB_STR_H
#define OUTPOST_LIB_STR_H

#include <stdbool.h>
#include <stddef.h>

struct strv {
	char **v;	/* NULL-terminated when n > 0 */
	size_t n;
	size_t cap;
};

#define STRV_INIT { NULL, 0, 0 }
#define STR_SEP_LIST " \t\r\n,"	/* Postfix's CHARS_COMMA_SP */
#define STR_SPACE " \t\r\n"

void strv_push(struct strv *sv, const char *s);
void strv_push_take(struct strv *sv, char *s);
void strv_free(struct strv *sv);
char *strv_join(const struct strv *sv, const char *sep);
bool strv_contains(const struct strv *sv, const char *s);
bool strv_contains_case(const struct strv *sv, const char *s);

char *str_trim(char *s);
char *str_lower(char *s);
char *str_lower_dup(const char *s);
bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
bool str_eq_case(const char *a, const char *b);
bool str_is_blank(const char *s);
bool str_is_digits(const char *s);
char *str_token(char **cursor, const char *delims);
char *str_token_braced(char **cursor, const char *delims, const char **err);
int str_split(const char *s, const char *delims, struct strv *out, const char **err);
char *str_unbrace(char *s, const char **err);
int str_parse_long(const char *s, long *out);

#endif
