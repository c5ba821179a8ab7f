/*
 * smtpd_check - the restriction engine's life cycle: read the smtpd_*
 * restriction parameters and the tables they use, sessions, runs, and
 * verdicts (see smtpd_check.h for the contract).
 *
 * Public: smtpd_checks_new, smtpd_checks_free, smtpd_check_session_new,
 * smtpd_check_session_free, smtpd_check_session_reset,
 * smtpd_check_session_trace, smtpd_check_run, smtpd_check_cancel,
 * smtpd_verdict_init, smtpd_verdict_free.
 *
 * Bad input: smtpd_checks_new() returns NULL with err holding
 * "parameter: reason" for an unknown restriction, a missing argument, a
 * table that does not open, or restrictions that cannot refuse relaying
 * (Postfix's rule: relay or recipient restrictions must contain reject,
 * reject_unauth_destination, defer, defer_if_permit or
 * defer_unauth_destination).
 */
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "smtpd/smtpd_check_impl.h"

static const char *const list_params[LIST__N] = {
	[LIST_CLIENT] = "smtpd_client_restrictions",
	[LIST_HELO] = "smtpd_helo_restrictions",
	[LIST_SENDER] = "smtpd_sender_restrictions",
	[LIST_RELAY] = "smtpd_relay_restrictions",
	[LIST_RECIPIENT] = "smtpd_recipient_restrictions",
	[LIST_DATA] = "smtpd_data_restrictions",
	[LIST_END_OF_DATA] = "smtpd_end_of_data_restrictions",
	[LIST_ETRN] = "smtpd_etrn_restrictions",
};

/* read_codes - the *_reject_code parameters */
static void read_codes(struct smtpd_checks *c, struct config *cf)
{
	struct chk_codes *k = &c->code;

	k->reject = (int)config_int(cf, "reject_code");
	k->defer = (int)config_int(cf, "defer_code");
	k->relay = (int)config_int(cf, "relay_domains_reject_code");
	k->unknown_address = (int)config_int(cf, "unknown_address_reject_code");
	k->non_fqdn = (int)config_int(cf, "non_fqdn_reject_code");
	k->invalid_hostname = (int)config_int(cf, "invalid_hostname_reject_code");
	k->unknown_hostname = (int)config_int(cf, "unknown_hostname_reject_code");
	k->unknown_client = (int)config_int(cf, "unknown_client_reject_code");
	k->maps_rbl = (int)config_int(cf, "maps_rbl_reject_code");
	k->access_map_reject = (int)config_int(cf, "access_map_reject_code");
	k->access_map_defer = (int)config_int(cf, "access_map_defer_code");
	k->plaintext = (int)config_int(cf, "plaintext_reject_code");
	k->multi_rcpt_bounce = (int)config_int(cf, "multi_recipient_bounce_reject_code");
	k->unknown_local = (int)config_int(cf, "unknown_local_recipient_reject_code");
	k->unknown_virtual_alias = (int)config_int(cf, "unknown_virtual_alias_reject_code");
	k->unknown_virtual_mailbox = (int)config_int(cf, "unknown_virtual_mailbox_reject_code");
	k->unknown_relay = (int)config_int(cf, "unknown_relay_recipient_reject_code");
	k->unverified_sender = (int)config_int(cf, "unverified_sender_reject_code");
	k->unknown_sender_local = k->unknown_local;
}

/* open_maps - an optional table-list parameter; empty value = NULL */
static int open_maps(struct smtpd_checks *c, const char *param,
		     struct table_list **out, bool lenient_default, struct buf *err)
{
	const char *v = config_str(c->cf, param);
	struct buf terr = BUF_INIT;

	*out = NULL;
	if (str_is_blank(v))
		return 0;
	*out = table_list_open(v, TABLE_F_FOLD, &terr);
	if (*out == NULL) {
		if (lenient_default && !config_is_set(c->cf, param)) {
			static bool warned;

			/* the Postfix default names tables Outpost may lack (unix:passwd.byname) */
			if (!warned)
				log_warn("%s: default \"%s\" unavailable (%s): recipients in local "
					 "domains are not validated; set %s explicitly",
					 param, v, buf_cstr(&terr), param);
			warned = true;
			buf_free(&terr);
			return 0;
		}
		buf_printf(err, "%s: %s", param, buf_cstr(&terr));
		buf_free(&terr);
		return -1;
	}
	buf_free(&terr);
	return 0;
}

/* parse_classes - smtpd_restriction_classes: names first, so classes may name each other */
static int parse_classes(struct smtpd_checks *c, struct buf *err)
{
	struct strv names = STRV_INIT;

	config_list(c->cf, "smtpd_restriction_classes", &names);
	for (size_t i = 0; i < names.n; i++) {
		if (chk_restriction_find(names.v[i])) {
			buf_printf(err, "smtpd_restriction_classes: \"%s\" is the name of a restriction",
				   names.v[i]);
			strv_free(&names);
			return -1;
		}
		strv_push(&c->class_names, names.v[i]);
	}
	strv_free(&names);
	c->classes = xcalloc(c->class_names.n + 1, sizeof(*c->classes));
	for (size_t i = 0; i < c->class_names.n; i++) {
		const char *name = c->class_names.v[i];
		const char *value = config_str(c->cf, name);

		if (!config_is_set(c->cf, name)) {
			buf_printf(err, "smtpd_restriction_classes: class \"%s\" is not defined in main.cf",
				   name);
			return -1;
		}
		if ((c->classes[i] = chk_list_parse(c, name, value, err)) == NULL)
			return -1;
	}
	return 0;
}

/* link_list - point class references at their lists (classes may be defined later) */
static void link_list(struct smtpd_checks *c, struct chk_list *l)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (l->v[i].op == OP_CLASS && l->v[i].cls == NULL)
			l->v[i].cls = chk_class_find(c, l->v[i].name);
}

/* list_can_refuse - Postfix's safety rule for relay/recipient restrictions */
static bool list_can_refuse(const struct chk_list *l)
{
	for (size_t i = 0; l && i < l->n; i++) {
		switch (l->v[i].op) {
		case OP_REJECT:
		case OP_DEFER:
		case OP_DEFER_IF_PERMIT:
		case OP_REJECT_UNAUTH_DESTINATION:
		case OP_DEFER_UNAUTH_DESTINATION:
			return true;
		default:
			break;
		}
	}
	return false;
}

/* read_settings - booleans and strings the restrictions consult */
static void read_settings(struct smtpd_checks *c, struct config *cf)
{
	c->delay_reject = config_bool(cf, "smtpd_delay_reject");
	c->helo_required = config_bool(cf, "smtpd_helo_required");
	c->soft_bounce = config_bool(cf, "soft_bounce");
	c->sasl_enabled = config_bool(cf, "smtpd_sasl_auth_enable");
	c->allow_untrusted_routing = config_bool(cf, "allow_untrusted_routing");
	c->reject_unlisted_recipient = config_bool(cf, "smtpd_reject_unlisted_recipient");
	c->reject_unlisted_sender = config_bool(cf, "smtpd_reject_unlisted_sender");
	c->relay_before_recipient = config_bool(cf, "smtpd_relay_before_recipient_restrictions");
	c->access_parent = resolve_parent_style(cf, "smtpd_access_maps");
	c->recipient_delimiter = xstrdup(config_str(cf, "recipient_delimiter"));
	c->null_access_key = xstrdup(config_str(cf, "smtpd_null_access_lookup_key"));
	c->myhostname = xstrdup(config_str(cf, "myhostname"));
	read_codes(c, cf);
}

/* smtpd_checks_new - parse every restriction list and open its tables */
struct smtpd_checks *smtpd_checks_new(struct config *cf, struct event_base *base,
				      struct buf *err)
{
	struct smtpd_checks *c = xcalloc(1, sizeof(*c));
	struct buf lerr = BUF_INIT;

	c->cf = cf;
	c->base = base;
	read_settings(c, cf);
	if ((c->rc = resolve_new(cf, err)) == NULL)
		goto bad;
	c->mynetworks = resolve_list_new("mynetworks", config_str(cf, "mynetworks"),
					 resolve_parent_style(cf, "mynetworks"), err);
	if (c->mynetworks == NULL)
		goto bad;
	if (open_maps(c, "smtpd_sender_login_maps", &c->login_maps, false, err) < 0 ||
	    open_maps(c, "relay_clientcerts", &c->relay_clientcerts, false, err) < 0 ||
	    open_maps(c, "local_recipient_maps", &c->local_rcpt_maps, true, err) < 0 ||
	    open_maps(c, "virtual_alias_maps", &c->virtual_alias_maps, false, err) < 0 ||
	    open_maps(c, "virtual_mailbox_maps", &c->virtual_mailbox_maps, false, err) < 0 ||
	    open_maps(c, "relay_recipient_maps", &c->relay_rcpt_maps, false, err) < 0 ||
	    open_maps(c, "canonical_maps", &c->canonical_maps, false, err) < 0 ||
	    open_maps(c, "recipient_canonical_maps", &c->rcpt_canonical_maps, false, err) < 0)
		goto bad;
	if (parse_classes(c, err) < 0)
		goto bad;
	for (int i = 0; i < LIST__N; i++) {
		c->lists[i] = chk_list_parse(c, list_params[i], config_str(cf, list_params[i]), err);
		if (c->lists[i] == NULL)
			goto bad;
		link_list(c, c->lists[i]);
	}
	for (size_t i = 0; i < c->class_names.n; i++)
		link_list(c, c->classes[i]);
	for (size_t i = 0; i < c->ndynamic; i++)
		link_list(c, c->dynamic[i]);
	if (!list_can_refuse(c->lists[LIST_RELAY]) && !list_can_refuse(c->lists[LIST_RECIPIENT])) {
		buf_printf(err, "smtpd_relay_restrictions and smtpd_recipient_restrictions: "
			   "neither contains reject, reject_unauth_destination, defer, "
			   "defer_if_permit or defer_unauth_destination, so any client could "
			   "relay mail; refusing to run");
		goto bad;
	}
	if ((c->dns = chk_dns_new(c, err)) == NULL)
		goto bad;
	buf_free(&lerr);
	return c;
bad:
	buf_free(&lerr);
	smtpd_checks_free(&c);
	return NULL;
}

/* smtpd_checks_free - lists, classes, tables, DNS and policy clients */
void smtpd_checks_free(struct smtpd_checks **cp)
{
	struct smtpd_checks *c = *cp;

	if (c == NULL)
		return;
	for (int i = 0; i < LIST__N; i++)
		chk_list_free(&c->lists[i]);
	for (size_t i = 0; i < c->class_names.n; i++)
		chk_list_free(&c->classes[i]);
	free(c->classes);
	strv_free(&c->class_names);
	for (size_t i = 0; i < c->ndynamic; i++)
		chk_list_free(&c->dynamic[i]);
	free(c->dynamic);
	strv_free(&c->dynamic_keys);
	for (size_t i = 0; i < c->npolicies; i++)
		chk_policy_free(&c->policies[i]);
	free(c->policies);
	chk_dns_free(&c->dns);
	for (size_t i = 0; i < c->table_specs.n; i++)
		table_list_close(&c->tables[i]);
	free(c->tables);
	strv_free(&c->table_specs);
	resolve_list_free(&c->mynetworks);
	table_list_close(&c->login_maps);
	table_list_close(&c->relay_clientcerts);
	table_list_close(&c->local_rcpt_maps);
	table_list_close(&c->virtual_alias_maps);
	table_list_close(&c->virtual_mailbox_maps);
	table_list_close(&c->relay_rcpt_maps);
	table_list_close(&c->canonical_maps);
	table_list_close(&c->rcpt_canonical_maps);
	resolve_free(&c->rc);
	free(c->recipient_delimiter);
	free(c->null_access_key);
	free(c->myhostname);
	xfree(cp);
}

/* smtpd_check_session_new - per-connection memory */
struct smtpd_check_session *smtpd_check_session_new(struct smtpd_checks *c)
{
	struct smtpd_check_session *s = xcalloc(1, sizeof(*s));

	s->c = c;
	return s;
}

/* deferral_clear - forget a remembered defer_if_permit */
static void deferral_clear(struct chk_deferral *d)
{
	d->active = false;
	buf_reset(&d->reply);
}

/* smtpd_check_session_reset - a new transaction: sender-level memory goes */
void smtpd_check_session_reset(struct smtpd_check_session *s)
{
	deferral_clear(&s->dip_sender);
	s->discard = false;
	s->serial++;
}

/* smtpd_check_session_trace - collect an explanation of every decision */
void smtpd_check_session_trace(struct smtpd_check_session *s, struct strv *trace)
{
	s->trace = trace;
}

/* smtpd_check_session_free - end of connection */
void smtpd_check_session_free(struct smtpd_check_session **sp)
{
	struct smtpd_check_session *s = *sp;

	if (s == NULL)
		return;
	buf_free(&s->dip_client.reply);
	buf_free(&s->dip_helo.reply);
	buf_free(&s->dip_sender.reply);
	buf_free(&s->instance);
	xfree(sp);
}

/* smtpd_verdict_init - an empty verdict that accepts */
void smtpd_verdict_init(struct smtpd_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->decision = SMTPD_OK;
}

/* smtpd_verdict_free - release the reply and side effects */
void smtpd_verdict_free(struct smtpd_verdict *v)
{
	buf_free(&v->reply);
	buf_free(&v->log);
	strv_free(&v->prepend);
	strv_free(&v->bcc);
	buf_free(&v->hold);
	buf_free(&v->filter);
	buf_free(&v->redirect);
	strv_free(&v->warnings);
}

/* copy_str - keep a fact alive for the life of the run */
static const char *copy_str(struct smtpd_check_run *r, const char *s)
{
	if (s == NULL)
		return NULL;
	strv_push(&r->owned, s);
	return r->owned.v[r->owned.n - 1];
}

/* copy_facts - a deep copy: the caller's strings may change while we wait */
static void copy_facts(struct smtpd_check_run *r, const struct smtpd_facts *in)
{
	struct smtpd_facts *f = &r->f;

	*f = *in;
	f->client_addr = copy_str(r, in->client_addr);
	f->client_name = copy_str(r, in->client_name ? in->client_name : "unknown");
	f->reverse_name = copy_str(r, in->reverse_name ? in->reverse_name : "unknown");
	f->server_addr = copy_str(r, in->server_addr);
	f->helo = copy_str(r, in->helo);
	f->protocol = copy_str(r, in->protocol);
	f->tls_protocol = copy_str(r, in->tls_protocol);
	f->tls_cipher = copy_str(r, in->tls_cipher);
	f->ccert_subject = copy_str(r, in->ccert_subject);
	f->ccert_issuer = copy_str(r, in->ccert_issuer);
	f->ccert_fingerprint = copy_str(r, in->ccert_fingerprint);
	f->ccert_pubkey_fingerprint = copy_str(r, in->ccert_pubkey_fingerprint);
	f->sasl_method = copy_str(r, in->sasl_method);
	f->sasl_username = copy_str(r, in->sasl_username);
	f->sasl_sender = copy_str(r, in->sasl_sender);
	f->sender = copy_str(r, in->sender);
	f->recipient = copy_str(r, in->recipient);
	f->queue_id = copy_str(r, in->queue_id);
	f->instance = copy_str(r, in->instance);
	f->service = copy_str(r, in->service);
	f->etrn_domain = copy_str(r, in->etrn_domain);
	f->stress = copy_str(r, in->stress);
}

/* plan - which lists this stage evaluates, in order */
static void plan(struct smtpd_check_run *r)
{
	bool delay = r->c->delay_reject;

	r->nseq = 0;
	switch (r->stage) {
	case SMTPD_STAGE_CONNECT:
		if (!delay)
			r->seq[r->nseq++] = LIST_CLIENT;
		break;
	case SMTPD_STAGE_HELO:
		if (!delay)
			r->seq[r->nseq++] = LIST_HELO;
		break;
	case SMTPD_STAGE_MAIL:
		if (!delay)
			r->seq[r->nseq++] = LIST_SENDER;
		break;
	case SMTPD_STAGE_RCPT:
	case SMTPD_STAGE_VRFY:
		if (delay) {
			r->seq[r->nseq++] = LIST_CLIENT;
			r->seq[r->nseq++] = LIST_HELO;
			r->seq[r->nseq++] = LIST_SENDER;
		}
		if (r->c->relay_before_recipient) {
			r->seq[r->nseq++] = LIST_RELAY;
			r->seq[r->nseq++] = LIST_RECIPIENT;
		} else {
			r->seq[r->nseq++] = LIST_RECIPIENT;
			r->seq[r->nseq++] = LIST_RELAY;
		}
		break;
	case SMTPD_STAGE_DATA:
		r->seq[r->nseq++] = LIST_DATA;
		break;
	case SMTPD_STAGE_END_OF_DATA:
		r->seq[r->nseq++] = LIST_END_OF_DATA;
		break;
	case SMTPD_STAGE_ETRN:
		if (delay) {
			r->seq[r->nseq++] = LIST_CLIENT;
			r->seq[r->nseq++] = LIST_HELO;
		}
		r->seq[r->nseq++] = LIST_ETRN;
		break;
	}
}

/* early_decision - checks made before any list: smtpd_helo_required */
static bool early_decision(struct smtpd_check_run *r)
{
	if (r->stage == SMTPD_STAGE_MAIL && r->c->helo_required &&
	    (r->f.helo == NULL || *r->f.helo == '\0')) {
		chk_trace(r, "smtpd_helo_required = yes and no HELO/EHLO was sent");
		chk_reply_text(r, "503 5.5.1 Error: send HELO/EHLO first");
		return true;
	}
	return false;
}

/*
 * smtpd_check_run - evaluate a stage. Returns NULL when the verdict was
 * delivered before returning (the usual case); otherwise a handle that
 * smtpd_check_cancel() can stop. The run frees itself after the callback.
 */
struct smtpd_check_run *smtpd_check_run(struct smtpd_check_session *s,
					enum smtpd_stage stage,
					const struct smtpd_facts *f,
					smtpd_check_done_fn done, void *ctx)
{
	struct smtpd_check_run *r = xcalloc(1, sizeof(*r));

	r->s = s;
	r->c = s->c;
	r->stage = stage;
	r->done = done;
	r->ctx = ctx;
	r->trace = s->trace;
	smtpd_verdict_init(&r->v);
	copy_facts(r, f);
	buf_printf(&r->namaddr, "%s[%s]", r->f.client_name,
		   r->f.client_addr ? r->f.client_addr : "unknown");
	if (stage == SMTPD_STAGE_CONNECT)
		deferral_clear(&s->dip_client);
	if (stage == SMTPD_STAGE_HELO)
		deferral_clear(&s->dip_helo);
	if (stage == SMTPD_STAGE_MAIL)
		deferral_clear(&s->dip_sender);
	plan(r);
	if (early_decision(r)) {
		r->finished = true;
		r->cur = r->nseq;
		r->final_checks_done = true;
	}
	if (chk_resume(r))
		return NULL;
	return r;
}

/* smtpd_check_cancel - stop a run; its callback never runs afterwards */
void smtpd_check_cancel(struct smtpd_check_run **rp)
{
	struct smtpd_check_run *r = *rp;

	if (r == NULL)
		return;
	if (r->pending && r->pending_cancel)
		r->pending_cancel(r->pending);
	for (size_t i = 0; i < r->ncache; i++) {
		free(r->cache[i].key);
		free(r->cache[i].value);
	}
	free(r->cache);
	smtpd_verdict_free(&r->v);
	buf_free(&r->namaddr);
	buf_free(&r->dip.reply);
	buf_free(&r->dir.reply);
	strv_free(&r->owned);
	xfree(rp);
}
