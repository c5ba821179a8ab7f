/*
 * cleanup_checks - header_checks, mime_header_checks, nested_header_checks
 * and body_checks
 * (header_checks(5)): each logical header as one string (folded lines
 * joined with a newline), each body line on its own, looked up in
 * regexp:/pcre: tables; the action of the first match applies.
 *
 * Public (cleanup_impl.h): cleanup_checks_new, cleanup_checks_free,
 * cleanup_checks_any_body, cleanup_check_header, cleanup_check_body.
 *
 * Actions: REJECT [text], DISCARD [text], HOLD [text], IGNORE,
 * REPLACE text, PREPEND text, WARN text, INFO text, REDIRECT addr,
 * FILTER transport:nexthop, BCC addr, DUNNO, OK. Each one that has an
 * effect is logged as Postfix does: "QUEUEID: reject: header Subject: …
 * from host[addr]; from=<…> to=<…> proto=ESMTP helo=<…>: 5.7.1 text".
 *
 * Bad input: a table that cannot be opened fails cleanup_checks_new()
 * with the parameter named; an unknown action or a lookup failure is
 * logged as a warning and the message is kept for now (4xx) on failure.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cleanup/cleanup_impl.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "table/table.h"

struct cleanup_checks {
	struct table_list *header;
	struct table_list *mime;
	struct table_list *nested;
	struct table_list *body;
};

/* open_checks - one *_checks parameter; NULL when empty */
static int open_checks(struct config *cf, const char *name, struct table_list **out,
		       struct buf *err)
{
	const char *v = config_str(cf, name);
	struct buf why = BUF_INIT;

	*out = NULL;
	if (str_is_blank(v))
		return 0;
	if ((*out = table_list_open(v, 0, &why)) == NULL) {
		buf_printf(err, "%s: %s", name, buf_cstr(&why));
		buf_free(&why);
		return -1;
	}
	return 0;
}

/* cleanup_checks_new - the tables of main.cf's *_checks parameters */
struct cleanup_checks *cleanup_checks_new(struct config *cf, struct buf *err)
{
	struct cleanup_checks *k = xcalloc(1, sizeof(*k));

	if (open_checks(cf, "header_checks", &k->header, err) < 0 ||
	    open_checks(cf, "mime_header_checks", &k->mime, err) < 0 ||
	    open_checks(cf, "nested_header_checks", &k->nested, err) < 0 ||
	    open_checks(cf, "body_checks", &k->body, err) < 0) {
		cleanup_checks_free(&k);
		return NULL;
	}
	return k;
}

/* cleanup_checks_free - close the tables */
void cleanup_checks_free(struct cleanup_checks **kp)
{
	struct cleanup_checks *k = *kp;

	if (k == NULL)
		return;
	if (k->header)
		table_list_close(&k->header);
	if (k->mime)
		table_list_close(&k->mime);
	if (k->nested)
		table_list_close(&k->nested);
	if (k->body)
		table_list_close(&k->body);
	free(k);
	*kp = NULL;
}

/* cleanup_checks_any_body - whether body lines are looked at at all */
bool cleanup_checks_any_body(const struct cleanup_checks *k)
{
	return k && k->body;
}

/* log_action - "QUEUEID: action: header|body TEXT from …: detail" */
static void log_action(struct cleanup *c, const char *action, const char *where,
		       const char *text, size_t len, const char *detail)
{
	struct buf line = BUF_INIT;

	buf_printf(&line, "%s: %s: %s ", c->id, action, where);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];

		buf_putc(&line, (ch < 32 && ch != '\t') || ch == 127 ? '?' : (char)ch);
	}
	buf_putc(&line, ' ');
	cleanup_log_prefix(c, &line);
	if (detail && *detail)
		buf_printf(&line, ": %s", detail);
	log_info("%s", line.data);
	buf_free(&line);
}

/* has_dsn - text starts with an enhanced status code "d.d.d " */
static bool has_dsn(const char *t)
{
	if (!(t[0] == '4' || t[0] == '5') || t[1] != '.' || !isdigit((unsigned char)t[2]))
		return false;
	t += 2;
	while (isdigit((unsigned char)*t))
		t++;
	if (*t++ != '.' || !isdigit((unsigned char)*t))
		return false;
	while (isdigit((unsigned char)*t))
		t++;
	return *t == ' ' || *t == '\0';
}

/* do_reject - REJECT: the reply and the log line */
static void do_reject(struct cleanup *c, const char *where, const char *text, size_t len,
		      const char *arg)
{
	struct buf detail = BUF_INIT;

	if (*arg == '\0')
		buf_set(&detail, "5.7.1 message content rejected");
	else if (has_dsn(arg))
		buf_set(&detail, arg);
	else
		buf_printf(&detail, "5.7.1 %s", arg);
	log_action(c, "reject", where, text, len, detail.data);
	if (!(c->errs & CLEANUP_E_REJECT)) {
		c->errs |= CLEANUP_E_REJECT;
		buf_reset(&c->reject);
		buf_printf(&c->reject, "%s %s", detail.data[0] == '4' ? "450" : "550",
			   detail.data);
	}
	buf_free(&detail);
}

/* apply - one action on a header (is_header) or body line; returns what
 * happens to the text (REPLACE fills out) */
static enum cleanup_check_result apply(struct cleanup *c, const char *value,
				       const char *text, size_t len, bool is_header,
				       struct buf *out)
{
	const char *where = is_header ? "header" : "body";
	size_t alen = strcspn(value, " \t");
	const char *arg = value + alen;
	char action[16];

	while (*arg == ' ' || *arg == '\t')
		arg++;
	snprintf(action, sizeof(action), "%.*s", (int)(alen < 15 ? alen : 15), value);
	if (strcasecmp(action, "REJECT") == 0) {
		do_reject(c, where, text, len, arg);
	} else if (strcasecmp(action, "DISCARD") == 0) {
		log_action(c, "discard", where, text, len, arg);
		if (c->discard == NULL)
			c->discard = xstrdup(arg);
	} else if (strcasecmp(action, "HOLD") == 0) {
		log_action(c, "hold", where, text, len, arg);
		free(c->hold);
		c->hold = xstrdup(arg);
	} else if (strcasecmp(action, "IGNORE") == 0) {
		return CHECK_DROP;
	} else if (strcasecmp(action, "REPLACE") == 0 && *arg) {
		log_action(c, "replace", where, text, len, arg);
		buf_set(out, arg);
		return CHECK_REPLACED;
	} else if (strcasecmp(action, "PREPEND") == 0 && *arg) {
		log_action(c, "prepend", where, text, len, arg);
		cleanup_write(c, arg, strlen(arg));
	} else if (strcasecmp(action, "WARN") == 0) {
		log_action(c, "warning", where, text, len, arg);
	} else if (strcasecmp(action, "INFO") == 0) {
		log_action(c, "info", where, text, len, arg);
	} else if (strcasecmp(action, "REDIRECT") == 0 && *arg) {
		log_action(c, "redirect", where, text, len, arg);
		free(c->redirect);
		c->redirect = xstrdup(arg);
	} else if (strcasecmp(action, "FILTER") == 0 && strchr(arg, ':')) {
		log_action(c, "filter", where, text, len, arg);
		free(c->filter);
		c->filter = xstrdup(arg);
	} else if (strcasecmp(action, "BCC") == 0 && *arg) {
		log_action(c, "bcc", where, text, len, arg);
		strv_push(&c->bcc, arg);
	} else if (strcasecmp(action, "DUNNO") == 0 || strcasecmp(action, "OK") == 0) {
		/* nothing */
	} else {
		log_warn("%s: unknown %s_checks action \"%s\" for %s", c->id,
			 is_header ? "header" : "body", value, where);
	}
	return CHECK_KEEP;
}

/* lookup - one key in a checks table list; 1 found (value set), 0, -1 */
static int lookup(struct cleanup *c, struct table_list *l, const char *name,
		  const char *key, struct buf *value)
{
	enum table_status st = table_list_lookup(l, key, false, value, NULL);

	if (st == TABLE_TEMPFAIL) {
		log_warn("%s: %s lookup error: %s", c->id, name, table_list_error(l));
		c->errs |= CLEANUP_E_DEFER;
		buf_set(&c->reject, CLEANUP_R_WRITE);
		return -1;
	}
	return st == TABLE_FOUND;
}

/* cleanup_check_header - the checks for one logical header: primary
 * headers use header_checks (mime_header_checks for MIME headers when
 * set), body-part MIME headers mime_header_checks (else header_checks),
 * headers of attached messages nested_header_checks (else header_checks) */
enum cleanup_check_result cleanup_check_header(struct cleanup *c, const char *hdr,
					       size_t len, enum cleanup_check_kind kind,
					       struct buf *out)
{
	struct cleanup_checks *k = c->ccf->checks;
	struct table_list *l = k->header;
	const char *name = "header_checks";
	struct buf value = BUF_INIT;
	char *key;
	enum cleanup_check_result r = CHECK_KEEP;

	if (kind == CHECK_MIME && k->mime) {
		l = k->mime;
		name = "mime_header_checks";
	} else if (kind == CHECK_NESTED && k->nested) {
		l = k->nested;
		name = "nested_header_checks";
	}
	if (l == NULL || c->discard || c->no_checks)
		return CHECK_KEEP;
	key = xstrndup(hdr, len);
	if (lookup(c, l, name, key, &value) == 1)
		r = apply(c, value.data, hdr, len, true, out);
	free(key);
	buf_free(&value);
	return r;
}

/* cleanup_check_body - body_checks on one body line; a REPLACE writes
 * the new line itself and reports CHECK_REPLACED */
enum cleanup_check_result cleanup_check_body(struct cleanup *c, const char *line,
					     size_t len)
{
	struct cleanup_checks *k = c->ccf->checks;
	struct buf value = BUF_INIT, out = BUF_INIT;
	char *key;
	enum cleanup_check_result r = CHECK_KEEP;

	if (k->body == NULL || c->discard || c->no_checks)
		return CHECK_KEEP;
	key = xstrndup(line, len);
	if (lookup(c, k->body, "body_checks", key, &value) == 1) {
		r = apply(c, value.data, line, len, false, &out);
		if (r == CHECK_REPLACED)
			cleanup_write(c, out.data, out.len);
	}
	free(key);
	buf_free(&value);
	buf_free(&out);
	return r;
}
