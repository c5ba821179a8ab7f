/*
 * smtp - the SMTP/LMTP client's pieces: destinations and DNS
 * (smtp_dns.c), one session as a libevent state machine with STARTTLS and
 * AUTH (smtp_session.c, smtp_tls.c, smtp_sasl.c), generic(5) address
 * mapping (smtp_generic.c), and the agent that tries
 * hosts in order until every recipient has a final or deferred result
 * (smtp.c).
 */
#ifndef OUTPOST_DELIVER_SMTP_H
#define OUTPOST_DELIVER_SMTP_H

#include <stdbool.h>
#include <sys/socket.h>

#include "deliver/deliver.h"
#include "lib/buf.h"
#include "lib/str.h"

struct event_base;
struct ssl_ctx_st;
struct deliver_maps;
struct smtp_generic;

/* One host to try: name (for logs, SASL, TLS) and one address. */
struct smtp_host {
	char *name;			/* "mx1.example.com", or the unix socket path */
	char addr_text[64];		/* "192.0.2.1", "2001:db8::1", "private/lmtp" */
	struct sockaddr_storage sa;
	socklen_t salen;
	int port;			/* 0 for unix sockets */
	int pref;			/* MX preference (0 for non-MX) */
	char *dest;			/* the nexthop entry as written, for SASL lookups */
};

struct smtp_hosts {
	struct smtp_host *v;
	size_t n, cap;
};

/* What DNS said when no host came out. */
struct smtp_dns_error {
	char dsn[16];		/* "4.4.3" (try again) or "5.4.4" (no such host) */
	struct buf text;
};

struct smtp_dns_opts {
	bool lmtp;
	bool use_mx;		/* smtp_dns_support_level != disabled, smtp_host_lookup has dns */
	bool use_dns;		/* else getaddrinfo (smtp_host_lookup = native) */
	int family_pref;	/* AF_INET, AF_INET6 or AF_UNSPEC (smtp_address_preference) */
	bool ipv4, ipv6;	/* inet_protocols */
	const char *servers;	/* dns_servers, comma separated, "" = resolv.conf */
	int default_port;
	long timeout;		/* seconds for the whole lookup */
	size_t address_limit;	/* smtp_mx_address_limit, 0 = none */
};

int smtp_hosts_resolve(const char *nexthop, const struct smtp_dns_opts *o,
		       struct smtp_hosts *out, struct smtp_dns_error *err);
void smtp_hosts_free(struct smtp_hosts *h);
void smtp_hosts_order(struct smtp_host *v, size_t n, int family_pref);

/* Settings of one delivery, read once from the service's configuration. */
struct smtp_settings {
	bool lmtp;
	const char *helo_name;
	long connect_timeout, helo_timeout, starttls_timeout, mail_timeout,
		rcpt_timeout, data_init_timeout, data_xfer_timeout,
		data_done_timeout, quit_timeout;
	const char *tls_level;		/* none may encrypt verify secure */
	bool tls_wrapper;
	const char *tls_servername;	/* "", "hostname", "nexthop", or a name */
	struct smtp_tls_lazy *tls;	/* the TLS context, made on first use */
	bool sasl_enable;
	bool sasl_sender_dependent;
	bool sasl_soft_bounce;
	const char *sasl_mech_filter;
	const char *sasl_opts, *sasl_tls_opts;
	struct deliver_maps *sasl_maps;
	struct smtp_generic *generic;	/* *_generic_maps, NULL when empty */
	struct strv env;	/* envelope in external form after generic(5) mapping:
				 * [0] the sender, [1 + i] recipient i */
	bool skip_5xx_greeting;
	bool cache;		/* keep the connection for the next delivery of this process */
	long cache_idle;	/* smtp_connection_cache_time_limit */
};

/* Per-recipient state inside one attempt. */
enum smtp_rcpt_state {
	RCPT_TODO,		/* pending, to send in this session */
	RCPT_ACCEPTED,		/* RCPT got 2xx */
	RCPT_DONE,		/* result set */
};

struct smtp_session_result {
	bool host_failed;	/* try the next host for what is still pending */
	bool reused_dead;	/* a cached connection had died: try the host afresh */
	bool data_sent;		/* the message went out on this connection */
	char dsn[16];		/* host-level failure code */
	struct buf text;	/* host-level failure text */
};

void smtp_session_cache_drop(void);
/* smtp_session_cache_expire - drop it if idle past its time limit */
void smtp_session_cache_expire(void);
void smtp_session_run(struct event_base *base, const struct smtp_settings *s,
		      struct delivery *d, const char *nexthop_domain,
		      const struct smtp_host *h, enum smtp_rcpt_state *states,
		      const struct buf *content, struct smtp_session_result *res);

/* smtp_reply.c: replies from the server (untrusted input) */
struct smtp_reply {
	int code;		/* 0 until the first line */
	struct buf text;	/* "250 first line second line …" */
	struct buf lines;	/* the raw lines, LF-separated, for EHLO keywords */
};

struct smtp_ehlo {
	bool pipelining, dsn, eightbit, smtputf8, starttls, size_ext;
	long size_limit;	/* 0 = none announced */
	struct buf mechs;	/* AUTH mechanisms, space-separated */
};

void smtp_reply_init(struct smtp_reply *r);
void smtp_reply_free(struct smtp_reply *r);
void smtp_reply_reset(struct smtp_reply *r);
int smtp_reply_line(struct smtp_reply *r, const char *line, size_t len);
void smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ehlo *e);

/* smtp_tls.c */
struct ssl_ctx_st *smtp_tls_ctx_new(struct config *cf, const char *prefix, struct buf *err);

/* The client context is made when a session first goes for TLS: making
 * one (OpenSSL's cipher and provider tables) costs more CPU than a whole
 * plain delivery, and most relay sessions never use it. */
struct smtp_tls_lazy {
	struct config *cf;
	const char *prefix;		/* "smtp" or "lmtp" */
	struct ssl_ctx_st *ctx;
	bool tried;
};
struct ssl_ctx_st *smtp_tls_ctx_get(struct smtp_tls_lazy *t);
void smtp_tls_lazy_free(struct smtp_tls_lazy *t);
void smtp_tls_level(struct config *cf, const char *prefix, const char *nexthop,
		    struct buf *level, struct buf *err);

/* smtp_sasl.c */
int smtp_sasl_credentials(const struct smtp_settings *s, const char *sender,
			  const char *hostname, const char *dest, struct buf *user,
			  struct buf *pass, struct buf *err);
const char *smtp_sasl_choose(const struct smtp_settings *s, const char *offered,
			     bool tls, struct buf *why);
void smtp_base64(const char *in, size_t len, struct buf *out);
int smtp_cram_md5(const char *challenge_b64, const struct buf *user, const struct buf *pass,
		  struct buf *out);

/* smtp_generic.c: smtp_generic_maps / lmtp_generic_maps */
struct smtp_generic *smtp_generic_open(struct config *cf, bool lmtp, struct buf *err);
int smtp_generic_addr(struct smtp_generic *g, const char *addr, struct buf *out,
		      struct buf *err);
int smtp_generic_content(struct smtp_generic *g, const struct buf *in, struct buf *out,
			 bool *changed, struct buf *err);
void smtp_generic_close(struct smtp_generic **gp);

/* smtp_proto helpers */
void smtp_xtext(const char *in, struct buf *out);
void smtp_reply_dsn(int code, const char *text, char dsn[16]);
void smtp_stuff(const struct buf *content, struct buf *out);

#endif
