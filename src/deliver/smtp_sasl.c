/*
 * smtp_sasl - client AUTH: which credentials, which mechanism, and the
 * small encoders the protocol needs.
 *
 * Credentials (smtp_sasl_password_maps), in Postfix's order: the sender
 * when smtp_sender_dependent_authentication = yes (user+ext@domain,
 * user@domain, @domain); then the name of the server actually connected;
 * then the nexthop as written ("[smtp.example.com]:587" must be listed in
 * that form). The value is "user:password", split at the first colon.
 * Mechanisms: what the server offers, that Outpost speaks (CRAM-MD5, PLAIN,
 * LOGIN),
 * kept by smtp_sasl_mechanism_filter, and allowed by
 * smtp_sasl_security_options (smtp_sasl_tls_security_options inside TLS):
 * "noplaintext" forbids PLAIN and LOGIN, as with Postfix's defaults, and
 * "nodictionary" forbids CRAM-MD5.
 *
 * Public: smtp_sasl_credentials, smtp_sasl_choose, smtp_base64, smtp_cram_md5,
 * smtp_xtext, smtp_stuff.
 * Errors: a failed lookup returns -1 with err (the caller defers).
 */
#include "deliver/smtp.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "deliver/deliver_maps.h"
#include "lib/mem.h"
#include "lib/str.h"

/* split_cred - "user:password" */
static int split_cred(const char *v, struct buf *user, struct buf *pass)
{
	const char *colon = strchr(v, ':');

	buf_reset(user);
	buf_reset(pass);
	if (colon == NULL) {
		buf_set(user, v);
		return 0;
	}
	buf_append(user, v, (size_t)(colon - v));
	buf_set(pass, colon + 1);
	return 0;
}

/* smtp_sasl_credentials - 1 found, 0 none, -1 lookup failure */
int smtp_sasl_credentials(const struct smtp_settings *s, const char *sender,
			  const char *hostname, const char *dest, struct buf *user,
			  struct buf *pass, struct buf *err)
{
	struct buf v = BUF_INIT;
	enum table_status st = TABLE_NOTFOUND;

	if (s->sasl_maps == NULL)
		return 0;
	if (s->sasl_sender_dependent && *sender)
		st = deliver_maps_find(s->sasl_maps, TABLE_SEARCH_VIRTUAL, sender, &v, err);
	if (st == TABLE_NOTFOUND)
		st = deliver_maps_get(s->sasl_maps, hostname, &v, err);
	if (st == TABLE_NOTFOUND && dest && strcmp(dest, hostname) != 0)
		st = deliver_maps_get(s->sasl_maps, dest, &v, err);
	if (st == TABLE_FOUND)
		split_cred(buf_cstr(&v), user, pass);
	buf_free(&v);
	return st == TABLE_TEMPFAIL ? -1 : st == TABLE_FOUND ? 1 : 0;
}

/* has_word - is word in a comma/space list (case-insensitive)? */
static bool has_word(const char *list, const char *word)
{
	struct strv v = STRV_INIT;
	const char *e = NULL;
	bool yes;

	if (str_split(list, STR_SEP_LIST, &v, &e) < 0) {
		strv_free(&v);
		return false;
	}
	yes = strv_contains_case(&v, word);
	strv_free(&v);
	return yes;
}

/* smtp_sasl_choose - the mechanism to use, or NULL with why */
const char *smtp_sasl_choose(const struct smtp_settings *s, const char *offered,
			     bool tls, struct buf *why)
{
	static const struct { const char *name; bool plaintext; } ours[] = {
		{ "CRAM-MD5", false },	/* open to dictionary attacks, not to sniffing */
		{ "PLAIN", true },
		{ "LOGIN", true },
	};
	const char *opts = tls ? s->sasl_tls_opts : s->sasl_opts;

	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		if (!has_word(offered, ours[i].name))
			continue;
		if (*s->sasl_mech_filter && !has_word(s->sasl_mech_filter, ours[i].name))
			continue;
		if (ours[i].plaintext && has_word(opts, "noplaintext"))
			continue;
		if (!ours[i].plaintext && has_word(opts, "nodictionary"))
			continue;
		return ours[i].name;
	}
	buf_printf(why, "no mechanism available (server offers \"%s\"; Outpost speaks CRAM-MD5, PLAIN and LOGIN; %s = %s%s)",
		   offered, tls ? "smtp_sasl_tls_security_options" : "smtp_sasl_security_options", opts,
		   *s->sasl_mech_filter ? ", with smtp_sasl_mechanism_filter" : "");
	return NULL;
}

/* smtp_base64 - RFC 4648 base64 */
void smtp_base64(const char *in, size_t len, struct buf *out)
{
	size_t n = 4 * ((len + 2) / 3) + 1;
	unsigned char *tmp = xmalloc(n);

	EVP_EncodeBlock(tmp, (const unsigned char *)in, (int)len);
	buf_puts(out, (const char *)tmp);
	free(tmp);
}

/* smtp_cram_md5 - the CRAM-MD5 response to a base64 challenge; -1 if it does not decode */
int smtp_cram_md5(const char *challenge_b64, const struct buf *user, const struct buf *pass,
		  struct buf *out)
{
	size_t len = strlen(challenge_b64), pad = 0;
	unsigned char *chal = xmalloc(len / 4 * 3 + 4), mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	struct buf resp = BUF_INIT;
	int n;

	if (len % 4 != 0 || (n = EVP_DecodeBlock(chal, (const unsigned char *)challenge_b64,
						  (int)len)) < 0) {
		free(chal);
		return -1;
	}
	while (pad < 2 && len > pad && challenge_b64[len - 1 - pad] == '=')
		pad++;
	if (HMAC(EVP_md5(), pass->data ? pass->data : "", (int)pass->len, chal,
		 (size_t)n - pad, mac, &maclen) == NULL) {
		free(chal);
		return -1;
	}
	buf_append(&resp, user->data ? user->data : "", user->len);
	buf_putc(&resp, ' ');
	for (unsigned i = 0; i < maclen; i++)
		buf_printf(&resp, "%02x", mac[i]);
	smtp_base64(resp.data, resp.len, out);
	buf_free(&resp);
	free(chal);
	return 0;
}

/* smtp_xtext - RFC 3461 xtext for ENVID and ORCPT */
void smtp_xtext(const char *in, struct buf *out)
{
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		if (*p < 33 || *p > 126 || *p == '+' || *p == '=')
			buf_printf(out, "+%02X", *p);
		else
			buf_putc(out, (char)*p);
	}
}

/* smtp_stuff - LF text to CRLF with leading dots doubled, ended by ".CRLF" */
void smtp_stuff(const struct buf *content, struct buf *out)
{
	const char *p = buf_cstr(content), *end = p + content->len;

	buf_reserve(out, content->len + content->len / 20 + 8);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);

		if (n > 0 && p[n - 1] == '\r')
			n--;	/* already CRLF: do not double the CR */
		if (*p == '.')
			buf_putc(out, '.');
		buf_append(out, p, n);
		buf_puts(out, "\r\n");
		p = eol ? eol + 1 : end;
	}
	buf_puts(out, ".\r\n");
}
