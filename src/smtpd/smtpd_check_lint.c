/*
 * smtpd_check_lint - `outpost check` lints that prove the restrictions
 * refuse to relay, by running them: a synthetic client outside mynetworks,
 * not logged in, tries every address form that has opened relays (plain,
 * %-hack, !-path, quoted "a@b"@local, routes through relay_domains,
 * literals) with forged senders and HELO names, in main.cf and in every
 * smtpd service of master.cf with its -o overrides. And a warning for
 * pre-2.10 style lists where something that can answer OK comes before
 * reject_unauth_destination.
 *
 * Public (smtpd_check.h): smtpd_check_lint_relay, smtpd_check_lint_order.
 *
 * DNS lists and policy servers are not consulted (they answer "no
 * decision"), so a finding never depends on the network.
 */
#include <string.h>
#include <strings.h>

#include "lib/mem.h"
#include "lib/str.h"
#include "smtpd/smtpd_check_impl.h"

/* where - "FILE, line N" of the setting that decides, or the file */
static void where(struct config *cf, const char *service, const char *param,
		  struct buf *out)
{
	const struct config_setting *s;
	size_t n;

	buf_reset(out);
	if (service) {
		buf_printf(out, "%s, service %s", config_master_path(cf), service);
		return;
	}
	s = config_settings(cf, &n);
	for (size_t i = n; i-- > 0;)
		if (strcmp(s[i].name, param) == 0) {
			buf_printf(out, "%s, line %d", s[i].file, s[i].line);
			return;
		}
	buf_printf(out, "%s (%s at its default)", config_main_path(cf), param);
}

struct verdict_box {
	bool done;
	enum smtpd_decision decision;
};

/* on_done - keep the decision of an offline run */
static void on_done(void *ctx, struct smtpd_verdict *v)
{
	struct verdict_box *b = ctx;

	b->done = true;
	b->decision = v->decision;
}

/* stage_ok - one stage evaluated offline; true when it accepted */
static bool stage_ok(struct smtpd_check_session *s, enum smtpd_stage st,
		     const struct smtpd_facts *f)
{
	struct verdict_box b = { false, SMTPD_OK };
	struct smtpd_check_run *r = smtpd_check_run(s, st, f, on_done, &b);

	if (r != NULL) {	/* cannot happen offline; never count it as a relay */
		smtpd_check_cancel(&r);
		return false;
	}
	return b.done && b.decision == SMTPD_OK;
}

/* too_broad - mynetworks holds addresses nobody owns with a mail server (0/0 and the like) */
static const char *too_broad(struct smtpd_checks *c)
{
	static const char *const probes[] = {
		"8.8.4.4", "1.1.1.1", "9.9.9.9", "2001:4860:4860::8844", "2606:4700:4700::1111", NULL,
	};
	struct buf err = BUF_INIT;
	const char *hit = NULL;

	for (const char *const *a = probes; *a && hit == NULL; a++)
		if (resolve_list_match_host(c->mynetworks, "unknown", *a, &err) == 1)
			hit = *a;
	buf_free(&err);
	return hit;
}

/* outside_client - an address mynetworks does not cover, or NULL */
static const char *outside_client(struct smtpd_checks *c)
{
	static const char *const candidates[] = {
		"203.0.113.5", "198.51.100.23", "192.0.2.77", "100.64.9.9",
		"2001:db8::5", NULL,
	};
	struct buf err = BUF_INIT;

	for (const char *const *a = candidates; *a; a++) {
		int m = resolve_list_match_host(c->mynetworks, "unknown", *a, &err);

		if (m == 0) {
			buf_free(&err);
			return *a;
		}
	}
	buf_free(&err);
	return NULL;
}

/* first_domain - the first plain domain of a domain-list parameter */
static char *first_domain(struct config *cf, const char *param)
{
	struct strv v = STRV_INIT;
	char *d = NULL;

	config_list(cf, param, &v);
	for (size_t i = 0; i < v.n && d == NULL; i++)
		if (strchr(v.v[i], ':') == NULL && v.v[i][0] != '/' && v.v[i][0] != '!' &&
		    strchr(v.v[i], '.'))
			d = xstrdup(v.v[i][0] == '.' ? v.v[i] + 1 : v.v[i]);
	strv_free(&v);
	return d;
}

/* recipient_forms - every way of naming a remote mailbox that has opened relays */
static void recipient_forms(struct config *cf, struct strv *out)
{
	const char *remote = "victim@relay-test.example";
	char *local = first_domain(cf, "mydestination");
	char *relay = first_domain(cf, "relay_domains");
	const char *via[2] = { local, relay };
	struct buf b = BUF_INIT;

	strv_push(out, remote);
	strv_push(out, "VICTIM@Relay-Test.Example");
	strv_push(out, "victim@relay-test.example.");
	strv_push(out, "victim%relay-test.example");
	strv_push(out, "relay-test.example!victim");
	strv_push(out, "victim@[192.0.2.99]");
	for (int i = 0; i < 2; i++) {
		if (via[i] == NULL)
			continue;
		buf_reset(&b);
		buf_printf(&b, "victim%%relay-test.example@%s", via[i]);
		strv_push(out, buf_cstr(&b));
		buf_reset(&b);
		buf_printf(&b, "relay-test.example!victim@%s", via[i]);
		strv_push(out, buf_cstr(&b));
		buf_reset(&b);
		buf_printf(&b, "victim@relay-test.example@%s", via[i]);
		strv_push(out, buf_cstr(&b));
		buf_reset(&b);
		buf_printf(&b, "victim%%relay-test.example%%%s@%s", via[i], via[i]);
		strv_push(out, buf_cstr(&b));
	}
	buf_free(&b);
	free(local);
	free(relay);
}

/* try_relay - every sender/HELO/recipient combination; 1 with a finding if one relays */
static int try_relay(struct smtpd_checks *c, struct config *cf, const char *loc,
		     const char *client, bool trusted, struct strv *out)
{
	struct strv rcpts = STRV_INIT, senders = STRV_INIT, helos = STRV_INIT;
	struct buf b = BUF_INIT;
	int found = 0;

	recipient_forms(cf, &rcpts);
	strv_push(&senders, "");
	strv_push(&senders, "someone@relay-test.example");
	buf_printf(&b, "postmaster@%s", config_str(cf, "mydomain"));
	strv_push(&senders, buf_cstr(&b));
	buf_reset(&b);
	buf_printf(&b, "admin@%s", config_str(cf, "myorigin"));
	strv_push(&senders, buf_cstr(&b));
	buf_reset(&b);
	strv_push(&helos, "relay-test.example.net");
	strv_push(&helos, config_str(cf, "myhostname"));
	strv_push(&helos, "localhost");
	for (size_t h = 0; h < helos.n && !found; h++) {
		for (size_t si = 0; si < senders.n && !found; si++) {
			for (size_t ri = 0; ri < rcpts.n && !found; ri++) {
				struct smtpd_check_session *s = smtpd_check_session_new(c);
				struct smtpd_facts f;

				memset(&f, 0, sizeof(f));
				f.client_addr = client;
				f.client_name = "unknown";
				f.reverse_name = "unknown";
				f.protocol = "ESMTP";
				f.service = "smtp";
				if (stage_ok(s, SMTPD_STAGE_CONNECT, &f)) {
					f.helo = helos.v[h];
					if (stage_ok(s, SMTPD_STAGE_HELO, &f)) {
						f.sender = senders.v[si];
						if (stage_ok(s, SMTPD_STAGE_MAIL, &f)) {
							f.recipient = rcpts.v[ri];
							found = stage_ok(s, SMTPD_STAGE_RCPT, &f);
						}
					}
				}
				if (found && trusted) {
					buf_printf(&b, "%s: OPEN RELAY: mynetworks trusts addresses on "
						   "the open Internet: a client at %s may send to <%s>; "
						   "list only your own networks in mynetworks",
						   loc, client, rcpts.v[ri]);
					strv_push_take(out, buf_steal(&b));
				} else if (found) {
					buf_printf(&b, "%s: OPEN RELAY: a client at %s (outside "
						   "mynetworks, not logged in) that says HELO %s, "
						   "MAIL FROM:<%s> may send to <%s>; put "
						   "reject_unauth_destination (or the default "
						   "smtpd_relay_restrictions) before anything that "
						   "permits; `outpost explain` shows why",
						   loc, client, helos.v[h], senders.v[si], rcpts.v[ri]);
					strv_push_take(out, buf_steal(&b));
				}
				smtpd_check_session_free(&s);
			}
		}
	}
	strv_free(&rcpts);
	strv_free(&senders);
	strv_free(&helos);
	buf_free(&b);
	return found;
}

/* lint_config - one configuration (main.cf, or a service's view of it) */
static int lint_config(struct config *cf, const char *service, struct strv *out)
{
	struct buf err = BUF_INIT, loc = BUF_INIT;
	struct smtpd_checks *c = smtpd_checks_new(cf, NULL, &err);
	int n;

	where(cf, service, str_is_blank(config_str(cf, "smtpd_relay_restrictions"))
	      ? "smtpd_recipient_restrictions" : "smtpd_relay_restrictions", &loc);
	if (c == NULL) {
		buf_printf(&loc, ": %s", buf_cstr(&err));
		strv_push_take(out, buf_steal(&loc));
		buf_free(&err);
		return 1;
	}
	c->offline = true;
	{
		const char *broad = too_broad(c);
		const char *client = outside_client(c);

		n = 0;
		if (broad)
			n = try_relay(c, cf, buf_cstr(&loc), broad, true, out);
		if (n == 0 && client)
			n = try_relay(c, cf, buf_cstr(&loc), client, false, out);
	}
	smtpd_checks_free(&c);
	buf_free(&err);
	buf_free(&loc);
	return n;
}

/* smtpd_check_lint_relay - prove each smtpd refuses to relay for strangers */
int smtpd_check_lint_relay(struct config *cf, struct strv *out)
{
	size_t n;
	const struct master_service *svc = config_services(cf, &n);
	int findings = lint_config(cf, NULL, out);

	for (size_t i = 0; i < n; i++) {
		struct buf err = BUF_INIT;
		struct config *scf;

		if (strcmp(svc[i].type, "inet") != 0 || strcmp(svc[i].command, "smtpd") != 0)
			continue;
		if (svc[i].opt_names.n == 0)
			continue;	/* same as main.cf: already checked */
		scf = config_for_master_service(cf, &svc[i], &err);
		if (scf == NULL) {
			struct buf b = BUF_INIT;

			buf_printf(&b, "%s, service %s: %s", config_master_path(cf), svc[i].name,
				   buf_cstr(&err));
			strv_push_take(out, buf_steal(&b));
			findings++;
		} else {
			findings += lint_config(scf, svc[i].name, out);
			config_free(&scf);
		}
		buf_free(&err);
	}
	return findings;
}

/* can_say_ok - a restriction that may answer OK/permit for a stranger */
static bool can_say_ok(enum chk_op op)
{
	switch (op) {
	case OP_PERMIT:
	case OP_CLASS:
	case OP_CHECK_POLICY_SERVICE:
	case OP_CHECK_CLIENT_ACCESS:
	case OP_CHECK_REVERSE_CLIENT_HOSTNAME_ACCESS:
	case OP_CHECK_HELO_ACCESS:
	case OP_CHECK_SENDER_ACCESS:
	case OP_CHECK_RECIPIENT_ACCESS:
	case OP_PERMIT_DNSWL_CLIENT:
	case OP_PERMIT_RHSWL_CLIENT:
		return true;
	default:
		return false;
	}
}

/* order_one - items that can permit before reject_unauth_destination */
static int order_one(struct config *cf, const char *service, const char *param,
		     struct strv *out)
{
	struct buf err = BUF_INIT, loc = BUF_INIT;
	struct smtpd_checks *c = smtpd_checks_new(cf, NULL, &err);
	const struct chk_list *l;
	int findings = 0;

	buf_free(&err);
	if (c == NULL)
		return 0;	/* the relay lint reports parse errors */
	l = c->lists[strcmp(param, "smtpd_relay_restrictions") == 0 ? LIST_RELAY : LIST_RECIPIENT];
	for (size_t i = 0; l && i < l->n; i++) {
		const struct chk_item *it = &l->v[i];

		if (it->op == OP_REJECT_UNAUTH_DESTINATION || it->op == OP_DEFER_UNAUTH_DESTINATION)
			break;
		if (!can_say_ok(it->op))
			continue;
		where(cf, service, param, &loc);
		buf_printf(&loc, ": %s: \"%s%s%s\" comes before reject_unauth_destination; if it "
			   "answers OK or permit, mail is relayed for anyone (\"always specify %s "
			   "AFTER reject_unauth_destination\"); move it after, or keep relay "
			   "control in smtpd_relay_restrictions",
			   param, it->name, it->arg ? " " : "", it->arg ? it->arg : "", it->name);
		strv_push_take(out, buf_steal(&loc));
		findings++;
	}
	smtpd_checks_free(&c);
	buf_free(&loc);
	return findings;
}

/* order_config - the list that carries relay control in this configuration */
static int order_config(struct config *cf, const char *service, struct strv *out)
{
	const char *relay = config_str(cf, "smtpd_relay_restrictions");

	if (str_is_blank(relay))	/* pre-2.10 style */
		return order_one(cf, service, "smtpd_recipient_restrictions", out);
	return order_one(cf, service, "smtpd_relay_restrictions", out);
}

/* smtpd_check_lint_order - warn on permits placed before reject_unauth_destination */
int smtpd_check_lint_order(struct config *cf, struct strv *out)
{
	size_t n;
	const struct master_service *svc = config_services(cf, &n);
	int findings = order_config(cf, NULL, out);

	for (size_t i = 0; i < n; i++) {
		struct buf err = BUF_INIT;
		struct config *scf;

		if (strcmp(svc[i].type, "inet") != 0 || strcmp(svc[i].command, "smtpd") != 0 ||
		    svc[i].opt_names.n == 0)
			continue;
		if ((scf = config_for_master_service(cf, &svc[i], &err)) != NULL) {
			if (strcmp(config_str(scf, "smtpd_relay_restrictions"),
				   config_str(cf, "smtpd_relay_restrictions")) != 0 ||
			    strcmp(config_str(scf, "smtpd_recipient_restrictions"),
				   config_str(cf, "smtpd_recipient_restrictions")) != 0)
				findings += order_config(scf, svc[i].name, out);
			config_free(&scf);
		}
		buf_free(&err);
	}
	return findings;
}
