/*
 * smtpd_check_impl - what the smtpd_check_*.c files share: the parsed
 * restriction lists, the per-run evaluation state, and the functions one
 * concern offers the others. Only smtpd_check*.c include this header.
 */
#ifndef OUTPOST_SMTPD_SMTPD_CHECK_IMPL_H
#define OUTPOST_SMTPD_SMTPD_CHECK_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "mail/resolve.h"
#include "smtpd/smtpd_check.h"
#include "table/table.h"

/* Outcome of one restriction (Postfix's SMTPD_CHECK_*). */
enum chk_status {
	CHK_DUNNO = 0,		/* no decision: next restriction */
	CHK_OK,			/* permit: this list ends */
	CHK_REJECT,		/* reject or defer: the whole stage ends (reply set) */
	CHK_PENDING,		/* asynchronous work started; re-run this item later */
	CHK_PUSHED,		/* a nested list was pushed (access-table result) */
};

enum chk_arg {
	ARG_NONE,
	ARG_TABLE,		/* type:table */
	ARG_DOMAIN,		/* DNS list domain[=d.d.d.d] */
	ARG_POLICY,		/* inet:h:p, unix:/p, or { … } */
};

enum chk_op {
	OP_CLASS,
	OP_PERMIT, OP_REJECT, OP_DEFER, OP_DEFER_IF_PERMIT, OP_DEFER_IF_REJECT,
	OP_WARN_IF_REJECT,
	OP_PERMIT_MYNETWORKS, OP_PERMIT_SASL_AUTHENTICATED, OP_PERMIT_TLS_CLIENTCERTS,
	OP_PERMIT_TLS_ALL_CLIENTCERTS, OP_PERMIT_AUTH_DESTINATION,
	OP_REJECT_UNAUTH_DESTINATION, OP_DEFER_UNAUTH_DESTINATION,
	OP_REJECT_UNAUTH_PIPELINING,
	OP_REJECT_INVALID_HELO_HOSTNAME, OP_REJECT_NON_FQDN_HELO_HOSTNAME,
	OP_REJECT_UNKNOWN_HELO_HOSTNAME,
	OP_REJECT_NON_FQDN_SENDER, OP_REJECT_NON_FQDN_RECIPIENT,
	OP_REJECT_UNKNOWN_SENDER_DOMAIN, OP_REJECT_UNKNOWN_RECIPIENT_DOMAIN,
	OP_REJECT_UNKNOWN_CLIENT_HOSTNAME, OP_REJECT_UNKNOWN_REVERSE_CLIENT_HOSTNAME,
	OP_REJECT_RBL_CLIENT, OP_REJECT_RHSBL_CLIENT, OP_REJECT_RHSBL_REVERSE_CLIENT,
	OP_REJECT_RHSBL_SENDER, OP_REJECT_RHSBL_HELO, OP_REJECT_RHSBL_RECIPIENT,
	OP_PERMIT_DNSWL_CLIENT, OP_PERMIT_RHSWL_CLIENT,
	OP_REJECT_UNLISTED_SENDER, OP_REJECT_UNLISTED_RECIPIENT,
	OP_REJECT_MULTI_RECIPIENT_BOUNCE, OP_REJECT_PLAINTEXT_SESSION,
	OP_CHECK_CLIENT_ACCESS, OP_CHECK_REVERSE_CLIENT_HOSTNAME_ACCESS,
	OP_CHECK_HELO_ACCESS, OP_CHECK_SENDER_ACCESS, OP_CHECK_RECIPIENT_ACCESS,
	OP_CHECK_SASL_ACCESS, OP_CHECK_CCERT_ACCESS, OP_CHECK_POLICY_SERVICE,
	OP_CHECK_CLIENT_MX_ACCESS, OP_CHECK_CLIENT_NS_ACCESS, OP_CHECK_CLIENT_A_ACCESS,
	OP_CHECK_REVERSE_CLIENT_MX_ACCESS, OP_CHECK_REVERSE_CLIENT_NS_ACCESS,
	OP_CHECK_REVERSE_CLIENT_A_ACCESS,
	OP_CHECK_HELO_MX_ACCESS, OP_CHECK_HELO_NS_ACCESS, OP_CHECK_HELO_A_ACCESS,
	OP_CHECK_SENDER_MX_ACCESS, OP_CHECK_SENDER_NS_ACCESS, OP_CHECK_SENDER_A_ACCESS,
	OP_CHECK_RECIPIENT_MX_ACCESS, OP_CHECK_RECIPIENT_NS_ACCESS, OP_CHECK_RECIPIENT_A_ACCESS,
	OP_REJECT_SENDER_LOGIN_MISMATCH, OP_REJECT_AUTH_SENDER_LOGIN_MISMATCH,
	OP_REJECT_KNOWN_SENDER_LOGIN_MISMATCH, OP_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH,
};

struct chk_restriction {
	const char *name;
	enum chk_op op;
	enum chk_arg arg;
};

struct chk_policy;	/* smtpd_check_policy.c */

struct chk_item {
	enum chk_op op;
	char *name;		/* as written */
	char *arg;		/* table spec, DNS list, policy endpoint */
	struct table_list *table;	/* ARG_TABLE (owned by the table cache) */
	struct chk_list *cls;	/* OP_CLASS */
	struct chk_policy *policy;	/* OP_CHECK_POLICY_SERVICE */
};

struct chk_list {
	char *param;		/* where it was written: "smtpd_recipient_restrictions" */
	struct chk_item *v;
	size_t n;
};

enum chk_list_id {
	LIST_CLIENT, LIST_HELO, LIST_SENDER, LIST_RELAY, LIST_RECIPIENT,
	LIST_DATA, LIST_END_OF_DATA, LIST_ETRN, LIST__N,
};

struct chk_codes {
	int reject, defer, relay, unknown_address, non_fqdn, invalid_hostname,
	    unknown_hostname, unknown_client, maps_rbl, access_map_reject,
	    access_map_defer, unverified_sender, plaintext, multi_rcpt_bounce,
	    unknown_local, unknown_virtual_alias, unknown_virtual_mailbox,
	    unknown_relay, unknown_sender_local;
};

struct chk_dns;		/* smtpd_check_dns.c */

struct smtpd_checks {
	struct config *cf;
	struct event_base *base;
	struct resolve_ctx *rc;
	struct chk_list *lists[LIST__N];
	struct strv class_names;
	struct chk_list **classes;
	struct strv table_specs;	/* table cache: spec -> list */
	struct table_list **tables;
	struct chk_list **dynamic;	/* lists parsed from table results, { } groups */
	size_t ndynamic;
	struct strv dynamic_keys;	/* "table\nresult" per dynamic list */
	struct resolve_list *mynetworks;
	struct table_list *login_maps;
	struct table_list *relay_clientcerts;
	struct table_list *local_rcpt_maps, *virtual_alias_maps, *virtual_mailbox_maps,
			  *relay_rcpt_maps, *canonical_maps, *rcpt_canonical_maps;
	struct chk_codes code;
	bool delay_reject, helo_required, soft_bounce, sasl_enabled,
	     allow_untrusted_routing, reject_unlisted_recipient, reject_unlisted_sender,
	     relay_before_recipient, access_parent, rcpt_parent_style;
	bool offline;		/* lint: DNS lists and policy servers answer "no decision" */
	char *recipient_delimiter;
	char *null_access_key;
	char *myhostname;
	struct chk_dns *dns;
	struct chk_policy **policies;
	size_t npolicies;
};

/* DEFER_IF_PERMIT / DEFER_IF_REJECT memory: active + the reply to use. */
struct chk_deferral {
	bool active;
	struct buf reply;
};

struct smtpd_check_session {
	struct smtpd_checks *c;
	struct chk_deferral dip_client, dip_helo, dip_sender;	/* early stages, not delayed */
	unsigned long serial;	/* instance counter for policy servers */
	struct buf instance;
	struct strv *trace;	/* smtpd_check_session_trace() */
	bool discard;		/* DISCARD seen: this message is accepted unchecked */
};

struct chk_frame {
	struct chk_list *list;
	size_t i;
	const char *reply_name;		/* whose refusal a bare reject reports */
	const char *reply_class;
};

struct chk_cached {	/* results of asynchronous work, keyed by a string */
	char *key;
	int status;
	char *value;
};

#define CHK_MAX_DEPTH 32

struct smtpd_check_run {
	struct smtpd_check_session *s;
	struct smtpd_checks *c;
	enum smtpd_stage stage;
	struct smtpd_facts f;		/* deep copy */
	struct strv owned;		/* the strings of f */
	smtpd_check_done_fn done;
	void *ctx;
	struct smtpd_verdict v;
	/* evaluation position */
	enum chk_list_id seq[LIST__N];
	size_t nseq, cur;
	struct chk_frame stack[CHK_MAX_DEPTH];
	size_t depth;
	const char *reply_name;		/* of the list being evaluated */
	const char *reply_class;
	struct buf namaddr;		/* "name[addr]" */
	struct chk_deferral dip, dir;	/* defer_if_permit / defer_if_reject */
	bool warn_if_reject;
	bool final_checks_done;
	struct chk_cached *cache;
	size_t ncache;
	void *pending;			/* DNS query or policy request in flight */
	void (*pending_cancel)(void *pending);
	bool in_eval;
	bool resuming;			/* re-running the item that went pending */
	bool finished;		/* a reject/defer was decided */
	bool completed;		/* the done callback ran */
	struct strv *trace;		/* the session's, for `outpost explain` */
};

/* smtpd_check_parse.c */
const struct chk_restriction *chk_restriction_find(const char *name);
struct chk_list *chk_list_parse(struct smtpd_checks *c, const char *param,
				const char *value, struct buf *err);
void chk_list_free(struct chk_list **lp);
struct table_list *chk_table_get(struct smtpd_checks *c, const char *spec,
				 struct buf *err);
struct chk_list *chk_class_find(struct smtpd_checks *c, const char *name);

/* smtpd_check_eval.c */
enum chk_status chk_reject(struct smtpd_check_run *r, int code, const char *dsn,
			   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
enum chk_status chk_reply_text(struct smtpd_check_run *r, const char *reply);
const char *chk_stage_name(const struct smtpd_check_run *r);
void chk_log_event(struct smtpd_check_run *r, const char *kind, const char *text);
void chk_trace(struct smtpd_check_run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
enum chk_status chk_tempfail(struct smtpd_check_run *r, const char *what);
struct chk_cached *chk_cache_find(struct smtpd_check_run *r, const char *key);
void chk_cache_put(struct smtpd_check_run *r, const char *key, int status,
		   const char *value);
bool chk_resume(struct smtpd_check_run *r);
int chk_push_list(struct smtpd_check_run *r, struct chk_list *l);
void chk_set_deferral(struct smtpd_check_run *r, struct chk_deferral *d,
		      int code, const char *dsn, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* smtpd_check_access.c */
enum chk_status chk_access(struct smtpd_check_run *r, const struct chk_item *it);
enum chk_status chk_action(struct smtpd_check_run *r, const char *value,
			   const char *table, const char *reply_name,
			   const char *reply_class, bool suspicious);

/* smtpd_check_relay.c */
enum chk_status chk_relay(struct smtpd_check_run *r, const struct chk_item *it);
enum chk_status chk_unlisted(struct smtpd_check_run *r, bool sender);
enum chk_status chk_simple(struct smtpd_check_run *r, const struct chk_item *it);
int chk_resolve(struct smtpd_check_run *r, const char *addr, struct resolved *out);

/* smtpd_check_login.c */
enum chk_status chk_login(struct smtpd_check_run *r, const struct chk_item *it);

/* smtpd_check_dns.c */
struct chk_dns *chk_dns_new(struct smtpd_checks *c, struct buf *err);
void chk_dns_free(struct chk_dns **dp);
enum chk_status chk_dns(struct smtpd_check_run *r, const struct chk_item *it);
int chk_dns_lookup(struct smtpd_check_run *r, int type, const char *name, const char **value);
#define CHK_DNS_PENDING 2	/* chk_dns_lookup: the query is on its way */

/* smtpd_check_dnsaccess.c */
enum chk_status chk_dns_access(struct smtpd_check_run *r, const struct chk_item *it);

/* smtpd_check_policy.c */
struct chk_policy *chk_policy_new(struct smtpd_checks *c, const char *arg,
				  struct buf *err);
void chk_policy_free(struct chk_policy **pp);
enum chk_status chk_policy(struct smtpd_check_run *r, const struct chk_item *it);

#endif
