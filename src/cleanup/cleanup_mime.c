/*
 * cleanup_mime - just enough MIME structure to tell which header checks
 * apply: multipart boundaries (nested), the header sections of body
 * parts, and the headers of attached messages (message/rfc822).
 *
 * Public (cleanup_impl.h): cleanup_mime_header, cleanup_mime_headers_end,
 * cleanup_mime_boundary.
 *
 * Bad input: none is fatal; a malformed Content-Type is simply not a
 * multipart, and boundaries nest at most CLEANUP_MIME_DEPTH deep (deeper
 * ones are treated as body text, as Postfix's mime_nesting_limit does).
 */
#include <string.h>
#include <strings.h>

#include "cleanup/cleanup_impl.h"
#include "lib/mem.h"
#include "mail/header.h"

#define CLEANUP_MIME_DEPTH 100

/* param_value - the value of parameter name in a Content-Type value */
static char *param_value(const char *v, const char *name)
{
	size_t nlen = strlen(name);

	for (const char *p = strchr(v, ';'); p; p = strchr(p + 1, ';')) {
		const char *q = p + 1;

		while (*q == ' ' || *q == '\t' || *q == '\n')
			q++;
		if (strncasecmp(q, name, nlen) != 0)
			continue;
		q += nlen;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q++ != '=')
			continue;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '"') {
			const char *end = strchr(q + 1, '"');

			return end ? xstrndup(q + 1, (size_t)(end - q - 1)) : xstrdup(q + 1);
		}
		return xstrndup(q, strcspn(q, "; \t\n\r"));
	}
	return NULL;
}

/* cleanup_mime_header - note the Content-Type of the section being read */
void cleanup_mime_header(struct cleanup *c, const char *hdr, size_t len)
{
	const struct header_info *h = header_classify(hdr, len);
	struct buf v = BUF_INIT;
	size_t off;

	if (h == NULL || h->id != HDR_CONTENT_TYPE)
		return;
	off = header_value_offset(hdr, len);
	header_unfold(hdr + off, len - off, &v);
	free(c->part_boundary);
	c->part_boundary = NULL;
	c->part_rfc822 = false;
	if (strncasecmp(buf_cstr(&v), "multipart/", 10) == 0)
		c->part_boundary = param_value(buf_cstr(&v), "boundary");
	else if (strncasecmp(buf_cstr(&v), "message/rfc822", 14) == 0)
		c->part_rfc822 = true;
	buf_free(&v);
}

/* cleanup_mime_headers_end - a header section ended: what follows it */
void cleanup_mime_headers_end(struct cleanup *c)
{
	if (c->part_boundary && *c->part_boundary &&
	    c->boundaries.n < CLEANUP_MIME_DEPTH) {
		strv_push(&c->boundaries, c->part_boundary);
		c->mime = MIME_BODY;
	} else if (c->part_rfc822) {
		c->mime = MIME_NESTED_HEADERS;
	} else {
		c->mime = MIME_BODY;
	}
	free(c->part_boundary);
	c->part_boundary = NULL;
	c->part_rfc822 = false;
}

/* cleanup_mime_boundary - a body line that opens a part ("--b") or closes
 * a multipart ("--b--"); true if it was one */
bool cleanup_mime_boundary(struct cleanup *c, const char *line, size_t len)
{
	if (len < 3 || line[0] != '-' || line[1] != '-')
		return false;
	for (size_t i = c->boundaries.n; i-- > 0;) {
		const char *b = c->boundaries.v[i];
		size_t blen = strlen(b);

		if (len < 2 + blen || memcmp(line + 2, b, blen) != 0)
			continue;
		/* inner multiparts end with their parent's boundary too */
		while (c->boundaries.n > i + 1) {
			free(c->boundaries.v[--c->boundaries.n]);
			c->boundaries.v[c->boundaries.n] = NULL;
		}
		if (len >= 4 + blen && line[2 + blen] == '-' && line[3 + blen] == '-') {
			free(c->boundaries.v[--c->boundaries.n]);
			c->boundaries.v[c->boundaries.n] = NULL;
			c->mime = MIME_BODY;
		} else {
			c->mime = MIME_PART_HEADERS;
		}
		return true;
	}
	return false;
}
