/*
 * smtpd_check_access - check_*_access restrictions and the access(5)
 * actions their tables (and policy servers) return.
 *
 * Public (smtpd_check_impl.h): chk_access, chk_action.
 *
 * Keys follow access(5): host names with their parent domains and then the
 * address with its octets dropped one by one (TABLE_SEARCH_HOST); mail
 * addresses rewritten in the local context and searched as user+ext@domain,
 * user@domain, domain and parents, user+ext@, user@ (TABLE_SEARCH_ACCESS);
 * the null sender as smtpd_null_access_lookup_key. A result that is no
 * action word is a restriction list evaluated in place. A table failure,
 * or a result that is neither an action nor a valid list, is a temporary
 * "451 4.3.5 Server configuration error" with a warning naming the table.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "smtpd/smtpd_check_impl.h"

/* search_trace - every key tried, for `outpost explain` */
static void search_trace(const char *key, const char *table_spec,
			 enum table_status st, const char *value, void *ctx)
{
	struct smtpd_check_run *r = ctx;

	chk_trace(r, "    lookup \"%s\" in %s: %s%s%s", key, table_spec,
		  st == TABLE_FOUND ? "found \"" : st == TABLE_NOTFOUND ? "not found" : "FAILED",
		  st == TABLE_FOUND ? value : "", st == TABLE_FOUND ? "\"" : "");
}

/* chk_search_opts - the derived-key options every smtpd table search uses */
static void search_opts(struct smtpd_check_run *r, struct table_search_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->recipient_delimiter = r->c->recipient_delimiter;
	o->parent_matches_subdomains = r->c->access_parent;
	o->is_local_domain = resolve_local_domain_cb;
	o->ctx = r->c->rc;
	if (r->trace) {
		o->trace = search_trace;
		o->trace_ctx = r;
	}
}

/* dsn_split - "5.7.2 text" -> dsn "5.7.2", text; else the default dsn */
static const char *dsn_split(const char *text, const char *def, char dsn[16])
{
	const char *p = text;

	snprintf(dsn, 16, "%s", def);
	if ((p[0] == '4' || p[0] == '5' || p[0] == '2') && p[1] == '.' && isdigit((unsigned char)p[2])) {
		size_t n = strspn(p, "0123456789.");

		if (n < 16 && (p[n] == ' ' || p[n] == '\t' || p[n] == '\0')) {
			memcpy(dsn, p, n);
			dsn[n] = '\0';
			p += n;
			while (*p == ' ' || *p == '\t')
				p++;
		}
	}
	return p;
}

/* dsn_fix - sender and recipient address codes swapped for the context (x.1.1 <-> x.1.7) */
static void dsn_fix(char dsn[16], const char *reply_class)
{
	if (strncmp(dsn + 1, ".1.", 3) != 0 || dsn[5] != '\0')
		return;
	if (strcmp(reply_class, "Sender address") == 0) {
		if (dsn[4] == '1' || dsn[4] == '3' || dsn[4] == '5' || dsn[4] == '6')
			dsn[4] = '7';
		else if (dsn[4] == '2')
			dsn[4] = '8';
	} else if (strcmp(reply_class, "Recipient address") == 0) {
		if (dsn[4] == '7')
			dsn[4] = '1';
		else if (dsn[4] == '8')
			dsn[4] = '2';
	}
}

/* nested_list - a table result parsed as restriction list, kept for reuse */
static struct chk_list *nested_list(struct smtpd_check_run *r, const char *table,
				    const char *value)
{
	struct smtpd_checks *c = r->c;
	struct buf err = BUF_INIT;
	struct chk_list *l;

	struct buf key = BUF_INIT;

	buf_printf(&key, "%s\n%s", table, value);
	for (size_t i = 0; i < c->dynamic_keys.n; i++)
		if (strcmp(c->dynamic_keys.v[i], buf_cstr(&key)) == 0) {
			buf_free(&key);
			return c->dynamic[i];
		}
	l = chk_list_parse(c, table, value, &err);
	if (l == NULL) {
		log_warn("%s: result \"%s\": %s", table, value, buf_cstr(&err));
		chk_trace(r, "    bad result from %s: %s", table, buf_cstr(&err));
		buf_free(&err);
		buf_free(&key);
		return NULL;
	}
	buf_free(&err);
	for (size_t i = 0; i < l->n; i++) {
		const struct chk_restriction *rd = chk_restriction_find(l->v[i].name);

		/* as Postfix: tables are opened at start-up, never named by a result */
		if (rd && rd->arg != ARG_NONE) {
			log_warn("access table %s has entry with lookup table: %s", table, value);
			log_warn("do not specify lookup tables inside SMTPD access maps");
			log_warn("define a restriction class and specify its name instead.");
			chk_trace(r, "    %s: a result may not name a table or server: \"%s\"",
				  table, value);
			chk_list_free(&l);
			buf_free(&key);
			return NULL;
		}
	}
	strv_push_take(&c->dynamic_keys, buf_steal(&key));
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].op == OP_CLASS && l->v[i].cls == NULL)
			l->v[i].cls = chk_class_find(c, l->v[i].name);
	c->dynamic = xreallocarray(c->dynamic, c->ndynamic + 1, sizeof(*c->dynamic));
	c->dynamic[c->ndynamic++] = l;
	return l;
}

/* word_is - case-insensitive command word match */
static bool word_is(const char *cmd, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(cmd, word, len) == 0;
}

/*
 * chk_action - carry out one access(5) result. suspicious: the recipient
 * has sender-specified routing, so OK only means "no decision".
 */
enum chk_status chk_action(struct smtpd_check_run *r, const char *value,
			   const char *table, const char *reply_name,
			   const char *reply_class, bool suspicious)
{
	struct smtpd_checks *c = r->c;
	struct smtpd_verdict *v = &r->v;
	size_t len = strcspn(value, " \t");
	const char *text = value + len;
	char dsn[16];

	while (*text == ' ' || *text == '\t')
		text++;
	if (word_is(value, len, "OK") || (len > 0 && len == strlen(value) && str_is_digits(value))) {
		if (suspicious) {
			chk_trace(r, "    %s: OK ignored for a recipient with sender-specified routing",
				  table);
			return CHK_DUNNO;
		}
		return CHK_OK;
	}
	if (word_is(value, len, "DUNNO"))
		return CHK_DUNNO;
	if (word_is(value, len, "REJECT")) {
		text = dsn_split(text, "5.7.1", dsn);
		dsn_fix(dsn, reply_class);
		return chk_reject(r, c->code.access_map_reject, dsn, "<%s>: %s rejected: %s",
				  reply_name, reply_class, *text ? text : "Access denied");
	}
	if (word_is(value, len, "DEFER")) {
		text = dsn_split(text, "4.7.1", dsn);
		dsn_fix(dsn, reply_class);
		return chk_reject(r, c->code.access_map_defer, dsn, "<%s>: %s rejected: %s",
				  reply_name, reply_class, *text ? text : "Access denied");
	}
	if (word_is(value, len, "DEFER_IF_PERMIT") || word_is(value, len, "DEFER_IF_REJECT")) {
		bool permit = word_is(value, len, "DEFER_IF_PERMIT");

		text = dsn_split(text, "4.7.1", dsn);
		chk_set_deferral(r, permit ? &r->dip : &r->dir, c->code.access_map_defer, dsn,
				 "<%s>: %s rejected: %s", reply_name, reply_class,
				 *text ? text : "Service unavailable");
		return CHK_DUNNO;
	}
	if (word_is(value, len, "HOLD") || word_is(value, len, "DISCARD")) {
		bool hold = word_is(value, len, "HOLD");
		struct buf w = BUF_INIT;

		if (*text)
			buf_printf(&w, "<%s>: %s %s", reply_name, reply_class, text);
		else
			buf_printf(&w, "<%s>: %s triggers %s action", reply_name, reply_class,
				   hold ? "HOLD" : "DISCARD");
		chk_log_event(r, hold ? "hold" : "discard", buf_cstr(&w));
		buf_free(&w);
		if (!hold) {
			v->discard = true;
			return CHK_OK;
		}
		v->hold_set = true;
		buf_set(&v->hold, *text ? text : "");
		return CHK_DUNNO;
	}
	if (word_is(value, len, "FILTER") || word_is(value, len, "REDIRECT") ||
	    word_is(value, len, "BCC") || word_is(value, len, "PREPEND")) {
		bool filter = word_is(value, len, "FILTER"), prepend = word_is(value, len, "PREPEND");

		if (*text == '\0' || (filter && strchr(text, ':') == NULL) ||
		    (prepend && (strchr(text, ':') == NULL || isspace((unsigned char)text[0])))) {
			struct buf w = BUF_INIT;

			buf_printf(&w, "%s: bad action \"%s\"", table, value);
			chk_tempfail(r, buf_cstr(&w));
			buf_free(&w);
			return CHK_REJECT;
		}
		if (filter || word_is(value, len, "REDIRECT")) {
			struct buf w = BUF_INIT;

			buf_printf(&w, "<%s>: %s triggers %s %s", reply_name, reply_class,
				   filter ? "FILTER" : "REDIRECT", text);
			chk_log_event(r, filter ? "filter" : "redirect", buf_cstr(&w));
			buf_free(&w);
		}
		if (filter)
			buf_set(&v->filter, text);
		else if (prepend)
			strv_push(&v->prepend, text);
		else if (word_is(value, len, "BCC"))
			strv_push(&v->bcc, text);
		else
			buf_set(&v->redirect, text);
		return CHK_DUNNO;
	}
	if (word_is(value, len, "INFO") || word_is(value, len, "WARN")) {
		chk_log_event(r, word_is(value, len, "INFO") ? "info" : "warn", text);
		return CHK_DUNNO;
	}
	if (len == 3 && isdigit((unsigned char)value[0]) && isdigit((unsigned char)value[1]) &&
	    isdigit((unsigned char)value[2]) && (value[0] == '4' || value[0] == '5')) {
		int code = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');

		text = dsn_split(text, value[0] == '4' ? "4.7.1" : "5.7.1", dsn);
		dsn_fix(dsn, reply_class);
		return chk_reject(r, code, dsn, "<%s>: %s rejected: %s", reply_name,
				  reply_class, *text ? text : "Access denied");
	}
	{
		struct chk_list *l = nested_list(r, table, value);

		/* the nested list refuses in the table's name (the login, the sender, …) */
		r->reply_name = reply_name;
		r->reply_class = reply_class;
		if (l == NULL || chk_push_list(r, l) < 0) {
			struct buf w = BUF_INIT;

			buf_printf(&w, "%s: unusable result \"%s\"", table, value);
			chk_tempfail(r, buf_cstr(&w));
			buf_free(&w);
			return CHK_REJECT;
		}
		return CHK_PUSHED;
	}
}

/* find - a derived-key search; tempfail becomes the 451 reply */
static enum table_status find(struct smtpd_check_run *r, const struct chk_item *it,
			      enum table_search how, const char *key, struct buf *value)
{
	struct table_search_opts o;
	struct table_match m = { BUF_INIT, BUF_INIT };
	enum table_status st;

	search_opts(r, &o);
	st = table_find(it->table, how, key, &o, value, &m);
	table_match_free(&m);
	if (st == TABLE_TEMPFAIL) {
		struct buf w = BUF_INIT;

		buf_printf(&w, "%s: %s lookup of \"%s\" failed: %s", it->name, it->arg, key,
			   table_list_error(it->table));
		chk_tempfail(r, buf_cstr(&w));
		buf_free(&w);
	}
	return st;
}

/* host_access - name (unless unknown), then address; a DUNNO on the name stops */
static enum chk_status host_access(struct smtpd_check_run *r, const struct chk_item *it,
				   const char *name, const char *addr,
				   const char *reply_name, const char *reply_class)
{
	struct buf value = BUF_INIT;
	enum chk_status result = CHK_DUNNO;
	enum table_status st = TABLE_NOTFOUND;

	if (name && *name && strcasecmp(name, "unknown") != 0)
		st = find(r, it, TABLE_SEARCH_HOST, name, &value);
	if (st == TABLE_NOTFOUND && addr && *addr)
		st = find(r, it, TABLE_SEARCH_HOST, addr, &value);
	if (st == TABLE_TEMPFAIL)
		result = CHK_REJECT;
	else if (st == TABLE_FOUND)
		result = chk_action(r, buf_cstr(&value), it->arg, reply_name, reply_class, false);
	buf_free(&value);
	return result;
}

/* mail_access - sender or recipient address, as access(5) searches it */
static enum chk_status mail_access(struct smtpd_check_run *r, const struct chk_item *it,
				   const char *addr, const char *reply_class, bool recipient)
{
	struct buf value = BUF_INIT;
	struct resolved res;
	enum chk_status result = CHK_DUNNO;
	enum table_status st;
	bool suspicious = false;

	if (addr == NULL)
		return CHK_DUNNO;
	if (*addr == '\0') {
		st = table_list_lookup(it->table, r->c->null_access_key, false, &value, NULL);
		if (st == TABLE_TEMPFAIL) {
			struct buf w = BUF_INIT;

			buf_printf(&w, "%s: %s lookup of \"%s\" failed: %s", it->name, it->arg,
				   r->c->null_access_key, table_list_error(it->table));
			chk_tempfail(r, buf_cstr(&w));
			buf_free(&w);
			buf_free(&value);
			return CHK_REJECT;
		}
	} else {
		resolved_init(&res);
		if (chk_resolve(r, addr, &res) < 0) {
			resolved_free(&res);
			return CHK_REJECT;
		}
		suspicious = recipient && res.routed && !r->c->allow_untrusted_routing;
		st = find(r, it, TABLE_SEARCH_ACCESS, buf_cstr(&res.addr), &value);
		resolved_free(&res);
		if (st == TABLE_TEMPFAIL) {
			buf_free(&value);
			return CHK_REJECT;
		}
	}
	if (st == TABLE_FOUND)
		result = chk_action(r, buf_cstr(&value), it->arg, addr, reply_class, suspicious);
	buf_free(&value);
	return result;
}

/* plain_access - one full key (SASL login, certificate fingerprint) */
static enum chk_status plain_access(struct smtpd_check_run *r, const struct chk_item *it,
				    const char *key, const char *reply_class)
{
	struct buf value = BUF_INIT;
	enum table_status st;
	enum chk_status result = CHK_DUNNO;

	if (key == NULL || *key == '\0')
		return CHK_DUNNO;
	st = table_list_lookup(it->table, key, false, &value, NULL);
	chk_trace(r, "    lookup \"%s\" in %s: %s", key, it->arg,
		  st == TABLE_FOUND ? buf_cstr(&value) : st == TABLE_NOTFOUND ? "not found" : "FAILED");
	if (st == TABLE_TEMPFAIL) {
		struct buf w = BUF_INIT;

		buf_printf(&w, "%s: %s lookup of \"%s\" failed: %s", it->name, it->arg, key,
			   table_list_error(it->table));
		chk_tempfail(r, buf_cstr(&w));
		buf_free(&w);
		result = CHK_REJECT;
	} else if (st == TABLE_FOUND) {
		/* the SASL login is named in the reply; a certificate is not */
		result = chk_action(r, buf_cstr(&value), it->arg,
				    it->op == OP_CHECK_SASL_ACCESS ? key : buf_cstr(&r->namaddr),
				    reply_class, false);
	}
	buf_free(&value);
	return result;
}

/* chk_access - the check_*_access restrictions */
enum chk_status chk_access(struct smtpd_check_run *r, const struct chk_item *it)
{
	const struct smtpd_facts *f = &r->f;

	switch (it->op) {
	case OP_CHECK_CLIENT_ACCESS:
		return host_access(r, it, f->client_name, f->client_addr,
				   buf_cstr(&r->namaddr), "Client host");
	case OP_CHECK_REVERSE_CLIENT_HOSTNAME_ACCESS:
		return host_access(r, it, f->reverse_name, f->client_addr,
				   buf_cstr(&r->namaddr), "Client host");
	case OP_CHECK_HELO_ACCESS:
		if (f->helo == NULL || *f->helo == '\0')
			return CHK_DUNNO;
		return host_access(r, it, f->helo, NULL, f->helo, "Helo command");
	case OP_CHECK_SENDER_ACCESS:
		return mail_access(r, it, f->sender, "Sender address", false);
	case OP_CHECK_RECIPIENT_ACCESS:
		if (f->recipient == NULL || *f->recipient == '\0')
			return CHK_DUNNO;
		return mail_access(r, it, f->recipient, "Recipient address", true);
	case OP_CHECK_SASL_ACCESS:
		return plain_access(r, it, f->sasl_username, "SASL login name");
	case OP_CHECK_CCERT_ACCESS: {
		enum chk_status st;

		if (!f->tls)
			return CHK_DUNNO;
		st = plain_access(r, it, f->ccert_fingerprint, "Client certificate");
		if (st == CHK_DUNNO && f->ccert_pubkey_fingerprint)
			st = plain_access(r, it, f->ccert_pubkey_fingerprint, "Client certificate");
		return st;
	}
	default:
		break;
	}
	return CHK_DUNNO;
}
