/*
 * smtpd_parse - SMTP command lines and ESMTP parameters (see smtpd_parse.h).
 *
 * Public: smtpd_parse_line, smtpd_verb_name, smtpd_mailparams_init,
 * smtpd_mailparams_free, smtpd_parse_mail, smtpd_parse_rcpt,
 * smtpd_xtext_decode, smtpd_xtext_encode, smtpd_base64_decode,
 * smtpd_base64_encode.
 *
 * Bad input: -1 with the full reply in *reply (501/503/555 as Postfix).
 * Address errors carry the parser's reason after Postfix's text, e.g.
 * "501 5.1.7 Bad sender address syntax: missing closing '>'".
 */
#include "smtpd/smtpd_parse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup/cleanup.h"
#include "smtpd/smtpd_reply.h"

static const char *const verb_names[VERB_COUNT] = {
	[VERB_UNKNOWN] = "unknown", [VERB_HELO] = "HELO", [VERB_EHLO] = "EHLO",
	[VERB_MAIL] = "MAIL", [VERB_RCPT] = "RCPT", [VERB_DATA] = "DATA",
	[VERB_RSET] = "RSET", [VERB_NOOP] = "NOOP", [VERB_QUIT] = "QUIT",
	[VERB_VRFY] = "VRFY", [VERB_ETRN] = "ETRN", [VERB_STARTTLS] = "STARTTLS",
	[VERB_AUTH] = "AUTH", [VERB_EXPN] = "EXPN", [VERB_BDAT] = "BDAT",
	[VERB_HTTP] = "CONNECT", [VERB_XCLIENT] = "XCLIENT", [VERB_XFORWARD] = "XFORWARD",
};

/* smtpd_verb_name - upper-case verb for logs ("unknown" for junk) */
const char *smtpd_verb_name(enum smtpd_verb v)
{
	return v < VERB_COUNT ? verb_names[v] : "unknown";
}

/* smtpd_parse_line - split "VERB arg"; verbs are case-insensitive */
void smtpd_parse_line(const char *line, struct smtpd_cmdline *out)
{
	size_t n = strcspn(line, " \t");
	const char *arg = line + n;

	out->verb = VERB_UNKNOWN;
	while (*arg == ' ' || *arg == '\t')
		arg++;
	out->arg = arg;
	for (int v = 1; v < VERB_COUNT; v++) {
		if (strlen(verb_names[v]) == n && strncasecmp(line, verb_names[v], n) == 0) {
			out->verb = (enum smtpd_verb)v;
			break;
		}
	}
	if (out->verb == VERB_UNKNOWN && ((n == 3 && strncasecmp(line, "GET", 3) == 0) ||
					  (n == 4 && strncasecmp(line, "POST", 4) == 0)))
		out->verb = VERB_HTTP;
	out->name = verb_names[out->verb];
}

/* smtpd_mailparams_init - empty parameters */
void smtpd_mailparams_init(struct smtpd_mailparams *m)
{
	addr_path_init(&m->path);
	m->size = -1;
	m->body_8bit = false;
	m->smtputf8 = false;
	m->auth_given = false;
	buf_init(&m->auth);
	buf_init(&m->ret);
	buf_init(&m->envid);
	m->notify = 0;
	buf_init(&m->orcpt);
}

/* smtpd_mailparams_free - release parameters */
void smtpd_mailparams_free(struct smtpd_mailparams *m)
{
	addr_path_free(&m->path);
	buf_free(&m->auth);
	buf_free(&m->ret);
	buf_free(&m->envid);
	buf_free(&m->orcpt);
}

/* hexval - one hex digit (upper case per RFC 3461), -1 if none */
static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * smtpd_xtext_decode - RFC 3461 xtext ("+2B" escapes); like Postfix's
 * allprint() check, a decoded value must be printable ASCII, so "+0D+0A"
 * cannot carry a line break into queue records, DSNs or Received: headers.
 */
int smtpd_xtext_decode(const char *in, struct buf *out)
{
	buf_reset(out);
	for (const char *p = in; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '+') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);

			if (hi < 0 || lo < 0 || hi * 16 + lo < ' ' || hi * 16 + lo > '~')
				return -1;
			buf_putc(out, hi * 16 + lo);
			p += 2;
		} else if (c < '!' || c > '~' || c == '=') {
			return -1;
		} else {
			buf_putc(out, c);
		}
	}
	return 0;
}

/* smtpd_xtext_encode - RFC 3461 xtext for logs and policy attributes */
void smtpd_xtext_encode(const char *in, struct buf *out)
{
	buf_reset(out);
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		if (*p < '!' || *p > '~' || *p == '+' || *p == '=')
			buf_printf(out, "+%02X", *p);
		else
			buf_putc(out, *p);
	}
}

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* smtpd_base64_encode - RFC 4648 base64 with padding */
void smtpd_base64_encode(const void *in, size_t len, struct buf *out)
{
	const unsigned char *p = in;

	buf_reset(out);
	buf_reserve(out, (len + 2) / 3 * 4 + 1);
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		buf_putc(out, b64chars[(v >> 18) & 63]);
		buf_putc(out, b64chars[(v >> 12) & 63]);
		buf_putc(out, i + 1 < len ? b64chars[(v >> 6) & 63] : '=');
		buf_putc(out, i + 2 < len ? b64chars[v & 63] : '=');
	}
}

/* b64val - value of one base64 character, -1 if none */
static int b64val(int c)
{
	const char *p = c ? strchr(b64chars, c) : NULL;

	return p ? (int)(p - b64chars) : -1;
}

/* smtpd_base64_decode - strict base64 (padding required, no whitespace) */
int smtpd_base64_decode(const char *in, size_t len, struct buf *out)
{
	buf_reset(out);
	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		int pad = 0;

		for (int k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
			} else if (pad || (v[k] = b64val((unsigned char)in[i + k])) < 0) {
				return -1;
			}
		}
		unsigned w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 |
			     (unsigned)v[2] << 6 | (unsigned)v[3];
		buf_putc(out, (w >> 16) & 255);
		if (pad < 2)
			buf_putc(out, (w >> 8) & 255);
		if (pad < 1)
			buf_putc(out, w & 255);
	}
	return 0;
}

/* parse_path - "FROM:" / "TO:" then the path; reply on error */
static int parse_path(const char *arg, const char *kw, unsigned allow,
		      struct smtpd_mailparams *m, const char **rest,
		      const char *syntax, const char *bad, struct buf *reply)
{
	size_t kl = strlen(kw);
	const char *err = "bad address syntax";

	if (strncasecmp(arg, kw, kl) != 0) {
		buf_set(reply, syntax);
		return -1;
	}
	if (addr_parse_path(arg + kl, (allow & SMTPD_PARSE_STRICT) ? ADDR_P_STRICT : 0,
			    &m->path, rest, &err) < 0) {
		buf_printf(reply, "%s: %s", bad, err);
		return -1;
	}
	return 0;
}

/* param_size - RFC 1870 SIZE=digits */
static int param_size(const char *v, struct smtpd_mailparams *m, struct buf *reply)
{
	char *end;

	if (v == NULL || !isdigit((unsigned char)*v)) {
		buf_set(reply, R_BAD_SIZE);
		return -1;
	}
	errno = 0;
	m->size = strtol(v, &end, 10);
	if (*end != '\0') {
		buf_set(reply, R_BAD_SIZE);
		return -1;
	}
	if (errno == ERANGE)
		m->size = LONG_MAX;
	return 0;
}

/* param_notify - RFC 3461 NOTIFY=NEVER or SUCCESS,FAILURE,DELAY */
static int param_notify(const char *v, struct smtpd_mailparams *m, struct buf *reply)
{
	const char *p = v ? v : "";

	if (m->notify)
		goto bad;
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 5 && strncasecmp(p, "NEVER", 5) == 0)
			m->notify |= CLEANUP_NOTIFY_NEVER;
		else if (n == 7 && strncasecmp(p, "SUCCESS", 7) == 0)
			m->notify |= CLEANUP_NOTIFY_SUCCESS;
		else if (n == 7 && strncasecmp(p, "FAILURE", 7) == 0)
			m->notify |= CLEANUP_NOTIFY_FAILURE;
		else if (n == 5 && strncasecmp(p, "DELAY", 5) == 0)
			m->notify |= CLEANUP_NOTIFY_DELAY;
		else
			goto bad;
		p += n;
		if (*p == ',' && *++p == '\0')
			goto bad;
	}
	if (m->notify == 0 || ((m->notify & CLEANUP_NOTIFY_NEVER) && m->notify != CLEANUP_NOTIFY_NEVER))
		goto bad;
	return 0;
bad:
	buf_set(reply, R_BAD_NOTIFY);
	return -1;
}

/* param_orcpt - RFC 3461 ORCPT=addr-type;xtext */
static int param_orcpt(const char *v, struct smtpd_mailparams *m, struct buf *reply)
{
	const char *semi = v ? strchr(v, ';') : NULL;
	struct buf dec = BUF_INIT;

	if (semi == NULL || semi == v || m->orcpt.len || smtpd_xtext_decode(semi + 1, &dec) < 0 ||
	    dec.len == 0 || memchr(dec.data, '\0', dec.len)) {
		buf_free(&dec);
		buf_set(reply, R_BAD_ORCPT);
		return -1;
	}
	for (const char *p = v; p < semi; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-') {
			buf_free(&dec);
			buf_set(reply, R_BAD_ORCPT);
			return -1;
		}
	}
	buf_append(&m->orcpt, v, (size_t)(semi - v + 1));
	buf_append(&m->orcpt, dec.data, dec.len);
	buf_free(&dec);
	return 0;
}

/* param_mail - one MAIL FROM parameter */
static int param_mail(const char *name, const char *v, unsigned allow,
		      struct smtpd_mailparams *m, struct buf *reply)
{
	if (strcasecmp(name, "SIZE") == 0)
		return param_size(v, m, reply);
	if (strcasecmp(name, "BODY") == 0 && v && (allow & SMTPD_PARSE_8BITMIME)) {
		if (strcasecmp(v, "8BITMIME") == 0)
			m->body_8bit = true;
		else if (strcasecmp(v, "7BIT") == 0)
			m->body_8bit = false;
		else
			return -2;
		return 0;
	}
	if (strcasecmp(name, "SMTPUTF8") == 0 && v == NULL && (allow & SMTPD_PARSE_SMTPUTF8)) {
		m->smtputf8 = true;
		return 0;
	}
	if (strcasecmp(name, "AUTH") == 0 && v && (allow & SMTPD_PARSE_AUTH)) {
		if (m->auth_given) {
			buf_set(reply, R_MULTI_AUTH);
			return -1;
		}
		m->auth_given = true;
		if (smtpd_xtext_decode(v, &m->auth) < 0) {
			buf_printf(reply, R_BAD_PARAM, "AUTH", v);
			return -1;
		}
		return 0;
	}
	if (strcasecmp(name, "RET") == 0 && (allow & SMTPD_PARSE_DSN)) {
		if (m->ret.len || v == NULL ||
		    (strcasecmp(v, "FULL") != 0 && strcasecmp(v, "HDRS") != 0)) {
			buf_set(reply, R_BAD_RET);
			return -1;
		}
		buf_set(&m->ret, v);
		for (char *p = m->ret.data; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		return 0;
	}
	if (strcasecmp(name, "ENVID") == 0 && (allow & SMTPD_PARSE_DSN)) {
		if (m->envid.len || v == NULL || smtpd_xtext_decode(v, &m->envid) < 0 ||
		    m->envid.len == 0 || m->envid.len > 100) {
			buf_set(reply, R_BAD_ENVID);
			return -1;
		}
		return 0;
	}
	return -2;
}

/* param_rcpt - one RCPT TO parameter */
static int param_rcpt(const char *name, const char *v, unsigned allow,
		      struct smtpd_mailparams *m, struct buf *reply)
{
	if (strcasecmp(name, "NOTIFY") == 0 && (allow & SMTPD_PARSE_DSN))
		return param_notify(v, m, reply);
	if (strcasecmp(name, "ORCPT") == 0 && (allow & SMTPD_PARSE_DSN))
		return param_orcpt(v, m, reply);
	return -2;
}

/* parse_params - "NAME[=VALUE] …" after the path */
static int parse_params(const char *rest, unsigned allow, bool mail,
			struct smtpd_mailparams *m, struct buf *reply)
{
	struct buf tok = BUF_INIT;
	int ret = 0;

	while (ret == 0) {
		char *eq;
		size_t n;

		while (*rest == ' ' || *rest == '\t')
			rest++;
		if (*rest == '\0')
			break;
		n = strcspn(rest, " \t");
		buf_reset(&tok);
		buf_append(&tok, rest, n);
		rest += n;
		eq = strchr(tok.data, '=');
		if (eq)
			*eq++ = '\0';
		ret = mail ? param_mail(tok.data, eq, allow, m, reply)
			   : param_rcpt(tok.data, eq, allow, m, reply);
		if (ret == -2) {
			if (eq)
				eq[-1] = '=';
			buf_printf(reply, R_UNSUPPORTED_OPT, tok.data);
			ret = -1;
		}
	}
	buf_free(&tok);
	return ret;
}

/* smtpd_parse_mail - MAIL FROM:<path> [params] */
int smtpd_parse_mail(const char *arg, unsigned allow, struct smtpd_mailparams *m,
		     struct buf *reply)
{
	const char *rest;

	buf_reset(reply);
	if (parse_path(arg, "FROM:", allow, m, &rest, R_MAIL_SYNTAX, R_BAD_SENDER, reply) < 0)
		return -1;
	if (m->path.flags & ADDR_F_NODOMAIN && (allow & SMTPD_PARSE_STRICT)) {
		buf_printf(reply, "%s: %s", R_BAD_SENDER, "address has no domain");
		return -1;
	}
	if (parse_params(rest, allow, true, m, reply) < 0)
		return -1;
	if ((m->path.flags & ADDR_F_8BIT) && !m->smtputf8 && (allow & SMTPD_PARSE_STRICT_UTF8)) {
		buf_set(reply, R_NEED_SMTPUTF8);
		return -1;
	}
	return 0;
}

/* smtpd_parse_rcpt - RCPT TO:<path> [params]; "<>" is not a recipient */
int smtpd_parse_rcpt(const char *arg, unsigned allow, struct smtpd_mailparams *m,
		     struct buf *reply)
{
	const char *rest;

	buf_reset(reply);
	if (parse_path(arg, "TO:", allow, m, &rest, R_RCPT_SYNTAX, R_BAD_RCPT, reply) < 0)
		return -1;
	if (m->path.flags & ADDR_F_NULL) {
		buf_printf(reply, "%s: %s", R_BAD_RCPT, "empty address");
		return -1;
	}
	if (parse_params(rest, allow, false, m, reply) < 0)
		return -1;
	if ((m->path.flags & ADDR_F_8BIT) && !(allow & SMTPD_PARSE_SMTPUTF8) &&
	    (allow & SMTPD_PARSE_STRICT_UTF8)) {
		buf_set(reply, R_NEED_SMTPUTF8);
		return -1;
	}
	return 0;
}
