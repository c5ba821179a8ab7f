/*
 * table_netclient - one persistent stream connection to a lookup server
 * (tcp:, socketmap:), with a time limit on every step. Internal to
 * src/table.
 */
#ifndef OUTPOST_TABLE_TABLE_NETCLIENT_H
#define OUTPOST_TABLE_TABLE_NETCLIENT_H

#include <stddef.h>

#include "lib/buf.h"

struct netclient {
	char *host;		/* inet: host name or address; NULL for unix: */
	char *port;		/* inet: service name or number */
	char *path;		/* unix: socket path; NULL for inet: */
	int timeout;		/* seconds for connecting and for each read or write */
	int fd;			/* -1 while closed */
	struct buf in;		/* received, not yet consumed */
	size_t pos;		/* first unconsumed byte of in */
};

/*
 * netclient_init - "inet:host:port", "unix:/path", or (inet_default)
 * "host:port"; an IPv6 address is written "[addr]:port". Returns 0, or
 * -1 with the reason in err.
 */
int netclient_init(struct netclient *c, const char *endpoint, int inet_default, int timeout,
		   struct buf *err);
/* netclient_connect - connect when not connected; -1 with err */
int netclient_connect(struct netclient *c, struct buf *err);
/*
 * netclient_call - connect if need be and run exchange (a request and its
 * reply, 0 or -1 with err); when it fails, once more on a new connection
 * (a restarted server, a stale connection). -1 with err.
 */
int netclient_call(struct netclient *c, int (*exchange)(void *ctx, struct buf *err), void *ctx,
		   struct buf *err);
/* netclient_write - all of data; -1 with err (the connection is then closed) */
int netclient_write(struct netclient *c, const char *data, size_t n, struct buf *err);
/* netclient_read_until - bytes up to and including stop; more than max is an error */
int netclient_read_until(struct netclient *c, int stop, size_t max, struct buf *out,
			 struct buf *err);
/* netclient_read_n - exactly n bytes */
int netclient_read_n(struct netclient *c, size_t n, struct buf *out, struct buf *err);
void netclient_disconnect(struct netclient *c);
void netclient_free(struct netclient *c);

#endif
