/*
 * fuzz_aliases - libFuzzer target: an aliases(5) file read the way
 * `outpost alias` builds it (source reader in alias mode, then the value
 * normalisation postalias applies).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/log.h"
#include "table/table_admin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_ctx {
	struct buf value;
	size_t entries;
};

/* fuzz_entry - normalise every value, count entries */
static int fuzz_entry(const char *key, const char *value, void *ctx)
{
	struct fuzz_ctx *f = ctx;

	(void)key;
	table_alias_value(value, &f->value);
	f->entries++;
	return f->entries % 7 == 0 ? TABLE_ADMIN_DUP : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct table_build_opts o = { .fold = true, .alias_format = true, .quiet_dups = true };
	struct fuzz_ctx f = { BUF_INIT, 0 };
	struct buf err = BUF_INIT;
	char path[64];
	int fd = memfd_create("fuzz_aliases", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		log_init("fuzz_aliases");
		(void)table_admin_read_source(path, &o, fuzz_entry, &f, &err);
	}
	close(fd);
	buf_free(&f.value);
	buf_free(&err);
	return 0;
}
