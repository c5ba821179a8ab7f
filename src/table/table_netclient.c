/*
 * table_netclient - the connection under tcp: and socketmap: tables: a
 * TCP or UNIX-domain stream socket that stays open between lookups, with
 * a time limit on connecting and on each read and write (poll), buffered
 * reads, and a clean "disconnected" state the table types retry from.
 *
 * Public: netclient_init, netclient_connect, netclient_call, netclient_write,
 * netclient_read_until, netclient_read_n, netclient_disconnect,
 * netclient_free (table_netclient.h).
 *
 * Bad input: a malformed endpoint is an error at init; a refused or slow
 * connection, a timeout, an early end of stream and an overlong reply are
 * errors with a reason in err, after which the connection is closed.
 */
#include "table/table_netclient.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/mem.h"
#include "lib/str.h"

/* netclient_split_inet - "host:port" or "[v6]:port" */
static int netclient_split_inet(struct netclient *c, const char *hp, struct buf *err)
{
	const char *colon;

	if (hp[0] == '[') {
		const char *close = strchr(hp, ']');

		if (close == NULL || close[1] != ':' || close[2] == '\0') {
			buf_printf(err, "bad endpoint \"%s\": expected [address]:port", hp);
			return -1;
		}
		c->host = xstrndup(hp + 1, (size_t)(close - hp - 1));
		c->port = xstrdup(close + 2);
		return 0;
	}
	colon = strrchr(hp, ':');
	if (colon == NULL || colon == hp || colon[1] == '\0') {
		buf_printf(err, "bad endpoint \"%s\": expected host:port", hp);
		return -1;
	}
	c->host = xstrndup(hp, (size_t)(colon - hp));
	c->port = xstrdup(colon + 1);
	return 0;
}

/* netclient_init - parse the endpoint; nothing is connected yet */
int netclient_init(struct netclient *c, const char *endpoint, int inet_default, int timeout,
		   struct buf *err)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout = timeout;
	if (str_has_prefix(endpoint, "unix:")) {
		if (endpoint[5] == '\0' ||
		    strlen(endpoint + 5) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			buf_printf(err, "bad endpoint \"%s\": empty or overlong socket path", endpoint);
			return -1;
		}
		c->path = xstrdup(endpoint + 5);
		return 0;
	}
	if (str_has_prefix(endpoint, "inet:"))
		return netclient_split_inet(c, endpoint + 5, err);
	if (inet_default)
		return netclient_split_inet(c, endpoint, err);
	buf_printf(err, "bad endpoint \"%s\": expected inet:host:port or unix:/path", endpoint);
	return -1;
}

/* netclient_wait - poll fd for events until the time limit; 0 or errno */
static int netclient_wait(struct netclient *c, int fd, short events)
{
	struct pollfd pfd = { fd, events, 0 };
	int rc;

	do
		rc = poll(&pfd, 1, c->timeout * 1000);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return errno;
	return rc == 0 ? ETIMEDOUT : 0;
}

/* netclient_try - one non-blocking connect with the time limit */
static int netclient_try(struct netclient *c, int family, const struct sockaddr *sa,
			 socklen_t salen)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), e = 0;
	socklen_t elen = sizeof(e);

	if (fd < 0)
		return -errno;
	if (connect(fd, sa, salen) != 0) {
		if (errno != EINPROGRESS)
			e = errno;
		else if ((e = netclient_wait(c, fd, POLLOUT)) == 0 &&
			 getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) != 0)
			e = errno;
	}
	if (e != 0) {
		close(fd);
		return -e;
	}
	return fd;
}

/* netclient_connect_unix - the socket file */
static int netclient_connect_unix(struct netclient *c, struct buf *err)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, c->path, strlen(c->path));
	fd = netclient_try(c, AF_UNIX, (struct sockaddr *)&sun, sizeof(sun));
	if (fd < 0) {
		buf_printf(err, "connect to %s: %s", c->path, strerror(-fd));
		return -1;
	}
	return fd;
}

/* netclient_connect_inet - each address of the host in turn */
static int netclient_connect_inet(struct netclient *c, struct buf *err)
{
	struct addrinfo hints, *res = NULL;
	int rc, fd = -ECONNREFUSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(c->host, c->port, &hints, &res);
	if (rc != 0) {
		buf_printf(err, "look up %s:%s: %s", c->host, c->port, gai_strerror(rc));
		return -1;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = netclient_try(c, ai->ai_family, ai->ai_addr, ai->ai_addrlen);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		buf_printf(err, "connect to %s:%s: %s", c->host, c->port, strerror(-fd));
		return -1;
	}
	return fd;
}

/* netclient_connect - connect when not connected */
int netclient_connect(struct netclient *c, struct buf *err)
{
	if (c->fd >= 0)
		return 0;
	buf_reset(&c->in);
	c->pos = 0;
	c->fd = c->path ? netclient_connect_unix(c, err) : netclient_connect_inet(c, err);
	return c->fd >= 0 ? 0 : -1;
}

/* netclient_call - one exchange; once more on a new connection when the wire failed */
int netclient_call(struct netclient *c, int (*exchange)(void *ctx, struct buf *err), void *ctx,
		   struct buf *err)
{
	int rc = -1;

	for (int attempt = 0; attempt < 2 && rc != 0; attempt++) {
		buf_reset(err);
		if (netclient_connect(c, err) != 0)
			return -1;	/* no retry: nobody is there */
		rc = exchange(ctx, err);
	}
	return rc;
}

/* netclient_fail - close and say why */
static int netclient_fail(struct netclient *c, struct buf *err, const char *what, int e)
{
	if (e)
		buf_printf(err, "%s: %s", what, strerror(e));
	else
		buf_puts(err, what);
	netclient_disconnect(c);
	return -1;
}

/* netclient_write - all of data, within the time limit */
int netclient_write(struct netclient *c, const char *data, size_t n, struct buf *err)
{
	while (n > 0) {
		ssize_t w = send(c->fd, data, n, MSG_NOSIGNAL);
		int e;

		if (w > 0) {
			data += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			return netclient_fail(c, err, "write", errno);
		if ((e = netclient_wait(c, c->fd, POLLOUT)) != 0)
			return netclient_fail(c, err, "write", e);
	}
	return 0;
}

/* netclient_fill - read more into the buffer; -1 on error, end or timeout */
static int netclient_fill(struct netclient *c, struct buf *err)
{
	char chunk[4096];

	if (c->pos > 0 && c->pos == c->in.len) {
		buf_reset(&c->in);
		c->pos = 0;
	}
	for (;;) {
		ssize_t r = recv(c->fd, chunk, sizeof(chunk), 0);
		int e;

		if (r > 0) {
			buf_append(&c->in, chunk, (size_t)r);
			return 0;
		}
		if (r == 0)
			return netclient_fail(c, err, "unexpected disconnect", 0);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return netclient_fail(c, err, "read", errno);
		if ((e = netclient_wait(c, c->fd, POLLIN)) != 0)
			return netclient_fail(c, err, "read", e);
	}
}

/* netclient_read_until - one delimited record, the delimiter included */
int netclient_read_until(struct netclient *c, int stop, size_t max, struct buf *out,
			 struct buf *err)
{
	for (size_t scanned = 0;;) {
		const char *base = c->in.data + c->pos;
		size_t avail = c->in.len - c->pos;
		const char *hit = avail > scanned ? memchr(base + scanned, stop, avail - scanned)
						  : NULL;

		if (hit && (size_t)(hit - base) < max) {
			buf_append(out, base, (size_t)(hit - base) + 1);
			c->pos += (size_t)(hit - base) + 1;
			return 0;
		}
		if (hit || avail >= max)
			return netclient_fail(c, err, "reply too long", 0);
		scanned = avail;
		if (netclient_fill(c, err) != 0)
			return -1;
	}
}

/* netclient_read_n - exactly n bytes */
int netclient_read_n(struct netclient *c, size_t n, struct buf *out, struct buf *err)
{
	while (c->in.len - c->pos < n)
		if (netclient_fill(c, err) != 0)
			return -1;
	buf_append(out, c->in.data + c->pos, n);
	c->pos += n;
	return 0;
}

/* netclient_disconnect - close; the next request connects anew */
void netclient_disconnect(struct netclient *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	buf_reset(&c->in);
	c->pos = 0;
}

/* netclient_free - disconnect and release */
void netclient_free(struct netclient *c)
{
	netclient_disconnect(c);
	xfree(&c->host);
	xfree(&c->port);
	xfree(&c->path);
	buf_free(&c->in);
}
