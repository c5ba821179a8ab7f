/*
 * smtp_reply - reading what a remote SMTP/LMTP server says: multi-line
 * replies ("250-…" … "250 …") assembled into one code and one text line,
 * and the EHLO keywords the client cares about.
 *
 * The input is untrusted (any server on the Internet), so every line is
 * checked: three digits 200-599, then ' ', '-' or the end; a continuation
 * line must carry the same code. A reply is capped at SMTP_REPLY_MAX
 * bytes of text (the rest is dropped, the reply still counts).
 *
 * Public: smtp_reply_init, smtp_reply_free, smtp_reply_reset,
 * smtp_reply_line, smtp_ehlo_parse, smtp_reply_dsn.
 * Bad input: smtp_reply_line returns -1 for a malformed line.
 */
#include "deliver/smtp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SMTP_REPLY_MAX	4096

/* smtp_reply_init - empty reply */
void smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->text);
	buf_init(&r->lines);
}

/* smtp_reply_free - release */
void smtp_reply_free(struct smtp_reply *r)
{
	buf_free(&r->text);
	buf_free(&r->lines);
}

/* smtp_reply_reset - ready for the next reply */
void smtp_reply_reset(struct smtp_reply *r)
{
	r->code = 0;
	buf_reset(&r->text);
	buf_reset(&r->lines);
}

/* smtp_reply_line - one line without its CRLF: 1 complete, 0 more to come, -1 malformed */
int smtp_reply_line(struct smtp_reply *r, const char *line, size_t len)
{
	int code;

	if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9'
	    || line[2] < '0' || line[2] > '9' || (len > 3 && line[3] != ' ' && line[3] != '-'))
		return -1;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->code != 0 && code != r->code)
		return -1;
	r->code = code;
	if (r->text.len == 0) {
		buf_append(&r->text, line, len < SMTP_REPLY_MAX ? len : SMTP_REPLY_MAX);
		if (r->text.len > 3)
			r->text.data[3] = ' ';
	} else if (len > 4 && r->text.len < SMTP_REPLY_MAX) {
		buf_putc(&r->text, ' ');
		buf_append(&r->text, line + 4,
			   len - 4 < SMTP_REPLY_MAX - r->text.len ? len - 4 : SMTP_REPLY_MAX - r->text.len);
	}
	for (size_t i = 0; i < r->text.len; i++)	/* no NULs inside the text */
		if (r->text.data[i] == 0)
			r->text.data[i] = ' ';
	if (r->lines.len < 4 * SMTP_REPLY_MAX) {
		buf_append(&r->lines, line, len);
		buf_putc(&r->lines, '\n');
	}
	return len > 3 && line[3] == '-' ? 0 : 1;
}

/* word_is - keyword at p, followed by end, space or '=' */
static bool word_is(const char *p, const char *kw)
{
	size_t n = strlen(kw);

	return strncasecmp(p, kw, n) == 0 && (p[n] == 0 || p[n] == ' ' || p[n] == '=');
}

/* smtp_ehlo_parse - the keywords of an EHLO/LHLO reply's lines */
void smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ehlo *e)
{
	const char *p = buf_cstr(&r->lines), *end = p + r->lines.len;

	e->pipelining = e->dsn = e->eightbit = e->smtputf8 = e->starttls = e->size_ext = false;
	e->size_limit = 0;
	buf_reset(&e->mechs);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		struct buf kw = BUF_INIT;

		if (eol == NULL)
			eol = end;
		if (eol - p > 4)
			buf_append(&kw, p + 4, (size_t)(eol - p - 4));
		if (word_is(buf_cstr(&kw), "PIPELINING"))
			e->pipelining = true;
		else if (word_is(buf_cstr(&kw), "DSN"))
			e->dsn = true;
		else if (word_is(buf_cstr(&kw), "8BITMIME"))
			e->eightbit = true;
		else if (word_is(buf_cstr(&kw), "SMTPUTF8"))
			e->smtputf8 = true;
		else if (word_is(buf_cstr(&kw), "STARTTLS"))
			e->starttls = true;
		else if (word_is(buf_cstr(&kw), "SIZE")) {
			e->size_ext = true;
			e->size_limit = kw.len > 5 ? strtol(kw.data + 5, NULL, 10) : 0;
			if (e->size_limit < 0)
				e->size_limit = 0;
		} else if (word_is(buf_cstr(&kw), "AUTH") && kw.len > 5) {
			buf_append(&e->mechs, kw.data + 5, kw.len - 5);
			buf_putc(&e->mechs, ' ');
		}
		buf_free(&kw);
		p = eol + 1;
	}
}

/* smtp_reply_dsn - the enhanced code of a reply, or one made from its class */
void smtp_reply_dsn(int code, const char *text, char dsn[16])
{
	const char *p = text;
	int a, b, c, n = 0;

	if (strlen(p) > 4)
		p += 4;
	if (sscanf(p, "%1d.%3d.%3d%n", &a, &b, &c, &n) == 3 && n > 0
	    && (p[n] == ' ' || p[n] == 0) && a == code / 100 && (a == 2 || a == 4 || a == 5)) {
		snprintf(dsn, 16, "%d.%d.%d", a, b, c);
		return;
	}
	snprintf(dsn, 16, "%d.0.0", code / 100 == 2 ? 2 : code / 100 == 5 ? 5 : 4);
}
