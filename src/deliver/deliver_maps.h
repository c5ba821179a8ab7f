/*
 * deliver_maps - a parameter's table list for the delivery agents
 * (virtual_mailbox_maps, virtual_uid_maps, alias_maps, …).
 */
#ifndef OUTPOST_DELIVER_DELIVER_MAPS_H
#define OUTPOST_DELIVER_DELIVER_MAPS_H

#include "config/config.h"
#include "lib/buf.h"
#include "table/table.h"

struct deliver_maps;

struct deliver_maps *deliver_maps_open(struct config *cf, const char *param,
				       struct buf *err);
enum table_status deliver_maps_find(struct deliver_maps *m, enum table_search how,
				    const char *key, struct buf *value,
				    struct buf *err);
/* Plain lookup of one key (aliases(5) names): no derived keys. */
enum table_status deliver_maps_get(struct deliver_maps *m, const char *key,
				   struct buf *value, struct buf *err);
void deliver_maps_close(struct deliver_maps **mp);

#endif
