/*
 * master_cf - reading master.cf into struct master_service (internal).
 */
#ifndef OUTPOST_CONFIG_MASTER_CF_H
#define OUTPOST_CONFIG_MASTER_CF_H

#include <stddef.h>

#include "config/config.h"

struct master_services {
	struct master_service *v;
	size_t n;
	size_t cap;
};

int master_cf_parse(const char *text, size_t len, const char *file,
		    struct master_services *out, struct buf *err);
int master_cf_read(const char *path, struct master_services *out, struct buf *err);
void master_cf_free(struct master_services *svcs);
void master_service_copy(struct master_service *dst, const struct master_service *src);
void master_service_release(struct master_service *svc);

#endif
