/*
 * table_tcp - "tcp:host:port": the line protocol of tcp_table(5). Each
 * lookup sends "get KEY\n" with %, whitespace and non-printable bytes
 * encoded as %XX, and reads one reply line of at most 4096 bytes: "200
 * data" (found; data %XX-decoded), "500 text" (not found), "400 text"
 * (temporary failure). Keys are sent as given: tcp is a pattern table (no
 * partial keys, no case folding), as in Postfix.
 *
 * The connection stays open between lookups; a request whose connection
 * fails on the wire is retried once on a new connection. (Postfix retries
 * up to ten times, a second apart; one quick retry covers a restarted
 * server without stalling a mail session for ten seconds.)
 *
 * Public: table_tcp_ops (via table_registry.c); tcp_parse_reply,
 * tcp_encode (table_netmap.h, for the tests and the fuzz target).
 * Bad input: a bad endpoint is an open error; a reply with another status,
 * without a space after it, with a bad %XX sequence or longer than 4096
 * bytes is a temporary lookup failure (and the connection is closed).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "table/table_impl.h"
#include "table/table_netclient.h"
#include "table/table_netmap.h"

#define TCP_TIMEOUT	100	/* seconds, as Postfix's tcp_table client */
#define TCP_MAX_LINE	4096	/* a reply, newline included */

struct tcp_table {
	struct netclient conn;
	struct buf req;
	struct buf line;
};

/* tcp_encode - %XX for %, whitespace and every byte that is not printable ASCII */
void tcp_encode(const char *s, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '%' || *p <= ' ' || *p >= 0x7f) {
			buf_putc(out, '%');
			buf_putc(out, hex[*p >> 4]);
			buf_putc(out, hex[*p & 15]);
		} else {
			buf_putc(out, *p);
		}
	}
}

/* tcp_hex - one hex digit's value, or -1 */
static int tcp_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* tcp_decode - %XX sequences; -1 on a bad one (value then unspecified) */
static int tcp_decode(const char *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] != '%') {
			buf_putc(out, s[i]);
			continue;
		}
		if (i + 2 >= n)
			return -1;
		hi = tcp_hex((unsigned char)s[i + 1]);
		lo = tcp_hex((unsigned char)s[i + 2]);
		if (hi < 0 || lo < 0)
			return -1;
		buf_putc(out, hi * 16 + lo);
		i += 2;
	}
	return 0;
}

/* tcp_parse_reply - "NNN text" into the lookup outcome */
enum table_status tcp_parse_reply(const char *line, size_t len, struct buf *value,
				  struct buf *why)
{
	int shown = (int)(len < 200 ? len : 200);

	if (len < 4 || line[3] != ' ' || !isdigit((unsigned char)line[0]) ||
	    !isdigit((unsigned char)line[1]) || !isdigit((unsigned char)line[2])) {
		buf_printf(why, "malformed reply: %.*s", shown, line);
		return TABLE_TEMPFAIL;
	}
	if (memcmp(line, "500", 3) == 0)
		return TABLE_NOTFOUND;
	if (memcmp(line, "400", 3) == 0) {
		buf_printf(why, "server error: %.*s", shown - 4, line + 4);
		return TABLE_TEMPFAIL;
	}
	if (memcmp(line, "200", 3) != 0) {
		buf_printf(why, "bad status code: %.*s", shown, line);
		return TABLE_TEMPFAIL;
	}
	if (tcp_decode(line + 4, len - 4, value) != 0) {
		buf_reset(value);
		buf_printf(why, "malformed reply: %.*s", shown, line);
		return TABLE_TEMPFAIL;
	}
	return TABLE_FOUND;
}

/* tcp_open - the endpoint only; the first lookup connects */
static int tcp_open(struct table *t, const char *name, struct buf *err)
{
	struct tcp_table *p = xcalloc(1, sizeof(*p));
	struct buf why = BUF_INIT;

	if (netclient_init(&p->conn, name, 1, TCP_TIMEOUT, &why) != 0) {
		buf_printf(err, "tcp:%s: %s", name, buf_cstr(&why));
		buf_free(&why);
		netclient_free(&p->conn);
		free(p);
		return -1;
	}
	t->priv = p;
	return 0;
}

/* tcp_exchange - one request and its reply line */
static int tcp_exchange(void *ctx, struct buf *err)
{
	struct tcp_table *p = ctx;

	buf_reset(&p->line);
	if (netclient_write(&p->conn, p->req.data, p->req.len, err) != 0 ||
	    netclient_read_until(&p->conn, '\n', TCP_MAX_LINE, &p->line, err) != 0)
		return -1;
	buf_truncate(&p->line, p->line.len - 1);
	if (p->line.len && p->line.data[p->line.len - 1] == '\r')
		buf_truncate(&p->line, p->line.len - 1);
	return 0;
}

/* tcp_lookup - "get KEY" and its reply */
static enum table_status tcp_lookup(struct table *t, const char *key, struct buf *value)
{
	struct tcp_table *p = t->priv;
	struct buf err = BUF_INIT, why = BUF_INIT;
	enum table_status st;

	buf_reset(&p->req);
	buf_puts(&p->req, "get ");
	tcp_encode(key, &p->req);
	buf_putc(&p->req, '\n');
	if (netclient_call(&p->conn, tcp_exchange, p, &err) != 0) {
		table_set_error(t, "%s: lookup error: %s", t->spec, buf_cstr(&err));
		buf_free(&err);
		return TABLE_TEMPFAIL;
	}
	st = tcp_parse_reply(buf_cstr(&p->line), p->line.len, value, &why);
	if (st == TABLE_TEMPFAIL) {
		table_set_error(t, "%s: %s", t->spec, buf_cstr(&why));
		if (strncmp(p->line.data, "400", 3) != 0)
			netclient_disconnect(&p->conn);	/* out of step: start afresh */
	}
	buf_free(&err);
	buf_free(&why);
	return st;
}

/* tcp_close - hang up */
static void tcp_close(struct table *t)
{
	struct tcp_table *p = t->priv;

	netclient_free(&p->conn);
	buf_free(&p->req);
	buf_free(&p->line);
	free(p);
	t->priv = NULL;
}

const struct table_ops table_tcp_ops = {
	.type = "tcp",
	.props = TABLE_P_PATTERN,
	.open = tcp_open,
	.lookup = tcp_lookup,
	.close = tcp_close,
};
