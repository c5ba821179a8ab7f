/*
 * smtp_tls - the client's TLS context and per-destination security level.
 *
 * The context trusts only smtp_tls_CAfile / smtp_tls_CApath, as Postfix
 * does (no system store unless the admin points there), and presents
 * smtp_tls_cert_file / smtp_tls_key_file when set. The level comes from
 * smtp_tls_policy_maps (the nexthop as written, then for a domain its
 * parents as ".parent") and else smtp_tls_security_level; "dane" and
 * "dane-only" need DNSSEC, which Outpost's resolver does not validate, so
 * they act as "may" and "encrypt" with a warning.
 *
 * Public: smtp_tls_ctx_new, smtp_tls_ctx_get, smtp_tls_lazy_free,
 * smtp_tls_level.
 * Errors: unreadable CA or key files fill err; a failed policy lookup
 * gives the level "tempfail" with the reason in err.
 */
#include "deliver/smtp.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>

#include "deliver/deliver_maps.h"
#include "lib/log.h"
#include "lib/str.h"

/* param - "smtp_tls_CAfile" or "lmtp_tls_CAfile" */
static const char *param(struct config *cf, const char *prefix, const char *name)
{
	char full[128];

	snprintf(full, sizeof(full), "%s_%s", prefix, name);
	return config_str(cf, full);
}

/* ssl_error - the last OpenSSL error as text */
static void ssl_error(struct buf *err)
{
	char text[256];
	unsigned long e = ERR_get_error();

	ERR_error_string_n(e, text, sizeof(text));
	buf_puts(err, e ? text : "unknown error");
}

/* smtp_tls_ctx_new - a client context; NULL with err */
struct ssl_ctx_st *smtp_tls_ctx_new(struct config *cf, const char *prefix, struct buf *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	const char *cafile = param(cf, prefix, "tls_CAfile");
	const char *capath = param(cf, prefix, "tls_CApath");
	const char *cert = param(cf, prefix, "tls_cert_file");
	const char *key = param(cf, prefix, "tls_key_file");

	if (ctx == NULL) {
		ssl_error(err);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);	/* checked after the handshake */
	if ((*cafile || *capath)
	    && SSL_CTX_load_verify_locations(ctx, *cafile ? cafile : NULL,
					     *capath ? capath : NULL) != 1) {
		buf_printf(err, "%s_tls_CAfile/%s_tls_CApath: cannot load \"%s\" / \"%s\": ",
			   prefix, prefix, cafile, capath);
		ssl_error(err);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (*cert && (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1
		      || SSL_CTX_use_PrivateKey_file(ctx, *key ? key : cert, SSL_FILETYPE_PEM) != 1)) {
		buf_printf(err, "%s_tls_cert_file %s: ", prefix, cert);
		ssl_error(err);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* smtp_tls_ctx_get - the context, made (once) when a session first needs
 * it; NULL, warned once, when it cannot be made: TLS is then off */
struct ssl_ctx_st *smtp_tls_ctx_get(struct smtp_tls_lazy *t)
{
	struct buf err = BUF_INIT;

	if (t->tried)
		return t->ctx;
	t->tried = true;
	if ((t->ctx = smtp_tls_ctx_new(t->cf, t->prefix, &err)) == NULL)
		log_warn("TLS client context: %s; TLS is disabled for this delivery",
			 buf_cstr(&err));
	buf_free(&err);
	return t->ctx;
}

/* smtp_tls_lazy_free - release a context that was made */
void smtp_tls_lazy_free(struct smtp_tls_lazy *t)
{
	if (t->ctx)
		SSL_CTX_free(t->ctx);
	t->ctx = NULL;
	t->tried = false;
}

/* policy_lookup - nexthop as written, then .parent domains of a bare domain */
static enum table_status policy_lookup(struct deliver_maps *m, const char *nexthop,
				       struct buf *value, struct buf *err)
{
	enum table_status st = deliver_maps_get(m, nexthop, value, err);
	const char *d = nexthop;

	if (st != TABLE_NOTFOUND || strpbrk(nexthop, "[]:") != NULL)
		return st;
	while ((d = strchr(d + 1, '.')) != NULL) {
		if ((st = deliver_maps_get(m, d, value, err)) != TABLE_NOTFOUND)
			return st;
	}
	return TABLE_NOTFOUND;
}

/* smtp_tls_level - the security level for one destination */
void smtp_tls_level(struct config *cf, const char *prefix, const char *nexthop,
		    struct buf *level, struct buf *err)
{
	char name[64];
	struct deliver_maps *m;
	struct buf value = BUF_INIT;
	enum table_status st = TABLE_NOTFOUND;

	snprintf(name, sizeof(name), "%s_tls_policy_maps", prefix);
	buf_set(level, param(cf, prefix, "tls_security_level"));
	if ((m = deliver_maps_open(cf, name, err)) == NULL) {
		buf_set(level, "tempfail");
		return;
	}
	st = policy_lookup(m, nexthop, &value, err);
	if (st == TABLE_TEMPFAIL) {
		buf_set(level, "tempfail");
	} else if (st == TABLE_FOUND) {
		char *cursor = value.data;
		const char *word = str_token(&cursor, STR_SPACE);
		buf_set(level, word ? word : "");
	}
	if (level->len == 0)
		buf_set(level, "none");
	if (strcmp(buf_cstr(level), "dane") == 0 || strcmp(buf_cstr(level), "dane-only") == 0) {
		log_warn("%s: TLS level %s needs DNSSEC validation, which is not available; using %s",
			 nexthop, buf_cstr(level), strcmp(buf_cstr(level), "dane") == 0 ? "may" : "encrypt");
		buf_set(level, strcmp(buf_cstr(level), "dane") == 0 ? "may" : "encrypt");
	}
	deliver_maps_close(&m);
	buf_free(&value);
}
