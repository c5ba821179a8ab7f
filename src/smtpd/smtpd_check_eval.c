/*
 * smtpd_check_eval - evaluation of restriction lists over a transaction's
 * facts: which lists run at which stage (smtpd_delay_reject,
 * relay-before-recipient), left to right until permit / reject / defer,
 * nested lists (restriction classes, access-table results),
 * defer_if_permit / defer_if_reject memory, warn_if_reject, soft_bounce.
 *
 * Public: smtpd_check_run, smtpd_check_cancel; and for the other
 * smtpd_check_*.c files chk_reject, chk_reply_text, chk_tempfail,
 * chk_trace, chk_cache_find, chk_cache_put, chk_resume, chk_set_deferral.
 *
 * Asynchronous restrictions (DNS, policy service) start their work, return
 * CHK_PENDING and store their answer in the run's cache when it arrives;
 * chk_resume() then evaluates the same restriction again, which now finds
 * the answer. So every restriction is written as if it were synchronous.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "smtpd/smtpd_check_impl.h"

/* chk_trace - one line of the explanation, when someone is listening */
void chk_trace(struct smtpd_check_run *r, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	if (r->trace == NULL)
		return;
	for (size_t i = 1; i < r->depth; i++)
		buf_puts(&b, "  ");
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	strv_push_take(r->trace, buf_steal(&b));
}

/* chk_cache_find - an earlier asynchronous answer for this run */
struct chk_cached *chk_cache_find(struct smtpd_check_run *r, const char *key)
{
	for (size_t i = 0; i < r->ncache; i++)
		if (strcmp(r->cache[i].key, key) == 0)
			return &r->cache[i];
	return NULL;
}

/* chk_cache_put - remember an asynchronous answer */
void chk_cache_put(struct smtpd_check_run *r, const char *key, int status,
		   const char *value)
{
	r->cache = xreallocarray(r->cache, r->ncache + 1, sizeof(*r->cache));
	r->cache[r->ncache].key = xstrdup(key);
	r->cache[r->ncache].status = status;
	r->cache[r->ncache].value = xstrdup(value ? value : "");
	r->ncache++;
}

/* fix_reply - soft_bounce, and the enhanced code class following the reply code */
static void format_reply(struct smtpd_check_run *r, struct buf *out, int code,
			 const char *dsn, const char *text)
{
	char d[32];

	if (r->c->soft_bounce && code / 100 == 5)
		code -= 100;
	snprintf(d, sizeof(d), "%s", dsn && *dsn ? dsn : (code / 100 == 4 ? "4.7.1" : "5.7.1"));
	if (d[0] == '4' || d[0] == '5' || d[0] == '2')
		d[0] = (char)('0' + code / 100);
	buf_reset(out);
	buf_printf(out, "%d %s %s", code, d, text);
}

/* set_verdict_log - the text after "NOQUEUE: reject: RCPT from …: " */
static void set_verdict_log(struct smtpd_check_run *r, const char *reply)
{
	buf_reset(&r->v.log);
	buf_puts(&r->v.log, reply);
	buf_puts(&r->v.log, ";");
	if (r->f.sender)
		buf_printf(&r->v.log, " from=<%s>", r->f.sender);
	if (r->f.recipient && (r->stage == SMTPD_STAGE_RCPT || r->stage == SMTPD_STAGE_VRFY))
		buf_printf(&r->v.log, " to=<%s>", r->f.recipient);
	if (r->f.protocol)
		buf_printf(&r->v.log, " proto=%s", r->f.protocol);
	if (r->f.helo)
		buf_printf(&r->v.log, " helo=<%s>", r->f.helo);
}

/* chk_stage_name - the command Postfix names in logs and policy requests */
const char *chk_stage_name(const struct smtpd_check_run *r)
{
	switch (r->stage) {
	case SMTPD_STAGE_CONNECT:
		return "CONNECT";
	case SMTPD_STAGE_HELO:
		return r->f.protocol && strcmp(r->f.protocol, "SMTP") == 0 ? "HELO" : "EHLO";
	case SMTPD_STAGE_MAIL:
		return "MAIL";
	case SMTPD_STAGE_RCPT:
		return "RCPT";
	case SMTPD_STAGE_DATA:
		return "DATA";
	case SMTPD_STAGE_END_OF_DATA:
		return "END-OF-MESSAGE";
	case SMTPD_STAGE_ETRN:
		return "ETRN";
	case SMTPD_STAGE_VRFY:
		return "VRFY";
	}
	return "RCPT";
}

/*
 * chk_log_event - a line for the verdict's warnings in Postfix's grammar:
 * "KIND: RCPT from host[addr]: TEXT; from=<s> to=<r> proto=ESMTP helo=<h>"
 * (smtpd prefixes the queue ID or NOQUEUE).
 */
void chk_log_event(struct smtpd_check_run *r, const char *kind, const char *text)
{
	struct buf saved = BUF_INIT, line = BUF_INIT;

	buf_set(&saved, buf_cstr(&r->v.log));
	set_verdict_log(r, text);
	buf_printf(&line, "%s: %s from %s: %s", kind, chk_stage_name(r), buf_cstr(&r->namaddr),
		   buf_cstr(&r->v.log));
	buf_set(&r->v.log, buf_cstr(&saved));
	strv_push_take(&r->v.warnings, buf_steal(&line));
	buf_free(&saved);
}

/* chk_reply_text - a complete reply "NNN X.Y.Z text" decided by a restriction */
enum chk_status chk_reply_text(struct smtpd_check_run *r, const char *reply)
{
	struct buf b = BUF_INIT;
	int code = (reply[0] - '0') * 100 + (reply[1] - '0') * 10 + (reply[2] - '0');

	buf_set(&b, reply);
	if (r->c->soft_bounce && reply[0] == '5') {
		b.data[0] = '4';
		if (b.len > 5 && b.data[4] == '5' && b.data[5] == '.')
			b.data[4] = '4';
		code -= 100;
	}
	if (r->warn_if_reject) {
		chk_trace(r, "warn_if_reject: would have replied \"%s\"", buf_cstr(&b));
		chk_log_event(r, "reject_warning", buf_cstr(&b));
		buf_free(&b);
		return CHK_DUNNO;
	}
	/* a permanent reject becomes the remembered temporary one */
	if (b.data[0] == '5' && r->dir.active) {
		chk_trace(r, "defer_if_reject turns \"%s\" into \"%s\"", buf_cstr(&b),
			  buf_cstr(&r->dir.reply));
		buf_set(&b, buf_cstr(&r->dir.reply));
		code = 450;
		if (b.len >= 3)
			code = (b.data[0] - '0') * 100 + (b.data[1] - '0') * 10 + (b.data[2] - '0');
	}
	buf_set(&r->v.reply, buf_cstr(&b));
	r->v.decision = (code == 421 || code == 521) ? SMTPD_DISCONNECT
		       : b.data[0] == '4' ? SMTPD_DEFER : SMTPD_REJECT;
	set_verdict_log(r, buf_cstr(&b));
	buf_free(&b);
	return CHK_REJECT;
}

/* chk_reject - reject (or defer) with Postfix's code, enhanced code and text */
enum chk_status chk_reject(struct smtpd_check_run *r, int code, const char *dsn,
			   const char *fmt, ...)
{
	struct buf text = BUF_INIT, reply = BUF_INIT;
	enum chk_status st;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&text, fmt, ap);
	va_end(ap);
	format_reply(r, &reply, code, dsn, buf_cstr(&text));
	st = chk_reply_text(r, buf_cstr(&reply));
	buf_free(&text);
	buf_free(&reply);
	return st;
}

/* chk_set_deferral - remember a defer_if_permit / defer_if_reject reply (first wins) */
void chk_set_deferral(struct smtpd_check_run *r, struct chk_deferral *d,
		      int code, const char *dsn, const char *fmt, ...)
{
	struct buf text = BUF_INIT;
	va_list ap;

	if (d->active)
		return;
	va_start(ap, fmt);
	buf_vprintf(&text, fmt, ap);
	va_end(ap);
	d->active = true;
	format_reply(r, &d->reply, code, dsn, buf_cstr(&text));
	/* deferrals are temporary even when the configured code is not */
	if (d->reply.len > 0 && d->reply.data[0] == '5') {
		d->reply.data[0] = '4';
		if (d->reply.len > 4 && d->reply.data[4] == '5')
			d->reply.data[4] = '4';
	}
	buf_free(&text);
}

/* chk_tempfail - a table or service failure: 451 4.3.5, never a silent permit */
enum chk_status chk_tempfail(struct smtpd_check_run *r, const char *what)
{
	log_warn("%s", what);
	chk_trace(r, "temporary failure: %s", what);
	return chk_reject(r, 451, "4.3.5", "Server configuration error");
}

/* exec_item - one restriction */
static enum chk_status exec_item(struct smtpd_check_run *r, const struct chk_item *it)
{
	struct smtpd_checks *c = r->c;

	switch (it->op) {
	case OP_CLASS:
		return CHK_DUNNO;	/* handled by the caller */
	case OP_PERMIT:
		return CHK_OK;
	case OP_REJECT:
		return chk_reject(r, c->code.reject, "5.7.1", "<%s>: %s rejected: Access denied",
				  r->reply_name, r->reply_class);
	case OP_DEFER:
		return chk_reject(r, c->code.defer, "4.3.2", "<%s>: %s rejected: Try again later",
				  r->reply_name, r->reply_class);
	case OP_DEFER_IF_PERMIT:
		chk_set_deferral(r, &r->dip, 450, "4.7.0",
				 "<%s>: %s rejected: defer_if_permit requested",
				 r->reply_name, r->reply_class);
		return CHK_DUNNO;
	case OP_DEFER_IF_REJECT:
		chk_set_deferral(r, &r->dir, 450, "4.7.0",
				 "<%s>: %s rejected: defer_if_reject requested",
				 r->reply_name, r->reply_class);
		return CHK_DUNNO;
	case OP_WARN_IF_REJECT:
		return CHK_DUNNO;	/* handled by the caller */
	case OP_CHECK_CLIENT_ACCESS:
	case OP_CHECK_REVERSE_CLIENT_HOSTNAME_ACCESS:
	case OP_CHECK_HELO_ACCESS:
	case OP_CHECK_SENDER_ACCESS:
	case OP_CHECK_RECIPIENT_ACCESS:
	case OP_CHECK_SASL_ACCESS:
	case OP_CHECK_CCERT_ACCESS:
		return chk_access(r, it);
	case OP_REJECT_SENDER_LOGIN_MISMATCH:
	case OP_REJECT_AUTH_SENDER_LOGIN_MISMATCH:
	case OP_REJECT_KNOWN_SENDER_LOGIN_MISMATCH:
	case OP_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH:
		return chk_login(r, it);
	case OP_REJECT_UNKNOWN_HELO_HOSTNAME:
	case OP_REJECT_UNKNOWN_SENDER_DOMAIN:
	case OP_REJECT_UNKNOWN_RECIPIENT_DOMAIN:
	case OP_REJECT_UNKNOWN_CLIENT_HOSTNAME:
	case OP_REJECT_UNKNOWN_REVERSE_CLIENT_HOSTNAME:
	case OP_REJECT_RBL_CLIENT:
	case OP_REJECT_RHSBL_CLIENT:
	case OP_REJECT_RHSBL_REVERSE_CLIENT:
	case OP_REJECT_RHSBL_SENDER:
	case OP_REJECT_RHSBL_HELO:
	case OP_REJECT_RHSBL_RECIPIENT:
	case OP_PERMIT_DNSWL_CLIENT:
	case OP_PERMIT_RHSWL_CLIENT:
		return chk_dns(r, it);
	case OP_CHECK_POLICY_SERVICE:
		return chk_policy(r, it);
	case OP_CHECK_CLIENT_MX_ACCESS:
	case OP_CHECK_CLIENT_NS_ACCESS:
	case OP_CHECK_CLIENT_A_ACCESS:
	case OP_CHECK_REVERSE_CLIENT_MX_ACCESS:
	case OP_CHECK_REVERSE_CLIENT_NS_ACCESS:
	case OP_CHECK_REVERSE_CLIENT_A_ACCESS:
	case OP_CHECK_HELO_MX_ACCESS:
	case OP_CHECK_HELO_NS_ACCESS:
	case OP_CHECK_HELO_A_ACCESS:
	case OP_CHECK_SENDER_MX_ACCESS:
	case OP_CHECK_SENDER_NS_ACCESS:
	case OP_CHECK_SENDER_A_ACCESS:
	case OP_CHECK_RECIPIENT_MX_ACCESS:
	case OP_CHECK_RECIPIENT_NS_ACCESS:
	case OP_CHECK_RECIPIENT_A_ACCESS:
		return chk_dns_access(r, it);
	case OP_PERMIT_AUTH_DESTINATION:
	case OP_REJECT_UNAUTH_DESTINATION:
	case OP_DEFER_UNAUTH_DESTINATION:
		return chk_relay(r, it);
	default:
		return chk_simple(r, it);
	}
}

/* list_context - reply name and class of a top-level list (Postfix's reply_name/class) */
static void list_context(struct smtpd_check_run *r, enum chk_list_id id)
{
	switch (id) {
	case LIST_CLIENT:
	case LIST_ETRN:
		r->reply_name = buf_cstr(&r->namaddr);
		r->reply_class = "Client host";
		if (id == LIST_ETRN) {
			r->reply_name = r->f.etrn_domain ? r->f.etrn_domain : "";
			r->reply_class = "Etrn command";
		}
		break;
	case LIST_HELO:
		r->reply_name = r->f.helo ? r->f.helo : "";
		r->reply_class = "Helo command";
		break;
	case LIST_SENDER:
		r->reply_name = r->f.sender ? r->f.sender : "";
		r->reply_class = "Sender address";
		break;
	case LIST_RELAY:
	case LIST_RECIPIENT:
		r->reply_name = r->f.recipient ? r->f.recipient : "";
		r->reply_class = "Recipient address";
		break;
	case LIST_DATA:
		r->reply_name = "DATA";
		r->reply_class = "Data command";
		break;
	case LIST_END_OF_DATA:
		r->reply_name = "END-OF-MESSAGE";
		r->reply_class = "End-of-data";
		break;
	case LIST__N:
		break;
	}
}

/* chk_push_list - evaluate a nested list next; refuses runaway nesting */
int chk_push_list(struct smtpd_check_run *r, struct chk_list *l)
{
	if (r->depth >= CHK_MAX_DEPTH)
		return -1;
	r->stack[r->depth].list = l;
	r->stack[r->depth].i = 0;
	r->stack[r->depth].reply_name = r->reply_name;	/* inherited */
	r->stack[r->depth].reply_class = r->reply_class;
	r->depth++;
	return 0;
}

static void finish(struct smtpd_check_run *r);

/* final_rcpt_checks - unlisted recipient (smtpd_reject_unlisted_recipient) */
static enum chk_status final_checks(struct smtpd_check_run *r)
{
	if (r->final_checks_done)
		return CHK_DUNNO;
	if (!r->resuming && (r->stage == SMTPD_STAGE_RCPT || r->stage == SMTPD_STAGE_VRFY) &&
	    r->c->reject_unlisted_recipient)
		chk_trace(r, "smtpd_reject_unlisted_recipient = yes:");
	if ((r->stage == SMTPD_STAGE_RCPT || r->stage == SMTPD_STAGE_VRFY) &&
	    r->c->reject_unlisted_recipient && r->f.recipient && *r->f.recipient) {
		enum chk_status st = chk_unlisted(r, false);

		if (st == CHK_PENDING || st == CHK_REJECT)
			return st;
	}
	if (r->stage == SMTPD_STAGE_RCPT && r->c->reject_unlisted_sender &&
	    r->f.sender && *r->f.sender) {
		enum chk_status st = chk_unlisted(r, true);

		if (st == CHK_PENDING || st == CHK_REJECT)
			return st;
	}
	r->final_checks_done = true;
	return CHK_DUNNO;
}

/* is_rcpt_list - relay and recipient lists form one stage */
static bool is_rcpt_list(enum chk_list_id id)
{
	return id == LIST_RELAY || id == LIST_RECIPIENT;
}

/* run_eval - evaluate from the current position until done or pending */
static void run_eval(struct smtpd_check_run *r)
{
	r->in_eval = true;
	while (r->cur < r->nseq) {
		/* DISCARD: the message goes nowhere, so nothing more is checked */
		if (r->v.discard || r->s->discard) {
			if (!r->v.discard)
				chk_trace(r, "message is being discarded: no restrictions apply");
			r->v.discard = true;
			r->cur = r->nseq;
			r->final_checks_done = true;
			break;
		}
		struct chk_frame *fr;
		const struct chk_item *it;
		enum chk_status st;
		bool warn;

		if (r->depth == 0) {
			struct chk_list *l = r->c->lists[r->seq[r->cur]];

			list_context(r, r->seq[r->cur]);
			/* defer_if_reject lasts one stage (relay + recipient are one) */
			if (r->cur == 0 || !(is_rcpt_list(r->seq[r->cur]) &&
					     is_rcpt_list(r->seq[r->cur - 1]))) {
				r->dir.active = false;
				buf_reset(&r->dir.reply);
			}
			if (l == NULL || l->n == 0) {
				r->cur++;
				continue;
			}
			chk_push_list(r, l);
			chk_trace(r, "%s:", l->param);
		}
		fr = &r->stack[r->depth - 1];
		r->reply_name = fr->reply_name;
		r->reply_class = fr->reply_class;
		if (fr->i >= fr->list->n) {
			r->depth--;
			if (r->depth == 0) {
				chk_trace(r, "  end of %s: permit", fr->list->param);
				r->cur++;
			}
			continue;
		}
		it = &fr->list->v[fr->i];
		warn = r->warn_if_reject;
		if (it->op == OP_CLASS) {
			fr->i++;
			chk_trace(r, "  %s: restriction list", it->name);
			if (it->cls == NULL || chk_push_list(r, it->cls) < 0) {
				st = chk_tempfail(r, "restriction class nesting too deep or undefined");
				goto decided;
			}
			continue;
		}
		if (it->op == OP_WARN_IF_REJECT) {
			fr->i++;
			r->warn_if_reject = true;
			chk_trace(r, "  warn_if_reject");
			continue;
		}
		if (!r->resuming)
			chk_trace(r, "  %s%s%s", it->name, it->arg ? " " : "", it->arg ? it->arg : "");
		r->resuming = false;
		st = exec_item(r, it);
		if (st == CHK_PENDING) {
			r->resuming = true;
			r->in_eval = false;
			return;
		}
		if (warn)
			r->warn_if_reject = false;
		/* an access-table result that is itself a restriction list */
		if (st == CHK_PUSHED) {
			chk_trace(r, "    => the result is a restriction list:");
			fr->i++;
			continue;
		}
		chk_trace(r, "    => %s", st == CHK_OK ? "permit" : st == CHK_REJECT
			  ? buf_cstr(&r->v.reply) : "no decision");
decided:
		if (st == CHK_DUNNO) {
			fr->i++;
			continue;
		}
		if (st == CHK_OK) {
			/* permit ends this top-level list, nested lists included */
			r->depth = 0;
			r->cur++;
			continue;
		}
		/* CHK_REJECT: the stage ends */
		r->finished = true;
		break;
	}
	if (!r->finished && !r->v.discard) {
		enum chk_status st = final_checks(r);

		if (st == CHK_PENDING) {
			r->in_eval = false;
			return;
		}
		if (st == CHK_REJECT)
			r->finished = true;
	}
	r->in_eval = false;
	finish(r);
}

/* apply_deferrals - a permit with a remembered defer_if_permit becomes a deferral */
static void apply_deferrals(struct smtpd_check_run *r)
{
	struct smtpd_check_session *s = r->s;
	struct chk_deferral *early = NULL;
	bool delayed = r->c->delay_reject;

	switch (r->stage) {
	case SMTPD_STAGE_CONNECT:
		early = &s->dip_client;
		break;
	case SMTPD_STAGE_HELO:
		early = &s->dip_helo;
		break;
	case SMTPD_STAGE_MAIL:
		early = &s->dip_sender;
		break;
	default:
		break;
	}
	if (early && !delayed) {
		/* not decided yet: the recipient stage applies it */
		if (r->dip.active && !early->active) {
			early->active = true;
			buf_set(&early->reply, buf_cstr(&r->dip.reply));
		}
		return;
	}
	if (r->stage == SMTPD_STAGE_RCPT || r->stage == SMTPD_STAGE_VRFY ||
	    r->stage == SMTPD_STAGE_DATA || r->stage == SMTPD_STAGE_END_OF_DATA ||
	    r->stage == SMTPD_STAGE_ETRN) {
		const struct chk_deferral *d = r->dip.active ? &r->dip
			: s->dip_client.active ? &s->dip_client
			: s->dip_helo.active ? &s->dip_helo
			: s->dip_sender.active ? &s->dip_sender : NULL;

		if (d) {
			chk_trace(r, "defer_if_permit in effect: \"%s\"", buf_cstr(&d->reply));
			buf_set(&r->v.reply, buf_cstr(&d->reply));
			r->v.decision = SMTPD_DEFER;
			set_verdict_log(r, buf_cstr(&d->reply));
		}
	}
}

/* finish - complete the verdict and hand it to the caller */
static void finish(struct smtpd_check_run *r)
{
	smtpd_check_done_fn done = r->done;
	void *ctx = r->ctx;

	if (r->v.decision == SMTPD_OK && !r->v.discard)
		apply_deferrals(r);
	if (r->v.decision == SMTPD_OK && r->v.discard && r->stage != SMTPD_STAGE_CONNECT &&
	    r->stage != SMTPD_STAGE_HELO)
		r->s->discard = true;
	if (r->v.decision == SMTPD_OK)
		chk_trace(r, "result: accepted");
	else
		chk_trace(r, "result: %s", buf_cstr(&r->v.reply));
	r->done = NULL;
	r->completed = true;
	if (done)
		done(ctx, &r->v);
}

/*
 * chk_resume - evaluate on from where we stopped (asynchronous work
 * finished, or the first start). True when the verdict was delivered and
 * the run freed.
 */
bool chk_resume(struct smtpd_check_run *r)
{
	r->pending = NULL;
	r->pending_cancel = NULL;
	run_eval(r);
	if (r->completed) {
		smtpd_check_cancel(&r);
		return true;
	}
	return false;
}
