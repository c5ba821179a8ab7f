/*
 * header - RFC 5322 message headers and address lists, as cleanup, sendmail
 * -t and the header checks need them.
 *
 * Header lines: header_name_len() recognises "Name:" (also the obsolete
 * "Name :"), header_find() classifies the well-known names (which ones
 * carry sender or recipient addresses, which ones cleanup drops or adds),
 * header_unfold() joins a folded header into one line.
 *
 * Address lists (From:, To:, virtual(5)/canonical(5) results) are parsed
 * leniently, as mail software has always done: quoted strings, comments,
 * domain literals, angle brackets, groups and source routes. Each address
 * comes back in internal form (quotes removed from the local part) with the
 * byte span of its addr-spec in the source text, so a caller can rewrite
 * an address in place and keep display names and comments as they were.
 *
 * header_addrs_render() writes an address header again after rewriting,
 * the way Postfix does: addresses re-quoted from internal form, one space
 * after commas and group colons, before '<' and between words, source
 * routes dropped, and the result folded at commas (tab continuation) when
 * a line would grow past 69 columns.
 *
 * Bad input never fails: an unbalanced quote, comment or bracket ends at
 * the end of the text, as Postfix's tokenizer does.
 */
#ifndef OUTPOST_MAIL_HEADER_H
#define OUTPOST_MAIL_HEADER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

enum header_id {
	HDR_OTHER = 0,
	HDR_APPARENTLY_TO,
	HDR_BCC,
	HDR_CC,
	HDR_CONTENT_DESCRIPTION,
	HDR_CONTENT_DISPOSITION,
	HDR_CONTENT_ID,
	HDR_CONTENT_LENGTH,
	HDR_CONTENT_TRANSFER_ENCODING,
	HDR_CONTENT_TYPE,
	HDR_DATE,
	HDR_DELIVERED_TO,
	HDR_DISP_NOTIFICATION_TO,
	HDR_ERRORS_TO,
	HDR_FROM,
	HDR_MAIL_FOLLOWUP_TO,
	HDR_MAIL_REPLY_TO,
	HDR_MESSAGE_ID,
	HDR_MIME_VERSION,
	HDR_RECEIVED,
	HDR_REPLY_TO,
	HDR_RESENT_BCC,
	HDR_RESENT_CC,
	HDR_RESENT_DATE,
	HDR_RESENT_FROM,
	HDR_RESENT_MESSAGE_ID,
	HDR_RESENT_REPLY_TO,
	HDR_RESENT_SENDER,
	HDR_RESENT_TO,
	HDR_RETURN_PATH,
	HDR_RETURN_RECEIPT_TO,
	HDR_SENDER,
	HDR_TO,
	HDR_X_ORIGINAL_TO,
};

/* header_info flags */
#define HDR_F_SENDER	(1u << 0)	/* addresses of the header_sender class */
#define HDR_F_RECIPIENT	(1u << 1)	/* addresses of the header_recipient class */
#define HDR_F_RESENT	(1u << 2)	/* a Resent-* header */
#define HDR_F_DROP	(1u << 3)	/* cleanup removes it (Bcc, Return-Path, …) */
#define HDR_F_MIME	(1u << 4)	/* a MIME header (mime_header_checks) */
#define HDR_F_EXTRACT	(1u << 5)	/* sendmail -t takes recipients from it */

struct header_info {
	const char *name;	/* canonical spelling, "Message-ID" */
	enum header_id id;
	unsigned flags;		/* HDR_F_* */
};

size_t header_name_len(const char *line, size_t len);
size_t header_value_offset(const char *line, size_t len);
const struct header_info *header_find(const char *name, size_t len);
const struct header_info *header_classify(const char *line, size_t len);
void header_unfold(const char *text, size_t len, struct buf *out);

/* One address of an address list. */
struct header_addr {
	char *addr;		/* internal form: "john doe@example.com", "" for <> */
	size_t start;		/* addr-spec span in the parsed text */
	size_t end;
	bool angle;		/* written as <addr-spec> */
};

struct header_addrs {
	struct header_addr *v;
	size_t n;
	size_t cap;
};

#define HEADER_ADDRS_INIT { NULL, 0, 0 }

void header_addrs_parse(const char *text, size_t len, struct header_addrs *out);
void header_addrs_free(struct header_addrs *l);

void header_addrs_render(const char *line, size_t len,
			 const struct header_addrs *l, char *const *repl,
			 struct buf *out);

void header_addr_internalize(const char *ext, struct buf *out);
void header_addr_externalize(const char *intl, struct buf *out);
void header_addr_split(const char *addr, struct buf *local, struct buf *domain);
/* header_phrase_externalize - a full name as a display name (may be empty) */
void header_phrase_externalize(const char *name, struct buf *out);

#endif
