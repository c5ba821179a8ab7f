/*
 * table_socketmap - "socketmap:inet:host:port:name" and
 * "socketmap:unix:/path:name": Sendmail's socketmap protocol, as
 * socketmap_table(5) describes. Each lookup sends the netstring
 * "name key" and reads one netstring reply: "OK data" (found), "NOTFOUND "
 * (not found), "TEMP reason", "TIMEOUT reason", "PERM reason" (lookup
 * errors). Keys are sent as given: socketmap is a pattern table (no
 * partial keys, no case folding), as in Postfix.
 *
 * The connection stays open; when a request or its reply fails on the
 * wire (the server restarted, a stale connection), it is retried once on
 * a new connection. Requests are limited to 10000 bytes and replies to
 * 100000, Postfix's socketmap_max_query_size and socketmap_max_reply_size.
 *
 * Public: table_socketmap_ops (via table_registry.c); socketmap_parse_reply
 * (table_netmap.h, for the tests and the fuzz target).
 * Bad input: a name without the map name or with a bad endpoint is an open
 * error; a malformed netstring or an unknown reply status is a temporary
 * lookup failure (and the connection is closed).
 */
#include "table/table_netmap.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "lib/str.h"
#include "table/table_impl.h"
#include "table/table_netclient.h"

#define SOCKETMAP_TIMEOUT	100	/* seconds, as Postfix's socketmap client */
#define SOCKETMAP_MAX_QUERY	10000
#define SOCKETMAP_MAX_REPLY	100000

struct socketmap_table {
	struct netclient conn;
	char *map;		/* the name field of each request */
	struct buf req;
	struct buf reply;
};

/* socketmap_parse_reply - a reply's payload into the lookup outcome */
enum table_status socketmap_parse_reply(const char *data, size_t len, struct buf *value,
					struct buf *why)
{
	static const struct {
		const char *word;
		const char *what;
	} errors[] = {
		{ "TEMP", "temporary" }, { "TIMEOUT", "timeout" }, { "PERM", "permanent" },
	};
	const char *sp = memchr(data, ' ', len);
	size_t wlen = sp ? (size_t)(sp - data) : len;
	const char *text = sp ? sp + 1 : data + len;
	size_t tlen = (size_t)(data + len - text);

	if (wlen == 2 && memcmp(data, "OK", 2) == 0) {
		if (sp == NULL)
			return TABLE_NOTFOUND;	/* Postfix: "OK" without data finds nothing */
		buf_append(value, text, tlen);
		return TABLE_FOUND;
	}
	if (wlen == 8 && memcmp(data, "NOTFOUND", 8) == 0)
		return TABLE_NOTFOUND;
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		if (wlen == strlen(errors[i].word) && memcmp(data, errors[i].word, wlen) == 0) {
			buf_printf(why, "socketmap server %s error: %.*s", errors[i].what,
				   (int)tlen, text);
			return TABLE_TEMPFAIL;
		}
	}
	buf_printf(why, "socketmap server unknown error: %.*s", (int)(len < 200 ? len : 200),
		   data);
	return TABLE_TEMPFAIL;
}

/* socketmap_open - split "endpoint:name" at the last colon */
static int socketmap_open(struct table *t, const char *name, struct buf *err)
{
	const char *colon = strrchr(name, ':');
	struct socketmap_table *p;
	struct buf why = BUF_INIT;
	char *endpoint;
	int rc;

	if (colon == NULL || colon[1] == '\0' ||
	    !(str_has_prefix(name, "inet:") || str_has_prefix(name, "unix:")) ||
	    colon < name + 5) {
		buf_printf(err, "socketmap:%s: expected socketmap:inet:host:port:name or "
			   "socketmap:unix:pathname:name", name);
		return -1;
	}
	p = xcalloc(1, sizeof(*p));
	endpoint = xstrndup(name, (size_t)(colon - name));
	rc = netclient_init(&p->conn, endpoint, 0, SOCKETMAP_TIMEOUT, &why);
	free(endpoint);
	if (rc != 0) {
		buf_printf(err, "socketmap:%s: %s", name, buf_cstr(&why));
		buf_free(&why);
		netclient_free(&p->conn);
		free(p);
		return -1;
	}
	p->map = xstrdup(colon + 1);
	t->priv = p;
	return 0;
}

/* socketmap_read_netstring - "LEN:payload," into p->reply */
static int socketmap_read_netstring(struct socketmap_table *p, struct buf *err)
{
	struct buf len = BUF_INIT;
	long n = -1;
	int rc = netclient_read_until(&p->conn, ':', 8, &len, err);

	buf_reset(&p->reply);
	if (rc == 0) {
		buf_truncate(&len, len.len - 1);
		if (len.len == 0 || !str_is_digits(buf_cstr(&len)) ||
		    str_parse_long(buf_cstr(&len), &n) != 0 || n > SOCKETMAP_MAX_REPLY) {
			buf_printf(err, "input format error (reply length \"%.20s\")", buf_cstr(&len));
			rc = -1;
		}
	} else if (err->len == 0 || strstr(buf_cstr(err), "too long")) {
		buf_reset(err);
		buf_puts(err, "input format error");
	}
	if (rc == 0)
		rc = netclient_read_n(&p->conn, (size_t)n + 1, &p->reply, err);
	if (rc == 0 && p->reply.data[n] != ',') {
		buf_puts(err, "input format error (no ',' after the reply)");
		rc = -1;
	}
	if (rc == 0)
		buf_truncate(&p->reply, (size_t)n);
	else
		netclient_disconnect(&p->conn);
	buf_free(&len);
	return rc;
}

/* socketmap_exchange - one request and its reply on the open connection */
static int socketmap_exchange(void *ctx, struct buf *err)
{
	struct socketmap_table *p = ctx;

	if (netclient_write(&p->conn, p->req.data, p->req.len, err) != 0)
		return -1;
	return socketmap_read_netstring(p, err);
}

/* socketmap_lookup - one request and its reply */
static enum table_status socketmap_lookup(struct table *t, const char *key, struct buf *value)
{
	struct socketmap_table *p = t->priv;
	struct buf err = BUF_INIT, why = BUF_INIT;
	size_t qlen = strlen(p->map) + 1 + strlen(key);
	enum table_status st;

	if (qlen > SOCKETMAP_MAX_QUERY) {
		table_set_error(t, "%s: query of %zu bytes exceeds the limit of %d", t->spec,
				qlen, SOCKETMAP_MAX_QUERY);
		return TABLE_TEMPFAIL;
	}
	buf_reset(&p->req);
	buf_printf(&p->req, "%zu:%s %s,", qlen, p->map, key);
	if (netclient_call(&p->conn, socketmap_exchange, p, &err) != 0) {
		table_set_error(t, "%s: lookup error: %s", t->spec, buf_cstr(&err));
		buf_free(&err);
		return TABLE_TEMPFAIL;
	}
	st = socketmap_parse_reply(p->reply.data, p->reply.len, value, &why);
	if (st == TABLE_TEMPFAIL)
		table_set_error(t, "%s: %s", t->spec, buf_cstr(&why));
	buf_free(&err);
	buf_free(&why);
	return st;
}

/* socketmap_close - hang up */
static void socketmap_close(struct table *t)
{
	struct socketmap_table *p = t->priv;

	netclient_free(&p->conn);
	free(p->map);
	buf_free(&p->req);
	buf_free(&p->reply);
	free(p);
	t->priv = NULL;
}

const struct table_ops table_socketmap_ops = {
	.type = "socketmap",
	.props = TABLE_P_PATTERN,
	.open = socketmap_open,
	.lookup = socketmap_lookup,
	.close = socketmap_close,
};
