/*
 * table_pattern_cases - regexp: and pcre: cases shared by both tests,
 * each answer recorded with Debian's postmap 3.7 -q on the same file
 * ("-" = not found (exit 1), "!ERR" = lookup error, "!OPEN" = open error).
 */
#ifndef OUTPOST_TABLE_TABLE_PATTERN_CASES_H
#define OUTPOST_TABLE_TABLE_PATTERN_CASES_H

struct pcase {
	const char *name;
	const char *text;
	const char *key;
	const char *want_regexp;
	const char *want_pcre;
	const char *warning;	/* a fragment the open must warn about, or NULL */
};

#define IFS "if /@example\\.com$/\n/^a@/ A\nif !/^b/\n/./ notb\nendif\n/^b/ B\nendif\n/./ other\n"
#define GROUPS "/^(a)(b)?(c)?(d)?(e)?(f)?(g)?(h)?(i)?(j)?/ "

static const struct pcase pcases[] = {
	{ "substitution", "/^(.*)@(.*)$/ user=$1 domain=${2} lit=$$ p=$(1)\n", "Alice@Ex.com",
	  "user=Alice domain=Ex.com lit=$ p=Alice", "user=Alice domain=Ex.com lit=$ p=Alice", NULL },
	{ "insensitive by default", "/^abc$/ x\n", "ABC", "x", "x", NULL },
	{ "i toggles", "/^abc$/i x\n", "ABC", "-", "-", NULL },
	{ "i toggles, same case", "/^abc$/i x\n", "abc", "x", "x", NULL },
	{ "ii toggles back", "/a/ii x\n", "A", "x", "x", NULL },
	{ "other delimiter", "|^a/b$| slash\n", "a/b", "slash", "slash", NULL },
	{ "escaped delimiter", "/a\\/b/ x\n", "a/b", "x", "x", NULL },
	{ "no result", "/^a/\n", "a", "!ERR", "!ERR", "no replacement text" },
	{ "negation with $n skipped", "!/^a/ $1\n", "b", "-", "-", "negative match" },
	{ "negation", "! /a/ x\n", "b", "x", "x", NULL },
	{ "double negation", "!!a!x $$\n!! /b/ B\n", "b", "B", "B", "no closing regexp delimiter" },
	{ "letter delimiter after !", "!x\\.y!ix r\n", "USER", "r", "r", NULL },
	{ "negation $$", "!/a/ x$$y\n", "b", "x$y", "x$y", NULL },
	{ "out of range", "/^(a)/ $2\n", "a", "-", "-", "out of range" },
	{ "unset group", "/^(a)|(b)/ [$2]\n", "a", "[]", "[]", NULL },
	{ "unset group only", "/^(a)|(b)/ $2\n", "a", "!ERR", "!ERR", NULL },
	/* compile errors: each library's own words, exact text held by the postmap fixtures */
	{ "bad pattern", "/^(a/ x\n", "a", "-", "-", "map " },
	{ "unknown flag", "/^a/q x\n", "a", "-", "-", "unknown regexp option \"q\"" },
	{ "ten groups", GROUPS "a$10\n", "abcdefghij", "aj", "aj", NULL },
	{ "group 0", GROUPS "a$0\n", "abcdefghij", "-", "-", "out of range" },
	{ "named ref", GROUPS "a$x\n", "abcdefghij", "-", "-", "non-numeric" },
	{ "braced 10", GROUPS "a${10}\n", "abcdefghij", "aj", "aj", NULL },
	{ "trailing $", GROUPS "a$\n", "abcdefghij", "-", "-", "skipping this rule" },
	{ "truncated", GROUPS "a${1\n", "abcdefghij", "-", "-", "skipping this rule" },
	{ "ref then text", GROUPS "a$1b\n", "abcdefghij", "-", "-", "non-numeric" },
	{ "braced ref then text", GROUPS "a${1}b\n", "abcdefghij", "aab", "aab", NULL },
	{ "dollar dollar digit", GROUPS "a$$1\n", "abcdefghij", "a$1", "a$1", NULL },
	{ "dollar space", GROUPS "a$ b\n", "abcdefghij", "-", "-", "skipping this rule" },
	{ "if a", IFS, "a@example.com", "A", "A", NULL },
	{ "if b", IFS, "b@example.com", "B", "B", NULL },
	{ "if not b", IFS, "c@example.com", "notb", "notb", NULL },
	{ "outside if", IFS, "a@x.org", "other", "other", NULL },
	{ "if without endif", "if /a/\n/a/ x\n", "a", "x", "x", "IF has no matching ENDIF" },
	{ "endif without if", "endif\n/a/ x\n", "a", "x", "x", "ENDIF without matching IF" },
	{ "if extra text", "if /a/ junk\n/a/ x\nendif\n", "a", "x", "x", "extra text" },
	{ "upper-case keywords", "IF /a/\n/a/ x\nENDIF\n", "a", "x", "x", NULL },
	{ "if glued", "if/a/\n/a/ x\nendif\n", "a", "x", "x", NULL },
	{ "continuation", "/a/ x\n   y\n", "a", "x   y", "x   y", NULL },
	{ "x flag", "/a b/x x\n", "ab", "-", "x", NULL },
	{ "result trimmed", "/a/   multi   word  \n", "a", "multi   word", "multi   word", NULL },
	{ "missing delimiter", "/a\n", "a", "-", "-", "no closing regexp delimiter" },
	{ "not a pattern", "a/ x\n", "a", "-", "-", "unrecognized" },
	{ "first match wins", "/a/ 1\n/a/ 2\n", "a", "1", "1", NULL },
	{ "no match", "/a/ 1\n", "b", "-", "-", NULL },
	{ "anchored A", "/b/A x\n", "ab", "-", "-", NULL },
	{ "ungreedy U", "/(a+?)/U [$1]\n", "aaa", "-", "[aaa]", NULL },
	{ "dollar end only E", "/^a$/E x\n", "a", "-", "x", NULL },
	{ "obsolete X", "/a/X x\n", "a", "-", "x", NULL },
	{ "dotall s", "/^a.b$/s x\n", "a\nb", "-", "x", NULL },
};

#endif
