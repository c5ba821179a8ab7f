/*
 * header - RFC 5322 header lines and lenient address-list parsing.
 *
 * Public: header_name_len, header_value_offset, header_find,
 * header_classify, header_unfold, header_addrs_parse, header_addrs_free,
 * header_addr_internalize, header_addr_externalize, header_addr_split,
 * header_phrase_externalize.
 *
 * Bad input: none is fatal. A line that is not "Name:" has a name length
 * of 0; unbalanced quotes, comments and brackets run to the end of text.
 */
#include "mail/header.h"

#include <string.h>
#include <strings.h>

#include "lib/mem.h"

/* Well-known headers; the flags follow what Postfix's cleanup does. */
static const struct header_info header_table[] = {
	{ "Apparently-To", HDR_APPARENTLY_TO, HDR_F_RECIPIENT },
	{ "Bcc", HDR_BCC, HDR_F_RECIPIENT | HDR_F_DROP | HDR_F_EXTRACT },
	{ "Cc", HDR_CC, HDR_F_RECIPIENT | HDR_F_EXTRACT },
	{ "Content-Description", HDR_CONTENT_DESCRIPTION, HDR_F_MIME },
	{ "Content-Disposition", HDR_CONTENT_DISPOSITION, HDR_F_MIME },
	{ "Content-ID", HDR_CONTENT_ID, HDR_F_MIME },
	{ "Content-Length", HDR_CONTENT_LENGTH, HDR_F_DROP },
	{ "Content-Transfer-Encoding", HDR_CONTENT_TRANSFER_ENCODING, HDR_F_MIME },
	{ "Content-Type", HDR_CONTENT_TYPE, HDR_F_MIME },
	{ "Date", HDR_DATE, 0 },
	{ "Delivered-To", HDR_DELIVERED_TO, 0 },
	{ "Disposition-Notification-To", HDR_DISP_NOTIFICATION_TO, HDR_F_SENDER },
	{ "Errors-To", HDR_ERRORS_TO, HDR_F_SENDER },
	{ "From", HDR_FROM, HDR_F_SENDER },
	{ "Mail-Followup-To", HDR_MAIL_FOLLOWUP_TO, HDR_F_SENDER },
	{ "Mail-Reply-To", HDR_MAIL_REPLY_TO, 0 },
	{ "Message-ID", HDR_MESSAGE_ID, 0 },
	{ "MIME-Version", HDR_MIME_VERSION, HDR_F_MIME },
	{ "Received", HDR_RECEIVED, 0 },
	{ "Reply-To", HDR_REPLY_TO, HDR_F_SENDER },
	{ "Resent-Bcc", HDR_RESENT_BCC, HDR_F_RECIPIENT | HDR_F_RESENT | HDR_F_DROP | HDR_F_EXTRACT },
	{ "Resent-Cc", HDR_RESENT_CC, HDR_F_RECIPIENT | HDR_F_RESENT | HDR_F_EXTRACT },
	{ "Resent-Date", HDR_RESENT_DATE, HDR_F_RESENT },
	{ "Resent-From", HDR_RESENT_FROM, HDR_F_SENDER | HDR_F_RESENT },
	{ "Resent-Message-ID", HDR_RESENT_MESSAGE_ID, HDR_F_RESENT },
	{ "Resent-Reply-To", HDR_RESENT_REPLY_TO, HDR_F_SENDER | HDR_F_RESENT },
	{ "Resent-Sender", HDR_RESENT_SENDER, HDR_F_SENDER | HDR_F_RESENT },
	{ "Resent-To", HDR_RESENT_TO, HDR_F_RECIPIENT | HDR_F_RESENT | HDR_F_EXTRACT },
	{ "Return-Path", HDR_RETURN_PATH, HDR_F_SENDER | HDR_F_DROP },
	{ "Return-Receipt-To", HDR_RETURN_RECEIPT_TO, HDR_F_SENDER },
	{ "Sender", HDR_SENDER, HDR_F_SENDER },
	{ "To", HDR_TO, HDR_F_RECIPIENT | HDR_F_EXTRACT },
	{ "X-Original-To", HDR_X_ORIGINAL_TO, 0 },
};

/* header_name_len - length of the field name when line starts a header */
size_t header_name_len(const char *line, size_t len)
{
	size_t i = 0, name_end;

	while (i < len && line[i] > 32 && line[i] < 127 && line[i] != ':')
		i++;
	if (i == 0 || i == len)
		return 0;
	name_end = i;
	/* obsolete syntax: white space between the name and the colon */
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] != ':')
		return 0;
	return name_end;
}

/* header_value_offset - where the value starts: after the colon and blanks */
size_t header_value_offset(const char *line, size_t len)
{
	size_t i;

	if (header_name_len(line, len) == 0)
		return 0;
	i = (size_t)((const char *)memchr(line, ':', len) - line) + 1;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i;
}

/* header_find - the table entry for a field name, any case; NULL if unknown */
const struct header_info *header_find(const char *name, size_t len)
{
	size_t lo = 0, hi = sizeof(header_table) / sizeof(header_table[0]);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *n = header_table[mid].name;
		size_t nlen = strlen(n);
		int cmp = strncasecmp(name, n, len < nlen ? len : nlen);

		if (cmp == 0)
			cmp = len < nlen ? -1 : len > nlen ? 1 : 0;
		if (cmp == 0)
			return &header_table[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* header_classify - header_find() on the name that starts a header line */
const struct header_info *header_classify(const char *line, size_t len)
{
	size_t n = header_name_len(line, len);

	return n ? header_find(line, n) : NULL;
}

/* header_unfold - drop each line break that is followed by white space */
void header_unfold(const char *text, size_t len, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
			continue;
		if (text[i] == '\n' && i + 1 < len &&
		    (text[i + 1] == ' ' || text[i + 1] == '\t'))
			continue;
		buf_putc(out, text[i]);
	}
}

/* Address-list tokens. */
enum tok_type { TOK_ATOM, TOK_QSTRING, TOK_COMMENT, TOK_LITERAL, TOK_SPECIAL };

struct tok {
	enum tok_type type;
	size_t start;		/* span in the source, delimiters included */
	size_t end;
	char c;			/* TOK_SPECIAL: the character */
};

struct toks {
	struct tok *v;
	size_t n;
	size_t cap;
};

/* tok_push - append one token */
static void tok_push(struct toks *t, enum tok_type type, size_t start,
		     size_t end, char c)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	t->v[t->n++] = (struct tok){ type, start, end, c };
}

/* skip_delimited - end of a quoted string or literal starting at i */
static size_t skip_delimited(const char *s, size_t len, size_t i, char close)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == close)
			return i + 1;
	}
	return len;
}

/* skip_comment - end of a (possibly nested) comment starting at i */
static size_t skip_comment(const char *s, size_t len, size_t i)
{
	int depth = 0;

	for (; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && --depth == 0)
			return i + 1;
	}
	return len;
}

/* tokenize - split an address list into RFC 822 tokens (white space dropped) */
static void tokenize(const char *s, size_t len, struct toks *t)
{
	static const char specials[] = "<>@,;:.";
	size_t i = 0, j;

	while (i < len) {
		char c = s[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			i++;
		} else if (c == '"') {
			j = skip_delimited(s, len, i, '"');
			tok_push(t, TOK_QSTRING, i, j, 0);
			i = j;
		} else if (c == '[') {
			j = skip_delimited(s, len, i, ']');
			tok_push(t, TOK_LITERAL, i, j, 0);
			i = j;
		} else if (c == '(') {
			j = skip_comment(s, len, i);
			tok_push(t, TOK_COMMENT, i, j, 0);
			i = j;
		} else if (strchr(specials, c) != NULL && c != '\0') {
			tok_push(t, TOK_SPECIAL, i, i + 1, c);
			i++;
		} else {
			for (j = i; j < len; j++) {
				c = s[j];
				if (c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
				    c == '"' || c == '(' || c == '[' ||
				    (strchr(specials, c) != NULL && c != '\0'))
					break;
			}
			tok_push(t, TOK_ATOM, i, j, 0);
			i = j;
		}
	}
}

/* is_special - token t is the special character c */
static bool is_special(const struct tok *t, char c)
{
	return t->type == TOK_SPECIAL && t->c == c;
}

/* append_internal - a token's text in internal form (quotes removed) */
static void append_internal(const char *s, const struct tok *t, struct buf *out)
{
	size_t i = t->start, end = t->end;

	if (t->type != TOK_QSTRING) {
		buf_append(out, s + i, end - i);
		return;
	}
	i++;
	if (end > i && s[end - 1] == '"' && end - 1 >= i)
		end--;
	for (; i < end; i++) {
		if (s[i] == '\\' && i + 1 < end)
			i++;
		buf_putc(out, s[i]);
	}
}

/* emit_addr - add the address made of tokens [a, b) to the list */
static void emit_addr(const char *s, const struct toks *t, size_t a, size_t b,
		      bool angle, size_t lt, size_t gt, struct header_addrs *out)
{
	struct buf addr = BUF_INIT;
	size_t first = (size_t)-1, last = 0;

	for (size_t i = a; i < b; i++) {
		if (t->v[i].type == TOK_COMMENT)
			continue;
		if (first == (size_t)-1)
			first = i;
		last = i;
		append_internal(s, &t->v[i], &addr);
	}
	if (first == (size_t)-1 && !angle) {
		buf_free(&addr);
		return;
	}
	if (out->n == out->cap) {
		out->cap = out->cap ? 2 * out->cap : 4;
		out->v = xreallocarray(out->v, out->cap, sizeof(*out->v));
	}
	struct header_addr *it = &out->v[out->n++];
	it->addr = addr.data ? buf_steal(&addr) : xstrdup("");
	it->angle = angle;
	if (first == (size_t)-1) {
		it->start = lt;
		it->end = gt;
	} else {
		it->start = t->v[first].start;
		it->end = t->v[last].end;
	}
}

/* parse_entry - one comma-separated entry: phrase <addr> or a bare addr-spec */
static void parse_entry(const char *s, size_t len, const struct toks *t,
			size_t a, size_t b, struct header_addrs *out)
{
	size_t lt = (size_t)-1, gt = b;

	for (size_t i = a; i < b; i++) {
		if (is_special(&t->v[i], '<')) {
			lt = i;
			break;
		}
	}
	if (lt == (size_t)-1) {
		emit_addr(s, t, a, b, false, 0, 0, out);
		return;
	}
	for (size_t i = lt + 1; i < b; i++) {
		if (is_special(&t->v[i], '>')) {
			gt = i;
			break;
		}
	}
	/* source route "<@a,@b:user@d>": the addr-spec follows the last ':' */
	size_t from = lt + 1;
	for (size_t i = lt + 1; i < gt; i++)
		if (is_special(&t->v[i], ':'))
			from = i + 1;
	emit_addr(s, t, from, gt, true, t->v[lt].end,
		  gt < b ? t->v[gt].start : len, out);
}

/* header_addrs_parse - append each address of an RFC 822 address list to out */
void header_addrs_parse(const char *text, size_t len, struct header_addrs *out)
{
	struct toks t = { NULL, 0, 0 };
	size_t entry = 0;
	int angle_depth = 0;

	tokenize(text, len, &t);
	for (size_t i = 0; i <= t.n; i++) {
		if (i < t.n) {
			if (is_special(&t.v[i], '<'))
				angle_depth++;
			else if (is_special(&t.v[i], '>') && angle_depth > 0)
				angle_depth--;
			if (angle_depth > 0)
				continue;
			if (is_special(&t.v[i], ':')) {
				/* "group: a, b;" - the phrase before ':' is no address */
				entry = i + 1;
				continue;
			}
			if (!is_special(&t.v[i], ',') && !is_special(&t.v[i], ';'))
				continue;
		}
		if (i > entry)
			parse_entry(text, len, &t, entry, i, out);
		entry = i + 1;
	}
	free(t.v);
}

/* header_addrs_free - release every address and the vector */
void header_addrs_free(struct header_addrs *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].addr);
	xfree(&l->v);
	l->n = l->cap = 0;
}

/* header_addr_internalize - external (RFC 5321/5322) form to internal form */
void header_addr_internalize(const char *ext, struct buf *out)
{
	struct toks t = { NULL, 0, 0 };
	size_t len = strlen(ext);

	buf_reset(out);
	tokenize(ext, len, &t);
	for (size_t i = 0; i < t.n; i++)
		if (t.v[i].type != TOK_COMMENT)
			append_internal(ext, &t.v[i], out);
	free(t.v);
}

/* local_needs_quotes - whether a local part is not a dot-atom */
static bool local_needs_quotes(const char *s, size_t len)
{
	static const char atext_extra[] = "!#$%&'*+-/=?^_`{|}~";

	if (len == 0)
		return false;
	if (s[0] == '.' || s[len - 1] == '.')
		return true;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.' && i + 1 < len && s[i + 1] == '.')
			return true;
		if (c >= 128 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' ||
		    (c != 0 && strchr(atext_extra, c) != NULL))
			continue;
		return true;
	}
	return false;
}

/* header_addr_externalize - internal form to external form (quote the local part) */
void header_addr_externalize(const char *intl, struct buf *out)
{
	const char *at = strrchr(intl, '@');
	size_t llen = at ? (size_t)(at - intl) : strlen(intl);

	buf_reset(out);
	if (!local_needs_quotes(intl, llen)) {
		buf_puts(out, intl);
		return;
	}
	buf_putc(out, '"');
	for (size_t i = 0; i < llen; i++) {
		if (intl[i] == '"' || intl[i] == '\\')
			buf_putc(out, '\\');
		buf_putc(out, intl[i]);
	}
	buf_putc(out, '"');
	if (at)
		buf_puts(out, at);
}

/* header_addr_split - local part and domain at the last '@' (domain "" if none) */
void header_addr_split(const char *addr, struct buf *local, struct buf *domain)
{
	const char *at = strrchr(addr, '@');

	buf_reset(local);
	buf_reset(domain);
	if (at == NULL) {
		buf_puts(local, addr);
		return;
	}
	buf_append(local, addr, (size_t)(at - addr));
	buf_puts(domain, at + 1);
}

#define HEADER_FOLD_COLUMNS 69	/* recorded from Postfix 3.7's cleanup */

/* Rendering state for header_addrs_render(). */
struct render {
	struct buf seg;		/* current comma-separated segment */
	struct buf *out;
	size_t line_len;	/* columns on the current output line */
	bool prev_word;		/* last unit was a word (atom, quoted, comment, address) */
	bool prev_spaced;	/* last unit was ',' or a group ':' */
};

/* render_unit - one word or operator, with Postfix's spacing rule */
static void render_unit(struct render *r, const char *text, size_t len,
			bool word, char op, bool spaced_after)
{
	if (r->seg.len > 0 && (r->prev_spaced || op == '<' || (r->prev_word && word)))
		buf_putc(&r->seg, ' ');
	buf_append(&r->seg, text, len);
	r->prev_word = word;
	r->prev_spaced = spaced_after;
}

/* render_flush - append the segment to the output, folding if too long */
static void render_flush(struct render *r, bool had_prev)
{
	if (r->seg.len == 0)
		return;
	if (had_prev) {
		if (r->line_len + 1 + r->seg.len > HEADER_FOLD_COLUMNS) {
			buf_puts(r->out, "\n\t");
			r->line_len = 1;
		} else {
			buf_putc(r->out, ' ');
			r->line_len++;
		}
	}
	buf_append(r->out, r->seg.data, r->seg.len);
	r->line_len += r->seg.len;
	buf_reset(&r->seg);
}

/* addr_index - the address whose addr-spec span holds token t, or -1 */
static long addr_index(const struct header_addrs *l, const struct tok *t)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].end > l->v[i].start && t->start >= l->v[i].start &&
		    t->end <= l->v[i].end)
			return (long)i;
	return -1;
}

/* header_addrs_render - "Name: list" again with repl[i] (or the parsed
 * address) in place of address i; l must come from parsing the value of
 * this same line (spans relative to the value start) */
void header_addrs_render(const char *line, size_t len,
			 const struct header_addrs *l, char *const *repl,
			 struct buf *out)
{
	size_t colon = (size_t)((const char *)memchr(line, ':', len) - line);
	const char *val = line + colon + 1;
	size_t vlen = len - colon - 1;
	struct toks t = { NULL, 0, 0 };
	struct render r = { BUF_INIT, out, 0, false, false };
	struct buf ext = BUF_INIT;
	long last_addr = -1;
	int angle = 0;
	bool segs = false;

	buf_reset(out);
	buf_append(out, line, header_name_len(line, len));
	buf_puts(out, ": ");
	r.line_len = out->len;
	tokenize(val, vlen, &t);
	for (size_t i = 0; i < t.n; i++) {
		const struct tok *k = &t.v[i];
		long a = addr_index(l, k);

		if (a >= 0) {
			if (a != last_addr) {
				header_addr_externalize(repl && repl[a] ? repl[a] : l->v[a].addr,
							&ext);
				render_unit(&r, ext.data, ext.len, true, '\0', false);
				last_addr = a;
			}
			continue;
		}
		if (k->type == TOK_SPECIAL) {
			if (k->c == '<')
				angle++;
			else if (k->c == '>' && angle > 0)
				angle--;
			else if (angle > 0)
				continue;	/* source route inside <> */
			render_unit(&r, &k->c, 1, false, k->c,
				    angle == 0 && (k->c == ':' || k->c == ','));
			if (k->c == ',' && angle == 0) {
				render_flush(&r, segs);
				segs = true;
			}
			continue;
		}
		if (angle > 0)
			continue;	/* route words inside <> */
		render_unit(&r, val + k->start, k->end - k->start, true, '\0', false);
	}
	render_flush(&r, segs);
	buf_free(&r.seg);
	buf_free(&ext);
	free(t.v);
}

/* phrase_special - characters that make Postfix quote a whole display name:
 * RFC 5322 specials plus its own address operators '!' and '%' */
static bool phrase_special(unsigned char c)
{
	return c != 0 && strchr("()<>@,;:\\\".[]!%", c) != NULL;
}

/* phrase_word - one word of a plain display name; quoted when it holds a
 * control character, which an atom may not */
static void phrase_word(struct buf *out, const char *w, size_t n)
{
	bool ctl = false;

	for (size_t i = 0; i < n; i++)
		ctl |= (unsigned char)w[i] < ' ' || w[i] == 0x7f;
	if (out->len)
		buf_putc(out, ' ');
	if (ctl)
		buf_putc(out, '"');
	buf_append(out, w, n);
	if (ctl)
		buf_putc(out, '"');
}

/* header_phrase_externalize - a full name as the display name of a From:
 * header, the way Postfix writes it: line breaks become spaces (a name
 * never starts a new header); with a special character the whole name is
 * one quoted string, " and \\ escaped, spacing kept; otherwise its words
 * joined by single spaces. The result may be empty (a blank name). */
void header_phrase_externalize(const char *name, struct buf *out)
{
	bool special = false;
	const char *p;

	buf_reset(out);
	for (p = name; *p; p++)
		special |= phrase_special((unsigned char)*p);
	if (special) {
		buf_putc(out, '"');
		for (p = name; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_putc(out, '\\');
			buf_putc(out, *p == '\r' || *p == '\n' ? ' ' : *p);
		}
		buf_putc(out, '"');
		return;
	}
	for (p = name; *p;) {
		size_t n = strcspn(p, " \t\r\n");

		if (n)
			phrase_word(out, p, n);
		p += n;
		p += strspn(p, " \t\r\n");
	}
}
