/*
 * mainfile - reading main.cf into name/value entries (internal).
 */
#ifndef OUTPOST_CONFIG_MAINFILE_H
#define OUTPOST_CONFIG_MAINFILE_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/str.h"

struct cf_entry {
	char *name;
	char *value;	/* trimmed, continuation lines joined by one space */
	char *file;
	int line;	/* first physical line */
	int last_line;	/* last physical line of the logical line */
};

struct cf_entries {
	struct cf_entry *v;
	size_t n;
	size_t cap;
};

int mainfile_parse(const char *text, size_t len, const char *file, struct cf_entries *out,
		   struct buf *err, struct strv *warnings);
int mainfile_read(const char *path, struct cf_entries *out, struct buf *err,
		  struct strv *warnings);
void mainfile_free(struct cf_entries *ents);
int mainfile_valid_name(const char *name);

#endif
