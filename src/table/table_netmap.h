/*
 * table_netmap - socketmap: and tcp: replies, parsed without a
 * connection, for the unit tests and the fuzz target. Internal to
 * src/table.
 */
#ifndef OUTPOST_TABLE_TABLE_NETMAP_H
#define OUTPOST_TABLE_TABLE_NETMAP_H

#include <stddef.h>

#include "lib/buf.h"
#include "table/table.h"

/* a socketmap reply payload (the netstring's contents): value or why */
enum table_status socketmap_parse_reply(const char *data, size_t len, struct buf *value,
					struct buf *why);
/* a tcp_table(5) reply line (newline removed): value or why */
enum table_status tcp_parse_reply(const char *line, size_t len, struct buf *value,
				  struct buf *why);
/* tcp_table(5) request encoding: %, whitespace and non-printables as %XX */
void tcp_encode(const char *s, struct buf *out);

#endif
