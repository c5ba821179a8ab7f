/*
 * pipe_expand - the $macros of a pipe(8) service's argv=.
 *
 * Forms: $name, ${name}, $(name); $$ is a dollar sign. Names: sender,
 * nexthop, queue_id, size, client_address, client_hostname, client_port,
 * client_helo, client_protocol, sasl_method, sasl_username, sasl_sender,
 * and the per-recipient ones recipient, original_recipient, user,
 * extension, mailbox, domain. A word that holds a per-recipient macro
 * becomes one word per recipient (with two recipients, "-d ${recipient}"
 * gives "-d a@x b@x"), which is why single-recipient commands need
 * TRANSPORT_destination_recipient_limit = 1.
 *
 * Flags: h lower-cases the domain of recipient and original_recipient,
 * and all of domain and nexthop; u lower-cases local parts (recipient,
 * original_recipient, user, extension, mailbox); q quotes the local part
 * of sender, recipient and original_recipient as RFC 5322 wants when it
 * holds spaces or specials.
 *
 * Public: pipe_expand.
 * Bad input: an unknown macro name or a '$' not followed by a name, '$'
 * or a bracket: -1 with the reason (a configuration error, since argv=
 * comes from master.cf; message data only fills in values).
 */
#include "deliver/pipe.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "mail/addr.h"

enum macro_kind { MACRO_MSG, MACRO_RCPT };

static const struct macro {
	const char *name;
	enum macro_kind kind;
} macros[] = {
	{"sender", MACRO_MSG},
	{"nexthop", MACRO_MSG},
	{"queue_id", MACRO_MSG},
	{"size", MACRO_MSG},
	{"client_address", MACRO_MSG},
	{"client_hostname", MACRO_MSG},
	{"client_port", MACRO_MSG},
	{"client_helo", MACRO_MSG},
	{"client_protocol", MACRO_MSG},
	{"sasl_method", MACRO_MSG},
	{"sasl_username", MACRO_MSG},
	{"sasl_sender", MACRO_MSG},
	{"recipient", MACRO_RCPT},
	{"original_recipient", MACRO_RCPT},
	{"user", MACRO_RCPT},
	{"extension", MACRO_RCPT},
	{"mailbox", MACRO_RCPT},
	{"domain", MACRO_RCPT},
	{NULL, MACRO_MSG},
};

/* macro_find - a known macro by name and length */
static const struct macro *macro_find(const char *name, size_t len)
{
	for (const struct macro *m = macros; m->name; m++)
		if (strlen(m->name) == len && memcmp(m->name, name, len) == 0)
			return m;
	return NULL;
}

/* name_char - may this byte be part of a bare $name? */
static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/*
 * next_macro - at s (just past a '$'): the macro's name into *name and *len
 * and the text after it into *rest; NULL name for "$$". -1 with err.
 */
static int next_macro(const char *s, const char **name, size_t *len, const char **rest,
		      struct buf *err)
{
	char close = 0;

	if (*s == '$') {
		*name = NULL;
		*rest = s + 1;
		return 0;
	}
	if (*s == '{' || *s == '(')
		close = *s++ == '{' ? '}' : ')';
	*name = s;
	while (name_char(*s))
		s++;
	*len = (size_t)(s - *name);
	if (*len == 0 || (close && *s != close)) {
		buf_printf(err, "bad macro syntax at \"$%.20s\"", *name - (close ? 1 : 0));
		return -1;
	}
	*rest = close ? s + 1 : s;
	if (macro_find(*name, *len) == NULL) {
		buf_printf(err, "unknown macro name \"%.*s\"", (int)*len, *name);
		return -1;
	}
	return 0;
}

/* fold - lower-case [from, to) of b */
static void fold(struct buf *b, size_t from, size_t to)
{
	for (size_t i = from; i < to && i < b->len; i++)
		b->data[i] = (char)tolower((unsigned char)b->data[i]);
}

/* address_value - recipient or original_recipient with h/u/q applied */
static void address_value(const char *addr, unsigned flags, struct buf *out)
{
	struct buf a = BUF_INIT;
	const char *at = strrchr(addr, '@');
	size_t local = at ? (size_t)(at - addr) : strlen(addr);

	buf_set(&a, addr);
	if (flags & PIPE_F_FOLD_USER)
		fold(&a, 0, local);
	if (flags & PIPE_F_FOLD_HOST)
		fold(&a, local, a.len);
	if (flags & PIPE_F_QUOTE)
		addr_external(buf_cstr(&a), out);
	else
		buf_set(out, buf_cstr(&a));
	buf_free(&a);
}

/* rcpt_part - user, extension, mailbox or domain of an address */
static void rcpt_part(const char *name, const char *addr, const struct pipe_vars *v, unsigned flags,
		      struct buf *out)
{
	const char *at = strrchr(addr, '@');
	size_t local = at ? (size_t)(at - addr) : strlen(addr);
	size_t user = local;

	if (v->delimiters && *v->delimiters) {
		size_t d = strcspn(addr, v->delimiters);
		if (d < local)
			user = d;
	}
	buf_reset(out);
	if (strcmp(name, "domain") == 0) {
		buf_puts(out, at ? at + 1 : "");
		if (flags & PIPE_F_FOLD_HOST)
			fold(out, 0, out->len);
		return;
	}
	if (strcmp(name, "user") == 0)
		buf_append(out, addr, user);
	else if (strcmp(name, "extension") == 0)
		buf_append(out, addr + user + (user < local), local - user - (user < local));
	else
		buf_append(out, addr, local);
	if (flags & PIPE_F_FOLD_USER)
		fold(out, 0, out->len);
}

/* msg_value - a per-message macro's text */
static void msg_value(const char *name, const struct pipe_vars *v, unsigned flags, struct buf *out)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
		{"nexthop", offsetof(struct pipe_vars, nexthop)},
		{"queue_id", offsetof(struct pipe_vars, queue_id)},
		{"size", offsetof(struct pipe_vars, size)},
		{"client_address", offsetof(struct pipe_vars, client_address)},
		{"client_hostname", offsetof(struct pipe_vars, client_hostname)},
		{"client_port", offsetof(struct pipe_vars, client_port)},
		{"client_helo", offsetof(struct pipe_vars, client_helo)},
		{"client_protocol", offsetof(struct pipe_vars, client_protocol)},
		{"sasl_method", offsetof(struct pipe_vars, sasl_method)},
		{"sasl_username", offsetof(struct pipe_vars, sasl_username)},
		{"sasl_sender", offsetof(struct pipe_vars, sasl_sender)},
	};

	buf_reset(out);
	if (strcmp(name, "sender") == 0) {
		if ((flags & PIPE_F_QUOTE) && *v->sender)
			addr_external(v->sender, out);
		else
			buf_set(out, v->sender);
		return;
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(fields[i].name, name) == 0) {
			const char *s = *(const char *const *)((const char *)v + fields[i].off);
			buf_puts(out, s ? s : "");
			break;
		}
	}
	if (strcmp(name, "nexthop") == 0 && (flags & PIPE_F_FOLD_HOST))
		fold(out, 0, out->len);
}

/* value - one macro's text, for recipient i */
static void value(const struct macro *m, size_t i, const struct pipe_vars *v, unsigned flags,
		  struct buf *out)
{
	if (m->kind == MACRO_RCPT && i >= v->nrcpt)
		buf_reset(out);
	else if (m->kind == MACRO_MSG)
		msg_value(m->name, v, flags, out);
	else if (strcmp(m->name, "recipient") == 0)
		address_value(v->rcpt[i], flags, out);
	else if (strcmp(m->name, "original_recipient") == 0)
		address_value(v->original[i] ? v->original[i] : v->rcpt[i], flags, out);
	else
		rcpt_part(m->name, v->rcpt[i], v, flags, out);
}

/* expand_word - one word for recipient i; sets *per_rcpt when it used one */
static int expand_word(const char *w, size_t i, const struct pipe_vars *v, unsigned flags,
		       bool *per_rcpt, struct buf *out, struct buf *err)
{
	struct buf val = BUF_INIT;
	const char *name, *rest;
	size_t len = 0;

	buf_reset(out);
	for (const char *p = w; *p;) {
		const char *dollar = strchr(p, '$');
		const struct macro *m;

		if (dollar == NULL) {
			buf_puts(out, p);
			break;
		}
		buf_append(out, p, (size_t)(dollar - p));
		if (next_macro(dollar + 1, &name, &len, &rest, err) < 0) {
			buf_free(&val);
			return -1;
		}
		p = rest;
		if (name == NULL) {
			buf_putc(out, '$');
			continue;
		}
		m = macro_find(name, len);
		if (m->kind == MACRO_RCPT)
			*per_rcpt = true;
		value(m, i, v, flags, &val);
		buf_append(out, val.data ? val.data : "", val.len);
	}
	buf_free(&val);
	return 0;
}

/* pipe_expand - the command's argument vector */
int pipe_expand(const struct strv *argv, unsigned flags, const struct pipe_vars *v,
		struct strv *out, struct buf *err)
{
	struct buf word = BUF_INIT;
	int rc = 0;

	for (size_t w = 0; w < argv->n && rc == 0; w++) {
		bool per_rcpt = false;

		if ((rc = expand_word(argv->v[w], 0, v, flags, &per_rcpt, &word, err)) < 0)
			break;
		if (!per_rcpt || v->nrcpt == 0) {
			strv_push(out, buf_cstr(&word));
			continue;
		}
		for (size_t i = 0; i < v->nrcpt && rc == 0; i++) {
			rc = expand_word(argv->v[w], i, v, flags, &per_rcpt, &word, err);
			if (rc == 0)
				strv_push(out, buf_cstr(&word));
		}
	}
	buf_free(&word);
	return rc;
}
