/*
 * smtp - the smtp and lmtp agents: resolve the nexthop into hosts, then
 * hold sessions with them in order until every recipient is settled.
 *
 * Settings are read from the transport's configuration (main.cf under the
 * service's -o overrides) with the smtp_ or lmtp_ prefix, so a master.cf
 * "relay" or "notify" service can carry its own TLS and SASL settings.
 * A host that fails before the message went out (connect, greeting, TLS,
 * AUTH, lost connection) passes the pending recipients to the next host;
 * when no host is left they take the last host's failure (4xx deferred,
 * 5xx bounced). LMTP "unix:" paths that are relative resolve against
 * queue_directory, as Postfix's "unix:private/dovecot-lmtp" does.
 *
 * Public: deliver_smtp, deliver_lmtp.
 * Errors: every recipient ends sent, deferred or bounced with a reply that
 * names the host and the command, or DNS's reason (relay=none).
 */
#include "deliver/smtp.h"

#include <event2/event.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "deliver/deliver_maps.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "mail/addr.h"

/* p - a prefixed parameter: smtp_x or lmtp_x */
static const char *p(struct config *cf, bool lmtp, const char *name)
{
	char full[128];

	snprintf(full, sizeof(full), "%s_%s", lmtp ? "lmtp" : "smtp", name);
	return config_str(cf, full);
}

/* pt - a prefixed time parameter, in seconds */
static long pt(struct config *cf, bool lmtp, const char *name)
{
	char full[128];

	snprintf(full, sizeof(full), "%s_%s", lmtp ? "lmtp" : "smtp", name);
	return config_time(cf, full);
}

/* pb - a prefixed boolean parameter */
static bool pb(struct config *cf, bool lmtp, const char *name)
{
	char full[128];

	snprintf(full, sizeof(full), "%s_%s", lmtp ? "lmtp" : "smtp", name);
	return config_bool(cf, full);
}

/* load_settings - the session settings of this transport */
static int load_settings(struct config *cf, bool lmtp, struct smtp_settings *s, struct buf *err)
{
	char name[64];

	s->lmtp = lmtp;
	s->helo_name = lmtp ? config_str(cf, "lmtp_lhlo_name") : p(cf, lmtp, "helo_name");
	s->connect_timeout = pt(cf, lmtp, "connect_timeout");
	s->helo_timeout = lmtp ? config_time(cf, "lmtp_lhlo_timeout") : pt(cf, lmtp, "helo_timeout");
	s->starttls_timeout = pt(cf, lmtp, "starttls_timeout");
	s->mail_timeout = pt(cf, lmtp, "mail_timeout");
	s->rcpt_timeout = pt(cf, lmtp, "rcpt_timeout");
	s->data_init_timeout = pt(cf, lmtp, "data_init_timeout");
	s->data_xfer_timeout = pt(cf, lmtp, "data_xfer_timeout");
	s->data_done_timeout = pt(cf, lmtp, "data_done_timeout");
	s->quit_timeout = pt(cf, lmtp, "quit_timeout");
	if (s->connect_timeout <= 0)
		s->connect_timeout = 30;
	s->tls_wrapper = pb(cf, lmtp, "tls_wrappermode");
	s->tls_servername = p(cf, lmtp, "tls_servername");
	s->sasl_enable = pb(cf, lmtp, "sasl_auth_enable");
	s->sasl_sender_dependent = pb(cf, lmtp, "sender_dependent_authentication");
	s->sasl_soft_bounce = pb(cf, lmtp, "sasl_auth_soft_bounce");
	s->sasl_mech_filter = p(cf, lmtp, "sasl_mechanism_filter");
	s->sasl_opts = p(cf, lmtp, "sasl_security_options");
	s->sasl_tls_opts = p(cf, lmtp, "sasl_tls_security_options");
	s->skip_5xx_greeting = pb(cf, lmtp, "skip_5xx_greeting");
	s->cache = !lmtp && !s->sasl_sender_dependent
		   && (pb(cf, lmtp, "connection_cache_on_demand")
		       || *p(cf, lmtp, "connection_cache_destinations"));
	s->cache_idle = pt(cf, lmtp, "connection_cache_time_limit");
	s->tls = xcalloc(1, sizeof(*s->tls));
	s->tls->cf = cf;
	s->tls->prefix = lmtp ? "lmtp" : "smtp";
	if (s->sasl_enable) {
		snprintf(name, sizeof(name), "%s_sasl_password_maps", lmtp ? "lmtp" : "smtp");
		if ((s->sasl_maps = deliver_maps_open(cf, name, err)) == NULL)
			return -1;
	}
	s->generic = smtp_generic_open(cf, lmtp, err);
	return s->generic == NULL && err->len ? -1 : 0;
}

/* map_envelope - the sender and recipients as they go on the wire */
static int map_envelope(struct smtp_settings *s, const struct delivery *d, struct buf *err)
{
	struct buf a = BUF_INIT, ext = BUF_INIT;
	int ret = 0;

	for (size_t i = 0; i <= d->nrcpt && ret == 0; i++) {
		ret = smtp_generic_addr(s->generic, i ? d->rcpt[i - 1].address : d->sender, &a, err);
		addr_external(buf_cstr(&a), &ext);
		strv_push(&s->env, buf_cstr(&ext));
	}
	buf_free(&a);
	buf_free(&ext);
	return ret;
}

/* map_content - the top-level headers through the generic maps */
static int map_content(struct smtp_settings *s, struct buf *content, struct buf *err)
{
	struct buf out = BUF_INIT;
	bool changed = false;

	if (s->generic == NULL)
		return 0;
	if (smtp_generic_content(s->generic, content, &out, &changed, err) < 0) {
		buf_free(&out);
		return -1;
	}
	if (changed) {
		struct buf t = *content;
		*content = out;
		out = t;
	}
	buf_free(&out);
	return 0;
}

/* free_settings - release tables and the TLS context */
static void free_settings(struct smtp_settings *s)
{
	deliver_maps_close(&s->sasl_maps);
	smtp_generic_close(&s->generic);
	strv_free(&s->env);
	if (s->tls)
		smtp_tls_lazy_free(s->tls);
	xfree(&s->tls);
}

/* dns_opts - lookup style from the smtp_/lmtp_ DNS parameters */
static void dns_opts(struct config *cf, bool lmtp, struct smtp_dns_opts *o, struct buf *servers)
{
	const char *level = p(cf, lmtp, "dns_support_level");
	const char *lookup = p(cf, lmtp, "host_lookup");
	const char *pref = p(cf, lmtp, "address_preference");
	const char *protos = config_str(cf, "inet_protocols");
	struct strv v = STRV_INIT;

	o->lmtp = lmtp;
	o->use_dns = strstr(lookup, "dns") != NULL && strcmp(level, "disabled") != 0
		     && !config_bool(cf, "disable_dns_lookups");
	o->use_mx = !lmtp && o->use_dns;
	o->family_pref = strcmp(pref, "ipv4") == 0 ? AF_INET : strcmp(pref, "ipv6") == 0 ? AF_INET6
											: AF_UNSPEC;
	o->ipv4 = strstr(protos, "all") || strstr(protos, "ipv4");
	o->ipv6 = strstr(protos, "all") || strstr(protos, "ipv6");
	if (!o->ipv4 && !o->ipv6)
		o->ipv4 = true;
	config_list(cf, "dns_servers", &v);
	for (size_t i = 0; i < v.n; i++)
		buf_printf(servers, "%s%s", i ? "," : "", v.v[i]);
	strv_free(&v);
	o->servers = buf_cstr(servers);
	o->default_port = lmtp ? 24 : 25;
	o->timeout = 30;
	o->address_limit = (size_t)config_int(cf, lmtp ? "lmtp_mx_address_limit" : "smtp_mx_address_limit");
}

/* nexthop_of - the delivery's nexthop; relative LMTP unix paths under queue_directory */
static void nexthop_of(struct delivery *d, bool lmtp, struct buf *out, struct buf *domain)
{
	const char *nh = d->nexthop && *d->nexthop ? d->nexthop : "";
	const char *first_end;

	if (lmtp && str_has_prefix(nh, "unix:") && nh[5] != '/')
		buf_printf(out, "unix:%s/%s", config_str(d->cf, "queue_directory"), nh + 5);
	else
		buf_set(out, nh);
	/* the first destination's domain, for SNI and "secure" name checks */
	first_end = nh + strcspn(nh, ", \t");
	if (*nh == '[') {
		const char *close = memchr(nh, ']', (size_t)(first_end - nh));
		buf_append(domain, nh + 1, close ? (size_t)(close - nh - 1) : 0);
	} else {
		const char *colon = memchr(nh, ':', (size_t)(first_end - nh));
		buf_append(domain, nh, (size_t)((colon ? colon : first_end) - nh));
	}
}

/* settings_for - the transport's settings, kept for later deliveries of
 * this agent process (the TLS context, SASL and generic tables are costly
 * to set up); NULL with err when they cannot be loaded */
static struct smtp_settings *settings_for(struct config *cf, bool lmtp, struct buf *err)
{
	static struct smtp_settings kept;
	static struct config *kept_cf;
	static bool kept_lmtp, valid;

	if (valid && kept_cf == cf && kept_lmtp == lmtp) {
		strv_free(&kept.env);
		return &kept;
	}
	if (valid)
		free_settings(&kept);
	memset(&kept, 0, sizeof(kept));
	valid = false;
	if (load_settings(cf, lmtp, &kept, err) < 0) {
		free_settings(&kept);
		return NULL;
	}
	kept_cf = cf;
	kept_lmtp = lmtp;
	valid = true;
	return &kept;
}

/* smtp_agent - the shared body of the smtp and lmtp agents */
static void smtp_agent(struct delivery *d, bool lmtp)
{
	struct smtp_settings *s;
	struct smtp_dns_opts o = { 0 };
	struct smtp_hosts hosts = { 0 };
	struct smtp_dns_error derr = { .text = BUF_INIT };
	struct smtp_session_result res = { .text = BUF_INIT };
	struct buf content = BUF_INIT, err = BUF_INIT, servers = BUF_INIT, nh = BUF_INIT,
		   domain = BUF_INIT;
	enum smtp_rcpt_state *states = xcalloc(d->nrcpt ? d->nrcpt : 1, sizeof(*states));
	static struct event_base *base;	/* lives with the process: cached connections use it */
	const char *relay = lmtp ? "lmtp" : "smtp";
	bool pending = true;

	signal(SIGPIPE, SIG_IGN);
	if ((s = settings_for(d->cf, lmtp, &err)) == NULL) {
		deliver_set_all(d, "4.3.0", "none", "%s", buf_cstr(&err));
		goto done;
	}
	if (deliver_content_read(d, &content) < 0) {
		deliver_set_all(d, "4.3.0", "none", "cannot read queue file: %m");
		goto done;
	}
	if (map_envelope(s, d, &err) < 0 || map_content(s, &content, &err) < 0) {
		deliver_set_all(d, "4.3.0", "none", "%s", buf_cstr(&err));
		goto done;
	}
	nexthop_of(d, lmtp, &nh, &domain);
	dns_opts(d->cf, lmtp, &o, &servers);
	if (smtp_hosts_resolve(buf_cstr(&nh), &o, &hosts, &derr) < 0) {
		deliver_set_all(d, derr.dsn[0] ? derr.dsn : "4.4.3", "none", "%s",
				derr.text.len ? buf_cstr(&derr.text) : "no destination host");
		goto done;
	}
	for (size_t h = 0; h < hosts.n; h++) {
		if (hosts.v[h].sa.ss_family == AF_UNIX) {	/* Postfix: myhostname[socket path] */
			xfree(&hosts.v[h].name);
			hosts.v[h].name = xstrdup(config_str(d->cf, "myhostname"));
		}
	}
	if (base == NULL && (base = event_base_new()) == NULL) {
		deliver_set_all(d, "4.3.0", "none", "cannot create event loop");
		goto done;
	}
	for (size_t i = 0; i < d->nrcpt; i++)
		states[i] = d->rcpt[i].status == DELIVERY_PENDING ? RCPT_TODO : RCPT_DONE;
	for (size_t h = 0; h < hosts.n && pending; h++) {
		smtp_session_run(base, s, d, buf_cstr(&domain), &hosts.v[h], states, &content, &res);
		if (res.reused_dead)	/* the cache is empty now: same host, new connection */
			smtp_session_run(base, s, d, buf_cstr(&domain), &hosts.v[h], states, &content,
					 &res);
		if (res.host_failed)
			log_info("%s (trying the next host if any)", buf_cstr(&res.text));
		pending = false;
		for (size_t i = 0; i < d->nrcpt; i++)
			if (states[i] == RCPT_TODO)
				pending = true;
		if (!res.host_failed && pending) {
			/* the session ended with recipients never tried: a protocol surprise */
			snprintf(res.dsn, sizeof(res.dsn), "4.4.2");
			buf_set(&res.text, "session ended before every recipient was tried");
		}
	}
	if (pending) {
		const struct smtp_host *last = hosts.n ? &hosts.v[hosts.n - 1] : NULL;
		struct buf r = BUF_INIT;
		if (last && last->port)
			buf_printf(&r, "%s[%s]:%d", last->name, last->addr_text, last->port);
		else if (last)
			buf_printf(&r, "%s[%s]", last->name, last->addr_text);
		else
			buf_set(&r, relay);
		for (size_t i = 0; i < d->nrcpt; i++)
			if (states[i] == RCPT_TODO)
				deliver_set(&d->rcpt[i], res.dsn[0] ? res.dsn : "4.4.1", buf_cstr(&r), "%s",
					    res.text.len ? buf_cstr(&res.text) : "no host could be reached");
		buf_free(&r);
	}
done:
	smtp_hosts_free(&hosts);
	buf_free(&derr.text);
	buf_free(&res.text);
	buf_free(&content);
	buf_free(&err);
	buf_free(&servers);
	buf_free(&nh);
	buf_free(&domain);
	xfree(&states);
}

/* deliver_smtp - the smtp agent */
void deliver_smtp(struct delivery *d)
{
	smtp_agent(d, false);
}

/* deliver_lmtp - the lmtp agent */
void deliver_lmtp(struct delivery *d)
{
	smtp_agent(d, true);
}
