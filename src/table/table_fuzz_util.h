/*
 * table_fuzz_util - shared by the table fuzz targets (fuzz code only):
 * the input becomes a table file (one temp file per process, rewritten
 * each run), which is opened leniently and strictly and queried with
 * fixed keys and with keys cut from the input itself.
 */
#ifndef OUTPOST_TABLE_TABLE_FUZZ_UTIL_H
#define OUTPOST_TABLE_TABLE_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "table/table.h"

static const char *const fuzz_keys[] = {
	"a", "A", "user@example.com", "User+Ext@Example.COM", "192.0.2.1", "10.1.2.3",
	"2001:db8::1", "::ffff:1.2.3.4", "", "@example.com", "abcdefghij",
};

/* fuzz_path - this process's scratch file, created on first use */
static inline const char *fuzz_path(void)
{
	static char path[64];

	if (path[0] == '\0') {
		int fd;

		snprintf(path, sizeof(path), "/tmp/outpost-fuzz-table-XXXXXX");
		if ((fd = mkstemp(path)) < 0)
			abort();
		close(fd);
		log_set_target(LOG_TARGET_FILE, "/dev/null");
	}
	return path;
}

/* fuzz_write - the input as the file's contents */
static inline void fuzz_write(const uint8_t *data, size_t size)
{
	FILE *fp = fopen(fuzz_path(), "w");

	if (fp == NULL)
		abort();
	if (size && fwrite(data, 1, size, fp) != size)
		abort();
	fclose(fp);
}

/* fuzz_lookup - one lookup; a found value is never empty */
static inline void fuzz_lookup(struct table *t, const char *key, struct buf *v)
{
	enum table_status st = table_lookup(t, key, v);

	if (st == TABLE_FOUND && v->len == 0)
		__builtin_trap();
	if (st == TABLE_TEMPFAIL && table_error(t)[0] == '\0')
		__builtin_trap();
}

/* fuzz_query_spec - open spec both ways and run the lookups */
static inline void fuzz_query_spec(const char *spec, const uint8_t *data, size_t size)
{
	static const unsigned modes[] = { 0, TABLE_F_STRICT, TABLE_F_NOFOLD };
	struct buf err = BUF_INIT, v = BUF_INIT;

	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		struct table *t = table_open(spec, modes[m], &err);

		if (t == NULL) {
			if (err.len == 0)
				__builtin_trap();
			continue;
		}
		for (size_t i = 0; i < sizeof(fuzz_keys) / sizeof(fuzz_keys[0]); i++)
			fuzz_lookup(t, fuzz_keys[i], &v);
		/* keys cut from the input: each line's first 64 bytes */
		for (size_t pos = 0, n = 0; pos < size && n < 8; n++) {
			const uint8_t *nl = memchr(data + pos, '\n', size - pos);
			size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
			char *key = xstrndup((const char *)data + pos, len < 64 ? len : 64);

			fuzz_lookup(t, key, &v);
			free(key);
			pos += len + 1;
		}
		table_close(&t);
	}
	buf_free(&err);
	buf_free(&v);
}

/* fuzz_table_file - the input as a TYPE: file */
static inline void fuzz_table_file(const char *type, const uint8_t *data, size_t size)
{
	struct buf spec = BUF_INIT;

	fuzz_write(data, size);
	buf_printf(&spec, "%s:%s", type, fuzz_path());
	fuzz_query_spec(buf_cstr(&spec), data, size);
	buf_free(&spec);
}

#endif
