/*
 * table_regexp_lit - a cheap pre-check for POSIX extended and PCRE patterns: the
 * runs of literal characters that every match must contain. A subject
 * without one of them cannot match, so regexec (slow in glibc) is skipped.
 * Internal to src/table.
 */
#ifndef OUTPOST_TABLE_TABLE_REGEXP_LIT_H
#define OUTPOST_TABLE_TABLE_REGEXP_LIT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/str.h"

#define REGEXP_MAX_LITERALS 4

bool regexp_required_literals(const char *pattern, bool pcre, struct strv *lits);
bool regexp_lit_present(const char *subject, size_t len, const char *lit, size_t litlen,
			bool icase);

#endif
