/*
 * addr - RFC 5321 envelope address parsing (see addr.h).
 *
 * Public: addr_path_init, addr_path_free, addr_parse_path,
 * addr_parse_mailbox, addr_external, addr_utf8_valid, addr_domain_valid,
 * addr_list_split.
 *
 * Bad input: -1 with *err a short reason; the caller builds the reply.
 * The parser is deliberately a little more lenient than RFC 5321 where
 * real mail needs it (dots anywhere in a local part, a bare local part
 * without domain, "MAIL FROM: <x>" with a space) unless ADDR_P_STRICT, and
 * never lenient about what could confuse a relay decision: control
 * characters, NUL, unbalanced quotes or brackets, bad UTF-8.
 */
#include "mail/addr.h"

#include <arpa/inet.h>
#include <string.h>

#include "lib/mem.h"
#include "lib/str.h"

/* addr_path_init - empty result */
void addr_path_init(struct addr_path *p)
{
	buf_init(&p->addr);
	buf_init(&p->route);
	p->flags = 0;
	p->local_len = 0;
}

/* addr_path_free - release a result */
void addr_path_free(struct addr_path *p)
{
	buf_free(&p->addr);
	buf_free(&p->route);
	p->flags = 0;
	p->local_len = 0;
}

/* addr_utf8_valid - well-formed UTF-8 (no overlongs, no surrogates) */
bool addr_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned c = p[i];
		size_t n;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* is_special - characters that may not appear unquoted in a local part */
static bool is_special(unsigned char c)
{
	return c <= ' ' || c == 0x7f || strchr("()<>,;:\\\"[]", c) != NULL;
}

/* literal_valid - "[192.0.2.1]" or "[IPv6:2001:db8::1]" */
static bool literal_valid(const char *d, size_t len)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	unsigned char bin[16];

	if (len < 3 || d[0] != '[' || d[len - 1] != ']' || len - 2 >= sizeof(tmp))
		return false;
	memcpy(tmp, d + 1, len - 2);
	tmp[len - 2] = '\0';
	if (strncasecmp(tmp, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, tmp + 5, bin) == 1;
	return inet_pton(AF_INET, tmp, bin) == 1;
}

/* addr_domain_valid - host name (labels of letters, digits, '-', '_') or literal */
bool addr_domain_valid(const char *d, size_t len, bool allow_8bit)
{
	size_t label = 0;

	if (len == 0 || len > 255)
		return false;
	if (d[0] == '[')
		return literal_valid(d, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (c >= 0x80) {
			if (!allow_8bit)
				return false;
		} else if (!(c == '-' || c == '_' || (c >= '0' && c <= '9') ||
			     (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
			return false;
		}
		if (++label > 63)
			return false;
	}
	if (label == 0)	/* trailing dot: callers strip one before asking */
		return false;
	return allow_8bit ? addr_utf8_valid(d, len) : true;
}

/* has_ctl - NUL, CR, LF or other control bytes never belong in an address */
static bool has_ctl(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < ' ' || c == 0x7f)
			return true;
	}
	return false;
}

/* parse_quoted - '"..."' at s, unescaped into out; returns bytes used or 0 */
static size_t parse_quoted(const char *s, size_t len, struct buf *out,
			   const char **err)
{
	size_t i = 1;

	while (i < len && s[i] != '"') {
		if (s[i] == '\\') {
			if (++i >= len) {
				*err = "unterminated quoted string";
				return 0;
			}
		}
		buf_putc(out, s[i]);
		i++;
	}
	if (i >= len) {
		*err = "unterminated quoted string";
		return 0;
	}
	return i + 1;
}

/* last_at - position of the last '@' outside quotes, or len */
static size_t last_at(const char *s, size_t len)
{
	size_t at = len;
	bool q = false;

	for (size_t i = 0; i < len; i++) {
		if (q && s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == '"')
			q = !q;
		else if (!q && s[i] == '@')
			at = i;
	}
	return at;
}

/* local_flags - routing hints hidden in a local part */
static unsigned local_flags(const char *l, size_t len)
{
	unsigned f = 0;

	if (memchr(l, '%', len))
		f |= ADDR_F_PERCENT;
	if (memchr(l, '!', len))
		f |= ADDR_F_BANG;
	if (memchr(l, '@', len))
		f |= ADDR_F_MULTI_AT;
	return f;
}

/* parse_local - local part (quoted string or atoms) into out->addr */
static int parse_local(const char *s, size_t len, struct addr_path *out,
		       const char **err)
{
	if (len == 0) {
		*err = "empty local part";
		return -1;
	}
	if (s[0] == '"') {
		size_t used = parse_quoted(s, len, &out->addr, err);

		if (used == 0)
			return -1;
		if (used != len) {
			*err = "text after quoted local part";
			return -1;
		}
		out->flags |= ADDR_F_QUOTED;
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c != '@' && c < 0x80 && is_special(c)) {
			*err = c == '"' ? "quote inside local part" : "bad character in local part";
			return -1;
		}
	}
	buf_append(&out->addr, s, len);
	return 0;
}

/* addr_parse_mailbox - "local@domain" (no brackets) into out */
int addr_parse_mailbox(const char *in, size_t len, struct addr_path *out,
		       const char **err)
{
	size_t at;

	buf_reset(&out->addr);
	out->flags &= ~(ADDR_F_QUOTED | ADDR_F_PERCENT | ADDR_F_BANG | ADDR_F_MULTI_AT |
			ADDR_F_NODOMAIN | ADDR_F_LITERAL | ADDR_F_8BIT);
	if (len > ADDR_MAX_LEN) {
		*err = "address too long";
		return -1;
	}
	if (has_ctl(in, len)) {
		*err = "control character in address";
		return -1;
	}
	if (!addr_utf8_valid(in, len)) {
		*err = "malformed UTF-8 in address";
		return -1;
	}
	at = last_at(in, len);
	if (parse_local(in, at, out, err) < 0)
		return -1;
	out->local_len = out->addr.len;
	out->flags |= local_flags(out->addr.data, out->addr.len);
	if (at == len) {
		/* "user@host" quoted with no domain would read back as a domain. */
		if (out->flags & ADDR_F_MULTI_AT) {
			*err = "'@' in local part without domain";
			return -1;
		}
		out->flags |= ADDR_F_NODOMAIN;
	} else {
		const char *d = in + at + 1;
		size_t dl = len - at - 1;

		if (dl > 1 && d[dl - 1] == '.' && d[0] != '[')
			dl--;
		if (!addr_domain_valid(d, dl, true)) {
			*err = dl == 0 ? "empty domain" : "bad domain syntax";
			return -1;
		}
		if (d[0] == '[')
			out->flags |= ADDR_F_LITERAL;
		buf_putc(&out->addr, '@');
		buf_append(&out->addr, d, dl);
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)in[i] >= 0x80)
			out->flags |= ADDR_F_8BIT;
	return 0;
}

/* parse_route - "@a,@b:" at s; returns bytes used (through ':') or 0 */
static size_t parse_route(const char *s, size_t len, struct buf *route,
			  const char **err)
{
	size_t i = 0;

	for (;;) {
		size_t start;

		if (i >= len || s[i] != '@') {
			*err = "bad source route";
			return 0;
		}
		start = ++i;
		while (i < len && s[i] != ',' && s[i] != ':' && s[i] != '>')
			i++;
		if (!addr_domain_valid(s + start, i - start, false)) {
			*err = "bad domain in source route";
			return 0;
		}
		if (route->len)
			buf_putc(route, ',');
		buf_append(route, s + start - 1, i - start + 1);
		if (i < len && s[i] == ':')
			return i + 1;
		if (i >= len || s[i] != ',') {
			*err = "bad source route";
			return 0;
		}
		i++;
	}
}

/* mailbox_end - end of a mailbox in a path: '>' (bracketed) or space */
static size_t mailbox_end(const char *s, size_t len, bool bracketed)
{
	bool q = false;
	size_t i;

	for (i = 0; i < len; i++) {
		if (q && s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == '"')
			q = !q;
		else if (!q && bracketed && s[i] == '>')
			return i;
		else if (!q && !bracketed && (s[i] == ' ' || s[i] == '\t'))
			return i;
	}
	return bracketed ? len + 1 : len;
}

/* addr_parse_path - RFC 5321 Path or Reverse-path plus what follows */
int addr_parse_path(const char *in, unsigned pflags, struct addr_path *out,
		    const char **rest, const char **err)
{
	const char *s = in;
	size_t len, end;
	bool bracketed;

	buf_reset(&out->addr);
	buf_reset(&out->route);
	out->flags = 0;
	out->local_len = 0;
	if (!(pflags & ADDR_P_STRICT))
		while (*s == ' ' || *s == '\t')
			s++;
	len = strlen(s);
	bracketed = *s == '<';
	if (!bracketed && (pflags & ADDR_P_STRICT)) {
		*err = "address must be enclosed in <>";
		return -1;
	}
	if (bracketed) {
		s++;
		len--;
		out->flags |= ADDR_F_BRACKETS;
		if (len && *s == '@') {
			size_t used = parse_route(s, len, &out->route, err);

			if (used == 0)
				return -1;
			out->flags |= ADDR_F_ROUTE;
			s += used;
			len -= used;
		}
	}
	end = mailbox_end(s, len, bracketed);
	if (end > len) {
		*err = "missing closing '>'";
		return -1;
	}
	if (end == 0) {
		if (!bracketed) {
			*err = "empty address";
			return -1;
		}
		if (out->flags & ADDR_F_ROUTE) {
			*err = "source route without mailbox";
			return -1;
		}
		out->flags |= ADDR_F_NULL;
	} else if (addr_parse_mailbox(s, end, out, err) < 0) {
		return -1;
	}
	s += end + (bracketed ? 1 : 0);
	if (*s && *s != ' ' && *s != '\t') {
		*err = bracketed ? "text after closing '>'" : "bad address syntax";
		return -1;
	}
	if (rest)
		*rest = s;
	return 0;
}

/* needs_quote - local part that cannot be written as a dot-atom */
static bool needs_quote(const char *l, size_t len)
{
	if (len == 0)
		return true;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)l[i];

		if (c < 0x80 && (is_special(c) || c == '@'))
			return true;
	}
	return false;
}

/* addr_external - internal form back to RFC 5321 text (quotes restored) */
void addr_external(const char *internal, struct buf *out)
{
	const char *at = strrchr(internal, '@');
	size_t ll = at ? (size_t)(at - internal) : strlen(internal);

	buf_reset(out);
	if (*internal == '\0')
		return;
	if (!needs_quote(internal, ll)) {
		buf_puts(out, internal);
		return;
	}
	buf_putc(out, '"');
	for (size_t i = 0; i < ll; i++) {
		if (internal[i] == '"' || internal[i] == '\\')
			buf_putc(out, '\\');
		buf_putc(out, internal[i]);
	}
	buf_putc(out, '"');
	if (at)
		buf_puts(out, at);
}

/* list_flush - push one trimmed element of an address list */
static void list_flush(struct buf *cur, struct strv *out)
{
	char *t;

	if (cur->data == NULL)
		return;
	t = str_trim(cur->data);
	if (*t)
		strv_push(out, t);
	buf_reset(cur);
}

/* addr_list_split - RFC 5322 list: commas outside quotes, <>, () and [] */
int addr_list_split(const char *in, struct strv *out, const char **err)
{
	struct buf cur = BUF_INIT;
	int angle = 0, paren = 0;
	bool q = false, lit = false;

	for (const char *p = in; *p; p++) {
		if ((q || paren) && *p == '\\' && p[1]) {
			buf_putc(&cur, *p++);
		} else if (q) {
			q = *p != '"';
		} else if (paren) {
			paren += (*p == '(') - (*p == ')');
		} else if (lit) {
			lit = *p != ']';
		} else if (*p == '"') {
			q = true;
		} else if (*p == '(') {
			paren = 1;
		} else if (*p == '[') {
			lit = true;
		} else if (*p == '<') {
			angle++;
		} else if (*p == '>') {
			angle--;
		} else if (*p == ',' && angle == 0) {
			list_flush(&cur, out);
			continue;
		}
		buf_putc(&cur, *p);
	}
	if (q || paren || lit || angle) {
		buf_free(&cur);
		*err = q ? "unbalanced quote" : paren ? "unbalanced parenthesis"
		       : lit ? "unbalanced '['" : "unbalanced '<>'";
		return -1;
	}
	list_flush(&cur, out);
	buf_free(&cur);
	return 0;
}
