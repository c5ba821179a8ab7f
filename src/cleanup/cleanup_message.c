/*
 * cleanup_message - the content of one message: Received: on top, the
 * primary headers (checks, hop count, drops, address rewriting, missing
 * Message-ID/Date/From), then the body (body checks, size limit).
 *
 * Public (cleanup_impl.h): cleanup_start_content, cleanup_content_line,
 * cleanup_content_cont, cleanup_end_content, cleanup_write, cleanup_log_prefix.
 *
 * Bad input: a header longer than header_size_limit is cut there (the rest
 * is dropped, as Postfix does); a line that is not a header ends the
 * headers; too many Received: headers, too much content or a REJECT from
 * the checks mark the message and cleanup_finish() refuses it.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cleanup/cleanup_impl.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "mail/header.h"

/* write_bytes - content bytes into the queue file, within the size limit */
static void write_bytes(struct cleanup *c, const char *data, size_t len, bool newline)
{
	long limit = c->ccf->message_size_limit;

	c->size += (long)len + (newline ? 1 : 0);
	if (limit > 0 && c->size > limit && !(c->errs & CLEANUP_E_SIZE)) {
		c->errs |= CLEANUP_E_SIZE;
		log_warn("%s: message size %ld exceeds message_size_limit %ld", c->id,
			 c->size, limit);
	}
	if (c->errs & (CLEANUP_E_SIZE | CLEANUP_E_WRITE | CLEANUP_E_NOSPACE))
		return;
	/* the line break of the previous line goes out only now, so that the
	 * rest of an over-long line can still join it (cleanup_line_cont) */
	if ((newline && c->open_line && qfile_append(c->w, "\n", 1) < 0) ||
	    qfile_append(c->w, data, len) < 0) {
		int e = errno;

		c->errs |= (e == ENOSPC || e == EDQUOT) ? CLEANUP_E_NOSPACE : CLEANUP_E_WRITE;
		log_warn("%s: queue file write error: %s", c->id, strerror(e));
		return;
	}
	c->open_line = true;
}

/* cleanup_write - one content line into the queue file */
void cleanup_write(struct cleanup *c, const char *line, size_t len)
{
	write_bytes(c, line, len, true);
}

/* write_text - a possibly multi-line text, one line at a time */
static void write_text(struct cleanup *c, const char *text)
{
	const char *s = text;

	for (;;) {
		const char *nl = strchr(s, '\n');

		cleanup_write(c, s, nl ? (size_t)(nl - s) : strlen(s));
		if (nl == NULL)
			break;
		s = nl + 1;
	}
}

/* rfc2822_date - "Sun, 22 Nov 2026 02:42:42 +0000 (UTC)" */
static void rfc2822_date(time_t when, struct buf *out)
{
	struct tm tm;
	char tmp[128];

	localtime_r(&when, &tm);
	strftime(tmp, sizeof(tmp), "%a, %d %b %Y %H:%M:%S %z (%Z)", &tm);
	buf_puts(out, tmp);
}

/* received_header - Postfix's Received: for this client */
static void received_header(struct cleanup *c, struct buf *out)
{
	const char *host = c->server_name ? c->server_name : c->ccf->myhostname;

	buf_reset(out);
	if (c->local) {
		struct passwd *pw = c->local_user ? getpwnam(c->local_user) : NULL;

		buf_printf(out, "Received: by %s (Outpost", host);
		if (pw)
			buf_printf(out, ", from userid %ld", (long)pw->pw_uid);
		else if (c->local_user)
			buf_printf(out, ", from user %s", c->local_user);
		buf_printf(out, ")\n\tid %s; ", c->id);
		rfc2822_date(c->arrival.tv_sec, out);
		return;
	}
	{
		const char *addr = c->client_addr ? c->client_addr : "unknown";
		const char *name = c->client_name ? c->client_name : "unknown";

		buf_printf(out, "Received: from %s (%s [%s%s])", c->helo ? c->helo : name, name,
			   strchr(addr, ':') ? "IPv6:" : "", addr);
	}
	if (c->tls_summary && *c->tls_summary)
		buf_printf(out, "\n\t%s", c->tls_summary);
	if (c->sasl_username && c->ccf->sasl_authenticated_header)
		buf_printf(out, "\n\t(Authenticated sender: %s)", c->sasl_username);
	buf_printf(out, "\n\tby %s (Outpost) with %s id %s", host, c->proto, c->id);
	if (c->nrcpt == 1)
		buf_printf(out, "\n\tfor <%s>; ", c->rcpt[0].address);
	else
		buf_puts(out, ";\n\t");
	rfc2822_date(c->arrival.tv_sec, out);
}

/* feed_text - lines of our own headers through the header logic, as
 * Postfix's smtpd hands them to cleanup (header_checks see them, the
 * Received: counts as a hop) */
static void feed_text(struct cleanup *c, const char *text)
{
	for (const char *s = text;;) {
		const char *nl = strchr(s, '\n');

		cleanup_content_line(c, s, nl ? (size_t)(nl - s) : strlen(s));
		if (nl == NULL)
			break;
		s = nl + 1;
	}
}

/* cleanup_start_content - access PREPEND headers, then Received: */
void cleanup_start_content(struct cleanup *c)
{
	struct buf received = BUF_INIT;

	c->started = true;
	for (size_t i = 0; i < c->prepend.n; i++)
		feed_text(c, c->prepend.v[i]);
	received_header(c, &received);
	feed_text(c, buf_cstr(&received));
	buf_free(&received);
}

/* cleanup_log_prefix - "from host[addr]; from=<s> to=<r> proto=P helo=<h>",
 * with the last recipient given, as Postfix 3.7 logs it */
void cleanup_log_prefix(const struct cleanup *c, struct buf *out)
{
	const char *to = c->nrcpt ? c->rcpt[c->nrcpt - 1].address : "";

	if (c->local) {
		/* local submission: no proto= or helo= (Postfix 3.7) */
		buf_printf(out, "from local; from=<%s> to=<%s>", c->sender ? c->sender : "", to);
		return;
	}
	buf_printf(out, "from %s[%s]; from=<%s> to=<%s> proto=%s helo=<%s>",
		   c->client_name ? c->client_name : "unknown",
		   c->client_addr ? c->client_addr : "unknown", c->sender ? c->sender : "", to,
		   c->proto, c->helo ? c->helo : "");
}

/* note_seen - remember headers that decide what is added later */
static void note_seen(struct cleanup *c, const struct header_info *h)
{
	switch (h->id) {
	case HDR_FROM:
		c->seen |= HDR_SEEN_FROM;
		break;
	case HDR_DATE:
		c->seen |= HDR_SEEN_DATE;
		break;
	case HDR_MESSAGE_ID:
		c->seen |= HDR_SEEN_MESSAGE_ID;
		break;
	case HDR_RESENT_FROM:
		c->seen |= HDR_SEEN_RESENT_FROM;
		break;
	case HDR_RESENT_DATE:
		c->seen |= HDR_SEEN_RESENT_DATE;
		break;
	case HDR_RESENT_MESSAGE_ID:
		c->seen |= HDR_SEEN_RESENT_MSGID;
		break;
	case HDR_TO:
	case HDR_CC:
	case HDR_BCC:
		c->seen |= HDR_SEEN_TO;
		break;
	default:
		break;
	}
	if (h->flags & HDR_F_RESENT)
		c->seen |= HDR_SEEN_RESENT;
}

/* log_message_id - "QUEUEID: message-id=<…>" as Postfix logs it */
static void log_message_id(struct cleanup *c, const char *hdr, size_t len)
{
	size_t off = header_value_offset(hdr, len);
	struct buf v = BUF_INIT;

	header_unfold(hdr + off, len - off, &v);
	log_info("%s: message-id=%s", c->id, str_trim(v.data ? v.data : (char *)""));
	buf_free(&v);
}

/* rewrite_one - canonical/masquerade rewriting of an address header */
static void rewrite_one(struct cleanup *c, const struct header_info *h,
			struct buf *hdr)
{
	unsigned cls = (h->flags & HDR_F_SENDER) ? REWRITE_HDR_SENDER : REWRITE_HDR_RECIPIENT;
	struct buf out = BUF_INIT, why = BUF_INIT;
	bool changed = false;

	struct rewrite_cf *rw = c->rw;
	char *myorigin = rw->myorigin;
	bool dot = rw->append_dot_mydomain;
	int st;

	if (!c->local_client) {
		/* remote_header_rewrite_domain completes incomplete addresses */
		rw->myorigin = c->ccf->remote_header_rewrite_domain;
		rw->append_dot_mydomain = false;
	}
	st = rewrite_header(rw, cls, hdr->data, hdr->len, &out, &changed, &why);
	rw->myorigin = myorigin;
	rw->append_dot_mydomain = dot;
	if (st < 0) {
		log_warn("%s: %s", c->id, buf_cstr(&why));
		c->errs |= CLEANUP_E_DEFER;
		buf_set(&c->reject, CLEANUP_R_ALIAS);
	} else if (changed) {
		buf_set(hdr, buf_cstr(&out));
	}
	buf_free(&out);
	buf_free(&why);
}

/* process_header - one complete logical header of the primary headers */
static void process_header(struct cleanup *c)
{
	struct buf *hdr = &c->hdr;
	const struct header_info *h;
	struct buf replaced = BUF_INIT;

	if (hdr->len == 0)
		return;
	h = header_classify(hdr->data, hdr->len);
	switch (cleanup_check_header(c, hdr->data, hdr->len,
				     h && (h->flags & HDR_F_MIME) ? CHECK_MIME : CHECK_PRIMARY,
				     &replaced)) {
	case CHECK_DROP:
		buf_reset(hdr);
		buf_free(&replaced);
		return;
	case CHECK_REPLACED:
		buf_set(hdr, buf_cstr(&replaced));
		h = header_classify(hdr->data, hdr->len);
		break;
	case CHECK_KEEP:
		break;
	}
	buf_free(&replaced);
	cleanup_mime_header(c, hdr->data, hdr->len);
	if (h != NULL) {
		if (h->id == HDR_RECEIVED && ++c->hops >= c->ccf->hopcount_limit &&
		    !(c->errs & CLEANUP_E_HOPS)) {
			c->errs |= CLEANUP_E_HOPS;
			log_warn("%s: message rejected: hopcount exceeded", c->id);
		}
		if (h->flags & HDR_F_DROP) {
			buf_reset(hdr);
			return;
		}
		note_seen(c, h);
		if (c->rewrite_headers && (h->flags & (HDR_F_SENDER | HDR_F_RECIPIENT)))
			rewrite_one(c, h, hdr);
		if (h->id == HDR_MESSAGE_ID)
			log_message_id(c, hdr->data, hdr->len);
	}
	write_text(c, hdr->data);
	buf_reset(hdr);
}

/* message_id - "<YYYYMMDDhhmmss.QUEUEID@myhostname>" */
static void message_id(struct cleanup *c, struct buf *out)
{
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
	buf_printf(out, "<%s.%s@%s>", stamp, c->id, c->ccf->myhostname);
}

/* from_value - the address of an added From:, with the submitter's full
 * name when there is one: "Name <addr>", or "addr (Name)" for
 * header_from_format = obsolete (parentheses and backslashes escaped
 * there, so that an odd name cannot end the comment early) */
static void from_value(struct cleanup *c, const char *ext, bool named, struct buf *out)
{
	struct buf phrase = BUF_INIT;

	if (!named || c->full_name == NULL) {
		buf_puts(out, ext);
		return;
	}
	if (c->ccf->from_obsolete) {
		buf_printf(out, "%s (", ext);
		for (const char *p = c->full_name; *p; p++) {
			if (*p == '(' || *p == ')' || *p == '\\')
				buf_putc(out, '\\');
			buf_putc(out, *p == '\r' || *p == '\n' ? ' ' : *p);
		}
		buf_putc(out, ')');
		return;
	}
	header_phrase_externalize(c->full_name, &phrase);
	buf_printf(out, "%s%s<%s>", buf_cstr(&phrase), phrase.len ? " " : "", ext);
	buf_free(&phrase);
}

/* add_missing - Message-ID, Date and From (or their Resent- forms) */
static void add_missing(struct cleanup *c)
{
	bool resent = (c->seen & HDR_SEEN_RESENT) != 0;
	struct buf h = BUF_INIT, v = BUF_INIT;
	bool add = c->rewrite_headers || c->ccf->always_add_missing_headers;

	if (add && !(c->seen & (resent ? HDR_SEEN_RESENT_MSGID : HDR_SEEN_MESSAGE_ID))) {
		message_id(c, &v);
		buf_printf(&h, "%sMessage-Id: %s", resent ? "Resent-" : "", v.data);
		write_text(c, h.data);
		if (!resent)
			log_info("%s: message-id=%s", c->id, v.data);
		buf_reset(&h);
	} else if (!(c->seen & HDR_SEEN_MESSAGE_ID)) {
		log_info("%s: message-id=<>", c->id);
	}
	if (add && !(c->seen & (resent ? HDR_SEEN_RESENT_DATE : HDR_SEEN_DATE))) {
		buf_printf(&h, "%sDate: ", resent ? "Resent-" : "");
		rfc2822_date(c->arrival.tv_sec, &h);
		write_text(c, h.data);
		buf_reset(&h);
	}
	if (add && !(c->seen & (resent ? HDR_SEEN_RESENT_FROM : HDR_SEEN_FROM))) {
		struct buf addr = BUF_INIT, why = BUF_INIT, ext = BUF_INIT;

		if (c->sender == NULL || *c->sender == '\0') {
			buf_set(&ext, "MAILER-DAEMON");
		} else {
			(void)rewrite_address(c->rw, REWRITE_HDR_SENDER, c->sender, &addr,
					      &why);
			header_addr_externalize(buf_cstr(&addr), &ext);
		}
		buf_printf(&h, "%sFrom: ", resent ? "Resent-" : "");
		from_value(c, buf_cstr(&ext), *buf_cstr(&addr) != '\0', &h);
		write_text(c, h.data);
		buf_free(&addr);
		buf_free(&why);
		buf_free(&ext);
	}
	buf_free(&h);
	buf_free(&v);
}

/* append_header_line - a continuation line, within header_size_limit */
static void append_header_line(struct cleanup *c, const char *line, size_t len)
{
	long limit = c->ccf->header_size_limit;
	size_t room;

	if (c->hdr_truncated)
		return;
	if (c->hdr.len > 0)
		buf_putc(&c->hdr, '\n');
	room = limit > 0 && (long)c->hdr.len < limit ? (size_t)limit - c->hdr.len : len;
	if (limit > 0 && (long)c->hdr.len >= limit)
		room = 0;
	if (len > room) {
		len = room;
		c->hdr_truncated = true;
		log_info("%s: header exceeds header_size_limit %ld: cut", c->id, limit);
	}
	buf_append(&c->hdr, line, len);
}

/* end_headers - last header done: add what is missing, then the body */
static void end_headers(struct cleanup *c)
{
	process_header(c);
	add_missing(c);
	c->in_body = true;
	cleanup_mime_headers_end(c);
}

/* process_part_header - one header of a body part or attached message */
static void process_part_header(struct cleanup *c)
{
	struct buf *hdr = &c->hdr;
	const struct header_info *h;
	struct buf replaced = BUF_INIT;
	enum cleanup_check_result r = CHECK_KEEP;

	if (hdr->len == 0)
		return;
	h = header_classify(hdr->data, hdr->len);
	if (h && (h->flags & HDR_F_MIME))
		r = cleanup_check_header(c, hdr->data, hdr->len, CHECK_MIME, &replaced);
	else if (c->mime == MIME_NESTED_HEADERS)
		r = cleanup_check_header(c, hdr->data, hdr->len, CHECK_NESTED, &replaced);
	if (r == CHECK_REPLACED)
		buf_set(hdr, buf_cstr(&replaced));
	buf_free(&replaced);
	if (r != CHECK_DROP) {
		cleanup_mime_header(c, hdr->data, hdr->len);
		write_text(c, hdr->data);
	}
	buf_reset(hdr);
}

/* part_header_line - a line inside a part's (or attached message's) headers */
static void part_header_line(struct cleanup *c, const char *line, size_t len)
{
	if (len > 0 && (line[0] == ' ' || line[0] == '\t') && c->hdr.len > 0) {
		append_header_line(c, line, len);
		return;
	}
	process_part_header(c);
	c->hdr_truncated = false;
	if (len > 0 && header_name_len(line, len) > 0) {
		append_header_line(c, line, len);
		return;
	}
	cleanup_mime_headers_end(c);
	if (len > 0 && cleanup_mime_boundary(c, line, len)) {
		cleanup_write(c, line, len);
		return;
	}
	if (len == 0 || cleanup_check_body(c, line, len) == CHECK_KEEP)
		cleanup_write(c, line, len);
}

/* cleanup_content_line - route one line to the header or body logic */
int cleanup_content_line(struct cleanup *c, const char *line, size_t len)
{
	if (!c->in_body) {
		if (len > 0 && (line[0] == ' ' || line[0] == '\t') && c->hdr.len > 0) {
			append_header_line(c, line, len);
			return 0;
		}
		process_header(c);
		c->hdr_truncated = false;
		if (len > 0 && header_name_len(line, len) > 0) {
			append_header_line(c, line, len);
			return 0;
		}
		end_headers(c);
		cleanup_write(c, "", 0);	/* the separator (added before a non-header line) */
		if (len == 0)
			return 0;
	}
	if (c->mime == MIME_PART_HEADERS || c->mime == MIME_NESTED_HEADERS) {
		part_header_line(c, line, len);
		return 0;
	}
	if (cleanup_mime_boundary(c, line, len)) {
		cleanup_write(c, line, len);
		return 0;
	}
	/* a check that drops or replaces the line has written what replaces it */
	if (cleanup_check_body(c, line, len) == CHECK_KEEP)
		cleanup_write(c, line, len);
	return 0;
}

/* cleanup_content_cont - the rest of an over-long line: part of the
 * header being read, or more body text on the same line (body checks see
 * each piece, as Postfix's do with line_length_limit pieces) */
int cleanup_content_cont(struct cleanup *c, const char *text, size_t len)
{
	bool in_headers = !c->in_body || c->mime == MIME_PART_HEADERS ||
			  c->mime == MIME_NESTED_HEADERS;

	if (in_headers && c->hdr.len > 0) {
		long limit = c->ccf->header_size_limit;

		if (!c->hdr_truncated && limit > 0 && (long)(c->hdr.len + len) > limit) {
			len = (long)c->hdr.len < limit ? (size_t)limit - c->hdr.len : 0;
			c->hdr_truncated = true;
			log_info("%s: header exceeds header_size_limit %ld: cut", c->id, limit);
			buf_append(&c->hdr, text, len);
		} else if (!c->hdr_truncated) {
			buf_append(&c->hdr, text, len);
		}
		return 0;
	}
	if (in_headers)
		return cleanup_content_line(c, text, len);
	if (cleanup_check_body(c, text, len) == CHECK_KEEP)
		write_bytes(c, text, len, false);
	return 0;
}

/* cleanup_end_content - a message that ends inside its (part) headers */
void cleanup_end_content(struct cleanup *c)
{
	if (!c->in_body)
		end_headers(c);
	else if (c->mime == MIME_PART_HEADERS || c->mime == MIME_NESTED_HEADERS)
		process_part_header(c);
	if (c->open_line && !(c->errs & (CLEANUP_E_SIZE | CLEANUP_E_WRITE | CLEANUP_E_NOSPACE)))
		write_bytes(c, "", 0, true);
}
