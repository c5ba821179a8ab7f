/*
 * smtpd_tls - the server's TLS: one SSL_CTX per process built from the
 * smtpd_tls_* parameters, STARTTLS / wrapper-mode handshakes on OpenSSL
 * bufferevents, the per-session summary (protocol, cipher, bits, client
 * certificate fingerprint) and Postfix's one log line per TLS session.
 *
 * Public: smtpd_tls_ctx_new, smtpd_tls_ctx_free, smtpd_tls_start,
 * smtpd_tls_handshake_done, smtpd_tls_session_free, smtpd_cmd_starttls.
 *
 * Resumption: OpenSSL's stateless session tickets (keys made per process)
 * and its internal session cache with smtpd_tls_session_cache_timeout.
 * Buffers are released while a session is idle (SSL_MODE_RELEASE_BUFFERS).
 *
 * Bad input: a missing or mismatched certificate/key is reported by
 * smtpd_tls_ctx_new() with the file names and OpenSSL's reason; a failed
 * handshake ends that session with a log line.
 */
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "smtpd/smtpd.h"
#include "smtpd/smtpd_reply.h"

/* ssl_error - the latest OpenSSL error text */
static void ssl_error(struct buf *err)
{
	unsigned long e = ERR_get_error();
	char text[256];

	ERR_error_string_n(e, text, sizeof(text));
	buf_puts(err, e ? text : "unknown OpenSSL error");
	ERR_clear_error();
}

/* proto_version - "TLSv1.2" -> TLS1_2_VERSION, 0 if unknown */
static int proto_version(const char *p)
{
	static const struct {
		const char *name;
		int v;
	} t[] = {
		{ "SSLv3", SSL3_VERSION }, { "TLSv1", TLS1_VERSION }, { "TLSv1.1", TLS1_1_VERSION },
		{ "TLSv1.2", TLS1_2_VERSION }, { "TLSv1.3", TLS1_3_VERSION },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(p, t[i].name) == 0)
			return t[i].v;
	return 0;
}

/* set_protocols - Postfix syntax: ">=TLSv1.2", "<=TLSv1.3", "!SSLv3, !TLSv1" */
static int set_protocols(SSL_CTX *ctx, const char *spec, struct buf *err)
{
	struct strv v = STRV_INIT;
	const char *e;
	int min = TLS1_VERSION, max = 0;

	str_split(spec, STR_SEP_LIST ":", &v, &e);
	for (size_t i = 0; i < v.n; i++) {
		const char *w = v.v[i];
		int pv;

		if (strncmp(w, ">=", 2) == 0 && (pv = proto_version(w + 2)))
			min = pv;
		else if (strncmp(w, "<=", 2) == 0 && (pv = proto_version(w + 2)))
			max = pv;
		else if (w[0] == '!' && (pv = proto_version(w + 1))) {
			if (pv == min)
				min = pv == TLS1_3_VERSION ? pv : pv + 1;
		} else if ((pv = proto_version(w)) == 0) {
			buf_printf(err, "smtpd_tls_protocols: unknown protocol \"%s\"", w);
			strv_free(&v);
			return -1;
		}
	}
	strv_free(&v);
	SSL_CTX_set_min_proto_version(ctx, min);
	if (max)
		SSL_CTX_set_max_proto_version(ctx, max);
	return 0;
}

/* cipher_list - smtpd_tls_ciphers grade -> OpenSSL cipher string */
static const char *cipher_list(struct config *cf, const char *grade)
{
	if (strcasecmp(grade, "high") == 0)
		return config_str(cf, "tls_high_cipherlist");
	if (strcasecmp(grade, "null") == 0)
		return config_str(cf, "tls_null_cipherlist");
	return config_str(cf, "tls_medium_cipherlist");
}

/* load_pair - one certificate chain and its key */
static int load_pair(SSL_CTX *ctx, const char *cert, const char *key, struct buf *err)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		buf_printf(err, "cannot load certificate from %s: ", cert);
		ssl_error(err);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		buf_printf(err, "cannot load private key from %s: ", key);
		ssl_error(err);
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		buf_printf(err, "private key %s does not match certificate %s", key, cert);
		return -1;
	}
	return 0;
}

/* load_certs - chain_files, else the RSA and ECDSA cert/key pairs */
static int load_certs(SSL_CTX *ctx, struct config *cf, struct buf *err)
{
	struct strv files = STRV_INIT;
	const char *e;
	int n = 0;

	str_split(config_str(cf, "smtpd_tls_chain_files"), STR_SEP_LIST, &files, &e);
	for (size_t i = 0; i < files.n; i++, n++) {
		/* Each file holds a key and its chain, as smtpd_tls_chain_files says. */
		if (load_pair(ctx, files.v[i], files.v[i], err) < 0) {
			strv_free(&files);
			return -1;
		}
	}
	strv_free(&files);
	if (n == 0 && *config_str(cf, "smtpd_tls_cert_file")) {
		if (load_pair(ctx, config_str(cf, "smtpd_tls_cert_file"),
			      config_str(cf, "smtpd_tls_key_file"), err) < 0)
			return -1;
		n++;
	}
	if (*config_str(cf, "smtpd_tls_eccert_file")) {
		if (load_pair(ctx, config_str(cf, "smtpd_tls_eccert_file"),
			      config_str(cf, "smtpd_tls_eckey_file"), err) < 0)
			return -1;
		n++;
	}
	if (n == 0) {
		buf_puts(err, "no server certificate: set smtpd_tls_chain_files or smtpd_tls_cert_file");
		return -1;
	}
	return 0;
}

/* accept_any_cert - ask for a client certificate, verify it, never fail on it */
static int accept_any_cert(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

/* smtpd_tls_ctx_new - the process's server context */
struct ssl_ctx_st *smtpd_tls_ctx_new(struct config *cf, const struct smtpd_settings *set,
				     struct buf *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	bool mandatory = set->tls_level == TLS_ENCRYPT;
	static const unsigned char sid_ctx[] = "outpost-smtpd";

	if (ctx == NULL) {
		ssl_error(err);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (set_protocols(ctx, config_str(cf, mandatory ? "smtpd_tls_mandatory_protocols"
							 : "smtpd_tls_protocols"), err) < 0)
		goto fail;
	if (SSL_CTX_set_cipher_list(ctx, cipher_list(cf, config_str(cf, mandatory
			? "smtpd_tls_mandatory_ciphers" : "smtpd_tls_ciphers"))) != 1) {
		buf_puts(err, "smtpd_tls_ciphers: ");
		ssl_error(err);
		goto fail;
	}
	if (load_certs(ctx, cf, err) < 0)
		goto fail;
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	SSL_CTX_set_timeout(ctx, config_time(cf, "smtpd_tls_session_cache_timeout"));
	if (set->tls_ask_ccert) {
		const char *ca = config_str(cf, "smtpd_tls_CAfile");

		if (*ca && SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
			buf_printf(err, "smtpd_tls_CAfile %s: ", ca);
			ssl_error(err);
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, accept_any_cert);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* smtpd_tls_ctx_free - release the context */
void smtpd_tls_ctx_free(struct ssl_ctx_st **ctxp)
{
	if (*ctxp)
		SSL_CTX_free(*ctxp);
	*ctxp = NULL;
}

/* fingerprint - "AA:BB:…" digest of the client certificate or its public key */
static char *fingerprint(X509 *cert, const char *digest, bool pubkey)
{
	const EVP_MD *md = EVP_get_digestbyname(*digest ? digest : "sha256");
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	struct buf b = BUF_INIT;

	if (md == NULL)
		return NULL;
	if (pubkey) {
		/* as Postfix: the digest of the DER SubjectPublicKeyInfo */
		X509_PUBKEY *pk = X509_get_X509_PUBKEY(cert);
		int len = i2d_X509_PUBKEY(pk, NULL);
		unsigned char *der, *p;
		int ok;

		if (len <= 0)
			return NULL;
		der = p = xmalloc((size_t)len);
		i2d_X509_PUBKEY(pk, &p);
		ok = EVP_Digest(der, (size_t)len, d, &n, md, NULL);
		free(der);
		if (ok != 1)
			return NULL;
	} else if (X509_digest(cert, md, d, &n) != 1) {
		return NULL;
	}
	for (unsigned i = 0; i < n; i++)
		buf_printf(&b, "%s%02X", i ? ":" : "", d[i]);
	return buf_steal(&b);
}

/*
 * cert_cn - a name's CommonName as UTF-8, or "" when it has none or it
 * holds a NUL or an ASCII control character (as Postfix's tls_text_name):
 * the client chooses it, and it goes into Received: and policy requests.
 */
static char *cert_cn(struct smtpd_session *s, const X509_NAME *name, const char *what)
{
	int pos = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	unsigned char *utf8 = NULL;
	char *out;
	int len;

	if (pos < 0)
		return xstrdup("");
	len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, pos)));
	if (len < 0)
		return xstrdup("");
	for (int i = 0; i < len; i++) {
		if (utf8[i] < ' ' || utf8[i] == 0x7f) {
			log_warn("%s: peer certificate %s contains invalid characters", s->namaddr, what);
			OPENSSL_free(utf8);
			return xstrdup("");
		}
	}
	out = xstrndup((const char *)utf8, (size_t)len);
	OPENSSL_free(utf8);
	return out;
}

/* peer_cert - facts about the client certificate, if any */
static void peer_cert(struct smtpd_session *s)
{
	X509 *cert = SSL_get1_peer_certificate(s->ssl);

	if (cert == NULL)
		return;
	s->ccert_fingerprint = fingerprint(cert, s->srv->set.tls_fingerprint_digest, false);
	s->ccert_pkey_fingerprint = fingerprint(cert, s->srv->set.tls_fingerprint_digest, true);
	s->ccert_subject = cert_cn(s, X509_get_subject_name(cert), "CommonName");
	s->ccert_issuer = cert_cn(s, X509_get_issuer_name(cert), "issuer CommonName");
	s->ccert_verified = SSL_get_verify_result(s->ssl) == X509_V_OK;
	X509_free(cert);
}

/* smtpd_tls_handshake_done - record the session, log it, start afresh (RFC 3207) */
void smtpd_tls_handshake_done(struct smtpd_session *s)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(s->ssl);
	int alg = 0;
	struct buf b = BUF_INIT;

	s->tls = true;
	s->tls_protocol = xstrdup(SSL_get_version(s->ssl));
	s->tls_cipher = xstrdup(c ? SSL_CIPHER_get_name(c) : "unknown");
	s->tls_bits = c ? SSL_CIPHER_get_bits(c, &alg) : 0;
	buf_printf(&b, "%s with cipher %s (%d/%d bits)", s->tls_protocol, s->tls_cipher,
		   s->tls_bits, alg);
	peer_cert(s);
	free(s->tls_info);
	s->tls_info = buf_steal(&b);
	log_info("%s TLS connection established from %s: %s%s%s",
		 s->ccert_fingerprint ? (s->ccert_verified ? "Trusted" : "Untrusted") : "Anonymous",
		 s->namaddr, s->tls_info, SSL_session_reused(s->ssl) ? " (resumed)" : "",
		 "");
	/* RFC 3207 4.2: forget everything learned before TLS, a plaintext AUTH too. */
	smtpd_transaction_reset(s);
	xfree(&s->helo);
	xfree(&s->sasl_username);
	xfree(&s->sasl_method);
	s->esmtp = false;
	s->state = S_CMD;
}

/* smtpd_tls_received - the TLS part of the Received: header, as Postfix writes it */
void smtpd_tls_received(const struct smtpd_session *s, struct buf *out)
{
	buf_reset(out);
	if (!s->tls || s->tls_info == NULL)
		return;
	buf_printf(out, "(using %s)", s->tls_info);
	if (!s->srv->set.tls_ask_ccert)
		buf_puts(out, "\n\t(No client certificate requested)");
	else if (s->ccert_subject == NULL)
		buf_puts(out, "\n\t(Client did not present a certificate)");
	else
		buf_printf(out, "\n\t(Client CN \"%s\", Issuer \"%s\" (%s))", s->ccert_subject,
			   s->ccert_issuer ? s->ccert_issuer : "", s->ccert_verified ? "verified OK" : "not verified");
}

/* smtpd_tls_start - switch the connection to a TLS bufferevent */
int smtpd_tls_start(struct smtpd_session *s, bool wrapper)
{
	struct event_base *base = s->srv->base;
	struct timeval tv = { s->srv->set.timeout, 0 };

	s->ssl = SSL_new(s->srv->tls_ctx);
	if (s->ssl == NULL) {
		log_warn("cannot start TLS for %s: out of resources", s->namaddr);
		smtpd_close_after_reply(s);
		return -1;
	}
	bufferevent_free(s->bev);
	s->bev = bufferevent_openssl_socket_new(base, s->fd, s->ssl, BUFFEREVENT_SSL_ACCEPTING, 0);
	smtpd_session_callbacks(s);
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	bufferevent_enable(s->bev, EV_READ);
	s->state = S_TLS;
	s->wrapper_pending = wrapper;
	return 0;
}

/* smtpd_tls_session_free - the SSL object goes with the bufferevent */
void smtpd_tls_session_free(struct smtpd_session *s)
{
	/* bufferevent_openssl frees the SSL (BEV_OPT_CLOSE_ON_FREE is not set,
	 * so do it here). */
	if (s->ssl)
		SSL_free(s->ssl);
	s->ssl = NULL;
	free(s->tls_info);
	free(s->tls_protocol);
	free(s->tls_cipher);
	s->tls_info = s->tls_protocol = s->tls_cipher = NULL;
}

/* smtpd_cmd_starttls - STARTTLS (RFC 3207) */
void smtpd_cmd_starttls(struct smtpd_session *s, const struct smtpd_cmdline *c)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);

	if (*c->arg) {
		smtpd_reply_error(s, R_STARTTLS_SYNTAX);
		return;
	}
	if (s->tls) {
		smtpd_reply_error(s, R_TLS_ACTIVE);
		return;
	}
	if (s->srv->tls_ctx == NULL || s->srv->set.tls_level == TLS_NONE) {
		smtpd_reply_error(s, R_NOT_IMPLEMENTED);
		return;
	}
	if (evbuffer_get_length(in) > 0) {
		/* Plaintext sent after STARTTLS must never be read as if it came
		 * through TLS (CVE-2011-0411): drop it, or drop the client. */
		s->pipelining_violation = true;
		if (s->srv->set.forbid_unauth_pipelining) {
			log_info("improper command pipelining after STARTTLS from %s", s->namaddr);
			smtpd_reply_raw(s, R_SYNC_ERROR);
			smtpd_close_after_reply(s);
			return;
		}
		evbuffer_drain(in, evbuffer_get_length(in));
	}
	smtpd_reply(s, R_TLS_READY);
	smtpd_count_ok(s, VERB_STARTTLS);
	s->state = S_STARTTLS;
	bufferevent_disable(s->bev, EV_READ);
}
