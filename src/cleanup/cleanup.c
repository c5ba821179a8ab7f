/*
 * cleanup - one message from smtpd or pickup into a durable queue file.
 *
 * Public (cleanup.h): cleanup_init, cleanup_shutdown, cleanup_open,
 * cleanup_queue_id, cleanup_sender, cleanup_body_8bit, cleanup_recipient,
 * cleanup_recipient_orig, cleanup_line, cleanup_line_cont, cleanup_text,
 * cleanup_hold, cleanup_discard, cleanup_filter, cleanup_redirect,
 * cleanup_bcc, cleanup_prepend, cleanup_finish, cleanup_finish_sync,
 * cleanup_abort.
 *
 * Content goes to the queue file as it arrives (cleanup_message.c); the
 * envelope is rewritten and expanded at cleanup_finish(), then the file
 * is committed (group commit when cleanup_init() got an event base). Any
 * failure removes the file and reports the SMTP reply; nothing half
 * written is ever visible under a queue ID.
 *
 * Bad input: none is fatal. A bad main.cf setting (unknown class, a table
 * that cannot be opened) fails cleanup_init() with the parameter named.
 */
#include "cleanup/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cleanup/cleanup_impl.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "table/table.h"

/* Settings per cleanup service: the default one first, then those named
 * by cleanup_service_name in a caller's configuration (a master.cf
 * "sender-cleanup … cleanup -o header_checks=…" entry), loaded on first use. */
static struct cleanup_cf **cleanup_cfs;
static size_t cleanup_ncfs;
static struct config *cleanup_base_cf;
static struct qfile_committer *cleanup_committer;
static struct resolve_ctx *cleanup_resolve;

/* cleanup_local_domain - virtual(5) local-domain test, via resolve.h */
static bool cleanup_local_domain(const char *domain, void *ctx)
{
	(void)ctx;
	return cleanup_resolve && resolve_local_domain_cb(domain, cleanup_resolve);
}

static void replace_str(char **field, const char *value);

/* cleanup_cf_free - one service's settings and tables */
static void cleanup_cf_free(struct cleanup_cf **gp)
{
	struct cleanup_cf *g = *gp;

	if (g == NULL)
		return;
	free(g->service);
	free(g->queue_dir);
	free(g->myhostname);
	free(g->remote_header_rewrite_domain);
	strv_free(&g->header_rewrite_clients);
	strv_free(&g->inet_interfaces);
	strv_free(&g->always_bcc);
	if (g->mynetworks)
		resolve_list_free(&g->mynetworks);
	if (g->sender_bcc)
		table_list_close(&g->sender_bcc);
	if (g->recipient_bcc)
		table_list_close(&g->recipient_bcc);
	rewrite_cf_free(&g->rw);
	rewrite_cf_free(&g->rw_plain);
	if (g->checks)
		cleanup_checks_free(&g->checks);
	if (g->owned_cf)
		config_free(&g->owned_cf);
	free(g);
	*gp = NULL;
}

/* open_maps - a *_maps parameter; NULL when empty */
static int open_maps(struct config *cf, const char *name, struct table_list **out,
		     struct buf *err)
{
	const char *v = config_str(cf, name);
	struct buf why = BUF_INIT;

	*out = NULL;
	if (str_is_blank(v))
		return 0;
	if ((*out = table_list_open(v, TABLE_F_FOLD, &why)) == NULL) {
		buf_printf(err, "%s: %s", name, buf_cstr(&why));
		buf_free(&why);
		return -1;
	}
	return 0;
}

/* header_from_format - "standard" (Name <addr>) or "obsolete" (addr (Name)) */
static int header_from_format(struct config *cf, bool *obsolete, struct buf *err)
{
	const char *v = config_str(cf, "header_from_format");

	*obsolete = str_eq_case(v, "obsolete");
	if (*obsolete || str_eq_case(v, "standard"))
		return 0;
	buf_printf(err, "header_from_format: unknown value \"%s\" (use standard or obsolete)", v);
	return -1;
}

/* cleanup_cf_new - settings and tables of one cleanup service */
static struct cleanup_cf *cleanup_cf_new(const char *service, struct config *cf,
					 struct config *owned, struct buf *err)
{
	struct cleanup_cf *g = xcalloc(1, sizeof(*g));

	g->service = xstrdup(service);
	g->cf = cf;
	g->owned_cf = owned;
	g->queue_dir = xstrdup(config_str(cf, "queue_directory"));
	g->myhostname = xstrdup(config_str(cf, "myhostname"));
	g->message_size_limit = config_size(cf, "message_size_limit");
	g->header_size_limit = config_size(cf, "header_size_limit");
	g->hopcount_limit = config_int(cf, "hopcount_limit");
	g->always_add_missing_headers = config_bool(cf, "always_add_missing_headers");
	g->enable_original_recipient = config_bool(cf, "enable_original_recipient");
	g->remote_header_rewrite_domain = xstrdup(config_str(cf, "remote_header_rewrite_domain"));
	g->sasl_authenticated_header = config_bool(cf, "smtpd_sasl_authenticated_header");
	config_list(cf, "local_header_rewrite_clients", &g->header_rewrite_clients);
	config_list(cf, "inet_interfaces", &g->inet_interfaces);
	config_list(cf, "always_bcc", &g->always_bcc);
	rewrite_cf_init(&g->rw);
	rewrite_cf_init(&g->rw_plain);
	if (header_from_format(cf, &g->from_obsolete, err) < 0 ||
	    (strv_contains(&g->header_rewrite_clients, "permit_mynetworks") &&
	     (g->mynetworks = resolve_list_new("mynetworks", config_str(cf, "mynetworks"),
					       false, err)) == NULL) ||
	    rewrite_cf_load(&g->rw, cf, err) < 0 ||
	    open_maps(cf, "sender_bcc_maps", &g->sender_bcc, err) < 0 ||
	    open_maps(cf, "recipient_bcc_maps", &g->recipient_bcc, err) < 0 ||
	    (g->checks = cleanup_checks_new(cf, err)) == NULL) {
		cleanup_cf_free(&g);
		return NULL;
	}
	g->rw.is_local_domain = cleanup_local_domain;
	/* the same local-context settings, without tables or masquerading */
	replace_str(&g->rw_plain.myorigin, g->rw.myorigin);
	replace_str(&g->rw_plain.mydomain, g->rw.mydomain);
	replace_str(&g->rw_plain.recipient_delimiter, g->rw.recipient_delimiter);
	g->rw_plain.append_at_myorigin = g->rw.append_at_myorigin;
	g->rw_plain.append_dot_mydomain = g->rw.append_dot_mydomain;
	g->rw_plain.swap_bangpath = g->rw.swap_bangpath;
	g->rw_plain.allow_percent_hack = g->rw.allow_percent_hack;
	g->rw_plain.masquerade_classes = 0;
	g->rw_plain.is_local_domain = cleanup_local_domain;
	return g;
}

/* cleanup_cf_add - remember a loaded service */
static void cleanup_cf_add(struct cleanup_cf *g)
{
	cleanup_cfs = xreallocarray(cleanup_cfs, cleanup_ncfs + 1, sizeof(*cleanup_cfs));
	cleanup_cfs[cleanup_ncfs++] = g;
}

/* cleanup_service_cf - the configuration a cleanup service sees: its
 * master.cf -o overrides over cf; cf itself for "cleanup" without an entry */
static struct config *cleanup_service_cf(struct config *cf, const char *name,
					 struct config **owned, struct buf *err)
{
	const struct master_service *svc = config_service(cf, name);

	*owned = NULL;
	if (svc == NULL) {
		if (strcmp(name, "cleanup") == 0)
			return cf;
		buf_printf(err, "cleanup_service_name: no master.cf service \"%s\"", name);
		return NULL;
	}
	if ((*owned = config_for_master_service(cf, svc, err)) == NULL)
		return NULL;
	return *owned;
}

/* cleanup_cf_for - the settings for a caller's configuration */
static struct cleanup_cf *cleanup_cf_for(struct config *cf, struct buf *err)
{
	const char *name = config_str(cf ? cf : cleanup_base_cf, "cleanup_service_name");
	struct config *scf, *owned;
	struct cleanup_cf *g;

	for (size_t i = 0; i < cleanup_ncfs; i++)
		if (strcmp(cleanup_cfs[i]->service, name) == 0)
			return cleanup_cfs[i];
	if ((scf = cleanup_service_cf(cleanup_base_cf, name, &owned, err)) == NULL)
		return NULL;
	if ((g = cleanup_cf_new(name, scf, owned, err)) == NULL) {
		if (owned)
			config_free(&owned);
		return NULL;
	}
	cleanup_cf_add(g);
	return g;
}

/* cleanup_init - per-process settings, tables and the group committer */
int cleanup_init(struct event_base *base, struct config *cf, struct buf *err)
{
	if (cleanup_base_cf != NULL)
		cleanup_shutdown();
	cleanup_base_cf = cf;
	if ((cleanup_resolve = resolve_new(cf, err)) == NULL || cleanup_cf_for(cf, err) == NULL) {
		cleanup_shutdown();
		return -1;
	}
	if (base != NULL)
		cleanup_committer = qfile_committer_new(base);
	return 0;
}

/* cleanup_shutdown - release what cleanup_init() set up */
void cleanup_shutdown(void)
{
	if (cleanup_committer)
		qfile_committer_free(&cleanup_committer);
	if (cleanup_resolve)
		resolve_free(&cleanup_resolve);
	for (size_t i = 0; i < cleanup_ncfs; i++)
		cleanup_cf_free(&cleanup_cfs[i]);
	xfree(&cleanup_cfs);
	cleanup_ncfs = 0;
	cleanup_base_cf = NULL;
}

/* dup_or_null - copy an optional string */
static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* client_is_local - local_header_rewrite_clients for this client */
static bool client_is_local(struct cleanup *c)
{
	struct cleanup_cf *g = c->ccf;
	const struct strv *list = &g->header_rewrite_clients;
	bool yes = false;

	if (c->local)
		return true;
	for (size_t i = 0; i < list->n && !yes; i++) {
		const char *w = list->v[i];

		if (strcmp(w, "static:all") == 0 || strcmp(w, "permit") == 0) {
			yes = true;
		} else if (strcmp(w, "permit_sasl_authenticated") == 0) {
			yes = c->sasl_username != NULL;
		} else if (strcmp(w, "permit_inet_interfaces") == 0 && c->client_addr) {
			yes = strncmp(c->client_addr, "127.", 4) == 0 ||
			      strcmp(c->client_addr, "::1") == 0 ||
			      strv_contains(&g->inet_interfaces, c->client_addr);
		} else if (strcmp(w, "permit_mynetworks") == 0 && c->client_addr && g->mynetworks) {
			struct buf err = BUF_INIT;

			yes = resolve_list_match_host(g->mynetworks,
						      c->client_name ? c->client_name : "",
						      c->client_addr, &err) == 1;
			buf_free(&err);
		}
	}
	return yes;
}

/* cleanup_open - a new queue file in incoming/ for one message */
struct cleanup *cleanup_open(struct config *cf, const struct cleanup_client *cl,
			     struct buf *err)
{
	struct cleanup *c;
	struct qfile_writer *w;

	struct cleanup_cf *g;
	struct buf why = BUF_INIT;

	if (cleanup_base_cf == NULL) {
		buf_set(err, CLEANUP_R_WRITE);
		log_warn("cleanup_open: cleanup_init was not called");
		return NULL;
	}
	if ((g = cleanup_cf_for(cf, &why)) == NULL) {
		log_warn("cleanup: %s", buf_cstr(&why));
		buf_set(err, CLEANUP_R_WRITE);
		buf_free(&why);
		return NULL;
	}
	if ((w = qfile_create(g->queue_dir, "incoming", err)) == NULL)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->ccf = g;
	{
		struct strv ovr = STRV_INIT;

		config_list(cf ? cf : g->cf, "receive_override_options", &ovr);
		c->no_mappings = strv_contains(&ovr, "no_address_mappings");
		c->no_checks = strv_contains(&ovr, "no_header_body_checks") || cl->internal;
		strv_free(&ovr);
	}
	c->rw = c->no_mappings ? &g->rw_plain : &g->rw;
	c->w = w;
	snprintf(c->id, sizeof(c->id), "%s", qfile_writer_id(w));
	gettimeofday(&c->arrival, NULL);
	qfile_set_arrival(w, &c->arrival);
	c->client_addr = dup_or_null(cl->addr);
	c->client_name = dup_or_null(cl->name);
	c->reverse_name = dup_or_null(cl->reverse_name);
	c->client_port = cl->port;
	c->helo = dup_or_null(cl->helo);
	c->proto = xstrdup(cl->proto ? cl->proto : "SMTP");
	c->sasl_method = dup_or_null(cl->sasl_method);
	c->sasl_username = dup_or_null(cl->sasl_username);
	c->tls_summary = dup_or_null(cl->tls_summary);
	c->server_name = dup_or_null(cl->server_name);
	c->local_user = dup_or_null(cl->local_user);
	c->local = strcmp(c->proto, "local") == 0;
	c->local_client = client_is_local(c);
	c->rewrite_headers = c->local_client || *c->ccf->remote_header_rewrite_domain != '\0';
	return c;
}

/* cleanup_queue_id - the queue ID, known from cleanup_open() on */
const char *cleanup_queue_id(const struct cleanup *c)
{
	return c->id;
}

/* cleanup_sender - the envelope sender as received ("" for <>) */
void cleanup_sender(struct cleanup *c, const char *sender, const char *ret,
		    const char *envid, long declared_size, bool smtputf8)
{
	free(c->sender);
	free(c->ret);
	free(c->envid);
	c->sender = xstrdup(sender ? sender : "");
	c->ret = dup_or_null(ret);
	c->envid = dup_or_null(envid);
	c->declared_size = declared_size;
	c->smtputf8 = smtputf8;
}

/* cleanup_body_8bit - BODY=8BITMIME, for the queue file */
void cleanup_body_8bit(struct cleanup *c, bool yes)
{
	c->body_8bit = yes;
}

/* cleanup_full_name - empty means none, as with sendmail -F "" */
void cleanup_full_name(struct cleanup *c, const char *name)
{
	free(c->full_name);
	c->full_name = name && *name ? xstrdup(name) : NULL;
}

/* cleanup_recipient - one envelope recipient as received */
void cleanup_recipient(struct cleanup *c, const char *rcpt, const char *orcpt,
		       unsigned notify)
{
	cleanup_recipient_orig(c, rcpt, orcpt, notify, NULL);
}

/* cleanup_recipient_orig - a recipient that already has an original
 * recipient (forwarded mail keeps the one of the alias it came through) */
void cleanup_recipient_orig(struct cleanup *c, const char *rcpt, const char *orcpt,
			    unsigned notify, const char *original)
{
	if (c->nrcpt == c->rcpt_cap) {
		c->rcpt_cap = c->rcpt_cap ? 2 * c->rcpt_cap : 4;
		c->rcpt = xreallocarray(c->rcpt, c->rcpt_cap, sizeof(*c->rcpt));
	}
	c->rcpt[c->nrcpt++] = (struct cleanup_rcpt){ xstrdup(rcpt), dup_or_null(orcpt),
						     notify, dup_or_null(original) };
}

/* cleanup_line - one content line (no terminator, dot-unstuffed); errors
 * stick to the message and are reported by cleanup_finish() */
int cleanup_line(struct cleanup *c, const char *line, size_t len)
{
	if (!c->started)
		cleanup_start_content(c);
	return cleanup_content_line(c, line, len);
}

/* cleanup_text - content already in memory: lines separated by LF (the
 * last one may lack it), each through cleanup_line() */
int cleanup_text(struct cleanup *c, const char *text, size_t len)
{
	const char *s = text, *end = text + len;
	int rc = 0;

	while (s < end && rc == 0) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);

		rc = cleanup_line(c, s, n);
		s += n + (nl != NULL);
	}
	return rc;
}

/* cleanup_line_cont - the rest of an over-long line whose first part went
 * to cleanup_line() (smtpd's continuation pieces): joined, no line break */
int cleanup_line_cont(struct cleanup *c, const char *text, size_t len)
{
	if (!c->started)
		return cleanup_line(c, text, len);
	return cleanup_content_cont(c, text, len);
}

/* replace_str - set an optional string field */
static void replace_str(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value ? value : "");
}

/* cleanup_hold - keep the message in hold/ (access HOLD) */
void cleanup_hold(struct cleanup *c, const char *reason)
{
	replace_str(&c->hold, reason);
}

/* cleanup_discard - accept and drop the message (access DISCARD) */
void cleanup_discard(struct cleanup *c, const char *reason)
{
	replace_str(&c->discard, reason);
}

/* cleanup_filter - content_filter for this message (access FILTER) */
void cleanup_filter(struct cleanup *c, const char *transport_nexthop)
{
	replace_str(&c->filter, transport_nexthop);
}

/* cleanup_redirect - every recipient replaced by one address (REDIRECT) */
void cleanup_redirect(struct cleanup *c, const char *address)
{
	replace_str(&c->redirect, address);
}

/* cleanup_bcc - one more recipient, without DSN notices (BCC) */
void cleanup_bcc(struct cleanup *c, const char *address)
{
	strv_push(&c->bcc, address);
}

/* cleanup_prepend - a header placed before Received: (access PREPEND) */
void cleanup_prepend(struct cleanup *c, const char *header)
{
	strv_push(&c->prepend, header);
}

/* cleanup_free - everything of one message; the writer must be gone */
static void cleanup_free(struct cleanup *c)
{
	if (c->w)
		qfile_abort(&c->w);
	free(c->client_addr);
	free(c->client_name);
	free(c->reverse_name);
	free(c->helo);
	free(c->proto);
	free(c->sasl_method);
	free(c->sasl_username);
	free(c->tls_summary);
	free(c->server_name);
	free(c->local_user);
	free(c->sender);
	free(c->ret);
	free(c->envid);
	free(c->full_name);
	for (size_t i = 0; i < c->nrcpt; i++) {
		free(c->rcpt[i].address);
		free(c->rcpt[i].orcpt);
		free(c->rcpt[i].original);
	}
	free(c->rcpt);
	strv_free(&c->bcc);
	strv_free(&c->prepend);
	free(c->redirect);
	free(c->filter);
	free(c->hold);
	free(c->discard);
	strv_free(&c->boundaries);
	free(c->part_boundary);
	buf_free(&c->hdr);
	buf_free(&c->line);
	buf_free(&c->reject);
	free(c);
}

/* cleanup_abort - drop the message; no queue file remains */
void cleanup_abort(struct cleanup **cp)
{
	if (*cp == NULL)
		return;
	cleanup_free(*cp);
	*cp = NULL;
}

/* error_reply - the SMTP reply for the first error bit */
static void error_reply(struct cleanup *c, struct buf *reply)
{
	buf_reset(reply);
	if (c->errs & CLEANUP_E_NOSPACE)
		buf_set(reply, CLEANUP_R_NOSPACE);
	else if (c->errs & CLEANUP_E_WRITE)
		buf_set(reply, CLEANUP_R_WRITE);
	else if (c->errs & CLEANUP_E_SIZE)
		buf_set(reply, CLEANUP_R_SIZE);
	else if (c->errs & CLEANUP_E_HOPS)
		buf_set(reply, CLEANUP_R_HOPS);
	else if (c->errs & (CLEANUP_E_REJECT | CLEANUP_E_DEFER))
		buf_set(reply, buf_cstr(&c->reject));
	else
		buf_set(reply, CLEANUP_R_WRITE);
}

/* rcpt_seen - duplicate elimination key (case-folded) already used? */
static bool rcpt_seen(struct strv *seen, const char *orcpt, unsigned notify,
		      const char *original, const char *address)
{
	struct buf key = BUF_INIT;
	char *k;

	buf_printf(&key, "%s\n%u\n%s\n%s", orcpt ? orcpt : "", notify, original, address);
	k = str_lower_dup(buf_cstr(&key));
	buf_free(&key);
	if (strv_contains(seen, k)) {
		free(k);
		return true;
	}
	strv_push_take(seen, k);
	return false;
}

static int add_recipient(struct cleanup *c, struct strv *seen, const char *given,
			 const char *orcpt, unsigned notify, const char *target, bool real);

/* add_bccs - the addresses a *_bcc_maps lookup of addr gives, each a
 * recipient without DSN notices (as Postfix adds them) */
static int add_bccs(struct cleanup *c, struct strv *seen, struct table_list *maps,
		    const char *what, const char *addr)
{
	struct strv bcc = STRV_INIT;
	struct buf why = BUF_INIT;
	int ret = 0;

	if (maps == NULL || *addr == '\0' || c->no_mappings)
		return 0;
	if (rewrite_map_lookup(c->rw, maps, what, addr, false, &bcc, &why) < 0) {
		log_warn("%s: %s", c->id, buf_cstr(&why));
		c->errs |= CLEANUP_E_DEFER;
		buf_set(&c->reject, CLEANUP_R_WRITE);
		ret = -1;
	}
	for (size_t i = 0; i < bcc.n && ret == 0; i++)
		ret = add_recipient(c, seen, bcc.v[i], NULL, CLEANUP_NOTIFY_NEVER, bcc.v[i], false);
	strv_free(&bcc);
	buf_free(&why);
	return ret;
}

/* add_recipient - rewrite, expand and queue one envelope recipient; a
 * real one (not a BCC) also gets its recipient_bcc_maps addresses, looked
 * up before virtual aliasing as Postfix does */
static int add_recipient(struct cleanup *c, struct strv *seen, const char *given,
			 const char *orcpt, unsigned notify, const char *target, bool real)
{
	struct cleanup_cf *g = c->ccf;
	struct buf addr = BUF_INIT, why = BUF_INIT, dsn = BUF_INIT;
	struct strv out = STRV_INIT;
	int ret = 0;

	if (rewrite_address(c->rw, REWRITE_ENV_RECIPIENT, target, &addr, &why) < 0 ||
	    rewrite_virtual(c->rw, buf_cstr(&addr), &out, &why) < 0) {
		log_warn("%s: %s", c->id, buf_cstr(&why));
		c->errs |= CLEANUP_E_DEFER;
		buf_set(&c->reject, CLEANUP_R_ALIAS);
		ret = -1;
		goto done;
	}
	if (orcpt == NULL) {
		struct buf local = BUF_INIT;

		rewrite_local(c->rw, given, &local);
		buf_printf(&dsn, "rfc822;%s", buf_cstr(&local));
		buf_free(&local);
		orcpt = buf_cstr(&dsn);
	}
	for (size_t i = 0; i < out.n; i++) {
		if (rcpt_seen(seen, orcpt, notify, g->enable_original_recipient ? given : "",
			      out.v[i]))
			continue;
		qfile_add_rcpt(c->w, out.v[i], orcpt,
			       g->enable_original_recipient ? given : NULL, notify);
	}
	if (real)
		ret = add_bccs(c, seen, g->recipient_bcc, "recipient_bcc_maps", buf_cstr(&addr));
done:
	strv_free(&out);
	buf_free(&addr);
	buf_free(&why);
	buf_free(&dsn);
	return ret;
}

/* write_envelope - sender, attributes and recipients into the writer */
static int write_envelope(struct cleanup *c)
{
	struct cleanup_cf *g = c->ccf;
	struct buf sender = BUF_INIT, why = BUF_INIT, port = BUF_INIT;
	struct strv seen = STRV_INIT;
	int ret = 0;

	if (rewrite_address(c->rw, REWRITE_ENV_SENDER, c->sender ? c->sender : "",
			    &sender, &why) < 0) {
		log_warn("%s: %s", c->id, buf_cstr(&why));
		c->errs |= CLEANUP_E_DEFER;
		buf_set(&c->reject, CLEANUP_R_ALIAS);
		ret = -1;
		goto done;
	}
	qfile_set_sender(c->w, buf_cstr(&sender));
	if (c->client_addr)
		qfile_add_attr(c->w, QATTR_CLIENT_ADDR, c->client_addr);
	if (c->client_name)
		qfile_add_attr(c->w, QATTR_CLIENT_NAME, c->client_name);
	if (c->reverse_name)
		qfile_add_attr(c->w, QATTR_REVERSE_NAME, c->reverse_name);
	if (c->client_port > 0) {
		buf_printf(&port, "%d", c->client_port);
		qfile_add_attr(c->w, QATTR_CLIENT_PORT, port.data);
	}
	if (c->helo)
		qfile_add_attr(c->w, QATTR_HELO, c->helo);
	qfile_add_attr(c->w, QATTR_PROTO, c->proto);
	if (c->sasl_method)
		qfile_add_attr(c->w, QATTR_SASL_METHOD, c->sasl_method);
	if (c->sasl_username)
		qfile_add_attr(c->w, QATTR_SASL_USERNAME, c->sasl_username);
	if (c->local_user)
		qfile_add_attr(c->w, QATTR_LOCAL_USER, c->local_user);
	if (c->envid)
		qfile_add_attr(c->w, QATTR_ENVID, c->envid);
	if (c->ret)
		qfile_add_attr(c->w, QATTR_RET, c->ret);
	if (c->smtputf8)
		qfile_add_attr(c->w, QATTR_SMTPUTF8, "1");
	if (c->body_8bit)
		qfile_add_attr(c->w, QATTR_8BIT, "1");
	if (c->hold)
		qfile_add_attr(c->w, QATTR_HOLD, *c->hold ? c->hold : "hold");
	if (c->filter && *c->filter)
		qfile_add_attr(c->w, QATTR_FILTER, c->filter);
	if (c->redirect)
		qfile_add_attr(c->w, QATTR_REDIRECT, c->redirect);
	/* Postfix 3.7 queues the sender_bcc_maps address first */
	ret = add_bccs(c, &seen, g->sender_bcc, "sender_bcc_maps", buf_cstr(&sender));
	for (size_t i = 0; i < c->nrcpt && ret == 0; i++)
		ret = add_recipient(c, &seen,
				    c->rcpt[i].original ? c->rcpt[i].original : c->rcpt[i].address,
				    c->rcpt[i].orcpt,
				    c->rcpt[i].notify,
				    c->redirect ? c->redirect : c->rcpt[i].address, true);
	for (size_t i = 0; i < c->bcc.n && ret == 0; i++)
		ret = add_recipient(c, &seen, c->bcc.v[i], NULL, CLEANUP_NOTIFY_NEVER,
				    c->bcc.v[i], false);
	for (size_t i = 0; i < g->always_bcc.n && ret == 0 && !c->no_mappings; i++)
		ret = add_recipient(c, &seen, g->always_bcc.v[i], NULL, CLEANUP_NOTIFY_NEVER,
				    g->always_bcc.v[i], false);
	if (ret == 0 && qfile_writer_nrcpt(c->w) == 0) {
		log_warn("%s: message has no recipients", c->id);
		c->errs |= CLEANUP_E_REJECT;
		buf_set(&c->reject, CLEANUP_R_NORCPT);
		ret = -1;
	}
done:
	strv_free(&seen);
	buf_free(&sender);
	buf_free(&why);
	buf_free(&port);
	return ret;
}

/* move_to_hold - a committed held message goes from incoming/ to hold/ */
static void move_to_hold(struct cleanup *c)
{
	struct buf from = BUF_INIT, to = BUF_INIT;
	int fd;

	buf_printf(&from, "%s/incoming/%s", c->ccf->queue_dir, c->id);
	buf_printf(&to, "%s/hold/%s", c->ccf->queue_dir, c->id);
	if (rename(from.data, to.data) < 0) {
		log_warn("%s: cannot move to hold: %s: %m", c->id, to.data);
	} else {
		buf_reset(&to);
		buf_printf(&to, "%s/hold", c->ccf->queue_dir);
		if ((fd = open(to.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			(void)fsync(fd);
			close(fd);
		}
		log_info("%s: hold: %s", c->id, c->hold && *c->hold ? c->hold : "on hold");
	}
	buf_free(&from);
	buf_free(&to);
}

/* committed - the queue file is durable (status 0) or gone */
static void committed(void *ctx, int status, const char *queue_id, const char *reply)
{
	struct cleanup *c = ctx;

	(void)queue_id;
	if (status == 0 && c->hold)
		move_to_hold(c);
	if (c->done)
		c->done(c->done_ctx, status, c->id, status == 0 ? NULL : reply);
	cleanup_free(c);
}

/* cleanup_finish - end of content: rewrite the envelope and commit; done
 * runs once, after the file is durable or with the reply to send */
void cleanup_finish(struct cleanup *c, cleanup_done_fn done, void *ctx)
{
	struct buf reply = BUF_INIT, err = BUF_INIT;

	c->done = done;
	c->done_ctx = ctx;
	if (!c->started)
		cleanup_start_content(c);
	cleanup_end_content(c);
	if (c->errs == 0)
		(void)write_envelope(c);
	if (c->errs != 0) {
		error_reply(c, &reply);
		qfile_abort(&c->w);
		if (done)
			done(ctx, -1, c->id, buf_cstr(&reply));
		cleanup_free(c);
		buf_free(&reply);
		return;
	}
	if (c->discard) {
		log_info("%s: discarded%s%s", c->id, *c->discard ? ": " : "", c->discard);
		qfile_abort(&c->w);
		if (done)
			done(ctx, 0, c->id, NULL);
		cleanup_free(c);
		return;
	}
	if (cleanup_committer) {
		qfile_commit_async(cleanup_committer, &c->w, committed, c);
		return;
	}
	if (qfile_commit(&c->w, &err) < 0)
		committed(c, -1, c->id, err.len ? buf_cstr(&err) : CLEANUP_R_WRITE);
	else
		committed(c, 0, c->id, NULL);
	buf_free(&err);
}

/* Result holder for cleanup_finish_sync(). */
struct sync_result {
	int status;
	struct buf *queue_id;
	struct buf *reply;
};

/* sync_done - copy the outcome */
static void sync_done(void *ctx, int status, const char *queue_id, const char *reply)
{
	struct sync_result *r = ctx;

	r->status = status;
	if (r->queue_id)
		buf_set(r->queue_id, queue_id ? queue_id : "");
	if (r->reply)
		buf_set(r->reply, reply ? reply : "");
}

/* cleanup_finish_sync - cleanup_finish() without an event loop (needs
 * cleanup_init(NULL, …)); 0 with the queue ID, or -1 with the reply */
int cleanup_finish_sync(struct cleanup *c, struct buf *queue_id, struct buf *reply)
{
	struct sync_result r = { -1, queue_id, reply };

	if (cleanup_committer != NULL)
		log_panic("cleanup_finish_sync: cleanup runs with an event loop");
	cleanup_finish(c, sync_done, &r);
	return r.status == 0 ? 0 : -1;
}
